/*
 * test_cfn_template.c - unit tests of the CloudFormation template language
 * (emulator/cfn_template.c): parsing (JSON, YAML short-form tags), every
 * intrinsic function, pseudo parameters, parameters and their constraints,
 * conditions, dependency ordering, unresolved references and cycles.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "cfn_resources.h"
#include "cfn_template.h"

static const char *const base_tmpl =
    "{\"Parameters\":{\"Env\":{\"Type\":\"String\",\"Default\":\"dev\"},"
    "\"Azs\":{\"Type\":\"CommaDelimitedList\",\"Default\":\"a, b,c\"},"
    "\"Ids\":{\"Type\":\"List<AWS::EC2::Subnet::Id>\",\"Default\":\"s1,s2\"},"
    "\"Count\":{\"Type\":\"Number\",\"Default\":\"3\"}},"
    "\"Mappings\":{\"M\":{\"dev\":{\"Size\":\"small\",\"N\":2},\"prod\":{\"Size\":\"large\"}}},"
    "\"Conditions\":{\"IsDev\":{\"Fn::Equals\":[{\"Ref\":\"Env\"},\"dev\"]},"
    "\"IsProd\":{\"Fn::Equals\":[\"prod\",{\"Ref\":\"Env\"}]},"
    "\"NotProd\":{\"Fn::Not\":[{\"Condition\":\"IsProd\"}]},"
    "\"Both\":{\"Fn::And\":[{\"Condition\":\"IsDev\"},{\"Condition\":\"NotProd\"}]},"
    "\"Either\":{\"Fn::Or\":[{\"Condition\":\"IsProd\"},{\"Fn::Equals\":[\"x\",\"x\"]}]},"
    "\"Neither\":{\"Fn::And\":[{\"Condition\":\"IsProd\"},{\"Condition\":\"IsDev\"}]}},"
    "\"Resources\":{\"Q\":{\"Type\":\"AWS::SQS::Queue\"},"
    "\"T\":{\"Type\":\"AWS::SNS::Topic\",\"Condition\":\"IsProd\"}}}";

static cJSON *g_tmpl;
static cJSON *g_res;
static cJSON *g_exports;
static struct cfn_ctx g_ctx;

static void setup(void)
{
    char err[512];
    cJSON *params = NULL;
    g_tmpl = cJSON_Parse(base_tmpl);
    ck_assert_ptr_nonnull(g_tmpl);
    ck_assert_int_eq(cfn_params_resolve(g_tmpl, NULL, NULL, &params, err, sizeof(err)), 0);
    g_res = cJSON_Parse(
        "{\"Q\":{\"ref\":\"https://sqs/q1\",\"attrs\":{\"Arn\":\"arn:aws:sqs:us-east-1:1:q1\","
        "\"QueueName\":\"q1\"}}}");
    g_exports = cJSON_Parse("{\"shared-vpc\":\"vpc-123\"}");
    memset(&g_ctx, 0, sizeof(g_ctx));
    g_ctx.account = "123456789012";
    g_ctx.region = "eu-west-1";
    g_ctx.stack_name = "st";
    g_ctx.stack_id = "arn:aws:cloudformation:eu-west-1:123456789012:stack/st/id";
    g_ctx.tmpl = g_tmpl;
    g_ctx.params = params;
    g_ctx.resources = g_res;
    g_ctx.exports = g_exports;
    ck_assert_int_eq(cfn_conditions_eval(&g_ctx), 0);
}

static void teardown(void)
{
    cfn_ctx_release(&g_ctx);
    cJSON_Delete(g_tmpl);
    cJSON_Delete(g_res);
    cJSON_Delete(g_exports);
}

/* Evaluates expr (JSON) and compares with expected (JSON). */
static void expect_eval(const char *expr, const char *expected)
{
    cJSON *e = cJSON_Parse(expr);
    cJSON *want = cJSON_Parse(expected);
    cJSON *got;
    char *txt;
    ck_assert_msg(e != NULL && want != NULL, "bad test JSON: %s / %s", expr, expected);
    got = cfn_eval(&g_ctx, e);
    ck_assert_msg(got != NULL, "%s failed: %s", expr, g_ctx.err);
    txt = cJSON_PrintUnformatted(got);
    ck_assert_msg(cJSON_Compare(got, want, 1), "%s gave %s, expected %s", expr, txt, expected);
    free(txt);
    cJSON_Delete(got);
    cJSON_Delete(e);
    cJSON_Delete(want);
}

/* Evaluates expr expecting a failure whose message contains needle. */
static void expect_eval_err(const char *expr, const char *needle)
{
    cJSON *e = cJSON_Parse(expr);
    cJSON *got = cfn_eval(&g_ctx, e);
    ck_assert_msg(got == NULL, "%s should fail", expr);
    ck_assert_msg(strstr(g_ctx.err, needle) != NULL, "error [%s] lacks [%s]", g_ctx.err, needle);
    cJSON_Delete(e);
}

START_TEST(test_ref)
{
    expect_eval("{\"Ref\":\"Env\"}", "\"dev\"");
    expect_eval("{\"Ref\":\"Q\"}", "\"https://sqs/q1\"");
    expect_eval("{\"Ref\":\"Azs\"}", "[\"a\",\"b\",\"c\"]");
    expect_eval("{\"Ref\":\"Ids\"}", "[\"s1\",\"s2\"]");
    expect_eval("{\"Ref\":\"Count\"}", "\"3\"");
    expect_eval_err("{\"Ref\":\"Nope\"}", "Unresolved resource dependencies [Nope]");
}
END_TEST

START_TEST(test_pseudo)
{
    expect_eval("{\"Ref\":\"AWS::AccountId\"}", "\"123456789012\"");
    expect_eval("{\"Ref\":\"AWS::Region\"}", "\"eu-west-1\"");
    expect_eval("{\"Ref\":\"AWS::StackName\"}", "\"st\"");
    expect_eval("{\"Ref\":\"AWS::StackId\"}",
                "\"arn:aws:cloudformation:eu-west-1:123456789012:stack/st/id\"");
    expect_eval("{\"Ref\":\"AWS::Partition\"}", "\"aws\"");
    expect_eval("{\"Ref\":\"AWS::URLSuffix\"}", "\"amazonaws.com\"");
    expect_eval("{\"a\":1,\"b\":{\"Ref\":\"AWS::NoValue\"},\"c\":[1,{\"Ref\":\"AWS::NoValue\"}]}",
                "{\"a\":1,\"c\":[1]}");
}
END_TEST

START_TEST(test_getatt)
{
    expect_eval("{\"Fn::GetAtt\":[\"Q\",\"Arn\"]}", "\"arn:aws:sqs:us-east-1:1:q1\"");
    expect_eval("{\"Fn::GetAtt\":\"Q.QueueName\"}", "\"q1\"");
    expect_eval_err("{\"Fn::GetAtt\":[\"Q\",\"Nope\"]}", "does not support attribute type Nope");
    expect_eval_err("{\"Fn::GetAtt\":[\"Z\",\"Arn\"]}", "undefined resource Z");
}
END_TEST

START_TEST(test_join)
{
    expect_eval("{\"Fn::Join\":[\"-\",[\"a\",{\"Ref\":\"Env\"},3]]}", "\"a-dev-3\"");
    expect_eval("{\"Fn::Join\":[\"\",[]]}", "\"\"");
    expect_eval("{\"Fn::Join\":[\",\",{\"Ref\":\"Azs\"}]}", "\"a,b,c\"");
    expect_eval_err("{\"Fn::Join\":\"x\"}", "Fn::Join");
}
END_TEST

START_TEST(test_sub)
{
    expect_eval("{\"Fn::Sub\":\"${AWS::StackName}-${Env}-${Q.QueueName}-${!Literal}\"}",
                "\"st-dev-q1-${Literal}\"");
    expect_eval("{\"Fn::Sub\":[\"${x}/${Env}\",{\"x\":{\"Ref\":\"AWS::Region\"}}]}",
                "\"eu-west-1/dev\"");
    expect_eval("{\"Fn::Sub\":\"arn:aws:logs:${AWS::Region}:*:*\"}",
                "\"arn:aws:logs:eu-west-1:*:*\"");
    expect_eval_err("{\"Fn::Sub\":\"${Missing}\"}", "Missing");
}
END_TEST

START_TEST(test_select_split)
{
    expect_eval("{\"Fn::Select\":[1,[\"a\",\"b\"]]}", "\"b\"");
    expect_eval("{\"Fn::Select\":[\"0\",{\"Ref\":\"Azs\"}]}", "\"a\"");
    expect_eval("{\"Fn::Split\":[\",\",\"a,,b\"]}", "[\"a\",\"\",\"b\"]");
    expect_eval("{\"Fn::Select\":[2,{\"Fn::Split\":[\"/\",\"x/y/z\"]}]}", "\"z\"");
    expect_eval_err("{\"Fn::Select\":[5,[\"a\"]]}", "nonexistent");
}
END_TEST

START_TEST(test_base64_getazs)
{
    expect_eval("{\"Fn::Base64\":\"hello\"}", "\"aGVsbG8=\"");
    expect_eval("{\"Fn::Base64\":{\"Fn::Sub\":\"${Env}!\"}}", "\"ZGV2IQ==\"");
    expect_eval("{\"Fn::GetAZs\":\"\"}", "[\"eu-west-1a\",\"eu-west-1b\",\"eu-west-1c\"]");
    expect_eval("{\"Fn::Select\":[0,{\"Fn::GetAZs\":{\"Ref\":\"AWS::Region\"}}]}",
                "\"eu-west-1a\"");
}
END_TEST

START_TEST(test_findinmap_import)
{
    expect_eval("{\"Fn::FindInMap\":[\"M\",{\"Ref\":\"Env\"},\"Size\"]}", "\"small\"");
    expect_eval("{\"Fn::FindInMap\":[\"M\",\"dev\",\"N\"]}", "2");
    expect_eval_err("{\"Fn::FindInMap\":[\"M\",\"qa\",\"Size\"]}",
                    "Unable to get mapping for M::qa::Size");
    expect_eval("{\"Fn::ImportValue\":\"shared-vpc\"}", "\"vpc-123\"");
    expect_eval_err("{\"Fn::ImportValue\":\"nope\"}", "No export named nope found.");
}
END_TEST

START_TEST(test_conditions)
{
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(g_ctx.conditions, "IsDev")));
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(g_ctx.conditions, "IsProd")));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(g_ctx.conditions, "NotProd")));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(g_ctx.conditions, "Both")));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(g_ctx.conditions, "Either")));
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(g_ctx.conditions, "Neither")));
    expect_eval("{\"Fn::If\":[\"IsDev\",\"yes\",\"no\"]}", "\"yes\"");
    expect_eval("{\"Fn::If\":[\"IsProd\",\"yes\",{\"Ref\":\"Env\"}]}", "\"dev\"");
    expect_eval("{\"k\":{\"Fn::If\":[\"IsProd\",\"x\",{\"Ref\":\"AWS::NoValue\"}]}}", "{}");
    expect_eval_err("{\"Fn::If\":[\"Unknown\",1,2]}", "Unknown");
    /* resources with a false condition are left out of the order */
    {
        cJSON *order = cfn_order(&g_ctx);
        ck_assert_ptr_nonnull(order);
        ck_assert_int_eq(cJSON_GetArraySize(order), 1);
        ck_assert_str_eq(cJSON_GetArrayItem(order, 0)->valuestring, "Q");
        cJSON_Delete(order);
    }
}
END_TEST

START_TEST(test_parameters)
{
    char err[512];
    cJSON *out = NULL;
    cJSON *t =
        cJSON_Parse("{\"Parameters\":{"
                    "\"S\":{\"Type\":\"String\",\"AllowedValues\":[\"a\",\"b\"]},"
                    "\"P\":{\"Type\":\"String\",\"Default\":\"abc\",\"AllowedPattern\":\"[a-z]+\","
                    "\"MinLength\":2,\"MaxLength\":4},"
                    "\"N\":{\"Type\":\"Number\",\"Default\":5,\"MinValue\":1,\"MaxValue\":10},"
                    "\"Secret\":{\"Type\":\"String\",\"NoEcho\":true,\"Default\":\"x\"}},"
                    "\"Resources\":{\"Q\":{\"Type\":\"AWS::SQS::Queue\"}}}");
    cJSON *given = cJSON_Parse("{\"S\":\"a\"}");
    ck_assert_int_eq(cfn_params_resolve(t, given, NULL, &out, err, sizeof(err)), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(out, "P")->valuestring, "abc");
    ck_assert_str_eq(cJSON_GetObjectItem(out, "N")->valuestring, "5");
    cJSON_Delete(out);
    cJSON_Delete(given);
#define BAD(json, needle)                                                                          \
    do {                                                                                           \
        cJSON *g = cJSON_Parse(json);                                                              \
        out = NULL;                                                                                \
        ck_assert_int_eq(cfn_params_resolve(t, g, NULL, &out, err, sizeof(err)), -1);              \
        ck_assert_msg(strstr(err, needle) != NULL, "[%s] lacks [%s]", err, needle);                \
        cJSON_Delete(g);                                                                           \
    } while (0)
    BAD("{}", "Parameters: [S] must have values");
    BAD("{\"S\":\"c\"}", "Parameter 'S' must be one of AllowedValues");
    BAD("{\"S\":\"a\",\"P\":\"ABC\"}", "Parameter 'P' must match pattern [a-z]+");
    BAD("{\"S\":\"a\",\"P\":\"a\"}", "Parameter 'P' must contain at least 2 characters");
    BAD("{\"S\":\"a\",\"P\":\"abcde\"}", "Parameter 'P' must contain at most 4 characters");
    BAD("{\"S\":\"a\",\"N\":\"x\"}", "Parameter 'N' must be a number.");
    BAD("{\"S\":\"a\",\"N\":\"0\"}", "Parameter 'N' must be a number not less than 1");
    BAD("{\"S\":\"a\",\"N\":\"11\"}", "Parameter 'N' must be a number not greater than 10");
    BAD("{\"S\":\"a\",\"Zzz\":\"1\"}", "Parameters: [Zzz] do not exist in the template");
#undef BAD
    /* UsePreviousValue */
    {
        cJSON *prev = cJSON_Parse("{\"S\":\"b\"}");
        cJSON *g = cJSON_Parse("{\"S\":{\"UsePreviousValue\":true}}");
        ck_assert_int_eq(cfn_params_resolve(t, g, prev, &out, err, sizeof(err)), 0);
        ck_assert_str_eq(cJSON_GetObjectItem(out, "S")->valuestring, "b");
        cJSON_Delete(out);
        cJSON_Delete(prev);
        cJSON_Delete(g);
    }
    cJSON_Delete(t);
}
END_TEST

static int check_msg(const char *json, char *err, size_t elen)
{
    cJSON *t = cfn_template_parse(json, strlen(json), err, elen);
    int rc;
    if (t == NULL) {
        return -2;
    }
    rc = cfn_template_check(t, err, elen);
    cJSON_Delete(t);
    return rc;
}

START_TEST(test_validation)
{
    char err[512];
    ck_assert_int_eq(check_msg("{\"Resources\":{\"A\":{\"Type\":\"AWS::SNS::Topic\",\"Properties\":"
                               "{\"DisplayName\":{\"Ref\":\"Ghost\"}}}}}",
                               err, sizeof(err)),
                     -1);
    ck_assert_str_eq(err, "Template format error: Unresolved resource dependencies [Ghost] in the "
                          "Resources block of the template");
    ck_assert_int_eq(
        check_msg("{\"Resources\":{\"A\":{\"Type\":\"AWS::SNS::Topic\",\"DependsOn\":\"B\"},"
                  "\"B\":{\"Type\":\"AWS::SNS::Topic\",\"Properties\":{\"p\":{\"Fn::GetAtt\":["
                  "\"A\",\"Arn\"]}}}}}",
                  err, sizeof(err)),
        -1);
    ck_assert_str_eq(err, "Circular dependency between resources: [A, B]");
    ck_assert_int_eq(check_msg("{\"Resources\":{}}", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "Template format error: At least one Resources member must be defined.");
    ck_assert_int_eq(check_msg("{\"Resources\":{\"A\":{\"Properties\":{}}}}", err, sizeof(err)),
                     -1);
    ck_assert_msg(strstr(err, "Type member") != NULL, "%s", err);
    ck_assert_int_eq(
        check_msg("{\"Resources\":{\"A\":{\"Type\":\"X\"}},\"Bogus\":1}", err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "Invalid template property or properties [Bogus]") != NULL, "%s",
                  err);
    ck_assert_int_eq(check_msg("{\"Resources\":{\"A\":{\"Type\":\"AWS::SNS::Topic\"}},"
                               "\"Outputs\":{\"O\":{\"Value\":{\"Ref\":\"Nope\"}}}}",
                               err, sizeof(err)),
                     -1);
    ck_assert_msg(strstr(err, "in the Outputs block") != NULL, "%s", err);
    /* types AWS does not know at all, each named once, in template order */
    ck_assert_int_eq(check_msg("{\"Resources\":{\"A\":{\"Type\":\"X\"},\"B\":{\"Type\":"
                               "\"AWS::Nope::Thing\"},\"C\":{\"Type\":\"X\"},\"D\":{\"Type\":"
                               "\"AWS::GameLift::Fleet\"},\"E\":{\"Type\":\"Custom::Mine\"},"
                               "\"F\":{\"Type\":\"AWS::Kinesis::Stream\"},\"G\":{\"Type\":"
                               "\"AWS::S3\"},\"H\":{\"Type\":\"AWS::Kinesis::Streams\"},\"I\":"
                               "{\"Type\":\"AWS::Lambda::LayerVersion\"}}}",
                               err, sizeof(err)),
                     -1);
    ck_assert_str_eq(err, "Template format error: Unrecognized resource types: [X, "
                          "AWS::Nope::Thing, AWS::S3, AWS::Kinesis::Streams]");
    ck_assert_int_eq(check_msg("{\"Resources\":", err, sizeof(err)), -2);
    ck_assert_msg(strstr(err, "Template format error") != NULL, "%s", err);
}
END_TEST

START_TEST(test_order)
{
    char err[512];
    const char *j =
        "{\"Resources\":{\"C\":{\"Type\":\"X\",\"Properties\":{\"a\":{\"Fn::Sub\":\"${B.Arn}\"}}},"
        "\"B\":{\"Type\":\"X\",\"Properties\":{\"a\":{\"Ref\":\"A\"}}},"
        "\"A\":{\"Type\":\"X\"},\"D\":{\"Type\":\"X\",\"DependsOn\":[\"C\"]}}}";
    cJSON *t = cfn_template_parse(j, strlen(j), err, sizeof(err));
    struct cfn_ctx c;
    cJSON *order;
    char *s;
    memset(&c, 0, sizeof(c));
    c.tmpl = t;
    order = cfn_order(&c);
    ck_assert_ptr_nonnull(order);
    s = cJSON_PrintUnformatted(order);
    ck_assert_str_eq(s, "[\"A\",\"B\",\"C\",\"D\"]");
    free(s);
    cJSON_Delete(order);
    cfn_ctx_release(&c);
    cJSON_Delete(t);
}
END_TEST

START_TEST(test_yaml)
{
    char err[512];
    const char *y = "Resources:\n"
                    "  R:\n"
                    "    Type: AWS::SNS::Topic\n"
                    "    Properties:\n"
                    "      A: !Ref Env\n"
                    "      B: !GetAtt Q.Arn\n"
                    "      C: !Sub '${AWS::Region}-x'\n"
                    "      D: !Join [':', [a, !Ref Env]]\n"
                    "      E: !Select [0, !Split [',', 'p,q']]\n"
                    "      F: !If [IsDev, !Base64 x, y]\n"
                    "      G: !Equals [a, a]\n"
                    "      H: !FindInMap [M, dev, Size]\n"
                    "      I: 10\n"
                    "      J: 'true'\n"
                    "      K: true\n"
                    "      L: |\n"
                    "        line1\n"
                    "        line2\n"
                    "      M: &anchor {x: 1}\n"
                    "      N: *anchor\n"
                    "      O: !GetAZs ''\n"
                    "      P: !ImportValue shared-vpc\n"
                    "      Q: !Not [!Condition IsProd]\n";
    cJSON *t = cfn_template_parse(y, strlen(y), err, sizeof(err));
    const cJSON *p;
    char *s;
    ck_assert_msg(t != NULL, "%s", err);
    p = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(t, "Resources"), "R"),
                            "Properties");
    s = cJSON_PrintUnformatted(p);
    ck_assert_msg(strstr(s, "\"A\":{\"Ref\":\"Env\"}") != NULL, "%s", s);
    ck_assert_msg(strstr(s, "\"B\":{\"Fn::GetAtt\":[\"Q\",\"Arn\"]}") != NULL, "%s", s);
    ck_assert_msg(strstr(s, "\"C\":{\"Fn::Sub\":\"${AWS::Region}-x\"}") != NULL, "%s", s);
    ck_assert_msg(strstr(s, "\"I\":10") != NULL, "%s", s);
    ck_assert_msg(strstr(s, "\"J\":\"true\"") != NULL, "%s", s);
    ck_assert_msg(strstr(s, "\"K\":true") != NULL, "%s", s);
    ck_assert_msg(strstr(s, "\"L\":\"line1\\nline2\\n\"") != NULL, "%s", s);
    ck_assert_msg(strstr(s, "\"N\":{\"x\":1}") != NULL, "%s", s);
    ck_assert_msg(strstr(s, "\"Q\":{\"Fn::Not\":[{\"Condition\":\"IsProd\"}]}") != NULL, "%s", s);
    free(s);
    {
        cJSON *v = cfn_eval(&g_ctx, p);
        ck_assert_msg(v != NULL, "%s", g_ctx.err);
        s = cJSON_PrintUnformatted(v);
        ck_assert_msg(
            strstr(s,
                   "\"A\":\"dev\",\"B\":\"arn:aws:sqs:us-east-1:1:q1\",\"C\":\"eu-west-1-x\","
                   "\"D\":\"a:dev\",\"E\":\"p\",\"F\":\"eA==\",\"G\":\"true\",\"H\":\"small\"") !=
                NULL,
            "%s", s);
        ck_assert_msg(strstr(s, "\"O\":[\"eu-west-1a\",\"eu-west-1b\",\"eu-west-1c\"],\"P\":\"vpc-"
                                "123\",\"Q\":\"true\"") != NULL,
                      "%s", s);
        free(s);
        cJSON_Delete(v);
    }
    cJSON_Delete(t);
    ck_assert_ptr_null(cfn_template_parse("a: [b", 5, err, sizeof(err)));
    ck_assert_msg(strstr(err, "Template format error") != NULL, "%s", err);
    /* anchored sequences and mappings, merge keys, a repeated key, tags on
     * collections */
    const char *y2 = "base: &b {x: 1, y: 2}\n"
                     "list: &l [1, [2, 3]]\n"
                     "again: *l\n"
                     "merged: {<<: *b, y: 3}\n"
                     "dup: {k: 1, k: 2}\n"
                     "tagmap: !GetAtt {a: b}\n"
                     "tagseq: !GetAZs [x]\n"
                     "empty: {e: [], f: {}}\n";
    t = cfn_template_parse(y2, strlen(y2), err, sizeof(err));
    ck_assert_msg(t != NULL, "%s", err);
    s = cJSON_PrintUnformatted(t);
    ck_assert_str_eq(s, "{\"base\":{\"x\":1,\"y\":2},\"list\":[1,[2,3]],\"again\":[1,[2,3]],"
                        "\"merged\":{\"x\":1,\"y\":3},\"dup\":{\"k\":2},\"tagmap\":{\"Fn::GetAtt\":"
                        "{\"a\":\"b\"}},\"tagseq\":{\"Fn::GetAZs\":[\"x\"]},\"empty\":{\"e\":[],"
                        "\"f\":{}}}");
    free(s);
    cJSON_Delete(t);
    /* errors inside a sequence, a mapping's key and value, and depth */
    static const char *const bad[] = {"a: [b, {c: ]", "a: {[: b}", "a: {b: [}", "a: [*nope]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_ptr_null(cfn_template_parse(bad[i], strlen(bad[i]), err, sizeof(err)));
        ck_assert_msg(strstr(err, "Template format error") != NULL, "%s", err);
    }
    char deep[512];
    memset(deep, '[', 300);
    deep[300] = 0;
    ck_assert_ptr_null(cfn_template_parse(deep, strlen(deep), err, sizeof(err)));
    ck_assert_str_eq(err, "Template format error: YAML nesting too deep");
}
END_TEST

START_TEST(test_physical_names)
{
    char out[300], stack[120], logical[60];
    size_t i, n;
    cfn_physical_name("my-stack", "MyBucket", 63, 1, out, sizeof(out));
    ck_assert_int_eq(strncmp(out, "my-stack-mybucket-", 18), 0);
    ck_assert_uint_eq(strlen(out), 18 + 13);
    for (i = 18; out[i]; i++) {
        ck_assert_msg((out[i] >= 'a' && out[i] <= 'z') || (out[i] >= '0' && out[i] <= '9'), "%s",
                      out);
    }
    cfn_physical_name("cd-example-dev-r", "IamRoleLambda", 64, 0, out, sizeof(out));
    ck_assert_int_eq(strncmp(out, "cd-example-dev-r-IamRoleLambda-", 31), 0);
    for (i = 31; out[i]; i++) {
        ck_assert_msg((out[i] >= 'A' && out[i] <= 'Z') || (out[i] >= '0' && out[i] <= '9'), "%s",
                      out);
    }
    /* long names are truncated to the service's limit, keeping the suffix */
    memset(stack, 's', 100);
    stack[100] = 0;
    memset(logical, 'L', 50);
    logical[50] = 0;
    cfn_physical_name(stack, logical, 64, 0, out, sizeof(out));
    n = strlen(out);
    ck_assert_uint_eq(n, 64);
    ck_assert_int_eq(out[n - 14], '-');
    ck_assert_ptr_nonnull(strstr(out, "-LLLL"));
    cfn_physical_name("short", logical, 64, 0, out, sizeof(out));
    ck_assert_uint_le(strlen(out), 64);
    ck_assert_int_eq(strncmp(out, "short-LLLL", 10), 0);
}
END_TEST

START_TEST(test_malformed)
{
    /* wrong shapes for every function fail cleanly (never crash) */
    static const char *const bad[] = {
        "{\"Ref\":1}",
        "{\"Ref\":[\"a\"]}",
        "{\"Fn::GetAtt\":1}",
        "{\"Fn::GetAtt\":[\"Q\"]}",
        "{\"Fn::GetAtt\":\"Q\"}",
        "{\"Fn::Join\":[1,[\"a\"]]}",
        "{\"Fn::Join\":[\",\",\"notalist\"]}",
        "{\"Fn::Sub\":1}",
        "{\"Fn::Sub\":[\"x\",1]}",
        "{\"Fn::Select\":[\"x\",[1]]}",
        "{\"Fn::Select\":[-1,[1]]}",
        "{\"Fn::Select\":[0,\"x\"]}",
        "{\"Fn::Split\":[\"\",\"a\"]}",
        "{\"Fn::Split\":[1,\"a\"]}",
        "{\"Fn::FindInMap\":[\"M\"]}",
        "{\"Fn::FindInMap\":[\"Nope\",\"a\",\"b\"]}",
        "{\"Fn::If\":[\"IsDev\",1]}",
        "{\"Fn::If\":[1,2,3]}",
        "{\"Fn::Equals\":[1]}",
        "{\"Fn::Not\":[1,2]}",
        "{\"Fn::And\":[{\"Condition\":\"IsDev\"}]}",
        "{\"Fn::Or\":\"x\"}",
        "{\"Fn::Unknown\":1}",
        "{\"Fn::ImportValue\":{\"Ref\":\"Nope\"}}",
    };
    size_t i;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cJSON *e = cJSON_Parse(bad[i]);
        cJSON *v;
        ck_assert_msg(e != NULL, "test JSON %s", bad[i]);
        v = cfn_eval(&g_ctx, e);
        ck_assert_msg(v == NULL, "%s evaluated", bad[i]);
        ck_assert_msg(g_ctx.err[0] != 0, "%s failed without a message", bad[i]);
        cJSON_Delete(e);
    }
    /* an unterminated ${ is left as text */
    expect_eval("{\"Fn::Sub\":\"a${b\"}", "\"a${b\"");
    /* at most 500 resources */
    {
        char err[256], name[16];
        cJSON *t = cJSON_CreateObject(), *r = cJSON_AddObjectToObject(t, "Resources");
        for (i = 0; i < 501; i++) {
            cJSON *d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "Type", "AWS::SNS::Topic");
            snprintf(name, sizeof(name), "R%zu", i);
            cJSON_AddItemToObject(r, name, d);
        }
        ck_assert_int_eq(cfn_template_check(t, err, sizeof(err)), -1);
        ck_assert_str_eq(err, "Template format error: Number of resources, 501, is greater than "
                              "maximum allowed, 500");
        cJSON_Delete(t);
    }
}
END_TEST

static Suite *cfn_template_suite(void)
{
    Suite *s = suite_create("cfn_template");
    struct {
        const char *name;
        const TTest *fn;
    } cases[] = {
        {"ref", test_ref},
        {"pseudo", test_pseudo},
        {"getatt", test_getatt},
        {"join", test_join},
        {"sub", test_sub},
        {"select_split", test_select_split},
        {"base64_getazs", test_base64_getazs},
        {"findinmap_import", test_findinmap_import},
        {"conditions", test_conditions},
        {"parameters", test_parameters},
        {"validation", test_validation},
        {"order", test_order},
        {"yaml", test_yaml},
        {"physical_names", test_physical_names},
        {"malformed", test_malformed},
    };
    size_t i;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, cases[i].fn);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cfn_template_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
