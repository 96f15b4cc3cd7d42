/*
 * txn_capture.c - a stage's observable state, read with read-only calls:
 * the "before" image a transaction compensates back to, what `status`
 * shows, what `diff` compares against, and what rehearse checks the
 * invariants on.
 *
 * Shape (every member always present):
 * {"stack": {"name","exists","status","template","parameters":[],"outputs":{}},
 *  "functions": {"<name>": {"lambda","exists","alias":{"exists","version","routing"},"sids":[]}},
 *  "api": {"name","exists","id","stage":{"exists","deploymentId","variables":{}}},
 *  "subscriptions": {"<topicArn>": ["<endpoint>", ...]},   (only our alias endpoints)
 *  "notifications": {"<bucket>": ["<Kind> <configuration without Id>", ...]},  (s3 events'
 *                   buckets, every configuration, sorted)
 *  "mappings": {"<streamArn>": ["<BatchSize> <State>", ...]},  (stream events, mappings on
 *                   our alias, sorted; no UUIDs)
 *  "meta": {"bucket","key","exists","body","etag"}}
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txn.h"
#include "txn_int.h"

/* Depth-first search for the first member named key; borrowed. */
cJSON *txn_jfind(cJSON *o, const char *key)
{
    cJSON *it;
    if (!o) {
        return NULL;
    }
    if (o->string && strcmp(o->string, key) == 0) {
        return o;
    }
    cJSON_ArrayForEach(it, o)
    {
        cJSON *f = txn_jfind(it, key);
        if (f) {
            return f;
        }
    }
    return NULL;
}

/* An array view: arrays as is, a single object wrapped (borrowed items
 * duplicated into a new array the caller deletes). */
cJSON *txn_jarray_dup(const cJSON *v)
{
    if (cJSON_IsArray(v)) {
        return cJSON_Duplicate(v, 1);
    }
    cJSON *a = cJSON_CreateArray();
    if (v && !cJSON_IsNull(v) && !(cJSON_IsString(v) && !*v->valuestring)) {
        cJSON_AddItemToArray(a, cJSON_Duplicate(v, 1));
    }
    return a;
}

static int not_found(const struct dep_err *err)
{
    return err->http_status == 404 || dep_err_is(err, "ResourceNotFoundException") ||
           dep_err_is(err, "NotFoundException") || strstr(err->message, "does not exist") != NULL;
}

/* lowerFirst(OutputKey) -> OutputValue of a DescribeStacks stack. */
cJSON *txn_stack_outputs(cJSON *stack)
{
    cJSON *outs = cJSON_CreateObject();
    cJSON *list = txn_jarray_dup(cJSON_GetObjectItemCaseSensitive(stack, "Outputs"));
    cJSON *o;
    cJSON_ArrayForEach(o, list)
    {
        cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "member");
        cJSON *x = m ? m : o;
        const char *k = txn_jstr(x, "OutputKey");
        if (*k) {
            char key[256];
            snprintf(key, sizeof(key), "%s", k);
            key[0] = (char)(key[0] >= 'A' && key[0] <= 'Z' ? key[0] + 32 : key[0]);
            cJSON_AddStringToObject(outs, key, txn_jstr(x, "OutputValue"));
        }
    }
    cJSON_Delete(list);
    return outs;
}

/* DescribeStacks: *stack (new, the stack object) or NULL when absent. */
int txn_describe_stack(const char *region, const char *name, cJSON **stack, struct dep_err *err)
{
    cJSON *out = NULL;
    *stack = NULL;
    if (dep_cfn_describe_stacks(region, name, &out, err) < 0) {
        if (strstr(err->message, "does not exist")) {
            dep_err_clear(err);
            return 0;
        }
        return -1;
    }
    cJSON *stacks = txn_jarray_dup(txn_jfind(out, "Stacks"));
    cJSON *first = cJSON_GetArrayItem(stacks, 0);
    if (first) {
        cJSON *m = cJSON_GetObjectItemCaseSensitive(first, "member");
        *stack = cJSON_Duplicate(m ? m : first, 1);
    }
    cJSON_Delete(stacks);
    cJSON_Delete(out);
    return 0;
}

static int capture_stack(struct txn *t, cJSON *state, struct dep_err *err)
{
    char name[256];
    cJSON *s = cJSON_AddObjectToObject(state, "stack");
    dep_stack_name(&t->c->project, name, sizeof(name));
    cJSON_AddStringToObject(s, "name", name);
    cJSON *stack = NULL;
    if (txn_describe_stack(t->region, name, &stack, err) < 0) {
        return -1;
    }
    cJSON_AddBoolToObject(s, "exists", stack != NULL);
    cJSON_AddStringToObject(s, "status", stack ? txn_jstr(stack, "StackStatus") : "");
    cJSON_AddItemToObject(
        s, "parameters",
        txn_jarray_dup(stack ? cJSON_GetObjectItemCaseSensitive(stack, "Parameters") : NULL));
    cJSON_AddItemToObject(s, "outputs", stack ? txn_stack_outputs(stack) : cJSON_CreateObject());
    cJSON_AddStringToObject(s, "template", "");
    if (stack) {
        cJSON *tpl = NULL;
        if (dep_cfn_get_template(t->region, name, &tpl, err) < 0) {
            cJSON_Delete(stack);
            return -1;
        }
        cJSON *body = txn_jfind(tpl, "TemplateBody");
        if (cJSON_IsString(body)) {
            cJSON_ReplaceItemInObject(s, "template", cJSON_CreateString(body->valuestring));
        } else if (body) {
            cJSON_ReplaceItemInObject(s, "template", cJSON_CreateString(""));
            char *str = txn_json_str(body);
            cJSON_ReplaceItemInObject(s, "template", cJSON_CreateString(str ? str : ""));
            free(str);
        }
        cJSON_Delete(tpl);
    }
    cJSON_Delete(stack);
    return 0;
}

/* Statement ids of fn:qualifier's resource policy (new array). */
int txn_policy_sids(const char *region, const char *fn, const char *qualifier, cJSON **sids,
                    struct dep_err *err)
{
    cJSON *out = NULL;
    *sids = cJSON_CreateArray();
    if (dep_lambda_get_policy(region, fn, qualifier, &out, err) < 0) {
        if (not_found(err)) {
            dep_err_clear(err);
            return 0;
        }
        return -1;
    }
    cJSON *pol = cJSON_Parse(txn_jstr(out, "Policy"));
    cJSON *st;
    cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(pol, "Statement"))
    {
        cJSON_AddItemToArray(*sids, cJSON_CreateString(txn_jstr(st, "Sid")));
    }
    cJSON_Delete(pol);
    cJSON_Delete(out);
    return 0;
}

/* GetAlias into {"exists","version","routing"} (new). */
int txn_alias_state(const char *region, const char *fn, const char *alias, cJSON **state,
                    struct dep_err *err)
{
    cJSON *out = NULL;
    cJSON *a = cJSON_CreateObject();
    *state = a;
    if (dep_lambda_get_alias(region, fn, alias, &out, err) < 0) {
        if (not_found(err)) {
            dep_err_clear(err);
            cJSON_AddBoolToObject(a, "exists", 0);
            cJSON_AddStringToObject(a, "version", "");
            cJSON_AddItemToObject(a, "routing", cJSON_CreateObject());
            return 0;
        }
        return -1;
    }
    cJSON_AddBoolToObject(a, "exists", 1);
    cJSON_AddStringToObject(a, "version", txn_jstr(out, "FunctionVersion"));
    cJSON *w = txn_jfind(out, "AdditionalVersionWeights");
    cJSON_AddItemToObject(a, "routing",
                          w && cJSON_IsObject(w) ? cJSON_Duplicate(w, 1) : cJSON_CreateObject());
    cJSON_Delete(out);
    return 0;
}

static int capture_functions(struct txn *t, cJSON *state, struct dep_err *err)
{
    struct dep_project *p = &t->c->project;
    cJSON *fns = cJSON_AddObjectToObject(state, "functions");
    for (int i = 0; i < p->n_functions; i++) {
        struct dep_function *f = &p->functions[i];
        cJSON *o = cJSON_AddObjectToObject(fns, f->name);
        cJSON_AddStringToObject(o, "lambda", f->lambda_name);
        cJSON *alias = NULL;
        if (txn_alias_state(t->region, f->lambda_name, t->stage, &alias, err) < 0) {
            return -1;
        }
        int exists = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(alias, "exists"));
        cJSON_AddItemToObject(o, "alias", alias);
        cJSON *sids = NULL;
        if (exists) {
            if (txn_policy_sids(t->region, f->lambda_name, t->stage, &sids, err) < 0) {
                return -1;
            }
        } else {
            sids = cJSON_CreateArray();
            cJSON *gf = NULL;
            if (dep_lambda_get_function(t->region, f->lambda_name, NULL, &gf, err) == 0) {
                exists = 1;
            } else if (not_found(err)) {
                dep_err_clear(err);
            } else {
                cJSON_Delete(sids);
                return -1;
            }
            cJSON_Delete(gf);
        }
        cJSON_AddBoolToObject(o, "exists", exists);
        cJSON_AddItemToObject(o, "sids", sids);
    }
    return 0;
}

/* Find the REST API by name: id into buf ("" when absent). Returns 0/-1. */
int txn_find_api(const char *region, const char *name, char *id, size_t n, struct dep_err *err)
{
    cJSON *out = NULL;
    id[0] = 0;
    if (dep_apigw_get_rest_apis(region, &out, err) < 0) {
        return -1;
    }
    cJSON *it;
    cJSON *items = cJSON_GetObjectItemCaseSensitive(out, "item");
    if (!items) {
        items = cJSON_GetObjectItemCaseSensitive(out, "items");
    }
    cJSON_ArrayForEach(it, items)
    {
        if (strcmp(txn_jstr(it, "name"), name) == 0) {
            snprintf(id, n, "%s", txn_jstr(it, "id"));
            break;
        }
    }
    cJSON_Delete(out);
    return 0;
}

static int project_has_endpoints(const struct dep_project *p)
{
    for (int i = 0; i < p->n_functions; i++) {
        if (p->functions[i].n_endpoints > 0) {
            return 1;
        }
    }
    return 0;
}

static int capture_api(struct txn *t, cJSON *state, struct dep_err *err)
{
    char name[256], id[64] = "";
    cJSON *a = cJSON_AddObjectToObject(state, "api");
    dep_rest_api_name(&t->c->project, name, sizeof(name));
    cJSON_AddStringToObject(a, "name", name);
    if (project_has_endpoints(&t->c->project) &&
        txn_find_api(t->region, name, id, sizeof(id), err) < 0) {
        return -1;
    }
    cJSON_AddBoolToObject(a, "exists", id[0] != 0);
    cJSON_AddStringToObject(a, "id", id);
    cJSON *st = cJSON_AddObjectToObject(a, "stage");
    cJSON *out = NULL;
    if (id[0] && dep_apigw_get_stage(t->region, id, t->stage, &out, err) == 0) {
        cJSON_AddBoolToObject(st, "exists", 1);
        cJSON_AddStringToObject(st, "deploymentId", txn_jstr(out, "deploymentId"));
        cJSON *v = cJSON_GetObjectItemCaseSensitive(out, "variables");
        cJSON_AddItemToObject(st, "variables",
                              cJSON_IsObject(v) ? cJSON_Duplicate(v, 1) : cJSON_CreateObject());
        cJSON_Delete(out);
        return 0;
    }
    if (id[0] && !not_found(err)) {
        return -1;
    }
    dep_err_clear(err);
    cJSON_AddBoolToObject(st, "exists", 0);
    cJSON_AddStringToObject(st, "deploymentId", "");
    cJSON_AddItemToObject(st, "variables", cJSON_CreateObject());
    return 0;
}

/* The topic ARN of an sns event config (name or ARN). */
const char *txn_topic_arn(struct txn *t, const cJSON *config, char *buf, size_t n)
{
    const char *topic = txn_jstr(config, "topic");
    if (!*topic) {
        topic = txn_jstr(config, "topicName");
    }
    if (strncmp(topic, "arn:", 4) == 0) {
        snprintf(buf, n, "%s", topic);
    } else {
        snprintf(buf, n, "arn:aws:sns:%s:%s:%s", t->region, t->account, topic);
    }
    return buf;
}

/* Endpoints subscribed to topic_arn that are one of our alias ARNs. */
int txn_topic_subscriptions(struct txn *t, const char *topic_arn, cJSON **endpoints,
                            struct dep_err *err)
{
    struct dep_buf form = {0};
    char *enc = dep_urlencode(topic_arn, 0);
    cJSON *out = NULL;
    *endpoints = cJSON_CreateArray();
    dep_buf_printf(&form, "Action=ListSubscriptionsByTopic&Version=2010-03-31&TopicArn=%s",
                   enc ? enc : "");
    free(enc);
    int rc =
        dep_query("sns", t->region, "ListSubscriptionsByTopic", topic_arn, form.data, &out, err);
    dep_buf_release(&form);
    if (rc < 0) {
        if (dep_err_is(err, "NotFound") || not_found(err)) {
            dep_err_clear(err);
            return 0;
        }
        return -1;
    }
    cJSON *subs = txn_jarray_dup(txn_jfind(out, "Subscriptions"));
    cJSON *s;
    char suffix[80];
    snprintf(suffix, sizeof(suffix), ":%s", t->stage);
    cJSON_ArrayForEach(s, subs)
    {
        cJSON *m = cJSON_GetObjectItemCaseSensitive(s, "member");
        const char *ep = txn_jstr(m ? m : s, "Endpoint");
        size_t el = strlen(ep), sl = strlen(suffix);
        if (el > sl && strcmp(ep + el - sl, suffix) == 0 && strstr(ep, ":function:")) {
            cJSON *pair = cJSON_CreateObject();
            cJSON_AddStringToObject(pair, "endpoint", ep);
            cJSON_AddStringToObject(pair, "arn", txn_jstr(m ? m : s, "SubscriptionArn"));
            cJSON_AddItemToArray(*endpoints, pair);
        }
    }
    cJSON_Delete(subs);
    cJSON_Delete(out);
    return 0;
}

static int capture_subscriptions(struct txn *t, cJSON *state, struct dep_err *err)
{
    struct dep_project *p = &t->c->project;
    cJSON *subs = cJSON_AddObjectToObject(state, "subscriptions");
    for (int i = 0; i < p->n_functions; i++) {
        for (int j = 0; j < p->functions[i].n_events; j++) {
            struct dep_event *e = &p->functions[i].events[j];
            char arn[512];
            if (strcmp(e->type, "sns") != 0) {
                continue;
            }
            txn_topic_arn(t, e->config, arn, sizeof(arn));
            if (strstr(arn, "${") || cJSON_GetObjectItemCaseSensitive(subs, arn)) {
                continue; /* topic not known yet (stack not deployed) */
            }
            cJSON *eps = NULL;
            if (txn_topic_subscriptions(t, arn, &eps, err) < 0) {
                return -1;
            }
            cJSON_AddItemToObject(subs, arn, eps);
        }
    }
    return 0;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort an array of strings in place. */
static void sort_strings(cJSON *arr)
{
    int n = cJSON_GetArraySize(arr);
    if (n < 2) {
        return;
    }
    char **v = calloc((size_t)n, sizeof(char *));
    if (!v) {
        abort();
    }
    for (int i = 0; i < n; i++) {
        const char *sv = cJSON_GetStringValue(cJSON_GetArrayItem(arr, i));
        v[i] = strdup(sv ? sv : "");
    }
    qsort(v, (size_t)n, sizeof(char *), cmp_cstr);
    for (int i = 0; i < n; i++) {
        cJSON_ReplaceItemInArray(arr, i, cJSON_CreateString(v[i] ? v[i] : ""));
        free(v[i]);
    }
    free(v);
}

static void strip_ids(cJSON *o)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, "Id");
    cJSON *it;
    cJSON_ArrayForEach(it, o)
    {
        if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
            strip_ids(it);
        }
    }
}

/* The buckets of s3 events: every notification configuration (Ids left
 * out: S3 makes them up), and the streams of stream events: the mappings
 * on our alias. */
static int capture_event_targets(struct txn *t, cJSON *state, struct dep_err *err)
{
    struct dep_project *p = &t->c->project;
    cJSON *notes = cJSON_AddObjectToObject(state, "notifications");
    cJSON *maps = cJSON_AddObjectToObject(state, "mappings");
    for (int i = 0; i < p->n_functions; i++) {
        struct dep_function *f = &p->functions[i];
        for (int j = 0; j < f->n_events; j++) {
            struct dep_event *e = &f->events[j];
            if (strcmp(e->type, "s3") == 0) {
                const char *bucket = txn_jstr(e->config, "bucket");
                if (!*bucket || strstr(bucket, "${") ||
                    cJSON_GetObjectItemCaseSensitive(notes, bucket)) {
                    continue;
                }
                cJSON *cur = NULL, *list = cJSON_CreateArray();
                if (dep_s3_get_bucket_notification(t->region, bucket, &cur, err) < 0) {
                    cJSON_Delete(list);
                    if (!dep_err_is(err, "NoSuchBucket")) {
                        return -1;
                    }
                    dep_err_clear(err);
                    cJSON_AddItemToObject(notes, bucket, cJSON_CreateString("(no bucket)"));
                    continue;
                }
                cJSON *root = cJSON_GetObjectItemCaseSensitive(cur, "NotificationConfiguration");
                cJSON *it;
                if (!cJSON_IsObject(root)) {
                    root = NULL;
                }
                cJSON_ArrayForEach(it, root)
                {
                    cJSON *one;
                    cJSON *items = cJSON_IsArray(it) ? cJSON_Duplicate(it, 1) : cJSON_CreateArray();
                    if (!cJSON_IsArray(it)) {
                        cJSON_AddItemToArray(items, cJSON_Duplicate(it, 1));
                    }
                    cJSON_ArrayForEach(one, items)
                    {
                        if (cJSON_IsObject(one)) {
                            strip_ids(one);
                        }
                        char *txt = cJSON_PrintUnformatted(one);
                        size_t n = strlen(it->string) + strlen(txt ? txt : "") + 2;
                        char *line = malloc(n);
                        if (!line) {
                            abort();
                        }
                        snprintf(line, n, "%s %s", it->string, txt ? txt : "");
                        cJSON_AddItemToArray(list, cJSON_CreateString(line));
                        free(line);
                        free(txt);
                    }
                    cJSON_Delete(items);
                }
                cJSON_Delete(cur);
                sort_strings(list);
                cJSON_AddItemToObject(notes, bucket, list);
            } else if (strcmp(e->type, "dynamodbstream") == 0 ||
                       strcmp(e->type, "kinesisstream") == 0) {
                const char *stream = txn_jstr(e->config, "streamArn");
                char alias_arn[512];
                if (!*stream || strstr(stream, "${") ||
                    cJSON_GetObjectItemCaseSensitive(maps, stream)) {
                    continue;
                }
                dep_lambda_arn(t->region, t->account, f->lambda_name, t->stage, alias_arn,
                               sizeof(alias_arn));
                char *sa = dep_urlencode(stream, 0), *fa = dep_urlencode(alias_arn, 0);
                size_t qn = strlen(sa) + strlen(fa) + 64;
                char *q = malloc(qn);
                if (!q) {
                    abort();
                }
                snprintf(q, qn, "EventSourceArn=%s&FunctionName=%s&MaxItems=100", sa, fa);
                free(sa);
                free(fa);
                cJSON *out = NULL;
                int rc = dep_rest_json("lambda", t->region, "ListEventSourceMappings", alias_arn,
                                       "GET", "/2015-03-31/event-source-mappings/", q, NULL, &out,
                                       err);
                free(q);
                if (rc < 0 && !not_found(err)) {
                    cJSON_Delete(out);
                    return -1;
                }
                dep_err_clear(err);
                cJSON *list = cJSON_CreateArray();
                cJSON *m;
                cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(out, "EventSourceMappings"))
                {
                    char line[128];
                    cJSON *bs = cJSON_GetObjectItemCaseSensitive(m, "BatchSize");
                    snprintf(line, sizeof(line), "%d %s", cJSON_IsNumber(bs) ? bs->valueint : 0,
                             txn_jstr(m, "State"));
                    cJSON_AddItemToArray(list, cJSON_CreateString(line));
                }
                cJSON_Delete(out);
                sort_strings(list);
                cJSON_AddItemToObject(maps, stream, list);
            }
        }
    }
    return 0;
}

static int capture_meta(struct txn *t, cJSON *state, struct dep_err *err)
{
    char *body = NULL;
    char etag[128] = "";
    cJSON *m = cJSON_AddObjectToObject(state, "meta");
    cJSON_AddStringToObject(m, "bucket", t->meta_bucket);
    cJSON_AddStringToObject(m, "key", t->meta_key);
    if (t->pulled) {
        body = t->pulled_meta ? strdup(t->pulled_meta) : NULL;
        snprintf(etag, sizeof(etag), "%s", t->pulled_etag);
    } else if (txn_meta_get(t->meta_region, t->meta_bucket, t->meta_key, &body, etag, err) < 0) {
        return -1;
    }
    cJSON_AddBoolToObject(m, "exists", body != NULL);
    cJSON_AddStringToObject(m, "body", body ? body : "");
    cJSON_AddStringToObject(m, "etag", etag);
    free(body);
    return 0;
}

/* The stage's observable state (shape above); *out new. Returns 0 or -1. */
int txn_capture(struct txn *t, cJSON **out, struct dep_err *err)
{
    cJSON *state = cJSON_CreateObject();
    *out = NULL;
    if (capture_meta(t, state, err) < 0 || capture_stack(t, state, err) < 0 ||
        capture_functions(t, state, err) < 0 || capture_api(t, state, err) < 0 ||
        capture_subscriptions(t, state, err) < 0 || capture_event_targets(t, state, err) < 0) {
        cJSON_Delete(state);
        return -1;
    }
    *out = state;
    return 0;
}
