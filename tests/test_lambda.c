/*
 * test_lambda.c - Lambda against a real greenroom: functions, versions,
 * aliases (weights), permissions, tags, event source mappings, and real
 * execution of the node, python and provided handlers of fixtures/lambda
 * (success, handled error, thrown error, timeout, weighted routing), and
 * asynchronous invocation: event invoke configs, retries (scaled down with
 * GREENROOM_LAMBDA_RETRY_SCALE) and OnSuccess/OnFailure destinations.
 * One tcase per operation; every validation has a negative case.
 */
#include <check.h>
#include <pthread.h>
#include <dirent.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <zip.h>

#include "harness.h"
#include "lambda_internal.h" /* lambda_policy_allows, unit-tested below */

#include "testkit.h" /* before lambda_testkit.h: its srv is the suite's */
#include "lambda_testkit.h"

static char *json_str(const char *body, const char *key)
{
    cJSON *j = cJSON_Parse(body);
    const cJSON *v = cJSON_GetObjectItem(j, key);
    char *s = cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
    cJSON_Delete(j);
    return s;
}

/* ------------------------------------------------------ CreateFunction */

START_TEST(test_create_function)
{
    struct zbuf z = make_zip("node");
    unsigned char d[32];
    SHA256(z.data, z.len, d);
    char *sha = b64(d, 32);
    struct gr_resp r = create_fn("fn1", "nodejs20.x", "index.handler", "node", "");
    ck_assert_int_eq(r.status, 201);
    cJSON *j = gr_resp_json(&r);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "CodeSha256")->valuestring, sha);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "CodeSize")->valueint, (int)z.len);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "Version")->valuestring, "$LATEST");
    ck_assert_str_eq(cJSON_GetObjectItem(j, "State")->valuestring, "Active");
    ck_assert_str_eq(cJSON_GetObjectItem(j, "LastUpdateStatus")->valuestring, "Successful");
    ck_assert_str_eq(cJSON_GetObjectItem(j, "FunctionArn")->valuestring,
                     "arn:aws:lambda:us-east-1:000000000000:function:fn1");
    ck_assert_int_eq(cJSON_GetObjectItem(j, "Timeout")->valueint, 3);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "MemorySize")->valueint, 128);
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(j, "RevisionId"));
    regex_t re;
    ck_assert_int_eq(
        regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}\\+0000$",
                REG_EXTENDED | REG_NOSUB),
        0);
    ck_assert_int_eq(regexec(&re, cJSON_GetObjectItem(j, "LastModified")->valuestring, 0, NULL, 0),
                     0);
    regfree(&re);
    cJSON_Delete(j);
    gr_resp_free(&r);
    free(sha);
    free(z.data);

    /* Publish: answers version 1 */
    r = create_fn("fn2", "nodejs20.x", "index.handler", "node", ",\"Publish\":true");
    ck_assert_int_eq(r.status, 201);
    ck_assert_ptr_nonnull(strstr(r.body, "\"Version\":\"1\""));
    ck_assert_ptr_nonnull(strstr(r.body, "function:fn2:1\""));
    gr_resp_free(&r);

    /* negative cases */
    r = create_fn("fn1", "nodejs20.x", "index.handler", "node", "");
    expect_error(&r, 409, "ResourceConflictException", "Function already exist: fn1");
    r = create_fn("fn3", "cobol85", "index.handler", "node", "");
    expect_error(&r, 400, "ValidationException", "at 'runtime'");
    r = create_fn("bad name!", "nodejs20.x", "index.handler", "node", "");
    expect_error(&r, 400, "ValidationException", "functionName");
    r = create_fn("fn4", "nodejs20.x", "index.handler", "node", ",\"Timeout\":0");
    expect_error(&r, 400, "ValidationException", "timeout");
    r = create_fn("fn4", "nodejs20.x", "index.handler", "node", ",\"MemorySize\":64");
    expect_error(&r, 400, "ValidationException", "memorySize");
    r = create_fn("fn4", "nodejs20.x", "index.handler", "node",
                  ",\"Environment\":{\"Variables\":{\"AWS_REGION\":\"x\"}}");
    expect_error(&r, 400, "InvalidParameterValueException", "Reserved keys");
    r = lam(
        "POST", "/2015-03-31/functions",
        "{\"FunctionName\":\"fn5\",\"Runtime\":\"nodejs20.x\",\"Handler\":\"i.h\",\"Role\":\"" ROLE
        "\",\"Code\":{\"ZipFile\":\"bm90IGEgemlw\"}}");
    expect_error(&r, 400, "InvalidParameterValueException", "Could not unzip uploaded file");
    r = lam("POST", "/2015-03-31/functions",
            "{\"FunctionName\":\"fn5\",\"Role\":\"" ROLE "\",\"Code\":{\"ZipFile\":\"\"}}");
    expect_error(&r, 400, "InvalidParameterValueException", "Runtime and Handler are mandatory");
    r = lam(
        "POST", "/2015-03-31/functions",
        "{\"FunctionName\":\"fn5\",\"Runtime\":\"nodejs20.x\",\"Handler\":\"i.h\",\"Role\":\"" ROLE
        "\"}");
    expect_error(&r, 400, "ValidationException", "'code'");
    r = lam("POST", "/2015-03-31/functions", "{not json");
    expect_error(&r, 400, "InvalidRequestContentException", NULL);
}
END_TEST

START_TEST(test_create_function_role)
{
    struct zbuf z = make_zip("node");
    char *zb = b64(z.data, z.len);
    char body[8192];
    snprintf(body, sizeof(body),
             "{\"FunctionName\":\"nr\",\"Runtime\":\"nodejs20.x\",\"Handler\":\"index.handler\","
             "\"Role\":\"arn:aws:iam::000000000000:role/missing\",\"Code\":{\"ZipFile\":\"%s\"}}",
             zb);
    struct gr_resp r = lam("POST", "/2015-03-31/functions", body);
    expect_error(&r, 400, "InvalidParameterValueException",
                 "The role defined for the function cannot be assumed by Lambda.");
    /* a role of another account does not exist in this one */
    snprintf(
        body, sizeof(body),
        "{\"FunctionName\":\"nr\",\"Runtime\":\"nodejs20.x\",\"Handler\":\"index.handler\","
        "\"Role\":\"arn:aws:iam::111122223333:role/lambda-role\",\"Code\":{\"ZipFile\":\"%s\"}}",
        zb);
    r = lam("POST", "/2015-03-31/functions", body);
    expect_error(&r, 400, "InvalidParameterValueException", "cannot be assumed by Lambda");
    snprintf(body, sizeof(body),
             "{\"FunctionName\":\"nr\",\"Runtime\":\"nodejs20.x\",\"Handler\":\"index.handler\","
             "\"Role\":\"not-an-arn\",\"Code\":{\"ZipFile\":\"%s\"}}",
             zb);
    r = lam("POST", "/2015-03-31/functions", body);
    expect_error(&r, 400, "ValidationException", "at 'role'");
    free(zb);
    free(z.data);
}
END_TEST

START_TEST(test_create_function_s3)
{
    struct zbuf z = make_zip("node");
    struct gr_resp r;
    ck_assert_int_eq(gr_request(&srv, "s3", "PUT", "/code-bkt", NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    gr_resp_free(&r);
    ck_assert_int_eq(gr_request(&srv, "s3", "PUT", "/code-bkt/dir/fn.zip", NULL, z.data, z.len, &r),
                     0);
    ck_assert_int_eq(r.status, 200);
    gr_resp_free(&r);
    r = lam("POST", "/2015-03-31/functions",
            "{\"FunctionName\":\"s3fn\",\"Runtime\":\"nodejs20.x\",\"Handler\":\"index.async\","
            "\"Role\":\"" ROLE "\",\"Code\":{\"S3Bucket\":\"code-bkt\",\"S3Key\":\"dir/fn.zip\"}}");
    ck_assert_int_eq(r.status, 201);
    ck_assert_ptr_nonnull(strstr(r.body, "\"CodeSize\":"));
    gr_resp_free(&r);
    r = invoke("s3fn", NULL, "{\"n\":7}", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "{\"style\":\"async\",\"n\":7}");
    gr_resp_free(&r);
    r = lam("POST", "/2015-03-31/functions",
            "{\"FunctionName\":\"s3fn2\",\"Runtime\":\"nodejs20.x\",\"Handler\":\"index.async\","
            "\"Role\":\"" ROLE "\",\"Code\":{\"S3Bucket\":\"code-bkt\",\"S3Key\":\"nope.zip\"}}");
    expect_error(&r, 400, "InvalidParameterValueException", "Error occurred while GetObject");
    free(z.data);
}
END_TEST

/* ---------------------------------------------------------- GetFunction */

START_TEST(test_get_function)
{
    struct zbuf z = make_zip("node");
    create_ok("gf", "nodejs20.x", "index.handler", "node", ",\"Publish\":true");
    struct gr_resp r = lam("GET", "/2015-03-31/functions/gf", NULL);
    ck_assert_int_eq(r.status, 200);
    cJSON *j = gr_resp_json(&r);
    const char *loc = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "Code"), "Location")->valuestring;
    ck_assert_ptr_nonnull(strstr(loc, srv.url));
    struct gr_resp dl;
    ck_assert_int_eq(gr_request_unsigned(&srv, "GET", loc + strlen(srv.url), NULL, NULL, 0, &dl),
                     0);
    ck_assert_int_eq(dl.status, 200);
    ck_assert_int_eq(dl.len, z.len);
    ck_assert_int_eq(memcmp(dl.body, z.data, z.len), 0);
    gr_resp_free(&dl);
    /* a tampered signature is refused */
    char bad[1024];
    snprintf(bad, sizeof(bad), "%s", loc + strlen(srv.url));
    bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == '0' ? '1' : '0';
    ck_assert_int_eq(gr_request_unsigned(&srv, "GET", bad, NULL, NULL, 0, &dl), 0);
    ck_assert_int_eq(dl.status, 403);
    gr_resp_free(&dl);
    /* the URL survives a restart (the signing key is kept in the state) */
    char path_only[1024];
    snprintf(path_only, sizeof(path_only), "%s", loc + strlen(srv.url));
    gr_kill9(&srv);
    ck_assert_int_eq(gr_restart(&srv, NULL), 0);
    ck_assert_int_eq(gr_request_unsigned(&srv, "GET", path_only, NULL, NULL, 0, &dl), 0);
    ck_assert_int_eq(dl.status, 200);
    ck_assert_int_eq(dl.len, z.len);
    gr_resp_free(&dl);
    cJSON_Delete(j);
    gr_resp_free(&r);

    /* names: partial ARN, full ARN (percent-encoded), qualified ARN */
    ck_assert_int_eq(
        lam_status("GET", "/2015-03-31/functions/000000000000:function:gf/configuration", NULL),
        200);
    r = lam(
        "GET",
        "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Agf%3A1",
        NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"FunctionArn\":\"arn:aws:lambda:us-east-1:000000000000:"
                                         "function:gf:1\""));
    gr_resp_free(&r);
    ck_assert_int_eq(lam_status("POST", "/2015-03-31/functions/gf/aliases",
                                "{\"Name\":\"dev\",\"FunctionVersion\":\"1\"}"),
                     201);
    r = lam("GET", "/2015-03-31/functions/gf?Qualifier=dev", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "function:gf:dev\""));
    ck_assert_ptr_nonnull(strstr(r.body, "\"Version\":\"1\""));
    gr_resp_free(&r);

    r = lam("GET", "/2015-03-31/functions/nope", NULL);
    expect_error(&r, 404, "ResourceNotFoundException",
                 "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope");
    r = lam("GET", "/2015-03-31/functions/gf?Qualifier=9", NULL);
    expect_error(&r, 404, "ResourceNotFoundException", "function:gf:9");
    r = lam("GET", "/2015-03-31/functions/gf%3A1?Qualifier=2", NULL);
    expect_error(&r, 400, "InvalidParameterValueException", "does not match");
    r = lam("GET", "/2015-03-31/functions/a%3Ab%3Ac%3Ad%3Ae", NULL);
    expect_error(&r, 400, "ValidationException", "functionName");
    free(z.data);
}
END_TEST

START_TEST(test_get_function_configuration)
{
    create_ok("gfc", "python3.12", "app.handler", "python", ",\"Timeout\":9,\"Description\":\"d\"");
    struct gr_resp r = lam("GET", "/2015-03-31/functions/gfc/configuration", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"Timeout\":9"));
    ck_assert_ptr_nonnull(strstr(r.body, "\"Description\":\"d\""));
    ck_assert_ptr_nonnull(strstr(r.body, "\"Runtime\":\"python3.12\""));
    gr_resp_free(&r);
    r = lam("GET", "/2015-03-31/functions/missing/configuration", NULL);
    expect_error(&r, 404, "ResourceNotFoundException", NULL);
}
END_TEST

START_TEST(test_list_functions)
{
    create_ok("la", "nodejs20.x", "index.handler", "node", "");
    create_ok("lb", "nodejs20.x", "index.handler", "node", ",\"Publish\":true");
    create_ok("lc", "nodejs20.x", "index.handler", "node", "");
    struct gr_resp r = lam("GET", "/2015-03-31/functions?MaxItems=2", NULL);
    ck_assert_int_eq(r.status, 200);
    cJSON *j = gr_resp_json(&r);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "Functions")), 2);
    char *marker = strdup(cJSON_GetObjectItem(j, "NextMarker")->valuestring);
    cJSON_Delete(j);
    gr_resp_free(&r);
    /* an opaque token, not an offset */
    char *end = NULL;
    strtol(marker, &end, 10);
    ck_assert(end == marker || *end != 0);
    /* a function deleted before the next page does not make one skipped */
    ck_assert_int_eq(lam_status("DELETE", "/2015-03-31/functions/la", NULL), 204);
    char path[256];
    snprintf(path, sizeof(path), "/2015-03-31/functions?Marker=%s&MaxItems=2", marker);
    free(marker);
    r = lam("GET", path, NULL);
    j = gr_resp_json(&r);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "Functions")), 1);
    ck_assert_ptr_null(cJSON_GetObjectItem(j, "NextMarker"));
    ck_assert_ptr_nonnull(strstr(r.body, "\"FunctionName\":\"lc\""));
    cJSON_Delete(j);
    gr_resp_free(&r);
    create_ok("la", "nodejs20.x", "index.handler", "node", "");
    r = lam("GET", "/2015-03-31/functions?FunctionVersion=ALL", NULL);
    j = gr_resp_json(&r);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "Functions")), 4);
    cJSON_Delete(j);
    gr_resp_free(&r);
    /* one at a time through every version, in order */
    const char *want[] = {"la:", "lb:", "lb:1", "lc:"};
    char mk[256] = "";
    for (size_t i = 0; i < 4; i++) {
        /* query parameters in sorted order: curl signs them as written */
        snprintf(path, sizeof(path), "/2015-03-31/functions?FunctionVersion=ALL%s%s&MaxItems=1",
                 mk[0] ? "&Marker=" : "", mk);
        r = lam("GET", path, NULL);
        ck_assert_int_eq(r.status, 200);
        j = gr_resp_json(&r);
        const cJSON *f = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "Functions"), 0);
        char got[128];
        const char *v = cJSON_GetObjectItem(f, "Version")->valuestring;
        snprintf(got, sizeof(got), "%s:%s", cJSON_GetObjectItem(f, "FunctionName")->valuestring,
                 strcmp(v, "$LATEST") == 0 ? "" : v);
        ck_assert_str_eq(got, want[i]);
        const cJSON *nm = cJSON_GetObjectItem(j, "NextMarker");
        if (i < 3) {
            ck_assert(cJSON_IsString(nm));
            snprintf(mk, sizeof(mk), "%s", nm->valuestring);
        } else {
            ck_assert_ptr_null(nm);
        }
        cJSON_Delete(j);
        gr_resp_free(&r);
    }
    r = lam("GET", "/2015-03-31/functions?Marker=12", NULL);
    expect_error(&r, 400, "InvalidParameterValueException", "Invalid marker");
    r = lam("GET", "/2015-03-31/functions?MaxItems=0", NULL);
    expect_error(&r, 400, "ValidationException", "maxItems");
    r = lam("GET", "/2015-03-31/functions?FunctionVersion=SOME", NULL);
    expect_error(&r, 400, "ValidationException", "functionVersion");
}
END_TEST

START_TEST(test_delete_function)
{
    create_ok("df", "nodejs20.x", "index.handler", "node", ",\"Publish\":true");
    struct gr_resp r = lam("POST", "/2015-03-31/functions/df/versions", "{}");
    gr_resp_free(&r);
    ck_assert_int_eq(lam_status("POST", "/2015-03-31/functions/df/aliases",
                                "{\"Name\":\"live\",\"FunctionVersion\":\"1\"}"),
                     201);
    r = lam("DELETE", "/2015-03-31/functions/df?Qualifier=1", NULL);
    expect_error(&r, 409, "ResourceConflictException",
                 "Unable to delete version because the following aliases reference it: [live]");
    r = lam("DELETE", "/2015-03-31/functions/df?Qualifier=%24LATEST", NULL);
    expect_error(&r, 400, "InvalidParameterValueException", "$LATEST version cannot be deleted");
    r = lam("DELETE", "/2015-03-31/functions/df?Qualifier=7", NULL);
    expect_error(&r, 404, "ResourceNotFoundException", NULL);
    /* the function's event source mappings go with it */
    r = lam("POST", "/2015-03-31/event-source-mappings",
            "{\"EventSourceArn\":\"arn:aws:sqs:us-east-1:000000000000:dfq\","
            "\"FunctionName\":\"df\"}");
    ck_assert_int_eq(r.status, 202);
    char *uuid = json_str(r.body, "UUID");
    gr_resp_free(&r);
    char esm_path[200];
    snprintf(esm_path, sizeof(esm_path), "/2015-03-31/event-source-mappings/%s", uuid);
    free(uuid);
    ck_assert_int_eq(lam_status("DELETE", "/2015-03-31/functions/df", NULL), 204);
    r = lam("GET", "/2015-03-31/functions/df", NULL);
    expect_error(&r, 404, "ResourceNotFoundException", NULL);
    r = lam("GET", esm_path, NULL);
    expect_error(&r, 404, "ResourceNotFoundException", NULL);
    r = lam("GET", "/2015-03-31/event-source-mappings?FunctionName=df", NULL);
    if (r.status == 200) {
        ck_assert_ptr_null(strstr(r.body, "dfq"));
    }
    gr_resp_free(&r);
    r = lam("DELETE", "/2015-03-31/functions/df", NULL);
    expect_error(&r, 404, "ResourceNotFoundException", NULL);

    /* deleting one unreferenced version */
    create_ok("dv", "nodejs20.x", "index.handler", "node", ",\"Publish\":true");
    ck_assert_int_eq(lam_status("DELETE", "/2015-03-31/functions/dv?Qualifier=1", NULL), 204);
    r = lam("GET", "/2015-03-31/functions/dv?Qualifier=1", NULL);
    expect_error(&r, 404, "ResourceNotFoundException", NULL);
}
END_TEST

/* ------------------------------------------------------------- updates */

START_TEST(test_update_function_code)
{
    create_ok("uc", "nodejs20.x", "index.handler", "node", "");
    struct gr_resp r = lam("GET", "/2015-03-31/functions/uc/configuration", NULL);
    char *rev = json_str(r.body, "RevisionId");
    char *sha = json_str(r.body, "CodeSha256");
    gr_resp_free(&r);

    struct zbuf z = make_zip("python");
    char *zb = b64(z.data, z.len);
    size_t n = strlen(zb) + 256;
    char *body = malloc(n);
    snprintf(body, n, "{\"ZipFile\":\"%s\",\"RevisionId\":\"wrong\"}", zb);
    r = lam("PUT", "/2015-03-31/functions/uc/code", body);
    expect_error(&r, 412, "PreconditionFailedException", "Revision Id provided does not match");

    snprintf(body, n, "{\"ZipFile\":\"%s\",\"DryRun\":true}", zb);
    ck_assert_int_eq(lam_status("PUT", "/2015-03-31/functions/uc/code", body), 200);
    r = lam("GET", "/2015-03-31/functions/uc/configuration", NULL);
    char *sha2 = json_str(r.body, "CodeSha256");
    ck_assert_str_eq(sha2, sha); /* DryRun changed nothing */
    free(sha2);
    gr_resp_free(&r);

    snprintf(body, n, "{\"ZipFile\":\"%s\",\"RevisionId\":\"%s\",\"Publish\":true}", zb, rev);
    r = lam("PUT", "/2015-03-31/functions/uc/code", body);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"Version\":\"1\""));
    char *rev2 = json_str(r.body, "RevisionId");
    ck_assert_str_ne(rev2, rev);
    sha2 = json_str(r.body, "CodeSha256");
    ck_assert_str_ne(sha2, sha);
    gr_resp_free(&r);
    r = lam("PUT", "/2015-03-31/functions/uc/code", "{}");
    expect_error(&r, 400, "InvalidParameterValueException", "Please provide a source");
    r = lam("PUT", "/2015-03-31/functions/nope/code", body);
    expect_error(&r, 404, "ResourceNotFoundException", NULL);
    /* only $LATEST's code changes */
    r = lam("PUT", "/2015-03-31/functions/uc:1/code", body);
    expect_error(&r, 400, "InvalidParameterValueException", "versions other than $LATEST");
    free(body);
    free(zb);
    free(z.data);
    free(rev);
    free(rev2);
    free(sha);
    free(sha2);
}
END_TEST

START_TEST(test_update_function_configuration)
{
    create_ok("ucf", "nodejs20.x", "index.handler", "node", "");
    struct gr_resp r = lam("GET", "/2015-03-31/functions/ucf/configuration", NULL);
    char *rev = json_str(r.body, "RevisionId");
    gr_resp_free(&r);
    r = lam("PUT", "/2015-03-31/functions/ucf/configuration",
            "{\"Environment\":{\"Variables\":{\"GREETING\":\"hola\"}},\"Timeout\":5,"
            "\"MemorySize\":256,\"Description\":\"x\",\"VpcConfig\":{\"SubnetIds\":[\"subnet-1\"],"
            "\"SecurityGroupIds\":[\"sg-1\"]}}");
    ck_assert_int_eq(r.status, 200);
    char *rev2 = json_str(r.body, "RevisionId");
    ck_assert_str_ne(rev, rev2);
    ck_assert_ptr_nonnull(strstr(r.body, "\"GREETING\":\"hola\""));
    ck_assert_ptr_nonnull(strstr(r.body, "\"Timeout\":5"));
    ck_assert_ptr_nonnull(strstr(r.body, "\"SubnetIds\":[\"subnet-1\"]"));
    gr_resp_free(&r);
    r = invoke("ucf", NULL, "{}", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"env\":\"hola\""));
    gr_resp_free(&r);
    char body[256];
    snprintf(body, sizeof(body), "{\"Timeout\":4,\"RevisionId\":\"%s\"}", rev);
    r = lam("PUT", "/2015-03-31/functions/ucf/configuration", body);
    expect_error(&r, 412, "PreconditionFailedException", NULL);
    r = lam("PUT", "/2015-03-31/functions/ucf/configuration",
            "{\"Role\":\"arn:aws:iam::000000000000:role/ghost\"}");
    expect_error(&r, 400, "InvalidParameterValueException", "cannot be assumed by Lambda");
    r = lam("PUT", "/2015-03-31/functions/ucf/configuration", "{\"Timeout\":901}");
    expect_error(&r, 400, "InvalidParameterValueException", NULL);
    r = lam("PUT", "/2015-03-31/functions/ucf/configuration", "{\"Handler\":\"a b\"}");
    expect_error(&r, 400, "ValidationException", "handler");
    /* only $LATEST's configuration changes; a function must exist */
    r = lam("PUT", "/2015-03-31/functions/ucf:1/configuration", "{\"Timeout\":4}");
    expect_error(&r, 400, "InvalidParameterValueException", "versions other than $LATEST");
    r = lam("PUT", "/2015-03-31/functions/nope/configuration", "{\"Timeout\":4}");
    expect_error(&r, 404, "ResourceNotFoundException", NULL);
    r = lam("PUT", "/2015-03-31/functions/ucf:%24LATEST/configuration", "{\"Timeout\":6}");
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"Timeout\":6"));
    gr_resp_free(&r);
    free(rev);
    free(rev2);
}
END_TEST

/* ------------------------------------------------------------ versions */

START_TEST(test_publish_version)
{
    create_ok("pv", "nodejs20.x", "index.handler", "node", "");
    struct gr_resp r = lam("POST", "/2015-03-31/functions/pv/versions", "{}");
    ck_assert_int_eq(r.status, 201);
    ck_assert_ptr_nonnull(strstr(r.body, "\"Version\":\"1\""));
    gr_resp_free(&r);
    r = lam("POST", "/2015-03-31/functions/pv/versions", "{}");
    ck_assert_int_eq(r.status, 201);
    ck_assert_ptr_nonnull(strstr(r.body, "\"Version\":\"1\"")); /* unchanged: same version */
    gr_resp_free(&r);
    r = lam("PUT", "/2015-03-31/functions/pv/configuration", "{\"Timeout\":7}");
    ck_assert_int_eq(r.status, 200);
    char *sha = json_str(r.body, "CodeSha256");
    char *rev = json_str(r.body, "RevisionId");
    gr_resp_free(&r);
    r = lam("POST", "/2015-03-31/functions/pv/versions", "{\"CodeSha256\":\"AAAA\"}");
    expect_error(&r, 400, "InvalidParameterValueException", "CodeSHA256 (AAAA) is different");
    r = lam("POST", "/2015-03-31/functions/pv/versions", "{\"RevisionId\":\"nope\"}");
    expect_error(&r, 412, "PreconditionFailedException", NULL);
    char body[256];
    snprintf(body, sizeof(body),
             "{\"CodeSha256\":\"%s\",\"RevisionId\":\"%s\",\"Description\":\"v2\"}", sha, rev);
    r = lam("POST", "/2015-03-31/functions/pv/versions", body);
    ck_assert_int_eq(r.status, 201);
    ck_assert_ptr_nonnull(strstr(r.body, "\"Version\":\"2\""));
    ck_assert_ptr_nonnull(strstr(r.body, "\"Description\":\"v2\""));
    ck_assert_ptr_nonnull(strstr(r.body, "\"Timeout\":7"));
    gr_resp_free(&r);
    /* PublishVersion's own Description is not a change: still version 2 */
    r = lam("POST", "/2015-03-31/functions/pv/versions", "{\"Description\":\"again\"}");
    ck_assert_int_eq(r.status, 201);
    ck_assert_ptr_nonnull(strstr(r.body, "\"Version\":\"2\""));
    gr_resp_free(&r);
    /* re-setting the same value (members re-ordered) is not a change either */
    ck_assert_int_eq(lam_status("PUT", "/2015-03-31/functions/pv/configuration",
                                "{\"Timeout\":7,\"MemorySize\":128}"),
                     200);
    r = lam("POST", "/2015-03-31/functions/pv/versions", "{}");
    ck_assert_ptr_nonnull(strstr(r.body, "\"Version\":\"2\""));
    gr_resp_free(&r);
    /* each configuration change publishes a new version */
    static const char *const changes[] = {
        "{\"Description\":\"new words\"}",
        "{\"Environment\":{\"Variables\":{\"AB\":\"1\"}}}",
        "{\"Environment\":{\"Variables\":{\"AB\":\"2\"}}}",
        "{\"MemorySize\":256}",
        "{\"Handler\":\"index.async\"}",
        "{\"Runtime\":\"nodejs18.x\"}",
        "{\"Timeout\":9}",
    };
    for (size_t i = 0; i < sizeof(changes) / sizeof(*changes); i++) {
        r = lam("PUT", "/2015-03-31/functions/pv/configuration", changes[i]);
        if (r.status != 200) {
            fprintf(stderr, "%s: %ld %s\n", changes[i], r.status, r.body);
        }
        ck_assert_int_eq(r.status, 200);
        gr_resp_free(&r);
        r = lam("POST", "/2015-03-31/functions/pv/versions", "{}");
        ck_assert_int_eq(r.status, 201);
        char want[64];
        snprintf(want, sizeof(want), "\"Version\":\"%zu\"", i + 3);
        if (strstr(r.body, want) == NULL) {
            fprintf(stderr, "after %s: %s\n", changes[i], r.body);
        }
        ck_assert_ptr_nonnull(strstr(r.body, want));
        gr_resp_free(&r);
    }
    r = lam("POST", "/2015-03-31/functions/pv/versions", "{}");
    ck_assert_ptr_nonnull(strstr(r.body, "\"Version\":\"9\""));
    gr_resp_free(&r);
    r = lam("POST", "/2015-03-31/functions/nope/versions", "{}");
    expect_error(&r, 404, "ResourceNotFoundException", NULL);
    free(sha);
    free(rev);
}
END_TEST

START_TEST(test_list_versions_by_function)
{
    create_ok("lv", "nodejs20.x", "index.handler", "node", ",\"Publish\":true");
    struct gr_resp r = lam("PUT", "/2015-03-31/functions/lv/configuration", "{\"Timeout\":8}");
    gr_resp_free(&r);
    r = lam("POST", "/2015-03-31/functions/lv/versions", "{}");
    gr_resp_free(&r);
    r = lam("GET", "/2015-03-31/functions/lv/versions", NULL);
    ck_assert_int_eq(r.status, 200);
    cJSON *j = gr_resp_json(&r);
    cJSON *v = cJSON_GetObjectItem(j, "Versions");
    ck_assert_int_eq(cJSON_GetArraySize(v), 3);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(v, 0), "Version")->valuestring,
                     "$LATEST");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(v, 2), "Version")->valuestring, "2");
    cJSON_Delete(j);
    gr_resp_free(&r);
    /* page by page through opaque markers: $LATEST, 1, 2 */
    const char *want[] = {"$LATEST", "1", "2"};
    char mk[256] = "";
    for (size_t i = 0; i < 3; i++) {
        char path[400];
        snprintf(path, sizeof(path), "/2015-03-31/functions/lv/versions?%s%s%sMaxItems=1",
                 mk[0] ? "Marker=" : "", mk, mk[0] ? "&" : "");
        r = lam("GET", path, NULL);
        ck_assert_int_eq(r.status, 200);
        j = gr_resp_json(&r);
        v = cJSON_GetObjectItem(j, "Versions");
        ck_assert_int_eq(cJSON_GetArraySize(v), 1);
        ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(v, 0), "Version")->valuestring,
                         want[i]);
        const cJSON *nm = cJSON_GetObjectItem(j, "NextMarker");
        if (i < 2) {
            ck_assert(cJSON_IsString(nm));
            snprintf(mk, sizeof(mk), "%s", nm->valuestring);
        } else {
            ck_assert_ptr_null(nm);
        }
        cJSON_Delete(j);
        gr_resp_free(&r);
    }
    r = lam("GET", "/2015-03-31/functions/lv/versions?Marker=1", NULL);
    expect_error(&r, 400, "InvalidParameterValueException", "Invalid marker");
    r = lam("GET", "/2015-03-31/functions/nope/versions", NULL);
    expect_error(&r, 404, "ResourceNotFoundException", NULL);
}
END_TEST

/* ------------------------------------------------------------- aliases */

static void two_versions(const char *name)
{
    create_ok(name, "nodejs20.x", "index.handler", "node", ",\"Publish\":true");
    char path[256];
    snprintf(path, sizeof(path), "/2015-03-31/functions/%s/configuration", name);
    struct gr_resp r = lam("PUT", path, "{\"Timeout\":4}");
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/2015-03-31/functions/%s/versions", name);
    r = lam("POST", path, "{}");
    ck_assert_ptr_nonnull(strstr(r.body, "\"Version\":\"2\""));
    gr_resp_free(&r);
}

START_TEST(test_create_alias)
{
    two_versions("ca");
    struct gr_resp r = lam("POST", "/2015-03-31/functions/ca/aliases",
                           "{\"Name\":\"dev\",\"FunctionVersion\":\"1\",\"Description\":\"d\","
                           "\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"2\":0.25}}}");
    ck_assert_int_eq(r.status, 201);
    ck_assert_ptr_nonnull(strstr(r.body, "\"AliasArn\":\"arn:aws:lambda:us-east-1:000000000000:"
                                         "function:ca:dev\""));
    ck_assert_ptr_nonnull(strstr(r.body, "\"AdditionalVersionWeights\":{\"2\":0.25}"));
    gr_resp_free(&r);
    r = lam("POST", "/2015-03-31/functions/ca/aliases",
            "{\"Name\":\"dev\",\"FunctionVersion\":\"1\"}");
    expect_error(&r, 409, "ResourceConflictException", "Alias already exists");
    r = lam("POST", "/2015-03-31/functions/ca/aliases",
            "{\"Name\":\"123\",\"FunctionVersion\":\"1\"}");
    expect_error(&r, 400, "ValidationException", "at 'name'");
    r = lam("POST", "/2015-03-31/functions/ca/aliases",
            "{\"Name\":\"x\",\"FunctionVersion\":\"9\"}");
    expect_error(&r, 404, "ResourceNotFoundException", "function:ca:9");
    r = lam("POST", "/2015-03-31/functions/ca/aliases",
            "{\"Name\":\"x\",\"FunctionVersion\":\"v1\"}");
    expect_error(&r, 400, "ValidationException", "functionVersion");
    r = lam("POST", "/2015-03-31/functions/ca/aliases", "{\"Name\":\"x\"}");
    expect_error(&r, 400, "ValidationException", "functionVersion");
    r = lam(
        "POST", "/2015-03-31/functions/ca/aliases",
        "{\"Name\":\"x\",\"FunctionVersion\":\"1\",\"RoutingConfig\":{\"AdditionalVersionWeights\":"
        "{\"2\":0.1,\"3\":0.1}}}");
    expect_error(&r, 400, "InvalidParameterValueException",
                 "Number of items in AdditionalVersionWeights cannot be greater than 1");
    r = lam(
        "POST", "/2015-03-31/functions/ca/aliases",
        "{\"Name\":\"x\",\"FunctionVersion\":\"1\",\"RoutingConfig\":{\"AdditionalVersionWeights\":"
        "{\"2\":1.5}}}");
    expect_error(&r, 400, "ValidationException", "less than or equal to 1.0");
    r = lam(
        "POST", "/2015-03-31/functions/ca/aliases",
        "{\"Name\":\"x\",\"FunctionVersion\":\"1\",\"RoutingConfig\":{\"AdditionalVersionWeights\":"
        "{\"2\":-0.5}}}");
    expect_error(&r, 400, "ValidationException", "greater than or equal to 0.0");
    r = lam(
        "POST", "/2015-03-31/functions/ca/aliases",
        "{\"Name\":\"x\",\"FunctionVersion\":\"1\",\"RoutingConfig\":{\"AdditionalVersionWeights\":"
        "{\"1\":0.5}}}");
    expect_error(&r, 400, "InvalidParameterValueException", "already included in routing");
    r = lam("POST", "/2015-03-31/functions/ca/aliases",
            "{\"Name\":\"x\",\"FunctionVersion\":\"$LATEST\",\"RoutingConfig\":{"
            "\"AdditionalVersionWeights\":{\"1\":0.5}}}");
    expect_error(&r, 400, "InvalidParameterValueException", "$LATEST is not supported");
    r = lam(
        "POST", "/2015-03-31/functions/ca/aliases",
        "{\"Name\":\"x\",\"FunctionVersion\":\"1\",\"RoutingConfig\":{\"AdditionalVersionWeights\":"
        "{\"5\":0.5}}}");
    expect_error(&r, 404, "ResourceNotFoundException", "function:ca:5");
    r = lam(
        "POST", "/2015-03-31/functions/ca/aliases",
        "{\"Name\":\"x\",\"FunctionVersion\":\"1\",\"RoutingConfig\":{\"AdditionalVersionWeights\":"
        "{\"latest\":0.5}}}");
    expect_error(&r, 400, "ValidationException", "Map keys");
    r = lam("POST", "/2015-03-31/functions/nope/aliases",
            "{\"Name\":\"x\",\"FunctionVersion\":\"1\"}");
    expect_error(&r, 404, "ResourceNotFoundException", NULL);
}
END_TEST

START_TEST(test_get_alias)
{
    two_versions("ga");
    struct gr_resp r = lam("POST", "/2015-03-31/functions/ga/aliases",
                           "{\"Name\":\"prod\",\"FunctionVersion\":\"2\"}");
    gr_resp_free(&r);
    r = lam("GET", "/2015-03-31/functions/ga/aliases/prod", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"FunctionVersion\":\"2\""));
    ck_assert_ptr_nonnull(strstr(r.body, "\"Description\":\"\""));
    gr_resp_free(&r);
    r = lam("GET", "/2015-03-31/functions/ga/aliases/nope", NULL);
    expect_error(&r, 404, "ResourceNotFoundException",
                 "Cannot find alias arn: arn:aws:lambda:us-east-1:000000000000:function:ga:nope");
}
END_TEST

START_TEST(test_update_alias)
{
    two_versions("ua");
    struct gr_resp r = lam("POST", "/2015-03-31/functions/ua/aliases",
                           "{\"Name\":\"dev\",\"FunctionVersion\":\"1\"}");
    char *rev = json_str(r.body, "RevisionId");
    gr_resp_free(&r);
    r = lam("PUT", "/2015-03-31/functions/ua/aliases/dev",
            "{\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"2\":0.1}}}");
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "{\"2\":0.1}"));
    char *rev2 = json_str(r.body, "RevisionId");
    ck_assert_str_ne(rev, rev2);
    gr_resp_free(&r);
    char body[256];
    snprintf(body, sizeof(body), "{\"FunctionVersion\":\"2\",\"RevisionId\":\"%s\"}", rev);
    r = lam("PUT", "/2015-03-31/functions/ua/aliases/dev", body);
    expect_error(&r, 412, "PreconditionFailedException", "GetAlias");
    /* moving the primary onto the weighted version is refused while it routes */
    snprintf(body, sizeof(body), "{\"FunctionVersion\":\"2\",\"RevisionId\":\"%s\"}", rev2);
    r = lam("PUT", "/2015-03-31/functions/ua/aliases/dev", body);
    expect_error(&r, 400, "InvalidParameterValueException", "already included");
    r = lam("PUT", "/2015-03-31/functions/ua/aliases/dev",
            "{\"FunctionVersion\":\"2\",\"RoutingConfig\":{\"AdditionalVersionWeights\":{}},"
            "\"Description\":\"moved\"}");
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_null(strstr(r.body, "RoutingConfig"));
    ck_assert_ptr_nonnull(strstr(r.body, "\"Description\":\"moved\""));
    gr_resp_free(&r);
    r = lam("PUT", "/2015-03-31/functions/ua/aliases/nope", "{\"FunctionVersion\":\"1\"}");
    expect_error(&r, 404, "ResourceNotFoundException", "Cannot find alias arn");
    r = lam("PUT", "/2015-03-31/functions/ua/aliases/dev", "{\"FunctionVersion\":\"8\"}");
    expect_error(&r, 404, "ResourceNotFoundException", NULL);
    free(rev);
    free(rev2);
}
END_TEST

START_TEST(test_delete_alias)
{
    two_versions("da");
    struct gr_resp r = lam("POST", "/2015-03-31/functions/da/aliases",
                           "{\"Name\":\"dev\",\"FunctionVersion\":\"1\"}");
    gr_resp_free(&r);
    ck_assert_int_eq(lam_status("DELETE", "/2015-03-31/functions/da/aliases/dev", NULL), 204);
    r = lam("GET", "/2015-03-31/functions/da/aliases/dev", NULL);
    expect_error(&r, 404, "ResourceNotFoundException", NULL);
    /* the version is free to go now */
    ck_assert_int_eq(lam_status("DELETE", "/2015-03-31/functions/da?Qualifier=1", NULL), 204);
    r = lam("DELETE", "/2015-03-31/functions/da/aliases/123", NULL);
    expect_error(&r, 400, "ValidationException", NULL);
}
END_TEST

START_TEST(test_list_aliases)
{
    two_versions("lal");
    const char *names[] = {"a1", "a2", "a3"};
    for (int i = 0; i < 3; i++) {
        char body[128];
        snprintf(body, sizeof(body), "{\"Name\":\"%s\",\"FunctionVersion\":\"%d\"}", names[i],
                 i == 2 ? 2 : 1);
        struct gr_resp r = lam("POST", "/2015-03-31/functions/lal/aliases", body);
        ck_assert_int_eq(r.status, 201);
        gr_resp_free(&r);
    }
    struct gr_resp r = lam("GET", "/2015-03-31/functions/lal/aliases", NULL);
    cJSON *j = gr_resp_json(&r);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "Aliases")), 3);
    cJSON_Delete(j);
    gr_resp_free(&r);
    r = lam("GET", "/2015-03-31/functions/lal/aliases?FunctionVersion=2", NULL);
    j = gr_resp_json(&r);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "Aliases")), 1);
    cJSON_Delete(j);
    gr_resp_free(&r);
    r = lam("GET", "/2015-03-31/functions/lal/aliases?MaxItems=2", NULL);
    ck_assert_ptr_nonnull(strstr(r.body, "NextMarker"));
    gr_resp_free(&r);
}
END_TEST

/* --------------------------------------------------------- permissions */

START_TEST(test_add_permission)
{
    two_versions("ap");
    struct gr_resp r = lam("POST", "/2015-03-31/functions/ap/aliases",
                           "{\"Name\":\"dev\",\"FunctionVersion\":\"1\"}");
    gr_resp_free(&r);
    r = lam("POST", "/2015-03-31/functions/ap/policy?Qualifier=dev",
            "{\"StatementId\":\"apigw\",\"Action\":\"lambda:InvokeFunction\",\"Principal\":"
            "\"apigateway.amazonaws.com\",\"SourceArn\":\"arn:aws:execute-api:us-east-1:"
            "000000000000:abc/*/GET/books\",\"SourceAccount\":\"000000000000\"}");
    ck_assert_int_eq(r.status, 201);
    char *stmt = json_str(r.body, "Statement");
    ck_assert_str_eq(stmt,
                     "{\"Sid\":\"apigw\",\"Effect\":\"Allow\",\"Principal\":{\"Service\":"
                     "\"apigateway.amazonaws.com\"},\"Action\":\"lambda:InvokeFunction\","
                     "\"Resource\":\"arn:aws:lambda:us-east-1:000000000000:function:ap:dev\","
                     "\"Condition\":{\"StringEquals\":{\"AWS:SourceAccount\":\"000000000000\"},"
                     "\"ArnLike\":{\"AWS:SourceArn\":\"arn:aws:execute-api:us-east-1:000000000000:"
                     "abc/*/GET/books\"}}}");
    free(stmt);
    gr_resp_free(&r);
    const char *dup = "{\"StatementId\":\"apigw\",\"Action\":\"lambda:InvokeFunction\","
                      "\"Principal\":\"sns.amazonaws.com\"}";
    r = lam("POST", "/2015-03-31/functions/ap/policy?Qualifier=dev", dup);
    expect_error(&r, 409, "ResourceConflictException",
                 "The statement id (apigw) provided already exists");
    /* the same id on another qualifier is another policy */
    ck_assert_int_eq(lam_status("POST", "/2015-03-31/functions/ap/policy?Qualifier=2", dup), 201);
    /* qualifier taken from a qualified ARN */
    r = lam("POST",
            "/2015-03-31/functions/"
            "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Aap%3Adev/policy",
            "{\"StatementId\":\"acct\",\"Action\":\"lambda:*\",\"Principal\":\"111122223333\"}");
    ck_assert_int_eq(r.status, 201);
    ck_assert_ptr_nonnull(strstr(r.body, "arn:aws:iam::111122223333:root"));
    gr_resp_free(&r);
    r = lam("POST", "/2015-03-31/functions/ap/policy?Qualifier=nope", dup);
    expect_error(&r, 404, "ResourceNotFoundException", "Cannot find alias arn");
    r = lam("POST", "/2015-03-31/functions/ap/policy?Qualifier=%24LATEST", dup);
    expect_error(&r, 400, "InvalidParameterValueException", "$LATEST");
    r = lam(
        "POST", "/2015-03-31/functions/ap/policy",
        "{\"StatementId\":\"bad id!\",\"Action\":\"lambda:InvokeFunction\",\"Principal\":\"x\"}");
    expect_error(&r, 400, "ValidationException", "statementId");
    r = lam("POST", "/2015-03-31/functions/ap/policy",
            "{\"StatementId\":\"a\",\"Action\":\"s3:GetObject\",\"Principal\":\"x\"}");
    expect_error(&r, 400, "ValidationException", "action");
    r = lam("POST", "/2015-03-31/functions/ap/policy",
            "{\"StatementId\":\"a\",\"Action\":\"lambda:InvokeFunction\"}");
    expect_error(&r, 400, "ValidationException", "principal");
    r = lam("POST", "/2015-03-31/functions/ap/policy",
            "{\"StatementId\":\"a\",\"Action\":\"lambda:InvokeFunction\",\"Principal\":\"x\","
            "\"SourceAccount\":\"12\"}");
    expect_error(&r, 400, "ValidationException", "sourceAccount");
    r = lam("POST", "/2015-03-31/functions/ap/policy",
            "{\"StatementId\":\"a\",\"Action\":\"lambda:InvokeFunction\",\"Principal\":\"x\","
            "\"RevisionId\":\"old\"}");
    expect_error(&r, 412, "PreconditionFailedException", NULL);
}
END_TEST

START_TEST(test_get_policy)
{
    create_ok("gp", "nodejs20.x", "index.handler", "node", "");
    struct gr_resp r = lam("GET", "/2015-03-31/functions/gp/policy", NULL);
    expect_error(&r, 404, "ResourceNotFoundException",
                 "The resource you requested does not exist.");
    r = lam("POST", "/2015-03-31/functions/gp/policy",
            "{\"StatementId\":\"s1\",\"Action\":\"lambda:InvokeFunction\",\"Principal\":\"s3."
            "amazonaws.com\","
            "\"SourceArn\":\"arn:aws:s3:::bkt\"}");
    gr_resp_free(&r);
    r = lam("POST", "/2015-03-31/functions/gp/policy",
            "{\"StatementId\":\"s2\",\"Action\":\"lambda:InvokeFunction\",\"Principal\":\"*\"}");
    gr_resp_free(&r);
    r = lam("GET", "/2015-03-31/functions/gp/policy", NULL);
    ck_assert_int_eq(r.status, 200);
    char *pol = json_str(r.body, "Policy");
    ck_assert_str_eq(
        pol, "{\"Version\":\"2012-10-17\",\"Id\":\"default\",\"Statement\":[{\"Sid\":\"s1\","
             "\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"s3.amazonaws.com\"},"
             "\"Action\":\"lambda:InvokeFunction\",\"Resource\":\"arn:aws:lambda:us-east-1:"
             "000000000000:function:gp\",\"Condition\":{\"ArnLike\":{\"AWS:SourceArn\":"
             "\"arn:aws:s3:::bkt\"}}},{\"Sid\":\"s2\",\"Effect\":\"Allow\",\"Principal\":"
             "\"*\",\"Action\":\"lambda:InvokeFunction\",\"Resource\":\"arn:aws:lambda:"
             "us-east-1:000000000000:function:gp\"}]}");
    free(pol);
    char *rev = json_str(r.body, "RevisionId");
    ck_assert_ptr_nonnull(rev);
    free(rev);
    gr_resp_free(&r);
    /* the unqualified policy is not the alias's */
    r = lam("POST", "/2015-03-31/functions/gp/versions", "{}");
    gr_resp_free(&r);
    r = lam("GET", "/2015-03-31/functions/gp/policy?Qualifier=1", NULL);
    expect_error(&r, 404, "ResourceNotFoundException", NULL);
}
END_TEST

START_TEST(test_remove_permission)
{
    create_ok("rp", "nodejs20.x", "index.handler", "node", "");
    struct gr_resp r = lam("DELETE", "/2015-03-31/functions/rp/policy/s1", NULL);
    expect_error(&r, 404, "ResourceNotFoundException", "No policy is associated");
    r = lam("POST", "/2015-03-31/functions/rp/policy",
            "{\"StatementId\":\"s1\",\"Action\":\"lambda:InvokeFunction\",\"Principal\":\"sns."
            "amazonaws.com\"}");
    gr_resp_free(&r);
    r = lam("DELETE", "/2015-03-31/functions/rp/policy/s2", NULL);
    expect_error(&r, 404, "ResourceNotFoundException", "Statement s2 is not found");
    ck_assert_int_eq(lam_status("DELETE", "/2015-03-31/functions/rp/policy/s1", NULL), 204);
    r = lam("GET", "/2015-03-31/functions/rp/policy", NULL);
    expect_error(&r, 404, "ResourceNotFoundException", NULL);
}
END_TEST

/* --------------------------------------------------- tags and settings */

START_TEST(test_tags)
{
    create_ok("tg", "nodejs20.x", "index.handler", "node", ",\"Tags\":{\"team\":\"a\"}");
    const char *arn =
        "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Atg";
    struct gr_resp r = lam("POST", arn, "{\"Tags\":{\"stage\":\"dev\",\"team\":\"b\"}}");
    ck_assert_int_eq(r.status, 204);
    gr_resp_free(&r);
    r = lam("GET", arn, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"team\":\"b\""));
    ck_assert_ptr_nonnull(strstr(r.body, "\"stage\":\"dev\""));
    gr_resp_free(&r);
    char path[300];
    snprintf(path, sizeof(path), "%s?tagKeys=team", arn);
    ck_assert_int_eq(lam_status("DELETE", path, NULL), 204);
    r = lam("GET", "/2015-03-31/functions/tg", NULL);
    ck_assert_ptr_nonnull(strstr(r.body, "\"Tags\":{\"stage\":\"dev\"}"));
    gr_resp_free(&r);
    r = lam("GET",
            "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Anope",
            NULL);
    expect_error(&r, 404, "ResourceNotFoundException", NULL);
    r = lam("GET", "/2017-03-31/tags/notanarn", NULL);
    expect_error(&r, 400, "ValidationException", NULL);
    r = lam("POST", arn, "{}");
    expect_error(&r, 400, "ValidationException", "tags");
}
END_TEST

START_TEST(test_get_account_settings)
{
    create_ok("as", "nodejs20.x", "index.handler", "node", "");
    struct gr_resp r = lam("GET", "/2016-08-19/account-settings", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"FunctionCount\":1"));
    ck_assert_ptr_nonnull(strstr(r.body, "\"ConcurrentExecutions\":1000"));
    gr_resp_free(&r);
}
END_TEST

/* ------------------------------------------------- event source mappings */

START_TEST(test_event_source_mappings)
{
    two_versions("esm");
    struct gr_resp r = lam("POST", "/2015-03-31/functions/esm/aliases",
                           "{\"Name\":\"dev\",\"FunctionVersion\":\"1\"}");
    gr_resp_free(&r);
    r = lam("POST", "/2015-03-31/event-source-mappings",
            "{\"EventSourceArn\":\"arn:aws:sqs:us-east-1:000000000000:q1\",\"FunctionName\":"
            "\"arn:aws:lambda:us-east-1:000000000000:function:esm:dev\",\"BatchSize\":5}");
    ck_assert_int_eq(r.status, 202);
    char *uuid = json_str(r.body, "UUID");
    ck_assert_ptr_nonnull(strstr(r.body, "\"BatchSize\":5"));
    ck_assert_ptr_nonnull(strstr(r.body, "\"State\":\"Enabled\""));
    ck_assert_ptr_nonnull(strstr(
        r.body, "\"FunctionArn\":\"arn:aws:lambda:us-east-1:000000000000:function:esm:dev\""));
    gr_resp_free(&r);
    char path[200];
    snprintf(path, sizeof(path), "/2015-03-31/event-source-mappings/%s", uuid);
    ck_assert_int_eq(lam_status("GET", path, NULL), 200);
    r = lam("PUT", path, "{\"Enabled\":false,\"BatchSize\":7}");
    ck_assert_int_eq(r.status, 202);
    ck_assert_ptr_nonnull(strstr(r.body, "\"State\":\"Disabled\""));
    ck_assert_ptr_nonnull(strstr(r.body, "\"BatchSize\":7"));
    gr_resp_free(&r);
    r = lam("GET", "/2015-03-31/event-source-mappings?FunctionName=esm", NULL);
    cJSON *j = gr_resp_json(&r);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "EventSourceMappings")), 1);
    cJSON_Delete(j);
    gr_resp_free(&r);
    r = lam(
        "GET",
        "/2015-03-31/event-source-mappings?EventSourceArn=arn:aws:sqs:us-east-1:000000000000:other",
        NULL);
    j = gr_resp_json(&r);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "EventSourceMappings")), 0);
    cJSON_Delete(j);
    gr_resp_free(&r);
    r = lam("PUT", path, "{\"BatchSize\":0}");
    expect_error(&r, 400, "ValidationException", "batchSize");
    r = lam("DELETE", path, NULL);
    ck_assert_int_eq(r.status, 202);
    ck_assert_ptr_nonnull(strstr(r.body, "\"State\":\"Deleting\""));
    gr_resp_free(&r);
    r = lam("GET", path, NULL);
    expect_error(&r, 404, "ResourceNotFoundException", NULL);
    r = lam("POST", "/2015-03-31/event-source-mappings",
            "{\"EventSourceArn\":\"arn:aws:sqs:us-east-1:000000000000:q1\",\"FunctionName\":"
            "\"ghost\"}");
    expect_error(&r, 404, "ResourceNotFoundException", NULL);
    r = lam("POST", "/2015-03-31/event-source-mappings",
            "{\"EventSourceArn\":\"arn:aws:kinesis:us-east-1:000000000000:stream/"
            "s\",\"FunctionName\":\"esm\"}");
    expect_error(&r, 400, "InvalidParameterValueException", "startingPosition");
    r = lam("POST", "/2015-03-31/event-source-mappings",
            "{\"EventSourceArn\":\"arn:aws:sqs:us-east-1:000000000000:q1\"}");
    expect_error(&r, 400, "ValidationException", "functionName");
    free(uuid);
}
END_TEST

/* --------------------------------------------------------------- Invoke */

START_TEST(test_invoke_node)
{
    create_ok("nd", "nodejs20.x", "index.handler", "node",
              ",\"Environment\":{\"Variables\":{\"GREETING\":\"hi\"}},\"Publish\":true");
    const char *const tail[] = {"X-Amz-Log-Type: Tail",
                                "X-Amz-Client-Context: eyJjdXN0b20iOnsiYSI6MX19", NULL};
    struct gr_resp r = invoke("nd", "1", "{\"k\":\"v\"}", tail);
    ck_assert_int_eq(r.status, 200);
    char buf[8192];
    ck_assert_ptr_nonnull(gr_resp_header(&r, "X-Amz-Executed-Version", buf, sizeof(buf)));
    ck_assert_str_eq(buf, "1");
    ck_assert_ptr_null(gr_resp_header(&r, "X-Amz-Function-Error", buf, sizeof(buf)));
    cJSON *j = gr_resp_json(&r);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "event"), "k")->valuestring, "v");
    ck_assert_str_eq(cJSON_GetObjectItem(j, "env")->valuestring, "hi");
    ck_assert_str_eq(cJSON_GetObjectItem(j, "version")->valuestring, "1");
    ck_assert_str_eq(cJSON_GetObjectItem(j, "arn")->valuestring,
                     "arn:aws:lambda:us-east-1:000000000000:function:nd:1");
    ck_assert_str_eq(cJSON_GetObjectItem(j, "endpoint")->valuestring, srv.url);
    ck_assert_int_eq(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "clientContext"), "custom"),
                            "a")
            ->valueint,
        1);
    cJSON_Delete(j);
    ck_assert_ptr_nonnull(gr_resp_header(&r, "X-Amz-Log-Result", buf, sizeof(buf)));
    unsigned char logtext[8192];
    int n = EVP_DecodeBlock(logtext, (unsigned char *)buf, (int)strlen(buf));
    ck_assert_int_gt(n, 0);
    logtext[n] = 0;
    ck_assert_ptr_nonnull(strstr((char *)logtext, "START RequestId:"));
    ck_assert_ptr_nonnull(strstr((char *)logtext, "hello from node {\"k\":\"v\"}"));
    ck_assert_ptr_nonnull(strstr((char *)logtext, "REPORT RequestId:"));
    gr_resp_free(&r);

    /* warm: the same sandbox answers again */
    r = invoke("nd", NULL, "{}", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(gr_resp_header(&r, "X-Amz-Executed-Version", buf, sizeof(buf)));
    ck_assert_str_eq(buf, "$LATEST");
    gr_resp_free(&r);

    /* the log file */
    char path[600];
    snprintf(path, sizeof(path), "%s/lambda/logs/000000000000-us-east-1-nd.log", srv.state_dir);
    char *log = gr_read_file(path, NULL);
    ck_assert_ptr_nonnull(log);
    ck_assert_ptr_nonnull(strstr(log, "hello from node"));
    free(log);

    /* function code reaches greenroom with its own credentials, while the
     * invocation runs (Invoke holds no store lock) */
    ck_assert_int_eq(gr_request(&srv, "s3", "PUT", "/seen-by-fn", NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    gr_resp_free(&r);
    create_ok("ca", "nodejs20.x", "index.callsAws", "node", "");
    r = invoke("ca", NULL, "{}", NULL);
    ck_assert_int_eq(r.status, 200);
    if (strstr(r.body, "seen-by-fn") == NULL) {
        fprintf(stderr, "callsAws: %s\n", r.body);
    }
    ck_assert_ptr_nonnull(strstr(r.body, "\"status\":200"));
    ck_assert_ptr_nonnull(strstr(r.body, "seen-by-fn"));
    gr_resp_free(&r);

    /* styles */
    struct {
        const char *handler;
        const char *expect;
    } styles[] = {
        {"index.succeed", "{\"style\":\"succeed\",\"stage\":null}"},
        {"index.done", "{\"style\":\"done\"}"},
        {"index.async", "{\"style\":\"async\",\"n\":3}"},
        {"index.promise", "{\"style\":\"promise\"}"},
        {"index.silent", "null"},
        {"lib/deep/nested.handler", "{\"nested\":true,\"got\":{\"n\":3}}"},
        {"esm/app.handler", "{\"esm\":true,\"got\":{\"n\":3}}"},
    };
    for (size_t i = 0; i < sizeof(styles) / sizeof(styles[0]); i++) {
        char name[32], body[128];
        snprintf(name, sizeof(name), "st%zu", i);
        snprintf(body, sizeof(body), ",\"Handler\":\"%s\"", styles[i].handler);
        create_ok(name, "nodejs4.3", styles[i].handler, "node", "");
        r = invoke(name, NULL, "{\"n\":3}", NULL);
        ck_assert_int_eq(r.status, 200);
        if (strcmp(r.body, styles[i].expect) != 0) {
            fprintf(stderr, "%s: %s\n", styles[i].handler, r.body);
        }
        ck_assert_str_eq(r.body, styles[i].expect);
        ck_assert_ptr_null(gr_resp_header(&r, "X-Amz-Function-Error", buf, sizeof(buf)));
        gr_resp_free(&r);
    }
}
END_TEST

START_TEST(test_invoke_errors)
{
    create_ok("eh", "nodejs20.x", "index.handled", "node", "");
    struct gr_resp r = invoke("eh", NULL, "{}", NULL);
    ck_assert_int_eq(r.status, 200);
    expect_fn_error(&r, "Handled", "\"errorMessage\":\"handled boom\"");
    ck_assert_ptr_nonnull(strstr(r.body, "\"errorType\":\"Error\""));
    gr_resp_free(&r);

    create_ok("ef", "nodejs20.x", "index.fail", "node", "");
    r = invoke("ef", NULL, "{}", NULL);
    expect_fn_error(&r, "Handled", "failed via context.fail");
    gr_resp_free(&r);

    create_ok("et", "nodejs20.x", "index.throws", "node", "");
    r = invoke("et", NULL, "{}", NULL);
    ck_assert_int_eq(r.status, 200);
    expect_fn_error(&r, "Unhandled", "\"errorType\":\"TypeError\"");
    ck_assert_ptr_nonnull(strstr(r.body, "thrown boom"));
    gr_resp_free(&r);
    /* the sandbox survives a thrown error */
    r = invoke("et", NULL, "{}", NULL);
    ck_assert_ptr_nonnull(strstr(r.body, "thrown boom"));
    gr_resp_free(&r);

    create_ok("er", "nodejs20.x", "index.rejects", "node", "");
    r = invoke("er", NULL, "{}", NULL);
    expect_fn_error(&r, "Unhandled", "\"errorType\":\"RangeError\"");
    gr_resp_free(&r);

    create_ok("em", "nodejs20.x", "missing.handler", "node", "");
    r = invoke("em", NULL, "{}", NULL);
    expect_fn_error(&r, "Unhandled", "Runtime.ImportModuleError");
    gr_resp_free(&r);

    create_ok("ee", "nodejs20.x", "index.exit", "node", "");
    r = invoke("ee", NULL, "{}", NULL);
    expect_fn_error(&r, "Unhandled", "Runtime.ExitError");
    ck_assert_ptr_nonnull(strstr(r.body, "Runtime exited with error: exit status 3"));
    gr_resp_free(&r);

    create_ok("eo", "nodejs20.x", "index.hog", "node", ",\"Timeout\":20");
    r = invoke("eo", NULL, "{}", NULL);
    expect_fn_error(&r, "Unhandled", "Runtime exited with error");
    gr_resp_free(&r);

    create_ok("eb", "nodejs20.x", "index.big", "node", "");
    r = invoke("eb", NULL, "{}", NULL);
    expect_fn_error(&r, NULL, "Function.ResponseSizeTooLarge");
    gr_resp_free(&r);

    create_ok("ex", "nodejs20.x", "index.nothere", "node", "");
    r = invoke("ex", NULL, "{}", NULL);
    ck_assert_ptr_nonnull(strstr(r.body, "Runtime.HandlerNotFound"));
    gr_resp_free(&r);
}
END_TEST

START_TEST(test_invoke_timeout)
{
    create_ok("to", "nodejs20.x", "index.timeout", "node", ",\"Timeout\":1");
    struct gr_resp r = invoke("to", NULL, "{}", NULL);
    ck_assert_int_eq(r.status, 200);
    expect_fn_error(&r, "Unhandled", "Task timed out after 1.00 seconds");
    gr_resp_free(&r);
    /* a fresh sandbox takes over after the kill */
    r = lam("PUT", "/2015-03-31/functions/to/configuration", "{\"Handler\":\"index.async\"}");
    gr_resp_free(&r);
    r = invoke("to", NULL, "{\"n\":1}", NULL);
    ck_assert_str_eq(r.body, "{\"style\":\"async\",\"n\":1}");
    gr_resp_free(&r);
}
END_TEST

START_TEST(test_invoke_types)
{
    create_ok("ty", "nodejs20.x", "index.handler", "node", "");
    const char *const ev[] = {"X-Amz-Invocation-Type: Event", NULL};
    struct gr_resp r = invoke("ty", NULL, "{\"async\":1}", ev);
    ck_assert_int_eq(r.status, 202);
    ck_assert_int_eq(r.len, 0);
    gr_resp_free(&r);
    ck_assert_int_eq(gr_request(&srv, "lambda", "POST", "/2014-11-13/functions/ty/invoke-async/",
                                NULL, "{}", 2, &r),
                     0);
    ck_assert_int_eq(r.status, 202);
    ck_assert_str_eq(r.body, "{\"Status\":202}");
    gr_resp_free(&r);
    const char *const dry[] = {"X-Amz-Invocation-Type: DryRun", NULL};
    r = invoke("ty", NULL, "{}", dry);
    ck_assert_int_eq(r.status, 204);
    gr_resp_free(&r);
    const char *const bad[] = {"X-Amz-Invocation-Type: Sometimes", NULL};
    r = invoke("ty", NULL, "{}", bad);
    expect_error(&r, 400, "ValidationException", "invocationType");
    r = invoke("ty", NULL, "{not json", NULL);
    expect_error(&r, 400, "InvalidRequestContentException",
                 "Could not parse request body into json");
    r = invoke("nope", NULL, "{}", NULL);
    expect_error(&r, 404, "ResourceNotFoundException", "function:nope");
    r = invoke("ty", "nope", "{}", NULL);
    expect_error(&r, 404, "ResourceNotFoundException", "function:ty:nope");
    /* the async run shows up in the log */
    char path[600];
    snprintf(path, sizeof(path), "%s/lambda/logs/000000000000-us-east-1-ty.log", srv.state_dir);
    char *log = NULL;
    for (int i = 0; i < 100; i++) {
        free(log);
        log = gr_read_file(path, NULL);
        if (log != NULL && strstr(log, "{\"async\":1}") != NULL) {
            break;
        }
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    ck_assert_ptr_nonnull(log);
    ck_assert_ptr_nonnull(strstr(log, "{\"async\":1}"));
    free(log);
}
END_TEST

/* ----------------------------------------------- asynchronous invocation */

/* Count of journal entries for service/operation/resource. */
static int journal_count(const char *service, const char *op, const char *resource)
{
    struct gr_resp r;
    ck_assert_int_eq(
        gr_request_unsigned(&srv, "GET", "/_greenroom/calls?since=0", NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    cJSON *j = cJSON_Parse(r.body);
    gr_resp_free(&r);
    int n = 0;
    const cJSON *c = NULL;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(j, "calls"))
    {
        const cJSON *s = cJSON_GetObjectItem(c, "service");
        const cJSON *o = cJSON_GetObjectItem(c, "operation");
        const cJSON *res = cJSON_GetObjectItem(c, "resource");
        if (cJSON_IsString(s) && strcmp(s->valuestring, service) == 0 && cJSON_IsString(o) &&
            strcmp(o->valuestring, op) == 0 &&
            (resource == NULL ||
             (cJSON_IsString(res) && strcmp(res->valuestring, resource) == 0))) {
            n++;
        }
    }
    cJSON_Delete(j);
    return n;
}

static const cJSON *jpath(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItem(o, a);
    return b ? cJSON_GetObjectItem(x, b) : x;
}

START_TEST(test_event_invoke_config)
{
    create_ok("ec", "nodejs20.x", "index.handler", "node", ",\"Publish\":true");
    const char *p = "/2019-09-25/functions/ec/event-invoke-config";
    struct gr_resp r = lam("GET", p, NULL);
    expect_error(&r, 404, "ResourceNotFoundException",
                 "arn:aws:lambda:us-east-1:000000000000:function:ec:$LATEST doesn't have an "
                 "EventInvokeConfig");
    r = lam("PUT", p,
            "{\"MaximumRetryAttempts\":1,\"DestinationConfig\":{\"OnFailure\":{\"Destination\":"
            "\"arn:aws:sqs:us-east-1:000000000000:dlq\"}}}");
    ck_assert_int_eq(r.status, 200);
    cJSON *j = cJSON_Parse(r.body);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "MaximumRetryAttempts")->valueint, 1);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "FunctionArn")->valuestring,
                     "arn:aws:lambda:us-east-1:000000000000:function:ec:$LATEST");
    ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(j, "LastModified")));
    ck_assert_str_eq(
        jpath(jpath(j, "DestinationConfig", "OnFailure"), "Destination", NULL)->valuestring,
        "arn:aws:sqs:us-east-1:000000000000:dlq");
    ck_assert(cJSON_IsObject(jpath(j, "DestinationConfig", "OnSuccess")));
    cJSON_Delete(j);
    gr_resp_free(&r);
    /* Update merges */
    r = lam("POST", p, "{\"MaximumEventAgeInSeconds\":300}");
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"MaximumRetryAttempts\":1"));
    ck_assert_ptr_nonnull(strstr(r.body, "\"MaximumEventAgeInSeconds\":300"));
    ck_assert_ptr_nonnull(strstr(r.body, "dlq"));
    gr_resp_free(&r);
    /* Put replaces */
    r = lam("PUT", p, "{\"MaximumRetryAttempts\":0}");
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_null(strstr(r.body, "MaximumEventAgeInSeconds"));
    ck_assert_ptr_null(strstr(r.body, "dlq"));
    gr_resp_free(&r);
    r = lam("GET", p, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"MaximumRetryAttempts\":0"));
    gr_resp_free(&r);
    /* per qualifier */
    r = lam("PUT", "/2019-09-25/functions/ec/event-invoke-config?Qualifier=1",
            "{\"MaximumRetryAttempts\":2}");
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "function:ec:1\""));
    gr_resp_free(&r);
    r = lam("GET", "/2019-09-25/functions/ec/event-invoke-config/list", NULL);
    ck_assert_int_eq(r.status, 200);
    j = cJSON_Parse(r.body);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "FunctionEventInvokeConfigs")), 2);
    cJSON_Delete(j);
    gr_resp_free(&r);
    r = lam("GET", "/2019-09-25/functions/ec/event-invoke-config/list?MaxItems=1", NULL);
    ck_assert_ptr_nonnull(strstr(r.body, "NextMarker"));
    gr_resp_free(&r);
    /* validation */
    r = lam("PUT", "/2019-09-25/functions/ec/event-invoke-config?Qualifier=nope", "{}");
    expect_error(&r, 404, "ResourceNotFoundException", NULL);
    r = lam("PUT", "/2019-09-25/functions/nofn/event-invoke-config", "{}");
    expect_error(&r, 404, "ResourceNotFoundException", NULL);
    r = lam("PUT", p, "{\"MaximumRetryAttempts\":3}");
    expect_error(&r, 400, "ValidationException", "less than or equal to 2");
    r = lam("PUT", p, "{\"MaximumEventAgeInSeconds\":59}");
    expect_error(&r, 400, "ValidationException", "greater than or equal to 60");
    r = lam("PUT", p, "{\"MaximumEventAgeInSeconds\":21601}");
    expect_error(&r, 400, "ValidationException", "less than or equal to 21600");
    r = lam("PUT", p,
            "{\"DestinationConfig\":{\"OnSuccess\":{\"Destination\":\"arn:aws:s3:::bucket\"}}}");
    expect_error(&r, 400, "InvalidParameterValueException", "destination");
    r = lam("PUT", p, "{\"DestinationConfig\":{\"OnSuccess\":{\"Destination\":\"not-an-arn\"}}}");
    expect_error(&r, 400, "InvalidParameterValueException", NULL);
    /* delete */
    ck_assert_int_eq(lam_status("DELETE", p, NULL), 204);
    r = lam("GET", p, NULL);
    expect_error(&r, 404, "ResourceNotFoundException", NULL);
    r = lam("DELETE", p, NULL);
    expect_error(&r, 404, "ResourceNotFoundException", NULL);
    /* DeleteFunction takes the remaining configs with it */
    ck_assert_int_eq(lam_status("DELETE", "/2015-03-31/functions/ec", NULL), 204);
    create_ok("ec", "nodejs20.x", "index.handler", "node", ",\"Publish\":true");
    r = lam("GET", "/2019-09-25/functions/ec/event-invoke-config?Qualifier=1", NULL);
    expect_error(&r, 404, "ResourceNotFoundException", NULL);
}
END_TEST

START_TEST(test_invoke_async_retries)
{
    const char *const ev[] = {"X-Amz-Invocation-Type: Event", NULL};
    char *dlq = make_queue("async-failures");
    char *okq = make_queue("async-successes");

    /* a handled error: the first try plus two retries, then OnFailure */
    create_ok("ah", "nodejs20.x", "index.handled", "node", "");
    struct gr_resp r = lam("PUT", "/2019-09-25/functions/ah/event-invoke-config",
                           "{\"DestinationConfig\":{\"OnFailure\":{\"Destination\":"
                           "\"arn:aws:sqs:us-east-1:000000000000:async-failures\"}}}");
    ck_assert_int_eq(r.status, 200);
    gr_resp_free(&r);
    r = invoke("ah", NULL, "{\"k\":\"v\"}", ev);
    ck_assert_int_eq(r.status, 202);
    char rid[64];
    ck_assert_ptr_nonnull(gr_resp_header(&r, "x-amzn-RequestId", rid, sizeof(rid)));
    gr_resp_free(&r);
    cJSON *rec = queue_wait(dlq, 30);
    ck_assert_ptr_nonnull(rec);
    ck_assert_str_eq(jpath(rec, "version", NULL)->valuestring, "1.0");
    ck_assert(cJSON_IsString(jpath(rec, "timestamp", NULL)));
    ck_assert_str_eq(jpath(rec, "requestContext", "condition")->valuestring, "RetriesExhausted");
    ck_assert_int_eq(jpath(rec, "requestContext", "approximateInvokeCount")->valueint, 3);
    ck_assert_str_eq(jpath(rec, "requestContext", "requestId")->valuestring, rid);
    ck_assert_str_eq(jpath(rec, "requestContext", "functionArn")->valuestring,
                     "arn:aws:lambda:us-east-1:000000000000:function:ah:$LATEST");
    ck_assert_str_eq(jpath(rec, "requestPayload", "k")->valuestring, "v");
    ck_assert_int_eq(jpath(rec, "responseContext", "statusCode")->valueint, 200);
    ck_assert_str_eq(jpath(rec, "responseContext", "executedVersion")->valuestring, "$LATEST");
    ck_assert_str_eq(jpath(rec, "responseContext", "functionError")->valuestring, "Handled");
    ck_assert_str_eq(jpath(rec, "responsePayload", "errorMessage")->valuestring, "handled boom");
    cJSON_Delete(rec);
    /* the retries and the delivery are in the journal */
    ck_assert_int_eq(journal_count("lambda", "Invoke", "ah"), 1);
    ck_assert_int_eq(journal_count("lambda", "Invoke", "ah:$LATEST"), 2);
    ck_assert_int_ge(journal_count("sqs", "SendMessage", "async-failures"), 1);

    /* fails once, succeeds on the first retry: OnSuccess on an alias */
    create_ok("af", "nodejs20.x", "index.flaky", "node", ",\"Publish\":true");
    ck_assert_int_eq(lam_status("POST", "/2015-03-31/functions/af/aliases",
                                "{\"Name\":\"live\",\"FunctionVersion\":\"1\"}"),
                     201);
    ck_assert_int_eq(lam_status("PUT",
                                "/2019-09-25/functions/af/event-invoke-config?Qualifier=live",
                                "{\"DestinationConfig\":{\"OnSuccess\":{\"Destination\":"
                                "\"arn:aws:sqs:us-east-1:000000000000:async-successes\"}}}"),
                     200);
    r = invoke("af", "live", "{\"key\":\"a\",\"failures\":1}", ev);
    ck_assert_int_eq(r.status, 202);
    gr_resp_free(&r);
    rec = queue_wait(okq, 30);
    ck_assert_ptr_nonnull(rec);
    ck_assert_str_eq(jpath(rec, "requestContext", "condition")->valuestring, "Success");
    ck_assert_int_eq(jpath(rec, "requestContext", "approximateInvokeCount")->valueint, 2);
    ck_assert_str_eq(jpath(rec, "requestContext", "functionArn")->valuestring,
                     "arn:aws:lambda:us-east-1:000000000000:function:af:live");
    ck_assert_str_eq(jpath(rec, "responseContext", "executedVersion")->valuestring, "1");
    ck_assert_ptr_null(jpath(rec, "responseContext", "functionError"));
    ck_assert_int_eq(jpath(rec, "responsePayload", "attempts")->valueint, 2);
    cJSON_Delete(rec);
    ck_assert_int_eq(journal_count("lambda", "Invoke", "af:1"), 1);

    /* MaximumRetryAttempts 0: one try only, Unhandled */
    ck_assert_int_eq(
        lam_status(
            "PUT", "/2019-09-25/functions/af/event-invoke-config",
            "{\"MaximumRetryAttempts\":0,\"DestinationConfig\":{\"OnFailure\":{\"Destination\":"
            "\"arn:aws:sqs:us-east-1:000000000000:async-failures\"}}}"),
        200);
    r = invoke("af", NULL, "{\"key\":\"b\",\"failures\":5}", ev);
    ck_assert_int_eq(r.status, 202);
    gr_resp_free(&r);
    rec = queue_wait(dlq, 30);
    ck_assert_ptr_nonnull(rec);
    ck_assert_str_eq(jpath(rec, "requestContext", "condition")->valuestring, "RetriesExhausted");
    ck_assert_int_eq(jpath(rec, "requestContext", "approximateInvokeCount")->valueint, 1);
    ck_assert_str_eq(jpath(rec, "responseContext", "functionError")->valuestring, "Unhandled");
    cJSON_Delete(rec);
    ck_assert_int_eq(journal_count("lambda", "Invoke", "af:$LATEST"), 0);

    /* the event outlives MaximumEventAgeInSeconds (60 s, scaled to 60 ms):
     * no retry, EventAgeExceeded */
    ck_assert_int_eq(
        lam_status("PUT", "/2019-09-25/functions/af/event-invoke-config",
                   "{\"MaximumEventAgeInSeconds\":60,\"DestinationConfig\":{\"OnFailure\":{"
                   "\"Destination\":\"arn:aws:sqs:us-east-1:000000000000:async-failures\"}}}"),
        200);
    r = invoke("af", NULL, "{\"key\":\"c\",\"failures\":5}", ev);
    gr_resp_free(&r);
    rec = queue_wait(dlq, 30);
    ck_assert_ptr_nonnull(rec);
    ck_assert_str_eq(jpath(rec, "requestContext", "condition")->valuestring, "EventAgeExceeded");
    ck_assert_int_eq(jpath(rec, "requestContext", "approximateInvokeCount")->valueint, 1);
    cJSON_Delete(rec);
    free(dlq);
    free(okq);
}
END_TEST

START_TEST(test_invoke_async_sns_destination)
{
    /* a timeout is a failure too; the record goes through an SNS topic to a
     * subscribed queue */
    static const char *const form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    char *q = make_queue("via-sns");
    const char *body = "Action=CreateTopic&Version=2010-03-31&Name=async-topic";
    struct gr_resp r;
    ck_assert_int_eq(gr_request(&srv, "sns", "POST", "/", form, body, strlen(body), &r), 0);
    ck_assert_int_eq(r.status, 200);
    gr_resp_free(&r);
    body = "Action=Subscribe&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A"
           "000000000000%3Aasync-topic&Protocol=sqs&Endpoint=arn%3Aaws%3Asqs%3Aus-east-1%3A"
           "000000000000%3Avia-sns";
    ck_assert_int_eq(gr_request(&srv, "sns", "POST", "/", form, body, strlen(body), &r), 0);
    ck_assert_int_eq(r.status, 200);
    gr_resp_free(&r);
    create_ok("at", "nodejs20.x", "index.timeout", "node", ",\"Timeout\":1");
    ck_assert_int_eq(
        lam_status(
            "PUT", "/2019-09-25/functions/at/event-invoke-config",
            "{\"MaximumRetryAttempts\":1,\"DestinationConfig\":{\"OnFailure\":{\"Destination\":"
            "\"arn:aws:sns:us-east-1:000000000000:async-topic\"}}}"),
        200);
    const char *const ev[] = {"X-Amz-Invocation-Type: Event", NULL};
    r = invoke("at", NULL, "{\"t\":1}", ev);
    ck_assert_int_eq(r.status, 202);
    gr_resp_free(&r);
    cJSON *env = queue_wait(q, 30);
    ck_assert_ptr_nonnull(env);
    const cJSON *m = cJSON_GetObjectItem(env, "Message");
    ck_assert(cJSON_IsString(m));
    cJSON *rec = cJSON_Parse(m->valuestring);
    ck_assert_ptr_nonnull(rec);
    ck_assert_str_eq(jpath(rec, "requestContext", "condition")->valuestring, "RetriesExhausted");
    ck_assert_int_eq(jpath(rec, "requestContext", "approximateInvokeCount")->valueint, 2);
    ck_assert_str_eq(jpath(rec, "responseContext", "functionError")->valuestring, "Unhandled");
    ck_assert_ptr_nonnull(
        strstr(jpath(rec, "responsePayload", "errorMessage")->valuestring, "Task timed out"));
    cJSON_Delete(rec);
    cJSON_Delete(env);
    ck_assert_int_ge(journal_count("sns", "Publish", "async-topic"), 1);
    free(q);
}
END_TEST

START_TEST(test_invoke_async_from_sns)
{
    /* an SNS delivery is an internal Event invocation: same retries, same
     * destinations, the function's policy checked once */
    static const char *const form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    char *q = make_queue("sns-failures");
    create_ok("sf", "nodejs20.x", "index.handled", "node", "");
    struct gr_resp r = lam("POST", "/2015-03-31/functions/sf/policy",
                           "{\"StatementId\":\"sns\",\"Action\":\"lambda:InvokeFunction\","
                           "\"Principal\":\"sns.amazonaws.com\"}");
    ck_assert_int_eq(r.status, 201);
    gr_resp_free(&r);
    ck_assert_int_eq(
        lam_status(
            "PUT", "/2019-09-25/functions/sf/event-invoke-config",
            "{\"MaximumRetryAttempts\":1,\"DestinationConfig\":{\"OnFailure\":{\"Destination\":"
            "\"arn:aws:sqs:us-east-1:000000000000:sns-failures\"}}}"),
        200);
    const char *body = "Action=CreateTopic&Version=2010-03-31&Name=to-lambda";
    ck_assert_int_eq(gr_request(&srv, "sns", "POST", "/", form, body, strlen(body), &r), 0);
    ck_assert_int_eq(r.status, 200);
    gr_resp_free(&r);
    body = "Action=Subscribe&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A"
           "000000000000%3Ato-lambda&Protocol=lambda&Endpoint=arn%3Aaws%3Alambda%3Aus-east-1%3A"
           "000000000000%3Afunction%3Asf";
    ck_assert_int_eq(gr_request(&srv, "sns", "POST", "/", form, body, strlen(body), &r), 0);
    ck_assert_int_eq(r.status, 200);
    gr_resp_free(&r);
    body = "Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A"
           "000000000000%3Ato-lambda&Message=hello-async";
    ck_assert_int_eq(gr_request(&srv, "sns", "POST", "/", form, body, strlen(body), &r), 0);
    ck_assert_int_eq(r.status, 200);
    gr_resp_free(&r);
    cJSON *rec = queue_wait(q, 30);
    ck_assert_ptr_nonnull(rec);
    ck_assert_str_eq(jpath(rec, "requestContext", "condition")->valuestring, "RetriesExhausted");
    ck_assert_int_eq(jpath(rec, "requestContext", "approximateInvokeCount")->valueint, 2);
    const cJSON *rec0 = cJSON_GetArrayItem(jpath(rec, "requestPayload", "Records"), 0);
    ck_assert_str_eq(jpath(rec0, "Sns", "Message")->valuestring, "hello-async");
    cJSON_Delete(rec);
    ck_assert_int_eq(journal_count("lambda", "Invoke", "sf:$LATEST"), 1);
    free(q);
}
END_TEST

START_TEST(test_invoke_python)
{
    char buf[256];
    create_ok("py", "python3.12", "app.handler", "python",
              ",\"Environment\":{\"Variables\":{\"GREETING\":\"salut\"}}");
    const char *const tail[] = {"X-Amz-Log-Type: Tail", NULL};
    struct gr_resp r = invoke("py", NULL, "{\"x\":[1,2]}", tail);
    ck_assert_int_eq(r.status, 200);
    cJSON *j = gr_resp_json(&r);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "event"), "x")),
                     2);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "env")->valuestring, "salut");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "remaining")));
    cJSON_Delete(j);
    ck_assert_ptr_nonnull(gr_resp_header(&r, "X-Amz-Log-Result", buf, sizeof(buf)));
    gr_resp_free(&r);
    create_ok("pyf", "python3.11", "app.fails", "python", "");
    r = invoke("pyf", NULL, "{}", NULL);
    expect_fn_error(&r, "Unhandled", "\"errorMessage\": \"python boom\"");
    ck_assert_ptr_nonnull(strstr(r.body, "\"errorType\": \"ValueError\""));
    gr_resp_free(&r);
    create_ok("pyu", "python3.12", "app.unmarshalable", "python", "");
    r = invoke("pyu", NULL, "{}", NULL);
    ck_assert_ptr_nonnull(strstr(r.body, "\"errorType\": \"Runtime.MarshalError\""));
    ck_assert_ptr_nonnull(strstr(r.body, "Unable to marshal response"));
    gr_resp_free(&r);
    create_ok("pyn", "python3.12", "pkg/mod.handler", "python", "");
    r = invoke("pyn", NULL, "{}", NULL);
    ck_assert_str_eq(r.body, "{\"nested\": true}");
    gr_resp_free(&r);
    create_ok("pyt", "python3.12", "app.slow", "python", ",\"Timeout\":1");
    r = invoke("pyt", NULL, "{}", NULL);
    ck_assert_ptr_nonnull(strstr(r.body, "Task timed out after 1.00 seconds"));
    gr_resp_free(&r);
    create_ok("pym", "python3.12", "nomod.handler", "python", "");
    r = invoke("pym", NULL, "{}", NULL);
    ck_assert_ptr_nonnull(strstr(r.body, "Runtime.ImportModuleError"));
    gr_resp_free(&r);
}
END_TEST

START_TEST(test_invoke_provided)
{
    create_ok("pr", "provided.al2023", "echo", "provided", "");
    struct gr_resp r = invoke("pr", NULL, "{\"a\":1}", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "{\"echo\":{\"a\":1}}");
    gr_resp_free(&r);
    create_ok("prf", "provided", "fail", "provided", "");
    r = invoke("prf", NULL, "{}", NULL);
    expect_fn_error(&r, "Unhandled", "provided boom");
    gr_resp_free(&r);
    /* no bootstrap in the zip */
    create_ok("prn", "provided.al2", "x", "node", "");
    r = invoke("prn", NULL, "{}", NULL);
    expect_fn_error(&r, NULL, "bootstrap");
    gr_resp_free(&r);
}
END_TEST

START_TEST(test_invoke_weighted_alias)
{
    two_versions("wa");
    struct gr_resp r = lam("POST", "/2015-03-31/functions/wa/aliases",
                           "{\"Name\":\"live\",\"FunctionVersion\":\"1\",\"RoutingConfig\":{"
                           "\"AdditionalVersionWeights\":{\"2\":0.3}}}");
    ck_assert_int_eq(r.status, 201);
    gr_resp_free(&r);
    int n = 300, v2 = 0;
    char buf[64];
    for (int i = 0; i < n; i++) {
        r = invoke("wa", "live", "{}", NULL);
        ck_assert_int_eq(r.status, 200);
        ck_assert_ptr_nonnull(gr_resp_header(&r, "X-Amz-Executed-Version", buf, sizeof(buf)));
        ck_assert(strcmp(buf, "1") == 0 || strcmp(buf, "2") == 0);
        cJSON *j = gr_resp_json(&r);
        ck_assert_str_eq(cJSON_GetObjectItem(j, "version")->valuestring, buf);
        cJSON_Delete(j);
        v2 += strcmp(buf, "2") == 0;
        gr_resp_free(&r);
    }
    /* mean 90, sd ~7.9: [50, 130] is beyond 5 sd either way */
    ck_assert_int_ge(v2, 50);
    ck_assert_int_le(v2, 130);
}
END_TEST

/* The check Invoke applies to internal callers (x-greenroom-source-principal):
 * evaluated on the policy documents AddPermission writes. */
START_TEST(test_invoke_policy_check)
{
    cJSON *st = cJSON_Parse(
        "[{\"Sid\":\"a\",\"Effect\":\"Allow\",\"Principal\":{\"Service\":"
        "\"apigateway.amazonaws.com\"},\"Action\":\"lambda:InvokeFunction\",\"Resource\":\"x\","
        "\"Condition\":{\"ArnLike\":{\"AWS:SourceArn\":\"arn:aws:execute-api:us-east-1:"
        "000000000000:abc/*/GET/books\"}}},"
        "{\"Sid\":\"b\",\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"sns.amazonaws.com\"},"
        "\"Action\":\"lambda:InvokeFunction\",\"Resource\":\"x\"},"
        "{\"Sid\":\"c\",\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"s3.amazonaws.com\"},"
        "\"Action\":\"lambda:GetFunction\",\"Resource\":\"x\"},"
        "{\"Sid\":\"d\",\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"events.amazonaws.com\"},"
        "\"Action\":\"lambda:InvokeFunction\",\"Resource\":\"x\",\"Condition\":{\"StringEquals\":"
        "{\"AWS:SourceAccount\":\"111122223333\"},\"ArnEquals\":{\"AWS:SourceArn\":"
        "\"arn:aws:events:us-east-1:111122223333:rule/r\"}}}]");
    ck_assert_ptr_nonnull(st);
    const char *api = "apigateway.amazonaws.com";
    ck_assert(lambda_policy_allows(
        st, api, "arn:aws:execute-api:us-east-1:000000000000:abc/dev/GET/books", NULL));
    ck_assert(lambda_policy_allows(
        st, api, "arn:aws:execute-api:us-east-1:000000000000:abc/prod/GET/books", NULL));
    ck_assert(!lambda_policy_allows(
        st, api, "arn:aws:execute-api:us-east-1:000000000000:abc/dev/POST/books", NULL));
    ck_assert(!lambda_policy_allows(
        st, api, "arn:aws:execute-api:us-east-1:000000000000:xyz/dev/GET/books", NULL));
    ck_assert(!lambda_policy_allows(st, api, NULL, NULL));
    ck_assert(lambda_policy_allows(st, "sns.amazonaws.com", "arn:aws:sns:us-east-1:000000000000:t",
                                   NULL));
    ck_assert(lambda_policy_allows(st, "sns.amazonaws.com", NULL, NULL));
    ck_assert(
        !lambda_policy_allows(st, "s3.amazonaws.com", "arn:aws:s3:::b", NULL)); /* wrong action */
    ck_assert(!lambda_policy_allows(st, "iot.amazonaws.com", NULL, NULL));      /* no statement */
    ck_assert(lambda_policy_allows(st, "events.amazonaws.com",
                                   "arn:aws:events:us-east-1:111122223333:rule/r", NULL));
    ck_assert(!lambda_policy_allows(st, "events.amazonaws.com",
                                    "arn:aws:events:us-east-1:111122223333:rule/r2", NULL));
    ck_assert(!lambda_policy_allows(st, "events.amazonaws.com",
                                    "arn:aws:events:us-east-1:999999999999:rule/r", NULL));
    /* ArnLike/ArnEquals match component by component: a * stays within one
     * component, except in the last (the resource) */
    cJSON *arn = cJSON_Parse("[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"x\"},\"Action\":"
                             "\"lambda:InvokeFunction\",\"Condition\":{\"ArnEquals\":{"
                             "\"AWS:SourceArn\":\"arn:aws:execute-api:*:000000000000:api/*\"}}}]");
    ck_assert(lambda_policy_allows(
        arn, "x", "arn:aws:execute-api:eu-west-1:000000000000:api/dev/GET/a:b", NULL));
    ck_assert(!lambda_policy_allows(arn, "x", "arn:aws:execute-api:eu-west-1:111111111111:api/dev",
                                    NULL));
    ck_assert(
        !lambda_policy_allows(arn, "x", "arn:aws:execute-api:a:b:000000000000:api/dev", NULL));
    cJSON_Delete(arn);
    /* S3's ARNs carry no account: the caller says it */
    ck_assert(lambda_policy_allows(st, "events.amazonaws.com",
                                   "arn:aws:events:us-east-1:111122223333:rule/r", "111122223333"));
    ck_assert(!lambda_policy_allows(st, "events.amazonaws.com",
                                    "arn:aws:events:us-east-1:111122223333:rule/r",
                                    "444455556666"));
    cJSON_Delete(st);
    cJSON *star =
        cJSON_Parse("[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"lambda:*\"}]");
    ck_assert(lambda_policy_allows(star, "anything.amazonaws.com", NULL, NULL));
    cJSON_Delete(star);
    cJSON *deny = cJSON_Parse("[{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"*\"}]");
    ck_assert(!lambda_policy_allows(deny, "sns.amazonaws.com", NULL, NULL));
    cJSON_Delete(deny);
    ck_assert(!lambda_policy_allows(NULL, "sns.amazonaws.com", NULL, NULL));
}
END_TEST

static long invoke_pid(const char *fn, const char *payload)
{
    struct gr_resp r = invoke(fn, NULL, payload, NULL);
    ck_assert_int_eq(r.status, 200);
    cJSON *j = gr_resp_json(&r);
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(j, "pid"));
    long pid = (long)cJSON_GetObjectItem(j, "pid")->valuedouble;
    cJSON_Delete(j);
    gr_resp_free(&r);
    return pid;
}

static void *invoke_pid_thread(void *arg)
{
    long *out = arg;
    *out = invoke_pid("cc", "{\"sleep\":1000}");
    return NULL;
}

START_TEST(test_invoke_sandboxes)
{
    /* warm reuse: one process answers invocation after invocation */
    create_ok("wr", "nodejs20.x", "index.pid", "node", "");
    long p1 = invoke_pid("wr", "{}");
    long p2 = invoke_pid("wr", "{}");
    ck_assert_int_eq(p1, p2);
    /* a configuration change starts a new sandbox and retires the old one */
    struct gr_resp r = lam("PUT", "/2015-03-31/functions/wr/configuration", "{\"MemorySize\":256}");
    gr_resp_free(&r);
    long p3 = invoke_pid("wr", "{}");
    ck_assert_int_ne(p3, p1);

    /* a published version stays warm while $LATEST changes */
    create_ok("pw", "nodejs20.x", "index.pid", "node", ",\"Publish\":true");
    struct gr_resp q = invoke("pw", "1", "{}", NULL);
    char *a = strdup(q.body);
    gr_resp_free(&q);
    r = lam("PUT", "/2015-03-31/functions/pw/configuration", "{\"Timeout\":5}");
    gr_resp_free(&r);
    q = invoke("pw", "1", "{}", NULL);
    ck_assert_str_eq(q.body, a);
    gr_resp_free(&q);
    free(a);

    /* concurrent invocations get their own sandboxes */
    create_ok("cc", "nodejs20.x", "index.pid", "node", ",\"Timeout\":10");
    long pids[3] = {0, 0, 0};
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(pthread_create(&th[i], NULL, invoke_pid_thread, &pids[i]), 0);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
    }
    ck_assert(pids[0] != pids[1] && pids[1] != pids[2] && pids[0] != pids[2]);

    /* idle expiry (GREENROOM_LAMBDA_IDLE_SECONDS) */
    gr_stop(&srv);
    setenv("GREENROOM_LAMBDA_IDLE_SECONDS", "0.5", 1);
    ck_assert_int_eq(gr_start(&srv, NULL), 0);
    unsetenv("GREENROOM_LAMBDA_IDLE_SECONDS");
    create_role();
    create_ok("idle", "nodejs20.x", "index.pid", "node", "");
    long q1 = invoke_pid("idle", "{}");
    char proc[64];
    snprintf(proc, sizeof(proc), "/proc/%ld", q1);
    int gone = 0;
    for (int i = 0; i < 100 && !gone; i++) {
        struct stat st;
        gone = stat(proc, &st) != 0;
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    ck_assert(gone);
    long q2 = invoke_pid("idle", "{}");
    ck_assert_int_ne(q1, q2);
}
END_TEST

START_TEST(test_invoke_concurrency_limit)
{
    /* GREENROOM_LAMBDA_CONCURRENCY=1: concurrent invocations queue for the
     * one sandbox instead of starting more */
    gr_stop(&srv);
    setenv("GREENROOM_LAMBDA_CONCURRENCY", "1", 1);
    ck_assert_int_eq(gr_start(&srv, NULL), 0);
    unsetenv("GREENROOM_LAMBDA_CONCURRENCY");
    create_role();
    create_ok("cc", "nodejs20.x", "index.pid", "node", ",\"Timeout\":20");
    long pids[3] = {0, 0, 0};
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(pthread_create(&th[i], NULL, invoke_pid_thread, &pids[i]), 0);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
    }
    ck_assert_int_ne(pids[0], 0);
    ck_assert(pids[0] == pids[1] && pids[1] == pids[2]);
}
END_TEST

START_TEST(test_invoke_zip_slip)
{
    /* a zip whose entries climb out of the code directory is never
     * extracted: the invocation fails and nothing lands outside */
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *ms = zip_source_buffer_create(NULL, 0, 0, &ze);
    zip_source_keep(ms);
    zip_t *za = zip_open_from_source(ms, ZIP_TRUNCATE, &ze);
    static const char js[] = "exports.handler = async () => 'ok';";
    static const char evil[] = "pwned";
    zip_file_add(za, "index.js", zip_source_buffer(za, js, sizeof(js) - 1, 0), 0);
    zip_file_add(za, "../../escape.txt", zip_source_buffer(za, evil, sizeof(evil) - 1, 0), 0);
    ck_assert_int_eq(zip_close(za), 0);
    ck_assert_int_eq(zip_source_open(ms), 0);
    zip_source_seek(ms, 0, SEEK_END);
    size_t len = (size_t)zip_source_tell(ms);
    zip_source_seek(ms, 0, SEEK_SET);
    char *data = malloc(len);
    ck_assert_int_eq(zip_source_read(ms, data, len), (zip_int64_t)len);
    zip_source_close(ms);
    zip_source_free(ms);
    zip_error_fini(&ze);
    char *zb = b64(data, len);
    size_t n = strlen(zb) + 512;
    char *body = malloc(n);
    snprintf(body, n,
             "{\"FunctionName\":\"slip\",\"Runtime\":\"nodejs20.x\",\"Handler\":\"index.handler\","
             "\"Role\":\"" ROLE "\",\"Code\":{\"ZipFile\":\"%s\"}}",
             zb);
    struct gr_resp r = lam("POST", "/2015-03-31/functions", body);
    ck_assert_int_eq(r.status, 201);
    gr_resp_free(&r);
    r = invoke("slip", NULL, "{}", NULL);
    expect_fn_error(&r, NULL, "unsafe entry name");
    gr_resp_free(&r);
    char path[600];
    struct stat st;
    snprintf(path, sizeof(path), "%s/lambda/escape.txt", srv.state_dir);
    ck_assert_int_ne(stat(path, &st), 0);
    snprintf(path, sizeof(path), "%s/escape.txt", srv.state_dir);
    ck_assert_int_ne(stat(path, &st), 0);
    free(body);
    free(zb);
    free(data);
}
END_TEST

static void *invoke_status_thread(void *arg)
{
    long *out = arg;
    struct gr_resp r = invoke("rc", NULL, "{\"sleep\":1500}", NULL);
    *out = r.status;
    gr_resp_free(&r);
    return NULL;
}

START_TEST(test_function_concurrency)
{
    create_ok("rc", "nodejs20.x", "index.pid", "node", ",\"Timeout\":10");
    const char *path = "/2017-10-31/functions/rc/concurrency";
    struct gr_resp r = lam("PUT", path, "{\"ReservedConcurrentExecutions\":0}");
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "{\"ReservedConcurrentExecutions\":0}");
    gr_resp_free(&r);
    r = invoke("rc", NULL, "{}", NULL);
    expect_error(&r, 429, "TooManyRequestsException", "Rate Exceeded.");
    r = lam("GET", "/2019-09-30/functions/rc/concurrency", NULL);
    ck_assert_str_eq(r.body, "{\"ReservedConcurrentExecutions\":0}");
    gr_resp_free(&r);
    r = lam("GET", "/2015-03-31/functions/rc", NULL);
    ck_assert_ptr_nonnull(strstr(r.body, "\"Concurrency\":{\"ReservedConcurrentExecutions\":0}"));
    gr_resp_free(&r);

    /* one reserved execution: a second concurrent call is throttled */
    r = lam("PUT", path, "{\"ReservedConcurrentExecutions\":1}");
    gr_resp_free(&r);
    long st[2] = {0, 0};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, invoke_status_thread, &st[0]), 0);
    struct timespec ts = {0, 400000000};
    nanosleep(&ts, NULL);
    invoke_status_thread(&st[1]);
    pthread_join(th, NULL);
    ck_assert_int_eq(st[0], 200);
    ck_assert_int_eq(st[1], 429);

    ck_assert_int_eq(lam_status("DELETE", path, NULL), 204);
    r = lam("GET", "/2019-09-30/functions/rc/concurrency", NULL);
    ck_assert_str_eq(r.body, "{}");
    gr_resp_free(&r);
    r = invoke("rc", NULL, "{}", NULL);
    ck_assert_int_eq(r.status, 200);
    gr_resp_free(&r);

    r = lam("PUT", path, "{\"ReservedConcurrentExecutions\":-1}");
    expect_error(&r, 400, "ValidationException", "reservedConcurrentExecutions");
    r = lam("PUT", path, "{}");
    expect_error(&r, 400, "ValidationException", "reservedConcurrentExecutions");
    r = lam("PUT", "/2017-10-31/functions/rc%3A1/concurrency",
            "{\"ReservedConcurrentExecutions\":1}");
    expect_error(&r, 400, "InvalidParameterValueException", "Qualified ARNs are not supported");
    r = lam("PUT", "/2017-10-31/functions/nope/concurrency",
            "{\"ReservedConcurrentExecutions\":1}");
    expect_error(&r, 404, "ResourceNotFoundException", NULL);
}
END_TEST

/* ------------------------------------------------------------------ IAM */

START_TEST(test_iam_role_gate)
{
    /* a role created after the refusal makes the same call succeed */
    struct zbuf z = make_zip("node");
    char *zb = b64(z.data, z.len);
    char body[8192];
    snprintf(
        body, sizeof(body),
        "{\"FunctionName\":\"late\",\"Runtime\":\"nodejs20.x\",\"Handler\":\"index.handler\","
        "\"Role\":\"arn:aws:iam::000000000000:role/path/late-role\",\"Code\":{\"ZipFile\":\"%s\"}}",
        zb);
    struct gr_resp r = lam("POST", "/2015-03-31/functions", body);
    expect_error(&r, 400, "InvalidParameterValueException", "cannot be assumed");
    const char *form = "Action=CreateRole&Version=2010-05-08&RoleName=late-role&Path=%2Fpath%2F&"
                       "AssumeRolePolicyDocument=%7B%7D";
    static const char *const fh[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    ck_assert_int_eq(gr_request(&srv, "iam", "POST", "/", fh, form, strlen(form), &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(
        strstr(r.body, "<Arn>arn:aws:iam::000000000000:role/path/late-role</Arn>"));
    gr_resp_free(&r);
    ck_assert_int_eq(lam_status("POST", "/2015-03-31/functions", body), 201);
    free(zb);
    free(z.data);
}
END_TEST

int main(void)
{
    const struct kit_case cases[] = {
        {"CreateFunction", test_create_function, NULL},
        {"CreateFunctionRole", test_create_function_role, NULL},
        {"CreateFunctionS3", test_create_function_s3, NULL},
        {"GetFunction", test_get_function, NULL},
        {"GetFunctionConfiguration", test_get_function_configuration, NULL},
        {"ListFunctions", test_list_functions, NULL},
        {"DeleteFunction", test_delete_function, NULL},
        {"UpdateFunctionCode", test_update_function_code, NULL},
        {"UpdateFunctionConfiguration", test_update_function_configuration, NULL},
        {"PublishVersion", test_publish_version, NULL},
        {"ListVersionsByFunction", test_list_versions_by_function, NULL},
        {"CreateAlias", test_create_alias, NULL},
        {"GetAlias", test_get_alias, NULL},
        {"UpdateAlias", test_update_alias, NULL},
        {"DeleteAlias", test_delete_alias, NULL},
        {"ListAliases", test_list_aliases, NULL},
        {"AddPermission", test_add_permission, NULL},
        {"GetPolicy", test_get_policy, NULL},
        {"RemovePermission", test_remove_permission, NULL},
        {"Tags", test_tags, NULL},
        {"GetAccountSettings", test_get_account_settings, NULL},
        {"EventSourceMappings", test_event_source_mappings, NULL},
        {"InvokeNode", test_invoke_node, NULL},
        {"InvokeErrors", test_invoke_errors, NULL},
        {"InvokeTimeout", test_invoke_timeout, NULL},
        {"InvokeTypes", test_invoke_types, NULL},
        {"EventInvokeConfig", test_event_invoke_config, NULL},
        {"InvokeAsyncRetries", test_invoke_async_retries, NULL},
        {"InvokeAsyncSnsDestination", test_invoke_async_sns_destination, NULL},
        {"InvokeAsyncFromSns", test_invoke_async_from_sns, NULL},
        {"InvokePython", test_invoke_python, NULL},
        {"InvokeProvided", test_invoke_provided, NULL},
        {"InvokeWeightedAlias", test_invoke_weighted_alias, NULL},
        {"InvokePolicyCheck", test_invoke_policy_check, NULL},
        {"InvokeSandboxes", test_invoke_sandboxes, NULL},
        {"InvokeConcurrencyLimit", test_invoke_concurrency_limit, NULL},
        {"InvokeZipSlip", test_invoke_zip_slip, NULL},
        {"FunctionConcurrency", test_function_concurrency, NULL},
        {"IamRoleGate", test_iam_role_gate, NULL},
    };
    return KIT_RUN("lambda", cases, setup, teardown, 60);
}
