/*
 * test_s3.c - the S3 service against a real greenroom on port 0, one tcase
 * per operation (or family of operations): buckets and their
 * sub-resources, objects (metadata, ranges, conditionals), conditional
 * writes with racing writers, copies, listings, versioning, multipart
 * uploads, checksums and aws-chunked bodies, addressing, bad input, and the
 * files behind objects.
 *
 * Requests are signed by libcurl (harness.h). Valueless sub-resources are
 * written "?versioning=" because curl's SigV4 canonicalises a bare "?x"
 * differently from AWS; S3 treats both forms alike.
 */
#include <check.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "harness.h"

#include "s3_testkit.h"

static void mk_bucket(const char *name)
{
    char path[128];
    snprintf(path, sizeof(path), "/%s", name);
    ck_assert_int_eq(s3_status("PUT", path, NULL, NULL), 200);
}

static void put(const char *path, const char *body)
{
    ck_assert_int_eq(s3_status("PUT", path, NULL, body), 200);
}

static int has(const struct gr_resp *r, const char *needle)
{
    return strstr(r->body, needle) != NULL;
}

/* ------------------------------------------------------------- buckets */

START_TEST(test_create_bucket)
{
    struct gr_resp r;
    ck_assert_int_eq(s3("PUT", "/good-bucket.1", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "Location"), "/good-bucket.1");
    gr_resp_free(&r);
    const char *bad[] = {"/ab",          "/Upper",   "/-dash",       "/a..b",
                         "/192.168.1.1", "/xn--abc", "/under_score", "/ends-s3alias"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_int_eq(s3("PUT", bad[i], NULL, NULL, 0, &r), 400);
        ck_assert_msg(has(&r, "<Code>InvalidBucketName</Code>"), "%s: %s", bad[i], r.body);
        gr_resp_free(&r);
    }
    /* us-east-1 keeps AWS's legacy answer for the owner: 200 */
    ck_assert_int_eq(s3_status("PUT", "/good-bucket.1", NULL, NULL), 200);
    const char *eu = "<CreateBucketConfiguration><LocationConstraint>eu-west-1"
                     "</LocationConstraint></CreateBucketConfiguration>";
    ck_assert_int_eq(s3_status("PUT", "/good-bucket.eu", NULL, eu), 200);
    ck_assert_int_eq(s3("PUT", "/good-bucket.eu", NULL, eu, strlen(eu), &r), 409);
    ck_assert(has(&r, "<Code>BucketAlreadyOwnedByYou</Code>"));
    gr_resp_free(&r);
    gr_set_credentials("111111111111", "test", "us-east-1");
    ck_assert_int_eq(s3("PUT", "/good-bucket.1", NULL, NULL, 0, &r), 409);
    ck_assert(has(&r, "<Code>BucketAlreadyExists</Code>"));
    gr_resp_free(&r);
    /* another account's bucket is not readable */
    ck_assert_int_eq(s3("GET", "/good-bucket.1?list-type=2", NULL, NULL, 0, &r), 403);
    ck_assert(has(&r, "<Code>AccessDenied</Code>"));
    gr_resp_free(&r);
    gr_set_credentials("test", "test", "us-east-1");
}
END_TEST

START_TEST(test_bucket_location)
{
    struct gr_resp r;
    const char *cfg =
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>";
    ck_assert_int_eq(s3("PUT", "/eu-bucket", NULL, cfg, strlen(cfg), &r), 200);
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/eu-bucket?location=", NULL, NULL, 0, &r), 200);
    ck_assert_msg(has(&r, ">eu-west-1</LocationConstraint>"), "%s", r.body);
    gr_resp_free(&r);
    ck_assert_int_eq(s3("HEAD", "/eu-bucket", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-bucket-region"), "eu-west-1");
    gr_resp_free(&r);
    mk_bucket("us-bucket");
    ck_assert_int_eq(s3("GET", "/us-bucket?location=", NULL, NULL, 0, &r), 200);
    ck_assert(has(&r, "</LocationConstraint>"));
    ck_assert(!has(&r, "us-east-1"));
    gr_resp_free(&r);
    const char *use1 = "<CreateBucketConfiguration><LocationConstraint>us-east-1"
                       "</LocationConstraint></CreateBucketConfiguration>";
    ck_assert_int_eq(s3("PUT", "/bad-location", NULL, use1, strlen(use1), &r), 400);
    ck_assert(has(&r, "<Code>InvalidLocationConstraint</Code>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3("PUT", "/bad-xml", NULL, "<Create", 7, &r), 400);
    ck_assert(has(&r, "<Code>MalformedXML</Code>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3_status("HEAD", "/bad-xml", NULL, NULL), 404);
}
END_TEST

START_TEST(test_head_delete_list_buckets)
{
    struct gr_resp r;
    ck_assert_int_eq(s3_status("HEAD", "/nope-bucket", NULL, NULL), 404);
    mk_bucket("bkt-a");
    mk_bucket("bkt-b");
    ck_assert_int_eq(s3_status("HEAD", "/bkt-a", NULL, NULL), 200);
    ck_assert_int_eq(s3("GET", "/", NULL, NULL, 0, &r), 200);
    ck_assert(has(&r, "<Name>bkt-a</Name>"));
    ck_assert(has(&r, "<Name>bkt-b</Name>"));
    ck_assert(has(&r, "<Owner><ID>"));
    gr_resp_free(&r);
    put("/bkt-a/k", "x");
    ck_assert_int_eq(s3("DELETE", "/bkt-a", NULL, NULL, 0, &r), 409);
    ck_assert(has(&r, "<Code>BucketNotEmpty</Code>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3_status("DELETE", "/bkt-a/k", NULL, NULL), 204);
    ck_assert_int_eq(s3_status("DELETE", "/bkt-a", NULL, NULL), 204);
    ck_assert_int_eq(s3("DELETE", "/bkt-a", NULL, NULL, 0, &r), 404);
    ck_assert(has(&r, "<Code>NoSuchBucket</Code>"));
    ck_assert(has(&r, "<BucketName>bkt-a</BucketName>"));
    gr_resp_free(&r);
    /* another account sees only its own buckets */
    gr_set_credentials("222222222222", "test", "us-east-1");
    ck_assert_int_eq(s3("GET", "/", NULL, NULL, 0, &r), 200);
    ck_assert(!has(&r, "bkt-b"));
    gr_resp_free(&r);
    gr_set_credentials("test", "test", "us-east-1");
}
END_TEST

START_TEST(test_bucket_versioning)
{
    struct gr_resp r;
    mk_bucket("ver-bkt");
    ck_assert_int_eq(s3("GET", "/ver-bkt?versioning=", NULL, NULL, 0, &r), 200);
    ck_assert(!has(&r, "<Status>"));
    gr_resp_free(&r);
    const char *on = "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>";
    ck_assert_int_eq(s3_status("PUT", "/ver-bkt?versioning=", NULL, on), 200);
    ck_assert_int_eq(s3("GET", "/ver-bkt?versioning=", NULL, NULL, 0, &r), 200);
    ck_assert(has(&r, "<Status>Enabled</Status>"));
    gr_resp_free(&r);
    const char *bad = "<VersioningConfiguration><Status>Maybe</Status></VersioningConfiguration>";
    ck_assert_int_eq(s3("PUT", "/ver-bkt?versioning=", NULL, bad, strlen(bad), &r), 400);
    ck_assert(has(&r, "<Code>MalformedXML</Code>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3_status("PUT", "/ver-bkt?versioning=", NULL, "not xml"), 400);
}
END_TEST

START_TEST(test_bucket_policy)
{
    struct gr_resp r;
    mk_bucket("pol-bkt");
    ck_assert_int_eq(s3("GET", "/pol-bkt?policy=", NULL, NULL, 0, &r), 404);
    ck_assert(has(&r, "<Code>NoSuchBucketPolicy</Code>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3("PUT", "/pol-bkt?policy=", NULL, "nope", 4, &r), 400);
    ck_assert(has(&r, "<Code>MalformedPolicy</Code>"));
    gr_resp_free(&r);
    const char *pol = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                      "\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
                      "\"Resource\":\"arn:aws:s3:::pol-bkt/*\"}]}";
    ck_assert_int_eq(s3_status("PUT", "/pol-bkt?policy=", NULL, pol), 204);
    ck_assert_int_eq(s3("GET", "/pol-bkt?policy=", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(r.body, pol);
    gr_resp_free(&r);
    ck_assert_int_eq(s3_status("DELETE", "/pol-bkt?policy=", NULL, NULL), 204);
    ck_assert_int_eq(s3_status("GET", "/pol-bkt?policy=", NULL, NULL), 404);
}
END_TEST

START_TEST(test_bucket_tagging)
{
    struct gr_resp r;
    mk_bucket("tag-bkt");
    ck_assert_int_eq(s3("GET", "/tag-bkt?tagging=", NULL, NULL, 0, &r), 404);
    ck_assert(has(&r, "<Code>NoSuchTagSet</Code>"));
    gr_resp_free(&r);
    const char *t = "<Tagging><TagSet><Tag><Key>stage</Key><Value>dev</Value></Tag>"
                    "<Tag><Key>team</Key><Value>a&amp;b</Value></Tag></TagSet></Tagging>";
    ck_assert_int_eq(s3_status("PUT", "/tag-bkt?tagging=", NULL, t), 204);
    ck_assert_int_eq(s3("GET", "/tag-bkt?tagging=", NULL, NULL, 0, &r), 200);
    ck_assert(has(&r, "<Tag><Key>stage</Key><Value>dev</Value></Tag>"));
    ck_assert(has(&r, "<Value>a&amp;b</Value>"));
    gr_resp_free(&r);
    const char *dup = "<Tagging><TagSet><Tag><Key>k</Key><Value>1</Value></Tag>"
                      "<Tag><Key>k</Key><Value>2</Value></Tag></TagSet></Tagging>";
    ck_assert_int_eq(s3("PUT", "/tag-bkt?tagging=", NULL, dup, strlen(dup), &r), 400);
    ck_assert(has(&r, "<Code>InvalidTag</Code>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3_status("DELETE", "/tag-bkt?tagging=", NULL, NULL), 204);
    ck_assert_int_eq(s3_status("GET", "/tag-bkt?tagging=", NULL, NULL), 404);
}
END_TEST

START_TEST(test_bucket_notification)
{
    struct gr_resp r;
    mk_bucket("ntf-bkt");
    ck_assert_int_eq(s3("GET", "/ntf-bkt?notification=", NULL, NULL, 0, &r), 200);
    ck_assert(has(&r, "<NotificationConfiguration"));
    ck_assert(!has(&r, "CloudFunction"));
    gr_resp_free(&r);
    const char *cfg =
        "<NotificationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<QueueConfiguration><Id>c1</Id>"
        "<Queue>arn:aws:sqs:us-east-1:000000000000:q</Queue>"
        "<Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>prefix</Name>"
        "<Value>in/</Value></FilterRule><FilterRule><Name>suffix</Name><Value>.txt</Value>"
        "</FilterRule></S3Key></Filter></QueueConfiguration>"
        "<TopicConfiguration><Topic>arn:aws:sns:us-east-1:000000000000:t</Topic>"
        "<Event>s3:ObjectRemoved:Delete</Event></TopicConfiguration>"
        "</NotificationConfiguration>";
    ck_assert_int_eq(s3_status("PUT", "/ntf-bkt?notification=", NULL, cfg), 200);
    ck_assert_int_eq(s3("GET", "/ntf-bkt?notification=", NULL, NULL, 0, &r), 200);
    ck_assert_msg(has(&r, "<Queue>arn:aws:sqs:us-east-1:000000000000:q</Queue>"), "%s", r.body);
    ck_assert(has(&r, "<Id>c1</Id>"));
    ck_assert(has(&r, "<Event>s3:ObjectCreated:*</Event>"));
    ck_assert(has(&r, "<Name>Prefix</Name><Value>in/</Value>"));
    ck_assert(has(&r, "<Topic>arn:aws:sns:us-east-1:000000000000:t</Topic>"));
    gr_resp_free(&r);
    /* a Lambda destination S3 may not invoke (here: no such function) */
    const char *no_fn =
        "<NotificationConfiguration><CloudFunctionConfiguration>"
        "<CloudFunction>arn:aws:lambda:us-east-1:000000000000:function:fn</CloudFunction>"
        "<Event>s3:ObjectCreated:Put</Event></CloudFunctionConfiguration>"
        "</NotificationConfiguration>";
    ck_assert_int_eq(s3("PUT", "/ntf-bkt?notification=", NULL, no_fn, strlen(no_fn), &r), 400);
    ck_assert(has(&r, "<Code>InvalidArgument</Code>"));
    ck_assert(has(&r, "Unable to validate the following destination configurations"));
    gr_resp_free(&r);
    const char *bad_event =
        "<NotificationConfiguration><CloudFunctionConfiguration>"
        "<CloudFunction>arn:aws:lambda:us-east-1:000000000000:function:fn</CloudFunction>"
        "<Event>s3:ObjectExploded</Event></CloudFunctionConfiguration></NotificationConfiguration>";
    ck_assert_int_eq(s3("PUT", "/ntf-bkt?notification=", NULL, bad_event, strlen(bad_event), &r),
                     400);
    ck_assert(has(&r, "<Code>InvalidArgument</Code>"));
    gr_resp_free(&r);
    const char *bad_rule =
        "<NotificationConfiguration><CloudFunctionConfiguration>"
        "<CloudFunction>arn:aws:lambda:us-east-1:000000000000:function:fn</CloudFunction>"
        "<Event>s3:ObjectCreated:Put</Event><Filter><S3Key><FilterRule><Name>middle</Name>"
        "<Value>x</Value></FilterRule></S3Key></Filter></CloudFunctionConfiguration>"
        "</NotificationConfiguration>";
    ck_assert_int_eq(s3("PUT", "/ntf-bkt?notification=", NULL, bad_rule, strlen(bad_rule), &r),
                     400);
    ck_assert(has(&r, "<Code>InvalidArgument</Code>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3("PUT", "/ntf-bkt?notification=", NULL, "<Notif", 6, &r), 400);
    ck_assert(has(&r, "<Code>MalformedXML</Code>"));
    gr_resp_free(&r);
    /* the valid configuration is still there; an empty one clears it */
    ck_assert_int_eq(s3("GET", "/ntf-bkt?notification=", NULL, NULL, 0, &r), 200);
    ck_assert(has(&r, "<Id>c1</Id>"));
    gr_resp_free(&r);
    ck_assert_int_eq(
        s3_status("PUT", "/ntf-bkt?notification=", NULL, "<NotificationConfiguration/>"), 200);
    ck_assert_int_eq(s3("GET", "/ntf-bkt?notification=", NULL, NULL, 0, &r), 200);
    ck_assert(!has(&r, "<Id>c1</Id>"));
    gr_resp_free(&r);
}
END_TEST

/* ------------------------------------------------------------- objects */

START_TEST(test_put_get_object)
{
    struct gr_resp r;
    mk_bucket("obj-bkt");
    const char *h[] = {"Content-Type: text/plain",
                       "Cache-Control: max-age=60",
                       "Content-Disposition: attachment; filename=\"a.txt\"",
                       "Content-Encoding: identity",
                       "Content-Language: en",
                       "x-amz-meta-Owner: Alice",
                       "x-amz-meta-stage: dev",
                       NULL};
    ck_assert_int_eq(s3("PUT", "/obj-bkt/dir/hello.txt", h, "hello", 5, &r), 200);
    ck_assert_str_eq(hdr(&r, "ETag"), "\"5d41402abc4b2a76b9719d911017c592\"");
    ck_assert_str_eq(hdr(&r, "x-amz-server-side-encryption"), "AES256");
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/obj-bkt/dir/hello.txt", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(r.body, "hello");
    ck_assert_str_eq(hdr(&r, "Content-Type"), "text/plain");
    ck_assert_str_eq(hdr(&r, "Cache-Control"), "max-age=60");
    ck_assert_str_eq(hdr(&r, "Content-Disposition"), "attachment; filename=\"a.txt\"");
    ck_assert_str_eq(hdr(&r, "Content-Language"), "en");
    ck_assert_str_eq(hdr(&r, "x-amz-meta-owner"), "Alice");
    ck_assert_str_eq(hdr(&r, "x-amz-meta-stage"), "dev");
    ck_assert_str_eq(hdr(&r, "ETag"), "\"5d41402abc4b2a76b9719d911017c592\"");
    ck_assert_str_ne(hdr(&r, "Last-Modified"), "");
    ck_assert_str_eq(hdr(&r, "Accept-Ranges"), "bytes");
    gr_resp_free(&r);
    /* HEAD: same headers, no body */
    ck_assert_int_eq(s3("HEAD", "/obj-bkt/dir/hello.txt", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "Content-Length"), "5");
    ck_assert_str_eq(hdr(&r, "x-amz-meta-owner"), "Alice");
    ck_assert_int_eq((int)r.len, 0);
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/obj-bkt/missing", NULL, NULL, 0, &r), 404);
    ck_assert(has(&r, "<Code>NoSuchKey</Code>"));
    ck_assert(has(&r, "<Key>missing</Key>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3_status("HEAD", "/obj-bkt/missing", NULL, NULL), 404);
    ck_assert_int_eq(s3("GET", "/no-bucket-here/k", NULL, NULL, 0, &r), 404);
    ck_assert(has(&r, "<Code>NoSuchBucket</Code>"));
    gr_resp_free(&r);
    /* no Content-Type: binary/octet-stream; x-id ignored; empty objects */
    ck_assert_int_eq(s3_status("PUT", "/obj-bkt/empty?x-id=PutObject", NULL, ""), 200);
    const char *ct[] = {"Content-Type:", NULL};
    ck_assert_int_eq(s3("PUT", "/obj-bkt/noct", ct, "abc", 3, &r), 200);
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/obj-bkt/noct?x-id=GetObject", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "Content-Type"), "binary/octet-stream");
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/obj-bkt/empty", NULL, NULL, 0, &r), 200);
    ck_assert_int_eq((int)r.len, 0);
    ck_assert_str_eq(hdr(&r, "ETag"), "\"d41d8cd98f00b204e9800998ecf8427e\"");
    gr_resp_free(&r);
}
END_TEST

START_TEST(test_get_object_range_overrides)
{
    struct gr_resp r;
    mk_bucket("rng-bkt");
    put("/rng-bkt/digits", "0123456789");
    const char *h1[] = {"Range: bytes=2-5", NULL};
    ck_assert_int_eq(s3("GET", "/rng-bkt/digits", h1, NULL, 0, &r), 206);
    ck_assert_str_eq(r.body, "2345");
    ck_assert_str_eq(hdr(&r, "Content-Range"), "bytes 2-5/10");
    gr_resp_free(&r);
    const char *h2[] = {"Range: bytes=-3", NULL};
    ck_assert_int_eq(s3("GET", "/rng-bkt/digits", h2, NULL, 0, &r), 206);
    ck_assert_str_eq(r.body, "789");
    gr_resp_free(&r);
    const char *h3[] = {"Range: bytes=7-100", NULL};
    ck_assert_int_eq(s3("GET", "/rng-bkt/digits", h3, NULL, 0, &r), 206);
    ck_assert_str_eq(r.body, "789");
    gr_resp_free(&r);
    const char *h4[] = {"Range: bytes=10-", NULL};
    ck_assert_int_eq(s3("GET", "/rng-bkt/digits", h4, NULL, 0, &r), 416);
    ck_assert(has(&r, "<Code>InvalidRange</Code>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/rng-bkt/digits?partNumber=1", NULL, NULL, 0, &r), 206);
    ck_assert_str_eq(r.body, "0123456789");
    gr_resp_free(&r);
    ck_assert_int_eq(s3_status("GET", "/rng-bkt/digits?partNumber=2", NULL, NULL), 416);
    const char *h5[] = {"Range: lines=1-2", NULL};
    ck_assert_int_eq(s3("GET", "/rng-bkt/digits", h5, NULL, 0, &r), 200);
    ck_assert_str_eq(r.body, "0123456789");
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET",
                        "/rng-bkt/digits?response-cache-control=no-cache&"
                        "response-content-disposition=inline&response-content-type=text%2Fcsv",
                        NULL, NULL, 0, &r),
                     200);
    ck_assert_str_eq(hdr(&r, "Content-Type"), "text/csv");
    ck_assert_str_eq(hdr(&r, "Content-Disposition"), "inline");
    ck_assert_str_eq(hdr(&r, "Cache-Control"), "no-cache");
    gr_resp_free(&r);
}
END_TEST

START_TEST(test_get_object_conditionals)
{
    struct gr_resp r;
    mk_bucket("cond-bkt");
    put("/cond-bkt/k", "hello");
    const char *etag = "\"5d41402abc4b2a76b9719d911017c592\"";
    char h[256];
    snprintf(h, sizeof(h), "If-None-Match: %s", etag);
    const char *inm[] = {h, NULL};
    ck_assert_int_eq(s3("GET", "/cond-bkt/k", inm, NULL, 0, &r), 304);
    ck_assert_int_eq((int)r.len, 0);
    ck_assert_str_eq(hdr(&r, "ETag"), etag);
    gr_resp_free(&r);
    const char *inm2[] = {"If-None-Match: \"other\"", NULL};
    ck_assert_int_eq(s3_status("GET", "/cond-bkt/k", inm2, NULL), 200);
    snprintf(h, sizeof(h), "If-Match: %s", etag);
    const char *im[] = {h, NULL};
    ck_assert_int_eq(s3_status("GET", "/cond-bkt/k", im, NULL), 200);
    const char *im2[] = {"If-Match: \"other\"", NULL};
    ck_assert_int_eq(s3("GET", "/cond-bkt/k", im2, NULL, 0, &r), 412);
    ck_assert(has(&r, "<Code>PreconditionFailed</Code>"));
    gr_resp_free(&r);
    const char *ims_future[] = {"If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT", NULL};
    ck_assert_int_eq(s3_status("GET", "/cond-bkt/k", ims_future, NULL), 304);
    const char *ims_past[] = {"If-Modified-Since: Mon, 01 Jan 2001 00:00:00 GMT", NULL};
    ck_assert_int_eq(s3_status("GET", "/cond-bkt/k", ims_past, NULL), 200);
    const char *ius_past[] = {"If-Unmodified-Since: Mon, 01 Jan 2001 00:00:00 GMT", NULL};
    ck_assert_int_eq(s3_status("GET", "/cond-bkt/k", ius_past, NULL), 412);
    const char *ius_future[] = {"If-Unmodified-Since: Fri, 01 Jan 2100 00:00:00 GMT", NULL};
    ck_assert_int_eq(s3_status("GET", "/cond-bkt/k", ius_future, NULL), 200);
    /* If-Match true wins over If-Unmodified-Since false */
    const char *both[] = {h, "If-Unmodified-Since: Mon, 01 Jan 2001 00:00:00 GMT", NULL};
    ck_assert_int_eq(s3_status("GET", "/cond-bkt/k", both, NULL), 200);
    ck_assert_int_eq(s3_status("HEAD", "/cond-bkt/k", im2, NULL), 412);
}
END_TEST

START_TEST(test_conditional_put)
{
    struct gr_resp r;
    mk_bucket("lock-bkt");
    const char *inm[] = {"If-None-Match: *", NULL};
    ck_assert_int_eq(s3_status("PUT", "/lock-bkt/lease", inm, "holder-1"), 200);
    ck_assert_int_eq(s3("PUT", "/lock-bkt/lease", inm, "holder-2", 8, &r), 412);
    ck_assert(has(&r, "<Code>PreconditionFailed</Code>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/lock-bkt/lease", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(r.body, "holder-1");
    char etag[128], h[200];
    snprintf(etag, sizeof(etag), "%s", hdr(&r, "ETag"));
    gr_resp_free(&r);
    const char *wrong[] = {"If-Match: \"0123\"", NULL};
    ck_assert_int_eq(s3_status("PUT", "/lock-bkt/lease", wrong, "holder-3"), 412);
    snprintf(h, sizeof(h), "If-Match: %s", etag);
    const char *right[] = {h, NULL};
    ck_assert_int_eq(s3_status("PUT", "/lock-bkt/lease", right, "holder-4"), 200);
    /* the old ETag no longer matches */
    ck_assert_int_eq(s3_status("PUT", "/lock-bkt/lease", right, "holder-5"), 412);
    ck_assert_int_eq(s3("GET", "/lock-bkt/lease", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(r.body, "holder-4");
    gr_resp_free(&r);
    /* If-Match on a missing key */
    ck_assert_int_eq(s3_status("PUT", "/lock-bkt/none", right, "x"), 404);
    /* after a delete, If-None-Match: * succeeds again */
    ck_assert_int_eq(s3_status("DELETE", "/lock-bkt/lease", NULL, NULL), 204);
    ck_assert_int_eq(s3_status("PUT", "/lock-bkt/lease", inm, "holder-6"), 200);
}
END_TEST

#define RACERS 12
static long race_status[RACERS];

static void *racer(void *arg)
{
    long i = (long)arg;
    char body[32];
    snprintf(body, sizeof(body), "racer-%ld", i);
    const char *inm[] = {"If-None-Match: *", NULL};
    struct gr_resp r;
    if (gr_request(&srv, "s3", "PUT", "/race-bkt/lock", inm, body, strlen(body), &r) == 0) {
        race_status[i] = r.status;
    }
    gr_resp_free(&r);
    return NULL;
}

START_TEST(test_conditional_put_race)
{
    mk_bucket("race-bkt");
    for (int round = 0; round < 5; round++) {
        pthread_t t[RACERS];
        for (long i = 0; i < RACERS; i++) {
            race_status[i] = 0;
            pthread_create(&t[i], NULL, racer, (void *)i);
        }
        for (int i = 0; i < RACERS; i++) {
            pthread_join(t[i], NULL);
        }
        int wins = 0, losses = 0;
        for (int i = 0; i < RACERS; i++) {
            wins += race_status[i] == 200;
            losses += race_status[i] == 412 || race_status[i] == 409;
        }
        ck_assert_int_eq(wins, 1);
        ck_assert_int_eq(losses, RACERS - 1);
        ck_assert_int_eq(s3_status("DELETE", "/race-bkt/lock", NULL, NULL), 204);
    }
}
END_TEST

START_TEST(test_delete_objects)
{
    struct gr_resp r;
    mk_bucket("del-bkt");
    put("/del-bkt/a", "1");
    put("/del-bkt/b", "2");
    put("/del-bkt/c", "3");
    const char *body = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                       "<Object><Key>a</Key></Object><Object><Key>b</Key></Object>"
                       "<Object><Key>never-was</Key></Object></Delete>";
    ck_assert_int_eq(s3("POST", "/del-bkt?delete=", NULL, body, strlen(body), &r), 200);
    ck_assert(has(&r, "<Deleted><Key>a</Key></Deleted>"));
    ck_assert(has(&r, "<Deleted><Key>b</Key></Deleted>"));
    ck_assert(has(&r, "<Deleted><Key>never-was</Key></Deleted>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3_status("GET", "/del-bkt/a", NULL, NULL), 404);
    ck_assert_int_eq(s3_status("GET", "/del-bkt/c", NULL, NULL), 200);
    const char *quiet = "<Delete><Quiet>true</Quiet><Object><Key>c</Key></Object></Delete>";
    ck_assert_int_eq(s3("POST", "/del-bkt?delete=", NULL, quiet, strlen(quiet), &r), 200);
    ck_assert(!has(&r, "<Deleted>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3("POST", "/del-bkt?delete=", NULL, "<Delete><Object>", 16, &r), 400);
    ck_assert(has(&r, "<Code>MalformedXML</Code>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3_status("POST", "/del-bkt?delete=", NULL, "<Delete></Delete>"), 400);
}
END_TEST

START_TEST(test_copy_object)
{
    struct gr_resp r;
    mk_bucket("src-bkt");
    mk_bucket("dst-bkt");
    const char *h[] = {"Content-Type: text/plain", "x-amz-meta-a: 1", NULL};
    ck_assert_int_eq(s3("PUT", "/src-bkt/dir/orig%20file.txt", h, "payload", 7, &r), 200);
    char etag[80];
    snprintf(etag, sizeof(etag), "%s", hdr(&r, "ETag"));
    gr_resp_free(&r);
    const char *c1[] = {"x-amz-copy-source: /src-bkt/dir/orig%20file.txt", NULL};
    ck_assert_int_eq(s3("PUT", "/dst-bkt/copy1", c1, NULL, 0, &r), 200);
    ck_assert(has(&r, "<CopyObjectResult"));
    ck_assert(has(&r, "<LastModified>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/dst-bkt/copy1", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(r.body, "payload");
    ck_assert_str_eq(hdr(&r, "Content-Type"), "text/plain");
    ck_assert_str_eq(hdr(&r, "x-amz-meta-a"), "1");
    ck_assert_str_eq(hdr(&r, "ETag"), etag);
    gr_resp_free(&r);
    const char *c2[] = {"x-amz-copy-source: src-bkt/dir/orig%20file.txt",
                        "x-amz-metadata-directive: REPLACE", "Content-Type: application/json",
                        "x-amz-meta-b: 2", NULL};
    ck_assert_int_eq(s3_status("PUT", "/dst-bkt/copy2", c2, NULL), 200);
    ck_assert_int_eq(s3("HEAD", "/dst-bkt/copy2", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "Content-Type"), "application/json");
    ck_assert_str_eq(hdr(&r, "x-amz-meta-b"), "2");
    ck_assert_str_eq(hdr(&r, "x-amz-meta-a"), "");
    gr_resp_free(&r);
    /* copy onto itself needs REPLACE */
    const char *self[] = {"x-amz-copy-source: /dst-bkt/copy1", NULL};
    ck_assert_int_eq(s3("PUT", "/dst-bkt/copy1", self, NULL, 0, &r), 400);
    ck_assert(has(&r, "<Code>InvalidRequest</Code>"));
    gr_resp_free(&r);
    const char *missing[] = {"x-amz-copy-source: /src-bkt/nothing", NULL};
    ck_assert_int_eq(s3("PUT", "/dst-bkt/copy3", missing, NULL, 0, &r), 404);
    ck_assert(has(&r, "<Code>NoSuchKey</Code>"));
    gr_resp_free(&r);
    const char *cond[] = {"x-amz-copy-source: /src-bkt/dir/orig%20file.txt",
                          "x-amz-copy-source-if-match: \"nope\"", NULL};
    ck_assert_int_eq(s3_status("PUT", "/dst-bkt/copy4", cond, NULL), 412);
    /* the copy survives deleting the source */
    ck_assert_int_eq(s3_status("DELETE", "/src-bkt/dir/orig%20file.txt", NULL, NULL), 204);
    ck_assert_int_eq(s3("GET", "/dst-bkt/copy1", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(r.body, "payload");
    gr_resp_free(&r);
}
END_TEST

START_TEST(test_object_tagging)
{
    struct gr_resp r;
    mk_bucket("otag-bkt");
    const char *h[] = {"x-amz-tagging: a=1&b=two", NULL};
    ck_assert_int_eq(s3_status("PUT", "/otag-bkt/k", h, "x"), 200);
    ck_assert_int_eq(s3("GET", "/otag-bkt/k?tagging=", NULL, NULL, 0, &r), 200);
    ck_assert(has(&r, "<Tag><Key>b</Key><Value>two</Value></Tag>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/otag-bkt/k", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-tagging-count"), "2");
    gr_resp_free(&r);
    const char *t = "<Tagging><TagSet><Tag><Key>z</Key><Value>9</Value></Tag></TagSet></Tagging>";
    ck_assert_int_eq(s3_status("PUT", "/otag-bkt/k?tagging=", NULL, t), 200);
    ck_assert_int_eq(s3("GET", "/otag-bkt/k?tagging=", NULL, NULL, 0, &r), 200);
    ck_assert(has(&r, "<Key>z</Key>"));
    ck_assert(!has(&r, "<Key>a</Key>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3_status("DELETE", "/otag-bkt/k?tagging=", NULL, NULL), 204);
    ck_assert_int_eq(s3("GET", "/otag-bkt/k?tagging=", NULL, NULL, 0, &r), 200);
    ck_assert(!has(&r, "<Tag>"));
    gr_resp_free(&r);
}
END_TEST

/* ------------------------------------------------------------ listings */

START_TEST(test_list_objects_v2)
{
    struct gr_resp r;
    mk_bucket("list-bkt");
    const char *keys[] = {"a.txt", "b/1.txt", "b/2.txt", "b/c/3.txt", "d+e f.txt", "z.txt"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char path[128];
        snprintf(path, sizeof(path), "/list-bkt/%s", keys[i]);
        if (strchr(keys[i], ' ') || strchr(keys[i], '+')) {
            snprintf(path, sizeof(path), "/list-bkt/d%%2Be%%20f.txt");
        }
        put(path, "x");
    }
    ck_assert_int_eq(s3("GET", "/list-bkt?list-type=2", NULL, NULL, 0, &r), 200);
    ck_assert(has(&r, "<KeyCount>6</KeyCount>"));
    ck_assert(has(&r, "<Key>d+e f.txt</Key>"));
    ck_assert(has(&r, "<IsTruncated>false</IsTruncated>"));
    ck_assert(!has(&r, "<Owner>"));
    /* lexicographic order */
    ck_assert(strstr(r.body, "<Key>a.txt") < strstr(r.body, "<Key>b/1.txt"));
    ck_assert(strstr(r.body, "<Key>b/c/3.txt") < strstr(r.body, "<Key>z.txt"));
    gr_resp_free(&r);
    /* trailing slash form used by the JS SDK v3 */
    ck_assert_int_eq(
        s3("GET", "/list-bkt/?delimiter=%2F&list-type=2&prefix=b%2F", NULL, NULL, 0, &r), 200);
    ck_assert(has(&r, "<Key>b/1.txt</Key>"));
    ck_assert(has(&r, "<Key>b/2.txt</Key>"));
    ck_assert(has(&r, "<CommonPrefixes><Prefix>b/c/</Prefix></CommonPrefixes>"));
    ck_assert(!has(&r, "<Key>b/c/3.txt</Key>"));
    ck_assert(has(&r, "<KeyCount>3</KeyCount>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/list-bkt?delimiter=%2F&list-type=2", NULL, NULL, 0, &r), 200);
    ck_assert(has(&r, "<CommonPrefixes><Prefix>b/</Prefix></CommonPrefixes>"));
    ck_assert(has(&r, "<KeyCount>4</KeyCount>"));
    gr_resp_free(&r);
    /* pagination with continuation tokens visits every key once */
    char token[512] = "";
    int seen = 0, pages = 0;
    for (;;) {
        char path[700];
        snprintf(path, sizeof(path), "/list-bkt?%s%s%slist-type=2&max-keys=2",
                 token[0] ? "continuation-token=" : "", token, token[0] ? "&" : "");
        ck_assert_int_eq(s3("GET", path, NULL, NULL, 0, &r), 200);
        for (const char *p = r.body; (p = strstr(p, "<Key>")) != NULL; p++) {
            seen++;
        }
        pages++;
        const char *nt = strstr(r.body, "<NextContinuationToken>");
        if (nt == NULL) {
            ck_assert(has(&r, "<IsTruncated>false</IsTruncated>"));
            gr_resp_free(&r);
            break;
        }
        ck_assert(has(&r, "<IsTruncated>true</IsTruncated>"));
        nt += strlen("<NextContinuationToken>");
        size_t n = strcspn(nt, "<");
        ck_assert_uint_lt(n, sizeof(token));
        memcpy(token, nt, n);
        token[n] = 0;
        gr_resp_free(&r);
        ck_assert_int_lt(pages, 10);
    }
    ck_assert_int_eq(seen, 6);
    ck_assert_int_eq(pages, 3);
    ck_assert_int_eq(s3("GET", "/list-bkt?fetch-owner=true&list-type=2&start-after=b%2Fc%2F3.txt",
                        NULL, NULL, 0, &r),
                     200);
    ck_assert(has(&r, "<KeyCount>2</KeyCount>"));
    ck_assert(has(&r, "<StartAfter>b/c/3.txt</StartAfter>"));
    ck_assert(has(&r, "<Owner><ID>"));
    gr_resp_free(&r);
    ck_assert_int_eq(
        s3("GET", "/list-bkt?encoding-type=url&list-type=2&prefix=d", NULL, NULL, 0, &r), 200);
    ck_assert_msg(has(&r, "<Key>d%2Be%20f.txt</Key>"), "%s", r.body);
    ck_assert(has(&r, "<EncodingType>url</EncodingType>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/list-bkt?list-type=2&max-keys=x", NULL, NULL, 0, &r), 400);
    ck_assert(has(&r, "<Code>InvalidArgument</Code>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3_status("GET", "/list-bkt?continuation-token=zz&list-type=2", NULL, NULL),
                     400);
    ck_assert_int_eq(s3_status("GET", "/list-bkt?encoding-type=base64&list-type=2", NULL, NULL),
                     400);
}
END_TEST

START_TEST(test_list_objects_v1)
{
    struct gr_resp r;
    mk_bucket("v1-bkt");
    put("/v1-bkt/a", "1");
    put("/v1-bkt/b/x", "2");
    put("/v1-bkt/b/y", "3");
    put("/v1-bkt/c", "4");
    ck_assert_int_eq(s3("GET", "/v1-bkt?delimiter=%2F&max-keys=2", NULL, NULL, 0, &r), 200);
    ck_assert(has(&r, "<Key>a</Key>"));
    ck_assert(has(&r, "<Prefix>b/</Prefix>"));
    ck_assert(has(&r, "<IsTruncated>true</IsTruncated>"));
    ck_assert(has(&r, "<NextMarker>b/</NextMarker>"));
    ck_assert(has(&r, "<Owner><ID>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/v1-bkt?delimiter=%2F&marker=b%2F", NULL, NULL, 0, &r), 200);
    ck_assert(!has(&r, "<Key>b/x</Key>"));
    ck_assert(has(&r, "<Key>c</Key>"));
    ck_assert(has(&r, "<Marker>b/</Marker>"));
    ck_assert(has(&r, "<IsTruncated>false</IsTruncated>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/v1-bkt?marker=a", NULL, NULL, 0, &r), 200);
    ck_assert(!has(&r, "<Key>a</Key>"));
    ck_assert(has(&r, "<Key>b/x</Key>"));
    gr_resp_free(&r);
    /* the members after the markers, in AWS's order, then items, prefixes */
    ck_assert_int_eq(
        s3("GET", "/v1-bkt?delimiter=%2F&encoding-type=url&max-keys=2", NULL, NULL, 0, &r), 200);
    ck_assert_msg(has(&r, "<MaxKeys>2</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true"
                          "</IsTruncated><EncodingType>url</EncodingType><Contents><Key>a</Key>"),
                  "%s", r.body);
    ck_assert_msg(has(&r, "</Contents><CommonPrefixes><Prefix>b/</Prefix></CommonPrefixes>"
                          "</ListBucketResult>"),
                  "%s", r.body);
    gr_resp_free(&r);
}
END_TEST

/* ------------------------------------------------------------ versions */

static void versioned(const char *bucket)
{
    char path[128];
    mk_bucket(bucket);
    snprintf(path, sizeof(path), "/%s?versioning=", bucket);
    ck_assert_int_eq(
        s3_status("PUT", path, NULL,
                  "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>"),
        200);
}

START_TEST(test_versioned_objects)
{
    struct gr_resp r;
    versioned("vobj-bkt");
    ck_assert_int_eq(s3("PUT", "/vobj-bkt/k", NULL, "one", 3, &r), 200);
    char v1[64], v2[64], dm[64], path[200];
    snprintf(v1, sizeof(v1), "%s", hdr(&r, "x-amz-version-id"));
    ck_assert_uint_gt(strlen(v1), 0);
    gr_resp_free(&r);
    ck_assert_int_eq(s3("PUT", "/vobj-bkt/k", NULL, "two", 3, &r), 200);
    snprintf(v2, sizeof(v2), "%s", hdr(&r, "x-amz-version-id"));
    ck_assert_str_ne(v1, v2);
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/vobj-bkt/k?versionId=%s", v1);
    ck_assert_int_eq(s3("GET", path, NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(r.body, "one");
    ck_assert_str_eq(hdr(&r, "x-amz-version-id"), v1);
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/vobj-bkt/k", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(r.body, "two");
    gr_resp_free(&r);
    /* delete without a version: a delete marker */
    ck_assert_int_eq(s3("DELETE", "/vobj-bkt/k", NULL, NULL, 0, &r), 204);
    ck_assert_str_eq(hdr(&r, "x-amz-delete-marker"), "true");
    snprintf(dm, sizeof(dm), "%s", hdr(&r, "x-amz-version-id"));
    ck_assert_uint_gt(strlen(dm), 0);
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/vobj-bkt/k", NULL, NULL, 0, &r), 404);
    ck_assert_str_eq(hdr(&r, "x-amz-delete-marker"), "true");
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/vobj-bkt/k?versionId=%s", dm);
    ck_assert_int_eq(s3_status("GET", path, NULL, NULL), 405);
    snprintf(path, sizeof(path), "/vobj-bkt/k?versionId=%s", v2);
    ck_assert_int_eq(s3_status("GET", path, NULL, NULL), 200);
    ck_assert_int_eq(s3_status("GET", "/vobj-bkt/k?versionId=nosuchversion", NULL, NULL), 404);
    /* the reads answer alike: GetObject, HeadObject, GetObjectAttributes */
    const char *attrs[] = {"x-amz-object-attributes: ETag", NULL};
    ck_assert_int_eq(s3("GET", "/vobj-bkt/k?attributes=", attrs, NULL, 0, &r), 404);
    ck_assert_str_eq(hdr(&r, "x-amz-delete-marker"), "true");
    ck_assert_str_eq(hdr(&r, "x-amz-version-id"), dm);
    ck_assert(has(&r, "<Code>NoSuchKey</Code>"));
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/vobj-bkt/k?attributes=&versionId=%s", dm);
    ck_assert_int_eq(s3("GET", path, attrs, NULL, 0, &r), 405);
    ck_assert(has(&r, "<Method>GET</Method><ResourceType>DeleteMarker</ResourceType>"));
    ck_assert_str_eq(hdr(&r, "x-amz-delete-marker"), "true");
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/vobj-bkt/k?attributes=&versionId=%s", v2);
    ck_assert_int_eq(s3("GET", path, attrs, NULL, 0, &r), 200);
    ck_assert(has(&r, "<ETag>"));
    gr_resp_free(&r);
    ck_assert_int_eq(
        s3("GET", "/vobj-bkt/k?attributes=&versionId=nosuchversion", attrs, NULL, 0, &r), 404);
    ck_assert(has(&r, "<Code>NoSuchVersion</Code>"));
    ck_assert(has(&r, "<Key>k</Key><VersionId>nosuchversion</VersionId>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/vobj-bkt/k?versionId=nosuchversion", NULL, NULL, 0, &r), 404);
    ck_assert(has(&r, "<Code>NoSuchVersion</Code>"));
    ck_assert(has(&r, "<Key>k</Key><VersionId>nosuchversion</VersionId>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/vobj-bkt/k?attributes=&versionId=", attrs, NULL, 0, &r), 400);
    ck_assert(has(&r, "Version id cannot be the empty string"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/vobj-bkt/k?versionId=", NULL, NULL, 0, &r), 400);
    ck_assert(has(&r, "Version id cannot be the empty string"));
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/vobj-bkt/k?versionId=%s", dm);
    ck_assert_int_eq(s3("HEAD", path, NULL, NULL, 0, &r), 405);
    ck_assert_str_eq(hdr(&r, "x-amz-delete-marker"), "true");
    gr_resp_free(&r);
    ck_assert_int_eq(s3("HEAD", "/vobj-bkt/k", NULL, NULL, 0, &r), 404);
    ck_assert_str_eq(hdr(&r, "x-amz-delete-marker"), "true");
    gr_resp_free(&r);
    /* list versions: newest first, marker flagged latest */
    ck_assert_int_eq(s3("GET", "/vobj-bkt?versions=", NULL, NULL, 0, &r), 200);
    ck_assert(has(&r, "<ListVersionsResult"));
    const char *pdm = strstr(r.body, "<DeleteMarker>");
    const char *pv2 = strstr(r.body, v2);
    const char *pv1 = strstr(r.body, v1);
    ck_assert(pdm && pv2 && pv1 && pdm < pv2 && pv2 < pv1);
    ck_assert(has(&r, "<IsLatest>true</IsLatest>"));
    gr_resp_free(&r);
    /* removing the marker brings v2 back */
    snprintf(path, sizeof(path), "/vobj-bkt/k?versionId=%s", dm);
    ck_assert_int_eq(s3("DELETE", path, NULL, NULL, 0, &r), 204);
    ck_assert_str_eq(hdr(&r, "x-amz-delete-marker"), "true");
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/vobj-bkt/k", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(r.body, "two");
    gr_resp_free(&r);
    /* delete a specific version */
    snprintf(path, sizeof(path), "/vobj-bkt/k?versionId=%s", v2);
    ck_assert_int_eq(s3_status("DELETE", path, NULL, NULL), 204);
    ck_assert_int_eq(s3("GET", "/vobj-bkt/k", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(r.body, "one");
    gr_resp_free(&r);
    /* copy from a version */
    char src[200];
    snprintf(src, sizeof(src), "x-amz-copy-source: /vobj-bkt/k?versionId=%s", v1);
    const char *ch[] = {src, NULL};
    ck_assert_int_eq(s3("PUT", "/vobj-bkt/copy", ch, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-copy-source-version-id"), v1);
    gr_resp_free(&r);
    /* a versioned bucket with versions is not empty */
    ck_assert_int_eq(s3_status("DELETE", "/vobj-bkt", NULL, NULL), 409);
    /* suspended: writes replace the null version */
    ck_assert_int_eq(
        s3_status("PUT", "/vobj-bkt?versioning=", NULL,
                  "<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>"),
        200);
    ck_assert_int_eq(s3("PUT", "/vobj-bkt/k", NULL, "three", 5, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-version-id"), "null");
    gr_resp_free(&r);
    ck_assert_int_eq(s3_status("PUT", "/vobj-bkt/k", NULL, "four"), 200);
    ck_assert_int_eq(s3("GET", "/vobj-bkt?prefix=k&versions=", NULL, NULL, 0, &r), 200);
    int nulls = 0;
    for (const char *p = r.body; (p = strstr(p, "<VersionId>null</VersionId>")) != NULL; p++) {
        nulls++;
    }
    ck_assert_int_eq(nulls, 1);
    gr_resp_free(&r);
}
END_TEST

/* ----------------------------------------------------------- multipart */

static char *upload_id(const struct gr_resp *r)
{
    const char *p = strstr(r->body, "<UploadId>");
    ck_assert_ptr_nonnull(p);
    p += 10;
    return strndup(p, strcspn(p, "<"));
}

struct part_arg {
    const char *uid;
    int n;
    const char *data;
    size_t len;
    char etag[80];
    long status;
};

static void *upload_part(void *arg)
{
    struct part_arg *a = arg;
    char path[300];
    snprintf(path, sizeof(path), "/mp-bkt/big?partNumber=%d&uploadId=%s", a->n, a->uid);
    struct gr_resp r;
    if (gr_request(&srv, "s3", "PUT", path, NULL, a->data, a->len, &r) == 0) {
        a->status = r.status;
        gr_resp_header(&r, "ETag", a->etag, sizeof(a->etag));
    }
    gr_resp_free(&r);
    return NULL;
}

START_TEST(test_multipart)
{
    struct gr_resp r;
    mk_bucket("mp-bkt");
    const char *ct[] = {"Content-Type: application/zip", "x-amz-meta-kind: artifact", NULL};
    ck_assert_int_eq(s3("POST", "/mp-bkt/big?uploads=", ct, NULL, 0, &r), 200);
    ck_assert(has(&r, "<InitiateMultipartUploadResult"));
    ck_assert(has(&r, "<Key>big</Key>"));
    char *uid = upload_id(&r);
    gr_resp_free(&r);
    size_t big = 5u * 1024 * 1024;
    char *p1 = malloc(big), *p2 = malloc(big);
    memset(p1, 'a', big);
    memset(p2, 'b', big);
    struct part_arg parts[3] = {
        {uid, 1, p1, big, "", 0}, {uid, 2, p2, big, "", 0}, {uid, 3, "tail", 4, "", 0}};
    pthread_t t[3];
    for (int i = 2; i >= 0; i--) {
        pthread_create(&t[i], NULL, upload_part, &parts[i]);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(parts[i].status, 200);
        ck_assert_uint_eq(strlen(parts[i].etag), 34);
    }
    char path[300];
    snprintf(path, sizeof(path), "/mp-bkt/big?uploadId=%s", uid);
    ck_assert_int_eq(s3("GET", path, NULL, NULL, 0, &r), 200);
    ck_assert(has(&r, "<PartNumber>3</PartNumber>"));
    ck_assert(has(&r, "<Size>4</Size>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/mp-bkt?uploads=", NULL, NULL, 0, &r), 200);
    ck_assert(has(&r, uid));
    gr_resp_free(&r);
    /* out of order -> InvalidPartOrder; wrong etag -> InvalidPart */
    char xml[1024];
    snprintf(xml, sizeof(xml),
             "<CompleteMultipartUpload><Part><ETag>%s</ETag><PartNumber>2</PartNumber></Part>"
             "<Part><ETag>%s</ETag><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>",
             parts[1].etag, parts[0].etag);
    ck_assert_int_eq(s3("POST", path, NULL, xml, strlen(xml), &r), 400);
    ck_assert(has(&r, "<Code>InvalidPartOrder</Code>"));
    gr_resp_free(&r);
    snprintf(xml, sizeof(xml),
             "<CompleteMultipartUpload><Part><ETag>\"00000000000000000000000000000000\"</ETag>"
             "<PartNumber>1</PartNumber></Part></CompleteMultipartUpload>");
    ck_assert_int_eq(s3("POST", path, NULL, xml, strlen(xml), &r), 400);
    ck_assert(has(&r, "<Code>InvalidPart</Code>"));
    gr_resp_free(&r);
    /* a small non-last part -> EntityTooSmall */
    snprintf(xml, sizeof(xml),
             "<CompleteMultipartUpload><Part><ETag>%s</ETag><PartNumber>3</PartNumber></Part>"
             "</CompleteMultipartUpload>",
             parts[2].etag);
    ck_assert_int_eq(s3_status("POST", path, NULL, xml), 200);
    /* that completed with part 3 only; start again for the full object */
    free(uid);
    ck_assert_int_eq(s3("POST", "/mp-bkt/big?uploads=", ct, NULL, 0, &r), 200);
    uid = upload_id(&r);
    gr_resp_free(&r);
    for (int i = 0; i < 3; i++) {
        parts[i].uid = uid;
        parts[i].status = 0;
        pthread_create(&t[i], NULL, upload_part, &parts[i]);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(parts[i].status, 200);
    }
    snprintf(path, sizeof(path), "/mp-bkt/big?uploadId=%s", uid);
    snprintf(xml, sizeof(xml),
             "<CompleteMultipartUpload><Part><ETag>%s</ETag><PartNumber>1</PartNumber></Part>"
             "<Part><ETag>%s</ETag><PartNumber>3</PartNumber></Part></CompleteMultipartUpload>",
             parts[2].etag, parts[2].etag);
    ck_assert_int_eq(s3_status("POST", path, NULL, xml), 400);
    snprintf(xml, sizeof(xml),
             "<CompleteMultipartUpload><Part><ETag>%s</ETag><PartNumber>3</PartNumber></Part>"
             "<Part><ETag>%s</ETag><PartNumber>4</PartNumber></Part></CompleteMultipartUpload>",
             parts[2].etag, parts[2].etag);
    ck_assert_int_eq(s3_status("POST", path, NULL, xml), 400);
    snprintf(xml, sizeof(xml),
             "<CompleteMultipartUpload><Part><ETag>%s</ETag><PartNumber>1</PartNumber></Part>"
             "<Part><ETag>%s</ETag><PartNumber>2</PartNumber></Part>"
             "<Part><ETag>%s</ETag><PartNumber>3</PartNumber></Part></CompleteMultipartUpload>",
             parts[0].etag, parts[1].etag, parts[2].etag);
    const char *inm[] = {"If-None-Match: *", NULL};
    ck_assert_int_eq(s3("POST", path, inm, xml, strlen(xml), &r), 412);
    gr_resp_free(&r);
    ck_assert_int_eq(s3("POST", path, NULL, xml, strlen(xml), &r), 200);
    ck_assert(has(&r, "<CompleteMultipartUploadResult"));
    ck_assert_msg(has(&r, "-3&quot;</ETag>"), "%s", r.body);
    gr_resp_free(&r);
    /* the upload is gone: its parts cannot be listed; a retried Complete
     * (same parts) gets the same answer again (test_s3_multipart.c) */
    ck_assert_int_eq(s3("GET", path, NULL, NULL, 0, &r), 404);
    ck_assert(has(&r, "<Code>NoSuchUpload</Code>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3("POST", path, NULL, xml, strlen(xml), &r), 200);
    ck_assert_msg(has(&r, "-3&quot;</ETag>"), "%s", r.body);
    gr_resp_free(&r);
    ck_assert_int_eq(s3("HEAD", "/mp-bkt/big", NULL, NULL, 0, &r), 200);
    char len[32];
    snprintf(len, sizeof(len), "%zu", 2 * big + 4);
    ck_assert_str_eq(hdr(&r, "Content-Length"), len);
    ck_assert_str_eq(hdr(&r, "Content-Type"), "application/zip");
    ck_assert_str_eq(hdr(&r, "x-amz-meta-kind"), "artifact");
    ck_assert_str_eq(hdr(&r, "x-amz-mp-parts-count"), "3");
    ck_assert_ptr_nonnull(strstr(hdr(&r, "ETag"), "-3\""));
    gr_resp_free(&r);
    char range[64];
    snprintf(range, sizeof(range), "Range: bytes=%zu-%zu", big - 2, big + 1);
    const char *rh[] = {range, NULL};
    ck_assert_int_eq(s3("GET", "/mp-bkt/big", rh, NULL, 0, &r), 206);
    ck_assert_str_eq(r.body, "aabb");
    gr_resp_free(&r);
    /* one part by number */
    ck_assert_int_eq(s3("GET", "/mp-bkt/big?partNumber=2", NULL, NULL, 0, &r), 206);
    ck_assert_uint_eq(r.len, big);
    ck_assert(r.body[0] == 'b' && r.body[big - 1] == 'b');
    char cr[80];
    snprintf(cr, sizeof(cr), "bytes %zu-%zu/%zu", big, 2 * big - 1, 2 * big + 4);
    ck_assert_str_eq(hdr(&r, "Content-Range"), cr);
    ck_assert_str_eq(hdr(&r, "x-amz-mp-parts-count"), "3");
    gr_resp_free(&r);
    ck_assert_int_eq(s3("HEAD", "/mp-bkt/big?partNumber=3", NULL, NULL, 0, &r), 206);
    ck_assert_str_eq(hdr(&r, "Content-Length"), "4");
    gr_resp_free(&r);
    ck_assert_int_eq(s3_status("GET", "/mp-bkt/big?partNumber=4", NULL, NULL), 416);
    ck_assert_int_eq(s3_status("GET", "/mp-bkt/big?partNumber=1", rh, NULL), 400);
    snprintf(range, sizeof(range), "Range: bytes=-4");
    ck_assert_int_eq(s3("GET", "/mp-bkt/big", rh, NULL, 0, &r), 206);
    ck_assert_str_eq(r.body, "tail");
    gr_resp_free(&r);
    free(uid);
    free(p1);
    free(p2);
}
END_TEST

START_TEST(test_multipart_small_parts_abort_copy)
{
    struct gr_resp r;
    mk_bucket("mp-bkt");
    put("/mp-bkt/source", "0123456789");
    ck_assert_int_eq(s3("POST", "/mp-bkt/small?uploads=", NULL, NULL, 0, &r), 200);
    char *uid = upload_id(&r);
    gr_resp_free(&r);
    char path[300], e1[80], e2[80];
    snprintf(path, sizeof(path), "/mp-bkt/small?partNumber=1&uploadId=%s", uid);
    ck_assert_int_eq(s3("PUT", path, NULL, "tiny", 4, &r), 200);
    gr_resp_header(&r, "ETag", e1, sizeof(e1));
    gr_resp_free(&r);
    /* UploadPartCopy of a range */
    snprintf(path, sizeof(path), "/mp-bkt/small?partNumber=2&uploadId=%s", uid);
    const char *ch[] = {"x-amz-copy-source: /mp-bkt/source", "x-amz-copy-source-range: bytes=2-4",
                        NULL};
    ck_assert_int_eq(s3("PUT", path, ch, NULL, 0, &r), 200);
    ck_assert(has(&r, "<CopyPartResult"));
    ck_assert(has(&r, "<ETag>&quot;"));
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/mp-bkt/small?uploadId=%s", uid);
    ck_assert_int_eq(s3("GET", path, NULL, NULL, 0, &r), 200);
    const char *q = strstr(r.body, "<PartNumber>2</PartNumber>");
    ck_assert_ptr_nonnull(q);
    q = strstr(q, "<ETag>&quot;");
    ck_assert_ptr_nonnull(q);
    q += strlen("<ETag>&quot;");
    snprintf(e2, sizeof(e2), "\"%.*s\"", (int)strcspn(q, "&"), q);
    ck_assert(has(&r, "<Size>3</Size>"));
    gr_resp_free(&r);
    char xml[600];
    snprintf(xml, sizeof(xml),
             "<CompleteMultipartUpload><Part><ETag>%s</ETag><PartNumber>1</PartNumber></Part>"
             "<Part><ETag>%s</ETag><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>",
             e1, e2);
    ck_assert_int_eq(s3("POST", path, NULL, xml, strlen(xml), &r), 400);
    ck_assert_msg(has(&r, "<Code>EntityTooSmall</Code>"), "%s", r.body);
    gr_resp_free(&r);
    ck_assert_int_eq(s3_status("POST", path, NULL, "<CompleteMultipartUpload>"), 400);
    /* nothing became visible */
    ck_assert_int_eq(s3_status("GET", "/mp-bkt/small", NULL, NULL), 404);
    /* abort */
    ck_assert_int_eq(s3_status("DELETE", path, NULL, NULL), 204);
    ck_assert_int_eq(s3("GET", path, NULL, NULL, 0, &r), 404);
    ck_assert(has(&r, "<Code>NoSuchUpload</Code>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3_status("DELETE", path, NULL, NULL), 404);
    snprintf(path, sizeof(path), "/mp-bkt/small?partNumber=0&uploadId=%s", uid);
    ck_assert_int_eq(s3_status("PUT", path, NULL, "x"), 400);
    ck_assert_int_eq(s3("PUT", "/mp-bkt/small?partNumber=1&uploadId=bogus", NULL, "x", 1, &r), 404);
    ck_assert(has(&r, "<Code>NoSuchUpload</Code>"));
    gr_resp_free(&r);
    /* the bucket is empty again apart from the source */
    ck_assert_int_eq(s3_status("DELETE", "/mp-bkt/source", NULL, NULL), 204);
    ck_assert_int_eq(s3_status("DELETE", "/mp-bkt", NULL, NULL), 204);
    free(uid);
}
END_TEST

START_TEST(test_multipart_checksums)
{
    struct gr_resp r;
    mk_bucket("mpc-bkt");
    const char *alg[] = {"x-amz-checksum-algorithm: CRC32", NULL};
    ck_assert_int_eq(s3("POST", "/mpc-bkt/k?uploads=", alg, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-checksum-algorithm"), "CRC32");
    char *uid = upload_id(&r);
    gr_resp_free(&r);
    char path[300], etag[80], xml[600];
    /* the part's CRC32 is echoed even without a per-part header */
    snprintf(path, sizeof(path), "/mpc-bkt/k?partNumber=1&uploadId=%s", uid);
    ck_assert_int_eq(s3("PUT", path, NULL, "0123456789", 10, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-checksum-crc32"), "poTHxg==");
    gr_resp_header(&r, "ETag", etag, sizeof(etag));
    gr_resp_free(&r);
    const char *bad[] = {"x-amz-checksum-crc32: AAAAAA==", NULL};
    snprintf(path, sizeof(path), "/mpc-bkt/k?partNumber=2&uploadId=%s", uid);
    ck_assert_int_eq(s3("PUT", path, bad, "0123456789", 10, &r), 400);
    ck_assert(has(&r, "<Code>BadDigest</Code>"));
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/mpc-bkt/k?uploadId=%s", uid);
    ck_assert_int_eq(s3("GET", path, NULL, NULL, 0, &r), 200);
    ck_assert(has(&r, "<ChecksumCRC32>poTHxg==</ChecksumCRC32>"));
    ck_assert(!has(&r, "<PartNumber>2</PartNumber>"));
    gr_resp_free(&r);
    snprintf(xml, sizeof(xml),
             "<CompleteMultipartUpload><Part><ETag>%s</ETag><PartNumber>1</PartNumber>"
             "<ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part></CompleteMultipartUpload>",
             etag);
    ck_assert_int_eq(s3("POST", path, NULL, xml, strlen(xml), &r), 400);
    ck_assert(has(&r, "<Code>InvalidPart</Code>"));
    gr_resp_free(&r);
    snprintf(xml, sizeof(xml),
             "<CompleteMultipartUpload><Part><ETag>%s</ETag><PartNumber>1</PartNumber>"
             "<ChecksumCRC32>poTHxg==</ChecksumCRC32></Part></CompleteMultipartUpload>",
             etag);
    ck_assert_int_eq(s3("POST", path, NULL, xml, strlen(xml), &r), 200);
    /* composite: CRC32 over the parts' CRC32s, "-N" */
    ck_assert_msg(has(&r, "<ChecksumCRC32>WcQMlQ==-1</ChecksumCRC32>"), "%s", r.body);
    ck_assert(has(&r, "<ChecksumType>COMPOSITE</ChecksumType>"));
    gr_resp_free(&r);
    const char *mode[] = {"x-amz-checksum-mode: ENABLED", NULL};
    ck_assert_int_eq(s3("GET", "/mpc-bkt/k", mode, NULL, 0, &r), 200);
    ck_assert_str_eq(r.body, "0123456789");
    ck_assert_str_eq(hdr(&r, "x-amz-checksum-crc32"), "WcQMlQ==-1");
    ck_assert_str_eq(hdr(&r, "x-amz-checksum-type"), "COMPOSITE");
    gr_resp_free(&r);
    free(uid);
}
END_TEST

START_TEST(test_journal_resource)
{
    struct gr_resp r;
    mk_bucket("jrn-bkt");
    put("/jrn-bkt/dir/file.txt", "x");
    ck_assert_int_eq(s3_status("GET", "/jrn-bkt/dir/file.txt", NULL, NULL), 200);
    ck_assert_int_eq(gr_request_unsigned(&srv, "GET", "/_greenroom/calls", NULL, NULL, 0, &r), 0);
    ck_assert_int_eq(r.status, 200);
    cJSON *j = gr_resp_json(&r);
    int put_seen = 0, get_seen = 0, create_seen = 0;
    cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(j, "calls"))
    {
        const char *op = cJSON_GetStringValue(cJSON_GetObjectItem(c, "operation"));
        const char *res = cJSON_GetStringValue(cJSON_GetObjectItem(c, "resource"));
        const char *svc = cJSON_GetStringValue(cJSON_GetObjectItem(c, "service"));
        if (op == NULL || res == NULL || svc == NULL || strcmp(svc, "s3") != 0) {
            continue;
        }
        put_seen |= strcmp(op, "PutObject") == 0 && strcmp(res, "jrn-bkt/dir/file.txt") == 0;
        get_seen |= strcmp(op, "GetObject") == 0 && strcmp(res, "jrn-bkt/dir/file.txt") == 0;
        create_seen |= strcmp(op, "CreateBucket") == 0 && strcmp(res, "jrn-bkt") == 0;
    }
    cJSON_Delete(j);
    gr_resp_free(&r);
    ck_assert(put_seen && get_seen && create_seen);
}
END_TEST

/* ----------------------------------------------------------- integrity */

START_TEST(test_checksums)
{
    struct gr_resp r;
    mk_bucket("sum-bkt");
    /* CRC32("0123456789") = 0xA684C7C6 */
    const char *crc[] = {"x-amz-checksum-crc32: poTHxg==", "x-amz-sdk-checksum-algorithm: CRC32",
                         NULL};
    ck_assert_int_eq(s3("PUT", "/sum-bkt/k", crc, "0123456789", 10, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-checksum-crc32"), "poTHxg==");
    gr_resp_free(&r);
    const char *mode[] = {"x-amz-checksum-mode: ENABLED", NULL};
    ck_assert_int_eq(s3("GET", "/sum-bkt/k", mode, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-checksum-crc32"), "poTHxg==");
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/sum-bkt/k", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-checksum-crc32"), "");
    gr_resp_free(&r);
    const char *bad[] = {"x-amz-checksum-crc32: AAAAAA==", NULL};
    ck_assert_int_eq(s3("PUT", "/sum-bkt/bad", bad, "0123456789", 10, &r), 400);
    ck_assert(has(&r, "<Code>BadDigest</Code>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3_status("GET", "/sum-bkt/bad", NULL, NULL), 404);
    /* SHA-256 of "0123456789" in base64 */
    const char *sha[] = {"x-amz-checksum-sha256: hL7c6qq3L8Bx5vQz7XIbYhk9cYHnGiGdZ7yQ5m8aH2I=",
                         NULL};
    ck_assert_int_eq(s3_status("PUT", "/sum-bkt/sha", sha, "0123456789"), 400);
    const char *md5ok[] = {"Content-MD5: eB5eJF1ptWaXm4bijSPyxw==", NULL};
    ck_assert_int_eq(s3_status("PUT", "/sum-bkt/md5", md5ok, "0123456789"), 200);
    const char *md5bad[] = {"Content-MD5: AAAAAAAAAAAAAAAAAAAAAA==", NULL};
    ck_assert_int_eq(s3("PUT", "/sum-bkt/md5b", md5bad, "0123456789", 10, &r), 400);
    ck_assert(has(&r, "<Code>BadDigest</Code>"));
    gr_resp_free(&r);
    const char *md5inv[] = {"Content-MD5: not-base64!", NULL};
    ck_assert_int_eq(s3("PUT", "/sum-bkt/md5c", md5inv, "0123456789", 10, &r), 400);
    ck_assert(has(&r, "<Code>InvalidDigest</Code>"));
    gr_resp_free(&r);
    /* no checksum sent -> S3's default, a full-object CRC64NVME */
    ck_assert_int_eq(s3("PUT", "/sum-bkt/plain", NULL, "abc", 3, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-checksum-crc64nvme"), "BeXKuz/B+us=");
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/sum-bkt/plain", mode, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-checksum-crc64nvme"), "BeXKuz/B+us=");
    ck_assert_str_eq(hdr(&r, "x-amz-checksum-type"), "FULL_OBJECT");
    gr_resp_free(&r);
}
END_TEST

START_TEST(test_aws_chunked)
{
    struct gr_resp r;
    mk_bucket("wire-bkt");
    /* capture 32 (JS SDK v3 stream body) after HTTP de-chunking */
    static const char body[] = "a\r\n0123456789\r\n0\r\nx-amz-checksum-crc32:poTHxg==\r\n\r\n";
    const char *h[] = {"content-type: application/octet-stream",
                       "x-amz-sdk-checksum-algorithm: CRC32",
                       "content-encoding: aws-chunked",
                       "x-amz-decoded-content-length: 10",
                       "x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                       "x-amz-trailer: x-amz-checksum-crc32",
                       NULL};
    ck_assert_int_eq(
        s3("PUT", "/wire-bkt/v3-stream.txt?x-id=PutObject", h, body, sizeof(body) - 1, &r), 200);
    ck_assert_str_eq(hdr(&r, "ETag"), "\"781e5e245d69b566979b86e28d23f2c7\"");
    gr_resp_free(&r);
    const char *mode[] = {"x-amz-checksum-mode: ENABLED", NULL};
    ck_assert_int_eq(s3("GET", "/wire-bkt/v3-stream.txt", mode, NULL, 0, &r), 200);
    ck_assert_str_eq(r.body, "0123456789");
    ck_assert_str_eq(hdr(&r, "x-amz-checksum-crc32"), "poTHxg==");
    ck_assert_str_eq(hdr(&r, "Content-Encoding"), "");
    gr_resp_free(&r);
    /* a wrong trailer checksum: BadDigest, nothing stored */
    static const char bad[] = "a\r\n0123456789\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n";
    ck_assert_int_eq(s3("PUT", "/wire-bkt/bad", h, bad, sizeof(bad) - 1, &r), 400);
    ck_assert(has(&r, "<Code>BadDigest</Code>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3_status("GET", "/wire-bkt/bad", NULL, NULL), 404);
    /* truncated framing: refused, nothing stored */
    static const char trunc[] = "a\r\n01234";
    ck_assert_int_eq(s3("PUT", "/wire-bkt/trunc", h, trunc, sizeof(trunc) - 1, &r), 400);
    gr_resp_free(&r);
    ck_assert_int_eq(s3_status("GET", "/wire-bkt/trunc", NULL, NULL), 404);
    /* decoded length disagrees with the data */
    const char *h2[] = {"content-encoding: aws-chunked", "x-amz-decoded-content-length: 11",
                        "x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER", NULL};
    static const char ok[] = "a\r\n0123456789\r\n0\r\n\r\n";
    ck_assert_int_eq(s3_status("PUT", "/wire-bkt/len", h2, ok), 400);
    ck_assert_int_eq(s3_status("GET", "/wire-bkt/len", NULL, NULL), 404);
}
END_TEST

/* ---------------------------------------------------------- addressing */

START_TEST(test_keys_and_addressing)
{
    struct gr_resp r;
    mk_bucket("key-bkt");
    /* keys never become paths */
    put("/key-bkt/..%2F..%2Fetc%2Fpasswd", "dots");
    put("/key-bkt/%C3%A9t%C3%A9/%E2%9C%93", "unicode");
    put("/key-bkt/a//b", "double");
    ck_assert_int_eq(s3("GET", "/key-bkt/..%2F..%2Fetc%2Fpasswd", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(r.body, "dots");
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/key-bkt/%C3%A9t%C3%A9/%E2%9C%93", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(r.body, "unicode");
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/key-bkt?list-type=2", NULL, NULL, 0, &r), 200);
    ck_assert(has(&r, "<Key>../../etc/passwd</Key>"));
    ck_assert(has(&r, "<Key>a//b</Key>"));
    ck_assert(has(&r, "<Key>\xC3\xA9t\xC3\xA9/\xE2\x9C\x93</Key>"));
    gr_resp_free(&r);
    char path[1200];
    int n = snprintf(path, sizeof(path), "/key-bkt/");
    memset(path + n, 'k', 1024);
    path[n + 1024] = 0;
    put(path, "long");
    path[n + 1024] = 'k';
    path[n + 1025] = 0;
    ck_assert_int_eq(s3("PUT", path, NULL, "x", 1, &r), 400);
    ck_assert(has(&r, "<Code>KeyTooLongError</Code>"));
    gr_resp_free(&r);
    /* virtual-hosted style */
    char host[128];
    snprintf(host, sizeof(host), "Host: key-bkt.s3.localhost:%d", srv.port);
    const char *vh[] = {host, NULL};
    ck_assert_int_eq(s3("GET", "/a//b", vh, NULL, 0, &r), 200);
    ck_assert_str_eq(r.body, "double");
    gr_resp_free(&r);
    snprintf(host, sizeof(host), "Host: key-bkt.localhost:%d", srv.port);
    ck_assert_int_eq(s3("GET", "/?list-type=2&prefix=a", vh, NULL, 0, &r), 200);
    ck_assert(has(&r, "<Key>a//b</Key>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3_status("PUT", "/vh-put", vh, "vh"), 200);
    ck_assert_int_eq(s3("GET", "/key-bkt/vh-put", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(r.body, "vh");
    gr_resp_free(&r);
}
END_TEST

START_TEST(test_bad_input)
{
    struct gr_resp r;
    mk_bucket("bad-bkt");
    /* an unserved sub-resource */
    ck_assert_int_eq(s3("GET", "/bad-bkt?lifecycle=", NULL, NULL, 0, &r), 501);
    ck_assert(has(&r, "<Code>NotImplemented</Code>"));
    gr_resp_free(&r);
    /* POST on a bucket without ?delete */
    ck_assert_int_eq(s3_status("POST", "/bad-bkt", NULL, "x") / 100, 4);
    /* entity expansion is refused as malformed */
    const char *bomb = "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY a \"aaaa\">]>"
                       "<Tagging><TagSet><Tag><Key>&a;</Key><Value>v</Value></Tag></TagSet>"
                       "</Tagging>";
    ck_assert_int_eq(s3("PUT", "/bad-bkt?tagging=", NULL, bomb, strlen(bomb), &r), 400);
    ck_assert(has(&r, "<Code>MalformedXML</Code>"));
    gr_resp_free(&r);
    /* a NUL or a broken escape in a key is refused, not truncated */
    ck_assert_int_eq(s3("PUT", "/bad-bkt/a%00b", NULL, "x", 1, &r), 400);
    ck_assert(has(&r, "<Code>InvalidURI</Code>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3_status("GET", "/bad-bkt/a", NULL, NULL), 404);
    ck_assert_int_eq(s3_status("GET", "/bad-bkt/a%zz", NULL, NULL), 400);
    /* the server is still fine */
    ck_assert_int_eq(s3_status("HEAD", "/bad-bkt", NULL, NULL), 200);
}
END_TEST

/* Number of files in the state dir's objects/ directory. */
static int object_files(void)
{
    char dir[400];
    snprintf(dir, sizeof(dir), "%s/objects", srv.state_dir);
    DIR *d = opendir(dir);
    int n = 0;
    if (d == NULL) {
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        n += strncmp(e->d_name, "s3-", 3) == 0;
    }
    closedir(d);
    return n;
}

static int wait_files(int want)
{
    for (int i = 0; i < 100; i++) {
        if (object_files() == want) {
            return want;
        }
        usleep(50 * 1000);
    }
    return object_files();
}

START_TEST(test_object_files)
{
    mk_bucket("gc-bkt");
    int base = object_files();
    ck_assert_int_ge(base, 0);
    put("/gc-bkt/k", "one");
    ck_assert_int_eq(wait_files(base + 1), base + 1);
    put("/gc-bkt/k", "two");
    put("/gc-bkt/k", "three");
    ck_assert_int_eq(wait_files(base + 1), base + 1);
    const char *c[] = {"x-amz-copy-source: /gc-bkt/k", NULL};
    ck_assert_int_eq(s3_status("PUT", "/gc-bkt/copy", c, NULL), 200);
    ck_assert_int_eq(wait_files(base + 2), base + 2);
    ck_assert_int_eq(s3_status("DELETE", "/gc-bkt/k", NULL, NULL), 204);
    ck_assert_int_eq(wait_files(base + 1), base + 1);
    ck_assert_int_eq(s3_status("DELETE", "/gc-bkt/copy", NULL, NULL), 204);
    ck_assert_int_eq(wait_files(base), base);
    /* a refused upload leaves no file behind */
    const char *bad[] = {"Content-MD5: AAAAAAAAAAAAAAAAAAAAAA==", NULL};
    ck_assert_int_eq(s3_status("PUT", "/gc-bkt/k", bad, "x"), 400);
    ck_assert_int_eq(wait_files(base), base);
}
END_TEST

START_TEST(test_durable_after_kill)
{
    mk_bucket("dur-bkt");
    put("/dur-bkt/k", "survives");
    gr_kill9(&srv);
    ck_assert_int_eq(gr_restart(&srv, NULL), 0);
    struct gr_resp r;
    ck_assert_int_eq(s3("GET", "/dur-bkt/k", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(r.body, "survives");
    gr_resp_free(&r);
}
END_TEST

START_TEST(test_snapshot_restore)
{
    struct gr_resp r;
    const char *json[] = {"Content-Type: application/json", NULL};
    mk_bucket("snap-bkt");
    put("/snap-bkt/k", "before");
    put("/snap-bkt/gone", "kept");
    ck_assert_int_eq(gr_request_unsigned(&srv, "POST", "/_greenroom/snapshots", json,
                                         "{\"name\":\"s1\"}", 13, &r),
                     0);
    ck_assert_int_lt(r.status, 300);
    gr_resp_free(&r);
    put("/snap-bkt/k", "after");
    ck_assert_int_eq(s3_status("DELETE", "/snap-bkt/gone", NULL, NULL), 204);
    put("/snap-bkt/new", "new");
    usleep(300 * 1000); /* let the file collector run */
    ck_assert_int_eq(
        gr_request_unsigned(&srv, "POST", "/_greenroom/snapshots/s1/restore", NULL, NULL, 0, &r),
        0);
    ck_assert_int_lt(r.status, 300);
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/snap-bkt/k", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(r.body, "before");
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/snap-bkt/gone", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(r.body, "kept");
    gr_resp_free(&r);
    ck_assert_int_eq(s3_status("GET", "/snap-bkt/new", NULL, NULL), 404);
    /* and the collector does not take restored files away */
    usleep(300 * 1000);
    ck_assert_int_eq(s3("GET", "/snap-bkt/k", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(r.body, "before");
    gr_resp_free(&r);
}
END_TEST

/* x-amz-expected-bucket-owner and x-amz-source-expected-bucket-owner: a
 * bucket owned by another account than the one named is AccessDenied. */
START_TEST(test_expected_bucket_owner)
{
    struct gr_resp r;
    mk_bucket("ebo-bkt");
    mk_bucket("ebo-src");
    const char *mine[] = {"x-amz-expected-bucket-owner: 000000000000", NULL};
    const char *other[] = {"x-amz-expected-bucket-owner: 111111111111", NULL};
    ck_assert_int_eq(s3_status("PUT", "/ebo-bkt/k", mine, "x"), 200);
    ck_assert_int_eq(s3("PUT", "/ebo-bkt/k", other, "x", 1, &r), 403);
    ck_assert(has(&r, "<Code>AccessDenied</Code>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3_status("GET", "/ebo-bkt/k", other, NULL), 403);
    ck_assert_int_eq(s3_status("GET", "/ebo-bkt?list-type=2", other, NULL), 403);
    ck_assert_int_eq(s3_status("HEAD", "/ebo-bkt", other, NULL), 403);
    ck_assert_int_eq(s3_status("GET", "/ebo-bkt/k", mine, NULL), 200);
    const char *copy_ok[] = {"x-amz-copy-source: /ebo-bkt/k",
                             "x-amz-source-expected-bucket-owner: 000000000000",
                             "x-amz-expected-bucket-owner: 000000000000", NULL};
    const char *copy_bad_src[] = {"x-amz-copy-source: /ebo-bkt/k",
                                  "x-amz-source-expected-bucket-owner: 111111111111", NULL};
    const char *copy_bad_dst[] = {"x-amz-copy-source: /ebo-bkt/k",
                                  "x-amz-expected-bucket-owner: 111111111111", NULL};
    ck_assert_int_eq(s3_status("PUT", "/ebo-src/c1", copy_ok, NULL), 200);
    ck_assert_int_eq(s3_status("PUT", "/ebo-src/c2", copy_bad_src, NULL), 403);
    ck_assert_int_eq(s3_status("PUT", "/ebo-src/c3", copy_bad_dst, NULL), 403);
    ck_assert_int_eq(s3_status("PUT", "/ebo-bkt/c4", copy_bad_src, NULL), 403);
    ck_assert_int_eq(s3_status("HEAD", "/ebo-src/c2", NULL, NULL), 404);
}
END_TEST

/* ------------------------------------------- storage class and encryption */

static const char *const sc_ia[] = {"x-amz-storage-class: STANDARD_IA", NULL};

START_TEST(test_storage_class_put)
{
    struct gr_resp r;
    mk_bucket("sc-put");
    ck_assert_int_eq(s3("PUT", "/sc-put/ia", sc_ia, "data", 4, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-storage-class"), "STANDARD_IA");
    gr_resp_free(&r);
    ck_assert_int_eq(s3("HEAD", "/sc-put/ia", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-storage-class"), "STANDARD_IA");
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/sc-put/ia", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-storage-class"), "STANDARD_IA");
    gr_resp_free(&r);
    /* STANDARD is never echoed */
    const char *std[] = {"x-amz-storage-class: STANDARD", NULL};
    ck_assert_int_eq(s3_status("PUT", "/sc-put/std", std, "x"), 200);
    ck_assert_int_eq(s3("HEAD", "/sc-put/std", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-storage-class"), "");
    gr_resp_free(&r);
    /* listings */
    ck_assert_int_eq(s3("GET", "/sc-put?list-type=2", NULL, NULL, 0, &r), 200);
    ck_assert_msg(has(&r, "<Key>ia</Key>") &&
                      has(&r, "<StorageClass>STANDARD_IA</StorageClass>") &&
                      has(&r, "<StorageClass>STANDARD</StorageClass>"),
                  "%s", r.body);
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/sc-put", NULL, NULL, 0, &r), 200);
    ck_assert_msg(has(&r, "<StorageClass>STANDARD_IA</StorageClass>"), "%s", r.body);
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/sc-put?versions=", NULL, NULL, 0, &r), 200);
    ck_assert_msg(has(&r, "<StorageClass>STANDARD_IA</StorageClass>"), "%s", r.body);
    gr_resp_free(&r);
    const char *attrs[] = {"x-amz-object-attributes: StorageClass", NULL};
    ck_assert_int_eq(s3("GET", "/sc-put/ia?attributes=", attrs, NULL, 0, &r), 200);
    ck_assert_msg(has(&r, "<StorageClass>STANDARD_IA</StorageClass>"), "%s", r.body);
    gr_resp_free(&r);
}
END_TEST

START_TEST(test_storage_class_invalid)
{
    struct gr_resp r;
    mk_bucket("sc-bad");
    put("/sc-bad/src", "x");
    const char *bad[] = {"x-amz-storage-class: FAST", NULL};
    ck_assert_int_eq(s3("PUT", "/sc-bad/k", bad, "x", 1, &r), 400);
    ck_assert_msg(has(&r, "<Code>InvalidStorageClass</Code>") &&
                      has(&r, "The storage class you specified is not valid"),
                  "%s", r.body);
    gr_resp_free(&r);
    ck_assert_int_eq(s3_status("HEAD", "/sc-bad/k", NULL, NULL), 404);
    const char *cbad[] = {"x-amz-storage-class: FAST", "x-amz-copy-source: /sc-bad/src", NULL};
    ck_assert_int_eq(s3("PUT", "/sc-bad/c", cbad, NULL, 0, &r), 400);
    ck_assert_msg(has(&r, "<Code>InvalidStorageClass</Code>"), "%s", r.body);
    gr_resp_free(&r);
    ck_assert_int_eq(s3("POST", "/sc-bad/m?uploads=", bad, NULL, 0, &r), 400);
    ck_assert_msg(has(&r, "<Code>InvalidStorageClass</Code>"), "%s", r.body);
    gr_resp_free(&r);
}
END_TEST

START_TEST(test_storage_class_copy)
{
    struct gr_resp r;
    mk_bucket("sc-copy");
    ck_assert_int_eq(s3_status("PUT", "/sc-copy/src", sc_ia, "data"), 200);
    /* the copy's class is the request's, STANDARD when none */
    const char *c1[] = {"x-amz-copy-source: /sc-copy/src", NULL};
    ck_assert_int_eq(s3_status("PUT", "/sc-copy/plain", c1, NULL), 200);
    ck_assert_int_eq(s3("HEAD", "/sc-copy/plain", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-storage-class"), "");
    gr_resp_free(&r);
    const char *c2[] = {"x-amz-copy-source: /sc-copy/src", "x-amz-storage-class: ONEZONE_IA",
                        NULL};
    ck_assert_int_eq(s3_status("PUT", "/sc-copy/oz", c2, NULL), 200);
    ck_assert_int_eq(s3("HEAD", "/sc-copy/oz", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-storage-class"), "ONEZONE_IA");
    gr_resp_free(&r);
    /* an in-place copy changing only the class is allowed */
    const char *c3[] = {"x-amz-copy-source: /sc-copy/src", "x-amz-storage-class: GLACIER_IR",
                        NULL};
    ck_assert_int_eq(s3_status("PUT", "/sc-copy/src", c3, NULL), 200);
    ck_assert_int_eq(s3("HEAD", "/sc-copy/src", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-storage-class"), "GLACIER_IR");
    gr_resp_free(&r);
}
END_TEST

/* The value of <tag> in an XML body into out ("" when absent). */
static void xml_val(const char *body, const char *tag, char *out, size_t len)
{
    char open[64];
    snprintf(open, sizeof(open), "<%s>", tag);
    const char *p = strstr(body, open);
    out[0] = 0;
    if (p != NULL) {
        p += strlen(open);
        size_t n = strcspn(p, "<");
        if (n < len) {
            memcpy(out, p, n);
            out[n] = 0;
        }
    }
}

START_TEST(test_storage_class_multipart)
{
    struct gr_resp r;
    char uid[128], path[256], etag[128];
    mk_bucket("sc-mpu");
    ck_assert_int_eq(s3("POST", "/sc-mpu/big?uploads=", sc_ia, NULL, 0, &r), 200);
    xml_val(r.body, "UploadId", uid, sizeof(uid));
    gr_resp_free(&r);
    ck_assert(uid[0] != 0);
    ck_assert_int_eq(s3("GET", "/sc-mpu?uploads=", NULL, NULL, 0, &r), 200);
    ck_assert_msg(has(&r, "<StorageClass>STANDARD_IA</StorageClass>"), "%s", r.body);
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/sc-mpu/big?partNumber=1&uploadId=%s", uid);
    ck_assert_int_eq(s3("PUT", path, NULL, "part", 4, &r), 200);
    snprintf(etag, sizeof(etag), "%s", hdr(&r, "ETag"));
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/sc-mpu/big?uploadId=%s", uid);
    ck_assert_int_eq(s3("GET", path, NULL, NULL, 0, &r), 200);
    ck_assert_msg(has(&r, "<StorageClass>STANDARD_IA</StorageClass>"), "%s", r.body);
    gr_resp_free(&r);
    char done[512];
    snprintf(done, sizeof(done),
             "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part>"
             "</CompleteMultipartUpload>",
             etag);
    ck_assert_int_eq(s3("POST", path, NULL, done, strlen(done), &r), 200);
    gr_resp_free(&r);
    ck_assert_int_eq(s3("HEAD", "/sc-mpu/big", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-storage-class"), "STANDARD_IA");
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/sc-mpu?list-type=2", NULL, NULL, 0, &r), 200);
    ck_assert_msg(has(&r, "<StorageClass>STANDARD_IA</StorageClass>"), "%s", r.body);
    gr_resp_free(&r);
}
END_TEST

START_TEST(test_storage_class_archived)
{
    struct gr_resp r;
    mk_bucket("sc-arch");
    const char *gl[] = {"x-amz-storage-class: GLACIER", NULL};
    const char *da[] = {"x-amz-storage-class: DEEP_ARCHIVE", NULL};
    ck_assert_int_eq(s3_status("PUT", "/sc-arch/g", gl, "cold"), 200);
    ck_assert_int_eq(s3_status("PUT", "/sc-arch/d", da, "colder"), 200);
    ck_assert_int_eq(s3("GET", "/sc-arch/g", NULL, NULL, 0, &r), 403);
    ck_assert_msg(has(&r, "<Code>InvalidObjectState</Code>") &&
                      has(&r, "The operation is not valid for the object") &&
                      has(&r, "<StorageClass>GLACIER</StorageClass>"),
                  "%s", r.body);
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/sc-arch/d", NULL, NULL, 0, &r), 403);
    ck_assert_msg(has(&r, "<Code>InvalidObjectState</Code>"), "%s", r.body);
    gr_resp_free(&r);
    /* HEAD still answers, with the class */
    ck_assert_int_eq(s3("HEAD", "/sc-arch/g", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-storage-class"), "GLACIER");
    gr_resp_free(&r);
}
END_TEST

START_TEST(test_sse_kms)
{
    struct gr_resp r;
    mk_bucket("sse-bkt");
    const char *kms[] = {"x-amz-server-side-encryption: aws:kms",
                         "x-amz-server-side-encryption-aws-kms-key-id: "
                         "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                         NULL};
    const char *key = "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    ck_assert_int_eq(s3("PUT", "/sse-bkt/k", kms, "secret", 6, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-server-side-encryption"), "aws:kms");
    ck_assert_str_eq(hdr(&r, "x-amz-server-side-encryption-aws-kms-key-id"), key);
    gr_resp_free(&r);
    ck_assert_int_eq(s3("HEAD", "/sse-bkt/k", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-server-side-encryption"), "aws:kms");
    ck_assert_str_eq(hdr(&r, "x-amz-server-side-encryption-aws-kms-key-id"), key);
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/sse-bkt/k", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-server-side-encryption"), "aws:kms");
    ck_assert_str_eq(hdr(&r, "x-amz-server-side-encryption-aws-kms-key-id"), key);
    gr_resp_free(&r);
    /* a copy gets the request's encryption: AES256 unless it asks for KMS;
     * no key id: the account's AWS managed key */
    const char *c1[] = {"x-amz-copy-source: /sse-bkt/k", NULL};
    ck_assert_int_eq(s3("PUT", "/sse-bkt/c1", c1, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-server-side-encryption"), "AES256");
    gr_resp_free(&r);
    const char *c2[] = {"x-amz-copy-source: /sse-bkt/k",
                        "x-amz-server-side-encryption: aws:kms:dsse", NULL};
    ck_assert_int_eq(s3("PUT", "/sse-bkt/c2", c2, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-server-side-encryption"), "aws:kms:dsse");
    ck_assert_str_eq(hdr(&r, "x-amz-server-side-encryption-aws-kms-key-id"),
                     "arn:aws:kms:us-east-1:000000000000:alias/aws/s3");
    gr_resp_free(&r);
    ck_assert_int_eq(s3("HEAD", "/sse-bkt/c2", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-server-side-encryption"), "aws:kms:dsse");
    gr_resp_free(&r);
    /* AES256 as before */
    const char *aes[] = {"x-amz-server-side-encryption: AES256", NULL};
    ck_assert_int_eq(s3("PUT", "/sse-bkt/a", aes, "x", 1, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-server-side-encryption"), "AES256");
    ck_assert_str_eq(hdr(&r, "x-amz-server-side-encryption-aws-kms-key-id"), "");
    gr_resp_free(&r);
    /* multipart keeps it too */
    ck_assert_int_eq(s3("POST", "/sse-bkt/m?uploads=", kms, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-server-side-encryption"), "aws:kms");
    ck_assert_str_eq(hdr(&r, "x-amz-server-side-encryption-aws-kms-key-id"), key);
    gr_resp_free(&r);
    /* an unknown method */
    const char *bad[] = {"x-amz-server-side-encryption: rot13", NULL};
    ck_assert_int_eq(s3("PUT", "/sse-bkt/b", bad, "x", 1, &r), 400);
    ck_assert_msg(has(&r, "<Code>InvalidArgument</Code>") &&
                      has(&r, "The encryption method specified is not supported"),
                  "%s", r.body);
    gr_resp_free(&r);
    ck_assert_int_eq(s3_status("HEAD", "/sse-bkt/b", NULL, NULL), 404);
}
END_TEST

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    Suite *s = suite_create("s3");
    struct {
        const char *name;
        const TTest *test;
    } cases[] = {
        {"CreateBucket", test_create_bucket},
        {"GetBucketLocation", test_bucket_location},
        {"HeadBucket_DeleteBucket_ListBuckets", test_head_delete_list_buckets},
        {"BucketVersioning", test_bucket_versioning},
        {"BucketPolicy", test_bucket_policy},
        {"BucketTagging", test_bucket_tagging},
        {"BucketNotificationConfiguration", test_bucket_notification},
        {"PutObject_GetObject_HeadObject", test_put_get_object},
        {"GetObject_Range", test_get_object_range_overrides},
        {"GetObject_Conditionals", test_get_object_conditionals},
        {"PutObject_Conditional", test_conditional_put},
        {"PutObject_ConditionalRace", test_conditional_put_race},
        {"DeleteObjects", test_delete_objects},
        {"CopyObject", test_copy_object},
        {"ObjectTagging", test_object_tagging},
        {"ListObjectsV2", test_list_objects_v2},
        {"ListObjects", test_list_objects_v1},
        {"ListObjectVersions_DeleteObject", test_versioned_objects},
        {"Multipart", test_multipart},
        {"Multipart_Errors_Abort_UploadPartCopy", test_multipart_small_parts_abort_copy},
        {"Multipart_Checksums", test_multipart_checksums},
        {"Checksums", test_checksums},
        {"AwsChunked", test_aws_chunked},
        {"Keys_Addressing", test_keys_and_addressing},
        {"BadInput", test_bad_input},
        {"ObjectFiles", test_object_files},
        {"Durability", test_durable_after_kill},
        {"JournalResource", test_journal_resource},
        {"SnapshotRestore", test_snapshot_restore},
        {"ExpectedBucketOwner", test_expected_bucket_owner},
        {"StorageClass_PutObject_Head_Get_Lists", test_storage_class_put},
        {"StorageClass_Invalid", test_storage_class_invalid},
        {"StorageClass_CopyObject", test_storage_class_copy},
        {"StorageClass_Multipart", test_storage_class_multipart},
        {"StorageClass_Archived_GetObject", test_storage_class_archived},
        {"SSE_KMS", test_sse_kms},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, cases[i].test);
        suite_add_tcase(s, tc);
    }
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed == 0 ? 0 : 1;
}
