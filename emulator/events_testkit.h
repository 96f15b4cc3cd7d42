/*
 * events_testkit.h - test-only helpers shared by tests/test_sns.c,
 * tests/test_sqs.c and tests/test_events.c (never compiled into greenroom):
 * signed query/JSON calls, a recording Lambda function built from
 * fixtures/events/recorder.js (it appends each event it receives to a
 * file), permissions, and polling files and the journal.
 *
 * Everything here is static: each test binary gets its own copy.
 */
#ifndef EVENTS_TESTKIT_H
#define EVENTS_TESTKIT_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "harness.h"

/* Every helper is static and may go unused in a given test binary. */
#define TK_FN static __attribute__((unused))

static const char *const tk_form_hdr[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
static const char *const tk_json_hdr[] = {"Content-Type: application/json", NULL};

/* Percent-encodes s into out (truncates quietly). Returns out. */
TK_FN char *tk_enc(char *out, size_t n, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && o + 4 < n; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = 0;
    return out;
}

/* A query-protocol call (form body). Returns the HTTP status, or -1 when
 * no answer came (r then empty); r holds the answer (caller frees with
 * gr_resp_free). */
TK_FN long tk_query(struct gr_server *s, const char *service, const char *body, struct gr_resp *r)
{
    if (gr_request(s, service, "POST", "/", tk_form_hdr, body, strlen(body), r) != 0) {
        gr_resp_free(r);
        return -1;
    }
    return r->status;
}

/* A JSON-protocol call with X-Amz-Target. */
TK_FN long tk_target(struct gr_server *s, const char *service, const char *target,
                     const char *ctype, const char *body, struct gr_resp *r)
{
    char th[160];
    char ch[96];
    snprintf(th, sizeof(th), "X-Amz-Target: %s", target);
    snprintf(ch, sizeof(ch), "Content-Type: %s", ctype);
    const char *hdrs[] = {th, ch, NULL};
    if (gr_request(s, service, "POST", "/", hdrs, body, strlen(body), r) != 0) {
        memset(r, 0, sizeof(*r));
        return -1;
    }
    return r->status;
}

/* A Lambda REST call with a printf-formatted JSON body (NULL: none).
 * Returns the status; the answer is discarded. */
TK_FN long tk_lambda(struct gr_server *s, const char *method, const char *path, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));
TK_FN long tk_lambda(struct gr_server *s, const char *method, const char *path, const char *fmt,
                     ...)
{
    char *body = NULL;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&body, fmt, ap) < 0) {
            body = NULL;
        }
        va_end(ap);
    }
    struct gr_resp r;
    long st = -1;
    if (gr_request(s, "lambda", method, path, tk_json_hdr, body, body ? strlen(body) : 0, &r) ==
        0) {
        st = r.status;
        if (st >= 300) {
            fprintf(stderr, "tk_lambda %s %s -> %ld %s\n", method, path, st, r.body);
        }
        gr_resp_free(&r);
    }
    free(body);
    return st;
}

/* Creates function `name` from fixtures/events/recorder.js writing to
 * out_file, with extra environment JSON members env_extra (e.g.
 * ",\"FAIL\":\"1\"" or ""), publishes version 1 and points alias "dev" at
 * it. Returns 0 or -1. */
TK_FN int tk_make_function(struct gr_server *s, const char *name, const char *out_file,
                           const char *env_extra)
{
    struct gr_resp r;
    tk_query(s, "iam",
             "Action=CreateRole&Version=2010-05-08&RoleName=lambda-role&"
             "AssumeRolePolicyDocument=%7B%22Version%22%3A%222012-10-17%22%2C%22"
             "Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B"
             "%22Service%22%3A%22lambda.amazonaws.com%22%7D%2C%22Action%22%3A%22sts"
             "%3AAssumeRole%22%7D%5D%7D",
             &r);
    gr_resp_free(&r);
    char *b64 = NULL;
    int rc =
        gr_sh(s,
              "python3 -c 'import zipfile,io,base64,sys; b=io.BytesIO(); "
              "z=zipfile.ZipFile(b,\"w\"); z.writestr(\"index.js\", open(sys.argv[1]).read()); "
              "z.close(); print(base64.b64encode(b.getvalue()).decode())' "
              "\"$FIXTURES_DIR/events/recorder.js\"",
              &b64);
    if (rc != 0 || b64 == NULL || strlen(b64) < 10) {
        free(b64);
        return -1;
    }
    b64[strcspn(b64, "\n")] = 0;
    long st = tk_lambda(s, "POST", "/2015-03-31/functions",
                        "{\"FunctionName\":\"%s\",\"Runtime\":\"nodejs20.x\",\"Role\":"
                        "\"arn:aws:iam::000000000000:role/lambda-role\",\"Handler\":"
                        "\"index.handler\",\"Timeout\":10,\"Code\":{\"ZipFile\":\"%s\"},"
                        "\"Environment\":{\"Variables\":{\"OUT_FILE\":\"%s\"%s}},"
                        "\"Publish\":true}",
                        name, b64, out_file, env_extra ? env_extra : "");
    free(b64);
    if (st != 201) {
        return -1;
    }
    char path[256];
    snprintf(path, sizeof(path), "/2015-03-31/functions/%s/aliases", name);
    st = tk_lambda(s, "POST", path, "{\"Name\":\"dev\",\"FunctionVersion\":\"1\"}");
    return st == 201 ? 0 : -1;
}

/* AddPermission on name:qualifier for principal (source_arn may be NULL).
 * Returns the status. */
TK_FN long tk_permit(struct gr_server *s, const char *name, const char *qualifier,
                     const char *principal, const char *source_arn)
{
    char path[256];
    char sa[600] = "";
    static int n;
    snprintf(path, sizeof(path), "/2015-03-31/functions/%s/policy%s%s", name,
             qualifier ? "?Qualifier=" : "", qualifier ? qualifier : "");
    if (source_arn) {
        snprintf(sa, sizeof(sa), ",\"SourceArn\":\"%s\"", source_arn);
    }
    return tk_lambda(s, "POST", path,
                     "{\"StatementId\":\"tk%d\",\"Action\":\"lambda:InvokeFunction\","
                     "\"Principal\":\"%s\"%s}",
                     ++n, principal, sa);
}

/* Waits up to `seconds` for path to contain needle (and at least min_lines
 * lines). Returns the content (caller frees) or NULL. */
TK_FN char *tk_wait_file(const char *path, const char *needle, int min_lines, double seconds)
{
    struct timespec ts = {0, 50 * 1000 * 1000};
    for (int i = 0; i < (int)(seconds * 20); i++) {
        size_t len = 0;
        char *c = gr_read_file(path, &len);
        if (c) {
            int lines = 0;
            for (size_t k = 0; k < len; k++) {
                lines += c[k] == '\n';
            }
            if ((needle == NULL || strstr(c, needle)) && lines >= min_lines) {
                return c;
            }
            free(c);
        }
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* Counts journal entries for service/operation (status 0: any; code NULL:
 * any). */
TK_FN int tk_journal_count(struct gr_server *s, const char *service, const char *operation,
                           long status, const char *code)
{
    struct gr_resp r;
    if (gr_request_unsigned(s, "GET", "/_greenroom/calls?since=0", NULL, NULL, 0, &r) != 0) {
        return -1;
    }
    cJSON *j = gr_resp_json(&r);
    gr_resp_free(&r);
    int n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "calls"))
    {
        const cJSON *sv = cJSON_GetObjectItemCaseSensitive(c, "service");
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(c, "operation");
        const cJSON *stc = cJSON_GetObjectItemCaseSensitive(c, "status");
        const cJSON *err = cJSON_GetObjectItemCaseSensitive(c, "error");
        if (!cJSON_IsString(sv) || strcmp(sv->valuestring, service) != 0 || !cJSON_IsString(op) ||
            strcmp(op->valuestring, operation) != 0) {
            continue;
        }
        if (status && (!cJSON_IsNumber(stc) || (long)stc->valuedouble != status)) {
            continue;
        }
        if (code && (!cJSON_IsString(err) || strcmp(err->valuestring, code) != 0)) {
            continue;
        }
        n++;
    }
    cJSON_Delete(j);
    return n;
}

/* Waits up to `seconds` for at least `want` journal entries. Returns the
 * count seen last. */
TK_FN int tk_wait_journal(struct gr_server *s, const char *service, const char *operation,
                          long status, const char *code, int want, double seconds)
{
    struct timespec ts = {0, 100 * 1000 * 1000};
    int n = 0;
    for (int i = 0; i < (int)(seconds * 10); i++) {
        n = tk_journal_count(s, service, operation, status, code);
        if (n >= want) {
            break;
        }
        nanosleep(&ts, NULL);
    }
    return n;
}

/* A fresh temp dir for output files (never removed: small, under /tmp). */
TK_FN void tk_tmpdir(char *out, size_t n)
{
    snprintf(out, n, "%s/gr-events-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(out) == NULL) {
        snprintf(out, n, "/tmp");
    }
}

/* The text of the first <tag>...</tag> in xml, copied into out. */
TK_FN const char *tk_xml(const char *xml, const char *tag, char *out, size_t n)
{
    char open[96];
    char close[96];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    out[0] = 0;
    const char *a = xml ? strstr(xml, open) : NULL;
    if (a == NULL) {
        return NULL;
    }
    a += strlen(open);
    const char *b = strstr(a, close);
    if (b == NULL) {
        return NULL;
    }
    snprintf(out, n, "%.*s", (int)(b - a), a);
    return out;
}

#endif
