/*
 * test_vtl.c - unit tests of the VTL engine (emulator/vtl.c): one tcase per
 * construct, plus the Serverless v0.5 default request template.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "testkit.h"
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

/* One rendering: tmpl against body (with the fixture params) gives expected. */
struct vtl_case {
    const char *tmpl;
    const char *body;
    const char *expected;
};

/* Renders every case, naming the template of the first that differs. */
static void render_all(const struct vtl_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *o = render(cases[i].tmpl, cases[i].body);
        ck_assert_msg(strcmp(o, cases[i].expected) == 0, "%s: got \"%s\", want \"%s\"",
                      cases[i].tmpl, o, cases[i].expected);
        free(o);
    }
}

#define RENDER_ALL(cases) render_all(cases, sizeof(cases) / sizeof(cases[0]))

START_TEST(test_references)
{
    static const struct vtl_case cases[] = {
        {"a $undefined b", "", "a $undefined b"},
        {"a $!undefined b", "", "a  b"},
        {"${stageVariables.functionAlias}x", "", "devx"},
        {"$stageVariables.functionAlias.", "", "dev."},
        {"cost: $5 and $", "", "cost: $5 and $"},
        {"#set($l = [1, 2, 3])$l[1] $l.size() $l", "", "2 3 [1, 2, 3]"},
    };
    RENDER_ALL(cases);
}
END_TEST

START_TEST(test_set)
{
    static const struct vtl_case cases[] = {
        {"#set($x = \"hi\")$x", "", "hi"},
        {"#set($n = 2 + 3 * 4)$n", "", "14"},
        {"#set($s = 'a' + 1)$s", "", "a1"},
        {"#set($m = {\"k\": \"v\"})#set($m.j = 5)$m.k$m.j $m", "", "v5 {k=v, j=5}"},
        {"#set($i = \"$stageVariables.functionAlias!\")$i", "", "dev!"},
        /* a directive alone on its line takes its newline with it */
        {"a\n  #set($x = 1)\nb$x", "", "a\nb1"},
    };
    RENDER_ALL(cases);
}
END_TEST

START_TEST(test_if)
{
    static const struct vtl_case cases[] = {
        {"#if(1 < 2)yes#else no#end", "", "yes"},
        {"#if($undefined)a#elseif($stageVariables.functionAlias == 'dev')b#{else}c#end", "", "b"},
        {"#if(false || !true)a#elseif(2 >= 3)b#else c#end", "", " c"},
        {"#if($input.params('id') != '' && $input.params('id') == '42')ok#end", "", "ok"},
        {"#if(1 == 1 and not false)A#end", "", "A"},
    };
    RENDER_ALL(cases);
}
END_TEST

START_TEST(test_foreach)
{
    static const struct vtl_case cases[] = {
        {"[#foreach($x in [1, 2, 3])\"$x\"#if($foreach.hasNext),#end#end]", "",
         "[\"1\",\"2\",\"3\"]"},
        {"#foreach($i in [1..3])$foreach.index:$foreach.count:$velocityCount #end", "",
         "0:1:1 1:2:2 2:3:3 "},
        {"#foreach($k in $input.params().querystring.keySet())$k=$input.params()."
         "querystring.get($k);#end",
         "", "a=b;c=d;"},
        {"#foreach($x in [1,2,3])#if($x == 2)#break#end$x#end", "", "1"},
        {"#foreach($e in $input.path('$.items'))$e.n#if($foreach.hasNext),#end#end",
         "{\"items\":[{\"n\":1},{\"n\":2}]}", "1,2"},
    };
    RENDER_ALL(cases);
}
END_TEST

START_TEST(test_comments)
{
    static const struct vtl_case cases[] = {
        {"a## line comment\nb", "", "ab"},
        {"a#* block\n comment *#b", "", "ab"},
        {"#[[$notparsed #if]]#", "", "$notparsed #if"},
        {"# not a directive", "", "# not a directive"},
    };
    RENDER_ALL(cases);
}
END_TEST

START_TEST(test_input_json)
{
    static const struct vtl_case cases[] = {
        {"$input.json('$')", "{\"a\": {\"b\": [1, 2]}}", "{\"a\":{\"b\":[1,2]}}"},
        {"$input.json('$.a.b')", "{\"a\": {\"b\": [1, 2]}}", "[1,2]"},
        {"$input.json('$.a.b[1]')", "{\"a\": {\"b\": [1, 2]}}", "2"},
        {"$input.json('$')", "", "{}"},
        {"$input.json('$.name')", "{\"name\":\"x\\\"y\"}", "\"x\\\"y\""},
    };
    RENDER_ALL(cases);
}
END_TEST

START_TEST(test_input_path)
{
    static const struct vtl_case cases[] = {
        {"$input.path('$.name')", "{\"name\":\"bob\"}", "bob"},
        {"$input.path('$').name", "{\"name\":\"bob\"}", "bob"},
        {"$input.path('$.a')", "{\"a\":{\"b\":1,\"c\":\"x\"}}", "{b=1, c=x}"},
        {"$input.path('$.l').size()", "{\"l\":[1,2,3]}", "3"},
        {"$input.path(\"$['odd key']\")", "{\"odd key\":7}", "7"},
        {"[$!input.path('$.missing')]", "{}", "[]"},
    };
    RENDER_ALL(cases);
}
END_TEST

START_TEST(test_input_params)
{
    static const struct vtl_case cases[] = {
        {"$input.params('id')", "", "42"},
        {"$input.params('a')", "", "b"},
        {"$input.params('x-token')", "", "t0k"},
        {"[$input.params('nothing')]", "", "[]"},
        {"$input.params().path", "", "{id=42}"},
        {"$input.params().querystring", "", "{a=b, c=d}"},
        {"$input.params().header.get('x-token')", "", "t0k"},
        {"$input.params().path.id", "", "42"},
    };
    RENDER_ALL(cases);
}
END_TEST

START_TEST(test_input_body)
{
    static const struct vtl_case cases[] = {
        {"$input.body", "raw text", "raw text"},
        {"$input.body", "{\"a\":1}", "{\"a\":1}"},
    };
    RENDER_ALL(cases);
}
END_TEST

START_TEST(test_context_and_stage_variables)
{
    static const struct vtl_case cases[] = {
        {"$context.httpMethod $context.stage $context.requestId", "", "POST dev rid-1"},
        {"$context.identity.sourceIp", "", "127.0.0.1"},
        {"[$!context.authorizer.principalId]", "", "[]"},
        {"$stageVariables.functionAlias $stageVariables.get('functionAlias')", "", "dev dev"},
    };
    RENDER_ALL(cases);
}
END_TEST

START_TEST(test_util)
{
    static const struct vtl_case cases[] = {
        {"$util.escapeJavaScript(\"it's \"\"x\"\" / y\")", "", "it\\'s \\\"x\\\" \\/ y"},
        {"$util.escapeJavaScript($input.body)", "a\nb\u00e9", "a\\nb\\u00E9"},
        {"$util.urlEncode('a b&c=d/é')", "", "a+b%26c%3Dd%2F%C3%A9"},
        {"$util.urlDecode('a+b%26c')", "", "a b&c"},
        {"$util.base64Encode('hello')", "", "aGVsbG8="},
        {"$util.base64Decode('aGVsbG8=')", "", "hello"},
        {"#set($o = $util.parseJson($input.body))$o.a.b $o.l[0]", "{\"a\":{\"b\":\"c\"},\"l\":[5]}",
         "c 5"},
    };
    RENDER_ALL(cases);
}
END_TEST

START_TEST(test_string_methods)
{
    static const struct vtl_case cases[] = {
        {"#set($s = 'Hello')$s.toLowerCase() $s.toUpperCase() $s.length() "
         "$s.substring(1, 3) $s.replace('l', 'L') $s.contains('ell')",
         "", "hello HELLO 5 el HeLLo true"},
        {"#set($p = 'a,b,c')#foreach($x in $p.split(','))<$x>#end", "", "<a><b><c>"},
    };
    RENDER_ALL(cases);
}
END_TEST

/* matches() and replaceAll() take Java regexes: \\d, lookahead, lazy
 * quantifiers, $1 group references; a runaway pattern still returns. */
START_TEST(test_string_regex)
{
    static const struct vtl_case cases[] = {
        {"#set($s = '12345')$s.matches('\\d+') $s.matches('\\d{3}')", "", "true false"},
        {"#set($s = '422')$s.matches('(?!404|409)(4[0-9][0-9]).*') "
         "#set($t = '404')$t.matches('(?!404|409)(4[0-9][0-9]).*')",
         "", "true false"},
        {"#set($s = 'ABC')$s.matches('(?i)abc') $s.matches('[')", "", "true false"},
        {"#set($s = 'John Smith')$s.replaceAll('(\\w+) (\\w+)', '$2, $1')", "", "Smith, John"},
        {"#set($s = '<a><b>')$s.replaceAll('<.+?>', '[$0]')", "", "[<a>][<b>]"},
        {"#set($s = 'a.b')$s.replaceAll('\\.', '\\$')", "", "a$b"},
        {"#set($s = 'abc')$s.replaceAll('x*', '-')", "", "-a-b-c-"},
        {"#set($s = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab')$s.matches('(a+)+$')", "", "false"},
    };
    RENDER_ALL(cases);
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
    static const struct vtl_case cases[] = {
        {"{\"error\": \"$util.escapeJavaScript($input.path('$.errorMessage'))\"}",
         "{\"errorMessage\":\"400: bad \\\"id\\\"\",\"errorType\":\"Error\"}",
         "{\"error\": \"400: bad \\\"id\\\"\"}"},
    };
    RENDER_ALL(cases);
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

int main(void)
{
    const struct kit_case cases[] = {
        {"references", test_references, NULL},
        {"set", test_set, NULL},
        {"if", test_if, NULL},
        {"foreach", test_foreach, NULL},
        {"comments", test_comments, NULL},
        {"input_json", test_input_json, NULL},
        {"input_path", test_input_path, NULL},
        {"input_params", test_input_params, NULL},
        {"input_body", test_input_body, NULL},
        {"context_stage_variables", test_context_and_stage_variables, NULL},
        {"util", test_util, NULL},
        {"string_methods", test_string_methods, NULL},
        {"string_regex", test_string_regex, NULL},
        {"v05_request_template", test_v05_request_template, NULL},
        {"v05_response_template", test_v05_response_template, NULL},
        {"console_passthrough_template", test_console_passthrough_template, NULL},
        {"parse_errors", test_parse_errors, NULL},
        {"json_path", test_json_path, NULL},
    };
    return KIT_RUN("vtl", cases, setup, teardown, 0);
}
