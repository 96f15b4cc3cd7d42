/*
 * meta.c - conflict-safe metadata in S3 (issue 9): reads with the ETag,
 * writes with If-Match (or If-None-Match: * for a new object); a 412 is a
 * conflict reported with a readable diff, never an overwrite. Also the small
 * JSON/time helpers the transaction files share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "txn.h"

/* 1 when err has this code, whatever its kind. */
int txn_err_code(const struct dep_err *err, const char *code)
{
    return err && strcmp(err->code, code) == 0;
}

/* Compact JSON of a tree, new string ("null" for NULL). */
char *txn_json_str(const cJSON *j)
{
    if (!j) {
        char *s = malloc(5);
        if (s) {
            memcpy(s, "null", 5);
        }
        return s;
    }
    return cJSON_PrintUnformatted(j);
}

/* String member or "" (borrowed). */
const char *txn_jstr(const cJSON *o, const char *key)
{
    const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : "";
}

/* Current UTC time as ISO-8601 (milliseconds) into buf; returns buf. */
const char *txn_now_iso(char *buf, size_t n)
{
    struct timespec ts;
    struct tm tm;
    char tmp[32];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, n, "%s.%03ldZ", tmp, ts.tv_nsec / 1000000);
    return buf;
}

/* Milliseconds on a monotonic clock. */
double txn_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void txn_settle_start(struct txn_settle *s)
{
    s->deadline = txn_ms() + 1000.0 * (double)dep_env_long("STAGEHAND_SETTLE_SECONDS", 20, 0, 3600);
    s->wait_ms = 50;
}

int txn_settle_again(struct txn_settle *s, const struct dep_err *err)
{
    int transient = err->kind == DEP_ERR_TRANSPORT || err->http_status >= 500 ||
                    err->http_status == 429 || txn_err_code(err, "Throttling") ||
                    txn_err_code(err, "ThrottlingException") || txn_err_code(err, "SlowDown");
    if (!transient || txn_ms() + (double)s->wait_ms > s->deadline) {
        return 0;
    }
    usleep((useconds_t)s->wait_ms * 1000);
    s->wait_ms = s->wait_ms * 2 > 1000 ? 1000 : s->wait_ms * 2;
    return 1;
}

/* Read an object with its ETag; *out NULL when absent. Returns 0 or -1. */
int txn_meta_get(const char *region, const char *bucket, const char *key, char **out, char *etag,
                 struct dep_err *err)
{
    struct dep_buf b = {0};
    *out = NULL;
    etag[0] = 0;
    if (dep_s3_get_object(region, bucket, key, NULL, &b, etag, err) < 0) {
        dep_buf_release(&b);
        if (dep_err_is(err, "NoSuchKey") || dep_err_is(err, "NoSuchBucket") ||
            err->http_status == 404) {
            dep_err_clear(err);
            etag[0] = 0;
            return 0;
        }
        return -1;
    }
    if (!b.data) {
        dep_buf_puts(&b, "");
    }
    *out = dep_buf_take(&b);
    return 0;
}

/* Readable diff of two JSON objects' top-level keys; new string. */
char *txn_json_diff(const cJSON *from, const cJSON *to)
{
    struct dep_buf b = {0};
    const cJSON *it;
    if (!cJSON_IsObject(from) || !cJSON_IsObject(to)) {
        char *a = txn_json_str(from), *z = txn_json_str(to);
        dep_buf_printf(&b, "  - %s\n  + %s\n", a ? a : "", z ? z : "");
        free(a);
        free(z);
        return dep_buf_take(&b);
    }
    cJSON_ArrayForEach(it, from)
    {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(to, it->string);
        char *a = txn_json_str(it);
        if (!o) {
            dep_buf_printf(&b, "  - %s: %s\n", it->string, a ? a : "");
        } else if (!cJSON_Compare(it, o, 1)) {
            char *z = txn_json_str(o);
            dep_buf_printf(&b, "  ~ %s: %s -> %s\n", it->string, a ? a : "", z ? z : "");
            free(z);
        }
        free(a);
    }
    cJSON_ArrayForEach(it, to)
    {
        if (!cJSON_GetObjectItemCaseSensitive(from, it->string)) {
            char *z = txn_json_str(it);
            dep_buf_printf(&b, "  + %s: %s\n", it->string, z ? z : "");
            free(z);
        }
    }
    if (b.len == 0) {
        dep_buf_puts(&b, "  (no difference in content)\n");
    }
    return dep_buf_take(&b);
}

/* Conditional write (see txn.h). Returns 0 or -1. */
int txn_meta_put(const char *region, const char *bucket, const char *key, const char *body,
                 const char *if_match, const char *expected, char *new_etag, struct dep_err *err)
{
    char etag[128] = "";
    int create = !if_match || !*if_match;
    if (dep_s3_put_object(region, bucket, key, body, strlen(body), "application/json",
                          create ? NULL : if_match, create ? "*" : NULL, etag, err) == 0) {
        if (new_etag) {
            snprintf(new_etag, 128, "%s", etag);
        }
        return 0;
    }
    if (err->http_status != 412 && err->http_status != 409 &&
        !dep_err_is(err, "PreconditionFailed") && !dep_err_is(err, "ConditionalRequestConflict")) {
        return -1;
    }
    /* A conflict: show what changed remotely since we read it. */
    struct dep_err e2;
    dep_err_clear(&e2);
    char *remote = NULL;
    char retag[128] = "";
    txn_meta_get(region, bucket, key, &remote, retag, &e2);
    cJSON *rj = remote ? cJSON_Parse(remote) : NULL;
    cJSON *ej = expected ? cJSON_Parse(expected) : NULL;
    char *diff = txn_json_diff(ej, rj);
    dep_err_clear(err);
    dep_err_local(err, "MetaConflict",
                  "s3://%s/%s was changed by someone else since it was read (ETag %s, now %s); not "
                  "overwriting. "
                  "Remote changes against what this deploy read:\n%s",
                  bucket, key, create ? "(absent)" : if_match, remote ? retag : "(deleted)",
                  diff ? diff : "");
    free(diff);
    cJSON_Delete(rj);
    cJSON_Delete(ej);
    free(remote);
    return -1;
}

/* Make sure the bucket exists (HeadBucket, CreateBucket). Returns 0/-1. */
int txn_meta_bucket_ensure(const char *region, const char *bucket, struct dep_err *err)
{
    if (dep_s3_head_bucket(region, bucket, err) == 0) {
        return 0;
    }
    if (err->http_status != 404 && !dep_err_is(err, "NoSuchBucket") &&
        !dep_err_is(err, "NotFound")) {
        return -1;
    }
    dep_err_clear(err);
    if (dep_s3_create_bucket(region, bucket, err) < 0) {
        if (dep_err_is(err, "BucketAlreadyOwnedByYou")) {
            dep_err_clear(err);
            return 0;
        }
        return -1;
    }
    return 0;
}
