/*
 * rehearse.c - `stagehand rehearse` (issue 10): prove that every stage ends
 * all-old or all-new, with a fault at every call of a deploy.
 *
 *   1. Copy the project to a temp dir (children run there); on a greenroom
 *      other runs may share (--endpoint-url), wait for its turn (runs take
 *      turns: rh_turn_take) and delete the snapshots of killed runs; clear
 *      the fault rules, optionally deploy the --watch stages, save the
 *      snapshot named after this run (r->name: stagehand-rehearse-<host>-
 *      <pid>-<random>; fault rule ids start with it too) and the local
 *      _meta, capture each stage. The turn ends (the greenroom restored to
 *      the snapshot, which is deleted) once the clones have their copy of
 *      it, or at the end when the cases run on that greenroom itself; also
 *      when rehearse fails or is interrupted.
 *   2. Learning run: a clean deploy (child process); the journal
 *      (GET /_greenroom/calls?since=N) gives the N calls; capture the target.
 *   3. For each call ordinal k = 1..N and each fault kind: restore the
 *      snapshot and _meta, install the rule that fires at call k (counted from
 *      its installation, so only the deploy's calls count), run the deploy
 *      (killing it while call k hangs for kind kill), clear the rules, capture,
 *      check invariants 1-3, then, when the deploy failed, recovery
 *      (`recover` + `deploy`, or the v0.5 flow again) and invariant 4 (a
 *      deploy that succeeded was checked against the target directly).
 *      Children retry after 1-5 ms; the timeout kind's deploy gives up the
 *      hung attempt after RH_HANG_TIMEOUT_MS (STAGEHAND_CALL_TIMEOUT_MS).
 *      Each case record carries its per-phase wall times ("phases").
 *   4. Table, summary, --junit FILE, --output json; exit DEP_EXIT_INVARIANT on
 *      any violation with the replay command (--only k --kind K), else
 *      DEP_EXIT_HARNESS when a case ended in a harness error (a worker died,
 *      a greenroom did not start, a restore failed...: rehearse's own
 *      infrastructure, reported apart from violations).
 *
 * Options (opts->rest): --kinds a,b  --only K  --kind K  --seed N
 * --max-cases N  --flow deploy|v05  --junit FILE  --watch S1,S2
 * --keep-tmp  --greenroom BIN (run and restart our own greenrooms; found
 * beside stagehand when no endpoint is given; enables the crash kind)
 * --jobs N (cases in parallel, each worker with its own greenroom).
 * What it runs on (control plane, children, greenrooms, workers) is
 * rehearse_run.c.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "rehearse.h"
#include "rehearse_int.h"
#include "txn.h"
#include "txn_int.h"

/* ------------------------------------------------------- pure helpers */

static const char *const kind_names[RH_NKINDS] = {"error",   "throttle", "reset",
                                                  "timeout", "kill",     "crash"};

const char *rh_kind_name(int kind)
{
    return kind >= 0 && kind < RH_NKINDS ? kind_names[kind] : "?";
}

int rh_kind_parse(const char *name)
{
    for (int i = 0; i < RH_NKINDS; i++) {
        if (strcmp(kind_names[i], name) == 0) {
            return i;
        }
    }
    return -1;
}

/* The rule set firing kind at call k and its retries (new array). */
cJSON *rh_fault_rules(int kind, int k, int attempts)
{
    cJSON *arr = cJSON_CreateArray();
    cJSON *r = cJSON_CreateObject();
    char id[64];
    snprintf(id, sizeof(id), "rehearse-%s-%d", rh_kind_name(kind), k);
    cJSON_AddStringToObject(r, "id", id);
    if (kind == RH_CRASH) {
        cJSON_AddNumberToObject(r, "nth", k);
        cJSON_AddBoolToObject(r, "crash", 1);
    } else if (kind == RH_KILL || kind == RH_TIMEOUT) {
        /* kill: the call hangs until rehearse kills the deployer; timeout:
         * one attempt hangs past the client timeout, the retry decides. */
        cJSON_AddNumberToObject(r, "nth", k);
        cJSON_AddBoolToObject(r, "hang", 1);
    } else {
        cJSON_AddNumberToObject(r, "after", k - 1);
        cJSON_AddNumberToObject(r, "times", attempts > 0 ? attempts : 1);
        if (kind == RH_ERROR) {
            cJSON *e = cJSON_AddObjectToObject(r, "error");
            cJSON_AddNumberToObject(e, "statusCode", 503);
            cJSON_AddStringToObject(e, "code", "ServiceUnavailable");
            cJSON_AddStringToObject(e, "message", "rehearsal: injected 503");
        } else if (kind == RH_THROTTLE) {
            cJSON *th = cJSON_AddObjectToObject(r, "throttle");
            cJSON_AddNumberToObject(th, "retryAfterSeconds", 0);
        } else if (kind == RH_RESET) {
            cJSON_AddBoolToObject(r, "reset", 1);
        }
    }
    cJSON_AddItemToArray(arr, r);
    return arr;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A sorted copy of an array of strings (or of items' printed forms). */
static cJSON *sorted_strings(const cJSON *arr)
{
    int n = cJSON_GetArraySize(arr);
    char **v = calloc((size_t)n + 1, sizeof(char *));
    cJSON *out = cJSON_CreateArray();
    int m = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        v[m++] = cJSON_IsString(it) ? strdup(it->valuestring) : cJSON_PrintUnformatted(it);
    }
    qsort(v, (size_t)m, sizeof(char *), cmp_str);
    for (int i = 0; i < m; i++) {
        cJSON_AddItemToArray(out, cJSON_CreateString(v[i] ? v[i] : ""));
        free(v[i]);
    }
    free(v);
    return out;
}

static void put(cJSON *o, const char *key, cJSON *v)
{
    if (cJSON_GetObjectItemCaseSensitive(o, key)) {
        cJSON_ReplaceItemInObjectCaseSensitive(o, key, v);
    } else {
        cJSON_AddItemToObject(o, key, v);
    }
}

static const char *rel(const char *now, const char *before)
{
    if (!*now) {
        return "";
    }
    return strcmp(now, before) == 0 ? "unchanged" : "new";
}

/* Normalise a state for comparison (see rehearse.h). New object. */
cJSON *rh_normalise(const cJSON *state, const cJSON *pre, int shape)
{
    cJSON *s = cJSON_Duplicate(state, 1);
    cJSON *stack = cJSON_GetObjectItemCaseSensitive(s, "stack");
    if (stack) {
        const char *st = txn_jstr(stack, "status");
        if (strstr(st, "_COMPLETE") && !strstr(st, "DELETE") &&
            strcmp(st, "ROLLBACK_COMPLETE") != 0) {
            put(stack, "status", cJSON_CreateString("STABLE"));
        }
        cJSON *tpl = cJSON_Parse(txn_jstr(stack, "template"));
        put(stack, "template", tpl ? tpl : cJSON_CreateString(txn_jstr(stack, "template")));
        if (shape) {
            cJSON *o;
            cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(stack, "outputs"))
            {
                cJSON_SetValuestring(o, "*");
            }
        }
    }
    cJSON *pf = cJSON_GetObjectItemCaseSensitive(pre, "functions");
    cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(s, "functions"))
    {
        put(f, "sids", sorted_strings(cJSON_GetObjectItemCaseSensitive(f, "sids")));
        if (shape) {
            cJSON *a = cJSON_GetObjectItemCaseSensitive(f, "alias");
            cJSON *pa = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(pf, f->string), "alias");
            put(a, "version",
                cJSON_CreateString(rel(txn_jstr(a, "version"), txn_jstr(pa, "version"))));
        }
    }
    cJSON *api = cJSON_GetObjectItemCaseSensitive(s, "api");
    if (shape && api) {
        cJSON *papi = cJSON_GetObjectItemCaseSensitive(pre, "api");
        cJSON *st = cJSON_GetObjectItemCaseSensitive(api, "stage");
        cJSON *pst = cJSON_GetObjectItemCaseSensitive(papi, "stage");
        put(api, "id", cJSON_CreateString(rel(txn_jstr(api, "id"), txn_jstr(papi, "id"))));
        put(st, "deploymentId",
            cJSON_CreateString(rel(txn_jstr(st, "deploymentId"), txn_jstr(pst, "deploymentId"))));
    }
    cJSON *subs = cJSON_GetObjectItemCaseSensitive(s, "subscriptions");
    cJSON *flat = cJSON_CreateArray();
    cJSON *t;
    cJSON_ArrayForEach(t, subs)
    {
        cJSON *ep;
        cJSON_ArrayForEach(ep, t)
        {
            char buf[1024];
            snprintf(buf, sizeof(buf), "%s%s%s", shape ? "" : t->string, shape ? "" : " <- ",
                     txn_jstr(ep, "endpoint"));
            cJSON_AddItemToArray(flat, cJSON_CreateString(buf));
        }
    }
    put(s, "subscriptions", sorted_strings(flat));
    cJSON_Delete(flat);
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(s, "meta");
    if (meta) {
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "etag");
        cJSON *body = cJSON_Parse(txn_jstr(meta, "body"));
        if (body && shape) {
            cJSON *pb =
                cJSON_Parse(txn_jstr(cJSON_GetObjectItemCaseSensitive(pre, "meta"), "body"));
            cJSON *v;
            cJSON_ArrayForEach(v, body)
            {
                cJSON *pv = cJSON_GetObjectItemCaseSensitive(pb, v->string);
                if (!pv || !cJSON_Compare(pv, v, 1)) {
                    char key[256];
                    snprintf(key, sizeof(key), "%s", v->string);
                    cJSON_ReplaceItemInObjectCaseSensitive(body, key, cJSON_CreateString("*"));
                    v = cJSON_GetObjectItemCaseSensitive(body, key);
                }
            }
            cJSON_Delete(pb);
        }
        put(meta, "body", body ? body : cJSON_CreateString(txn_jstr(meta, "body")));
    }
    return s;
}

static void leaf_str(const cJSON *v, char *buf, size_t n)
{
    if (!v) {
        snprintf(buf, n, "(absent)");
    } else if (cJSON_IsString(v)) {
        snprintf(buf, n, "%s", v->valuestring);
    } else {
        char *p = cJSON_PrintUnformatted(v);
        snprintf(buf, n, "%s", p ? p : "");
        free(p);
    }
    if (strlen(buf) > 200 && n > 204) {
        memcpy(buf + 197, "...", 4);
    }
}

static int diff_rec(const cJSON *a, const cJSON *b, char *path, size_t pn, char *e, size_t en,
                    char *f, size_t fn)
{
    size_t base = strlen(path);
    if (a && b && cJSON_IsObject(a) && cJSON_IsObject(b)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, a)
        {
            snprintf(path + base, pn - base, "%s%s", base ? "." : "", it->string);
            if (diff_rec(it, cJSON_GetObjectItemCaseSensitive(b, it->string), path, pn, e, en, f,
                         fn)) {
                return 1;
            }
        }
        cJSON_ArrayForEach(it, b)
        {
            if (!cJSON_GetObjectItemCaseSensitive(a, it->string)) {
                snprintf(path + base, pn - base, "%s%s", base ? "." : "", it->string);
                leaf_str(NULL, e, en);
                leaf_str(it, f, fn);
                return 1;
            }
        }
        path[base] = 0;
        return 0;
    }
    if (a && b && cJSON_IsArray(a) && cJSON_IsArray(b) &&
        cJSON_GetArraySize(a) == cJSON_GetArraySize(b)) {
        for (int i = 0; i < cJSON_GetArraySize(a); i++) {
            snprintf(path + base, pn - base, "[%d]", i);
            if (diff_rec(cJSON_GetArrayItem(a, i), cJSON_GetArrayItem(b, i), path, pn, e, en, f,
                         fn)) {
                return 1;
            }
        }
        path[base] = 0;
        return 0;
    }
    if (a && b && cJSON_Compare(a, b, 1)) {
        return 0;
    }
    leaf_str(a, e, en);
    leaf_str(b, f, fn);
    return 1;
}

/* First difference (see rehearse.h). */
int rh_first_diff(const cJSON *a, const cJSON *b, char *path, size_t pn, char *expected, size_t en,
                  char *found, size_t fn)
{
    path[0] = 0;
    expected[0] = 0;
    found[0] = 0;
    return diff_rec(a, b, path, pn, expected, en, found, fn);
}

/* 1 when a case record's result is a harness error (rehearse's own
 * infrastructure failed: see harness_error below), not a verdict on the
 * deploy. */
int rh_is_harness_error(const cJSON *rec)
{
    return rh_is_harness_error_str(txn_jstr(rec, "result"));
}

int rh_is_harness_error_str(const char *result)
{
    return strcmp(result, "error") == 0;
}

/* JUnit XML (see rehearse.h): a violation is a <failure>, a harness error
 * an <error>. */
char *rh_junit(const cJSON *cases, double total_ms)
{
    struct dep_buf b = {0};
    int n = 0, failures = 0, errors = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases)
    {
        n++;
        if (rh_is_harness_error(c)) {
            errors++;
        } else {
            failures += strcmp(txn_jstr(c, "result"), "ok") != 0;
        }
    }
    dep_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    dep_buf_printf(&b, "<testsuites tests=\"%d\" failures=\"%d\" errors=\"%d\" time=\"%.3f\">\n", n,
                   failures, errors, total_ms / 1000.0);
    dep_buf_printf(&b,
                   "  <testsuite name=\"stagehand rehearse\" tests=\"%d\" failures=\"%d\" "
                   "errors=\"%d\" time=\"%.3f\">\n",
                   n, failures, errors, total_ms / 1000.0);
    cJSON_ArrayForEach(c, cases)
    {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(c, "k");
        const cJSON *ms = cJSON_GetObjectItemCaseSensitive(c, "ms");
        char name[600];
        snprintf(name, sizeof(name), "k=%d %s %s %s", cJSON_IsNumber(k) ? k->valueint : 0,
                 txn_jstr(c, "service"), txn_jstr(c, "operation"), txn_jstr(c, "resource"));
        dep_buf_puts(&b, "    <testcase classname=\"rehearse.");
        dep_buf_xml_escape(&b, txn_jstr(c, "kind"));
        dep_buf_puts(&b, "\" name=\"");
        dep_buf_xml_escape(&b, name);
        dep_buf_printf(&b, "\" time=\"%.3f\"", cJSON_IsNumber(ms) ? ms->valuedouble / 1000.0 : 0.0);
        if (strcmp(txn_jstr(c, "result"), "ok") == 0) {
            dep_buf_puts(&b, "/>\n");
            continue;
        }
        if (rh_is_harness_error(c)) {
            dep_buf_puts(&b, ">\n      <error message=\"");
            dep_buf_xml_escape(&b, txn_jstr(c, "harnessError"));
            dep_buf_puts(&b, "\" type=\"HarnessError\">");
            dep_buf_xml_escape(&b, txn_jstr(c, "detail"));
            dep_buf_puts(&b, "</error>\n    </testcase>\n");
            continue;
        }
        dep_buf_puts(&b, ">\n      <failure message=\"");
        dep_buf_xml_escape(&b, txn_jstr(c, "result"));
        dep_buf_puts(&b, "\" type=\"InvariantViolation\">");
        dep_buf_xml_escape(&b, txn_jstr(c, "detail"));
        dep_buf_puts(&b, "</failure>\n    </testcase>\n");
    }
    dep_buf_puts(&b, "  </testsuite>\n</testsuites>\n");
    return dep_buf_take(&b);
}

/* ---------------------------------------------------------------- state */

/* Capture a stage's state in-process from the project copy, with the
 * remote variables (the truth) in place of the local ones. */
static int capture(struct rh *r, const char *stage, cJSON **out, struct dep_err *err)
{
    struct dep_opts o = *r->c->opts;
    struct dep_ctx cx;
    struct txn t;
    int rc = -1;
    memset(&cx, 0, sizeof(cx));
    memset(&t, 0, sizeof(t));
    o.project_dir = r->work;
    o.stage = stage;
    o.rest_n = 0;
    cx.opts = &o;
    cx.command = "rehearse";
    snprintf(cx.stage, sizeof(cx.stage), "%s", stage);
    snprintf(cx.region, sizeof(cx.region), "%s", r->c->region);
    snprintf(cx.account, sizeof(cx.account), "%s", r->c->account);
    *out = NULL;
    if (dep_project_load(r->work, &cx.project, err) < 0 ||
        dep_project_load_vars(&cx.project, stage, cx.region, 1, err) < 0) {
        goto out;
    }
    /* Before the first deploy there are no variables files: the built-ins
     * a deploy writes first (project, stage, region) resolve ${stage} etc. */
    if (!cJSON_GetObjectItemCaseSensitive(cx.project.vars_common, "project")) {
        if (!cx.project.vars_common) {
            cx.project.vars_common = cJSON_CreateObject();
        }
        cJSON_AddStringToObject(cx.project.vars_common, "project", cx.project.name);
    }
    if (!cJSON_GetObjectItemCaseSensitive(cx.project.vars_stage, "stage")) {
        dep_project_set_var(&cx.project, 0, "stage", cJSON_CreateString(stage));
    }
    if (!cJSON_GetObjectItemCaseSensitive(cx.project.vars_region, "region")) {
        dep_project_set_var(&cx.project, 1, "region", cJSON_CreateString(cx.region));
    }
    if (dep_project_populate(&cx.project, 0, err) < 0 || txn_init(&t, &cx, err) < 0) {
        goto out;
    }
    char *remote = NULL;
    char etag[128];
    if (txn_meta_get(t.meta_region, t.meta_bucket, t.meta_key, &remote, etag, err) < 0) {
        goto out;
    }
    if (remote) {
        cJSON *v = cJSON_Parse(remote);
        if (cJSON_IsObject(v)) {
            cJSON_Delete(cx.project.vars_region);
            cx.project.vars_region = v;
            if (dep_project_populate(&cx.project, 0, err) < 0) {
                free(remote);
                goto out;
            }
        } else {
            cJSON_Delete(v);
        }
    }
    t.pulled = 1;
    t.pulled_meta = remote;
    snprintf(t.pulled_etag, sizeof(t.pulled_etag), "%s", etag);
    if (txn_capture(&t, out, err) < 0) {
        goto out;
    }
    cJSON *lease = NULL;
    char le[128];
    if (txn_lock_peek(&t.lock, &lease, le, err) < 0) {
        cJSON_Delete(*out);
        *out = NULL;
        goto out;
    }
    cJSON_AddStringToObject(*out, "lock", lease ? txn_jstr(lease, "holder") : "");
    cJSON_Delete(lease);
    snprintf(r->c->account, sizeof(r->c->account), "%s", t.account);
    rc = 0;
out:
    txn_release(&t);
    dep_project_release(&cx.project);
    return rc;
}

/* Meta variables must hold every stack output with its current value
 * (invariant 3: no lost write). Writes the first miss into detail. */
static int meta_has_outputs(const cJSON *state, char *detail, size_t n)
{
    cJSON *stack = cJSON_GetObjectItemCaseSensitive(state, "stack");
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(state, "meta");
    cJSON *body = cJSON_Parse(txn_jstr(meta, "body"));
    cJSON *o;
    int ok = 1;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(stack, "outputs"))
    {
        const char *v = txn_jstr(body, o->string);
        if (strcmp(v, cJSON_IsString(o) ? o->valuestring : "") != 0) {
            snprintf(detail, n, "meta variable %s is \"%s\" but the stack output is \"%s\"",
                     o->string, v, cJSON_IsString(o) ? o->valuestring : "");
            ok = 0;
            break;
        }
    }
    cJSON_Delete(body);
    return ok;
}

/* ---------------------------------------------------------------- cases */

struct rh_stage_img {
    char name[64];
    cJSON *pre;     /* exact-normalised pre state */
    cJSON *raw_pre; /* raw pre state */
};

/* Compare; on a difference fill detail "<inv>: stage S field F: expected E, found X". */
static int check_eq(const char *inv, const char *stage, const cJSON *expected, const cJSON *found,
                    char *result, size_t rn, char *detail, size_t dn)
{
    char path[512], e[512], f[512];
    if (!rh_first_diff(expected, found, path, sizeof(path), e, sizeof(e), f, sizeof(f))) {
        return 1;
    }
    snprintf(result, rn, "%s violated", inv);
    snprintf(detail, dn, "%s: stage %s field %s: expected %s, found %s", inv, stage, path, e, f);
    return 0;
}

static const char *outcome_name(int code, char *buf, size_t n)
{
    if (code == 0) {
        return "deployed";
    }
    if (code == DEP_EXIT_ROLLED_BACK) {
        return "rolled back";
    }
    if (code == 128 + SIGKILL) {
        return "killed";
    }
    snprintf(buf, n, "exit %d", code);
    return buf;
}

/* Parse the options; returns 0 or -1 (message printed). */
static int parse_opts(struct rh *r)
{
    struct dep_ctx *c = r->c;
    const char *v;
    for (int i = 0; i < RH_NKINDS; i++) {
        r->kinds[i] = 1;
    }
    r->only_k = 0;
    r->only_kind = -1;
    r->max_cases = 0;
    r->seed = 1;
    r->attempts = 2;
    int kinds_given = 0;
    if ((v = txn_opt_value(c, "--kinds")) || (v = txn_opt_value(c, "--kind"))) {
        char buf[256];
        kinds_given = 1;
        char *save = NULL;
        snprintf(buf, sizeof(buf), "%s", v);
        for (int i = 0; i < RH_NKINDS; i++) {
            r->kinds[i] = 0;
        }
        for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            int k = rh_kind_parse(tok);
            if (k < 0) {
                dep_out_errorf(
                    "rehearse",
                    "unknown fault kind %s (kinds: error,throttle,reset,timeout,kill,crash)", tok);
                return -1;
            }
            r->kinds[k] = 1;
        }
    }
    if ((v = txn_opt_value(c, "--only"))) {
        char *end = NULL;
        long k = strtol(v, &end, 10);
        if (!end || *end || k < 1) {
            dep_out_errorf("rehearse", "--only wants a call ordinal >= 1");
            return -1;
        }
        r->only_k = (int)k;
    }
    if ((v = txn_opt_value(c, "--max-cases"))) {
        char *end = NULL;
        r->max_cases = strtol(v, &end, 10);
        if (!end || *end || r->max_cases < 1) {
            dep_out_errorf("rehearse", "--max-cases wants a number >= 1");
            return -1;
        }
    }
    if ((v = txn_opt_value(c, "--seed"))) {
        char *end = NULL;
        r->seed = strtoul(v, &end, 10);
        if (!end || *end) {
            dep_out_errorf("rehearse", "--seed wants a number");
            return -1;
        }
    }
    if ((v = txn_opt_value(c, "--flow"))) {
        if (strcmp(v, "v05") == 0) {
            r->v05 = 1;
        } else if (strcmp(v, "deploy") != 0) {
            dep_out_errorf("rehearse", "--flow is deploy or v05");
            return -1;
        }
    }
    r->junit = txn_opt_value(c, "--junit");
    r->greenroom = txn_opt_value(c, "--greenroom");
    const char *url = c->opts->endpoint_url ? c->opts->endpoint_url : getenv("AWS_ENDPOINT_URL");
    if (!r->greenroom && (!url || !*url) && rh_find_greenroom(r->found_gr, sizeof(r->found_gr))) {
        r->greenroom = r->found_gr;
    }
    r->jobs = 0; /* default: see cmd_rehearse */
    if ((v = txn_opt_value(c, "--jobs"))) {
        char *end = NULL;
        long j = strtol(v, &end, 10);
        if (!end || *end || j < 1 || j > RH_MAX_JOBS) {
            dep_out_errorf("rehearse", "--jobs wants a number from 1 to %d", RH_MAX_JOBS);
            return -1;
        }
        r->jobs = (int)j;
    }
    r->kinds_given = kinds_given;
    if ((v = txn_opt_value(c, "--watch"))) {
        char buf[512];
        char *save = NULL;
        snprintf(buf, sizeof(buf), "%s", v);
        for (char *tok = strtok_r(buf, ",", &save); tok && r->n_watch < 8;
             tok = strtok_r(NULL, ",", &save)) {
            snprintf(r->watch[r->n_watch++], 64, "%s", tok);
        }
    }
    return 0;
}

static void shuffle(struct rh_case *v, int n, unsigned long seed)
{
    unsigned long long x = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    for (int i = n - 1; i > 0; i--) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        int j = (int)((x >> 33) % (unsigned long long)(i + 1));
        struct rh_case tmp = v[i];
        v[i] = v[j];
        v[j] = tmp;
    }
}

static int case_cmp(const void *a, const void *b)
{
    const struct rh_case *x = a, *y = b;
    return x->k != y->k ? x->k - y->k : x->kind - y->kind;
}

/* Back to the pre-deploy world: no fault rules, the snapshot, the saved
 * _meta. NULL, or what failed. */
static const char *restore_pre(struct rh *r)
{
    long st = rh_ctl(r, "DELETE", "/_greenroom/faults", NULL, NULL);
    if (st != 200) {
        return st < 0 ? "greenroom did not answer (clearing the fault rules)"
                      : "could not clear the fault rules";
    }
    char path[256];
    snprintf(path, sizeof(path), "/_greenroom/snapshots/%s/restore", r->name);
    st = rh_ctl(r, "POST", path, "{}", NULL);
    if (st != 200) {
        return st < 0 ? "greenroom did not answer the restore of the pre-deploy snapshot"
                      : "could not restore the pre-deploy snapshot";
    }
    return rh_meta_restore(r) == 0 ? NULL : "could not restore the project's _meta";
}

/* The case's result is a harness error of kind what (one of
 * RH_HARNESS_*): rehearse's own infrastructure failed, not the deploy. */
static void harness_error(cJSON *rec, char *result, size_t rn, const char *what)
{
    snprintf(result, rn, "error");
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "harnessError");
    cJSON_AddStringToObject(rec, "harnessError", what);
}

/* The client timeout of the timeout kind's deploy (ms): the hung attempt is
 * given up after this and retried; every call of the deploy answers in a
 * few ms, so this is far past a real answer. */
#define RH_HANG_TIMEOUT_MS 200

/* Per-phase wall time of a case, in the record's "phases" (ms). */
enum { PH_RESTORE, PH_ARM, PH_DEPLOY, PH_RECOVER, PH_CAPTURE, PH_REDEPLOY, PH_N };
static const char *const phase_names[PH_N] = {"restore", "arm",     "deploy",
                                              "recover", "capture", "redeploy"};

static void phase_add(double *ph, int i, double *mark)
{
    double now = txn_ms();
    ph[i] += now - *mark;
    *mark = now;
}

/* Run one case; appends its record to cases. Returns 1 when it violated. */
static int run_case(struct rh *r, int k, int kind, const cJSON *calls, cJSON *target,
                    struct rh_stage_img *imgs, int n_imgs, cJSON *cases)
{
    const char *stage = r->c->stage;
    const char *deploy_cmd = r->v05 ? "v05" : "deploy";
    char result[128] = "ok", detail[2048] = "", obuf[32];
    double t0 = txn_ms(), mark = t0, ph[PH_N] = {0};
    int restarted = 0;
    struct dep_err err;
    dep_err_clear(&err);
    cJSON *rec = cJSON_CreateObject();
    cJSON *call = cJSON_GetArrayItem(calls, k - 1);
    cJSON_AddNumberToObject(rec, "k", k);
    cJSON_AddStringToObject(rec, "kind", rh_kind_name(kind));
    cJSON_AddStringToObject(rec, "service", txn_jstr(call, "service"));
    cJSON_AddStringToObject(rec, "operation", txn_jstr(call, "operation"));
    cJSON_AddStringToObject(rec, "resource", txn_jstr(call, "resource"));
    const char *why = restore_pre(r);
    if (why) {
        harness_error(rec, result, sizeof(result), RH_HARNESS_RESTORE);
        snprintf(detail, sizeof(detail), "%s", why);
        goto done;
    }
    phase_add(ph, PH_RESTORE, &mark);
    cJSON *rules = rh_fault_rules(kind, k, r->attempts);
    {
        /* the rule's id is this run's: <run name>-<kind>-<k> */
        char id[200];
        snprintf(id, sizeof(id), "%s-%s-%d", r->name, rh_kind_name(kind), k);
        cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetArrayItem(rules, 0), "id",
                                               cJSON_CreateString(id));
    }
    char *rb = cJSON_PrintUnformatted(rules);
    cJSON_Delete(rules);
    long seq0 = rh_last_seq(r);
    long st = rh_ctl(r, "POST", "/_greenroom/faults", rb, NULL);
    free(rb);
    if (st != 200 || seq0 < 0) {
        harness_error(rec, result, sizeof(result), RH_HARNESS_FAULT);
        snprintf(detail, sizeof(detail), "could not install the fault rule (HTTP %ld)", st);
        goto done;
    }
    phase_add(ph, PH_ARM, &mark);
    pid_t pid = rh_spawn(r, deploy_cmd, stage, kind == RH_TIMEOUT ? RH_HANG_TIMEOUT_MS : 0);
    int code;
    if (kind == RH_KILL) {
        /* Wait until call k is in flight (greenroom numbers a call when it
         * arrives: the journal's "last" reaches it), then kill. */
        int killed = 0;
        double deadline = txn_ms() + 60000.0;
        while (!killed && txn_ms() < deadline && !rh_stopped()) {
            int stt = 0;
            if (waitpid(pid, &stt, WNOHANG) == pid) {
                code = WIFEXITED(stt) ? WEXITSTATUS(stt) : -1;
                goto waited;
            }
            long last = rh_last_seq(r);
            if (last >= 0 && last - seq0 >= k) {
                kill(-pid, SIGKILL);
                killed = 1;
            } else {
                usleep(2000); /* call k hangs until the kill: no hurry, no race */
            }
        }
        if (!killed) {
            kill(-pid, SIGKILL);
        }
    } else if (kind == RH_CRASH && r->gr_pid > 0) {
        /* Greenroom dies at call k; bring it back at once, as a supervisor
         * would, while the deployer retries (or gives up) on its own. */
        double deadline = txn_ms() + 120000.0;
        while (txn_ms() < deadline && !rh_stopped()) {
            int stt = 0;
            if (waitpid(pid, &stt, WNOHANG) == pid) {
                code = WIFEXITED(stt)     ? WEXITSTATUS(stt)
                       : WIFSIGNALED(stt) ? 128 + WTERMSIG(stt)
                                          : -1;
                goto waited;
            }
            if (!restarted && waitpid(r->gr_pid, &stt, WNOHANG) == r->gr_pid) {
                r->gr_pid = 0;
                restarted = 1;
                if (rh_gr_restart(r) < 0) {
                    kill(-pid, SIGKILL);
                    rh_wait(pid, 5);
                    harness_error(rec, result, sizeof(result), RH_HARNESS_RESTART);
                    snprintf(detail, sizeof(detail),
                             "greenroom did not come back after the crash at call %d", k);
                    goto done;
                }
                cJSON_AddBoolToObject(rec, "restarted", 1);
            } else {
                usleep(1000);
            }
        }
    }
    code = rh_wait(pid, 120);
waited:
    if (kind == RH_CRASH && rh_ctl(r, "GET", "/_greenroom/health", NULL, NULL) != 200) {
        if (!restarted) {
            cJSON_AddBoolToObject(rec, "restarted", 1);
        }
        if (rh_gr_restart(r) < 0) {
            harness_error(rec, result, sizeof(result), RH_HARNESS_RESTART);
            snprintf(detail, sizeof(detail),
                     "greenroom did not come back after the crash at call %d", k);
            goto done;
        }
    }
    rh_ctl(r, "DELETE", "/_greenroom/faults", NULL, NULL);
    phase_add(ph, PH_DEPLOY, &mark);
    cJSON_AddStringToObject(rec, "outcome", outcome_name(code, obuf, sizeof(obuf)));
    cJSON_AddNumberToObject(rec, "exit", code);
    {
        cJSON *fired = rh_calls(r, seq0, 1);
        cJSON *first = cJSON_GetArrayItem(fired, 0);
        if (first) {
            cJSON_ReplaceItemInObjectCaseSensitive(rec, "service",
                                                   cJSON_CreateString(txn_jstr(first, "service")));
            cJSON_ReplaceItemInObjectCaseSensitive(
                rec, "operation", cJSON_CreateString(txn_jstr(first, "operation")));
            cJSON_ReplaceItemInObjectCaseSensitive(rec, "resource",
                                                   cJSON_CreateString(txn_jstr(first, "resource")));
        }
        cJSON_AddBoolToObject(rec, "fired", first != NULL || kind == RH_KILL);
        cJSON_Delete(fired);
    }
    if (((kind == RH_KILL && code == 128 + SIGKILL) || (kind == RH_CRASH && code != 0)) &&
        !r->v05) {
        /* The deployer died: recover must bring the stage to all-old or all-new. */
        int rc2 = rh_run(r, "recover", stage);
        cJSON_AddNumberToObject(rec, "recoverExit", rc2);
        phase_add(ph, PH_RECOVER, &mark);
        if (rc2 != 0) {
            snprintf(result, sizeof(result), "recover failed");
            snprintf(detail, sizeof(detail),
                     "`stagehand recover -s %s` exited %d after the deployer was killed at call %d",
                     stage, rc2, k);
            goto done;
        }
    }
    /* Invariants 1-3 on the rehearsed stage, and other stages unchanged. */
    for (int i = 0; i < n_imgs; i++) {
        cJSON *now = NULL;
        if (capture(r, imgs[i].name, &now, &err) < 0) {
            char eb[1400];
            harness_error(rec, result, sizeof(result), RH_HARNESS_CAPTURE);
            snprintf(detail, sizeof(detail), "capture of %s failed: %s", imgs[i].name,
                     dep_err_str(&err, eb, sizeof(eb)));
            goto done;
        }
        cJSON *exact = rh_normalise(now, imgs[i].raw_pre, 0);
        if (i > 0) {
            if (!check_eq("invariant 2 (other stages never change)", imgs[i].name, imgs[i].pre,
                          exact, result, sizeof(result), detail, sizeof(detail))) {
                cJSON_Delete(exact);
                cJSON_Delete(now);
                goto done;
            }
        } else if (code == 0) {
            cJSON *shape = rh_normalise(now, imgs[0].raw_pre, 1);
            int ok = check_eq("invariant 2 (success reaches the target)", stage, target, shape,
                              result, sizeof(result), detail, sizeof(detail));
            cJSON_Delete(shape);
            if (ok && !meta_has_outputs(now, detail, sizeof(detail))) {
                snprintf(result, sizeof(result), "invariant 3 violated");
                ok = 0;
            }
            if (!ok) {
                cJSON_Delete(exact);
                cJSON_Delete(now);
                goto done;
            }
        } else {
            /* failed (or killed and recovered): all-old, or (killed) all-new */
            char r1[128], d1[2048];
            if (!check_eq("invariant 1 (failure leaves the stage as it was)", stage, imgs[0].pre,
                          exact, r1, sizeof(r1), d1, sizeof(d1))) {
                cJSON *shape = rh_normalise(now, imgs[0].raw_pre, 1);
                char p2[512], e2[512], f2[512];
                int all_new = (kind == RH_KILL || kind == RH_CRASH) && !r->v05 &&
                              rh_first_diff(target, shape, p2, sizeof(p2), e2, sizeof(e2), f2,
                                            sizeof(f2)) == 0;
                cJSON_Delete(shape);
                if (!all_new) {
                    check_eq("invariant 1 (failure leaves the stage as it was)", stage, imgs[0].pre,
                             exact, result, sizeof(result), detail, sizeof(detail));
                    cJSON_Delete(exact);
                    cJSON_Delete(now);
                    goto done;
                }
            }
        }
        cJSON_Delete(exact);
        cJSON_Delete(now);
    }
    phase_add(ph, PH_CAPTURE, &mark);
    /* Invariant 4: after a failure, recovery then a plain deploy succeeds. */
    if (code != 0) {
        if (!r->v05 && kind != RH_KILL && kind != RH_CRASH) {
            rh_run(r, "recover", stage);
            phase_add(ph, PH_RECOVER, &mark);
        }
        int rc3 = rh_run(r, deploy_cmd, stage);
        phase_add(ph, PH_REDEPLOY, &mark);
        cJSON_AddNumberToObject(rec, "redeployExit", rc3);
        if (rc3 != 0) {
            snprintf(result, sizeof(result), "invariant 4 violated");
            snprintf(detail, sizeof(detail), "invariant 4: the next plain deploy of %s exited %d",
                     stage, rc3);
            goto done;
        }
        cJSON *now = NULL;
        if (capture(r, stage, &now, &err) == 0) {
            cJSON *shape = rh_normalise(now, imgs[0].raw_pre, 1);
            check_eq("invariant 4 (the next deploy reaches the target)", stage, target, shape,
                     result, sizeof(result), detail, sizeof(detail));
            cJSON_Delete(shape);
        }
        cJSON_Delete(now);
        phase_add(ph, PH_CAPTURE, &mark);
    }
done:
    if (strcmp(result, "ok") != 0) {
        /* A greenroom that died (other than the crash kind's planned crash,
         * restarted above) or stopped answering fails the deploy and the
         * checks: that is the harness, not the deploy. It is brought back
         * for the next case. */
        char gone[512];
        const char *what = rh_gr_gone(r, gone, sizeof(gone));
        if (what && !rh_is_harness_error_str(result)) {
            harness_error(rec, result, sizeof(result), what);
            snprintf(detail, sizeof(detail), "%s", gone);
        }
    }
    cJSON *po = cJSON_AddObjectToObject(rec, "phases");
    for (int i = 0; i < PH_N; i++) {
        cJSON_AddNumberToObject(po, phase_names[i], ph[i]);
    }
    cJSON_AddStringToObject(rec, "result", result);
    cJSON_AddStringToObject(rec, "detail", detail);
    cJSON_AddNumberToObject(rec, "ms", txn_ms() - t0);
    cJSON_AddItemToArray(cases, rec);
    return strcmp(result, "ok") != 0;
}

static void print_row(const cJSON *c)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(c, "k");
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(c, "ms");
    char res[200];
    if (rh_is_harness_error(c)) {
        snprintf(res, sizeof(res), "ERROR: %s", txn_jstr(c, "harnessError"));
    } else {
        snprintf(res, sizeof(res), "%s", txn_jstr(c, "result"));
    }
    printf("%4d  %-14s %-28s %-34.34s %-8s %-12s %-22s %6.0f\n",
           cJSON_IsNumber(k) ? k->valueint : 0, txn_jstr(c, "service"), txn_jstr(c, "operation"),
           txn_jstr(c, "resource"), txn_jstr(c, "kind"), txn_jstr(c, "outcome"), res,
           cJSON_IsNumber(ms) ? ms->valuedouble : 0.0);
    fflush(stdout);
}

/* What every case of a sweep shares (read-only in the workers). */
struct rh_case_ctx {
    const cJSON *calls;
    cJSON *target;
    struct rh_stage_img *imgs;
    int n_imgs;
};

/* rh_sweep's run: one case in a worker. */
static void run_one(struct rh *r, const struct rh_case *c, cJSON *out, void *ud)
{
    struct rh_case_ctx *x = ud;
    run_case(r, c->k, c->kind, x->calls, x->target, x->imgs, x->n_imgs, out);
}

/* rh_sweep's label: the faulted call of a case no worker ran to its end. */
static void label_one(const struct rh_case *c, cJSON *rec, void *ud)
{
    struct rh_case_ctx *x = ud;
    const cJSON *call = cJSON_GetArrayItem(x->calls, c->k - 1);
    const char *keys[] = {"service", "operation", "resource"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (!cJSON_GetObjectItemCaseSensitive(rec, keys[i])) {
            cJSON_AddStringToObject(rec, keys[i], txn_jstr(call, keys[i]));
        }
    }
}

/* This run is done with the greenroom it shares with others (r->url):
 * no fault rules, restored to this run's snapshot (restore), the snapshot
 * deleted, the turn given up. */
static void shared_done(struct rh *r, int restore)
{
    if (r->snap_made) {
        char path[256];
        if (restore) {
            rh_ctl(r, "DELETE", "/_greenroom/faults", NULL, NULL);
            snprintf(path, sizeof(path), "/_greenroom/snapshots/%s/restore", r->name);
            if (rh_ctl(r, "POST", path, "{}", NULL) != 200) {
                dep_out_errorf("rehearse", "could not restore %s to its pre-deploy snapshot %s",
                               r->url, r->name);
            }
        }
        snprintf(path, sizeof(path), "/_greenroom/snapshots/%s", r->name);
        if (rh_ctl(r, "DELETE", path, NULL, NULL) / 100 != 2) {
            dep_out_errorf("rehearse", "could not delete snapshot %s of %s", r->name, r->url);
        }
        r->snap_made = 0;
    }
    rh_turn_give(r);
}

int cmd_rehearse(struct dep_ctx *c)
{
    struct rh r;
    struct dep_err err;
    int rc = DEP_EXIT_FAIL;
    cJSON *calls = NULL, *target = NULL, *cases = cJSON_CreateArray();
    struct rh_stage_img imgs[9];
    int n_imgs = 0;
    double t0 = txn_ms();
    memset(&r, 0, sizeof(r));
    memset(imgs, 0, sizeof(imgs));
    dep_err_clear(&err);
    r.c = c;
    r.turn_fd = -1;
    rh_name_init(&r);
    rh_catch_signals();
    if (parse_opts(&r) < 0) {
        cJSON_Delete(cases);
        return DEP_EXIT_USAGE;
    }
    const char *url = c->opts->endpoint_url ? c->opts->endpoint_url : getenv("AWS_ENDPOINT_URL");
    if ((!url || !*url) && !r.greenroom) {
        dep_out_errorf(
            "rehearse",
            "rehearse runs against greenroom: give --greenroom BIN to run its own (none was "
            "found beside stagehand or on PATH), or --endpoint-url URL (or AWS_ENDPOINT_URL)");
        cJSON_Delete(cases);
        return DEP_EXIT_USAGE;
    }
    snprintf(r.url, sizeof(r.url), "%s", url ? url : "");
    size_t ul = strlen(r.url);
    while (ul > 0 && r.url[ul - 1] == '/') {
        r.url[--ul] = 0;
    }
    ssize_t sl = readlink("/proc/self/exe", r.self, sizeof(r.self) - 1);
    if (sl <= 0) {
        dep_out_errorf("rehearse", "cannot find the stagehand binary");
        cJSON_Delete(cases);
        return DEP_EXIT_FAIL;
    }
    r.self[sl] = 0;
    if (!realpath(c->opts->project_dir ? c->opts->project_dir : ".", r.src)) {
        dep_out_errorf("rehearse", "project dir: %s", strerror(errno));
        cJSON_Delete(cases);
        return DEP_EXIT_PROJECT;
    }
    r.curl = curl_easy_init();
    if (r.greenroom) {
        if (rh_make_tmp(r.tmp, sizeof(r.tmp)) < 0) {
            dep_out_errorf("rehearse", "mkdtemp in %s: %s", rh_tmp_base(), strerror(errno));
            goto out;
        }
        snprintf(r.gr_state, sizeof(r.gr_state), "%s/greenroom", r.tmp);
        snprintf(r.log, sizeof(r.log), "%s/children.log", r.tmp);
        mkdir(r.gr_state, 0755);
        if (rh_gr_up(&r, 0) < 0) {
            dep_out_errorf("rehearse", "could not start %s", r.greenroom);
            goto out;
        }
    }
    if (rh_ctl(&r, "GET", "/_greenroom/health", NULL, NULL) != 200) {
        dep_out_errorf("rehearse", "%s is not a greenroom (GET /_greenroom/health failed)", r.url);
        goto out;
    }
    /* Where the cases run: rehearse's own greenrooms; clones of the
     * --endpoint-url greenroom when it runs on this machine; else that
     * greenroom itself, one case at a time and without the crash kind. */
    if (!r.greenroom && r.jobs != 1 && rh_clone_probe(&r)) {
        r.clone = 1;
    }
    if (!r.greenroom) {
        if (r.kinds_given && r.kinds[RH_CRASH]) {
            dep_out_errorf("rehearse",
                           "--kinds crash needs a greenroom rehearse can restart: its own "
                           "(--greenroom BIN) or clones of a greenroom on this machine; %s is "
                           "neither",
                           r.url);
            rc = DEP_EXIT_USAGE;
            goto out;
        }
        if (r.jobs > 1) {
            dep_out_errorf("rehearse",
                           "--jobs %d needs greenrooms rehearse can start: its own (--greenroom "
                           "BIN) or clones of a greenroom on this machine; %s has one state, so "
                           "its cases run one at a time",
                           r.jobs, r.url);
            rc = DEP_EXIT_USAGE;
            goto out;
        }
        r.kinds[RH_CRASH] = 0;
    }
    if (r.jobs == 0) {
        /* Cases spend part of their time waiting (children starting, hung
         * calls, retries): twice as many workers as cores keep the cores
         * busy. The example's full sweep on 2 cores: 2 workers 44 s, 3 34 s,
         * 4 30 s, 6 31 s. */
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        r.jobs = !r.greenroom             ? 1
                 : cpus < 1               ? 2
                 : cpus * 2 > RH_MAX_JOBS ? RH_MAX_JOBS
                                          : (int)cpus * 2;
    }
    if (!r.tmp[0] && rh_make_tmp(r.tmp, sizeof(r.tmp)) < 0) {
        dep_out_errorf("rehearse", "mkdtemp in %s: %s", rh_tmp_base(), strerror(errno));
        goto out;
    }
    snprintf(r.work, sizeof(r.work), "%s/project", r.tmp);
    snprintf(r.saved_meta, sizeof(r.saved_meta), "%s/meta-pre", r.tmp);
    snprintf(r.log, sizeof(r.log), "%s/children.log", r.tmp);
    {
        char *cp[] = {"cp", "-a", r.src, r.work, NULL};
        if (rh_run_quiet(cp) != 0) {
            dep_out_errorf("rehearse", "could not copy %s", r.src);
            goto out;
        }
    }
    int human = dep_out_mode() != DEP_OUT_JSON;
    /* 1. the pre-deploy world; a greenroom not ours may be shared with
     * other rehearse runs: they take turns on it */
    int shared = !r.greenroom || r.clone;
    if (shared) {
        if (rh_turn_take(&r) < 0) {
            if (!rh_stopped()) {
                dep_out_errorf("rehearse",
                               "could not take the turn on %s (a lock on its state "
                               "dir or in /tmp)",
                               r.url);
            }
            goto out;
        }
        rh_snap_sweep_stale(&r);
    }
    rh_ctl(&r, "DELETE", "/_greenroom/faults", NULL, NULL);
    for (int i = 0; i < r.n_watch; i++) {
        int wrc = rh_run(&r, r.v05 ? "v05" : "deploy", r.watch[i]);
        if (wrc != 0) {
            dep_out_errorf("rehearse", "deploying the watched stage %s failed (exit %d, log %s)",
                           r.watch[i], wrc, r.log);
            goto out;
        }
    }
    {
        char body[200];
        snprintf(body, sizeof(body), "{\"name\":\"%s\"}", r.name);
        if (rh_meta_save(&r) != 0 ||
            rh_ctl(&r, "POST", "/_greenroom/snapshots", body, NULL) / 100 != 2) {
            dep_out_errorf("rehearse", "could not save the pre-deploy snapshot %s", r.name);
            goto out;
        }
        r.snap_made = 1;
    }
    snprintf(imgs[0].name, sizeof(imgs[0].name), "%s", c->stage);
    for (int i = 0; i < r.n_watch; i++) {
        snprintf(imgs[1 + i].name, sizeof(imgs[0].name), "%s", r.watch[i]);
    }
    n_imgs = 1 + r.n_watch;
    for (int i = 0; i < n_imgs; i++) {
        if (capture(&r, imgs[i].name, &imgs[i].raw_pre, &err) < 0) {
            dep_out_error("rehearse capture", &err);
            goto out;
        }
        imgs[i].pre = rh_normalise(imgs[i].raw_pre, imgs[i].raw_pre, 0);
    }
    /* 2. learning run */
    long seq0 = rh_last_seq(&r);
    double tl = txn_ms();
    int lrc = rh_run(&r, r.v05 ? "v05" : "deploy", c->stage);
    double learn_ms = txn_ms() - tl;
    if (lrc != 0) {
        dep_out_errorf("rehearse", "the clean deploy failed (exit %d); see %s", lrc, r.log);
        goto out;
    }
    calls = rh_calls(&r, seq0, 0);
    int n = cJSON_GetArraySize(calls);
    {
        cJSON *now = NULL;
        if (capture(&r, c->stage, &now, &err) < 0) {
            dep_out_error("rehearse capture", &err);
            goto out;
        }
        target = rh_normalise(now, imgs[0].raw_pre, 1);
        cJSON_Delete(now);
    }
    {
        /* Test hook: hold still here (the snapshot saved, the stage
         * deployed by the learning run) so a test can interrupt the setup. */
        const char *pause = getenv("STAGEHAND_TEST_REHEARSE_PAUSE_MS");
        char *end = NULL;
        long ms = pause ? strtol(pause, &end, 10) : 0;
        if (ms > 0 && end && !*end) {
            fprintf(stderr, "rehearse: test pause of %ld ms after the learning run\n", ms);
            double until = txn_ms() + (double)ms;
            while (txn_ms() < until && !rh_stopped()) {
                usleep(10000);
            }
            if (rh_stopped()) {
                goto out;
            }
        }
    }
    if (human) {
        printf("rehearse %s flow for stage %s in %s: clean deploy made N=%d calls in %.0f ms\n",
               r.v05 ? "v0.5 six-command" : "transactional deploy", c->stage, c->region, n,
               learn_ms);
        if (r.jobs > 1 && r.clone) {
            printf("cases run on %d workers, each on a clone of %s (%s, its pre-deploy "
                   "snapshot)\n",
                   r.jobs, r.url, r.greenroom);
        } else if (r.jobs > 1) {
            printf("cases run on %d workers, each with its own greenroom (%s)\n", r.jobs,
                   r.greenroom);
        } else if (!r.greenroom) {
            printf("cases run one at a time against %s (with --greenroom BIN, or without an "
                   "endpoint, they run in parallel on rehearse's own greenrooms)\n",
                   r.url);
        }
    }
    /* 3. the cases */
    struct rh_case *todo = calloc((size_t)n * RH_NKINDS + 1, sizeof(*todo));
    int nt = 0;
    for (int k = 1; k <= n; k++) {
        if (r.only_k && k != r.only_k) {
            continue;
        }
        for (int kind = 0; kind < RH_NKINDS; kind++) {
            if (r.kinds[kind]) {
                todo[nt].k = k;
                todo[nt].kind = kind;
                nt++;
            }
        }
    }
    if (r.max_cases > 0 && nt > r.max_cases) {
        shuffle(todo, nt, r.seed);
        nt = (int)r.max_cases;
        qsort(todo, (size_t)nt, sizeof(*todo), case_cmp);
    }
    if (human) {
        printf("%4s  %-14s %-28s %-34s %-8s %-12s %-22s %6s\n", "k", "service", "operation",
               "resource", "fault", "outcome", "invariants", "ms");
    }
    int violations = 0, harness_errors = 0;
    cJSON *first_bad = NULL, *first_error = NULL;
    if (r.clone && r.jobs > 1) {
        if (rh_clone_template(&r, r.name) < 0) {
            dep_out_errorf("rehearse",
                           "could not copy the pre-deploy snapshot of %s for its clones", r.url);
            free(todo);
            goto out;
        }
        /* the clones have their copy: the greenroom is the others' again */
        shared_done(&r, 1);
    }
    if (r.jobs > 1 && (nt > 1 || r.clone)) {
        struct rh_case_ctx cx = {calls, target, imgs, n_imgs};
        struct rh_sweep sw = {todo, nt, run_one, print_row, label_one, &cx};
        if (rh_run_parallel(&r, &sw, cases, human) < 0) {
            dep_out_errorf("rehearse", "could not start the rehearse workers");
            free(todo);
            goto out;
        }
    } else {
        for (int i = 0; i < nt && !rh_stopped(); i++) {
            run_case(&r, todo[i].k, todo[i].kind, calls, target, imgs, n_imgs, cases);
            if (human) {
                print_row(cJSON_GetArrayItem(cases, cJSON_GetArraySize(cases) - 1));
            }
        }
    }
    if (rh_stopped()) {
        free(todo);
        goto out; /* no report of a partial sweep */
    }
    cJSON *rec;
    cJSON_ArrayForEach(rec, cases)
    {
        if (rh_is_harness_error(rec)) {
            harness_errors++;
            if (!first_error) {
                first_error = rec;
            }
        } else if (strcmp(txn_jstr(rec, "result"), "ok") != 0) {
            violations++;
            if (!first_bad) {
                first_bad = rec;
            }
        }
    }
    free(todo);
    if (r.gr_pid > 0) {
        char path[256];
        snprintf(path, sizeof(path), "/_greenroom/snapshots/%s/restore", r.name);
        rh_ctl(&r, "POST", path, "{}", NULL);
    }
    double total = txn_ms() - t0;
    if (human) {
        printf("\n%d case(s) over N=%d calls, %d violation(s), %d harness error(s), %.1f s (flow "
               "%s)\n",
               nt, n, violations, harness_errors, total / 1000.0, r.v05 ? "v05" : "deploy");
        if (first_bad) {
            printf("first violation: k=%d %s (%s %s %s): %s\n  replay: stagehand rehearse -s %s -r "
                   "%s %s %s%s "
                   "--only %d --kind %s\n",
                   (int)cJSON_GetObjectItemCaseSensitive(first_bad, "k")->valuedouble,
                   txn_jstr(first_bad, "kind"), txn_jstr(first_bad, "service"),
                   txn_jstr(first_bad, "operation"), txn_jstr(first_bad, "resource"),
                   txn_jstr(first_bad, "detail"), c->stage, c->region,
                   r.greenroom && !r.clone ? "--greenroom" : "--endpoint-url",
                   r.greenroom && !r.clone ? r.greenroom : r.url, r.v05 ? " --flow v05" : "",
                   (int)cJSON_GetObjectItemCaseSensitive(first_bad, "k")->valuedouble,
                   txn_jstr(first_bad, "kind"));
        }
    }
    if (human && first_error) {
        printf("first harness error (rehearse's own infrastructure, not the deploy): k=%d %s: %s: "
               "%s\n",
               (int)cJSON_GetObjectItemCaseSensitive(first_error, "k")->valuedouble,
               txn_jstr(first_error, "kind"), txn_jstr(first_error, "harnessError"),
               txn_jstr(first_error, "detail"));
    }
    if (r.junit) {
        char *x = rh_junit(cases, total);
        FILE *fp = fopen(r.junit, "w");
        if (!fp || fputs(x, fp) < 0) {
            dep_out_errorf("rehearse", "cannot write %s", r.junit);
        }
        if (fp) {
            fclose(fp);
        }
        free(x);
    }
    dep_out_result("flow", cJSON_CreateString(r.v05 ? "v05" : "deploy"));
    dep_out_result("run", cJSON_CreateString(r.name));
    dep_out_result("calls", cJSON_CreateNumber(n));
    dep_out_result("cases", cJSON_Duplicate(cases, 1));
    dep_out_result("violations", cJSON_CreateNumber(violations));
    dep_out_result("harnessErrors", cJSON_CreateNumber(harness_errors));
    dep_out_result("wallMs", cJSON_CreateNumber(total));
    dep_out_result("learnMs", cJSON_CreateNumber(learn_ms));
    rc = violations ? DEP_EXIT_INVARIANT : harness_errors ? DEP_EXIT_HARNESS : DEP_EXIT_OK;
out:
    if (!r.greenroom || r.clone) {
        shared_done(&r, 1); /* also when it failed or was interrupted */
    }
    rh_gr_down(&r);
    if (rh_stopped()) {
        dep_out_errorf("rehearse",
                       "interrupted by signal %d: its deploys and greenrooms are stopped and its "
                       "temp dir is removed",
                       rh_stopped());
        rc = 128 + rh_stopped();
    }
    if (r.tmp[0] && !txn_opt_flag(c, "--keep-tmp")) {
        char *rm[] = {"rm", "-rf", r.tmp, NULL};
        rh_run_quiet(rm);
    } else if (r.tmp[0]) {
        fprintf(stderr, "rehearse: kept %s\n", r.tmp);
    }
    for (int i = 0; i < n_imgs; i++) {
        cJSON_Delete(imgs[i].pre);
        cJSON_Delete(imgs[i].raw_pre);
    }
    cJSON_Delete(calls);
    cJSON_Delete(target);
    cJSON_Delete(cases);
    cJSON_Delete(r.gr_args);
    cJSON_Delete(r.gr_env);
    if (r.curl) {
        curl_easy_cleanup(r.curl);
    }
    return rc;
}
