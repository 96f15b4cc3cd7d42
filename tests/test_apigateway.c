/*
 * test_apigateway.c - API Gateway REST against a real greenroom on port 0:
 * one tcase per group of operations (rest APIs, resources, methods,
 * integrations, method and integration responses, deployments, stages,
 * authorizers, API keys) and per integration type on the invoke path (MOCK,
 * HTTP, HTTP_PROXY, AWS_PROXY, AWS with VTL templates), the three stage URL
 * forms, snapshot isolation, a deleted stage, the alias flip and a missing
 * Lambda permission.
 */
#include <check.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "testkit.h"

static struct gr_server srv;

static void setup(void)
{
    gr_set_credentials("test", "test", "us-east-1");
    ck_assert_int_eq(gr_start(&srv, NULL), 0);
}

static void teardown(void)
{
    gr_stop(&srv);
}

static const char *const json_hdr[] = {"Content-Type: application/json", "Accept: application/json",
                                       NULL};

/* A signed API Gateway call; body is a printf format (NULL: no body) with
 * its arguments in ap. Returns the parsed JSON (caller deletes, may be
 * NULL) and the status. */
static cJSON *vapi(long *status, const char *method, const char *path, const char *fmt, va_list ap)
{
    char body[8192] = "";
    if (fmt != NULL) {
        vsnprintf(body, sizeof(body), fmt, ap);
    }
    struct gr_resp r;
    ck_assert_int_eq(gr_request(&srv, "apigateway", method, path, json_hdr, body, strlen(body), &r),
                     0);
    *status = r.status;
    cJSON *j = gr_resp_json(&r);
    gr_resp_free(&r);
    return j;
}

/* vapi with the arguments given here. */
static cJSON *api(long *status, const char *method, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static cJSON *api(long *status, const char *method, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cJSON *j = vapi(status, method, path, fmt, ap);
    va_end(ap);
    return j;
}

/* A call whose answer is not read: returns its status. */
static long api_st(const char *method, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static long api_st(const char *method, const char *path, const char *fmt, ...)
{
    long st;
    va_list ap;
    va_start(ap, fmt);
    cJSON_Delete(vapi(&st, method, path, fmt, ap));
    va_end(ap);
    return st;
}

static const char *js(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Unsigned request to a stage URL. */
static long invoke(const char *method, const char *path, const char *const *headers,
                   const char *body, char **out_body, char *ctype, size_t clen)
{
    struct gr_resp r;
    ck_assert_int_eq(
        gr_request_unsigned(&srv, method, path, headers, body, body != NULL ? strlen(body) : 0, &r),
        0);
    long st = r.status;
    if (ctype != NULL) {
        ctype[0] = 0;
        gr_resp_header(&r, "Content-Type", ctype, clen);
    }
    if (out_body != NULL) {
        *out_body = strdup(r.body != NULL ? r.body : "");
    }
    gr_resp_free(&r);
    return st;
}

/* Creates an API; fills id and root resource id. */
static void make_api(const char *name, char *id, char *root)
{
    long st;
    cJSON *j = api(&st, "POST", "/restapis", "{\"name\":\"%s\"}", name);
    ck_assert_int_eq(st, 201);
    snprintf(id, 16, "%s", js(j, "id"));
    snprintf(root, 16, "%s", js(j, "rootResourceId"));
    cJSON_Delete(j);
}

static void make_resource(const char *apiid, const char *parent, const char *part, char *out)
{
    long st;
    char path[256];
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s", apiid, parent);
    cJSON *j = api(&st, "POST", path, "{\"pathPart\":\"%s\"}", part);
    ck_assert_int_eq(st, 201);
    snprintf(out, 16, "%s", js(j, "id"));
    cJSON_Delete(j);
}

/* PUT method + MOCK integration returning template body with status. */
static void make_mock(const char *apiid, const char *rid, const char *method,
                      const char *resp_template_json)
{
    char path[300];
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s/methods/%s", apiid, rid, method);
    ck_assert_int_eq(api_st("PUT", path, "{\"authorizationType\":\"NONE\"}"), 201);
    char ip[340];
    snprintf(ip, sizeof(ip), "%s/integration", path);
    ck_assert_int_eq(api_st("PUT", ip,
                            "{\"type\":\"MOCK\",\"requestTemplates\":{\"application/json\":"
                            "\"{\\\"statusCode\\\": 200}\"}}"),
                     201);
    char rp[360];
    snprintf(rp, sizeof(rp), "%s/responses/200", path);
    ck_assert_int_eq(api_st("PUT", rp, "{}"), 201);
    snprintf(rp, sizeof(rp), "%s/integration/responses/200", path);
    ck_assert_int_eq(
        api_st("PUT", rp, "{\"responseTemplates\":{\"application/json\":%s}}", resp_template_json),
        201);
}

static void deploy(const char *apiid, const char *stage, const char *vars_json, char *dep_out)
{
    long st;
    char path[128];
    snprintf(path, sizeof(path), "/restapis/%s/deployments", apiid);
    cJSON *j = api(&st, "POST", path, "{\"stageName\":\"%s\",\"variables\":%s}", stage,
                   vars_json != NULL ? vars_json : "{}");
    ck_assert_int_eq(st, 201);
    if (dep_out != NULL) {
        snprintf(dep_out, 16, "%s", js(j, "id"));
    }
    cJSON_Delete(j);
}

static int is_apigw_id(const char *s)
{
    if (s == NULL || strlen(s) != 10) {
        return 0;
    }
    for (const char *p = s; *p; p++) {
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p)) {
            return 0;
        }
    }
    return 1;
}

/* ------------------------------------------------------------ control */

START_TEST(test_rest_apis)
{
    long st;
    cJSON *j = api(&st, "POST", "/restapis", "{\"name\":\"books\",\"description\":\"d\"}");
    ck_assert_int_eq(st, 201);
    ck_assert(is_apigw_id(js(j, "id")));
    ck_assert(is_apigw_id(js(j, "rootResourceId")));
    ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(j, "createdDate")));
    char id[16];
    snprintf(id, sizeof(id), "%s", js(j, "id"));
    cJSON_Delete(j);
    char path[64];
    snprintf(path, sizeof(path), "/restapis/%s", id);
    j = api(&st, "GET", path, NULL);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(js(j, "name"), "books");
    cJSON_Delete(j);
    j = api(&st, "GET", "/restapis?limit=500", NULL);
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "item")), 1);
    ck_assert_ptr_null(cJSON_GetObjectItem(j, "items"));
    cJSON_Delete(j);
    j = api(&st, "PATCH", path,
            "{\"patchOperations\":[{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"b2\"}]}");
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(js(j, "name"), "b2");
    cJSON_Delete(j);
    j = api(&st, "PATCH", path,
            "{\"patchOperations\":[{\"op\":\"replace\",\"path\":\"/bogus\",\"value\":\"x\"}]}");
    ck_assert_int_eq(st, 400);
    cJSON_Delete(j);
    j = api(&st, "POST", "/restapis", "{}");
    ck_assert_int_eq(st, 400);
    cJSON_Delete(j);
    ck_assert_int_eq(api_st("DELETE", path, NULL), 202);
    j = api(&st, "GET", path, NULL);
    ck_assert_int_eq(st, 404);
    ck_assert_ptr_nonnull(strstr(js(j, "message"), "Invalid API identifier specified"));
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_resources)
{
    char id[16], root[16], books[16], bid[16], proxy[16];
    make_api("r", id, root);
    make_resource(id, root, "books", books);
    make_resource(id, books, "{id}", bid);
    make_resource(id, root, "{proxy+}", proxy);
    long st;
    char path[128];
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s", id, root);
    cJSON *j = api(&st, "POST", path, "{\"pathPart\":\"books\"}");
    ck_assert_int_eq(st, 409);
    ck_assert_str_eq(js(j, "message"),
                     "Another resource with the same parent already has this name: books");
    cJSON_Delete(j);
    j = api(&st, "POST", path, "{\"pathPart\":\"bad/part\"}");
    ck_assert_int_eq(st, 400);
    cJSON_Delete(j);
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s", id, bid);
    j = api(&st, "GET", path, NULL);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(js(j, "path"), "/books/{id}");
    ck_assert_str_eq(js(j, "parentId"), books);
    cJSON_Delete(j);
    /* pagination */
    snprintf(path, sizeof(path), "/restapis/%s/resources?limit=2", id);
    j = api(&st, "GET", path, NULL);
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "item")), 2);
    char pos[32];
    snprintf(pos, sizeof(pos), "%s", js(j, "position"));
    cJSON_Delete(j);
    snprintf(path, sizeof(path), "/restapis/%s/resources?limit=2&position=%s", id, pos);
    j = api(&st, "GET", path, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "item")), 2);
    ck_assert_ptr_null(cJSON_GetObjectItem(j, "position"));
    cJSON_Delete(j);
    /* embed=methods shows method bodies */
    make_mock(id, bid, "GET", "\"{}\"");
    snprintf(path, sizeof(path), "/restapis/%s/resources?embed=methods", id);
    j = api(&st, "GET", path, NULL);
    int found = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "item"))
    {
        cJSON *m = cJSON_GetObjectItem(cJSON_GetObjectItem(it, "resourceMethods"), "GET");
        if (m != NULL) {
            found = cJSON_GetObjectItem(m, "methodIntegration") != NULL;
        }
    }
    ck_assert(found);
    cJSON_Delete(j);
    /* renaming /books moves /books/{id} */
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s", id, books);
    j = api(&st, "PATCH", path,
            "{\"patchOperations\":[{\"op\":\"replace\",\"path\":\"/pathPart\","
            "\"value\":\"novels\"}]}");
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(js(j, "path"), "/novels");
    cJSON_Delete(j);
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s", id, bid);
    j = api(&st, "GET", path, NULL);
    ck_assert_str_eq(js(j, "path"), "/novels/{id}");
    cJSON_Delete(j);
    /* a resource cannot move under itself */
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s", id, books);
    j = api(&st, "PATCH", path,
            "{\"patchOperations\":[{\"op\":\"replace\",\"path\":\"/parentId\","
            "\"value\":\"%s\"}]}",
            bid);
    ck_assert_int_eq(st, 400);
    cJSON_Delete(j);
    /* deleting /books deletes /books/{id} */
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s", id, books);
    ck_assert_int_eq(api_st("DELETE", path, NULL), 202);
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s", id, bid);
    ck_assert_int_eq(api_st("GET", path, NULL), 404);
    snprintf(path, sizeof(path), "/restapis/%s/resources", id);
    j = api(&st, "GET", path, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "item")), 2);
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_methods)
{
    char id[16], root[16];
    make_api("m", id, root);
    long st;
    char path[128];
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s/methods/GET", id, root);
    cJSON *j = api(&st, "GET", path, NULL);
    ck_assert_int_eq(st, 404);
    cJSON_Delete(j);
    j = api(&st, "PUT", path,
            "{\"authorizationType\":\"NONE\",\"apiKeyRequired\":true,"
            "\"requestParameters\":{\"method.request.querystring.q\":false}}");
    ck_assert_int_eq(st, 201);
    ck_assert_str_eq(js(j, "httpMethod"), "GET");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "apiKeyRequired")));
    cJSON_Delete(j);
    j = api(&st, "PATCH", path,
            "{\"patchOperations\":[{\"op\":\"replace\",\"path\":\"/apiKeyRequired\",\"value\":"
            "\"false\"},{\"op\":\"add\",\"path\":\"/requestParameters/method.request.header.X\","
            "\"value\":\"true\"}]}");
    ck_assert_int_eq(st, 200);
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(j, "apiKeyRequired")));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "requestParameters"),
                                               "method.request.header.X")));
    cJSON_Delete(j);
    j = api(&st, "GET", path, NULL);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(js(j, "authorizationType"), "NONE");
    cJSON_Delete(j);
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s/methods/FETCH", id, root);
    j = api(&st, "PUT", path, "{\"authorizationType\":\"NONE\"}");
    ck_assert_int_eq(st, 400);
    cJSON_Delete(j);
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s/methods/GET", id, root);
    ck_assert_int_eq(api_st("DELETE", path, NULL), 204);
    ck_assert_int_eq(api_st("GET", path, NULL), 404);
}
END_TEST

START_TEST(test_integrations)
{
    char id[16], root[16];
    make_api("i", id, root);
    long st;
    char mpath[128], path[160];
    snprintf(mpath, sizeof(mpath), "/restapis/%s/resources/%s/methods/POST", id, root);
    snprintf(path, sizeof(path), "%s/integration", mpath);
    cJSON *j = api(&st, "PUT", path, "{\"type\":\"MOCK\"}");
    ck_assert_int_eq(st, 404); /* no method yet */
    cJSON_Delete(j);
    cJSON_Delete(api(&st, "PUT", mpath, "{\"authorizationType\":\"NONE\"}"));
    j = api(&st, "PUT", path, "{\"type\":\"BOGUS\"}");
    ck_assert_int_eq(st, 400);
    cJSON_Delete(j);
    j = api(&st, "PUT", path, "{\"type\":\"AWS_PROXY\",\"httpMethod\":\"POST\"}");
    ck_assert_int_eq(st, 400); /* no uri */
    cJSON_Delete(j);
    j = api(&st, "PUT", path,
            "{\"type\":\"AWS\",\"httpMethod\":\"POST\",\"uri\":\"arn:aws:apigateway:us-east-1:"
            "lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:f:"
            "${stageVariables.functionAlias}/invocations\",\"requestTemplates\":"
            "{\"application/json\":\"$input.json('$')\"},\"passthroughBehavior\":\"NEVER\","
            "\"contentHandling\":\"CONVERT_TO_TEXT\",\"requestParameters\":"
            "{\"integration.request.header.X\":\"'v'\"}}");
    ck_assert_int_eq(st, 201);
    ck_assert_str_eq(js(j, "type"), "AWS");
    ck_assert_str_eq(js(j, "httpMethod"), "POST");
    ck_assert_ptr_nonnull(strstr(js(j, "uri"), "${stageVariables.functionAlias}"));
    ck_assert_str_eq(js(j, "passthroughBehavior"), "NEVER");
    ck_assert_str_eq(js(j, "contentHandling"), "CONVERT_TO_TEXT");
    cJSON_Delete(j);
    j = api(&st, "PATCH", path,
            "{\"patchOperations\":[{\"op\":\"replace\",\"path\":\"/requestTemplates/"
            "application~1json\",\"value\":\"{}\"},{\"op\":\"replace\",\"path\":"
            "\"/passthroughBehavior\",\"value\":\"WHEN_NO_MATCH\"}]}");
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(js(cJSON_GetObjectItem(j, "requestTemplates"), "application/json"), "{}");
    ck_assert_str_eq(js(j, "passthroughBehavior"), "WHEN_NO_MATCH");
    cJSON_Delete(j);
    j = api(&st, "GET", path, NULL);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(js(j, "type"), "AWS");
    cJSON_Delete(j);
    /* the method shows its integration */
    j = api(&st, "GET", mpath, NULL);
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(j, "methodIntegration"));
    cJSON_Delete(j);
    ck_assert_int_eq(api_st("DELETE", path, NULL), 204);
    j = api(&st, "GET", path, NULL);
    ck_assert_int_eq(st, 404);
    ck_assert_str_eq(js(j, "message"), "No integration defined for method");
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_method_and_integration_responses)
{
    char id[16], root[16];
    make_api("mr", id, root);
    make_mock(id, root, "GET", "\"{}\"");
    long st;
    char path[200];
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s/methods/GET/responses/400", id, root);
    cJSON *j = api(&st, "PUT", path,
                   "{\"responseParameters\":{\"method.response.header.X-Err\":true},"
                   "\"responseModels\":{\"application/json\":\"Error\"}}");
    ck_assert_int_eq(st, 201);
    ck_assert_str_eq(js(j, "statusCode"), "400");
    cJSON_Delete(j);
    j = api(&st, "GET", path, NULL);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(js(cJSON_GetObjectItem(j, "responseModels"), "application/json"), "Error");
    cJSON_Delete(j);
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s/methods/GET/integration/responses/400",
             id, root);
    j = api(&st, "PUT", path,
            "{\"selectionPattern\":\"4\\\\d\\\\d\",\"responseTemplates\":{\"application/json\":"
            "\"{}\"},\"responseParameters\":{\"method.response.header.X-Err\":\"'yes'\"}}");
    ck_assert_int_eq(st, 201);
    ck_assert_str_eq(js(j, "selectionPattern"), "4\\d\\d");
    cJSON_Delete(j);
    j = api(&st, "PATCH", path,
            "{\"patchOperations\":[{\"op\":\"replace\",\"path\":\"/selectionPattern\","
            "\"value\":\"400\"}]}");
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(js(j, "selectionPattern"), "400");
    cJSON_Delete(j);
    j = api(&st, "GET", path, NULL);
    ck_assert_int_eq(st, 200);
    cJSON_Delete(j);
    ck_assert_int_eq(api_st("DELETE", path, NULL), 204);
    ck_assert_int_eq(api_st("GET", path, NULL), 404);
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s/methods/GET/responses/400", id, root);
    ck_assert_int_eq(api_st("DELETE", path, NULL), 204);
    ck_assert_int_eq(api_st("GET", path, NULL), 404);
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s/methods/GET/responses/999", id, root);
    ck_assert_int_eq(api_st("PUT", path, "{}"), 400);

    /* a method response: empty maps are left out, Update answers 201 and
     * patches only its maps, a re-put replaces the whole response */
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s/methods/GET/responses/500", id, root);
    j = api(&st, "PUT", path,
            "{\"responseParameters\":{},\"responseModels\":{\"application/json\":\"Empty\"}}");
    ck_assert_int_eq(st, 201);
    ck_assert_ptr_null(cJSON_GetObjectItem(j, "responseParameters"));
    cJSON_Delete(j);
    j = api(&st, "PATCH", path,
            "{\"patchOperations\":[{\"op\":\"add\",\"path\":"
            "\"/responseParameters/method.response.header.X-A\",\"value\":\"true\"},"
            "{\"op\":\"remove\",\"path\":\"/responseModels/application~1json\"}]}");
    ck_assert_int_eq(st, 201);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "responseParameters"),
                                               "method.response.header.X-A")));
    ck_assert_ptr_null(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "responseModels"), "application/json"));
    cJSON_Delete(j);
    j = api(&st, "PATCH", path,
            "{\"patchOperations\":[{\"op\":\"replace\",\"path\":\"/statusCode\","
            "\"value\":\"501\"}]}");
    ck_assert_int_eq(st, 400);
    ck_assert_str_eq(js(j, "message"),
                     "Invalid patch path '/statusCode' specified for op 'replace'.");
    cJSON_Delete(j);
    ck_assert_int_eq(api_st("PUT", path, "{}"), 201);
    j = api(&st, "GET", path, NULL);
    ck_assert_int_eq(st, 200);
    ck_assert_ptr_null(cJSON_GetObjectItem(j, "responseParameters"));
    cJSON_Delete(j);
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s/methods/GET/responses/501", id, root);
    j = api(&st, "GET", path, NULL);
    ck_assert_int_eq(st, 404);
    ck_assert_str_eq(js(j, "message"), "Invalid Response status code specified");
    cJSON_Delete(j);
    ck_assert_int_eq(api_st("PATCH", path, "{\"patchOperations\":[]}"), 404);
    ck_assert_int_eq(api_st("DELETE", path, NULL), 404);

    /* an integration response: contentHandling kept, maps patched */
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s/methods/GET/integration/responses/500",
             id, root);
    j = api(&st, "PUT", path, "{\"contentHandling\":\"CONVERT_TO_TEXT\",\"responseTemplates\":{}}");
    ck_assert_int_eq(st, 201);
    ck_assert_str_eq(js(j, "contentHandling"), "CONVERT_TO_TEXT");
    ck_assert_ptr_null(cJSON_GetObjectItem(j, "responseTemplates"));
    cJSON_Delete(j);
    j = api(&st, "PATCH", path,
            "{\"patchOperations\":[{\"op\":\"add\",\"path\":"
            "\"/responseTemplates/application~1json\",\"value\":\"{}\"},{\"op\":\"add\","
            "\"path\":\"/responseParameters/method.response.header.X-A\",\"value\":\"'a'\"}]}");
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(js(cJSON_GetObjectItem(j, "responseTemplates"), "application/json"), "{}");
    ck_assert_str_eq(js(cJSON_GetObjectItem(j, "responseParameters"), "method.response.header.X-A"),
                     "'a'");
    cJSON_Delete(j);
    ck_assert_int_eq(api_st("PATCH", path,
                            "{\"patchOperations\":[{\"op\":\"add\",\"path\":"
                            "\"/responseModels/application~1json\",\"value\":\"Empty\"}]}"),
                     400);
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s/methods/GET/integration/responses/501",
             id, root);
    j = api(&st, "GET", path, NULL);
    ck_assert_int_eq(st, 404);
    ck_assert_str_eq(js(j, "message"), "Invalid Response status code specified");
    cJSON_Delete(j);
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s/methods/GET/integration/responses/99",
             id, root);
    j = api(&st, "PUT", path, "{}");
    ck_assert_int_eq(st, 400);
    ck_assert_str_eq(js(j, "message"), "Invalid status code specified");
    cJSON_Delete(j);

    /* the parent missing: no such method, a method without integration */
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s/methods/PATCH/responses/200", id, root);
    j = api(&st, "PUT", path, "{}");
    ck_assert_int_eq(st, 404);
    ck_assert_str_eq(js(j, "message"), "Invalid Method identifier specified");
    cJSON_Delete(j);
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s/methods/POST", id, root);
    ck_assert_int_eq(api_st("PUT", path, "{\"authorizationType\":\"NONE\"}"), 201);
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s/methods/POST/integration/responses/200",
             id, root);
    j = api(&st, "PUT", path, "{}");
    ck_assert_int_eq(st, 404);
    ck_assert_str_eq(js(j, "message"), "No integration defined for method");
    cJSON_Delete(j);
    ck_assert_int_eq(api_st("GET", path, NULL), 404);
}
END_TEST

START_TEST(test_deployments)
{
    char id[16], root[16];
    make_api("d", id, root);
    long st;
    char path[160];
    snprintf(path, sizeof(path), "/restapis/%s/deployments", id);
    cJSON *j = api(&st, "POST", path, "{}");
    ck_assert_int_eq(st, 400); /* no methods */
    cJSON_Delete(j);
    make_mock(id, root, "GET", "\"{}\"");
    /* without a stage: only the deployment */
    j = api(&st, "POST", path, "{\"description\":\"first\"}");
    ck_assert_int_eq(st, 201);
    ck_assert(is_apigw_id(js(j, "id")));
    char d1[16];
    snprintf(d1, sizeof(d1), "%s", js(j, "id"));
    cJSON_Delete(j);
    snprintf(path, sizeof(path), "/restapis/%s/stages", id);
    j = api(&st, "GET", path, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "item")), 0);
    cJSON_Delete(j);
    char d2[16];
    deploy(id, "dev", "{\"functionAlias\":\"dev\"}", d2);
    snprintf(path, sizeof(path), "/restapis/%s/stages/dev", id);
    j = api(&st, "GET", path, NULL);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(js(j, "deploymentId"), d2);
    ck_assert_str_eq(js(cJSON_GetObjectItem(j, "variables"), "functionAlias"), "dev");
    cJSON_Delete(j);
    /* a second deployment to the stage moves it and merges variables */
    char d3[16];
    deploy(id, "dev", "{\"other\":\"x\"}", d3);
    j = api(&st, "GET", path, NULL);
    ck_assert_str_eq(js(j, "deploymentId"), d3);
    ck_assert_str_eq(js(cJSON_GetObjectItem(j, "variables"), "functionAlias"), "dev");
    ck_assert_str_eq(js(cJSON_GetObjectItem(j, "variables"), "other"), "x");
    cJSON_Delete(j);
    snprintf(path, sizeof(path), "/restapis/%s/deployments", id);
    j = api(&st, "GET", path, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "item")), 3);
    cJSON_Delete(j);
    snprintf(path, sizeof(path), "/restapis/%s/deployments/%s?embed=apisummary", id, d1);
    j = api(&st, "GET", path, NULL);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(js(j, "description"), "first");
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "apiSummary"), "/"));
    cJSON_Delete(j);
    j = api(&st, "PATCH", path,
            "{\"patchOperations\":[{\"op\":\"replace\",\"path\":\"/description\","
            "\"value\":\"renamed\"}]}");
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(js(j, "description"), "renamed");
    cJSON_Delete(j);
    /* refused while a stage uses it */
    snprintf(path, sizeof(path), "/restapis/%s/deployments/%s", id, d3);
    j = api(&st, "DELETE", path, NULL);
    ck_assert_int_eq(st, 400);
    cJSON_Delete(j);
    snprintf(path, sizeof(path), "/restapis/%s/deployments/%s", id, d1);
    ck_assert_int_eq(api_st("DELETE", path, NULL), 202);
    ck_assert_int_eq(api_st("GET", path, NULL), 404);
}
END_TEST

START_TEST(test_stages)
{
    char id[16], root[16], dep[16];
    make_api("s", id, root);
    make_mock(id, root, "GET", "\"{}\"");
    long st;
    char path[160];
    snprintf(path, sizeof(path), "/restapis/%s/deployments", id);
    cJSON *j = api(&st, "POST", path, "{}");
    snprintf(dep, sizeof(dep), "%s", js(j, "id"));
    cJSON_Delete(j);
    snprintf(path, sizeof(path), "/restapis/%s/stages", id);
    j = api(&st, "POST", path, "{\"stageName\":\"prod\",\"deploymentId\":\"nope\"}");
    ck_assert_int_eq(st, 404);
    cJSON_Delete(j);
    j = api(&st, "POST", path,
            "{\"stageName\":\"prod\",\"deploymentId\":\"%s\",\"description\":\"p\","
            "\"variables\":{\"a\":\"1\",\"b\":\"2\"}}",
            dep);
    ck_assert_int_eq(st, 201);
    ck_assert_str_eq(js(j, "stageName"), "prod");
    cJSON_Delete(j);
    j = api(&st, "POST", path, "{\"stageName\":\"prod\",\"deploymentId\":\"%s\"}", dep);
    ck_assert_int_eq(st, 409);
    cJSON_Delete(j);
    j = api(&st, "GET", path, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "item")), 1);
    cJSON_Delete(j);
    snprintf(path, sizeof(path), "/restapis/%s/stages/prod", id);
    j = api(&st, "PATCH", path,
            "{\"patchOperations\":[{\"op\":\"replace\",\"path\":\"/variables/a\",\"value\":"
            "\"9\"},{\"op\":\"remove\",\"path\":\"/variables/b\"},{\"op\":\"replace\",\"path\":"
            "\"/description\",\"value\":\"new\"},{\"op\":\"replace\",\"path\":\"/deploymentId\","
            "\"value\":\"%s\"}]}",
            dep);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(js(cJSON_GetObjectItem(j, "variables"), "a"), "9");
    ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "variables"), "b"));
    ck_assert_str_eq(js(j, "description"), "new");
    cJSON_Delete(j);
    j = api(&st, "PATCH", path,
            "{\"patchOperations\":[{\"op\":\"replace\",\"path\":\"/deploymentId\",\"value\":"
            "\"missing\"}]}");
    ck_assert_int_eq(st, 400);
    cJSON_Delete(j);
    /* method settings */
    j = api(&st, "PATCH", path,
            "{\"patchOperations\":[{\"op\":\"replace\",\"path\":\"/*/*/logging/loglevel\","
            "\"value\":\"INFO\"},{\"op\":\"replace\",\"path\":"
            "\"/~1books/GET/throttling/burstLimit\",\"value\":\"7\"}]}");
    ck_assert_int_eq(st, 200);
    cJSON *ms = cJSON_GetObjectItem(j, "methodSettings");
    ck_assert_str_eq(js(cJSON_GetObjectItem(ms, "*/*"), "loggingLevel"), "INFO");
    ck_assert_int_eq(
        cJSON_GetObjectItem(cJSON_GetObjectItem(ms, "/books/GET"), "throttlingBurstLimit")
            ->valueint,
        7);
    cJSON_Delete(j);
    j = api(&st, "GET", path, NULL);
    ck_assert_str_eq(js(j, "deploymentId"), dep);
    cJSON_Delete(j);
    ck_assert_int_eq(api_st("DELETE", path, NULL), 202);
    ck_assert_int_eq(api_st("GET", path, NULL), 404);
}
END_TEST

START_TEST(test_models)
{
    char id[16], root[16];
    make_api("models", id, root);
    long st;
    char path[160];
    snprintf(path, sizeof(path), "/restapis/%s/models", id);
    cJSON *j = api(&st, "GET", path, NULL);
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "item")), 2);
    cJSON_Delete(j);
    j = api(&st, "POST", path,
            "{\"name\":\"Book\",\"contentType\":\"application/json\",\"schema\":\"{}\"}");
    ck_assert_int_eq(st, 201);
    ck_assert_str_eq(js(j, "name"), "Book");
    cJSON_Delete(j);
    j = api(&st, "POST", path, "{\"name\":\"Book\",\"contentType\":\"application/json\"}");
    ck_assert_int_eq(st, 409);
    cJSON_Delete(j);
    snprintf(path, sizeof(path), "/restapis/%s/models/Book", id);
    j = api(&st, "PATCH", path,
            "{\"patchOperations\":[{\"op\":\"replace\",\"path\":\"/description\","
            "\"value\":\"a book\"}]}");
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(js(j, "description"), "a book");
    cJSON_Delete(j);
    j = api(&st, "GET", path, NULL);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(js(j, "schema"), "{}");
    cJSON_Delete(j);
    ck_assert_int_eq(api_st("DELETE", path, NULL), 202);
    ck_assert_int_eq(api_st("GET", path, NULL), 404);
}
END_TEST

START_TEST(test_authorizers)
{
    char id[16], root[16];
    make_api("a", id, root);
    long st;
    char path[160];
    snprintf(path, sizeof(path), "/restapis/%s/authorizers", id);
    cJSON *j = api(&st, "POST", path, "{\"name\":\"x\",\"type\":\"TOKEN\"}");
    ck_assert_int_eq(st, 400);
    cJSON_Delete(j);
    j = api(&st, "POST", path,
            "{\"name\":\"auth\",\"type\":\"TOKEN\",\"identitySource\":"
            "\"method.request.header.Authorization\",\"authorizerUri\":\"arn:aws:apigateway:"
            "us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:"
            "function:authfn/invocations\"}");
    ck_assert_int_eq(st, 201);
    char aid[16];
    snprintf(aid, sizeof(aid), "%s", js(j, "id"));
    ck_assert_int_eq((int)cJSON_GetObjectItem(j, "authorizerResultTtlInSeconds")->valuedouble, 300);
    cJSON_Delete(j);
    j = api(&st, "GET", path, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "item")), 1);
    cJSON_Delete(j);
    snprintf(path, sizeof(path), "/restapis/%s/authorizers/%s", id, aid);
    j = api(&st, "PATCH", path,
            "{\"patchOperations\":[{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"a2\"}]}");
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(js(j, "name"), "a2");
    cJSON_Delete(j);
    j = api(&st, "GET", path, NULL);
    ck_assert_str_eq(js(j, "type"), "TOKEN");
    cJSON_Delete(j);
    /* CUSTOM needs a valid authorizer */
    char mpath[160];
    snprintf(mpath, sizeof(mpath), "/restapis/%s/resources/%s/methods/GET", id, root);
    j = api(&st, "PUT", mpath, "{\"authorizationType\":\"CUSTOM\",\"authorizerId\":\"zz\"}");
    ck_assert_int_eq(st, 400);
    cJSON_Delete(j);
    j = api(&st, "PUT", mpath, "{\"authorizationType\":\"CUSTOM\",\"authorizerId\":\"%s\"}", aid);
    ck_assert_int_eq(st, 201);
    ck_assert_str_eq(js(j, "authorizerId"), aid);
    cJSON_Delete(j);
    ck_assert_int_eq(api_st("DELETE", path, NULL), 202);
    ck_assert_int_eq(api_st("GET", path, NULL), 404);
}
END_TEST

START_TEST(test_api_keys)
{
    char id[16], root[16];
    make_api("k", id, root);
    make_mock(id, root, "GET", "\"{\\\"ok\\\":true}\"");
    long st;
    char mpath[160];
    snprintf(mpath, sizeof(mpath), "/restapis/%s/resources/%s/methods/GET", id, root);
    ck_assert_int_eq(
        api_st("PATCH", mpath,
               "{\"patchOperations\":[{\"op\":\"replace\",\"path\":\"/apiKeyRequired\","
               "\"value\":\"true\"}]}"),
        200);
    deploy(id, "dev", NULL, NULL);
    cJSON *j =
        api(&st, "POST", "/apikeys", "{\"name\":\"k1\",\"value\":\"abcdefghijklmnopqrstuvwxyz\"}");
    ck_assert_int_eq(st, 201);
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(j, "enabled")));
    char kid[16];
    snprintf(kid, sizeof(kid), "%s", js(j, "id"));
    cJSON_Delete(j);
    char epath[64];
    snprintf(epath, sizeof(epath), "/apikeys/%s", kid);
    j = api(&st, "PATCH", epath,
            "{\"patchOperations\":[{\"op\":\"replace\",\"path\":\"/enabled\",\"value\":"
            "\"true\"}]}");
    ck_assert_int_eq(st, 200);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "enabled")));
    cJSON_Delete(j);
    j = api(&st, "GET", "/apikeys", NULL);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "item")), 1);
    ck_assert_ptr_null(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "item"), 0), "value"));
    cJSON_Delete(j);
    char kpath[64];
    snprintf(kpath, sizeof(kpath), "/apikeys/%s?includeValue=true", kid);
    j = api(&st, "GET", kpath, NULL);
    ck_assert_str_eq(js(j, "value"), "abcdefghijklmnopqrstuvwxyz");
    cJSON_Delete(j);
    j = api(&st, "POST", "/usageplans", "{\"name\":\"plan\"}");
    ck_assert_int_eq(st, 201);
    char pid[16];
    snprintf(pid, sizeof(pid), "%s", js(j, "id"));
    cJSON_Delete(j);
    char upath[64];
    snprintf(upath, sizeof(upath), "/usageplans/%s", pid);
    j = api(&st, "PATCH", upath,
            "{\"patchOperations\":[{\"op\":\"add\",\"path\":\"/apiStages\",\"value\":"
            "\"%s:dev\"},{\"op\":\"replace\",\"path\":\"/description\",\"value\":\"d\"}]}",
            id);
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "apiStages")), 1);
    ck_assert_str_eq(js(j, "description"), "d");
    cJSON_Delete(j);
    char spath[160];
    snprintf(spath, sizeof(spath), "/_aws/execute-api/%s/dev/", id);
    const char *const with_key[] = {"x-api-key: abcdefghijklmnopqrstuvwxyz", NULL};
    /* the key is not in a usage plan yet */
    ck_assert_int_eq(invoke("GET", spath, with_key, NULL, NULL, NULL, 0), 403);
    char ppath[64];
    snprintf(ppath, sizeof(ppath), "/usageplans/%s/keys", pid);
    j = api(&st, "POST", ppath, "{\"keyId\":\"%s\",\"keyType\":\"API_KEY\"}", kid);
    ck_assert_int_eq(st, 201);
    ck_assert_str_eq(js(j, "id"), kid);
    cJSON_Delete(j);
    char *body = NULL;
    ck_assert_int_eq(invoke("GET", spath, NULL, NULL, &body, NULL, 0), 403);
    ck_assert_str_eq(body, "{\"message\":\"Forbidden\"}");
    free(body);
    const char *const bad_key[] = {"x-api-key: wrongwrongwrongwrongwrong", NULL};
    ck_assert_int_eq(invoke("GET", spath, bad_key, NULL, NULL, NULL, 0), 403);
    ck_assert_int_eq(invoke("GET", spath, with_key, NULL, &body, NULL, 0), 200);
    ck_assert_str_eq(body, "{\"ok\":true}");
    free(body);
    j = api(&st, "GET", ppath, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "item")), 1);
    cJSON_Delete(j);
    snprintf(ppath, sizeof(ppath), "/usageplans/%s/keys/%s", pid, kid);
    ck_assert_int_eq(api_st("DELETE", ppath, NULL), 202);
    ck_assert_int_eq(invoke("GET", spath, with_key, NULL, NULL, NULL, 0), 403);
    snprintf(ppath, sizeof(ppath), "/usageplans/%s", pid);
    ck_assert_int_eq(api_st("DELETE", ppath, NULL), 202);
    snprintf(kpath, sizeof(kpath), "/apikeys/%s", kid);
    ck_assert_int_eq(api_st("DELETE", kpath, NULL), 202);
    ck_assert_int_eq(api_st("GET", kpath, NULL), 404);
}
END_TEST

/* ------------------------------------------------------------- invoke */

START_TEST(test_invoke_mock)
{
    char id[16], root[16], books[16], bid[16], proxy[16];
    make_api("mock", id, root);
    make_resource(id, root, "books", books);
    make_resource(id, books, "{id}", bid);
    make_resource(id, root, "{proxy+}", proxy);
    make_mock(id, books, "GET", "\"{\\\"list\\\":\\\"$stageVariables.v\\\"}\"");
    make_mock(id, bid, "ANY",
              "\"{\\\"id\\\":\\\"$input.params('id')\\\",\\\"m\\\":\\\"$context.httpMethod\\\"}\"");
    make_mock(id, proxy, "GET", "\"{\\\"rest\\\":\\\"$input.params('proxy')\\\"}\"");
    deploy(id, "dev", "{\"v\":\"one\"}", NULL);
    char *body = NULL;
    char ct[128];
    char path[200];
    /* the three URL forms */
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/books", id);
    ck_assert_int_eq(invoke("GET", path, NULL, NULL, &body, ct, sizeof(ct)), 200);
    ck_assert_str_eq(body, "{\"list\":\"one\"}");
    ck_assert_str_eq(ct, "application/json");
    free(body);
    snprintf(path, sizeof(path), "/restapis/%s/dev/_user_request_/books", id);
    ck_assert_int_eq(invoke("GET", path, NULL, NULL, &body, NULL, 0), 200);
    ck_assert_str_eq(body, "{\"list\":\"one\"}");
    free(body);
    char host[128];
    snprintf(host, sizeof(host), "Host: %s.execute-api.localhost:%d", id, srv.port);
    const char *const hh[] = {host, NULL};
    ck_assert_int_eq(invoke("GET", "/dev/books", hh, NULL, &body, NULL, 0), 200);
    ck_assert_str_eq(body, "{\"list\":\"one\"}");
    free(body);
    /* path parameters, ANY */
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/books/42", id);
    ck_assert_int_eq(invoke("DELETE", path, NULL, NULL, &body, NULL, 0), 200);
    ck_assert_str_eq(body, "{\"id\":\"42\",\"m\":\"DELETE\"}");
    free(body);
    /* greedy proxy */
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/a/b/c", id);
    ck_assert_int_eq(invoke("GET", path, NULL, NULL, &body, NULL, 0), 200);
    ck_assert_str_eq(body, "{\"rest\":\"a/b/c\"}");
    free(body);
    /* no route: POST /books has no method and {proxy+} only has GET */
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/books", id);
    ck_assert_int_eq(invoke("POST", path, NULL, "{}", &body, NULL, 0), 403);
    ck_assert_str_eq(body, "{\"message\":\"Missing Authentication Token\"}");
    free(body);
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/", id);
    ck_assert_int_eq(invoke("GET", path, NULL, NULL, &body, NULL, 0), 403);
    ck_assert_str_eq(body, "{\"message\":\"Missing Authentication Token\"}");
    free(body);
    /* unknown API, unknown stage */
    ck_assert_int_eq(
        invoke("GET", "/_aws/execute-api/nosuchapi0/dev/books", NULL, NULL, &body, NULL, 0), 403);
    ck_assert_str_eq(body, "{\"message\":\"Forbidden\"}");
    free(body);
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/prod/books", id);
    ck_assert_int_eq(invoke("GET", path, NULL, NULL, &body, NULL, 0), 403);
    ck_assert_str_eq(body, "{\"message\":\"Forbidden\"}");
    free(body);
    /* the stage serves its snapshot, not the working copy */
    long st;
    char mpath[200];
    snprintf(mpath, sizeof(mpath), "/restapis/%s/resources/%s/methods/GET", id, books);
    ck_assert_int_eq(api_st("DELETE", mpath, NULL), 204);
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/books", id);
    ck_assert_int_eq(invoke("GET", path, NULL, NULL, &body, NULL, 0), 200);
    free(body);
    /* stage variables are read at invoke time */
    char spath[160];
    snprintf(spath, sizeof(spath), "/restapis/%s/stages/dev", id);
    cJSON_Delete(api(&st, "PATCH", spath,
                     "{\"patchOperations\":[{\"op\":\"replace\",\"path\":\"/variables/v\","
                     "\"value\":\"two\"}]}"));
    ck_assert_int_eq(invoke("GET", path, NULL, NULL, &body, NULL, 0), 200);
    ck_assert_str_eq(body, "{\"list\":\"two\"}");
    free(body);
    /* a deleted stage answers Forbidden */
    ck_assert_int_eq(api_st("DELETE", spath, NULL), 202);
    ck_assert_int_eq(invoke("GET", path, NULL, NULL, &body, NULL, 0), 403);
    ck_assert_str_eq(body, "{\"message\":\"Forbidden\"}");
    free(body);
}
END_TEST

START_TEST(test_invoke_mock_selection)
{
    char id[16], root[16];
    make_api("sel", id, root);
    long st;
    char mpath[160], p[220];
    snprintf(mpath, sizeof(mpath), "/restapis/%s/resources/%s/methods/GET", id, root);
    cJSON_Delete(api(&st, "PUT", mpath, "{\"authorizationType\":\"NONE\"}"));
    snprintf(p, sizeof(p), "%s/integration", mpath);
    ck_assert_int_eq(api_st("PUT", p,
                            "{\"type\":\"MOCK\",\"requestTemplates\":{\"application/json\":"
                            "\"#if($input.params('fail') == 'yes'){\\\"statusCode\\\": 404}#else"
                            "{\\\"statusCode\\\": 200}#end\"}}"),
                     201);
    snprintf(p, sizeof(p), "%s/integration/responses/200", mpath);
    cJSON_Delete(api(&st, "PUT", p, "{\"responseTemplates\":{\"application/json\":\"ok\"}}"));
    snprintf(p, sizeof(p), "%s/integration/responses/404", mpath);
    ck_assert_int_eq(api_st("PUT", p,
                            "{\"selectionPattern\":\"4\\\\d{2}\",\"responseTemplates\":"
                            "{\"application/json\":\"missing\"},\"responseParameters\":"
                            "{\"method.response.header.X-Why\":\"'not found'\"}}"),
                     201);
    deploy(id, "dev", NULL, NULL);
    char *body = NULL;
    char path[160];
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/", id);
    ck_assert_int_eq(invoke("GET", path, NULL, NULL, &body, NULL, 0), 200);
    ck_assert_str_eq(body, "ok");
    free(body);
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/?fail=yes", id);
    struct gr_resp r;
    ck_assert_int_eq(gr_request_unsigned(&srv, "GET", path, NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(r.body, "missing");
    char buf[64];
    ck_assert_ptr_nonnull(gr_resp_header(&r, "X-Why", buf, sizeof(buf)));
    ck_assert_str_eq(buf, "not found");
    ck_assert_ptr_nonnull(gr_resp_header(&r, "x-amzn-RequestId", buf, sizeof(buf)));
    ck_assert_ptr_nonnull(gr_resp_header(&r, "x-amz-apigw-id", buf, sizeof(buf)));
    gr_resp_free(&r);
    /* TestInvokeMethod runs the working copy */
    cJSON *j = api(&st, "POST", mpath,
                   "{\"pathWithQueryString\":\"/?fail=yes\",\"headers\":{\"Accept\":"
                   "\"application/json\"},\"stageVariables\":{\"a\":\"b\"}}");
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "status")->valueint, 404);
    ck_assert_str_eq(js(j, "body"), "missing");
    ck_assert_str_eq(js(cJSON_GetObjectItem(j, "headers"), "X-Why"), "not found");
    ck_assert_ptr_nonnull(js(j, "log"));
    cJSON_Delete(j);
    char bad[200];
    snprintf(bad, sizeof(bad), "/restapis/%s/resources/%s/methods/PATCH", id, root);
    ck_assert_int_eq(api_st("POST", bad, "{}"), 404);
    /* passthroughBehavior NEVER: a media type without a template is refused */
    snprintf(p, sizeof(p), "%s/integration", mpath);
    ck_assert_int_eq(api_st("PATCH", p,
                            "{\"patchOperations\":[{\"op\":\"replace\",\"path\":"
                            "\"/passthroughBehavior\",\"value\":\"NEVER\"}]}"),
                     200);
    deploy(id, "dev", NULL, NULL);
    const char *const text[] = {"Content-Type: text/plain", NULL};
    body = NULL;
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/", id);
    ck_assert_int_eq(invoke("POST", path, text, "hello", &body, NULL, 0), 403);
    free(body);
    ck_assert_int_eq(invoke("GET", path, text, NULL, &body, NULL, 0), 415);
    ck_assert_str_eq(body, "{\"message\": \"Unsupported Media Type\"}");
    free(body);
    ck_assert_int_eq(invoke("GET", path, NULL, NULL, &body, NULL, 0), 200);
    free(body);
}
END_TEST

START_TEST(test_invoke_http)
{
    char id[16], root[16], px[16], h[16], ext[16], calls[16];
    make_api("http", id, root);
    make_resource(id, root, "{proxy+}", px);
    make_resource(id, root, "health", h);
    make_resource(id, root, "external", ext);
    make_resource(id, root, "journal", calls);
    long st;
    char mpath[200], p[240];
    /* HTTP_PROXY to greenroom's own control plane (loopback) */
    snprintf(mpath, sizeof(mpath), "/restapis/%s/resources/%s/methods/ANY", id, px);
    cJSON_Delete(api(&st, "PUT", mpath, "{\"authorizationType\":\"NONE\"}"));
    snprintf(p, sizeof(p), "%s/integration", mpath);
    ck_assert_int_eq(api_st("PUT", p,
                            "{\"type\":\"HTTP_PROXY\",\"httpMethod\":\"ANY\",\"uri\":"
                            "\"http://127.0.0.1:%d/_greenroom/{proxy}\",\"requestParameters\":"
                            "{\"integration.request.path.proxy\":\"method.request.path.proxy\"}}",
                            srv.port),
                     201);
    /* HTTP with a response template picking a field */
    snprintf(mpath, sizeof(mpath), "/restapis/%s/resources/%s/methods/GET", id, h);
    cJSON_Delete(api(&st, "PUT", mpath, "{\"authorizationType\":\"NONE\"}"));
    snprintf(p, sizeof(p), "%s/integration", mpath);
    ck_assert_int_eq(api_st("PUT", p,
                            "{\"type\":\"HTTP\",\"httpMethod\":\"GET\",\"uri\":"
                            "\"http://localhost:%d/_greenroom/health\"}",
                            srv.port),
                     201);
    snprintf(p, sizeof(p), "%s/integration/responses/200", mpath);
    cJSON_Delete(api(&st, "PUT", p,
                     "{\"responseTemplates\":{\"application/json\":"
                     "\"{\\\"has_services\\\": #if($input.path('$.services'))true#{else}false#end}"
                     "\"}}"));
    /* HTTP to a non-loopback host is refused */
    snprintf(mpath, sizeof(mpath), "/restapis/%s/resources/%s/methods/GET", id, ext);
    cJSON_Delete(api(&st, "PUT", mpath, "{\"authorizationType\":\"NONE\"}"));
    snprintf(p, sizeof(p), "%s/integration", mpath);
    cJSON_Delete(api(&st, "PUT", p,
                     "{\"type\":\"HTTP_PROXY\",\"httpMethod\":\"GET\",\"uri\":"
                     "\"http://example.com/\"}"));
    /* HTTP with request parameters: ?from= becomes the journal's ?since=,
     * the stage variable picks the path */
    snprintf(mpath, sizeof(mpath), "/restapis/%s/resources/%s/methods/GET", id, calls);
    cJSON_Delete(api(&st, "PUT", mpath, "{\"authorizationType\":\"NONE\"}"));
    snprintf(p, sizeof(p), "%s/integration", mpath);
    ck_assert_int_eq(api_st("PUT", p,
                            "{\"type\":\"HTTP\",\"httpMethod\":\"GET\",\"uri\":"
                            "\"http://127.0.0.1:%d/_greenroom/${stageVariables.journal}\","
                            "\"requestParameters\":{\"integration.request.querystring.since\":"
                            "\"method.request.querystring.from\"}}",
                            srv.port),
                     201);
    snprintf(p, sizeof(p), "%s/integration/responses/200", mpath);
    cJSON_Delete(api(&st, "PUT", p,
                     "{\"responseTemplates\":{\"application/json\":"
                     "\"$input.path('$.calls').size()\"}}"));
    deploy(id, "dev", "{\"journal\":\"calls\"}", NULL);
    char *body = NULL;
    char path[200];
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/journal?from=99999999", id);
    ck_assert_int_eq(invoke("GET", path, NULL, NULL, &body, NULL, 0), 200);
    ck_assert_str_eq(body, "0");
    free(body);
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/journal?from=0", id);
    ck_assert_int_eq(invoke("GET", path, NULL, NULL, &body, NULL, 0), 200);
    ck_assert_str_ne(body, "0");
    free(body);
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/health", id);
    ck_assert_int_eq(invoke("GET", path, NULL, NULL, &body, NULL, 0), 200);
    ck_assert_str_eq(body, "{\"has_services\": true}");
    free(body);
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/health", id);
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/calls?since=0", id);
    ck_assert_int_eq(invoke("GET", path, NULL, NULL, &body, NULL, 0), 200);
    ck_assert_ptr_nonnull(strstr(body, "\"calls\""));
    free(body);
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/external", id);
    ck_assert_int_eq(invoke("GET", path, NULL, NULL, &body, NULL, 0), 500);
    ck_assert_str_eq(body, "{\"message\": \"Internal server error\"}");
    free(body);
}
END_TEST

/* ------------------------------------------------------------- Lambda */

/* A signed call to any service; returns the parsed JSON (or NULL). */
static cJSON *svc_call(long *status, const char *service, const char *method, const char *path,
                       const char *const *hdrs, const char *body)
{
    struct gr_resp r;
    ck_assert_int_eq(
        gr_request(&srv, service, method, path, hdrs, body, body != NULL ? strlen(body) : 0, &r),
        0);
    *status = r.status;
    if (r.status >= 300) {
        fprintf(stderr, "%s %s %s -> %ld %s\n", service, method, path, r.status,
                r.body != NULL ? r.body : "");
    }
    cJSON *j = gr_resp_json(&r);
    gr_resp_free(&r);
    return j;
}

/* Function "fn" (fixtures/apigateway/handler.js): version 1 says VER=one,
 * version 2 VER=two; aliases dev -> 1, prod -> 2, noperm -> 1; dev and prod
 * allow apigateway.amazonaws.com for this API, noperm allows nothing. */
static void make_function(const char *apiid)
{
    long st;
    static const char *const form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    cJSON_Delete(svc_call(&st, "iam", "POST", "/", form,
                          "Action=CreateRole&Version=2010-05-08&RoleName=lambda-role&"
                          "AssumeRolePolicyDocument=%7B%22Version%22%3A%222012-10-17%22%2C%22"
                          "Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B"
                          "%22Service%22%3A%22lambda.amazonaws.com%22%7D%2C%22Action%22%3A%22sts"
                          "%3AAssumeRole%22%7D%5D%7D"));
    ck_assert_int_eq(st, 200);
    char *b64 = NULL;
    int rc =
        gr_sh(&srv,
              "python3 -c 'import zipfile,io,base64,sys; b=io.BytesIO(); "
              "z=zipfile.ZipFile(b,\"w\"); z.writestr(\"index.js\", open(sys.argv[1]).read()); "
              "z.close(); print(base64.b64encode(b.getvalue()).decode())' "
              "\"$FIXTURES_DIR/apigateway/handler.js\"",
              &b64);
    ck_assert_int_eq(rc, 0);
    b64[strcspn(b64, "\n")] = 0;
    ck_assert(strlen(b64) > 10);
    size_t n = strlen(b64) + 1024;
    char *body = malloc(n);
    snprintf(body, n,
             "{\"FunctionName\":\"fn\",\"Runtime\":\"nodejs20.x\",\"Role\":\"arn:aws:iam::"
             "000000000000:role/lambda-role\",\"Handler\":\"index.handler\",\"Code\":{\"ZipFile\":"
             "\"%s\"},\"Environment\":{\"Variables\":{\"VER\":\"one\"}},\"Publish\":true}",
             b64);
    free(b64);
    cJSON_Delete(svc_call(&st, "lambda", "POST", "/2015-03-31/functions", json_hdr, body));
    free(body);
    ck_assert_int_eq(st, 201);
    cJSON_Delete(svc_call(&st, "lambda", "PUT", "/2015-03-31/functions/fn/configuration", json_hdr,
                          "{\"Environment\":{\"Variables\":{\"VER\":\"two\"}}}"));
    ck_assert_int_eq(st, 200);
    cJSON_Delete(
        svc_call(&st, "lambda", "POST", "/2015-03-31/functions/fn/versions", json_hdr, "{}"));
    ck_assert_int_eq(st, 201);
    const char *aliases[][2] = {{"dev", "1"}, {"prod", "2"}, {"noperm", "1"}};
    for (size_t i = 0; i < 3; i++) {
        char b[128];
        snprintf(b, sizeof(b), "{\"Name\":\"%s\",\"FunctionVersion\":\"%s\"}", aliases[i][0],
                 aliases[i][1]);
        cJSON_Delete(
            svc_call(&st, "lambda", "POST", "/2015-03-31/functions/fn/aliases", json_hdr, b));
        ck_assert_int_eq(st, 201);
    }
    for (size_t i = 0; i < 2; i++) {
        char p[128];
        char b[400];
        snprintf(p, sizeof(p), "/2015-03-31/functions/fn/policy?Qualifier=%s", aliases[i][0]);
        snprintf(b, sizeof(b),
                 "{\"StatementId\":\"apigw\",\"Action\":\"lambda:InvokeFunction\",\"Principal\":"
                 "\"apigateway.amazonaws.com\",\"SourceArn\":\"arn:aws:execute-api:us-east-1:"
                 "000000000000:%s/*\"}",
                 apiid);
        cJSON_Delete(svc_call(&st, "lambda", "POST", p, json_hdr, b));
        ck_assert_int_eq(st, 201);
    }
}

#define FN_URI                                                                                     \
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:"      \
    "000000000000:function:fn:${stageVariables.functionAlias}/invocations"

static void put_lambda_method(const char *apiid, const char *rid, const char *method,
                              const char *type, const char *extra)
{
    char path[200];
    char ip[240];
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s/methods/%s", apiid, rid, method);
    ck_assert_int_eq(api_st("PUT", path, "{\"authorizationType\":\"NONE\"}"), 201);
    snprintf(ip, sizeof(ip), "%s/integration", path);
    ck_assert_int_eq(api_st("PUT", ip, "{\"type\":\"%s\",\"httpMethod\":\"POST\",\"uri\":\"%s\"%s}",
                            type, FN_URI, extra != NULL ? extra : ""),
                     201);
}

static void set_stage_var(const char *apiid, const char *stage, const char *name, const char *value)
{
    char path[128];
    snprintf(path, sizeof(path), "/restapis/%s/stages/%s", apiid, stage);
    ck_assert_int_eq(api_st("PATCH", path,
                            "{\"patchOperations\":[{\"op\":\"replace\",\"path\":\"/variables/%s\","
                            "\"value\":\"%s\"}]}",
                            name, value),
                     200);
}

START_TEST(test_invoke_aws_proxy)
{
    char id[16], root[16], items[16], iid[16], bad[16], thr[16], b64[16];
    make_api("proxy", id, root);
    make_function(id);
    make_resource(id, root, "items", items);
    make_resource(id, items, "{id}", iid);
    make_resource(id, root, "malformed", bad);
    make_resource(id, root, "throw", thr);
    make_resource(id, root, "b64", b64);
    put_lambda_method(id, iid, "ANY", "AWS_PROXY", NULL);
    put_lambda_method(id, bad, "GET", "AWS_PROXY", NULL);
    put_lambda_method(id, thr, "GET", "AWS_PROXY", NULL);
    put_lambda_method(id, b64, "GET", "AWS_PROXY", NULL);
    deploy(id, "dev", "{\"functionAlias\":\"dev\"}", NULL);
    char path[200];
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/items/7?x=1&x=2&y=3", id);
    struct gr_resp r;
    ck_assert_int_eq(gr_request_unsigned(&srv, "POST", path, json_hdr, "{\"n\":1}", 7, &r), 0);
    ck_assert_int_eq(r.status, 200);
    char buf[128];
    ck_assert_ptr_nonnull(gr_resp_header(&r, "X-V", buf, sizeof(buf)));
    ck_assert_str_eq(buf, "one");
    ck_assert_ptr_nonnull(strstr(r.headers, "X-Multi: a\r\n"));
    ck_assert_ptr_nonnull(strstr(r.headers, "X-Multi: b\r\n"));
    ck_assert_ptr_nonnull(gr_resp_header(&r, "x-amz-apigw-id", buf, sizeof(buf)));
    cJSON *j = gr_resp_json(&r);
    gr_resp_free(&r);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(js(j, "v"), "one");
    ck_assert_str_eq(js(j, "path"), "/items/7");
    ck_assert_str_eq(js(j, "resource"), "/items/{id}");
    ck_assert_str_eq(js(cJSON_GetObjectItem(j, "pp"), "id"), "7");
    ck_assert_str_eq(js(cJSON_GetObjectItem(j, "q"), "x"), "2");
    ck_assert_str_eq(js(cJSON_GetObjectItem(j, "q"), "y"), "3");
    ck_assert_str_eq(js(cJSON_GetObjectItem(j, "sv"), "functionAlias"), "dev");
    ck_assert_str_eq(js(j, "body"), "{\"n\":1}");
    ck_assert_str_eq(js(j, "stage"), "dev");
    ck_assert_str_eq(js(j, "apiId"), id);
    ck_assert_str_eq(js(j, "ct"), "application/json");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "mq"), "x")), 2);
    cJSON_Delete(j);
    /* a malformed proxy response is a 502 */
    char *body = NULL;
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/malformed", id);
    ck_assert_int_eq(invoke("GET", path, NULL, NULL, &body, NULL, 0), 502);
    ck_assert_str_eq(body, "{\"message\": \"Internal server error\"}");
    free(body);
    /* so is a function error */
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/throw", id);
    ck_assert_int_eq(invoke("GET", path, NULL, NULL, &body, NULL, 0), 502);
    ck_assert_str_eq(body, "{\"message\": \"Internal server error\"}");
    free(body);
    /* isBase64Encoded bodies: without binary media types the text goes out */
    char ct[64];
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/b64", id);
    ck_assert_int_eq(invoke("GET", path, NULL, NULL, &body, ct, sizeof(ct)), 201);
    ck_assert_str_eq(body, "YmluAWFyeQ==");
    free(body);
    /* with one that the client accepts, decoded (after a new deployment) */
    char apath[64];
    snprintf(apath, sizeof(apath), "/restapis/%s", id);
    ck_assert_int_eq(api_st("PATCH", apath,
                            "{\"patchOperations\":[{\"op\":\"add\",\"path\":\"/binaryMediaTypes/"
                            "application~1octet-stream\"}]}"),
                     200);
    deploy(id, "dev", NULL, NULL);
    const char *const accept_bin[] = {"Accept: application/octet-stream", NULL};
    ck_assert_int_eq(invoke("GET", path, accept_bin, NULL, &body, ct, sizeof(ct)), 201);
    ck_assert_str_eq(body, "bin\001ary");
    ck_assert_str_eq(ct, "application/octet-stream");
    free(body);
}
END_TEST

/* Reads "v" from a proxy answer of the stage. */
static void expect_version(const char *apiid, const char *expected)
{
    char path[200];
    char *body = NULL;
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/items/1", apiid);
    ck_assert_int_eq(invoke("GET", path, NULL, NULL, &body, NULL, 0), 200);
    cJSON *j = cJSON_Parse(body);
    ck_assert_msg(j != NULL, "not JSON: %s", body);
    ck_assert_str_eq(js(j, "v"), expected);
    cJSON_Delete(j);
    free(body);
}

START_TEST(test_alias_flip)
{
    char id[16], root[16], items[16], iid[16];
    make_api("flip", id, root);
    make_function(id);
    make_resource(id, root, "items", items);
    make_resource(id, items, "{id}", iid);
    put_lambda_method(id, iid, "GET", "AWS_PROXY", NULL);
    deploy(id, "dev", "{\"functionAlias\":\"dev\"}", NULL);
    expect_version(id, "one");
    /* the stage variable picks the other alias */
    set_stage_var(id, "dev", "functionAlias", "prod");
    expect_version(id, "two");
    set_stage_var(id, "dev", "functionAlias", "dev");
    expect_version(id, "one");
    /* moving the alias moves the stage */
    long st;
    cJSON_Delete(svc_call(&st, "lambda", "PUT", "/2015-03-31/functions/fn/aliases/dev", json_hdr,
                          "{\"FunctionVersion\":\"2\"}"));
    ck_assert_int_eq(st, 200);
    expect_version(id, "two");
}
END_TEST

START_TEST(test_missing_permission)
{
    char id[16], root[16], items[16], iid[16];
    make_api("perm", id, root);
    make_function(id);
    make_resource(id, root, "items", items);
    make_resource(id, items, "{id}", iid);
    put_lambda_method(id, iid, "GET", "AWS_PROXY", NULL);
    deploy(id, "dev", "{\"functionAlias\":\"noperm\"}", NULL);
    char path[200];
    char *body = NULL;
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/items/1", id);
    ck_assert_int_eq(invoke("GET", path, NULL, NULL, &body, NULL, 0), 500);
    ck_assert_str_eq(body, "{\"message\": \"Internal server error\"}");
    free(body);
    /* an alias that does not exist either */
    set_stage_var(id, "dev", "functionAlias", "nosuchalias");
    ck_assert_int_eq(invoke("GET", path, NULL, NULL, &body, NULL, 0), 500);
    free(body);
    set_stage_var(id, "dev", "functionAlias", "dev");
    expect_version(id, "one");
}
END_TEST

/* Serverless v0.5's endpoint as `sls endpoint deploy` creates it: AWS
 * integration, the stringified requestTemplate, responses 400 + default. */
START_TEST(test_invoke_aws_v05)
{
    char id[16], root[16], books[16], bid[16];
    make_api("v05", id, root);
    make_function(id);
    make_resource(id, root, "books", books);
    make_resource(id, books, "{id}", bid);
    put_lambda_method(id, bid, "POST", "AWS",
                      ",\"requestTemplates\":{\"application/json\":\"{\\\"http_method\\\":"
                      "\\\"$context.httpMethod\\\",\\\"id\\\":\\\"$input.params('id')\\\","
                      "\\\"body\\\":$input.json('$'),\\\"pathParams\\\":\\\"$input.params().path"
                      "\\\",\\\"queryParams\\\":\\\"$input.params().querystring\\\"}\"}");
    long st;
    char p[240];
    snprintf(p, sizeof(p), "/restapis/%s/resources/%s/methods/POST/responses/400", id, bid);
    cJSON_Delete(api(&st, "PUT", p, "{\"responseParameters\":{},\"responseModels\":{}}"));
    snprintf(p, sizeof(p), "/restapis/%s/resources/%s/methods/POST/responses/200", id, bid);
    cJSON_Delete(api(&st, "PUT", p,
                     "{\"responseParameters\":{},\"responseModels\":{\"application/json;"
                     "charset=UTF-8\":\"Empty\"}}"));
    snprintf(p, sizeof(p), "/restapis/%s/resources/%s/methods/POST/integration/responses/400", id,
             bid);
    ck_assert_int_eq(api_st("PUT", p, "{\"selectionPattern\":\"400\"}"), 201);
    snprintf(p, sizeof(p), "/restapis/%s/resources/%s/methods/POST/integration/responses/200", id,
             bid);
    ck_assert_int_eq(api_st("PUT", p,
                            "{\"responseParameters\":{},\"responseTemplates\":{\"application/json;"
                            "charset=UTF-8\":\"\"}}"),
                     201);
    deploy(id, "dev", "{\"functionAlias\":\"dev\"}", NULL);
    char path[200];
    char *body = NULL;
    char ct[128];
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/books/42?a=b", id);
    ck_assert_int_eq(invoke("POST", path, json_hdr, "{\"name\":\"Dune\"}", &body, ct, sizeof(ct)),
                     200);
    ck_assert_str_eq(ct, "application/json;charset=UTF-8");
    cJSON *j = cJSON_Parse(body);
    ck_assert_msg(j != NULL, "not JSON: %s", body);
    cJSON *got = cJSON_GetObjectItem(j, "got");
    ck_assert_str_eq(js(j, "v"), "one");
    ck_assert_str_eq(js(got, "http_method"), "POST");
    ck_assert_str_eq(js(got, "id"), "42");
    ck_assert_str_eq(js(cJSON_GetObjectItem(got, "body"), "name"), "Dune");
    ck_assert_str_eq(js(got, "pathParams"), "{id=42}");
    ck_assert_str_eq(js(got, "queryParams"), "{a=b}");
    cJSON_Delete(j);
    free(body);
    /* errorMessage "400" selects the 400 response */
    ck_assert_int_eq(invoke("POST", path, json_hdr, "{\"fail\":\"400\"}", &body, NULL, 0), 400);
    ck_assert_ptr_nonnull(strstr(body, "\"errorMessage\":\"400\""));
    free(body);
    /* an asynchronous invocation ('Event' mapped onto X-Amz-Invocation-Type) */
    char as[16];
    make_resource(id, root, "async", as);
    put_lambda_method(
        id, as, "POST", "AWS",
        ",\"requestParameters\":{\"integration.request.header.X-Amz-Invocation-Type\":"
        "\"'Event'\"}");
    snprintf(p, sizeof(p), "/restapis/%s/resources/%s/methods/POST/integration/responses/200", id,
             as);
    ck_assert_int_eq(
        api_st("PUT", p,
               "{\"responseTemplates\":{\"application/json\":\"{\\\"queued\\\": true}\"}}"),
        201);
    deploy(id, "dev", NULL, NULL);
    char apath[200];
    snprintf(apath, sizeof(apath), "/_aws/execute-api/%s/dev/async", id);
    ck_assert_int_eq(invoke("POST", apath, json_hdr, "{}", &body, NULL, 0), 200);
    ck_assert_str_eq(body, "{\"queued\": true}");
    free(body);
    /* any other error falls to the default response, as on AWS */
    ck_assert_int_eq(invoke("POST", path, json_hdr, "{\"fail\":\"boom\"}", &body, NULL, 0), 200);
    ck_assert_ptr_nonnull(strstr(body, "\"errorMessage\":\"boom\""));
    free(body);
}
END_TEST

/* selectionPatterns are Java regexes matched against the whole errorMessage:
 * a lookahead pattern in front of 404/409 catches the other 4xx errors. */
START_TEST(test_invoke_aws_selection_regex)
{
    char id[16], root[16], items[16];
    make_api("selrx", id, root);
    make_function(id);
    make_resource(id, root, "items", items);
    put_lambda_method(id, items, "POST", "AWS", NULL);
    static const char *const codes[][2] = {
        {"400", "(?!404|409)(4[0-9][0-9]).*"}, {"404", "404.*"}, {"409", "409.*"}, {"200", NULL}};
    char p[240];
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof(p), "/restapis/%s/resources/%s/methods/POST/responses/%s", id, items,
                 codes[i][0]);
        ck_assert_int_eq(api_st("PUT", p, "{\"responseParameters\":{}}"), 201);
        snprintf(p, sizeof(p), "/restapis/%s/resources/%s/methods/POST/integration/responses/%s",
                 id, items, codes[i][0]);
        if (codes[i][1] != NULL) {
            ck_assert_int_eq(api_st("PUT", p,
                                    "{\"selectionPattern\":\"%s\",\"responseTemplates\":"
                                    "{\"application/json\":\"%s $input.path('$.errorMessage')\"}}",
                                    codes[i][1], codes[i][0]),
                             201);
        } else {
            ck_assert_int_eq(
                api_st("PUT", p, "{\"responseTemplates\":{\"application/json\":\"\"}}"), 201);
        }
    }
    deploy(id, "dev", "{\"functionAlias\":\"dev\"}", NULL);
    char path[200];
    char *body = NULL;
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/items", id);
    ck_assert_int_eq(invoke("POST", path, json_hdr, "{\"fail\":\"422: bad id\"}", &body, NULL, 0),
                     400);
    ck_assert_str_eq(body, "400 422: bad id");
    free(body);
    ck_assert_int_eq(invoke("POST", path, json_hdr, "{\"fail\":\"404: no item\"}", &body, NULL, 0),
                     404);
    ck_assert_str_eq(body, "404 404: no item");
    free(body);
    ck_assert_int_eq(invoke("POST", path, json_hdr, "{\"fail\":\"409: taken\"}", &body, NULL, 0),
                     409);
    free(body);
    /* no pattern matches the whole message: the default response */
    ck_assert_int_eq(invoke("POST", path, json_hdr, "{\"fail\":\"boom 422\"}", &body, NULL, 0),
                     200);
    free(body);
}
END_TEST

/* An authorizer of type (TOKEN or REQUEST) calling FN_URI with the given
 * identity source, guarding method GET of the API's root resource; path
 * gets the method's path. */
static void make_custom_get(const char *apiid, const char *root, const char *name, const char *type,
                            const char *source, char *path, size_t n)
{
    long st;
    snprintf(path, n, "/restapis/%s/authorizers", apiid);
    cJSON *j = api(&st, "POST", path,
                   "{\"name\":\"%s\",\"type\":\"%s\",\"identitySource\":\"%s\","
                   "\"authorizerUri\":\"%s\"}",
                   name, type, source, FN_URI);
    ck_assert_int_eq(st, 201);
    char aid[16];
    snprintf(aid, sizeof(aid), "%s", js(j, "id"));
    cJSON_Delete(j);
    snprintf(path, n, "/restapis/%s/resources/%s/methods/GET", apiid, root);
    cJSON_Delete(
        api(&st, "PUT", path, "{\"authorizationType\":\"CUSTOM\",\"authorizerId\":\"%s\"}", aid));
    ck_assert_int_eq(st, 201);
}

START_TEST(test_invoke_authorizer)
{
    char id[16], root[16];
    make_api("auth", id, root);
    make_function(id);
    char path[200];
    make_custom_get(id, root, "tok", "TOKEN", "method.request.header.Authorization", path,
                    sizeof(path));
    char ip[240];
    snprintf(ip, sizeof(ip), "%s/integration", path);
    ck_assert_int_eq(api_st("PUT", ip,
                            "{\"type\":\"AWS_PROXY\",\"httpMethod\":\"POST\",\"uri\":\"%s\"}",
                            FN_URI),
                     201);
    deploy(id, "dev", "{\"functionAlias\":\"dev\"}", NULL);
    char *body = NULL;
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/", id);
    ck_assert_int_eq(invoke("GET", path, NULL, NULL, &body, NULL, 0), 401);
    ck_assert_str_eq(body, "{\"message\":\"Unauthorized\"}");
    free(body);
    const char *const deny[] = {"Authorization: deny", NULL};
    ck_assert_int_eq(invoke("GET", path, deny, NULL, &body, NULL, 0), 403);
    ck_assert_ptr_nonnull(strstr(body, "explicit deny"));
    free(body);
    const char *const allow[] = {"Authorization: allow", NULL};
    ck_assert_int_eq(invoke("GET", path, allow, NULL, &body, NULL, 0), 200);
    cJSON *j = cJSON_Parse(body);
    ck_assert_msg(j != NULL, "not JSON: %s", body);
    ck_assert_str_eq(js(j, "principal"), "user-1");
    cJSON_Delete(j);
    free(body);
}
END_TEST

START_TEST(test_invoke_request_authorizer)
{
    char id[16], root[16];
    make_api("reqauth", id, root);
    make_function(id);
    char path[200];
    make_custom_get(id, root, "req", "REQUEST", "method.request.querystring.tok", path,
                    sizeof(path));
    /* an AWS integration whose template reads the authorizer's output */
    char ip[240];
    snprintf(ip, sizeof(ip), "%s/integration", path);
    ck_assert_int_eq(api_st("PUT", ip,
                            "{\"type\":\"AWS\",\"httpMethod\":\"POST\",\"uri\":\"%s\","
                            "\"requestTemplates\":{\"application/json\":\"{\\\"who\\\":"
                            "\\\"$context.authorizer.principalId\\\",\\\"tier\\\":"
                            "\\\"$context.authorizer.tier\\\"}\"}}",
                            FN_URI),
                     201);
    snprintf(ip, sizeof(ip), "%s/integration/responses/200", path);
    ck_assert_int_eq(api_st("PUT", ip, "{}"), 201);
    deploy(id, "dev", "{\"functionAlias\":\"dev\"}", NULL);
    char *body = NULL;
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/", id);
    ck_assert_int_eq(invoke("GET", path, NULL, NULL, &body, NULL, 0), 401);
    free(body);
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/?tok=nope", id);
    ck_assert_int_eq(invoke("GET", path, NULL, NULL, &body, NULL, 0), 403);
    free(body);
    snprintf(path, sizeof(path), "/_aws/execute-api/%s/dev/?tok=allow", id);
    ck_assert_int_eq(invoke("GET", path, NULL, NULL, &body, NULL, 0), 200);
    cJSON *j = cJSON_Parse(body);
    ck_assert_msg(j != NULL, "not JSON: %s", body);
    cJSON *got = cJSON_GetObjectItem(j, "got");
    ck_assert_str_eq(js(got, "who"), "user-1");
    ck_assert_str_eq(js(got, "tier"), "gold");
    cJSON_Delete(j);
    free(body);
}
END_TEST

/* A missing API, and a missing object of an existing API, answer 404 with
 * AWS's message on every lookup. */
START_TEST(test_not_found)
{
    static const struct {
        const char *method;
        const char *path; /* after /restapis/{id} */
        const char *message;
    } cases[] = {
        {"GET", "/resources/nope", "Invalid Resource identifier specified"},
        {"PATCH", "/resources/nope", "Invalid Resource identifier specified"},
        {"DELETE", "/resources/nope", "Invalid Resource identifier specified"},
        {"GET", "/resources/nope/methods/GET", "Invalid Resource identifier specified"},
        {"GET", "/stages/nope", "Invalid Stage identifier specified"},
        {"PATCH", "/stages/nope", "Invalid Stage identifier specified"},
        {"DELETE", "/stages/nope", "Invalid Stage identifier specified"},
        {"GET", "/deployments/nope", "Invalid Deployment identifier specified"},
        {"PATCH", "/deployments/nope", "Invalid Deployment identifier specified"},
        {"DELETE", "/deployments/nope", "Invalid Deployment identifier specified"},
        {"GET", "/authorizers/nope", "Invalid Authorizer identifier specified"},
        {"PATCH", "/authorizers/nope", "Invalid Authorizer identifier specified"},
        {"DELETE", "/authorizers/nope", "Invalid Authorizer identifier specified"},
        {"GET", "/models/nope", "Invalid model name specified: nope"},
        {"PATCH", "/models/nope", "Invalid model name specified: nope"},
        {"DELETE", "/models/nope", "Invalid model name specified: nope"},
        /* only the API can be missing below */
        {"GET", "/resources", NULL},
        {"GET", "/stages", NULL},
        {"POST", "/stages", NULL},
        {"GET", "/deployments", NULL},
        {"GET", "/authorizers", NULL},
        {"POST", "/authorizers", NULL},
        {"GET", "/models", NULL},
        {"POST", "/models", NULL},
    };
    char id[16], root[16];
    make_api("nf", id, root);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *body = strcmp(cases[i].method, "PATCH") == 0  ? "{\"patchOperations\":[]}"
                           : strcmp(cases[i].method, "POST") == 0 ? "{}"
                                                                  : NULL;
        char path[200];
        long st;
        cJSON *j;
        for (int missing_api = 0; missing_api < 2; missing_api++) {
            if (cases[i].message == NULL && !missing_api) {
                continue;
            }
            snprintf(path, sizeof(path), "/restapis/%s%s", missing_api ? "nope000000" : id,
                     cases[i].path);
            j = body != NULL ? api(&st, cases[i].method, path, "%s", body)
                             : api(&st, cases[i].method, path, NULL);
            ck_assert_msg(st == 404, "%s %s -> %ld", cases[i].method, path, st);
            ck_assert_str_eq(js(j, "message"),
                             missing_api
                                 ? "Invalid API identifier specified 000000000000:nope000000"
                                 : cases[i].message);
            cJSON_Delete(j);
        }
    }
}
END_TEST

int main(void)
{
    const struct kit_case cases[] = {
        {"rest_apis", test_rest_apis, NULL},
        {"resources", test_resources, NULL},
        {"methods", test_methods, NULL},
        {"integrations", test_integrations, NULL},
        {"method_and_integration_responses", test_method_and_integration_responses, NULL},
        {"not_found", test_not_found, NULL},
        {"deployments", test_deployments, NULL},
        {"stages", test_stages, NULL},
        {"models", test_models, NULL},
        {"authorizers", test_authorizers, NULL},
        {"api_keys", test_api_keys, NULL},
        {"invoke_mock", test_invoke_mock, NULL},
        {"invoke_mock_selection", test_invoke_mock_selection, NULL},
        {"invoke_http", test_invoke_http, NULL},
        {"invoke_aws_proxy", test_invoke_aws_proxy, NULL},
        {"alias_flip", test_alias_flip, NULL},
        {"missing_permission", test_missing_permission, NULL},
        {"invoke_aws_v05", test_invoke_aws_v05, NULL},
        {"invoke_aws_selection_regex", test_invoke_aws_selection_regex, NULL},
        {"invoke_authorizer", test_invoke_authorizer, NULL},
        {"invoke_request_authorizer", test_invoke_request_authorizer, NULL},
    };
    return KIT_RUN("apigateway", cases, setup, teardown, 60);
}
