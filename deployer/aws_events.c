/*
 * aws_events.c - CloudWatch Events calls stagehand makes (json 1.1,
 * X-Amz-Target AWSEvents.*): PutRule, PutTargets.
 */
#include "dep.h"

int dep_events_put_rule(const char *region, const cJSON *req, cJSON **out, struct dep_err *err)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(req, "Name");

    return dep_json_target("events", region, "AWSEvents.PutRule",
                           cJSON_IsString(n) ? n->valuestring : NULL, req, out, err);
}

int dep_events_put_targets(const char *region, const cJSON *req, cJSON **out, struct dep_err *err)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(req, "Rule");

    return dep_json_target("events", region, "AWSEvents.PutTargets",
                           cJSON_IsString(n) ? n->valuestring : NULL, req, out, err);
}
