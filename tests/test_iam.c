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

/* One request of a scripted test and what its answer must hold. */
struct iam_step {
    const char *params; /* after Version=...& (not a format: bodies hold '%') */
    long status;
    const char *part; /* in the answer */
    const char *also; /* in the answer too, unless NULL */
};

/* Sends each step in turn, checking its answer. */
static void iam_steps(const struct iam_step *steps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct gr_resp r = iam2(steps[i].params, NULL);
        if (r.status != steps[i].status || strstr(r.body, steps[i].part) == NULL ||
            (steps[i].also && strstr(r.body, steps[i].also) == NULL)) {
            fprintf(stderr, "step %zu: %s\n", i, steps[i].params);
        }
        if (steps[i].also) {
            ck_assert_ptr_nonnull(strstr(r.body, steps[i].also));
        }
        expect(&r, steps[i].status, steps[i].part);
    }
}

#define IAM_STEPS(steps) iam_steps(steps, sizeof(steps) / sizeof(steps[0]))

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
#define MP_ARN "arn%3Aaws%3Aiam%3A%3A000000000000%3Apolicy%2Fmp"
    static const struct iam_step steps[] = {
        {"Action=CreateRole&RoleName=rm&AssumeRolePolicyDocument=" DOC, 200, "<RoleName>rm<", NULL},
        {"Action=CreatePolicy&PolicyName=mp&Description=x&PolicyDocument=" DOC, 200,
         "<Arn>arn:aws:iam::000000000000:policy/mp</Arn>", "<PolicyId>ANPA"},
        {"Action=CreatePolicy&PolicyName=mp&PolicyDocument=" DOC, 409,
         "<Code>EntityAlreadyExists</Code>", NULL},
        {"Action=CreatePolicy&PolicyName=mp2&PolicyDocument=%5B", 400,
         "<Code>MalformedPolicyDocument</Code>", NULL},
        {"Action=GetPolicy&PolicyArn=" MP_ARN, 200, "<AttachmentCount>0</AttachmentCount>", NULL},
        {"Action=AttachRolePolicy&RoleName=rm&PolicyArn=" MP_ARN, 200, "<AttachRolePolicyResponse",
         NULL},
        {"Action=AttachRolePolicy&RoleName=rm&PolicyArn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%"
         "2Fservice-role%2FAWSLambdaBasicExecutionRole",
         200, "<AttachRolePolicyResponse", NULL},
        {"Action=AttachRolePolicy&RoleName=rm&PolicyArn=arn%3Aaws%3Aiam%3A%3A000000000000%"
         "3Apolicy%2Fghost",
         404, "does not exist or is not attachable", NULL},
        {"Action=AttachRolePolicy&RoleName=rm&PolicyArn=garbage", 400, "<Code>InvalidInput</Code>",
         NULL},
        {"Action=GetPolicy&PolicyArn=" MP_ARN, 200, "<AttachmentCount>1</AttachmentCount>", NULL},
        {"Action=ListAttachedRolePolicies&RoleName=rm", 200, "<PolicyName>mp</PolicyName>",
         "<PolicyName>AWSLambdaBasicExecutionRole</PolicyName>"},
        {"Action=DeletePolicy&PolicyArn=" MP_ARN, 409, "<Code>DeleteConflict</Code>", NULL},
        {"Action=DeleteRole&RoleName=rm", 409, "must detach all policies first", NULL},
        {"Action=DetachRolePolicy&RoleName=rm&PolicyArn=" MP_ARN, 200, "<DetachRolePolicyResponse",
         NULL},
        {"Action=DetachRolePolicy&RoleName=rm&PolicyArn=" MP_ARN, 404, "<Code>NoSuchEntity</Code>",
         NULL},
        {"Action=DeletePolicy&PolicyArn=" MP_ARN, 200, "<DeletePolicyResponse", NULL},
        {"Action=GetPolicy&PolicyArn=" MP_ARN, 404, "was not found", NULL},
    };
#undef MP_ARN
    IAM_STEPS(steps);
}
END_TEST

START_TEST(test_role_updates)
{
    static const struct iam_step steps[] = {
        {"Action=CreateRole&RoleName=ru&AssumeRolePolicyDocument=" DOC, 200, "<RoleName>ru<", NULL},
        /* a new trust policy */
        {"Action=UpdateAssumeRolePolicy&RoleName=ru&PolicyDocument=" DOC2, 200,
         "<UpdateAssumeRolePolicyResponse", NULL},
        {"Action=GetRole&RoleName=ru", 200,
         "<AssumeRolePolicyDocument>" DOC2 "</AssumeRolePolicyDocument>", NULL},
        {"Action=UpdateAssumeRolePolicy&RoleName=ru&PolicyDocument=%7Bbad", 400,
         "<Code>MalformedPolicyDocument</Code>", NULL},
        {"Action=UpdateAssumeRolePolicy&RoleName=ghost&PolicyDocument=" DOC2, 404,
         "<Code>NoSuchEntity</Code>", NULL},
        {"Action=UpdateAssumeRolePolicy&RoleName=ru", 400, "policyDocument", NULL},
        /* description and session length */
        {"Action=UpdateRole&RoleName=ru&Description=new%20words&MaxSessionDuration=7200", 200,
         "<UpdateRoleResponse", NULL},
        {"Action=GetRole&RoleName=ru", 200, "<MaxSessionDuration>7200</MaxSessionDuration>",
         "<Description>new words</Description>"},
        {"Action=UpdateRole&RoleName=ru&Description=only", 200, "<UpdateRoleResponse", NULL},
        {"Action=GetRole&RoleName=ru", 200, "<MaxSessionDuration>7200</MaxSessionDuration>",
         "<Description>only</Description>"},
        {"Action=UpdateRole&RoleName=ru&MaxSessionDuration=60", 400,
         "greater than or equal to 3600", NULL},
        {"Action=UpdateRole&RoleName=ru&MaxSessionDuration=99999", 400,
         "less than or equal to 43200", NULL},
        {"Action=UpdateRole&RoleName=ghost&Description=x", 404, "<Code>NoSuchEntity</Code>", NULL},
    };
    IAM_STEPS(steps);
}
END_TEST

START_TEST(test_policy_versions)
{
#define VP_ARN "arn%3Aaws%3Aiam%3A%3A000000000000%3Apolicy%2Fvp"
#define VERSION(v) "&PolicyArn=" VP_ARN "&VersionId=" v
    static const struct iam_step steps[] = {
        {"Action=CreatePolicy&PolicyName=vp&PolicyDocument=" DOC, 200,
         "<DefaultVersionId>v1</DefaultVersionId>", NULL},
        {"Action=CreatePolicyVersion&PolicyArn=" VP_ARN "&PolicyDocument=" DOC2, 200,
         "<IsDefaultVersion>false</IsDefaultVersion>", "<VersionId>v2</VersionId>"},
        {"Action=GetPolicy&PolicyArn=" VP_ARN, 200, "<DefaultVersionId>v1</DefaultVersionId>",
         NULL},
        {"Action=CreatePolicyVersion&PolicyArn=" VP_ARN "&SetAsDefault=true&PolicyDocument=" DOC2,
         200, "<IsDefaultVersion>true</IsDefaultVersion>", "<VersionId>v3</VersionId>"},
        {"Action=GetPolicy&PolicyArn=" VP_ARN, 200, "<DefaultVersionId>v3</DefaultVersionId>",
         NULL},
        {"Action=GetPolicyVersion" VERSION("v3"), 200, "<IsDefaultVersion>true</IsDefaultVersion>",
         "<Document>" DOC2 "</Document>"},
        {"Action=GetPolicyVersion" VERSION("v1"), 200, "<Document>" DOC "</Document>", NULL},
        {"Action=GetPolicyVersion" VERSION("v9"), 404, "<Code>NoSuchEntity</Code>", NULL},
        {"Action=GetPolicyVersion" VERSION("bad"), 400, "<Code>ValidationError</Code>", NULL},
    };
    IAM_STEPS(steps);
    struct gr_resp r = iam2("Action=ListPolicyVersions&PolicyArn=" VP_ARN, NULL);
    ck_assert_int_eq(r.status, 200);
    char *v3 = strstr(r.body, "<VersionId>v3</VersionId>");
    char *v1 = strstr(r.body, "<VersionId>v1</VersionId>");
    ck_assert_ptr_nonnull(v3);
    ck_assert_ptr_nonnull(v1);
    ck_assert(v3 < v1); /* newest first */
    gr_resp_free(&r);
    static const struct iam_step more[] = {
        /* the default cannot go; others can */
        {"Action=DeletePolicyVersion" VERSION("v3"), 409,
         "Cannot delete the default version of a policy.", NULL},
        {"Action=DeletePolicy&PolicyArn=" VP_ARN, 409, "<Code>DeleteConflict</Code>", NULL},
        {"Action=DeletePolicyVersion" VERSION("v2"), 200, "<DeletePolicyVersionResponse", NULL},
        {"Action=DeletePolicyVersion" VERSION("v2"), 404, "<Code>NoSuchEntity</Code>", NULL},
        /* at most 5 versions */
        {"Action=CreatePolicyVersion&PolicyArn=" VP_ARN "&PolicyDocument=" DOC, 200, "<VersionId>v",
         NULL},
        {"Action=CreatePolicyVersion&PolicyArn=" VP_ARN "&PolicyDocument=" DOC, 200, "<VersionId>v",
         NULL},
        {"Action=CreatePolicyVersion&PolicyArn=" VP_ARN "&PolicyDocument=" DOC, 200, "<VersionId>v",
         NULL},
        {"Action=CreatePolicyVersion&PolicyArn=" VP_ARN "&PolicyDocument=" DOC, 409,
         "<Code>LimitExceeded</Code>", NULL},
        {"Action=CreatePolicyVersion&PolicyArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Apolicy%"
         "2Fghost&PolicyDocument=" DOC,
         404, "<Code>NoSuchEntity</Code>", NULL},
        {"Action=CreatePolicyVersion&PolicyArn=" VP_ARN "&PolicyDocument=%7B", 400,
         "<Code>MalformedPolicyDocument</Code>", NULL},
    };
#undef VERSION
#undef VP_ARN
    IAM_STEPS(more);
}
END_TEST

START_TEST(test_users)
{
    static const struct iam_step steps[] = {
        {"Action=CreateUser&UserName=u1&Path=%2Fteam%2F", 200,
         "<Arn>arn:aws:iam::000000000000:user/team/u1</Arn>", "<UserId>AIDA"},
        {"Action=CreateUser&UserName=u1", 409, "<Code>EntityAlreadyExists</Code>", NULL},
        {"Action=CreateUser&UserName=bad%20name", 400, "<Code>ValidationError</Code>", NULL},
        {"Action=GetUser&UserName=u1", 200, "<UserName>u1</UserName>", NULL},
        {"Action=GetUser&UserName=ghost", 404, "The user with name ghost cannot be found.", NULL},
        /* without a name: the caller (the account's root) */
        {"Action=GetUser", 200, "<Arn>arn:aws:iam::000000000000:root</Arn>", NULL},
    };
    IAM_STEPS(steps);
    inline_policy_cycle("User", "user", "u1");
}
END_TEST

START_TEST(test_groups)
{
    static const struct iam_step steps[] = {
        {"Action=CreateGroup&GroupName=g1", 200, "<Arn>arn:aws:iam::000000000000:group/g1</Arn>",
         "<GroupId>AGPA"},
        {"Action=CreateGroup&GroupName=g1", 409, "<Code>EntityAlreadyExists</Code>", NULL},
        /* a user and a group of the same name are different things */
        {"Action=GetUser&UserName=g1", 404, "<Code>NoSuchEntity</Code>", NULL},
        {"Action=GetGroup&GroupName=g1", 200, "<GroupName>g1</GroupName>", NULL},
    };
    IAM_STEPS(steps);
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
