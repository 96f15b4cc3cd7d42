/*
 * txn_cmds.c - the transactional commands (issue 9): `deploy`, `recover`,
 * `status`, `diff`, `rollback`. Strong definitions of the weak defaults in
 * main.c. Flags of their own (opts->rest): --force-unlock.
 *
 * deploy: lock the stage (lease), finish a dead deploy's journal first,
 * pull the stage's variables (ETag), capture the stage's state, plan
 * {stack, code*, api, events*, endpoints, alias*, stage, meta}, run it
 * (txn_engine.c), unlock.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "txn.h"
#include "txn_int.h"

/* Text output of status/diff: not in --output json (the document has it). */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    if (dep_out_mode() == DEP_OUT_JSON) {
        return;
    }
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

static int fail_with(const char *step, struct dep_err *err)
{
    dep_out_error(step, err);
    int code = dep_err_exit(err);
    if (txn_err_code(err, "StageLocked") || txn_err_code(err, "MetaConflict") ||
        txn_err_code(err, "LockLost")) {
        code = DEP_EXIT_CONFLICT;
    }
    return code;
}

/* Make sure the project is loaded and has the v0.5 base variables
 * (project, stage, region), creating _meta files like `project init -c`. */
static int ensure_project(struct dep_ctx *c, struct dep_err *err)
{
    struct dep_project *p = &c->project;
    char path[1024];
    int changed = 0;
    if (!c->region[0]) {
        const char *r = getenv("AWS_REGION");
        if (!r || !*r) {
            r = getenv("AWS_DEFAULT_REGION");
        }
        snprintf(c->region, sizeof(c->region), "%s", r && *r ? r : "us-east-1");
    }
    if (!p->root) {
        int rc = dep_ctx_load_project(c, 1);
        if (rc != DEP_EXIT_OK) {
            dep_err_local(err, "InvalidProject", "could not load the project");
            return -1;
        }
    }
    if (!p->vars_common || !cJSON_GetObjectItemCaseSensitive(p->vars_common, "project")) {
        if (!p->vars_common) {
            p->vars_common = cJSON_CreateObject();
        }
        cJSON_AddStringToObject(p->vars_common, "project", p->name);
        snprintf(path, sizeof(path), "%s/_meta", p->root);
        mkdir(path, 0755);
        snprintf(path, sizeof(path), "%s/_meta/variables", p->root);
        mkdir(path, 0755);
        if (dep_json_save_file(dep_project_vars_path(p, 0, path, sizeof(path)), p->vars_common,
                               err) < 0) {
            return -1;
        }
        changed = 1;
    }
    if (!p->vars_stage || !cJSON_GetObjectItemCaseSensitive(p->vars_stage, "stage")) {
        dep_project_set_var(p, 0, "stage", cJSON_CreateString(c->stage));
        if (dep_project_save_vars(p, 0, err) < 0) {
            return -1;
        }
        changed = 1;
    }
    if (!p->vars_region || !cJSON_GetObjectItemCaseSensitive(p->vars_region, "region")) {
        dep_project_set_var(p, 1, "region", cJSON_CreateString(c->region));
        if (dep_project_save_vars(p, 1, err) < 0) {
            return -1;
        }
        changed = 1;
    }
    if (changed || !p->json) {
        return dep_project_populate(p, 0, err);
    }
    return 0;
}

/* Open the transaction: init, bucket, lock. Returns 0 or -1 with err. */
static int open_txn(struct txn *t, struct dep_ctx *c, int lock, struct dep_err *err)
{
    if (ensure_project(c, err) < 0 || txn_init(t, c, err) < 0) {
        return -1;
    }
    if (txn_meta_bucket_ensure(t->meta_region, t->meta_bucket, err) < 0) {
        return -1;
    }
    if (lock && txn_lock_acquire(&t->lock, t->id, t->force_unlock, 0, err) < 0) {
        return -1;
    }
    return 0;
}

/* Pull the stage's variables object: remote wins (CI semantics). */
static int pull_meta(struct txn *t, struct dep_err *err)
{
    struct dep_project *p = &t->c->project;
    if (txn_meta_get(t->meta_region, t->meta_bucket, t->meta_key, &t->pulled_meta, t->pulled_etag,
                     err) < 0) {
        return -1;
    }
    t->pulled = 1;
    if (!t->pulled_meta) {
        return 0;
    }
    cJSON *remote = cJSON_Parse(t->pulled_meta);
    if (!cJSON_IsObject(remote)) {
        cJSON_Delete(remote);
        dep_err_local(err, "BadMeta", "s3://%s/%s is not a JSON object", t->meta_bucket,
                      t->meta_key);
        return -1;
    }
    if (p->vars_region && cJSON_Compare(remote, p->vars_region, 1)) {
        cJSON_Delete(remote);
        return 0;
    }
    cJSON_Delete(p->vars_region);
    p->vars_region = remote;
    if (dep_project_save_vars(p, 1, err) < 0) {
        return -1;
    }
    dep_out_item("meta", t->meta_key, "pulled", "s3://%s", t->meta_bucket);
    return dep_project_populate(p, 0, err);
}

/* Build the deploy plan into t->journal. */
static void plan_deploy(struct txn *t)
{
    struct dep_project *p = &t->c->project;
    int endpoints = 0;
    if (p->resources) {
        txn_plan_add(t, "stack",
                     txn_jstr(cJSON_GetObjectItemCaseSensitive(t->before, "stack"), "name"));
    }
    for (int i = 0; i < p->n_functions; i++) {
        txn_plan_add(t, "code", p->functions[i].name);
        endpoints += p->functions[i].n_endpoints;
    }
    if (endpoints) {
        txn_plan_add(t, "api", NULL);
    }
    for (int i = 0; i < p->n_functions; i++) {
        if (p->functions[i].n_events > 0) {
            txn_plan_add(t, "events", p->functions[i].name);
        }
    }
    if (endpoints) {
        txn_plan_add(t, "endpoints", NULL);
    }
    for (int i = 0; i < p->n_functions; i++) {
        txn_plan_add(t, "alias", p->functions[i].name);
    }
    if (endpoints) {
        txn_plan_add(t, "stage", NULL);
    }
    txn_plan_add(t, "meta", NULL);
}

static cJSON *new_journal(struct txn *t, const char *kind)
{
    char now[40];
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "version", 1);
    cJSON_AddStringToObject(j, "txn", t->id);
    cJSON_AddStringToObject(j, "kind", kind);
    cJSON_AddStringToObject(j, "project", t->c->project.name);
    cJSON_AddStringToObject(j, "stage", t->stage);
    cJSON_AddStringToObject(j, "region", t->region);
    cJSON_AddStringToObject(j, "holder", t->lock.holder);
    cJSON_AddStringToObject(j, "started", txn_now_iso(now, sizeof(now)));
    cJSON_AddStringToObject(j, "updated", now);
    cJSON_AddStringToObject(j, "phase", "prepare");
    cJSON_AddStringToObject(j, "error", "");
    cJSON_AddArrayToObject(j, "plan");
    return j;
}

/* A journal left unfinished by a dead deploy: finish it. Exit code. */
static int finish_previous(struct txn *t, struct dep_err *err)
{
    cJSON *old = NULL;
    if (txn_journal_read(t, &old, err) < 0) {
        return -1;
    }
    if (!old) {
        return DEP_EXIT_OK;
    }
    const char *phase = txn_jstr(old, "phase");
    if (strcmp(phase, "committed") == 0 || strcmp(phase, "rolled-back") == 0) {
        cJSON_Delete(old);
        return DEP_EXIT_OK;
    }
    char my_id[64];
    snprintf(my_id, sizeof(my_id), "%s", t->id);
    t->journal = old;
    int rc = txn_finish(t);
    t->crashed = 0;
    snprintf(t->id, sizeof(t->id), "%s", my_id);
    cJSON_Delete(t->journal);
    t->journal = NULL;
    t->before = NULL;
    return rc == DEP_EXIT_ROLLED_BACK ? DEP_EXIT_OK : rc;
}

int cmd_deploy(struct dep_ctx *c)
{
    struct txn t;
    struct dep_err err;
    int rc;
    double t0 = txn_ms();
    dep_err_clear(&err);
    memset(&t, 0, sizeof(t));
    dep_out_step("lock");
    if (open_txn(&t, c, 1, &err) < 0) {
        dep_out_step_done("lock", "failed");
        rc = fail_with("lock", &err);
        txn_release(&t);
        return rc;
    }
    dep_out_step_done("lock", "ok");
    rc = finish_previous(&t, &err);
    if (rc != DEP_EXIT_OK) {
        if (rc < 0) {
            dep_out_error("recover", &err);
            rc = DEP_EXIT_FAIL;
        }
        dep_out_errorf("recover",
                       "an earlier deploy of %s did not finish and could not be recovered",
                       t.stage);
        goto out;
    }
    dep_out_step("prepare");
    cJSON *before = NULL;
    char *local = txn_region_vars_json(&t);
    if (pull_meta(&t, &err) < 0 || txn_releases_load(&t, &err) < 0 ||
        txn_capture(&t, &before, &err) < 0) {
        free(local);
        dep_out_step_done("prepare", "failed");
        dep_out_error("prepare", &err);
        rc = dep_err_exit(&err);
        goto out;
    }
    cJSON_AddStringToObject(before, "localVars", local ? local : "");
    free(local);
    t.journal = new_journal(&t, "deploy");
    cJSON_AddItemToObject(t.journal, "before", before);
    t.before = before;
    plan_deploy(&t);
    dep_out_step_done("prepare", "ok");
    rc = txn_run(&t);
    dep_out_result("txn", cJSON_CreateString(t.id));
    dep_out_result("phase", cJSON_CreateString(txn_jstr(t.journal, "phase")));
    dep_out_result("wallMs", cJSON_CreateNumber(txn_ms() - t0));
out:
    txn_lock_release(&t.lock);
    txn_release(&t);
    return rc;
}

int cmd_recover(struct dep_ctx *c)
{
    struct txn t;
    struct dep_err err;
    int rc;
    dep_err_clear(&err);
    memset(&t, 0, sizeof(t));
    if (open_txn(&t, c, 1, &err) < 0) {
        rc = fail_with("recover", &err);
        txn_release(&t);
        return rc;
    }
    cJSON *j = NULL;
    if (txn_journal_read(&t, &j, &err) < 0) {
        dep_out_error("recover", &err);
        rc = DEP_EXIT_FAIL;
        goto out;
    }
    if (!j) {
        dep_out_info("no journal for %s in %s: nothing to recover", t.stage, t.region);
        rc = DEP_EXIT_OK;
        goto out;
    }
    t.journal = j;
    rc = txn_finish(&t);
    if (rc == DEP_EXIT_ROLLED_BACK) {
        rc = DEP_EXIT_OK; /* recovered to all-old */
    }
    dep_out_result("phase", cJSON_CreateString(txn_jstr(t.journal, "phase")));
out:
    txn_lock_release(&t.lock);
    txn_release(&t);
    return rc;
}

int cmd_status(struct dep_ctx *c)
{
    struct txn t;
    struct dep_err err;
    int rc = DEP_EXIT_OK;
    cJSON *lease = NULL, *j = NULL, *state = NULL;
    char etag[128];
    dep_err_clear(&err);
    memset(&t, 0, sizeof(t));
    if (ensure_project(c, &err) < 0 || txn_init(&t, c, &err) < 0) {
        rc = fail_with("status", &err);
        txn_release(&t);
        return rc;
    }
    if (txn_lock_peek(&t.lock, &lease, etag, &err) < 0 || txn_journal_read(&t, &j, &err) < 0 ||
        txn_releases_load(&t, &err) < 0 || txn_capture(&t, &state, &err) < 0) {
        dep_out_error("status", &err);
        rc = DEP_EXIT_FAIL;
        goto out;
    }
    say("stage %s in %s (project %s)\n", t.stage, t.region, c->project.name);
    if (lease) {
        say("  lock:     held by %s (txn %s) since %s, expires %s\n", txn_jstr(lease, "holder"),
            txn_jstr(lease, "txn"), txn_jstr(lease, "start"), txn_jstr(lease, "expiry"));
    } else {
        say("  lock:     free\n");
    }
    if (j) {
        say("  journal:  txn %s %s (%s, updated %s)%s%s\n", txn_jstr(j, "txn"),
            txn_jstr(j, "phase"), txn_jstr(j, "kind"), txn_jstr(j, "updated"),
            *txn_jstr(j, "error") ? ": " : "", txn_jstr(j, "error"));
        cJSON *row;
        cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(j, "plan"))
        {
            say("            %-10s %-24s %s\n", txn_jstr(row, "kind"), txn_jstr(row, "item"),
                txn_jstr(row, "status"));
        }
        const char *ph = txn_jstr(j, "phase");
        if (strcmp(ph, "committed") != 0 && strcmp(ph, "rolled-back") != 0) {
            say("  -> unfinished: run `stagehand recover -s %s -r %s`\n", t.stage, t.region);
        }
    } else {
        say("  journal:  none (never deployed with `stagehand deploy`)\n");
    }
    cJSON *stack = cJSON_GetObjectItemCaseSensitive(state, "stack");
    say("  stack:    %s %s\n", txn_jstr(stack, "name"),
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(stack, "exists")) ? txn_jstr(stack, "status")
                                                                        : "(none)");
    cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(state, "functions"))
    {
        cJSON *a = cJSON_GetObjectItemCaseSensitive(f, "alias");
        say("  alias:    %-28s %s -> %s\n", txn_jstr(f, "lambda"), t.stage,
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "exists")) ? txn_jstr(a, "version")
                                                                        : "(none)");
    }
    cJSON *api = cJSON_GetObjectItemCaseSensitive(state, "api");
    cJSON *st = cJSON_GetObjectItemCaseSensitive(api, "stage");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "exists"))) {
        char url[512];
        say("  stage:    %s deployment %s  %s\n", t.stage, txn_jstr(st, "deploymentId"),
            dep_stage_url(txn_jstr(api, "id"), t.region, t.stage, url, sizeof(url)));
    } else {
        say("  stage:    (none)\n");
    }
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(state, "meta");
    say("  meta:     s3://%s/%s %s\n", t.meta_bucket, t.meta_key,
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(meta, "exists")) ? txn_jstr(meta, "etag")
                                                                       : "(absent)");
    say("  releases: %d\n",
        cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(t.releases, "releases")));
    dep_out_result("state", cJSON_Duplicate(state, 1));
    if (j) {
        dep_out_result("journal", cJSON_Duplicate(j, 1));
    }
out:
    cJSON_Delete(lease);
    cJSON_Delete(j);
    cJSON_Delete(state);
    txn_release(&t);
    return rc;
}

int cmd_diff(struct dep_ctx *c)
{
    struct txn t;
    struct dep_err err;
    int rc = DEP_EXIT_OK, changes = 0;
    cJSON *state = NULL;
    dep_err_clear(&err);
    memset(&t, 0, sizeof(t));
    if (ensure_project(c, &err) < 0 || txn_init(&t, c, &err) < 0) {
        rc = fail_with("diff", &err);
        txn_release(&t);
        return rc;
    }
    struct dep_project *p = &c->project;
    if (txn_releases_load(&t, &err) < 0 || txn_capture(&t, &state, &err) < 0) {
        dep_out_error("diff", &err);
        rc = DEP_EXIT_FAIL;
        goto out;
    }
    t.before = state;
    say("diff for stage %s in %s\n", t.stage, t.region);
    /* resources */
    cJSON *stack = cJSON_GetObjectItemCaseSensitive(state, "stack");
    if (p->resources) {
        cJSON *cur = cJSON_Parse(txn_jstr(stack, "template"));
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(stack, "exists"))) {
            say("  + resource stack %s (create)\n", txn_jstr(stack, "name"));
            changes++;
        } else if (!cur || !cJSON_Compare(cur, p->resources, 1)) {
            cJSON *a = cJSON_GetObjectItemCaseSensitive(cur, "Resources");
            cJSON *b = cJSON_GetObjectItemCaseSensitive(p->resources, "Resources");
            char *d = txn_json_diff(a, b);
            say("  ~ resource stack %s (update):\n%s", txn_jstr(stack, "name"), d ? d : "");
            free(d);
            changes++;
        } else {
            say("    resource stack %s unchanged\n", txn_jstr(stack, "name"));
        }
        cJSON_Delete(cur);
    }
    /* functions */
    for (int i = 0; i < p->n_functions; i++) {
        struct dep_function *f = &p->functions[i];
        cJSON *bf = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(state, "functions"), f->name);
        cJSON *a = cJSON_GetObjectItemCaseSensitive(bf, "alias");
        struct dep_zip zip;
        memset(&zip, 0, sizeof(zip));
        if (dep_package_function(p, f, &zip, &err) < 0) {
            dep_out_error("diff", &err);
            rc = DEP_EXIT_FAIL;
            goto out;
        }
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "exists"))) {
            say("  + function %s (%s): new alias %s\n", f->name, f->lambda_name, t.stage);
            changes++;
        } else {
            cJSON *out = NULL;
            if (dep_lambda_get_function(t.region, f->lambda_name, txn_jstr(a, "version"), &out,
                                        &err) < 0) {
                dep_zip_release(&zip);
                dep_out_error("diff", &err);
                rc = DEP_EXIT_FAIL;
                goto out;
            }
            const char *sha =
                txn_jstr(cJSON_GetObjectItemCaseSensitive(out, "Configuration"), "CodeSha256");
            if (strcmp(sha, zip.sha256_b64) != 0) {
                say("  ~ function %s: code %s -> %s (alias %s at version %s)\n", f->name, sha,
                    zip.sha256_b64, t.stage, txn_jstr(a, "version"));
                changes++;
            } else {
                say("    function %s unchanged (version %s)\n", f->name, txn_jstr(a, "version"));
            }
            cJSON_Delete(out);
        }
        dep_zip_release(&zip);
        for (int k = 0; k < f->n_events; k++) {
            char sid[256];
            dep_sid_event(f->lambda_name, f->events[k].name, t.stage, sid, sizeof(sid));
            int had = 0;
            cJSON *s;
            cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(bf, "sids"))
            {
                if (cJSON_IsString(s) && strcmp(s->valuestring, sid) == 0) {
                    had = 1;
                }
            }
            say("  %s event %s (%s)%s\n", had ? " " : "+", f->events[k].name, f->events[k].type,
                had ? " wired" : "");
            changes += !had;
        }
    }
    /* endpoints */
    cJSON *api = cJSON_GetObjectItemCaseSensitive(state, "api");
    cJSON *st = cJSON_GetObjectItemCaseSensitive(api, "stage");
    int n_ep = 0;
    for (int i = 0; i < p->n_functions; i++) {
        n_ep += p->functions[i].n_endpoints;
    }
    if (n_ep) {
        char fp[80];
        cJSON *rels = cJSON_GetObjectItemCaseSensitive(t.releases, "releases");
        cJSON *rel = cJSON_GetArrayItem(rels, cJSON_GetArraySize(rels) - 1);
        txn_endpoints_fingerprint(&t, txn_jstr(api, "id"), fp, sizeof(fp));
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "exists"))) {
            say("  + api stage %s with %d endpoint(s)\n", t.stage, n_ep);
            changes++;
        } else if (!rel || strcmp(txn_jstr(rel, "apiFingerprint"), fp) != 0 ||
                   strcmp(txn_jstr(rel, "deploymentId"), txn_jstr(st, "deploymentId")) != 0) {
            cJSON *now = txn_endpoint_map(&t);
            cJSON *was = cJSON_GetObjectItemCaseSensitive(rel, "endpoints");
            cJSON *e;
            cJSON_ArrayForEach(e, now)
            {
                cJSON *w = cJSON_GetObjectItemCaseSensitive(was, e->string);
                if (!w) {
                    say("  + endpoint %s\n", e->string);
                } else if (!cJSON_Compare(w, e, 1)) {
                    say("  ~ endpoint %s\n", e->string);
                }
            }
            cJSON_ArrayForEach(e, was)
            {
                if (!cJSON_GetObjectItemCaseSensitive(now, e->string)) {
                    say("  - endpoint %s\n", e->string);
                }
            }
            cJSON_Delete(now);
            say("  ~ api stage %s: new deployment\n", t.stage);
            changes++;
        } else {
            say("    api stage %s unchanged (deployment %s)\n", t.stage,
                txn_jstr(st, "deploymentId"));
        }
    }
    /* meta */
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(state, "meta");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(meta, "exists"))) {
        cJSON *remote = cJSON_Parse(txn_jstr(meta, "body"));
        if (!cJSON_Compare(remote, p->vars_region, 1)) {
            char *d = txn_json_diff(remote, p->vars_region);
            say("  ~ meta s3://%s/%s (remote -> local):\n%s", t.meta_bucket, t.meta_key,
                d ? d : "");
            free(d);
        }
        cJSON_Delete(remote);
    } else {
        say("  + meta s3://%s/%s (first push)\n", t.meta_bucket, t.meta_key);
    }
    say("%d change(s)\n", changes);
    dep_out_result("changes", cJSON_CreateNumber(changes));
out:
    cJSON_Delete(state);
    t.before = NULL;
    txn_release(&t);
    return rc;
}

int cmd_rollback(struct dep_ctx *c)
{
    struct txn t;
    struct dep_err err;
    int rc;
    dep_err_clear(&err);
    memset(&t, 0, sizeof(t));
    if (open_txn(&t, c, 1, &err) < 0) {
        rc = fail_with("rollback", &err);
        txn_release(&t);
        return rc;
    }
    rc = finish_previous(&t, &err);
    if (rc != DEP_EXIT_OK) {
        rc = rc < 0 ? DEP_EXIT_FAIL : rc;
        goto out;
    }
    cJSON *before = NULL;
    if (txn_releases_load(&t, &err) < 0 || txn_capture(&t, &before, &err) < 0) {
        dep_out_error("rollback", &err);
        rc = DEP_EXIT_FAIL;
        goto out;
    }
    cJSON *rels = cJSON_GetObjectItemCaseSensitive(t.releases, "releases");
    int n = cJSON_GetArraySize(rels);
    if (n < 2) {
        cJSON_Delete(before);
        dep_out_errorf("rollback", "stage %s has %d release(s) recorded: nothing to roll back to",
                       t.stage, n);
        rc = DEP_EXIT_FAIL;
        goto out;
    }
    cJSON *prev = cJSON_GetArrayItem(rels, n - 2);
    dep_out_info("rolling %s back to release %s (%s)", t.stage, txn_jstr(prev, "txn"),
                 txn_jstr(prev, "time"));
    t.journal = new_journal(&t, "rollback");
    cJSON_AddItemToObject(t.journal, "before", before);
    t.before = before;
    cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(prev, "aliases"))
    {
        cJSON *row = txn_plan_add(&t, "alias", a->string);
        cJSON *redo = cJSON_GetObjectItemCaseSensitive(row, "redo");
        cJSON_AddStringToObject(redo, "lambda", txn_jstr(a, "lambda"));
        cJSON_AddStringToObject(redo, "version", txn_jstr(a, "version"));
    }
    if (*txn_jstr(prev, "deploymentId")) {
        cJSON *row = txn_plan_add(&t, "stage", NULL);
        cJSON *redo = cJSON_GetObjectItemCaseSensitive(row, "redo");
        cJSON_AddStringToObject(redo, "apiId", txn_jstr(prev, "apiId"));
        cJSON_AddStringToObject(redo, "deploymentId", txn_jstr(prev, "deploymentId"));
    }
    rc = txn_run(&t);
out:
    txn_lock_release(&t.lock);
    txn_release(&t);
    return rc;
}
