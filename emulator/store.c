/*
 * store.c - the only file that opens SQLite and begins/commits transactions.
 *
 * One connection in WAL mode (synchronous=NORMAL: a committed transaction
 * survives kill -9 of greenroom; the OS keeps the WAL), or an in-memory
 * database with --ephemeral. One global lock serialises transactions: every
 * handler runs between emu_store_begin() and emu_store_end(), nested pairs
 * on one thread are no-ops, so a handler may call helpers that bracket
 * themselves.
 *
 * Schema: each service lists migrations (emu_service.schema); table _schema
 * remembers how many of each service's were applied. The core's own tables
 * (journal) are migrations of the pseudo-service "core".
 *
 * Invariant: emu_db() and statements from emu_stmt() are only used while the
 * calling thread holds the lock (depth > 0).
 */
#include <errno.h>
#include <limits.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"

static sqlite3 *db;
static pthread_mutex_t store_mu = PTHREAD_MUTEX_INITIALIZER;
static __thread int depth;
static __thread int doomed; /* an inner end(0) forces the outer to roll back */
static char state_dir[512];
static char objects_dir[600];
static char tmp_dir[600];
static int ephemeral_dir;

#define STMT_SLOTS 4096
struct stmt_slot {
    const char *sql;
    sqlite3_stmt *st;
};
static struct stmt_slot stmt_cache[STMT_SLOTS];

static const char *const core_schema[] = {
    "CREATE TABLE journal ("
    " seq INTEGER PRIMARY KEY, time REAL NOT NULL, account TEXT, region TEXT,"
    " service TEXT, operation TEXT, resource TEXT, method TEXT, status INTEGER,"
    " error TEXT, latency_ms REAL, fault TEXT, request_id TEXT)",
};

sqlite3 *emu_db(void)
{
    return db;
}

const char *emu_state_dir(void)
{
    return state_dir;
}

const char *emu_objects_dir(void)
{
    return objects_dir;
}

const char *emu_tmp_dir(void)
{
    return tmp_dir;
}

static int mkdir_p(const char *path)
{
    char buf[600];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
                return -1;
            }
            *p = '/';
        }
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
        return -1;
    }
    return 0;
}

static int exec_sql(const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) {
        emu_error_log("store: %s: %s", sql, err ? err : sqlite3_errstr(rc));
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

/* Opens the store. Returns 0, -1 on failure (logged). */
int emu_store_open(const char *dir, int ephemeral)
{
    if (ephemeral) {
        char tmpl[] = "/tmp/greenroom-XXXXXX";
        if (mkdtemp(tmpl) == NULL) {
            emu_error_log("store: mkdtemp: %s", strerror(errno));
            return -1;
        }
        snprintf(state_dir, sizeof(state_dir), "%s", tmpl);
        ephemeral_dir = 1;
    } else {
        snprintf(state_dir, sizeof(state_dir), "%s", dir);
        if (mkdir_p(state_dir) != 0) {
            emu_error_log("store: cannot create %s: %s", state_dir, strerror(errno));
            return -1;
        }
        /* absolute, so paths handed to function processes and snapshots
         * do not depend on anyone's working directory */
        char abs[PATH_MAX];
        if (realpath(state_dir, abs) != NULL) {
            snprintf(state_dir, sizeof(state_dir), "%s", abs);
        }
    }
    snprintf(objects_dir, sizeof(objects_dir), "%s/objects", state_dir);
    snprintf(tmp_dir, sizeof(tmp_dir), "%s/tmp", state_dir);
    if (mkdir_p(objects_dir) != 0 || mkdir_p(tmp_dir) != 0) {
        emu_error_log("store: cannot create directories under %s", state_dir);
        return -1;
    }
    char path[640];
    if (ephemeral) {
        snprintf(path, sizeof(path), ":memory:");
    } else {
        snprintf(path, sizeof(path), "%s/state.db", state_dir);
    }
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        emu_error_log("store: cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "no memory");
        return -1;
    }
    sqlite3_busy_timeout(db, 10000);
    if (!ephemeral) {
        exec_sql("PRAGMA journal_mode=WAL");
        exec_sql("PRAGMA synchronous=NORMAL");
    }
    exec_sql("PRAGMA foreign_keys=ON");
    return emu_store_migrate();
}

static int apply_migrations(const char *owner, const char *const *schema, size_t n)
{
    int have = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT version FROM _schema WHERE service = ?", -1, &st, NULL) !=
        SQLITE_OK) {
        return -1;
    }
    sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        have = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    for (size_t i = (size_t)have; i < n; i++) {
        if (exec_sql(schema[i]) != 0) {
            emu_error_log("store: migration %zu of %s failed", i + 1, owner);
            return -1;
        }
    }
    if ((size_t)have != n) {
        if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO _schema(service, version) VALUES (?, ?)",
                               -1, &st, NULL) != SQLITE_OK) {
            return -1;
        }
        sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, (int)n);
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) {
            return -1;
        }
    }
    return 0;
}

/* Applies every pending migration, core first, in one transaction. */
int emu_store_migrate(void)
{
    pthread_mutex_lock(&store_mu);
    int rc = exec_sql("BEGIN IMMEDIATE");
    if (rc == 0) {
        rc = exec_sql("CREATE TABLE IF NOT EXISTS _schema(service TEXT PRIMARY KEY, version INTEGER)");
    }
    if (rc == 0) {
        rc = apply_migrations("core", core_schema, sizeof(core_schema) / sizeof(core_schema[0]));
    }
    for (size_t i = 0; rc == 0 && i < emu_services_count(); i++) {
        const struct emu_service *s = emu_service_at(i);
        if (s->schema && s->nschema) {
            rc = apply_migrations(s->name, s->schema, s->nschema);
        }
    }
    exec_sql(rc == 0 ? "COMMIT" : "ROLLBACK");
    pthread_mutex_unlock(&store_mu);
    return rc;
}

int emu_store_begin(int write)
{
    if (depth > 0) {
        depth++;
        return 0;
    }
    pthread_mutex_lock(&store_mu);
    depth = 1;
    doomed = 0;
    if (exec_sql(write ? "BEGIN IMMEDIATE" : "BEGIN") != 0) {
        depth = 0;
        pthread_mutex_unlock(&store_mu);
        return -1;
    }
    return 0;
}

int emu_store_end(int ok)
{
    if (depth <= 0) {
        return -1;
    }
    if (!ok) {
        doomed = 1;
    }
    if (--depth > 0) {
        return 0;
    }
    int rc = 0;
    if (doomed) {
        exec_sql("ROLLBACK");
        rc = doomed && ok ? -1 : 0;
    } else if (exec_sql("COMMIT") != 0) {
        exec_sql("ROLLBACK");
        rc = -1;
    }
    doomed = 0;
    pthread_mutex_unlock(&store_mu);
    return rc;
}

sqlite3_stmt *emu_stmt(const char *sql)
{
    uintptr_t h = ((uintptr_t)sql >> 3) * 2654435761u;
    for (size_t probe = 0; probe < STMT_SLOTS; probe++) {
        struct stmt_slot *s = &stmt_cache[(h + probe) % STMT_SLOTS];
        if (s->sql == sql) {
            return s->st;
        }
        if (s->sql == NULL) {
            sqlite3_stmt *st = NULL;
            if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
                emu_error_log("store: prepare failed: %s: %s", sqlite3_errmsg(db), sql);
                return NULL;
            }
            s->st = st;
            s->sql = sql;
            return st;
        }
    }
    emu_error_log("store: statement cache full");
    return NULL;
}

void emu_stmt_done(sqlite3_stmt *st)
{
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

char *emu_col_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    char *p = strdup(t ? (const char *)t : "");
    if (p == NULL) {
        abort();
    }
    return p;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void empty_dir(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    mkdir_p(dir);
}

/* Deletes every row of every table but _schema, and every object file.
 * Returns 0 or -1. Services' reload hooks are called by the caller. */
int emu_store_reset(void)
{
    if (emu_store_begin(1) != 0) {
        return -1;
    }
    sqlite3_stmt *st = NULL;
    struct emu_kvlist tables = {0};
    if (sqlite3_prepare_v2(db,
                           "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE "
                           "'sqlite_%' AND name != '_schema'",
                           -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            emu_kv_add(&tables, (const char *)sqlite3_column_text(st, 0), "");
        }
    }
    sqlite3_finalize(st);
    int ok = 1;
    exec_sql("PRAGMA defer_foreign_keys=ON");
    for (size_t i = 0; i < tables.n; i++) {
        struct emu_buf sql = {0};
        emu_buf_printf(&sql, "DELETE FROM \"%s\"", tables.items[i].key);
        if (exec_sql(sql.data) != 0) {
            ok = 0;
        }
        emu_buf_release(&sql);
    }
    emu_kv_release(&tables);
    int rc = emu_store_end(ok);
    empty_dir(objects_dir);
    empty_dir(tmp_dir);
    return rc;
}

void emu_store_close(void)
{
    pthread_mutex_lock(&store_mu);
    for (size_t i = 0; i < STMT_SLOTS; i++) {
        if (stmt_cache[i].st) {
            sqlite3_finalize(stmt_cache[i].st);
        }
        stmt_cache[i].st = NULL;
        stmt_cache[i].sql = NULL;
    }
    if (db) {
        sqlite3_close(db);
        db = NULL;
    }
    if (ephemeral_dir && state_dir[0]) {
        nftw(state_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    pthread_mutex_unlock(&store_mu);
}
