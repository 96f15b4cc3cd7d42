/*
 * svc_sqs.c - Amazon SQS: CreateQueue, GetQueueUrl, GetQueueAttributes,
 * SetQueueAttributes, ListQueues, DeleteQueue, PurgeQueue, SendMessage,
 * SendMessageBatch, ReceiveMessage, DeleteMessage, DeleteMessageBatch,
 * ChangeMessageVisibility, ChangeMessageVisibilityBatch, TagQueue,
 * UntagQueue, ListQueueTags; plus delivery of queue messages to Lambda
 * event source mappings (a worker thread).
 *
 * Two protocols share one operation table: the query protocol (AWS CLI v2,
 * form bodies, XML answers) and JSON 1.0 (X-Amz-Target AmazonSQS.<Op>,
 * botocore >= 1.3x, new SDKs). Every handler reads its input as a cJSON
 * object in the JSON protocol's shape (sqs_input() converts query forms) and
 * builds its output the same way; sqs_reply() renders JSON or XML. Errors in
 * JSON mode carry __type "com.amazonaws.sqs#<Shape>" and the
 * x-amzn-query-error header that query-compatible clients read.
 *
 * Queue URLs are emu_base_url()/ACCOUNT/NAME; any URL whose last two path
 * segments are ACCOUNT/NAME is accepted (CloudFormation hands out AWS-shaped
 * ones). ReceiveMessage long-polls without holding the store lock.
 *
 * Lambda event source mappings: the worker asks Lambda
 * (ListEventSourceMappings) which enabled mappings point at SQS queue ARNs,
 * takes up to BatchSize visible messages, invokes the function
 * synchronously with AWS's SQS event shape and deletes the messages when the
 * function succeeded; otherwise they come back after the visibility timeout.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "events_wire.h"
#include "worker.h"

#define SQS_MAX_WAIT 20
#define SQS_MAX_BATCH 10

/* --------------------------------------------------------------- schema */

static const char *const sqs_schema[] = {
    "CREATE TABLE sqs_queues ("
    " account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,"
    " attrs TEXT NOT NULL, tags TEXT NOT NULL DEFAULT '{}',"
    " created REAL NOT NULL, modified REAL NOT NULL,"
    " PRIMARY KEY (account, region, name));"
    "CREATE TABLE sqs_messages ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " account TEXT NOT NULL, region TEXT NOT NULL, queue TEXT NOT NULL,"
    " id TEXT NOT NULL, body TEXT NOT NULL, md5 TEXT NOT NULL,"
    " attrs TEXT NOT NULL DEFAULT '{}', sender TEXT NOT NULL DEFAULT '',"
    " sent REAL NOT NULL, visible_at REAL NOT NULL,"
    " receive_count INTEGER NOT NULL DEFAULT 0, first_receive REAL NOT NULL DEFAULT 0,"
    " receipt TEXT NOT NULL DEFAULT '', group_id TEXT NOT NULL DEFAULT '',"
    " dedup_id TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX sqs_messages_q ON sqs_messages(account, region, queue, visible_at);",
};

/* ------------------------------------------------------- wake-ups, worker */

/* The event source mapping worker (sqs_work below). Its wake-ups also end
 * long polls: a send wakes both, and its stop ends both. */
static double sqs_work(void *arg);
static struct emu_worker sqs_worker = EMU_WORKER_INIT(sqs_work, NULL);

/* ------------------------------------------------------------ protocol */

static int sqs_is_json(const struct emu_request *req)
{
    return emu_header(req, "x-amz-target") != NULL;
}

/* JSON shape names of the errors (query codes are in errors.def). */
static const char *sqs_json_shape(enum emu_error e)
{
    switch (e) {
    case SQS_QUEUE_DOES_NOT_EXIST:
        return "QueueDoesNotExist";
    case SQS_QUEUE_NAME_EXISTS:
        return "QueueNameExists";
    case SQS_RECEIPT_HANDLE_INVALID:
        return "ReceiptHandleIsInvalid";
    case SQS_INVALID_ATTRIBUTE_NAME:
        return "InvalidAttributeName";
    case SQS_INVALID_ATTRIBUTE_VALUE:
        return "InvalidAttributeValue";
    case SQS_EMPTY_BATCH_REQUEST:
        return "EmptyBatchRequest";
    case SQS_TOO_MANY_ENTRIES:
        return "TooManyEntriesInBatchRequest";
    case SQS_BATCH_ENTRY_IDS_NOT_DISTINCT:
        return "BatchEntryIdsNotDistinct";
    case SQS_PURGE_IN_PROGRESS:
        return "PurgeQueueInProgress";
    case SQS_INVALID_MESSAGE_CONTENTS:
        return "InvalidMessageContents";
    case SQS_MESSAGE_NOT_INFLIGHT:
        return "MessageNotInflight";
    case SQS_INVALID_BATCH_ENTRY_ID:
        return "InvalidBatchEntryId";
    default:
        return NULL;
    }
}

/* Fails the call in the request's protocol. fmt may be NULL. */
static void sqs_fail(const struct emu_request *req, struct emu_response *resp, enum emu_error e,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void sqs_fail(const struct emu_request *req, struct emu_response *resp, enum emu_error e,
                     const char *fmt, ...)
{
    const struct emu_error_info *info = emu_error_info(e);
    struct emu_buf msg = {0};
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        emu_buf_vprintf(&msg, fmt, ap);
        va_end(ap);
    } else if (strstr(info->message, "%s") == NULL) {
        emu_buf_puts(&msg, info->message);
    }
    /* Internal callers (CloudFormation, SNS) match on the catalogue's code. */
    if (!sqs_is_json(req) || req->internal) {
        emu_fail(resp, e, "%s", msg.data ? msg.data : "");
        emu_buf_release(&msg);
        return;
    }
    const char *shape = sqs_json_shape(e);
    char type[160];
    snprintf(type, sizeof(type), "com.amazonaws.sqs#%s", shape ? shape : info->code);
    emu_fail_raw(resp, info->status, type, msg.data ? msg.data : "");
    emu_resp_header(resp, "x-amzn-query-error", "%s;%s", info->code,
                    info->status >= 500 ? "Receiver" : "Sender");
    emu_buf_release(&msg);
}

static const char *const sqs_scalars[] = {
    "QueueName",
    "QueueUrl",
    "MessageBody",
    "DelaySeconds",
    "MaxNumberOfMessages",
    "VisibilityTimeout",
    "WaitTimeSeconds",
    "ReceiptHandle",
    "QueueNamePrefix",
    "NextToken",
    "MaxResults",
    "MessageGroupId",
    "MessageDeduplicationId",
    "QueueOwnerAWSAccountId",
    "ReceiveRequestAttemptId",
};

/* Builds entries "prefix.N.<field>" into an array of objects. */
static cJSON *sqs_form_entries(const struct emu_request *req, const char *prefix,
                               const char *const *fields, size_t nfields, int with_attrs)
{
    cJSON *arr = cJSON_CreateArray();
    char key[256];
    for (int i = 1; i <= 100; i++) {
        cJSON *e = cJSON_CreateObject();
        int any = 0;
        for (size_t f = 0; f < nfields; f++) {
            snprintf(key, sizeof(key), "%s.%d.%s", prefix, i, fields[f]);
            const char *v = emu_form(req, key);
            if (v) {
                cJSON_AddStringToObject(e, fields[f], v);
                any = 1;
            }
        }
        if (with_attrs) {
            snprintf(key, sizeof(key), "%s.%d.MessageAttribute", prefix, i);
            cJSON *ma = evw_form_msg_attrs(req, key);
            if (cJSON_GetArraySize(ma) > 0) {
                cJSON_AddItemToObject(e, "MessageAttributes", ma);
                any = 1;
            } else {
                cJSON_Delete(ma);
            }
        }
        if (!any) {
            cJSON_Delete(e);
            break;
        }
        cJSON_AddItemToArray(arr, e);
    }
    return arr;
}

/* Adds arr to obj under name when non-empty, else deletes it. */
static void add_if_any(cJSON *obj, const char *name, cJSON *item)
{
    if (cJSON_GetArraySize(item) > 0) {
        cJSON_AddItemToObject(obj, name, item);
    } else {
        cJSON_Delete(item);
    }
}

/* The request's input in JSON shape. Returns a tree the caller deletes with
 * sqs_input_free (JSON requests: req->json itself, not copied). */
static cJSON *sqs_input(const struct emu_request *req)
{
    if (sqs_is_json(req)) {
        return req->json && cJSON_IsObject(req->json) ? req->json : NULL;
    }
    cJSON *in = cJSON_CreateObject();
    for (size_t i = 0; i < sizeof(sqs_scalars) / sizeof(sqs_scalars[0]); i++) {
        const char *v = emu_form(req, sqs_scalars[i]);
        if (v) {
            cJSON_AddStringToObject(in, sqs_scalars[i], v);
        }
    }
    add_if_any(in, "Attributes", evw_form_map(req, "Attribute", "Name", "Value"));
    add_if_any(in, "tags", evw_form_map(req, "Tag", "Key", "Value"));
    add_if_any(in, "Tags", evw_form_map(req, "Tags", "Key", "Value"));
    add_if_any(in, "AttributeNames", evw_form_list(req, "AttributeName"));
    add_if_any(in, "MessageAttributeNames", evw_form_list(req, "MessageAttributeName"));
    add_if_any(in, "MessageSystemAttributeNames", evw_form_list(req, "MessageSystemAttributeName"));
    add_if_any(in, "TagKeys", evw_form_list(req, "TagKey"));
    add_if_any(in, "MessageAttributes", evw_form_msg_attrs(req, "MessageAttribute"));
    static const char *const send_fields[] = {"Id", "MessageBody", "DelaySeconds", "MessageGroupId",
                                              "MessageDeduplicationId"};
    static const char *const del_fields[] = {"Id", "ReceiptHandle"};
    static const char *const vis_fields[] = {"Id", "ReceiptHandle", "VisibilityTimeout"};
    cJSON *entries = sqs_form_entries(req, "SendMessageBatchRequestEntry", send_fields, 5, 1);
    if (cJSON_GetArraySize(entries) == 0) {
        cJSON_Delete(entries);
        entries = sqs_form_entries(req, "DeleteMessageBatchRequestEntry", del_fields, 2, 0);
    }
    if (cJSON_GetArraySize(entries) == 0) {
        cJSON_Delete(entries);
        entries =
            sqs_form_entries(req, "ChangeMessageVisibilityBatchRequestEntry", vis_fields, 3, 0);
    }
    add_if_any(in, "Entries", entries);
    return in;
}

static void sqs_input_free(const struct emu_request *req, cJSON *in)
{
    if (in != NULL && in != req->json) {
        cJSON_Delete(in);
    }
}

/* Integer member given as a number (JSON) or a string (query). Returns 1 and
 * sets *out when present and valid, 0 when absent, -1 when malformed. */
static int in_int(const cJSON *in, const char *name, long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, name);
    if (v == NULL || cJSON_IsNull(v)) {
        return 0;
    }
    if (cJSON_IsNumber(v)) {
        if (v->valuedouble != (double)(long)v->valuedouble) {
            return -1;
        }
        *out = (long)v->valuedouble;
        return 1;
    }
    if (cJSON_IsString(v)) {
        char *end = NULL;
        errno = 0;
        long n = strtol(v->valuestring, &end, 10);
        if (end == v->valuestring || *end != 0 || errno != 0) {
            return -1;
        }
        *out = n;
        return 1;
    }
    return -1;
}

/* Element names of list members and map entries in query (XML) answers. */
static const char *sqs_xml_member(const char *key, const char *op)
{
    if (strcmp(key, "QueueUrls") == 0) {
        return "QueueUrl";
    }
    if (strcmp(key, "Messages") == 0) {
        return "Message";
    }
    if (strcmp(key, "Failed") == 0) {
        return "BatchResultErrorEntry";
    }
    if (strcmp(key, "Successful") == 0) {
        if (strcmp(op, "SendMessageBatch") == 0) {
            return "SendMessageBatchResultEntry";
        }
        if (strcmp(op, "DeleteMessageBatch") == 0) {
            return "DeleteMessageBatchResultEntry";
        }
        return "ChangeMessageVisibilityBatchResultEntry";
    }
    return "member";
}

static void sqs_xml_value(struct emu_buf *b, const char *key, const cJSON *v, const char *op);

/* A map member rendered flattened: <Elem><Name|Key>k</..><Value>v</Value></Elem>. */
static void sqs_xml_map(struct emu_buf *b, const char *elem, const char *kname, const cJSON *m,
                        const char *op)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, m)
    {
        emu_buf_printf(b, "<%s>", elem);
        emu_buf_xml_elem(b, kname, it->string);
        if (cJSON_IsObject(it)) {
            emu_buf_puts(b, "<Value>");
            const cJSON *f;
            cJSON_ArrayForEach(f, it)
            {
                sqs_xml_value(b, f->string, f, op);
            }
            emu_buf_puts(b, "</Value>");
        } else {
            sqs_xml_value(b, "Value", it, op);
        }
        emu_buf_printf(b, "</%s>", elem);
    }
}

static void sqs_xml_value(struct emu_buf *b, const char *key, const cJSON *v, const char *op)
{
    if (cJSON_IsArray(v)) {
        const char *elem = sqs_xml_member(key, op);
        const cJSON *it;
        cJSON_ArrayForEach(it, v)
        {
            if (cJSON_IsObject(it)) {
                emu_buf_printf(b, "<%s>", elem);
                const cJSON *f;
                cJSON_ArrayForEach(f, it)
                {
                    sqs_xml_value(b, f->string, f, op);
                }
                emu_buf_printf(b, "</%s>", elem);
            } else {
                sqs_xml_value(b, elem, it, op);
            }
        }
    } else if (cJSON_IsObject(v)) {
        if (strcmp(key, "Attributes") == 0) {
            sqs_xml_map(b, "Attribute", "Name", v, op);
        } else if (strcmp(key, "MessageAttributes") == 0) {
            sqs_xml_map(b, "MessageAttribute", "Name", v, op);
        } else if (strcmp(key, "Tags") == 0) {
            sqs_xml_map(b, "Tag", "Key", v, op);
        } else {
            emu_buf_printf(b, "<%s>", key);
            const cJSON *f;
            cJSON_ArrayForEach(f, v)
            {
                sqs_xml_value(b, f->string, f, op);
            }
            emu_buf_printf(b, "</%s>", key);
        }
    } else if (cJSON_IsBool(v)) {
        emu_buf_xml_elem(b, key, cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsNumber(v)) {
        emu_buf_printf(b, "<%s>%.0f</%s>", key, v->valuedouble, key);
    } else if (cJSON_IsString(v)) {
        emu_buf_xml_elem(b, key, v->valuestring);
    }
}

/* Answers with out (taken; NULL = empty result) in the request's protocol. */
static void sqs_reply(struct emu_request *req, struct emu_response *resp, cJSON *out)
{
    if (sqs_is_json(req)) {
        emu_resp_json(resp, 200, out ? out : cJSON_CreateObject());
        emu_resp_header(resp, "Content-Type", "application/x-amz-json-1.0");
        return;
    }
    if (out == NULL) {
        emu_resp_query(req, resp, NULL);
        return;
    }
    struct emu_buf b = {0};
    const cJSON *f;
    cJSON_ArrayForEach(f, out)
    {
        sqs_xml_value(&b, f->string, f, req->op ? req->op->name : "");
    }
    emu_resp_query(req, resp, b.data ? b.data : "");
    emu_buf_release(&b);
    cJSON_Delete(out);
}

/* ---------------------------------------------------------------- queues */

struct sqs_queue {
    char account[16];
    char region[32];
    char name[96];
    cJSON *attrs; /* owned */
    double created;
    double modified;
};

static void sqs_queue_release(struct sqs_queue *q)
{
    cJSON_Delete(q->attrs);
    q->attrs = NULL;
}

/* Binds the queue's account, region and name as parameters first, first + 1
 * and first + 2 of st. */
static void sqs_bind_queue(sqlite3_stmt *st, int first, const char *account, const char *region,
                           const char *name)
{
    sqlite3_bind_text(st, first, account, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, first + 1, region, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, first + 2, name, -1, SQLITE_TRANSIENT);
}

static int sqs_valid_name(const char *name)
{
    size_t n = strlen(name);
    size_t base = n;
    if (n > 5 && strcmp(name + n - 5, ".fifo") == 0) {
        base = n - 5;
    }
    if (n == 0 || n > 80 || base == 0) {
        return 0;
    }
    for (size_t i = 0; i < base; i++) {
        if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '_') {
            return 0;
        }
    }
    return 1;
}

/* Splits ".../ACCOUNT/NAME" into account and name. Returns 0 or -1. */
static int sqs_parse_url(const char *url, char *account, size_t alen, char *name, size_t nlen)
{
    if (url == NULL) {
        return -1;
    }
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/') {
        n--;
    }
    size_t i = n;
    while (i > 0 && url[i - 1] != '/') {
        i--;
    }
    if (i == 0 || n - i == 0 || n - i >= nlen) {
        return -1;
    }
    size_t j = i - 1;
    size_t k = j;
    while (k > 0 && url[k - 1] != '/') {
        k--;
    }
    if (j - k == 0 || j - k >= alen) {
        return -1;
    }
    memcpy(name, url + i, n - i);
    name[n - i] = 0;
    memcpy(account, url + k, j - k);
    account[j - k] = 0;
    for (const char *p = account; *p; p++) {
        if (!isdigit((unsigned char)*p)) {
            return -1;
        }
    }
    return 0;
}

static void sqs_queue_url(const char *account, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s/%s", emu_base_url(), account, name);
}

/* Loads a queue. Returns 0, or -1 when it does not exist. Store locked. */
static int sqs_queue_load(const char *account, const char *region, const char *name,
                          struct sqs_queue *q)
{
    memset(q, 0, sizeof(*q));
    sqlite3_stmt *st = emu_stmt("SELECT attrs, created, modified FROM sqs_queues"
                                " WHERE account = ? AND region = ? AND name = ?");
    if (st == NULL) {
        return -1;
    }
    sqs_bind_queue(st, 1, account, region, name);
    int rc = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *a = (const char *)sqlite3_column_text(st, 0);
        q->attrs = cJSON_Parse(a ? a : "{}");
        if (q->attrs == NULL) {
            q->attrs = cJSON_CreateObject();
        }
        q->created = sqlite3_column_double(st, 1);
        q->modified = sqlite3_column_double(st, 2);
        snprintf(q->account, sizeof(q->account), "%s", account);
        snprintf(q->region, sizeof(q->region), "%s", region);
        snprintf(q->name, sizeof(q->name), "%s", name);
        rc = 0;
    }
    emu_stmt_done(st);
    return rc;
}

/* Resolves the request's QueueUrl to a loaded queue; fails the call when it
 * is missing or unknown. Returns 0 or -1. */
static int sqs_queue_from_req(struct emu_request *req, struct emu_response *resp, const cJSON *in,
                              struct sqs_queue *q)
{
    char account[16];
    char name[96];
    const char *url = evw_json_str(in, "QueueUrl");
    if ((url == NULL || *url == 0) && req->path && strcmp(req->path, "/") != 0) {
        url = req->path; /* old SDKs send the call to the queue URL itself */
    }
    if (url == NULL || *url == 0) {
        sqs_fail(req, resp, AWS_MISSING_PARAMETER,
                 "The request must contain the parameter QueueUrl.");
        return -1;
    }
    if (sqs_parse_url(url, account, sizeof(account), name, sizeof(name)) != 0 ||
        sqs_queue_load(account, req->region, name, q) != 0) {
        sqs_fail(req, resp, SQS_QUEUE_DOES_NOT_EXIST, NULL);
        return -1;
    }
    return 0;
}

static long attr_long(const cJSON *attrs, const char *name, long def)
{
    const char *s = evw_json_str(attrs, name);
    if (s == NULL) {
        return def;
    }
    char *end = NULL;
    long v = strtol(s, &end, 10);
    return end != s && *end == 0 ? v : def;
}

static int sqs_is_fifo(const struct sqs_queue *q)
{
    const char *f = evw_json_str(q->attrs, "FifoQueue");
    return f && strcmp(f, "true") == 0;
}

struct sqs_attr_rule {
    const char *name;
    long min; /* min == max == 0: not numeric */
    long max;
};

static const struct sqs_attr_rule sqs_settable[] = {
    {"DelaySeconds", 0, 900},
    {"MaximumMessageSize", 1024, 262144},
    {"MessageRetentionPeriod", 60, 1209600},
    {"ReceiveMessageWaitTimeSeconds", 0, 20},
    {"VisibilityTimeout", 0, 43200},
    {"Policy", 0, 0},
    {"RedrivePolicy", 0, 0},
    {"RedriveAllowPolicy", 0, 0},
    {"FifoQueue", 0, 0},
    {"ContentBasedDeduplication", 0, 0},
    {"KmsMasterKeyId", 0, 0},
    {"KmsDataKeyReusePeriodSeconds", 60, 86400},
    {"SqsManagedSseEnabled", 0, 0},
    {"DeduplicationScope", 0, 0},
    {"FifoThroughputLimit", 0, 0},
};

/* Validates attributes given to CreateQueue/SetQueueAttributes. Returns 0 or
 * fails the call and returns -1. */
static int sqs_check_attrs(struct emu_request *req, struct emu_response *resp, const cJSON *attrs,
                           int creating)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, attrs)
    {
        const struct sqs_attr_rule *rule = NULL;
        for (size_t i = 0; i < sizeof(sqs_settable) / sizeof(sqs_settable[0]); i++) {
            if (strcmp(sqs_settable[i].name, it->string) == 0) {
                rule = &sqs_settable[i];
            }
        }
        if (rule == NULL) {
            sqs_fail(req, resp, SQS_INVALID_ATTRIBUTE_NAME, "Unknown Attribute %s.", it->string);
            return -1;
        }
        if (!cJSON_IsString(it)) {
            sqs_fail(req, resp, SQS_INVALID_ATTRIBUTE_VALUE, "Invalid value for the parameter %s.",
                     it->string);
            return -1;
        }
        if (rule->min != 0 || rule->max != 0) {
            char *end = NULL;
            errno = 0;
            long v = strtol(it->valuestring, &end, 10);
            if (end == it->valuestring || *end != 0 || errno != 0 || v < rule->min ||
                v > rule->max) {
                sqs_fail(req, resp, SQS_INVALID_ATTRIBUTE_VALUE,
                         "Invalid value for the parameter %s.", it->string);
                return -1;
            }
        }
        if (strcmp(it->string, "RedrivePolicy") == 0 && it->valuestring[0]) {
            cJSON *rp = cJSON_Parse(it->valuestring);
            int ok = rp && evw_json_str(rp, "deadLetterTargetArn") &&
                     cJSON_GetObjectItemCaseSensitive(rp, "maxReceiveCount");
            cJSON_Delete(rp);
            if (!ok) {
                sqs_fail(req, resp, SQS_INVALID_ATTRIBUTE_VALUE,
                         "Value %s for parameter RedrivePolicy is invalid. Reason: Redrive "
                         "policy is not a valid JSON map with deadLetterTargetArn and "
                         "maxReceiveCount.",
                         it->valuestring);
                return -1;
            }
        }
        if (!creating && strcmp(it->string, "FifoQueue") == 0) {
            sqs_fail(req, resp, SQS_INVALID_ATTRIBUTE_NAME, "Invalid attribute name FifoQueue.");
            return -1;
        }
    }
    return 0;
}

/* The queue's attributes as GetQueueAttributes reports them (new object). */
static cJSON *sqs_all_attrs(const struct sqs_queue *q)
{
    cJSON *out = cJSON_Duplicate(q->attrs, 1);
    char buf[512];
    snprintf(buf, sizeof(buf), "arn:aws:sqs:%s:%s:%s", q->region, q->account, q->name);
    cJSON_AddStringToObject(out, "QueueArn", buf);
    double now = emu_now();
    static const char *const counts[3] = {
        "SELECT COUNT(*) FROM sqs_messages WHERE account = ? AND region = ? AND queue = ?"
        " AND visible_at <= ?",
        "SELECT COUNT(*) FROM sqs_messages WHERE account = ? AND region = ? AND queue = ?"
        " AND visible_at > ? AND receive_count > 0",
        "SELECT COUNT(*) FROM sqs_messages WHERE account = ? AND region = ? AND queue = ?"
        " AND visible_at > ? AND receive_count = 0",
    };
    static const char *const names[3] = {"ApproximateNumberOfMessages",
                                         "ApproximateNumberOfMessagesNotVisible",
                                         "ApproximateNumberOfMessagesDelayed"};
    for (int i = 0; i < 3; i++) {
        sqlite3_stmt *st = emu_stmt(counts[i]);
        long long n = 0;
        if (st) {
            sqs_bind_queue(st, 1, q->account, q->region, q->name);
            sqlite3_bind_double(st, 4, now);
            if (sqlite3_step(st) == SQLITE_ROW) {
                n = sqlite3_column_int64(st, 0);
            }
            emu_stmt_done(st);
        }
        snprintf(buf, sizeof(buf), "%lld", n);
        cJSON_AddStringToObject(out, names[i], buf);
    }
    snprintf(buf, sizeof(buf), "%lld", (long long)q->created);
    cJSON_AddStringToObject(out, "CreatedTimestamp", buf);
    snprintf(buf, sizeof(buf), "%lld", (long long)q->modified);
    cJSON_AddStringToObject(out, "LastModifiedTimestamp", buf);
    return out;
}

static int sqs_save_attrs(const struct sqs_queue *q)
{
    char *text = cJSON_PrintUnformatted(q->attrs);
    sqlite3_stmt *st = emu_stmt("UPDATE sqs_queues SET attrs = ?, modified = ?"
                                " WHERE account = ? AND region = ? AND name = ?");
    int rc = -1;
    if (st && text) {
        sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 2, emu_now());
        sqs_bind_queue(st, 3, q->account, q->region, q->name);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    }
    emu_stmt_done(st);
    free(text);
    return rc;
}

static void sqs_create_queue(struct emu_request *req, struct emu_response *resp)
{
    cJSON *in = sqs_input(req);
    struct sqs_queue q = {0};
    cJSON *attrs = NULL;
    const char *name = evw_json_str(in, "QueueName");
    if (name == NULL || *name == 0) {
        sqs_fail(req, resp, AWS_MISSING_PARAMETER,
                 "The request must contain the parameter QueueName.");
        goto out;
    }
    if (!sqs_valid_name(name)) {
        sqs_fail(req, resp, AWS_INVALID_PARAMETER_VALUE,
                 "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in "
                 "length");
        goto out;
    }
    const cJSON *given = cJSON_GetObjectItemCaseSensitive(in, "Attributes");
    if (given && !cJSON_IsObject(given)) {
        sqs_fail(req, resp, SQS_INVALID_ATTRIBUTE_VALUE, "Attributes must be a map.");
        goto out;
    }
    if (given && sqs_check_attrs(req, resp, given, 1) != 0) {
        goto out;
    }
    size_t nlen = strlen(name);
    int fifo_name = nlen > 5 && strcmp(name + nlen - 5, ".fifo") == 0;
    const char *fifo_attr = evw_json_str(given, "FifoQueue");
    int fifo = fifo_attr && strcmp(fifo_attr, "true") == 0;
    if (fifo != fifo_name) {
        sqs_fail(req, resp, SQS_INVALID_ATTRIBUTE_VALUE,
                 fifo ? "The name of a FIFO queue can only include alphanumeric characters, "
                        "hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in "
                        "length."
                      : "Can only include alphanumeric characters, hyphens, or underscores. 1 to "
                        "80 in length");
        goto out;
    }
    /* Defaults, then what was given. */
    attrs = cJSON_CreateObject();
    cJSON_AddStringToObject(attrs, "VisibilityTimeout", "30");
    cJSON_AddStringToObject(attrs, "MaximumMessageSize", "262144");
    cJSON_AddStringToObject(attrs, "MessageRetentionPeriod", "345600");
    cJSON_AddStringToObject(attrs, "DelaySeconds", "0");
    cJSON_AddStringToObject(attrs, "ReceiveMessageWaitTimeSeconds", "0");
    cJSON_AddStringToObject(attrs, "SqsManagedSseEnabled", "true");
    if (fifo) {
        cJSON_AddStringToObject(attrs, "ContentBasedDeduplication", "false");
        cJSON_AddStringToObject(attrs, "DeduplicationScope", "queue");
        cJSON_AddStringToObject(attrs, "FifoThroughputLimit", "perQueue");
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, given)
    {
        cJSON_DeleteItemFromObjectCaseSensitive(attrs, it->string);
        cJSON_AddStringToObject(attrs, it->string, it->valuestring);
    }
    char url[1024];
    sqs_queue_url(req->account, name, url, sizeof(url));
    if (sqs_queue_load(req->account, req->region, name, &q) == 0) {
        /* Idempotent when every given attribute matches. */
        cJSON_ArrayForEach(it, given)
        {
            const char *cur = evw_json_str(q.attrs, it->string);
            if (cur == NULL || strcmp(cur, it->valuestring) != 0) {
                sqs_fail(req, resp, SQS_QUEUE_NAME_EXISTS,
                         "A queue already exists with the same name and a different value for "
                         "attribute %s",
                         it->string);
                goto out;
            }
        }
    } else {
        const cJSON *tags = cJSON_GetObjectItemCaseSensitive(in, "tags");
        char *atext = cJSON_PrintUnformatted(attrs);
        char *ttext = cJSON_IsObject(tags) ? cJSON_PrintUnformatted(tags) : NULL;
        sqlite3_stmt *st = emu_stmt("INSERT INTO sqs_queues(account, region, name, attrs, tags,"
                                    " created, modified) VALUES (?, ?, ?, ?, ?, ?, ?)");
        double now = emu_now();
        int ok = 0;
        if (st && atext) {
            sqlite3_bind_text(st, 1, req->account, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 2, req->region, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 4, atext, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 5, ttext ? ttext : "{}", -1, SQLITE_TRANSIENT);
            sqlite3_bind_double(st, 6, now);
            sqlite3_bind_double(st, 7, now);
            ok = sqlite3_step(st) == SQLITE_DONE;
        }
        emu_stmt_done(st);
        free(atext);
        free(ttext);
        if (!ok) {
            sqs_fail(req, resp, AWS_INTERNAL_FAILURE, NULL);
            goto out;
        }
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "QueueUrl", url);
    sqs_reply(req, resp, o);
out:
    cJSON_Delete(attrs);
    sqs_queue_release(&q);
    sqs_input_free(req, in);
}

static void sqs_get_queue_url(struct emu_request *req, struct emu_response *resp)
{
    cJSON *in = sqs_input(req);
    struct sqs_queue q = {0};
    const char *name = evw_json_str(in, "QueueName");
    const char *owner = evw_json_str(in, "QueueOwnerAWSAccountId");
    const char *account = owner && *owner ? owner : req->account;
    if (name == NULL || *name == 0) {
        sqs_fail(req, resp, AWS_MISSING_PARAMETER,
                 "The request must contain the parameter QueueName.");
        goto out;
    }
    if (sqs_queue_load(account, req->region, name, &q) != 0) {
        sqs_fail(req, resp, SQS_QUEUE_DOES_NOT_EXIST, NULL);
        goto out;
    }
    char url[1024];
    sqs_queue_url(account, name, url, sizeof(url));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "QueueUrl", url);
    sqs_reply(req, resp, o);
out:
    sqs_queue_release(&q);
    sqs_input_free(req, in);
}

static void sqs_list_queues(struct emu_request *req, struct emu_response *resp)
{
    cJSON *in = sqs_input(req);
    const char *prefix = evw_json_str(in, "QueueNamePrefix");
    const char *token = evw_json_str(in, "NextToken");
    long max = 1000;
    int has_max = in_int(in, "MaxResults", &max);
    if (has_max < 0 || (has_max && (max < 1 || max > 1000))) {
        sqs_fail(req, resp, AWS_INVALID_PARAMETER_VALUE,
                 "Value for parameter MaxResults is invalid. Reason: MaxResults must be an "
                 "integer between 1 and 1000.");
        goto out;
    }
    sqlite3_stmt *st = emu_stmt("SELECT name FROM sqs_queues WHERE account = ? AND region = ?"
                                " AND name > ? ORDER BY name");
    if (st == NULL) {
        sqs_fail(req, resp, AWS_INTERNAL_FAILURE, NULL);
        goto out;
    }
    sqlite3_bind_text(st, 1, req->account, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, req->region, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, token ? token : "", -1, SQLITE_TRANSIENT);
    cJSON *urls = cJSON_CreateArray();
    char last[96] = "";
    int more = 0;
    long n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (name == NULL || (prefix && strncmp(name, prefix, strlen(prefix)) != 0)) {
            continue;
        }
        if (n == max) {
            more = 1;
            break;
        }
        char url[1024];
        sqs_queue_url(req->account, name, url, sizeof(url));
        cJSON_AddItemToArray(urls, cJSON_CreateString(url));
        snprintf(last, sizeof(last), "%s", name);
        n++;
    }
    emu_stmt_done(st);
    cJSON *o = cJSON_CreateObject();
    add_if_any(o, "QueueUrls", urls);
    if (more && has_max) {
        cJSON_AddStringToObject(o, "NextToken", last);
    }
    sqs_reply(req, resp, o);
out:
    sqs_input_free(req, in);
}

/* DeleteQueue runs both statements, PurgeQueue the first: each is bound to
 * the queue's account, region and name. */
static const char *const sqs_drop_sql[2] = {
    "DELETE FROM sqs_messages WHERE account = ? AND region = ? AND queue = ?",
    "DELETE FROM sqs_queues WHERE account = ? AND region = ? AND name = ?",
};

/* Runs the first n statements of sqs_drop_sql on the request's queue and
 * answers with an empty result. */
static void sqs_drop(struct emu_request *req, struct emu_response *resp, int n)
{
    cJSON *in = sqs_input(req);
    struct sqs_queue q = {0};
    if (sqs_queue_from_req(req, resp, in, &q) != 0) {
        goto out;
    }
    for (int i = 0; i < n; i++) {
        sqlite3_stmt *st = emu_stmt(sqs_drop_sql[i]);
        if (st == NULL) {
            sqs_fail(req, resp, AWS_INTERNAL_FAILURE, NULL);
            goto out;
        }
        sqs_bind_queue(st, 1, q.account, q.region, q.name);
        sqlite3_step(st);
        emu_stmt_done(st);
    }
    sqs_reply(req, resp, NULL);
out:
    sqs_queue_release(&q);
    sqs_input_free(req, in);
}

static void sqs_delete_queue(struct emu_request *req, struct emu_response *resp)
{
    sqs_drop(req, resp, 2);
}

static void sqs_purge_queue(struct emu_request *req, struct emu_response *resp)
{
    sqs_drop(req, resp, 1);
}

/* Collects AttributeNames (and MessageSystemAttributeNames) into a set. */
static int name_wanted(const cJSON *names, const char *name)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, names)
    {
        if (cJSON_IsString(it) &&
            (strcmp(it->valuestring, "All") == 0 || strcmp(it->valuestring, name) == 0)) {
            return 1;
        }
    }
    return 0;
}

static void sqs_get_queue_attributes(struct emu_request *req, struct emu_response *resp)
{
    cJSON *in = sqs_input(req);
    struct sqs_queue q = {0};
    cJSON *all = NULL;
    if (sqs_queue_from_req(req, resp, in, &q) != 0) {
        goto out;
    }
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(in, "AttributeNames");
    all = sqs_all_attrs(&q);
    const cJSON *it;
    cJSON_ArrayForEach(it, names)
    {
        if (!cJSON_IsString(it)) {
            continue;
        }
        if (strcmp(it->valuestring, "All") != 0 &&
            cJSON_GetObjectItemCaseSensitive(all, it->valuestring) == NULL) {
            int known = 0;
            for (size_t i = 0; i < sizeof(sqs_settable) / sizeof(sqs_settable[0]); i++) {
                known |= strcmp(sqs_settable[i].name, it->valuestring) == 0;
            }
            if (!known) {
                sqs_fail(req, resp, SQS_INVALID_ATTRIBUTE_NAME, "Unknown Attribute %s.",
                         it->valuestring);
                goto out;
            }
        }
    }
    cJSON *sel = cJSON_CreateObject();
    cJSON_ArrayForEach(it, all)
    {
        if (name_wanted(names, it->string)) {
            cJSON_AddStringToObject(sel, it->string, it->valuestring);
        }
    }
    cJSON *o = cJSON_CreateObject();
    add_if_any(o, "Attributes", sel);
    sqs_reply(req, resp, o);
out:
    cJSON_Delete(all);
    sqs_queue_release(&q);
    sqs_input_free(req, in);
}

static void sqs_set_queue_attributes(struct emu_request *req, struct emu_response *resp)
{
    cJSON *in = sqs_input(req);
    struct sqs_queue q = {0};
    if (sqs_queue_from_req(req, resp, in, &q) != 0) {
        goto out;
    }
    const cJSON *given = cJSON_GetObjectItemCaseSensitive(in, "Attributes");
    if (given && !cJSON_IsObject(given)) {
        sqs_fail(req, resp, SQS_INVALID_ATTRIBUTE_VALUE, "Attributes must be a map.");
        goto out;
    }
    if (sqs_check_attrs(req, resp, given, 0) != 0) {
        goto out;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, given)
    {
        cJSON_DeleteItemFromObjectCaseSensitive(q.attrs, it->string);
        cJSON_AddStringToObject(q.attrs, it->string, it->valuestring);
    }
    if (sqs_save_attrs(&q) != 0) {
        sqs_fail(req, resp, AWS_INTERNAL_FAILURE, NULL);
        goto out;
    }
    sqs_reply(req, resp, NULL);
out:
    sqs_queue_release(&q);
    sqs_input_free(req, in);
}

/* Reads and rewrites the queue's tag map. */
static cJSON *sqs_tags_load(const struct sqs_queue *q)
{
    sqlite3_stmt *st =
        emu_stmt("SELECT tags FROM sqs_queues WHERE account = ? AND region = ? AND name = ?");
    cJSON *tags = NULL;
    if (st) {
        sqs_bind_queue(st, 1, q->account, q->region, q->name);
        if (sqlite3_step(st) == SQLITE_ROW) {
            const char *t = (const char *)sqlite3_column_text(st, 0);
            tags = cJSON_Parse(t ? t : "{}");
        }
        emu_stmt_done(st);
    }
    return tags ? tags : cJSON_CreateObject();
}

static void sqs_tags_save(const struct sqs_queue *q, const cJSON *tags)
{
    char *text = cJSON_PrintUnformatted(tags);
    sqlite3_stmt *st =
        emu_stmt("UPDATE sqs_queues SET tags = ? WHERE account = ? AND region = ? AND name = ?");
    if (st && text) {
        sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
        sqs_bind_queue(st, 2, q->account, q->region, q->name);
        sqlite3_step(st);
    }
    emu_stmt_done(st);
    free(text);
}

/* TagQueue (add: the Tags map is merged in) and UntagQueue (the TagKeys
 * listed are removed). */
static void sqs_tags_edit(struct emu_request *req, struct emu_response *resp, int add)
{
    cJSON *in = sqs_input(req);
    struct sqs_queue q = {0};
    cJSON *tags = NULL;
    if (sqs_queue_from_req(req, resp, in, &q) != 0) {
        goto out;
    }
    tags = sqs_tags_load(&q);
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(in, add ? "Tags" : "TagKeys"))
    {
        if (!cJSON_IsString(it)) {
            continue;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(tags, add ? it->string : it->valuestring);
        if (add) {
            cJSON_AddStringToObject(tags, it->string, it->valuestring);
        }
    }
    sqs_tags_save(&q, tags);
    sqs_reply(req, resp, NULL);
out:
    cJSON_Delete(tags);
    sqs_queue_release(&q);
    sqs_input_free(req, in);
}

static void sqs_tag_queue(struct emu_request *req, struct emu_response *resp)
{
    sqs_tags_edit(req, resp, 1);
}

static void sqs_untag_queue(struct emu_request *req, struct emu_response *resp)
{
    sqs_tags_edit(req, resp, 0);
}

static void sqs_list_queue_tags(struct emu_request *req, struct emu_response *resp)
{
    cJSON *in = sqs_input(req);
    struct sqs_queue q = {0};
    if (sqs_queue_from_req(req, resp, in, &q) != 0) {
        goto out;
    }
    cJSON *o = cJSON_CreateObject();
    add_if_any(o, "Tags", sqs_tags_load(&q));
    sqs_reply(req, resp, o);
out:
    sqs_queue_release(&q);
    sqs_input_free(req, in);
}

/* -------------------------------------------------------------- messages */

static void put_u32(struct emu_buf *b, size_t n)
{
    unsigned char l[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16),
                          (unsigned char)(n >> 8), (unsigned char)n};
    emu_buf_append(b, l, 4);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* AWS's MD5 of message attributes (sorted by name; length-prefixed name,
 * data type, transport byte 1 string / 2 binary, value). "" when none. */
static void sqs_attrs_md5(const cJSON *attrs, char out[33])
{
    out[0] = 0;
    int n = cJSON_GetArraySize(attrs);
    if (n <= 0) {
        return;
    }
    const char **names = calloc((size_t)n, sizeof(*names));
    if (names == NULL) {
        return;
    }
    int k = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, attrs)
    {
        names[k++] = it->string;
    }
    qsort(names, (size_t)k, sizeof(*names), cmp_names);
    struct emu_buf b = {0};
    for (int i = 0; i < k; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(attrs, names[i]);
        const char *type = evw_json_str(v, "DataType");
        const char *sv = evw_json_str(v, "StringValue");
        const char *bv = evw_json_str(v, "BinaryValue");
        put_u32(&b, strlen(names[i]));
        emu_buf_puts(&b, names[i]);
        put_u32(&b, strlen(type ? type : ""));
        emu_buf_puts(&b, type ? type : "");
        if (bv != NULL && (type == NULL || strncmp(type, "Binary", 6) == 0)) {
            unsigned char t = 2;
            emu_buf_append(&b, &t, 1);
            size_t blen = strlen(bv);
            unsigned char *raw = malloc(blen / 4 * 3 + 4);
            int dl = raw ? EVP_DecodeBlock(raw, (const unsigned char *)bv, (int)blen) : -1;
            if (dl < 0) {
                dl = 0;
            }
            for (size_t p = blen; p > 0 && bv[p - 1] == '=' && dl > 0; p--) {
                dl--;
            }
            put_u32(&b, (size_t)dl);
            if (raw) {
                emu_buf_append(&b, raw, (size_t)dl);
            }
            free(raw);
        } else {
            unsigned char t = 1;
            emu_buf_append(&b, &t, 1);
            put_u32(&b, strlen(sv ? sv : ""));
            emu_buf_puts(&b, sv ? sv : "");
        }
    }
    evw_md5_hex(b.data ? b.data : "", b.len, out);
    emu_buf_release(&b);
    free(names);
}

/* Checks a message body's characters (the XML 1.0 set SQS allows). */
static int sqs_body_ok(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') {
            return 0;
        }
    }
    return 1;
}

/* Validates message attributes; returns NULL or an error message (static). */
static const char *sqs_check_msg_attrs(const cJSON *attrs)
{
    if (attrs == NULL) {
        return NULL;
    }
    if (!cJSON_IsObject(attrs)) {
        return "MessageAttributes must be a map.";
    }
    if (cJSON_GetArraySize(attrs) > 10) {
        return "Number of message attributes cannot exceed 10.";
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, attrs)
    {
        const char *type = evw_json_str(it, "DataType");
        if (type == NULL || *type == 0) {
            return "The message attribute must contain a DataType.";
        }
        if (strncmp(type, "String", 6) != 0 && strncmp(type, "Number", 6) != 0 &&
            strncmp(type, "Binary", 6) != 0) {
            return "The type of message attribute is invalid. You must use only the following "
                   "supported type prefixes: Binary, Number, String.";
        }
        if (strncmp(type, "Binary", 6) == 0) {
            if (evw_json_str(it, "BinaryValue") == NULL) {
                return "The message attribute must contain a BinaryValue.";
            }
        } else if (evw_json_str(it, "StringValue") == NULL) {
            return "The message attribute must contain a StringValue.";
        }
    }
    return NULL;
}

/* One message to enqueue. */
struct sqs_send {
    const char *body;
    const cJSON *attrs;
    long delay; /* -1: the queue's */
    const char *group_id;
    const char *dedup_id;
};

/* Enqueues one message. Returns 0 and fills out (MessageId, MD5s,
 * SequenceNumber) or -1 with *err and msg set. Store locked. */
static int sqs_enqueue(const struct emu_request *req, const struct sqs_queue *q,
                       const struct sqs_send *m, cJSON *out, enum emu_error *err, char *msg,
                       size_t mlen)
{
    long max_size = attr_long(q->attrs, "MaximumMessageSize", 262144);
    if (m->body == NULL || *m->body == 0) {
        *err = AWS_MISSING_PARAMETER;
        snprintf(msg, mlen, "The request must contain the parameter MessageBody.");
        return -1;
    }
    if ((long)strlen(m->body) > max_size) {
        *err = AWS_INVALID_PARAMETER_VALUE;
        snprintf(msg, mlen,
                 "One or more parameters are invalid. Reason: Message must be shorter than %ld "
                 "bytes.",
                 max_size);
        return -1;
    }
    if (!sqs_body_ok(m->body)) {
        *err = SQS_INVALID_MESSAGE_CONTENTS;
        snprintf(msg, mlen,
                 "Invalid characters found. Valid unicode characters are #x9 | #xA "
                 "| #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF");
        return -1;
    }
    const char *bad = sqs_check_msg_attrs(m->attrs);
    if (bad) {
        *err = AWS_INVALID_PARAMETER_VALUE;
        snprintf(msg, mlen, "%s", bad);
        return -1;
    }
    long delay = m->delay >= 0 ? m->delay : attr_long(q->attrs, "DelaySeconds", 0);
    if (delay < 0 || delay > 900) {
        *err = AWS_INVALID_PARAMETER_VALUE;
        snprintf(msg, mlen,
                 "Value %ld for parameter DelaySeconds is invalid. Reason: DelaySeconds must be "
                 ">= 0 and <= 900.",
                 delay);
        return -1;
    }
    int fifo = sqs_is_fifo(q);
    char dedup[80] = "";
    if (fifo) {
        if (m->group_id == NULL || *m->group_id == 0) {
            *err = AWS_MISSING_PARAMETER;
            snprintf(msg, mlen, "The request must contain the parameter MessageGroupId.");
            return -1;
        }
        if (m->delay > 0) {
            *err = AWS_INVALID_PARAMETER_VALUE;
            snprintf(msg, mlen,
                     "Value %ld for parameter DelaySeconds is invalid. Reason: The "
                     "request include parameter that is not valid for this queue "
                     "type.",
                     m->delay);
            return -1;
        }
        delay = 0;
        if (m->dedup_id && *m->dedup_id) {
            snprintf(dedup, sizeof(dedup), "%s", m->dedup_id);
        } else {
            const char *cbd = evw_json_str(q->attrs, "ContentBasedDeduplication");
            if (cbd == NULL || strcmp(cbd, "true") != 0) {
                *err = AWS_INVALID_PARAMETER_VALUE;
                snprintf(msg, mlen,
                         "The queue should either have ContentBasedDeduplication "
                         "enabled or MessageDeduplicationId provided explicitly");
                return -1;
            }
            evw_md5_hex(m->body, strlen(m->body), dedup);
        }
        /* A duplicate within five minutes is accepted and dropped. */
        sqlite3_stmt *st = emu_stmt("SELECT id, seq FROM sqs_messages WHERE account = ? AND"
                                    " region = ? AND queue = ? AND dedup_id = ? AND sent > ?");
        if (st) {
            sqs_bind_queue(st, 1, q->account, q->region, q->name);
            sqlite3_bind_text(st, 4, dedup, -1, SQLITE_TRANSIENT);
            sqlite3_bind_double(st, 5, emu_now() - 300);
            if (sqlite3_step(st) == SQLITE_ROW) {
                char md5[33];
                char seqs[32];
                evw_md5_hex(m->body, strlen(m->body), md5);
                cJSON_AddStringToObject(out, "MD5OfMessageBody", md5);
                cJSON_AddStringToObject(out, "MessageId", (const char *)sqlite3_column_text(st, 0));
                snprintf(seqs, sizeof(seqs), "%020lld", (long long)sqlite3_column_int64(st, 1));
                cJSON_AddStringToObject(out, "SequenceNumber", seqs);
                emu_stmt_done(st);
                return 0;
            }
            emu_stmt_done(st);
        }
    }
    char id[37];
    char md5[33];
    char amd5[33];
    emu_uuid(id);
    evw_md5_hex(m->body, strlen(m->body), md5);
    sqs_attrs_md5(m->attrs, amd5);
    char *atext = m->attrs ? cJSON_PrintUnformatted(m->attrs) : NULL;
    double now = emu_now();
    sqlite3_stmt *st = emu_stmt(
        "INSERT INTO sqs_messages(account, region, queue, id, body, md5, attrs, sender, sent,"
        " visible_at, group_id, dedup_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    int ok = 0;
    if (st) {
        sqs_bind_queue(st, 1, q->account, q->region, q->name);
        sqlite3_bind_text(st, 4, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, m->body, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 6, md5, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 7, atext ? atext : "{}", -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 8, req->account, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 9, now);
        sqlite3_bind_double(st, 10, now + (double)delay);
        sqlite3_bind_text(st, 11, m->group_id ? m->group_id : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 12, dedup, -1, SQLITE_TRANSIENT);
        ok = sqlite3_step(st) == SQLITE_DONE;
    }
    emu_stmt_done(st);
    free(atext);
    if (!ok) {
        *err = AWS_INTERNAL_FAILURE;
        snprintf(msg, mlen, "%s", emu_error_info(AWS_INTERNAL_FAILURE)->message);
        return -1;
    }
    cJSON_AddStringToObject(out, "MD5OfMessageBody", md5);
    if (amd5[0]) {
        cJSON_AddStringToObject(out, "MD5OfMessageAttributes", amd5);
    }
    cJSON_AddStringToObject(out, "MessageId", id);
    if (fifo) {
        char seqs[32];
        snprintf(seqs, sizeof(seqs), "%020lld", (long long)sqlite3_last_insert_rowid(emu_db()));
        cJSON_AddStringToObject(out, "SequenceNumber", seqs);
    }
    return 0;
}

/* One message to send, from SendMessage's input or a SendMessageBatch entry
 * e: adds MessageId, MD5s (and SequenceNumber) to r. Returns 0, or -1 with
 * *err and msg. Store locked. */
static int sqs_send_entry(const struct emu_request *req, const struct sqs_queue *q, const cJSON *e,
                          cJSON *r, enum emu_error *err, char *msg, size_t mlen)
{
    struct sqs_send m = {
        .body = evw_json_str(e, "MessageBody"),
        .attrs = cJSON_GetObjectItemCaseSensitive(e, "MessageAttributes"),
        .delay = -1,
        .group_id = evw_json_str(e, "MessageGroupId"),
        .dedup_id = evw_json_str(e, "MessageDeduplicationId"),
    };
    if (in_int(e, "DelaySeconds", &m.delay) < 0) {
        *err = AWS_INVALID_PARAMETER_VALUE;
        snprintf(msg, mlen, "DelaySeconds must be an integer.");
        return -1;
    }
    return sqs_enqueue(req, q, &m, r, err, msg, mlen);
}

static void sqs_send_message(struct emu_request *req, struct emu_response *resp)
{
    cJSON *in = sqs_input(req);
    struct sqs_queue q = {0};
    if (sqs_queue_from_req(req, resp, in, &q) != 0) {
        goto out;
    }
    cJSON *o = cJSON_CreateObject();
    enum emu_error err = AWS_INTERNAL_FAILURE;
    char msg[512];
    if (sqs_send_entry(req, &q, in, o, &err, msg, sizeof(msg)) != 0) {
        cJSON_Delete(o);
        sqs_fail(req, resp, err, "%s", msg);
        goto out;
    }
    emu_worker_wake(&sqs_worker);
    sqs_reply(req, resp, o);
out:
    sqs_queue_release(&q);
    sqs_input_free(req, in);
}

/* Checks a batch's entries: 1..10, distinct well-formed ids. Returns 0 or
 * fails the call. */
static int sqs_check_batch(struct emu_request *req, struct emu_response *resp, const cJSON *entries)
{
    int n = cJSON_IsArray(entries) ? cJSON_GetArraySize(entries) : 0;
    if (n == 0) {
        sqs_fail(req, resp, SQS_EMPTY_BATCH_REQUEST,
                 "There should be at least one SendMessageBatchRequestEntry in the request.");
        return -1;
    }
    if (n > SQS_MAX_BATCH) {
        sqs_fail(req, resp, SQS_TOO_MANY_ENTRIES,
                 "Maximum number of entries per request are 10. You have sent %d.", n);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        const char *id = evw_json_str(cJSON_GetArrayItem(entries, i), "Id");
        if (id == NULL || *id == 0 || strlen(id) > 80 ||
            strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
                strlen(id)) {
            sqs_fail(req, resp, SQS_INVALID_BATCH_ENTRY_ID,
                     "A batch entry id can only contain alphanumeric characters, hyphens and "
                     "underscores. It can be at most 80 letters long.");
            return -1;
        }
        for (int j = 0; j < i; j++) {
            const char *o = evw_json_str(cJSON_GetArrayItem(entries, j), "Id");
            if (o && strcmp(o, id) == 0) {
                sqs_fail(req, resp, SQS_BATCH_ENTRY_IDS_NOT_DISTINCT, "Id %s repeated.", id);
                return -1;
            }
        }
    }
    return 0;
}

static void add_failed(cJSON *failed, const char *id, enum emu_error err, const char *msg, int json)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "Id", id);
    if (json) {
        cJSON_AddBoolToObject(f, "SenderFault", emu_error_info(err)->status < 500);
    } else {
        cJSON_AddStringToObject(f, "SenderFault",
                                emu_error_info(err)->status < 500 ? "true" : "false");
    }
    const char *shape = sqs_json_shape(err);
    cJSON_AddStringToObject(f, "Code", shape ? shape : emu_error_info(err)->code);
    cJSON_AddStringToObject(f, "Message", msg);
    cJSON_AddItemToArray(failed, f);
}

/* The *Batch calls: checks the entries, runs entry() on each (which adds
 * its result fields to an object holding the entry's Id, or says why the
 * entry failed) and answers Successful and Failed. notify: wake receivers
 * after the batch. */
static void sqs_batch(struct emu_request *req, struct emu_response *resp,
                      int (*entry)(const struct emu_request *req, const struct sqs_queue *q,
                                   const cJSON *e, cJSON *r, enum emu_error *err, char *msg,
                                   size_t mlen),
                      int notify)
{
    cJSON *in = sqs_input(req);
    struct sqs_queue q = {0};
    if (sqs_queue_from_req(req, resp, in, &q) != 0) {
        goto out;
    }
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive(in, "Entries");
    if (sqs_check_batch(req, resp, entries) != 0) {
        goto out;
    }
    cJSON *ok = cJSON_CreateArray();
    cJSON *failed = cJSON_CreateArray();
    const cJSON *e;
    cJSON_ArrayForEach(e, entries)
    {
        const char *id = evw_json_str(e, "Id");
        enum emu_error err = AWS_INTERNAL_FAILURE;
        char msg[512];
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "Id", id);
        if (entry(req, &q, e, r, &err, msg, sizeof(msg)) != 0) {
            cJSON_Delete(r);
            add_failed(failed, id, err, msg, sqs_is_json(req));
            continue;
        }
        cJSON_AddItemToArray(ok, r);
    }
    if (notify) {
        emu_worker_wake(&sqs_worker);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "Successful", ok);
    cJSON_AddItemToObject(o, "Failed", failed);
    sqs_reply(req, resp, o);
out:
    sqs_queue_release(&q);
    sqs_input_free(req, in);
}

static void sqs_send_message_batch(struct emu_request *req, struct emu_response *resp)
{
    sqs_batch(req, resp, sqs_send_entry, 1);
}

/* Receipt handles: "AQEB" + 16 hex digits of the message seq + 48 random hex. */
static void sqs_make_receipt(long long seq, char out[72])
{
    char rnd[49];
    emu_random_hex(rnd, 48);
    snprintf(out, 72, "AQEB%016llx%s", (unsigned long long)seq, rnd);
}

static int sqs_parse_receipt(const char *h, long long *seq)
{
    if (h == NULL || strlen(h) != 68 || strncmp(h, "AQEB", 4) != 0) {
        return -1;
    }
    char hex[17];
    memcpy(hex, h + 4, 16);
    hex[16] = 0;
    char *end = NULL;
    unsigned long long v = strtoull(hex, &end, 16);
    if (end != hex + 16) {
        return -1;
    }
    *seq = (long long)v;
    return 0;
}

/* Does a message attribute name match the requested names? */
static int msg_attr_wanted(const cJSON *names, const char *name)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, names)
    {
        if (!cJSON_IsString(it)) {
            continue;
        }
        const char *w = it->valuestring;
        size_t wl = strlen(w);
        if (strcmp(w, "All") == 0 || strcmp(w, ".*") == 0 || strcmp(w, name) == 0) {
            return 1;
        }
        if (wl > 2 && strcmp(w + wl - 2, ".*") == 0 && strncmp(name, w, wl - 1) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Moves a message to its dead-letter queue when it was received too often.
 * Returns 1 when moved. Store locked. */
static int sqs_maybe_dead_letter(const struct sqs_queue *q, long long seq, long receive_count)
{
    const char *rp = evw_json_str(q->attrs, "RedrivePolicy");
    if (rp == NULL || *rp == 0) {
        return 0;
    }
    cJSON *doc = cJSON_Parse(rp);
    int moved = 0;
    const char *dlq = evw_json_str(doc, "deadLetterTargetArn");
    const cJSON *mrc = cJSON_GetObjectItemCaseSensitive(doc, "maxReceiveCount");
    long max = 0;
    if (cJSON_IsNumber(mrc)) {
        max = (long)mrc->valuedouble;
    } else if (cJSON_IsString(mrc)) {
        max = strtol(mrc->valuestring, NULL, 10);
    }
    struct evw_arn a;
    if (dlq && max > 0 && receive_count >= max && evw_arn_parse(dlq, &a) == 0) {
        sqlite3_stmt *st = emu_stmt(
            "UPDATE sqs_messages SET account = ?, region = ?, queue = ?, receive_count = 0,"
            " visible_at = ?, receipt = '' WHERE seq = ?");
        if (st) {
            sqlite3_bind_text(st, 1, a.account, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 2, a.region, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 3, a.resource, -1, SQLITE_TRANSIENT);
            sqlite3_bind_double(st, 4, emu_now());
            sqlite3_bind_int64(st, 5, seq);
            moved = sqlite3_step(st) == SQLITE_DONE;
        }
        emu_stmt_done(st);
    }
    cJSON_Delete(doc);
    return moved;
}

/* Takes up to max visible messages, hiding them for vis seconds. Returns a
 * new array of messages in the JSON protocol's shape, with every system
 * attribute and message attribute (callers filter). Store locked. */
static cJSON *sqs_take(const struct sqs_queue *q, long max, long vis)
{
    cJSON *msgs = cJSON_CreateArray();
    double now = emu_now();
    long retention = attr_long(q->attrs, "MessageRetentionPeriod", 345600);
    sqlite3_stmt *st = emu_stmt("DELETE FROM sqs_messages WHERE account = ? AND region = ?"
                                " AND queue = ? AND sent < ?");
    if (st) {
        sqs_bind_queue(st, 1, q->account, q->region, q->name);
        sqlite3_bind_double(st, 4, now - (double)retention);
        sqlite3_step(st);
        emu_stmt_done(st);
    }
    int fifo = sqs_is_fifo(q);
    /* Candidates in order; FIFO skips groups with a message in flight. */
    struct cand {
        long long seq;
        long count;
    } cands[64];
    int nc = 0;
    st = emu_stmt("SELECT seq, receive_count, group_id FROM sqs_messages m WHERE account = ?"
                  " AND region = ? AND queue = ? AND visible_at <= ? AND (? = 0 OR NOT EXISTS"
                  " (SELECT 1 FROM sqs_messages f WHERE f.account = m.account AND"
                  " f.region = m.region AND f.queue = m.queue AND f.group_id = m.group_id AND"
                  " f.visible_at > ? AND f.receive_count > 0)) ORDER BY seq LIMIT 64");
    if (st == NULL) {
        return msgs;
    }
    sqs_bind_queue(st, 1, q->account, q->region, q->name);
    sqlite3_bind_double(st, 4, now);
    sqlite3_bind_int(st, 5, fifo);
    sqlite3_bind_double(st, 6, now);
    while (nc < 64 && sqlite3_step(st) == SQLITE_ROW) {
        cands[nc].seq = sqlite3_column_int64(st, 0);
        cands[nc].count = (long)sqlite3_column_int64(st, 1);
        nc++;
    }
    emu_stmt_done(st);
    long taken = 0;
    for (int i = 0; i < nc && taken < max; i++) {
        if (sqs_maybe_dead_letter(q, cands[i].seq, cands[i].count)) {
            continue;
        }
        char receipt[72];
        sqs_make_receipt(cands[i].seq, receipt);
        st = emu_stmt("UPDATE sqs_messages SET receive_count = receive_count + 1,"
                      " first_receive = CASE WHEN first_receive = 0 THEN ? ELSE first_receive END,"
                      " receipt = ?, visible_at = ? WHERE seq = ?");
        if (st == NULL) {
            break;
        }
        sqlite3_bind_double(st, 1, now);
        sqlite3_bind_text(st, 2, receipt, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 3, now + (double)vis);
        sqlite3_bind_int64(st, 4, cands[i].seq);
        sqlite3_step(st);
        emu_stmt_done(st);
        st = emu_stmt("SELECT id, body, md5, attrs, sender, sent, receive_count, first_receive,"
                      " group_id, dedup_id FROM sqs_messages WHERE seq = ?");
        if (st == NULL) {
            break;
        }
        sqlite3_bind_int64(st, 1, cands[i].seq);
        if (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *m = cJSON_CreateObject();
            char buf[64];
            cJSON_AddStringToObject(m, "MessageId", (const char *)sqlite3_column_text(st, 0));
            cJSON_AddStringToObject(m, "ReceiptHandle", receipt);
            cJSON_AddStringToObject(m, "MD5OfBody", (const char *)sqlite3_column_text(st, 2));
            cJSON_AddStringToObject(m, "Body", (const char *)sqlite3_column_text(st, 1));
            cJSON *sa = cJSON_CreateObject();
            cJSON_AddStringToObject(sa, "SenderId", (const char *)sqlite3_column_text(st, 4));
            snprintf(buf, sizeof(buf), "%lld", (long long)(sqlite3_column_double(st, 5) * 1000));
            cJSON_AddStringToObject(sa, "SentTimestamp", buf);
            snprintf(buf, sizeof(buf), "%lld", (long long)sqlite3_column_int64(st, 6));
            cJSON_AddStringToObject(sa, "ApproximateReceiveCount", buf);
            snprintf(buf, sizeof(buf), "%lld", (long long)(sqlite3_column_double(st, 7) * 1000));
            cJSON_AddStringToObject(sa, "ApproximateFirstReceiveTimestamp", buf);
            if (fifo) {
                cJSON_AddStringToObject(sa, "MessageGroupId",
                                        (const char *)sqlite3_column_text(st, 8));
                cJSON_AddStringToObject(sa, "MessageDeduplicationId",
                                        (const char *)sqlite3_column_text(st, 9));
                snprintf(buf, sizeof(buf), "%020lld", cands[i].seq);
                cJSON_AddStringToObject(sa, "SequenceNumber", buf);
            }
            cJSON_AddItemToObject(m, "Attributes", sa);
            const char *at = (const char *)sqlite3_column_text(st, 3);
            cJSON *ma = cJSON_Parse(at ? at : "{}");
            cJSON_AddItemToObject(m, "MessageAttributes", ma ? ma : cJSON_CreateObject());
            cJSON_AddItemToArray(msgs, m);
            taken++;
        }
        emu_stmt_done(st);
    }
    return msgs;
}

/* Filters a taken message down to what the caller asked for. */
static void sqs_filter_message(cJSON *m, const cJSON *sys_names, const cJSON *attr_names)
{
    cJSON *sa = cJSON_GetObjectItemCaseSensitive(m, "Attributes");
    cJSON *keep = cJSON_CreateObject();
    const cJSON *it;
    cJSON_ArrayForEach(it, sa)
    {
        if (name_wanted(sys_names, it->string)) {
            cJSON_AddStringToObject(keep, it->string, it->valuestring);
        }
    }
    cJSON_DeleteItemFromObjectCaseSensitive(m, "Attributes");
    add_if_any(m, "Attributes", keep);
    cJSON *ma = cJSON_GetObjectItemCaseSensitive(m, "MessageAttributes");
    cJSON *mkeep = cJSON_CreateObject();
    cJSON_ArrayForEach(it, ma)
    {
        if (msg_attr_wanted(attr_names, it->string)) {
            cJSON_AddItemToObject(mkeep, it->string, cJSON_Duplicate(it, 1));
        }
    }
    cJSON_DeleteItemFromObjectCaseSensitive(m, "MessageAttributes");
    if (cJSON_GetArraySize(mkeep) > 0) {
        char md5[33];
        sqs_attrs_md5(mkeep, md5);
        cJSON_AddStringToObject(m, "MD5OfMessageAttributes", md5);
    }
    add_if_any(m, "MessageAttributes", mkeep);
}

/* ReceiveMessage runs without the store lock held between polls
 * (EMU_OP_NO_TXN): each attempt is its own short transaction. */
static void sqs_receive_message(struct emu_request *req, struct emu_response *resp)
{
    cJSON *in = NULL;
    cJSON *sys_names = NULL;
    struct sqs_queue q = {0};
    long max = 1;
    long vis = -1;
    long wait = -1;
    in = sqs_input(req);
    if (in_int(in, "MaxNumberOfMessages", &max) < 0 || max < 1 || max > SQS_MAX_BATCH) {
        sqs_fail(req, resp, AWS_INVALID_PARAMETER_VALUE,
                 "Value %ld for parameter MaxNumberOfMessages is invalid. Reason: Must be "
                 "between 1 and 10, if provided.",
                 max);
        goto out;
    }
    if (in_int(in, "VisibilityTimeout", &vis) < 0 || vis > 43200 ||
        (cJSON_GetObjectItemCaseSensitive(in, "VisibilityTimeout") && vis < 0)) {
        sqs_fail(req, resp, AWS_INVALID_PARAMETER_VALUE,
                 "Value for parameter VisibilityTimeout is invalid. Reason: Must be between 0 "
                 "and 43200, if provided.");
        goto out;
    }
    if (in_int(in, "WaitTimeSeconds", &wait) < 0 || wait > SQS_MAX_WAIT ||
        (cJSON_GetObjectItemCaseSensitive(in, "WaitTimeSeconds") && wait < 0)) {
        sqs_fail(req, resp, AWS_INVALID_PARAMETER_VALUE,
                 "Value %ld for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and "
                 "<= 20, if provided.",
                 wait);
        goto out;
    }
    sys_names = cJSON_CreateArray();
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(in, "AttributeNames"))
    {
        cJSON_AddItemToArray(sys_names, cJSON_Duplicate(it, 1));
    }
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(in, "MessageSystemAttributeNames"))
    {
        cJSON_AddItemToArray(sys_names, cJSON_Duplicate(it, 1));
    }
    const cJSON *attr_names = cJSON_GetObjectItemCaseSensitive(in, "MessageAttributeNames");
    double start = emu_now();
    double deadline = -1;
    cJSON *msgs = NULL;
    for (;;) {
        unsigned long gen = emu_worker_generation(&sqs_worker);
        if (emu_store_begin(1) != 0) {
            sqs_fail(req, resp, AWS_INTERNAL_FAILURE, NULL);
            goto out;
        }
        sqs_queue_release(&q);
        if (sqs_queue_from_req(req, resp, in, &q) != 0) {
            emu_store_end(1);
            goto out;
        }
        if (deadline < 0) {
            long w = wait >= 0 ? wait : attr_long(q.attrs, "ReceiveMessageWaitTimeSeconds", 0);
            deadline = start + (double)w;
        }
        long v = vis >= 0 ? vis : attr_long(q.attrs, "VisibilityTimeout", 30);
        msgs = sqs_take(&q, max, v);
        emu_store_end(1);
        if (cJSON_GetArraySize(msgs) > 0 || emu_now() >= deadline ||
            emu_worker_stopping(&sqs_worker)) {
            break;
        }
        cJSON_Delete(msgs);
        msgs = NULL;
        double until = emu_now() + 0.5;
        emu_worker_wait(&sqs_worker, gen, until < deadline ? until : deadline);
    }
    cJSON *m;
    cJSON_ArrayForEach(m, msgs)
    {
        sqs_filter_message(m, sys_names, attr_names);
    }
    cJSON *o = cJSON_CreateObject();
    add_if_any(o, "Messages", msgs);
    sqs_reply(req, resp, o);
out:
    cJSON_Delete(sys_names);
    sqs_queue_release(&q);
    sqs_input_free(req, in);
}

/* Deletes the message a receipt handle names. Returns 0, or -1 with the
 * error for a malformed handle. Store locked. */
static int sqs_delete_one(const struct sqs_queue *q, const char *handle)
{
    long long seq;
    if (sqs_parse_receipt(handle, &seq) != 0) {
        return -1;
    }
    sqlite3_stmt *st = emu_stmt("DELETE FROM sqs_messages WHERE seq = ? AND account = ? AND"
                                " region = ? AND queue = ?");
    if (st) {
        sqlite3_bind_int64(st, 1, seq);
        sqs_bind_queue(st, 2, q->account, q->region, q->name);
        sqlite3_step(st);
    }
    emu_stmt_done(st);
    return 0;
}

static void sqs_delete_message(struct emu_request *req, struct emu_response *resp)
{
    cJSON *in = sqs_input(req);
    struct sqs_queue q = {0};
    if (sqs_queue_from_req(req, resp, in, &q) != 0) {
        goto out;
    }
    const char *h = evw_json_str(in, "ReceiptHandle");
    if (h == NULL || *h == 0) {
        sqs_fail(req, resp, AWS_MISSING_PARAMETER,
                 "The request must contain the parameter ReceiptHandle.");
        goto out;
    }
    if (sqs_delete_one(&q, h) != 0) {
        sqs_fail(req, resp, SQS_RECEIPT_HANDLE_INVALID,
                 "The input receipt handle \"%s\" is not a valid receipt handle.", h);
        goto out;
    }
    sqs_reply(req, resp, NULL);
out:
    sqs_queue_release(&q);
    sqs_input_free(req, in);
}

/* A DeleteMessageBatch entry. Returns 0, or -1 with *err and msg. */
static int sqs_delete_entry(const struct emu_request *req, const struct sqs_queue *q,
                            const cJSON *e, cJSON *r, enum emu_error *err, char *msg, size_t mlen)
{
    (void)req;
    (void)r;
    if (sqs_delete_one(q, evw_json_str(e, "ReceiptHandle")) != 0) {
        *err = SQS_RECEIPT_HANDLE_INVALID;
        snprintf(msg, mlen, "The input receipt handle is invalid.");
        return -1;
    }
    return 0;
}

static void sqs_delete_message_batch(struct emu_request *req, struct emu_response *resp)
{
    sqs_batch(req, resp, sqs_delete_entry, 0);
}

/* Changes the visibility of the in-flight message named by e's
 * ReceiptHandle (ChangeMessageVisibility's input or a batch entry).
 * Returns 0 or -1 with *err and msg. Store locked. */
static int sqs_change_entry(const struct emu_request *req, const struct sqs_queue *q,
                            const cJSON *e, cJSON *r, enum emu_error *err, char *msg, size_t mlen)
{
    (void)req;
    (void)r;
    const char *handle = evw_json_str(e, "ReceiptHandle");
    long long seq;
    long vis = 0;
    if (sqs_parse_receipt(handle, &seq) != 0) {
        *err = SQS_RECEIPT_HANDLE_INVALID;
        snprintf(msg, mlen, "The input receipt handle \"%s\" is not a valid receipt handle.",
                 handle ? handle : "");
        return -1;
    }
    if (in_int(e, "VisibilityTimeout", &vis) != 1 || vis < 0 || vis > 43200) {
        *err = AWS_INVALID_PARAMETER_VALUE;
        snprintf(msg, mlen,
                 "Value for parameter VisibilityTimeout is invalid. Reason: Must be "
                 "between 0 and 43200.");
        return -1;
    }
    sqlite3_stmt *st = emu_stmt("UPDATE sqs_messages SET visible_at = ? WHERE seq = ? AND"
                                " account = ? AND region = ? AND queue = ? AND receipt = ?"
                                " AND receive_count > 0");
    int changed = 0;
    if (st) {
        sqlite3_bind_double(st, 1, emu_now() + (double)vis);
        sqlite3_bind_int64(st, 2, seq);
        sqs_bind_queue(st, 3, q->account, q->region, q->name);
        sqlite3_bind_text(st, 6, handle, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_DONE) {
            changed = sqlite3_changes(emu_db());
        }
    }
    emu_stmt_done(st);
    if (!changed) {
        *err = SQS_MESSAGE_NOT_INFLIGHT;
        snprintf(msg, mlen, "The message referred to isn't in flight.");
        return -1;
    }
    return 0;
}

static void sqs_change_message_visibility(struct emu_request *req, struct emu_response *resp)
{
    cJSON *in = sqs_input(req);
    struct sqs_queue q = {0};
    if (sqs_queue_from_req(req, resp, in, &q) != 0) {
        goto out;
    }
    enum emu_error err = AWS_INTERNAL_FAILURE;
    char msg[512];
    if (sqs_change_entry(req, &q, in, NULL, &err, msg, sizeof(msg)) != 0) {
        sqs_fail(req, resp, err, "%s", msg);
        goto out;
    }
    emu_worker_wake(&sqs_worker);
    sqs_reply(req, resp, NULL);
out:
    sqs_queue_release(&q);
    sqs_input_free(req, in);
}

static void sqs_change_message_visibility_batch(struct emu_request *req, struct emu_response *resp)
{
    sqs_batch(req, resp, sqs_change_entry, 1);
}

/* ------------------------------------------- Lambda event source mappings */

/* One enabled mapping from an SQS queue to a function. */
struct sqs_mapping {
    char account[16];
    char region[32];
    char queue[96];
    char queue_arn[256];
    char function_arn[512];
    long batch;
};

/* Asks Lambda for the enabled SQS mappings of every account/region that has
 * queues. Returns the number found (at most cap). No lock held. */
static size_t sqs_mappings(struct sqs_mapping *out, size_t cap)
{
    char pairs[16][2][32];
    size_t np = 0;
    if (emu_store_begin(0) != 0) {
        return 0;
    }
    sqlite3_stmt *st = emu_stmt("SELECT DISTINCT account, region FROM sqs_queues LIMIT 16");
    while (st && np < 16 && sqlite3_step(st) == SQLITE_ROW) {
        snprintf(pairs[np][0], 32, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(pairs[np][1], 32, "%s", (const char *)sqlite3_column_text(st, 1));
        np++;
    }
    emu_stmt_done(st);
    emu_store_end(1);
    size_t n = 0;
    for (size_t i = 0; i < np && n < cap; i++) {
        struct emu_call call = {
            .account = pairs[i][0],
            .region = pairs[i][1],
            .service = "lambda",
            .method = "GET",
            .path = "/2015-03-31/event-source-mappings",
        };
        struct emu_response resp;
        emu_response_init(&resp);
        emu_call_internal(&call, &resp);
        cJSON *doc = NULL;
        if (resp.status == 200 && resp.body.data) {
            doc = cJSON_Parse(resp.body.data);
        }
        const cJSON *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(doc, "EventSourceMappings"))
        {
            const char *src = evw_json_str(m, "EventSourceArn");
            const char *fn = evw_json_str(m, "FunctionArn");
            const char *state = evw_json_str(m, "State");
            struct evw_arn a;
            if (src == NULL || fn == NULL || evw_arn_parse(src, &a) != 0 ||
                strcmp(a.service, "sqs") != 0 ||
                (state && strcmp(state, "Enabled") != 0 && strcmp(state, "Creating") != 0 &&
                 strcmp(state, "Updating") != 0) ||
                n >= cap) {
                continue;
            }
            struct sqs_mapping *x = &out[n++];
            snprintf(x->account, sizeof(x->account), "%s", a.account);
            snprintf(x->region, sizeof(x->region), "%s", a.region);
            snprintf(x->queue, sizeof(x->queue), "%s", a.resource);
            snprintf(x->queue_arn, sizeof(x->queue_arn), "%s", src);
            snprintf(x->function_arn, sizeof(x->function_arn), "%s", fn);
            const cJSON *bs = cJSON_GetObjectItemCaseSensitive(m, "BatchSize");
            x->batch = cJSON_IsNumber(bs) ? (long)bs->valuedouble : 10;
            if (x->batch < 1 || x->batch > SQS_MAX_BATCH) {
                x->batch = SQS_MAX_BATCH;
            }
        }
        cJSON_Delete(doc);
        emu_response_release(&resp);
    }
    return n;
}

/* Delivers one batch for a mapping. Returns the number of messages handed to
 * the function. No lock held on entry. */
static int sqs_poll_mapping(const struct sqs_mapping *mp)
{
    struct sqs_queue q = {0};
    cJSON *msgs = NULL;
    if (emu_store_begin(1) != 0) {
        return 0;
    }
    if (sqs_queue_load(mp->account, mp->region, mp->queue, &q) == 0) {
        msgs = sqs_take(&q, mp->batch, attr_long(q.attrs, "VisibilityTimeout", 30));
    }
    emu_store_end(1);
    int n = cJSON_GetArraySize(msgs);
    if (n == 0) {
        cJSON_Delete(msgs);
        sqs_queue_release(&q);
        return 0;
    }
    cJSON *event = cJSON_CreateObject();
    cJSON *records = cJSON_AddArrayToObject(event, "Records");
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs)
    {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "messageId", evw_json_str(m, "MessageId"));
        cJSON_AddStringToObject(r, "receiptHandle", evw_json_str(m, "ReceiptHandle"));
        cJSON_AddStringToObject(r, "body", evw_json_str(m, "Body"));
        cJSON_AddItemToObject(
            r, "attributes", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(m, "Attributes"), 1));
        cJSON *ma = cJSON_AddObjectToObject(r, "messageAttributes");
        const cJSON *a;
        cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(m, "MessageAttributes"))
        {
            cJSON *v = cJSON_CreateObject();
            const char *sv = evw_json_str(a, "StringValue");
            const char *bv = evw_json_str(a, "BinaryValue");
            if (sv) {
                cJSON_AddStringToObject(v, "stringValue", sv);
            }
            if (bv) {
                cJSON_AddStringToObject(v, "binaryValue", bv);
            }
            cJSON_AddArrayToObject(v, "stringListValues");
            cJSON_AddArrayToObject(v, "binaryListValues");
            const char *dt = evw_json_str(a, "DataType");
            cJSON_AddStringToObject(v, "dataType", dt ? dt : "String");
            cJSON_AddItemToObject(ma, a->string, v);
        }
        cJSON_AddStringToObject(r, "md5OfBody", evw_json_str(m, "MD5OfBody"));
        cJSON_AddStringToObject(r, "eventSource", "aws:sqs");
        cJSON_AddStringToObject(r, "eventSourceARN", mp->queue_arn);
        cJSON_AddStringToObject(r, "awsRegion", mp->region);
        cJSON_AddItemToArray(records, r);
    }
    char *payload = cJSON_PrintUnformatted(event);
    cJSON_Delete(event);
    struct evw_result res;
    evw_invoke_lambda(mp->account, mp->region, mp->function_arn, payload ? payload : "{}", 0, NULL,
                      NULL, &res);
    free(payload);
    if (res.status >= 200 && res.status < 300 && !res.function_error) {
        if (emu_store_begin(1) == 0) {
            cJSON_ArrayForEach(m, msgs)
            {
                sqs_delete_one(&q, evw_json_str(m, "ReceiptHandle"));
            }
            emu_store_end(1);
        }
    }
    cJSON_Delete(msgs);
    sqs_queue_release(&q);
    return n;
}

/* The worker's step: polls every enabled mapping once; runs again at once
 * when one delivered something, else within a second (a send wakes it). */
static double sqs_work(void *arg)
{
    (void)arg;
    struct sqs_mapping maps[32];
    size_t n = sqs_mappings(maps, sizeof(maps) / sizeof(maps[0]));
    int busy = 0;
    for (size_t i = 0; i < n && !emu_worker_stopping(&sqs_worker); i++) {
        busy |= sqs_poll_mapping(&maps[i]) > 0;
    }
    return busy ? 0 : emu_now() + 1.0;
}

static int sqs_start(void)
{
    if (emu_worker_start(&sqs_worker) != 0) {
        emu_error_log("sqs: cannot start the event source mapping worker");
        return -1;
    }
    return 0;
}

static void sqs_stop(void)
{
    emu_worker_stop(&sqs_worker);
}

/* ------------------------------------------------------------- registry */

static void sqs_resource(struct emu_request *req, struct emu_buf *out)
{
    const char *url = emu_form(req, "QueueUrl");
    const char *name = emu_form(req, "QueueName");
    if (req->json) {
        url = url ? url : evw_json_str(req->json, "QueueUrl");
        name = name ? name : evw_json_str(req->json, "QueueName");
    }
    char account[16];
    char qname[96];
    if (url == NULL && name == NULL && req->path && strcmp(req->path, "/") != 0) {
        url = req->path;
    }
    if (url && sqs_parse_url(url, account, sizeof(account), qname, sizeof(qname)) == 0) {
        emu_buf_puts(out, qname);
    } else if (name) {
        emu_buf_puts(out, name);
    }
}

static const struct emu_op sqs_ops[] = {
    {"CreateQueue", NULL, NULL, NULL, sqs_create_queue, EMU_OP_WRITE},
    {"GetQueueUrl", NULL, NULL, NULL, sqs_get_queue_url, 0},
    {"GetQueueAttributes", NULL, NULL, NULL, sqs_get_queue_attributes, 0},
    {"SetQueueAttributes", NULL, NULL, NULL, sqs_set_queue_attributes, EMU_OP_WRITE},
    {"ListQueues", NULL, NULL, NULL, sqs_list_queues, 0},
    {"DeleteQueue", NULL, NULL, NULL, sqs_delete_queue, EMU_OP_WRITE},
    {"PurgeQueue", NULL, NULL, NULL, sqs_purge_queue, EMU_OP_WRITE},
    {"SendMessage", NULL, NULL, NULL, sqs_send_message, EMU_OP_WRITE},
    {"SendMessageBatch", NULL, NULL, NULL, sqs_send_message_batch, EMU_OP_WRITE},
    {"ReceiveMessage", NULL, NULL, NULL, sqs_receive_message, EMU_OP_NO_TXN},
    {"DeleteMessage", NULL, NULL, NULL, sqs_delete_message, EMU_OP_WRITE},
    {"DeleteMessageBatch", NULL, NULL, NULL, sqs_delete_message_batch, EMU_OP_WRITE},
    {"ChangeMessageVisibility", NULL, NULL, NULL, sqs_change_message_visibility, EMU_OP_WRITE},
    {"ChangeMessageVisibilityBatch", NULL, NULL, NULL, sqs_change_message_visibility_batch,
     EMU_OP_WRITE},
    {"TagQueue", NULL, NULL, NULL, sqs_tag_queue, EMU_OP_WRITE},
    {"UntagQueue", NULL, NULL, NULL, sqs_untag_queue, EMU_OP_WRITE},
    {"ListQueueTags", NULL, NULL, NULL, sqs_list_queue_tags, 0},
};

const struct emu_service svc_sqs = {
    .name = "sqs",
    .display = "sqs",
    .protocol = EMU_PROTO_QUERY,
    .target_prefix = "AmazonSQS",
    .xmlns = "http://queue.amazonaws.com/doc/2012-11-05/",
    .ops = sqs_ops,
    .nops = sizeof(sqs_ops) / sizeof(sqs_ops[0]),
    .schema = sqs_schema,
    .nschema = sizeof(sqs_schema) / sizeof(sqs_schema[0]),
    .resource = sqs_resource,
    .start = sqs_start,
    .stop = sqs_stop,
};
