/*
 * txn_engine.c - the transaction engine (issue 9): runs a plan of steps,
 * writes the journal before each step, compensates in reverse order on
 * failure, finishes a dead process's journal (recover), keeps the releases.
 *
 * Journal document (serverless/<project>/stagehand/<stage>-<rc>/journal.json):
 * {"version":1,"txn":ID,"project","stage","region","holder","started","updated",
 *  "phase":"prepare"|"commit"|"committed"|"compensating"|"rolled-back"|"compensation-failed",
 *  "error":"...", "before":{txn_capture image + "localVars"},
 *  "plan":[{"kind","item","status":"pending"|"applying"|"done"|"failed"|"undone"|"undo-skipped",
 *           "undo":{},"redo":{}}]}
 * Phase rules: a failure in any phase compensates everything applied so far
 * (all-old). `recover` compensates a journal left in prepare/compensating,
 * and completes one left in commit (all-new), then compensates if that fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "txn.h"
#include "txn_int.h"

/* ------------------------------------------------------------ options */

/* 1 when flag is among c->opts->rest. */
int txn_opt_flag(const struct dep_ctx *c, const char *flag)
{
    if (!c->opts) {
        return 0;
    }
    for (int i = 0; i < c->opts->rest_n; i++) {
        if (strcmp(c->opts->rest[i], flag) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Options of ours that take a value. main.c hands unknown options to us in
 * opts->rest but a separate value ("--kinds error") lands among the
 * positional names, in order: the i-th bare value option takes names[i]. */
static const char *const value_opts[] = {"--kinds",     "--kind", "--only",  "--seed",
                                         "--max-cases", "--flow", "--junit", "--watch",
                                         "--greenroom", "--jobs", NULL};

static int is_value_opt(const char *a)
{
    for (int i = 0; value_opts[i]; i++) {
        if (strcmp(a, value_opts[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Value of "--name value" or "--name=value" (see above), or NULL. */
const char *txn_opt_value(const struct dep_ctx *c, const char *name)
{
    size_t n = strlen(name);
    int bare = 0;
    if (!c->opts) {
        return NULL;
    }
    for (int i = 0; i < c->opts->rest_n; i++) {
        const char *a = c->opts->rest[i];
        if (strncmp(a, name, n) == 0 && a[n] == '=') {
            return a + n + 1;
        }
        if (strcmp(a, name) == 0) {
            return bare < c->opts->names_n ? c->opts->names[bare] : NULL;
        }
        if (is_value_opt(a)) {
            bare++;
        }
    }
    return NULL;
}

/* -------------------------------------------------------------- setup */

/* Initialise t (see txn.h). Returns 0 or -1 with err. */
int txn_init(struct txn *t, struct dep_ctx *c, struct dep_err *err)
{
    char key[512];
    memset(t, 0, sizeof(*t));
    t->c = c;
    snprintf(t->stage, sizeof(t->stage), "%s", c->stage);
    snprintf(t->region, sizeof(t->region), "%s", c->region);
    dep_region_code(t->region, t->rc, sizeof(t->rc));
    const char *acct = dep_ctx_account(c, err);
    if (!acct) {
        return -1;
    }
    snprintf(t->account, sizeof(t->account), "%s", acct);
    if (dep_meta_location(c, 1, t->meta_bucket, sizeof(t->meta_bucket), t->meta_key,
                          sizeof(t->meta_key), t->meta_region, sizeof(t->meta_region), err) < 0) {
        if (dep_meta_configured(c)) {
            return -1; /* custom.meta is there but unusable: say why */
        }
        /* No custom.meta: the journal, lock and variables still need a
         * home. One bucket per account and region, named like the meta one. */
        char path[1024];
        const char *file;
        dep_project_vars_path(&c->project, 2, path, sizeof(path));
        file = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        snprintf(t->meta_bucket, sizeof(t->meta_bucket), "stagehand-%s-%s", t->account, t->region);
        snprintf(t->meta_region, sizeof(t->meta_region), "%s", t->region);
        snprintf(t->meta_key, sizeof(t->meta_key), "serverless/%s/variables/%s", c->project.name,
                 file);
        dep_err_clear(err);
        static int warned;
        if (!warned) {
            warned = 1;
            dep_out_warn(
                "s-project.json has no custom.meta {name, region}: using s3://%s for the stage's "
                "variables, journal and lock",
                t->meta_bucket);
        }
    }
    snprintf(t->prefix, sizeof(t->prefix), "serverless/%s/stagehand/%s-%s/", c->project.name,
             t->stage, t->rc);
    snprintf(t->api_lock_key, sizeof(t->api_lock_key), "serverless/%s/stagehand/api-%s.lock",
             c->project.name, t->rc);
    struct timespec ts;
    struct tm tm;
    char tbuf[32];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(tbuf, sizeof(tbuf), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(t->id, sizeof(t->id), "%s-%ld-%04lx", tbuf, (long)getpid(),
             (long)(ts.tv_nsec / 1000 % 0xffff));
    long ttl = 300;
    const char *e = getenv("STAGEHAND_LOCK_TTL");
    if (e && *e) {
        char *end = NULL;
        long v = strtol(e, &end, 10);
        if (end && *end == 0 && v > 0) {
            ttl = v;
        }
    }
    snprintf(key, sizeof(key), "%slock.json", t->prefix);
    txn_lock_init(&t->lock, t->meta_region, t->meta_bucket, key, ttl);
    txn_lock_init(&t->api_lock, t->meta_region, t->meta_bucket, t->api_lock_key, ttl);
    t->force_unlock = txn_opt_flag(c, "--force-unlock");
    const char *nj = getenv("STAGEHAND_NO_JOURNAL");
    t->no_journal = nj && strcmp(nj, "1") == 0;
    t->skip_undo = getenv("STAGEHAND_TEST_SKIP_UNDO");
    return 0;
}

void txn_release(struct txn *t)
{
    cJSON_Delete(t->journal);
    cJSON_Delete(t->releases);
    free(t->pulled_meta);
    t->journal = NULL;
    t->releases = NULL;
    t->pulled_meta = NULL;
    t->before = NULL;
}

/* Compact JSON of the region variables layer (new string). */
char *txn_region_vars_json(struct txn *t)
{
    if (!t->c->project.vars_region) {
        return txn_json_str(NULL);
    }
    return cJSON_PrintUnformatted(t->c->project.vars_region);
}

/* Append a plan row. Returns it (borrowed). */
cJSON *txn_plan_add(struct txn *t, const char *kind, const char *item)
{
    cJSON *plan = cJSON_GetObjectItemCaseSensitive(t->journal, "plan");
    if (!plan) {
        plan = cJSON_AddArrayToObject(t->journal, "plan");
    }
    cJSON *row = cJSON_CreateObject();
    cJSON_AddStringToObject(row, "kind", kind);
    cJSON_AddStringToObject(row, "item", item ? item : "");
    cJSON_AddStringToObject(row, "status", "pending");
    cJSON_AddObjectToObject(row, "undo");
    cJSON_AddObjectToObject(row, "redo");
    cJSON_AddItemToArray(plan, row);
    return row;
}

static void jset(cJSON *o, const char *key, const char *v)
{
    if (cJSON_GetObjectItemCaseSensitive(o, key)) {
        cJSON_ReplaceItemInObjectCaseSensitive(o, key, cJSON_CreateString(v ? v : ""));
    } else {
        cJSON_AddStringToObject(o, key, v ? v : "");
    }
}

/* ------------------------------------------------------------ journal */

int txn_journal_write(struct txn *t, struct dep_err *err)
{
    char now[40];
    if (txn_lock_renew(&t->lock, 0, err) < 0) {
        return -1;
    }
    if (t->no_journal) {
        return 0;
    }
    jset(t->journal, "updated", txn_now_iso(now, sizeof(now)));
    char *body = cJSON_PrintUnformatted(t->journal);
    char key[600], etag[128] = "";
    snprintf(key, sizeof(key), "%sjournal.json", t->prefix);
    int rc =
        txn_meta_put(t->meta_region, t->meta_bucket, key, body, t->journal_etag, NULL, etag, err);
    free(body);
    if (rc == 0) {
        snprintf(t->journal_etag, sizeof(t->journal_etag), "%s", etag);
        snprintf(t->journal_phase, sizeof(t->journal_phase), "%s", txn_jstr(t->journal, "phase"));
        t->journal_dirty = 0;
    }
    return rc;
}

int txn_journal_touch(struct txn *t, struct dep_err *err)
{
    if (!t->journal_dirty || strcmp(t->journal_phase, txn_jstr(t->journal, "phase")) == 0) {
        return txn_lock_renew(&t->lock, 0, err);
    }
    return txn_journal_write(t, err);
}

int txn_journal_read(struct txn *t, cJSON **out, struct dep_err *err)
{
    char key[600];
    char *body = NULL;
    *out = NULL;
    snprintf(key, sizeof(key), "%sjournal.json", t->prefix);
    if (txn_meta_get(t->meta_region, t->meta_bucket, key, &body, t->journal_etag, err) < 0) {
        return -1;
    }
    if (body) {
        *out = cJSON_Parse(body);
        free(body);
        if (!*out) {
            dep_err_local(err, "BadJournal", "s3://%s/%s is not valid JSON", t->meta_bucket, key);
            return -1;
        }
    }
    return 0;
}

/* ----------------------------------------------------------- releases */

int txn_releases_load(struct txn *t, struct dep_err *err)
{
    char key[600];
    char *body = NULL;
    snprintf(key, sizeof(key), "%sreleases.json", t->prefix);
    cJSON_Delete(t->releases);
    t->releases = NULL;
    if (txn_meta_get(t->meta_region, t->meta_bucket, key, &body, t->releases_etag, err) < 0) {
        return -1;
    }
    t->releases = body ? cJSON_Parse(body) : NULL;
    free(body);
    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(t->releases, "releases"))) {
        cJSON_Delete(t->releases);
        t->releases = cJSON_CreateObject();
        cJSON_AddArrayToObject(t->releases, "releases");
    }
    return 0;
}

int txn_releases_push(struct txn *t, cJSON *rel_take, struct dep_err *err)
{
    char key[600], etag[128] = "";
    if (!t->releases && txn_releases_load(t, err) < 0) {
        cJSON_Delete(rel_take);
        return -1;
    }
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(t->releases, "releases");
    cJSON_AddItemToArray(arr, rel_take);
    while (cJSON_GetArraySize(arr) > 10) {
        cJSON_DeleteItemFromArray(arr, 0);
    }
    snprintf(key, sizeof(key), "%sreleases.json", t->prefix);
    char *body = cJSON_PrintUnformatted(t->releases);
    int rc =
        txn_meta_put(t->meta_region, t->meta_bucket, key, body, t->releases_etag, NULL, etag, err);
    free(body);
    if (rc == 0) {
        snprintf(t->releases_etag, sizeof(t->releases_etag), "%s", etag);
    }
    return rc;
}

/* The release record of a committed plan (new). */
static cJSON *release_record(struct txn *t)
{
    cJSON *rel = cJSON_CreateObject();
    char now[40];
    cJSON_AddStringToObject(rel, "txn", t->id);
    cJSON_AddStringToObject(rel, "time", txn_now_iso(now, sizeof(now)));
    cJSON *aliases = cJSON_AddObjectToObject(rel, "aliases");
    cJSON *row;
    const char *api = "", *dep = "", *fp = "";
    cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(t->journal, "plan"))
    {
        const char *kind = txn_jstr(row, "kind");
        cJSON *redo = cJSON_GetObjectItemCaseSensitive(row, "redo");
        if (strcmp(kind, "alias") == 0) {
            cJSON *a = cJSON_AddObjectToObject(aliases, txn_jstr(row, "item"));
            cJSON_AddStringToObject(a, "lambda", txn_jstr(redo, "lambda"));
            cJSON_AddStringToObject(a, "version", txn_jstr(redo, "version"));
        } else if (strcmp(kind, "stage") == 0) {
            api = txn_jstr(redo, "apiId");
            dep = txn_jstr(redo, "deploymentId");
        } else if (strcmp(kind, "endpoints") == 0) {
            fp = txn_jstr(redo, "fingerprint");
            cJSON *eps = cJSON_GetObjectItemCaseSensitive(redo, "endpoints");
            if (eps) {
                cJSON_AddItemToObject(rel, "endpoints", cJSON_Duplicate(eps, 1));
            }
        }
    }
    /* Aliases the plan did not touch keep what they had. */
    cJSON *fns = cJSON_GetObjectItemCaseSensitive(t->before, "functions");
    cJSON *f;
    cJSON_ArrayForEach(f, fns)
    {
        cJSON *a = cJSON_GetObjectItemCaseSensitive(f, "alias");
        if (!cJSON_GetObjectItemCaseSensitive(aliases, f->string) &&
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "exists"))) {
            cJSON *o = cJSON_AddObjectToObject(aliases, f->string);
            cJSON_AddStringToObject(o, "lambda", txn_jstr(f, "lambda"));
            cJSON_AddStringToObject(o, "version", txn_jstr(a, "version"));
        }
    }
    if (!*dep) {
        cJSON *st = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(t->before, "api"), "stage");
        dep = txn_jstr(st, "deploymentId");
        api = txn_jstr(cJSON_GetObjectItemCaseSensitive(t->before, "api"), "id");
    }
    cJSON_AddStringToObject(rel, "apiId", api);
    cJSON_AddStringToObject(rel, "deploymentId", dep);
    cJSON_AddStringToObject(rel, "apiFingerprint", fp);
    cJSON_AddStringToObject(rel, "kind", txn_jstr(t->journal, "kind"));
    return rel;
}

/* ------------------------------------------------------------ running */

/* Fill the commit rows' redo from the prepare rows (idempotent: keeps
 * values already there, as in a rollback plan). */
static void bind_commit(struct txn *t)
{
    cJSON *row;
    cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(t->journal, "plan"))
    {
        const char *kind = txn_jstr(row, "kind");
        cJSON *redo = cJSON_GetObjectItemCaseSensitive(row, "redo");
        if (strcmp(kind, "alias") == 0) {
            cJSON *code = txn_plan_row(t, "code", txn_jstr(row, "item"));
            cJSON *cr = cJSON_GetObjectItemCaseSensitive(code, "redo");
            cJSON *bf = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(t->before, "functions"), txn_jstr(row, "item"));
            if (!*txn_jstr(redo, "lambda")) {
                jset(redo, "lambda", txn_jstr(bf, "lambda"));
            }
            if (code && !*txn_jstr(redo, "version")) {
                jset(redo, "version", txn_jstr(cr, "version"));
                if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cr, "aliasCreated"))) {
                    cJSON_AddBoolToObject(redo, "aliasCreated", 1);
                }
            }
        } else if (strcmp(kind, "stage") == 0) {
            if (!*txn_jstr(redo, "apiId")) {
                jset(
                    redo, "apiId",
                    txn_jstr(cJSON_GetObjectItemCaseSensitive(txn_plan_row(t, "api", NULL), "redo"),
                             "apiId"));
            }
            if (!*txn_jstr(redo, "deploymentId")) {
                jset(redo, "deploymentId",
                     txn_jstr(cJSON_GetObjectItemCaseSensitive(txn_plan_row(t, "endpoints", NULL),
                                                               "redo"),
                              "deploymentId"));
            }
        } else if (strcmp(kind, "meta") == 0 && !cJSON_GetObjectItemCaseSensitive(redo, "body")) {
            char *body = txn_region_vars_json(t);
            jset(redo, "body", body);
            free(body);
        }
    }
}

static const char *row_label(cJSON *row, char *buf, size_t n)
{
    const char *item = txn_jstr(row, "item");
    snprintf(buf, n, "%s%s%s", txn_jstr(row, "kind"), *item ? " " : "", item);
    return buf;
}

/* Put the local region variables back as they were before the deploy. */
static void restore_local_vars(struct txn *t)
{
    const char *lv = txn_jstr(t->before, "localVars");
    cJSON *v = *lv ? cJSON_Parse(lv) : NULL;
    struct dep_err err;
    dep_err_clear(&err);
    if (!v || !t->c->project.root) {
        cJSON_Delete(v);
        return;
    }
    cJSON_Delete(t->c->project.vars_region);
    t->c->project.vars_region = v;
    dep_project_save_vars(&t->c->project, 1, &err);
}

/* Undo rows from index `from` down to 0: the rows this process applied,
 * or (after a crash, t->crashed) every prepare row not on record as undone,
 * since rows are not journaled one by one. Returns an exit code. */
static int compensate(struct txn *t, int from, const struct dep_err *cause)
{
    cJSON *plan = cJSON_GetObjectItemCaseSensitive(t->journal, "plan");
    struct dep_err err;
    char label[300], ebuf[1400];
    dep_err_clear(&err);
    jset(t->journal, "phase", "compensating");
    if (cause) {
        jset(t->journal, "error", dep_err_str(cause, ebuf, sizeof(ebuf)));
    }
    if (txn_journal_write(t, &err) < 0) {
        dep_out_warn("journal write failed while compensating: %s",
                     dep_err_str(&err, ebuf, sizeof(ebuf)));
        dep_err_clear(&err);
    }
    dep_out_step("compensate");
    for (int j = from; j >= 0; j--) {
        cJSON *row = cJSON_GetArrayItem(plan, j);
        const char *st = txn_jstr(row, "status");
        const struct txn_step_kind *k = txn_step_find(txn_jstr(row, "kind"));
        if (!k) {
            continue;
        }
        int maybe = t->crashed && strcmp(st, "pending") == 0;
        if (strcmp(st, "applying") != 0 && strcmp(st, "failed") != 0 && strcmp(st, "done") != 0 &&
            !maybe) {
            continue;
        }
        row_label(row, label, sizeof(label));
        if (t->skip_undo && strcmp(t->skip_undo, k->kind) == 0) {
            jset(row, "status", "undo-skipped"); /* test hook: a deliberately broken compensation */
            continue;
        }
        int rc = k->undo(t, row, &err);
        if (rc < 0) {
            dep_err_clear(&err);
            rc = k->undo(t, row, &err); /* once more: transient errors */
        }
        if (rc < 0) {
            dep_out_error(label, &err);
            jset(t->journal, "phase", "compensation-failed");
            jset(t->journal, "error", dep_err_str(&err, ebuf, sizeof(ebuf)));
            struct dep_err e2;
            dep_err_clear(&e2);
            txn_journal_write(t, &e2);
            dep_out_step_done("compensate", "failed");
            dep_out_errorf("compensate",
                           "compensation stopped at %s; run `stagehand recover -s %s -r %s`", label,
                           t->stage, t->region);
            return DEP_EXIT_FAIL;
        }
        jset(row, "status", "undone");
        if (txn_journal_write(t, &err) < 0) {
            dep_out_warn("journal write failed while compensating: %s",
                         dep_err_str(&err, ebuf, sizeof(ebuf)));
            dep_err_clear(&err);
        }
    }
    jset(t->journal, "phase", "rolled-back");
    if (txn_journal_write(t, &err) < 0) {
        dep_out_warn("journal write failed: %s", dep_err_str(&err, ebuf, sizeof(ebuf)));
    }
    restore_local_vars(t);
    dep_out_step_done("compensate", "ok");
    dep_out_info("stage %s is back to its state before the deploy", t->stage);
    if (cause && (txn_err_code(cause, "MetaConflict") || txn_err_code(cause, "LockLost") ||
                  txn_err_code(cause, "StageLocked"))) {
        return DEP_EXIT_CONFLICT; /* rolled back because someone else changed the stage */
    }
    return DEP_EXIT_ROLLED_BACK;
}

/* After a conditional write was refused (412), did our own earlier attempt
 * land (its answer lost)? 1 when the remote journal is this transaction's,
 * in the phase we wrote (t->journal_etag then follows it). */
static int journal_landed(struct txn *t, const struct dep_err *err)
{
    cJSON *remote = NULL;
    struct dep_err e2;
    int landed = 0;
    if (err->http_status != 412 && !txn_err_code(err, "MetaConflict")) {
        return 0;
    }
    dep_err_clear(&e2);
    if (txn_journal_read(t, &remote, &e2) == 0 && remote &&
        strcmp(txn_jstr(remote, "txn"), t->id) == 0 &&
        strcmp(txn_jstr(remote, "phase"), txn_jstr(t->journal, "phase")) == 0) {
        landed = 1;
        t->journal_dirty = 0;
    }
    cJSON_Delete(remote);
    return landed;
}

/* Record the release of this transaction in releases.json, unless the
 * last release is the same (a deploy that changed nothing is not a new
 * release: rollback goes to the previous different one) or it is already
 * there (an earlier attempt whose answer was lost). Returns 0 or -1. */
static int record_release(struct txn *t, struct dep_err *err)
{
    if (!t->releases && txn_releases_load(t, err) < 0) {
        return -1;
    }
    cJSON *rels = cJSON_GetObjectItemCaseSensitive(t->releases, "releases");
    cJSON *last = cJSON_GetArrayItem(rels, cJSON_GetArraySize(rels) - 1);
    cJSON *x;
    cJSON_ArrayForEach(x, rels)
    {
        if (strcmp(txn_jstr(x, "txn"), t->id) == 0) {
            return 0;
        }
    }
    cJSON *rel = release_record(t);
    if (last &&
        cJSON_Compare(cJSON_GetObjectItemCaseSensitive(last, "aliases"),
                      cJSON_GetObjectItemCaseSensitive(rel, "aliases"), 1) &&
        strcmp(txn_jstr(last, "deploymentId"), txn_jstr(rel, "deploymentId")) == 0) {
        cJSON_Delete(rel);
        return 0;
    }
    if (txn_releases_push(t, rel, err) < 0) {
        cJSON_Delete(t->releases); /* reloaded by the next attempt */
        t->releases = NULL;
        return -1;
    }
    return 0;
}

/* Mark committed, record the release. The stage is all-new at this point:
 * a short outage is waited out (txn_settle), a longer one leaves warnings
 * (and `stagehand recover` finishes the bookkeeping). Returns an exit code. */
static int committed(struct txn *t)
{
    struct dep_err err;
    struct txn_settle s;
    char ebuf[1400];
    int rc;
    jset(t->journal, "phase", "committed");
    txn_settle_start(&s);
    do {
        dep_err_clear(&err);
        rc = txn_journal_write(t, &err);
        if (rc < 0 && journal_landed(t, &err)) {
            rc = 0;
        }
    } while (rc < 0 && txn_settle_again(&s, &err));
    if (rc < 0) {
        dep_out_warn("journal write failed after commit: %s",
                     dep_err_str(&err, ebuf, sizeof(ebuf)));
    }
    txn_settle_start(&s);
    int conflicts = 0; /* someone else wrote releases.json: reload and push again */
    do {
        dep_err_clear(&err);
        rc = record_release(t, &err);
    } while (rc < 0 && (txn_settle_again(&s, &err) ||
                        ((err.http_status == 412 || txn_err_code(&err, "MetaConflict")) &&
                         ++conflicts < 3)));
    if (rc < 0) {
        dep_out_warn("could not record the release: %s", dep_err_str(&err, ebuf, sizeof(ebuf)));
    }
    return DEP_EXIT_OK;
}

/* Apply rows from index `start`; on failure compensate. Exit code. */
static int run_from(struct txn *t, int start)
{
    cJSON *plan = cJSON_GetObjectItemCaseSensitive(t->journal, "plan");
    int n = cJSON_GetArraySize(plan);
    struct dep_err err;
    char label[300];
    dep_err_clear(&err);
    for (int i = start; i < n; i++) {
        cJSON *row = cJSON_GetArrayItem(plan, i);
        if (strcmp(txn_jstr(row, "status"), "done") == 0) {
            continue;
        }
        const struct txn_step_kind *k = txn_step_find(txn_jstr(row, "kind"));
        if (!k) {
            dep_err_local(&err, "BadPlan", "unknown step kind %s", txn_jstr(row, "kind"));
            return compensate(t, i - 1, &err);
        }
        if (k->phase == TXN_COMMIT && strcmp(txn_jstr(t->journal, "phase"), "commit") != 0) {
            bind_commit(t);
            jset(t->journal, "phase", "commit");
        }
        row_label(row, label, sizeof(label));
        jset(row, "status", "applying");
        t->journal_dirty = 1;
        /* The plan itself goes out before the first step; later rows are
         * written by txn_journal_touch right before their first change. */
        if (i == start && txn_journal_write(t, &err) < 0) {
            dep_out_error("journal", &err);
            jset(row, "status", "pending");
            return compensate(t, i - 1, &err);
        }
        dep_out_step(label);
        if (k->apply(t, row, &err) < 0) {
            jset(row, "status", "failed");
            dep_out_step_done(label, "failed");
            dep_out_error(label, &err);
            return compensate(t, i, &err);
        }
        jset(row, "status", "done");
        t->journal_dirty = 1;
        dep_out_step_done(label, "ok");
    }
    return committed(t);
}

/* Run the plan in t->journal (see txn.h). Returns an exit code. */
int txn_run(struct txn *t)
{
    return run_from(t, 0);
}

/* Finish a journal found in the meta bucket (t->journal). Exit code. */
int txn_finish(struct txn *t)
{
    const char *phase = txn_jstr(t->journal, "phase");
    cJSON *plan = cJSON_GetObjectItemCaseSensitive(t->journal, "plan");
    int n = cJSON_GetArraySize(plan);
    t->before = cJSON_GetObjectItemCaseSensitive(t->journal, "before");
    snprintf(t->id, sizeof(t->id), "%s", txn_jstr(t->journal, "txn"));
    if (strcmp(phase, "committed") == 0 || strcmp(phase, "rolled-back") == 0) {
        dep_out_info("transaction %s is %s: nothing to recover", t->id, phase);
        return DEP_EXIT_OK;
    }
    if (strcmp(phase, "commit") == 0) {
        dep_out_info("transaction %s died in its commit phase: completing the commit", t->id);
        t->crashed = 1;
        for (int i = 0; i < n; i++) {
            cJSON *row = cJSON_GetArrayItem(plan, i);
            const struct txn_step_kind *k = txn_step_find(txn_jstr(row, "kind"));
            if (k && k->phase == TXN_COMMIT && strcmp(txn_jstr(row, "status"), "done") != 0) {
                return run_from(t, i);
            }
        }
        return committed(t);
    }
    dep_out_info("transaction %s died in phase %s: compensating", t->id, phase);
    t->crashed = 1;
    return compensate(t, n - 1, NULL);
}
