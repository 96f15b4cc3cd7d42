/*
 * test_sts.c - STS temporary credentials against a real greenroom on port 0:
 * AssumeRole and GetSessionToken issue ASIA... keys with a session token;
 * requests signed with them need that token (query, JSON and S3 errors when
 * it is missing, wrong or expired), run in the role's account, and
 * GetCallerIdentity names the assumed role. Sessions survive a restart and
 * follow reset and snapshots; long-term keys and --auth off are unchanged.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "testkit.h"

static struct gr_server srv;

struct creds {
    char key[64];
    char secret[64];
    char token[512];
};

static void setup(void)
{
    gr_set_credentials("test", "test", "us-east-1");
    ck_assert_int_eq(gr_start(&srv, NULL), 0);
}

static void teardown(void)
{
    gr_set_credentials("test", "test", "us-east-1");
    gr_stop(&srv);
}

static const char *const form_hdr[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
#define GCI "Action=GetCallerIdentity&Version=2011-06-15"

/* Text of <tag> in xml copied to out; 0 or -1. */
static int xml_text(const char *xml, const char *tag, char *out, size_t olen)
{
    char open[64], close[64];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    const char *s = xml ? strstr(xml, open) : NULL;
    if (s == NULL) {
        return -1;
    }
    s += strlen(open);
    const char *e = strstr(s, close);
    if (e == NULL || (size_t)(e - s) >= olen) {
        return -1;
    }
    memcpy(out, s, (size_t)(e - s));
    out[e - s] = 0;
    return 0;
}

/* An STS query call signed with test/test; the caller frees r. */
static void sts_call(const char *form, struct gr_resp *r)
{
    ck_assert_int_eq(gr_request(&srv, "sts", "POST", "/", form_hdr, form, strlen(form), r), 0);
}

/* AssumeRole (extra: more form fields, may be "") that must succeed. */
static void assume(const char *role_arn, const char *session, const char *extra, struct creds *c,
                   char *body_out, size_t blen)
{
    char form[1024];
    snprintf(form, sizeof(form),
             "Action=AssumeRole&Version=2011-06-15&RoleArn=%s&RoleSessionName=%s%s", role_arn,
             session, extra);
    struct gr_resp r;
    sts_call(form, &r);
    ck_assert_msg(r.status == 200, "AssumeRole: %ld %s", r.status, r.body);
    ck_assert_int_eq(xml_text(r.body, "AccessKeyId", c->key, sizeof(c->key)), 0);
    ck_assert_int_eq(xml_text(r.body, "SecretAccessKey", c->secret, sizeof(c->secret)), 0);
    ck_assert_int_eq(xml_text(r.body, "SessionToken", c->token, sizeof(c->token)), 0);
    if (body_out) {
        snprintf(body_out, blen, "%s", r.body);
    }
    gr_resp_free(&r);
}

/* A request signed with c; token: the x-amz-security-token to send (NULL:
 * none). Credentials go back to test/test. */
static void call_as(const struct creds *c, const char *token, const char *service,
                    const char *method, const char *path, const char *body, struct gr_resp *r)
{
    char th[600];
    const char *hdrs[3] = {"Content-Type: application/x-www-form-urlencoded", NULL, NULL};
    if (token) {
        snprintf(th, sizeof(th), "x-amz-security-token: %s", token);
        hdrs[1] = th;
    }
    gr_set_credentials(c->key, c->secret, "us-east-1");
    int rc = gr_request(&srv, service, method, path, hdrs, body, body ? strlen(body) : 0, r);
    gr_set_credentials("test", "test", "us-east-1");
    ck_assert_int_eq(rc, 0);
}

static void expect(const struct gr_resp *r, long status, const char *needle)
{
    ck_assert_msg(r->status == status && strstr(r->body, needle) != NULL,
                  "want %ld with %s, got %ld: %s", status, needle, r->status, r->body);
}

/* A REST-JSON error: status and the x-amzn-ErrorType header. */
static void expect_type(const struct gr_resp *r, long status, const char *type)
{
    char buf[256];
    const char *got = gr_resp_header(r, "x-amzn-ErrorType", buf, sizeof(buf));
    ck_assert_msg(r->status == status && got && strncmp(got, type, strlen(type)) == 0,
                  "want %ld %s, got %ld %s: %s", status, type, r->status, got ? got : "-",
                  r->body);
}

START_TEST(test_assume_role_credentials)
{
    struct creds c;
    char body[4096];
    assume("arn:aws:iam::000000000000:role/deployer", "ci-run", "", &c, body, sizeof(body));
    ck_assert_uint_eq(strlen(c.key), 20);
    ck_assert_int_eq(strncmp(c.key, "ASIA", 4), 0);
    ck_assert_uint_eq(strspn(c.key, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), 20);
    ck_assert_uint_ge(strlen(c.secret), 40);
    ck_assert_uint_ge(strlen(c.token), 100);
    ck_assert_ptr_nonnull(
        strstr(body, "<Arn>arn:aws:sts::000000000000:assumed-role/deployer/ci-run</Arn>"));
    char rid[128];
    ck_assert_int_eq(xml_text(body, "AssumedRoleId", rid, sizeof(rid)), 0);
    ck_assert_int_eq(strncmp(rid, "AROA", 4), 0);
    ck_assert_ptr_nonnull(strstr(rid, ":ci-run"));
    ck_assert_ptr_nonnull(strstr(body, "<Expiration>"));
    /* a second AssumeRole gives other credentials */
    struct creds c2;
    assume("arn:aws:iam::000000000000:role/deployer", "ci-run", "", &c2, NULL, 0);
    ck_assert_str_ne(c.key, c2.key);
    ck_assert_str_ne(c.token, c2.token);
}
END_TEST

START_TEST(test_caller_identity_assumed_role)
{
    struct creds c;
    char body[4096];
    assume("arn:aws:iam::000000000000:role/svc/app-role", "sess.1@x", "", &c, body,
           sizeof(body));
    char rid[128];
    ck_assert_int_eq(xml_text(body, "AssumedRoleId", rid, sizeof(rid)), 0);
    struct gr_resp r;
    call_as(&c, c.token, "sts", "POST", "/", GCI, &r);
    expect(&r, 200, "<Arn>arn:aws:sts::000000000000:assumed-role/app-role/sess.1@x</Arn>");
    char uid[160];
    ck_assert_int_eq(xml_text(r.body, "UserId", uid, sizeof(uid)), 0);
    ck_assert_str_eq(uid, rid);
    ck_assert_ptr_nonnull(strstr(r.body, "<Account>000000000000</Account>"));
    gr_resp_free(&r);
    /* S3 and Lambda accept the session credentials too */
    call_as(&c, c.token, "s3", "GET", "/", NULL, &r);
    expect(&r, 200, "ListAllMyBucketsResult");
    gr_resp_free(&r);
    call_as(&c, c.token, "lambda", "GET", "/2015-03-31/functions/", NULL, &r);
    expect(&r, 200, "Functions");
    gr_resp_free(&r);
}
END_TEST

START_TEST(test_role_account)
{
    struct creds c;
    assume("arn:aws:iam::111122223333:role/cross", "x1", "", &c, NULL, 0);
    struct gr_resp r;
    call_as(&c, c.token, "sts", "POST", "/", GCI, &r);
    expect(&r, 200, "<Account>111122223333</Account>");
    ck_assert_ptr_nonnull(strstr(r.body, "arn:aws:sts::111122223333:assumed-role/cross/x1"));
    gr_resp_free(&r);
    /* a bucket made with the session belongs to 111122223333 */
    call_as(&c, c.token, "s3", "PUT", "/sts-cross-bucket", NULL, &r);
    expect(&r, 200, "");
    gr_resp_free(&r);
    gr_set_credentials("111122223333", "test", "us-east-1");
    ck_assert_int_eq(gr_request(&srv, "s3", "GET", "/", NULL, NULL, 0, &r), 0);
    gr_set_credentials("test", "test", "us-east-1");
    expect(&r, 200, "<Name>sts-cross-bucket</Name>");
    gr_resp_free(&r);
}
END_TEST

START_TEST(test_session_token_required)
{
    struct creds c;
    assume("arn:aws:iam::000000000000:role/deployer", "tok", "", &c, NULL, 0);
    struct gr_resp r;
    /* query protocol: missing or wrong token */
    call_as(&c, NULL, "sts", "POST", "/", GCI, &r);
    expect(&r, 403, "<Code>InvalidClientTokenId</Code>");
    ck_assert_ptr_nonnull(strstr(r.body, "The security token included in the request is invalid."));
    gr_resp_free(&r);
    call_as(&c, "IQoJwrongtoken", "sts", "POST", "/", GCI, &r);
    expect(&r, 403, "<Code>InvalidClientTokenId</Code>");
    gr_resp_free(&r);
    /* another session's token does not fit this key */
    struct creds other;
    assume("arn:aws:iam::000000000000:role/deployer", "tok2", "", &other, NULL, 0);
    call_as(&c, other.token, "sts", "POST", "/", GCI, &r);
    expect(&r, 403, "<Code>InvalidClientTokenId</Code>");
    gr_resp_free(&r);
    /* JSON family */
    call_as(&c, "IQoJwrongtoken", "lambda", "GET", "/2015-03-31/functions/", NULL, &r);
    expect_type(&r, 403, "UnrecognizedClientException");
    ck_assert_ptr_nonnull(strstr(r.body, "The security token included in the request is invalid."));
    gr_resp_free(&r);
    /* S3: no token is an unknown key, a wrong one InvalidToken */
    call_as(&c, NULL, "s3", "GET", "/", NULL, &r);
    expect(&r, 403, "<Code>InvalidAccessKeyId</Code>");
    gr_resp_free(&r);
    call_as(&c, "IQoJwrongtoken", "s3", "GET", "/", NULL, &r);
    expect(&r, 400, "<Code>InvalidToken</Code>");
    gr_resp_free(&r);
    /* a key STS never issued */
    struct creds ghost = {"ASIAAAAAAAAAAAAAAAAA", "x", "y"};
    call_as(&ghost, "y", "sts", "POST", "/", GCI, &r);
    expect(&r, 403, "<Code>InvalidClientTokenId</Code>");
    gr_resp_free(&r);
}
END_TEST

START_TEST(test_duration_and_session_name)
{
    struct gr_resp r;
    const char *base = "Action=AssumeRole&Version=2011-06-15&RoleArn="
                       "arn:aws:iam::000000000000:role/deployer&RoleSessionName=";
    char form[512];
    snprintf(form, sizeof(form), "%sok&DurationSeconds=899", base);
    sts_call(form, &r);
    expect(&r, 400, "<Code>ValidationError</Code>");
    ck_assert_ptr_nonnull(strstr(r.body, "899"));
    ck_assert_ptr_nonnull(strstr(r.body, "durationSeconds"));
    ck_assert_ptr_nonnull(strstr(r.body, "failed to satisfy constraint: Member must have value "
                                         "greater than or equal to 900"));
    gr_resp_free(&r);
    snprintf(form, sizeof(form), "%sok&DurationSeconds=43201", base);
    sts_call(form, &r);
    expect(&r, 400, "Member must have value less than or equal to 43200");
    gr_resp_free(&r);
    snprintf(form, sizeof(form), "%sa", base);
    sts_call(form, &r);
    expect(&r, 400, "roleSessionName");
    ck_assert_ptr_nonnull(strstr(r.body, "failed to satisfy constraint: Member must have length "
                                         "greater than or equal to 2"));
    gr_resp_free(&r);
    snprintf(form, sizeof(form), "%sbad%%20name", base);
    sts_call(form, &r);
    expect(&r, 400, "Member must satisfy regular expression pattern");
    gr_resp_free(&r);
    snprintf(form, sizeof(form), "%s%s", base,
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"); /* 65 */
    sts_call(form, &r);
    expect(&r, 400, "Member must have length less than or equal to 64");
    gr_resp_free(&r);
    /* default one hour; 43200 allowed for a role IAM does not know */
    struct creds c;
    char body[4096];
    assume("arn:aws:iam::000000000000:role/deployer", "d1", "&DurationSeconds=43200", &c, body,
           sizeof(body));
    /* IAM's role: its RoleId and its MaxSessionDuration */
    const char *cr = "Action=CreateRole&Version=2010-05-08&RoleName=short"
                     "&MaxSessionDuration=3600&AssumeRolePolicyDocument=%7B%7D";
    ck_assert_int_eq(gr_request(&srv, "iam", "POST", "/", form_hdr, cr, strlen(cr), &r), 0);
    ck_assert_msg(r.status == 200, "CreateRole: %ld %s", r.status, r.body);
    char role_id[64];
    ck_assert_int_eq(xml_text(r.body, "RoleId", role_id, sizeof(role_id)), 0);
    gr_resp_free(&r);
    snprintf(form, sizeof(form),
             "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::000000000000:role/short"
             "&RoleSessionName=ss&DurationSeconds=7200");
    sts_call(form, &r);
    expect(&r, 400, "The requested DurationSeconds exceeds the MaxSessionDuration set for this "
                    "role.");
    gr_resp_free(&r);
    assume("arn:aws:iam::000000000000:role/short", "within", "&DurationSeconds=3600", &c, body,
           sizeof(body));
    char want[128];
    snprintf(want, sizeof(want), "<AssumedRoleId>%s:within</AssumedRoleId>", role_id);
    ck_assert_ptr_nonnull(strstr(body, want));
    /* role chaining: at most one hour */
    call_as(&c, c.token, "sts", "POST", "/",
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::000000000000:role/"
            "deployer&RoleSessionName=chained&DurationSeconds=7200",
            &r);
    expect(&r, 400, "exceeds the 1 hour session limit for roles assumed by role chaining");
    gr_resp_free(&r);
    call_as(&c, c.token, "sts", "POST", "/",
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::000000000000:role/"
            "deployer&RoleSessionName=chained",
            &r);
    expect(&r, 200, "assumed-role/deployer/chained");
    gr_resp_free(&r);
}
END_TEST

START_TEST(test_get_session_token)
{
    struct gr_resp r;
    sts_call("Action=GetSessionToken&Version=2011-06-15&DurationSeconds=900", &r);
    expect(&r, 200, "<SessionToken>");
    struct creds c;
    ck_assert_int_eq(xml_text(r.body, "AccessKeyId", c.key, sizeof(c.key)), 0);
    ck_assert_int_eq(xml_text(r.body, "SecretAccessKey", c.secret, sizeof(c.secret)), 0);
    ck_assert_int_eq(xml_text(r.body, "SessionToken", c.token, sizeof(c.token)), 0);
    ck_assert_int_eq(strncmp(c.key, "ASIA", 4), 0);
    gr_resp_free(&r);
    sts_call("Action=GetSessionToken&Version=2011-06-15&DurationSeconds=129601", &r);
    expect(&r, 400, "less than or equal to 129600");
    gr_resp_free(&r);
    call_as(&c, c.token, "sts", "POST", "/", GCI, &r);
    expect(&r, 200, "<Arn>arn:aws:iam::000000000000:root</Arn>");
    gr_resp_free(&r);
    call_as(&c, c.token, "sts", "POST", "/", "Action=GetSessionToken&Version=2011-06-15", &r);
    expect(&r, 403, "Cannot call GetSessionToken with session credentials");
    gr_resp_free(&r);
    call_as(&c, "nope", "sts", "POST", "/", GCI, &r);
    expect(&r, 403, "InvalidClientTokenId");
    gr_resp_free(&r);
}
END_TEST

/* Sets every session's expiry to the past, in the stopped server's store. */
static void expire_all(void)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/state.db", srv.state_dir);
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "UPDATE sts_sessions SET expires = 1000", NULL, NULL, NULL),
                     SQLITE_OK);
    ck_assert_int_gt(sqlite3_changes(db), 0);
    sqlite3_close(db);
}

START_TEST(test_restart_and_expiry)
{
    struct creds c;
    assume("arn:aws:iam::000000000000:role/deployer", "durable", "", &c, NULL, 0);
    gr_kill9(&srv);
    ck_assert_int_eq(gr_restart(&srv, NULL), 0);
    struct gr_resp r;
    call_as(&c, c.token, "sts", "POST", "/", GCI, &r);
    expect(&r, 200, "assumed-role/deployer/durable");
    gr_resp_free(&r);
    gr_kill9(&srv);
    expire_all();
    ck_assert_int_eq(gr_restart(&srv, NULL), 0);
    call_as(&c, c.token, "sts", "POST", "/", GCI, &r);
    expect(&r, 403, "<Code>ExpiredToken</Code>");
    ck_assert_ptr_nonnull(strstr(r.body, "The security token included in the request is expired"));
    gr_resp_free(&r);
    call_as(&c, c.token, "s3", "GET", "/", NULL, &r);
    expect(&r, 400, "<Code>ExpiredToken</Code>");
    gr_resp_free(&r);
    call_as(&c, c.token, "lambda", "GET", "/2015-03-31/functions/", NULL, &r);
    expect_type(&r, 400, "ExpiredTokenException");
    gr_resp_free(&r);
}
END_TEST

START_TEST(test_reset_and_snapshot)
{
    struct creds c;
    assume("arn:aws:iam::000000000000:role/deployer", "snap", "", &c, NULL, 0);
    struct gr_resp r;
    const char *snap = "{\"name\":\"with-session\"}";
    ck_assert_int_eq(gr_request_unsigned(&srv, "POST", "/_greenroom/snapshots", NULL, snap,
                                         strlen(snap), &r),
                     0);
    ck_assert_msg(r.status < 300, "snapshot: %ld %s", r.status, r.body);
    gr_resp_free(&r);
    ck_assert_int_eq(gr_request_unsigned(&srv, "POST", "/_greenroom/reset", NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    gr_resp_free(&r);
    call_as(&c, c.token, "sts", "POST", "/", GCI, &r);
    expect(&r, 403, "<Code>InvalidClientTokenId</Code>");
    gr_resp_free(&r);
    ck_assert_int_eq(gr_request_unsigned(&srv, "POST", "/_greenroom/snapshots/with-session/restore",
                                         NULL, NULL, 0, &r),
                     0);
    ck_assert_msg(r.status < 300, "restore: %ld %s", r.status, r.body);
    gr_resp_free(&r);
    call_as(&c, c.token, "sts", "POST", "/", GCI, &r);
    expect(&r, 200, "assumed-role/deployer/snap");
    gr_resp_free(&r);
}
END_TEST

START_TEST(test_long_term_keys_unchanged)
{
    /* test/test with any security token is still the account root */
    struct creds t = {"test", "test", ""};
    struct gr_resp r;
    call_as(&t, "anything-at-all", "sts", "POST", "/", GCI, &r);
    expect(&r, 200, "<Arn>arn:aws:iam::000000000000:root</Arn>");
    gr_resp_free(&r);
    call_as(&t, NULL, "s3", "GET", "/", NULL, &r);
    expect(&r, 200, "ListAllMyBucketsResult");
    gr_resp_free(&r);
}
END_TEST

START_TEST(test_auth_off)
{
    gr_stop(&srv);
    const char *args[] = {"--auth", "off", NULL};
    ck_assert_int_eq(gr_start(&srv, args), 0);
    struct creds c;
    assume("arn:aws:iam::444455556666:role/loose", "off", "", &c, NULL, 0);
    struct gr_resp r;
    call_as(&c, "wrong", "sts", "POST", "/", GCI, &r);
    expect(&r, 200, "<Account>444455556666</Account>");
    gr_resp_free(&r);
    call_as(&c, NULL, "s3", "GET", "/", NULL, &r);
    expect(&r, 200, "ListAllMyBucketsResult");
    gr_resp_free(&r);
}
END_TEST

int main(void)
{
    const struct kit_case cases[] = {
        {"AssumeRole", test_assume_role_credentials, NULL},
        {"GetCallerIdentity", test_caller_identity_assumed_role, NULL},
        {"RoleAccount", test_role_account, NULL},
        {"SessionToken", test_session_token_required, NULL},
        {"Validation", test_duration_and_session_name, NULL},
        {"GetSessionToken", test_get_session_token, NULL},
        {"Persistence", test_restart_and_expiry, NULL},
        {"ResetSnapshot", test_reset_and_snapshot, NULL},
        {"LongTermKeys", test_long_term_keys_unchanged, NULL},
        {"AuthOff", test_auth_off, NULL},
    };
    return KIT_RUN("sts", cases, setup, teardown, 120);
}
