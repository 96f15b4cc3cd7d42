/*
 * svc_lambda.c - AWS Lambda (rest-json, API 2015-03-31): CreateFunction,
 * GetFunction, GetFunctionConfiguration, ListFunctions, DeleteFunction,
 * UpdateFunctionCode, UpdateFunctionConfiguration, PublishVersion,
 * ListVersionsByFunction, CreateAlias, GetAlias, UpdateAlias, DeleteAlias,
 * ListAliases, AddPermission, RemovePermission, GetPolicy,
 * CreateEventSourceMapping, GetEventSourceMapping, UpdateEventSourceMapping,
 * DeleteEventSourceMapping, ListEventSourceMappings, TagResource,
 * UntagResource, ListTags, PutFunctionConcurrency, GetFunctionConcurrency,
 * DeleteFunctionConcurrency, PutFunctionEventInvokeConfig,
 * GetFunctionEventInvokeConfig, UpdateFunctionEventInvokeConfig,
 * DeleteFunctionEventInvokeConfig, ListFunctionEventInvokeConfigs,
 * GetAccountSettings, Invoke, InvokeAsync (asynchronous invocation with
 * retries and destinations: see "asynchronous invocation"); plus, claimed
 * without a signature, the Lambda Runtime API (lambda_exec.c) under
 * /_greenroom/runtime/ and code downloads (GetFunction's Code.Location)
 * under /_greenroom/lambda-code/.
 *
 * State: one row per function (tags, last published version), one row per
 * version ("$LATEST" and "1", "2", ...) holding the configuration as JSON
 * plus the code's SHA-256 (the zip lives in objects/lambda-<hex>.zip), one
 * row per alias, one per policy statement (per qualifier: "" is the
 * unqualified function), one per event source mapping.
 *
 * Invoke is EMU_OP_NO_TXN: it reads what it needs under a short read
 * transaction and runs the function without the store lock.
 *
 * Permission check for internal callers: when another service invokes a
 * function (req->internal) and passes x-greenroom-source-principal (e.g.
 * apigateway.amazonaws.com, plus x-greenroom-source-arn), Invoke evaluates
 * the resource policy of the qualifier actually invoked (the alias, the
 * version, or the unqualified function - they are separate policies, as in
 * AWS). A statement allows the call when its Effect is Allow, its Action is
 * lambda:InvokeFunction, lambda:* or *, its Principal is that service (or
 * "*"), and its conditions hold: ArnLike/ArnEquals AWS:SourceArn matches
 * the source ARN (with * and ? wildcards), StringEquals AWS:SourceAccount
 * equals x-greenroom-source-account (or, without it, the source ARN's
 * account field when it has one). Otherwise the answer is 403
 * AccessDeniedException. Clients' own calls are not checked (no IAM).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "emu.h"
#include "events_wire.h"
#include "lambda_internal.h"
#include "worker.h"

#define LFN_MAX_PAYLOAD (6 * 1024 * 1024)

static const char *const lambda_schema[] = {
    "CREATE TABLE lambda_functions (account TEXT NOT NULL, region TEXT NOT NULL,"
    " name TEXT NOT NULL, created TEXT NOT NULL, tags TEXT NOT NULL DEFAULT '{}',"
    " last_version INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (account, region, name));"
    "CREATE TABLE lambda_versions (account TEXT NOT NULL, region TEXT NOT NULL,"
    " name TEXT NOT NULL, version TEXT NOT NULL, config TEXT NOT NULL, description TEXT NOT NULL,"
    " code_sha TEXT NOT NULL, code_hex TEXT NOT NULL, code_size INTEGER NOT NULL,"
    " revision TEXT NOT NULL, last_modified TEXT NOT NULL,"
    " PRIMARY KEY (account, region, name, version));"
    "CREATE TABLE lambda_aliases (account TEXT NOT NULL, region TEXT NOT NULL,"
    " name TEXT NOT NULL, alias TEXT NOT NULL, version TEXT NOT NULL, description TEXT NOT NULL,"
    " routing TEXT, revision TEXT NOT NULL, PRIMARY KEY (account, region, name, alias));"
    "CREATE TABLE lambda_policies (account TEXT NOT NULL, region TEXT NOT NULL,"
    " name TEXT NOT NULL, qualifier TEXT NOT NULL, sid TEXT NOT NULL, statement TEXT NOT NULL,"
    " PRIMARY KEY (account, region, name, qualifier, sid));"
    "CREATE TABLE lambda_esm (account TEXT NOT NULL, region TEXT NOT NULL, uuid TEXT NOT NULL,"
    " name TEXT NOT NULL, config TEXT NOT NULL, PRIMARY KEY (account, region, uuid));",
    /* 2: reserved concurrency (PutFunctionConcurrency), NULL when none */
    "ALTER TABLE lambda_functions ADD COLUMN reserved INTEGER;",
    /* 3: $LATEST's description when the last version was published (a later
     * change of it is a configuration change for PublishVersion), and the
     * asynchronous invocation configurations (PutFunctionEventInvokeConfig)
     * per qualifier ("$LATEST" for the unqualified function) */
    "ALTER TABLE lambda_functions ADD COLUMN published_desc TEXT;"
    "CREATE TABLE lambda_event_configs (account TEXT NOT NULL, region TEXT NOT NULL,"
    " name TEXT NOT NULL, qualifier TEXT NOT NULL, config TEXT NOT NULL,"
    " last_modified REAL NOT NULL, PRIMARY KEY (account, region, name, qualifier));",
    /* 4: the asynchronous invocation queue (one row per event acknowledged
     * with 202 and not yet done: what it runs as JSON, the payload, how many
     * attempts it had and when the next one is due) */
    "CREATE TABLE lambda_async_events (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, request_id TEXT NOT NULL,"
    " job TEXT NOT NULL, payload BLOB, attempts INTEGER NOT NULL DEFAULT 0,"
    " next_at REAL NOT NULL, enqueued REAL NOT NULL);",
};

static unsigned char lfn_url_secret[32];

/* ------------------------------------------------------------- helpers */

static int lfn_reserved(const struct emu_request *req, const char *name, long long *n);

static void lfn_bind(sqlite3_stmt *st, int i, const char *s)
{
    if (s == NULL) {
        sqlite3_bind_null(st, i);
    } else {
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    }
}

/* Binds account, region, name as ?1 ?2 ?3. */
static void lfn_bind3(sqlite3_stmt *st, const struct emu_request *req, const char *name)
{
    lfn_bind(st, 1, req->account);
    lfn_bind(st, 2, req->region);
    lfn_bind(st, 3, name);
}

/* Runs a statement without rows; returns 0, -1 on error (and fails resp). */
static int lfn_exec_done(sqlite3_stmt *st, struct emu_response *resp)
{
    int rc = sqlite3_step(st);
    emu_stmt_done(st);
    if (rc != SQLITE_DONE) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return -1;
    }
    return 0;
}

static void lfn_arn(char *out, size_t len, const struct emu_request *req, const char *name,
                    const char *qual)
{
    if (qual != NULL && qual[0] != 0) {
        snprintf(out, len, "arn:aws:lambda:%s:%s:function:%s:%s", req->region, req->account, name,
                 qual);
    } else {
        snprintf(out, len, "arn:aws:lambda:%s:%s:function:%s", req->region, req->account, name);
    }
}

/* "2024-01-01T00:00:00.000+0000" */
static void lfn_last_modified(char out[40])
{
    char iso[32];
    emu_time_iso(iso, emu_now());
    snprintf(out, 40, "%.23s+0000", iso);
}

static void lfn_validation(struct emu_response *resp, const char *value, const char *member,
                           const char *constraint)
{
    if (value == NULL) {
        emu_fail(resp, AWS_VALIDATION_EXCEPTION,
                 "1 validation error detected: Value null at '%s' failed to satisfy constraint: "
                 "%s",
                 member, constraint);
    } else {
        emu_fail(resp, AWS_VALIDATION_EXCEPTION,
                 "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s",
                 value, member, constraint);
    }
}

static int lfn_is_digits(const char *s)
{
    if (s == NULL || *s == 0) {
        return 0;
    }
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s)) {
            return 0;
        }
    }
    return 1;
}

/* [a-zA-Z0-9-_]{1,max} (plus '$' when dollar). */
static int lfn_is_word(const char *s, size_t max, int dollar)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '-' && c != '_' && !(dollar && c == '$')) {
            return 0;
        }
    }
    return 1;
}

/* A string member of req->json, or NULL. */
static const char *lfn_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* --------------------------------------------------------- name parsing */

struct lfn_ref {
    char name[72];
    char qual[132]; /* "" when none */
};

/* Parses FunctionName: name, name:qualifier, ACCOUNT:function:name[:q] or
 * arn:aws:lambda:REGION:ACCOUNT:function:name[:q]. Returns 0, -1 when it
 * does not match the pattern. */
static int lfn_parse_name(const char *in, struct lfn_ref *r)
{
    memset(r, 0, sizeof(*r));
    if (in == NULL || in[0] == 0 || strlen(in) > 256) {
        return -1;
    }
    char buf[260];
    snprintf(buf, sizeof(buf), "%s", in);
    char *parts[10];
    size_t n = 0;
    char *p = buf;
    /* split on ':' keeping empty fields */
    parts[n++] = p;
    for (; *p; p++) {
        if (*p == ':') {
            *p = 0;
            if (n == 10) {
                return -1;
            }
            parts[n++] = p + 1;
        }
    }
    const char *name = NULL;
    const char *qual = NULL;
    if (strcmp(parts[0], "arn") == 0) {
        if ((n != 7 && n != 8) || strncmp(parts[1], "aws", 3) != 0 ||
            strcmp(parts[2], "lambda") != 0 || strcmp(parts[5], "function") != 0) {
            return -1;
        }
        name = parts[6];
        qual = n == 8 ? parts[7] : NULL;
    } else if (n >= 3 && strcmp(parts[1], "function") == 0) {
        if (n > 4 || !lfn_is_digits(parts[0]) || strlen(parts[0]) != 12) {
            return -1;
        }
        name = parts[2];
        qual = n == 4 ? parts[3] : NULL;
    } else if (n == 1) {
        name = parts[0];
    } else if (n == 2) {
        name = parts[0];
        qual = parts[1];
    } else {
        return -1;
    }
    if (!lfn_is_word(name, 64, 0)) {
        return -1;
    }
    if (qual != NULL && !lfn_is_word(qual, 128, 1)) {
        return -1;
    }
    snprintf(r->name, sizeof(r->name), "%s", name);
    snprintf(r->qual, sizeof(r->qual), "%s", qual ? qual : "");
    return 0;
}

#define LFN_NAME_PATTERN                                                                           \
    "Member must satisfy regular expression pattern: "                                             \
    "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?("     \
    "[a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"

/* The function named by the path (or given string) and the Qualifier query
 * parameter, merged. Fails resp and returns -1 on a bad name or a
 * qualifier that contradicts the ARN's. */
static int lfn_ref_from(struct emu_request *req, struct emu_response *resp, const char *fname,
                        const char *qual_param, struct lfn_ref *r)
{
    if (lfn_parse_name(fname, r) != 0) {
        lfn_validation(resp, fname, "functionName", LFN_NAME_PATTERN);
        return -1;
    }
    if (qual_param != NULL && qual_param[0] != 0) {
        if (!lfn_is_word(qual_param, 128, 1)) {
            lfn_validation(resp, qual_param, "qualifier",
                           "Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)");
            return -1;
        }
        if (r->qual[0] != 0 && strcmp(r->qual, qual_param) != 0) {
            emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE,
                     "The derived qualifier from the function name does not match the specified "
                     "qualifier.");
            return -1;
        }
        snprintf(r->qual, sizeof(r->qual), "%s", qual_param);
    }
    return 0;
}

/* ------------------------------------------------------------ versions */

struct lfn_ver {
    char version[16];
    cJSON *config; /* owned */
    char *description;
    char code_sha[48];
    char code_hex[65];
    long long code_size;
    char revision[40];
    char last_modified[40];
};

static void lfn_ver_release(struct lfn_ver *v)
{
    cJSON_Delete(v->config);
    free(v->description);
    memset(v, 0, sizeof(*v));
}

/* Loads a version row. Returns 1 found, 0 absent, -1 error. */
static int lfn_load_ver(const struct emu_request *req, const char *name, const char *version,
                        struct lfn_ver *v)
{
    memset(v, 0, sizeof(*v));
    sqlite3_stmt *st = emu_stmt("SELECT config, description, code_sha, code_hex, code_size, "
                                "revision, last_modified FROM lambda_versions WHERE account = ?1 "
                                "AND region = ?2 AND name = ?3 AND version = ?4");
    if (st == NULL) {
        return -1;
    }
    lfn_bind3(st, req, name);
    lfn_bind(st, 4, version);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        emu_stmt_done(st);
        return rc == SQLITE_DONE ? 0 : -1;
    }
    snprintf(v->version, sizeof(v->version), "%s", version);
    v->config = cJSON_Parse((const char *)sqlite3_column_text(st, 0));
    if (v->config == NULL) {
        v->config = cJSON_CreateObject();
    }
    v->description = emu_col_dup(st, 1);
    snprintf(v->code_sha, sizeof(v->code_sha), "%s", (const char *)sqlite3_column_text(st, 2));
    snprintf(v->code_hex, sizeof(v->code_hex), "%s", (const char *)sqlite3_column_text(st, 3));
    v->code_size = sqlite3_column_int64(st, 4);
    snprintf(v->revision, sizeof(v->revision), "%s", (const char *)sqlite3_column_text(st, 5));
    snprintf(v->last_modified, sizeof(v->last_modified), "%s",
             (const char *)sqlite3_column_text(st, 6));
    emu_stmt_done(st);
    return 1;
}

/* Writes (insert or replace) a version row. Returns 0, -1 (resp failed). */
static int lfn_save_ver(struct emu_request *req, struct emu_response *resp, const char *name,
                        const struct lfn_ver *v)
{
    char *cfg = cJSON_PrintUnformatted(v->config);
    sqlite3_stmt *st = emu_stmt(
        "INSERT OR REPLACE INTO lambda_versions (account, region, name, version, config, "
        "description, code_sha, code_hex, code_size, revision, last_modified) VALUES (?1, ?2, ?3, "
        "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    if (st == NULL || cfg == NULL) {
        free(cfg);
        emu_stmt_done(st);
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return -1;
    }
    lfn_bind3(st, req, name);
    lfn_bind(st, 4, v->version);
    lfn_bind(st, 5, cfg);
    lfn_bind(st, 6, v->description ? v->description : "");
    lfn_bind(st, 7, v->code_sha);
    lfn_bind(st, 8, v->code_hex);
    sqlite3_bind_int64(st, 9, v->code_size);
    lfn_bind(st, 10, v->revision);
    lfn_bind(st, 11, v->last_modified);
    free(cfg);
    return lfn_exec_done(st, resp);
}

/* 1 when the function exists, 0 when not, -1 on error. */
static int lfn_exists(const struct emu_request *req, const char *name)
{
    sqlite3_stmt *st =
        emu_stmt("SELECT 1 FROM lambda_functions WHERE account = ?1 AND region = ?2 AND name = ?3");
    if (st == NULL) {
        return -1;
    }
    lfn_bind3(st, req, name);
    int rc = sqlite3_step(st);
    emu_stmt_done(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static void lfn_fail_not_found(struct emu_request *req, struct emu_response *resp, const char *name,
                               const char *qual)
{
    char arn[400];
    lfn_arn(arn, sizeof(arn), req, name, qual);
    emu_fail(resp, LAMBDA_RESOURCE_NOT_FOUND, "Function not found: %s", arn);
}

/* Checks the function exists (failing resp with ResourceNotFoundException
 * otherwise). Returns 1 when it does. */
static int lfn_exists_or_fail(struct emu_request *req, struct emu_response *resp, const char *name)
{
    int r = lfn_exists(req, name);
    if (r < 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return 0;
    }
    if (r == 0) {
        lfn_fail_not_found(req, resp, name, NULL);
        return 0;
    }
    return 1;
}

/* An alias row: version, description, routing JSON text (NULL when
 * none), revision. Returns 1 found, 0 absent, -1 error. */
struct lfn_alias {
    char version[16];
    char *description;
    cJSON *routing; /* AdditionalVersionWeights object, or NULL */
    char revision[40];
};

static void lfn_alias_release(struct lfn_alias *a)
{
    free(a->description);
    cJSON_Delete(a->routing);
    memset(a, 0, sizeof(*a));
}

static int lfn_load_alias(const struct emu_request *req, const char *name, const char *alias,
                          struct lfn_alias *a)
{
    memset(a, 0, sizeof(*a));
    sqlite3_stmt *st = emu_stmt("SELECT version, description, routing, revision FROM "
                                "lambda_aliases WHERE account = ?1 AND region = ?2 AND name = ?3 "
                                "AND alias = ?4");
    if (st == NULL) {
        return -1;
    }
    lfn_bind3(st, req, name);
    lfn_bind(st, 4, alias);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        emu_stmt_done(st);
        return rc == SQLITE_DONE ? 0 : -1;
    }
    snprintf(a->version, sizeof(a->version), "%s", (const char *)sqlite3_column_text(st, 0));
    a->description = emu_col_dup(st, 1);
    if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
        a->routing = cJSON_Parse((const char *)sqlite3_column_text(st, 2));
    }
    snprintf(a->revision, sizeof(a->revision), "%s", (const char *)sqlite3_column_text(st, 3));
    emu_stmt_done(st);
    return 1;
}

/* Resolves a qualifier of an existing function to the version it names:
 * "" / $LATEST, a version number, or an alias (is_alias set, routing kept
 * in *alias when alias != NULL). Fails resp (ResourceNotFoundException) and
 * returns -1 when it does not exist. */
static int lfn_resolve(struct emu_request *req, struct emu_response *resp, const char *name,
                       const char *qual, char version[16], int *is_alias, struct lfn_alias *alias)
{
    *is_alias = 0;
    if (qual == NULL || qual[0] == 0 || strcmp(qual, "$LATEST") == 0) {
        snprintf(version, 16, "$LATEST");
        return 0;
    }
    if (lfn_is_digits(qual)) {
        sqlite3_stmt *st = emu_stmt("SELECT 1 FROM lambda_versions WHERE account = ?1 AND "
                                    "region = ?2 AND name = ?3 AND version = ?4");
        if (st == NULL) {
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
            return -1;
        }
        lfn_bind3(st, req, name);
        lfn_bind(st, 4, qual);
        int rc = sqlite3_step(st);
        emu_stmt_done(st);
        if (rc != SQLITE_ROW) {
            lfn_fail_not_found(req, resp, name, qual);
            return -1;
        }
        snprintf(version, 16, "%s", qual);
        return 0;
    }
    struct lfn_alias a;
    int r = lfn_load_alias(req, name, qual, &a);
    if (r <= 0) {
        if (r < 0) {
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        } else {
            lfn_fail_not_found(req, resp, name, qual);
        }
        return -1;
    }
    *is_alias = 1;
    snprintf(version, 16, "%s", a.version);
    if (alias != NULL) {
        *alias = a;
    } else {
        lfn_alias_release(&a);
    }
    return 0;
}

/* The FunctionConfiguration of a version. arn_qual: the qualifier shown
 * in FunctionArn (NULL: unqualified). Caller owns the tree. */
static cJSON *lfn_render(const struct emu_request *req, const char *name, const struct lfn_ver *v,
                         const char *arn_qual)
{
    cJSON *o = cJSON_CreateObject();
    char arn[400];
    lfn_arn(arn, sizeof(arn), req, name, arn_qual);
    cJSON_AddStringToObject(o, "FunctionName", name);
    cJSON_AddStringToObject(o, "FunctionArn", arn);
    const char *keys1[] = {"Runtime", "Role", "Handler"};
    for (size_t i = 0; i < 3; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(v->config, keys1[i]);
        if (x != NULL) {
            cJSON_AddItemToObject(o, keys1[i], cJSON_Duplicate(x, 1));
        }
    }
    cJSON_AddNumberToObject(o, "CodeSize", (double)v->code_size);
    cJSON_AddStringToObject(o, "Description", v->description ? v->description : "");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(v->config, "Timeout");
    cJSON_AddNumberToObject(o, "Timeout", cJSON_IsNumber(t) ? t->valuedouble : 3);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(v->config, "MemorySize");
    cJSON_AddNumberToObject(o, "MemorySize", cJSON_IsNumber(m) ? m->valuedouble : 128);
    cJSON_AddStringToObject(o, "LastModified", v->last_modified);
    cJSON_AddStringToObject(o, "CodeSha256", v->code_sha);
    cJSON_AddStringToObject(o, "Version", v->version);
    const char *keys2[] = {"VpcConfig", "Environment", "DeadLetterConfig", "KMSKeyArn",
                           "TracingConfig"};
    for (size_t i = 0; i < sizeof(keys2) / sizeof(keys2[0]); i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(v->config, keys2[i]);
        if (x != NULL) {
            cJSON_AddItemToObject(o, keys2[i], cJSON_Duplicate(x, 1));
        }
    }
    if (cJSON_GetObjectItemCaseSensitive(o, "TracingConfig") == NULL) {
        cJSON *tc = cJSON_AddObjectToObject(o, "TracingConfig");
        cJSON_AddStringToObject(tc, "Mode", "PassThrough");
    }
    cJSON_AddStringToObject(o, "RevisionId", v->revision);
    cJSON_AddStringToObject(o, "State", "Active");
    cJSON_AddStringToObject(o, "LastUpdateStatus", "Successful");
    cJSON_AddStringToObject(o, "PackageType", "Zip");
    const cJSON *arch = cJSON_GetObjectItemCaseSensitive(v->config, "Architectures");
    if (arch != NULL) {
        cJSON_AddItemToObject(o, "Architectures", cJSON_Duplicate(arch, 1));
    } else {
        cJSON *a = cJSON_AddArrayToObject(o, "Architectures");
        cJSON_AddItemToArray(a, cJSON_CreateString("x86_64"));
    }
    const cJSON *eph = cJSON_GetObjectItemCaseSensitive(v->config, "EphemeralStorage");
    if (eph != NULL) {
        cJSON_AddItemToObject(o, "EphemeralStorage", cJSON_Duplicate(eph, 1));
    } else {
        cJSON *e = cJSON_AddObjectToObject(o, "EphemeralStorage");
        cJSON_AddNumberToObject(e, "Size", 512);
    }
    cJSON *ss = cJSON_AddObjectToObject(o, "SnapStart");
    cJSON_AddStringToObject(ss, "ApplyOn", "None");
    cJSON_AddStringToObject(ss, "OptimizationStatus", "Off");
    cJSON *lc = cJSON_AddObjectToObject(o, "LoggingConfig");
    cJSON_AddStringToObject(lc, "LogFormat", "Text");
    char group[120];
    snprintf(group, sizeof(group), "/aws/lambda/%s", name);
    cJSON_AddStringToObject(lc, "LogGroup", group);
    return o;
}

/* ---------------------------------------------------------------- code */

/* The zip of a CreateFunction Code object or an UpdateFunctionCode body:
 * ZipFile (base64) or S3Bucket/S3Key read from greenroom's S3. On success
 * stores it content-addressed under objects/ and fills hex, sha (base64)
 * and size; returns 0. Fails resp and returns -1 otherwise. */
static int lfn_code_take(struct emu_request *req, struct emu_response *resp, const cJSON *code,
                         char hex[65], char sha[48], long long *size)
{
    const char *zip_b64 = lfn_str(code, "ZipFile");
    const char *bucket = lfn_str(code, "S3Bucket");
    const char *key = lfn_str(code, "S3Key");
    if (lfn_str(code, "ImageUri") != NULL) {
        emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE,
                 "Please don't provide ImageUri when updating a function with packageType Zip.");
        return -1;
    }
    unsigned char *data = NULL;
    size_t len = 0;
    if (zip_b64 != NULL) {
        if (bucket != NULL || key != NULL) {
            emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE,
                     "Please provide a source for function code.");
            return -1;
        }
        data = emu_base64_decode(zip_b64, &len);
        if (data == NULL) {
            emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE,
                     "Could not unzip uploaded file. Please check your file, then try to upload "
                     "again.");
            return -1;
        }
    } else if (bucket != NULL && key != NULL) {
        struct emu_buf path = {0};
        emu_buf_puts(&path, "/");
        emu_buf_url_encode(&path, bucket, strlen(bucket), 0);
        emu_buf_puts(&path, "/");
        emu_buf_url_encode(&path, key, strlen(key), 1);
        const char *ov = lfn_str(code, "S3ObjectVersion");
        if (ov != NULL) {
            emu_buf_puts(&path, "?versionId=");
            emu_buf_url_encode(&path, ov, strlen(ov), 0);
        }
        struct emu_call call = {.account = req->account,
                                .region = req->region,
                                .service = "s3",
                                .method = "GET",
                                .path = path.data};
        struct emu_response r;
        emu_response_init(&r);
        int status = emu_call_internal(&call, &r);
        emu_buf_release(&path);
        if (status != 200 || r.failed) {
            emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE,
                     "Error occurred while GetObject. S3 Error Code: %s. S3 Error Message: %s",
                     r.error_code[0] ? r.error_code : "NoSuchKey",
                     r.error_message ? r.error_message : "The specified key does not exist.");
            emu_response_release(&r);
            return -1;
        }
        if (r.body_fd >= 0) {
            len = (size_t)r.body_len;
            data = malloc(len + 1);
            size_t got = 0;
            while (data != NULL && got < len) {
                ssize_t n = pread(r.body_fd, data + got, len - got, (off_t)(r.body_off + got));
                if (n <= 0) {
                    break;
                }
                got += (size_t)n;
            }
            if (data != NULL && got != len) {
                free(data);
                data = NULL;
            }
        } else {
            len = r.body.len;
            data = malloc(len + 1);
            if (data != NULL && len > 0) {
                memcpy(data, r.body.data, len);
            }
        }
        emu_response_release(&r);
        if (data == NULL) {
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
            return -1;
        }
    } else {
        emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE,
                 "Please provide a source for function code.");
        return -1;
    }
    if (!lambda_zip_valid(data, len)) {
        free(data);
        emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE,
                 "Could not unzip uploaded file. Please check your file, then try to upload "
                 "again.");
        return -1;
    }
    unsigned char digest[32];
    SHA256(data, len, digest);
    emu_hex(digest, 32, hex);
    char *b = emu_base64_encode(digest, 32);
    snprintf(sha, 48, "%s", b ? b : "");
    free(b);
    *size = (long long)len;

    char final[900];
    snprintf(final, sizeof(final), "%s/lambda-%s.zip", emu_objects_dir(), hex);
    struct stat stt;
    int rc = 0;
    if (stat(final, &stt) != 0) {
        char rnd[17];
        emu_random_hex(rnd, 16);
        char tmp[900];
        snprintf(tmp, sizeof(tmp), "%s/lambda-%s.tmp", emu_tmp_dir(), rnd);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        size_t off = 0;
        while (fd >= 0 && off < len) {
            ssize_t n = write(fd, data + off, len - off);
            if (n <= 0) {
                break;
            }
            off += (size_t)n;
        }
        if (fd < 0 || off != len || fsync(fd) != 0 || close(fd) != 0 || rename(tmp, final) != 0) {
            rc = -1;
            unlink(tmp);
        }
        fd = -1;
    }
    free(data);
    if (rc != 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return -1;
    }
    lambda_zip_prefetch(hex);
    return 0;
}

/* ----------------------------------------------------- config validation */

static const char *const lfn_runtimes[] = {
    "nodejs",     "nodejs4.3",       "nodejs6.10",     "nodejs8.10",    "nodejs10.x",
    "nodejs12.x", "nodejs14.x",      "nodejs16.x",     "java8",         "java8.al2",
    "java11",     "python2.7",       "python3.6",      "python3.7",     "python3.8",
    "python3.9",  "dotnetcore1.0",   "dotnetcore2.0",  "dotnetcore2.1", "dotnetcore3.1",
    "dotnet6",    "dotnet8",         "nodejs4.3-edge", "go1.x",         "ruby2.5",
    "ruby2.7",    "provided",        "provided.al2",   "nodejs18.x",    "python3.10",
    "java17",     "ruby3.2",         "ruby3.3",        "ruby3.4",       "python3.11",
    "nodejs20.x", "provided.al2023", "python3.12",     "java21",        "python3.13",
    "nodejs22.x", "nodejs24.x",      "python3.14",     "java25",        "dotnet10",
    "ruby4.0",
};

/* 1 when role matches arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+ */
static int lfn_role_pattern(const char *role)
{
    if (role == NULL || strncmp(role, "arn:", 4) != 0) {
        return 0;
    }
    const char *p = role + 4;
    if (strncmp(p, "aws", 3) == 0) {
        p += 3;
        while (isalpha((unsigned char)*p) || *p == '-') {
            p++;
        }
    }
    if (strncmp(p, ":iam::", 6) != 0) {
        return 0;
    }
    p += 6;
    for (int i = 0; i < 12; i++, p++) {
        if (!isdigit((unsigned char)*p)) {
            return 0;
        }
    }
    if (strncmp(p, ":role", 5) != 0) {
        return 0;
    }
    p += 5;
    if (*p == '/') {
        p++;
    }
    if (*p == 0) {
        return 0;
    }
    for (; *p; p++) {
        if (!isalnum((unsigned char)*p) && strchr("_+=,.@-/", *p) == NULL) {
            return 0;
        }
    }
    return 1;
}

/* Applies the configuration members of body (CreateFunction or
 * UpdateFunctionConfiguration) to cfg, validating each. Returns 0, -1 with
 * resp failed. description is replaced when Description is present. */
static int lfn_apply_config(struct emu_request *req, struct emu_response *resp, const cJSON *body,
                            cJSON *cfg, char **description)
{
    const cJSON *x;
    x = cJSON_GetObjectItemCaseSensitive(body, "Runtime");
    if (x != NULL) {
        int ok = 0;
        for (size_t i = 0; cJSON_IsString(x) && i < sizeof(lfn_runtimes) / sizeof(*lfn_runtimes);
             i++) {
            ok |= strcmp(x->valuestring, lfn_runtimes[i]) == 0;
        }
        if (!ok) {
            struct emu_buf b = {0};
            emu_buf_puts(&b, "Member must satisfy enum value set: [");
            for (size_t i = 0; i < sizeof(lfn_runtimes) / sizeof(*lfn_runtimes); i++) {
                emu_buf_printf(&b, "%s%s", i ? ", " : "", lfn_runtimes[i]);
            }
            emu_buf_puts(&b, "] or be a valid ARN");
            lfn_validation(resp, cJSON_IsString(x) ? x->valuestring : "", "runtime", b.data);
            emu_buf_release(&b);
            return -1;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, "Runtime");
        cJSON_AddStringToObject(cfg, "Runtime", x->valuestring);
    }
    x = cJSON_GetObjectItemCaseSensitive(body, "Role");
    if (x != NULL) {
        if (!cJSON_IsString(x) || !lfn_role_pattern(x->valuestring)) {
            lfn_validation(resp, cJSON_IsString(x) ? x->valuestring : "", "role",
                           "Member must satisfy regular expression pattern: "
                           "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+");
            return -1;
        }
        if (!iam_role_exists(req->account, x->valuestring)) {
            emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE,
                     "The role defined for the function cannot be assumed by Lambda.");
            return -1;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, "Role");
        cJSON_AddStringToObject(cfg, "Role", x->valuestring);
    }
    x = cJSON_GetObjectItemCaseSensitive(body, "Handler");
    if (x != NULL) {
        const char *h = cJSON_IsString(x) ? x->valuestring : "";
        int ok = cJSON_IsString(x) && strlen(h) <= 128;
        for (const char *p = h; ok && *p; p++) {
            ok = !isspace((unsigned char)*p);
        }
        if (!ok) {
            lfn_validation(resp, h, "handler",
                           "Member must satisfy regular expression pattern: [^\\s]+");
            return -1;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, "Handler");
        cJSON_AddStringToObject(cfg, "Handler", h);
    }
    x = cJSON_GetObjectItemCaseSensitive(body, "Timeout");
    if (x != NULL) {
        if (!cJSON_IsNumber(x) || x->valuedouble < 1) {
            char v[32];
            snprintf(v, sizeof(v), "%d", cJSON_IsNumber(x) ? x->valueint : 0);
            lfn_validation(resp, v, "timeout", "Member must have value greater than or equal to 1");
            return -1;
        }
        if (x->valuedouble > 900) {
            emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE,
                     "Timeout value must be less than or equal to 900 seconds.");
            return -1;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, "Timeout");
        cJSON_AddNumberToObject(cfg, "Timeout", x->valueint);
    }
    x = cJSON_GetObjectItemCaseSensitive(body, "MemorySize");
    if (x != NULL) {
        if (!cJSON_IsNumber(x) || x->valuedouble < 128 || x->valuedouble > 10240) {
            char v[32];
            snprintf(v, sizeof(v), "%d", cJSON_IsNumber(x) ? x->valueint : 0);
            if (cJSON_IsNumber(x) && x->valuedouble > 10240 && x->valuedouble <= 32768) {
                emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE,
                         "'MemorySize' value failed to satisfy constraint: Member must have value "
                         "less than or equal to 10240");
            } else {
                lfn_validation(resp, v, "memorySize",
                               x != NULL && cJSON_IsNumber(x) && x->valuedouble > 128
                                   ? "Member must have value less than or equal to 32768"
                                   : "Member must have value greater than or equal to 128");
            }
            return -1;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, "MemorySize");
        cJSON_AddNumberToObject(cfg, "MemorySize", x->valueint);
    }
    x = cJSON_GetObjectItemCaseSensitive(body, "Description");
    if (x != NULL) {
        if (!cJSON_IsString(x) || strlen(x->valuestring) > 256) {
            lfn_validation(resp, cJSON_IsString(x) ? x->valuestring : "", "description",
                           "Member must have length less than or equal to 256");
            return -1;
        }
        free(*description);
        *description = strdup(x->valuestring);
    }
    x = cJSON_GetObjectItemCaseSensitive(body, "Environment");
    if (x != NULL) {
        const cJSON *vars = cJSON_GetObjectItemCaseSensitive(x, "Variables");
        if (!cJSON_IsObject(x) || (vars != NULL && !cJSON_IsObject(vars))) {
            emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE, "Environment must be an object.");
            return -1;
        }
        static const char *const reserved[] = {"_HANDLER",
                                               "AWS_REGION",
                                               "AWS_EXECUTION_ENV",
                                               "AWS_LAMBDA_FUNCTION_NAME",
                                               "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                                               "AWS_LAMBDA_FUNCTION_VERSION",
                                               "AWS_LAMBDA_LOG_GROUP_NAME",
                                               "AWS_LAMBDA_LOG_STREAM_NAME",
                                               "AWS_ACCESS_KEY_ID",
                                               "AWS_SECRET_ACCESS_KEY",
                                               "AWS_SESSION_TOKEN",
                                               "LAMBDA_TASK_ROOT",
                                               "LAMBDA_RUNTIME_DIR",
                                               "AWS_LAMBDA_RUNTIME_API"};
        const cJSON *it = NULL;
        cJSON_ArrayForEach(it, vars)
        {
            if (!cJSON_IsString(it)) {
                emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE,
                         "Environment variable values must be strings.");
                return -1;
            }
            const char *k = it->string;
            int ok = k != NULL && isalpha((unsigned char)k[0]) && strlen(k) >= 2;
            for (const char *p = k; ok && *p; p++) {
                ok = isalnum((unsigned char)*p) || *p == '_';
            }
            if (!ok) {
                struct emu_buf v = {0};
                emu_buf_printf(&v, "Member must satisfy regular expression pattern: "
                                   "[a-zA-Z]([a-zA-Z0-9_])+");
                lfn_validation(resp, k ? k : "", "environment.variables", v.data);
                emu_buf_release(&v);
                return -1;
            }
            for (size_t i = 0; i < sizeof(reserved) / sizeof(*reserved); i++) {
                if (strcmp(k, reserved[i]) == 0) {
                    emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE,
                             "Lambda was unable to configure your environment variables because "
                             "the environment variables you have provided contains reserved keys "
                             "that are currently not supported for modification. Reserved keys "
                             "used in this request: %s",
                             k);
                    return -1;
                }
            }
        }
        /* the copy is owned by cfg once added; a failed add must not
         * strand it (ASan saw this path leak) */
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, "Environment");
        cJSON *copy = vars ? cJSON_Duplicate(vars, 1) : cJSON_CreateObject();
        cJSON *env = cJSON_CreateObject();
        if (copy == NULL || env == NULL || !cJSON_AddItemToObject(env, "Variables", copy)) {
            cJSON_Delete(copy);
            cJSON_Delete(env);
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
            return -1;
        }
        if (!cJSON_AddItemToObject(cfg, "Environment", env)) {
            cJSON_Delete(env);
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
            return -1;
        }
    }
    x = cJSON_GetObjectItemCaseSensitive(body, "VpcConfig");
    if (x != NULL) {
        if (!cJSON_IsObject(x)) {
            emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE, "VpcConfig must be an object.");
            return -1;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, "VpcConfig");
        const cJSON *sn = cJSON_GetObjectItemCaseSensitive(x, "SubnetIds");
        const cJSON *sg = cJSON_GetObjectItemCaseSensitive(x, "SecurityGroupIds");
        if (cJSON_GetArraySize(sn) > 0 || cJSON_GetArraySize(sg) > 0) {
            cJSON *vc = cJSON_AddObjectToObject(cfg, "VpcConfig");
            cJSON_AddItemToObject(vc, "SubnetIds",
                                  cJSON_IsArray(sn) ? cJSON_Duplicate(sn, 1) : cJSON_CreateArray());
            cJSON_AddItemToObject(vc, "SecurityGroupIds",
                                  cJSON_IsArray(sg) ? cJSON_Duplicate(sg, 1) : cJSON_CreateArray());
            cJSON_AddStringToObject(vc, "VpcId", "vpc-00000000000000000");
        }
    }
    const char *copy[] = {"DeadLetterConfig", "TracingConfig", "KMSKeyArn", "EphemeralStorage"};
    for (size_t i = 0; i < sizeof(copy) / sizeof(*copy); i++) {
        x = cJSON_GetObjectItemCaseSensitive(body, copy[i]);
        if (x != NULL) {
            cJSON_DeleteItemFromObjectCaseSensitive(cfg, copy[i]);
            cJSON_AddItemToObject(cfg, copy[i], cJSON_Duplicate(x, 1));
        }
    }
    return 0;
}

/* ---------------------------------------------------------- functions */

/* Publishes $LATEST as a new version unless the last published version has
 * the same code and configuration (then that version is the answer).
 * description: the version's (NULL: $LATEST's). Fills out (caller releases
 * it). Returns 0, -1 with resp failed. */
static int lfn_publish(struct emu_request *req, struct emu_response *resp, const char *name,
                       const char *description, struct lfn_ver *out)
{
    struct lfn_ver latest;
    if (lfn_load_ver(req, name, "$LATEST", &latest) != 1) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return -1;
    }
    sqlite3_stmt *st = emu_stmt("SELECT last_version, published_desc FROM lambda_functions "
                                "WHERE account = ?1 AND region = ?2 AND name = ?3");
    if (st == NULL) {
        lfn_ver_release(&latest);
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return -1;
    }
    lfn_bind3(st, req, name);
    long long last = 0;
    char *pdesc = NULL; /* $LATEST's description at the last publish (NULL: unknown) */
    if (sqlite3_step(st) == SQLITE_ROW) {
        last = sqlite3_column_int64(st, 0);
        pdesc = emu_col_dup(st, 1);
    }
    emu_stmt_done(st);
    if (last > 0) {
        char lv[24];
        snprintf(lv, sizeof(lv), "%lld", last);
        struct lfn_ver prev;
        if (lfn_load_ver(req, name, lv, &prev) == 1) {
            /* configuration members compared whatever their order; the
             * function's description counts, PublishVersion's does not */
            int same =
                cJSON_Compare(latest.config, prev.config, 1) &&
                strcmp(latest.code_sha, prev.code_sha) == 0 &&
                (pdesc == NULL || strcmp(pdesc, latest.description ? latest.description : "") == 0);
            if (same) {
                free(pdesc);
                lfn_ver_release(&latest);
                *out = prev;
                return 0;
            }
            lfn_ver_release(&prev);
        }
    }
    free(pdesc);
    char ver[24];
    snprintf(ver, sizeof(ver), "%lld", last + 1);
    snprintf(latest.version, sizeof(latest.version), "%s", ver);
    char *ldesc = strdup(latest.description ? latest.description : "");
    if (description != NULL) {
        free(latest.description);
        latest.description = strdup(description);
    }
    emu_uuid(latest.revision);
    lfn_last_modified(latest.last_modified);
    if (lfn_save_ver(req, resp, name, &latest) != 0) {
        free(ldesc);
        lfn_ver_release(&latest);
        return -1;
    }
    st = emu_stmt("UPDATE lambda_functions SET last_version = ?4, published_desc = ?5 WHERE "
                  "account = ?1 AND region = ?2 AND name = ?3");
    if (st == NULL) {
        free(ldesc);
        lfn_ver_release(&latest);
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return -1;
    }
    lfn_bind3(st, req, name);
    sqlite3_bind_int64(st, 4, last + 1);
    lfn_bind(st, 5, ldesc ? ldesc : "");
    free(ldesc);
    if (lfn_exec_done(st, resp) != 0) {
        lfn_ver_release(&latest);
        return -1;
    }
    *out = latest;
    return 0;
}

/* Tags object of a request body, validated. Returns 0 or -1 (resp failed). */
static int lfn_tags_ok(struct emu_response *resp, const cJSON *tags)
{
    if (tags == NULL) {
        return 0;
    }
    if (!cJSON_IsObject(tags)) {
        emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE, "Tags must be a map.");
        return -1;
    }
    const cJSON *it = NULL;
    cJSON_ArrayForEach(it, tags)
    {
        if (!cJSON_IsString(it) || it->string == NULL || it->string[0] == 0) {
            emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE, "Tag keys and values must be strings.");
            return -1;
        }
    }
    return 0;
}

static void lambda_create_function(struct emu_request *req, struct emu_response *resp)
{
    cJSON *body = req->json;
    struct lfn_ver v = {0};
    const char *fname = lfn_str(body, "FunctionName");
    struct lfn_ref ref;
    if (fname == NULL) {
        lfn_validation(resp, NULL, "functionName", "Member must not be null");
        return;
    }
    if (lfn_parse_name(fname, &ref) != 0 || ref.qual[0] != 0) {
        lfn_validation(resp, fname, "functionName", LFN_NAME_PATTERN);
        return;
    }
    const char *role = lfn_str(body, "Role");
    if (role == NULL) {
        lfn_validation(resp, NULL, "role", "Member must not be null");
        return;
    }
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(body, "Code");
    if (!cJSON_IsObject(code)) {
        lfn_validation(resp, NULL, "code", "Member must not be null");
        return;
    }
    const char *pt = lfn_str(body, "PackageType");
    if (pt != NULL && strcmp(pt, "Zip") != 0) {
        emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE,
                 "Greenroom runs Zip packages only (PackageType %s is not supported).", pt);
        return;
    }
    if (lfn_str(body, "Runtime") == NULL || lfn_str(body, "Handler") == NULL) {
        emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE,
                 "Runtime and Handler are mandatory parameters for functions created with "
                 "deployment packages.");
        return;
    }
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(body, "Tags");
    if (lfn_tags_ok(resp, tags) != 0) {
        return;
    }
    v.config = cJSON_CreateObject();
    v.description = strdup("");
    cJSON_AddNumberToObject(v.config, "Timeout", 3);
    cJSON_AddNumberToObject(v.config, "MemorySize", 128);
    if (lfn_apply_config(req, resp, body, v.config, &v.description) != 0) {
        goto out;
    }
    int ex = lfn_exists(req, ref.name);
    if (ex != 0) {
        if (ex < 0) {
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        } else {
            emu_fail(resp, LAMBDA_RESOURCE_CONFLICT, "Function already exist: %s", ref.name);
        }
        goto out;
    }
    if (lfn_code_take(req, resp, code, v.code_hex, v.code_sha, &v.code_size) != 0) {
        goto out;
    }
    snprintf(v.version, sizeof(v.version), "$LATEST");
    emu_uuid(v.revision);
    lfn_last_modified(v.last_modified);
    char created[32];
    emu_time_iso(created, emu_now());
    char *tagtext = tags ? cJSON_PrintUnformatted(tags) : strdup("{}");
    sqlite3_stmt *st = emu_stmt("INSERT INTO lambda_functions (account, region, name, created, "
                                "tags, last_version) VALUES (?1, ?2, ?3, ?4, ?5, 0)");
    if (st == NULL) {
        free(tagtext);
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        goto out;
    }
    lfn_bind3(st, req, ref.name);
    lfn_bind(st, 4, created);
    lfn_bind(st, 5, tagtext ? tagtext : "{}");
    free(tagtext);
    if (lfn_exec_done(st, resp) != 0 || lfn_save_ver(req, resp, ref.name, &v) != 0) {
        goto out;
    }
    const cJSON *pub = cJSON_GetObjectItemCaseSensitive(body, "Publish");
    if (cJSON_IsTrue(pub)) {
        struct lfn_ver pv;
        if (lfn_publish(req, resp, ref.name, NULL, &pv) != 0) {
            goto out;
        }
        emu_resp_json(resp, 201, lfn_render(req, ref.name, &pv, pv.version));
        lfn_ver_release(&pv);
    } else {
        emu_resp_json(resp, 201, lfn_render(req, ref.name, &v, NULL));
    }
out:
    lfn_ver_release(&v);
}

/* The presigned-looking URL GetFunction answers in Code.Location. */
static void lfn_code_url(struct emu_buf *b, const char *hex)
{
    unsigned char mac[32];
    unsigned int mlen = 0;
    HMAC(EVP_sha256(), lfn_url_secret, sizeof(lfn_url_secret), (const unsigned char *)hex,
         strlen(hex), mac, &mlen);
    char token[65];
    emu_hex(mac, 16, token);
    emu_buf_printf(b, "%s/_greenroom/lambda-code/%s.zip?X-Amz-Signature=%s", emu_base_url(), hex,
                   token);
}

/* Shared by GetFunction and GetFunctionConfiguration: the version the
 * path and qualifier name, rendered. Returns the configuration or NULL
 * (resp failed); *ver receives the version (caller releases). */
static cJSON *lfn_get_config(struct emu_request *req, struct emu_response *resp,
                             struct lfn_ref *ref, struct lfn_ver *ver)
{
    if (lfn_ref_from(req, resp, emu_param(req, "FunctionName"), emu_query(req, "Qualifier"), ref) !=
            0 ||
        !lfn_exists_or_fail(req, resp, ref->name)) {
        return NULL;
    }
    char version[16];
    int is_alias = 0;
    if (lfn_resolve(req, resp, ref->name, ref->qual, version, &is_alias, NULL) != 0) {
        return NULL;
    }
    if (lfn_load_ver(req, ref->name, version, ver) != 1) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return NULL;
    }
    return lfn_render(req, ref->name, ver, ref->qual[0] ? ref->qual : NULL);
}

static void lambda_get_function(struct emu_request *req, struct emu_response *resp)
{
    struct lfn_ref ref;
    struct lfn_ver v;
    memset(&v, 0, sizeof(v));
    cJSON *cfg = lfn_get_config(req, resp, &ref, &v);
    if (cfg == NULL) {
        lfn_ver_release(&v);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "Configuration", cfg);
    cJSON *code = cJSON_AddObjectToObject(o, "Code");
    cJSON_AddStringToObject(code, "RepositoryType", "S3");
    struct emu_buf url = {0};
    lfn_code_url(&url, v.code_hex);
    cJSON_AddStringToObject(code, "Location", url.data);
    emu_buf_release(&url);
    sqlite3_stmt *st = emu_stmt(
        "SELECT tags FROM lambda_functions WHERE account = ?1 AND region = ?2 AND name = ?3");
    if (st != NULL) {
        lfn_bind3(st, req, ref.name);
        if (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *tags = cJSON_Parse((const char *)sqlite3_column_text(st, 0));
            if (cJSON_GetArraySize(tags) > 0) {
                cJSON_AddItemToObject(o, "Tags", tags);
            } else {
                cJSON_Delete(tags);
            }
        }
        emu_stmt_done(st);
    }
    long long reserved = 0;
    if (lfn_reserved(req, ref.name, &reserved) == 1) {
        cJSON *c = cJSON_AddObjectToObject(o, "Concurrency");
        cJSON_AddNumberToObject(c, "ReservedConcurrentExecutions", (double)reserved);
    }
    lfn_ver_release(&v);
    emu_resp_json(resp, 200, o);
}

static void lambda_get_function_configuration(struct emu_request *req, struct emu_response *resp)
{
    struct lfn_ref ref;
    struct lfn_ver v;
    memset(&v, 0, sizeof(v));
    cJSON *cfg = lfn_get_config(req, resp, &ref, &v);
    lfn_ver_release(&v);
    if (cfg != NULL) {
        emu_resp_json(resp, 200, cfg);
    }
}

/* MaxItems of a list call: dflt when absent, else 1..limit (the model's
 * bounds: 10000 for most lists, 50 for ListFunctionEventInvokeConfigs).
 * Returns 0, -1 with resp failed (ValidationException as AWS words it). */
static int lfn_max_items(struct emu_request *req, struct emu_response *resp, long *max, long dflt,
                         long limit)
{
    *max = dflt;
    const char *m = emu_query(req, "MaxItems");
    if (m == NULL) {
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long v = strtol(m, &end, 10);
    if (end == m || *end != 0 || errno != 0) {
        emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE, "Invalid value for MaxItems: %s", m);
        return -1;
    }
    char c[64];
    if (v < 1) {
        snprintf(c, sizeof(c), "Member must have value greater than or equal to 1");
    } else if (v > limit) {
        snprintf(c, sizeof(c), "Member must have value less than or equal to %ld", limit);
    } else {
        *max = v;
        return 0;
    }
    lfn_validation(resp, m, "maxItems", c);
    return -1;
}

/* Renders the current row of a query of LFN_VER_COLS (new tree). */
static cJSON *lfn_render_row(struct emu_request *req, sqlite3_stmt *st)
{
    char name[72];
    snprintf(name, sizeof(name), "%s", (const char *)sqlite3_column_text(st, 0));
    struct lfn_ver v;
    v.config = cJSON_Parse((const char *)sqlite3_column_text(st, 2));
    v.description = emu_col_dup(st, 3);
    snprintf(v.version, sizeof(v.version), "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(v.code_sha, sizeof(v.code_sha), "%s", (const char *)sqlite3_column_text(st, 4));
    snprintf(v.code_hex, sizeof(v.code_hex), "%s", (const char *)sqlite3_column_text(st, 5));
    v.code_size = sqlite3_column_int64(st, 6);
    snprintf(v.revision, sizeof(v.revision), "%s", (const char *)sqlite3_column_text(st, 7));
    snprintf(v.last_modified, sizeof(v.last_modified), "%s",
             (const char *)sqlite3_column_text(st, 8));
    if (v.config == NULL) {
        v.config = cJSON_CreateObject();
    }
    cJSON *o = lfn_render(req, name, &v, strcmp(v.version, "$LATEST") == 0 ? NULL : v.version);
    lfn_ver_release(&v);
    return o;
}

#define LFN_VER_COLS                                                                               \
    "name, version, config, description, code_sha, code_hex, code_size, revision, last_modified"

/* List markers are opaque tokens: URL-safe base64 (no padding) of a text
 * naming the last item returned, so the next page continues after that item
 * by key (keyset paging, not an offset) and items added or removed between
 * calls neither repeat nor get skipped. The texts:
 *   ListFunctions, ListVersionsByFunction  "<function>/<k>" (k: -1 for
 *                                          $LATEST, else the version)
 *   ListAliases                            "alias:<function>/<alias>"
 *   ListFunctionEventInvokeConfigs         "eic:<function>/<qualifier>"
 *   ListEventSourceMappings                "esm:<uuid>"
 * A marker that is not one of ours (or of another list) is answered
 * InvalidParameterValueException. */
static char *lfn_marker_encode(const char *text)
{
    char *m = emu_base64_encode(text, strlen(text));
    for (char *p = m; p != NULL && *p; p++) {
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p; /* URL-safe alphabet */
        if (*p == '=') {
            *p = 0; /* no padding: nothing to escape in a query string */
            break;
        }
    }
    return m;
}

/* Decodes a marker into text (NUL-terminated, at most len - 1 bytes and
 * no NUL inside). Returns 0, -1 when it is not a marker of ours. */
static int lfn_marker_decode(const char *marker, char *text, size_t len)
{
    char std[400];
    size_t sl = strlen(marker);
    if (sl == 0 || sl + 4 >= sizeof(std)) {
        return -1;
    }
    for (size_t i = 0; i < sl; i++) {
        char c = marker[i];
        if (!isalnum((unsigned char)c) && c != '-' && c != '_') {
            return -1;
        }
        std[i] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    while (sl % 4 != 0) {
        std[sl++] = '=';
    }
    std[sl] = 0;
    size_t n = 0;
    unsigned char *raw = emu_base64_decode(std, &n);
    int rc = -1;
    if (raw == NULL || n == 0 || n >= len || memchr(raw, 0, n) != NULL) {
        goto out;
    }
    memcpy(text, raw, n);
    text[n] = 0;
    rc = 0;
out:
    free(raw);
    return rc;
}

/* "<prefix><scope>/<key>" -> marker (caller frees). */
static char *lfn_key_marker(const char *prefix, const char *scope, const char *key)
{
    struct emu_buf b = {0};
    emu_buf_printf(&b, "%s%s%s%s", prefix, scope, scope[0] ? "/" : "", key);
    char *m = lfn_marker_encode(b.data ? b.data : "");
    emu_buf_release(&b);
    return m;
}

/* Parses a marker made by lfn_key_marker with the same prefix and scope:
 * writes its key into key. Returns 0, -1 when it is not one. */
static int lfn_key_marker_parse(const char *marker, const char *prefix, const char *scope,
                                char *key, size_t keylen)
{
    char text[300];
    if (lfn_marker_decode(marker, text, sizeof(text)) != 0) {
        return -1;
    }
    size_t pl = strlen(prefix), sl = strlen(scope);
    if (strncmp(text, prefix, pl) != 0 || strncmp(text + pl, scope, sl) != 0) {
        return -1;
    }
    const char *k = text + pl + sl;
    if (sl > 0) {
        if (*k != '/') {
            return -1;
        }
        k++;
    }
    if (*k == 0 || strlen(k) >= keylen) {
        return -1;
    }
    snprintf(key, keylen, "%s", k);
    return 0;
}

static char *lfn_marker_make(const char *name, long long key)
{
    char raw[128];
    snprintf(raw, sizeof(raw), "%s/%lld", name, key);
    return lfn_marker_encode(raw);
}

/* Returns 0 with name/key of a version marker, -1 when it is not one. */
static int lfn_marker_parse(const char *marker, char name[72], long long *key)
{
    char text[128];
    if (lfn_marker_decode(marker, text, sizeof(text)) != 0) {
        return -1;
    }
    char *slash = strrchr(text, '/');
    if (slash == NULL || slash == text || (size_t)(slash - text) >= 72) {
        return -1;
    }
    *slash = 0;
    char *end = NULL;
    errno = 0;
    *key = strtoll(slash + 1, &end, 10);
    if (end == slash + 1 || *end != 0 || errno != 0 || *key < -1) {
        return -1;
    }
    struct lfn_ref ref;
    if (lfn_parse_name(text, &ref) != 0 || ref.qual[0] != 0 || strcmp(ref.name, text) != 0) {
        return -1;
    }
    snprintf(name, 72, "%s", text);
    return 0;
}

static void lambda_list_functions(struct emu_request *req, struct emu_response *resp)
{
    long max;
    if (lfn_max_items(req, resp, &max, 50, 10000) != 0) {
        return;
    }
    char after_name[72] = "";
    long long after_key = -2;
    const char *marker = emu_query(req, "Marker");
    if (marker != NULL && marker[0] != 0 && lfn_marker_parse(marker, after_name, &after_key) != 0) {
        emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE, "Invalid marker: %s", marker);
        return;
    }
    const char *fv = emu_query(req, "FunctionVersion");
    if (fv != NULL && strcmp(fv, "ALL") != 0) {
        lfn_validation(resp, fv, "functionVersion", "Member must satisfy enum value set: [ALL]");
        return;
    }
    sqlite3_stmt *st = emu_stmt(
        "SELECT " LFN_VER_COLS ", CASE WHEN version = '$LATEST' THEN -1 ELSE CAST(version AS "
        "INTEGER) END AS k FROM lambda_versions WHERE account = ?1 AND region = ?2 AND "
        "(?3 = 1 OR version = '$LATEST') AND (name > ?5 OR (name = ?5 AND "
        "(CASE WHEN version = '$LATEST' THEN -1 ELSE CAST(version AS INTEGER) END) > ?6)) "
        "ORDER BY name, k LIMIT ?4");
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    lfn_bind(st, 1, req->account);
    lfn_bind(st, 2, req->region);
    sqlite3_bind_int(st, 3, fv != NULL);
    sqlite3_bind_int64(st, 4, max + 1);
    lfn_bind(st, 5, after_name);
    sqlite3_bind_int64(st, 6, after_key);
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "Functions");
    int more = 0;
    char last_name[72] = "";
    long long last_key = -1;
    long n = 0;
    while (n < max && sqlite3_step(st) == SQLITE_ROW) {
        snprintf(last_name, sizeof(last_name), "%s", (const char *)sqlite3_column_text(st, 0));
        last_key = sqlite3_column_int64(st, 9);
        n++;
        cJSON_AddItemToArray(arr, lfn_render_row(req, st));
    }
    if (n == max && sqlite3_step(st) == SQLITE_ROW) {
        more = 1;
    }
    emu_stmt_done(st);
    if (more) {
        char *mk = lfn_marker_make(last_name, last_key);
        cJSON_AddStringToObject(o, "NextMarker", mk ? mk : "");
        free(mk);
    }
    emu_resp_json(resp, 200, o);
}

static void lambda_list_versions_by_function(struct emu_request *req, struct emu_response *resp)
{
    long max;
    struct lfn_ref ref;
    if (lfn_ref_from(req, resp, emu_param(req, "FunctionName"), NULL, &ref) != 0 ||
        lfn_max_items(req, resp, &max, 50, 10000) != 0 ||
        !lfn_exists_or_fail(req, resp, ref.name)) {
        return;
    }
    /* opaque keyset marker, as ListFunctions (the name in it must match) */
    char mname[72] = "";
    long long after_key = -2;
    const char *marker = emu_query(req, "Marker");
    if (marker != NULL && marker[0] != 0 &&
        (lfn_marker_parse(marker, mname, &after_key) != 0 || strcmp(mname, ref.name) != 0)) {
        emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE, "Invalid marker: %s", marker);
        return;
    }
    sqlite3_stmt *st = emu_stmt(
        "SELECT " LFN_VER_COLS ", CASE WHEN version = '$LATEST' THEN -1 ELSE CAST(version AS "
        "INTEGER) END AS k FROM lambda_versions WHERE account = ?1 AND region = ?2 AND "
        "name = ?3 AND (CASE WHEN version = '$LATEST' THEN -1 ELSE CAST(version AS INTEGER) "
        "END) > ?5 ORDER BY k LIMIT ?4");
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    lfn_bind3(st, req, ref.name);
    sqlite3_bind_int64(st, 4, max + 1);
    sqlite3_bind_int64(st, 5, after_key);
    long long last_key = -1;
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "Versions");
    int more = 0;
    /* every version shows its qualified ARN, $LATEST included */
    long n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n++ == max) {
            more = 1;
            break;
        }
        last_key = sqlite3_column_int64(st, 9);
        struct lfn_ver v;
        memset(&v, 0, sizeof(v));
        snprintf(v.version, sizeof(v.version), "%s", (const char *)sqlite3_column_text(st, 1));
        v.config = cJSON_Parse((const char *)sqlite3_column_text(st, 2));
        if (v.config == NULL) {
            v.config = cJSON_CreateObject();
        }
        v.description = emu_col_dup(st, 3);
        snprintf(v.code_sha, sizeof(v.code_sha), "%s", (const char *)sqlite3_column_text(st, 4));
        snprintf(v.code_hex, sizeof(v.code_hex), "%s", (const char *)sqlite3_column_text(st, 5));
        v.code_size = sqlite3_column_int64(st, 6);
        snprintf(v.revision, sizeof(v.revision), "%s", (const char *)sqlite3_column_text(st, 7));
        snprintf(v.last_modified, sizeof(v.last_modified), "%s",
                 (const char *)sqlite3_column_text(st, 8));
        cJSON_AddItemToArray(arr, lfn_render(req, ref.name, &v, v.version));
        lfn_ver_release(&v);
    }
    emu_stmt_done(st);
    if (more) {
        char *mk = lfn_marker_make(ref.name, last_key);
        cJSON_AddStringToObject(o, "NextMarker", mk ? mk : "");
        free(mk);
    }
    emu_resp_json(resp, 200, o);
}

/* Deletes rows of a per-function table, optionally for one qualifier
 * column value. Returns 0 or -1 (resp failed). */
static int lfn_delete_rows(struct emu_request *req, struct emu_response *resp, const char *sql,
                           const char *name, const char *extra)
{
    sqlite3_stmt *st = emu_stmt(sql);
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return -1;
    }
    lfn_bind3(st, req, name);
    if (extra != NULL) {
        lfn_bind(st, 4, extra);
    }
    return lfn_exec_done(st, resp);
}

/* Aliases that point at version (primary or weighted), as "[a, b]" into
 * out; returns how many. */
static int lfn_aliases_of(struct emu_request *req, const char *name, const char *version,
                          struct emu_buf *out)
{
    sqlite3_stmt *st = emu_stmt("SELECT alias, version, routing FROM lambda_aliases WHERE "
                                "account = ?1 AND region = ?2 AND name = ?3 ORDER BY alias");
    if (st == NULL) {
        return -1;
    }
    lfn_bind3(st, req, name);
    int n = 0;
    emu_buf_puts(out, "[");
    while (sqlite3_step(st) == SQLITE_ROW) {
        int hit = strcmp((const char *)sqlite3_column_text(st, 1), version) == 0;
        if (!hit && sqlite3_column_type(st, 2) != SQLITE_NULL) {
            cJSON *r = cJSON_Parse((const char *)sqlite3_column_text(st, 2));
            hit = cJSON_GetObjectItemCaseSensitive(r, version) != NULL;
            cJSON_Delete(r);
        }
        if (hit) {
            emu_buf_printf(out, "%s%s", n ? ", " : "", (const char *)sqlite3_column_text(st, 0));
            n++;
        }
    }
    emu_buf_puts(out, "]");
    emu_stmt_done(st);
    return n;
}

static void lambda_delete_function(struct emu_request *req, struct emu_response *resp)
{
    struct lfn_ref ref;
    if (lfn_ref_from(req, resp, emu_param(req, "FunctionName"), emu_query(req, "Qualifier"),
                     &ref) != 0 ||
        !lfn_exists_or_fail(req, resp, ref.name)) {
        return;
    }
    if (ref.qual[0] != 0) {
        if (strcmp(ref.qual, "$LATEST") == 0) {
            emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE,
                     "$LATEST version cannot be deleted without deleting the function.");
            return;
        }
        if (!lfn_is_digits(ref.qual)) {
            emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE, "Deletion of aliases is not supported.");
            return;
        }
        char version[16];
        int is_alias;
        if (lfn_resolve(req, resp, ref.name, ref.qual, version, &is_alias, NULL) != 0) {
            return;
        }
        struct emu_buf names = {0};
        int n = lfn_aliases_of(req, ref.name, ref.qual, &names);
        if (n != 0) {
            if (n < 0) {
                emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
            } else {
                emu_fail(resp, LAMBDA_RESOURCE_CONFLICT,
                         "Unable to delete version because the following aliases reference it: "
                         "%s",
                         names.data);
            }
            emu_buf_release(&names);
            return;
        }
        emu_buf_release(&names);
        if (lfn_delete_rows(req, resp,
                            "DELETE FROM lambda_versions WHERE account = ?1 AND region = ?2 AND "
                            "name = ?3 AND version = ?4",
                            ref.name, ref.qual) != 0 ||
            lfn_delete_rows(req, resp,
                            "DELETE FROM lambda_policies WHERE account = ?1 AND region = ?2 AND "
                            "name = ?3 AND qualifier = ?4",
                            ref.name, ref.qual) != 0 ||
            lfn_delete_rows(req, resp,
                            "DELETE FROM lambda_event_configs WHERE account = ?1 AND region = ?2 "
                            "AND name = ?3 AND qualifier = ?4",
                            ref.name, ref.qual) != 0) {
            return;
        }
    } else {
        const char *sqls[] = {
            "DELETE FROM lambda_versions WHERE account = ?1 AND region = ?2 AND name = ?3",
            "DELETE FROM lambda_aliases WHERE account = ?1 AND region = ?2 AND name = ?3",
            "DELETE FROM lambda_policies WHERE account = ?1 AND region = ?2 AND name = ?3",
            /* as AWS does, the function's event source mappings go with it */
            "DELETE FROM lambda_esm WHERE account = ?1 AND region = ?2 AND name = ?3",
            "DELETE FROM lambda_event_configs WHERE account = ?1 AND region = ?2 AND name = ?3",
            /* queued asynchronous events die with the function (a function
             * created again under its name does not get them) */
            "DELETE FROM lambda_async_events WHERE account = ?1 AND region = ?2 AND name = ?3",
            "DELETE FROM lambda_functions WHERE account = ?1 AND region = ?2 AND name = ?3",
        };
        for (size_t i = 0; i < sizeof(sqls) / sizeof(*sqls); i++) {
            if (lfn_delete_rows(req, resp, sqls[i], ref.name, NULL) != 0) {
                return;
            }
        }
    }
    lambda_exec_drop(req->account, req->region, ref.name, ref.qual[0] ? ref.qual : NULL);
    emu_resp_body(resp, 204, NULL, "", 0);
}

/* RevisionId precondition. Returns 1 when it holds (or is absent). */
static int lfn_revision_ok(struct emu_response *resp, const char *given, const char *current,
                           const char *what)
{
    if (given == NULL || strcmp(given, current) == 0) {
        return 1;
    }
    emu_fail(resp, LAMBDA_PRECONDITION_FAILED,
             "The Revision Id provided does not match the latest Revision Id. Call the %s API to "
             "retrieve the latest Revision Id",
             what);
    return 0;
}

/* The $LATEST version that UpdateFunctionCode and
 * UpdateFunctionConfiguration change: the function's name into ref and
 * the version into *v (caller releases). Returns 0, or -1 having answered
 * (no such function, a qualifier other than $LATEST, a RevisionId that is
 * not $LATEST's). */
static int lfn_latest_for_update(struct emu_request *req, struct emu_response *resp,
                                 struct lfn_ref *ref, struct lfn_ver *v)
{
    memset(v, 0, sizeof(*v));
    if (lfn_ref_from(req, resp, emu_param(req, "FunctionName"), NULL, ref) != 0 ||
        !lfn_exists_or_fail(req, resp, ref->name)) {
        return -1;
    }
    if (ref->qual[0] != 0 && strcmp(ref->qual, "$LATEST") != 0) {
        emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE,
                 "Current operation does not support versions other than $LATEST. Please set "
                 "version to $LATEST or do not set a version in your request.");
        return -1;
    }
    if (lfn_load_ver(req, ref->name, "$LATEST", v) != 1) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return -1;
    }
    if (!lfn_revision_ok(resp, lfn_str(req->json, "RevisionId"), v->revision, "GetFunction")) {
        lfn_ver_release(v);
        return -1;
    }
    return 0;
}

/* Saves v as the function's $LATEST with a new RevisionId and
 * LastModified, and drops its warm sandboxes. Returns 0, or -1 having
 * answered. */
static int lfn_save_latest(struct emu_request *req, struct emu_response *resp, const char *name,
                           struct lfn_ver *v)
{
    emu_uuid(v->revision);
    lfn_last_modified(v->last_modified);
    if (lfn_save_ver(req, resp, name, v) != 0) {
        return -1;
    }
    lambda_exec_drop(req->account, req->region, name, "$LATEST");
    return 0;
}

static void lambda_update_function_code(struct emu_request *req, struct emu_response *resp)
{
    struct lfn_ref ref;
    struct lfn_ver v;
    if (lfn_latest_for_update(req, resp, &ref, &v) != 0) {
        return;
    }
    char hex[65], sha[48];
    long long size = 0;
    if (lfn_code_take(req, resp, req->json, hex, sha, &size) != 0) {
        goto out;
    }
    snprintf(v.code_hex, sizeof(v.code_hex), "%s", hex);
    snprintf(v.code_sha, sizeof(v.code_sha), "%s", sha);
    v.code_size = size;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req->json, "DryRun"))) {
        /* validated, nothing changes: answer what it would look like */
        emu_resp_json(resp, 200, lfn_render(req, ref.name, &v, NULL));
        goto out;
    }
    if (lfn_save_latest(req, resp, ref.name, &v) != 0) {
        goto out;
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req->json, "Publish"))) {
        struct lfn_ver pv;
        if (lfn_publish(req, resp, ref.name, NULL, &pv) != 0) {
            goto out;
        }
        emu_resp_json(resp, 200, lfn_render(req, ref.name, &pv, pv.version));
        lfn_ver_release(&pv);
        goto out;
    }
    emu_resp_json(resp, 200, lfn_render(req, ref.name, &v, NULL));
out:
    lfn_ver_release(&v);
}

static void lambda_update_function_configuration(struct emu_request *req, struct emu_response *resp)
{
    struct lfn_ref ref;
    struct lfn_ver v;
    if (lfn_latest_for_update(req, resp, &ref, &v) != 0) {
        return;
    }
    if (lfn_apply_config(req, resp, req->json, v.config, &v.description) != 0 ||
        lfn_save_latest(req, resp, ref.name, &v) != 0) {
        goto out;
    }
    emu_resp_json(resp, 200, lfn_render(req, ref.name, &v, NULL));
out:
    lfn_ver_release(&v);
}

static void lambda_publish_version(struct emu_request *req, struct emu_response *resp)
{
    struct lfn_ref ref;
    struct lfn_ver v;
    memset(&v, 0, sizeof(v));
    if (lfn_ref_from(req, resp, emu_param(req, "FunctionName"), NULL, &ref) != 0 ||
        !lfn_exists_or_fail(req, resp, ref.name)) {
        return;
    }
    if (lfn_load_ver(req, ref.name, "$LATEST", &v) != 1) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    const char *sha = lfn_str(req->json, "CodeSha256");
    if (sha != NULL && strcmp(sha, v.code_sha) != 0) {
        emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE,
                 "CodeSHA256 (%s) is different from current CodeSHA256 in $LATEST (%s). Please "
                 "try again with the CodeSHA256 in $LATEST.",
                 sha, v.code_sha);
        goto out;
    }
    if (!lfn_revision_ok(resp, lfn_str(req->json, "RevisionId"), v.revision, "GetFunction")) {
        goto out;
    }
    const char *desc = lfn_str(req->json, "Description");
    if (desc != NULL && strlen(desc) > 256) {
        lfn_validation(resp, desc, "description",
                       "Member must have length less than or equal to 256");
        goto out;
    }
    struct lfn_ver pv;
    if (lfn_publish(req, resp, ref.name, desc, &pv) != 0) {
        goto out;
    }
    emu_resp_json(resp, 201, lfn_render(req, ref.name, &pv, pv.version));
    lfn_ver_release(&pv);
out:
    lfn_ver_release(&v);
}

/* ------------------------------------------------------------- aliases */

static cJSON *lfn_alias_json(struct emu_request *req, const char *name, const char *alias,
                             const struct lfn_alias *a)
{
    cJSON *o = cJSON_CreateObject();
    char arn[400];
    lfn_arn(arn, sizeof(arn), req, name, alias);
    cJSON_AddStringToObject(o, "AliasArn", arn);
    cJSON_AddStringToObject(o, "Name", alias);
    cJSON_AddStringToObject(o, "FunctionVersion", a->version);
    cJSON_AddStringToObject(o, "Description", a->description ? a->description : "");
    if (a->routing != NULL && cJSON_GetArraySize(a->routing) > 0) {
        cJSON *rc = cJSON_AddObjectToObject(o, "RoutingConfig");
        cJSON_AddItemToObject(rc, "AdditionalVersionWeights", cJSON_Duplicate(a->routing, 1));
    }
    cJSON_AddStringToObject(o, "RevisionId", a->revision);
    return o;
}

/* 1 when the version exists. */
static int lfn_version_exists(struct emu_request *req, const char *name, const char *version)
{
    sqlite3_stmt *st = emu_stmt("SELECT 1 FROM lambda_versions WHERE account = ?1 AND region = ?2 "
                                "AND name = ?3 AND version = ?4");
    if (st == NULL) {
        return 0;
    }
    lfn_bind3(st, req, name);
    lfn_bind(st, 4, version);
    int rc = sqlite3_step(st);
    emu_stmt_done(st);
    return rc == SQLITE_ROW;
}

/* Validates FunctionVersion and RoutingConfig of Create/UpdateAlias.
 * routing_in: the RoutingConfig member (may be NULL). On success *weights
 * is a copy of AdditionalVersionWeights (NULL when none or empty).
 * Returns 0, -1 with resp failed. */
static int lfn_alias_check(struct emu_request *req, struct emu_response *resp, const char *name,
                           const char *version, const cJSON *routing_in, cJSON **weights)
{
    *weights = NULL;
    if (strcmp(version, "$LATEST") != 0 && !lfn_is_digits(version)) {
        lfn_validation(resp, version, "functionVersion",
                       "Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)");
        return -1;
    }
    if (!lfn_version_exists(req, name, version)) {
        lfn_fail_not_found(req, resp, name, version);
        return -1;
    }
    if (routing_in == NULL || cJSON_IsNull(routing_in)) {
        return 0;
    }
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(routing_in, "AdditionalVersionWeights");
    if (!cJSON_IsObject(routing_in) || (w != NULL && !cJSON_IsObject(w))) {
        emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE, "RoutingConfig must be an object.");
        return -1;
    }
    int n = cJSON_GetArraySize(w);
    if (n == 0) {
        return 0;
    }
    if (n > 1) {
        emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE,
                 "Number of items in AdditionalVersionWeights cannot be greater than 1");
        return -1;
    }
    const cJSON *it = w->child;
    const char *k = it->string ? it->string : "";
    if (!lfn_is_digits(k) || strlen(k) > 1024) {
        lfn_validation(resp, k, "routingConfig.additionalVersionWeights",
                       "Map keys must satisfy constraint: [Member must have length less than or "
                       "equal to 1024, Member must have length greater than or equal to 1, Member "
                       "must satisfy regular expression pattern: [0-9]+, Member must not be null]");
        return -1;
    }
    if (!cJSON_IsNumber(it) || it->valuedouble < 0.0 || it->valuedouble > 1.0) {
        char v[64];
        if (cJSON_IsNumber(it)) {
            snprintf(v, sizeof(v), "{%s=%g}", k, it->valuedouble);
        } else {
            snprintf(v, sizeof(v), "{%s=null}", k);
        }
        lfn_validation(resp, v, "routingConfig.additionalVersionWeights",
                       "Map value must satisfy constraint: [Member must have value less than or "
                       "equal to 1.0, Member must have value greater than or equal to 0.0, Member "
                       "must not be null]");
        return -1;
    }
    if (strcmp(version, "$LATEST") == 0) {
        emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE,
                 "$LATEST is not supported for an alias pointing to more than 1 version");
        return -1;
    }
    if (strcmp(k, version) == 0) {
        emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE,
                 "Invalid function version %s. Function version %s is already included in "
                 "routing configuration.",
                 k, k);
        return -1;
    }
    if (!lfn_version_exists(req, name, k)) {
        lfn_fail_not_found(req, resp, name, k);
        return -1;
    }
    *weights = cJSON_Duplicate(w, 1);
    return 0;
}

/* Alias names: (?!^[0-9]+$)([a-zA-Z0-9-_]+), 1..128. */
static int lfn_alias_name_ok(struct emu_response *resp, const char *alias)
{
    if (alias == NULL) {
        lfn_validation(resp, NULL, "name", "Member must not be null");
        return 0;
    }
    if (!lfn_is_word(alias, 128, 0) || lfn_is_digits(alias)) {
        lfn_validation(resp, alias, "name",
                       "Member must satisfy regular expression pattern: "
                       "(?!^[0-9]+$)([a-zA-Z0-9-_]+)");
        return 0;
    }
    return 1;
}

static int lfn_save_alias(struct emu_request *req, struct emu_response *resp, const char *name,
                          const char *alias, const struct lfn_alias *a)
{
    sqlite3_stmt *st = emu_stmt("INSERT OR REPLACE INTO lambda_aliases (account, region, name, "
                                "alias, version, description, routing, revision) VALUES (?1, ?2, "
                                "?3, ?4, ?5, ?6, ?7, ?8)");
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return -1;
    }
    char *routing = a->routing && cJSON_GetArraySize(a->routing) > 0
                        ? cJSON_PrintUnformatted(a->routing)
                        : NULL;
    lfn_bind3(st, req, name);
    lfn_bind(st, 4, alias);
    lfn_bind(st, 5, a->version);
    lfn_bind(st, 6, a->description ? a->description : "");
    lfn_bind(st, 7, routing);
    lfn_bind(st, 8, a->revision);
    free(routing);
    return lfn_exec_done(st, resp);
}

static void lambda_create_alias(struct emu_request *req, struct emu_response *resp)
{
    struct lfn_ref ref;
    if (lfn_ref_from(req, resp, emu_param(req, "FunctionName"), NULL, &ref) != 0) {
        return;
    }
    const char *alias = lfn_str(req->json, "Name");
    const char *version = lfn_str(req->json, "FunctionVersion");
    const char *desc = lfn_str(req->json, "Description");
    if (!lfn_alias_name_ok(resp, alias)) {
        return;
    }
    if (version == NULL) {
        lfn_validation(resp, NULL, "functionVersion", "Member must not be null");
        return;
    }
    if (desc != NULL && strlen(desc) > 256) {
        lfn_validation(resp, desc, "description",
                       "Member must have length less than or equal to 256");
        return;
    }
    if (!lfn_exists_or_fail(req, resp, ref.name)) {
        return;
    }
    struct lfn_alias a;
    memset(&a, 0, sizeof(a));
    if (lfn_alias_check(req, resp, ref.name, version,
                        cJSON_GetObjectItemCaseSensitive(req->json, "RoutingConfig"),
                        &a.routing) != 0) {
        return;
    }
    struct lfn_alias old;
    int r = lfn_load_alias(req, ref.name, alias, &old);
    lfn_alias_release(&old);
    if (r != 0) {
        if (r < 0) {
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        } else {
            char arn[400];
            lfn_arn(arn, sizeof(arn), req, ref.name, alias);
            emu_fail(resp, LAMBDA_RESOURCE_CONFLICT, "Alias already exists: %s", arn);
        }
        lfn_alias_release(&a);
        return;
    }
    snprintf(a.version, sizeof(a.version), "%s", version);
    a.description = strdup(desc ? desc : "");
    emu_uuid(a.revision);
    if (lfn_save_alias(req, resp, ref.name, alias, &a) == 0) {
        emu_resp_json(resp, 201, lfn_alias_json(req, ref.name, alias, &a));
    }
    lfn_alias_release(&a);
}

/* The alias of the path, loaded; fails resp with the AWS message when it
 * does not exist. Returns 1 when loaded. */
static int lfn_alias_or_fail(struct emu_request *req, struct emu_response *resp,
                             struct lfn_ref *ref, struct lfn_alias *a)
{
    memset(a, 0, sizeof(*a));
    if (lfn_ref_from(req, resp, emu_param(req, "FunctionName"), NULL, ref) != 0) {
        return 0;
    }
    const char *alias = emu_param(req, "Name");
    if (!lfn_alias_name_ok(resp, alias) || !lfn_exists_or_fail(req, resp, ref->name)) {
        return 0;
    }
    int r = lfn_load_alias(req, ref->name, alias, a);
    if (r <= 0) {
        if (r < 0) {
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        } else {
            char arn[400];
            lfn_arn(arn, sizeof(arn), req, ref->name, alias);
            emu_fail(resp, LAMBDA_RESOURCE_NOT_FOUND, "Cannot find alias arn: %s", arn);
        }
        return 0;
    }
    return 1;
}

static void lambda_get_alias(struct emu_request *req, struct emu_response *resp)
{
    struct lfn_ref ref;
    struct lfn_alias a;
    if (lfn_alias_or_fail(req, resp, &ref, &a)) {
        emu_resp_json(resp, 200, lfn_alias_json(req, ref.name, emu_param(req, "Name"), &a));
    }
    lfn_alias_release(&a);
}

static void lambda_update_alias(struct emu_request *req, struct emu_response *resp)
{
    struct lfn_ref ref;
    struct lfn_alias a;
    if (!lfn_alias_or_fail(req, resp, &ref, &a)) {
        lfn_alias_release(&a);
        return;
    }
    const char *alias = emu_param(req, "Name");
    if (!lfn_revision_ok(resp, lfn_str(req->json, "RevisionId"), a.revision, "GetAlias")) {
        goto out;
    }
    const char *version = lfn_str(req->json, "FunctionVersion");
    const char *desc = lfn_str(req->json, "Description");
    if (desc != NULL && strlen(desc) > 256) {
        lfn_validation(resp, desc, "description",
                       "Member must have length less than or equal to 256");
        goto out;
    }
    const cJSON *rc = cJSON_GetObjectItemCaseSensitive(req->json, "RoutingConfig");
    char newver[16];
    snprintf(newver, sizeof(newver), "%s", version ? version : a.version);
    cJSON *weights = NULL;
    if (rc != NULL) {
        if (lfn_alias_check(req, resp, ref.name, newver, rc, &weights) != 0) {
            goto out;
        }
        cJSON_Delete(a.routing);
        a.routing = weights;
    } else {
        /* keep the current weights, re-checked against the new version */
        cJSON *keep = a.routing ? cJSON_CreateObject() : NULL;
        if (keep != NULL) {
            cJSON_AddItemToObject(keep, "AdditionalVersionWeights", cJSON_Duplicate(a.routing, 1));
        }
        int bad = lfn_alias_check(req, resp, ref.name, newver, keep, &weights);
        cJSON_Delete(keep);
        if (bad != 0) {
            goto out;
        }
        cJSON_Delete(a.routing);
        a.routing = weights;
    }
    snprintf(a.version, sizeof(a.version), "%s", newver);
    if (desc != NULL) {
        free(a.description);
        a.description = strdup(desc);
    }
    emu_uuid(a.revision);
    if (lfn_save_alias(req, resp, ref.name, alias, &a) == 0) {
        emu_resp_json(resp, 200, lfn_alias_json(req, ref.name, alias, &a));
    }
out:
    lfn_alias_release(&a);
}

static void lambda_delete_alias(struct emu_request *req, struct emu_response *resp)
{
    struct lfn_ref ref;
    if (lfn_ref_from(req, resp, emu_param(req, "FunctionName"), NULL, &ref) != 0) {
        return;
    }
    const char *alias = emu_param(req, "Name");
    if (!lfn_alias_name_ok(resp, alias)) {
        return;
    }
    if (lfn_delete_rows(req, resp,
                        "DELETE FROM lambda_aliases WHERE account = ?1 AND region = ?2 AND "
                        "name = ?3 AND alias = ?4",
                        ref.name, alias) != 0 ||
        lfn_delete_rows(req, resp,
                        "DELETE FROM lambda_policies WHERE account = ?1 AND region = ?2 AND "
                        "name = ?3 AND qualifier = ?4",
                        ref.name, alias) != 0) {
        return;
    }
    emu_resp_body(resp, 204, NULL, "", 0);
}

static void lambda_list_aliases(struct emu_request *req, struct emu_response *resp)
{
    long max;
    struct lfn_ref ref;
    if (lfn_ref_from(req, resp, emu_param(req, "FunctionName"), NULL, &ref) != 0 ||
        lfn_max_items(req, resp, &max, 50, 10000) != 0) {
        return;
    }
    char after[132] = "";
    const char *marker = emu_query(req, "Marker");
    if (marker != NULL && marker[0] != 0 &&
        lfn_key_marker_parse(marker, "alias:", ref.name, after, sizeof(after)) != 0) {
        emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE, "Invalid marker: %s", marker);
        return;
    }
    if (!lfn_exists_or_fail(req, resp, ref.name)) {
        return;
    }
    const char *fv = emu_query(req, "FunctionVersion");
    sqlite3_stmt *st = emu_stmt("SELECT alias, version, description, routing, revision FROM "
                                "lambda_aliases WHERE account = ?1 AND region = ?2 AND name = ?3 "
                                "AND (?4 IS NULL OR version = ?4) AND alias > ?6 ORDER BY alias "
                                "LIMIT ?5");
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    lfn_bind3(st, req, ref.name);
    lfn_bind(st, 4, fv);
    sqlite3_bind_int64(st, 5, max + 1);
    lfn_bind(st, 6, after);
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "Aliases");
    long n = 0;
    int more = 0;
    char last[132] = "";
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n++ == max) {
            more = 1;
            break;
        }
        struct lfn_alias a;
        memset(&a, 0, sizeof(a));
        snprintf(last, sizeof(last), "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(a.version, sizeof(a.version), "%s", (const char *)sqlite3_column_text(st, 1));
        a.description = emu_col_dup(st, 2);
        if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
            a.routing = cJSON_Parse((const char *)sqlite3_column_text(st, 3));
        }
        snprintf(a.revision, sizeof(a.revision), "%s", (const char *)sqlite3_column_text(st, 4));
        cJSON_AddItemToArray(arr, lfn_alias_json(req, ref.name, last, &a));
        lfn_alias_release(&a);
    }
    emu_stmt_done(st);
    if (more) {
        char *mk = lfn_key_marker("alias:", ref.name, last);
        cJSON_AddStringToObject(o, "NextMarker", mk ? mk : "");
        free(mk);
    }
    emu_resp_json(resp, 200, o);
}

/* ---------------------------------------------------------- permissions */

/* The revision that guards a qualifier's policy: the alias's or version's
 * RevisionId ($LATEST's for the unqualified function). Returns 0 and
 * fills rev, -1 when the qualifier does not exist (resp failed). */
static int lfn_policy_target(struct emu_request *req, struct emu_response *resp, const char *name,
                             const char *qual, char rev[40], int *is_alias)
{
    *is_alias = 0;
    if (qual[0] != 0 && !lfn_is_digits(qual) && strcmp(qual, "$LATEST") != 0) {
        struct lfn_alias a;
        int r = lfn_load_alias(req, name, qual, &a);
        if (r <= 0) {
            if (r < 0) {
                emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
            } else {
                char arn[400];
                lfn_arn(arn, sizeof(arn), req, name, qual);
                emu_fail(resp, LAMBDA_RESOURCE_NOT_FOUND, "Cannot find alias arn: %s", arn);
            }
            return -1;
        }
        snprintf(rev, 40, "%s", a.revision);
        lfn_alias_release(&a);
        *is_alias = 1;
        return 0;
    }
    struct lfn_ver v;
    int r = lfn_load_ver(req, name, qual[0] ? qual : "$LATEST", &v);
    if (r <= 0) {
        if (r < 0) {
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        } else {
            lfn_fail_not_found(req, resp, name, qual);
        }
        return -1;
    }
    snprintf(rev, 40, "%s", v.revision);
    lfn_ver_release(&v);
    return 0;
}

/* Gives the policy's target a new RevisionId (policies are part of it). */
static int lfn_bump_revision(struct emu_request *req, struct emu_response *resp, const char *name,
                             const char *qual, int is_alias)
{
    char rev[40];
    emu_uuid(rev);
    sqlite3_stmt *st =
        is_alias ? emu_stmt("UPDATE lambda_aliases SET revision = ?5 WHERE account = ?1 AND "
                            "region = ?2 AND name = ?3 AND alias = ?4")
                 : emu_stmt("UPDATE lambda_versions SET revision = ?5 WHERE account = ?1 AND "
                            "region = ?2 AND name = ?3 AND version = ?4");
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return -1;
    }
    lfn_bind3(st, req, name);
    lfn_bind(st, 4, qual[0] ? qual : "$LATEST");
    lfn_bind(st, 5, rev);
    return lfn_exec_done(st, resp);
}

static void lambda_add_permission(struct emu_request *req, struct emu_response *resp)
{
    struct lfn_ref ref;
    if (lfn_ref_from(req, resp, emu_param(req, "FunctionName"), emu_query(req, "Qualifier"),
                     &ref) != 0) {
        return;
    }
    cJSON *b = req->json;
    const char *sid = lfn_str(b, "StatementId");
    const char *action = lfn_str(b, "Action");
    const char *principal = lfn_str(b, "Principal");
    if (sid == NULL) {
        lfn_validation(resp, NULL, "statementId", "Member must not be null");
        return;
    }
    if (!lfn_is_word(sid, 100, 0)) {
        lfn_validation(resp, sid, "statementId",
                       "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)");
        return;
    }
    if (action == NULL) {
        lfn_validation(resp, NULL, "action", "Member must not be null");
        return;
    }
    int aok = strcmp(action, "*") == 0 || strcmp(action, "lambda:*") == 0;
    if (!aok && strncmp(action, "lambda:", 7) == 0 && action[7] != 0) {
        aok = 1;
        for (const char *p = action + 7; *p; p++) {
            aok &= isalpha((unsigned char)*p) != 0;
        }
    }
    if (!aok) {
        lfn_validation(resp, action, "action",
                       "Member must satisfy regular expression pattern: "
                       "(lambda:[*]|lambda:[a-zA-Z]+|[*])");
        return;
    }
    if (principal == NULL) {
        lfn_validation(resp, NULL, "principal", "Member must not be null");
        return;
    }
    int pok = principal[0] != 0;
    for (const char *p = principal; pok && *p; p++) {
        pok = !isspace((unsigned char)*p);
    }
    if (!pok) {
        lfn_validation(resp, principal, "principal",
                       "Member must satisfy regular expression pattern: [^\\s]+");
        return;
    }
    const char *source_arn = lfn_str(b, "SourceArn");
    const char *source_account = lfn_str(b, "SourceAccount");
    if (source_account != NULL &&
        (strlen(source_account) != 12 || !lfn_is_digits(source_account))) {
        lfn_validation(resp, source_account, "sourceAccount",
                       "Member must satisfy regular expression pattern: \\d{12}");
        return;
    }
    if (source_arn != NULL && strncmp(source_arn, "arn:", 4) != 0) {
        lfn_validation(resp, source_arn, "sourceArn",
                       "Member must satisfy regular expression pattern: "
                       "arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}(-gov)?-[a-z]+-\\d{1})?:("
                       "\\d{12})?:(.*)");
        return;
    }
    if (!lfn_exists_or_fail(req, resp, ref.name)) {
        return;
    }
    if (strcmp(ref.qual, "$LATEST") == 0) {
        emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE,
                 "We currently do not support adding policies for $LATEST.");
        return;
    }
    char rev[40];
    int is_alias = 0;
    if (lfn_policy_target(req, resp, ref.name, ref.qual, rev, &is_alias) != 0 ||
        !lfn_revision_ok(resp, lfn_str(b, "RevisionId"), rev, "GetFunction/GetAlias")) {
        return;
    }
    sqlite3_stmt *st = emu_stmt("SELECT 1 FROM lambda_policies WHERE account = ?1 AND region = ?2 "
                                "AND name = ?3 AND qualifier = ?4 AND sid = ?5");
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    lfn_bind3(st, req, ref.name);
    lfn_bind(st, 4, ref.qual);
    lfn_bind(st, 5, sid);
    int dup = sqlite3_step(st) == SQLITE_ROW;
    emu_stmt_done(st);
    if (dup) {
        emu_fail(resp, LAMBDA_RESOURCE_CONFLICT,
                 "The statement id (%s) provided already exists. Please provide a new statement "
                 "id, or remove the existing statement.",
                 sid);
        return;
    }
    /* The statement as AWS renders it. */
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "Sid", sid);
    cJSON_AddStringToObject(s, "Effect", "Allow");
    if (strcmp(principal, "*") == 0) {
        cJSON_AddStringToObject(s, "Principal", "*");
    } else {
        cJSON *p = cJSON_AddObjectToObject(s, "Principal");
        if (strlen(principal) == 12 && lfn_is_digits(principal)) {
            char a[64];
            snprintf(a, sizeof(a), "arn:aws:iam::%s:root", principal);
            cJSON_AddStringToObject(p, "AWS", a);
        } else if (strncmp(principal, "arn:", 4) == 0) {
            cJSON_AddStringToObject(p, "AWS", principal);
        } else {
            cJSON_AddStringToObject(p, "Service", principal);
        }
    }
    cJSON_AddStringToObject(s, "Action", action);
    char arn[400];
    lfn_arn(arn, sizeof(arn), req, ref.name, ref.qual);
    cJSON_AddStringToObject(s, "Resource", arn);
    const char *org = lfn_str(b, "PrincipalOrgID");
    const char *token = lfn_str(b, "EventSourceToken");
    const char *url_auth = lfn_str(b, "FunctionUrlAuthType");
    if (source_arn || source_account || org || token || url_auth) {
        cJSON *c = cJSON_AddObjectToObject(s, "Condition");
        if (source_account || org || token || url_auth) {
            cJSON *se = cJSON_AddObjectToObject(c, "StringEquals");
            if (source_account) {
                cJSON_AddStringToObject(se, "AWS:SourceAccount", source_account);
            }
            if (org) {
                cJSON_AddStringToObject(se, "aws:PrincipalOrgID", org);
            }
            if (token) {
                cJSON_AddStringToObject(se, "lambda:EventSourceToken", token);
            }
            if (url_auth) {
                cJSON_AddStringToObject(se, "lambda:FunctionUrlAuthType", url_auth);
            }
        }
        if (source_arn) {
            cJSON *al = cJSON_AddObjectToObject(c, "ArnLike");
            cJSON_AddStringToObject(al, "AWS:SourceArn", source_arn);
        }
    }
    char *text = cJSON_PrintUnformatted(s);
    cJSON_Delete(s);
    st = emu_stmt("INSERT INTO lambda_policies (account, region, name, qualifier, sid, statement) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (st == NULL || text == NULL) {
        emu_stmt_done(st);
        free(text);
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    lfn_bind3(st, req, ref.name);
    lfn_bind(st, 4, ref.qual);
    lfn_bind(st, 5, sid);
    lfn_bind(st, 6, text);
    if (lfn_exec_done(st, resp) != 0 ||
        lfn_bump_revision(req, resp, ref.name, ref.qual, is_alias) != 0) {
        free(text);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "Statement", text);
    free(text);
    emu_resp_json(resp, 201, o);
}

static void lambda_remove_permission(struct emu_request *req, struct emu_response *resp)
{
    struct lfn_ref ref;
    if (lfn_ref_from(req, resp, emu_param(req, "FunctionName"), emu_query(req, "Qualifier"),
                     &ref) != 0 ||
        !lfn_exists_or_fail(req, resp, ref.name)) {
        return;
    }
    const char *sid = emu_param(req, "StatementId");
    char rev[40];
    int is_alias = 0;
    if (lfn_policy_target(req, resp, ref.name, ref.qual, rev, &is_alias) != 0 ||
        !lfn_revision_ok(resp, emu_query(req, "RevisionId"), rev, "GetFunction/GetAlias")) {
        return;
    }
    sqlite3_stmt *st = emu_stmt("SELECT count(*) FROM lambda_policies WHERE account = ?1 AND "
                                "region = ?2 AND name = ?3 AND qualifier = ?4");
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    lfn_bind3(st, req, ref.name);
    lfn_bind(st, 4, ref.qual);
    int total = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    emu_stmt_done(st);
    st = emu_stmt("DELETE FROM lambda_policies WHERE account = ?1 AND region = ?2 AND name = ?3 "
                  "AND qualifier = ?4 AND sid = ?5");
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    lfn_bind3(st, req, ref.name);
    lfn_bind(st, 4, ref.qual);
    lfn_bind(st, 5, sid);
    if (lfn_exec_done(st, resp) != 0) {
        return;
    }
    if (sqlite3_changes(emu_db()) == 0) {
        if (total == 0) {
            emu_fail(resp, LAMBDA_RESOURCE_NOT_FOUND,
                     "No policy is associated with the given resource.");
        } else {
            emu_fail(resp, LAMBDA_RESOURCE_NOT_FOUND,
                     "Statement %s is not found in resource policy.", sid);
        }
        return;
    }
    if (lfn_bump_revision(req, resp, ref.name, ref.qual, is_alias) != 0) {
        return;
    }
    emu_resp_body(resp, 204, NULL, "", 0);
}

/* Collects the statements of a qualifier's policy into a new array (caller
 * deletes), NULL on error. */
static cJSON *lfn_statements(const struct emu_request *req, const char *name, const char *qual)
{
    sqlite3_stmt *st = emu_stmt("SELECT statement FROM lambda_policies WHERE account = ?1 AND "
                                "region = ?2 AND name = ?3 AND qualifier = ?4 ORDER BY rowid");
    if (st == NULL) {
        return NULL;
    }
    lfn_bind3(st, req, name);
    lfn_bind(st, 4, qual);
    cJSON *arr = cJSON_CreateArray();
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *s = cJSON_Parse((const char *)sqlite3_column_text(st, 0));
        if (s != NULL) {
            cJSON_AddItemToArray(arr, s);
        }
    }
    emu_stmt_done(st);
    return arr;
}

static void lambda_get_policy(struct emu_request *req, struct emu_response *resp)
{
    struct lfn_ref ref;
    if (lfn_ref_from(req, resp, emu_param(req, "FunctionName"), emu_query(req, "Qualifier"),
                     &ref) != 0 ||
        !lfn_exists_or_fail(req, resp, ref.name)) {
        return;
    }
    char rev[40];
    int is_alias = 0;
    if (lfn_policy_target(req, resp, ref.name, ref.qual, rev, &is_alias) != 0) {
        return;
    }
    cJSON *arr = lfn_statements(req, ref.name, ref.qual);
    if (arr == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    if (cJSON_GetArraySize(arr) == 0) {
        cJSON_Delete(arr);
        emu_fail(resp, LAMBDA_RESOURCE_NOT_FOUND, "The resource you requested does not exist.");
        return;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "Version", "2012-10-17");
    cJSON_AddStringToObject(doc, "Id", "default");
    cJSON_AddItemToObject(doc, "Statement", arr);
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "Policy", text ? text : "");
    cJSON_AddStringToObject(o, "RevisionId", rev);
    free(text);
    emu_resp_json(resp, 200, o);
}

/* Glob match with * and ? (ArnLike). */
static int lfn_glob(const char *pat, const char *s)
{
    while (*pat) {
        if (*pat == '*') {
            pat++;
            if (*pat == 0) {
                return 1;
            }
            for (; *s; s++) {
                if (lfn_glob(pat, s)) {
                    return 1;
                }
            }
            return lfn_glob(pat, s);
        }
        if (*s == 0 || (*pat != '?' && *pat != *s)) {
            return 0;
        }
        pat++;
        s++;
    }
    return *s == 0;
}

/* ArnLike/ArnEquals: each of the six colon-separated components matched
 * on its own, with * and ? wildcards (the last component is the rest). */
static int lfn_arn_match(const char *pat, const char *arn)
{
    char p[1024], a[1024];
    snprintf(p, sizeof(p), "%s", pat);
    snprintf(a, sizeof(a), "%s", arn);
    char *ps = p, *as = a;
    for (int i = 0; i < 6; i++) {
        char *pc = i < 5 ? strchr(ps, ':') : NULL;
        char *ac = i < 5 ? strchr(as, ':') : NULL;
        if ((pc == NULL) != (ac == NULL)) {
            return 0; /* not the same number of components */
        }
        if (pc != NULL) {
            *pc = 0;
            *ac = 0;
        }
        if (!lfn_glob(ps, as)) {
            return 0;
        }
        if (pc == NULL) {
            return 1; /* that was the last component */
        }
        ps = pc + 1;
        as = ac + 1;
    }
    return 1;
}

enum lfn_match_mode { LFN_EXACT, LFN_GLOB, LFN_ARN };

static int lfn_match(const char *pattern, const char *actual, enum lfn_match_mode mode)
{
    switch (mode) {
    case LFN_GLOB:
        return lfn_glob(pattern, actual);
    case LFN_ARN:
        return lfn_arn_match(pattern, actual);
    default:
        return strcmp(pattern, actual) == 0;
    }
}

/* A condition value may be a string or an array of strings: any match. */
static int lfn_cond_any(const cJSON *v, const char *actual, enum lfn_match_mode mode)
{
    if (actual == NULL) {
        return 0;
    }
    if (cJSON_IsString(v)) {
        return lfn_match(v->valuestring, actual, mode);
    }
    const cJSON *it = NULL;
    cJSON_ArrayForEach(it, v)
    {
        if (cJSON_IsString(it) && lfn_match(it->valuestring, actual, mode)) {
            return 1;
        }
    }
    return 0;
}

/* Does one statement allow principal (a service) to invoke, from
 * source_arn? */
static int lfn_statement_allows(const cJSON *s, const char *principal, const char *source_arn,
                                const char *source_account)
{
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(s, "Effect")) ||
        strcmp(cJSON_GetObjectItemCaseSensitive(s, "Effect")->valuestring, "Allow") != 0) {
        return 0;
    }
    const char *action = lfn_str(s, "Action");
    if (action == NULL || (strcmp(action, "lambda:InvokeFunction") != 0 &&
                           strcmp(action, "lambda:*") != 0 && strcmp(action, "*") != 0)) {
        return 0;
    }
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(s, "Principal");
    int pok = cJSON_IsString(p) && strcmp(p->valuestring, "*") == 0;
    if (!pok && cJSON_IsObject(p)) {
        pok = lfn_cond_any(cJSON_GetObjectItemCaseSensitive(p, "Service"), principal, LFN_EXACT) ||
              lfn_cond_any(cJSON_GetObjectItemCaseSensitive(p, "AWS"), "*", LFN_EXACT);
    }
    if (!pok) {
        return 0;
    }
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(s, "Condition");
    const cJSON *op = NULL;
    cJSON_ArrayForEach(op, c)
    {
        const cJSON *kv = NULL;
        cJSON_ArrayForEach(kv, op)
        {
            const char *key = kv->string ? kv->string : "";
            if (strcasecmp(key, "AWS:SourceArn") == 0) {
                enum lfn_match_mode mode = LFN_EXACT;
                if (strcmp(op->string, "ArnLike") == 0 || strcmp(op->string, "ArnEquals") == 0) {
                    mode = LFN_ARN;
                } else if (strcmp(op->string, "StringLike") == 0) {
                    mode = LFN_GLOB;
                }
                if (!lfn_cond_any(kv, source_arn, mode)) {
                    return 0;
                }
            } else if (strcasecmp(key, "AWS:SourceAccount") == 0) {
                char acct[16] = "";
                if (source_account != NULL) {
                    snprintf(acct, sizeof(acct), "%s", source_account);
                    if (!lfn_cond_any(kv, acct, LFN_EXACT)) {
                        return 0;
                    }
                    continue;
                }
                /* arn:partition:service:region:ACCOUNT:... */
                const char *q = source_arn;
                for (int i = 0; q && i < 4; i++) {
                    q = strchr(q, ':');
                    q = q ? q + 1 : NULL;
                }
                if (q != NULL) {
                    const char *e = strchr(q, ':');
                    size_t n = e ? (size_t)(e - q) : strlen(q);
                    if (n < sizeof(acct)) {
                        memcpy(acct, q, n);
                        acct[n] = 0;
                    }
                }
                if (acct[0] != 0 && !lfn_cond_any(kv, acct, LFN_EXACT)) {
                    return 0;
                }
            }
        }
    }
    return 1;
}

int lambda_policy_allows(const cJSON *statements, const char *principal, const char *source_arn,
                         const char *source_account)
{
    const cJSON *s = NULL;
    cJSON_ArrayForEach(s, statements)
    {
        if (lfn_statement_allows(s, principal, source_arn, source_account)) {
            return 1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ invoke */

/* A small thread-safe generator for weighted routing. */
static double lfn_rand01(void)
{
    static __thread unsigned long long x;
    while (x == 0) {
        if (getrandom(&x, sizeof(x), 0) != (ssize_t)sizeof(x)) {
            x = (unsigned long long)(emu_now() * 1e6) ^ (unsigned long long)(uintptr_t)&x;
        }
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return (double)(x >> 11) / 9007199254740992.0;
}

/* ------------------------------------------------- asynchronous invocation
 *
 * An Event invocation (X-Amz-Invocation-Type: Event, InvokeAsync, and the
 * internal calls of SNS, S3 and Events) is answered 202 once it is a row of
 * lambda_async_events (committed: it survives a clean shutdown and a
 * kill -9, and is resumed at the next start). A small pool of worker
 * threads (GREENROOM_LAMBDA_ASYNC_WORKERS, default 8, each an emu_worker of
 * worker.h, all woken by every push) serves the queue in order of due time;
 * the queue holds at most GREENROOM_LAMBDA_ASYNC_MAX events (default 10000;
 * past it Invoke answers TooManyRequestsException).
 * In memory there is only a heap of (due time, row id); a worker loads the
 * row when it runs the event, so a long queue costs no payload memory.
 *
 * On a function error (Handled or Unhandled, a timeout included) or a
 * failure to run it, an event is retried up to MaximumRetryAttempts times
 * (default 2) as AWS does: the second attempt about 1 minute after the
 * first, the third 2 minutes after the second, unless the event is older
 * than MaximumEventAgeInSeconds (default 21600) by then. A throttled
 * attempt (reserved concurrency) is not counted: the event waits its turn
 * again with exponential backoff (0.5 s doubling, at most 5 minutes), up
 * to its maximum age (then EventAgeExceeded). The delays and the age limit
 * are multiplied by GREENROOM_LAMBDA_RETRY_SCALE (default 1; tests set e.g.
 * 0.001 so the retries come after 60 ms and 120 ms and an age limit of 60 s
 * becomes 60 ms). The first attempt goes straight to the engine (the Event
 * call is its journal entry); retries run through Invoke itself
 * (emu_call_internal with journal = 1, RequestResponse on the version first
 * picked), so each shows in /_greenroom/calls as an Invoke of
 * "function:version". At the end the invocation record of AWS ({version,
 * timestamp, requestContext, requestPayload, responseContext,
 * responsePayload}) goes to the OnSuccess or OnFailure destination of the
 * qualifier's event invoke config (SQS SendMessage, SNS Publish or an
 * asynchronous Lambda Invoke, journalled), and the row is deleted. An event
 * of a function (or version) deleted meanwhile is dropped.
 *
 * At shutdown the workers finish the attempt in hand (the engine has killed
 * the function processes by then) and are joined; an attempt cut short by
 * the shutdown leaves its row as it was, so it runs again at the next
 * start (at least once, as AWS). */

static cJSON *lfn_eic_load(const struct emu_request *req, const char *name, const char *qualkey,
                           double *last_modified);

#define LFN_ASYNC_WORKERS 8
#define LFN_ASYNC_WORKERS_MAX 64
#define LFN_ASYNC_MAX 10000
#define LFN_ASYNC_IDLE 3600.0  /* seconds a worker sleeps on an empty queue unless woken */
#define LFN_THROTTLE_DELAY 0.5 /* seconds before a throttled event tries again */

/* One queued event (a row of lambda_async_events) while a worker runs it. */
struct lfn_event_job {
    long long id;
    int attempts; /* attempts already made */
    struct lambda_run run;
    char *payload;
    size_t len;
    char *client_context;
    char request_id[40];
    char function_arn[400]; /* qualified with the config's qualifier */
    double enqueued;
    int max_retries;
    double max_age; /* seconds, unscaled */
    char on_success[360];
    char on_failure[360];
};

/* The in-memory index of the queue: a min-heap of (due, id). */
struct lfn_qitem {
    double due;
    long long id;
    int throttles; /* throttled tries in a row (backoff; not persisted) */
};

/* The pool: lfn_q_nworkers emu_workers (worker.h) running lfn_async_step
 * on the one shared heap; every push wakes them all. */
static double lfn_async_step(void *arg);
static struct emu_worker lfn_q_workers[LFN_ASYNC_WORKERS_MAX] = {
    [0 ... LFN_ASYNC_WORKERS_MAX - 1] = EMU_WORKER_INIT(lfn_async_step, NULL),
};

static pthread_mutex_t lfn_q_mu = PTHREAD_MUTEX_INITIALIZER; /* guards the lfn_q_* below */
static struct lfn_qitem *lfn_q;
static size_t lfn_q_len, lfn_q_cap;
static long lfn_q_running;  /* events a worker holds */
static long lfn_q_reserved; /* enqueues between the bound check and the push */
static int lfn_q_stopping;
static int lfn_q_nworkers; /* lfn_q_workers[0..n) are started (or starting) */
static long lfn_q_max = LFN_ASYNC_MAX;

/* Wakes every worker of the pool (lock held): one of the idle ones takes
 * the new head, the others go back to sleep. */
static void lfn_q_wake_locked(void)
{
    for (int i = 0; i < lfn_q_nworkers; i++) {
        emu_worker_wake(&lfn_q_workers[i]);
    }
}

static int lfn_qitem_less(const struct lfn_qitem *a, const struct lfn_qitem *b)
{
    return a->due < b->due || (a->due == b->due && a->id < b->id);
}

/* Pushes (due, id) unless id is already queued (lock held). Returns 0, -1
 * on allocation failure. */
static int lfn_q_push_locked(double due, long long id, int throttles, int dedupe)
{
    if (dedupe) {
        for (size_t i = 0; i < lfn_q_len; i++) {
            if (lfn_q[i].id == id) {
                return 0;
            }
        }
    }
    if (lfn_q_len == lfn_q_cap) {
        size_t cap = lfn_q_cap ? lfn_q_cap * 2 : 256;
        struct lfn_qitem *q = realloc(lfn_q, cap * sizeof(*q));
        if (q == NULL) {
            return -1;
        }
        lfn_q = q;
        lfn_q_cap = cap;
    }
    size_t i = lfn_q_len++;
    lfn_q[i].due = due;
    lfn_q[i].id = id;
    lfn_q[i].throttles = throttles;
    while (i > 0 && lfn_qitem_less(&lfn_q[i], &lfn_q[(i - 1) / 2])) {
        struct lfn_qitem t = lfn_q[i];
        lfn_q[i] = lfn_q[(i - 1) / 2];
        lfn_q[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
    lfn_q_wake_locked();
    return 0;
}

/* Removes the earliest item (lock held, queue not empty). */
static struct lfn_qitem lfn_q_pop_locked(void)
{
    struct lfn_qitem top = lfn_q[0];
    lfn_q[0] = lfn_q[--lfn_q_len];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < lfn_q_len && lfn_qitem_less(&lfn_q[l], &lfn_q[m])) {
            m = l;
        }
        if (r < lfn_q_len && lfn_qitem_less(&lfn_q[r], &lfn_q[m])) {
            m = r;
        }
        if (m == i) {
            break;
        }
        struct lfn_qitem t = lfn_q[i];
        lfn_q[i] = lfn_q[m];
        lfn_q[m] = t;
        i = m;
    }
    return top;
}

static double lfn_retry_scale(void)
{
    const char *s = getenv("GREENROOM_LAMBDA_RETRY_SCALE");
    if (s == NULL || s[0] == 0) {
        return 1.0;
    }
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || *end != 0 || !(v > 0) || v > 1000) {
        return 1.0;
    }
    return v;
}

/* A JSON text parsed, else the text as a JSON string (never NULL). */
static cJSON *lfn_json_or_string(const char *data, size_t len)
{
    cJSON *j = data != NULL && len > 0 ? cJSON_ParseWithLength(data, len) : NULL;
    if (j != NULL) {
        return j;
    }
    if (data == NULL || len == 0) {
        return cJSON_CreateNull();
    }
    char *copy = strndup(data, len);
    j = cJSON_CreateString(copy ? copy : "");
    free(copy);
    return j;
}

/* The outcome of one attempt. */
struct lfn_attempt {
    int ok;                 /* ran without function error */
    int status;             /* 200, or the error status of the call */
    char version[16];       /* executed version */
    char fn_error[16];      /* "Handled"/"Unhandled"/"" */
    struct emu_buf payload; /* response or error JSON */
};

/* First attempt: straight to the engine (the Event call itself is the
 * journal entry). Returns 1 when it was throttled (nothing ran: a is
 * untouched), else 0 with a filled. */
static int lfn_attempt_direct(struct lfn_event_job *job, struct lfn_attempt *a)
{
    struct lambda_result r;
    lambda_exec_invoke(&job->run, job->len ? job->payload : "{}", job->len ? job->len : 2,
                       job->client_context, &r);
    if (r.throttled) {
        lambda_result_release(&r);
        return 1;
    }
    snprintf(a->version, sizeof(a->version), "%s", job->run.version);
    a->status = 200;
    emu_buf_append(&a->payload, r.payload ? r.payload : "", r.payload_len);
    if (r.failed || r.error == LAMBDA_UNHANDLED) {
        snprintf(a->fn_error, sizeof(a->fn_error), "Unhandled");
    } else if (r.error == LAMBDA_HANDLED) {
        snprintf(a->fn_error, sizeof(a->fn_error), "Handled");
    }
    a->ok = a->fn_error[0] == 0;
    lambda_result_release(&r);
    return 0;
}

/* A retry: through Invoke (journalled), on the version first picked. */
static void lfn_attempt_call(struct lfn_event_job *job, int attempt, struct lfn_attempt *a)
{
    struct emu_buf path = {0};
    emu_buf_printf(&path, "/2015-03-31/functions/%s/invocations?Qualifier=%s", job->run.name,
                   strcmp(job->run.version, "$LATEST") == 0 ? "%24LATEST" : job->run.version);
    char n[16];
    snprintf(n, sizeof(n), "%d", attempt);
    struct emu_kv hdrs[4];
    hdrs[0].key = "x-amz-invocation-type";
    hdrs[0].value = "RequestResponse";
    hdrs[1].key = "content-type";
    hdrs[1].value = "application/json";
    hdrs[2].key = "x-greenroom-async-attempt";
    hdrs[2].value = n;
    hdrs[3].key = "x-greenroom-invoked-arn";
    hdrs[3].value = job->run.invoked_arn;
    struct emu_call call = {
        .account = job->run.account,
        .region = job->run.region,
        .service = "lambda",
        .method = "POST",
        .path = path.data,
        .headers = hdrs,
        .nheaders = 4,
        .body = job->len ? job->payload : "{}",
        .body_len = job->len ? job->len : 2,
        .journal = 1,
    };
    struct emu_response resp;
    emu_response_init(&resp);
    emu_call_internal(&call, &resp);
    a->status = resp.status;
    const char *ev = emu_kv_getci(&resp.headers, "x-amz-executed-version");
    snprintf(a->version, sizeof(a->version), "%s", ev ? ev : job->run.version);
    const char *fe = emu_kv_getci(&resp.headers, "x-amz-function-error");
    snprintf(a->fn_error, sizeof(a->fn_error), "%s", fe ? fe : "");
    if (resp.failed) {
        emu_buf_printf(&a->payload, "{\"errorType\":\"%s\"}", resp.error_code);
    } else if (resp.body.len > 0) {
        emu_buf_append(&a->payload, resp.body.data, resp.body.len);
    }
    a->ok = a->status == 200 && a->fn_error[0] == 0;
    emu_response_release(&resp);
    emu_buf_release(&path);
}

/* The invocation record AWS sends to destinations (caller frees). */
static char *lfn_record(const struct lfn_event_job *job, const char *condition, int count,
                        const struct lfn_attempt *a)
{
    cJSON *o = cJSON_CreateObject();
    char ts[32];
    emu_time_iso(ts, emu_now());
    cJSON_AddStringToObject(o, "version", "1.0");
    cJSON_AddStringToObject(o, "timestamp", ts);
    cJSON *rc = cJSON_AddObjectToObject(o, "requestContext");
    cJSON_AddStringToObject(rc, "requestId", job->request_id);
    cJSON_AddStringToObject(rc, "functionArn", job->function_arn);
    cJSON_AddStringToObject(rc, "condition", condition);
    cJSON_AddNumberToObject(rc, "approximateInvokeCount", count);
    cJSON_AddItemToObject(o, "requestPayload", lfn_json_or_string(job->payload, job->len));
    if (a->status == 0) {
        /* expired before an attempt could answer: no response to report */
        goto out;
    }
    cJSON *sc = cJSON_AddObjectToObject(o, "responseContext");
    cJSON_AddNumberToObject(sc, "statusCode", a->status);
    cJSON_AddStringToObject(sc, "executedVersion", a->version);
    if (a->fn_error[0] != 0) {
        cJSON_AddStringToObject(sc, "functionError", a->fn_error);
    }
    cJSON_AddItemToObject(o, "responsePayload",
                          lfn_json_or_string(a->payload.data, a->payload.len));
out:;
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* Sends an invocation record to a destination ARN (journalled). */
static void lfn_destination(const struct lfn_event_job *job, const char *arn, const char *record)
{
    struct evw_result r;
    memset(&r, 0, sizeof(r));
    struct evw_arn pa;
    if (evw_arn_parse(arn, &pa) != 0) {
        return;
    }
    if (strcmp(pa.service, "sqs") == 0) {
        evw_sqs_send(arn, record, NULL, NULL, NULL, &r);
    } else if (strcmp(pa.service, "sns") == 0) {
        evw_sns_publish(arn, NULL, record, &r);
    } else if (strcmp(pa.service, "lambda") == 0) {
        evw_invoke_lambda(job->run.account, job->run.region, arn, record, 1, NULL, NULL, &r);
    } else {
        emu_warn("lambda: destination %s of %s is not delivered (unsupported kind)", arn,
                 job->function_arn);
        return;
    }
    if (r.status < 200 || r.status >= 300) {
        emu_warn("lambda: destination %s of %s failed: %d %s", arn, job->function_arn, r.status,
                 r.code);
    }
}

static void lfn_event_job_free(struct lfn_event_job *job)
{
    if (job == NULL) {
        return;
    }
    free(job->run.env_json);
    free(job->payload);
    free(job->client_context);
    free(job);
}

/* The job's description stored in its row (caller frees). */
static char *lfn_job_json(const struct lfn_event_job *job)
{
    const struct lambda_run *r = &job->run;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "version", r->version);
    cJSON_AddStringToObject(o, "revision", r->revision);
    cJSON_AddStringToObject(o, "invokedArn", r->invoked_arn);
    cJSON_AddStringToObject(o, "runtime", r->runtime);
    cJSON_AddStringToObject(o, "handler", r->handler);
    cJSON_AddStringToObject(o, "codeHex", r->code_hex);
    cJSON_AddNumberToObject(o, "timeout", r->timeout);
    cJSON_AddNumberToObject(o, "memory", r->memory);
    if (r->env_json != NULL) {
        cJSON_AddStringToObject(o, "env", r->env_json);
    }
    if (job->client_context != NULL) {
        cJSON_AddStringToObject(o, "clientContext", job->client_context);
    }
    cJSON_AddStringToObject(o, "functionArn", job->function_arn);
    cJSON_AddNumberToObject(o, "maxRetries", job->max_retries);
    cJSON_AddNumberToObject(o, "maxAge", job->max_age);
    cJSON_AddStringToObject(o, "onSuccess", job->on_success);
    cJSON_AddStringToObject(o, "onFailure", job->on_failure);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

/* Copies a string member of o into out ("" when absent). */
static void lfn_job_str(const cJSON *o, const char *key, char *out, size_t len)
{
    const char *v = lfn_str(o, key);
    snprintf(out, len, "%s", v ? v : "");
}

/* Loads queued event id (store locked). Returns the job (caller frees with
 * lfn_event_job_free), NULL when the row is gone or unreadable; *gone is set
 * when the row exists but its function version does not (drop it). */
static struct lfn_event_job *lfn_job_load(long long id, int *gone)
{
    *gone = 0;
    sqlite3_stmt *st = emu_stmt("SELECT account, region, name, request_id, job, payload, attempts, "
                                "enqueued FROM lambda_async_events WHERE id = ?1");
    if (st == NULL) {
        return NULL;
    }
    sqlite3_bind_int64(st, 1, id);
    struct lfn_event_job *job = NULL;
    cJSON *o = NULL;
    if (sqlite3_step(st) != SQLITE_ROW) {
        goto out;
    }
    o = cJSON_Parse((const char *)sqlite3_column_text(st, 4));
    job = calloc(1, sizeof(*job));
    if (o == NULL || job == NULL) {
        *gone = o == NULL;
        free(job);
        job = NULL;
        goto out;
    }
    job->id = id;
    struct lambda_run *r = &job->run;
    snprintf(r->account, sizeof(r->account), "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(r->region, sizeof(r->region), "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(r->name, sizeof(r->name), "%s", (const char *)sqlite3_column_text(st, 2));
    snprintf(job->request_id, sizeof(job->request_id), "%s",
             (const char *)sqlite3_column_text(st, 3));
    int n = sqlite3_column_bytes(st, 5);
    job->payload = malloc((size_t)n + 1);
    if (job->payload != NULL) {
        if (n > 0) {
            memcpy(job->payload, sqlite3_column_blob(st, 5), (size_t)n);
        }
        job->payload[n] = 0;
        job->len = (size_t)n;
    }
    job->attempts = sqlite3_column_int(st, 6);
    job->enqueued = sqlite3_column_double(st, 7);
    lfn_job_str(o, "version", r->version, sizeof(r->version));
    lfn_job_str(o, "revision", r->revision, sizeof(r->revision));
    lfn_job_str(o, "invokedArn", r->invoked_arn, sizeof(r->invoked_arn));
    lfn_job_str(o, "runtime", r->runtime, sizeof(r->runtime));
    lfn_job_str(o, "handler", r->handler, sizeof(r->handler));
    lfn_job_str(o, "codeHex", r->code_hex, sizeof(r->code_hex));
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, "timeout");
    r->timeout = cJSON_IsNumber(x) ? x->valueint : 3;
    x = cJSON_GetObjectItemCaseSensitive(o, "memory");
    r->memory = cJSON_IsNumber(x) ? x->valueint : 128;
    const char *env = lfn_str(o, "env");
    r->env_json = env ? strdup(env) : NULL;
    const char *cc = lfn_str(o, "clientContext");
    job->client_context = cc ? strdup(cc) : NULL;
    lfn_job_str(o, "functionArn", job->function_arn, sizeof(job->function_arn));
    x = cJSON_GetObjectItemCaseSensitive(o, "maxRetries");
    job->max_retries = cJSON_IsNumber(x) ? x->valueint : 2;
    x = cJSON_GetObjectItemCaseSensitive(o, "maxAge");
    job->max_age = cJSON_IsNumber(x) ? x->valuedouble : 21600;
    lfn_job_str(o, "onSuccess", job->on_success, sizeof(job->on_success));
    lfn_job_str(o, "onFailure", job->on_failure, sizeof(job->on_failure));
out:
    emu_stmt_done(st);
    cJSON_Delete(o);
    if (job == NULL) {
        return NULL;
    }
    /* the version must still exist; its reserved concurrency is read now
     * (a change since the event was queued applies) */
    struct emu_request fake;
    memset(&fake, 0, sizeof(fake));
    snprintf(fake.account, sizeof(fake.account), "%s", job->run.account);
    snprintf(fake.region, sizeof(fake.region), "%s", job->run.region);
    st = emu_stmt("SELECT 1 FROM lambda_versions WHERE account = ?1 AND region = ?2 AND "
                  "name = ?3 AND version = ?4");
    int exists = 0;
    if (st != NULL) {
        lfn_bind3(st, &fake, job->run.name);
        lfn_bind(st, 4, job->run.version);
        exists = sqlite3_step(st) == SQLITE_ROW;
        emu_stmt_done(st);
    }
    if (!exists) {
        *gone = 1;
        lfn_event_job_free(job);
        return NULL;
    }
    long long reserved = 0;
    job->run.reserved = lfn_reserved(&fake, job->run.name, &reserved) == 1 ? (int)reserved : -1;
    return job;
}

/* Deletes a queued event (done or dropped), or records a failed attempt
 * and when the next is due. The row must still be that event's (request_id
 * NULL: any): a snapshot restore may have brought back an older queue whose
 * ids are reused. Returns 0 when the row was changed, -1 when it is gone or
 * on a store error. */
static int lfn_job_save(long long id, const char *request_id, int done, int attempts,
                        double next_at)
{
    if (emu_store_begin(1) != 0) {
        return -1;
    }
    sqlite3_stmt *st =
        done ? emu_stmt("DELETE FROM lambda_async_events WHERE id = ?1 AND "
                        "(?4 IS NULL OR request_id = ?4)")
             : emu_stmt("UPDATE lambda_async_events SET attempts = ?2, next_at = ?3 WHERE id = ?1 "
                        "AND (?4 IS NULL OR request_id = ?4)");
    int ok = 0;
    int changed = 0;
    if (st != NULL) {
        sqlite3_bind_int64(st, 1, id);
        if (!done) {
            sqlite3_bind_int(st, 2, attempts);
            sqlite3_bind_double(st, 3, next_at);
        }
        lfn_bind(st, 4, request_id);
        ok = sqlite3_step(st) == SQLITE_DONE;
        changed = ok ? sqlite3_changes(emu_db()) : 0;
        emu_stmt_done(st);
    }
    return emu_store_end(ok) == 0 && changed > 0 ? 0 : -1;
}

/* Runs one attempt of queued event id and decides what comes next. */
static void lfn_event_run(long long id, int throttles)
{
    int gone = 0;
    struct lfn_event_job *job = NULL;
    if (emu_store_begin(0) == 0) {
        job = lfn_job_load(id, &gone);
        emu_store_end(1);
    }
    if (job == NULL) {
        if (gone) {
            emu_info("lambda: async event %lld dropped: its function is gone", id);
            lfn_job_save(id, NULL, 1, 0, 0);
        }
        return;
    }
    double scale = lfn_retry_scale();
    struct lfn_attempt a;
    memset(&a, 0, sizeof(a));
    const char *condition = "RetriesExhausted";
    int count = job->attempts; /* attempts made */
    if (job->attempts > 0 && emu_now() - job->enqueued > job->max_age * scale) {
        /* waited past its age for a retry (e.g. queued across a long stop;
         * a first attempt always runs) */
        condition = "EventAgeExceeded";
        goto final;
    }
    int throttled = 0;
    if (job->attempts == 0) {
        throttled = lfn_attempt_direct(job, &a);
    } else {
        emu_info("lambda: async invocation %s of %s, retry %d", job->request_id, job->function_arn,
                 job->attempts);
        lfn_attempt_call(job, count + 1, &a);
        throttled = a.status == 429;
    }
    if (throttled) {
        /* not an attempt: the event waits its turn again while it is young */
        if (emu_stopping()) {
            goto out;
        }
        double deadline = job->enqueued + job->max_age * scale;
        if (emu_now() < deadline) {
            /* exponential backoff from LFN_THROTTLE_DELAY up to 5 minutes
             * (scaled), and one last try at the event's maximum age; the
             * row keeps its due time: after a restart it tries at once */
            double delay = LFN_THROTTLE_DELAY * (double)(1 << (throttles < 12 ? throttles : 12));
            double cap = 300.0 * scale > LFN_THROTTLE_DELAY ? 300.0 * scale : LFN_THROTTLE_DELAY;
            double due = emu_now() + (delay < cap ? delay : cap);
            pthread_mutex_lock(&lfn_q_mu);
            lfn_q_push_locked(due < deadline ? due : deadline + 0.001, id, throttles + 1, 1);
            pthread_mutex_unlock(&lfn_q_mu);
            goto out;
        }
        condition = "EventAgeExceeded";
        emu_buf_release(&a.payload);
        memset(&a, 0, sizeof(a));
        a.status = 429;
        snprintf(a.version, sizeof(a.version), "%s", job->run.version);
        emu_buf_puts(&a.payload, "{\"errorMessage\":\"Rate Exceeded.\","
                                 "\"errorType\":\"TooManyRequestsException\"}");
        goto final;
    }
    count++;
    if (!a.ok && emu_stopping()) {
        /* cut short by the shutdown (or failed as it began): the row stays
         * as it was, the attempt runs again at the next start */
        goto out;
    }
    if (!a.ok && count <= job->max_retries) {
        double delay = (count == 1 ? 60.0 : 120.0) * scale;
        if (emu_now() + delay - job->enqueued <= job->max_age * scale) {
            emu_info("lambda: async invocation %s of %s failed (%s), retry %d due in %.3f s",
                     job->request_id, job->function_arn, a.fn_error[0] ? a.fn_error : "error",
                     count, delay);
            double due = emu_now() + delay;
            if (lfn_job_save(id, job->request_id, 0, count, due) == 0) {
                pthread_mutex_lock(&lfn_q_mu);
                lfn_q_push_locked(due, id, 0, 1);
                pthread_mutex_unlock(&lfn_q_mu);
            }
            goto out;
        }
        condition = "EventAgeExceeded";
    }
final:
    if (!a.ok) {
        emu_info("lambda: async invocation %s of %s failed after %d attempt(s): %.200s",
                 job->request_id, job->function_arn, count, a.payload.data ? a.payload.data : "");
    }
    const char *dest = a.ok ? job->on_success : job->on_failure;
    if (dest[0] != 0) {
        char *record = lfn_record(job, a.ok ? "Success" : condition, count, &a);
        if (record != NULL) {
            lfn_destination(job, dest, record);
        }
        free(record);
    }
    lfn_job_save(id, job->request_id, 1, count, 0);
out:
    emu_buf_release(&a.payload);
    lfn_event_job_free(job);
}

/* One step of a worker (worker.h): runs the earliest event when it is
 * due. Returns 0 after running one, else when to look again: the head's due
 * time (at most 1 s away), or a long sleep on an empty queue (a push wakes
 * the pool). */
static double lfn_async_step(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lfn_q_mu);
    double now = emu_now();
    if (lfn_q_stopping || emu_stopping() || lfn_q_len == 0) {
        pthread_mutex_unlock(&lfn_q_mu);
        return now + LFN_ASYNC_IDLE;
    }
    if (lfn_q[0].due > now) {
        double due = lfn_q[0].due;
        pthread_mutex_unlock(&lfn_q_mu);
        return due < now + 1.0 ? due : now + 1.0;
    }
    struct lfn_qitem it = lfn_q_pop_locked();
    lfn_q_running++;
    pthread_mutex_unlock(&lfn_q_mu);
    lfn_event_run(it.id, it.throttles);
    pthread_mutex_lock(&lfn_q_mu);
    lfn_q_running--;
    pthread_mutex_unlock(&lfn_q_mu);
    return 0;
}

/* Loads every queued row into the heap (at start, after a restore); each
 * push wakes the pool. */
static void lfn_async_load(int dedupe)
{
    if (emu_store_begin(0) != 0) {
        return;
    }
    sqlite3_stmt *st = emu_stmt("SELECT id, next_at FROM lambda_async_events ORDER BY id");
    long n = 0;
    if (st != NULL) {
        pthread_mutex_lock(&lfn_q_mu);
        while (sqlite3_step(st) == SQLITE_ROW) {
            lfn_q_push_locked(sqlite3_column_double(st, 1), sqlite3_column_int64(st, 0), 0, dedupe);
            n++;
        }
        pthread_mutex_unlock(&lfn_q_mu);
        emu_stmt_done(st);
    }
    emu_store_end(1);
    if (n > 0) {
        emu_info("lambda: %ld queued asynchronous event(s) resumed", n);
    }
}

/* Reads a positive integer setting from the environment. */
static long lfn_env_long(const char *name, long dflt, long max)
{
    const char *s = getenv(name);
    if (s == NULL || s[0] == 0) {
        return dflt;
    }
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != 0 || errno != 0 || v < 1 || v > max) {
        emu_warn("lambda: %s=%s ignored (1..%ld)", name, s, max);
        return dflt;
    }
    return v;
}

static int lfn_async_start(void)
{
    lfn_q_max = lfn_env_long("GREENROOM_LAMBDA_ASYNC_MAX", LFN_ASYNC_MAX, 1000000);
    long workers =
        lfn_env_long("GREENROOM_LAMBDA_ASYNC_WORKERS", LFN_ASYNC_WORKERS, LFN_ASYNC_WORKERS_MAX);
    pthread_mutex_lock(&lfn_q_mu);
    lfn_q_stopping = 0;
    lfn_q_nworkers = (int)workers; /* counted before they start: no push goes unseen */
    pthread_mutex_unlock(&lfn_q_mu);
    /* events enqueued before this start are in the heap already */
    lfn_async_load(1);
    for (long i = 0; i < workers; i++) {
        if (emu_worker_start(&lfn_q_workers[i]) != 0) {
            emu_warn("lambda: cannot start async worker %ld", i);
            pthread_mutex_lock(&lfn_q_mu);
            lfn_q_nworkers = (int)i;
            pthread_mutex_unlock(&lfn_q_mu);
            break;
        }
    }
    return lfn_q_nworkers > 0 ? 0 : -1;
}

/* Stops the workers: each finishes its attempt (the engine was stopped, so
 * that is quick); events still queued stay in the store. */
static void lfn_async_stop(void)
{
    /* no worker takes another event once the flag is up */
    pthread_mutex_lock(&lfn_q_mu);
    lfn_q_stopping = 1;
    int n = lfn_q_nworkers;
    pthread_mutex_unlock(&lfn_q_mu);
    for (int i = 0; i < n; i++) {
        emu_worker_stop(&lfn_q_workers[i]);
    }
    pthread_mutex_lock(&lfn_q_mu);
    lfn_q_nworkers = 0;
    free(lfn_q);
    lfn_q = NULL;
    lfn_q_len = lfn_q_cap = 0;
    pthread_mutex_unlock(&lfn_q_mu);
}

/* After a reset or a snapshot restore: the queue is what the store holds. */
static void lfn_async_reload(void)
{
    pthread_mutex_lock(&lfn_q_mu);
    lfn_q_len = 0;
    pthread_mutex_unlock(&lfn_q_mu);
    lfn_async_load(1);
}

/* Queues an Event invocation: the row is committed before the caller
 * answers 202. Takes job (freed here). Returns 0, -1 with resp failed. */
static int lfn_async_enqueue(struct emu_request *req, struct emu_response *resp,
                             struct lfn_event_job *job, const char *qualkey)
{
    int rc = -1;
    char *text = NULL;
    pthread_mutex_lock(&lfn_q_mu);
    int full = (long)lfn_q_len + lfn_q_running + lfn_q_reserved >= lfn_q_max;
    if (!full) {
        lfn_q_reserved++;
    }
    pthread_mutex_unlock(&lfn_q_mu);
    if (full) {
        emu_warn("lambda: the asynchronous queue is full (%ld events)", lfn_q_max);
        emu_fail(resp, LAMBDA_TOO_MANY_REQUESTS, NULL);
        lfn_event_job_free(job);
        return -1;
    }
    if (emu_store_begin(1) != 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        goto out;
    }
    cJSON *eic = lfn_eic_load(req, job->run.name, qualkey, NULL);
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(eic, "MaximumRetryAttempts");
    if (cJSON_IsNumber(x)) {
        job->max_retries = x->valueint;
    }
    x = cJSON_GetObjectItemCaseSensitive(eic, "MaximumEventAgeInSeconds");
    if (cJSON_IsNumber(x)) {
        job->max_age = x->valuedouble;
    }
    const cJSON *dc = cJSON_GetObjectItemCaseSensitive(eic, "DestinationConfig");
    const char *d = lfn_str(cJSON_GetObjectItemCaseSensitive(dc, "OnSuccess"), "Destination");
    snprintf(job->on_success, sizeof(job->on_success), "%s", d ? d : "");
    d = lfn_str(cJSON_GetObjectItemCaseSensitive(dc, "OnFailure"), "Destination");
    snprintf(job->on_failure, sizeof(job->on_failure), "%s", d ? d : "");
    cJSON_Delete(eic);
    text = lfn_job_json(job);
    sqlite3_stmt *st = emu_stmt("INSERT INTO lambda_async_events (account, region, name, "
                                "request_id, job, payload, attempts, next_at, enqueued) VALUES "
                                "(?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?7)");
    int ok = 0;
    if (st != NULL && text != NULL) {
        lfn_bind3(st, req, job->run.name);
        lfn_bind(st, 4, job->request_id);
        lfn_bind(st, 5, text);
        sqlite3_bind_blob(st, 6, job->payload ? job->payload : "", (int)job->len, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 7, job->enqueued);
        ok = sqlite3_step(st) == SQLITE_DONE;
    }
    emu_stmt_done(st);
    long long id = ok ? sqlite3_last_insert_rowid(emu_db()) : 0;
    if (emu_store_end(ok) != 0 || !ok) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        goto out;
    }
    pthread_mutex_lock(&lfn_q_mu);
    /* once the workers are stopped, the row waits for the next start */
    if (!lfn_q_stopping && lfn_q_push_locked(job->enqueued, id, 0, 0) != 0) {
        emu_warn("lambda: async event %lld waits for the next start (out of memory)", id);
    }
    pthread_mutex_unlock(&lfn_q_mu);
    rc = 0;
out:
    pthread_mutex_lock(&lfn_q_mu);
    lfn_q_reserved--;
    pthread_mutex_unlock(&lfn_q_mu);
    free(text);
    lfn_event_job_free(job);
    return rc;
}

/* Reads what Invoke needs under a read transaction. Returns 0 with run
 * filled, -1 with resp failed. */
static int lfn_invoke_prepare(struct emu_request *req, struct emu_response *resp,
                              struct lambda_run *run, char qualkey[132])
{
    struct lfn_ref ref;
    if (lfn_ref_from(req, resp, emu_param(req, "FunctionName"), emu_query(req, "Qualifier"),
                     &ref) != 0) {
        return -1;
    }
    int rc = -1;
    struct lfn_alias alias;
    memset(&alias, 0, sizeof(alias));
    struct lfn_ver v;
    memset(&v, 0, sizeof(v));
    char version[16] = "$LATEST";
    if (emu_store_begin(0) != 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return -1;
    }
    if (ref.qual[0] != 0 && !lfn_is_digits(ref.qual) && strcmp(ref.qual, "$LATEST") != 0) {
        int r = lfn_load_alias(req, ref.name, ref.qual, &alias);
        if (r <= 0) {
            if (r < 0) {
                emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
            } else {
                lfn_fail_not_found(req, resp, ref.name, ref.qual);
            }
            goto out;
        }
        snprintf(version, sizeof(version), "%s", alias.version);
        const cJSON *w = alias.routing ? alias.routing->child : NULL;
        if (w != NULL && cJSON_IsNumber(w) && w->string != NULL && lfn_rand01() < w->valuedouble) {
            snprintf(version, sizeof(version), "%s", w->string);
        }
    } else if (ref.qual[0] != 0) {
        snprintf(version, sizeof(version), "%s", ref.qual);
    }
    int r = lfn_load_ver(req, ref.name, version, &v);
    if (r <= 0) {
        if (r < 0) {
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        } else if (lfn_exists(req, ref.name) == 1) {
            lfn_fail_not_found(req, resp, ref.name, ref.qual);
        } else {
            lfn_fail_not_found(req, resp, ref.name, NULL);
        }
        goto out;
    }
    const char *principal = emu_header(req, "x-greenroom-source-principal");
    if (req->internal && principal != NULL) {
        const char *source_arn = emu_header(req, "x-greenroom-source-arn");
        const char *q = ref.qual;
        if (strcmp(q, "$LATEST") == 0) {
            q = "";
        }
        cJSON *stmts = lfn_statements(req, ref.name, q);
        int allowed = lambda_policy_allows(stmts, principal, source_arn,
                                           emu_header(req, "x-greenroom-source-account"));
        cJSON_Delete(stmts);
        if (!allowed) {
            char arn[400];
            lfn_arn(arn, sizeof(arn), req, ref.name, ref.qual);
            emu_fail(resp, AWS_ACCESS_DENIED_EXCEPTION,
                     "User: %s is not authorized to perform: lambda:InvokeFunction on resource: "
                     "%s because no resource-based policy allows the lambda:InvokeFunction action",
                     principal, arn);
            goto out;
        }
    }
    memset(run, 0, sizeof(*run));
    snprintf(run->account, sizeof(run->account), "%s", req->account);
    snprintf(run->region, sizeof(run->region), "%s", req->region);
    snprintf(run->name, sizeof(run->name), "%s", ref.name);
    snprintf(run->version, sizeof(run->version), "%s", version);
    snprintf(run->revision, sizeof(run->revision), "%s", v.revision);
    lfn_arn(run->invoked_arn, sizeof(run->invoked_arn), req, ref.name, ref.qual);
    const char *iarn = emu_header(req, "x-greenroom-invoked-arn");
    if (req->internal && iarn != NULL && iarn[0] != 0) {
        /* an async retry: the function sees the ARN first invoked */
        snprintf(run->invoked_arn, sizeof(run->invoked_arn), "%s", iarn);
    }
    snprintf(qualkey, 132, "%s", ref.qual[0] ? ref.qual : "$LATEST");
    snprintf(run->runtime, sizeof(run->runtime), "%s",
             lfn_str(v.config, "Runtime") ? lfn_str(v.config, "Runtime") : "");
    snprintf(run->handler, sizeof(run->handler), "%s",
             lfn_str(v.config, "Handler") ? lfn_str(v.config, "Handler") : "");
    snprintf(run->code_hex, sizeof(run->code_hex), "%s", v.code_hex);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(v.config, "Timeout");
    run->timeout = cJSON_IsNumber(t) ? t->valueint : 3;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(v.config, "MemorySize");
    run->memory = cJSON_IsNumber(m) ? m->valueint : 128;
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(v.config, "Environment"), "Variables");
    run->env_json = vars ? cJSON_PrintUnformatted(vars) : NULL;
    long long reserved = 0;
    run->reserved = lfn_reserved(req, ref.name, &reserved) == 1 ? (int)reserved : -1;
    rc = 0;
out:
    emu_store_end(1);
    lfn_alias_release(&alias);
    lfn_ver_release(&v);
    return rc;
}

/* Invoke and the legacy InvokeAsync (forced_type "Event"). */
static void lfn_invoke(struct emu_request *req, struct emu_response *resp, const char *forced_type)
{
    const char *type = forced_type ? forced_type : emu_header(req, "x-amz-invocation-type");
    const char *log_type = emu_header(req, "x-amz-log-type");
    const char *cc = emu_header(req, "x-amz-client-context");
    if (type != NULL && strcmp(type, "RequestResponse") != 0 && strcmp(type, "Event") != 0 &&
        strcmp(type, "DryRun") != 0) {
        lfn_validation(resp, type, "invocationType",
                       "Member must satisfy enum value set: [Event, RequestResponse, DryRun]");
        return;
    }
    if (log_type != NULL && strcmp(log_type, "None") != 0 && strcmp(log_type, "Tail") != 0) {
        lfn_validation(resp, log_type, "logType",
                       "Member must satisfy enum value set: [None, Tail]");
        return;
    }
    if (req->body_len > LFN_MAX_PAYLOAD) {
        emu_fail(resp, LAMBDA_REQUEST_TOO_LARGE,
                 "Request must be smaller than %d bytes for the InvokeFunction operation",
                 LFN_MAX_PAYLOAD);
        return;
    }
    if (req->body_len > 0) {
        cJSON *j = cJSON_ParseWithLength(req->body, req->body_len);
        if (j == NULL) {
            emu_fail(resp, LAMBDA_INVALID_REQUEST_CONTENT,
                     "Could not parse request body into json: Could not parse payload into json: "
                     "Unexpected character: was expecting a valid JSON value");
            return;
        }
        cJSON_Delete(j);
    }
    struct lambda_run run;
    char qualkey[132];
    if (lfn_invoke_prepare(req, resp, &run, qualkey) != 0) {
        return;
    }
    if (type != NULL && strcmp(type, "DryRun") == 0) {
        free(run.env_json);
        emu_resp_body(resp, 204, NULL, "", 0);
        return;
    }
    if (type != NULL && strcmp(type, "Event") == 0) {
        struct lfn_event_job *job = calloc(1, sizeof(*job));
        if (job == NULL) {
            free(run.env_json);
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
            return;
        }
        job->run = run;
        job->payload = malloc(req->body_len + 1);
        if (job->payload != NULL && req->body_len > 0) {
            memcpy(job->payload, req->body, req->body_len);
        }
        job->len = job->payload != NULL ? req->body_len : 0;
        job->client_context = cc ? strdup(cc) : NULL;
        snprintf(job->request_id, sizeof(job->request_id), "%s", req->request_id);
        lfn_arn(job->function_arn, sizeof(job->function_arn), req, run.name, qualkey);
        job->enqueued = emu_now();
        job->max_retries = 2;
        job->max_age = 21600;
        if (lfn_async_enqueue(req, resp, job, qualkey) != 0) {
            return;
        }
        if (forced_type != NULL) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "Status", 202);
            emu_resp_json(resp, 202, o);
        } else {
            emu_resp_body(resp, 202, NULL, "", 0);
        }
        return;
    }
    struct lambda_result r;
    lambda_exec_invoke(&run, req->body_len ? req->body : "{}", req->body_len ? req->body_len : 2,
                       cc, &r);
    free(run.env_json);
    if (r.throttled) {
        emu_fail(resp, LAMBDA_TOO_MANY_REQUESTS, NULL);
        lambda_result_release(&r);
        return;
    }
    emu_resp_body(resp, 200, "application/json", r.payload ? r.payload : "", r.payload_len);
    emu_resp_header(resp, "X-Amz-Executed-Version", "%s", run.version);
    if (r.error != LAMBDA_OK) {
        emu_resp_header(resp, "X-Amz-Function-Error", "%s",
                        r.error == LAMBDA_HANDLED ? "Handled" : "Unhandled");
    }
    if (log_type != NULL && strcmp(log_type, "Tail") == 0) {
        char *b64 = emu_base64_encode(r.log_tail ? r.log_tail : "", r.log_tail_len);
        emu_resp_header(resp, "X-Amz-Log-Result", "%s", b64 ? b64 : "");
        free(b64);
    }
    lambda_result_release(&r);
}

static void lambda_invoke(struct emu_request *req, struct emu_response *resp)
{
    lfn_invoke(req, resp, NULL);
}

static void lambda_invoke_async(struct emu_request *req, struct emu_response *resp)
{
    lfn_invoke(req, resp, "Event");
}

/* ------------------------------------------------ event invoke configs */

/* FunctionName (+ Qualifier) of an event invoke config call: the function
 * must exist, and the qualifier (version or alias) too. qualkey gets the
 * qualifier or "$LATEST". Returns 0, -1 with resp failed. */
static int lfn_eic_target(struct emu_request *req, struct emu_response *resp, struct lfn_ref *ref,
                          char qualkey[132])
{
    if (lfn_ref_from(req, resp, emu_param(req, "FunctionName"), emu_query(req, "Qualifier"), ref) !=
            0 ||
        !lfn_exists_or_fail(req, resp, ref->name)) {
        return -1;
    }
    if (ref->qual[0] != 0 && strcmp(ref->qual, "$LATEST") != 0) {
        char version[16];
        int is_alias;
        if (lfn_resolve(req, resp, ref->name, ref->qual, version, &is_alias, NULL) != 0) {
            return -1;
        }
    }
    snprintf(qualkey, 132, "%s", ref->qual[0] ? ref->qual : "$LATEST");
    return 0;
}

/* The stored config of a qualifier (new tree, caller deletes) with its
 * LastModified, or NULL when none. */
static cJSON *lfn_eic_load(const struct emu_request *req, const char *name, const char *qualkey,
                           double *last_modified)
{
    sqlite3_stmt *st = emu_stmt("SELECT config, last_modified FROM lambda_event_configs WHERE "
                                "account = ?1 AND region = ?2 AND name = ?3 AND qualifier = ?4");
    if (st == NULL) {
        return NULL;
    }
    lfn_bind3(st, req, name);
    lfn_bind(st, 4, qualkey);
    cJSON *c = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        c = cJSON_Parse((const char *)sqlite3_column_text(st, 0));
        if (last_modified != NULL) {
            *last_modified = sqlite3_column_double(st, 1);
        }
    }
    emu_stmt_done(st);
    return c;
}

/* FunctionEventInvokeConfig as AWS renders it (new tree). */
static cJSON *lfn_eic_render(const struct emu_request *req, const char *name, const char *qualkey,
                             const cJSON *cfg, double last_modified)
{
    cJSON *o = cJSON_CreateObject();
    char arn[400];
    lfn_arn(arn, sizeof(arn), req, name, qualkey);
    cJSON_AddNumberToObject(o, "LastModified", last_modified);
    cJSON_AddStringToObject(o, "FunctionArn", arn);
    const char *keys[] = {"MaximumRetryAttempts", "MaximumEventAgeInSeconds"};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(cfg, keys[i]);
        if (cJSON_IsNumber(x)) {
            cJSON_AddNumberToObject(o, keys[i], x->valueint);
        }
    }
    cJSON *dc = cJSON_AddObjectToObject(o, "DestinationConfig");
    const cJSON *sdc = cJSON_GetObjectItemCaseSensitive(cfg, "DestinationConfig");
    const char *kinds[] = {"OnSuccess", "OnFailure"};
    for (size_t i = 0; i < 2; i++) {
        cJSON *k = cJSON_AddObjectToObject(dc, kinds[i]);
        const char *d = lfn_str(cJSON_GetObjectItemCaseSensitive(sdc, kinds[i]), "Destination");
        if (d != NULL && d[0] != 0) {
            cJSON_AddStringToObject(k, "Destination", d);
        }
    }
    return o;
}

/* One integer member of an event invoke config: body's `member` (absent or
 * null: cfg keeps its value) must be a number in [lo, hi] (the validation
 * message names `field`, and shows `bad` for a non-number); it goes into
 * cfg. Returns 0, -1 with resp failed. */
static int lfn_eic_int(struct emu_response *resp, const cJSON *body, cJSON *cfg,
                       const char *member, const char *field, int lo, int hi, int bad)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(body, member);
    if (x == NULL || cJSON_IsNull(x)) {
        return 0;
    }
    char v[32], msg[96];
    snprintf(v, sizeof(v), "%d", cJSON_IsNumber(x) ? x->valueint : bad);
    if (!cJSON_IsNumber(x) || x->valuedouble < lo) {
        snprintf(msg, sizeof(msg), "Member must have value greater than or equal to %d", lo);
        lfn_validation(resp, v, field, msg);
        return -1;
    }
    if (x->valuedouble > hi) {
        snprintf(msg, sizeof(msg), "Member must have value less than or equal to %d", hi);
        lfn_validation(resp, v, field, msg);
        return -1;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(cfg, member);
    cJSON_AddNumberToObject(cfg, member, x->valueint);
    return 0;
}

/* Validates body's members and applies them to cfg (Put: cfg starts
 * empty; Update: the stored one). Returns 0, -1 with resp failed. */
static int lfn_eic_apply(struct emu_response *resp, const cJSON *body, cJSON *cfg)
{
    if (lfn_eic_int(resp, body, cfg, "MaximumRetryAttempts", "maximumRetryAttempts", 0, 2, -1) ||
        lfn_eic_int(resp, body, cfg, "MaximumEventAgeInSeconds", "maximumEventAgeInSeconds", 60,
                    21600, 0)) {
        return -1;
    }
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(body, "DestinationConfig");
    if (x != NULL && !cJSON_IsNull(x)) {
        if (!cJSON_IsObject(x)) {
            emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE, "DestinationConfig must be an object.");
            return -1;
        }
        cJSON *dc = cJSON_GetObjectItemCaseSensitive(cfg, "DestinationConfig");
        if (dc == NULL) {
            dc = cJSON_AddObjectToObject(cfg, "DestinationConfig");
        }
        const char *kinds[] = {"OnSuccess", "OnFailure"};
        for (size_t i = 0; i < 2; i++) {
            const cJSON *k = cJSON_GetObjectItemCaseSensitive(x, kinds[i]);
            if (k == NULL) {
                continue;
            }
            const cJSON *d = cJSON_GetObjectItemCaseSensitive(k, "Destination");
            const char *arn = cJSON_IsString(d) ? d->valuestring : "";
            cJSON_DeleteItemFromObjectCaseSensitive(dc, kinds[i]);
            if (arn[0] == 0) {
                continue;
            }
            struct evw_arn pa;
            if (strlen(arn) > 350 || evw_arn_parse(arn, &pa) != 0 ||
                (strcmp(pa.service, "sqs") != 0 && strcmp(pa.service, "sns") != 0 &&
                 strcmp(pa.service, "lambda") != 0 && strcmp(pa.service, "events") != 0)) {
                emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE,
                         "The provided destination config DestinationConfig(%s=%s) is invalid.",
                         kinds[i], arn);
                return -1;
            }
            cJSON *o = cJSON_AddObjectToObject(dc, kinds[i]);
            cJSON_AddStringToObject(o, "Destination", arn);
        }
    }
    return 0;
}

/* Put (replace) and Update (merge). */
static void lfn_eic_write(struct emu_request *req, struct emu_response *resp, int merge)
{
    struct lfn_ref ref;
    char qualkey[132];
    if (lfn_eic_target(req, resp, &ref, qualkey) != 0) {
        return;
    }
    cJSON *cfg = merge ? lfn_eic_load(req, ref.name, qualkey, NULL) : NULL;
    if (cfg == NULL) {
        cfg = cJSON_CreateObject();
    }
    if (lfn_eic_apply(resp, req->json, cfg) != 0) {
        goto out;
    }
    char *text = cJSON_PrintUnformatted(cfg);
    double now = emu_now();
    sqlite3_stmt *st = emu_stmt("INSERT OR REPLACE INTO lambda_event_configs (account, region, "
                                "name, qualifier, config, last_modified) VALUES (?1, ?2, ?3, ?4, "
                                "?5, ?6)");
    if (st == NULL || text == NULL) {
        free(text);
        emu_stmt_done(st);
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        goto out;
    }
    lfn_bind3(st, req, ref.name);
    lfn_bind(st, 4, qualkey);
    lfn_bind(st, 5, text);
    sqlite3_bind_double(st, 6, now);
    free(text);
    if (lfn_exec_done(st, resp) != 0) {
        goto out;
    }
    emu_resp_json(resp, 200, lfn_eic_render(req, ref.name, qualkey, cfg, now));
out:
    cJSON_Delete(cfg);
}

static void lambda_put_function_event_invoke_config(struct emu_request *req,
                                                    struct emu_response *resp)
{
    lfn_eic_write(req, resp, 0);
}

static void lambda_update_function_event_invoke_config(struct emu_request *req,
                                                       struct emu_response *resp)
{
    lfn_eic_write(req, resp, 1);
}

static void lfn_eic_not_found(struct emu_request *req, struct emu_response *resp, const char *name,
                              const char *qualkey)
{
    char arn[400];
    lfn_arn(arn, sizeof(arn), req, name, qualkey);
    emu_fail(resp, LAMBDA_RESOURCE_NOT_FOUND, "The function %s doesn't have an EventInvokeConfig",
             arn);
}

static void lambda_get_function_event_invoke_config(struct emu_request *req,
                                                    struct emu_response *resp)
{
    struct lfn_ref ref;
    char qualkey[132];
    if (lfn_eic_target(req, resp, &ref, qualkey) != 0) {
        return;
    }
    double lm = 0;
    cJSON *cfg = lfn_eic_load(req, ref.name, qualkey, &lm);
    if (cfg == NULL) {
        lfn_eic_not_found(req, resp, ref.name, qualkey);
        return;
    }
    emu_resp_json(resp, 200, lfn_eic_render(req, ref.name, qualkey, cfg, lm));
    cJSON_Delete(cfg);
}

static void lambda_delete_function_event_invoke_config(struct emu_request *req,
                                                       struct emu_response *resp)
{
    struct lfn_ref ref;
    char qualkey[132];
    if (lfn_eic_target(req, resp, &ref, qualkey) != 0) {
        return;
    }
    cJSON *cfg = lfn_eic_load(req, ref.name, qualkey, NULL);
    if (cfg == NULL) {
        lfn_eic_not_found(req, resp, ref.name, qualkey);
        return;
    }
    cJSON_Delete(cfg);
    if (lfn_delete_rows(req, resp,
                        "DELETE FROM lambda_event_configs WHERE account = ?1 AND region = ?2 AND "
                        "name = ?3 AND qualifier = ?4",
                        ref.name, qualkey) != 0) {
        return;
    }
    emu_resp_body(resp, 204, NULL, "", 0);
}

static void lambda_list_function_event_invoke_configs(struct emu_request *req,
                                                      struct emu_response *resp)
{
    struct lfn_ref ref;
    long max;
    if (lfn_ref_from(req, resp, emu_param(req, "FunctionName"), NULL, &ref) != 0 ||
        lfn_max_items(req, resp, &max, 50, 50) != 0) {
        return;
    }
    char after[132] = "";
    const char *marker = emu_query(req, "Marker");
    if (marker != NULL && marker[0] != 0 &&
        lfn_key_marker_parse(marker, "eic:", ref.name, after, sizeof(after)) != 0) {
        emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE, "Invalid marker: %s", marker);
        return;
    }
    if (!lfn_exists_or_fail(req, resp, ref.name)) {
        return;
    }
    sqlite3_stmt *st = emu_stmt("SELECT qualifier, config, last_modified FROM lambda_event_configs "
                                "WHERE account = ?1 AND region = ?2 AND name = ?3 AND "
                                "qualifier > ?5 ORDER BY qualifier LIMIT ?4");
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    lfn_bind3(st, req, ref.name);
    sqlite3_bind_int64(st, 4, max + 1);
    lfn_bind(st, 5, after);
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "FunctionEventInvokeConfigs");
    long n = 0;
    char last[132] = "";
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == max) {
            char *mk = lfn_key_marker("eic:", ref.name, last);
            cJSON_AddStringToObject(o, "NextMarker", mk ? mk : "");
            free(mk);
            break;
        }
        snprintf(last, sizeof(last), "%s", (const char *)sqlite3_column_text(st, 0));
        cJSON *cfg = cJSON_Parse((const char *)sqlite3_column_text(st, 1));
        cJSON_AddItemToArray(
            arr, lfn_eic_render(req, ref.name, last, cfg, sqlite3_column_double(st, 2)));
        cJSON_Delete(cfg);
        n++;
    }
    emu_stmt_done(st);
    emu_resp_json(resp, 200, o);
}

/* ------------------------------------------------- event source mappings */

/* Applies the updatable members of body to an ESM config. */
static int lfn_esm_apply(struct emu_response *resp, const cJSON *body, cJSON *cfg)
{
    const char *nums[] = {"BatchSize",
                          "MaximumBatchingWindowInSeconds",
                          "ParallelizationFactor",
                          "MaximumRecordAgeInSeconds",
                          "MaximumRetryAttempts",
                          "TumblingWindowInSeconds"};
    for (size_t i = 0; i < sizeof(nums) / sizeof(*nums); i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(body, nums[i]);
        if (x == NULL) {
            continue;
        }
        if (!cJSON_IsNumber(x)) {
            emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE, "%s must be a number.", nums[i]);
            return -1;
        }
        if (strcmp(nums[i], "BatchSize") == 0 && (x->valuedouble < 1 || x->valuedouble > 10000)) {
            char v[32];
            snprintf(v, sizeof(v), "%d", x->valueint);
            lfn_validation(resp, v, "batchSize",
                           x->valuedouble < 1 ? "Member must have value greater than or equal to 1"
                                              : "Member must have value less than or equal to "
                                                "10000");
            return -1;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, nums[i]);
        cJSON_AddNumberToObject(cfg, nums[i], x->valuedouble);
    }
    const char *objs[] = {"FilterCriteria",        "DestinationConfig",
                          "FunctionResponseTypes", "SourceAccessConfigurations",
                          "ScalingConfig",         "BisectBatchOnFunctionError"};
    for (size_t i = 0; i < sizeof(objs) / sizeof(*objs); i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(body, objs[i]);
        if (x != NULL) {
            cJSON_DeleteItemFromObjectCaseSensitive(cfg, objs[i]);
            cJSON_AddItemToObject(cfg, objs[i], cJSON_Duplicate(x, 1));
        }
    }
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(body, "Enabled");
    if (en != NULL) {
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, "State");
        cJSON_AddStringToObject(cfg, "State", cJSON_IsFalse(en) ? "Disabled" : "Enabled");
    }
    return 0;
}

static int lfn_esm_save(struct emu_request *req, struct emu_response *resp, const char *uuid,
                        const char *name, const cJSON *cfg)
{
    char *text = cJSON_PrintUnformatted(cfg);
    sqlite3_stmt *st = emu_stmt("INSERT OR REPLACE INTO lambda_esm (account, region, uuid, name, "
                                "config) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (st == NULL || text == NULL) {
        emu_stmt_done(st);
        free(text);
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return -1;
    }
    lfn_bind(st, 1, req->account);
    lfn_bind(st, 2, req->region);
    lfn_bind(st, 3, uuid);
    lfn_bind(st, 4, name);
    lfn_bind(st, 5, text);
    free(text);
    return lfn_exec_done(st, resp);
}

/* The FunctionArn an ESM points at: checks function and qualifier exist. */
static int lfn_esm_function(struct emu_request *req, struct emu_response *resp, const char *fname,
                            struct lfn_ref *ref, char *arn, size_t alen)
{
    if (lfn_ref_from(req, resp, fname, NULL, ref) != 0 ||
        !lfn_exists_or_fail(req, resp, ref->name)) {
        return -1;
    }
    char version[16];
    int is_alias;
    if (ref->qual[0] != 0 &&
        lfn_resolve(req, resp, ref->name, ref->qual, version, &is_alias, NULL) != 0) {
        return -1;
    }
    lfn_arn(arn, alen, req, ref->name, ref->qual);
    return 0;
}

static void lambda_create_event_source_mapping(struct emu_request *req, struct emu_response *resp)
{
    const cJSON *b = req->json;
    const char *fname = lfn_str(b, "FunctionName");
    if (fname == NULL) {
        lfn_validation(resp, NULL, "functionName", "Member must not be null");
        return;
    }
    const char *src = lfn_str(b, "EventSourceArn");
    if (src != NULL && strncmp(src, "arn:", 4) != 0) {
        lfn_validation(resp, src, "eventSourceArn",
                       "Member must satisfy regular expression pattern: "
                       "arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}(-gov)?-[a-z]+-\\d{1})?:("
                       "\\d{12})?:(.*)");
        return;
    }
    const char *pos = lfn_str(b, "StartingPosition");
    if (pos != NULL && strcmp(pos, "TRIM_HORIZON") != 0 && strcmp(pos, "LATEST") != 0 &&
        strcmp(pos, "AT_TIMESTAMP") != 0) {
        lfn_validation(resp, pos, "startingPosition",
                       "Member must satisfy enum value set: [TRIM_HORIZON, LATEST, AT_TIMESTAMP]");
        return;
    }
    int is_stream = src && (strstr(src, ":kinesis:") || strstr(src, ":dynamodb:"));
    if (is_stream && pos == NULL) {
        emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE,
                 "1 validation error detected: Value null at 'startingPosition' failed to "
                 "satisfy constraint: Member must not be null.");
        return;
    }
    struct lfn_ref ref;
    char arn[400];
    if (lfn_esm_function(req, resp, fname, &ref, arn, sizeof(arn)) != 0) {
        return;
    }
    char uuid[37];
    emu_uuid(uuid);
    cJSON *cfg = cJSON_CreateObject();
    cJSON_AddStringToObject(cfg, "UUID", uuid);
    if (pos != NULL) {
        cJSON_AddStringToObject(cfg, "StartingPosition", pos);
    }
    int sqs = src && strstr(src, ":sqs:") != NULL;
    cJSON_AddNumberToObject(cfg, "BatchSize", sqs ? 10 : 100);
    cJSON_AddNumberToObject(cfg, "MaximumBatchingWindowInSeconds", 0);
    if (is_stream) {
        cJSON_AddNumberToObject(cfg, "ParallelizationFactor", 1);
    }
    if (src != NULL) {
        cJSON_AddStringToObject(cfg, "EventSourceArn", src);
    }
    cJSON_AddStringToObject(cfg, "FunctionArn", arn);
    cJSON_AddNumberToObject(cfg, "LastModified", (double)(long long)emu_now());
    if (is_stream) {
        cJSON_AddStringToObject(cfg, "LastProcessingResult", "No records processed");
    }
    cJSON_AddStringToObject(cfg, "State", "Enabled");
    cJSON_AddStringToObject(cfg, "StateTransitionReason", "User action");
    cJSON_AddItemToObject(cfg, "FunctionResponseTypes", cJSON_CreateArray());
    char esm_arn[200];
    snprintf(esm_arn, sizeof(esm_arn), "arn:aws:lambda:%s:%s:event-source-mapping:%s", req->region,
             req->account, uuid);
    cJSON_AddStringToObject(cfg, "EventSourceMappingArn", esm_arn);
    if (lfn_esm_apply(resp, b, cfg) != 0) {
        cJSON_Delete(cfg);
        return;
    }
    if (lfn_esm_save(req, resp, uuid, ref.name, cfg) == 0) {
        emu_resp_json(resp, 202, cfg);
        return;
    }
    cJSON_Delete(cfg);
}

/* Loads an ESM by the path's UUID. Returns the config (caller deletes) and
 * its function name in name, or NULL (resp failed). */
static cJSON *lfn_esm_load(struct emu_request *req, struct emu_response *resp, char name[72])
{
    const char *uuid = emu_param(req, "UUID");
    sqlite3_stmt *st = emu_stmt("SELECT config, name FROM lambda_esm WHERE account = ?1 AND "
                                "region = ?2 AND uuid = ?3");
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return NULL;
    }
    lfn_bind3(st, req, uuid);
    if (sqlite3_step(st) != SQLITE_ROW) {
        emu_stmt_done(st);
        emu_fail(resp, LAMBDA_RESOURCE_NOT_FOUND, "The resource you requested does not exist.");
        return NULL;
    }
    cJSON *cfg = cJSON_Parse((const char *)sqlite3_column_text(st, 0));
    snprintf(name, 72, "%s", (const char *)sqlite3_column_text(st, 1));
    emu_stmt_done(st);
    if (cfg == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
    }
    return cfg;
}

static void lambda_get_event_source_mapping(struct emu_request *req, struct emu_response *resp)
{
    char name[72];
    cJSON *cfg = lfn_esm_load(req, resp, name);
    if (cfg != NULL) {
        emu_resp_json(resp, 200, cfg);
    }
}

static void lambda_update_event_source_mapping(struct emu_request *req, struct emu_response *resp)
{
    char name[72];
    cJSON *cfg = lfn_esm_load(req, resp, name);
    if (cfg == NULL) {
        return;
    }
    const char *fname = lfn_str(req->json, "FunctionName");
    if (fname != NULL) {
        struct lfn_ref ref;
        char arn[400];
        if (lfn_esm_function(req, resp, fname, &ref, arn, sizeof(arn)) != 0) {
            cJSON_Delete(cfg);
            return;
        }
        snprintf(name, 72, "%s", ref.name);
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, "FunctionArn");
        cJSON_AddStringToObject(cfg, "FunctionArn", arn);
    }
    if (lfn_esm_apply(resp, req->json, cfg) != 0) {
        cJSON_Delete(cfg);
        return;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(cfg, "LastModified");
    cJSON_AddNumberToObject(cfg, "LastModified", (double)(long long)emu_now());
    if (lfn_esm_save(req, resp, emu_param(req, "UUID"), name, cfg) == 0) {
        emu_resp_json(resp, 202, cfg);
        return;
    }
    cJSON_Delete(cfg);
}

static void lambda_delete_event_source_mapping(struct emu_request *req, struct emu_response *resp)
{
    char name[72];
    cJSON *cfg = lfn_esm_load(req, resp, name);
    if (cfg == NULL) {
        return;
    }
    if (lfn_delete_rows(req, resp,
                        "DELETE FROM lambda_esm WHERE account = ?1 AND region = ?2 AND uuid = ?3",
                        emu_param(req, "UUID"), NULL) != 0) {
        cJSON_Delete(cfg);
        return;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(cfg, "State");
    cJSON_AddStringToObject(cfg, "State", "Deleting");
    emu_resp_json(resp, 202, cfg);
}

static void lambda_list_event_source_mappings(struct emu_request *req, struct emu_response *resp)
{
    long max;
    if (lfn_max_items(req, resp, &max, 100, 10000) != 0) {
        return;
    }
    char after[64] = "";
    const char *marker = emu_query(req, "Marker");
    if (marker != NULL && marker[0] != 0 &&
        lfn_key_marker_parse(marker, "esm:", "", after, sizeof(after)) != 0) {
        emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE, "Invalid marker: %s", marker);
        return;
    }
    const char *src = emu_query(req, "EventSourceArn");
    const char *fname = emu_query(req, "FunctionName");
    struct lfn_ref ref;
    memset(&ref, 0, sizeof(ref));
    if (fname != NULL && lfn_ref_from(req, resp, fname, NULL, &ref) != 0) {
        return;
    }
    /* keyset on the UUID: an update rewrites its row, so rowid would move */
    sqlite3_stmt *st = emu_stmt("SELECT config, uuid FROM lambda_esm WHERE account = ?1 AND "
                                "region = ?2 AND (?3 IS NULL OR name = ?3) AND uuid > ?4 "
                                "ORDER BY uuid");
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    lfn_bind(st, 1, req->account);
    lfn_bind(st, 2, req->region);
    lfn_bind(st, 3, fname ? ref.name : NULL);
    lfn_bind(st, 4, after);
    char want[400] = "";
    if (fname != NULL && ref.qual[0] != 0) {
        lfn_arn(want, sizeof(want), req, ref.name, ref.qual);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "EventSourceMappings");
    long n = 0;
    int more = 0;
    char last[64] = "";
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *cfg = cJSON_Parse((const char *)sqlite3_column_text(st, 0));
        if (cfg == NULL) {
            continue;
        }
        const char *s = lfn_str(cfg, "EventSourceArn");
        const char *fa = lfn_str(cfg, "FunctionArn");
        if ((want[0] != 0 && (fa == NULL || strcmp(fa, want) != 0)) ||
            (src != NULL && (s == NULL || strcmp(s, src) != 0))) {
            cJSON_Delete(cfg);
            continue;
        }
        if (n++ == max) {
            more = 1;
            cJSON_Delete(cfg);
            break;
        }
        snprintf(last, sizeof(last), "%s", (const char *)sqlite3_column_text(st, 1));
        cJSON_AddItemToArray(arr, cfg);
    }
    emu_stmt_done(st);
    if (more) {
        char *mk = lfn_key_marker("esm:", "", last);
        cJSON_AddStringToObject(o, "NextMarker", mk ? mk : "");
        free(mk);
    }
    emu_resp_json(resp, 200, o);
}

/* ------------------------------------------------------------------ tags */

/* The function a tagging ARN names (unqualified function ARNs only).
 * Returns 0 with name filled, -1 with resp failed. */
static int lfn_tag_target(struct emu_request *req, struct emu_response *resp, char name[72])
{
    const char *arn = emu_param(req, "Resource");
    struct lfn_ref ref;
    if (arn == NULL || strncmp(arn, "arn:", 4) != 0 || lfn_parse_name(arn, &ref) != 0) {
        lfn_validation(resp, arn ? arn : "", "resource",
                       "Member must satisfy regular expression pattern: "
                       "arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:"
                       "\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-"
                       "zA-Z0-9-_]+)|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-"
                       "9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})");
        return -1;
    }
    if (ref.qual[0] != 0) {
        emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE,
                 "Tags are not supported on function versions or aliases: %s", arn);
        return -1;
    }
    if (!lfn_exists_or_fail(req, resp, ref.name)) {
        return -1;
    }
    snprintf(name, 72, "%s", ref.name);
    return 0;
}

/* The tags object of a function (caller deletes), NULL on error. */
static cJSON *lfn_tags_load(struct emu_request *req, const char *name)
{
    sqlite3_stmt *st = emu_stmt(
        "SELECT tags FROM lambda_functions WHERE account = ?1 AND region = ?2 AND name = ?3");
    if (st == NULL) {
        return NULL;
    }
    lfn_bind3(st, req, name);
    cJSON *t = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        t = cJSON_Parse((const char *)sqlite3_column_text(st, 0));
    }
    emu_stmt_done(st);
    return t ? t : cJSON_CreateObject();
}

static int lfn_tags_save(struct emu_request *req, struct emu_response *resp, const char *name,
                         const cJSON *tags)
{
    char *text = cJSON_PrintUnformatted(tags);
    sqlite3_stmt *st = emu_stmt(
        "UPDATE lambda_functions SET tags = ?4 WHERE account = ?1 AND region = ?2 AND name = ?3");
    if (st == NULL || text == NULL) {
        emu_stmt_done(st);
        free(text);
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return -1;
    }
    lfn_bind3(st, req, name);
    lfn_bind(st, 4, text);
    free(text);
    return lfn_exec_done(st, resp);
}

static void lambda_tag_resource(struct emu_request *req, struct emu_response *resp)
{
    char name[72];
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(req->json, "Tags");
    if (in == NULL) {
        lfn_validation(resp, NULL, "tags", "Member must not be null");
        return;
    }
    if (lfn_tags_ok(resp, in) != 0 || lfn_tag_target(req, resp, name) != 0) {
        return;
    }
    cJSON *tags = lfn_tags_load(req, name);
    const cJSON *it = NULL;
    cJSON_ArrayForEach(it, in)
    {
        cJSON_DeleteItemFromObjectCaseSensitive(tags, it->string);
        cJSON_AddStringToObject(tags, it->string, it->valuestring);
    }
    if (lfn_tags_save(req, resp, name, tags) == 0) {
        emu_resp_body(resp, 204, NULL, "", 0);
    }
    cJSON_Delete(tags);
}

static void lambda_untag_resource(struct emu_request *req, struct emu_response *resp)
{
    char name[72];
    if (!emu_kv_has(&req->query, "tagKeys")) {
        lfn_validation(resp, NULL, "tagKeys", "Member must not be null");
        return;
    }
    if (lfn_tag_target(req, resp, name) != 0) {
        return;
    }
    cJSON *tags = lfn_tags_load(req, name);
    for (size_t i = 0; i < req->query.n; i++) {
        if (strcmp(req->query.items[i].key, "tagKeys") == 0) {
            cJSON_DeleteItemFromObjectCaseSensitive(tags, req->query.items[i].value);
        }
    }
    if (lfn_tags_save(req, resp, name, tags) == 0) {
        emu_resp_body(resp, 204, NULL, "", 0);
    }
    cJSON_Delete(tags);
}

static void lambda_list_tags(struct emu_request *req, struct emu_response *resp)
{
    char name[72];
    if (lfn_tag_target(req, resp, name) != 0) {
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "Tags", lfn_tags_load(req, name));
    emu_resp_json(resp, 200, o);
}

static void lambda_get_account_settings(struct emu_request *req, struct emu_response *resp)
{
    sqlite3_stmt *st = emu_stmt("SELECT (SELECT count(*) FROM lambda_functions WHERE account = ?1 "
                                "AND region = ?2), (SELECT coalesce(sum(code_size), 0) FROM "
                                "lambda_versions WHERE account = ?1 AND region = ?2)");
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    lfn_bind(st, 1, req->account);
    lfn_bind(st, 2, req->region);
    long long count = 0, total = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        count = sqlite3_column_int64(st, 0);
        total = sqlite3_column_int64(st, 1);
    }
    emu_stmt_done(st);
    cJSON *o = cJSON_CreateObject();
    cJSON *l = cJSON_AddObjectToObject(o, "AccountLimit");
    cJSON_AddNumberToObject(l, "TotalCodeSize", 80530636800.0);
    cJSON_AddNumberToObject(l, "CodeSizeUnzipped", 262144000);
    cJSON_AddNumberToObject(l, "CodeSizeZipped", 52428800);
    cJSON_AddNumberToObject(l, "ConcurrentExecutions", 1000);
    cJSON_AddNumberToObject(l, "UnreservedConcurrentExecutions", 1000);
    cJSON *u = cJSON_AddObjectToObject(o, "AccountUsage");
    cJSON_AddNumberToObject(u, "TotalCodeSize", (double)total);
    cJSON_AddNumberToObject(u, "FunctionCount", (double)count);
    emu_resp_json(resp, 200, o);
}

/* ------------------------------------------------- reserved concurrency */

/* The function's reserved concurrency: 1 and *n when set, 0 when not, -1
 * on error. */
static int lfn_reserved(const struct emu_request *req, const char *name, long long *n)
{
    sqlite3_stmt *st = emu_stmt("SELECT reserved FROM lambda_functions WHERE account = ?1 AND "
                                "region = ?2 AND name = ?3");
    if (st == NULL) {
        return -1;
    }
    lfn_bind3(st, req, name);
    int rc = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        rc = sqlite3_column_type(st, 0) == SQLITE_NULL ? 0 : 1;
        *n = sqlite3_column_int64(st, 0);
    }
    emu_stmt_done(st);
    return rc;
}

static int lfn_set_reserved(struct emu_request *req, struct emu_response *resp, const char *name,
                            const long long *n)
{
    sqlite3_stmt *st = emu_stmt("UPDATE lambda_functions SET reserved = ?4 WHERE account = ?1 AND "
                                "region = ?2 AND name = ?3");
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return -1;
    }
    lfn_bind3(st, req, name);
    if (n != NULL) {
        sqlite3_bind_int64(st, 4, *n);
    } else {
        sqlite3_bind_null(st, 4);
    }
    return lfn_exec_done(st, resp);
}

/* The function of a concurrency call: unqualified only. */
static int lfn_concurrency_target(struct emu_request *req, struct emu_response *resp,
                                  struct lfn_ref *ref)
{
    if (lfn_ref_from(req, resp, emu_param(req, "FunctionName"), NULL, ref) != 0) {
        return -1;
    }
    if (ref->qual[0] != 0) {
        emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE,
                 "This operation is permitted on Lambda functions only. Qualified ARNs are not "
                 "supported.");
        return -1;
    }
    return lfn_exists_or_fail(req, resp, ref->name) ? 0 : -1;
}

static void lambda_put_function_concurrency(struct emu_request *req, struct emu_response *resp)
{
    struct lfn_ref ref;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req->json, "ReservedConcurrentExecutions");
    if (v == NULL) {
        lfn_validation(resp, NULL, "reservedConcurrentExecutions", "Member must not be null");
        return;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble < 0) {
        char b[32];
        snprintf(b, sizeof(b), "%d", cJSON_IsNumber(v) ? v->valueint : 0);
        lfn_validation(resp, b, "reservedConcurrentExecutions",
                       "Member must have value greater than or equal to 0");
        return;
    }
    if (v->valuedouble > 900) {
        emu_fail(resp, LAMBDA_INVALID_PARAMETER_VALUE,
                 "Specified ReservedConcurrentExecutions for function decreases account's "
                 "UnreservedConcurrentExecution below its minimum value of [100].");
        return;
    }
    if (lfn_concurrency_target(req, resp, &ref) != 0) {
        return;
    }
    long long n = (long long)v->valuedouble;
    if (lfn_set_reserved(req, resp, ref.name, &n) != 0) {
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "ReservedConcurrentExecutions", (double)n);
    emu_resp_json(resp, 200, o);
}

static void lambda_get_function_concurrency(struct emu_request *req, struct emu_response *resp)
{
    struct lfn_ref ref;
    if (lfn_concurrency_target(req, resp, &ref) != 0) {
        return;
    }
    long long n = 0;
    int r = lfn_reserved(req, ref.name, &n);
    if (r < 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    if (r == 1) {
        cJSON_AddNumberToObject(o, "ReservedConcurrentExecutions", (double)n);
    }
    emu_resp_json(resp, 200, o);
}

static void lambda_delete_function_concurrency(struct emu_request *req, struct emu_response *resp)
{
    struct lfn_ref ref;
    if (lfn_concurrency_target(req, resp, &ref) != 0 ||
        lfn_set_reserved(req, resp, ref.name, NULL) != 0) {
        return;
    }
    emu_resp_body(resp, 204, NULL, "", 0);
}

/* ------------------------------------------------------- code downloads */

/* GET /_greenroom/lambda-code/<hex>.zip?X-Amz-Signature=<token>: the zip
 * GetFunction's Code.Location points at. */
static void lambda_code_download(struct emu_request *req, struct emu_response *resp)
{
    const char *p = req->path + strlen("/_greenroom/lambda-code/");
    char hex[65];
    size_t n = strlen(p);
    if (n != 68 || strcmp(p + 64, ".zip") != 0) {
        emu_fail_raw(resp, 404, "NoSuchKey", "The specified key does not exist.");
        return;
    }
    memcpy(hex, p, 64);
    hex[64] = 0;
    for (size_t i = 0; i < 64; i++) {
        if (!isxdigit((unsigned char)hex[i])) {
            emu_fail_raw(resp, 404, "NoSuchKey", "The specified key does not exist.");
            return;
        }
    }
    struct emu_buf url = {0};
    lfn_code_url(&url, hex);
    const char *want = strstr(url.data, "X-Amz-Signature=") + 16;
    const char *got = emu_query(req, "X-Amz-Signature");
    int ok = got != NULL && strcmp(got, want) == 0;
    emu_buf_release(&url);
    if (!ok) {
        emu_fail_raw(resp, 403, "AccessDenied", "Request has expired or the signature is wrong.");
        return;
    }
    char path[900];
    snprintf(path, sizeof(path), "%s/lambda-%s.zip", emu_objects_dir(), hex);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        emu_fail_raw(resp, 404, "NoSuchKey", "The specified key does not exist.");
        return;
    }
    resp->status = 200;
    resp->body_fd = fd;
    resp->body_off = 0;
    resp->body_len = (uint64_t)st.st_size;
    emu_resp_header(resp, "Content-Type", "application/zip");
}

/* ----------------------------------------------------------------- table */

static const struct emu_op lambda_ops[] = {
    {"CreateFunction", "POST", "/2015-03-31/functions", NULL, lambda_create_function,
     EMU_OP_WRITE | EMU_OP_JSON},
    {"ListFunctions", "GET", "/2015-03-31/functions", NULL, lambda_list_functions, 0},
    {"GetFunction", "GET", "/2015-03-31/functions/{FunctionName}", NULL, lambda_get_function, 0},
    {"DeleteFunction", "DELETE", "/2015-03-31/functions/{FunctionName}", NULL,
     lambda_delete_function, EMU_OP_WRITE},
    {"GetFunctionConfiguration", "GET", "/2015-03-31/functions/{FunctionName}/configuration", NULL,
     lambda_get_function_configuration, 0},
    {"UpdateFunctionConfiguration", "PUT", "/2015-03-31/functions/{FunctionName}/configuration",
     NULL, lambda_update_function_configuration, EMU_OP_WRITE | EMU_OP_JSON},
    {"UpdateFunctionCode", "PUT", "/2015-03-31/functions/{FunctionName}/code", NULL,
     lambda_update_function_code, EMU_OP_WRITE | EMU_OP_JSON},
    {"PublishVersion", "POST", "/2015-03-31/functions/{FunctionName}/versions", NULL,
     lambda_publish_version, EMU_OP_WRITE | EMU_OP_JSON},
    {"ListVersionsByFunction", "GET", "/2015-03-31/functions/{FunctionName}/versions", NULL,
     lambda_list_versions_by_function, 0},
    {"CreateAlias", "POST", "/2015-03-31/functions/{FunctionName}/aliases", NULL,
     lambda_create_alias, EMU_OP_WRITE | EMU_OP_JSON},
    {"ListAliases", "GET", "/2015-03-31/functions/{FunctionName}/aliases", NULL,
     lambda_list_aliases, 0},
    {"GetAlias", "GET", "/2015-03-31/functions/{FunctionName}/aliases/{Name}", NULL,
     lambda_get_alias, 0},
    {"UpdateAlias", "PUT", "/2015-03-31/functions/{FunctionName}/aliases/{Name}", NULL,
     lambda_update_alias, EMU_OP_WRITE | EMU_OP_JSON},
    {"DeleteAlias", "DELETE", "/2015-03-31/functions/{FunctionName}/aliases/{Name}", NULL,
     lambda_delete_alias, EMU_OP_WRITE},
    {"AddPermission", "POST", "/2015-03-31/functions/{FunctionName}/policy", NULL,
     lambda_add_permission, EMU_OP_WRITE | EMU_OP_JSON},
    {"GetPolicy", "GET", "/2015-03-31/functions/{FunctionName}/policy", NULL, lambda_get_policy, 0},
    {"RemovePermission", "DELETE", "/2015-03-31/functions/{FunctionName}/policy/{StatementId}",
     NULL, lambda_remove_permission, EMU_OP_WRITE},
    {"Invoke", "POST", "/2015-03-31/functions/{FunctionName}/invocations", NULL, lambda_invoke,
     EMU_OP_NO_TXN},
    {"InvokeAsync", "POST", "/2014-11-13/functions/{FunctionName}/invoke-async", NULL,
     lambda_invoke_async, EMU_OP_NO_TXN},
    {"PutFunctionEventInvokeConfig", "PUT",
     "/2019-09-25/functions/{FunctionName}/event-invoke-config", NULL,
     lambda_put_function_event_invoke_config, EMU_OP_WRITE | EMU_OP_JSON},
    {"UpdateFunctionEventInvokeConfig", "POST",
     "/2019-09-25/functions/{FunctionName}/event-invoke-config", NULL,
     lambda_update_function_event_invoke_config, EMU_OP_WRITE | EMU_OP_JSON},
    {"GetFunctionEventInvokeConfig", "GET",
     "/2019-09-25/functions/{FunctionName}/event-invoke-config", NULL,
     lambda_get_function_event_invoke_config, 0},
    {"DeleteFunctionEventInvokeConfig", "DELETE",
     "/2019-09-25/functions/{FunctionName}/event-invoke-config", NULL,
     lambda_delete_function_event_invoke_config, EMU_OP_WRITE},
    {"ListFunctionEventInvokeConfigs", "GET",
     "/2019-09-25/functions/{FunctionName}/event-invoke-config/list", NULL,
     lambda_list_function_event_invoke_configs, 0},
    {"CreateEventSourceMapping", "POST", "/2015-03-31/event-source-mappings", NULL,
     lambda_create_event_source_mapping, EMU_OP_WRITE | EMU_OP_JSON},
    {"ListEventSourceMappings", "GET", "/2015-03-31/event-source-mappings", NULL,
     lambda_list_event_source_mappings, 0},
    {"GetEventSourceMapping", "GET", "/2015-03-31/event-source-mappings/{UUID}", NULL,
     lambda_get_event_source_mapping, 0},
    {"UpdateEventSourceMapping", "PUT", "/2015-03-31/event-source-mappings/{UUID}", NULL,
     lambda_update_event_source_mapping, EMU_OP_WRITE | EMU_OP_JSON},
    {"DeleteEventSourceMapping", "DELETE", "/2015-03-31/event-source-mappings/{UUID}", NULL,
     lambda_delete_event_source_mapping, EMU_OP_WRITE},
    {"TagResource", "POST", "/2017-03-31/tags/{Resource}", NULL, lambda_tag_resource,
     EMU_OP_WRITE | EMU_OP_JSON},
    {"UntagResource", "DELETE", "/2017-03-31/tags/{Resource}", NULL, lambda_untag_resource,
     EMU_OP_WRITE},
    {"ListTags", "GET", "/2017-03-31/tags/{Resource}", NULL, lambda_list_tags, 0},
    {"PutFunctionConcurrency", "PUT", "/2017-10-31/functions/{FunctionName}/concurrency", NULL,
     lambda_put_function_concurrency, EMU_OP_WRITE | EMU_OP_JSON},
    {"GetFunctionConcurrency", "GET", "/2019-09-30/functions/{FunctionName}/concurrency", NULL,
     lambda_get_function_concurrency, 0},
    {"DeleteFunctionConcurrency", "DELETE", "/2017-10-31/functions/{FunctionName}/concurrency",
     NULL, lambda_delete_function_concurrency, EMU_OP_WRITE},
    {"GetAccountSettings", "GET", "/2016-08-19/account-settings", NULL, lambda_get_account_settings,
     0},
};

/* Claimed, unsigned: the Runtime API and code downloads. */
static const struct emu_op lambda_runtime_op = {"RuntimeApi",
                                                NULL,
                                                NULL,
                                                NULL,
                                                lambda_runtime_api,
                                                EMU_OP_NO_TXN | EMU_OP_NO_AUTH | EMU_OP_NO_FAULT};
static const struct emu_op lambda_code_op = {"GetFunctionCode",
                                             NULL,
                                             NULL,
                                             NULL,
                                             lambda_code_download,
                                             EMU_OP_NO_TXN | EMU_OP_NO_AUTH | EMU_OP_NO_FAULT};

static const struct emu_op *lambda_claim(struct emu_request *req)
{
    if (strncmp(req->path, "/_greenroom/runtime/", 20) == 0) {
        return &lambda_runtime_op;
    }
    if (strncmp(req->path, "/_greenroom/lambda-code/", 24) == 0 &&
        strcmp(req->method, "GET") == 0) {
        return &lambda_code_op;
    }
    return NULL;
}

/* Journal/fault resource: "function" or "function:qualifier". */
static void lambda_resource(struct emu_request *req, struct emu_buf *out)
{
    const char *fname = emu_param(req, "FunctionName");
    if (fname == NULL) {
        const char *uuid = emu_param(req, "UUID");
        if (uuid != NULL) {
            emu_buf_puts(out, uuid);
        }
        return;
    }
    struct lfn_ref ref;
    if (lfn_parse_name(fname, &ref) != 0) {
        emu_buf_puts(out, fname);
        return;
    }
    const char *q = emu_query(req, "Qualifier");
    if (q == NULL || q[0] == 0) {
        q = ref.qual;
    }
    if (q[0] != 0) {
        emu_buf_printf(out, "%s:%s", ref.name, q);
    } else {
        emu_buf_puts(out, ref.name);
    }
}

/* The key signing Code.Location URLs lives in the state dir
 * (lambda-url.key, made once), so URLs handed out survive a restart. A
 * missing or unreadable file gets a fresh random key. */
static void lfn_url_secret_load(void)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/lambda-url.key", emu_state_dir());
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, lfn_url_secret, sizeof(lfn_url_secret));
        close(fd);
        if (n == (ssize_t)sizeof(lfn_url_secret)) {
            return;
        }
    }
    emu_random_hex((char *)lfn_url_secret, sizeof(lfn_url_secret) - 1);
    char tmp[1100];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        emu_warn("lambda: cannot keep the code URL key in %s", path);
        return;
    }
    ssize_t w = write(fd, lfn_url_secret, sizeof(lfn_url_secret));
    /* an ephemeral state dir dies with the process: nothing to make durable */
    int ok = w == (ssize_t)sizeof(lfn_url_secret) && (emu_cfg.ephemeral || fsync(fd) == 0);
    close(fd);
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        emu_warn("lambda: cannot keep the code URL key in %s", path);
    }
}

static int lambda_start(void)
{
    lfn_url_secret_load();
    if (lambda_exec_start() != 0) {
        return -1;
    }
    return lfn_async_start();
}

static void lambda_stop(void)
{
    /* the function processes go first: attempts in hand end at once */
    lambda_exec_stop();
    lfn_async_stop();
}

static void lambda_reload(void)
{
    lambda_exec_drop(NULL, NULL, NULL, NULL);
    lfn_async_reload();
}

const struct emu_service svc_lambda = {
    .name = "lambda",
    .display = "lambda",
    .protocol = EMU_PROTO_REST_JSON,
    .ops = lambda_ops,
    .nops = sizeof(lambda_ops) / sizeof(lambda_ops[0]),
    .schema = lambda_schema,
    .nschema = sizeof(lambda_schema) / sizeof(lambda_schema[0]),
    .resource = lambda_resource,
    .claim = lambda_claim,
    .start = lambda_start,
    .stop = lambda_stop,
    .reload = lambda_reload,
};
