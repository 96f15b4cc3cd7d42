/*
 * s3_object.c - S3 object actions: PutObject, GetObject, HeadObject,
 * DeleteObject, DeleteObjects, CopyObject, ListObjects, ListObjectsV2,
 * ListObjectVersions, GetObjectAttributes, Put/Get/DeleteObjectTagging; and
 * the helpers that read and write object versions (s3_int.h).
 *
 * Versioning: an unversioned or suspended bucket writes version "null"
 * (replacing the previous "null" version); an enabled bucket adds a version
 * with a random id. Exactly one row per key has is_latest = 1 while any row
 * of the key exists; a delete marker can be that row.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "s3_int.h"

/* Bodies up to this size are answered from memory (GET), larger ones as a
 * file range streamed by the core. */
#define S3_INLINE_MAX (64 * 1024)

static const char *const s3_algos[] = {"crc32", "crc32c", "sha1", "sha256", "crc64nvme", NULL};

/* --------------------------------------------------------------- metadata */

void s3_meta_release(struct s3_meta *m)
{
    free(m->content_type);
    free(m->cache_control);
    free(m->content_disposition);
    free(m->content_encoding);
    free(m->content_language);
    free(m->expires);
    free(m->user);
    free(m->storage_class);
    free(m->sse);
    free(m->sse_kms_key_id);
    memset(m, 0, sizeof(*m));
}

static char *s3_dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

void s3_meta_dup(struct s3_meta *dst, const struct s3_meta *src)
{
    dst->content_type = s3_dup_or_null(src->content_type);
    dst->cache_control = s3_dup_or_null(src->cache_control);
    dst->content_disposition = s3_dup_or_null(src->content_disposition);
    dst->content_encoding = s3_dup_or_null(src->content_encoding);
    dst->content_language = s3_dup_or_null(src->content_language);
    dst->expires = s3_dup_or_null(src->expires);
    dst->user = s3_dup_or_null(src->user);
    dst->storage_class = s3_dup_or_null(src->storage_class);
    dst->sse = s3_dup_or_null(src->sse);
    dst->sse_kms_key_id = s3_dup_or_null(src->sse_kms_key_id);
}

/* StorageClass of the S3 model (what x-amz-storage-class may say). */
static const char *const s3_classes[] = {
    "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
    "GLACIER", "DEEP_ARCHIVE", "OUTPOSTS", "GLACIER_IR", "SNOW", "EXPRESS_ONEZONE",
    "FSX_OPENZFS", "FSX_ONTAP", NULL,
};

int s3_meta_check(struct emu_request *req, struct emu_response *resp)
{
    const char *sc = emu_header(req, "x-amz-storage-class");
    if (sc != NULL) {
        size_t i = 0;
        while (s3_classes[i] != NULL && strcmp(s3_classes[i], sc) != 0) {
            i++;
        }
        if (s3_classes[i] == NULL) {
            emu_fail(resp, S3_INVALID_STORAGE_CLASS, NULL);
            emu_fail_extra(resp, "StorageClassRequested", sc);
            return -1;
        }
    }
    const char *sse = emu_header(req, "x-amz-server-side-encryption");
    if (sse != NULL && strcmp(sse, "AES256") != 0 && strcmp(sse, "aws:kms") != 0 &&
        strcmp(sse, "aws:kms:dsse") != 0) {
        emu_fail(resp, S3_INVALID_ARGUMENT, "The encryption method specified is not supported");
        emu_fail_extra(resp, "ArgumentName", "x-amz-server-side-encryption");
        emu_fail_extra(resp, "ArgumentValue", sse);
        return -1;
    }
    const char *kid = emu_header(req, "x-amz-server-side-encryption-aws-kms-key-id");
    if (kid != NULL && (sse == NULL || strncmp(sse, "aws:kms", 7) != 0)) {
        emu_fail(resp, S3_INVALID_ARGUMENT,
                 "Server Side Encryption with AWS KMS managed key requires HTTP header "
                 "x-amz-server-side-encryption : aws:kms");
        emu_fail_extra(resp, "ArgumentName", "x-amz-server-side-encryption");
        return -1;
    }
    return 0;
}

void s3_meta_class_from_req(const struct emu_request *req, struct s3_meta *m)
{
    free(m->storage_class);
    free(m->sse);
    free(m->sse_kms_key_id);
    m->storage_class = NULL;
    m->sse = NULL;
    m->sse_kms_key_id = NULL;
    const char *sc = emu_header(req, "x-amz-storage-class");
    if (sc != NULL && strcmp(sc, "STANDARD") != 0) {
        m->storage_class = strdup(sc);
    }
    const char *sse = emu_header(req, "x-amz-server-side-encryption");
    if (sse != NULL && strncmp(sse, "aws:kms", 7) == 0) {
        m->sse = strdup(sse);
        const char *kid = emu_header(req, "x-amz-server-side-encryption-aws-kms-key-id");
        if (kid != NULL && kid[0] != 0) {
            m->sse_kms_key_id = strdup(kid);
        } else {
            /* no key named: the account's AWS managed key for S3 */
            char arn[128];
            snprintf(arn, sizeof(arn), "arn:aws:kms:%s:%s:alias/aws/s3", req->region,
                     req->account);
            m->sse_kms_key_id = strdup(arn);
        }
    }
}

void s3_meta_sse_headers(struct emu_response *resp, const struct s3_meta *m)
{
    if (m->storage_class != NULL && strcmp(m->storage_class, "STANDARD") != 0) {
        emu_resp_header(resp, "x-amz-storage-class", "%s", m->storage_class);
    }
    if (m->sse != NULL) {
        emu_resp_header(resp, "x-amz-server-side-encryption", "%s", m->sse);
        if (m->sse_kms_key_id != NULL) {
            emu_resp_header(resp, "x-amz-server-side-encryption-aws-kms-key-id", "%s",
                            m->sse_kms_key_id);
        }
    } else {
        emu_resp_header(resp, "x-amz-server-side-encryption", "AES256");
    }
}

const char *s3_meta_class(const struct s3_meta *m)
{
    return m->storage_class != NULL ? m->storage_class : "STANDARD";
}

/* Content-Encoding without the aws-chunked token; NULL when nothing is left. */
static char *s3_strip_aws_chunked(const char *ce)
{
    if (ce == NULL) {
        return NULL;
    }
    struct emu_buf b = {0};
    const char *p = ce;
    while (*p != 0) {
        while (*p == ' ' || *p == ',') {
            p++;
        }
        size_t n = strcspn(p, ",");
        size_t t = n;
        while (t > 0 && p[t - 1] == ' ') {
            t--;
        }
        if (t > 0 && !(t == 11 && strncasecmp(p, "aws-chunked", 11) == 0)) {
            if (b.len > 0) {
                emu_buf_puts(&b, ",");
            }
            emu_buf_append(&b, p, t);
        }
        p += n;
    }
    if (b.len == 0) {
        emu_buf_release(&b);
        return NULL;
    }
    return emu_buf_take(&b);
}

void s3_meta_from_req(const struct emu_request *req, struct s3_meta *m)
{
    memset(m, 0, sizeof(*m));
    m->content_type = s3_dup_or_null(emu_header(req, "content-type"));
    m->cache_control = s3_dup_or_null(emu_header(req, "cache-control"));
    m->content_disposition = s3_dup_or_null(emu_header(req, "content-disposition"));
    m->content_encoding = s3_strip_aws_chunked(emu_header(req, "content-encoding"));
    m->content_language = s3_dup_or_null(emu_header(req, "content-language"));
    m->expires = s3_dup_or_null(emu_header(req, "expires"));
    cJSON *u = NULL;
    for (size_t i = 0; i < req->headers.n; i++) {
        const char *k = req->headers.items[i].key;
        if (strncasecmp(k, "x-amz-meta-", 11) == 0 && k[11] != 0) {
            if (u == NULL) {
                u = cJSON_CreateObject();
            }
            char name[256];
            snprintf(name, sizeof(name), "%s", k + 11);
            for (char *c = name; *c; c++) {
                *c = (char)tolower((unsigned char)*c);
            }
            cJSON_DeleteItemFromObjectCaseSensitive(u, name);
            cJSON_AddStringToObject(u, name, req->headers.items[i].value);
        }
    }
    if (u != NULL) {
        m->user = cJSON_PrintUnformatted(u);
        cJSON_Delete(u);
    }
    s3_meta_class_from_req(req, m);
}

/* Total size of user metadata (names + values) as AWS counts it. */
static size_t s3_meta_user_size(const struct s3_meta *m)
{
    size_t n = 0;
    cJSON *u = m->user ? cJSON_Parse(m->user) : NULL;
    cJSON *e;
    cJSON_ArrayForEach(e, u)
    {
        n += strlen(e->string) + (cJSON_IsString(e) ? strlen(e->valuestring) : 0);
    }
    cJSON_Delete(u);
    return n;
}

/* x-amz-tagging (query-string form) as a JSON tag array, or NULL. Returns
 * 0, -1 with resp failed. */
static int s3_tagging_header(const struct emu_request *req, struct emu_response *resp, char **out)
{
    *out = NULL;
    const char *t = emu_header(req, "x-amz-tagging");
    if (t == NULL) {
        return 0;
    }
    struct emu_kvlist l = {0};
    if (emu_parse_query(&l, t, strlen(t), 1) != 0 || l.n > 10) {
        emu_kv_release(&l);
        emu_fail(resp, S3_INVALID_TAG, "The TagValue you have provided is invalid");
        return -1;
    }
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < l.n; i++) {
        if (l.items[i].key[0] == 0 || strlen(l.items[i].key) > 128 ||
            strlen(l.items[i].value) > 256) {
            cJSON_Delete(arr);
            emu_kv_release(&l);
            emu_fail(resp, S3_INVALID_TAG, "The TagKey you have provided is invalid");
            return -1;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "Key", l.items[i].key);
        cJSON_AddStringToObject(o, "Value", l.items[i].value);
        cJSON_AddItemToArray(arr, o);
    }
    *out = cJSON_PrintUnformatted(arr);
    cJSON_Delete(arr);
    emu_kv_release(&l);
    return 0;
}

/* ------------------------------------------------------------ object rows */

#define S3_OBJ_COLS                                                                                \
    "id, version_id, is_latest, delete_marker, size, etag, mtime, content_type, cache_control,"    \
    " content_disposition, content_encoding, content_language, expires, meta, checksum_algo,"      \
    " checksum, parts, blob, tagging, part_sizes, part_checksums, storage_class, sse,"           \
    " sse_kms_key_id"

static char *s3_col_or_null(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? NULL : emu_col_dup(st, col);
}

static void s3_obj_from_row(sqlite3_stmt *st, struct s3_obj *o)
{
    memset(o, 0, sizeof(*o));
    o->id = sqlite3_column_int64(st, 0);
    snprintf(o->version_id, sizeof(o->version_id), "%s", sqlite3_column_text(st, 1));
    o->is_latest = sqlite3_column_int(st, 2);
    o->delete_marker = sqlite3_column_int(st, 3);
    o->size = sqlite3_column_int64(st, 4);
    snprintf(o->etag, sizeof(o->etag), "%s", sqlite3_column_text(st, 5));
    o->mtime = sqlite3_column_double(st, 6);
    o->meta.content_type = s3_col_or_null(st, 7);
    o->meta.cache_control = s3_col_or_null(st, 8);
    o->meta.content_disposition = s3_col_or_null(st, 9);
    o->meta.content_encoding = s3_col_or_null(st, 10);
    o->meta.content_language = s3_col_or_null(st, 11);
    o->meta.expires = s3_col_or_null(st, 12);
    o->meta.user = s3_col_or_null(st, 13);
    const unsigned char *t = sqlite3_column_text(st, 14);
    snprintf(o->checksum_algo, sizeof(o->checksum_algo), "%s", t ? (const char *)t : "");
    t = sqlite3_column_text(st, 15);
    snprintf(o->checksum, sizeof(o->checksum), "%s", t ? (const char *)t : "");
    o->parts = sqlite3_column_int(st, 16);
    t = sqlite3_column_text(st, 17);
    snprintf(o->blob, sizeof(o->blob), "%s", t ? (const char *)t : "");
    t = sqlite3_column_text(st, 18);
    if (t != NULL) {
        cJSON *tags = cJSON_Parse((const char *)t);
        o->tag_count = cJSON_GetArraySize(tags);
        cJSON_Delete(tags);
    }
    o->part_sizes = s3_col_or_null(st, 19);
    o->part_checksums = s3_col_or_null(st, 20);
    o->meta.storage_class = s3_col_or_null(st, 21);
    o->meta.sse = s3_col_or_null(st, 22);
    o->meta.sse_kms_key_id = s3_col_or_null(st, 23);
}

void s3_obj_release(struct s3_obj *o)
{
    s3_meta_release(&o->meta);
    free(o->part_sizes);
    o->part_sizes = NULL;
    free(o->part_checksums);
    o->part_checksums = NULL;
}

int s3_obj_load(const char *bucket, const char *key, const char *version, struct s3_obj *o)
{
    sqlite3_stmt *st;
    if (version == NULL) {
        st = emu_stmt("SELECT " S3_OBJ_COLS
                      " FROM s3_objects WHERE bucket = ? AND key = ? AND is_latest = 1");
    } else {
        st = emu_stmt("SELECT " S3_OBJ_COLS
                      " FROM s3_objects WHERE bucket = ? AND key = ? AND version_id = ?");
    }
    if (st == NULL) {
        return -1;
    }
    sqlite3_bind_text(st, 1, bucket, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
    if (version != NULL) {
        sqlite3_bind_text(st, 3, version, -1, SQLITE_TRANSIENT);
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        s3_obj_from_row(st, o);
    }
    emu_stmt_done(st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

/* Deletes every "null" version of a key, queueing their files. */
static int s3_drop_null_version(const struct emu_request *req, const char *bucket, const char *key)
{
    sqlite3_stmt *st = emu_stmt(
        "SELECT blob FROM s3_objects WHERE bucket = ? AND key = ? AND version_id = 'null'");
    if (st == NULL) {
        return -1;
    }
    sqlite3_bind_text(st, 1, bucket, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
    struct emu_kvlist blobs = {0};
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
            emu_kv_add(&blobs, (const char *)sqlite3_column_text(st, 0), "");
        }
    }
    emu_stmt_done(st);
    for (size_t i = 0; i < blobs.n; i++) {
        s3_gc_add(req, blobs.items[i].key);
    }
    emu_kv_release(&blobs);
    st = emu_stmt("DELETE FROM s3_objects WHERE bucket = ? AND key = ? AND version_id = 'null'");
    if (st == NULL) {
        return -1;
    }
    sqlite3_bind_text(st, 1, bucket, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    emu_stmt_done(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int s3_unset_latest(const char *bucket, const char *key)
{
    sqlite3_stmt *st = emu_stmt(
        "UPDATE s3_objects SET is_latest = 0 WHERE bucket = ? AND key = ? AND is_latest = 1");
    if (st == NULL) {
        return -1;
    }
    sqlite3_bind_text(st, 1, bucket, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    emu_stmt_done(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void s3_bind_opt(sqlite3_stmt *st, int i, const char *v)
{
    if (v != NULL && v[0] != 0) {
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(st, i);
    }
}

int s3_obj_write(const struct emu_request *req, const struct s3_bucket *b, const char *key,
                 const struct s3_newobj *n, char version_out[40])
{
    static const struct s3_meta none;
    const struct s3_meta *m = n->meta != NULL ? n->meta : &none;
    if (strcmp(b->versioning, "Enabled") == 0) {
        emu_random_alnum(version_out, 32, 0);
        version_out[32] = 0;
    } else {
        snprintf(version_out, 40, "null");
        if (s3_drop_null_version(req, b->name, key) != 0) {
            return -1;
        }
    }
    if (s3_unset_latest(b->name, key) != 0) {
        return -1;
    }
    sqlite3_stmt *st = emu_stmt(
        "INSERT INTO s3_objects(account, region, bucket, key, version_id, is_latest,"
        " delete_marker, size, etag, mtime, content_type, cache_control, content_disposition,"
        " content_encoding, content_language, expires, meta, checksum_algo, checksum, parts, blob,"
        " part_sizes, part_checksums, storage_class, sse, sse_kms_key_id)"
        " VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (st == NULL) {
        return -1;
    }
    sqlite3_bind_text(st, 1, b->account, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, b->region, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, b->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, version_out, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 6, n->delete_marker);
    sqlite3_bind_int64(st, 7, n->size);
    sqlite3_bind_text(st, 8, n->etag != NULL ? n->etag : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 9, emu_now());
    s3_bind_opt(st, 10, m->content_type);
    s3_bind_opt(st, 11, m->cache_control);
    s3_bind_opt(st, 12, m->content_disposition);
    s3_bind_opt(st, 13, m->content_encoding);
    s3_bind_opt(st, 14, m->content_language);
    s3_bind_opt(st, 15, m->expires);
    s3_bind_opt(st, 16, m->user);
    s3_bind_opt(st, 17, n->checksum_algo);
    s3_bind_opt(st, 18, n->checksum);
    sqlite3_bind_int(st, 19, n->parts);
    s3_bind_opt(st, 20, n->blob);
    s3_bind_opt(st, 21, n->part_sizes);
    s3_bind_opt(st, 22, n->part_checksums);
    s3_bind_opt(st, 23, m->storage_class);
    s3_bind_opt(st, 24, m->sse);
    s3_bind_opt(st, 25, m->sse_kms_key_id);
    int rc = sqlite3_step(st);
    emu_stmt_done(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Removes one version row, queueing its file; promotes the newest remaining
 * version when it was the latest. */
static int s3_obj_remove(const struct emu_request *req, const char *bucket, const char *key,
                         const struct s3_obj *o)
{
    s3_gc_add(req, o->blob);
    sqlite3_stmt *st = emu_stmt("DELETE FROM s3_objects WHERE id = ?");
    if (st == NULL) {
        return -1;
    }
    sqlite3_bind_int64(st, 1, o->id);
    int rc = sqlite3_step(st);
    emu_stmt_done(st);
    if (rc != SQLITE_DONE) {
        return -1;
    }
    if (o->is_latest) {
        st = emu_stmt("UPDATE s3_objects SET is_latest = 1 WHERE id = (SELECT max(id) FROM "
                      "s3_objects WHERE bucket = ? AND key = ?)");
        if (st == NULL) {
            return -1;
        }
        sqlite3_bind_text(st, 1, bucket, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        emu_stmt_done(st);
        if (rc != SQLITE_DONE) {
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------- integrity */

static void s3_upload_checksum_raw(const struct emu_upload *u, const char *algo, char out[96])
{
    unsigned char be[8];
    out[0] = 0;
    if (strcmp(algo, "crc32") == 0 || strcmp(algo, "crc32c") == 0) {
        uint32_t v = strcmp(algo, "crc32") == 0 ? u->crc32 : u->crc32c;
        be[0] = (unsigned char)(v >> 24);
        be[1] = (unsigned char)(v >> 16);
        be[2] = (unsigned char)(v >> 8);
        be[3] = (unsigned char)v;
        s3_b64(be, 4, out, 96);
    } else if (strcmp(algo, "crc64nvme") == 0) {
        for (int i = 0; i < 8; i++) {
            be[i] = (unsigned char)(u->crc64nvme >> (56 - 8 * i));
        }
        s3_b64(be, 8, out, 96);
    } else if (strcmp(algo, "sha1") == 0) {
        s3_b64(u->sha1, 20, out, 96);
    } else if (strcmp(algo, "sha256") == 0) {
        s3_b64(u->sha256, 32, out, 96);
    }
}

void s3_upload_checksum(const struct emu_upload *u, const char *algo, char out[96])
{
    char lower[16];
    size_t i = 0;
    for (; algo[i] != 0 && i < sizeof(lower) - 1; i++) {
        lower[i] = (char)tolower((unsigned char)algo[i]);
    }
    lower[i] = 0;
    s3_upload_checksum_raw(u, lower, out);
}

static const char *s3_algo_upper(const char *algo)
{
    if (strcmp(algo, "crc32") == 0) {
        return "CRC32";
    }
    if (strcmp(algo, "crc32c") == 0) {
        return "CRC32C";
    }
    if (strcmp(algo, "sha1") == 0) {
        return "SHA1";
    }
    if (strcmp(algo, "sha256") == 0) {
        return "SHA256";
    }
    if (strcmp(algo, "crc64nvme") == 0) {
        return "CRC64NVME";
    }
    return "";
}

static int s3_is_b64(const char *s, size_t want_len)
{
    size_t n = strlen(s);
    if (n != want_len) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!(isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '/' || s[i] == '=')) {
            return 0;
        }
    }
    return 1;
}

int s3_check_upload(struct emu_request *req, struct emu_response *resp, const struct emu_upload *u,
                    char algo[16], char value[96])
{
    algo[0] = 0;
    value[0] = 0;
    const char *md5 = emu_header(req, "content-md5");
    if (md5 != NULL) {
        char mine[32];
        s3_b64(u->md5, 16, mine, sizeof(mine));
        if (!s3_is_b64(md5, 24)) {
            emu_fail(resp, S3_INVALID_DIGEST, NULL);
            emu_fail_extra(resp, "Content-MD5", md5);
            return -1;
        }
        if (strcmp(md5, mine) != 0) {
            emu_fail(resp, S3_BAD_DIGEST, NULL);
            emu_fail_extra(resp, "ExpectedDigest", md5);
            return -1;
        }
    }
    /* x-amz-content-sha256 is verified by the core against the raw body. */
    const char *dl = emu_header(req, "x-amz-decoded-content-length");
    if (dl != NULL) {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(dl, &end, 10);
        if (errno != 0 || end == dl || *end != 0 || v < 0 || (uint64_t)v != u->size) {
            emu_fail(resp, S3_INCOMPLETE_BODY, NULL);
            return -1;
        }
    }
    /* one x-amz-checksum-<algo> at most (header or aws-chunked trailer) */
    const char *given = NULL;
    for (size_t i = 0; s3_algos[i] != NULL; i++) {
        char name[48];
        snprintf(name, sizeof(name), "x-amz-checksum-%s", s3_algos[i]);
        const char *v = emu_header(req, name);
        if (v == NULL) {
            v = emu_kv_getci(&u->trailers, name);
        }
        if (v == NULL) {
            continue;
        }
        if (given != NULL) {
            emu_fail(resp, S3_INVALID_REQUEST,
                     "Expecting a single x-amz-checksum- header. Multiple checksum Types are not "
                     "allowed.");
            return -1;
        }
        if (!s3_checksum_valid(s3_algos[i], v)) {
            emu_fail(resp, S3_INVALID_REQUEST, "Value for %s header is invalid.", name);
            return -1;
        }
        given = v;
        snprintf(algo, 16, "%s", s3_algos[i]);
    }
    const char *trailer = emu_header(req, "x-amz-trailer");
    if (trailer != NULL && strncasecmp(trailer, "x-amz-checksum-", 15) == 0 &&
        emu_kv_getci(&u->trailers, trailer) == NULL) {
        emu_fail(resp, S3_INCOMPLETE_BODY, NULL);
        return -1;
    }
    /* no value: the algorithm the client named (the core computed it) */
    const char *named = emu_header(req, "x-amz-sdk-checksum-algorithm");
    if (named == NULL) {
        named = emu_header(req, "x-amz-checksum-algorithm");
    }
    if (given == NULL && named != NULL) {
        size_t i = 0;
        for (; named[i] != 0 && i < 15; i++) {
            algo[i] = (char)tolower((unsigned char)named[i]);
        }
        algo[i] = 0;
        if (named[i] != 0 || s3_checksum_size(algo) == 0) {
            algo[0] = 0;
            emu_fail(resp, S3_INVALID_REQUEST,
                     "Checksum algorithm provided is unsupported. Please try again with any of "
                     "the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]");
            return -1;
        }
    }
    if (algo[0] == 0) {
        return 0;
    }
    s3_upload_checksum_raw(u, algo, value);
    if (given != NULL && strcmp(given, value) != 0) {
        emu_fail(resp, S3_BAD_DIGEST, "The %s you specified did not match the calculated checksum.",
                 s3_algo_upper(algo));
        algo[0] = 0;
        value[0] = 0;
        return -1;
    }
    return 0;
}

/* ----------------------------------------------------------- preconditions */

/* Does etag (unquoted) match one entry of an If-Match / If-None-Match list? */
static int s3_etag_match(const char *list, const char *etag)
{
    const char *p = list;
    size_t el = strlen(etag);
    while (*p != 0) {
        while (*p == ' ' || *p == ',') {
            p++;
        }
        size_t n = strcspn(p, ",");
        const char *s = p;
        size_t t = n;
        while (t > 0 && s[t - 1] == ' ') {
            t--;
        }
        if (t >= 2 && s[0] == 'W' && s[1] == '/') {
            s += 2;
            t -= 2;
        }
        if (t >= 2 && s[0] == '"' && s[t - 1] == '"') {
            s++;
            t -= 2;
        }
        if ((t == 1 && s[0] == '*') || (t == el && memcmp(s, etag, el) == 0)) {
            return 1;
        }
        p += n;
    }
    return 0;
}

int s3_write_preconditions(struct emu_request *req, struct emu_response *resp,
                           const struct s3_bucket *b, const char *key)
{
    const char *inm = emu_header(req, "if-none-match");
    const char *im = emu_header(req, "if-match");
    if (inm == NULL && im == NULL) {
        return 0;
    }
    struct s3_obj o;
    int rc = s3_obj_load(b->name, key, NULL, &o);
    if (rc < 0) {
        s3_internal(resp, "load object");
        return -1;
    }
    int exists = rc == 0 && !o.delete_marker;
    int ok = 0;
    if (inm != NULL) {
        const char *t = inm;
        while (*t == ' ') {
            t++;
        }
        if (strcmp(t, "*") != 0) {
            emu_fail(resp, S3_NOT_IMPLEMENTED, NULL);
            emu_fail_extra(resp, "Header", "If-None-Match");
            goto out;
        }
        if (exists) {
            emu_fail(resp, S3_PRECONDITION_FAILED, NULL);
            emu_fail_extra(resp, "Condition", "If-None-Match");
            goto out;
        }
    }
    if (im != NULL) {
        if (!exists) {
            emu_fail(resp, S3_NO_SUCH_KEY, NULL);
            emu_fail_extra(resp, "Key", key);
            goto out;
        }
        if (!s3_etag_match(im, o.etag)) {
            emu_fail(resp, S3_PRECONDITION_FAILED, NULL);
            emu_fail_extra(resp, "Condition", "If-Match");
            goto out;
        }
    }
    ok = 1;
out:
    if (rc == 0) {
        s3_obj_release(&o);
    }
    return ok ? 0 : -1;
}

/* ------------------------------------------------------------- PutObject */

static int s3_key_ok(struct emu_response *resp, const char *key)
{
    if (strlen(key) > 1024) {
        emu_fail(resp, S3_KEY_TOO_LONG, NULL);
        return 0;
    }
    return 1;
}

static void s3_version_header(struct emu_response *resp, const struct s3_bucket *b, const char *vid)
{
    if (b->versioning[0] != 0 || strcmp(vid, "null") != 0) {
        emu_resp_header(resp, "x-amz-version-id", "%s", vid);
    }
}

/* The transactional half of PutObject: bucket, preconditions and the new
 * version, for a body already adopted as blob. Returns 0, or -1 with resp
 * failed (the caller removes the blob). */
static int s3_put_object_txn(struct emu_request *req, struct emu_response *resp,
                             const struct emu_upload *u, const char *algo, const char *value,
                             const char *blob)
{
    struct s3_bucket b;
    struct s3_meta m = {0};
    char *tagging = NULL;
    int rc = -1;
    const char *key = s3_key(req);
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0 ||
        s3_write_preconditions(req, resp, &b, key) != 0 ||
        s3_tagging_header(req, resp, &tagging) != 0 || s3_meta_check(req, resp) != 0) {
        goto out;
    }
    s3_meta_from_req(req, &m);
    if (s3_meta_user_size(&m) > 2048) {
        emu_fail(resp, S3_METADATA_TOO_LARGE, NULL);
        goto out;
    }
    char etag[33], vid[40];
    emu_hex(u->md5, 16, etag);
    struct s3_newobj n = {
        .size = (int64_t)u->size,
        .etag = etag,
        .meta = &m,
        .checksum_algo = algo,
        .checksum = value,
        .blob = blob,
    };
    if (s3_obj_write(req, &b, key, &n, vid) != 0) {
        s3_internal(resp, "put object");
        goto out;
    }
    if (tagging != NULL) {
        sqlite3_stmt *st = emu_stmt("UPDATE s3_objects SET tagging = ? WHERE bucket = ? AND key = "
                                    "? AND is_latest = 1");
        if (st != NULL) {
            sqlite3_bind_text(st, 1, tagging, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 2, b.name, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 3, key, -1, SQLITE_TRANSIENT);
            sqlite3_step(st);
            emu_stmt_done(st);
        }
    }
    resp->status = 200;
    emu_resp_header(resp, "ETag", "\"%s\"", etag);
    s3_meta_sse_headers(resp, &m);
    s3_version_header(resp, &b, vid);
    if (algo[0] != 0) {
        emu_resp_header(resp, "x-amz-checksum-type", "FULL_OBJECT");
        char hn[48];
        snprintf(hn, sizeof(hn), "x-amz-checksum-%s", algo);
        emu_resp_header(resp, hn, "%s", value);
    }
    s3_notify(req, &b, key, "ObjectCreated:Put", n.size, etag, vid);
    rc = 0;
out:
    s3_meta_release(&m);
    free(tagging);
    return rc;
}

int s3_commit_upload(struct emu_request *req, struct emu_response *resp, const char *blob,
                     int (*txn)(struct emu_request *, struct emu_response *, const void *),
                     const void *arg)
{
    if (emu_store_begin(1) != 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
    } else {
        int ok = txn(req, resp, arg) == 0;
        if (emu_store_end(ok) != 0 && ok) {
            emu_kv_release(&resp->headers);
            emu_buf_release(&resp->body);
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        }
    }
    if (resp->failed) {
        char path[1024];
        s3_blob_path(blob, path, sizeof(path));
        unlink(path);
        return -1;
    }
    return 0;
}

struct s3_put_args {
    const struct emu_upload *u;
    const char *algo;
    const char *value;
    const char *blob;
};

static int s3_put_object_cb(struct emu_request *req, struct emu_response *resp, const void *arg)
{
    const struct s3_put_args *a = arg;
    return s3_put_object_txn(req, resp, a->u, a->algo, a->value, a->blob);
}

/* PutObject runs without the dispatcher's transaction (EMU_OP_NO_TXN): the
 * body is verified, fsynced and renamed into the objects dir first, with the
 * store unlocked; then one write transaction checks the bucket and the
 * preconditions and commits the version (so racing conditional writers
 * still see each other). */
void s3_put_object(struct emu_request *req, struct emu_response *resp)
{
    char blob[S3_BLOB_LEN] = "";
    struct emu_upload *u = req->upload;
    if (!s3_key_ok(resp, s3_key(req))) {
        return;
    }
    if (u == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    char algo[16], value[96];
    if (s3_check_upload(req, resp, u, algo, value) != 0) {
        return;
    }
    /* no checksum sent: S3's default, a full-object CRC64NVME (the core
     * computed it while streaming, EMU_OP_CRC64; else here, outside the
     * store lock) */
    if (algo[0] == 0 && u->has_crc64nvme) {
        s3_upload_checksum(u, "crc64nvme", value);
        snprintf(algo, sizeof(algo), "crc64nvme");
    } else if (algo[0] == 0 && s3_file_checksum(u->path, "crc64nvme", value) == 0) {
        snprintf(algo, sizeof(algo), "crc64nvme");
    }
    if (s3_blob_adopt(u->path, blob) != 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    u->path[0] = 0;
    struct s3_put_args a = {u, algo, value, blob};
    s3_commit_upload(req, resp, blob, s3_put_object_cb, &a);
}

/* ------------------------------------------------------- GetObject, Head */

/* Emits the stored metadata headers, with response-* overrides. */
static void s3_meta_headers(struct emu_request *req, struct emu_response *resp,
                            const struct s3_obj *o)
{
    static const struct {
        const char *header;
        const char *query;
        size_t off;
    } hs[] = {
        {"Content-Type", "response-content-type", offsetof(struct s3_meta, content_type)},
        {"Cache-Control", "response-cache-control", offsetof(struct s3_meta, cache_control)},
        {"Content-Disposition", "response-content-disposition",
         offsetof(struct s3_meta, content_disposition)},
        {"Content-Encoding", "response-content-encoding",
         offsetof(struct s3_meta, content_encoding)},
        {"Content-Language", "response-content-language",
         offsetof(struct s3_meta, content_language)},
        {"Expires", "response-expires", offsetof(struct s3_meta, expires)},
    };
    for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
        const char *v = emu_query(req, hs[i].query);
        if (v == NULL) {
            v = *(char *const *)((const char *)&o->meta + hs[i].off);
        }
        if (v == NULL && i == 0) {
            v = "binary/octet-stream";
        }
        if (v != NULL) {
            emu_resp_header(resp, hs[i].header, "%s", v);
        }
    }
    cJSON *u = o->meta.user != NULL ? cJSON_Parse(o->meta.user) : NULL;
    cJSON *e;
    cJSON_ArrayForEach(e, u)
    {
        if (cJSON_IsString(e)) {
            char hn[300];
            snprintf(hn, sizeof(hn), "x-amz-meta-%s", e->string);
            emu_resp_header(resp, hn, "%s", e->valuestring);
        }
    }
    cJSON_Delete(u);
}

/* Parses "bytes=a-b" / "bytes=a-" / "bytes=-n". Returns 1 with [*off, *len)
 * for a satisfiable range, 0 to ignore the header, -1 when unsatisfiable. */
static int s3_parse_range(const char *h, int64_t size, int64_t *off, int64_t *len)
{
    if (h == NULL || strncmp(h, "bytes=", 6) != 0) {
        return 0;
    }
    const char *p = h + 6;
    if (strchr(p, ',') != NULL) {
        return 0;
    }
    char *end = NULL;
    if (*p == '-') {
        errno = 0;
        long long n = strtoll(p + 1, &end, 10);
        if (errno != 0 || end == p + 1 || *end != 0 || n < 0) {
            return 0;
        }
        if (n == 0 || size == 0) {
            return -1;
        }
        if (n > size) {
            n = size;
        }
        *off = size - n;
        *len = n;
        return 1;
    }
    if (!isdigit((unsigned char)*p)) {
        return 0;
    }
    errno = 0;
    long long a = strtoll(p, &end, 10);
    if (errno != 0 || *end != '-') {
        return 0;
    }
    const char *q = end + 1;
    long long bb = size - 1;
    if (*q != 0) {
        bb = strtoll(q, &end, 10);
        if (errno != 0 || end == q || *end != 0 || bb < a) {
            return 0;
        }
    }
    if (a >= size) {
        return -1;
    }
    if (bb >= size) {
        bb = size - 1;
    }
    *off = a;
    *len = bb - a + 1;
    return 1;
}

/* GET conditionals. Returns 0 to go on, or -1 after failing resp with 304/412. */
static int s3_read_preconditions(struct emu_request *req, struct emu_response *resp,
                                 const struct s3_obj *o)
{
    const char *im = emu_header(req, "if-match");
    const char *ius = emu_header(req, "if-unmodified-since");
    const char *inm = emu_header(req, "if-none-match");
    const char *ims = emu_header(req, "if-modified-since");
    double mt = floor(o->mtime);
    if (im != NULL) {
        if (!s3_etag_match(im, o->etag)) {
            emu_fail(resp, S3_PRECONDITION_FAILED, NULL);
            emu_fail_extra(resp, "Condition", "If-Match");
            return -1;
        }
    } else if (ius != NULL) {
        double t = s3_parse_http_date(ius);
        if (t >= 0 && mt > t) {
            emu_fail(resp, S3_PRECONDITION_FAILED, NULL);
            emu_fail_extra(resp, "Condition", "If-Unmodified-Since");
            return -1;
        }
    }
    int not_modified = 0;
    if (inm != NULL) {
        not_modified = s3_etag_match(inm, o->etag);
    } else if (ims != NULL) {
        double t = s3_parse_http_date(ims);
        not_modified = t >= 0 && mt <= t;
    }
    if (not_modified) {
        char lm[40];
        emu_time_rfc1123(lm, o->mtime);
        emu_fail(resp, S3_NOT_MODIFIED, NULL);
        emu_resp_header(resp, "ETag", "\"%s\"", o->etag);
        emu_resp_header(resp, "Last-Modified", "%s", lm);
        return -1;
    }
    return 0;
}

/* Loads the object GetObject, HeadObject and GetObjectAttributes read:
 * the request's key in bucket b, at ?versionId when given. Returns 0 with
 * *o filled (caller releases), or -1 having answered: InvalidArgument for
 * an empty versionId, NoSuchKey or NoSuchVersion, a delete marker (its
 * headers, then MethodNotAllowed when named by version, else NoSuchKey),
 * InternalError. */
static int s3_read_load(struct emu_request *req, struct emu_response *resp,
                        const struct s3_bucket *b, struct s3_obj *o)
{
    const char *key = s3_key(req);
    const char *vid = emu_query(req, "versionId");
    if (vid != NULL && vid[0] == 0) {
        emu_fail(resp, S3_INVALID_ARGUMENT, "Version id cannot be the empty string");
        emu_fail_extra(resp, "ArgumentName", "versionId");
        return -1;
    }
    int rc = s3_obj_load(b->name, key, vid, o);
    if (rc < 0) {
        s3_internal(resp, "load object");
        return -1;
    }
    if (rc == 1) {
        emu_fail(resp, vid != NULL ? S3_NO_SUCH_VERSION : S3_NO_SUCH_KEY, NULL);
        emu_fail_extra(resp, "Key", key);
        if (vid != NULL) {
            emu_fail_extra(resp, "VersionId", vid);
        }
        return -1;
    }
    if (o->delete_marker) {
        emu_resp_header(resp, "x-amz-delete-marker", "true");
        emu_resp_header(resp, "x-amz-version-id", "%s", o->version_id);
        if (vid != NULL) {
            emu_fail(resp, S3_METHOD_NOT_ALLOWED, NULL);
            emu_fail_extra(resp, "Method", req->method);
            emu_fail_extra(resp, "ResourceType", "DeleteMarker");
        } else {
            emu_fail(resp, S3_NO_SUCH_KEY, NULL);
            emu_fail_extra(resp, "Key", key);
        }
        s3_obj_release(o);
        return -1;
    }
    return 0;
}

static void s3_get_or_head(struct emu_request *req, struct emu_response *resp, int head)
{
    struct s3_bucket b;
    struct s3_obj o;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0 ||
        s3_read_load(req, resp, &b, &o) != 0) {
        return;
    }
    if (s3_read_preconditions(req, resp, &o) != 0) {
        goto out;
    }
    /* archived objects are not readable until restored (RestoreObject is
     * not served, so never) */
    if (!head && o.meta.storage_class != NULL &&
        (strcmp(o.meta.storage_class, "GLACIER") == 0 ||
         strcmp(o.meta.storage_class, "DEEP_ARCHIVE") == 0)) {
        emu_fail(resp, S3_INVALID_OBJECT_STATE, NULL);
        emu_fail_extra(resp, "StorageClass", o.meta.storage_class);
        goto out;
    }
    int64_t off = 0, len = o.size;
    int ranged = 0;
    const char *part = emu_query(req, "partNumber");
    int r = 0;
    long part_no = 0;
    if (part != NULL) {
        char *end = NULL;
        long pn = strtol(part, &end, 10);
        part_no = pn;
        if (end == part || *end != 0 || pn < 1 || pn > 10000) {
            emu_fail(resp, S3_INVALID_ARGUMENT,
                     "Part number must be an integer between 1 and "
                     "10000, inclusive");
            emu_fail_extra(resp, "ArgumentName", "partNumber");
            emu_fail_extra(resp, "ArgumentValue", part);
            goto out;
        }
        if (emu_header(req, "range") != NULL) {
            emu_fail(resp, S3_INVALID_REQUEST,
                     "Cannot specify both Range header and partNumber query parameter");
            goto out;
        }
        if ((o.parts == 0 && pn != 1) || (o.parts > 0 && pn > o.parts)) {
            emu_fail(resp, S3_INVALID_PART_NUMBER, NULL);
            goto out;
        }
        /* The part's byte range; objects without recorded sizes are one part. */
        if (o.parts > 0 && o.part_sizes != NULL) {
            const char *p = o.part_sizes;
            int64_t start = 0, plen = 0;
            for (long i = 1; i <= pn && *p != 0; i++) {
                plen = strtoll(p, &end, 10);
                if (i < pn) {
                    start += plen;
                }
                p = *end == ',' ? end + 1 : end;
            }
            off = start;
            len = plen;
        }
        if (o.parts > 0) {
            emu_resp_header(resp, "x-amz-mp-parts-count", "%d", o.parts);
        }
        r = o.size > 0 ? 1 : 0;
    } else {
        r = s3_parse_range(emu_header(req, "range"), o.size, &off, &len);
    }
    if (r < 0) {
        emu_fail(resp, S3_INVALID_RANGE, NULL);
        char sz[32];
        snprintf(sz, sizeof(sz), "%lld", (long long)o.size);
        emu_fail_extra(resp, "RangeRequested", emu_header(req, "range"));
        emu_fail_extra(resp, "ActualObjectSize", sz);
        emu_resp_header(resp, "Content-Range", "bytes */%lld", (long long)o.size);
        goto out;
    }
    ranged = r > 0;
    char lm[40];
    emu_time_rfc1123(lm, o.mtime);
    s3_meta_headers(req, resp, &o);
    emu_resp_header(resp, "ETag", "\"%s\"", o.etag);
    emu_resp_header(resp, "Last-Modified", "%s", lm);
    emu_resp_header(resp, "Accept-Ranges", "bytes");
    s3_meta_sse_headers(resp, &o.meta);
    s3_version_header(resp, &b, o.version_id);
    if (o.parts > 0 && part == NULL) {
        emu_resp_header(resp, "x-amz-mp-parts-count", "%d", o.parts);
    }
    if (o.tag_count > 0) {
        emu_resp_header(resp, "x-amz-tagging-count", "%d", o.tag_count);
    }
    const char *cm = emu_header(req, "x-amz-checksum-mode");
    if (cm != NULL && strcasecmp(cm, "ENABLED") == 0 && o.checksum_algo[0] != 0 &&
        o.checksum[0] != 0) {
        /* composite values ("...-N") are skipped by validating clients. A
         * part (?partNumber) of a composite object: that part's checksum; of
         * a full-object one: the object's when it is the only part; of a
         * single-PUT object: the object's. Ranges: none. */
        int composite = strchr(o.checksum, '-') != NULL;
        char value[96] = "";
        if (part_no == 0 && !ranged) {
            snprintf(value, sizeof(value), "%s", o.checksum);
        } else if (part_no > 0 && (o.parts == 0 || (!composite && o.parts == 1))) {
            snprintf(value, sizeof(value), "%s", o.checksum);
        } else if (part_no > 0 && composite && o.part_checksums != NULL) {
            const char *p = o.part_checksums;
            for (long i = 1; i < part_no && p != NULL; i++) {
                p = strchr(p, ',');
                p = p != NULL ? p + 1 : NULL;
            }
            size_t cl = p != NULL ? strcspn(p, ",") : 0;
            if (cl > 0 && cl < sizeof(value)) {
                snprintf(value, sizeof(value), "%.*s", (int)cl, p);
            }
        }
        if (value[0] != 0) {
            char hn[48];
            snprintf(hn, sizeof(hn), "x-amz-checksum-%s", o.checksum_algo);
            emu_resp_header(resp, hn, "%s", value);
            emu_resp_header(resp, "x-amz-checksum-type", "%s",
                            composite ? "COMPOSITE" : "FULL_OBJECT");
        }
    }
    if (ranged) {
        emu_resp_header(resp, "Content-Range", "bytes %lld-%lld/%lld", (long long)off,
                        (long long)(off + len - 1), (long long)o.size);
    }
    resp->status = ranged ? 206 : 200;
    if (len > 0 && o.blob[0] != 0) {
        char path[1024];
        s3_blob_path(o.blob, path, sizeof(path));
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            emu_error_log("s3: open %s: %s", path, strerror(errno));
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
            goto out;
        }
        if (len <= S3_INLINE_MAX && !head) {
            /* Small bodies go out from memory: cheaper than a file response. */
            char *buf = malloc((size_t)len);
            ssize_t n = buf != NULL ? pread(fd, buf, (size_t)len, (off_t)off) : -1;
            close(fd);
            if (n != (ssize_t)len) {
                free(buf);
                emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
                goto out;
            }
            emu_buf_append(&resp->body, buf, (size_t)len);
            free(buf);
        } else {
            resp->body_fd = fd;
            resp->body_off = (uint64_t)off;
            resp->body_len = (uint64_t)len;
        }
    }
out:
    s3_obj_release(&o);
}

void s3_get_object(struct emu_request *req, struct emu_response *resp)
{
    s3_get_or_head(req, resp, 0);
}

void s3_head_object(struct emu_request *req, struct emu_response *resp)
{
    s3_get_or_head(req, resp, 1);
}

/* ---------------------------------------------------- GetObjectAttributes */

/* Parses x-amz-object-attributes into a bit set over names[]. Returns the
 * set (non-zero), or 0 with resp failed. */
static unsigned s3_attribute_set(struct emu_request *req, struct emu_response *resp,
                                 const char *const *names, size_t n)
{
    const char *h = emu_header(req, "x-amz-object-attributes");
    unsigned set = 0;
    while (h != NULL && *h != 0) {
        while (*h == ' ' || *h == ',') {
            h++;
        }
        size_t len = strcspn(h, ",");
        size_t t = len;
        while (t > 0 && h[t - 1] == ' ') {
            t--;
        }
        if (t == 0) {
            h += len;
            continue;
        }
        size_t i = 0;
        while (i < n && !(strlen(names[i]) == t && strncmp(names[i], h, t) == 0)) {
            i++;
        }
        if (i == n) {
            char bad[128];
            snprintf(bad, sizeof(bad), "%.*s", (int)(t < 100 ? t : 100), h);
            emu_fail(resp, S3_INVALID_ARGUMENT, "Invalid attribute name specified.");
            emu_fail_extra(resp, "ArgumentName", "x-amz-object-attributes");
            emu_fail_extra(resp, "ArgumentValue", bad);
            return 0;
        }
        set |= 1u << i;
        h += len;
    }
    if (set == 0) {
        emu_fail(resp, S3_INVALID_ARGUMENT,
                 "The x-amz-object-attributes header specifying the attributes to be retrieved "
                 "is either missing or empty");
        emu_fail_extra(resp, "ArgumentName", "x-amz-object-attributes");
        emu_fail_extra(resp, "ArgumentValue", "");
    }
    return set;
}

long s3_int_arg(struct emu_response *resp, const char *name, const char *v, long dflt, long max)
{
    if (v == NULL) {
        return dflt;
    }
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != 0 || n < 0) {
        emu_fail(resp, S3_INVALID_ARGUMENT, "Provided %s not an integer or within integer range",
                 name);
        emu_fail_extra(resp, "ArgumentName", name);
        emu_fail_extra(resp, "ArgumentValue", v);
        return -1;
    }
    return n > max ? max : n;
}

/* GetObjectAttributes: what x-amz-object-attributes names (ETag, Checksum,
 * ObjectParts, StorageClass, ObjectSize) of the latest version or of
 * ?versionId. Composite checksums come without their "-N"; ObjectParts
 * (multipart objects only) pages with x-amz-max-parts and
 * x-amz-part-number-marker. */
void s3_get_object_attributes(struct emu_request *req, struct emu_response *resp)
{
    static const char *const names[] = {"ETag", "Checksum", "ObjectParts", "StorageClass",
                                        "ObjectSize"};
    enum { A_ETAG = 1, A_CHECKSUM = 2, A_PARTS = 4, A_CLASS = 8, A_SIZE = 16 };
    struct s3_bucket b;
    struct s3_obj o;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0) {
        return;
    }
    unsigned want = s3_attribute_set(req, resp, names, sizeof(names) / sizeof(names[0]));
    long max = s3_int_arg(resp, "x-amz-max-parts", emu_header(req, "x-amz-max-parts"), 1000, 1000);
    long marker = resp->failed ? 0
                                : s3_int_arg(resp, "x-amz-part-number-marker",
                                             emu_header(req, "x-amz-part-number-marker"), 0, 10000);
    if (want == 0 || max < 0 || marker < 0 || s3_read_load(req, resp, &b, &o) != 0) {
        return;
    }
    struct emu_buf x = {0};
    emu_buf_puts(&x, "<GetObjectAttributesResponse xmlns=\"" S3_NS "\">");
    if (want & A_ETAG) {
        emu_buf_xml_elem(&x, "ETag", o.etag);
    }
    if ((want & A_CHECKSUM) && o.checksum_algo[0] != 0 && o.checksum[0] != 0) {
        char tag[32], value[96];
        snprintf(tag, sizeof(tag), "Checksum%s", s3_algo_upper(o.checksum_algo));
        snprintf(value, sizeof(value), "%s", o.checksum);
        char *dash = strchr(value, '-');
        if (dash != NULL) {
            *dash = 0;
        }
        emu_buf_puts(&x, "<Checksum>");
        emu_buf_xml_elem(&x, tag, value);
        emu_buf_xml_elem(&x, "ChecksumType", dash != NULL ? "COMPOSITE" : "FULL_OBJECT");
        emu_buf_puts(&x, "</Checksum>");
    }
    if ((want & A_PARTS) && o.parts > 0) {
        struct emu_buf items = {0};
        const char *ps = o.part_sizes, *pc = o.part_checksums;
        long count = 0, last = 0;
        int trunc = 0;
        char tag[32];
        snprintf(tag, sizeof(tag), "Checksum%s", s3_algo_upper(o.checksum_algo));
        for (long pn = 1; pn <= o.parts; pn++) {
            long long size = -1;
            if (ps != NULL && *ps != 0) {
                char *end = NULL;
                size = strtoll(ps, &end, 10);
                ps = *end == ',' ? end + 1 : end;
            }
            size_t cl = pc != NULL ? strcspn(pc, ",") : 0;
            const char *sum = pc;
            if (pc != NULL) {
                pc = pc[cl] == ',' ? pc + cl + 1 : pc + cl;
            }
            if (pn <= marker) {
                continue;
            }
            if (count >= max) {
                trunc = 1;
                break;
            }
            emu_buf_printf(&items, "<Part><PartNumber>%ld</PartNumber>", pn);
            if (size >= 0) {
                emu_buf_printf(&items, "<Size>%lld</Size>", size);
            }
            if (sum != NULL && cl > 0 && cl < 96) {
                char one[96];
                snprintf(one, sizeof(one), "%.*s", (int)cl, sum);
                emu_buf_xml_elem(&items, tag, one);
            }
            emu_buf_puts(&items, "</Part>");
            count++;
            last = pn;
        }
        emu_buf_printf(&x,
                       "<ObjectParts><PartsCount>%d</PartsCount><PartNumberMarker>%ld"
                       "</PartNumberMarker><NextPartNumberMarker>%ld</NextPartNumberMarker>"
                       "<MaxParts>%ld</MaxParts><IsTruncated>%s</IsTruncated>",
                       o.parts, marker, last, max, trunc ? "true" : "false");
        if (items.data != NULL) {
            emu_buf_puts(&x, items.data);
        }
        emu_buf_puts(&x, "</ObjectParts>");
        emu_buf_release(&items);
    }
    if (want & A_CLASS) {
        emu_buf_xml_elem(&x, "StorageClass", s3_meta_class(&o.meta));
    }
    if (want & A_SIZE) {
        emu_buf_printf(&x, "<ObjectSize>%lld</ObjectSize>", (long long)o.size);
    }
    emu_buf_puts(&x, "</GetObjectAttributesResponse>");
    emu_resp_xml(resp, 200, x.data);
    char lm[40];
    emu_time_rfc1123(lm, o.mtime);
    emu_resp_header(resp, "Last-Modified", "%s", lm);
    s3_version_header(resp, &b, o.version_id);
    emu_buf_release(&x);
    s3_obj_release(&o);
}

/* ----------------------------------------------------------- DeleteObject */

struct s3_del_result {
    char version_id[40]; /* the version removed or the marker created ("" if none) */
    int delete_marker;   /* a marker was created or removed */
    int existed;
};

/* Deletes key (or one version of it) following the bucket's versioning.
 * Returns 0, or -1 with resp failed. */
static int s3_delete_one(struct emu_request *req, struct emu_response *resp,
                         const struct s3_bucket *b, const char *key, const char *vid,
                         struct s3_del_result *r)
{
    memset(r, 0, sizeof(*r));
    struct s3_obj o;
    if (vid != NULL) {
        int rc = s3_obj_load(b->name, key, vid, &o);
        if (rc < 0) {
            s3_internal(resp, "delete object");
            return -1;
        }
        snprintf(r->version_id, sizeof(r->version_id), "%s", vid);
        if (rc == 1) {
            return 0;
        }
        r->existed = 1;
        r->delete_marker = o.delete_marker;
        rc = s3_obj_remove(req, b->name, key, &o);
        s3_obj_release(&o);
        if (rc != 0) {
            s3_internal(resp, "delete object");
            return -1;
        }
        s3_notify(req, b, key, "ObjectRemoved:Delete", 0, NULL, vid);
        return 0;
    }
    int rc = s3_obj_load(b->name, key, NULL, &o);
    if (rc < 0) {
        s3_internal(resp, "delete object");
        return -1;
    }
    r->existed = rc == 0 && !o.delete_marker;
    if (rc == 0) {
        s3_obj_release(&o);
    }
    if (b->versioning[0] == 0) {
        if (s3_drop_null_version(req, b->name, key) != 0) {
            s3_internal(resp, "delete object");
            return -1;
        }
        if (r->existed) {
            s3_notify(req, b, key, "ObjectRemoved:Delete", 0, NULL, NULL);
        }
        return 0;
    }
    struct s3_newobj n = {.delete_marker = 1};
    if (s3_obj_write(req, b, key, &n, r->version_id) != 0) {
        s3_internal(resp, "delete object");
        return -1;
    }
    r->delete_marker = 1;
    s3_notify(req, b, key, "ObjectRemoved:DeleteMarkerCreated", 0, NULL, r->version_id);
    return 0;
}

void s3_delete_object(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    struct s3_del_result r;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0) {
        return;
    }
    const char *im = emu_header(req, "if-match");
    if (im != NULL) {
        struct s3_obj o;
        int rc = s3_obj_load(b.name, s3_key(req), NULL, &o);
        int ok = rc == 0 && !o.delete_marker && s3_etag_match(im, o.etag);
        if (rc == 0) {
            s3_obj_release(&o);
        }
        if (!ok) {
            emu_fail(resp, rc == 0 ? S3_PRECONDITION_FAILED : S3_NO_SUCH_KEY, NULL);
            return;
        }
    }
    const char *vid = emu_query(req, "versionId");
    if (vid != NULL && vid[0] == 0) {
        emu_fail(resp, S3_INVALID_ARGUMENT, "Version id cannot be the empty string");
        emu_fail_extra(resp, "ArgumentName", "versionId");
        return;
    }
    if (s3_delete_one(req, resp, &b, s3_key(req), vid, &r) != 0) {
        return;
    }
    resp->status = 204;
    if (r.delete_marker) {
        emu_resp_header(resp, "x-amz-delete-marker", "true");
    }
    if (r.version_id[0] != 0 && (b.versioning[0] != 0 || strcmp(r.version_id, "null") != 0)) {
        emu_resp_header(resp, "x-amz-version-id", "%s", r.version_id);
    }
}

void s3_delete_objects(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    struct emu_buf out = {0};
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0) {
        return;
    }
    const char *md5 = emu_header(req, "content-md5");
    if (md5 != NULL) {
        unsigned char d[16];
        unsigned int dl = 0;
        char mine[32];
        EVP_Digest(req->body != NULL ? req->body : "", req->body_len, d, &dl, EVP_md5(), NULL);
        s3_b64(d, 16, mine, sizeof(mine));
        if (strcmp(mine, md5) != 0) {
            emu_fail(resp, S3_BAD_DIGEST, NULL);
            return;
        }
    }
    struct s3_xml *x = s3_body_xml(req, resp);
    if (x == NULL) {
        return;
    }
    size_t count = 0;
    for (struct s3_xml *o = s3_xml_child(x, "Object"); o != NULL; o = s3_xml_next(o)) {
        if (s3_xml_text(o, "Key") == NULL) {
            count = 100000;
        }
        count++;
    }
    if (strcmp(x->name, "Delete") != 0 || count == 0 || count > 1000) {
        emu_fail(resp, S3_MALFORMED_XML, NULL);
        goto out;
    }
    int quiet = s3_is_true(s3_xml_text(x, "Quiet"));
    emu_buf_puts(&out, "<DeleteResult xmlns=\"" S3_NS "\">");
    for (struct s3_xml *o = s3_xml_child(x, "Object"); o != NULL; o = s3_xml_next(o)) {
        const char *key = s3_xml_text(o, "Key");
        const char *vid = s3_xml_text(o, "VersionId");
        struct s3_del_result r;
        struct emu_response sub;
        emu_response_init(&sub);
        if (s3_delete_one(req, &sub, &b, key, vid, &r) != 0) {
            emu_buf_puts(&out, "<Error>");
            emu_buf_xml_elem(&out, "Key", key);
            emu_buf_xml_elem(&out, "VersionId", vid);
            emu_buf_xml_elem(&out, "Code", sub.error_code);
            emu_buf_xml_elem(&out, "Message", sub.error_message);
            emu_buf_puts(&out, "</Error>");
        } else if (!quiet) {
            emu_buf_puts(&out, "<Deleted>");
            emu_buf_xml_elem(&out, "Key", key);
            emu_buf_xml_elem(&out, "VersionId", vid);
            if (r.delete_marker) {
                emu_buf_puts(&out, "<DeleteMarker>true</DeleteMarker>");
                if (vid == NULL) {
                    emu_buf_xml_elem(&out, "DeleteMarkerVersionId", r.version_id);
                }
            }
            emu_buf_puts(&out, "</Deleted>");
        }
        emu_response_release(&sub);
    }
    emu_buf_puts(&out, "</DeleteResult>");
    emu_resp_xml(resp, 200, out.data);
out:
    emu_buf_release(&out);
    s3_xml_free(x);
}

/* ------------------------------------------------------------- CopyObject */

int s3_parse_copy_source(const char *src, struct emu_response *resp, char **bucket, char **key,
                         char **version)
{
    *bucket = *key = *version = NULL;
    const char *p = src;
    if (*p == '/') {
        p++;
    }
    size_t plen = strcspn(p, "?");
    char *path = emu_url_decode(p, plen, 0);
    if (path == NULL) {
        goto bad;
    }
    char *slash = strchr(path, '/');
    if (slash == NULL || slash == path || slash[1] == 0) {
        free(path);
        goto bad;
    }
    *slash = 0;
    *bucket = strdup(path);
    *key = strdup(slash + 1);
    free(path);
    if (p[plen] == '?') {
        struct emu_kvlist q = {0};
        if (emu_parse_query(&q, p + plen + 1, strlen(p + plen + 1), 0) == 0) {
            const char *v = emu_kv_get(&q, "versionId");
            if (v != NULL) {
                *version = strdup(v);
            }
        }
        emu_kv_release(&q);
    }
    return 0;
bad:
    emu_fail(resp, S3_INVALID_ARGUMENT, "Invalid copy source object key");
    emu_fail_extra(resp, "ArgumentName", "x-amz-copy-source");
    emu_fail_extra(resp, "ArgumentValue", src);
    return -1;
}

/* x-amz-copy-source-if-* against the source. 0 or -1 (412). */
static int s3_copy_preconditions(struct emu_request *req, struct emu_response *resp,
                                 const struct s3_obj *o)
{
    const char *im = emu_header(req, "x-amz-copy-source-if-match");
    const char *inm = emu_header(req, "x-amz-copy-source-if-none-match");
    const char *ims = emu_header(req, "x-amz-copy-source-if-modified-since");
    const char *ius = emu_header(req, "x-amz-copy-source-if-unmodified-since");
    double mt = floor(o->mtime);
    int fail = 0;
    if (im != NULL) {
        fail = !s3_etag_match(im, o->etag);
    } else if (ius != NULL) {
        double t = s3_parse_http_date(ius);
        fail = t >= 0 && mt > t;
    }
    if (!fail && inm != NULL) {
        fail = s3_etag_match(inm, o->etag);
    } else if (!fail && ims != NULL && inm == NULL) {
        double t = s3_parse_http_date(ims);
        fail = t >= 0 && mt <= t;
    }
    if (fail) {
        emu_fail(resp, S3_PRECONDITION_FAILED, NULL);
        return -1;
    }
    return 0;
}

/* Hard-links a blob under a new name (copying when links fail). */
static int s3_blob_clone(const char *src_blob, char blob[S3_BLOB_LEN])
{
    char src[1024], dst[1024];
    s3_blob_new_name(blob);
    s3_blob_path(src_blob, src, sizeof(src));
    s3_blob_path(blob, dst, sizeof(dst));
    if (link(src, dst) == 0) {
        return 0;
    }
    struct stat sb;
    if (stat(src, &sb) != 0) {
        return -1;
    }
    unsigned char md5[16];
    return s3_blob_copy_range(src_blob, 0, (uint64_t)sb.st_size, blob, md5);
}

int s3_blob_copy_range(const char *src_blob, uint64_t off, uint64_t len, char blob[S3_BLOB_LEN],
                       unsigned char md5[16])
{
    char src[1024], tmp[1024];
    int in = -1, out = -1, rc = -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    char *buf = malloc(1 << 20);
    s3_blob_path(src_blob, src, sizeof(src));
    char rnd[17];
    emu_random_hex(rnd, 16);
    rnd[16] = 0;
    snprintf(tmp, sizeof(tmp), "%s/s3copy-%s", emu_tmp_dir(), rnd);
    if (ctx == NULL || buf == NULL || EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1) {
        goto out;
    }
    in = open(src, O_RDONLY | O_CLOEXEC);
    out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (in < 0 || out < 0) {
        goto out;
    }
    uint64_t done = 0;
    while (done < len) {
        size_t want = len - done > (1 << 20) ? (1 << 20) : (size_t)(len - done);
        ssize_t n = pread(in, buf, want, (off_t)(off + done));
        if (n <= 0) {
            goto out;
        }
        EVP_DigestUpdate(ctx, buf, (size_t)n);
        for (ssize_t w = 0; w < n;) {
            ssize_t k = write(out, buf + w, (size_t)(n - w));
            if (k < 0) {
                if (errno == EINTR) {
                    continue;
                }
                goto out;
            }
            w += k;
        }
        done += (uint64_t)n;
    }
    EVP_DigestFinal_ex(ctx, md5, NULL);
    close(out);
    out = -1;
    if (s3_blob_adopt(tmp, blob) != 0) {
        goto out;
    }
    rc = 0;
out:
    if (in >= 0) {
        close(in);
    }
    if (out >= 0) {
        close(out);
    }
    if (rc != 0) {
        unlink(tmp);
    }
    free(buf);
    EVP_MD_CTX_free(ctx);
    return rc;
}

int s3_copy_source_load(struct emu_request *req, struct emu_response *resp, struct s3_obj *o,
                        char **sbucket, char **skey, char **sver)
{
    struct s3_bucket sb;
    if (s3_parse_copy_source(emu_header(req, "x-amz-copy-source"), resp, sbucket, skey, sver) !=
        0) {
        return -1;
    }
    if (s3_bucket_load(req, resp, *sbucket, &sb) != 0) {
        return -1;
    }
    int rc = s3_obj_load(sb.name, *skey, *sver, o);
    if (rc < 0) {
        s3_internal(resp, "load copy source");
        return -1;
    }
    if (rc == 1) {
        emu_fail(resp, *sver != NULL ? S3_NO_SUCH_VERSION : S3_NO_SUCH_KEY, NULL);
        emu_fail_extra(resp, "Key", *skey);
        return -1;
    }
    if (o->delete_marker) {
        s3_obj_release(o);
        if (*sver != NULL) {
            emu_fail(resp, S3_INVALID_REQUEST,
                     "The source of a copy request may not specifically refer to a delete marker "
                     "by version id.");
        } else {
            emu_fail(resp, S3_NO_SUCH_KEY, NULL);
            emu_fail_extra(resp, "Key", *skey);
        }
        return -1;
    }
    if (s3_copy_preconditions(req, resp, o) != 0) {
        s3_obj_release(o);
        return -1;
    }
    return 0;
}

void s3_copy_object(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    struct s3_obj src;
    struct s3_meta m = {0};
    char *sbucket = NULL, *skey = NULL, *sver = NULL, *tagging = NULL;
    int have_src = 0;
    const char *key = s3_key(req);
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0 || !s3_key_ok(resp, key)) {
        return;
    }
    if (s3_copy_source_load(req, resp, &src, &sbucket, &skey, &sver) != 0) {
        goto out;
    }
    have_src = 1;
    const char *dir = emu_header(req, "x-amz-metadata-directive");
    if (dir != NULL && strcmp(dir, "COPY") != 0 && strcmp(dir, "REPLACE") != 0) {
        emu_fail(resp, S3_INVALID_ARGUMENT, "Unknown metadata directive.");
        goto out;
    }
    int replace = dir != NULL && strcmp(dir, "REPLACE") == 0;
    const char *tdir = emu_header(req, "x-amz-tagging-directive");
    int treplace = tdir != NULL && strcmp(tdir, "REPLACE") == 0;
    if (strcmp(sbucket, b.name) == 0 && strcmp(skey, key) == 0 && !replace && !treplace &&
        emu_header(req, "x-amz-storage-class") == NULL &&
        emu_header(req, "x-amz-server-side-encryption") == NULL &&
        emu_header(req, "x-amz-website-redirect-location") == NULL) {
        emu_fail(resp, S3_INVALID_REQUEST,
                 "This copy request is illegal because it is trying to copy an object to itself "
                 "without changing the object's metadata, storage class, website redirect "
                 "location or encryption attributes.");
        goto out;
    }
    if (s3_write_preconditions(req, resp, &b, key) != 0) {
        goto out;
    }
    if (s3_meta_check(req, resp) != 0) {
        goto out;
    }
    if (replace) {
        s3_meta_from_req(req, &m);
    } else {
        s3_meta_dup(&m, &src.meta);
        s3_meta_class_from_req(req, &m);
    }
    if (treplace) {
        if (s3_tagging_header(req, resp, &tagging) != 0) {
            goto out;
        }
    } else {
        sqlite3_stmt *st = emu_stmt("SELECT tagging FROM s3_objects WHERE id = ?");
        if (st != NULL) {
            sqlite3_bind_int64(st, 1, src.id);
            if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
                tagging = emu_col_dup(st, 0);
            }
            emu_stmt_done(st);
        }
    }
    /* x-amz-checksum-algorithm: the copy gets a new full-object checksum */
    char calgo[16] = "", csum[96] = "";
    const char *ah = emu_header(req, "x-amz-checksum-algorithm");
    if (ah != NULL) {
        size_t i = 0;
        for (; ah[i] != 0 && i < sizeof(calgo) - 1; i++) {
            calgo[i] = (char)tolower((unsigned char)ah[i]);
        }
        calgo[i] = 0;
        if (ah[i] != 0 || s3_checksum_size(calgo) == 0) {
            emu_fail(resp, S3_INVALID_REQUEST,
                     "Checksum algorithm provided is unsupported. Please try again with any of "
                     "the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]");
            goto out;
        }
    }
    char blob[S3_BLOB_LEN] = "";
    if (src.blob[0] != 0 && s3_blob_clone(src.blob, blob) != 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        goto out;
    }
    if (calgo[0] != 0) {
        char path[1024];
        s3_blob_path(blob, path, sizeof(path));
        unsigned char none[32];
        int dn = blob[0] == 0 ? s3_buf_digest(calgo, "", 0, none) : 0;
        if (blob[0] == 0 && dn > 0) {
            s3_b64(none, (size_t)dn, csum, sizeof(csum));
        } else if (blob[0] == 0 || s3_file_checksum(path, calgo, csum) != 0) {
            if (blob[0] != 0) {
                unlink(path);
            }
            s3_internal(resp, "copy object checksum");
            goto out;
        }
    }
    char vid[40];
    struct s3_newobj n = {
        .size = src.size,
        .etag = src.etag,
        .meta = &m,
        .checksum_algo = calgo[0] ? calgo : src.checksum_algo,
        .checksum = calgo[0] ? csum : src.checksum,
        .parts = src.parts,
        .blob = blob[0] ? blob : NULL,
        .part_sizes = src.part_sizes,
        .part_checksums = calgo[0] ? NULL : src.part_checksums,
    };
    if (s3_obj_write(req, &b, key, &n, vid) != 0) {
        if (blob[0] != 0) {
            char path[1024];
            s3_blob_path(blob, path, sizeof(path));
            unlink(path);
        }
        s3_internal(resp, "copy object");
        goto out;
    }
    if (tagging != NULL) {
        sqlite3_stmt *st = emu_stmt("UPDATE s3_objects SET tagging = ? WHERE bucket = ? AND key = "
                                    "? AND is_latest = 1");
        if (st != NULL) {
            sqlite3_bind_text(st, 1, tagging, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 2, b.name, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 3, key, -1, SQLITE_TRANSIENT);
            sqlite3_step(st);
            emu_stmt_done(st);
        }
    }
    char t[32];
    emu_time_iso(t, emu_now());
    struct emu_buf x = {0};
    emu_buf_puts(&x, "<CopyObjectResult xmlns=\"" S3_NS "\">");
    emu_buf_printf(&x, "<ETag>&quot;%s&quot;</ETag>", src.etag);
    emu_buf_xml_elem(&x, "LastModified", t);
    if (n.checksum_algo[0] != 0 && n.checksum[0] != 0) {
        char tag[32];
        snprintf(tag, sizeof(tag), "Checksum%s", s3_algo_upper(n.checksum_algo));
        emu_buf_xml_elem(&x, "ChecksumType",
                         strchr(n.checksum, '-') != NULL ? "COMPOSITE" : "FULL_OBJECT");
        emu_buf_xml_elem(&x, tag, n.checksum);
    }
    emu_buf_puts(&x, "</CopyObjectResult>");
    emu_resp_xml(resp, 200, x.data);
    s3_meta_sse_headers(resp, &m);
    emu_buf_release(&x);
    s3_version_header(resp, &b, vid);
    if (strcmp(src.version_id, "null") != 0) {
        emu_resp_header(resp, "x-amz-copy-source-version-id", "%s", src.version_id);
    }
    s3_notify(req, &b, key, "ObjectCreated:Copy", src.size, src.etag, vid);
out:
    if (have_src) {
        s3_obj_release(&src);
    }
    s3_meta_release(&m);
    free(sbucket);
    free(skey);
    free(sver);
    free(tagging);
}

/* --------------------------------------------------------------- listings */

struct s3_list_args {
    const char *prefix;
    const char *delimiter; /* NULL or "" = none */
    const char *start;     /* list keys strictly after this ("" = from the start) */
    int max;
    int url;
};

static int s3_list_common_args(struct emu_request *req, struct emu_response *resp,
                               struct s3_list_args *a)
{
    memset(a, 0, sizeof(*a));
    a->prefix = emu_query(req, "prefix");
    if (a->prefix == NULL) {
        a->prefix = "";
    }
    a->delimiter = emu_query(req, "delimiter");
    if (a->delimiter != NULL && a->delimiter[0] == 0) {
        a->delimiter = NULL;
    }
    a->max = 1000;
    const char *mk = emu_query(req, "max-keys");
    if (mk != NULL) {
        char *end = NULL;
        errno = 0;
        long v = strtol(mk, &end, 10);
        if (errno != 0 || end == mk || *end != 0 || v < 0) {
            emu_fail(resp, S3_INVALID_ARGUMENT,
                     "Provided max-keys not an integer or within integer range");
            emu_fail_extra(resp, "ArgumentName", "max-keys");
            emu_fail_extra(resp, "ArgumentValue", mk);
            return -1;
        }
        a->max = v > 1000 ? 1000 : (int)v;
    }
    const char *enc = emu_query(req, "encoding-type");
    if (enc != NULL) {
        if (strcmp(enc, "url") != 0) {
            emu_fail(resp, S3_INVALID_ARGUMENT, "Invalid Encoding Method specified in Request");
            emu_fail_extra(resp, "ArgumentName", "encoding-type");
            emu_fail_extra(resp, "ArgumentValue", enc);
            return -1;
        }
        a->url = 1;
    }
    a->start = "";
    return 0;
}

static int s3_starts(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* The listing query from its one lower bound: keys after start when start
 * sorts at or after the prefix, else keys from the prefix on. (Two bounds in
 * one WHERE would let SQLite seek on only one of them and scan from the
 * prefix up to start: page time would grow with the page's position.) */
static sqlite3_stmt *s3_list_query(const char *bucket, const char *prefix, const char *start)
{
    int after = strcmp(start, prefix) >= 0;
    sqlite3_stmt *st =
        after ? emu_stmt("SELECT key, size, etag, mtime, checksum_algo, parts, checksum, storage_class FROM "
                         "s3_objects WHERE bucket = ?1 AND is_latest = 1 AND delete_marker = 0 "
                         "AND key > ?2 ORDER BY key")
              : emu_stmt("SELECT key, size, etag, mtime, checksum_algo, parts, checksum, storage_class FROM "
                         "s3_objects WHERE bucket = ?1 AND is_latest = 1 AND delete_marker = 0 "
                         "AND key >= ?2 ORDER BY key");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, bucket, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, after ? start : prefix, -1, SQLITE_TRANSIENT);
    }
    return st;
}

/* <ChecksumAlgorithm> and <ChecksumType> of a listed object (algo and
 * checksum columns, either NULL) when it has a checksum. */
static void s3_list_checksum(struct emu_buf *b, const unsigned char *algo, const unsigned char *sum)
{
    if (algo == NULL || algo[0] == 0) {
        return;
    }
    emu_buf_xml_elem(b, "ChecksumAlgorithm", s3_algo_upper((const char *)algo));
    if (sum != NULL && sum[0] != 0) {
        emu_buf_xml_elem(b, "ChecksumType",
                         strchr((const char *)sum, '-') != NULL ? "COMPOSITE" : "FULL_OBJECT");
    }
}

/* Ends a ListObjects (v1) or ListObjectVersions answer begun in x, whose
 * root element is root: MaxKeys, Delimiter, IsTruncated and EncodingType,
 * then the items and the common prefixes; answers 200 with it. */
static void s3_list_finish(struct emu_response *resp, struct emu_buf *x, const char *root,
                           const struct s3_list_args *a, int trunc, const struct emu_buf *items,
                           const struct emu_buf *prefixes)
{
    emu_buf_printf(x, "<MaxKeys>%d</MaxKeys>", a->max);
    s3_xml_key(x, "Delimiter", a->delimiter, a->url);
    emu_buf_printf(x, "<IsTruncated>%s</IsTruncated>", trunc ? "true" : "false");
    if (a->url) {
        emu_buf_puts(x, "<EncodingType>url</EncodingType>");
    }
    if (items->data) {
        emu_buf_puts(x, items->data);
    }
    if (prefixes->data) {
        emu_buf_puts(x, prefixes->data);
    }
    emu_buf_printf(x, "</%s>", root);
    emu_resp_xml(resp, 200, x->data);
}

/* Walks the latest objects of a bucket per a; appends <Contents> (with
 * owner when owner != 0) and <CommonPrefixes>. Sets *count, *truncated and
 * next (the last key or prefix returned). Returns 0 or -1. */
static int s3_list_walk(const struct emu_request *req, const struct s3_bucket *b,
                        const struct s3_list_args *a, int owner, struct emu_buf *contents,
                        struct emu_buf *prefixes, int *count, int *truncated, struct emu_buf *next)
{
    *count = 0;
    *truncated = 0;
    char *last_cp = NULL;
    size_t plen = strlen(a->prefix);
    int skip_cp = a->delimiter != NULL && a->start[0] != 0 &&
                  strlen(a->start) >= strlen(a->delimiter) &&
                  strcmp(a->start + strlen(a->start) - strlen(a->delimiter), a->delimiter) == 0;
    sqlite3_stmt *st = s3_list_query(b->name, a->prefix, a->start);
    if (st == NULL) {
        return -1;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        if (strncmp(k, a->prefix, plen) != 0) {
            break;
        }
        if (skip_cp && s3_starts(k, a->start)) {
            continue;
        }
        if (a->delimiter != NULL) {
            const char *d = strstr(k + plen, a->delimiter);
            if (d != NULL) {
                size_t cl = (size_t)(d - k) + strlen(a->delimiter);
                if (last_cp != NULL && strlen(last_cp) == cl && memcmp(last_cp, k, cl) == 0) {
                    continue;
                }
                if (*count >= a->max) {
                    *truncated = 1;
                    break;
                }
                free(last_cp);
                last_cp = strndup(k, cl);
                emu_buf_puts(prefixes, "<CommonPrefixes>");
                s3_xml_key(prefixes, "Prefix", last_cp, a->url);
                emu_buf_puts(prefixes, "</CommonPrefixes>");
                (*count)++;
                next->len = 0;
                emu_buf_puts(next, last_cp);
                /* Jump past every key under this prefix: 0xFF never occurs
                 * in UTF-8, so prefix + 0xFF sorts after all of them. */
                char *skip = malloc(cl + 2);
                memcpy(skip, last_cp, cl);
                skip[cl] = (char)0xff;
                skip[cl + 1] = 0;
                emu_stmt_done(st);
                st = s3_list_query(b->name, a->prefix, skip);
                free(skip);
                if (st == NULL) {
                    free(last_cp);
                    return -1;
                }
                continue;
            }
        }
        if (*count >= a->max) {
            *truncated = 1;
            break;
        }
        char t[32];
        emu_time_iso(t, sqlite3_column_double(st, 3));
        emu_buf_puts(contents, "<Contents>");
        s3_xml_key(contents, "Key", k, a->url);
        emu_buf_xml_elem(contents, "LastModified", t);
        emu_buf_printf(contents, "<ETag>&quot;%s&quot;</ETag>", sqlite3_column_text(st, 2));
        s3_list_checksum(contents, sqlite3_column_text(st, 4), sqlite3_column_text(st, 6));
        emu_buf_printf(contents, "<Size>%lld</Size>", (long long)sqlite3_column_int64(st, 1));
        const unsigned char *sc = sqlite3_column_text(st, 7);
        emu_buf_xml_elem(contents, "StorageClass", sc != NULL ? (const char *)sc : "STANDARD");
        if (owner) {
            s3_owner_xml(contents, b->account);
        }
        emu_buf_puts(contents, "</Contents>");
        (*count)++;
        next->len = 0;
        emu_buf_puts(next, k);
    }
    emu_stmt_done(st);
    free(last_cp);
    (void)req;
    return 0;
}

void s3_list_objects(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    struct s3_list_args a;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0 ||
        s3_list_common_args(req, resp, &a) != 0) {
        return;
    }
    const char *marker = emu_query(req, "marker");
    a.start = marker != NULL ? marker : "";
    struct emu_buf c = {0}, p = {0}, next = {0}, x = {0};
    int count, trunc;
    if (s3_list_walk(req, &b, &a, 1, &c, &p, &count, &trunc, &next) != 0) {
        s3_internal(resp, "list objects");
        goto out;
    }
    emu_buf_puts(&x, "<ListBucketResult xmlns=\"" S3_NS "\">");
    emu_buf_xml_elem(&x, "Name", b.name);
    s3_xml_key(&x, "Prefix", a.prefix, a.url);
    s3_xml_key(&x, "Marker", a.start, a.url);
    if (trunc && a.delimiter != NULL) {
        s3_xml_key(&x, "NextMarker", next.data ? next.data : "", a.url);
    }
    s3_list_finish(resp, &x, "ListBucketResult", &a, trunc, &c, &p);
out:
    emu_buf_release(&c);
    emu_buf_release(&p);
    emu_buf_release(&next);
    emu_buf_release(&x);
}

void s3_list_objects_v2(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    struct s3_list_args a;
    char *token_key = NULL;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0 ||
        s3_list_common_args(req, resp, &a) != 0) {
        return;
    }
    const char *sa = emu_query(req, "start-after");
    const char *tok = emu_query(req, "continuation-token");
    a.start = sa != NULL ? sa : "";
    if (tok != NULL) {
        size_t tl = strlen(tok);
        int ok = tl > 0 && tl % 2 == 0;
        for (size_t i = 0; ok && i < tl; i++) {
            ok = isxdigit((unsigned char)tok[i]) != 0;
        }
        if (!ok) {
            emu_fail(resp, S3_INVALID_ARGUMENT, "The continuation token provided is incorrect");
            emu_fail_extra(resp, "ArgumentName", "continuation-token");
            return;
        }
        token_key = calloc(1, tl / 2 + 1);
        for (size_t i = 0; i < tl / 2; i++) {
            char h[3] = {tok[2 * i], tok[2 * i + 1], 0};
            token_key[i] = (char)strtol(h, NULL, 16);
        }
        if (strcmp(token_key, a.start) > 0) {
            a.start = token_key;
        }
    }
    struct emu_buf c = {0}, p = {0}, next = {0}, x = {0};
    int count, trunc;
    if (s3_list_walk(req, &b, &a, s3_is_true(emu_query(req, "fetch-owner")), &c, &p, &count, &trunc,
                     &next) != 0) {
        s3_internal(resp, "list objects");
        goto out;
    }
    emu_buf_puts(&x, "<ListBucketResult xmlns=\"" S3_NS "\">");
    emu_buf_xml_elem(&x, "Name", b.name);
    s3_xml_key(&x, "Prefix", a.prefix, a.url);
    s3_xml_key(&x, "Delimiter", a.delimiter, a.url);
    emu_buf_printf(&x, "<MaxKeys>%d</MaxKeys>", a.max);
    if (a.url) {
        emu_buf_puts(&x, "<EncodingType>url</EncodingType>");
    }
    emu_buf_printf(&x, "<KeyCount>%d</KeyCount>", count);
    emu_buf_printf(&x, "<IsTruncated>%s</IsTruncated>", trunc ? "true" : "false");
    if (tok != NULL) {
        emu_buf_xml_elem(&x, "ContinuationToken", tok);
    }
    if (trunc && next.data != NULL) {
        emu_buf_puts(&x, "<NextContinuationToken>");
        for (size_t i = 0; i < next.len; i++) {
            emu_buf_printf(&x, "%02x", (unsigned char)next.data[i]);
        }
        emu_buf_puts(&x, "</NextContinuationToken>");
    }
    s3_xml_key(&x, "StartAfter", sa, a.url);
    if (c.data) {
        emu_buf_puts(&x, c.data);
    }
    if (p.data) {
        emu_buf_puts(&x, p.data);
    }
    emu_buf_puts(&x, "</ListBucketResult>");
    emu_resp_xml(resp, 200, x.data);
out:
    free(token_key);
    emu_buf_release(&c);
    emu_buf_release(&p);
    emu_buf_release(&next);
    emu_buf_release(&x);
}

/* ListObjectVersions cursor: one lower bound at a time, like s3_list_query.
 * Versions are read in (key ASC, id DESC) order from the index
 * s3_objects_versions. S3_VER_WITHIN reads the older versions of one key
 * (id below a version's row id); S3_VER_AFTER keys after a bound;
 * S3_VER_FROM keys from a bound on. */
enum s3_ver_seek { S3_VER_FROM, S3_VER_AFTER, S3_VER_WITHIN };

#define S3_VER_COLS                                                                                \
    "SELECT key, version_id, is_latest, delete_marker, size, etag, mtime, id, checksum_algo,"      \
    " checksum, storage_class"

static sqlite3_stmt *s3_ver_query(const char *bucket, enum s3_ver_seek seek, const char *key,
                                  int64_t below_id)
{
    sqlite3_stmt *st = NULL;
    switch (seek) {
    case S3_VER_FROM:
        st = emu_stmt(S3_VER_COLS " FROM s3_objects INDEXED BY s3_objects_versions"
                                  " WHERE bucket = ?1 AND key >= ?2 ORDER BY key, id DESC");
        break;
    case S3_VER_AFTER:
        st = emu_stmt(S3_VER_COLS " FROM s3_objects INDEXED BY s3_objects_versions"
                                  " WHERE bucket = ?1 AND key > ?2 ORDER BY key, id DESC");
        break;
    case S3_VER_WITHIN:
        st = emu_stmt(S3_VER_COLS " FROM s3_objects INDEXED BY s3_objects_versions"
                                  " WHERE bucket = ?1 AND key = ?2 AND id < ?3 ORDER BY id DESC");
        break;
    }
    if (st != NULL) {
        sqlite3_bind_text(st, 1, bucket, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
        if (seek == S3_VER_WITHIN) {
            sqlite3_bind_int64(st, 3, below_id);
        }
    }
    return st;
}

/* The row id of a version of key, or -1 when there is none (or on error). */
static int64_t s3_version_row_id(const char *bucket, const char *key, const char *version)
{
    int64_t id = -1;
    sqlite3_stmt *st = emu_stmt("SELECT id FROM s3_objects WHERE bucket = ? AND key = ?"
                                " AND version_id = ? ORDER BY id DESC LIMIT 1");
    if (st == NULL) {
        return -1;
    }
    sqlite3_bind_text(st, 1, bucket, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, version, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
    }
    emu_stmt_done(st);
    return id;
}

/* A copy of s with 0xFF appended: sorts after every key that starts with s
 * (0xFF never occurs in UTF-8). Caller frees; NULL on OOM. */
static char *s3_past_prefix(const char *s, size_t len)
{
    char *p = malloc(len + 2);
    if (p != NULL) {
        memcpy(p, s, len);
        p[len] = (char)0xff;
        p[len + 1] = 0;
    }
    return p;
}

/* Page cost is O(page): the walk seeks (never scans) past the key marker,
 * the version marker's older siblings, and each common prefix. */
void s3_list_object_versions(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    struct s3_list_args a;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0 ||
        s3_list_common_args(req, resp, &a) != 0) {
        return;
    }
    const char *km = emu_query(req, "key-marker");
    const char *vm = emu_query(req, "version-id-marker");
    if (km == NULL) {
        km = "";
    }
    if (vm != NULL && vm[0] == 0) {
        vm = NULL;
    }
    if (vm != NULL && km[0] == 0) {
        emu_fail(resp, S3_INVALID_ARGUMENT,
                 "A version-id marker cannot be specified without a key marker.");
        return;
    }
    struct emu_buf items = {0}, p = {0}, x = {0};
    char *last_cp = NULL, *next_key = NULL, *next_vid = NULL, *skip = NULL;
    size_t plen = strlen(a.prefix);
    int count = 0, trunc = 0, failed = 0;
    /* The first bound: the prefix, or the key marker when it sorts at or
     * after it (a marker that is a common prefix skips all under it). */
    sqlite3_stmt *st = NULL;
    enum s3_ver_seek after_seek = S3_VER_AFTER;
    const char *after_key = km;
    if (km[0] != 0 && strcmp(km, a.prefix) >= 0) {
        if (a.delimiter != NULL && s3_starts(km, a.prefix)) {
            const char *d = strstr(km + plen, a.delimiter);
            if (d != NULL && d[strlen(a.delimiter)] == 0) {
                skip = s3_past_prefix(km, strlen(km));
                after_key = skip;
                after_seek = skip != NULL ? S3_VER_FROM : S3_VER_AFTER;
            }
        }
        int64_t vid = vm != NULL && skip == NULL ? s3_version_row_id(b.name, km, vm) : -1;
        st = vid >= 0 ? s3_ver_query(b.name, S3_VER_WITHIN, km, vid)
                      : s3_ver_query(b.name, after_seek, after_key, 0);
        if (vid < 0) {
            after_key = NULL; /* already past the marker */
        }
    } else {
        st = s3_ver_query(b.name, S3_VER_FROM, a.prefix, 0);
        after_key = NULL;
    }
    if (st == NULL) {
        failed = 1;
        goto render;
    }
    for (;;) {
        int rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) {
            emu_stmt_done(st);
            st = NULL;
            if (rc != SQLITE_DONE) {
                failed = 1;
                break;
            }
            if (after_key == NULL) {
                break;
            }
            /* the marker key's older versions are done: keys after it */
            st = s3_ver_query(b.name, after_seek, after_key, 0);
            after_key = NULL;
            if (st == NULL) {
                failed = 1;
                break;
            }
            continue;
        }
        const char *k = (const char *)sqlite3_column_text(st, 0);
        const char *v = (const char *)sqlite3_column_text(st, 1);
        if (strncmp(k, a.prefix, plen) != 0) {
            break; /* every bound sorts at or after the prefix */
        }
        if (a.delimiter != NULL) {
            const char *d = strstr(k + plen, a.delimiter);
            if (d != NULL) {
                size_t cl = (size_t)(d - k) + strlen(a.delimiter);
                if (last_cp != NULL && strlen(last_cp) == cl && memcmp(last_cp, k, cl) == 0) {
                    continue;
                }
                if (count >= a.max) {
                    trunc = 1;
                    break;
                }
                free(last_cp);
                last_cp = strndup(k, cl);
                emu_buf_puts(&p, "<CommonPrefixes>");
                s3_xml_key(&p, "Prefix", last_cp, a.url);
                emu_buf_puts(&p, "</CommonPrefixes>");
                count++;
                free(next_key);
                free(next_vid);
                next_key = strdup(last_cp);
                next_vid = NULL;
                /* seek past every version under this prefix */
                char *past = s3_past_prefix(last_cp, cl);
                emu_stmt_done(st);
                st = past != NULL ? s3_ver_query(b.name, S3_VER_FROM, past, 0) : NULL;
                free(past);
                after_key = NULL;
                if (st == NULL) {
                    failed = 1;
                    break;
                }
                continue;
            }
        }
        if (count >= a.max) {
            trunc = 1;
            break;
        }
        char t[32];
        emu_time_iso(t, sqlite3_column_double(st, 6));
        int dm = sqlite3_column_int(st, 3);
        emu_buf_puts(&items, dm ? "<DeleteMarker>" : "<Version>");
        s3_xml_key(&items, "Key", k, a.url);
        emu_buf_xml_elem(&items, "VersionId", v);
        emu_buf_printf(&items, "<IsLatest>%s</IsLatest>",
                       sqlite3_column_int(st, 2) ? "true" : "false");
        emu_buf_xml_elem(&items, "LastModified", t);
        if (!dm) {
            emu_buf_printf(&items, "<ETag>&quot;%s&quot;</ETag>", sqlite3_column_text(st, 5));
            s3_list_checksum(&items, sqlite3_column_text(st, 8), sqlite3_column_text(st, 9));
            emu_buf_printf(&items, "<Size>%lld</Size>", (long long)sqlite3_column_int64(st, 4));
            const unsigned char *sc = sqlite3_column_text(st, 10);
            emu_buf_xml_elem(&items, "StorageClass",
                             sc != NULL ? (const char *)sc : "STANDARD");
        }
        s3_owner_xml(&items, b.account);
        emu_buf_puts(&items, dm ? "</DeleteMarker>" : "</Version>");
        count++;
        free(next_key);
        free(next_vid);
        next_key = strdup(k);
        next_vid = strdup(v);
    }
    emu_stmt_done(st);
render:
    if (failed) {
        s3_internal(resp, "list versions");
        goto out;
    }
    emu_buf_puts(&x, "<ListVersionsResult xmlns=\"" S3_NS "\">");
    emu_buf_xml_elem(&x, "Name", b.name);
    s3_xml_key(&x, "Prefix", a.prefix, a.url);
    s3_xml_key(&x, "KeyMarker", km, a.url);
    emu_buf_xml_elem(&x, "VersionIdMarker", vm != NULL ? vm : "");
    if (trunc) {
        s3_xml_key(&x, "NextKeyMarker", next_key, a.url);
        emu_buf_xml_elem(&x, "NextVersionIdMarker", next_vid);
    }
    s3_list_finish(resp, &x, "ListVersionsResult", &a, trunc, &items, &p);
out:
    free(skip);
    free(last_cp);
    free(next_key);
    free(next_vid);
    emu_buf_release(&items);
    emu_buf_release(&p);
    emu_buf_release(&x);
}

/* ---------------------------------------------------------- object tagging */

/* Resolves the row id addressed by key (+versionId). Returns 0 or -1 (resp failed). */
static int s3_tag_target(struct emu_request *req, struct emu_response *resp, int64_t *id,
                         char vid[40])
{
    struct s3_bucket b;
    struct s3_obj o;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0) {
        return -1;
    }
    const char *v = emu_query(req, "versionId");
    int rc = s3_obj_load(b.name, s3_key(req), v, &o);
    if (rc < 0) {
        s3_internal(resp, "load object");
        return -1;
    }
    if (rc == 1 || o.delete_marker) {
        if (rc == 0) {
            s3_obj_release(&o);
        }
        emu_fail(resp, v != NULL ? S3_NO_SUCH_VERSION : S3_NO_SUCH_KEY, NULL);
        emu_fail_extra(resp, "Key", s3_key(req));
        return -1;
    }
    *id = o.id;
    snprintf(vid, 40, "%s", o.version_id);
    s3_obj_release(&o);
    return 0;
}

static void s3_set_tagging(struct emu_response *resp, int64_t id, const char *json)
{
    sqlite3_stmt *st = emu_stmt("UPDATE s3_objects SET tagging = ? WHERE id = ?");
    if (st == NULL) {
        s3_internal(resp, "tagging");
        return;
    }
    if (json != NULL) {
        sqlite3_bind_text(st, 1, json, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(st, 1);
    }
    sqlite3_bind_int64(st, 2, id);
    sqlite3_step(st);
    emu_stmt_done(st);
}

void s3_put_object_tagging(struct emu_request *req, struct emu_response *resp)
{
    int64_t id;
    char vid[40];
    if (s3_tag_target(req, resp, &id, vid) != 0) {
        return;
    }
    cJSON *arr = s3_parse_tagging(req, resp, 10);
    if (arr == NULL) {
        return;
    }
    char *json = cJSON_PrintUnformatted(arr);
    cJSON_Delete(arr);
    s3_set_tagging(resp, id, json);
    free(json);
    if (!resp->failed) {
        resp->status = 200;
        if (strcmp(vid, "null") != 0) {
            emu_resp_header(resp, "x-amz-version-id", "%s", vid);
        }
    }
}

void s3_get_object_tagging(struct emu_request *req, struct emu_response *resp)
{
    int64_t id;
    char vid[40];
    if (s3_tag_target(req, resp, &id, vid) != 0) {
        return;
    }
    char *t = NULL;
    sqlite3_stmt *st = emu_stmt("SELECT tagging FROM s3_objects WHERE id = ?");
    if (st != NULL) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
            t = emu_col_dup(st, 0);
        }
        emu_stmt_done(st);
    }
    s3_tagging_xml(resp, t);
    free(t);
    if (strcmp(vid, "null") != 0) {
        emu_resp_header(resp, "x-amz-version-id", "%s", vid);
    }
}

void s3_delete_object_tagging(struct emu_request *req, struct emu_response *resp)
{
    int64_t id;
    char vid[40];
    if (s3_tag_target(req, resp, &id, vid) != 0) {
        return;
    }
    s3_set_tagging(resp, id, NULL);
    if (!resp->failed) {
        resp->status = 204;
    }
}
