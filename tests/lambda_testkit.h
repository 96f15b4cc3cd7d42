/*
 * lambda_testkit.h - what the Lambda suites (test_lambda.c,
 * test_lambda_limits.c) share: the greenroom they run against (srv, set up
 * per tcase), the function zips built from fixtures/lambda/<which>, the
 * role functions assume, signed calls to Lambda (JSON, CreateFunction,
 * Invoke), the checks of an AWS error and of a function error, and SQS
 * queues to create and wait on (asynchronous invocation destinations).
 *
 * Header-only, like testkit.h: tests/meson.build links each test_*.c with
 * the harness alone, so every helper is static (unused ones are fine).
 * Responses and zip data returned are the caller's to free.
 */
#ifndef LAMBDA_TESTKIT_H
#define LAMBDA_TESTKIT_H

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <zip.h>

#include "harness.h"

#define LK_FN static __attribute__((unused))

static struct gr_server srv; /* the suite's greenroom */
__attribute__((unused)) static const char *const json_hdr[] = {"Content-Type: application/json",
                                                               NULL};
#define ROLE "arn:aws:iam::000000000000:role/lambda-role"

struct zbuf {
    void *data;
    size_t len;
};

/* Adds every file under dir (recursively) to za as prefix/name. */
LK_FN void tz_add_dir(zip_t *za, const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char path[1024], name[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] ? "/" : "", e->d_name);
        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            tz_add_dir(za, path, name);
            continue;
        }
        zip_source_t *src = zip_source_file(za, path, 0, -1);
        ck_assert_ptr_nonnull(src);
        zip_int64_t idx = zip_file_add(za, name, src, ZIP_FL_OVERWRITE);
        ck_assert_int_ge(idx, 0);
        zip_file_set_external_attributes(za, (zip_uint64_t)idx, 0, ZIP_OPSYS_UNIX,
                                         (zip_uint32_t)((st.st_mode & 0777) | S_IFREG) << 16);
    }
    closedir(d);
}

/* Zips fixtures/lambda/<which> into memory (caller frees data). */
LK_FN struct zbuf make_zip(const char *which)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/lambda/%s", getenv("FIXTURES_DIR"), which);
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *ms = zip_source_buffer_create(NULL, 0, 0, &ze);
    ck_assert_ptr_nonnull(ms);
    zip_source_keep(ms);
    zip_t *za = zip_open_from_source(ms, ZIP_TRUNCATE, &ze);
    ck_assert_ptr_nonnull(za);
    tz_add_dir(za, dir, "");
    ck_assert_int_eq(zip_close(za), 0);
    struct zbuf z = {0};
    ck_assert_int_eq(zip_source_open(ms), 0);
    zip_source_seek(ms, 0, SEEK_END);
    z.len = (size_t)zip_source_tell(ms);
    zip_source_seek(ms, 0, SEEK_SET);
    z.data = malloc(z.len);
    ck_assert_int_eq(zip_source_read(ms, z.data, z.len), (zip_int64_t)z.len);
    zip_source_close(ms);
    zip_source_free(ms);
    zip_error_fini(&ze);
    return z;
}

LK_FN char *b64(const void *data, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

LK_FN void create_role(void)
{
    const char *body = "Action=CreateRole&Version=2010-05-08&RoleName=lambda-role&"
                       "AssumeRolePolicyDocument=%7B%22Version%22%3A%222012-10-17%22%7D";
    static const char *const form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    struct gr_resp r;
    ck_assert_int_eq(gr_request(&srv, "iam", "POST", "/", form, body, strlen(body), &r), 0);
    ck_assert_int_eq(r.status, 200);
    gr_resp_free(&r);
}

/* Sends a JSON body to lambda; returns the response (caller frees). */
LK_FN struct gr_resp lam(const char *method, const char *path, const char *body)
{
    struct gr_resp r;
    ck_assert_int_eq(gr_request(&srv, "lambda", method, path, body ? json_hdr : NULL, body,
                                body ? strlen(body) : 0, &r),
                     0);
    return r;
}

/* The suites' fixture: a greenroom with asynchronous retries after 60 ms
 * and 120 ms instead of 1 and 2 min, and the role functions assume. */
LK_FN void setup(void)
{
    setenv("GREENROOM_LAMBDA_RETRY_SCALE", "0.001", 1);
    gr_set_credentials("test", "test", "us-east-1");
    ck_assert_int_eq(gr_start(&srv, NULL), 0);
    create_role();
}

LK_FN void teardown(void)
{
    gr_stop(&srv);
}

/* CreateFunction from a fixture dir with extra JSON members (", ..." or
 * ""). Returns the response (caller frees). */
LK_FN struct gr_resp create_fn(const char *name, const char *runtime, const char *handler,
                               const char *fixture, const char *extra)
{
    struct zbuf z = make_zip(fixture);
    char *zb = b64(z.data, z.len);
    size_t n = strlen(zb) + 1024 + strlen(extra);
    char *body = malloc(n);
    snprintf(body, n,
             "{\"FunctionName\":\"%s\",\"Runtime\":\"%s\",\"Handler\":\"%s\",\"Role\":\"" ROLE
             "\",\"Code\":{\"ZipFile\":\"%s\"}%s}",
             name, runtime, handler, zb, extra);
    struct gr_resp r = lam("POST", "/2015-03-31/functions", body);
    free(body);
    free(zb);
    free(z.data);
    return r;
}

/* create_fn asserting 201. */
LK_FN void create_ok(const char *name, const char *runtime, const char *handler,
                     const char *fixture, const char *extra)
{
    struct gr_resp r = create_fn(name, runtime, handler, fixture, extra);
    if (r.status != 201) {
        fprintf(stderr, "create %s: %ld %s\n", name, r.status, r.body);
    }
    ck_assert_int_eq(r.status, 201);
    gr_resp_free(&r);
}

/* Invokes fn (at qual unless NULL); headers may be NULL. Returns the
 * response (caller frees). */
LK_FN struct gr_resp invoke(const char *fn, const char *qual, const char *payload,
                            const char *const *headers)
{
    char path[512];
    if (qual != NULL) {
        snprintf(path, sizeof(path), "/2015-03-31/functions/%s/invocations?Qualifier=%s", fn, qual);
    } else {
        snprintf(path, sizeof(path), "/2015-03-31/functions/%s/invocations", fn);
    }
    struct gr_resp r;
    ck_assert_int_eq(gr_request(&srv, "lambda", "POST", path, headers, payload,
                                payload ? strlen(payload) : 0, &r),
                     0);
    return r;
}

/* lam for a call whose answer is not read: returns its status. */
LK_FN long lam_status(const char *method, const char *path, const char *body)
{
    struct gr_resp r = lam(method, path, body);
    long st = r.status;
    gr_resp_free(&r);
    return st;
}

/* Asserts status, error type and (when msg_part) a part of the message,
 * then frees r. */
LK_FN void expect_error(struct gr_resp *r, long status, const char *type, const char *msg_part)
{
    char buf[256];
    if (r->status != status) {
        fprintf(stderr, "unexpected %ld: %s\n", r->status, r->body);
    }
    ck_assert_int_eq(r->status, status);
    ck_assert_ptr_nonnull(gr_resp_header(r, "x-amzn-ErrorType", buf, sizeof(buf)));
    ck_assert_ptr_nonnull(strstr(buf, type));
    if (msg_part != NULL) {
        if (strstr(r->body, msg_part) == NULL) {
            fprintf(stderr, "body: %s\n", r->body);
        }
        ck_assert_ptr_nonnull(strstr(r->body, msg_part));
    }
    gr_resp_free(r);
}

/* Asserts that the invoke answer r carries a function error of kind
 * ("Handled" or "Unhandled"; NULL: either) and a payload holding needle.
 * r stays the caller's to free. */
LK_FN void expect_fn_error(const struct gr_resp *r, const char *kind, const char *needle)
{
    char buf[64];
    ck_assert_ptr_nonnull(gr_resp_header(r, "X-Amz-Function-Error", buf, sizeof(buf)));
    if (kind != NULL) {
        ck_assert_str_eq(buf, kind);
    }
    ck_assert_ptr_nonnull(strstr(r->body, needle));
}

/* Creates an SQS queue; returns its URL (caller frees). */
LK_FN char *make_queue(const char *name)
{
    static const char *const hdr[] = {"Content-Type: application/x-amz-json-1.0",
                                      "X-Amz-Target: AmazonSQS.CreateQueue", NULL};
    char body[256];
    snprintf(body, sizeof(body), "{\"QueueName\":\"%s\"}", name);
    struct gr_resp r;
    ck_assert_int_eq(gr_request(&srv, "sqs", "POST", "/", hdr, body, strlen(body), &r), 0);
    if (r.status != 200) {
        fprintf(stderr, "CreateQueue: %ld %s\n", r.status, r.body);
    }
    ck_assert_int_eq(r.status, 200);
    cJSON *j = gr_resp_json(&r);
    const cJSON *u = cJSON_GetObjectItem(j, "QueueUrl");
    ck_assert(cJSON_IsString(u));
    char *url = strdup(u->valuestring);
    cJSON_Delete(j);
    gr_resp_free(&r);
    return url;
}

/* Waits (up to `seconds` one-second long polls) for one message on a
 * queue; returns its body parsed (caller deletes) or NULL. */
LK_FN cJSON *queue_wait(const char *url, int seconds)
{
    static const char *const hdr[] = {"Content-Type: application/x-amz-json-1.0",
                                      "X-Amz-Target: AmazonSQS.ReceiveMessage", NULL};
    char body[512];
    snprintf(body, sizeof(body), "{\"QueueUrl\":\"%s\",\"WaitTimeSeconds\":1}", url);
    for (int i = 0; i < seconds; i++) {
        struct gr_resp r;
        ck_assert_int_eq(gr_request(&srv, "sqs", "POST", "/", hdr, body, strlen(body), &r), 0);
        ck_assert_int_eq(r.status, 200);
        cJSON *j = cJSON_Parse(r.body);
        gr_resp_free(&r);
        const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "Messages"), 0);
        const cJSON *b = cJSON_GetObjectItem(m, "Body");
        cJSON *out = cJSON_IsString(b) ? cJSON_Parse(b->valuestring) : NULL;
        cJSON_Delete(j);
        if (out != NULL) {
            return out;
        }
    }
    return NULL;
}

#endif
