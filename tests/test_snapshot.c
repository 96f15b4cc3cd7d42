/*
 * test_snapshot.c - named snapshots (emulator/snapshot.c) through a real
 * greenroom: save/restore equality (IAM roles and policies, S3 buckets and
 * objects), consistency of a save taken while a client writes, the journal
 * going on forward across a restore, list/show/delete, name validation,
 * --ephemeral, survival across a kill -9, and the restore time of a state of
 * a few hundred resources (printed, never asserted).
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "testkit.h"

static struct gr_server srv;
static int srv_up;

#define ASSUME_DOC                                                                                 \
    "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C"  \
    "%22Principal%22%3A%7B%22Service%22%3A%22lambda.amazonaws.com%22%7D%2C%22Action%22%3A"         \
    "%22sts%3AAssumeRole%22%7D%5D%7D"

static void start_server(void)
{
    ck_assert_msg(gr_start(&srv, NULL) == 0, "greenroom did not start");
    srv_up = 1;
}

static void start_ephemeral(void)
{
    const char *args[] = {"--ephemeral", NULL};
    ck_assert_msg(gr_start(&srv, args) == 0, "greenroom --ephemeral did not start");
    srv_up = 1;
}

static void stop_server(void)
{
    if (srv_up) {
        gr_stop(&srv);
        srv_up = 0;
    }
}

/* An IAM call from fmt with two %s: name and doc. */
static void iam_ok(const char *fmt, const char *name, const char *doc)
{
    char form[2048];
    struct gr_resp r;
    snprintf(form, sizeof(form), fmt, name, doc);
    long st = tk_query(&srv, "iam", form, &r);
    ck_assert_msg(st == 200, "%s: %ld %s", form, st, st >= 0 ? r.body : "");
    gr_resp_free(&r);
}

static void create_role(const char *name)
{
    iam_ok("Action=CreateRole&Version=2010-05-08&RoleName=%s&AssumeRolePolicyDocument=%s", name,
           ASSUME_DOC);
}

#define S3_POLICY                                                                                  \
    "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C"  \
    "%22Action%22%3A%22s3%3A*%22%2C%22Resource%22%3A%22*%22%7D%5D%7D"

static void put_policy(const char *role)
{
    iam_ok("Action=PutRolePolicy&Version=2010-05-08&RoleName=%s&PolicyName=inline"
           "&PolicyDocument=%s",
           role, S3_POLICY);
}

static void delete_policy(const char *role)
{
    iam_ok("Action=DeleteRolePolicy&Version=2010-05-08&RoleName=%s&PolicyName=inline%s", role, "");
}

static void delete_role(const char *name)
{
    iam_ok("Action=DeleteRole&Version=2010-05-08&RoleName=%s%s", name, "");
}

/* The <Roles>...</Roles> part of ListRoles (caller frees). */
static char *roles_listing(void)
{
    struct gr_resp r;
    ck_assert_int_eq(tk_query(&srv, "iam", "Action=ListRoles&Version=2010-05-08&MaxItems=1000", &r),
                     200);
    const char *a = strstr(r.body, "<Roles");
    const char *b = strstr(r.body, "</Roles>");
    char *out = NULL;
    if (a != NULL && b != NULL && b >= a) {
        out = strndup(a, (size_t)(b - a));
    } else {
        out = strdup(strstr(r.body, "<Roles/>") != NULL ? "<Roles/>" : r.body);
    }
    gr_resp_free(&r);
    return out;
}

/* The role's inline policy names (the <PolicyNames> part; caller frees). */
static char *policies_of(const char *role)
{
    char form[512];
    struct gr_resp r;
    snprintf(form, sizeof(form), "Action=ListRolePolicies&Version=2010-05-08&RoleName=%s", role);
    ck_assert_int_eq(tk_query(&srv, "iam", form, &r), 200);
    const char *a = strstr(r.body, "<PolicyNames");
    const char *b = strstr(r.body, "</ListRolePoliciesResult>");
    char *out = (a != NULL && b != NULL && b >= a) ? strndup(a, (size_t)(b - a)) : strdup("");
    gr_resp_free(&r);
    return out;
}

/* A control call with a JSON body; returns the parsed answer (caller
 * deletes) and asserts the status. */
static cJSON *ctl(const char *method, const char *path, const char *body, long want)
{
    struct gr_resp r;
    const char *h[] = {"Content-Type: application/json", NULL};
    ck_assert_int_eq(
        gr_request_unsigned(&srv, method, path, h, body, body != NULL ? strlen(body) : 0, &r), 0);
    ck_assert_msg(r.status == want, "%s %s: %ld (wanted %ld) %s", method, path, r.status, want,
                  r.body);
    cJSON *j = gr_resp_json(&r);
    gr_resp_free(&r);
    return j;
}

static void save(const char *name)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name);
    cJSON *j = ctl("POST", "/_greenroom/snapshots", body, 200);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "name")->valuestring, name);
    cJSON_Delete(j);
}

/* Restores; returns the server-measured time in ms. */
static double restore(const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "/_greenroom/snapshots/%s/restore", name);
    cJSON *j = ctl("POST", path, NULL, 200);
    double ms = cJSON_GetObjectItemCaseSensitive(j, "ms")->valuedouble;
    cJSON_Delete(j);
    return ms;
}

/* ------------------------------------------------------------------- tests */

START_TEST(test_save_restore_equality_iam)
{
    char name[32];
    for (int i = 0; i < 30; i++) {
        snprintf(name, sizeof(name), "role-%02d", i);
        create_role(name);
        if (i % 3 == 0) {
            put_policy(name);
        }
    }
    char *before = roles_listing();
    char *pol_before = policies_of("role-03");
    save("base");
    /* change everything a bit */
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "role-%02d", i * 6 + 1);
        delete_role(name);
        snprintf(name, sizeof(name), "new-%02d", i);
        create_role(name);
    }
    delete_policy("role-03");
    char *changed = roles_listing();
    ck_assert_str_ne(before, changed);
    free(changed);
    restore("base");
    char *after = roles_listing();
    ck_assert_str_eq(before, after);
    char *pol_after = policies_of("role-03");
    ck_assert_str_eq(pol_before, pol_after);
    free(after);
    free(pol_after);
    /* restoring twice is the same */
    create_role("extra");
    restore("base");
    after = roles_listing();
    ck_assert_str_eq(before, after);
    free(after);
    free(before);
    free(pol_before);
}
END_TEST

static long s3(const char *method, const char *path, const char *body, struct gr_resp *r)
{
    int rc = gr_request(&srv, "s3", method, path, NULL, body, body != NULL ? strlen(body) : 0, r);
    if (rc != 0) {
        gr_resp_free(r);
        return -1;
    }
    return r->status;
}

/* GET an object's body (caller frees), NULL when not 200. */
static char *s3_get(const char *path)
{
    struct gr_resp r;
    char *out = NULL;
    if (s3("GET", path, NULL, &r) == 200) {
        out = strdup(r.body);
    }
    if (r.body != NULL) {
        gr_resp_free(&r);
    }
    return out;
}

START_TEST(test_save_restore_equality_s3)
{
    struct gr_resp r;
    char path[64], body[64];
    if (!kit_served(&srv, "s3")) {
        return;
    }
    ck_assert_int_eq(s3("PUT", "/snap-bkt", NULL, &r), 200);
    gr_resp_free(&r);
    for (int i = 0; i < 10; i++) {
        snprintf(path, sizeof(path), "/snap-bkt/k%d", i);
        snprintf(body, sizeof(body), "v1-%d", i);
        ck_assert_int_eq(s3("PUT", path, body, &r), 200);
        gr_resp_free(&r);
    }
    ck_assert_int_eq(s3("GET", "/", NULL, &r), 200);
    char *buckets_before = strdup(strstr(r.body, "<Buckets"));
    gr_resp_free(&r);
    save("objects");
    cJSON *desc = ctl("GET", "/_greenroom/snapshots/objects", NULL, 200);
    ck_assert_int_ge(cJSON_GetObjectItemCaseSensitive(desc, "objects")->valueint, 10);
    cJSON_Delete(desc);
    /* overwrite, delete, add, new bucket */
    ck_assert_int_eq(s3("PUT", "/snap-bkt/k0", "v2-0", &r), 200);
    gr_resp_free(&r);
    ck_assert_int_eq(s3("DELETE", "/snap-bkt/k1", NULL, &r), 204);
    gr_resp_free(&r);
    ck_assert_int_eq(s3("PUT", "/snap-bkt/k99", "new", &r), 200);
    gr_resp_free(&r);
    ck_assert_int_eq(s3("PUT", "/snap-bkt-2", NULL, &r), 200);
    gr_resp_free(&r);
    restore("objects");
    for (int i = 0; i < 10; i++) {
        snprintf(path, sizeof(path), "/snap-bkt/k%d", i);
        snprintf(body, sizeof(body), "v1-%d", i);
        char *got = s3_get(path);
        ck_assert_msg(got != NULL, "%s missing after restore", path);
        ck_assert_str_eq(got, body);
        free(got);
    }
    char *gone = s3_get("/snap-bkt/k99");
    ck_assert_ptr_null(gone);
    ck_assert_int_eq(s3("GET", "/", NULL, &r), 200);
    ck_assert_str_eq(strstr(r.body, "<Buckets"), buckets_before);
    gr_resp_free(&r);
    free(buckets_before);
}
END_TEST

/* One client writing roles w-0000, w-0001, ... in order. */
static atomic_int writer_stop;
static atomic_int writer_count;

static void *writer(void *arg)
{
    (void)arg;
    char name[32];
    while (!writer_stop && writer_count < 5000) {
        snprintf(name, sizeof(name), "w-%04d", writer_count);
        create_role(name);
        writer_count++;
    }
    return NULL;
}

START_TEST(test_save_while_writing)
{
    pthread_t th;
    writer_stop = 0;
    writer_count = 0;
    ck_assert_int_eq(pthread_create(&th, NULL, writer, NULL), 0);
    while (writer_count < 20) {
        usleep(1000);
    }
    save("moving");
    int at_save = writer_count;
    while (writer_count < at_save + 20) {
        usleep(1000);
    }
    writer_stop = 1;
    pthread_join(th, NULL);
    restore("moving");
    /* the snapshot holds exactly w-0000..w-(k-1) for some k: no gaps */
    char *list = roles_listing();
    int k = 0;
    char name[64];
    for (;;) {
        snprintf(name, sizeof(name), "<RoleName>w-%04d</RoleName>", k);
        if (strstr(list, name) == NULL) {
            break;
        }
        k++;
    }
    ck_assert_int_ge(k, 20);
    ck_assert_int_le(k, at_save + 1);
    for (int i = k; i < writer_count; i++) {
        snprintf(name, sizeof(name), "<RoleName>w-%04d</RoleName>", i);
        ck_assert_msg(strstr(list, name) == NULL, "gap: %s present without w-%04d", name, k);
    }
    free(list);
}
END_TEST

START_TEST(test_journal_goes_forward)
{
    create_role("j1");
    save("j");
    create_role("j2");
    cJSON *j = ctl("GET", "/_greenroom/calls", NULL, 200);
    double next_before = cJSON_GetObjectItemCaseSensitive(j, "next")->valuedouble;
    cJSON_Delete(j);
    restore("j");
    create_role("j3");
    j = ctl("GET", "/_greenroom/calls", NULL, 200);
    double next_after = cJSON_GetObjectItemCaseSensitive(j, "next")->valuedouble;
    /* the calls made after the save are still in the journal */
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    ck_assert_msg(next_after > next_before, "journal went back: %g -> %g", next_before, next_after);
    ck_assert_ptr_nonnull(strstr(text, "j2"));
    ck_assert_ptr_nonnull(strstr(text, "j3"));
    free(text);
}
END_TEST

START_TEST(test_list_show_delete)
{
    create_role("a");
    save("first");
    create_role("b");
    save("second");
    save("second"); /* same name: replaced */
    cJSON *j = ctl("GET", "/_greenroom/snapshots", NULL, 200);
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "snapshots");
    ck_assert_int_eq(cJSON_GetArraySize(arr), 2);
    const cJSON *s0 = cJSON_GetArrayItem(arr, 0);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(s0, "name")->valuestring, "first");
    ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(s0, "time")));
    ck_assert(cJSON_GetObjectItemCaseSensitive(s0, "size")->valuedouble > 0);
    cJSON_Delete(j);
    j = ctl("GET", "/_greenroom/snapshots/second", NULL, 200);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "name")->valuestring, "second");
    cJSON_Delete(j);
    cJSON_Delete(ctl("DELETE", "/_greenroom/snapshots/first", NULL, 200));
    cJSON_Delete(ctl("DELETE", "/_greenroom/snapshots/first", NULL, 404));
    cJSON_Delete(ctl("POST", "/_greenroom/snapshots/first/restore", NULL, 404));
    cJSON_Delete(ctl("GET", "/_greenroom/snapshots/first", NULL, 404));
    j = ctl("GET", "/_greenroom/snapshots", NULL, 200);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "snapshots")), 1);
    cJSON_Delete(j);
    /* names: no path tricks */
    cJSON_Delete(ctl("POST", "/_greenroom/snapshots", "{\"name\":\"../etc\"}", 400));
    cJSON_Delete(ctl("POST", "/_greenroom/snapshots", "{\"name\":\".hidden\"}", 400));
    cJSON_Delete(ctl("POST", "/_greenroom/snapshots", "{\"name\":\"a/b\"}", 400));
    cJSON_Delete(ctl("POST", "/_greenroom/snapshots", "{\"name\":\"\"}", 400));
    cJSON_Delete(ctl("POST", "/_greenroom/snapshots", "{\"nom\":\"x\"}", 400));
    cJSON_Delete(ctl("POST", "/_greenroom/snapshots", "not json", 400));
    cJSON_Delete(ctl("POST", "/_greenroom/snapshots/..%2Fx/restore", NULL, 400));
    cJSON_Delete(ctl("DELETE", "/_greenroom/snapshots/.tmp-x", NULL, 400));
    cJSON_Delete(ctl("PUT", "/_greenroom/snapshots/second/restore/more", NULL, 404));
}
END_TEST

START_TEST(test_ephemeral)
{
    create_role("eph");
    save("e");
    delete_role("eph");
    restore("e");
    char *list = roles_listing();
    ck_assert_ptr_nonnull(strstr(list, "<RoleName>eph</RoleName>"));
    free(list);
}
END_TEST

START_TEST(test_survives_kill9)
{
    create_role("durable");
    save("kept");
    delete_role("durable");
    gr_kill9(&srv);
    ck_assert_int_eq(gr_restart(&srv, NULL), 0);
    cJSON *j = ctl("GET", "/_greenroom/snapshots/kept", NULL, 200);
    cJSON_Delete(j);
    restore("kept");
    char *list = roles_listing();
    ck_assert_ptr_nonnull(strstr(list, "<RoleName>durable</RoleName>"));
    free(list);
}
END_TEST

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

START_TEST(test_restore_time)
{
    char name[32];
    struct gr_resp r;
    /* a few hundred resources: 300 roles, 100 policies (and 100 objects when S3 is built) */
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "bench-%03d", i);
        create_role(name);
        if (i % 3 == 0) {
            put_policy(name);
        }
    }
    int have_s3 = kit_served(&srv, "s3");
    if (have_s3) {
        ck_assert_int_eq(s3("PUT", "/bench-bkt", NULL, &r), 200);
        gr_resp_free(&r);
    }
    for (int i = 0; have_s3 && i < 100; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/bench-bkt/obj-%03d", i);
        ck_assert_int_eq(s3("PUT", path, "some object body", &r), 200);
        gr_resp_free(&r);
    }
    char *before = roles_listing();
    save("bench");
    double ms[20];
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof(name), "noise-%02d", i);
        create_role(name);
        ms[i] = restore("bench");
    }
    qsort(ms, 20, sizeof(ms[0]), cmp_double);
    char *after = roles_listing();
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
    fprintf(stderr, "snapshot restore of 300 roles + 100 policies%s: median %.2f ms, max %.2f ms\n",
            have_s3 ? " + 100 objects" : "", ms[10], ms[19]);
}
END_TEST

static Suite *snapshot_suite(void)
{
    Suite *s = suite_create("snapshot");
    struct {
        const char *name;
        const TTest *t;
        void (*setup)(void);
    } cases[] = {
        {"restore_iam", test_save_restore_equality_iam, start_server},
        {"restore_s3", test_save_restore_equality_s3, start_server},
        {"save_while_writing", test_save_while_writing, start_server},
        {"journal_forward", test_journal_goes_forward, start_server},
        {"list_show_delete", test_list_show_delete, start_server},
        {"ephemeral", test_ephemeral, start_ephemeral},
        {"kill9", test_survives_kill9, start_server},
        {"restore_time", test_restore_time, start_server},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_add_checked_fixture(tc, cases[i].setup, stop_server);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, cases[i].t);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(snapshot_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
