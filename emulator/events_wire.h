/*
 * events_wire.h - helpers shared by greenroom's event services (SNS, SQS,
 * CloudWatch Events, IoT): ARN parsing, query-protocol form lists and maps,
 * and delivery to targets (Lambda, SQS, SNS) through the target service's
 * real API with emu_call_internal (journalled, so every delivery shows up in
 * /_greenroom/calls).
 *
 * Delivery functions never hold the store lock while the target runs: call
 * them from a worker thread, outside emu_store_begin/emu_store_end.
 */
#ifndef EVENTS_WIRE_H
#define EVENTS_WIRE_H

#include <stddef.h>

#include "emu.h"

/* "arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE" split into fields. */
struct evw_arn {
    char service[32];
    char region[32];
    char account[16];
    char resource[512]; /* everything after the 5th colon */
};

/* Returns 0 and fills out, or -1 when arn is not an ARN (or too long). */
int evw_arn_parse(const char *arn, struct evw_arn *out);

/* The outcome of one delivery. */
struct evw_result {
    int status;         /* HTTP status of the target call, 0 when none was made */
    int function_error; /* Lambda answered with X-Amz-Function-Error */
    char code[96];      /* AWS error code of the target, "" on success */
};

/* 1 when a failed delivery is worth retrying (throttling, 5xx). */
int evw_retryable(const struct evw_result *r);

/* Invokes a Lambda function through Lambda's Invoke API. function is a
 * function ARN (optionally with :qualifier) or a plain name (then account
 * and region say where it lives). async: X-Amz-Invocation-Type Event, else
 * RequestResponse. principal/source_arn (may be NULL) become the internal
 * headers Lambda checks against the function policy. payload is borrowed.
 * Returns r->status. */
int evw_invoke_lambda(const char *account, const char *region, const char *function,
                      const char *payload, int async, const char *principal, const char *source_arn,
                      struct evw_result *r);

/* Sends body to the SQS queue named by queue_arn (SendMessage). message_attrs
 * may be NULL or a cJSON object in SQS's JSON shape (borrowed); group_id and
 * dedup_id (FIFO queues) may be NULL. Returns r->status. */
int evw_sqs_send(const char *queue_arn, const char *body, const cJSON *message_attrs,
                 const char *group_id, const char *dedup_id, struct evw_result *r);

/* Publishes message (subject may be NULL) to the SNS topic topic_arn.
 * Returns r->status. */
int evw_sns_publish(const char *topic_arn, const char *subject, const char *message,
                    struct evw_result *r);

/* Delivers payload to a target ARN of any supported kind (lambda: async
 * invoke with principal/source_arn; sqs: SendMessage; sns: Publish).
 * Returns r->status; 0 and r->code "UnsupportedTarget" for other kinds. */
int evw_deliver(const char *target_arn, const char *payload, const char *principal,
                const char *source_arn, struct evw_result *r);

/* Query protocol: the values of "prefix.1", "prefix.2", ... (stops at the
 * first gap) as a new cJSON array of strings (caller deletes). */
cJSON *evw_form_list(const struct emu_request *req, const char *prefix);
/* Query protocol map "prefix.N.kname" / "prefix.N.vname" as a new cJSON
 * object of strings (caller deletes). */
cJSON *evw_form_map(const struct emu_request *req, const char *prefix, const char *kname,
                    const char *vname);
/* Query protocol message attributes "prefix.N.Name" with
 * "prefix.N.Value.{DataType,StringValue,BinaryValue}" as a new cJSON object
 * {name: {DataType, StringValue|BinaryValue}} (caller deletes). */
cJSON *evw_form_msg_attrs(const struct emu_request *req, const char *prefix);

/* Lower-case hex MD5 of data[0..len) into out. */
void evw_md5_hex(const void *data, size_t len, char out[33]);

/* A cJSON string member's value (borrowed) or NULL when absent/not a string. */
const char *evw_json_str(const cJSON *obj, const char *name);

/* Multiplier for rate() schedules from GREENROOM_SCHEDULE_SCALE (test hook,
 * default 1.0): 0.01 makes rate(1 minute) fire every 0.6 s. */
double evw_schedule_scale(void);

#endif
