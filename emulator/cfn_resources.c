/*
 * cfn_resources.c - CloudFormation resource providers: create, update and
 * delete of AWS::S3::Bucket, AWS::S3::BucketPolicy, AWS::Lambda::Function,
 * Version, Alias, Permission, EventSourceMapping, AWS::ApiGateway::RestApi,
 * Resource, Method, Deployment, Stage, AWS::IAM::Role, Policy,
 * ManagedPolicy, AWS::SNS::Topic, Subscription, TopicPolicy, AWS::SQS::Queue,
 * QueuePolicy, AWS::Events::Rule, AWS::IAM::User, Group, RolePolicy,
 * UserPolicy, GroupPolicy,
 * AWS::ApiGateway::Authorizer, Model, ApiKey, UsagePlan, UsagePlanKey,
 * AWS::Lambda::EventInvokeConfig, AWS::IoT::TopicRule, AWS::DynamoDB::Table,
 * AWS::Logs::LogGroup and AWS::CloudFormation::WaitConditionHandle (the last
 * three in CloudFormation's own table), through the owning services' public APIs
 * (emu_call_internal). Called by the stack worker without the store lock.
 * The types recorded without a service behind them are in cfn_recorded.c.
 */
#include "cfn_resources.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zip.h>

#include "cfn_template.h"
#include "emu.h"

/* ------------------------------------------------------------- helpers */

static void res_err(struct cfn_res *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void res_err(struct cfn_res *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);
}

static int svc_up(const char *name)
{
    return emu_service_find(name) != NULL;
}

static const char *pstr(const cJSON *props, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(props, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A property as a string (numbers and booleans converted); caller frees;
 * NULL when absent. */
static char *pdup(const cJSON *props, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(props, name);
    if (v == NULL || cJSON_IsNull(v)) {
        return NULL;
    }
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        return cJSON_PrintUnformatted(v);
    }
    return cfn_value_str(v);
}

static int pchanged(const cJSON *a, const cJSON *b, const char *name)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, name);
    const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, name);
    if (x == NULL && y == NULL) {
        return 0;
    }
    if (x == NULL || y == NULL) {
        return 1;
    }
    return !cJSON_Compare(x, y, 1);
}

static void attr_set(struct cfn_res *r, const char *name, const char *value)
{
    if (r->attrs == NULL) {
        r->attrs = cJSON_CreateObject();
    }
    cJSON_DeleteItemFromObjectCaseSensitive(r->attrs, name);
    cJSON_AddStringToObject(r->attrs, name, value ? value : "");
}

static void attr_keep(struct cfn_res *r)
{
    if (r->attrs == NULL) {
        r->attrs = r->old_attrs ? cJSON_Duplicate(r->old_attrs, 1) : cJSON_CreateObject();
    }
}

void cfn_physical_name(const char *stack, const char *logical, size_t max, int lower, char *out,
                       size_t outlen)
{
    char rnd[16];
    size_t sl = strlen(stack), ll = strlen(logical), avail, i;
    emu_random_alnum(rnd, 13, lower);
    rnd[13] = 0;
    if (max == 0 || max > outlen - 1) {
        max = outlen - 1;
    }
    avail = max > 15 ? max - 15 : 0;
    if (sl + ll > avail) {
        size_t half = avail / 2;
        if (ll <= half) {
            sl = avail - ll;
        } else if (sl <= half) {
            ll = avail - sl;
        } else {
            sl = half;
            ll = avail - half;
        }
    }
    snprintf(out, outlen, "%.*s-%.*s-%s", (int)sl, stack, (int)ll, logical, rnd);
    if (lower) {
        for (i = 0; out[i]; i++) {
            out[i] = (char)tolower((unsigned char)out[i]);
        }
    }
}

/* The resource's name: the naming property, else a generated one. */
static void pick_name(struct cfn_res *r, const char *prop, size_t max, int lower, char *out,
                      size_t outlen)
{
    const char *given = prop ? pstr(r->props, prop) : NULL;
    if (given != NULL && given[0] != 0) {
        snprintf(out, outlen, "%s", given);
        return;
    }
    cfn_physical_name(r->stack_name, r->logical_id, max, lower, out, outlen);
}

/* Runs an internal call. Returns the HTTP status; on >= 300 r->err is set
 * (AWS style: message, service, status, code). body_out (may be NULL)
 * receives the response body (caller frees). */
static int rc_call(struct cfn_res *r, const char *svc, const char *method, const char *path,
                   const char *target, const char *ctype, const char *body, char **body_out)
{
    struct emu_call call;
    struct emu_response resp;
    struct emu_kv hdr[1];
    int status;
    memset(&call, 0, sizeof(call));
    call.account = r->account;
    call.region = r->region;
    call.service = svc;
    call.method = method;
    call.path = path;
    call.target = target;
    if (ctype != NULL) {
        hdr[0].key = (char *)"content-type";
        hdr[0].value = (char *)ctype;
        call.headers = hdr;
        call.nheaders = 1;
    }
    call.body = body;
    call.body_len = body ? strlen(body) : 0;
    emu_response_init(&resp);
    status = emu_call_internal(&call, &resp);
    if (status == 0) {
        status = resp.status ? resp.status : 200;
    }
    if (resp.failed || status >= 300) {
        const char *code = resp.error_code[0] ? resp.error_code : "";
        const char *msg = resp.error_message;
        if (resp.failed && code[0] == 0) {
            code = emu_error_info(resp.error)->code;
        }
        if (msg == NULL && resp.failed) {
            msg = emu_error_info(resp.error)->message;
        }
        if (msg == NULL) {
            msg = resp.body.data ? resp.body.data : "";
        }
        if (status < 300) {
            status = 400;
        }
        res_err(r, "%s (Service: %s, Status Code: %d, Error Code: %s)", msg, svc, status, code);
    }
    if (body_out != NULL) {
        *body_out = resp.body.data ? strdup(resp.body.data) : strdup("");
    }
    emu_response_release(&resp);
    return status;
}

/* JSON call; body taken (may be NULL); *out parsed response (may be NULL). */
static int rc_json(struct cfn_res *r, const char *svc, const char *method, const char *path,
                   const char *target, cJSON *body, cJSON **out)
{
    char *txt = body ? cJSON_PrintUnformatted(body) : NULL;
    char *resp = NULL;
    const char *ctype = target ? (strcmp(svc, "sqs") == 0 ? "application/x-amz-json-1.0"
                                                          : "application/x-amz-json-1.1")
                               : "application/json";
    int status = rc_call(r, svc, method, path, target, body ? ctype : NULL, txt, &resp);
    if (out != NULL) {
        *out = (status < 300 && resp != NULL) ? cJSON_Parse(resp) : NULL;
    }
    free(txt);
    free(resp);
    cJSON_Delete(body);
    return status;
}

/* Query-protocol form builder. */
static void form_add(struct emu_buf *f, const char *key, const char *value)
{
    if (value == NULL) {
        return;
    }
    if (f->len > 0) {
        emu_buf_puts(f, "&");
    }
    emu_buf_url_encode(f, key, strlen(key), 0);
    emu_buf_puts(f, "=");
    emu_buf_url_encode(f, value, strlen(value), 0);
}

static int rc_query(struct cfn_res *r, const char *svc, struct emu_buf *form, char **out)
{
    int status =
        rc_call(r, svc, "POST", "/", NULL, "application/x-www-form-urlencoded; charset=utf-8",
                form->data ? form->data : "", out);
    emu_buf_release(form);
    return status;
}

/* First text of <tag>...</tag> in xml, entities decoded; caller frees. */
static char *xml_text(const char *xml, const char *tag)
{
    char open[128], close[128];
    const char *s, *e;
    struct emu_buf b = {0};
    if (xml == NULL) {
        return NULL;
    }
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    s = strstr(xml, open);
    if (s == NULL) {
        return NULL;
    }
    s += strlen(open);
    e = strstr(s, close);
    if (e == NULL) {
        return NULL;
    }
    while (s < e) {
        if (*s == '&') {
            static const struct {
                const char *ent;
                char c;
            } ents[] = {
                {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
            size_t i;
            int done = 0;
            for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
                size_t n = strlen(ents[i].ent);
                if ((size_t)(e - s) >= n && strncmp(s, ents[i].ent, n) == 0) {
                    emu_buf_append(&b, &ents[i].c, 1);
                    s += n;
                    done = 1;
                    break;
                }
            }
            if (done) {
                continue;
            }
        }
        emu_buf_append(&b, s, 1);
        s++;
    }
    return emu_buf_take(&b);
}

/* A property that may be an object (JSON document) as a string; caller frees. */
static char *doc_str(const cJSON *props, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(props, name);
    if (cJSON_IsString(v)) {
        return strdup(v->valuestring);
    }
    if (v == NULL || cJSON_IsNull(v)) {
        return NULL;
    }
    return cJSON_PrintUnformatted(v);
}

/* ------------------------------------------------------ local resources */

static int local_put(struct cfn_res *r, const cJSON *props)
{
    return cfn_local_put(r, props);
}

int cfn_local_put(struct cfn_res *r, const cJSON *props)
{
    sqlite3_stmt *st;
    char *p = NULL, *a = NULL;
    int rc = -1;
    if (emu_store_begin(1) != 0) {
        res_err(r, "Internal failure");
        return -1;
    }
    if (props == NULL) {
        st = emu_stmt("DELETE FROM cfn_local WHERE account = ?1 AND region = ?2 AND type = ?3 AND "
                      "physical_id = ?4");
    } else {
        st = emu_stmt(
            "INSERT OR REPLACE INTO cfn_local (account, region, type, physical_id, properties, "
            "attributes, stack_name, logical_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    }
    if (st == NULL) {
        goto out;
    }
    sqlite3_bind_text(st, 1, r->account, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, r->region, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, r->type, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, r->physical_id, -1, SQLITE_TRANSIENT);
    if (props != NULL) {
        p = cJSON_PrintUnformatted(props);
        a = r->attrs ? cJSON_PrintUnformatted(r->attrs) : strdup("{}");
        sqlite3_bind_text(st, 5, p, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 6, a, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 7, r->stack_name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 8, r->logical_id, -1, SQLITE_TRANSIENT);
    }
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    emu_stmt_done(st);
out:
    emu_store_end(rc == 0);
    free(p);
    free(a);
    if (rc != 0) {
        res_err(r, "Internal failure recording %s", r->physical_id);
    }
    return rc;
}

/* ------------------------------------------------------------------- S3 */

static void s3_attrs(struct cfn_res *r)
{
    char buf[1200];
    snprintf(buf, sizeof(buf), "arn:aws:s3:::%s", r->physical_id);
    attr_set(r, "Arn", buf);
    snprintf(buf, sizeof(buf), "%s.s3.amazonaws.com", r->physical_id);
    attr_set(r, "DomainName", buf);
    snprintf(buf, sizeof(buf), "%s.s3.dualstack.%s.amazonaws.com", r->physical_id, r->region);
    attr_set(r, "DualStackDomainName", buf);
    snprintf(buf, sizeof(buf), "%s.s3.%s.amazonaws.com", r->physical_id, r->region);
    attr_set(r, "RegionalDomainName", buf);
    snprintf(buf, sizeof(buf), "http://%s.s3-website-%s.amazonaws.com", r->physical_id, r->region);
    attr_set(r, "WebsiteURL", buf);
}

/* NotificationConfiguration as S3's XML (LambdaConfigurations go out as
 * CloudFunctionConfiguration, as the SDKs send them). Appends to b. */
static void s3_notification_xml(struct emu_buf *b, const cJSON *nc)
{
    static const struct {
        const char *prop, *elem, *arn_prop, *arn_elem;
    } kinds[] = {
        {"TopicConfigurations", "TopicConfiguration", "Topic", "Topic"},
        {"QueueConfigurations", "QueueConfiguration", "Queue", "Queue"},
        {"LambdaConfigurations", "CloudFunctionConfiguration", "Function", "CloudFunction"}};
    size_t i;
    emu_buf_puts(b,
                 "<NotificationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(nc, kinds[i].prop))
        {
            const cJSON *rules = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(it, "Filter"),
                                                 "S3Key"),
                "Rules");
            const cJSON *rule;
            emu_buf_printf(b, "<%s>", kinds[i].elem);
            emu_buf_xml_elem(b, kinds[i].arn_elem, pstr(it, kinds[i].arn_prop));
            emu_buf_xml_elem(b, "Event", pstr(it, "Event"));
            if (cJSON_IsArray(rules)) {
                emu_buf_puts(b, "<Filter><S3Key>");
                cJSON_ArrayForEach(rule, rules)
                {
                    emu_buf_puts(b, "<FilterRule>");
                    emu_buf_xml_elem(b, "Name", pstr(rule, "Name"));
                    emu_buf_xml_elem(b, "Value", pstr(rule, "Value"));
                    emu_buf_puts(b, "</FilterRule>");
                }
                emu_buf_puts(b, "</S3Key></Filter>");
            }
            emu_buf_printf(b, "</%s>", kinds[i].elem);
        }
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(nc, "EventBridgeConfiguration"),
            "EventBridgeEnabled"))) {
        emu_buf_puts(b, "<EventBridgeConfiguration/>");
    }
    emu_buf_puts(b, "</NotificationConfiguration>");
}

static int s3_bucket_extras(struct cfn_res *r)
{
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(r->props, "VersioningConfiguration");
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(r->props, "Tags");
    char path[1200];
    if (cJSON_IsObject(ver) && pstr(ver, "Status") != NULL) {
        struct emu_buf b = {0};
        int st;
        emu_buf_puts(
            &b,
            "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>");
        emu_buf_xml_escape(&b, pstr(ver, "Status"));
        emu_buf_puts(&b, "</Status></VersioningConfiguration>");
        snprintf(path, sizeof(path), "/%s?versioning", r->physical_id);
        st = rc_call(r, "s3", "PUT", path, NULL, "application/xml", b.data, NULL);
        emu_buf_release(&b);
        if (st >= 300) {
            return -1;
        }
    }
    /* notifications: when given, or when an update drops them */
    if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(r->props, "NotificationConfiguration")) ||
        (r->old_props != NULL && pchanged(r->old_props, r->props, "NotificationConfiguration"))) {
        struct emu_buf b = {0};
        int st;
        s3_notification_xml(
            &b, cJSON_GetObjectItemCaseSensitive(r->props, "NotificationConfiguration"));
        snprintf(path, sizeof(path), "/%s?notification", r->physical_id);
        st = rc_call(r, "s3", "PUT", path, NULL, "application/xml", b.data, NULL);
        emu_buf_release(&b);
        if (st >= 300) {
            return -1;
        }
    }
    if (cJSON_IsArray(tags) && cJSON_GetArraySize(tags) > 0) {
        struct emu_buf b = {0};
        const cJSON *t;
        int st;
        emu_buf_puts(&b, "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>");
        cJSON_ArrayForEach(t, tags)
        {
            emu_buf_puts(&b, "<Tag>");
            emu_buf_xml_elem(&b, "Key", pstr(t, "Key"));
            emu_buf_xml_elem(&b, "Value", pstr(t, "Value"));
            emu_buf_puts(&b, "</Tag>");
        }
        emu_buf_puts(&b, "</TagSet></Tagging>");
        snprintf(path, sizeof(path), "/%s?tagging", r->physical_id);
        st = rc_call(r, "s3", "PUT", path, NULL, "application/xml", b.data, NULL);
        emu_buf_release(&b);
        if (st >= 300) {
            return -1;
        }
    }
    return 0;
}

static int s3_bucket_create(struct cfn_res *r)
{
    char path[1200];
    pick_name(r, "BucketName", 63, 1, r->physical_id, sizeof(r->physical_id));
    s3_attrs(r);
    if (!svc_up("s3")) {
        return local_put(r, r->props);
    }
    snprintf(path, sizeof(path), "/%s", r->physical_id);
    if (strcmp(r->region, "us-east-1") == 0) {
        if (rc_call(r, "s3", "PUT", path, NULL, NULL, NULL, NULL) >= 300) {
            return -1;
        }
    } else {
        struct emu_buf b = {0};
        int st;
        emu_buf_printf(&b,
                       "<CreateBucketConfiguration "
                       "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>%s</"
                       "LocationConstraint></CreateBucketConfiguration>",
                       r->region);
        st = rc_call(r, "s3", "PUT", path, NULL, "application/xml", b.data, NULL);
        emu_buf_release(&b);
        if (st >= 300) {
            return -1;
        }
    }
    return s3_bucket_extras(r);
}

static int s3_bucket_update(struct cfn_res *r)
{
    s3_attrs(r);
    if (!svc_up("s3")) {
        return local_put(r, r->props);
    }
    return s3_bucket_extras(r);
}

static int s3_bucket_delete(struct cfn_res *r)
{
    char path[1200];
    int st;
    if (!svc_up("s3")) {
        return local_put(r, NULL);
    }
    snprintf(path, sizeof(path), "/%s", r->physical_id);
    st = rc_call(r, "s3", "DELETE", path, NULL, NULL, NULL, NULL);
    if (st == 404) {
        return 0;
    }
    return st >= 300 ? -1 : 0;
}

static int s3_policy_put(struct cfn_res *r)
{
    char path[1200];
    char *doc = doc_str(r->props, "PolicyDocument");
    const char *bucket = pstr(r->props, "Bucket");
    int st;
    if (bucket == NULL || doc == NULL) {
        free(doc);
        res_err(r,
                "Properties validation failed for resource %s with message: #: required key [%s] "
                "not found",
                r->logical_id, bucket == NULL ? "Bucket" : "PolicyDocument");
        return -1;
    }
    if (r->physical_id[0] == 0) {
        snprintf(r->physical_id, sizeof(r->physical_id), "%s", bucket);
    }
    attr_keep(r);
    if (!svc_up("s3")) {
        free(doc);
        return local_put(r, r->props);
    }
    snprintf(path, sizeof(path), "/%s?policy", bucket);
    st = rc_call(r, "s3", "PUT", path, NULL, "application/json", doc, NULL);
    free(doc);
    return st >= 300 ? -1 : 0;
}

static int s3_policy_delete(struct cfn_res *r)
{
    char path[1200];
    const char *bucket = pstr(r->old_props ? r->old_props : r->props, "Bucket");
    int st;
    if (!svc_up("s3")) {
        return local_put(r, NULL);
    }
    snprintf(path, sizeof(path), "/%s?policy", bucket ? bucket : r->physical_id);
    st = rc_call(r, "s3", "DELETE", path, NULL, NULL, NULL, NULL);
    return (st >= 300 && st != 404) ? -1 : 0;
}

/* --------------------------------------------------------------- Lambda */

/* Splits a function name or ARN into name and qualifier. */
static void fn_split(const char *fn, char *name, size_t nlen, char *qual, size_t qlen)
{
    qual[0] = 0;
    if (fn == NULL) {
        name[0] = 0;
        return;
    }
    if (strncmp(fn, "arn:", 4) == 0) {
        const char *p = strstr(fn, ":function:");
        if (p != NULL) {
            const char *q;
            p += 10;
            q = strchr(p, ':');
            if (q != NULL) {
                snprintf(name, nlen, "%.*s", (int)(q - p), p);
                snprintf(qual, qlen, "%s", q + 1);
            } else {
                snprintf(name, nlen, "%s", p);
            }
            return;
        }
    }
    {
        const char *q = strchr(fn, ':');
        if (q != NULL) {
            snprintf(name, nlen, "%.*s", (int)(q - fn), fn);
            snprintf(qual, qlen, "%s", q + 1);
            return;
        }
    }
    snprintf(name, nlen, "%s", fn);
}

/* Builds a zip holding one file (index.js / index.py) with the inline code;
 * returns its base64 (caller frees) or NULL. */
static char *zip_inline(const char *runtime, const char *code)
{
    zip_error_t zerr;
    zip_source_t *src, *fsrc;
    zip_t *za;
    zip_stat_t zst;
    unsigned char *data = NULL;
    char *out = NULL;
    const char *fname = "index.js";
    if (runtime != NULL && strncmp(runtime, "python", 6) == 0) {
        fname = "index.py";
    } else if (runtime != NULL && strncmp(runtime, "nodejs", 6) != 0) {
        fname = "index";
    }
    zip_error_init(&zerr);
    src = zip_source_buffer_create(NULL, 0, 0, &zerr);
    if (src == NULL) {
        goto out;
    }
    za = zip_open_from_source(src, ZIP_TRUNCATE, &zerr);
    if (za == NULL) {
        zip_source_free(src);
        goto out;
    }
    zip_source_keep(src);
    fsrc = zip_source_buffer(za, code, strlen(code), 0);
    if (fsrc == NULL || zip_file_add(za, fname, fsrc, ZIP_FL_OVERWRITE) < 0) {
        zip_source_free(fsrc);
        zip_discard(za);
        zip_source_free(src);
        goto out;
    }
    if (zip_close(za) < 0) {
        zip_discard(za);
        zip_source_free(src);
        goto out;
    }
    if (zip_source_stat(src, &zst) < 0 || zip_source_open(src) < 0) {
        zip_source_free(src);
        goto out;
    }
    data = malloc(zst.size + 1);
    if (data != NULL && zip_source_read(src, data, zst.size) == (zip_int64_t)zst.size) {
        out = emu_base64_encode(data, zst.size);
    }
    zip_source_close(src);
    zip_source_free(src);
out:
    free(data);
    zip_error_fini(&zerr);
    return out;
}

/* Copies a map whose values the API wants as strings (environment and
 * stage variables): numbers and booleans become their text. */
static void copy_str_map(cJSON *dst, const cJSON *props, const char *from, const char *to)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(props, from);
    const cJSON *it;
    cJSON *m;
    if (!cJSON_IsObject(v)) {
        return;
    }
    m = cJSON_AddObjectToObject(dst, to ? to : from);
    cJSON_ArrayForEach(it, v)
    {
        char *sv = cfn_value_str(it);
        cJSON_AddStringToObject(m, it->string, sv);
        free(sv);
    }
}

static cJSON *tags_map(const cJSON *tags)
{
    cJSON *m = cJSON_CreateObject();
    const cJSON *t;
    cJSON_ArrayForEach(t, tags)
    {
        if (pstr(t, "Key") != NULL) {
            char *v = pdup(t, "Value");
            cJSON_AddStringToObject(m, pstr(t, "Key"), v ? v : "");
            free(v);
        }
    }
    return m;
}

static void copy_prop(cJSON *dst, const cJSON *props, const char *from, const char *to)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(props, from);
    if (v != NULL && !cJSON_IsNull(v)) {
        cJSON_AddItemToObject(dst, to ? to : from, cJSON_Duplicate(v, 1));
    }
}

/* Like copy_prop for a field the API wants as a number ("5" -> 5), as
 * CloudFormation converts parameter strings to the property's type. */
static void copy_num(cJSON *dst, const cJSON *props, const char *from, const char *to)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(props, from);
    if (cJSON_IsString(v)) {
        char *end = NULL;
        double d = strtod(v->valuestring, &end);
        if (end != v->valuestring && end != NULL && *end == 0) {
            cJSON_AddNumberToObject(dst, to ? to : from, d);
            return;
        }
    }
    copy_prop(dst, props, from, to);
}

/* Same for a boolean field ("true" -> true). */
static void copy_bool(cJSON *dst, const cJSON *props, const char *from, const char *to)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(props, from);
    if (cJSON_IsString(v) &&
        (strcmp(v->valuestring, "true") == 0 || strcmp(v->valuestring, "false") == 0)) {
        cJSON_AddBoolToObject(dst, to ? to : from, strcmp(v->valuestring, "true") == 0);
        return;
    }
    copy_prop(dst, props, from, to);
}

static cJSON *fn_config(const cJSON *p)
{
    cJSON *b = cJSON_CreateObject();
    static const char *const keys[] = {
        "Runtime",       "Role",        "Handler",          "Description",   "Timeout",
        "MemorySize",    "Environment", "Layers",           "VpcConfig",     "DeadLetterConfig",
        "TracingConfig", "KMSKeyArn",   "EphemeralStorage", "Architectures", NULL};
    size_t i;
    for (i = 0; keys[i] != NULL; i++) {
        if (strcmp(keys[i], "Timeout") == 0 || strcmp(keys[i], "MemorySize") == 0) {
            copy_num(b, p, keys[i], NULL);
        } else if (strcmp(keys[i], "Environment") == 0) {
            const cJSON *env = cJSON_GetObjectItemCaseSensitive(p, "Environment");
            if (cJSON_IsObject(env)) {
                cJSON *e = cJSON_AddObjectToObject(b, "Environment");
                copy_str_map(e, env, "Variables", NULL);
            }
        } else if (strcmp(keys[i], "Architectures") != 0) {
            copy_prop(b, p, keys[i], NULL);
        }
    }
    return b;
}

static int fn_code(struct cfn_res *r, cJSON *dst, int update)
{
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(r->props, "Code");
    cJSON *c = update ? dst : cJSON_CreateObject();
    if (!cJSON_IsObject(code)) {
        if (!update) {
            cJSON_Delete(c);
        }
        res_err(r,
                "Properties validation failed for resource %s with message: #: required key [Code] "
                "not found",
                r->logical_id);
        return -1;
    }
    if (pstr(code, "ZipFile") != NULL) {
        char *z = zip_inline(pstr(r->props, "Runtime"), pstr(code, "ZipFile"));
        if (z == NULL) {
            if (!update) {
                cJSON_Delete(c);
            }
            res_err(r, "Could not build the deployment package for %s", r->logical_id);
            return -1;
        }
        cJSON_AddStringToObject(c, "ZipFile", z);
        free(z);
    } else {
        copy_prop(c, code, "S3Bucket", NULL);
        copy_prop(c, code, "S3Key", NULL);
        copy_prop(c, code, "S3ObjectVersion", NULL);
        copy_prop(c, code, "ImageUri", NULL);
    }
    if (!update) {
        cJSON_AddItemToObject(dst, "Code", c);
    }
    return 0;
}

static void fn_attrs(struct cfn_res *r, const char *arn)
{
    char buf[1200];
    if (arn == NULL) {
        snprintf(buf, sizeof(buf), "arn:aws:lambda:%s:%s:function:%s", r->region, r->account,
                 r->physical_id);
        arn = buf;
    }
    attr_set(r, "Arn", arn);
}

/* Tags of an updated function: added or changed ones tagged, dropped ones
 * untagged. */
static int fn_tags(struct cfn_res *r)
{
    char path[2400];
    const char *arn = pstr(r->old_attrs, "Arn");
    cJSON *now, *before;
    const cJSON *it;
    struct emu_buf q = {0};
    int rc = 0;
    if (!pchanged(r->old_props, r->props, "Tags")) {
        return 0;
    }
    if (arn == NULL) {
        return 0;
    }
    now = tags_map(cJSON_GetObjectItemCaseSensitive(r->props, "Tags"));
    before = tags_map(cJSON_GetObjectItemCaseSensitive(r->old_props, "Tags"));
    cJSON_ArrayForEach(it, before)
    {
        if (!cJSON_HasObjectItem(now, it->string)) {
            emu_buf_puts(&q, q.len ? "&tagKeys=" : "?tagKeys=");
            emu_buf_url_encode(&q, it->string, strlen(it->string), 0);
        }
    }
    if (q.len > 0) {
        int st;
        snprintf(path, sizeof(path), "/2017-03-31/tags/%s%s", arn, q.data);
        st = rc_call(r, "lambda", "DELETE", path, NULL, NULL, NULL, NULL);
        rc = st >= 300 ? -1 : 0;
    }
    emu_buf_release(&q);
    cJSON_Delete(before);
    if (rc == 0 && cJSON_GetArraySize(now) > 0) {
        cJSON *b = cJSON_CreateObject();
        cJSON_AddItemToObject(b, "Tags", now);
        now = NULL;
        snprintf(path, sizeof(path), "/2017-03-31/tags/%s", arn);
        rc = rc_json(r, "lambda", "POST", path, NULL, b, NULL) >= 300 ? -1 : 0;
    }
    cJSON_Delete(now);
    return rc;
}

/* ReservedConcurrentExecutions: put when given, deleted when an update
 * drops it. */
static int fn_concurrency(struct cfn_res *r)
{
    char path[1200];
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->props, "ReservedConcurrentExecutions");
    snprintf(path, sizeof(path), "/2017-10-31/functions/%s/concurrency", r->physical_id);
    if (v != NULL && !cJSON_IsNull(v)) {
        cJSON *b = cJSON_CreateObject();
        if (r->old_props != NULL &&
            !pchanged(r->old_props, r->props, "ReservedConcurrentExecutions")) {
            cJSON_Delete(b);
            return 0;
        }
        copy_num(b, r->props, "ReservedConcurrentExecutions", NULL);
        return rc_json(r, "lambda", "PUT", path, NULL, b, NULL) >= 300 ? -1 : 0;
    }
    if (r->old_props != NULL &&
        cJSON_GetObjectItemCaseSensitive(r->old_props, "ReservedConcurrentExecutions") != NULL) {
        int st = rc_call(r, "lambda", "DELETE", path, NULL, NULL, NULL, NULL);
        return (st >= 300 && st != 404) ? -1 : 0;
    }
    return 0;
}

static int lambda_fn_create(struct cfn_res *r)
{
    cJSON *b, *out = NULL;
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(r->props, "Tags");
    pick_name(r, "FunctionName", 64, 0, r->physical_id, sizeof(r->physical_id));
    if (!svc_up("lambda")) {
        fn_attrs(r, NULL);
        return local_put(r, r->props);
    }
    b = fn_config(r->props);
    cJSON_AddStringToObject(b, "FunctionName", r->physical_id);
    if (fn_code(r, b, 0) < 0) {
        cJSON_Delete(b);
        return -1;
    }
    if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(r->props, "Architectures"))) {
        copy_prop(b, r->props, "Architectures", NULL);
    }
    if (cJSON_IsArray(tags)) {
        cJSON_AddItemToObject(b, "Tags", tags_map(tags));
    }
    if (rc_json(r, "lambda", "POST", "/2015-03-31/functions", NULL, b, &out) >= 300) {
        return -1;
    }
    fn_attrs(r, pstr(out, "FunctionArn"));
    cJSON_Delete(out);
    return fn_concurrency(r);
}

static int lambda_fn_update(struct cfn_res *r)
{
    char path[1200];
    attr_keep(r);
    if (!svc_up("lambda")) {
        return local_put(r, r->props);
    }
    snprintf(path, sizeof(path), "/2015-03-31/functions/%s/configuration", r->physical_id);
    {
        /* a property dropped from the template goes back to Lambda's default */
        cJSON *b = fn_config(r->props);
        static const char *const dropped[] = {"Environment", "Description", "Timeout", "MemorySize",
                                              NULL};
        size_t i;
        for (i = 0; dropped[i] != NULL; i++) {
            if (cJSON_GetObjectItemCaseSensitive(r->props, dropped[i]) != NULL ||
                cJSON_GetObjectItemCaseSensitive(r->old_props, dropped[i]) == NULL) {
                continue;
            }
            if (i == 0) {
                cJSON *e = cJSON_AddObjectToObject(b, "Environment");
                cJSON_AddObjectToObject(e, "Variables");
            } else if (i == 1) {
                cJSON_AddStringToObject(b, "Description", "");
            } else {
                cJSON_AddNumberToObject(b, dropped[i], i == 2 ? 3 : 128);
            }
        }
        if (rc_json(r, "lambda", "PUT", path, NULL, b, NULL) >= 300) {
            return -1;
        }
    }
    if (pchanged(r->old_props, r->props, "Code")) {
        cJSON *b = cJSON_CreateObject();
        if (fn_code(r, b, 1) < 0) {
            cJSON_Delete(b);
            return -1;
        }
        snprintf(path, sizeof(path), "/2015-03-31/functions/%s/code", r->physical_id);
        if (rc_json(r, "lambda", "PUT", path, NULL, b, NULL) >= 300) {
            return -1;
        }
    }
    if (fn_tags(r) < 0) {
        return -1;
    }
    return fn_concurrency(r);
}

static int lambda_fn_delete(struct cfn_res *r)
{
    char path[1200];
    int st;
    if (!svc_up("lambda")) {
        return local_put(r, NULL);
    }
    snprintf(path, sizeof(path), "/2015-03-31/functions/%s", r->physical_id);
    st = rc_call(r, "lambda", "DELETE", path, NULL, NULL, NULL, NULL);
    return (st >= 300 && st != 404) ? -1 : 0;
}

static int lambda_version_create(struct cfn_res *r)
{
    char name[256], qual[128], path[1200];
    cJSON *b = cJSON_CreateObject(), *out = NULL;
    fn_split(pstr(r->props, "FunctionName"), name, sizeof(name), qual, sizeof(qual));
    if (!svc_up("lambda")) {
        cJSON_Delete(b);
        snprintf(r->physical_id, sizeof(r->physical_id), "arn:aws:lambda:%s:%s:function:%s:1",
                 r->region, r->account, name);
        attr_set(r, "Version", "1");
        return local_put(r, r->props);
    }
    copy_prop(b, r->props, "Description", NULL);
    copy_prop(b, r->props, "CodeSha256", NULL);
    snprintf(path, sizeof(path), "/2015-03-31/functions/%s/versions", name);
    if (rc_json(r, "lambda", "POST", path, NULL, b, &out) >= 300) {
        return -1;
    }
    if (pstr(out, "FunctionArn") != NULL && pstr(out, "Version") != NULL) {
        const char *arn = pstr(out, "FunctionArn");
        const char *ver = pstr(out, "Version");
        size_t al = strlen(arn), vl = strlen(ver);
        if (al > vl && strcmp(arn + al - vl, ver) == 0 && arn[al - vl - 1] == ':') {
            snprintf(r->physical_id, sizeof(r->physical_id), "%s", arn);
        } else {
            snprintf(r->physical_id, sizeof(r->physical_id), "%s:%s", arn, ver);
        }
        attr_set(r, "Version", ver);
    } else {
        snprintf(r->physical_id, sizeof(r->physical_id), "arn:aws:lambda:%s:%s:function:%s:%s",
                 r->region, r->account, name, pstr(out, "Version") ? pstr(out, "Version") : "1");
        attr_set(r, "Version", pstr(out, "Version") ? pstr(out, "Version") : "1");
    }
    cJSON_Delete(out);
    attr_set(r, "FunctionArn", r->physical_id);
    return 0;
}

static int lambda_version_delete(struct cfn_res *r)
{
    char name[256], qual[128], path[1400];
    int st;
    if (!svc_up("lambda")) {
        return local_put(r, NULL);
    }
    fn_split(r->physical_id, name, sizeof(name), qual, sizeof(qual));
    snprintf(path, sizeof(path), "/2015-03-31/functions/%s?Qualifier=%s", name, qual);
    st = rc_call(r, "lambda", "DELETE", path, NULL, NULL, NULL, NULL);
    return (st >= 300 && st != 404) ? -1 : 0;
}

static cJSON *alias_body(const cJSON *p, int with_name)
{
    cJSON *b = cJSON_CreateObject();
    if (with_name) {
        copy_prop(b, p, "Name", NULL);
    }
    copy_prop(b, p, "FunctionVersion", NULL);
    copy_prop(b, p, "Description", NULL);
    copy_prop(b, p, "RoutingConfig", NULL);
    return b;
}

static int lambda_alias_create(struct cfn_res *r)
{
    char name[256], qual[128], path[1200];
    cJSON *out = NULL;
    fn_split(pstr(r->props, "FunctionName"), name, sizeof(name), qual, sizeof(qual));
    if (!svc_up("lambda")) {
        snprintf(r->physical_id, sizeof(r->physical_id), "arn:aws:lambda:%s:%s:function:%s:%s",
                 r->region, r->account, name, pstr(r->props, "Name") ? pstr(r->props, "Name") : "");
        attr_keep(r);
        return local_put(r, r->props);
    }
    snprintf(path, sizeof(path), "/2015-03-31/functions/%s/aliases", name);
    if (rc_json(r, "lambda", "POST", path, NULL, alias_body(r->props, 1), &out) >= 300) {
        return -1;
    }
    if (pstr(out, "AliasArn") != NULL) {
        snprintf(r->physical_id, sizeof(r->physical_id), "%s", pstr(out, "AliasArn"));
    } else {
        snprintf(r->physical_id, sizeof(r->physical_id), "arn:aws:lambda:%s:%s:function:%s:%s",
                 r->region, r->account, name, pstr(r->props, "Name") ? pstr(r->props, "Name") : "");
    }
    attr_keep(r);
    attr_set(r, "AliasArn", r->physical_id);
    cJSON_Delete(out);
    return 0;
}

static int lambda_alias_update(struct cfn_res *r)
{
    char name[256], qual[128], path[1400];
    attr_keep(r);
    if (!svc_up("lambda")) {
        return local_put(r, r->props);
    }
    fn_split(r->physical_id, name, sizeof(name), qual, sizeof(qual));
    snprintf(path, sizeof(path), "/2015-03-31/functions/%s/aliases/%s", name, qual);
    return rc_json(r, "lambda", "PUT", path, NULL, alias_body(r->props, 0), NULL) >= 300 ? -1 : 0;
}

static int lambda_alias_delete(struct cfn_res *r)
{
    char name[256], qual[128], path[1400];
    int st;
    if (!svc_up("lambda")) {
        return local_put(r, NULL);
    }
    fn_split(r->physical_id, name, sizeof(name), qual, sizeof(qual));
    snprintf(path, sizeof(path), "/2015-03-31/functions/%s/aliases/%s", name, qual);
    st = rc_call(r, "lambda", "DELETE", path, NULL, NULL, NULL, NULL);
    return (st >= 300 && st != 404) ? -1 : 0;
}

static int lambda_perm_create(struct cfn_res *r)
{
    char name[256], qual[128], path[1400];
    cJSON *b;
    fn_split(pstr(r->props, "FunctionName"), name, sizeof(name), qual, sizeof(qual));
    cfn_physical_name(r->stack_name, r->logical_id, 100, 0, r->physical_id, sizeof(r->physical_id));
    attr_keep(r);
    if (!svc_up("lambda")) {
        return local_put(r, r->props);
    }
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "StatementId", r->physical_id);
    copy_prop(b, r->props, "Action", NULL);
    copy_prop(b, r->props, "Principal", NULL);
    copy_prop(b, r->props, "SourceArn", NULL);
    copy_prop(b, r->props, "SourceAccount", NULL);
    copy_prop(b, r->props, "EventSourceToken", NULL);
    copy_prop(b, r->props, "FunctionUrlAuthType", NULL);
    copy_prop(b, r->props, "PrincipalOrgID", NULL);
    if (qual[0]) {
        snprintf(path, sizeof(path), "/2015-03-31/functions/%s/policy?Qualifier=%s", name, qual);
    } else {
        snprintf(path, sizeof(path), "/2015-03-31/functions/%s/policy", name);
    }
    return rc_json(r, "lambda", "POST", path, NULL, b, NULL) >= 300 ? -1 : 0;
}

static int lambda_perm_delete(struct cfn_res *r)
{
    char name[256], qual[128], path[2400];
    int st;
    if (!svc_up("lambda")) {
        return local_put(r, NULL);
    }
    fn_split(pstr(r->old_props ? r->old_props : r->props, "FunctionName"), name, sizeof(name), qual,
             sizeof(qual));
    if (qual[0]) {
        snprintf(path, sizeof(path), "/2015-03-31/functions/%s/policy/%s?Qualifier=%s", name,
                 r->physical_id, qual);
    } else {
        snprintf(path, sizeof(path), "/2015-03-31/functions/%s/policy/%s", name, r->physical_id);
    }
    st = rc_call(r, "lambda", "DELETE", path, NULL, NULL, NULL, NULL);
    return (st >= 300 && st != 404) ? -1 : 0;
}

static cJSON *esm_body(const cJSON *p, int create)
{
    cJSON *b = cJSON_CreateObject();
    if (create) {
        copy_prop(b, p, "EventSourceArn", NULL);
        copy_prop(b, p, "StartingPosition", NULL);
        copy_prop(b, p, "StartingPositionTimestamp", NULL);
    }
    copy_prop(b, p, "FunctionName", NULL);
    copy_num(b, p, "BatchSize", NULL);
    copy_bool(b, p, "Enabled", NULL);
    copy_num(b, p, "MaximumBatchingWindowInSeconds", NULL);
    copy_prop(b, p, "FilterCriteria", NULL);
    return b;
}

static int lambda_esm_create(struct cfn_res *r)
{
    cJSON *out = NULL;
    if (!svc_up("lambda")) {
        emu_uuid(r->physical_id);
        attr_set(r, "Id", r->physical_id);
        return local_put(r, r->props);
    }
    if (rc_json(r, "lambda", "POST", "/2015-03-31/event-source-mappings/", NULL,
                esm_body(r->props, 1), &out) >= 300) {
        return -1;
    }
    snprintf(r->physical_id, sizeof(r->physical_id), "%s",
             pstr(out, "UUID") ? pstr(out, "UUID") : "");
    attr_set(r, "Id", r->physical_id);
    {
        char arn[1400];
        snprintf(arn, sizeof(arn), "arn:aws:lambda:%s:%s:event-source-mapping:%s", r->region,
                 r->account, r->physical_id);
        attr_set(r, "EventSourceMappingArn", arn);
    }
    cJSON_Delete(out);
    return 0;
}

static int lambda_esm_update(struct cfn_res *r)
{
    char path[1200];
    attr_keep(r);
    if (!svc_up("lambda")) {
        return local_put(r, r->props);
    }
    snprintf(path, sizeof(path), "/2015-03-31/event-source-mappings/%s", r->physical_id);
    return rc_json(r, "lambda", "PUT", path, NULL, esm_body(r->props, 0), NULL) >= 300 ? -1 : 0;
}

static int lambda_esm_delete(struct cfn_res *r)
{
    char path[1200];
    int st;
    if (!svc_up("lambda")) {
        return local_put(r, NULL);
    }
    snprintf(path, sizeof(path), "/2015-03-31/event-source-mappings/%s", r->physical_id);
    st = rc_call(r, "lambda", "DELETE", path, NULL, NULL, NULL, NULL);
    return (st >= 300 && st != 404) ? -1 : 0;
}

/* ---------------------------------------------------------- API Gateway */

static int apigw_del(struct cfn_res *r, const char *path)
{
    int st = rc_call(r, "apigateway", "DELETE", path, NULL, NULL, NULL, NULL);
    return (st >= 300 && st != 404) ? -1 : 0;
}

static int apigw_api_create(struct cfn_res *r)
{
    cJSON *b, *out = NULL;
    const char *root;
    char path[1200];
    if (!svc_up("apigateway")) {
        emu_random_alnum(r->physical_id, 10, 1);
        r->physical_id[10] = 0;
        attr_set(r, "RestApiId", r->physical_id);
        {
            char rootid[16];
            emu_random_alnum(rootid, 10, 1);
            rootid[10] = 0;
            attr_set(r, "RootResourceId", rootid);
        }
        return local_put(r, r->props);
    }
    b = cJSON_CreateObject();
    if (pstr(r->props, "Name") != NULL) {
        copy_prop(b, r->props, "Name", "name");
    } else {
        cJSON_AddStringToObject(b, "name", r->logical_id);
    }
    copy_prop(b, r->props, "Description", "description");
    copy_prop(b, r->props, "BinaryMediaTypes", "binaryMediaTypes");
    copy_prop(b, r->props, "ApiKeySourceType", "apiKeySource");
    copy_num(b, r->props, "MinimumCompressionSize", "minimumCompressionSize");
    if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(r->props, "EndpointConfiguration"))) {
        cJSON *ec = cJSON_AddObjectToObject(b, "endpointConfiguration");
        copy_prop(ec, cJSON_GetObjectItemCaseSensitive(r->props, "EndpointConfiguration"), "Types",
                  "types");
    }
    if (rc_json(r, "apigateway", "POST", "/restapis", NULL, b, &out) >= 300) {
        return -1;
    }
    snprintf(r->physical_id, sizeof(r->physical_id), "%s", pstr(out, "id") ? pstr(out, "id") : "");
    attr_set(r, "RestApiId", r->physical_id);
    root = pstr(out, "rootResourceId");
    if (root != NULL) {
        attr_set(r, "RootResourceId", root);
    } else {
        cJSON *res = NULL;
        const cJSON *it;
        snprintf(path, sizeof(path), "/restapis/%s/resources", r->physical_id);
        if (rc_json(r, "apigateway", "GET", path, NULL, NULL, &res) < 300) {
            cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(res, "item"))
            {
                if (pstr(it, "path") != NULL && strcmp(pstr(it, "path"), "/") == 0) {
                    attr_set(r, "RootResourceId", pstr(it, "id"));
                }
            }
        }
        r->err[0] = 0;
        cJSON_Delete(res);
    }
    cJSON_Delete(out);
    return 0;
}

static void patch_replace(cJSON *ops, const char *path, const char *value)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "op", value ? "replace" : "remove");
    cJSON_AddStringToObject(o, "path", path);
    if (value != NULL) {
        cJSON_AddStringToObject(o, "value", value);
    }
    cJSON_AddItemToArray(ops, o);
}

static int apigw_api_update(struct cfn_res *r)
{
    cJSON *b, *ops;
    char path[1200];
    attr_keep(r);
    if (!svc_up("apigateway")) {
        return local_put(r, r->props);
    }
    b = cJSON_CreateObject();
    ops = cJSON_AddArrayToObject(b, "patchOperations");
    patch_replace(ops, "/name", pstr(r->props, "Name") ? pstr(r->props, "Name") : r->logical_id);
    if (pstr(r->props, "Description") != NULL) {
        patch_replace(ops, "/description", pstr(r->props, "Description"));
    }
    snprintf(path, sizeof(path), "/restapis/%s", r->physical_id);
    return rc_json(r, "apigateway", "PATCH", path, NULL, b, NULL) >= 300 ? -1 : 0;
}

static int apigw_api_delete(struct cfn_res *r)
{
    char path[1200];
    if (!svc_up("apigateway")) {
        return local_put(r, NULL);
    }
    snprintf(path, sizeof(path), "/restapis/%s", r->physical_id);
    return apigw_del(r, path);
}

static int apigw_resource_create(struct cfn_res *r)
{
    char path[1200];
    cJSON *b, *out = NULL;
    if (!svc_up("apigateway")) {
        emu_random_alnum(r->physical_id, 6, 1);
        r->physical_id[6] = 0;
        attr_set(r, "ResourceId", r->physical_id);
        return local_put(r, r->props);
    }
    b = cJSON_CreateObject();
    copy_prop(b, r->props, "PathPart", "pathPart");
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s",
             pstr(r->props, "RestApiId") ? pstr(r->props, "RestApiId") : "",
             pstr(r->props, "ParentId") ? pstr(r->props, "ParentId") : "");
    if (rc_json(r, "apigateway", "POST", path, NULL, b, &out) >= 300) {
        return -1;
    }
    snprintf(r->physical_id, sizeof(r->physical_id), "%s", pstr(out, "id") ? pstr(out, "id") : "");
    attr_set(r, "ResourceId", r->physical_id);
    cJSON_Delete(out);
    return 0;
}

static int apigw_resource_delete(struct cfn_res *r)
{
    char path[1200];
    const cJSON *p = r->old_props ? r->old_props : r->props;
    if (!svc_up("apigateway")) {
        return local_put(r, NULL);
    }
    snprintf(path, sizeof(path), "/restapis/%s/resources/%s",
             pstr(p, "RestApiId") ? pstr(p, "RestApiId") : "", r->physical_id);
    return apigw_del(r, path);
}

static void method_base(const cJSON *p, char *out, size_t olen)
{
    snprintf(out, olen, "/restapis/%s/resources/%s/methods/%s",
             pstr(p, "RestApiId") ? pstr(p, "RestApiId") : "",
             pstr(p, "ResourceId") ? pstr(p, "ResourceId") : "",
             pstr(p, "HttpMethod") ? pstr(p, "HttpMethod") : "");
}

static int apigw_method_put(struct cfn_res *r)
{
    char base[1024], path[1400];
    cJSON *b;
    const cJSON *integ = cJSON_GetObjectItemCaseSensitive(r->props, "Integration");
    const cJSON *it;
    method_base(r->props, base, sizeof(base));
    b = cJSON_CreateObject();
    if (pstr(r->props, "AuthorizationType") != NULL) {
        copy_prop(b, r->props, "AuthorizationType", "authorizationType");
    } else {
        cJSON_AddStringToObject(b, "authorizationType", "NONE");
    }
    copy_prop(b, r->props, "AuthorizerId", "authorizerId");
    copy_bool(b, r->props, "ApiKeyRequired", "apiKeyRequired");
    copy_prop(b, r->props, "RequestParameters", "requestParameters");
    copy_prop(b, r->props, "RequestModels", "requestModels");
    copy_prop(b, r->props, "OperationName", "operationName");
    copy_prop(b, r->props, "AuthorizationScopes", "authorizationScopes");
    copy_prop(b, r->props, "RequestValidatorId", "requestValidatorId");
    if (rc_json(r, "apigateway", "PUT", base, NULL, b, NULL) >= 300) {
        return -1;
    }
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r->props, "MethodResponses"))
    {
        cJSON *mr = cJSON_CreateObject();
        copy_prop(mr, it, "ResponseParameters", "responseParameters");
        copy_prop(mr, it, "ResponseModels", "responseModels");
        {
            char *sc = pdup(it, "StatusCode");
            snprintf(path, sizeof(path), "%s/responses/%s", base, sc ? sc : "200");
            free(sc);
        }
        if (rc_json(r, "apigateway", "PUT", path, NULL, mr, NULL) >= 300) {
            return -1;
        }
    }
    if (cJSON_IsObject(integ)) {
        cJSON *ib = cJSON_CreateObject();
        copy_prop(ib, integ, "Type", "type");
        copy_prop(ib, integ, "IntegrationHttpMethod", "httpMethod");
        copy_prop(ib, integ, "Uri", "uri");
        copy_prop(ib, integ, "Credentials", "credentials");
        copy_prop(ib, integ, "RequestParameters", "requestParameters");
        copy_prop(ib, integ, "RequestTemplates", "requestTemplates");
        copy_prop(ib, integ, "PassthroughBehavior", "passthroughBehavior");
        copy_prop(ib, integ, "ContentHandling", "contentHandling");
        copy_num(ib, integ, "TimeoutInMillis", "timeoutInMillis");
        copy_prop(ib, integ, "CacheNamespace", "cacheNamespace");
        copy_prop(ib, integ, "CacheKeyParameters", "cacheKeyParameters");
        copy_prop(ib, integ, "ConnectionType", "connectionType");
        copy_prop(ib, integ, "ConnectionId", "connectionId");
        snprintf(path, sizeof(path), "%s/integration", base);
        if (rc_json(r, "apigateway", "PUT", path, NULL, ib, NULL) >= 300) {
            return -1;
        }
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(integ, "IntegrationResponses"))
        {
            cJSON *ir = cJSON_CreateObject();
            char *sc = pdup(it, "StatusCode");
            copy_prop(ir, it, "SelectionPattern", "selectionPattern");
            copy_prop(ir, it, "ResponseParameters", "responseParameters");
            copy_prop(ir, it, "ResponseTemplates", "responseTemplates");
            copy_prop(ir, it, "ContentHandling", "contentHandling");
            snprintf(path, sizeof(path), "%s/integration/responses/%s", base, sc ? sc : "200");
            free(sc);
            if (rc_json(r, "apigateway", "PUT", path, NULL, ir, NULL) >= 300) {
                return -1;
            }
        }
    }
    return 0;
}

static int apigw_method_create(struct cfn_res *r)
{
    cfn_physical_name(r->stack_name, r->logical_id, 0, 0, r->physical_id, sizeof(r->physical_id));
    attr_keep(r);
    if (!svc_up("apigateway")) {
        return local_put(r, r->props);
    }
    return apigw_method_put(r);
}

static int apigw_method_update(struct cfn_res *r)
{
    char base[1024];
    attr_keep(r);
    if (!svc_up("apigateway")) {
        return local_put(r, r->props);
    }
    method_base(r->old_props, base, sizeof(base));
    if (apigw_del(r, base) < 0) {
        return -1;
    }
    return apigw_method_put(r);
}

static int apigw_method_delete(struct cfn_res *r)
{
    char base[1024];
    if (!svc_up("apigateway")) {
        return local_put(r, NULL);
    }
    method_base(r->old_props ? r->old_props : r->props, base, sizeof(base));
    return apigw_del(r, base);
}

static int apigw_deployment_create(struct cfn_res *r)
{
    char path[1200];
    cJSON *b, *out = NULL;
    const cJSON *sd = cJSON_GetObjectItemCaseSensitive(r->props, "StageDescription");
    if (!svc_up("apigateway")) {
        emu_random_alnum(r->physical_id, 6, 1);
        r->physical_id[6] = 0;
        attr_set(r, "DeploymentId", r->physical_id);
        return local_put(r, r->props);
    }
    b = cJSON_CreateObject();
    copy_prop(b, r->props, "StageName", "stageName");
    copy_prop(b, r->props, "Description", "description");
    if (cJSON_IsObject(sd)) {
        copy_str_map(b, sd, "Variables", "variables");
        copy_prop(b, sd, "Description", "stageDescription");
    }
    snprintf(path, sizeof(path), "/restapis/%s/deployments",
             pstr(r->props, "RestApiId") ? pstr(r->props, "RestApiId") : "");
    if (rc_json(r, "apigateway", "POST", path, NULL, b, &out) >= 300) {
        return -1;
    }
    snprintf(r->physical_id, sizeof(r->physical_id), "%s", pstr(out, "id") ? pstr(out, "id") : "");
    attr_set(r, "DeploymentId", r->physical_id);
    cJSON_Delete(out);
    return 0;
}

static int apigw_deployment_update(struct cfn_res *r)
{
    char path[1200];
    cJSON *b, *ops;
    attr_keep(r);
    if (!svc_up("apigateway")) {
        return local_put(r, r->props);
    }
    b = cJSON_CreateObject();
    ops = cJSON_AddArrayToObject(b, "patchOperations");
    patch_replace(ops, "/description",
                  pstr(r->props, "Description") ? pstr(r->props, "Description") : "");
    snprintf(path, sizeof(path), "/restapis/%s/deployments/%s",
             pstr(r->props, "RestApiId") ? pstr(r->props, "RestApiId") : "", r->physical_id);
    return rc_json(r, "apigateway", "PATCH", path, NULL, b, NULL) >= 300 ? -1 : 0;
}

static int apigw_deployment_delete(struct cfn_res *r)
{
    char path[1200];
    const cJSON *p = r->old_props ? r->old_props : r->props;
    const char *api = pstr(p, "RestApiId") ? pstr(p, "RestApiId") : "";
    if (!svc_up("apigateway")) {
        return local_put(r, NULL);
    }
    if (pstr(p, "StageName") != NULL) {
        snprintf(path, sizeof(path), "/restapis/%s/stages/%s", api, pstr(p, "StageName"));
        if (apigw_del(r, path) < 0) {
            return -1;
        }
    }
    snprintf(path, sizeof(path), "/restapis/%s/deployments/%s", api, r->physical_id);
    return apigw_del(r, path);
}

static int apigw_stage_create(struct cfn_res *r)
{
    char path[1200];
    cJSON *b;
    pick_name(r, "StageName", 128, 0, r->physical_id, sizeof(r->physical_id));
    attr_keep(r);
    if (!svc_up("apigateway")) {
        return local_put(r, r->props);
    }
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "stageName", r->physical_id);
    copy_prop(b, r->props, "DeploymentId", "deploymentId");
    copy_prop(b, r->props, "Description", "description");
    copy_str_map(b, r->props, "Variables", "variables");
    copy_bool(b, r->props, "TracingEnabled", "tracingEnabled");
    snprintf(path, sizeof(path), "/restapis/%s/stages",
             pstr(r->props, "RestApiId") ? pstr(r->props, "RestApiId") : "");
    return rc_json(r, "apigateway", "POST", path, NULL, b, NULL) >= 300 ? -1 : 0;
}

static int apigw_stage_update(struct cfn_res *r)
{
    char path[1200], vp[600];
    cJSON *b, *ops;
    const cJSON *nv = cJSON_GetObjectItemCaseSensitive(r->props, "Variables");
    const cJSON *ov = cJSON_GetObjectItemCaseSensitive(r->old_props, "Variables");
    const cJSON *it;
    attr_keep(r);
    if (!svc_up("apigateway")) {
        return local_put(r, r->props);
    }
    b = cJSON_CreateObject();
    ops = cJSON_AddArrayToObject(b, "patchOperations");
    if (pstr(r->props, "DeploymentId") != NULL) {
        patch_replace(ops, "/deploymentId", pstr(r->props, "DeploymentId"));
    }
    patch_replace(ops, "/description",
                  pstr(r->props, "Description") ? pstr(r->props, "Description") : "");
    cJSON_ArrayForEach(it, nv)
    {
        char *v = cfn_value_str(it);
        snprintf(vp, sizeof(vp), "/variables/%s", it->string);
        patch_replace(ops, vp, v);
        free(v);
    }
    cJSON_ArrayForEach(it, ov)
    {
        if (!cJSON_HasObjectItem(nv, it->string)) {
            snprintf(vp, sizeof(vp), "/variables/%s", it->string);
            patch_replace(ops, vp, NULL);
        }
    }
    snprintf(path, sizeof(path), "/restapis/%s/stages/%s",
             pstr(r->props, "RestApiId") ? pstr(r->props, "RestApiId") : "", r->physical_id);
    return rc_json(r, "apigateway", "PATCH", path, NULL, b, NULL) >= 300 ? -1 : 0;
}

static int apigw_stage_delete(struct cfn_res *r)
{
    char path[1200];
    const cJSON *p = r->old_props ? r->old_props : r->props;
    if (!svc_up("apigateway")) {
        return local_put(r, NULL);
    }
    snprintf(path, sizeof(path), "/restapis/%s/stages/%s",
             pstr(p, "RestApiId") ? pstr(p, "RestApiId") : "", r->physical_id);
    return apigw_del(r, path);
}

/* ------------------------------------------------------------------ IAM */

static int iam_call(struct cfn_res *r, const char *action, const char *const *kv, char **out)
{
    struct emu_buf f = {0};
    size_t i;
    form_add(&f, "Action", action);
    form_add(&f, "Version", "2010-05-08");
    for (i = 0; kv[i] != NULL; i += 2) {
        form_add(&f, kv[i], kv[i + 1]);
    }
    return rc_query(r, "iam", &f, out);
}

static int iam_ok(int st)
{
    return st < 300;
}

/* Whether the last IAM call failed because greenroom's IAM does not serve
 * the action (then the link is kept as a property only). */
static int iam_unserved(const struct cfn_res *r)
{
    return strstr(r->err, "Error Code: InvalidAction") != NULL;
}

static int iam_gone(struct cfn_res *r, int st)
{
    return st == 404 || strstr(r->err, "NoSuchEntity") != NULL;
}

static int role_put_policies(struct cfn_res *r, const cJSON *props, const char *role)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(props, "Policies"))
    {
        char *doc = doc_str(it, "PolicyDocument");
        const char *kv[] = {"RoleName",       role, "PolicyName", pstr(it, "PolicyName"),
                            "PolicyDocument", doc,  NULL};
        int st = iam_call(r, "PutRolePolicy", kv, NULL);
        free(doc);
        if (!iam_ok(st)) {
            return -1;
        }
    }
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(props, "ManagedPolicyArns"))
    {
        const char *kv[] = {"RoleName", role, "PolicyArn", it->valuestring, NULL};
        if (cJSON_IsString(it) && !iam_ok(iam_call(r, "AttachRolePolicy", kv, NULL))) {
            return -1;
        }
    }
    return 0;
}

static void role_attrs(struct cfn_res *r, const char *arn, const char *id)
{
    char buf[1400];
    const char *path = pstr(r->props, "Path") ? pstr(r->props, "Path") : "/";
    if (arn == NULL) {
        snprintf(buf, sizeof(buf), "arn:aws:iam::%s:role%s%s", r->account, path, r->physical_id);
        attr_set(r, "Arn", buf);
    } else {
        attr_set(r, "Arn", arn);
    }
    if (id == NULL) {
        char rnd[24];
        emu_random_alnum(rnd, 17, 0);
        rnd[17] = 0;
        snprintf(buf, sizeof(buf), "AROA%s", rnd);
        attr_set(r, "RoleId", buf);
    } else {
        attr_set(r, "RoleId", id);
    }
}

static int iam_role_create(struct cfn_res *r)
{
    char *doc = doc_str(r->props, "AssumeRolePolicyDocument");
    char *out = NULL, *arn, *id;
    char *msd = pdup(r->props, "MaxSessionDuration");
    int st;
    pick_name(r, "RoleName", 64, 0, r->physical_id, sizeof(r->physical_id));
    if (doc == NULL) {
        free(msd);
        res_err(r,
                "Properties validation failed for resource %s with message: #: required key "
                "[AssumeRolePolicyDocument] not found",
                r->logical_id);
        return -1;
    }
    if (!svc_up("iam")) {
        free(doc);
        free(msd);
        role_attrs(r, NULL, NULL);
        return local_put(r, r->props);
    }
    {
        const char *kv[] = {"RoleName",
                            r->physical_id,
                            "AssumeRolePolicyDocument",
                            doc,
                            "Path",
                            pstr(r->props, "Path"),
                            "Description",
                            pstr(r->props, "Description"),
                            "MaxSessionDuration",
                            msd,
                            "PermissionsBoundary",
                            pstr(r->props, "PermissionsBoundary"),
                            NULL};
        st = iam_call(r, "CreateRole", kv, &out);
    }
    free(doc);
    free(msd);
    if (!iam_ok(st)) {
        free(out);
        return -1;
    }
    arn = xml_text(out, "Arn");
    id = xml_text(out, "RoleId");
    role_attrs(r, arn, id);
    free(arn);
    free(id);
    free(out);
    return role_put_policies(r, r->props, r->physical_id);
}

static int role_remove_policies(struct cfn_res *r, const cJSON *old, const cJSON *keep)
{
    const cJSON *it, *k;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(old, "Policies"))
    {
        int kept = 0;
        const char *name = pstr(it, "PolicyName");
        cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(keep, "Policies"))
        {
            if (name != NULL && pstr(k, "PolicyName") != NULL &&
                strcmp(pstr(k, "PolicyName"), name) == 0) {
                kept = 1;
            }
        }
        if (!kept && name != NULL) {
            const char *kv[] = {"RoleName", r->physical_id, "PolicyName", name, NULL};
            int st = iam_call(r, "DeleteRolePolicy", kv, NULL);
            if (!iam_ok(st) && !iam_gone(r, st)) {
                return -1;
            }
        }
    }
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(old, "ManagedPolicyArns"))
    {
        int kept = 0;
        cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(keep, "ManagedPolicyArns"))
        {
            if (cJSON_IsString(k) && cJSON_IsString(it) &&
                strcmp(k->valuestring, it->valuestring) == 0) {
                kept = 1;
            }
        }
        if (!kept && cJSON_IsString(it)) {
            const char *kv[] = {"RoleName", r->physical_id, "PolicyArn", it->valuestring, NULL};
            int st = iam_call(r, "DetachRolePolicy", kv, NULL);
            if (!iam_ok(st) && !iam_gone(r, st)) {
                return -1;
            }
        }
    }
    return 0;
}

static int iam_role_update(struct cfn_res *r)
{
    attr_keep(r);
    if (!svc_up("iam")) {
        return local_put(r, r->props);
    }
    if (pchanged(r->old_props, r->props, "AssumeRolePolicyDocument")) {
        char *doc = doc_str(r->props, "AssumeRolePolicyDocument");
        const char *kv[] = {"RoleName", r->physical_id, "PolicyDocument", doc, NULL};
        int st = iam_call(r, "UpdateAssumeRolePolicy", kv, NULL);
        free(doc);
        if (!iam_ok(st)) {
            return -1;
        }
    }
    if (pchanged(r->old_props, r->props, "Description") ||
        pchanged(r->old_props, r->props, "MaxSessionDuration")) {
        char *msd = pdup(r->props, "MaxSessionDuration");
        const char *kv[] = {"RoleName",
                            r->physical_id,
                            "Description",
                            pstr(r->props, "Description") ? pstr(r->props, "Description") : "",
                            "MaxSessionDuration",
                            msd,
                            NULL};
        int st = iam_call(r, "UpdateRole", kv, NULL);
        free(msd);
        if (!iam_ok(st)) {
            return -1;
        }
    }
    if (role_remove_policies(r, r->old_props, r->props) < 0) {
        return -1;
    }
    return role_put_policies(r, r->props, r->physical_id);
}

static int iam_role_delete(struct cfn_res *r)
{
    const char *kv[] = {"RoleName", r->physical_id, NULL};
    int st;
    if (!svc_up("iam")) {
        return local_put(r, NULL);
    }
    if (role_remove_policies(r, r->old_props ? r->old_props : r->props, NULL) < 0) {
        return -1;
    }
    st = iam_call(r, "DeleteRole", kv, NULL);
    if (!iam_ok(st) && !iam_gone(r, st)) {
        return -1;
    }
    return 0;
}

/* Applies (put) or removes an inline policy on each principal list. */
static int policy_apply(struct cfn_res *r, const cJSON *props, int put, const cJSON *keep)
{
    static const struct {
        const char *prop, *key, *put, *del;
    } kinds[] = {{"Roles", "RoleName", "PutRolePolicy", "DeleteRolePolicy"},
                 {"Users", "UserName", "PutUserPolicy", "DeleteUserPolicy"},
                 {"Groups", "GroupName", "PutGroupPolicy", "DeleteGroupPolicy"}};
    size_t i;
    char *doc = put ? doc_str(props, "PolicyDocument") : NULL;
    const char *pname = pstr(props, "PolicyName");
    int rc = 0;
    for (i = 0; i < 3 && rc == 0; i++) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(props, kinds[i].prop))
        {
            int st;
            if (!cJSON_IsString(it)) {
                continue;
            }
            if (!put && keep != NULL) {
                const cJSON *k;
                int kept = 0;
                if (pstr(keep, "PolicyName") != NULL && pname != NULL &&
                    strcmp(pstr(keep, "PolicyName"), pname) == 0) {
                    cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(keep, kinds[i].prop))
                    {
                        if (cJSON_IsString(k) && strcmp(k->valuestring, it->valuestring) == 0) {
                            kept = 1;
                        }
                    }
                }
                if (kept) {
                    continue;
                }
            }
            {
                const char *kv[] = {kinds[i].key, it->valuestring,  "PolicyName",
                                    pname,        "PolicyDocument", doc,
                                    NULL};
                if (!put) {
                    kv[4] = NULL;
                }
                st = iam_call(r, put ? kinds[i].put : kinds[i].del, kv, NULL);
            }
            if (!iam_ok(st) && (put || !iam_gone(r, st))) {
                rc = -1;
                break;
            }
        }
    }
    free(doc);
    return rc;
}

static int iam_policy_create(struct cfn_res *r)
{
    cfn_physical_name(r->stack_name, r->logical_id, 0, 0, r->physical_id, sizeof(r->physical_id));
    {
        /* AWS: "<stack prefix>-<logical prefix>-<random>"; keep it short. */
        char rnd[16];
        emu_random_alnum(rnd, 12, 0);
        rnd[12] = 0;
        snprintf(r->physical_id, sizeof(r->physical_id), "%.5s-%.5s-%s", r->stack_name,
                 r->logical_id, rnd);
    }
    attr_keep(r);
    if (pstr(r->props, "PolicyName") == NULL) {
        res_err(r,
                "Properties validation failed for resource %s with message: #: required key "
                "[PolicyName] not found",
                r->logical_id);
        return -1;
    }
    if (!svc_up("iam")) {
        return local_put(r, r->props);
    }
    return policy_apply(r, r->props, 1, NULL);
}

static int iam_policy_update(struct cfn_res *r)
{
    attr_keep(r);
    if (!svc_up("iam")) {
        return local_put(r, r->props);
    }
    if (policy_apply(r, r->old_props, 0, r->props) < 0) {
        return -1;
    }
    return policy_apply(r, r->props, 1, NULL);
}

static int iam_policy_delete(struct cfn_res *r)
{
    if (!svc_up("iam")) {
        return local_put(r, NULL);
    }
    return policy_apply(r, r->old_props ? r->old_props : r->props, 0, NULL);
}

static int mpolicy_attach(struct cfn_res *r, const cJSON *props, int attach, const cJSON *keep)
{
    static const struct {
        const char *prop, *key, *att, *det;
    } kinds[] = {{"Roles", "RoleName", "AttachRolePolicy", "DetachRolePolicy"},
                 {"Users", "UserName", "AttachUserPolicy", "DetachUserPolicy"},
                 {"Groups", "GroupName", "AttachGroupPolicy", "DetachGroupPolicy"}};
    size_t i;
    for (i = 0; i < 3; i++) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(props, kinds[i].prop))
        {
            const cJSON *k;
            int kept = 0, st;
            if (!cJSON_IsString(it)) {
                continue;
            }
            cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(keep, kinds[i].prop))
            {
                if (cJSON_IsString(k) && strcmp(k->valuestring, it->valuestring) == 0) {
                    kept = 1;
                }
            }
            if (kept) {
                continue;
            }
            {
                const char *kv[] = {kinds[i].key, it->valuestring, "PolicyArn", r->physical_id,
                                    NULL};
                st = iam_call(r, attach ? kinds[i].att : kinds[i].det, kv, NULL);
            }
            if (i > 0 && !iam_ok(st) && iam_unserved(r)) {
                r->err[0] = 0; /* Attach{User,Group}Policy not served: kept as a property */
                continue;
            }
            if (!iam_ok(st) && (attach || !iam_gone(r, st))) {
                return -1;
            }
        }
    }
    return 0;
}

static int iam_mpolicy_create(struct cfn_res *r)
{
    char name[256], *doc, *out = NULL, *arn;
    const char *path = pstr(r->props, "Path") ? pstr(r->props, "Path") : "/";
    int st;
    pick_name(r, "ManagedPolicyName", 128, 0, name, sizeof(name));
    doc = doc_str(r->props, "PolicyDocument");
    if (!svc_up("iam")) {
        free(doc);
        snprintf(r->physical_id, sizeof(r->physical_id), "arn:aws:iam::%s:policy%s%s", r->account,
                 path, name);
        attr_set(r, "PolicyArn", r->physical_id);
        return local_put(r, r->props);
    }
    {
        const char *kv[] = {"PolicyName",
                            name,
                            "PolicyDocument",
                            doc,
                            "Path",
                            pstr(r->props, "Path"),
                            "Description",
                            pstr(r->props, "Description"),
                            NULL};
        st = iam_call(r, "CreatePolicy", kv, &out);
    }
    free(doc);
    if (!iam_ok(st)) {
        free(out);
        return -1;
    }
    arn = xml_text(out, "Arn");
    if (arn != NULL) {
        snprintf(r->physical_id, sizeof(r->physical_id), "%s", arn);
    } else {
        snprintf(r->physical_id, sizeof(r->physical_id), "arn:aws:iam::%s:policy%s%s", r->account,
                 path, name);
    }
    attr_set(r, "PolicyArn", r->physical_id);
    free(arn);
    free(out);
    return mpolicy_attach(r, r->props, 1, NULL);
}

static int iam_mpolicy_update(struct cfn_res *r)
{
    attr_keep(r);
    if (!svc_up("iam")) {
        return local_put(r, r->props);
    }
    if (pchanged(r->old_props, r->props, "PolicyDocument")) {
        char *doc = doc_str(r->props, "PolicyDocument");
        const char *kv[] = {
            "PolicyArn", r->physical_id, "PolicyDocument", doc, "SetAsDefault", "true", NULL};
        int st = iam_call(r, "CreatePolicyVersion", kv, NULL);
        free(doc);
        if (!iam_ok(st)) {
            return -1;
        }
    }
    if (mpolicy_attach(r, r->old_props, 0, r->props) < 0) {
        return -1;
    }
    return mpolicy_attach(r, r->props, 1, r->old_props);
}

static int iam_mpolicy_delete(struct cfn_res *r)
{
    char *out = NULL;
    const char *kv[] = {"PolicyArn", r->physical_id, NULL};
    int st;
    if (!svc_up("iam")) {
        return local_put(r, NULL);
    }
    if (mpolicy_attach(r, r->old_props ? r->old_props : r->props, 0, NULL) < 0) {
        return -1;
    }
    /* non-default versions first */
    st = iam_call(r, "ListPolicyVersions", kv, &out);
    if (iam_ok(st) && out != NULL) {
        const char *p = out;
        while ((p = strstr(p, "<member>")) != NULL) {
            const char *end = strstr(p, "</member>");
            char *chunk, *vid, *def;
            if (end == NULL) {
                break;
            }
            chunk = strndup(p, (size_t)(end - p));
            vid = xml_text(chunk, "VersionId");
            def = xml_text(chunk, "IsDefaultVersion");
            if (vid != NULL && (def == NULL || strcmp(def, "true") != 0)) {
                const char *dv[] = {"PolicyArn", r->physical_id, "VersionId", vid, NULL};
                iam_call(r, "DeletePolicyVersion", dv, NULL);
            }
            free(vid);
            free(def);
            free(chunk);
            p = end;
        }
    }
    free(out);
    r->err[0] = 0;
    st = iam_call(r, "DeletePolicy", kv, NULL);
    if (!iam_ok(st) && !iam_gone(r, st)) {
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ SNS */

static int sns_call(struct cfn_res *r, const char *action, const char *const *kv,
                    const cJSON *attrs, char **out)
{
    struct emu_buf f = {0};
    size_t i;
    int n = 1;
    const cJSON *it;
    form_add(&f, "Action", action);
    form_add(&f, "Version", "2010-03-31");
    for (i = 0; kv[i] != NULL; i += 2) {
        form_add(&f, kv[i], kv[i + 1]);
    }
    cJSON_ArrayForEach(it, attrs)
    {
        char k[64], *v = cJSON_IsString(it)                          ? strdup(it->valuestring)
                         : (cJSON_IsObject(it) || cJSON_IsArray(it)) ? cJSON_PrintUnformatted(it)
                                                                     : cfn_value_str(it);
        snprintf(k, sizeof(k), "Attributes.entry.%d.key", n);
        form_add(&f, k, it->string);
        snprintf(k, sizeof(k), "Attributes.entry.%d.value", n);
        form_add(&f, k, v);
        free(v);
        n++;
    }
    return rc_query(r, "sns", &f, out);
}

static cJSON *sns_topic_attrs(const cJSON *p)
{
    cJSON *a = cJSON_CreateObject();
    copy_prop(a, p, "DisplayName", NULL);
    copy_prop(a, p, "KmsMasterKeyId", NULL);
    copy_prop(a, p, "ContentBasedDeduplication", NULL);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "FifoTopic"))) {
        cJSON_AddStringToObject(a, "FifoTopic", "true");
    }
    return a;
}

static int sns_subscribe(struct cfn_res *r, const char *topic, const char *proto,
                         const char *endpoint, const cJSON *attrs, char *arn_out, size_t alen)
{
    char *out = NULL, *arn;
    const char *kv[] = {
        "TopicArn", topic, "Protocol", proto, "Endpoint", endpoint, "ReturnSubscriptionArn",
        "true",     NULL};
    int st = sns_call(r, "Subscribe", kv, attrs, &out);
    if (st >= 300) {
        free(out);
        return -1;
    }
    arn = xml_text(out, "SubscriptionArn");
    if (arn_out != NULL) {
        snprintf(arn_out, alen, "%s", arn ? arn : "");
    }
    free(arn);
    free(out);
    return 0;
}

static int sns_topic_create(struct cfn_res *r)
{
    char name[300], *out = NULL, *arn;
    const cJSON *it;
    cJSON *attrs;
    int st, fifo = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r->props, "FifoTopic"));
    pick_name(r, "TopicName", fifo ? 251 : 256, 0, name, sizeof(name));
    if (fifo && pstr(r->props, "TopicName") == NULL) {
        snprintf(name + strlen(name), sizeof(name) - strlen(name), ".fifo");
    }
    if (!svc_up("sns")) {
        snprintf(r->physical_id, sizeof(r->physical_id), "arn:aws:sns:%s:%s:%s", r->region,
                 r->account, name);
        attr_set(r, "TopicArn", r->physical_id);
        attr_set(r, "TopicName", name);
        return local_put(r, r->props);
    }
    attrs = sns_topic_attrs(r->props);
    {
        const char *kv[] = {"Name", name, NULL};
        st = sns_call(r, "CreateTopic", kv, attrs, &out);
    }
    cJSON_Delete(attrs);
    if (st >= 300) {
        free(out);
        return -1;
    }
    arn = xml_text(out, "TopicArn");
    if (arn != NULL) {
        snprintf(r->physical_id, sizeof(r->physical_id), "%s", arn);
    } else {
        snprintf(r->physical_id, sizeof(r->physical_id), "arn:aws:sns:%s:%s:%s", r->region,
                 r->account, name);
    }
    free(arn);
    free(out);
    attr_set(r, "TopicArn", r->physical_id);
    attr_set(r, "TopicName", name);
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r->props, "Subscription"))
    {
        if (sns_subscribe(r, r->physical_id, pstr(it, "Protocol"), pstr(it, "Endpoint"), NULL, NULL,
                          0) < 0) {
            return -1;
        }
    }
    return 0;
}

static int sns_topic_update(struct cfn_res *r)
{
    const cJSON *it;
    attr_keep(r);
    if (!svc_up("sns")) {
        return local_put(r, r->props);
    }
    if (pchanged(r->old_props, r->props, "DisplayName")) {
        const char *kv[] = {"TopicArn",
                            r->physical_id,
                            "AttributeName",
                            "DisplayName",
                            "AttributeValue",
                            pstr(r->props, "DisplayName") ? pstr(r->props, "DisplayName") : "",
                            NULL};
        if (sns_call(r, "SetTopicAttributes", kv, NULL, NULL) >= 300) {
            return -1;
        }
    }
    if (pchanged(r->old_props, r->props, "Subscription")) {
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r->props, "Subscription"))
        {
            const cJSON *o;
            int existed = 0;
            cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(r->old_props, "Subscription"))
            {
                if (cJSON_Compare(o, it, 1)) {
                    existed = 1;
                }
            }
            if (!existed && sns_subscribe(r, r->physical_id, pstr(it, "Protocol"),
                                          pstr(it, "Endpoint"), NULL, NULL, 0) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

static int sns_topic_delete(struct cfn_res *r)
{
    const char *kv[] = {"TopicArn", r->physical_id, NULL};
    int st;
    if (!svc_up("sns")) {
        return local_put(r, NULL);
    }
    st = sns_call(r, "DeleteTopic", kv, NULL, NULL);
    return (st >= 300 && st != 404) ? -1 : 0;
}

static cJSON *sns_sub_attrs(const cJSON *p)
{
    cJSON *a = cJSON_CreateObject();
    copy_prop(a, p, "RawMessageDelivery", NULL);
    copy_prop(a, p, "FilterPolicy", NULL);
    copy_prop(a, p, "FilterPolicyScope", NULL);
    copy_prop(a, p, "RedrivePolicy", NULL);
    copy_prop(a, p, "DeliveryPolicy", NULL);
    copy_prop(a, p, "SubscriptionRoleArn", NULL);
    return a;
}

static int sns_sub_create(struct cfn_res *r)
{
    cJSON *attrs;
    int rc;
    if (!svc_up("sns")) {
        char u[40];
        emu_uuid(u);
        snprintf(r->physical_id, sizeof(r->physical_id), "%s:%s",
                 pstr(r->props, "TopicArn") ? pstr(r->props, "TopicArn") : "", u);
        attr_keep(r);
        return local_put(r, r->props);
    }
    attrs = sns_sub_attrs(r->props);
    rc = sns_subscribe(r, pstr(r->props, "TopicArn"), pstr(r->props, "Protocol"),
                       pstr(r->props, "Endpoint"), attrs, r->physical_id, sizeof(r->physical_id));
    cJSON_Delete(attrs);
    attr_keep(r);
    return rc;
}

static int sns_sub_update(struct cfn_res *r)
{
    cJSON *attrs;
    const cJSON *it;
    attr_keep(r);
    if (!svc_up("sns")) {
        return local_put(r, r->props);
    }
    attrs = sns_sub_attrs(r->props);
    /* an attribute no longer given goes back to its default */
    {
        cJSON *old = sns_sub_attrs(r->old_props);
        cJSON_ArrayForEach(it, old)
        {
            if (!cJSON_HasObjectItem(attrs, it->string)) {
                cJSON_AddStringToObject(attrs, it->string,
                                        strcmp(it->string, "RawMessageDelivery") == 0 ? "false"
                                                                                      : "");
            }
        }
        cJSON_Delete(old);
    }
    cJSON_ArrayForEach(it, attrs)
    {
        char *v = cJSON_IsString(it)                          ? strdup(it->valuestring)
                  : (cJSON_IsObject(it) || cJSON_IsArray(it)) ? cJSON_PrintUnformatted(it)
                                                              : cfn_value_str(it);
        const char *kv[] = {"SubscriptionArn",
                            r->physical_id,
                            "AttributeName",
                            it->string,
                            "AttributeValue",
                            v,
                            NULL};
        int st = sns_call(r, "SetSubscriptionAttributes", kv, NULL, NULL);
        free(v);
        if (st >= 300) {
            cJSON_Delete(attrs);
            return -1;
        }
    }
    cJSON_Delete(attrs);
    return 0;
}

static int sns_sub_delete(struct cfn_res *r)
{
    const char *kv[] = {"SubscriptionArn", r->physical_id, NULL};
    int st;
    if (!svc_up("sns")) {
        return local_put(r, NULL);
    }
    st = sns_call(r, "Unsubscribe", kv, NULL, NULL);
    return (st >= 300 && st != 404) ? -1 : 0;
}

/* ------------------------------------------------------------------ SQS */

static cJSON *sqs_attrs(const cJSON *p, int create)
{
    static const char *const keys[] = {"DelaySeconds",
                                       "MaximumMessageSize",
                                       "MessageRetentionPeriod",
                                       "ReceiveMessageWaitTimeSeconds",
                                       "VisibilityTimeout",
                                       "RedrivePolicy",
                                       "RedriveAllowPolicy",
                                       "KmsMasterKeyId",
                                       "KmsDataKeyReusePeriodSeconds",
                                       "SqsManagedSseEnabled",
                                       "ContentBasedDeduplication",
                                       "DeduplicationScope",
                                       "FifoThroughputLimit",
                                       "FifoQueue",
                                       NULL};
    cJSON *a = cJSON_CreateObject();
    size_t i;
    for (i = 0; keys[i] != NULL; i++) {
        char *v;
        if (strcmp(keys[i], "FifoQueue") == 0 && !create) {
            continue;
        }
        v = pdup(p, keys[i]);
        if (v != NULL) {
            cJSON_AddStringToObject(a, keys[i], v);
            free(v);
        }
    }
    return a;
}

static void sqs_set_attrs(struct cfn_res *r, const char *name, const char *url)
{
    char buf[1200];
    snprintf(buf, sizeof(buf), "arn:aws:sqs:%s:%s:%s", r->region, r->account, name);
    attr_set(r, "Arn", buf);
    attr_set(r, "QueueName", name);
    attr_set(r, "QueueUrl", url);
}

static int sqs_queue_create(struct cfn_res *r)
{
    char name[300];
    cJSON *b, *out = NULL;
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(r->props, "Tags");
    int fifo = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r->props, "FifoQueue")) ||
               (pstr(r->props, "FifoQueue") && strcmp(pstr(r->props, "FifoQueue"), "true") == 0);
    pick_name(r, "QueueName", fifo ? 75 : 80, 0, name, sizeof(name));
    if (fifo && pstr(r->props, "QueueName") == NULL) {
        snprintf(name + strlen(name), sizeof(name) - strlen(name), ".fifo");
    }
    if (!svc_up("sqs")) {
        char url[1200];
        snprintf(url, sizeof(url), "https://sqs.%s.amazonaws.com/%s/%s", r->region, r->account,
                 name);
        snprintf(r->physical_id, sizeof(r->physical_id), "%s", url);
        sqs_set_attrs(r, name, url);
        return local_put(r, r->props);
    }
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "QueueName", name);
    cJSON_AddItemToObject(b, "Attributes", sqs_attrs(r->props, 1));
    if (cJSON_IsArray(tags)) {
        cJSON_AddItemToObject(b, "tags", tags_map(tags));
    }
    if (rc_json(r, "sqs", "POST", "/", "AmazonSQS.CreateQueue", b, &out) >= 300) {
        return -1;
    }
    snprintf(r->physical_id, sizeof(r->physical_id), "%s",
             pstr(out, "QueueUrl") ? pstr(out, "QueueUrl") : "");
    sqs_set_attrs(r, name, r->physical_id);
    cJSON_Delete(out);
    return 0;
}

static int sqs_queue_update(struct cfn_res *r)
{
    cJSON *b;
    attr_keep(r);
    if (!svc_up("sqs")) {
        return local_put(r, r->props);
    }
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "QueueUrl", r->physical_id);
    cJSON_AddItemToObject(b, "Attributes", sqs_attrs(r->props, 0));
    return rc_json(r, "sqs", "POST", "/", "AmazonSQS.SetQueueAttributes", b, NULL) >= 300 ? -1 : 0;
}

static int sqs_queue_delete(struct cfn_res *r)
{
    cJSON *b;
    int st;
    if (!svc_up("sqs")) {
        return local_put(r, NULL);
    }
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "QueueUrl", r->physical_id);
    st = rc_json(r, "sqs", "POST", "/", "AmazonSQS.DeleteQueue", b, NULL);
    if (st >= 300 && (st == 404 || strstr(r->err, "NonExistentQueue") != NULL)) {
        return 0;
    }
    return st >= 300 ? -1 : 0;
}

/* ------------------------------------------- SQS queue and SNS topic policies */

/* Sets (doc) or clears (doc NULL) the Policy attribute of one queue or topic.
 * Clearing tolerates a queue or topic that is gone. */
static int set_policy(struct cfn_res *r, int sqs, const char *target, const char *doc)
{
    int st;
    if (sqs) {
        cJSON *b = cJSON_CreateObject(), *a = cJSON_AddObjectToObject(b, "Attributes");
        cJSON_AddStringToObject(b, "QueueUrl", target);
        cJSON_AddStringToObject(a, "Policy", doc ? doc : "");
        st = rc_json(r, "sqs", "POST", "/", "AmazonSQS.SetQueueAttributes", b, NULL);
    } else {
        const char *kv[] = {"TopicArn",     target, "AttributeName", "Policy", "AttributeValue",
                            doc ? doc : "", NULL};
        st = sns_call(r, "SetTopicAttributes", kv, NULL, NULL);
    }
    if (st >= 300 && doc == NULL) {
        r->err[0] = 0;
        return 0;
    }
    return st >= 300 ? -1 : 0;
}

/* Applies the policy to every target in props[list] and clears it from the
 * targets of old (may be NULL) that are no longer listed. */
static int policy_targets(struct cfn_res *r, int sqs, const cJSON *props, const cJSON *old)
{
    const char *list = sqs ? "Queues" : "Topics";
    const char *svc = sqs ? "sqs" : "sns";
    char *doc = doc_str(props, "PolicyDocument");
    const cJSON *it, *k;
    int rc = 0;
    if (!svc_up(svc)) {
        free(doc);
        return local_put(r, props);
    }
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(old, list))
    {
        int kept = 0;
        cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(props, list))
        {
            if (cJSON_IsString(k) && cJSON_IsString(it) &&
                strcmp(k->valuestring, it->valuestring) == 0) {
                kept = 1;
            }
        }
        if (!kept && cJSON_IsString(it)) {
            set_policy(r, sqs, it->valuestring, NULL);
        }
    }
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(props, list))
    {
        if (cJSON_IsString(it) && set_policy(r, sqs, it->valuestring, doc) < 0) {
            rc = -1;
            break;
        }
    }
    free(doc);
    return rc;
}

static int queue_policy_create(struct cfn_res *r)
{
    cfn_physical_name(r->stack_name, r->logical_id, 0, 0, r->physical_id, sizeof(r->physical_id));
    attr_keep(r);
    return policy_targets(r, 1, r->props, NULL);
}

static int queue_policy_update(struct cfn_res *r)
{
    attr_keep(r);
    return policy_targets(r, 1, r->props, r->old_props);
}

static int queue_policy_delete(struct cfn_res *r)
{
    cJSON *none = cJSON_CreateObject();
    int rc;
    if (!svc_up("sqs")) {
        cJSON_Delete(none);
        return local_put(r, NULL);
    }
    rc = policy_targets(r, 1, none, r->old_props ? r->old_props : r->props);
    cJSON_Delete(none);
    return rc;
}

static int topic_policy_create(struct cfn_res *r)
{
    cfn_physical_name(r->stack_name, r->logical_id, 0, 0, r->physical_id, sizeof(r->physical_id));
    attr_keep(r);
    return policy_targets(r, 0, r->props, NULL);
}

static int topic_policy_update(struct cfn_res *r)
{
    attr_keep(r);
    return policy_targets(r, 0, r->props, r->old_props);
}

static int topic_policy_delete(struct cfn_res *r)
{
    cJSON *none = cJSON_CreateObject();
    int rc;
    if (!svc_up("sns")) {
        cJSON_Delete(none);
        return local_put(r, NULL);
    }
    rc = policy_targets(r, 0, none, r->old_props ? r->old_props : r->props);
    cJSON_Delete(none);
    return rc;
}

/* --------------------------------------------------------------- Events */

static int events_put(struct cfn_res *r, const char *name)
{
    cJSON *b = cJSON_CreateObject(), *out = NULL;
    const cJSON *it;
    char *pattern = doc_str(r->props, "EventPattern");
    cJSON *targets;
    cJSON_AddStringToObject(b, "Name", name);
    copy_prop(b, r->props, "ScheduleExpression", NULL);
    copy_prop(b, r->props, "Description", NULL);
    copy_prop(b, r->props, "State", NULL);
    copy_prop(b, r->props, "RoleArn", NULL);
    copy_prop(b, r->props, "EventBusName", NULL);
    if (pattern != NULL) {
        cJSON_AddStringToObject(b, "EventPattern", pattern);
        free(pattern);
    }
    if (rc_json(r, "events", "POST", "/", "AWSEvents.PutRule", b, &out) >= 300) {
        return -1;
    }
    attr_set(r, "Arn", pstr(out, "RuleArn") ? pstr(out, "RuleArn") : "");
    cJSON_Delete(out);
    targets = cJSON_CreateArray();
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r->props, "Targets"))
    {
        cJSON *t = cJSON_Duplicate(it, 1);
        cJSON_AddItemToArray(targets, t);
    }
    if (cJSON_GetArraySize(targets) > 0) {
        b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "Rule", name);
        copy_prop(b, r->props, "EventBusName", NULL);
        cJSON_AddItemToObject(b, "Targets", targets);
        if (rc_json(r, "events", "POST", "/", "AWSEvents.PutTargets", b, NULL) >= 300) {
            return -1;
        }
    } else {
        cJSON_Delete(targets);
    }
    return 0;
}

static int events_remove_targets(struct cfn_res *r, const cJSON *old, const cJSON *keep)
{
    cJSON *ids = cJSON_CreateArray(), *b;
    const cJSON *it, *k;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(old, "Targets"))
    {
        int kept = 0;
        const char *id = pstr(it, "Id");
        cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(keep, "Targets"))
        {
            if (id != NULL && pstr(k, "Id") != NULL && strcmp(pstr(k, "Id"), id) == 0) {
                kept = 1;
            }
        }
        if (!kept && id != NULL) {
            cJSON_AddItemToArray(ids, cJSON_CreateString(id));
        }
    }
    if (cJSON_GetArraySize(ids) == 0) {
        cJSON_Delete(ids);
        return 0;
    }
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "Rule", r->physical_id);
    copy_prop(b, old, "EventBusName", NULL);
    cJSON_AddItemToObject(b, "Ids", ids);
    return rc_json(r, "events", "POST", "/", "AWSEvents.RemoveTargets", b, NULL) >= 300 ? -1 : 0;
}

/* The rule name in a Ref: "bus|rule" on a bus other than the default. */
static const char *rule_name(const struct cfn_res *r)
{
    const char *bar = strchr(r->physical_id, '|');
    return bar ? bar + 1 : r->physical_id;
}

static int events_rule_create(struct cfn_res *r)
{
    char name[300];
    const char *bus = pstr(r->props, "EventBusName");
    pick_name(r, "Name", 64, 0, name, sizeof(name));
    if (bus != NULL && bus[0] != 0 && strcmp(bus, "default") != 0) {
        const char *slash = strstr(bus, ":event-bus/");
        snprintf(r->physical_id, sizeof(r->physical_id), "%s|%s", slash ? slash + 11 : bus, name);
    } else {
        snprintf(r->physical_id, sizeof(r->physical_id), "%s", name);
    }
    /* greenroom's events serves the default bus only: a rule on another
     * bus is recorded */
    if (!svc_up("events") || strchr(r->physical_id, '|') != NULL) {
        char buf[1200];
        snprintf(buf, sizeof(buf), "arn:aws:events:%s:%s:rule/%s", r->region, r->account,
                 r->physical_id);
        for (char *c = buf; *c; c++) {
            if (*c == '|') {
                *c = '/';
            }
        }
        attr_set(r, "Arn", buf);
        return local_put(r, r->props);
    }
    return events_put(r, name);
}

static int events_rule_update(struct cfn_res *r)
{
    attr_keep(r);
    if (!svc_up("events") || strchr(r->physical_id, '|') != NULL) {
        return local_put(r, r->props);
    }
    if (events_remove_targets(r, r->old_props, r->props) < 0) {
        return -1;
    }
    return events_put(r, rule_name(r));
}

static int events_rule_delete(struct cfn_res *r)
{
    cJSON *b;
    int st;
    const cJSON *p = r->old_props ? r->old_props : r->props;
    if (!svc_up("events") || strchr(r->physical_id, '|') != NULL) {
        return local_put(r, NULL);
    }
    if (events_remove_targets(r, p, NULL) < 0 && strstr(r->err, "ResourceNotFound") == NULL) {
        return -1;
    }
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "Name", rule_name(r));
    copy_prop(b, p, "EventBusName", NULL);
    st = rc_json(r, "events", "POST", "/", "AWSEvents.DeleteRule", b, NULL);
    if (st >= 300 && strstr(r->err, "ResourceNotFound") == NULL && st != 404) {
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------ IoT topic rules */

/* A CloudFormation property tree in the IoT API's spelling: every key's
 * first letter lower-cased ("DynamoDBv2" -> "dynamoDBv2"). New tree. */
static cJSON *iot_keys(const cJSON *v)
{
    cJSON *out;
    const cJSON *it;
    if (cJSON_IsObject(v)) {
        out = cJSON_CreateObject();
        cJSON_ArrayForEach(it, v)
        {
            char key[256];
            snprintf(key, sizeof(key), "%s", it->string ? it->string : "");
            key[0] = (char)tolower((unsigned char)key[0]);
            cJSON_AddItemToObject(out, key, iot_keys(it));
        }
        return out;
    }
    if (cJSON_IsArray(v)) {
        out = cJSON_CreateArray();
        cJSON_ArrayForEach(it, v)
        {
            cJSON_AddItemToArray(out, iot_keys(it));
        }
        return out;
    }
    return cJSON_Duplicate(v, 1);
}

/* Create (POST) or replace (PATCH) the rule named by physical_id. */
static int iot_rule_put(struct cfn_res *r, int replace)
{
    const cJSON *payload = cJSON_GetObjectItemCaseSensitive(r->props, "TopicRulePayload");
    cJSON *b;
    char path[1200];
    if (!cJSON_IsObject(payload) || pstr(payload, "Sql") == NULL ||
        !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(payload, "Actions"))) {
        res_err(r,
                "Properties validation failed for resource %s with message: #: required key [%s] "
                "not found",
                r->logical_id,
                !cJSON_IsObject(payload)       ? "TopicRulePayload"
                : pstr(payload, "Sql") == NULL ? "TopicRulePayload/Sql"
                                               : "TopicRulePayload/Actions");
        return -1;
    }
    b = iot_keys(payload);
    if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(b, "ruleDisabled"))) {
        int off =
            strcmp(cJSON_GetObjectItemCaseSensitive(b, "ruleDisabled")->valuestring, "true") == 0;
        cJSON_DeleteItemFromObjectCaseSensitive(b, "ruleDisabled");
        cJSON_AddBoolToObject(b, "ruleDisabled", off);
    }
    snprintf(path, sizeof(path), "/rules/%s", r->physical_id);
    return rc_json(r, "iot", replace ? "PATCH" : "POST", path, NULL, b, NULL) >= 300 ? -1 : 0;
}

/* AWS::IoT::TopicRule: Ref the rule name, GetAtt Arn. A generated name is
 * the logical id, '_' and 12 random characters (rule names are [A-Za-z0-9_]). */
static int iot_rule_create(struct cfn_res *r)
{
    char buf[1400];
    if (pstr(r->props, "RuleName") != NULL) {
        snprintf(r->physical_id, sizeof(r->physical_id), "%s", pstr(r->props, "RuleName"));
    } else {
        char rnd[16];
        size_t i, j = 0;
        for (i = 0; r->logical_id[i] && j < 100; i++) {
            if (isalnum((unsigned char)r->logical_id[i]) || r->logical_id[i] == '_') {
                r->physical_id[j++] = r->logical_id[i];
            }
        }
        emu_random_alnum(rnd, 12, 0);
        rnd[12] = 0;
        snprintf(r->physical_id + j, sizeof(r->physical_id) - j, "_%s", rnd);
    }
    snprintf(buf, sizeof(buf), "arn:aws:iot:%s:%s:rule/%s", r->region, r->account, r->physical_id);
    attr_set(r, "Arn", buf);
    if (!svc_up("iot")) {
        return local_put(r, r->props);
    }
    if (iot_rule_put(r, 0) < 0) {
        if (strstr(r->err, "already exists") != NULL) {
            r->physical_id[0] = 0;
        }
        return -1;
    }
    return 0;
}

static int iot_rule_update(struct cfn_res *r)
{
    attr_keep(r);
    if (!svc_up("iot")) {
        return local_put(r, r->props);
    }
    return iot_rule_put(r, 1);
}

static int iot_rule_delete(struct cfn_res *r)
{
    char path[1200];
    int st;
    if (!svc_up("iot")) {
        return local_put(r, NULL);
    }
    snprintf(path, sizeof(path), "/rules/%s", r->physical_id);
    st = rc_call(r, "iot", "DELETE", path, NULL, NULL, NULL, NULL);
    /* IoT answers a missing rule with 401 UnauthorizedException, like AWS */
    return (st >= 300 && st != 404 && st != 401) ? -1 : 0;
}

/* ------------------------------------------------ DynamoDB, Logs (local) */

static int ddb_table_create(struct cfn_res *r)
{
    char buf[1400];
    pick_name(r, "TableName", 255, 0, r->physical_id, sizeof(r->physical_id));
    snprintf(buf, sizeof(buf), "arn:aws:dynamodb:%s:%s:table/%s", r->region, r->account,
             r->physical_id);
    attr_set(r, "Arn", buf);
    if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(r->props, "StreamSpecification"))) {
        char ts[32], sarn[1500];
        size_t i, j = 0;
        emu_time_iso(ts, emu_now());
        for (i = 0; ts[i] && j < 23; i++) {
            if (ts[i] != 'Z') {
                ts[j++] = ts[i];
            }
        }
        ts[j] = 0;
        snprintf(sarn, sizeof(sarn), "%s/stream/%s", buf, ts);
        attr_set(r, "StreamArn", sarn);
    }
    return local_put(r, r->props);
}

static int local_update(struct cfn_res *r)
{
    attr_keep(r);
    return local_put(r, r->props);
}

static int local_delete(struct cfn_res *r)
{
    return local_put(r, NULL);
}

static int logs_group_create(struct cfn_res *r)
{
    char buf[1400];
    pick_name(r, "LogGroupName", 512, 0, r->physical_id, sizeof(r->physical_id));
    snprintf(buf, sizeof(buf), "arn:aws:logs:%s:%s:log-group:%s:*", r->region, r->account,
             r->physical_id);
    attr_set(r, "Arn", buf);
    return local_put(r, r->props);
}

/* A wait condition handle: a placeholder (no signal is ever awaited); Ref
 * is the pre-signed URL AWS would give. */
static int wait_handle_create(struct cfn_res *r)
{
    char rnd[16];
    emu_random_alnum(rnd, 13, 0);
    rnd[13] = 0;
    snprintf(r->physical_id, sizeof(r->physical_id),
             "https://cloudformation-waitcondition-%s.s3.amazonaws.com/%s/%s/%s", r->region,
             r->stack_name, r->logical_id, rnd);
    attr_keep(r);
    return local_put(r, r->props);
}

/* ----------------------------------------------------- IAM users, groups */

/* AWS::IAM::User and AWS::IAM::Group share everything but the words. */
struct iam_principal {
    const char *noun;       /* "User" */
    const char *name_param; /* "UserName" */
    const char *create, *del, *put, *del_policy;
};

static const struct iam_principal iam_user_p = {"User",       "UserName",      "CreateUser",
                                                "DeleteUser", "PutUserPolicy", "DeleteUserPolicy"};
static const struct iam_principal iam_group_p = {
    "Group", "GroupName", "CreateGroup", "DeleteGroup", "PutGroupPolicy", "DeleteGroupPolicy"};

static const struct iam_principal *principal_of(const struct cfn_res *r)
{
    return strcmp(r->type, "AWS::IAM::User") == 0 ? &iam_user_p : &iam_group_p;
}

/* Puts every inline policy of props not identical in old (NULL: all). */
static int principal_put_policies(struct cfn_res *r, const struct iam_principal *k,
                                  const cJSON *props, const cJSON *old)
{
    const cJSON *it, *o;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(props, "Policies"))
    {
        int same = 0;
        char *doc;
        int st;
        cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(old, "Policies"))
        {
            if (cJSON_Compare(o, it, 1)) {
                same = 1;
            }
        }
        if (same) {
            continue;
        }
        if (pstr(it, "PolicyName") == NULL ||
            (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(it, "PolicyDocument")) &&
             pstr(it, "PolicyDocument") == NULL)) {
            res_err(r,
                    "Properties validation failed for resource %s with message: #/Policies: "
                    "required key [%s] not found",
                    r->logical_id,
                    pstr(it, "PolicyName") == NULL ? "PolicyName" : "PolicyDocument");
            return -1;
        }
        doc = doc_str(it, "PolicyDocument");
        {
            const char *kv[] = {k->name_param,
                                r->physical_id,
                                "PolicyName",
                                pstr(it, "PolicyName"),
                                "PolicyDocument",
                                doc,
                                NULL};
            st = iam_call(r, k->put, kv, NULL);
        }
        free(doc);
        if (!iam_ok(st)) {
            return -1;
        }
    }
    return 0;
}

/* Deletes the inline policies of old that keep (NULL: none) does not name. */
static int principal_remove_policies(struct cfn_res *r, const struct iam_principal *k,
                                     const cJSON *old, const cJSON *keep)
{
    const cJSON *it, *o;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(old, "Policies"))
    {
        const char *name = pstr(it, "PolicyName");
        int kept = 0;
        cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(keep, "Policies"))
        {
            if (name != NULL && pstr(o, "PolicyName") != NULL &&
                strcmp(pstr(o, "PolicyName"), name) == 0) {
                kept = 1;
            }
        }
        if (!kept && name != NULL) {
            const char *kv[] = {k->name_param, r->physical_id, "PolicyName", name, NULL};
            int st = iam_call(r, k->del_policy, kv, NULL);
            if (!iam_ok(st) && !iam_gone(r, st)) {
                return -1;
            }
        }
    }
    return 0;
}

/* Attaches (add) or detaches the managed policies and, for a user, the
 * group memberships of props that other (NULL: none) does not list. */
static int principal_links(struct cfn_res *r, const struct iam_principal *k, const cJSON *props,
                           const cJSON *other, int add)
{
    static const char *const lists[] = {"ManagedPolicyArns", "Groups"};
    size_t i;
    for (i = 0; i < 2; i++) {
        const cJSON *it, *o;
        if (i == 1 && k != &iam_user_p) {
            break;
        }
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(props, lists[i]))
        {
            int listed = 0, st;
            char action[64];
            if (!cJSON_IsString(it)) {
                continue;
            }
            cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(other, lists[i]))
            {
                if (cJSON_IsString(o) && strcmp(o->valuestring, it->valuestring) == 0) {
                    listed = 1;
                }
            }
            if (listed) {
                continue;
            }
            if (i == 0) {
                const char *kv[] = {k->name_param, r->physical_id, "PolicyArn", it->valuestring,
                                    NULL};
                snprintf(action, sizeof(action), "%s%sPolicy", add ? "Attach" : "Detach", k->noun);
                st = iam_call(r, action, kv, NULL);
            } else {
                const char *kv[] = {"UserName", r->physical_id, "GroupName", it->valuestring, NULL};
                st = iam_call(r, add ? "AddUserToGroup" : "RemoveUserFromGroup", kv, NULL);
            }
            if (!iam_ok(st) && !iam_unserved(r) && (add || !iam_gone(r, st))) {
                return -1;
            }
            r->err[0] = 0;
        }
    }
    return 0;
}

static void principal_attrs(struct cfn_res *r, const struct iam_principal *k, const char *arn)
{
    char buf[1400];
    if (arn == NULL || arn[0] == 0) {
        const char *path = pstr(r->props, "Path") ? pstr(r->props, "Path") : "/";
        snprintf(buf, sizeof(buf), "arn:aws:iam::%s:%s%s%s", r->account,
                 k == &iam_user_p ? "user" : "group", path, r->physical_id);
        arn = buf;
    }
    attr_set(r, "Arn", arn);
}

/* AWS::IAM::User / Group: Ref the name, GetAtt Arn. Groups and
 * ManagedPolicyArns go through AddUserToGroup / Attach{User,Group}Policy
 * when IAM serves them (else they stay properties only); LoginProfile is a
 * property only. */
static int iam_principal_create(struct cfn_res *r)
{
    const struct iam_principal *k = principal_of(r);
    char *out = NULL, *arn;
    int st;
    pick_name(r, k->name_param, k == &iam_user_p ? 64 : 128, 0, r->physical_id,
              sizeof(r->physical_id));
    if (!svc_up("iam")) {
        principal_attrs(r, k, NULL);
        return local_put(r, r->props);
    }
    {
        const char *kv[] = {k->name_param,
                            r->physical_id,
                            "Path",
                            pstr(r->props, "Path"),
                            "PermissionsBoundary",
                            k == &iam_user_p ? pstr(r->props, "PermissionsBoundary") : NULL,
                            NULL};
        st = iam_call(r, k->create, kv, &out);
    }
    if (!iam_ok(st)) {
        free(out);
        r->physical_id[0] = 0; /* an existing name is not ours to delete */
        return -1;
    }
    arn = xml_text(out, "Arn");
    principal_attrs(r, k, arn);
    free(arn);
    free(out);
    if (principal_put_policies(r, k, r->props, NULL) < 0) {
        return -1;
    }
    return principal_links(r, k, r->props, NULL, 1);
}

static int iam_principal_update(struct cfn_res *r)
{
    const struct iam_principal *k = principal_of(r);
    attr_keep(r);
    if (!svc_up("iam")) {
        return local_put(r, r->props);
    }
    if (principal_remove_policies(r, k, r->old_props, r->props) < 0 ||
        principal_links(r, k, r->old_props, r->props, 0) < 0) {
        return -1;
    }
    if (principal_put_policies(r, k, r->props, r->old_props) < 0) {
        return -1;
    }
    return principal_links(r, k, r->props, r->old_props, 1);
}

static int iam_principal_delete(struct cfn_res *r)
{
    const struct iam_principal *k = principal_of(r);
    const char *kv[] = {k->name_param, r->physical_id, NULL};
    char *out = NULL;
    const char *p;
    int st;
    if (!svc_up("iam")) {
        return local_put(r, NULL);
    }
    if (principal_links(r, k, r->old_props ? r->old_props : r->props, NULL, 0) < 0) {
        return -1;
    }
    /* every inline policy, also ones added outside the stack */
    {
        const char *lkv[] = {k->name_param, r->physical_id, NULL};
        char action[64];
        snprintf(action, sizeof(action), "List%sPolicies", k->noun);
        st = iam_call(r, action, lkv, &out);
    }
    if (!iam_ok(st)) {
        free(out);
        return iam_gone(r, st) ? 0 : -1;
    }
    for (p = out ? strstr(out, "<PolicyNames>") : NULL; p != NULL && (p = strstr(p, "<member>"));
         p += 8) {
        char *name = xml_text(p, "member");
        const char *dkv[] = {k->name_param, r->physical_id, "PolicyName", name, NULL};
        int dst = name ? iam_call(r, k->del_policy, dkv, NULL) : 200;
        free(name);
        if (!iam_ok(dst) && !iam_gone(r, dst)) {
            free(out);
            return -1;
        }
    }
    free(out);
    st = iam_call(r, k->del, kv, NULL);
    if (!iam_ok(st) && !iam_gone(r, st)) {
        return -1;
    }
    return 0;
}

/* ------------------------------- IAM inline policy resources (2023 types) */

/* AWS::IAM::RolePolicy, UserPolicy, GroupPolicy: one inline policy on one
 * principal. Ref the policy name. */
static const struct iam_principal *inline_kind(const struct cfn_res *r, const char **param,
                                               const char **put, const char **del)
{
    if (strcmp(r->type, "AWS::IAM::RolePolicy") == 0) {
        *param = "RoleName";
        *put = "PutRolePolicy";
        *del = "DeleteRolePolicy";
        return NULL;
    }
    if (strcmp(r->type, "AWS::IAM::UserPolicy") == 0) {
        *param = iam_user_p.name_param;
        *put = iam_user_p.put;
        *del = iam_user_p.del_policy;
        return &iam_user_p;
    }
    *param = iam_group_p.name_param;
    *put = iam_group_p.put;
    *del = iam_group_p.del_policy;
    return &iam_group_p;
}

static int iam_inline_put(struct cfn_res *r)
{
    const char *param, *put, *del;
    char *doc;
    int st;
    (void)inline_kind(r, &param, &put, &del);
    if (pstr(r->props, "PolicyName") == NULL || pstr(r->props, param) == NULL) {
        res_err(r,
                "Properties validation failed for resource %s with message: #: required key [%s] "
                "not found",
                r->logical_id, pstr(r->props, "PolicyName") == NULL ? "PolicyName" : param);
        return -1;
    }
    if (r->physical_id[0] == 0) {
        snprintf(r->physical_id, sizeof(r->physical_id), "%s", pstr(r->props, "PolicyName"));
    }
    attr_keep(r);
    if (!svc_up("iam")) {
        return local_put(r, r->props);
    }
    doc = doc_str(r->props, "PolicyDocument");
    {
        const char *kv[] = {param,
                            pstr(r->props, param),
                            "PolicyName",
                            pstr(r->props, "PolicyName"),
                            "PolicyDocument",
                            doc ? doc : "{\"Version\":\"2012-10-17\",\"Statement\":[]}",
                            NULL};
        st = iam_call(r, put, kv, NULL);
    }
    free(doc);
    if (!iam_ok(st)) {
        if (r->old_props == NULL) {
            r->physical_id[0] = 0;
        }
        return -1;
    }
    return 0;
}

static int iam_inline_delete(struct cfn_res *r)
{
    const char *param, *put, *del;
    const cJSON *p = r->old_props ? r->old_props : r->props;
    int st;
    (void)inline_kind(r, &param, &put, &del);
    if (!svc_up("iam")) {
        return local_put(r, NULL);
    }
    {
        const char *kv[] = {param, pstr(p, param), "PolicyName", r->physical_id, NULL};
        st = iam_call(r, del, kv, NULL);
    }
    return (!iam_ok(st) && !iam_gone(r, st)) ? -1 : 0;
}

/* ------------------------------------------ API Gateway: more resources */

static const char *api_of(const struct cfn_res *r)
{
    const cJSON *p = r->props ? r->props : r->old_props;
    const char *a = pstr(p, "RestApiId");
    if (a == NULL && r->old_props != NULL) {
        a = pstr(r->old_props, "RestApiId");
    }
    return a ? a : "";
}

static int require_props(struct cfn_res *r, const char *const *names)
{
    size_t i;
    for (i = 0; names[i] != NULL; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->props, names[i]);
        if (v == NULL || cJSON_IsNull(v)) {
            res_err(r,
                    "Properties validation failed for resource %s with message: #: required key "
                    "[%s] not found",
                    r->logical_id, names[i]);
            return -1;
        }
    }
    return 0;
}

/* Patch operations replacing each changed string-ish property. map is
 * {Prop, /path} pairs ending with NULL. */
static cJSON *patch_changes(const struct cfn_res *r, const char *const *map)
{
    cJSON *ops = cJSON_CreateArray();
    size_t i;
    for (i = 0; map[i] != NULL; i += 2) {
        if (pchanged(r->old_props, r->props, map[i])) {
            char *v = pdup(r->props, map[i]);
            patch_replace(ops, map[i + 1], v);
            free(v);
        }
    }
    return ops;
}

static int apigw_patch(struct cfn_res *r, const char *path, cJSON *ops)
{
    cJSON *b;
    if (cJSON_GetArraySize(ops) == 0) {
        cJSON_Delete(ops);
        return 0;
    }
    b = cJSON_CreateObject();
    cJSON_AddItemToObject(b, "patchOperations", ops);
    return rc_json(r, "apigateway", "PATCH", path, NULL, b, NULL) >= 300 ? -1 : 0;
}

static int local_id(struct cfn_res *r, const char *attr)
{
    emu_random_alnum(r->physical_id, 6, 1);
    r->physical_id[6] = 0;
    if (attr != NULL) {
        attr_set(r, attr, r->physical_id);
    }
    return local_put(r, r->props);
}

/* AWS::ApiGateway::Authorizer: Ref the id, GetAtt AuthorizerId. */
static const char *const authorizer_map[] = {"Name",
                                             "/name",
                                             "Type",
                                             "/type",
                                             "AuthorizerUri",
                                             "/authorizerUri",
                                             "AuthorizerCredentials",
                                             "/authorizerCredentials",
                                             "IdentitySource",
                                             "/identitySource",
                                             "IdentityValidationExpression",
                                             "/identityValidationExpression",
                                             "AuthorizerResultTtlInSeconds",
                                             "/authorizerResultTtlInSeconds",
                                             "AuthType",
                                             "/authType",
                                             NULL};

static int apigw_authorizer_create(struct cfn_res *r)
{
    static const char *const req[] = {"RestApiId", "Type", "Name", NULL};
    cJSON *b, *out = NULL;
    char path[1200];
    if (require_props(r, req) < 0) {
        return -1;
    }
    if (!svc_up("apigateway")) {
        return local_id(r, "AuthorizerId");
    }
    b = cJSON_CreateObject();
    copy_prop(b, r->props, "Name", "name");
    copy_prop(b, r->props, "Type", "type");
    copy_prop(b, r->props, "ProviderARNs", "providerARNs");
    copy_prop(b, r->props, "AuthType", "authType");
    copy_prop(b, r->props, "AuthorizerUri", "authorizerUri");
    copy_prop(b, r->props, "AuthorizerCredentials", "authorizerCredentials");
    copy_prop(b, r->props, "IdentitySource", "identitySource");
    copy_prop(b, r->props, "IdentityValidationExpression", "identityValidationExpression");
    copy_num(b, r->props, "AuthorizerResultTtlInSeconds", "authorizerResultTtlInSeconds");
    snprintf(path, sizeof(path), "/restapis/%s/authorizers", api_of(r));
    if (rc_json(r, "apigateway", "POST", path, NULL, b, &out) >= 300) {
        return -1;
    }
    snprintf(r->physical_id, sizeof(r->physical_id), "%s", pstr(out, "id") ? pstr(out, "id") : "");
    attr_set(r, "AuthorizerId", r->physical_id);
    cJSON_Delete(out);
    return 0;
}

static int apigw_authorizer_update(struct cfn_res *r)
{
    char path[1200];
    cJSON *ops;
    const cJSON *it;
    attr_keep(r);
    if (!svc_up("apigateway")) {
        return local_put(r, r->props);
    }
    ops = patch_changes(r, authorizer_map);
    if (pchanged(r->old_props, r->props, "ProviderARNs")) {
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r->old_props, "ProviderARNs"))
        {
            cJSON *o = cJSON_CreateObject();
            char p[1200];
            snprintf(p, sizeof(p), "/providerARNs/%s", cJSON_IsString(it) ? it->valuestring : "");
            cJSON_AddStringToObject(o, "op", "remove");
            cJSON_AddStringToObject(o, "path", p);
            cJSON_AddItemToArray(ops, o);
        }
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r->props, "ProviderARNs"))
        {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "op", "add");
            cJSON_AddStringToObject(o, "path", "/providerARNs");
            cJSON_AddStringToObject(o, "value", cJSON_IsString(it) ? it->valuestring : "");
            cJSON_AddItemToArray(ops, o);
        }
    }
    snprintf(path, sizeof(path), "/restapis/%s/authorizers/%s", api_of(r), r->physical_id);
    return apigw_patch(r, path, ops);
}

static int apigw_authorizer_delete(struct cfn_res *r)
{
    char path[1200];
    if (!svc_up("apigateway")) {
        return local_put(r, NULL);
    }
    snprintf(path, sizeof(path), "/restapis/%s/authorizers/%s", api_of(r), r->physical_id);
    return apigw_del(r, path);
}

/* AWS::ApiGateway::Model: Ref the model name (no attributes). A model name
 * is alphanumeric, so a generated one is the logical id and 12 random
 * characters. */
static int apigw_model_create(struct cfn_res *r)
{
    static const char *const req[] = {"RestApiId", NULL};
    cJSON *b;
    char path[1200], *schema;
    if (require_props(r, req) < 0) {
        return -1;
    }
    if (pstr(r->props, "Name") != NULL) {
        snprintf(r->physical_id, sizeof(r->physical_id), "%s", pstr(r->props, "Name"));
    } else {
        char rnd[16];
        size_t i, j = 0;
        for (i = 0; r->logical_id[i] && j < 100; i++) {
            if (isalnum((unsigned char)r->logical_id[i])) {
                r->physical_id[j++] = r->logical_id[i];
            }
        }
        emu_random_alnum(rnd, 12, 0);
        rnd[12] = 0;
        snprintf(r->physical_id + j, sizeof(r->physical_id) - j, "%s", rnd);
    }
    attr_keep(r);
    if (!svc_up("apigateway")) {
        return local_put(r, r->props);
    }
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "name", r->physical_id);
    cJSON_AddStringToObject(b, "contentType",
                            pstr(r->props, "ContentType") ? pstr(r->props, "ContentType")
                                                          : "application/json");
    copy_prop(b, r->props, "Description", "description");
    schema = doc_str(r->props, "Schema");
    if (schema != NULL) {
        cJSON_AddStringToObject(b, "schema", schema);
        free(schema);
    }
    snprintf(path, sizeof(path), "/restapis/%s/models", api_of(r));
    if (rc_json(r, "apigateway", "POST", path, NULL, b, NULL) >= 300) {
        r->physical_id[0] = 0;
        return -1;
    }
    return 0;
}

static int apigw_model_update(struct cfn_res *r)
{
    char path[1200];
    cJSON *ops;
    attr_keep(r);
    if (!svc_up("apigateway")) {
        return local_put(r, r->props);
    }
    ops = cJSON_CreateArray();
    if (pchanged(r->old_props, r->props, "Description")) {
        patch_replace(ops, "/description", pstr(r->props, "Description"));
    }
    if (pchanged(r->old_props, r->props, "Schema")) {
        char *schema = doc_str(r->props, "Schema");
        patch_replace(ops, "/schema", schema);
        free(schema);
    }
    snprintf(path, sizeof(path), "/restapis/%s/models/%s", api_of(r), r->physical_id);
    return apigw_patch(r, path, ops);
}

static int apigw_model_delete(struct cfn_res *r)
{
    char path[1200];
    if (!svc_up("apigateway")) {
        return local_put(r, NULL);
    }
    snprintf(path, sizeof(path), "/restapis/%s/models/%s", api_of(r), r->physical_id);
    return apigw_del(r, path);
}

/* AWS::ApiGateway::ApiKey: Ref the key id, GetAtt APIKeyId. */
static int apigw_apikey_create(struct cfn_res *r)
{
    cJSON *b, *out = NULL, *sk;
    const cJSON *it;
    char name[1024];
    pick_name(r, "Name", 1024, 0, name, sizeof(name));
    if (!svc_up("apigateway")) {
        emu_random_alnum(r->physical_id, 10, 1);
        r->physical_id[10] = 0;
        attr_set(r, "APIKeyId", r->physical_id);
        return local_put(r, r->props);
    }
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "name", name);
    copy_prop(b, r->props, "Description", "description");
    copy_prop(b, r->props, "CustomerId", "customerId");
    copy_prop(b, r->props, "Value", "value");
    copy_bool(b, r->props, "Enabled", "enabled");
    copy_bool(b, r->props, "GenerateDistinctId", "generateDistinctId");
    sk = cJSON_AddArrayToObject(b, "stageKeys");
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r->props, "StageKeys"))
    {
        cJSON *s = cJSON_CreateObject();
        copy_prop(s, it, "RestApiId", "restApiId");
        copy_prop(s, it, "StageName", "stageName");
        cJSON_AddItemToArray(sk, s);
    }
    if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(r->props, "Tags"))) {
        cJSON_AddItemToObject(b, "tags",
                              tags_map(cJSON_GetObjectItemCaseSensitive(r->props, "Tags")));
    }
    if (rc_json(r, "apigateway", "POST", "/apikeys", NULL, b, &out) >= 300) {
        return -1;
    }
    snprintf(r->physical_id, sizeof(r->physical_id), "%s", pstr(out, "id") ? pstr(out, "id") : "");
    attr_set(r, "APIKeyId", r->physical_id);
    cJSON_Delete(out);
    return 0;
}

static int apigw_apikey_update(struct cfn_res *r)
{
    static const char *const map[] = {"Description", "/description", "CustomerId", "/customerId",
                                      NULL};
    char path[1200];
    cJSON *ops;
    attr_keep(r);
    if (!svc_up("apigateway")) {
        return local_put(r, r->props);
    }
    ops = patch_changes(r, map);
    if (pchanged(r->old_props, r->props, "Enabled")) {
        char *v = pdup(r->props, "Enabled");
        patch_replace(ops, "/enabled", v ? v : "false");
        free(v);
    }
    snprintf(path, sizeof(path), "/apikeys/%s", r->physical_id);
    return apigw_patch(r, path, ops);
}

static int apigw_apikey_delete(struct cfn_res *r)
{
    char path[1200];
    if (!svc_up("apigateway")) {
        return local_put(r, NULL);
    }
    snprintf(path, sizeof(path), "/apikeys/%s", r->physical_id);
    return apigw_del(r, path);
}

/* AWS::ApiGateway::UsagePlan: Ref the plan id, GetAtt Id. */
static cJSON *usage_stages(const cJSON *props)
{
    cJSON *arr = cJSON_CreateArray();
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(props, "ApiStages"))
    {
        cJSON *s = cJSON_CreateObject();
        copy_prop(s, it, "ApiId", "apiId");
        copy_prop(s, it, "Stage", "stage");
        cJSON_AddItemToArray(arr, s);
    }
    return arr;
}

static int apigw_plan_create(struct cfn_res *r)
{
    cJSON *b, *out = NULL;
    const cJSON *th = cJSON_GetObjectItemCaseSensitive(r->props, "Throttle");
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(r->props, "Quota");
    char name[1024];
    pick_name(r, "UsagePlanName", 1024, 0, name, sizeof(name));
    if (!svc_up("apigateway")) {
        local_id(r, NULL);
        attr_set(r, "Id", r->physical_id);
        return local_put(r, r->props);
    }
    b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "name", name);
    copy_prop(b, r->props, "Description", "description");
    cJSON_AddItemToObject(b, "apiStages", usage_stages(r->props));
    if (cJSON_IsObject(th)) {
        cJSON *t = cJSON_AddObjectToObject(b, "throttle");
        copy_num(t, th, "BurstLimit", "burstLimit");
        copy_num(t, th, "RateLimit", "rateLimit");
    }
    if (cJSON_IsObject(q)) {
        cJSON *t = cJSON_AddObjectToObject(b, "quota");
        copy_num(t, q, "Limit", "limit");
        copy_num(t, q, "Offset", "offset");
        copy_prop(t, q, "Period", "period");
    }
    if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(r->props, "Tags"))) {
        cJSON_AddItemToObject(b, "tags",
                              tags_map(cJSON_GetObjectItemCaseSensitive(r->props, "Tags")));
    }
    if (rc_json(r, "apigateway", "POST", "/usageplans", NULL, b, &out) >= 300) {
        return -1;
    }
    snprintf(r->physical_id, sizeof(r->physical_id), "%s", pstr(out, "id") ? pstr(out, "id") : "");
    attr_set(r, "Id", r->physical_id);
    cJSON_Delete(out);
    return 0;
}

static int stage_listed(const cJSON *list, const cJSON *s)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        if (pstr(it, "apiId") && pstr(s, "apiId") && pstr(it, "stage") && pstr(s, "stage") &&
            strcmp(pstr(it, "apiId"), pstr(s, "apiId")) == 0 &&
            strcmp(pstr(it, "stage"), pstr(s, "stage")) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Name, description and the API stages change in place (greenroom's
 * UpdateUsagePlan has no throttle or quota paths). */
static int apigw_plan_update(struct cfn_res *r)
{
    static const char *const map[] = {"Description", "/description", NULL};
    char path[1200];
    cJSON *ops, *olds, *news;
    const cJSON *it;
    attr_keep(r);
    if (!svc_up("apigateway")) {
        return local_put(r, r->props);
    }
    ops = patch_changes(r, map);
    if (pchanged(r->old_props, r->props, "UsagePlanName") &&
        pstr(r->props, "UsagePlanName") != NULL) {
        patch_replace(ops, "/name", pstr(r->props, "UsagePlanName"));
    }
    olds = usage_stages(r->old_props);
    news = usage_stages(r->props);
    cJSON_ArrayForEach(it, olds)
    {
        if (!stage_listed(news, it)) {
            char v[600];
            cJSON *o = cJSON_CreateObject();
            snprintf(v, sizeof(v), "%s:%s", pstr(it, "apiId") ? pstr(it, "apiId") : "",
                     pstr(it, "stage") ? pstr(it, "stage") : "");
            cJSON_AddStringToObject(o, "op", "remove");
            cJSON_AddStringToObject(o, "path", "/apiStages");
            cJSON_AddStringToObject(o, "value", v);
            cJSON_AddItemToArray(ops, o);
        }
    }
    cJSON_ArrayForEach(it, news)
    {
        if (!stage_listed(olds, it)) {
            char v[600];
            cJSON *o = cJSON_CreateObject();
            snprintf(v, sizeof(v), "%s:%s", pstr(it, "apiId") ? pstr(it, "apiId") : "",
                     pstr(it, "stage") ? pstr(it, "stage") : "");
            cJSON_AddStringToObject(o, "op", "add");
            cJSON_AddStringToObject(o, "path", "/apiStages");
            cJSON_AddStringToObject(o, "value", v);
            cJSON_AddItemToArray(ops, o);
        }
    }
    cJSON_Delete(olds);
    cJSON_Delete(news);
    snprintf(path, sizeof(path), "/usageplans/%s", r->physical_id);
    return apigw_patch(r, path, ops);
}

static int apigw_plan_delete(struct cfn_res *r)
{
    char path[1200];
    if (!svc_up("apigateway")) {
        return local_put(r, NULL);
    }
    snprintf(path, sizeof(path), "/usageplans/%s", r->physical_id);
    return apigw_del(r, path);
}

/* AWS::ApiGateway::UsagePlanKey: Ref (and GetAtt Id) "keyId:usagePlanId";
 * every change replaces. */
static int apigw_plankey_create(struct cfn_res *r)
{
    static const char *const req[] = {"KeyId", "KeyType", "UsagePlanId", NULL};
    cJSON *b;
    char path[1200];
    if (require_props(r, req) < 0) {
        return -1;
    }
    if (svc_up("apigateway")) {
        b = cJSON_CreateObject();
        copy_prop(b, r->props, "KeyId", "keyId");
        copy_prop(b, r->props, "KeyType", "keyType");
        snprintf(path, sizeof(path), "/usageplans/%s/keys", pstr(r->props, "UsagePlanId"));
        if (rc_json(r, "apigateway", "POST", path, NULL, b, NULL) >= 300) {
            return -1;
        }
    }
    snprintf(r->physical_id, sizeof(r->physical_id), "%s:%s", pstr(r->props, "KeyId"),
             pstr(r->props, "UsagePlanId"));
    attr_set(r, "Id", r->physical_id);
    return svc_up("apigateway") ? 0 : local_put(r, r->props);
}

static int apigw_plankey_delete(struct cfn_res *r)
{
    char path[1200];
    const cJSON *p = r->old_props ? r->old_props : r->props;
    if (!svc_up("apigateway")) {
        return local_put(r, NULL);
    }
    snprintf(path, sizeof(path), "/usageplans/%s/keys/%s",
             pstr(p, "UsagePlanId") ? pstr(p, "UsagePlanId") : "",
             pstr(p, "KeyId") ? pstr(p, "KeyId") : "");
    return apigw_del(r, path);
}

/* ---------------------------------------- Lambda: EventInvokeConfig */

static void eic_path(const cJSON *p, char *out, size_t olen)
{
    char name[300], qual[200];
    fn_split(pstr(p, "FunctionName"), name, sizeof(name), qual, sizeof(qual));
    snprintf(out, olen, "/2019-09-25/functions/%s/event-invoke-config?Qualifier=%s", name,
             pstr(p, "Qualifier") ? pstr(p, "Qualifier") : (qual[0] ? qual : "$LATEST"));
}

/* Put (create and in-place update): the whole configuration. */
static int lambda_eic_put(struct cfn_res *r)
{
    static const char *const req[] = {"FunctionName", "Qualifier", NULL};
    cJSON *b;
    const cJSON *dc = cJSON_GetObjectItemCaseSensitive(r->props, "DestinationConfig");
    char path[1200];
    if (require_props(r, req) < 0) {
        return -1;
    }
    if (r->physical_id[0] == 0) {
        char u[40];
        emu_uuid(u);
        snprintf(r->physical_id, sizeof(r->physical_id), "%s", u);
    }
    attr_keep(r);
    if (!svc_up("lambda")) {
        return local_put(r, r->props);
    }
    b = cJSON_CreateObject();
    copy_num(b, r->props, "MaximumRetryAttempts", NULL);
    copy_num(b, r->props, "MaximumEventAgeInSeconds", NULL);
    if (cJSON_IsObject(dc)) {
        cJSON_AddItemToObject(b, "DestinationConfig", cJSON_Duplicate(dc, 1));
    }
    eic_path(r->props, path, sizeof(path));
    if (rc_json(r, "lambda", "PUT", path, NULL, b, NULL) >= 300) {
        if (r->old_props == NULL) {
            r->physical_id[0] = 0;
        }
        return -1;
    }
    return 0;
}

static int lambda_eic_delete(struct cfn_res *r)
{
    char path[1200];
    int st;
    if (!svc_up("lambda")) {
        return local_put(r, NULL);
    }
    eic_path(r->old_props ? r->old_props : r->props, path, sizeof(path));
    st = rc_call(r, "lambda", "DELETE", path, NULL, NULL, NULL, NULL);
    return (st >= 300 && st != 404) ? -1 : 0;
}

/* ---------------------------------------------------------------- table */

static const struct cfn_rtype cfn_rtypes[] = {
    {"AWS::S3::Bucket", "s3", s3_bucket_create, s3_bucket_update, s3_bucket_delete, "BucketName",
     "BucketName", 0},
    {"AWS::S3::BucketPolicy", "s3", s3_policy_put, s3_policy_put, s3_policy_delete, "Bucket", NULL,
     0},
    {"AWS::Lambda::Function", "lambda", lambda_fn_create, lambda_fn_update, lambda_fn_delete,
     "FunctionName", "FunctionName", 0},
    {"AWS::Lambda::Version", "lambda", lambda_version_create, NULL, lambda_version_delete, "*",
     NULL, 0},
    {"AWS::Lambda::Alias", "lambda", lambda_alias_create, lambda_alias_update, lambda_alias_delete,
     "FunctionName,Name", NULL, 0},
    {"AWS::Lambda::Permission", "lambda", lambda_perm_create, NULL, lambda_perm_delete, "*", NULL,
     0},
    {"AWS::Lambda::EventSourceMapping", "lambda", lambda_esm_create, lambda_esm_update,
     lambda_esm_delete, "EventSourceArn,StartingPosition,StartingPositionTimestamp", NULL, 0},
    {"AWS::ApiGateway::RestApi", "apigateway", apigw_api_create, apigw_api_update, apigw_api_delete,
     "", NULL, 0},
    {"AWS::ApiGateway::Resource", "apigateway", apigw_resource_create, NULL, apigw_resource_delete,
     "*", NULL, 0},
    {"AWS::ApiGateway::Method", "apigateway", apigw_method_create, apigw_method_update,
     apigw_method_delete, "RestApiId,ResourceId,HttpMethod", NULL, 0},
    {"AWS::ApiGateway::Deployment", "apigateway", apigw_deployment_create, apigw_deployment_update,
     apigw_deployment_delete, "RestApiId,StageName,StageDescription", NULL, 0},
    {"AWS::ApiGateway::Stage", "apigateway", apigw_stage_create, apigw_stage_update,
     apigw_stage_delete, "RestApiId,StageName", "StageName", 0},
    {"AWS::IAM::Role", "iam", iam_role_create, iam_role_update, iam_role_delete, "RoleName,Path",
     "RoleName", 2},
    {"AWS::IAM::Policy", "iam", iam_policy_create, iam_policy_update, iam_policy_delete, "", NULL,
     1},
    {"AWS::IAM::ManagedPolicy", "iam", iam_mpolicy_create, iam_mpolicy_update, iam_mpolicy_delete,
     "ManagedPolicyName,Path,Description", "ManagedPolicyName", 2},
    {"AWS::SNS::Topic", "sns", sns_topic_create, sns_topic_update, sns_topic_delete,
     "TopicName,FifoTopic", "TopicName", 0},
    {"AWS::SNS::Subscription", "sns", sns_sub_create, sns_sub_update, sns_sub_delete,
     "Endpoint,Protocol,TopicArn", NULL, 0},
    {"AWS::SQS::Queue", "sqs", sqs_queue_create, sqs_queue_update, sqs_queue_delete,
     "QueueName,FifoQueue", "QueueName", 0},
    {"AWS::SQS::QueuePolicy", "sqs", queue_policy_create, queue_policy_update, queue_policy_delete,
     "", NULL, 0},
    {"AWS::SNS::TopicPolicy", "sns", topic_policy_create, topic_policy_update, topic_policy_delete,
     "", NULL, 0},
    {"AWS::Events::Rule", "events", events_rule_create, events_rule_update, events_rule_delete,
     "Name,EventBusName", "Name", 0},
    {"AWS::DynamoDB::Table", NULL, ddb_table_create, local_update, local_delete,
     "TableName,KeySchema", "TableName", 0},
    {"AWS::CloudFormation::WaitConditionHandle", NULL, wait_handle_create, local_update,
     local_delete, "", NULL, 0},
    {"AWS::Logs::LogGroup", NULL, logs_group_create, local_update, local_delete, "LogGroupName",
     "LogGroupName", 0},
    {"AWS::IAM::User", "iam", iam_principal_create, iam_principal_update, iam_principal_delete,
     "UserName", "UserName", 2},
    {"AWS::IAM::Group", "iam", iam_principal_create, iam_principal_update, iam_principal_delete,
     "GroupName", "GroupName", 2},
    {"AWS::IAM::RolePolicy", "iam", iam_inline_put, iam_inline_put, iam_inline_delete,
     "PolicyName,RoleName", NULL, 1},
    {"AWS::IAM::UserPolicy", "iam", iam_inline_put, iam_inline_put, iam_inline_delete,
     "PolicyName,UserName", NULL, 1},
    {"AWS::IAM::GroupPolicy", "iam", iam_inline_put, iam_inline_put, iam_inline_delete,
     "PolicyName,GroupName", NULL, 1},
    {"AWS::ApiGateway::Authorizer", "apigateway", apigw_authorizer_create, apigw_authorizer_update,
     apigw_authorizer_delete, "RestApiId", NULL, 0},
    {"AWS::ApiGateway::Model", "apigateway", apigw_model_create, apigw_model_update,
     apigw_model_delete, "ContentType,Name,RestApiId", "Name", 0},
    {"AWS::ApiGateway::ApiKey", "apigateway", apigw_apikey_create, apigw_apikey_update,
     apigw_apikey_delete, "Name,Value,GenerateDistinctId", "Name", 0},
    {"AWS::ApiGateway::UsagePlan", "apigateway", apigw_plan_create, apigw_plan_update,
     apigw_plan_delete, "", "UsagePlanName", 0},
    {"AWS::ApiGateway::UsagePlanKey", "apigateway", apigw_plankey_create, NULL,
     apigw_plankey_delete, "*", NULL, 0},
    {"AWS::IoT::TopicRule", "iot", iot_rule_create, iot_rule_update, iot_rule_delete, "RuleName",
     "RuleName", 0},
    {"AWS::Lambda::EventInvokeConfig", "lambda", lambda_eic_put, lambda_eic_put, lambda_eic_delete,
     "FunctionName,Qualifier", NULL, 0},
};

const struct cfn_rtype *cfn_rtype_find(const char *type)
{
    size_t i;
    if (type == NULL) {
        return NULL;
    }
    for (i = 0; i < sizeof(cfn_rtypes) / sizeof(cfn_rtypes[0]); i++) {
        if (strcmp(cfn_rtypes[i].type, type) == 0) {
            return &cfn_rtypes[i];
        }
    }
    return cfn_recorded_find(type);
}

int cfn_rtype_replaces(const struct cfn_rtype *t, const cJSON *old_props, const cJSON *new_props)
{
    const char *p;
    if (t->update == NULL || strcmp(t->replace, "*") == 0) {
        return 1;
    }
    p = t->replace;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char name[128];
        if (n > 0 && n < sizeof(name)) {
            memcpy(name, p, n);
            name[n] = 0;
            if (pchanged(old_props, new_props, name)) {
                return 1;
            }
        }
        if (comma == NULL) {
            break;
        }
        p = comma + 1;
    }
    return 0;
}
