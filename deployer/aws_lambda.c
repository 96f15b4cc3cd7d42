/*
 * aws_lambda.c - Lambda calls stagehand makes (rest-json 2015-03-31):
 * GetFunction, CreateFunction, UpdateFunctionConfiguration,
 * UpdateFunctionCode, PublishVersion, ListVersionsByFunction (all pages),
 * GetAlias, CreateAlias, UpdateAlias, DeleteAlias, AddPermission,
 * RemovePermission, GetPolicy, CreateEventSourceMapping,
 * UpdateEventSourceMapping. FunctionName may be a name or an ARN (it is
 * percent-encoded into the path).
 */
#include "dep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LPATH "/2015-03-31/functions/"

static const char *fpath(const char *fn, const char *suffix, char *buf, size_t n)
{
    char *e = dep_urlencode(fn, 0);

    snprintf(buf, n, LPATH "%s%s", e, suffix ? suffix : "");
    free(e);
    return buf;
}

static const char *qual(const char *qualifier, char *buf, size_t n)
{
    char *e;

    if (!qualifier) {
        return NULL;
    }
    e = dep_urlencode(qualifier, 0);
    snprintf(buf, n, "Qualifier=%s", e);
    free(e);
    return buf;
}

int dep_lambda_get_function(const char *region, const char *fn, const char *qualifier, cJSON **out,
                            struct dep_err *err)
{
    char path[1024], q[256];

    return dep_rest_json("lambda", region, "GetFunction", fn, "GET",
                         fpath(fn, NULL, path, sizeof(path)), qual(qualifier, q, sizeof(q)), NULL,
                         out, err);
}

int dep_lambda_create_function(const char *region, const cJSON *req, cJSON **out,
                               struct dep_err *err)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(req, "FunctionName");

    return dep_rest_json("lambda", region, "CreateFunction",
                         cJSON_IsString(n) ? n->valuestring : NULL, "POST", "/2015-03-31/functions",
                         NULL, req, out, err);
}

int dep_lambda_update_function_configuration(const char *region, const char *fn, const cJSON *req,
                                             cJSON **out, struct dep_err *err)
{
    char path[1024];

    return dep_rest_json("lambda", region, "UpdateFunctionConfiguration", fn, "PUT",
                         fpath(fn, "/configuration", path, sizeof(path)), NULL, req, out, err);
}

int dep_lambda_update_function_code(const char *region, const char *fn, const cJSON *req,
                                    cJSON **out, struct dep_err *err)
{
    char path[1024];

    return dep_rest_json("lambda", region, "UpdateFunctionCode", fn, "PUT",
                         fpath(fn, "/code", path, sizeof(path)), NULL, req, out, err);
}

int dep_lambda_publish_version(const char *region, const char *fn, const cJSON *req, cJSON **out,
                               struct dep_err *err)
{
    char path[1024];
    cJSON *empty = req ? NULL : cJSON_CreateObject();
    int rc = dep_rest_json("lambda", region, "PublishVersion", fn, "POST",
                           fpath(fn, "/versions", path, sizeof(path)), NULL, req ? req : empty, out,
                           err);

    cJSON_Delete(empty);
    return rc;
}

int dep_lambda_list_versions(const char *region, const char *fn, cJSON **out, struct dep_err *err)
{
    char path[1024], q[1200];
    cJSON *all = cJSON_CreateArray();
    char *marker = NULL;
    int rc = 0;

    fpath(fn, "/versions", path, sizeof(path));
    for (int page = 0; page < 100; page++) {
        cJSON *r = NULL;
        if (marker) {
            char *m = dep_urlencode(marker, 0);
            snprintf(q, sizeof(q), "Marker=%s&MaxItems=50", m);
            free(m);
        } else {
            snprintf(q, sizeof(q), "MaxItems=50");
        }
        rc = dep_rest_json("lambda", region, "ListVersionsByFunction", fn, "GET", path, q, NULL, &r,
                           err);
        if (rc < 0) {
            break;
        }
        const cJSON *v, *vs = cJSON_GetObjectItemCaseSensitive(r, "Versions");
        cJSON_ArrayForEach(v, vs)
        {
            cJSON_AddItemToArray(all, cJSON_Duplicate(v, 1));
        }
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(r, "NextMarker");
        free(marker);
        marker = cJSON_IsString(nm) && nm->valuestring[0] ? strdup(nm->valuestring) : NULL;
        cJSON_Delete(r);
        if (!marker) {
            break;
        }
    }
    free(marker);
    if (rc < 0) {
        cJSON_Delete(all);
        *out = NULL;
        return -1;
    }
    *out = cJSON_CreateObject();
    cJSON_AddItemToObject(*out, "Versions", all);
    return 0;
}

int dep_lambda_get_alias(const char *region, const char *fn, const char *alias, cJSON **out,
                         struct dep_err *err)
{
    char path[1024], suf[256];
    char *a = dep_urlencode(alias, 0);

    snprintf(suf, sizeof(suf), "/aliases/%s", a);
    free(a);
    return dep_rest_json("lambda", region, "GetAlias", fn, "GET",
                         fpath(fn, suf, path, sizeof(path)), NULL, NULL, out, err);
}

int dep_lambda_create_alias(const char *region, const char *fn, const cJSON *req, cJSON **out,
                            struct dep_err *err)
{
    char path[1024];

    return dep_rest_json("lambda", region, "CreateAlias", fn, "POST",
                         fpath(fn, "/aliases", path, sizeof(path)), NULL, req, out, err);
}

int dep_lambda_update_alias(const char *region, const char *fn, const char *alias, const cJSON *req,
                            cJSON **out, struct dep_err *err)
{
    char path[1024], suf[256];
    char *a = dep_urlencode(alias, 0);

    snprintf(suf, sizeof(suf), "/aliases/%s", a);
    free(a);
    return dep_rest_json("lambda", region, "UpdateAlias", fn, "PUT",
                         fpath(fn, suf, path, sizeof(path)), NULL, req, out, err);
}

int dep_lambda_delete_alias(const char *region, const char *fn, const char *alias,
                            struct dep_err *err)
{
    char path[1024], suf[256];
    char *a = dep_urlencode(alias, 0);

    snprintf(suf, sizeof(suf), "/aliases/%s", a);
    free(a);
    return dep_rest_json("lambda", region, "DeleteAlias", fn, "DELETE",
                         fpath(fn, suf, path, sizeof(path)), NULL, NULL, NULL, err);
}

int dep_lambda_add_permission(const char *region, const char *fn, const char *qualifier,
                              const cJSON *req, cJSON **out, struct dep_err *err)
{
    char path[1024], q[256];

    return dep_rest_json("lambda", region, "AddPermission", fn, "POST",
                         fpath(fn, "/policy", path, sizeof(path)), qual(qualifier, q, sizeof(q)),
                         req, out, err);
}

int dep_lambda_remove_permission(const char *region, const char *fn, const char *sid,
                                 const char *qualifier, struct dep_err *err)
{
    char path[1024], q[256], suf[600];
    char *s = dep_urlencode(sid, 0);

    snprintf(suf, sizeof(suf), "/policy/%s", s);
    free(s);
    return dep_rest_json("lambda", region, "RemovePermission", fn, "DELETE",
                         fpath(fn, suf, path, sizeof(path)), qual(qualifier, q, sizeof(q)), NULL,
                         NULL, err);
}

int dep_lambda_get_policy(const char *region, const char *fn, const char *qualifier, cJSON **out,
                          struct dep_err *err)
{
    char path[1024], q[256];

    return dep_rest_json("lambda", region, "GetPolicy", fn, "GET",
                         fpath(fn, "/policy", path, sizeof(path)), qual(qualifier, q, sizeof(q)),
                         NULL, out, err);
}

int dep_lambda_create_event_source_mapping(const char *region, const cJSON *req, cJSON **out,
                                           struct dep_err *err)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(req, "FunctionName");

    return dep_rest_json("lambda", region, "CreateEventSourceMapping",
                         cJSON_IsString(n) ? n->valuestring : NULL, "POST",
                         "/2015-03-31/event-source-mappings/", NULL, req, out, err);
}

int dep_lambda_update_event_source_mapping(const char *region, const char *uuid, const cJSON *req,
                                           cJSON **out, struct dep_err *err)
{
    char path[512];
    char *u = dep_urlencode(uuid, 0);

    snprintf(path, sizeof(path), "/2015-03-31/event-source-mappings/%s", u);
    free(u);
    return dep_rest_json("lambda", region, "UpdateEventSourceMapping", uuid, "PUT", path, NULL, req,
                         out, err);
}
