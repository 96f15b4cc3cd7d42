/*
 * cmd_ci.c - `stagehand ci`: pick the stage from the CI environment, then
 * run the whole flow (cmd_deploy when the transaction engine is linked in,
 * else dep_run_v05_flow).
 *
 * Sources, first match wins:
 *   Travis:  TRAVIS_PULL_REQUEST (not "false" -> a PR), TRAVIS_TAG,
 *            TRAVIS_BRANCH;
 *   GitHub:  GITHUB_EVENT_NAME (pull_request*) , GITHUB_REF refs/heads/X
 *            or refs/tags/T;
 *   GitLab:  CI_MERGE_REQUEST_IID (a PR), CI_COMMIT_TAG, CI_COMMIT_BRANCH;
 *   else git: `git describe --exact-match --tags HEAD`,
 *            `git rev-parse --abbrev-ref HEAD`.
 * Rules (s-project.json custom.ci overrides each default):
 *   "branches":    {"develop": "dev"}   branch -> stage
 *   "tagStage":    "production"          stage for a release tag
 *   "tagBranches": ["master", "main"]    a tag deploys only when its
 *                  commit is on one of these (checked with git when the
 *                  checkout is a git repository that has such a branch)
 *   "region":      region when -r is not given (else AWS_REGION,
 *                  AWS_DEFAULT_REGION, us-east-1)
 * Pull requests never deploy; anything else prints why and exits 0.
 * -s forces a stage (no detection). STAGEHAND_CI_FLOW=v05 runs the six
 * v0.5 steps even when `deploy` is available.
 */
#include "dep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *env(const char *k)
{
    const char *v = getenv(k);
    return v && *v ? v : NULL;
}

int cmd_ci(struct dep_ctx *c)
{
    char provider[16], branch[256], tag[256], stage[64], why[512];
    int is_pr = 0, rc;
    const cJSON *custom, *ci = NULL;
    struct dep_err err;

    dep_err_clear(&err);
    /* the project first: its custom.ci holds the mapping */
    c->stage[0] = 0;
    dep_project_release(&c->project);
    if (dep_project_load(c->opts->project_dir ? c->opts->project_dir : ".", &c->project, &err) <
        0) {
        dep_out_error("ci", &err);
        return dep_err_exit(&err);
    }
    custom = cJSON_GetObjectItemCaseSensitive(c->project.raw, "custom");
    ci = custom ? cJSON_GetObjectItemCaseSensitive(custom, "ci") : NULL;
    if (c->opts->stage) {
        snprintf(stage, sizeof(stage), "%s", c->opts->stage);
        snprintf(why, sizeof(why), "-s %s", stage);
        snprintf(provider, sizeof(provider), "cli");
    } else {
        if (dep_ci_detect(c->project.root, provider, sizeof(provider), branch, sizeof(branch), tag,
                          sizeof(tag), &is_pr) < 0) {
            dep_out_info("ci: no CI environment and no git branch: not deploying");
            return DEP_EXIT_OK;
        }
        if (!dep_ci_stage(ci, c->project.root, branch, tag, is_pr, stage, sizeof(stage), why,
                          sizeof(why))) {
            dep_out_info("ci (%s): %s: not deploying", provider, why);
            dep_out_result("deploy", cJSON_CreateFalse());
            dep_out_result("reason", cJSON_CreateString(why));
            return DEP_EXIT_OK;
        }
    }
    if (!dep_stage_valid(stage)) {
        dep_out_errorf("ci", "stage \"%s\" must match ^[a-zA-Z0-9]+$", stage);
        return DEP_EXIT_USAGE;
    }
    snprintf(c->stage, sizeof(c->stage), "%s", stage);
    if (!c->opts->region) {
        const cJSON *r = ci ? cJSON_GetObjectItemCaseSensitive(ci, "region") : NULL;
        const char *reg = cJSON_IsString(r)           ? r->valuestring
                          : env("AWS_REGION")         ? env("AWS_REGION")
                          : env("AWS_DEFAULT_REGION") ? env("AWS_DEFAULT_REGION")
                                                      : "us-east-1";
        snprintf(c->region, sizeof(c->region), "%s", reg);
    }
    dep_out_info("ci (%s): %s -> stage %s, region %s", provider, why, c->stage, c->region);
    dep_out_result("deploy", cJSON_CreateTrue());
    dep_out_result("stage", cJSON_CreateString(c->stage));
    dep_out_result("region", cJSON_CreateString(c->region));
    if (dep_transport_set_stage(c->stage, &err) < 0) {
        dep_out_error("ci", &err);
        return dep_err_exit(&err);
    }
    rc = dep_ctx_load_project(c, 1);
    if (rc) {
        return rc;
    }
    {
        const char *flow = env("STAGEHAND_CI_FLOW");
        if (!(flow && strcmp(flow, "v05") == 0)) {
            return cmd_deploy(c);
        }
    }
    return dep_run_v05_flow(c);
}
