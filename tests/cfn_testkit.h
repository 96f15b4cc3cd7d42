/*
 * cfn_testkit.h - what the CloudFormation suites (test_cloudformation.c,
 * test_cfn_types.c) share: the greenroom they run against (srv, a fresh one
 * per tcase through setup/teardown), templates from fixtures/cloudformation,
 * signed query calls (CFN, IAM, SNS) and unsigned-body REST calls that
 * return the status and the body, the first text of an XML tag, and a
 * stack's status, the wait for it to settle and its outputs.
 *
 * Header-only, like testkit.h: tests/meson.build links each test_*.c with
 * the harness alone, so every helper is static (unused ones are fine).
 * Bodies and strings returned are the caller's to free.
 */
#ifndef CFN_TESTKIT_H
#define CFN_TESTKIT_H

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define CFK_FN static __attribute__((unused))

static struct gr_server srv; /* the tcase's greenroom */

CFK_FN void setup(void)
{
    gr_set_credentials("test", "test", "us-east-1");
    ck_assert_int_eq(gr_start(&srv, NULL), 0);
}

CFK_FN void teardown(void)
{
    gr_stop(&srv);
}

/* The text of fixtures/cloudformation/<name> (caller frees); fails the
 * test when it cannot be read. */
CFK_FN char *fixture(const char *name)
{
    char path[1024];
    const char *dir = getenv("FIXTURES_DIR");
    char *s;
    snprintf(path, sizeof(path), "%s/cloudformation/%s", dir ? dir : "fixtures", name);
    s = gr_read_file(path, NULL);
    ck_assert_msg(s != NULL, "cannot read %s", path);
    return s;
}

/* Appends s to the growing string *buf (length *len, capacity *cap),
 * percent-encoding all but the unreserved characters when encode is set. */
CFK_FN void cfk_append(char **buf, size_t *len, size_t *cap, const char *s, int encode)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (*len + 4 > *cap) {
            *cap = *cap * 2 + 64;
            *buf = realloc(*buf, *cap);
        }
        if (!encode || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            (*buf)[(*len)++] = (char)c;
        } else {
            (*buf)[(*len)++] = '%';
            (*buf)[(*len)++] = hex[c >> 4];
            (*buf)[(*len)++] = hex[c & 15];
        }
    }
    (*buf)[*len] = 0;
}

/* A query-protocol call: service, Version, Action, then key/value pairs
 * ending with NULL. Returns the status; *out (when not NULL) gets the body
 * (caller frees). */
CFK_FN long query(const char *service, const char *version, char **out, const char *action, ...)
{
    static const char *const hdr[] = {
        "Content-Type: application/x-www-form-urlencoded; charset=utf-8", NULL};
    char *buf = malloc(64);
    size_t len = 0, cap = 64;
    va_list ap;
    const char *k;
    struct gr_resp r;
    long status;
    buf[0] = 0;
    cfk_append(&buf, &len, &cap, "Action=", 0);
    cfk_append(&buf, &len, &cap, action, 1);
    cfk_append(&buf, &len, &cap, "&Version=", 0);
    cfk_append(&buf, &len, &cap, version, 1);
    va_start(ap, action);
    while ((k = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        cfk_append(&buf, &len, &cap, "&", 0);
        cfk_append(&buf, &len, &cap, k, 1);
        cfk_append(&buf, &len, &cap, "=", 0);
        cfk_append(&buf, &len, &cap, v, 1);
    }
    va_end(ap);
    ck_assert_int_eq(gr_request(&srv, service, "POST", "/", hdr, buf, len, &r), 0);
    free(buf);
    status = r.status;
    if (out != NULL) {
        *out = strdup(r.body ? r.body : "");
    }
    gr_resp_free(&r);
    return status;
}

#define CFN(out, action, ...) query("cloudformation", "2010-05-15", out, action, __VA_ARGS__)
#define IAM(out, action, ...) query("iam", "2010-05-08", out, action, __VA_ARGS__)
#define SNS(out, action, ...) query("sns", "2010-03-31", out, action, __VA_ARGS__)

/* A bodiless REST call (Accept: application/json). Returns the status;
 * *out (when not NULL) gets the body (caller frees). */
CFK_FN long rest(const char *service, const char *method, const char *path, char **out)
{
    static const char *const hdr[] = {"Accept: application/json", NULL};
    struct gr_resp r;
    long status;
    ck_assert_int_eq(gr_request(&srv, service, method, path, hdr, NULL, 0, &r), 0);
    status = r.status;
    if (out != NULL) {
        *out = strdup(r.body ? r.body : "");
    }
    gr_resp_free(&r);
    return status;
}

/* First text of <tag> in xml (NULL: none, or xml is NULL); caller frees. */
CFK_FN char *xml_get(const char *xml, const char *tag)
{
    char open[128], close[128];
    const char *s, *e;
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    s = xml ? strstr(xml, open) : NULL;
    if (s == NULL) {
        return NULL;
    }
    s += strlen(open);
    e = strstr(s, close);
    return e ? strndup(s, (size_t)(e - s)) : NULL;
}

/* The stack's StackStatus ("" when DescribeStacks has none); caller frees. */
CFK_FN char *stack_status(const char *stack)
{
    char *body = NULL, *st;
    CFN(&body, "DescribeStacks", "StackName", stack, NULL);
    st = xml_get(body, "StackStatus");
    free(body);
    return st ? st : strdup("");
}

/* Polls until the stack leaves *_IN_PROGRESS (REVIEW_IN_PROGRESS excepted)
 * and returns that status, "TIMEOUT" after 4000 polls; caller frees. */
CFK_FN char *wait_stack(const char *stack)
{
    int i;
    for (i = 0; i < 4000; i++) {
        char *st = stack_status(stack);
        size_t n = strlen(st);
        if (n < 12 || strcmp(st + n - 12, "_IN_PROGRESS") != 0 ||
            strcmp(st, "REVIEW_IN_PROGRESS") == 0) {
            return st;
        }
        free(st);
        usleep(2000);
    }
    return strdup("TIMEOUT");
}

/* Waits for the stack to settle and asserts its status is want; on a
 * mismatch the failure names the reasons of its FAILED events. */
CFK_FN void expect_status(const char *stack, const char *want)
{
    char *st = wait_stack(stack);
    if (strcmp(st, want) != 0) {
        char *ev = NULL, reasons[2048];
        const char *p;
        size_t n = 0;
        CFN(&ev, "DescribeStackEvents", "StackName", stack, NULL);
        reasons[0] = 0;
        for (p = ev; (p = strstr(p, "FAILED</ResourceStatus>")) != NULL; p++) {
            char *r = xml_get(p, "ResourceStatusReason");
            if (r != NULL && n < sizeof(reasons)) {
                n += (size_t)snprintf(reasons + n, sizeof(reasons) - n, "[%s] ", r);
            }
            free(r);
        }
        free(ev);
        ck_abort_msg("stack %s is %s, expected %s; failures: %s", stack, st, want, reasons);
    }
    free(st);
}

/* The stack's output `key` (caller frees); fails the test when absent. */
CFK_FN char *output(const char *stack, const char *key)
{
    char *body = NULL, needle[256], *out = NULL;
    const char *p;
    CFN(&body, "DescribeStacks", "StackName", stack, NULL);
    snprintf(needle, sizeof(needle), "<OutputKey>%s</OutputKey>", key);
    p = strstr(body, needle);
    if (p != NULL) {
        out = xml_get(p, "OutputValue");
    }
    free(body);
    ck_assert_msg(out != NULL, "no output %s on %s", key, stack);
    return out;
}

#endif
