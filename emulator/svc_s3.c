/*
 * svc_s3.c - the S3 service: its operation table, routing, schema, worker
 * thread, shared helpers and the bucket-level actions.
 *
 * Actions served (this file): ListBuckets, CreateBucket, HeadBucket,
 * DeleteBucket, GetBucketLocation, PutBucketVersioning, GetBucketVersioning,
 * PutBucketPolicy, GetBucketPolicy, DeleteBucketPolicy, PutBucketTagging,
 * GetBucketTagging, DeleteBucketTagging.
 * Objects and listings: s3_object.c; multipart uploads: s3_multipart.c;
 * notification configuration and delivery: s3_notify.c; POST Object
 * (browser-based uploads): s3_post.c; ACLs, encryption, public access block,
 * ownership controls and CORS settings: s3_config.c.
 *
 * Routing: S3 operations are method + path depth (service, bucket, object)
 * + query sub-resource keys (+ x-amz-copy-source). Unknown query parameters
 * (x-id=PutObject, ...) are ignored. The bucket comes from the path (path
 * style) or from the Host (`<bucket>.s3.localhost:PORT`,
 * `<bucket>.localhost:PORT`); the route hook stores it and the key in the
 * path parameters "Bucket" and "Key".
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "s3_int.h"

static void s3_list_buckets(struct emu_request *req, struct emu_response *resp);
static void s3_create_bucket(struct emu_request *req, struct emu_response *resp);
static void s3_head_bucket(struct emu_request *req, struct emu_response *resp);
static void s3_delete_bucket(struct emu_request *req, struct emu_response *resp);
static void s3_get_bucket_location(struct emu_request *req, struct emu_response *resp);
static void s3_put_bucket_versioning(struct emu_request *req, struct emu_response *resp);
static void s3_get_bucket_versioning(struct emu_request *req, struct emu_response *resp);
static void s3_put_bucket_policy(struct emu_request *req, struct emu_response *resp);
static void s3_get_bucket_policy(struct emu_request *req, struct emu_response *resp);
static void s3_delete_bucket_policy(struct emu_request *req, struct emu_response *resp);
static void s3_put_bucket_tagging(struct emu_request *req, struct emu_response *resp);
static void s3_get_bucket_tagging(struct emu_request *req, struct emu_response *resp);
static void s3_delete_bucket_tagging(struct emu_request *req, struct emu_response *resp);
static void s3_not_implemented(struct emu_request *req, struct emu_response *resp);
static void s3_invalid_uri(struct emu_request *req, struct emu_response *resp);

#define W EMU_OP_WRITE

/* The operation table. Paths are informative only: the route hook picks
 * the row (S3 cannot be matched by path templates alone). */
static const struct emu_op s3_ops[] = {
    {"ListBuckets", "GET", "/", NULL, s3_list_buckets, 0},
    {"CreateBucket", "PUT", "/{Bucket}", NULL, s3_create_bucket, W},
    {"HeadBucket", "HEAD", "/{Bucket}", NULL, s3_head_bucket, 0},
    {"DeleteBucket", "DELETE", "/{Bucket}", NULL, s3_delete_bucket, W},
    {"GetBucketLocation", "GET", "/{Bucket}", "location", s3_get_bucket_location, 0},
    {"PutBucketVersioning", "PUT", "/{Bucket}", "versioning", s3_put_bucket_versioning, W},
    {"GetBucketVersioning", "GET", "/{Bucket}", "versioning", s3_get_bucket_versioning, 0},
    {"PutBucketPolicy", "PUT", "/{Bucket}", "policy", s3_put_bucket_policy, W},
    {"GetBucketPolicy", "GET", "/{Bucket}", "policy", s3_get_bucket_policy, 0},
    {"DeleteBucketPolicy", "DELETE", "/{Bucket}", "policy", s3_delete_bucket_policy, W},
    {"PutBucketTagging", "PUT", "/{Bucket}", "tagging", s3_put_bucket_tagging, W},
    {"GetBucketTagging", "GET", "/{Bucket}", "tagging", s3_get_bucket_tagging, 0},
    {"DeleteBucketTagging", "DELETE", "/{Bucket}", "tagging", s3_delete_bucket_tagging, W},
    {"GetBucketAcl", "GET", "/{Bucket}", "acl", s3_get_bucket_acl, 0},
    {"PutBucketAcl", "PUT", "/{Bucket}", "acl", s3_put_bucket_acl, W},
    {"GetBucketEncryption", "GET", "/{Bucket}", "encryption", s3_get_bucket_encryption, 0},
    {"PutBucketEncryption", "PUT", "/{Bucket}", "encryption", s3_put_bucket_encryption, W},
    {"DeleteBucketEncryption", "DELETE", "/{Bucket}", "encryption", s3_delete_bucket_encryption,
     W},
    {"GetPublicAccessBlock", "GET", "/{Bucket}", "publicAccessBlock", s3_get_public_access_block,
     0},
    {"PutPublicAccessBlock", "PUT", "/{Bucket}", "publicAccessBlock", s3_put_public_access_block,
     W},
    {"DeletePublicAccessBlock", "DELETE", "/{Bucket}", "publicAccessBlock",
     s3_delete_public_access_block, W},
    {"GetBucketOwnershipControls", "GET", "/{Bucket}", "ownershipControls",
     s3_get_bucket_ownership_controls, 0},
    {"PutBucketOwnershipControls", "PUT", "/{Bucket}", "ownershipControls",
     s3_put_bucket_ownership_controls, W},
    {"DeleteBucketOwnershipControls", "DELETE", "/{Bucket}", "ownershipControls",
     s3_delete_bucket_ownership_controls, W},
    {"GetBucketCors", "GET", "/{Bucket}", "cors", s3_get_bucket_cors, 0},
    {"PutBucketCors", "PUT", "/{Bucket}", "cors", s3_put_bucket_cors, W},
    {"DeleteBucketCors", "DELETE", "/{Bucket}", "cors", s3_delete_bucket_cors, W},
    {"PutBucketNotificationConfiguration", "PUT", "/{Bucket}", "notification",
     s3_put_bucket_notification_configuration, W},
    {"GetBucketNotificationConfiguration", "GET", "/{Bucket}", "notification",
     s3_get_bucket_notification_configuration, 0},
    {"ListObjects", "GET", "/{Bucket}", NULL, s3_list_objects, 0},
    {"ListObjectsV2", "GET", "/{Bucket}", "list-type", s3_list_objects_v2, 0},
    {"ListObjectVersions", "GET", "/{Bucket}", "versions", s3_list_object_versions, 0},
    {"ListMultipartUploads", "GET", "/{Bucket}", "uploads", s3_list_multipart_uploads, 0},
    {"DeleteObjects", "POST", "/{Bucket}", "delete", s3_delete_objects, W},
    {"PostObject", "POST", "/{Bucket}", NULL, s3_post_object,
     W | EMU_OP_STREAM | EMU_OP_NO_TXN | EMU_OP_NO_AUTH},
    {"PutObject", "PUT", "/{Bucket}/{Key+}", NULL, s3_put_object,
     W | EMU_OP_STREAM | EMU_OP_NO_TXN | EMU_OP_CRC64},
    {"GetObject", "GET", "/{Bucket}/{Key+}", NULL, s3_get_object, 0},
    {"GetObjectAttributes", "GET", "/{Bucket}/{Key+}", "attributes", s3_get_object_attributes, 0},
    {"HeadObject", "HEAD", "/{Bucket}/{Key+}", NULL, s3_head_object, 0},
    {"DeleteObject", "DELETE", "/{Bucket}/{Key+}", NULL, s3_delete_object, W},
    {"CopyObject", "PUT", "/{Bucket}/{Key+}", NULL, s3_copy_object, W},
    {"PutObjectTagging", "PUT", "/{Bucket}/{Key+}", "tagging", s3_put_object_tagging, W},
    {"GetObjectTagging", "GET", "/{Bucket}/{Key+}", "tagging", s3_get_object_tagging, 0},
    {"DeleteObjectTagging", "DELETE", "/{Bucket}/{Key+}", "tagging", s3_delete_object_tagging, W},
    {"GetObjectAcl", "GET", "/{Bucket}/{Key+}", "acl", s3_get_object_acl, 0},
    {"PutObjectAcl", "PUT", "/{Bucket}/{Key+}", "acl", s3_put_object_acl, W},
    {"CreateMultipartUpload", "POST", "/{Bucket}/{Key+}", "uploads", s3_create_multipart_upload, W},
    {"UploadPart", "PUT", "/{Bucket}/{Key+}", "uploadId,partNumber", s3_upload_part,
     W | EMU_OP_STREAM | EMU_OP_NO_TXN | EMU_OP_CRC64},
    {"UploadPartCopy", "PUT", "/{Bucket}/{Key+}", "uploadId,partNumber", s3_upload_part_copy, W},
    {"CompleteMultipartUpload", "POST", "/{Bucket}/{Key+}", "uploadId",
     s3_complete_multipart_upload, W | EMU_OP_NO_TXN},
    {"AbortMultipartUpload", "DELETE", "/{Bucket}/{Key+}", "uploadId", s3_abort_multipart_upload,
     W},
    {"ListParts", "GET", "/{Bucket}/{Key+}", "uploadId", s3_list_parts, 0},
    {"NotImplemented", "GET", "/{Bucket}", NULL, s3_not_implemented, 0},
    {"InvalidURI", "GET", "/{Bucket}", NULL, s3_invalid_uri, 0},
};

#undef W

static const char *const s3_schema[] = {
    "CREATE TABLE s3_buckets ("
    " name TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, created REAL NOT NULL,"
    " versioning TEXT NOT NULL DEFAULT '', policy TEXT, tagging TEXT, notification TEXT);"
    "CREATE INDEX s3_buckets_by_account ON s3_buckets(account, name);"
    "CREATE TABLE s3_objects ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, region TEXT NOT NULL,"
    " bucket TEXT NOT NULL, key TEXT NOT NULL, version_id TEXT NOT NULL,"
    " is_latest INTEGER NOT NULL, delete_marker INTEGER NOT NULL DEFAULT 0,"
    " size INTEGER NOT NULL DEFAULT 0, etag TEXT NOT NULL DEFAULT '', mtime REAL NOT NULL,"
    " content_type TEXT, cache_control TEXT, content_disposition TEXT, content_encoding TEXT,"
    " content_language TEXT, expires TEXT, meta TEXT, checksum_algo TEXT, checksum TEXT,"
    " parts INTEGER NOT NULL DEFAULT 0, blob TEXT, tagging TEXT);"
    "CREATE INDEX s3_objects_by_key ON s3_objects(bucket, key, id);"
    "CREATE INDEX s3_objects_latest ON s3_objects(bucket, key) WHERE is_latest = 1;"
    "CREATE TABLE s3_uploads ("
    " upload_id TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL,"
    " bucket TEXT NOT NULL, key TEXT NOT NULL, initiated REAL NOT NULL,"
    " content_type TEXT, cache_control TEXT, content_disposition TEXT, content_encoding TEXT,"
    " content_language TEXT, expires TEXT, meta TEXT, checksum_algo TEXT, tagging TEXT);"
    "CREATE INDEX s3_uploads_by_key ON s3_uploads(bucket, key, initiated);"
    "CREATE TABLE s3_parts ("
    " upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, account TEXT NOT NULL,"
    " region TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL, mtime REAL NOT NULL,"
    " blob TEXT NOT NULL, checksum_algo TEXT, checksum TEXT,"
    " PRIMARY KEY (upload_id, part_number));"
    "CREATE TABLE s3_gc (id INTEGER PRIMARY KEY, account TEXT, region TEXT, blob TEXT NOT NULL);"
    "CREATE TABLE s3_events (id INTEGER PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL,"
    " function_arn TEXT NOT NULL, source_arn TEXT NOT NULL, payload TEXT NOT NULL);",
    /* 2: part sizes of multipart objects ("5242880,5242880,4"), for partNumber GETs */
    "ALTER TABLE s3_objects ADD COLUMN part_sizes TEXT;",
    /* 3: ListObjectVersions reads (key ASC, id DESC) straight off an index;
     * completed multipart uploads are remembered for a while so that a
     * retried CompleteMultipartUpload gets the same answer; the checksum
     * type (COMPOSITE / FULL_OBJECT) an upload was created with */
    "CREATE INDEX s3_objects_versions ON s3_objects(bucket, key, id DESC);"
    "CREATE TABLE s3_completed ("
    " upload_id TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL,"
    " bucket TEXT NOT NULL, key TEXT NOT NULL, completed REAL NOT NULL, parts TEXT NOT NULL,"
    " etag TEXT NOT NULL, version_id TEXT, checksum_algo TEXT, checksum TEXT);"
    "CREATE INDEX s3_completed_by_bucket ON s3_completed(bucket, completed);"
    "ALTER TABLE s3_uploads ADD COLUMN checksum_type TEXT;",
    /* 4: a version found by its id without reading the key's other versions
     * (GetObject?versionId, ListObjectVersions' version-id-marker) */
    "CREATE INDEX s3_objects_by_version ON s3_objects(bucket, key, version_id);",
    /* 5: the parts' checksums of multipart objects ("sum1,sum2"), for
     * GetObjectAttributes' ObjectParts */
    "ALTER TABLE s3_objects ADD COLUMN part_checksums TEXT;",
    /* 6: bucket settings (s3_config.c): NULL = AWS's default for a new
     * bucket, "" = deleted, else the setting */
    "ALTER TABLE s3_buckets ADD COLUMN encryption TEXT;"
    "ALTER TABLE s3_buckets ADD COLUMN public_access_block TEXT;"
    "ALTER TABLE s3_buckets ADD COLUMN ownership TEXT;"
    "ALTER TABLE s3_buckets ADD COLUMN cors TEXT;",
    /* 7: x-amz-storage-class and server-side encryption of objects and
     * multipart uploads (NULL: STANDARD / AES256) */
    "ALTER TABLE s3_objects ADD COLUMN storage_class TEXT;"
    "ALTER TABLE s3_objects ADD COLUMN sse TEXT;"
    "ALTER TABLE s3_objects ADD COLUMN sse_kms_key_id TEXT;"
    "ALTER TABLE s3_uploads ADD COLUMN storage_class TEXT;"
    "ALTER TABLE s3_uploads ADD COLUMN sse TEXT;"
    "ALTER TABLE s3_uploads ADD COLUMN sse_kms_key_id TEXT;",
};

/* ------------------------------------------------------------- routing */

static const struct emu_op *s3_op(const char *name)
{
    for (size_t i = 0; i < sizeof(s3_ops) / sizeof(s3_ops[0]); i++) {
        if (strcmp(s3_ops[i].name, name) == 0) {
            return &s3_ops[i];
        }
    }
    return NULL;
}

/* Sub-resources S3 knows but greenroom does not serve. */
static const char *const s3_unserved[] = {
    "lifecycle",
    "website",
    "logging",
    "replication",
    "requestPayment",
    "accelerate",
    "object-lock",
    "intelligent-tiering",
    "analytics",
    "metrics",
    "inventory",
    "legal-hold",
    "retention",
    "restore",
    "select",
    "torrent",
    "attributes",
    "policyStatus",
    NULL,
};

/* The bucket named by a virtual-hosted Host, copied into out ("" if none). */
static void s3_host_bucket(const char *host, char *out, size_t len)
{
    out[0] = 0;
    if (host == NULL || host[0] == 0 || host[0] == '[') {
        return;
    }
    char h[256];
    size_t n = strcspn(host, ":");
    if (n == 0 || n >= sizeof(h)) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        h[i] = (char)tolower((unsigned char)host[i]);
    }
    h[n] = 0;
    struct in_addr a;
    if (inet_pton(AF_INET, h, &a) == 1 || strstr(h, ".execute-api.") != NULL) {
        return;
    }
    const char *cut = NULL;
    const char *s3 = strstr(h, ".s3.");
    if (s3 == NULL) {
        s3 = strstr(h, ".s3-");
    }
    if (s3 != NULL && s3 > h) {
        cut = s3;
    } else if (n > 10 && strcmp(h + n - 10, ".localhost") == 0) {
        cut = h + n - 10;
    } else {
        size_t cl = strlen(emu_cfg.host);
        if (cl > 0 && n > cl + 1 && h[n - cl - 1] == '.' && strcmp(h + n - cl, emu_cfg.host) == 0) {
            cut = h + n - cl - 1;
        }
    }
    if (cut == NULL || cut == h) {
        return;
    }
    size_t bl = (size_t)(cut - h);
    if (bl >= len || (bl == 2 && memcmp(h, "s3", 2) == 0)) {
        return;
    }
    memcpy(out, h, bl);
    out[bl] = 0;
}

/* Splits the request into bucket and key (decoded); stores them in params.
 * Returns 0, -1 on a malformed path. */
static int s3_split(struct emu_request *req)
{
    char vbucket[128];
    s3_host_bucket(req->host, vbucket, sizeof(vbucket));
    const char *p = req->path != NULL ? req->path : "/";
    if (*p == '/') {
        p++;
    }
    if (vbucket[0] != 0) {
        emu_kv_set(&req->params, "Bucket", vbucket);
        if (*p != 0) {
            char *key = emu_url_decode(p, strlen(p), 0);
            if (key == NULL) {
                return -1;
            }
            emu_kv_set(&req->params, "Key", key);
            free(key);
        }
        return 0;
    }
    if (*p == 0) {
        return 0;
    }
    size_t blen = strcspn(p, "/");
    char *bucket = emu_url_decode(p, blen, 0);
    if (bucket == NULL) {
        return -1;
    }
    emu_kv_set(&req->params, "Bucket", bucket);
    free(bucket);
    if (p[blen] == '/' && p[blen + 1] != 0) {
        const char *k = p + blen + 1;
        char *key = emu_url_decode(k, strlen(k), 0);
        if (key == NULL) {
            return -1;
        }
        emu_kv_set(&req->params, "Key", key);
        free(key);
    }
    return 0;
}

static const struct emu_op *s3_route_op(struct emu_request *req)
{
    /* Bad escapes, or a NUL that would cut a key short: refuse the URI. */
    if (s3_split(req) != 0 || (req->path != NULL && strcasestr(req->path, "%00") != NULL)) {
        return s3_op("InvalidURI");
    }
    const char *m = req->method;
    int has_bucket = emu_param(req, "Bucket") != NULL;
    int has_key = emu_param(req, "Key") != NULL;
    int q_upload_id = emu_kv_has(&req->query, "uploadId");
    int copy = emu_header(req, "x-amz-copy-source") != NULL;
    for (size_t i = 0; s3_unserved[i] != NULL; i++) {
        if (has_key && strcmp(s3_unserved[i], "attributes") == 0) {
            continue; /* GetObjectAttributes */
        }
        if (has_bucket && emu_kv_has(&req->query, s3_unserved[i])) {
            return s3_op("NotImplemented");
        }
    }
    if (!has_bucket) {
        return strcmp(m, "GET") == 0 ? s3_op("ListBuckets") : NULL;
    }
    if (!has_key) {
        if (strcmp(m, "GET") == 0) {
            static const char *const sub[][2] = {
                {"location", "GetBucketLocation"},
                {"versioning", "GetBucketVersioning"},
                {"policy", "GetBucketPolicy"},
                {"tagging", "GetBucketTagging"},
                {"notification", "GetBucketNotificationConfiguration"},
                {"acl", "GetBucketAcl"},
                {"encryption", "GetBucketEncryption"},
                {"publicAccessBlock", "GetPublicAccessBlock"},
                {"ownershipControls", "GetBucketOwnershipControls"},
                {"cors", "GetBucketCors"},
                {"versions", "ListObjectVersions"},
                {"uploads", "ListMultipartUploads"},
                {"list-type", "ListObjectsV2"},
            };
            for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
                if (emu_kv_has(&req->query, sub[i][0])) {
                    return s3_op(sub[i][1]);
                }
            }
            return s3_op("ListObjects");
        }
        if (strcmp(m, "PUT") == 0) {
            static const char *const sub[][2] = {
                {"versioning", "PutBucketVersioning"},
                {"policy", "PutBucketPolicy"},
                {"tagging", "PutBucketTagging"},
                {"notification", "PutBucketNotificationConfiguration"},
                {"acl", "PutBucketAcl"},
                {"encryption", "PutBucketEncryption"},
                {"publicAccessBlock", "PutPublicAccessBlock"},
                {"ownershipControls", "PutBucketOwnershipControls"},
                {"cors", "PutBucketCors"},
            };
            for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
                if (emu_kv_has(&req->query, sub[i][0])) {
                    return s3_op(sub[i][1]);
                }
            }
            return s3_op("CreateBucket");
        }
        if (strcmp(m, "HEAD") == 0) {
            return s3_op("HeadBucket");
        }
        if (strcmp(m, "DELETE") == 0) {
            if (emu_kv_has(&req->query, "policy")) {
                return s3_op("DeleteBucketPolicy");
            }
            if (emu_kv_has(&req->query, "tagging")) {
                return s3_op("DeleteBucketTagging");
            }
            static const char *const sub[][2] = {
                {"encryption", "DeleteBucketEncryption"},
                {"publicAccessBlock", "DeletePublicAccessBlock"},
                {"ownershipControls", "DeleteBucketOwnershipControls"},
                {"cors", "DeleteBucketCors"},
            };
            for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
                if (emu_kv_has(&req->query, sub[i][0])) {
                    return s3_op(sub[i][1]);
                }
            }
            return s3_op("DeleteBucket");
        }
        if (strcmp(m, "POST") == 0 && emu_kv_has(&req->query, "delete")) {
            return s3_op("DeleteObjects");
        }
        if (strcmp(m, "POST") == 0) {
            return s3_op("PostObject"); /* browser-based upload (s3_post.c) */
        }
        return NULL;
    }
    if (strcmp(m, "PUT") == 0) {
        if (q_upload_id && emu_kv_has(&req->query, "partNumber")) {
            return s3_op(copy ? "UploadPartCopy" : "UploadPart");
        }
        if (emu_kv_has(&req->query, "tagging")) {
            return s3_op("PutObjectTagging");
        }
        if (emu_kv_has(&req->query, "acl")) {
            return s3_op("PutObjectAcl");
        }
        return s3_op(copy ? "CopyObject" : "PutObject");
    }
    if (strcmp(m, "GET") == 0) {
        if (q_upload_id) {
            return s3_op("ListParts");
        }
        if (emu_kv_has(&req->query, "tagging")) {
            return s3_op("GetObjectTagging");
        }
        if (emu_kv_has(&req->query, "acl")) {
            return s3_op("GetObjectAcl");
        }
        if (emu_kv_has(&req->query, "attributes")) {
            return s3_op("GetObjectAttributes");
        }
        return s3_op("GetObject");
    }
    if (strcmp(m, "HEAD") == 0) {
        return s3_op("HeadObject");
    }
    if (strcmp(m, "DELETE") == 0) {
        if (q_upload_id) {
            return s3_op("AbortMultipartUpload");
        }
        if (emu_kv_has(&req->query, "tagging")) {
            return s3_op("DeleteObjectTagging");
        }
        return s3_op("DeleteObject");
    }
    if (strcmp(m, "POST") == 0) {
        if (emu_kv_has(&req->query, "uploads")) {
            return s3_op("CreateMultipartUpload");
        }
        if (q_upload_id) {
            return s3_op("CompleteMultipartUpload");
        }
    }
    return NULL;
}

/* The route hook: the operation, or its refusal when it sets ACLs a bucket
 * does not allow (s3_config.c). */
static const struct emu_op *s3_route(struct emu_request *req)
{
    return s3_acl_route(req, s3_route_op(req));
}

/* "bucket/key" or "bucket" for the journal and fault rules. */
static void s3_resource(struct emu_request *req, struct emu_buf *out)
{
    const char *b = emu_param(req, "Bucket");
    const char *k = emu_param(req, "Key");
    if (b == NULL) {
        return;
    }
    emu_buf_puts(out, b);
    if (k != NULL) {
        emu_buf_printf(out, "/%s", k);
    }
}

/* ---------------------------------------------------------- worker thread */

static pthread_t s3_thread;
static pthread_mutex_t s3_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t s3_cv = PTHREAD_COND_INITIALIZER;
static int s3_running;
static int s3_kicked;

void s3_worker_kick(void)
{
    pthread_mutex_lock(&s3_mu);
    s3_kicked = 1;
    pthread_cond_signal(&s3_cv);
    pthread_mutex_unlock(&s3_mu);
}

/* Unlinks the files of committed garbage rows, then forgets the rows. */
static void s3_gc_run(void)
{
    for (;;) {
        int64_t ids[256];
        size_t n = 0;
        if (emu_store_begin(1) != 0) {
            return;
        }
        sqlite3_stmt *st = emu_stmt("SELECT id, blob FROM s3_gc ORDER BY id LIMIT 256");
        while (st != NULL && sqlite3_step(st) == SQLITE_ROW && n < 256) {
            char path[1024];
            s3_blob_path((const char *)sqlite3_column_text(st, 1), path, sizeof(path));
            if (unlink(path) != 0 && errno != ENOENT) {
                emu_warn("s3: cannot remove %s: %s", path, strerror(errno));
            }
            ids[n++] = sqlite3_column_int64(st, 0);
        }
        emu_stmt_done(st);
        st = emu_stmt("DELETE FROM s3_gc WHERE id = ?");
        for (size_t i = 0; st != NULL && i < n; i++) {
            sqlite3_bind_int64(st, 1, ids[i]);
            sqlite3_step(st);
            sqlite3_reset(st);
        }
        emu_stmt_done(st);
        emu_store_end(1);
        if (n < 256) {
            return;
        }
    }
}

static void *s3_worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&s3_mu);
    while (s3_running) {
        if (!s3_kicked) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 2;
            pthread_cond_timedwait(&s3_cv, &s3_mu, &ts);
        }
        s3_kicked = 0;
        if (!s3_running) {
            break;
        }
        pthread_mutex_unlock(&s3_mu);
        s3_gc_run();
        s3_notify_deliver();
        pthread_mutex_lock(&s3_mu);
    }
    pthread_mutex_unlock(&s3_mu);
    return NULL;
}

static int s3_start(void)
{
    s3_running = 1;
    if (pthread_create(&s3_thread, NULL, s3_worker, NULL) != 0) {
        s3_running = 0;
        return -1;
    }
    return 0;
}

static void s3_stop(void)
{
    if (!s3_running) {
        return;
    }
    pthread_mutex_lock(&s3_mu);
    s3_running = 0;
    pthread_cond_signal(&s3_cv);
    pthread_mutex_unlock(&s3_mu);
    pthread_join(s3_thread, NULL);
}

const struct emu_service svc_s3 = {
    .name = "s3",
    .display = "s3",
    .protocol = EMU_PROTO_REST_XML,
    .ops = s3_ops,
    .nops = sizeof(s3_ops) / sizeof(s3_ops[0]),
    .schema = s3_schema,
    .nschema = sizeof(s3_schema) / sizeof(s3_schema[0]),
    .route = s3_route,
    .resource = s3_resource,
    .start = s3_start,
    .stop = s3_stop,
};

/* --------------------------------------------------------- shared helpers */

const char *s3_bucket_name(const struct emu_request *req)
{
    const char *b = emu_param(req, "Bucket");
    return b != NULL ? b : "";
}

const char *s3_key(const struct emu_request *req)
{
    const char *k = emu_param(req, "Key");
    return k != NULL ? k : "";
}

void s3_internal(struct emu_response *resp, const char *what)
{
    emu_error_log("s3: %s: %s", what, sqlite3_errmsg(emu_db()));
    emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
}

/* x-amz-expected-bucket-owner (for the request's bucket) and
 * x-amz-source-expected-bucket-owner (for a copy's source bucket): 0 when
 * one names another account than owner, else 1. */
static int s3_expected_owner_ok(const struct emu_request *req, const char *name, const char *owner)
{
    const char *own = s3_bucket_name(req);
    const char *src = emu_header(req, "x-amz-copy-source");
    int is_dest = own != NULL && strcmp(own, name) == 0;
    int is_src = 0;
    if (src != NULL) {
        src += src[0] == '/';
        size_t n = strcspn(src, "/");
        is_src = strlen(name) == n && strncmp(src, name, n) == 0;
    }
    const char *want = emu_header(req, "x-amz-expected-bucket-owner");
    if (is_dest && want != NULL && strcmp(want, owner) != 0) {
        return 0;
    }
    want = emu_header(req, "x-amz-source-expected-bucket-owner");
    if (is_src && want != NULL && strcmp(want, owner) != 0) {
        return 0;
    }
    return 1;
}

int s3_bucket_load(struct emu_request *req, struct emu_response *resp, const char *name,
                   struct s3_bucket *b)
{
    int rc = -1;
    sqlite3_stmt *st = emu_stmt(
        "SELECT name, account, region, versioning, created FROM s3_buckets WHERE name = ?");
    if (st == NULL) {
        s3_internal(resp, "bucket lookup");
        return -1;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_ROW) {
        emu_fail(resp, S3_NO_SUCH_BUCKET, NULL);
        emu_fail_extra(resp, "BucketName", name);
        goto out;
    }
    memset(b, 0, sizeof(*b));
    snprintf(b->name, sizeof(b->name), "%s", sqlite3_column_text(st, 0));
    snprintf(b->account, sizeof(b->account), "%s", sqlite3_column_text(st, 1));
    snprintf(b->region, sizeof(b->region), "%s", sqlite3_column_text(st, 2));
    snprintf(b->versioning, sizeof(b->versioning), "%s", sqlite3_column_text(st, 3));
    b->created = sqlite3_column_double(st, 4);
    if (strcmp(b->account, req->account) != 0 || !s3_expected_owner_ok(req, name, b->account)) {
        emu_fail(resp, AWS_ACCESS_DENIED, NULL);
        goto out;
    }
    rc = 0;
out:
    emu_stmt_done(st);
    return rc;
}

void s3_owner_id(const char *account, char out[65])
{
    unsigned char d[32];
    unsigned int n = 0;
    char in[64];
    snprintf(in, sizeof(in), "greenroom-owner:%s", account);
    EVP_Digest(in, strlen(in), d, &n, EVP_sha256(), NULL);
    emu_hex(d, 32, out);
}

void s3_owner_xml(struct emu_buf *b, const char *account)
{
    char id[65];
    s3_owner_id(account, id);
    emu_buf_printf(b, "<Owner><ID>%s</ID><DisplayName>greenroom</DisplayName></Owner>", id);
}

struct s3_xml *s3_body_xml(struct emu_request *req, struct emu_response *resp)
{
    struct s3_xml *x = s3_xml_parse(req->body, req->body_len);
    if (x == NULL) {
        emu_fail(resp, S3_MALFORMED_XML, NULL);
    }
    return x;
}

int s3_is_true(const char *s)
{
    return s != NULL && strcasecmp(s, "true") == 0;
}

void s3_xml_key(struct emu_buf *b, const char *tag, const char *value, int url)
{
    if (value == NULL) {
        return;
    }
    if (!url) {
        emu_buf_xml_elem(b, tag, value);
        return;
    }
    emu_buf_printf(b, "<%s>", tag);
    emu_buf_url_encode(b, value, strlen(value), 1);
    emu_buf_printf(b, "</%s>", tag);
}

void s3_blob_path(const char *blob, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", emu_objects_dir(), blob);
}

void s3_blob_new_name(char out[S3_BLOB_LEN])
{
    char hex[33];
    emu_random_hex(hex, 32);
    hex[32] = 0;
    snprintf(out, S3_BLOB_LEN, "s3-%s", hex);
}

int s3_blob_adopt(const char *tmp_path, char blob[S3_BLOB_LEN])
{
    int fd = open(tmp_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        emu_error_log("s3: open %s: %s", tmp_path, strerror(errno));
        return -1;
    }
    /* Streamed uploads were fdatasync'ed by the core before the store lock
     * was taken, so this is a no-op for them; copies and multipart results
     * are synced here. */
    if (!emu_cfg.ephemeral && fdatasync(fd) != 0) {
        emu_error_log("s3: fdatasync %s: %s", tmp_path, strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    s3_blob_new_name(blob);
    char path[1024];
    s3_blob_path(blob, path, sizeof(path));
    if (rename(tmp_path, path) != 0) {
        emu_error_log("s3: rename %s: %s", tmp_path, strerror(errno));
        return -1;
    }
    /* No directory fsync: the store commits with synchronous=NORMAL, whose
     * promise is "survives kill -9 of greenroom" (the OS keeps the rename),
     * not "survives power loss"; syncing the directory under the store lock
     * would serialise every PUT on the disk for no added guarantee. */
    return 0;
}

void s3_gc_add(const struct emu_request *req, const char *blob)
{
    if (blob == NULL || blob[0] == 0) {
        return;
    }
    sqlite3_stmt *st = emu_stmt("INSERT INTO s3_gc(account, region, blob) VALUES (?, ?, ?)");
    if (st == NULL) {
        return;
    }
    sqlite3_bind_text(st, 1, req->account, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, req->region, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, blob, -1, SQLITE_TRANSIENT);
    sqlite3_step(st);
    emu_stmt_done(st);
    s3_worker_kick();
}

void s3_b64(const unsigned char *data, size_t len, char *out, size_t outlen)
{
    if (outlen < 4 * ((len + 2) / 3) + 1) {
        out[0] = 0;
        return;
    }
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
}

double s3_parse_http_date(const char *s)
{
    static const char *const fmts[] = {
        "%a, %d %b %Y %H:%M:%S GMT",
        "%A, %d-%b-%y %H:%M:%S GMT",
        "%a %b %e %H:%M:%S %Y",
        "%Y-%m-%dT%H:%M:%S",
        NULL,
    };
    if (s == NULL) {
        return -1;
    }
    for (size_t i = 0; fmts[i] != NULL; i++) {
        struct tm tm;
        memset(&tm, 0, sizeof(tm));
        const char *end = strptime(s, fmts[i], &tm);
        if (end != NULL) {
            return (double)timegm(&tm);
        }
    }
    return -1;
}

/* ------------------------------------------------------------- buckets */

/* AWS's general purpose bucket naming rules. Returns 1 when valid. */
static int s3_valid_bucket_name(const char *n)
{
    size_t len = strlen(n);
    if (len < 3 || len > 63) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        char c = n[i];
        if (!(islower((unsigned char)c) || isdigit((unsigned char)c) || c == '.' || c == '-')) {
            return 0;
        }
    }
    if (!isalnum((unsigned char)n[0]) || !isalnum((unsigned char)n[len - 1])) {
        return 0;
    }
    if (strstr(n, "..") != NULL || strstr(n, ".-") != NULL || strstr(n, "-.") != NULL) {
        return 0;
    }
    struct in_addr a;
    if (inet_pton(AF_INET, n, &a) == 1) {
        return 0;
    }
    if (strncmp(n, "xn--", 4) == 0 || strncmp(n, "sthree-", 7) == 0 ||
        strncmp(n, "amzn-s3-demo-", 13) == 0) {
        return 0;
    }
    if ((len > 8 && strcmp(n + len - 8, "-s3alias") == 0) ||
        (len > 7 && strcmp(n + len - 7, "--ol-s3") == 0) ||
        (len > 13 && strcmp(n + len - 13, ".mrap") == 0) ||
        (len > 10 && strcmp(n + len - 10, "--x-s3") == 0)) {
        return 0;
    }
    return 1;
}

/* A plausible region name ("eu-west-1", "us-gov-west-1", "EU"). */
static int s3_valid_region(const char *r)
{
    if (strcmp(r, "EU") == 0) {
        return 1;
    }
    size_t len = strlen(r);
    if (len < 9 || len > 25 || !isdigit((unsigned char)r[len - 1])) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        if (!(islower((unsigned char)r[i]) || isdigit((unsigned char)r[i]) || r[i] == '-')) {
            return 0;
        }
    }
    return strchr(r, '-') != NULL;
}

static void s3_list_buckets(struct emu_request *req, struct emu_response *resp)
{
    struct emu_buf b = {0};
    emu_buf_puts(&b, "<ListAllMyBucketsResult xmlns=\"" S3_NS "\">");
    s3_owner_xml(&b, req->account);
    emu_buf_puts(&b, "<Buckets>");
    sqlite3_stmt *st =
        emu_stmt("SELECT name, created, region FROM s3_buckets WHERE account = ? ORDER BY name");
    if (st == NULL) {
        emu_buf_release(&b);
        s3_internal(resp, "list buckets");
        return;
    }
    sqlite3_bind_text(st, 1, req->account, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
        char t[32];
        emu_time_iso(t, sqlite3_column_double(st, 1));
        emu_buf_puts(&b, "<Bucket>");
        emu_buf_xml_elem(&b, "Name", (const char *)sqlite3_column_text(st, 0));
        emu_buf_xml_elem(&b, "CreationDate", t);
        emu_buf_xml_elem(&b, "BucketRegion", (const char *)sqlite3_column_text(st, 2));
        emu_buf_puts(&b, "</Bucket>");
    }
    emu_stmt_done(st);
    emu_buf_puts(&b, "</Buckets></ListAllMyBucketsResult>");
    emu_resp_xml(resp, 200, b.data);
    emu_buf_release(&b);
}

static void s3_create_bucket(struct emu_request *req, struct emu_response *resp)
{
    const char *name = s3_bucket_name(req);
    char region[32];
    struct s3_xml *x = NULL;
    snprintf(region, sizeof(region), "%s", req->region[0] ? req->region : "us-east-1");
    if (!s3_valid_bucket_name(name)) {
        emu_fail(resp, S3_INVALID_BUCKET_NAME, NULL);
        emu_fail_extra(resp, "BucketName", name);
        return;
    }
    if (s3_create_bucket_acl_check(req, resp) != 0) {
        return;
    }
    if (req->body_len > 0) {
        x = s3_body_xml(req, resp);
        if (x == NULL) {
            return;
        }
        if (strcmp(x->name, "CreateBucketConfiguration") != 0) {
            emu_fail(resp, S3_MALFORMED_XML, NULL);
            goto out;
        }
        const char *lc = s3_xml_text(x, "LocationConstraint");
        if (lc != NULL && lc[0] != 0) {
            if (strcmp(lc, "us-east-1") == 0 || !s3_valid_region(lc)) {
                emu_fail(resp, S3_INVALID_LOCATION_CONSTRAINT, NULL);
                emu_fail_extra(resp, "LocationConstraint", lc);
                goto out;
            }
            if (strcmp(region, "us-east-1") != 0 && strcmp(lc, region) != 0) {
                emu_fail(resp, S3_ILLEGAL_LOCATION_CONSTRAINT,
                         "The %s location constraint is incompatible for the region specific "
                         "endpoint this request was sent to.",
                         lc);
                goto out;
            }
            snprintf(region, sizeof(region), "%s", strcmp(lc, "EU") == 0 ? "eu-west-1" : lc);
        }
    }
    sqlite3_stmt *st = emu_stmt("SELECT account, region FROM s3_buckets WHERE name = ?");
    if (st == NULL) {
        s3_internal(resp, "create bucket");
        goto out;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
        int mine = strcmp((const char *)sqlite3_column_text(st, 0), req->account) == 0;
        int legacy = mine && strcmp((const char *)sqlite3_column_text(st, 1), "us-east-1") == 0 &&
                     strcmp(region, "us-east-1") == 0;
        emu_stmt_done(st);
        if (legacy) {
            /* AWS: re-creating a bucket you own in us-east-1 answers 200. */
            resp->status = 200;
            emu_resp_header(resp, "Location", "/%s", name);
            goto out;
        }
        emu_fail(resp, mine ? S3_BUCKET_ALREADY_OWNED_BY_YOU : S3_BUCKET_ALREADY_EXISTS, NULL);
        emu_fail_extra(resp, "BucketName", name);
        goto out;
    }
    emu_stmt_done(st);
    st = emu_stmt("INSERT INTO s3_buckets(name, account, region, created) VALUES (?, ?, ?, ?)");
    if (st == NULL) {
        s3_internal(resp, "create bucket");
        goto out;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, req->account, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, region, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 4, emu_now());
    int rc = sqlite3_step(st);
    emu_stmt_done(st);
    if (rc != SQLITE_DONE) {
        s3_internal(resp, "create bucket");
        goto out;
    }
    if (s3_create_bucket_settings(req, resp, name) != 0) {
        goto out;
    }
    resp->status = 200;
    emu_resp_header(resp, "Location", "/%s", name);
out:
    s3_xml_free(x);
}

static void s3_head_bucket(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0) {
        return;
    }
    resp->status = 200;
    emu_resp_header(resp, "x-amz-bucket-region", "%s", b.region);
    emu_resp_header(resp, "x-amz-access-point-alias", "false");
}

static void s3_delete_bucket(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0) {
        return;
    }
    int busy = 0;
    sqlite3_stmt *st = emu_stmt("SELECT 1 FROM s3_objects WHERE bucket = ? LIMIT 1");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, b.name, -1, SQLITE_TRANSIENT);
        busy |= sqlite3_step(st) == SQLITE_ROW;
        emu_stmt_done(st);
    }
    st = emu_stmt("SELECT 1 FROM s3_uploads WHERE bucket = ? LIMIT 1");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, b.name, -1, SQLITE_TRANSIENT);
        busy |= sqlite3_step(st) == SQLITE_ROW;
        emu_stmt_done(st);
    }
    if (busy) {
        emu_fail(resp, S3_BUCKET_NOT_EMPTY, NULL);
        emu_fail_extra(resp, "BucketName", b.name);
        return;
    }
    st = emu_stmt("DELETE FROM s3_buckets WHERE name = ?");
    if (st == NULL) {
        s3_internal(resp, "delete bucket");
        return;
    }
    sqlite3_bind_text(st, 1, b.name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    emu_stmt_done(st);
    /* the bucket's completed-upload records go with it */
    st = rc == SQLITE_DONE ? emu_stmt("DELETE FROM s3_completed WHERE bucket = ?") : NULL;
    if (st != NULL) {
        sqlite3_bind_text(st, 1, b.name, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        emu_stmt_done(st);
    }
    if (rc != SQLITE_DONE) {
        s3_internal(resp, "delete bucket");
        return;
    }
    resp->status = 204;
}

static void s3_get_bucket_location(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0) {
        return;
    }
    struct emu_buf x = {0};
    emu_buf_puts(&x, "<LocationConstraint xmlns=\"" S3_NS "\">");
    if (strcmp(b.region, "us-east-1") != 0) {
        emu_buf_xml_escape(&x, b.region);
    }
    emu_buf_puts(&x, "</LocationConstraint>");
    emu_resp_xml(resp, 200, x.data);
    emu_buf_release(&x);
}

/* Runs "UPDATE s3_buckets SET <col> = ? WHERE name = ?" for a static SQL. */
static int s3_bucket_set(struct emu_response *resp, const char *sql, const char *name,
                         const char *value)
{
    sqlite3_stmt *st = emu_stmt(sql);
    if (st == NULL) {
        s3_internal(resp, "update bucket");
        return -1;
    }
    if (value != NULL) {
        sqlite3_bind_text(st, 1, value, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(st, 1);
    }
    sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    emu_stmt_done(st);
    if (rc != SQLITE_DONE) {
        s3_internal(resp, "update bucket");
        return -1;
    }
    return 0;
}

/* Reads one text column of a bucket row (static SQL "SELECT col FROM
 * s3_buckets WHERE name = ?"). Returns a copy or NULL when NULL. */
static char *s3_bucket_col(const char *sql, const char *name)
{
    char *v = NULL;
    sqlite3_stmt *st = emu_stmt(sql);
    if (st == NULL) {
        return NULL;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        v = emu_col_dup(st, 0);
    }
    emu_stmt_done(st);
    return v;
}

static void s3_put_bucket_versioning(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0) {
        return;
    }
    struct s3_xml *x = s3_body_xml(req, resp);
    if (x == NULL) {
        return;
    }
    const char *status = s3_xml_text(x, "Status");
    if (strcmp(x->name, "VersioningConfiguration") != 0 ||
        (status != NULL && strcmp(status, "Enabled") != 0 && strcmp(status, "Suspended") != 0)) {
        emu_fail(resp, S3_MALFORMED_XML, NULL);
        goto out;
    }
    if (status == NULL) {
        emu_fail(resp, S3_ILLEGAL_VERSIONING_CONFIGURATION, NULL);
        goto out;
    }
    if (s3_bucket_set(resp, "UPDATE s3_buckets SET versioning = ? WHERE name = ?", b.name,
                      status) == 0) {
        resp->status = 200;
    }
out:
    s3_xml_free(x);
}

static void s3_get_bucket_versioning(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0) {
        return;
    }
    struct emu_buf x = {0};
    emu_buf_puts(&x, "<VersioningConfiguration xmlns=\"" S3_NS "\">");
    if (b.versioning[0] != 0) {
        emu_buf_xml_elem(&x, "Status", b.versioning);
    }
    emu_buf_puts(&x, "</VersioningConfiguration>");
    emu_resp_xml(resp, 200, x.data);
    emu_buf_release(&x);
}

static void s3_put_bucket_policy(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0) {
        return;
    }
    cJSON *doc = NULL;
    const char *p = req->body != NULL ? req->body : "";
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
        p++;
    }
    if (*p != '{' || (doc = cJSON_ParseWithLength(req->body, req->body_len)) == NULL ||
        !cJSON_IsObject(doc)) {
        emu_fail(resp, S3_MALFORMED_POLICY,
                 "Policies must be valid JSON and the first byte must be '{'");
        goto out;
    }
    cJSON *stmts = cJSON_GetObjectItemCaseSensitive(doc, "Statement");
    if (stmts == NULL || !(cJSON_IsArray(stmts) || cJSON_IsObject(stmts)) ||
        (cJSON_IsArray(stmts) && cJSON_GetArraySize(stmts) == 0)) {
        emu_fail(resp, S3_MALFORMED_POLICY, "Missing required field Statement");
        goto out;
    }
    if (s3_bucket_set(resp, "UPDATE s3_buckets SET policy = ? WHERE name = ?", b.name, req->body) ==
        0) {
        resp->status = 204;
    }
out:
    cJSON_Delete(doc);
}

static void s3_get_bucket_policy(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0) {
        return;
    }
    char *p = s3_bucket_col("SELECT policy FROM s3_buckets WHERE name = ?", b.name);
    if (p == NULL) {
        emu_fail(resp, S3_NO_SUCH_BUCKET_POLICY, NULL);
        emu_fail_extra(resp, "BucketName", b.name);
        return;
    }
    emu_resp_body(resp, 200, "application/json", p, strlen(p));
    free(p);
}

static void s3_delete_bucket_policy(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0) {
        return;
    }
    if (s3_bucket_set(resp, "UPDATE s3_buckets SET policy = ? WHERE name = ?", b.name, NULL) == 0) {
        resp->status = 204;
    }
}

/* Validates a <Tagging><TagSet><Tag>... body into a JSON array of
 * {"Key","Value"}. Returns the tree (caller deletes) or NULL (resp failed). */
cJSON *s3_parse_tagging(struct emu_request *req, struct emu_response *resp, int max_tags)
{
    struct s3_xml *x = s3_body_xml(req, resp);
    cJSON *arr = NULL;
    if (x == NULL) {
        return NULL;
    }
    struct s3_xml *set = s3_xml_child(x, "TagSet");
    if (strcmp(x->name, "Tagging") != 0 || set == NULL) {
        emu_fail(resp, S3_MALFORMED_XML, NULL);
        goto out;
    }
    arr = cJSON_CreateArray();
    int n = 0;
    for (struct s3_xml *t = s3_xml_child(set, "Tag"); t != NULL; t = s3_xml_next(t)) {
        const char *k = s3_xml_text(t, "Key");
        const char *v = s3_xml_text(t, "Value");
        if (k == NULL || v == NULL) {
            emu_fail(resp, S3_MALFORMED_XML, NULL);
            goto fail;
        }
        if (strlen(k) == 0 || strlen(k) > 128) {
            emu_fail(resp, S3_INVALID_TAG, "The TagKey you have provided is invalid");
            goto fail;
        }
        if (strlen(v) > 256) {
            emu_fail(resp, S3_INVALID_TAG, "The TagValue you have provided is invalid");
            goto fail;
        }
        cJSON *e;
        cJSON_ArrayForEach(e, arr)
        {
            if (strcmp(cJSON_GetObjectItem(e, "Key")->valuestring, k) == 0) {
                emu_fail(resp, S3_INVALID_TAG, "Cannot provide multiple Tags with the same key");
                goto fail;
            }
        }
        if (++n > max_tags) {
            emu_fail(resp, S3_INVALID_TAG, "Object tags cannot be greater than %d", max_tags);
            goto fail;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "Key", k);
        cJSON_AddStringToObject(o, "Value", v);
        cJSON_AddItemToArray(arr, o);
    }
    goto out;
fail:
    cJSON_Delete(arr);
    arr = NULL;
out:
    s3_xml_free(x);
    return arr;
}

/* Renders a JSON tag array as a <Tagging> document into resp. */
void s3_tagging_xml(struct emu_response *resp, const char *json)
{
    struct emu_buf x = {0};
    cJSON *arr = cJSON_Parse(json != NULL ? json : "[]");
    emu_buf_puts(&x, "<Tagging xmlns=\"" S3_NS "\"><TagSet>");
    cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        cJSON *k = cJSON_GetObjectItem(e, "Key");
        cJSON *v = cJSON_GetObjectItem(e, "Value");
        if (cJSON_IsString(k) && cJSON_IsString(v)) {
            emu_buf_puts(&x, "<Tag>");
            emu_buf_xml_elem(&x, "Key", k->valuestring);
            emu_buf_xml_elem(&x, "Value", v->valuestring);
            emu_buf_puts(&x, "</Tag>");
        }
    }
    emu_buf_puts(&x, "</TagSet></Tagging>");
    cJSON_Delete(arr);
    emu_resp_xml(resp, 200, x.data);
    emu_buf_release(&x);
}

static void s3_put_bucket_tagging(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0) {
        return;
    }
    cJSON *arr = s3_parse_tagging(req, resp, 50);
    if (arr == NULL) {
        return;
    }
    char *json = cJSON_PrintUnformatted(arr);
    cJSON_Delete(arr);
    if (s3_bucket_set(resp, "UPDATE s3_buckets SET tagging = ? WHERE name = ?", b.name, json) ==
        0) {
        resp->status = 204;
    }
    free(json);
}

static void s3_get_bucket_tagging(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0) {
        return;
    }
    char *t = s3_bucket_col("SELECT tagging FROM s3_buckets WHERE name = ?", b.name);
    if (t == NULL) {
        emu_fail(resp, S3_NO_SUCH_TAG_SET, NULL);
        emu_fail_extra(resp, "BucketName", b.name);
        return;
    }
    s3_tagging_xml(resp, t);
    free(t);
}

static void s3_delete_bucket_tagging(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0) {
        return;
    }
    if (s3_bucket_set(resp, "UPDATE s3_buckets SET tagging = ? WHERE name = ?", b.name, NULL) ==
        0) {
        resp->status = 204;
    }
}

static void s3_invalid_uri(struct emu_request *req, struct emu_response *resp)
{
    emu_fail(resp, S3_INVALID_URI, NULL);
    emu_fail_extra(resp, "URI", req->path != NULL ? req->path : "");
}

static void s3_not_implemented(struct emu_request *req, struct emu_response *resp)
{
    (void)req;
    emu_fail(resp, S3_NOT_IMPLEMENTED, NULL);
}
