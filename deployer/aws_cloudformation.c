/*
 * aws_cloudformation.c - CloudFormation calls stagehand makes (query
 * protocol, 2010-05-15): DescribeStackResources, DescribeStacks,
 * CreateStack, UpdateStack, GetTemplate, DescribeStackEvents. Answers are the XResult element
 * converted to JSON (member lists become arrays).
 */
#include "dep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void form_add(struct dep_buf *b, const char *k, const char *v)
{
    char *e = dep_urlencode(v, 0);

    dep_buf_printf(b, "&%s=%s", k, e);
    free(e);
}

static int call(const char *region, const char *action, const char *stack, struct dep_buf *form,
                cJSON **out, struct dep_err *err)
{
    int rc = dep_query("cloudformation", region, action, stack, form->data, out, err);

    dep_buf_release(form);
    return rc;
}

int dep_cfn_describe_stack_resources(const char *region, const char *stack, cJSON **out,
                                     struct dep_err *err)
{
    struct dep_buf f = {0};

    dep_buf_puts(&f, "Action=DescribeStackResources&Version=2010-05-15");
    form_add(&f, "StackName", stack);
    return call(region, "DescribeStackResources", stack, &f, out, err);
}

int dep_cfn_describe_stacks(const char *region, const char *stack, cJSON **out, struct dep_err *err)
{
    struct dep_buf f = {0};

    dep_buf_puts(&f, "Action=DescribeStacks&Version=2010-05-15");
    if (stack) {
        form_add(&f, "StackName", stack);
    }
    return call(region, "DescribeStacks", stack, &f, out, err);
}

int dep_cfn_create_stack(const char *region, const char *stack, const char *template_body,
                         const cJSON *tags, const char *on_failure, cJSON **out,
                         struct dep_err *err)
{
    struct dep_buf f = {0};
    const cJSON *t;
    int i = 1;

    dep_buf_puts(&f, "Action=CreateStack&Version=2010-05-15");
    form_add(&f, "StackName", stack);
    form_add(&f, "TemplateBody", template_body);
    form_add(&f, "Capabilities.member.1", "CAPABILITY_IAM");
    cJSON_ArrayForEach(t, tags)
    {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(t, "Key");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, "Value");
        char name[64];
        if (!cJSON_IsString(k) || !cJSON_IsString(v)) {
            continue;
        }
        snprintf(name, sizeof(name), "Tags.member.%d.Key", i);
        form_add(&f, name, k->valuestring);
        snprintf(name, sizeof(name), "Tags.member.%d.Value", i);
        form_add(&f, name, v->valuestring);
        i++;
    }
    if (on_failure) {
        form_add(&f, "OnFailure", on_failure);
    }
    return call(region, "CreateStack", stack, &f, out, err);
}

int dep_cfn_update_stack(const char *region, const char *stack, const char *template_body,
                         cJSON **out, struct dep_err *err)
{
    struct dep_buf f = {0};

    dep_buf_puts(&f, "Action=UpdateStack&Version=2010-05-15");
    form_add(&f, "StackName", stack);
    form_add(&f, "TemplateBody", template_body);
    form_add(&f, "Capabilities.member.1", "CAPABILITY_IAM");
    return call(region, "UpdateStack", stack, &f, out, err);
}

int dep_cfn_get_template(const char *region, const char *stack, cJSON **out, struct dep_err *err)
{
    struct dep_buf f = {0};

    dep_buf_puts(&f, "Action=GetTemplate&Version=2010-05-15");
    form_add(&f, "StackName", stack);
    return call(region, "GetTemplate", stack, &f, out, err);
}

int dep_cfn_describe_stack_events(const char *region, const char *stack, cJSON **out,
                                  struct dep_err *err)
{
    struct dep_buf f = {0};

    dep_buf_puts(&f, "Action=DescribeStackEvents&Version=2010-05-15");
    form_add(&f, "StackName", stack);
    return call(region, "DescribeStackEvents", stack, &f, out, err);
}
