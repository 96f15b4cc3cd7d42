/*
 * http.c - the HTTP glue: the only file that includes microhttpd.h.
 *
 * Request lifecycle (one thread per connection; libmicrohttpd calls
 * on_request several times per request):
 *
 *  1. uri_log: MHD hands us the raw URI before parsing; we keep it (SigV4
 *     needs the path and query exactly as sent) in a new struct conn_ctx.
 *  2. first call (headers only): begin()
 *       - build struct emu_request: method, raw path, query, lower-cased
 *         headers, request id, journal sequence number;
 *       - a service's claim hook may take an unsigned data-plane request
 *         (API Gateway stage URLs, the Lambda Runtime API);
 *       - /_greenroom/ and /_localstack/ go to control.c;
 *       - SigV4: parse, pick the service from the credential scope
 *         (router.c), look up the key, check the clock, verify now when the
 *         payload hash is known (x-amz-content-sha256 / presigned), else
 *         after the body;
 *       - route the operation (REST/JSON now, query protocol after the body);
 *       - fault rules (fault.c), once the call is authenticated and routed;
 *       - an error decided here is answered at once, without reading the
 *         body (so Expect: 100-continue never makes a client send it).
 *     Returning MHD_YES without a response lets MHD send "100 Continue".
 *  3. body calls: bytes go to body.c (memory under a cap, or a temp file
 *     for EMU_OP_STREAM; aws-chunked framing removed, digests computed).
 *  4. final call: finish() verifies the payload hash and deferred
 *     signature, parses form/JSON, routes a query-protocol operation, runs
 *     the handler in its transaction (router.c: emu_dispatch), renders an
 *     error in the protocol's shape (errors.c), records the journal entry,
 *     and queues the response (buffer, or a file range sent with sendfile).
 *  5. completed: the context and anything left (temp files) is freed.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "body.h"
#include "core.h"
#include "fault.h"
#include "sigv4.h"

#pragma weak fault_check

enum phase { PH_NEW, PH_BODY, PH_REPLIED };

struct conn_ctx {
    struct emu_request req;
    struct emu_response resp;
    char *raw_uri;
    enum phase phase;
    int decided;       /* the answer is known; the body is only drained */
    int control;       /* a /_greenroom/ control request */
    int journal;       /* record in the journal */
    int op_pending;    /* query protocol: operation known after the body */
    int late_resource; /* JSON protocol: the resource is in the body */
    int auth_deferred; /* verify the signature with the body's hash */
    int check_raw;     /* x-amz-content-sha256 is a hex hash to compare */
    int faulted;       /* fault rules consulted */
    struct sigv4_auth auth;
    int signed_req;
    char secret[128];
    char claimed_hash[80];
    struct emu_body *body;
    struct fault_decision fault;
    double started;
};

static struct MHD_Daemon *daemon_handle;
static volatile sig_atomic_t stopping;
static char base_url[128];

const char *emu_base_url(void)
{
    return base_url;
}

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *con)
{
    (void)cls;
    (void)con;
    struct conn_ctx *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    c->raw_uri = strdup(uri ? uri : "/");
    emu_response_init(&c->resp);
    c->started = emu_now();
    return c;
}

static enum MHD_Result header_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void)kind;
    struct emu_request *req = cls;
    char name[256];
    size_t n = strlen(key);
    if (n >= sizeof(name)) {
        n = sizeof(name) - 1;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = key[i];
        name[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
    }
    name[n] = 0;
    emu_kv_add(&req->headers, name, value ? value : "");
    emu_kv_add(&req->headers_sent, key, value ? value : "");
    return MHD_YES;
}

/* The protocol an error should take before the service is known. */
static void guess_service(struct emu_request *req)
{
    if (req->svc == NULL) {
        struct emu_response scratch;
        emu_response_init(&scratch);
        emu_route_service(req, &scratch, NULL);
        emu_response_release(&scratch);
    }
}

static int is_json_family(const struct emu_request *req)
{
    return req->svc && (req->svc->protocol == EMU_PROTO_JSON ||
                        req->svc->protocol == EMU_PROTO_REST_JSON ||
                        emu_header(req, "x-amz-target") != NULL);
}

static int is_s3(const struct emu_request *req)
{
    return req->svc == NULL || strcmp(req->svc->name, "s3") == 0;
}

/* Authentication at header time. Returns 0 (go on), -1 (resp failed). */
static int authenticate(struct conn_ctx *c)
{
    struct emu_request *req = &c->req;
    struct emu_response *resp = &c->resp;
    char err[512] = "";
    int s = sigv4_parse(req, &c->auth, err, sizeof(err));
    if (s < 0) {
        guess_service(req);
        if (is_s3(req)) {
            emu_fail(resp,
                     c->auth.presigned ? S3_AUTHORIZATION_QUERY_PARAMETERS_ERROR
                                       : S3_AUTHORIZATION_HEADER_MALFORMED,
                     "%s", err);
        } else {
            emu_fail(resp, AWS_INCOMPLETE_SIGNATURE, "%s", err);
        }
        return -1;
    }
    c->signed_req = s == 1;
    if (emu_route_service(req, resp, c->signed_req ? c->auth.service : NULL) != 0) {
        return -1;
    }
    if (!c->signed_req) {
        snprintf(req->region, sizeof(req->region), "us-east-1");
        snprintf(req->account, sizeof(req->account), "%s", EMU_DEFAULT_ACCOUNT);
        return 0; /* decided once the operation is known (EMU_OP_NO_AUTH) */
    }
    snprintf(req->region, sizeof(req->region), "%s", c->auth.region);
    snprintf(req->access_key, sizeof(req->access_key), "%s", c->auth.access_key);
    char account[16];
    if (emu_account_lookup(c->auth.access_key, c->secret, sizeof(c->secret), account,
                           sizeof(account)) != 0) {
        if (!emu_cfg.auth) {
            snprintf(req->account, sizeof(req->account), "%s", EMU_DEFAULT_ACCOUNT);
            return 0;
        }
        if (is_s3(req)) {
            emu_fail(resp, AWS_INVALID_ACCESS_KEY_ID, NULL);
            emu_fail_extra(resp, "AWSAccessKeyId", c->auth.access_key);
        } else if (is_json_family(req)) {
            emu_fail(resp, AWS_UNRECOGNIZED_CLIENT, NULL);
        } else {
            emu_fail(resp, AWS_INVALID_CLIENT_TOKEN_ID, NULL);
        }
        return -1;
    }
    snprintf(req->account, sizeof(req->account), "%s", account);
    if (!emu_cfg.auth) {
        return 0;
    }
    if (emu_session_check(req, resp) != 0) {
        return -1;
    }
    double t = sigv4_parse_amz_date(c->auth.amz_date);
    double now = emu_now();
    if (t < 0) {
        emu_fail(resp, is_s3(req) ? S3_AUTHORIZATION_HEADER_MALFORMED : AWS_INCOMPLETE_SIGNATURE,
                 "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
        return -1;
    }
    if (c->auth.presigned) {
        if (now > t + (double)c->auth.expires) {
            emu_fail(resp, AWS_ACCESS_DENIED, "Request has expired");
            emu_fail_extra(resp, "X-Amz-Expires", emu_query(req, "X-Amz-Expires"));
            return -1;
        }
        if (t - now > 900) {
            emu_fail(resp, AWS_ACCESS_DENIED, "Request is not valid yet");
            return -1;
        }
    } else if (t - now > 900 || now - t > 900) {
        emu_fail(resp, AWS_REQUEST_TIME_TOO_SKEWED, NULL);
        char ts[32];
        emu_time_iso(ts, now);
        emu_fail_extra(resp, "RequestTime", c->auth.amz_date);
        emu_fail_extra(resp, "ServerTime", ts);
        emu_fail_extra(resp, "MaxAllowedSkewMilliseconds", "900000");
        return -1;
    }
    const char *hash = emu_header(req, "x-amz-content-sha256");
    if (c->auth.presigned) {
        hash = emu_query(req, "X-Amz-Content-Sha256");
        if (hash == NULL) {
            hash = "UNSIGNED-PAYLOAD";
        }
    }
    if (hash == NULL) {
        c->auth_deferred = 1;
        return 0;
    }
    snprintf(c->claimed_hash, sizeof(c->claimed_hash), "%s", hash);
    if (strlen(hash) == 64 && strspn(hash, "0123456789abcdefABCDEF") == 64) {
        c->check_raw = 1;
    }
    if (sigv4_verify(req, &c->auth, c->secret, hash) != 0) {
        if (is_json_family(req)) {
            emu_fail(resp, AWS_INVALID_SIGNATURE_EXCEPTION,
                     "The request signature we calculated does not match the signature you "
                     "provided. Check your AWS Secret Access Key and signing method. Consult the "
                     "service documentation for details.");
        } else {
            emu_fail(resp, AWS_SIGNATURE_DOES_NOT_MATCH, NULL);
            if (is_s3(req)) {
                emu_fail_extra(resp, "AWSAccessKeyId", c->auth.access_key);
            }
        }
        return -1;
    }
    req->authenticated = 1;
    return 0;
}

/* An unsigned call to an operation that needs a signature. */
static int require_signature(struct conn_ctx *c)
{
    struct emu_request *req = &c->req;
    if (c->signed_req || !emu_cfg.auth || (req->op && (req->op->flags & EMU_OP_NO_AUTH))) {
        return 0;
    }
    if (is_s3(req)) {
        emu_fail(&c->resp, AWS_ACCESS_DENIED, NULL);
    } else if (req->svc->protocol == EMU_PROTO_QUERY && !emu_header(req, "x-amz-target")) {
        emu_fail(&c->resp, AWS_MISSING_AUTH_TOKEN, "Request is missing Authentication Token");
        snprintf(c->resp.error_code, sizeof(c->resp.error_code), "MissingAuthenticationToken");
    } else {
        emu_fail(&c->resp, AWS_MISSING_AUTH_TOKEN, NULL);
    }
    return -1;
}

static void compute_resource(struct emu_request *req)
{
    if (req->svc && req->svc->resource && req->op) {
        struct emu_buf rb = {0};
        req->svc->resource(req, &rb);
        snprintf(req->resource, sizeof(req->resource), "%s", rb.data ? rb.data : "");
        emu_buf_release(&rb);
    }
}

static void drop_connection(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci) {
        struct linger lg = {1, 0};
        setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
}

/* Holds the call until the client goes away (or greenroom stops). */
static void hang(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    int fd = ci ? ci->connect_fd : -1;
    for (int i = 0; i < 36000 && !stopping; i++) {
        if (fd >= 0) {
            struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
            if (poll(&p, 1, 100) > 0) {
                if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) {
                    return;
                }
                char b;
                ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
                if (n == 0) {
                    return;
                }
            }
        } else {
            usleep(100000);
        }
    }
}

static void throttle_error(struct conn_ctx *c)
{
    /* fault.c fills status/code/message already for throttling */
    emu_fail_raw(&c->resp, c->fault.status, c->fault.code, c->fault.message);
    if (c->fault.retry_after > 0) {
        emu_resp_header(&c->resp, "Retry-After", "%d", c->fault.retry_after);
    }
}

/* Consults the fault rules once the call is routed and authenticated.
 * Returns 0 to go on, 1 when the answer is decided (error), -1 when the
 * connection must be dropped (reset/hang/crash already carried out). */
static int apply_faults(struct conn_ctx *c, struct MHD_Connection *conn)
{
    if (c->faulted || c->req.op == NULL || (c->req.op->flags & EMU_OP_NO_FAULT) || !c->journal) {
        return 0;
    }
    c->faulted = 1;
    if (fault_check == NULL) {
        return 0;
    }
    enum fault_action a = fault_check(&c->req, &c->fault);
    switch (a) {
    case FAULT_NONE:
        return 0;
    case FAULT_ERROR:
        emu_fail_raw(&c->resp, c->fault.status, c->fault.code, c->fault.message);
        return 1;
    case FAULT_THROTTLE:
        throttle_error(c);
        return 1;
    case FAULT_RESET:
    case FAULT_HANG:
    case FAULT_CRASH:
        if (c->fault.latency_ms > 0) {
            usleep((useconds_t)c->fault.latency_ms * 1000);
        }
        c->resp.status = 0;
        snprintf(c->resp.error_code, sizeof(c->resp.error_code), "%s",
                 a == FAULT_RESET ? "ConnectionReset" : a == FAULT_HANG ? "Hang" : "Crash");
        emu_journal_record(&c->req, &c->resp, c->started, c->fault.rule_id);
        if (a == FAULT_CRASH) {
            emu_journal_flush();
            emu_warn("fault rule %s: crashing on purpose", c->fault.rule_id);
            kill(getpid(), SIGKILL);
            _exit(137);
        }
        if (a == FAULT_HANG) {
            hang(conn);
        }
        drop_connection(conn);
        c->journal = 0;
        return -1;
    }
    return 0;
}

static unsigned wanted_digests(const struct emu_request *req)
{
    unsigned w = EMU_DIGEST_MD5 | EMU_DIGEST_CRC32;
    if (req->op && (req->op->flags & EMU_OP_CRC64)) {
        w |= EMU_DIGEST_CRC64;
    }
    const char *names[] = {"x-amz-sdk-checksum-algorithm", "x-amz-checksum-algorithm",
                           "x-amz-trailer"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *v = emu_header(req, names[i]);
        if (v == NULL) {
            continue;
        }
        if (strcasestr(v, "crc32c")) {
            w |= EMU_DIGEST_CRC32C;
        }
        if (strcasestr(v, "sha1")) {
            w |= EMU_DIGEST_SHA1;
        }
        if (strcasestr(v, "sha256")) {
            w |= EMU_DIGEST_SHA256;
        }
        if (strcasestr(v, "crc64")) {
            w |= EMU_DIGEST_CRC64;
        }
    }
    if (emu_header(req, "x-amz-checksum-crc32c")) {
        w |= EMU_DIGEST_CRC32C;
    }
    if (emu_header(req, "x-amz-checksum-sha1")) {
        w |= EMU_DIGEST_SHA1;
    }
    if (emu_header(req, "x-amz-checksum-sha256")) {
        w |= EMU_DIGEST_SHA256;
    }
    if (emu_header(req, "x-amz-checksum-crc64nvme")) {
        w |= EMU_DIGEST_CRC64;
    }
    return w;
}

static int start_body(struct conn_ctx *c)
{
    struct emu_request *req = &c->req;
    struct emu_body_opts o;
    memset(&o, 0, sizeof(o));
    o.cap = c->control ? 16u * 1024 * 1024 : emu_cfg.max_body;
    o.stream = req->op && (req->op->flags & EMU_OP_STREAM);
    const char *ce = emu_header(req, "content-encoding");
    o.aws_chunked = (ce && strcasestr(ce, "aws-chunked")) ||
                    strncmp(c->claimed_hash, "STREAMING-", 10) == 0;
    if (strncmp(c->claimed_hash, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", 34) == 0 && emu_cfg.auth &&
        c->signed_req) {
        o.signed_chunks = 1;
        sigv4_chunk_init(&o.chain, &c->auth, c->secret);
    }
    o.raw_sha256 = (c->check_raw || c->auth_deferred) && emu_cfg.auth;
    o.want = wanted_digests(req);
    c->body = emu_body_new(&o);
    if (c->body == NULL) {
        emu_fail(&c->resp, AWS_INTERNAL_FAILURE, NULL);
        return -1;
    }
    return 0;
}

/* Headers are in: everything that can be decided before the body. */
static void begin(struct conn_ctx *c, struct MHD_Connection *conn, const char *method)
{
    struct emu_request *req = &c->req;
    req->method = method;
    const char *uri = c->raw_uri ? c->raw_uri : "/";
    const char *q = strchr(uri, '?');
    req->path = strndup(uri, q ? (size_t)(q - uri) : strlen(uri));
    req->query_string = strdup(q ? q + 1 : "");
    MHD_get_connection_values(conn, MHD_HEADER_KIND, header_cb, req);
    const char *host = emu_header(req, "host");
    req->host = strdup(host ? host : "");
    emu_uuid(req->request_id);
    snprintf(req->region, sizeof(req->region), "us-east-1");
    snprintf(req->account, sizeof(req->account), "%s", EMU_DEFAULT_ACCOUNT);
    if (req->path == NULL || req->query_string == NULL || req->host == NULL) {
        abort();
    }
    if (emu_parse_query(&req->query, req->query_string, strlen(req->query_string), 0) != 0) {
        guess_service(req);
        emu_fail(&c->resp, AWS_MALFORMED_QUERY_STRING, "The query string is malformed.");
        c->decided = 1;
        return;
    }
    /* data-plane endpoints claimed by a service */
    for (size_t i = 0; i < emu_services_count(); i++) {
        const struct emu_service *s = emu_service_at(i);
        if (s->claim == NULL) {
            continue;
        }
        const struct emu_op *op = s->claim(req);
        if (op != NULL) {
            req->svc = s;
            req->op = op;
            break;
        }
    }
    if (req->op == NULL && (strncmp(req->path, "/_greenroom/", 12) == 0 ||
                            strncmp(req->path, "/_localstack/", 13) == 0 ||
                            strcmp(req->path, "/_greenroom") == 0)) {
        c->control = 1;
        start_body(c);
        return;
    }
    c->journal = strncmp(req->path, "/_greenroom/", 12) != 0;
    if (c->journal) {
        req->seq = emu_journal_next_seq();
    }
    if (req->op == NULL || !(req->op->flags & EMU_OP_NO_AUTH)) {
        const struct emu_service *claimed = req->svc;
        const struct emu_op *claimed_op = req->op;
        if (authenticate(c) != 0) {
            c->decided = 1;
            return;
        }
        if (claimed) {
            req->svc = claimed;
            req->op = claimed_op;
        }
    }
    if (req->op == NULL) {
        int r = emu_route_op(req, &c->resp, 0);
        if (r < 0) {
            c->decided = 1;
            return;
        }
        c->op_pending = r == 0;
    }
    if (!c->op_pending && require_signature(c) != 0) {
        c->decided = 1;
        return;
    }
    c->late_resource = emu_header(req, "x-amz-target") != NULL;
    if (!c->op_pending && !c->late_resource) {
        compute_resource(req);
    }
    /* Faults are decided before the body only for streamed bodies (an S3
     * PUT need not be received to be refused); other calls are decided once
     * the body is parsed, when their resource is fully known. */
    if (!c->op_pending && !c->late_resource && !c->auth_deferred && req->op &&
        (req->op->flags & EMU_OP_STREAM)) {
        int f = apply_faults(c, conn);
        if (f != 0) {
            c->decided = 1;
            return;
        }
    }
    if (start_body(c) != 0) {
        c->decided = 1;
    }
}

/* The body is in: verify, parse, dispatch. */
static void finish(struct conn_ctx *c, struct MHD_Connection *conn)
{
    struct emu_request *req = &c->req;
    struct emu_response *resp = &c->resp;
    char raw[65] = "";
    if (emu_body_finish(c->body, req, raw) != 0) {
        const char *msg = NULL;
        enum emu_error e = emu_body_error(c->body, &msg);
        if (e == AWS_REQUEST_ENTITY_TOO_LARGE) {
            char cap[32];
            snprintf(cap, sizeof(cap), "%zu", c->control ? (size_t)16 << 20 : emu_cfg.max_body);
            emu_fail(resp, e, "Request body is larger than the limit of %s bytes.", cap);
        } else {
            emu_fail(resp, e, msg ? "%s" : NULL, msg);
        }
        return;
    }
    if (c->control) {
        if (!emu_control(req, resp)) {
            emu_fail_raw(resp, 404, "NotFound", "No such greenroom endpoint.");
        }
        return;
    }
    if (c->check_raw && emu_cfg.auth && strcasecmp(raw, c->claimed_hash) != 0) {
        if (is_s3(req)) {
            emu_fail(resp, S3_CONTENT_SHA256_MISMATCH, NULL);
            emu_fail_extra(resp, "ClientComputedContentSHA256", c->claimed_hash);
            emu_fail_extra(resp, "S3ComputedContentSHA256", raw);
        } else {
            emu_fail(resp, AWS_SIGNATURE_DOES_NOT_MATCH, NULL);
        }
        return;
    }
    if (c->auth_deferred && emu_cfg.auth) {
        if (sigv4_verify(req, &c->auth, c->secret, raw) != 0) {
            if (is_json_family(req)) {
                emu_fail(resp, AWS_INVALID_SIGNATURE_EXCEPTION,
                         "The request signature we calculated does not match the signature you "
                         "provided. Check your AWS Secret Access Key and signing method. Consult "
                         "the service documentation for details.");
            } else {
                emu_fail(resp, AWS_SIGNATURE_DOES_NOT_MATCH, NULL);
            }
            return;
        }
        req->authenticated = 1;
    }
    const char *decoded = emu_header(req, "x-amz-decoded-content-length");
    if (decoded && req->upload) {
        char *end = NULL;
        unsigned long long want = strtoull(decoded, &end, 10);
        if (end == decoded || *end != 0 || want != req->upload->size) {
            emu_fail(resp, S3_INCOMPLETE_BODY, NULL);
            return;
        }
    }
    if (emu_parse_body(req, resp) != 0) {
        return;
    }
    if (!c->op_pending && !c->faulted) {
        compute_resource(req); /* again: some resources are in the body */
    }
    if (c->op_pending) {
        if (emu_route_op(req, resp, 1) != 1) {
            return;
        }
        if (require_signature(c) != 0) {
            return;
        }
        compute_resource(req);
        if (req->op->flags & EMU_OP_JSON) {
            if (emu_parse_body(req, resp) != 0) {
                return;
            }
        }
    }
    int f = apply_faults(c, conn);
    if (f != 0) {
        return;
    }
    emu_dispatch(req, resp);
}

static enum MHD_Result reply(struct conn_ctx *c, struct MHD_Connection *conn)
{
    struct emu_request *req = &c->req;
    struct emu_response *resp = &c->resp;
    c->phase = PH_REPLIED;
    if (c->fault.latency_ms > 0) {
        usleep((useconds_t)c->fault.latency_ms * 1000);
    }
    if (resp->drop_connection) {
        drop_connection(conn);
        return MHD_NO;
    }
    emu_render_error(req, resp);
    if (c->journal && req->svc) {
        emu_journal_record(req, resp, c->started, c->fault.rule_id[0] ? c->fault.rule_id : NULL);
    }
    struct MHD_Response *r;
    if (resp->body_fd >= 0) {
        r = MHD_create_response_from_fd_at_offset64(resp->body_len, resp->body_fd, resp->body_off);
        resp->body_fd = -1; /* MHD closes it */
    } else {
        size_t len = resp->body.len;
        char *data = emu_buf_take(&resp->body);
        r = MHD_create_response_from_buffer_with_free_callback(len, data, free);
    }
    if (r == NULL) {
        return MHD_NO;
    }
    for (size_t i = 0; i < resp->headers.n; i++) {
        if (strcasecmp(resp->headers.items[i].key, "Content-Length") == 0) {
            continue; /* MHD writes it from the body */
        }
        MHD_add_response_header(r, resp->headers.items[i].key, resp->headers.items[i].value);
    }
    if (!c->control && req->svc && strcmp(req->svc->name, "s3") == 0) {
        MHD_add_response_header(r, "x-amz-request-id", req->request_id);
        MHD_add_response_header(r, "x-amz-id-2", req->request_id);
    } else if (!c->control) {
        MHD_add_response_header(r, "x-amzn-RequestId", req->request_id);
    }
    if (!emu_kv_getci(&resp->headers, "Content-Type") && (resp->body_len || resp->body.len)) {
        MHD_add_response_header(r, "Content-Type", "application/octet-stream");
    }
    int status = resp->status > 0 ? resp->status : 500;
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)cls;
    (void)url;
    (void)version;
    struct conn_ctx *c = *con_cls;
    if (c == NULL) {
        return MHD_NO;
    }
    if (c->phase == PH_NEW) {
        c->phase = PH_BODY;
        begin(c, conn, method);
        if (c->decided) {
            if (c->faulted && c->resp.status == 0 && c->journal == 0) {
                return MHD_NO; /* reset / hang already carried out */
            }
            return reply(c, conn);
        }
        return MHD_YES;
    }
    if (c->phase == PH_REPLIED) {
        *upload_data_size = 0; /* draining after an early answer */
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!c->decided && emu_body_feed(c->body, upload_data, *upload_data_size) != 0) {
            /* keep draining; the error is answered at the end */
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    finish(c, conn);
    if (c->faulted && c->resp.status == 0 && c->journal == 0) {
        return MHD_NO;
    }
    return reply(c, conn);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct conn_ctx *c = *con_cls;
    if (c == NULL) {
        return;
    }
    emu_body_free(c->body);
    emu_request_release(&c->req);
    emu_response_release(&c->resp);
    free(c->raw_uri);
    free(c);
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    struct emu_buf b = {0};
    emu_buf_vprintf(&b, fmt, ap);
    while (b.len && (b.data[b.len - 1] == '\n')) {
        b.data[--b.len] = 0;
    }
    emu_log("debug", "http: %s", b.data ? b.data : "");
    emu_buf_release(&b);
}

/* Starts listening on emu_cfg.host:emu_cfg.port; updates emu_cfg.port with
 * the bound port. Returns 0 or -1. */
int emu_http_start(void)
{
    struct sockaddr_in6 a6;
    struct sockaddr_in a4;
    struct sockaddr *sa;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ERROR_LOG | MHD_USE_POLL | MHD_USE_ITC;
    memset(&a4, 0, sizeof(a4));
    memset(&a6, 0, sizeof(a6));
    if (inet_pton(AF_INET, emu_cfg.host, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons((uint16_t)emu_cfg.port);
        sa = (struct sockaddr *)&a4;
    } else if (inet_pton(AF_INET6, emu_cfg.host, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((uint16_t)emu_cfg.port);
        sa = (struct sockaddr *)&a6;
        flags |= MHD_USE_IPv6;
    } else if (strcmp(emu_cfg.host, "localhost") == 0) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons((uint16_t)emu_cfg.port);
        a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sa = (struct sockaddr *)&a4;
    } else {
        emu_error_log("http: --host must be an IP address, got %s", emu_cfg.host);
        return -1;
    }
    daemon_handle = MHD_start_daemon(
        flags, (uint16_t)emu_cfg.port, NULL, NULL, on_request, NULL, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_log, NULL, MHD_OPTION_SOCK_ADDR, sa,
        MHD_OPTION_URI_LOG_CALLBACK, uri_log, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
        NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)900, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)4096, MHD_OPTION_LISTEN_BACKLOG_SIZE,
        (unsigned)1024, MHD_OPTION_END);
    if (daemon_handle == NULL) {
        emu_error_log("http: cannot listen on %s:%d (%s)", emu_cfg.host, emu_cfg.port,
                      strerror(errno));
        return -1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(daemon_handle, MHD_DAEMON_INFO_BIND_PORT);
    if (di && di->port) {
        emu_cfg.port = di->port;
    }
    const char *h = strcmp(emu_cfg.host, "0.0.0.0") == 0 ? "127.0.0.1" : emu_cfg.host;
    if (strchr(h, ':')) {
        snprintf(base_url, sizeof(base_url), "http://[%s]:%d", h, emu_cfg.port);
    } else {
        snprintf(base_url, sizeof(base_url), "http://%s:%d", h, emu_cfg.port);
    }
    return 0;
}

int emu_stopping(void)
{
    return stopping;
}

/* Stops accepting new connections; requests in flight go on. */
void emu_http_quiesce(void)
{
    stopping = 1;
    if (daemon_handle) {
        MHD_quiesce_daemon(daemon_handle);
    }
}

/* Lets in-flight requests finish, closes connections. */
void emu_http_stop(void)
{
    stopping = 1;
    if (daemon_handle) {
        MHD_stop_daemon(daemon_handle);
        daemon_handle = NULL;
    }
}
