/*
 * router.c - from a parsed request to (service, operation), then to the
 * handler inside the transaction its flags ask for.
 *
 * Service, in order (../shared/spec/wire-protocols.md section 5): the SigV4
 * credential scope (header or presigned X-Amz-Credential); for unsigned
 * requests an X-Amz-Target prefix, the /2015-03-31/ and /restapis path
 * prefixes, else S3. Operation: X-Amz-Target's suffix (JSON protocols), the
 * form's Action (query protocol, known once the body is read), or method +
 * path template + required query keys from the service's table (REST), or
 * the service's own route hook (S3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "body.h"
#include "core.h"

const char *emu_header(const struct emu_request *req, const char *lower_name)
{
    return emu_kv_get(&req->headers, lower_name);
}

const char *emu_query(const struct emu_request *req, const char *name)
{
    return emu_kv_get(&req->query, name);
}

const char *emu_param(const struct emu_request *req, const char *name)
{
    return emu_kv_get(&req->params, name);
}

const char *emu_form(const struct emu_request *req, const char *name)
{
    return emu_kv_get(&req->form, name);
}

/* Splits a raw path into its segments (raw, not decoded). Leading and one
 * trailing empty segment are dropped. Returns the count (max nmax). */
static size_t split_path(const char *path, const char **seg, size_t *len, size_t nmax)
{
    size_t n = 0;
    const char *p = path;
    if (*p == '/') {
        p++;
    }
    while (*p && n < nmax) {
        const char *slash = strchr(p, '/');
        size_t l = slash ? (size_t)(slash - p) : strlen(p);
        seg[n] = p;
        len[n] = l;
        n++;
        if (!slash) {
            break;
        }
        p = slash + 1;
        if (*p == 0) {
            break; /* trailing slash */
        }
    }
    return n;
}

int emu_path_match(const char *tmpl, const char *path, struct emu_kvlist *params)
{
    const char *ts[64], *ps[256];
    size_t tl[64], pl[256];
    size_t nt = split_path(tmpl, ts, tl, 64);
    size_t np = split_path(path, ps, pl, 256);
    struct emu_kvlist found = {0};
    size_t i = 0;
    for (; i < nt; i++) {
        int is_param = tl[i] >= 2 && ts[i][0] == '{' && ts[i][tl[i] - 1] == '}';
        if (is_param && tl[i] >= 3 && ts[i][tl[i] - 2] == '+') {
            /* greedy: the rest of the path, decoded */
            if (i >= np) {
                goto nomatch;
            }
            const char *start = ps[i];
            size_t rest = strlen(start);
            char *v = emu_url_decode(start, rest, 0);
            if (v == NULL) {
                goto nomatch;
            }
            emu_kv_addn(&found, ts[i] + 1, tl[i] - 3, v, strlen(v));
            free(v);
            i = nt;
            np = i; /* consumed */
            break;
        }
        if (i >= np) {
            goto nomatch;
        }
        if (is_param) {
            if (pl[i] == 0) {
                goto nomatch;
            }
            char *v = emu_url_decode(ps[i], pl[i], 0);
            if (v == NULL) {
                goto nomatch;
            }
            emu_kv_addn(&found, ts[i] + 1, tl[i] - 2, v, strlen(v));
            free(v);
        } else if (tl[i] != pl[i] || memcmp(ts[i], ps[i], tl[i]) != 0) {
            goto nomatch;
        }
    }
    if (i != np) {
        goto nomatch;
    }
    for (size_t k = 0; k < found.n; k++) {
        emu_kv_add(params, found.items[k].key, found.items[k].value);
    }
    emu_kv_release(&found);
    return 1;
nomatch:
    emu_kv_release(&found);
    return 0;
}

static int query_keys_present(const struct emu_request *req, const char *keys)
{
    if (keys == NULL || *keys == 0) {
        return 1;
    }
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", keys);
    char *save = NULL;
    for (char *k = strtok_r(buf, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
        if (!emu_kv_has(&req->query, k)) {
            return 0;
        }
    }
    return 1;
}

static const struct emu_op *op_by_name(const struct emu_service *svc, const char *name)
{
    for (size_t i = 0; i < svc->nops; i++) {
        if (strcmp(svc->ops[i].name, name) == 0) {
            return &svc->ops[i];
        }
    }
    return NULL;
}

static const struct emu_op *op_by_path(struct emu_request *req)
{
    const struct emu_service *svc = req->svc;
    for (size_t i = 0; i < svc->nops; i++) {
        const struct emu_op *op = &svc->ops[i];
        if (op->method == NULL || op->path == NULL || strcmp(op->method, req->method) != 0) {
            continue;
        }
        if (!query_keys_present(req, op->query)) {
            continue;
        }
        struct emu_kvlist params = {0};
        if (emu_path_match(op->path, req->path, &params)) {
            emu_kv_release(&req->params);
            req->params = params;
            return op;
        }
        emu_kv_release(&params);
    }
    return NULL;
}

static void unknown_operation(struct emu_request *req, struct emu_response *resp, const char *what)
{
    enum emu_protocol p = req->svc ? req->svc->protocol : EMU_PROTO_REST_JSON;
    if (emu_header(req, "x-amz-target")) {
        p = EMU_PROTO_JSON;
    }
    switch (p) {
    case EMU_PROTO_QUERY:
        emu_fail(resp, AWS_INVALID_ACTION, "Could not find operation %s for version %s", what,
                 emu_form(req, "Version") ? emu_form(req, "Version") : "");
        break;
    case EMU_PROTO_REST_XML:
        emu_fail(resp, S3_METHOD_NOT_ALLOWED, NULL);
        emu_fail_extra(resp, "Method", req->method);
        emu_fail_extra(resp, "ResourceType", "OBJECT");
        break;
    case EMU_PROTO_JSON:
        emu_fail(resp, AWS_UNKNOWN_OPERATION, NULL);
        snprintf(resp->error_code, sizeof(resp->error_code), "UnknownOperationException");
        free(resp->error_message);
        resp->error_message = strdup("");
        break;
    case EMU_PROTO_REST_JSON:
        emu_fail_raw(resp, 404, "UnknownOperationException", "");
        break;
    }
    (void)what;
}

/* Chooses the service for a request whose credential scope named
 * scope_service (NULL when unsigned). Returns 0 or -1 (resp failed). */
int emu_route_service(struct emu_request *req, struct emu_response *resp,
                      const char *scope_service)
{
    if (scope_service) {
        /* botocore signs IoT's control plane with the name "execute-api" */
        if (strcmp(scope_service, "execute-api") == 0 && strncmp(req->path, "/rules", 6) == 0) {
            scope_service = "iot";
        }
        req->svc = emu_service_find(scope_service);
        if (req->svc == NULL) {
            req->svc = NULL;
            unknown_operation(req, resp, scope_service);
            return -1;
        }
        return 0;
    }
    const char *target = emu_header(req, "x-amz-target");
    if (target) {
        for (size_t i = 0; i < emu_services_count(); i++) {
            const struct emu_service *s = emu_service_at(i);
            size_t n = s->target_prefix ? strlen(s->target_prefix) : 0;
            if (n && strncmp(target, s->target_prefix, n) == 0 && target[n] == '.') {
                req->svc = s;
                return 0;
            }
        }
    }
    const char *ct = emu_header(req, "content-type");
    if (strcmp(req->method, "POST") == 0 && strcmp(req->path, "/") == 0 && ct &&
        strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0) {
        /* an unsigned query-protocol call: which service cannot be known;
         * STS answers it (MissingAuthenticationToken in the query shape) */
        req->svc = emu_service_find("sts");
    } else if (strncmp(req->path, "/2015-03-31/", 12) == 0 ||
               strncmp(req->path, "/2017-03-31/", 12) == 0) {
        req->svc = emu_service_find("lambda");
    } else if (strncmp(req->path, "/restapis", 9) == 0) {
        req->svc = emu_service_find("apigateway");
    } else {
        req->svc = emu_service_find("s3");
    }
    if (req->svc == NULL) {
        unknown_operation(req, resp, req->path);
        return -1;
    }
    return 0;
}

/* Resolves the operation once the service is known. Returns 1 when found,
 * 0 when it needs the body first (query protocol), -1 when unknown (resp
 * failed). */
int emu_route_op(struct emu_request *req, struct emu_response *resp, int have_body)
{
    const struct emu_service *svc = req->svc;
    const char *target = emu_header(req, "x-amz-target");
    if (target) {
        const char *dot = strrchr(target, '.');
        const char *name = dot ? dot + 1 : target;
        req->op = op_by_name(svc, name);
        if (req->op == NULL) {
            unknown_operation(req, resp, name);
            return -1;
        }
        return 1;
    }
    if (svc->protocol == EMU_PROTO_QUERY) {
        const char *action = emu_query(req, "Action");
        if (action == NULL) {
            if (!have_body) {
                return 0;
            }
            action = emu_form(req, "Action");
        }
        if (action == NULL) {
            emu_fail(resp, AWS_MISSING_PARAMETER, "The request must contain the parameter Action");
            snprintf(resp->error_code, sizeof(resp->error_code), "MissingAction");
            return -1;
        }
        req->op = op_by_name(svc, action);
        if (req->op == NULL) {
            unknown_operation(req, resp, action);
            return -1;
        }
        return 1;
    }
    if (svc->route) {
        req->op = svc->route(req);
    } else {
        req->op = op_by_path(req);
    }
    if (req->op == NULL) {
        if (!resp->failed) {
            unknown_operation(req, resp, req->path);
        }
        return -1;
    }
    return 1;
}

int emu_route(struct emu_request *req, struct emu_response *resp)
{
    return emu_route_op(req, resp, 1) == 1 ? 0 : -1;
}

static int is_form(const struct emu_request *req)
{
    const char *ct = emu_header(req, "content-type");
    return ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
}

int emu_parse_body(struct emu_request *req, struct emu_response *resp)
{
    const struct emu_service *svc = req->svc;
    if (svc == NULL) {
        return 0;
    }
    int json_target = emu_header(req, "x-amz-target") != NULL;
    if (!json_target && (svc->protocol == EMU_PROTO_QUERY || is_form(req)) &&
        svc->protocol != EMU_PROTO_REST_XML && req->form.n == 0) {
        /* query-string parameters first (GET ?Action=...), then the form */
        for (size_t i = 0; i < req->query.n; i++) {
            emu_kv_add(&req->form, req->query.items[i].key, req->query.items[i].value);
        }
        if (req->body_len && emu_parse_query(&req->form, req->body, req->body_len, 1) != 0) {
            emu_fail(resp, AWS_MALFORMED_QUERY_STRING, "The request body is not valid form data.");
            return -1;
        }
    }
    int want_json = json_target || (req->op && (req->op->flags & EMU_OP_JSON));
    if (want_json && req->json == NULL) {
        if (req->body_len == 0) {
            req->json = cJSON_CreateObject();
        } else {
            const char *end = NULL;
            req->json = cJSON_ParseWithLengthOpts(req->body, req->body_len, &end, 0);
            if (req->json == NULL || !cJSON_IsObject(req->json)) {
                cJSON_Delete(req->json);
                req->json = NULL;
                size_t off = end && end >= req->body ? (size_t)(end - req->body) : 0;
                if (strcmp(svc->name, "lambda") == 0) {
                    emu_fail(resp, LAMBDA_INVALID_REQUEST_CONTENT,
                             "Could not parse request body into json: Unexpected character at "
                             "offset %zu",
                             off);
                } else if (svc->protocol == EMU_PROTO_REST_JSON) {
                    emu_fail(resp, APIGW_BAD_REQUEST, "Invalid JSON in request body at offset %zu",
                             off);
                } else {
                    emu_fail(resp, AWS_SERIALIZATION_EXCEPTION,
                             "Start of structure or map found where not expected (offset %zu)",
                             off);
                }
                return -1;
            }
        }
    }
    return 0;
}

void emu_dispatch(struct emu_request *req, struct emu_response *resp)
{
    unsigned f = req->op->flags;
    if (f & EMU_OP_NO_TXN) {
        req->op->handler(req, resp);
        return;
    }
    if (emu_store_begin((f & EMU_OP_WRITE) != 0) != 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    req->op->handler(req, resp);
    int ok = !resp->failed;
    if (emu_store_end(ok) != 0 && ok) {
        /* the commit itself failed: nothing was written */
        if (resp->body_fd >= 0) {
            close(resp->body_fd);
            resp->body_fd = -1;
        }
        emu_kv_release(&resp->headers);
        emu_buf_release(&resp->body);
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
    }
}

void emu_request_release(struct emu_request *req)
{
    free(req->path);
    free(req->query_string);
    free(req->host);
    emu_kv_release(&req->query);
    emu_kv_release(&req->headers);
    emu_kv_release(&req->headers_sent);
    emu_kv_release(&req->params);
    emu_kv_release(&req->form);
    free(req->body);
    cJSON_Delete(req->json);
    if (req->upload) {
        if (req->upload->path[0]) {
            unlink(req->upload->path);
        }
        emu_kv_release(&req->upload->trailers);
        free(req->upload);
    }
    memset(req, 0, sizeof(*req));
}

void emu_response_init(struct emu_response *resp)
{
    memset(resp, 0, sizeof(*resp));
    resp->status = 200;
    resp->body_fd = -1;
}

void emu_response_release(struct emu_response *resp)
{
    emu_kv_release(&resp->headers);
    emu_buf_release(&resp->body);
    if (resp->body_fd >= 0) {
        close(resp->body_fd);
    }
    free(resp->error_message);
    emu_kv_release(&resp->error_extra);
    memset(resp, 0, sizeof(*resp));
    resp->body_fd = -1;
}

void emu_resp_header(struct emu_response *resp, const char *name, const char *fmt, ...)
{
    struct emu_buf v = {0};
    va_list ap;
    va_start(ap, fmt);
    emu_buf_vprintf(&v, fmt, ap);
    va_end(ap);
    emu_kv_set(&resp->headers, name, v.data ? v.data : "");
    emu_buf_release(&v);
}

void emu_resp_json(struct emu_response *resp, int status, cJSON *doc)
{
    resp->status = status;
    emu_buf_release(&resp->body);
    char *s = doc ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    emu_buf_puts(&resp->body, s ? s : "{}");
    free(s);
    if (!emu_kv_getci(&resp->headers, "Content-Type")) {
        emu_kv_set(&resp->headers, "Content-Type", "application/json");
    }
}

void emu_resp_body(struct emu_response *resp, int status, const char *content_type,
                   const void *data, size_t len)
{
    resp->status = status;
    emu_buf_release(&resp->body);
    emu_buf_append(&resp->body, data, len);
    if (content_type) {
        emu_kv_set(&resp->headers, "Content-Type", content_type);
    }
}

void emu_resp_query(struct emu_request *req, struct emu_response *resp, const char *inner)
{
    const char *action = req->op ? req->op->name : "Unknown";
    struct emu_buf *b = &resp->body;
    emu_buf_release(b);
    resp->status = 200;
    if (req->svc && req->svc->xmlns) {
        emu_buf_printf(b, "<%sResponse xmlns=\"%s\">", action, req->svc->xmlns);
    } else {
        emu_buf_printf(b, "<%sResponse>", action);
    }
    if (inner && *inner) {
        emu_buf_printf(b, "<%sResult>%s</%sResult>", action, inner, action);
    } else {
        emu_buf_printf(b, "<%sResult/>", action);
    }
    emu_buf_printf(b, "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>",
                   req->request_id, action);
    emu_kv_set(&resp->headers, "Content-Type", "text/xml");
}

void emu_resp_xml(struct emu_response *resp, int status, const char *xml)
{
    resp->status = status;
    emu_buf_release(&resp->body);
    emu_buf_puts(&resp->body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    emu_buf_puts(&resp->body, xml);
    emu_kv_set(&resp->headers, "Content-Type", "application/xml");
}

/* -------------------------------------------------------- internal calls */

int emu_call_internal(const struct emu_call *c, struct emu_response *resp)
{
    struct emu_request req;
    memset(&req, 0, sizeof(req));
    req.internal = 1;
    snprintf(req.account, sizeof(req.account), "%s", c->account ? c->account : EMU_DEFAULT_ACCOUNT);
    snprintf(req.region, sizeof(req.region), "%s", c->region ? c->region : "us-east-1");
    emu_uuid(req.request_id);
    req.method = c->method;
    const char *q = strchr(c->path, '?');
    size_t plen = q ? (size_t)(q - c->path) : strlen(c->path);
    req.path = strndup(c->path, plen);
    req.query_string = strdup(q ? q + 1 : "");
    req.host = strdup("");
    if (req.path == NULL || req.query_string == NULL || req.host == NULL) {
        abort();
    }
    if (emu_parse_query(&req.query, req.query_string, strlen(req.query_string), 0) != 0) {
        emu_fail(resp, AWS_MALFORMED_QUERY_STRING, "Bad query string");
        goto out;
    }
    for (size_t i = 0; i < c->nheaders; i++) {
        char *k = strdup(c->headers[i].key);
        for (char *p = k; *p; p++) {
            if (*p >= 'A' && *p <= 'Z') {
                *p = (char)(*p - 'A' + 'a');
            }
        }
        emu_kv_add(&req.headers, k, c->headers[i].value);
        free(k);
    }
    if (c->target) {
        emu_kv_add(&req.headers, "x-amz-target", c->target);
    }
    req.svc = emu_service_find(c->service);
    if (req.svc == NULL) {
        emu_fail_raw(resp, 501, "ServiceNotAvailable", "The service is not served by greenroom.");
        goto out;
    }
    if (c->body && c->body_len && emu_kv_get(&req.headers, "content-type") == NULL &&
        req.svc->protocol == EMU_PROTO_QUERY && !c->target) {
        emu_kv_add(&req.headers, "content-type", "application/x-www-form-urlencoded");
    }
    int r = emu_route_op(&req, resp, 0);
    if (r < 0) {
        goto out;
    }
    /* the body: in memory, or through a temp file for streaming ops */
    struct emu_body_opts o = {.cap = emu_cfg.max_body};
    int stream = r == 1 && (req.op->flags & EMU_OP_STREAM);
    o.stream = stream;
    o.want = EMU_DIGEST_MD5 | EMU_DIGEST_SHA256 | EMU_DIGEST_CRC32 | EMU_DIGEST_CRC32C |
             EMU_DIGEST_SHA1 | EMU_DIGEST_CRC64;
    struct emu_body *b = emu_body_new(&o);
    if (b == NULL || emu_body_feed(b, c->body ? c->body : "", c->body ? c->body_len : 0) != 0 ||
        emu_body_finish(b, &req, NULL) != 0) {
        emu_body_free(b);
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        goto out;
    }
    emu_body_free(b);
    if (emu_parse_body(&req, resp) != 0) {
        goto out;
    }
    if (r == 0 && emu_route_op(&req, resp, 1) != 1) {
        goto out;
    }
    if (req.svc->resource) {
        struct emu_buf rb = {0};
        req.svc->resource(&req, &rb);
        snprintf(req.resource, sizeof(req.resource), "%s", rb.data ? rb.data : "");
        emu_buf_release(&rb);
    }
    double started = emu_now();
    if (c->journal) {
        req.seq = emu_journal_next_seq();
    }
    emu_dispatch(&req, resp);
    emu_render_error(&req, resp);
    if (c->journal) {
        emu_journal_record(&req, resp, started, NULL);
    }
out:
    if (resp->failed && resp->body.len == 0 && resp->body_fd < 0) {
        emu_render_error(&req, resp);
    }
    emu_request_release(&req);
    return resp->status;
}
