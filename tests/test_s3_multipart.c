/*
 * test_s3_multipart.c - multipart and checksum behaviours against a real
 * greenroom on port 0: a retried CompleteMultipartUpload (same parts: the
 * same answer; other parts: NoSuchUpload), and the checksums S3 computes,
 * verifies and returns on PutObject, UploadPart, CompleteMultipartUpload
 * (composite "-N" and full-object), HeadObject and GetObject.
 *
 * Query parameters are written in sorted order (curl's SigV4 signs the
 * query as given).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct gr_server srv;

static void setup(void)
{
    gr_set_credentials("test", "test", "us-east-1");
    ck_assert_int_eq(gr_start(&srv, NULL), 0);
}

static void teardown(void)
{
    gr_stop(&srv);
}

static long s3(const char *method, const char *path, const char *const *hdrs, const char *body,
               size_t len, struct gr_resp *r)
{
    ck_assert_int_eq(gr_request(&srv, "s3", method, path, hdrs, body, len, r), 0);
    return r->status;
}

static long s3_status(const char *method, const char *path, const char *const *hdrs,
                      const char *body)
{
    struct gr_resp r;
    long st = s3(method, path, hdrs, body, body ? strlen(body) : 0, &r);
    gr_resp_free(&r);
    return st;
}

static const char *hdr(const struct gr_resp *r, const char *name)
{
    static char buf[1024];
    if (gr_resp_header(r, name, buf, sizeof(buf)) == NULL) {
        buf[0] = 0;
    }
    return buf;
}

static int has(const struct gr_resp *r, const char *needle)
{
    return strstr(r->body, needle) != NULL;
}

/* Creates an upload (extra headers may be NULL); returns its id (free it). */
static char *create_upload(const char *bucket_key, const char *const *hdrs)
{
    struct gr_resp r;
    char path[256];
    snprintf(path, sizeof(path), "%s?uploads=", bucket_key);
    ck_assert_int_eq(s3("POST", path, hdrs, NULL, 0, &r), 200);
    const char *p = strstr(r.body, "<UploadId>");
    ck_assert_ptr_nonnull(p);
    p += 10;
    char *id = strndup(p, strcspn(p, "<"));
    gr_resp_free(&r);
    return id;
}

/* Uploads a part; returns the status, copies the ETag (quoted) into etag
 * and the response into *out when out != NULL (caller frees). */
static long upload_part(const char *bucket_key, const char *uid, int n, const char *const *hdrs,
                        const char *data, size_t len, char etag[80], struct gr_resp *out)
{
    struct gr_resp r;
    char path[300];
    snprintf(path, sizeof(path), "%s?partNumber=%d&uploadId=%s", bucket_key, n, uid);
    long st = s3("PUT", path, hdrs, data, len, &r);
    if (gr_resp_header(&r, "ETag", etag, 80) == NULL) {
        etag[0] = 0;
    }
    if (out != NULL) {
        *out = r;
    } else {
        gr_resp_free(&r);
    }
    return st;
}

static void mk_bucket(const char *name, int versioned)
{
    char path[128];
    snprintf(path, sizeof(path), "/%s", name);
    ck_assert_int_eq(s3_status("PUT", path, NULL, NULL), 200);
    if (versioned) {
        snprintf(path, sizeof(path), "/%s?versioning=", name);
        ck_assert_int_eq(
            s3_status(
                "PUT", path, NULL,
                "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>"),
            200);
    }
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++) {
        n++;
    }
    return n;
}

/* ------------------------------------------------ CompleteMultipartUpload */

START_TEST(test_complete_retry)
{
    struct gr_resp r;
    mk_bucket("mr-bkt", 1);
    char *uid = create_upload("/mr-bkt/obj", NULL);
    char etag[80], path[300], xml[600], first[2048], vid[80];
    ck_assert_int_eq(upload_part("/mr-bkt/obj", uid, 1, NULL, "hello", 5, etag, NULL), 200);
    snprintf(path, sizeof(path), "/mr-bkt/obj?uploadId=%s", uid);
    snprintf(xml, sizeof(xml),
             "<CompleteMultipartUpload><Part><ETag>%s</ETag><PartNumber>1</PartNumber></Part>"
             "</CompleteMultipartUpload>",
             etag);
    ck_assert_int_eq(s3("POST", path, NULL, xml, strlen(xml), &r), 200);
    ck_assert(has(&r, "<ETag>&quot;"));
    ck_assert(has(&r, "<Location>"));
    snprintf(first, sizeof(first), "%s", r.body);
    snprintf(vid, sizeof(vid), "%s", hdr(&r, "x-amz-version-id"));
    ck_assert_uint_gt(strlen(vid), 0);
    gr_resp_free(&r);
    /* the retry (lost answer): the same result, even with If-None-Match */
    const char *inm[] = {"If-None-Match: *", NULL};
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(s3("POST", path, i ? inm : NULL, xml, strlen(xml), &r), 200);
        ck_assert_str_eq(r.body, first);
        ck_assert_str_eq(hdr(&r, "x-amz-version-id"), vid);
        gr_resp_free(&r);
    }
    /* and no second version was written */
    ck_assert_int_eq(s3("GET", "/mr-bkt?versions=", NULL, NULL, 0, &r), 200);
    ck_assert_int_eq(count(r.body, "<Version>"), 1);
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/mr-bkt/obj", NULL, NULL, 0, &r), 200);
    ck_assert_str_eq(r.body, "hello");
    gr_resp_free(&r);
    /* a different part list for the completed upload: NoSuchUpload */
    const char *other[] = {
        "<CompleteMultipartUpload><Part><ETag>\"00000000000000000000000000000000\"</ETag>"
        "<PartNumber>1</PartNumber></Part></CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><ETag>ETAG</ETag><PartNumber>2</PartNumber></Part>"
        "</CompleteMultipartUpload>",
    };
    for (size_t i = 0; i < 2; i++) {
        char body[600];
        const char *e = strstr(other[i], "ETAG");
        if (e != NULL) {
            snprintf(body, sizeof(body), "%.*s%s%s", (int)(e - other[i]), other[i], etag, e + 4);
        } else {
            snprintf(body, sizeof(body), "%s", other[i]);
        }
        ck_assert_int_eq(s3("POST", path, NULL, body, strlen(body), &r), 404);
        ck_assert(has(&r, "<Code>NoSuchUpload</Code>"));
        gr_resp_free(&r);
    }
    /* the upload is otherwise gone: parts, abort and listing */
    ck_assert_int_eq(s3("GET", path, NULL, NULL, 0, &r), 404);
    ck_assert(has(&r, "<Code>NoSuchUpload</Code>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3_status("DELETE", path, NULL, NULL), 404);
    ck_assert_int_eq(s3("GET", "/mr-bkt?uploads=", NULL, NULL, 0, &r), 200);
    ck_assert(!has(&r, uid));
    gr_resp_free(&r);
    /* the record is per key: the same upload id on another key is unknown */
    snprintf(path, sizeof(path), "/mr-bkt/other?uploadId=%s", uid);
    ck_assert_int_eq(s3("POST", path, NULL, xml, strlen(xml), &r), 404);
    ck_assert(has(&r, "<Code>NoSuchUpload</Code>"));
    gr_resp_free(&r);
    free(uid);
}
END_TEST

START_TEST(test_complete_retry_unversioned)
{
    struct gr_resp r;
    mk_bucket("mru-bkt", 0);
    char *uid = create_upload("/mru-bkt/a%20b", NULL);
    char etag[80], path[300], xml[600], first[2048];
    ck_assert_int_eq(upload_part("/mru-bkt/a%20b", uid, 1, NULL, "abc", 3, etag, NULL), 200);
    snprintf(path, sizeof(path), "/mru-bkt/a%%20b?uploadId=%s", uid);
    snprintf(xml, sizeof(xml),
             "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part>"
             "</CompleteMultipartUpload>",
             etag);
    ck_assert_int_eq(s3("POST", path, NULL, xml, strlen(xml), &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-version-id"), "");
    snprintf(first, sizeof(first), "%s", r.body);
    gr_resp_free(&r);
    /* ETag quoting does not matter for the comparison */
    const char *q = strchr(etag, '"');
    char bare[80];
    snprintf(bare, sizeof(bare), "%s", q != NULL ? q + 1 : etag);
    bare[strcspn(bare, "\"")] = 0;
    snprintf(xml, sizeof(xml),
             "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part>"
             "</CompleteMultipartUpload>",
             bare);
    ck_assert_int_eq(s3("POST", path, NULL, xml, strlen(xml), &r), 200);
    ck_assert_str_eq(r.body, first);
    ck_assert_str_eq(hdr(&r, "x-amz-version-id"), "");
    gr_resp_free(&r);
    /* an aborted upload is not a completed one */
    char *uid2 = create_upload("/mru-bkt/c", NULL);
    snprintf(path, sizeof(path), "/mru-bkt/c?uploadId=%s", uid2);
    ck_assert_int_eq(s3_status("DELETE", path, NULL, NULL), 204);
    ck_assert_int_eq(s3("POST", path, NULL, xml, strlen(xml), &r), 404);
    ck_assert(has(&r, "<Code>NoSuchUpload</Code>"));
    gr_resp_free(&r);
    /* the records do not keep the bucket from being deleted */
    ck_assert_int_eq(s3_status("DELETE", "/mru-bkt/a%20b", NULL, NULL), 204);
    ck_assert_int_eq(s3_status("DELETE", "/mru-bkt", NULL, NULL), 204);
    free(uid);
    free(uid2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("s3_multipart");
    struct {
        const char *name;
        const TTest *test;
    } cases[] = {
        {"CompleteMultipartUpload_Retry", test_complete_retry},
        {"CompleteMultipartUpload_RetryUnversioned", test_complete_retry_unversioned},
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
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
