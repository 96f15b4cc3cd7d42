/*
 * test_fault.c - fault injection (emulator/fault.c): rule matching, ordinals
 * (also across concurrent callers), seeded probability, schema validation,
 * every action's decision, CloudFormation resource failures and the control
 * endpoints (unit tests calling fault_check/fault_http with hand-built
 * requests); then the same through a real greenroom (harness): errors and
 * throttling rendered in the service's protocol, latency, reset, ordinals
 * across concurrent clients, LocalStack's schema, and the crash action
 * followed by a restart that lost nothing acknowledged.
 */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "emu.h"
#include "fault.h"
#include "harness.h"
#include "testkit.h"

/* ------------------------------------------------------------ unit helpers */

static const struct emu_service fake_s3 = {.name = "s3", .protocol = EMU_PROTO_REST_XML};
static const struct emu_service fake_lambda = {.name = "lambda", .protocol = EMU_PROTO_REST_JSON};
static const struct emu_service fake_apigw = {.name = "apigateway",
                                              .protocol = EMU_PROTO_REST_JSON};
static const struct emu_service fake_cfn = {.name = "cloudformation", .protocol = EMU_PROTO_QUERY};
static const struct emu_service fake_iam = {.name = "iam", .protocol = EMU_PROTO_QUERY};
static const struct emu_service fake_sts = {.name = "sts", .protocol = EMU_PROTO_QUERY};
static const struct emu_service fake_sns = {.name = "sns", .protocol = EMU_PROTO_QUERY};
static const struct emu_service fake_sqs = {.name = "sqs", .protocol = EMU_PROTO_QUERY};
static const struct emu_service fake_events = {.name = "events", .protocol = EMU_PROTO_JSON};

/* A routed call as the dispatcher hands it to fault_check. */
struct call {
    struct emu_request req;
    struct emu_op op;
};

static void call_init(struct call *c, const struct emu_service *svc, const char *op,
                      const char *method, const char *resource)
{
    memset(c, 0, sizeof(*c));
    c->op.name = op;
    c->op.method = method;
    c->req.svc = svc;
    c->req.op = &c->op;
    c->req.method = method;
    snprintf(c->req.account, sizeof(c->req.account), "%s", EMU_DEFAULT_ACCOUNT);
    snprintf(c->req.region, sizeof(c->req.region), "us-east-1");
    snprintf(c->req.resource, sizeof(c->req.resource), "%s", resource);
}

static enum fault_action check_call(const struct emu_service *svc, const char *op,
                                    const char *method, const char *resource,
                                    struct fault_decision *d)
{
    struct call c;
    call_init(&c, svc, op, method, resource);
    return fault_check(&c.req, d);
}

/* Loads rules through --faults FILE. Returns fault_load_file's result. */
static int load(const char *json, char *err, size_t errlen)
{
    char path[] = "/tmp/test_fault_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, json, strlen(json)), (ssize_t)strlen(json));
    close(fd);
    err[0] = 0;
    int rc = fault_load_file(path, err, errlen);
    unlink(path);
    return rc;
}

static void load_ok(const char *json)
{
    char err[512];
    int rc = load(json, err, sizeof(err));
    ck_assert_msg(rc == 0, "rules refused: %s", err);
}

/* Runs fault_http on a hand-built control request; returns the status and
 * the parsed body (caller deletes). */
static int control(const char *method, const char *path, const char *query, const char *body,
                   cJSON **out)
{
    struct emu_request req;
    struct emu_response resp;
    memset(&req, 0, sizeof(req));
    emu_response_init(&resp);
    req.method = method;
    req.path = strdup(path);
    req.query_string = strdup(query != NULL ? query : "");
    if (query != NULL) {
        emu_parse_query(&req.query, query, strlen(query), 0);
    }
    if (body != NULL) {
        req.body = strdup(body);
        req.body_len = strlen(body);
    }
    fault_http(&req, &resp);
    int status = resp.status;
    if (out != NULL) {
        *out = cJSON_Parse(resp.body.data != NULL ? resp.body.data : "");
    }
    free(req.path);
    free(req.query_string);
    free(req.body);
    emu_kv_release(&req.query);
    emu_response_release(&resp);
    return status;
}

/* matched/fired of rule id, read from GET /_greenroom/faults. */
static void counts(const char *id, long *matched, long *fired)
{
    cJSON *list = NULL;
    ck_assert_int_eq(control("GET", "/_greenroom/faults", NULL, NULL, &list), 200);
    ck_assert(cJSON_IsArray(list));
    *matched = -1;
    *fired = -1;
    const cJSON *r;
    cJSON_ArrayForEach(r, list)
    {
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(r, "id");
        if (cJSON_IsString(rid) && strcmp(rid->valuestring, id) == 0) {
            *matched = (long)cJSON_GetObjectItemCaseSensitive(r, "matched")->valuedouble;
            *fired = (long)cJSON_GetObjectItemCaseSensitive(r, "fired")->valuedouble;
        }
    }
    cJSON_Delete(list);
    ck_assert_msg(*matched >= 0, "rule %s not listed", id);
}

static void clear_rules(void)
{
    ck_assert_int_eq(control("DELETE", "/_greenroom/faults", NULL, NULL, NULL), 200);
    ck_assert_uint_eq(fault_count(), 0);
}

/* ------------------------------------------------------------- unit: match */

START_TEST(test_match_each_matcher)
{
    struct fault_decision d;
    load_ok(
        "[{\"id\":\"a\",\"service\":\"s3\",\"operation\":\"PutObject\",\"region\":\"us-east-1\","
        "\"account\":\"000000000000\",\"resource\":\"meta-bucket/serverless/*\",\"method\":\"PUT\","
        "\"error\":{\"statusCode\":500,\"code\":\"InternalError\"}}]");
    ck_assert_int_eq(
        check_call(&fake_s3, "PutObject", "PUT", "meta-bucket/serverless/a/b.json", &d),
        FAULT_ERROR);
    ck_assert_str_eq(d.rule_id, "a");
    ck_assert_int_eq(d.status, 500);
    ck_assert_str_eq(d.code, "InternalError");
    /* each matcher, changed alone, stops the match */
    ck_assert_int_eq(check_call(&fake_lambda, "PutObject", "PUT", "meta-bucket/serverless/x", &d),
                     FAULT_NONE);
    ck_assert_int_eq(check_call(&fake_s3, "GetObject", "PUT", "meta-bucket/serverless/x", &d),
                     FAULT_NONE);
    ck_assert_int_eq(check_call(&fake_s3, "PutObject", "POST", "meta-bucket/serverless/x", &d),
                     FAULT_NONE);
    ck_assert_int_eq(check_call(&fake_s3, "PutObject", "PUT", "other-bucket/serverless/x", &d),
                     FAULT_NONE);
    struct call c;
    call_init(&c, &fake_s3, "PutObject", "PUT", "meta-bucket/serverless/x");
    snprintf(c.req.region, sizeof(c.req.region), "eu-west-1");
    ck_assert_int_eq(fault_check(&c.req, &d), FAULT_NONE);
    call_init(&c, &fake_s3, "PutObject", "PUT", "meta-bucket/serverless/x");
    snprintf(c.req.account, sizeof(c.req.account), "111111111111");
    ck_assert_int_eq(fault_check(&c.req, &d), FAULT_NONE);
    /* internal calls and EMU_OP_NO_FAULT operations are never targets */
    call_init(&c, &fake_s3, "PutObject", "PUT", "meta-bucket/serverless/x");
    c.req.internal = 1;
    ck_assert_int_eq(fault_check(&c.req, &d), FAULT_NONE);
    call_init(&c, &fake_s3, "PutObject", "PUT", "meta-bucket/serverless/x");
    c.op.flags = EMU_OP_NO_FAULT;
    ck_assert_int_eq(fault_check(&c.req, &d), FAULT_NONE);
    long m, f;
    counts("a", &m, &f);
    ck_assert_int_eq(m, 1);
    ck_assert_int_eq(f, 1);
    clear_rules();
}
END_TEST

START_TEST(test_match_resources)
{
    struct fault_decision d;
    /* function[:qualifier]: a bare function name also matches its qualifiers */
    load_ok(
        "[{\"id\":\"fn\",\"service\":\"lambda\",\"resource\":\"books-api\",\"reset\":true},"
        "{\"id\":\"q\",\"service\":\"lambda\",\"resource\":\"orders:prod\",\"hang\":true},"
        "{\"id\":\"stack\",\"service\":\"cloudformation\",\"resource\":\"app-*\",\"crash\":true},"
        "{\"id\":\"api\",\"service\":\"apigateway\",\"resource\":\"a1b2c3/dev\","
        "\"throttle\":{}},"
        "{\"id\":\"topic\",\"service\":\"sns\",\"resource\":\"alerts\",\"throttle\":{}}]");
    ck_assert_int_eq(check_call(&fake_lambda, "Invoke", "POST", "books-api", &d), FAULT_RESET);
    ck_assert_int_eq(check_call(&fake_lambda, "UpdateAlias", "PUT", "books-api:dev", &d),
                     FAULT_RESET);
    ck_assert_int_eq(check_call(&fake_lambda, "Invoke", "POST", "books-api-2:dev", &d), FAULT_NONE);
    ck_assert_int_eq(check_call(&fake_lambda, "Invoke", "POST", "orders:prod", &d), FAULT_HANG);
    ck_assert_int_eq(check_call(&fake_lambda, "Invoke", "POST", "orders:dev", &d), FAULT_NONE);
    ck_assert_int_eq(check_call(&fake_lambda, "Invoke", "POST", "orders", &d), FAULT_NONE);
    ck_assert_int_eq(check_call(&fake_cfn, "UpdateStack", "POST", "app-dev", &d), FAULT_CRASH);
    ck_assert_int_eq(check_call(&fake_cfn, "UpdateStack", "POST", "other", &d), FAULT_NONE);
    ck_assert_int_eq(check_call(&fake_apigw, "UpdateStage", "PATCH", "a1b2c3/dev", &d),
                     FAULT_THROTTLE);
    ck_assert_int_eq(check_call(&fake_apigw, "UpdateStage", "PATCH", "a1b2c3/prod", &d),
                     FAULT_NONE);
    ck_assert_int_eq(check_call(&fake_sns, "Publish", "POST", "alerts", &d), FAULT_THROTTLE);
    clear_rules();
}
END_TEST

START_TEST(test_match_globs_and_case)
{
    struct fault_decision d;
    load_ok("[{\"id\":\"g\",\"service\":\"LAMBDA\",\"operation\":\"*Alias\",\"region\":\"us-*\","
            "\"method\":\"put\",\"error\":{\"code\":\"ServiceException\"}}]");
    ck_assert_int_eq(check_call(&fake_lambda, "UpdateAlias", "PUT", "f:dev", &d), FAULT_ERROR);
    ck_assert_int_eq(check_call(&fake_lambda, "CreateAlias", "POST", "f", &d), FAULT_NONE);
    ck_assert_int_eq(check_call(&fake_lambda, "UpdateFunctionCode", "PUT", "f", &d), FAULT_NONE);
    clear_rules();
}
END_TEST

/* ----------------------------------------------------------- unit: ordinals */

START_TEST(test_ordinal_nth_after_times)
{
    struct fault_decision d;
    load_ok("[{\"id\":\"second\",\"operation\":\"UpdateAlias\",\"nth\":2,"
            "\"error\":{\"statusCode\":500,\"code\":\"ServiceException\"}},"
            "{\"id\":\"later\",\"operation\":\"GetObject\",\"after\":3,\"times\":2,"
            "\"throttle\":{\"retryAfterSeconds\":4}}]");
    ck_assert_int_eq(check_call(&fake_lambda, "UpdateAlias", "PUT", "x:dev", &d), FAULT_NONE);
    ck_assert_int_eq(check_call(&fake_lambda, "UpdateAlias", "PUT", "x:dev", &d), FAULT_ERROR);
    ck_assert_str_eq(d.rule_id, "second");
    ck_assert_int_eq(check_call(&fake_lambda, "UpdateAlias", "PUT", "x:dev", &d), FAULT_NONE);
    int fired[8];
    for (int i = 0; i < 8; i++) {
        fired[i] = check_call(&fake_s3, "GetObject", "GET", "b/k", &d) == FAULT_THROTTLE;
        if (fired[i]) {
            ck_assert_int_eq(d.retry_after, 4);
        }
    }
    /* calls 4 and 5 only: after the first 3, at most 2 times */
    int want[8] = {0, 0, 0, 1, 1, 0, 0, 0};
    for (int i = 0; i < 8; i++) {
        ck_assert_msg(fired[i] == want[i], "GetObject call %d: fired %d", i + 1, fired[i]);
    }
    long m, f;
    counts("second", &m, &f);
    ck_assert_int_eq(m, 3);
    ck_assert_int_eq(f, 1);
    counts("later", &m, &f);
    ck_assert_int_eq(m, 8);
    ck_assert_int_eq(f, 2);
    clear_rules();
}
END_TEST

#define NTHREADS 8
#define NCALLS 2000

static int thread_fired[NTHREADS];

static void *hammer(void *arg)
{
    int t = (int)(intptr_t)arg;
    struct fault_decision d;
    for (int i = 0; i < NCALLS; i++) {
        if (check_call(&fake_s3, "GetObject", "GET", "bucket/key", &d) == FAULT_ERROR) {
            thread_fired[t]++;
        }
    }
    return NULL;
}

START_TEST(test_ordinal_concurrent)
{
    pthread_t th[NTHREADS];
    load_ok("[{\"id\":\"one\",\"service\":\"s3\",\"nth\":7777,\"error\":{\"statusCode\":503}},"
            "{\"id\":\"many\",\"service\":\"s3\",\"after\":100,\"times\":250,"
            "\"error\":{\"statusCode\":500}}]");
    memset(thread_fired, 0, sizeof(thread_fired));
    for (int i = 0; i < NTHREADS; i++) {
        ck_assert_int_eq(pthread_create(&th[i], NULL, hammer, (void *)(intptr_t)i), 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
    }
    int total = 0;
    for (int i = 0; i < NTHREADS; i++) {
        total += thread_fired[i];
    }
    long m, f;
    counts("one", &m, &f);
    ck_assert_int_eq(m, NTHREADS * NCALLS);
    ck_assert_int_eq(f, 1);
    counts("many", &m, &f);
    ck_assert_int_eq(m, NTHREADS * NCALLS);
    ck_assert_int_eq(f, 250);
    /* "one" fired once; "many" fired 250 times on other calls (one action
     * per call: the first rule to fire decides) */
    ck_assert_int_eq(total, 251);
    clear_rules();
}
END_TEST

/* -------------------------------------------------------- unit: probability */

/* Which of n calls fire under the current rules, as a string of 0/1. */
static void pattern(char *out, int n)
{
    struct fault_decision d;
    for (int i = 0; i < n; i++) {
        out[i] = check_call(&fake_lambda, "Invoke", "POST", "fn", &d) == FAULT_THROTTLE ? '1' : '0';
    }
    out[n] = 0;
}

START_TEST(test_probability_seeded)
{
    static char a[2001], b[2001], c[2001];
    const char *rule7 = "[{\"id\":\"p\",\"service\":\"lambda\",\"probability\":0.3,\"seed\":7,"
                        "\"throttle\":{}}]";
    load_ok(rule7);
    pattern(a, 2000);
    load_ok(rule7); /* reloading starts the sequence again */
    pattern(b, 2000);
    ck_assert_str_eq(a, b);
    int ones = 0;
    for (int i = 0; i < 2000; i++) {
        ones += a[i] == '1';
    }
    ck_assert_msg(ones > 450 && ones < 750, "30%% of 2000 fired %d times", ones);
    load_ok("[{\"id\":\"p\",\"service\":\"lambda\",\"probability\":0.3,\"seed\":8,"
            "\"throttle\":{}}]");
    pattern(c, 2000);
    ck_assert_str_ne(a, c);
    /* 0 never fires, 1 always */
    load_ok("[{\"service\":\"lambda\",\"probability\":0,\"throttle\":{}}]");
    pattern(c, 100);
    ck_assert_ptr_null(strchr(c, '1'));
    load_ok("[{\"service\":\"lambda\",\"probability\":1,\"throttle\":{}}]");
    pattern(c, 100);
    ck_assert_ptr_null(strchr(c, '0'));
    clear_rules();
}
END_TEST

/* ------------------------------------------------------------ unit: schema */

/* Loading json must fail with a message containing want. */
static void refused(const char *json, const char *want)
{
    char err[512];
    ck_assert_int_eq(load(json, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, want) != NULL, "message \"%s\" lacks \"%s\"", err, want);
}

START_TEST(test_schema_validation)
{
    load_ok("[{\"id\":\"keep\",\"service\":\"s3\",\"error\":{\"statusCode\":500}}]");
    refused("[{\"service\":\"s3\",\"probabilty\":0.5,\"error\":{}}]", "\"probabilty\"");
    refused("[{\"service\":\"s3\",\"error\":{\"status\":500}}]", "\"error.status\"");
    refused("[{\"service\":\"s3\",\"latency\":{\"ms\":5,\"jitter\":1}}]", "\"latency.jitter\"");
    refused("[{\"service\":\"s3\",\"error\":{},\"throttle\":{}}]", "\"throttle\"");
    refused("[{\"service\":\"s3\",\"reset\":true,\"crash\":true}]", "\"crash\"");
    refused("[{\"service\":\"s3\"}]", "no action");
    refused("[{\"service\":3,\"reset\":true}]", "\"service\"");
    refused("[{\"nth\":0,\"reset\":true}]", "\"nth\"");
    refused("[{\"nth\":1.5,\"reset\":true}]", "\"nth\"");
    refused("[{\"nth\":2,\"after\":1,\"reset\":true}]", "\"after\"");
    refused("[{\"times\":-1,\"reset\":true}]", "\"times\"");
    refused("[{\"probability\":1.5,\"reset\":true}]", "\"probability\"");
    refused("[{\"seed\":\"x\",\"reset\":true}]", "\"seed\"");
    refused("[{\"reset\":\"yes\"}]", "\"reset\"");
    refused("[{\"error\":{\"statusCode\":200}}]", "\"error.statusCode\"");
    refused("[{\"latency\":{\"jitterMs\":5}}]", "\"latency.ms\"");
    refused("[{\"cfnResourceFailure\":{\"logicalId\":\"Q\"},\"operation\":\"UpdateStack\"}]",
            "\"operation\"");
    refused("[{\"cfnResourceFailure\":{\"logicalId\":\"Q\",\"why\":\"x\"}}]",
            "\"cfnResourceFailure.why\"");
    refused("[{\"id\":\"x\",\"reset\":true},{\"id\":\"x\",\"hang\":true}]", "\"x\"");
    refused("[{\"reset\":true},{\"nope\":1,\"reset\":true}]", "rule 2");
    refused("{not json", "JSON");
    refused("42", "array");
    /* a refused set changed nothing */
    ck_assert_uint_eq(fault_count(), 1);
    long m, f;
    counts("keep", &m, &f);
    ck_assert_int_eq(m, 0);
    clear_rules();
}
END_TEST

/* ----------------------------------------------------------- unit: actions */

START_TEST(test_actions_error_defaults)
{
    struct fault_decision d;
    /* code only: status and message from the catalogue (errors.def) */
    load_ok("[{\"service\":\"s3\",\"error\":{\"code\":\"NoSuchBucket\"}}]");
    ck_assert_int_eq(check_call(&fake_s3, "GetObject", "GET", "b/k", &d), FAULT_ERROR);
    ck_assert_int_eq(d.status, 404);
    ck_assert_str_eq(d.code, "NoSuchBucket");
    ck_assert_str_eq(d.message, "The specified bucket does not exist");
    /* status only: the usual code for it */
    load_ok("[{\"service\":\"lambda\",\"error\":{\"statusCode\":503}}]");
    ck_assert_int_eq(check_call(&fake_lambda, "Invoke", "POST", "f", &d), FAULT_ERROR);
    ck_assert_int_eq(d.status, 503);
    ck_assert_str_eq(d.code, "ServiceUnavailable");
    /* all three given: as given */
    load_ok("[{\"error\":{\"statusCode\":409,\"code\":\"ResourceConflictException\","
            "\"message\":\"The operation cannot be performed at this time.\"}}]");
    ck_assert_int_eq(check_call(&fake_lambda, "UpdateAlias", "PUT", "f:dev", &d), FAULT_ERROR);
    ck_assert_int_eq(d.status, 409);
    ck_assert_str_eq(d.code, "ResourceConflictException");
    ck_assert_str_eq(d.message, "The operation cannot be performed at this time.");
    /* nothing given: 500 */
    load_ok("[{\"error\":{}}]");
    ck_assert_int_eq(check_call(&fake_s3, "GetObject", "GET", "b/k", &d), FAULT_ERROR);
    ck_assert_int_eq(d.status, 500);
    ck_assert_str_eq(d.code, "InternalError");
    clear_rules();
}
END_TEST

START_TEST(test_actions_throttle_per_service)
{
    static const struct {
        const struct emu_service *svc;
        int status;
        const char *code;
    } want[] = {
        {&fake_s3, 503, "SlowDown"},
        {&fake_lambda, 429, "TooManyRequestsException"},
        {&fake_apigw, 429, "TooManyRequestsException"},
        {&fake_cfn, 400, "Throttling"},
        {&fake_iam, 400, "Throttling"},
        {&fake_sts, 400, "Throttling"},
        {&fake_sns, 400, "Throttling"},
        {&fake_sqs, 400, "ThrottlingException"},
        {&fake_events, 400, "ThrottlingException"},
    };
    struct fault_decision d;
    load_ok("[{\"throttle\":{\"retryAfterSeconds\":3}}]");
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        ck_assert_int_eq(check_call(want[i].svc, "Op", "POST", "r", &d), FAULT_THROTTLE);
        ck_assert_int_eq(d.status, want[i].status);
        ck_assert_str_eq(d.code, want[i].code);
        ck_assert_int_eq(d.retry_after, 3);
        ck_assert(d.message[0] != 0);
    }
    clear_rules();
}
END_TEST

START_TEST(test_actions_latency_and_flags)
{
    struct fault_decision d;
    load_ok("[{\"id\":\"slow\",\"service\":\"s3\",\"latency\":{\"ms\":100,\"jitterMs\":40},"
            "\"seed\":1}]");
    int seen_low = 0, seen_high = 0;
    for (int i = 0; i < 200; i++) {
        ck_assert_int_eq(check_call(&fake_s3, "GetObject", "GET", "b/k", &d), FAULT_NONE);
        ck_assert_int_ge(d.latency_ms, 60);
        ck_assert_int_le(d.latency_ms, 140);
        seen_low |= d.latency_ms < 90;
        seen_high |= d.latency_ms > 110;
        ck_assert_str_eq(d.rule_id, "slow");
    }
    ck_assert(seen_low && seen_high);
    /* latency combined with an action delays it */
    load_ok("[{\"id\":\"late-error\",\"service\":\"s3\",\"latency\":{\"ms\":250},"
            "\"error\":{\"code\":\"InternalError\",\"statusCode\":500}}]");
    ck_assert_int_eq(check_call(&fake_s3, "GetObject", "GET", "b/k", &d), FAULT_ERROR);
    ck_assert_int_eq(d.latency_ms, 250);
    ck_assert_str_eq(d.rule_id, "late-error");
    load_ok("[{\"service\":\"s3\",\"reset\":true}]");
    ck_assert_int_eq(check_call(&fake_s3, "GetObject", "GET", "b/k", &d), FAULT_RESET);
    load_ok("[{\"service\":\"s3\",\"hang\":true}]");
    ck_assert_int_eq(check_call(&fake_s3, "GetObject", "GET", "b/k", &d), FAULT_HANG);
    load_ok("[{\"service\":\"s3\",\"crash\":true,\"reset\":false}]");
    ck_assert_int_eq(check_call(&fake_s3, "GetObject", "GET", "b/k", &d), FAULT_CRASH);
    /* no rules: nothing, and no latency */
    clear_rules();
    ck_assert_int_eq(check_call(&fake_s3, "GetObject", "GET", "b/k", &d), FAULT_NONE);
    ck_assert_int_eq(d.latency_ms, 0);
    ck_assert_str_eq(d.rule_id, "");
}
END_TEST

START_TEST(test_cfn_resource_failure)
{
    char reason[256];
    load_ok(
        "[{\"id\":\"books\",\"resource\":\"books-dev\",\"cfnResourceFailure\":"
        "{\"logicalId\":\"BooksQueue\",\"reason\":\"Resource limit exceeded\"}},"
        "{\"id\":\"tables\",\"nth\":2,\"cfnResourceFailure\":{\"type\":\"AWS::DynamoDB::*\"}}]");
    ck_assert_int_eq(fault_cfn_resource(EMU_DEFAULT_ACCOUNT, "us-east-1", "books-dev", "BooksQueue",
                                        "AWS::SQS::Queue", reason, sizeof(reason)),
                     1);
    ck_assert_str_eq(reason, "Resource limit exceeded");
    ck_assert_int_eq(fault_cfn_resource(EMU_DEFAULT_ACCOUNT, "us-east-1", "books-prod",
                                        "BooksQueue", "AWS::SQS::Queue", reason, sizeof(reason)),
                     0);
    ck_assert_int_eq(fault_cfn_resource(EMU_DEFAULT_ACCOUNT, "us-east-1", "books-dev", "Other",
                                        "AWS::SQS::Queue", reason, sizeof(reason)),
                     0);
    ck_assert_int_eq(fault_cfn_resource(EMU_DEFAULT_ACCOUNT, "us-east-1", "s", "T1",
                                        "AWS::DynamoDB::Table", reason, sizeof(reason)),
                     0);
    ck_assert_int_eq(fault_cfn_resource(EMU_DEFAULT_ACCOUNT, "us-east-1", "s", "T2",
                                        "AWS::DynamoDB::Table", reason, sizeof(reason)),
                     1);
    ck_assert(reason[0] != 0);
    /* cfn rules are not fault_check's business */
    struct fault_decision d;
    ck_assert_int_eq(check_call(&fake_cfn, "UpdateStack", "POST", "books-dev", &d), FAULT_NONE);
    long m, f;
    counts("books", &m, &f);
    ck_assert_int_eq(m, 1);
    ck_assert_int_eq(f, 1);
    clear_rules();
}
END_TEST

/* ------------------------------------------------------ unit: overhead */

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ns per fault_check of an S3 GetObject under the loaded rules. */
static double ns_per_check(int n)
{
    struct call c;
    struct fault_decision d;
    call_init(&c, &fake_s3, "GetObject", "GET", "bench/obj");
    int fired = 0;
    double t0 = cpu_now();
    for (int i = 0; i < n; i++) {
        fired += fault_check(&c.req, &d) != FAULT_NONE;
    }
    double ns = (cpu_now() - t0) / n * 1e9;
    ck_assert_int_eq(fired, 0);
    return ns;
}

/* Prints the cost of 100 loaded rules (timing is reported, never asserted):
 * all 100 on S3 GetObject with other buckets' resources (the worst case:
 * each must be looked at), and 100 on other services (skipped by index). */
START_TEST(test_overhead_100_rules)
{
    struct emu_buf b = {0};
    const char *svcs[] = {"lambda", "cloudformation", "apigateway", "iam", "sqs"};
    double none = ns_per_check(200000);
    emu_buf_puts(&b, "[");
    for (int i = 0; i < 100; i++) {
        emu_buf_printf(&b,
                       "%s{\"service\":\"s3\",\"operation\":\"GetObject\","
                       "\"resource\":\"other-bucket-%d/*\",\"error\":{}}",
                       i ? "," : "", i);
    }
    emu_buf_puts(&b, "]");
    load_ok(b.data);
    double same = ns_per_check(200000);
    emu_buf_release(&b);
    emu_buf_puts(&b, "[");
    for (int i = 0; i < 100; i++) {
        emu_buf_printf(&b, "%s{\"service\":\"%s\",\"nth\":%d,\"error\":{}}", i ? "," : "",
                       svcs[i % 5], i + 1);
    }
    emu_buf_puts(&b, "]");
    load_ok(b.data);
    double other = ns_per_check(200000);
    emu_buf_release(&b);
    fprintf(stderr,
            "fault_check per call: no rules %.1f ns; 100 S3 GetObject rules %.1f ns; "
            "100 rules of other services %.1f ns\n",
            none, same, other);
    clear_rules();
}
END_TEST

/* ----------------------------------------------------- unit: control (HTTP) */

START_TEST(test_http_crud)
{
    cJSON *out = NULL;
    ck_assert_int_eq(control("POST", "/_greenroom/faults", NULL,
                             "[{\"id\":\"a\",\"service\":\"s3\",\"reset\":true},"
                             "{\"service\":\"lambda\",\"probability\":0.5,\"throttle\":{}}]",
                             &out),
                     200);
    ck_assert_int_eq(cJSON_GetArraySize(out), 2);
    const cJSON *second = cJSON_GetArrayItem(out, 1);
    ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(second, "id")));
    /* the effective seed is shown so that a run can be repeated */
    ck_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(second, "seed")));
    ck_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(second, "matched")));
    char *again = cJSON_PrintUnformatted(out);
    cJSON_Delete(out);
    /* GET output can be posted back (matched/fired are read-only) */
    ck_assert_int_eq(control("POST", "/_greenroom/faults", NULL, again, NULL), 200);
    free(again);
    ck_assert_int_eq(control("PATCH", "/_greenroom/faults", NULL,
                             "{\"id\":\"c\",\"service\":\"sqs\",\"hang\":true}", &out),
                     200);
    ck_assert_int_eq(cJSON_GetArraySize(out), 3);
    cJSON_Delete(out);
    /* an id already loaded is refused by PATCH */
    ck_assert_int_eq(
        control("PATCH", "/_greenroom/faults", NULL, "[{\"id\":\"a\",\"hang\":true}]", &out), 400);
    ck_assert_ptr_nonnull(
        strstr(cJSON_GetObjectItemCaseSensitive(out, "message")->valuestring, "\"a\""));
    cJSON_Delete(out);
    ck_assert_int_eq(control("GET", "/_greenroom/faults/c", NULL, NULL, &out), 200);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(out, "service")->valuestring, "sqs");
    cJSON_Delete(out);
    ck_assert_int_eq(control("GET", "/_greenroom/faults/nope", NULL, NULL, NULL), 404);
    ck_assert_int_eq(control("DELETE", "/_greenroom/faults/c", NULL, NULL, &out), 200);
    ck_assert_int_eq(cJSON_GetArraySize(out), 2);
    cJSON_Delete(out);
    ck_assert_int_eq(control("DELETE", "/_greenroom/faults/c", NULL, NULL, NULL), 404);
    ck_assert_int_eq(control("PATCH", "/_greenroom/faults", NULL,
                             "{\"id\":\"c\",\"service\":\"sqs\",\"hang\":true}", NULL),
                     200);
    ck_assert_int_eq(control("DELETE", "/_greenroom/faults", "id=a", NULL, &out), 200);
    ck_assert_int_eq(cJSON_GetArraySize(out), 2);
    cJSON_Delete(out);
    ck_assert_int_eq(control("DELETE", "/_greenroom/faults", "id=a", NULL, NULL), 404);
    ck_assert_int_eq(control("POST", "/_greenroom/faults", NULL, "[{\"servce\":\"s3\"}]", &out),
                     400);
    ck_assert_ptr_nonnull(
        strstr(cJSON_GetObjectItemCaseSensitive(out, "message")->valuestring, "servce"));
    cJSON_Delete(out);
    ck_assert_uint_eq(fault_count(), 2);
    ck_assert_int_eq(control("PUT", "/_greenroom/faults", NULL, "[]", NULL), 200);
    ck_assert_uint_eq(fault_count(), 0);
    ck_assert_int_eq(control("HEAD", "/_greenroom/faults", NULL, NULL, NULL), 405);
}
END_TEST

START_TEST(test_http_localstack_schema)
{
    struct fault_decision d;
    cJSON *out = NULL;
    ck_assert_int_eq(
        control("POST", "/_localstack/chaos/faults", NULL,
                "[{\"service\":\"s3\",\"region\":\"us-east-1\",\"operation\":\"PutObject\"},"
                "{\"service\":\"lambda\",\"probability\":1,"
                "\"error\":{\"statusCode\":500,\"code\":\"ServiceException\"}}]",
                &out),
        200);
    ck_assert_int_eq(cJSON_GetArraySize(out), 2);
    /* LocalStack's GET shows the rules as given */
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(out, 0), "matched"));
    cJSON_Delete(out);
    /* no error: LocalStack's 503 ServiceUnavailable */
    ck_assert_int_eq(check_call(&fake_s3, "PutObject", "PUT", "b/k", &d), FAULT_ERROR);
    ck_assert_int_eq(d.status, 503);
    ck_assert_str_eq(d.code, "ServiceUnavailable");
    ck_assert_int_eq(check_call(&fake_s3, "GetObject", "GET", "b/k", &d), FAULT_NONE);
    ck_assert_int_eq(check_call(&fake_lambda, "Invoke", "POST", "f", &d), FAULT_ERROR);
    ck_assert_str_eq(d.code, "ServiceException");
    /* our extensions are not LocalStack's schema */
    ck_assert_int_eq(control("PATCH", "/_localstack/chaos/faults", NULL,
                             "[{\"service\":\"s3\",\"nth\":2}]", NULL),
                     400);
    /* DELETE with rules removes the equal ones */
    ck_assert_int_eq(
        control("DELETE", "/_localstack/chaos/faults", NULL,
                "[{\"service\":\"s3\",\"region\":\"us-east-1\",\"operation\":\"PutObject\"}]",
                &out),
        200);
    ck_assert_int_eq(cJSON_GetArraySize(out), 1);
    cJSON_Delete(out);
    ck_assert_int_eq(check_call(&fake_s3, "PutObject", "PUT", "b/k", &d), FAULT_NONE);
    ck_assert_int_eq(control("POST", "/_localstack/chaos/faults", NULL, "[]", NULL), 200);
    ck_assert_uint_eq(fault_count(), 0);
    /* network effects: latency on every call */
    ck_assert_int_eq(control("POST", "/_localstack/chaos/effects", NULL, "{\"latency\":30}", &out),
                     200);
    cJSON_Delete(out);
    ck_assert_int_eq(check_call(&fake_s3, "GetObject", "GET", "b/k", &d), FAULT_NONE);
    ck_assert_int_eq(d.latency_ms, 30);
    ck_assert_int_eq(control("POST", "/_localstack/chaos/effects", NULL, "{\"latency\":0}", NULL),
                     200);
    ck_assert_int_eq(check_call(&fake_s3, "GetObject", "GET", "b/k", &d), FAULT_NONE);
    ck_assert_int_eq(d.latency_ms, 0);
}
END_TEST

/* ------------------------------------------------------------- integration */

static struct gr_server srv;
static int srv_up;

static void start_server(void)
{
    ck_assert_msg(gr_start(&srv, NULL) == 0, "greenroom did not start");
    srv_up = 1;
}

static void stop_server(void)
{
    if (srv_up) {
        gr_stop(&srv);
        srv_up = 0;
    }
}

/* POST rules to /_greenroom/faults; asserts 200. */
static void post_rules(const char *json)
{
    struct gr_resp r;
    const char *h[] = {"Content-Type: application/json", NULL};
    ck_assert_int_eq(
        gr_request_unsigned(&srv, "POST", "/_greenroom/faults", h, json, strlen(json), &r), 0);
    ck_assert_msg(r.status == 200, "POST faults: %ld %s", r.status, r.body);
    gr_resp_free(&r);
}

static long s3(const char *method, const char *path, const char *body, struct gr_resp *r)
{
    int rc = gr_request(&srv, "s3", method, path, NULL, body, body != NULL ? strlen(body) : 0, r);
    if (rc != 0) {
        gr_resp_free(r);
        return -1;
    }
    return r->status;
}

#define STS_WHO "Action=GetCallerIdentity&Version=2011-06-15"
#define ASSUME_DOC                                                                                 \
    "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C"  \
    "%22Principal%22%3A%7B%22Service%22%3A%22lambda.amazonaws.com%22%7D%2C%22Action%22%3A"         \
    "%22sts%3AAssumeRole%22%7D%5D%7D"

START_TEST(test_http_error_rendered_query)
{
    struct gr_resp r;
    char buf[64];
    post_rules("[{\"id\":\"iam-throttle\",\"service\":\"iam\",\"operation\":\"ListRoles\","
               "\"throttle\":{\"retryAfterSeconds\":1}},"
               "{\"id\":\"sts-error\",\"service\":\"sts\",\"nth\":1,"
               "\"error\":{\"statusCode\":403,\"code\":\"ExpiredToken\","
               "\"message\":\"The security token included in the request is expired\"}}]");
    ck_assert_int_eq(tk_query(&srv, "iam", "Action=ListRoles&Version=2010-05-08", &r), 400);
    ck_assert_ptr_nonnull(strstr(r.body, "<Code>Throttling</Code>"));
    ck_assert_ptr_nonnull(strstr(r.body, "<ErrorResponse"));
    ck_assert_ptr_nonnull(gr_resp_header(&r, "Retry-After", buf, sizeof(buf)));
    gr_resp_free(&r);
    ck_assert_int_eq(tk_query(&srv, "sts", STS_WHO, &r), 403);
    ck_assert_ptr_nonnull(strstr(r.body, "<Code>ExpiredToken</Code>"));
    ck_assert_ptr_nonnull(strstr(r.body, "is expired"));
    gr_resp_free(&r);
    ck_assert_int_eq(tk_query(&srv, "sts", STS_WHO, &r), 200);
    gr_resp_free(&r);
    /* the journal names the rule that fired */
    ck_assert_int_eq(gr_request_unsigned(&srv, "GET", "/_greenroom/calls", NULL, NULL, 0, &r), 0);
    ck_assert_ptr_nonnull(strstr(r.body, "sts-error"));
    ck_assert_ptr_nonnull(strstr(r.body, "iam-throttle"));
    gr_resp_free(&r);
}
END_TEST

START_TEST(test_http_error_rendered_s3)
{
    struct gr_resp r;
    char buf[64];
    if (!kit_served(&srv, "s3")) {
        return;
    }
    ck_assert_int_eq(s3("PUT", "/fault-bkt", NULL, &r), 200);
    gr_resp_free(&r);
    post_rules("[{\"id\":\"slow-down\",\"service\":\"s3\",\"operation\":\"PutObject\","
               "\"resource\":\"fault-bkt/meta/*\",\"throttle\":{\"retryAfterSeconds\":2}},"
               "{\"id\":\"boom\",\"service\":\"s3\",\"operation\":\"GetObject\",\"nth\":2,"
               "\"error\":{\"statusCode\":500,\"code\":\"InternalError\","
               "\"message\":\"We encountered an internal error. Please try again.\"}}]");
    ck_assert_int_eq(s3("PUT", "/fault-bkt/meta/a.json", "{}", &r), 503);
    ck_assert_ptr_nonnull(strstr(r.body, "<Code>SlowDown</Code>"));
    ck_assert_ptr_nonnull(gr_resp_header(&r, "Retry-After", buf, sizeof(buf)));
    ck_assert_str_eq(buf, "2");
    gr_resp_free(&r);
    ck_assert_int_eq(s3("PUT", "/fault-bkt/data/a.json", "{}", &r), 200);
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/fault-bkt/data/a.json", NULL, &r), 200);
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/fault-bkt/data/a.json", NULL, &r), 500);
    ck_assert_ptr_nonnull(strstr(r.body, "<Code>InternalError</Code>"));
    ck_assert_ptr_nonnull(strstr(r.body, "We encountered an internal error"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/fault-bkt/data/a.json", NULL, &r), 200);
    gr_resp_free(&r);
    /* counters over HTTP */
    ck_assert_int_eq(gr_request_unsigned(&srv, "GET", "/_greenroom/faults", NULL, NULL, 0, &r), 0);
    cJSON *list = gr_resp_json(&r);
    gr_resp_free(&r);
    ck_assert_int_eq(cJSON_GetArraySize(list), 2);
    const cJSON *boom = cJSON_GetArrayItem(list, 1);
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(boom, "matched")->valueint, 3);
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(boom, "fired")->valueint, 1);
    cJSON_Delete(list);
    /* a bad rule: 400 naming the field, rules unchanged */
    const char *bad = "[{\"service\":\"s3\",\"opration\":\"GetObject\",\"reset\":true}]";
    ck_assert_int_eq(
        gr_request_unsigned(&srv, "POST", "/_greenroom/faults", NULL, bad, strlen(bad), &r), 0);
    ck_assert_int_eq(r.status, 400);
    ck_assert_ptr_nonnull(strstr(r.body, "opration"));
    gr_resp_free(&r);
    ck_assert_int_eq(gr_request_unsigned(&srv, "DELETE", "/_greenroom/faults", NULL, NULL, 0, &r),
                     0);
    ck_assert_int_eq(r.status, 200);
    gr_resp_free(&r);
}
END_TEST

START_TEST(test_http_reset_and_latency)
{
    struct gr_resp r;
    post_rules("[{\"service\":\"sts\",\"nth\":1,\"reset\":true},"
               "{\"id\":\"slow\",\"service\":\"iam\",\"latency\":{\"ms\":300,\"jitterMs\":50}}]");
    /* reset: no HTTP answer at all, then normal service */
    ck_assert_int_eq(tk_query(&srv, "sts", STS_WHO, &r), -1);
    ck_assert_int_eq(tk_query(&srv, "sts", STS_WHO, &r), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "GetCallerIdentityResult"));
    gr_resp_free(&r);
    /* latency: a normal answer, later (no timing assertion: the rule's
     * counters say it fired) */
    ck_assert_int_eq(tk_query(&srv, "iam", "Action=ListRoles&Version=2010-05-08", &r), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "ListRolesResult"));
    gr_resp_free(&r);
    ck_assert_int_eq(gr_request_unsigned(&srv, "GET", "/_greenroom/faults", NULL, NULL, 0, &r), 0);
    cJSON *list = gr_resp_json(&r);
    gr_resp_free(&r);
    ck_assert_int_eq(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, 0), "fired")->valueint, 1);
    ck_assert_int_eq(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, 1), "fired")->valueint, 1);
    cJSON_Delete(list);
}
END_TEST

struct client_arg {
    int errors;
    int ok;
};

static void *client(void *p)
{
    struct client_arg *a = p;
    for (int i = 0; i < 25; i++) {
        struct gr_resp r;
        long st = tk_query(&srv, "sts", STS_WHO, &r);
        if (st == 400) {
            a->errors++;
        } else if (st == 200) {
            a->ok++;
        }
        if (st >= 0) {
            gr_resp_free(&r);
        }
    }
    return NULL;
}

START_TEST(test_http_ordinal_concurrent_clients)
{
    struct gr_resp r;
    pthread_t th[6];
    struct client_arg args[6];
    post_rules("[{\"id\":\"n\",\"service\":\"sts\",\"operation\":\"GetCallerIdentity\",\"nth\":77,"
               "\"throttle\":{}},"
               "{\"id\":\"a\",\"service\":\"sts\",\"after\":140,\"throttle\":{}}]");
    memset(args, 0, sizeof(args));
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(pthread_create(&th[i], NULL, client, &args[i]), 0);
    }
    int errors = 0, ok = 0;
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        errors += args[i].errors;
        ok += args[i].ok;
    }
    /* 150 calls from 6 clients: the 77th, and the 141st to 150th */
    ck_assert_int_eq(errors + ok, 150);
    ck_assert_int_eq(errors, 11);
    ck_assert_int_eq(gr_request_unsigned(&srv, "DELETE", "/_greenroom/faults", NULL, NULL, 0, &r),
                     0);
    gr_resp_free(&r);
    ck_assert_int_eq(tk_query(&srv, "sts", STS_WHO, &r), 200);
    gr_resp_free(&r);
}
END_TEST

START_TEST(test_http_localstack_endpoint)
{
    struct gr_resp r;
    const char *rules = "[{\"service\":\"sts\",\"region\":\"us-east-1\","
                        "\"operation\":\"GetCallerIdentity\"}]";
    ck_assert_int_eq(gr_request_unsigned(&srv, "POST", "/_localstack/chaos/faults", NULL, rules,
                                         strlen(rules), &r),
                     0);
    ck_assert_int_eq(r.status, 200);
    gr_resp_free(&r);
    ck_assert_int_eq(tk_query(&srv, "sts", STS_WHO, &r), 503);
    ck_assert_ptr_nonnull(strstr(r.body, "ServiceUnavailable"));
    gr_resp_free(&r);
    ck_assert_int_eq(tk_query(&srv, "iam", "Action=ListRoles&Version=2010-05-08", &r), 200);
    gr_resp_free(&r);
    ck_assert_int_eq(gr_request_unsigned(&srv, "DELETE", "/_localstack/chaos/faults", NULL, rules,
                                         strlen(rules), &r),
                     0);
    ck_assert_int_eq(r.status, 200);
    gr_resp_free(&r);
    ck_assert_int_eq(tk_query(&srv, "sts", STS_WHO, &r), 200);
    gr_resp_free(&r);
}
END_TEST

START_TEST(test_http_crash_and_restart)
{
    struct gr_resp r;
    char form[1024];
    /* every write acknowledged before the crash must survive it */
    for (int i = 0; i < 20; i++) {
        snprintf(
            form, sizeof(form),
            "Action=CreateRole&Version=2010-05-08&RoleName=acked-%02d&AssumeRolePolicyDocument=%s",
            i, ASSUME_DOC);
        ck_assert_int_eq(tk_query(&srv, "iam", form, &r), 200);
        gr_resp_free(&r);
    }
    post_rules("[{\"id\":\"die\",\"service\":\"iam\",\"operation\":\"CreateRole\","
               "\"crash\":true}]");
    snprintf(form, sizeof(form),
             "Action=CreateRole&Version=2010-05-08&RoleName=never&AssumeRolePolicyDocument=%s",
             ASSUME_DOC);
    ck_assert_int_eq(tk_query(&srv, "iam", form, &r), -1);
    /* the process is gone */
    int status = 0;
    pid_t w = 0;
    for (int i = 0; i < 250 && w == 0; i++) {
        w = waitpid(srv.pid, &status, WNOHANG);
        if (w == 0) {
            usleep(20000);
        }
    }
    ck_assert_int_eq(w, srv.pid);
    ck_assert_msg(gr_restart(&srv, NULL) == 0, "restart failed");
    for (int i = 0; i < 20; i++) {
        snprintf(form, sizeof(form), "Action=GetRole&Version=2010-05-08&RoleName=acked-%02d", i);
        ck_assert_int_eq(tk_query(&srv, "iam", form, &r), 200);
        ck_assert_ptr_nonnull(strstr(r.body, "acked-"));
        gr_resp_free(&r);
    }
    ck_assert_int_eq(tk_query(&srv, "iam", "Action=GetRole&Version=2010-05-08&RoleName=never", &r),
                     404);
    gr_resp_free(&r);
    /* rules are not kept across a restart: the crash rule is gone */
    ck_assert_int_eq(tk_query(&srv, "iam", form, &r), 200);
    gr_resp_free(&r);
    snprintf(form, sizeof(form),
             "Action=CreateRole&Version=2010-05-08&RoleName=after&AssumeRolePolicyDocument=%s",
             ASSUME_DOC);
    ck_assert_int_eq(tk_query(&srv, "iam", form, &r), 200);
    gr_resp_free(&r);
}
END_TEST

/* Two runs: the unit tcases without a fixture (Check's default timeout),
 * then the ones against a greenroom of their own. */
int main(void)
{
    const struct kit_case unit[] = {
        {"match", test_match_each_matcher, NULL},
        {"match_resources", test_match_resources, NULL},
        {"match_globs", test_match_globs_and_case, NULL},
        {"ordinal", test_ordinal_nth_after_times, NULL},
        {"ordinal_concurrent", test_ordinal_concurrent, NULL},
        {"probability", test_probability_seeded, NULL},
        {"schema", test_schema_validation, NULL},
        {"error", test_actions_error_defaults, NULL},
        {"throttle", test_actions_throttle_per_service, NULL},
        {"latency_flags", test_actions_latency_and_flags, NULL},
        {"cfn_resource", test_cfn_resource_failure, NULL},
        {"overhead", test_overhead_100_rules, NULL},
        {"http_crud", test_http_crud, NULL},
        {"localstack", test_http_localstack_schema, NULL},
    };
    const struct kit_case live[] = {
        {"server_error_query", test_http_error_rendered_query, NULL},
        {"server_error_s3", test_http_error_rendered_s3, NULL},
        {"server_reset_latency", test_http_reset_and_latency, NULL},
        {"server_ordinal_concurrent", test_http_ordinal_concurrent_clients, NULL},
        {"server_localstack", test_http_localstack_endpoint, NULL},
        {"server_crash_restart", test_http_crash_and_restart, NULL},
    };
    int unit_rc = KIT_RUN("fault", unit, NULL, NULL, 0);
    int live_rc = KIT_RUN("fault_server", live, start_server, stop_server, 60);
    return unit_rc == EXIT_SUCCESS && live_rc == EXIT_SUCCESS ? EXIT_SUCCESS : EXIT_FAILURE;
}
