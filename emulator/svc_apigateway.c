/*
 * svc_apigateway.c - API Gateway REST (API 2015-07-09, rest-json, signing
 * name "apigateway"): the control plane, and the claim of stage URLs.
 *
 * Actions: CreateRestApi GetRestApi GetRestApis UpdateRestApi DeleteRestApi
 * GetResources GetResource CreateResource UpdateResource DeleteResource
 * PutMethod GetMethod UpdateMethod DeleteMethod TestInvokeMethod
 * PutIntegration GetIntegration UpdateIntegration DeleteIntegration
 * PutMethodResponse GetMethodResponse UpdateMethodResponse DeleteMethodResponse
 * PutIntegrationResponse GetIntegrationResponse UpdateIntegrationResponse
 * DeleteIntegrationResponse
 * CreateDeployment GetDeployment GetDeployments UpdateDeployment DeleteDeployment
 * CreateStage GetStage GetStages UpdateStage DeleteStage
 * CreateModel GetModel GetModels UpdateModel DeleteModel
 * CreateAuthorizer GetAuthorizer GetAuthorizers UpdateAuthorizer DeleteAuthorizer
 * CreateApiKey GetApiKey GetApiKeys UpdateApiKey DeleteApiKey
 * CreateUsagePlan GetUsagePlan GetUsagePlans UpdateUsagePlan DeleteUsagePlan
 * CreateUsagePlanKey GetUsagePlanKeys DeleteUsagePlanKey
 * and the data plane (apigw_invoke.c) for the three stage URL forms. The
 * parts of a resource (methods, integrations, their responses) are read
 * and patched by part_get and part_update; one handler per action puts and
 * deletes method and integration responses alike, told what differs by a
 * struct apigw_response_kind.
 *
 * Storage: apigw_objects (see apigw.h). Lists answer with the wire key
 * "item"; timestamps are epoch seconds; ids are 10 lower-case alnum chars.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "apigw.h"
#include "emu.h"

/* ------------------------------------------------------------ the store */

cJSON *apigw_obj_get(const char *account, const char *region, const char *kind, const char *parent,
                     const char *id)
{
    sqlite3_stmt *st = emu_stmt("SELECT doc FROM apigw_objects WHERE account=?1 AND region=?2 "
                                "AND kind=?3 AND parent=?4 AND id=?5");
    if (st == NULL) {
        return NULL;
    }
    cJSON *doc = NULL;
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, parent, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *txt = (const char *)sqlite3_column_text(st, 0);
        doc = txt != NULL ? cJSON_Parse(txt) : NULL;
    }
    emu_stmt_done(st);
    return doc;
}

int apigw_obj_put(const char *account, const char *region, const char *kind, const char *parent,
                  const char *id, const cJSON *doc)
{
    char *txt = cJSON_PrintUnformatted(doc);
    if (txt == NULL) {
        return -1;
    }
    sqlite3_stmt *st = emu_stmt("INSERT INTO apigw_objects(account, region, kind, parent, id, doc) "
                                "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(account, region, "
                                "kind, parent, id) DO UPDATE SET doc=excluded.doc");
    if (st == NULL) {
        free(txt);
        return -1;
    }
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, parent, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, txt, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    if (rc != 0) {
        emu_error_log("apigateway: storing %s %s failed: %s", kind, id, sqlite3_errmsg(emu_db()));
    }
    emu_stmt_done(st);
    free(txt);
    return rc;
}

int apigw_obj_del(const char *account, const char *region, const char *kind, const char *parent,
                  const char *id)
{
    sqlite3_stmt *st = emu_stmt("DELETE FROM apigw_objects WHERE account=?1 AND region=?2 AND "
                                "kind=?3 AND parent=?4 AND id=?5");
    if (st == NULL) {
        return -1;
    }
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, parent, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    emu_stmt_done(st);
    return rc;
}

cJSON *apigw_obj_list(const char *account, const char *region, const char *kind, const char *parent)
{
    cJSON *arr = cJSON_CreateArray();
    sqlite3_stmt *st = emu_stmt("SELECT doc FROM apigw_objects WHERE account=?1 AND region=?2 "
                                "AND kind=?3 AND parent=?4 ORDER BY rowid");
    if (st == NULL) {
        return arr;
    }
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, parent, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *txt = (const char *)sqlite3_column_text(st, 0);
        cJSON *doc = txt != NULL ? cJSON_Parse(txt) : NULL;
        if (doc != NULL) {
            cJSON_AddItemToArray(arr, doc);
        }
    }
    emu_stmt_done(st);
    return arr;
}

int apigw_api_locate(const char *api_id, char *account, size_t alen, char *region, size_t rlen)
{
    sqlite3_stmt *st = emu_stmt("SELECT account, region FROM apigw_objects WHERE kind='restapi' "
                                "AND id=?1 LIMIT 1");
    if (st == NULL) {
        return -1;
    }
    int rc = -1;
    sqlite3_bind_text(st, 1, api_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(account, alen, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(region, rlen, "%s", (const char *)sqlite3_column_text(st, 1));
        rc = 0;
    }
    emu_stmt_done(st);
    return rc;
}

/* Deletes every object whose parent is parent (an API's children). */
static void obj_del_children(const char *account, const char *region, const char *parent)
{
    sqlite3_stmt *st = emu_stmt("DELETE FROM apigw_objects WHERE account=?1 AND region=?2 AND "
                                "parent=?3 AND kind IN ('resource','deployment','snapshot',"
                                "'stage','authorizer','model')");
    if (st == NULL) {
        return;
    }
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, parent, -1, SQLITE_STATIC);
    sqlite3_step(st);
    emu_stmt_done(st);
}

/* ------------------------------------------------------------- helpers */

#define ACCT req->account, req->region

static void new_id(char out[16])
{
    emu_random_alnum(out, 10, 1);
}

static double now_s(void)
{
    return (double)(long long)emu_now();
}

static const char *jstr(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Copies key from src into dst when present (any type). */
static void copy_field(cJSON *dst, const cJSON *src, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, key);
    if (v != NULL && !cJSON_IsNull(v)) {
        cJSON_DeleteItemFromObjectCaseSensitive(dst, key);
        cJSON_AddItemToObject(dst, key, cJSON_Duplicate(v, 1));
    }
}

/* Copies key from src into dst when it is a non-empty object. */
static void copy_map(cJSON *dst, const cJSON *src, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, key);
    if (cJSON_IsObject(v) && v->child != NULL) {
        copy_field(dst, src, key);
    }
}

static void set_item(cJSON *obj, const char *key, cJSON *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    cJSON_AddItemToObject(obj, key, v);
}

/* Child object obj[key], created when absent. Borrowed. */
static cJSON *child_obj(cJSON *obj, const char *key)
{
    cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsObject(c)) {
        c = cJSON_CreateObject();
        set_item(obj, key, c);
    }
    return c;
}

static void reply_status(struct emu_response *resp, int status)
{
    emu_resp_body(resp, status, "application/json", "", 0);
}

/* Answers {"item": [...], "position"?}: takes items. */
static void reply_list(struct emu_request *req, struct emu_response *resp, cJSON *items)
{
    long limit = 500;
    long pos = 0;
    const char *l = emu_query(req, "limit");
    const char *p = emu_query(req, "position");
    if (l != NULL) {
        char *end = NULL;
        long v = strtol(l, &end, 10);
        if (end != l && *end == 0 && v > 0) {
            limit = v;
        }
    }
    if (p != NULL) {
        char *end = NULL;
        long v = strtol(p, &end, 10);
        if (end != p && *end == 0 && v >= 0) {
            pos = v;
        }
    }
    cJSON *out = cJSON_CreateObject();
    cJSON *page = cJSON_AddArrayToObject(out, "item");
    long n = cJSON_GetArraySize(items);
    for (long i = pos; i < n && i < pos + limit; i++) {
        cJSON_AddItemToArray(page, cJSON_Duplicate(cJSON_GetArrayItem(items, (int)i), 1));
    }
    if (pos + limit < n) {
        char b[32];
        snprintf(b, sizeof(b), "%ld", pos + limit);
        cJSON_AddStringToObject(out, "position", b);
    }
    cJSON_Delete(items);
    emu_resp_json(resp, 200, out);
}

/* Stores obj as kind/parent/id and answers status with it, or answers
 * InternalFailure when the store fails. Takes obj. */
static void store_reply(struct emu_request *req, struct emu_response *resp, const char *kind,
                        const char *parent, const char *id, cJSON *obj, int status)
{
    if (apigw_obj_put(ACCT, kind, parent, id, obj) != 0) {
        cJSON_Delete(obj);
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    emu_resp_json(resp, status, obj);
}

static const char *api_id(struct emu_request *req)
{
    const char *v = emu_param(req, "restapi_id");
    return v != NULL ? v : "";
}

/* Loads the rest API or answers NotFound. Caller deletes. */
static cJSON *load_api(struct emu_request *req, struct emu_response *resp)
{
    cJSON *api = apigw_obj_get(ACCT, "restapi", "", api_id(req));
    if (api == NULL) {
        emu_fail(resp, APIGW_NOT_FOUND, "Invalid API identifier specified %s:%s", req->account,
                 api_id(req));
    }
    return api;
}

/* 1 when the path's rest API exists, else 0 after answering NotFound. */
static int api_exists(struct emu_request *req, struct emu_response *resp)
{
    cJSON *api = load_api(req, resp);
    if (api == NULL) {
        return 0;
    }
    cJSON_Delete(api);
    return 1;
}

/* The path API's object of kind with id `id` (NULL: none), caller
 * deletes; NULL after answering NotFound for the API or with "Invalid
 * <what> identifier specified". */
static cJSON *load_child(struct emu_request *req, struct emu_response *resp, const char *kind,
                         const char *id, const char *what)
{
    if (!api_exists(req, resp)) {
        return NULL;
    }
    cJSON *obj = apigw_obj_get(ACCT, kind, api_id(req), id != NULL ? id : "");
    if (obj == NULL) {
        emu_fail(resp, APIGW_NOT_FOUND, "Invalid %s identifier specified", what);
    }
    return obj;
}

static cJSON *load_resource(struct emu_request *req, struct emu_response *resp, const char *rid)
{
    return load_child(req, resp, "resource", rid, "Resource");
}

/* The method (borrowed from res) named by the http_method param, or NULL
 * after answering NotFound. */
static cJSON *find_method(struct emu_request *req, struct emu_response *resp, cJSON *res)
{
    const char *m = emu_param(req, "http_method");
    cJSON *methods = cJSON_GetObjectItemCaseSensitive(res, "resourceMethods");
    cJSON *method = m != NULL ? cJSON_GetObjectItemCaseSensitive(methods, m) : NULL;
    if (method == NULL) {
        emu_fail(resp, APIGW_NOT_FOUND, "Invalid Method identifier specified");
    }
    return method;
}

static int save_resource(struct emu_request *req, struct emu_response *resp, const cJSON *res)
{
    if (apigw_obj_put(ACCT, "resource", api_id(req), jstr(res, "id"), res) != 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return -1;
    }
    return 0;
}

/* Is v one of the listed strings? */
static int one_of(const char *v, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++) {
        if (strcmp(v, list[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* -------------------------------------------------------- patch operations */

enum patch_type { PT_STR, PT_BOOL, PT_INT, PT_MAP_STR, PT_MAP_BOOL };

struct patch_rule {
    const char *path; /* "/name", or "/variables/" for map entries */
    enum patch_type type;
};

static char *unescape_pointer(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n + 1);
    if (out == NULL) {
        abort();
    }
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '~' && s[i + 1] == '1') {
            out[j++] = '/';
            i++;
        } else if (s[i] == '~' && s[i + 1] == '0') {
            out[j++] = '~';
            i++;
        } else {
            out[j++] = s[i];
        }
    }
    out[j] = 0;
    return out;
}

static cJSON *typed_value(enum patch_type t, const char *v)
{
    if (t == PT_BOOL || t == PT_MAP_BOOL) {
        return cJSON_CreateBool(v != NULL && strcasecmp(v, "true") == 0);
    }
    if (t == PT_INT) {
        return cJSON_CreateNumber(v != NULL ? strtod(v, NULL) : 0);
    }
    return cJSON_CreateString(v != NULL ? v : "");
}

/* Applies patch operations (an array) to doc, only on paths listed in
 * rules. Returns 0, or -1 after answering BadRequest. */
static int apply_patch_ops(struct emu_response *resp, cJSON *doc, const cJSON *ops,
                           const struct patch_rule *rules)
{
    const cJSON *op;
    cJSON_ArrayForEach(op, ops)
    {
        const char *o = jstr(op, "op");
        const char *path = jstr(op, "path");
        const char *value = jstr(op, "value");
        if (o == NULL || path == NULL) {
            emu_fail(resp, APIGW_BAD_REQUEST, "Invalid patch operation specified.");
            return -1;
        }
        int remove = strcmp(o, "remove") == 0;
        if (!remove && strcmp(o, "replace") != 0 && strcmp(o, "add") != 0) {
            emu_fail(resp, APIGW_BAD_REQUEST,
                     "Invalid patch operation specified. Must be one of: [add, remove, replace]");
            return -1;
        }
        const struct patch_rule *rule = NULL;
        for (size_t i = 0; rules[i].path != NULL; i++) {
            size_t n = strlen(rules[i].path);
            int is_map = rules[i].path[n - 1] == '/';
            if (is_map ? (strncmp(path, rules[i].path, n) == 0 && path[n] != 0)
                       : strcmp(path, rules[i].path) == 0) {
                rule = &rules[i];
                break;
            }
        }
        if (rule == NULL) {
            emu_fail(resp, APIGW_BAD_REQUEST, "Invalid patch path '%s' specified for op '%s'.",
                     path, o);
            return -1;
        }
        if (rule->type == PT_MAP_STR || rule->type == PT_MAP_BOOL) {
            size_t n = strlen(rule->path);
            char field[128];
            snprintf(field, sizeof(field), "%.*s", (int)(n - 2), rule->path + 1);
            char *key = unescape_pointer(path + n);
            cJSON *map = child_obj(doc, field);
            cJSON_DeleteItemFromObjectCaseSensitive(map, key);
            if (!remove) {
                cJSON_AddItemToObject(map, key, typed_value(rule->type, value));
            }
            free(key);
            continue;
        }
        if (remove) {
            cJSON_DeleteItemFromObjectCaseSensitive(doc, rule->path + 1);
        } else {
            set_item(doc, rule->path + 1, typed_value(rule->type, value));
        }
    }
    return 0;
}

/* Applies req's patchOperations to doc (see apply_patch_ops). */
static int apply_patch(struct emu_request *req, struct emu_response *resp, cJSON *doc,
                       const struct patch_rule *rules)
{
    return apply_patch_ops(resp, doc,
                           cJSON_GetObjectItemCaseSensitive(req->json, "patchOperations"), rules);
}

/* Get* of a part of a resource (a method, its integration, one of their
 * responses): answers 200 with the part find picks from the path's
 * resource; find answers NotFound when there is none. */
static void part_get(struct emu_request *req, struct emu_response *resp,
                     cJSON *(*find)(struct emu_request *, struct emu_response *, cJSON *))
{
    cJSON *res = load_resource(req, resp, emu_param(req, "resource_id"));
    if (res == NULL) {
        return;
    }
    cJSON *part = find(req, resp, res);
    if (part != NULL) {
        emu_resp_json(resp, 200, cJSON_Duplicate(part, 1));
    }
    cJSON_Delete(res);
}

/* Update* of such a part: applies the request's patch operations (on the
 * paths rules allow) to it, saves the resource and answers status with
 * the part. */
static void part_update(struct emu_request *req, struct emu_response *resp,
                        cJSON *(*find)(struct emu_request *, struct emu_response *, cJSON *),
                        const struct patch_rule *rules, int status)
{
    cJSON *res = load_resource(req, resp, emu_param(req, "resource_id"));
    if (res == NULL) {
        return;
    }
    cJSON *part = find(req, resp, res);
    if (part != NULL && apply_patch(req, resp, part, rules) == 0 &&
        save_resource(req, resp, res) == 0) {
        emu_resp_json(resp, status, cJSON_Duplicate(part, 1));
    }
    cJSON_Delete(res);
}

/* Stage method settings: "/{resource}/{method}/{group}/{name}" paths. */
struct method_setting {
    const char *path; /* group/name */
    const char *field;
    enum patch_type type;
};

static const struct method_setting method_settings[] = {
    {"logging/loglevel", "loggingLevel", PT_STR},
    {"logging/dataTrace", "dataTraceEnabled", PT_BOOL},
    {"metrics/enabled", "metricsEnabled", PT_BOOL},
    {"throttling/burstLimit", "throttlingBurstLimit", PT_INT},
    {"throttling/rateLimit", "throttlingRateLimit", PT_INT},
    {"caching/enabled", "cachingEnabled", PT_BOOL},
    {"caching/ttlInSeconds", "cacheTtlInSeconds", PT_INT},
    {"caching/dataEncrypted", "cacheDataEncrypted", PT_BOOL},
    {"caching/requireAuthorizationForCacheControl", "requireAuthorizationForCacheControl", PT_BOOL},
    {"caching/unauthorizedCacheControlHeaderStrategy", "unauthorizedCacheControlHeaderStrategy",
     PT_STR},
    {NULL, NULL, PT_STR},
};

static cJSON *method_setting_defaults(void)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddBoolToObject(m, "metricsEnabled", 0);
    cJSON_AddStringToObject(m, "loggingLevel", "OFF");
    cJSON_AddBoolToObject(m, "dataTraceEnabled", 0);
    cJSON_AddNumberToObject(m, "throttlingBurstLimit", 5000);
    cJSON_AddNumberToObject(m, "throttlingRateLimit", 10000.0);
    cJSON_AddBoolToObject(m, "cachingEnabled", 0);
    cJSON_AddNumberToObject(m, "cacheTtlInSeconds", 300);
    cJSON_AddBoolToObject(m, "cacheDataEncrypted", 0);
    cJSON_AddBoolToObject(m, "requireAuthorizationForCacheControl", 1);
    cJSON_AddStringToObject(m, "unauthorizedCacheControlHeaderStrategy",
                            "SUCCEED_WITH_RESPONSE_HEADER");
    return m;
}

/* Applies one method-setting op to the stage. Returns 1 when op was one
 * (applied), 0 when it is not a method-setting path. */
static int apply_method_setting(cJSON *stage, const cJSON *op)
{
    const char *path = jstr(op, "path");
    const char *o = jstr(op, "op");
    if (path == NULL || o == NULL || path[0] != '/') {
        return 0;
    }
    /* /res/method/group/name: res may be "*" or an escaped path (~1) */
    const char *p1 = strchr(path + 1, '/');
    const char *p2 = p1 != NULL ? strchr(p1 + 1, '/') : NULL;
    if (p1 == NULL || p2 == NULL) {
        return 0;
    }
    const struct method_setting *ms = NULL;
    for (size_t i = 0; method_settings[i].path != NULL; i++) {
        if (strcmp(p2 + 1, method_settings[i].path) == 0) {
            ms = &method_settings[i];
        }
    }
    if (ms == NULL) {
        return 0;
    }
    char raw[512];
    snprintf(raw, sizeof(raw), "%.*s", (int)(p2 - path - 1), path + 1);
    char *key = unescape_pointer(raw);
    cJSON *settings = child_obj(stage, "methodSettings");
    cJSON *m = cJSON_GetObjectItemCaseSensitive(settings, key);
    if (m == NULL) {
        m = method_setting_defaults();
        cJSON_AddItemToObject(settings, key, m);
    }
    if (strcmp(o, "remove") == 0) {
        cJSON_DeleteItemFromObjectCaseSensitive(settings, key);
    } else {
        set_item(m, ms->field, typed_value(ms->type, jstr(op, "value")));
    }
    free(key);
    return 1;
}

static int add_default_models(struct emu_request *req, const char *api);

/* ------------------------------------------------------------ rest APIs */

static void apigw_create_rest_api(struct emu_request *req, struct emu_response *resp)
{
    const char *name = jstr(req->json, "name");
    if (name == NULL || *name == 0) {
        emu_fail(resp, APIGW_BAD_REQUEST, "Invalid REST API name specified");
        return;
    }
    char id[16];
    char root[16];
    new_id(id);
    new_id(root);
    cJSON *api = cJSON_CreateObject();
    cJSON_AddStringToObject(api, "id", id);
    cJSON_AddStringToObject(api, "name", name);
    copy_field(api, req->json, "description");
    copy_field(api, req->json, "version");
    cJSON_AddNumberToObject(api, "createdDate", now_s());
    copy_field(api, req->json, "binaryMediaTypes");
    copy_field(api, req->json, "minimumCompressionSize");
    cJSON_AddStringToObject(api, "apiKeySource", "HEADER");
    cJSON *ec = cJSON_GetObjectItemCaseSensitive(req->json, "endpointConfiguration");
    if (cJSON_IsObject(ec)) {
        cJSON_AddItemToObject(api, "endpointConfiguration", cJSON_Duplicate(ec, 1));
    } else {
        cJSON *e = cJSON_AddObjectToObject(api, "endpointConfiguration");
        cJSON *types = cJSON_AddArrayToObject(e, "types");
        cJSON_AddItemToArray(types, cJSON_CreateString("EDGE"));
    }
    copy_field(api, req->json, "apiKeySource");
    copy_field(api, req->json, "policy");
    copy_field(api, req->json, "tags");
    cJSON_AddBoolToObject(
        api, "disableExecuteApiEndpoint",
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req->json, "disableExecuteApiEndpoint")));
    cJSON_AddStringToObject(api, "rootResourceId", root);
    cJSON *res = cJSON_CreateObject();
    cJSON_AddStringToObject(res, "id", root);
    cJSON_AddStringToObject(res, "path", "/");
    if (apigw_obj_put(ACCT, "restapi", "", id, api) != 0 ||
        apigw_obj_put(ACCT, "resource", id, root, res) != 0 || add_default_models(req, id) != 0) {
        cJSON_Delete(api);
        cJSON_Delete(res);
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    cJSON_Delete(res);
    emu_resp_json(resp, 201, api);
}

static void apigw_get_rest_api(struct emu_request *req, struct emu_response *resp)
{
    cJSON *api = load_api(req, resp);
    if (api != NULL) {
        emu_resp_json(resp, 200, api);
    }
}

static void apigw_get_rest_apis(struct emu_request *req, struct emu_response *resp)
{
    reply_list(req, resp, apigw_obj_list(ACCT, "restapi", ""));
}

static void apigw_update_rest_api(struct emu_request *req, struct emu_response *resp)
{
    static const struct patch_rule rules[] = {
        {"/name", PT_STR},
        {"/description", PT_STR},
        {"/apiKeySource", PT_STR},
        {"/policy", PT_STR},
        {"/version", PT_STR},
        {"/disableExecuteApiEndpoint", PT_BOOL},
        {"/minimumCompressionSize", PT_INT},
        {NULL, PT_STR},
    };
    cJSON *api = load_api(req, resp);
    if (api == NULL) {
        return;
    }
    /* /binaryMediaTypes/<type> add and remove edit the list */
    cJSON *rest = cJSON_CreateArray();
    const cJSON *op;
    cJSON_ArrayForEach(op, cJSON_GetObjectItemCaseSensitive(req->json, "patchOperations"))
    {
        const char *path = jstr(op, "path");
        const char *o = jstr(op, "op");
        if (path == NULL || o == NULL || strncmp(path, "/binaryMediaTypes/", 18) != 0) {
            cJSON_AddItemToArray(rest, cJSON_Duplicate(op, 1));
            continue;
        }
        char *type = unescape_pointer(path + 18);
        cJSON *list = cJSON_GetObjectItemCaseSensitive(api, "binaryMediaTypes");
        if (!cJSON_IsArray(list)) {
            list = cJSON_CreateArray();
            set_item(api, "binaryMediaTypes", list);
        }
        cJSON *it = list->child;
        while (it != NULL) {
            cJSON *next = it->next;
            if (cJSON_IsString(it) && strcmp(it->valuestring, type) == 0) {
                cJSON_Delete(cJSON_DetachItemViaPointer(list, it));
            }
            it = next;
        }
        if (strcmp(o, "remove") != 0) {
            cJSON_AddItemToArray(list, cJSON_CreateString(type));
        }
        free(type);
    }
    int prc = apply_patch_ops(resp, api, rest, rules);
    cJSON_Delete(rest);
    if (prc != 0) {
        cJSON_Delete(api);
        return;
    }
    set_item(api, "id", cJSON_CreateString(api_id(req)));
    store_reply(req, resp, "restapi", "", api_id(req), api, 200);
}

static void apigw_delete_rest_api(struct emu_request *req, struct emu_response *resp)
{
    if (!api_exists(req, resp)) {
        return;
    }
    obj_del_children(ACCT, api_id(req));
    apigw_obj_del(ACCT, "restapi", "", api_id(req));
    reply_status(resp, 202);
}

/* ------------------------------------------------------------ resources */

/* Resource as GetResources shows it: without embed, methods are {}. */
static cJSON *resource_view(const cJSON *res, int embed)
{
    cJSON *v = cJSON_Duplicate(res, 1);
    cJSON *methods = cJSON_GetObjectItemCaseSensitive(v, "resourceMethods");
    if (methods != NULL && cJSON_GetArraySize(methods) == 0) {
        cJSON_DeleteItemFromObjectCaseSensitive(v, "resourceMethods");
    } else if (methods != NULL && !embed) {
        cJSON *m;
        cJSON_ArrayForEach(m, methods)
        {
            cJSON *empty = cJSON_CreateObject();
            cJSON_ReplaceItemViaPointer(methods, m, empty);
            m = empty;
        }
    }
    return v;
}

static int embed_methods(struct emu_request *req)
{
    for (size_t i = 0; i < req->query.n; i++) {
        if (strcmp(req->query.items[i].key, "embed") == 0 &&
            strstr(req->query.items[i].value, "methods") != NULL) {
            return 1;
        }
    }
    return 0;
}

static void apigw_get_resources(struct emu_request *req, struct emu_response *resp)
{
    if (!api_exists(req, resp)) {
        return;
    }
    cJSON *all = apigw_obj_list(ACCT, "resource", api_id(req));
    cJSON *items = cJSON_CreateArray();
    int embed = embed_methods(req);
    const cJSON *r;
    cJSON_ArrayForEach(r, all)
    {
        cJSON_AddItemToArray(items, resource_view(r, embed));
    }
    cJSON_Delete(all);
    reply_list(req, resp, items);
}

static void apigw_get_resource(struct emu_request *req, struct emu_response *resp)
{
    cJSON *res = load_resource(req, resp, emu_param(req, "resource_id"));
    if (res == NULL) {
        return;
    }
    cJSON *v = resource_view(res, embed_methods(req));
    cJSON_Delete(res);
    emu_resp_json(resp, 200, v);
}

static int valid_path_part(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > 255) {
        return 0;
    }
    if (p[0] == '{') {
        if (p[n - 1] != '}' || n < 3) {
            return 0;
        }
        size_t end = n - 1;
        if (p[end - 1] == '+') {
            end--;
        }
        for (size_t i = 1; i < end; i++) {
            if (!isalnum((unsigned char)p[i]) && p[i] != '_' && p[i] != '-' && p[i] != '.') {
                return 0;
            }
        }
        return end > 1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (!isalnum(c) && strchr("-._~:@!$&'()*+,;=%", c) == NULL) {
            return 0;
        }
    }
    return 1;
}

static void apigw_create_resource(struct emu_request *req, struct emu_response *resp)
{
    cJSON *parent = load_resource(req, resp, emu_param(req, "parent_id"));
    if (parent == NULL) {
        return;
    }
    const char *part = jstr(req->json, "pathPart");
    cJSON *all = NULL;
    if (part == NULL || !valid_path_part(part)) {
        emu_fail(resp, APIGW_BAD_REQUEST,
                 "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning "
                 "and the end and an optional plus sign before the closing brace.");
        goto out;
    }
    const char *pid = jstr(parent, "id");
    const char *ppath = jstr(parent, "path");
    const char *ppart = jstr(parent, "pathPart");
    if (ppart != NULL && ppart[0] == '{' && strstr(ppart, "+}") != NULL) {
        emu_fail(resp, APIGW_BAD_REQUEST,
                 "Cannot create a child of a resource with a greedy path "
                 "variable: %s",
                 ppath);
        goto out;
    }
    all = apigw_obj_list(ACCT, "resource", api_id(req));
    const cJSON *r;
    cJSON_ArrayForEach(r, all)
    {
        const char *rp = jstr(r, "parentId");
        const char *rpart = jstr(r, "pathPart");
        if (rp == NULL || rpart == NULL || strcmp(rp, pid) != 0) {
            continue;
        }
        if (strcmp(rpart, part) == 0) {
            emu_fail(resp, APIGW_CONFLICT,
                     "Another resource with the same parent already has this name: %s", part);
            goto out;
        }
        if (rpart[0] == '{' && part[0] == '{') {
            emu_fail(resp, APIGW_BAD_REQUEST,
                     "A sibling (%s) of this resource already has a variable path part -- only "
                     "one is allowed",
                     rpart);
            goto out;
        }
    }
    char id[16];
    new_id(id);
    struct emu_buf path = {0};
    emu_buf_puts(&path, ppath != NULL && strcmp(ppath, "/") != 0 ? ppath : "");
    emu_buf_printf(&path, "/%s", part);
    cJSON *res = cJSON_CreateObject();
    cJSON_AddStringToObject(res, "id", id);
    cJSON_AddStringToObject(res, "parentId", pid);
    cJSON_AddStringToObject(res, "pathPart", part);
    cJSON_AddStringToObject(res, "path", path.data);
    emu_buf_release(&path);
    if (save_resource(req, resp, res) != 0) {
        cJSON_Delete(res);
        goto out;
    }
    emu_resp_json(resp, 201, res);
out:
    cJSON_Delete(all);
    cJSON_Delete(parent);
}

/* UpdateResource: /pathPart (rename) and /parentId (move); the paths of
 * the resource and its subtree follow. */
static void apigw_update_resource(struct emu_request *req, struct emu_response *resp)
{
    const char *rid = emu_param(req, "resource_id");
    cJSON *res = load_resource(req, resp, rid);
    cJSON *all = NULL;
    if (res == NULL) {
        return;
    }
    if (jstr(res, "parentId") == NULL) {
        emu_fail(resp, APIGW_BAD_REQUEST, "Cannot update the root resource");
        goto out;
    }
    const cJSON *op;
    cJSON_ArrayForEach(op, cJSON_GetObjectItemCaseSensitive(req->json, "patchOperations"))
    {
        const char *o = jstr(op, "op");
        const char *path = jstr(op, "path");
        const char *value = jstr(op, "value");
        if (o == NULL || path == NULL || value == NULL || strcmp(o, "replace") != 0 ||
            (strcmp(path, "/pathPart") != 0 && strcmp(path, "/parentId") != 0)) {
            emu_fail(resp, APIGW_BAD_REQUEST, "Invalid patch path '%s' specified for op '%s'.",
                     path != NULL ? path : "", o != NULL ? o : "");
            goto out;
        }
        if (strcmp(path, "/pathPart") == 0 && !valid_path_part(value)) {
            emu_fail(resp, APIGW_BAD_REQUEST, "Invalid path part specified: %s", value);
            goto out;
        }
        set_item(res, path + 1, cJSON_CreateString(value));
    }
    all = apigw_obj_list(ACCT, "resource", api_id(req));
    const char *pid = jstr(res, "parentId");
    const char *part = jstr(res, "pathPart");
    const cJSON *parent = NULL;
    cJSON *r;
    cJSON_ArrayForEach(r, all)
    {
        const char *id = jstr(r, "id");
        if (id != NULL && strcmp(id, pid) == 0) {
            parent = r;
        }
        if (id != NULL && strcmp(id, rid) != 0 && jstr(r, "parentId") != NULL &&
            strcmp(jstr(r, "parentId"), pid) == 0 && jstr(r, "pathPart") != NULL &&
            strcmp(jstr(r, "pathPart"), part) == 0) {
            emu_fail(resp, APIGW_CONFLICT,
                     "Another resource with the same parent already has this name: %s", part);
            goto out;
        }
    }
    if (parent == NULL) {
        emu_fail(resp, APIGW_NOT_FOUND, "Invalid Resource identifier specified");
        goto out;
    }
    /* no cycles: the new parent must not be in the subtree */
    for (const cJSON *a = parent; a != NULL;) {
        const char *aid = jstr(a, "id");
        if (aid != NULL && strcmp(aid, rid) == 0) {
            emu_fail(resp, APIGW_BAD_REQUEST, "A resource cannot be moved under itself");
            goto out;
        }
        const char *ap = jstr(a, "parentId");
        const cJSON *next = NULL;
        cJSON_ArrayForEach(r, all)
        {
            if (ap != NULL && jstr(r, "id") != NULL && strcmp(jstr(r, "id"), ap) == 0) {
                next = r;
            }
        }
        a = next;
    }
    /* the resource, then its subtree, breadth first */
    const char *pp = jstr(parent, "path");
    struct emu_buf np = {0};
    emu_buf_printf(&np, "%s/%s", pp != NULL && strcmp(pp, "/") != 0 ? pp : "", part);
    set_item(res, "path", cJSON_CreateString(np.data));
    emu_buf_release(&np);
    if (save_resource(req, resp, res) != 0) {
        goto out;
    }
    cJSON *queue = cJSON_CreateArray();
    cJSON_AddItemToArray(queue, cJSON_Duplicate(res, 1));
    while (cJSON_GetArraySize(queue) > 0) {
        cJSON *cur = cJSON_DetachItemFromArray(queue, 0);
        cJSON_ArrayForEach(r, all)
        {
            const char *rp = jstr(r, "parentId");
            if (rp == NULL || strcmp(rp, jstr(cur, "id")) != 0) {
                continue;
            }
            struct emu_buf cp = {0};
            emu_buf_printf(&cp, "%s/%s", jstr(cur, "path"), jstr(r, "pathPart"));
            set_item(r, "path", cJSON_CreateString(cp.data));
            emu_buf_release(&cp);
            if (save_resource(req, resp, r) != 0) {
                cJSON_Delete(cur);
                cJSON_Delete(queue);
                goto out;
            }
            cJSON_AddItemToArray(queue, cJSON_Duplicate(r, 1));
        }
        cJSON_Delete(cur);
    }
    cJSON_Delete(queue);
    emu_resp_json(resp, 200, resource_view(res, 0));
out:
    cJSON_Delete(all);
    cJSON_Delete(res);
}

static void apigw_delete_resource(struct emu_request *req, struct emu_response *resp)
{
    const char *rid = emu_param(req, "resource_id");
    cJSON *res = load_resource(req, resp, rid);
    if (res == NULL) {
        return;
    }
    if (jstr(res, "parentId") == NULL) {
        cJSON_Delete(res);
        emu_fail(resp, APIGW_BAD_REQUEST, "Cannot delete the root resource");
        return;
    }
    cJSON_Delete(res);
    /* delete the subtree: repeat until no resource has a deleted parent */
    cJSON *all = apigw_obj_list(ACCT, "resource", api_id(req));
    struct emu_kvlist gone = {0};
    emu_kv_add(&gone, rid, "");
    int changed = 1;
    while (changed) {
        changed = 0;
        const cJSON *r;
        cJSON_ArrayForEach(r, all)
        {
            const char *p = jstr(r, "parentId");
            const char *id = jstr(r, "id");
            if (p != NULL && id != NULL && emu_kv_has(&gone, p) && !emu_kv_has(&gone, id)) {
                emu_kv_add(&gone, id, "");
                changed = 1;
            }
        }
    }
    for (size_t i = 0; i < gone.n; i++) {
        apigw_obj_del(ACCT, "resource", api_id(req), gone.items[i].key);
    }
    emu_kv_release(&gone);
    cJSON_Delete(all);
    reply_status(resp, 202);
}

/* -------------------------------------------------------------- methods */

static const char *const http_methods[] = {"GET",  "POST",    "PUT", "DELETE", "PATCH",
                                           "HEAD", "OPTIONS", "ANY", NULL};

static void apigw_put_method(struct emu_request *req, struct emu_response *resp)
{
    cJSON *res = load_resource(req, resp, emu_param(req, "resource_id"));
    if (res == NULL) {
        return;
    }
    const char *m = emu_param(req, "http_method");
    const char *auth = jstr(req->json, "authorizationType");
    if (m == NULL || !one_of(m, http_methods)) {
        emu_fail(resp, APIGW_BAD_REQUEST,
                 "Invalid HttpMethod specified. Valid options are "
                 "GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY");
        goto out;
    }
    if (auth == NULL) {
        emu_fail(resp, APIGW_BAD_REQUEST,
                 "Invalid authorization type specified. Valid options "
                 "are NONE,AWS_IAM,CUSTOM,COGNITO_USER_POOLS");
        goto out;
    }
    static const char *const auths[] = {"NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS", NULL};
    char authu[32];
    snprintf(authu, sizeof(authu), "%s", auth);
    for (char *p = authu; *p; p++) {
        *p = (char)toupper((unsigned char)*p);
    }
    if (!one_of(authu, auths)) {
        emu_fail(resp, APIGW_BAD_REQUEST,
                 "Invalid authorization type specified. Valid options "
                 "are NONE,AWS_IAM,CUSTOM,COGNITO_USER_POOLS");
        goto out;
    }
    const char *authorizer = jstr(req->json, "authorizerId");
    if (strcmp(authu, "CUSTOM") == 0) {
        cJSON *a =
            authorizer != NULL ? apigw_obj_get(ACCT, "authorizer", api_id(req), authorizer) : NULL;
        if (a == NULL) {
            emu_fail(resp, APIGW_BAD_REQUEST,
                     "Invalid authorizer ID specified. Setting the "
                     "authorization type to CUSTOM requires a valid "
                     "authorizer.");
            goto out;
        }
        cJSON_Delete(a);
    }
    cJSON *methods = child_obj(res, "resourceMethods");
    if (cJSON_GetObjectItemCaseSensitive(methods, m) != NULL) {
        emu_fail(resp, APIGW_CONFLICT, "Method already exists for this resource");
        goto out;
    }
    cJSON *method = cJSON_CreateObject();
    cJSON_AddStringToObject(method, "httpMethod", m);
    cJSON_AddStringToObject(method, "authorizationType", authu);
    if (authorizer != NULL && strcmp(authu, "CUSTOM") == 0) {
        cJSON_AddStringToObject(method, "authorizerId", authorizer);
    }
    cJSON_AddBoolToObject(
        method, "apiKeyRequired",
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req->json, "apiKeyRequired")));
    copy_field(method, req->json, "operationName");
    copy_field(method, req->json, "requestValidatorId");
    copy_map(method, req->json, "requestParameters");
    copy_map(method, req->json, "requestModels");
    copy_field(method, req->json, "authorizationScopes");
    cJSON_AddItemToObject(methods, m, method);
    if (save_resource(req, resp, res) == 0) {
        emu_resp_json(resp, 201, cJSON_Duplicate(method, 1));
    }
out:
    cJSON_Delete(res);
}

static void apigw_get_method(struct emu_request *req, struct emu_response *resp)
{
    part_get(req, resp, find_method);
}

static void apigw_update_method(struct emu_request *req, struct emu_response *resp)
{
    static const struct patch_rule rules[] = {
        {"/authorizationType", PT_STR},  {"/authorizerId", PT_STR},
        {"/apiKeyRequired", PT_BOOL},    {"/operationName", PT_STR},
        {"/requestValidatorId", PT_STR}, {"/requestParameters/", PT_MAP_BOOL},
        {"/requestModels/", PT_MAP_STR}, {NULL, PT_STR},
    };
    part_update(req, resp, find_method, rules, 200);
}

static void apigw_delete_method(struct emu_request *req, struct emu_response *resp)
{
    cJSON *res = load_resource(req, resp, emu_param(req, "resource_id"));
    if (res == NULL) {
        return;
    }
    cJSON *method = find_method(req, resp, res);
    if (method != NULL) {
        cJSON_DeleteItemFromObjectCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(res, "resourceMethods"),
            emu_param(req, "http_method"));
        if (save_resource(req, resp, res) == 0) {
            reply_status(resp, 204);
        }
    }
    cJSON_Delete(res);
}

/* --------------------------------------------------------- integrations */

static const char *const integration_types[] = {"HTTP",       "AWS",       "MOCK",
                                                "HTTP_PROXY", "AWS_PROXY", NULL};

static void apigw_put_integration(struct emu_request *req, struct emu_response *resp)
{
    cJSON *res = load_resource(req, resp, emu_param(req, "resource_id"));
    if (res == NULL) {
        return;
    }
    cJSON *method = find_method(req, resp, res);
    if (method == NULL) {
        goto out;
    }
    const char *type = jstr(req->json, "type");
    const char *uri = jstr(req->json, "uri");
    const char *hm = jstr(req->json, "httpMethod");
    if (hm == NULL) {
        /* the SDK parameter name, sent by hand-written clients */
        hm = jstr(req->json, "integrationHttpMethod");
    }
    if (type == NULL || !one_of(type, integration_types)) {
        emu_fail(resp, APIGW_BAD_REQUEST,
                 "Enumeration value for IntegrationType must be "
                 "non-empty");
        goto out;
    }
    if (strcmp(type, "MOCK") != 0) {
        if (uri == NULL || *uri == 0) {
            emu_fail(resp, APIGW_BAD_REQUEST, "Invalid integration URI specified");
            goto out;
        }
        if (hm == NULL || *hm == 0) {
            emu_fail(resp, APIGW_BAD_REQUEST,
                     "Enumeration value for HttpMethod must be "
                     "non-empty");
            goto out;
        }
        if (strncmp(type, "AWS", 3) == 0 && strncmp(uri, "arn:aws:apigateway:", 19) != 0) {
            emu_fail(resp, APIGW_BAD_REQUEST,
                     "AWS ARN for integration must contain path or "
                     "action");
            goto out;
        }
        if (strncmp(type, "HTTP", 4) == 0 && strncmp(uri, "http://", 7) != 0 &&
            strncmp(uri, "https://", 8) != 0) {
            emu_fail(resp, APIGW_BAD_REQUEST, "Invalid HTTP endpoint specified for URI");
            goto out;
        }
    }
    const char *pb = jstr(req->json, "passthroughBehavior");
    static const char *const pbs[] = {"WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER", NULL};
    if (pb != NULL && !one_of(pb, pbs)) {
        emu_fail(resp, APIGW_BAD_REQUEST, "Invalid passthrough behavior specified: %s", pb);
        goto out;
    }
    const char *ch = jstr(req->json, "contentHandling");
    static const char *const chs[] = {"CONVERT_TO_BINARY", "CONVERT_TO_TEXT", NULL};
    if (ch != NULL && !one_of(ch, chs)) {
        emu_fail(resp, APIGW_BAD_REQUEST, "Invalid content handling specified: %s", ch);
        goto out;
    }
    cJSON *in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "type", type);
    if (hm != NULL && strcmp(type, "MOCK") != 0) {
        cJSON_AddStringToObject(in, "httpMethod", hm);
    }
    if (uri != NULL) {
        cJSON_AddStringToObject(in, "uri", uri);
    }
    copy_field(in, req->json, "connectionType");
    copy_field(in, req->json, "connectionId");
    copy_field(in, req->json, "credentials");
    copy_map(in, req->json, "requestParameters");
    copy_map(in, req->json, "requestTemplates");
    cJSON_AddStringToObject(in, "passthroughBehavior", pb != NULL ? pb : "WHEN_NO_MATCH");
    if (ch != NULL) {
        cJSON_AddStringToObject(in, "contentHandling", ch);
    }
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(req->json, "timeoutInMillis");
    cJSON_AddNumberToObject(in, "timeoutInMillis", cJSON_IsNumber(to) ? to->valuedouble : 29000);
    const char *ns = jstr(req->json, "cacheNamespace");
    cJSON_AddStringToObject(in, "cacheNamespace", ns != NULL ? ns : jstr(res, "id"));
    const cJSON *ck = cJSON_GetObjectItemCaseSensitive(req->json, "cacheKeyParameters");
    cJSON_AddItemToObject(in, "cacheKeyParameters",
                          cJSON_IsArray(ck) ? cJSON_Duplicate(ck, 1) : cJSON_CreateArray());
    /* integration responses survive a re-put of the integration */
    cJSON *old = cJSON_GetObjectItemCaseSensitive(method, "methodIntegration");
    cJSON *oldr =
        old != NULL ? cJSON_GetObjectItemCaseSensitive(old, "integrationResponses") : NULL;
    if (oldr != NULL) {
        cJSON_AddItemToObject(in, "integrationResponses", cJSON_Duplicate(oldr, 1));
    }
    set_item(method, "methodIntegration", in);
    if (save_resource(req, resp, res) == 0) {
        emu_resp_json(resp, 201, cJSON_Duplicate(in, 1));
    }
out:
    cJSON_Delete(res);
}

/* The method's integration (borrowed), or NULL after answering NotFound. */
static cJSON *find_integration(struct emu_request *req, struct emu_response *resp, cJSON *res)
{
    cJSON *method = find_method(req, resp, res);
    if (method == NULL) {
        return NULL;
    }
    cJSON *in = cJSON_GetObjectItemCaseSensitive(method, "methodIntegration");
    if (in == NULL) {
        emu_fail(resp, APIGW_NOT_FOUND, "No integration defined for method");
    }
    return in;
}

static void apigw_get_integration(struct emu_request *req, struct emu_response *resp)
{
    part_get(req, resp, find_integration);
}

static void apigw_update_integration(struct emu_request *req, struct emu_response *resp)
{
    static const struct patch_rule rules[] = {
        {"/uri", PT_STR},
        {"/httpMethod", PT_STR},
        {"/type", PT_STR},
        {"/passthroughBehavior", PT_STR},
        {"/contentHandling", PT_STR},
        {"/credentials", PT_STR},
        {"/connectionType", PT_STR},
        {"/connectionId", PT_STR},
        {"/cacheNamespace", PT_STR},
        {"/timeoutInMillis", PT_INT},
        {"/requestTemplates/", PT_MAP_STR},
        {"/requestParameters/", PT_MAP_STR},
        {NULL, PT_STR},
    };
    part_update(req, resp, find_integration, rules, 200);
}

static void apigw_delete_integration(struct emu_request *req, struct emu_response *resp)
{
    cJSON *res = load_resource(req, resp, emu_param(req, "resource_id"));
    if (res == NULL) {
        return;
    }
    cJSON *in = find_integration(req, resp, res);
    if (in != NULL) {
        cJSON *method = find_method(req, resp, res);
        cJSON_DeleteItemFromObjectCaseSensitive(method, "methodIntegration");
        if (save_resource(req, resp, res) == 0) {
            reply_status(resp, 204);
        }
    }
    cJSON_Delete(res);
}

/* ------------------------------------- method and integration responses */

static int valid_status(const char *s)
{
    return s != NULL && strlen(s) == 3 && s[0] >= '1' && s[0] <= '5' &&
           isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2]);
}

/* What differs between method responses and integration responses. Both
 * are objects keyed by status code in a map of their parent (the method,
 * or the method's integration), put whole and deleted alike: one handler
 * per action serves both, told what differs by this (Get and Update are
 * part_get and part_update). */
struct apigw_response_kind {
    /* the parent (borrowed from res), or NULL after answering NotFound */
    cJSON *(*parent)(struct emu_request *req, struct emu_response *resp, cJSON *res);
    const char *map;                           /* the parent's member: "methodResponses" */
    void (*fill)(cJSON *r, const cJSON *body); /* Put's members after statusCode */
};

static void method_response_fill(cJSON *mr, const cJSON *body)
{
    copy_map(mr, body, "responseParameters");
    copy_map(mr, body, "responseModels");
}

static const struct patch_rule method_response_rules[] = {
    {"/responseParameters/", PT_MAP_BOOL},
    {"/responseModels/", PT_MAP_STR},
    {NULL, PT_STR},
};

static const struct apigw_response_kind method_response_kind = {
    .parent = find_method,
    .map = "methodResponses",
    .fill = method_response_fill,
};

static void integration_response_fill(cJSON *ir, const cJSON *body)
{
    const char *sp = jstr(body, "selectionPattern");
    if (sp != NULL) {
        cJSON_AddStringToObject(ir, "selectionPattern", sp);
    }
    copy_map(ir, body, "responseParameters");
    copy_map(ir, body, "responseTemplates");
    copy_field(ir, body, "contentHandling");
}

static const struct patch_rule integration_response_rules[] = {
    {"/selectionPattern", PT_STR},
    {"/contentHandling", PT_STR},
    {"/responseTemplates/", PT_MAP_STR},
    {"/responseParameters/", PT_MAP_STR},
    {NULL, PT_STR},
};

static const struct apigw_response_kind integration_response_kind = {
    .parent = find_integration,
    .map = "integrationResponses",
    .fill = integration_response_fill,
};

/* The response of kind k (borrowed from res) named by the status_code
 * param, with its parent in *parent; NULL after answering NotFound. */
static cJSON *find_response(struct emu_request *req, struct emu_response *resp, cJSON *res,
                            const struct apigw_response_kind *k, cJSON **parent)
{
    *parent = k->parent(req, resp, res);
    if (*parent == NULL) {
        return NULL;
    }
    cJSON *r = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(*parent, k->map),
                                                emu_param(req, "status_code"));
    if (r == NULL) {
        emu_fail(resp, APIGW_NOT_FOUND, "Invalid Response status code specified");
    }
    return r;
}

static cJSON *find_method_response(struct emu_request *req, struct emu_response *resp, cJSON *res)
{
    cJSON *parent;
    return find_response(req, resp, res, &method_response_kind, &parent);
}

static cJSON *find_integration_response(struct emu_request *req, struct emu_response *resp,
                                        cJSON *res)
{
    cJSON *parent;
    return find_response(req, resp, res, &integration_response_kind, &parent);
}

/* PutMethodResponse, PutIntegrationResponse: replaces the whole response. */
static void response_put(struct emu_request *req, struct emu_response *resp,
                         const struct apigw_response_kind *k)
{
    cJSON *res = load_resource(req, resp, emu_param(req, "resource_id"));
    if (res == NULL) {
        return;
    }
    cJSON *parent = k->parent(req, resp, res);
    const char *code = emu_param(req, "status_code");
    if (parent == NULL) {
        goto out;
    }
    if (!valid_status(code)) {
        emu_fail(resp, APIGW_BAD_REQUEST, "Invalid status code specified");
        goto out;
    }
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "statusCode", code);
    k->fill(r, req->json);
    set_item(child_obj(parent, k->map), code, r);
    if (save_resource(req, resp, res) == 0) {
        emu_resp_json(resp, 201, cJSON_Duplicate(r, 1));
    }
out:
    cJSON_Delete(res);
}

/* DeleteMethodResponse, DeleteIntegrationResponse. */
static void response_delete(struct emu_request *req, struct emu_response *resp,
                            const struct apigw_response_kind *k)
{
    cJSON *res = load_resource(req, resp, emu_param(req, "resource_id"));
    if (res == NULL) {
        return;
    }
    cJSON *parent = NULL;
    cJSON *r = find_response(req, resp, res, k, &parent);
    if (r != NULL) {
        cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(parent, k->map),
                                                emu_param(req, "status_code"));
        if (save_resource(req, resp, res) == 0) {
            reply_status(resp, 204);
        }
    }
    cJSON_Delete(res);
}

static void apigw_put_method_response(struct emu_request *req, struct emu_response *resp)
{
    response_put(req, resp, &method_response_kind);
}
static void apigw_get_method_response(struct emu_request *req, struct emu_response *resp)
{
    part_get(req, resp, find_method_response);
}
/* AWS answers UpdateMethodResponse with 201 (UpdateIntegrationResponse:
 * 200). */
static void apigw_update_method_response(struct emu_request *req, struct emu_response *resp)
{
    part_update(req, resp, find_method_response, method_response_rules, 201);
}
static void apigw_delete_method_response(struct emu_request *req, struct emu_response *resp)
{
    response_delete(req, resp, &method_response_kind);
}
static void apigw_put_integration_response(struct emu_request *req, struct emu_response *resp)
{
    response_put(req, resp, &integration_response_kind);
}
static void apigw_get_integration_response(struct emu_request *req, struct emu_response *resp)
{
    part_get(req, resp, find_integration_response);
}
static void apigw_update_integration_response(struct emu_request *req, struct emu_response *resp)
{
    part_update(req, resp, find_integration_response, integration_response_rules, 200);
}
static void apigw_delete_integration_response(struct emu_request *req, struct emu_response *resp)
{
    response_delete(req, resp, &integration_response_kind);
}

/* ---------------------------------------------------------------- stages */

static cJSON *stage_new(const char *name, const char *deployment, const char *description,
                        const cJSON *variables)
{
    cJSON *st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "deploymentId", deployment);
    cJSON_AddStringToObject(st, "stageName", name);
    if (description != NULL) {
        cJSON_AddStringToObject(st, "description", description);
    }
    cJSON_AddBoolToObject(st, "cacheClusterEnabled", 0);
    cJSON_AddStringToObject(st, "cacheClusterStatus", "NOT_AVAILABLE");
    cJSON_AddObjectToObject(st, "methodSettings");
    if (cJSON_IsObject(variables) && variables->child != NULL) {
        cJSON_AddItemToObject(st, "variables", cJSON_Duplicate(variables, 1));
    }
    cJSON_AddBoolToObject(st, "tracingEnabled", 0);
    cJSON_AddNumberToObject(st, "createdDate", now_s());
    cJSON_AddNumberToObject(st, "lastUpdatedDate", now_s());
    return st;
}

static int valid_stage_name(const char *s)
{
    if (s == NULL || *s == 0 || strlen(s) > 128) {
        return 0;
    }
    for (const char *p = s; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') {
            return 0;
        }
    }
    return 1;
}

static int valid_variables(struct emu_response *resp, const cJSON *vars)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, vars)
    {
        if (!cJSON_IsString(v)) {
            emu_fail(resp, APIGW_BAD_REQUEST, "Stage variable value must be a string");
            return 0;
        }
        for (const char *p = v->string; *p; p++) {
            if (!isalnum((unsigned char)*p) && *p != '_') {
                emu_fail(resp, APIGW_BAD_REQUEST,
                         "Stage variable names must only contain alphanumeric and underscore "
                         "characters");
                return 0;
            }
        }
    }
    return 1;
}

static void apigw_create_stage(struct emu_request *req, struct emu_response *resp)
{
    if (!api_exists(req, resp)) {
        return;
    }
    const char *name = jstr(req->json, "stageName");
    const char *dep = jstr(req->json, "deploymentId");
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(req->json, "variables");
    if (!valid_stage_name(name)) {
        emu_fail(resp, APIGW_BAD_REQUEST, "Stage name only allows a-zA-Z0-9_");
        return;
    }
    if (!valid_variables(resp, vars)) {
        return;
    }
    cJSON *d = dep != NULL ? apigw_obj_get(ACCT, "deployment", api_id(req), dep) : NULL;
    if (d == NULL) {
        emu_fail(resp, APIGW_NOT_FOUND, "Invalid Deployment identifier specified");
        return;
    }
    cJSON_Delete(d);
    cJSON *old = apigw_obj_get(ACCT, "stage", api_id(req), name);
    if (old != NULL) {
        cJSON_Delete(old);
        emu_fail(resp, APIGW_CONFLICT, "Stage already exists");
        return;
    }
    cJSON *st = stage_new(name, dep, jstr(req->json, "description"), vars);
    copy_field(st, req->json, "tags");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req->json, "tracingEnabled"))) {
        set_item(st, "tracingEnabled", cJSON_CreateTrue());
    }
    store_reply(req, resp, "stage", api_id(req), name, st, 201);
}

static cJSON *load_stage(struct emu_request *req, struct emu_response *resp)
{
    return load_child(req, resp, "stage", emu_param(req, "stage_name"), "Stage");
}

static void apigw_get_stage(struct emu_request *req, struct emu_response *resp)
{
    cJSON *st = load_stage(req, resp);
    if (st != NULL) {
        emu_resp_json(resp, 200, st);
    }
}

static void apigw_get_stages(struct emu_request *req, struct emu_response *resp)
{
    if (!api_exists(req, resp)) {
        return;
    }
    cJSON *all = apigw_obj_list(ACCT, "stage", api_id(req));
    const char *dep = emu_query(req, "deploymentId");
    cJSON *out = cJSON_CreateObject();
    cJSON *items = cJSON_AddArrayToObject(out, "item");
    cJSON *st;
    cJSON_ArrayForEach(st, all)
    {
        const char *d = jstr(st, "deploymentId");
        if (dep == NULL || (d != NULL && strcmp(d, dep) == 0)) {
            cJSON_AddItemToArray(items, cJSON_Duplicate(st, 1));
        }
    }
    cJSON_Delete(all);
    emu_resp_json(resp, 200, out);
}

static void apigw_update_stage(struct emu_request *req, struct emu_response *resp)
{
    static const struct patch_rule rules[] = {
        {"/deploymentId", PT_STR},        {"/description", PT_STR},
        {"/variables/", PT_MAP_STR},      {"/cacheClusterEnabled", PT_BOOL},
        {"/cacheClusterSize", PT_STR},    {"/tracingEnabled", PT_BOOL},
        {"/clientCertificateId", PT_STR}, {"/documentationVersion", PT_STR},
        {"/webAclArn", PT_STR},           {NULL, PT_STR},
    };
    cJSON *st = load_stage(req, resp);
    if (st == NULL) {
        return;
    }
    cJSON *rest = cJSON_CreateArray();
    const cJSON *op;
    cJSON_ArrayForEach(op, cJSON_GetObjectItemCaseSensitive(req->json, "patchOperations"))
    {
        if (!apply_method_setting(st, op)) {
            cJSON_AddItemToArray(rest, cJSON_Duplicate(op, 1));
        }
    }
    int prc = apply_patch_ops(resp, st, rest, rules);
    cJSON_Delete(rest);
    if (prc != 0) {
        goto out;
    }
    const char *dep = jstr(st, "deploymentId");
    cJSON *d = dep != NULL ? apigw_obj_get(ACCT, "deployment", api_id(req), dep) : NULL;
    if (d == NULL) {
        emu_fail(resp, APIGW_BAD_REQUEST, "Invalid deployment id specified: %s",
                 dep != NULL ? dep : "");
        goto out;
    }
    cJSON_Delete(d);
    cJSON *vars = cJSON_GetObjectItemCaseSensitive(st, "variables");
    if (vars != NULL && !valid_variables(resp, vars)) {
        goto out;
    }
    if (vars != NULL && vars->child == NULL) {
        cJSON_DeleteItemFromObjectCaseSensitive(st, "variables");
    }
    set_item(st, "lastUpdatedDate", cJSON_CreateNumber(now_s()));
    store_reply(req, resp, "stage", api_id(req), emu_param(req, "stage_name"), st, 200);
    return;
out:
    cJSON_Delete(st);
}

static void apigw_delete_stage(struct emu_request *req, struct emu_response *resp)
{
    cJSON *st = load_stage(req, resp);
    if (st == NULL) {
        return;
    }
    cJSON_Delete(st);
    apigw_obj_del(ACCT, "stage", api_id(req), emu_param(req, "stage_name"));
    reply_status(resp, 202);
}

/* ----------------------------------------------------------- deployments */

static void apigw_create_deployment(struct emu_request *req, struct emu_response *resp)
{
    cJSON *api = load_api(req, resp);
    cJSON *resources = NULL;
    cJSON *snap = NULL;
    cJSON *dep = NULL;
    if (api == NULL) {
        return;
    }
    const char *stage = jstr(req->json, "stageName");
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(req->json, "variables");
    if (stage != NULL && !valid_stage_name(stage)) {
        emu_fail(resp, APIGW_BAD_REQUEST, "Stage name only allows a-zA-Z0-9_");
        goto out;
    }
    if (!valid_variables(resp, vars)) {
        goto out;
    }
    resources = apigw_obj_list(ACCT, "resource", api_id(req));
    int nmethods = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, resources)
    {
        const cJSON *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(r, "resourceMethods"))
        {
            nmethods++;
            if (cJSON_GetObjectItemCaseSensitive(m, "methodIntegration") == NULL) {
                emu_fail(resp, APIGW_BAD_REQUEST, "No integration defined for method");
                goto out;
            }
        }
    }
    if (nmethods == 0) {
        emu_fail(resp, APIGW_BAD_REQUEST, "The REST API doesn't contain any methods");
        goto out;
    }
    char id[16];
    new_id(id);
    dep = cJSON_CreateObject();
    cJSON_AddStringToObject(dep, "id", id);
    copy_field(dep, req->json, "description");
    cJSON_AddNumberToObject(dep, "createdDate", now_s());
    snap = cJSON_CreateObject();
    cJSON_AddItemToObject(snap, "resources", resources);
    resources = NULL;
    cJSON_AddItemToObject(snap, "authorizers", apigw_obj_list(ACCT, "authorizer", api_id(req)));
    const char *aks = jstr(api, "apiKeySource");
    cJSON_AddStringToObject(snap, "apiKeySource", aks != NULL ? aks : "HEADER");
    const cJSON *bmt = cJSON_GetObjectItemCaseSensitive(api, "binaryMediaTypes");
    cJSON_AddItemToObject(snap, "binaryMediaTypes",
                          cJSON_IsArray(bmt) ? cJSON_Duplicate(bmt, 1) : cJSON_CreateArray());
    if (apigw_obj_put(ACCT, "deployment", api_id(req), id, dep) != 0 ||
        apigw_obj_put(ACCT, "snapshot", api_id(req), id, snap) != 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        goto out;
    }
    if (stage != NULL) {
        cJSON *st = apigw_obj_get(ACCT, "stage", api_id(req), stage);
        if (st == NULL) {
            st = stage_new(stage, id, jstr(req->json, "stageDescription"), vars);
        } else {
            set_item(st, "deploymentId", cJSON_CreateString(id));
            if (cJSON_IsObject(vars) && vars->child != NULL) {
                /* variables given are merged into the stage's */
                cJSON *sv = child_obj(st, "variables");
                const cJSON *v;
                cJSON_ArrayForEach(v, vars)
                {
                    set_item(sv, v->string, cJSON_Duplicate(v, 1));
                }
            }
            if (jstr(req->json, "stageDescription") != NULL) {
                set_item(st, "description",
                         cJSON_CreateString(jstr(req->json, "stageDescription")));
            }
            set_item(st, "lastUpdatedDate", cJSON_CreateNumber(now_s()));
        }
        int rc = apigw_obj_put(ACCT, "stage", api_id(req), stage, st);
        cJSON_Delete(st);
        if (rc != 0) {
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
            goto out;
        }
    }
    emu_resp_json(resp, 201, dep);
    dep = NULL;
out:
    cJSON_Delete(dep);
    cJSON_Delete(snap);
    cJSON_Delete(resources);
    cJSON_Delete(api);
}

/* apiSummary: {path: {METHOD: {authorizationType, apiKeyRequired}}}. */
static cJSON *api_summary(const cJSON *snap)
{
    cJSON *sum = cJSON_CreateObject();
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(snap, "resources"))
    {
        const cJSON *methods = cJSON_GetObjectItemCaseSensitive(r, "resourceMethods");
        if (methods == NULL || methods->child == NULL) {
            continue;
        }
        cJSON *pm = cJSON_AddObjectToObject(sum, jstr(r, "path") ? jstr(r, "path") : "/");
        const cJSON *m;
        cJSON_ArrayForEach(m, methods)
        {
            cJSON *o = cJSON_AddObjectToObject(pm, m->string);
            copy_field(o, m, "authorizationType");
            copy_field(o, m, "apiKeyRequired");
        }
    }
    return sum;
}

static void apigw_get_deployment(struct emu_request *req, struct emu_response *resp)
{
    const char *id = emu_param(req, "deployment_id");
    cJSON *dep = load_child(req, resp, "deployment", id, "Deployment");
    if (dep == NULL) {
        return;
    }
    const char *embed = emu_query(req, "embed");
    if (embed != NULL && strstr(embed, "apisummary") != NULL) {
        cJSON *snap = apigw_obj_get(ACCT, "snapshot", api_id(req), id);
        if (snap != NULL) {
            cJSON_AddItemToObject(dep, "apiSummary", api_summary(snap));
            cJSON_Delete(snap);
        }
    }
    emu_resp_json(resp, 200, dep);
}

static void apigw_update_deployment(struct emu_request *req, struct emu_response *resp)
{
    static const struct patch_rule rules[] = {
        {"/description", PT_STR},
        {NULL, PT_STR},
    };
    const char *id = emu_param(req, "deployment_id");
    cJSON *dep = load_child(req, resp, "deployment", id, "Deployment");
    if (dep == NULL) {
        return;
    }
    if (apply_patch(req, resp, dep, rules) != 0) {
        cJSON_Delete(dep);
        return;
    }
    store_reply(req, resp, "deployment", api_id(req), id, dep, 200);
}

static void apigw_get_deployments(struct emu_request *req, struct emu_response *resp)
{
    if (!api_exists(req, resp)) {
        return;
    }
    reply_list(req, resp, apigw_obj_list(ACCT, "deployment", api_id(req)));
}

static void apigw_delete_deployment(struct emu_request *req, struct emu_response *resp)
{
    const char *id = emu_param(req, "deployment_id");
    cJSON *dep = load_child(req, resp, "deployment", id, "Deployment");
    if (dep == NULL) {
        return;
    }
    cJSON_Delete(dep);
    cJSON *stages = apigw_obj_list(ACCT, "stage", api_id(req));
    const cJSON *st;
    int used = 0;
    cJSON_ArrayForEach(st, stages)
    {
        const char *d = jstr(st, "deploymentId");
        if (d != NULL && strcmp(d, id) == 0) {
            used = 1;
        }
    }
    cJSON_Delete(stages);
    if (used) {
        emu_fail(resp, APIGW_BAD_REQUEST,
                 "Active stages pointing to this deployment must be moved or deleted");
        return;
    }
    apigw_obj_del(ACCT, "deployment", api_id(req), id);
    apigw_obj_del(ACCT, "snapshot", api_id(req), id);
    reply_status(resp, 202);
}

/* ---------------------------------------------------------------- models */

static cJSON *model_new(const char *name, const char *description, const char *schema,
                        const char *content_type)
{
    char id[16];
    new_id(id);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "id", id);
    cJSON_AddStringToObject(m, "name", name);
    if (description != NULL) {
        cJSON_AddStringToObject(m, "description", description);
    }
    if (schema != NULL) {
        cJSON_AddStringToObject(m, "schema", schema);
    }
    cJSON_AddStringToObject(m, "contentType",
                            content_type != NULL ? content_type : "application/json");
    return m;
}

/* The two models every new API has. Returns 0, -1 on SQL error. */
static int add_default_models(struct emu_request *req, const char *api)
{
    cJSON *empty = model_new("Empty", "This is a default empty schema model",
                             "{\n  \"$schema\": \"http://json-schema.org/draft-04/schema#\",\n  "
                             "\"title\" : \"Empty Schema\",\n  \"type\" : \"object\"\n}",
                             "application/json");
    cJSON *error =
        model_new("Error", "This is a default error schema model",
                  "{\n  \"$schema\" : \"http://json-schema.org/draft-04/schema#\",\n  "
                  "\"title\" : \"Error Schema\",\n  \"type\" : \"object\",\n  "
                  "\"properties\" : {\n    \"message\" : { \"type\" : \"string\" }\n  }\n}",
                  "application/json");
    int rc = apigw_obj_put(ACCT, "model", api, "Empty", empty) == 0 &&
                     apigw_obj_put(ACCT, "model", api, "Error", error) == 0
                 ? 0
                 : -1;
    cJSON_Delete(empty);
    cJSON_Delete(error);
    return rc;
}

static void apigw_create_model(struct emu_request *req, struct emu_response *resp)
{
    if (!api_exists(req, resp)) {
        return;
    }
    const char *name = jstr(req->json, "name");
    const char *ct = jstr(req->json, "contentType");
    if (name == NULL || *name == 0) {
        emu_fail(resp, APIGW_BAD_REQUEST, "Invalid model name specified");
        return;
    }
    for (const char *c = name; *c; c++) {
        if (!isalnum((unsigned char)*c)) {
            emu_fail(resp, APIGW_BAD_REQUEST, "Invalid model name specified: %s", name);
            return;
        }
    }
    if (ct == NULL || *ct == 0) {
        emu_fail(resp, APIGW_BAD_REQUEST, "Content type must be non-empty");
        return;
    }
    cJSON *old = apigw_obj_get(ACCT, "model", api_id(req), name);
    if (old != NULL) {
        cJSON_Delete(old);
        emu_fail(resp, APIGW_CONFLICT, "Model name already exists for this REST API");
        return;
    }
    cJSON *m = model_new(name, jstr(req->json, "description"), jstr(req->json, "schema"), ct);
    store_reply(req, resp, "model", api_id(req), name, m, 201);
}

static cJSON *load_model(struct emu_request *req, struct emu_response *resp)
{
    if (!api_exists(req, resp)) {
        return NULL;
    }
    const char *name = emu_param(req, "model_name");
    cJSON *m = apigw_obj_get(ACCT, "model", api_id(req), name != NULL ? name : "");
    if (m == NULL) {
        emu_fail(resp, APIGW_NOT_FOUND, "Invalid model name specified: %s", name ? name : "");
    }
    return m;
}

static void apigw_get_model(struct emu_request *req, struct emu_response *resp)
{
    cJSON *m = load_model(req, resp);
    if (m != NULL) {
        emu_resp_json(resp, 200, m);
    }
}

static void apigw_get_models(struct emu_request *req, struct emu_response *resp)
{
    if (!api_exists(req, resp)) {
        return;
    }
    reply_list(req, resp, apigw_obj_list(ACCT, "model", api_id(req)));
}

static void apigw_update_model(struct emu_request *req, struct emu_response *resp)
{
    static const struct patch_rule rules[] = {
        {"/description", PT_STR},
        {"/schema", PT_STR},
        {NULL, PT_STR},
    };
    cJSON *m = load_model(req, resp);
    if (m == NULL) {
        return;
    }
    if (apply_patch(req, resp, m, rules) != 0) {
        cJSON_Delete(m);
        return;
    }
    store_reply(req, resp, "model", api_id(req), emu_param(req, "model_name"), m, 200);
}

static void apigw_delete_model(struct emu_request *req, struct emu_response *resp)
{
    cJSON *m = load_model(req, resp);
    if (m == NULL) {
        return;
    }
    cJSON_Delete(m);
    apigw_obj_del(ACCT, "model", api_id(req), emu_param(req, "model_name"));
    reply_status(resp, 202);
}

/* ----------------------------------------------------------- authorizers */

static const struct patch_rule authorizer_rules[] = {
    {"/name", PT_STR},
    {"/type", PT_STR},
    {"/authorizerUri", PT_STR},
    {"/authorizerCredentials", PT_STR},
    {"/identitySource", PT_STR},
    {"/identityValidationExpression", PT_STR},
    {"/authorizerResultTtlInSeconds", PT_INT},
    {"/authType", PT_STR},
    {NULL, PT_STR},
};

static void apigw_create_authorizer(struct emu_request *req, struct emu_response *resp)
{
    if (!api_exists(req, resp)) {
        return;
    }
    const char *name = jstr(req->json, "name");
    const char *type = jstr(req->json, "type");
    static const char *const types[] = {"TOKEN", "REQUEST", "COGNITO_USER_POOLS", NULL};
    if (name == NULL || *name == 0) {
        emu_fail(resp, APIGW_BAD_REQUEST, "Invalid authorizer name specified");
        return;
    }
    if (type == NULL || !one_of(type, types)) {
        emu_fail(resp, APIGW_BAD_REQUEST, "Invalid authorizer type specified");
        return;
    }
    if (strcmp(type, "COGNITO_USER_POOLS") != 0 && jstr(req->json, "authorizerUri") == NULL) {
        emu_fail(resp, APIGW_BAD_REQUEST, "Invalid authorizer URI specified");
        return;
    }
    if (strcmp(type, "TOKEN") == 0 && jstr(req->json, "identitySource") == NULL) {
        emu_fail(resp, APIGW_BAD_REQUEST, "Invalid identity source specified");
        return;
    }
    char id[16];
    new_id(id);
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "id", id);
    cJSON_AddStringToObject(a, "name", name);
    cJSON_AddStringToObject(a, "type", type);
    copy_field(a, req->json, "providerARNs");
    copy_field(a, req->json, "authType");
    copy_field(a, req->json, "authorizerUri");
    copy_field(a, req->json, "authorizerCredentials");
    copy_field(a, req->json, "identitySource");
    copy_field(a, req->json, "identityValidationExpression");
    const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(req->json, "authorizerResultTtlInSeconds");
    cJSON_AddNumberToObject(a, "authorizerResultTtlInSeconds",
                            cJSON_IsNumber(ttl) ? ttl->valuedouble : 300);
    store_reply(req, resp, "authorizer", api_id(req), id, a, 201);
}

static cJSON *load_authorizer(struct emu_request *req, struct emu_response *resp)
{
    return load_child(req, resp, "authorizer", emu_param(req, "authorizer_id"), "Authorizer");
}

static void apigw_get_authorizer(struct emu_request *req, struct emu_response *resp)
{
    cJSON *a = load_authorizer(req, resp);
    if (a != NULL) {
        emu_resp_json(resp, 200, a);
    }
}

static void apigw_get_authorizers(struct emu_request *req, struct emu_response *resp)
{
    if (!api_exists(req, resp)) {
        return;
    }
    reply_list(req, resp, apigw_obj_list(ACCT, "authorizer", api_id(req)));
}

static void apigw_update_authorizer(struct emu_request *req, struct emu_response *resp)
{
    cJSON *a = load_authorizer(req, resp);
    if (a == NULL) {
        return;
    }
    if (apply_patch(req, resp, a, authorizer_rules) != 0) {
        cJSON_Delete(a);
        return;
    }
    store_reply(req, resp, "authorizer", api_id(req), emu_param(req, "authorizer_id"), a, 200);
}

static void apigw_delete_authorizer(struct emu_request *req, struct emu_response *resp)
{
    cJSON *a = load_authorizer(req, resp);
    if (a == NULL) {
        return;
    }
    cJSON_Delete(a);
    apigw_obj_del(ACCT, "authorizer", api_id(req), emu_param(req, "authorizer_id"));
    reply_status(resp, 202);
}

/* ------------------------------------------------- API keys, usage plans */

static void apigw_create_api_key(struct emu_request *req, struct emu_response *resp)
{
    char id[16];
    new_id(id);
    const char *value = jstr(req->json, "value");
    char gen[48];
    if (value == NULL) {
        emu_random_alnum(gen, 40, 0);
        value = gen;
    } else if (strlen(value) < 20) {
        emu_fail(resp, APIGW_BAD_REQUEST, "API Key value should be at least 20 characters");
        return;
    }
    cJSON *k = cJSON_CreateObject();
    cJSON_AddStringToObject(k, "id", id);
    cJSON_AddStringToObject(k, "value", value);
    const char *name = jstr(req->json, "name");
    cJSON_AddStringToObject(k, "name", name != NULL ? name : id);
    copy_field(k, req->json, "customerId");
    copy_field(k, req->json, "description");
    cJSON_AddBoolToObject(k, "enabled",
                          cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req->json, "enabled")));
    cJSON_AddNumberToObject(k, "createdDate", now_s());
    cJSON_AddNumberToObject(k, "lastUpdatedDate", now_s());
    cJSON *sk = cJSON_AddArrayToObject(k, "stageKeys");
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(req->json, "stageKeys"))
    {
        const char *ra = jstr(s, "restApiId");
        const char *sn = jstr(s, "stageName");
        if (ra != NULL && sn != NULL) {
            char b[300];
            snprintf(b, sizeof(b), "%s/%s", ra, sn);
            cJSON_AddItemToArray(sk, cJSON_CreateString(b));
        }
    }
    copy_field(k, req->json, "tags");
    store_reply(req, resp, "apikey", "", id, k, 201);
}

static int want_values(struct emu_request *req, const char *q)
{
    const char *v = emu_query(req, q);
    return v != NULL && strcmp(v, "true") == 0;
}

static void apigw_get_api_key(struct emu_request *req, struct emu_response *resp)
{
    const char *id = emu_param(req, "api_Key");
    cJSON *k = apigw_obj_get(ACCT, "apikey", "", id != NULL ? id : "");
    if (k == NULL) {
        emu_fail(resp, APIGW_NOT_FOUND, "Invalid API Key identifier specified");
        return;
    }
    if (!want_values(req, "includeValue")) {
        cJSON_DeleteItemFromObjectCaseSensitive(k, "value");
    }
    emu_resp_json(resp, 200, k);
}

static void apigw_get_api_keys(struct emu_request *req, struct emu_response *resp)
{
    cJSON *all = apigw_obj_list(ACCT, "apikey", "");
    int values = want_values(req, "includeValues");
    const char *name = emu_query(req, "name");
    cJSON *items = cJSON_CreateArray();
    cJSON *k;
    cJSON_ArrayForEach(k, all)
    {
        const char *kn = jstr(k, "name");
        if (name != NULL && (kn == NULL || strncmp(kn, name, strlen(name)) != 0)) {
            continue;
        }
        cJSON *c = cJSON_Duplicate(k, 1);
        if (!values) {
            cJSON_DeleteItemFromObjectCaseSensitive(c, "value");
        }
        cJSON_AddItemToArray(items, c);
    }
    cJSON_Delete(all);
    reply_list(req, resp, items);
}

static void apigw_update_api_key(struct emu_request *req, struct emu_response *resp)
{
    static const struct patch_rule rules[] = {
        {"/name", PT_STR},       {"/description", PT_STR}, {"/enabled", PT_BOOL},
        {"/customerId", PT_STR}, {NULL, PT_STR},
    };
    const char *id = emu_param(req, "api_Key");
    cJSON *k = apigw_obj_get(ACCT, "apikey", "", id != NULL ? id : "");
    if (k == NULL) {
        emu_fail(resp, APIGW_NOT_FOUND, "Invalid API Key identifier specified");
        return;
    }
    if (apply_patch(req, resp, k, rules) != 0) {
        cJSON_Delete(k);
        return;
    }
    set_item(k, "lastUpdatedDate", cJSON_CreateNumber(now_s()));
    if (apigw_obj_put(ACCT, "apikey", "", id, k) != 0) {
        cJSON_Delete(k);
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(k, "value");
    emu_resp_json(resp, 200, k);
}

static void apigw_delete_api_key(struct emu_request *req, struct emu_response *resp)
{
    const char *id = emu_param(req, "api_Key");
    cJSON *k = apigw_obj_get(ACCT, "apikey", "", id != NULL ? id : "");
    if (k == NULL) {
        emu_fail(resp, APIGW_NOT_FOUND, "Invalid API Key identifier specified");
        return;
    }
    cJSON_Delete(k);
    apigw_obj_del(ACCT, "apikey", "", id);
    reply_status(resp, 202);
}

static void apigw_create_usage_plan(struct emu_request *req, struct emu_response *resp)
{
    const char *name = jstr(req->json, "name");
    if (name == NULL || *name == 0) {
        emu_fail(resp, APIGW_BAD_REQUEST, "Invalid usage plan name specified");
        return;
    }
    char id[16];
    new_id(id);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "id", id);
    cJSON_AddStringToObject(p, "name", name);
    copy_field(p, req->json, "description");
    const cJSON *stages = cJSON_GetObjectItemCaseSensitive(req->json, "apiStages");
    cJSON_AddItemToObject(p, "apiStages",
                          cJSON_IsArray(stages) ? cJSON_Duplicate(stages, 1) : cJSON_CreateArray());
    copy_field(p, req->json, "throttle");
    copy_field(p, req->json, "quota");
    copy_field(p, req->json, "tags");
    store_reply(req, resp, "usageplan", "", id, p, 201);
}

static cJSON *load_usage_plan(struct emu_request *req, struct emu_response *resp)
{
    const char *id = emu_param(req, "usageplanId");
    cJSON *p = apigw_obj_get(ACCT, "usageplan", "", id != NULL ? id : "");
    if (p == NULL) {
        emu_fail(resp, APIGW_NOT_FOUND, "Invalid Usage Plan ID specified");
    }
    return p;
}

static void apigw_get_usage_plan(struct emu_request *req, struct emu_response *resp)
{
    cJSON *p = load_usage_plan(req, resp);
    if (p != NULL) {
        emu_resp_json(resp, 200, p);
    }
}

/* UpdateUsagePlan: /name, /description, and add/remove of "apiId:stage"
 * on /apiStages. */
static void apigw_update_usage_plan(struct emu_request *req, struct emu_response *resp)
{
    static const struct patch_rule rules[] = {
        {"/name", PT_STR},
        {"/description", PT_STR},
        {NULL, PT_STR},
    };
    cJSON *p = load_usage_plan(req, resp);
    if (p == NULL) {
        return;
    }
    /* /apiStages ops first, the rest through apply_patch */
    cJSON *rest = cJSON_CreateArray();
    const cJSON *op;
    cJSON_ArrayForEach(op, cJSON_GetObjectItemCaseSensitive(req->json, "patchOperations"))
    {
        const char *path = jstr(op, "path");
        const char *o = jstr(op, "op");
        const char *value = jstr(op, "value");
        if (path == NULL || strcmp(path, "/apiStages") != 0) {
            cJSON_AddItemToArray(rest, cJSON_Duplicate(op, 1));
            continue;
        }
        const char *colon = value != NULL ? strchr(value, ':') : NULL;
        if (o == NULL || colon == NULL || (strcmp(o, "add") != 0 && strcmp(o, "remove") != 0)) {
            emu_fail(resp, APIGW_BAD_REQUEST, "Invalid patch operation specified for /apiStages");
            goto out;
        }
        char a[64];
        snprintf(a, sizeof(a), "%.*s",
                 (int)((size_t)(colon - value) < sizeof(a) ? colon - value : 0), value);
        cJSON *stages = cJSON_GetObjectItemCaseSensitive(p, "apiStages");
        if (!cJSON_IsArray(stages)) {
            stages = cJSON_CreateArray();
            set_item(p, "apiStages", stages);
        }
        cJSON *it = stages->child;
        while (it != NULL) {
            cJSON *next = it->next;
            const char *ia = jstr(it, "apiId");
            const char *is = jstr(it, "stage");
            if (ia != NULL && is != NULL && strcmp(ia, a) == 0 && strcmp(is, colon + 1) == 0) {
                cJSON_Delete(cJSON_DetachItemViaPointer(stages, it));
            }
            it = next;
        }
        if (strcmp(o, "add") == 0) {
            cJSON *s = cJSON_CreateObject();
            cJSON_AddStringToObject(s, "apiId", a);
            cJSON_AddStringToObject(s, "stage", colon + 1);
            cJSON_AddItemToArray(stages, s);
        }
    }
    if (apply_patch_ops(resp, p, rest, rules) != 0) {
        goto out;
    }
    store_reply(req, resp, "usageplan", "", emu_param(req, "usageplanId"), p, 200);
    p = NULL;
out:
    cJSON_Delete(rest);
    cJSON_Delete(p);
}

static void apigw_get_usage_plans(struct emu_request *req, struct emu_response *resp)
{
    reply_list(req, resp, apigw_obj_list(ACCT, "usageplan", ""));
}

static void apigw_delete_usage_plan(struct emu_request *req, struct emu_response *resp)
{
    cJSON *p = load_usage_plan(req, resp);
    if (p == NULL) {
        return;
    }
    cJSON_Delete(p);
    const char *id = emu_param(req, "usageplanId");
    cJSON *keys = apigw_obj_list(ACCT, "usageplankey", id);
    const cJSON *k;
    cJSON_ArrayForEach(k, keys)
    {
        apigw_obj_del(ACCT, "usageplankey", id, jstr(k, "id") ? jstr(k, "id") : "");
    }
    cJSON_Delete(keys);
    apigw_obj_del(ACCT, "usageplan", "", id);
    reply_status(resp, 202);
}

static void apigw_create_usage_plan_key(struct emu_request *req, struct emu_response *resp)
{
    cJSON *p = load_usage_plan(req, resp);
    if (p == NULL) {
        return;
    }
    cJSON_Delete(p);
    const char *plan = emu_param(req, "usageplanId");
    const char *key_id = jstr(req->json, "keyId");
    const char *key_type = jstr(req->json, "keyType");
    if (key_type == NULL || strcmp(key_type, "API_KEY") != 0) {
        emu_fail(resp, APIGW_BAD_REQUEST, "Invalid key type specified");
        return;
    }
    cJSON *k = key_id != NULL ? apigw_obj_get(ACCT, "apikey", "", key_id) : NULL;
    if (k == NULL) {
        emu_fail(resp, APIGW_NOT_FOUND, "Invalid API Key identifier specified");
        return;
    }
    cJSON *old = apigw_obj_get(ACCT, "usageplankey", plan, key_id);
    if (old != NULL) {
        cJSON_Delete(old);
        cJSON_Delete(k);
        emu_fail(resp, APIGW_CONFLICT,
                 "Usage Plan %s cannot be added because API Key %s cannot "
                 "reference multiple Usage Plans with the same API Stage",
                 plan, key_id);
        return;
    }
    cJSON *upk = cJSON_CreateObject();
    cJSON_AddStringToObject(upk, "id", key_id);
    cJSON_AddStringToObject(upk, "type", "API_KEY");
    copy_field(upk, k, "value");
    copy_field(upk, k, "name");
    cJSON_Delete(k);
    store_reply(req, resp, "usageplankey", plan, key_id, upk, 201);
}

static void apigw_get_usage_plan_keys(struct emu_request *req, struct emu_response *resp)
{
    cJSON *p = load_usage_plan(req, resp);
    if (p == NULL) {
        return;
    }
    cJSON_Delete(p);
    reply_list(req, resp, apigw_obj_list(ACCT, "usageplankey", emu_param(req, "usageplanId")));
}

static void apigw_delete_usage_plan_key(struct emu_request *req, struct emu_response *resp)
{
    const char *plan = emu_param(req, "usageplanId");
    const char *key = emu_param(req, "keyId");
    cJSON *k =
        apigw_obj_get(ACCT, "usageplankey", plan != NULL ? plan : "", key != NULL ? key : "");
    if (k == NULL) {
        emu_fail(resp, APIGW_NOT_FOUND, "Invalid Usage Plan Key identifier specified");
        return;
    }
    cJSON_Delete(k);
    apigw_obj_del(ACCT, "usageplankey", plan, key);
    reply_status(resp, 202);
}

/* ------------------------------------------------------------- registry */

#define W EMU_OP_WRITE
#define J EMU_OP_JSON
#define R "/restapis/{restapi_id}"
#define RM R "/resources/{resource_id}/methods/{http_method}"

static const struct emu_op apigw_ops[] = {
    {"CreateRestApi", "POST", "/restapis", NULL, apigw_create_rest_api, W | J},
    {"GetRestApis", "GET", "/restapis", NULL, apigw_get_rest_apis, 0},
    {"GetRestApi", "GET", R, NULL, apigw_get_rest_api, 0},
    {"UpdateRestApi", "PATCH", R, NULL, apigw_update_rest_api, W | J},
    {"DeleteRestApi", "DELETE", R, NULL, apigw_delete_rest_api, W},
    {"GetResources", "GET", R "/resources", NULL, apigw_get_resources, 0},
    {"GetResource", "GET", R "/resources/{resource_id}", NULL, apigw_get_resource, 0},
    {"CreateResource", "POST", R "/resources/{parent_id}", NULL, apigw_create_resource, W | J},
    {"UpdateResource", "PATCH", R "/resources/{resource_id}", NULL, apigw_update_resource, W | J},
    {"DeleteResource", "DELETE", R "/resources/{resource_id}", NULL, apigw_delete_resource, W},
    {"PutMethod", "PUT", RM, NULL, apigw_put_method, W | J},
    {"GetMethod", "GET", RM, NULL, apigw_get_method, 0},
    {"UpdateMethod", "PATCH", RM, NULL, apigw_update_method, W | J},
    {"DeleteMethod", "DELETE", RM, NULL, apigw_delete_method, W},
    {"TestInvokeMethod", "POST", RM, NULL, apigw_test_invoke_method, EMU_OP_NO_TXN | J},
    {"PutIntegration", "PUT", RM "/integration", NULL, apigw_put_integration, W | J},
    {"GetIntegration", "GET", RM "/integration", NULL, apigw_get_integration, 0},
    {"UpdateIntegration", "PATCH", RM "/integration", NULL, apigw_update_integration, W | J},
    {"DeleteIntegration", "DELETE", RM "/integration", NULL, apigw_delete_integration, W},
    {"PutMethodResponse", "PUT", RM "/responses/{status_code}", NULL, apigw_put_method_response,
     W | J},
    {"GetMethodResponse", "GET", RM "/responses/{status_code}", NULL, apigw_get_method_response, 0},
    {"UpdateMethodResponse", "PATCH", RM "/responses/{status_code}", NULL,
     apigw_update_method_response, W | J},
    {"DeleteMethodResponse", "DELETE", RM "/responses/{status_code}", NULL,
     apigw_delete_method_response, W},
    {"PutIntegrationResponse", "PUT", RM "/integration/responses/{status_code}", NULL,
     apigw_put_integration_response, W | J},
    {"GetIntegrationResponse", "GET", RM "/integration/responses/{status_code}", NULL,
     apigw_get_integration_response, 0},
    {"UpdateIntegrationResponse", "PATCH", RM "/integration/responses/{status_code}", NULL,
     apigw_update_integration_response, W | J},
    {"DeleteIntegrationResponse", "DELETE", RM "/integration/responses/{status_code}", NULL,
     apigw_delete_integration_response, W},
    {"CreateDeployment", "POST", R "/deployments", NULL, apigw_create_deployment, W | J},
    {"GetDeployments", "GET", R "/deployments", NULL, apigw_get_deployments, 0},
    {"GetDeployment", "GET", R "/deployments/{deployment_id}", NULL, apigw_get_deployment, 0},
    {"UpdateDeployment", "PATCH", R "/deployments/{deployment_id}", NULL, apigw_update_deployment,
     W | J},
    {"DeleteDeployment", "DELETE", R "/deployments/{deployment_id}", NULL, apigw_delete_deployment,
     W},
    {"CreateStage", "POST", R "/stages", NULL, apigw_create_stage, W | J},
    {"GetStages", "GET", R "/stages", NULL, apigw_get_stages, 0},
    {"GetStage", "GET", R "/stages/{stage_name}", NULL, apigw_get_stage, 0},
    {"UpdateStage", "PATCH", R "/stages/{stage_name}", NULL, apigw_update_stage, W | J},
    {"DeleteStage", "DELETE", R "/stages/{stage_name}", NULL, apigw_delete_stage, W},
    {"CreateModel", "POST", R "/models", NULL, apigw_create_model, W | J},
    {"GetModels", "GET", R "/models", NULL, apigw_get_models, 0},
    {"GetModel", "GET", R "/models/{model_name}", NULL, apigw_get_model, 0},
    {"UpdateModel", "PATCH", R "/models/{model_name}", NULL, apigw_update_model, W | J},
    {"DeleteModel", "DELETE", R "/models/{model_name}", NULL, apigw_delete_model, W},
    {"CreateAuthorizer", "POST", R "/authorizers", NULL, apigw_create_authorizer, W | J},
    {"GetAuthorizers", "GET", R "/authorizers", NULL, apigw_get_authorizers, 0},
    {"GetAuthorizer", "GET", R "/authorizers/{authorizer_id}", NULL, apigw_get_authorizer, 0},
    {"UpdateAuthorizer", "PATCH", R "/authorizers/{authorizer_id}", NULL, apigw_update_authorizer,
     W | J},
    {"DeleteAuthorizer", "DELETE", R "/authorizers/{authorizer_id}", NULL, apigw_delete_authorizer,
     W},
    {"CreateApiKey", "POST", "/apikeys", NULL, apigw_create_api_key, W | J},
    {"GetApiKeys", "GET", "/apikeys", NULL, apigw_get_api_keys, 0},
    {"GetApiKey", "GET", "/apikeys/{api_Key}", NULL, apigw_get_api_key, 0},
    {"UpdateApiKey", "PATCH", "/apikeys/{api_Key}", NULL, apigw_update_api_key, W | J},
    {"DeleteApiKey", "DELETE", "/apikeys/{api_Key}", NULL, apigw_delete_api_key, W},
    {"CreateUsagePlan", "POST", "/usageplans", NULL, apigw_create_usage_plan, W | J},
    {"GetUsagePlans", "GET", "/usageplans", NULL, apigw_get_usage_plans, 0},
    {"GetUsagePlan", "GET", "/usageplans/{usageplanId}", NULL, apigw_get_usage_plan, 0},
    {"UpdateUsagePlan", "PATCH", "/usageplans/{usageplanId}", NULL, apigw_update_usage_plan, W | J},
    {"DeleteUsagePlan", "DELETE", "/usageplans/{usageplanId}", NULL, apigw_delete_usage_plan, W},
    {"CreateUsagePlanKey", "POST", "/usageplans/{usageplanId}/keys", NULL,
     apigw_create_usage_plan_key, W | J},
    {"GetUsagePlanKeys", "GET", "/usageplans/{usageplanId}/keys", NULL, apigw_get_usage_plan_keys,
     0},
    {"DeleteUsagePlanKey", "DELETE", "/usageplans/{usageplanId}/keys/{keyId}", NULL,
     apigw_delete_usage_plan_key, W},
};

static const struct emu_op apigw_invoke_op = {
    "Invoke", NULL, NULL, NULL, apigw_invoke, EMU_OP_NO_TXN | EMU_OP_NO_AUTH};

#undef W
#undef J
#undef R
#undef RM

static const char *const apigw_schema[] = {
    "CREATE TABLE apigw_objects(account TEXT NOT NULL, region TEXT NOT NULL, kind TEXT NOT NULL, "
    "parent TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, "
    "PRIMARY KEY(account, region, kind, parent, id))",
    "CREATE INDEX apigw_objects_kind_id ON apigw_objects(kind, id)",
};

/* Claims stage URLs (all three forms). */
static const struct emu_op *apigw_claim(struct emu_request *req)
{
    char api[64];
    char stage[160];
    const char *rest = NULL;
    if (!apigw_invoke_parse(req, api, sizeof(api), stage, sizeof(stage), &rest)) {
        return NULL;
    }
    return &apigw_invoke_op;
}

/* Journal/fault resource: "apiId/stage" or "apiId". */
static void apigw_resource(struct emu_request *req, struct emu_buf *out)
{
    char api[64];
    char stage[160];
    const char *rest = NULL;
    if (req->op == &apigw_invoke_op &&
        apigw_invoke_parse(req, api, sizeof(api), stage, sizeof(stage), &rest)) {
        emu_buf_printf(out, "%s/%s", api, stage);
        return;
    }
    const char *id = emu_param(req, "restapi_id");
    const char *st = emu_param(req, "stage_name");
    if (id == NULL) {
        return;
    }
    if (st == NULL && req->json != NULL) {
        st = jstr(req->json, "stageName");
    }
    if (st != NULL) {
        emu_buf_printf(out, "%s/%s", id, st);
    } else {
        emu_buf_puts(out, id);
    }
}

/* libcurl (HTTP integrations) is initialised once, before any request
 * thread can race on its implicit initialisation. */
static int apigw_start(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

const struct emu_service svc_apigateway = {
    .name = "apigateway",
    .display = "apigateway",
    .protocol = EMU_PROTO_REST_JSON,
    .ops = apigw_ops,
    .nops = sizeof(apigw_ops) / sizeof(apigw_ops[0]),
    .schema = apigw_schema,
    .nschema = sizeof(apigw_schema) / sizeof(apigw_schema[0]),
    .resource = apigw_resource,
    .claim = apigw_claim,
    .start = apigw_start,
};
