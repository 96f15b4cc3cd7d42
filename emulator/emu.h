/*
 * emu.h - the contract between greenroom's core and its services.
 *
 * The core (http.c, router.c, sigv4.c, store.c, journal.c, errors.c) owns
 * the HTTP connection, authentication, routing, the SQLite store, the call
 * journal and fault injection. A service (svc_<name>.c) owns its tables and
 * its handlers and nothing else: it sees a decoded, authenticated request
 * (struct emu_request) and fills a response (struct emu_response).
 *
 * Request lifecycle (details in the top comment of http.c):
 *   headers -> route (service, operation) -> authenticate (SigV4)
 *   -> fault rules -> body (accumulated with a cap, or streamed to a temp
 *   file for EMU_OP_STREAM) -> handler inside a store transaction
 *   -> error rendering in the service's protocol -> journal -> reply.
 *
 * Ownership: everything in a request is owned by the core and lives until
 * the handler returns. Strings put into a response are copied, except where
 * a function says it "takes" its argument.
 */
#ifndef EMU_H
#define EMU_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "greenroom.h"

#define EMU_VERSION "0.1.0"
#define EMU_DEFAULT_ACCOUNT GREENROOM_DEFAULT_ACCOUNT

/* ---------------------------------------------------------------- buffers */

/* A growable byte buffer, always NUL-terminated. Zero-initialise it, append,
 * then emu_buf_release() (or take ->data and own it). */
struct emu_buf {
    char *data;
    size_t len;
    size_t cap;
};

void emu_buf_append(struct emu_buf *b, const void *data, size_t len);
void emu_buf_puts(struct emu_buf *b, const char *s);
void emu_buf_printf(struct emu_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void emu_buf_vprintf(struct emu_buf *b, const char *fmt, va_list ap);
/* Append s with XML escaping (&, <, >, ", '). */
void emu_buf_xml_escape(struct emu_buf *b, const char *s);
/* Append <tag>escaped value</tag>; nothing when value is NULL. */
void emu_buf_xml_elem(struct emu_buf *b, const char *tag, const char *value);
/* Returns the data (caller owns) and resets the buffer. Never NULL. */
char *emu_buf_take(struct emu_buf *b);
void emu_buf_release(struct emu_buf *b);

/* ---------------------------------------------------------- key/value lists */

struct emu_kv {
    char *key;
    char *value;
};

/* An ordered list of owned key/value pairs (headers, query, form, params). */
struct emu_kvlist {
    struct emu_kv *items;
    size_t n;
    size_t cap;
};

void emu_kv_add(struct emu_kvlist *l, const char *key, const char *value);
void emu_kv_addn(struct emu_kvlist *l, const char *key, size_t klen, const char *value, size_t vlen);
/* Returns the first value for key (borrowed), or NULL. Case-sensitive. */
const char *emu_kv_get(const struct emu_kvlist *l, const char *key);
/* Same, comparing keys case-insensitively. */
const char *emu_kv_getci(const struct emu_kvlist *l, const char *key);
int emu_kv_has(const struct emu_kvlist *l, const char *key);
void emu_kv_set(struct emu_kvlist *l, const char *key, const char *value);
void emu_kv_release(struct emu_kvlist *l);

/* Percent-decodes s[0..len) into a new string (caller owns). plus_is_space
 * turns '+' into ' ' (form bodies). Returns NULL on malformed escapes. */
char *emu_url_decode(const char *s, size_t len, int plus_is_space);
/* Appends s percent-encoded as SigV4/RFC 3986 wants (unreserved kept);
 * keep_slash leaves '/' alone. */
void emu_buf_url_encode(struct emu_buf *b, const char *s, size_t len, int keep_slash);
/* Parses "a=1&b&c=3" into l (values decoded). Returns 0, -1 on bad escapes. */
int emu_parse_query(struct emu_kvlist *l, const char *s, size_t len, int plus_is_space);

/* Lower-case hex of d[0..n) into out, which holds 2n+1 bytes. */
void emu_hex(const unsigned char *d, size_t n, char *out);
/* Standard base64 (padded) of data: a new string, caller frees. */
char *emu_base64_encode(const void *data, size_t len);
/* Decodes standard padded base64 (no whitespace). Returns a new buffer
 * (NUL-terminated, caller frees) and its length in *outlen, or NULL when
 * the input is not base64. */
unsigned char *emu_base64_decode(const char *in, size_t *outlen);
/* CRC32C (Castagnoli) and CRC64/NVME of data, continued from crc (0 to
 * start; the result chains: f(f(0, a), b) is the CRC of a then b). */
uint32_t emu_crc32c(uint32_t crc, const void *data, size_t len);
uint64_t emu_crc64nvme(uint64_t crc, const void *data, size_t len);

/* ------------------------------------------------------------------ errors */

/* The catalogue lives in errors.def: one row per AWS error. */
enum emu_error {
#define AWS_ERROR(id, status, code, message) id,
#include "errors.def"
#undef AWS_ERROR
    AWS_ERROR_COUNT
};

struct emu_error_info {
    int status;
    const char *code;
    const char *message; /* default message, may contain one %s */
};

const struct emu_error_info *emu_error_info(enum emu_error e);

/* ---------------------------------------------------------------- services */

enum emu_protocol {
    EMU_PROTO_REST_XML,  /* S3 */
    EMU_PROTO_QUERY,     /* CloudFormation, IAM, STS, SNS, SQS (old clients) */
    EMU_PROTO_JSON,      /* X-Amz-Target services: Events, Logs, SQS (new) */
    EMU_PROTO_REST_JSON, /* Lambda, API Gateway */
};

struct emu_request;
struct emu_response;

typedef void emu_handler_fn(struct emu_request *req, struct emu_response *resp);

/* Operation flags: the dispatcher, not the handler, acts on these. */
#define EMU_OP_WRITE 0x01    /* runs in a write transaction (BEGIN IMMEDIATE) */
#define EMU_OP_NO_TXN 0x02   /* handler manages the store itself (long calls: Invoke) */
#define EMU_OP_STREAM 0x04   /* body streamed to a temp file: req->upload */
#define EMU_OP_NO_FAULT 0x08 /* never target of fault rules */
#define EMU_OP_JSON 0x10     /* body must be a JSON object: req->json (400 otherwise) */
#define EMU_OP_NO_AUTH 0x20  /* accepted without a signature */
#define EMU_OP_CRC64 0x40    /* streamed: also CRC64NVME while streaming (S3's default checksum) */

/* One row of a service's operation table.
 * REST protocols: method + path template; segments "{Name}" bind a path
 * parameter, "{Name+}" binds the rest of the path (greedy). "query" (may be
 * NULL) lists query keys that must be present, comma-separated.
 * Query/JSON protocols: only .name is used for matching (Action / Target). */
struct emu_op {
    const char *name; /* AWS action name, e.g. "PutObject" */
    const char *method;
    const char *path;
    const char *query;
    emu_handler_fn *handler;
    unsigned flags;
};

struct emu_service {
    const char *name;          /* signing name: "s3", "lambda", ... */
    const char *display;       /* for health: "s3", "lambda", ... */
    enum emu_protocol protocol;
    const char *target_prefix; /* JSON protocol: X-Amz-Target prefix, e.g. "AWSEvents" */
    const char *xmlns;         /* query protocol: response namespace */
    const struct emu_op *ops;
    size_t nops;
    /* Schema migrations, applied in order, once each, at start (may be NULL). */
    const char *const *schema;
    size_t nschema;
    /* Optional: resolve the operation when the table cannot (S3). Returns the
     * op or NULL (unknown operation). May fill req->params. */
    const struct emu_op *(*route)(struct emu_request *req);
    /* Optional: the resource a call touches, for the journal and fault
     * matching ("bucket/key", "function:qualifier", "stack", "api/stage").
     * Called after routing, before authentication and the body. */
    void (*resource)(struct emu_request *req, struct emu_buf *out);
    /* Optional: claim an unsigned data-plane request before normal routing
     * (API Gateway stage URLs, the Lambda Runtime API). Returns the op to run
     * or NULL. */
    const struct emu_op *(*claim)(struct emu_request *req);
    /* Optional: start background work (after the store is open) and stop it. */
    int (*start)(void);
    void (*stop)(void);
    /* Optional: forget in-memory state after a reset or snapshot restore. */
    void (*reload)(void);
};

/* The registry (services.c): every service greenroom serves. */
size_t emu_services_init(void);
size_t emu_services_count(void);
const struct emu_service *emu_service_at(size_t i); /* NULL past the end */
const struct emu_service *emu_service_find(const char *name);

/* ----------------------------------------------------------------- requests */

/* A body streamed to disk (EMU_OP_STREAM). The service adopts the file with
 * rename() (then sets path[0] = 0) or leaves it for the core to unlink. */
struct emu_upload {
    char path[512];
    uint64_t size;
    unsigned char md5[16];
    unsigned char sha256[32];
    unsigned char sha1[20];
    uint32_t crc32;
    uint32_t crc32c;
    uint64_t crc64nvme;
    int has_crc64nvme; /* crc64nvme was computed (a header named it, or EMU_OP_CRC64) */
    /* trailers of an aws-chunked body ("x-amz-checksum-crc32" -> value) */
    struct emu_kvlist trailers;
    /* the core already fsynced the file (outside the store lock, so
     * concurrent uploads sync in parallel); the service only renames it */
    int synced;
};

struct emu_request {
    /* identity, filled by the router */
    char account[16];
    char region[32];
    char access_key[128];
    const struct emu_service *svc;
    const struct emu_op *op;
    char request_id[40];
    uint64_t seq;     /* journal sequence number (0 for internal calls) */
    int internal;     /* made by another service, not by a client */
    int authenticated; /* a valid signature was checked */

    /* HTTP, decoded */
    const char *method;
    char *path;               /* raw path as received (percent-encoded), no query */
    char *query_string;       /* raw query string, may be "" */
    char *host;               /* Host header, may be "" */
    struct emu_kvlist query;  /* decoded query parameters, in order */
    struct emu_kvlist headers; /* names lower-cased */
    struct emu_kvlist headers_sent; /* the same, names as the client sent them */
    struct emu_kvlist params; /* path parameters from the op's template, decoded */
    struct emu_kvlist form;   /* query protocol: decoded form body (Action, ...) */

    /* body: accumulated (NUL-terminated, aws-chunked framing removed) */
    char *body;
    size_t body_len;
    cJSON *json;               /* EMU_OP_JSON, or any JSON-protocol body: parsed */
    struct emu_upload *upload; /* EMU_OP_STREAM only */

    char resource[1024];       /* what the service's resource hook said */
    void *svc_data;            /* free for the service during one call */
};

const char *emu_header(const struct emu_request *req, const char *lower_name);
const char *emu_query(const struct emu_request *req, const char *name);
const char *emu_param(const struct emu_request *req, const char *name);
/* Query protocol parameter ("StackName", "Parameters.member.1.ParameterKey"). */
const char *emu_form(const struct emu_request *req, const char *name);

/* ---------------------------------------------------------------- responses */

struct emu_response {
    int status;
    struct emu_kvlist headers;
    struct emu_buf body;
    int body_fd;        /* >= 0: reply with this file range instead of body (taken) */
    uint64_t body_off;
    uint64_t body_len;

    /* set by emu_fail; rendered by the core in the service's protocol */
    int failed;
    enum emu_error error;
    char error_code[96]; /* the AWS code (may be overridden, e.g. by faults) */
    char *error_message;
    struct emu_kvlist error_extra; /* extra <Error> children (S3: BucketName, Key) */

    /* fault actions the dispatcher must carry out */
    int drop_connection;
};

void emu_resp_header(struct emu_response *resp, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets status and a JSON body; takes doc (deletes it). */
void emu_resp_json(struct emu_response *resp, int status, cJSON *doc);
/* Sets status and the body from a buffer (copied) with a content type. */
void emu_resp_body(struct emu_response *resp, int status, const char *content_type,
                   const void *data, size_t len);
/* Query protocol success: <ActionResponse xmlns><ActionResult>inner
 * </ActionResult><ResponseMetadata><RequestId/></ResponseMetadata></...>.
 * inner may be NULL (empty result). */
void emu_resp_query(struct emu_request *req, struct emu_response *resp, const char *inner);
/* rest-xml success: <?xml ...?> then xml, status 200, application/xml. */
void emu_resp_xml(struct emu_response *resp, int status, const char *xml);

/* Records an AWS error; the core renders it in the service's protocol.
 * fmt (may be NULL for the catalogue's default message) is printf-style. */
void emu_fail(struct emu_response *resp, enum emu_error e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same with an explicit status and code (fault rules, pass-through errors). */
void emu_fail_raw(struct emu_response *resp, int status, const char *code, const char *message);
/* Adds an element to the error body (rest-xml/query only). */
void emu_fail_extra(struct emu_response *resp, const char *name, const char *value);

/* -------------------------------------------------------------------- store */

/* The store owns the SQLite connection. Every handler runs with the store
 * locked and a transaction open (unless EMU_OP_NO_TXN); code outside a
 * handler (background threads, EMU_OP_NO_TXN handlers) brackets its work
 * with emu_store_begin/emu_store_commit. */
sqlite3 *emu_db(void);
/* Locks the store and begins a transaction (write: BEGIN IMMEDIATE).
 * Nests: an inner begin/commit pair inside an open transaction is a no-op. */
int emu_store_begin(int write);
/* Commits (or rolls back when ok == 0) and unlocks. Returns 0 on success. */
int emu_store_end(int ok);
/* A cached prepared statement for a static SQL string; only valid while the
 * store is locked. Return it with emu_stmt_done (resets, clears bindings).
 * Returns NULL (and logs) on an SQL error. */
sqlite3_stmt *emu_stmt(const char *sql);
void emu_stmt_done(sqlite3_stmt *st);
/* Convenience: column text copied (caller owns), "" for NULL. */
char *emu_col_dup(sqlite3_stmt *st, int col);
/* Directories under the state dir (exist after start). */
const char *emu_state_dir(void);
const char *emu_objects_dir(void); /* immutable blob files (S3 bodies, zips) */
const char *emu_tmp_dir(void);     /* scratch, same filesystem as objects */
/* A fresh random id: hex (n chars) or alnum for resource names. */
void emu_random_hex(char *out, size_t n);
void emu_random_alnum(char *out, size_t n, int lower);
void emu_uuid(char out[37]);
/* Timestamps. ISO-8601 with milliseconds (…T…Z), RFC 1123, epoch seconds. */
void emu_time_iso(char out[32], double t);
void emu_time_rfc1123(char out[40], double t);
double emu_now(void);

/* ----------------------------------------------------------- internal calls */

/* One service calling another through its public API, in-process: no auth,
 * no fault rules, no journal entry unless journal = 1. The request is routed
 * exactly like a client's. */
struct emu_call {
    const char *account;
    const char *region;
    const char *service;
    const char *method;
    const char *path;   /* may include "?query" */
    const char *target; /* X-Amz-Target for JSON services, or NULL */
    const struct emu_kv *headers;
    size_t nheaders;
    const char *body;
    size_t body_len;
    int journal;
};

/* Runs the call; resp must be initialised with emu_response_init and
 * released with emu_response_release. Returns resp->status. */
int emu_call_internal(const struct emu_call *call, struct emu_response *resp);
void emu_response_init(struct emu_response *resp);
void emu_response_release(struct emu_response *resp);

/* ----------------------------------------------------------------- settings */

struct emu_config {
    char host[64];
    int port;          /* the port actually bound */
    int auth;          /* verify SigV4 */
    int ephemeral;
    int log_json;
    size_t max_body;   /* cap for accumulated bodies */
};
extern struct emu_config emu_cfg;

/* Base URL clients reach greenroom at: "http://127.0.0.1:4566". */
const char *emu_base_url(void);
/* Non-zero once greenroom is shutting down: long waits (runtime long polls,
 * hangs) should end. */
int emu_stopping(void);

/* Logging: one consistent voice; json when --log-format json. */
void emu_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define emu_info(...) emu_log("info", __VA_ARGS__)
#define emu_warn(...) emu_log("warn", __VA_ARGS__)
#define emu_error_log(...) emu_log("error", __VA_ARGS__)

/* --------------------------------------------------------------- accounts */

/* Secret and account for an access key; returns 0, or -1 when unknown. */
int emu_account_lookup(const char *access_key, char *secret, size_t slen, char *account,
                       size_t alen);
/* For a request signed with temporary credentials (STS): checks its session
 * token (x-amz-security-token header or X-Amz-Security-Token query). Returns
 * 0 when the key is long-term or the token matches and is current, else -1
 * with resp failed in the protocol's words (invalid or expired token). */
int emu_session_check(const struct emu_request *req, struct emu_response *resp);
/* The same check for a token found elsewhere (given may be NULL: absent),
 * e.g. an S3 POST form's x-amz-security-token field; s3/json pick the
 * protocol's error words. Returns 0 or -1 with resp failed. */
int emu_session_token_check(const char *key, const char *given, int s3, int json,
                            struct emu_response *resp);

#endif
