/*
 * s3_notify.c - S3 event notifications: PutBucketNotificationConfiguration,
 * GetBucketNotificationConfiguration, and delivery to Lambda.
 *
 * The configuration is validated and stored as JSON in
 * s3_buckets.notification (shape of the model's NotificationConfiguration).
 * A handler that changes an object calls s3_notify() inside its transaction:
 * matching LambdaFunctionConfigurations (event names with wildcards,
 * prefix/suffix filter rules) become rows of s3_events, so an event exists
 * exactly when its change committed. The S3 worker thread (svc_s3.c) then
 * takes the rows and invokes each function asynchronously through Lambda's
 * public API (Invoke, X-Amz-Invocation-Type: Event) with the S3 source
 * principal and ARN, outside any transaction. As in AWS, a Lambda
 * destination is validated when the configuration is written: the function
 * must exist and allow s3.amazonaws.com (Lambda GetPolicy). Topic and queue
 * destinations get the same record through SNS Publish / SQS SendMessage.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "events_wire.h"
#include "s3_int.h"

static const char *const s3_events_known[] = {
    "s3:ReducedRedundancyLostObject",
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post",
    "s3:ObjectRestore:Completed",
    "s3:Replication:*",
    "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationNotTracked",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:ObjectRestore:Delete",
    "s3:LifecycleTransition",
    "s3:IntelligentTiering",
    "s3:ObjectAcl:Put",
    "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put",
    "s3:ObjectTagging:Delete",
    NULL,
};

/* The three destination kinds: XML element, XML ARN element, JSON list, JSON ARN. */
static const struct {
    const char *elem;
    const char *arn_elem;
    const char *list;
    const char *arn;
    const char *arn_prefix;
} s3_dest[] = {
    {"TopicConfiguration", "Topic", "TopicConfigurations", "TopicArn", "arn:aws:sns:"},
    {"QueueConfiguration", "Queue", "QueueConfigurations", "QueueArn", "arn:aws:sqs:"},
    {"CloudFunctionConfiguration", "CloudFunction", "LambdaFunctionConfigurations",
     "LambdaFunctionArn", "arn:aws:lambda:"},
};

static int s3_event_known(const char *e)
{
    for (size_t i = 0; s3_events_known[i] != NULL; i++) {
        if (strcmp(s3_events_known[i], e) == 0) {
            return 1;
        }
    }
    return 0;
}

static void s3_bad_arg(struct emu_response *resp, const char *msg, const char *name,
                       const char *value)
{
    emu_fail(resp, S3_INVALID_ARGUMENT, "%s", msg);
    emu_fail_extra(resp, "ArgumentName", name);
    emu_fail_extra(resp, "ArgumentValue", value != NULL ? value : "");
}

/* One <XConfiguration> into JSON. Returns the object or NULL (resp failed). */
static cJSON *s3_parse_dest(struct emu_response *resp, const struct s3_xml *c, size_t kind)
{
    cJSON *o = cJSON_CreateObject();
    const char *id = s3_xml_text(c, "Id");
    const char *arn = s3_xml_text(c, s3_dest[kind].arn_elem);
    if (arn == NULL) {
        /* Some clients send the long element names (LambdaFunctionArn, ...). */
        arn = s3_xml_text(c, s3_dest[kind].arn);
    }
    if (arn == NULL || arn[0] == 0) {
        emu_fail(resp, S3_MALFORMED_XML, NULL);
        goto fail;
    }
    if (strncmp(arn, s3_dest[kind].arn_prefix, strlen(s3_dest[kind].arn_prefix)) != 0) {
        s3_bad_arg(resp, "Unable to validate the following destination configurations", arn,
                   "The destination ARN is not valid");
        goto fail;
    }
    if (id != NULL && id[0] != 0) {
        cJSON_AddStringToObject(o, "Id", id);
    } else {
        char gen[37];
        emu_uuid(gen);
        cJSON_AddStringToObject(o, "Id", gen);
    }
    cJSON_AddStringToObject(o, s3_dest[kind].arn, arn);
    cJSON *events = cJSON_AddArrayToObject(o, "Events");
    for (struct s3_xml *e = s3_xml_child(c, "Event"); e != NULL; e = s3_xml_next(e)) {
        if (!s3_event_known(e->text)) {
            s3_bad_arg(resp, "The event is not supported for notifications", "Event", e->text);
            goto fail;
        }
        cJSON_AddItemToArray(events, cJSON_CreateString(e->text));
    }
    if (cJSON_GetArraySize(events) == 0) {
        emu_fail(resp, S3_MALFORMED_XML, NULL);
        goto fail;
    }
    struct s3_xml *f = s3_xml_child(c, "Filter");
    if (f != NULL) {
        struct s3_xml *k = s3_xml_child(f, "S3Key");
        cJSON *rules = cJSON_CreateArray();
        cJSON *filter = cJSON_AddObjectToObject(o, "Filter");
        cJSON *key = cJSON_AddObjectToObject(filter, "Key");
        cJSON_AddItemToObject(key, "FilterRules", rules);
        int have_prefix = 0, have_suffix = 0;
        for (struct s3_xml *r = s3_xml_child(k, "FilterRule"); r != NULL; r = s3_xml_next(r)) {
            const char *n = s3_xml_text(r, "Name");
            const char *v = s3_xml_text(r, "Value");
            if (n == NULL || v == NULL) {
                emu_fail(resp, S3_MALFORMED_XML, NULL);
                goto fail;
            }
            int *seen = strcasecmp(n, "prefix") == 0   ? &have_prefix
                        : strcasecmp(n, "suffix") == 0 ? &have_suffix
                                                       : NULL;
            if (seen == NULL) {
                s3_bad_arg(resp, "filter rule name must be either prefix or suffix", "FilterRule",
                           n);
                goto fail;
            }
            if (*seen) {
                s3_bad_arg(resp, "Cannot specify more than one prefix or suffix rule in a filter.",
                           "FilterRule", n);
                goto fail;
            }
            *seen = 1;
            cJSON *rule = cJSON_CreateObject();
            cJSON_AddStringToObject(rule, "Name", seen == &have_prefix ? "Prefix" : "Suffix");
            cJSON_AddStringToObject(rule, "Value", v);
            cJSON_AddItemToArray(rules, rule);
        }
    }
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

/* Does a JSON value (string or array of strings) contain want, or a
 * wildcard pattern matching it ("lambda:*", "*")? */
static int s3_json_has(const cJSON *v, const char *want)
{
    if (cJSON_IsString(v)) {
        return fnmatch(v->valuestring, want, 0) == 0;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        if (cJSON_IsString(e) && fnmatch(e->valuestring, want, 0) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Does a Lambda resource policy let S3 (for this bucket and owner) invoke? */
static int s3_policy_allows_s3(const cJSON *policy, const char *bucket_arn, const char *account)
{
    const cJSON *stmts = cJSON_GetObjectItem(policy, "Statement");
    const cJSON *st;
    cJSON_ArrayForEach(st, stmts)
    {
        const cJSON *eff = cJSON_GetObjectItem(st, "Effect");
        const cJSON *pr = cJSON_GetObjectItem(st, "Principal");
        if (!cJSON_IsString(eff) || strcmp(eff->valuestring, "Allow") != 0) {
            continue;
        }
        if (!(s3_json_has(pr, "s3.amazonaws.com") ||
              s3_json_has(cJSON_GetObjectItem(pr, "Service"), "s3.amazonaws.com"))) {
            continue;
        }
        if (!s3_json_has(cJSON_GetObjectItem(st, "Action"), "lambda:InvokeFunction")) {
            continue;
        }
        int ok = 1;
        const cJSON *op;
        cJSON_ArrayForEach(op, cJSON_GetObjectItem(st, "Condition"))
        {
            const cJSON *arn = cJSON_GetObjectItem(op, "AWS:SourceArn");
            const cJSON *acct = cJSON_GetObjectItem(op, "AWS:SourceAccount");
            if (arn != NULL && !s3_json_has(arn, bucket_arn)) {
                ok = 0;
            }
            if (acct != NULL && !s3_json_has(acct, account)) {
                ok = 0;
            }
        }
        if (ok) {
            return 1;
        }
    }
    return 0;
}

/* As S3 does when a configuration is written: the function must exist and
 * its resource policy must let S3 invoke it for this bucket. Asks Lambda's
 * GetPolicy through the public API. Returns 0, or -1 with resp failed. */
static int s3_validate_lambda_dest(const struct emu_request *req, struct emu_response *resp,
                                   const struct s3_bucket *b, const char *fn)
{
    char region[32], account[16], name[256], qual[128] = "";
    if (emu_service_find("lambda") == NULL) {
        return 0;
    }
    if (sscanf(fn + strlen("arn:aws:lambda:"), "%31[^:]:%15[^:]:function:%255[^:]:%127s", region,
               account, name, qual) < 3) {
        s3_bad_arg(resp, "Unable to validate the following destination configurations", fn,
                   "The destination ARN is not valid");
        return -1;
    }
    struct emu_buf path = {0};
    emu_buf_puts(&path, "/2015-03-31/functions/");
    emu_buf_url_encode(&path, name, strlen(name), 0);
    emu_buf_puts(&path, "/policy");
    if (qual[0] != 0) {
        emu_buf_puts(&path, "?Qualifier=");
        emu_buf_url_encode(&path, qual, strlen(qual), 0);
    }
    struct emu_call call = {
        .account = account,
        .region = region,
        .service = "lambda",
        .method = "GET",
        .path = path.data,
    };
    struct emu_response lr;
    emu_response_init(&lr);
    int status = emu_call_internal(&call, &lr);
    int ok = 0;
    if (status == 200) {
        cJSON *doc = cJSON_ParseWithLength(lr.body.data ? lr.body.data : "", lr.body.len);
        const char *pol = cJSON_GetStringValue(cJSON_GetObjectItem(doc, "Policy"));
        cJSON *policy = pol != NULL ? cJSON_Parse(pol) : NULL;
        char src[128];
        snprintf(src, sizeof(src), "arn:aws:s3:::%s", b->name);
        ok = s3_policy_allows_s3(policy, src, b->account);
        cJSON_Delete(policy);
        cJSON_Delete(doc);
    }
    emu_response_release(&lr);
    emu_buf_release(&path);
    (void)req;
    if (!ok) {
        char msg[600];
        snprintf(msg, sizeof(msg), "Not authorized to invoke function [%s]", fn);
        s3_bad_arg(resp, "Unable to validate the following destination configurations", fn, msg);
        return -1;
    }
    return 0;
}

void s3_put_bucket_notification_configuration(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    cJSON *doc = NULL;
    char *json = NULL;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0) {
        return;
    }
    struct s3_xml *x = s3_body_xml(req, resp);
    if (x == NULL) {
        return;
    }
    if (strcmp(x->name, "NotificationConfiguration") != 0) {
        emu_fail(resp, S3_MALFORMED_XML, NULL);
        goto out;
    }
    doc = cJSON_CreateObject();
    cJSON *ids = cJSON_CreateArray();
    for (size_t kind = 0; kind < sizeof(s3_dest) / sizeof(s3_dest[0]); kind++) {
        cJSON *list = NULL;
        for (struct s3_xml *c = s3_xml_child(x, s3_dest[kind].elem); c != NULL;
             c = s3_xml_next(c)) {
            cJSON *o = s3_parse_dest(resp, c, kind);
            if (o == NULL) {
                cJSON_Delete(ids);
                goto out;
            }
            const char *id = cJSON_GetObjectItem(o, "Id")->valuestring;
            cJSON *seen;
            cJSON_ArrayForEach(seen, ids)
            {
                if (strcmp(seen->valuestring, id) == 0) {
                    cJSON_Delete(o);
                    cJSON_Delete(ids);
                    s3_bad_arg(resp, "Configuration id must be unique", "Id", id);
                    goto out;
                }
            }
            cJSON_AddItemToArray(ids, cJSON_CreateString(id));
            if (list == NULL) {
                list = cJSON_AddArrayToObject(doc, s3_dest[kind].list);
            }
            cJSON_AddItemToArray(list, o);
        }
    }
    cJSON_Delete(ids);
    cJSON *lc;
    cJSON_ArrayForEach(lc, cJSON_GetObjectItem(doc, "LambdaFunctionConfigurations"))
    {
        const char *fn = cJSON_GetStringValue(cJSON_GetObjectItem(lc, "LambdaFunctionArn"));
        if (fn == NULL || s3_validate_lambda_dest(req, resp, &b, fn) != 0) {
            goto out;
        }
    }
    if (s3_xml_child(x, "EventBridgeConfiguration") != NULL) {
        cJSON_AddTrueToObject(doc, "EventBridgeConfiguration");
    }
    json = cJSON_PrintUnformatted(doc);
    sqlite3_stmt *st = emu_stmt("UPDATE s3_buckets SET notification = ? WHERE name = ?");
    if (st == NULL) {
        s3_internal(resp, "notification");
        goto out;
    }
    if (cJSON_GetArraySize(doc) > 0) {
        sqlite3_bind_text(st, 1, json, -1, SQLITE_TRANSIENT);
    }
    sqlite3_bind_text(st, 2, b.name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    emu_stmt_done(st);
    if (rc != SQLITE_DONE) {
        s3_internal(resp, "notification");
        goto out;
    }
    resp->status = 200;
out:
    free(json);
    cJSON_Delete(doc);
    s3_xml_free(x);
}

static char *s3_notification_json(const char *bucket)
{
    char *v = NULL;
    sqlite3_stmt *st = emu_stmt("SELECT notification FROM s3_buckets WHERE name = ?");
    if (st == NULL) {
        return NULL;
    }
    sqlite3_bind_text(st, 1, bucket, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        v = emu_col_dup(st, 0);
    }
    emu_stmt_done(st);
    return v;
}

void s3_get_bucket_notification_configuration(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0) {
        return;
    }
    char *json = s3_notification_json(b.name);
    cJSON *doc = json != NULL ? cJSON_Parse(json) : NULL;
    free(json);
    struct emu_buf x = {0};
    emu_buf_puts(&x, "<NotificationConfiguration xmlns=\"" S3_NS "\">");
    for (size_t kind = 0; kind < sizeof(s3_dest) / sizeof(s3_dest[0]); kind++) {
        cJSON *o;
        cJSON_ArrayForEach(o, cJSON_GetObjectItem(doc, s3_dest[kind].list))
        {
            emu_buf_printf(&x, "<%s>", s3_dest[kind].elem);
            emu_buf_xml_elem(&x, "Id", cJSON_GetStringValue(cJSON_GetObjectItem(o, "Id")));
            emu_buf_xml_elem(&x, s3_dest[kind].arn_elem,
                             cJSON_GetStringValue(cJSON_GetObjectItem(o, s3_dest[kind].arn)));
            cJSON *e;
            cJSON_ArrayForEach(e, cJSON_GetObjectItem(o, "Events"))
            {
                emu_buf_xml_elem(&x, "Event", e->valuestring);
            }
            cJSON *rules = cJSON_GetObjectItem(
                cJSON_GetObjectItem(cJSON_GetObjectItem(o, "Filter"), "Key"), "FilterRules");
            if (rules != NULL) {
                emu_buf_puts(&x, "<Filter><S3Key>");
                cJSON *r;
                cJSON_ArrayForEach(r, rules)
                {
                    emu_buf_puts(&x, "<FilterRule>");
                    emu_buf_xml_elem(&x, "Name",
                                     cJSON_GetStringValue(cJSON_GetObjectItem(r, "Name")));
                    emu_buf_xml_elem(&x, "Value",
                                     cJSON_GetStringValue(cJSON_GetObjectItem(r, "Value")));
                    emu_buf_puts(&x, "</FilterRule>");
                }
                emu_buf_puts(&x, "</S3Key></Filter>");
            }
            emu_buf_printf(&x, "</%s>", s3_dest[kind].elem);
        }
    }
    if (cJSON_IsTrue(cJSON_GetObjectItem(doc, "EventBridgeConfiguration"))) {
        emu_buf_puts(&x, "<EventBridgeConfiguration/>");
    }
    emu_buf_puts(&x, "</NotificationConfiguration>");
    cJSON_Delete(doc);
    emu_resp_xml(resp, 200, x.data);
    emu_buf_release(&x);
}

/* Does configuration o (JSON) want this event for this key? */
static int s3_config_matches(const cJSON *o, const char *event, const char *key)
{
    int hit = 0;
    cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(o, "Events"))
    {
        const char *n = e->valuestring;
        if (n == NULL || strncmp(n, "s3:", 3) != 0) {
            continue;
        }
        n += 3;
        size_t len = strlen(n);
        if (len > 0 && n[len - 1] == '*') {
            hit |= strncmp(n, event, len - 1) == 0;
        } else {
            hit |= strcmp(n, event) == 0;
        }
    }
    if (!hit) {
        return 0;
    }
    cJSON *r;
    cJSON_ArrayForEach(
        r, cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "Filter"), "Key"),
                               "FilterRules"))
    {
        const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(r, "Name"));
        const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(r, "Value"));
        if (n == NULL || v == NULL) {
            continue;
        }
        size_t vl = strlen(v), kl = strlen(key);
        if (strcasecmp(n, "prefix") == 0 && strncmp(key, v, vl) != 0) {
            return 0;
        }
        if (strcasecmp(n, "suffix") == 0 && (kl < vl || strcmp(key + kl - vl, v) != 0)) {
            return 0;
        }
    }
    return 1;
}

/* The key as S3 writes it in event records: URL-encoded, spaces as '+'. */
static char *s3_event_key(const char *key)
{
    struct emu_buf b = {0};
    for (const char *p = key; *p; p++) {
        if (*p == ' ') {
            emu_buf_puts(&b, "+");
        } else {
            emu_buf_url_encode(&b, p, 1, 1);
        }
    }
    if (b.data == NULL) {
        emu_buf_puts(&b, "");
    }
    return emu_buf_take(&b);
}

void s3_notify(const struct emu_request *req, const struct s3_bucket *b, const char *key,
               const char *event, int64_t size, const char *etag, const char *version)
{
    char *json = s3_notification_json(b->name);
    if (json == NULL) {
        return;
    }
    cJSON *doc = cJSON_Parse(json);
    free(json);
    cJSON *o;
    int queued = 0;
    /* one record per matching configuration, whatever its destination */
    static const char *const kinds[][2] = {
        {"LambdaFunctionConfigurations", "LambdaFunctionArn"},
        {"TopicConfigurations", "TopicArn"},
        {"QueueConfigurations", "QueueArn"},
    };
    for (size_t kind = 0; kind < sizeof(kinds) / sizeof(kinds[0]); kind++) {
        cJSON_ArrayForEach(o, cJSON_GetObjectItem(doc, kinds[kind][0]))
        {
            const char *fn = cJSON_GetStringValue(cJSON_GetObjectItem(o, kinds[kind][1]));
            if (fn == NULL || !s3_config_matches(o, event, key)) {
                continue;
            }
            char t[32], owner[65], seq[24], src[128];
            emu_time_iso(t, emu_now());
            s3_owner_id(b->account, owner);
            snprintf(seq, sizeof(seq), "%016llX", (unsigned long long)(emu_now() * 1e6));
            snprintf(src, sizeof(src), "arn:aws:s3:::%s", b->name);
            cJSON *root = cJSON_CreateObject();
            cJSON *recs = cJSON_AddArrayToObject(root, "Records");
            cJSON *r = cJSON_CreateObject();
            cJSON_AddItemToArray(recs, r);
            cJSON_AddStringToObject(r, "eventVersion", "2.1");
            cJSON_AddStringToObject(r, "eventSource", "aws:s3");
            cJSON_AddStringToObject(r, "awsRegion", b->region);
            cJSON_AddStringToObject(r, "eventTime", t);
            cJSON_AddStringToObject(r, "eventName", event);
            cJSON *ui = cJSON_AddObjectToObject(r, "userIdentity");
            char principal[64];
            snprintf(principal, sizeof(principal), "AWS:%s", req->account);
            cJSON_AddStringToObject(ui, "principalId", principal);
            cJSON *rp = cJSON_AddObjectToObject(r, "requestParameters");
            cJSON_AddStringToObject(rp, "sourceIPAddress", "127.0.0.1");
            cJSON *re = cJSON_AddObjectToObject(r, "responseElements");
            cJSON_AddStringToObject(re, "x-amz-request-id", req->request_id);
            cJSON_AddStringToObject(re, "x-amz-id-2", req->request_id);
            cJSON *s3 = cJSON_AddObjectToObject(r, "s3");
            cJSON_AddStringToObject(s3, "s3SchemaVersion", "1.0");
            cJSON_AddStringToObject(s3, "configurationId",
                                    cJSON_GetStringValue(cJSON_GetObjectItem(o, "Id")));
            cJSON *bk = cJSON_AddObjectToObject(s3, "bucket");
            cJSON_AddStringToObject(bk, "name", b->name);
            cJSON *oi = cJSON_AddObjectToObject(bk, "ownerIdentity");
            cJSON_AddStringToObject(oi, "principalId", owner);
            cJSON_AddStringToObject(bk, "arn", src);
            cJSON *ob = cJSON_AddObjectToObject(s3, "object");
            char *ek = s3_event_key(key);
            cJSON_AddStringToObject(ob, "key", ek);
            free(ek);
            if (strncmp(event, "ObjectCreated:", 14) == 0) {
                cJSON_AddNumberToObject(ob, "size", (double)size);
                if (etag != NULL) {
                    cJSON_AddStringToObject(ob, "eTag", etag);
                }
            }
            if (version != NULL && strcmp(version, "null") != 0) {
                cJSON_AddStringToObject(ob, "versionId", version);
            }
            cJSON_AddStringToObject(ob, "sequencer", seq);
            char *payload = cJSON_PrintUnformatted(root);
            cJSON_Delete(root);
            sqlite3_stmt *st = emu_stmt("INSERT INTO s3_events(account, region, function_arn,"
                                        " source_arn, payload) VALUES (?, ?, ?, ?, ?)");
            if (st != NULL && payload != NULL) {
                sqlite3_bind_text(st, 1, b->account, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(st, 2, b->region, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(st, 3, fn, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(st, 4, src, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(st, 5, payload, -1, SQLITE_TRANSIENT);
                sqlite3_step(st);
                queued = 1;
            }
            emu_stmt_done(st);
            free(payload);
        }
    }
    cJSON_Delete(doc);
    if (queued) {
        s3_worker_kick();
    }
}

struct s3_event_row {
    char account[16];
    char region[32];
    char *fn;
    char *src;
    char *payload;
};

/* Delivers one record: an SNS topic gets it published (subject "Amazon S3
 * Notification", as S3 does), an SQS queue gets it as a message, a Lambda
 * function (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:Q]) is invoked
 * asynchronously. */
static void s3_deliver_one(const struct s3_event_row *e)
{
    char region[32], account[16], name[256], qual[128] = "";
    const char *p = e->fn;
    if (strncmp(p, "arn:aws:sns:", 12) == 0 || strncmp(p, "arn:aws:sqs:", 12) == 0) {
        struct evw_result r;
        memset(&r, 0, sizeof(r));
        if (strncmp(p, "arn:aws:sns:", 12) == 0) {
            evw_sns_publish(p, "Amazon S3 Notification", e->payload, &r);
        } else {
            evw_sqs_send(p, e->payload, NULL, NULL, NULL, &r);
        }
        if (r.status < 200 || r.status > 299) {
            emu_warn("s3: notification to %s failed: %d %s", p, r.status, r.code);
        }
        return;
    }
    if (strncmp(p, "arn:aws:lambda:", 15) != 0) {
        emu_warn("s3: notification to %s skipped: not a Lambda, SNS or SQS ARN", e->fn);
        return;
    }
    p += 15;
    int n = sscanf(p, "%31[^:]:%15[^:]:function:%255[^:]:%127s", region, account, name, qual);
    if (n < 3) {
        emu_warn("s3: bad Lambda ARN %s", e->fn);
        return;
    }
    struct emu_buf path = {0};
    emu_buf_puts(&path, "/2015-03-31/functions/");
    emu_buf_url_encode(&path, name, strlen(name), 0);
    emu_buf_puts(&path, "/invocations");
    if (qual[0] != 0) {
        emu_buf_puts(&path, "?Qualifier=");
        emu_buf_url_encode(&path, qual, strlen(qual), 0);
    }
    struct emu_kv hdrs[] = {
        {"x-amz-invocation-type", "Event"},   {"x-greenroom-source-principal", "s3.amazonaws.com"},
        {"x-greenroom-source-arn", e->src},   {"x-greenroom-source-account", (char *)e->account},
        {"content-type", "application/json"},
    };
    struct emu_call call = {
        .account = account,
        .region = region,
        .service = "lambda",
        .method = "POST",
        .path = path.data,
        .headers = hdrs,
        .nheaders = sizeof(hdrs) / sizeof(hdrs[0]),
        .body = e->payload,
        .body_len = strlen(e->payload),
        .journal = 1,
    };
    struct emu_response resp;
    emu_response_init(&resp);
    int status = emu_call_internal(&call, &resp);
    if (status < 200 || status > 299) {
        emu_warn("s3: notification to %s failed: %d %s", e->fn, status, resp.error_code);
    }
    emu_response_release(&resp);
    emu_buf_release(&path);
}

void s3_notify_deliver(void)
{
    for (;;) {
        struct s3_event_row rows[32];
        size_t n = 0;
        if (emu_store_begin(1) != 0) {
            return;
        }
        sqlite3_stmt *st = emu_stmt("SELECT id, account, region, function_arn, source_arn, payload"
                                    " FROM s3_events ORDER BY id LIMIT 32");
        int64_t last = 0;
        while (st != NULL && n < 32 && sqlite3_step(st) == SQLITE_ROW) {
            struct s3_event_row *r = &rows[n++];
            last = sqlite3_column_int64(st, 0);
            snprintf(r->account, sizeof(r->account), "%s", sqlite3_column_text(st, 1));
            snprintf(r->region, sizeof(r->region), "%s", sqlite3_column_text(st, 2));
            r->fn = emu_col_dup(st, 3);
            r->src = emu_col_dup(st, 4);
            r->payload = emu_col_dup(st, 5);
        }
        emu_stmt_done(st);
        if (n > 0) {
            st = emu_stmt("DELETE FROM s3_events WHERE id <= ?");
            if (st != NULL) {
                sqlite3_bind_int64(st, 1, last);
                sqlite3_step(st);
            }
            emu_stmt_done(st);
        }
        emu_store_end(1);
        for (size_t i = 0; i < n; i++) {
            s3_deliver_one(&rows[i]);
            free(rows[i].fn);
            free(rows[i].src);
            free(rows[i].payload);
        }
        if (n < 32) {
            return;
        }
    }
}
