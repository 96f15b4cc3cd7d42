/*
 * test_dep_rehearse_run.c - what stagehand rehearse runs on
 * (deployer/rehearse_run.c): the temp dir (TMPDIR honoured, temp dirs of
 * killed runs removed, live and foreign ones kept), tree removal, the _meta
 * save/restore round trip, waiting for a child (exit code, killed, over its
 * limit), finding the greenroom binary, a clone of a greenroom started
 * with the source's GREENROOM_* settings (health's process.env), not
 * rehearse's, a greenroom that died during a case (a harness error, and
 * brought back), and harness errors in JUnit (<error>, not <failure>). The sweeps against real
 * greenrooms are in tests/cli/test_rehearse_*.sh.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "rehearse_int.h"

static char base[PATH_MAX];

static void setup(void)
{
    snprintf(base, sizeof(base), "/tmp/test-rehearse-run-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(base));
    setenv("TMPDIR", base, 1);
}

static void teardown(void)
{
    rh_rm_tree(base);
    unsetenv("TMPDIR");
}

static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static char *read_file(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "r");
    if (!f) {
        return NULL;
    }
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* A pid that no process has now: a child that has exited and was reaped. */
static pid_t dead_pid(void)
{
    pid_t p = fork();
    if (p == 0) {
        _exit(0);
    }
    waitpid(p, NULL, 0);
    return p;
}

START_TEST(test_tmp_dir)
{
    char dead[PATH_MAX + 64], live[PATH_MAX + 64], foreign[PATH_MAX + 64], made[PATH_MAX];
    ck_assert_str_eq(rh_tmp_base(), base);
    snprintf(dead, sizeof(dead), "%s/stagehand-rehearse-%ld-aaaaaa", base, (long)dead_pid());
    snprintf(live, sizeof(live), "%s/stagehand-rehearse-%ld-bbbbbb", base, (long)getppid());
    snprintf(foreign, sizeof(foreign), "%s/stagehand-rehearse-notes", base);
    ck_assert_int_eq(mkdir(dead, 0700), 0);
    ck_assert_int_eq(mkdir(live, 0700), 0);
    ck_assert_int_eq(mkdir(foreign, 0700), 0);
    char inner[PATH_MAX + 80];
    snprintf(inner, sizeof(inner), "%s/greenroom-0", dead);
    ck_assert_int_eq(mkdir(inner, 0700), 0);
    ck_assert_int_eq(rh_make_tmp(made, sizeof(made)), 0);
    ck_assert_msg(!exists(dead), "the temp dir of a killed run is removed");
    ck_assert_msg(exists(live), "the temp dir of a running rehearse is kept");
    ck_assert_msg(exists(foreign), "a name that is not ours is kept");
    char want[PATH_MAX + 64];
    snprintf(want, sizeof(want), "%s/stagehand-rehearse-%ld-", base, (long)getpid());
    ck_assert_msg(strncmp(made, want, strlen(want)) == 0, "made %s", made);
    ck_assert(exists(made));
}
END_TEST

START_TEST(test_meta_round_trip)
{
    struct rh r;
    char path[PATH_MAX + 64];
    memset(&r, 0, sizeof(r));
    snprintf(r.work, sizeof(r.work), "%s/project", base);
    snprintf(r.saved_meta, sizeof(r.saved_meta), "%s/meta-pre", base);
    ck_assert_int_eq(mkdir(r.work, 0755), 0);
    /* no _meta yet: saving and restoring "nothing" leaves no _meta */
    ck_assert_int_eq(rh_meta_save(&r), 0);
    snprintf(path, sizeof(path), "%s/_meta", r.work);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    ck_assert_int_eq(rh_meta_restore(&r), 0);
    ck_assert_msg(!exists(path), "restoring an absent _meta removes the one made since");
    /* a tree: saved, changed, restored */
    ck_assert_int_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/_meta/variables", r.work);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/_meta/variables/s-variables-dev.json", r.work);
    write_file(path, "{\"stage\":\"dev\"}");
    ck_assert_int_eq(rh_meta_save(&r), 0);
    write_file(path, "{\"stage\":\"dev\",\"changed\":true}");
    char extra[PATH_MAX + 64];
    snprintf(extra, sizeof(extra), "%s/_meta/variables/s-variables-dev-useast1.json", r.work);
    write_file(extra, "{}");
    ck_assert_int_eq(rh_meta_restore(&r), 0);
    ck_assert_str_eq(read_file(path), "{\"stage\":\"dev\"}");
    ck_assert_msg(!exists(extra), "a file made after the save is gone");
}
END_TEST

START_TEST(test_wait_child)
{
    pid_t p = fork();
    if (p == 0) {
        _exit(3);
    }
    ck_assert_int_eq(rh_wait(p, 10), 3);
    p = fork();
    if (p == 0) {
        setpgid(0, 0);
        pause();
        _exit(0);
    }
    usleep(20000);
    kill(p, SIGKILL);
    ck_assert_int_eq(rh_wait(p, 10), 128 + SIGKILL);
    /* over its limit: killed (its process group) */
    p = fork();
    if (p == 0) {
        setpgid(0, 0);
        pause();
        _exit(0);
    }
    ck_assert_int_eq(rh_wait(p, 1), 128 + SIGKILL);
    ck_assert_int_eq(rh_stopped(), 0);
}
END_TEST

START_TEST(test_find_greenroom)
{
    char bin[PATH_MAX + 32], found[PATH_MAX];
    snprintf(bin, sizeof(bin), "%s/greenroom", base);
    write_file(bin, "#!/bin/sh\n");
    ck_assert_int_eq(chmod(bin, 0755), 0);
    const char *old = getenv("PATH");
    char *saved = old ? strdup(old) : NULL;
    setenv("PATH", base, 1);
    ck_assert_int_eq(rh_find_greenroom(found, sizeof(found)), 1);
    /* beside the test binary there is the build tree's ../emulator/greenroom;
     * otherwise PATH's */
    size_t n = strlen(found);
    ck_assert(n >= 10 && strcmp(found + n - 10, "/greenroom") == 0);
    ck_assert_int_eq(access(found, X_OK), 0);
    if (saved) {
        setenv("PATH", saved, 1);
        free(saved);
    }
}
END_TEST

/* A clone of a greenroom on this machine runs with the source's GREENROOM_*
 * settings (health's process.env), not with rehearse's own. */
START_TEST(test_clone_env)
{
    struct gr_server src;
    struct dep_opts o;
    struct dep_ctx c;
    struct rh r;
    cJSON *h = NULL;
    memset(&o, 0, sizeof(o));
    memset(&c, 0, sizeof(c));
    memset(&r, 0, sizeof(r));
    /* the source: started with a CloudFormation settle time */
    setenv("GREENROOM_CFN_SETTLE_MS", "7", 1);
    ck_assert_int_eq(gr_start(&src, NULL), 0);
    /* rehearse's own environment: another knob, no settle time */
    unsetenv("GREENROOM_CFN_SETTLE_MS");
    setenv("GREENROOM_LAMBDA_RETRY_SCALE", "0.5", 1);
    c.opts = &o;
    snprintf(c.stage, sizeof(c.stage), "dev");
    r.c = &c;
    r.curl = curl_easy_init();
    snprintf(r.url, sizeof(r.url), "%s", src.url);
    ck_assert_int_eq(rh_ctl(&r, "GET", "/_greenroom/health", NULL, &h), 200);
    const cJSON *env =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(h, "process"), "env");
    ck_assert_msg(cJSON_IsObject(env), "health's process has env");
    ck_assert_str_eq(
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(env, "GREENROOM_CFN_SETTLE_MS")),
        "7");
    ck_assert_msg(!cJSON_GetObjectItemCaseSensitive(env, "PATH"), "only GREENROOM_* variables");
    cJSON_Delete(h);
    h = NULL;
    ck_assert_int_eq(rh_clone_probe(&r), 1);
    snprintf(r.gr_state, sizeof(r.gr_state), "%s/clone", base);
    snprintf(r.log, sizeof(r.log), "%s/clone.log", base);
    ck_assert_int_eq(mkdir(r.gr_state, 0755), 0);
    ck_assert_int_eq(rh_gr_up(&r, 0), 0);
    ck_assert_msg(strcmp(r.url, src.url) != 0, "the clone is another greenroom");
    ck_assert_int_eq(rh_ctl(&r, "GET", "/_greenroom/health", NULL, &h), 200);
    env = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(h, "process"), "env");
    const char *settle =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(env, "GREENROOM_CFN_SETTLE_MS"));
    ck_assert_msg(settle && strcmp(settle, "7") == 0, "the clone has the source's settle time");
    ck_assert_msg(!cJSON_GetObjectItemCaseSensitive(env, "GREENROOM_LAMBDA_RETRY_SCALE"),
                  "the clone has none of rehearse's own GREENROOM_* settings");
    cJSON_Delete(h);
    rh_gr_down(&r);
    unsetenv("GREENROOM_LAMBDA_RETRY_SCALE");
    cJSON_Delete(r.gr_args);
    cJSON_Delete(r.gr_env);
    curl_easy_cleanup(r.curl);
    gr_stop(&src);
}
END_TEST

/* A case's greenroom that died (not the crash kind's planned crash) is a
 * harness error, and it is brought back for the next case; a live one is
 * not. */
START_TEST(test_greenroom_gone)
{
    struct dep_opts o;
    struct dep_ctx c;
    struct rh r;
    char why[512];
    memset(&o, 0, sizeof(o));
    memset(&c, 0, sizeof(c));
    memset(&r, 0, sizeof(r));
    c.opts = &o;
    snprintf(c.stage, sizeof(c.stage), "dev");
    r.c = &c;
    r.curl = curl_easy_init();
    r.greenroom = getenv("GREENROOM_BIN");
    ck_assert_ptr_nonnull(r.greenroom);
    snprintf(r.gr_state, sizeof(r.gr_state), "%s/gr", base);
    snprintf(r.log, sizeof(r.log), "%s/gr.log", base);
    ck_assert_int_eq(mkdir(r.gr_state, 0755), 0);
    ck_assert_int_eq(rh_gr_up(&r, 0), 0);
    ck_assert_ptr_null(rh_gr_gone(&r, why, sizeof(why)));
    pid_t first = r.gr_pid;
    kill(first, SIGKILL);
    /* wait until it is dead, without reaping it (rehearse does) */
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    for (int i = 0; i < 4000 && info.si_pid != first; i++) {
        if (waitid(P_PID, (id_t)first, &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
            break;
        }
        usleep(5000);
    }
    ck_assert_int_eq(info.si_pid, first);
    const char *what = rh_gr_gone(&r, why, sizeof(why));
    ck_assert_ptr_nonnull(what);
    ck_assert_str_eq(what, RH_HARNESS_DIED);
    ck_assert_msg(strstr(why, "signal 9") != NULL, "says how it died: %s", why);
    ck_assert_msg(r.gr_pid > 0 && r.gr_pid != first, "a new greenroom");
    ck_assert_int_eq(rh_ctl(&r, "GET", "/_greenroom/health", NULL, NULL), 200);
    ck_assert_ptr_null(rh_gr_gone(&r, why, sizeof(why)));
    rh_gr_down(&r);
    curl_easy_cleanup(r.curl);
}
END_TEST

/* JUnit: a violation is a <failure>, a harness error an <error> naming
 * which, each counted apart. */
START_TEST(test_junit_errors)
{
    cJSON *cases = cJSON_Parse(
        "[{\"k\":1,\"kind\":\"error\",\"result\":\"ok\",\"detail\":\"\",\"ms\":1},"
        "{\"k\":2,\"kind\":\"kill\",\"result\":\"invariant 1 violated\",\"detail\":\"d\",\"ms\":1},"
        "{\"k\":3,\"kind\":\"crash\",\"result\":\"error\",\"harnessError\":\"worker died\","
        "\"detail\":\"rehearse worker 1 died of signal 9\",\"ms\":1}]");
    ck_assert_int_eq(rh_is_harness_error(cJSON_GetArrayItem(cases, 2)), 1);
    ck_assert_int_eq(rh_is_harness_error(cJSON_GetArrayItem(cases, 1)), 0);
    char *xml = rh_junit(cases, 10.0);
    ck_assert_ptr_nonnull(strstr(xml, "tests=\"3\" failures=\"1\" errors=\"1\""));
    ck_assert_ptr_nonnull(
        strstr(xml, "<error message=\"worker died\" type=\"HarnessError\">rehearse worker 1"));
    ck_assert_ptr_nonnull(strstr(xml, "<failure message=\"invariant 1 violated\""));
    ck_assert_ptr_null(strstr(xml, "<failure message=\"error\""));
    free(xml);
    cJSON_Delete(cases);
}
END_TEST

static Suite *rehearse_run_suite(void)
{
    Suite *s = suite_create("dep_rehearse_run");
    struct {
        const char *name;
        const TTest *t;
    } cases[] = {
        {"tmp_dir", test_tmp_dir},           {"meta_round_trip", test_meta_round_trip},
        {"wait_child", test_wait_child},     {"find_greenroom", test_find_greenroom},
        {"clone_env", test_clone_env},       {"greenroom_gone", test_greenroom_gone},
        {"junit_errors", test_junit_errors},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, cases[i].t);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(rehearse_run_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
