/*
 * transport.c - the only file of stagehand that talks HTTP.
 *
 * libcurl with CURLOPT_AWS_SIGV4 signs every request; one CURL handle per
 * thread gives connection reuse. Endpoints come from --endpoint-url,
 * AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, else the real AWS endpoints
 * over HTTPS. Credentials follow the v0.5 chain (later overrides earlier):
 * AWS_, SERVERLESS_ADMIN_AWS_, AWS_<STAGE>_, SERVERLESS_ADMIN_AWS_<STAGE>_,
 * then the profiles AWS_PROFILE and AWS_<STAGE>_PROFILE from
 * ~/.aws/credentials (AWS_SHARED_CREDENTIALS_FILE).
 *
 * Retries: throttling codes, 429, 5xx and connection errors, with capped
 * exponential backoff and full jitter, honouring Retry-After; bounded by
 * STAGEHAND_MAX_ATTEMPTS (default 6), STAGEHAND_RETRY_BUDGET_MS (120000),
 * STAGEHAND_RETRY_BASE_MS (200), STAGEHAND_RETRY_CAP_MS (20000); each attempt
 * bounded by STAGEHAND_CALL_TIMEOUT seconds (default 60), or by
 * STAGEHAND_CALL_TIMEOUT_MS milliseconds when set (rehearse's children).
 *
 * Errors of every protocol (rest-xml, query XML, json, rest-json with
 * x-amzn-ErrorType) are parsed into struct dep_err. Also here: the shared
 * helpers (dep_err_*, dep_buf_*, dep_urlencode, dep_xml_to_json).
 */
#include "dep.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <expat.h>
#include <openssl/evp.h>

/* ----------------------------------------------------------------- errors */

void dep_err_clear(struct dep_err *err)
{
    if (err) {
        memset(err, 0, sizeof(*err));
    }
}

void dep_err_local(struct dep_err *err, const char *code, const char *fmt, ...)
{
    va_list ap;

    if (!err) {
        return;
    }
    dep_err_clear(err);
    err->kind = DEP_ERR_LOCAL;
    snprintf(err->code, sizeof(err->code), "%s", code ? code : "Error");
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
}

const char *dep_err_str(const struct dep_err *err, char *buf, size_t n)
{
    if (!err || err->kind == DEP_ERR_NONE) {
        snprintf(buf, n, "no error");
    } else if (err->kind == DEP_ERR_LOCAL) {
        snprintf(buf, n, "%s: %s", err->code, err->message);
    } else if (err->kind == DEP_ERR_TRANSPORT) {
        snprintf(buf, n, "%s %s%s%s: %s (after %d attempt%s)", err->service, err->operation,
                 err->resource[0] ? " " : "", err->resource,
                 err->message[0] ? err->message : "transport error", err->attempts,
                 err->attempts == 1 ? "" : "s");
    } else {
        snprintf(buf, n, "%s %s%s%s: %ld %s: %s%s%s", err->service, err->operation,
                 err->resource[0] ? " " : "", err->resource, err->http_status,
                 err->code[0] ? err->code : "UnknownError", err->message,
                 err->attempts > 1 ? " (after retries)" : "", "");
    }
    return buf;
}

int dep_err_is(const struct dep_err *err, const char *code)
{
    return err && err->kind == DEP_ERR_AWS && strcmp(err->code, code) == 0;
}

int dep_err_exit(const struct dep_err *err)
{
    if (!err) {
        return DEP_EXIT_FAIL;
    }
    if (err->kind == DEP_ERR_TRANSPORT) {
        return DEP_EXIT_TRANSPORT;
    }
    if (err->kind == DEP_ERR_AWS && (strcmp(err->code, "PreconditionFailed") == 0 ||
                                     strcmp(err->code, "ConditionalRequestConflict") == 0)) {
        return DEP_EXIT_CONFLICT;
    }
    if (err->kind == DEP_ERR_LOCAL &&
        (strcmp(err->code, "InvalidJSON") == 0 || strcmp(err->code, "InvalidYAML") == 0 ||
         strcmp(err->code, "InvalidProject") == 0 || strcmp(err->code, "UndefinedVariable") == 0 ||
         strcmp(err->code, "MissingFile") == 0 || strcmp(err->code, "MissingStage") == 0 ||
         strcmp(err->code, "MissingRegion") == 0)) {
        return DEP_EXIT_PROJECT;
    }
    if (err->kind == DEP_ERR_LOCAL && strcmp(err->code, "NoCredentials") == 0) {
        return DEP_EXIT_TRANSPORT;
    }
    return DEP_EXIT_FAIL;
}

/* ---------------------------------------------------------------- buffers */

void dep_buf_append(struct dep_buf *b, const void *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + len + 1) {
            cap *= 2;
        }
        char *d = realloc(b->data, cap);
        if (!d) {
            abort();
        }
        b->data = d;
        b->cap = cap;
    }
    if (len) {
        memcpy(b->data + b->len, data, len);
    }
    b->len += len;
    b->data[b->len] = 0;
}

void dep_buf_puts(struct dep_buf *b, const char *s)
{
    dep_buf_append(b, s, strlen(s));
}

void dep_buf_printf(struct dep_buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[512];
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    if ((size_t)n < sizeof(small)) {
        dep_buf_append(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        abort();
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    dep_buf_append(b, big, (size_t)n);
    free(big);
}

void dep_buf_xml_escape(struct dep_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            dep_buf_puts(b, "&amp;");
            break;
        case '<':
            dep_buf_puts(b, "&lt;");
            break;
        case '>':
            dep_buf_puts(b, "&gt;");
            break;
        case '"':
            dep_buf_puts(b, "&quot;");
            break;
        case '\'':
            dep_buf_puts(b, "&apos;");
            break;
        default:
            dep_buf_append(b, s, 1);
        }
    }
}

char *dep_buf_take(struct dep_buf *b)
{
    char *d;

    if (!b->data) {
        dep_buf_append(b, "", 0);
    }
    d = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}

void dep_buf_release(struct dep_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *dep_urlencode(const char *s, int keep_slash)
{
    struct dep_buf b = {0};
    static const char hex[] = "0123456789ABCDEF";

    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~' ||
            (keep_slash && *p == '/')) {
            dep_buf_append(&b, p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            dep_buf_append(&b, e, 3);
        }
    }
    return dep_buf_take(&b);
}

/* ------------------------------------------------------------ XML -> JSON */

struct xnode {
    char *name;
    struct dep_buf text;
    struct xnode **kids;
    int n_kids;
    struct xnode *parent;
};

struct xparse {
    struct xnode *root;
    struct xnode *cur;
    int depth;
    int bad;
};

static void xnode_free(struct xnode *n)
{
    if (!n) {
        return;
    }
    for (int i = 0; i < n->n_kids; i++) {
        xnode_free(n->kids[i]);
    }
    free(n->kids);
    free(n->name);
    dep_buf_release(&n->text);
    free(n);
}

static void XMLCALL x_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct xparse *x = ud;
    struct xnode *n;
    const char *colon = strchr(name, ':');

    (void)atts;
    if (x->bad || ++x->depth > 64) {
        x->bad = 1;
        return;
    }
    n = calloc(1, sizeof(*n));
    if (!n) {
        abort();
    }
    n->name = strdup(colon ? colon + 1 : name);
    n->parent = x->cur;
    if (x->cur) {
        struct xnode **k = realloc(x->cur->kids, sizeof(*k) * (size_t)(x->cur->n_kids + 1));
        if (!k) {
            abort();
        }
        x->cur->kids = k;
        k[x->cur->n_kids++] = n;
    } else if (!x->root) {
        x->root = n;
    } else {
        x->bad = 1;
        xnode_free(n);
        return;
    }
    x->cur = n;
}

static void XMLCALL x_end(void *ud, const XML_Char *name)
{
    struct xparse *x = ud;

    (void)name;
    if (x->bad) {
        return;
    }
    x->depth--;
    if (x->cur) {
        x->cur = x->cur->parent;
    }
}

static void XMLCALL x_text(void *ud, const XML_Char *s, int len)
{
    struct xparse *x = ud;

    if (!x->bad && x->cur && len > 0) {
        dep_buf_append(&x->cur->text, s, (size_t)len);
    }
}

static cJSON *xnode_json(const struct xnode *n)
{
    cJSON *o;
    int all_member = n->n_kids > 0;

    if (n->n_kids == 0) {
        return cJSON_CreateString(n->text.data ? n->text.data : "");
    }
    for (int i = 0; i < n->n_kids; i++) {
        if (strcmp(n->kids[i]->name, "member") != 0) {
            all_member = 0;
        }
    }
    if (all_member) {
        o = cJSON_CreateArray();
        for (int i = 0; i < n->n_kids; i++) {
            cJSON_AddItemToArray(o, xnode_json(n->kids[i]));
        }
        return o;
    }
    o = cJSON_CreateObject();
    for (int i = 0; i < n->n_kids; i++) {
        const struct xnode *k = n->kids[i];
        cJSON *prev = cJSON_GetObjectItemCaseSensitive(o, k->name);
        cJSON *v = xnode_json(k);
        if (!prev) {
            /* entries that repeat become arrays; a first one stays single */
            int repeats = 0;
            for (int j = i + 1; j < n->n_kids; j++) {
                if (strcmp(n->kids[j]->name, k->name) == 0) {
                    repeats = 1;
                    break;
                }
            }
            if (repeats) {
                cJSON *arr = cJSON_CreateArray();
                cJSON_AddItemToArray(arr, v);
                cJSON_AddItemToObject(o, k->name, arr);
            } else {
                cJSON_AddItemToObject(o, k->name, v);
            }
        } else if (cJSON_IsArray(prev)) {
            cJSON_AddItemToArray(prev, v);
        } else {
            cJSON_Delete(v);
        }
    }
    return o;
}

cJSON *dep_xml_to_json(const char *xml, size_t len)
{
    struct xparse x = {0};
    XML_Parser p;
    cJSON *out = NULL;

    if (!xml || len == 0) {
        return NULL;
    }
    p = XML_ParserCreate(NULL);
    if (!p) {
        return NULL;
    }
    XML_SetUserData(p, &x);
    XML_SetElementHandler(p, x_start, x_end);
    XML_SetCharacterDataHandler(p, x_text);
    if (XML_Parse(p, xml, (int)len, 1) == XML_STATUS_ERROR || x.bad || !x.root) {
        goto out;
    }
    out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, x.root->name, xnode_json(x.root));
out:
    XML_ParserFree(p);
    xnode_free(x.root);
    return out;
}

/* ------------------------------------------------------ AWS error parsing */

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *hdr_get(const char *headers, const char *name, char *buf, size_t n)
{
    size_t nl = strlen(name);
    const char *p = headers;

    while (p && *p) {
        const char *eol = strchr(p, '\n');
        size_t ll = eol ? (size_t)(eol - p) : strlen(p);
        if (ll > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            const char *e = p + ll;
            while (v < e && (*v == ' ' || *v == '\t')) {
                v++;
            }
            while (e > v && (e[-1] == '\r' || e[-1] == ' ')) {
                e--;
            }
            size_t vl = (size_t)(e - v);
            if (vl >= n) {
                vl = n - 1;
            }
            memcpy(buf, v, vl);
            buf[vl] = 0;
            return buf;
        }
        p = eol ? eol + 1 : NULL;
    }
    return NULL;
}

static const char *status_code_name(long status)
{
    switch (status) {
    case 301:
        return "PermanentRedirect";
    case 304:
        return "NotModified";
    case 400:
        return "BadRequest";
    case 403:
        return "Forbidden";
    case 404:
        return "NotFound";
    case 409:
        return "Conflict";
    case 412:
        return "PreconditionFailed";
    case 429:
        return "TooManyRequestsException";
    case 500:
        return "InternalError";
    case 502:
        return "BadGateway";
    case 503:
        return "ServiceUnavailable";
    case 504:
        return "GatewayTimeout";
    default:
        return "UnknownError";
    }
}

/* Find the first element named `name` anywhere in an xml->json tree. */
static const cJSON *json_find(const cJSON *o, const char *name)
{
    const cJSON *c;

    if (!o || !(cJSON_IsObject(o) || cJSON_IsArray(o))) {
        return NULL;
    }
    cJSON_ArrayForEach(c, o)
    {
        if (c->string && strcmp(c->string, name) == 0) {
            return c;
        }
    }
    cJSON_ArrayForEach(c, o)
    {
        const cJSON *r = json_find(c, name);
        if (r) {
            return r;
        }
    }
    return NULL;
}

void dep_parse_aws_error(enum dep_proto proto, long status, const char *headers, const char *body,
                         size_t body_len, struct dep_err *err)
{
    char hb[256];

    err->kind = DEP_ERR_AWS;
    err->http_status = status;
    err->code[0] = 0;
    err->message[0] = 0;
    if (headers) {
        if (hdr_get(headers, "x-amzn-RequestId", hb, sizeof(hb)) ||
            hdr_get(headers, "x-amz-request-id", hb, sizeof(hb))) {
            snprintf(err->request_id, sizeof(err->request_id), "%s", hb);
        }
    }
    const char *first = body;
    while (first && first < body + body_len &&
           (*first == ' ' || *first == '\n' || *first == '\r' || *first == '\t')) {
        first++;
    }
    int looks_xml = first && first < body + body_len && *first == '<';
    if ((proto == DEP_PROTO_REST_JSON || proto == DEP_PROTO_JSON) && !looks_xml) {
        cJSON *j = body && body_len ? cJSON_ParseWithLength(body, body_len) : NULL;
        const char *code = NULL;
        if (headers && hdr_get(headers, "x-amzn-ErrorType", hb, sizeof(hb))) {
            char *colon = strchr(hb, ':');
            if (colon) {
                *colon = 0;
            }
            code = hb;
        }
        if ((!code || !*code) && j) {
            code = jstr(j, "__type");
            if (!code) {
                code = jstr(j, "code");
            }
            if (!code) {
                code = jstr(j, "Code");
            }
        }
        if (code) {
            const char *hash = strrchr(code, '#');
            snprintf(err->code, sizeof(err->code), "%s", hash ? hash + 1 : code);
            char *colon = strchr(err->code, ':');
            if (colon) {
                *colon = 0;
            }
        }
        if (j) {
            const char *m = jstr(j, "message");
            if (!m) {
                m = jstr(j, "Message");
            }
            if (!m) {
                m = jstr(j, "errorMessage");
            }
            if (m) {
                snprintf(err->message, sizeof(err->message), "%s", m);
            }
        }
        cJSON_Delete(j);
    } else {
        cJSON *x = dep_xml_to_json(body, body_len);
        const cJSON *e = json_find(x, "Error");
        const cJSON *code = json_find(e ? e : x, "Code");
        const cJSON *msg = json_find(e ? e : x, "Message");
        const cJSON *rid = json_find(x, "RequestId");
        if (cJSON_IsString(code)) {
            snprintf(err->code, sizeof(err->code), "%s", code->valuestring);
        }
        if (cJSON_IsString(msg)) {
            snprintf(err->message, sizeof(err->message), "%s", msg->valuestring);
        }
        if (cJSON_IsString(rid) && !err->request_id[0]) {
            snprintf(err->request_id, sizeof(err->request_id), "%s", rid->valuestring);
        }
        cJSON_Delete(x);
    }
    if (!err->code[0]) {
        snprintf(err->code, sizeof(err->code), "%s", status_code_name(status));
    }
    if (!err->message[0] && body && body_len && proto != DEP_PROTO_REST_XML &&
        proto != DEP_PROTO_QUERY) {
        snprintf(err->message, sizeof(err->message), "%.*s", (int)(body_len > 300 ? 300 : body_len),
                 body);
    }
}

/* -------------------------------------------------------------- settings */

static struct {
    char endpoint_url[512];
    struct dep_creds creds;
    int custom;
    int from_cli; /* endpoint_url came from --endpoint-url: it beats per-service variables */
    pthread_mutex_t lock;
} T = {.lock = PTHREAD_MUTEX_INITIALIZER};

long dep_env_long(const char *name, long def, long min, long max)
{
    const char *v = getenv(name);
    char *end = NULL;
    long r;

    if (!v || !*v) {
        return def;
    }
    errno = 0;
    r = strtol(v, &end, 10);
    if (errno || !end || *end || r < min || r > max) {
        return def;
    }
    return r;
}

static void upper_env_name(const char *in, char *out, size_t n)
{
    size_t i = 0;

    for (; in && *in && i + 1 < n; in++) {
        out[i++] = isalnum((unsigned char)*in) ? (char)toupper((unsigned char)*in) : '_';
    }
    out[i] = 0;
}

static int creds_from_env(const char *prefix, struct dep_creds *c)
{
    char n1[160], n2[160], n3[160];
    const char *ak, *sk, *st;

    snprintf(n1, sizeof(n1), "%sACCESS_KEY_ID", prefix);
    snprintf(n2, sizeof(n2), "%sSECRET_ACCESS_KEY", prefix);
    snprintf(n3, sizeof(n3), "%sSESSION_TOKEN", prefix);
    ak = getenv(n1);
    sk = getenv(n2);
    st = getenv(n3);
    if (!ak || !*ak || !sk || !*sk) {
        return 0;
    }
    snprintf(c->access_key, sizeof(c->access_key), "%s", ak);
    snprintf(c->secret_key, sizeof(c->secret_key), "%s", sk);
    snprintf(c->session_token, sizeof(c->session_token), "%s", st ? st : "");
    snprintf(c->source, sizeof(c->source), "env %s", prefix);
    return 1;
}

/* Read [profile] from the shared credentials file. Returns 1 when found. */
static int creds_from_profile(const char *profile, struct dep_creds *c)
{
    char path[1024];
    const char *file = getenv("AWS_SHARED_CREDENTIALS_FILE");
    const char *home = getenv("HOME");
    FILE *f;
    char line[4096];
    int in = 0, found = 0;
    struct dep_creds t = {0};

    if (!profile || !*profile || strcmp(profile, "undefined") == 0) {
        return 0;
    }
    if (file && *file) {
        snprintf(path, sizeof(path), "%s", file);
    } else if (home) {
        snprintf(path, sizeof(path), "%s/.aws/credentials", home);
    } else {
        return 0;
    }
    f = fopen(path, "r");
    if (!f) {
        return 0;
    }
    while (fgets(line, sizeof(line), f)) {
        char *s = line, *e;
        while (isspace((unsigned char)*s)) {
            s++;
        }
        e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1])) {
            *--e = 0;
        }
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (close) {
                *close = 0;
            }
            char *name = s + 1;
            if (strncmp(name, "profile ", 8) == 0) {
                name += 8;
            }
            in = strcmp(name, profile) == 0;
            continue;
        }
        if (!in || *s == '#' || *s == ';') {
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            continue;
        }
        char *k = s, *v = eq + 1;
        *eq = 0;
        for (char *q = eq - 1; q >= k && isspace((unsigned char)*q); q--) {
            *q = 0;
        }
        while (isspace((unsigned char)*v)) {
            v++;
        }
        if (strcmp(k, "aws_access_key_id") == 0) {
            snprintf(t.access_key, sizeof(t.access_key), "%s", v);
        } else if (strcmp(k, "aws_secret_access_key") == 0) {
            snprintf(t.secret_key, sizeof(t.secret_key), "%s", v);
        } else if (strcmp(k, "aws_session_token") == 0) {
            snprintf(t.session_token, sizeof(t.session_token), "%s", v);
        }
    }
    fclose(f);
    if (t.access_key[0] && t.secret_key[0]) {
        snprintf(t.source, sizeof(t.source), "profile %s", profile);
        *c = t;
        found = 1;
    }
    return found;
}

static int resolve_creds(const char *stage, struct dep_creds *out, struct dep_err *err)
{
    struct dep_creds c = {0};
    char st[64], prefix[128], name[160];
    int any = 0;

    upper_env_name(stage, st, sizeof(st));
    any |= creds_from_env("AWS_", &c);
    any |= creds_from_env("SERVERLESS_ADMIN_AWS_", &c);
    if (st[0]) {
        snprintf(prefix, sizeof(prefix), "AWS_%s_", st);
        any |= creds_from_env(prefix, &c);
        snprintf(prefix, sizeof(prefix), "SERVERLESS_ADMIN_AWS_%s_", st);
        any |= creds_from_env(prefix, &c);
    }
    any |= creds_from_profile(getenv("AWS_PROFILE"), &c);
    if (st[0]) {
        snprintf(name, sizeof(name), "AWS_%s_PROFILE", st);
        any |= creds_from_profile(getenv(name), &c);
    }
    if (!any && T.custom) {
        snprintf(c.access_key, sizeof(c.access_key), "test");
        snprintf(c.secret_key, sizeof(c.secret_key), "test");
        snprintf(c.source, sizeof(c.source), "default test/test (custom endpoint)");
        any = 1;
    }
    if (!any) {
        dep_err_local(
            err, "NoCredentials",
            "no AWS credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or AWS_%s_..., "
            "SERVERLESS_ADMIN_AWS_..., AWS_PROFILE)",
            st[0] ? st : "<STAGE>");
        return -1;
    }
    *out = c;
    return 0;
}

int dep_transport_init(const char *endpoint_url, const char *stage, struct dep_err *err)
{
    const char *env = getenv("AWS_ENDPOINT_URL");

    curl_global_init(CURL_GLOBAL_DEFAULT);
    T.endpoint_url[0] = 0;
    T.from_cli = 0;
    if (endpoint_url && *endpoint_url) {
        snprintf(T.endpoint_url, sizeof(T.endpoint_url), "%s", endpoint_url);
        T.from_cli = 1;
    } else if (env && *env) {
        snprintf(T.endpoint_url, sizeof(T.endpoint_url), "%s", env);
    }
    size_t l = strlen(T.endpoint_url);
    while (l > 0 && T.endpoint_url[l - 1] == '/') {
        T.endpoint_url[--l] = 0;
    }
    T.custom = T.endpoint_url[0] != 0;
    if (!T.custom) {
        /* a per-service override alone also counts as custom */
        static const char *const svcs[] = {
            "S3",  "LAMBDA",      "API_GATEWAY", "APIGATEWAY", "CLOUDFORMATION",
            "SNS", "EVENTBRIDGE", "EVENTS",      "IAM",        "STS",
            "IOT", NULL};
        for (int i = 0; svcs[i]; i++) {
            char n[64];
            snprintf(n, sizeof(n), "AWS_ENDPOINT_URL_%s", svcs[i]);
            if (getenv(n) && *getenv(n)) {
                T.custom = 1;
            }
        }
    }
    return resolve_creds(stage, &T.creds, err);
}

int dep_transport_set_stage(const char *stage, struct dep_err *err)
{
    struct dep_creds c;

    if (resolve_creds(stage, &c, err) < 0) {
        return -1;
    }
    pthread_mutex_lock(&T.lock);
    T.creds = c;
    pthread_mutex_unlock(&T.lock);
    return 0;
}

const struct dep_creds *dep_transport_creds(void)
{
    return &T.creds;
}

int dep_transport_is_custom(void)
{
    return T.custom;
}

const char *dep_endpoint(const char *service, const char *region, char *buf, size_t n)
{
    char name[96], up[48];
    const char *v = NULL;

    if (T.endpoint_url[0] && T.from_cli) {
        snprintf(buf, n, "%s", T.endpoint_url);
        return buf;
    }
    upper_env_name(service, up, sizeof(up));
    if (strcmp(service, "apigateway") == 0) {
        v = getenv("AWS_ENDPOINT_URL_API_GATEWAY");
    } else if (strcmp(service, "events") == 0) {
        v = getenv("AWS_ENDPOINT_URL_EVENTBRIDGE");
    }
    if (!v || !*v) {
        snprintf(name, sizeof(name), "AWS_ENDPOINT_URL_%s", up);
        v = getenv(name);
    }
    if (v && *v) {
        snprintf(buf, n, "%s", v);
    } else if (T.endpoint_url[0]) {
        snprintf(buf, n, "%s", T.endpoint_url);
    } else if (strcmp(service, "iam") == 0) {
        snprintf(buf, n, "https://iam.amazonaws.com");
    } else if (strcmp(service, "apigateway") == 0) {
        snprintf(buf, n, "https://apigateway.%s.amazonaws.com", region);
    } else {
        snprintf(buf, n, "https://%s.%s.amazonaws.com", service, region);
    }
    size_t l = strlen(buf);
    while (l > 0 && buf[l - 1] == '/') {
        buf[--l] = 0;
    }
    return buf;
}

/* --------------------------------------------------------------- calls */

static __thread CURL *tl_curl;
static __thread char tl_label[256];

void dep_transport_set_progress_label(const char *label)
{
    snprintf(tl_label, sizeof(tl_label), "%s", label ? label : "");
}

static CURL *thread_curl(void)
{
    if (!tl_curl) {
        tl_curl = curl_easy_init();
    }
    return tl_curl;
}

void dep_transport_thread_cleanup(void)
{
    if (tl_curl) {
        curl_easy_cleanup(tl_curl);
        tl_curl = NULL;
    }
}

void dep_transport_cleanup(void)
{
    dep_transport_thread_cleanup();
    curl_global_cleanup();
}

#define DEP_MAX_RESPONSE (64u * 1024u * 1024u)

struct sink {
    struct dep_buf *b;
    int overflow;
};

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct sink *s = ud;
    size_t n = size * nmemb;

    if (s->b->len + n > DEP_MAX_RESPONSE) {
        s->overflow = 1;
        return 0;
    }
    dep_buf_append(s->b, ptr, n);
    return n;
}

static size_t header_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct dep_buf *h = ud;
    size_t n = size * nmemb;

    /* a new status line starts a new header block (redirects, 100-continue) */
    if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
        h->len = 0;
        if (h->data) {
            h->data[0] = 0;
        }
    }
    if (h->len + n < 1024 * 1024) {
        dep_buf_append(h, ptr, n);
    }
    return n;
}

static int progress_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    const char *label = ud;

    (void)dltotal;
    (void)dlnow;
    if (label && ultotal > 0) {
        dep_out_bytes(label, (uint64_t)ulnow, (uint64_t)ultotal);
    }
    return 0;
}

static int is_throttle_code(const char *code)
{
    static const char *const codes[] = {"Throttling",
                                        "ThrottlingException",
                                        "ThrottledException",
                                        "TooManyRequestsException",
                                        "RequestThrottledException",
                                        "SlowDown",
                                        "RequestLimitExceeded",
                                        "ProvisionedThroughputExceededException",
                                        "RequestThrottled",
                                        "BandwidthLimitExceeded",
                                        "LimitExceededException",
                                        "PriorRequestNotComplete",
                                        NULL};
    for (int i = 0; codes[i]; i++) {
        if (strcmp(code, codes[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned jitter_seed(void)
{
    static __thread unsigned seed;
    if (!seed) {
        seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)&seed ^ (unsigned)getpid();
    }
    return (unsigned)rand_r(&seed);
}

void dep_http_resp_release(struct dep_http_resp *resp)
{
    if (!resp) {
        return;
    }
    free(resp->body);
    free(resp->headers);
    memset(resp, 0, sizeof(*resp));
}

const char *dep_http_resp_header(const struct dep_http_resp *resp, const char *name, char *buf,
                                 size_t n)
{
    return hdr_get(resp ? resp->headers : NULL, name, buf, n);
}

static void fill_err_ids(const struct dep_http_req *req, struct dep_err *err)
{
    snprintf(err->service, sizeof(err->service), "%s", req->service ? req->service : "");
    snprintf(err->operation, sizeof(err->operation), "%s", req->operation ? req->operation : "");
    snprintf(err->resource, sizeof(err->resource), "%s", req->resource ? req->resource : "");
}

int dep_http_call(const struct dep_http_req *req, struct dep_http_resp *resp, struct dep_err *err)
{
    CURL *h = thread_curl();
    char base[512], url[8192], sigv4[160], userpwd[512], hb[64];
    long max_attempts = dep_env_long("STAGEHAND_MAX_ATTEMPTS", 6, 1, 100);
    long budget = dep_env_long("STAGEHAND_RETRY_BUDGET_MS", 120000, 0, 86400000L);
    long base_ms = dep_env_long("STAGEHAND_RETRY_BASE_MS", 200, 0, 600000);
    long cap_ms = dep_env_long("STAGEHAND_RETRY_CAP_MS", 20000, 0, 3600000);
    long timeout_ms = req->timeout_ms > 0 ? req->timeout_ms
                                          : dep_env_long("STAGEHAND_CALL_TIMEOUT", 60, 1, 86400) * 1000;
    if (req->timeout_ms <= 0 && getenv("STAGEHAND_CALL_TIMEOUT_MS")) {
        timeout_ms = dep_env_long("STAGEHAND_CALL_TIMEOUT_MS", timeout_ms, 1, 86400000L);
    }
    long start = now_ms();
    struct dep_err local;
    int attempt, rc = -1;

    if (!err) {
        err = &local;
    }
    dep_err_clear(err);
    memset(resp, 0, sizeof(*resp));
    if (!h) {
        dep_err_local(err, "CurlInit", "curl_easy_init failed");
        return -1;
    }
    if (req->no_retry) {
        max_attempts = 1;
    }
    dep_endpoint(req->service, req->region, base, sizeof(base));
    snprintf(url, sizeof(url), "%s%s%s%s", base, req->path ? req->path : "/",
             req->query && *req->query ? "?" : "", req->query ? req->query : "");
    snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:%s", req->region ? req->region : "us-east-1",
             req->service);
    pthread_mutex_lock(&T.lock);
    snprintf(userpwd, sizeof(userpwd), "%s:%s", T.creds.access_key, T.creds.secret_key);
    char token[sizeof(T.creds.session_token) + 32];
    token[0] = 0;
    if (T.creds.session_token[0]) {
        snprintf(token, sizeof(token), "X-Amz-Security-Token: %s", T.creds.session_token);
    }
    pthread_mutex_unlock(&T.lock);

    char payload_hdr[100];
    {
        unsigned char md[32];
        unsigned int ml = 0;
        static const char hex[] = "0123456789abcdef";
        char *q =
            payload_hdr + snprintf(payload_hdr, sizeof(payload_hdr), "x-amz-content-sha256: ");
        EVP_Digest(req->body ? req->body : "", req->body ? req->body_len : 0, md, &ml, EVP_sha256(),
                   NULL);
        for (unsigned int i = 0; i < ml && i < 32; i++) {
            *q++ = hex[md[i] >> 4];
            *q++ = hex[md[i] & 15];
        }
        *q = 0;
    }

    for (attempt = 1;; attempt++) {
        struct dep_buf body = {0}, headers = {0};
        struct sink sink = {&body, 0};
        struct curl_slist *hl = NULL;
        char line[1024];
        CURLcode cc;
        long status = 0;
        int retry = 0;
        long retry_after_ms = -1;

        curl_easy_reset(h);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4);
        curl_easy_setopt(h, CURLOPT_USERPWD, userpwd);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 10000 ? timeout_ms : 10000L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &headers);
        curl_easy_setopt(h, CURLOPT_USERAGENT, "stagehand/" DEP_VERSION);
        hl = curl_slist_append(hl, "Expect:");
        hl = curl_slist_append(hl, "Accept:");
        if (req->content_type) {
            snprintf(line, sizeof(line), "Content-Type: %s", req->content_type);
            hl = curl_slist_append(hl, line);
        } else if (req->body) {
            hl = curl_slist_append(hl, "Content-Type:");
        }
        if (req->target) {
            snprintf(line, sizeof(line), "X-Amz-Target: %s", req->target);
            hl = curl_slist_append(hl, line);
        }
        if (req->if_match) {
            snprintf(line, sizeof(line), "If-Match: %s", req->if_match);
            hl = curl_slist_append(hl, line);
        }
        if (req->if_none_match) {
            snprintf(line, sizeof(line), "If-None-Match: %s", req->if_none_match);
            hl = curl_slist_append(hl, line);
        }
        if (token[0]) {
            hl = curl_slist_append(hl, token);
        }
        if (strcmp(req->service, "s3") == 0) {
            /* S3 wants the payload hash as a header (and signs it) */
            hl = curl_slist_append(hl, payload_hdr);
        }
        for (int i = 0; req->headers && req->headers[i]; i++) {
            hl = curl_slist_append(hl, req->headers[i]);
        }
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
        if (strcmp(req->method, "GET") == 0) {
            curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        } else if (strcmp(req->method, "HEAD") == 0) {
            curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        } else {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                             (curl_off_t)(req->body ? req->body_len : 0));
            if (strcmp(req->method, "POST") != 0) {
                curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
            }
        }
        const char *label =
            req->progress_label ? req->progress_label : (tl_label[0] ? tl_label : NULL);
        if (label && req->body_len > 0) {
            curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
            curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress_cb);
            curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)label);
        }
        cc = curl_easy_perform(h);
        curl_slist_free_all(hl);
        if (cc == CURLE_OK) {
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        }
        dep_http_resp_release(resp);
        resp->status = status;
        resp->body_len = body.len;
        resp->body = dep_buf_take(&body);
        resp->headers = dep_buf_take(&headers);
        dep_err_clear(err);
        fill_err_ids(req, err);
        err->attempts = attempt;
        if (cc != CURLE_OK) {
            err->kind = DEP_ERR_TRANSPORT;
            err->curl_code = (int)cc;
            snprintf(err->code, sizeof(err->code), "%s",
                     sink.overflow ? "ResponseTooLarge" : "ConnectionError");
            snprintf(err->message, sizeof(err->message), "%s (%s)", curl_easy_strerror(cc), url);
            retry = !sink.overflow && cc != CURLE_URL_MALFORMAT && cc != CURLE_UNSUPPORTED_PROTOCOL;
        } else if (status >= 200 && status < 300) {
            rc = 0;
            dep_err_clear(err);
            err->attempts = attempt;
            break;
        } else {
            dep_parse_aws_error(req->proto, status, resp->headers, resp->body, resp->body_len, err);
            fill_err_ids(req, err);
            err->attempts = attempt;
            retry = status >= 500 || status == 429 || is_throttle_code(err->code);
            if (dep_http_resp_header(resp, "Retry-After", hb, sizeof(hb))) {
                char *end = NULL;
                long s = strtol(hb, &end, 10);
                if (end && end != hb && s >= 0 && s < 3600) {
                    retry_after_ms = s * 1000;
                }
            }
        }
        if (!retry || attempt >= max_attempts) {
            break;
        }
        long backoff = base_ms;
        for (int i = 1; i < attempt && backoff < cap_ms; i++) {
            backoff *= 2;
        }
        if (backoff > cap_ms) {
            backoff = cap_ms;
        }
        long sleep_ms = backoff > 0 ? (long)(jitter_seed() % (unsigned)(backoff + 1)) : 0;
        if (retry_after_ms >= 0 && sleep_ms < retry_after_ms) {
            sleep_ms = retry_after_ms;
        }
        if (now_ms() + sleep_ms - start > budget) {
            break;
        }
        if (sleep_ms > 0) {
            struct timespec ts = {sleep_ms / 1000, (sleep_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    return rc;
}

/* ------------------------------------------------------ protocol helpers */

int dep_rest_json(const char *service, const char *region, const char *operation,
                  const char *resource, const char *method, const char *path, const char *query,
                  const cJSON *body, cJSON **out, struct dep_err *err)
{
    struct dep_http_req req = {0};
    struct dep_http_resp resp = {0};
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    int rc;

    req.service = service;
    req.region = region;
    req.operation = operation;
    req.resource = resource;
    req.proto = DEP_PROTO_REST_JSON;
    req.method = method;
    req.path = path;
    req.query = query;
    if (text) {
        req.content_type = "application/json";
        req.body = text;
        req.body_len = strlen(text);
    }
    if (out) {
        *out = NULL;
    }
    rc = dep_http_call(&req, &resp, err);
    if (rc == 0 && out) {
        *out =
            resp.body_len ? cJSON_ParseWithLength(resp.body, resp.body_len) : cJSON_CreateObject();
        if (!*out) {
            *out = cJSON_CreateObject();
        }
    }
    dep_http_resp_release(&resp);
    cJSON_free(text);
    return rc;
}

int dep_json_target(const char *service, const char *region, const char *target,
                    const char *resource, const cJSON *body, cJSON **out, struct dep_err *err)
{
    struct dep_http_req req = {0};
    struct dep_http_resp resp = {0};
    char *text = body ? cJSON_PrintUnformatted(body) : strdup("{}");
    const char *dot = strrchr(target, '.');
    int rc;

    req.service = service;
    req.region = region;
    req.operation = dot ? dot + 1 : target;
    req.resource = resource;
    req.proto = DEP_PROTO_JSON;
    req.method = "POST";
    req.path = "/";
    req.target = target;
    req.content_type = "application/x-amz-json-1.1";
    req.body = text;
    req.body_len = strlen(text);
    if (out) {
        *out = NULL;
    }
    rc = dep_http_call(&req, &resp, err);
    if (rc == 0 && out) {
        *out = resp.body_len ? cJSON_ParseWithLength(resp.body, resp.body_len) : NULL;
        if (!*out) {
            *out = cJSON_CreateObject();
        }
    }
    dep_http_resp_release(&resp);
    free(text);
    return rc;
}

int dep_query(const char *service, const char *region, const char *action, const char *resource,
              const char *form, cJSON **out, struct dep_err *err)
{
    struct dep_http_req req = {0};
    struct dep_http_resp resp = {0};
    int rc;

    req.service = service;
    req.region = region;
    req.operation = action;
    req.resource = resource;
    req.proto = DEP_PROTO_QUERY;
    req.method = "POST";
    req.path = "/";
    req.content_type = "application/x-www-form-urlencoded; charset=utf-8";
    req.body = form;
    req.body_len = strlen(form);
    if (out) {
        *out = NULL;
    }
    rc = dep_http_call(&req, &resp, err);
    if (rc == 0 && out) {
        cJSON *x = dep_xml_to_json(resp.body, resp.body_len);
        char rname[128];
        snprintf(rname, sizeof(rname), "%sResult", action);
        const cJSON *r = json_find(x, rname);
        if (r && cJSON_IsObject(r)) {
            *out = cJSON_Duplicate(r, 1);
        } else {
            *out = cJSON_CreateObject();
        }
        cJSON_Delete(x);
    }
    dep_http_resp_release(&resp);
    return rc;
}
