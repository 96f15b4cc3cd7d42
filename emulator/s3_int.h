/*
 * s3_int.h - what the S3 service's files (svc_s3.c, s3_object.c,
 * s3_multipart.c, s3_notify.c, s3_checksum.c, s3_post.c, s3_config.c)
 * share. Not for other modules.
 *
 * Storage model: bucket rows in s3_buckets; every object version (and
 * delete marker) is a row of s3_objects whose body is an immutable file
 * emu_objects_dir()/<blob> with a random name (keys never become paths).
 * A row owns its blob file; copies get their own hard link. Files of rows
 * that go away are queued in s3_gc inside the same transaction and unlinked
 * by the S3 worker thread after the transaction commits. Event
 * notifications are queued the same way in s3_events.
 */
#ifndef S3_INT_H
#define S3_INT_H

#include <stdint.h>

#include "emu.h"
#include "s3_xml.h"

#define S3_NS "http://s3.amazonaws.com/doc/2006-03-01/"
#define S3_MIN_PART (5u * 1024 * 1024)
#define S3_BLOB_LEN 48

struct s3_bucket {
    char name[64];
    char account[16];
    char region[32];
    char versioning[16]; /* "", "Enabled", "Suspended" */
    double created;
};

/* Object metadata carried by PUT / Create / Copy REPLACE headers. */
struct s3_meta {
    char *content_type;
    char *cache_control;
    char *content_disposition;
    char *content_encoding;
    char *content_language;
    char *expires;
    char *user; /* JSON object {"name":"value"} of x-amz-meta-* (lower-case names) */
    char *storage_class;  /* x-amz-storage-class, NULL = STANDARD */
    char *sse;            /* x-amz-server-side-encryption, NULL = AES256 */
    char *sse_kms_key_id; /* x-amz-server-side-encryption-aws-kms-key-id (aws:kms*) */
};

/* One row of s3_objects, owned strings. */
struct s3_obj {
    int64_t id;
    char version_id[40];
    int is_latest;
    int delete_marker;
    int64_t size;
    char etag[80]; /* without quotes */
    double mtime;
    struct s3_meta meta;
    char checksum_algo[16]; /* "crc32", ... or "" */
    char checksum[96];      /* base64 */
    int parts;
    char blob[S3_BLOB_LEN];
    int tag_count;
    char *part_sizes;     /* "n1,n2,..." for multipart objects, or NULL */
    char *part_checksums; /* "sum1,sum2,..." (the parts' checksum_algo), or NULL */
};

/* A new version to write. */
struct s3_newobj {
    int delete_marker;
    int64_t size;
    const char *etag;
    const struct s3_meta *meta;
    const char *checksum_algo;
    const char *checksum;
    int parts;
    const char *blob;
    const char *part_sizes;     /* may be NULL */
    const char *part_checksums; /* may be NULL */
};

/* svc_s3.c: shared helpers. */
/* Loads the request's bucket; on failure fails resp (NoSuchBucket /
 * AccessDenied: another account's bucket, or one the request's
 * x-amz-expected-bucket-owner / x-amz-source-expected-bucket-owner does not
 * name) and returns -1. */
int s3_bucket_load(struct emu_request *req, struct emu_response *resp, const char *name,
                   struct s3_bucket *b);
const char *s3_bucket_name(const struct emu_request *req);
const char *s3_key(const struct emu_request *req);
void s3_owner_id(const char *account, char out[65]);
void s3_owner_xml(struct emu_buf *b, const char *account);
/* Fails resp with MalformedXML and returns NULL when the body is not XML. */
struct s3_xml *s3_body_xml(struct emu_request *req, struct emu_response *resp);
int s3_is_true(const char *s);
/* A non-negative integer argument v of name (dflt when v is NULL), capped
 * at max; -1 with resp failed (InvalidArgument) when it is not one. */
long s3_int_arg(struct emu_response *resp, const char *name, const char *v, long dflt, long max);
/* Percent-encodes when url != 0 (encoding-type=url), else appends escaped. */
void s3_xml_key(struct emu_buf *b, const char *tag, const char *value, int url);
void s3_blob_path(const char *blob, char *out, size_t len);
void s3_blob_new_name(char out[S3_BLOB_LEN]);
/* fsyncs and renames a file into the objects dir as a new blob. 0 / -1. */
int s3_blob_adopt(const char *tmp_path, char blob[S3_BLOB_LEN]);
/* Queues a blob file for deletion after commit. */
void s3_gc_add(const struct emu_request *req, const char *blob);
void s3_worker_kick(void);
void s3_b64(const unsigned char *data, size_t len, char *out, size_t outlen);
/* Parses an HTTP date (RFC 1123, RFC 850, asctime, ISO 8601). -1 if bad. */
double s3_parse_http_date(const char *s);
/* Fails with InternalFailure after logging an SQLite error. */
void s3_internal(struct emu_response *resp, const char *what);

/* Validates a <Tagging> body into a JSON array of {"Key","Value"}.
 * Returns the tree (caller deletes) or NULL (resp failed). */
cJSON *s3_parse_tagging(struct emu_request *req, struct emu_response *resp, int max_tags);
/* Renders a JSON tag array (may be NULL) as a <Tagging> document into resp. */
void s3_tagging_xml(struct emu_response *resp, const char *json);

/* s3_object.c */
void s3_meta_release(struct s3_meta *m);
/* Builds metadata from request headers. */
void s3_meta_from_req(const struct emu_request *req, struct s3_meta *m);
void s3_meta_dup(struct s3_meta *dst, const struct s3_meta *src);
/* Validates x-amz-storage-class and x-amz-server-side-encryption of a write
 * (InvalidStorageClass / InvalidArgument). 0, or -1 with resp failed. */
int s3_meta_check(struct emu_request *req, struct emu_response *resp);
/* Replaces m's storage class and SSE settings by the request's (CopyObject). */
void s3_meta_class_from_req(const struct emu_request *req, struct s3_meta *m);
/* x-amz-storage-class (when not STANDARD), x-amz-server-side-encryption and
 * the KMS key id header of stored metadata m. */
void s3_meta_sse_headers(struct emu_response *resp, const struct s3_meta *m);
/* The storage class to list for m ("STANDARD" when none). */
const char *s3_meta_class(const struct s3_meta *m);
void s3_obj_release(struct s3_obj *o);
/* 0 found, 1 not found, -1 error. version NULL: the latest row. */
int s3_obj_load(const char *bucket, const char *key, const char *version, struct s3_obj *o);
/* Writes a new version following the bucket's versioning. 0 / -1. */
int s3_obj_write(const struct emu_request *req, const struct s3_bucket *b, const char *key,
                 const struct s3_newobj *n, char version_out[40]);
/* Checks Content-MD5, x-amz-content-sha256, x-amz-checksum-* against an
 * upload. Fills algo/value with the checksum the client sent (or "").
 * Returns 0, or -1 with resp failed. */
int s3_check_upload(struct emu_request *req, struct emu_response *resp, const struct emu_upload *u,
                    char algo[16], char value[96]);
/* Computes the base64 checksum of an upload for an algorithm ("" if unknown). */
void s3_upload_checksum(const struct emu_upload *u, const char *algo, char out[96]);
/* Runs txn(req, resp, arg) in a write transaction for a body already
 * adopted as blob; removes the blob when anything failed. 0 or -1. */
int s3_commit_upload(struct emu_request *req, struct emu_response *resp, const char *blob,
                     int (*txn)(struct emu_request *, struct emu_response *, const void *),
                     const void *arg);
/* If-Match / If-None-Match for writes against the current latest. 0 or -1. */
int s3_write_preconditions(struct emu_request *req, struct emu_response *resp,
                           const struct s3_bucket *b, const char *key);

void s3_put_object(struct emu_request *req, struct emu_response *resp);
void s3_get_object(struct emu_request *req, struct emu_response *resp);
void s3_head_object(struct emu_request *req, struct emu_response *resp);
void s3_delete_object(struct emu_request *req, struct emu_response *resp);
void s3_delete_objects(struct emu_request *req, struct emu_response *resp);
void s3_copy_object(struct emu_request *req, struct emu_response *resp);
void s3_list_objects(struct emu_request *req, struct emu_response *resp);
void s3_list_objects_v2(struct emu_request *req, struct emu_response *resp);
void s3_list_object_versions(struct emu_request *req, struct emu_response *resp);
void s3_get_object_attributes(struct emu_request *req, struct emu_response *resp);
void s3_put_object_tagging(struct emu_request *req, struct emu_response *resp);
void s3_get_object_tagging(struct emu_request *req, struct emu_response *resp);
void s3_delete_object_tagging(struct emu_request *req, struct emu_response *resp);
/* Parses x-amz-copy-source ("/b/k?versionId=v"). Returns 0 or -1 (resp failed).
 * Caller frees *bucket, *key, *version. */
int s3_parse_copy_source(const char *src, struct emu_response *resp, char **bucket, char **key,
                         char **version);
/* Copies [off, off+len) of a blob into a new blob, computing its MD5. */
int s3_blob_copy_range(const char *src_blob, uint64_t off, uint64_t len, char blob[S3_BLOB_LEN],
                       unsigned char md5[16]);
/* Loads the copy source named by x-amz-copy-source (bucket access checked,
 * x-amz-copy-source-if-* applied). Returns 0 with *o filled (release it),
 * or -1 with resp failed. Caller frees the three strings in every case. */
int s3_copy_source_load(struct emu_request *req, struct emu_response *resp, struct s3_obj *o,
                        char **sbucket, char **skey, char **sver);

/* s3_multipart.c */
void s3_create_multipart_upload(struct emu_request *req, struct emu_response *resp);
void s3_upload_part(struct emu_request *req, struct emu_response *resp);
void s3_upload_part_copy(struct emu_request *req, struct emu_response *resp);
void s3_complete_multipart_upload(struct emu_request *req, struct emu_response *resp);
void s3_abort_multipart_upload(struct emu_request *req, struct emu_response *resp);
void s3_list_parts(struct emu_request *req, struct emu_response *resp);
void s3_list_multipart_uploads(struct emu_request *req, struct emu_response *resp);

/* s3_checksum.c. Algorithms are lower case ("crc32", "crc32c", "crc64nvme",
 * "sha1", "sha256"); values base64 of the big-endian digest. */
/* The digest size in bytes, 0 for an unknown algorithm. */
size_t s3_checksum_size(const char *algo);
/* 1 for the CRCs (which can be full-object checksums of multipart objects). */
int s3_checksum_is_crc(const char *algo);
/* 1 when value is well-formed base64 of a digest of algo's size. */
int s3_checksum_valid(const char *algo, const char *value);
/* Decodes base64 into out (cap bytes). Returns the length or -1. */
int s3_checksum_decode(const char *b64, unsigned char *out, size_t cap);
/* The binary digest of algo over a buffer into out. Returns its length or -1. */
int s3_buf_digest(const char *algo, const void *data, size_t len, unsigned char out[32]);
/* Computes algo over a whole file into out. 0, or -1 (I/O, unknown algo). */
int s3_file_checksum(const char *path, const char *algo, char out[96]);
/* The full-object CRC of a multipart object from its n parts' CRCs (base64)
 * and sizes, without reading data. 0, or -1 (not a CRC, a bad part sum). */
int s3_crc_full_object(const char *algo, const char *const *sums, const int64_t *sizes, size_t n,
                       char out[96]);

/* s3_post.c: POST Object (browser-based upload with a POST policy) */
void s3_post_object(struct emu_request *req, struct emu_response *resp);

/* s3_config.c: bucket settings (ACLs, encryption, public access block,
 * ownership controls, CORS) */
void s3_get_bucket_acl(struct emu_request *req, struct emu_response *resp);
void s3_put_bucket_acl(struct emu_request *req, struct emu_response *resp);
void s3_get_object_acl(struct emu_request *req, struct emu_response *resp);
void s3_put_object_acl(struct emu_request *req, struct emu_response *resp);
void s3_get_bucket_encryption(struct emu_request *req, struct emu_response *resp);
void s3_put_bucket_encryption(struct emu_request *req, struct emu_response *resp);
void s3_delete_bucket_encryption(struct emu_request *req, struct emu_response *resp);
void s3_get_public_access_block(struct emu_request *req, struct emu_response *resp);
void s3_put_public_access_block(struct emu_request *req, struct emu_response *resp);
void s3_delete_public_access_block(struct emu_request *req, struct emu_response *resp);
void s3_get_bucket_ownership_controls(struct emu_request *req, struct emu_response *resp);
void s3_put_bucket_ownership_controls(struct emu_request *req, struct emu_response *resp);
void s3_delete_bucket_ownership_controls(struct emu_request *req, struct emu_response *resp);
void s3_get_bucket_cors(struct emu_request *req, struct emu_response *resp);
void s3_put_bucket_cors(struct emu_request *req, struct emu_response *resp);
void s3_delete_bucket_cors(struct emu_request *req, struct emu_response *resp);
/* The route hook's last word: op, or the same-named refusal
 * (AccessControlListNotSupported) when a PutObject / CopyObject /
 * CreateMultipartUpload carries ACL headers granting more than the owner's
 * FULL_CONTROL to a bucket with ACLs disabled (reads the store briefly). */
const struct emu_op *s3_acl_route(struct emu_request *req, const struct emu_op *op);
/* CreateBucket: x-amz-object-ownership is valid and the ACL headers agree
 * with it (else InvalidBucketAclWithObjectOwnership). 0, or -1 with resp
 * failed. */
int s3_create_bucket_acl_check(struct emu_request *req, struct emu_response *resp);
/* CreateBucket, after the row is inserted: keeps x-amz-object-ownership.
 * 0, or -1 with resp failed. */
int s3_create_bucket_settings(struct emu_request *req, struct emu_response *resp, const char *name);
/* A canned ACL (NULL: none) on a write to bucket: 0 when the bucket's
 * ownership setting allows it, else -1 with resp failed
 * (AccessControlListNotSupported). Inside a transaction. */
int s3_acl_canned_allowed(struct emu_response *resp, const char *bucket, const char *acl);

/* s3_notify.c */
void s3_put_bucket_notification_configuration(struct emu_request *req, struct emu_response *resp);
void s3_get_bucket_notification_configuration(struct emu_request *req, struct emu_response *resp);
/* Queues notifications (inside the caller's transaction) for an event such
 * as "ObjectCreated:Put" on bucket/key. */
void s3_notify(const struct emu_request *req, const struct s3_bucket *b, const char *key,
               const char *event, int64_t size, const char *etag, const char *version);
/* Delivers queued notifications (worker thread, store not locked). */
void s3_notify_deliver(void);

#endif
