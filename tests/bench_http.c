/*
 * bench_http.c - a small load generator for ci/bench: N requests (or a
 * duration) over C concurrent keep-alive connections with libcurl's multi
 * interface, optionally signed with SigV4 (CURLOPT_AWS_SIGV4). Prints one
 * JSON line: requests, errors, seconds, rps, p50/p90/p99/max latency (ms).
 *
 *   bench_http --url URL [--method PUT] [--sign s3] [--body-size 1024]
 *              [--requests N | --seconds S] [--concurrency C] [--header H]
 *              [--unique-keys]   (append -<n> to the URL path per request)
 *
 * Timing lives here and in ci/bench, never in pass/fail tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

struct slot {
    CURL *easy;
    double start;
    char url[2048];
    struct curl_slist *hdrs;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return sz * n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *url = NULL, *method = "GET", *sign = NULL, *region = "us-east-1";
    long requests = 0, conc = 1, body_size = -1;
    double seconds = 0;
    int unique = 0;
    const char *headers[16];
    int nh = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--url") == 0 && v) {
            url = v, i++;
        } else if (strcmp(a, "--method") == 0 && v) {
            method = v, i++;
        } else if (strcmp(a, "--sign") == 0 && v) {
            sign = v, i++;
        } else if (strcmp(a, "--region") == 0 && v) {
            region = v, i++;
        } else if (strcmp(a, "--requests") == 0 && v) {
            requests = strtol(v, NULL, 10), i++;
        } else if (strcmp(a, "--seconds") == 0 && v) {
            seconds = strtod(v, NULL), i++;
        } else if (strcmp(a, "--concurrency") == 0 && v) {
            conc = strtol(v, NULL, 10), i++;
        } else if (strcmp(a, "--body-size") == 0 && v) {
            body_size = strtol(v, NULL, 10), i++;
        } else if (strcmp(a, "--header") == 0 && v && nh < 15) {
            headers[nh++] = v, i++;
        } else if (strcmp(a, "--unique-keys") == 0) {
            unique = 1;
        } else {
            fprintf(stderr, "bench_http: unknown argument %s\n", a);
            return 2;
        }
    }
    if (url == NULL || conc < 1 || (requests <= 0 && seconds <= 0)) {
        fprintf(stderr, "usage: bench_http --url URL [--requests N|--seconds S] ...\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_ALL);
    char *body = NULL;
    if (body_size >= 0) {
        body = malloc((size_t)body_size + 1);
        memset(body, 'x', (size_t)body_size);
    }
    size_t cap = requests > 0 ? (size_t)requests : 1u << 20;
    double *lat = malloc(cap * sizeof(double));
    size_t nlat = 0;
    long errors = 0, started = 0, done = 0;
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, conc);
    struct slot *slots = calloc((size_t)conc, sizeof(*slots));
    double t0 = now();
    double deadline = seconds > 0 ? t0 + seconds : 0;
    for (long i = 0; i < conc; i++) {
        struct slot *s = &slots[i];
        s->easy = curl_easy_init();
        curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
        curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(s->easy, CURLOPT_CUSTOMREQUEST, method);
        if (strcmp(method, "HEAD") == 0) {
            curl_easy_setopt(s->easy, CURLOPT_NOBODY, 1L);
        }
        if (body) {
            curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, body);
            curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_size);
        }
        s->hdrs = curl_slist_append(NULL, "Expect:");
        for (int h = 0; h < nh; h++) {
            s->hdrs = curl_slist_append(s->hdrs, headers[h]);
        }
        curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->hdrs);
        if (sign) {
            char prov[128];
            snprintf(prov, sizeof(prov), "aws:amz:%s:%s", region, sign);
            curl_easy_setopt(s->easy, CURLOPT_AWS_SIGV4, prov);
            curl_easy_setopt(s->easy, CURLOPT_USERPWD, "test:test");
        }
    }
    long active = 0;
    for (long i = 0; i < conc; i++) {
        if (requests > 0 && started >= requests) {
            break;
        }
        struct slot *s = &slots[i];
        if (unique) {
            snprintf(s->url, sizeof(s->url), "%s-%ld", url, started);
        } else {
            snprintf(s->url, sizeof(s->url), "%s", url);
        }
        curl_easy_setopt(s->easy, CURLOPT_URL, s->url);
        s->start = now();
        curl_multi_add_handle(multi, s->easy);
        started++;
        active++;
    }
    while (active > 0) {
        int running = 0;
        curl_multi_perform(multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(multi, &left)) != NULL) {
            if (m->msg != CURLMSG_DONE) {
                continue;
            }
            struct slot *s = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            long code = 0;
            curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
            double t = now();
            if (m->data.result != CURLE_OK || code >= 300) {
                errors++;
            }
            if (nlat < cap) {
                lat[nlat++] = (t - s->start) * 1000.0;
            }
            done++;
            curl_multi_remove_handle(multi, s->easy);
            active--;
            int more = requests > 0 ? started < requests : t < deadline;
            if (more) {
                if (unique) {
                    snprintf(s->url, sizeof(s->url), "%s-%ld", url, started);
                    curl_easy_setopt(s->easy, CURLOPT_URL, s->url);
                }
                s->start = now();
                curl_multi_add_handle(multi, s->easy);
                started++;
                active++;
            }
        }
        /* wait only when nothing finished: a finished transfer's successor
         * must start at once */
        if (active > 0 && running > 0) {
            curl_multi_poll(multi, NULL, 0, 100, NULL);
        }
    }
    double elapsed = now() - t0;
    qsort(lat, nlat, sizeof(double), cmp_double);
#define PCT(p) (nlat ? lat[(size_t)((double)(nlat - 1) * (p))] : 0.0)
    printf("{\"requests\":%ld,\"errors\":%ld,\"seconds\":%.3f,\"rps\":%.1f,\"p50_ms\":%.3f,"
           "\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}\n",
           done, errors, elapsed, (double)done / elapsed, PCT(0.50), PCT(0.90), PCT(0.99),
           nlat ? lat[nlat - 1] : 0.0);
#undef PCT
    for (long i = 0; i < conc; i++) {
        curl_slist_free_all(slots[i].hdrs);
        curl_easy_cleanup(slots[i].easy);
    }
    free(slots);
    curl_multi_cleanup(multi);
    free(lat);
    free(body);
    curl_global_cleanup();
    return errors > 0 && done == errors ? 1 : 0;
}
