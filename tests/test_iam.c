/*
 * test_iam.c - the IAM slice (query protocol) against a real greenroom:
 * roles (and their updates), inline and managed policies, policy versions,
 * users and groups with their inline policies, with their errors. One tcase per
 * group of operations.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testkit.h"

static struct gr_server srv;
static const char *const form_hdr[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
#define DOC "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D"
#define DOC2 "%7B%22Version%22%3A%222012-10-17%22%2C%22Id%22%3A%222%22%7D"

static void setup(void)
{
    gr_set_credentials("test", "test", "us-east-1");
    ck_assert_int_eq(gr_start(&srv, NULL), 0);
}

static void teardown(void)
{
    gr_stop(&srv);
}

/* Sends Version=2010-05-08&<params><tail>; returns the response. tail
 * (may be NULL) is appended verbatim (no format: bodies hold '%'). */
static struct gr_resp iam2(const char *params, const char *tail)
{
    char body[4096];
    snprintf(body, sizeof(body), "Version=2010-05-08&%s%s", params, tail ? tail : "");
    struct gr_resp r;
    ck_assert_int_eq(gr_request(&srv, "iam", "POST", "/", form_hdr, body, strlen(body), &r), 0);
    return r;
}

static void expect(struct gr_resp *r, long status, const char *part)
{
    if (r->status != status || strstr(r->body, part) == NULL) {
        fprintf(stderr, "got %ld: %s\n", r->status, r->body);
    }
    ck_assert_int_eq(r->status, status);
    ck_assert_ptr_nonnull(strstr(r->body, part));
    gr_resp_free(r);
}

/* Expects an error answer: status, the AWS code and (unless NULL) a part of
 * the message. */
static void expect_error(struct gr_resp *r, long status, const char *code, const char *message)
{
    char tag[96];
    snprintf(tag, sizeof(tag), "<Code>%s</Code>", code);
    if (message != NULL && strstr(r->body, message) == NULL) {
        fprintf(stderr, "got %ld: %s\n", r->status, r->body);
    }
    ck_assert_ptr_nonnull(message ? strstr(r->body, message) : r->body);
    expect(r, status, tag);
}

/* The inline policies of principal `name` of kind `kind` ("Role", "User",
 * "Group"; `label` in messages), which exists and has none yet: Put (and on
 * a ghost, and a bad document), Get (and a missing policy), List, Delete of
 * the principal refused while a policy is left, DeletePolicy (twice), then
 * the principal deleted (twice). The same for every kind, as AWS answers. */
static void inline_policy_cycle(const char *kind, const char *label, const char *name)
{
    char req[256];
    char want[256];
    snprintf(req, sizeof(req), "Action=Put%sPolicy&%sName=%s&PolicyName=p1&PolicyDocument=", kind,
             kind, name);
    struct gr_resp r = iam2(req, DOC);
    snprintf(want, sizeof(want), "<Put%sPolicyResponse", kind);
    expect(&r, 200, want);
    snprintf(req, sizeof(req),
             "Action=Put%sPolicy&%sName=ghost&PolicyName=p1&PolicyDocument=", kind, kind);
    r = iam2(req, DOC);
    snprintf(want, sizeof(want), "The %s with name ghost cannot be found.", label);
    expect_error(&r, 404, "NoSuchEntity", want);
    snprintf(req, sizeof(req), "Action=Put%sPolicy&%sName=%s&PolicyName=p2&PolicyDocument=%%7B",
             kind, kind, name);
    r = iam2(req, NULL);
    expect_error(&r, 400, "MalformedPolicyDocument", NULL);

    snprintf(req, sizeof(req), "Action=Get%sPolicy&%sName=%s&PolicyName=p1", kind, kind, name);
    r = iam2(req, NULL);
    snprintf(want, sizeof(want), "<%sName>%s</%sName>", kind, name, kind);
    ck_assert_ptr_nonnull(strstr(r.body, want));
    expect(&r, 200, "<PolicyDocument>" DOC "</PolicyDocument>");
    snprintf(req, sizeof(req), "Action=Get%sPolicy&%sName=%s&PolicyName=p9", kind, kind, name);
    r = iam2(req, NULL);
    snprintf(want, sizeof(want), "The %s policy with name p9 cannot be found.", label);
    expect_error(&r, 404, "NoSuchEntity", want);
    snprintf(req, sizeof(req), "Action=List%sPolicies&%sName=%s", kind, kind, name);
    r = iam2(req, NULL);
    expect(&r, 200, "<PolicyNames><member>p1</member></PolicyNames>");

    snprintf(req, sizeof(req), "Action=Delete%s&%sName=%s", kind, kind, name);
    r = iam2(req, NULL);
    expect_error(&r, 409, "DeleteConflict", "Cannot delete entity, must delete policies first.");
    snprintf(req, sizeof(req), "Action=Delete%sPolicy&%sName=%s&PolicyName=p1", kind, kind, name);
    r = iam2(req, NULL);
    snprintf(want, sizeof(want), "<Delete%sPolicyResponse", kind);
    expect(&r, 200, want);
    r = iam2(req, NULL);
    expect_error(&r, 404, "NoSuchEntity", NULL);
    snprintf(req, sizeof(req), "Action=Delete%s&%sName=%s", kind, kind, name);
    r = iam2(req, NULL);
    snprintf(want, sizeof(want), "<Delete%sResponse", kind);
    expect(&r, 200, want);
    r = iam2(req, NULL);
    expect_error(&r, 404, "NoSuchEntity", NULL);
}

START_TEST(test_roles)
{
    struct gr_resp r =
        iam2("Action=CreateRole&RoleName=r1&Description=d&AssumeRolePolicyDocument=" DOC, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(
        strstr(r.body, "<CreateRoleResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"));
    ck_assert_ptr_nonnull(strstr(r.body, "<Arn>arn:aws:iam::000000000000:role/r1</Arn>"));
    ck_assert_ptr_nonnull(strstr(r.body, "<RoleId>AROA"));
    /* the document comes back URL-encoded, as AWS sends it */
    ck_assert_ptr_nonnull(strstr(r.body, "<AssumeRolePolicyDocument>%7B%22Version%22"));
    gr_resp_free(&r);
    r = iam2("Action=CreateRole&RoleName=r1&AssumeRolePolicyDocument=" DOC, NULL);
    expect(&r, 409, "<Code>EntityAlreadyExists</Code>");
    r = iam2("Action=CreateRole&RoleName=bad%20name&AssumeRolePolicyDocument=" DOC, NULL);
    expect(&r, 400, "<Code>ValidationError</Code>");
    r = iam2("Action=CreateRole&RoleName=r2&AssumeRolePolicyDocument=%7Bnot", NULL);
    expect(&r, 400, "<Code>MalformedPolicyDocument</Code>");
    r = iam2("Action=CreateRole&RoleName=r2", NULL);
    expect(&r, 400, "assumeRolePolicyDocument");
    r = iam2("Action=CreateRole&RoleName=r3&Path=%2Fsvc%2F&AssumeRolePolicyDocument=" DOC, NULL);
    expect(&r, 200, "<Arn>arn:aws:iam::000000000000:role/svc/r3</Arn>");
    r = iam2("Action=CreateRole&RoleName=r4&Path=nope&AssumeRolePolicyDocument=" DOC, NULL);
    expect(&r, 400, "<Code>ValidationError</Code>");

    r = iam2("Action=GetRole&RoleName=r1", NULL);
    expect(&r, 200, "<Description>d</Description>");
    r = iam2("Action=GetRole&RoleName=ghost", NULL);
    expect(&r, 404, "The role with name ghost cannot be found.");

    r = iam2("Action=ListRoles", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "<RoleName>r1</RoleName>"));
    ck_assert_ptr_nonnull(strstr(r.body, "<RoleName>r3</RoleName>"));
    ck_assert_ptr_nonnull(strstr(r.body, "<IsTruncated>false</IsTruncated>"));
    gr_resp_free(&r);
    r = iam2("Action=ListRoles&MaxItems=1", NULL);
    expect(&r, 200, "<IsTruncated>true</IsTruncated><Marker>1</Marker>");
    r = iam2("Action=ListRoles&PathPrefix=%2Fsvc%2F", NULL);
    ck_assert_ptr_null(strstr(r.body, "<RoleName>r1</RoleName>"));
    expect(&r, 200, "<RoleName>r3</RoleName>");

    /* IAM is global: the role is visible from another region */
    gr_set_credentials("test", "test", "eu-west-1");
    r = iam2("Action=GetRole&RoleName=r1", NULL);
    expect(&r, 200, "<RoleName>r1</RoleName>");
    gr_set_credentials("test", "test", "us-east-1");

    r = iam2("Action=DeleteRole&RoleName=r1", NULL);
    expect(&r, 200, "<DeleteRoleResponse");
    r = iam2("Action=DeleteRole&RoleName=r1", NULL);
    expect(&r, 404, "<Code>NoSuchEntity</Code>");
}
END_TEST

START_TEST(test_inline_policies)
{
    struct gr_resp r = iam2("Action=CreateRole&RoleName=ri&AssumeRolePolicyDocument=" DOC, NULL);
    expect(&r, 200, "<RoleName>ri</RoleName>");
    inline_policy_cycle("Role", "role", "ri");
}
END_TEST

START_TEST(test_managed_policies)
{
    struct gr_resp r = iam2("Action=CreateRole&RoleName=rm&AssumeRolePolicyDocument=" DOC, NULL);
    gr_resp_free(&r);
    r = iam2("Action=CreatePolicy&PolicyName=mp&Description=x&PolicyDocument=" DOC, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "<Arn>arn:aws:iam::000000000000:policy/mp</Arn>"));
    ck_assert_ptr_nonnull(strstr(r.body, "<PolicyId>ANPA"));
    gr_resp_free(&r);
    r = iam2("Action=CreatePolicy&PolicyName=mp&PolicyDocument=" DOC, NULL);
    expect(&r, 409, "<Code>EntityAlreadyExists</Code>");
    r = iam2("Action=CreatePolicy&PolicyName=mp2&PolicyDocument=%5B", NULL);
    expect(&r, 400, "<Code>MalformedPolicyDocument</Code>");
    const char *arn = "arn%3Aaws%3Aiam%3A%3A000000000000%3Apolicy%2Fmp";
    r = iam2("Action=GetPolicy&PolicyArn=", arn);
    expect(&r, 200, "<AttachmentCount>0</AttachmentCount>");
    r = iam2("Action=AttachRolePolicy&RoleName=rm&PolicyArn=", arn);
    expect(&r, 200, "<AttachRolePolicyResponse");
    r = iam2("Action=AttachRolePolicy&RoleName=rm&PolicyArn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%"
             "2Fservice-role%2FAWSLambdaBasicExecutionRole",
             NULL);
    expect(&r, 200, "<AttachRolePolicyResponse");
    r = iam2("Action=AttachRolePolicy&RoleName=rm&PolicyArn=arn%3Aaws%3Aiam%3A%3A000000000000%"
             "3Apolicy%2Fghost",
             NULL);
    expect(&r, 404, "does not exist or is not attachable");
    r = iam2("Action=AttachRolePolicy&RoleName=rm&PolicyArn=garbage", NULL);
    expect(&r, 400, "<Code>InvalidInput</Code>");
    r = iam2("Action=GetPolicy&PolicyArn=", arn);
    expect(&r, 200, "<AttachmentCount>1</AttachmentCount>");
    r = iam2("Action=ListAttachedRolePolicies&RoleName=rm", NULL);
    ck_assert_ptr_nonnull(strstr(r.body, "<PolicyName>AWSLambdaBasicExecutionRole</PolicyName>"));
    expect(&r, 200, "<PolicyName>mp</PolicyName>");
    r = iam2("Action=DeletePolicy&PolicyArn=", arn);
    expect(&r, 409, "<Code>DeleteConflict</Code>");
    r = iam2("Action=DeleteRole&RoleName=rm", NULL);
    expect(&r, 409, "must detach all policies first");
    r = iam2("Action=DetachRolePolicy&RoleName=rm&PolicyArn=", arn);
    expect(&r, 200, "<DetachRolePolicyResponse");
    r = iam2("Action=DetachRolePolicy&RoleName=rm&PolicyArn=", arn);
    expect(&r, 404, "<Code>NoSuchEntity</Code>");
    r = iam2("Action=DeletePolicy&PolicyArn=", arn);
    expect(&r, 200, "<DeletePolicyResponse");
    r = iam2("Action=GetPolicy&PolicyArn=", arn);
    expect(&r, 404, "was not found");
}
END_TEST

START_TEST(test_role_updates)
{
    struct gr_resp r = iam2("Action=CreateRole&RoleName=ru&AssumeRolePolicyDocument=" DOC, NULL);
    gr_resp_free(&r);
    /* a new trust policy */
    r = iam2("Action=UpdateAssumeRolePolicy&RoleName=ru&PolicyDocument=", DOC2);
    expect(&r, 200, "<UpdateAssumeRolePolicyResponse");
    r = iam2("Action=GetRole&RoleName=ru", NULL);
    expect(&r, 200, "<AssumeRolePolicyDocument>" DOC2 "</AssumeRolePolicyDocument>");
    r = iam2("Action=UpdateAssumeRolePolicy&RoleName=ru&PolicyDocument=%7Bbad", NULL);
    expect(&r, 400, "<Code>MalformedPolicyDocument</Code>");
    r = iam2("Action=UpdateAssumeRolePolicy&RoleName=ghost&PolicyDocument=", DOC2);
    expect(&r, 404, "<Code>NoSuchEntity</Code>");
    r = iam2("Action=UpdateAssumeRolePolicy&RoleName=ru", NULL);
    expect(&r, 400, "policyDocument");
    /* description and session length */
    r = iam2("Action=UpdateRole&RoleName=ru&Description=new%20words&MaxSessionDuration=7200", NULL);
    expect(&r, 200, "<UpdateRoleResponse");
    r = iam2("Action=GetRole&RoleName=ru", NULL);
    ck_assert_ptr_nonnull(strstr(r.body, "<Description>new words</Description>"));
    expect(&r, 200, "<MaxSessionDuration>7200</MaxSessionDuration>");
    r = iam2("Action=UpdateRole&RoleName=ru&Description=only", NULL);
    expect(&r, 200, "<UpdateRoleResponse");
    r = iam2("Action=GetRole&RoleName=ru", NULL);
    ck_assert_ptr_nonnull(strstr(r.body, "<Description>only</Description>"));
    expect(&r, 200, "<MaxSessionDuration>7200</MaxSessionDuration>");
    r = iam2("Action=UpdateRole&RoleName=ru&MaxSessionDuration=60", NULL);
    expect(&r, 400, "greater than or equal to 3600");
    r = iam2("Action=UpdateRole&RoleName=ru&MaxSessionDuration=99999", NULL);
    expect(&r, 400, "less than or equal to 43200");
    r = iam2("Action=UpdateRole&RoleName=ghost&Description=x", NULL);
    expect(&r, 404, "<Code>NoSuchEntity</Code>");
}
END_TEST

START_TEST(test_policy_versions)
{
    const char *arn = "arn%3Aaws%3Aiam%3A%3A000000000000%3Apolicy%2Fvp";
    struct gr_resp r = iam2("Action=CreatePolicy&PolicyName=vp&PolicyDocument=" DOC, NULL);
    expect(&r, 200, "<DefaultVersionId>v1</DefaultVersionId>");
    char body[512];
    snprintf(body, sizeof(body), "%s&PolicyDocument=%s", arn, DOC2);
    r = iam2("Action=CreatePolicyVersion&PolicyArn=", body);
    ck_assert_ptr_nonnull(strstr(r.body, "<VersionId>v2</VersionId>"));
    expect(&r, 200, "<IsDefaultVersion>false</IsDefaultVersion>");
    r = iam2("Action=GetPolicy&PolicyArn=", arn);
    expect(&r, 200, "<DefaultVersionId>v1</DefaultVersionId>");
    snprintf(body, sizeof(body), "%s&SetAsDefault=true&PolicyDocument=%s", arn, DOC2);
    r = iam2("Action=CreatePolicyVersion&PolicyArn=", body);
    ck_assert_ptr_nonnull(strstr(r.body, "<VersionId>v3</VersionId>"));
    expect(&r, 200, "<IsDefaultVersion>true</IsDefaultVersion>");
    r = iam2("Action=GetPolicy&PolicyArn=", arn);
    expect(&r, 200, "<DefaultVersionId>v3</DefaultVersionId>");
    snprintf(body, sizeof(body), "%s&VersionId=v3", arn);
    r = iam2("Action=GetPolicyVersion&PolicyArn=", body);
    ck_assert_ptr_nonnull(strstr(r.body, "<Document>" DOC2 "</Document>"));
    expect(&r, 200, "<IsDefaultVersion>true</IsDefaultVersion>");
    snprintf(body, sizeof(body), "%s&VersionId=v1", arn);
    r = iam2("Action=GetPolicyVersion&PolicyArn=", body);
    expect(&r, 200, "<Document>" DOC "</Document>");
    snprintf(body, sizeof(body), "%s&VersionId=v9", arn);
    r = iam2("Action=GetPolicyVersion&PolicyArn=", body);
    expect(&r, 404, "<Code>NoSuchEntity</Code>");
    snprintf(body, sizeof(body), "%s&VersionId=bad", arn);
    r = iam2("Action=GetPolicyVersion&PolicyArn=", body);
    expect(&r, 400, "<Code>ValidationError</Code>");
    r = iam2("Action=ListPolicyVersions&PolicyArn=", arn);
    ck_assert_int_eq(r.status, 200);
    char *v3 = strstr(r.body, "<VersionId>v3</VersionId>");
    char *v1 = strstr(r.body, "<VersionId>v1</VersionId>");
    ck_assert_ptr_nonnull(v3);
    ck_assert_ptr_nonnull(v1);
    ck_assert(v3 < v1); /* newest first */
    gr_resp_free(&r);
    /* the default cannot go; others can */
    snprintf(body, sizeof(body), "%s&VersionId=v3", arn);
    r = iam2("Action=DeletePolicyVersion&PolicyArn=", body);
    expect(&r, 409, "Cannot delete the default version of a policy.");
    r = iam2("Action=DeletePolicy&PolicyArn=", arn);
    expect(&r, 409, "<Code>DeleteConflict</Code>");
    snprintf(body, sizeof(body), "%s&VersionId=v2", arn);
    r = iam2("Action=DeletePolicyVersion&PolicyArn=", body);
    expect(&r, 200, "<DeletePolicyVersionResponse");
    r = iam2("Action=DeletePolicyVersion&PolicyArn=", body);
    expect(&r, 404, "<Code>NoSuchEntity</Code>");
    /* at most 5 versions */
    snprintf(body, sizeof(body), "%s&PolicyDocument=%s", arn, DOC);
    for (int i = 0; i < 3; i++) {
        r = iam2("Action=CreatePolicyVersion&PolicyArn=", body);
        expect(&r, 200, "<VersionId>v");
    }
    r = iam2("Action=CreatePolicyVersion&PolicyArn=", body);
    expect(&r, 409, "<Code>LimitExceeded</Code>");
    r = iam2("Action=CreatePolicyVersion&PolicyArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Apolicy%"
             "2Fghost&PolicyDocument=",
             DOC);
    expect(&r, 404, "<Code>NoSuchEntity</Code>");
    snprintf(body, sizeof(body), "%s&PolicyDocument=%%7B", arn);
    r = iam2("Action=CreatePolicyVersion&PolicyArn=", body);
    expect(&r, 400, "<Code>MalformedPolicyDocument</Code>");
}
END_TEST

START_TEST(test_users)
{
    struct gr_resp r = iam2("Action=CreateUser&UserName=u1&Path=%2Fteam%2F", NULL);
    ck_assert_ptr_nonnull(strstr(r.body, "<UserId>AIDA"));
    expect(&r, 200, "<Arn>arn:aws:iam::000000000000:user/team/u1</Arn>");
    r = iam2("Action=CreateUser&UserName=u1", NULL);
    expect(&r, 409, "<Code>EntityAlreadyExists</Code>");
    r = iam2("Action=CreateUser&UserName=bad%20name", NULL);
    expect(&r, 400, "<Code>ValidationError</Code>");
    r = iam2("Action=GetUser&UserName=u1", NULL);
    expect(&r, 200, "<UserName>u1</UserName>");
    r = iam2("Action=GetUser&UserName=ghost", NULL);
    expect(&r, 404, "The user with name ghost cannot be found.");
    /* without a name: the caller (the account's root) */
    r = iam2("Action=GetUser", NULL);
    expect(&r, 200, "<Arn>arn:aws:iam::000000000000:root</Arn>");
    inline_policy_cycle("User", "user", "u1");
}
END_TEST

START_TEST(test_groups)
{
    struct gr_resp r = iam2("Action=CreateGroup&GroupName=g1", NULL);
    ck_assert_ptr_nonnull(strstr(r.body, "<GroupId>AGPA"));
    expect(&r, 200, "<Arn>arn:aws:iam::000000000000:group/g1</Arn>");
    r = iam2("Action=CreateGroup&GroupName=g1", NULL);
    expect(&r, 409, "<Code>EntityAlreadyExists</Code>");
    /* a user and a group of the same name are different things */
    r = iam2("Action=GetUser&UserName=g1", NULL);
    expect(&r, 404, "<Code>NoSuchEntity</Code>");
    r = iam2("Action=GetGroup&GroupName=g1", NULL);
    expect(&r, 200, "<GroupName>g1</GroupName>");
    inline_policy_cycle("Group", "group", "g1");
}
END_TEST

int main(void)
{
    const struct kit_case cases[] = {
        {"Roles", test_roles, NULL},
        {"InlinePolicies", test_inline_policies, NULL},
        {"ManagedPolicies", test_managed_policies, NULL},
        {"RoleUpdates", test_role_updates, NULL},
        {"PolicyVersions", test_policy_versions, NULL},
        {"Users", test_users, NULL},
        {"Groups", test_groups, NULL},
    };
    return KIT_RUN("iam", cases, setup, teardown, 0);
}
