/*
 * aws_s3.c - S3 calls stagehand makes (rest-xml, path-style addressing):
 * GetObject, PutObject (with If-Match / If-None-Match), DeleteObject,
 * HeadObject, CreateBucket, HeadBucket, ListObjectsV2,
 * GetBucketNotificationConfiguration, PutBucketNotificationConfiguration.
 * Each wrapper is one dep_http_call; errors come back in struct dep_err.
 */
#include "dep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "/bucket[/key]" percent-encoded into buf. */
static const char *s3_path(const char *bucket, const char *key, char *buf, size_t n)
{
    char *b = dep_urlencode(bucket, 0);
    char *k = key ? dep_urlencode(key, 1) : NULL;

    snprintf(buf, n, "/%s%s%s", b, k ? "/" : "", k ? k : "");
    free(b);
    free(k);
    return buf;
}

static void copy_etag(const struct dep_http_resp *resp, char *etag_out)
{
    char tmp[128];

    if (etag_out) {
        etag_out[0] = 0;
        if (dep_http_resp_header(resp, "ETag", tmp, sizeof(tmp))) {
            snprintf(etag_out, 128, "%s", tmp);
        }
    }
}

int dep_s3_get_object(const char *region, const char *bucket, const char *key,
                      const char *if_none_match, struct dep_buf *body, char *etag_out,
                      struct dep_err *err)
{
    struct dep_http_req req = {0};
    struct dep_http_resp resp = {0};
    char path[2048], res[1024];
    int rc;

    snprintf(res, sizeof(res), "%s/%s", bucket, key);
    req.service = "s3";
    req.region = region;
    req.operation = "GetObject";
    req.resource = res;
    req.proto = DEP_PROTO_REST_XML;
    req.method = "GET";
    req.path = s3_path(bucket, key, path, sizeof(path));
    req.if_none_match = if_none_match;
    rc = dep_http_call(&req, &resp, err);
    if (rc == 0) {
        if (body) {
            dep_buf_append(body, resp.body, resp.body_len);
        }
        copy_etag(&resp, etag_out);
    }
    dep_http_resp_release(&resp);
    return rc;
}

int dep_s3_put_object(const char *region, const char *bucket, const char *key, const void *data,
                      size_t len, const char *content_type, const char *if_match,
                      const char *if_none_match, char *etag_out, struct dep_err *err)
{
    struct dep_http_req req = {0};
    struct dep_http_resp resp = {0};
    char path[2048], res[1024];
    int rc;

    snprintf(res, sizeof(res), "%s/%s", bucket, key);
    req.service = "s3";
    req.region = region;
    req.operation = "PutObject";
    req.resource = res;
    req.proto = DEP_PROTO_REST_XML;
    req.method = "PUT";
    req.path = s3_path(bucket, key, path, sizeof(path));
    req.body = data ? data : "";
    req.body_len = len;
    req.content_type = content_type ? content_type : "application/octet-stream";
    req.if_match = if_match;
    req.if_none_match = if_none_match;
    rc = dep_http_call(&req, &resp, err);
    if (rc == 0) {
        copy_etag(&resp, etag_out);
    }
    dep_http_resp_release(&resp);
    return rc;
}

int dep_s3_delete_object(const char *region, const char *bucket, const char *key,
                         const char *if_match, struct dep_err *err)
{
    struct dep_http_req req = {0};
    struct dep_http_resp resp = {0};
    char path[2048], res[1024];
    int rc;

    snprintf(res, sizeof(res), "%s/%s", bucket, key);
    req.service = "s3";
    req.region = region;
    req.operation = "DeleteObject";
    req.resource = res;
    req.proto = DEP_PROTO_REST_XML;
    req.method = "DELETE";
    req.path = s3_path(bucket, key, path, sizeof(path));
    req.if_match = if_match;
    rc = dep_http_call(&req, &resp, err);
    dep_http_resp_release(&resp);
    return rc;
}

int dep_s3_head_object(const char *region, const char *bucket, const char *key, char *etag_out,
                       struct dep_err *err)
{
    struct dep_http_req req = {0};
    struct dep_http_resp resp = {0};
    char path[2048], res[1024];
    int rc;

    snprintf(res, sizeof(res), "%s/%s", bucket, key);
    req.service = "s3";
    req.region = region;
    req.operation = "HeadObject";
    req.resource = res;
    req.proto = DEP_PROTO_REST_XML;
    req.method = "HEAD";
    req.path = s3_path(bucket, key, path, sizeof(path));
    rc = dep_http_call(&req, &resp, err);
    if (rc == 0) {
        copy_etag(&resp, etag_out);
    } else if (err && resp.status == 404) {
        snprintf(err->code, sizeof(err->code), "NoSuchKey");
    }
    dep_http_resp_release(&resp);
    return rc;
}

int dep_s3_create_bucket(const char *region, const char *bucket, struct dep_err *err)
{
    struct dep_http_req req = {0};
    struct dep_http_resp resp = {0};
    char path[1024], body[512];
    int rc;

    req.service = "s3";
    req.region = region;
    req.operation = "CreateBucket";
    req.resource = bucket;
    req.proto = DEP_PROTO_REST_XML;
    req.method = "PUT";
    req.path = s3_path(bucket, NULL, path, sizeof(path));
    if (region && strcmp(region, "us-east-1") != 0) {
        snprintf(body, sizeof(body),
                 "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                 "<LocationConstraint>%s</LocationConstraint></CreateBucketConfiguration>",
                 region);
        req.body = body;
        req.body_len = strlen(body);
        req.content_type = "application/xml";
    }
    rc = dep_http_call(&req, &resp, err);
    dep_http_resp_release(&resp);
    return rc;
}

int dep_s3_head_bucket(const char *region, const char *bucket, struct dep_err *err)
{
    struct dep_http_req req = {0};
    struct dep_http_resp resp = {0};
    char path[1024];
    int rc;

    req.service = "s3";
    req.region = region;
    req.operation = "HeadBucket";
    req.resource = bucket;
    req.proto = DEP_PROTO_REST_XML;
    req.method = "HEAD";
    req.path = s3_path(bucket, NULL, path, sizeof(path));
    rc = dep_http_call(&req, &resp, err);
    if (rc < 0 && err && resp.status == 404) {
        snprintf(err->code, sizeof(err->code), "NoSuchBucket");
    }
    dep_http_resp_release(&resp);
    return rc;
}

int dep_s3_list_objects(const char *region, const char *bucket, const char *prefix, cJSON **out,
                        struct dep_err *err)
{
    struct dep_http_req req = {0};
    struct dep_http_resp resp = {0};
    char path[1024], query[2048];
    char *p = dep_urlencode(prefix ? prefix : "", 0);
    int rc;

    snprintf(query, sizeof(query), "list-type=2&prefix=%s", p);
    free(p);
    req.service = "s3";
    req.region = region;
    req.operation = "ListObjectsV2";
    req.resource = bucket;
    req.proto = DEP_PROTO_REST_XML;
    req.method = "GET";
    req.path = s3_path(bucket, NULL, path, sizeof(path));
    req.query = query;
    *out = NULL;
    rc = dep_http_call(&req, &resp, err);
    if (rc == 0) {
        cJSON *x = dep_xml_to_json(resp.body, resp.body_len);
        cJSON *r = x ? cJSON_DetachItemFromObjectCaseSensitive(x, "ListBucketResult") : NULL;
        *out = r ? r : cJSON_CreateObject();
        cJSON_Delete(x);
    }
    dep_http_resp_release(&resp);
    return rc;
}

int dep_s3_get_bucket_notification(const char *region, const char *bucket, cJSON **out,
                                   struct dep_err *err)
{
    struct dep_http_req req = {0};
    struct dep_http_resp resp = {0};
    char path[1024];
    int rc;

    req.service = "s3";
    req.region = region;
    req.operation = "GetBucketNotificationConfiguration";
    req.resource = bucket;
    req.proto = DEP_PROTO_REST_XML;
    req.method = "GET";
    req.path = s3_path(bucket, NULL, path, sizeof(path));
    req.query = "notification=";
    *out = NULL;
    rc = dep_http_call(&req, &resp, err);
    if (rc == 0) {
        *out = dep_xml_to_json(resp.body, resp.body_len);
        if (!*out) {
            *out = cJSON_CreateObject();
        }
    }
    dep_http_resp_release(&resp);
    return rc;
}

int dep_s3_put_bucket_notification(const char *region, const char *bucket, const char *xml,
                                   struct dep_err *err)
{
    struct dep_http_req req = {0};
    struct dep_http_resp resp = {0};
    char path[1024];
    int rc;

    req.service = "s3";
    req.region = region;
    req.operation = "PutBucketNotificationConfiguration";
    req.resource = bucket;
    req.proto = DEP_PROTO_REST_XML;
    req.method = "PUT";
    req.path = s3_path(bucket, NULL, path, sizeof(path));
    req.query = "notification=";
    req.body = xml;
    req.body_len = strlen(xml);
    req.content_type = "application/xml";
    rc = dep_http_call(&req, &resp, err);
    dep_http_resp_release(&resp);
    return rc;
}
