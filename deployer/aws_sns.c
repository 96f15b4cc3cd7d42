/*
 * aws_sns.c - SNS calls stagehand makes (query protocol, 2010-03-31):
 * Subscribe.
 */
#include "dep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dep_sns_subscribe(const char *region, const char *topic_arn, const char *protocol,
                      const char *endpoint, cJSON **out, struct dep_err *err)
{
    struct dep_buf f = {0};
    char *a = dep_urlencode(topic_arn, 0), *p = dep_urlencode(protocol, 0),
         *e = dep_urlencode(endpoint, 0);
    const char *name = strrchr(topic_arn, ':');
    int rc;

    dep_buf_printf(&f, "Action=Subscribe&Version=2010-03-31&TopicArn=%s&Protocol=%s&Endpoint=%s", a,
                   p, e);
    free(a);
    free(p);
    free(e);
    rc = dep_query("sns", region, "Subscribe", name ? name + 1 : topic_arn, f.data, out, err);
    dep_buf_release(&f);
    return rc;
}
