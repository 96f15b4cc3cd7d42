/*
 * cmd_meta.c - `meta sync` (serverless-meta-sync v0.1.0, spec section 3),
 * awaited and checked, plus the conditional meta push stagehand adds.
 *
 * Config: s-project.json custom.meta {name (bucket), region, keyPrefix
 * (default serverless/<project>/variables/)}, populated. File: with -s and
 * -r the region file s-variables-<stage>-<rc>.json, with -s only the stage
 * file. Object: s3://<name>/<keyPrefix><file>, compact JSON.
 *
 * sync: GetObject. NoSuchBucket -> CreateBucket + PutObject
 * (If-None-Match: *); NoSuchKey -> PutObject (If-None-Match: *); present
 * -> the remote overwrites the local file (as in CI: no prompts). Every
 * call is awaited; any error exits non-zero.
 * push (--push, and after each step of dep_run_v05_flow): PutObject with
 * If-Match of the ETag seen last (GetObject when none yet), so a concurrent
 * writer is reported as a conflict (exit 6) instead of being overwritten.
 */
#include "dep.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEP "meta sync"

/* ETags seen in this process, per bucket/key. */
static struct {
    char key[1024];
    char etag[128];
    char *body; /* compact JSON last read or written */
} seen[8];
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;

static void seen_set(const char *bucket, const char *key, const char *etag, const char *body)
{
    char k[1024];

    snprintf(k, sizeof(k), "%s/%s", bucket, key);
    pthread_mutex_lock(&seen_lock);
    for (int i = 0; i < 8; i++) {
        if (!seen[i].key[0] || strcmp(seen[i].key, k) == 0) {
            snprintf(seen[i].key, sizeof(seen[i].key), "%s", k);
            snprintf(seen[i].etag, sizeof(seen[i].etag), "%s", etag ? etag : "");
            free(seen[i].body);
            seen[i].body = body ? strdup(body) : NULL;
            break;
        }
    }
    pthread_mutex_unlock(&seen_lock);
}

/* 1 when body equals what was last read/written for bucket/key. */
static int seen_same(const char *bucket, const char *key, const char *body)
{
    char k[1024];
    int same = 0;

    snprintf(k, sizeof(k), "%s/%s", bucket, key);
    pthread_mutex_lock(&seen_lock);
    for (int i = 0; i < 8; i++) {
        if (strcmp(seen[i].key, k) == 0 && seen[i].body && body) {
            cJSON *a = cJSON_Parse(seen[i].body), *b = cJSON_Parse(body);
            same = a && b && cJSON_Compare(a, b, 1);
            cJSON_Delete(a);
            cJSON_Delete(b);
            break;
        }
    }
    pthread_mutex_unlock(&seen_lock);
    return same;
}

static int seen_get(const char *bucket, const char *key, char *etag, size_t n)
{
    char k[1024];
    int found = 0;

    snprintf(k, sizeof(k), "%s/%s", bucket, key);
    pthread_mutex_lock(&seen_lock);
    for (int i = 0; i < 8; i++) {
        if (strcmp(seen[i].key, k) == 0) {
            snprintf(etag, n, "%s", seen[i].etag);
            found = 1;
            break;
        }
    }
    pthread_mutex_unlock(&seen_lock);
    return found;
}

int dep_meta_configured(struct dep_ctx *c)
{
    const cJSON *custom = cJSON_GetObjectItemCaseSensitive(c->project.json, "custom");
    const cJSON *meta = custom ? cJSON_GetObjectItemCaseSensitive(custom, "meta") : NULL;
    const cJSON *n = meta ? cJSON_GetObjectItemCaseSensitive(meta, "name") : NULL;
    const cJSON *r = meta ? cJSON_GetObjectItemCaseSensitive(meta, "region") : NULL;

    return cJSON_IsString(n) && n->valuestring[0] && cJSON_IsString(r) && r->valuestring[0];
}

int dep_meta_location(struct dep_ctx *c, int region_file, char *bucket, size_t bn, char *key,
                      size_t kn, char *meta_region, size_t rn, struct dep_err *err)
{
    const cJSON *custom = cJSON_GetObjectItemCaseSensitive(c->project.json, "custom");
    const cJSON *meta = custom ? cJSON_GetObjectItemCaseSensitive(custom, "meta") : NULL;
    const cJSON *n = meta ? cJSON_GetObjectItemCaseSensitive(meta, "name") : NULL;
    const cJSON *r = meta ? cJSON_GetObjectItemCaseSensitive(meta, "region") : NULL;
    const cJSON *kp = meta ? cJSON_GetObjectItemCaseSensitive(meta, "keyPrefix") : NULL;
    char path[4200];
    const char *file;

    if (!cJSON_IsString(n) || !n->valuestring[0] || !cJSON_IsString(r) || !r->valuestring[0]) {
        dep_err_local(err, "InvalidProject",
                      "s-project.json: custom.meta.name (bucket) and custom.meta.region are "
                      "required for meta sync");
        return -1;
    }
    if (strstr(n->valuestring, "${") || strstr(r->valuestring, "${")) {
        /* population left a ${var} the stage does not define (v0.5 would send
         * it to S3 and fail on the bucket name) */
        dep_err_local(err, "InvalidProject",
                      "s-project.json: custom.meta {name \"%s\", region \"%s\"} holds a variable "
                      "stage %s does not define (set it in _meta/variables/s-variables-common.json "
                      "or the stage's file)",
                      n->valuestring, r->valuestring, c->stage);
        return -1;
    }
    snprintf(bucket, bn, "%s", n->valuestring);
    snprintf(meta_region, rn, "%s", r->valuestring);
    dep_project_vars_path(&c->project, region_file ? 2 : 1, path, sizeof(path));
    file = strrchr(path, '/') + 1;
    if (cJSON_IsString(kp)) {
        snprintf(key, kn, "%s%s", kp->valuestring, file);
    } else {
        snprintf(key, kn, "serverless/%s/variables/%s", c->project.name, file);
    }
    return 0;
}

/* Compact JSON of the local layer. Caller frees. */
static char *local_body(struct dep_ctx *c, int region_file)
{
    const cJSON *layer = region_file ? c->project.vars_region : c->project.vars_stage;

    return cJSON_PrintUnformatted(layer);
}

int dep_step_meta_sync(struct dep_ctx *c)
{
    struct dep_err err;
    char bucket[256], key[1024], mregion[64], etag[128] = "", path[4200];
    struct dep_buf remote = {0};
    char *body = NULL;
    int region_file = c->region[0] != 0;
    int rc = DEP_EXIT_FAIL;

    dep_err_clear(&err);
    dep_out_step(STEP);
    if (dep_meta_location(c, region_file, bucket, sizeof(bucket), key, sizeof(key), mregion,
                          sizeof(mregion), &err) < 0) {
        dep_out_error(STEP, &err);
        rc = DEP_EXIT_PROJECT;
        goto out;
    }
    dep_project_vars_path(&c->project, region_file ? 2 : 1, path, sizeof(path));
    {
        /* the local file must exist (v0.5 exits 1 otherwise) */
        cJSON *local = dep_json_load_file(path, &err);
        if (!local) {
            dep_out_error(STEP, &err);
            rc = dep_err_exit(&err);
            goto out;
        }
        cJSON_Delete(local);
    }
    if (dep_s3_get_object(mregion, bucket, key, NULL, &remote, etag, &err) == 0) {
        cJSON *rj = cJSON_ParseWithLength(remote.data ? remote.data : "", remote.len);
        if (!cJSON_IsObject(rj)) {
            cJSON_Delete(rj);
            dep_out_errorf(STEP, "s3://%s/%s is not a JSON object", bucket, key);
            goto out;
        }
        const cJSON *old = region_file ? c->project.vars_region : c->project.vars_stage;
        int same = cJSON_Compare(rj, old, 1);
        if (same) {
            cJSON_Delete(rj);
            dep_out_item("meta", key, "unchanged", "local equals s3://%s/%s", bucket, key);
        } else {
            /* report what changes locally */
            const cJSON *it;
            cJSON_ArrayForEach(it, rj)
            {
                const cJSON *o = cJSON_GetObjectItemCaseSensitive(old, it->string);
                if (!o || !cJSON_Compare(o, it, 1)) {
                    dep_out_info("meta: %s %s from remote", it->string, o ? "updated" : "added");
                }
            }
            cJSON_ArrayForEach(it, old)
            {
                if (!cJSON_GetObjectItemCaseSensitive(rj, it->string)) {
                    dep_out_info("meta: %s removed (not in remote)", it->string);
                }
            }
            if (region_file) {
                cJSON_Delete(c->project.vars_region);
                c->project.vars_region = rj;
            } else {
                cJSON_Delete(c->project.vars_stage);
                c->project.vars_stage = rj;
            }
            if (dep_project_save_vars(&c->project, region_file, &err) < 0) {
                dep_out_error(STEP, &err);
                rc = dep_err_exit(&err);
                goto out;
            }
            dep_out_item("meta", key, "pulled", "s3://%s/%s -> %s", bucket, key, path);
        }
        seen_set(bucket, key, etag, remote.data);
    } else if (dep_err_is(&err, "NoSuchBucket") || dep_err_is(&err, "NoSuchKey")) {
        if (dep_err_is(&err, "NoSuchBucket")) {
            if (dep_s3_create_bucket(mregion, bucket, &err) < 0 &&
                !dep_err_is(&err, "BucketAlreadyOwnedByYou")) {
                dep_out_error(STEP, &err);
                rc = dep_err_exit(&err);
                goto out;
            }
            dep_out_item("bucket", bucket, "created", NULL);
        }
        body = local_body(c, region_file);
        if (dep_s3_put_object(mregion, bucket, key, body, strlen(body), "application/json", NULL,
                              "*", etag, &err) < 0) {
            dep_out_error(STEP, &err);
            rc = dep_err_exit(&err);
            goto out;
        }
        seen_set(bucket, key, etag, body);
        dep_out_item("meta", key, "pushed", "first sync: %s -> s3://%s/%s", path, bucket, key);
    } else {
        dep_out_error(STEP, &err);
        rc = dep_err_exit(&err);
        goto out;
    }
    rc = dep_cmd_repopulate(c);
out:
    dep_out_step_done(STEP, rc == 0 ? "ok" : "failed");
    free(body);
    dep_buf_release(&remote);
    return rc;
}

/* Push; with only_if_changed, nothing is written when the remote already
 * holds the same variables. *wrote tells whether a PutObject happened. */
static int meta_push(struct dep_ctx *c, int region_file, int only_if_changed, int *wrote,
                     struct dep_err *err)
{
    char bucket[256], key[1024], mregion[64], etag[128] = "", newtag[128] = "";
    char *body = NULL;
    int rc = -1;

    *wrote = 0;
    if (dep_meta_location(c, region_file, bucket, sizeof(bucket), key, sizeof(key), mregion,
                          sizeof(mregion), err) < 0) {
        return -1;
    }
    body = local_body(c, region_file);
    if (!seen_get(bucket, key, etag, sizeof(etag))) {
        struct dep_buf tmp = {0};
        if (dep_s3_get_object(mregion, bucket, key, NULL, &tmp, etag, err) < 0) {
            dep_buf_release(&tmp);
            if (dep_err_is(err, "NoSuchBucket")) {
                if (dep_s3_create_bucket(mregion, bucket, err) < 0 &&
                    !dep_err_is(err, "BucketAlreadyOwnedByYou")) {
                    free(body);
                    return -1;
                }
            } else if (!dep_err_is(err, "NoSuchKey")) {
                free(body);
                return -1;
            }
            etag[0] = 0;
        } else {
            seen_set(bucket, key, etag, tmp.data);
        }
        dep_buf_release(&tmp);
    }
    if (only_if_changed && etag[0] && seen_same(bucket, key, body)) {
        free(body);
        dep_err_clear(err);
        return 0;
    }
    rc = dep_s3_put_object(mregion, bucket, key, body, strlen(body), "application/json",
                           etag[0] ? etag : NULL, etag[0] ? NULL : "*", newtag, err);
    if (rc == 0) {
        seen_set(bucket, key, newtag, body);
        *wrote = 1;
    } else if (dep_err_is(err, "PreconditionFailed") ||
               dep_err_is(err, "ConditionalRequestConflict")) {
        snprintf(err->message, sizeof(err->message),
                 "s3://%s/%s changed since this run read it (someone else wrote it): not "
                 "overwritten; run meta "
                 "sync and retry",
                 bucket, key);
    }
    free(body);
    return rc;
}

int dep_meta_push(struct dep_ctx *c, int region_file, struct dep_err *err)
{
    int wrote;

    return meta_push(c, region_file, 0, &wrote, err);
}

int dep_meta_autopush(struct dep_ctx *c, const char *step)
{
    struct dep_err err;
    char bucket[256], key[1024], mregion[64];
    int wrote = 0;

    dep_err_clear(&err);
    if (!dep_meta_configured(c)) {
        return DEP_EXIT_OK;
    }
    if (meta_push(c, 1, 1, &wrote, &err) < 0) {
        dep_out_error(step, &err);
        return dep_err_exit(&err);
    }
    if (wrote && dep_meta_location(c, 1, bucket, sizeof(bucket), key, sizeof(key), mregion,
                                   sizeof(mregion), &err) == 0) {
        dep_out_item("meta", key, "pushed", "s3://%s/%s (If-Match)", bucket, key);
    }
    return DEP_EXIT_OK;
}

int dep_meta_push_step(struct dep_ctx *c)
{
    struct dep_err err;

    dep_err_clear(&err);
    dep_out_step("meta push");
    if (dep_meta_push(c, 1, &err) < 0) {
        dep_out_error("meta push", &err);
        dep_out_step_done("meta push", "failed");
        return dep_err_exit(&err);
    }
    dep_out_step_done("meta push", "ok");
    return DEP_EXIT_OK;
}

int cmd_meta_sync(struct dep_ctx *c)
{
    /* v0.5: -s alone syncs the stage file, -s and -r the region file */
    if (!c->opts->region) {
        c->region[0] = 0;
    }
    for (int i = 0; i < c->opts->rest_n; i++) {
        if (strcmp(c->opts->rest[i], "--push") == 0) {
            struct dep_err err;
            dep_err_clear(&err);
            dep_out_step("meta push");
            if (dep_meta_push(c, c->region[0] != 0, &err) < 0) {
                dep_out_error("meta push", &err);
                dep_out_step_done("meta push", "failed");
                return dep_err_exit(&err);
            }
            dep_out_step_done("meta push", "ok");
            return DEP_EXIT_OK;
        }
        dep_out_errorf(STEP, "unknown option %s", c->opts->rest[i]);
        return DEP_EXIT_USAGE;
    }
    return dep_step_meta_sync(c);
}
