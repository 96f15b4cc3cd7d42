/*
 * journal.c - the call journal: every client call with its sequence number
 * (arrival order), time, account, region, service, operation, resource,
 * HTTP status, AWS error code, latency and the fault rule that fired.
 *
 * Appended to <state>/calls.jsonl before the answer leaves, and kept in the
 * store (table journal): entries are queued and a writer thread inserts them
 * in batches, one transaction per batch, so a call costs no extra store
 * transaction; at start, entries the table missed (a kill -9 before the
 * writer's batch) are re-read from the end of calls.jsonl. Readers (GET /_greenroom/calls, a crash
 * rule) flush the queue first, so what was answered is always visible. Served as GET
 * /_greenroom/calls?since=N[&service=&operation=&status=&faults=1 &limit=] and cleared by DELETE
 * /_greenroom/calls.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core.h"

static atomic_uint_fast64_t last_seq;
static int jsonl_fd = -1;

/* One queued entry, owned by the queue until inserted. */
struct jentry {
    uint64_t seq;
    double time;
    double latency;
    int status;
    char account[16];
    char region[32];
    char service[32];
    char operation[64];
    char method[16];
    char error[96];
    char fault[128];
    char request_id[40];
    char *resource;
};

static pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cv = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t drain_mu = PTHREAD_MUTEX_INITIALIZER;
static struct jentry *queue;
static size_t qlen, qcap;
static pthread_t writer;
static int writer_running;
static int writer_stop;

/* Inserts everything queued so far, in one transaction. Serialised, so a
 * caller returning from it knows every earlier entry is in the table. */
static void drain(void)
{
    pthread_mutex_lock(&drain_mu);
    pthread_mutex_lock(&q_mu);
    struct jentry *batch = queue;
    size_t n = qlen;
    queue = NULL;
    qlen = qcap = 0;
    pthread_mutex_unlock(&q_mu);
    if (n > 0 && emu_store_begin(1) == 0) {
        sqlite3_stmt *st = emu_stmt(
            "INSERT OR REPLACE INTO journal(seq, time, account, region, service, operation, "
            "resource, method, status, error, latency_ms, fault, request_id) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)");
        for (size_t i = 0; st && i < n; i++) {
            struct jentry *e = &batch[i];
            sqlite3_bind_int64(st, 1, (sqlite3_int64)e->seq);
            sqlite3_bind_double(st, 2, e->time);
            sqlite3_bind_text(st, 3, e->account, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 4, e->region, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 5, e->service, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 6, e->operation, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 7, e->resource ? e->resource : "", -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 8, e->method, -1, SQLITE_STATIC);
            sqlite3_bind_int(st, 9, e->status);
            sqlite3_bind_text(st, 10, e->error, -1, SQLITE_STATIC);
            sqlite3_bind_double(st, 11, e->latency);
            sqlite3_bind_text(st, 12, e->fault, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 13, e->request_id, -1, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE) {
                emu_warn("journal: insert failed: %s", sqlite3_errmsg(emu_db()));
            }
            sqlite3_reset(st);
        }
        emu_stmt_done(st);
        emu_store_end(1);
    }
    for (size_t i = 0; i < n; i++) {
        free(batch[i].resource);
    }
    free(batch);
    pthread_mutex_unlock(&drain_mu);
}

static void *writer_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&q_mu);
    while (!writer_stop) {
        if (qlen == 0) {
            pthread_cond_wait(&q_cv, &q_mu);
            continue;
        }
        pthread_mutex_unlock(&q_mu);
        drain();
        usleep(2000); /* let a batch build up under load */
        pthread_mutex_lock(&q_mu);
    }
    pthread_mutex_unlock(&q_mu);
    return NULL;
}

void emu_journal_flush(void)
{
    drain();
}

/* "2026-11-27T19:35:13.178Z" (emu_time_iso) as seconds, 0 if unreadable. */
static double parse_iso(const char *s)
{
    struct tm tm;
    double sec = 0;
    memset(&tm, 0, sizeof(tm));
    if (!s || sscanf(s, "%d-%d-%dT%d:%d:%lfZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                     &tm.tm_min, &sec) != 6) {
        return 0;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_sec = (int)sec;
    return (double)timegm(&tm) + (sec - (double)(int)sec);
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* The table lags calls.jsonl by the writer's last batch: entries answered
 * just before a kill -9 are only in the file. Re-insert those past the
 * table's last seq (they are at the end: the last 4 MiB is far more than a
 * batch) and return the new last seq. A torn last line is skipped. */
/* The seq of a calls.jsonl line ({"seq":N,...}), 0 when it has none. */
static uint64_t line_seq(const char *line)
{
    const char *p = strstr(line, "\"seq\":");
    return p ? strtoull(p + 6, NULL, 10) : 0;
}

static uint64_t reimport_tail(const char *path, uint64_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return max;
    }
    off_t size = lseek(fd, 0, SEEK_END);
    /* Usually the last line is the table's last call: read 64 KiB from the
     * end and walk back to the first line the table has; a longer miss
     * reads up to 4 MiB. Only the lines after it are parsed. */
    char *buf = NULL, *line = NULL;
    ssize_t n = 0;
    for (off_t window = 64 << 10; size > 0; window *= 8) {
        off_t from = size > window ? size - window : 0;
        free(buf);
        buf = malloc((size_t)(size - from) + 1);
        n = buf ? pread(fd, buf, (size_t)(size - from), from) : -1;
        if (n <= 0) {
            break;
        }
        buf[n] = 0;
        char *first = buf;
        if (from > 0) { /* the window starts mid-line */
            char *nl = strchr(buf, '\n');
            first = nl ? nl + 1 : buf + n;
        }
        line = NULL;
        for (char *p = buf + n; p > first;) { /* back, a line at a time */
            char *end = p;
            while (p > first && p[-1] != '\n') {
                p--;
            }
            char save = *end;
            *end = 0;
            uint64_t seq = line_seq(p);
            *end = save;
            if (seq != 0 && seq <= max) {
                line = end; /* the lines after the table's last */
                break;
            }
            if (p > first) {
                p--; /* the newline before this line */
            }
        }
        if (line != NULL || from == 0 || window >= (4 << 20)) {
            if (line == NULL) {
                line = first;
            }
            break;
        }
    }
    close(fd);
    if (n <= 0 || line == NULL) {
        free(buf);
        return max;
    }
    while (*line == '\n') {
        line++;
    }
    int began = 0, added = 0;
    sqlite3_stmt *st = NULL;
    while (*line) {
        char *nl = strchr(line, '\n');
        if (nl) {
            *nl = 0;
        }
        cJSON *o = cJSON_Parse(line);
        const cJSON *seq = cJSON_GetObjectItemCaseSensitive(o, "seq");
        if (cJSON_IsNumber(seq) && seq->valuedouble > (double)max) {
            if (!began) {
                began = emu_store_begin(1) == 0 ? 1 : -1;
                st = began > 0 ? emu_stmt("INSERT OR IGNORE INTO journal(seq, time, account, "
                                          "region, service, operation, resource, method, status, "
                                          "error, latency_ms, fault, request_id) "
                                          "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,'')")
                               : NULL;
            }
            if (st) {
                const cJSON *status = cJSON_GetObjectItemCaseSensitive(o, "status");
                const cJSON *lat = cJSON_GetObjectItemCaseSensitive(o, "latencyMs");
                sqlite3_bind_int64(st, 1, (sqlite3_int64)seq->valuedouble);
                sqlite3_bind_double(st, 2, parse_iso(jstr(o, "time")));
                sqlite3_bind_text(st, 3, jstr(o, "account"), -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(st, 4, jstr(o, "region"), -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(st, 5, jstr(o, "service"), -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(st, 6, jstr(o, "operation"), -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(st, 7, jstr(o, "resource"), -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(st, 8, jstr(o, "method"), -1, SQLITE_TRANSIENT);
                sqlite3_bind_int(st, 9, cJSON_IsNumber(status) ? status->valueint : 0);
                sqlite3_bind_text(st, 10, jstr(o, "error"), -1, SQLITE_TRANSIENT);
                sqlite3_bind_double(st, 11, cJSON_IsNumber(lat) ? lat->valuedouble : 0);
                sqlite3_bind_text(st, 12, jstr(o, "fault"), -1, SQLITE_TRANSIENT);
                if (sqlite3_step(st) == SQLITE_DONE) {
                    added++;
                }
                sqlite3_reset(st);
            }
            max = (uint64_t)seq->valuedouble;
        }
        cJSON_Delete(o);
        if (!nl) {
            break;
        }
        line = nl + 1;
    }
    if (began > 0) {
        emu_stmt_done(st);
        emu_store_end(1);
    }
    if (added > 0) {
        emu_info("journal: %d call(s) answered before the last stop re-read from calls.jsonl",
                 added);
    }
    free(buf);
    return max;
}

int emu_journal_open(void)
{
    uint64_t max = 0;
    if (emu_store_begin(0) == 0) {
        sqlite3_stmt *st = emu_stmt("SELECT COALESCE(MAX(seq), 0) FROM journal");
        if (st && sqlite3_step(st) == SQLITE_ROW) {
            max = (uint64_t)sqlite3_column_int64(st, 0);
        }
        emu_stmt_done(st);
        emu_store_end(1);
    }
    char path[700];
    snprintf(path, sizeof(path), "%s/calls.jsonl", emu_state_dir());
    max = reimport_tail(path, max);
    atomic_store(&last_seq, max);
    jsonl_fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (jsonl_fd >= 0) {
        /* a line torn by a kill: the next entry starts on a line of its own */
        char last = '\n';
        off_t end = lseek(jsonl_fd, 0, SEEK_END);
        if (end > 0 && pread(jsonl_fd, &last, 1, end - 1) == 1 && last != '\n') {
            ssize_t w = write(jsonl_fd, "\n", 1);
            (void)w;
        }
    }
    writer_stop = 0;
    if (pthread_create(&writer, NULL, writer_main, NULL) == 0) {
        writer_running = 1;
    }
    return 0;
}

void emu_journal_close(void)
{
    if (writer_running) {
        pthread_mutex_lock(&q_mu);
        writer_stop = 1;
        pthread_cond_signal(&q_cv);
        pthread_mutex_unlock(&q_mu);
        pthread_join(writer, NULL);
        writer_running = 0;
    }
    drain();
    if (jsonl_fd >= 0) {
        close(jsonl_fd);
        jsonl_fd = -1;
    }
}

void emu_journal_forget_file(void)
{
    if (jsonl_fd >= 0 && ftruncate(jsonl_fd, 0) != 0) {
        emu_warn("journal: cannot truncate calls.jsonl");
    }
}

uint64_t emu_journal_next_seq(void)
{
    return atomic_fetch_add(&last_seq, 1) + 1;
}

static cJSON *entry_json(uint64_t seq, double t, const char *account, const char *region,
                         const char *service, const char *op, const char *resource,
                         const char *method, int status, const char *error, double latency,
                         const char *fault)
{
    char ts[32];
    emu_time_iso(ts, t);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "seq", (double)seq);
    cJSON_AddStringToObject(o, "time", ts);
    cJSON_AddStringToObject(o, "account", account ? account : "");
    cJSON_AddStringToObject(o, "region", region ? region : "");
    cJSON_AddStringToObject(o, "service", service ? service : "");
    cJSON_AddStringToObject(o, "operation", op ? op : "");
    cJSON_AddStringToObject(o, "resource", resource ? resource : "");
    cJSON_AddStringToObject(o, "method", method ? method : "");
    cJSON_AddNumberToObject(o, "status", status);
    cJSON_AddStringToObject(o, "error", error ? error : "");
    cJSON_AddNumberToObject(o, "latencyMs", (double)((long long)(latency * 1000.0)) / 1000.0);
    cJSON_AddStringToObject(o, "fault", fault ? fault : "");
    return o;
}

void emu_journal_record(const struct emu_request *req, const struct emu_response *resp,
                        double started, const char *fault_rule)
{
    if (req->seq == 0) {
        return;
    }
    double now = emu_now();
    double latency = (now - started) * 1000.0;
    const char *service = req->svc ? req->svc->name : "";
    const char *op = req->op ? req->op->name : "";
    const char *err = resp->failed || resp->status == 0 ? resp->error_code : "";
    struct jentry e;
    memset(&e, 0, sizeof(e));
    e.seq = req->seq;
    e.time = started;
    e.latency = latency;
    e.status = resp->status;
    snprintf(e.account, sizeof(e.account), "%s", req->account);
    snprintf(e.region, sizeof(e.region), "%s", req->region);
    snprintf(e.service, sizeof(e.service), "%s", service);
    snprintf(e.operation, sizeof(e.operation), "%s", op);
    snprintf(e.method, sizeof(e.method), "%s", req->method ? req->method : "");
    snprintf(e.error, sizeof(e.error), "%s", err);
    snprintf(e.fault, sizeof(e.fault), "%s", fault_rule ? fault_rule : "");
    snprintf(e.request_id, sizeof(e.request_id), "%s", req->request_id);
    e.resource = strdup(req->resource);
    pthread_mutex_lock(&q_mu);
    if (qlen == qcap) {
        size_t cap = qcap ? qcap * 2 : 256;
        struct jentry *nq = realloc(queue, cap * sizeof(*nq));
        if (nq == NULL) {
            pthread_mutex_unlock(&q_mu);
            free(e.resource);
            return;
        }
        queue = nq;
        qcap = cap;
    }
    queue[qlen++] = e;
    pthread_cond_signal(&q_cv);
    pthread_mutex_unlock(&q_mu);
    if (!writer_running) {
        drain();
    }
    if (jsonl_fd >= 0) {
        cJSON *o = entry_json(req->seq, started, req->account, req->region, service, op,
                              req->resource, req->method, resp->status, err, latency, fault_rule);
        char *s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (s) {
            size_t n = strlen(s);
            s[n] = '\n';
            ssize_t w = write(jsonl_fd, s, n + 1);
            (void)w;
            free(s);
        }
    }
}

/* GET /_greenroom/calls, DELETE /_greenroom/calls. */
void emu_journal_http(struct emu_request *req, struct emu_response *resp)
{
    drain();
    if (strcmp(req->method, "DELETE") == 0) {
        emu_store_begin(1);
        sqlite3_stmt *st = emu_stmt("DELETE FROM journal");
        if (st) {
            sqlite3_step(st);
        }
        emu_stmt_done(st);
        emu_store_end(1);
        emu_journal_forget_file();
        emu_resp_json(resp, 200, cJSON_Parse("{\"cleared\":true}"));
        return;
    }
    if (strcmp(req->method, "GET") != 0) {
        emu_fail_raw(resp, 405, "MethodNotAllowed", "Use GET or DELETE.");
        return;
    }
    const char *since = emu_query(req, "since");
    const char *limit = emu_query(req, "limit");
    const char *service = emu_query(req, "service");
    const char *operation = emu_query(req, "operation");
    const char *status = emu_query(req, "status");
    const char *faults = emu_query(req, "faults");
    long long since_v = since ? strtoll(since, NULL, 10) : 0;
    long long limit_v = limit ? strtoll(limit, NULL, 10) : 100000;
    long status_v = status ? strtol(status, NULL, 10) : 0;
    int faults_only = faults && (strcmp(faults, "1") == 0 || strcmp(faults, "true") == 0);
    cJSON *out = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(out, "calls");
    uint64_t next = (uint64_t)since_v;
    emu_store_begin(0);
    sqlite3_stmt *st = emu_stmt(
        "SELECT seq, time, account, region, service, operation, resource, method, status, error, "
        "latency_ms, fault FROM journal WHERE seq > ?1 "
        "AND (?2 IS NULL OR service = ?2) AND (?3 IS NULL OR operation = ?3) "
        "AND (?4 = 0 OR status = ?4) AND (?5 = 0 OR fault != '') ORDER BY seq LIMIT ?6");
    if (st) {
        sqlite3_bind_int64(st, 1, since_v);
        if (service) {
            sqlite3_bind_text(st, 2, service, -1, SQLITE_STATIC);
        }
        if (operation) {
            sqlite3_bind_text(st, 3, operation, -1, SQLITE_STATIC);
        }
        sqlite3_bind_int(st, 4, (int)status_v);
        sqlite3_bind_int(st, 5, faults_only);
        sqlite3_bind_int64(st, 6, limit_v > 0 ? limit_v : 100000);
        while (sqlite3_step(st) == SQLITE_ROW) {
            uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);
            cJSON *e = entry_json(
                seq, sqlite3_column_double(st, 1), (const char *)sqlite3_column_text(st, 2),
                (const char *)sqlite3_column_text(st, 3), (const char *)sqlite3_column_text(st, 4),
                (const char *)sqlite3_column_text(st, 5), (const char *)sqlite3_column_text(st, 6),
                (const char *)sqlite3_column_text(st, 7), sqlite3_column_int(st, 8),
                (const char *)sqlite3_column_text(st, 9), sqlite3_column_double(st, 10),
                (const char *)sqlite3_column_text(st, 11));
            cJSON_AddItemToArray(arr, e);
            next = seq;
        }
    }
    emu_stmt_done(st);
    emu_store_end(1);
    cJSON_AddNumberToObject(out, "next", (double)next);
    cJSON_AddNumberToObject(out, "last", (double)atomic_load(&last_seq));
    emu_resp_json(resp, 200, out);
}
