/*
 * sigv4.c - verifies AWS Signature Version 4 as AWS does:
 *
 *   canonical request = METHOD \n URI \n QUERY \n HEADERS \n SIGNED \n HASH
 *   string to sign    = AWS4-HMAC-SHA256 \n amz-date \n scope \n sha256(CR)
 *   signature         = HMAC(kSigning, string to sign), kSigning derived
 *                       from "AWS4"+secret, date, region, service.
 *
 * The canonical URI is the path as received for S3 (encoded once) and the
 * path encoded a second time for every other service. Clients differ on
 * this at the edges (curl signs the path as given), so a request is accepted
 * when either form matches: both are derived from the same bytes the client
 * sent, so a wrong secret or a tampered header, query or body never passes.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sigv4.h"

void sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    emu_hex(md, 32, out);
}

static void hmac(const unsigned char *key, size_t klen, const void *data, size_t dlen,
                 unsigned char out[32])
{
    unsigned int olen = 32;
    HMAC(EVP_sha256(), key, (int)klen, data, dlen, out, &olen);
}

void sigv4_signing_key(const char *secret, const char *date, const char *region,
                       const char *service, unsigned char out[32])
{
    char k0[256];
    snprintf(k0, sizeof(k0), "AWS4%s", secret);
    unsigned char k1[32], k2[32], k3[32];
    hmac((const unsigned char *)k0, strlen(k0), date, strlen(date), k1);
    hmac(k1, 32, region, strlen(region), k2);
    hmac(k2, 32, service, strlen(service), k3);
    hmac(k3, 32, "aws4_request", 12, out);
}

/* The number written by n decimal digits at s[off]. */
static int digits(const char *s, int off, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        v = v * 10 + (s[off + i] - '0');
    }
    return v;
}

double sigv4_parse_amz_date(const char *s)
{
    struct tm tm = {0};
    if (s == NULL || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z') {
        return -1;
    }
    for (int i = 0; i < 15; i++) {
        if (i != 8 && !isdigit((unsigned char)s[i])) {
            return -1;
        }
    }
    tm.tm_year = digits(s, 0, 4) - 1900;
    tm.tm_mon = digits(s, 4, 2) - 1;
    tm.tm_mday = digits(s, 6, 2);
    tm.tm_hour = digits(s, 9, 2);
    tm.tm_min = digits(s, 11, 2);
    tm.tm_sec = digits(s, 13, 2);
    return (double)timegm(&tm);
}

/* Copies the value of "Key=" from a comma separated Authorization header. */
static int auth_field(const char *hdr, const char *key, char *out, size_t olen)
{
    size_t klen = strlen(key);
    const char *p = hdr;
    while ((p = strstr(p, key)) != NULL) {
        if ((p == hdr || p[-1] == ' ' || p[-1] == ',') && p[klen] == '=') {
            p += klen + 1;
            size_t n = strcspn(p, ", ");
            if (n + 1 > olen) {
                return -1;
            }
            memcpy(out, p, n);
            out[n] = 0;
            return 0;
        }
        p += klen;
    }
    return -1;
}

/* Splits "AKID/20261127/us-east-1/s3/aws4_request". */
static int parse_credential(const char *cred, struct sigv4_auth *a)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", cred);
    char *parts[5];
    int n = 0;
    char *save = NULL;
    /* The access key itself never contains '/', so a right-to-left split
     * would only matter for exotic keys; split left to right. */
    for (char *t = strtok_r(buf, "/", &save); t && n < 5; t = strtok_r(NULL, "/", &save)) {
        parts[n++] = t;
    }
    if (n != 5 || strcmp(parts[4], "aws4_request") != 0) {
        return -1;
    }
    snprintf(a->access_key, sizeof(a->access_key), "%s", parts[0]);
    snprintf(a->date, sizeof(a->date), "%s", parts[1]);
    snprintf(a->region, sizeof(a->region), "%s", parts[2]);
    snprintf(a->service, sizeof(a->service), "%s", parts[3]);
    return 0;
}

int sigv4_parse(const struct emu_request *req, struct sigv4_auth *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof(*a));
    const char *auth = emu_header(req, "authorization");
    if (auth != NULL && strncmp(auth, "AWS4-HMAC-SHA256", 16) == 0) {
        char cred[512];
        if (auth_field(auth, "Credential", cred, sizeof(cred)) != 0 ||
            auth_field(auth, "SignedHeaders", a->signed_headers, sizeof(a->signed_headers)) != 0 ||
            auth_field(auth, "Signature", a->signature, sizeof(a->signature)) != 0) {
            snprintf(err, errlen,
                     "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
                     "parameters. Authorization=%s",
                     auth);
            return -1;
        }
        if (parse_credential(cred, a) != 0) {
            snprintf(err, errlen, "Credential should be scoped to a valid region. ");
            return -1;
        }
        const char *d = emu_header(req, "x-amz-date");
        if (d == NULL) {
            snprintf(err, errlen,
                     "Authorization header requires existence of either a 'X-Amz-Date' or a "
                     "'Date' header.");
            return -1;
        }
        snprintf(a->amz_date, sizeof(a->amz_date), "%s", d);
        return 1;
    }
    if (auth != NULL && auth[0] != 0) {
        snprintf(err, errlen, "Unsupported Authorization Type");
        return -1;
    }
    const char *cred = emu_query(req, "X-Amz-Credential");
    if (cred == NULL) {
        return 0;
    }
    a->presigned = 1;
    const char *alg = emu_query(req, "X-Amz-Algorithm");
    const char *date = emu_query(req, "X-Amz-Date");
    const char *sh = emu_query(req, "X-Amz-SignedHeaders");
    const char *sig = emu_query(req, "X-Amz-Signature");
    const char *exp = emu_query(req, "X-Amz-Expires");
    if (alg == NULL || strcmp(alg, "AWS4-HMAC-SHA256") != 0 || date == NULL || sh == NULL ||
        sig == NULL || parse_credential(cred, a) != 0) {
        snprintf(err, errlen,
                 "Query-string authentication version 4 requires the X-Amz-Algorithm, "
                 "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
                 "X-Amz-Expires parameters.");
        return -1;
    }
    snprintf(a->amz_date, sizeof(a->amz_date), "%s", date);
    snprintf(a->signed_headers, sizeof(a->signed_headers), "%s", sh);
    snprintf(a->signature, sizeof(a->signature), "%s", sig);
    a->expires = 604800;
    if (exp != NULL) {
        char *end = NULL;
        long v = strtol(exp, &end, 10);
        if (end == exp || *end != 0 || v < 0 || v > 604800) {
            snprintf(err, errlen, "X-Amz-Expires must be less than a week (in seconds) that is, "
                                  "the given X-Amz-Expires must be less than 604800 seconds");
            return -1;
        }
        a->expires = v;
    }
    return 1;
}

struct qpair {
    char *k;
    char *v;
};

static int qpair_cmp(const void *a, const void *b)
{
    const struct qpair *x = a, *y = b;
    int c = strcmp(x->k, y->k);
    return c ? c : strcmp(x->v, y->v);
}

/* Canonical query string from the raw query: decode, re-encode (RFC 3986),
 * sort; presigned requests leave out X-Amz-Signature. */
static void canonical_query(const char *qs, int presigned, struct emu_buf *out)
{
    struct emu_kvlist raw = {0};
    if (emu_parse_query(&raw, qs, strlen(qs), 0) != 0) {
        emu_kv_release(&raw);
        return;
    }
    struct qpair *pairs = calloc(raw.n ? raw.n : 1, sizeof(*pairs));
    size_t n = 0;
    for (size_t i = 0; i < raw.n; i++) {
        if (presigned && strcmp(raw.items[i].key, "X-Amz-Signature") == 0) {
            continue;
        }
        struct emu_buf k = {0}, v = {0};
        emu_buf_url_encode(&k, raw.items[i].key, strlen(raw.items[i].key), 0);
        emu_buf_url_encode(&v, raw.items[i].value, strlen(raw.items[i].value), 0);
        pairs[n].k = emu_buf_take(&k);
        pairs[n].v = emu_buf_take(&v);
        n++;
    }
    qsort(pairs, n, sizeof(*pairs), qpair_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i) {
            emu_buf_puts(out, "&");
        }
        emu_buf_printf(out, "%s=%s", pairs[i].k, pairs[i].v);
        free(pairs[i].k);
        free(pairs[i].v);
    }
    free(pairs);
    emu_kv_release(&raw);
}

/* Header value trimmed, inner runs of spaces collapsed; repeated headers
 * joined with ','. */
static void canonical_header_value(const struct emu_request *req, const char *name,
                                   struct emu_buf *out)
{
    int first = 1;
    for (size_t i = 0; i < req->headers.n; i++) {
        if (strcmp(req->headers.items[i].key, name) != 0) {
            continue;
        }
        if (!first) {
            emu_buf_puts(out, ",");
        }
        first = 0;
        const char *v = req->headers.items[i].value;
        while (*v == ' ' || *v == '\t') {
            v++;
        }
        size_t len = strlen(v);
        while (len && (v[len - 1] == ' ' || v[len - 1] == '\t')) {
            len--;
        }
        int space = 0;
        for (size_t j = 0; j < len; j++) {
            if (v[j] == ' ' || v[j] == '\t') {
                space = 1;
                continue;
            }
            if (space) {
                emu_buf_puts(out, " ");
                space = 0;
            }
            emu_buf_append(out, &v[j], 1);
        }
    }
}

static void canonical_request(const struct emu_request *req, const struct sigv4_auth *a,
                              const char *payload_hash, int double_encode, struct emu_buf *cr)
{
    emu_buf_printf(cr, "%s\n", req->method);
    const char *path = req->path[0] ? req->path : "/";
    if (double_encode) {
        emu_buf_url_encode(cr, path, strlen(path), 1);
    } else {
        emu_buf_puts(cr, path);
    }
    emu_buf_puts(cr, "\n");
    canonical_query(req->query_string, a->presigned, cr);
    emu_buf_puts(cr, "\n");
    char names[2048];
    snprintf(names, sizeof(names), "%s", a->signed_headers);
    char *save = NULL;
    for (char *h = strtok_r(names, ";", &save); h; h = strtok_r(NULL, ";", &save)) {
        emu_buf_printf(cr, "%s:", h);
        canonical_header_value(req, h, cr);
        emu_buf_puts(cr, "\n");
    }
    emu_buf_printf(cr, "\n%s\n%s", a->signed_headers, payload_hash);
}

static int check_one(const struct emu_request *req, const struct sigv4_auth *a,
                     const unsigned char key[32], const char *payload_hash, int double_encode)
{
    struct emu_buf cr = {0};
    canonical_request(req, a, payload_hash, double_encode, &cr);
    char crhash[65];
    sigv4_sha256_hex(cr.data, cr.len, crhash);
    emu_buf_release(&cr);
    struct emu_buf sts = {0};
    emu_buf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", a->amz_date, a->date,
                   a->region, a->service, crhash);
    unsigned char sig[32];
    hmac(key, 32, sts.data, sts.len, sig);
    emu_buf_release(&sts);
    char hex[65];
    emu_hex(sig, 32, hex);
    return strcasecmp(hex, a->signature) == 0 ? 0 : -1;
}

int sigv4_verify(const struct emu_request *req, const struct sigv4_auth *a, const char *secret,
                 const char *payload_hash)
{
    unsigned char key[32];
    sigv4_signing_key(secret, a->date, a->region, a->service, key);
    int s3 = strcmp(a->service, "s3") == 0;
    if (check_one(req, a, key, payload_hash, !s3) == 0) {
        return 0;
    }
    return check_one(req, a, key, payload_hash, s3);
}

void sigv4_chunk_init(struct sigv4_chunk_chain *c, const struct sigv4_auth *a, const char *secret)
{
    sigv4_signing_key(secret, a->date, a->region, a->service, c->key);
    snprintf(c->scope, sizeof(c->scope), "%s/%s/%s/aws4_request", a->date, a->region, a->service);
    snprintf(c->amz_date, sizeof(c->amz_date), "%s", a->amz_date);
    snprintf(c->prev, sizeof(c->prev), "%s", a->signature);
}

int sigv4_chunk_verify(struct sigv4_chunk_chain *c, const char *data_sha256_hex,
                       const char *signature)
{
    struct emu_buf sts = {0};
    emu_buf_printf(&sts,
                   "AWS4-HMAC-SHA256-PAYLOAD\n%s\n%s\n%s\n"
                   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n%s",
                   c->amz_date, c->scope, c->prev, data_sha256_hex);
    unsigned char sig[32];
    hmac(c->key, 32, sts.data, sts.len, sig);
    emu_buf_release(&sts);
    char hex[65];
    emu_hex(sig, 32, hex);
    if (strcasecmp(hex, signature) != 0) {
        return -1;
    }
    snprintf(c->prev, sizeof(c->prev), "%s", hex);
    return 0;
}
