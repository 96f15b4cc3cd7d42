/*
 * lambda_internal.h - what svc_lambda.c, lambda_exec.c, lambda_zip.c and
 * svc_iam.c share: the execution engine's API (warm sandboxes speaking the
 * Lambda Runtime API), zip extraction, and the IAM role check.
 *
 * Ownership: a struct lambda_run is filled by the caller (svc_lambda.c) and
 * only read by the engine; a struct lambda_result is filled by the engine
 * and released by the caller with lambda_result_release().
 */
#ifndef LAMBDA_INTERNAL_H
#define LAMBDA_INTERNAL_H

#include <stddef.h>

#include "emu.h"

/* Everything the engine needs to run one version of a function. */
struct lambda_run {
    char account[16];
    char region[32];
    char name[72];
    char version[16];      /* "$LATEST" or "N": the executed version */
    char revision[40];     /* RevisionId: a changed config gets new sandboxes */
    char invoked_arn[300]; /* the ARN the caller invoked (qualified or not) */
    char runtime[32];
    char handler[256];
    char code_hex[65]; /* hex SHA-256 of the zip: objects/lambda-<hex>.zip */
    int timeout;       /* seconds */
    int memory;        /* MB */
    int reserved;      /* reserved concurrency of the function, -1 when none */
    char *env_json;    /* {"K":"V"} of Environment.Variables, or NULL (caller owns) */
};

enum lambda_fn_error {
    LAMBDA_OK = 0,
    LAMBDA_HANDLED,   /* X-Amz-Function-Error: Handled */
    LAMBDA_UNHANDLED, /* X-Amz-Function-Error: Unhandled */
};

struct lambda_result {
    int throttled; /* no free sandbox, or reserved concurrency: TooManyRequestsException */
    int failed;    /* could not start (message in payload) */
    enum lambda_fn_error error;
    char *payload; /* response or error JSON (owned) */
    size_t payload_len;
    char *log_tail; /* raw text of the last 4 KB of the log (owned) */
    size_t log_tail_len;
};

/* Runs one invocation synchronously on a warm (or new) sandbox: returns 0
 * with out filled (a function error is still 0), -1 when the engine failed
 * (out->failed set). client_context is the base64 X-Amz-Client-Context or
 * NULL. Never holds the store lock. */
int lambda_exec_invoke(const struct lambda_run *run, const char *payload, size_t len,
                       const char *client_context, struct lambda_result *out);
void lambda_result_release(struct lambda_result *r);
/* Kills the idle sandboxes of a function's version (version NULL: all
 * versions), e.g. after an update or delete. name NULL: every sandbox of
 * every function. */
void lambda_exec_drop(const char *account, const char *region, const char *name,
                      const char *version);
/* The Runtime API (/_greenroom/runtime/{sandbox}/2018-06-01/runtime/...):
 * handler of the op the claim hook returns. */
void lambda_runtime_api(struct emu_request *req, struct emu_response *resp);
/* Background reaper of idle sandboxes (service start/stop hooks). */
int lambda_exec_start(void);
void lambda_exec_stop(void);
/* Log file of a function (path written into out). */
void lambda_log_path(const char *account, const char *region, const char *name, char *out,
                     size_t len);

/* Extracts objects/lambda-<hex>.zip once into <state>/lambda/code/<hex>
 * (entries escaping the directory are refused). Writes the directory into
 * out. Returns 0, -1 on error (message in err). Thread-safe. */
int lambda_zip_extract(const char *code_hex, char *out, size_t len, char *err, size_t errlen);
/* Starts extracting a code blob in the background (a detached thread);
 * lambda_zip_extract later finds it done or finishes it. */
void lambda_zip_prefetch(const char *code_hex);
/* Returns 1 when data[0..len) is a readable zip archive, else 0. */
int lambda_zip_valid(const void *data, size_t len);

/* svc_lambda.c: 1 when one of statements (a resource policy's Statement
 * array) lets the service principal invoke the function from source_arn
 * (NULL when unknown): Allow, lambda:InvokeFunction (or lambda:* or *), the
 * principal (or "*"), and its AWS:SourceArn (ArnLike/ArnEquals, wildcards)
 * and AWS:SourceAccount conditions (source_account, NULL: the source ARN's
 * account field). */
int lambda_policy_allows(const cJSON *statements, const char *principal, const char *source_arn,
                         const char *source_account);

/* svc_iam.c: 1 when role_arn names a role that exists in account, else 0.
 * Must be called with the store locked. */
int iam_role_exists(const char *account, const char *role_arn);

#endif
