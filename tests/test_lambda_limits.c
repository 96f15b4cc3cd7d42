/*
 * test_lambda_limits.c - Lambda's limits against a real greenroom: keyset
 * paging of the List* operations (ListAliases, ListEventSourceMappings,
 * ListFunctionEventInvokeConfigs: each item once while items are added and
 * removed between pages, MaxItems bounds, bad markers), MemorySize
 * enforcement (python and node functions past their memory end with
 * Runtime.OutOfMemory "signal: killed", within it they answer), and the
 * asynchronous invocation queue (a burst of Event invokes served by a
 * bounded worker pool, none lost; queued events survive a restart).
 * One tcase per behaviour; every validation has a negative case.
 */
#include <check.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zip.h>

#include "harness.h"

#include "testkit.h" /* before lambda_testkit.h: its srv is the suite's */
#include "lambda_testkit.h"

static void publish(const char *fn)
{
    char path[200];
    snprintf(path, sizeof(path), "/2015-03-31/functions/%s/versions", fn);
    struct gr_resp r = lam("POST", path, "{}");
    ck_assert_int_eq(r.status, 201);
    gr_resp_free(&r);
}

static int log_count(const char *fn, const char *needle);

/* ----------------------------------------------------------- paging */

/* Names seen while paging, with a count each. */
struct seen {
    char names[64][64];
    int count[64];
    int n;
};

static void seen_add(struct seen *s, const char *name)
{
    for (int i = 0; i < s->n; i++) {
        if (strcmp(s->names[i], name) == 0) {
            s->count[i]++;
            return;
        }
    }
    ck_assert_int_lt(s->n, 64);
    snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
    s->count[s->n++] = 1;
}

static int seen_count(const struct seen *s, const char *name)
{
    for (int i = 0; i < s->n; i++) {
        if (strcmp(s->names[i], name) == 0) {
            return s->count[i];
        }
    }
    return 0;
}

/* Pages through path (which has a '?') two items at a time, calling
 * between(page) after each page; items are named by member of array. */
static void page_all(const char *path, const char *array, const char *member, struct seen *s,
                     void (*between)(int page))
{
    char mk[512] = "";
    for (int page = 0; page < 40; page++) {
        char p[1200];
        size_t pl = strlen(path);
        /* query in canonical (sorted) order: libcurl's SigV4 signs it as is */
        snprintf(p, sizeof(p), "%s%s%s%s%sMaxItems=2", path, path[pl - 1] == '?' ? "" : "&",
                 mk[0] ? "Marker=" : "", mk, mk[0] ? "&" : "");
        struct gr_resp r = lam("GET", p, NULL);
        if (r.status != 200) {
            fprintf(stderr, "%s: %ld %s\n", p, r.status, r.body);
        }
        ck_assert_int_eq(r.status, 200);
        cJSON *j = gr_resp_json(&r);
        const cJSON *arr = cJSON_GetObjectItem(j, array);
        ck_assert_int_le(cJSON_GetArraySize(arr), 2);
        const cJSON *it = NULL;
        cJSON_ArrayForEach(it, arr)
        {
            const cJSON *v = cJSON_GetObjectItem(it, member);
            ck_assert(cJSON_IsString(v));
            seen_add(s, v->valuestring);
        }
        const cJSON *nm = cJSON_GetObjectItem(j, "NextMarker");
        int has_next = cJSON_IsString(nm);
        /* opaque: not a number (an offset) */
        if (has_next) {
            char *end = NULL;
            strtol(nm->valuestring, &end, 10);
            ck_assert(end == nm->valuestring || *end != 0);
            snprintf(mk, sizeof(mk), "%s", nm->valuestring);
        }
        cJSON_Delete(j);
        gr_resp_free(&r);
        if (!has_next) {
            return;
        }
        if (between != NULL) {
            between(page);
        }
    }
    ck_abort_msg("paging did not end");
}

static void alias_make(const char *name)
{
    char body[128];
    snprintf(body, sizeof(body), "{\"Name\":\"%s\",\"FunctionVersion\":\"1\"}", name);
    struct gr_resp r = lam("POST", "/2015-03-31/functions/pg/aliases", body);
    ck_assert_int_eq(r.status, 201);
    gr_resp_free(&r);
}

/* After each page: one alias before the cursor, one after, and the first
 * alias already seen goes away. */
static void alias_churn(int page)
{
    char name[32];
    snprintf(name, sizeof(name), "a0-new%d", page);
    alias_make(name);
    snprintf(name, sizeof(name), "zz-new%d", page);
    alias_make(name);
    if (page == 0) {
        struct gr_resp r = lam("DELETE", "/2015-03-31/functions/pg/aliases/b01", NULL);
        ck_assert_int_eq(r.status, 204);
        gr_resp_free(&r);
    }
}

START_TEST(test_list_aliases_paging)
{
    create_ok("pg", "nodejs20.x", "index.handler", "node", "");
    publish("pg");
    char name[32];
    for (int i = 1; i <= 9; i++) {
        snprintf(name, sizeof(name), "b%02d", i);
        alias_make(name);
    }
    struct seen s = {0};
    page_all("/2015-03-31/functions/pg/aliases?", "Aliases", "Name", &s, alias_churn);
    for (int i = 1; i <= 9; i++) {
        snprintf(name, sizeof(name), "b%02d", i);
        ck_assert_msg(seen_count(&s, name) == 1, "%s seen %d times", name, seen_count(&s, name));
    }
    for (int i = 0; i < s.n; i++) {
        ck_assert_int_eq(s.count[i], 1);
        ck_assert(strncmp(s.names[i], "a0-new", 6) != 0); /* behind the cursor */
    }
    ck_assert_int_gt(seen_count(&s, "zz-new0"), 0); /* ahead of it */

    /* bad markers and MaxItems bounds */
    struct gr_resp r = lam("GET", "/2015-03-31/functions/pg/aliases?Marker=2", NULL);
    expect_error(&r, 400, "InvalidParameterValueException", "Invalid marker");
    r = lam("GET", "/2015-03-31/functions/pg/aliases?Marker=%21%21", NULL);
    expect_error(&r, 400, "InvalidParameterValueException", "Invalid marker");
    r = lam("GET", "/2015-03-31/functions/pg/aliases?MaxItems=0", NULL);
    expect_error(&r, 400, "ValidationException",
                 "Value '0' at 'maxItems' failed to satisfy constraint: Member must have value "
                 "greater than or equal to 1");
    r = lam("GET", "/2015-03-31/functions/pg/aliases?MaxItems=10001", NULL);
    expect_error(&r, 400, "ValidationException", "less than or equal to 10000");
    ck_assert_int_eq(lam_status("GET", "/2015-03-31/functions/pg/aliases?MaxItems=10000", NULL),
                     200);
    /* a marker of another function's aliases is not one of this list */
    create_ok("pg2", "nodejs20.x", "index.handler", "node", "");
    r = lam("GET", "/2015-03-31/functions/pg/aliases?MaxItems=1", NULL);
    cJSON *j = gr_resp_json(&r);
    char path[600];
    snprintf(path, sizeof(path), "/2015-03-31/functions/pg2/aliases?Marker=%s",
             cJSON_GetObjectItem(j, "NextMarker")->valuestring);
    cJSON_Delete(j);
    gr_resp_free(&r);
    r = lam("GET", path, NULL);
    expect_error(&r, 400, "InvalidParameterValueException", "Invalid marker");
}
END_TEST

static char esm_uuids[64][40];
static int esm_n;

static void esm_make(const char *queue)
{
    char body[300];
    snprintf(body, sizeof(body),
             "{\"EventSourceArn\":\"arn:aws:sqs:us-east-1:000000000000:%s\",\"FunctionName\":"
             "\"pg\"}",
             queue);
    struct gr_resp r = lam("POST", "/2015-03-31/event-source-mappings", body);
    ck_assert_int_eq(r.status, 202);
    cJSON *j = gr_resp_json(&r);
    ck_assert_int_lt(esm_n, 64);
    snprintf(esm_uuids[esm_n++], sizeof(esm_uuids[0]), "%s",
             cJSON_GetObjectItem(j, "UUID")->valuestring);
    cJSON_Delete(j);
    gr_resp_free(&r);
}

/* After each page: two new mappings, an update of every original one (a
 * rewrite of its row) and the deletion of a mapping. */
static void esm_churn(int page)
{
    char q[32];
    snprintf(q, sizeof(q), "new%d", page);
    esm_make(q);
    esm_make(q);
    for (int i = 0; i < 7; i++) {
        char path[200];
        snprintf(path, sizeof(path), "/2015-03-31/event-source-mappings/%s", esm_uuids[i]);
        struct gr_resp r = lam("PUT", path, "{\"BatchSize\":3}");
        ck_assert_int_eq(r.status, 202);
        gr_resp_free(&r);
    }
    if (page == 1) {
        char path[200];
        snprintf(path, sizeof(path), "/2015-03-31/event-source-mappings/%s", esm_uuids[8]);
        struct gr_resp r = lam("DELETE", path, NULL);
        ck_assert_int_eq(r.status, 202);
        gr_resp_free(&r);
    }
}

START_TEST(test_list_event_source_mappings_paging)
{
    create_ok("pg", "nodejs20.x", "index.handler", "node", "");
    esm_n = 0;
    for (int i = 0; i < 7; i++) {
        esm_make("orig");
    }
    struct seen s = {0};
    page_all("/2015-03-31/event-source-mappings?FunctionName=pg", "EventSourceMappings", "UUID", &s,
             esm_churn);
    for (int i = 0; i < 7; i++) {
        ck_assert_msg(seen_count(&s, esm_uuids[i]) == 1, "%s seen %d times", esm_uuids[i],
                      seen_count(&s, esm_uuids[i]));
    }
    for (int i = 0; i < s.n; i++) {
        ck_assert_int_eq(s.count[i], 1);
    }
    struct gr_resp r = lam("GET", "/2015-03-31/event-source-mappings?Marker=100", NULL);
    expect_error(&r, 400, "InvalidParameterValueException", "Invalid marker");
    r = lam("GET", "/2015-03-31/event-source-mappings?MaxItems=10001", NULL);
    expect_error(&r, 400, "ValidationException", "less than or equal to 10000");
    /* a marker of ListAliases is not one of this list */
    publish("pg");
    alias_make("x1");
    alias_make("x2");
    r = lam("GET", "/2015-03-31/functions/pg/aliases?MaxItems=1", NULL);
    cJSON *j = gr_resp_json(&r);
    char path[600];
    snprintf(path, sizeof(path), "/2015-03-31/event-source-mappings?Marker=%s",
             cJSON_GetObjectItem(j, "NextMarker")->valuestring);
    cJSON_Delete(j);
    gr_resp_free(&r);
    r = lam("GET", path, NULL);
    expect_error(&r, 400, "InvalidParameterValueException", "Invalid marker");
}
END_TEST

static void eic_put(const char *qual)
{
    char path[200];
    snprintf(path, sizeof(path), "/2019-09-25/functions/pg/event-invoke-config?Qualifier=%s", qual);
    struct gr_resp r = lam("PUT", path, "{\"MaximumRetryAttempts\":1}");
    if (r.status != 200) {
        fprintf(stderr, "eic %s: %ld %s\n", qual, r.status, r.body);
    }
    ck_assert_int_eq(r.status, 200);
    gr_resp_free(&r);
}

static void eic_churn(int page)
{
    char name[32];
    snprintf(name, sizeof(name), "a0new%d", page);
    alias_make(name);
    eic_put(name);
    snprintf(name, sizeof(name), "zznew%d", page);
    alias_make(name);
    eic_put(name);
}

START_TEST(test_list_function_event_invoke_configs_paging)
{
    create_ok("pg", "nodejs20.x", "index.handler", "node", "");
    publish("pg");
    char name[32];
    for (int i = 1; i <= 5; i++) {
        snprintf(name, sizeof(name), "b%02d", i);
        alias_make(name);
        eic_put(name);
    }
    struct seen s = {0};
    page_all("/2019-09-25/functions/pg/event-invoke-config/list?", "FunctionEventInvokeConfigs",
             "FunctionArn", &s, eic_churn);
    for (int i = 1; i <= 5; i++) {
        char arn[200];
        snprintf(arn, sizeof(arn), "arn:aws:lambda:us-east-1:000000000000:function:pg:b%02d", i);
        ck_assert_int_eq(seen_count(&s, arn), 1);
    }
    for (int i = 0; i < s.n; i++) {
        ck_assert_int_eq(s.count[i], 1);
        ck_assert_ptr_null(strstr(s.names[i], "a0new"));
    }
    struct gr_resp r =
        lam("GET", "/2019-09-25/functions/pg/event-invoke-config/list?MaxItems=51", NULL);
    expect_error(&r, 400, "ValidationException", "less than or equal to 50");
    r = lam("GET", "/2019-09-25/functions/pg/event-invoke-config/list?Marker=5", NULL);
    expect_error(&r, 400, "InvalidParameterValueException", "Invalid marker");
}
END_TEST

/* ------------------------------------------------------------ memory */

/* Invokes fn with {"mb":mb}: returns the response (caller frees). */
static struct gr_resp invoke_alloc(const char *fn, int mb)
{
    char payload[64];
    snprintf(payload, sizeof(payload), "{\"mb\":%d}", mb);
    return invoke(fn, NULL, payload, NULL);
}

/* Asserts the out-of-memory answer of Lambda and frees r. */
static void expect_oom(struct gr_resp *r)
{
    char buf[64];
    ck_assert_int_eq(r->status, 200);
    ck_assert_ptr_nonnull(gr_resp_header(r, "X-Amz-Function-Error", buf, sizeof(buf)));
    ck_assert_str_eq(buf, "Unhandled");
    cJSON *j = gr_resp_json(r);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "errorType")->valuestring, "Runtime.OutOfMemory");
    const char *msg = cJSON_GetObjectItem(j, "errorMessage")->valuestring;
    ck_assert_msg(strncmp(msg, "RequestId: ", 11) == 0, "%s", msg);
    ck_assert_ptr_nonnull(strstr(msg, " Error: Runtime exited with error: signal: killed"));
    cJSON_Delete(j);
    gr_resp_free(r);
}

static void expect_allocated(struct gr_resp *r, int mb)
{
    char buf[64];
    if (r->status != 200 || gr_resp_header(r, "X-Amz-Function-Error", buf, sizeof(buf))) {
        fprintf(stderr, "alloc: %ld %s\n", r->status, r->body);
    }
    ck_assert_int_eq(r->status, 200);
    ck_assert_ptr_null(gr_resp_header(r, "X-Amz-Function-Error", buf, sizeof(buf)));
    cJSON *j = gr_resp_json(r);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "allocated")->valueint, mb);
    cJSON_Delete(j);
    gr_resp_free(r);
}

START_TEST(test_memory_python)
{
    create_ok("mp", "python3.12", "app.alloc", "python", ",\"MemorySize\":128,\"Timeout\":30");
    struct gr_resp r = invoke_alloc("mp", 48);
    expect_allocated(&r, 48);
    r = invoke_alloc("mp", 400);
    expect_oom(&r);
    /* the log says it as Lambda does, after the REPORT line */
    ck_assert_int_eq(log_count("mp", " Error: Runtime exited with error: signal: killed\n"
                                     "Runtime.OutOfMemory\n"),
                     1);
    /* the next invocation gets a fresh runtime and works */
    r = invoke_alloc("mp", 16);
    expect_allocated(&r, 16);
    /* more memory: the same allocation passes */
    create_ok("mp2", "python3.12", "app.alloc", "python", ",\"MemorySize\":512,\"Timeout\":30");
    r = invoke_alloc("mp2", 200);
    expect_allocated(&r, 200);
    /* a child process's memory counts too */
    create_ok("mc", "python3.12", "app.child_alloc", "python",
              ",\"MemorySize\":128,\"Timeout\":30");
    r = invoke_alloc("mc", 300);
    expect_oom(&r);
    r = invoke_alloc("mc", 8);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"child\": \"done\""));
    gr_resp_free(&r);
    /* the REPORT line says how much the runtime used */
    char path[600];
    snprintf(path, sizeof(path), "%s/lambda/logs/000000000000-us-east-1-mp2.log", srv.state_dir);
    char *log = gr_read_file(path, NULL);
    ck_assert_ptr_nonnull(log);
    const char *used = strstr(log, "Max Memory Used: ");
    ck_assert_ptr_nonnull(used);
    ck_assert_int_ge(strtol(used + 17, NULL, 10), 200);
    free(log);
}
END_TEST

START_TEST(test_memory_node)
{
    create_ok("mn", "nodejs20.x", "index.alloc", "node", ",\"MemorySize\":128,\"Timeout\":30");
    struct gr_resp r = invoke_alloc("mn", 32);
    expect_allocated(&r, 32);
    r = invoke_alloc("mn", 400);
    expect_oom(&r);
    r = invoke_alloc("mn", 16);
    expect_allocated(&r, 16);
    create_ok("mn2", "nodejs20.x", "index.alloc", "node", ",\"MemorySize\":1024,\"Timeout\":30");
    r = invoke_alloc("mn2", 400);
    expect_allocated(&r, 400);
    /* the JS heap past MemorySize: killed the same way */
    create_ok("mh", "nodejs20.x", "index.hog", "node", ",\"MemorySize\":128,\"Timeout\":30");
    r = invoke("mh", NULL, "{}", NULL);
    expect_oom(&r);
}
END_TEST

/* A peak between two samples of the memory watch (here: no sampling at
 * all) is still caught, at the answer, from the kernel's high-water mark:
 * the outcome cannot depend on how busy the machine is. */
START_TEST(test_memory_peak_between_samples)
{
    gr_stop(&srv);
    setenv("GREENROOM_LAMBDA_MEMORY_POLL_MS", "600000", 1);
    ck_assert_int_eq(gr_start(&srv, NULL), 0);
    unsetenv("GREENROOM_LAMBDA_MEMORY_POLL_MS");
    create_role();
    create_ok("pk", "python3.12", "app.alloc", "python", ",\"MemorySize\":128,\"Timeout\":30");
    struct gr_resp r = invoke_alloc("pk", 32);
    expect_allocated(&r, 32);
    r = invoke_alloc("pk", 400);
    expect_oom(&r);
    r = invoke_alloc("pk", 16);
    expect_allocated(&r, 16);
    create_ok("pn", "nodejs20.x", "index.alloc", "node", ",\"MemorySize\":128,\"Timeout\":30");
    r = invoke_alloc("pn", 400);
    expect_oom(&r);
    r = invoke_alloc("pn", 16);
    expect_allocated(&r, 16);
}
END_TEST

/* ------------------------------------------------------------- async */

static const char *const event_hdr[] = {"Content-Type: application/json",
                                        "X-Amz-Invocation-Type: Event", NULL};

/* Occurrences of needle in the function's log. */
static int log_count(const char *fn, const char *needle)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/lambda/logs/000000000000-us-east-1-%s.log", srv.state_dir, fn);
    char *log = gr_read_file(path, NULL);
    int n = 0;
    for (const char *p = log; p != NULL && (p = strstr(p, needle)) != NULL; p += strlen(needle)) {
        n++;
    }
    free(log);
    return n;
}

/* Threads of the greenroom process now (0 when unknown). */
static int gr_threads(void)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)srv.pid);
    char *st = gr_read_file(path, NULL);
    const char *t = st ? strstr(st, "\nThreads:") : NULL;
    int n = t ? (int)strtol(t + 9, NULL, 10) : 0;
    free(st);
    return n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define BURST 2000
#define BURST_CLIENTS 4

struct burst_arg {
    int first;
    int n;
    int accepted;
};

static void *burst_client(void *p)
{
    struct burst_arg *a = p;
    for (int i = a->first; i < a->first + a->n; i++) {
        char payload[64];
        snprintf(payload, sizeof(payload), "{\"n\":%d}", i);
        struct gr_resp r;
        if (gr_request(&srv, "lambda", "POST", "/2015-03-31/functions/burst/invocations", event_hdr,
                       payload, strlen(payload), &r) == 0 &&
            r.status == 202) {
            a->accepted++;
        }
        gr_resp_free(&r);
    }
    return NULL;
}

static volatile int sampling;
static int max_threads;

static void *thread_sampler(void *p)
{
    (void)p;
    while (sampling) {
        int n = gr_threads();
        if (n > max_threads) {
            max_threads = n;
        }
        usleep(5000);
    }
    return NULL;
}

START_TEST(test_async_burst)
{
    create_ok("burst", "nodejs20.x", "index.trivial", "node", "");
    int idle_threads = gr_threads();
    max_threads = 0;
    sampling = 1;
    pthread_t sampler;
    ck_assert_int_eq(pthread_create(&sampler, NULL, thread_sampler, NULL), 0);
    double t0 = now_s();
    pthread_t th[BURST_CLIENTS];
    struct burst_arg args[BURST_CLIENTS];
    for (int i = 0; i < BURST_CLIENTS; i++) {
        args[i].first = i * (BURST / BURST_CLIENTS);
        args[i].n = BURST / BURST_CLIENTS;
        args[i].accepted = 0;
        ck_assert_int_eq(pthread_create(&th[i], NULL, burst_client, &args[i]), 0);
    }
    int accepted = 0;
    for (int i = 0; i < BURST_CLIENTS; i++) {
        pthread_join(th[i], NULL);
        accepted += args[i].accepted;
    }
    double t_accept = now_s() - t0;
    ck_assert_int_eq(accepted, BURST);
    int done = 0;
    for (int i = 0; i < 1200 && done < BURST; i++) {
        done = log_count("burst", "END RequestId:");
        if (done < BURST) {
            usleep(50000);
        }
    }
    double t_done = now_s() - t0;
    sampling = 0;
    pthread_join(sampler, NULL);
    fprintf(stderr,
            "async burst: %d events accepted in %.2f s, all run in %.2f s; greenroom threads: "
            "%d idle, %d at most during the burst\n",
            BURST, t_accept, t_done, idle_threads, max_threads);
    /* every event ran exactly once (the handler never fails) */
    ck_assert_int_eq(done, BURST);
    ck_assert_int_eq(log_count("burst", "START RequestId:"), BURST);
    /* a bounded pool, not a thread per event */
    ck_assert_int_gt(max_threads, 0);
    ck_assert_int_lt(max_threads, 80);
}
END_TEST

/* Restarts greenroom with the retry scale given (state kept). */
static void restart_scaled(const char *scale, const char *max)
{
    gr_stop(&srv);
    setenv("GREENROOM_LAMBDA_RETRY_SCALE", scale, 1);
    if (max != NULL) {
        setenv("GREENROOM_LAMBDA_ASYNC_MAX", max, 1);
    }
    ck_assert_int_eq(gr_start(&srv, NULL), 0);
    unsetenv("GREENROOM_LAMBDA_ASYNC_MAX");
    create_role();
}

static void set_reserved(const char *fn, int n)
{
    char path[200], body[64];
    snprintf(path, sizeof(path), "/2017-10-31/functions/%s/concurrency", fn);
    struct gr_resp r;
    if (n < 0) {
        r = lam("DELETE", path, NULL);
        ck_assert_int_eq(r.status, 204);
    } else {
        snprintf(body, sizeof(body), "{\"ReservedConcurrentExecutions\":%d}", n);
        r = lam("PUT", path, body);
        ck_assert_int_eq(r.status, 200);
    }
    gr_resp_free(&r);
}

/* Queues 10 events to a function that cannot run (reserved concurrency 0),
 * stops greenroom (clean or kill -9), starts it again on the same state and
 * lets the function run: every event arrives. */
static void persist_case(int kill9)
{
    restart_scaled("0.01", NULL); /* throttled events live 216 s, not 21.6 */
    create_ok("keep", "nodejs20.x", "index.handler", "node", "");
    set_reserved("keep", 0);
    for (int i = 0; i < 10; i++) {
        char payload[64];
        snprintf(payload, sizeof(payload), "{\"mark\":\"m%02d\"}", i);
        struct gr_resp r = invoke("keep", NULL, payload, event_hdr);
        ck_assert_int_eq(r.status, 202);
        gr_resp_free(&r);
    }
    usleep(300000);
    ck_assert_int_eq(log_count("keep", "START RequestId:"), 0); /* throttled */
    if (kill9) {
        gr_kill9(&srv);
    } else {
        kill(srv.pid, SIGTERM);
        int st = 0;
        ck_assert_int_eq(waitpid(srv.pid, &st, 0), srv.pid);
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        srv.pid = 0;
    }
    ck_assert_int_eq(gr_restart(&srv, NULL), 0);
    set_reserved("keep", -1);
    int all = 0;
    for (int i = 0; i < 200 && !all; i++) {
        all = 1;
        for (int k = 0; k < 10 && all; k++) {
            char mark[32];
            snprintf(mark, sizeof(mark), "\"mark\":\"m%02d\"", k);
            all = log_count("keep", mark) > 0;
        }
        if (!all) {
            usleep(50000);
        }
    }
    ck_assert_msg(all, "an acknowledged event was lost across the restart");
    ck_assert_int_eq(log_count("keep", "START RequestId:"), 10);
}

START_TEST(test_async_persist_clean)
{
    persist_case(0);
}
END_TEST

START_TEST(test_async_persist_kill9)
{
    persist_case(1);
}
END_TEST

START_TEST(test_async_queue_bound)
{
    restart_scaled("0.01", "5");
    create_ok("full", "nodejs20.x", "index.handler", "node", "");
    set_reserved("full", 0);
    for (int i = 0; i < 5; i++) {
        struct gr_resp r = invoke("full", NULL, "{}", event_hdr);
        ck_assert_int_eq(r.status, 202);
        gr_resp_free(&r);
    }
    struct gr_resp r = invoke("full", NULL, "{}", event_hdr);
    expect_error(&r, 429, "TooManyRequestsException", "Rate Exceeded.");
    /* once the queue drains, events are accepted again */
    set_reserved("full", -1);
    int ran = 0;
    for (int i = 0; i < 100 && ran < 5; i++) {
        ran = log_count("full", "END RequestId:");
        usleep(50000);
    }
    ck_assert_int_eq(ran, 5);
    /* a worker leaves the queue a moment after the function's END line */
    long status = 0;
    for (int i = 0; i < 100 && status != 202; i++) {
        r = invoke("full", NULL, "{}", event_hdr);
        status = r.status;
        gr_resp_free(&r);
        if (status != 202) {
            usleep(50000);
        }
    }
    ck_assert_int_eq(status, 202);
}
END_TEST

/* A throttled event is not an attempt: it waits and tries again until its
 * MaximumEventAgeInSeconds, then goes to OnFailure as EventAgeExceeded
 * with no invocation counted; once the function may run, events queued
 * behind the throttle all run. */
START_TEST(test_async_throttled)
{
    char *q = make_queue("expired");
    create_ok("thr", "nodejs20.x", "index.handler", "node", "");
    set_reserved("thr", 0);
    struct gr_resp r = lam("PUT", "/2019-09-25/functions/thr/event-invoke-config",
                           "{\"MaximumEventAgeInSeconds\":600,\"DestinationConfig\":{\"OnFailure\":"
                           "{\"Destination\":\"arn:aws:sqs:us-east-1:000000000000:expired\"}}}");
    ck_assert_int_eq(r.status, 200);
    gr_resp_free(&r);
    r = invoke("thr", NULL, "{\"k\":1}", event_hdr);
    ck_assert_int_eq(r.status, 202);
    gr_resp_free(&r);
    /* 600 s scaled by 0.001: 0.6 s; throttled tries every 0.5 s meanwhile */
    cJSON *rec = queue_wait(q, 20);
    ck_assert_ptr_nonnull(rec);
    const cJSON *rc = cJSON_GetObjectItem(rec, "requestContext");
    ck_assert_str_eq(cJSON_GetObjectItem(rc, "condition")->valuestring, "EventAgeExceeded");
    ck_assert_int_eq(cJSON_GetObjectItem(rc, "approximateInvokeCount")->valueint, 0);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "requestPayload"), "k")->valueint,
                     1);
    cJSON_Delete(rec);
    ck_assert_int_eq(log_count("thr", "START RequestId:"), 0);
    /* the default age (6 h, scaled 21.6 s): the events wait for the function */
    ck_assert_int_eq(lam_status("DELETE", "/2019-09-25/functions/thr/event-invoke-config", NULL),
                     204);
    for (int i = 0; i < 3; i++) {
        r = invoke("thr", NULL, "{\"k\":2}", event_hdr);
        ck_assert_int_eq(r.status, 202);
        gr_resp_free(&r);
    }
    usleep(700000);
    ck_assert_int_eq(log_count("thr", "START RequestId:"), 0);
    set_reserved("thr", -1);
    int ran = 0;
    for (int i = 0; i < 200 && ran < 3; i++) {
        ran = log_count("thr", "END RequestId:");
        usleep(50000);
    }
    ck_assert_int_eq(ran, 3);
    /* events queued for a deleted function do not run on a new one of the
     * same name */
    set_reserved("thr", 0);
    for (int i = 0; i < 3; i++) {
        r = invoke("thr", NULL, "{\"k\":3}", event_hdr);
        ck_assert_int_eq(r.status, 202);
        gr_resp_free(&r);
    }
    ck_assert_int_eq(lam_status("DELETE", "/2015-03-31/functions/thr", NULL), 204);
    create_ok("thr", "nodejs20.x", "index.handler", "node", "");
    usleep(1500000);
    ck_assert_int_eq(log_count("thr", "\"k\":3"), 0);
    free(q);
}
END_TEST

/* A reset empties the queue: nothing queued before it runs after it. */
START_TEST(test_async_reset)
{
    create_ok("rst", "nodejs20.x", "index.handler", "node", "");
    set_reserved("rst", 0);
    for (int i = 0; i < 3; i++) {
        struct gr_resp r = invoke("rst", NULL, "{\"before\":\"reset\"}", event_hdr);
        ck_assert_int_eq(r.status, 202);
        gr_resp_free(&r);
    }
    struct gr_resp r;
    ck_assert_int_eq(gr_request_unsigned(&srv, "POST", "/_greenroom/reset", NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    gr_resp_free(&r);
    create_role();
    create_ok("rst", "nodejs20.x", "index.handler", "node", "");
    r = invoke("rst", NULL, "{\"after\":\"reset\"}", event_hdr);
    ck_assert_int_eq(r.status, 202);
    gr_resp_free(&r);
    int ran = 0;
    for (int i = 0; i < 100 && ran == 0; i++) {
        ran = log_count("rst", "\"after\":\"reset\"");
        usleep(50000);
    }
    ck_assert_int_eq(ran, 1);
    usleep(1000000);
    ck_assert_int_eq(log_count("rst", "\"before\":\"reset\""), 0);
}
END_TEST

/* ------------------------------------------------------------- suite */

int main(void)
{
    const struct kit_case cases[] = {
        {"ListAliasesPaging", test_list_aliases_paging, NULL},
        {"ListEventSourceMappingsPaging", test_list_event_source_mappings_paging, NULL},
        {"ListFunctionEventInvokeConfigsPaging", test_list_function_event_invoke_configs_paging,
         NULL},
        {"MemoryPython", test_memory_python, NULL},
        {"MemoryNode", test_memory_node, NULL},
        {"MemoryPeakBetweenSamples", test_memory_peak_between_samples, NULL},
        {"AsyncBurst", test_async_burst, NULL},
        {"AsyncPersistClean", test_async_persist_clean, NULL},
        {"AsyncPersistKill9", test_async_persist_kill9, NULL},
        {"AsyncQueueBound", test_async_queue_bound, NULL},
        {"AsyncThrottled", test_async_throttled, NULL},
        {"AsyncReset", test_async_reset, NULL},
    };
    return KIT_RUN("lambda_limits", cases, setup, teardown, 90);
}
