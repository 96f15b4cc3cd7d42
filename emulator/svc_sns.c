/*
 * svc_sns.c - Amazon SNS (query protocol): CreateTopic, DeleteTopic,
 * ListTopics, GetTopicAttributes, SetTopicAttributes, Subscribe,
 * ConfirmSubscription, Unsubscribe, ListSubscriptions,
 * ListSubscriptionsByTopic, GetSubscriptionAttributes,
 * SetSubscriptionAttributes, Publish, PublishBatch, TagResource,
 * UntagResource, ListTagsForResource.
 *
 * Delivery: Publish writes one row per matching subscription into the
 * sns_outbox table inside the publishing transaction; a worker thread
 * (started by the service's start hook) only sees committed rows, so a
 * delivery always happens after the publish committed. Each row is taken out
 * of the outbox and delivered outside the store lock:
 *   lambda     async Invoke (X-Amz-Invocation-Type Event) through Lambda's
 *              API with principal sns.amazonaws.com and the topic ARN as
 *              source ARN (Lambda checks its resource policy); AWS's SNS
 *              event shape (Records[0].Sns).
 *   sqs        SendMessage of the SNS JSON envelope (or the raw message with
 *              RawMessageDelivery=true); a FIFO topic's MessageGroupId and
 *              deduplication id (or the SNS message id) go along.
 *   http/https POST of the envelope with the x-amz-sns-* headers, to loopback
 *              endpoints only; subscriptions start pending and are confirmed
 *              with ConfirmSubscription and the token greenroom POSTs first.
 * Deliveries that fail with throttling, 5xx or no answer are retried twice
 * (after 1 s and 2 s); every Lambda/SQS delivery is a journalled internal
 * call. email/sms/application subscriptions are stored, never delivered.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "events_wire.h"
#include "worker.h"

#define SNS_MAX_MESSAGE 262144
#define SNS_MAX_ATTEMPTS 3

static const char *const sns_schema[] = {
    "CREATE TABLE sns_topics ("
    " account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, arn TEXT NOT NULL,"
    " attrs TEXT NOT NULL DEFAULT '{}', tags TEXT NOT NULL DEFAULT '{}',"
    " created REAL NOT NULL, PRIMARY KEY (account, region, name));"
    "CREATE TABLE sns_subscriptions ("
    " arn TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL,"
    " topic_arn TEXT NOT NULL, protocol TEXT NOT NULL, endpoint TEXT NOT NULL,"
    " owner TEXT NOT NULL, attrs TEXT NOT NULL DEFAULT '{}',"
    " confirmed INTEGER NOT NULL DEFAULT 0, token TEXT NOT NULL DEFAULT '',"
    " created REAL NOT NULL);"
    "CREATE INDEX sns_subscriptions_topic ON sns_subscriptions(topic_arn);"
    "CREATE TABLE sns_outbox ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, region TEXT NOT NULL,"
    " protocol TEXT NOT NULL, endpoint TEXT NOT NULL, sub_arn TEXT NOT NULL,"
    " topic_arn TEXT NOT NULL, message_id TEXT NOT NULL, kind TEXT NOT NULL,"
    " payload TEXT NOT NULL, extra TEXT NOT NULL DEFAULT '{}',"
    " attempts INTEGER NOT NULL DEFAULT 0, due REAL NOT NULL);",
};

/* The delivery worker (sns_work below); woken when a row is queued. */
static double sns_work(void *arg);
static struct emu_worker sns_worker = EMU_WORKER_INIT(sns_work, NULL);

/* ------------------------------------------------------------- helpers */

static void sns_xml_kv_entries(struct emu_buf *b, const cJSON *obj)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        if (!cJSON_IsString(it)) {
            continue;
        }
        emu_buf_puts(b, "<entry>");
        emu_buf_xml_elem(b, "key", it->string);
        emu_buf_xml_elem(b, "value", it->valuestring);
        emu_buf_puts(b, "</entry>");
    }
}

static int sns_valid_topic_name(const char *name)
{
    size_t n = strlen(name);
    size_t base = n;
    if (n > 5 && strcmp(name + n - 5, ".fifo") == 0) {
        base = n - 5;
    }
    if (n == 0 || n > 256 || base == 0) {
        return 0;
    }
    for (size_t i = 0; i < base; i++) {
        if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '_') {
            return 0;
        }
    }
    return 1;
}

/* A topic row. */
struct sns_topic {
    char account[16];
    char region[32];
    char name[260];
    char arn[400];
    cJSON *attrs; /* owned */
};

static void sns_topic_release(struct sns_topic *t)
{
    cJSON_Delete(t->attrs);
    t->attrs = NULL;
}

/* Binds account, region and key (what the statement keys on next: a topic
 * name or ARN, a protocol, a paging token) as parameters first .. first + 2
 * of st. */
static void sns_bind_key(sqlite3_stmt *st, int first, const char *account, const char *region,
                         const char *key)
{
    sqlite3_bind_text(st, first, account, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, first + 1, region, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, first + 2, key, -1, SQLITE_TRANSIENT);
}

/* Loads a topic by ARN. Returns 0 or -1 when missing. Store locked. */
static int sns_topic_load(const char *arn, struct sns_topic *t)
{
    struct evw_arn a;
    memset(t, 0, sizeof(*t));
    if (arn == NULL || evw_arn_parse(arn, &a) != 0 || strcmp(a.service, "sns") != 0 ||
        strchr(a.resource, ':') != NULL) {
        return -1;
    }
    sqlite3_stmt *st = emu_stmt("SELECT attrs, arn FROM sns_topics WHERE account = ? AND"
                                " region = ? AND name = ?");
    if (st == NULL) {
        return -1;
    }
    sns_bind_key(st, 1, a.account, a.region, a.resource);
    int rc = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *at = (const char *)sqlite3_column_text(st, 0);
        t->attrs = cJSON_Parse(at ? at : "{}");
        if (t->attrs == NULL) {
            t->attrs = cJSON_CreateObject();
        }
        snprintf(t->account, sizeof(t->account), "%s", a.account);
        snprintf(t->region, sizeof(t->region), "%s", a.region);
        snprintf(t->name, sizeof(t->name), "%s", a.resource);
        snprintf(t->arn, sizeof(t->arn), "%s", (const char *)sqlite3_column_text(st, 1));
        rc = 0;
    }
    emu_stmt_done(st);
    return rc;
}

/* Loads the request's TopicArn (form name `param`), failing the call with
 * NotFound / InvalidParameter. Returns 0 or -1. */
static int sns_topic_from_req(struct emu_request *req, struct emu_response *resp, const char *param,
                              struct sns_topic *t)
{
    const char *arn = emu_form(req, param);
    if (arn == NULL || *arn == 0) {
        emu_fail(resp, SNS_INVALID_PARAMETER, "Invalid parameter: %s", param);
        return -1;
    }
    struct evw_arn a;
    if (evw_arn_parse(arn, &a) != 0 || strcmp(a.service, "sns") != 0) {
        emu_fail(resp, SNS_INVALID_PARAMETER,
                 "Invalid parameter: %s Reason: An ARN must have at "
                 "least 6 elements, not 1",
                 param);
        return -1;
    }
    if (sns_topic_load(arn, t) != 0) {
        emu_fail(resp, SNS_NOT_FOUND, "Topic does not exist");
        return -1;
    }
    return 0;
}

static int sns_save_json(const char *sql, const cJSON *doc, const char *key1, const char *key2,
                         const char *key3)
{
    char *text = cJSON_PrintUnformatted(doc);
    sqlite3_stmt *st = emu_stmt(sql);
    int rc = -1;
    if (st && text) {
        sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, key1, -1, SQLITE_TRANSIENT);
        if (key2) {
            sqlite3_bind_text(st, 3, key2, -1, SQLITE_TRANSIENT);
        }
        if (key3) {
            sqlite3_bind_text(st, 4, key3, -1, SQLITE_TRANSIENT);
        }
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    }
    emu_stmt_done(st);
    free(text);
    return rc;
}

/* Query list "Prefix.member.N.Key/Value" as an object (caller deletes). */
static cJSON *sns_form_tags(const struct emu_request *req, const char *prefix)
{
    char p[64];
    snprintf(p, sizeof(p), "%s.member", prefix);
    return evw_form_map(req, p, "Key", "Value");
}

static const char *const sns_topic_settable[] = {
    "DisplayName",
    "Policy",
    "DeliveryPolicy",
    "KmsMasterKeyId",
    "TracingConfig",
    "SignatureVersion",
    "ContentBasedDeduplication",
    "FifoTopic",
    "ArchivePolicy",
    "DataProtectionPolicy",
    "FifoThroughputScope",
    "HTTPSuccessFeedbackRoleArn",
    "HTTPSuccessFeedbackSampleRate",
    "HTTPFailureFeedbackRoleArn",
    "LambdaSuccessFeedbackRoleArn",
    "LambdaSuccessFeedbackSampleRate",
    "LambdaFailureFeedbackRoleArn",
    "SQSSuccessFeedbackRoleArn",
    "SQSSuccessFeedbackSampleRate",
    "SQSFailureFeedbackRoleArn",
    "ApplicationSuccessFeedbackRoleArn",
    "ApplicationSuccessFeedbackSampleRate",
    "ApplicationFailureFeedbackRoleArn",
    "FirehoseSuccessFeedbackRoleArn",
    "FirehoseSuccessFeedbackSampleRate",
    "FirehoseFailureFeedbackRoleArn",
};

static int sns_topic_attr_known(const char *name)
{
    for (size_t i = 0; i < sizeof(sns_topic_settable) / sizeof(sns_topic_settable[0]); i++) {
        if (strcmp(sns_topic_settable[i], name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* --------------------------------------------------------------- topics */

static void sns_create_topic(struct emu_request *req, struct emu_response *resp)
{
    cJSON *attrs = evw_form_map(req, "Attributes.entry", "key", "value");
    cJSON *tags = sns_form_tags(req, "Tags");
    struct sns_topic t = {0};
    const char *name = emu_form(req, "Name");
    if (name == NULL || !sns_valid_topic_name(name)) {
        emu_fail(resp, SNS_INVALID_PARAMETER, "Invalid parameter: Topic Name");
        goto out;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, attrs)
    {
        if (!sns_topic_attr_known(it->string)) {
            emu_fail(resp, SNS_INVALID_PARAMETER,
                     "Invalid parameter: Attributes Reason: Unknown "
                     "attribute %s",
                     it->string);
            goto out;
        }
    }
    size_t n = strlen(name);
    int fifo_name = n > 5 && strcmp(name + n - 5, ".fifo") == 0;
    const char *fifo = evw_json_str(attrs, "FifoTopic");
    if (fifo_name != (fifo && strcmp(fifo, "true") == 0)) {
        emu_fail(resp, SNS_INVALID_PARAMETER,
                 fifo_name ? "Invalid parameter: Fifo Topic names must end with .fifo and must be "
                             "made up of only uppercase and lowercase ASCII letters, numbers, "
                             "underscores, and hyphens, and must be between 1 and 256 characters "
                             "long."
                           : "Invalid parameter: Topic Name");
        goto out;
    }
    char arn[400];
    snprintf(arn, sizeof(arn), "arn:aws:sns:%s:%s:%s", req->region, req->account, name);
    if (sns_topic_load(arn, &t) != 0) {
        char *at = cJSON_PrintUnformatted(attrs);
        char *tt = cJSON_PrintUnformatted(tags);
        sqlite3_stmt *st = emu_stmt("INSERT INTO sns_topics(account, region, name, arn, attrs,"
                                    " tags, created) VALUES (?, ?, ?, ?, ?, ?, ?)");
        int ok = 0;
        if (st && at && tt) {
            sns_bind_key(st, 1, req->account, req->region, name);
            sqlite3_bind_text(st, 4, arn, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 5, at, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 6, tt, -1, SQLITE_TRANSIENT);
            sqlite3_bind_double(st, 7, emu_now());
            ok = sqlite3_step(st) == SQLITE_DONE;
        }
        emu_stmt_done(st);
        free(at);
        free(tt);
        if (!ok) {
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
            goto out;
        }
    } else {
        /* Idempotent unless an attribute differs. */
        cJSON_ArrayForEach(it, attrs)
        {
            const char *cur = evw_json_str(t.attrs, it->string);
            if (cur == NULL || strcmp(cur, it->valuestring) != 0) {
                emu_fail(resp, SNS_INVALID_PARAMETER,
                         "Invalid parameter: Attributes Reason: Topic already exists with "
                         "different attributes");
                goto out;
            }
        }
    }
    struct emu_buf b = {0};
    emu_buf_xml_elem(&b, "TopicArn", arn);
    emu_resp_query(req, resp, b.data);
    emu_buf_release(&b);
out:
    sns_topic_release(&t);
    cJSON_Delete(attrs);
    cJSON_Delete(tags);
}

static void sns_delete_topic(struct emu_request *req, struct emu_response *resp)
{
    struct sns_topic t = {0};
    const char *arn = emu_form(req, "TopicArn");
    struct evw_arn a;
    if (arn == NULL || evw_arn_parse(arn, &a) != 0 || strcmp(a.service, "sns") != 0) {
        sns_topic_from_req(req, resp, "TopicArn", &t); /* fails with the right error */
        goto out;
    }
    if (sns_topic_load(arn, &t) != 0) {
        /* AWS: deleting a topic that is gone succeeds */
        emu_resp_query(req, resp, NULL);
        goto out;
    }
    static const char *const sqls[3] = {
        "DELETE FROM sns_subscriptions WHERE topic_arn = ?",
        "DELETE FROM sns_outbox WHERE topic_arn = ? AND kind = 'confirmation'",
        "DELETE FROM sns_topics WHERE arn = ?",
    };
    for (int i = 0; i < 3; i++) {
        sqlite3_stmt *st = emu_stmt(sqls[i]);
        if (st) {
            sqlite3_bind_text(st, 1, t.arn, -1, SQLITE_TRANSIENT);
            sqlite3_step(st);
        }
        emu_stmt_done(st);
    }
    emu_resp_query(req, resp, NULL);
out:
    sns_topic_release(&t);
}

static void sns_list_topics(struct emu_request *req, struct emu_response *resp)
{
    const char *token = emu_form(req, "NextToken");
    sqlite3_stmt *st = emu_stmt("SELECT arn FROM sns_topics WHERE account = ? AND region = ?"
                                " AND arn > ? ORDER BY arn");
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    sns_bind_key(st, 1, req->account, req->region, token ? token : "");
    struct emu_buf b = {0};
    emu_buf_puts(&b, "<Topics>");
    int n = 0;
    char last[400] = "";
    int more = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == 100) {
            more = 1;
            break;
        }
        const char *arn = (const char *)sqlite3_column_text(st, 0);
        emu_buf_puts(&b, "<member>");
        emu_buf_xml_elem(&b, "TopicArn", arn);
        emu_buf_puts(&b, "</member>");
        snprintf(last, sizeof(last), "%s", arn ? arn : "");
        n++;
    }
    emu_stmt_done(st);
    emu_buf_puts(&b, "</Topics>");
    if (more) {
        emu_buf_xml_elem(&b, "NextToken", last);
    }
    emu_resp_query(req, resp, b.data);
    emu_buf_release(&b);
}

static long long sns_count(const char *sql, const char *arn)
{
    sqlite3_stmt *st = emu_stmt(sql);
    long long n = 0;
    if (st) {
        sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
            n = sqlite3_column_int64(st, 0);
        }
    }
    emu_stmt_done(st);
    return n;
}

static void sns_get_topic_attributes(struct emu_request *req, struct emu_response *resp)
{
    struct sns_topic t = {0};
    if (sns_topic_from_req(req, resp, "TopicArn", &t) != 0) {
        goto out;
    }
    cJSON *all = cJSON_CreateObject();
    char buf[64];
    cJSON_AddStringToObject(all, "TopicArn", t.arn);
    cJSON_AddStringToObject(all, "Owner", t.account);
    struct emu_buf pol = {0};
    emu_buf_printf(&pol,
                   "{\"Version\":\"2008-10-17\",\"Id\":\"__default_policy_ID\",\"Statement\":[{"
                   "\"Sid\":\"__default_statement_ID\",\"Effect\":\"Allow\",\"Principal\":{"
                   "\"AWS\":\"*\"},\"Action\":[\"SNS:Publish\",\"SNS:Subscribe\"],\"Resource\":"
                   "\"%s\",\"Condition\":{\"StringEquals\":{\"AWS:SourceOwner\":\"%s\"}}}]}",
                   t.arn, t.account);
    cJSON_AddStringToObject(all, "Policy", pol.data);
    emu_buf_release(&pol);
    cJSON_AddStringToObject(all, "DisplayName", "");
    snprintf(buf, sizeof(buf), "%lld",
             sns_count("SELECT COUNT(*) FROM sns_subscriptions WHERE topic_arn = ? AND"
                       " confirmed = 1",
                       t.arn));
    cJSON_AddStringToObject(all, "SubscriptionsConfirmed", buf);
    snprintf(buf, sizeof(buf), "%lld",
             sns_count("SELECT COUNT(*) FROM sns_subscriptions WHERE topic_arn = ? AND"
                       " confirmed = 0",
                       t.arn));
    cJSON_AddStringToObject(all, "SubscriptionsPending", buf);
    cJSON_AddStringToObject(all, "SubscriptionsDeleted", "0");
    cJSON_AddStringToObject(
        all, "EffectiveDeliveryPolicy",
        "{\"http\":{\"defaultHealthyRetryPolicy\":{\"minDelayTarget\":20,\"maxDelayTarget\":20,"
        "\"numRetries\":3,\"numMaxDelayRetries\":0,\"numNoDelayRetries\":0,\"numMinDelayRetries\":"
        "0,\"backoffFunction\":\"linear\"},\"disableSubscriptionOverrides\":false,"
        "\"defaultRequestPolicy\":{\"headerContentType\":\"text/plain; charset=UTF-8\"}}}");
    const cJSON *it;
    cJSON_ArrayForEach(it, t.attrs)
    {
        cJSON_DeleteItemFromObjectCaseSensitive(all, it->string);
        cJSON_AddStringToObject(all, it->string, it->valuestring);
    }
    struct emu_buf b = {0};
    emu_buf_puts(&b, "<Attributes>");
    sns_xml_kv_entries(&b, all);
    emu_buf_puts(&b, "</Attributes>");
    emu_resp_query(req, resp, b.data);
    emu_buf_release(&b);
    cJSON_Delete(all);
out:
    sns_topic_release(&t);
}

static void sns_set_topic_attributes(struct emu_request *req, struct emu_response *resp)
{
    struct sns_topic t = {0};
    if (sns_topic_from_req(req, resp, "TopicArn", &t) != 0) {
        goto out;
    }
    const char *name = emu_form(req, "AttributeName");
    const char *value = emu_form(req, "AttributeValue");
    if (name == NULL || !sns_topic_attr_known(name) || strcmp(name, "FifoTopic") == 0) {
        emu_fail(resp, SNS_INVALID_PARAMETER, "Invalid parameter: AttributeName");
        goto out;
    }
    if ((strcmp(name, "Policy") == 0 || strcmp(name, "DeliveryPolicy") == 0) && value && *value) {
        cJSON *doc = cJSON_Parse(value);
        int ok = cJSON_IsObject(doc);
        cJSON_Delete(doc);
        if (!ok) {
            emu_fail(resp, SNS_INVALID_PARAMETER, "Invalid parameter: %s", name);
            goto out;
        }
    }
    cJSON_DeleteItemFromObjectCaseSensitive(t.attrs, name);
    cJSON_AddStringToObject(t.attrs, name, value ? value : "");
    if (sns_save_json("UPDATE sns_topics SET attrs = ? WHERE arn = ?", t.attrs, t.arn, NULL,
                      NULL) != 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        goto out;
    }
    emu_resp_query(req, resp, NULL);
out:
    sns_topic_release(&t);
}

/* -------------------------------------------------------- subscriptions */

/* Is url an http(s) URL to this machine's loopback? */
static int sns_loopback_url(const char *url, const char *proto)
{
    size_t pl = strlen(proto);
    if (strncasecmp(url, proto, pl) != 0 || strncmp(url + pl, "://", 3) != 0) {
        return 0;
    }
    const char *h = url + pl + 3;
    const char *at = strpbrk(h, "@/");
    if (at && *at == '@') {
        h = at + 1;
    }
    static const char *const hosts[] = {"127.", "localhost", "[::1]"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(hosts[i]);
        if (strncasecmp(h, hosts[i], n) == 0) {
            char c = h[n];
            if (i == 0 || c == 0 || c == ':' || c == '/') {
                return 1;
            }
        }
    }
    return 0;
}

/* Queues one delivery in the outbox (inside the caller's transaction). */
static int sns_outbox_add(const char *account, const char *region, const char *protocol,
                          const char *endpoint, const char *sub_arn, const char *topic_arn,
                          const char *message_id, const char *kind, const char *payload,
                          const char *extra)
{
    sqlite3_stmt *st = emu_stmt(
        "INSERT INTO sns_outbox(account, region, protocol, endpoint, sub_arn, topic_arn,"
        " message_id, kind, payload, extra, attempts, due) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
        " 0, ?)");
    int ok = 0;
    if (st) {
        sns_bind_key(st, 1, account, region, protocol);
        sqlite3_bind_text(st, 4, endpoint, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, sub_arn, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 6, topic_arn, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 7, message_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 8, kind, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 9, payload, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 10, extra ? extra : "{}", -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 11, emu_now());
        ok = sqlite3_step(st) == SQLITE_DONE;
    }
    emu_stmt_done(st);
    return ok ? 0 : -1;
}

static void sns_signing_urls(const char *region, const char *sub_arn, char *cert, size_t clen,
                             char *unsub, size_t ulen)
{
    snprintf(cert, clen,
             "https://sns.%s.amazonaws.com/SimpleNotificationService-"
             "0000000000000000000000000000000.pem",
             region);
    struct emu_buf b = {0};
    emu_buf_printf(&b, "%s/?Action=Unsubscribe&SubscriptionArn=", emu_base_url());
    emu_buf_url_encode(&b, sub_arn, strlen(sub_arn), 0);
    snprintf(unsub, ulen, "%s", b.data ? b.data : "");
    emu_buf_release(&b);
}

/* The SubscriptionConfirmation message POSTed to a new http(s) endpoint. */
static int sns_queue_confirmation(const char *account, const char *region, const char *topic_arn,
                                  const char *sub_arn, const char *protocol, const char *endpoint,
                                  const char *token)
{
    char id[37];
    char ts[32];
    char cert[256];
    emu_uuid(id);
    emu_time_iso(ts, emu_now());
    cert[0] = 0;
    cJSON *env = cJSON_CreateObject();
    cJSON_AddStringToObject(env, "Type", "SubscriptionConfirmation");
    cJSON_AddStringToObject(env, "MessageId", id);
    cJSON_AddStringToObject(env, "Token", token);
    cJSON_AddStringToObject(env, "TopicArn", topic_arn);
    struct emu_buf msg = {0};
    emu_buf_printf(&msg,
                   "You have chosen to subscribe to the topic %s.\nTo confirm the subscription, "
                   "visit the SubscribeURL included in this message.",
                   topic_arn);
    cJSON_AddStringToObject(env, "Message", msg.data);
    emu_buf_release(&msg);
    struct emu_buf url = {0};
    emu_buf_printf(&url, "%s/?Action=ConfirmSubscription&TopicArn=", emu_base_url());
    emu_buf_url_encode(&url, topic_arn, strlen(topic_arn), 0);
    emu_buf_puts(&url, "&Token=");
    emu_buf_puts(&url, token);
    cJSON_AddStringToObject(env, "SubscribeURL", url.data);
    emu_buf_release(&url);
    cJSON_AddStringToObject(env, "Timestamp", ts);
    cJSON_AddStringToObject(env, "SignatureVersion", "1");
    cJSON_AddStringToObject(env, "Signature", "RUdSRUVOUk9PTQ==");
    snprintf(cert, sizeof(cert),
             "https://sns.%s.amazonaws.com/SimpleNotificationService-"
             "0000000000000000000000000000000.pem",
             region);
    cJSON_AddStringToObject(env, "SigningCertURL", cert);
    char *text = cJSON_PrintUnformatted(env);
    cJSON_Delete(env);
    int rc = sns_outbox_add(account, region, protocol, endpoint, sub_arn, topic_arn, id,
                            "confirmation", text ? text : "{}", NULL);
    free(text);
    return rc;
}

static void sns_subscribe(struct emu_request *req, struct emu_response *resp)
{
    struct sns_topic t = {0};
    cJSON *attrs = evw_form_map(req, "Attributes.entry", "key", "value");
    char *found = NULL;
    if (sns_topic_from_req(req, resp, "TopicArn", &t) != 0) {
        goto out;
    }
    const char *protocol = emu_form(req, "Protocol");
    const char *endpoint = emu_form(req, "Endpoint");
    const char *ret = emu_form(req, "ReturnSubscriptionArn");
    if (protocol == NULL || *protocol == 0) {
        emu_fail(resp, SNS_INVALID_PARAMETER, "Invalid parameter: Protocol");
        goto out;
    }
    if (endpoint == NULL || *endpoint == 0) {
        emu_fail(resp, SNS_INVALID_PARAMETER, "Invalid parameter: Endpoint");
        goto out;
    }
    int confirmed = 1;
    struct evw_arn a;
    if (strcmp(protocol, "lambda") == 0 || strcmp(protocol, "sqs") == 0) {
        if (evw_arn_parse(endpoint, &a) != 0 || strcmp(a.service, protocol) != 0) {
            emu_fail(resp, SNS_INVALID_PARAMETER, "Invalid parameter: %s endpoint ARN",
                     strcmp(protocol, "sqs") == 0 ? "SQS" : "Lambda");
            goto out;
        }
    } else if (strcmp(protocol, "http") == 0 || strcmp(protocol, "https") == 0) {
        if (!sns_loopback_url(endpoint, protocol)) {
            emu_fail(resp, SNS_INVALID_PARAMETER,
                     "Invalid parameter: Endpoint Reason: greenroom delivers %s only to loopback "
                     "addresses (127.0.0.1, localhost, [::1])",
                     protocol);
            goto out;
        }
        confirmed = 0;
    } else if (strcmp(protocol, "email") == 0 || strcmp(protocol, "email-json") == 0 ||
               strcmp(protocol, "sms") == 0 || strcmp(protocol, "application") == 0 ||
               strcmp(protocol, "firehose") == 0) {
        confirmed = strcmp(protocol, "sms") == 0 || strcmp(protocol, "application") == 0 ||
                    strcmp(protocol, "firehose") == 0;
    } else {
        emu_fail(resp, SNS_INVALID_PARAMETER,
                 "Invalid parameter: Amazon SNS does not support "
                 "this protocol string: %s",
                 protocol);
        goto out;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, attrs)
    {
        if (strcmp(it->string, "RawMessageDelivery") != 0 &&
            strcmp(it->string, "FilterPolicy") != 0 &&
            strcmp(it->string, "FilterPolicyScope") != 0 &&
            strcmp(it->string, "DeliveryPolicy") != 0 && strcmp(it->string, "RedrivePolicy") != 0 &&
            strcmp(it->string, "SubscriptionRoleArn") != 0) {
            emu_fail(resp, SNS_INVALID_PARAMETER,
                     "Invalid parameter: Attributes Reason: Unknown "
                     "attribute %s",
                     it->string);
            goto out;
        }
        if (strcmp(it->string, "FilterPolicy") == 0 && it->valuestring[0]) {
            cJSON *fp = cJSON_Parse(it->valuestring);
            int ok = cJSON_IsObject(fp);
            cJSON_Delete(fp);
            if (!ok) {
                emu_fail(resp, SNS_INVALID_PARAMETER,
                         "Invalid parameter: FilterPolicy: failed to parse JSON.");
                goto out;
            }
        }
    }
    /* The same (topic, protocol, endpoint) answers the existing subscription. */
    sqlite3_stmt *st = emu_stmt("SELECT arn, confirmed FROM sns_subscriptions WHERE topic_arn = ?"
                                " AND protocol = ? AND endpoint = ?");
    int found_confirmed = 0;
    if (st) {
        sqlite3_bind_text(st, 1, t.arn, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, protocol, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, endpoint, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
            found = emu_col_dup(st, 0);
            found_confirmed = sqlite3_column_int(st, 1);
        }
    }
    emu_stmt_done(st);
    char sub_arn[512];
    if (found) {
        snprintf(sub_arn, sizeof(sub_arn), "%s", found);
        confirmed = found_confirmed;
    } else {
        char id[37];
        char token[65];
        emu_uuid(id);
        emu_random_hex(token, 64);
        snprintf(sub_arn, sizeof(sub_arn), "%s:%s", t.arn, id);
        char *at = cJSON_PrintUnformatted(attrs);
        st = emu_stmt("INSERT INTO sns_subscriptions(arn, account, region, topic_arn, protocol,"
                      " endpoint, owner, attrs, confirmed, token, created) VALUES (?, ?, ?, ?, ?,"
                      " ?, ?, ?, ?, ?, ?)");
        int ok = 0;
        if (st && at) {
            sqlite3_bind_text(st, 1, sub_arn, -1, SQLITE_TRANSIENT);
            sns_bind_key(st, 2, t.account, t.region, t.arn);
            sqlite3_bind_text(st, 5, protocol, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 6, endpoint, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 7, req->account, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 8, at, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int(st, 9, confirmed);
            sqlite3_bind_text(st, 10, token, -1, SQLITE_TRANSIENT);
            sqlite3_bind_double(st, 11, emu_now());
            ok = sqlite3_step(st) == SQLITE_DONE;
        }
        emu_stmt_done(st);
        free(at);
        if (!ok) {
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
            goto out;
        }
        if (!confirmed && (strcmp(protocol, "http") == 0 || strcmp(protocol, "https") == 0)) {
            if (sns_queue_confirmation(t.account, t.region, t.arn, sub_arn, protocol, endpoint,
                                       token) != 0) {
                emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
                goto out;
            }
            emu_worker_wake(&sns_worker);
        }
    }
    struct emu_buf b = {0};
    int show = confirmed || (ret && strcasecmp(ret, "true") == 0);
    emu_buf_xml_elem(&b, "SubscriptionArn", show ? sub_arn : "pending confirmation");
    emu_resp_query(req, resp, b.data);
    emu_buf_release(&b);
out:
    free(found);
    cJSON_Delete(attrs);
    sns_topic_release(&t);
}

static void sns_confirm_subscription(struct emu_request *req, struct emu_response *resp)
{
    struct sns_topic t = {0};
    char *arn = NULL;
    if (sns_topic_from_req(req, resp, "TopicArn", &t) != 0) {
        goto out;
    }
    const char *token = emu_form(req, "Token");
    if (token == NULL || *token == 0) {
        emu_fail(resp, SNS_INVALID_PARAMETER, "Invalid parameter: Token");
        goto out;
    }
    sqlite3_stmt *st =
        emu_stmt("SELECT arn FROM sns_subscriptions WHERE topic_arn = ? AND token = ?");
    if (st) {
        sqlite3_bind_text(st, 1, t.arn, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, token, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
            arn = emu_col_dup(st, 0);
        }
    }
    emu_stmt_done(st);
    if (arn == NULL) {
        emu_fail(resp, SNS_INVALID_PARAMETER, "Invalid token");
        goto out;
    }
    st = emu_stmt("UPDATE sns_subscriptions SET confirmed = 1 WHERE arn = ?");
    if (st) {
        sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
        sqlite3_step(st);
    }
    emu_stmt_done(st);
    struct emu_buf b = {0};
    emu_buf_xml_elem(&b, "SubscriptionArn", arn);
    emu_resp_query(req, resp, b.data);
    emu_buf_release(&b);
out:
    free(arn);
    sns_topic_release(&t);
}

static void sns_unsubscribe(struct emu_request *req, struct emu_response *resp)
{
    const char *arn = emu_form(req, "SubscriptionArn");
    if (arn == NULL || *arn == 0) {
        emu_fail(resp, SNS_INVALID_PARAMETER, "Invalid parameter: SubscriptionArn");
        return;
    }
    struct evw_arn a;
    if (evw_arn_parse(arn, &a) != 0 || strcmp(a.service, "sns") != 0 ||
        strchr(a.resource, ':') == NULL) {
        emu_fail(resp, SNS_INVALID_PARAMETER, "Invalid parameter: SubscriptionArn");
        return;
    }
    /* AWS answers success for a subscription that is already gone */
    sqlite3_stmt *st = emu_stmt("DELETE FROM sns_subscriptions WHERE arn = ?");
    if (st) {
        sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
        sqlite3_step(st);
    }
    emu_stmt_done(st);
    emu_resp_query(req, resp, NULL);
}

/* Renders <Subscriptions> for rows (arn, owner, protocol, endpoint,
 * topic_arn, confirmed) of st, which is bound and stepped here. */
static void sns_render_subs(struct emu_request *req, struct emu_response *resp, sqlite3_stmt *st)
{
    struct emu_buf b = {0};
    emu_buf_puts(&b, "<Subscriptions>");
    int n = 0;
    int more = 0;
    char last[512] = "";
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == 100) {
            more = 1;
            break;
        }
        const char *arn = (const char *)sqlite3_column_text(st, 0);
        emu_buf_puts(&b, "<member>");
        emu_buf_xml_elem(&b, "SubscriptionArn",
                         sqlite3_column_int(st, 5) ? arn : "PendingConfirmation");
        emu_buf_xml_elem(&b, "Owner", (const char *)sqlite3_column_text(st, 1));
        emu_buf_xml_elem(&b, "Protocol", (const char *)sqlite3_column_text(st, 2));
        emu_buf_xml_elem(&b, "Endpoint", (const char *)sqlite3_column_text(st, 3));
        emu_buf_xml_elem(&b, "TopicArn", (const char *)sqlite3_column_text(st, 4));
        emu_buf_puts(&b, "</member>");
        snprintf(last, sizeof(last), "%s", arn ? arn : "");
        n++;
    }
    emu_buf_puts(&b, "</Subscriptions>");
    if (more) {
        emu_buf_xml_elem(&b, "NextToken", last);
    }
    emu_resp_query(req, resp, b.data);
    emu_buf_release(&b);
}

static void sns_list_subscriptions(struct emu_request *req, struct emu_response *resp)
{
    const char *token = emu_form(req, "NextToken");
    sqlite3_stmt *st = emu_stmt("SELECT arn, owner, protocol, endpoint, topic_arn, confirmed FROM"
                                " sns_subscriptions WHERE account = ? AND region = ? AND arn > ?"
                                " ORDER BY arn");
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    sns_bind_key(st, 1, req->account, req->region, token ? token : "");
    sns_render_subs(req, resp, st);
    emu_stmt_done(st);
}

static void sns_list_subscriptions_by_topic(struct emu_request *req, struct emu_response *resp)
{
    struct sns_topic t = {0};
    if (sns_topic_from_req(req, resp, "TopicArn", &t) != 0) {
        goto out;
    }
    const char *token = emu_form(req, "NextToken");
    sqlite3_stmt *st = emu_stmt("SELECT arn, owner, protocol, endpoint, topic_arn, confirmed FROM"
                                " sns_subscriptions WHERE topic_arn = ? AND arn > ? ORDER BY arn");
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        goto out;
    }
    sqlite3_bind_text(st, 1, t.arn, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, token ? token : "", -1, SQLITE_TRANSIENT);
    sns_render_subs(req, resp, st);
    emu_stmt_done(st);
out:
    sns_topic_release(&t);
}

static void sns_get_subscription_attributes(struct emu_request *req, struct emu_response *resp)
{
    const char *arn = emu_form(req, "SubscriptionArn");
    if (arn == NULL || *arn == 0) {
        emu_fail(resp, SNS_INVALID_PARAMETER, "Invalid parameter: SubscriptionArn");
        return;
    }
    sqlite3_stmt *st = emu_stmt("SELECT owner, protocol, endpoint, topic_arn, confirmed, attrs"
                                " FROM sns_subscriptions WHERE arn = ?");
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_ROW) {
        emu_stmt_done(st);
        emu_fail(resp, SNS_NOT_FOUND, "Subscription does not exist");
        return;
    }
    cJSON *all = cJSON_CreateObject();
    cJSON_AddStringToObject(all, "SubscriptionArn", arn);
    cJSON_AddStringToObject(all, "Owner", (const char *)sqlite3_column_text(st, 0));
    cJSON_AddStringToObject(all, "Protocol", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddStringToObject(all, "Endpoint", (const char *)sqlite3_column_text(st, 2));
    cJSON_AddStringToObject(all, "TopicArn", (const char *)sqlite3_column_text(st, 3));
    int confirmed = sqlite3_column_int(st, 4);
    cJSON_AddStringToObject(all, "PendingConfirmation", confirmed ? "false" : "true");
    cJSON_AddStringToObject(all, "ConfirmationWasAuthenticated", confirmed ? "true" : "false");
    cJSON_AddStringToObject(all, "RawMessageDelivery", "false");
    const char *at = (const char *)sqlite3_column_text(st, 5);
    cJSON *attrs = cJSON_Parse(at ? at : "{}");
    emu_stmt_done(st);
    const cJSON *it;
    cJSON_ArrayForEach(it, attrs)
    {
        cJSON_DeleteItemFromObjectCaseSensitive(all, it->string);
        cJSON_AddStringToObject(all, it->string, it->valuestring);
    }
    cJSON_Delete(attrs);
    struct emu_buf b = {0};
    emu_buf_puts(&b, "<Attributes>");
    sns_xml_kv_entries(&b, all);
    emu_buf_puts(&b, "</Attributes>");
    emu_resp_query(req, resp, b.data);
    emu_buf_release(&b);
    cJSON_Delete(all);
}

static void sns_set_subscription_attributes(struct emu_request *req, struct emu_response *resp)
{
    const char *arn = emu_form(req, "SubscriptionArn");
    const char *name = emu_form(req, "AttributeName");
    const char *value = emu_form(req, "AttributeValue");
    cJSON *attrs = NULL;
    if (arn == NULL || *arn == 0) {
        emu_fail(resp, SNS_INVALID_PARAMETER, "Invalid parameter: SubscriptionArn");
        return;
    }
    if (name == NULL ||
        (strcmp(name, "RawMessageDelivery") != 0 && strcmp(name, "FilterPolicy") != 0 &&
         strcmp(name, "FilterPolicyScope") != 0 && strcmp(name, "DeliveryPolicy") != 0 &&
         strcmp(name, "RedrivePolicy") != 0 && strcmp(name, "SubscriptionRoleArn") != 0)) {
        emu_fail(resp, SNS_INVALID_PARAMETER, "Invalid parameter: AttributeName");
        return;
    }
    if (strcmp(name, "FilterPolicy") == 0 && value && *value) {
        cJSON *fp = cJSON_Parse(value);
        int ok = cJSON_IsObject(fp);
        cJSON_Delete(fp);
        if (!ok) {
            emu_fail(resp, SNS_INVALID_PARAMETER,
                     "Invalid parameter: FilterPolicy: failed to parse JSON.");
            return;
        }
    }
    sqlite3_stmt *st = emu_stmt("SELECT attrs FROM sns_subscriptions WHERE arn = ?");
    if (st) {
        sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
            const char *at = (const char *)sqlite3_column_text(st, 0);
            attrs = cJSON_Parse(at ? at : "{}");
            if (attrs == NULL) {
                attrs = cJSON_CreateObject();
            }
        }
    }
    emu_stmt_done(st);
    if (attrs == NULL) {
        emu_fail(resp, SNS_NOT_FOUND, "Subscription does not exist");
        return;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(attrs, name);
    cJSON_AddStringToObject(attrs, name, value ? value : "");
    if (sns_save_json("UPDATE sns_subscriptions SET attrs = ? WHERE arn = ?", attrs, arn, NULL,
                      NULL) != 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
    } else {
        emu_resp_query(req, resp, NULL);
    }
    cJSON_Delete(attrs);
}

/* ---------------------------------------------------------- tags (topics) */

static void sns_tag_resource(struct emu_request *req, struct emu_response *resp)
{
    struct sns_topic t = {0};
    cJSON *add = sns_form_tags(req, "Tags");
    cJSON *tags = NULL;
    if (sns_topic_from_req(req, resp, "ResourceArn", &t) != 0) {
        goto out;
    }
    sqlite3_stmt *st = emu_stmt("SELECT tags FROM sns_topics WHERE arn = ?");
    if (st) {
        sqlite3_bind_text(st, 1, t.arn, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
            const char *tt = (const char *)sqlite3_column_text(st, 0);
            tags = cJSON_Parse(tt ? tt : "{}");
        }
    }
    emu_stmt_done(st);
    if (tags == NULL) {
        tags = cJSON_CreateObject();
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, add)
    {
        cJSON_DeleteItemFromObjectCaseSensitive(tags, it->string);
        cJSON_AddStringToObject(tags, it->string, it->valuestring);
    }
    const char *action = req->op ? req->op->name : "";
    if (strcmp(action, "UntagResource") == 0) {
        cJSON *keys = evw_form_list(req, "TagKeys.member");
        cJSON_ArrayForEach(it, keys)
        {
            cJSON_DeleteItemFromObjectCaseSensitive(tags, it->valuestring);
        }
        cJSON_Delete(keys);
    }
    if (strcmp(action, "ListTagsForResource") == 0) {
        struct emu_buf b = {0};
        emu_buf_puts(&b, "<Tags>");
        cJSON_ArrayForEach(it, tags)
        {
            emu_buf_puts(&b, "<member>");
            emu_buf_xml_elem(&b, "Key", it->string);
            emu_buf_xml_elem(&b, "Value", it->valuestring);
            emu_buf_puts(&b, "</member>");
        }
        emu_buf_puts(&b, "</Tags>");
        emu_resp_query(req, resp, b.data);
        emu_buf_release(&b);
        goto out;
    }
    sns_save_json("UPDATE sns_topics SET tags = ? WHERE arn = ?", tags, t.arn, NULL, NULL);
    emu_resp_query(req, resp, NULL);
out:
    cJSON_Delete(add);
    cJSON_Delete(tags);
    sns_topic_release(&t);
}

/* ---------------------------------------------------------------- publish */

/* Does one filter-policy rule value match attribute value (type, value)? */
static int sns_rule_match(const cJSON *rule, const char *type, const char *value)
{
    int numeric = type && strncmp(type, "Number", 6) == 0;
    double num = numeric && value ? strtod(value, NULL) : 0;
    if (cJSON_IsString(rule)) {
        return value && strcmp(rule->valuestring, value) == 0;
    }
    if (cJSON_IsNumber(rule)) {
        return numeric && value && num == rule->valuedouble;
    }
    if (!cJSON_IsObject(rule)) {
        return 0;
    }
    const cJSON *op = rule->child;
    if (op == NULL || op->string == NULL) {
        return 0;
    }
    if (strcmp(op->string, "exists") == 0) {
        return cJSON_IsTrue(op) ? value != NULL : value == NULL;
    }
    if (value == NULL) {
        return 0;
    }
    if (strcmp(op->string, "prefix") == 0) {
        return cJSON_IsString(op) && strncmp(value, op->valuestring, strlen(op->valuestring)) == 0;
    }
    if (strcmp(op->string, "anything-but") == 0) {
        if (cJSON_IsArray(op)) {
            const cJSON *x;
            cJSON_ArrayForEach(x, op)
            {
                if (sns_rule_match(x, type, value)) {
                    return 0;
                }
            }
            return 1;
        }
        return !sns_rule_match(op, type, value);
    }
    if (strcmp(op->string, "numeric") == 0 && cJSON_IsArray(op) && numeric) {
        int n = cJSON_GetArraySize(op);
        for (int i = 0; i + 1 < n; i += 2) {
            const cJSON *o = cJSON_GetArrayItem(op, i);
            const cJSON *v = cJSON_GetArrayItem(op, i + 1);
            if (!cJSON_IsString(o) || !cJSON_IsNumber(v)) {
                return 0;
            }
            const char *s = o->valuestring;
            double d = v->valuedouble;
            int ok = (strcmp(s, "=") == 0 && num == d) || (strcmp(s, "<") == 0 && num < d) ||
                     (strcmp(s, "<=") == 0 && num <= d) || (strcmp(s, ">") == 0 && num > d) ||
                     (strcmp(s, ">=") == 0 && num >= d);
            if (!ok) {
                return 0;
            }
        }
        return 1;
    }
    return 0;
}

/* Filter policy (on message attributes) against a message's attributes
 * ({name: {DataType, StringValue}}). Returns 1 when it passes. */
static int sns_filter_pass(const char *policy_text, const cJSON *attrs)
{
    if (policy_text == NULL || *policy_text == 0) {
        return 1;
    }
    cJSON *policy = cJSON_Parse(policy_text);
    if (!cJSON_IsObject(policy)) {
        cJSON_Delete(policy);
        return 1;
    }
    int pass = 1;
    const cJSON *key;
    cJSON_ArrayForEach(key, policy)
    {
        const cJSON *attr = cJSON_GetObjectItemCaseSensitive(attrs, key->string);
        const char *type = evw_json_str(attr, "DataType");
        const char *value = evw_json_str(attr, "StringValue");
        int any = 0;
        if (cJSON_IsArray(key)) {
            const cJSON *rule;
            cJSON_ArrayForEach(rule, key)
            {
                if (type && strcmp(type, "String.Array") == 0 && value) {
                    cJSON *arr = cJSON_Parse(value);
                    const cJSON *x;
                    cJSON_ArrayForEach(x, arr)
                    {
                        if (cJSON_IsString(x) && sns_rule_match(rule, "String", x->valuestring)) {
                            any = 1;
                        }
                    }
                    cJSON_Delete(arr);
                } else if (sns_rule_match(rule, type, attr ? value : NULL)) {
                    any = 1;
                }
            }
        }
        if (!any) {
            pass = 0;
            break;
        }
    }
    cJSON_Delete(policy);
    return pass;
}

/* FilterPolicyScope MessageBody: the policy's keys are paths into the JSON
 * message (nested objects), its leaf arrays the same rules as for
 * attributes. Returns 1 when body (any JSON value) passes. */
static int sns_body_match(const cJSON *policy, const cJSON *body)
{
    const cJSON *key;
    cJSON_ArrayForEach(key, policy)
    {
        const cJSON *v =
            cJSON_IsObject(body) ? cJSON_GetObjectItemCaseSensitive(body, key->string) : NULL;
        if (cJSON_IsObject(key)) {
            if (!cJSON_IsObject(v) || !sns_body_match(key, v)) {
                return 0;
            }
            continue;
        }
        int any = 0;
        const cJSON *rule;
        cJSON_ArrayForEach(rule, key)
        {
            const cJSON *x = cJSON_IsArray(v) ? v->child : v;
            do {
                char num[64];
                if (x == NULL) {
                    any |= sns_rule_match(rule, NULL, NULL);
                } else if (cJSON_IsString(x)) {
                    any |= sns_rule_match(rule, "String", x->valuestring);
                } else if (cJSON_IsNumber(x)) {
                    snprintf(num, sizeof(num), "%.17g", x->valuedouble);
                    any |= sns_rule_match(rule, "Number", num);
                } else if (cJSON_IsBool(x)) {
                    any |= sns_rule_match(rule, "String", cJSON_IsTrue(x) ? "true" : "false");
                }
                x = cJSON_IsArray(v) && x ? x->next : NULL;
            } while (x != NULL);
        }
        if (!any) {
            return 0;
        }
    }
    return 1;
}

/* The subscription's filter policy against a message: on its attributes, or
 * (FilterPolicyScope MessageBody) on its JSON body. Returns 1 when it passes. */
static int sns_filter_message(const cJSON *sattrs, const char *message, const cJSON *attrs)
{
    const char *fp = evw_json_str(sattrs, "FilterPolicy");
    const char *scope = evw_json_str(sattrs, "FilterPolicyScope");
    if (fp == NULL || *fp == 0 || scope == NULL || strcmp(scope, "MessageBody") != 0) {
        return sns_filter_pass(fp, attrs);
    }
    cJSON *policy = cJSON_Parse(fp);
    cJSON *body = message ? cJSON_Parse(message) : NULL;
    int pass = cJSON_IsObject(policy) && cJSON_IsObject(body) && sns_body_match(policy, body);
    cJSON_Delete(policy);
    cJSON_Delete(body);
    return pass;
}

/* SNS envelope message attributes {name: {Type, Value}} (new object). */
static cJSON *sns_envelope_attrs(const cJSON *attrs)
{
    cJSON *o = cJSON_CreateObject();
    const cJSON *it;
    cJSON_ArrayForEach(it, attrs)
    {
        cJSON *v = cJSON_CreateObject();
        const char *type = evw_json_str(it, "DataType");
        const char *sv = evw_json_str(it, "StringValue");
        const char *bv = evw_json_str(it, "BinaryValue");
        cJSON_AddStringToObject(v, "Type", type ? type : "String");
        cJSON_AddStringToObject(v, "Value", sv ? sv : (bv ? bv : ""));
        cJSON_AddItemToObject(o, it->string, v);
    }
    return o;
}

/* One message being published. */
struct sns_msg {
    const char *message;    /* default text */
    const cJSON *structure; /* MessageStructure=json: per-protocol texts, or NULL */
    const char *subject;
    const cJSON *attrs; /* {name: {DataType, StringValue|BinaryValue}} */
    const char *group_id;
    const char *dedup_id;
    char id[37];
};

static const char *sns_text_for(const struct sns_msg *m, const char *protocol)
{
    const char *s = evw_json_str(m->structure, protocol);
    return s ? s : m->message;
}

/* Queues deliveries of m to every confirmed subscription of t that passes its
 * filter policy. Returns 0 or -1. Store locked. */
static int sns_fan_out(const struct sns_topic *t, const struct sns_msg *m)
{
    sqlite3_stmt *st = emu_stmt("SELECT arn, protocol, endpoint, attrs FROM sns_subscriptions"
                                " WHERE topic_arn = ? AND confirmed = 1 ORDER BY created");
    if (st == NULL) {
        return -1;
    }
    sqlite3_bind_text(st, 1, t->arn, -1, SQLITE_TRANSIENT);
    struct row {
        char *arn;
        char *protocol;
        char *endpoint;
        char *attrs;
    } *rows = NULL;
    size_t n = 0;
    size_t cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            struct row *r = realloc(rows, cap * sizeof(*rows));
            if (r == NULL) {
                break;
            }
            rows = r;
        }
        rows[n].arn = emu_col_dup(st, 0);
        rows[n].protocol = emu_col_dup(st, 1);
        rows[n].endpoint = emu_col_dup(st, 2);
        rows[n].attrs = emu_col_dup(st, 3);
        n++;
    }
    emu_stmt_done(st);
    int rc = 0;
    char ts[32];
    emu_time_iso(ts, emu_now());
    for (size_t i = 0; i < n; i++) {
        struct row *r = &rows[i];
        cJSON *sattrs = cJSON_Parse(r->attrs);
        const char *raw = evw_json_str(sattrs, "RawMessageDelivery");
        int is_raw = raw && strcasecmp(raw, "true") == 0;
        int deliverable = strcmp(r->protocol, "lambda") == 0 || strcmp(r->protocol, "sqs") == 0 ||
                          strcmp(r->protocol, "http") == 0 || strcmp(r->protocol, "https") == 0;
        if (!deliverable || !sns_filter_message(sattrs, m->message, m->attrs)) {
            cJSON_Delete(sattrs);
            continue;
        }
        char cert[256];
        char unsub[1024];
        sns_signing_urls(t->region, r->arn, cert, sizeof(cert), unsub, sizeof(unsub));
        const char *text = sns_text_for(m, r->protocol);
        char *payload = NULL;
        char *extra = NULL;
        if (strcmp(r->protocol, "lambda") == 0) {
            cJSON *ev = cJSON_CreateObject();
            cJSON *recs = cJSON_AddArrayToObject(ev, "Records");
            cJSON *rec = cJSON_CreateObject();
            cJSON_AddStringToObject(rec, "EventSource", "aws:sns");
            cJSON_AddStringToObject(rec, "EventVersion", "1.0");
            cJSON_AddStringToObject(rec, "EventSubscriptionArn", r->arn);
            cJSON *sns = cJSON_AddObjectToObject(rec, "Sns");
            cJSON_AddStringToObject(sns, "Type", "Notification");
            cJSON_AddStringToObject(sns, "MessageId", m->id);
            cJSON_AddStringToObject(sns, "TopicArn", t->arn);
            if (m->subject) {
                cJSON_AddStringToObject(sns, "Subject", m->subject);
            } else {
                cJSON_AddNullToObject(sns, "Subject");
            }
            cJSON_AddStringToObject(sns, "Message", text);
            cJSON_AddStringToObject(sns, "Timestamp", ts);
            cJSON_AddStringToObject(sns, "SignatureVersion", "1");
            cJSON_AddStringToObject(sns, "Signature", "RUdSRUVOUk9PTQ==");
            cJSON_AddStringToObject(sns, "SigningCertUrl", cert);
            cJSON_AddStringToObject(sns, "UnsubscribeUrl", unsub);
            cJSON_AddItemToObject(sns, "MessageAttributes", sns_envelope_attrs(m->attrs));
            cJSON_AddItemToArray(recs, rec);
            payload = cJSON_PrintUnformatted(ev);
            cJSON_Delete(ev);
        } else if (is_raw) {
            payload = strdup(text);
        } else {
            cJSON *env = cJSON_CreateObject();
            cJSON_AddStringToObject(env, "Type", "Notification");
            cJSON_AddStringToObject(env, "MessageId", m->id);
            cJSON_AddStringToObject(env, "TopicArn", t->arn);
            if (m->subject) {
                cJSON_AddStringToObject(env, "Subject", m->subject);
            }
            cJSON_AddStringToObject(env, "Message", text);
            cJSON_AddStringToObject(env, "Timestamp", ts);
            cJSON_AddStringToObject(env, "SignatureVersion", "1");
            cJSON_AddStringToObject(env, "Signature", "RUdSRUVOUk9PTQ==");
            cJSON_AddStringToObject(env, "SigningCertURL", cert);
            cJSON_AddStringToObject(env, "UnsubscribeURL", unsub);
            if (cJSON_GetArraySize(m->attrs) > 0) {
                cJSON_AddItemToObject(env, "MessageAttributes", sns_envelope_attrs(m->attrs));
            }
            payload = cJSON_PrintUnformatted(env);
            cJSON_Delete(env);
        }
        if (strcmp(r->protocol, "sqs") == 0) {
            /* raw delivery carries the attributes; FIFO topics their group */
            cJSON *x = cJSON_CreateObject();
            if (is_raw && cJSON_GetArraySize(m->attrs) > 0) {
                cJSON_AddItemToObject(x, "attrs", cJSON_Duplicate(m->attrs, 1));
            }
            if (m->group_id && *m->group_id) {
                cJSON_AddStringToObject(x, "group", m->group_id);
                cJSON_AddStringToObject(x, "dedup",
                                        m->dedup_id && *m->dedup_id ? m->dedup_id : m->id);
            }
            extra = cJSON_PrintUnformatted(x);
            cJSON_Delete(x);
        }
        if (payload == NULL ||
            sns_outbox_add(t->account, t->region, r->protocol, r->endpoint, r->arn, t->arn, m->id,
                           "notification", payload, extra) != 0) {
            rc = -1;
        }
        free(payload);
        free(extra);
        cJSON_Delete(sattrs);
    }
    for (size_t i = 0; i < n; i++) {
        free(rows[i].arn);
        free(rows[i].protocol);
        free(rows[i].endpoint);
        free(rows[i].attrs);
    }
    free(rows);
    return rc;
}

/* Validates one message. Returns NULL or an error text; *e the error. */
static const char *sns_check_msg(const struct sns_topic *t, const char *message,
                                 const char *subject, const char *structure, cJSON **parsed,
                                 const cJSON *attrs, const char *group_id, enum emu_error *e)
{
    *e = SNS_INVALID_PARAMETER;
    *parsed = NULL;
    if (message == NULL) {
        return "Invalid parameter: Message";
    }
    if (*message == 0) {
        return "Invalid parameter: Empty message";
    }
    if (strlen(message) > SNS_MAX_MESSAGE) {
        return "Invalid parameter: Message too long";
    }
    if (subject) {
        size_t sl = strlen(subject);
        if (sl == 0 || sl > 100) {
            return "Invalid parameter: Subject";
        }
        for (const unsigned char *p = (const unsigned char *)subject; *p; p++) {
            if (*p < 0x20) {
                return "Invalid parameter: Subject";
            }
        }
    }
    if (structure && *structure) {
        if (strcmp(structure, "json") != 0) {
            return "Invalid parameter: MessageStructure";
        }
        *parsed = cJSON_Parse(message);
        if (!cJSON_IsObject(*parsed)) {
            cJSON_Delete(*parsed);
            *parsed = NULL;
            return "Invalid parameter: Message Structure - JSON message body failed to parse";
        }
        if (evw_json_str(*parsed, "default") == NULL) {
            cJSON_Delete(*parsed);
            *parsed = NULL;
            return "Invalid parameter: Message Structure - No default entry in JSON message body";
        }
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, attrs)
    {
        const char *type = evw_json_str(it, "DataType");
        if (type == NULL || (strncmp(type, "String", 6) != 0 && strncmp(type, "Number", 6) != 0 &&
                             strncmp(type, "Binary", 6) != 0)) {
            *e = SNS_INVALID_PARAMETER_VALUE;
            cJSON_Delete(*parsed);
            *parsed = NULL;
            return "The message attribute has an invalid message attribute type.";
        }
        if (strncmp(type, "Binary", 6) != 0 && evw_json_str(it, "StringValue") == NULL) {
            *e = SNS_INVALID_PARAMETER_VALUE;
            cJSON_Delete(*parsed);
            *parsed = NULL;
            return "The message attribute must contain non-empty message attribute value.";
        }
    }
    size_t nl = strlen(t->name);
    int fifo = nl > 5 && strcmp(t->name + nl - 5, ".fifo") == 0;
    if (fifo && (group_id == NULL || *group_id == 0)) {
        cJSON_Delete(*parsed);
        *parsed = NULL;
        return "Invalid parameter: The MessageGroupId parameter is required for FIFO topics";
    }
    return NULL;
}

static void sns_publish(struct emu_request *req, struct emu_response *resp)
{
    struct sns_topic t = {0};
    cJSON *attrs = evw_form_msg_attrs(req, "MessageAttributes.entry");
    cJSON *structure = NULL;
    const char *param = emu_form(req, "TopicArn") ? "TopicArn" : "TargetArn";
    if (emu_form(req, param) == NULL && emu_form(req, "PhoneNumber")) {
        emu_fail(resp, SNS_INVALID_PARAMETER,
                 "Invalid parameter: PhoneNumber Reason: greenroom does not deliver SMS");
        goto out;
    }
    if (sns_topic_from_req(req, resp, param, &t) != 0) {
        goto out;
    }
    struct sns_msg m = {
        .message = emu_form(req, "Message"),
        .subject = emu_form(req, "Subject"),
        .attrs = attrs,
        .group_id = emu_form(req, "MessageGroupId"),
        .dedup_id = emu_form(req, "MessageDeduplicationId"),
    };
    enum emu_error e;
    const char *bad = sns_check_msg(&t, m.message, m.subject, emu_form(req, "MessageStructure"),
                                    &structure, attrs, m.group_id, &e);
    if (bad) {
        emu_fail(resp, e, "%s", bad);
        goto out;
    }
    m.structure = structure;
    if (structure) {
        m.message = evw_json_str(structure, "default");
    }
    emu_uuid(m.id);
    if (sns_fan_out(&t, &m) != 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        goto out;
    }
    emu_worker_wake(&sns_worker);
    struct emu_buf b = {0};
    emu_buf_xml_elem(&b, "MessageId", m.id);
    if (m.group_id) {
        char seq[32];
        snprintf(seq, sizeof(seq), "%020lld", (long long)(emu_now() * 1000));
        emu_buf_xml_elem(&b, "SequenceNumber", seq);
    }
    emu_resp_query(req, resp, b.data);
    emu_buf_release(&b);
out:
    cJSON_Delete(structure);
    cJSON_Delete(attrs);
    sns_topic_release(&t);
}

static void sns_publish_batch(struct emu_request *req, struct emu_response *resp)
{
    struct sns_topic t = {0};
    struct emu_buf ok = {0};
    struct emu_buf failed = {0};
    if (sns_topic_from_req(req, resp, "TopicArn", &t) != 0) {
        goto out;
    }
    char key[160];
    int n = 0;
    for (;;) {
        snprintf(key, sizeof(key), "PublishBatchRequestEntries.member.%d.Id", n + 1);
        if (emu_form(req, key) == NULL) {
            break;
        }
        n++;
        if (n > 10) {
            break;
        }
    }
    if (n == 0) {
        emu_fail(resp, SNS_EMPTY_BATCH_REQUEST, "The batch request doesn't contain any entries");
        goto out;
    }
    if (n > 10) {
        emu_fail(resp, SNS_TOO_MANY_ENTRIES_IN_BATCH,
                 "The batch request contains more entries than permissible");
        goto out;
    }
    for (int i = 1; i <= n; i++) {
        snprintf(key, sizeof(key), "PublishBatchRequestEntries.member.%d.Id", i);
        const char *id = emu_form(req, key);
        for (int j = 1; j < i; j++) {
            char k2[160];
            snprintf(k2, sizeof(k2), "PublishBatchRequestEntries.member.%d.Id", j);
            if (strcmp(emu_form(req, k2), id) == 0) {
                emu_fail(resp, SNS_BATCH_ENTRY_IDS_NOT_DISTINCT,
                         "Two or more batch entries in the request have the same Id.");
                goto out;
            }
        }
    }
    emu_buf_puts(&ok, "<Successful>");
    emu_buf_puts(&failed, "<Failed>");
    for (int i = 1; i <= n; i++) {
        char p[96];
        snprintf(p, sizeof(p), "PublishBatchRequestEntries.member.%d", i);
        snprintf(key, sizeof(key), "%s.Id", p);
        const char *id = emu_form(req, key);
        snprintf(key, sizeof(key), "%s.MessageAttributes.entry", p);
        cJSON *attrs = evw_form_msg_attrs(req, key);
        cJSON *structure = NULL;
        struct sns_msg m = {.attrs = attrs};
        snprintf(key, sizeof(key), "%s.Message", p);
        m.message = emu_form(req, key);
        snprintf(key, sizeof(key), "%s.Subject", p);
        m.subject = emu_form(req, key);
        snprintf(key, sizeof(key), "%s.MessageGroupId", p);
        m.group_id = emu_form(req, key);
        snprintf(key, sizeof(key), "%s.MessageDeduplicationId", p);
        m.dedup_id = emu_form(req, key);
        snprintf(key, sizeof(key), "%s.MessageStructure", p);
        enum emu_error e;
        const char *bad = sns_check_msg(&t, m.message, m.subject, emu_form(req, key), &structure,
                                        attrs, m.group_id, &e);
        if (bad == NULL) {
            m.structure = structure;
            if (structure) {
                m.message = evw_json_str(structure, "default");
            }
            emu_uuid(m.id);
            if (sns_fan_out(&t, &m) != 0) {
                bad = "Internal error";
                e = AWS_INTERNAL_FAILURE;
            }
        }
        if (bad) {
            emu_buf_puts(&failed, "<member>");
            emu_buf_xml_elem(&failed, "Id", id);
            emu_buf_xml_elem(&failed, "Code", emu_error_info(e)->code);
            emu_buf_xml_elem(&failed, "Message", bad);
            emu_buf_xml_elem(&failed, "SenderFault",
                             emu_error_info(e)->status < 500 ? "true" : "false");
            emu_buf_puts(&failed, "</member>");
        } else {
            emu_buf_puts(&ok, "<member>");
            emu_buf_xml_elem(&ok, "Id", id);
            emu_buf_xml_elem(&ok, "MessageId", m.id);
            emu_buf_puts(&ok, "</member>");
        }
        cJSON_Delete(structure);
        cJSON_Delete(attrs);
    }
    emu_buf_puts(&ok, "</Successful>");
    emu_buf_puts(&failed, "</Failed>");
    emu_buf_append(&ok, failed.data, failed.len);
    emu_worker_wake(&sns_worker);
    emu_resp_query(req, resp, ok.data);
out:
    emu_buf_release(&ok);
    emu_buf_release(&failed);
    sns_topic_release(&t);
}

/* ------------------------------------------------------------- delivery */

/* One row taken out of the outbox. */
struct sns_delivery {
    long long id;
    char account[16];
    char region[32];
    char *protocol;
    char *endpoint;
    char *sub_arn;
    char *topic_arn;
    char *message_id;
    char *kind;
    char *payload;
    char *extra;
    int attempts;
};

static void sns_delivery_release(struct sns_delivery *d)
{
    free(d->protocol);
    free(d->endpoint);
    free(d->sub_arn);
    free(d->topic_arn);
    free(d->message_id);
    free(d->kind);
    free(d->payload);
    free(d->extra);
    memset(d, 0, sizeof(*d));
}

/* Takes the oldest due delivery out of the outbox. Returns 1 when one was
 * taken, 0 when none is due (*next_due = earliest due time or 0). */
static int sns_outbox_take(struct sns_delivery *d, double *next_due)
{
    *next_due = 0;
    if (emu_store_begin(1) != 0) {
        return 0;
    }
    int got = 0;
    sqlite3_stmt *st = emu_stmt("SELECT id, account, region, protocol, endpoint, sub_arn,"
                                " topic_arn, message_id, kind, payload, extra, attempts, due"
                                " FROM sns_outbox ORDER BY due, id LIMIT 1");
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        double due = sqlite3_column_double(st, 12);
        if (due <= emu_now()) {
            d->id = sqlite3_column_int64(st, 0);
            snprintf(d->account, sizeof(d->account), "%s",
                     (const char *)sqlite3_column_text(st, 1));
            snprintf(d->region, sizeof(d->region), "%s", (const char *)sqlite3_column_text(st, 2));
            d->protocol = emu_col_dup(st, 3);
            d->endpoint = emu_col_dup(st, 4);
            d->sub_arn = emu_col_dup(st, 5);
            d->topic_arn = emu_col_dup(st, 6);
            d->message_id = emu_col_dup(st, 7);
            d->kind = emu_col_dup(st, 8);
            d->payload = emu_col_dup(st, 9);
            d->extra = emu_col_dup(st, 10);
            d->attempts = sqlite3_column_int(st, 11);
            got = 1;
        } else {
            *next_due = due;
        }
    }
    emu_stmt_done(st);
    if (got) {
        st = emu_stmt("DELETE FROM sns_outbox WHERE id = ?");
        if (st) {
            sqlite3_bind_int64(st, 1, d->id);
            sqlite3_step(st);
        }
        emu_stmt_done(st);
    }
    emu_store_end(1);
    return got;
}

static size_t sns_curl_sink(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

/* POSTs an envelope to an http(s) endpoint. Returns the HTTP status or 0. */
static int sns_http_post(const struct sns_delivery *d)
{
    CURL *c = curl_easy_init();
    if (c == NULL) {
        return 0;
    }
    struct curl_slist *h = NULL;
    char line[700];
    int confirmation = strcmp(d->kind, "confirmation") == 0;
    snprintf(line, sizeof(line), "x-amz-sns-message-type: %s",
             confirmation ? "SubscriptionConfirmation" : "Notification");
    h = curl_slist_append(h, line);
    snprintf(line, sizeof(line), "x-amz-sns-message-id: %s", d->message_id);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof(line), "x-amz-sns-topic-arn: %s", d->topic_arn);
    h = curl_slist_append(h, line);
    if (!confirmation) {
        snprintf(line, sizeof(line), "x-amz-sns-subscription-arn: %s", d->sub_arn);
        h = curl_slist_append(h, line);
    }
    h = curl_slist_append(h, "Content-Type: text/plain; charset=UTF-8");
    h = curl_slist_append(h, "User-Agent: Amazon Simple Notification Service Agent");
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, d->endpoint);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, d->payload);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(d->payload));
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 3L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sns_curl_sink);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return (int)status;
}

/* Delivers one outbox row; requeues it with a backoff when worth retrying. */
static void sns_deliver(struct sns_delivery *d)
{
    struct evw_result r;
    memset(&r, 0, sizeof(r));
    if (strcmp(d->protocol, "lambda") == 0) {
        evw_invoke_lambda(d->account, d->region, d->endpoint, d->payload, 1, "sns.amazonaws.com",
                          d->topic_arn, &r);
    } else if (strcmp(d->protocol, "sqs") == 0) {
        cJSON *x = d->extra && d->extra[0] ? cJSON_Parse(d->extra) : NULL;
        evw_sqs_send(d->endpoint, d->payload, cJSON_GetObjectItemCaseSensitive(x, "attrs"),
                     evw_json_str(x, "group"), evw_json_str(x, "dedup"), &r);
        cJSON_Delete(x);
    } else {
        r.status = sns_http_post(d);
        if (r.status < 200 || r.status >= 300) {
            snprintf(r.code, sizeof(r.code), "HttpStatus%d", r.status);
            emu_warn("sns: delivery to %s answered %d", d->endpoint, r.status);
        }
    }
    int ok = r.status >= 200 && r.status < 300;
    int is_http = strcmp(d->protocol, "http") == 0 || strcmp(d->protocol, "https") == 0;
    int retry = !ok && (is_http || evw_retryable(&r)) && d->attempts + 1 < SNS_MAX_ATTEMPTS;
    if (!retry) {
        return;
    }
    if (emu_store_begin(1) != 0) {
        return;
    }
    sqlite3_stmt *st = emu_stmt(
        "INSERT INTO sns_outbox(account, region, protocol, endpoint, sub_arn, topic_arn,"
        " message_id, kind, payload, extra, attempts, due) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
        " ?, ?)");
    if (st) {
        sns_bind_key(st, 1, d->account, d->region, d->protocol);
        sqlite3_bind_text(st, 4, d->endpoint, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, d->sub_arn, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 6, d->topic_arn, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 7, d->message_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 8, d->kind, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 9, d->payload, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 10, d->extra, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 11, d->attempts + 1);
        sqlite3_bind_double(st, 12, emu_now() + (double)(1 << d->attempts));
        sqlite3_step(st);
    }
    emu_stmt_done(st);
    emu_store_end(1);
}

/* The worker's step: delivers the first due outbox row and asks to run
 * again at once; with none due, sleeps until the next row is due, at most a
 * second (a wake-up comes first when a row is queued). */
static double sns_work(void *arg)
{
    (void)arg;
    struct sns_delivery d;
    memset(&d, 0, sizeof(d));
    double next_due = 0;
    if (sns_outbox_take(&d, &next_due)) {
        sns_deliver(&d);
        sns_delivery_release(&d);
        return 0;
    }
    double until = emu_now() + 1.0;
    return next_due > 0 && next_due < until ? next_due : until;
}

static int sns_start(void)
{
    if (emu_worker_start(&sns_worker) != 0) {
        emu_error_log("sns: cannot start the delivery worker");
        return -1;
    }
    return 0;
}

static void sns_stop(void)
{
    emu_worker_stop(&sns_worker);
}

/* ------------------------------------------------------------- registry */

static void sns_resource(struct emu_request *req, struct emu_buf *out)
{
    const char *arn = emu_form(req, "TopicArn");
    if (arn == NULL) {
        arn = emu_form(req, "TargetArn");
    }
    if (arn == NULL) {
        arn = emu_form(req, "ResourceArn");
    }
    struct evw_arn a;
    if (arn && evw_arn_parse(arn, &a) == 0) {
        emu_buf_puts(out, a.resource);
        return;
    }
    const char *sub = emu_form(req, "SubscriptionArn");
    if (sub && evw_arn_parse(sub, &a) == 0) {
        const char *c = strchr(a.resource, ':');
        emu_buf_append(out, a.resource, c ? (size_t)(c - a.resource) : strlen(a.resource));
        return;
    }
    const char *name = emu_form(req, "Name");
    if (name) {
        emu_buf_puts(out, name);
    }
}

/* The SubscribeURL / UnsubscribeURL links greenroom hands out are unsigned
 * GETs (an HTTP subscriber follows them, as on AWS): claimed here. */
static const struct emu_op sns_link_confirm = {
    "ConfirmSubscription",        NULL, NULL, NULL, sns_confirm_subscription,
    EMU_OP_WRITE | EMU_OP_NO_AUTH};
static const struct emu_op sns_link_unsubscribe = {
    "Unsubscribe", NULL, NULL, NULL, sns_unsubscribe, EMU_OP_WRITE | EMU_OP_NO_AUTH};

static const struct emu_op *sns_claim(struct emu_request *req)
{
    if (strcmp(req->method, "GET") != 0 || strcmp(req->path, "/") != 0 ||
        emu_header(req, "authorization") != NULL || emu_query(req, "X-Amz-Credential") != NULL) {
        return NULL;
    }
    const char *action = emu_query(req, "Action");
    if (action == NULL) {
        return NULL;
    }
    if (strcmp(action, "ConfirmSubscription") == 0 && emu_query(req, "TopicArn") &&
        emu_query(req, "Token")) {
        return &sns_link_confirm;
    }
    if (strcmp(action, "Unsubscribe") == 0 && emu_query(req, "SubscriptionArn")) {
        return &sns_link_unsubscribe;
    }
    return NULL;
}

static const struct emu_op sns_ops[] = {
    {"CreateTopic", NULL, NULL, NULL, sns_create_topic, EMU_OP_WRITE},
    {"DeleteTopic", NULL, NULL, NULL, sns_delete_topic, EMU_OP_WRITE},
    {"ListTopics", NULL, NULL, NULL, sns_list_topics, 0},
    {"GetTopicAttributes", NULL, NULL, NULL, sns_get_topic_attributes, 0},
    {"SetTopicAttributes", NULL, NULL, NULL, sns_set_topic_attributes, EMU_OP_WRITE},
    {"Subscribe", NULL, NULL, NULL, sns_subscribe, EMU_OP_WRITE},
    {"ConfirmSubscription", NULL, NULL, NULL, sns_confirm_subscription, EMU_OP_WRITE},
    {"Unsubscribe", NULL, NULL, NULL, sns_unsubscribe, EMU_OP_WRITE},
    {"ListSubscriptions", NULL, NULL, NULL, sns_list_subscriptions, 0},
    {"ListSubscriptionsByTopic", NULL, NULL, NULL, sns_list_subscriptions_by_topic, 0},
    {"GetSubscriptionAttributes", NULL, NULL, NULL, sns_get_subscription_attributes, 0},
    {"SetSubscriptionAttributes", NULL, NULL, NULL, sns_set_subscription_attributes, EMU_OP_WRITE},
    {"Publish", NULL, NULL, NULL, sns_publish, EMU_OP_WRITE},
    {"PublishBatch", NULL, NULL, NULL, sns_publish_batch, EMU_OP_WRITE},
    {"TagResource", NULL, NULL, NULL, sns_tag_resource, EMU_OP_WRITE},
    {"UntagResource", NULL, NULL, NULL, sns_tag_resource, EMU_OP_WRITE},
    {"ListTagsForResource", NULL, NULL, NULL, sns_tag_resource, 0},
};

const struct emu_service svc_sns = {
    .name = "sns",
    .display = "sns",
    .protocol = EMU_PROTO_QUERY,
    .xmlns = "http://sns.amazonaws.com/doc/2010-03-31/",
    .ops = sns_ops,
    .nops = sizeof(sns_ops) / sizeof(sns_ops[0]),
    .schema = sns_schema,
    .nschema = sizeof(sns_schema) / sizeof(sns_schema[0]),
    .resource = sns_resource,
    .claim = sns_claim,
    .start = sns_start,
    .stop = sns_stop,
};
