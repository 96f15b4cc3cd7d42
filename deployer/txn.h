/*
 * txn.h - stagehand deploy as a transaction (issue 9): the plan of steps,
 * the journal, the per-stage lease lock and conflict-safe metadata.
 *
 * A deploy is a plan of rows {kind, item}; each kind is one row of the step
 * table (txn_steps.c) with an apply and an undo. Everything a step needs to
 * undo itself (or, in the commit phase, to redo itself) is stored in the
 * row's JSON ("undo"/"redo" objects) inside the journal document, which is
 * written to the meta bucket before each step. So `stagehand recover`, in
 * another process, can finish the compensation (prepare phase) or the
 * commit (commit phase) from the journal alone.
 *
 * Objects in the meta bucket (custom.meta.name), under
 * serverless/<project>/stagehand/<stage>-<rc>/:
 *   lock.json      lease {holder, txn, host, pid, start, expiry} (If-None-Match: *)
 *   journal.json   the current/last transaction
 *   releases.json  the last releases of the stage (for rollback and diff)
 * and serverless/<project>/stagehand/api-<rc>.lock, the per-REST-API lock
 * that serialises changes to the shared working copy.
 *
 * Ownership: struct txn owns its cJSON documents (journal, releases) and
 * strings; txn_release frees them. Step functions borrow the txn.
 */
#ifndef TXN_H
#define TXN_H

#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "dep.h"

enum txn_phase {
    TXN_PREPARE = 0, /* moves no traffic; compensated on failure */
    TXN_COMMIT = 1,  /* moves traffic; redone by recover once started */
};

struct txn;

/* One row of the step table. apply/undo return 0 or -1 with err; they read
 * and write row (the plan row: {"kind","item","status","undo":{},"redo":{}}). */
struct txn_step_kind {
    const char *kind;
    enum txn_phase phase;
    int (*apply)(struct txn *t, cJSON *row, struct dep_err *err);
    int (*undo)(struct txn *t, cJSON *row, struct dep_err *err);
    const char *what; /* one line for --help/status */
};

/* The step table (txn_steps.c), terminated by a NULL kind. */
extern const struct txn_step_kind txn_step_table[];
const struct txn_step_kind *txn_step_find(const char *kind);

/* A lease lock object. */
struct txn_lock {
    char bucket[256];
    char key[512];
    char region[64];
    char etag[128]; /* ETag of our lease ("" when not held) */
    char holder[256];
    char txn_id[64]; /* written into the lease */
    long ttl_s;
    time_t renewed; /* when we last wrote it */
    int held;
};

struct txn {
    struct dep_ctx *c;
    char stage[64];
    char region[64];
    char rc[32]; /* region code: useast1 */
    char account[32];
    char meta_bucket[256]; /* custom.meta.name */
    char meta_region[64];  /* custom.meta.region */
    char meta_key[512];    /* the stage's region variables object */
    char prefix[512];      /* serverless/<project>/stagehand/<stage>-<rc>/ */
    char api_lock_key[512];
    char id[64];    /* transaction id */
    cJSON *journal; /* the journal document (owned) */
    char journal_etag[128];
    int journal_dirty;      /* journal changed since the last write */
    char journal_phase[32]; /* the phase in the last journal written */
    cJSON *releases;        /* releases.json ({"releases":[...]}, owned) */
    char releases_etag[128];
    struct txn_lock lock;     /* the stage lock */
    struct txn_lock api_lock; /* the REST API lock (held during endpoint steps) */
    cJSON *before;     /* the stage's state before (txn_capture), also journal["before"] (borrowed
                          there) */
    char *pulled_meta; /* meta object read at the start (NULL: absent), owned */
    char pulled_etag[128];
    int pulled;  /* 1: pulled_meta/pulled_etag are valid */
    int crashed; /* finishing a dead process's journal (recover) */
    int force_unlock;
    int no_journal;        /* tests: skip journal writes (measuring overhead) */
    const char *skip_undo; /* test hook STAGEHAND_TEST_SKIP_UNDO: kind whose undo is skipped */
};

/* ---------------------------------------------------------------- txn */

/* Initialise t for c's stage/region (meta location, keys, id). Returns 0 or
 * -1 with err. Release with txn_release. */
int txn_init(struct txn *t, struct dep_ctx *c, struct dep_err *err);
void txn_release(struct txn *t);
/* Write the journal document (PutObject with If-Match of the last write, or
 * If-None-Match * for a new one; the lease is renewed when due). */
int txn_journal_write(struct txn *t, struct dep_err *err);
/* Every step calls it right before its first mutating call: writes the
 * journal when its phase changed since the last write (so the commit phase
 * is on record before anything moves traffic). Within a phase no write is
 * needed: compensation after a crash undoes every prepare row (undo is
 * state-based and idempotent), and recover redoes every commit row not on
 * record as done. Returns 0 or -1. */
int txn_journal_touch(struct txn *t, struct dep_err *err);
/* Read the stage's journal (NULL and 0 when absent). *out caller-owned. */
int txn_journal_read(struct txn *t, cJSON **out, struct dep_err *err);
/* Run the plan in t->journal: apply rows in order; on failure compensate in
 * reverse (prepare) or keep redoing (commit). Returns an exit code. */
int txn_run(struct txn *t);
/* Finish a journal found in the meta bucket (recover). Returns an exit code. */
int txn_finish(struct txn *t);
/* Reads releases.json into t->releases ({"releases":[]} when absent). */
int txn_releases_load(struct txn *t, struct dep_err *err);
/* Appends a release record (takes rel) and writes releases.json (keeps 10). */
int txn_releases_push(struct txn *t, cJSON *rel_take, struct dep_err *err);
/* 1 when the option is among c->opts->rest (e.g. "--force-unlock"). */
int txn_opt_flag(const struct dep_ctx *c, const char *flag);
/* Value of "--name value" / "--name=value" among c->opts->rest, or NULL. */
const char *txn_opt_value(const struct dep_ctx *c, const char *name);

/* ---------------------------------------------------------------- lock */

/* Fill a lock for bucket/key. */
void txn_lock_init(struct txn_lock *l, const char *region, const char *bucket, const char *key,
                   long ttl_s);
/* Acquire with If-None-Match: *. A held, unexpired lease fails with LOCAL
 * "StageLocked" naming the holder (wait_ms > 0: poll until then first). An
 * expired lease (or a dead holder on this host, or force) is taken over
 * with If-Match. txn_id goes into the lease. Returns 0 or -1. */
int txn_lock_acquire(struct txn_lock *l, const char *txn_id, int force, long wait_ms,
                     struct dep_err *err);
/* Renew when a third of the TTL has passed (If-Match our ETag). */
int txn_lock_renew(struct txn_lock *l, int always, struct dep_err *err);
/* Delete our lease (If-Match). Safe to call when not held. */
void txn_lock_release(struct txn_lock *l);
/* Read the lease: *out caller-owned or NULL when absent. */
int txn_lock_peek(const struct txn_lock *l, cJSON **out, char *etag, struct dep_err *err);

/* ---------------------------------------------------------------- meta */

/* Read an object with its ETag: *out new string ("" never; NULL when
 * absent), etag filled ("" when absent). Creates nothing. Returns 0/-1. */
int txn_meta_get(const char *region, const char *bucket, const char *key, char **out, char *etag,
                 struct dep_err *err);
/* Conditional write: if_match "" means the object must not exist
 * (If-None-Match *). On 412 fails with LOCAL "MetaConflict" and a readable
 * diff of the remote against expected (may be NULL) in the message.
 * new_etag filled on success. */
int txn_meta_put(const char *region, const char *bucket, const char *key, const char *body,
                 const char *if_match, const char *expected, char *new_etag, struct dep_err *err);
/* Make sure the bucket exists (HeadBucket, CreateBucket). */
int txn_meta_bucket_ensure(const char *region, const char *bucket, struct dep_err *err);
/* Readable diff of two JSON objects' top-level keys ("+ k: v", "- k: v",
 * "~ k: old -> new") into a new string (caller frees). */
char *txn_json_diff(const cJSON *from, const cJSON *to);

/* ------------------------------------------------------------ helpers */

/* 1 when err has this code, whatever its kind (AWS or local). */
int txn_err_code(const struct dep_err *err, const char *code);

/* Compact JSON of a tree, new string. */
char *txn_json_str(const cJSON *j);
/* String member or "" (borrowed). */
const char *txn_jstr(const cJSON *o, const char *key);
/* Current UTC time as ISO-8601 into buf. */
const char *txn_now_iso(char *buf, size_t n);
/* Milliseconds on a monotonic clock. */
double txn_ms(void);

/* After the commit point the stage is all-new; what is left (the journal
 * marked committed, the release recorded, the lock released) is not given
 * up on a short outage. A settle loop: struct txn_settle s; txn_settle_start(&s);
 * do { ... } while (failed && txn_settle_again(&s, &err)); retries transient
 * errors (no answer, 5xx, throttling) with backoff from 50 ms to 1 s for up
 * to STAGEHAND_SETTLE_SECONDS (default 20). */
struct txn_settle {
    double deadline;
    long wait_ms;
};
void txn_settle_start(struct txn_settle *s);
/* 1 (after sleeping) when err is transient and time is left, else 0. */
int txn_settle_again(struct txn_settle *s, const struct dep_err *err);

#endif
