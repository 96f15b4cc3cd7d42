/*
 * test_vtl.c - unit tests of the VTL engine (emulator/vtl.c): one tcase per
 * construct, plus the Serverless v0.5 default request template.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "vtl.h"

static cJSON *g_path;
static cJSON *g_qs;
static cJSON *g_hdr;
static cJSON *g_ctx;
static cJSON *g_sv;

static void setup(void)
{
    g_path = cJSON_Parse("{\"id\":\"42\"}");
    g_qs = cJSON_Parse("{\"a\":\"b\",\"c\":\"d\"}");
    g_hdr = cJSON_Parse("{\"content-type\":\"application/json\",\"x-token\":\"t0k\"}");
    g_ctx = cJSON_Parse("{\"httpMethod\":\"POST\",\"stage\":\"dev\",\"requestId\":\"rid-1\","
                        "\"identity\":{\"sourceIp\":\"127.0.0.1\"},\"authorizer\":{}}");
    g_sv = cJSON_Parse("{\"functionAlias\":\"dev\"}");
}

static void teardown(void)
{
    cJSON_Delete(g_path);
    cJSON_Delete(g_qs);
    cJSON_Delete(g_hdr);
    cJSON_Delete(g_ctx);
    cJSON_Delete(g_sv);
}

/* Renders tmpl against body with the fixture params; caller frees. */
static char *render(const char *tmpl, const char *body)
{
    struct vtl_input in = {body, g_path, g_qs, g_hdr, g_ctx, g_sv};
    char err[256] = "";
    char *out = vtl_render(tmpl, &in, err, sizeof(err));
    ck_assert_msg(out != NULL, "render failed: %s", err);
    return out;
}

#define ASSERT_RENDER(tmpl, body, expected)                                                        \
    do {                                                                                           \
        char *o_ = render(tmpl, body);                                                             \
        ck_assert_str_eq(o_, expected);                                                            \
        free(o_);                                                                                  \
    } while (0)

START_TEST(test_references)
{
    ASSERT_RENDER("a $undefined b", "", "a $undefined b");
    ASSERT_RENDER("a $!undefined b", "", "a  b");
    ASSERT_RENDER("${stageVariables.functionAlias}x", "", "devx");
    ASSERT_RENDER("$stageVariables.functionAlias.", "", "dev.");
    ASSERT_RENDER("cost: $5 and $", "", "cost: $5 and $");
    ASSERT_RENDER("#set($l = [1, 2, 3])$l[1] $l.size() $l", "", "2 3 [1, 2, 3]");
}
END_TEST

START_TEST(test_set)
{
    ASSERT_RENDER("#set($x = \"hi\")$x", "", "hi");
    ASSERT_RENDER("#set($n = 2 + 3 * 4)$n", "", "14");
    ASSERT_RENDER("#set($s = 'a' + 1)$s", "", "a1");
    ASSERT_RENDER("#set($m = {\"k\": \"v\"})#set($m.j = 5)$m.k$m.j $m", "", "v5 {k=v, j=5}");
    ASSERT_RENDER("#set($i = \"$stageVariables.functionAlias!\")$i", "", "dev!");
    /* a directive alone on its line takes its newline with it */
    ASSERT_RENDER("a\n  #set($x = 1)\nb$x", "", "a\nb1");
}
END_TEST

START_TEST(test_if)
{
    ASSERT_RENDER("#if(1 < 2)yes#else no#end", "", "yes");
    ASSERT_RENDER("#if($undefined)a#elseif($stageVariables.functionAlias == 'dev')b#{else}c#end",
                  "", "b");
    ASSERT_RENDER("#if(false || !true)a#elseif(2 >= 3)b#else c#end", "", " c");
    ASSERT_RENDER("#if($input.params('id') != '' && $input.params('id') == '42')ok#end", "", "ok");
    ASSERT_RENDER("#if(1 == 1 and not false)A#end", "", "A");
}
END_TEST

START_TEST(test_foreach)
{
    ASSERT_RENDER("[#foreach($x in [1, 2, 3])\"$x\"#if($foreach.hasNext),#end#end]", "",
                  "[\"1\",\"2\",\"3\"]");
    ASSERT_RENDER("#foreach($i in [1..3])$foreach.index:$foreach.count:$velocityCount #end", "",
                  "0:1:1 1:2:2 2:3:3 ");
    ASSERT_RENDER("#foreach($k in $input.params().querystring.keySet())$k=$input.params()."
                  "querystring.get($k);#end",
                  "", "a=b;c=d;");
    ASSERT_RENDER("#foreach($x in [1,2,3])#if($x == 2)#break#end$x#end", "", "1");
    ASSERT_RENDER("#foreach($e in $input.path('$.items'))$e.n#if($foreach.hasNext),#end#end",
                  "{\"items\":[{\"n\":1},{\"n\":2}]}", "1,2");
}
END_TEST

START_TEST(test_comments)
{
    ASSERT_RENDER("a## line comment\nb", "", "ab");
    ASSERT_RENDER("a#* block\n comment *#b", "", "ab");
    ASSERT_RENDER("#[[$notparsed #if]]#", "", "$notparsed #if");
    ASSERT_RENDER("# not a directive", "", "# not a directive");
}
END_TEST

START_TEST(test_input_json)
{
    ASSERT_RENDER("$input.json('$')", "{\"a\": {\"b\": [1, 2]}}", "{\"a\":{\"b\":[1,2]}}");
    ASSERT_RENDER("$input.json('$.a.b')", "{\"a\": {\"b\": [1, 2]}}", "[1,2]");
    ASSERT_RENDER("$input.json('$.a.b[1]')", "{\"a\": {\"b\": [1, 2]}}", "2");
    ASSERT_RENDER("$input.json('$')", "", "{}");
    ASSERT_RENDER("$input.json('$.name')", "{\"name\":\"x\\\"y\"}", "\"x\\\"y\"");
}
END_TEST

START_TEST(test_input_path)
{
    ASSERT_RENDER("$input.path('$.name')", "{\"name\":\"bob\"}", "bob");
    ASSERT_RENDER("$input.path('$').name", "{\"name\":\"bob\"}", "bob");
    ASSERT_RENDER("$input.path('$.a')", "{\"a\":{\"b\":1,\"c\":\"x\"}}", "{b=1, c=x}");
    ASSERT_RENDER("$input.path('$.l').size()", "{\"l\":[1,2,3]}", "3");
    ASSERT_RENDER("$input.path(\"$['odd key']\")", "{\"odd key\":7}", "7");
    ASSERT_RENDER("[$!input.path('$.missing')]", "{}", "[]");
}
END_TEST

START_TEST(test_input_params)
{
    ASSERT_RENDER("$input.params('id')", "", "42");
    ASSERT_RENDER("$input.params('a')", "", "b");
    ASSERT_RENDER("$input.params('x-token')", "", "t0k");
    ASSERT_RENDER("[$input.params('nothing')]", "", "[]");
    ASSERT_RENDER("$input.params().path", "", "{id=42}");
    ASSERT_RENDER("$input.params().querystring", "", "{a=b, c=d}");
    ASSERT_RENDER("$input.params().header.get('x-token')", "", "t0k");
    ASSERT_RENDER("$input.params().path.id", "", "42");
}
END_TEST

START_TEST(test_input_body)
{
    ASSERT_RENDER("$input.body", "raw text", "raw text");
    ASSERT_RENDER("$input.body", "{\"a\":1}", "{\"a\":1}");
}
END_TEST

START_TEST(test_context_and_stage_variables)
{
    ASSERT_RENDER("$context.httpMethod $context.stage $context.requestId", "", "POST dev rid-1");
    ASSERT_RENDER("$context.identity.sourceIp", "", "127.0.0.1");
    ASSERT_RENDER("[$!context.authorizer.principalId]", "", "[]");
    ASSERT_RENDER("$stageVariables.functionAlias $stageVariables.get('functionAlias')", "",
                  "dev dev");
}
END_TEST

START_TEST(test_util)
{
    ASSERT_RENDER("$util.escapeJavaScript(\"it's \"\"x\"\" / y\")", "", "it\\'s \\\"x\\\" \\/ y");
    ASSERT_RENDER("$util.escapeJavaScript($input.body)", "a\nb\u00e9", "a\\nb\\u00E9");
    ASSERT_RENDER("$util.urlEncode('a b&c=d/é')", "", "a+b%26c%3Dd%2F%C3%A9");
    ASSERT_RENDER("$util.urlDecode('a+b%26c')", "", "a b&c");
    ASSERT_RENDER("$util.base64Encode('hello')", "", "aGVsbG8=");
    ASSERT_RENDER("$util.base64Decode('aGVsbG8=')", "", "hello");
    ASSERT_RENDER("#set($o = $util.parseJson($input.body))$o.a.b $o.l[0]",
                  "{\"a\":{\"b\":\"c\"},\"l\":[5]}", "c 5");
}
END_TEST

START_TEST(test_string_methods)
{
    ASSERT_RENDER("#set($s = 'Hello')$s.toLowerCase() $s.toUpperCase() $s.length() "
                  "$s.substring(1, 3) $s.replace('l', 'L') $s.contains('ell')",
                  "", "hello HELLO 5 el HeLLo true");
    ASSERT_RENDER("#set($p = 'a,b,c')#foreach($x in $p.split(','))<$x>#end", "", "<a><b><c>");
}
END_TEST

/* Serverless v0.5's requestTemplate (s-templates.json) after endpoint deploy
 * stringified it and removed the quotes around "$input.json('$')". */
static const char *v05_request_template =
    "{\"http_method\":\"$context.httpMethod\",\"id\":\"$input.params('id')\","
    "\"body\":$input.json('$'),\"pathParams\":\"$input.params().path\","
    "\"queryParams\":\"$input.params().querystring\"}";

START_TEST(test_v05_request_template)
{
    char *o = render(v05_request_template, "{\"name\":\"Dune\"}");
    cJSON *doc = cJSON_Parse(o);
    ck_assert_msg(doc != NULL, "not JSON: %s", o);
    ck_assert_str_eq(cJSON_GetObjectItem(doc, "http_method")->valuestring, "POST");
    ck_assert_str_eq(cJSON_GetObjectItem(doc, "id")->valuestring, "42");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "body"), "name")->valuestring,
                     "Dune");
    ck_assert_str_eq(cJSON_GetObjectItem(doc, "pathParams")->valuestring, "{id=42}");
    ck_assert_str_eq(cJSON_GetObjectItem(doc, "queryParams")->valuestring, "{a=b, c=d}");
    cJSON_Delete(doc);
    free(o);
    /* a GET without a body: body is {} */
    o = render(v05_request_template, "");
    ck_assert_str_eq(o, "{\"http_method\":\"POST\",\"id\":\"42\",\"body\":{},"
                        "\"pathParams\":\"{id=42}\",\"queryParams\":\"{a=b, c=d}\"}");
    free(o);
}
END_TEST

START_TEST(test_v05_response_template)
{
    /* the v0.5 default response template is "" (pass-through, done by the
     * service); a typical error template maps errorMessage */
    ASSERT_RENDER("{\"error\": \"$util.escapeJavaScript($input.path('$.errorMessage'))\"}",
                  "{\"errorMessage\":\"400: bad \\\"id\\\"\",\"errorType\":\"Error\"}",
                  "{\"error\": \"400: bad \\\"id\\\"\"}");
}
END_TEST

/* The console's "Method Request passthrough" template. */
static const char *passthrough_template =
    "##  See "
    "http://docs.aws.amazon.com/apigateway/latest/developerguide/"
    "api-gateway-mapping-template-reference.html\n"
    "##  This template will pass through all parameters including path, querystring, header, stage "
    "variables, and context through to the integration endpoint via the body/payload\n"
    "#set($allParams = $input.params())\n"
    "{\n"
    "\"body-json\" : $input.json('$'),\n"
    "\"params\" : {\n"
    "#foreach($type in $allParams.keySet())\n"
    "    #set($params = $allParams.get($type))\n"
    "\"$type\" : {\n"
    "    #foreach($paramName in $params.keySet())\n"
    "    \"$paramName\" : \"$util.escapeJavaScript($params.get($paramName))\"\n"
    "        #if($foreach.hasNext),#end\n"
    "    #end\n"
    "}\n"
    "    #if($foreach.hasNext),#end\n"
    "#end\n"
    "},\n"
    "\"stage-variables\" : {\n"
    "#foreach($key in $stageVariables.keySet())\n"
    "\"$key\" : \"$util.escapeJavaScript($stageVariables.get($key))\"\n"
    "    #if($foreach.hasNext),#end\n"
    "#end\n"
    "},\n"
    "\"context\" : {\n"
    "    \"account-id\" : \"$context.identity.accountId\",\n"
    "    \"api-id\" : \"$context.apiId\",\n"
    "    \"api-key\" : \"$context.identity.apiKey\",\n"
    "    \"authorizer-principal-id\" : \"$context.authorizer.principalId\",\n"
    "    \"caller\" : \"$context.identity.caller\",\n"
    "    \"http-method\" : \"$context.httpMethod\",\n"
    "    \"stage\" : \"$context.stage\",\n"
    "    \"source-ip\" : \"$context.identity.sourceIp\",\n"
    "    \"user-agent\" : \"$context.identity.userAgent\",\n"
    "    \"request-id\" : \"$context.requestId\",\n"
    "    \"resource-id\" : \"$context.resourceId\",\n"
    "    \"resource-path\" : \"$context.resourcePath\"\n"
    "    }\n"
    "}\n";

START_TEST(test_console_passthrough_template)
{
    char *o = render(passthrough_template, "{\"a\":1}");
    cJSON *doc = cJSON_Parse(o);
    ck_assert_msg(doc != NULL, "not JSON: %s", o);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "body-json"), "a")->valueint, 1);
    cJSON *params = cJSON_GetObjectItem(doc, "params");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(params, "path"), "id")->valuestring,
                     "42");
    ck_assert_str_eq(
        cJSON_GetObjectItem(cJSON_GetObjectItem(params, "querystring"), "c")->valuestring, "d");
    ck_assert_str_eq(
        cJSON_GetObjectItem(cJSON_GetObjectItem(params, "header"), "content-type")->valuestring,
        "application/json");
    ck_assert_str_eq(
        cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "stage-variables"), "functionAlias")
            ->valuestring,
        "dev");
    ck_assert_str_eq(
        cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "context"), "http-method")->valuestring,
        "POST");
    cJSON_Delete(doc);
    free(o);
}
END_TEST

START_TEST(test_parse_errors)
{
    char err[256] = "";
    struct vtl_input in = {"", NULL, NULL, NULL, NULL, NULL};
    char *o = vtl_render("#if($x", &in, err, sizeof(err));
    ck_assert_ptr_null(o);
    ck_assert(err[0] != 0);
    o = vtl_render("#foreach($x in [1])no end", &in, err, sizeof(err));
    ck_assert_ptr_null(o);
    o = vtl_render("#end", &in, err, sizeof(err));
    ck_assert_ptr_null(o);
    /* deep nesting is refused, not a crash */
    char deep[4096];
    size_t n = 0;
    for (int i = 0; i < 1000 && n + 8 < sizeof(deep); i++) {
        deep[n++] = '#';
        deep[n++] = 'i';
        deep[n++] = 'f';
        deep[n++] = '(';
        deep[n++] = '1';
        deep[n++] = ')';
    }
    deep[n] = 0;
    o = vtl_render(deep, &in, err, sizeof(err));
    ck_assert_ptr_null(o);
}
END_TEST

START_TEST(test_json_path)
{
    cJSON *root = cJSON_Parse("{\"a\":[{\"b\":1},{\"b\":2}],\"c\":{\"d\":\"e\"}}");
    cJSON *r = vtl_json_path(root, "$.a[1].b");
    ck_assert(cJSON_IsNumber(r) && r->valuedouble == 2);
    cJSON_Delete(r);
    r = vtl_json_path(root, "$.a[*].b");
    ck_assert_int_eq(cJSON_GetArraySize(r), 2);
    cJSON_Delete(r);
    r = vtl_json_path(root, "$['c']['d']");
    ck_assert_str_eq(r->valuestring, "e");
    cJSON_Delete(r);
    ck_assert_ptr_null(vtl_json_path(root, "$.nope"));
    cJSON_Delete(root);
}
END_TEST

static Suite *vtl_suite(void)
{
    Suite *s = suite_create("vtl");
    struct {
        const char *name;
        const TTest *fn;
    } cases[] = {
        {"references", test_references},
        {"set", test_set},
        {"if", test_if},
        {"foreach", test_foreach},
        {"comments", test_comments},
        {"input_json", test_input_json},
        {"input_path", test_input_path},
        {"input_params", test_input_params},
        {"input_body", test_input_body},
        {"context_stage_variables", test_context_and_stage_variables},
        {"util", test_util},
        {"string_methods", test_string_methods},
        {"v05_request_template", test_v05_request_template},
        {"v05_response_template", test_v05_response_template},
        {"console_passthrough_template", test_console_passthrough_template},
        {"parse_errors", test_parse_errors},
        {"json_path", test_json_path},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, cases[i].fn);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(vtl_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
