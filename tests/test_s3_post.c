/*
 * test_s3_post.c - S3 POST Object (browser-based uploads, emulator/s3_post.c)
 * against a real greenroom on port 0: multipart/form-data bodies with a SigV4
 * POST policy built here as @aws-sdk/s3-presigned-post builds it. The object
 * lands with the form's metadata and ${filename} key; success_action_status
 * and success_action_redirect shape the answer; a wrong signature, an
 * expired policy, a failed condition, an unlisted field, a file outside
 * content-length-range, a missing key or file, a public acl on a bucket with
 * ACLs disabled, a form that is not multipart, and an unsigned form are each
 * refused with S3's error.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "harness.h"
#include "testkit.h"

#include "s3_testkit.h"

#define BOUNDARY "----greenroomPostBoundary7MA4YWxk"

/* A form under construction. */
struct form {
    char *data;
    size_t len;
};

static void form_add(struct form *f, const char *name, const char *value)
{
    size_t vl = strlen(value);
    size_t need = f->len + vl + strlen(name) + 256;
    f->data = realloc(f->data, need);
    ck_assert_ptr_nonnull(f->data);
    f->len += (size_t)snprintf(f->data + f->len, need - f->len,
                               "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n"
                               "%s\r\n",
                               name, value);
}

/* Appends the file part (and, when close, the closing delimiter). */
static void form_file(struct form *f, const char *filename, const char *data, size_t dlen, int close)
{
    size_t need = f->len + dlen + strlen(filename) + 256;
    f->data = realloc(f->data, need);
    ck_assert_ptr_nonnull(f->data);
    f->len += (size_t)snprintf(f->data + f->len, need - f->len,
                               "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"file\"; "
                               "filename=\"%s\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                               filename);
    memcpy(f->data + f->len, data, dlen);
    f->len += dlen;
    f->len += (size_t)snprintf(f->data + f->len, need - f->len, "\r\n%s",
                               close ? "--" BOUNDARY "--\r\n" : "");
}

static void b64(const unsigned char *in, size_t n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

static void hmac(const unsigned char *key, size_t kl, const char *msg, unsigned char out[32])
{
    unsigned int n = 0;
    HMAC(EVP_sha256(), key, (int)kl, (const unsigned char *)msg, strlen(msg), out, &n);
}

/* The signature of a base64 policy for secret "test", us-east-1, day. */
static void sign(const char *policy_b64, const char *day, const char *secret, char hex[65])
{
    unsigned char k[32];
    char ks[80];
    snprintf(ks, sizeof(ks), "AWS4%s", secret);
    hmac((const unsigned char *)ks, strlen(ks), day, k);
    hmac(k, 32, "us-east-1", k);
    hmac(k, 32, "s3", k);
    hmac(k, 32, "aws4_request", k);
    unsigned char sig[32];
    hmac(k, 32, policy_b64, sig);
    for (int i = 0; i < 32; i++) {
        snprintf(hex + 2 * i, 3, "%02x", sig[i]);
    }
}

/* Builds the signed fields of a policy whose conditions (a JSON array body,
 * without brackets, may be "") are completed with the bucket, key prefix
 * and the x-amz-* fields, expiring in ttl seconds (negative: expired). */
static void form_policy_as(struct form *f, const char *bucket, const char *key_prefix,
                           const char *extra_conds, long ttl, const char *akid,
                           const char *secret);

static void form_policy(struct form *f, const char *bucket, const char *key_prefix,
                        const char *extra_conds, long ttl, const char *secret)
{
    form_policy_as(f, bucket, key_prefix, extra_conds, ttl, "test", secret);
}

/* form_policy, signed as access key akid. */
static void form_policy_as(struct form *f, const char *bucket, const char *key_prefix,
                           const char *extra_conds, long ttl, const char *akid,
                           const char *secret)
{
    time_t now = time(NULL);
    time_t exp = now + ttl;
    struct tm tm;
    char amz[20], day[9], expiry[32], cred[128];
    gmtime_r(&now, &tm);
    strftime(amz, sizeof(amz), "%Y%m%dT%H%M%SZ", &tm);
    strftime(day, sizeof(day), "%Y%m%d", &tm);
    gmtime_r(&exp, &tm);
    strftime(expiry, sizeof(expiry), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(cred, sizeof(cred), "%s/%s/us-east-1/s3/aws4_request", akid, day);
    char doc[4096];
    snprintf(doc, sizeof(doc),
             "{\"expiration\":\"%s\",\"conditions\":[%s%s{\"bucket\":\"%s\"},"
             "[\"starts-with\",\"$key\",\"%s\"],{\"X-Amz-Algorithm\":\"AWS4-HMAC-SHA256\"},"
             "{\"X-Amz-Credential\":\"%s\"},{\"X-Amz-Date\":\"%s\"}]}",
             expiry, extra_conds, extra_conds[0] ? "," : "", bucket, key_prefix, cred, amz);
    char pol[8192];
    b64((const unsigned char *)doc, strlen(doc), pol);
    char sig[65];
    sign(pol, day, secret, sig);
    form_add(f, "bucket", bucket);
    form_add(f, "X-Amz-Algorithm", "AWS4-HMAC-SHA256");
    form_add(f, "X-Amz-Credential", cred);
    form_add(f, "X-Amz-Date", amz);
    form_add(f, "Policy", pol);
    form_add(f, "X-Amz-Signature", sig);
}

/* POSTs the form to /bucket; returns the status, r filled (free it). */
static long post(const char *bucket, const struct form *f, struct gr_resp *r)
{
    char path[128];
    snprintf(path, sizeof(path), "/%s", bucket);
    const char *hdrs[] = {"Content-Type: multipart/form-data; boundary=" BOUNDARY, NULL};
    ck_assert_int_eq(gr_request_unsigned(&srv, "POST", path, hdrs, f->data, f->len, r), 0);
    return r->status;
}

/* Asserts one refused POST: status, code and a message fragment. */
static void refused(const char *bucket, struct form *f, long status, const char *code,
                    const char *msg)
{
    struct gr_resp r;
    ck_assert_int_eq(post(bucket, f, &r), status);
    char want[256];
    snprintf(want, sizeof(want), "<Code>%s</Code>", code);
    ck_assert_msg(strstr(r.body, want) != NULL, "want %s in %s", code, r.body);
    ck_assert_msg(msg == NULL || strstr(r.body, msg) != NULL, "want '%s' in %s", msg, r.body);
    gr_resp_free(&r);
    free(f->data);
    memset(f, 0, sizeof(*f));
}

START_TEST(test_post_object)
{
    struct gr_resp r;
    ck_assert_int_eq(s3_status("PUT", "/post-bkt", NULL, NULL), 200);

    /* default answer: 204 with ETag and Location; metadata and ${filename} */
    struct form f = {0};
    form_add(&f, "key", "up/${filename}");
    form_add(&f, "Content-Type", "text/plain");
    form_add(&f, "x-amz-meta-who", "post");
    form_add(&f, "x-ignore-me", "anything");
    form_policy(&f, "post-bkt", "up/",
                "[\"content-length-range\",1,100],[\"starts-with\",\"$Content-Type\",\"text/\"],"
                "{\"x-amz-meta-who\":\"post\"}",
                300, "test");
    form_file(&f, "hello.txt", "hello\r\n--not a boundary", 23, 1);
    ck_assert_int_eq(post("post-bkt", &f, &r), 204);
    const char *etag = "\"635e24286f4a58abd0cfc9d39c1c16e1\"";
    ck_assert_str_eq(hdr(&r, "ETag"), etag);
    ck_assert_msg(strstr(hdr(&r, "Location"), "/post-bkt/up/hello.txt") != NULL, "Location %s",
                  hdr(&r, "Location"));
    gr_resp_free(&r);
    free(f.data);
    ck_assert_int_eq(s3("GET", "/post-bkt/up/hello.txt", NULL, NULL, 0, &r), 200);
    ck_assert_uint_eq(r.len, 23);
    ck_assert_int_eq(memcmp(r.body, "hello\r\n--not a boundary", 23), 0);
    ck_assert_str_eq(hdr(&r, "Content-Type"), "text/plain");
    ck_assert_str_eq(hdr(&r, "x-amz-meta-who"), "post");
    ck_assert_str_eq(hdr(&r, "ETag"), etag);
    gr_resp_free(&r);

    /* success_action_status 201: a PostResponse document; fields after the
     * file are ignored; no closing delimiter needed after the file's */
    memset(&f, 0, sizeof(f));
    form_add(&f, "key", "up/201.bin");
    form_add(&f, "success_action_status", "201");
    form_policy(&f, "post-bkt", "up/", "[\"eq\",\"$success_action_status\",\"201\"]", 300, "test");
    form_file(&f, "x", "abc", 3, 0);
    form_add(&f, "ignored", "after the file");
    f.len += (size_t)snprintf(f.data + f.len, 64, "--" BOUNDARY "--\r\n");
    ck_assert_int_eq(post("post-bkt", &f, &r), 201);
    ck_assert_ptr_null(strstr(strstr(r.body, "<?xml") + 1, "<?xml"));
    ck_assert_ptr_nonnull(strstr(r.body, "<Bucket>post-bkt</Bucket><Key>up/201.bin</Key>"));
    ck_assert_ptr_nonnull(strstr(r.body, "<ETag>&quot;900150983cd24fb0d6963f7d28e17f72&quot;</ETag>"));
    gr_resp_free(&r);
    free(f.data);
    ck_assert_int_eq(s3("GET", "/post-bkt/up/201.bin", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "Content-Type"), "binary/octet-stream");
    gr_resp_free(&r);

    /* success_action_redirect: 303 to the URL with bucket, key, etag */
    memset(&f, 0, sizeof(f));
    form_add(&f, "key", "up/r k");
    form_add(&f, "success_action_redirect", "http://app.example/done");
    form_policy(&f, "post-bkt", "up/", "[\"starts-with\",\"$success_action_redirect\",\"http://app.example/\"]",
                300, "test");
    form_file(&f, "x", "abc", 3, 1);
    ck_assert_int_eq(post("post-bkt", &f, &r), 303);
    ck_assert_str_eq(hdr(&r, "Location"), "http://app.example/done?bucket=post-bkt&key=up%2Fr%20k&etag="
                                          "%22900150983cd24fb0d6963f7d28e17f72%22");
    gr_resp_free(&r);
    free(f.data);
    ck_assert_int_eq(s3_status("HEAD", "/post-bkt/up/r%20k", NULL, NULL), 200);
}
END_TEST

START_TEST(test_post_object_refused)
{
    ck_assert_int_eq(s3_status("PUT", "/post-bkt", NULL, NULL), 200);
    struct form f = {0};

    form_add(&f, "key", "up/a");
    form_policy(&f, "post-bkt", "up/", "", 300, "wrong-secret");
    form_file(&f, "a", "abc", 3, 1);
    refused("post-bkt", &f, 403, "SignatureDoesNotMatch", NULL);

    form_add(&f, "key", "up/a");
    form_policy(&f, "post-bkt", "up/", "", -60, "test");
    form_file(&f, "a", "abc", 3, 1);
    refused("post-bkt", &f, 403, "AccessDenied", "Invalid according to Policy: Policy expired.");

    form_add(&f, "key", "other/a");
    form_policy(&f, "post-bkt", "up/", "", 300, "test");
    form_file(&f, "a", "abc", 3, 1);
    refused("post-bkt", &f, 403, "AccessDenied",
            "Policy Condition failed: [&quot;starts-with&quot;, &quot;$key&quot;, &quot;up/&quot;]");

    form_add(&f, "key", "up/a");
    form_add(&f, "Content-Type", "text/plain");
    form_policy(&f, "post-bkt", "up/", "", 300, "test");
    form_file(&f, "a", "abc", 3, 1);
    refused("post-bkt", &f, 403, "AccessDenied",
            "Invalid according to Policy: Extra input fields: content-type");

    form_add(&f, "key", "up/a");
    form_policy(&f, "post-bkt", "up/", "[\"content-length-range\",0,2]", 300, "test");
    form_file(&f, "a", "abc", 3, 1);
    refused("post-bkt", &f, 400, "EntityTooLarge", "<MaxSizeAllowed>2</MaxSizeAllowed>");

    form_add(&f, "key", "up/a");
    form_policy(&f, "post-bkt", "up/", "[\"content-length-range\",10,20]", 300, "test");
    form_file(&f, "a", "abc", 3, 1);
    refused("post-bkt", &f, 400, "EntityTooSmall", "<MinSizeAllowed>10</MinSizeAllowed>");

    form_policy(&f, "post-bkt", "up/", "", 300, "test");
    form_file(&f, "a", "abc", 3, 1);
    refused("post-bkt", &f, 400, "InvalidArgument", "Bucket POST must contain a field named");

    form_add(&f, "key", "up/a");
    form_policy(&f, "post-bkt", "up/", "", 300, "test");
    f.len += (size_t)snprintf(f.data + f.len, 64, "--" BOUNDARY "--\r\n");
    refused("post-bkt", &f, 400, "InvalidArgument", "POST requires exactly one file upload");

    form_add(&f, "key", "up/a");
    form_file(&f, "a", "abc", 3, 1);
    refused("post-bkt", &f, 403, "AccessDenied", NULL);

    form_add(&f, "key", "up/a");
    f.len += (size_t)snprintf(f.data + f.len, 64, "--" BOUNDARY "\r\nno headers end");
    refused("post-bkt", &f, 400, "MalformedPOSTRequest", NULL);

    form_add(&f, "key", "up/a");
    form_add(&f, "acl", "public-read");
    form_policy(&f, "post-bkt", "up/", "{\"acl\":\"public-read\"}", 300, "test");
    form_file(&f, "a", "abc", 3, 1);
    refused("post-bkt", &f, 400, "AccessControlListNotSupported", NULL);

    form_add(&f, "key", "up/a");
    form_policy(&f, "no-such-post-bkt", "up/", "", 300, "test");
    form_file(&f, "a", "abc", 3, 1);
    refused("no-such-post-bkt", &f, 404, "NoSuchBucket", NULL);

    struct gr_resp r;
    const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    ck_assert_int_eq(gr_request_unsigned(&srv, "POST", "/post-bkt", hdrs, "key=a", 5, &r), 0);
    ck_assert_int_eq(r.status, 412);
    ck_assert_ptr_nonnull(strstr(r.body, "Bucket POST must be of the enclosure-type multipart/form-data"));
    gr_resp_free(&r);

    /* nothing was stored */
    ck_assert_int_eq(s3("GET", "/post-bkt?list-type=2", NULL, NULL, 0, &r), 200);
    ck_assert_ptr_null(strstr(r.body, "<Key>"));
    gr_resp_free(&r);
}
END_TEST

/* The text of the first <tag>...</tag> in xml, into out. */
static void xml_field(const char *xml, const char *tag, char *out, size_t n)
{
    char open[64];
    snprintf(open, sizeof(open), "<%s>", tag);
    const char *a = strstr(xml, open);
    ck_assert_ptr_nonnull(a);
    a += strlen(open);
    const char *b = strchr(a, '<');
    ck_assert_ptr_nonnull(b);
    snprintf(out, n, "%.*s", (int)(b - a), a);
}

/* A form signed with temporary credentials (AssumeRole) must carry the
 * session's token, as on AWS: absent, wrong or right. */
START_TEST(test_post_object_session)
{
    ck_assert_int_eq(s3_status("PUT", "/post-sts", NULL, NULL), 200);
    static const char *const hdr[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    const char *q = "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::000000000000:role/"
                    "uploader&RoleSessionName=post";
    struct gr_resp r;
    ck_assert_int_eq(gr_request(&srv, "sts", "POST", "/", hdr, q, strlen(q), &r), 0);
    ck_assert_int_eq(r.status, 200);
    char akid[64], secret[128], token[1024], cond[1200];
    xml_field(r.body, "AccessKeyId", akid, sizeof(akid));
    xml_field(r.body, "SecretAccessKey", secret, sizeof(secret));
    xml_field(r.body, "SessionToken", token, sizeof(token));
    gr_resp_free(&r);
    struct form f = {0};

    form_add(&f, "key", "up/a");
    form_policy_as(&f, "post-sts", "up/", "", 300, akid, secret);
    form_file(&f, "a", "abc", 3, 1);
    refused("post-sts", &f, 403, "InvalidAccessKeyId", NULL);

    form_add(&f, "key", "up/a");
    form_add(&f, "x-amz-security-token", "bogus");
    form_policy_as(&f, "post-sts", "up/", "{\"x-amz-security-token\":\"bogus\"}", 300, akid,
                   secret);
    form_file(&f, "a", "abc", 3, 1);
    refused("post-sts", &f, 400, "InvalidToken", NULL);
    ck_assert_int_eq(s3_status("HEAD", "/post-sts/up/a", NULL, NULL), 404);

    form_add(&f, "key", "up/a");
    form_add(&f, "x-amz-security-token", token);
    snprintf(cond, sizeof(cond), "{\"x-amz-security-token\":\"%s\"}", token);
    form_policy_as(&f, "post-sts", "up/", cond, 300, akid, secret);
    form_file(&f, "a", "abc", 3, 1);
    ck_assert_int_eq(post("post-sts", &f, &r), 204);
    gr_resp_free(&r);
    free(f.data);
    ck_assert_int_eq(s3_status("HEAD", "/post-sts/up/a", NULL, NULL), 200);
}
END_TEST

int main(void)
{
    const struct kit_case cases[] = {
        {"PostObject", test_post_object, NULL},
        {"PostObject_Refused", test_post_object_refused, NULL},
        {"PostObject_Session", test_post_object_session, NULL},
    };
    return KIT_RUN("s3_post", cases, setup, teardown, 60);
}
