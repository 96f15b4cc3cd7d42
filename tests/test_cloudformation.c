/*
 * test_cloudformation.c - CloudFormation in greenroom, through signed query
 * requests: one tcase per operation, every resource type provisioned and
 * verified through its owning service's API, updates with and without
 * replacement, create and update rollbacks that leave every service as it
 * was, OnFailure/DisableRollback, DeletionPolicy Retain, DELETE_FAILED on a
 * non-empty bucket, the fault hook, and the 20-resource timing.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "harness.h"

#include "testkit.h" /* before cfn_testkit.h: its srv is the suite's */
#include "cfn_testkit.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* A JSON-protocol call (SQS, Events). Returns the status; *out parsed. */
static long jcall(const char *service, const char *target, const char *body, cJSON **out)
{
    char th[256];
    const char *hdr[3] = {"Content-Type: application/x-amz-json-1.1", th, NULL};
    struct gr_resp r;
    long status;
    snprintf(th, sizeof(th), "X-Amz-Target: %s", target);
    if (strcmp(service, "sqs") == 0) {
        hdr[0] = "Content-Type: application/x-amz-json-1.0";
    }
    ck_assert_int_eq(gr_request(&srv, service, "POST", "/", hdr, body, strlen(body), &r), 0);
    status = r.status;
    if (out != NULL) {
        *out = gr_resp_json(&r);
    }
    gr_resp_free(&r);
    return status;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    const char *p = hay;
    while ((p = strstr(p, needle)) != NULL) {
        n++;
        p += strlen(needle);
    }
    return n;
}

static char *physical(const char *stack, const char *logical)
{
    char *body = NULL, *out;
    long st =
        CFN(&body, "DescribeStackResource", "StackName", stack, "LogicalResourceId", logical, NULL);
    ck_assert_int_eq(st, 200);
    out = xml_get(body, "PhysicalResourceId");
    free(body);
    ck_assert_ptr_nonnull(out);
    return out;
}

static void create_stack(const char *name, const char *tmpl, int iam)
{
    char *body = NULL;
    long st = iam ? CFN(&body, "CreateStack", "StackName", name, "TemplateBody", tmpl,
                        "Capabilities.member.1", "CAPABILITY_IAM", NULL)
                  : CFN(&body, "CreateStack", "StackName", name, "TemplateBody", tmpl, NULL);
    ck_assert_msg(st == 200, "CreateStack %s: %ld %s", name, st, body);
    ck_assert_ptr_nonnull(
        strstr(body, "<CreateStackResult><StackId>arn:aws:cloudformation:us-east-1:"));
    free(body);
}

static void update_stack(const char *name, const char *tmpl)
{
    char *body = NULL;
    long st = CFN(&body, "UpdateStack", "StackName", name, "TemplateBody", tmpl,
                  "Capabilities.member.1", "CAPABILITY_IAM", NULL);
    ck_assert_msg(st == 200, "UpdateStack %s: %ld %s", name, st, body);
    free(body);
}

static long sqs_attr(const char *url, const char *attr, char *out, size_t olen)
{
    char body[1024];
    cJSON *j = NULL;
    long st;
    snprintf(body, sizeof(body), "{\"QueueUrl\":\"%s\",\"AttributeNames\":[\"All\"]}", url);
    st = jcall("sqs", "AmazonSQS.GetQueueAttributes", body, &j);
    out[0] = 0;
    if (st == 200) {
        const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "Attributes"), attr);
        snprintf(out, olen, "%s", cJSON_IsString(v) ? v->valuestring : "");
    }
    cJSON_Delete(j);
    return st;
}

/* Everything the services hold that a stack could touch, as one string. */
static char *world(void)
{
    struct {
        char *d;
        size_t n;
    } b = {NULL, 0};
    FILE *f = open_memstream(&b.d, &b.n);
    char *body = NULL;
    cJSON *j = NULL;
    const cJSON *it;
    const char *p;
    rest("s3", "GET", "/", &body);
    for (p = body; (p = strstr(p, "<Name>")) != NULL; p += 6) {
        char *n = xml_get(p, "Name");
        fprintf(f, "bucket %s\n", n);
        free(n);
    }
    free(body);
    SNS(&body, "ListTopics", NULL);
    for (p = body; (p = strstr(p, "<TopicArn>")) != NULL; p += 10) {
        char *n = xml_get(p, "TopicArn");
        fprintf(f, "topic %s\n", n);
        free(n);
    }
    free(body);
    IAM(&body, "ListRoles", NULL);
    for (p = body; (p = strstr(p, "<RoleName>")) != NULL; p += 10) {
        char *n = xml_get(p, "RoleName"), *pol = NULL, *pn;
        IAM(&pol, "ListRolePolicies", "RoleName", n, NULL);
        pn = xml_get(pol, "PolicyNames");
        fprintf(f, "role %s policies %s\n", n, pn ? pn : "");
        free(pn);
        free(pol);
        free(n);
    }
    free(body);
    jcall("sqs", "AmazonSQS.ListQueues", "{}", &j);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "QueueUrls"))
    {
        char vt[64];
        sqs_attr(it->valuestring, "VisibilityTimeout", vt, sizeof(vt));
        fprintf(f, "queue %s vt=%s\n", it->valuestring, vt);
    }
    cJSON_Delete(j);
    j = NULL;
    jcall("events", "AWSEvents.ListRules", "{}", &j);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "Rules"))
    {
        fprintf(f, "rule %s\n", cJSON_GetObjectItem(it, "Name")->valuestring);
    }
    cJSON_Delete(j);
    rest("lambda", "GET", "/2015-03-31/functions", &body);
    j = cJSON_Parse(body);
    free(body);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "Functions"))
    {
        fprintf(f, "function %s\n", cJSON_GetObjectItem(it, "FunctionName")->valuestring);
    }
    cJSON_Delete(j);
    rest("apigateway", "GET", "/restapis", &body);
    j = cJSON_Parse(body);
    free(body);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "item"))
    {
        fprintf(f, "api %s\n", cJSON_GetObjectItem(it, "id")->valuestring);
    }
    cJSON_Delete(j);
    fclose(f);
    return b.d;
}

/* ------------------------------------------------------------- operations */

START_TEST(test_create_stack)
{
    char *t = fixture("v05-example.json"), *body = NULL, *v;
    long st;
    /* IAM resources need a capability */
    st = CFN(&body, "CreateStack", "StackName", "ex", "TemplateBody", t, NULL);
    ck_assert_int_eq(st, 400);
    ck_assert_ptr_nonnull(strstr(body, "<Code>InsufficientCapabilitiesException</Code>"));
    ck_assert_ptr_nonnull(strstr(body, "Requires capabilities : [CAPABILITY_IAM]"));
    free(body);
    create_stack("ex", t, 1);
    /* IN_PROGRESS or already complete, never anything else */
    v = stack_status("ex");
    ck_assert_msg(strcmp(v, "CREATE_IN_PROGRESS") == 0 || strcmp(v, "CREATE_COMPLETE") == 0, "%s",
                  v);
    free(v);
    expect_status("ex", "CREATE_COMPLETE");
    /* a second stack of the same name */
    st = CFN(&body, "CreateStack", "StackName", "ex", "TemplateBody", t, "Capabilities.member.1",
             "CAPABILITY_IAM", NULL);
    ck_assert_int_eq(st, 400);
    ck_assert_ptr_nonnull(strstr(body, "<Code>AlreadyExistsException</Code>"));
    ck_assert_ptr_nonnull(strstr(body, "Stack [ex] already exists"));
    free(body);
    /* outputs resolved, resources visible in their services */
    v = output("ex", "BookSnsTopicName");
    ck_assert_msg(strncmp(v, "ex-BookSnsTopic-", 16) == 0 && strlen(v) == 16 + 13, "%s", v);
    {
        char *arn = output("ex", "BookSnsTopicArn"), want[256];
        snprintf(want, sizeof(want), "arn:aws:sns:us-east-1:000000000000:%s", v);
        ck_assert_str_eq(arn, want);
        ck_assert_int_eq(SNS(&body, "GetTopicAttributes", "TopicArn", arn, NULL), 200);
        ck_assert_ptr_nonnull(strstr(body, "cd-example-dev-books"));
        free(body);
        free(arn);
    }
    free(v);
    {
        char *url = output("ex", "BooksSqsArn"), delay[32];
        ck_assert_int_eq(sqs_attr(url, "DelaySeconds", delay, sizeof(delay)), 200);
        ck_assert_str_eq(delay, "10");
        free(url);
    }
    {
        char *role = physical("ex", "IamRoleLambda"), *arn = output("ex", "IamRoleArnLambda"),
             want[300];
        snprintf(want, sizeof(want), "arn:aws:iam::000000000000:role/%s", role);
        ck_assert_str_eq(arn, want);
        ck_assert_int_eq(IAM(&body, "ListRolePolicies", "RoleName", role, NULL), 200);
        ck_assert_ptr_nonnull(strstr(body, "dev-cd-example-lambda"));
        free(body);
        free(role);
        free(arn);
    }
    /* bad template and bad name */
    st = CFN(&body, "CreateStack", "StackName", "bad", "TemplateBody",
             "{\"Resources\":{\"A\":{\"Type\":\"AWS::SNS::Topic\","
             "\"Properties\":{\"DisplayName\":{\"Ref\":\"Nope\"}}}}}",
             NULL);
    ck_assert_int_eq(st, 400);
    ck_assert_ptr_nonnull(strstr(body, "Template format error: Unresolved resource dependencies "
                                       "[Nope] in the Resources block of the template"));
    free(body);
    st = CFN(&body, "CreateStack", "StackName", "1bad", "TemplateBody", t, NULL);
    ck_assert_int_eq(st, 400);
    ck_assert_ptr_nonnull(strstr(body, "<Code>ValidationError</Code>"));
    free(body);
    free(t);
}
END_TEST

START_TEST(test_template_url)
{
    static const char *const plain[] = {"Content-Type: application/json", NULL};
    const char *t = "{\"Resources\":{\"T\":{\"Type\":\"AWS::SNS::Topic\"}}}";
    struct gr_resp r;
    char *body = NULL;
    ck_assert_int_eq(gr_request(&srv, "s3", "PUT", "/tmpl-bucket", NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    gr_resp_free(&r);
    ck_assert_int_eq(
        gr_request(&srv, "s3", "PUT", "/tmpl-bucket/stack.json", plain, t, strlen(t), &r), 0);
    ck_assert_int_eq(r.status, 200);
    gr_resp_free(&r);
    /* path-style (what `cloudformation deploy --s3-bucket` sends) and virtual-host URLs */
    ck_assert_int_eq(CFN(&body, "CreateStack", "StackName", "url1", "TemplateURL",
                         "https://s3.amazonaws.com/tmpl-bucket/stack.json", NULL),
                     200);
    free(body);
    ck_assert_int_eq(CFN(&body, "GetTemplateSummary", "TemplateURL",
                         "https://tmpl-bucket.s3.us-east-1.amazonaws.com/stack.json", NULL),
                     200);
    ck_assert_ptr_nonnull(strstr(body, "<member>AWS::SNS::Topic</member>"));
    free(body);
    expect_status("url1", "CREATE_COMPLETE");
    ck_assert_int_eq(CFN(&body, "CreateStack", "StackName", "url2", "TemplateURL",
                         "https://s3.amazonaws.com/tmpl-bucket/missing.json", NULL),
                     400);
    ck_assert_ptr_nonnull(strstr(body, "<Code>ValidationError</Code>"));
    free(body);
    ck_assert_int_eq(CFN(&body, "CreateStack", "StackName", "url3", NULL), 400);
    ck_assert_ptr_nonnull(strstr(body, "Either Template URL or Template Body must be specified."));
    free(body);
}
END_TEST

START_TEST(test_yaml_stack)
{
    char *t = fixture("yaml-intrinsics.yaml"), *body = NULL, *v;
    create_stack("yml", t, 0);
    expect_status("yml", "CREATE_COMPLETE");
    v = output("yml", "Mode");
    ck_assert_str_eq(v, "not-dev");
    free(v);
    v = output("yml", "Second");
    ck_assert_str_eq(v, "b");
    free(v);
    v = output("yml", "Encoded");
    ck_assert_str_eq(v, "aGVsbG8=");
    free(v);
    v = output("yml", "AZ");
    ck_assert_str_eq(v, "us-east-1a");
    free(v);
    v = output("yml", "LogGroup");
    ck_assert_str_eq(v, "/greenroom/yml/dev");
    free(v);
    v = output("yml", "Handle");
    ck_assert_msg(
        strncmp(v, "https://cloudformation-waitcondition-us-east-1.s3.amazonaws.com/", 64) == 0,
        "%s", v);
    free(v);
    CFN(&body, "DescribeStacks", "StackName", "yml", NULL);
    ck_assert_ptr_null(strstr(body, "<OutputKey>ProdQueue</OutputKey>"));
    free(body);
    /* the conditional queue is not created with Stage=dev; the topic's
     * display name came from the CommaDelimitedList */
    CFN(&body, "ListStackResources", "StackName", "yml", NULL);
    ck_assert_ptr_null(strstr(body, "<LogicalResourceId>ProdOnly</LogicalResourceId>"));
    free(body);
    v = output("yml", "TopicArn");
    ck_assert_int_eq(SNS(&body, "GetTopicAttributes", "TopicArn", v, NULL), 200);
    ck_assert_ptr_nonnull(strstr(body, "yml-beta"));
    free(body);
    free(v);
    /* the queue's DelaySeconds came from the mapping */
    {
        char *url = output("yml", "QueueUrl"), d[32];
        ck_assert_int_eq(sqs_attr(url, "DelaySeconds", d, sizeof(d)), 200);
        ck_assert_str_eq(d, "1");
        free(url);
    }
    free(t);
}
END_TEST

START_TEST(test_describe_stacks)
{
    char *body = NULL, *id;
    long st = CFN(&body, "DescribeStacks", "StackName", "ghost", NULL);
    ck_assert_int_eq(st, 400);
    ck_assert_ptr_nonnull(strstr(body, "<Code>ValidationError</Code>"));
    ck_assert_ptr_nonnull(strstr(body, "<Message>Stack with id ghost does not exist</Message>"));
    free(body);
    create_stack(
        "d1",
        "{\"Description\":\"desc\",\"Parameters\":{\"P\":{\"Type\":\"String\",\"Default\":\"v\"}},"
        "\"Resources\":{\"T\":{\"Type\":\"AWS::SNS::Topic\"}},"
        "\"Outputs\":{\"O\":{\"Value\":{\"Ref\":\"P\"},\"Description\":\"d\"}}}",
        0);
    /* P has no value */
    CFN(&body, "CreateStack", "StackName", "d2", "TemplateBody",
        "{\"Parameters\":{\"P\":{\"Type\":\"String\"}},\"Resources\":{\"T\":{\"Type\":\"AWS::SNS::"
        "Topic\"}}}",
        NULL);
    ck_assert_ptr_nonnull(strstr(body, "Parameters: [P] must have values"));
    free(body);
    free(stack_status("d1"));
    CFN(&body, "DescribeStacks", NULL);
    ck_assert_int_eq(count(body, "<StackName>"), 1);
    free(body);
    CFN(&body, "CreateStack", "StackName", "d3", "TemplateBody",
        "{\"Parameters\":{\"P\":{\"Type\":\"String\",\"NoEcho\":\"true\"}},\"Resources\":{\"T\":{"
        "\"Type\":\"AWS::SNS::Topic\"}}}",
        "Parameters.member.1.ParameterKey", "P", "Parameters.member.1.ParameterValue", "secret",
        NULL);
    free(body);
    expect_status("d3", "CREATE_COMPLETE");
    CFN(&body, "DescribeStacks", "StackName", "d3", NULL);
    ck_assert_ptr_nonnull(strstr(body, "<DescribeStacksResult><Stacks><member>"));
    ck_assert_ptr_nonnull(strstr(body, "<ParameterValue>****</ParameterValue>"));
    ck_assert_ptr_null(strstr(body, "secret"));
    id = xml_get(body, "StackId");
    free(body);
    /* by id */
    ck_assert_int_eq(CFN(&body, "DescribeStacks", "StackName", id, NULL), 200);
    ck_assert_ptr_nonnull(strstr(body, "<StackName>d3</StackName>"));
    free(body);
    free(id);
}
END_TEST

START_TEST(test_list_stacks)
{
    char *body = NULL;
    create_stack("l1", "{\"Resources\":{\"T\":{\"Type\":\"AWS::SNS::Topic\"}}}", 0);
    create_stack("l2", "{\"Resources\":{\"T\":{\"Type\":\"AWS::SNS::Topic\"}}}", 0);
    expect_status("l1", "CREATE_COMPLETE");
    expect_status("l2", "CREATE_COMPLETE");
    CFN(&body, "DeleteStack", "StackName", "l2", NULL);
    free(body);
    {
        char *st = NULL;
        int i;
        for (i = 0; i < 2000; i++) {
            CFN(&st, "ListStacks", "StackStatusFilter.member.1", "DELETE_COMPLETE", NULL);
            if (strstr(st, "<StackName>l2</StackName>") != NULL) {
                break;
            }
            free(st);
            st = NULL;
            usleep(2000);
        }
        ck_assert_ptr_nonnull(st);
        ck_assert_ptr_null(strstr(st, "<StackName>l1</StackName>"));
        ck_assert_ptr_nonnull(strstr(st, "<DeletionTime>"));
        free(st);
    }
    CFN(&body, "ListStacks", NULL);
    ck_assert_ptr_nonnull(strstr(body, "<ListStacksResult><StackSummaries><member>"));
    ck_assert_int_eq(count(body, "<StackName>"), 2);
    free(body);
    CFN(&body, "ListStacks", "StackStatusFilter.member.1", "CREATE_COMPLETE", NULL);
    ck_assert_int_eq(count(body, "<StackName>"), 1);
    ck_assert_ptr_nonnull(strstr(body, "<StackName>l1</StackName>"));
    free(body);
}
END_TEST

/* A stack of a topic (T) and a queue (Q). */
#define TOPIC_AND_QUEUE                                                                            \
    "{\"Resources\":{\"T\":{\"Type\":\"AWS::SNS::Topic\"},\"Q\":{\"Type\":\"AWS::SQS::Queue\"}}}"

START_TEST(test_describe_stack_events)
{
    char *body = NULL;
    create_stack("ev", TOPIC_AND_QUEUE, 0);
    expect_status("ev", "CREATE_COMPLETE");
    ck_assert_int_eq(CFN(&body, "DescribeStackEvents", "StackName", "ev", NULL), 200);
    ck_assert_ptr_nonnull(strstr(body, "<DescribeStackEventsResult><StackEvents><member>"));
    /* newest first: the stack's CREATE_COMPLETE comes first */
    {
        char *first = xml_get(body, "ResourceStatus");
        ck_assert_str_eq(first, "CREATE_COMPLETE");
        free(first);
    }
    ck_assert_int_eq(count(body, "<ResourceStatus>CREATE_IN_PROGRESS</ResourceStatus>"), 3);
    ck_assert_int_eq(count(body, "<ResourceStatus>CREATE_COMPLETE</ResourceStatus>"), 3);
    ck_assert_ptr_nonnull(strstr(body, "<ResourceType>AWS::CloudFormation::Stack</ResourceType>"));
    ck_assert_ptr_nonnull(strstr(body, "<LogicalResourceId>Q</LogicalResourceId>"));
    free(body);
    ck_assert_int_eq(CFN(&body, "DescribeStackEvents", "StackName", "nope", NULL), 400);
    ck_assert_ptr_nonnull(strstr(body, "Stack with id nope does not exist"));
    free(body);
}
END_TEST

START_TEST(test_describe_stack_resources)
{
    char *body = NULL, *phys;
    create_stack("r", TOPIC_AND_QUEUE, 0);
    expect_status("r", "CREATE_COMPLETE");
    CFN(&body, "DescribeStackResources", "StackName", "r", NULL);
    ck_assert_int_eq(count(body, "<ResourceStatus>CREATE_COMPLETE</ResourceStatus>"), 2);
    ck_assert_ptr_nonnull(strstr(body, "<StackResources><member>"));
    free(body);
    CFN(&body, "DescribeStackResources", "StackName", "r", "LogicalResourceId", "Q", NULL);
    ck_assert_int_eq(count(body, "<LogicalResourceId>"), 1);
    free(body);
    phys = physical("r", "T");
    ck_assert_int_eq(CFN(&body, "DescribeStackResources", "PhysicalResourceId", phys, NULL), 200);
    ck_assert_ptr_nonnull(strstr(body, "<StackName>r</StackName>"));
    free(body);
    free(phys);
    ck_assert_int_eq(
        CFN(&body, "DescribeStackResource", "StackName", "r", "LogicalResourceId", "X", NULL), 400);
    free(body);
    ck_assert_int_eq(
        CFN(&body, "DescribeStackResource", "StackName", "r", "LogicalResourceId", "Q", NULL), 200);
    ck_assert_ptr_nonnull(strstr(body, "<StackResourceDetail>"));
    ck_assert_ptr_nonnull(strstr(body, "<LastUpdatedTimestamp>"));
    free(body);
}
END_TEST

/* AllowedPattern is a Java regex matched against the whole value: \\d and a
 * lookahead work; a catastrophic pattern refuses the value, promptly. */
START_TEST(test_allowed_pattern)
{
    char *body = NULL;
    const char *t =
        "{\"Parameters\":{\"P\":{\"Type\":\"String\",\"AllowedPattern\":"
        "\"(?!admin)[a-z]+-\\\\d{2}\",\"ConstraintDescription\":\"name-NN, not admin\"}},"
        "\"Resources\":{\"T\":{\"Type\":\"AWS::SNS::Topic\"}}}";
    static const char *const refused[] = {"admin-01", "svc-1", "svc-012", "Svc-01"};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        ck_assert_int_eq(CFN(&body, "CreateStack", "StackName", "ap", "TemplateBody", t,
                             "Parameters.member.1.ParameterKey", "P",
                             "Parameters.member.1.ParameterValue", refused[i], NULL),
                         400);
        ck_assert_msg(strstr(body, "failed to satisfy constraint: name-NN, not admin") != NULL,
                      "%s: %s", refused[i], body);
        free(body);
    }
    ck_assert_int_eq(CFN(&body, "CreateStack", "StackName", "ap", "TemplateBody", t,
                         "Parameters.member.1.ParameterKey", "P",
                         "Parameters.member.1.ParameterValue", "svc-01", NULL),
                     200);
    free(body);
    expect_status("ap", "CREATE_COMPLETE");
    /* (a+)+$ on a long 'aaa...b': the match limit answers "no match" */
    char v[64];
    memset(v, 'a', sizeof(v) - 2);
    v[sizeof(v) - 2] = 'b';
    v[sizeof(v) - 1] = 0;
    ck_assert_int_eq(
        CFN(&body, "CreateStack", "StackName", "ap2", "TemplateBody",
            "{\"Parameters\":{\"P\":{\"Type\":\"String\",\"AllowedPattern\":\"(a+)+$\"}},"
            "\"Resources\":{\"T\":{\"Type\":\"AWS::SNS::Topic\"}}}",
            "Parameters.member.1.ParameterKey", "P", "Parameters.member.1.ParameterValue", v, NULL),
        400);
    ck_assert_ptr_nonnull(strstr(body, "&apos;P&apos; must match pattern (a+)+$"));
    free(body);
}
END_TEST

START_TEST(test_list_stack_resources)
{
    char *body = NULL;
    create_stack("lr", TOPIC_AND_QUEUE, 0);
    expect_status("lr", "CREATE_COMPLETE");
    ck_assert_int_eq(CFN(&body, "ListStackResources", "StackName", "lr", NULL), 200);
    ck_assert_ptr_nonnull(strstr(body, "<StackResourceSummaries><member>"));
    ck_assert_int_eq(count(body, "<ResourceType>"), 2);
    free(body);
}
END_TEST

START_TEST(test_get_template)
{
    const char *t = "{\"Resources\":{\"T\":{\"Type\":\"AWS::SNS::Topic\"}}}";
    char *body = NULL, *got;
    create_stack("gt", t, 0);
    ck_assert_int_eq(CFN(&body, "GetTemplate", "StackName", "gt", NULL), 200);
    got = xml_get(body, "TemplateBody");
    ck_assert_str_eq(
        got,
        "{&quot;Resources&quot;:{&quot;T&quot;:{&quot;Type&quot;:&quot;AWS::SNS::Topic&quot;}}}");
    ck_assert_ptr_nonnull(strstr(body, "<StagesAvailable><member>Original</member>"));
    free(got);
    free(body);
}
END_TEST

START_TEST(test_get_template_summary)
{
    char *t = fixture("yaml-intrinsics.yaml"), *body = NULL;
    ck_assert_int_eq(CFN(&body, "GetTemplateSummary", "TemplateBody", t, NULL), 200);
    ck_assert_ptr_nonnull(
        strstr(body, "<Parameters><member><ParameterKey>Stage</ParameterKey><DefaultValue>dev</"
                     "DefaultValue><ParameterType>String</ParameterType>"));
    ck_assert_ptr_nonnull(
        strstr(body, "<AllowedValues><member>dev</member><member>prod</member></AllowedValues>"));
    ck_assert_ptr_nonnull(strstr(body, "<member>AWS::SNS::Topic</member>"));
    ck_assert_ptr_nonnull(strstr(body, "<Version>2010-09-09</Version>"));
    free(body);
    /* a template without parameters still answers <Parameters> (the CLI needs it) */
    create_stack("ts", "{\"Resources\":{\"T\":{\"Type\":\"AWS::SNS::Topic\"}}}", 0);
    ck_assert_int_eq(CFN(&body, "GetTemplateSummary", "StackName", "ts", NULL), 200);
    ck_assert_ptr_nonnull(strstr(body, "<GetTemplateSummaryResult><Parameters></Parameters>"));
    free(body);
    free(t);
}
END_TEST

START_TEST(test_validate_template)
{
    char *t = fixture("v05-default.json"), *body = NULL;
    ck_assert_int_eq(CFN(&body, "ValidateTemplate", "TemplateBody", t, NULL), 200);
    ck_assert_ptr_nonnull(
        strstr(body, "<Capabilities><member>CAPABILITY_IAM</member></Capabilities>"));
    ck_assert_ptr_nonnull(strstr(body, "require capabilities: [AWS::IAM::Role, AWS::IAM::Policy]"));
    ck_assert_ptr_nonnull(strstr(body, "<Description>"));
    free(body);
    ck_assert_int_eq(
        CFN(&body, "ValidateTemplate", "TemplateBody",
            "{\"Resources\":{\"A\":{\"Type\":\"AWS::SNS::Topic\",\"DependsOn\":\"B\"},\"B\":{"
            "\"Type\":\"AWS::SNS::Topic\",\"DependsOn\":\"A\"}}}",
            NULL),
        400);
    ck_assert_ptr_nonnull(strstr(body, "Circular dependency between resources: [A, B]"));
    free(body);
    ck_assert_int_eq(CFN(&body, "ValidateTemplate", "TemplateBody", "Resources: [", NULL), 400);
    ck_assert_ptr_nonnull(strstr(body, "Template format error"));
    free(body);
    free(t);
}
END_TEST

START_TEST(test_update_stack)
{
    char *body = NULL, *t1, *t2, *oldarn, *newarn, *url1, *url2, vt[32];
    const char *v1 =
        "{\"Resources\":{\"T\":{\"Type\":\"AWS::SNS::Topic\",\"Properties\":{\"TopicName\":\"one\"}"
        "},"
        "\"Q\":{\"Type\":\"AWS::SQS::Queue\",\"Properties\":{\"VisibilityTimeout\":30}}},"
        "\"Outputs\":{\"T\":{\"Value\":{\"Ref\":\"T\"}},\"Q\":{\"Value\":{\"Ref\":\"Q\"}}}}";
    const char *v2 =
        "{\"Resources\":{\"T\":{\"Type\":\"AWS::SNS::Topic\",\"Properties\":{\"TopicName\":\"two\"}"
        "},"
        "\"Q\":{\"Type\":\"AWS::SQS::Queue\",\"Properties\":{\"VisibilityTimeout\":45}}},"
        "\"Outputs\":{\"T\":{\"Value\":{\"Ref\":\"T\"}},\"Q\":{\"Value\":{\"Ref\":\"Q\"}}}}";
    (void)t1;
    (void)t2;
    ck_assert_int_eq(CFN(&body, "UpdateStack", "StackName", "u", "TemplateBody", v1, NULL), 400);
    ck_assert_ptr_nonnull(strstr(body, "Stack with id u does not exist"));
    free(body);
    create_stack("u", v1, 0);
    expect_status("u", "CREATE_COMPLETE");
    oldarn = output("u", "T");
    url1 = output("u", "Q");
    ck_assert_int_eq(CFN(&body, "UpdateStack", "StackName", "u", "TemplateBody", v1, NULL), 400);
    ck_assert_ptr_nonnull(strstr(body, "<Message>No updates are to be performed.</Message>"));
    free(body);
    update_stack("u", v2);
    expect_status("u", "UPDATE_COMPLETE");
    newarn = output("u", "T");
    url2 = output("u", "Q");
    /* TopicName replaces the topic; VisibilityTimeout updates the queue in place */
    ck_assert_str_eq(newarn, "arn:aws:sns:us-east-1:000000000000:two");
    ck_assert_str_eq(url1, url2);
    ck_assert_int_eq(sqs_attr(url2, "VisibilityTimeout", vt, sizeof(vt)), 200);
    ck_assert_str_eq(vt, "45");
    ck_assert_int_ne(SNS(&body, "GetTopicAttributes", "TopicArn", oldarn, NULL), 200);
    free(body);
    ck_assert_int_eq(SNS(&body, "GetTopicAttributes", "TopicArn", newarn, NULL), 200);
    free(body);
    CFN(&body, "DescribeStackEvents", "StackName", "u", NULL);
    ck_assert_ptr_nonnull(strstr(body, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"));
    ck_assert_ptr_nonnull(
        strstr(body, "Requested update requires the creation of a new physical resource"));
    free(body);
    /* parameters: UsePreviousTemplate with a new parameter value */
    free(oldarn);
    free(newarn);
    free(url1);
    free(url2);
}
END_TEST

/* A CreateStack or UpdateStack call run on another thread (bg_call_main)
 * while the test watches the stack. */
struct bg_call {
    const char *action;
    const char *name;
    const char *tmpl;
    long status; /* the call's answer */
};

static void *bg_call_main(void *arg)
{
    struct bg_call *b = arg;
    char *body = NULL;
    b->status = CFN(&body, b->action, "StackName", b->name, "TemplateBody", b->tmpl, NULL);
    free(body);
    return NULL;
}

/* A template of n log groups, with the given retention when days > 0.
 * Caller frees. */
static char *log_groups(int n, int days)
{
    size_t off = 0, cap = (size_t)n * 96 + 64;
    char *t = malloc(cap);
    int i;
    off += (size_t)snprintf(t + off, cap - off, "{\"Resources\":{");
    for (i = 0; i < n; i++) {
        off += (size_t)snprintf(t + off, cap - off, "%s\"L%d\":{\"Type\":\"AWS::Logs::LogGroup\"",
                                i ? "," : "", i);
        if (days > 0) {
            off += (size_t)snprintf(t + off, cap - off, ",\"Properties\":{\"RetentionInDays\":%d}",
                                    days);
        }
        off += (size_t)snprintf(t + off, cap - off, "}");
    }
    snprintf(t + off, cap - off, "}}");
    return t;
}

START_TEST(test_update_in_progress)
{
    char *body = NULL, *tmpl = log_groups(300, 0);
    int i, saw_progress = 0, saw_refusal = 0;
    pthread_t th;
    /* a stack with many resources, created from another thread while this
     * one watches: CREATE_IN_PROGRESS is observable and refuses updates */
    struct bg_call b = {"CreateStack", "ip", tmpl, 0};
    ck_assert_int_eq(pthread_create(&th, NULL, bg_call_main, &b), 0);
    for (i = 0; i < 5000; i++) {
        char *st = stack_status("ip");
        int done = strcmp(st, "CREATE_COMPLETE") == 0;
        ck_assert_msg(st[0] == 0 || done || strcmp(st, "CREATE_IN_PROGRESS") == 0, "%s", st);
        if (strcmp(st, "CREATE_IN_PROGRESS") == 0) {
            long rc;
            saw_progress = 1;
            rc = CFN(&body, "UpdateStack", "StackName", "ip", "TemplateBody", tmpl, NULL);
            if (rc == 400 &&
                strstr(body, "is in CREATE_IN_PROGRESS state and can not be updated.")) {
                ck_assert_ptr_nonnull(strstr(
                    body,
                    "<Message>Stack:arn:aws:cloudformation:us-east-1:000000000000:stack/ip/"));
                saw_refusal = 1;
            }
            free(body);
        }
        free(st);
        if (done) {
            break;
        }
    }
    pthread_join(th, NULL);
    ck_assert_int_eq(b.status, 200);
    expect_status("ip", "CREATE_COMPLETE");
    fprintf(stderr, "in progress observed: %s, update refused while in progress: %s\n",
            saw_progress ? "yes" : "no", saw_refusal ? "yes" : "no");
    free(tmpl);
}
END_TEST

START_TEST(test_delete_stack)
{
    char *body = NULL, *bucket, *id;
    const char *t = "{\"Resources\":{\"B\":{\"Type\":\"AWS::S3::Bucket\"},"
                    "\"Kept\":{\"Type\":\"AWS::S3::Bucket\",\"DeletionPolicy\":\"Retain\"}}}";
    char path[512];
    static const char *const plain[] = {"Content-Type: text/plain", NULL};
    struct gr_resp r;
    /* deleting an unknown stack succeeds */
    ck_assert_int_eq(CFN(&body, "DeleteStack", "StackName", "none", NULL), 200);
    free(body);
    create_stack("del", t, 0);
    expect_status("del", "CREATE_COMPLETE");
    bucket = physical("del", "B");
    ck_assert_msg(strncmp(bucket, "del-b-", 6) == 0, "bucket names are lower-case: %s", bucket);
    /* a non-empty bucket cannot be deleted: DELETE_FAILED */
    snprintf(path, sizeof(path), "/%s/key", bucket);
    ck_assert_int_eq(gr_request(&srv, "s3", "PUT", path, plain, "x", 1, &r), 0);
    ck_assert_int_eq(r.status, 200);
    gr_resp_free(&r);
    CFN(&body, "DescribeStacks", "StackName", "del", NULL);
    id = xml_get(body, "StackId");
    free(body);
    ck_assert_int_eq(CFN(&body, "DeleteStack", "StackName", "del", NULL), 200);
    free(body);
    expect_status("del", "DELETE_FAILED");
    CFN(&body, "DescribeStackEvents", "StackName", "del", NULL);
    ck_assert_ptr_nonnull(strstr(body, "<ResourceStatus>DELETE_FAILED</ResourceStatus>"));
    ck_assert_ptr_nonnull(strstr(body, "BucketNotEmpty"));
    ck_assert_ptr_nonnull(strstr(body, "<ResourceStatus>DELETE_SKIPPED</ResourceStatus>"));
    free(body);
    /* empty it and delete again */
    ck_assert_int_eq(gr_request(&srv, "s3", "DELETE", path, NULL, NULL, 0, &r), 0);
    gr_resp_free(&r);
    CFN(&body, "DeleteStack", "StackName", "del", NULL);
    free(body);
    expect_status(id, "DELETE_COMPLETE");
    snprintf(path, sizeof(path), "/%s", bucket);
    ck_assert_int_eq(rest("s3", "HEAD", path, NULL), 404);
    /* the Retain bucket is still there */
    {
        char *bucket_list = NULL;
        rest("s3", "GET", "/", &bucket_list);
        ck_assert_ptr_nonnull(strstr(bucket_list, "<Name>del-kept-"));
        free(bucket_list);
    }
    ck_assert_int_eq(CFN(&body, "DescribeStacks", "StackName", "del", NULL), 400);
    free(body);
    ck_assert_int_eq(CFN(&body, "DescribeStacks", "StackName", id, NULL), 200);
    ck_assert_ptr_nonnull(strstr(body, "<StackStatus>DELETE_COMPLETE</StackStatus>"));
    free(body);
    free(bucket);
    free(id);
}
END_TEST

START_TEST(test_change_sets)
{
    char *body = NULL, *id, *cs2;
    const char *v1 = "{\"Resources\":{\"T\":{\"Type\":\"AWS::SNS::Topic\"},\"Q\":{\"Type\":\"AWS::"
                     "SQS::Queue\"}}}";
    const char *v2 =
        "{\"Resources\":{\"T\":{\"Type\":\"AWS::SNS::Topic\",\"Properties\":{\"DisplayName\":\"d\"}"
        "},"
        "\"Q\":{\"Type\":\"AWS::SQS::Queue\",\"Properties\":{\"QueueName\":\"named\"}},"
        "\"B\":{\"Type\":\"AWS::S3::Bucket\"}}}";
    ck_assert_int_eq(CFN(&body, "CreateChangeSet", "StackName", "cs", "ChangeSetName", "c1",
                         "ChangeSetType", "CREATE", "TemplateBody", v1, NULL),
                     200);
    id = xml_get(body, "Id");
    ck_assert_msg(strncmp(id, "arn:aws:cloudformation:us-east-1:000000000000:changeSet/c1/", 58) ==
                      0,
                  "%s", id);
    free(body);
    /* the stack exists in REVIEW_IN_PROGRESS */
    expect_status("cs", "REVIEW_IN_PROGRESS");
    CFN(&body, "DescribeChangeSet", "ChangeSetName", id, NULL);
    ck_assert_ptr_nonnull(strstr(body, "<Status>CREATE_COMPLETE</Status>"));
    ck_assert_ptr_nonnull(strstr(body, "<ExecutionStatus>AVAILABLE</ExecutionStatus>"));
    ck_assert_int_eq(count(body, "<Action>Add</Action>"), 2);
    free(body);
    CFN(&body, "ListChangeSets", "StackName", "cs", NULL);
    ck_assert_ptr_nonnull(strstr(body, "<Summaries><member>"));
    ck_assert_ptr_nonnull(strstr(body, "<ChangeSetName>c1</ChangeSetName>"));
    free(body);
    ck_assert_int_eq(CFN(&body, "ExecuteChangeSet", "ChangeSetName", "c1", "StackName", "cs", NULL),
                     200);
    free(body);
    expect_status("cs", "CREATE_COMPLETE");
    CFN(&body, "DescribeChangeSet", "ChangeSetName", id, NULL);
    ck_assert_ptr_nonnull(strstr(body, "<ExecutionStatus>EXECUTE_COMPLETE</ExecutionStatus>"));
    free(body);
    /* an UPDATE change set: Modify (in place), Modify (replacement), Add */
    ck_assert_int_eq(CFN(&body, "CreateChangeSet", "StackName", "cs", "ChangeSetName", "c2",
                         "TemplateBody", v2, NULL),
                     200);
    cs2 = xml_get(body, "Id");
    free(body);
    CFN(&body, "DescribeChangeSet", "ChangeSetName", "c2", "StackName", "cs", NULL);
    ck_assert_ptr_nonnull(
        strstr(body, "<Action>Modify</Action><LogicalResourceId>T</LogicalResourceId>"));
    ck_assert_ptr_nonnull(strstr(body, "<Replacement>False</Replacement>"));
    ck_assert_ptr_nonnull(
        strstr(body, "<Action>Modify</Action><LogicalResourceId>Q</LogicalResourceId>"));
    ck_assert_ptr_nonnull(strstr(body, "<Replacement>True</Replacement>"));
    ck_assert_ptr_nonnull(
        strstr(body, "<Action>Add</Action><LogicalResourceId>B</LogicalResourceId>"));
    ck_assert_ptr_nonnull(strstr(body, "<RequiresRecreation>Always</RequiresRecreation>"));
    free(body);
    /* delete it; a Remove change set; an empty change set FAILS */
    ck_assert_int_eq(CFN(&body, "DeleteChangeSet", "ChangeSetName", cs2, NULL), 200);
    free(body);
    ck_assert_int_eq(CFN(&body, "DescribeChangeSet", "ChangeSetName", cs2, NULL), 404);
    ck_assert_ptr_nonnull(strstr(body, "<Code>ChangeSetNotFound</Code>"));
    free(body);
    CFN(&body, "CreateChangeSet", "StackName", "cs", "ChangeSetName", "c3", "TemplateBody",
        "{\"Resources\":{\"T\":{\"Type\":\"AWS::SNS::Topic\"}}}", NULL);
    free(body);
    CFN(&body, "DescribeChangeSet", "ChangeSetName", "c3", "StackName", "cs", NULL);
    ck_assert_ptr_nonnull(
        strstr(body, "<Action>Remove</Action><LogicalResourceId>Q</LogicalResourceId>"));
    free(body);
    CFN(&body, "CreateChangeSet", "StackName", "cs", "ChangeSetName", "c4", "TemplateBody", v1,
        NULL);
    free(body);
    CFN(&body, "DescribeChangeSet", "ChangeSetName", "c4", "StackName", "cs", NULL);
    ck_assert_ptr_nonnull(strstr(body, "<Status>FAILED</Status>"));
    ck_assert_ptr_nonnull(strstr(body, "The submitted information didn&apos;t contain changes. "
                                       "Submit different information to create a change set."));
    free(body);
    ck_assert_int_eq(CFN(&body, "ExecuteChangeSet", "ChangeSetName", "c4", "StackName", "cs", NULL),
                     400);
    ck_assert_ptr_nonnull(strstr(body, "<Code>InvalidChangeSetStatus</Code>"));
    free(body);
    /* execute the Remove one */
    ck_assert_int_eq(CFN(&body, "ExecuteChangeSet", "ChangeSetName", "c3", "StackName", "cs", NULL),
                     200);
    free(body);
    expect_status("cs", "UPDATE_COMPLETE");
    CFN(&body, "ListStackResources", "StackName", "cs", NULL);
    ck_assert_int_eq(count(body, "<LogicalResourceId>"), 1);
    free(body);
    free(id);
    free(cs2);
}
END_TEST

START_TEST(test_cancel_update_stack)
{
    char *body = NULL, *v1 = log_groups(300, 7), *v2 = log_groups(300, 14), *final;
    int i, accepted = 0;
    pthread_t th;
    struct bg_call b = {"UpdateStack", "cu", v2, 0};
    create_stack("cu", v1, 0);
    expect_status("cu", "CREATE_COMPLETE");
    ck_assert_int_eq(CFN(&body, "CancelUpdateStack", "StackName", "cu", NULL), 400);
    ck_assert_ptr_nonnull(
        strstr(body, "CancelUpdateStack cannot be called from current stack status"));
    free(body);
    ck_assert_int_eq(CFN(&body, "CancelUpdateStack", "StackName", "zz", NULL), 400);
    free(body);
    /* cancel an update while it runs: it rolls back (or, if it was already
     * past the point of no return, the cancel is refused) */
    ck_assert_int_eq(pthread_create(&th, NULL, bg_call_main, &b), 0);
    for (i = 0; i < 5000; i++) {
        char *st = stack_status("cu");
        int in_progress = strcmp(st, "UPDATE_IN_PROGRESS") == 0;
        free(st);
        if (in_progress) {
            long rc = CFN(&body, "CancelUpdateStack", "StackName", "cu", NULL);
            free(body);
            accepted = rc == 200;
            break;
        }
        if (b.status != 0) {
            break;
        }
    }
    pthread_join(th, NULL);
    ck_assert_int_eq(b.status, 200);
    final = wait_stack("cu");
    fprintf(stderr, "cancel accepted: %s, final status %s\n", accepted ? "yes" : "no", final);
    if (accepted) {
        ck_assert_str_eq(final, "UPDATE_ROLLBACK_COMPLETE");
        CFN(&body, "DescribeStacks", "StackName", "cu", NULL);
        ck_assert_ptr_nonnull(strstr(body, "Stack update cancelled"));
        free(body);
        CFN(&body, "GetTemplate", "StackName", "cu", NULL);
        ck_assert_ptr_nonnull(strstr(body, "RetentionInDays&quot;:7"));
        free(body);
    } else {
        ck_assert_str_eq(final, "UPDATE_COMPLETE");
    }
    free(final);
    free(v1);
    free(v2);
}
END_TEST

START_TEST(test_list_exports)
{
    char *body = NULL;
    create_stack("ex1",
                 "{\"Resources\":{\"T\":{\"Type\":\"AWS::SNS::Topic\"}},"
                 "\"Outputs\":{\"A\":{\"Value\":{\"Ref\":\"T\"},\"Export\":{\"Name\":{\"Fn::Sub\":"
                 "\"${AWS::StackName}-topic\"}}}}}",
                 0);
    expect_status("ex1", "CREATE_COMPLETE");
    CFN(&body, "ListExports", NULL);
    ck_assert_ptr_nonnull(
        strstr(body, "<Exports><member><ExportingStackId>arn:aws:cloudformation:"));
    ck_assert_ptr_nonnull(
        strstr(body, "<Name>ex1-topic</Name><Value>arn:aws:sns:us-east-1:000000000000:ex1-T-"));
    free(body);
    /* Fn::ImportValue from another stack */
    create_stack("ex2",
                 "{\"Resources\":{\"Q\":{\"Type\":\"AWS::SQS::Queue\"}},"
                 "\"Outputs\":{\"I\":{\"Value\":{\"Fn::ImportValue\":\"ex1-topic\"}}}}",
                 0);
    expect_status("ex2", "CREATE_COMPLETE");
    {
        char *v = output("ex2", "I");
        ck_assert_msg(strncmp(v, "arn:aws:sns:us-east-1:000000000000:ex1-T-", 41) == 0, "%s", v);
        free(v);
    }
    /* a second export of the same name fails the stack */
    create_stack("ex3",
                 "{\"Resources\":{\"T\":{\"Type\":\"AWS::SNS::Topic\"}},"
                 "\"Outputs\":{\"A\":{\"Value\":\"x\",\"Export\":{\"Name\":\"ex1-topic\"}}}}",
                 0);
    expect_status("ex3", "ROLLBACK_COMPLETE");
    CFN(&body, "DescribeStacks", "StackName", "ex3", NULL);
    free(body);
    CFN(&body, "DescribeStackEvents", "StackName", "ex3", NULL);
    ck_assert_ptr_nonnull(
        strstr(body, "Export with name ex1-topic is already exported by stack ex1"));
    free(body);
    /* an export in use can be neither removed nor deleted */
    update_stack("ex1", "{\"Resources\":{\"T\":{\"Type\":\"AWS::SNS::Topic\"}}}");
    expect_status("ex1", "UPDATE_ROLLBACK_COMPLETE");
    CFN(&body, "DescribeStacks", "StackName", "ex1", NULL);
    ck_assert_ptr_nonnull(
        strstr(body, "Export ex1-topic cannot be deleted as it is in use by ex2"));
    free(body);
    CFN(&body, "DeleteStack", "StackName", "ex1", NULL);
    free(body);
    expect_status("ex1", "DELETE_FAILED");
    CFN(&body, "ListExports", NULL);
    ck_assert_ptr_nonnull(strstr(body, "ex1-topic"));
    free(body);
    /* once the importer is gone, deleting the exporter removes the export */
    CFN(&body, "DeleteStack", "StackName", "ex2", NULL);
    free(body);
    CFN(&body, "DeleteStack", "StackName", "ex1", NULL);
    free(body);
    {
        int i;
        for (i = 0; i < 2000; i++) {
            CFN(&body, "ListExports", NULL);
            if (strstr(body, "ex1-topic") == NULL) {
                break;
            }
            free(body);
            body = NULL;
            usleep(2000);
        }
        ck_assert_ptr_null(strstr(body, "ex1-topic"));
        free(body);
    }
}
END_TEST

/* ------------------------------------------------------- resource types */

START_TEST(test_all_resource_types)
{
    char *t = fixture("all-types.yaml"), *body = NULL, *v, path[1024], *stack_id_all;
    create_stack("all", t, 1);
    expect_status("all", "CREATE_COMPLETE");
    CFN(&body, "DescribeStacks", "StackName", "all", NULL);
    stack_id_all = xml_get(body, "StackId");
    free(body);
    /* Lambda: function, version, alias, permission, event source mapping */
    v = physical("all", "Fn");
    snprintf(path, sizeof(path), "/2015-03-31/functions/%s", v);
    ck_assert_int_eq(rest("lambda", "GET", path, &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "nodejs20.x"));
    free(body);
    snprintf(path, sizeof(path), "/2015-03-31/functions/%s/aliases/dev", v);
    ck_assert_int_eq(rest("lambda", "GET", path, &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "\"FunctionVersion\":\"1\""));
    free(body);
    snprintf(path, sizeof(path), "/2015-03-31/functions/%s/policy?Qualifier=dev", v);
    ck_assert_int_eq(rest("lambda", "GET", path, &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "apigateway.amazonaws.com"));
    free(body);
    free(v);
    v = output("all", "EsmId");
    snprintf(path, sizeof(path), "/2015-03-31/event-source-mappings/%s", v);
    ck_assert_int_eq(rest("lambda", "GET", path, &body), 200);
    free(body);
    free(v);
    /* API Gateway: the stage URL really invokes the function via the alias */
    v = output("all", "ApiId");
    {
        struct gr_resp r;
        char url[512];
        snprintf(url, sizeof(url), "/_aws/execute-api/%s/dev/hello", v);
        ck_assert_int_eq(gr_request_unsigned(&srv, "GET", url, NULL, NULL, 0, &r), 0);
        ck_assert_msg(r.status == 200 && strstr(r.body, "\"stage\":\"dev\"") != NULL, "%ld %s",
                      r.status, r.body);
        gr_resp_free(&r);
    }
    snprintf(path, sizeof(path), "/restapis/%s/stages/dev", v);
    ck_assert_int_eq(rest("apigateway", "GET", path, &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "functionAlias"));
    free(body);
    free(v);
    /* IAM: role with inline + policy + managed policy */
    v = physical("all", "Role");
    ck_assert_int_eq(IAM(&body, "ListRolePolicies", "RoleName", v, NULL), 200);
    ck_assert_ptr_nonnull(strstr(body, "inline"));
    ck_assert_ptr_nonnull(strstr(body, "extra"));
    free(body);
    ck_assert_int_eq(IAM(&body, "ListAttachedRolePolicies", "RoleName", v, NULL), 200);
    ck_assert_ptr_nonnull(strstr(body, "all-Managed-"));
    free(body);
    free(v);
    /* queue and topic policies */
    {
        char *url = output("all", "QueueUrl"), pol[4096], *topic = output("all", "TopicArn");
        ck_assert_int_eq(sqs_attr(url, "Policy", pol, sizeof(pol)), 200);
        ck_assert_msg(strstr(pol, "sqs:SendMessage") != NULL, "%s", pol);
        ck_assert_int_eq(SNS(&body, "GetTopicAttributes", "TopicArn", topic, NULL), 200);
        ck_assert_msg(strstr(body, "events.amazonaws.com") != NULL, "%s", body);
        free(body);
        free(url);
        free(topic);
    }
    /* SNS subscription, Events rule with its target, bucket policy */
    v = output("all", "SubArn");
    ck_assert_int_eq(SNS(&body, "GetSubscriptionAttributes", "SubscriptionArn", v, NULL), 200);
    free(body);
    free(v);
    v = physical("all", "Rule");
    {
        char b[512];
        cJSON *j = NULL;
        snprintf(b, sizeof(b), "{\"Name\":\"%s\"}", v);
        ck_assert_int_eq(jcall("events", "AWSEvents.DescribeRule", b, &j), 200);
        ck_assert_str_eq(cJSON_GetObjectItem(j, "ScheduleExpression")->valuestring,
                         "rate(5 minutes)");
        cJSON_Delete(j);
        j = NULL;
        snprintf(b, sizeof(b), "{\"Rule\":\"%s\"}", v);
        ck_assert_int_eq(jcall("events", "AWSEvents.ListTargetsByRule", b, &j), 200);
        ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "Targets")), 1);
        cJSON_Delete(j);
    }
    free(v);
    v = physical("all", "Bucket");
    snprintf(path, sizeof(path), "/%s?policy=", v);
    ck_assert_int_eq(rest("s3", "GET", path, &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "s3:GetObject"));
    free(body);
    free(v);
    /* DynamoDB and Logs attributes */
    v = output("all", "TableStream");
    ck_assert_ptr_nonnull(strstr(v, ":table/all-Table-"));
    ck_assert_ptr_nonnull(strstr(v, "/stream/"));
    free(v);
    v = output("all", "LogsArn");
    ck_assert_msg(strncmp(v, "arn:aws:logs:us-east-1:000000000000:log-group:all-Logs-", 55) == 0,
                  "%s", v);
    free(v);
    /* and everything goes away with the stack */
    {
        char *w;
        CFN(&body, "DeleteStack", "StackName", "all", NULL);
        free(body);
        expect_status(stack_id_all, "DELETE_COMPLETE");
        w = world();
        ck_assert_msg(strstr(w, "all-") == NULL, "left behind: %s", w);
        free(w);
    }
    free(stack_id_all);
    free(t);
}
END_TEST

START_TEST(test_update_all_types)
{
    char *t = fixture("all-types.yaml"), *body = NULL, *fn1, *fn2, *alias1, *alias2, *api, *url,
         *rule, path[1024];
    char vt[32];
    long st;
    create_stack("up", t, 1);
    expect_status("up", "CREATE_COMPLETE");
    fn1 = physical("up", "Fn");
    alias1 = physical("up", "Alias");
    st = CFN(&body, "UpdateStack", "StackName", "up", "UsePreviousTemplate", "true",
             "Capabilities.member.1", "CAPABILITY_IAM", "Parameters.member.1.ParameterKey", "Stage",
             "Parameters.member.1.ParameterValue", "prod", "Parameters.member.2.ParameterKey",
             "Greeting", "Parameters.member.2.ParameterValue", "bonjour",
             "Parameters.member.3.ParameterKey", "Visibility", "Parameters.member.3.ParameterValue",
             "90", "Parameters.member.4.ParameterKey", "Schedule",
             "Parameters.member.4.ParameterValue", "rate(10 minutes)",
             "Parameters.member.5.ParameterKey", "BatchSize", "Parameters.member.5.ParameterValue",
             "10", NULL);
    ck_assert_msg(st == 200, "%s", body);
    free(body);
    expect_status("up", "UPDATE_COMPLETE");
    /* the function is updated in place (configuration and code) */
    fn2 = physical("up", "Fn");
    ck_assert_str_eq(fn1, fn2);
    {
        static const char *const hdr[] = {"Content-Type: application/json", NULL};
        struct gr_resp r;
        snprintf(path, sizeof(path), "/2015-03-31/functions/%s/invocations", fn2);
        ck_assert_int_eq(gr_request(&srv, "lambda", "POST", path, hdr, "{}", 2, &r), 0);
        ck_assert_msg(r.status == 200 && strstr(r.body, "prod") && strstr(r.body, "bonjour"),
                      "%ld %s", r.status, r.body);
        gr_resp_free(&r);
    }
    /* the alias is replaced (Name changed): prod exists, dev is gone */
    alias2 = physical("up", "Alias");
    ck_assert_str_ne(alias1, alias2);
    snprintf(path, sizeof(path), "/2015-03-31/functions/%s/aliases/prod", fn2);
    ck_assert_int_eq(rest("lambda", "GET", path, NULL), 200);
    snprintf(path, sizeof(path), "/2015-03-31/functions/%s/aliases/dev", fn2);
    ck_assert_int_eq(rest("lambda", "GET", path, NULL), 404);
    /* the API stage is replaced too */
    api = output("up", "ApiId");
    snprintf(path, sizeof(path), "/restapis/%s/stages/prod", api);
    ck_assert_int_eq(rest("apigateway", "GET", path, NULL), 200);
    snprintf(path, sizeof(path), "/restapis/%s/stages/dev", api);
    ck_assert_int_eq(rest("apigateway", "GET", path, NULL), 404);
    /* queue and rule updated in place */
    url = output("up", "QueueUrl");
    ck_assert_int_eq(sqs_attr(url, "VisibilityTimeout", vt, sizeof(vt)), 200);
    ck_assert_str_eq(vt, "90");
    rule = physical("up", "Rule");
    {
        char b[512];
        cJSON *j = NULL;
        snprintf(b, sizeof(b), "{\"Name\":\"%s\"}", rule);
        ck_assert_int_eq(jcall("events", "AWSEvents.DescribeRule", b, &j), 200);
        ck_assert_str_eq(cJSON_GetObjectItem(j, "ScheduleExpression")->valuestring,
                         "rate(10 minutes)");
        cJSON_Delete(j);
    }
    /* API description, mapping batch size and bucket tags: in place */
    snprintf(path, sizeof(path), "/restapis/%s", api);
    ck_assert_int_eq(rest("apigateway", "GET", path, &body), 200);
    ck_assert_msg(strstr(body, "api for prod") != NULL, "%s", body);
    free(body);
    {
        char *esm = output("up", "EsmId");
        snprintf(path, sizeof(path), "/2015-03-31/event-source-mappings/%s", esm);
        ck_assert_int_eq(rest("lambda", "GET", path, &body), 200);
        ck_assert_msg(strstr(body, "\"BatchSize\":10") != NULL, "%s", body);
        free(body);
        free(esm);
    }
    {
        char *b = physical("up", "Bucket");
        snprintf(path, sizeof(path), "/%s?tagging=", b);
        ck_assert_int_eq(rest("s3", "GET", path, &body), 200);
        ck_assert_msg(strstr(body, "<Value>prod</Value>") != NULL, "%s", body);
        free(body);
        free(b);
    }
    CFN(&body, "DescribeStackResource", "StackName", "up", "LogicalResourceId", "Logs", NULL);
    ck_assert_ptr_nonnull(strstr(body, "<ResourceStatus>UPDATE_COMPLETE</ResourceStatus>"));
    free(body);
    free(fn1);
    free(fn2);
    free(alias1);
    free(alias2);
    free(api);
    free(url);
    free(rule);
    free(t);
}
END_TEST

/* ------------------------------------------------------------- rollbacks */

START_TEST(test_create_rollback)
{
    char *before = world(), *after, *body = NULL;
    char *t = fixture("failing.json");
    create_stack("rb", t, 0);
    expect_status("rb", "ROLLBACK_COMPLETE");
    after = world();
    ck_assert_str_eq(before, after);
    CFN(&body, "DescribeStacks", "StackName", "rb", NULL);
    ck_assert_ptr_nonnull(strstr(
        body, "The following resource(s) failed to create: [Broken]. Rollback requested by user."));
    free(body);
    CFN(&body, "DescribeStackEvents", "StackName", "rb", NULL);
    ck_assert_ptr_nonnull(strstr(body, "Unsupported resource type AWS::GameLift::Alias"));
    ck_assert_int_eq(count(body, "<ResourceStatus>DELETE_COMPLETE</ResourceStatus>"), 4);
    free(body);
    /* a rolled-back stack cannot be updated, only deleted */
    ck_assert_int_eq(CFN(&body, "UpdateStack", "StackName", "rb", "TemplateBody", t, NULL), 400);
    ck_assert_ptr_nonnull(strstr(body, "is in ROLLBACK_COMPLETE state and can not be updated."));
    free(body);
    /* OnFailure DELETE: the stack disappears */
    CFN(&body, "CreateStack", "StackName", "rbd", "TemplateBody", t, "OnFailure", "DELETE", NULL);
    {
        char *id = xml_get(body, "StackId");
        free(body);
        ck_assert_ptr_nonnull(id);
        expect_status(id, "DELETE_COMPLETE");
        CFN(&body, "DescribeStacks", "StackName", id, NULL);
        ck_assert_ptr_nonnull(strstr(body, "<StackStatusReason>The following resource(s) failed "
                                           "to create: [Broken]. </StackStatusReason>"));
        free(body);
        ck_assert_int_eq(CFN(&body, "DescribeStacks", "StackName", "rbd", NULL), 400);
        free(body);
        free(id);
    }
    /* OnFailure DO_NOTHING / DisableRollback: CREATE_FAILED, resources kept */
    CFN(&body, "CreateStack", "StackName", "rbn", "TemplateBody", t, "OnFailure", "DO_NOTHING",
        NULL);
    free(body);
    expect_status("rbn", "CREATE_FAILED");
    CFN(&body, "CreateStack", "StackName", "rbr", "TemplateBody", t, "DisableRollback", "true",
        NULL);
    free(body);
    expect_status("rbr", "CREATE_FAILED");
    {
        char *b = physical("rbr", "Bucket"), path[512];
        snprintf(path, sizeof(path), "/%s", b);
        ck_assert_int_eq(rest("s3", "HEAD", path, NULL), 200);
        free(b);
    }
    free(before);
    free(after);
    free(t);
}
END_TEST

START_TEST(test_update_rollback)
{
    const char *v1 =
        "{\"Resources\":{"
        "\"Q\":{\"Type\":\"AWS::SQS::Queue\",\"Properties\":{\"VisibilityTimeout\":30}},"
        "\"T\":{\"Type\":\"AWS::SNS::Topic\",\"Properties\":{\"TopicName\":\"first\"}},"
        "\"R\":{\"Type\":\"AWS::IAM::Role\",\"Properties\":{\"AssumeRolePolicyDocument\":{},"
        "\"Policies\":[{\"PolicyName\":\"p1\",\"PolicyDocument\":{}}]}}},"
        "\"Outputs\":{\"Q\":{\"Value\":{\"Ref\":\"Q\"}}}}";
    const char *v2 =
        "{\"Resources\":{"
        "\"Q\":{\"Type\":\"AWS::SQS::Queue\",\"Properties\":{\"VisibilityTimeout\":99}},"
        "\"T\":{\"Type\":\"AWS::SNS::Topic\",\"Properties\":{\"TopicName\":\"second\"}},"
        "\"R\":{\"Type\":\"AWS::IAM::Role\",\"Properties\":{\"AssumeRolePolicyDocument\":{},"
        "\"Policies\":[{\"PolicyName\":\"p2\",\"PolicyDocument\":{}}]}},"
        "\"B\":{\"Type\":\"AWS::S3::Bucket\"},"
        "\"X\":{\"Type\":\"AWS::GameLift::Script\",\"DependsOn\":[\"Q\",\"T\",\"R\",\"B\"]}},"
        "\"Outputs\":{\"Q\":{\"Value\":{\"Ref\":\"Q\"}}}}";
    char *before, *after, *body = NULL, *url;
    char vt[32];
    create_stack("ur", v1, 1);
    expect_status("ur", "CREATE_COMPLETE");
    before = world();
    ck_assert_ptr_nonnull(strstr(before, "policies <member>p1</member>"));
    update_stack("ur", v2);
    expect_status("ur", "UPDATE_ROLLBACK_COMPLETE");
    after = world();
    ck_assert_str_eq(before, after);
    url = output("ur", "Q");
    ck_assert_int_eq(sqs_attr(url, "VisibilityTimeout", vt, sizeof(vt)), 200);
    ck_assert_str_eq(vt, "30");
    CFN(&body, "DescribeStackEvents", "StackName", "ur", NULL);
    ck_assert_ptr_nonnull(strstr(body, "UPDATE_ROLLBACK_IN_PROGRESS"));
    ck_assert_ptr_nonnull(strstr(body, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"));
    ck_assert_ptr_nonnull(strstr(body, "The following resource(s) failed to create: [X]. "));
    free(body);
    /* the stack still holds the old template and can be updated again */
    CFN(&body, "GetTemplate", "StackName", "ur", NULL);
    ck_assert_ptr_nonnull(strstr(body, "first"));
    free(body);
    CFN(&body, "DescribeStackResource", "StackName", "ur", "LogicalResourceId", "T", NULL);
    ck_assert_ptr_nonnull(
        strstr(body, "<PhysicalResourceId>arn:aws:sns:us-east-1:000000000000:first<"));
    free(body);
    /* an in-place update that fails (injected on the queue, after the role
     * and topic were changed) restores everything and completes the rollback */
    {
        static const char *const hdr[] = {"Content-Type: application/json", NULL};
        const char *rule = "[{\"cfnResourceFailure\":{\"logicalId\":\"Q\",\"reason\":"
                           "\"Rate exceeded\"}}]";
        const char *v3 = "{\"Resources\":{"
                         "\"R\":{\"Type\":\"AWS::IAM::Role\",\"Properties\":{"
                         "\"AssumeRolePolicyDocument\":{},\"Policies\":[{\"PolicyName\":\"p3\","
                         "\"PolicyDocument\":{}}]}},"
                         "\"T\":{\"Type\":\"AWS::SNS::Topic\",\"Properties\":{\"TopicName\":"
                         "\"third\"}},"
                         "\"Q\":{\"Type\":\"AWS::SQS::Queue\",\"DependsOn\":[\"R\",\"T\"],"
                         "\"Properties\":{\"VisibilityTimeout\":77}}},"
                         "\"Outputs\":{\"Q\":{\"Value\":{\"Ref\":\"Q\"}}}}";
        struct gr_resp r;
        char *again;
        ck_assert_int_eq(
            gr_request_unsigned(&srv, "POST", "/_greenroom/faults", hdr, rule, strlen(rule), &r),
            0);
        gr_resp_free(&r);
        update_stack("ur", v3);
        expect_status("ur", "UPDATE_ROLLBACK_COMPLETE");
        CFN(&body, "DescribeStacks", "StackName", "ur", NULL);
        ck_assert_ptr_nonnull(strstr(body, "The following resource(s) failed to update: [Q]. "));
        free(body);
        again = world();
        ck_assert_str_eq(before, again);
        free(again);
    }
    free(url);
    free(before);
    free(after);
}
END_TEST

START_TEST(test_crash_recovery)
{
    char *t = fixture("failing.json"), *before = world(), *after, *body = NULL, db[400];
    sqlite3 *h = NULL;
    CFN(&body, "CreateStack", "StackName", "crash", "TemplateBody", t, "OnFailure", "DO_NOTHING",
        NULL);
    free(body);
    expect_status("crash", "CREATE_FAILED");
    /* pretend greenroom died in the middle of the create */
    gr_kill9(&srv);
    snprintf(db, sizeof(db), "%s/state.db", srv.state_dir);
    ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
    ck_assert_int_eq(
        sqlite3_exec(h, "UPDATE cfn_stacks SET status = 'CREATE_IN_PROGRESS'", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(h);
    ck_assert_int_eq(gr_restart(&srv, NULL), 0);
    expect_status("crash", "ROLLBACK_COMPLETE");
    after = world();
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
    free(t);
}
END_TEST

START_TEST(test_reset)
{
    struct gr_resp r;
    char *body = NULL, *t = fixture("twenty.json");
    create_stack("rs", t, 0);
    ck_assert_int_eq(gr_request_unsigned(&srv, "POST", "/_greenroom/reset", NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    gr_resp_free(&r);
    ck_assert_int_eq(CFN(&body, "DescribeStacks", "StackName", "rs", NULL), 400);
    free(body);
    ck_assert_int_eq(CFN(&body, "ListStacks", NULL), 200);
    ck_assert_ptr_null(strstr(body, "<StackName>"));
    free(body);
    /* the name is free again and the new stack is whole */
    create_stack("rs", t, 0);
    expect_status("rs", "CREATE_COMPLETE");
    CFN(&body, "ListStackResources", "StackName", "rs", NULL);
    ck_assert_int_eq(count(body, "<ResourceStatus>CREATE_COMPLETE</ResourceStatus>"), 20);
    free(body);
    free(t);
}
END_TEST

START_TEST(test_fault_hook)
{
    static const char *const hdr[] = {"Content-Type: application/json", NULL};
    const char *rule = "[{\"id\":\"cfn\",\"cfnResourceFailure\":{\"logicalId\":\"BooksSqs\","
                       "\"reason\":\"Resource limit exceeded\"}}]";
    struct gr_resp r;
    char *before = world(), *after, *body = NULL, *t = fixture("v05-example.json");
    ck_assert_int_eq(
        gr_request_unsigned(&srv, "POST", "/_greenroom/faults", hdr, rule, strlen(rule), &r), 0);
    ck_assert_msg(r.status < 300, "%ld %s", r.status, r.body);
    gr_resp_free(&r);
    create_stack("fh", t, 1);
    expect_status("fh", "ROLLBACK_COMPLETE");
    CFN(&body, "DescribeStackEvents", "StackName", "fh", NULL);
    ck_assert_ptr_nonnull(strstr(body, "<LogicalResourceId>BooksSqs</LogicalResourceId>"));
    ck_assert_ptr_nonnull(
        strstr(body, "<ResourceStatus>CREATE_FAILED</ResourceStatus><ResourceStatusReason>Resource "
                     "limit exceeded"));
    free(body);
    after = world();
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
    free(t);
}
END_TEST

START_TEST(test_timing_20)
{
    static const char *const hdr[] = {"Content-Type: application/json", NULL};
    const char *rule = "[{\"cfnResourceFailure\":{\"logicalId\":\"Logs4\",\"reason\":\"injected\"},"
                       "\"resource\":\"t20b\"}]";
    char *t = fixture("twenty.json"), *body = NULL;
    struct gr_resp r;
    double t0, t1, t2;
    t0 = now_ms();
    create_stack("t20", t, 0);
    expect_status("t20", "CREATE_COMPLETE");
    t1 = now_ms();
    CFN(&body, "ListStackResources", "StackName", "t20", NULL);
    ck_assert_int_eq(count(body, "<ResourceStatus>CREATE_COMPLETE</ResourceStatus>"), 20);
    free(body);
    ck_assert_int_eq(
        gr_request_unsigned(&srv, "POST", "/_greenroom/faults", hdr, rule, strlen(rule), &r), 0);
    gr_resp_free(&r);
    t1 = now_ms() - t1 + t1;
    {
        double s = now_ms();
        create_stack("t20b", t, 0);
        expect_status("t20b", "ROLLBACK_COMPLETE");
        t2 = now_ms() - s;
    }
    CFN(&body, "DescribeStackEvents", "StackName", "t20b", NULL);
    ck_assert_int_eq(count(body, "<ResourceStatus>DELETE_COMPLETE</ResourceStatus>"), 20);
    free(body);
    fprintf(stderr,
            "timing: 20-resource create %.1f ms; create of 19 + failure + full rollback %.1f ms\n",
            t1 - t0, t2);
    free(t);
}
END_TEST

int main(void)
{
    const struct kit_case cases[] = {
        {"CreateStack", test_create_stack, NULL},
        {"TemplateURL", test_template_url, NULL},
        {"YamlStack", test_yaml_stack, NULL},
        {"DescribeStacks", test_describe_stacks, NULL},
        {"ListStacks", test_list_stacks, NULL},
        {"DescribeStackEvents", test_describe_stack_events, NULL},
        {"DescribeStackResources", test_describe_stack_resources, NULL},
        {"ListStackResources", test_list_stack_resources, NULL},
        {"AllowedPattern", test_allowed_pattern, NULL},
        {"GetTemplate", test_get_template, NULL},
        {"GetTemplateSummary", test_get_template_summary, NULL},
        {"ValidateTemplate", test_validate_template, NULL},
        {"UpdateStack", test_update_stack, NULL},
        {"UpdateInProgress", test_update_in_progress, NULL},
        {"DeleteStack", test_delete_stack, NULL},
        {"ChangeSets", test_change_sets, NULL},
        {"CancelUpdateStack", test_cancel_update_stack, NULL},
        {"ListExports", test_list_exports, NULL},
        {"AllResourceTypes", test_all_resource_types, NULL},
        {"UpdateAllResourceTypes", test_update_all_types, NULL},
        {"CreateRollback", test_create_rollback, NULL},
        {"UpdateRollback", test_update_rollback, NULL},
        {"CrashRecovery", test_crash_recovery, NULL},
        {"Reset", test_reset, NULL},
        {"FaultHook", test_fault_hook, NULL},
        {"Timing20", test_timing_20, NULL},
    };
    return KIT_RUN("cloudformation", cases, setup, teardown, 60);
}
