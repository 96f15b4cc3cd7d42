/*
 * testkit.h - what the service suites (test_sns.c, test_sqs.c,
 * test_events.c, test_iam.c, test_vtl.c, and the KIT_RUN or kit_served
 * users among the others) would otherwise each write again: the Check
 * runner of one tcase per operation, a greenroom per tcase with a temp dir
 * for output files, whether a service is built in, signed query and JSON
 * calls that assert their status, and SQS queues to deliver to. Builds on
 * emulator/events_testkit.h (the tk_ helpers: signing, encoding, recorder
 * functions, the journal).
 *
 * Header-only on purpose: tests/meson.build links each test_*.c with the
 * harness library alone, so every helper is static (and may go unused in a
 * given binary). Answers returned to the caller are the caller's to free.
 */
#ifndef TESTKIT_H
#define TESTKIT_H

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "events_testkit.h"
#include "harness.h"

/* One tcase: the operation it tests. */
struct kit_case {
    const char *name;
    const TTest *fn;
    void (*setup)(void); /* NULL: the suite's */
};

/* Runs suite `name` with one tcase per case, each with the checked fixture
 * setup/teardown (a case may bring its own setup) and a timeout of
 * `timeout` seconds (0: Check's default). Returns the process exit status. */
TK_FN int kit_run(const char *name, const struct kit_case *cases, size_t n, void (*setup)(void),
                  void (*teardown)(void), int timeout)
{
    Suite *s = suite_create(name);
    for (size_t i = 0; i < n; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_add_checked_fixture(tc, cases[i].setup ? cases[i].setup : setup, teardown);
        if (timeout > 0) {
            tcase_set_timeout(tc, timeout);
        }
        tcase_add_test(tc, cases[i].fn);
        suite_add_tcase(s, tc);
    }
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#define KIT_RUN(name, cases, setup, teardown, timeout)                                             \
    kit_run(name, cases, sizeof(cases) / sizeof(cases[0]), setup, teardown, timeout)

/* Starts a greenroom (credentials test/test, us-east-1) into srv and makes
 * a temp dir for output files into tmp. */
TK_FN void kit_start(struct gr_server *srv, char *tmp, size_t n)
{
    gr_set_credentials("test", "test", "us-east-1");
    ck_assert_int_eq(gr_start(srv, NULL), 0);
    tk_tmpdir(tmp, n);
}

/* Stops the greenroom and removes the temp dir. */
TK_FN void kit_stop(struct gr_server *srv, const char *tmp)
{
    gr_stop(srv);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    gr_sh(NULL, cmd, NULL);
}

/* Is service svc built into the greenroom at srv (GET /_greenroom/health)?
 * When not, says so on stderr: a test of a service still being written
 * elsewhere in the tree skips that part. */
TK_FN int kit_served(struct gr_server *srv, const char *svc)
{
    struct gr_resp r;
    int yes = 0;
    if (gr_request_unsigned(srv, "GET", "/_greenroom/health", NULL, NULL, 0, &r) == 0) {
        cJSON *j = gr_resp_json(&r);
        yes = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "services"),
                                               svc) != NULL;
        cJSON_Delete(j);
        gr_resp_free(&r);
    }
    if (!yes) {
        fprintf(stderr, "%s is not built in: its part of this test did not run\n", svc);
    }
    return yes;
}

/* A query call to service with the form body printf-formatted from fmt and
 * ap, asserting status want and, unless needle is NULL, an answer holding
 * needle. Returns the answer (caller frees). */
TK_FN char *kit_vquery(struct gr_server *srv, const char *service, long want, const char *needle,
                       const char *fmt, va_list ap)
{
    char body[8192];
    vsnprintf(body, sizeof(body), fmt, ap);
    struct gr_resp r;
    long st = tk_query(srv, service, body, &r);
    const char *got = r.body ? r.body : "";
    if (st != want || (needle && strstr(got, needle) == NULL)) {
        fprintf(stderr, "%s %s -> %ld %s\n", service, body, st, got);
    }
    ck_assert_int_eq(st, want);
    if (needle) {
        ck_assert_ptr_nonnull(strstr(got, needle));
    }
    char *out = strdup(got);
    gr_resp_free(&r);
    return out;
}

/* kit_vquery with the arguments given here. */
TK_FN char *kit_query(struct gr_server *srv, const char *service, long want, const char *needle,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
TK_FN char *kit_query(struct gr_server *srv, const char *service, long want, const char *needle,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = kit_vquery(srv, service, want, needle, fmt, ap);
    va_end(ap);
    return out;
}

/* A JSON-protocol call (X-Amz-Target target, Content-Type ctype) asserting
 * status want. Returns the parsed answer (caller deletes) and, when hdr_out
 * is not NULL, the x-amzn-query-error header ("" when absent). */
TK_FN cJSON *kit_json(struct gr_server *srv, const char *service, const char *target,
                      const char *ctype, long want, const char *body, char *hdr_out, size_t hlen)
{
    struct gr_resp r;
    long st = tk_target(srv, service, target, ctype, body, &r);
    if (st != want) {
        fprintf(stderr, "%s %s %s -> %ld %s\n", service, target, body, st, r.body ? r.body : "");
    }
    ck_assert_int_eq(st, want);
    if (hdr_out && gr_resp_header(&r, "x-amzn-query-error", hdr_out, hlen) == NULL) {
        hdr_out[0] = 0;
    }
    cJSON *j = gr_resp_json(&r);
    gr_resp_free(&r);
    ck_assert_ptr_nonnull(j);
    return j;
}

/* CreateQueue `name` (query protocol), asserting 200. */
TK_FN void kit_make_queue(struct gr_server *srv, const char *name)
{
    char body[256];
    snprintf(body, sizeof(body), "Action=CreateQueue&QueueName=%s", name);
    struct gr_resp r;
    ck_assert_int_eq(tk_query(srv, "sqs", body, &r), 200);
    gr_resp_free(&r);
}

/* Receives up to 10 messages from queue (long poll up to `wait` s, every
 * message attribute) and returns the Messages array, [] when none (caller
 * deletes). */
TK_FN cJSON *kit_receive(struct gr_server *srv, const char *queue, int wait)
{
    char body[512];
    snprintf(body, sizeof(body),
             "{\"QueueUrl\":\"%s/000000000000/%s\",\"MaxNumberOfMessages\":10,"
             "\"WaitTimeSeconds\":%d,\"MessageAttributeNames\":[\"All\"]}",
             srv->url, queue, wait);
    cJSON *j = kit_json(srv, "sqs", "AmazonSQS.ReceiveMessage", "application/x-amz-json-1.0", 200,
                        body, NULL, 0);
    cJSON *msgs = cJSON_DetachItemFromObjectCaseSensitive(j, "Messages");
    cJSON_Delete(j);
    return msgs ? msgs : cJSON_CreateArray();
}

#endif
