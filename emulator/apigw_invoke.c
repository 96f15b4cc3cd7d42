/*
 * apigw_invoke.c - API Gateway's data plane: serves stage URLs
 * ({apiId}.execute-api.<host>/{stage}/..., /_aws/execute-api/{apiId}/{stage}/...,
 * /restapis/{apiId}/{stage}/_user_request_/...) from the stage's deployment
 * snapshot.
 *
 * Flow (apigw_invoke): a short read transaction loads the API, the stage and
 * its snapshot, matches the route (literal > {param} > {greedy+}, method
 * then ANY) and checks the API key; then, without the store, the Lambda
 * authorizer runs and the integration is carried out: AWS_PROXY (proxy event
 * v1.0), AWS (VTL request/response templates, selectionPattern on the Lambda
 * errorMessage), MOCK, HTTP and HTTP_PROXY (libcurl, loopback only).
 * Lambda is called through emu_call_internal with the execute-api source
 * ARN, so Lambda's resource policy decides; a refusal is logged and the
 * client gets 500 as on AWS.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "apigw.h"
#include "emu.h"
#include "emu_regex.h"
#include "vtl.h"

#define APIGW_MAX_HTTP_BODY (10u << 20)

/* Everything one invocation carries around. Owned trees are freed by
 * inv_release. */
struct inv {
    struct emu_request *req;
    char api[64];
    char stage[160];
    char account[16];
    char region[32];
    char request_id[40];
    char apigw_id[24];
    char method[16];
    char *path;     /* decoded path after the stage, "/" at least */
    char *raw_path; /* the same, as received (percent-encoded) */
    cJSON *snap;    /* the deployment snapshot */
    cJSON *stage_doc;
    const cJSON *resource;    /* borrowed from snap */
    const cJSON *meth;        /* borrowed from snap */
    const cJSON *integration; /* borrowed from snap */
    cJSON *path_params;       /* {name: value} */
    cJSON *query;             /* {name: last value} */
    cJSON *mquery;            /* {name: [values]} */
    cJSON *headers;           /* {name: last value} */
    cJSON *mheaders;          /* {name: [values]} */
    cJSON *stage_vars;        /* {name: value} */
    cJSON *auth_ctx;          /* authorizer output (principalId + context), or NULL */
    char *api_key_id;         /* the key that passed apiKeyRequired, or NULL */
    char invocation_type[16]; /* AWS integration: mapped X-Amz-Invocation-Type */
};

static void inv_release(struct inv *v)
{
    free(v->path);
    free(v->raw_path);
    cJSON_Delete(v->snap);
    cJSON_Delete(v->stage_doc);
    cJSON_Delete(v->path_params);
    cJSON_Delete(v->query);
    cJSON_Delete(v->mquery);
    cJSON_Delete(v->headers);
    cJSON_Delete(v->mheaders);
    cJSON_Delete(v->stage_vars);
    cJSON_Delete(v->auth_ctx);
    free(v->api_key_id);
}

static const char *jstr(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ------------------------------------------------------------- parsing */

static int copy_seg(const char *s, size_t n, char *out, size_t olen)
{
    if (n == 0 || n >= olen) {
        return 0;
    }
    memcpy(out, s, n);
    out[n] = 0;
    return 1;
}

int apigw_invoke_parse(const struct emu_request *req, char *api, size_t alen, char *stage,
                       size_t slen, const char **rest)
{
    const char *path = req->path != NULL ? req->path : "";
    const char *host = req->host != NULL ? req->host : "";
    const char *p = NULL;
    const char *dot = strstr(host, ".execute-api.");
    if (dot != NULL && dot > host && strchr(host, '/') == NULL) {
        if (!copy_seg(host, (size_t)(dot - host), api, alen)) {
            return 0;
        }
        p = path;
    } else if (strncmp(path, "/_aws/execute-api/", 18) == 0) {
        const char *a = path + 18;
        const char *s = strchr(a, '/');
        if (s == NULL || !copy_seg(a, (size_t)(s - a), api, alen)) {
            return 0;
        }
        p = s;
    } else if (strncmp(path, "/restapis/", 10) == 0) {
        const char *a = path + 10;
        const char *s = strchr(a, '/');
        if (s == NULL || !copy_seg(a, (size_t)(s - a), api, alen)) {
            return 0;
        }
        const char *st = s + 1;
        const char *e = strchr(st, '/');
        if (e == NULL || strncmp(e, "/_user_request_", 15) != 0 || (e[15] != '/' && e[15] != 0)) {
            return 0;
        }
        if (!copy_seg(st, (size_t)(e - st), stage, slen)) {
            return 0;
        }
        *rest = e[15] == 0 ? "/" : e + 15;
        return 1;
    } else {
        return 0;
    }
    /* p points at "/{stage}/..." */
    if (*p != '/') {
        return 0;
    }
    const char *st = p + 1;
    const char *e = strchr(st, '/');
    size_t n = e != NULL ? (size_t)(e - st) : strlen(st);
    if (!copy_seg(st, n, stage, slen)) {
        /* no stage at all: still ours, answered Forbidden */
        snprintf(stage, slen, "%s", "");
        *rest = "/";
        return 1;
    }
    *rest = e != NULL ? e : "/";
    return 1;
}

/* ----------------------------------------------------------- responses */

static void reply_message(struct inv *v, struct emu_response *resp, int status, const char *body,
                          const char *error_type)
{
    emu_resp_body(resp, status, "application/json", body, strlen(body));
    if (error_type != NULL) {
        emu_resp_header(resp, "x-amzn-ErrorType", "%s", error_type);
    }
    (void)v;
}

static void reply_internal(struct inv *v, struct emu_response *resp, int status)
{
    reply_message(v, resp, status, "{\"message\": \"Internal server error\"}", NULL);
}

/* ------------------------------------------------------- route matching */

/* Splits a raw path into decoded segments (empty segments dropped).
 * Returns a cJSON array of strings (caller deletes), NULL on bad escapes. */
static cJSON *split_decoded(const char *raw)
{
    cJSON *segs = cJSON_CreateArray();
    const char *p = raw;
    while (*p) {
        while (*p == '/') {
            p++;
        }
        if (*p == 0) {
            break;
        }
        const char *e = strchr(p, '/');
        size_t n = e != NULL ? (size_t)(e - p) : strlen(p);
        char *d = emu_url_decode(p, n, 0);
        if (d == NULL) {
            cJSON_Delete(segs);
            return NULL;
        }
        cJSON_AddItemToArray(segs, cJSON_CreateString(d));
        free(d);
        p += n;
    }
    return segs;
}

/* Matches a resource path template against request segments. Returns 1
 * and fills *score (higher is more specific: per segment literal 3 >
 * {param} 2 > {greedy+} 1, compared from the left) and params; 0 when it
 * does not match. */
static int match_resource(const char *tmpl, const cJSON *segs, cJSON *params,
                          unsigned long long *score)
{
    cJSON *tsegs = split_decoded(tmpl);
    if (tsegs == NULL) {
        return 0;
    }
    int nt = cJSON_GetArraySize(tsegs);
    int np = cJSON_GetArraySize(segs);
    unsigned long long sc = 0;
    int ok = 1;
    int i = 0;
    for (; i < nt; i++) {
        const char *t = cJSON_GetArrayItem(tsegs, i)->valuestring;
        size_t tl = strlen(t);
        int is_param = tl >= 3 && t[0] == '{' && t[tl - 1] == '}';
        if (is_param && t[tl - 2] == '+') {
            if (i >= np) {
                ok = 0;
                break;
            }
            struct emu_buf b = {0};
            for (int k = i; k < np; k++) {
                if (k > i) {
                    emu_buf_puts(&b, "/");
                }
                emu_buf_puts(&b, cJSON_GetArrayItem(segs, k)->valuestring);
            }
            char name[128];
            snprintf(name, sizeof(name), "%.*s", (int)(tl - 3), t + 1);
            cJSON_AddStringToObject(params, name, b.data != NULL ? b.data : "");
            emu_buf_release(&b);
            if (i < 30) {
                sc += 1ULL << (2 * (30 - i));
            }
            i = nt;
            np = nt; /* consumed */
            break;
        }
        if (i >= np) {
            ok = 0;
            break;
        }
        const char *s = cJSON_GetArrayItem(segs, i)->valuestring;
        unsigned long long weight;
        if (is_param) {
            char name[128];
            snprintf(name, sizeof(name), "%.*s", (int)(tl - 2), t + 1);
            cJSON_AddStringToObject(params, name, s);
            weight = 2;
        } else if (strcmp(t, s) == 0) {
            weight = 3;
        } else {
            ok = 0;
            break;
        }
        if (i < 30) {
            sc += weight << (2 * (30 - i));
        }
    }
    if (ok && i != np) {
        ok = 0;
    }
    cJSON_Delete(tsegs);
    *score = sc;
    return ok;
}

/* Finds the resource and method in the snapshot. Returns 0, -1 when no
 * route (v->resource/meth unset). */
static int match_route(struct inv *v)
{
    cJSON *segs = split_decoded(v->raw_path);
    if (segs == NULL) {
        return -1;
    }
    unsigned long long best = 0;
    int found = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(v->snap, "resources"))
    {
        const cJSON *methods = cJSON_GetObjectItemCaseSensitive(r, "resourceMethods");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(methods, v->method);
        if (m == NULL) {
            m = cJSON_GetObjectItemCaseSensitive(methods, "ANY");
        }
        const char *tmpl = jstr(r, "path");
        if (m == NULL || tmpl == NULL) {
            continue;
        }
        cJSON *params = cJSON_CreateObject();
        unsigned long long score = 0;
        if (match_resource(tmpl, segs, params, &score) && (!found || score > best)) {
            found = 1;
            best = score;
            v->resource = r;
            v->meth = m;
            cJSON_Delete(v->path_params);
            v->path_params = params;
        } else {
            cJSON_Delete(params);
        }
    }
    cJSON_Delete(segs);
    return found ? 0 : -1;
}

/* ---------------------------------------------------------- API keys */

/* Is the x-api-key header a key that is enabled and in a usage plan of
 * this api/stage? Store locked. */
static int api_key_ok(struct inv *v)
{
    const char *key = emu_header(v->req, "x-api-key");
    if (key == NULL || *key == 0) {
        return 0;
    }
    int ok = 0;
    cJSON *keys = apigw_obj_list(v->account, v->region, "apikey", "");
    cJSON *plans = apigw_obj_list(v->account, v->region, "usageplan", "");
    const cJSON *k;
    cJSON_ArrayForEach(k, keys)
    {
        const char *val = jstr(k, "value");
        const char *id = jstr(k, "id");
        if (val == NULL || id == NULL || strcmp(val, key) != 0 ||
            !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(k, "enabled"))) {
            continue;
        }
        const cJSON *p;
        cJSON_ArrayForEach(p, plans)
        {
            const cJSON *s;
            int has_stage = 0;
            cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(p, "apiStages"))
            {
                const char *a = jstr(s, "apiId");
                const char *sn = jstr(s, "stage");
                if (a != NULL && sn != NULL && strcmp(a, v->api) == 0 &&
                    strcmp(sn, v->stage) == 0) {
                    has_stage = 1;
                }
            }
            const char *pid = jstr(p, "id");
            if (!has_stage || pid == NULL) {
                continue;
            }
            cJSON *link = apigw_obj_get(v->account, v->region, "usageplankey", pid, id);
            if (link != NULL) {
                cJSON_Delete(link);
                ok = 1;
                free(v->api_key_id);
                v->api_key_id = strdup(id);
            }
        }
    }
    cJSON_Delete(keys);
    cJSON_Delete(plans);
    return ok;
}

/* ------------------------------------------------------ request pieces */

static void add_multi(cJSON *single, cJSON *multi, const char *key, const char *value)
{
    cJSON_DeleteItemFromObjectCaseSensitive(single, key);
    cJSON_AddStringToObject(single, key, value);
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(multi, key);
    if (arr == NULL) {
        arr = cJSON_AddArrayToObject(multi, key);
    }
    cJSON_AddItemToArray(arr, cJSON_CreateString(value));
}

/* The core lower-cases header names; events and templates show them as
 * most clients send them: "content-type" -> "Content-Type". */
static void canonical_header(const char *lower, char *out, size_t olen)
{
    size_t i = 0;
    int up = 1;
    for (; lower[i] != 0 && i + 1 < olen; i++) {
        out[i] = (char)(up ? toupper((unsigned char)lower[i]) : lower[i]);
        up = lower[i] == '-';
    }
    out[i] = 0;
}

static void build_params(struct inv *v)
{
    struct emu_request *req = v->req;
    v->query = cJSON_CreateObject();
    v->mquery = cJSON_CreateObject();
    v->headers = cJSON_CreateObject();
    v->mheaders = cJSON_CreateObject();
    for (size_t i = 0; i < req->query.n; i++) {
        add_multi(v->query, v->mquery, req->query.items[i].key,
                  req->query.items[i].value != NULL ? req->query.items[i].value : "");
    }
    if (req->headers_sent.n > 0) {
        /* names exactly as the client sent them, as AWS passes them on */
        for (size_t i = 0; i < req->headers_sent.n; i++) {
            add_multi(v->headers, v->mheaders, req->headers_sent.items[i].key,
                      req->headers_sent.items[i].value != NULL ? req->headers_sent.items[i].value
                                                               : "");
        }
    } else {
        for (size_t i = 0; i < req->headers.n; i++) {
            char name[256];
            canonical_header(req->headers.items[i].key, name, sizeof(name));
            add_multi(v->headers, v->mheaders, name,
                      req->headers.items[i].value != NULL ? req->headers.items[i].value : "");
        }
    }
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(v->stage_doc, "variables");
    v->stage_vars = cJSON_IsObject(sv) ? cJSON_Duplicate(sv, 1) : cJSON_CreateObject();
    if (v->path_params == NULL) {
        v->path_params = cJSON_CreateObject();
    }
}

/* Replaces ${stageVariables.x} in s. Returns a new string (caller frees). */
static char *subst_stage_vars(struct inv *v, const char *s)
{
    struct emu_buf b = {0};
    emu_buf_puts(&b, "");
    const char *p = s;
    const char *f;
    while ((f = strstr(p, "${stageVariables.")) != NULL) {
        const char *end = strchr(f, '}');
        if (end == NULL) {
            break;
        }
        emu_buf_append(&b, p, (size_t)(f - p));
        char name[128];
        size_t n = (size_t)(end - f - 17);
        snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) ? n : sizeof(name) - 1),
                 f + 17);
        const char *val = jstr(v->stage_vars, name);
        if (val != NULL) {
            emu_buf_puts(&b, val);
        } else {
            emu_buf_append(&b, f, (size_t)(end - f + 1));
        }
        p = end + 1;
    }
    emu_buf_puts(&b, p);
    return emu_buf_take(&b);
}

static void time_strings(char *clf, size_t clen, double *epoch_ms)
{
    double now = emu_now();
    time_t t = (time_t)now;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(clf, clen, "%d/%b/%Y:%H:%M:%S +0000", &tm);
    *epoch_ms = (double)(long long)(now * 1000.0);
}

/* requestContext of the proxy event (also $context for templates). */
static cJSON *request_context(struct inv *v, int for_vtl)
{
    cJSON *c = cJSON_CreateObject();
    char clf[64];
    double ms = 0;
    time_strings(clf, sizeof(clf), &ms);
    const char *rpath = jstr(v->resource, "path");
    cJSON_AddStringToObject(c, "resourceId",
                            jstr(v->resource, "id") ? jstr(v->resource, "id") : "");
    cJSON_AddStringToObject(c, "resourcePath", rpath != NULL ? rpath : "/");
    cJSON_AddStringToObject(c, "httpMethod", v->method);
    cJSON_AddStringToObject(c, "extendedRequestId", v->apigw_id);
    cJSON_AddStringToObject(c, "requestTime", clf);
    struct emu_buf full = {0};
    emu_buf_printf(&full, "/%s%s", v->stage, strcmp(v->path, "/") == 0 ? "/" : v->path);
    cJSON_AddStringToObject(c, "path", full.data);
    emu_buf_release(&full);
    cJSON_AddStringToObject(c, "accountId", v->account);
    cJSON_AddStringToObject(c, "protocol", "HTTP/1.1");
    cJSON_AddStringToObject(c, "stage", v->stage);
    cJSON_AddStringToObject(c, "domainPrefix", v->api);
    cJSON_AddNumberToObject(c, "requestTimeEpoch", ms);
    cJSON_AddStringToObject(c, "requestId", v->request_id);
    cJSON *id = cJSON_AddObjectToObject(c, "identity");
    const char *fwd = emu_header(v->req, "x-forwarded-for");
    const char *ua = emu_header(v->req, "user-agent");
    if (for_vtl) {
        cJSON_AddStringToObject(id, "cognitoIdentityPoolId", "");
        cJSON_AddStringToObject(id, "accountId", "");
        cJSON_AddStringToObject(id, "cognitoIdentityId", "");
        cJSON_AddStringToObject(id, "caller", "");
        cJSON_AddStringToObject(id, "apiKey", "");
        cJSON_AddStringToObject(id, "accessKey", "");
        cJSON_AddStringToObject(id, "user", "");
        cJSON_AddStringToObject(id, "userArn", "");
    } else {
        cJSON_AddNullToObject(id, "cognitoIdentityPoolId");
        cJSON_AddNullToObject(id, "accountId");
        cJSON_AddNullToObject(id, "cognitoIdentityId");
        cJSON_AddNullToObject(id, "caller");
        cJSON_AddNullToObject(id, "principalOrgId");
        cJSON_AddNullToObject(id, "accessKey");
        cJSON_AddNullToObject(id, "cognitoAuthenticationType");
        cJSON_AddNullToObject(id, "cognitoAuthenticationProvider");
        cJSON_AddNullToObject(id, "userArn");
        cJSON_AddNullToObject(id, "user");
    }
    if (v->api_key_id != NULL) {
        cJSON_DeleteItemFromObjectCaseSensitive(id, "apiKey");
        cJSON_AddStringToObject(id, "apiKey", emu_header(v->req, "x-api-key"));
        cJSON_AddStringToObject(id, "apiKeyId", v->api_key_id);
    }
    char ip[64];
    if (fwd != NULL) {
        size_t n = strcspn(fwd, ", ");
        snprintf(ip, sizeof(ip), "%.*s", (int)(n < sizeof(ip) ? n : sizeof(ip) - 1), fwd);
    } else {
        snprintf(ip, sizeof(ip), "127.0.0.1");
    }
    cJSON_AddStringToObject(id, "sourceIp", ip);
    if (ua != NULL) {
        cJSON_AddStringToObject(id, "userAgent", ua);
    } else if (for_vtl) {
        cJSON_AddStringToObject(id, "userAgent", "");
    } else {
        cJSON_AddNullToObject(id, "userAgent");
    }
    const char *host = v->req->host != NULL ? v->req->host : "";
    cJSON_AddStringToObject(c, "domainName", host);
    cJSON_AddStringToObject(c, "apiId", v->api);
    if (v->auth_ctx != NULL) {
        cJSON_AddItemToObject(c, "authorizer", cJSON_Duplicate(v->auth_ctx, 1));
    } else if (for_vtl) {
        cJSON_AddObjectToObject(c, "authorizer");
    }
    return c;
}

static int valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        int extra;
        if (c < 0x80) {
            if (c == 0) {
                return 0;
            }
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            extra = 1;
        } else if ((c & 0xf0) == 0xe0) {
            extra = 2;
        } else if ((c & 0xf8) == 0xf0) {
            extra = 3;
        } else {
            return 0;
        }
        if (i + (size_t)extra >= n) {
            return 0;
        }
        for (int k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return 0;
            }
        }
        i += (size_t)extra + 1;
    }
    return 1;
}

/* Is the media type (may carry parameters) one of the deployment's
 * binaryMediaTypes? Wildcards: any type, or any subtype of a type. */
static int binary_type(const struct inv *v, const char *media)
{
    if (media == NULL) {
        return 0;
    }
    size_t n = strcspn(media, ";,");
    while (n > 0 && media[n - 1] == ' ') {
        n--;
    }
    while (n > 0 && *media == ' ') {
        media++;
        n--;
    }
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(v->snap, "binaryMediaTypes"))
    {
        if (!cJSON_IsString(t)) {
            continue;
        }
        const char *b = t->valuestring;
        size_t bl = strlen(b);
        if (strcmp(b, "*/*") == 0 || (bl == n && strncasecmp(b, media, n) == 0)) {
            return 1;
        }
        if (bl >= 2 && strcmp(b + bl - 2, "/*") == 0 && n >= bl - 1 &&
            strncasecmp(b, media, bl - 1) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Does any media type of the Accept header name a binary type? */
static int accept_binary(const struct inv *v)
{
    const char *accept = emu_header(v->req, "accept");
    for (const char *p = accept; p != NULL && *p;) {
        if (binary_type(v, p)) {
            return 1;
        }
        p = strchr(p, ',');
        if (p != NULL) {
            p++;
        }
    }
    return 0;
}

/* The proxy event v1.0 (caller deletes). */
static cJSON *proxy_event(struct inv *v)
{
    struct emu_request *req = v->req;
    cJSON *e = cJSON_CreateObject();
    const char *rpath = jstr(v->resource, "path");
    cJSON_AddStringToObject(e, "resource", rpath != NULL ? rpath : "/");
    cJSON_AddStringToObject(e, "path", v->path);
    cJSON_AddStringToObject(e, "httpMethod", v->method);
#define OR_NULL(key, obj)                                                                          \
    do {                                                                                           \
        if ((obj) != NULL && (obj)->child != NULL) {                                               \
            cJSON_AddItemToObject(e, key, cJSON_Duplicate(obj, 1));                                \
        } else {                                                                                   \
            cJSON_AddNullToObject(e, key);                                                         \
        }                                                                                          \
    } while (0)
    OR_NULL("headers", v->headers);
    OR_NULL("multiValueHeaders", v->mheaders);
    OR_NULL("queryStringParameters", v->query);
    OR_NULL("multiValueQueryStringParameters", v->mquery);
    OR_NULL("pathParameters", v->path_params);
    OR_NULL("stageVariables", v->stage_vars);
#undef OR_NULL
    cJSON_AddItemToObject(e, "requestContext", request_context(v, 0));
    if (req->body_len == 0) {
        cJSON_AddNullToObject(e, "body");
        cJSON_AddBoolToObject(e, "isBase64Encoded", 0);
    } else if (!binary_type(v, emu_header(req, "content-type")) &&
               valid_utf8((const unsigned char *)req->body, req->body_len)) {
        cJSON_AddStringToObject(e, "body", req->body);
        cJSON_AddBoolToObject(e, "isBase64Encoded", 0);
    } else {
        char *enc = emu_base64_encode(req->body, req->body_len);
        cJSON_AddStringToObject(e, "body", enc);
        free(enc);
        cJSON_AddBoolToObject(e, "isBase64Encoded", 1);
    }
    return e;
}

/* -------------------------------------------------------------- Lambda */

struct lambda_out {
    int status;     /* Lambda's HTTP status */
    int func_error; /* X-Amz-Function-Error present */
    char *body;     /* payload (owned) */
    size_t len;
};

/* Invokes the function named in an integration/authorizer URI (stage
 * variables already substituted). Returns 0 when Lambda answered 200 (the
 * function may still have failed: out->func_error), -1 otherwise (the
 * reason is logged). */
static int call_lambda(struct inv *v, const char *uri, const char *source_arn, const char *payload,
                       size_t len, struct lambda_out *out)
{
    memset(out, 0, sizeof(*out));
    const char *f = strstr(uri, "/functions/");
    const char *e = f != NULL ? strstr(f, "/invocations") : NULL;
    if (f == NULL || e == NULL) {
        emu_warn("apigateway %s/%s: integration URI is not a Lambda invocation: %s", v->api,
                 v->stage, uri);
        return -1;
    }
    f += 11;
    char fn[512];
    snprintf(fn, sizeof(fn), "%.*s", (int)((size_t)(e - f) < sizeof(fn) ? (size_t)(e - f) : 0), f);
    if (strstr(fn, "${") != NULL) {
        emu_warn("apigateway %s/%s: unresolved stage variable in Lambda URI %s", v->api, v->stage,
                 uri);
        return -1;
    }
    /* arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER] or NAME[:QUALIFIER] */
    char account[16];
    char region[32];
    char name[256];
    char qual[128] = "";
    snprintf(account, sizeof(account), "%s", v->account);
    snprintf(region, sizeof(region), "%s", v->region);
    if (strncmp(fn, "arn:", 4) == 0) {
        char *parts[8] = {0};
        int np = 0;
        char *save = NULL;
        for (char *t = strtok_r(fn, ":", &save); t != NULL && np < 8;
             t = strtok_r(NULL, ":", &save)) {
            parts[np++] = t;
        }
        if (np < 7 || strcmp(parts[5], "function") != 0) {
            emu_warn("apigateway %s/%s: bad function ARN in %s", v->api, v->stage, uri);
            return -1;
        }
        snprintf(region, sizeof(region), "%s", parts[3]);
        snprintf(account, sizeof(account), "%s", parts[4]);
        snprintf(name, sizeof(name), "%s", parts[6]);
        if (np >= 8) {
            snprintf(qual, sizeof(qual), "%s", parts[7]);
        }
    } else {
        char *colon = strchr(fn, ':');
        if (colon != NULL) {
            *colon = 0;
            snprintf(qual, sizeof(qual), "%s", colon + 1);
        }
        snprintf(name, sizeof(name), "%s", fn);
    }
    struct emu_buf path = {0};
    emu_buf_puts(&path, "/2015-03-31/functions/");
    emu_buf_url_encode(&path, name, strlen(name), 0);
    emu_buf_puts(&path, "/invocations");
    if (qual[0] != 0) {
        emu_buf_puts(&path, "?Qualifier=");
        emu_buf_url_encode(&path, qual, strlen(qual), 0);
    }
    struct emu_kv hdrs[4] = {
        {(char *)"x-greenroom-source-principal", (char *)"apigateway.amazonaws.com"},
        {(char *)"x-greenroom-source-arn", (char *)source_arn},
        {(char *)"content-type", (char *)"application/json"},
        {(char *)"x-amz-invocation-type", v->invocation_type},
    };
    struct emu_call call = {
        .account = account,
        .region = region,
        .service = "lambda",
        .method = "POST",
        .path = path.data,
        .headers = hdrs,
        .nheaders = v->invocation_type[0] != 0 ? 4 : 3,
        .body = payload,
        .body_len = len,
    };
    struct emu_response r;
    emu_response_init(&r);
    int st = emu_call_internal(&call, &r);
    emu_buf_release(&path);
    int rc = -1;
    if (r.failed || (st != 200 && st != 202)) {
        emu_warn("apigateway %s/%s: Lambda %s%s%s refused the invocation (%d %s: %s); source ARN "
                 "%s",
                 v->api, v->stage, name, qual[0] ? ":" : "", qual, st,
                 r.error_code[0] ? r.error_code : "", r.error_message ? r.error_message : "",
                 source_arn);
        goto out;
    }
    out->status = st;
    out->func_error = emu_kv_getci(&r.headers, "X-Amz-Function-Error") != NULL;
    out->body = malloc(r.body.len + 1);
    if (out->body == NULL) {
        abort();
    }
    if (r.body.len > 0) {
        memcpy(out->body, r.body.data, r.body.len);
    }
    out->body[r.body.len] = 0;
    out->len = r.body.len;
    rc = 0;
out:
    emu_response_release(&r);
    return rc;
}

static void source_arn(struct inv *v, struct emu_buf *b)
{
    const char *rpath = jstr(v->resource, "path");
    emu_buf_printf(b, "arn:aws:execute-api:%s:%s:%s/%s/%s%s", v->region, v->account, v->api,
                   v->stage, v->method, rpath != NULL ? rpath : "/");
}

/* ----------------------------------------------------------- authorizers */

/* Does a policy Resource pattern (with * and ?) match the method ARN? */
static int arn_glob(const char *pat, const char *s)
{
    if (*pat == 0) {
        return *s == 0;
    }
    if (*pat == '*') {
        for (const char *p = s;; p++) {
            if (arn_glob(pat + 1, p)) {
                return 1;
            }
            if (*p == 0) {
                return 0;
            }
        }
    }
    if (*s != 0 && (*pat == '?' || *pat == *s)) {
        return arn_glob(pat + 1, s + 1);
    }
    return 0;
}

static int str_or_list_match(const cJSON *v, const char *s, int action)
{
    if (cJSON_IsString(v)) {
        return action ? (strcmp(v->valuestring, "*") == 0 ||
                         strcasecmp(v->valuestring, "execute-api:Invoke") == 0 ||
                         strcmp(v->valuestring, "execute-api:*") == 0)
                      : arn_glob(v->valuestring, s);
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        if (str_or_list_match(it, s, action)) {
            return 1;
        }
    }
    return 0;
}

/* Runs the method's Lambda authorizer. Returns 0 to go on, or -1 after
 * answering (401/403/500). */
static int run_authorizer(struct inv *v, struct emu_response *resp)
{
    const char *aid = jstr(v->meth, "authorizerId");
    const cJSON *auth = NULL;
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(v->snap, "authorizers"))
    {
        const char *id = jstr(a, "id");
        if (aid != NULL && id != NULL && strcmp(id, aid) == 0) {
            auth = a;
        }
    }
    if (auth == NULL) {
        emu_warn("apigateway %s/%s: authorizer %s is not in the deployment", v->api, v->stage,
                 aid ? aid : "(none)");
        reply_internal(v, resp, 500);
        return -1;
    }
    const char *type = jstr(auth, "type");
    const char *src = jstr(auth, "identitySource");
    struct emu_buf marn = {0};
    const char *rpath = jstr(v->resource, "path");
    emu_buf_printf(&marn, "arn:aws:execute-api:%s:%s:%s/%s/%s%s", v->region, v->account, v->api,
                   v->stage, v->method, rpath != NULL ? rpath : "/");
    cJSON *event = NULL;
    int rc = -1;
    struct lambda_out lo = {0};
    cJSON *result = NULL;
    char *payload = NULL;
    char *uri = NULL;
    if (type != NULL && strcmp(type, "TOKEN") == 0) {
        const char *hdr = src != NULL && strncmp(src, "method.request.header.", 22) == 0
                              ? src + 22
                              : "Authorization";
        const char *tok = NULL;
        char lower[128];
        snprintf(lower, sizeof(lower), "%s", hdr);
        for (char *p = lower; *p; p++) {
            *p = (char)tolower((unsigned char)*p);
        }
        tok = emu_header(v->req, lower);
        if (tok == NULL || *tok == 0) {
            reply_message(v, resp, 401, "{\"message\":\"Unauthorized\"}", "UnauthorizedException");
            goto out;
        }
        const char *expr = jstr(auth, "identityValidationExpression");
        if (expr != NULL && *expr != 0) {
            /* an invalid expression lets no token through */
            if (emu_regex_match_whole(expr, tok) != 1) {
                reply_message(v, resp, 401, "{\"message\":\"Unauthorized\"}",
                              "UnauthorizedException");
                goto out;
            }
        }
        event = cJSON_CreateObject();
        cJSON_AddStringToObject(event, "type", "TOKEN");
        cJSON_AddStringToObject(event, "methodArn", marn.data);
        cJSON_AddStringToObject(event, "authorizationToken", tok);
    } else {
        /* REQUEST: every identity source must be present */
        char buf[1024];
        snprintf(buf, sizeof(buf), "%s", src != NULL ? src : "");
        char *save = NULL;
        for (char *t = strtok_r(buf, ", ", &save); t != NULL; t = strtok_r(NULL, ", ", &save)) {
            const char *val = NULL;
            if (strncmp(t, "method.request.header.", 22) == 0) {
                for (char *p = t + 22; *p; p++) {
                    *p = (char)tolower((unsigned char)*p);
                }
                val = emu_header(v->req, t + 22);
            } else if (strncmp(t, "method.request.querystring.", 27) == 0) {
                val = jstr(v->query, t + 27);
            } else if (strncmp(t, "stageVariables.", 15) == 0) {
                val = jstr(v->stage_vars, t + 15);
            } else {
                val = "";
            }
            if (val == NULL || *val == 0) {
                reply_message(v, resp, 401, "{\"message\":\"Unauthorized\"}",
                              "UnauthorizedException");
                goto out;
            }
        }
        event = proxy_event(v);
        cJSON_AddStringToObject(event, "type", "REQUEST");
        cJSON_AddStringToObject(event, "methodArn", marn.data);
    }
    uri = subst_stage_vars(v, jstr(auth, "authorizerUri") ? jstr(auth, "authorizerUri") : "");
    payload = cJSON_PrintUnformatted(event);
    struct emu_buf sarn = {0};
    emu_buf_printf(&sarn, "arn:aws:execute-api:%s:%s:%s/authorizers/%s", v->region, v->account,
                   v->api, aid);
    int lrc = call_lambda(v, uri, sarn.data, payload, strlen(payload), &lo);
    emu_buf_release(&sarn);
    if (lrc != 0) {
        reply_internal(v, resp, 500);
        goto out;
    }
    if (lo.func_error) {
        cJSON *err = cJSON_Parse(lo.body);
        const char *msg = jstr(err, "errorMessage");
        int unauth = msg != NULL && strcmp(msg, "Unauthorized") == 0;
        cJSON_Delete(err);
        if (unauth) {
            reply_message(v, resp, 401, "{\"message\":\"Unauthorized\"}", "UnauthorizedException");
        } else {
            emu_warn("apigateway %s/%s: authorizer %s failed: %s", v->api, v->stage, aid, lo.body);
            reply_internal(v, resp, 500);
        }
        goto out;
    }
    result = cJSON_Parse(lo.body);
    const cJSON *policy = cJSON_GetObjectItemCaseSensitive(result, "policyDocument");
    const cJSON *stmts = cJSON_GetObjectItemCaseSensitive(policy, "Statement");
    if (!cJSON_IsObject(result) || policy == NULL || stmts == NULL) {
        emu_warn("apigateway %s/%s: authorizer %s returned no policy: %s", v->api, v->stage, aid,
                 lo.body);
        reply_internal(v, resp, 500);
        goto out;
    }
    int allow = 0;
    int deny = 0;
    const cJSON *one = cJSON_IsObject(stmts) ? stmts : NULL;
    const cJSON *s = one != NULL ? one : stmts->child;
    for (; s != NULL; s = one != NULL ? NULL : s->next) {
        const char *effect = jstr(s, "Effect");
        const cJSON *action = cJSON_GetObjectItemCaseSensitive(s, "Action");
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(s, "Resource");
        if (effect == NULL || !str_or_list_match(action, "", 1) ||
            !str_or_list_match(res, marn.data, 0)) {
            continue;
        }
        if (strcasecmp(effect, "Deny") == 0) {
            deny = 1;
        } else if (strcasecmp(effect, "Allow") == 0) {
            allow = 1;
        }
    }
    if (deny) {
        reply_message(v, resp, 403,
                      "{\"Message\":\"User is not authorized to access this resource with an "
                      "explicit deny\"}",
                      "AccessDeniedException");
        goto out;
    }
    if (!allow) {
        reply_message(v, resp, 403,
                      "{\"Message\":\"User is not authorized to access this resource\"}",
                      "AccessDeniedException");
        goto out;
    }
    v->auth_ctx = cJSON_CreateObject();
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(result, "context");
    const cJSON *c;
    cJSON_ArrayForEach(c, ctx)
    {
        if (!cJSON_IsObject(c) && !cJSON_IsArray(c)) {
            cJSON_AddItemToObject(v->auth_ctx, c->string, cJSON_Duplicate(c, 1));
        }
    }
    const char *principal = jstr(result, "principalId");
    cJSON_AddStringToObject(v->auth_ctx, "principalId", principal != NULL ? principal : "");
    rc = 0;
out:
    free(uri);
    free(payload);
    free(lo.body);
    cJSON_Delete(result);
    cJSON_Delete(event);
    emu_buf_release(&marn);
    return rc;
}

/* ---------------------------------------------------------- AWS_PROXY */

/* x-amzn-RequestId is added by the core (the request id it journals). */
static void common_headers(struct inv *v, struct emu_response *resp)
{
    if (emu_kv_getci(&resp->headers, "x-amz-apigw-id") == NULL) {
        emu_resp_header(resp, "x-amz-apigw-id", "%s", v->apigw_id);
    }
}

static void header_value(struct emu_buf *b, const cJSON *val)
{
    if (cJSON_IsString(val)) {
        emu_buf_puts(b, val->valuestring);
    } else if (cJSON_IsNumber(val) || cJSON_IsBool(val)) {
        char *s = vtl_to_string(val);
        emu_buf_puts(b, s);
        free(s);
    }
}

static void integration_aws_proxy(struct inv *v, struct emu_response *resp, const char *uri)
{
    cJSON *event = proxy_event(v);
    char *payload = cJSON_PrintUnformatted(event);
    cJSON_Delete(event);
    struct emu_buf sarn = {0};
    source_arn(v, &sarn);
    struct lambda_out lo;
    cJSON *r = NULL;
    int rc = call_lambda(v, uri, sarn.data, payload, strlen(payload), &lo);
    free(payload);
    emu_buf_release(&sarn);
    if (rc != 0) {
        reply_internal(v, resp, 500);
        return;
    }
    if (lo.func_error) {
        emu_warn("apigateway %s/%s: Lambda function failed: %s", v->api, v->stage, lo.body);
        reply_internal(v, resp, 502);
        goto out;
    }
    r = cJSON_Parse(lo.body);
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(r, "statusCode");
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(r, "body");
    const cJSON *hdrs = cJSON_GetObjectItemCaseSensitive(r, "headers");
    const cJSON *mhdrs = cJSON_GetObjectItemCaseSensitive(r, "multiValueHeaders");
    long status = -1;
    if (cJSON_IsNumber(sc)) {
        status = (long)sc->valuedouble;
    } else if (cJSON_IsString(sc)) {
        char *end = NULL;
        status = strtol(sc->valuestring, &end, 10);
        if (end == sc->valuestring || *end != 0) {
            status = -1;
        }
    }
    if (!cJSON_IsObject(r) || status < 100 || status > 599 ||
        (body != NULL && !cJSON_IsString(body) && !cJSON_IsNull(body)) ||
        (hdrs != NULL && !cJSON_IsObject(hdrs) && !cJSON_IsNull(hdrs)) ||
        (mhdrs != NULL && !cJSON_IsObject(mhdrs) && !cJSON_IsNull(mhdrs))) {
        emu_warn("apigateway %s/%s: malformed Lambda proxy response: %s", v->api, v->stage,
                 lo.body);
        reply_internal(v, resp, 502);
        goto out;
    }
    const char *b = cJSON_IsString(body) ? body->valuestring : "";
    /* as on AWS, a base64 body is decoded only when the client accepts one
     * of the API's binary media types; otherwise the text goes out as is */
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "isBase64Encoded")) && accept_binary(v)) {
        size_t dl = 0;
        unsigned char *dec = emu_base64_decode(b, &dl);
        if (dec == NULL) {
            emu_warn("apigateway %s/%s: proxy response body is not base64", v->api, v->stage);
            reply_internal(v, resp, 502);
            goto out;
        }
        emu_resp_body(resp, (int)status, NULL, dec, dl);
        free(dec);
    } else {
        emu_resp_body(resp, (int)status, NULL, b, strlen(b));
    }
    /* multiValueHeaders become one header line per value; headers add a
     * name only when multiValueHeaders did not already give it */
    const cJSON *h;
    cJSON_ArrayForEach(h, mhdrs)
    {
        const cJSON *it;
        cJSON_ArrayForEach(it, h)
        {
            struct emu_buf val = {0};
            header_value(&val, it);
            emu_kv_add(&resp->headers, h->string, val.data != NULL ? val.data : "");
            emu_buf_release(&val);
        }
    }
    cJSON_ArrayForEach(h, hdrs)
    {
        if (cJSON_GetObjectItem(mhdrs, h->string) != NULL) {
            continue;
        }
        struct emu_buf val = {0};
        header_value(&val, h);
        emu_resp_header(resp, h->string, "%s", val.data != NULL ? val.data : "");
        emu_buf_release(&val);
    }
    if (emu_kv_getci(&resp->headers, "Content-Type") == NULL) {
        emu_resp_header(resp, "Content-Type", "application/json");
    }
out:
    cJSON_Delete(r);
    free(lo.body);
}

/* ------------------------------------------------------ mapping templates */

/* The request's media type without parameters, lower-cased. */
static void request_media_type(struct inv *v, char *out, size_t olen)
{
    const char *ct = emu_header(v->req, "content-type");
    if (ct == NULL || *ct == 0) {
        ct = "application/json";
    }
    size_t n = strcspn(ct, ";");
    while (n > 0 && ct[n - 1] == ' ') {
        n--;
    }
    snprintf(out, olen, "%.*s", (int)(n < olen ? n : olen - 1), ct);
    for (char *p = out; *p; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
}

static void vtl_input_of(struct inv *v, struct vtl_input *in, const char *body, cJSON *ctx)
{
    in->body = body;
    in->path = v->path_params;
    in->querystring = v->query;
    in->header = v->headers;
    in->context = ctx;
    in->stage_variables = v->stage_vars;
}

/* Renders the integration request body. Returns 0 with *out (caller frees),
 * or -1 after answering (415, 500). */
static int render_request(struct inv *v, struct emu_response *resp, char **out)
{
    const cJSON *templates = cJSON_GetObjectItemCaseSensitive(v->integration, "requestTemplates");
    const char *pb = jstr(v->integration, "passthroughBehavior");
    char mt[128];
    request_media_type(v, mt, sizeof(mt));
    const cJSON *t = NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, templates)
    {
        if (it->string != NULL && strcasecmp(it->string, mt) == 0) {
            t = it;
        }
    }
    if (t == NULL) {
        int have = templates != NULL && templates->child != NULL;
        if ((pb != NULL && strcmp(pb, "NEVER") == 0) ||
            (pb != NULL && strcmp(pb, "WHEN_NO_TEMPLATES") == 0 && have)) {
            reply_message(v, resp, 415, "{\"message\": \"Unsupported Media Type\"}",
                          "UnsupportedMediaTypeException");
            return -1;
        }
        *out = strdup(v->req->body != NULL ? v->req->body : "");
        return 0;
    }
    if (!cJSON_IsString(t) || t->valuestring[0] == 0) {
        *out = strdup(v->req->body != NULL ? v->req->body : "");
        return 0;
    }
    cJSON *ctx = request_context(v, 1);
    struct vtl_input in;
    vtl_input_of(v, &in, v->req->body != NULL ? v->req->body : "", ctx);
    char err[256] = "";
    *out = vtl_render(t->valuestring, &in, err, sizeof(err));
    cJSON_Delete(ctx);
    if (*out == NULL) {
        emu_warn("apigateway %s/%s: request template error: %s", v->api, v->stage, err);
        reply_internal(v, resp, 500);
        return -1;
    }
    return 0;
}

/* Whole-string match of a selectionPattern (as Java's matches()); an
 * invalid pattern matches nothing. */
static int selection_match(const char *pattern, const char *s)
{
    return emu_regex_match_whole(pattern, s) == 1;
}

/* Picks the integration response: the first whose selectionPattern matches
 * subject (when subject is not NULL), else the default one. Borrowed. */
static const cJSON *select_response(struct inv *v, const char *subject)
{
    const cJSON *responses =
        cJSON_GetObjectItemCaseSensitive(v->integration, "integrationResponses");
    const cJSON *def = NULL;
    const cJSON *r;
    cJSON_ArrayForEach(r, responses)
    {
        const char *sp = jstr(r, "selectionPattern");
        if (sp == NULL || *sp == 0) {
            if (def == NULL) {
                def = r;
            }
            continue;
        }
        if (subject != NULL && selection_match(sp, subject)) {
            return r;
        }
    }
    return def;
}

/* integration.response.* / 'literal' source of a response parameter. */
static char *response_param_value(const char *src, const char *body, const struct emu_kvlist *hdrs)
{
    size_t n = strlen(src);
    if (n >= 2 && src[0] == '\'' && src[n - 1] == '\'') {
        char *s = malloc(n - 1);
        if (s == NULL) {
            abort();
        }
        memcpy(s, src + 1, n - 2);
        s[n - 2] = 0;
        return s;
    }
    if (strncmp(src, "integration.response.header.", 28) == 0) {
        const char *h = hdrs != NULL ? emu_kv_getci(hdrs, src + 28) : NULL;
        return h != NULL ? strdup(h) : NULL;
    }
    if (strcmp(src, "integration.response.body") == 0) {
        return strdup(body != NULL ? body : "");
    }
    if (strncmp(src, "integration.response.body.", 26) == 0) {
        cJSON *doc = cJSON_Parse(body != NULL ? body : "");
        struct emu_buf p = {0};
        emu_buf_printf(&p, "$.%s", src + 26);
        cJSON *found = vtl_json_path(doc, p.data);
        emu_buf_release(&p);
        char *s = NULL;
        if (found != NULL) {
            s = cJSON_IsString(found) ? strdup(found->valuestring) : cJSON_PrintUnformatted(found);
        }
        cJSON_Delete(found);
        cJSON_Delete(doc);
        return s;
    }
    return NULL;
}

/* Applies an integration response: status, parameters, template. body is
 * the integration's response body; hdrs its headers (may be NULL). */
static void apply_integration_response(struct inv *v, struct emu_response *resp, const cJSON *ir,
                                       const char *body, const struct emu_kvlist *hdrs)
{
    if (ir == NULL) {
        emu_warn("apigateway %s/%s: no integration response matched and no default is set", v->api,
                 v->stage);
        reply_internal(v, resp, 500);
        return;
    }
    const char *code = jstr(ir, "statusCode");
    long status = code != NULL ? strtol(code, NULL, 10) : 200;
    if (status < 100 || status > 599) {
        status = 200;
    }
    const cJSON *templates = cJSON_GetObjectItemCaseSensitive(ir, "responseTemplates");
    const cJSON *t = NULL;
    const char *accept = emu_header(v->req, "accept");
    const cJSON *it;
    cJSON_ArrayForEach(it, templates)
    {
        if (accept != NULL && it->string != NULL && strstr(accept, it->string) != NULL) {
            t = it;
            break;
        }
    }
    if (t == NULL) {
        cJSON_ArrayForEach(it, templates)
        {
            if (it->string != NULL && strncasecmp(it->string, "application/json", 16) == 0) {
                t = it;
                break;
            }
        }
    }
    if (t == NULL && templates != NULL) {
        t = templates->child;
    }
    const char *ctype = t != NULL && t->string != NULL ? t->string : "application/json";
    if (t != NULL && cJSON_IsString(t) && t->valuestring[0] != 0) {
        cJSON *ctx = request_context(v, 1);
        struct vtl_input in;
        vtl_input_of(v, &in, body, ctx);
        char err[256] = "";
        char *out = vtl_render(t->valuestring, &in, err, sizeof(err));
        cJSON_Delete(ctx);
        if (out == NULL) {
            emu_warn("apigateway %s/%s: response template error: %s", v->api, v->stage, err);
            reply_internal(v, resp, 500);
            return;
        }
        emu_resp_body(resp, (int)status, ctype, out, strlen(out));
        free(out);
    } else {
        emu_resp_body(resp, (int)status, ctype, body, strlen(body));
    }
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(ir, "responseParameters"))
    {
        if (p->string == NULL || strncmp(p->string, "method.response.header.", 23) != 0 ||
            !cJSON_IsString(p)) {
            continue;
        }
        char *val = response_param_value(p->valuestring, body, hdrs);
        if (val != NULL) {
            emu_resp_header(resp, p->string + 23, "%s", val);
            free(val);
        }
    }
}

/* ------------------------------------------------------------ AWS, MOCK */

static const char *request_param_source(struct inv *v, const char *src);

static void integration_aws(struct inv *v, struct emu_response *resp, const char *uri)
{
    char *payload = NULL;
    /* 'Event' mapped onto X-Amz-Invocation-Type: an asynchronous invoke */
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(v->integration, "requestParameters"))
    {
        if (it->string != NULL && cJSON_IsString(it) &&
            strcasecmp(it->string, "integration.request.header.X-Amz-Invocation-Type") == 0) {
            const char *t = request_param_source(v, it->valuestring);
            snprintf(v->invocation_type, sizeof(v->invocation_type), "%s", t != NULL ? t : "");
        }
    }
    if (render_request(v, resp, &payload) != 0) {
        return;
    }
    if (payload[0] == 0) {
        free(payload);
        payload = strdup("{}");
    }
    struct emu_buf sarn = {0};
    source_arn(v, &sarn);
    struct lambda_out lo;
    int rc = call_lambda(v, uri, sarn.data, payload, strlen(payload), &lo);
    free(payload);
    emu_buf_release(&sarn);
    if (rc != 0) {
        reply_internal(v, resp, 500);
        return;
    }
    const char *subject = NULL;
    cJSON *err = NULL;
    if (lo.func_error) {
        err = cJSON_Parse(lo.body);
        subject = jstr(err, "errorMessage");
        if (subject == NULL) {
            subject = "";
        }
    }
    apply_integration_response(v, resp, select_response(v, subject), lo.body, NULL);
    cJSON_Delete(err);
    free(lo.body);
}

static void integration_mock(struct inv *v, struct emu_response *resp)
{
    char *rendered = NULL;
    if (render_request(v, resp, &rendered) != 0) {
        return;
    }
    long status = 200;
    cJSON *doc = cJSON_Parse(rendered);
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(doc, "statusCode");
    if (cJSON_IsNumber(sc)) {
        status = (long)sc->valuedouble;
    } else if (cJSON_IsString(sc)) {
        status = strtol(sc->valuestring, NULL, 10);
    }
    cJSON_Delete(doc);
    free(rendered);
    char code[16];
    snprintf(code, sizeof(code), "%ld", status);
    apply_integration_response(v, resp, select_response(v, code), "", NULL);
}

/* ----------------------------------------------------------------- HTTP */

struct http_sink {
    struct emu_buf body;
    struct emu_kvlist headers;
    int too_big;
};

static size_t http_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct http_sink *s = ud;
    size_t n = size * nmemb;
    if (s->body.len + n > APIGW_MAX_HTTP_BODY) {
        s->too_big = 1;
        return 0;
    }
    emu_buf_append(&s->body, ptr, n);
    return n;
}

static size_t http_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct http_sink *s = ud;
    size_t n = size * nmemb;
    const char *colon = memchr(ptr, ':', n);
    if (colon == NULL) {
        if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
            emu_kv_release(&s->headers); /* a new response (after 100) */
        }
        return n;
    }
    size_t kl = (size_t)(colon - ptr);
    const char *val = colon + 1;
    size_t vl = n - kl - 1;
    while (vl > 0 && (*val == ' ' || *val == '\t')) {
        val++;
        vl--;
    }
    while (vl > 0 && (val[vl - 1] == '\r' || val[vl - 1] == '\n' || val[vl - 1] == ' ')) {
        vl--;
    }
    emu_kv_addn(&s->headers, ptr, kl, val, vl);
    return n;
}

static int loopback_url(const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL;
    int ok = 0;
    if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        ok = strcmp(host, "127.0.0.1") == 0 || strcasecmp(host, "localhost") == 0 ||
             strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0;
    }
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

/* The value of a request parameter source: method.request.{path,
 * querystring,header}.X, 'literal', stageVariables.X, context.X. */
static const char *request_param_source(struct inv *v, const char *src)
{
    size_t n = strlen(src);
    static __thread char lit[512];
    if (n >= 2 && src[0] == '\'' && src[n - 1] == '\'') {
        snprintf(lit, sizeof(lit), "%.*s", (int)(n - 2 < sizeof(lit) ? n - 2 : sizeof(lit) - 1),
                 src + 1);
        return lit;
    }
    if (strncmp(src, "method.request.path.", 20) == 0) {
        return jstr(v->path_params, src + 20);
    }
    if (strncmp(src, "method.request.querystring.", 27) == 0) {
        return jstr(v->query, src + 27);
    }
    if (strncmp(src, "method.request.header.", 22) == 0) {
        char lower[256];
        snprintf(lower, sizeof(lower), "%s", src + 22);
        for (char *p = lower; *p; p++) {
            *p = (char)tolower((unsigned char)*p);
        }
        return emu_header(v->req, lower);
    }
    if (strncmp(src, "stageVariables.", 15) == 0) {
        return jstr(v->stage_vars, src + 15);
    }
    if (strcmp(src, "context.requestId") == 0) {
        return v->request_id;
    }
    return NULL;
}

/* Builds the target URL: {name} in uri filled from integration.request.path
 * mappings (or the method's path parameters), querystring mappings (or, for
 * HTTP_PROXY, the client's query string) appended. Caller frees. */
static char *http_target(struct inv *v, const char *uri, int proxy)
{
    const cJSON *rp = cJSON_GetObjectItemCaseSensitive(v->integration, "requestParameters");
    struct emu_buf b = {0};
    emu_buf_puts(&b, "");
    const char *p = uri;
    while (*p) {
        if (*p == '{') {
            const char *e = strchr(p, '}');
            if (e != NULL) {
                char name[128];
                size_t n = (size_t)(e - p - 1);
                snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) ? n : sizeof(name) - 1),
                         p + 1);
                size_t nl = strlen(name);
                if (nl > 0 && name[nl - 1] == '+') {
                    name[nl - 1] = 0;
                }
                char key[200];
                snprintf(key, sizeof(key), "integration.request.path.%s", name);
                const char *src = jstr(rp, key);
                const char *val =
                    src != NULL ? request_param_source(v, src) : jstr(v->path_params, name);
                if (val != NULL) {
                    emu_buf_url_encode(&b, val, strlen(val), 1);
                    p = e + 1;
                    continue;
                }
            }
        }
        emu_buf_append(&b, p, 1);
        p++;
    }
    int has_q = strchr(b.data, '?') != NULL;
    if (proxy && v->req->query_string != NULL && v->req->query_string[0] != 0) {
        emu_buf_puts(&b, has_q ? "&" : "?");
        emu_buf_puts(&b, v->req->query_string);
        has_q = 1;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, rp)
    {
        if (it->string == NULL ||
            strncmp(it->string, "integration.request.querystring.", 32) != 0 ||
            !cJSON_IsString(it)) {
            continue;
        }
        const char *val = request_param_source(v, it->valuestring);
        if (val == NULL) {
            continue;
        }
        emu_buf_puts(&b, has_q ? "&" : "?");
        has_q = 1;
        const char *k = it->string + 32;
        emu_buf_url_encode(&b, k, strlen(k), 0);
        emu_buf_puts(&b, "=");
        emu_buf_url_encode(&b, val, strlen(val), 0);
    }
    return emu_buf_take(&b);
}

static void integration_http(struct inv *v, struct emu_response *resp, const char *uri, int proxy)
{
    char *url = http_target(v, uri, proxy);
    char *payload = NULL;
    struct curl_slist *hl = NULL;
    struct http_sink sink;
    memset(&sink, 0, sizeof(sink));
    CURL *c = NULL;
    if (!loopback_url(url)) {
        emu_warn("apigateway %s/%s: HTTP integration to %s refused: only loopback is reachable",
                 v->api, v->stage, url);
        reply_internal(v, resp, 500);
        goto out;
    }
    const char *hm = jstr(v->integration, "httpMethod");
    if (hm == NULL || strcmp(hm, "ANY") == 0) {
        hm = v->method;
    }
    size_t plen = 0;
    if (proxy) {
        for (size_t i = 0; i < v->req->headers.n; i++) {
            const char *k = v->req->headers.items[i].key;
            if (strcasecmp(k, "host") == 0 || strcasecmp(k, "content-length") == 0 ||
                strcasecmp(k, "connection") == 0 || strcasecmp(k, "transfer-encoding") == 0 ||
                strcasecmp(k, "expect") == 0) {
                continue;
            }
            struct emu_buf h = {0};
            emu_buf_printf(&h, "%s: %s", k, v->req->headers.items[i].value);
            hl = curl_slist_append(hl, h.data);
            emu_buf_release(&h);
        }
        payload = malloc(v->req->body_len + 1);
        if (payload == NULL) {
            abort();
        }
        if (v->req->body_len > 0) {
            memcpy(payload, v->req->body, v->req->body_len);
        }
        payload[v->req->body_len] = 0;
        plen = v->req->body_len;
    } else {
        if (render_request(v, resp, &payload) != 0) {
            goto out;
        }
        plen = strlen(payload);
        const char *ct = emu_header(v->req, "content-type");
        struct emu_buf h = {0};
        emu_buf_printf(&h, "Content-Type: %s", ct != NULL ? ct : "application/json");
        hl = curl_slist_append(hl, h.data);
        emu_buf_release(&h);
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(v->integration, "requestParameters"))
    {
        if (it->string == NULL || strncmp(it->string, "integration.request.header.", 27) != 0 ||
            !cJSON_IsString(it)) {
            continue;
        }
        const char *val = request_param_source(v, it->valuestring);
        if (val != NULL) {
            struct emu_buf h = {0};
            emu_buf_printf(&h, "%s: %s", it->string + 27, val);
            hl = curl_slist_append(hl, h.data);
            emu_buf_release(&h);
        }
    }
    hl = curl_slist_append(hl, "Expect:");
    c = curl_easy_init();
    if (c == NULL) {
        reply_internal(v, resp, 500);
        goto out;
    }
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(v->integration, "timeoutInMillis");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, hm);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, cJSON_IsNumber(to) ? (long)to->valuedouble : 29000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);
    if (strcmp(hm, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (plen > 0 || strcmp(hm, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)plen);
    }
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        emu_warn("apigateway %s/%s: HTTP integration %s failed: %s", v->api, v->stage, url,
                 curl_easy_strerror(cc));
        if (cc == CURLE_OPERATION_TIMEDOUT) {
            reply_message(v, resp, 504, "{\"message\": \"Endpoint request timed out\"}", NULL);
        } else {
            reply_internal(v, resp, 500);
        }
        goto out;
    }
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    emu_buf_puts(&sink.body, "");
    if (proxy) {
        emu_resp_body(resp, (int)code, NULL, sink.body.data, sink.body.len);
        for (size_t i = 0; i < sink.headers.n; i++) {
            const char *k = sink.headers.items[i].key;
            if (strcasecmp(k, "transfer-encoding") == 0 || strcasecmp(k, "connection") == 0 ||
                strcasecmp(k, "content-length") == 0 || strcasecmp(k, "date") == 0 ||
                strcasecmp(k, "keep-alive") == 0) {
                continue;
            }
            emu_resp_header(resp, k, "%s", sink.headers.items[i].value);
        }
    } else {
        char sc[16];
        snprintf(sc, sizeof(sc), "%ld", code);
        apply_integration_response(v, resp, select_response(v, sc), sink.body.data, &sink.headers);
    }
out:
    if (c != NULL) {
        curl_easy_cleanup(c);
    }
    curl_slist_free_all(hl);
    free(payload);
    free(url);
    emu_buf_release(&sink.body);
    emu_kv_release(&sink.headers);
}

/* ------------------------------------------------------------- handler */

/* Carries out the method's integration into resp. */
static void run_integration(struct inv *v, struct emu_response *resp)
{
    const char *type = jstr(v->integration, "type");
    char *uri = subst_stage_vars(v, jstr(v->integration, "uri") ? jstr(v->integration, "uri") : "");
    if (type == NULL || strcmp(type, "MOCK") == 0) {
        integration_mock(v, resp);
    } else if (strcmp(type, "AWS_PROXY") == 0) {
        integration_aws_proxy(v, resp, uri);
    } else if (strcmp(type, "AWS") == 0) {
        integration_aws(v, resp, uri);
    } else if (strcmp(type, "HTTP_PROXY") == 0) {
        integration_http(v, resp, uri, 1);
    } else {
        integration_http(v, resp, uri, 0);
    }
    free(uri);
}

/* Loads the API, stage and snapshot, matches the route and checks the API
 * key, in one short read transaction. Returns 0, or -1 after answering. */
static int load_and_match(struct inv *v, struct emu_response *resp)
{
    int rc = -1;
    if (emu_store_begin(0) != 0) {
        reply_internal(v, resp, 500);
        return -1;
    }
    cJSON *api = NULL;
    if (v->stage[0] == 0 || apigw_api_locate(v->api, v->account, sizeof(v->account), v->region,
                                             sizeof(v->region)) != 0) {
        reply_message(v, resp, 403, "{\"message\":\"Forbidden\"}", "ForbiddenException");
        goto out;
    }
    api = apigw_obj_get(v->account, v->region, "restapi", "", v->api);
    v->stage_doc = apigw_obj_get(v->account, v->region, "stage", v->api, v->stage);
    const char *dep = jstr(v->stage_doc, "deploymentId");
    v->snap = dep != NULL ? apigw_obj_get(v->account, v->region, "snapshot", v->api, dep) : NULL;
    if (api == NULL || v->snap == NULL ||
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(api, "disableExecuteApiEndpoint"))) {
        reply_message(v, resp, 403, "{\"message\":\"Forbidden\"}", "ForbiddenException");
        goto out;
    }
    if (match_route(v) != 0) {
        reply_message(v, resp, 403, "{\"message\":\"Missing Authentication Token\"}",
                      "MissingAuthenticationTokenException");
        goto out;
    }
    v->integration = cJSON_GetObjectItemCaseSensitive(v->meth, "methodIntegration");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v->meth, "apiKeyRequired")) &&
        !api_key_ok(v)) {
        reply_message(v, resp, 403, "{\"message\":\"Forbidden\"}", "ForbiddenException");
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(api);
    emu_store_end(1);
    return rc;
}

void apigw_invoke(struct emu_request *req, struct emu_response *resp)
{
    struct inv v;
    memset(&v, 0, sizeof(v));
    v.req = req;
    const char *rest = NULL;
    if (req->request_id[0] != 0) {
        snprintf(v.request_id, sizeof(v.request_id), "%s", req->request_id);
    } else {
        emu_uuid(v.request_id);
    }
    emu_random_alnum(v.apigw_id, 16, 0);
    v.apigw_id[15] = '=';
    snprintf(v.method, sizeof(v.method), "%s", req->method != NULL ? req->method : "GET");
    if (!apigw_invoke_parse(req, v.api, sizeof(v.api), v.stage, sizeof(v.stage), &rest)) {
        reply_message(&v, resp, 403, "{\"message\":\"Forbidden\"}", "ForbiddenException");
        goto out;
    }
    /* the path after the stage, decoded segment by segment later */
    v.raw_path = strdup(rest != NULL && *rest ? rest : "/");
    v.path = emu_url_decode(v.raw_path, strlen(v.raw_path), 0);
    if (v.path == NULL) {
        v.path = strdup(v.raw_path);
    }
    if (load_and_match(&v, resp) != 0) {
        goto out;
    }
    build_params(&v);
    const char *auth = jstr(v.meth, "authorizationType");
    if (auth != NULL && strcmp(auth, "CUSTOM") == 0 && run_authorizer(&v, resp) != 0) {
        goto out;
    }
    if (v.integration == NULL) {
        emu_warn("apigateway %s/%s: %s %s has no integration", v.api, v.stage, v.method, v.path);
        reply_internal(&v, resp, 500);
        goto out;
    }
    run_integration(&v, resp);
out:
    common_headers(&v, resp);
    inv_release(&v);
}

/* ------------------------------------------------------ TestInvokeMethod */

/* Builds the data-plane request TestInvokeMethod describes (caller releases
 * with test_request_release). */
static void test_request_init(struct emu_request *creq, struct emu_request *req, const char *method)
{
    memset(req, 0, sizeof(*req));
    snprintf(req->account, sizeof(req->account), "%s", creq->account);
    snprintf(req->region, sizeof(req->region), "%s", creq->region);
    snprintf(req->request_id, sizeof(req->request_id), "%s", creq->request_id);
    req->svc = creq->svc;
    req->op = creq->op;
    req->internal = 1;
    req->method = method;
    const char *pwq = jstr(creq->json, "pathWithQueryString");
    if (pwq == NULL || *pwq == 0) {
        pwq = "/";
    }
    const char *q = strchr(pwq, '?');
    size_t plen = q != NULL ? (size_t)(q - pwq) : strlen(pwq);
    req->path = malloc(plen + 2);
    if (req->path == NULL) {
        abort();
    }
    snprintf(req->path, plen + 2, "%s%.*s", pwq[0] == '/' ? "" : "/", (int)plen, pwq);
    req->query_string = strdup(q != NULL ? q + 1 : "");
    if (req->query_string[0] != 0) {
        emu_parse_query(&req->query, req->query_string, strlen(req->query_string), 0);
    }
    req->host = strdup(creq->host != NULL ? creq->host : "");
    const cJSON *h;
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(creq->json, "multiValueHeaders"))
    {
        const cJSON *it;
        cJSON_ArrayForEach(it, h)
        {
            if (cJSON_IsString(it) && h->string != NULL) {
                char lower[256];
                snprintf(lower, sizeof(lower), "%s", h->string);
                for (char *c = lower; *c; c++) {
                    *c = (char)tolower((unsigned char)*c);
                }
                emu_kv_add(&req->headers, lower, it->valuestring);
            }
        }
    }
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(creq->json, "headers"))
    {
        if (cJSON_IsString(h) && h->string != NULL) {
            char lower[256];
            snprintf(lower, sizeof(lower), "%s", h->string);
            for (char *c = lower; *c; c++) {
                *c = (char)tolower((unsigned char)*c);
            }
            emu_kv_set(&req->headers, lower, h->valuestring);
        }
    }
    const char *body = jstr(creq->json, "body");
    req->body = strdup(body != NULL ? body : "");
    req->body_len = strlen(req->body);
}

static void test_request_release(struct emu_request *req)
{
    free(req->path);
    free(req->query_string);
    free(req->host);
    free(req->body);
    emu_kv_release(&req->query);
    emu_kv_release(&req->headers);
}

/* Loads the working copy as a snapshot and finds the method. Returns 0, or
 * -1 after emu_fail on the control response. */
static int test_load(struct inv *v, struct emu_response *resp, const char *resource_id,
                     const char *http_method)
{
    int rc = -1;
    if (emu_store_begin(0) != 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return -1;
    }
    cJSON *api = apigw_obj_get(v->account, v->region, "restapi", "", v->api);
    if (api == NULL) {
        emu_fail(resp, APIGW_NOT_FOUND, "Invalid API identifier specified %s:%s", v->account,
                 v->api);
        goto out;
    }
    v->snap = cJSON_CreateObject();
    cJSON_AddItemToObject(v->snap, "resources",
                          apigw_obj_list(v->account, v->region, "resource", v->api));
    cJSON_AddItemToObject(v->snap, "authorizers",
                          apigw_obj_list(v->account, v->region, "authorizer", v->api));
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(v->snap, "resources"))
    {
        const char *id = jstr(r, "id");
        if (id != NULL && strcmp(id, resource_id) == 0) {
            v->resource = r;
        }
    }
    if (v->resource == NULL) {
        emu_fail(resp, APIGW_NOT_FOUND, "Invalid Resource identifier specified");
        goto out;
    }
    v->meth = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(v->resource, "resourceMethods"), http_method);
    if (v->meth == NULL) {
        emu_fail(resp, APIGW_NOT_FOUND, "Invalid Method identifier specified");
        goto out;
    }
    v->integration = cJSON_GetObjectItemCaseSensitive(v->meth, "methodIntegration");
    if (v->integration == NULL) {
        emu_fail(resp, APIGW_BAD_REQUEST, "No integration defined for method");
        goto out;
    }
    /* path parameters from the request path, when it fits the resource */
    cJSON *segs = split_decoded(v->raw_path);
    cJSON *params = cJSON_CreateObject();
    unsigned long long score = 0;
    const char *tmpl = jstr(v->resource, "path");
    if (segs != NULL && tmpl != NULL && match_resource(tmpl, segs, params, &score)) {
        v->path_params = params;
    } else {
        cJSON_Delete(params);
    }
    cJSON_Delete(segs);
    rc = 0;
out:
    cJSON_Delete(api);
    emu_store_end(1);
    return rc;
}

void apigw_test_invoke_method(struct emu_request *creq, struct emu_response *resp)
{
    double t0 = emu_now();
    const char *hm = emu_param(creq, "http_method");
    const char *rid = emu_param(creq, "resource_id");
    const char *aid = emu_param(creq, "restapi_id");
    struct emu_request req;
    struct inv v;
    memset(&v, 0, sizeof(v));
    test_request_init(creq, &req, hm != NULL && strcmp(hm, "ANY") != 0 ? hm : "GET");
    v.req = &req;
    snprintf(v.api, sizeof(v.api), "%s", aid != NULL ? aid : "");
    snprintf(v.stage, sizeof(v.stage), "test-invoke-stage");
    snprintf(v.account, sizeof(v.account), "%s", creq->account);
    snprintf(v.region, sizeof(v.region), "%s", creq->region);
    snprintf(v.request_id, sizeof(v.request_id), "%s", creq->request_id);
    emu_random_alnum(v.apigw_id, 16, 0);
    snprintf(v.method, sizeof(v.method), "%s", req.method);
    v.raw_path = strdup(req.path);
    v.path = emu_url_decode(v.raw_path, strlen(v.raw_path), 0);
    if (v.path == NULL) {
        v.path = strdup(v.raw_path);
    }
    if (test_load(&v, resp, rid != NULL ? rid : "", hm != NULL ? hm : "") != 0) {
        goto out;
    }
    v.stage_doc = cJSON_CreateObject();
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(creq->json, "stageVariables");
    if (cJSON_IsObject(sv)) {
        cJSON_AddItemToObject(v.stage_doc, "variables", cJSON_Duplicate(sv, 1));
    }
    build_params(&v);
    struct emu_response r;
    emu_response_init(&r);
    run_integration(&v, &r);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "status", r.status);
    emu_buf_puts(&r.body, "");
    cJSON_AddStringToObject(out, "body", r.body.data);
    cJSON *hdrs = cJSON_AddObjectToObject(out, "headers");
    cJSON *mhdrs = cJSON_AddObjectToObject(out, "multiValueHeaders");
    for (size_t i = 0; i < r.headers.n; i++) {
        const char *k = r.headers.items[i].key;
        const char *val = r.headers.items[i].value;
        cJSON_DeleteItemFromObjectCaseSensitive(hdrs, k);
        cJSON_AddStringToObject(hdrs, k, val);
        cJSON *arr = cJSON_GetObjectItemCaseSensitive(mhdrs, k);
        if (arr == NULL) {
            arr = cJSON_AddArrayToObject(mhdrs, k);
        }
        cJSON_AddItemToArray(arr, cJSON_CreateString(val));
    }
    struct emu_buf log = {0};
    emu_buf_printf(&log,
                   "Execution log for request %s\nStarting execution for request: %s\n"
                   "HTTP Method: %s, Resource Path: %s\nMethod completed with status: %d\n",
                   v.request_id, v.request_id, v.method, v.path, r.status);
    cJSON_AddStringToObject(out, "log", log.data);
    emu_buf_release(&log);
    cJSON_AddNumberToObject(out, "latency", (double)(long long)((emu_now() - t0) * 1000.0));
    emu_response_release(&r);
    emu_resp_json(resp, 200, out);
out:
    inv_release(&v);
    test_request_release(&req);
}
