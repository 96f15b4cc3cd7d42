/*
 * util.c - small helpers every module uses: growable buffers, key/value
 * lists, percent-encoding, query parsing, time formatting, random ids and
 * logging. Nothing here knows about HTTP or AWS.
 */
#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "emu.h"

struct emu_config emu_cfg = {
    .host = "127.0.0.1",
    .port = 4566,
    .auth = 1,
    .max_body = 128u * 1024 * 1024,
};

/* ---------------------------------------------------------------- buffers */

static void buf_grow(struct emu_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap) {
        return;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) {
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (p == NULL) {
        abort(); /* out of memory: nothing sane to do in a server thread */
    }
    b->data = p;
    b->cap = cap;
}

void emu_buf_append(struct emu_buf *b, const void *data, size_t len)
{
    buf_grow(b, len);
    if (len) {
        memcpy(b->data + b->len, data, len);
    }
    b->len += len;
    b->data[b->len] = 0;
}

void emu_buf_puts(struct emu_buf *b, const char *s)
{
    emu_buf_append(b, s, strlen(s));
}

void emu_buf_vprintf(struct emu_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        return;
    }
    buf_grow(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void emu_buf_printf(struct emu_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emu_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void emu_buf_xml_escape(struct emu_buf *b, const char *s)
{
    const char *run = s;
    for (; *s; s++) {
        const char *rep = NULL;
        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&apos;"; break;
        case '\r': rep = "&#13;"; break;
        default: break;
        }
        if (rep) {
            emu_buf_append(b, run, (size_t)(s - run));
            emu_buf_puts(b, rep);
            run = s + 1;
        }
    }
    emu_buf_append(b, run, (size_t)(s - run));
}

void emu_buf_xml_elem(struct emu_buf *b, const char *tag, const char *value)
{
    if (value == NULL) {
        return;
    }
    emu_buf_printf(b, "<%s>", tag);
    emu_buf_xml_escape(b, value);
    emu_buf_printf(b, "</%s>", tag);
}

char *emu_buf_take(struct emu_buf *b)
{
    char *p = b->data;
    if (p == NULL) {
        p = strdup("");
        if (p == NULL) {
            abort();
        }
    }
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void emu_buf_release(struct emu_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ---------------------------------------------------------- key/value lists */

static char *xstrndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p == NULL) {
        abort();
    }
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

void emu_kv_addn(struct emu_kvlist *l, const char *key, size_t klen, const char *value, size_t vlen)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        struct emu_kv *p = realloc(l->items, cap * sizeof(*p));
        if (p == NULL) {
            abort();
        }
        l->items = p;
        l->cap = cap;
    }
    l->items[l->n].key = xstrndup(key, klen);
    l->items[l->n].value = xstrndup(value ? value : "", value ? vlen : 0);
    l->n++;
}

void emu_kv_add(struct emu_kvlist *l, const char *key, const char *value)
{
    emu_kv_addn(l, key, strlen(key), value, value ? strlen(value) : 0);
}

const char *emu_kv_get(const struct emu_kvlist *l, const char *key)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->items[i].key, key) == 0) {
            return l->items[i].value;
        }
    }
    return NULL;
}

const char *emu_kv_getci(const struct emu_kvlist *l, const char *key)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcasecmp(l->items[i].key, key) == 0) {
            return l->items[i].value;
        }
    }
    return NULL;
}

int emu_kv_has(const struct emu_kvlist *l, const char *key)
{
    return emu_kv_get(l, key) != NULL;
}

void emu_kv_set(struct emu_kvlist *l, const char *key, const char *value)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcasecmp(l->items[i].key, key) == 0) {
            free(l->items[i].value);
            l->items[i].value = xstrndup(value, strlen(value));
            return;
        }
    }
    emu_kv_add(l, key, value);
}

void emu_kv_release(struct emu_kvlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].key);
        free(l->items[i].value);
    }
    free(l->items);
    l->items = NULL;
    l->n = l->cap = 0;
}

/* ---------------------------------------------------------- percent-coding */

static int hexval(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

char *emu_url_decode(const char *s, size_t len, int plus_is_space)
{
    char *out = malloc(len + 1);
    if (out == NULL) {
        abort();
    }
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            int h, l;
            if (i + 2 >= len || (h = hexval((unsigned char)s[i + 1])) < 0 ||
                (l = hexval((unsigned char)s[i + 2])) < 0) {
                free(out);
                return NULL;
            }
            out[o++] = (char)(h * 16 + l);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out[o++] = ' ';
        } else {
            out[o++] = c;
        }
    }
    out[o] = 0;
    return out;
}

void emu_buf_url_encode(struct emu_buf *b, const char *s, size_t len, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
            char ch = (char)c;
            emu_buf_append(b, &ch, 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            emu_buf_append(b, e, 3);
        }
    }
}

int emu_parse_query(struct emu_kvlist *l, const char *s, size_t len, int plus_is_space)
{
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != '&') {
            j++;
        }
        if (j > i) {
            size_t eq = i;
            while (eq < j && s[eq] != '=') {
                eq++;
            }
            char *k = emu_url_decode(s + i, eq - i, plus_is_space);
            char *v = eq < j ? emu_url_decode(s + eq + 1, j - eq - 1, plus_is_space) : strdup("");
            if (k == NULL || v == NULL) {
                free(k);
                free(v);
                return -1;
            }
            emu_kv_add(l, k, v);
            free(k);
            free(v);
        }
        i = j + 1;
    }
    return 0;
}

/* --------------------------------------------------------- hex and base64 */

void emu_hex(const unsigned char *d, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * n] = 0;
}

char *emu_base64_encode(const void *data, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    if (out == NULL) {
        abort();
    }
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

unsigned char *emu_base64_decode(const char *in, size_t *outlen)
{
    size_t n = strlen(in);
    if (n % 4 != 0) {
        return NULL;
    }
    unsigned char *out = malloc(n / 4 * 3 + 4);
    if (out == NULL) {
        abort();
    }
    int len = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
    if (len < 0) {
        free(out);
        return NULL;
    }
    /* EVP_DecodeBlock counts the padding as zero bytes */
    for (size_t i = n; i > 0 && in[i - 1] == '='; i--) {
        len--;
    }
    out[len] = 0;
    *outlen = (size_t)len;
    return out;
}

/* -------------------------------------------------------------------- time */

double emu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void emu_time_iso(char out[32], double t)
{
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    int ms = (int)((t - (double)s) * 1000.0);
    if (ms < 0) {
        ms = 0;
    }
    if (ms > 999) {
        ms = 999;
    }
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

void emu_time_rfc1123(char out[40], double t)
{
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(out, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* ------------------------------------------------------------------ random */

void emu_random_hex(char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[64];
    size_t done = 0;
    while (done < n) {
        size_t chunk = n - done < sizeof(raw) ? n - done : sizeof(raw);
        if (getrandom(raw, chunk, 0) != (ssize_t)chunk) {
            for (size_t i = 0; i < chunk; i++) {
                raw[i] = (unsigned char)rand();
            }
        }
        for (size_t i = 0; i < chunk; i++) {
            out[done + i] = hex[raw[i] & 15];
        }
        done += chunk;
    }
    out[n] = 0;
}

void emu_random_alnum(char *out, size_t n, int lower)
{
    static const char up[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    static const char lo[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    const char *set = lower ? lo : up;
    unsigned char raw[64];
    size_t done = 0;
    while (done < n) {
        size_t chunk = n - done < sizeof(raw) ? n - done : sizeof(raw);
        if (getrandom(raw, chunk, 0) != (ssize_t)chunk) {
            for (size_t i = 0; i < chunk; i++) {
                raw[i] = (unsigned char)rand();
            }
        }
        for (size_t i = 0; i < chunk; i++) {
            out[done + i] = set[raw[i] % 36];
        }
        done += chunk;
    }
    out[n] = 0;
}

void emu_uuid(char out[37])
{
    unsigned char r[16];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        for (size_t i = 0; i < sizeof(r); i++) {
            r[i] = (unsigned char)rand();
        }
    }
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
             r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
             r[15]);
}

/* ----------------------------------------------------------------- logging */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void emu_log(const char *level, const char *fmt, ...)
{
    char ts[32];
    emu_time_iso(ts, emu_now());
    struct emu_buf line = {0};
    va_list ap;
    va_start(ap, fmt);
    emu_buf_vprintf(&line, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&log_lock);
    if (emu_cfg.log_json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "time", ts);
        cJSON_AddStringToObject(o, "level", level);
        cJSON_AddStringToObject(o, "msg", line.data ? line.data : "");
        char *s = cJSON_PrintUnformatted(o);
        fprintf(stderr, "%s\n", s ? s : "{}");
        free(s);
        cJSON_Delete(o);
    } else {
        fprintf(stderr, "%s %-5s %s\n", ts, level, line.data ? line.data : "");
    }
    pthread_mutex_unlock(&log_lock);
    emu_buf_release(&line);
}
