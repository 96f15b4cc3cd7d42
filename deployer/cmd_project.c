/*
 * cmd_project.c - `project init` (v0.5 section 2.1).
 *
 * With -c no AWS call is made: the project name becomes variable
 * `project` in s-variables-common.json, the stage file
 * s-variables-<stage>.json {"stage"} and the region file
 * s-variables-<stage>-<rc>.json {"region"} are written, a line
 * AWS_<STAGE>_PROFILE=... is appended to admin.env, and the populated
 * resources template is written to _meta/resources/. An existing stage
 * with this region fails with "Stage S already exists" (exit 1) as in
 * v0.5; an existing stage without this region gets the region added.
 * Without -c, resources deploy runs afterwards. Unlike v0.5 it does not
 * rewrite the user's s-*.json files.
 */
#include "dep.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STEP "project init"

static int region_valid(const char *r)
{
    /* xx-name-N or xx-gov-name-N */
    int dashes = 0;

    if (!r || strlen(r) < 9) {
        return 0;
    }
    for (const char *s = r; *s; s++) {
        if (*s == '-') {
            dashes++;
        } else if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s)) {
            return 0;
        }
    }
    return (dashes == 2 || dashes == 3) && isdigit((unsigned char)r[strlen(r) - 1]);
}

int dep_resources_write_meta(struct dep_ctx *c, struct dep_err *err)
{
    char path[4200], rc[32];
    struct dep_project *p = &c->project;

    if (!p->resources) {
        return 0;
    }
    snprintf(path, sizeof(path), "%s/_meta", p->root);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/_meta/resources", p->root);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/_meta/resources/s-resources-cf-%s-%s.json", p->root, c->stage,
             dep_region_code(c->region, rc, sizeof(rc)));
    return dep_json_save_file(path, p->resources, err);
}

int dep_step_project_init(struct dep_ctx *c)
{
    struct dep_err err;
    struct dep_project *p;
    char path[4200], env_name[128];
    struct stat st;
    int rc;

    dep_err_clear(&err);
    dep_out_step(STEP);
    if (!dep_stage_valid(c->stage)) {
        dep_out_errorf(STEP, "stage \"%s\" must match ^[a-zA-Z0-9]+$", c->stage);
        return DEP_EXIT_USAGE;
    }
    if (!region_valid(c->region)) {
        dep_out_errorf(STEP, "invalid region \"%s\"", c->region);
        return DEP_EXIT_USAGE;
    }
    if (!c->project.root) {
        rc = dep_ctx_load_project(c, 1);
        if (rc) {
            return rc;
        }
    }
    p = &c->project;
    snprintf(path, sizeof(path), "%s/_meta", p->root);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/_meta/variables", p->root);
    mkdir(path, 0755);
    /* common: {"project": name} merged into what is there */
    dep_project_vars_path(p, 0, path, sizeof(path));
    if (!p->vars_common) {
        p->vars_common = cJSON_CreateObject();
    }
    if (cJSON_GetObjectItemCaseSensitive(p->vars_common, "project")) {
        cJSON_ReplaceItemInObjectCaseSensitive(p->vars_common, "project",
                                               cJSON_CreateString(p->name));
    } else {
        cJSON_AddStringToObject(p->vars_common, "project", p->name);
    }
    if (dep_json_save_file(path, p->vars_common, &err) < 0) {
        goto fail;
    }
    /* stage */
    dep_project_vars_path(p, 1, path, sizeof(path));
    int stage_exists = stat(path, &st) == 0;
    dep_project_vars_path(p, 2, path, sizeof(path));
    int region_exists = stat(path, &st) == 0;
    if (stage_exists && region_exists) {
        dep_out_errorf(STEP, "Stage %s already exists (%s)", c->stage, path);
        dep_out_step_done(STEP, "failed");
        return DEP_EXIT_FAIL;
    }
    if (!stage_exists) {
        cJSON_Delete(p->vars_stage);
        p->vars_stage = cJSON_CreateObject();
        cJSON_AddStringToObject(p->vars_stage, "stage", c->stage);
        if (dep_project_save_vars(p, 0, &err) < 0) {
            goto fail;
        }
        /* admin.env: AWS_<STAGE>_PROFILE=<profile|undefined> */
        size_t i;
        for (i = 0; c->stage[i] && i + 1 < sizeof(env_name); i++) {
            env_name[i] = (char)toupper((unsigned char)c->stage[i]);
        }
        env_name[i] = 0;
        snprintf(path, sizeof(path), "%s/admin.env", p->root);
        FILE *f = fopen(path, "a");
        if (f) {
            char var[160];
            snprintf(var, sizeof(var), "AWS_%s_PROFILE", env_name);
            const char *prof = getenv(var);
            fprintf(f, "AWS_%s_PROFILE=%s\n", env_name, prof && *prof ? prof : "undefined");
            fclose(f);
        }
        dep_out_item("stage", c->stage, "created", NULL);
    }
    cJSON_Delete(p->vars_region);
    p->vars_region = cJSON_CreateObject();
    cJSON_AddStringToObject(p->vars_region, "region", c->region);
    if (dep_project_save_vars(p, 1, &err) < 0) {
        goto fail;
    }
    dep_out_item("region", c->region, "created", NULL);
    rc = dep_cmd_repopulate(c);
    if (rc) {
        return rc;
    }
    if (dep_resources_write_meta(c, &err) < 0) {
        goto fail;
    }
    dep_out_step_done(STEP, "ok");
    if (!c->opts->no_exec_cf) {
        return dep_step_resources_deploy(c);
    }
    return DEP_EXIT_OK;
fail:
    dep_out_error(STEP, &err);
    dep_out_step_done(STEP, "failed");
    return dep_err_exit(&err);
}

int cmd_project_init(struct dep_ctx *c)
{
    return dep_step_project_init(c);
}
