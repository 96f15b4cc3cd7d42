/*
 * svc_sts.c - AWS STS (query protocol, API 2011-06-15): GetCallerIdentity,
 * GetSessionToken, AssumeRole.
 *
 * GetSessionToken and AssumeRole issue temporary credentials as AWS does: a
 * fresh ASIA... access key id, a secret, a session token and an expiry, kept
 * in the table sts_sessions (so they survive a restart and follow snapshots
 * and resets). accounts.c resolves such a key to its secret and account and
 * checks the x-amz-security-token of every request signed with it.
 * GetCallerIdentity answers the identity behind the signing key: the
 * assumed-role ARN for a role session, the account root otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "sigv4.h"

static const char *const sts_schema[] = {
    "CREATE TABLE sts_sessions (account TEXT NOT NULL, region TEXT NOT NULL,"
    " access_key TEXT NOT NULL PRIMARY KEY, secret TEXT NOT NULL, token TEXT NOT NULL,"
    " expires REAL NOT NULL, arn TEXT NOT NULL, user_id TEXT NOT NULL, kind TEXT NOT NULL,"
    " created REAL NOT NULL);",
};

/* A session's identity: account, ARN and user id of the caller. */
struct sts_identity {
    char account[16];
    char arn[1200];
    char user_id[160];
};

/* Fills id for a temporary access key. Returns 1 when key is a stored
 * session, 0 otherwise. The store is locked (handler). */
static int sts_session_identity(const char *key, struct sts_identity *id)
{
    int found = 0;
    sqlite3_stmt *st =
        emu_stmt("SELECT account, arn, user_id FROM sts_sessions WHERE access_key = ?1");
    if (st == NULL) {
        return 0;
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(id->account, sizeof(id->account), "%s",
                 (const char *)sqlite3_column_text(st, 0));
        snprintf(id->arn, sizeof(id->arn), "%s", (const char *)sqlite3_column_text(st, 1));
        snprintf(id->user_id, sizeof(id->user_id), "%s",
                 (const char *)sqlite3_column_text(st, 2));
        found = 1;
    }
    emu_stmt_done(st);
    return found;
}

static void sts_get_caller_identity(struct emu_request *req, struct emu_response *resp)
{
    struct emu_buf b = {0};
    struct sts_identity id;
    memset(&id, 0, sizeof(id));
    if (req->access_key[0] == 0 || !sts_session_identity(req->access_key, &id)) {
        snprintf(id.account, sizeof(id.account), "%s", req->account);
        snprintf(id.arn, sizeof(id.arn), "arn:aws:iam::%s:root", req->account);
        snprintf(id.user_id, sizeof(id.user_id), "%s",
                 req->access_key[0] ? req->access_key : req->account);
    }
    emu_buf_xml_elem(&b, "Arn", id.arn);
    emu_buf_xml_elem(&b, "UserId", id.user_id);
    emu_buf_xml_elem(&b, "Account", id.account);
    emu_resp_query(req, resp, b.data);
    emu_buf_release(&b);
}

/* DurationSeconds of the request in [lo, hi], or dflt when absent. Returns
 * -1 (resp failed) when out of range. */
static long sts_duration(struct emu_request *req, struct emu_response *resp, long dflt, long lo,
                         long hi)
{
    const char *v = emu_form(req, "DurationSeconds");
    if (v == NULL) {
        return dflt;
    }
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (end == v || *end != 0 || n < lo) {
        emu_fail(resp, AWS_VALIDATION_ERROR,
                 "1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy "
                 "constraint: Member must have value greater than or equal to %ld",
                 v, lo);
        return -1;
    }
    if (n > hi) {
        emu_fail(resp, AWS_VALIDATION_ERROR,
                 "1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy "
                 "constraint: Member must have value less than or equal to %ld",
                 v, hi);
        return -1;
    }
    return n;
}

/* Creates a session row and writes <Credentials>. Returns 0, or -1 (resp
 * failed) on a store error. */
static int sts_issue(struct emu_request *req, struct emu_response *resp, struct emu_buf *b,
                     const struct sts_identity *id, const char *kind, long seconds)
{
    char key[24] = "ASIA";
    char secret[48];
    char token[400];
    char exp[32];
    double now = emu_now();
    emu_random_alnum(key + 4, 16, 0);
    emu_random_alnum(secret, 20, 0);
    emu_random_alnum(secret + 20, 20, 1);
    memcpy(token, "IQoJb3JpZ2luX2VjE", 17);
    emu_random_alnum(token + 17, 300, 1);
    for (size_t i = 17; i < 317; i += 3) {
        if (token[i] >= 'a' && token[i] <= 'z') {
            token[i] = (char)(token[i] - 'a' + 'A');
        }
    }
    /* forget sessions that ended more than a day ago */
    sqlite3_stmt *st = emu_stmt("DELETE FROM sts_sessions WHERE expires < ?1");
    if (st != NULL) {
        sqlite3_bind_double(st, 1, now - 86400);
        sqlite3_step(st);
        emu_stmt_done(st);
    }
    st = emu_stmt("INSERT INTO sts_sessions (account, region, access_key, secret, token, expires,"
                  " arn, user_id, kind, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return -1;
    }
    sqlite3_bind_text(st, 1, id->account, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, req->region, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, secret, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, token, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 6, now + (double)seconds);
    sqlite3_bind_text(st, 7, id->arn, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 8, id->user_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 9, kind, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 10, now);
    int rc = sqlite3_step(st);
    emu_stmt_done(st);
    if (rc != SQLITE_DONE) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return -1;
    }
    emu_time_iso(exp, now + (double)seconds);
    emu_buf_puts(b, "<Credentials>");
    emu_buf_xml_elem(b, "AccessKeyId", key);
    emu_buf_xml_elem(b, "SecretAccessKey", secret);
    emu_buf_xml_elem(b, "SessionToken", token);
    emu_buf_xml_elem(b, "Expiration", exp);
    emu_buf_puts(b, "</Credentials>");
    return 0;
}

static void sts_get_session_token(struct emu_request *req, struct emu_response *resp)
{
    struct sts_identity id;
    memset(&id, 0, sizeof(id));
    if (req->access_key[0] && sts_session_identity(req->access_key, &id)) {
        emu_fail(resp, AWS_ACCESS_DENIED, "Cannot call GetSessionToken with session credentials");
        return;
    }
    long seconds = sts_duration(req, resp, 43200, 900, 129600);
    if (seconds < 0) {
        return;
    }
    snprintf(id.account, sizeof(id.account), "%s", req->account);
    snprintf(id.arn, sizeof(id.arn), "arn:aws:iam::%s:root", req->account);
    snprintf(id.user_id, sizeof(id.user_id), "%s", req->account);
    struct emu_buf b = {0};
    if (sts_issue(req, resp, &b, &id, "session", seconds) == 0) {
        emu_resp_query(req, resp, b.data);
    }
    emu_buf_release(&b);
}

/* First text of <tag>...</tag> in xml into out (no entity decoding: role
 * ids and numbers have none). Returns 0 or -1. */
static int sts_xml_text(const char *xml, const char *tag, char *out, size_t olen)
{
    char open[64], close[64];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    const char *s = xml ? strstr(xml, open) : NULL;
    if (s == NULL) {
        return -1;
    }
    s += strlen(open);
    const char *e = strstr(s, close);
    if (e == NULL || (size_t)(e - s) >= olen) {
        return -1;
    }
    memcpy(out, s, (size_t)(e - s));
    out[e - s] = 0;
    return 0;
}

/* Asks IAM (in the role's account) for the role: fills role_id and
 * max_session. Returns 0 when IAM has the role, -1 otherwise. Called with
 * the store unlocked (the call runs in its own transaction). */
static int sts_iam_role(struct emu_request *req, const char *account, const char *name,
                        char *role_id, size_t idlen, long *max_session)
{
    struct emu_buf body = {0};
    emu_buf_puts(&body, "Action=GetRole&Version=2010-05-08&RoleName=");
    emu_buf_url_encode(&body, name, strlen(name), 0);
    struct emu_kv hdr[1];
    hdr[0].key = (char *)"content-type";
    hdr[0].value = (char *)"application/x-www-form-urlencoded; charset=utf-8";
    struct emu_call call;
    memset(&call, 0, sizeof(call));
    call.account = account;
    call.region = req->region;
    call.service = "iam";
    call.method = "POST";
    call.path = "/";
    call.headers = hdr;
    call.nheaders = 1;
    call.body = body.data ? body.data : "";
    call.body_len = body.len;
    struct emu_response r;
    emu_response_init(&r);
    int status = emu_service_find("iam") ? emu_call_internal(&call, &r) : 404;
    int rc = -1;
    char ms[32];
    if (status == 200 && !r.failed &&
        sts_xml_text(r.body.data, "RoleId", role_id, idlen) == 0) {
        rc = 0;
        if (sts_xml_text(r.body.data, "MaxSessionDuration", ms, sizeof(ms)) == 0) {
            char *end = NULL;
            long v = strtol(ms, &end, 10);
            if (end != ms && *end == 0 && v > 0) {
                *max_session = v;
            }
        }
    }
    emu_response_release(&r);
    emu_buf_release(&body);
    return rc;
}

/* A stable role id for a role IAM does not have: "AROA" + 17 characters
 * derived from the ARN. */
static void sts_synthetic_role_id(const char *arn, char *out, size_t olen)
{
    static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    char hex[65];
    sigv4_sha256_hex(arn, strlen(arn), hex);
    char id[22] = "AROA";
    for (int i = 0; i < 17; i++) {
        char h[3] = {hex[2 * i], hex[2 * i + 1], 0};
        id[4 + i] = set[strtol(h, NULL, 16) % 32];
    }
    id[21] = 0;
    snprintf(out, olen, "%s", id);
}

/* Whether the caller signed with an assumed-role session (role chaining).
 * Locks the store itself (AssumeRole runs without a transaction). */
static int sts_caller_is_role(const struct emu_request *req)
{
    int role = 0;
    if (req->access_key[0] == 0 || emu_store_begin(0) != 0) {
        return 0;
    }
    sqlite3_stmt *st = emu_stmt("SELECT kind FROM sts_sessions WHERE access_key = ?1");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, req->access_key, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
            const char *k = (const char *)sqlite3_column_text(st, 0);
            role = k && strcmp(k, "role") == 0;
        }
        emu_stmt_done(st);
    }
    emu_store_end(1);
    return role;
}

static int sts_session_name_ok(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("_+=,.@-", c) != NULL)) {
            return 0;
        }
    }
    return 1;
}

static void sts_assume_role(struct emu_request *req, struct emu_response *resp)
{
    const char *role = emu_form(req, "RoleArn");
    const char *session = emu_form(req, "RoleSessionName");
    if (role == NULL || session == NULL) {
        emu_fail(resp, AWS_VALIDATION_ERROR,
                 "1 validation error detected: Value null at '%s' failed to satisfy constraint: "
                 "Member must not be null",
                 role == NULL ? "roleArn" : "roleSessionName");
        return;
    }
    size_t slen = strlen(session);
    if (slen < 2 || slen > 64) {
        emu_fail(resp, AWS_VALIDATION_ERROR,
                 "1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy "
                 "constraint: Member must have length %s than or equal to %d",
                 session, slen < 2 ? "greater" : "less", slen < 2 ? 2 : 64);
        return;
    }
    if (!sts_session_name_ok(session)) {
        emu_fail(resp, AWS_VALIDATION_ERROR,
                 "1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
                 session);
        return;
    }
    size_t rlen = strlen(role);
    if (rlen < 20 || rlen > 2048) {
        emu_fail(resp, AWS_VALIDATION_ERROR,
                 "1 validation error detected: Value '%s' at 'roleArn' failed to satisfy "
                 "constraint: Member must have length %s than or equal to %d",
                 role, rlen < 20 ? "greater" : "less", rlen < 20 ? 20 : 2048);
        return;
    }
    /* arn:PARTITION:iam::ACCOUNT:role/[path/]NAME */
    struct sts_identity id;
    memset(&id, 0, sizeof(id));
    snprintf(id.account, sizeof(id.account), "%s", req->account);
    const char *p = role;
    for (int field = 0; field < 4 && p; field++) {
        p = strchr(p, ':');
        p = p ? p + 1 : NULL;
    }
    if (p && strspn(p, "0123456789") == 12 && p[12] == ':') {
        memcpy(id.account, p, 12);
        id.account[12] = 0;
    }
    const char *slash = strrchr(role, '/');
    const char *name = slash ? slash + 1 : role;
    char role_id[64];
    long max_session = 43200;
    if (sts_iam_role(req, id.account, name, role_id, sizeof(role_id), &max_session) != 0) {
        sts_synthetic_role_id(role, role_id, sizeof(role_id));
        max_session = 43200;
    }
    long seconds = sts_duration(req, resp, 3600, 900, 43200);
    if (seconds < 0) {
        return;
    }
    if (seconds > 3600 && sts_caller_is_role(req)) {
        emu_fail(resp, AWS_VALIDATION_ERROR,
                 "The requested DurationSeconds exceeds the 1 hour session limit for roles "
                 "assumed by role chaining.");
        return;
    }
    if (seconds > max_session) {
        emu_fail(resp, AWS_VALIDATION_ERROR,
                 "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
        return;
    }
    snprintf(id.arn, sizeof(id.arn), "arn:aws:sts::%s:assumed-role/%s/%s", id.account, name,
             session);
    snprintf(id.user_id, sizeof(id.user_id), "%s:%s", role_id, session);
    struct emu_buf b = {0};
    if (emu_store_begin(1) != 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    int rc = sts_issue(req, resp, &b, &id, "role", seconds);
    if (emu_store_end(rc == 0) != 0 && rc == 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        rc = -1;
    }
    if (rc == 0) {
        emu_buf_puts(&b, "<AssumedRoleUser>");
        emu_buf_xml_elem(&b, "AssumedRoleId", id.user_id);
        emu_buf_xml_elem(&b, "Arn", id.arn);
        emu_buf_puts(&b, "</AssumedRoleUser>");
        emu_resp_query(req, resp, b.data);
    }
    emu_buf_release(&b);
}

static const struct emu_op sts_ops[] = {
    {"GetCallerIdentity", NULL, NULL, NULL, sts_get_caller_identity, 0},
    {"GetSessionToken", NULL, NULL, NULL, sts_get_session_token, EMU_OP_WRITE},
    /* no transaction: IAM is asked first through its API (a GetRole that
     * fails must not doom our write), then the session is stored */
    {"AssumeRole", NULL, NULL, NULL, sts_assume_role, EMU_OP_NO_TXN},
};

const struct emu_service svc_sts = {
    .name = "sts",
    .display = "sts",
    .protocol = EMU_PROTO_QUERY,
    .xmlns = "https://sts.amazonaws.com/doc/2011-06-15/",
    .ops = sts_ops,
    .nops = sizeof(sts_ops) / sizeof(sts_ops[0]),
    .schema = sts_schema,
    .nschema = sizeof(sts_schema) / sizeof(sts_schema[0]),
};
