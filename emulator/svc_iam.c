/*
 * svc_iam.c - the slice of IAM (query protocol, API 2010-05-08) that the
 * Serverless v0.5 flow and Lambda need: CreateRole, GetRole, DeleteRole,
 * ListRoles, PutRolePolicy, GetRolePolicy, DeleteRolePolicy, ListRolePolicies,
 * AttachRolePolicy, DetachRolePolicy, ListAttachedRolePolicies, CreatePolicy,
 * GetPolicy, DeletePolicy, UpdateAssumeRolePolicy, UpdateRole,
 * CreatePolicyVersion, GetPolicyVersion, ListPolicyVersions,
 * DeletePolicyVersion, CreateUser, GetUser, DeleteUser, PutUserPolicy,
 * GetUserPolicy, DeleteUserPolicy, ListUserPolicies, CreateGroup, GetGroup,
 * DeleteGroup, PutGroupPolicy, GetGroupPolicy, DeleteGroupPolicy,
 * ListGroupPolicies (enough for CloudFormation updates of roles and
 * policies). Users and groups share one table (kind "user"/"group"); one
 * handler per inline-policy action serves roles, users and groups alike,
 * told what differs by a struct iam_kind.
 *
 * IAM is global: every row is stored with region "global" whatever region the
 * request was signed for. Policy documents are returned URL-encoded, as AWS
 * does (botocore decodes them). Lambda asks iam_role_exists() whether a
 * function's role exists in the account (lambda_internal.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "lambda_internal.h"

#define IAM_REGION "global"

static const char *const iam_schema[] = {
    "CREATE TABLE iam_roles (account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,"
    " role_id TEXT NOT NULL, path TEXT NOT NULL, arn TEXT NOT NULL, assume_doc TEXT NOT NULL,"
    " description TEXT, max_session INTEGER NOT NULL, created TEXT NOT NULL,"
    " PRIMARY KEY (account, region, name));"
    "CREATE TABLE iam_role_policies (account TEXT NOT NULL, region TEXT NOT NULL,"
    " role TEXT NOT NULL, name TEXT NOT NULL, document TEXT NOT NULL,"
    " PRIMARY KEY (account, region, role, name));"
    "CREATE TABLE iam_role_attached (account TEXT NOT NULL, region TEXT NOT NULL,"
    " role TEXT NOT NULL, policy_arn TEXT NOT NULL, PRIMARY KEY (account, region, role, "
    "policy_arn));"
    "CREATE TABLE iam_policies (account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,"
    " policy_id TEXT NOT NULL, path TEXT NOT NULL, arn TEXT NOT NULL, document TEXT NOT NULL,"
    " description TEXT, created TEXT NOT NULL, PRIMARY KEY (account, region, arn));",
    /* 2: managed policy versions (iam_policies.document mirrors the default
     * version), users and groups with their inline policies */
    "ALTER TABLE iam_policies ADD COLUMN default_version TEXT NOT NULL DEFAULT 'v1';"
    "ALTER TABLE iam_policies ADD COLUMN next_version INTEGER NOT NULL DEFAULT 2;"
    "CREATE TABLE iam_policy_versions (account TEXT NOT NULL, region TEXT NOT NULL,"
    " arn TEXT NOT NULL, version_id TEXT NOT NULL, document TEXT NOT NULL,"
    " created TEXT NOT NULL, PRIMARY KEY (account, region, arn, version_id));"
    "INSERT INTO iam_policy_versions SELECT account, region, arn, 'v1', document, created"
    " FROM iam_policies;"
    "CREATE TABLE iam_entities (account TEXT NOT NULL, region TEXT NOT NULL, kind TEXT NOT NULL,"
    " name TEXT NOT NULL, entity_id TEXT NOT NULL, path TEXT NOT NULL, arn TEXT NOT NULL,"
    " created TEXT NOT NULL, PRIMARY KEY (account, region, kind, name));"
    "CREATE TABLE iam_entity_policies (account TEXT NOT NULL, region TEXT NOT NULL,"
    " kind TEXT NOT NULL, entity TEXT NOT NULL, name TEXT NOT NULL, document TEXT NOT NULL,"
    " PRIMARY KEY (account, region, kind, entity, name));",
};

/* ------------------------------------------------------------- helpers */

/* Returns 1 when s matches IAM's name pattern [\w+=,.@-]+ within max chars. */
static int iam_valid_name(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 strchr("_+=,.@-", c) != NULL;
        if (!ok) {
            return 0;
        }
    }
    return 1;
}

/* Fails with ValidationError for a missing or malformed name; returns the
 * name (borrowed) or NULL when the response already holds the error. */
static const char *iam_name_or_fail(struct emu_request *req, struct emu_response *resp,
                                    const char *param, const char *member, size_t max)
{
    const char *v = emu_form(req, param);
    if (v == NULL) {
        emu_fail(resp, AWS_VALIDATION_ERROR,
                 "1 validation error detected: Value null at '%s' failed to satisfy constraint: "
                 "Member must not be null",
                 member);
        return NULL;
    }
    if (!iam_valid_name(v, max)) {
        emu_fail(resp, AWS_VALIDATION_ERROR,
                 "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: "
                 "Member must satisfy regular expression pattern: [\\w+=,.@-]+",
                 v, member);
        return NULL;
    }
    return v;
}

/* The policy document in the form parameter param (member in messages),
 * which must be present (else ValidationError) and parse as a JSON object
 * (else MalformedPolicyDocument). Returns it (borrowed), or NULL when resp
 * holds the error. */
static const char *iam_doc_or_fail(struct emu_request *req, struct emu_response *resp,
                                   const char *param, const char *member)
{
    const char *doc = emu_form(req, param);
    if (doc == NULL) {
        emu_fail(resp, AWS_VALIDATION_ERROR,
                 "1 validation error detected: Value null at '%s' failed to satisfy constraint: "
                 "Member must not be null",
                 member);
        return NULL;
    }
    cJSON *j = cJSON_Parse(doc);
    int ok = j != NULL && cJSON_IsObject(j);
    cJSON_Delete(j);
    if (!ok) {
        emu_fail(resp, IAM_MALFORMED_POLICY_DOCUMENT, "This policy contains invalid Json");
        return NULL;
    }
    return doc;
}

/* A path parameter: default "/", must start and end with '/'. */
static const char *iam_path_or_fail(struct emu_request *req, struct emu_response *resp)
{
    const char *p = emu_form(req, "Path");
    if (p == NULL || p[0] == 0) {
        return "/";
    }
    size_t n = strlen(p);
    if (p[0] != '/' || p[n - 1] != '/' || n > 512) {
        emu_fail(resp, AWS_VALIDATION_ERROR,
                 "The specified value for path is invalid. It must begin and end with / and "
                 "contain only alphanumeric characters and/or / characters.");
        return NULL;
    }
    return p;
}

static void iam_bind(sqlite3_stmt *st, int i, const char *s)
{
    if (s == NULL) {
        sqlite3_bind_null(st, i);
    } else {
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    }
}

/* A cached statement (static SQL: the cache is keyed by the pointer) with
 * ?1 account, ?2 IAM_REGION and ?3 key bound; NULL on a store error. The
 * caller returns it with emu_stmt_done. */
static sqlite3_stmt *iam_stmt(const char *sql, const char *account, const char *key)
{
    sqlite3_stmt *st = emu_stmt(sql);
    if (st != NULL) {
        iam_bind(st, 1, account);
        iam_bind(st, 2, IAM_REGION);
        iam_bind(st, 3, key);
    }
    return st;
}

/* Binds the texts a and b (when not NULL; unbound parameters are NULL) as
 * parameters first and first + 1 of the write statement st, runs it and
 * returns it. Returns 1; when st is NULL or the step fails, fails resp with
 * InternalFailure and returns 0. */
static int iam_step_or_fail(struct emu_response *resp, sqlite3_stmt *st, int first, const char *a,
                            const char *b)
{
    int rc = SQLITE_ERROR;
    if (st != NULL) {
        if (a != NULL) {
            iam_bind(st, first, a);
        }
        if (b != NULL) {
            iam_bind(st, first + 1, b);
        }
        rc = sqlite3_step(st);
        emu_stmt_done(st);
    }
    if (rc != SQLITE_DONE) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return 0;
    }
    return 1;
}

/* Runs the write statement sql keyed by account and key with a4 and a5 as
 * ?4 and ?5 (iam_step_or_fail). */
static int iam_exec_or_fail(struct emu_response *resp, const char *sql, const char *account,
                            const char *key, const char *a4, const char *a5)
{
    return iam_step_or_fail(resp, iam_stmt(sql, account, key), 4, a4, a5);
}
/* The first column of the one-row query sql keyed by account and key as
 * an int (a count); -1 on error. */
static int iam_count(const char *sql, const char *account, const char *key)
{
    sqlite3_stmt *st = iam_stmt(sql, account, key);
    if (st == NULL) {
        return -1;
    }
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    emu_stmt_done(st);
    return n;
}

/* Returns 1 when the one-row query sql keyed by account and key finds a
 * row, 0 when not, -1 on a store error. */
static int iam_exists(const char *sql, const char *account, const char *key)
{
    sqlite3_stmt *st = iam_stmt(sql, account, key);
    if (st == NULL) {
        return -1;
    }
    int rc = sqlite3_step(st);
    emu_stmt_done(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Appends <Role>...</Role> children for the current row of a SELECT of
 * name, role_id, path, arn, assume_doc, description, max_session, created. */
static void iam_role_xml(struct emu_buf *b, sqlite3_stmt *st)
{
    emu_buf_xml_elem(b, "Path", (const char *)sqlite3_column_text(st, 2));
    emu_buf_xml_elem(b, "RoleName", (const char *)sqlite3_column_text(st, 0));
    emu_buf_xml_elem(b, "RoleId", (const char *)sqlite3_column_text(st, 1));
    emu_buf_xml_elem(b, "Arn", (const char *)sqlite3_column_text(st, 3));
    emu_buf_xml_elem(b, "CreateDate", (const char *)sqlite3_column_text(st, 7));
    const char *doc = (const char *)sqlite3_column_text(st, 4);
    struct emu_buf enc = {0};
    emu_buf_url_encode(&enc, doc ? doc : "", doc ? strlen(doc) : 0, 0);
    emu_buf_xml_elem(b, "AssumeRolePolicyDocument", enc.data ? enc.data : "");
    emu_buf_release(&enc);
    const char *desc = (const char *)sqlite3_column_text(st, 5);
    if (desc != NULL) {
        emu_buf_xml_elem(b, "Description", desc);
    }
    emu_buf_printf(b, "<MaxSessionDuration>%d</MaxSessionDuration>", sqlite3_column_int(st, 6));
}

#define IAM_ROLE_COLS "name, role_id, path, arn, assume_doc, description, max_session, created"

/* --------------------------------------------- roles, users and groups */

/* What differs between the principals that hold inline policies. Roles
 * live in their own tables (iam_roles, iam_role_policies, keyed by role);
 * users and groups share iam_entities and iam_entity_policies (keyed by
 * entity and told apart by kind). The SQL is per principal because the
 * statement cache is keyed by the SQL pointer. In all of it ?1 is the
 * account, ?2 the region, ?3 the principal's name and ?4 the kind (bound
 * only when kind is set: the role tables have no kind column); policy
 * statements take the policy name as ?5 (and the document as ?6), list
 * statements LIMIT ?5 OFFSET ?6. */
struct iam_kind {
    const char *param;     /* "UserName" */
    const char *member;    /* "userName" (validation messages) */
    size_t max;            /* longest name */
    const char *label;     /* "user" (messages, ARNs) */
    const char *elem;      /* "User" (XML) */
    const char *id_prefix; /* "AIDA" */
    const char *kind;      /* "user", bound as ?4; NULL for roles */
    const char *exists_sql;
    const char *put_policy_sql;    /* INSERT OR REPLACE ... ?5 name, ?6 document */
    const char *get_policy_sql;    /* SELECT document ... ?5 name */
    const char *delete_policy_sql; /* DELETE ... ?5 name */
    const char *list_policies_sql; /* SELECT name ... LIMIT ?5 OFFSET ?6 */
};

static const char IAM_ROLE_EXISTS_SQL[] =
    "SELECT 1 FROM iam_roles WHERE account = ?1 AND region = ?2 AND name = ?3";

static const struct iam_kind iam_role_kind = {
    .param = "RoleName",
    .member = "roleName",
    .max = 64,
    .label = "role",
    .elem = "Role",
    .id_prefix = "AROA",
    .kind = NULL,
    .exists_sql = IAM_ROLE_EXISTS_SQL,
    .put_policy_sql = "INSERT OR REPLACE INTO iam_role_policies (account, region, role, name, "
                      "document) VALUES (?1, ?2, ?3, ?5, ?6)",
    .get_policy_sql = "SELECT document FROM iam_role_policies WHERE account = ?1 AND region = ?2 "
                      "AND role = ?3 AND name = ?5",
    .delete_policy_sql = "DELETE FROM iam_role_policies WHERE account = ?1 AND region = ?2 AND "
                         "role = ?3 AND name = ?5",
    .list_policies_sql = "SELECT name FROM iam_role_policies WHERE account = ?1 AND region = ?2 "
                         "AND role = ?3 ORDER BY name LIMIT ?5 OFFSET ?6",
};

static const char IAM_ENTITY_EXISTS_SQL[] =
    "SELECT 1 FROM iam_entities WHERE account = ?1 AND region = ?2 AND name = ?3 AND kind = ?4";
static const char IAM_ENTITY_PUT_POLICY_SQL[] =
    "INSERT OR REPLACE INTO iam_entity_policies (account, region, entity, kind, name, document) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char IAM_ENTITY_GET_POLICY_SQL[] =
    "SELECT document FROM iam_entity_policies WHERE account = ?1 AND region = ?2 AND entity = ?3 "
    "AND kind = ?4 AND name = ?5";
static const char IAM_ENTITY_DELETE_POLICY_SQL[] =
    "DELETE FROM iam_entity_policies WHERE account = ?1 AND region = ?2 AND entity = ?3 AND "
    "kind = ?4 AND name = ?5";
static const char IAM_ENTITY_LIST_POLICIES_SQL[] =
    "SELECT name FROM iam_entity_policies WHERE account = ?1 AND region = ?2 AND entity = ?3 AND "
    "kind = ?4 ORDER BY name LIMIT ?5 OFFSET ?6";

static const struct iam_kind iam_user_kind = {
    .param = "UserName",
    .member = "userName",
    .max = 128,
    .label = "user",
    .elem = "User",
    .id_prefix = "AIDA",
    .kind = "user",
    .exists_sql = IAM_ENTITY_EXISTS_SQL,
    .put_policy_sql = IAM_ENTITY_PUT_POLICY_SQL,
    .get_policy_sql = IAM_ENTITY_GET_POLICY_SQL,
    .delete_policy_sql = IAM_ENTITY_DELETE_POLICY_SQL,
    .list_policies_sql = IAM_ENTITY_LIST_POLICIES_SQL,
};
static const struct iam_kind iam_group_kind = {
    .param = "GroupName",
    .member = "groupName",
    .max = 128,
    .label = "group",
    .elem = "Group",
    .id_prefix = "AGPA",
    .kind = "group",
    .exists_sql = IAM_ENTITY_EXISTS_SQL,
    .put_policy_sql = IAM_ENTITY_PUT_POLICY_SQL,
    .get_policy_sql = IAM_ENTITY_GET_POLICY_SQL,
    .delete_policy_sql = IAM_ENTITY_DELETE_POLICY_SQL,
    .list_policies_sql = IAM_ENTITY_LIST_POLICIES_SQL,
};

/* The statement sql of kind k with ?1..?3 (and ?4, the kind, when k has
 * one) bound; NULL on a store error. Return it with emu_stmt_done. */
static sqlite3_stmt *iam_kind_stmt(const struct iam_kind *k, const char *sql,
                                   const struct emu_request *req, const char *name)
{
    sqlite3_stmt *st = iam_stmt(sql, req->account, name);
    if (st != NULL && k->kind != NULL) {
        iam_bind(st, 4, k->kind);
    }
    return st;
}

/* Runs the write statement sql of kind k for the principal name with a5
 * and a6 as ?5 and ?6 (iam_step_or_fail). */
static int iam_kind_exec_or_fail(struct emu_response *resp, const struct iam_kind *k,
                                 const char *sql, const struct emu_request *req, const char *name,
                                 const char *a5, const char *a6)
{
    return iam_step_or_fail(resp, iam_kind_stmt(k, sql, req, name), 5, a5, a6);
}

/* Returns 1 when the principal `name` of kind k exists, 0 when not, -1 on a
 * store error. */
static int iam_kind_present(const struct iam_kind *k, const struct emu_request *req,
                            const char *name)
{
    sqlite3_stmt *st = iam_kind_stmt(k, k->exists_sql, req, name);
    if (st == NULL) {
        return -1;
    }
    int rc = sqlite3_step(st);
    emu_stmt_done(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* 1 when the principal exists (else fails resp with NoSuchEntity or
 * InternalFailure and returns 0). */
static int iam_entity_or_fail(struct emu_request *req, struct emu_response *resp,
                              const struct iam_kind *k, const char *name)
{
    int r = iam_kind_present(k, req, name);
    if (r == 0) {
        emu_fail(resp, IAM_NO_SUCH_ENTITY, "The %s with name %s cannot be found.", k->label, name);
    } else if (r < 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
    }
    return r == 1;
}

/* 1 when no principal of kind k is called name yet (else fails resp with
 * EntityAlreadyExists or InternalFailure and returns 0). */
static int iam_absent_or_fail(struct emu_request *req, struct emu_response *resp,
                              const struct iam_kind *k, const char *name)
{
    int r = iam_kind_present(k, req, name);
    if (r > 0) {
        emu_fail(resp, IAM_ENTITY_ALREADY_EXISTS, "%s with name %s already exists.", k->elem, name);
    } else if (r < 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
    }
    return r == 0;
}

int iam_role_exists(const char *account, const char *role_arn)
{
    /* arn:aws:iam::ACCOUNT:role/[path/]NAME */
    const char *p = role_arn;
    if (p == NULL || strncmp(p, "arn:", 4) != 0) {
        return 0;
    }
    const char *acct = strstr(p, ":iam::");
    if (acct == NULL) {
        return 0;
    }
    acct += 6;
    const char *colon = strchr(acct, ':');
    if (colon == NULL || (size_t)(colon - acct) != strlen(account) ||
        strncmp(acct, account, strlen(account)) != 0 || strncmp(colon + 1, "role/", 5) != 0) {
        return 0;
    }
    const char *name = strrchr(colon + 1, '/') + 1;
    return iam_exists(IAM_ROLE_EXISTS_SQL, account, name) == 1;
}

/* --------------------------------------------------------------- roles */

static void iam_create_role(struct emu_request *req, struct emu_response *resp)
{
    const char *name = iam_name_or_fail(req, resp, "RoleName", "roleName", 64);
    if (name == NULL) {
        return;
    }
    const char *doc =
        iam_doc_or_fail(req, resp, "AssumeRolePolicyDocument", "assumeRolePolicyDocument");
    if (doc == NULL) {
        return;
    }
    const char *path = iam_path_or_fail(req, resp);
    if (path == NULL) {
        return;
    }
    long max_session = 3600;
    const char *ms = emu_form(req, "MaxSessionDuration");
    if (ms != NULL) {
        char *end = NULL;
        max_session = strtol(ms, &end, 10);
        if (end == ms || *end != 0 || max_session < 3600 || max_session > 43200) {
            emu_fail(resp, AWS_VALIDATION_ERROR,
                     "1 validation error detected: Value '%s' at 'maxSessionDuration' failed to "
                     "satisfy constraint: Member must have value less than or equal to 43200",
                     ms);
            return;
        }
    }
    if (!iam_absent_or_fail(req, resp, &iam_role_kind, name)) {
        return;
    }
    char id[32] = "AROA";
    emu_random_alnum(id + 4, 17, 0);
    char created[32];
    emu_time_iso(created, emu_now());
    char arn[600];
    snprintf(arn, sizeof(arn), "arn:aws:iam::%s:role%s%s", req->account, path, name);

    sqlite3_stmt *st = iam_stmt(
        "INSERT INTO iam_roles (account, region, name, role_id, path, arn, assume_doc, "
        "description, max_session, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        req->account, name);
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    iam_bind(st, 4, id);
    iam_bind(st, 5, path);
    iam_bind(st, 6, arn);
    iam_bind(st, 7, doc);
    iam_bind(st, 8, emu_form(req, "Description"));
    sqlite3_bind_int64(st, 9, max_session);
    iam_bind(st, 10, created);
    int rc = sqlite3_step(st);
    emu_stmt_done(st);
    if (rc != SQLITE_DONE) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    struct emu_buf b = {0};
    emu_buf_puts(&b, "<Role>");
    emu_buf_xml_elem(&b, "Path", path);
    emu_buf_xml_elem(&b, "RoleName", name);
    emu_buf_xml_elem(&b, "RoleId", id);
    emu_buf_xml_elem(&b, "Arn", arn);
    emu_buf_xml_elem(&b, "CreateDate", created);
    struct emu_buf enc = {0};
    emu_buf_url_encode(&enc, doc, strlen(doc), 0);
    emu_buf_xml_elem(&b, "AssumeRolePolicyDocument", enc.data ? enc.data : "");
    emu_buf_release(&enc);
    if (emu_form(req, "Description") != NULL) {
        emu_buf_xml_elem(&b, "Description", emu_form(req, "Description"));
    }
    emu_buf_printf(&b, "<MaxSessionDuration>%ld</MaxSessionDuration>", max_session);
    emu_buf_puts(&b, "</Role>");
    emu_resp_query(req, resp, b.data);
    emu_buf_release(&b);
}

static void iam_get_role(struct emu_request *req, struct emu_response *resp)
{
    const char *name = iam_name_or_fail(req, resp, "RoleName", "roleName", 64);
    if (name == NULL) {
        return;
    }
    sqlite3_stmt *st = iam_stmt("SELECT " IAM_ROLE_COLS
                                " FROM iam_roles WHERE account = ?1 AND region = ?2 AND name = ?3",
                                req->account, name);
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    if (sqlite3_step(st) != SQLITE_ROW) {
        emu_stmt_done(st);
        emu_fail(resp, IAM_NO_SUCH_ENTITY, "The role with name %s cannot be found.", name);
        return;
    }
    struct emu_buf b = {0};
    emu_buf_puts(&b, "<Role>");
    iam_role_xml(&b, st);
    emu_buf_puts(&b, "<RoleLastUsed/></Role>");
    emu_stmt_done(st);
    emu_resp_query(req, resp, b.data);
    emu_buf_release(&b);
}

static void iam_delete_role(struct emu_request *req, struct emu_response *resp)
{
    const char *name = iam_name_or_fail(req, resp, "RoleName", "roleName", 64);
    if (name == NULL || !iam_entity_or_fail(req, resp, &iam_role_kind, name)) {
        return;
    }
    int inl = iam_count("SELECT count(*) FROM iam_role_policies WHERE account = ?1 AND region = ?2 "
                        "AND role = ?3",
                        req->account, name);
    int att = iam_count("SELECT count(*) FROM iam_role_attached WHERE account = ?1 AND region = ?2 "
                        "AND role = ?3",
                        req->account, name);
    if (inl < 0 || att < 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    if (inl > 0) {
        emu_fail(resp, IAM_DELETE_CONFLICT, "Cannot delete entity, must delete policies first.");
        return;
    }
    if (att > 0) {
        emu_fail(resp, IAM_DELETE_CONFLICT,
                 "Cannot delete entity, must detach all policies first.");
        return;
    }
    if (!iam_exec_or_fail(resp,
                          "DELETE FROM iam_roles WHERE account = ?1 AND region = ?2 AND name = ?3",
                          req->account, name, NULL, NULL)) {
        return;
    }
    emu_resp_query(req, resp, NULL);
}

/* MaxItems (1..1000, default 100) and Marker (an offset) of a list call.
 * Returns 0, -1 when the response holds a validation error. */
static int iam_paging(struct emu_request *req, struct emu_response *resp, long *max, long *off)
{
    *max = 100;
    *off = 0;
    const char *m = emu_form(req, "MaxItems");
    if (m != NULL) {
        char *end = NULL;
        *max = strtol(m, &end, 10);
        if (end == m || *end != 0 || *max < 1 || *max > 1000) {
            emu_fail(resp, AWS_VALIDATION_ERROR,
                     "1 validation error detected: Value '%s' at 'maxItems' failed to satisfy "
                     "constraint: Member must have value less than or equal to 1000",
                     m);
            return -1;
        }
    }
    const char *k = emu_form(req, "Marker");
    if (k != NULL) {
        char *end = NULL;
        *off = strtol(k, &end, 10);
        if (end == k || *end != 0 || *off < 0) {
            emu_fail(resp, AWS_VALIDATION_ERROR, "Invalid Marker.");
            return -1;
        }
    }
    return 0;
}

/* Answers a list call: binds LIMIT max + 1 OFFSET off as ?limit_param and
 * the next parameter of st (NULL: fails InternalFailure), lets row() append
 * each of at most max rows inside <tag> (ctx is row's, borrowed), then IsTruncated and the Marker
 * of the next page when the extra row came. Returns st with emu_stmt_done. */
static void iam_list_answer(struct emu_request *req, struct emu_response *resp, sqlite3_stmt *st,
                            int limit_param, long max, long off, const char *tag,
                            void (*row)(struct emu_buf *b, sqlite3_stmt *st, const void *ctx),
                            const void *ctx)
{
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    sqlite3_bind_int64(st, limit_param, max + 1);
    sqlite3_bind_int64(st, limit_param + 1, off);
    struct emu_buf b = {0};
    emu_buf_printf(&b, "<%s>", tag);
    long n = 0;
    int more = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n++ == max) {
            more = 1;
            break;
        }
        row(&b, st, ctx);
    }
    emu_stmt_done(st);
    emu_buf_printf(&b, "</%s>", tag);
    if (more) {
        emu_buf_printf(&b, "<IsTruncated>true</IsTruncated><Marker>%ld</Marker>", off + max);
    } else {
        emu_buf_puts(&b, "<IsTruncated>false</IsTruncated>");
    }
    emu_resp_query(req, resp, b.data);
    emu_buf_release(&b);
}

/* A row of name (column 0) as <member>. */
static void iam_name_row(struct emu_buf *b, sqlite3_stmt *st, const void *ctx)
{
    (void)ctx;
    emu_buf_xml_elem(b, "member", (const char *)sqlite3_column_text(st, 0));
}

static void iam_role_row(struct emu_buf *b, sqlite3_stmt *st, const void *ctx)
{
    (void)ctx;
    emu_buf_puts(b, "<member>");
    iam_role_xml(b, st);
    emu_buf_puts(b, "</member>");
}

static void iam_list_roles(struct emu_request *req, struct emu_response *resp)
{
    long max, off;
    if (iam_paging(req, resp, &max, &off) < 0) {
        return;
    }
    const char *prefix = emu_form(req, "PathPrefix");
    sqlite3_stmt *st = iam_stmt("SELECT " IAM_ROLE_COLS " FROM iam_roles WHERE account = ?1 AND "
                                "region = ?2 AND substr(path, 1, length(?3)) = ?3 "
                                "ORDER BY name LIMIT ?4 OFFSET ?5",
                                req->account, prefix ? prefix : "/");
    iam_list_answer(req, resp, st, 4, max, off, "Roles", iam_role_row, NULL);
}

/* ------------------------------------------------------ managed policies */

/* Returns 1 when policy_arn names an AWS managed policy or a customer
 * policy that exists in account; 0 when not; -1 on error. */
static int iam_policy_present(const char *account, const char *arn)
{
    if (strncmp(arn, "arn:aws:iam::aws:policy/", 24) == 0) {
        return 1;
    }
    return iam_exists("SELECT 1 FROM iam_policies WHERE account = ?1 AND region = ?2 AND arn = ?3",
                      account, arn);
}

/* The PolicyArn parameter, checked to look like an IAM policy ARN. */
static const char *iam_policy_arn_or_fail(struct emu_request *req, struct emu_response *resp)
{
    const char *arn = emu_form(req, "PolicyArn");
    if (arn == NULL) {
        emu_fail(resp, AWS_VALIDATION_ERROR,
                 "1 validation error detected: Value null at 'policyArn' failed to satisfy "
                 "constraint: Member must not be null");
        return NULL;
    }
    if (strncmp(arn, "arn:", 4) != 0 || strstr(arn, ":iam::") == NULL ||
        strstr(arn, ":policy/") == NULL) {
        emu_fail(resp, IAM_INVALID_INPUT, "ARN %s is not valid.", arn);
        return NULL;
    }
    return arn;
}

/* RoleName and PolicyArn of an attach or detach call, checked in that
 * order, then the role's existence. Returns the ARN and sets *role (both
 * borrowed from the request), or NULL when resp holds the error. */
static const char *iam_role_arn_or_fail(struct emu_request *req, struct emu_response *resp,
                                        const char **role)
{
    *role = iam_name_or_fail(req, resp, "RoleName", "roleName", 64);
    if (*role == NULL) {
        return NULL;
    }
    const char *arn = iam_policy_arn_or_fail(req, resp);
    if (arn == NULL || !iam_entity_or_fail(req, resp, &iam_role_kind, *role)) {
        return NULL;
    }
    return arn;
}

static void iam_attach_role_policy(struct emu_request *req, struct emu_response *resp)
{
    const char *role;
    const char *arn = iam_role_arn_or_fail(req, resp, &role);
    if (arn == NULL) {
        return;
    }
    int r = iam_policy_present(req->account, arn);
    if (r <= 0) {
        if (r < 0) {
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        } else {
            emu_fail(resp, IAM_NO_SUCH_ENTITY, "Policy %s does not exist or is not attachable.",
                     arn);
        }
        return;
    }
    if (!iam_exec_or_fail(
            resp,
            "INSERT OR IGNORE INTO iam_role_attached (account, region, role, policy_arn) "
            "VALUES (?1, ?2, ?3, ?4)",
            req->account, role, arn, NULL)) {
        return;
    }
    emu_resp_query(req, resp, NULL);
}

static void iam_detach_role_policy(struct emu_request *req, struct emu_response *resp)
{
    const char *role;
    const char *arn = iam_role_arn_or_fail(req, resp, &role);
    if (arn == NULL) {
        return;
    }
    if (!iam_exec_or_fail(
            resp,
            "DELETE FROM iam_role_attached WHERE account = ?1 AND region = ?2 AND role = ?3 "
            "AND policy_arn = ?4",
            req->account, role, arn, NULL)) {
        return;
    }
    if (sqlite3_changes(emu_db()) == 0) {
        emu_fail(resp, IAM_NO_SUCH_ENTITY, "Policy %s was not found.", arn);
        return;
    }
    emu_resp_query(req, resp, NULL);
}

/* A row of policy_arn as <member> with the policy's name. */
static void iam_attached_row(struct emu_buf *b, sqlite3_stmt *st, const void *ctx)
{
    (void)ctx;
    const char *arn = (const char *)sqlite3_column_text(st, 0);
    const char *slash = arn ? strrchr(arn, '/') : NULL;
    emu_buf_puts(b, "<member>");
    emu_buf_xml_elem(b, "PolicyName", slash ? slash + 1 : "");
    emu_buf_xml_elem(b, "PolicyArn", arn);
    emu_buf_puts(b, "</member>");
}

static void iam_list_attached_role_policies(struct emu_request *req, struct emu_response *resp)
{
    long max, off;
    const char *role = iam_name_or_fail(req, resp, "RoleName", "roleName", 64);
    if (role == NULL || iam_paging(req, resp, &max, &off) < 0 ||
        !iam_entity_or_fail(req, resp, &iam_role_kind, role)) {
        return;
    }
    sqlite3_stmt *st = iam_stmt("SELECT policy_arn FROM iam_role_attached WHERE account = ?1 AND "
                                "region = ?2 AND role = ?3 ORDER BY policy_arn LIMIT ?4 OFFSET ?5",
                                req->account, role);
    iam_list_answer(req, resp, st, 4, max, off, "AttachedPolicies", iam_attached_row, NULL);
}

/* Appends <Policy> children for a row of name, policy_id, path, arn,
 * description, created, default_version, plus the attachment count. */
static void iam_policy_xml(struct emu_buf *b, sqlite3_stmt *st, int attached)
{
    emu_buf_xml_elem(b, "PolicyName", (const char *)sqlite3_column_text(st, 0));
    emu_buf_xml_elem(b, "PolicyId", (const char *)sqlite3_column_text(st, 1));
    emu_buf_xml_elem(b, "Arn", (const char *)sqlite3_column_text(st, 3));
    emu_buf_xml_elem(b, "Path", (const char *)sqlite3_column_text(st, 2));
    emu_buf_xml_elem(b, "DefaultVersionId", (const char *)sqlite3_column_text(st, 6));
    emu_buf_printf(b, "<AttachmentCount>%d</AttachmentCount>", attached);
    emu_buf_puts(b, "<PermissionsBoundaryUsageCount>0</PermissionsBoundaryUsageCount>"
                    "<IsAttachable>true</IsAttachable>");
    if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
        emu_buf_xml_elem(b, "Description", (const char *)sqlite3_column_text(st, 4));
    }
    emu_buf_xml_elem(b, "CreateDate", (const char *)sqlite3_column_text(st, 5));
    emu_buf_xml_elem(b, "UpdateDate", (const char *)sqlite3_column_text(st, 5));
}

static void iam_create_policy(struct emu_request *req, struct emu_response *resp)
{
    const char *name = iam_name_or_fail(req, resp, "PolicyName", "policyName", 128);
    if (name == NULL) {
        return;
    }
    const char *doc = iam_doc_or_fail(req, resp, "PolicyDocument", "policyDocument");
    if (doc == NULL) {
        return;
    }
    const char *path = iam_path_or_fail(req, resp);
    if (path == NULL) {
        return;
    }
    char arn[600];
    snprintf(arn, sizeof(arn), "arn:aws:iam::%s:policy%s%s", req->account, path, name);
    int r = iam_policy_present(req->account, arn);
    if (r != 0) {
        if (r < 0) {
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        } else {
            emu_fail(resp, IAM_ENTITY_ALREADY_EXISTS,
                     "A policy called %s already exists. Duplicate names are not allowed.", name);
        }
        return;
    }
    char id[32] = "ANPA";
    emu_random_alnum(id + 4, 17, 0);
    char created[32];
    emu_time_iso(created, emu_now());
    sqlite3_stmt *st =
        iam_stmt("INSERT INTO iam_policies (account, region, name, policy_id, path, arn, "
                 "document, description, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                 req->account, name);
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    iam_bind(st, 4, id);
    iam_bind(st, 5, path);
    iam_bind(st, 6, arn);
    iam_bind(st, 7, doc);
    iam_bind(st, 8, emu_form(req, "Description"));
    iam_bind(st, 9, created);
    int rc = sqlite3_step(st);
    emu_stmt_done(st);
    if (rc != SQLITE_DONE) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    if (!iam_exec_or_fail(
            resp,
            "INSERT INTO iam_policy_versions (account, region, arn, version_id, document, "
            "created) VALUES (?1, ?2, ?3, 'v1', ?4, ?5)",
            req->account, arn, doc, created)) {
        return;
    }
    struct emu_buf b = {0};
    emu_buf_puts(&b, "<Policy>");
    emu_buf_xml_elem(&b, "PolicyName", name);
    emu_buf_xml_elem(&b, "PolicyId", id);
    emu_buf_xml_elem(&b, "Arn", arn);
    emu_buf_xml_elem(&b, "Path", path);
    emu_buf_puts(&b, "<DefaultVersionId>v1</DefaultVersionId><AttachmentCount>0</AttachmentCount>"
                     "<PermissionsBoundaryUsageCount>0</PermissionsBoundaryUsageCount>"
                     "<IsAttachable>true</IsAttachable>");
    emu_buf_xml_elem(&b, "CreateDate", created);
    emu_buf_xml_elem(&b, "UpdateDate", created);
    emu_buf_puts(&b, "</Policy>");
    emu_resp_query(req, resp, b.data);
    emu_buf_release(&b);
}

/* Number of roles a policy is attached to; -1 on error. */
static int iam_attachments(const char *account, const char *arn)
{
    sqlite3_stmt *st = iam_stmt("SELECT count(*) FROM iam_role_attached WHERE account = ?1 AND "
                                "region = ?2 AND policy_arn = ?3",
                                account, arn);
    if (st == NULL) {
        return -1;
    }
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    emu_stmt_done(st);
    return n;
}

static void iam_get_policy(struct emu_request *req, struct emu_response *resp)
{
    const char *arn = iam_policy_arn_or_fail(req, resp);
    if (arn == NULL) {
        return;
    }
    int attached = iam_attachments(req->account, arn);
    sqlite3_stmt *st = iam_stmt("SELECT name, policy_id, path, arn, description, created, "
                                "default_version FROM iam_policies WHERE account = ?1 AND "
                                "region = ?2 AND arn = ?3",
                                req->account, arn);
    if (st == NULL || attached < 0) {
        emu_stmt_done(st);
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    if (sqlite3_step(st) != SQLITE_ROW) {
        emu_stmt_done(st);
        emu_fail(resp, IAM_NO_SUCH_ENTITY, "Policy %s was not found.", arn);
        return;
    }
    struct emu_buf b = {0};
    emu_buf_puts(&b, "<Policy>");
    iam_policy_xml(&b, st, attached);
    emu_buf_puts(&b, "</Policy>");
    emu_stmt_done(st);
    emu_resp_query(req, resp, b.data);
    emu_buf_release(&b);
}

static void iam_delete_policy(struct emu_request *req, struct emu_response *resp)
{
    const char *arn = iam_policy_arn_or_fail(req, resp);
    if (arn == NULL) {
        return;
    }
    int attached = iam_attachments(req->account, arn);
    if (attached < 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    if (attached > 0) {
        emu_fail(resp, IAM_DELETE_CONFLICT, "Cannot delete a policy attached to entities.");
        return;
    }
    int versions = iam_count("SELECT count(*) FROM iam_policy_versions WHERE account = ?1 AND "
                             "region = ?2 AND arn = ?3",
                             req->account, arn);
    if (versions < 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    if (versions > 1) {
        emu_fail(resp, IAM_DELETE_CONFLICT,
                 "This policy has more than one version. Before you delete a policy, you must "
                 "delete the policy's non-default versions.");
        return;
    }
    if (!iam_exec_or_fail(
            resp, "DELETE FROM iam_policies WHERE account = ?1 AND region = ?2 AND arn = ?3",
            req->account, arn, NULL, NULL)) {
        return;
    }
    if (sqlite3_changes(emu_db()) == 0) {
        emu_fail(resp, IAM_NO_SUCH_ENTITY, "Policy %s was not found.", arn);
        return;
    }
    if (!iam_exec_or_fail(resp,
                          "DELETE FROM iam_policy_versions WHERE account = ?1 AND region = ?2 AND "
                          "arn = ?3",
                          req->account, arn, NULL, NULL)) {
        return;
    }
    emu_resp_query(req, resp, NULL);
}

/* ------------------------------------------------------ role updates */

/* What UpdateAssumeRolePolicy and UpdateRole end with once their input
 * is valid: when the role `name` exists, runs the UPDATE sql of iam_roles
 * (keyed by ?1..?3) with a4 and a5 as ?4 and ?5 (NULL binds NULL) and
 * answers; else resp holds the error. */
static void iam_role_update(struct emu_request *req, struct emu_response *resp, const char *name,
                            const char *sql, const char *a4, const char *a5)
{
    if (!iam_entity_or_fail(req, resp, &iam_role_kind, name) ||
        !iam_exec_or_fail(resp, sql, req->account, name, a4, a5)) {
        return;
    }
    emu_resp_query(req, resp, NULL);
}

static void iam_update_assume_role_policy(struct emu_request *req, struct emu_response *resp)
{
    const char *name = iam_name_or_fail(req, resp, "RoleName", "roleName", 64);
    if (name == NULL) {
        return;
    }
    const char *doc = iam_doc_or_fail(req, resp, "PolicyDocument", "policyDocument");
    if (doc == NULL) {
        return;
    }
    iam_role_update(req, resp, name,
                    "UPDATE iam_roles SET assume_doc = ?4 WHERE account = ?1 AND region = ?2 AND "
                    "name = ?3",
                    doc, NULL);
}

static void iam_update_role(struct emu_request *req, struct emu_response *resp)
{
    const char *name = iam_name_or_fail(req, resp, "RoleName", "roleName", 64);
    if (name == NULL) {
        return;
    }
    const char *desc = emu_form(req, "Description");
    if (desc != NULL && strlen(desc) > 1000) {
        emu_fail(resp, AWS_VALIDATION_ERROR,
                 "1 validation error detected: Value at 'description' failed to satisfy "
                 "constraint: Member must have length less than or equal to 1000");
        return;
    }
    const char *ms = emu_form(req, "MaxSessionDuration");
    long max_session = 0;
    if (ms != NULL) {
        char *end = NULL;
        max_session = strtol(ms, &end, 10);
        if (end == ms || *end != 0 || max_session < 3600 || max_session > 43200) {
            emu_fail(resp, AWS_VALIDATION_ERROR,
                     "1 validation error detected: Value '%s' at 'maxSessionDuration' failed to "
                     "satisfy constraint: Member must have value %s",
                     ms,
                     max_session < 3600 ? "greater than or equal to 3600"
                                        : "less than or equal to 43200");
            return;
        }
    }
    /* bound as text: the column's INTEGER affinity stores the number */
    char max_text[24];
    snprintf(max_text, sizeof(max_text), "%ld", max_session);
    iam_role_update(req, resp, name,
                    "UPDATE iam_roles SET description = coalesce(?4, description), max_session = "
                    "coalesce(?5, max_session) WHERE account = ?1 AND region = ?2 AND name = ?3",
                    desc, ms != NULL ? max_text : NULL);
}

/* ------------------------------------------------------ policy versions */

/* The default version id of a customer policy into out (1), 0 when the
 * policy does not exist, -1 on error. */
static int iam_policy_default(const char *account, const char *arn, char out[32])
{
    sqlite3_stmt *st = iam_stmt("SELECT default_version FROM iam_policies WHERE account = ?1 AND "
                                "region = ?2 AND arn = ?3",
                                account, arn);
    if (st == NULL) {
        return -1;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        snprintf(out, 32, "%s", (const char *)sqlite3_column_text(st, 0));
    }
    emu_stmt_done(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* PolicyArn of a version call: must name an existing customer policy.
 * Returns the ARN (borrowed) with its default version, or NULL (failed). */
static const char *iam_versioned_policy_or_fail(struct emu_request *req, struct emu_response *resp,
                                                char def[32])
{
    const char *arn = iam_policy_arn_or_fail(req, resp);
    if (arn == NULL) {
        return NULL;
    }
    int r = iam_policy_default(req->account, arn, def);
    if (r <= 0) {
        if (r < 0) {
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        } else {
            emu_fail(resp, IAM_NO_SUCH_ENTITY, "Policy %s was not found.", arn);
        }
        return NULL;
    }
    return arn;
}

/* VersionId parameter, checked against v[1-9][0-9]*. */
static const char *iam_version_id_or_fail(struct emu_request *req, struct emu_response *resp)
{
    const char *v = emu_form(req, "VersionId");
    if (v == NULL) {
        emu_fail(resp, AWS_VALIDATION_ERROR,
                 "1 validation error detected: Value null at 'versionId' failed to satisfy "
                 "constraint: Member must not be null");
        return NULL;
    }
    int ok = v[0] == 'v' && v[1] >= '1' && v[1] <= '9';
    for (const char *p = v + 1; ok && *p; p++) {
        ok = *p >= '0' && *p <= '9';
    }
    if (!ok) {
        emu_fail(resp, AWS_VALIDATION_ERROR,
                 "1 validation error detected: Value '%s' at 'versionId' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: "
                 "v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?",
                 v);
        return NULL;
    }
    return v;
}

/* <PolicyVersion> children (Document URL-encoded when with_doc). */
static void iam_version_xml(struct emu_buf *b, const char *doc, const char *id, int is_default,
                            const char *created, int with_doc)
{
    if (with_doc) {
        struct emu_buf enc = {0};
        emu_buf_url_encode(&enc, doc ? doc : "", doc ? strlen(doc) : 0, 0);
        emu_buf_xml_elem(b, "Document", enc.data ? enc.data : "");
        emu_buf_release(&enc);
    }
    emu_buf_xml_elem(b, "VersionId", id);
    emu_buf_printf(b, "<IsDefaultVersion>%s</IsDefaultVersion>", is_default ? "true" : "false");
    emu_buf_xml_elem(b, "CreateDate", created);
}

static void iam_create_policy_version(struct emu_request *req, struct emu_response *resp)
{
    char def[32];
    const char *arn = iam_versioned_policy_or_fail(req, resp, def);
    if (arn == NULL) {
        return;
    }
    const char *doc = iam_doc_or_fail(req, resp, "PolicyDocument", "policyDocument");
    if (doc == NULL) {
        return;
    }
    const char *sd = emu_form(req, "SetAsDefault");
    int set_default = sd != NULL && strcmp(sd, "true") == 0;
    int n = iam_count("SELECT count(*) FROM iam_policy_versions WHERE account = ?1 AND "
                      "region = ?2 AND arn = ?3",
                      req->account, arn);
    if (n < 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    if (n >= 5) {
        emu_fail(resp, IAM_LIMIT_EXCEEDED,
                 "A managed policy can have up to 5 versions. Before you create a new version, "
                 "you must delete an existing version.");
        return;
    }
    int next = iam_count("SELECT next_version FROM iam_policies WHERE account = ?1 AND "
                         "region = ?2 AND arn = ?3",
                         req->account, arn);
    if (next < 1) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    char id[32];
    snprintf(id, sizeof(id), "v%d", next);
    char created[32];
    emu_time_iso(created, emu_now());
    sqlite3_stmt *st = iam_stmt("INSERT INTO iam_policy_versions (account, region, arn, "
                                "version_id, document, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                req->account, arn);
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    iam_bind(st, 4, id);
    iam_bind(st, 5, doc);
    iam_bind(st, 6, created);
    int rc = sqlite3_step(st);
    emu_stmt_done(st);
    char nexts[16];
    snprintf(nexts, sizeof(nexts), "%d", next + 1);
    if (rc != SQLITE_DONE) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    if (!iam_exec_or_fail(resp,
                          "UPDATE iam_policies SET next_version = CAST(?4 AS INTEGER) WHERE "
                          "account = ?1 AND region = ?2 AND arn = ?3",
                          req->account, arn, nexts, NULL) ||
        (set_default &&
         !iam_exec_or_fail(resp,
                           "UPDATE iam_policies SET default_version = ?4, document = ?5 WHERE "
                           "account = ?1 AND region = ?2 AND arn = ?3",
                           req->account, arn, id, doc))) {
        return;
    }
    struct emu_buf b = {0};
    emu_buf_puts(&b, "<PolicyVersion>");
    iam_version_xml(&b, doc, id, set_default, created, 0);
    emu_buf_puts(&b, "</PolicyVersion>");
    emu_resp_query(req, resp, b.data);
    emu_buf_release(&b);
}

static void iam_get_policy_version(struct emu_request *req, struct emu_response *resp)
{
    char def[32];
    const char *arn = iam_versioned_policy_or_fail(req, resp, def);
    const char *id = arn ? iam_version_id_or_fail(req, resp) : NULL;
    if (id == NULL) {
        return;
    }
    sqlite3_stmt *st = iam_stmt("SELECT document, created FROM iam_policy_versions WHERE "
                                "account = ?1 AND region = ?2 AND arn = ?3 AND version_id = ?4",
                                req->account, arn);
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    iam_bind(st, 4, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        emu_stmt_done(st);
        emu_fail(resp, IAM_NO_SUCH_ENTITY,
                 "Policy %s version %s does not exist or is not attachable.", arn, id);
        return;
    }
    struct emu_buf b = {0};
    emu_buf_puts(&b, "<PolicyVersion>");
    iam_version_xml(&b, (const char *)sqlite3_column_text(st, 0), id, strcmp(id, def) == 0,
                    (const char *)sqlite3_column_text(st, 1), 1);
    emu_buf_puts(&b, "</PolicyVersion>");
    emu_stmt_done(st);
    emu_resp_query(req, resp, b.data);
    emu_buf_release(&b);
}

/* A row of version_id, created as <member>; ctx is the default version. */
static void iam_version_row(struct emu_buf *b, sqlite3_stmt *st, const void *ctx)
{
    const char *id = (const char *)sqlite3_column_text(st, 0);
    emu_buf_puts(b, "<member>");
    iam_version_xml(b, NULL, id, strcmp(id, (const char *)ctx) == 0,
                    (const char *)sqlite3_column_text(st, 1), 0);
    emu_buf_puts(b, "</member>");
}

static void iam_list_policy_versions(struct emu_request *req, struct emu_response *resp)
{
    long max, off;
    char def[32];
    const char *arn = iam_versioned_policy_or_fail(req, resp, def);
    if (arn == NULL || iam_paging(req, resp, &max, &off) < 0) {
        return;
    }
    /* newest first, as AWS lists them */
    sqlite3_stmt *st = iam_stmt("SELECT version_id, created FROM iam_policy_versions WHERE "
                                "account = ?1 AND region = ?2 AND arn = ?3 ORDER BY "
                                "CAST(substr(version_id, 2) AS INTEGER) DESC LIMIT ?4 OFFSET ?5",
                                req->account, arn);
    iam_list_answer(req, resp, st, 4, max, off, "Versions", iam_version_row, def);
}

static void iam_delete_policy_version(struct emu_request *req, struct emu_response *resp)
{
    char def[32];
    const char *arn = iam_versioned_policy_or_fail(req, resp, def);
    const char *id = arn ? iam_version_id_or_fail(req, resp) : NULL;
    if (id == NULL) {
        return;
    }
    if (strcmp(id, def) == 0) {
        emu_fail(resp, IAM_DELETE_CONFLICT, "Cannot delete the default version of a policy.");
        return;
    }
    if (!iam_exec_or_fail(resp,
                          "DELETE FROM iam_policy_versions WHERE account = ?1 AND region = ?2 AND "
                          "arn = ?3 AND version_id = ?4",
                          req->account, arn, id, NULL)) {
        return;
    }
    if (sqlite3_changes(emu_db()) == 0) {
        emu_fail(resp, IAM_NO_SUCH_ENTITY,
                 "Policy %s version %s does not exist or is not attachable.", arn, id);
        return;
    }
    emu_resp_query(req, resp, NULL);
}

/* ------------------------------------------------------- users and groups */

static void iam_entity_xml(struct emu_buf *b, const struct iam_kind *k, const char *path,
                           const char *name, const char *id, const char *arn, const char *created)
{
    emu_buf_printf(b, "<%s>", k->elem);
    emu_buf_xml_elem(b, "Path", path);
    emu_buf_printf(b, "<%sName>", k->elem);
    emu_buf_xml_escape(b, name);
    emu_buf_printf(b, "</%sName><%sId>", k->elem, k->elem);
    emu_buf_xml_escape(b, id);
    emu_buf_printf(b, "</%sId>", k->elem);
    emu_buf_xml_elem(b, "Arn", arn);
    emu_buf_xml_elem(b, "CreateDate", created);
    emu_buf_printf(b, "</%s>", k->elem);
}

static void iam_entity_create(struct emu_request *req, struct emu_response *resp,
                              const struct iam_kind *k)
{
    const char *name = iam_name_or_fail(req, resp, k->param, k->member, k->max);
    if (name == NULL) {
        return;
    }
    const char *path = iam_path_or_fail(req, resp);
    if (path == NULL) {
        return;
    }
    if (!iam_absent_or_fail(req, resp, k, name)) {
        return;
    }
    char id[32];
    snprintf(id, sizeof(id), "%s", k->id_prefix);
    emu_random_alnum(id + 4, 17, 0);
    char created[32];
    emu_time_iso(created, emu_now());
    char arn[600];
    snprintf(arn, sizeof(arn), "arn:aws:iam::%s:%s%s%s", req->account, k->label, path, name);
    sqlite3_stmt *st = iam_kind_stmt(k,
                                     "INSERT INTO iam_entities (account, region, name, kind, "
                                     "entity_id, path, arn, created) VALUES (?1, ?2, ?3, ?4, ?5, "
                                     "?6, ?7, ?8)",
                                     req, name);
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    iam_bind(st, 5, id);
    iam_bind(st, 6, path);
    iam_bind(st, 7, arn);
    iam_bind(st, 8, created);
    int rc = sqlite3_step(st);
    emu_stmt_done(st);
    if (rc != SQLITE_DONE) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    struct emu_buf b = {0};
    iam_entity_xml(&b, k, path, name, id, arn, created);
    emu_resp_query(req, resp, b.data);
    emu_buf_release(&b);
}

/* GetUser/GetGroup: the entity; GetGroup adds an empty Users list. */
static void iam_entity_get(struct emu_request *req, struct emu_response *resp,
                           const struct iam_kind *k)
{
    const char *name = iam_name_or_fail(req, resp, k->param, k->member, k->max);
    if (name == NULL) {
        return;
    }
    sqlite3_stmt *st = iam_kind_stmt(k,
                                     "SELECT path, name, entity_id, arn, created FROM "
                                     "iam_entities WHERE account = ?1 AND region = ?2 AND "
                                     "name = ?3 AND kind = ?4",
                                     req, name);
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    if (sqlite3_step(st) != SQLITE_ROW) {
        emu_stmt_done(st);
        emu_fail(resp, IAM_NO_SUCH_ENTITY, "The %s with name %s cannot be found.", k->label, name);
        return;
    }
    struct emu_buf b = {0};
    iam_entity_xml(
        &b, k, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
        (const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3),
        (const char *)sqlite3_column_text(st, 4));
    emu_stmt_done(st);
    if (k == &iam_group_kind) {
        emu_buf_puts(&b, "<Users/><IsTruncated>false</IsTruncated>");
    }
    emu_resp_query(req, resp, b.data);
    emu_buf_release(&b);
}

static void iam_entity_delete(struct emu_request *req, struct emu_response *resp,
                              const struct iam_kind *k)
{
    const char *name = iam_name_or_fail(req, resp, k->param, k->member, k->max);
    if (name == NULL || !iam_entity_or_fail(req, resp, k, name)) {
        return;
    }
    sqlite3_stmt *st = iam_kind_stmt(k,
                                     "SELECT count(*) FROM iam_entity_policies WHERE account = "
                                     "?1 AND region = ?2 AND entity = ?3 AND kind = ?4",
                                     req, name);
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    emu_stmt_done(st);
    if (n != 0) {
        if (n < 0) {
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        } else {
            emu_fail(resp, IAM_DELETE_CONFLICT,
                     "Cannot delete entity, must delete policies first.");
        }
        return;
    }
    if (!iam_kind_exec_or_fail(
            resp, k,
            "DELETE FROM iam_entities WHERE account = ?1 AND region = ?2 AND name = ?3 "
            "AND kind = ?4",
            req, name, NULL, NULL)) {
        return;
    }
    emu_resp_query(req, resp, NULL);
}

/* The principal and the PolicyName of an inline-policy call, and when doc
 * is not NULL the PolicyDocument (which must parse), checked in that order,
 * then the principal's existence. Returns the principal's name and sets
 * *name (and *doc), all borrowed from the request; NULL when resp holds the
 * error. */
static const char *iam_inline_or_fail(struct emu_request *req, struct emu_response *resp,
                                      const struct iam_kind *k, const char **name, const char **doc)
{
    const char *ent = iam_name_or_fail(req, resp, k->param, k->member, k->max);
    if (ent == NULL) {
        return NULL;
    }
    *name = iam_name_or_fail(req, resp, "PolicyName", "policyName", 128);
    if (*name == NULL) {
        return NULL;
    }
    if (doc != NULL) {
        *doc = iam_doc_or_fail(req, resp, "PolicyDocument", "policyDocument");
        if (*doc == NULL) {
            return NULL;
        }
    }
    return iam_entity_or_fail(req, resp, k, ent) ? ent : NULL;
}

/* PutRolePolicy, PutUserPolicy, PutGroupPolicy. */
static void iam_entity_put_policy(struct emu_request *req, struct emu_response *resp,
                                  const struct iam_kind *k)
{
    const char *name, *doc;
    const char *ent = iam_inline_or_fail(req, resp, k, &name, &doc);
    if (ent == NULL) {
        return;
    }
    if (!iam_kind_exec_or_fail(resp, k, k->put_policy_sql, req, ent, name, doc)) {
        return;
    }
    emu_resp_query(req, resp, NULL);
}

/* GetRolePolicy, GetUserPolicy, GetGroupPolicy. */
static void iam_entity_get_policy(struct emu_request *req, struct emu_response *resp,
                                  const struct iam_kind *k)
{
    const char *name;
    const char *ent = iam_inline_or_fail(req, resp, k, &name, NULL);
    if (ent == NULL) {
        return;
    }
    sqlite3_stmt *st = iam_kind_stmt(k, k->get_policy_sql, req, ent);
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    iam_bind(st, 5, name);
    if (sqlite3_step(st) != SQLITE_ROW) {
        emu_stmt_done(st);
        emu_fail(resp, IAM_NO_SUCH_ENTITY, "The %s policy with name %s cannot be found.", k->label,
                 name);
        return;
    }
    const char *doc = (const char *)sqlite3_column_text(st, 0);
    struct emu_buf b = {0};
    struct emu_buf enc = {0};
    emu_buf_url_encode(&enc, doc ? doc : "", doc ? strlen(doc) : 0, 0);
    emu_buf_printf(&b, "<%sName>", k->elem);
    emu_buf_xml_escape(&b, ent);
    emu_buf_printf(&b, "</%sName>", k->elem);
    emu_buf_xml_elem(&b, "PolicyName", name);
    emu_buf_xml_elem(&b, "PolicyDocument", enc.data ? enc.data : "");
    emu_buf_release(&enc);
    emu_stmt_done(st);
    emu_resp_query(req, resp, b.data);
    emu_buf_release(&b);
}

/* DeleteRolePolicy, DeleteUserPolicy, DeleteGroupPolicy. */
static void iam_entity_delete_policy(struct emu_request *req, struct emu_response *resp,
                                     const struct iam_kind *k)
{
    const char *name;
    const char *ent = iam_inline_or_fail(req, resp, k, &name, NULL);
    if (ent == NULL) {
        return;
    }
    if (!iam_kind_exec_or_fail(resp, k, k->delete_policy_sql, req, ent, name, NULL)) {
        return;
    }
    if (sqlite3_changes(emu_db()) == 0) {
        emu_fail(resp, IAM_NO_SUCH_ENTITY, "The %s policy with name %s cannot be found.", k->label,
                 name);
        return;
    }
    emu_resp_query(req, resp, NULL);
}

/* ListRolePolicies, ListUserPolicies, ListGroupPolicies. */
static void iam_entity_list_policies(struct emu_request *req, struct emu_response *resp,
                                     const struct iam_kind *k)
{
    long max, off;
    const char *ent = iam_name_or_fail(req, resp, k->param, k->member, k->max);
    if (ent == NULL || iam_paging(req, resp, &max, &off) < 0 ||
        !iam_entity_or_fail(req, resp, k, ent)) {
        return;
    }
    sqlite3_stmt *st = iam_kind_stmt(k, k->list_policies_sql, req, ent);
    iam_list_answer(req, resp, st, 5, max, off, "PolicyNames", iam_name_row, NULL);
}

static void iam_put_role_policy(struct emu_request *req, struct emu_response *resp)
{
    iam_entity_put_policy(req, resp, &iam_role_kind);
}
static void iam_get_role_policy(struct emu_request *req, struct emu_response *resp)
{
    iam_entity_get_policy(req, resp, &iam_role_kind);
}
static void iam_delete_role_policy(struct emu_request *req, struct emu_response *resp)
{
    iam_entity_delete_policy(req, resp, &iam_role_kind);
}
static void iam_list_role_policies(struct emu_request *req, struct emu_response *resp)
{
    iam_entity_list_policies(req, resp, &iam_role_kind);
}
static void iam_create_user(struct emu_request *req, struct emu_response *resp)
{
    iam_entity_create(req, resp, &iam_user_kind);
}
/* GetUser without UserName answers the caller: greenroom's credentials
 * are the account's root, which AWS describes by account id and root ARN. */
static void iam_get_user(struct emu_request *req, struct emu_response *resp)
{
    if (emu_form(req, "UserName") != NULL) {
        iam_entity_get(req, resp, &iam_user_kind);
        return;
    }
    struct emu_buf b = {0};
    emu_buf_puts(&b, "<User>");
    emu_buf_xml_elem(&b, "UserId", req->account);
    emu_buf_printf(&b, "<Arn>arn:aws:iam::%s:root</Arn>", req->account);
    emu_buf_puts(&b, "<CreateDate>2020-01-01T00:00:00Z</CreateDate></User>");
    emu_resp_query(req, resp, b.data);
    emu_buf_release(&b);
}
static void iam_delete_user(struct emu_request *req, struct emu_response *resp)
{
    iam_entity_delete(req, resp, &iam_user_kind);
}
static void iam_put_user_policy(struct emu_request *req, struct emu_response *resp)
{
    iam_entity_put_policy(req, resp, &iam_user_kind);
}
static void iam_get_user_policy(struct emu_request *req, struct emu_response *resp)
{
    iam_entity_get_policy(req, resp, &iam_user_kind);
}
static void iam_delete_user_policy(struct emu_request *req, struct emu_response *resp)
{
    iam_entity_delete_policy(req, resp, &iam_user_kind);
}
static void iam_list_user_policies(struct emu_request *req, struct emu_response *resp)
{
    iam_entity_list_policies(req, resp, &iam_user_kind);
}
static void iam_create_group(struct emu_request *req, struct emu_response *resp)
{
    iam_entity_create(req, resp, &iam_group_kind);
}
static void iam_get_group(struct emu_request *req, struct emu_response *resp)
{
    iam_entity_get(req, resp, &iam_group_kind);
}
static void iam_delete_group(struct emu_request *req, struct emu_response *resp)
{
    iam_entity_delete(req, resp, &iam_group_kind);
}
static void iam_put_group_policy(struct emu_request *req, struct emu_response *resp)
{
    iam_entity_put_policy(req, resp, &iam_group_kind);
}
static void iam_get_group_policy(struct emu_request *req, struct emu_response *resp)
{
    iam_entity_get_policy(req, resp, &iam_group_kind);
}
static void iam_delete_group_policy(struct emu_request *req, struct emu_response *resp)
{
    iam_entity_delete_policy(req, resp, &iam_group_kind);
}
static void iam_list_group_policies(struct emu_request *req, struct emu_response *resp)
{
    iam_entity_list_policies(req, resp, &iam_group_kind);
}

/* ---------------------------------------------------------------- table */

static const struct emu_op iam_ops[] = {
    {"CreateRole", "POST", "/", NULL, iam_create_role, EMU_OP_WRITE},
    {"GetRole", "POST", "/", NULL, iam_get_role, 0},
    {"DeleteRole", "POST", "/", NULL, iam_delete_role, EMU_OP_WRITE},
    {"ListRoles", "POST", "/", NULL, iam_list_roles, 0},
    {"PutRolePolicy", "POST", "/", NULL, iam_put_role_policy, EMU_OP_WRITE},
    {"GetRolePolicy", "POST", "/", NULL, iam_get_role_policy, 0},
    {"DeleteRolePolicy", "POST", "/", NULL, iam_delete_role_policy, EMU_OP_WRITE},
    {"ListRolePolicies", "POST", "/", NULL, iam_list_role_policies, 0},
    {"AttachRolePolicy", "POST", "/", NULL, iam_attach_role_policy, EMU_OP_WRITE},
    {"DetachRolePolicy", "POST", "/", NULL, iam_detach_role_policy, EMU_OP_WRITE},
    {"ListAttachedRolePolicies", "POST", "/", NULL, iam_list_attached_role_policies, 0},
    {"CreatePolicy", "POST", "/", NULL, iam_create_policy, EMU_OP_WRITE},
    {"GetPolicy", "POST", "/", NULL, iam_get_policy, 0},
    {"DeletePolicy", "POST", "/", NULL, iam_delete_policy, EMU_OP_WRITE},
    {"UpdateAssumeRolePolicy", "POST", "/", NULL, iam_update_assume_role_policy, EMU_OP_WRITE},
    {"UpdateRole", "POST", "/", NULL, iam_update_role, EMU_OP_WRITE},
    {"CreatePolicyVersion", "POST", "/", NULL, iam_create_policy_version, EMU_OP_WRITE},
    {"GetPolicyVersion", "POST", "/", NULL, iam_get_policy_version, 0},
    {"ListPolicyVersions", "POST", "/", NULL, iam_list_policy_versions, 0},
    {"DeletePolicyVersion", "POST", "/", NULL, iam_delete_policy_version, EMU_OP_WRITE},
    {"CreateUser", "POST", "/", NULL, iam_create_user, EMU_OP_WRITE},
    {"GetUser", "POST", "/", NULL, iam_get_user, 0},
    {"DeleteUser", "POST", "/", NULL, iam_delete_user, EMU_OP_WRITE},
    {"PutUserPolicy", "POST", "/", NULL, iam_put_user_policy, EMU_OP_WRITE},
    {"GetUserPolicy", "POST", "/", NULL, iam_get_user_policy, 0},
    {"DeleteUserPolicy", "POST", "/", NULL, iam_delete_user_policy, EMU_OP_WRITE},
    {"ListUserPolicies", "POST", "/", NULL, iam_list_user_policies, 0},
    {"CreateGroup", "POST", "/", NULL, iam_create_group, EMU_OP_WRITE},
    {"GetGroup", "POST", "/", NULL, iam_get_group, 0},
    {"DeleteGroup", "POST", "/", NULL, iam_delete_group, EMU_OP_WRITE},
    {"PutGroupPolicy", "POST", "/", NULL, iam_put_group_policy, EMU_OP_WRITE},
    {"GetGroupPolicy", "POST", "/", NULL, iam_get_group_policy, 0},
    {"DeleteGroupPolicy", "POST", "/", NULL, iam_delete_group_policy, EMU_OP_WRITE},
    {"ListGroupPolicies", "POST", "/", NULL, iam_list_group_policies, 0},
};

/* Journal/fault resource: the role name or policy ARN. */
static void iam_resource(struct emu_request *req, struct emu_buf *out)
{
    const char *v = emu_form(req, "RoleName");
    if (v == NULL) {
        v = emu_form(req, "UserName");
    }
    if (v == NULL) {
        v = emu_form(req, "GroupName");
    }
    if (v == NULL) {
        v = emu_form(req, "PolicyArn");
    }
    if (v == NULL) {
        v = emu_form(req, "PolicyName");
    }
    if (v != NULL) {
        emu_buf_puts(out, v);
    }
}

const struct emu_service svc_iam = {
    .name = "iam",
    .display = "iam",
    .protocol = EMU_PROTO_QUERY,
    .xmlns = "https://iam.amazonaws.com/doc/2010-05-08/",
    .ops = iam_ops,
    .nops = sizeof(iam_ops) / sizeof(iam_ops[0]),
    .schema = iam_schema,
    .nschema = sizeof(iam_schema) / sizeof(iam_schema[0]),
    .resource = iam_resource,
};
