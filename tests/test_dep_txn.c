/*
 * test_dep_txn.c - the transaction's building blocks (deployer/lock.c,
 * meta.c, txn_engine.c) against a real greenroom: the lease lock (create
 * with If-None-Match: *, a second holder refused and named, renew, release,
 * stale takeover, --force-unlock), conditional metadata writes (ETag
 * conflict reported with a diff, never overwritten), the step table, and
 * option parsing. The whole deploy/recover/rollback flows are in
 * tests/cli/test_deploy_*.sh.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dep.h"
#include "harness.h"
#include "testkit.h"
#include "txn.h"

static struct gr_server srv;

static void start_server(void)
{
    struct dep_err err;
    setenv("AWS_ACCESS_KEY_ID", "test", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "test", 1);
    setenv("STAGEHAND_MAX_ATTEMPTS", "2", 1);
    setenv("STAGEHAND_RETRY_BASE_MS", "5", 1);
    ck_assert_int_eq(gr_start(&srv, NULL), 0);
    dep_err_clear(&err);
    ck_assert_int_eq(dep_transport_init(srv.url, NULL, &err), 0);
    dep_out_init(DEP_OUT_PLAIN, "test");
    ck_assert_int_eq(txn_meta_bucket_ensure("us-east-1", "meta-b", &err), 0);
}

static void stop_server(void)
{
    dep_transport_cleanup();
    gr_stop(&srv);
}

START_TEST(test_lock_acquire_release)
{
    struct txn_lock a, b;
    struct dep_err err;
    dep_err_clear(&err);
    txn_lock_init(&a, "us-east-1", "meta-b", "locks/dev.json", 300);
    txn_lock_init(&b, "us-east-1", "meta-b", "locks/dev.json", 300);
    ck_assert_int_eq(txn_lock_acquire(&a, "txn-a", 0, 0, &err), 0);
    ck_assert(a.held);
    /* A second holder is refused, fast, and told who holds it. */
    ck_assert_int_eq(txn_lock_acquire(&b, "txn-b", 0, 0, &err), -1);
    ck_assert_str_eq(err.code, "StageLocked");
    ck_assert_ptr_nonnull(strstr(err.message, "txn-a"));
    ck_assert_ptr_nonnull(strstr(err.message, a.holder));
    /* Renew keeps it ours (If-Match our ETag). */
    ck_assert_int_eq(txn_lock_renew(&a, 1, &err), 0);
    ck_assert(a.held);
    ck_assert(a.etag[0] != 0);
    /* Someone taking it over makes our renewal fail with LockLost. */
    ck_assert_int_eq(txn_lock_acquire(&b, "txn-b", 1, 0, &err), 0);
    ck_assert_int_eq(txn_lock_renew(&a, 1, &err), -1);
    ck_assert_str_eq(err.code, "LockLost");
    txn_lock_release(&b);
    ck_assert_int_eq(txn_lock_acquire(&a, "txn-a", 0, 0, &err), 0);
    txn_lock_release(&a);
    ck_assert(!a.held);
    ck_assert_int_eq(txn_lock_acquire(&b, "txn-b", 0, 0, &err), 0);
    txn_lock_release(&b);
}
END_TEST

START_TEST(test_lock_stale_and_force)
{
    struct txn_lock l;
    struct dep_err err;
    char etag[128];
    dep_err_clear(&err);
    /* A lease whose expiry passed is taken over. */
    const char *stale =
        "{\"holder\":\"gone@elsewhere\",\"txn\":\"old\",\"host\":\"elsewhere\",\"pid\":1,"
        "\"start\":\"2020-01-01T00:00:00Z\",\"expiry\":\"2020-01-01T00:05:00Z\"}";
    ck_assert_int_eq(
        txn_meta_put("us-east-1", "meta-b", "locks/stale.json", stale, "", NULL, etag, &err), 0);
    txn_lock_init(&l, "us-east-1", "meta-b", "locks/stale.json", 300);
    ck_assert_int_eq(txn_lock_acquire(&l, "txn-new", 0, 0, &err), 0);
    cJSON *lease = NULL;
    ck_assert_int_eq(txn_lock_peek(&l, &lease, etag, &err), 0);
    ck_assert_str_eq(txn_jstr(lease, "txn"), "txn-new");
    cJSON_Delete(lease);
    txn_lock_release(&l);
    /* A live lease (far expiry, another host) needs --force-unlock. */
    const char *live =
        "{\"holder\":\"ci@elsewhere\",\"txn\":\"live\",\"host\":\"elsewhere\",\"pid\":1,"
        "\"start\":\"2020-01-01T00:00:00Z\",\"expiry\":\"2099-01-01T00:00:00Z\"}";
    ck_assert_int_eq(
        txn_meta_put("us-east-1", "meta-b", "locks/live.json", live, "", NULL, etag, &err), 0);
    txn_lock_init(&l, "us-east-1", "meta-b", "locks/live.json", 300);
    ck_assert_int_eq(txn_lock_acquire(&l, "txn-x", 0, 0, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.message, "ci@elsewhere"));
    ck_assert_int_eq(txn_lock_acquire(&l, "txn-x", 1, 0, &err), 0);
    txn_lock_release(&l);
}
END_TEST

START_TEST(test_meta_conflict)
{
    struct dep_err err;
    char e1[128], e2[128];
    char *body = NULL;
    dep_err_clear(&err);
    ck_assert_int_eq(
        txn_meta_put("us-east-1", "meta-b", "vars/dev.json", "{\"a\":\"1\"}", "", NULL, e1, &err),
        0);
    /* Creating again (If-None-Match: *) is a conflict. */
    ck_assert_int_eq(
        txn_meta_put("us-east-1", "meta-b", "vars/dev.json", "{\"a\":\"9\"}", "", NULL, e2, &err),
        -1);
    ck_assert_str_eq(err.code, "MetaConflict");
    /* Someone else writes; our write with the old ETag is refused with a diff. */
    ck_assert_int_eq(txn_meta_put("us-east-1", "meta-b", "vars/dev.json",
                                  "{\"a\":\"1\",\"b\":\"x\"}", e1, NULL, e2, &err),
                     0);
    ck_assert_int_eq(txn_meta_put("us-east-1", "meta-b", "vars/dev.json", "{\"a\":\"2\"}", e1,
                                  "{\"a\":\"1\"}", NULL, &err),
                     -1);
    ck_assert_str_eq(err.code, "MetaConflict");
    ck_assert_ptr_nonnull(strstr(err.message, "+ b: \"x\""));
    /* Never overwritten. */
    ck_assert_int_eq(txn_meta_get("us-east-1", "meta-b", "vars/dev.json", &body, e1, &err), 0);
    ck_assert_str_eq(body, "{\"a\":\"1\",\"b\":\"x\"}");
    ck_assert_str_eq(e1, e2);
    free(body);
    /* Absent objects read as NULL, not as an error. */
    ck_assert_int_eq(txn_meta_get("us-east-1", "meta-b", "vars/none.json", &body, e1, &err), 0);
    ck_assert_ptr_null(body);
    ck_assert_str_eq(e1, "");
}
END_TEST

START_TEST(test_step_table)
{
    static const char *kinds[] = {"stack", "code",  "api",  "events", "endpoints",
                                  "alias", "stage", "meta", NULL};
    int commit_seen = 0;
    for (int i = 0; kinds[i]; i++) {
        const struct txn_step_kind *k = txn_step_find(kinds[i]);
        ck_assert_ptr_nonnull(k);
        ck_assert_ptr_nonnull(k->apply);
        ck_assert_ptr_nonnull(k->undo);
        /* prepare rows all come before the commit rows */
        if (k->phase == TXN_COMMIT) {
            commit_seen = 1;
        } else {
            ck_assert(!commit_seen);
        }
    }
    ck_assert_ptr_null(txn_step_find("nope"));
}
END_TEST

START_TEST(test_options)
{
    const char *rest[] = {"--force-unlock", "--kinds", "--only=7", "--flow"};
    const char *names[] = {"error,kill", "v05"};
    struct dep_opts o;
    struct dep_ctx c;
    memset(&o, 0, sizeof(o));
    memset(&c, 0, sizeof(c));
    o.rest = rest;
    o.rest_n = 4;
    o.names = names;
    o.names_n = 2;
    c.opts = &o;
    ck_assert(txn_opt_flag(&c, "--force-unlock"));
    ck_assert(!txn_opt_flag(&c, "--keep-tmp"));
    ck_assert_str_eq(txn_opt_value(&c, "--kinds"), "error,kill");
    ck_assert_str_eq(txn_opt_value(&c, "--only"), "7");
    ck_assert_str_eq(txn_opt_value(&c, "--flow"), "v05");
    ck_assert_ptr_null(txn_opt_value(&c, "--seed"));
}
END_TEST

/* Two runs: the tcases against a greenroom (started per tcase), then the
 * ones that need none. */
int main(void)
{
    const struct kit_case server[] = {
        {"lock_acquire_release", test_lock_acquire_release, NULL},
        {"lock_stale_and_force", test_lock_stale_and_force, NULL},
        {"meta_conflict", test_meta_conflict, NULL},
    };
    const struct kit_case plain[] = {
        {"step_table", test_step_table, NULL},
        {"options", test_options, NULL},
    };
    int server_rc = KIT_RUN("dep_txn", server, start_server, stop_server, 60);
    int plain_rc = KIT_RUN("dep_txn_plain", plain, NULL, NULL, 60);
    return server_rc == EXIT_SUCCESS && plain_rc == EXIT_SUCCESS ? EXIT_SUCCESS : EXIT_FAILURE;
}
