/*
 * aws_iot.c - IoT calls stagehand makes (rest-json): GetTopicRule,
 * CreateTopicRule, ReplaceTopicRule.
 */
#include "dep.h"

#include <stdio.h>
#include <stdlib.h>

static const char *rpath(const char *rule, char *buf, size_t n)
{
    char *r = dep_urlencode(rule, 0);

    snprintf(buf, n, "/rules/%s", r);
    free(r);
    return buf;
}

int dep_iot_get_topic_rule(const char *region, const char *rule, cJSON **out, struct dep_err *err)
{
    char path[512];

    return dep_rest_json("iot", region, "GetTopicRule", rule, "GET",
                         rpath(rule, path, sizeof(path)), NULL, NULL, out, err);
}

int dep_iot_create_topic_rule(const char *region, const char *rule, const cJSON *payload,
                              struct dep_err *err)
{
    char path[512];

    return dep_rest_json("iot", region, "CreateTopicRule", rule, "POST",
                         rpath(rule, path, sizeof(path)), NULL, payload, NULL, err);
}

int dep_iot_replace_topic_rule(const char *region, const char *rule, const cJSON *payload,
                               struct dep_err *err)
{
    char path[512];

    return dep_rest_json("iot", region, "ReplaceTopicRule", rule, "PATCH",
                         rpath(rule, path, sizeof(path)), NULL, payload, NULL, err);
}
