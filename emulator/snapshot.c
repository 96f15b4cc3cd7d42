/*
 * snapshot.c - named snapshots of the whole state: /_greenroom/snapshots
 * (save, list, show, restore, delete).
 *
 * Save: with the store locked (emu_store_begin(0), so no handler runs), the
 * SQLite backup API copies the live database into
 * <state>/snapshots/.tmp-<name>-<rand>/state.db and every file of
 * emu_objects_dir() is hard-linked (object files are immutable) into its
 * objects/; then the directory is renamed into place. Restore: with the store
 * locked, the snapshot database is attached and every table's rows are
 * replaced by the snapshot's in one transaction (except _schema and the call
 * journal, which keep recording forward); object files are relinked (present
 * ones kept, missing ones linked back, extra ones removed); then every
 * service's reload hook runs. Snapshot operations are serialised among
 * themselves. With --ephemeral the snapshots live in the ephemeral state dir.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "snapshot.h"

#define SNAP_NAME_MAX 128

static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;

/* Returns 1 when name is safe as one path component: 1-128 of [A-Za-z0-9._-],
 * not starting with '.'. */
static int snap_name_ok(const char *name)
{
    size_t n = name != NULL ? strlen(name) : 0;
    if (n == 0 || n > SNAP_NAME_MAX || name[0] == '.') {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-')) {
            return 0;
        }
    }
    return 1;
}

/* Writes <state>/snapshots[/sub] into out. Returns 0, -1 when too long. */
static int snap_path(char *out, size_t len, const char *sub, const char *leaf)
{
    int n;
    if (sub == NULL) {
        n = snprintf(out, len, "%s/snapshots", emu_state_dir());
    } else if (leaf == NULL) {
        n = snprintf(out, len, "%s/snapshots/%s", emu_state_dir(), sub);
    } else {
        n = snprintf(out, len, "%s/snapshots/%s/%s", emu_state_dir(), sub, leaf);
    }
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Removes a file or directory tree (nftw callback). */
static int snap_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP) {
        rmdir(path);
    } else {
        unlink(path);
    }
    return 0;
}

/* Removes path and everything below it. */
static void snap_rm_rf(const char *path)
{
    nftw(path, snap_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Copies src to dst (when hard links are not possible). Returns 0 or -1. */
static int snap_copy_file(const char *src, const char *dst)
{
    int in = -1;
    int out = -1;
    int rc = -1;
    char buf[65536];

    in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        goto out;
    }
    out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0) {
        goto out;
    }
    for (;;) {
        ssize_t r = read(in, buf, sizeof(buf));
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            goto out;
        }
        if (r == 0) {
            break;
        }
        for (ssize_t off = 0; off < r;) {
            ssize_t w = write(out, buf + off, (size_t)(r - off));
            if (w < 0) {
                if (errno == EINTR) {
                    continue;
                }
                goto out;
            }
            off += w;
        }
    }
    rc = 0;
out:
    if (in >= 0) {
        close(in);
    }
    if (out >= 0) {
        if (close(out) != 0) {
            rc = -1;
        }
        if (rc != 0) {
            unlink(dst);
        }
    }
    return rc;
}

/* Links (or copies) src to dst; an existing dst is kept (objects are
 * immutable: same name, same bytes). Returns 0 or -1. */
static int snap_link(const char *src, const char *dst)
{
    if (link(src, dst) == 0 || errno == EEXIST) {
        return 0;
    }
    if (errno == EXDEV || errno == EPERM || errno == EMLINK || errno == ENOTSUP) {
        return snap_copy_file(src, dst) == 0 || errno == EEXIST ? 0 : -1;
    }
    return -1;
}

/* Counters of a tree walk. */
struct snap_tally {
    size_t files;
    unsigned long long bytes;
};

/* Mirrors every file below src (recursively) into dst by hard links,
 * creating directories. Returns 0 or -1 (errno set). */
static int snap_link_tree(const char *src, const char *dst, struct snap_tally *t)
{
    DIR *d = NULL;
    struct dirent *e;
    char s[PATH_MAX];
    char o[PATH_MAX];
    int rc = -1;

    if (mkdir(dst, 0755) != 0 && errno != EEXIST) {
        return -1;
    }
    d = opendir(src);
    if (d == NULL) {
        return errno == ENOENT ? 0 : -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        if (snprintf(s, sizeof(s), "%s/%s", src, e->d_name) >= (int)sizeof(s) ||
            snprintf(o, sizeof(o), "%s/%s", dst, e->d_name) >= (int)sizeof(o)) {
            errno = ENAMETOOLONG;
            goto out;
        }
        struct stat st;
        if (lstat(s, &st) != 0) {
            continue; /* vanished */
        }
        if (S_ISDIR(st.st_mode)) {
            if (snap_link_tree(s, o, t) != 0) {
                goto out;
            }
        } else if (S_ISREG(st.st_mode)) {
            if (snap_link(s, o) != 0) {
                goto out;
            }
            if (t != NULL) {
                t->files++;
                t->bytes += (unsigned long long)st.st_size;
            }
        }
    }
    rc = 0;
out:
    closedir(d);
    return rc;
}

/* Removes files below live that have no counterpart below snap (objects
 * created after the snapshot). */
static void snap_prune_tree(const char *live, const char *snap)
{
    DIR *d = opendir(live);
    struct dirent *e;
    char l[PATH_MAX];
    char s[PATH_MAX];

    if (d == NULL) {
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        if (snprintf(l, sizeof(l), "%s/%s", live, e->d_name) >= (int)sizeof(l) ||
            snprintf(s, sizeof(s), "%s/%s", snap, e->d_name) >= (int)sizeof(s)) {
            continue;
        }
        struct stat st;
        if (lstat(l, &st) != 0) {
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            snap_prune_tree(l, s);
        } else if (access(s, F_OK) != 0 && errno == ENOENT) {
            unlink(l);
        }
    }
    closedir(d);
}

/* Sums the sizes of the files below dir. */
static void snap_tally_tree(const char *dir, struct snap_tally *t)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[PATH_MAX];

    if (d == NULL) {
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        if (snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) >= (int)sizeof(p)) {
            continue;
        }
        struct stat st;
        if (lstat(p, &st) != 0) {
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            snap_tally_tree(p, t);
        } else if (S_ISREG(st.st_mode)) {
            t->files++;
            t->bytes += (unsigned long long)st.st_size;
        }
    }
    closedir(d);
}

/* Runs a whole backup from src to dst (both "main"). Returns an SQLite code. */
static int snap_backup(sqlite3 *dst, sqlite3 *src)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (b == NULL) {
        return sqlite3_errcode(dst);
    }
    int rc;
    do {
        rc = sqlite3_backup_step(b, -1);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
            sqlite3_sleep(1);
        }
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    int frc = sqlite3_backup_finish(b);
    return rc == SQLITE_DONE ? frc : rc;
}

static double snap_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Writes dir/meta.json. Returns 0 or -1. */
static int snap_write_meta(const char *dir, const char *name, double t, const struct snap_tally *tl)
{
    char path[PATH_MAX];
    char iso[32];
    if (snprintf(path, sizeof(path), "%s/meta.json", dir) >= (int)sizeof(path)) {
        return -1;
    }
    emu_time_iso(iso, t);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return -1;
    }
    fprintf(
        f,
        "{\"name\":\"%s\",\"time\":\"%s\",\"epoch\":%.3f,\"objects\":%zu,\"objectBytes\":%llu}\n",
        name, iso, t, tl->files, tl->bytes);
    return fclose(f) == 0 ? 0 : -1;
}

int snapshot_save(const char *name, char *err, size_t errlen)
{
    char root[PATH_MAX];
    char tmpname[SNAP_NAME_MAX + 32];
    char tmp[PATH_MAX];
    char final[PATH_MAX];
    char old[PATH_MAX];
    char db_path[PATH_MAX];
    char obj_path[PATH_MAX];
    char rnd[17];
    sqlite3 *dst = NULL;
    struct snap_tally tl = {0, 0};
    int locked = 0;
    int have_tmp = 0;
    int rc = -1;

    if (!snap_name_ok(name)) {
        snprintf(err, errlen,
                 "invalid snapshot name: use 1-128 of A-Z a-z 0-9 . _ - "
                 "(not starting with '.')");
        return -1;
    }
    pthread_mutex_lock(&snap_lock);
    emu_random_hex(rnd, 8);
    rnd[8] = 0;
    snprintf(tmpname, sizeof(tmpname), ".tmp-%s-%s", name, rnd);
    if (snap_path(root, sizeof(root), NULL, NULL) != 0 ||
        snap_path(tmp, sizeof(tmp), tmpname, NULL) != 0 ||
        snap_path(final, sizeof(final), name, NULL) != 0 ||
        snap_path(db_path, sizeof(db_path), tmpname, "state.db") != 0 ||
        snap_path(obj_path, sizeof(obj_path), tmpname, "objects") != 0) {
        snprintf(err, errlen, "state directory path too long");
        goto out;
    }
    if ((mkdir(root, 0755) != 0 && errno != EEXIST) || mkdir(tmp, 0755) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    have_tmp = 1;
    if (sqlite3_open_v2(db_path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot create %s: %s", db_path, sqlite3_errmsg(dst));
        goto out;
    }
    if (emu_store_begin(0) != 0) {
        snprintf(err, errlen, "cannot lock the store");
        goto out;
    }
    locked = 1;
    int brc = snap_backup(dst, emu_db());
    if (brc != SQLITE_OK) {
        snprintf(err, errlen, "backup failed: %s", sqlite3_errstr(brc));
        goto out;
    }
    if (snap_link_tree(emu_objects_dir(), obj_path, &tl) != 0) {
        snprintf(err, errlen, "cannot link objects: %s", strerror(errno));
        goto out;
    }
    emu_store_end(1);
    locked = 0;
    /* the copy keeps the live database's WAL flag: make it a plain file; the
     * journal is not restored (snap_table_kept), so do not keep it */
    sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
    sqlite3_exec(dst, "DELETE FROM journal", NULL, NULL, NULL);
    if (sqlite3_close(dst) != SQLITE_OK) {
        dst = NULL;
        snprintf(err, errlen, "cannot close the snapshot database");
        goto out;
    }
    dst = NULL;
    if (snap_write_meta(tmp, name, emu_now(), &tl) != 0) {
        snprintf(err, errlen, "cannot write meta.json: %s", strerror(errno));
        goto out;
    }
    /* into place, replacing an older snapshot of that name */
    snprintf(tmpname, sizeof(tmpname), ".old-%s-%s", name, rnd);
    if (snap_path(old, sizeof(old), tmpname, NULL) != 0) {
        snprintf(err, errlen, "state directory path too long");
        goto out;
    }
    int had_old = rename(final, old) == 0;
    if (rename(tmp, final) != 0) {
        snprintf(err, errlen, "cannot rename the snapshot: %s", strerror(errno));
        if (had_old) {
            rename(old, final);
        }
        goto out;
    }
    have_tmp = 0;
    if (had_old) {
        snap_rm_rf(old);
    }
    rc = 0;
out:
    if (locked) {
        emu_store_end(1);
    }
    if (dst != NULL) {
        sqlite3_close(dst);
    }
    if (have_tmp) {
        snap_rm_rf(tmp);
    }
    pthread_mutex_unlock(&snap_lock);
    return rc;
}

/* Runs one SQL statement on the live connection; logs failures. Returns 0/-1. */
static int snap_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        emu_error_log("snapshot: %s: %s", sql, msg != NULL ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Tables the snapshot does not carry back: the schema bookkeeping (the live
 * binary's) and the call journal (it records what happened, restores
 * included, and its sequence numbers only go forward). */
static int snap_table_kept(const char *t)
{
    return strcmp(t, "_schema") == 0 || strcmp(t, "journal") == 0;
}

/* Appends the columns table t has in both main and snap, quoted and comma
 * separated, to b. Returns how many. */
static int snap_common_columns(sqlite3 *db, const char *t, struct emu_buf *b)
{
    sqlite3_stmt *st = NULL;
    int n = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT m.name FROM pragma_table_info(?1, 'main') m"
                           " JOIN pragma_table_info(?1, 'snap') s ON s.name = m.name"
                           " ORDER BY m.cid",
                           -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return 0;
    }
    sqlite3_bind_text(st, 1, t, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *c = (const char *)sqlite3_column_text(st, 0);
        emu_buf_printf(b, "%s\"", n > 0 ? ", " : "");
        for (; c != NULL && *c; c++) {
            emu_buf_append(b, c, 1);
            if (*c == '"') {
                emu_buf_append(b, c, 1);
            }
        }
        emu_buf_puts(b, "\"");
        n++;
    }
    sqlite3_finalize(st);
    return n;
}

/* One live table during a restore. */
struct snap_table {
    char *name;
    int in_snap;  /* the snapshot has it */
    int same;     /* ... with the same CREATE statement: copy with SELECT * */
    int nonempty; /* rows in the live table or the snapshot's */
};

/* Marks which tables have rows on either side, in one statement (a table
 * empty on both sides needs no work). Returns 0, or -1: treat all as
 * non-empty. */
static int snap_find_nonempty(sqlite3 *db, struct snap_table *t, size_t n)
{
    struct emu_buf sql = {0};
    sqlite3_stmt *st = NULL;
    int rc = -1;

    if (n == 0) {
        return 0;
    }
    if (n > 400) { /* SQLite's compound SELECT limit is 500 */
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        emu_buf_printf(&sql, "%sSELECT %zu, EXISTS(SELECT 1 FROM main.\"%s\")",
                       i > 0 ? " UNION ALL " : "", i, t[i].name);
        if (t[i].in_snap) {
            emu_buf_printf(&sql, " OR EXISTS(SELECT 1 FROM snap.\"%s\")", t[i].name);
        }
    }
    if (sqlite3_prepare_v2(db, sql.data, -1, &st, NULL) == SQLITE_OK) {
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            sqlite3_int64 i = sqlite3_column_int64(st, 0);
            if (i >= 0 && (size_t)i < n) {
                t[i].nonempty = sqlite3_column_int(st, 1);
            }
        }
        rc = step == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    emu_buf_release(&sql);
    return rc;
}

/* Replaces the rows of every live table (but the kept ones) with the
 * snapshot's. The live connection has no transaction open and "snap" is
 * attached. Tables empty on both sides are left alone; tables whose schema
 * is the snapshot's are copied with SELECT *, others column by column.
 * Returns 0 or -1. */
static int snap_copy_tables(sqlite3 *db, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    struct snap_table *tables = NULL;
    size_t n = 0;
    size_t cap = 0;
    int rc = -1;

    if (sqlite3_prepare_v2(db,
                           "SELECT m.name, s.name IS NOT NULL, s.sql IS m.sql"
                           " FROM main.sqlite_master m LEFT JOIN snap.sqlite_master s"
                           " ON s.type = 'table' AND s.name = m.name"
                           " WHERE m.type = 'table'"
                           " AND (m.name NOT LIKE 'sqlite_%' OR m.name = 'sqlite_sequence')",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot list tables: %s", sqlite3_errmsg(db));
        goto out;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (t == NULL || snap_table_kept(t) || strchr(t, '"') != NULL) {
            continue; /* no quoted names in our schemas */
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            struct snap_table *nt = realloc(tables, ncap * sizeof(*nt));
            if (nt == NULL) {
                snprintf(err, errlen, "out of memory");
                goto out;
            }
            tables = nt;
            cap = ncap;
        }
        tables[n].name = strdup(t);
        if (tables[n].name == NULL) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        tables[n].in_snap = sqlite3_column_int(st, 1);
        tables[n].same = sqlite3_column_int(st, 2);
        tables[n].nonempty = 1;
        n++;
    }
    sqlite3_finalize(st);
    st = NULL;

    if (snap_exec(db, "BEGIN IMMEDIATE") != 0) {
        snprintf(err, errlen, "cannot begin: %s", sqlite3_errmsg(db));
        goto out;
    }
    if (snap_find_nonempty(db, tables, n) != 0) {
        for (size_t i = 0; i < n; i++) {
            tables[i].nonempty = 1;
        }
    }
    snap_exec(db, "PRAGMA defer_foreign_keys=ON");
    for (size_t i = 0; i < n; i++) {
        const char *t = tables[i].name;
        struct emu_buf sql = {0};
        struct emu_buf cols = {0};
        int ok = 1;
        if (!tables[i].nonempty) {
            continue;
        }
        emu_buf_printf(&sql, "DELETE FROM main.\"%s\";", t);
        if (tables[i].in_snap && tables[i].same) {
            emu_buf_printf(&sql, "INSERT INTO main.\"%s\" SELECT * FROM snap.\"%s\";", t, t);
        } else if (tables[i].in_snap && snap_common_columns(db, t, &cols) > 0) {
            emu_buf_printf(&sql, "INSERT INTO main.\"%s\" (%s) SELECT %s FROM snap.\"%s\";", t,
                           cols.data, cols.data, t);
        }
        ok = snap_exec(db, sql.data) == 0;
        emu_buf_release(&sql);
        emu_buf_release(&cols);
        if (!ok) {
            snprintf(err, errlen, "cannot restore table %s: %s", t, sqlite3_errmsg(db));
            snap_exec(db, "ROLLBACK");
            goto out;
        }
    }
    if (snap_exec(db, "COMMIT") != 0) {
        snprintf(err, errlen, "cannot commit: %s", sqlite3_errmsg(db));
        snap_exec(db, "ROLLBACK");
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    for (size_t i = 0; i < n; i++) {
        free(tables[i].name);
    }
    free(tables);
    return rc;
}

int snapshot_restore(const char *name, char *err, size_t errlen)
{
    char db_path[PATH_MAX];
    char obj_path[PATH_MAX];
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    int locked = 0;
    int attached = 0;
    int rc = -1;
    struct stat sb;

    if (!snap_name_ok(name)) {
        snprintf(err, errlen, "invalid snapshot name");
        return -1;
    }
    pthread_mutex_lock(&snap_lock);
    if (snap_path(db_path, sizeof(db_path), name, "state.db") != 0 ||
        snap_path(obj_path, sizeof(obj_path), name, "objects") != 0) {
        snprintf(err, errlen, "state directory path too long");
        goto out;
    }
    if (stat(db_path, &sb) != 0) {
        snprintf(err, errlen, "no snapshot named \"%s\"", name);
        rc = -2;
        goto out;
    }
    /* Hold the store lock (no handler runs) but leave the connection's
     * transaction: ATTACH is refused inside one. A transaction is opened
     * again before emu_store_end, which commits it. */
    if (emu_store_begin(0) != 0) {
        snprintf(err, errlen, "cannot lock the store");
        goto out;
    }
    locked = 1;
    db = emu_db();
    if (snap_exec(db, "COMMIT") != 0) {
        snprintf(err, errlen, "cannot leave the transaction: %s", sqlite3_errmsg(db));
        goto out;
    }
    if (sqlite3_prepare_v2(db, "ATTACH DATABASE ?1 AS snap", -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot attach: %s", sqlite3_errmsg(db));
        goto out;
    }
    sqlite3_bind_text(st, 1, db_path, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        snprintf(err, errlen, "cannot attach %s: %s", db_path, sqlite3_errmsg(db));
        goto out;
    }
    attached = 1;
    if (snap_copy_tables(db, err, errlen) != 0) {
        goto out;
    }
    if (snap_link_tree(obj_path, emu_objects_dir(), NULL) != 0) {
        snprintf(err, errlen, "cannot relink objects: %s", strerror(errno));
        goto out;
    }
    snap_prune_tree(emu_objects_dir(), obj_path);
    rc = 0;
out:
    sqlite3_finalize(st);
    if (attached) {
        snap_exec(emu_db(), "DETACH DATABASE snap");
    }
    if (locked) {
        if (sqlite3_get_autocommit(emu_db())) {
            snap_exec(emu_db(), "BEGIN");
        }
        emu_store_end(1);
    }
    pthread_mutex_unlock(&snap_lock);
    if (rc == 0) {
        for (size_t i = 0; emu_service_at(i) != NULL; i++) {
            const struct emu_service *svc = emu_service_at(i);
            if (svc->reload != NULL) {
                svc->reload();
            }
        }
    }
    return rc;
}

int snapshot_delete(const char *name, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    char gone[PATH_MAX];
    char tmpname[SNAP_NAME_MAX + 32];
    char rnd[17];
    int rc = -1;

    if (!snap_name_ok(name)) {
        snprintf(err, errlen, "invalid snapshot name");
        return -1;
    }
    pthread_mutex_lock(&snap_lock);
    emu_random_hex(rnd, 8);
    rnd[8] = 0;
    snprintf(tmpname, sizeof(tmpname), ".del-%s-%s", name, rnd);
    if (snap_path(dir, sizeof(dir), name, NULL) != 0 ||
        snap_path(gone, sizeof(gone), tmpname, NULL) != 0) {
        snprintf(err, errlen, "state directory path too long");
        goto out;
    }
    if (rename(dir, gone) != 0) {
        if (errno == ENOENT) {
            snprintf(err, errlen, "no snapshot named \"%s\"", name);
            rc = -2;
        } else {
            snprintf(err, errlen, "cannot delete: %s", strerror(errno));
        }
        goto out;
    }
    snap_rm_rf(gone);
    rc = 0;
out:
    pthread_mutex_unlock(&snap_lock);
    return rc;
}

/* ------------------------------------------------------------------- HTTP */

/* Describes one snapshot as JSON (caller owns), NULL when absent. */
static cJSON *snap_describe(const char *name)
{
    char dir[PATH_MAX];
    char db_path[PATH_MAX];
    char obj_path[PATH_MAX];
    char meta_path[PATH_MAX];
    char iso[32];
    struct stat st;
    struct snap_tally tl = {0, 0};

    if (snap_path(dir, sizeof(dir), name, NULL) != 0 ||
        snap_path(db_path, sizeof(db_path), name, "state.db") != 0 ||
        snap_path(obj_path, sizeof(obj_path), name, "objects") != 0 ||
        snap_path(meta_path, sizeof(meta_path), name, "meta.json") != 0 ||
        stat(db_path, &st) != 0) {
        return NULL;
    }
    double t = (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9;
    /* meta.json holds the save time; fall back to the file's */
    FILE *f = fopen(meta_path, "r");
    if (f != NULL) {
        char buf[1024];
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = 0;
        cJSON *m = cJSON_Parse(buf);
        const cJSON *ep = cJSON_GetObjectItemCaseSensitive(m, "epoch");
        if (cJSON_IsNumber(ep)) {
            t = ep->valuedouble;
        }
        cJSON_Delete(m);
    }
    snap_tally_tree(obj_path, &tl);
    cJSON *o = cJSON_CreateObject();
    if (o == NULL) {
        return NULL;
    }
    emu_time_iso(iso, t);
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "time", iso);
    cJSON_AddNumberToObject(o, "size", (double)st.st_size + (double)tl.bytes);
    cJSON_AddNumberToObject(o, "databaseBytes", (double)st.st_size);
    cJSON_AddNumberToObject(o, "objects", (double)tl.files);
    cJSON_AddNumberToObject(o, "epoch", t);
    return o;
}

/* qsort: by save time, then name. */
static int snap_cmp(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a;
    const cJSON *y = *(const cJSON *const *)b;
    double tx = cJSON_GetObjectItemCaseSensitive(x, "epoch")->valuedouble;
    double ty = cJSON_GetObjectItemCaseSensitive(y, "epoch")->valuedouble;
    if (tx != ty) {
        return tx < ty ? -1 : 1;
    }
    return strcmp(cJSON_GetObjectItemCaseSensitive(x, "name")->valuestring,
                  cJSON_GetObjectItemCaseSensitive(y, "name")->valuestring);
}

/* {"snapshots":[...]} sorted by time (caller owns). */
static cJSON *snap_list(void)
{
    char root[PATH_MAX];
    cJSON **items = NULL;
    size_t n = 0;
    size_t cap = 0;
    cJSON *out = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(out, "snapshots");

    if (out == NULL || arr == NULL || snap_path(root, sizeof(root), NULL, NULL) != 0) {
        return out;
    }
    pthread_mutex_lock(&snap_lock);
    DIR *d = opendir(root);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!snap_name_ok(e->d_name)) {
                continue;
            }
            cJSON *o = snap_describe(e->d_name);
            if (o == NULL) {
                continue;
            }
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 16;
                cJSON **ni = realloc(items, ncap * sizeof(*ni));
                if (ni == NULL) {
                    cJSON_Delete(o);
                    break;
                }
                items = ni;
                cap = ncap;
            }
            items[n++] = o;
        }
        closedir(d);
    }
    pthread_mutex_unlock(&snap_lock);
    if (n > 0) {
        qsort(items, n, sizeof(*items), snap_cmp);
    }
    for (size_t i = 0; i < n; i++) {
        cJSON_DeleteItemFromObjectCaseSensitive(items[i], "epoch");
        cJSON_AddItemToArray(arr, items[i]);
    }
    free(items);
    return out;
}

static void snap_http_error(struct emu_response *resp, int status, const char *code,
                            const char *message)
{
    cJSON *o = cJSON_CreateObject();
    if (o != NULL) {
        cJSON_AddStringToObject(o, "error", code);
        cJSON_AddStringToObject(o, "message", message);
    }
    emu_resp_json(resp, status, o);
}

/* Answers -1/-2 results of the snapshot functions. */
static void snap_http_fail(struct emu_response *resp, int rc, const char *err)
{
    if (rc == -2) {
        snap_http_error(resp, 404, "NoSuchSnapshot", err);
    } else if (strncmp(err, "invalid", 7) == 0) {
        snap_http_error(resp, 400, "InvalidSnapshotName", err);
    } else {
        emu_error_log("snapshot: %s", err);
        snap_http_error(resp, 500, "InternalFailure", err);
    }
}

void snapshot_http(struct emu_request *req, struct emu_response *resp)
{
    static const char prefix[] = "/_greenroom/snapshots";
    char name[SNAP_NAME_MAX + 2];
    char err[512];
    const char *rest;
    const char *method = req->method;

    err[0] = 0;
    if (strncmp(req->path, prefix, sizeof(prefix) - 1) != 0) {
        snap_http_error(resp, 404, "NotFound", "unknown snapshot path");
        return;
    }
    rest = req->path + sizeof(prefix) - 1;
    while (*rest == '/') {
        rest++;
    }
    if (*rest == 0) {
        if (strcmp(method, "GET") == 0) {
            emu_resp_json(resp, 200, snap_list());
            return;
        }
        if (strcmp(method, "POST") != 0 && strcmp(method, "PUT") != 0) {
            snap_http_error(resp, 405, "MethodNotAllowed", "use GET or POST");
            return;
        }
        cJSON *doc = cJSON_ParseWithLength(req->body != NULL ? req->body : "", req->body_len);
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(doc, "name");
        if (!cJSON_IsString(nm)) {
            cJSON_Delete(doc);
            snap_http_error(resp, 400, "InvalidRequest", "the body must be {\"name\": \"...\"}");
            return;
        }
        snprintf(name, sizeof(name), "%s", nm->valuestring);
        int too_long = strlen(nm->valuestring) > SNAP_NAME_MAX;
        cJSON_Delete(doc);
        if (too_long) {
            snap_http_error(resp, 400, "InvalidSnapshotName", "invalid snapshot name: too long");
            return;
        }
        double t0 = snap_now_ms();
        int rc = snapshot_save(name, err, sizeof(err));
        double ms = snap_now_ms() - t0;
        if (rc != 0) {
            snap_http_fail(resp, rc, err);
            return;
        }
        cJSON *o = snap_describe(name);
        if (o == NULL) {
            snap_http_error(resp, 500, "InternalFailure", "snapshot vanished");
            return;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(o, "epoch");
        cJSON_AddNumberToObject(o, "ms", ms);
        emu_info("snapshot %s saved in %.2f ms", name, ms);
        emu_resp_json(resp, 200, o);
        return;
    }

    /* /{name} or /{name}/restore */
    const char *slash = strchr(rest, '/');
    size_t nlen = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
    const char *action = slash != NULL ? slash + 1 : "";
    if (nlen == 0 || nlen > SNAP_NAME_MAX) {
        snap_http_error(resp, 400, "InvalidSnapshotName", "invalid snapshot name");
        return;
    }
    memcpy(name, rest, nlen);
    name[nlen] = 0;
    if (!snap_name_ok(name)) {
        snap_http_error(resp, 400, "InvalidSnapshotName",
                        "invalid snapshot name: use 1-128 of A-Z a-z 0-9 . _ - "
                        "(not starting with '.')");
        return;
    }
    if (strcmp(action, "restore") == 0 || strcmp(action, "restore/") == 0) {
        if (strcmp(method, "POST") != 0 && strcmp(method, "PUT") != 0) {
            snap_http_error(resp, 405, "MethodNotAllowed", "use POST");
            return;
        }
        double t0 = snap_now_ms();
        int rc = snapshot_restore(name, err, sizeof(err));
        double ms = snap_now_ms() - t0;
        if (rc != 0) {
            snap_http_fail(resp, rc, err);
            return;
        }
        emu_info("snapshot %s restored in %.2f ms", name, ms);
        cJSON *o = cJSON_CreateObject();
        if (o != NULL) {
            cJSON_AddStringToObject(o, "name", name);
            cJSON_AddBoolToObject(o, "restored", 1);
            cJSON_AddNumberToObject(o, "ms", ms);
        }
        emu_resp_json(resp, 200, o);
        return;
    }
    if (action[0] != 0) {
        snap_http_error(resp, 404, "NotFound", "unknown snapshot path");
        return;
    }
    if (strcmp(method, "GET") == 0) {
        pthread_mutex_lock(&snap_lock);
        cJSON *o = snap_describe(name);
        pthread_mutex_unlock(&snap_lock);
        if (o == NULL) {
            snprintf(err, sizeof(err), "no snapshot named \"%s\"", name);
            snap_http_error(resp, 404, "NoSuchSnapshot", err);
            return;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(o, "epoch");
        emu_resp_json(resp, 200, o);
        return;
    }
    if (strcmp(method, "DELETE") == 0) {
        int rc = snapshot_delete(name, err, sizeof(err));
        if (rc != 0) {
            snap_http_fail(resp, rc, err);
            return;
        }
        cJSON *o = cJSON_CreateObject();
        if (o != NULL) {
            cJSON_AddStringToObject(o, "name", name);
            cJSON_AddBoolToObject(o, "deleted", 1);
        }
        emu_resp_json(resp, 200, o);
        return;
    }
    snap_http_error(resp, 405, "MethodNotAllowed", "use GET or DELETE (POST .../restore)");
}
