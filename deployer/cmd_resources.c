/*
 * cmd_resources.c - `resources deploy` (v0.5 section 2.3).
 *
 * Calls: DescribeStackResources{StackName}; exists -> UpdateStack
 * {TemplateBody, Capabilities [CAPABILITY_IAM]}; "does not exist" ->
 * CreateStack{Tags STAGE + resourcesStackTags, OnFailure DELETE}; then
 * DescribeStacks{StackName: StackId} until *_COMPLETE (every
 * STAGEHAND_POLL_MS, default 5000 ms on AWS, 250 ms on a custom endpoint;
 * at most STAGEHAND_STACK_TIMEOUT seconds, default 3600). Outputs become
 * region variables lowerFirst(OutputKey) and resourcesStackName.
 * Difference from v0.5: on "No updates are to be performed." the outputs
 * are still read (DescribeStacks) so variables are never stale (#1043).
 */
#include "dep.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STEP "resources deploy"

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The first stack of a DescribeStacks answer (borrowed). */
static const cJSON *first_stack(const cJSON *out)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(out, "Stacks");

    if (cJSON_IsArray(s)) {
        return cJSON_GetArrayItem(s, 0);
    }
    if (cJSON_IsObject(s)) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(s, "member");
        return m ? (cJSON_IsArray(m) ? cJSON_GetArrayItem(m, 0) : m) : NULL;
    }
    return NULL;
}

static int apply_output(struct dep_ctx *c, const cJSON *o)
{
    const char *k = jstr(o, "OutputKey");
    const char *v = jstr(o, "OutputValue");
    char name[256];

    if (!k || !k[0]) {
        return 0;
    }
    snprintf(name, sizeof(name), "%s", k);
    name[0] = (char)tolower((unsigned char)name[0]);
    dep_project_set_var(&c->project, 1, name, cJSON_CreateString(v ? v : ""));
    return 1;
}

/* Outputs -> region variables (lowerFirst(OutputKey)). Returns how many. */
static int apply_outputs(struct dep_ctx *c, const cJSON *stack, const char *stack_name)
{
    const cJSON *outs = cJSON_GetObjectItemCaseSensitive(stack, "Outputs");
    const cJSON *o;
    int n = 0;

    dep_project_set_var(&c->project, 1, "resourcesStackName", cJSON_CreateString(stack_name));
    if (cJSON_IsObject(outs) && cJSON_GetObjectItemCaseSensitive(outs, "member")) {
        outs = cJSON_GetObjectItemCaseSensitive(outs, "member");
    }
    if (cJSON_IsObject(outs)) {
        return apply_output(c, outs);
    }
    cJSON_ArrayForEach(o, (cJSON_IsArray(outs) ? outs : NULL))
    {
        n += apply_output(c, o);
    }
    return n;
}

/* The first resource failure of the stack's events ("Logical: reason"),
 * which says more than the stack status. Leaves reason as is when none. */
static void first_failure(struct dep_ctx *c, const char *stack, char *reason, size_t n)
{
    cJSON *ev = NULL;
    struct dep_err err;
    const cJSON *e, *list;
    const char *found_id = NULL, *found_reason = NULL;

    if (dep_cfn_describe_stack_events(c->region, stack, &ev, &err) < 0) {
        return;
    }
    list = cJSON_GetObjectItemCaseSensitive(ev, "StackEvents");
    cJSON_ArrayForEach(e, (cJSON_IsArray(list) ? list : NULL))
    {
        const char *st = jstr(e, "ResourceStatus");
        const char *why = jstr(e, "ResourceStatusReason");
        size_t l = st ? strlen(st) : 0;
        if (l > 7 && strcmp(st + l - 7, "_FAILED") == 0 && why && why[0] &&
            strcmp(why, "Resource creation cancelled") != 0) {
            /* newest first: keep the last match, the earliest failure */
            found_id = jstr(e, "LogicalResourceId");
            found_reason = why;
        }
    }
    if (found_reason) {
        snprintf(reason, n, "%s: %s", found_id ? found_id : "?", found_reason);
    }
    cJSON_Delete(ev);
}

int dep_step_resources_deploy(struct dep_ctx *c)
{
    struct dep_err err;
    struct dep_project *p = &c->project;
    char stack[256], stack_id[512] = "";
    cJSON *out = NULL;
    char *body = NULL;
    int rc = DEP_EXIT_FAIL;
    int no_updates = 0;

    dep_err_clear(&err);
    dep_out_step(STEP);
    if (!p->resources) {
        dep_out_errorf(STEP, "%s/s-resources-cf.json is missing", p->root);
        rc = DEP_EXIT_PROJECT;
        goto out;
    }
    if (dep_resources_write_meta(c, &err) < 0) {
        dep_out_error(STEP, &err);
        goto out;
    }
    dep_stack_name(p, stack, sizeof(stack));
    body = cJSON_PrintUnformatted(p->resources);
    if (dep_cfn_describe_stack_resources(c->region, stack, &out, &err) == 0) {
        cJSON_Delete(out);
        out = NULL;
        if (dep_cfn_update_stack(c->region, stack, body, &out, &err) == 0) {
            const char *id = jstr(out, "StackId");
            snprintf(stack_id, sizeof(stack_id), "%s", id ? id : stack);
            dep_out_item("stack", stack, "updating", NULL);
        } else if (strcmp(err.message, "No updates are to be performed.") == 0) {
            no_updates = 1;
            snprintf(stack_id, sizeof(stack_id), "%s", stack);
            dep_out_item("stack", stack, "unchanged", "No updates are to be performed.");
        } else {
            dep_out_error(STEP, &err);
            rc = dep_err_exit(&err);
            goto out;
        }
    } else if (strstr(err.message, "does not exist")) {
        cJSON *tags = cJSON_CreateArray();
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "Key", "STAGE");
        cJSON_AddStringToObject(t, "Value", c->stage);
        cJSON_AddItemToArray(tags, t);
        const cJSON *extra = cJSON_GetObjectItemCaseSensitive(p->json, "resourcesStackTags");
        const cJSON *e;
        cJSON_ArrayForEach(e, (cJSON_IsObject(extra) ? extra : NULL))
        {
            if (cJSON_IsString(e)) {
                t = cJSON_CreateObject();
                cJSON_AddStringToObject(t, "Key", e->string);
                cJSON_AddStringToObject(t, "Value", e->valuestring);
                cJSON_AddItemToArray(tags, t);
            }
        }
        int r = dep_cfn_create_stack(c->region, stack, body, tags, "DELETE", &out, &err);
        cJSON_Delete(tags);
        if (r < 0) {
            dep_out_error(STEP, &err);
            rc = dep_err_exit(&err);
            goto out;
        }
        const char *id = jstr(out, "StackId");
        snprintf(stack_id, sizeof(stack_id), "%s", id ? id : stack);
        dep_out_item("stack", stack, "creating", NULL);
    } else {
        dep_out_error(STEP, &err);
        rc = dep_err_exit(&err);
        goto out;
    }
    cJSON_Delete(out);
    out = NULL;
    /* poll */
    {
        long poll = dep_env_long("STAGEHAND_POLL_MS", dep_transport_is_custom() ? 250 : 5000, 0, 3600000);
        long limit = dep_env_long("STAGEHAND_STACK_TIMEOUT", 3600, 0, 86400L * 365) * 1000;
        long waited = 0;
        for (;;) {
            if (dep_cfn_describe_stacks(c->region, stack_id, &out, &err) < 0) {
                dep_out_error(STEP, &err);
                rc = dep_err_exit(&err);
                goto out;
            }
            const cJSON *st = first_stack(out);
            const char *status = jstr(st, "StackStatus");
            if (!status) {
                dep_out_errorf(STEP, "DescribeStacks %s: no StackStatus in the answer", stack_id);
                goto out;
            }
            if (strcmp(status, "CREATE_COMPLETE") == 0 || strcmp(status, "UPDATE_COMPLETE") == 0) {
                int n = apply_outputs(c, st, stack);
                dep_out_item("stack", stack, no_updates ? "unchanged" : "ok", "%s, %d output%s",
                             status, n, n == 1 ? "" : "s");
                break;
            }
            if (strcmp(status, "CREATE_IN_PROGRESS") != 0 &&
                strcmp(status, "UPDATE_IN_PROGRESS") != 0 &&
                strcmp(status, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS") != 0) {
                char reason[1024];
                const char *r = jstr(st, "StackStatusReason");
                snprintf(reason, sizeof(reason), "%s", r && r[0] ? r : status);
                first_failure(c, stack_id, reason, sizeof(reason));
                dep_out_item("stack", stack, "failed", "%s", status);
                dep_out_errorf(
                    STEP,
                    "An error occurred while provisioning your cloudformation: %s (stack %s: %s)",
                    reason, stack, status);
                goto out;
            }
            if (waited >= limit) {
                dep_out_errorf(STEP, "stack %s still %s after %ld s", stack, status, limit / 1000);
                goto out;
            }
            cJSON_Delete(out);
            out = NULL;
            struct timespec ts = {poll / 1000, (poll % 1000) * 1000000L};
            nanosleep(&ts, NULL);
            waited += poll > 0 ? poll : 1;
        }
    }
    if (dep_project_save_vars(p, 1, &err) < 0) {
        dep_out_error(STEP, &err);
        goto out;
    }
    rc = dep_cmd_repopulate(c);
    if (rc == 0) {
        rc = dep_meta_autopush(c, STEP);
    }
out:
    dep_out_step_done(STEP, rc == 0 ? "ok" : "failed");
    cJSON_Delete(out);
    cJSON_free(body);
    return rc;
}

int cmd_resources_deploy(struct dep_ctx *c)
{
    return dep_step_resources_deploy(c);
}
