/*
 * test_sqs.c - SQS against a real greenroom: both protocols (query as the
 * AWS CLI v2 sends it, JSON 1.0 as botocore >= 1.3x sends it), one tcase
 * per operation, long polling without the store lock, visibility timeouts,
 * dead-letter redrive, and a Lambda event source mapping delivering a batch
 * to a real node function.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testkit.h"

static struct gr_server srv;
static char tmp[256];

static void setup(void)
{
    kit_start(&srv, tmp, sizeof(tmp));
}

static void teardown(void)
{
    kit_stop(&srv, tmp);
}

/* An SQS query call (printf-style form body) expecting status `want`:
 * q() returns the answer (caller frees), q_has() asserts it holds needle. */
#define q(want, ...) kit_query(&srv, "sqs", want, NULL, __VA_ARGS__)
#define q_has(want, needle, ...) free(kit_query(&srv, "sqs", want, needle, __VA_ARGS__))

/* JSON call expecting `want`; returns the parsed body and, if hdr_out,
 * the x-amzn-query-error header. */
static cJSON *jq(long want, const char *op, const char *body, char *hdr_out, size_t hlen)
{
    char target[96];
    snprintf(target, sizeof(target), "AmazonSQS.%s", op);
    return kit_json(&srv, "sqs", target, "application/x-amz-json-1.0", want, body, hdr_out, hlen);
}

static void queue_url(const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/000000000000/%s", srv.url, name);
}

/* Creates queue `name` (query protocol) and its URL into out. */
static void new_queue(const char *name, char *out, size_t n)
{
    queue_url(name, out, n);
    free(q(200, "Action=CreateQueue&QueueName=%s", name));
}

START_TEST(test_create_queue)
{
    char *b = q(200, "Action=CreateQueue&Version=2012-11-05&QueueName=q1&Attribute.1.Name="
                     "VisibilityTimeout&Attribute.1.Value=7");
    char url[256];
    char want[256];
    queue_url("q1", want, sizeof(want));
    ck_assert_str_eq(tk_xml(b, "QueueUrl", url, sizeof(url)), want);
    ck_assert_ptr_nonnull(strstr(b, "<CreateQueueResponse"));
    free(b);
    /* same attributes: same queue; different: QueueAlreadyExists */
    free(q(200, "Action=CreateQueue&QueueName=q1&Attribute.1.Name=VisibilityTimeout&"
                "Attribute.1.Value=7"));
    q_has(400, "<Code>QueueAlreadyExists</Code>",
          "Action=CreateQueue&QueueName=q1&Attribute.1.Name=VisibilityTimeout&"
          "Attribute.1.Value=8");
    q_has(400, "<Code>InvalidParameterValue</Code>", "Action=CreateQueue&QueueName=bad%%20name");
    q_has(400, "<Code>InvalidAttributeName</Code>",
          "Action=CreateQueue&QueueName=q2&Attribute.1.Name=Bogus&Attribute.1.Value=1");
    q_has(400, "<Code>InvalidAttributeValue</Code>",
          "Action=CreateQueue&QueueName=q2&Attribute.1.Name=DelaySeconds&"
          "Attribute.1.Value=901");
    /* JSON protocol */
    cJSON *j = jq(200, "CreateQueue",
                  "{\"QueueName\":\"jq\",\"Attributes\":{\"DelaySeconds\":\"0\"}}", NULL, 0);
    queue_url("jq", want, sizeof(want));
    ck_assert_str_eq(cJSON_GetObjectItem(j, "QueueUrl")->valuestring, want);
    cJSON_Delete(j);
    /* FIFO naming */
    b = q(400, "Action=CreateQueue&QueueName=f.fifo");
    free(b);
    free(q(200, "Action=CreateQueue&QueueName=f.fifo&Attribute.1.Name=FifoQueue&"
                "Attribute.1.Value=true"));
}
END_TEST

START_TEST(test_get_queue_url)
{
    free(q(200, "Action=CreateQueue&QueueName=gq"));
    char *b = q(200, "Action=GetQueueUrl&QueueName=gq");
    char url[256];
    char want[256];
    queue_url("gq", want, sizeof(want));
    ck_assert_str_eq(tk_xml(b, "QueueUrl", url, sizeof(url)), want);
    free(b);
    b = q(400, "Action=GetQueueUrl&QueueName=nope");
    ck_assert_ptr_nonnull(strstr(b, "<Code>AWS.SimpleQueueService.NonExistentQueue</Code>"));
    ck_assert_ptr_nonnull(strstr(b, "<Type>Sender</Type>"));
    free(b);
    char hdr[256];
    cJSON *j = jq(400, "GetQueueUrl", "{\"QueueName\":\"nope\"}", hdr, sizeof(hdr));
    ck_assert_str_eq(cJSON_GetObjectItem(j, "__type")->valuestring,
                     "com.amazonaws.sqs#QueueDoesNotExist");
    ck_assert_str_eq(hdr, "AWS.SimpleQueueService.NonExistentQueue;Sender");
    cJSON_Delete(j);
    j = jq(200, "GetQueueUrl", "{\"QueueName\":\"gq\"}", NULL, 0);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "QueueUrl")->valuestring, want);
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_list_queues)
{
    free(q(200, "Action=CreateQueue&QueueName=alpha-1"));
    free(q(200, "Action=CreateQueue&QueueName=alpha-2"));
    free(q(200, "Action=CreateQueue&QueueName=beta"));
    char *b = q(200, "Action=ListQueues&QueueNamePrefix=alpha");
    ck_assert_ptr_nonnull(strstr(b, "/000000000000/alpha-1</QueueUrl>"));
    ck_assert_ptr_nonnull(strstr(b, "/000000000000/alpha-2</QueueUrl>"));
    ck_assert_ptr_null(strstr(b, "beta"));
    free(b);
    cJSON *j = jq(200, "ListQueues", "{\"MaxResults\":2}", NULL, 0);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "QueueUrls")), 2);
    const cJSON *tok = cJSON_GetObjectItem(j, "NextToken");
    ck_assert(cJSON_IsString(tok));
    char body[256];
    snprintf(body, sizeof(body), "{\"MaxResults\":2,\"NextToken\":\"%s\"}", tok->valuestring);
    cJSON_Delete(j);
    j = jq(200, "ListQueues", body, NULL, 0);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "QueueUrls")), 1);
    cJSON_Delete(j);
    /* per-region isolation */
    gr_set_credentials("test", "test", "eu-west-1");
    b = q(200, "Action=ListQueues");
    ck_assert_ptr_null(strstr(b, "alpha"));
    free(b);
    gr_set_credentials("test", "test", "us-east-1");
}
END_TEST

START_TEST(test_queue_attributes)
{
    char url[256];
    char e[512];
    new_queue("attrq", url, sizeof(url));
    free(q(200,
           "Action=SetQueueAttributes&QueueUrl=%s&Attribute.1.Name=VisibilityTimeout&"
           "Attribute.1.Value=45",
           tk_enc(e, sizeof(e), url)));
    char *b = q(200, "Action=GetQueueAttributes&QueueUrl=%s&AttributeName.1=All",
                tk_enc(e, sizeof(e), url));
    ck_assert_ptr_nonnull(strstr(b, "<Name>VisibilityTimeout</Name><Value>45</Value>"));
    ck_assert_ptr_nonnull(
        strstr(b, "<Name>QueueArn</Name><Value>arn:aws:sqs:us-east-1:000000000000:attrq</Value>"));
    ck_assert_ptr_nonnull(strstr(b, "<Name>ApproximateNumberOfMessages</Name><Value>0</Value>"));
    free(b);
    q_has(400, "<Code>InvalidAttributeName</Code>",
          "Action=GetQueueAttributes&QueueUrl=%s&AttributeName.1=Nope", tk_enc(e, sizeof(e), url));
    char body[512];
    snprintf(body, sizeof(body), "{\"QueueUrl\":\"%s\",\"AttributeNames\":[\"VisibilityTimeout\"]}",
             url);
    cJSON *j = jq(200, "GetQueueAttributes", body, NULL, 0);
    cJSON *attrs = cJSON_GetObjectItem(j, "Attributes");
    ck_assert_int_eq(cJSON_GetArraySize(attrs), 1);
    ck_assert_str_eq(cJSON_GetObjectItem(attrs, "VisibilityTimeout")->valuestring, "45");
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_send_receive_delete)
{
    char url[256];
    char e[512];
    char h[256];
    char rh[256];
    new_queue("srq", url, sizeof(url));
    char *b = q(200,
                "Action=SendMessage&QueueUrl=%s&MessageBody=hello&MessageAttribute.1.Name=a&"
                "MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value."
                "StringValue=x",
                tk_enc(e, sizeof(e), url));
    /* md5("hello") */
    ck_assert_str_eq(tk_xml(b, "MD5OfMessageBody", h, sizeof(h)),
                     "5d41402abc4b2a76b9719d911017c592");
    ck_assert_ptr_nonnull(tk_xml(b, "MD5OfMessageAttributes", h, sizeof(h)));
    ck_assert_int_eq(strlen(h), 32);
    free(b);
    b = q(200, "Action=ReceiveMessage&QueueUrl=%s&AttributeName.1=All&MessageAttributeName.1=All",
          tk_enc(e, sizeof(e), url));
    ck_assert_ptr_nonnull(strstr(b, "<Body>hello</Body>"));
    ck_assert_ptr_nonnull(strstr(b, "<Name>ApproximateReceiveCount</Name><Value>1</Value>"));
    ck_assert_ptr_nonnull(strstr(b, "<MessageAttribute><Name>a</Name><Value><DataType>String"));
    ck_assert_ptr_nonnull(tk_xml(b, "ReceiptHandle", rh, sizeof(rh)));
    free(b);
    /* in flight: invisible */
    b = q(200, "Action=ReceiveMessage&QueueUrl=%s", tk_enc(e, sizeof(e), url));
    ck_assert_ptr_null(strstr(b, "<Message>"));
    free(b);
    free(
        q(200, "Action=DeleteMessage&QueueUrl=%s&ReceiptHandle=%s", tk_enc(e, sizeof(e), url), rh));
    q_has(400, "<Code>ReceiptHandleIsInvalid</Code>",
          "Action=DeleteMessage&QueueUrl=%s&ReceiptHandle=garbage", tk_enc(e, sizeof(e), url));
    q_has(400, "<Code>MissingParameter</Code>",
          "Action=SendMessage&QueueUrl=%s&MessageBody=", tk_enc(e, sizeof(e), url));
    q_has(400, "<Code>InvalidMessageContents</Code>",
          "Action=SendMessage&QueueUrl=%s&MessageBody=a%%01b", tk_enc(e, sizeof(e), url));
    q_has(400, "NonExistentQueue", "Action=SendMessage&QueueUrl=%s/nope&MessageBody=x", srv.url);
    /* JSON round trip: send, receive with attributes, delete */
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"QueueUrl\":\"%s\",\"MessageBody\":\"json body\",\"MessageAttributes\":{\"n\":"
             "{\"DataType\":\"Number\",\"StringValue\":\"42\"}}}",
             url);
    cJSON *j = jq(200, "SendMessage", body, NULL, 0);
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(j, "MessageId"));
    cJSON_Delete(j);
    snprintf(body, sizeof(body),
             "{\"QueueUrl\":\"%s\",\"MessageAttributeNames\":[\"All\"],\"MaxNumberOfMessages\":5}",
             url);
    j = jq(200, "ReceiveMessage", body, NULL, 0);
    cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "Messages"), 0);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(cJSON_GetObjectItem(m, "Body")->valuestring, "json body");
    ck_assert_str_eq(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "MessageAttributes"), "n"),
                            "StringValue")
            ->valuestring,
        "42");
    snprintf(body, sizeof(body), "{\"QueueUrl\":\"%s\",\"ReceiptHandle\":\"%s\"}", url,
             cJSON_GetObjectItem(m, "ReceiptHandle")->valuestring);
    cJSON_Delete(j);
    cJSON_Delete(jq(200, "DeleteMessage", body, NULL, 0));
    b = q(200, "Action=GetQueueAttributes&QueueUrl=%s&AttributeName.1=All",
          tk_enc(e, sizeof(e), url));
    ck_assert_ptr_nonnull(strstr(b, "<Name>ApproximateNumberOfMessages</Name><Value>0</Value>"));
    ck_assert_ptr_nonnull(
        strstr(b, "<Name>ApproximateNumberOfMessagesNotVisible</Name><Value>0</Value>"));
    free(b);
}
END_TEST

START_TEST(test_batch)
{
    char url[256];
    char e[512];
    new_queue("bq", url, sizeof(url));
    char *b = q(200,
                "Action=SendMessageBatch&QueueUrl=%s&SendMessageBatchRequestEntry.1.Id=a&"
                "SendMessageBatchRequestEntry.1.MessageBody=one&"
                "SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2."
                "MessageBody=two&SendMessageBatchRequestEntry.3.Id=c&"
                "SendMessageBatchRequestEntry.3.MessageBody=",
                tk_enc(e, sizeof(e), url));
    ck_assert_ptr_nonnull(strstr(b, "<SendMessageBatchResultEntry><Id>a</Id>"));
    ck_assert_ptr_nonnull(strstr(b, "<SendMessageBatchResultEntry><Id>b</Id>"));
    ck_assert_ptr_nonnull(strstr(b, "<BatchResultErrorEntry><Id>c</Id>"));
    free(b);
    b = q(400,
          "Action=SendMessageBatch&QueueUrl=%s&SendMessageBatchRequestEntry.1.Id=a&"
          "SendMessageBatchRequestEntry.1.MessageBody=x&SendMessageBatchRequestEntry.2.Id=a&"
          "SendMessageBatchRequestEntry.2.MessageBody=y",
          tk_enc(e, sizeof(e), url));
    ck_assert_ptr_nonnull(strstr(b, "BatchEntryIdsNotDistinct"));
    free(b);
    q_has(400, "EmptyBatchRequest", "Action=SendMessageBatch&QueueUrl=%s",
          tk_enc(e, sizeof(e), url));
    char body[4096];
    snprintf(body, sizeof(body), "{\"QueueUrl\":\"%s\",\"MaxNumberOfMessages\":10}", url);
    cJSON *j = jq(200, "ReceiveMessage", body, NULL, 0);
    cJSON *msgs = cJSON_GetObjectItem(j, "Messages");
    ck_assert_int_eq(cJSON_GetArraySize(msgs), 2);
    int off = snprintf(body, sizeof(body), "{\"QueueUrl\":\"%s\",\"Entries\":[", url);
    for (int i = 0; i < 2; i++) {
        off += snprintf(
            body + off, sizeof(body) - (size_t)off, "%s{\"Id\":\"d%d\",\"ReceiptHandle\":\"%s\"}",
            i ? "," : "", i,
            cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, i), "ReceiptHandle")->valuestring);
    }
    snprintf(body + off, sizeof(body) - (size_t)off, ",{\"Id\":\"bad\",\"ReceiptHandle\":\"x\"}]}");
    cJSON_Delete(j);
    j = jq(200, "DeleteMessageBatch", body, NULL, 0);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "Successful")), 2);
    cJSON *failed = cJSON_GetObjectItem(j, "Failed");
    ck_assert_int_eq(cJSON_GetArraySize(failed), 1);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(failed, 0), "SenderFault")));
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_visibility)
{
    char url[256];
    char e[512];
    char rh[256];
    new_queue("vq", url, sizeof(url));
    free(q(200, "Action=SendMessage&QueueUrl=%s&MessageBody=v", tk_enc(e, sizeof(e), url)));
    char *b =
        q(200, "Action=ReceiveMessage&QueueUrl=%s&VisibilityTimeout=1", tk_enc(e, sizeof(e), url));
    ck_assert_ptr_nonnull(tk_xml(b, "ReceiptHandle", rh, sizeof(rh)));
    free(b);
    /* comes back once the timeout expires (long poll waits for it) */
    b = q(200, "Action=ReceiveMessage&QueueUrl=%s&WaitTimeSeconds=5&AttributeName.1=All",
          tk_enc(e, sizeof(e), url));
    ck_assert_ptr_nonnull(strstr(b, "<Body>v</Body>"));
    ck_assert_ptr_nonnull(strstr(b, "<Name>ApproximateReceiveCount</Name><Value>2</Value>"));
    ck_assert_ptr_nonnull(tk_xml(b, "ReceiptHandle", rh, sizeof(rh)));
    free(b);
    /* ChangeMessageVisibility to 0 makes it visible at once */
    free(q(200, "Action=ChangeMessageVisibility&QueueUrl=%s&ReceiptHandle=%s&VisibilityTimeout=0",
           tk_enc(e, sizeof(e), url), rh));
    q_has(200, "<Body>v</Body>", "Action=ReceiveMessage&QueueUrl=%s", tk_enc(e, sizeof(e), url));
    /* the old handle is stale now */
    q_has(400, "MessageNotInflight",
          "Action=ChangeMessageVisibility&QueueUrl=%s&ReceiptHandle=%s&VisibilityTimeout=5",
          tk_enc(e, sizeof(e), url), rh);
}
END_TEST

struct poll_arg {
    char url[256];
    char *body;
};

static void *long_poll(void *p)
{
    struct poll_arg *a = p;
    char e[512];
    char body[1024];
    snprintf(body, sizeof(body), "Action=ReceiveMessage&QueueUrl=%s&WaitTimeSeconds=10",
             tk_enc(e, sizeof(e), a->url));
    struct gr_resp r;
    if (tk_query(&srv, "sqs", body, &r) == 200) {
        a->body = strdup(r.body);
    }
    gr_resp_free(&r);
    return NULL;
}

START_TEST(test_long_poll)
{
    struct poll_arg a = {{0}, NULL};
    char e[512];
    new_queue("lp", a.url, sizeof(a.url));
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, long_poll, &a), 0);
    struct timespec ts = {0, 300 * 1000 * 1000};
    nanosleep(&ts, NULL);
    /* the poller holds no lock: other calls (writes too) go through */
    free(q(200, "Action=ListQueues"));
    free(q(200, "Action=CreateQueue&QueueName=other"));
    free(q(200, "Action=SendMessage&QueueUrl=%s&MessageBody=wake", tk_enc(e, sizeof(e), a.url)));
    pthread_join(th, NULL);
    ck_assert_ptr_nonnull(a.body);
    ck_assert_ptr_nonnull(strstr(a.body, "<Body>wake</Body>"));
    free(a.body);
    char *b =
        q(400, "Action=ReceiveMessage&QueueUrl=%s&WaitTimeSeconds=21", tk_enc(e, sizeof(e), a.url));
    ck_assert_ptr_nonnull(strstr(b, "InvalidParameterValue"));
    free(b);
}
END_TEST

START_TEST(test_purge_delete_queue)
{
    char url[256];
    char e[512];
    new_queue("pq", url, sizeof(url));
    free(q(200, "Action=SendMessage&QueueUrl=%s&MessageBody=1", tk_enc(e, sizeof(e), url)));
    free(q(200, "Action=PurgeQueue&QueueUrl=%s", tk_enc(e, sizeof(e), url)));
    char *b = q(200, "Action=ReceiveMessage&QueueUrl=%s", tk_enc(e, sizeof(e), url));
    ck_assert_ptr_null(strstr(b, "<Message>"));
    free(b);
    free(q(200, "Action=DeleteQueue&QueueUrl=%s", tk_enc(e, sizeof(e), url)));
    q_has(400, "NonExistentQueue", "Action=GetQueueUrl&QueueName=pq");
    q_has(400, "NonExistentQueue", "Action=DeleteQueue&QueueUrl=%s", tk_enc(e, sizeof(e), url));
}
END_TEST

START_TEST(test_dead_letter)
{
    char url[256];
    char e[512];
    char pol[256];
    queue_url("src", url, sizeof(url));
    free(q(200, "Action=CreateQueue&QueueName=dlq"));
    tk_enc(pol, sizeof(pol),
           "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:dlq\","
           "\"maxReceiveCount\":\"1\"}");
    free(q(200,
           "Action=CreateQueue&QueueName=src&Attribute.1.Name=RedrivePolicy&"
           "Attribute.1.Value=%s",
           pol));
    free(q(200, "Action=SendMessage&QueueUrl=%s&MessageBody=poison", tk_enc(e, sizeof(e), url)));
    char *b =
        q(200, "Action=ReceiveMessage&QueueUrl=%s&VisibilityTimeout=0", tk_enc(e, sizeof(e), url));
    ck_assert_ptr_nonnull(strstr(b, "<Body>poison</Body>"));
    free(b);
    /* received maxReceiveCount times: the next receive moves it to the DLQ */
    b = q(200, "Action=ReceiveMessage&QueueUrl=%s", tk_enc(e, sizeof(e), url));
    ck_assert_ptr_null(strstr(b, "<Message>"));
    free(b);
    queue_url("dlq", url, sizeof(url));
    q_has(200, "<Body>poison</Body>", "Action=ReceiveMessage&QueueUrl=%s",
          tk_enc(e, sizeof(e), url));
}
END_TEST

START_TEST(test_tags)
{
    char url[256];
    char e[512];
    queue_url("tq", url, sizeof(url));
    free(q(200, "Action=CreateQueue&QueueName=tq&Tag.1.Key=team&Tag.1.Value=a"));
    free(q(200, "Action=TagQueue&QueueUrl=%s&Tags.1.Key=env&Tags.1.Value=dev",
           tk_enc(e, sizeof(e), url)));
    char body[512];
    snprintf(body, sizeof(body), "{\"QueueUrl\":\"%s\"}", url);
    cJSON *j = jq(200, "ListQueueTags", body, NULL, 0);
    cJSON *tags = cJSON_GetObjectItem(j, "Tags");
    ck_assert_str_eq(cJSON_GetObjectItem(tags, "team")->valuestring, "a");
    ck_assert_str_eq(cJSON_GetObjectItem(tags, "env")->valuestring, "dev");
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_event_source_mapping)
{
    char out[400];
    char e[512];
    char url[256];
    snprintf(out, sizeof(out), "%s/esm.jsonl", tmp);
    ck_assert_int_eq(tk_make_function(&srv, "consumer", out, ""), 0);
    new_queue("work", url, sizeof(url));
    free(q(200,
           "Action=SendMessageBatch&QueueUrl=%s&SendMessageBatchRequestEntry.1.Id=a&"
           "SendMessageBatchRequestEntry.1.MessageBody=first&"
           "SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2."
           "MessageBody=second",
           tk_enc(e, sizeof(e), url)));
    ck_assert_int_eq(tk_lambda(&srv, "POST", "/2015-03-31/event-source-mappings",
                               "{\"EventSourceArn\":\"arn:aws:sqs:us-east-1:000000000000:work\","
                               "\"FunctionName\":\"arn:aws:lambda:us-east-1:000000000000:"
                               "function:consumer:dev\",\"BatchSize\":10}"),
                     202);
    char *got = tk_wait_file(out, "second", 1, 30);
    ck_assert_ptr_nonnull(got);
    cJSON *line = cJSON_Parse(got);
    ck_assert_ptr_nonnull(line);
    cJSON *recs = cJSON_GetObjectItem(cJSON_GetObjectItem(line, "event"), "Records");
    ck_assert_int_ge(cJSON_GetArraySize(recs), 1);
    cJSON *r0 = cJSON_GetArrayItem(recs, 0);
    ck_assert_str_eq(cJSON_GetObjectItem(r0, "eventSource")->valuestring, "aws:sqs");
    ck_assert_str_eq(cJSON_GetObjectItem(r0, "eventSourceARN")->valuestring,
                     "arn:aws:sqs:us-east-1:000000000000:work");
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(r0, "receiptHandle"));
    ck_assert_str_eq(cJSON_GetObjectItem(line, "arn")->valuestring,
                     "arn:aws:lambda:us-east-1:000000000000:function:consumer:dev");
    cJSON_Delete(line);
    free(got);
    /* a successful batch is deleted from the queue */
    int empty = 0;
    for (int i = 0; i < 50 && !empty; i++) {
        char *b = q(200, "Action=GetQueueAttributes&QueueUrl=%s&AttributeName.1=All",
                    tk_enc(e, sizeof(e), url));
        empty = strstr(b, "<Name>ApproximateNumberOfMessages</Name><Value>0</Value>") &&
                strstr(b, "<Name>ApproximateNumberOfMessagesNotVisible</Name><Value>0</Value>");
        free(b);
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    ck_assert(empty);
    ck_assert_int_ge(tk_journal_count(&srv, "lambda", "Invoke", 200, NULL), 1);
}
END_TEST

START_TEST(test_event_source_mapping_failure)
{
    char out[400];
    char e[512];
    char url[256];
    char pol[256];
    snprintf(out, sizeof(out), "%s/fail.jsonl", tmp);
    ck_assert_int_eq(tk_make_function(&srv, "flaky", out, ",\"FAIL\":\"1\""), 0);
    free(q(200, "Action=CreateQueue&QueueName=work-dlq"));
    tk_enc(pol, sizeof(pol),
           "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:work-dlq\","
           "\"maxReceiveCount\":2}");
    free(q(200,
           "Action=CreateQueue&QueueName=work2&Attribute.1.Name=VisibilityTimeout&"
           "Attribute.1.Value=1&Attribute.2.Name=RedrivePolicy&Attribute.2.Value=%s",
           pol));
    queue_url("work2", url, sizeof(url));
    free(q(200, "Action=SendMessage&QueueUrl=%s&MessageBody=poison-pill",
           tk_enc(e, sizeof(e), url)));
    ck_assert_int_eq(tk_lambda(&srv, "POST", "/2015-03-31/event-source-mappings",
                               "{\"EventSourceArn\":\"arn:aws:sqs:us-east-1:000000000000:work2\","
                               "\"FunctionName\":\"flaky\",\"BatchSize\":1}"),
                     202);
    /* the function fails: the message comes back after the visibility
     * timeout and is delivered again, then redriven to the DLQ */
    char *got = tk_wait_file(out, "poison-pill", 2, 30);
    ck_assert_ptr_nonnull(got);
    free(got);
    queue_url("work-dlq", url, sizeof(url));
    char *b =
        q(200, "Action=ReceiveMessage&QueueUrl=%s&WaitTimeSeconds=15", tk_enc(e, sizeof(e), url));
    ck_assert_ptr_nonnull(strstr(b, "<Body>poison-pill</Body>"));
    free(b);
}
END_TEST

START_TEST(test_fifo)
{
    char url[256];
    char e[512];
    queue_url("jobs.fifo", url, sizeof(url));
    free(q(200, "Action=CreateQueue&QueueName=jobs.fifo&Attribute.1.Name=FifoQueue&"
                "Attribute.1.Value=true&Attribute.2.Name=ContentBasedDeduplication&"
                "Attribute.2.Value=true"));
    char *b = q(400, "Action=SendMessage&QueueUrl=%s&MessageBody=a", tk_enc(e, sizeof(e), url));
    ck_assert_ptr_nonnull(strstr(b, "MessageGroupId"));
    free(b);
    char id1[64];
    char id2[64];
    b = q(200, "Action=SendMessage&QueueUrl=%s&MessageBody=a&MessageGroupId=g",
          tk_enc(e, sizeof(e), url));
    ck_assert_ptr_nonnull(tk_xml(b, "MessageId", id1, sizeof(id1)));
    ck_assert_ptr_nonnull(strstr(b, "<SequenceNumber>"));
    free(b);
    /* content-based deduplication: the same body is the same message */
    b = q(200, "Action=SendMessage&QueueUrl=%s&MessageBody=a&MessageGroupId=g",
          tk_enc(e, sizeof(e), url));
    ck_assert_str_eq(tk_xml(b, "MessageId", id2, sizeof(id2)), id1);
    free(b);
    free(q(200, "Action=SendMessage&QueueUrl=%s&MessageBody=b&MessageGroupId=g",
           tk_enc(e, sizeof(e), url)));
    /* one group: b waits while a is in flight */
    q_has(200, "<Body>a</Body>", "Action=ReceiveMessage&QueueUrl=%s", tk_enc(e, sizeof(e), url));
    b = q(200, "Action=ReceiveMessage&QueueUrl=%s", tk_enc(e, sizeof(e), url));
    ck_assert_ptr_null(strstr(b, "<Message>"));
    free(b);
}
END_TEST

int main(void)
{
    const struct kit_case cases[] = {
        {"CreateQueue", test_create_queue, NULL},
        {"GetQueueUrl", test_get_queue_url, NULL},
        {"ListQueues", test_list_queues, NULL},
        {"QueueAttributes", test_queue_attributes, NULL},
        {"SendReceiveDelete", test_send_receive_delete, NULL},
        {"Batch", test_batch, NULL},
        {"Visibility", test_visibility, NULL},
        {"LongPoll", test_long_poll, NULL},
        {"PurgeDeleteQueue", test_purge_delete_queue, NULL},
        {"DeadLetter", test_dead_letter, NULL},
        {"Tags", test_tags, NULL},
        {"EventSourceMapping", test_event_source_mapping, NULL},
        {"EventSourceMappingFailure", test_event_source_mapping_failure, NULL},
        {"Fifo", test_fifo, NULL},
    };
    return KIT_RUN("sqs", cases, setup, teardown, 60);
}
