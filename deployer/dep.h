/*
 * dep.h - the deployer's (stagehand's) internal contract.
 *
 * Who owns what:
 *   - issue 8 (v0.5 flow): main.c (command table, option parsing), dep.h,
 *     transport.c (the ONLY file that talks HTTP: libcurl + SigV4, retries,
 *     AWS error parsing), project.c (v0.5 project files, population,
 *     naming), package.c (deterministic zips), aws_*.c (one wrapper per AWS
 *     call), cmd_*.c (the v0.5 commands: their steps), output.c (progress,
 *     plain lines, --output json, summary).
 *   - issues 9/10 (transaction + rehearsal): txn_*.c (cmd_deploy,
 *     cmd_recover, cmd_status, cmd_diff, cmd_rollback) and rehearse.c
 *     (cmd_rehearse). main.c holds WEAK defaults of those six that print
 *     "not implemented" and exit DEP_EXIT_USAGE, compiled only while
 *     txn.h/rehearse.h are absent: a weak definition in main.o would stop
 *     the linker from pulling the strong one out of the libdep archive
 *     (unless stagehand linked libdep with link_whole).
 *
 * Stability: this header only grows. Existing declarations keep their
 * meaning and signature.
 *
 * Conventions: functions returning int return 0 on success and -1 on
 * failure with *err filled (struct dep_err), unless they say they return
 * an exit code (DEP_EXIT_*). "_new"/"_dup" results are owned by the caller;
 * cJSON trees returned are owned by the caller (cJSON_Delete); "_get"
 * results are borrowed. Every call may be made from any thread: transport
 * keeps one CURL handle per thread; output is serialised internally.
 */
#ifndef DEP_H
#define DEP_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define DEP_VERSION "0.1.0"

/* ------------------------------------------------------------ exit codes */

/* The documented exit codes of stagehand (also in `stagehand --help`). */
enum dep_exit {
    DEP_EXIT_OK = 0,    /* everything done (or nothing to do, e.g. ci on a feature branch) */
    DEP_EXIT_FAIL = 1,  /* a step failed: AWS error, provisioning failure, local I/O */
    DEP_EXIT_USAGE = 2, /* bad command line, unknown command, not implemented */
    DEP_EXIT_PROJECT =
        3, /* invalid project: bad JSON, missing fields, undefined variables with --strict */
    DEP_EXIT_PARTIAL = 4,   /* some items (functions, events, endpoints) failed, others succeeded */
    DEP_EXIT_TRANSPORT = 5, /* no credentials, endpoint unreachable after all retries */
    DEP_EXIT_CONFLICT = 6, /* stage locked by someone else, meta write conflict (If-Match failed) */
    DEP_EXIT_ROLLED_BACK =
        7, /* deploy failed and was compensated: the stage is back to its old state */
    DEP_EXIT_INVARIANT = 8, /* rehearse found an invariant violation */
    DEP_EXIT_HARNESS = 9,   /* rehearse's own infrastructure failed a case, no violation */
};

/* ------------------------------------------------------------- errors */

/* One error type for everything: AWS errors (any protocol), transport
 * errors (curl), local errors (files, JSON, population). */
struct dep_err {
    int kind;             /* enum dep_err_kind */
    long http_status;     /* HTTP status of the last response, 0 if none */
    int curl_code;        /* CURLcode of the last attempt, 0 if a response arrived */
    int attempts;         /* attempts made by the transport */
    char service[32];     /* signing name of the failing call, "" for local errors */
    char operation[64];   /* AWS action, e.g. "UpdateStack" */
    char resource[256];   /* what the call was about (function, stack, bucket/key), may be "" */
    char code[128];       /* AWS error code, e.g. "ResourceConflictException", or a local code */
    char message[1024];   /* AWS error message or local explanation */
    char request_id[128]; /* x-amzn-RequestId / x-amz-request-id when present */
};

enum dep_err_kind {
    DEP_ERR_NONE = 0,
    DEP_ERR_AWS,       /* the service answered with an error */
    DEP_ERR_TRANSPORT, /* no usable answer (connection, timeout, bad response) */
    DEP_ERR_LOCAL,     /* file, JSON, project, usage */
};

/* Clear *err (kind DEP_ERR_NONE). */
void dep_err_clear(struct dep_err *err);
/* Set a local error: code is a short token ("InvalidJSON", "MissingFile",
 * "UndefinedVariable", ...), message printf-formatted. */
void dep_err_local(struct dep_err *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes a one-line human description ("lambda UpdateAlias books-get: 409
 * ResourceConflictException: ...") into buf; returns buf. */
const char *dep_err_str(const struct dep_err *err, char *buf, size_t n);
/* Returns 1 when err is an AWS error with this code (exact match). */
int dep_err_is(const struct dep_err *err, const char *code);
/* Maps an error to an exit code (TRANSPORT -> DEP_EXIT_TRANSPORT,
 * PreconditionFailed/ConditionalRequestConflict -> DEP_EXIT_CONFLICT, local
 * project errors -> DEP_EXIT_PROJECT, else DEP_EXIT_FAIL). */
int dep_err_exit(const struct dep_err *err);

/* ------------------------------------------------------------ buffers */

/* A growable byte buffer, always NUL-terminated once anything was added.
 * Zero-initialise; dep_buf_release frees. */
struct dep_buf {
    char *data;
    size_t len;
    size_t cap;
};

void dep_buf_append(struct dep_buf *b, const void *data, size_t len);
void dep_buf_puts(struct dep_buf *b, const char *s);
void dep_buf_printf(struct dep_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dep_buf_xml_escape(struct dep_buf *b, const char *s);
/* Returns the data (caller owns, never NULL) and resets the buffer. */
char *dep_buf_take(struct dep_buf *b);
void dep_buf_release(struct dep_buf *b);

/* Percent-encode s (RFC 3986 unreserved kept). keep_slash keeps '/'.
 * Returns a new string (caller owns). */
char *dep_urlencode(const char *s, int keep_slash);

/* ---------------------------------------------------------- transport */

/* Wire protocol of a call: decides how errors are parsed. */
enum dep_proto {
    DEP_PROTO_REST_XML,  /* s3 */
    DEP_PROTO_QUERY,     /* cloudformation, sns, iam, sts, sqs (XML answers) */
    DEP_PROTO_JSON,      /* events (X-Amz-Target) */
    DEP_PROTO_REST_JSON, /* lambda, apigateway, iot */
};

/* Credentials as resolved by dep_transport_init (v0.5 chain). */
struct dep_creds {
    char access_key[128];
    char secret_key[256];
    char session_token[4096];
    char source[128]; /* where they came from, e.g. "env AWS_DEV_" or "profile ci" */
};

/* One HTTP request. All strings are borrowed for the duration of the call. */
struct dep_http_req {
    const char
        *service; /* signing name: s3 lambda apigateway cloudformation sns events iam sts iot */
    const char *region;    /* signing region (and endpoint region) */
    const char *operation; /* AWS action name, for errors/progress */
    const char *resource;  /* for errors, may be NULL */
    enum dep_proto proto;
    const char *method; /* GET PUT POST DELETE HEAD PATCH */
    const char
        *path; /* percent-encoded path starting with '/'; for s3 "/bucket/key" (path style) */
    const char *query;        /* percent-encoded query without '?', or NULL */
    const char *content_type; /* Content-Type or NULL */
    const char *target;       /* X-Amz-Target or NULL */
    const void *body;         /* request body or NULL */
    size_t body_len;
    const char *if_match;       /* If-Match header value or NULL */
    const char *if_none_match;  /* If-None-Match header value or NULL ("*" for create-only) */
    const char *const *headers; /* extra "Name: value" strings, NULL-terminated, or NULL */
    const char *progress_label; /* non-NULL: upload bytes are reported to output under this label */
    int no_retry;               /* 1: a single attempt */
    long timeout_ms;            /* per-attempt timeout; 0: STAGEHAND_CALL_TIMEOUT or default 60 s */
};

/* One HTTP response; body and headers are owned, dep_http_resp_release frees. */
struct dep_http_resp {
    long status;
    char *body; /* NUL-terminated (empty string when no body), never NULL after a call */
    size_t body_len;
    char *headers; /* raw "Name: value\r\n" lines of the final response */
};

/* Resolve endpoints and credentials. endpoint_url: --endpoint-url or NULL.
 * stage: for the AWS_<STAGE>_ credential prefixes, may be NULL. Returns 0,
 * or -1 with err (no credentials anywhere). Call once, before threads. */
int dep_transport_init(const char *endpoint_url, const char *stage, struct dep_err *err);
/* Re-resolve credentials for another stage (ci, multi-stage tools). */
int dep_transport_set_stage(const char *stage, struct dep_err *err);
/* Borrowed pointer to the active credentials. */
const struct dep_creds *dep_transport_creds(void);
/* Base URL for a service in a region, without trailing slash: --endpoint-url,
 * AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, else https://<svc>.<region>.amazonaws.com
 * (s3: https://s3.<region>.amazonaws.com; global iam). Writes into buf, returns buf. */
const char *dep_endpoint(const char *service, const char *region, char *buf, size_t n);
/* 1 when a custom endpoint is in use (greenroom), 0 for real AWS. */
int dep_transport_is_custom(void);
/* The integer environment variable name when set and within [min, max],
 * else def (the STAGEHAND_* knobs). */
long dep_env_long(const char *name, long def, long min, long max);
/* Label upload progress of this thread's calls that have a body (NULL
 * stops); the label is copied. Used around CreateFunction/UpdateFunctionCode. */
void dep_transport_set_progress_label(const char *label);
/* Free the calling thread's CURL handle (threads call it before exiting). */
void dep_transport_thread_cleanup(void);
void dep_transport_cleanup(void);

/* Send a request, retrying throttling (Throttling, ThrottlingException,
 * TooManyRequestsException, SlowDown, RequestLimitExceeded, 429), 5xx and
 * connection errors with capped exponential backoff + full jitter, honouring
 * Retry-After; bounded by STAGEHAND_MAX_ATTEMPTS (default 6) and
 * STAGEHAND_RETRY_BUDGET_MS (total, default 120000). Returns 0 on 2xx;
 * -1 otherwise with *err filled (AWS error parsed per req->proto) - resp still
 * holds the last response (status 304/404/412 can be inspected).
 * resp must be zero-initialised; release it with dep_http_resp_release. */
int dep_http_call(const struct dep_http_req *req, struct dep_http_resp *resp, struct dep_err *err);
void dep_http_resp_release(struct dep_http_resp *resp);
/* Copy the value of response header name (case-insensitive) into buf;
 * returns buf, or NULL when absent. */
const char *dep_http_resp_header(const struct dep_http_resp *resp, const char *name, char *buf,
                                 size_t n);
/* Parse an AWS error body of the given protocol into err (code, message,
 * request id). headers may be NULL. Exposed for tests. */
void dep_parse_aws_error(enum dep_proto proto, long status, const char *headers, const char *body,
                         size_t body_len, struct dep_err *err);

/* Convenience wrappers over dep_http_call. */

/* rest-json call (lambda, apigateway, iot): body may be NULL (no body);
 * *out (may be NULL to ignore) gets the parsed answer ({} when empty). */
int dep_rest_json(const char *service, const char *region, const char *operation,
                  const char *resource, const char *method, const char *path, const char *query,
                  const cJSON *body, cJSON **out, struct dep_err *err);
/* json (X-Amz-Target) call, e.g. events: target "AWSEvents.PutRule". */
int dep_json_target(const char *service, const char *region, const char *target,
                    const char *resource, const cJSON *body, cJSON **out, struct dep_err *err);
/* query call (cloudformation, sns, iam, sts): form is "Action=X&Version=Y&..."
 * already encoded; *out gets the answer converted with dep_xml_to_json. */
int dep_query(const char *service, const char *region, const char *action, const char *resource,
              const char *form, cJSON **out, struct dep_err *err);

/* XML -> cJSON (expat): an element with children becomes an object, a leaf
 * its text (string); repeated siblings and <member> lists become arrays
 * (a <member>-only element becomes an array). The root element is the top
 * object's single key. Returns a new tree or NULL on bad XML. */
cJSON *dep_xml_to_json(const char *xml, size_t len);

/* ----------------------------------------------------------- project */

struct dep_endpoint {
    char *path;   /* populated path (no leading '/') */
    char *method; /* upper-cased */
    char *type;   /* AWS | HTTP | MOCK */
    cJSON *json;  /* populated endpoint object with v0.5 defaults applied (owned by the function) */
};

struct dep_event {
    char *name;
    char *type;    /* lower-cased: schedule s3 sns dynamodbstream kinesisstream iot */
    cJSON *config; /* borrowed from json */
    cJSON *json;   /* populated event object (owned by the function) */
};

struct dep_function {
    char *name;        /* s-function.json "name" */
    char *dir;         /* absolute folder holding s-function.json */
    char *rel_dir;     /* that folder relative to the project root ("src/books/get") */
    char *lambda_name; /* P-F, or populated customName */
    char *runtime;
    char *handler;    /* as written: "handler.handler" or "dir/file.export" */
    cJSON *raw;       /* s-function.json as read */
    cJSON *templates; /* merged s-templates chain for this function */
    cJSON *json;      /* populated function (NULL until dep_project_populate) */
    struct dep_endpoint *endpoints;
    int n_endpoints;
    struct dep_event *events;
    int n_events;
};

struct dep_project {
    char *root;                     /* absolute project root */
    char *name;                     /* s-project.json name */
    cJSON *raw;                     /* s-project.json as read */
    cJSON *json;                    /* populated s-project.json (after dep_project_populate) */
    cJSON *templates;               /* project-level s-templates.json ({} if absent) */
    cJSON *resources_raw;           /* s-resources-cf.json as read (v0.5's default if absent) */
    int resources_default;          /* no s-resources-cf.json/.yaml/.yml: resources_raw is the default */
    cJSON *resources;               /* populated template (after dep_project_populate) */
    struct dep_function *functions; /* sorted by rel_dir */
    int n_functions;
    /* variables (after dep_project_load_vars) */
    char *stage;
    char *region;
    cJSON *vars_common;
    cJSON *vars_stage;
    cJSON *vars_region;
    /* population diagnostics: array of strings, "file: WARNING: ..." */
    cJSON *warnings;
};

/* Load s-project.json, s-templates.json, s-resources-cf.json and every
 * s-function.json under root (recursive, skipping _meta, node_modules and
 * dot folders). Invalid JSON -> err LOCAL "InvalidJSON" with
 * "file:line:column: expected ...". Returns 0 or -1. Release with
 * dep_project_release even on failure. */
int dep_project_load(const char *root, struct dep_project *p, struct dep_err *err);
/* Load _meta/variables for stage (+region when non-NULL). Missing files are
 * an error ("MissingStage"/"MissingRegion") unless allow_missing. */
int dep_project_load_vars(struct dep_project *p, const char *stage, const char *region,
                          int allow_missing, struct dep_err *err);
/* merge(common, stage, region): returns a new object. */
cJSON *dep_project_vars(const struct dep_project *p);
/* Populate s-project.json, resources, functions, endpoints, events for the
 * loaded stage/region. Undefined templates/variables are collected in
 * p->warnings; with strict they make it fail with "UndefinedVariable". */
int dep_project_populate(struct dep_project *p, int strict, struct dep_err *err);
/* Find a function by s-function.json name; borrowed, NULL if none. */
struct dep_function *dep_project_function(struct dep_project *p, const char *name);
/* Set one variable in the region (or stage when region_file is 0) layer. */
void dep_project_set_var(struct dep_project *p, int region_file, const char *key,
                         cJSON *value_take);
/* Write _meta/variables/s-variables-<stage>[-<rc>].json (pretty, 2 spaces). */
int dep_project_save_vars(struct dep_project *p, int region_file, struct dep_err *err);
/* Path of a variables file into buf: which 0 common, 1 stage, 2 region. */
const char *dep_project_vars_path(const struct dep_project *p, int which, char *buf, size_t n);
void dep_project_release(struct dep_project *p);

/* Parse a JSON file; on error err gets "file:line:column: expected ..."
 * (LOCAL InvalidJSON or MissingFile). Returns a new tree or NULL. */
cJSON *dep_json_load_file(const char *path, struct dep_err *err);
/* Write a cJSON tree pretty-printed with 2-space indents + newline. */
int dep_json_save_file(const char *path, const cJSON *json, struct dep_err *err);
/* Line and column (1-based) of byte offset off in text. */
void dep_text_line_col(const char *text, size_t off, int *line, int *col);

/* v0.5 population (utils.populate). Returns a new tree: pass 1 replaces
 * any string holding $${name} entirely by templates[name]; pass 2 splices
 * ${name} from vars (reserved names name/functionName/endpointName/eventName
 * come from the object being populated, owner, when non-NULL). Undefined
 * names append "WARNING: ..." strings to warnings (may be NULL). */
cJSON *dep_populate(const cJSON *value, const cJSON *templates, const cJSON *vars,
                    const cJSON *owner, cJSON *warnings);
/* lodash-style deep merge of src into dst (objects merge, others replace). */
void dep_json_merge(cJSON *dst, const cJSON *src);

/* --------------------------------------------------------------- naming */

/* "us-east-1" -> "useast1" into buf; returns buf. */
const char *dep_region_code(const char *region, char *buf, size_t n);
/* 1 if stage matches ^[a-zA-Z0-9]+$. */
int dep_stage_valid(const char *stage);
/* 1 if project name matches ^[a-zA-Z0-9-]+$. */
int dep_project_name_valid(const char *name);
/* Stack name: var resourcesStackName, else P-S-r. */
const char *dep_stack_name(const struct dep_project *p, char *buf, size_t n);
/* REST API name: var apiGatewayApi, else P. */
const char *dep_rest_api_name(const struct dep_project *p, char *buf, size_t n);
/* Endpoint statement id: "s_apig" + path + "_" + METHOD, "/{}." -> "_"
 * (path "books" -> "s_apig_books_GET"; a leading '/' is added to path). */
const char *dep_sid_endpoint(const char *path, const char *method, char *buf, size_t n);
/* "s_apig_auth_P-F" (lambda_name = P-F). */
const char *dep_sid_authorizer(const char *lambda_name, char *buf, size_t n);
/* "sEvents-P-F-<event>-S" (sns, s3, iot). */
const char *dep_sid_event(const char *lambda_name, const char *event, const char *stage, char *buf,
                          size_t n);
/* Schedule rule "P-F-<event>-S" and "s_events_<rule>_S". Over 64 characters
 * (CloudWatch Events' limit) the rule keeps "-S" and is shortened to
 * "<prefix>-<8 hex of a hash of the full name>-S", 64 characters. */
const char *dep_schedule_rule_name(const char *lambda_name, const char *event, const char *stage,
                                   char *buf, size_t n);
const char *dep_sid_schedule(const char *rule, const char *stage, char *buf, size_t n);
/* Account id: var accountId, else parsed from iamRoleArnLambda, else
 * STS GetCallerIdentity (cached). */
const char *dep_account_id(const struct dep_project *p, char *buf, size_t n, struct dep_err *err);
/* arn:aws:lambda:R:ACCT:function:NAME[:QUALIFIER] */
const char *dep_lambda_arn(const char *region, const char *account, const char *fn,
                           const char *qualifier, char *buf, size_t n);
/* Stage URL: custom endpoint -> BASE/restapis/ID/STAGE/_user_request_,
 * else https://ID.execute-api.R.amazonaws.com/STAGE. */
const char *dep_stage_url(const char *api_id, const char *region, const char *stage, char *buf,
                          size_t n);

/* --------------------------------------------------------------- packaging */

struct dep_zip {
    unsigned char *data; /* owned */
    size_t len;
    char handler[512];   /* Lambda Handler: "<dir>/_serverless_handler.handler" or
                            "_serverless_handler.handler" */
    char sha256_b64[64]; /* base64(sha256(zip)) as Lambda's CodeSha256 */
    int n_entries;
};

/* Zip function f (populated) for the project's stage/region: the files of
 * its package root (the function folder, moved up by the handler's
 * directory part), minus _meta, admin.env, .env and custom.excludePatterns
 * (regexes on the path relative to the package root), plus the generated
 * _serverless_handler.js. Deterministic: sorted entries, fixed time
 * (1980-01-01), fixed attributes (0644), deflate. */
int dep_package_function(const struct dep_project *p, const struct dep_function *f,
                         struct dep_zip *zip, struct dep_err *err);
void dep_zip_release(struct dep_zip *zip);
/* base64 of sha256 of data, into out (>= 45 bytes). */
void dep_sha256_b64(const void *data, size_t len, char *out, size_t n);
/* base64 encode: new string (caller owns). */
char *dep_base64(const void *data, size_t len);

/* ----------------------------------------------------- options/context */

enum dep_output_mode {
    DEP_OUT_TTY = 0, /* a person at a terminal: progress lines redrawn */
    DEP_OUT_PLAIN,   /* not a tty or CI=true: one line per event */
    DEP_OUT_JSON,    /* --output json: one JSON document on stdout at the end */
};

/* Parsed command line. main.c fills it; commands read it. */
struct dep_opts {
    const char *stage;               /* -s/--stage */
    const char *region;              /* -r/--region */
    int all;                         /* -a/--all */
    int no_exec_cf;                  /* -c/--noExeCf (project init) */
    const char *alias;               /* -f/--alias (function deploy alias override) */
    int alias_endpoint;              /* -e/--aliasEndpoint (endpoint deploy: literal alias) */
    const char *alias_endpoint_name; /* value given to -e, or NULL */
    const char *description;         /* -d/--description */
    const char *version;             /* -v/--version for function rollback */
    const char *endpoint_url;        /* --endpoint-url */
    const char *project_dir;         /* -p/--project-dir, default "." */
    int strict;                      /* --strict */
    int output;                      /* enum dep_output_mode */
    int dry_run;                     /* --dry-run (diff/rehearse may use) */
    int yes;                         /* -y/--yes */
    int names_n;                     /* positional arguments (function names for v0.5 commands) */
    const char **names;
    int rest_n; /* unknown options, in order, for commands flagged DEP_CMD_OWN_FLAGS */
    const char **rest;
};

/* Everything a command needs, built by main.c (or by cmd_ci/txn). */
struct dep_ctx {
    struct dep_opts *opts;
    struct dep_project project; /* loaded for the commands flagged DEP_CMD_PROJECT */
    const char *command;        /* "function deploy" */
    char stage[64];             /* effective stage (opts or ci) */
    char region[64];            /* effective region */
    char account[32];           /* filled lazily by dep_ctx_account */
};

/* Load project (root opts->project_dir), vars for ctx->stage/region, populate.
 * Returns an exit code (DEP_EXIT_OK or DEP_EXIT_PROJECT ...), output reported. */
int dep_ctx_load_project(struct dep_ctx *c, int allow_missing_vars);
/* Account id (cached in c->account). NULL on failure with err. */
const char *dep_ctx_account(struct dep_ctx *c, struct dep_err *err);

/* ------------------------------------------------------------- output */

/* Initialise output (mode from opts: --output json, else tty unless
 * CI=true or stdout is not a terminal). command: "function deploy". */
void dep_out_init(int mode, const char *command);
int dep_out_mode(void);
/* A step starts/ends ("resources deploy"). status: "ok", "failed", "skipped". */
void dep_out_step(const char *step);
void dep_out_step_done(const char *step, const char *status);
/* Per-item status: kind "function"/"event"/"endpoint"/"stack"/"meta"/"alias",
 * status "ok" "unchanged" "failed" "created" "updated"..., detail may be NULL. */
void dep_out_item(const char *kind, const char *name, const char *status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Upload progress (called by transport from the curl progress callback). */
void dep_out_bytes(const char *label, uint64_t sent, uint64_t total);
void dep_out_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void dep_out_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Report a failure naming the step, the call and the AWS error. */
void dep_out_error(const char *step, const struct dep_err *err);
void dep_out_errorf(const char *step, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record a stage URL for the summary. */
void dep_out_url(const char *stage, const char *region, const char *url);
/* Attach a key/value to the JSON document's "result" object (takes value). */
void dep_out_result(const char *key, cJSON *value_take);
/* Print the summary (or the JSON document) for exit code code; returns code. */
int dep_out_finish(int code);

/* ------------------------------------------------------- AWS wrappers */
/* Each wrapper is one AWS call. They return 0 or -1 with err; *out, when
 * present, receives the parsed answer (caller owns). region is the call's
 * region. Files: aws_s3.c aws_lambda.c aws_apigateway.c aws_cloudformation.c
 * aws_sns.c aws_events.c aws_sts.c aws_iot.c. */

/* S3 (path style; conditional headers). etag_out (>= 128 bytes) may be NULL. */
int dep_s3_get_object(const char *region, const char *bucket, const char *key,
                      const char *if_none_match, struct dep_buf *body, char *etag_out,
                      struct dep_err *err);
int dep_s3_put_object(const char *region, const char *bucket, const char *key, const void *data,
                      size_t len, const char *content_type, const char *if_match,
                      const char *if_none_match, char *etag_out, struct dep_err *err);
int dep_s3_delete_object(const char *region, const char *bucket, const char *key,
                         const char *if_match, struct dep_err *err);
int dep_s3_head_object(const char *region, const char *bucket, const char *key, char *etag_out,
                       struct dep_err *err);
int dep_s3_create_bucket(const char *region, const char *bucket, struct dep_err *err);
int dep_s3_head_bucket(const char *region, const char *bucket, struct dep_err *err);
/* ListObjectsV2 with prefix: *out is the ListBucketResult object. */
int dep_s3_list_objects(const char *region, const char *bucket, const char *prefix, cJSON **out,
                        struct dep_err *err);
/* Notification configuration as XML->JSON ({"NotificationConfiguration":...}). */
int dep_s3_get_bucket_notification(const char *region, const char *bucket, cJSON **out,
                                   struct dep_err *err);
/* Puts the whole configuration given as raw XML. */
int dep_s3_put_bucket_notification(const char *region, const char *bucket, const char *xml,
                                   struct dep_err *err);

/* Lambda (rest-json 2015-03-31). fn: name or ARN. qualifier may be NULL. */
int dep_lambda_get_function(const char *region, const char *fn, const char *qualifier, cJSON **out,
                            struct dep_err *err);
int dep_lambda_create_function(const char *region, const cJSON *req, cJSON **out,
                               struct dep_err *err);
int dep_lambda_update_function_configuration(const char *region, const char *fn, const cJSON *req,
                                             cJSON **out, struct dep_err *err);
int dep_lambda_update_function_code(const char *region, const char *fn, const cJSON *req,
                                    cJSON **out, struct dep_err *err);
int dep_lambda_publish_version(const char *region, const char *fn, const cJSON *req, cJSON **out,
                               struct dep_err *err);
int dep_lambda_list_versions(const char *region, const char *fn, cJSON **out, struct dep_err *err);
int dep_lambda_get_alias(const char *region, const char *fn, const char *alias, cJSON **out,
                         struct dep_err *err);
int dep_lambda_create_alias(const char *region, const char *fn, const cJSON *req, cJSON **out,
                            struct dep_err *err);
int dep_lambda_update_alias(const char *region, const char *fn, const char *alias, const cJSON *req,
                            cJSON **out, struct dep_err *err);
int dep_lambda_delete_alias(const char *region, const char *fn, const char *alias,
                            struct dep_err *err);
int dep_lambda_add_permission(const char *region, const char *fn, const char *qualifier,
                              const cJSON *req, cJSON **out, struct dep_err *err);
int dep_lambda_remove_permission(const char *region, const char *fn, const char *sid,
                                 const char *qualifier, struct dep_err *err);
int dep_lambda_get_policy(const char *region, const char *fn, const char *qualifier, cJSON **out,
                          struct dep_err *err);
int dep_lambda_create_event_source_mapping(const char *region, const cJSON *req, cJSON **out,
                                           struct dep_err *err);
int dep_lambda_update_event_source_mapping(const char *region, const char *uuid, const cJSON *req,
                                           cJSON **out, struct dep_err *err);

/* API Gateway (rest-json). GetRestApis, GetResources and GetAuthorizers
 * read every page; *out is {"item": [...]} (the wire name of the list). */
int dep_apigw_get_rest_apis(const char *region, cJSON **out, struct dep_err *err);
int dep_apigw_create_rest_api(const char *region, const char *name, const char *description,
                              cJSON **out, struct dep_err *err);
int dep_apigw_get_resources(const char *region, const char *api, cJSON **out, struct dep_err *err);
int dep_apigw_create_resource(const char *region, const char *api, const char *parent,
                              const char *part, cJSON **out, struct dep_err *err);
int dep_apigw_get_method(const char *region, const char *api, const char *res, const char *method,
                         cJSON **out, struct dep_err *err);
int dep_apigw_delete_method(const char *region, const char *api, const char *res,
                            const char *method, struct dep_err *err);
int dep_apigw_put_method(const char *region, const char *api, const char *res, const char *method,
                         const cJSON *req, struct dep_err *err);
int dep_apigw_put_integration(const char *region, const char *api, const char *res,
                              const char *method, const cJSON *req, struct dep_err *err);
int dep_apigw_put_method_response(const char *region, const char *api, const char *res,
                                  const char *method, const char *status, const cJSON *req,
                                  struct dep_err *err);
int dep_apigw_put_integration_response(const char *region, const char *api, const char *res,
                                       const char *method, const char *status, const cJSON *req,
                                       struct dep_err *err);
int dep_apigw_create_deployment(const char *region, const char *api, const cJSON *req, cJSON **out,
                                struct dep_err *err);
int dep_apigw_get_stage(const char *region, const char *api, const char *stage, cJSON **out,
                        struct dep_err *err);
/* patch: array of {op,path,value}. */
int dep_apigw_update_stage(const char *region, const char *api, const char *stage,
                           const cJSON *patch, cJSON **out, struct dep_err *err);
int dep_apigw_get_authorizers(const char *region, const char *api, cJSON **out,
                              struct dep_err *err);
int dep_apigw_create_authorizer(const char *region, const char *api, const cJSON *req, cJSON **out,
                                struct dep_err *err);
int dep_apigw_update_authorizer(const char *region, const char *api, const char *id,
                                const cJSON *patch, struct dep_err *err);

/* CloudFormation (query). *out is the XResult object's content, e.g. for
 * DescribeStacks {"Stacks":[{...}]} (member lists -> arrays). */
int dep_cfn_describe_stack_resources(const char *region, const char *stack, cJSON **out,
                                     struct dep_err *err);
int dep_cfn_describe_stacks(const char *region, const char *stack, cJSON **out,
                            struct dep_err *err);
/* tags: array of {Key,Value} or NULL. on_failure NULL to omit. */
int dep_cfn_create_stack(const char *region, const char *stack, const char *template_body,
                         const cJSON *tags, const char *on_failure, cJSON **out,
                         struct dep_err *err);
int dep_cfn_update_stack(const char *region, const char *stack, const char *template_body,
                         cJSON **out, struct dep_err *err);
int dep_cfn_get_template(const char *region, const char *stack, cJSON **out, struct dep_err *err);
/* {"StackEvents":[...]} newest first. */
int dep_cfn_describe_stack_events(const char *region, const char *stack, cJSON **out,
                                  struct dep_err *err);

/* SNS (query). */
int dep_sns_subscribe(const char *region, const char *topic_arn, const char *protocol,
                      const char *endpoint, cJSON **out, struct dep_err *err);
/* CloudWatch Events (json). */
int dep_events_put_rule(const char *region, const cJSON *req, cJSON **out, struct dep_err *err);
int dep_events_put_targets(const char *region, const cJSON *req, cJSON **out, struct dep_err *err);
/* IoT (rest-json). */
int dep_iot_get_topic_rule(const char *region, const char *rule, cJSON **out, struct dep_err *err);
int dep_iot_create_topic_rule(const char *region, const char *rule, const cJSON *payload,
                              struct dep_err *err);
int dep_iot_replace_topic_rule(const char *region, const char *rule, const cJSON *payload,
                               struct dep_err *err);
/* STS GetCallerIdentity: account into buf. */
int dep_sts_account(const char *region, char *buf, size_t n, struct dep_err *err);

/* --------------------------------------------------- v0.5 step functions */
/* The v0.5 commands as steps (cmd_*.c). Each returns an exit code and
 * reports through output. c->project is loaded and populated by the caller
 * (except project init, which loads it itself). */

int dep_step_project_init(struct dep_ctx *c);
int dep_step_meta_sync(struct dep_ctx *c);
int dep_step_resources_deploy(struct dep_ctx *c);
int dep_step_function_deploy(struct dep_ctx *c);
int dep_step_event_deploy(struct dep_ctx *c);
int dep_step_endpoint_deploy(struct dep_ctx *c);
int dep_step_function_rollback(struct dep_ctx *c, const char *version);

/* Finer-grained pieces for the transaction engine. */

/* Functions selected by opts (-a, names; with neither: all). Returns a new
 * array of borrowed pointers (free() the array) and its size in *n. */
struct dep_function **dep_select_functions(struct dep_ctx *c, int *n);

/* Result of creating/updating one function's code without touching aliases. */
struct dep_fn_result {
    char version[32]; /* published version ("3"), or the unchanged latest version */
    char code_sha256[64];
    char revision_id[64];
    char function_arn[256];
    int created;   /* 1: CreateFunction was called */
    int unchanged; /* 1: code and configuration equal; no new version published */
};

/* v0.5 step 1-3 for one function: package, GetFunction($LATEST), create or
 * UpdateFunctionConfiguration + UpdateFunctionCode(Publish) - skipping the
 * update/publish when CodeSha256 and configuration are unchanged (then
 * version = the newest published version with that CodeSha256). */
int dep_fn_deploy_code(struct dep_ctx *c, struct dep_function *f, struct dep_fn_result *res,
                       struct dep_err *err);
/* v0.5 step 4: GetAlias, then UpdateAlias or CreateAlias to version. */
int dep_fn_set_alias(struct dep_ctx *c, struct dep_function *f, const char *alias,
                     const char *version, struct dep_err *err);
/* Find or create the REST API (GetRestApis/CreateRestApi); id into buf;
 * sets the apiGatewayApi variable. */
int dep_rest_api_ensure(struct dep_ctx *c, char *api_id, size_t n, struct dep_err *err);
/* v0.5 2.6 step 2: Create|UpdateAuthorizer for every function with an
 * "authorizer", plus its permission. Remembers the ids (process-wide, not
 * thread-safe) so that dep_endpoint_put can resolve "authorizerFunction":
 * call it before dep_endpoint_put when endpoints use authorizers. */
int dep_authorizers_ensure(struct dep_ctx *c, const char *api_id, struct dep_err *err);
/* v0.5 3.1-3.7 for one endpoint of f on api_id, with alias_literal NULL
 * (stage variable) or the -e alias. */
int dep_endpoint_put(struct dep_ctx *c, const char *api_id, struct dep_function *f,
                     struct dep_endpoint *e, const char *alias_literal, struct dep_err *err);
/* One event of f (sns, s3, schedule, stream, iot) as in v0.5 2.5. */
int dep_event_put(struct dep_ctx *c, struct dep_function *f, struct dep_event *e,
                  struct dep_err *err);
/* CreateDeployment{stageName S, variables functionAlias=S}; id into buf. */
int dep_stage_deploy(struct dep_ctx *c, const char *api_id, char *deployment_id, size_t n,
                     struct dep_err *err);

/* Meta in S3: bucket/key of the region (region_file 1) or stage file. */
int dep_meta_location(struct dep_ctx *c, int region_file, char *bucket, size_t bn, char *key,
                      size_t kn, char *meta_region, size_t rn, struct dep_err *err);

/* ---------------------------------------------------- command helpers */
/* cmd_common.c, cmd_meta.c. */

/* Re-populate c->project after variables changed (reports warnings).
 * Returns an exit code. */
int dep_cmd_repopulate(struct dep_ctx *c);
/* Print c->project's population warnings not printed before by this process
 * (undefined variables and templates, ignored files), then clear them. */
void dep_cmd_report_warnings(struct dep_ctx *c);
/* 1 when _meta/variables has the stage and region files of c. */
int dep_cmd_vars_exist(struct dep_ctx *c);
/* Every positional name must be a function: else reports and returns
 * DEP_EXIT_USAGE. */
int dep_cmd_check_names(struct dep_ctx *c, const char *step);
/* The alias of this run: -f value, else the lower-cased stage. */
const char *dep_cmd_alias(struct dep_ctx *c, char *buf, size_t n);
/* A merged variable as a non-empty string (thread-local buffer, valid until
 * the next call on this thread), or NULL. */
const char *dep_cmd_var(struct dep_ctx *c, const char *name);
/* Exit code for a per-item step: 0 if none failed, PARTIAL if some
 * succeeded, FAIL if all failed. */
int dep_cmd_exit_for(int ok, int failed);
/* 1 when s-project.json has custom.meta {name, region}. */
int dep_meta_configured(struct dep_ctx *c);
/* Push the local region (region_file 1) or stage variables file to S3:
 * If-Match the ETag last seen by meta sync/push in this process (or read
 * now), If-None-Match: * when there is no remote object. A changed remote
 * fails with PreconditionFailed (exit DEP_EXIT_CONFLICT), never overwritten. */
int dep_meta_push(struct dep_ctx *c, int region_file, struct dep_err *err);
/* After a v0.5 step wrote region variables: when custom.meta is set, push
 * the region file unless the remote already equals it (GetObject for the
 * ETag when this process has none, PutObject with If-Match). Reports under
 * step; returns an exit code (DEP_EXIT_CONFLICT on a concurrent change). */
int dep_meta_autopush(struct dep_ctx *c, const char *step);
/* dep_meta_push of the region file as a reported step; returns an exit code. */
int dep_meta_push_step(struct dep_ctx *c);
/* Write the populated resources template to
 * _meta/resources/s-resources-cf-<stage>-<rc>.json (cmd_project.c). */
int dep_resources_write_meta(struct dep_ctx *c, struct dep_err *err);

/* ------------------------------------------------------------ commands */

/* Table flags (main.c). */
#define DEP_CMD_PROJECT 0x1       /* load + populate the project before running */
#define DEP_CMD_STAGE 0x2         /* -s required */
#define DEP_CMD_OWN_FLAGS 0x4     /* unknown flags go to opts->rest instead of a usage error */
#define DEP_CMD_VARS_OPTIONAL 0x8 /* missing _meta variables are not an error */

/* Commands (git-style). Each returns an exit code (DEP_EXIT_*). */
int cmd_project_init(struct dep_ctx *c);
int cmd_meta_sync(struct dep_ctx *c);
int cmd_resources_deploy(struct dep_ctx *c);
int cmd_function_deploy(struct dep_ctx *c);
int cmd_event_deploy(struct dep_ctx *c);
int cmd_endpoint_deploy(struct dep_ctx *c);
int cmd_function_rollback(struct dep_ctx *c);
int cmd_ci(struct dep_ctx *c);
/* Issues 9/10 (txn_*.c, rehearse.c); weak defaults in main.c. */
int cmd_deploy(struct dep_ctx *c);
int cmd_recover(struct dep_ctx *c);
int cmd_status(struct dep_ctx *c);
int cmd_diff(struct dep_ctx *c);
int cmd_rollback(struct dep_ctx *c);
int cmd_rehearse(struct dep_ctx *c);

/* ci (cmd_ci.c). dep_ci_detect: provider ("travis" "github" "gitlab"
 * "git"), branch, tag and pull-request flag from the environment (git in
 * root as a fallback); -1 when nothing is known. dep_ci_stage: 1 and the
 * stage when this build deploys, else 0; why explains either way.
 * custom_ci is s-project.json custom.ci (may be NULL). */
int dep_ci_detect(const char *root, char *provider, size_t pn, char *branch, size_t bn, char *tag,
                  size_t tn, int *is_pr);
int dep_ci_stage(const cJSON *custom_ci, const char *root, const char *branch, const char *tag,
                 int is_pr, char *stage, size_t n, char *why, size_t wn);

/* Run the six v0.5 steps in order (project init -c when _meta is missing,
 * meta sync, resources deploy, meta push, function, event, endpoint deploy),
 * stopping at the first failure. Returns an exit code. */
int dep_run_v05_flow(struct dep_ctx *c);

#endif
