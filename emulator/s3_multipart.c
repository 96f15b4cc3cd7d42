/*
 * s3_multipart.c - S3 multipart uploads: CreateMultipartUpload, UploadPart,
 * UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload, ListParts,
 * ListMultipartUploads.
 *
 * Each part is its own blob file (s3_parts.blob), written before the row
 * that names it. Completion concatenates the chosen parts into a new blob,
 * writes the object version and drops every part of the upload in the same
 * transaction; part files are queued for deletion (s3_gc). The completion
 * is remembered (s3_completed, bounded) so a retried Complete with the same
 * parts gets the first answer again, as on AWS.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "s3_int.h"

struct s3_upload_row {
    char upload_id[80];
    double initiated;
    struct s3_meta meta;
    char checksum_algo[16];
    char checksum_type[16]; /* "COMPOSITE", "FULL_OBJECT", or "" (no algorithm) */
    char *tagging;
};

static void s3_upload_row_release(struct s3_upload_row *u)
{
    s3_meta_release(&u->meta);
    free(u->tagging);
    u->tagging = NULL;
}

static char *s3_opt_col(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? NULL : emu_col_dup(st, col);
}

/* The checksum type of an upload created with algo and no type: CRC64NVME
 * is always a full-object checksum, the others composite. */
static const char *s3_default_type(const char *algo)
{
    return strcmp(algo, "crc64nvme") == 0 ? "FULL_OBJECT" : "COMPOSITE";
}

/* Loads the upload named by ?uploadId for this bucket/key. Returns 0, or -1
 * with resp failed (NoSuchUpload). */
static int s3_upload_load(struct emu_request *req, struct emu_response *resp,
                          const struct s3_bucket *b, struct s3_upload_row *u)
{
    const char *id = emu_query(req, "uploadId");
    memset(u, 0, sizeof(*u));
    sqlite3_stmt *st =
        emu_stmt("SELECT upload_id, initiated, content_type, cache_control, content_disposition,"
                 " content_encoding, content_language, expires, meta, checksum_algo, tagging,"
                 " checksum_type, storage_class, sse, sse_kms_key_id FROM s3_uploads"
                 " WHERE upload_id = ? AND bucket = ? AND key = ?");
    if (st == NULL) {
        s3_internal(resp, "load upload");
        return -1;
    }
    sqlite3_bind_text(st, 1, id != NULL ? id : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, b->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, s3_key(req), -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        snprintf(u->upload_id, sizeof(u->upload_id), "%s", sqlite3_column_text(st, 0));
        u->initiated = sqlite3_column_double(st, 1);
        u->meta.content_type = s3_opt_col(st, 2);
        u->meta.cache_control = s3_opt_col(st, 3);
        u->meta.content_disposition = s3_opt_col(st, 4);
        u->meta.content_encoding = s3_opt_col(st, 5);
        u->meta.content_language = s3_opt_col(st, 6);
        u->meta.expires = s3_opt_col(st, 7);
        u->meta.user = s3_opt_col(st, 8);
        const unsigned char *a = sqlite3_column_text(st, 9);
        snprintf(u->checksum_algo, sizeof(u->checksum_algo), "%s", a ? (const char *)a : "");
        u->tagging = s3_opt_col(st, 10);
        u->meta.storage_class = s3_opt_col(st, 12);
        u->meta.sse = s3_opt_col(st, 13);
        u->meta.sse_kms_key_id = s3_opt_col(st, 14);
        const unsigned char *t = sqlite3_column_text(st, 11);
        snprintf(u->checksum_type, sizeof(u->checksum_type), "%s",
                 t != NULL                  ? (const char *)t
                 : u->checksum_algo[0] == 0 ? ""
                                            : s3_default_type(u->checksum_algo));
    }
    emu_stmt_done(st);
    if (rc != SQLITE_ROW) {
        emu_fail(resp, S3_NO_SUCH_UPLOAD, NULL);
        emu_fail_extra(resp, "UploadId", id != NULL ? id : "");
        return -1;
    }
    return 0;
}

static int s3_part_number(struct emu_request *req, struct emu_response *resp)
{
    const char *p = emu_query(req, "partNumber");
    char *end = NULL;
    long n = p != NULL ? strtol(p, &end, 10) : 0;
    if (p == NULL || end == p || *end != 0 || n < 1 || n > 10000) {
        emu_fail(resp, S3_INVALID_ARGUMENT,
                 "Part number must be an integer between 1 and 10000, inclusive");
        emu_fail_extra(resp, "ArgumentName", "partNumber");
        emu_fail_extra(resp, "ArgumentValue", p != NULL ? p : "");
        return -1;
    }
    return (int)n;
}

static void s3_lower(char *s)
{
    for (; *s; s++) {
        *s = (char)tolower((unsigned char)*s);
    }
}

static const char *s3_upper_algo(const char *a)
{
    static const char *const map[][2] = {
        {"crc32", "CRC32"},   {"crc32c", "CRC32C"},       {"sha1", "SHA1"},
        {"sha256", "SHA256"}, {"crc64nvme", "CRC64NVME"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(map[i][0], a) == 0) {
            return map[i][1];
        }
    }
    return NULL;
}

void s3_create_multipart_upload(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    struct s3_meta m = {0};
    const char *key = s3_key(req);
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0) {
        return;
    }
    if (strlen(key) > 1024) {
        emu_fail(resp, S3_KEY_TOO_LONG, NULL);
        return;
    }
    char algo[16] = "", type[16] = "";
    const char *ah = emu_header(req, "x-amz-checksum-algorithm");
    const char *th = emu_header(req, "x-amz-checksum-type");
    if (ah != NULL) {
        snprintf(algo, sizeof(algo), "%s", ah);
        s3_lower(algo);
        if (s3_upper_algo(algo) == NULL || strlen(ah) >= sizeof(algo)) {
            emu_fail(resp, S3_INVALID_REQUEST,
                     "Checksum algorithm provided is unsupported. Please try again with any of "
                     "the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]");
            return;
        }
    }
    if (th != NULL) {
        if (strcmp(th, "COMPOSITE") != 0 && strcmp(th, "FULL_OBJECT") != 0) {
            emu_fail(resp, S3_INVALID_REQUEST, "Value for x-amz-checksum-type header is invalid.");
            return;
        }
        if (algo[0] == 0) {
            emu_fail(resp, S3_INVALID_REQUEST,
                     "The x-amz-checksum-type header can only be used with the "
                     "x-amz-checksum-algorithm header.");
            return;
        }
        /* full-object checksums only combine for CRCs; CRC64NVME is never
         * composite */
        if ((strcmp(th, "FULL_OBJECT") == 0 && !s3_checksum_is_crc(algo)) ||
            (strcmp(th, "COMPOSITE") == 0 && strcmp(algo, "crc64nvme") == 0)) {
            emu_fail(resp, S3_INVALID_REQUEST,
                     "The %s checksum type cannot be used with the %s checksum algorithm.", th,
                     algo);
            return;
        }
        snprintf(type, sizeof(type), "%s", th);
    } else if (algo[0] != 0) {
        snprintf(type, sizeof(type), "%s", s3_default_type(algo));
    }
    if (s3_meta_check(req, resp) != 0) {
        goto out;
    }
    s3_meta_from_req(req, &m);
    char id[65];
    emu_random_alnum(id, 64, 0);
    id[64] = 0;
    sqlite3_stmt *st = emu_stmt(
        "INSERT INTO s3_uploads(upload_id, account, region, bucket, key, initiated, content_type,"
        " cache_control, content_disposition, content_encoding, content_language, expires, meta,"
        " checksum_algo, tagging, checksum_type, storage_class, sse, sse_kms_key_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (st == NULL) {
        s3_internal(resp, "create upload");
        goto out;
    }
    const char *vals[] = {m.content_type,
                          m.cache_control,
                          m.content_disposition,
                          m.content_encoding,
                          m.content_language,
                          m.expires,
                          m.user,
                          algo[0] ? algo : NULL,
                          emu_header(req, "x-amz-tagging"),
                          type[0] ? type : NULL,
                          m.storage_class,
                          m.sse,
                          m.sse_kms_key_id};
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, b.account, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, b.region, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, b.name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 6, emu_now());
    for (int i = 0; i < (int)(sizeof(vals) / sizeof(vals[0])); i++) {
        if (vals[i] != NULL) {
            sqlite3_bind_text(st, 7 + i, vals[i], -1, SQLITE_TRANSIENT);
        }
    }
    int rc = sqlite3_step(st);
    emu_stmt_done(st);
    if (rc != SQLITE_DONE) {
        s3_internal(resp, "create upload");
        goto out;
    }
    struct emu_buf x = {0};
    emu_buf_puts(&x, "<InitiateMultipartUploadResult xmlns=\"" S3_NS "\">");
    emu_buf_xml_elem(&x, "Bucket", b.name);
    emu_buf_xml_elem(&x, "Key", key);
    emu_buf_xml_elem(&x, "UploadId", id);
    emu_buf_puts(&x, "</InitiateMultipartUploadResult>");
    emu_resp_xml(resp, 200, x.data);
    s3_meta_sse_headers(resp, &m);
    emu_buf_release(&x);
    if (algo[0] != 0) {
        emu_resp_header(resp, "x-amz-checksum-algorithm", "%s", s3_upper_algo(algo));
        emu_resp_header(resp, "x-amz-checksum-type", "%s", type);
    }
out:
    s3_meta_release(&m);
}

/* Stores a part row, queueing the file of a part it replaces. 0 or -1. */
static int s3_part_store(const struct emu_request *req, const struct s3_bucket *b,
                         const char *upload_id, int pn, int64_t size, const char *etag,
                         const char *blob, const char *algo, const char *sum)
{
    sqlite3_stmt *st =
        emu_stmt("SELECT blob FROM s3_parts WHERE upload_id = ? AND part_number = ?");
    if (st == NULL) {
        return -1;
    }
    sqlite3_bind_text(st, 1, upload_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, pn);
    char *old = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        old = emu_col_dup(st, 0);
    }
    emu_stmt_done(st);
    if (old != NULL) {
        s3_gc_add(req, old);
        free(old);
    }
    st = emu_stmt(
        "INSERT OR REPLACE INTO s3_parts(upload_id, part_number, account, region, size,"
        " etag, mtime, blob, checksum_algo, checksum) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (st == NULL) {
        return -1;
    }
    sqlite3_bind_text(st, 1, upload_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, pn);
    sqlite3_bind_text(st, 3, b->account, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, b->region, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, size);
    sqlite3_bind_text(st, 6, etag, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 7, emu_now());
    sqlite3_bind_text(st, 8, blob, -1, SQLITE_TRANSIENT);
    if (algo != NULL && algo[0] != 0) {
        sqlite3_bind_text(st, 9, algo, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 10, sum, -1, SQLITE_TRANSIENT);
    }
    int rc = sqlite3_step(st);
    emu_stmt_done(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

struct s3_part_args {
    int pn;
    const struct emu_upload *u;
    const char *algo; /* the client's checksum, may be "" */
    const char *sum;
    const char *blob;
    const char *dflt_algo; /* the upload's algorithm when the client sent none */
    const char *dflt_sum;  /* its value over the part ("" if not computed) */
};

/* The checksum algorithm ?uploadId was created with, into algo ("" when
 * none or no such upload). Takes the store lock for a moment. */
static void s3_upload_algo_peek(struct emu_request *req, char algo[16])
{
    algo[0] = 0;
    if (emu_store_begin(0) != 0) {
        return;
    }
    sqlite3_stmt *st = emu_stmt("SELECT checksum_algo FROM s3_uploads WHERE upload_id = ?");
    if (st != NULL) {
        const char *id = emu_query(req, "uploadId");
        sqlite3_bind_text(st, 1, id != NULL ? id : "", -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL) {
            snprintf(algo, 16, "%s", sqlite3_column_text(st, 0));
        }
        emu_stmt_done(st);
    }
    emu_store_end(0);
}

/* The transactional half of UploadPart. 0, or -1 with resp failed. */
static int s3_upload_part_txn(struct emu_request *req, struct emu_response *resp, const void *arg)
{
    const struct s3_part_args *a = arg;
    struct s3_bucket b;
    struct s3_upload_row up;
    char algo[16], sum[96], etag[33];
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0 ||
        s3_upload_load(req, resp, &b, &up) != 0) {
        return -1;
    }
    snprintf(algo, sizeof(algo), "%s", a->algo);
    snprintf(sum, sizeof(sum), "%s", a->sum);
    if (up.checksum_algo[0] != 0 && algo[0] != 0 && strcmp(algo, up.checksum_algo) != 0) {
        emu_fail(resp, S3_INVALID_REQUEST,
                 "Checksum Type mismatch occurred, expected checksum Type: %s, actual checksum "
                 "Type: %s",
                 up.checksum_algo, algo);
        s3_upload_row_release(&up);
        return -1;
    }
    /* A part sent without a checksum gets the upload's algorithm, computed
     * before the transaction (a->dflt_sum) when the core did not; the part
     * of an upload without one, S3's default CRC64NVME. */
    if (algo[0] == 0 && up.checksum_algo[0] == 0 && strcmp(a->dflt_algo, "crc64nvme") == 0 &&
        a->dflt_sum[0] != 0) {
        snprintf(algo, sizeof(algo), "%s", a->dflt_algo);
        snprintf(sum, sizeof(sum), "%s", a->dflt_sum);
    }
    if (algo[0] == 0 && up.checksum_algo[0] != 0) {
        snprintf(algo, sizeof(algo), "%s", up.checksum_algo);
        if (strcmp(a->dflt_algo, algo) == 0 && a->dflt_sum[0] != 0) {
            snprintf(sum, sizeof(sum), "%s", a->dflt_sum);
        } else if (strcmp(algo, "crc32") == 0) {
            s3_upload_checksum(a->u, algo, sum);
        } else {
            /* the upload's row changed under us: compute from the blob */
            char path[1024];
            s3_blob_path(a->blob, path, sizeof(path));
            if (s3_file_checksum(path, algo, sum) != 0) {
                s3_upload_row_release(&up);
                s3_internal(resp, "upload part checksum");
                return -1;
            }
        }
    }
    emu_hex(a->u->md5, 16, etag);
    int rc =
        s3_part_store(req, &b, up.upload_id, a->pn, (int64_t)a->u->size, etag, a->blob, algo, sum);
    s3_upload_row_release(&up);
    if (rc != 0) {
        s3_internal(resp, "upload part");
        return -1;
    }
    resp->status = 200;
    emu_resp_header(resp, "ETag", "\"%s\"", etag);
    emu_resp_header(resp, "x-amz-server-side-encryption", "AES256");
    if (algo[0] != 0 && sum[0] != 0) {
        char hn[48];
        snprintf(hn, sizeof(hn), "x-amz-checksum-%s", algo);
        emu_resp_header(resp, hn, "%s", sum);
    }
    return 0;
}

/* UploadPart runs without the dispatcher's transaction (EMU_OP_NO_TXN):
 * the part is verified, fsynced and renamed with the store unlocked, then
 * recorded in one write transaction. */
void s3_upload_part(struct emu_request *req, struct emu_response *resp)
{
    struct emu_upload *u = req->upload;
    int pn = s3_part_number(req, resp);
    if (pn < 0) {
        return;
    }
    if (u == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    char algo[16], sum[96], blob[S3_BLOB_LEN], dalgo[16] = "", dsum[96] = "";
    if (s3_check_upload(req, resp, u, algo, sum) != 0) {
        return;
    }
    if (algo[0] == 0) {
        /* the core computes CRC32 always, the others only when named: the
         * upload's algorithm (S3's default CRC64NVME for an upload created
         * without one) over the file, outside the store lock */
        s3_upload_algo_peek(req, dalgo);
        if (dalgo[0] == 0) {
            snprintf(dalgo, sizeof(dalgo), "crc64nvme");
        }
        if (strcmp(dalgo, "crc64nvme") == 0 && u->has_crc64nvme) {
            s3_upload_checksum(u, dalgo, dsum); /* computed while streaming */
        } else if (strcmp(dalgo, "crc32") != 0 && s3_file_checksum(u->path, dalgo, dsum) != 0) {
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
            return;
        }
    }
    if (s3_blob_adopt(u->path, blob) != 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    u->path[0] = 0;
    struct s3_part_args a = {pn, u, algo, sum, blob, dalgo, dsum};
    s3_commit_upload(req, resp, blob, s3_upload_part_txn, &a);
}

void s3_upload_part_copy(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    struct s3_upload_row up;
    struct s3_obj src;
    char *sb = NULL, *sk = NULL, *sv = NULL;
    int have_src = 0;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0) {
        return;
    }
    int pn = s3_part_number(req, resp);
    if (pn < 0 || s3_upload_load(req, resp, &b, &up) != 0) {
        return;
    }
    if (s3_copy_source_load(req, resp, &src, &sb, &sk, &sv) != 0) {
        goto out;
    }
    have_src = 1;
    uint64_t off = 0, len = (uint64_t)src.size;
    const char *range = emu_header(req, "x-amz-copy-source-range");
    if (range != NULL) {
        unsigned long long a = 0, z = 0;
        char extra;
        if (sscanf(range, "bytes=%llu-%llu%c", &a, &z, &extra) != 2 || z < a ||
            z >= (unsigned long long)src.size) {
            emu_fail(resp, S3_INVALID_ARGUMENT,
                     "Range specified is not valid for source object of size: %lld",
                     (long long)src.size);
            goto out;
        }
        off = a;
        len = z - a + 1;
    }
    char blob[S3_BLOB_LEN], etag[33];
    unsigned char md5[16];
    if (len > 0 && src.blob[0] != 0) {
        if (s3_blob_copy_range(src.blob, off, len, blob, md5) != 0) {
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
            goto out;
        }
    } else {
        unsigned int dl = 0;
        EVP_Digest("", 0, md5, &dl, EVP_md5(), NULL);
        if (s3_blob_copy_range(src.blob, 0, 0, blob, md5) != 0) {
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
            goto out;
        }
    }
    emu_hex(md5, 16, etag);
    /* the part gets the upload's checksum, as an uploaded one would */
    char sum[96] = "";
    const char *palgo = up.checksum_algo[0] != 0 ? up.checksum_algo : "crc64nvme";
    {
        char path[1024];
        s3_blob_path(blob, path, sizeof(path));
        if (s3_file_checksum(path, palgo, sum) != 0) {
            unlink(path);
            s3_internal(resp, "upload part copy checksum");
            goto out;
        }
    }
    if (s3_part_store(req, &b, up.upload_id, pn, (int64_t)len, etag, blob, palgo, sum) != 0) {
        char path[1024];
        s3_blob_path(blob, path, sizeof(path));
        unlink(path);
        s3_internal(resp, "upload part copy");
        goto out;
    }
    char t[32];
    emu_time_iso(t, emu_now());
    struct emu_buf x = {0};
    emu_buf_puts(&x, "<CopyPartResult xmlns=\"" S3_NS "\">");
    emu_buf_printf(&x, "<ETag>&quot;%s&quot;</ETag>", etag);
    emu_buf_xml_elem(&x, "LastModified", t);
    if (sum[0] != 0) {
        char tag[32];
        snprintf(tag, sizeof(tag), "Checksum%s", s3_upper_algo(palgo));
        emu_buf_xml_elem(&x, tag, sum);
    }
    emu_buf_puts(&x, "</CopyPartResult>");
    emu_resp_xml(resp, 200, x.data);
    emu_buf_release(&x);
    if (strcmp(src.version_id, "null") != 0) {
        emu_resp_header(resp, "x-amz-copy-source-version-id", "%s", src.version_id);
    }
out:
    if (have_src) {
        s3_obj_release(&src);
    }
    free(sb);
    free(sk);
    free(sv);
    s3_upload_row_release(&up);
}

/* Strips quotes from an ETag into out. */
static void s3_unquote(const char *in, char *out, size_t len)
{
    while (*in == ' ' || *in == '"') {
        in++;
    }
    snprintf(out, len, "%s", in);
    size_t n = strlen(out);
    while (n > 0 && (out[n - 1] == '"' || out[n - 1] == ' ')) {
        out[--n] = 0;
    }
}

struct s3_part_row {
    int number;
    int64_t size;
    char etag[80];
    char blob[S3_BLOB_LEN];
    char algo[16]; /* the part's stored checksum, "" if none */
    char sum[96];
};

/* The checksum of a multipart object from its parts' checksums (nothing
 * read): for a COMPOSITE upload the algorithm over the concatenated binary
 * part checksums, base64, "-N"; for FULL_OBJECT the CRC of the whole object
 * by CRC combination. Returns 0 with out filled, -1 when a part does not
 * carry a checksum of the upload's algorithm. */
static int s3_multipart_checksum(const struct s3_upload_row *up, const struct s3_part_row *parts,
                                 size_t n, char out[96])
{
    const char *algo = up->checksum_algo;
    size_t width = s3_checksum_size(algo);
    out[0] = 0;
    if (width == 0) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(parts[i].algo, algo) != 0 || parts[i].sum[0] == 0) {
            return -1;
        }
    }
    if (strcmp(up->checksum_type, "FULL_OBJECT") == 0) {
        const char **sums = calloc(n + 1, sizeof(*sums));
        int64_t *sizes = calloc(n + 1, sizeof(*sizes));
        int rc = -1;
        if (sums != NULL && sizes != NULL) {
            for (size_t i = 0; i < n; i++) {
                sums[i] = parts[i].sum;
                sizes[i] = parts[i].size;
            }
            rc = s3_crc_full_object(algo, sums, sizes, n, out);
        }
        free(sums);
        free(sizes);
        return rc;
    }
    unsigned char *bin = malloc(n * width + 1);
    if (bin == NULL) {
        return -1;
    }
    int rc = -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char one[48];
        if (s3_checksum_decode(parts[i].sum, one, sizeof(one)) != (int)width) {
            goto out;
        }
        memcpy(bin + i * width, one, width);
    }
    unsigned char d[32];
    int dn = s3_buf_digest(algo, bin, n * width, d);
    if (dn <= 0) {
        goto out;
    }
    char b64[90];
    s3_b64(d, (size_t)dn, b64, sizeof(b64));
    snprintf(out, 96, "%s-%zu", b64, n);
    rc = 0;
out:
    free(bin);
    return rc;
}

/* Appends a whole blob to fd. 0 or -1. */
static int s3_append_blob(int out, const char *blob, int64_t size)
{
    char path[1024];
    s3_blob_path(blob, path, sizeof(path));
    int in = open(path, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        return -1;
    }
    int64_t done = 0;
    int rc = 0;
    while (done < size) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)(size - done), 0);
        if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL)) {
            char buf[65536];
            n = read(in, buf, sizeof(buf));
            if (n > 0) {
                for (ssize_t w = 0; w < n;) {
                    ssize_t k = write(out, buf + w, (size_t)(n - w));
                    if (k < 0) {
                        rc = -1;
                        goto out;
                    }
                    w += k;
                }
            }
        }
        if (n <= 0) {
            rc = n == 0 ? -1 : (errno == EINTR ? 0 : -1);
            if (rc != 0) {
                goto out;
            }
            continue;
        }
        done += n;
    }
out:
    close(in);
    return rc;
}

/* Drops every part of an upload and the upload itself, queueing files. */
static int s3_upload_drop(const struct emu_request *req, const char *upload_id)
{
    struct emu_kvlist blobs = {0};
    sqlite3_stmt *st = emu_stmt("SELECT blob FROM s3_parts WHERE upload_id = ?");
    if (st == NULL) {
        return -1;
    }
    sqlite3_bind_text(st, 1, upload_id, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
        emu_kv_add(&blobs, (const char *)sqlite3_column_text(st, 0), "");
    }
    emu_stmt_done(st);
    for (size_t i = 0; i < blobs.n; i++) {
        s3_gc_add(req, blobs.items[i].key);
    }
    emu_kv_release(&blobs);
    st = emu_stmt("DELETE FROM s3_parts WHERE upload_id = ?");
    if (st == NULL) {
        return -1;
    }
    sqlite3_bind_text(st, 1, upload_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    emu_stmt_done(st);
    st = emu_stmt("DELETE FROM s3_uploads WHERE upload_id = ?");
    if (st == NULL) {
        return -1;
    }
    sqlite3_bind_text(st, 1, upload_id, -1, SQLITE_TRANSIENT);
    int rc2 = sqlite3_step(st);
    emu_stmt_done(st);
    return rc == SQLITE_DONE && rc2 == SQLITE_DONE ? 0 : -1;
}

/* The object-level headers of a Complete: x-amz-checksum-type must be the
 * upload's type, x-amz-checksum-<algo> the object's checksum (with or
 * without the "-N" of a composite one), x-amz-mp-object-size its size.
 * Returns 0, or -1 with resp failed. */
static int s3_complete_headers_check(struct emu_request *req, struct emu_response *resp,
                                     const struct s3_upload_row *up,
                                     const struct s3_part_row *parts, size_t nparts)
{
    const char *type = emu_header(req, "x-amz-checksum-type");
    if (type != NULL && strcmp(type, up->checksum_type[0] ? up->checksum_type : "") != 0) {
        emu_fail(resp, S3_BAD_DIGEST,
                 "The checksum type you specified did not match the checksum type of the "
                 "upload.");
        return -1;
    }
    const char *size = emu_header(req, "x-amz-mp-object-size");
    if (size != NULL) {
        int64_t total = 0;
        for (size_t i = 0; i < nparts; i++) {
            total += parts[i].size;
        }
        char *end = NULL;
        errno = 0;
        long long v = strtoll(size, &end, 10);
        if (errno != 0 || end == size || *end != 0 || v != total) {
            emu_fail(resp, S3_INVALID_REQUEST,
                     "The provided 'x-amz-mp-object-size' header value %s does not match what "
                     "was computed: %lld",
                     size, (long long)total);
            return -1;
        }
    }
    if (up->checksum_algo[0] == 0) {
        return 0;
    }
    char name[48];
    snprintf(name, sizeof(name), "x-amz-checksum-%s", up->checksum_algo);
    const char *given = emu_header(req, name);
    if (given == NULL) {
        return 0;
    }
    char mine[96];
    if (s3_multipart_checksum(up, parts, nparts, mine) != 0) {
        return 0;
    }
    size_t gl = strlen(given);
    int same = strcmp(given, mine) == 0 || (strncmp(mine, given, gl) == 0 && mine[gl] == '-');
    if (!same) {
        emu_fail(resp, S3_BAD_DIGEST, "The %s you specified did not match the calculated checksum.",
                 s3_upper_algo(up->checksum_algo));
        return -1;
    }
    return 0;
}

/* Phase 1 of Complete (store locked): the upload exists, the body lists
 * existing parts in order with matching ETags (and checksums), non-last
 * parts are large enough and the write preconditions hold. Fills *parts
 * (caller frees). Returns 0, or -1 with resp failed. */
static int s3_complete_check(struct emu_request *req, struct emu_response *resp,
                             const struct s3_bucket *b, const struct s3_upload_row *up,
                             const struct s3_xml *x, struct s3_part_row **out, size_t *nout)
{
    struct s3_part_row *parts = NULL;
    size_t nparts = 0, count = 0;
    *out = NULL;
    *nout = 0;
    for (struct s3_xml *p = s3_xml_child(x, "Part"); p != NULL; p = s3_xml_next(p)) {
        count++;
    }
    if (strcmp(x->name, "CompleteMultipartUpload") != 0 || count == 0 || count > 10000) {
        emu_fail(resp, S3_MALFORMED_XML, NULL);
        return -1;
    }
    parts = calloc(count, sizeof(*parts));
    if (parts == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return -1;
    }
    int prev = 0;
    for (struct s3_xml *p = s3_xml_child(x, "Part"); p != NULL; p = s3_xml_next(p)) {
        const char *pns = s3_xml_text(p, "PartNumber");
        const char *et = s3_xml_text(p, "ETag");
        char *end = NULL;
        long pn = pns != NULL ? strtol(pns, &end, 10) : 0;
        if (pns == NULL || et == NULL || end == pns || *end != 0 || pn < 1 || pn > 10000) {
            emu_fail(resp, S3_MALFORMED_XML, NULL);
            goto fail;
        }
        if (pn <= prev) {
            emu_fail(resp, S3_INVALID_PART_ORDER, NULL);
            emu_fail_extra(resp, "UploadId", up->upload_id);
            goto fail;
        }
        prev = (int)pn;
        char want[80];
        s3_unquote(et, want, sizeof(want));
        sqlite3_stmt *st = emu_stmt("SELECT size, etag, blob, checksum_algo, checksum FROM s3_parts"
                                    " WHERE upload_id = ? AND part_number = ?");
        if (st == NULL) {
            s3_internal(resp, "complete");
            goto fail;
        }
        sqlite3_bind_text(st, 1, up->upload_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 2, (int)pn);
        int found = sqlite3_step(st) == SQLITE_ROW;
        int ok = found && strcmp((const char *)sqlite3_column_text(st, 1), want) == 0;
        if (ok) {
            struct s3_part_row *r = &parts[nparts++];
            r->number = (int)pn;
            r->size = sqlite3_column_int64(st, 0);
            snprintf(r->etag, sizeof(r->etag), "%s", want);
            snprintf(r->blob, sizeof(r->blob), "%s", sqlite3_column_text(st, 2));
            const unsigned char *ca = sqlite3_column_text(st, 3);
            const unsigned char *cv = sqlite3_column_text(st, 4);
            snprintf(r->algo, sizeof(r->algo), "%s", ca != NULL ? (const char *)ca : "");
            snprintf(r->sum, sizeof(r->sum), "%s", cv != NULL ? (const char *)cv : "");
            if (ca != NULL) {
                const char *up_name = s3_upper_algo((const char *)ca);
                char tag[32];
                snprintf(tag, sizeof(tag), "Checksum%s", up_name != NULL ? up_name : "");
                const char *given = s3_xml_text(p, tag);
                if (given != NULL && (cv == NULL || strcmp(given, (const char *)cv) != 0)) {
                    ok = 0;
                }
            }
            if (ok && strcmp(up->checksum_type, "COMPOSITE") == 0) {
                char tag[32];
                snprintf(tag, sizeof(tag), "Checksum%s", s3_upper_algo(up->checksum_algo));
                if (s3_xml_text(p, tag) == NULL) {
                    emu_stmt_done(st);
                    emu_fail(resp, S3_INVALID_REQUEST,
                             "The upload was created using a %s checksum. The complete request "
                             "must include the checksum for each part. It was missing for part "
                             "%ld in the request.",
                             up->checksum_algo, pn);
                    goto fail;
                }
            }
            if (strlen(r->etag) != 32) {
                ok = 0;
            }
        }
        emu_stmt_done(st);
        if (!ok) {
            emu_fail(resp, S3_INVALID_PART, NULL);
            emu_fail_extra(resp, "UploadId", up->upload_id);
            emu_fail_extra(resp, "PartNumber", pns);
            emu_fail_extra(resp, "ETag", et);
            goto fail;
        }
    }
    for (size_t i = 0; i + 1 < nparts; i++) {
        if (parts[i].size < (int64_t)S3_MIN_PART) {
            char sz[32], pn[16];
            snprintf(sz, sizeof(sz), "%lld", (long long)parts[i].size);
            snprintf(pn, sizeof(pn), "%d", parts[i].number);
            emu_fail(resp, S3_ENTITY_TOO_SMALL, NULL);
            emu_fail_extra(resp, "UploadId", up->upload_id);
            emu_fail_extra(resp, "ProposedSize", sz);
            emu_fail_extra(resp, "MinSizeAllowed", "5242880");
            emu_fail_extra(resp, "PartNumber", pn);
            emu_fail_extra(resp, "ETag", parts[i].etag);
            goto fail;
        }
    }
    if (s3_complete_headers_check(req, resp, up, parts, nparts) != 0 ||
        s3_write_preconditions(req, resp, b, s3_key(req)) != 0) {
        goto fail;
    }
    *out = parts;
    *nout = nparts;
    return 0;
fail:
    free(parts);
    return -1;
}

/* Phase 2 of Complete (store not locked): concatenates the parts into a new
 * blob and computes the composite ETag. Returns 0, -1 when a part file is
 * gone (a concurrent Abort or part replacement) or on I/O errors. */
static int s3_complete_concat(const struct s3_part_row *parts, size_t nparts,
                              char blob[S3_BLOB_LEN], char etag[48], int64_t *total)
{
    char tmp[1024], rnd[17];
    int rc = -1;
    emu_random_hex(rnd, 16);
    rnd[16] = 0;
    snprintf(tmp, sizeof(tmp), "%s/s3mpu-%s", emu_tmp_dir(), rnd);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    *total = 0;
    if (fd < 0 || ctx == NULL || EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1) {
        goto out;
    }
    for (size_t i = 0; i < nparts; i++) {
        unsigned char bin[16];
        for (int k = 0; k < 16; k++) {
            char h[3] = {parts[i].etag[2 * k], parts[i].etag[2 * k + 1], 0};
            bin[k] = (unsigned char)strtol(h, NULL, 16);
        }
        EVP_DigestUpdate(ctx, bin, 16);
        if (s3_append_blob(fd, parts[i].blob, parts[i].size) != 0) {
            emu_warn("s3: cannot append part %d: %s", parts[i].number, strerror(errno));
            goto out;
        }
        *total += parts[i].size;
    }
    close(fd);
    fd = -1;
    unsigned char md[16];
    char hex[33];
    EVP_DigestFinal_ex(ctx, md, NULL);
    emu_hex(md, 16, hex);
    snprintf(etag, 48, "%s-%zu", hex, nparts);
    if (s3_blob_adopt(tmp, blob) != 0) {
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0) {
        close(fd);
    }
    if (rc != 0) {
        unlink(tmp);
    }
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* ------------------------------------------------ completed-upload records */

/* A completed upload is remembered in s3_completed so that a retried
 * CompleteMultipartUpload (the client lost the first answer) gets the same
 * answer again, as on AWS. Records are kept for a day, and at most the
 * latest S3_COMPLETED_PER_BUCKET per bucket. */
#define S3_COMPLETED_SECONDS (24.0 * 3600.0)
#define S3_COMPLETED_PER_BUCKET 1000

/* Renders the CompleteMultipartUploadResult (and its headers) into resp.
 * vid NULL: no x-amz-version-id. sum "" or NULL: no checksum. */
static void s3_complete_result(struct emu_response *resp, const char *bucket, const char *key,
                               const char *etag, const char *algo, const char *sum, const char *vid,
                               const struct s3_meta *m)
{
    struct emu_buf o = {0};
    emu_buf_puts(&o, "<CompleteMultipartUploadResult xmlns=\"" S3_NS "\"><Location>");
    emu_buf_xml_escape(&o, emu_base_url());
    emu_buf_puts(&o, "/");
    emu_buf_url_encode(&o, bucket, strlen(bucket), 0);
    emu_buf_puts(&o, "/");
    emu_buf_url_encode(&o, key, strlen(key), 1);
    emu_buf_puts(&o, "</Location>");
    emu_buf_xml_elem(&o, "Bucket", bucket);
    emu_buf_xml_elem(&o, "Key", key);
    emu_buf_printf(&o, "<ETag>&quot;%s&quot;</ETag>", etag);
    const char *un = algo != NULL ? s3_upper_algo(algo) : NULL;
    if (un != NULL && sum != NULL && sum[0] != 0) {
        char tag[32];
        snprintf(tag, sizeof(tag), "Checksum%s", un);
        emu_buf_xml_elem(&o, tag, sum);
        emu_buf_xml_elem(&o, "ChecksumType",
                         strchr(sum, '-') != NULL ? "COMPOSITE" : "FULL_OBJECT");
    }
    emu_buf_puts(&o, "</CompleteMultipartUploadResult>");
    emu_resp_xml(resp, 200, o.data);
    if (m != NULL) {
        /* CompleteMultipartUpload answers no x-amz-storage-class */
        struct s3_meta sse = *m;
        sse.storage_class = NULL;
        s3_meta_sse_headers(resp, &sse);
    } else {
        emu_resp_header(resp, "x-amz-server-side-encryption", "AES256");
    }
    emu_buf_release(&o);
    if (vid != NULL) {
        emu_resp_header(resp, "x-amz-version-id", "%s", vid);
    }
}

/* Appends "N:etag," for one part (etag unquoted) to a part-list signature. */
static void s3_sig_add(struct emu_buf *sig, long pn, const char *etag)
{
    char want[80];
    s3_unquote(etag, want, sizeof(want));
    emu_buf_printf(sig, "%ld:%s,", pn, want);
}

/* The part list of a Complete body as a signature (see s3_sig_add) into
 * sig. Returns 0, or -1 when a part lacks a number or an ETag. */
static int s3_body_parts_sig(const struct s3_xml *x, struct emu_buf *sig)
{
    for (struct s3_xml *p = s3_xml_child(x, "Part"); p != NULL; p = s3_xml_next(p)) {
        const char *pns = s3_xml_text(p, "PartNumber");
        const char *et = s3_xml_text(p, "ETag");
        char *end = NULL;
        long pn = pns != NULL ? strtol(pns, &end, 10) : 0;
        if (pns == NULL || et == NULL || end == pns || *end != 0) {
            return -1;
        }
        s3_sig_add(sig, pn, et);
    }
    return 0;
}

/* Records a completion (inside Complete's commit transaction) and forgets
 * old records of the bucket. 0 or -1. */
static int s3_completed_add(const struct emu_request *req, const struct s3_bucket *b,
                            const char *upload_id, const char *key, const struct s3_part_row *parts,
                            size_t nparts, const char *etag, const char *vid, const char *algo,
                            const char *sum)
{
    struct emu_buf sig = {0};
    for (size_t i = 0; i < nparts; i++) {
        s3_sig_add(&sig, parts[i].number, parts[i].etag);
    }
    double now = emu_now();
    int rc = -1;
    sqlite3_stmt *st = emu_stmt(
        "INSERT OR REPLACE INTO s3_completed(upload_id, account, region, bucket, key, completed,"
        " parts, etag, version_id, checksum_algo, checksum)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (st == NULL) {
        goto out;
    }
    sqlite3_bind_text(st, 1, upload_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, b->account, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, b->region, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, b->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 6, now);
    sqlite3_bind_text(st, 7, sig.data != NULL ? sig.data : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 8, etag, -1, SQLITE_TRANSIENT);
    if (vid != NULL) {
        sqlite3_bind_text(st, 9, vid, -1, SQLITE_TRANSIENT);
    }
    if (algo != NULL && algo[0] != 0 && sum != NULL && sum[0] != 0) {
        sqlite3_bind_text(st, 10, algo, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 11, sum, -1, SQLITE_TRANSIENT);
    }
    int src = sqlite3_step(st);
    emu_stmt_done(st);
    if (src != SQLITE_DONE) {
        goto out;
    }
    /* bounded: drop what is older than a day or beyond the newest N */
    st = emu_stmt("DELETE FROM s3_completed WHERE bucket = ?1 AND (completed < ?2 OR upload_id IN"
                  " (SELECT upload_id FROM s3_completed WHERE bucket = ?1"
                  " ORDER BY completed DESC LIMIT -1 OFFSET ?3))");
    if (st == NULL) {
        goto out;
    }
    sqlite3_bind_text(st, 1, b->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 2, now - S3_COMPLETED_SECONDS);
    sqlite3_bind_int(st, 3, S3_COMPLETED_PER_BUCKET);
    src = sqlite3_step(st);
    emu_stmt_done(st);
    rc = src == SQLITE_DONE ? 0 : -1;
out:
    emu_buf_release(&sig);
    (void)req;
    return rc;
}

/* A Complete for an upload that was already completed (store locked).
 * Returns 0 when there is no record of ?uploadId for this bucket/key;
 * 1 when resp holds the answer: the first completion's result again when
 * the body lists the same parts, else NoSuchUpload (or MalformedXML). */
static int s3_completed_replay(struct emu_request *req, struct emu_response *resp,
                               const struct s3_bucket *b)
{
    const char *id = emu_query(req, "uploadId");
    const char *key = s3_key(req);
    sqlite3_stmt *st = emu_stmt("SELECT parts, etag, version_id, checksum_algo, checksum"
                                " FROM s3_completed WHERE upload_id = ? AND bucket = ? AND key = ?"
                                " AND completed >= ?");
    if (st == NULL) {
        s3_internal(resp, "complete");
        return 1;
    }
    sqlite3_bind_text(st, 1, id != NULL ? id : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, b->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 4, emu_now() - S3_COMPLETED_SECONDS);
    if (sqlite3_step(st) != SQLITE_ROW) {
        emu_stmt_done(st);
        return 0;
    }
    char *parts = emu_col_dup(st, 0), *etag = emu_col_dup(st, 1), *vid = s3_opt_col(st, 2);
    char *algo = s3_opt_col(st, 3), *sum = s3_opt_col(st, 4);
    emu_stmt_done(st);
    struct emu_buf sig = {0};
    struct s3_xml *x = s3_body_xml(req, resp);
    if (x != NULL) {
        int same = strcmp(x->name, "CompleteMultipartUpload") == 0 &&
                   s3_body_parts_sig(x, &sig) == 0 && sig.data != NULL && parts != NULL &&
                   strcmp(sig.data, parts) == 0;
        if (same) {
            s3_complete_result(resp, b->name, key, etag != NULL ? etag : "", algo, sum, vid,
                               NULL);
        } else {
            emu_fail(resp, S3_NO_SUCH_UPLOAD, NULL);
            emu_fail_extra(resp, "UploadId", id != NULL ? id : "");
        }
    }
    s3_xml_free(x);
    emu_buf_release(&sig);
    free(parts);
    free(etag);
    free(vid);
    free(algo);
    free(sum);
    return 1;
}

/* Phase 3 of Complete (store locked): the upload and the chosen parts are
 * unchanged since phase 1, the preconditions still hold; writes the object
 * and drops the upload. Returns 0, or -1 with resp failed. */
static int s3_complete_commit(struct emu_request *req, struct emu_response *resp,
                              const struct s3_part_row *parts, size_t nparts, const char *blob,
                              const char *etag, int64_t total, int *replayed)
{
    struct s3_bucket b;
    struct s3_upload_row up;
    const char *key = s3_key(req);
    int rc = -1;
    *replayed = 0;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0) {
        return -1;
    }
    /* a concurrent Complete of the same upload won the race */
    if (s3_completed_replay(req, resp, &b) != 0) {
        *replayed = !resp->failed;
        return resp->failed ? -1 : 0;
    }
    if (s3_upload_load(req, resp, &b, &up) != 0) {
        return -1;
    }
    for (size_t i = 0; i < nparts; i++) {
        sqlite3_stmt *st =
            emu_stmt("SELECT blob FROM s3_parts WHERE upload_id = ? AND part_number = ?");
        if (st == NULL) {
            s3_internal(resp, "complete");
            goto out;
        }
        sqlite3_bind_text(st, 1, up.upload_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 2, parts[i].number);
        int same = sqlite3_step(st) == SQLITE_ROW &&
                   strcmp((const char *)sqlite3_column_text(st, 0), parts[i].blob) == 0;
        emu_stmt_done(st);
        if (!same) {
            char pn[16];
            snprintf(pn, sizeof(pn), "%d", parts[i].number);
            emu_fail(resp, S3_INVALID_PART, NULL);
            emu_fail_extra(resp, "UploadId", up.upload_id);
            emu_fail_extra(resp, "PartNumber", pn);
            goto out;
        }
    }
    if (s3_write_preconditions(req, resp, &b, key) != 0) {
        goto out;
    }
    char vid[40];
    struct emu_buf sizes = {0};
    for (size_t i = 0; i < nparts; i++) {
        emu_buf_printf(&sizes, "%s%lld", i ? "," : "", (long long)parts[i].size);
    }
    char sum[96] = "";
    if (up.checksum_algo[0] == 0) {
        /* no algorithm asked for: S3's default, a full-object CRC64NVME,
         * when every part carries one (parts sent without a checksum do) */
        snprintf(up.checksum_algo, sizeof(up.checksum_algo), "crc64nvme");
        snprintf(up.checksum_type, sizeof(up.checksum_type), "FULL_OBJECT");
    }
    if (s3_multipart_checksum(&up, parts, nparts, sum) != 0) {
        sum[0] = 0;
    }
    struct emu_buf psums = {0};
    for (size_t i = 0; sum[0] != 0 && i < nparts; i++) {
        emu_buf_printf(&psums, "%s%s", i ? "," : "", parts[i].sum);
    }
    struct s3_newobj n = {
        .size = total,
        .etag = etag,
        .meta = &up.meta,
        .checksum_algo = sum[0] ? up.checksum_algo : NULL,
        .checksum = sum[0] ? sum : NULL,
        .parts = (int)nparts,
        .blob = blob,
        .part_sizes = sizes.data,
        .part_checksums = psums.data,
    };
    int wrc = s3_obj_write(req, &b, key, &n, vid);
    emu_buf_release(&sizes);
    emu_buf_release(&psums);
    const char *rvid = b.versioning[0] != 0 ? vid : NULL;
    if (wrc != 0 || s3_upload_drop(req, up.upload_id) != 0 ||
        s3_completed_add(req, &b, up.upload_id, key, parts, nparts, etag, rvid,
                         sum[0] ? up.checksum_algo : NULL, sum) != 0) {
        s3_internal(resp, "complete");
        goto out;
    }
    if (up.tagging != NULL) {
        cJSON *arr = cJSON_CreateArray();
        struct emu_kvlist l = {0};
        emu_parse_query(&l, up.tagging, strlen(up.tagging), 1);
        for (size_t i = 0; i < l.n; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "Key", l.items[i].key);
            cJSON_AddStringToObject(o, "Value", l.items[i].value);
            cJSON_AddItemToArray(arr, o);
        }
        emu_kv_release(&l);
        char *json = cJSON_PrintUnformatted(arr);
        cJSON_Delete(arr);
        sqlite3_stmt *st = emu_stmt("UPDATE s3_objects SET tagging = ? WHERE bucket = ? AND key = "
                                    "? AND is_latest = 1");
        if (st != NULL) {
            sqlite3_bind_text(st, 1, json, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 2, b.name, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 3, key, -1, SQLITE_TRANSIENT);
            sqlite3_step(st);
            emu_stmt_done(st);
        }
        free(json);
    }
    s3_complete_result(resp, b.name, key, etag, up.checksum_algo, sum, rvid, &up.meta);
    s3_notify(req, &b, key, "ObjectCreated:CompleteMultipartUpload", total, etag, vid);
    rc = 0;
out:
    s3_upload_row_release(&up);
    return rc;
}

/* CompleteMultipartUpload runs without the dispatcher's transaction
 * (EMU_OP_NO_TXN): it checks under the store lock, concatenates the part
 * files with the lock released (so a large object does not stall other
 * calls), then re-checks and commits under the lock. */
void s3_complete_multipart_upload(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    struct s3_upload_row up;
    struct s3_part_row *parts = NULL;
    size_t nparts = 0;
    struct s3_xml *x = NULL;
    if (emu_store_begin(1) != 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    int ok = 0;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) == 0 &&
        s3_completed_replay(req, resp, &b) == 0 && s3_upload_load(req, resp, &b, &up) == 0) {
        x = s3_body_xml(req, resp);
        ok = x != NULL && s3_complete_check(req, resp, &b, &up, x, &parts, &nparts) == 0;
        s3_upload_row_release(&up);
    }
    emu_store_end(0);
    s3_xml_free(x);
    if (!ok) {
        return;
    }
    char blob[S3_BLOB_LEN], etag[48];
    int64_t total = 0;
    if (s3_complete_concat(parts, nparts, blob, etag, &total) != 0) {
        free(parts);
        /* most likely a concurrent Abort or Complete (whose part files are
         * gone): answer as S3 would after it */
        int answered = 0;
        if (emu_store_begin(0) == 0) {
            if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) == 0 &&
                (answered = s3_completed_replay(req, resp, &b)) == 0 &&
                s3_upload_load(req, resp, &b, &up) == 0) {
                s3_upload_row_release(&up);
                emu_fail(resp, S3_INVALID_PART, NULL);
            }
            emu_store_end(0);
        }
        if (!resp->failed && !answered) {
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        }
        return;
    }
    int replayed = 0;
    if (emu_store_begin(1) != 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        ok = 0;
    } else {
        ok = s3_complete_commit(req, resp, parts, nparts, blob, etag, total, &replayed) == 0;
        if (emu_store_end(ok) != 0 && ok) {
            emu_kv_release(&resp->headers);
            emu_buf_release(&resp->body);
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
            ok = 0;
        }
    }
    if (!ok || replayed) {
        char path[1024];
        s3_blob_path(blob, path, sizeof(path));
        unlink(path);
    }
    free(parts);
}

void s3_abort_multipart_upload(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    struct s3_upload_row up;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0 ||
        s3_upload_load(req, resp, &b, &up) != 0) {
        return;
    }
    if (s3_upload_drop(req, up.upload_id) != 0) {
        s3_internal(resp, "abort");
    } else {
        resp->status = 204;
    }
    s3_upload_row_release(&up);
}

/* An integer query parameter (see s3_int_arg). */
static int s3_int_query(struct emu_request *req, struct emu_response *resp, const char *name,
                        int dflt, int max)
{
    return (int)s3_int_arg(resp, name, emu_query(req, name), dflt, max);
}

void s3_list_parts(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    struct s3_upload_row up;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0 ||
        s3_upload_load(req, resp, &b, &up) != 0) {
        return;
    }
    int max = s3_int_query(req, resp, "max-parts", 1000, 1000);
    int marker = s3_int_query(req, resp, "part-number-marker", 0, 10000);
    if (max < 0 || marker < 0) {
        s3_upload_row_release(&up);
        return;
    }
    struct emu_buf items = {0}, x = {0};
    int count = 0, trunc = 0, last = 0;
    sqlite3_stmt *st = emu_stmt("SELECT part_number, size, etag, mtime, checksum_algo, checksum"
                                " FROM s3_parts WHERE upload_id = ? AND part_number > ?"
                                " ORDER BY part_number");
    if (st == NULL) {
        s3_internal(resp, "list parts");
        goto out;
    }
    sqlite3_bind_text(st, 1, up.upload_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, marker);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (count >= max) {
            trunc = 1;
            break;
        }
        char t[32];
        emu_time_iso(t, sqlite3_column_double(st, 3));
        last = sqlite3_column_int(st, 0);
        emu_buf_printf(&items, "<Part><PartNumber>%d</PartNumber>", last);
        emu_buf_xml_elem(&items, "LastModified", t);
        emu_buf_printf(&items, "<ETag>&quot;%s&quot;</ETag>", sqlite3_column_text(st, 2));
        emu_buf_printf(&items, "<Size>%lld</Size>", (long long)sqlite3_column_int64(st, 1));
        const unsigned char *ca = sqlite3_column_text(st, 4);
        const unsigned char *cv = sqlite3_column_text(st, 5);
        const char *un = ca != NULL ? s3_upper_algo((const char *)ca) : NULL;
        if (un != NULL && cv != NULL) {
            char tag[32];
            snprintf(tag, sizeof(tag), "Checksum%s", un);
            emu_buf_xml_elem(&items, tag, (const char *)cv);
        }
        emu_buf_puts(&items, "</Part>");
        count++;
    }
    emu_stmt_done(st);
    emu_buf_puts(&x, "<ListPartsResult xmlns=\"" S3_NS "\">");
    emu_buf_xml_elem(&x, "Bucket", b.name);
    emu_buf_xml_elem(&x, "Key", s3_key(req));
    emu_buf_xml_elem(&x, "UploadId", up.upload_id);
    emu_buf_printf(&x, "<PartNumberMarker>%d</PartNumberMarker>", marker);
    emu_buf_printf(&x, "<NextPartNumberMarker>%d</NextPartNumberMarker>", last);
    emu_buf_printf(&x, "<MaxParts>%d</MaxParts>", max);
    emu_buf_printf(&x, "<IsTruncated>%s</IsTruncated>", trunc ? "true" : "false");
    char id[65];
    s3_owner_id(b.account, id);
    emu_buf_printf(&x, "<Initiator><ID>%s</ID><DisplayName>greenroom</DisplayName></Initiator>",
                   id);
    s3_owner_xml(&x, b.account);
    emu_buf_xml_elem(&x, "StorageClass", s3_meta_class(&up.meta));
    if (up.checksum_algo[0] != 0 && s3_upper_algo(up.checksum_algo) != NULL) {
        emu_buf_xml_elem(&x, "ChecksumAlgorithm", s3_upper_algo(up.checksum_algo));
        emu_buf_xml_elem(&x, "ChecksumType", up.checksum_type);
    }
    if (items.data) {
        emu_buf_puts(&x, items.data);
    }
    emu_buf_puts(&x, "</ListPartsResult>");
    emu_resp_xml(resp, 200, x.data);
out:
    emu_buf_release(&items);
    emu_buf_release(&x);
    s3_upload_row_release(&up);
}

void s3_list_multipart_uploads(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0) {
        return;
    }
    int max = s3_int_query(req, resp, "max-uploads", 1000, 1000);
    if (max < 0) {
        return;
    }
    const char *prefix = emu_query(req, "prefix");
    const char *km = emu_query(req, "key-marker");
    const char *um = emu_query(req, "upload-id-marker");
    if (prefix == NULL) {
        prefix = "";
    }
    if (km == NULL) {
        km = "";
    }
    size_t plen = strlen(prefix);
    struct emu_buf items = {0}, x = {0};
    char *nk = NULL, *nu = NULL;
    int count = 0, trunc = 0, passed = um == NULL || um[0] == 0;
    char id[65];
    s3_owner_id(b.account, id);
    sqlite3_stmt *st = emu_stmt("SELECT key, upload_id, initiated, storage_class FROM s3_uploads WHERE bucket = ?"
                                " AND key >= ? ORDER BY key, initiated, upload_id");
    if (st == NULL) {
        s3_internal(resp, "list uploads");
        return;
    }
    sqlite3_bind_text(st, 1, b.name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, km, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        const char *u = (const char *)sqlite3_column_text(st, 1);
        if (strncmp(k, prefix, plen) != 0) {
            continue;
        }
        if (km[0] != 0 && strcmp(k, km) == 0) {
            if (!passed) {
                passed = strcmp(u, um) == 0;
                continue;
            }
            if (um == NULL || um[0] == 0) {
                continue;
            }
        }
        if (count >= max) {
            trunc = 1;
            break;
        }
        char t[32];
        emu_time_iso(t, sqlite3_column_double(st, 2));
        emu_buf_puts(&items, "<Upload>");
        emu_buf_xml_elem(&items, "Key", k);
        emu_buf_xml_elem(&items, "UploadId", u);
        emu_buf_printf(
            &items, "<Initiator><ID>%s</ID><DisplayName>greenroom</DisplayName></Initiator>", id);
        s3_owner_xml(&items, b.account);
        const unsigned char *sc = sqlite3_column_text(st, 3);
        emu_buf_xml_elem(&items, "StorageClass", sc != NULL ? (const char *)sc : "STANDARD");
        emu_buf_xml_elem(&items, "Initiated", t);
        emu_buf_puts(&items, "</Upload>");
        count++;
        free(nk);
        free(nu);
        nk = strdup(k);
        nu = strdup(u);
    }
    emu_stmt_done(st);
    emu_buf_puts(&x, "<ListMultipartUploadsResult xmlns=\"" S3_NS "\">");
    emu_buf_xml_elem(&x, "Bucket", b.name);
    emu_buf_xml_elem(&x, "KeyMarker", km);
    emu_buf_xml_elem(&x, "UploadIdMarker", um != NULL ? um : "");
    if (trunc) {
        emu_buf_xml_elem(&x, "NextKeyMarker", nk);
        emu_buf_xml_elem(&x, "NextUploadIdMarker", nu);
    }
    emu_buf_xml_elem(&x, "Prefix", prefix);
    emu_buf_printf(&x, "<MaxUploads>%d</MaxUploads>", max);
    emu_buf_printf(&x, "<IsTruncated>%s</IsTruncated>", trunc ? "true" : "false");
    if (items.data) {
        emu_buf_puts(&x, items.data);
    }
    emu_buf_puts(&x, "</ListMultipartUploadsResult>");
    emu_resp_xml(resp, 200, x.data);
    free(nk);
    free(nu);
    emu_buf_release(&items);
    emu_buf_release(&x);
}
