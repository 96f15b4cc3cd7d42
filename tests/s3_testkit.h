/*
 * s3_testkit.h - what the S3 suites (test_s3.c, test_s3_multipart.c)
 * share: the greenroom they run against (srv, a fresh one per tcase through
 * setup/teardown), a signed S3 request that asserts an answer came, and a
 * response header's value.
 *
 * Header-only, like testkit.h: tests/meson.build links each test_*.c with
 * the harness alone, so every helper is static (unused ones are fine).
 * Responses filled in are the caller's to free.
 */
#ifndef S3_TESTKIT_H
#define S3_TESTKIT_H

#include <check.h>
#include <string.h>

#include "harness.h"

#define S3K_FN static __attribute__((unused))

static struct gr_server srv; /* the tcase's greenroom */

S3K_FN void setup(void)
{
    gr_set_credentials("test", "test", "us-east-1");
    ck_assert_int_eq(gr_start(&srv, NULL), 0);
}

S3K_FN void teardown(void)
{
    gr_stop(&srv);
}

/* Sends a signed S3 request; asserts an answer arrived; returns the status. */
S3K_FN long s3(const char *method, const char *path, const char *const *hdrs, const char *body,
               size_t len, struct gr_resp *r)
{
    ck_assert_int_eq(gr_request(&srv, "s3", method, path, hdrs, body, len, r), 0);
    return r->status;
}

/* Same, freeing the response; returns the status. */
S3K_FN long s3_status(const char *method, const char *path, const char *const *hdrs,
                      const char *body)
{
    struct gr_resp r;
    long st = s3(method, path, hdrs, body, body ? strlen(body) : 0, &r);
    gr_resp_free(&r);
    return st;
}

/* Response header value into a static buffer ("" when absent). */
S3K_FN const char *hdr(const struct gr_resp *r, const char *name)
{
    static char buf[1024];
    if (gr_resp_header(r, name, buf, sizeof(buf)) == NULL) {
        buf[0] = 0;
    }
    return buf;
}

#endif
