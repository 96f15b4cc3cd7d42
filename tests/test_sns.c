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

#include "testkit.h"

static struct gr_server srv;
static char tmp[256];

#define TOPIC "arn:aws:sns:us-east-1:000000000000:"

static void setup(void)
{
    kit_start(&srv, tmp, sizeof(tmp));
}

static void teardown(void)
{
    kit_stop(&srv, tmp);
}

/* An SNS query call (printf-style form body) expecting status `want`:
 * sns() returns the answer (caller frees), sns_has() asserts it holds needle. */
#define sns(want, ...) kit_query(&srv, "sns", want, NULL, __VA_ARGS__)
#define sns_has(want, needle, ...) free(kit_query(&srv, "sns", want, needle, __VA_ARGS__))

static void subscribe(const char *topic, const char *protocol, const char *endpoint, char *arn,
                      size_t alen)
{
    char e[512];
    char *b = sns(200, "Action=Subscribe&TopicArn=" TOPIC "%s&Protocol=%s&Endpoint=%s", topic,
                  protocol, tk_enc(e, sizeof(e), endpoint));
    ck_assert_ptr_nonnull(tk_xml(b, "SubscriptionArn", arn, alen));
    free(b);
}

/* A recorder function `fn` (its events go to the file named into out),
 * topic `topic`, a permission on fn:dev for SNS from topic `permitted`, and
 * fn:dev subscribed to topic (the subscription ARN into sub). */
static void lambda_subscriber(const char *fn, const char *topic, const char *permitted, char *out,
                              size_t olen, char *sub, size_t slen)
{
    char arn[256];
    snprintf(out, olen, "%s/%s.jsonl", tmp, fn);
    ck_assert_int_eq(tk_make_function(&srv, fn, out, ""), 0);
    free(sns(200, "Action=CreateTopic&Name=%s", topic));
    snprintf(arn, sizeof(arn), TOPIC "%s", permitted);
    ck_assert_int_eq(tk_permit(&srv, fn, "dev", "sns.amazonaws.com", arn), 201);
    snprintf(arn, sizeof(arn), "arn:aws:lambda:us-east-1:000000000000:function:%s:dev", fn);
    subscribe(topic, "lambda", arn, sub, slen);
}

START_TEST(test_create_topic)
{
    char *b = sns(200, "Action=CreateTopic&Version=2010-03-31&Name=books");
    char arn[256];
    ck_assert_str_eq(tk_xml(b, "TopicArn", arn, sizeof(arn)), TOPIC "books");
    ck_assert_ptr_nonnull(strstr(b, "xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\""));
    free(b);
    free(sns(200, "Action=CreateTopic&Name=books"));
    sns_has(400, "<Code>InvalidParameter</Code>", "Action=CreateTopic&Name=bad%%20name");
    sns_has(400, "<Code>InvalidParameter</Code>", "Action=CreateTopic&Name=x.fifo");
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
    sns_has(404, "<Code>NotFound</Code>", "Action=GetTopicAttributes&TopicArn=" TOPIC "t1");
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
    sns_has(400, "<Code>InvalidParameter</Code>",
            "Action=SetTopicAttributes&TopicArn=" TOPIC
            "attrs&AttributeName=Nope&AttributeValue=1");
}
END_TEST

START_TEST(test_subscriptions)
{
    char sub[512];
    char sub2[512];
    free(sns(200, "Action=CreateTopic&Name=subs"));
    kit_make_queue(&srv, "subq");
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
    sns_has(200, sub, "Action=ListSubscriptions");
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
    sns_has(400, "<Code>InvalidParameter</Code>", "Action=Unsubscribe&SubscriptionArn=bogus");
    b = sns(200, "Action=ListSubscriptionsByTopic&TopicArn=" TOPIC "subs");
    ck_assert_ptr_null(strstr(b, sub));
    free(b);
    /* endpoints are checked */
    sns_has(400, "loopback", "Action=Subscribe&TopicArn=" TOPIC "subs&Protocol=http&Endpoint=%s",
            tk_enc(e, sizeof(e), "http://example.com/hook"));
    sns_has(400, "<Code>InvalidParameter</Code>",
            "Action=Subscribe&TopicArn=" TOPIC "subs&Protocol=carrier-pigeon&Endpoint=x");
    sns_has(404, "<Code>NotFound</Code>",
            "Action=Subscribe&TopicArn=" TOPIC "nope&Protocol=sqs&Endpoint=%s",
            tk_enc(e, sizeof(e), "arn:aws:sqs:us-east-1:000000000000:subq"));
}
END_TEST

START_TEST(test_publish_sqs)
{
    char sub[512];
    char e[600];
    free(sns(200, "Action=CreateTopic&Name=pub"));
    kit_make_queue(&srv, "envq");
    kit_make_queue(&srv, "rawq");
    kit_make_queue(&srv, "redq");
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
    cJSON *msgs = kit_receive(&srv, "envq", 10);
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
    msgs = kit_receive(&srv, "rawq", 10);
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
    msgs = kit_receive(&srv, "redq", 10);
    ck_assert_int_eq(cJSON_GetArraySize(msgs), 1);
    env = cJSON_Parse(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 0), "Body")->valuestring);
    ck_assert_str_eq(cJSON_GetObjectItem(env, "Message")->valuestring, "second");
    cJSON_Delete(env);
    cJSON_Delete(msgs);
    /* FilterPolicyScope MessageBody: the policy matches the JSON message */
    kit_make_queue(&srv, "bodyq");
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
    msgs = kit_receive(&srv, "bodyq", 10);
    if (cJSON_GetArraySize(msgs) == 0) {
        cJSON_Delete(msgs);
        msgs = kit_receive(&srv, "bodyq", 5);
    }
    ck_assert_int_eq(cJSON_GetArraySize(msgs), 1);
    ck_assert_ptr_nonnull(
        strstr(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 0), "Body")->valuestring, "500"));
    cJSON_Delete(msgs);
    msgs = kit_receive(&srv, "bodyq", 1);
    ck_assert_int_eq(cJSON_GetArraySize(msgs), 0);
    cJSON_Delete(msgs);
    /* errors */
    sns_has(404, "<Code>NotFound</Code>", "Action=Publish&TopicArn=" TOPIC "nope&Message=x");
    sns_has(400, "<Code>InvalidParameter</Code>", "Action=Publish&TopicArn=" TOPIC "pub");
    sns_has(400, "No default entry",
            "Action=Publish&TopicArn=" TOPIC "pub&MessageStructure=json&Message=%s",
            tk_enc(e, sizeof(e), "{\"sqs\":\"only\"}"));
    /* MessageStructure json: per-protocol text */
    free(sns(200, "Action=Publish&TopicArn=" TOPIC "pub&MessageStructure=json&Message=%s",
             tk_enc(e, sizeof(e), "{\"default\":\"dflt\",\"sqs\":\"for sqs\"}")));
    int found = 0;
    for (int tries = 0; tries < 5 && !found; tries++) {
        msgs = kit_receive(&srv, "rawq", 5);
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
    free(kit_query(&srv, "sqs", 200, NULL,
                   "Action=CreateQueue&QueueName=orders.fifo&Attribute.1.Name=FifoQueue&"
                   "Attribute.1.Value=true"));
    subscribe("orders.fifo", "sqs", "arn:aws:sqs:us-east-1:000000000000:orders.fifo", sub,
              sizeof(sub));
    char *b = sns(400, "Action=Publish&TopicArn=" TOPIC "orders.fifo&Message=one");
    ck_assert_ptr_nonnull(strstr(b, "MessageGroupId"));
    free(b);
    sns_has(200, "<SequenceNumber>",
            "Action=Publish&TopicArn=" TOPIC "orders.fifo&Message=one&MessageGroupId=g1");
    /* the group travels to the FIFO queue */
    char body[512];
    snprintf(body, sizeof(body),
             "{\"QueueUrl\":\"%s/000000000000/orders.fifo\",\"WaitTimeSeconds\":10,"
             "\"AttributeNames\":[\"All\"]}",
             srv.url);
    cJSON *j = kit_json(&srv, "sqs", "AmazonSQS.ReceiveMessage", "application/x-amz-json-1.0", 200,
                        body, NULL, 0);
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
    kit_make_queue(&srv, "bq");
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
    cJSON *msgs = kit_receive(&srv, "bq", 10);
    int n = cJSON_GetArraySize(msgs);
    if (n < 2) {
        cJSON *more = kit_receive(&srv, "bq", 5);
        n += cJSON_GetArraySize(more);
        cJSON_Delete(more);
    }
    ck_assert_int_eq(n, 2);
    cJSON_Delete(msgs);
    sns_has(400, "<Code>BatchEntryIdsNotDistinct</Code>",
            "Action=PublishBatch&TopicArn=" TOPIC "batch&"
            "PublishBatchRequestEntries.member.1.Id=a&"
            "PublishBatchRequestEntries.member.1.Message=one&"
            "PublishBatchRequestEntries.member.2.Id=a&"
            "PublishBatchRequestEntries.member.2.Message=two");
    sns_has(400, "<Code>EmptyBatchRequest</Code>", "Action=PublishBatch&TopicArn=" TOPIC "batch");
}
END_TEST

START_TEST(test_publish_lambda)
{
    char out[400];
    char sub[512];
    lambda_subscriber("notifications-books", "book-change", "book-change", out, sizeof(out), sub,
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
    /* a permission for another topic does not count */
    lambda_subscriber("locked", "nope-topic", "other", out, sizeof(out), sub, sizeof(sub));
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
    sns_has(200, "<SubscriptionArn>PendingConfirmation</SubscriptionArn>",
            "Action=ListSubscriptionsByTopic&TopicArn=" TOPIC "web");
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
    sns_has(200, sub, "Action=ConfirmSubscription&TopicArn=" TOPIC "web&Token=%s", token);
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

int main(void)
{
    const struct kit_case cases[] = {
        {"CreateTopic", test_create_topic, NULL},
        {"ListDeleteTopics", test_list_delete_topics, NULL},
        {"TopicAttributes", test_topic_attributes, NULL},
        {"Subscriptions", test_subscriptions, NULL},
        {"PublishSqs", test_publish_sqs, NULL},
        {"PublishFifo", test_publish_fifo, NULL},
        {"PublishBatch", test_publish_batch, NULL},
        {"PublishLambda", test_publish_lambda, NULL},
        {"PublishLambdaDenied", test_publish_lambda_denied, NULL},
        {"PublishHttp", test_publish_http, NULL},
    };
    return KIT_RUN("sns", cases, setup, teardown, 60);
}
