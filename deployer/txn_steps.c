/*
 * txn_steps.c - the step table of `stagehand deploy` (issue 9): one row per
 * kind of step with its phase, apply and undo.
 *
 *   prepare (moves no traffic; compensated in reverse on failure)
 *     stack      CreateStack/UpdateStack + wait, outputs -> region variables
 *     code       package, upload to $LATEST (RevisionId preconditions),
 *                PublishVersion checked against our CodeSha256/RevisionId;
 *                creates the stage alias only when it did not exist
 *     api        find or create the REST API
 *     events     event wiring on the alias (permissions, subscriptions, rules);
 *                undo also puts back an s3 bucket's previous notification
 *                configuration and a stream event's mapping (deleted when
 *                the deploy created it, else its BatchSize/Enabled)
 *     endpoints  under the REST API lock: methods/integrations, then a
 *                deployment created WITHOUT a stage
 *   commit (moves traffic; `recover` completes it once started)
 *     alias      UpdateAlias to the new version (weights cleared)
 *     stage      UpdateStage/CreateStage: deployment id + variables
 *     meta       the stage's variables object, If-Match its ETag
 *
 * Undo restores the "before" image (journal["before"], txn_capture.c), so
 * every undo is idempotent and safe to run after a crash at any point.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "txn.h"
#include "txn_int.h"

/* ------------------------------------------------------------ helpers */

static cJSON *before_get(struct txn *t, const char *a, const char *b)
{
    cJSON *o = cJSON_GetObjectItemCaseSensitive(t->before, a);
    return b ? cJSON_GetObjectItemCaseSensitive(o, b) : o;
}

static int jtrue(const cJSON *o, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static cJSON *obj_of(cJSON *row, const char *key)
{
    cJSON *o = cJSON_GetObjectItemCaseSensitive(row, key);
    if (!cJSON_IsObject(o)) {
        o = cJSON_CreateObject();
        if (cJSON_GetObjectItemCaseSensitive(row, key)) {
            cJSON_ReplaceItemInObjectCaseSensitive(row, key, o);
        } else {
            cJSON_AddItemToObject(row, key, o);
        }
    }
    return o;
}

static void set_str(cJSON *o, const char *key, const char *v)
{
    if (cJSON_GetObjectItemCaseSensitive(o, key)) {
        cJSON_ReplaceItemInObjectCaseSensitive(o, key, cJSON_CreateString(v ? v : ""));
    } else {
        cJSON_AddStringToObject(o, key, v ? v : "");
    }
}

static void set_bool(cJSON *o, const char *key, int v)
{
    if (cJSON_GetObjectItemCaseSensitive(o, key)) {
        cJSON_ReplaceItemInObjectCaseSensitive(o, key, cJSON_CreateBool(v));
    } else {
        cJSON_AddBoolToObject(o, key, v);
    }
}

static int not_found(const struct dep_err *err)
{
    return err->http_status == 404 || dep_err_is(err, "ResourceNotFoundException") ||
           dep_err_is(err, "NotFoundException") || strstr(err->message, "does not exist") != NULL;
}

static int in_array(const cJSON *arr, const char *s)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The row of the plan with this kind (and item when non-NULL), borrowed. */
cJSON *txn_plan_row(struct txn *t, const char *kind, const char *item)
{
    cJSON *row;
    cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(t->journal, "plan"))
    {
        if (strcmp(txn_jstr(row, "kind"), kind) == 0 &&
            (!item || strcmp(txn_jstr(row, "item"), item) == 0)) {
            return row;
        }
    }
    return NULL;
}

/* Re-populate the project after variables changed (the stack's outputs are
 * in): what is still undefined now is reported, as the v0.5 commands do.
 * Returns 0 or -1. */
int txn_repopulate(struct txn *t, struct dep_err *err)
{
    if (dep_project_populate(&t->c->project, 0, err) < 0) {
        return -1;
    }
    dep_cmd_report_warnings(t->c);
    return 0;
}

static const char *qenc(struct dep_buf *b, const char *name, const char *value)
{
    char *e = dep_urlencode(value, 0);
    dep_buf_printf(b, "&%s=%s", name, e ? e : "");
    free(e);
    return b->data;
}

/* ------------------------------------------------------------- stack */

/* Wait until the stack is stable (see txn_int.h). */
int txn_stack_wait(struct txn *t, const char *name, char *status, size_t n, struct dep_err *err)
{
    long limit_s = 1800;
    const char *env = getenv("STAGEHAND_STACK_TIMEOUT");
    if (env && *env) {
        char *end = NULL;
        long v = strtol(env, &end, 10);
        if (end && *end == 0 && v > 0) {
            limit_s = v;
        }
    }
    double deadline = txn_ms() + (double)limit_s * 1000.0;
    useconds_t delay = dep_transport_is_custom() ? 20000 : 2000000;
    useconds_t cap = dep_transport_is_custom() ? 500000 : 10000000;
    for (;;) {
        cJSON *stack = NULL;
        if (txn_describe_stack(t->region, name, &stack, err) < 0) {
            return -1;
        }
        if (!stack) {
            status[0] = 0;
            return 0;
        }
        snprintf(status, n, "%s", txn_jstr(stack, "StackStatus"));
        if (!strstr(status, "_IN_PROGRESS")) {
            if (strcmp(status, "DELETE_COMPLETE") == 0) {
                status[0] = 0;
            }
            cJSON_Delete(stack);
            return 0;
        }
        cJSON_Delete(stack);
        if (txn_ms() > deadline) {
            dep_err_local(err, "StackTimeout", "stack %s still %s after %ld s", name, status,
                          limit_s);
            return -1;
        }
        if (txn_lock_renew(&t->lock, 0, err) < 0) {
            return -1;
        }
        usleep(delay);
        delay = delay * 2 > cap ? cap : delay * 2;
    }
}

/* The first failed resource of a stack (DescribeStackEvents, which also
 * works on a deleted stack by id) into buf: "BadQueue (AWS::SQS::Queue): reason". */
static void stack_first_failure(struct txn *t, const char *id, char *buf, size_t n)
{
    struct dep_buf f = {0};
    struct dep_err e2;
    cJSON *out = NULL;
    buf[0] = 0;
    dep_err_clear(&e2);
    dep_buf_puts(&f, "Action=DescribeStackEvents&Version=2010-05-15");
    qenc(&f, "StackName", id);
    if (dep_query("cloudformation", t->region, "DescribeStackEvents", id, f.data, &out, &e2) == 0) {
        cJSON *evs = txn_jarray_dup(txn_jfind(out, "StackEvents"));
        cJSON *ev;
        cJSON_ArrayForEach(ev, evs)
        {
            cJSON *m = cJSON_GetObjectItemCaseSensitive(ev, "member");
            cJSON *x = m ? m : ev;
            const char *st = txn_jstr(x, "ResourceStatus");
            const char *why = txn_jstr(x, "ResourceStatusReason");
            size_t sl = strlen(st);
            if (sl > 7 && strcmp(st + sl - 7, "_FAILED") == 0 && *why &&
                strcmp(txn_jstr(x, "ResourceType"), "AWS::CloudFormation::Stack") != 0) {
                /* newest first: keep overwriting to end on the earliest */
                snprintf(buf, n, "%s (%s): %s", txn_jstr(x, "LogicalResourceId"),
                         txn_jstr(x, "ResourceType"), why);
            }
        }
        cJSON_Delete(evs);
    }
    cJSON_Delete(out);
    dep_buf_release(&f);
}

static int stack_reason(struct txn *t, const char *name, const char *status, const char *id,
                        struct dep_err *err)
{
    cJSON *stack = NULL;
    struct dep_err e2;
    char first[700];
    dep_err_clear(&e2);
    txn_describe_stack(t->region, name, &stack, &e2);
    stack_first_failure(t, id && *id ? id : name, first, sizeof(first));
    dep_err_local(err, "StackFailed",
                  "An error occurred while provisioning your cloudformation: stack %s is %s%s%s",
                  name, *status ? status : "gone (rolled back and deleted)",
                  *first ? ": " : (stack ? ": " : ""),
                  *first ? first : (stack ? txn_jstr(stack, "StackStatusReason") : ""));
    snprintf(err->service, sizeof(err->service), "cloudformation");
    snprintf(err->resource, sizeof(err->resource), "%s", name);
    cJSON_Delete(stack);
    return -1;
}

/* Set resourcesStackName + outputs in the region variables, save, populate. */
static int stack_outputs_to_vars(struct txn *t, const char *name, cJSON *row, struct dep_err *err)
{
    struct dep_project *p = &t->c->project;
    cJSON *stack = NULL;
    if (txn_describe_stack(t->region, name, &stack, err) < 0) {
        return -1;
    }
    cJSON *outs = stack ? txn_stack_outputs(stack) : cJSON_CreateObject();
    cJSON_Delete(stack);
    dep_project_set_var(p, 1, "resourcesStackName", cJSON_CreateString(name));
    cJSON *o;
    cJSON_ArrayForEach(o, outs)
    {
        dep_project_set_var(p, 1, o->string, cJSON_Duplicate(o, 1));
    }
    cJSON *redo = obj_of(row, "redo");
    cJSON_DeleteItemFromObjectCaseSensitive(redo, "outputs");
    cJSON_AddItemToObject(redo, "outputs", outs);
    if (dep_project_save_vars(p, 1, err) < 0) {
        return -1;
    }
    return txn_repopulate(t, err);
}

static int stack_apply(struct txn *t, cJSON *row, struct dep_err *err)
{
    struct dep_project *p = &t->c->project;
    cJSON *bs = before_get(t, "stack", NULL);
    const char *name = txn_jstr(bs, "name");
    cJSON *redo = obj_of(row, "redo");
    char status[64] = "";
    int rc = -1;
    char *tpl = cJSON_PrintUnformatted(p->resources);
    cJSON *oldt = cJSON_Parse(txn_jstr(bs, "template"));
    cJSON *out = NULL;

    if (jtrue(bs, "exists")) {
        const char *st = txn_jstr(bs, "status");
        if (oldt && cJSON_Compare(oldt, p->resources, 1) && strstr(st, "_COMPLETE") &&
            !strstr(st, "ROLLBACK")) {
            set_bool(redo, "changed", 0);
            dep_out_item("stack", name, "unchanged", NULL);
        } else {
            set_bool(redo, "changed", 1);
            if (txn_journal_touch(t, err) < 0) {
                goto out;
            }
            if (dep_cfn_update_stack(t->region, name, tpl, &out, err) < 0) {
                if (strstr(err->message, "No updates are to be performed")) {
                    dep_err_clear(err);
                    set_bool(redo, "changed", 0);
                    dep_out_item("stack", name, "unchanged", NULL);
                } else {
                    goto out;
                }
            } else {
                if (txn_stack_wait(t, name, status, sizeof(status), err) < 0) {
                    goto out;
                }
                if (strcmp(status, "UPDATE_COMPLETE") != 0) {
                    stack_reason(t, name, status, NULL, err);
                    goto out;
                }
                dep_out_item("stack", name, "updated", NULL);
            }
        }
    } else {
        set_bool(redo, "changed", 1);
        cJSON *tags = cJSON_CreateArray();
        cJSON *tag = cJSON_CreateObject();
        cJSON_AddStringToObject(tag, "Key", "STAGE");
        cJSON_AddStringToObject(tag, "Value", t->stage);
        cJSON_AddItemToArray(tags, tag);
        cJSON *extra = cJSON_GetObjectItemCaseSensitive(p->json, "resourcesStackTags");
        cJSON *it;
        cJSON_ArrayForEach(it, extra)
        {
            if (cJSON_IsString(it)) {
                tag = cJSON_CreateObject();
                cJSON_AddStringToObject(tag, "Key", it->string);
                cJSON_AddStringToObject(tag, "Value", it->valuestring);
                cJSON_AddItemToArray(tags, tag);
            }
        }
        rc = txn_journal_touch(t, err);
        if (rc == 0) {
            rc = dep_cfn_create_stack(t->region, name, tpl, tags, "DELETE", &out, err);
        }
        cJSON_Delete(tags);
        if (rc < 0) {
            goto out;
        }
        rc = -1;
        if (txn_stack_wait(t, name, status, sizeof(status), err) < 0) {
            goto out;
        }
        if (strcmp(status, "CREATE_COMPLETE") != 0) {
            cJSON *sid = txn_jfind(out, "StackId");
            stack_reason(t, name, status, cJSON_IsString(sid) ? sid->valuestring : NULL, err);
            goto out;
        }
        dep_out_item("stack", name, "created", NULL);
    }
    rc = stack_outputs_to_vars(t, name, row, err);
out:
    cJSON_Delete(out);
    cJSON_Delete(oldt);
    free(tpl);
    return rc;
}

static int stack_undo(struct txn *t, cJSON *row, struct dep_err *err)
{
    cJSON *bs = before_get(t, "stack", NULL);
    const char *name = txn_jstr(bs, "name");
    cJSON *redo = cJSON_GetObjectItemCaseSensitive(row, "redo");
    char status[64] = "";
    cJSON *out = NULL;
    if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(redo, "changed"))) {
        return 0;
    }
    if (txn_stack_wait(t, name, status, sizeof(status), err) < 0) {
        return -1;
    }
    if (!jtrue(bs, "exists")) {
        if (!*status) {
            return 0;
        }
        struct dep_buf f = {0};
        dep_buf_puts(&f, "Action=DeleteStack&Version=2010-05-15");
        qenc(&f, "StackName", name);
        int rc = dep_query("cloudformation", t->region, "DeleteStack", name, f.data, &out, err);
        dep_buf_release(&f);
        cJSON_Delete(out);
        if (rc < 0) {
            return -1;
        }
        if (txn_stack_wait(t, name, status, sizeof(status), err) < 0) {
            return -1;
        }
        if (*status) {
            dep_err_local(err, "StackDeleteFailed", "stack %s is %s after DeleteStack", name,
                          status);
            return -1;
        }
        dep_out_item("stack", name, "deleted", NULL);
        return 0;
    }
    if (!*status) {
        dep_err_local(err, "StackGone", "stack %s no longer exists; cannot restore its template",
                      name);
        return -1;
    }
    struct dep_buf f = {0};
    dep_buf_puts(&f, "Action=UpdateStack&Version=2010-05-15");
    qenc(&f, "StackName", name);
    qenc(&f, "TemplateBody", txn_jstr(bs, "template"));
    dep_buf_puts(
        &f, "&Capabilities.member.1=CAPABILITY_IAM&Capabilities.member.2=CAPABILITY_NAMED_IAM");
    cJSON *prm;
    int i = 1;
    cJSON_ArrayForEach(prm, cJSON_GetObjectItemCaseSensitive(bs, "parameters"))
    {
        cJSON *m = cJSON_GetObjectItemCaseSensitive(prm, "member");
        cJSON *x = m ? m : prm;
        char k[64];
        snprintf(k, sizeof(k), "Parameters.member.%d.ParameterKey", i);
        qenc(&f, k, txn_jstr(x, "ParameterKey"));
        snprintf(k, sizeof(k), "Parameters.member.%d.ParameterValue", i);
        qenc(&f, k, txn_jstr(x, "ParameterValue"));
        i++;
    }
    int rc = dep_query("cloudformation", t->region, "UpdateStack", name, f.data, &out, err);
    dep_buf_release(&f);
    cJSON_Delete(out);
    if (rc < 0) {
        if (strstr(err->message, "No updates are to be performed")) {
            dep_err_clear(err);
            return 0;
        }
        return -1;
    }
    if (txn_stack_wait(t, name, status, sizeof(status), err) < 0) {
        return -1;
    }
    if (strcmp(status, "UPDATE_COMPLETE") != 0) {
        return stack_reason(t, name, status, NULL, err);
    }
    dep_out_item("stack", name, "restored", NULL);
    return 0;
}

/* -------------------------------------------------------------- code */

static const char *fn_role(struct txn *t, struct dep_function *f)
{
    const cJSON *cr = cJSON_GetObjectItemCaseSensitive(f->json, "customRole");
    if (cJSON_IsString(cr) && *cr->valuestring) {
        return cr->valuestring;
    }
    cJSON *vars = dep_project_vars(&t->c->project);
    static __thread char role[512];
    snprintf(role, sizeof(role), "%s", txn_jstr(vars, "iamRoleArnLambda"));
    cJSON_Delete(vars);
    return role;
}

/* The configuration stagehand wants for f (new object). */
static cJSON *fn_config(struct txn *t, struct dep_function *f, const struct dep_zip *zip)
{
    cJSON *cfg = cJSON_CreateObject();
    const cJSON *j = f->json;
    const cJSON *mem = cJSON_GetObjectItemCaseSensitive(j, "memorySize");
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(j, "timeout");
    cJSON_AddStringToObject(cfg, "Runtime", f->runtime);
    cJSON_AddStringToObject(cfg, "Role", fn_role(t, f));
    cJSON_AddStringToObject(cfg, "Handler", zip->handler);
    cJSON_AddStringToObject(cfg, "Description", txn_jstr(j, "description"));
    cJSON_AddNumberToObject(cfg, "MemorySize", cJSON_IsNumber(mem) ? mem->valuedouble : 1024);
    cJSON_AddNumberToObject(cfg, "Timeout", cJSON_IsNumber(to) ? to->valuedouble : 6);
    const cJSON *vpc = cJSON_GetObjectItemCaseSensitive(j, "vpc");
    const cJSON *sg = cJSON_GetObjectItemCaseSensitive(vpc, "securityGroupIds");
    const cJSON *sn = cJSON_GetObjectItemCaseSensitive(vpc, "subnetIds");
    if (cJSON_GetArraySize(sg) > 0 || cJSON_GetArraySize(sn) > 0) {
        cJSON *v = cJSON_AddObjectToObject(cfg, "VpcConfig");
        cJSON_AddItemToObject(v, "SecurityGroupIds", cJSON_Duplicate(sg, 1));
        cJSON_AddItemToObject(v, "SubnetIds", cJSON_Duplicate(sn, 1));
    }
    return cfg;
}

/* 1 when the function configuration conf (GetFunction's Configuration)
 * has our code and configuration. */
static int fn_same(const cJSON *conf, const cJSON *cfg, const struct dep_zip *zip)
{
    static const char *keys[] = {"Runtime", "Role", "Handler", "Description", NULL};
    if (strcmp(txn_jstr(conf, "CodeSha256"), zip->sha256_b64) != 0) {
        return 0;
    }
    for (int i = 0; keys[i]; i++) {
        if (strcmp(txn_jstr(conf, keys[i]), txn_jstr(cfg, keys[i])) != 0) {
            return 0;
        }
    }
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(conf, "MemorySize");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(cfg, "MemorySize");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(conf, "Timeout");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(cfg, "Timeout");
    return cJSON_IsNumber(a) && cJSON_IsNumber(b) && a->valuedouble == b->valuedouble &&
           cJSON_IsNumber(c) && cJSON_IsNumber(d) && c->valuedouble == d->valuedouble;
}

static int sha_mismatch(const char *fn, const char *op, const cJSON *out, const struct dep_zip *zip,
                        struct dep_err *err)
{
    const char *got = txn_jstr(out, "CodeSha256");
    if (strcmp(got, zip->sha256_b64) != 0) {
        dep_err_local(err, "CodeShaMismatch",
                      "%s %s: Lambda reports CodeSha256 %s but stagehand uploaded %s (someone else "
                      "changed $LATEST)",
                      op, fn, got, zip->sha256_b64);
        snprintf(err->service, sizeof(err->service), "lambda");
        snprintf(err->operation, sizeof(err->operation), "%s", op);
        return 1;
    }
    return 0;
}

/* Attempts of code_upload_publish when $LATEST moves under us. */
#define LATEST_ATTEMPTS 8

/* Before another attempt at $LATEST: a random wait (full jitter, 25 ms
 * doubling per attempt, at most 800 ms), so that two stages' deploys racing
 * for one function's $LATEST do not retry in lockstep. */
static void latest_backoff(int attempt)
{
    static __thread unsigned seed;
    if (!seed) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        seed = (unsigned)ts.tv_nsec ^ ((unsigned)getpid() << 16) ^ (unsigned)(uintptr_t)&seed;
    }
    long cap = 25L << (attempt < 5 ? attempt : 5);
    usleep((useconds_t)(rand_r(&seed) % (cap + 1)) * 1000);
}

/* Upload to $LATEST and publish exactly that; version into ver. */
static int code_upload_publish(struct txn *t, struct dep_function *f, const struct dep_zip *zip,
                               cJSON *cfg, cJSON *redo, char *ver, size_t vn, struct dep_err *err)
{
    const char *fn = f->lambda_name;
    char *zip64 = dep_base64(zip->data, zip->len);
    int rc = -1;
    for (int attempt = 0; attempt < LATEST_ATTEMPTS; attempt++) {
        cJSON *out = NULL;
        char rev[128] = "";
        if (dep_lambda_get_function(t->region, fn, NULL, &out, err) < 0) {
            if (!not_found(err)) {
                goto out;
            }
            dep_err_clear(err);
            cJSON *req = cJSON_Duplicate(cfg, 1);
            cJSON_AddStringToObject(req, "FunctionName", fn);
            cJSON *code = cJSON_AddObjectToObject(req, "Code");
            cJSON_AddStringToObject(code, "ZipFile", zip64);
            cJSON_AddBoolToObject(req, "Publish", 0);
            if (txn_journal_touch(t, err) < 0) {
                cJSON_Delete(req);
                goto out;
            }
            int r = dep_lambda_create_function(t->region, req, &out, err);
            cJSON_Delete(req);
            if (r < 0) {
                goto out;
            }
            set_bool(redo, "created", 1);
            if (sha_mismatch(fn, "CreateFunction", out, zip, err)) {
                cJSON_Delete(out);
                goto out;
            }
            snprintf(rev, sizeof(rev), "%s", txn_jstr(out, "RevisionId"));
        } else {
            cJSON *conf = cJSON_GetObjectItemCaseSensitive(out, "Configuration");
            snprintf(rev, sizeof(rev), "%s", txn_jstr(conf, "RevisionId"));
            if (!fn_same(conf, cfg, zip)) {
                cJSON *req = cJSON_Duplicate(cfg, 1);
                if (*rev) {
                    cJSON_AddStringToObject(req, "RevisionId", rev);
                }
                cJSON *o2 = NULL;
                if (txn_journal_touch(t, err) < 0) {
                    cJSON_Delete(req);
                    cJSON_Delete(out);
                    goto out;
                }
                int r = dep_lambda_update_function_configuration(t->region, fn, req, &o2, err);
                cJSON_Delete(req);
                if (r == 0) {
                    snprintf(rev, sizeof(rev), "%s", txn_jstr(o2, "RevisionId"));
                    cJSON_Delete(o2);
                    o2 = NULL;
                    req = cJSON_CreateObject();
                    cJSON_AddStringToObject(req, "ZipFile", zip64);
                    cJSON_AddBoolToObject(req, "Publish", 0);
                    if (*rev) {
                        cJSON_AddStringToObject(req, "RevisionId", rev);
                    }
                    r = dep_lambda_update_function_code(t->region, fn, req, &o2, err);
                    cJSON_Delete(req);
                }
                if (r < 0) {
                    cJSON_Delete(o2);
                    cJSON_Delete(out);
                    if (err->http_status == 412 || dep_err_is(err, "PreconditionFailedException") ||
                        dep_err_is(err, "ResourceConflictException")) {
                        dep_out_info("%s: $LATEST changed under us (%s); retrying", fn, err->code);
                        dep_err_clear(err);
                        latest_backoff(attempt);
                        continue;
                    }
                    goto out;
                }
                if (sha_mismatch(fn, "UpdateFunctionCode", o2, zip, err)) {
                    cJSON_Delete(o2);
                    cJSON_Delete(out);
                    goto out;
                }
                snprintf(rev, sizeof(rev), "%s", txn_jstr(o2, "RevisionId"));
                cJSON_Delete(o2);
            }
        }
        cJSON_Delete(out);
        out = NULL;
        cJSON *req = cJSON_CreateObject();
        cJSON_AddStringToObject(req, "CodeSha256", zip->sha256_b64);
        if (*rev) {
            cJSON_AddStringToObject(req, "RevisionId", rev);
        }
        if (txn_journal_touch(t, err) < 0) {
            cJSON_Delete(req);
            goto out;
        }
        int r = dep_lambda_publish_version(t->region, fn, req, &out, err);
        cJSON_Delete(req);
        if (r < 0) {
            cJSON_Delete(out);
            /* $LATEST moved under us (another stage's deploy): AWS answers
             * PreconditionFailedException for the RevisionId, and
             * InvalidParameterValueException "CodeSHA256 (...) is different
             * from current CodeSHA256 in $LATEST" for the code hash */
            if (err->http_status == 412 || dep_err_is(err, "PreconditionFailedException") ||
                (dep_err_is(err, "InvalidParameterValueException") &&
                 strstr(err->message, "is different from current CodeSHA256") != NULL)) {
                dep_out_info("%s: $LATEST changed before publishing (%s); retrying", fn, err->code);
                dep_err_clear(err);
                latest_backoff(attempt);
                continue;
            }
            goto out;
        }
        if (sha_mismatch(fn, "PublishVersion", out, zip, err)) {
            cJSON_Delete(out);
            goto out;
        }
        snprintf(ver, vn, "%s", txn_jstr(out, "Version"));
        cJSON_Delete(out);
        rc = 0;
        goto out;
    }
    dep_err_local(err, "LatestContended",
                  "%s: $LATEST kept changing under us; gave up after %d attempts", fn,
                  LATEST_ATTEMPTS);
out:
    free(zip64);
    return rc;
}

static int code_apply(struct txn *t, cJSON *row, struct dep_err *err)
{
    const char *name = txn_jstr(row, "item");
    struct dep_function *f = dep_project_function(&t->c->project, name);
    cJSON *bf = before_get(t, "functions", name);
    cJSON *ba = cJSON_GetObjectItemCaseSensitive(bf, "alias");
    cJSON *redo = obj_of(row, "redo");
    struct dep_zip zip;
    char ver[32] = "";
    int rc = -1;
    memset(&zip, 0, sizeof(zip));
    if (!f) {
        dep_err_local(err, "NoSuchFunction", "function %s is not in the project", name);
        return -1;
    }
    if (!fn_role(t, f)[0]) {
        /* as function deploy says it, not as Lambda's regex error on Role '' */
        dep_err_local(err, "MissingRole",
                      "function %s: no Role: the stack has no IamRoleArnLambda output (variable "
                      "iamRoleArnLambda) and customRole is not set",
                      f->name);
        return -1;
    }
    if (dep_package_function(&t->c->project, f, &zip, err) < 0) {
        goto out;
    }
    cJSON *cfg = fn_config(t, f, &zip);
    set_str(redo, "codeSha256", zip.sha256_b64);
    if (jtrue(ba, "exists")) {
        cJSON *out = NULL;
        if (dep_lambda_get_function(t->region, f->lambda_name, txn_jstr(ba, "version"), &out, err) <
            0) {
            cJSON_Delete(cfg);
            goto out;
        }
        if (fn_same(cJSON_GetObjectItemCaseSensitive(out, "Configuration"), cfg, &zip)) {
            snprintf(ver, sizeof(ver), "%s", txn_jstr(ba, "version"));
            set_bool(redo, "unchanged", 1);
        }
        cJSON_Delete(out);
    }
    if (!*ver && code_upload_publish(t, f, &zip, cfg, redo, ver, sizeof(ver), err) < 0) {
        cJSON_Delete(cfg);
        goto out;
    }
    cJSON_Delete(cfg);
    set_str(redo, "version", ver);
    if (!jtrue(ba, "exists")) {
        /* A new alias: nothing routes to it before the commit phase. */
        cJSON *req = cJSON_CreateObject();
        char desc[256];
        snprintf(desc, sizeof(desc), "Project: %s Stage: %s", t->c->project.name, t->stage);
        cJSON_AddStringToObject(req, "Name", t->stage);
        cJSON_AddStringToObject(req, "FunctionVersion", ver);
        cJSON_AddStringToObject(req, "Description", desc);
        cJSON *out = NULL;
        if (txn_journal_touch(t, err) < 0) {
            cJSON_Delete(req);
            goto out;
        }
        int r = dep_lambda_create_alias(t->region, f->lambda_name, req, &out, err);
        cJSON_Delete(req);
        cJSON_Delete(out);
        if (r < 0) {
            goto out;
        }
        set_bool(redo, "aliasCreated", 1);
    }
    dep_out_item("function", name, jtrue(redo, "unchanged") ? "unchanged" : "published",
                 "version %s", ver);
    rc = 0;
out:
    dep_zip_release(&zip);
    return rc;
}

static int code_undo(struct txn *t, cJSON *row, struct dep_err *err)
{
    const char *name = txn_jstr(row, "item");
    cJSON *bf = before_get(t, "functions", name);
    cJSON *ba = cJSON_GetObjectItemCaseSensitive(bf, "alias");
    const char *fn = txn_jstr(bf, "lambda");
    if (!*fn) {
        return 0;
    }
    if (!jtrue(ba, "exists")) {
        if (dep_lambda_delete_alias(t->region, fn, t->stage, err) < 0 && !not_found(err)) {
            return -1;
        }
        dep_err_clear(err);
    }
    if (!jtrue(bf, "exists")) {
        /* Delete the function we created, unless another stage uses it now. */
        char path[512];
        cJSON *out = NULL;
        snprintf(path, sizeof(path), "/2015-03-31/functions/%s/aliases", fn);
        if (dep_rest_json("lambda", t->region, "ListAliases", fn, "GET", path, NULL, NULL, &out,
                          err) < 0) {
            if (not_found(err)) {
                dep_err_clear(err);
                return 0;
            }
            return -1;
        }
        int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(out, "Aliases"));
        cJSON_Delete(out);
        if (n == 0) {
            snprintf(path, sizeof(path), "/2015-03-31/functions/%s", fn);
            if (dep_rest_json("lambda", t->region, "DeleteFunction", fn, "DELETE", path, NULL, NULL,
                              NULL, err) < 0 &&
                !not_found(err)) {
                return -1;
            }
            dep_err_clear(err);
            dep_out_item("function", name, "deleted", NULL);
        }
    }
    return 0;
}

/* --------------------------------------------------------------- api */

static int api_apply(struct txn *t, cJSON *row, struct dep_err *err)
{
    cJSON *ba = before_get(t, "api", NULL);
    cJSON *redo = obj_of(row, "redo");
    char id[64] = "";
    if (jtrue(ba, "exists")) {
        snprintf(id, sizeof(id), "%s", txn_jstr(ba, "id"));
        dep_project_set_var(&t->c->project, 1, "apiGatewayApi",
                            cJSON_CreateString(txn_jstr(ba, "name")));
        /* written locally too, as when the API is created (the meta step
         * pushes the in-memory variables: local and remote stay equal) */
        if (dep_project_save_vars(&t->c->project, 1, err) < 0) {
            return -1;
        }
    } else {
        if (txn_journal_touch(t, err) < 0) {
            return -1;
        }
        if (dep_rest_api_ensure(t->c, id, sizeof(id), err) < 0) {
            return -1;
        }
        set_bool(redo, "created", 1);
    }
    set_str(redo, "apiId", id);
    return 0;
}

static int api_undo(struct txn *t, cJSON *row, struct dep_err *err)
{
    cJSON *ba = before_get(t, "api", NULL);
    char id[64] = "", path[256];
    if (jtrue(ba, "exists")) {
        return 0;
    }
    if (txn_find_api(t->region, txn_jstr(ba, "name"), id, sizeof(id), err) < 0) {
        return -1;
    }
    if (!*id) {
        return 0;
    }
    cJSON *out = NULL;
    snprintf(path, sizeof(path), "/restapis/%s/stages", id);
    if (dep_rest_json("apigateway", t->region, "GetStages", id, "GET", path, NULL, NULL, &out,
                      err) < 0) {
        return -1;
    }
    int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(out, "item"));
    cJSON_Delete(out);
    if (n > 0) {
        return 0; /* another stage uses it now */
    }
    snprintf(path, sizeof(path), "/restapis/%s", id);
    if (dep_rest_json("apigateway", t->region, "DeleteRestApi", id, "DELETE", path, NULL, NULL,
                      NULL, err) < 0 &&
        !not_found(err)) {
        return -1;
    }
    dep_err_clear(err);
    dep_out_item("api", txn_jstr(ba, "name"), "deleted", NULL);
    return 0;
}

/* ------------------------------------------------------------ events */

/* The bucket's notification configuration as S3 answers it (raw XML, new
 * string; "" when the answer has no body). Returns 0 or -1. */
static int s3_notification_xml(struct txn *t, const char *bucket, char **xml, struct dep_err *err)
{
    struct dep_http_req req = {0};
    struct dep_http_resp resp = {0};
    char path[1024];
    char *b = dep_urlencode(bucket, 0);
    snprintf(path, sizeof(path), "/%s", b ? b : "");
    free(b);
    req.service = "s3";
    req.region = t->region;
    req.operation = "GetBucketNotificationConfiguration";
    req.resource = bucket;
    req.proto = DEP_PROTO_REST_XML;
    req.method = "GET";
    req.path = path;
    req.query = "notification=";
    *xml = NULL;
    int rc = dep_http_call(&req, &resp, err);
    if (rc == 0) {
        *xml = malloc(resp.body_len + 1);
        if (!*xml) {
            abort();
        }
        if (resp.body_len) {
            memcpy(*xml, resp.body, resp.body_len);
        }
        (*xml)[resp.body_len] = 0;
    }
    dep_http_resp_release(&resp);
    return rc;
}

/* UUIDs of the event source mappings of stream_arn on function_arn (new
 * array). Returns 0 or -1. */
static int esm_list(struct txn *t, const char *stream_arn, const char *function_arn, cJSON **uuids,
                    struct dep_err *err)
{
    char *sa = dep_urlencode(stream_arn, 0), *fa = dep_urlencode(function_arn, 0);
    size_t qn = strlen(sa) + strlen(fa) + 64;
    char *q = malloc(qn);
    cJSON *out = NULL;
    if (!q) {
        abort();
    }
    snprintf(q, qn, "EventSourceArn=%s&FunctionName=%s&MaxItems=100", sa, fa);
    free(sa);
    free(fa);
    *uuids = NULL;
    int rc = dep_rest_json("lambda", t->region, "ListEventSourceMappings", function_arn, "GET",
                           "/2015-03-31/event-source-mappings/", q, NULL, &out, err);
    free(q);
    if (rc == 0) {
        *uuids = cJSON_CreateArray();
        cJSON *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(out, "EventSourceMappings"))
        {
            if (*txn_jstr(m, "UUID")) {
                cJSON_AddItemToArray(*uuids, cJSON_CreateString(txn_jstr(m, "UUID")));
            }
        }
    }
    cJSON_Delete(out);
    return rc;
}

/* Record in rec what undo needs to put a stream event's mapping back: the
 * existing mapping's BatchSize/Enabled/FunctionArn (variable eventID:<name>
 * set), else the mappings already there (undo deletes any other). */
static int stream_record(struct txn *t, struct dep_event *e, const char *alias_arn, cJSON *rec,
                         struct dep_err *err)
{
    char var[300], path[512];
    snprintf(var, sizeof(var), "eventID:%s", e->name);
    const char *uuid = dep_cmd_var(t->c, var);
    const char *stream = txn_jstr(e->config, "streamArn");
    cJSON_AddStringToObject(rec, "streamArn", stream);
    cJSON_AddStringToObject(rec, "endpoint", alias_arn);
    if (uuid && *uuid) {
        cJSON *out = NULL;
        char *u = dep_urlencode(uuid, 0);
        snprintf(path, sizeof(path), "/2015-03-31/event-source-mappings/%s", u ? u : "");
        free(u);
        cJSON_AddStringToObject(rec, "uuid", uuid);
        if (dep_rest_json("lambda", t->region, "GetEventSourceMapping", uuid, "GET", path, NULL,
                          NULL, &out, err) < 0) {
            cJSON_Delete(out);
            if (!not_found(err)) {
                return -1;
            }
            dep_err_clear(err); /* the update will fail: nothing to undo */
            cJSON_AddBoolToObject(rec, "hadMapping", 0);
            return 0;
        }
        const char *state = txn_jstr(out, "State");
        cJSON *bs = cJSON_GetObjectItemCaseSensitive(out, "BatchSize");
        cJSON_AddBoolToObject(rec, "hadMapping", 1);
        cJSON_AddNumberToObject(rec, "batchSize", cJSON_IsNumber(bs) ? bs->valuedouble : 100);
        cJSON_AddBoolToObject(rec, "enabled",
                              strcmp(state, "Enabled") == 0 || strcmp(state, "Enabling") == 0 ||
                                  strcmp(state, "Updating") == 0);
        cJSON_AddStringToObject(rec, "functionArn", txn_jstr(out, "FunctionArn"));
        cJSON_Delete(out);
        return 0;
    }
    cJSON *uuids = NULL;
    if (*stream && esm_list(t, stream, alias_arn, &uuids, err) < 0) {
        return -1;
    }
    cJSON_AddBoolToObject(rec, "hadMapping", 0);
    cJSON_AddItemToObject(rec, "prevUuids", uuids ? uuids : cJSON_CreateArray());
    return 0;
}

/* Put a stream event's mapping back as rec recorded it. Returns 0 or -1. */
static int stream_undo(struct txn *t, cJSON *rec, struct dep_err *err)
{
    char path[512];
    if (jtrue(rec, "hadMapping")) {
        const char *uuid = txn_jstr(rec, "uuid");
        cJSON *req = cJSON_CreateObject(), *out = NULL;
        cJSON *bs = cJSON_GetObjectItemCaseSensitive(rec, "batchSize");
        cJSON_AddNumberToObject(req, "BatchSize", cJSON_IsNumber(bs) ? bs->valuedouble : 100);
        cJSON_AddBoolToObject(req, "Enabled", jtrue(rec, "enabled"));
        if (*txn_jstr(rec, "functionArn")) {
            cJSON_AddStringToObject(req, "FunctionName", txn_jstr(rec, "functionArn"));
        }
        int rc = dep_lambda_update_event_source_mapping(t->region, uuid, req, &out, err);
        cJSON_Delete(req);
        cJSON_Delete(out);
        if (rc < 0 && !not_found(err)) {
            return -1;
        }
        dep_err_clear(err);
        return 0;
    }
    if (!*txn_jstr(rec, "streamArn") ||
        !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(rec, "prevUuids"))) {
        return 0;
    }
    cJSON *now = NULL;
    if (esm_list(t, txn_jstr(rec, "streamArn"), txn_jstr(rec, "endpoint"), &now, err) < 0) {
        return -1;
    }
    cJSON *u;
    int rc = 0;
    cJSON_ArrayForEach(u, now)
    {
        if (in_array(cJSON_GetObjectItemCaseSensitive(rec, "prevUuids"), u->valuestring)) {
            continue;
        }
        char *ue = dep_urlencode(u->valuestring, 0);
        snprintf(path, sizeof(path), "/2015-03-31/event-source-mappings/%s", ue ? ue : "");
        free(ue);
        cJSON *out = NULL;
        if (dep_rest_json("lambda", t->region, "DeleteEventSourceMapping", u->valuestring,
                          "DELETE", path, NULL, NULL, &out, err) < 0 &&
            !not_found(err)) {
            rc = -1;
        } else {
            dep_err_clear(err);
        }
        cJSON_Delete(out);
    }
    cJSON_Delete(now);
    return rc;
}

/* The statement sid of fn:qualifier's resource policy (new object), NULL
 * when absent. Returns 0 or -1. */
static int policy_statement(struct txn *t, const char *fn, const char *sid, cJSON **st,
                            struct dep_err *err)
{
    cJSON *out = NULL;
    *st = NULL;
    if (dep_lambda_get_policy(t->region, fn, t->stage, &out, err) < 0) {
        cJSON_Delete(out);
        if (not_found(err)) {
            dep_err_clear(err);
            return 0;
        }
        return -1;
    }
    cJSON *pol = cJSON_Parse(txn_jstr(out, "Policy"));
    cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(pol, "Statement"))
    {
        if (strcmp(txn_jstr(it, "Sid"), sid) == 0) {
            *st = cJSON_Duplicate(it, 1);
            break;
        }
    }
    cJSON_Delete(pol);
    cJSON_Delete(out);
    return 0;
}

/* Put back a permission the wiring replaced (RemovePermission then
 * AddPermission) when it is missing now. Returns 0 or -1. */
static int permission_restore(struct txn *t, const char *fn, const char *sid, const cJSON *st,
                              struct dep_err *err)
{
    cJSON *now = NULL;
    if (policy_statement(t, fn, sid, &now, err) < 0) {
        return -1;
    }
    if (now) {
        cJSON_Delete(now);
        return 0;
    }
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(st, "Principal");
    const char *principal = cJSON_IsString(pr) ? pr->valuestring : txn_jstr(pr, "Service");
    const cJSON *cond = cJSON_GetObjectItemCaseSensitive(st, "Condition");
    const char *src_arn =
        txn_jstr(cJSON_GetObjectItemCaseSensitive(cond, "ArnLike"), "AWS:SourceArn");
    const char *src_acct =
        txn_jstr(cJSON_GetObjectItemCaseSensitive(cond, "StringEquals"), "AWS:SourceAccount");
    const char *action = txn_jstr(st, "Action");
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "StatementId", sid);
    cJSON_AddStringToObject(req, "Action", *action ? action : "lambda:InvokeFunction");
    cJSON_AddStringToObject(req, "Principal", principal);
    if (*src_arn) {
        cJSON_AddStringToObject(req, "SourceArn", src_arn);
    }
    if (*src_acct) {
        cJSON_AddStringToObject(req, "SourceAccount", src_acct);
    }
    int rc = dep_lambda_add_permission(t->region, fn, t->stage, req, NULL, err);
    cJSON_Delete(req);
    if (rc < 0 && dep_err_is(err, "ResourceConflictException")) {
        dep_err_clear(err);
        rc = 0;
    }
    return rc;
}

static int is_stream(const char *type)
{
    return strcmp(type, "dynamodbstream") == 0 || strcmp(type, "kinesisstream") == 0;
}

static int events_apply(struct txn *t, cJSON *row, struct dep_err *err)
{
    const char *name = txn_jstr(row, "item");
    struct dep_function *f = dep_project_function(&t->c->project, name);
    cJSON *bf = before_get(t, "functions", name);
    cJSON *bsids = cJSON_GetObjectItemCaseSensitive(bf, "sids");
    int alias_existed = jtrue(cJSON_GetObjectItemCaseSensitive(bf, "alias"), "exists");
    cJSON *undo = obj_of(row, "undo");
    cJSON *recs = cJSON_CreateArray();
    char alias_arn[512], sid[256], topic[512];
    if (!f) {
        cJSON_Delete(recs);
        return 0;
    }
    dep_lambda_arn(t->region, t->account, f->lambda_name, t->stage, alias_arn, sizeof(alias_arn));
    int work = 0;
    int need[64] = {0};
    for (int i = 0; i < f->n_events && i < 64; i++) {
        struct dep_event *e = &f->events[i];
        cJSON *rec = cJSON_CreateObject();
        cJSON_AddStringToObject(rec, "type", e->type);
        cJSON_AddStringToObject(rec, "fn", f->lambda_name);
        if (strcmp(e->type, "schedule") == 0) {
            char rule[128];
            dep_schedule_rule_name(f->lambda_name, e->name, t->stage, rule, sizeof(rule));
            dep_sid_schedule(rule, t->stage, sid, sizeof(sid));
            cJSON_AddStringToObject(rec, "rule", rule);
            cJSON *body = cJSON_CreateObject(), *out = NULL;
            cJSON_AddStringToObject(body, "Name", rule);
            int had = dep_json_target("events", t->region, "AWSEvents.DescribeRule", rule, body,
                                      &out, err) == 0;
            cJSON_Delete(body);
            cJSON_Delete(out);
            if (!had && !not_found(err)) {
                cJSON_Delete(rec);
                cJSON_Delete(recs);
                return -1;
            }
            dep_err_clear(err);
            cJSON_AddBoolToObject(rec, "hadRule", had);
        } else {
            dep_sid_event(f->lambda_name, e->name, t->stage, sid, sizeof(sid));
        }
        if (strcmp(e->type, "s3") == 0 && *txn_jstr(e->config, "bucket")) {
            /* undo puts the whole previous configuration back */
            char *xml = NULL;
            if (s3_notification_xml(t, txn_jstr(e->config, "bucket"), &xml, err) < 0) {
                cJSON_Delete(rec);
                cJSON_Delete(recs);
                return -1;
            }
            cJSON_AddStringToObject(rec, "bucket", txn_jstr(e->config, "bucket"));
            cJSON_AddStringToObject(rec, "prevNotification", xml);
            free(xml);
        }
        if (is_stream(e->type) && stream_record(t, e, alias_arn, rec, err) < 0) {
            cJSON_Delete(rec);
            cJSON_Delete(recs);
            return -1;
        }
        int had_sid = alias_existed && in_array(bsids, sid);
        cJSON_AddStringToObject(rec, "sid", sid);
        cJSON_AddBoolToObject(rec, "hadSid", had_sid);
        if (had_sid) {
            /* the wiring replaces it (remove + add): undo puts this one back */
            cJSON *st = NULL;
            if (policy_statement(t, f->lambda_name, sid, &st, err) < 0) {
                cJSON_Delete(rec);
                cJSON_Delete(recs);
                return -1;
            }
            if (st) {
                cJSON_AddItemToObject(rec, "prevStatement", st);
            }
        }
        int had_sub = 1;
        if (strcmp(e->type, "sns") == 0) {
            cJSON *eps = NULL;
            txn_topic_arn(t, e->config, topic, sizeof(topic));
            if (txn_topic_subscriptions(t, topic, &eps, err) < 0) {
                cJSON_Delete(rec);
                cJSON_Delete(recs);
                return -1;
            }
            had_sub = 0;
            cJSON *ep;
            cJSON_ArrayForEach(ep, eps)
            {
                if (strcmp(txn_jstr(ep, "endpoint"), alias_arn) == 0) {
                    had_sub = 1;
                }
            }
            cJSON_Delete(eps);
            cJSON_AddStringToObject(rec, "topic", topic);
            cJSON_AddStringToObject(rec, "endpoint", alias_arn);
            cJSON_AddBoolToObject(rec, "hadSub", had_sub);
        }
        need[i] = !had_sid || !had_sub || strcmp(e->type, "sns") != 0;
        if (strcmp(e->type, "schedule") == 0 && jtrue(rec, "hadRule") && had_sid) {
            need[i] = 0;
        }
        work |= need[i];
        cJSON_AddItemToArray(recs, rec);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(undo, "events");
    cJSON_AddItemToObject(undo, "events", recs);
    if (!work) {
        dep_out_item("event", name, "unchanged", NULL);
        return 0;
    }
    /* Persist what undo needs before changing anything. */
    if (txn_journal_write(t, err) < 0) {
        return -1;
    }
    for (int i = 0; i < f->n_events && i < 64; i++) {
        if (!need[i]) {
            continue;
        }
        if (dep_event_put(t->c, f, &f->events[i], err) < 0) {
            return -1;
        }
        dep_out_item("event", f->events[i].name, "wired", NULL);
    }
    return 0;
}

static int unsubscribe(struct txn *t, const char *topic, const char *endpoint, struct dep_err *err)
{
    cJSON *eps = NULL;
    if (txn_topic_subscriptions(t, topic, &eps, err) < 0) {
        return -1;
    }
    cJSON *ep;
    int rc = 0;
    cJSON_ArrayForEach(ep, eps)
    {
        if (strcmp(txn_jstr(ep, "endpoint"), endpoint) != 0) {
            continue;
        }
        struct dep_buf f = {0};
        cJSON *out = NULL;
        dep_buf_puts(&f, "Action=Unsubscribe&Version=2010-03-31");
        qenc(&f, "SubscriptionArn", txn_jstr(ep, "arn"));
        if (dep_query("sns", t->region, "Unsubscribe", topic, f.data, &out, err) < 0 &&
            !not_found(err)) {
            rc = -1;
        }
        dep_buf_release(&f);
        cJSON_Delete(out);
    }
    cJSON_Delete(eps);
    return rc;
}

static int events_undo(struct txn *t, cJSON *row, struct dep_err *err)
{
    cJSON *recs =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(row, "undo"), "events");
    cJSON *rec;
    cJSON_ArrayForEach(rec, recs)
    {
        const char *fn = txn_jstr(rec, "fn");
        cJSON *pst = cJSON_GetObjectItemCaseSensitive(rec, "prevStatement");
        if (jtrue(rec, "hadSid") && cJSON_IsObject(pst) &&
            permission_restore(t, fn, txn_jstr(rec, "sid"), pst, err) < 0) {
            return -1;
        }
        /* the bucket next: S3 checks the Lambda destinations it is given */
        if (strcmp(txn_jstr(rec, "type"), "s3") == 0 && *txn_jstr(rec, "bucket") &&
            cJSON_IsString(cJSON_GetObjectItemCaseSensitive(rec, "prevNotification"))) {
            const char *prev = txn_jstr(rec, "prevNotification");
            if (!*prev) {
                prev = "<NotificationConfiguration "
                       "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>";
            }
            if (dep_s3_put_bucket_notification(t->region, txn_jstr(rec, "bucket"), prev, err) <
                    0 &&
                !dep_err_is(err, "NoSuchBucket")) {
                return -1;
            }
            dep_err_clear(err);
        }
        if (is_stream(txn_jstr(rec, "type")) && stream_undo(t, rec, err) < 0) {
            return -1;
        }
        if (!jtrue(rec, "hadSid")) {
            if (dep_lambda_remove_permission(t->region, fn, txn_jstr(rec, "sid"), t->stage, err) <
                    0 &&
                !not_found(err)) {
                return -1;
            }
            dep_err_clear(err);
        }
        if (strcmp(txn_jstr(rec, "type"), "sns") == 0 && !jtrue(rec, "hadSub")) {
            if (unsubscribe(t, txn_jstr(rec, "topic"), txn_jstr(rec, "endpoint"), err) < 0) {
                return -1;
            }
        }
        if (strcmp(txn_jstr(rec, "type"), "schedule") == 0 && !jtrue(rec, "hadRule")) {
            cJSON *body = cJSON_CreateObject(), *out = NULL;
            cJSON *ids = cJSON_AddArrayToObject(body, "Ids");
            cJSON_AddItemToArray(ids, cJSON_CreateString(fn));
            cJSON_AddStringToObject(body, "Rule", txn_jstr(rec, "rule"));
            dep_json_target("events", t->region, "AWSEvents.RemoveTargets", txn_jstr(rec, "rule"),
                            body, &out, err);
            cJSON_Delete(out);
            out = NULL;
            cJSON_DeleteItemFromObjectCaseSensitive(body, "Ids");
            cJSON_DeleteItemFromObjectCaseSensitive(body, "Rule");
            cJSON_AddStringToObject(body, "Name", txn_jstr(rec, "rule"));
            int rc = dep_json_target("events", t->region, "AWSEvents.DeleteRule",
                                     txn_jstr(rec, "rule"), body, &out, err);
            cJSON_Delete(body);
            cJSON_Delete(out);
            if (rc < 0 && !not_found(err)) {
                return -1;
            }
            dep_err_clear(err);
        }
    }
    return 0;
}

/* ---------------------------------------------------------- endpoints */

/* Fingerprint of the project's populated endpoints on api_id. */
void txn_endpoints_fingerprint(struct txn *t, const char *api_id, char *out, size_t n)
{
    struct dep_project *p = &t->c->project;
    struct dep_buf b = {0};
    unsigned char md[SHA256_DIGEST_LENGTH];
    dep_buf_puts(&b, api_id);
    dep_buf_puts(&b, "\n");
    dep_buf_puts(&b, t->stage);
    for (int i = 0; i < p->n_functions; i++) {
        for (int j = 0; j < p->functions[i].n_endpoints; j++) {
            char *s = txn_json_str(p->functions[i].endpoints[j].json);
            dep_buf_printf(&b, "\n%s %s", p->functions[i].lambda_name, s ? s : "");
            free(s);
        }
    }
    SHA256((const unsigned char *)b.data, b.len, md);
    dep_buf_release(&b);
    size_t k = 0;
    for (int i = 0; i < SHA256_DIGEST_LENGTH && k + 3 <= n; i++) {
        k += (size_t)snprintf(out + k, n - k, "%02x", md[i]);
    }
}

/* Per-endpoint fingerprints {"<path>~<METHOD>": hex sha256 of the function
 * and the populated endpoint} (new object): what diff compares endpoint by
 * endpoint against the last release. */
cJSON *txn_endpoint_map(struct txn *t)
{
    struct dep_project *p = &t->c->project;
    cJSON *map = cJSON_CreateObject();
    for (int i = 0; i < p->n_functions; i++) {
        for (int j = 0; j < p->functions[i].n_endpoints; j++) {
            struct dep_endpoint *e = &p->functions[i].endpoints[j];
            char *js = txn_json_str(e->json);
            struct dep_buf b = {0};
            unsigned char md[SHA256_DIGEST_LENGTH];
            char hex[2 * SHA256_DIGEST_LENGTH + 1], id[600];
            dep_buf_printf(&b, "%s %s", p->functions[i].lambda_name, js ? js : "");
            SHA256((const unsigned char *)b.data, b.len, md);
            for (int k = 0; k < SHA256_DIGEST_LENGTH; k++) {
                snprintf(hex + 2 * k, 3, "%02x", md[k]);
            }
            snprintf(id, sizeof(id), "%s~%s", e->path, e->method);
            cJSON_DeleteItemFromObjectCaseSensitive(map, id);
            cJSON_AddStringToObject(map, id, hex);
            dep_buf_release(&b);
            free(js);
        }
    }
    return map;
}

static cJSON *last_release(struct txn *t)
{
    cJSON *rels = cJSON_GetObjectItemCaseSensitive(t->releases, "releases");
    int n = cJSON_GetArraySize(rels);
    return n > 0 ? cJSON_GetArrayItem(rels, n - 1) : NULL;
}

/* Delete the methods of the shared working copy that this project version
 * does not define (another stage's newer endpoints), so this stage's
 * deployment snapshot holds exactly its own endpoints. Called with the API
 * lock held; the other stage re-puts them on its next deploy. */
static int endpoints_prune(struct txn *t, const char *api, struct dep_err *err)
{
    struct dep_project *p = &t->c->project;
    char path[512];
    cJSON *out = NULL;
    snprintf(path, sizeof(path), "/restapis/%s/resources", api);
    if (dep_rest_json("apigateway", t->region, "GetResources", api, "GET", path,
                      "embed=methods&limit=500", NULL, &out, err) < 0) {
        return -1;
    }
    cJSON *items = cJSON_GetObjectItemCaseSensitive(out, "item");
    if (!items) {
        items = cJSON_GetObjectItemCaseSensitive(out, "items");
    }
    cJSON *res;
    int rc = 0;
    cJSON_ArrayForEach(res, items)
    {
        const char *rpath = txn_jstr(res, "path");
        cJSON *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(res, "resourceMethods"))
        {
            int wanted = strcmp(m->string, "OPTIONS") == 0;
            for (int i = 0; i < p->n_functions && !wanted; i++) {
                for (int j = 0; j < p->functions[i].n_endpoints && !wanted; j++) {
                    struct dep_endpoint *e = &p->functions[i].endpoints[j];
                    const char *ep = e->path[0] == '/' ? e->path + 1 : e->path;
                    wanted = rpath[0] == '/' && strcmp(rpath + 1, ep) == 0 &&
                             strcmp(e->method, m->string) == 0;
                }
            }
            if (!wanted) {
                if (dep_apigw_delete_method(t->region, api, txn_jstr(res, "id"), m->string, err) <
                        0 &&
                    !not_found(err)) {
                    rc = -1;
                    break;
                }
                dep_err_clear(err);
                dep_out_item("endpoint", rpath, "pruned", "%s (not in this project version)",
                             m->string);
            }
        }
        if (rc < 0) {
            break;
        }
    }
    cJSON_Delete(out);
    return rc;
}

static int endpoints_apply(struct txn *t, cJSON *row, struct dep_err *err)
{
    struct dep_project *p = &t->c->project;
    cJSON *redo = obj_of(row, "redo");
    cJSON *undo = obj_of(row, "undo");
    const char *api =
        txn_jstr(cJSON_GetObjectItemCaseSensitive(txn_plan_row(t, "api", NULL), "redo"), "apiId");
    cJSON *bst = before_get(t, "api", "stage");
    char fp[80], sid[256], path[256];
    int rc = -1;
    txn_endpoints_fingerprint(t, api, fp, sizeof(fp));
    set_str(redo, "fingerprint", fp);
    cJSON_DeleteItemFromObjectCaseSensitive(redo, "endpoints");
    cJSON_AddItemToObject(redo, "endpoints", txn_endpoint_map(t));
    cJSON *rel = last_release(t);
    int all_aliases = 1;
    for (int i = 0; i < p->n_functions; i++) {
        cJSON *bf = before_get(t, "functions", p->functions[i].name);
        if (p->functions[i].n_endpoints > 0 &&
            !jtrue(cJSON_GetObjectItemCaseSensitive(bf, "alias"), "exists")) {
            all_aliases = 0;
        }
    }
    if (rel && all_aliases && jtrue(bst, "exists") &&
        strcmp(txn_jstr(rel, "apiFingerprint"), fp) == 0 &&
        strcmp(txn_jstr(rel, "deploymentId"), txn_jstr(bst, "deploymentId")) == 0) {
        set_str(redo, "deploymentId", txn_jstr(bst, "deploymentId"));
        set_bool(redo, "unchanged", 1);
        dep_out_item("endpoint", "*", "unchanged", "deployment %s", txn_jstr(bst, "deploymentId"));
        return 0;
    }
    /* What undo needs: the endpoint permissions that were not there. */
    cJSON *sids = cJSON_CreateArray();
    for (int i = 0; i < p->n_functions; i++) {
        struct dep_function *f = &p->functions[i];
        cJSON *bf = before_get(t, "functions", f->name);
        int alias_existed = jtrue(cJSON_GetObjectItemCaseSensitive(bf, "alias"), "exists");
        for (int j = 0; j < f->n_endpoints; j++) {
            dep_sid_endpoint(f->endpoints[j].path, f->endpoints[j].method, sid, sizeof(sid));
            if (!alias_existed || !in_array(cJSON_GetObjectItemCaseSensitive(bf, "sids"), sid)) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "fn", f->lambda_name);
                cJSON_AddStringToObject(o, "sid", sid);
                cJSON_AddItemToArray(sids, o);
            }
        }
    }
    /* ... and the authorizer functions' permissions (v0.5 2.6 step 2) */
    int authorizers = 0;
    for (int i = 0; i < p->n_functions; i++) {
        struct dep_function *f = &p->functions[i];
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(f->json, "authorizer");
        if (!cJSON_IsObject(a) || cJSON_GetArraySize(a) == 0) {
            continue;
        }
        authorizers++;
        cJSON *bf = before_get(t, "functions", f->name);
        dep_sid_authorizer(f->lambda_name, sid, sizeof(sid));
        if (!jtrue(cJSON_GetObjectItemCaseSensitive(bf, "alias"), "exists") ||
            !in_array(cJSON_GetObjectItemCaseSensitive(bf, "sids"), sid)) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "fn", f->lambda_name);
            cJSON_AddStringToObject(o, "sid", sid);
            cJSON_AddItemToArray(sids, o);
        }
    }
    cJSON_DeleteItemFromObjectCaseSensitive(undo, "sids");
    cJSON_AddItemToObject(undo, "sids", sids);
    set_str(undo, "apiId", api);
    if (txn_journal_write(t, err) < 0) {
        return -1;
    }
    /* The working copy is shared by every stage: serialise on it. */
    if (txn_lock_acquire(&t->api_lock, t->id, 0, 120000, err) < 0) {
        return -1;
    }
    /* Authorizers first: a CUSTOM method needs its authorizer's id. */
    if (authorizers > 0 && dep_authorizers_ensure(t->c, api, err) < 0) {
        goto out;
    }
    for (int i = 0; i < p->n_functions; i++) {
        struct dep_function *f = &p->functions[i];
        for (int j = 0; j < f->n_endpoints; j++) {
            if (dep_endpoint_put(t->c, api, f, &f->endpoints[j], NULL, err) < 0) {
                goto out;
            }
            dep_out_item("endpoint", f->endpoints[j].path, "ok", "%s", f->endpoints[j].method);
        }
    }
    if (endpoints_prune(t, api, err) < 0) {
        goto out;
    }
    cJSON *req = cJSON_CreateObject(), *out = NULL;
    char desc[160];
    snprintf(desc, sizeof(desc), "stagehand %s %s", t->stage, t->id);
    cJSON_AddStringToObject(req, "description", desc);
    int r = dep_apigw_create_deployment(t->region, api, req, &out, err);
    cJSON_Delete(req);
    if (r < 0) {
        cJSON_Delete(out);
        goto out;
    }
    set_str(redo, "deploymentId", txn_jstr(out, "id"));
    set_bool(redo, "created", 1);
    dep_out_item("deployment", txn_jstr(out, "id"), "created", "no stage yet");
    cJSON_Delete(out);
    rc = 0;
out:
    txn_lock_release(&t->api_lock);
    (void)path;
    return rc;
}

static int endpoints_undo(struct txn *t, cJSON *row, struct dep_err *err)
{
    cJSON *undo = cJSON_GetObjectItemCaseSensitive(row, "undo");
    cJSON *redo = cJSON_GetObjectItemCaseSensitive(row, "redo");
    cJSON *o;
    txn_lock_release(&t->api_lock);
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(undo, "sids"))
    {
        if (dep_lambda_remove_permission(t->region, txn_jstr(o, "fn"), txn_jstr(o, "sid"), t->stage,
                                         err) < 0 &&
            !not_found(err)) {
            return -1;
        }
        dep_err_clear(err);
    }
    if (jtrue(redo, "created") && *txn_jstr(redo, "deploymentId")) {
        char path[256];
        snprintf(path, sizeof(path), "/restapis/%s/deployments/%s", txn_jstr(undo, "apiId"),
                 txn_jstr(redo, "deploymentId"));
        struct dep_err e2;
        dep_err_clear(&e2);
        /* Best effort: an unused deployment is harmless. */
        dep_rest_json("apigateway", t->region, "DeleteDeployment", txn_jstr(undo, "apiId"),
                      "DELETE", path, NULL, NULL, NULL, &e2);
    }
    return 0;
}

/* ------------------------------------------------------------- alias */

static int alias_apply(struct txn *t, cJSON *row, struct dep_err *err)
{
    cJSON *redo = obj_of(row, "redo");
    const char *fn = txn_jstr(redo, "lambda");
    const char *ver = txn_jstr(redo, "version");
    cJSON *ba = cJSON_GetObjectItemCaseSensitive(before_get(t, "functions", txn_jstr(row, "item")),
                                                 "alias");
    if (!*ver) {
        dep_err_local(err, "NoVersion", "no version to point alias %s of %s at", t->stage, fn);
        return -1;
    }
    if (jtrue(redo, "aliasCreated") ||
        (jtrue(ba, "exists") && strcmp(txn_jstr(ba, "version"), ver) == 0 &&
         cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ba, "routing")) == 0)) {
        dep_out_item("alias", fn, "unchanged", "%s -> %s", t->stage, ver);
        return 0;
    }
    cJSON *req = cJSON_CreateObject(), *out = NULL;
    cJSON_AddStringToObject(req, "FunctionVersion", ver);
    cJSON *rc_ = cJSON_AddObjectToObject(req, "RoutingConfig");
    cJSON_AddObjectToObject(rc_, "AdditionalVersionWeights");
    if (txn_journal_touch(t, err) < 0) {
        cJSON_Delete(req);
        return -1;
    }
    int rc = dep_lambda_update_alias(t->region, fn, t->stage, req, &out, err);
    cJSON_Delete(req);
    cJSON_Delete(out);
    if (rc == 0) {
        dep_out_item("alias", fn, "updated", "%s -> %s (was %s)", t->stage, ver,
                     txn_jstr(ba, "version"));
    }
    return rc;
}

static int alias_undo(struct txn *t, cJSON *row, struct dep_err *err)
{
    cJSON *bf = before_get(t, "functions", txn_jstr(row, "item"));
    cJSON *ba = cJSON_GetObjectItemCaseSensitive(bf, "alias");
    if (!jtrue(ba, "exists")) {
        return 0; /* code undo deletes the alias we created */
    }
    cJSON *req = cJSON_CreateObject(), *out = NULL;
    cJSON_AddStringToObject(req, "FunctionVersion", txn_jstr(ba, "version"));
    cJSON *rc_ = cJSON_AddObjectToObject(req, "RoutingConfig");
    cJSON *w = cJSON_GetObjectItemCaseSensitive(ba, "routing");
    cJSON_AddItemToObject(rc_, "AdditionalVersionWeights",
                          w ? cJSON_Duplicate(w, 1) : cJSON_CreateObject());
    int rc = dep_lambda_update_alias(t->region, txn_jstr(bf, "lambda"), t->stage, req, &out, err);
    cJSON_Delete(req);
    cJSON_Delete(out);
    if (rc == 0) {
        dep_out_item("alias", txn_jstr(bf, "lambda"), "restored", "%s -> %s", t->stage,
                     txn_jstr(ba, "version"));
    }
    return rc;
}

/* ------------------------------------------------------------- stage */

static cJSON *patch_op(cJSON *arr, const char *op, const char *path, const char *value)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "op", op);
    cJSON_AddStringToObject(o, "path", path);
    if (value) {
        cJSON_AddStringToObject(o, "value", value);
    }
    cJSON_AddItemToArray(arr, o);
    return o;
}

static int stage_apply(struct txn *t, cJSON *row, struct dep_err *err)
{
    cJSON *redo = obj_of(row, "redo");
    const char *api = txn_jstr(redo, "apiId");
    const char *dep = txn_jstr(redo, "deploymentId");
    cJSON *bst = before_get(t, "api", "stage");
    int rc;
    if (!*api || !*dep) {
        dep_err_local(err, "NoDeployment", "no API deployment to put on stage %s", t->stage);
        return -1;
    }
    if (jtrue(bst, "exists")) {
        cJSON *vars = cJSON_GetObjectItemCaseSensitive(bst, "variables");
        if (strcmp(txn_jstr(bst, "deploymentId"), dep) == 0 &&
            strcmp(txn_jstr(vars, "functionAlias"), t->stage) == 0) {
            dep_out_item("stage", t->stage, "unchanged", "deployment %s", dep);
            return 0;
        }
        if (txn_journal_touch(t, err) < 0) {
            return -1;
        }
        cJSON *patch = cJSON_CreateArray(), *out = NULL;
        patch_op(patch, "replace", "/deploymentId", dep);
        patch_op(patch, "replace", "/variables/functionAlias", t->stage);
        rc = dep_apigw_update_stage(t->region, api, t->stage, patch, &out, err);
        cJSON_Delete(patch);
        cJSON_Delete(out);
    } else {
        if (txn_journal_touch(t, err) < 0) {
            return -1;
        }
        char path[256];
        cJSON *req = cJSON_CreateObject(), *out = NULL;
        cJSON_AddStringToObject(req, "stageName", t->stage);
        cJSON_AddStringToObject(req, "deploymentId", dep);
        cJSON_AddStringToObject(req, "description", t->stage);
        cJSON *v = cJSON_AddObjectToObject(req, "variables");
        cJSON_AddStringToObject(v, "functionAlias", t->stage);
        snprintf(path, sizeof(path), "/restapis/%s/stages", api);
        rc = dep_rest_json("apigateway", t->region, "CreateStage", api, "POST", path, NULL, req,
                           &out, err);
        cJSON_Delete(req);
        cJSON_Delete(out);
        out = NULL;
        if (rc < 0 && dep_err_is(err, "ConflictException")) {
            /* Created by a deploy that died before marking it done. */
            dep_err_clear(err);
            cJSON *patch = cJSON_CreateArray();
            patch_op(patch, "replace", "/deploymentId", dep);
            patch_op(patch, "replace", "/variables/functionAlias", t->stage);
            rc = dep_apigw_update_stage(t->region, api, t->stage, patch, &out, err);
            cJSON_Delete(patch);
            cJSON_Delete(out);
        }
    }
    if (rc == 0) {
        char url[512];
        dep_out_item("stage", t->stage, jtrue(bst, "exists") ? "updated" : "created",
                     "deployment %s", dep);
        dep_out_url(t->stage, t->region, dep_stage_url(api, t->region, t->stage, url, sizeof(url)));
    }
    return rc;
}

static int stage_undo(struct txn *t, cJSON *row, struct dep_err *err)
{
    cJSON *redo = cJSON_GetObjectItemCaseSensitive(row, "redo");
    cJSON *bst = before_get(t, "api", "stage");
    const char *api = txn_jstr(redo, "apiId");
    char path[256];
    if (!*api) {
        return 0;
    }
    cJSON *cur = NULL;
    if (dep_apigw_get_stage(t->region, api, t->stage, &cur, err) < 0) {
        if (!not_found(err)) {
            return -1;
        }
        dep_err_clear(err);
        if (!jtrue(bst, "exists")) {
            return 0;
        }
        dep_err_local(err, "StageGone", "stage %s was deleted; cannot restore it", t->stage);
        return -1;
    }
    int rc;
    if (!jtrue(bst, "exists")) {
        cJSON_Delete(cur);
        snprintf(path, sizeof(path), "/restapis/%s/stages/%s", api, t->stage);
        rc = dep_rest_json("apigateway", t->region, "DeleteStage", api, "DELETE", path, NULL, NULL,
                           NULL, err);
        if (rc < 0 && not_found(err)) {
            dep_err_clear(err);
            rc = 0;
        }
        if (rc == 0) {
            dep_out_item("stage", t->stage, "deleted", NULL);
        }
        return rc;
    }
    cJSON *patch = cJSON_CreateArray(), *out = NULL;
    cJSON *bv = cJSON_GetObjectItemCaseSensitive(bst, "variables");
    cJSON *cv = cJSON_GetObjectItemCaseSensitive(cur, "variables");
    char vp[300];
    if (strcmp(txn_jstr(cur, "deploymentId"), txn_jstr(bst, "deploymentId")) != 0) {
        patch_op(patch, "replace", "/deploymentId", txn_jstr(bst, "deploymentId"));
    }
    cJSON *v;
    cJSON_ArrayForEach(v, bv)
    {
        if (cJSON_IsString(v) && strcmp(txn_jstr(cv, v->string), v->valuestring) != 0) {
            snprintf(vp, sizeof(vp), "/variables/%s", v->string);
            patch_op(patch, "replace", vp, v->valuestring);
        }
    }
    cJSON_ArrayForEach(v, cv)
    {
        if (!cJSON_GetObjectItemCaseSensitive(bv, v->string)) {
            snprintf(vp, sizeof(vp), "/variables/%s", v->string);
            patch_op(patch, "remove", vp, NULL);
        }
    }
    cJSON_Delete(cur);
    rc = 0;
    if (cJSON_GetArraySize(patch) > 0) {
        rc = dep_apigw_update_stage(t->region, api, t->stage, patch, &out, err);
        if (rc == 0) {
            dep_out_item("stage", t->stage, "restored", "deployment %s",
                         txn_jstr(bst, "deploymentId"));
        }
    }
    cJSON_Delete(patch);
    cJSON_Delete(out);
    return rc;
}

/* -------------------------------------------------------------- meta */

static int meta_apply(struct txn *t, cJSON *row, struct dep_err *err)
{
    cJSON *redo = obj_of(row, "redo");
    cJSON *bm = before_get(t, "meta", NULL);
    const char *body = txn_jstr(redo, "body");
    char etag[128] = "";
    if (jtrue(bm, "exists") && strcmp(txn_jstr(bm, "body"), body) == 0) {
        dep_out_item("meta", t->meta_key, "unchanged", NULL);
        return 0;
    }
    if (txn_journal_touch(t, err) < 0) {
        return -1;
    }
    if (txn_meta_put(t->meta_region, t->meta_bucket, t->meta_key, body,
                     jtrue(bm, "exists") ? txn_jstr(bm, "etag") : "",
                     jtrue(bm, "exists") ? txn_jstr(bm, "body") : NULL, etag, err) < 0) {
        /* Already pushed by a deploy that died before marking it done? */
        char *cur = NULL;
        struct dep_err e2;
        dep_err_clear(&e2);
        if (txn_meta_get(t->meta_region, t->meta_bucket, t->meta_key, &cur, etag, &e2) == 0 &&
            cur && strcmp(cur, body) == 0) {
            free(cur);
            dep_err_clear(err);
            set_str(redo, "etag", etag);
            return 0;
        }
        free(cur);
        return -1;
    }
    set_str(redo, "etag", etag);
    dep_out_item("meta", t->meta_key, "pushed", "s3://%s", t->meta_bucket);
    return 0;
}

static int meta_undo(struct txn *t, cJSON *row, struct dep_err *err)
{
    cJSON *redo = cJSON_GetObjectItemCaseSensitive(row, "redo");
    cJSON *bm = before_get(t, "meta", NULL);
    const char *ours = txn_jstr(redo, "etag");
    char *cur = NULL;
    char etag[128] = "";
    if (txn_meta_get(t->meta_region, t->meta_bucket, t->meta_key, &cur, etag, err) < 0) {
        return -1;
    }
    int rc = 0;
    /* Ours: the ETag we recorded, or (died before recording it) our body. */
    int mine = cur && ((*ours && strcmp(etag, ours) == 0) ||
                       (!*ours && cJSON_GetObjectItemCaseSensitive(redo, "body") &&
                        strcmp(cur, txn_jstr(redo, "body")) == 0 &&
                        !(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(bm, "exists")) &&
                          strcmp(cur, txn_jstr(bm, "body")) == 0)));
    if (!mine) {
        if (cur && *ours && strcmp(etag, ours) != 0 && strcmp(etag, txn_jstr(bm, "etag")) != 0) {
            dep_out_warn("meta %s was changed by someone else after this deploy; not restoring it",
                         t->meta_key);
        }
        free(cur);
        return 0; /* we did not write it (or someone wrote after us): leave it */
    }
    if (jtrue(bm, "exists")) {
        rc = txn_meta_put(t->meta_region, t->meta_bucket, t->meta_key, txn_jstr(bm, "body"), etag,
                          cur, NULL, err);
    } else {
        rc = dep_s3_delete_object(t->meta_region, t->meta_bucket, t->meta_key, etag, err);
    }
    free(cur);
    return rc;
}

/* ------------------------------------------------------------- table */

const struct txn_step_kind txn_step_table[] = {
    {"stack", TXN_PREPARE, stack_apply, stack_undo,
     "resources stack change, outputs into variables"},
    {"code", TXN_PREPARE, code_apply, code_undo,
     "upload $LATEST, PublishVersion (CodeSha256/RevisionId checked)"},
    {"api", TXN_PREPARE, api_apply, api_undo, "find or create the REST API"},
    {"events", TXN_PREPARE, events_apply, events_undo, "event wiring on the stage alias"},
    {"endpoints", TXN_PREPARE, endpoints_apply, endpoints_undo,
     "methods + API deployment without a stage"},
    {"alias", TXN_COMMIT, alias_apply, alias_undo, "point the stage alias at the new version"},
    {"stage", TXN_COMMIT, stage_apply, stage_undo, "stage deployment id + variables"},
    {"meta", TXN_COMMIT, meta_apply, meta_undo, "push the stage's variables (If-Match)"},
    {NULL, 0, NULL, NULL, NULL},
};

const struct txn_step_kind *txn_step_find(const char *kind)
{
    for (int i = 0; txn_step_table[i].kind; i++) {
        if (strcmp(txn_step_table[i].kind, kind) == 0) {
            return &txn_step_table[i];
        }
    }
    return NULL;
}
