/*
 * svc_iot.c - AWS IoT topic rules (rest-json): CreateTopicRule,
 * GetTopicRule, ReplaceTopicRule, DeleteTopicRule, ListTopicRules.
 *
 * Rules are stored and reported only (Serverless v0.5 `event deploy`
 * compatibility): greenroom has no MQTT broker, so no rule ever fires.
 * Like AWS, a rule that does not exist answers UnauthorizedException on
 * Get/Replace/Delete.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events_wire.h"

static const char *const iot_schema[] = {
    "CREATE TABLE iot_rules ("
    " account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,"
    " payload TEXT NOT NULL, created REAL NOT NULL,"
    " PRIMARY KEY (account, region, name));",
};

static int iot_valid_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 128) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)s[i]) && s[i] != '_') {
            return 0;
        }
    }
    return 1;
}

/* Checks the rule name and payload. Returns 0 or fails the call. */
static int iot_check(struct emu_request *req, struct emu_response *resp, const char *name,
                     int with_payload)
{
    if (!iot_valid_name(name)) {
        emu_fail(resp, IOT_INVALID_REQUEST,
                 "1 validation error detected: Value '%s' at 'ruleName' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_]+$",
                 name ? name : "");
        return -1;
    }
    if (!with_payload) {
        return 0; /* GET/DELETE */
    }
    const char *sql = evw_json_str(req->json, "sql");
    if (sql == NULL || *sql == 0) {
        emu_fail(resp, IOT_INVALID_REQUEST, "sql is required.");
        return -1;
    }
    while (isspace((unsigned char)*sql)) {
        sql++;
    }
    if (strncasecmp(sql, "SELECT", 6) != 0 || !isspace((unsigned char)sql[6])) {
        emu_fail(resp, IOT_SQL_PARSE, "Expected SELECT at 1:1 in the rule query.");
        return -1;
    }
    const cJSON *actions = cJSON_GetObjectItemCaseSensitive(req->json, "actions");
    if (actions && !cJSON_IsArray(actions)) {
        emu_fail(resp, IOT_INVALID_REQUEST, "actions must be a list.");
        return -1;
    }
    return 0;
}

/* The stored payload (new) of a rule, or NULL. Store locked. */
static cJSON *iot_load(const char *account, const char *region, const char *name, double *created)
{
    sqlite3_stmt *st = emu_stmt("SELECT payload, created FROM iot_rules WHERE account = ? AND"
                                " region = ? AND name = ?");
    cJSON *o = NULL;
    if (st) {
        sqlite3_bind_text(st, 1, account, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, region, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
            const char *p = (const char *)sqlite3_column_text(st, 0);
            o = cJSON_Parse(p ? p : "{}");
            if (created) {
                *created = sqlite3_column_double(st, 1);
            }
        }
    }
    emu_stmt_done(st);
    return o;
}

static void iot_not_found(struct emu_response *resp, const char *name)
{
    emu_fail(resp, IOT_UNAUTHORIZED, "Rule %s does not exist or you are not authorized.", name);
}

static int iot_store(const char *sql, const struct emu_request *req, const char *name)
{
    char *text = cJSON_PrintUnformatted(req->json);
    sqlite3_stmt *st = emu_stmt(sql);
    int ok = 0;
    if (st && text) {
        sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 2, emu_now());
        sqlite3_bind_text(st, 3, req->account, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, req->region, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, name, -1, SQLITE_TRANSIENT);
        ok = sqlite3_step(st) == SQLITE_DONE;
    }
    emu_stmt_done(st);
    free(text);
    return ok ? 0 : -1;
}

static void iot_create_topic_rule(struct emu_request *req, struct emu_response *resp)
{
    const char *name = emu_param(req, "ruleName");
    if (iot_check(req, resp, name, 1) != 0) {
        return;
    }
    cJSON *old = iot_load(req->account, req->region, name, NULL);
    if (old) {
        cJSON_Delete(old);
        emu_fail(resp, IOT_RESOURCE_ALREADY_EXISTS, "Rule %s already exists.", name);
        return;
    }
    if (iot_store("INSERT INTO iot_rules(payload, created, account, region, name)"
                  " VALUES (?, ?, ?, ?, ?)",
                  req, name) != 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    emu_resp_body(resp, 200, "application/json", "", 0);
}

static void iot_replace_topic_rule(struct emu_request *req, struct emu_response *resp)
{
    const char *name = emu_param(req, "ruleName");
    if (iot_check(req, resp, name, 1) != 0) {
        return;
    }
    cJSON *old = iot_load(req->account, req->region, name, NULL);
    if (old == NULL) {
        iot_not_found(resp, name);
        return;
    }
    cJSON_Delete(old);
    /* created stays: the second placeholder is ignored by this UPDATE */
    if (iot_store("UPDATE iot_rules SET payload = ?1 WHERE ?2 IS NOT NULL AND account = ?3 AND"
                  " region = ?4 AND name = ?5",
                  req, name) != 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    emu_resp_body(resp, 200, "application/json", "", 0);
}

static void iot_get_topic_rule(struct emu_request *req, struct emu_response *resp)
{
    const char *name = emu_param(req, "ruleName");
    if (iot_check(req, resp, name, 0) != 0) {
        return;
    }
    double created = 0;
    cJSON *p = iot_load(req->account, req->region, name, &created);
    if (p == NULL) {
        iot_not_found(resp, name);
        return;
    }
    char arn[300];
    snprintf(arn, sizeof(arn), "arn:aws:iot:%s:%s:rule/%s", req->region, req->account, name);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "ruleArn", arn);
    cJSON *rule = cJSON_AddObjectToObject(o, "rule");
    cJSON_AddStringToObject(rule, "ruleName", name);
    const char *sql = evw_json_str(p, "sql");
    cJSON_AddStringToObject(rule, "sql", sql ? sql : "");
    const char *desc = evw_json_str(p, "description");
    if (desc) {
        cJSON_AddStringToObject(rule, "description", desc);
    }
    cJSON_AddNumberToObject(rule, "createdAt", (double)(long long)created);
    const cJSON *actions = cJSON_GetObjectItemCaseSensitive(p, "actions");
    cJSON_AddItemToObject(rule, "actions",
                          actions ? cJSON_Duplicate(actions, 1) : cJSON_CreateArray());
    const cJSON *dis = cJSON_GetObjectItemCaseSensitive(p, "ruleDisabled");
    cJSON_AddBoolToObject(rule, "ruleDisabled", cJSON_IsTrue(dis));
    const char *ver = evw_json_str(p, "awsIotSqlVersion");
    cJSON_AddStringToObject(rule, "awsIotSqlVersion", ver ? ver : "2015-10-08");
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(p, "errorAction");
    if (err) {
        cJSON_AddItemToObject(rule, "errorAction", cJSON_Duplicate(err, 1));
    }
    cJSON_Delete(p);
    emu_resp_json(resp, 200, o);
}

static void iot_delete_topic_rule(struct emu_request *req, struct emu_response *resp)
{
    const char *name = emu_param(req, "ruleName");
    if (iot_check(req, resp, name, 0) != 0) {
        return;
    }
    cJSON *old = iot_load(req->account, req->region, name, NULL);
    if (old == NULL) {
        iot_not_found(resp, name);
        return;
    }
    cJSON_Delete(old);
    sqlite3_stmt *st =
        emu_stmt("DELETE FROM iot_rules WHERE account = ? AND region = ? AND name = ?");
    if (st) {
        sqlite3_bind_text(st, 1, req->account, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, req->region, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
        sqlite3_step(st);
    }
    emu_stmt_done(st);
    emu_resp_body(resp, 200, "application/json", "", 0);
}

static void iot_list_topic_rules(struct emu_request *req, struct emu_response *resp)
{
    sqlite3_stmt *st = emu_stmt("SELECT name, payload, created FROM iot_rules WHERE account = ?"
                                " AND region = ? ORDER BY name");
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    sqlite3_bind_text(st, 1, req->account, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, req->region, -1, SQLITE_TRANSIENT);
    cJSON *o = cJSON_CreateObject();
    cJSON *rules = cJSON_AddArrayToObject(o, "rules");
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        const char *pl = (const char *)sqlite3_column_text(st, 1);
        cJSON *p = cJSON_Parse(pl ? pl : "{}");
        char arn[300];
        snprintf(arn, sizeof(arn), "arn:aws:iot:%s:%s:rule/%s", req->region, req->account,
                 name ? name : "");
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "ruleArn", arn);
        cJSON_AddStringToObject(r, "ruleName", name ? name : "");
        cJSON_AddNumberToObject(r, "createdAt", (double)(long long)sqlite3_column_double(st, 2));
        cJSON_AddBoolToObject(r, "ruleDisabled",
                              cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "ruleDisabled")));
        cJSON_AddItemToArray(rules, r);
        cJSON_Delete(p);
    }
    emu_stmt_done(st);
    emu_resp_json(resp, 200, o);
}

static void iot_resource(struct emu_request *req, struct emu_buf *out)
{
    const char *name = emu_param(req, "ruleName");
    if (name) {
        emu_buf_puts(out, name);
    }
}

static const struct emu_op iot_ops[] = {
    {"CreateTopicRule", "POST", "/rules/{ruleName}", NULL, iot_create_topic_rule,
     EMU_OP_WRITE | EMU_OP_JSON},
    {"ReplaceTopicRule", "PATCH", "/rules/{ruleName}", NULL, iot_replace_topic_rule,
     EMU_OP_WRITE | EMU_OP_JSON},
    {"GetTopicRule", "GET", "/rules/{ruleName}", NULL, iot_get_topic_rule, 0},
    {"DeleteTopicRule", "DELETE", "/rules/{ruleName}", NULL, iot_delete_topic_rule, EMU_OP_WRITE},
    {"ListTopicRules", "GET", "/rules", NULL, iot_list_topic_rules, 0},
};

/* botocore (AWS CLI) signs IoT with the signing name "execute-api", which
 * the router does not map to this service. Until it does, such requests for
 * /rules... are claimed here: account and region come from the credential
 * scope; the signature itself is not verified (EMU_OP_NO_AUTH). */
static const struct emu_op iot_claimed_ops[] = {
    {"CreateTopicRule", "POST", NULL, NULL, iot_create_topic_rule,
     EMU_OP_WRITE | EMU_OP_JSON | EMU_OP_NO_AUTH},
    {"ReplaceTopicRule", "PATCH", NULL, NULL, iot_replace_topic_rule,
     EMU_OP_WRITE | EMU_OP_JSON | EMU_OP_NO_AUTH},
    {"GetTopicRule", "GET", NULL, NULL, iot_get_topic_rule, EMU_OP_NO_AUTH},
    {"DeleteTopicRule", "DELETE", NULL, NULL, iot_delete_topic_rule, EMU_OP_WRITE | EMU_OP_NO_AUTH},
    {"ListTopicRules", "GET", NULL, NULL, iot_list_topic_rules, EMU_OP_NO_AUTH},
};

static const struct emu_op *iot_claim(struct emu_request *req)
{
    const char *auth = emu_header(req, "authorization");
    const char *cred = auth ? strstr(auth, "Credential=") : NULL;
    if (cred == NULL || strncmp(req->path, "/rules", 6) != 0 ||
        (req->path[6] != 0 && req->path[6] != '/')) {
        return NULL;
    }
    /* Credential=AKID/DATE/REGION/execute-api/aws4_request */
    char scope[256];
    snprintf(scope, sizeof(scope), "%.*s", (int)strcspn(cred + 11, ", "), cred + 11);
    char *parts[5];
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(scope, "/", &save); t && n < 5; t = strtok_r(NULL, "/", &save)) {
        parts[n++] = t;
    }
    if (n != 5 || strcmp(parts[3], "execute-api") != 0) {
        return NULL;
    }
    char secret[128];
    char account[16];
    if (emu_account_lookup(parts[0], secret, sizeof(secret), account, sizeof(account)) != 0) {
        snprintf(account, sizeof(account), "%s", EMU_DEFAULT_ACCOUNT);
    }
    const char *name = req->path[6] == '/' ? req->path + 7 : NULL;
    const struct emu_op *op = NULL;
    if (name == NULL || *name == 0) {
        op = strcmp(req->method, "GET") == 0 ? &iot_claimed_ops[4] : NULL;
    } else if (strchr(name, '/') == NULL) {
        for (size_t i = 0; i < 4; i++) {
            if (strcmp(req->method, iot_claimed_ops[i].method) == 0) {
                op = &iot_claimed_ops[i];
            }
        }
        if (op) {
            char *decoded = emu_url_decode(name, strlen(name), 0);
            if (decoded == NULL) {
                return NULL;
            }
            emu_kv_set(&req->params, "ruleName", decoded);
            free(decoded);
        }
    }
    if (op) {
        snprintf(req->region, sizeof(req->region), "%s", parts[2]);
        snprintf(req->account, sizeof(req->account), "%s", account);
    }
    return op;
}

const struct emu_service svc_iot = {
    .name = "iot",
    .display = "iot",
    .protocol = EMU_PROTO_REST_JSON,
    .ops = iot_ops,
    .nops = sizeof(iot_ops) / sizeof(iot_ops[0]),
    .schema = iot_schema,
    .nschema = sizeof(iot_schema) / sizeof(iot_schema[0]),
    .resource = iot_resource,
    .claim = iot_claim,
};
