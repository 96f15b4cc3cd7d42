/*
 * s3_post.c - S3 POST Object (browser-based uploads): POST /{Bucket} with a
 * multipart/form-data body, as @aws-sdk/s3-presigned-post, boto3's
 * generate_presigned_post and HTML forms send it.
 *
 * The form's fields come before its one file part (fields after the file
 * are ignored, as S3 does). A SigV4 POST policy authorises the upload: the
 * fields x-amz-algorithm, x-amz-credential, x-amz-date, policy (base64 JSON)
 * and x-amz-signature (hex HMAC-SHA256 of the base64 policy with the
 * credential's signing key). The policy's expiration and conditions are
 * checked: {"field": "value"} and ["eq", "$field", "value"] match exactly,
 * ["starts-with", "$field", "prefix"] by prefix, ["content-length-range",
 * min, max] bounds the file; every field except policy, x-amz-signature,
 * file and x-ignore-* must be named by a condition. ${filename} in the key
 * becomes the file part's file name; an acl field other than private /
 * bucket-owner-full-control needs a bucket with ACLs enabled (else
 * AccessControlListNotSupported). The answer follows success_action_redirect
 * (303), else success_action_status (200, 201 with a PostResponse document,
 * default 204), with ETag and Location headers.
 *
 * The request is unsigned at the HTTP level (EMU_OP_NO_AUTH): the core
 * streams the body to a temp file (EMU_OP_STREAM); the file part's bytes are
 * copied from it into a new blob outside the store lock, then one write
 * transaction checks the bucket and commits the version (s3_commit_upload).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "s3_int.h"
#include "sigv4.h"

#define S3_POST_MAX_FIELDS 64
#define S3_POST_MAX_FIELD (20 * 1024)

/* One form field (name lower-cased, value owned), and whether a policy
 * condition named it. */
struct s3_post_field {
    char *name;
    char *value;
    int covered;
};

/* The parsed form: fields, and where the file part's bytes are in the body. */
struct s3_post_form {
    struct s3_post_field f[S3_POST_MAX_FIELDS];
    size_t n;
    int has_file;
    char *filename;
    char *file_type; /* the file part's Content-Type, or NULL */
    size_t file_off;
    size_t file_len;
};

static void s3_post_form_release(struct s3_post_form *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->f[i].name);
        free(p->f[i].value);
    }
    free(p->filename);
    free(p->file_type);
    memset(p, 0, sizeof(*p));
}

/* The field's value (name compared case-insensitively), or NULL. */
static struct s3_post_field *s3_post_get(struct s3_post_form *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++) {
        if (strcasecmp(p->f[i].name, name) == 0) {
            return &p->f[i];
        }
    }
    return NULL;
}

static const char *s3_post_value(struct s3_post_form *p, const char *name)
{
    struct s3_post_field *f = s3_post_get(p, name);
    return f != NULL ? f->value : NULL;
}

/* First occurrence of needle in hay[0..hlen), or NULL. */
static const char *s3_post_find(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
    if (nlen == 0 || hlen < nlen) {
        return NULL;
    }
    return memmem(hay, hlen, needle, nlen);
}

/* The value of param (e.g. name, filename) in a Content-Disposition line
 * [s, e), quoted or not: a new string, or NULL when absent. */
static char *s3_post_disp_param(const char *s, const char *e, const char *param)
{
    size_t pl = strlen(param);
    const char *p = s;
    while (p < e) {
        const char *semi = memchr(p, ';', (size_t)(e - p));
        if (semi == NULL) {
            return NULL;
        }
        p = semi + 1;
        while (p < e && (*p == ' ' || *p == '\t')) {
            p++;
        }
        if ((size_t)(e - p) > pl && strncasecmp(p, param, pl) == 0 && p[pl] == '=') {
            const char *v = p + pl + 1;
            const char *ve;
            if (v < e && *v == '"') {
                v++;
                ve = memchr(v, '"', (size_t)(e - v));
                if (ve == NULL) {
                    return NULL;
                }
            } else {
                ve = v;
                while (ve < e && *ve != ';') {
                    ve++;
                }
            }
            return strndup(v, (size_t)(ve - v));
        }
    }
    return NULL;
}

/* The boundary of a multipart/form-data Content-Type into out; -1 if the
 * type is not multipart/form-data with a boundary. */
static int s3_post_boundary(const char *ct, char *out, size_t len)
{
    if (ct == NULL || strncasecmp(ct, "multipart/form-data", 19) != 0) {
        return -1;
    }
    const char *b = strcasestr(ct, "boundary=");
    if (b == NULL) {
        return -1;
    }
    b += 9;
    size_t n;
    if (*b == '"') {
        b++;
        n = strcspn(b, "\"");
    } else {
        n = strcspn(b, "; \t");
    }
    if (n == 0 || n > 200 || n + 3 > len) {
        return -1;
    }
    memcpy(out, "--", 2);
    memcpy(out + 2, b, n);
    out[n + 2] = 0;
    return 0;
}

/* Parses body[0..len) into p. Returns 0, or -1 when the body is not
 * well-formed multipart/form-data (or a field is too large). */
static int s3_post_parse(const char *body, size_t len, const char *delim, struct s3_post_form *p)
{
    size_t dl = strlen(delim);
    const char *end = body + len;
    const char *cur = s3_post_find(body, len, delim, dl);
    if (cur == NULL) {
        return -1;
    }
    for (;;) {
        cur += dl;
        if (end - cur >= 2 && cur[0] == '-' && cur[1] == '-') {
            return 0; /* closing delimiter */
        }
        while (cur < end && (*cur == ' ' || *cur == '\t')) {
            cur++;
        }
        if (end - cur < 2 || cur[0] != '\r' || cur[1] != '\n') {
            return -1;
        }
        cur += 2;
        const char *hend = s3_post_find(cur, (size_t)(end - cur), "\r\n\r\n", 4);
        if (hend == NULL) {
            return -1;
        }
        char *name = NULL;
        char *filename = NULL;
        char *ctype = NULL;
        int has_filename = 0;
        for (const char *line = cur; line < hend;) {
            const char *le = s3_post_find(line, (size_t)(hend + 2 - line), "\r\n", 2);
            if (le == NULL) {
                le = hend;
            }
            if ((size_t)(le - line) > 20 && strncasecmp(line, "content-disposition:", 20) == 0) {
                free(name);
                free(filename);
                name = s3_post_disp_param(line, le, "name");
                filename = s3_post_disp_param(line, le, "filename");
                has_filename = filename != NULL;
            } else if ((size_t)(le - line) > 13 && strncasecmp(line, "content-type:", 13) == 0) {
                const char *v = line + 13;
                while (v < le && (*v == ' ' || *v == '\t')) {
                    v++;
                }
                free(ctype);
                ctype = strndup(v, (size_t)(le - v));
            }
            line = le + 2;
        }
        const char *data = hend + 4;
        char term[256];
        snprintf(term, sizeof(term), "\r\n%s", delim);
        const char *next = s3_post_find(data, (size_t)(end - data), term, dl + 2);
        if (name == NULL || next == NULL) {
            free(name);
            free(filename);
            free(ctype);
            return -1;
        }
        if (strcasecmp(name, "file") == 0 || has_filename) {
            p->has_file = 1;
            p->filename = filename != NULL ? filename : strdup("");
            p->file_type = ctype;
            p->file_off = (size_t)(data - body);
            p->file_len = (size_t)(next - data);
            free(name);
            return 0; /* fields after the file are ignored */
        }
        free(filename);
        free(ctype);
        if (p->n == S3_POST_MAX_FIELDS || (size_t)(next - data) > S3_POST_MAX_FIELD) {
            free(name);
            return -1;
        }
        for (char *c = name; *c; c++) {
            *c = (char)tolower((unsigned char)*c);
        }
        p->f[p->n].name = name;
        p->f[p->n].value = strndup(data, (size_t)(next - data));
        p->n++;
        cur = next + 2;
    }
}

/* Appends a condition as AWS quotes it in "Policy Condition failed". */
static void s3_post_cond_text(struct emu_buf *b, const char *op, const char *name, const char *v)
{
    emu_buf_printf(b, "[\"%s\", \"$%s\", \"%s\"]", op, name, v);
}

/* Checks one condition. Returns 0 when it holds; -1 with resp failed. */
static int s3_post_condition(struct emu_response *resp, struct s3_post_form *p, const char *bucket,
                             const cJSON *c, int64_t *min_len, int64_t *max_len)
{
    const char *op = "eq";
    const char *name = NULL;
    const char *want = NULL;
    if (cJSON_IsObject(c)) {
        const cJSON *m = c->child;
        if (m == NULL || m->next != NULL || !cJSON_IsString(m)) {
            goto bad;
        }
        name = m->string;
        want = m->valuestring;
    } else if (cJSON_IsArray(c) && cJSON_GetArraySize(c) == 3) {
        const cJSON *a0 = cJSON_GetArrayItem(c, 0);
        const cJSON *a1 = cJSON_GetArrayItem(c, 1);
        const cJSON *a2 = cJSON_GetArrayItem(c, 2);
        if (!cJSON_IsString(a0)) {
            goto bad;
        }
        if (strcasecmp(a0->valuestring, "content-length-range") == 0) {
            if (!cJSON_IsNumber(a1) || !cJSON_IsNumber(a2) || a1->valuedouble < 0 ||
                a2->valuedouble < a1->valuedouble) {
                goto bad;
            }
            *min_len = (int64_t)a1->valuedouble;
            *max_len = (int64_t)a2->valuedouble;
            return 0;
        }
        if (!cJSON_IsString(a1) || !cJSON_IsString(a2) || a1->valuestring[0] != '$') {
            goto bad;
        }
        if (strcasecmp(a0->valuestring, "eq") == 0) {
            op = "eq";
        } else if (strcasecmp(a0->valuestring, "starts-with") == 0) {
            op = "starts-with";
        } else {
            goto bad;
        }
        name = a1->valuestring + 1;
        want = a2->valuestring;
    } else {
        goto bad;
    }
    const char *have = NULL;
    struct s3_post_field *f = s3_post_get(p, name);
    if (f != NULL) {
        f->covered = 1;
        have = f->value;
    } else if (strcasecmp(name, "bucket") == 0) {
        have = bucket;
    }
    int ok;
    if (strcmp(op, "eq") == 0) {
        ok = have != NULL && strcmp(have, want) == 0;
    } else {
        ok = have != NULL && strncmp(have, want, strlen(want)) == 0;
    }
    if (!ok) {
        struct emu_buf t = {0};
        s3_post_cond_text(&t, op, name, want);
        emu_fail(resp, AWS_ACCESS_DENIED, "Invalid according to Policy: Policy Condition failed: %s",
                 t.data);
        emu_buf_release(&t);
        return -1;
    }
    return 0;
bad:
    emu_fail(resp, S3_INVALID_POLICY_DOCUMENT,
             "Invalid Policy: Invalid Condition: a condition must be {\"field\": \"value\"}, "
             "[\"eq\"|\"starts-with\", \"$field\", \"value\"] or [\"content-length-range\", min, max].");
    return -1;
}

/* Verifies the SigV4 POST policy of the form and its conditions; sets the
 * request's account and region from the credential. *min_len and *max_len get
 * the content-length-range (or stay -1). Returns 0, or -1 with resp failed. */
static int s3_post_authorize(struct emu_request *req, struct emu_response *resp,
                             struct s3_post_form *p, const char *bucket, int64_t *min_len,
                             int64_t *max_len)
{
    const char *policy = s3_post_value(p, "policy");
    if (policy == NULL) {
        if (!emu_cfg.auth) {
            return 0;
        }
        emu_fail(resp, AWS_ACCESS_DENIED, NULL);
        return -1;
    }
    static const char *const need[] = {"x-amz-algorithm", "x-amz-credential", "x-amz-date",
                                       "x-amz-signature"};
    for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
        if (s3_post_value(p, need[i]) == NULL) {
            if (i == 0 && s3_post_value(p, "awsaccesskeyid") != NULL) {
                emu_fail(resp, S3_INVALID_REQUEST,
                         "The authorization mechanism you have provided is not supported. "
                         "Please use AWS4-HMAC-SHA256.");
                return -1;
            }
            emu_fail(resp, S3_INVALID_ARGUMENT,
                     "Bucket POST must contain a field named '%s'.  If it is specified, please "
                     "check the order of the fields.",
                     need[i]);
            emu_fail_extra(resp, "ArgumentName", need[i]);
            return -1;
        }
    }
    if (strcmp(s3_post_value(p, "x-amz-algorithm"), "AWS4-HMAC-SHA256") != 0) {
        emu_fail(resp, S3_INVALID_ARGUMENT, "Only AWS4-HMAC-SHA256 is supported");
        emu_fail_extra(resp, "ArgumentName", "x-amz-algorithm");
        return -1;
    }
    /* AKID, yyyymmdd, region, "s3", "aws4_request" (slash-separated) */
    char cred[512];
    snprintf(cred, sizeof(cred), "%s", s3_post_value(p, "x-amz-credential"));
    char *parts[5] = {0};
    char *save = NULL;
    size_t np = 0;
    for (char *tok = strtok_r(cred, "/", &save); tok != NULL && np < 5;
         tok = strtok_r(NULL, "/", &save)) {
        parts[np++] = tok;
    }
    if (np != 5 || strlen(parts[1]) != 8 || strcmp(parts[3], "s3") != 0 ||
        strcmp(parts[4], "aws4_request") != 0) {
        emu_fail(resp, S3_INVALID_ARGUMENT, "Invalid argument.");
        emu_fail_extra(resp, "ArgumentName", "x-amz-credential");
        emu_fail_extra(resp, "ArgumentValue", s3_post_value(p, "x-amz-credential"));
        return -1;
    }
    char secret[256];
    char account[16];
    if (emu_account_lookup(parts[0], secret, sizeof(secret), account, sizeof(account)) != 0) {
        if (emu_cfg.auth) {
            emu_fail(resp, AWS_INVALID_ACCESS_KEY_ID, NULL);
            emu_fail_extra(resp, "AWSAccessKeyId", parts[0]);
            return -1;
        }
        snprintf(account, sizeof(account), "%s", EMU_DEFAULT_ACCOUNT);
        secret[0] = 0;
    }
    snprintf(req->account, sizeof(req->account), "%s", account);
    snprintf(req->region, sizeof(req->region), "%s", parts[2]);
    snprintf(req->access_key, sizeof(req->access_key), "%s", parts[0]);
    if (emu_cfg.auth) {
        unsigned char key[32];
        unsigned char mac[32];
        unsigned int ml = 0;
        char hex[65];
        sigv4_signing_key(secret, parts[1], parts[2], "s3", key);
        HMAC(EVP_sha256(), key, sizeof(key), (const unsigned char *)policy, strlen(policy), mac,
             &ml);
        emu_hex(mac, 32, hex);
        const char *sig = s3_post_value(p, "x-amz-signature");
        if (strlen(sig) != 64 || CRYPTO_memcmp(hex, sig, 64) != 0) {
            emu_fail(resp, AWS_SIGNATURE_DOES_NOT_MATCH, NULL);
            emu_fail_extra(resp, "AWSAccessKeyId", parts[0]);
            emu_fail_extra(resp, "StringToSign", policy);
            return -1;
        }
        /* temporary credentials: the form carries the session's token */
        const char *token = s3_post_value(p, "x-amz-security-token");
        if (emu_session_token_check(parts[0], token && *token ? token : NULL, 1, 0, resp) != 0) {
            return -1;
        }
    }
    size_t dl = 0;
    unsigned char *doc = emu_base64_decode(policy, &dl);
    cJSON *pol = doc != NULL ? cJSON_ParseWithLength((const char *)doc, dl) : NULL;
    free(doc);
    int rc = -1;
    if (!cJSON_IsObject(pol)) {
        emu_fail(resp, S3_INVALID_POLICY_DOCUMENT, "Invalid Policy: Invalid JSON.");
        goto out;
    }
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(pol, "expiration");
    const cJSON *conds = cJSON_GetObjectItemCaseSensitive(pol, "conditions");
    if (!cJSON_IsString(exp)) {
        emu_fail(resp, S3_INVALID_POLICY_DOCUMENT, "Invalid Policy: Policy missing expiration.");
        goto out;
    }
    double t = s3_parse_http_date(exp->valuestring);
    if (t < 0) {
        emu_fail(resp, S3_INVALID_POLICY_DOCUMENT,
                 "Invalid Policy: Invalid 'expiration' value: '%s'", exp->valuestring);
        goto out;
    }
    if (!cJSON_IsArray(conds)) {
        emu_fail(resp, S3_INVALID_POLICY_DOCUMENT, "Invalid Policy: Policy missing conditions.");
        goto out;
    }
    if (emu_now() > t) {
        emu_fail(resp, AWS_ACCESS_DENIED, "Invalid according to Policy: Policy expired.");
        goto out;
    }
    const cJSON *c = NULL;
    cJSON_ArrayForEach(c, conds)
    {
        if (s3_post_condition(resp, p, bucket, c, min_len, max_len) != 0) {
            goto out;
        }
    }
    for (size_t i = 0; i < p->n; i++) {
        const char *n = p->f[i].name;
        if (p->f[i].covered || strcmp(n, "policy") == 0 || strcmp(n, "x-amz-signature") == 0 ||
            strncmp(n, "x-ignore-", 9) == 0) {
            continue;
        }
        emu_fail(resp, AWS_ACCESS_DENIED, "Invalid according to Policy: Extra input fields: %s", n);
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(pol);
    return rc;
}

/* Copies body[off, off+len) into a new temp file, computing its MD5.
 * Returns 0 with tmp set, or -1 (logged). */
static int s3_post_extract(const char *body, size_t off, size_t len, char *tmp, size_t tlen,
                           unsigned char md5[16])
{
    snprintf(tmp, tlen, "%s/s3-post-XXXXXX", emu_tmp_dir());
    int fd = mkstemp(tmp);
    if (fd < 0) {
        emu_error_log("s3: mkstemp %s: %s", tmp, strerror(errno));
        tmp[0] = 0;
        return -1;
    }
    unsigned int ml = 0;
    EVP_Digest(body + off, len, md5, &ml, EVP_md5(), NULL);
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, body + off + done, len - done);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            emu_error_log("s3: write %s: %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            tmp[0] = 0;
            return -1;
        }
        done += (size_t)w;
    }
    close(fd);
    return 0;
}

struct s3_post_args {
    const char *key;
    const struct s3_meta *meta;
    int64_t size;
    const char *etag;
    const char *algo;
    const char *value;
    const char *blob;
    const char *acl; /* the form's canned acl, or NULL */
    char version[40];
    int versioned;
};

/* The transactional half: bucket, new version, notification. */
static int s3_post_txn(struct emu_request *req, struct emu_response *resp, const void *arg)
{
    struct s3_post_args *a = (struct s3_post_args *)arg;
    struct s3_bucket b;
    if (s3_bucket_load(req, resp, s3_bucket_name(req), &b) != 0 ||
        s3_acl_canned_allowed(resp, b.name, a->acl) != 0) {
        return -1;
    }
    struct s3_newobj n = {
        .size = a->size,
        .etag = a->etag,
        .meta = a->meta,
        .checksum_algo = a->algo,
        .checksum = a->value,
        .blob = a->blob,
    };
    if (s3_obj_write(req, &b, a->key, &n, a->version) != 0) {
        s3_internal(resp, "post object");
        return -1;
    }
    a->versioned = b.versioning[0] != 0;
    s3_notify(req, &b, a->key, "ObjectCreated:Post", a->size, a->etag, a->version);
    return 0;
}

/* The object's metadata from the form fields. */
static void s3_post_meta(struct s3_post_form *p, struct s3_meta *m)
{
    static const struct {
        const char *field;
        size_t off;
    } map[] = {
        {"content-type", offsetof(struct s3_meta, content_type)},
        {"cache-control", offsetof(struct s3_meta, cache_control)},
        {"content-disposition", offsetof(struct s3_meta, content_disposition)},
        {"content-encoding", offsetof(struct s3_meta, content_encoding)},
        {"content-language", offsetof(struct s3_meta, content_language)},
        {"expires", offsetof(struct s3_meta, expires)},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        const char *v = s3_post_value(p, map[i].field);
        if (v != NULL) {
            *(char **)((char *)m + map[i].off) = strdup(v);
        }
    }
    if (m->content_type == NULL) {
        m->content_type = strdup("binary/octet-stream");
    }
    cJSON *user = NULL;
    for (size_t i = 0; i < p->n; i++) {
        if (strncmp(p->f[i].name, "x-amz-meta-", 11) == 0 && p->f[i].name[11] != 0) {
            if (user == NULL) {
                user = cJSON_CreateObject();
            }
            cJSON_AddStringToObject(user, p->f[i].name + 11, p->f[i].value);
        }
    }
    if (user != NULL) {
        m->user = cJSON_PrintUnformatted(user);
        cJSON_Delete(user);
    }
}

/* The key with ${filename} replaced by the file part's name (new string). */
static char *s3_post_key(const char *key, const char *filename)
{
    struct emu_buf b = {0};
    const char *s = key;
    const char *hit;
    while ((hit = strstr(s, "${filename}")) != NULL) {
        emu_buf_append(&b, s, (size_t)(hit - s));
        emu_buf_puts(&b, filename);
        s = hit + 11;
    }
    emu_buf_puts(&b, s);
    return emu_buf_take(&b);
}

/* The answer: a redirect, an empty 200/204, or a 201 PostResponse. */
static void s3_post_answer(struct emu_response *resp, struct s3_post_form *p, const char *bucket,
                           const char *key, const char *etag, const struct s3_post_args *a)
{
    struct emu_buf loc = {0};
    emu_buf_printf(&loc, "%s/%s/", emu_base_url(), bucket);
    emu_buf_url_encode(&loc, key, strlen(key), 1);
    emu_resp_header(resp, "ETag", "\"%s\"", etag);
    emu_resp_header(resp, "Location", "%s", loc.data);
    emu_resp_header(resp, "x-amz-server-side-encryption", "AES256");
    if (a->versioned || strcmp(a->version, "null") != 0) {
        emu_resp_header(resp, "x-amz-version-id", "%s", a->version);
    }
    const char *redirect = s3_post_value(p, "success_action_redirect");
    if (redirect == NULL) {
        redirect = s3_post_value(p, "redirect");
    }
    const char *status = s3_post_value(p, "success_action_status");
    if (redirect != NULL && redirect[0] != 0) {
        struct emu_buf r = {0};
        emu_buf_printf(&r, "%s%sbucket=", redirect, strchr(redirect, '?') ? "&" : "?");
        emu_buf_url_encode(&r, bucket, strlen(bucket), 0);
        emu_buf_puts(&r, "&key=");
        emu_buf_url_encode(&r, key, strlen(key), 0);
        emu_buf_puts(&r, "&etag=%22");
        emu_buf_puts(&r, etag);
        emu_buf_puts(&r, "%22");
        emu_resp_header(resp, "Location", "%s", r.data);
        emu_resp_body(resp, 303, NULL, "", 0);
        emu_buf_release(&r);
    } else if (status != NULL && strcmp(status, "201") == 0) {
        struct emu_buf x = {0};
        char q[100];
        snprintf(q, sizeof(q), "\"%s\"", etag);
        emu_buf_puts(&x, "<PostResponse>");
        emu_buf_xml_elem(&x, "Location", loc.data);
        emu_buf_xml_elem(&x, "Bucket", bucket);
        emu_buf_xml_elem(&x, "Key", key);
        emu_buf_xml_elem(&x, "ETag", q);
        emu_buf_puts(&x, "</PostResponse>");
        emu_resp_xml(resp, 201, x.data);
        emu_buf_release(&x);
    } else if (status != NULL && strcmp(status, "200") == 0) {
        emu_resp_body(resp, 200, NULL, "", 0);
    } else {
        emu_resp_body(resp, 204, NULL, "", 0);
    }
    emu_buf_release(&loc);
}

void s3_post_object(struct emu_request *req, struct emu_response *resp)
{
    struct emu_upload *u = req->upload;
    struct s3_post_form p;
    struct s3_meta m = {0};
    memset(&p, 0, sizeof(p));
    char delim[256];
    char tmp[600] = "";
    char blob[S3_BLOB_LEN] = "";
    char *key = NULL;
    void *map = MAP_FAILED;
    size_t map_len = 0;
    int fd = -1;
    const char *bucket = s3_bucket_name(req);
    if (s3_post_boundary(emu_header(req, "content-type"), delim, sizeof(delim)) != 0) {
        emu_fail(resp, S3_PRECONDITION_FAILED, NULL);
        emu_fail_extra(resp, "Condition", "Bucket POST must be of the enclosure-type multipart/form-data");
        goto out;
    }
    if (u == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        goto out;
    }
    fd = open(u->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        emu_error_log("s3: open %s: %s", u->path, strerror(errno));
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        goto out;
    }
    map_len = (size_t)u->size;
    if (map_len > 0) {
        map = mmap(NULL, map_len, PROT_READ, MAP_PRIVATE, fd, 0);
    }
    if (map == MAP_FAILED || s3_post_parse(map, map_len, delim, &p) != 0) {
        emu_fail(resp, S3_MALFORMED_POST_REQUEST, NULL);
        goto out;
    }
    if (s3_post_value(&p, "key") == NULL) {
        emu_fail(resp, S3_INVALID_ARGUMENT,
                 "Bucket POST must contain a field named 'key'.  If it is specified, please check "
                 "the order of the fields.");
        emu_fail_extra(resp, "ArgumentName", "key");
        emu_fail_extra(resp, "ArgumentValue", "");
        goto out;
    }
    if (!p.has_file) {
        emu_fail(resp, S3_INVALID_ARGUMENT, "POST requires exactly one file upload per request.");
        emu_fail_extra(resp, "ArgumentName", "file");
        emu_fail_extra(resp, "ArgumentValue", "0");
        goto out;
    }
    int64_t min_len = -1;
    int64_t max_len = -1;
    if (s3_post_authorize(req, resp, &p, bucket, &min_len, &max_len) != 0) {
        goto out;
    }
    char n[32];
    if (max_len >= 0 && (int64_t)p.file_len > max_len) {
        emu_fail(resp, S3_ENTITY_TOO_LARGE, NULL);
        snprintf(n, sizeof(n), "%zu", p.file_len);
        emu_fail_extra(resp, "ProposedSize", n);
        snprintf(n, sizeof(n), "%lld", (long long)max_len);
        emu_fail_extra(resp, "MaxSizeAllowed", n);
        goto out;
    }
    if (min_len >= 0 && (int64_t)p.file_len < min_len) {
        emu_fail(resp, S3_ENTITY_TOO_SMALL, NULL);
        snprintf(n, sizeof(n), "%zu", p.file_len);
        emu_fail_extra(resp, "ProposedSize", n);
        snprintf(n, sizeof(n), "%lld", (long long)min_len);
        emu_fail_extra(resp, "MinSizeAllowed", n);
        goto out;
    }
    key = s3_post_key(s3_post_value(&p, "key"), p.filename);
    if (key[0] == 0) {
        emu_fail(resp, S3_INVALID_ARGUMENT, "User key must have a length greater than 0.");
        emu_fail_extra(resp, "ArgumentName", "key");
        goto out;
    }
    if (strlen(key) > 1024) {
        emu_fail(resp, S3_KEY_TOO_LONG, NULL);
        goto out;
    }
    unsigned char md5[16];
    if (s3_post_extract(map, p.file_off, p.file_len, tmp, sizeof(tmp), md5) != 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        goto out;
    }
    char value[96];
    if (s3_file_checksum(tmp, "crc64nvme", value) != 0 || s3_blob_adopt(tmp, blob) != 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        goto out;
    }
    tmp[0] = 0;
    s3_post_meta(&p, &m);
    char etag[33];
    emu_hex(md5, 16, etag);
    struct s3_post_args a = {
        .key = key,
        .meta = &m,
        .size = (int64_t)p.file_len,
        .etag = etag,
        .algo = "crc64nvme",
        .value = value,
        .blob = blob,
        .acl = s3_post_value(&p, "acl"),
    };
    if (s3_commit_upload(req, resp, blob, s3_post_txn, &a) != 0) {
        goto out;
    }
    snprintf(req->resource, sizeof(req->resource), "%s/%s", bucket, key);
    s3_post_answer(resp, &p, bucket, key, etag, &a);
out:
    if (map != MAP_FAILED) {
        munmap(map, map_len);
    }
    if (fd >= 0) {
        close(fd);
    }
    if (tmp[0] != 0) {
        unlink(tmp);
    }
    free(key);
    s3_meta_release(&m);
    s3_post_form_release(&p);
}
