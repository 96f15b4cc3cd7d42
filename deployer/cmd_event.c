/*
 * cmd_event.c - `event deploy` (v0.5 section 2.5), one event at a time.
 *
 * Target: the alias ARN arn:aws:lambda:R:ACCT:function:P-F:S.
 *   sns:      RemovePermission{aliasArn, sid, Qualifier S} (not-found
 *             ignored), AddPermission{sns.amazonaws.com, Qualifier S},
 *             SNS Subscribe{lambda, TopicArn, aliasArn} in the topic's region.
 *   s3:       Remove/AddPermission{s3.amazonaws.com, SourceArn
 *             arn:aws:s3:::bucket}, GetBucketNotificationConfiguration,
 *             replace-or-insert this alias's LambdaFunctionConfiguration,
 *             PutBucketNotificationConfiguration (whole document).
 *   schedule: PutRule{P-F-event-S, ScheduleExpression, State},
 *             Remove/AddPermission{events.amazonaws.com}, PutTargets.
 *   dynamodbstream/kinesisstream: UpdateEventSourceMapping when variable
 *             eventID:<name> exists, else CreateEventSourceMapping and the
 *             UUID is saved in the region variables.
 *   iot:      RemovePermission, GetTopicRule -> Replace|CreateTopicRule,
 *             AddPermission{iot.amazonaws.com}.
 * Unlike v0.5 (which only logged), any failed event makes the command
 * exit non-zero (4 when others succeeded, 1 when all failed); a
 * RemovePermission failure other than not-found fails the event too.
 */
#include "dep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEP "event deploy"

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int not_found(const struct dep_err *err)
{
    return err->kind == DEP_ERR_AWS &&
           (strcmp(err->code, "ResourceNotFoundException") == 0 || err->http_status == 404);
}

/* RemovePermission (not-found ignored) then AddPermission. */
static int replace_permission(struct dep_ctx *c, const char *alias_arn, const char *alias,
                              const char *sid, const char *principal, const char *source_arn,
                              struct dep_err *err)
{
    cJSON *req;
    int rc;

    if (dep_lambda_remove_permission(c->region, alias_arn, sid, alias, err) < 0 &&
        !not_found(err)) {
        return -1;
    }
    req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "StatementId", sid);
    cJSON_AddStringToObject(req, "Action", "lambda:InvokeFunction");
    cJSON_AddStringToObject(req, "Principal", principal);
    if (source_arn) {
        cJSON_AddStringToObject(req, "SourceArn", source_arn);
    }
    rc = dep_lambda_add_permission(c->region, alias_arn, alias, req, NULL, err);
    cJSON_Delete(req);
    return rc;
}

static int ev_sns(struct dep_ctx *c, struct dep_function *f, struct dep_event *e, const char *acct,
                  const char *alias, const char *alias_arn, struct dep_err *err)
{
    const char *topic = jstr(e->config, "topic");
    char sid[512], arn[1024], region[64];
    cJSON *out = NULL;
    int rc;

    if (!topic) {
        topic = jstr(e->config, "topicName");
    }
    if (!topic || !topic[0] || strstr(topic, "${")) {
        dep_err_local(err, "InvalidEvent", "event %s: config.topic is missing or undefined (%s)",
                      e->name, topic ? topic : "null");
        return -1;
    }
    if (strncmp(topic, "arn:", 4) == 0) {
        snprintf(arn, sizeof(arn), "%s", topic);
        /* arn:aws:sns:REGION:ACCT:name */
        const char *s = topic;
        for (int i = 0; i < 3 && s; i++) {
            s = strchr(s, ':');
            if (s) {
                s++;
            }
        }
        const char *end = s ? strchr(s, ':') : NULL;
        if (s && end && end > s && (size_t)(end - s) < sizeof(region)) {
            snprintf(region, sizeof(region), "%.*s", (int)(end - s), s);
        } else {
            snprintf(region, sizeof(region), "%s", c->region);
        }
    } else {
        snprintf(arn, sizeof(arn), "arn:aws:sns:%s:%s:%s", c->region, acct, topic);
        snprintf(region, sizeof(region), "%s", c->region);
    }
    dep_sid_event(f->lambda_name, e->name, c->stage, sid, sizeof(sid));
    if (replace_permission(c, alias_arn, alias, sid, "sns.amazonaws.com", NULL, err) < 0) {
        return -1;
    }
    rc = dep_sns_subscribe(region, arn, "lambda", alias_arn, &out, err);
    cJSON_Delete(out);
    return rc;
}

/* Append a JSON value as XML elements named name (arrays repeat). */
static void json_xml(struct dep_buf *b, const char *name, const cJSON *v)
{
    const cJSON *c;

    if (cJSON_IsArray(v)) {
        cJSON_ArrayForEach(c, v)
        {
            json_xml(b, name, c);
        }
        return;
    }
    dep_buf_printf(b, "<%s>", name);
    if (cJSON_IsObject(v)) {
        cJSON_ArrayForEach(c, v)
        {
            json_xml(b, c->string, c);
        }
    } else if (cJSON_IsString(v)) {
        dep_buf_xml_escape(b, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        dep_buf_printf(b, "%g", v->valuedouble);
    } else if (cJSON_IsBool(v)) {
        dep_buf_puts(b, cJSON_IsTrue(v) ? "true" : "false");
    }
    dep_buf_printf(b, "</%s>", name);
}

static int ev_s3(struct dep_ctx *c, struct dep_function *f, struct dep_event *e, const char *alias,
                 const char *alias_arn, struct dep_err *err)
{
    const char *bucket = jstr(e->config, "bucket");
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(e->config, "bucketEvents");
    const cJSON *rules = cJSON_GetObjectItemCaseSensitive(e->config, "filterRules");
    char sid[512], src[600];
    cJSON *cur = NULL;
    struct dep_buf x = {0};
    int rc = -1;

    if (!bucket || !bucket[0]) {
        dep_err_local(err, "InvalidEvent", "event %s: config.bucket is missing", e->name);
        return -1;
    }
    dep_sid_event(f->lambda_name, e->name, c->stage, sid, sizeof(sid));
    snprintf(src, sizeof(src), "arn:aws:s3:::%s", bucket);
    if (replace_permission(c, alias_arn, alias, sid, "s3.amazonaws.com", src, err) < 0) {
        return -1;
    }
    if (dep_s3_get_bucket_notification(c->region, bucket, &cur, err) < 0) {
        return -1;
    }
    const cJSON *root = cJSON_GetObjectItemCaseSensitive(cur, "NotificationConfiguration");
    const cJSON *it;
    dep_buf_puts(&x,
                 "<NotificationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    /* keep every other configuration as it was */
    cJSON_ArrayForEach(it, (cJSON_IsObject(root) ? root : NULL))
    {
        if (strcmp(it->string, "CloudFunctionConfiguration") == 0 ||
            strcmp(it->string, "LambdaFunctionConfiguration") == 0) {
            const cJSON *one;
            cJSON *list = cJSON_IsArray(it) ? cJSON_Duplicate(it, 1) : NULL;
            if (!list) {
                list = cJSON_CreateArray();
                cJSON_AddItemToArray(list, cJSON_Duplicate(it, 1));
            }
            cJSON_ArrayForEach(one, list)
            {
                const char *fa = jstr(one, "CloudFunction");
                if (!fa) {
                    fa = jstr(one, "LambdaFunctionArn");
                }
                if (fa && strcmp(fa, alias_arn) == 0) {
                    continue; /* replaced below */
                }
                json_xml(&x, it->string, one);
            }
            cJSON_Delete(list);
        } else {
            json_xml(&x, it->string, it);
        }
    }
    dep_buf_puts(&x, "<CloudFunctionConfiguration>");
    dep_buf_puts(&x, "<CloudFunction>");
    dep_buf_xml_escape(&x, alias_arn);
    dep_buf_puts(&x, "</CloudFunction>");
    if (cJSON_IsArray(events) && cJSON_GetArraySize(events) > 0) {
        const cJSON *ev;
        cJSON_ArrayForEach(ev, events)
        {
            if (cJSON_IsString(ev)) {
                dep_buf_puts(&x, "<Event>");
                dep_buf_xml_escape(&x, ev->valuestring);
                dep_buf_puts(&x, "</Event>");
            }
        }
    } else {
        dep_buf_puts(&x, "<Event>s3:ObjectCreated:*</Event>");
    }
    if (cJSON_IsArray(rules) && cJSON_GetArraySize(rules) > 0) {
        const cJSON *r;
        dep_buf_puts(&x, "<Filter><S3Key>");
        cJSON_ArrayForEach(r, rules)
        {
            dep_buf_puts(&x, "<FilterRule><Name>");
            dep_buf_xml_escape(&x, jstr(r, "name") ? jstr(r, "name")
                                                   : (jstr(r, "Name") ? jstr(r, "Name") : ""));
            dep_buf_puts(&x, "</Name><Value>");
            dep_buf_xml_escape(&x, jstr(r, "value") ? jstr(r, "value")
                                                    : (jstr(r, "Value") ? jstr(r, "Value") : ""));
            dep_buf_puts(&x, "</Value></FilterRule>");
        }
        dep_buf_puts(&x, "</S3Key></Filter>");
    }
    dep_buf_puts(&x, "</CloudFunctionConfiguration></NotificationConfiguration>");
    rc = dep_s3_put_bucket_notification(c->region, bucket, x.data, err);
    dep_buf_release(&x);
    cJSON_Delete(cur);
    return rc;
}

static int ev_schedule(struct dep_ctx *c, struct dep_function *f, struct dep_event *e,
                       const char *alias, const char *alias_arn, struct dep_err *err)
{
    const char *expr = jstr(e->config, "schedule");
    const cJSON *enabled = cJSON_GetObjectItemCaseSensitive(e->config, "enabled");
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(e->config, "input");
    char rule[128], sid[300];
    cJSON *req, *out = NULL;
    int rc;

    if (!expr || !expr[0]) {
        dep_err_local(err, "InvalidEvent", "event %s: config.schedule is missing", e->name);
        return -1;
    }
    dep_schedule_rule_name(f->lambda_name, e->name, c->stage, rule, sizeof(rule));
    req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "Name", rule);
    cJSON_AddStringToObject(req, "ScheduleExpression", expr);
    cJSON_AddStringToObject(req, "State",
                            enabled && cJSON_IsFalse(enabled) ? "DISABLED" : "ENABLED");
    rc = dep_events_put_rule(c->region, req, &out, err);
    cJSON_Delete(req);
    if (rc < 0) {
        cJSON_Delete(out);
        return -1;
    }
    const char *rule_arn = jstr(out, "RuleArn");
    char rule_arn_copy[600];
    snprintf(rule_arn_copy, sizeof(rule_arn_copy), "%s", rule_arn ? rule_arn : "");
    cJSON_Delete(out);
    out = NULL;
    dep_sid_schedule(rule, c->stage, sid, sizeof(sid));
    if (replace_permission(c, alias_arn, alias, sid, "events.amazonaws.com",
                           rule_arn_copy[0] ? rule_arn_copy : NULL, err) < 0) {
        return -1;
    }
    req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "Rule", rule);
    cJSON *targets = cJSON_AddArrayToObject(req, "Targets");
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "Arn", alias_arn);
    cJSON_AddStringToObject(t, "Id", f->lambda_name);
    if (input) {
        if (cJSON_IsString(input)) {
            cJSON_AddStringToObject(t, "Input", input->valuestring);
        } else {
            char *s = cJSON_PrintUnformatted(input);
            cJSON_AddStringToObject(t, "Input", s);
            cJSON_free(s);
        }
    }
    cJSON_AddItemToArray(targets, t);
    rc = dep_events_put_targets(c->region, req, &out, err);
    if (rc == 0) {
        const cJSON *fc = cJSON_GetObjectItemCaseSensitive(out, "FailedEntryCount");
        if (cJSON_IsNumber(fc) && fc->valuedouble > 0) {
            dep_err_local(err, "PutTargetsFailed", "PutTargets %s: %d failed entries", rule,
                          (int)fc->valuedouble);
            rc = -1;
        }
    }
    cJSON_Delete(req);
    cJSON_Delete(out);
    return rc;
}

static int ev_stream(struct dep_ctx *c, struct dep_event *e, const char *alias_arn,
                     struct dep_err *err)
{
    char var[300];
    const char *uuid;
    const cJSON *bs = cJSON_GetObjectItemCaseSensitive(e->config, "batchSize");
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(e->config, "enabled");
    const char *arn = jstr(e->config, "streamArn");
    const char *sp = jstr(e->config, "startingPosition");
    cJSON *req = cJSON_CreateObject(), *out = NULL;
    int rc;

    snprintf(var, sizeof(var), "eventID:%s", e->name);
    uuid = dep_cmd_var(c, var);
    cJSON_AddNumberToObject(req, "BatchSize", cJSON_IsNumber(bs) ? bs->valuedouble : 100);
    cJSON_AddBoolToObject(req, "Enabled", !(en && cJSON_IsFalse(en)));
    cJSON_AddStringToObject(req, "FunctionName", alias_arn);
    if (uuid) {
        char u[128];
        snprintf(u, sizeof(u), "%s", uuid);
        rc = dep_lambda_update_event_source_mapping(c->region, u, req, &out, err);
    } else {
        if (!arn) {
            cJSON_Delete(req);
            dep_err_local(err, "InvalidEvent", "event %s: config.streamArn is missing", e->name);
            return -1;
        }
        cJSON_AddStringToObject(req, "EventSourceArn", arn);
        cJSON_AddStringToObject(req, "StartingPosition", sp ? sp : "TRIM_HORIZON");
        rc = dep_lambda_create_event_source_mapping(c->region, req, &out, err);
        if (rc == 0 && jstr(out, "UUID")) {
            dep_project_set_var(&c->project, 1, var, cJSON_CreateString(jstr(out, "UUID")));
            if (dep_project_save_vars(&c->project, 1, err) < 0) {
                rc = -1;
            }
        }
    }
    cJSON_Delete(req);
    cJSON_Delete(out);
    return rc;
}

static int ev_iot(struct dep_ctx *c, struct dep_function *f, struct dep_event *e, const char *alias,
                  const char *alias_arn, struct dep_err *err)
{
    const cJSON *rule = cJSON_GetObjectItemCaseSensitive(e->config, "rule");
    const char *name = jstr(rule, "name");
    const char *sql = jstr(rule, "sql");
    char sid[512];
    cJSON *out = NULL, *payload;
    int exists, rc;

    if (!name || !sql) {
        dep_err_local(err, "InvalidEvent",
                      "event %s: config.rule.name and config.rule.sql are required", e->name);
        return -1;
    }
    dep_sid_event(f->lambda_name, e->name, c->stage, sid, sizeof(sid));
    if (dep_lambda_remove_permission(c->region, alias_arn, sid, alias, err) < 0 &&
        !not_found(err)) {
        return -1;
    }
    exists = dep_iot_get_topic_rule(c->region, name, &out, err) == 0;
    cJSON_Delete(out);
    if (!exists && !not_found(err) && !dep_err_is(err, "UnauthorizedException")) {
        return -1;
    }
    payload = cJSON_CreateObject();
    cJSON_AddStringToObject(payload, "sql", sql);
    if (jstr(rule, "description")) {
        cJSON_AddStringToObject(payload, "description", jstr(rule, "description"));
    }
    if (jstr(rule, "iotSQLVersion")) {
        cJSON_AddStringToObject(payload, "awsIotSqlVersion", jstr(rule, "iotSQLVersion"));
    }
    const cJSON *dis = cJSON_GetObjectItemCaseSensitive(rule, "ruleDisabled");
    cJSON_AddBoolToObject(payload, "ruleDisabled", cJSON_IsTrue(dis));
    cJSON *acts = cJSON_AddArrayToObject(payload, "actions");
    cJSON *a = cJSON_CreateObject();
    cJSON *l = cJSON_AddObjectToObject(a, "lambda");
    cJSON_AddStringToObject(l, "functionArn", alias_arn);
    cJSON_AddItemToArray(acts, a);
    rc = exists ? dep_iot_replace_topic_rule(c->region, name, payload, err)
                : dep_iot_create_topic_rule(c->region, name, payload, err);
    cJSON_Delete(payload);
    if (rc < 0) {
        return -1;
    }
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "StatementId", sid);
    cJSON_AddStringToObject(req, "Action", "lambda:InvokeFunction");
    cJSON_AddStringToObject(req, "Principal", "iot.amazonaws.com");
    rc = dep_lambda_add_permission(c->region, alias_arn, alias, req, NULL, err);
    cJSON_Delete(req);
    return rc;
}

int dep_event_put(struct dep_ctx *c, struct dep_function *f, struct dep_event *e,
                  struct dep_err *err)
{
    char acct[32], alias[64], alias_arn[512];

    if (!dep_ctx_account(c, err)) {
        return -1;
    }
    snprintf(acct, sizeof(acct), "%s", c->account);
    dep_cmd_alias(c, alias, sizeof(alias));
    dep_lambda_arn(c->region, acct, f->lambda_name, alias, alias_arn, sizeof(alias_arn));
    if (strcmp(e->type, "sns") == 0) {
        return ev_sns(c, f, e, acct, alias, alias_arn, err);
    }
    if (strcmp(e->type, "s3") == 0) {
        return ev_s3(c, f, e, alias, alias_arn, err);
    }
    if (strcmp(e->type, "schedule") == 0) {
        return ev_schedule(c, f, e, alias, alias_arn, err);
    }
    if (strcmp(e->type, "dynamodbstream") == 0 || strcmp(e->type, "kinesisstream") == 0) {
        return ev_stream(c, e, alias_arn, err);
    }
    if (strcmp(e->type, "iot") == 0) {
        return ev_iot(c, f, e, alias, alias_arn, err);
    }
    dep_err_local(err, "UnsupportedEvent", "Event type %s is not supported", e->type);
    return -1;
}

int dep_step_event_deploy(struct dep_ctx *c)
{
    int n = 0, ok_n = 0, fail_n = 0, rc;
    struct dep_function **fns;

    dep_out_step(STEP);
    rc = dep_cmd_check_names(c, STEP);
    if (rc) {
        dep_out_step_done(STEP, "failed");
        return rc;
    }
    fns = dep_select_functions(c, &n);
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < fns[i]->n_events; k++) {
            struct dep_event *e = &fns[i]->events[k];
            struct dep_err err;
            dep_err_clear(&err);
            if (dep_event_put(c, fns[i], e, &err) == 0) {
                ok_n++;
                dep_out_item("event", e->name, "ok", "%s -> %s:%s", e->type, fns[i]->lambda_name,
                             c->stage);
            } else {
                fail_n++;
                dep_out_item("event", e->name, "failed", "%s -> %s", e->type, fns[i]->lambda_name);
                dep_out_error(STEP, &err);
            }
        }
    }
    free(fns);
    if (ok_n + fail_n == 0) {
        dep_out_info("no events to deploy");
    }
    rc = dep_cmd_exit_for(ok_n, fail_n);
    if (ok_n > 0) {
        /* stream events store their mapping UUIDs as variables */
        int r = dep_meta_autopush(c, STEP);
        if (!rc) {
            rc = r;
        }
    }
    dep_out_step_done(STEP, rc == 0 ? "ok" : "failed");
    return rc;
}

int cmd_event_deploy(struct dep_ctx *c)
{
    return dep_step_event_deploy(c);
}
