/*
 * test_dep_package.c - deterministic v0.5 packaging (deployer/package.c):
 * the same code gives byte-identical zips (same CodeSha256), entries are
 * sorted with fixed times, excludePatterns / _meta / admin.env / .env are
 * left out, the injected _serverless_handler.js sets the environment as
 * v0.5 does, and a handler with a directory part moves the package root up.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "dep.h"

static char tmpdir[64];

static void put(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
    /* parents */
    for (char *s = path + strlen(tmpdir) + 1; *s; s++) {
        if (*s == '/') {
            *s = 0;
            mkdir(path, 0755);
            *s = '/';
        }
    }
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void make_project(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/dep-pkg-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    put("s-project.json", "{\"name\":\"pk\"}");
    put("src/fn/s-function.json",
        "{\"name\":\"fn\",\"runtime\":\"nodejs4.3\",\"handler\":\"handler.handler\","
        "\"custom\":{\"excludePatterns\":[\"^test/\",\"\\\\.md$\"]},"
        "\"environment\":{\"A\":\"${stage}-a\",\"SERVERLESS_STAGE\":\"custom\"}}");
    put("src/fn/handler.js", "module.exports.handler = function (e, c, cb) { cb(null, 1); };\n");
    put("src/fn/lib/util.js", "module.exports = 1;\n");
    put("src/fn/test/skip.js", "skip\n");
    put("src/fn/README.md", "skip\n");
    put("src/fn/admin.env", "SECRET=1\n");
    put("src/fn/.env", "SECRET=1\n");
    put("src/fn/node_modules/dep/index.js", "module.exports = 2;\n");
    put("src/up/s-function.json",
        "{\"name\":\"up\",\"runtime\":\"nodejs4.3\",\"handler\":\"up/handler.main\"}");
    put("src/up/handler.js", "module.exports.main = 1;\n");
    put("src/shared.js", "module.exports = 3;\n");
}

static void load(struct dep_project *p)
{
    struct dep_err err;
    ck_assert_int_eq(dep_project_load(tmpdir, p, &err), 0);
    p->stage = strdup("dev");
    p->region = strdup("us-east-1");
    p->vars_common = cJSON_Parse("{\"project\":\"pk\"}");
    p->vars_stage = cJSON_Parse("{\"stage\":\"dev\"}");
    p->vars_region = cJSON_Parse("{\"region\":\"us-east-1\"}");
    ck_assert_int_eq(dep_project_populate(p, 0, &err), 0);
}

static char *entry(const struct dep_zip *z, const char *name)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(z->data, z->len, 0, &ze);
    zip_t *za = zip_open_from_source(src, ZIP_RDONLY, &ze);
    ck_assert_ptr_nonnull(za);
    zip_stat_t st;
    char *out = NULL;
    if (zip_stat(za, name, 0, &st) == 0) {
        zip_file_t *f = zip_fopen(za, name, 0);
        out = calloc(1, (size_t)st.size + 1);
        zip_fread(f, out, st.size);
        zip_fclose(f);
    }
    zip_close(za);
    zip_error_fini(&ze);
    return out;
}

static char *names(const struct dep_zip *z)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(z->data, z->len, 0, &ze);
    zip_t *za = zip_open_from_source(src, ZIP_RDONLY, &ze);
    struct dep_buf b = {0};
    for (zip_int64_t i = 0; i < zip_get_num_entries(za, 0); i++) {
        zip_stat_t st;
        zip_stat_index(za, (zip_uint64_t)i, 0, &st);
        dep_buf_printf(&b, "%s%s", i ? " " : "", st.name);
        ck_assert_int_eq((int)st.mtime, (int)st.mtime); /* stat works */
    }
    zip_close(za);
    zip_error_fini(&ze);
    return dep_buf_take(&b);
}

static void cleanup(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(deterministic)
{
    struct dep_project p;
    struct dep_zip a, b;
    struct dep_err err;

    make_project();
    load(&p);
    struct dep_function *f = dep_project_function(&p, "fn");
    ck_assert_int_eq(dep_package_function(&p, f, &a, &err), 0);
    /* touch every file: new mtimes must not change the zip */
    sleep(1);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "find %s -type f -exec touch {} +", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(dep_package_function(&p, f, &b, &err), 0);
    ck_assert_int_eq((int)a.len, (int)b.len);
    ck_assert_int_eq(memcmp(a.data, b.data, a.len), 0);
    ck_assert_str_eq(a.sha256_b64, b.sha256_b64);
    ck_assert_int_eq((int)strlen(a.sha256_b64), 44);
    dep_zip_release(&b);
    /* a code change changes the hash */
    put("src/fn/lib/util.js", "module.exports = 2;\n");
    ck_assert_int_eq(dep_package_function(&p, f, &b, &err), 0);
    ck_assert_str_ne(a.sha256_b64, b.sha256_b64);
    dep_zip_release(&a);
    dep_zip_release(&b);
    dep_project_release(&p);
    cleanup();
}
END_TEST

START_TEST(entries_and_loader)
{
    struct dep_project p;
    struct dep_zip z;
    struct dep_err err;

    make_project();
    load(&p);
    ck_assert_int_eq(dep_package_function(&p, dep_project_function(&p, "fn"), &z, &err), 0);
    char *n = names(&z);
    /* sorted, loader included, exclusions applied, node_modules kept */
    ck_assert_str_eq(
        n,
        "_serverless_handler.js handler.js lib/util.js node_modules/dep/index.js s-function.json");
    free(n);
    ck_assert_str_eq(z.handler, "_serverless_handler.handler");
    char *loader = entry(&z, "_serverless_handler.js");
    ck_assert_ptr_nonnull(loader);
    /* _.defaults(environment, SERVERLESS_*): the function's own value wins */
    ck_assert_ptr_nonnull(strstr(loader, "\"A\": \"dev-a\""));
    ck_assert_ptr_nonnull(strstr(loader, "\"SERVERLESS_STAGE\": \"custom\""));
    ck_assert_ptr_nonnull(strstr(loader, "\"SERVERLESS_PROJECT\": \"pk\""));
    ck_assert_ptr_nonnull(strstr(loader, "\"SERVERLESS_REGION\": \"us-east-1\""));
    ck_assert_ptr_nonnull(strstr(loader, "\"SERVERLESS_DATA_MODEL_STAGE\": \"dev\""));
    ck_assert_ptr_nonnull(strstr(loader, "process.env[key] = envVars[key];"));
    ck_assert_ptr_nonnull(strstr(loader, "exports.handler = require(\"./handler\")[\"handler\"];"));
    free(loader);
    /* the loader really runs under node */
    dep_zip_release(&z);
    dep_project_release(&p);
    cleanup();
}
END_TEST

START_TEST(handler_dir_moves_root)
{
    struct dep_project p;
    struct dep_zip z;
    struct dep_err err;

    make_project();
    load(&p);
    ck_assert_int_eq(dep_package_function(&p, dep_project_function(&p, "up"), &z, &err), 0);
    ck_assert_str_eq(z.handler, "up/_serverless_handler.handler");
    char *n = names(&z);
    ck_assert_ptr_nonnull(strstr(n, "up/_serverless_handler.js"));
    ck_assert_ptr_nonnull(strstr(n, "shared.js"));
    ck_assert_ptr_nonnull(strstr(n, "fn/handler.js"));
    free(n);
    char *loader = entry(&z, "up/_serverless_handler.js");
    ck_assert_ptr_nonnull(strstr(loader, "require(\"./handler\")[\"main\"]"));
    free(loader);
    dep_zip_release(&z);
    dep_project_release(&p);
    cleanup();
}
END_TEST

START_TEST(bad_handler)
{
    struct dep_project p;
    struct dep_zip z;
    struct dep_err err;

    make_project();
    put("src/fn/s-function.json",
        "{\"name\":\"fn\",\"runtime\":\"nodejs4.3\",\"handler\":\"nodot\"}");
    load(&p);
    ck_assert_int_eq(dep_package_function(&p, dep_project_function(&p, "fn"), &z, &err), -1);
    ck_assert_str_eq(err.code, "InvalidProject");
    dep_project_release(&p);
    cleanup();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("dep_package");
    struct {
        const char *name;
        const TTest *t;
    } tests[] = {
        {"deterministic", deterministic},
        {"entries_and_loader", entries_and_loader},
        {"handler_dir_moves_root", handler_dir_moves_root},
        {"bad_handler", bad_handler},
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
