/*
 * events_wire.c - helpers shared by the event services (SNS, SQS, Events,
 * IoT): ARNs, query-protocol lists/maps, MD5, and deliveries to Lambda, SQS
 * and SNS through their real APIs (emu_call_internal, journalled).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "events_wire.h"

int evw_arn_parse(const char *arn, struct evw_arn *out)
{
    memset(out, 0, sizeof(*out));
    if (arn == NULL || strncmp(arn, "arn:", 4) != 0) {
        return -1;
    }
    const char *p = arn + 4;
    const char *f[4];
    size_t flen[4];
    /* partition, service, region, account */
    const char *colon = strchr(p, ':'); /* end of partition */
    if (colon == NULL) {
        return -1;
    }
    p = colon + 1;
    for (int i = 0; i < 3; i++) {
        colon = strchr(p, ':');
        if (colon == NULL) {
            return -1;
        }
        f[i] = p;
        flen[i] = (size_t)(colon - p);
        p = colon + 1;
    }
    f[3] = p;
    flen[3] = strlen(p);
    if (flen[0] == 0 || flen[0] >= sizeof(out->service) || flen[1] >= sizeof(out->region) ||
        flen[2] >= sizeof(out->account) || flen[3] >= sizeof(out->resource) || flen[3] == 0) {
        return -1;
    }
    memcpy(out->service, f[0], flen[0]);
    memcpy(out->region, f[1], flen[1]);
    memcpy(out->account, f[2], flen[2]);
    memcpy(out->resource, f[3], flen[3]);
    return 0;
}

int evw_retryable(const struct evw_result *r)
{
    return r->status == 429 || r->status >= 500 || strstr(r->code, "Throttl") != NULL ||
           strcmp(r->code, "TooManyRequestsException") == 0;
}

/* Fills r from an internal call's response. */
/* Runs call in-process and fills r from the answer (status, function
 * error, AWS error code). Returns r->status. */
static int evw_run(const struct emu_call *call, struct evw_result *r)
{
    struct emu_response resp;
    emu_response_init(&resp);
    emu_call_internal(call, &resp);
    r->status = resp.status;
    r->function_error = emu_kv_getci(&resp.headers, "x-amz-function-error") != NULL;
    r->code[0] = 0;
    if (resp.failed) {
        snprintf(r->code, sizeof(r->code), "%s", resp.error_code);
    } else if (resp.status >= 400) {
        const char *t = emu_kv_getci(&resp.headers, "x-amzn-errortype");
        snprintf(r->code, sizeof(r->code), "%s", t ? t : "Error");
    }
    emu_response_release(&resp);
    return r->status;
}

int evw_invoke_lambda(const char *account, const char *region, const char *function,
                      const char *payload, int async, const char *principal, const char *source_arn,
                      struct evw_result *r)
{
    char name[256] = "";
    char qualifier[128] = "";
    char acct[16];
    char reg[32];
    struct evw_arn a;
    memset(r, 0, sizeof(*r));
    snprintf(acct, sizeof(acct), "%s", account ? account : EMU_DEFAULT_ACCOUNT);
    snprintf(reg, sizeof(reg), "%s", region ? region : "us-east-1");
    if (evw_arn_parse(function, &a) == 0) {
        /* resource: function:NAME[:QUALIFIER] */
        const char *res = a.resource;
        if (strncmp(res, "function:", 9) != 0) {
            snprintf(r->code, sizeof(r->code), "InvalidFunctionArn");
            return 0;
        }
        res += 9;
        const char *c = strchr(res, ':');
        if (c) {
            snprintf(name, sizeof(name), "%.*s", (int)(c - res), res);
            snprintf(qualifier, sizeof(qualifier), "%s", c + 1);
        } else {
            snprintf(name, sizeof(name), "%s", res);
        }
        if (a.account[0]) {
            snprintf(acct, sizeof(acct), "%s", a.account);
        }
        if (a.region[0]) {
            snprintf(reg, sizeof(reg), "%s", a.region);
        }
    } else {
        const char *c = strchr(function, ':');
        if (c) {
            snprintf(name, sizeof(name), "%.*s", (int)(c - function), function);
            snprintf(qualifier, sizeof(qualifier), "%s", c + 1);
        } else {
            snprintf(name, sizeof(name), "%s", function);
        }
    }
    struct emu_buf path = {0};
    emu_buf_puts(&path, "/2015-03-31/functions/");
    emu_buf_url_encode(&path, name, strlen(name), 0);
    emu_buf_puts(&path, "/invocations");
    if (qualifier[0]) {
        emu_buf_puts(&path, "?Qualifier=");
        emu_buf_url_encode(&path, qualifier, strlen(qualifier), 0);
    }
    struct emu_kv hdrs[4];
    size_t nh = 0;
    hdrs[nh].key = "x-amz-invocation-type";
    hdrs[nh++].value = async ? "Event" : "RequestResponse";
    hdrs[nh].key = "content-type";
    hdrs[nh++].value = "application/json";
    if (principal) {
        hdrs[nh].key = "x-greenroom-source-principal";
        hdrs[nh++].value = (char *)principal;
    }
    if (source_arn) {
        hdrs[nh].key = "x-greenroom-source-arn";
        hdrs[nh++].value = (char *)source_arn;
    }
    struct emu_call call = {
        .account = acct,
        .region = reg,
        .service = "lambda",
        .method = "POST",
        .path = path.data,
        .headers = hdrs,
        .nheaders = nh,
        .body = payload,
        .body_len = strlen(payload),
        .journal = 1,
    };
    if (evw_run(&call, r) >= 400 || r->function_error) {
        emu_warn("delivery to lambda %s failed: %d %s%s", function, r->status, r->code,
                 r->function_error ? " (function error)" : "");
    }
    emu_buf_release(&path);
    return r->status;
}

int evw_sqs_send(const char *queue_arn, const char *body, const cJSON *message_attrs,
                 const char *group_id, const char *dedup_id, struct evw_result *r)
{
    struct evw_arn a;
    memset(r, 0, sizeof(*r));
    if (evw_arn_parse(queue_arn, &a) != 0 || strcmp(a.service, "sqs") != 0) {
        snprintf(r->code, sizeof(r->code), "InvalidQueueArn");
        return 0;
    }
    char url[1024];
    snprintf(url, sizeof(url), "%s/%s/%s", emu_base_url(), a.account, a.resource);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "QueueUrl", url);
    cJSON_AddStringToObject(doc, "MessageBody", body);
    if (group_id && *group_id) {
        cJSON_AddStringToObject(doc, "MessageGroupId", group_id);
    }
    if (dedup_id && *dedup_id) {
        cJSON_AddStringToObject(doc, "MessageDeduplicationId", dedup_id);
    }
    if (message_attrs && cJSON_GetArraySize(message_attrs) > 0) {
        cJSON_AddItemToObject(doc, "MessageAttributes", cJSON_Duplicate(message_attrs, 1));
    }
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    struct emu_kv hdrs[1] = {
        {"content-type", "application/x-amz-json-1.0"},
    };
    struct emu_call call = {
        .account = a.account,
        .region = a.region,
        .service = "sqs",
        .method = "POST",
        .path = "/",
        .target = "AmazonSQS.SendMessage",
        .headers = hdrs,
        .nheaders = 1,
        .body = text ? text : "{}",
        .body_len = text ? strlen(text) : 2,
        .journal = 1,
    };
    if (evw_run(&call, r) >= 400) {
        emu_warn("delivery to sqs %s failed: %d %s", queue_arn, r->status, r->code);
    }
    free(text);
    return r->status;
}

int evw_sns_publish(const char *topic_arn, const char *subject, const char *message,
                    struct evw_result *r)
{
    struct evw_arn a;
    memset(r, 0, sizeof(*r));
    if (evw_arn_parse(topic_arn, &a) != 0 || strcmp(a.service, "sns") != 0) {
        snprintf(r->code, sizeof(r->code), "InvalidTopicArn");
        return 0;
    }
    struct emu_buf body = {0};
    emu_buf_puts(&body, "Action=Publish&Version=2010-03-31&TopicArn=");
    emu_buf_url_encode(&body, topic_arn, strlen(topic_arn), 0);
    emu_buf_puts(&body, "&Message=");
    emu_buf_url_encode(&body, message, strlen(message), 0);
    if (subject && subject[0]) {
        emu_buf_puts(&body, "&Subject=");
        emu_buf_url_encode(&body, subject, strlen(subject), 0);
    }
    struct emu_kv hdrs[1] = {
        {"content-type", "application/x-www-form-urlencoded; charset=utf-8"},
    };
    struct emu_call call = {
        .account = a.account,
        .region = a.region,
        .service = "sns",
        .method = "POST",
        .path = "/",
        .headers = hdrs,
        .nheaders = 1,
        .body = body.data,
        .body_len = body.len,
        .journal = 1,
    };
    if (evw_run(&call, r) >= 400) {
        emu_warn("delivery to sns %s failed: %d %s", topic_arn, r->status, r->code);
    }
    emu_buf_release(&body);
    return r->status;
}

int evw_deliver(const char *target_arn, const char *payload, const char *principal,
                const char *source_arn, struct evw_result *r)
{
    struct evw_arn a;
    memset(r, 0, sizeof(*r));
    if (evw_arn_parse(target_arn, &a) != 0) {
        snprintf(r->code, sizeof(r->code), "InvalidTargetArn");
        return 0;
    }
    if (strcmp(a.service, "lambda") == 0) {
        return evw_invoke_lambda(a.account, a.region, target_arn, payload, 1, principal, source_arn,
                                 r);
    }
    if (strcmp(a.service, "sqs") == 0) {
        return evw_sqs_send(target_arn, payload, NULL, NULL, NULL, r);
    }
    if (strcmp(a.service, "sns") == 0) {
        return evw_sns_publish(target_arn, NULL, payload, r);
    }
    snprintf(r->code, sizeof(r->code), "UnsupportedTarget");
    emu_warn("target %s: service %s is not delivered by greenroom", target_arn, a.service);
    return 0;
}

cJSON *evw_form_list(const struct emu_request *req, const char *prefix)
{
    cJSON *arr = cJSON_CreateArray();
    char key[256];
    for (int i = 1; i <= 1000; i++) {
        snprintf(key, sizeof(key), "%s.%d", prefix, i);
        const char *v = emu_form(req, key);
        if (v == NULL) {
            break;
        }
        cJSON_AddItemToArray(arr, cJSON_CreateString(v));
    }
    return arr;
}

cJSON *evw_form_map(const struct emu_request *req, const char *prefix, const char *kname,
                    const char *vname)
{
    cJSON *obj = cJSON_CreateObject();
    char key[256];
    for (int i = 1; i <= 1000; i++) {
        snprintf(key, sizeof(key), "%s.%d.%s", prefix, i, kname);
        const char *k = emu_form(req, key);
        if (k == NULL) {
            break;
        }
        snprintf(key, sizeof(key), "%s.%d.%s", prefix, i, vname);
        const char *v = emu_form(req, key);
        cJSON_DeleteItemFromObjectCaseSensitive(obj, k);
        cJSON_AddItemToObject(obj, k, cJSON_CreateString(v ? v : ""));
    }
    return obj;
}

cJSON *evw_form_msg_attrs(const struct emu_request *req, const char *prefix)
{
    static const char *const fields[] = {"DataType", "StringValue", "BinaryValue"};
    cJSON *obj = cJSON_CreateObject();
    char key[256];
    for (int i = 1; i <= 1000; i++) {
        snprintf(key, sizeof(key), "%s.%d.Name", prefix, i);
        const char *k = emu_form(req, key);
        if (k == NULL) {
            break;
        }
        cJSON *val = cJSON_CreateObject();
        for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
            snprintf(key, sizeof(key), "%s.%d.Value.%s", prefix, i, fields[f]);
            const char *v = emu_form(req, key);
            if (v) {
                cJSON_AddStringToObject(val, fields[f], v);
            }
        }
        cJSON_DeleteItemFromObjectCaseSensitive(obj, k);
        cJSON_AddItemToObject(obj, k, val);
    }
    return obj;
}

void evw_md5_hex(const void *data, size_t len, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL) != 1 || mdlen != 16) {
        memset(out, '0', 32);
        out[32] = 0;
        return;
    }
    emu_hex(md, 16, out);
}

const char *evw_json_str(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

double evw_schedule_scale(void)
{
    const char *s = getenv("GREENROOM_SCHEDULE_SCALE");
    if (s == NULL || *s == 0) {
        return 1.0;
    }
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || *end != 0 || !(v > 0.0) || v > 1000.0) {
        return 1.0;
    }
    return v;
}
