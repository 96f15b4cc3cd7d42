/*
 * lock.c - lease locks in the meta bucket (issue 9): the per-stage deploy
 * lock and the per-REST-API lock.
 *
 * A lease is a small JSON object {holder, txn, host, pid, start, expiry}
 * created with PutObject If-None-Match: * (exactly one writer wins), renewed
 * with If-Match: <our ETag>, taken over after expiry (or when its holder is
 * a dead process on this host, or with --force-unlock) with If-Match: <its
 * ETag> so two takers cannot both win, and deleted with If-Match on release.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "txn.h"

/* Fill a lock for bucket/key. */
void txn_lock_init(struct txn_lock *l, const char *region, const char *bucket, const char *key,
                   long ttl_s)
{
    memset(l, 0, sizeof(*l));
    snprintf(l->region, sizeof(l->region), "%s", region);
    snprintf(l->bucket, sizeof(l->bucket), "%s", bucket);
    snprintf(l->key, sizeof(l->key), "%s", key);
    l->ttl_s = ttl_s > 0 ? ttl_s : 300;
}

static void iso_time(time_t t, char *buf, size_t n)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static time_t parse_iso(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) {
        return 0;
    }
    return timegm(&tm);
}

static char *lease_body(struct txn_lock *l, const char *txn_id, time_t start)
{
    char host[256] = "";
    char sbuf[32], ebuf[32];
    gethostname(host, sizeof(host) - 1);
    time_t now = time(NULL);
    iso_time(start, sbuf, sizeof(sbuf));
    iso_time(now + l->ttl_s, ebuf, sizeof(ebuf));
    cJSON *o = cJSON_CreateObject();
    snprintf(l->holder, sizeof(l->holder), "%s@%s pid %ld",
             getenv("USER") ? getenv("USER") : "stagehand", host, (long)getpid());
    cJSON_AddStringToObject(o, "holder", l->holder);
    cJSON_AddStringToObject(o, "txn", txn_id ? txn_id : "");
    cJSON_AddStringToObject(o, "host", host);
    cJSON_AddNumberToObject(o, "pid", (double)getpid());
    cJSON_AddStringToObject(o, "start", sbuf);
    cJSON_AddStringToObject(o, "expiry", ebuf);
    cJSON_AddNumberToObject(o, "ttlSeconds", (double)l->ttl_s);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* Read the lease: *out caller-owned or NULL when absent. */
int txn_lock_peek(const struct txn_lock *l, cJSON **out, char *etag, struct dep_err *err)
{
    char *body = NULL;
    *out = NULL;
    if (txn_meta_get(l->region, l->bucket, l->key, &body, etag, err) < 0) {
        return -1;
    }
    if (body) {
        *out = cJSON_Parse(body);
        if (!*out) {
            *out = cJSON_CreateObject(); /* unreadable lease: treat as expired */
        }
        free(body);
    }
    return 0;
}

/* 1 when the lease may be taken over: expired, or its holder is a dead
 * process on this host. */
static int lease_stale(const cJSON *lease)
{
    time_t exp = parse_iso(txn_jstr(lease, "expiry"));
    if (exp == 0 || exp < time(NULL)) {
        return 1;
    }
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(lease, "pid");
    if (strcmp(txn_jstr(lease, "host"), host) == 0 && cJSON_IsNumber(pid) && pid->valuedouble > 0) {
        if (kill((pid_t)pid->valuedouble, 0) < 0 && errno == ESRCH) {
            return 1;
        }
    }
    return 0;
}

static int put_lease(struct txn_lock *l, const char *txn_id, const char *if_match,
                     struct dep_err *err)
{
    char *body = lease_body(l, txn_id, time(NULL));
    char etag[128] = "";
    int rc = dep_s3_put_object(l->region, l->bucket, l->key, body, strlen(body), "application/json",
                               if_match && *if_match ? if_match : NULL,
                               if_match && *if_match ? NULL : "*", etag, err);
    free(body);
    if (rc == 0) {
        snprintf(l->etag, sizeof(l->etag), "%s", etag);
        l->held = 1;
        l->renewed = time(NULL);
    }
    return rc;
}

static int is_conflict(const struct dep_err *err)
{
    return err->http_status == 412 || err->http_status == 409 ||
           dep_err_is(err, "PreconditionFailed") || dep_err_is(err, "ConditionalRequestConflict");
}

/* Acquire (see txn.h). Returns 0 or -1 with err. */
int txn_lock_acquire(struct txn_lock *l, const char *txn_id, int force, long wait_ms,
                     struct dep_err *err)
{
    double deadline = txn_ms() + (double)wait_ms;
    snprintf(l->txn_id, sizeof(l->txn_id), "%s", txn_id ? txn_id : "");
    for (;;) {
        if (put_lease(l, txn_id, NULL, err) == 0) {
            return 0;
        }
        if (!is_conflict(err)) {
            return -1;
        }
        cJSON *lease = NULL;
        char etag[128] = "";
        if (txn_lock_peek(l, &lease, etag, err) < 0) {
            return -1;
        }
        if (!lease) {
            continue; /* released meanwhile: try again */
        }
        int stale = lease_stale(lease);
        if (stale || force) {
            if (force && !stale) {
                dep_out_warn(
                    "--force-unlock: taking over the lock %s held by %s (txn %s, since %s)", l->key,
                    txn_jstr(lease, "holder"), txn_jstr(lease, "txn"), txn_jstr(lease, "start"));
            } else {
                dep_out_info("taking over the stale lock %s of %s (expired %s)", l->key,
                             txn_jstr(lease, "holder"), txn_jstr(lease, "expiry"));
            }
            cJSON_Delete(lease);
            if (put_lease(l, txn_id, etag, err) == 0) {
                return 0;
            }
            if (!is_conflict(err)) {
                return -1;
            }
            continue; /* someone else took it first: look again */
        }
        if (txn_ms() < deadline) {
            cJSON_Delete(lease);
            usleep(100 * 1000);
            continue;
        }
        dep_err_clear(err);
        dep_err_local(err, "StageLocked",
                      "%s is locked by %s (txn %s) since %s, lease expires %s; "
                      "retry later, or `stagehand recover` if that deploy died, or --force-unlock",
                      l->key, txn_jstr(lease, "holder"), txn_jstr(lease, "txn"),
                      txn_jstr(lease, "start"), txn_jstr(lease, "expiry"));
        cJSON_Delete(lease);
        return -1;
    }
}

/* Renew when due (or always): If-Match our ETag. Returns 0 or -1. */
int txn_lock_renew(struct txn_lock *l, int always, struct dep_err *err)
{
    if (!l->held) {
        return 0;
    }
    if (!always && time(NULL) - l->renewed < l->ttl_s / 3) {
        return 0;
    }
    if (put_lease(l, l->txn_id, l->etag, err) < 0) {
        if (is_conflict(err)) {
            l->held = 0;
            dep_err_clear(err);
            dep_err_local(err, "LockLost", "lost the lock %s (someone took it over)", l->key);
        }
        return -1;
    }
    return 0;
}

/* Delete our lease (If-Match). */
void txn_lock_release(struct txn_lock *l)
{
    if (!l->held) {
        return;
    }
    struct dep_err err;
    struct txn_settle s;
    int rc;
    /* A lease left behind blocks the stage until it expires: a short outage
     * is waited out. 404/412: gone, or no longer ours. */
    txn_settle_start(&s);
    do {
        dep_err_clear(&err);
        rc = dep_s3_delete_object(l->region, l->bucket, l->key, l->etag, &err);
    } while (rc < 0 && err.http_status != 404 && err.http_status != 412 &&
             txn_settle_again(&s, &err));
    if (rc < 0) {
        char buf[1400];
        dep_out_warn("could not release the lock %s: %s (it expires at its lease end; a dead "
                     "holder on this host "
                     "is taken over at once)",
                     l->key, dep_err_str(&err, buf, sizeof(buf)));
    }
    l->held = 0;
    l->etag[0] = 0;
}
