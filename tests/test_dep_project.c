/*
 * test_dep_project.c - the v0.5 project model (deployer/project.c):
 * population (spec 1.7, including its edge cases), naming (1.8), JSON
 * error locations, project loading and the s-templates merge chain on
 * fixtures/projects/mini, and ci stage selection (cmd_ci.c).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dep.h"

static cJSON *J(const char *s)
{
    cJSON *j = cJSON_Parse(s);
    ck_assert_msg(j != NULL, "bad test JSON: %s", s);
    return j;
}

/* populate value with templates/vars/owner, return compact JSON (caller frees). */
static char *pop(const char *value, const char *templates, const char *vars, const char *owner,
                 cJSON *warnings)
{
    cJSON *v = J(value), *t = J(templates), *va = J(vars), *o = owner ? J(owner) : NULL;
    cJSON *r = dep_populate(v, t, va, o, warnings);
    char *s = cJSON_PrintUnformatted(r);
    cJSON_Delete(v);
    cJSON_Delete(t);
    cJSON_Delete(va);
    cJSON_Delete(o);
    cJSON_Delete(r);
    return s;
}

#define POP_EQ(value, templates, vars, owner, expect)                                              \
    do {                                                                                           \
        char *_s = pop(value, templates, vars, owner, NULL);                                       \
        ck_assert_str_eq(_s, expect);                                                              \
        free(_s);                                                                                  \
    } while (0)

START_TEST(template_replaces_whole_value)
{
    POP_EQ("{\"r\":\"$${responses}\"}", "{\"responses\":{\"400\":{\"statusCode\":\"400\"}}}", "{}",
           NULL, "{\"r\":{\"400\":{\"statusCode\":\"400\"}}}");
    /* surrounding text: v0.5 looks up the whole string minus the syntax */
    cJSON *w = cJSON_CreateArray();
    char *s = pop("{\"r\":\"x $${responses}\"}", "{\"responses\":{\"a\":1}}", "{}", NULL, w);
    ck_assert_str_eq(s, "{\"r\":\"x $${responses}\"}");
    ck_assert_int_eq(cJSON_GetArraySize(w), 1);
    ck_assert_ptr_nonnull(strstr(cJSON_GetArrayItem(w, 0)->valuestring,
                                 "template is requested but not defined: x responses"));
    free(s);
    cJSON_Delete(w);
}
END_TEST

START_TEST(template_then_variables)
{
    /* a template's strings get pass 2 */
    POP_EQ("{\"environment\":\"$${env}\"}",
           "{\"env\":{\"STAGE\":\"${stage}\",\"R\":\"x-${region}\"}}",
           "{\"stage\":\"dev\",\"region\":\"us-east-1\"}", NULL,
           "{\"environment\":{\"STAGE\":\"dev\",\"R\":\"x-us-east-1\"}}");
    /* nested template reference inside a template value */
    POP_EQ("{\"a\":\"$${outer}\"}", "{\"outer\":{\"in\":\"$${inner}\"},\"inner\":[1,2]}", "{}",
           NULL, "{\"a\":{\"in\":[1,2]}}");
    /* in arrays too */
    POP_EQ("[\"$${t}\",\"${s}\"]", "{\"t\":true}", "{\"s\":\"x\"}", NULL, "[true,\"x\"]");
}
END_TEST

START_TEST(variables_splice_strings)
{
    POP_EQ("{\"r\":\"arn:aws:logs:${region}:*:*\"}", "{}", "{\"region\":\"eu-west-1\"}", NULL,
           "{\"r\":\"arn:aws:logs:eu-west-1:*:*\"}");
    POP_EQ("{\"n\":\"${stage}-${project}-lambda\"}", "{}", "{\"stage\":\"dev\",\"project\":\"p\"}",
           NULL, "{\"n\":\"dev-p-lambda\"}");
    /* the same placeholder twice */
    POP_EQ("{\"n\":\"${a}/${a}\"}", "{}", "{\"a\":\"x\"}", NULL, "{\"n\":\"x/x\"}");
    /* names are trimmed */
    POP_EQ("{\"n\":\"${ a }\"}", "{}", "{\"a\":\"x\"}", NULL, "{\"n\":\"x\"}");
    /* keys are never substituted */
    POP_EQ("{\"${a}\":\"${a}\"}", "{}", "{\"a\":\"x\"}", NULL, "{\"${a}\":\"x\"}");
}
END_TEST

START_TEST(variables_non_string_replace_whole)
{
    POP_EQ("{\"t\":\"${timeout}\"}", "{}", "{\"timeout\":6}", NULL, "{\"t\":6}");
    POP_EQ("{\"t\":\"pre-${obj}-post\"}", "{}", "{\"obj\":{\"k\":\"v\"}}", NULL,
           "{\"t\":{\"k\":\"v\"}}");
    POP_EQ("{\"t\":\"${list}\"}", "{}", "{\"list\":[\"a\",\"b\"]}", NULL, "{\"t\":[\"a\",\"b\"]}");
}
END_TEST

START_TEST(variables_undefined_and_falsy_stay)
{
    cJSON *w = cJSON_CreateArray();
    char *s = pop("{\"a\":\"${nope}\",\"b\":\"${empty}\",\"c\":\"${zero}\",\"d\":\"${no}\",\"e\":"
                  "\"x${nope}\"}",
                  "{}", "{\"empty\":\"\",\"zero\":0,\"no\":false}", NULL, w);
    ck_assert_str_eq(s, "{\"a\":\"${nope}\",\"b\":\"${empty}\",\"c\":\"${zero}\",\"d\":\"${no}\","
                        "\"e\":\"x${nope}\"}");
    /* one warning per distinct name */
    ck_assert_int_eq(cJSON_GetArraySize(w), 4);
    ck_assert_str_eq(cJSON_GetArrayItem(w, 0)->valuestring,
                     "WARNING: This variable is not defined: nope");
    free(s);
    cJSON_Delete(w);
}
END_TEST

START_TEST(variables_skip_unresolved_templates)
{
    /* a string still holding $${...} is not variable-populated */
    POP_EQ("{\"a\":\"$${missing} ${stage}\"}", "{}", "{\"stage\":\"dev\"}", NULL,
           "{\"a\":\"$${missing} ${stage}\"}");
}
END_TEST

START_TEST(reserved_names_from_owner)
{
    POP_EQ("{\"d\":\"fn ${name} in ${functionName}\"}", "{}",
           "{\"name\":\"var\",\"functionName\":\"var\"}",
           "{\"name\":\"books-get\",\"functionName\":\"books-get\"}",
           "{\"d\":\"fn books-get in books-get\"}");
    /* without an owner value the variable layer answers */
    POP_EQ("{\"d\":\"${eventName}\"}", "{}", "{\"eventName\":\"v\"}", "{\"name\":\"x\"}",
           "{\"d\":\"v\"}");
}
END_TEST

START_TEST(json_merge_lodash)
{
    cJSON *a = J("{\"x\":{\"a\":1,\"b\":{\"c\":1}},\"y\":[1,2],\"z\":1}");
    cJSON *b = J("{\"x\":{\"b\":{\"d\":2}},\"y\":[3],\"w\":true}");
    dep_json_merge(a, b);
    char *s = cJSON_PrintUnformatted(a);
    ck_assert_str_eq(s, "{\"x\":{\"a\":1,\"b\":{\"c\":1,\"d\":2}},\"y\":[3],\"z\":1,\"w\":true}");
    free(s);
    cJSON_Delete(a);
    cJSON_Delete(b);
}
END_TEST

START_TEST(naming_rules)
{
    char b[256];
    ck_assert_str_eq(dep_sid_endpoint("books", "GET", b, sizeof(b)), "s_apig_books_GET");
    ck_assert_str_eq(dep_sid_endpoint("books/{id}", "PUT", b, sizeof(b)), "s_apig_books__id__PUT");
    ck_assert_str_eq(dep_sid_endpoint("/v1.0/x", "POST", b, sizeof(b)), "s_apig_v1_0_x_POST");
    ck_assert_str_eq(dep_sid_authorizer("cd-example-auth", b, sizeof(b)),
                     "s_apig_auth_cd-example-auth");
    ck_assert_str_eq(
        dep_sid_event("cd-example-notifications-books", "book-change", "dev", b, sizeof(b)),
        "sEvents-cd-example-notifications-books-book-change-dev");
    ck_assert_str_eq(dep_schedule_rule_name("p-f", "tick", "dev", b, sizeof(b)), "p-f-tick-dev");
    dep_schedule_rule_name("a-very-long-project-name-with-many-words-a-very-long-function-name",
                           "every-minute", "production", b, sizeof(b));
    ck_assert_int_eq((int)strlen(b), 64);
    /* a long name keeps its stage: two stages never share a rule */
    char dev_rule[128];
    ck_assert_str_eq(b + 64 - strlen("-production"), "-production");
    dep_schedule_rule_name("a-very-long-project-name-with-many-words-a-very-long-function-name",
                           "every-minute", "dev", dev_rule, sizeof(dev_rule));
    ck_assert_int_eq((int)strlen(dev_rule), 64);
    ck_assert_str_eq(dev_rule + 64 - strlen("-dev"), "-dev");
    ck_assert_str_ne(dev_rule, b);
    char rule[128];
    snprintf(rule, sizeof(rule), "%s", b);
    ck_assert_str_eq(dep_sid_schedule("p-f-tick-dev", "dev", b, sizeof(b)),
                     "s_events_p-f-tick-dev_dev");
    ck_assert_str_eq(dep_region_code("us-east-1", b, sizeof(b)), "useast1");
    ck_assert_str_eq(dep_region_code("ap-northeast-1", b, sizeof(b)), "apnortheast1");
    ck_assert_str_eq(dep_lambda_arn("us-east-1", "123456789012", "p-f", "dev", b, sizeof(b)),
                     "arn:aws:lambda:us-east-1:123456789012:function:p-f:dev");
    ck_assert_int_eq(dep_stage_valid("dev"), 1);
    ck_assert_int_eq(dep_stage_valid("prod2"), 1);
    ck_assert_int_eq(dep_stage_valid("dev-1"), 0);
    ck_assert_int_eq(dep_stage_valid(""), 0);
    ck_assert_int_eq(dep_project_name_valid("cd-example"), 1);
    ck_assert_int_eq(dep_project_name_valid("cd_example"), 0);
}
END_TEST

START_TEST(stack_and_api_names)
{
    struct dep_project p;
    char b[256];
    memset(&p, 0, sizeof(p));
    p.name = "cd-example";
    p.stage = "dev";
    ck_assert_str_eq(dep_stack_name(&p, b, sizeof(b)), "cd-example-dev-r");
    ck_assert_str_eq(dep_rest_api_name(&p, b, sizeof(b)), "cd-example");
    p.vars_region = J("{\"resourcesStackName\":\"custom-stack\",\"apiGatewayApi\":\"other-api\"}");
    ck_assert_str_eq(dep_stack_name(&p, b, sizeof(b)), "custom-stack");
    ck_assert_str_eq(dep_rest_api_name(&p, b, sizeof(b)), "other-api");
    cJSON_Delete(p.vars_region);
    p.vars_region =
        J("{\"iamRoleArnLambda\":\"arn:aws:iam::123456789012:role/x-IamRoleLambda-ABC\"}");
    struct dep_err err;
    ck_assert_str_eq(dep_account_id(&p, b, sizeof(b), &err), "123456789012");
    cJSON_Delete(p.vars_region);
}
END_TEST

static char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/dep-json-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq((int)write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    return path;
}

START_TEST(json_error_location)
{
    struct dep_err err;
    struct {
        const char *text, *where, *what;
    } cases[] = {
        {"{\n  \"a\": 1,\n}\n", ":3:1:", "string key"},
        {"{\n  \"a\" 1\n}", ":2:7:", "':'"},
        {"{\"a\": [1, 2,]}", ":1:13:", "no trailing comma"},
        {"{\"a\": tru}", ":1:7:", "a value"},
        {"{\"a\": 1", ":1:8:", "',' or '}'"},
        {"{\"a\": \"x\n\"}", ":1:9:", "closing"},
        {"{} x", ":1:4:", "end of the file"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *p = write_tmp(cases[i].text);
        dep_err_clear(&err);
        cJSON *j = dep_json_load_file(p, &err);
        ck_assert_ptr_null(j);
        ck_assert_str_eq(err.code, "InvalidJSON");
        ck_assert_msg(strstr(err.message, cases[i].where) != NULL, "case %zu: %s lacks %s", i,
                      err.message, cases[i].where);
        ck_assert_msg(strstr(err.message, cases[i].what) != NULL, "case %zu: %s lacks %s", i,
                      err.message, cases[i].what);
        ck_assert_ptr_nonnull(strstr(err.message, p));
        unlink(p);
    }
    char *p = write_tmp("{\"ok\": [1, {\"b\": null}]}");
    cJSON *j = dep_json_load_file(p, &err);
    ck_assert_ptr_nonnull(j);
    cJSON_Delete(j);
    unlink(p);
}
END_TEST

static const char *fixture(const char *rel, char *buf, size_t n)
{
    const char *f = getenv("FIXTURES_DIR");
    snprintf(buf, n, "%s/%s", f ? f : "../fixtures", rel);
    return buf;
}

START_TEST(load_mini_project)
{
    struct dep_project p;
    struct dep_err err;
    char dir[1024];

    dep_err_clear(&err);
    ck_assert_int_eq(dep_project_load(fixture("projects/mini", dir, sizeof(dir)), &p, &err), 0);
    ck_assert_str_eq(p.name, "mini");
    ck_assert_int_eq(p.n_functions, 2);
    ck_assert_str_eq(p.functions[0].rel_dir, "src/hello");
    ck_assert_str_eq(p.functions[1].rel_dir, "src/notify");
    /* vars in memory: pretend project init ran */
    p.stage = strdup("dev");
    p.region = strdup("us-east-1");
    p.vars_common = J("{\"project\":\"mini\"}");
    p.vars_stage = J("{\"stage\":\"dev\"}");
    p.vars_region =
        J("{\"region\":\"us-east-1\",\"notifyTopicName\":\"mini-dev-r-NotifyTopic-X\"}");
    ck_assert_int_eq(dep_project_populate(&p, 0, &err), 0);
    struct dep_function *h = dep_project_function(&p, "hello");
    ck_assert_ptr_nonnull(h);
    ck_assert_str_eq(h->lambda_name, "mini-hello");
    ck_assert_int_eq(h->n_endpoints, 1);
    ck_assert_str_eq(h->endpoints[0].path, "hello");
    ck_assert_str_eq(h->endpoints[0].method, "GET");
    /* responses came from src/s-templates.json (parent folder of the function) */
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(h->endpoints[0].json, "responses");
    ck_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(r, "default")));
    const cJSON *env = cJSON_GetObjectItemCaseSensitive(h->json, "environment");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(env, "GREETING")->valuestring,
                     "hello from dev");
    struct dep_function *n = dep_project_function(&p, "notify");
    ck_assert_int_eq(n->n_events, 2);
    ck_assert_str_eq(n->events[0].type, "sns");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(n->events[0].config, "topic")->valuestring,
                     "mini-dev-r-NotifyTopic-X");
    /* s-project.json is populated too */
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(p.json, "custom"), "meta");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(meta, "name")->valuestring, "mini-meta-dev");
    ck_assert_int_eq(cJSON_GetArraySize(p.warnings), 0);
    /* --strict: an undefined variable fails */
    cJSON_DeleteItemFromObject(p.vars_region, "notifyTopicName");
    ck_assert_int_eq(dep_project_populate(&p, 0, &err), 0);
    ck_assert_int_gt(cJSON_GetArraySize(p.warnings), 0);
    ck_assert_int_eq(dep_project_populate(&p, 1, &err), -1);
    ck_assert_str_eq(err.code, "UndefinedVariable");
    ck_assert_ptr_nonnull(strstr(err.message, "notifyTopicName"));
    dep_project_release(&p);
}
END_TEST

START_TEST(load_errors)
{
    struct dep_project p;
    struct dep_err err;
    char dir[] = "/tmp/dep-proj-XXXXXX";
    char path[256];

    ck_assert_ptr_nonnull(mkdtemp(dir));
    /* no s-project.json */
    ck_assert_int_eq(dep_project_load(dir, &p, &err), -1);
    ck_assert_str_eq(err.code, "MissingFile");
    dep_project_release(&p);
    /* bad function JSON names the file, line and column */
    snprintf(path, sizeof(path), "%s/s-project.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\"name\":\"x\"}", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/fn", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/fn/s-function.json", dir);
    f = fopen(path, "w");
    fputs("{\n \"name\": \"fn\",\n \"runtime\": \"nodejs4.3\"\n \"handler\": \"h.h\"}", f);
    fclose(f);
    ck_assert_int_eq(dep_project_load(dir, &p, &err), -1);
    ck_assert_str_eq(err.code, "InvalidJSON");
    ck_assert_msg(strstr(err.message, "fn/s-function.json:4:2:") != NULL, "%s", err.message);
    dep_project_release(&p);
    /* missing runtime */
    f = fopen(path, "w");
    fputs("{\"name\": \"fn\"}", f);
    fclose(f);
    ck_assert_int_eq(dep_project_load(dir, &p, &err), -1);
    ck_assert_str_eq(err.code, "InvalidProject");
    ck_assert_ptr_nonnull(strstr(err.message, "runtime"));
    dep_project_release(&p);
    /* _meta and node_modules are not searched */
    f = fopen(path, "w");
    fputs("{\"name\": \"fn\", \"runtime\": \"nodejs4.3\"}", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/node_modules", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/node_modules/m", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/node_modules/m/s-function.json", dir);
    f = fopen(path, "w");
    fputs("{broken", f);
    fclose(f);
    ck_assert_int_eq(dep_project_load(dir, &p, &err), 0);
    ck_assert_int_eq(p.n_functions, 1);
    dep_project_release(&p);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(yaml_templates)
{
    struct dep_project p;
    struct dep_err err;
    char dir[] = "/tmp/dep-yaml-XXXXXX";
    char path[256];
    FILE *f;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/s-project.json", dir);
    f = fopen(path, "w");
    fputs("{\"name\":\"y\"}", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/s-templates.yaml", dir);
    f = fopen(path, "w");
    fputs("env:\n  STAGE: ${stage}\n  N: 3\n  ON: true\nlist:\n  - a\n  - 'b'\n", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/fn", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/fn/s-function.json", dir);
    f = fopen(path, "w");
    fputs("{\"name\":\"fn\",\"runtime\":\"nodejs4.3\",\"environment\":\"$${env}\",\"x\":\"$${list}"
          "\"}",
          f);
    fclose(f);
    ck_assert_int_eq(dep_project_load(dir, &p, &err), 0);
    p.stage = strdup("dev");
    p.vars_stage = J("{\"stage\":\"dev\"}");
    ck_assert_int_eq(dep_project_populate(&p, 0, &err), 0);
    char *s = cJSON_PrintUnformatted(p.functions[0].json);
    ck_assert_ptr_nonnull(strstr(s, "\"environment\":{\"STAGE\":\"dev\",\"N\":3,\"ON\":true}"));
    ck_assert_ptr_nonnull(strstr(s, "\"x\":[\"a\",\"b\"]"));
    free(s);
    dep_project_release(&p);
    /* a YAML error names file:line:column */
    snprintf(path, sizeof(path), "%s/s-templates.yaml", dir);
    f = fopen(path, "w");
    fputs("a: [1, 2\nb: 3\n", f);
    fclose(f);
    ck_assert_int_eq(dep_project_load(dir, &p, &err), -1);
    ck_assert_str_eq(err.code, "InvalidYAML");
    ck_assert_ptr_nonnull(strstr(err.message, "s-templates.yaml:"));
    dep_project_release(&p);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(ci_stage_rules)
{
    char stage[64], why[512];
    cJSON *cfg = J("{\"branches\":{\"develop\":\"dev\",\"staging\":\"stage\"}}");

    ck_assert_int_eq(dep_ci_stage(NULL, "/nonexistent", "develop", "", 0, stage, sizeof(stage), why,
                                  sizeof(why)),
                     1);
    ck_assert_str_eq(stage, "dev");
    ck_assert_int_eq(dep_ci_stage(NULL, "/nonexistent", "feature/x", "", 0, stage, sizeof(stage),
                                  why, sizeof(why)),
                     0);
    ck_assert_ptr_nonnull(strstr(why, "not mapped"));
    ck_assert_int_eq(dep_ci_stage(NULL, "/nonexistent", "develop", "", 1, stage, sizeof(stage), why,
                                  sizeof(why)),
                     0);
    ck_assert_ptr_nonnull(strstr(why, "pull request"));
    /* a tag (no git history to check): production */
    ck_assert_int_eq(
        dep_ci_stage(NULL, "/nonexistent", "", "v1.0.0", 0, stage, sizeof(stage), why, sizeof(why)),
        1);
    ck_assert_str_eq(stage, "production");
    ck_assert_int_eq(
        dep_ci_stage(cfg, "/nonexistent", "staging", "", 0, stage, sizeof(stage), why, sizeof(why)),
        1);
    ck_assert_str_eq(stage, "stage");
    /* master without a tag does not deploy */
    ck_assert_int_eq(
        dep_ci_stage(cfg, "/nonexistent", "master", "", 0, stage, sizeof(stage), why, sizeof(why)),
        0);
    cJSON_Delete(cfg);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("dep_project");
    struct {
        const char *name;
        const TTest *t;
    } tests[] = {
        {"template_replaces_whole_value", template_replaces_whole_value},
        {"template_then_variables", template_then_variables},
        {"variables_splice_strings", variables_splice_strings},
        {"variables_non_string_replace_whole", variables_non_string_replace_whole},
        {"variables_undefined_and_falsy_stay", variables_undefined_and_falsy_stay},
        {"variables_skip_unresolved_templates", variables_skip_unresolved_templates},
        {"reserved_names_from_owner", reserved_names_from_owner},
        {"json_merge_lodash", json_merge_lodash},
        {"naming_rules", naming_rules},
        {"stack_and_api_names", stack_and_api_names},
        {"json_error_location", json_error_location},
        {"load_mini_project", load_mini_project},
        {"load_errors", load_errors},
        {"yaml_templates", yaml_templates},
        {"ci_stage_rules", ci_stage_rules},
    };
    for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        TCase *tc = tcase_create(tests[i].name);
        tcase_add_test(tc, tests[i].t);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
