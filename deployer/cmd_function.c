/*
 * cmd_function.c - `function deploy` (v0.5 section 2.4) and `function
 * rollback` (section 5.1).
 *
 * deploy, per function (5 at a time, like v0.5): package (package.c),
 * GetFunction{P-F, Qualifier $LATEST}; absent (ResourceNotFoundException
 * only; any other error fails) -> CreateFunction{Code.ZipFile, Handler,
 * Role: customRole || iamRoleArnLambda, Runtime, Description, MemorySize,
 * Timeout, Publish true, VpcConfig}; present -> UpdateFunctionConfiguration
 * then UpdateFunctionCode{ZipFile, Publish true}. The returned CodeSha256
 * is checked against the zip's. Before updating, ListVersionsByFunction
 * looks for a published version with this CodeSha256 and configuration:
 * when there is one (unchanged code, or another stage moved the shared
 * $LATEST since) it is reused - no update, no new version, $LATEST left
 * alone; PublishVersion when only $LATEST holds it.
 * Then, only when every function's code step succeeded, the aliases move:
 * GetAlias{S} -> UpdateAlias (skipped when it already points there) or
 * CreateAlias (ResourceNotFoundException only), Description
 * "Project: P Stage: S". So a failure never leaves aliases half-moved
 * by the code step (v0.5 moved the others' aliases first).
 *
 * rollback -v N [-a | names]: ListVersionsByFunction (N must exist) then
 * UpdateAlias{S -> N}. Without -v: the highest version below the alias's.
 */
#include "dep.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STEP "function deploy"

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int is_not_found(const struct dep_err *err)
{
    return err->kind == DEP_ERR_AWS &&
           (strcmp(err->code, "ResourceNotFoundException") == 0 || err->http_status == 404);
}

static double jnum(const cJSON *o, const char *k, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsNumber(v)) {
        return v->valuedouble;
    }
    if (cJSON_IsString(v) && v->valuestring[0]) {
        char *end = NULL;
        errno = 0;
        double d = strtod(v->valuestring, &end);
        if (!errno && end && !*end) {
            return d;
        }
    }
    return def;
}

/* The function configuration v0.5 sends (without FunctionName/Code). */
static cJSON *fn_config(struct dep_ctx *c, struct dep_function *f, const char *handler,
                        const char *role)
{
    cJSON *cfg = cJSON_CreateObject();
    const char *desc = jstr(f->json, "description");
    const cJSON *vpc = cJSON_GetObjectItemCaseSensitive(f->json, "vpc");

    (void)c;
    cJSON_AddStringToObject(cfg, "Description", desc ? desc : "");
    cJSON_AddStringToObject(cfg, "Handler", handler);
    cJSON_AddNumberToObject(cfg, "MemorySize", jnum(f->json, "memorySize", 1024));
    cJSON_AddStringToObject(cfg, "Role", role);
    cJSON_AddNumberToObject(cfg, "Timeout", jnum(f->json, "timeout", 6));
    cJSON *v = cJSON_AddObjectToObject(cfg, "VpcConfig");
    const cJSON *sg =
        cJSON_IsObject(vpc) ? cJSON_GetObjectItemCaseSensitive(vpc, "securityGroupIds") : NULL;
    const cJSON *sn =
        cJSON_IsObject(vpc) ? cJSON_GetObjectItemCaseSensitive(vpc, "subnetIds") : NULL;
    cJSON_AddItemToObject(v, "SecurityGroupIds",
                          cJSON_IsArray(sg) ? cJSON_Duplicate(sg, 1) : cJSON_CreateArray());
    cJSON_AddItemToObject(v, "SubnetIds",
                          cJSON_IsArray(sn) ? cJSON_Duplicate(sn, 1) : cJSON_CreateArray());
    return cfg;
}

/* 1 when the deployed configuration equals what we would send. */
static int config_equal(const cJSON *deployed, const cJSON *cfg, const char *runtime)
{
    const char *keys[] = {"Description", "Handler", "Role", NULL};

    for (int i = 0; keys[i]; i++) {
        const char *a = jstr(deployed, keys[i]), *b = jstr(cfg, keys[i]);
        if (!a) {
            a = "";
        }
        if (strcmp(a, b ? b : "") != 0) {
            return 0;
        }
    }
    if (strcmp(jstr(deployed, "Runtime") ? jstr(deployed, "Runtime") : "", runtime) != 0) {
        return 0;
    }
    if (jnum(deployed, "MemorySize", -1) != jnum(cfg, "MemorySize", -2) ||
        jnum(deployed, "Timeout", -1) != jnum(cfg, "Timeout", -2)) {
        return 0;
    }
    const cJSON *dv = cJSON_GetObjectItemCaseSensitive(deployed, "VpcConfig");
    const cJSON *cv = cJSON_GetObjectItemCaseSensitive(cfg, "VpcConfig");
    const char *lists[] = {"SubnetIds", "SecurityGroupIds", NULL};
    for (int i = 0; lists[i]; i++) {
        const cJSON *a = dv ? cJSON_GetObjectItemCaseSensitive(dv, lists[i]) : NULL;
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(cv, lists[i]);
        int na = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0;
        int nb = cJSON_IsArray(b) ? cJSON_GetArraySize(b) : 0;
        if (na != nb || (na && !cJSON_Compare(a, b, 1))) {
            return 0;
        }
    }
    return 1;
}

static void copy_result(struct dep_fn_result *res, const cJSON *out)
{
    const char *v;

    if ((v = jstr(out, "Version"))) {
        snprintf(res->version, sizeof(res->version), "%s", v);
    }
    if ((v = jstr(out, "CodeSha256"))) {
        snprintf(res->code_sha256, sizeof(res->code_sha256), "%s", v);
    }
    if ((v = jstr(out, "RevisionId"))) {
        snprintf(res->revision_id, sizeof(res->revision_id), "%s", v);
    }
    if ((v = jstr(out, "FunctionArn"))) {
        snprintf(res->function_arn, sizeof(res->function_arn), "%s", v);
    }
}

/* Wait while LastUpdateStatus is InProgress (real AWS); no call otherwise. */
static int wait_updated(struct dep_ctx *c, const char *fn, const cJSON *last, struct dep_err *err)
{
    const char *st = jstr(last, "LastUpdateStatus");

    for (int i = 0; st && strcmp(st, "InProgress") == 0 && i < 120; i++) {
        cJSON *out = NULL;
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
        if (dep_lambda_get_function(c->region, fn, NULL, &out, err) < 0) {
            return -1;
        }
        const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(out, "Configuration");
        int again = jstr(cfg, "LastUpdateStatus") &&
                    strcmp(jstr(cfg, "LastUpdateStatus"), "InProgress") == 0;
        cJSON_Delete(out);
        if (!again) {
            break;
        }
    }
    return 0;
}

int dep_fn_deploy_code(struct dep_ctx *c, struct dep_function *f, struct dep_fn_result *res,
                       struct dep_err *err)
{
    struct dep_zip zip = {0};
    cJSON *out = NULL, *cfg = NULL, *req = NULL;
    char *b64 = NULL;
    const char *role;
    char label[300];
    int rc = -1;

    memset(res, 0, sizeof(*res));
    role = jstr(f->json, "customRole");
    if (!role || !role[0]) {
        role = dep_cmd_var(c, "iamRoleArnLambda");
    }
    if (!role) {
        dep_err_local(err, "MissingRole",
                      "function %s: no Role: variable iamRoleArnLambda is not defined (run "
                      "resources deploy and "
                      "meta sync first) and customRole is not set",
                      f->name);
        return -1;
    }
    char role_copy[2048];
    snprintf(role_copy, sizeof(role_copy), "%s", role);
    if (dep_package_function(&c->project, f, &zip, err) < 0) {
        return -1;
    }
    cfg = fn_config(c, f, zip.handler, role_copy);
    snprintf(label, sizeof(label), "%s (%zu bytes zip)", f->lambda_name, zip.len);
    if (dep_lambda_get_function(c->region, f->lambda_name, "$LATEST", &out, err) < 0) {
        if (!is_not_found(err)) {
            goto out;
        }
        /* absent: CreateFunction */
        req = cJSON_Duplicate(cfg, 1);
        b64 = dep_base64(zip.data, zip.len);
        cJSON *code = cJSON_CreateObject();
        cJSON_AddStringToObject(code, "ZipFile", b64);
        cJSON_AddItemToObject(req, "Code", code);
        cJSON_AddStringToObject(req, "FunctionName", f->lambda_name);
        cJSON_AddStringToObject(req, "Runtime", f->runtime);
        cJSON_AddTrueToObject(req, "Publish");
        cJSON_Delete(out);
        out = NULL;
        dep_transport_set_progress_label(label);
        int r = dep_lambda_create_function(c->region, req, &out, err);
        dep_transport_set_progress_label(NULL);
        if (r < 0) {
            goto out;
        }
        res->created = 1;
        copy_result(res, out);
    } else {
        const cJSON *dep_cfg = cJSON_GetObjectItemCaseSensitive(out, "Configuration");
        const char *sha = jstr(dep_cfg, "CodeSha256");
        int latest_same =
            sha && strcmp(sha, zip.sha256_b64) == 0 && config_equal(dep_cfg, cfg, f->runtime);
        /* a published version with this code and configuration already
         * exists (unchanged, or another stage moved $LATEST since): reuse
         * it without touching the shared $LATEST */
        cJSON *vers = NULL;
        const cJSON *v;
        long best = -1;
        if (dep_lambda_list_versions(c->region, f->lambda_name, &vers, err) < 0) {
            goto out;
        }
        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(vers, "Versions"))
        {
            const char *ver = jstr(v, "Version");
            const char *vs = jstr(v, "CodeSha256");
            char *end = NULL;
            long n = ver ? strtol(ver, &end, 10) : -1;
            if (!ver || !end || *end || n <= best || !vs || strcmp(vs, zip.sha256_b64) != 0 ||
                !config_equal(v, cfg, f->runtime)) {
                continue;
            }
            best = n;
            copy_result(res, v);
        }
        cJSON_Delete(vers);
        if (best >= 0) {
            res->unchanged = 1;
        } else if (latest_same) {
            /* $LATEST already holds it but was never published */
            cJSON *pv = cJSON_CreateObject();
            cJSON_AddStringToObject(pv, "CodeSha256", zip.sha256_b64);
            cJSON_Delete(out);
            out = NULL;
            int r = dep_lambda_publish_version(c->region, f->lambda_name, pv, &out, err);
            cJSON_Delete(pv);
            if (r < 0) {
                goto out;
            }
            copy_result(res, out);
        } else {
            /* real AWS: no update while the previous one is in progress */
            if (wait_updated(c, f->lambda_name, dep_cfg, err) < 0) {
                goto out;
            }
            cJSON_Delete(out);
            out = NULL;
            if (dep_lambda_update_function_configuration(c->region, f->lambda_name, cfg, &out,
                                                         err) < 0) {
                goto out;
            }
            if (wait_updated(c, f->lambda_name, out, err) < 0) {
                goto out;
            }
            req = cJSON_CreateObject();
            b64 = dep_base64(zip.data, zip.len);
            cJSON_AddStringToObject(req, "ZipFile", b64);
            cJSON_AddTrueToObject(req, "Publish");
            cJSON_Delete(out);
            out = NULL;
            dep_transport_set_progress_label(label);
            int r = dep_lambda_update_function_code(c->region, f->lambda_name, req, &out, err);
            dep_transport_set_progress_label(NULL);
            if (r < 0) {
                goto out;
            }
            copy_result(res, out);
        }
    }
    if (!res->version[0] || strcmp(res->version, "$LATEST") == 0) {
        dep_err_local(err, "NoVersion", "function %s: Lambda answered without a published version",
                      f->name);
        goto out;
    }
    if (res->code_sha256[0] && strcmp(res->code_sha256, zip.sha256_b64) != 0) {
        dep_err_local(err, "CodeSha256Mismatch",
                      "function %s: Lambda reports CodeSha256 %s, the zip has %s", f->name,
                      res->code_sha256, zip.sha256_b64);
        goto out;
    }
    snprintf(res->code_sha256, sizeof(res->code_sha256), "%s", zip.sha256_b64);
    rc = 0;
out:
    free(b64);
    cJSON_Delete(req);
    cJSON_Delete(cfg);
    cJSON_Delete(out);
    dep_zip_release(&zip);
    return rc;
}

int dep_fn_set_alias(struct dep_ctx *c, struct dep_function *f, const char *alias,
                     const char *version, struct dep_err *err)
{
    cJSON *out = NULL, *req = cJSON_CreateObject();
    char desc[512];
    int rc = -1;

    snprintf(desc, sizeof(desc), "Project: %s Stage: %s", c->project.name, c->stage);
    cJSON_AddStringToObject(req, "FunctionVersion", version);
    cJSON_AddStringToObject(req, "Description", desc);
    if (dep_lambda_get_alias(c->region, f->lambda_name, alias, &out, err) == 0) {
        char cur_buf[32];
        snprintf(cur_buf, sizeof(cur_buf), "%s",
                 jstr(out, "FunctionVersion") ? jstr(out, "FunctionVersion") : "?");
        const char *cur = cur_buf;
        const char *cd = jstr(out, "Description");
        const cJSON *rc_cfg = cJSON_GetObjectItemCaseSensitive(out, "RoutingConfig");
        int weighted = cJSON_IsObject(rc_cfg) && cJSON_GetArraySize(rc_cfg) > 0 &&
                       cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
                           rc_cfg, "AdditionalVersionWeights")) > 0;
        if (strcmp(cur, version) == 0 && cd && strcmp(cd, desc) == 0 && !weighted) {
            dep_out_item("alias", f->lambda_name, "unchanged", "%s -> %s", alias, version);
            rc = 0;
            goto out;
        }
        cJSON_Delete(out);
        out = NULL;
        if (dep_lambda_update_alias(c->region, f->lambda_name, alias, req, &out, err) < 0) {
            goto out;
        }
        dep_out_item("alias", f->lambda_name, "updated", "%s -> %s (was %s)", alias, version, cur);
    } else {
        if (!is_not_found(err)) {
            goto out;
        }
        cJSON_AddStringToObject(req, "Name", alias);
        if (dep_lambda_create_alias(c->region, f->lambda_name, req, &out, err) < 0) {
            goto out;
        }
        dep_out_item("alias", f->lambda_name, "created", "%s -> %s", alias, version);
    }
    rc = 0;
out:
    cJSON_Delete(req);
    cJSON_Delete(out);
    return rc;
}

/* ---------------------------------------------------------- the step */

struct job {
    struct dep_ctx *c;
    struct dep_function **fns;
    struct dep_fn_result *res;
    struct dep_err *errs;
    int *ok;
    int n;
    int next;
    pthread_mutex_t lock;
};

static void *worker(void *arg)
{
    struct job *j = arg;

    for (;;) {
        int i;
        pthread_mutex_lock(&j->lock);
        i = j->next++;
        pthread_mutex_unlock(&j->lock);
        if (i >= j->n) {
            break;
        }
        struct dep_function *f = j->fns[i];
        dep_err_clear(&j->errs[i]);
        dep_out_item("function", f->name, "deploying", "%s", f->lambda_name);
        if (dep_fn_deploy_code(j->c, f, &j->res[i], &j->errs[i]) == 0) {
            j->ok[i] = 1;
            dep_out_item("function", f->name,
                         j->res[i].unchanged ? "unchanged"
                                             : (j->res[i].created ? "created" : "updated"),
                         "%s version %s", f->lambda_name, j->res[i].version);
        } else {
            dep_out_item("function", f->name, "failed", NULL);
            dep_out_error(STEP, &j->errs[i]);
        }
    }
    dep_transport_thread_cleanup();
    return NULL;
}

int dep_step_function_deploy(struct dep_ctx *c)
{
    int n = 0, rc, ok_n = 0, fail_n = 0;
    struct dep_function **fns;
    struct job j;
    pthread_t th[5];
    int nth;
    char alias[64];

    dep_out_step(STEP);
    rc = dep_cmd_check_names(c, STEP);
    if (rc) {
        dep_out_step_done(STEP, "failed");
        return rc;
    }
    fns = dep_select_functions(c, &n);
    if (n == 0) {
        dep_out_info("no functions in project %s", c->project.name);
        free(fns);
        dep_out_step_done(STEP, "ok");
        return DEP_EXIT_OK;
    }
    memset(&j, 0, sizeof(j));
    j.c = c;
    j.fns = fns;
    j.n = n;
    j.res = calloc((size_t)n, sizeof(*j.res));
    j.errs = calloc((size_t)n, sizeof(*j.errs));
    j.ok = calloc((size_t)n, sizeof(*j.ok));
    pthread_mutex_init(&j.lock, NULL);
    nth = n < 5 ? n : 5;
    for (int i = 0; i < nth; i++) {
        if (pthread_create(&th[i], NULL, worker, &j) != 0) {
            nth = i;
            break;
        }
    }
    if (nth == 0) {
        worker(&j);
    }
    for (int i = 0; i < nth; i++) {
        pthread_join(th[i], NULL);
    }
    for (int i = 0; i < n; i++) {
        fail_n += !j.ok[i];
    }
    if (fail_n) {
        dep_out_errorf(STEP,
                       "Function Deployment Failed: %d of %d function%s failed; no alias was moved",
                       fail_n, n, n == 1 ? "" : "s");
        rc = DEP_EXIT_FAIL;
        for (int i = 0; i < n; i++) {
            if (!j.ok[i]) {
                rc =
                    dep_err_exit(&j.errs[i]); /* the first failure decides (5 for transport, ...) */
                break;
            }
        }
        goto out;
    }
    /* every code step succeeded: move the aliases */
    dep_cmd_alias(c, alias, sizeof(alias));
    for (int i = 0; i < n; i++) {
        struct dep_err err;
        dep_err_clear(&err);
        if (dep_fn_set_alias(c, fns[i], alias, j.res[i].version, &err) == 0) {
            ok_n++;
        } else {
            fail_n++;
            dep_out_item("alias", fns[i]->lambda_name, "failed", "%s -> %s", alias,
                         j.res[i].version);
            dep_out_error(STEP, &err);
        }
    }
    rc = dep_cmd_exit_for(ok_n, fail_n);
    {
        cJSON *arr = cJSON_CreateArray();
        for (int i = 0; i < n; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "function", fns[i]->name);
            cJSON_AddStringToObject(o, "lambda", fns[i]->lambda_name);
            cJSON_AddStringToObject(o, "version", j.res[i].version);
            cJSON_AddStringToObject(o, "codeSha256", j.res[i].code_sha256);
            cJSON_AddBoolToObject(o, "unchanged", j.res[i].unchanged);
            cJSON_AddItemToArray(arr, o);
        }
        dep_out_result("functions", arr);
    }
out:
    dep_out_step_done(STEP, rc == 0 ? "ok" : "failed");
    pthread_mutex_destroy(&j.lock);
    free(j.res);
    free(j.errs);
    free(j.ok);
    free(fns);
    return rc;
}

int cmd_function_deploy(struct dep_ctx *c)
{
    return dep_step_function_deploy(c);
}

/* ---------------------------------------------------------- rollback */

int dep_step_function_rollback(struct dep_ctx *c, const char *version)
{
    const char *step = "function rollback";
    int n = 0, ok_n = 0, fail_n = 0, rc;
    struct dep_function **fns;
    char alias[64];

    dep_out_step(step);
    rc = dep_cmd_check_names(c, step);
    if (rc) {
        dep_out_step_done(step, "failed");
        return rc;
    }
    if (!c->opts->all && c->opts->names_n == 0) {
        dep_out_errorf(step, "name the functions to roll back, or -a for all");
        dep_out_step_done(step, "failed");
        return DEP_EXIT_USAGE;
    }
    fns = dep_select_functions(c, &n);
    dep_cmd_alias(c, alias, sizeof(alias));
    for (int i = 0; i < n; i++) {
        struct dep_function *f = fns[i];
        struct dep_err err;
        cJSON *vers = NULL, *cur = NULL;
        char target[32] = "";
        const cJSON *v;
        dep_err_clear(&err);
        if (dep_lambda_list_versions(c->region, f->lambda_name, &vers, &err) < 0) {
            goto fail;
        }
        if (version) {
            cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(vers, "Versions"))
            {
                if (jstr(v, "Version") && strcmp(jstr(v, "Version"), version) == 0) {
                    snprintf(target, sizeof(target), "%s", version);
                }
            }
            if (!target[0]) {
                dep_err_local(&err, "NoSuchVersion", "function %s has no version %s",
                              f->lambda_name, version);
                goto fail;
            }
        } else {
            long now = -1, best = -1;
            if (dep_lambda_get_alias(c->region, f->lambda_name, alias, &cur, &err) < 0) {
                goto fail;
            }
            if (jstr(cur, "FunctionVersion")) {
                now = strtol(jstr(cur, "FunctionVersion"), NULL, 10);
            }
            cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(vers, "Versions"))
            {
                const char *s = jstr(v, "Version");
                char *end = NULL;
                long x = s ? strtol(s, &end, 10) : -1;
                if (s && end && !*end && x < now && x > best) {
                    best = x;
                }
            }
            if (best < 1) {
                dep_err_local(&err, "NoSuchVersion",
                              "function %s: no version below %ld to roll back to", f->lambda_name,
                              now);
                goto fail;
            }
            snprintf(target, sizeof(target), "%ld", best);
        }
        {
            cJSON *req = cJSON_CreateObject();
            char desc[512];
            snprintf(desc, sizeof(desc), "Project: %s Stage: %s", c->project.name, c->stage);
            cJSON_AddStringToObject(req, "FunctionVersion", target);
            cJSON_AddStringToObject(req, "Description", desc);
            int r = dep_lambda_update_alias(c->region, f->lambda_name, alias, req, NULL, &err);
            cJSON_Delete(req);
            if (r < 0) {
                goto fail;
            }
        }
        dep_out_item("alias", f->lambda_name, "rolled back", "%s -> %s", alias, target);
        ok_n++;
        cJSON_Delete(vers);
        cJSON_Delete(cur);
        continue;
    fail:
        fail_n++;
        dep_out_item("alias", f->lambda_name, "failed", NULL);
        dep_out_error(step, &err);
        cJSON_Delete(vers);
        cJSON_Delete(cur);
    }
    free(fns);
    rc = dep_cmd_exit_for(ok_n, fail_n);
    dep_out_step_done(step, rc == 0 ? "ok" : "failed");
    return rc;
}

int cmd_function_rollback(struct dep_ctx *c)
{
    return dep_step_function_rollback(c, c->opts->version);
}
