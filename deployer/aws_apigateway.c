/*
 * aws_apigateway.c - API Gateway calls stagehand makes (rest-json
 * 2015-07-09): GetRestApis, CreateRestApi, GetResources, CreateResource,
 * GetMethod, DeleteMethod, PutMethod, PutIntegration, PutMethodResponse,
 * PutIntegrationResponse, CreateDeployment, GetStage, UpdateStage,
 * GetAuthorizers, CreateAuthorizer, UpdateAuthorizer. The three list
 * calls follow "position" past 500 items (v0.5 stopped at 500) and answer
 * {"item": [...]}.
 */
#include "dep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *mpath(const char *api, const char *res, const char *method, const char *suffix,
                         char *buf, size_t n)
{
    char *a = dep_urlencode(api, 0), *r = dep_urlencode(res, 0), *m = dep_urlencode(method, 0);

    snprintf(buf, n, "/restapis/%s/resources/%s/methods/%s%s", a, r, m, suffix ? suffix : "");
    free(a);
    free(r);
    free(m);
    return buf;
}

static const char *res_of(const char *api, const char *x, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s%s", api, x ? "/" : "", x ? x : "");
    return buf;
}

/* GET a paginated list (limit 500, "position" tokens); *out gets
 * {"item": [every item]}. At most 100 pages. */
static int get_all(const char *region, const char *operation, const char *resource,
                   const char *path, cJSON **out, struct dep_err *err)
{
    cJSON *all = cJSON_CreateArray();
    char *position = NULL;
    int rc = 0;

    *out = NULL;
    for (int page = 0; page < 100; page++) {
        char query[1200];
        cJSON *r = NULL;
        if (position) {
            char *e = dep_urlencode(position, 0);
            snprintf(query, sizeof(query), "limit=500&position=%s", e);
            free(e);
        } else {
            snprintf(query, sizeof(query), "limit=500");
        }
        rc = dep_rest_json("apigateway", region, operation, resource, "GET", path, query, NULL, &r,
                           err);
        if (rc < 0) {
            break;
        }
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(r, "item");
        const cJSON *it;
        if (!items) {
            items = cJSON_GetObjectItemCaseSensitive(r, "items");
        }
        cJSON_ArrayForEach(it, items)
        {
            cJSON_AddItemToArray(all, cJSON_Duplicate(it, 1));
        }
        const cJSON *pos = cJSON_GetObjectItemCaseSensitive(r, "position");
        free(position);
        position = cJSON_IsString(pos) && pos->valuestring[0] && cJSON_GetArraySize(items) > 0
                       ? strdup(pos->valuestring)
                       : NULL;
        cJSON_Delete(r);
        if (!position) {
            break;
        }
    }
    free(position);
    if (rc < 0) {
        cJSON_Delete(all);
        return -1;
    }
    *out = cJSON_CreateObject();
    cJSON_AddItemToObject(*out, "item", all);
    return 0;
}

int dep_apigw_get_rest_apis(const char *region, cJSON **out, struct dep_err *err)
{
    return get_all(region, "GetRestApis", NULL, "/restapis", out, err);
}

int dep_apigw_create_rest_api(const char *region, const char *name, const char *description,
                              cJSON **out, struct dep_err *err)
{
    cJSON *b = cJSON_CreateObject();
    int rc;

    cJSON_AddStringToObject(b, "name", name);
    if (description) {
        cJSON_AddStringToObject(b, "description", description);
    }
    rc = dep_rest_json("apigateway", region, "CreateRestApi", name, "POST", "/restapis", NULL, b,
                       out, err);
    cJSON_Delete(b);
    return rc;
}

int dep_apigw_get_resources(const char *region, const char *api, cJSON **out, struct dep_err *err)
{
    char path[512];
    char *a = dep_urlencode(api, 0);

    snprintf(path, sizeof(path), "/restapis/%s/resources", a);
    free(a);
    return get_all(region, "GetResources", api, path, out, err);
}

int dep_apigw_create_resource(const char *region, const char *api, const char *parent,
                              const char *part, cJSON **out, struct dep_err *err)
{
    char path[512], rs[256];
    char *a = dep_urlencode(api, 0), *p = dep_urlencode(parent, 0);
    cJSON *b = cJSON_CreateObject();
    int rc;

    snprintf(path, sizeof(path), "/restapis/%s/resources/%s", a, p);
    free(a);
    free(p);
    cJSON_AddStringToObject(b, "pathPart", part);
    rc = dep_rest_json("apigateway", region, "CreateResource", res_of(api, NULL, rs, sizeof(rs)),
                       "POST", path, NULL, b, out, err);
    cJSON_Delete(b);
    return rc;
}

int dep_apigw_get_method(const char *region, const char *api, const char *res, const char *method,
                         cJSON **out, struct dep_err *err)
{
    char path[1024];

    return dep_rest_json("apigateway", region, "GetMethod", api, "GET",
                         mpath(api, res, method, NULL, path, sizeof(path)), NULL, NULL, out, err);
}

int dep_apigw_delete_method(const char *region, const char *api, const char *res,
                            const char *method, struct dep_err *err)
{
    char path[1024];

    return dep_rest_json("apigateway", region, "DeleteMethod", api, "DELETE",
                         mpath(api, res, method, NULL, path, sizeof(path)), NULL, NULL, NULL, err);
}

int dep_apigw_put_method(const char *region, const char *api, const char *res, const char *method,
                         const cJSON *req, struct dep_err *err)
{
    char path[1024];

    return dep_rest_json("apigateway", region, "PutMethod", api, "PUT",
                         mpath(api, res, method, NULL, path, sizeof(path)), NULL, req, NULL, err);
}

int dep_apigw_put_integration(const char *region, const char *api, const char *res,
                              const char *method, const cJSON *req, struct dep_err *err)
{
    char path[1024];

    return dep_rest_json("apigateway", region, "PutIntegration", api, "PUT",
                         mpath(api, res, method, "/integration", path, sizeof(path)), NULL, req,
                         NULL, err);
}

int dep_apigw_put_method_response(const char *region, const char *api, const char *res,
                                  const char *method, const char *status, const cJSON *req,
                                  struct dep_err *err)
{
    char path[1024], suf[128];
    char *s = dep_urlencode(status, 0);

    snprintf(suf, sizeof(suf), "/responses/%s", s);
    free(s);
    return dep_rest_json("apigateway", region, "PutMethodResponse", api, "PUT",
                         mpath(api, res, method, suf, path, sizeof(path)), NULL, req, NULL, err);
}

int dep_apigw_put_integration_response(const char *region, const char *api, const char *res,
                                       const char *method, const char *status, const cJSON *req,
                                       struct dep_err *err)
{
    char path[1024], suf[160];
    char *s = dep_urlencode(status, 0);

    snprintf(suf, sizeof(suf), "/integration/responses/%s", s);
    free(s);
    return dep_rest_json("apigateway", region, "PutIntegrationResponse", api, "PUT",
                         mpath(api, res, method, suf, path, sizeof(path)), NULL, req, NULL, err);
}

int dep_apigw_create_deployment(const char *region, const char *api, const cJSON *req, cJSON **out,
                                struct dep_err *err)
{
    char path[512], rs[256];
    char *a = dep_urlencode(api, 0);
    const cJSON *sn = cJSON_GetObjectItemCaseSensitive(req, "stageName");

    snprintf(path, sizeof(path), "/restapis/%s/deployments", a);
    free(a);
    return dep_rest_json("apigateway", region, "CreateDeployment",
                         res_of(api, cJSON_IsString(sn) ? sn->valuestring : NULL, rs, sizeof(rs)),
                         "POST", path, NULL, req, out, err);
}

int dep_apigw_get_stage(const char *region, const char *api, const char *stage, cJSON **out,
                        struct dep_err *err)
{
    char path[512], rs[256];
    char *a = dep_urlencode(api, 0), *s = dep_urlencode(stage, 0);

    snprintf(path, sizeof(path), "/restapis/%s/stages/%s", a, s);
    free(a);
    free(s);
    return dep_rest_json("apigateway", region, "GetStage", res_of(api, stage, rs, sizeof(rs)),
                         "GET", path, NULL, NULL, out, err);
}

int dep_apigw_update_stage(const char *region, const char *api, const char *stage,
                           const cJSON *patch, cJSON **out, struct dep_err *err)
{
    char path[512], rs[256];
    char *a = dep_urlencode(api, 0), *s = dep_urlencode(stage, 0);
    cJSON *b = cJSON_CreateObject();
    int rc;

    snprintf(path, sizeof(path), "/restapis/%s/stages/%s", a, s);
    free(a);
    free(s);
    cJSON_AddItemToObject(b, "patchOperations", cJSON_Duplicate(patch, 1));
    rc = dep_rest_json("apigateway", region, "UpdateStage", res_of(api, stage, rs, sizeof(rs)),
                       "PATCH", path, NULL, b, out, err);
    cJSON_Delete(b);
    return rc;
}

int dep_apigw_get_authorizers(const char *region, const char *api, cJSON **out, struct dep_err *err)
{
    char path[512];
    char *a = dep_urlencode(api, 0);

    snprintf(path, sizeof(path), "/restapis/%s/authorizers", a);
    free(a);
    return get_all(region, "GetAuthorizers", api, path, out, err);
}

int dep_apigw_create_authorizer(const char *region, const char *api, const cJSON *req, cJSON **out,
                                struct dep_err *err)
{
    char path[512];
    char *a = dep_urlencode(api, 0);

    snprintf(path, sizeof(path), "/restapis/%s/authorizers", a);
    free(a);
    return dep_rest_json("apigateway", region, "CreateAuthorizer", api, "POST", path, NULL, req,
                         out, err);
}

int dep_apigw_update_authorizer(const char *region, const char *api, const char *id,
                                const cJSON *patch, struct dep_err *err)
{
    char path[512];
    char *a = dep_urlencode(api, 0), *i = dep_urlencode(id, 0);
    cJSON *b = cJSON_CreateObject();
    int rc;

    snprintf(path, sizeof(path), "/restapis/%s/authorizers/%s", a, i);
    free(a);
    free(i);
    cJSON_AddItemToObject(b, "patchOperations", cJSON_Duplicate(patch, 1));
    rc = dep_rest_json("apigateway", region, "UpdateAuthorizer", api, "PATCH", path, NULL, b, NULL,
                       err);
    cJSON_Delete(b);
    return rc;
}
