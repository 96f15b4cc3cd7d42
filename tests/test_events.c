/*
 * test_events.c - CloudWatch Events (and IoT topic rules) against a real
 * greenroom: one tcase per operation; schedules firing through
 * POST /_greenroom/events/rules/{name}/trigger into a node Lambda function
 * (AWS's scheduled-event shape, the target's Input, the function policy
 * checked for events.amazonaws.com) and on the clock (rate() scaled down by
 * GREENROOM_SCHEDULE_SCALE so a minute lasts 1.2 s); PutEvents pattern
 * matching into an SQS target.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testkit.h"

static struct gr_server srv;
static char tmp[256];

#define RULE_ARN "arn:aws:events:us-east-1:000000000000:rule/"
#define FN_ARN "arn:aws:lambda:us-east-1:000000000000:function:"

static void setup(void)
{
    kit_start(&srv, tmp, sizeof(tmp));
}

static void setup_fast_clock(void)
{
    setenv("GREENROOM_SCHEDULE_SCALE", "0.02", 1);
    setup();
}

static void teardown(void)
{
    kit_stop(&srv, tmp);
}

/* An Events call expecting `want`; returns the parsed answer. */
static cJSON *ev(long want, const char *op, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static cJSON *ev(long want, const char *op, const char *fmt, ...)
{
    char body[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    char target[96];
    snprintf(target, sizeof(target), "AWSEvents.%s", op);
    return kit_json(&srv, "events", target, "application/x-amz-json-1.1", want, body, NULL, 0);
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* An Events call expecting `want` and an error of __type `type`. */
static void ev_fails(long want, const char *type, const char *op, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void ev_fails(long want, const char *type, const char *op, const char *fmt, ...)
{
    char body[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    cJSON *j = ev(want, op, "%s", body);
    ck_assert_str_eq(jstr(j, "__type"), type);
    cJSON_Delete(j);
}

/* POST /_greenroom/events/rules/{name}/trigger; returns the answer. */
static cJSON *trigger(const char *name, long want)
{
    char path[256];
    snprintf(path, sizeof(path), "/_greenroom/events/rules/%s/trigger", name);
    struct gr_resp r;
    ck_assert_int_eq(gr_request_unsigned(&srv, "POST", path, NULL, "", 0, &r), 0);
    if (r.status != want) {
        fprintf(stderr, "trigger %s -> %ld %s\n", name, r.status, r.body);
    }
    ck_assert_int_eq(r.status, want);
    cJSON *j = gr_resp_json(&r);
    gr_resp_free(&r);
    ck_assert_ptr_nonnull(j);
    return j;
}

/* Message bodies now in queue (up to 10, long poll `wait` s), as a cJSON
 * array of strings (caller deletes). */
static cJSON *receive(const char *queue, int wait)
{
    cJSON *msgs = kit_receive(&srv, queue, wait);
    cJSON *out = cJSON_CreateArray();
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs)
    {
        cJSON_AddItemToArray(out, cJSON_CreateString(jstr(m, "Body")));
    }
    cJSON_Delete(msgs);
    return out;
}

START_TEST(test_put_rule)
{
    cJSON *j =
        ev(200, "PutRule", "{\"Name\":\"every5\",\"ScheduleExpression\":\"rate(5 minutes)\"}");
    ck_assert_str_eq(jstr(j, "RuleArn"), RULE_ARN "every5");
    cJSON_Delete(j);
    static const char *const good[] = {"rate(1 minute)",
                                       "rate(2 hours)",
                                       "rate(1 day)",
                                       "cron(0 12 * * ? *)",
                                       "cron(0/15 * ? * MON-FRI *)",
                                       "cron(0 8 1 JAN,JUL ? 2030)",
                                       "cron(0 10 ? * 6L *)",
                                       "cron(0 10 ? * 2#1 *)",
                                       "cron(0 0 L * ? *)",
                                       "cron(30 9 15W * ? *)"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        cJSON_Delete(
            ev(200, "PutRule", "{\"Name\":\"ok%zu\",\"ScheduleExpression\":\"%s\"}", i, good[i]));
    }
    static const char *const bad[] = {
        "rate(1 minutes)",  "rate(5 minute)",     "rate(0 minutes)",    "rate(5 weeks)",
        "cron(0 12 * * *)", "cron(0 12 * * * *)", "cron(61 * * * ? *)", "every day"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ev_fails(400, "ValidationException", "PutRule",
                 "{\"Name\":\"bad\",\"ScheduleExpression\":\"%s\"}", bad[i]);
    }
    ev_fails(400, "InvalidEventPatternException", "PutRule",
             "{\"Name\":\"pat\",\"EventPattern\":\"{\\\"source\\\":\\\"x\\\"}\"}");
    ev_fails(400, "ValidationException", "PutRule", "{\"Name\":\"neither\"}");
    j = ev(400, "PutRule", "{\"Name\":\"bad name\",\"ScheduleExpression\":\"rate(1 day)\"}");
    cJSON_Delete(j);
    /* PutRule again updates in place */
    cJSON_Delete(ev(200, "PutRule",
                    "{\"Name\":\"every5\",\"ScheduleExpression\":\"rate(10 minutes)\","
                    "\"Description\":\"d\"}"));
    j = ev(200, "DescribeRule", "{\"Name\":\"every5\"}");
    ck_assert_str_eq(jstr(j, "ScheduleExpression"), "rate(10 minutes)");
    ck_assert_str_eq(jstr(j, "Description"), "d");
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_describe_list_rules)
{
    cJSON_Delete(ev(200, "PutRule",
                    "{\"Name\":\"a-rule\",\"ScheduleExpression\":\"rate(1 hour)\",\"State\":"
                    "\"DISABLED\"}"));
    cJSON_Delete(
        ev(200, "PutRule",
           "{\"Name\":\"a-pattern\",\"EventPattern\":\"{\\\"source\\\":[\\\"my.app\\\"]}\"}"));
    cJSON_Delete(
        ev(200, "PutRule", "{\"Name\":\"b-rule\",\"ScheduleExpression\":\"rate(1 day)\"}"));
    cJSON *j = ev(200, "DescribeRule", "{\"Name\":\"a-rule\"}");
    ck_assert_str_eq(jstr(j, "Name"), "a-rule");
    ck_assert_str_eq(jstr(j, "Arn"), RULE_ARN "a-rule");
    ck_assert_str_eq(jstr(j, "State"), "DISABLED");
    ck_assert_str_eq(jstr(j, "EventBusName"), "default");
    cJSON_Delete(j);
    j = ev(200, "DescribeRule", "{\"Name\":\"a-pattern\"}");
    ck_assert_str_eq(jstr(j, "EventPattern"), "{\"source\":[\"my.app\"]}");
    cJSON_Delete(j);
    ev_fails(400, "ResourceNotFoundException", "DescribeRule", "{\"Name\":\"missing\"}");
    j = ev(200, "ListRules", "{\"NamePrefix\":\"a-\"}");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "Rules")), 2);
    cJSON_Delete(j);
    j = ev(200, "ListRules", "{\"Limit\":2}");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "Rules")), 2);
    char body[256];
    snprintf(body, sizeof(body), "{\"Limit\":2,\"NextToken\":\"%s\"}", jstr(j, "NextToken"));
    cJSON_Delete(j);
    j = ev(200, "ListRules", "%s", body);
    cJSON *rules = cJSON_GetObjectItem(j, "Rules");
    ck_assert_int_eq(cJSON_GetArraySize(rules), 1);
    ck_assert_str_eq(jstr(cJSON_GetArrayItem(rules, 0), "Name"), "b-rule");
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_enable_disable_delete)
{
    cJSON_Delete(ev(200, "PutRule", "{\"Name\":\"r\",\"ScheduleExpression\":\"rate(1 day)\"}"));
    cJSON_Delete(ev(200, "DisableRule", "{\"Name\":\"r\"}"));
    cJSON *j = ev(200, "DescribeRule", "{\"Name\":\"r\"}");
    ck_assert_str_eq(jstr(j, "State"), "DISABLED");
    cJSON_Delete(j);
    cJSON_Delete(ev(200, "EnableRule", "{\"Name\":\"r\"}"));
    j = ev(200, "DescribeRule", "{\"Name\":\"r\"}");
    ck_assert_str_eq(jstr(j, "State"), "ENABLED");
    cJSON_Delete(j);
    cJSON_Delete(ev(400, "EnableRule", "{\"Name\":\"missing\"}"));
    cJSON_Delete(ev(200, "PutTargets",
                    "{\"Rule\":\"r\",\"Targets\":[{\"Id\":\"t\",\"Arn\":\"" FN_ARN "f:dev\"}]}"));
    j = ev(400, "DeleteRule", "{\"Name\":\"r\"}");
    ck_assert_ptr_nonnull(strstr(jstr(j, "message"), "has targets"));
    cJSON_Delete(j);
    cJSON_Delete(ev(200, "RemoveTargets", "{\"Rule\":\"r\",\"Ids\":[\"t\"]}"));
    cJSON_Delete(ev(200, "DeleteRule", "{\"Name\":\"r\"}"));
    cJSON_Delete(ev(400, "DescribeRule", "{\"Name\":\"r\"}"));
}
END_TEST

START_TEST(test_targets)
{
    cJSON *j = ev(400, "PutTargets",
                  "{\"Rule\":\"none\",\"Targets\":[{\"Id\":\"t\",\"Arn\":\"" FN_ARN "f\"}]}");
    ck_assert_str_eq(jstr(j, "__type"), "ResourceNotFoundException");
    cJSON_Delete(j);
    cJSON_Delete(ev(200, "PutRule", "{\"Name\":\"r\",\"ScheduleExpression\":\"rate(1 day)\"}"));
    j = ev(200, "PutTargets",
           "{\"Rule\":\"r\",\"Targets\":[{\"Id\":\"cd-example-f\",\"Arn\":\"" FN_ARN
           "cd-example-f:dev\",\"Input\":\"{\\\"a\\\":1}\"},{\"Id\":\"bad\",\"Arn\":\"nope\"}]}");
    ck_assert_int_eq(cJSON_GetObjectItem(j, "FailedEntryCount")->valueint, 1);
    ck_assert_str_eq(
        jstr(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "FailedEntries"), 0), "TargetId"), "bad");
    cJSON_Delete(j);
    j = ev(200, "ListTargetsByRule", "{\"Rule\":\"r\"}");
    cJSON *t = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "Targets"), 0);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "Targets")), 1);
    ck_assert_str_eq(jstr(t, "Id"), "cd-example-f");
    ck_assert_str_eq(jstr(t, "Arn"), FN_ARN "cd-example-f:dev");
    ck_assert_str_eq(jstr(t, "Input"), "{\"a\":1}");
    cJSON_Delete(j);
    j = ev(200, "ListRuleNamesByTarget", "{\"TargetArn\":\"" FN_ARN "cd-example-f:dev\"}");
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "RuleNames"), 0)->valuestring, "r");
    cJSON_Delete(j);
    j = ev(200, "RemoveTargets", "{\"Rule\":\"r\",\"Ids\":[\"cd-example-f\",\"ghost\"]}");
    ck_assert_int_eq(cJSON_GetObjectItem(j, "FailedEntryCount")->valueint, 1);
    cJSON_Delete(j);
    j = ev(200, "ListTargetsByRule", "{\"Rule\":\"r\"}");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "Targets")), 0);
    cJSON_Delete(j);
    /* five targets per rule */
    for (int i = 0; i < 5; i++) {
        cJSON_Delete(ev(200, "PutTargets",
                        "{\"Rule\":\"r\",\"Targets\":[{\"Id\":\"t%d\",\"Arn\":\"" FN_ARN "f\"}]}",
                        i));
    }
    ev_fails(400, "LimitExceededException", "PutTargets",
             "{\"Rule\":\"r\",\"Targets\":[{\"Id\":\"t9\",\"Arn\":\"" FN_ARN "f\"}]}");
}
END_TEST

START_TEST(test_trigger_lambda)
{
    char out[400];
    snprintf(out, sizeof(out), "%s/sched.jsonl", tmp);
    ck_assert_int_eq(tk_make_function(&srv, "cd-example-cron", out, ""), 0);
    cJSON_Delete(ev(200, "PutRule",
                    "{\"Name\":\"cd-example-cron-tick-dev\",\"ScheduleExpression\":"
                    "\"rate(5 minutes)\",\"State\":\"ENABLED\"}"));
    ck_assert_int_eq(tk_permit(&srv, "cd-example-cron", "dev", "events.amazonaws.com",
                               RULE_ARN "cd-example-cron-tick-dev"),
                     201);
    cJSON_Delete(ev(200, "PutTargets",
                    "{\"Rule\":\"cd-example-cron-tick-dev\",\"Targets\":[{\"Id\":\"cron\","
                    "\"Arn\":\"" FN_ARN "cd-example-cron:dev\"}]}"));
    cJSON *j = trigger("cd-example-cron-tick-dev", 200);
    ck_assert_str_eq(jstr(j, "arn"), RULE_ARN "cd-example-cron-tick-dev");
    cJSON *t0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "targets"), 0);
    ck_assert_int_eq(cJSON_GetObjectItem(t0, "StatusCode")->valueint, 202);
    cJSON_Delete(j);
    char *got = tk_wait_file(out, "Scheduled Event", 1, 30);
    ck_assert_ptr_nonnull(got);
    cJSON *line = cJSON_Parse(got);
    free(got);
    ck_assert_str_eq(jstr(line, "arn"), FN_ARN "cd-example-cron:dev");
    cJSON *e = cJSON_GetObjectItem(line, "event");
    ck_assert_str_eq(jstr(e, "version"), "0");
    ck_assert_int_eq(strlen(jstr(e, "id")), 36);
    ck_assert_str_eq(jstr(e, "detail-type"), "Scheduled Event");
    ck_assert_str_eq(jstr(e, "source"), "aws.events");
    ck_assert_str_eq(jstr(e, "account"), "000000000000");
    ck_assert_str_eq(jstr(e, "region"), "us-east-1");
    ck_assert_int_eq(strlen(jstr(e, "time")), 20);
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(e, "resources"), 0)->valuestring,
                     RULE_ARN "cd-example-cron-tick-dev");
    ck_assert(cJSON_IsObject(cJSON_GetObjectItem(e, "detail")));
    cJSON_Delete(line);
    /* a target's Input replaces the event */
    cJSON_Delete(ev(200, "PutTargets",
                    "{\"Rule\":\"cd-example-cron-tick-dev\",\"Targets\":[{\"Id\":\"cron\","
                    "\"Arn\":\"" FN_ARN "cd-example-cron:dev\",\"Input\":"
                    "\"{\\\"custom\\\":\\\"input\\\"}\"}]}"));
    cJSON_Delete(trigger("cd-example-cron-tick-dev", 200));
    got = tk_wait_file(out, "custom", 2, 30);
    ck_assert_ptr_nonnull(got);
    ck_assert_ptr_nonnull(strstr(got, "{\"event\":{\"custom\":\"input\"}"));
    free(got);
    ck_assert_int_ge(tk_journal_count(&srv, "lambda", "Invoke", 202, NULL), 2);
    /* unknown rule */
    j = trigger("nope", 404);
    ck_assert_str_eq(jstr(j, "error"), "ResourceNotFoundException");
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_trigger_denied)
{
    char out[400];
    snprintf(out, sizeof(out), "%s/denied.jsonl", tmp);
    ck_assert_int_eq(tk_make_function(&srv, "no-perm", out, ""), 0);
    cJSON_Delete(ev(200, "PutRule", "{\"Name\":\"np\",\"ScheduleExpression\":\"rate(1 day)\"}"));
    /* a permission for SNS does not let Events in */
    ck_assert_int_eq(tk_permit(&srv, "no-perm", "dev", "sns.amazonaws.com", NULL), 201);
    cJSON_Delete(ev(200, "PutTargets",
                    "{\"Rule\":\"np\",\"Targets\":[{\"Id\":\"t\",\"Arn\":\"" FN_ARN
                    "no-perm:dev\"}]}"));
    cJSON *j = trigger("np", 200);
    cJSON *t0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "targets"), 0);
    ck_assert_int_eq(cJSON_GetObjectItem(t0, "StatusCode")->valueint, 403);
    ck_assert_str_eq(jstr(t0, "ErrorCode"), "AccessDeniedException");
    cJSON_Delete(j);
    ck_assert_int_eq(tk_journal_count(&srv, "lambda", "Invoke", 403, "AccessDeniedException"), 1);
    size_t len = 0;
    char *c = gr_read_file(out, &len);
    ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_trigger_sns_target)
{
    free(kit_query(&srv, "sns", 200, NULL, "Action=CreateTopic&Name=fanout"));
    kit_make_queue(&srv, "fanq");
    free(kit_query(&srv, "sns", 200, NULL,
                   "Action=Subscribe&TopicArn=arn:aws:sns:us-east-1:000000000000:fanout&"
                   "Protocol=sqs&Endpoint=arn:aws:sqs:us-east-1:000000000000:fanq"));
    cJSON_Delete(
        ev(200, "PutRule", "{\"Name\":\"to-sns\",\"ScheduleExpression\":\"rate(1 day)\"}"));
    cJSON_Delete(ev(200, "PutTargets",
                    "{\"Rule\":\"to-sns\",\"Targets\":[{\"Id\":\"t\",\"Arn\":"
                    "\"arn:aws:sns:us-east-1:000000000000:fanout\"}]}"));
    cJSON *j = trigger("to-sns", 200);
    ck_assert_int_eq(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "targets"), 0), "StatusCode")
            ->valueint,
        200);
    cJSON_Delete(j);
    /* Events -> SNS -> SQS: the envelope's Message is the scheduled event */
    cJSON *b = receive("fanq", 10);
    ck_assert_int_eq(cJSON_GetArraySize(b), 1);
    cJSON *env = cJSON_Parse(cJSON_GetArrayItem(b, 0)->valuestring);
    ck_assert_str_eq(jstr(env, "Type"), "Notification");
    cJSON *e = cJSON_Parse(jstr(env, "Message"));
    ck_assert_str_eq(jstr(e, "detail-type"), "Scheduled Event");
    cJSON_Delete(e);
    cJSON_Delete(env);
    cJSON_Delete(b);
    ck_assert_int_ge(tk_journal_count(&srv, "sns", "Publish", 200, NULL), 1);
}
END_TEST

START_TEST(test_schedule_clock)
{
    kit_make_queue(&srv, "ticks");
    kit_make_queue(&srv, "never");
    cJSON_Delete(
        ev(200, "PutRule", "{\"Name\":\"tick\",\"ScheduleExpression\":\"rate(1 minute)\"}"));
    cJSON_Delete(ev(200, "PutTargets",
                    "{\"Rule\":\"tick\",\"Targets\":[{\"Id\":\"q\",\"Arn\":"
                    "\"arn:aws:sqs:us-east-1:000000000000:ticks\"}]}"));
    cJSON_Delete(ev(200, "PutRule",
                    "{\"Name\":\"off\",\"ScheduleExpression\":\"rate(1 minute)\",\"State\":"
                    "\"DISABLED\"}"));
    cJSON_Delete(ev(200, "PutTargets",
                    "{\"Rule\":\"off\",\"Targets\":[{\"Id\":\"q\",\"Arn\":"
                    "\"arn:aws:sqs:us-east-1:000000000000:never\"}]}"));
    /* with GREENROOM_SCHEDULE_SCALE=0.02 a minute lasts 1.2 s: two firings */
    int n = 0;
    for (int i = 0; i < 10 && n < 2; i++) {
        cJSON *b = receive("ticks", 5);
        const cJSON *m;
        cJSON_ArrayForEach(m, b)
        {
            cJSON *e = cJSON_Parse(m->valuestring);
            ck_assert_str_eq(jstr(e, "detail-type"), "Scheduled Event");
            ck_assert_str_eq(
                cJSON_GetArrayItem(cJSON_GetObjectItem(e, "resources"), 0)->valuestring,
                RULE_ARN "tick");
            cJSON_Delete(e);
            n++;
        }
        cJSON_Delete(b);
    }
    ck_assert_int_ge(n, 2);
    cJSON *b = receive("never", 0);
    ck_assert_int_eq(cJSON_GetArraySize(b), 0);
    cJSON_Delete(b);
    /* disabling stops it */
    cJSON_Delete(ev(200, "DisableRule", "{\"Name\":\"tick\"}"));
    struct timespec ts = {1, 500 * 1000 * 1000};
    nanosleep(&ts, NULL);
    cJSON_Delete(receive("ticks", 0)); /* drain a firing racing the disable */
    nanosleep(&ts, NULL);
    nanosleep(&ts, NULL);
    b = receive("ticks", 0);
    ck_assert_int_eq(cJSON_GetArraySize(b), 0);
    cJSON_Delete(b);
}
END_TEST

START_TEST(test_put_events)
{
    kit_make_queue(&srv, "matched");
    cJSON_Delete(ev(200, "PutRule",
                    "{\"Name\":\"books\",\"EventPattern\":\"{\\\"source\\\":[\\\"cd.books\\\"],"
                    "\\\"detail\\\":{\\\"type\\\":[\\\"added\\\"],\\\"pages\\\":[{\\\"numeric\\\":"
                    "[\\\">\\\",100]}]}}\"}"));
    cJSON_Delete(ev(200, "PutTargets",
                    "{\"Rule\":\"books\",\"Targets\":[{\"Id\":\"q\",\"Arn\":"
                    "\"arn:aws:sqs:us-east-1:000000000000:matched\",\"InputPath\":"
                    "\"$.detail\"}]}"));
    kit_make_queue(&srv, "shaped");
    cJSON_Delete(ev(200, "PutTargets",
                    "{\"Rule\":\"books\",\"Targets\":[{\"Id\":\"x\",\"Arn\":"
                    "\"arn:aws:sqs:us-east-1:000000000000:shaped\",\"InputTransformer\":{"
                    "\"InputPathsMap\":{\"t\":\"$.detail.type\",\"p\":\"$.detail.pages\"},"
                    "\"InputTemplate\":\"{\\\"what\\\":\\\"<t>\\\",\\\"n\\\":<p>}\"}}]}"));
    cJSON *j = ev(200, "PutEvents",
                  "{\"Entries\":[{\"Source\":\"cd.books\",\"DetailType\":\"book\",\"Detail\":"
                  "\"{\\\"type\\\":\\\"added\\\",\\\"pages\\\":412}\"},{\"Source\":\"cd.books\","
                  "\"DetailType\":\"book\",\"Detail\":\"{\\\"type\\\":\\\"added\\\",\\\"pages\\\":"
                  "12}\"},{\"Source\":\"other\",\"DetailType\":\"book\",\"Detail\":"
                  "\"{\\\"type\\\":\\\"added\\\",\\\"pages\\\":999}\"},{\"Source\":\"x\"}]}");
    ck_assert_int_eq(cJSON_GetObjectItem(j, "FailedEntryCount")->valueint, 1);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "Entries")), 4);
    cJSON_Delete(j);
    cJSON *b = receive("matched", 5);
    ck_assert_int_eq(cJSON_GetArraySize(b), 1);
    ck_assert_str_eq(cJSON_GetArrayItem(b, 0)->valuestring, "{\"type\":\"added\",\"pages\":412}");
    cJSON_Delete(b);
    b = receive("matched", 1);
    ck_assert_int_eq(cJSON_GetArraySize(b), 0);
    cJSON_Delete(b);
    b = receive("shaped", 5);
    ck_assert_int_eq(cJSON_GetArraySize(b), 1);
    ck_assert_str_eq(cJSON_GetArrayItem(b, 0)->valuestring, "{\"what\":\"added\",\"n\":412}");
    cJSON_Delete(b);
}
END_TEST

START_TEST(test_test_event_pattern)
{
    cJSON *j = ev(200, "TestEventPattern",
                  "{\"EventPattern\":\"{\\\"source\\\":[{\\\"prefix\\\":\\\"aws.\\\"}]}\","
                  "\"Event\":\"{\\\"source\\\":\\\"aws.events\\\"}\"}");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "Result")));
    cJSON_Delete(j);
    j = ev(200, "TestEventPattern",
           "{\"EventPattern\":\"{\\\"source\\\":[{\\\"anything-but\\\":\\\"aws.events\\\"}]}\","
           "\"Event\":\"{\\\"source\\\":\\\"aws.events\\\"}\"}");
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(j, "Result")));
    cJSON_Delete(j);
    ev_fails(400, "InvalidEventPatternException", "TestEventPattern",
             "{\"EventPattern\":\"[1]\",\"Event\":\"{}\"}");
}
END_TEST

/* IoT topic rules: stored and reported only. */
static long iot(const char *method, const char *path, const char *body, cJSON **out)
{
    struct gr_resp r;
    ck_assert_int_eq(
        gr_request(&srv, "iot", method, path, tk_json_hdr, body, body ? strlen(body) : 0, &r), 0);
    long st = r.status;
    if (out) {
        *out = gr_resp_json(&r);
    }
    gr_resp_free(&r);
    return st;
}

START_TEST(test_iot_topic_rules)
{
    const char *payload = "{\"sql\":\"SELECT * FROM 'books/#'\",\"description\":\"d\","
                          "\"ruleDisabled\":false,\"actions\":[{\"lambda\":{\"functionArn\":"
                          "\"" FN_ARN "cd-example-iot:dev\"}}]}";
    cJSON *j = NULL;
    ck_assert_int_eq(iot("GET", "/rules/books_rule", NULL, &j), 401);
    ck_assert_ptr_nonnull(strstr(jstr(j, "message"), "books_rule"));
    cJSON_Delete(j);
    ck_assert_int_eq(iot("POST", "/rules/books_rule", payload, NULL), 200);
    ck_assert_int_eq(iot("POST", "/rules/books_rule", payload, NULL), 409);
    ck_assert_int_eq(iot("GET", "/rules/books_rule", NULL, &j), 200);
    ck_assert_str_eq(jstr(j, "ruleArn"), "arn:aws:iot:us-east-1:000000000000:rule/books_rule");
    cJSON *rule = cJSON_GetObjectItem(j, "rule");
    ck_assert_str_eq(jstr(rule, "sql"), "SELECT * FROM 'books/#'");
    ck_assert_str_eq(
        jstr(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(rule, "actions"), 0),
                                 "lambda"),
             "functionArn"),
        FN_ARN "cd-example-iot:dev");
    cJSON_Delete(j);
    ck_assert_int_eq(
        iot("PATCH", "/rules/books_rule", "{\"sql\":\"SELECT a FROM 'b'\",\"actions\":[]}", NULL),
        200);
    ck_assert_int_eq(iot("GET", "/rules/books_rule", NULL, &j), 200);
    ck_assert_str_eq(jstr(cJSON_GetObjectItem(j, "rule"), "sql"), "SELECT a FROM 'b'");
    cJSON_Delete(j);
    ck_assert_int_eq(iot("GET", "/rules", NULL, &j), 200);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "rules")), 1);
    cJSON_Delete(j);
    ck_assert_int_eq(iot("POST", "/rules/bad", "{\"sql\":\"DROP TABLE x\"}", &j), 400);
    ck_assert_str_eq(jstr(j, "message"), "Expected SELECT at 1:1 in the rule query.");
    cJSON_Delete(j);
    ck_assert_int_eq(iot("POST", "/rules/bad-name", payload, NULL), 400);
    ck_assert_int_eq(iot("DELETE", "/rules/books_rule", NULL, NULL), 200);
    ck_assert_int_eq(iot("DELETE", "/rules/books_rule", NULL, NULL), 401);
}
END_TEST

int main(void)
{
    const struct kit_case cases[] = {
        {"PutRule", test_put_rule, NULL},
        {"DescribeListRules", test_describe_list_rules, NULL},
        {"EnableDisableDelete", test_enable_disable_delete, NULL},
        {"Targets", test_targets, NULL},
        {"TriggerLambda", test_trigger_lambda, NULL},
        {"TriggerDenied", test_trigger_denied, NULL},
        {"TriggerSnsTarget", test_trigger_sns_target, NULL},
        {"ScheduleClock", test_schedule_clock, setup_fast_clock},
        {"PutEvents", test_put_events, NULL},
        {"TestEventPattern", test_test_event_pattern, NULL},
        {"IotTopicRules", test_iot_topic_rules, NULL},
    };
    return KIT_RUN("events", cases, setup, teardown, 60);
}
