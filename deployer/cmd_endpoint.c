/*
 * cmd_endpoint.c - `endpoint deploy` (v0.5 section 2.6).
 *
 * 1. GetRestApis{limit 500}, match by name (var apiGatewayApi, else P;
 *    two matches is an error), else CreateRestApi; variable apiGatewayApi.
 * 2. Authorizers (functions with a non-empty "authorizer"): GetAuthorizers,
 *    Create|UpdateAuthorizer (TOKEN, URI on ${stageVariables.functionAlias}),
 *    Remove/AddPermission s_apig_auth_P-F.
 * 3. Per endpoint, in order: GetFunction{P-F, Qualifier S} (the alias must
 *    exist), GetResources{limit 500}, CreateResource per missing segment,
 *    GetMethod -> DeleteMethod if present, PutMethod, PutIntegration (uri on
 *    ${stageVariables.functionAlias}, or the -e alias), per response
 *    PutMethodResponse + PutIntegrationResponse, GetPolicy{aliasArn} ->
 *    RemovePermission + AddPermission{apigateway.amazonaws.com, SourceArn
 *    arn:aws:execute-api:R:ACCT:API/STAR/METHOD/path} - skipped when the
 *    statement already grants exactly that.
 * 4. CreateDeployment{stageName S, description, stageDescription S,
 *    variables {functionAlias: S}}: the only call that changes the stage.
 *    Unlike v0.5 it is NOT made when any endpoint failed (the stage keeps
 *    its old deployment) and the command exits non-zero.
 * The stage URL goes to the summary.
 */
#include "dep.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEP "endpoint deploy"

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* API Gateway lists: the wire name is "item" (locationName), "items" accepted. */
static const cJSON *items_of(const cJSON *out)
{
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(out, "item");
    return i ? i : cJSON_GetObjectItemCaseSensitive(out, "items");
}

static int not_found(const struct dep_err *err)
{
    return err->kind == DEP_ERR_AWS &&
           (strcmp(err->code, "NotFoundException") == 0 ||
            strcmp(err->code, "ResourceNotFoundException") == 0 || err->http_status == 404);
}

int dep_rest_api_ensure(struct dep_ctx *c, char *api_id, size_t n, struct dep_err *err)
{
    char name[256];
    cJSON *out = NULL;
    const cJSON *it;
    int matches = 0;

    dep_rest_api_name(&c->project, name, sizeof(name));
    if (dep_apigw_get_rest_apis(c->region, &out, err) < 0) {
        return -1;
    }
    cJSON_ArrayForEach(it, items_of(out))
    {
        const char *nm = jstr(it, "name");
        if (nm && strcmp(nm, name) == 0) {
            matches++;
            snprintf(api_id, n, "%s", jstr(it, "id") ? jstr(it, "id") : "");
        }
    }
    cJSON_Delete(out);
    out = NULL;
    if (matches > 1) {
        dep_err_local(err, "AmbiguousRestApi",
                      "%d REST APIs are named \"%s\" in %s: remove the extra ones", matches, name,
                      c->region);
        return -1;
    }
    if (matches == 0) {
        char desc[256];
        snprintf(desc, sizeof(desc), "A REST API for a Serverless project in region: %s",
                 c->region);
        if (dep_apigw_create_rest_api(c->region, name, desc, &out, err) < 0) {
            return -1;
        }
        snprintf(api_id, n, "%s", jstr(out, "id") ? jstr(out, "id") : "");
        cJSON_Delete(out);
        dep_out_item("restapi", name, "created", "%s", api_id);
    } else {
        dep_out_item("restapi", name, "found", "%s", api_id);
    }
    if (!api_id[0]) {
        dep_err_local(err, "NoRestApiId", "API Gateway answered without an id for \"%s\"", name);
        return -1;
    }
    dep_project_set_var(&c->project, 1, "apiGatewayApi", cJSON_CreateString(name));
    return dep_project_save_vars(&c->project, 1, err);
}

/* JSON.stringify(tpl) with "$input.json('x')" unquoted, as v0.5 does. */
static char *template_string(const cJSON *v)
{
    char *s;
    struct dep_buf b = {0};

    if (cJSON_IsString(v)) {
        return strdup(v->valuestring);
    }
    s = cJSON_PrintUnformatted(v);
    for (const char *p = s; *p;) {
        if (strncmp(p, "\"$input.json('", 14) == 0) {
            const char *end = strstr(p + 14, "')\"");
            if (end) {
                dep_buf_append(&b, p + 1, (size_t)(end + 2 - (p + 1)));
                p = end + 3;
                continue;
            }
        }
        dep_buf_append(&b, p, 1);
        p++;
    }
    cJSON_free(s);
    return dep_buf_take(&b);
}

/* {"k": tpl} -> {"k": "string"} */
static cJSON *templates_obj(const cJSON *t)
{
    cJSON *o = cJSON_CreateObject();
    const cJSON *c;

    cJSON_ArrayForEach(c, (cJSON_IsObject(t) ? t : NULL))
    {
        char *s = template_string(c);
        cJSON_AddStringToObject(o, c->string, s);
        free(s);
    }
    return o;
}

/* Find or create the resource for path; id into buf. */
static int ensure_resource(struct dep_ctx *c, const char *api, const char *path, char *id, size_t n,
                           struct dep_err *err)
{
    cJSON *out = NULL;
    const cJSON *items, *it;
    char cur[1024] = "", parent[128] = "";
    int rc = -1;

    if (dep_apigw_get_resources(c->region, api, &out, err) < 0) {
        return -1;
    }
    items = items_of(out);
    cJSON_ArrayForEach(it, items)
    {
        if (jstr(it, "path") && strcmp(jstr(it, "path"), "/") == 0) {
            snprintf(parent, sizeof(parent), "%s", jstr(it, "id") ? jstr(it, "id") : "");
        }
    }
    if (!parent[0]) {
        dep_err_local(err, "NoRootResource", "REST API %s has no \"/\" resource", api);
        goto out;
    }
    char *copy = strdup(path), *save = NULL;
    for (char *seg = strtok_r(copy, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
        size_t l = strlen(cur);
        snprintf(cur + l, sizeof(cur) - l, "/%s", seg);
        const char *found = NULL;
        cJSON_ArrayForEach(it, items)
        {
            if (jstr(it, "path") && strcmp(jstr(it, "path"), cur) == 0) {
                found = jstr(it, "id");
            }
        }
        if (found) {
            snprintf(parent, sizeof(parent), "%s", found);
            continue;
        }
        cJSON *r = NULL;
        if (dep_apigw_create_resource(c->region, api, parent, seg, &r, err) < 0) {
            free(copy);
            goto out;
        }
        snprintf(parent, sizeof(parent), "%s", jstr(r, "id") ? jstr(r, "id") : "");
        cJSON_Delete(r);
    }
    free(copy);
    snprintf(id, n, "%s", parent);
    rc = 0;
out:
    cJSON_Delete(out);
    return rc;
}

/* Remove/AddPermission unless the statement already says exactly this. */
static int ensure_permission(struct dep_ctx *c, const char *alias_arn, const char *sid,
                             const char *principal, const char *source_arn, struct dep_err *err)
{
    cJSON *out = NULL, *pol = NULL, *req;
    int exists = 0, same = 0, rc;

    if (dep_lambda_get_policy(c->region, alias_arn, NULL, &out, err) == 0) {
        const char *p = jstr(out, "Policy");
        pol = p ? cJSON_Parse(p) : NULL;
        const cJSON *st;
        cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(pol, "Statement"))
        {
            if (!jstr(st, "Sid") || strcmp(jstr(st, "Sid"), sid) != 0) {
                continue;
            }
            exists = 1;
            const cJSON *pr = cJSON_GetObjectItemCaseSensitive(st, "Principal");
            const char *svc = cJSON_IsString(pr) ? pr->valuestring : jstr(pr, "Service");
            const cJSON *cond = cJSON_GetObjectItemCaseSensitive(st, "Condition");
            const cJSON *al = cond ? cJSON_GetObjectItemCaseSensitive(cond, "ArnLike") : NULL;
            const char *src = al ? jstr(al, "AWS:SourceArn") : NULL;
            same = svc && strcmp(svc, principal) == 0 && src && strcmp(src, source_arn) == 0;
        }
    } else if (!not_found(err)) {
        cJSON_Delete(out);
        return -1;
    }
    cJSON_Delete(out);
    cJSON_Delete(pol);
    if (same) {
        return 0;
    }
    if (exists && dep_lambda_remove_permission(c->region, alias_arn, sid, NULL, err) < 0 &&
        !not_found(err)) {
        return -1;
    }
    req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "StatementId", sid);
    cJSON_AddStringToObject(req, "Action", "lambda:InvokeFunction");
    cJSON_AddStringToObject(req, "Principal", principal);
    cJSON_AddStringToObject(req, "SourceArn", source_arn);
    rc = dep_lambda_add_permission(c->region, alias_arn, NULL, req, NULL, err);
    cJSON_Delete(req);
    return rc;
}

static cJSON *true_map(const cJSON *keys_of, int use_values)
{
    cJSON *o = cJSON_CreateObject();
    const cJSON *c;

    cJSON_ArrayForEach(c, (cJSON_IsObject(keys_of) ? keys_of : NULL))
    {
        const char *k = use_values ? (cJSON_IsString(c) ? c->valuestring : NULL) : c->string;
        if (k && !cJSON_GetObjectItemCaseSensitive(o, k)) {
            cJSON_AddTrueToObject(o, k);
        }
    }
    return o;
}

static const char *authorizer_ids[64][2];
static int n_authorizer_ids;

int dep_endpoint_put(struct dep_ctx *c, const char *api_id, struct dep_function *f,
                     struct dep_endpoint *e, const char *alias_literal, struct dep_err *err)
{
    const cJSON *j = e->json;
    char alias[64], acct[32], alias_arn[512], res_id[128], uri[1200], sid[600], src[1200];
    cJSON *out = NULL, *req = NULL;
    int rc = -1;

    dep_cmd_alias(c, alias, sizeof(alias));
    if (!dep_ctx_account(c, err)) {
        return -1;
    }
    snprintf(acct, sizeof(acct), "%s", c->account);
    /* 3.1 the alias must exist */
    if (dep_lambda_get_function(c->region, f->lambda_name, alias, &out, err) < 0) {
        if (not_found(err)) {
            snprintf(err->message, sizeof(err->message),
                     "alias %s of %s does not exist: run function deploy first (%s)", alias,
                     f->lambda_name, err->code);
        }
        return -1;
    }
    cJSON_Delete(out);
    out = NULL;
    dep_lambda_arn(c->region, acct, f->lambda_name, alias, alias_arn, sizeof(alias_arn));
    /* 3.2-3.3 resources */
    if (ensure_resource(c, api_id, e->path, res_id, sizeof(res_id), err) < 0) {
        return -1;
    }
    /* 3.4 method */
    if (dep_apigw_get_method(c->region, api_id, res_id, e->method, &out, err) == 0) {
        cJSON_Delete(out);
        out = NULL;
        if (dep_apigw_delete_method(c->region, api_id, res_id, e->method, err) < 0) {
            return -1;
        }
    } else if (!not_found(err)) {
        return -1;
    }
    req = cJSON_CreateObject();
    {
        const char *at = jstr(j, "authorizationType");
        char atu[64];
        size_t i;
        for (i = 0; at && at[i] && i + 1 < sizeof(atu); i++) {
            atu[i] = (char)toupper((unsigned char)at[i]);
        }
        atu[i] = 0;
        const char *authid = jstr(j, "authorizerId");
        const char *authfn = jstr(j, "authorizerFunction");
        for (int k = 0; authfn && !authid && k < n_authorizer_ids; k++) {
            if (strcmp(authorizer_ids[k][0], authfn) == 0) {
                authid = authorizer_ids[k][1];
            }
        }
        cJSON_AddStringToObject(req, "authorizationType", at ? atu : "NONE");
        if (authid) {
            cJSON_AddStringToObject(req, "authorizerId", authid);
        }
        cJSON_AddBoolToObject(req, "apiKeyRequired",
                              cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "apiKeyRequired")));
        const cJSON *rm = cJSON_GetObjectItemCaseSensitive(j, "requestModels");
        cJSON_AddItemToObject(req, "requestModels",
                              cJSON_IsObject(rm) ? cJSON_Duplicate(rm, 1) : cJSON_CreateObject());
        cJSON_AddItemToObject(
            req, "requestParameters",
            true_map(cJSON_GetObjectItemCaseSensitive(j, "requestParameters"), 1));
    }
    if (dep_apigw_put_method(c->region, api_id, res_id, e->method, req, err) < 0) {
        goto out;
    }
    cJSON_Delete(req);
    /* 3.5 integration */
    req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "type", e->type);
    if (strcmp(e->type, "HTTP") == 0) {
        const char *u = jstr(j, "uri"), *tm = jstr(j, "targetMethod");
        cJSON_AddStringToObject(req, "httpMethod", tm ? tm : e->method);
        cJSON_AddStringToObject(req, "uri", u ? u : "");
    } else if (strcmp(e->type, "AWS") == 0) {
        char fnarn[600];
        if (alias_literal) {
            dep_lambda_arn(c->region, acct, f->lambda_name, alias_literal, fnarn, sizeof(fnarn));
        } else {
            dep_lambda_arn(c->region, acct, f->lambda_name, "${stageVariables.functionAlias}",
                           fnarn, sizeof(fnarn));
        }
        snprintf(uri, sizeof(uri),
                 "arn:aws:apigateway:%s:lambda:path/2015-03-31/functions/%s/invocations", c->region,
                 fnarn);
        cJSON_AddStringToObject(req, "httpMethod", "POST");
        cJSON_AddStringToObject(req, "uri", uri);
    }
    {
        const cJSON *rp = cJSON_GetObjectItemCaseSensitive(j, "requestParameters");
        cJSON_AddItemToObject(req, "requestParameters",
                              cJSON_IsObject(rp) ? cJSON_Duplicate(rp, 1) : cJSON_CreateObject());
        cJSON_AddItemToObject(
            req, "requestTemplates",
            templates_obj(cJSON_GetObjectItemCaseSensitive(j, "requestTemplates")));
        const char *opt[] = {"cacheNamespace", "credentials", NULL};
        for (int i = 0; opt[i]; i++) {
            if (jstr(j, opt[i])) {
                cJSON_AddStringToObject(req, opt[i], jstr(j, opt[i]));
            }
        }
        const cJSON *ck = cJSON_GetObjectItemCaseSensitive(j, "cacheKeyParameters");
        if (cJSON_IsArray(ck)) {
            cJSON_AddItemToObject(req, "cacheKeyParameters", cJSON_Duplicate(ck, 1));
        }
    }
    if (dep_apigw_put_integration(c->region, api_id, res_id, e->method, req, err) < 0) {
        goto out;
    }
    cJSON_Delete(req);
    req = NULL;
    /* 3.6 responses */
    {
        const cJSON *r;
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(j, "responses"))
        {
            char status[32];
            const cJSON *sc = cJSON_GetObjectItemCaseSensitive(r, "statusCode");
            if (cJSON_IsString(sc)) {
                snprintf(status, sizeof(status), "%s", sc->valuestring);
            } else if (cJSON_IsNumber(sc)) {
                snprintf(status, sizeof(status), "%d", sc->valueint);
            } else {
                snprintf(status, sizeof(status), "%s",
                         strcmp(r->string, "default") == 0 ? "200" : r->string);
            }
            cJSON *mr = cJSON_CreateObject();
            const cJSON *models = cJSON_GetObjectItemCaseSensitive(r, "responseModels");
            cJSON_AddItemToObject(mr, "responseModels",
                                  cJSON_IsObject(models) ? cJSON_Duplicate(models, 1)
                                                         : cJSON_CreateObject());
            cJSON_AddItemToObject(
                mr, "responseParameters",
                true_map(cJSON_GetObjectItemCaseSensitive(r, "responseParameters"), 0));
            int x = dep_apigw_put_method_response(c->region, api_id, res_id, e->method, status, mr,
                                                  err);
            cJSON_Delete(mr);
            if (x < 0) {
                goto out;
            }
            cJSON *ir = cJSON_CreateObject();
            const cJSON *rp = cJSON_GetObjectItemCaseSensitive(r, "responseParameters");
            cJSON_AddItemToObject(ir, "responseParameters",
                                  cJSON_IsObject(rp) ? cJSON_Duplicate(rp, 1)
                                                     : cJSON_CreateObject());
            cJSON_AddItemToObject(
                ir, "responseTemplates",
                templates_obj(cJSON_GetObjectItemCaseSensitive(r, "responseTemplates")));
            const char *sp = jstr(r, "selectionPattern");
            if (sp && sp[0]) {
                cJSON_AddStringToObject(ir, "selectionPattern", sp);
            } else if (strcmp(r->string, "default") != 0) {
                cJSON_AddStringToObject(ir, "selectionPattern", r->string);
            }
            x = dep_apigw_put_integration_response(c->region, api_id, res_id, e->method, status, ir,
                                                   err);
            cJSON_Delete(ir);
            if (x < 0) {
                goto out;
            }
        }
    }
    /* 3.7 permission */
    if (strcmp(e->type, "AWS") == 0) {
        dep_sid_endpoint(e->path, e->method, sid, sizeof(sid));
        snprintf(src, sizeof(src), "arn:aws:execute-api:%s:%s:%s/*/%s/%s", c->region, acct, api_id,
                 e->method, e->path);
        if (ensure_permission(c, alias_arn, sid, "apigateway.amazonaws.com", src, err) < 0) {
            goto out;
        }
    }
    rc = 0;
out:
    cJSON_Delete(req);
    return rc;
}

/* authorizerResultTtlInSeconds as a number, or as a numeric string ("0"): the
 * AWS SDK for JavaScript that v0.5 calls through casts such strings. 1 when
 * set (value in *out). */
static int authorizer_ttl(const cJSON *ttl, double *out)
{
    if (cJSON_IsNumber(ttl)) {
        *out = ttl->valuedouble;
        return 1;
    }
    if (cJSON_IsString(ttl) && ttl->valuestring[0]) {
        char *end = NULL;
        errno = 0;
        double v = strtod(ttl->valuestring, &end);
        if (errno == 0 && end && *end == 0) {
            *out = v;
            return 1;
        }
    }
    return 0;
}

int dep_authorizers_ensure(struct dep_ctx *c, const char *api_id, struct dep_err *err)
{
    cJSON *out = NULL;
    int rc = 0;
    char alias[64];

    for (int k = 0; k < n_authorizer_ids; k++) {
        free((char *)authorizer_ids[k][0]);
        free((char *)authorizer_ids[k][1]);
    }
    n_authorizer_ids = 0;
    dep_cmd_alias(c, alias, sizeof(alias));
    for (int i = 0; i < c->project.n_functions && rc == 0; i++) {
        struct dep_function *f = &c->project.functions[i];
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(f->json, "authorizer");
        if (!cJSON_IsObject(a) || cJSON_GetArraySize(a) == 0) {
            continue;
        }
        if (!out && dep_apigw_get_authorizers(c->region, api_id, &out, err) < 0) {
            return -1;
        }
        char acct[32], fnarn[600], uri[1200], sid[300], src[600], id[128] = "";
        if (!dep_ctx_account(c, err)) {
            rc = -1;
            break;
        }
        snprintf(acct, sizeof(acct), "%s", c->account);
        dep_lambda_arn(c->region, acct, f->lambda_name, "${stageVariables.functionAlias}", fnarn,
                       sizeof(fnarn));
        snprintf(uri, sizeof(uri),
                 "arn:aws:apigateway:%s:lambda:path/2015-03-31/functions/%s/invocations", c->region,
                 fnarn);
        const cJSON *it;
        cJSON_ArrayForEach(it, items_of(out))
        {
            if (jstr(it, "name") && strcmp(jstr(it, "name"), f->lambda_name) == 0 &&
                jstr(it, "id")) {
                snprintf(id, sizeof(id), "%s", jstr(it, "id"));
            }
        }
        const char *is = jstr(a, "identitySource");
        const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(a, "authorizerResultTtlInSeconds");
        const char *iv = jstr(a, "identityValidationExpression");
        if (!id[0]) {
            cJSON *req = cJSON_CreateObject(), *r = NULL;
            cJSON_AddStringToObject(req, "name", f->lambda_name);
            cJSON_AddStringToObject(req, "type", jstr(a, "type") ? jstr(a, "type") : "TOKEN");
            cJSON_AddStringToObject(req, "authorizerUri", uri);
            cJSON_AddStringToObject(req, "identitySource",
                                    is ? is : "method.request.header.Authorization");
            double ttl_s;
            if (authorizer_ttl(ttl, &ttl_s)) {
                cJSON_AddNumberToObject(req, "authorizerResultTtlInSeconds", ttl_s);
            }
            if (iv) {
                cJSON_AddStringToObject(req, "identityValidationExpression", iv);
            }
            rc = dep_apigw_create_authorizer(c->region, api_id, req, &r, err);
            if (rc == 0 && jstr(r, "id")) {
                snprintf(id, sizeof(id), "%s", jstr(r, "id"));
            }
            cJSON_Delete(req);
            cJSON_Delete(r);
        } else {
            cJSON *patch = cJSON_CreateArray();
            cJSON *op = cJSON_CreateObject();
            cJSON_AddStringToObject(op, "op", "replace");
            cJSON_AddStringToObject(op, "path", "/authorizerUri");
            cJSON_AddStringToObject(op, "value", uri);
            cJSON_AddItemToArray(patch, op);
            op = cJSON_CreateObject();
            cJSON_AddStringToObject(op, "op", "replace");
            cJSON_AddStringToObject(op, "path", "/identitySource");
            cJSON_AddStringToObject(op, "value", is ? is : "method.request.header.Authorization");
            cJSON_AddItemToArray(patch, op);
            rc = dep_apigw_update_authorizer(c->region, api_id, id, patch, err);
            cJSON_Delete(patch);
        }
        if (rc < 0) {
            break;
        }
        if (n_authorizer_ids < 64) {
            authorizer_ids[n_authorizer_ids][0] = strdup(f->name);
            authorizer_ids[n_authorizer_ids][1] = strdup(id);
            n_authorizer_ids++;
        }
        char alias_arn[512];
        dep_lambda_arn(c->region, acct, f->lambda_name, alias, alias_arn, sizeof(alias_arn));
        dep_sid_authorizer(f->lambda_name, sid, sizeof(sid));
        snprintf(src, sizeof(src), "arn:aws:execute-api:%s:%s:%s/authorizers/%s", c->region, acct,
                 api_id, id);
        rc = ensure_permission(c, alias_arn, sid, "apigateway.amazonaws.com", src, err);
        dep_out_item("authorizer", f->lambda_name, rc == 0 ? "ok" : "failed", "%s", id);
    }
    cJSON_Delete(out);
    return rc;
}

int dep_stage_deploy(struct dep_ctx *c, const char *api_id, char *deployment_id, size_t n,
                     struct dep_err *err)
{
    cJSON *req = cJSON_CreateObject(), *out = NULL;
    char alias[64];
    int rc;

    dep_cmd_alias(c, alias, sizeof(alias));
    cJSON_AddStringToObject(req, "stageName", c->stage);
    cJSON_AddStringToObject(req, "description",
                            c->opts && c->opts->description ? c->opts->description
                                                            : "Serverless deployment");
    cJSON_AddStringToObject(req, "stageDescription", c->stage);
    cJSON *vars = cJSON_AddObjectToObject(req, "variables");
    cJSON_AddStringToObject(vars, "functionAlias", alias);
    rc = dep_apigw_create_deployment(c->region, api_id, req, &out, err);
    if (rc == 0 && deployment_id) {
        snprintf(deployment_id, n, "%s", jstr(out, "id") ? jstr(out, "id") : "");
    }
    cJSON_Delete(req);
    cJSON_Delete(out);
    return rc;
}

int dep_step_endpoint_deploy(struct dep_ctx *c)
{
    struct dep_err err;
    char api_id[128] = "", dep_id[128] = "", url[1024];
    int n = 0, ok_n = 0, fail_n = 0, total = 0, rc;
    struct dep_function **fns;
    const char *alias_literal = c->opts ? c->opts->alias_endpoint_name : NULL;
    char alias_buf[64];

    dep_err_clear(&err);
    dep_out_step(STEP);
    if (!alias_literal && c->opts && c->opts->alias_endpoint) {
        /* -e without a value: the run's alias, literally, in the URI */
        alias_literal = dep_cmd_alias(c, alias_buf, sizeof(alias_buf));
    }
    rc = dep_cmd_check_names(c, STEP);
    if (rc) {
        dep_out_step_done(STEP, "failed");
        return rc;
    }
    fns = dep_select_functions(c, &n);
    for (int i = 0; i < n; i++) {
        total += fns[i]->n_endpoints;
    }
    if (total == 0) {
        free(fns);
        dep_out_errorf(STEP, "no endpoints in the selected functions of project %s",
                       c->project.name);
        dep_out_step_done(STEP, "failed");
        return DEP_EXIT_FAIL;
    }
    if (dep_rest_api_ensure(c, api_id, sizeof(api_id), &err) < 0) {
        dep_out_error(STEP, &err);
        rc = dep_err_exit(&err);
        goto out;
    }
    if (dep_authorizers_ensure(c, api_id, &err) < 0) {
        dep_out_error(STEP, &err);
        rc = dep_err_exit(&err);
        goto out;
    }
    dep_stage_url(api_id, c->region, c->stage, url, sizeof(url));
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < fns[i]->n_endpoints; k++) {
            struct dep_endpoint *e = &fns[i]->endpoints[k];
            char id[600];
            snprintf(id, sizeof(id), "%s~%s", e->path, e->method);
            dep_err_clear(&err);
            if (dep_endpoint_put(c, api_id, fns[i], e, alias_literal, &err) == 0) {
                ok_n++;
                dep_out_item("endpoint", id, "ok", "%s %s/%s", e->method, url, e->path);
            } else {
                fail_n++;
                dep_out_item("endpoint", id, "failed", NULL);
                dep_out_error(STEP, &err);
            }
        }
    }
    if (fail_n) {
        dep_out_errorf(STEP,
                       "%d of %d endpoint%s failed: stage %s was not redeployed (it keeps its "
                       "previous deployment)",
                       fail_n, total, total == 1 ? "" : "s", c->stage);
        rc = DEP_EXIT_FAIL;
        goto out;
    }
    if (dep_stage_deploy(c, api_id, dep_id, sizeof(dep_id), &err) < 0) {
        dep_out_error(STEP, &err);
        rc = dep_err_exit(&err);
        goto out;
    }
    dep_out_item("stage", c->stage, "deployed", "deployment %s", dep_id);
    dep_out_url(c->stage, c->region, url);
    dep_out_result("restApiId", cJSON_CreateString(api_id));
    dep_out_result("deploymentId", cJSON_CreateString(dep_id));
    dep_out_result("stageUrl", cJSON_CreateString(url));
    rc = DEP_EXIT_OK;
out:
    if (api_id[0]) {
        /* apiGatewayApi was stored as a variable */
        int r = dep_meta_autopush(c, STEP);
        if (!rc) {
            rc = r;
        }
    }
    for (int k = 0; k < n_authorizer_ids; k++) {
        free((char *)authorizer_ids[k][0]);
        free((char *)authorizer_ids[k][1]);
    }
    n_authorizer_ids = 0;
    free(fns);
    dep_out_step_done(STEP, rc == 0 ? "ok" : "failed");
    return rc;
}

int cmd_endpoint_deploy(struct dep_ctx *c)
{
    return dep_step_endpoint_deploy(c);
}
