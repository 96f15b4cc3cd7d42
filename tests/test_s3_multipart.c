/*
 * test_s3_multipart.c - multipart and checksum behaviours against a real
 * greenroom on port 0: a retried CompleteMultipartUpload (same parts: the
 * same answer; other parts: NoSuchUpload), and the checksums S3 computes,
 * verifies and returns on PutObject, CopyObject, UploadPart,
 * CompleteMultipartUpload (composite "-N" and full-object), HeadObject,
 * GetObject, GetObjectAttributes and listings.
 *
 * Query parameters are written in sorted order (curl's SigV4 signs the
 * query as given).
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#include "s3_testkit.h"

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

#define S3_PART (5 * 1024 * 1024)

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

#define COMPLETERS 6
struct completer {
    const char *path;
    const char *xml;
    long status;
    char body[2048];
};

static void *complete_racer(void *arg)
{
    struct completer *c = arg;
    struct gr_resp r;
    if (gr_request(&srv, "s3", "POST", c->path, NULL, c->xml, strlen(c->xml), &r) == 0) {
        c->status = r.status;
        snprintf(c->body, sizeof(c->body), "%s", r.body);
    }
    gr_resp_free(&r);
    return NULL;
}

/* Completes racing each other (a client retrying while the first call is
 * still running): all answer the same result, one version is written. */
START_TEST(test_complete_race)
{
    struct gr_resp r;
    mk_bucket("mrace-bkt", 1);
    char *data = malloc(S3_PART);
    ck_assert_ptr_nonnull(data);
    memset(data, 'z', S3_PART);
    for (int round = 0; round < 3; round++) {
        char *uid = create_upload("/mrace-bkt/obj", NULL);
        char e1[80], e2[80], path[300], xml[600];
        ck_assert_int_eq(upload_part("/mrace-bkt/obj", uid, 1, NULL, data, S3_PART, e1, NULL), 200);
        ck_assert_int_eq(upload_part("/mrace-bkt/obj", uid, 2, NULL, "end", 3, e2, NULL), 200);
        snprintf(path, sizeof(path), "/mrace-bkt/obj?uploadId=%s", uid);
        snprintf(xml, sizeof(xml),
                 "<CompleteMultipartUpload><Part><ETag>%s</ETag><PartNumber>1</PartNumber></Part>"
                 "<Part><ETag>%s</ETag><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>",
                 e1, e2);
        static struct completer c[COMPLETERS];
        pthread_t t[COMPLETERS];
        for (int i = 0; i < COMPLETERS; i++) {
            c[i].path = path;
            c[i].xml = xml;
            c[i].status = 0;
            c[i].body[0] = 0;
            pthread_create(&t[i], NULL, complete_racer, &c[i]);
        }
        for (int i = 0; i < COMPLETERS; i++) {
            pthread_join(t[i], NULL);
        }
        for (int i = 0; i < COMPLETERS; i++) {
            ck_assert_int_eq(c[i].status, 200);
            ck_assert_str_eq(c[i].body, c[0].body);
        }
        free(uid);
    }
    ck_assert_int_eq(s3("GET", "/mrace-bkt?versions=", NULL, NULL, 0, &r), 200);
    ck_assert_int_eq(count(r.body, "<Version>"), 3);
    gr_resp_free(&r);
    free(data);
}
END_TEST

/* The records of completed uploads are bounded: the latest 1000 of a
 * bucket are kept; the oldest one's retry is then NoSuchUpload. */
START_TEST(test_complete_records_bounded)
{
    struct gr_resp r;
    mk_bucket("mb-bkt", 0);
    char first_path[300] = "", first_xml[400] = "";
    for (int i = 0; i < 1001; i++) {
        char *uid = create_upload("/mb-bkt/k", NULL);
        char etag[80], path[300], xml[400];
        ck_assert_int_eq(upload_part("/mb-bkt/k", uid, 1, NULL, "x", 1, etag, NULL), 200);
        snprintf(path, sizeof(path), "/mb-bkt/k?uploadId=%s", uid);
        snprintf(xml, sizeof(xml),
                 "<CompleteMultipartUpload><Part><ETag>%s</ETag><PartNumber>1</PartNumber>"
                 "</Part></CompleteMultipartUpload>",
                 etag);
        ck_assert_int_eq(s3("POST", path, NULL, xml, strlen(xml), &r), 200);
        gr_resp_free(&r);
        if (i == 0) {
            snprintf(first_path, sizeof(first_path), "%s", path);
            snprintf(first_xml, sizeof(first_xml), "%s", xml);
            /* kept while fewer than 1000 followed */
            ck_assert_int_eq(s3("POST", path, NULL, xml, strlen(xml), &r), 200);
            gr_resp_free(&r);
        }
        if (i == 1000) {
            /* the newest is remembered */
            ck_assert_int_eq(s3("POST", path, NULL, xml, strlen(xml), &r), 200);
            gr_resp_free(&r);
        }
        free(uid);
    }
    ck_assert_int_eq(s3("POST", first_path, NULL, first_xml, strlen(first_xml), &r), 404);
    ck_assert(has(&r, "<Code>NoSuchUpload</Code>"));
    gr_resp_free(&r);
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

/* ------------------------------------------------------------- checksums */

/* Checksums of "0123456789" (base64, big-endian). */
static const struct {
    const char *algo;
    const char *upper;
    const char *value;
} digits[] = {
    {"crc32", "CRC32", "poTHxg=="},
    {"crc32c", "CRC32C", "KAwGng=="},
    {"crc64nvme", "CRC64NVME", "Ffmx7kz9nB0="},
    {"sha1", "SHA1", "h6zsF82dzSCnFsws9nQXtxyKcBY="},
    {"sha256", "SHA256", "hNiYd/DUBB77a/kaFvAkjy/Vc+avBcGflr7bn4gveII="},
};

START_TEST(test_put_object_checksums)
{
    struct gr_resp r;
    mk_bucket("pc-bkt", 0);
    const char *mode[] = {"x-amz-checksum-mode: ENABLED", NULL};
    for (size_t i = 0; i < sizeof(digits) / sizeof(digits[0]); i++) {
        char h[128], name[48], path[64];
        snprintf(name, sizeof(name), "x-amz-checksum-%s", digits[i].algo);
        snprintf(path, sizeof(path), "/pc-bkt/%s", digits[i].algo);
        /* the value itself */
        snprintf(h, sizeof(h), "%s: %s", name, digits[i].value);
        const char *hv[] = {h, NULL};
        ck_assert_int_eq(s3("PUT", path, hv, "0123456789", 10, &r), 200);
        ck_assert_str_eq(hdr(&r, name), digits[i].value);
        ck_assert_str_eq(hdr(&r, "x-amz-checksum-type"), "FULL_OBJECT");
        gr_resp_free(&r);
        ck_assert_int_eq(s3("HEAD", path, mode, NULL, 0, &r), 200);
        ck_assert_str_eq(hdr(&r, name), digits[i].value);
        ck_assert_str_eq(hdr(&r, "x-amz-checksum-type"), "FULL_OBJECT");
        gr_resp_free(&r);
        ck_assert_int_eq(s3("GET", path, mode, NULL, 0, &r), 200);
        ck_assert_str_eq(hdr(&r, name), digits[i].value);
        gr_resp_free(&r);
        /* not asked for: not returned */
        ck_assert_int_eq(s3("HEAD", path, NULL, NULL, 0, &r), 200);
        ck_assert_str_eq(hdr(&r, name), "");
        gr_resp_free(&r);
        /* only the algorithm named (either header): computed and stored */
        const char *named[] = {"x-amz-sdk-checksum-algorithm", "x-amz-checksum-algorithm"};
        for (size_t k = 0; k < 2; k++) {
            snprintf(h, sizeof(h), "%s: %s", named[k], digits[i].upper);
            snprintf(path, sizeof(path), "/pc-bkt/%s-named-%zu", digits[i].algo, k);
            ck_assert_int_eq(s3("PUT", path, hv, "0123456789", 10, &r), 200);
            ck_assert_str_eq(hdr(&r, name), digits[i].value);
            gr_resp_free(&r);
            ck_assert_int_eq(s3("HEAD", path, mode, NULL, 0, &r), 200);
            ck_assert_str_eq(hdr(&r, name), digits[i].value);
            gr_resp_free(&r);
        }
        /* a wrong value (well-formed): BadDigest naming the algorithm, nothing stored */
        snprintf(h, sizeof(h), "%s: %s", name, digits[(i + 1) % 5].value);
        size_t want = strlen(digits[i].value), got = strlen(digits[(i + 1) % 5].value);
        snprintf(path, sizeof(path), "/pc-bkt/%s-bad", digits[i].algo);
        if (want == got) {
            ck_assert_int_eq(s3("PUT", path, hv, "0123456789", 10, &r), 400);
            ck_assert(has(&r, "<Code>BadDigest</Code>"));
            char msg[128];
            snprintf(msg, sizeof(msg), "The %s you specified did not match", digits[i].upper);
            ck_assert_msg(has(&r, msg), "%s", r.body);
        } else {
            /* a value of the wrong size for the algorithm */
            ck_assert_int_eq(s3("PUT", path, hv, "0123456789", 10, &r), 400);
            ck_assert(has(&r, "<Code>InvalidRequest</Code>"));
            char msg[128];
            snprintf(msg, sizeof(msg), "Value for %s header is invalid.", name);
            ck_assert_msg(has(&r, msg), "%s", r.body);
        }
        gr_resp_free(&r);
        ck_assert_int_eq(s3_status("HEAD", path, NULL, NULL), 404);
    }
    /* CopyObject keeps the source's checksum, or computes the one asked for */
    const char *cp[] = {"x-amz-copy-source: /pc-bkt/sha1", NULL};
    ck_assert_int_eq(s3("PUT", "/pc-bkt/copy1", cp, NULL, 0, &r), 200);
    ck_assert_msg(has(&r, "<ChecksumSHA1>h6zsF82dzSCnFsws9nQXtxyKcBY=</ChecksumSHA1>"), "%s",
                  r.body);
    gr_resp_free(&r);
    const char *cp2[] = {"x-amz-copy-source: /pc-bkt/sha1", "x-amz-checksum-algorithm: SHA256",
                         NULL};
    ck_assert_int_eq(s3("PUT", "/pc-bkt/copy2", cp2, NULL, 0, &r), 200);
    ck_assert_msg(has(&r, "<ChecksumType>FULL_OBJECT</ChecksumType><ChecksumSHA256>"
                          "hNiYd/DUBB77a/kaFvAkjy/Vc+avBcGflr7bn4gveII=</ChecksumSHA256>"),
                  "%s", r.body);
    gr_resp_free(&r);
    ck_assert_int_eq(s3("HEAD", "/pc-bkt/copy2", mode, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-checksum-sha256"),
                     "hNiYd/DUBB77a/kaFvAkjy/Vc+avBcGflr7bn4gveII=");
    ck_assert_str_eq(hdr(&r, "x-amz-checksum-sha1"), "");
    gr_resp_free(&r);
    const char *cp3[] = {"x-amz-copy-source: /pc-bkt/sha1", "x-amz-checksum-algorithm: MD4", NULL};
    ck_assert_int_eq(s3("PUT", "/pc-bkt/copy3", cp3, NULL, 0, &r), 400);
    ck_assert(has(&r, "<Code>InvalidRequest</Code>"));
    gr_resp_free(&r);
    /* listings name the algorithm and the type */
    ck_assert_int_eq(s3("GET", "/pc-bkt?list-type=2&prefix=sha1", NULL, NULL, 0, &r), 200);
    ck_assert_msg(has(&r, "<ChecksumAlgorithm>SHA1</ChecksumAlgorithm>"
                          "<ChecksumType>FULL_OBJECT</ChecksumType>"),
                  "%s", r.body);
    gr_resp_free(&r);
    /* GetObjectAttributes of a single-part object: no ObjectParts */
    const char *attrs[] = {"x-amz-object-attributes: ObjectParts,Checksum,ObjectSize", NULL};
    ck_assert_int_eq(s3("GET", "/pc-bkt/sha1?attributes=", attrs, NULL, 0, &r), 200);
    ck_assert_msg(has(&r, "<Checksum><ChecksumSHA1>h6zsF82dzSCnFsws9nQXtxyKcBY=</ChecksumSHA1>"
                          "<ChecksumType>FULL_OBJECT</ChecksumType></Checksum>"
                          "<ObjectSize>10</ObjectSize>"),
                  "%s", r.body);
    ck_assert(!has(&r, "<ObjectParts>"));
    gr_resp_free(&r);
    /* two checksums at once */
    const char *two[] = {"x-amz-checksum-crc32: poTHxg==", "x-amz-checksum-crc32c: KAwGng==", NULL};
    ck_assert_int_eq(s3("PUT", "/pc-bkt/two", two, "0123456789", 10, &r), 400);
    ck_assert(has(&r, "<Code>InvalidRequest</Code>"));
    ck_assert(has(&r, "Multiple checksum Types are not allowed."));
    gr_resp_free(&r);
    /* not base64 */
    const char *junk[] = {"x-amz-checksum-crc32: !!!!!!==", NULL};
    ck_assert_int_eq(s3("PUT", "/pc-bkt/junk", junk, "0123456789", 10, &r), 400);
    ck_assert(has(&r, "<Code>InvalidRequest</Code>"));
    gr_resp_free(&r);
    /* an algorithm S3 does not know */
    const char *alg[] = {"x-amz-sdk-checksum-algorithm: CRC16", NULL};
    ck_assert_int_eq(s3("PUT", "/pc-bkt/alg", alg, "0123456789", 10, &r), 400);
    ck_assert(has(&r, "<Code>InvalidRequest</Code>"));
    ck_assert(has(&r, "Checksum algorithm provided is unsupported."));
    gr_resp_free(&r);
}
END_TEST

/* The data of the multipart checksum tests: a 5 MiB part of i % 251 and a
 * short last part; their checksums and the objects' (see the comments). */
#define P1_LEN (5u * 1024 * 1024)
static char *p1_data(void)
{
    char *d = malloc(P1_LEN);
    ck_assert_ptr_nonnull(d);
    for (size_t i = 0; i < P1_LEN; i++) {
        d[i] = (char)(i % 251);
    }
    return d;
}

static const char p2[] = "tail-data";

/* Completes uid with parts 1 and 2 (etags; checksum tags when tag != NULL). */
static long complete2(const char *path, const char *const *hdrs, const char *e1, const char *e2,
                      const char *tag, const char *s1, const char *s2, struct gr_resp *r)
{
    char xml[1024], c1[160] = "", c2[160] = "";
    if (tag != NULL) {
        snprintf(c1, sizeof(c1), "<%s>%s</%s>", tag, s1, tag);
        snprintf(c2, sizeof(c2), "<%s>%s</%s>", tag, s2, tag);
    }
    snprintf(xml, sizeof(xml),
             "<CompleteMultipartUpload><Part><ETag>%s</ETag><PartNumber>1</PartNumber>%s</Part>"
             "<Part><ETag>%s</ETag><PartNumber>2</PartNumber>%s</Part></CompleteMultipartUpload>",
             e1, c1, e2, c2);
    return s3("POST", path, hdrs, xml, strlen(xml), r);
}

START_TEST(test_multipart_composite)
{
    struct gr_resp r;
    mk_bucket("mc-bkt", 0);
    char *d1 = p1_data();
    /* SHA256 composite; the client sends no per-part checksum: S3 computes it */
    const char *alg[] = {"x-amz-checksum-algorithm: SHA256", NULL};
    char *uid = create_upload("/mc-bkt/sha", alg);
    char e1[80], e2[80], path[300];
    ck_assert_int_eq(upload_part("/mc-bkt/sha", uid, 1, NULL, d1, P1_LEN, e1, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-checksum-sha256"),
                     "FrYy8Rz5UN2mfcTBhKP54Kof+kwYknu4l359qXyiW8o=");
    gr_resp_free(&r);
    const char *ph[] = {"x-amz-checksum-sha256: dS3zU9jhRLRfMDPrJDs+DRXcZ+bau0vHrGlIE/bAGZA=",
                        NULL};
    ck_assert_int_eq(upload_part("/mc-bkt/sha", uid, 2, ph, p2, strlen(p2), e2, NULL), 200);
    /* a part with another algorithm than the upload's */
    const char *other[] = {"x-amz-checksum-crc32: poTHxg==", NULL};
    ck_assert_int_eq(upload_part("/mc-bkt/sha", uid, 3, other, "0123456789", 10, e2, &r), 400);
    ck_assert(has(&r, "<Code>InvalidRequest</Code>"));
    ck_assert_msg(has(&r, "Checksum Type mismatch occurred, expected checksum Type: sha256, "
                          "actual checksum Type: crc32"),
                  "%s", r.body);
    gr_resp_free(&r);
    ck_assert_int_eq(upload_part("/mc-bkt/sha", uid, 2, ph, p2, strlen(p2), e2, NULL), 200);
    snprintf(path, sizeof(path), "/mc-bkt/sha?uploadId=%s", uid);
    ck_assert_int_eq(s3("GET", path, NULL, NULL, 0, &r), 200);
    ck_assert(has(&r, "<ChecksumAlgorithm>SHA256</ChecksumAlgorithm>"));
    ck_assert(has(&r, "<ChecksumType>COMPOSITE</ChecksumType>"));
    ck_assert(
        has(&r, "<ChecksumSHA256>FrYy8Rz5UN2mfcTBhKP54Kof+kwYknu4l359qXyiW8o=</ChecksumSHA256>"));
    gr_resp_free(&r);
    /* composite: the Complete must carry every part's checksum */
    ck_assert_int_eq(complete2(path, NULL, e1, e2, NULL, NULL, NULL, &r), 400);
    ck_assert(has(&r, "<Code>InvalidRequest</Code>"));
    ck_assert_msg(has(&r, "The upload was created using a sha256 checksum. The complete request "
                          "must include the checksum for each part. It was missing for part 1 "
                          "in the request."),
                  "%s", r.body);
    gr_resp_free(&r);
    const char *s1 = "FrYy8Rz5UN2mfcTBhKP54Kof+kwYknu4l359qXyiW8o=";
    const char *s2 = "dS3zU9jhRLRfMDPrJDs+DRXcZ+bau0vHrGlIE/bAGZA=";
    /* a whole-object value that is not the composite one */
    const char *badsum[] = {"x-amz-checksum-sha256: hNiYd/DUBB77a/kaFvAkjy/Vc+avBcGflr7bn4gveII=",
                            NULL};
    ck_assert_int_eq(complete2(path, badsum, e1, e2, "ChecksumSHA256", s1, s2, &r), 400);
    ck_assert(has(&r, "<Code>BadDigest</Code>"));
    gr_resp_free(&r);
    const char *badtype[] = {"x-amz-checksum-type: FULL_OBJECT", NULL};
    ck_assert_int_eq(complete2(path, badtype, e1, e2, "ChecksumSHA256", s1, s2, &r), 400);
    ck_assert(has(&r, "<Code>BadDigest</Code>"));
    gr_resp_free(&r);
    const char *badsize[] = {"x-amz-mp-object-size: 12", NULL};
    ck_assert_int_eq(complete2(path, badsize, e1, e2, "ChecksumSHA256", s1, s2, &r), 400);
    ck_assert(has(&r, "<Code>InvalidRequest</Code>"));
    gr_resp_free(&r);
    char okh[3][96];
    snprintf(okh[0], sizeof(okh[0]), "x-amz-checksum-type: COMPOSITE");
    snprintf(okh[1], sizeof(okh[1]), "x-amz-mp-object-size: %u", P1_LEN + 9);
    snprintf(okh[2], sizeof(okh[2]),
             "x-amz-checksum-sha256: UWnW+81ZHJ4wrMw7BKtvLzMmnrgTGmyysTFs7CKgDFE=-2");
    const char *ok[] = {okh[0], okh[1], okh[2], NULL};
    ck_assert_int_eq(complete2(path, ok, e1, e2, "ChecksumSHA256", s1, s2, &r), 200);
    /* SHA256 over the two binary part digests, "-2" */
    ck_assert_msg(has(&r, "<ChecksumSHA256>UWnW+81ZHJ4wrMw7BKtvLzMmnrgTGmyysTFs7CKgDFE=-2"
                          "</ChecksumSHA256><ChecksumType>COMPOSITE</ChecksumType>"),
                  "%s", r.body);
    gr_resp_free(&r);
    const char *mode[] = {"x-amz-checksum-mode: ENABLED", NULL};
    ck_assert_int_eq(s3("HEAD", "/mc-bkt/sha", mode, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-checksum-sha256"),
                     "UWnW+81ZHJ4wrMw7BKtvLzMmnrgTGmyysTFs7CKgDFE=-2");
    ck_assert_str_eq(hdr(&r, "x-amz-checksum-type"), "COMPOSITE");
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/mc-bkt?versions=", NULL, NULL, 0, &r), 200);
    ck_assert_msg(has(&r, "<ChecksumAlgorithm>SHA256</ChecksumAlgorithm>"
                          "<ChecksumType>COMPOSITE</ChecksumType>"),
                  "%s", r.body);
    gr_resp_free(&r);
    /* a part of a composite object: that part's checksum */
    const char *modes[] = {"x-amz-checksum-mode: ENABLED", NULL};
    ck_assert_int_eq(s3("HEAD", "/mc-bkt/sha?partNumber=2", modes, NULL, 0, &r), 206);
    ck_assert_str_eq(hdr(&r, "x-amz-checksum-sha256"),
                     "dS3zU9jhRLRfMDPrJDs+DRXcZ+bau0vHrGlIE/bAGZA=");
    ck_assert_str_eq(hdr(&r, "x-amz-checksum-type"), "COMPOSITE");
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/mc-bkt/sha?partNumber=2", modes, NULL, 0, &r), 206);
    ck_assert_str_eq(r.body, p2);
    ck_assert_str_eq(hdr(&r, "x-amz-checksum-sha256"),
                     "dS3zU9jhRLRfMDPrJDs+DRXcZ+bau0vHrGlIE/bAGZA=");
    gr_resp_free(&r);
    /* a range: no checksum */
    const char *rng[] = {"x-amz-checksum-mode: ENABLED", "Range: bytes=0-9", NULL};
    ck_assert_int_eq(s3("GET", "/mc-bkt/sha", rng, NULL, 0, &r), 206);
    ck_assert_str_eq(hdr(&r, "x-amz-checksum-sha256"), "");
    gr_resp_free(&r);
    /* GetObjectAttributes: the checksum without "-N", the parts' checksums */
    const char *attrs[] = {"x-amz-object-attributes: ETag,Checksum,ObjectParts,StorageClass,"
                           "ObjectSize",
                           NULL};
    ck_assert_int_eq(s3("GET", "/mc-bkt/sha?attributes=", attrs, NULL, 0, &r), 200);
    ck_assert_msg(has(&r, "<Checksum><ChecksumSHA256>UWnW+81ZHJ4wrMw7BKtvLzMmnrgTGmyysTFs7CKgDFE="
                          "</ChecksumSHA256><ChecksumType>COMPOSITE</ChecksumType></Checksum>"),
                  "%s", r.body);
    ck_assert(has(&r, "<PartsCount>2</PartsCount>"));
    ck_assert(has(&r, "<Part><PartNumber>1</PartNumber><Size>5242880</Size><ChecksumSHA256>"
                      "FrYy8Rz5UN2mfcTBhKP54Kof+kwYknu4l359qXyiW8o=</ChecksumSHA256></Part>"));
    ck_assert(has(&r, "<Part><PartNumber>2</PartNumber><Size>9</Size><ChecksumSHA256>"
                      "dS3zU9jhRLRfMDPrJDs+DRXcZ+bau0vHrGlIE/bAGZA=</ChecksumSHA256></Part>"));
    ck_assert(has(&r, "<StorageClass>STANDARD</StorageClass><ObjectSize>5242889</ObjectSize>"));
    ck_assert(has(&r, "-2</ETag>"));
    ck_assert_str_ne(hdr(&r, "Last-Modified"), "");
    gr_resp_free(&r);
    const char *page[] = {"x-amz-object-attributes: ObjectParts", "x-amz-max-parts: 1", NULL};
    ck_assert_int_eq(s3("GET", "/mc-bkt/sha?attributes=", page, NULL, 0, &r), 200);
    ck_assert(has(&r, "<NextPartNumberMarker>1</NextPartNumberMarker><MaxParts>1</MaxParts>"
                      "<IsTruncated>true</IsTruncated><Part><PartNumber>1</PartNumber>"));
    ck_assert(!has(&r, "<PartNumber>2</PartNumber>"));
    ck_assert(!has(&r, "<ETag>"));
    gr_resp_free(&r);
    const char *page2[] = {"x-amz-object-attributes: ObjectParts", "x-amz-part-number-marker: 1",
                           NULL};
    ck_assert_int_eq(s3("GET", "/mc-bkt/sha?attributes=", page2, NULL, 0, &r), 200);
    ck_assert(has(&r, "<IsTruncated>false</IsTruncated><Part><PartNumber>2</PartNumber>"));
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/mc-bkt/sha?attributes=", NULL, NULL, 0, &r), 400);
    ck_assert(has(&r, "<Code>InvalidArgument</Code>"));
    gr_resp_free(&r);
    const char *badattr[] = {"x-amz-object-attributes: ETag,Colour", NULL};
    ck_assert_int_eq(s3("GET", "/mc-bkt/sha?attributes=", badattr, NULL, 0, &r), 400);
    ck_assert(has(&r, "<Code>InvalidArgument</Code>"));
    ck_assert(has(&r, "Invalid attribute name specified."));
    gr_resp_free(&r);
    ck_assert_int_eq(s3("GET", "/mc-bkt/nosuch?attributes=", attrs, NULL, 0, &r), 404);
    ck_assert(has(&r, "<Code>NoSuchKey</Code>"));
    gr_resp_free(&r);
    free(uid);
    /* CRC32C composite, parts without checksums, one part copied */
    char h[64];
    snprintf(h, sizeof(h), "x-amz-checksum-algorithm: CRC32C");
    const char *alg2[] = {h, NULL};
    uid = create_upload("/mc-bkt/c", alg2);
    ck_assert_int_eq(upload_part("/mc-bkt/c", uid, 1, NULL, d1, P1_LEN, e1, NULL), 200);
    ck_assert_int_eq(s3_status("PUT", "/mc-bkt/src", NULL, p2), 200);
    snprintf(path, sizeof(path), "/mc-bkt/c?partNumber=2&uploadId=%s", uid);
    const char *cs[] = {"x-amz-copy-source: /mc-bkt/src", NULL};
    ck_assert_int_eq(s3("PUT", path, cs, NULL, 0, &r), 200);
    ck_assert_msg(has(&r, "<ChecksumCRC32C>rS2abg==</ChecksumCRC32C>"), "%s", r.body);
    const char *et = strstr(r.body, "<ETag>");
    ck_assert_ptr_nonnull(et);
    snprintf(e2, sizeof(e2), "%.*s", (int)strcspn(et + 6, "<"), et + 6);
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/mc-bkt/c?uploadId=%s", uid);
    ck_assert_int_eq(complete2(path, NULL, e1, "\"6ad2d7b05b2f3d7bfee3b8b9e6f0d1c6\"",
                               "ChecksumCRC32C", "CatQ4g==", "rS2abg==", &r),
                     400);
    gr_resp_free(&r);
    char e2q[80];
    snprintf(e2q, sizeof(e2q), "%s", e2);
    /* the copied part's ETag came XML-escaped */
    char *amp = strstr(e2q, "&quot;");
    if (amp != NULL) {
        snprintf(e2q, sizeof(e2q), "\"%.32s\"", amp + 6);
    }
    ck_assert_int_eq(complete2(path, NULL, e1, e2q, "ChecksumCRC32C", "CatQ4g==", "rS2abg==", &r),
                     200);
    ck_assert_msg(has(&r, "<ChecksumCRC32C>wYZy2g==-2</ChecksumCRC32C>"), "%s", r.body);
    gr_resp_free(&r);
    free(uid);
    free(d1);
}
END_TEST

START_TEST(test_multipart_full_object)
{
    struct gr_resp r;
    mk_bucket("mf-bkt", 0);
    /* checksum types an algorithm cannot have */
    const char *bad[][3] = {
        {"x-amz-checksum-algorithm: SHA256", "x-amz-checksum-type: FULL_OBJECT",
         "The FULL_OBJECT checksum type cannot be used with the sha256 checksum algorithm."},
        {"x-amz-checksum-algorithm: CRC64NVME", "x-amz-checksum-type: COMPOSITE",
         "The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm."},
        {"x-amz-checksum-type: COMPOSITE", NULL, "can only be used with"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *h[] = {bad[i][0], bad[i][1], NULL};
        ck_assert_int_eq(s3("POST", "/mf-bkt/x?uploads=", h, NULL, 0, &r), 400);
        ck_assert(has(&r, "<Code>InvalidRequest</Code>"));
        ck_assert_msg(has(&r, bad[i][2]), "%s", r.body);
        gr_resp_free(&r);
    }
    char *d1 = p1_data();
    /* whole-object CRCs of part 1 + part 2, per algorithm */
    const struct {
        const char *create[3];
        const char *name;
        const char *tag;
        const char *s1, *s2, *whole;
    } cases[] = {
        {{"x-amz-checksum-algorithm: CRC32", "x-amz-checksum-type: FULL_OBJECT", NULL},
         "x-amz-checksum-crc32",
         "ChecksumCRC32",
         "yIv8rA==",
         "g/knjw==",
         "Xgd1ow=="},
        {{"x-amz-checksum-algorithm: CRC32C", "x-amz-checksum-type: FULL_OBJECT", NULL},
         "x-amz-checksum-crc32c",
         "ChecksumCRC32C",
         "CatQ4g==",
         "rS2abg==",
         "8lzvFQ=="},
        /* CRC64NVME is full-object without asking */
        {{"x-amz-checksum-algorithm: CRC64NVME", NULL, NULL},
         "x-amz-checksum-crc64nvme",
         "ChecksumCRC64NVME",
         "bgp1IS1VSZg=",
         "TPUbcx47IYI=",
         "CHIUyUwkT3M="},
    };
    const char *mode[] = {"x-amz-checksum-mode: ENABLED", NULL};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char key[64], path[300], e1[80], e2[80];
        snprintf(key, sizeof(key), "/mf-bkt/full-%zu", i);
        ck_assert_int_eq(s3("POST", "/mf-bkt/probe?uploads=", cases[i].create, NULL, 0, &r), 200);
        ck_assert_str_eq(hdr(&r, "x-amz-checksum-type"), "FULL_OBJECT");
        gr_resp_free(&r);
        char *uid = create_upload(key, cases[i].create);
        /* part 1 without a checksum (computed), part 2 with one */
        ck_assert_int_eq(upload_part(key, uid, 1, NULL, d1, P1_LEN, e1, &r), 200);
        ck_assert_str_eq(hdr(&r, cases[i].name), cases[i].s1);
        gr_resp_free(&r);
        char h2[128];
        snprintf(h2, sizeof(h2), "%s: %s", cases[i].name, cases[i].s2);
        const char *ph[] = {h2, NULL};
        ck_assert_int_eq(upload_part(key, uid, 2, ph, p2, strlen(p2), e2, NULL), 200);
        snprintf(path, sizeof(path), "%s?uploadId=%s", key, uid);
        /* a wrong whole-object value */
        char wh[128];
        snprintf(wh, sizeof(wh), "%s: %s", cases[i].name, cases[i].s1);
        const char *whv[] = {wh, NULL};
        ck_assert_int_eq(complete2(path, whv, e1, e2, NULL, NULL, NULL, &r), 400);
        ck_assert(has(&r, "<Code>BadDigest</Code>"));
        gr_resp_free(&r);
        /* part checksums are optional for full-object uploads; the right
         * whole-object value is accepted */
        snprintf(wh, sizeof(wh), "%s: %s", cases[i].name, cases[i].whole);
        ck_assert_int_eq(complete2(path, whv, e1, e2, NULL, NULL, NULL, &r), 200);
        char want[160];
        snprintf(want, sizeof(want), "<%s>%s</%s><ChecksumType>FULL_OBJECT</ChecksumType>",
                 cases[i].tag, cases[i].whole, cases[i].tag);
        ck_assert_msg(has(&r, want), "%s", r.body);
        gr_resp_free(&r);
        ck_assert_int_eq(s3("HEAD", key, mode, NULL, 0, &r), 200);
        ck_assert_str_eq(hdr(&r, cases[i].name), cases[i].whole);
        ck_assert_str_eq(hdr(&r, "x-amz-checksum-type"), "FULL_OBJECT");
        gr_resp_free(&r);
        /* a part of a full-object multipart object: no checksum */
        char ppath[80];
        snprintf(ppath, sizeof(ppath), "%s?partNumber=2", key);
        ck_assert_int_eq(s3("HEAD", ppath, mode, NULL, 0, &r), 206);
        ck_assert_str_eq(hdr(&r, cases[i].name), "");
        gr_resp_free(&r);
        const char *attrs[] = {"x-amz-object-attributes: Checksum,ObjectParts", NULL};
        char apath[80];
        snprintf(apath, sizeof(apath), "%s?attributes=", key);
        ck_assert_int_eq(s3("GET", apath, attrs, NULL, 0, &r), 200);
        snprintf(want, sizeof(want),
                 "<Checksum><%s>%s</%s><ChecksumType>FULL_OBJECT</ChecksumType></Checksum>",
                 cases[i].tag, cases[i].whole, cases[i].tag);
        ck_assert_msg(has(&r, want), "%s", r.body);
        snprintf(want, sizeof(want), "<%s>%s</%s></Part>", cases[i].tag, cases[i].s2, cases[i].tag);
        ck_assert_msg(has(&r, want), "%s", r.body);
        gr_resp_free(&r);
        free(uid);
    }
    /* an upload created without an algorithm: S3's default, the parts and
     * the object get CRC64NVME (full object) */
    char *uid = create_upload("/mf-bkt/dflt", NULL);
    char e1[80], e2[80], path[300];
    ck_assert_int_eq(upload_part("/mf-bkt/dflt", uid, 1, NULL, d1, P1_LEN, e1, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-checksum-crc64nvme"), "bgp1IS1VSZg=");
    gr_resp_free(&r);
    ck_assert_int_eq(upload_part("/mf-bkt/dflt", uid, 2, NULL, p2, strlen(p2), e2, NULL), 200);
    snprintf(path, sizeof(path), "/mf-bkt/dflt?uploadId=%s", uid);
    ck_assert_int_eq(complete2(path, NULL, e1, e2, NULL, NULL, NULL, &r), 200);
    ck_assert_msg(has(&r, "<ChecksumCRC64NVME>CHIUyUwkT3M=</ChecksumCRC64NVME>"
                          "<ChecksumType>FULL_OBJECT</ChecksumType>"),
                  "%s", r.body);
    gr_resp_free(&r);
    ck_assert_int_eq(s3("HEAD", "/mf-bkt/dflt", mode, NULL, 0, &r), 200);
    ck_assert_str_eq(hdr(&r, "x-amz-checksum-crc64nvme"), "CHIUyUwkT3M=");
    ck_assert_str_eq(hdr(&r, "x-amz-checksum-type"), "FULL_OBJECT");
    gr_resp_free(&r);
    free(uid);
    free(d1);
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
        {"CompleteMultipartUpload_Race", test_complete_race},
        {"CompleteMultipartUpload_RecordsBounded", test_complete_records_bounded},
        {"PutObject_Checksums", test_put_object_checksums},
        {"Multipart_CompositeChecksums", test_multipart_composite},
        {"Multipart_FullObjectChecksums", test_multipart_full_object},
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
