/*
 * test_dep_rehearse.c - stagehand rehearse's pure parts (deployer/rehearse.c):
 * the fault rule per kind and ordinal, state normalisation (exact and
 * shape), the first-difference report, and the JUnit XML (well-formed,
 * right counts). The sweeps against a real greenroom are in
 * tests/cli/test_rehearse_*.sh.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "dep.h"
#include "rehearse.h"
#include "txn.h"

static const char *STATE_PRE =
    "{\"stack\":{\"name\":\"p-dev-r\",\"exists\":true,\"status\":\"CREATE_COMPLETE\",\"template\":"
    "\"{\\\"a\\\": 1}\","
    "\"parameters\":[],\"outputs\":{\"topicArn\":\"arn:x:1\"}},"
    "\"functions\":{\"f\":{\"lambda\":\"p-f\",\"exists\":true,\"alias\":{\"exists\":true,"
    "\"version\":\"3\",\"routing\":{}},"
    "\"sids\":[\"b\",\"a\"]}},"
    "\"api\":{\"name\":\"p\",\"exists\":true,\"id\":\"abc\",\"stage\":{\"exists\":true,"
    "\"deploymentId\":\"d1\","
    "\"variables\":{\"functionAlias\":\"dev\"}}},"
    "\"subscriptions\":{\"arn:x:1\":[{\"endpoint\":\"arn:fn:dev\",\"arn\":\"sub-1\"}]},"
    "\"meta\":{\"bucket\":\"b\",\"key\":\"k\",\"exists\":true,\"body\":\"{\\\"region\\\":\\\"us-"
    "east-1\\\",\\\"topicArn\\\":\\\"arn:x:1\\\"}\","
    "\"etag\":\"e1\"},\"lock\":\"\"}";

START_TEST(test_fault_rules)
{
    cJSON *r = rh_fault_rules(RH_ERROR, 7, 2);
    ck_assert_int_eq(cJSON_GetArraySize(r), 1);
    cJSON *rule = cJSON_GetArrayItem(r, 0);
    ck_assert_int_eq(cJSON_GetObjectItem(rule, "after")->valueint, 6);
    ck_assert_int_eq(cJSON_GetObjectItem(rule, "times")->valueint, 2);
    ck_assert_int_eq(
        cJSON_GetObjectItem(cJSON_GetObjectItem(rule, "error"), "statusCode")->valueint, 503);
    cJSON_Delete(r);
    r = rh_fault_rules(RH_KILL, 3, 2);
    rule = cJSON_GetArrayItem(r, 0);
    ck_assert_int_eq(cJSON_GetObjectItem(rule, "nth")->valueint, 3);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(rule, "hang")));
    ck_assert_ptr_null(cJSON_GetObjectItem(rule, "after"));
    cJSON_Delete(r);
    r = rh_fault_rules(RH_THROTTLE, 1, 3);
    rule = cJSON_GetArrayItem(r, 0);
    ck_assert_int_eq(cJSON_GetObjectItem(rule, "after")->valueint, 0);
    ck_assert_int_eq(
        cJSON_GetObjectItem(cJSON_GetObjectItem(rule, "throttle"), "retryAfterSeconds")->valueint,
        0);
    cJSON_Delete(r);
    ck_assert_int_eq(rh_kind_parse("reset"), RH_RESET);
    ck_assert_int_eq(rh_kind_parse("nope"), -1);
    ck_assert_str_eq(rh_kind_name(RH_TIMEOUT), "timeout");
}
END_TEST

START_TEST(test_normalise_exact)
{
    cJSON *pre = cJSON_Parse(STATE_PRE);
    ck_assert_ptr_nonnull(pre);
    cJSON *now = cJSON_Duplicate(pre, 1);
    /* Same stage after a compensating update: status and sid order differ. */
    cJSON *stack = cJSON_GetObjectItem(now, "stack");
    cJSON_ReplaceItemInObject(stack, "status", cJSON_CreateString("UPDATE_COMPLETE"));
    cJSON_ReplaceItemInObject(stack, "template", cJSON_CreateString("{ \"a\" : 1 }"));
    cJSON *f = cJSON_GetObjectItem(cJSON_GetObjectItem(now, "functions"), "f");
    cJSON_ReplaceItemInObject(f, "sids", cJSON_Parse("[\"a\",\"b\"]"));
    cJSON *a = rh_normalise(pre, pre, 0), *b = rh_normalise(now, pre, 0);
    char path[256], e[256], fo[256];
    ck_assert_int_eq(rh_first_diff(a, b, path, sizeof(path), e, sizeof(e), fo, sizeof(fo)), 0);
    cJSON_Delete(b);
    /* An alias left on a new version is a difference, named precisely. */
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(f, "alias"), "version", cJSON_CreateString("5"));
    b = rh_normalise(now, pre, 0);
    ck_assert_int_eq(rh_first_diff(a, b, path, sizeof(path), e, sizeof(e), fo, sizeof(fo)), 1);
    ck_assert_str_eq(path, "functions.f.alias.version");
    ck_assert_str_eq(e, "3");
    ck_assert_str_eq(fo, "5");
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(now);
    cJSON_Delete(pre);
}
END_TEST

START_TEST(test_normalise_shape)
{
    cJSON *pre = cJSON_Parse(STATE_PRE);
    cJSON *t1 = cJSON_Duplicate(pre, 1), *t2 = cJSON_Duplicate(pre, 1);
    /* Two successful deploys: new random names/ids, same shape. */
    const char *ids[2] = {"d7", "d9"};
    const char *vers[2] = {"4", "4"};
    const char *topics[2] = {"arn:x:77", "arn:x:99"};
    cJSON *ts[2] = {t1, t2};
    for (int i = 0; i < 2; i++) {
        cJSON *st = cJSON_GetObjectItem(cJSON_GetObjectItem(ts[i], "api"), "stage");
        cJSON_ReplaceItemInObject(st, "deploymentId", cJSON_CreateString(ids[i]));
        cJSON *f = cJSON_GetObjectItem(cJSON_GetObjectItem(ts[i], "functions"), "f");
        cJSON_ReplaceItemInObject(cJSON_GetObjectItem(f, "alias"), "version",
                                  cJSON_CreateString(vers[i]));
        cJSON_ReplaceItemInObject(
            cJSON_GetObjectItem(cJSON_GetObjectItem(ts[i], "stack"), "outputs"), "topicArn",
            cJSON_CreateString(topics[i]));
        char body[200];
        snprintf(body, sizeof(body), "{\"region\":\"us-east-1\",\"topicArn\":\"%s\"}", topics[i]);
        cJSON_ReplaceItemInObject(cJSON_GetObjectItem(ts[i], "meta"), "body",
                                  cJSON_CreateString(body));
    }
    cJSON *a = rh_normalise(t1, pre, 1), *b = rh_normalise(t2, pre, 1);
    char path[256], e[256], fo[256];
    ck_assert_int_eq(rh_first_diff(a, b, path, sizeof(path), e, sizeof(e), fo, sizeof(fo)), 0);
    ck_assert_str_eq(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(a, "api"), "stage"),
                            "deploymentId")
            ->valuestring,
        "new");
    cJSON_Delete(b);
    /* A stage still on the old deployment does not have the target's shape. */
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(cJSON_GetObjectItem(t2, "api"), "stage"),
                              "deploymentId", cJSON_CreateString("d1"));
    b = rh_normalise(t2, pre, 1);
    ck_assert_int_eq(rh_first_diff(a, b, path, sizeof(path), e, sizeof(e), fo, sizeof(fo)), 1);
    ck_assert_str_eq(path, "api.stage.deploymentId");
    ck_assert_str_eq(fo, "unchanged");
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(t1);
    cJSON_Delete(t2);
    cJSON_Delete(pre);
}
END_TEST

struct xml_count {
    int testcases;
    int failures;
    int depth_err;
};

static void XMLCALL xml_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct xml_count *c = ud;
    (void)attrs;
    if (strcmp(name, "testcase") == 0) {
        c->testcases++;
    } else if (strcmp(name, "failure") == 0) {
        c->failures++;
    }
}

static void XMLCALL xml_end(void *ud, const XML_Char *name)
{
    (void)ud;
    (void)name;
}

START_TEST(test_junit)
{
    cJSON *cases =
        cJSON_Parse("[{\"k\":1,\"kind\":\"error\",\"service\":\"s3\",\"operation\":\"PutObject\","
                    "\"resource\":\"b/k<&>\","
                    "\"outcome\":\"rolled back\",\"result\":\"ok\",\"detail\":\"\",\"ms\":12.5},"
                    "{\"k\":2,\"kind\":\"kill\",\"service\":\"lambda\",\"operation\":"
                    "\"UpdateAlias\",\"resource\":\"f:dev\","
                    "\"outcome\":\"killed\",\"result\":\"invariant 1 violated\",\"detail\":\"stage "
                    "dev field \\\"x\\\" <y>\","
                    "\"ms\":40}]");
    char *xml = rh_junit(cases, 1234.0);
    struct xml_count cnt = {0};
    XML_Parser p = XML_ParserCreate(NULL);
    XML_SetUserData(p, &cnt);
    XML_SetElementHandler(p, xml_start, xml_end);
    ck_assert_int_eq(XML_Parse(p, xml, (int)strlen(xml), 1), XML_STATUS_OK);
    XML_ParserFree(p);
    ck_assert_int_eq(cnt.testcases, 2);
    ck_assert_int_eq(cnt.failures, 1);
    ck_assert_ptr_nonnull(strstr(xml, "tests=\"2\" failures=\"1\""));
    ck_assert_ptr_nonnull(strstr(xml, "classname=\"rehearse.kill\""));
    free(xml);
    cJSON_Delete(cases);
}
END_TEST

START_TEST(test_meta_diff)
{
    cJSON *a = cJSON_Parse("{\"region\":\"us-east-1\",\"x\":\"1\",\"gone\":true}");
    cJSON *b = cJSON_Parse("{\"region\":\"us-east-1\",\"x\":\"2\",\"new\":3}");
    char *d = txn_json_diff(a, b);
    ck_assert_ptr_nonnull(strstr(d, "~ x: \"1\" -> \"2\""));
    ck_assert_ptr_nonnull(strstr(d, "- gone: true"));
    ck_assert_ptr_nonnull(strstr(d, "+ new: 3"));
    ck_assert_ptr_null(strstr(d, "region"));
    free(d);
    cJSON_Delete(a);
    cJSON_Delete(b);
}
END_TEST

static Suite *rehearse_suite(void)
{
    Suite *s = suite_create("dep_rehearse");
    struct {
        const char *name;
        const TTest *t;
    } cases[] = {
        {"fault_rules", test_fault_rules},
        {"normalise_exact", test_normalise_exact},
        {"normalise_shape", test_normalise_shape},
        {"junit", test_junit},
        {"meta_diff", test_meta_diff},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_add_test(tc, cases[i].t);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(rehearse_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
