/*
 * cmd_common.c - what the v0.5 commands share: loading and populating the
 * project into a struct dep_ctx, the account id, function selection
 * (-a, names, current directory), re-population after a step changed
 * variables, and dep_run_v05_flow (the six steps in the seed's order; the
 * steps that write variables push them to the meta bucket themselves).
 */
#include "dep.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int dep_cmd_vars_exist(struct dep_ctx *c)
{
    char path[4200];
    struct stat st;

    dep_project_vars_path(&c->project, 1, path, sizeof(path));
    if (stat(path, &st) != 0) {
        return 0;
    }
    dep_project_vars_path(&c->project, 2, path, sizeof(path));
    return stat(path, &st) == 0;
}

int dep_ctx_load_project(struct dep_ctx *c, int allow_missing_vars)
{
    struct dep_err err;
    const char *dir = c->opts && c->opts->project_dir ? c->opts->project_dir : ".";

    dep_err_clear(&err);
    dep_project_release(&c->project);
    if (dep_project_load(dir, &c->project, &err) < 0) {
        dep_out_error("project", &err);
        return dep_err_exit(&err);
    }
    if (dep_project_load_vars(&c->project, c->stage[0] ? c->stage : NULL,
                              c->region[0] ? c->region : NULL, allow_missing_vars, &err) < 0) {
        dep_out_error("project", &err);
        return dep_err_exit(&err);
    }
    if (allow_missing_vars && c->stage[0] && !dep_cmd_vars_exist(c)) {
        /* no _meta yet (fresh clone): populate quietly; project init (or
         * the caller) populates again once the variables exist */
        dep_err_clear(&err);
        if (dep_project_populate(&c->project, 0, &err) < 0) {
            dep_out_error("project", &err);
            return dep_err_exit(&err);
        }
        cJSON_Delete(c->project.warnings);
        c->project.warnings = cJSON_CreateArray();
        return DEP_EXIT_OK;
    }
    return dep_cmd_repopulate(c);
}

int dep_cmd_repopulate(struct dep_ctx *c)
{
    struct dep_err err;

    dep_err_clear(&err);
    if (dep_project_populate(&c->project, c->opts ? c->opts->strict : 0, &err) < 0) {
        dep_out_error("project", &err);
        return dep_err_exit(&err);
    }
    dep_cmd_report_warnings(c);
    return DEP_EXIT_OK;
}

void dep_cmd_report_warnings(struct dep_ctx *c)
{
    const cJSON *w;
    static cJSON *reported; /* one report per distinct warning per process */
    if (!reported) {
        reported = cJSON_CreateArray();
    }
    cJSON_ArrayForEach(w, c->project.warnings)
    {
        const cJSON *r;
        int seen = 0;
        if (!cJSON_IsString(w)) {
            continue;
        }
        cJSON_ArrayForEach(r, reported)
        {
            seen |= strcmp(r->valuestring, w->valuestring) == 0;
        }
        if (!seen) {
            cJSON_AddItemToArray(reported, cJSON_CreateString(w->valuestring));
            dep_out_warn("%s", strncmp(w->valuestring, "WARNING: ", 9) == 0 ? w->valuestring + 9
                                                                            : w->valuestring);
        }
    }
    /* warnings were reported: do not report them again next time */
    cJSON_Delete(c->project.warnings);
    c->project.warnings = cJSON_CreateArray();
}

const char *dep_ctx_account(struct dep_ctx *c, struct dep_err *err)
{
    if (!c->account[0]) {
        char buf[32];
        if (!dep_account_id(&c->project, buf, sizeof(buf), err)) {
            return NULL;
        }
        snprintf(c->account, sizeof(c->account), "%s", buf);
    }
    return c->account;
}

struct dep_function **dep_select_functions(struct dep_ctx *c, int *n)
{
    struct dep_project *p = &c->project;
    struct dep_function **out = calloc((size_t)p->n_functions + 1, sizeof(*out));
    int k = 0;

    if (!out) {
        abort();
    }
    if (c->opts && c->opts->names_n > 0) {
        for (int i = 0; i < c->opts->names_n; i++) {
            struct dep_function *f = dep_project_function(p, c->opts->names[i]);
            if (f) {
                int dup = 0;
                for (int j = 0; j < k; j++) {
                    dup |= out[j] == f;
                }
                if (!dup) {
                    out[k++] = f;
                }
            }
        }
    } else if (c->opts && !c->opts->all) {
        /* v0.5: no -a and no names -> the functions under the current
         * directory, falling back to all */
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof(cwd)) && strcmp(cwd, p->root) != 0) {
            size_t cl = strlen(cwd);
            for (int i = 0; i < p->n_functions; i++) {
                const char *d = p->functions[i].dir;
                if (strncmp(d, cwd, cl) == 0 && (d[cl] == 0 || d[cl] == '/')) {
                    out[k++] = &p->functions[i];
                }
            }
        }
    }
    if (k == 0 && !(c->opts && c->opts->names_n > 0)) {
        for (int i = 0; i < p->n_functions; i++) {
            out[k++] = &p->functions[i];
        }
    }
    *n = k;
    return out;
}

/* Names given on the command line that are no function: an exit code. */
int dep_cmd_check_names(struct dep_ctx *c, const char *step)
{
    for (int i = 0; c->opts && i < c->opts->names_n; i++) {
        if (!dep_project_function(&c->project, c->opts->names[i])) {
            dep_out_errorf(step, "no function named \"%s\" in project %s", c->opts->names[i],
                           c->project.name);
            return DEP_EXIT_USAGE;
        }
    }
    return DEP_EXIT_OK;
}

const char *dep_cmd_alias(struct dep_ctx *c, char *buf, size_t n)
{
    const char *a = c->opts && c->opts->alias ? c->opts->alias : c->stage;
    size_t i;

    for (i = 0; a[i] && i + 1 < n; i++) {
        buf[i] = c->opts && c->opts->alias ? a[i] : (char)tolower((unsigned char)a[i]);
    }
    buf[i] = 0;
    return buf;
}

const char *dep_cmd_var(struct dep_ctx *c, const char *name)
{
    cJSON *v = dep_project_vars(&c->project);
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(v, name);
    static __thread char buf[2048];
    const char *r = NULL;

    if (cJSON_IsString(x) && x->valuestring[0]) {
        snprintf(buf, sizeof(buf), "%s", x->valuestring);
        r = buf;
    }
    cJSON_Delete(v);
    return r;
}

int dep_cmd_exit_for(int ok, int failed)
{
    if (failed == 0) {
        return DEP_EXIT_OK;
    }
    return ok > 0 ? DEP_EXIT_PARTIAL : DEP_EXIT_FAIL;
}

int dep_run_v05_flow(struct dep_ctx *c)
{
    int rc;
    int have_meta;

    if (!c->project.root) {
        rc = dep_ctx_load_project(c, 1);
        if (rc) {
            return rc;
        }
    }
    if (!dep_cmd_vars_exist(c)) {
        int saved = c->opts->no_exec_cf;
        c->opts->no_exec_cf = 1;
        rc = dep_step_project_init(c);
        c->opts->no_exec_cf = saved;
        if (rc) {
            return rc;
        }
    }
    have_meta = dep_meta_configured(c);
    if (have_meta) {
        rc = dep_step_meta_sync(c);
        if (rc) {
            return rc;
        }
    } else {
        dep_out_warn("s-project.json has no custom.meta {name, region}: meta sync skipped");
    }
    /* each step pushes the variables it wrote (dep_meta_autopush) */
    rc = dep_step_resources_deploy(c);
    if (rc) {
        return rc;
    }
    rc = dep_step_function_deploy(c);
    if (rc) {
        return rc;
    }
    rc = dep_step_event_deploy(c);
    if (rc) {
        return rc;
    }
    return dep_step_endpoint_deploy(c);
}
