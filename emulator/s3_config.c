/*
 * s3_config.c - S3 bucket settings that AWS applies to every new bucket and
 * that tools read back: GetBucketAcl, PutBucketAcl, GetObjectAcl,
 * PutObjectAcl, GetBucketEncryption, PutBucketEncryption,
 * DeleteBucketEncryption, GetPublicAccessBlock, PutPublicAccessBlock,
 * DeletePublicAccessBlock, GetBucketOwnershipControls,
 * PutBucketOwnershipControls, DeleteBucketOwnershipControls, GetBucketCors,
 * PutBucketCors, DeleteBucketCors.
 *
 * Defaults are those of a bucket created today: SSE-S3 (AES256) default
 * encryption (deleting it reverts to that), every public access block
 * setting on, Object Ownership "BucketOwnerEnforced" (ACLs disabled: an ACL
 * read answers the owner's FULL_CONTROL; an ACL write other than private /
 * bucket-owner-full-control / the owner's FULL_CONTROL is refused with
 * AccessControlListNotSupported), no CORS configuration. The settings are
 * kept (s3_buckets columns encryption, public_access_block, ownership,
 * cors: NULL = the default, "" = deleted, else the setting as JSON or a
 * value) and answered back; greenroom does not act on them (no public
 * access, no CORS headers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "s3_int.h"

/* The settings columns, with their statements (emu_stmt caches statements
 * by the address of their SQL: each must be a static string). */
static const struct {
    const char *col;
    const char *get;
    const char *set;
} s3_cfg_cols[] = {
    {"encryption", "SELECT encryption FROM s3_buckets WHERE name = ?",
     "UPDATE s3_buckets SET encryption = ? WHERE name = ?"},
    {"public_access_block", "SELECT public_access_block FROM s3_buckets WHERE name = ?",
     "UPDATE s3_buckets SET public_access_block = ? WHERE name = ?"},
    {"ownership", "SELECT ownership FROM s3_buckets WHERE name = ?",
     "UPDATE s3_buckets SET ownership = ? WHERE name = ?"},
    {"cors", "SELECT cors FROM s3_buckets WHERE name = ?",
     "UPDATE s3_buckets SET cors = ? WHERE name = ?"},
};

/* The statement of column col (get or set), or NULL. */
static sqlite3_stmt *s3_cfg_stmt(const char *col, int set)
{
    for (size_t i = 0; i < sizeof(s3_cfg_cols) / sizeof(s3_cfg_cols[0]); i++) {
        if (strcmp(s3_cfg_cols[i].col, col) == 0) {
            return emu_stmt(set ? s3_cfg_cols[i].set : s3_cfg_cols[i].get);
        }
    }
    return NULL;
}

/* Reads one settings column of bucket name: 1 with *out set (copy, may be
 * ""), 0 when NULL (the default), -1 on error (resp failed). */
static int s3_cfg_get(struct emu_response *resp, const char *col, const char *name, char **out)
{
    *out = NULL;
    sqlite3_stmt *st = s3_cfg_stmt(col, 0);
    if (st == NULL) {
        s3_internal(resp, "bucket settings");
        return -1;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int rc = 0;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *out = emu_col_dup(st, 0);
        rc = 1;
    }
    emu_stmt_done(st);
    return rc;
}

/* Writes one settings column (value NULL: back to the default). 0 / -1. */
static int s3_cfg_set(struct emu_response *resp, const char *col, const char *name,
                      const char *value)
{
    sqlite3_stmt *st = s3_cfg_stmt(col, 1);
    if (st == NULL) {
        s3_internal(resp, "bucket settings");
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
        s3_internal(resp, "bucket settings");
        return -1;
    }
    return 0;
}

/* Loads the request's bucket and parses the body as XML whose root is
 * root. Returns the tree (caller frees) or NULL with resp failed. */
static struct s3_xml *s3_cfg_body(struct emu_request *req, struct emu_response *resp,
                                  struct s3_bucket *b, const char *root)
{
    if (s3_bucket_load(req, resp, s3_bucket_name(req), b) != 0) {
        return NULL;
    }
    struct s3_xml *x = s3_body_xml(req, resp);
    if (x != NULL && strcmp(x->name, root) != 0) {
        emu_fail(resp, S3_MALFORMED_XML, NULL);
        s3_xml_free(x);
        return NULL;
    }
    return x;
}

/* ------------------------------------------------------------ ownership */

/* The bucket's Object Ownership ("BucketOwnerEnforced" by default), into
 * out. 0, or -1 with resp failed. */
static int s3_ownership(struct emu_response *resp, const char *bucket, char out[32])
{
    char *v = NULL;
    int rc = s3_cfg_get(resp, "ownership", bucket, &v);
    if (rc < 0) {
        return -1;
    }
    snprintf(out, 32, "%s", rc == 1 ? v : "BucketOwnerEnforced");
    free(v);
    return 0;
}

void s3_get_bucket_ownership_controls(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    char *v = NULL;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0) {
        return;
    }
    int rc = s3_cfg_get(resp, "ownership", b.name, &v);
    if (rc < 0) {
        return;
    }
    if (rc == 1 && v[0] == 0) {
        emu_fail(resp, S3_OWNERSHIP_CONTROLS_NOT_FOUND, NULL);
        emu_fail_extra(resp, "BucketName", b.name);
    } else {
        struct emu_buf x = {0};
        emu_buf_puts(&x, "<OwnershipControls xmlns=\"" S3_NS "\"><Rule>");
        emu_buf_xml_elem(&x, "ObjectOwnership", rc == 1 ? v : "BucketOwnerEnforced");
        emu_buf_puts(&x, "</Rule></OwnershipControls>");
        emu_resp_xml(resp, 200, x.data);
        emu_buf_release(&x);
    }
    free(v);
}

void s3_put_bucket_ownership_controls(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    struct s3_xml *x = s3_cfg_body(req, resp, &b, "OwnershipControls");
    if (x == NULL) {
        return;
    }
    struct s3_xml *rule = s3_xml_child(x, "Rule");
    const char *o = rule != NULL ? s3_xml_text(rule, "ObjectOwnership") : NULL;
    if (o == NULL || s3_xml_next(rule) != NULL ||
        (strcmp(o, "BucketOwnerEnforced") != 0 && strcmp(o, "BucketOwnerPreferred") != 0 &&
         strcmp(o, "ObjectWriter") != 0)) {
        emu_fail(resp, S3_MALFORMED_XML, NULL);
    } else if (s3_cfg_set(resp, "ownership", b.name, o) == 0) {
        resp->status = 200;
    }
    s3_xml_free(x);
}

void s3_delete_bucket_ownership_controls(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) == 0 &&
        s3_cfg_set(resp, "ownership", b.name, "") == 0) {
        resp->status = 204;
    }
}

/* ------------------------------------------------------------------ ACLs */

/* The ACL document: the owner with FULL_CONTROL. */
static void s3_acl_xml(struct emu_response *resp, const char *account)
{
    char id[65];
    s3_owner_id(account, id);
    struct emu_buf x = {0};
    emu_buf_puts(&x, "<AccessControlPolicy xmlns=\"" S3_NS "\">");
    s3_owner_xml(&x, account);
    emu_buf_printf(&x,
                   "<AccessControlList><Grant><Grantee "
                   "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                   "xsi:type=\"CanonicalUser\"><ID>%s</ID><DisplayName>greenroom</DisplayName>"
                   "</Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList>"
                   "</AccessControlPolicy>",
                   id);
    emu_resp_xml(resp, 200, x.data);
    emu_buf_release(&x);
}

/* 1 when the request's ACL (x-amz-acl, x-amz-grant-*, or an
 * AccessControlPolicy body) only gives the owner FULL_CONTROL, 0 when it
 * grants anything else, -1 when it is malformed (resp failed). */
static int s3_acl_owner_only(struct emu_request *req, struct emu_response *resp,
                             const char *account)
{
    static const char *const canned[] = {"private", "public-read", "public-read-write",
                                         "authenticated-read", "aws-exec-read", "bucket-owner-read",
                                         "bucket-owner-full-control", "log-delivery-write", NULL};
    const char *acl = emu_header(req, "x-amz-acl");
    if (acl != NULL) {
        int known = 0;
        for (size_t i = 0; canned[i] != NULL; i++) {
            known |= strcmp(acl, canned[i]) == 0;
        }
        if (!known) {
            emu_fail(resp, S3_INVALID_ARGUMENT, "%s", "");
            emu_fail_extra(resp, "ArgumentName", "x-amz-acl");
            emu_fail_extra(resp, "ArgumentValue", acl);
            return -1;
        }
        if (strcmp(acl, "private") != 0 && strcmp(acl, "bucket-owner-full-control") != 0) {
            return 0;
        }
    }
    for (size_t i = 0; i < req->headers.n; i++) {
        if (strncmp(req->headers.items[i].key, "x-amz-grant-", 12) == 0) {
            return 0;
        }
    }
    if (req->body_len == 0) {
        return 1;
    }
    struct s3_xml *x = s3_body_xml(req, resp);
    if (x == NULL) {
        return -1;
    }
    int rc = 1;
    char id[65];
    s3_owner_id(account, id);
    struct s3_xml *list = strcmp(x->name, "AccessControlPolicy") == 0
                              ? s3_xml_child(x, "AccessControlList")
                              : NULL;
    if (list == NULL) {
        emu_fail(resp, S3_MALFORMED_ACL_ERROR, NULL);
        rc = -1;
    } else {
        for (struct s3_xml *g = s3_xml_child(list, "Grant"); g != NULL; g = s3_xml_next(g)) {
            struct s3_xml *who = s3_xml_child(g, "Grantee");
            const char *gid = who != NULL ? s3_xml_text(who, "ID") : NULL;
            const char *perm = s3_xml_text(g, "Permission");
            if (gid == NULL || perm == NULL || strcmp(gid, id) != 0 ||
                strcmp(perm, "FULL_CONTROL") != 0) {
                rc = 0;
                break;
            }
        }
    }
    s3_xml_free(x);
    return rc;
}

/* Accepts an ACL write the bucket's ownership setting allows; answers
 * AccessControlListNotSupported under BucketOwnerEnforced. 0 when allowed,
 * -1 with resp failed. */
static int s3_acl_allowed(struct emu_request *req, struct emu_response *resp,
                          const struct s3_bucket *b)
{
    char own[32];
    if (s3_ownership(resp, b->name, own) != 0) {
        return -1;
    }
    int only = s3_acl_owner_only(req, resp, b->account);
    if (only < 0) {
        return -1;
    }
    if (only == 0 && strcmp(own, "BucketOwnerEnforced") == 0) {
        emu_fail(resp, S3_ACCESS_CONTROL_LIST_NOT_SUPPORTED, NULL);
        return -1;
    }
    return 0;
}

void s3_get_bucket_acl(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) == 0) {
        s3_acl_xml(resp, b.account);
    }
}

void s3_put_bucket_acl(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) == 0 &&
        s3_acl_allowed(req, resp, &b) == 0) {
        resp->status = 200;
    }
}

/* Loads the request's object (?versionId) into o; NoSuchKey / NoSuchVersion
 * otherwise. 0 or -1 (resp failed). */
static int s3_acl_object(struct emu_request *req, struct emu_response *resp,
                         const struct s3_bucket *b)
{
    struct s3_obj o;
    memset(&o, 0, sizeof(o));
    const char *vid = emu_query(req, "versionId");
    int rc = s3_obj_load(b->name, s3_key(req), vid, &o);
    if (rc < 0) {
        s3_internal(resp, "object acl");
        return -1;
    }
    int missing = rc != 0 || (o.delete_marker && vid == NULL);
    if (rc == 0 && o.delete_marker && vid != NULL) {
        s3_obj_release(&o);
        emu_fail(resp, S3_METHOD_NOT_ALLOWED, NULL);
        return -1;
    }
    if (rc == 0) {
        s3_obj_release(&o);
    }
    if (missing) {
        if (vid != NULL) {
            emu_fail(resp, S3_NO_SUCH_VERSION, NULL);
            emu_fail_extra(resp, "VersionId", vid);
        } else {
            emu_fail(resp, S3_NO_SUCH_KEY, NULL);
            emu_fail_extra(resp, "Key", s3_key(req));
        }
        return -1;
    }
    return 0;
}

void s3_get_object_acl(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) == 0 &&
        s3_acl_object(req, resp, &b) == 0) {
        s3_acl_xml(resp, b.account);
    }
}

void s3_put_object_acl(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) == 0 &&
        s3_acl_object(req, resp, &b) == 0 && s3_acl_allowed(req, resp, &b) == 0) {
        resp->status = 200;
    }
}

/* ------------------------------------------------------------ encryption */

void s3_get_bucket_encryption(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    char *v = NULL;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0 ||
        s3_cfg_get(resp, "encryption", b.name, &v) < 0) {
        return;
    }
    cJSON *j = v != NULL ? cJSON_Parse(v) : NULL;
    const char *alg = "AES256";
    const char *kms = NULL;
    int bke = 0;
    if (cJSON_IsObject(j)) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "alg");
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(j, "kms");
        alg = cJSON_IsString(a) ? a->valuestring : alg;
        kms = cJSON_IsString(k) ? k->valuestring : NULL;
        bke = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "bke"));
    }
    struct emu_buf x = {0};
    emu_buf_puts(&x, "<ServerSideEncryptionConfiguration xmlns=\"" S3_NS
                     "\"><Rule><ApplyServerSideEncryptionByDefault>");
    emu_buf_xml_elem(&x, "SSEAlgorithm", alg);
    emu_buf_xml_elem(&x, "KMSMasterKeyID", kms);
    emu_buf_printf(&x,
                   "</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>%s</BucketKeyEnabled>"
                   "</Rule></ServerSideEncryptionConfiguration>",
                   bke ? "true" : "false");
    emu_resp_xml(resp, 200, x.data);
    emu_buf_release(&x);
    cJSON_Delete(j);
    free(v);
}

void s3_put_bucket_encryption(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    struct s3_xml *x = s3_cfg_body(req, resp, &b, "ServerSideEncryptionConfiguration");
    if (x == NULL) {
        return;
    }
    struct s3_xml *rule = s3_xml_child(x, "Rule");
    struct s3_xml *def = rule != NULL ? s3_xml_child(rule, "ApplyServerSideEncryptionByDefault")
                                      : NULL;
    const char *alg = def != NULL ? s3_xml_text(def, "SSEAlgorithm") : NULL;
    const char *kms = def != NULL ? s3_xml_text(def, "KMSMasterKeyID") : NULL;
    const char *bke = rule != NULL ? s3_xml_text(rule, "BucketKeyEnabled") : NULL;
    if (alg == NULL || (strcmp(alg, "AES256") != 0 && strcmp(alg, "aws:kms") != 0 &&
                        strcmp(alg, "aws:kms:dsse") != 0)) {
        emu_fail(resp, S3_MALFORMED_XML, NULL);
        goto out;
    }
    if (kms != NULL && strcmp(alg, "AES256") == 0) {
        emu_fail(resp, S3_INVALID_ARGUMENT,
                 "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms "
                 "or aws:kms:dsse");
        emu_fail_extra(resp, "ArgumentName", "ApplyServerSideEncryptionByDefault");
        goto out;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "alg", alg);
    if (kms != NULL) {
        cJSON_AddStringToObject(j, "kms", kms);
    }
    cJSON_AddBoolToObject(j, "bke", bke != NULL && strcmp(bke, "true") == 0);
    char *v = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (s3_cfg_set(resp, "encryption", b.name, v) == 0) {
        resp->status = 200;
    }
    free(v);
out:
    s3_xml_free(x);
}

void s3_delete_bucket_encryption(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) == 0 &&
        s3_cfg_set(resp, "encryption", b.name, NULL) == 0) {
        resp->status = 204;
    }
}

/* ---------------------------------------------------- public access block */

static const char *const s3_pab_names[] = {"BlockPublicAcls", "IgnorePublicAcls",
                                           "BlockPublicPolicy", "RestrictPublicBuckets"};

void s3_get_public_access_block(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    char *v = NULL;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0) {
        return;
    }
    int rc = s3_cfg_get(resp, "public_access_block", b.name, &v);
    if (rc < 0) {
        return;
    }
    if (rc == 1 && v[0] == 0) {
        emu_fail(resp, S3_NO_SUCH_PUBLIC_ACCESS_BLOCK, NULL);
        emu_fail_extra(resp, "BucketName", b.name);
        free(v);
        return;
    }
    struct emu_buf x = {0};
    emu_buf_puts(&x, "<PublicAccessBlockConfiguration xmlns=\"" S3_NS "\">");
    for (size_t i = 0; i < 4; i++) {
        int on = rc == 0 || (strlen(v) == 4 && v[i] == '1');
        emu_buf_printf(&x, "<%s>%s</%s>", s3_pab_names[i], on ? "true" : "false", s3_pab_names[i]);
    }
    emu_buf_puts(&x, "</PublicAccessBlockConfiguration>");
    emu_resp_xml(resp, 200, x.data);
    emu_buf_release(&x);
    free(v);
}

void s3_put_public_access_block(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    struct s3_xml *x = s3_cfg_body(req, resp, &b, "PublicAccessBlockConfiguration");
    if (x == NULL) {
        return;
    }
    char v[5] = "0000";
    for (size_t i = 0; i < 4; i++) {
        const char *t = s3_xml_text(x, s3_pab_names[i]);
        if (t != NULL && strcmp(t, "true") != 0 && strcmp(t, "false") != 0) {
            emu_fail(resp, S3_MALFORMED_XML, NULL);
            goto out;
        }
        v[i] = t != NULL && strcmp(t, "true") == 0 ? '1' : '0';
    }
    if (s3_cfg_set(resp, "public_access_block", b.name, v) == 0) {
        resp->status = 200;
    }
out:
    s3_xml_free(x);
}

void s3_delete_public_access_block(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) == 0 &&
        s3_cfg_set(resp, "public_access_block", b.name, "") == 0) {
        resp->status = 204;
    }
}

/* ------------------------------------------------------------------ CORS */

/* The string children named name of rule x as a JSON array (NULL if none). */
static cJSON *s3_cors_list(const struct s3_xml *x, const char *name)
{
    cJSON *a = NULL;
    for (struct s3_xml *c = s3_xml_child(x, name); c != NULL; c = s3_xml_next(c)) {
        if (a == NULL) {
            a = cJSON_CreateArray();
        }
        cJSON_AddItemToArray(a, cJSON_CreateString(c->text));
    }
    return a;
}

void s3_put_bucket_cors(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    struct s3_xml *x = s3_cfg_body(req, resp, &b, "CORSConfiguration");
    if (x == NULL) {
        return;
    }
    cJSON *rules = cJSON_CreateArray();
    size_t n = 0;
    for (struct s3_xml *r = s3_xml_child(x, "CORSRule"); r != NULL; r = s3_xml_next(r), n++) {
        cJSON *methods = s3_cors_list(r, "AllowedMethod");
        cJSON *origins = s3_cors_list(r, "AllowedOrigin");
        const cJSON *m = NULL;
        const char *bad = NULL;
        cJSON_ArrayForEach(m, methods)
        {
            static const char *const ok[] = {"GET", "PUT", "HEAD", "POST", "DELETE"};
            int known = 0;
            for (size_t i = 0; i < 5; i++) {
                known |= strcmp(m->valuestring, ok[i]) == 0;
            }
            if (!known && bad == NULL) {
                bad = m->valuestring;
            }
        }
        if (methods == NULL || origins == NULL || n >= 100) {
            cJSON_Delete(methods);
            cJSON_Delete(origins);
            emu_fail(resp, S3_MALFORMED_XML, NULL);
            goto out;
        }
        if (bad != NULL) {
            emu_fail(resp, S3_INVALID_REQUEST,
                     "Found unsupported HTTP method in CORS config. Unsupported method is %s", bad);
            cJSON_Delete(methods);
            cJSON_Delete(origins);
            goto out;
        }
        cJSON *rule = cJSON_CreateObject();
        const char *id = s3_xml_text(r, "ID");
        if (id != NULL) {
            cJSON_AddStringToObject(rule, "ID", id);
        }
        cJSON_AddItemToObject(rule, "AllowedHeader", s3_cors_list(r, "AllowedHeader"));
        cJSON_AddItemToObject(rule, "AllowedMethod", methods);
        cJSON_AddItemToObject(rule, "AllowedOrigin", origins);
        cJSON_AddItemToObject(rule, "ExposeHeader", s3_cors_list(r, "ExposeHeader"));
        const char *age = s3_xml_text(r, "MaxAgeSeconds");
        if (age != NULL) {
            char *end = NULL;
            long a = strtol(age, &end, 10);
            if (end == age || *end != 0 || a < 0) {
                emu_fail(resp, S3_MALFORMED_XML, NULL);
                cJSON_Delete(rule);
                goto out;
            }
            cJSON_AddNumberToObject(rule, "MaxAgeSeconds", (double)a);
        }
        cJSON_AddItemToArray(rules, rule);
    }
    if (n == 0) {
        emu_fail(resp, S3_MALFORMED_XML, NULL);
        goto out;
    }
    char *v = cJSON_PrintUnformatted(rules);
    if (s3_cfg_set(resp, "cors", b.name, v) == 0) {
        resp->status = 200;
    }
    free(v);
out:
    cJSON_Delete(rules);
    s3_xml_free(x);
}

void s3_get_bucket_cors(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    char *v = NULL;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0 ||
        s3_cfg_get(resp, "cors", b.name, &v) < 0) {
        return;
    }
    cJSON *rules = v != NULL ? cJSON_Parse(v) : NULL;
    if (!cJSON_IsArray(rules)) {
        emu_fail(resp, S3_NO_SUCH_CORS_CONFIGURATION, NULL);
        emu_fail_extra(resp, "BucketName", b.name);
        goto out;
    }
    struct emu_buf x = {0};
    emu_buf_puts(&x, "<CORSConfiguration xmlns=\"" S3_NS "\">");
    const cJSON *r = NULL;
    cJSON_ArrayForEach(r, rules)
    {
        emu_buf_puts(&x, "<CORSRule>");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "ID");
        if (cJSON_IsString(id)) {
            emu_buf_xml_elem(&x, "ID", id->valuestring);
        }
        static const char *const lists[] = {"AllowedHeader", "AllowedMethod", "AllowedOrigin",
                                            "ExposeHeader"};
        for (size_t i = 0; i < 4; i++) {
            const cJSON *e = NULL;
            cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(r, lists[i]))
            {
                emu_buf_xml_elem(&x, lists[i], e->valuestring);
            }
        }
        const cJSON *age = cJSON_GetObjectItemCaseSensitive(r, "MaxAgeSeconds");
        if (cJSON_IsNumber(age)) {
            emu_buf_printf(&x, "<MaxAgeSeconds>%.0f</MaxAgeSeconds>", age->valuedouble);
        }
        emu_buf_puts(&x, "</CORSRule>");
    }
    emu_buf_puts(&x, "</CORSConfiguration>");
    emu_resp_xml(resp, 200, x.data);
    emu_buf_release(&x);
out:
    cJSON_Delete(rules);
    free(v);
}

void s3_delete_bucket_cors(struct emu_request *req, struct emu_response *resp)
{
    struct s3_bucket b;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) == 0 &&
        s3_cfg_set(resp, "cors", b.name, NULL) == 0) {
        resp->status = 204;
    }
}

/* ------------------------------------------ ACLs on object and bucket writes */

/* 1 when the request's headers grant more than the owner's FULL_CONTROL:
 * x-amz-acl other than private / bucket-owner-full-control, or any
 * x-amz-grant-* header. */
static int s3_acl_headers_grant_others(const struct emu_request *req)
{
    const char *acl = emu_header(req, "x-amz-acl");
    if (acl != NULL && strcmp(acl, "private") != 0 && strcmp(acl, "bucket-owner-full-control") != 0) {
        return 1;
    }
    for (size_t i = 0; i < req->headers.n; i++) {
        if (strncmp(req->headers.items[i].key, "x-amz-grant-", 12) == 0) {
            return 1;
        }
    }
    return 0;
}

/* 1 when bucket exists with ACLs disabled (Object Ownership
 * BucketOwnerEnforced). Reads the store under its own short transaction
 * (nested: a no-op inside a caller's). */
static int s3_bucket_acls_disabled(const char *bucket)
{
    if (bucket == NULL || emu_store_begin(0) != 0) {
        return 0;
    }
    int disabled = 0;
    sqlite3_stmt *st = emu_stmt("SELECT ownership FROM s3_buckets WHERE name = ?");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, bucket, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
            const char *o = (const char *)sqlite3_column_text(st, 0);
            disabled = o == NULL || o[0] == 0 || strcmp(o, "BucketOwnerEnforced") == 0;
        }
    }
    emu_stmt_done(st);
    emu_store_end(1);
    return disabled;
}

static void s3_acl_refused(struct emu_request *req, struct emu_response *resp)
{
    emu_fail(resp, S3_ACCESS_CONTROL_LIST_NOT_SUPPORTED, NULL);
}

/* The writes that carry ACL headers, answered AccessControlListNotSupported
 * when the bucket has ACLs disabled (same names as the real operations, so
 * the journal and fault rules see PutObject, ...; the body of a refused
 * PutObject is streamed to a temp file and dropped, never held). */
static const struct emu_op s3_acl_refusals[] = {
    {"PutObject", "PUT", "/{Bucket}/{Key+}", NULL, s3_acl_refused, EMU_OP_STREAM | EMU_OP_NO_TXN},
    {"CopyObject", "PUT", "/{Bucket}/{Key+}", NULL, s3_acl_refused, EMU_OP_NO_TXN},
    {"CreateMultipartUpload", "POST", "/{Bucket}/{Key+}", "uploads", s3_acl_refused, EMU_OP_NO_TXN},
};

const struct emu_op *s3_acl_route(struct emu_request *req, const struct emu_op *op)
{
    if (op == NULL || !s3_acl_headers_grant_others(req)) {
        return op;
    }
    for (size_t i = 0; i < sizeof(s3_acl_refusals) / sizeof(s3_acl_refusals[0]); i++) {
        if (strcmp(op->name, s3_acl_refusals[i].name) == 0) {
            return s3_bucket_acls_disabled(s3_bucket_name(req)) ? &s3_acl_refusals[i] : op;
        }
    }
    return op;
}

int s3_create_bucket_acl_check(struct emu_request *req, struct emu_response *resp)
{
    const char *own = emu_header(req, "x-amz-object-ownership");
    if (own != NULL && strcmp(own, "BucketOwnerEnforced") != 0 &&
        strcmp(own, "BucketOwnerPreferred") != 0 && strcmp(own, "ObjectWriter") != 0) {
        emu_fail(resp, S3_INVALID_ARGUMENT, "Invalid x-amz-object-ownership header: %s", own);
        emu_fail_extra(resp, "ArgumentName", "x-amz-object-ownership");
        return -1;
    }
    if ((own == NULL || strcmp(own, "BucketOwnerEnforced") == 0) &&
        s3_acl_headers_grant_others(req)) {
        emu_fail(resp, S3_INVALID_BUCKET_ACL_WITH_OBJECT_OWNERSHIP, NULL);
        return -1;
    }
    return 0;
}

int s3_create_bucket_settings(struct emu_request *req, struct emu_response *resp, const char *name)
{
    const char *own = emu_header(req, "x-amz-object-ownership");
    if (own == NULL || strcmp(own, "BucketOwnerEnforced") == 0) {
        return 0;
    }
    return s3_cfg_set(resp, "ownership", name, own);
}

int s3_acl_canned_allowed(struct emu_response *resp, const char *bucket, const char *acl)
{
    if (acl == NULL || strcmp(acl, "private") == 0 || strcmp(acl, "bucket-owner-full-control") == 0) {
        return 0;
    }
    char own[32];
    if (s3_ownership(resp, bucket, own) != 0) {
        return -1;
    }
    if (strcmp(own, "BucketOwnerEnforced") == 0) {
        emu_fail(resp, S3_ACCESS_CONTROL_LIST_NOT_SUPPORTED, NULL);
        return -1;
    }
    return 0;
}
