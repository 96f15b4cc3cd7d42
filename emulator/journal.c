/*
 * journal.c - the call journal: every client call with its sequence number
 * (arrival order), time, account, region, service, operation, resource,
 * HTTP status, AWS error code, latency and the fault rule that fired.
 *
 * Kept in the store (table journal, one short transaction per call, written
 * before the answer leaves) and appended to <state>/calls.jsonl. Served as
 * GET /_greenroom/calls?since=N[&service=&operation=&status=&faults=1
 * &limit=] and cleared by DELETE /_greenroom/calls.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

static atomic_uint_fast64_t last_seq;
static int jsonl_fd = -1;

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
    atomic_store(&last_seq, max);
    char path[700];
    snprintf(path, sizeof(path), "%s/calls.jsonl", emu_state_dir());
    jsonl_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    return 0;
}

void emu_journal_close(void)
{
    if (jsonl_fd >= 0) {
        close(jsonl_fd);
        jsonl_fd = -1;
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
    if (emu_store_begin(1) == 0) {
        sqlite3_stmt *st = emu_stmt(
            "INSERT OR REPLACE INTO journal(seq, time, account, region, service, operation, "
            "resource, method, status, error, latency_ms, fault, request_id) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)");
        if (st) {
            sqlite3_bind_int64(st, 1, (sqlite3_int64)req->seq);
            sqlite3_bind_double(st, 2, started);
            sqlite3_bind_text(st, 3, req->account, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 4, req->region, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 5, service, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 6, op, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 7, req->resource, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 8, req->method ? req->method : "", -1, SQLITE_STATIC);
            sqlite3_bind_int(st, 9, resp->status);
            sqlite3_bind_text(st, 10, err, -1, SQLITE_STATIC);
            sqlite3_bind_double(st, 11, latency);
            sqlite3_bind_text(st, 12, fault_rule ? fault_rule : "", -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 13, req->request_id, -1, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE) {
                emu_warn("journal: insert failed: %s", sqlite3_errmsg(emu_db()));
            }
        }
        emu_stmt_done(st);
        emu_store_end(1);
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
    if (strcmp(req->method, "DELETE") == 0) {
        emu_store_begin(1);
        sqlite3_stmt *st = emu_stmt("DELETE FROM journal");
        if (st) {
            sqlite3_step(st);
        }
        emu_stmt_done(st);
        emu_store_end(1);
        if (jsonl_fd >= 0 && ftruncate(jsonl_fd, 0) != 0) {
            emu_warn("journal: cannot truncate calls.jsonl");
        }
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
