/*
 * svc_sts.c - AWS STS (query protocol, API 2011-06-15): GetCallerIdentity,
 * GetSessionToken, AssumeRole. Stateless: identities come from the access
 * key of the signed request.
 */
#include <stdio.h>
#include <string.h>

#include "emu.h"

static void sts_get_caller_identity(struct emu_request *req, struct emu_response *resp)
{
    struct emu_buf b = {0};
    char arn[128];
    snprintf(arn, sizeof(arn), "arn:aws:iam::%s:root", req->account);
    emu_buf_xml_elem(&b, "Arn", arn);
    emu_buf_xml_elem(&b, "UserId", req->access_key[0] ? req->access_key : req->account);
    emu_buf_xml_elem(&b, "Account", req->account);
    emu_resp_query(req, resp, b.data);
    emu_buf_release(&b);
}

static void credentials_xml(struct emu_request *req, struct emu_buf *b, long seconds)
{
    char exp[32];
    emu_time_iso(exp, emu_now() + (double)seconds);
    emu_buf_puts(b, "<Credentials>");
    emu_buf_xml_elem(b, "AccessKeyId", req->account);
    emu_buf_xml_elem(b, "SecretAccessKey", "test");
    emu_buf_xml_elem(b, "SessionToken", "greenroom-session-token");
    emu_buf_xml_elem(b, "Expiration", exp);
    emu_buf_puts(b, "</Credentials>");
}

static void sts_get_session_token(struct emu_request *req, struct emu_response *resp)
{
    struct emu_buf b = {0};
    credentials_xml(req, &b, 43200);
    emu_resp_query(req, resp, b.data);
    emu_buf_release(&b);
}

static void sts_assume_role(struct emu_request *req, struct emu_response *resp)
{
    const char *role = emu_form(req, "RoleArn");
    const char *session = emu_form(req, "RoleSessionName");
    if (role == NULL || session == NULL) {
        emu_fail(resp, AWS_VALIDATION_ERROR,
                 "1 validation error detected: Value null at '%s' failed to satisfy constraint: "
                 "Member must not be null",
                 role == NULL ? "roleArn" : "roleSessionName");
        return;
    }
    struct emu_buf b = {0};
    credentials_xml(req, &b, 3600);
    const char *slash = strrchr(role, '/');
    emu_buf_puts(&b, "<AssumedRoleUser>");
    struct emu_buf arn = {0};
    emu_buf_printf(&arn, "arn:aws:sts::%s:assumed-role/%s/%s", req->account,
                   slash ? slash + 1 : role, session);
    emu_buf_xml_elem(&b, "Arn", arn.data);
    emu_buf_release(&arn);
    emu_buf_xml_elem(&b, "AssumedRoleId", "AROAGREENROOMEXAMPLE:session");
    emu_buf_puts(&b, "</AssumedRoleUser>");
    emu_resp_query(req, resp, b.data);
    emu_buf_release(&b);
}

static const struct emu_op sts_ops[] = {
    {"GetCallerIdentity", NULL, NULL, NULL, sts_get_caller_identity, 0},
    {"GetSessionToken", NULL, NULL, NULL, sts_get_session_token, 0},
    {"AssumeRole", NULL, NULL, NULL, sts_assume_role, 0},
};

const struct emu_service svc_sts = {
    .name = "sts",
    .display = "sts",
    .protocol = EMU_PROTO_QUERY,
    .xmlns = "https://sts.amazonaws.com/doc/2011-06-15/",
    .ops = sts_ops,
    .nops = sizeof(sts_ops) / sizeof(sts_ops[0]),
};
