/*
 * test_s3_versions.c - ListObjectVersions paging against a real greenroom on
 * port 0: many versions (one key with a long history, delete markers) read
 * back a few at a time through KeyMarker / VersionIdMarker must give every
 * version exactly once, in order (key ascending, newest version first), with
 * IsLatest on the newest only; prefix + delimiter paging gives each common
 * prefix once.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct gr_server srv;

static void setup(void)
{
    gr_set_credentials("test", "test", "us-east-1");
    ck_assert_int_eq(gr_start(&srv, NULL), 0);
}

static void teardown(void)
{
    gr_stop(&srv);
}

static long s3(const char *method, const char *path, const char *body, struct gr_resp *r)
{
    ck_assert_int_eq(
        gr_request(&srv, "s3", method, path, NULL, body, body != NULL ? strlen(body) : 0, r), 0);
    return r->status;
}

/* One version as the test wrote it or as a listing returned it. */
struct ver {
    char key[32];
    char id[64];
    int latest;
    int marker; /* a delete marker */
};

/* Text of <tag>...</tag> at or after p into out ("" if none before end). */
static const char *elem(const char *p, const char *end, const char *tag, char *out, size_t len)
{
    char open[48], close[48];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    out[0] = 0;
    const char *a = strstr(p, open);
    if (a == NULL || (end != NULL && a > end)) {
        return NULL;
    }
    a += strlen(open);
    const char *z = strstr(a, close);
    ck_assert_ptr_nonnull(z);
    snprintf(out, len, "%.*s", (int)(z - a), a);
    return z;
}

/* Appends the page's versions and delete markers (document order) to v. */
static void parse_page(const char *body, struct ver *v, int *n, int cap)
{
    const char *p = body;
    for (;;) {
        const char *a = strstr(p, "<Version>");
        const char *b = strstr(p, "<DeleteMarker>");
        const char *s = a == NULL ? b : (b == NULL || a < b ? a : b);
        if (s == NULL) {
            return;
        }
        int dm = s == b;
        const char *e = strstr(s, dm ? "</DeleteMarker>" : "</Version>");
        ck_assert_ptr_nonnull(e);
        ck_assert_int_lt(*n, cap);
        struct ver *x = &v[(*n)++];
        char latest[16];
        elem(s, e, "Key", x->key, sizeof(x->key));
        elem(s, e, "VersionId", x->id, sizeof(x->id));
        elem(s, e, "IsLatest", latest, sizeof(latest));
        x->latest = strcmp(latest, "true") == 0;
        x->marker = dm;
        p = e;
    }
}

#define NKEYS 12
#define LONG_HISTORY 40
#define CAP 400

START_TEST(test_list_object_versions_paging)
{
    struct gr_resp r;
    ck_assert_int_eq(s3("PUT", "/pv-bkt", NULL, &r), 200);
    gr_resp_free(&r);
    ck_assert_int_eq(
        s3("PUT", "/pv-bkt?versioning=",
           "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>", &r),
        200);
    gr_resp_free(&r);
    /* written[k]: versions of key k oldest first */
    static struct ver written[NKEYS][LONG_HISTORY + 2];
    int nwritten[NKEYS] = {0};
    int total = 0;
    /* interleave writes across keys so row ids are not grouped by key */
    for (int round = 0; round < LONG_HISTORY + 1; round++) {
        for (int k = 0; k < NKEYS; k++) {
            int want = k == 5 ? LONG_HISTORY : 1 + k % 4;
            if (round >= want + (k % 3 == 0)) {
                continue;
            }
            char path[64], key[32];
            snprintf(key, sizeof(key), "k%02d", k);
            snprintf(path, sizeof(path), "/pv-bkt/%s", key);
            int del = round == want; /* one extra round: a delete marker */
            long st = s3(del ? "DELETE" : "PUT", path, del ? NULL : "data", &r);
            ck_assert_int_eq(st, del ? 204 : 200);
            struct ver *x = &written[k][nwritten[k]++];
            snprintf(x->key, sizeof(x->key), "%s", key);
            ck_assert_ptr_nonnull(gr_resp_header(&r, "x-amz-version-id", x->id, sizeof(x->id)));
            x->marker = del;
            gr_resp_free(&r);
            total++;
        }
    }
    /* the expected order: key ascending, newest first */
    static struct ver want[CAP];
    int nwant = 0;
    for (int k = 0; k < NKEYS; k++) {
        for (int i = nwritten[k] - 1; i >= 0; i--) {
            want[nwant] = written[k][i];
            want[nwant].latest = i == nwritten[k] - 1;
            nwant++;
        }
    }
    ck_assert_int_eq(nwant, total);
    /* page through with small pages of several sizes */
    const int sizes[] = {1, 3, 7, 1000};
    for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
        static struct ver got[CAP];
        int ngot = 0, pages = 0;
        char km[64] = "", vm[80] = "";
        for (;;) {
            char path[256];
            /* query parameters in canonical (sorted) order for curl's SigV4 */
            snprintf(path, sizeof(path),
                     "/pv-bkt?%s%s%smax-keys=%d%s%s&versions=", km[0] ? "key-marker=" : "", km,
                     km[0] ? "&" : "", sizes[si], vm[0] ? "&version-id-marker=" : "", vm);
            ck_assert_int_eq(s3("GET", path, NULL, &r), 200);
            int before = ngot;
            parse_page(r.body, got, &ngot, CAP);
            ck_assert_int_le(ngot - before, sizes[si]);
            char trunc[16];
            elem(r.body, NULL, "IsTruncated", trunc, sizeof(trunc));
            pages++;
            ck_assert_int_lt(pages, CAP + 2);
            if (strcmp(trunc, "true") != 0) {
                gr_resp_free(&r);
                break;
            }
            ck_assert_int_eq(ngot - before, sizes[si]);
            elem(r.body, NULL, "NextKeyMarker", km, sizeof(km));
            elem(r.body, NULL, "NextVersionIdMarker", vm, sizeof(vm));
            /* the markers name the page's last version */
            ck_assert_str_eq(km, got[ngot - 1].key);
            ck_assert_str_eq(vm, got[ngot - 1].id);
            gr_resp_free(&r);
        }
        ck_assert_int_eq(ngot, nwant);
        for (int i = 0; i < nwant; i++) {
            ck_assert_msg(strcmp(got[i].key, want[i].key) == 0 &&
                              strcmp(got[i].id, want[i].id) == 0,
                          "page size %d, item %d: got %s/%s want %s/%s", sizes[si], i, got[i].key,
                          got[i].id, want[i].key, want[i].id);
            ck_assert_int_eq(got[i].latest, want[i].latest);
            ck_assert_int_eq(got[i].marker, want[i].marker);
        }
    }
    /* a key marker alone starts after every version of that key */
    ck_assert_int_eq(s3("GET", "/pv-bkt?key-marker=k05&max-keys=1&versions=", NULL, &r), 200);
    static struct ver one[4];
    int none = 0;
    parse_page(r.body, one, &none, 4);
    ck_assert_int_eq(none, 1);
    ck_assert_str_eq(one[0].key, "k06");
    gr_resp_free(&r);
    /* an unknown version marker: nothing more of that key */
    ck_assert_int_eq(
        s3("GET", "/pv-bkt?key-marker=k05&max-keys=1&version-id-marker=nosuch&versions=", NULL, &r),
        200);
    none = 0;
    parse_page(r.body, one, &none, 4);
    ck_assert_int_eq(none, 1);
    ck_assert_str_eq(one[0].key, "k06");
    gr_resp_free(&r);
    /* a prefix that sorts after the key marker wins */
    ck_assert_int_eq(s3("GET", "/pv-bkt?key-marker=k01&max-keys=1&prefix=k1&versions=", NULL, &r),
                     200);
    none = 0;
    parse_page(r.body, one, &none, 4);
    ck_assert_int_eq(none, 1);
    ck_assert_str_eq(one[0].key, "k10");
    gr_resp_free(&r);
}
END_TEST

START_TEST(test_list_object_versions_delimiter)
{
    struct gr_resp r;
    ck_assert_int_eq(s3("PUT", "/pd-bkt", NULL, &r), 200);
    gr_resp_free(&r);
    ck_assert_int_eq(
        s3("PUT", "/pd-bkt?versioning=",
           "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>", &r),
        200);
    gr_resp_free(&r);
    const char *keys[] = {"a/1", "a/2", "a/3", "b", "c/x/1", "c/y", "d", "e/1"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char path[64];
        snprintf(path, sizeof(path), "/pd-bkt/%s", keys[i]);
        for (int j = 0; j < 2; j++) {
            ck_assert_int_eq(s3("PUT", path, "v", &r), 200);
            gr_resp_free(&r);
        }
    }
    /* one entry a page: a/, b (2 versions), c/, d (2), e/ */
    const char *want[] = {"P:a/", "V:b", "V:b", "P:c/", "V:d", "V:d", "P:e/"};
    size_t n = 0;
    char km[64] = "", vm[80] = "";
    for (int pages = 0;; pages++) {
        ck_assert_int_lt(pages, 20);
        char path[256];
        char ekm[192] = "";
        for (size_t i = 0, o = 0; km[i] != 0 && o + 4 < sizeof(ekm); i++) {
            o += (size_t)snprintf(ekm + o, sizeof(ekm) - o, km[i] == '/' ? "%%2F" : "%c", km[i]);
        }
        snprintf(path, sizeof(path),
                 "/pd-bkt?delimiter=%%2F%s%s&max-keys=1%s%s&versions=", km[0] ? "&key-marker=" : "",
                 ekm, vm[0] ? "&version-id-marker=" : "", vm);
        ck_assert_int_eq(s3("GET", path, NULL, &r), 200);
        char item[80], trunc[16];
        const char *cp = strstr(r.body, "<CommonPrefixes>");
        if (cp != NULL) {
            elem(cp, NULL, "Prefix", item + 2, sizeof(item) - 2);
            item[0] = 'P';
        } else {
            ck_assert_ptr_nonnull(elem(r.body, NULL, "Key", item + 2, sizeof(item) - 2));
            item[0] = 'V';
        }
        item[1] = ':';
        ck_assert_uint_lt(n, sizeof(want) / sizeof(want[0]));
        ck_assert_str_eq(item, want[n]);
        n++;
        elem(r.body, NULL, "IsTruncated", trunc, sizeof(trunc));
        if (strcmp(trunc, "true") != 0) {
            gr_resp_free(&r);
            break;
        }
        elem(r.body, NULL, "NextKeyMarker", km, sizeof(km));
        elem(r.body, NULL, "NextVersionIdMarker", vm, sizeof(vm));
        gr_resp_free(&r);
    }
    ck_assert_uint_eq(n, sizeof(want) / sizeof(want[0]));
    /* prefix c/ with the delimiter: c/x/ is a common prefix, c/y versions */
    ck_assert_int_eq(s3("GET", "/pd-bkt?delimiter=%2F&prefix=c%2F&versions=", NULL, &r), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "<Prefix>c/x/</Prefix>"));
    ck_assert_ptr_nonnull(strstr(r.body, "<Key>c/y</Key>"));
    ck_assert_ptr_null(strstr(r.body, "<Key>c/x/1</Key>"));
    ck_assert_ptr_null(strstr(r.body, "<Key>d</Key>"));
    gr_resp_free(&r);
    /* the members after the markers, in AWS's order, then items, prefixes */
    ck_assert_int_eq(
        s3("GET", "/pd-bkt?delimiter=%2F&encoding-type=url&prefix=c%2F&versions=", NULL, &r), 200);
    ck_assert_msg(strstr(r.body, "<MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><IsTruncated>"
                                 "false</IsTruncated><EncodingType>url</EncodingType><Version><Key>"
                                 "c/y</Key>") != NULL,
                  "%s", r.body);
    ck_assert_msg(strstr(r.body, "<CommonPrefixes><Prefix>c/x/</Prefix></CommonPrefixes>"
                                 "</ListVersionsResult>") != NULL,
                  "%s", r.body);
    gr_resp_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("s3_versions");
    TCase *tc = tcase_create("ListObjectVersions");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_list_object_versions_paging);
    tcase_add_test(tc, test_list_object_versions_delimiter);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
