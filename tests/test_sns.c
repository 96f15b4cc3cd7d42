/*
 * test_sns.c - SNS against a real greenroom: one tcase per operation, and
 * deliveries for real: to an SQS queue (the SNS envelope, raw delivery,
 * filter policies), to a node Lambda function through its alias (AWS's SNS
 * event shape, the function policy checked: denied without a permission for
 * sns.amazonaws.com), and to a loopback HTTP endpoint (subscription
 * confirmation, retries after a 500).
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events_testkit.h"

static struct gr_server srv;
static char tmp[256];

#define TOPIC "arn:aws:sns:us-east-1:000000000000:"

static void setup(void)
{
    gr_set_credentials("test", "test", "us-east-1");
    ck_assert_int_eq(gr_start(&srv, NULL), 0);
    tk_tmpdir(tmp, sizeof(tmp));
}

static void teardown(void)
{
    gr_stop(&srv);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    gr_sh(NULL, cmd, NULL);
}

/* SNS query call expecting `want`; returns the body (caller frees). */
static char *sns(long want, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *sns(long want, const char *fmt, ...)
{
    char body[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    struct gr_resp r;
    long st = tk_query(&srv, "sns", body, &r);
    if (st != want) {
        fprintf(stderr, "sns %s -> %ld %s\n", body, st, r.body ? r.body : "");
    }
    ck_assert_int_eq(st, want);
    char *out = strdup(r.body ? r.body : "");
    gr_resp_free(&r);
    return out;
}

static void make_queue(const char *name)
{
    char body[256];
    snprintf(body, sizeof(body), "Action=CreateQueue&QueueName=%s", name);
    struct gr_resp r;
    ck_assert_int_eq(tk_query(&srv, "sqs", body, &r), 200);
    gr_resp_free(&r);
}

/* Receives up to 10 messages from queue (long poll up to `wait` s) and
 * returns their bodies as a cJSON array of strings (caller deletes). */
static cJSON *receive(const char *queue, int wait)
{
    char body[512];
    snprintf(body, sizeof(body),
             "{\"QueueUrl\":\"%s/000000000000/%s\",\"MaxNumberOfMessages\":10,"
             "\"WaitTimeSeconds\":%d,\"MessageAttributeNames\":[\"All\"]}",
             srv.url, queue, wait);
    struct gr_resp r;
    ck_assert_int_eq(
        tk_target(&srv, "sqs", "AmazonSQS.ReceiveMessage", "application/x-amz-json-1.0", body, &r),
        200);
    cJSON *j = gr_resp_json(&r);
    gr_resp_free(&r);
    cJSON *out = cJSON_CreateArray();
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(j, "Messages"))
    {
        cJSON_AddItemToArray(out, cJSON_Duplicate(m, 1));
    }
    cJSON_Delete(j);
    return out;
}

static void subscribe(const char *topic, const char *protocol, const char *endpoint, char *arn,
                      size_t alen)
{
    char e[512];
    char *b = sns(200, "Action=Subscribe&TopicArn=" TOPIC "%s&Protocol=%s&Endpoint=%s", topic,
                  protocol, tk_enc(e, sizeof(e), endpoint));
    ck_assert_ptr_nonnull(tk_xml(b, "SubscriptionArn", arn, alen));
    free(b);
}

START_TEST(test_create_topic)
{
    char *b = sns(200, "Action=CreateTopic&Version=2010-03-31&Name=books");
    char arn[256];
    ck_assert_str_eq(tk_xml(b, "TopicArn", arn, sizeof(arn)), TOPIC "books");
    ck_assert_ptr_nonnull(strstr(b, "xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\""));
    free(b);
    free(sns(200, "Action=CreateTopic&Name=books"));
    b = sns(400, "Action=CreateTopic&Name=bad%%20name");
    ck_assert_ptr_nonnull(strstr(b, "<Code>InvalidParameter</Code>"));
    free(b);
    b = sns(400, "Action=CreateTopic&Name=x.fifo");
    ck_assert_ptr_nonnull(strstr(b, "<Code>InvalidParameter</Code>"));
    free(b);
    free(sns(200, "Action=CreateTopic&Name=x.fifo&Attributes.entry.1.key=FifoTopic&"
                  "Attributes.entry.1.value=true"));
}
END_TEST

START_TEST(test_list_delete_topics)
{
    free(sns(200, "Action=CreateTopic&Name=t1"));
    free(sns(200, "Action=CreateTopic&Name=t2"));
    char *b = sns(200, "Action=ListTopics");
    ck_assert_ptr_nonnull(strstr(b, "<member><TopicArn>" TOPIC "t1</TopicArn></member>"));
    ck_assert_ptr_nonnull(strstr(b, "<TopicArn>" TOPIC "t2</TopicArn>"));
    free(b);
    free(sns(200, "Action=DeleteTopic&TopicArn=" TOPIC "t1"));
    free(sns(200, "Action=DeleteTopic&TopicArn=" TOPIC "t1"));
    b = sns(200, "Action=ListTopics");
    ck_assert_ptr_null(strstr(b, TOPIC "t1<"));
    free(b);
    b = sns(404, "Action=GetTopicAttributes&TopicArn=" TOPIC "t1");
    ck_assert_ptr_nonnull(strstr(b, "<Code>NotFound</Code>"));
    free(b);
}
END_TEST

START_TEST(test_topic_attributes)
{
    free(sns(200, "Action=CreateTopic&Name=attrs"));
    free(sns(200, "Action=SetTopicAttributes&TopicArn=" TOPIC
                  "attrs&AttributeName=DisplayName&AttributeValue=Books"));
    char *b = sns(200, "Action=GetTopicAttributes&TopicArn=" TOPIC "attrs");
    ck_assert_ptr_nonnull(strstr(b, "<entry><key>DisplayName</key><value>Books</value></entry>"));
    ck_assert_ptr_nonnull(strstr(b, "<key>TopicArn</key><value>" TOPIC "attrs</value>"));
    ck_assert_ptr_nonnull(strstr(b, "<key>SubscriptionsConfirmed</key><value>0</value>"));
    free(b);
    b = sns(400, "Action=SetTopicAttributes&TopicArn=" TOPIC
                 "attrs&AttributeName=Nope&AttributeValue=1");
    ck_assert_ptr_nonnull(strstr(b, "<Code>InvalidParameter</Code>"));
    free(b);
}
END_TEST

START_TEST(test_subscriptions)
{
    char sub[512];
    char sub2[512];
    free(sns(200, "Action=CreateTopic&Name=subs"));
    make_queue("subq");
    subscribe("subs", "sqs", "arn:aws:sqs:us-east-1:000000000000:subq", sub, sizeof(sub));
    ck_assert_ptr_nonnull(strstr(sub, TOPIC "subs:"));
    /* the same subscription again answers the same ARN */
    subscribe("subs", "sqs", "arn:aws:sqs:us-east-1:000000000000:subq", sub2, sizeof(sub2));
    ck_assert_str_eq(sub, sub2);
    subscribe("subs", "lambda", "arn:aws:lambda:us-east-1:000000000000:function:f:dev", sub2,
              sizeof(sub2));
    char *b = sns(200, "Action=ListSubscriptionsByTopic&TopicArn=" TOPIC "subs");
    ck_assert_ptr_nonnull(strstr(b, "<Protocol>sqs</Protocol>"));
    ck_assert_ptr_nonnull(strstr(b, "<Protocol>lambda</Protocol>"));
    free(b);
    b = sns(200, "Action=ListSubscriptions");
    ck_assert_ptr_nonnull(strstr(b, sub));
    free(b);
    char e[600];
    free(sns(200,
             "Action=SetSubscriptionAttributes&SubscriptionArn=%s&AttributeName="
             "RawMessageDelivery&AttributeValue=true",
             tk_enc(e, sizeof(e), sub)));
    b = sns(200, "Action=GetSubscriptionAttributes&SubscriptionArn=%s", tk_enc(e, sizeof(e), sub));
    ck_assert_ptr_nonnull(strstr(b, "<key>RawMessageDelivery</key><value>true</value>"));
    ck_assert_ptr_nonnull(strstr(b, "<key>Protocol</key><value>sqs</value>"));
    free(b);
    free(sns(200, "Action=Unsubscribe&SubscriptionArn=%s", tk_enc(e, sizeof(e), sub)));
    /* again: AWS answers success for a subscription that is gone */
    free(sns(200, "Action=Unsubscribe&SubscriptionArn=%s", tk_enc(e, sizeof(e), sub)));
    b = sns(400, "Action=Unsubscribe&SubscriptionArn=bogus");
    ck_assert_ptr_nonnull(strstr(b, "<Code>InvalidParameter</Code>"));
    free(b);
    b = sns(200, "Action=ListSubscriptionsByTopic&TopicArn=" TOPIC "subs");
    ck_assert_ptr_null(strstr(b, sub));
    free(b);
    /* endpoints are checked */
    b = sns(400, "Action=Subscribe&TopicArn=" TOPIC "subs&Protocol=http&Endpoint=%s",
            tk_enc(e, sizeof(e), "http://example.com/hook"));
    ck_assert_ptr_nonnull(strstr(b, "loopback"));
    free(b);
    b = sns(400, "Action=Subscribe&TopicArn=" TOPIC "subs&Protocol=carrier-pigeon&Endpoint=x");
    ck_assert_ptr_nonnull(strstr(b, "<Code>InvalidParameter</Code>"));
    free(b);
    b = sns(404, "Action=Subscribe&TopicArn=" TOPIC "nope&Protocol=sqs&Endpoint=%s",
            tk_enc(e, sizeof(e), "arn:aws:sqs:us-east-1:000000000000:subq"));
    ck_assert_ptr_nonnull(strstr(b, "<Code>NotFound</Code>"));
    free(b);
}
END_TEST

START_TEST(test_publish_sqs)
{
    char sub[512];
    char e[600];
    free(sns(200, "Action=CreateTopic&Name=pub"));
    make_queue("envq");
    make_queue("rawq");
    make_queue("redq");
    subscribe("pub", "sqs", "arn:aws:sqs:us-east-1:000000000000:envq", sub, sizeof(sub));
    char raw[512];
    subscribe("pub", "sqs", "arn:aws:sqs:us-east-1:000000000000:rawq", raw, sizeof(raw));
    free(sns(200,
             "Action=SetSubscriptionAttributes&SubscriptionArn=%s&AttributeName="
             "RawMessageDelivery&AttributeValue=true",
             tk_enc(e, sizeof(e), raw)));
    char red[512];
    subscribe("pub", "sqs", "arn:aws:sqs:us-east-1:000000000000:redq", red, sizeof(red));
    free(sns(200,
             "Action=SetSubscriptionAttributes&SubscriptionArn=%s&AttributeName="
             "FilterPolicy&AttributeValue=%s",
             tk_enc(e, sizeof(e), red),
             "%7B%22color%22%3A%5B%22red%22%5D%7D")); /* {"color":["red"]} */
    char *b = sns(200,
                  "Action=Publish&TopicArn=" TOPIC
                  "pub&Message=%s&Subject=New%%20book&MessageAttributes.entry.1.Name=color&"
                  "MessageAttributes.entry.1.Value.DataType=String&"
                  "MessageAttributes.entry.1.Value.StringValue=blue",
                  tk_enc(e, sizeof(e), "{\"type\":\"added\",\"name\":\"Dune\"}"));
    char mid[64];
    ck_assert_ptr_nonnull(tk_xml(b, "MessageId", mid, sizeof(mid)));
    free(b);
    cJSON *msgs = receive("envq", 10);
    ck_assert_int_eq(cJSON_GetArraySize(msgs), 1);
    cJSON *env = cJSON_Parse(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 0), "Body")->valuestring);
    ck_assert_ptr_nonnull(env);
    ck_assert_str_eq(cJSON_GetObjectItem(env, "Type")->valuestring, "Notification");
    ck_assert_str_eq(cJSON_GetObjectItem(env, "MessageId")->valuestring, mid);
    ck_assert_str_eq(cJSON_GetObjectItem(env, "TopicArn")->valuestring, TOPIC "pub");
    ck_assert_str_eq(cJSON_GetObjectItem(env, "Subject")->valuestring, "New book");
    ck_assert_str_eq(cJSON_GetObjectItem(env, "Message")->valuestring,
                     "{\"type\":\"added\",\"name\":\"Dune\"}");
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(env, "Signature"));
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(env, "SigningCertURL"));
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(env, "UnsubscribeURL"));
    ck_assert_str_eq(
        cJSON_GetObjectItem(
            cJSON_GetObjectItem(cJSON_GetObjectItem(env, "MessageAttributes"), "color"), "Value")
            ->valuestring,
        "blue");
    cJSON_Delete(env);
    cJSON_Delete(msgs);
    /* raw delivery: the message itself, attributes as SQS attributes */
    msgs = receive("rawq", 10);
    ck_assert_int_eq(cJSON_GetArraySize(msgs), 1);
    cJSON *m0 = cJSON_GetArrayItem(msgs, 0);
    ck_assert_str_eq(cJSON_GetObjectItem(m0, "Body")->valuestring,
                     "{\"type\":\"added\",\"name\":\"Dune\"}");
    ck_assert_ptr_nonnull(
        cJSON_GetObjectItem(cJSON_GetObjectItem(m0, "MessageAttributes"), "color"));
    cJSON_Delete(msgs);
    /* the filter policy let blue through to nobody; red arrives */
    free(sns(200, "Action=Publish&TopicArn=" TOPIC "pub&Message=second&"
                  "MessageAttributes.entry.1.Name=color&"
                  "MessageAttributes.entry.1.Value.DataType=String&"
                  "MessageAttributes.entry.1.Value.StringValue=red"));
    msgs = receive("redq", 10);
    ck_assert_int_eq(cJSON_GetArraySize(msgs), 1);
    env = cJSON_Parse(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 0), "Body")->valuestring);
    ck_assert_str_eq(cJSON_GetObjectItem(env, "Message")->valuestring, "second");
    cJSON_Delete(env);
    cJSON_Delete(msgs);
    /* FilterPolicyScope MessageBody: the policy matches the JSON message */
    make_queue("bodyq");
    char bq[512];
    subscribe("pub", "sqs", "arn:aws:sqs:us-east-1:000000000000:bodyq", bq, sizeof(bq));
    free(sns(200,
             "Action=SetSubscriptionAttributes&SubscriptionArn=%s&AttributeName="
             "FilterPolicyScope&AttributeValue=MessageBody",
             tk_enc(e, sizeof(e), bq)));
    char fpol[256];
    free(sns(200,
             "Action=SetSubscriptionAttributes&SubscriptionArn=%s&AttributeName="
             "FilterPolicy&AttributeValue=%s",
             tk_enc(e, sizeof(e), bq),
             tk_enc(fpol, sizeof(fpol),
                    "{\"type\":[\"added\"],\"book\":{\"pages\":[{\"numeric\":[\">\",100]}]}}")));
    free(sns(200, "Action=Publish&TopicArn=" TOPIC "pub&Message=%s",
             tk_enc(e, sizeof(e), "{\"type\":\"added\",\"book\":{\"pages\":50}}")));
    free(sns(200, "Action=Publish&TopicArn=" TOPIC "pub&Message=%s",
             tk_enc(e, sizeof(e), "{\"type\":\"added\",\"book\":{\"pages\":500}}")));
    free(sns(200, "Action=Publish&TopicArn=" TOPIC "pub&Message=not-json"));
    msgs = receive("bodyq", 10);
    if (cJSON_GetArraySize(msgs) == 0) {
        cJSON_Delete(msgs);
        msgs = receive("bodyq", 5);
    }
    ck_assert_int_eq(cJSON_GetArraySize(msgs), 1);
    ck_assert_ptr_nonnull(
        strstr(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 0), "Body")->valuestring, "500"));
    cJSON_Delete(msgs);
    msgs = receive("bodyq", 1);
    ck_assert_int_eq(cJSON_GetArraySize(msgs), 0);
    cJSON_Delete(msgs);
    /* errors */
    b = sns(404, "Action=Publish&TopicArn=" TOPIC "nope&Message=x");
    ck_assert_ptr_nonnull(strstr(b, "<Code>NotFound</Code>"));
    free(b);
    b = sns(400, "Action=Publish&TopicArn=" TOPIC "pub");
    ck_assert_ptr_nonnull(strstr(b, "<Code>InvalidParameter</Code>"));
    free(b);
    b = sns(400, "Action=Publish&TopicArn=" TOPIC "pub&MessageStructure=json&Message=%s",
            tk_enc(e, sizeof(e), "{\"sqs\":\"only\"}"));
    ck_assert_ptr_nonnull(strstr(b, "No default entry"));
    free(b);
    /* MessageStructure json: per-protocol text */
    free(sns(200, "Action=Publish&TopicArn=" TOPIC "pub&MessageStructure=json&Message=%s",
             tk_enc(e, sizeof(e), "{\"default\":\"dflt\",\"sqs\":\"for sqs\"}")));
    int found = 0;
    for (int tries = 0; tries < 5 && !found; tries++) {
        msgs = receive("rawq", 5);
        const cJSON *m;
        cJSON_ArrayForEach(m, msgs)
        {
            found |= strcmp(cJSON_GetObjectItem(m, "Body")->valuestring, "for sqs") == 0;
            ck_assert_str_ne(cJSON_GetObjectItem(m, "Body")->valuestring, "dflt");
        }
        cJSON_Delete(msgs);
    }
    ck_assert(found);
    ck_assert_int_ge(tk_journal_count(&srv, "sqs", "SendMessage", 200, NULL), 4);
}
END_TEST

START_TEST(test_publish_fifo)
{
    char sub[512];
    free(sns(200, "Action=CreateTopic&Name=orders.fifo&Attributes.entry.1.key=FifoTopic&"
                  "Attributes.entry.1.value=true"));
    struct gr_resp r;
    ck_assert_int_eq(tk_query(&srv, "sqs",
                              "Action=CreateQueue&QueueName=orders.fifo&Attribute.1.Name=FifoQueue&"
                              "Attribute.1.Value=true",
                              &r),
                     200);
    gr_resp_free(&r);
    subscribe("orders.fifo", "sqs", "arn:aws:sqs:us-east-1:000000000000:orders.fifo", sub,
              sizeof(sub));
    char *b = sns(400, "Action=Publish&TopicArn=" TOPIC "orders.fifo&Message=one");
    ck_assert_ptr_nonnull(strstr(b, "MessageGroupId"));
    free(b);
    b = sns(200, "Action=Publish&TopicArn=" TOPIC "orders.fifo&Message=one&MessageGroupId=g1");
    ck_assert_ptr_nonnull(strstr(b, "<SequenceNumber>"));
    free(b);
    /* the group travels to the FIFO queue */
    char body[512];
    snprintf(body, sizeof(body),
             "{\"QueueUrl\":\"%s/000000000000/orders.fifo\",\"WaitTimeSeconds\":10,"
             "\"AttributeNames\":[\"All\"]}",
             srv.url);
    ck_assert_int_eq(
        tk_target(&srv, "sqs", "AmazonSQS.ReceiveMessage", "application/x-amz-json-1.0", body, &r),
        200);
    cJSON *j = gr_resp_json(&r);
    gr_resp_free(&r);
    cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "Messages"), 0);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(
        cJSON_GetObjectItem(cJSON_GetObjectItem(m, "Attributes"), "MessageGroupId")->valuestring,
        "g1");
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_publish_batch)
{
    char sub[512];
    free(sns(200, "Action=CreateTopic&Name=batch"));
    make_queue("bq");
    subscribe("batch", "sqs", "arn:aws:sqs:us-east-1:000000000000:bq", sub, sizeof(sub));
    char *b = sns(200, "Action=PublishBatch&TopicArn=" TOPIC "batch&"
                       "PublishBatchRequestEntries.member.1.Id=a&"
                       "PublishBatchRequestEntries.member.1.Message=one&"
                       "PublishBatchRequestEntries.member.2.Id=b&"
                       "PublishBatchRequestEntries.member.2.Message=two&"
                       "PublishBatchRequestEntries.member.3.Id=c");
    ck_assert_ptr_nonnull(strstr(b, "<Successful><member><Id>a</Id><MessageId>"));
    ck_assert_ptr_nonnull(strstr(b, "<member><Id>b</Id><MessageId>"));
    ck_assert_ptr_nonnull(strstr(b, "<Failed><member><Id>c</Id><Code>InvalidParameter</Code>"));
    free(b);
    cJSON *msgs = receive("bq", 10);
    int n = cJSON_GetArraySize(msgs);
    if (n < 2) {
        cJSON *more = receive("bq", 5);
        n += cJSON_GetArraySize(more);
        cJSON_Delete(more);
    }
    ck_assert_int_eq(n, 2);
    cJSON_Delete(msgs);
    b = sns(400, "Action=PublishBatch&TopicArn=" TOPIC "batch&"
                 "PublishBatchRequestEntries.member.1.Id=a&"
                 "PublishBatchRequestEntries.member.1.Message=one&"
                 "PublishBatchRequestEntries.member.2.Id=a&"
                 "PublishBatchRequestEntries.member.2.Message=two");
    ck_assert_ptr_nonnull(strstr(b, "<Code>BatchEntryIdsNotDistinct</Code>"));
    free(b);
    b = sns(400, "Action=PublishBatch&TopicArn=" TOPIC "batch");
    ck_assert_ptr_nonnull(strstr(b, "<Code>EmptyBatchRequest</Code>"));
    free(b);
}
END_TEST

START_TEST(test_publish_lambda)
{
    char out[400];
    char sub[512];
    snprintf(out, sizeof(out), "%s/notify.jsonl", tmp);
    ck_assert_int_eq(tk_make_function(&srv, "notifications-books", out, ""), 0);
    free(sns(200, "Action=CreateTopic&Name=book-change"));
    ck_assert_int_eq(
        tk_permit(&srv, "notifications-books", "dev", "sns.amazonaws.com", TOPIC "book-change"),
        201);
    subscribe("book-change", "lambda",
              "arn:aws:lambda:us-east-1:000000000000:function:notifications-books:dev", sub,
              sizeof(sub));
    char e[600];
    char *b = sns(200, "Action=Publish&TopicArn=" TOPIC "book-change&Message=%s",
                  tk_enc(e, sizeof(e), "{\"type\":\"added\",\"name\":\"Dune\"}"));
    char mid[64];
    tk_xml(b, "MessageId", mid, sizeof(mid));
    free(b);
    char *got = tk_wait_file(out, "Dune", 1, 30);
    ck_assert_ptr_nonnull(got);
    cJSON *line = cJSON_Parse(got);
    free(got);
    ck_assert_ptr_nonnull(line);
    ck_assert_str_eq(cJSON_GetObjectItem(line, "arn")->valuestring,
                     "arn:aws:lambda:us-east-1:000000000000:function:notifications-books:dev");
    cJSON *rec =
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(line, "event"), "Records"), 0);
    ck_assert_ptr_nonnull(rec);
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "EventSource")->valuestring, "aws:sns");
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "EventVersion")->valuestring, "1.0");
    ck_assert_str_eq(cJSON_GetObjectItem(rec, "EventSubscriptionArn")->valuestring, sub);
    cJSON *s = cJSON_GetObjectItem(rec, "Sns");
    ck_assert_str_eq(cJSON_GetObjectItem(s, "Type")->valuestring, "Notification");
    ck_assert_str_eq(cJSON_GetObjectItem(s, "MessageId")->valuestring, mid);
    ck_assert_str_eq(cJSON_GetObjectItem(s, "TopicArn")->valuestring, TOPIC "book-change");
    ck_assert_str_eq(cJSON_GetObjectItem(s, "Message")->valuestring,
                     "{\"type\":\"added\",\"name\":\"Dune\"}");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(s, "Subject")));
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(s, "Timestamp"));
    ck_assert_str_eq(cJSON_GetObjectItem(s, "SignatureVersion")->valuestring, "1");
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(s, "Signature"));
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(s, "SigningCertUrl"));
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(s, "UnsubscribeUrl"));
    ck_assert(cJSON_IsObject(cJSON_GetObjectItem(s, "MessageAttributes")));
    cJSON_Delete(line);
    ck_assert_int_ge(tk_journal_count(&srv, "lambda", "Invoke", 202, NULL), 1);
}
END_TEST

START_TEST(test_publish_lambda_denied)
{
    char out[400];
    char sub[512];
    snprintf(out, sizeof(out), "%s/denied.jsonl", tmp);
    ck_assert_int_eq(tk_make_function(&srv, "locked", out, ""), 0);
    free(sns(200, "Action=CreateTopic&Name=nope-topic"));
    /* a permission for another topic does not count */
    ck_assert_int_eq(tk_permit(&srv, "locked", "dev", "sns.amazonaws.com", TOPIC "other"), 201);
    subscribe("nope-topic", "lambda", "arn:aws:lambda:us-east-1:000000000000:function:locked:dev",
              sub, sizeof(sub));
    free(sns(200, "Action=Publish&TopicArn=" TOPIC "nope-topic&Message=secret"));
    ck_assert_int_eq(tk_wait_journal(&srv, "lambda", "Invoke", 403, "AccessDeniedException", 1, 20),
                     1);
    struct timespec ts = {0, 500 * 1000 * 1000};
    nanosleep(&ts, NULL);
    size_t len = 0;
    char *c = gr_read_file(out, &len);
    ck_assert(c == NULL || strstr(c, "secret") == NULL);
    free(c);
    /* permission denied is not retried */
    ck_assert_int_eq(tk_journal_count(&srv, "lambda", "Invoke", 403, NULL), 1);
}
END_TEST

START_TEST(test_publish_http)
{
    char out[400];
    char portfile[400];
    snprintf(out, sizeof(out), "%s/http.jsonl", tmp);
    snprintf(portfile, sizeof(portfile), "%s/sink.port", tmp);
    char cmd[1400];
    snprintf(cmd, sizeof(cmd),
             "python3 \"$FIXTURES_DIR/events/http_sink.py\" '%s' 1 >'%s' 2>/dev/null & echo $!",
             out, portfile);
    char *pid_s = NULL;
    ck_assert_int_eq(gr_sh(&srv, cmd, &pid_s), 0);
    long pid = strtol(pid_s, NULL, 10);
    free(pid_s);
    ck_assert_int_gt(pid, 0);
    char *port = tk_wait_file(portfile, NULL, 1, 10);
    ck_assert_ptr_nonnull(port);
    port[strcspn(port, "\n")] = 0;
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%s/hook", port);
    free(port);
    free(sns(200, "Action=CreateTopic&Name=web"));
    char e[600];
    char *b = sns(200, "Action=Subscribe&TopicArn=" TOPIC "web&Protocol=http&Endpoint=%s",
                  tk_enc(e, sizeof(e), url));
    ck_assert_ptr_nonnull(strstr(b, "<SubscriptionArn>pending confirmation</SubscriptionArn>"));
    free(b);
    char *got = tk_wait_file(out, "SubscriptionConfirmation", 1, 20);
    ck_assert_ptr_nonnull(got);
    cJSON *line = cJSON_Parse(got);
    free(got);
    cJSON *conf = cJSON_Parse(cJSON_GetObjectItem(line, "body")->valuestring);
    cJSON_Delete(line);
    ck_assert_ptr_nonnull(conf);
    ck_assert_str_eq(cJSON_GetObjectItem(conf, "Type")->valuestring, "SubscriptionConfirmation");
    const char *token = cJSON_GetObjectItem(conf, "Token")->valuestring;
    ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(conf, "SubscribeURL")->valuestring, token));
    /* nothing is delivered while pending */
    b = sns(200, "Action=ListSubscriptionsByTopic&TopicArn=" TOPIC "web");
    ck_assert_ptr_nonnull(strstr(b, "<SubscriptionArn>PendingConfirmation</SubscriptionArn>"));
    free(b);
    b = sns(400, "Action=ConfirmSubscription&TopicArn=" TOPIC "web&Token=wrong");
    free(b);
    /* the SubscribeURL is an unsigned GET, as an HTTP subscriber follows it */
    const char *link = cJSON_GetObjectItem(conf, "SubscribeURL")->valuestring;
    ck_assert_int_eq(strncmp(link, srv.url, strlen(srv.url)), 0);
    struct gr_resp r;
    ck_assert_int_eq(gr_request_unsigned(&srv, "GET", link + strlen(srv.url), NULL, NULL, 0, &r),
                     0);
    ck_assert_int_eq(r.status, 200);
    char sub[512];
    ck_assert_ptr_nonnull(tk_xml(r.body, "SubscriptionArn", sub, sizeof(sub)));
    ck_assert_ptr_nonnull(strstr(sub, TOPIC "web:"));
    gr_resp_free(&r);
    /* confirming again (signed) answers the same subscription */
    b = sns(200, "Action=ConfirmSubscription&TopicArn=" TOPIC "web&Token=%s", token);
    ck_assert_ptr_nonnull(strstr(b, sub));
    free(b);
    cJSON_Delete(conf);
    free(sns(200, "Action=Publish&TopicArn=" TOPIC "web&Message=over-http"));
    /* the sink answers the first notification 500: SNS retries */
    got = tk_wait_file(out, "over-http", 3, 20);
    ck_assert_ptr_nonnull(got);
    ck_assert_ptr_nonnull(strstr(got, "\"status\": 500"));
    char *ok = strstr(got, "\"status\": 200, \"body\": \"{\\\"Type\\\":\\\"Notification\\\"");
    ck_assert_ptr_nonnull(ok);
    ck_assert_ptr_nonnull(strstr(ok, "over-http"));
    free(got);
    kill((pid_t)pid, SIGTERM);
}
END_TEST

static Suite *sns_suite(void)
{
    Suite *s = suite_create("sns");
    struct {
        const char *name;
        const TTest *fn;
    } cases[] = {
        {"CreateTopic", test_create_topic},
        {"ListDeleteTopics", test_list_delete_topics},
        {"TopicAttributes", test_topic_attributes},
        {"Subscriptions", test_subscriptions},
        {"PublishSqs", test_publish_sqs},
        {"PublishFifo", test_publish_fifo},
        {"PublishBatch", test_publish_batch},
        {"PublishLambda", test_publish_lambda},
        {"PublishLambdaDenied", test_publish_lambda_denied},
        {"PublishHttp", test_publish_http},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, cases[i].fn);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sns_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
