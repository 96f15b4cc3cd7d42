/*
 * svc_cloudformation.c - AWS CloudFormation (query protocol, API 2010-05-15):
 * CreateStack, UpdateStack, DeleteStack, DescribeStacks, ListStacks,
 * DescribeStackEvents, DescribeStackResource, DescribeStackResources,
 * ListStackResources, GetTemplate, GetTemplateSummary, ValidateTemplate,
 * CreateChangeSet, DescribeChangeSet, ExecuteChangeSet, DeleteChangeSet,
 * ListChangeSets, CancelUpdateStack, ContinueUpdateRollback, ListExports.
 *
 * Handlers validate and record; one worker thread provisions stacks
 * asynchronously (CREATE/UPDATE/DELETE jobs, in order), calling the other
 * services through cfn_resources.c without the store lock and recording
 * its progress (stack status, resources, events) in short transactions.
 * Failed creates and updates roll back for real (see run_create,
 * run_update). Templates: cfn_template.c.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cfn_resources.h"
#include "cfn_template.h"
#include "emu.h"
#include "fault.h"

#define CFN_MAX_TEMPLATE (1024 * 1024)
#define CFN_SETTLE_MS 2000 /* default; GREENROOM_CFN_SETTLE_MS overrides (0: answer at once) */
#define NO_CHANGES_MSG                                                                             \
    "The submitted information didn't contain changes. Submit different information to create a "  \
    "change set."

static const char *const cfn_schema[] = {
    "CREATE TABLE cfn_stacks ("
    " stack_id TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,"
    " status TEXT NOT NULL, reason TEXT, description TEXT, created REAL, updated REAL, deleted "
    "REAL,"
    " template TEXT, params TEXT, outputs TEXT, tags TEXT, capabilities TEXT, on_failure TEXT,"
    " disable_rollback INTEGER DEFAULT 0, new_template TEXT, new_params TEXT, new_tags TEXT,"
    " new_capabilities TEXT, retain TEXT, seq INTEGER DEFAULT 0, change_set_id TEXT);"
    "CREATE INDEX cfn_stacks_name ON cfn_stacks(account, region, name);"
    "CREATE TABLE cfn_resources ("
    " stack_id TEXT NOT NULL, account TEXT NOT NULL, region TEXT NOT NULL, logical_id TEXT NOT "
    "NULL,"
    " type TEXT, physical_id TEXT, status TEXT, reason TEXT, properties TEXT, attributes TEXT,"
    " updated REAL, ord INTEGER, PRIMARY KEY (stack_id, logical_id));"
    "CREATE TABLE cfn_events ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, stack_id TEXT NOT NULL, account TEXT NOT NULL,"
    " region TEXT NOT NULL, event_id TEXT, stack_name TEXT, logical_id TEXT, physical_id TEXT,"
    " type TEXT, status TEXT, reason TEXT, ts REAL, properties TEXT);"
    "CREATE INDEX cfn_events_stack ON cfn_events(stack_id, id);"
    "CREATE TABLE cfn_changesets ("
    " id TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,"
    " stack_id TEXT NOT NULL, stack_name TEXT, type TEXT, status TEXT, exec_status TEXT, reason "
    "TEXT,"
    " description TEXT, template TEXT, params TEXT, tags TEXT, capabilities TEXT, changes TEXT,"
    " created REAL);"
    "CREATE TABLE cfn_exports ("
    " account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, value TEXT, stack_id TEXT,"
    " PRIMARY KEY (account, region, name));"
    "CREATE TABLE cfn_local ("
    " account TEXT NOT NULL, region TEXT NOT NULL, type TEXT NOT NULL, physical_id TEXT NOT NULL,"
    " properties TEXT, attributes TEXT, stack_name TEXT, logical_id TEXT,"
    " PRIMARY KEY (account, region, type, physical_id));",
    /* 2: the exports each stack imports (Fn::ImportValue), to refuse
     * deleting or changing an export in use */
    "ALTER TABLE cfn_stacks ADD COLUMN imports TEXT;",
};

/* ------------------------------------------------------------ XML render */

/* Renders a cJSON tree in the query protocol's shape: objects as elements,
 * arrays as <member> lists. */
static void xml_render(struct emu_buf *b, const cJSON *v)
{
    const cJSON *it;
    if (cJSON_IsObject(v)) {
        cJSON_ArrayForEach(it, v)
        {
            emu_buf_printf(b, "<%s>", it->string);
            xml_render(b, it);
            emu_buf_printf(b, "</%s>", it->string);
        }
    } else if (cJSON_IsArray(v)) {
        cJSON_ArrayForEach(it, v)
        {
            emu_buf_puts(b, "<member>");
            xml_render(b, it);
            emu_buf_puts(b, "</member>");
        }
    } else if (cJSON_IsString(v)) {
        emu_buf_xml_escape(b, v->valuestring);
    } else if (!cJSON_IsNull(v)) {
        char *s = cfn_value_str(v);
        emu_buf_xml_escape(b, s);
        free(s);
    }
}

/* Answers with doc rendered as the result (doc deleted). */
static void reply(struct emu_request *req, struct emu_response *resp, cJSON *doc)
{
    struct emu_buf b = {0};
    xml_render(&b, doc);
    emu_resp_query(req, resp, b.data ? b.data : "");
    emu_buf_release(&b);
    cJSON_Delete(doc);
}

static void add_time(cJSON *o, const char *key, double t)
{
    char ts[32];
    if (t <= 0) {
        return;
    }
    emu_time_iso(ts, t);
    cJSON_AddStringToObject(o, key, ts);
}

static void add_str(cJSON *o, const char *key, const char *v)
{
    if (v != NULL && v[0] != 0) {
        cJSON_AddStringToObject(o, key, v);
    }
}

static cJSON *parse_col(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? cJSON_Parse((const char *)t) : NULL;
}

static const char *col_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : "";
}

/* ---------------------------------------------------------------- stacks */

/* A stack row, copied out. */
struct stack_row {
    char stack_id[300];
    char name[200];
    char status[64];
    char *reason;
    char *description;
    double created, updated, deleted;
    char *template;
    cJSON *params;
    cJSON *outputs;
    cJSON *tags;
    cJSON *capabilities;
    char on_failure[16];
    int disable_rollback;
    char *new_template;
    cJSON *new_params;
    cJSON *new_tags;
    cJSON *new_capabilities;
    cJSON *retain;
    char change_set_id[400];
};

static void stack_row_release(struct stack_row *s)
{
    free(s->reason);
    free(s->description);
    free(s->template);
    free(s->new_template);
    cJSON_Delete(s->params);
    cJSON_Delete(s->outputs);
    cJSON_Delete(s->tags);
    cJSON_Delete(s->capabilities);
    cJSON_Delete(s->new_params);
    cJSON_Delete(s->new_tags);
    cJSON_Delete(s->new_capabilities);
    cJSON_Delete(s->retain);
    memset(s, 0, sizeof(*s));
}

#define STACK_COLS                                                                                 \
    "stack_id, name, status, reason, description, created, updated, deleted, template, params, "   \
    "outputs,"                                                                                     \
    " tags, capabilities, on_failure, disable_rollback, new_template, new_params, new_tags,"       \
    " new_capabilities, retain, change_set_id"

static void stack_row_read(sqlite3_stmt *st, struct stack_row *s)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->stack_id, sizeof(s->stack_id), "%s", col_text(st, 0));
    snprintf(s->name, sizeof(s->name), "%s", col_text(st, 1));
    snprintf(s->status, sizeof(s->status), "%s", col_text(st, 2));
    s->reason = emu_col_dup(st, 3);
    s->description = emu_col_dup(st, 4);
    s->created = sqlite3_column_double(st, 5);
    s->updated = sqlite3_column_double(st, 6);
    s->deleted = sqlite3_column_double(st, 7);
    s->template = sqlite3_column_type(st, 8) == SQLITE_NULL ? NULL : emu_col_dup(st, 8);
    s->params = parse_col(st, 9);
    s->outputs = parse_col(st, 10);
    s->tags = parse_col(st, 11);
    s->capabilities = parse_col(st, 12);
    snprintf(s->on_failure, sizeof(s->on_failure), "%s", col_text(st, 13));
    s->disable_rollback = sqlite3_column_int(st, 14);
    s->new_template = sqlite3_column_type(st, 15) == SQLITE_NULL ? NULL : emu_col_dup(st, 15);
    s->new_params = parse_col(st, 16);
    s->new_tags = parse_col(st, 17);
    s->new_capabilities = parse_col(st, 18);
    s->retain = parse_col(st, 19);
    snprintf(s->change_set_id, sizeof(s->change_set_id), "%s", col_text(st, 20));
}

/* Finds a stack by name (live stacks only) or by id (deleted too). Store
 * locked. Returns 0 and fills s, or -1. */
static int stack_find(const char *account, const char *region, const char *name_or_id,
                      struct stack_row *s)
{
    sqlite3_stmt *st;
    int rc = -1;
    memset(s, 0, sizeof(*s));
    if (name_or_id == NULL || name_or_id[0] == 0) {
        return -1;
    }
    if (strncmp(name_or_id, "arn:", 4) == 0) {
        st = emu_stmt("SELECT " STACK_COLS
                      " FROM cfn_stacks WHERE account = ?1 AND region = ?2 AND stack_id = ?3");
    } else {
        st = emu_stmt("SELECT " STACK_COLS
                      " FROM cfn_stacks WHERE account = ?1 AND region = ?2 AND name = ?3"
                      " AND status != 'DELETE_COMPLETE' ORDER BY created DESC LIMIT 1");
    }
    if (st == NULL) {
        return -1;
    }
    sqlite3_bind_text(st, 1, account, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, region, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, name_or_id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
        stack_row_read(st, s);
        rc = 0;
    }
    emu_stmt_done(st);
    return rc;
}

static int exec_bind(const char *sql, const char *const *vals, size_t n)
{
    sqlite3_stmt *st = emu_stmt(sql);
    size_t i;
    int rc;
    if (st == NULL) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (vals[i] == NULL) {
            sqlite3_bind_null(st, (int)i + 1);
        } else {
            sqlite3_bind_text(st, (int)i + 1, vals[i], -1, SQLITE_TRANSIENT);
        }
    }
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    emu_stmt_done(st);
    return rc;
}

/* Appends a stack event. Store locked. */
static void event_add(const char *account, const char *region, const char *stack_id,
                      const char *stack_name, const char *logical, const char *physical,
                      const char *type, const char *status, const char *reason, const cJSON *props)
{
    sqlite3_stmt *st =
        emu_stmt("INSERT INTO cfn_events (stack_id, account, region, event_id, stack_name,"
                 " logical_id, physical_id, type, status, reason, ts, properties)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    char id[40];
    char *p = props ? cJSON_PrintUnformatted(props) : NULL;
    if (st == NULL) {
        free(p);
        return;
    }
    emu_uuid(id);
    sqlite3_bind_text(st, 1, stack_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, account, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, region, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, stack_name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, logical, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 7, physical ? physical : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 8, type, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 9, status, -1, SQLITE_TRANSIENT);
    if (reason != NULL && reason[0] != 0) {
        sqlite3_bind_text(st, 10, reason, -1, SQLITE_TRANSIENT);
    }
    sqlite3_bind_double(st, 11, emu_now());
    if (p != NULL) {
        sqlite3_bind_text(st, 12, p, -1, SQLITE_TRANSIENT);
    }
    sqlite3_step(st);
    emu_stmt_done(st);
    free(p);
}

/* ------------------------------------------------------------ the worker */

enum job_kind { JOB_CREATE, JOB_UPDATE, JOB_DELETE, JOB_ROLLBACK };

struct job {
    enum job_kind kind;
    uint64_t seq;
    uint64_t gen; /* q_gen when queued: a reset or restore orphans the job */
    char account[16];
    char region[32];
    char stack_id[300];
    struct job *next;
};

static pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cv = PTHREAD_COND_INITIALIZER;
static struct job *q_head, *q_tail;
static int q_stop;
static int q_started;
static pthread_t q_thread;
static char q_cancel[300]; /* stack id whose update is cancelled */
static char q_running[300];
static pthread_cond_t q_done_cv = PTHREAD_COND_INITIALIZER;
static uint64_t q_next_seq;          /* last sequence number handed out */
static uint64_t q_done_seq;          /* last job finished (jobs finish in order) */
static __thread uint64_t t_last_job; /* the job this thread's handler queued */
static uint64_t q_gen;               /* bumped by a reset or a snapshot restore */
static int q_settle_ms = CFN_SETTLE_MS;

static void *worker_main(void *arg);

static void worker_start_locked(void)
{
    if (!q_started) {
        q_stop = 0;
        if (pthread_create(&q_thread, NULL, worker_main, NULL) == 0) {
            q_started = 1;
        }
    }
}

static void job_push(enum job_kind kind, const char *account, const char *region,
                     const char *stack_id)
{
    struct job *j = calloc(1, sizeof(*j));
    if (j == NULL) {
        return;
    }
    j->kind = kind;
    snprintf(j->account, sizeof(j->account), "%s", account);
    snprintf(j->region, sizeof(j->region), "%s", region);
    snprintf(j->stack_id, sizeof(j->stack_id), "%s", stack_id);
    pthread_mutex_lock(&q_mu);
    j->seq = ++q_next_seq;
    j->gen = q_gen;
    t_last_job = j->seq;
    worker_start_locked();
    if (q_tail != NULL) {
        q_tail->next = j;
    } else {
        q_head = j;
    }
    q_tail = j;
    pthread_cond_signal(&q_cv);
    pthread_mutex_unlock(&q_mu);
}

/* The state of one running stack operation. */
struct op {
    struct job *job;
    struct stack_row row;
    cJSON *tmpl;      /* the template being applied */
    cJSON *resources; /* logicalId -> {"ref", "attrs"} as the template sees them */
    cJSON *exports;
    cJSON *imports; /* export names the template imported */
    struct cfn_ctx ctx;
};

/* Whether the job still belongs to the current state (no reset or
 * restore since it was queued, not shutting down). */
static int op_alive(const struct op *o)
{
    int alive;
    pthread_mutex_lock(&q_mu);
    alive = o->job->gen == q_gen && !q_stop;
    pthread_mutex_unlock(&q_mu);
    return alive;
}

static void op_event(struct op *o, const char *logical, const char *physical, const char *type,
                     const char *status, const char *reason, const cJSON *props)
{
    if (!op_alive(o)) {
        return;
    }
    if (emu_store_begin(1) != 0) {
        return;
    }
    event_add(o->job->account, o->job->region, o->row.stack_id, o->row.name, logical, physical,
              type, status, reason, props);
    emu_store_end(1);
}

/* Sets the stack status (and an event for the stack itself). */
static void op_status(struct op *o, const char *status, const char *reason)
{
    if (!op_alive(o)) {
        return;
    }
    const char *vals[3] = {status, reason && reason[0] ? reason : NULL, o->row.stack_id};
    if (emu_store_begin(1) != 0) {
        return;
    }
    exec_bind("UPDATE cfn_stacks SET status = ?1, reason = ?2 WHERE stack_id = ?3", vals, 3);
    event_add(o->job->account, o->job->region, o->row.stack_id, o->row.name, o->row.name,
              o->row.stack_id, "AWS::CloudFormation::Stack", status, reason, NULL);
    emu_store_end(1);
    snprintf(o->row.status, sizeof(o->row.status), "%s", status);
}

/* Upserts a resource row. */
static void op_res_put(struct op *o, const char *logical, const char *type, const char *physical,
                       const char *status, const char *reason, const cJSON *props,
                       const cJSON *attrs)
{
    if (!op_alive(o)) {
        return;
    }
    sqlite3_stmt *st;
    char *p = props ? cJSON_PrintUnformatted(props) : NULL;
    char *a = attrs ? cJSON_PrintUnformatted(attrs) : NULL;
    if (emu_store_begin(1) != 0) {
        free(p);
        free(a);
        return;
    }
    st = emu_stmt("INSERT INTO cfn_resources (stack_id, account, region, logical_id, type, "
                  "physical_id, status,"
                  " reason, properties, attributes, updated, ord)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
                  " (SELECT COALESCE(MAX(ord), 0) + 1 FROM cfn_resources WHERE stack_id = ?1))"
                  " ON CONFLICT (stack_id, logical_id) DO UPDATE SET type = ?5, physical_id = ?6, "
                  "status = ?7,"
                  " reason = ?8, properties = COALESCE(?9, properties), attributes = COALESCE(?10, "
                  "attributes),"
                  " updated = ?11");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, o->row.stack_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, o->job->account, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, o->job->region, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, logical, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, type, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 6, physical ? physical : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 7, status, -1, SQLITE_TRANSIENT);
        if (reason != NULL && reason[0] != 0) {
            sqlite3_bind_text(st, 8, reason, -1, SQLITE_TRANSIENT);
        }
        if (p != NULL) {
            sqlite3_bind_text(st, 9, p, -1, SQLITE_TRANSIENT);
        }
        if (a != NULL) {
            sqlite3_bind_text(st, 10, a, -1, SQLITE_TRANSIENT);
        }
        sqlite3_bind_double(st, 11, emu_now());
        sqlite3_step(st);
        emu_stmt_done(st);
    }
    emu_store_end(1);
    free(p);
    free(a);
}

static void op_res_forget(struct op *o, const char *logical)
{
    if (!op_alive(o)) {
        return;
    }
    const char *vals[2] = {o->row.stack_id, logical};
    if (emu_store_begin(1) != 0) {
        return;
    }
    exec_bind("DELETE FROM cfn_resources WHERE stack_id = ?1 AND logical_id = ?2", vals, 2);
    emu_store_end(1);
}

/* The stack's resource rows, oldest first: array of {logical, type,
 * physical, status, props, attrs}. */
static cJSON *op_res_load(struct op *o)
{
    cJSON *out = cJSON_CreateArray();
    sqlite3_stmt *st;
    if (emu_store_begin(0) != 0) {
        return out;
    }
    st = emu_stmt(
        "SELECT logical_id, type, physical_id, status, properties, attributes FROM cfn_resources"
        " WHERE stack_id = ?1 ORDER BY ord");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, o->row.stack_id, -1, SQLITE_TRANSIENT);
        while (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *r = cJSON_CreateObject();
            cJSON *p = parse_col(st, 4), *a = parse_col(st, 5);
            cJSON_AddStringToObject(r, "logical", col_text(st, 0));
            cJSON_AddStringToObject(r, "type", col_text(st, 1));
            cJSON_AddStringToObject(r, "physical", col_text(st, 2));
            cJSON_AddStringToObject(r, "status", col_text(st, 3));
            cJSON_AddItemToObject(r, "props", p ? p : cJSON_CreateObject());
            cJSON_AddItemToObject(r, "attrs", a ? a : cJSON_CreateObject());
            cJSON_AddItemToArray(out, r);
        }
        emu_stmt_done(st);
    }
    emu_store_end(1);
    return out;
}

static cJSON *exports_load(const char *account, const char *region)
{
    cJSON *out = cJSON_CreateObject();
    sqlite3_stmt *st =
        emu_stmt("SELECT name, value FROM cfn_exports WHERE account = ?1 AND region = ?2");
    if (st == NULL) {
        return out;
    }
    sqlite3_bind_text(st, 1, account, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, region, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON_AddStringToObject(out, col_text(st, 0), col_text(st, 1));
    }
    emu_stmt_done(st);
    return out;
}

static void resources_set(cJSON *resources, const char *logical, const char *physical,
                          const cJSON *attrs)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "ref", physical ? physical : "");
    cJSON_AddItemToObject(r, "attrs", attrs ? cJSON_Duplicate(attrs, 1) : cJSON_CreateObject());
    cJSON_DeleteItemFromObjectCaseSensitive(resources, logical);
    cJSON_AddItemToObject(resources, logical, r);
}

static int is_cancelled(struct op *o)
{
    int c;
    pthread_mutex_lock(&q_mu);
    c = strcmp(q_cancel, o->row.stack_id) == 0;
    pthread_mutex_unlock(&q_mu);
    return c;
}

static const cJSON *tmpl_res(const cJSON *tmpl, const char *logical)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tmpl, "Resources"),
                                            logical);
}

static const char *def_type(const cJSON *def)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(def, "Type");
    return cJSON_IsString(t) ? t->valuestring : "";
}

static int def_retain(const cJSON *def)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(def, "DeletionPolicy");
    return cJSON_IsString(p) && (strcmp(p->valuestring, "Retain") == 0 ||
                                 strcmp(p->valuestring, "RetainExceptOnCreate") == 0);
}

/* Provisions one resource (create, or create of a replacement when
 * in_progress is UPDATE_IN_PROGRESS). Returns 0 and fills physical/attrs
 * (caller deletes *attrs), or -1 with reason. */
static int provision(struct op *o, const char *logical, const char *type, const cJSON *props,
                     char *physical, size_t plen, cJSON **attrs, char *reason, size_t rlen)
{
    const struct cfn_rtype *t = cfn_rtype_find(type);
    struct cfn_res r;
    *attrs = NULL;
    if (fault_cfn_resource(o->job->account, o->job->region, o->row.name, logical, type, reason,
                           rlen)) {
        if (reason[0] == 0) {
            snprintf(reason, rlen, "Resource creation failed (injected fault)");
        }
        return -1;
    }
    if (t == NULL) {
        snprintf(reason, rlen, "Unsupported resource type %s", type);
        return -1;
    }
    memset(&r, 0, sizeof(r));
    r.account = o->job->account;
    r.region = o->job->region;
    r.stack_name = o->row.name;
    r.logical_id = logical;
    r.type = type;
    r.props = props;
    if (t->create(&r) != 0) {
        snprintf(reason, rlen, "%s", r.err[0] ? r.err : "Resource creation failed");
        if (r.physical_id[0] != 0) {
            /* best effort: undo what a half-done create left behind */
            struct cfn_res d;
            memset(&d, 0, sizeof(d));
            d.account = r.account;
            d.region = r.region;
            d.stack_name = r.stack_name;
            d.logical_id = logical;
            d.type = type;
            d.props = props;
            d.old_props = props;
            snprintf(d.physical_id, sizeof(d.physical_id), "%s", r.physical_id);
            t->del(&d);
            cJSON_Delete(d.attrs);
        }
        cJSON_Delete(r.attrs);
        return -1;
    }
    snprintf(physical, plen, "%s", r.physical_id);
    *attrs = r.attrs ? r.attrs : cJSON_CreateObject();
    return 0;
}

/* Deletes one physical resource. Returns 0 or -1 with reason. */
static int destroy(struct op *o, const char *logical, const char *type, const char *physical,
                   const cJSON *props, const cJSON *attrs, char *reason, size_t rlen)
{
    const struct cfn_rtype *t = cfn_rtype_find(type);
    struct cfn_res r;
    if (t == NULL || physical == NULL || physical[0] == 0) {
        return 0;
    }
    memset(&r, 0, sizeof(r));
    r.account = o->job->account;
    r.region = o->job->region;
    r.stack_name = o->row.name;
    r.logical_id = logical;
    r.type = type;
    r.props = props;
    r.old_props = props;
    r.old_attrs = attrs;
    snprintf(r.physical_id, sizeof(r.physical_id), "%s", physical);
    if (t->del(&r) != 0) {
        snprintf(reason, rlen, "%s", r.err[0] ? r.err : "Resource deletion failed");
        cJSON_Delete(r.attrs);
        return -1;
    }
    cJSON_Delete(r.attrs);
    return 0;
}

/* Updates one resource in place. Returns 0 (attrs out) or -1 with reason. */
static int modify(struct op *o, const char *logical, const char *type, const char *physical,
                  const cJSON *old_props, const cJSON *old_attrs, const cJSON *props, cJSON **attrs,
                  char *reason, size_t rlen, int faults)
{
    const struct cfn_rtype *t = cfn_rtype_find(type);
    struct cfn_res r;
    *attrs = NULL;
    if (faults && fault_cfn_resource(o->job->account, o->job->region, o->row.name, logical, type,
                                     reason, rlen)) {
        if (reason[0] == 0) {
            snprintf(reason, rlen, "Resource update failed (injected fault)");
        }
        return -1;
    }
    if (t == NULL || t->update == NULL) {
        snprintf(reason, rlen, "Unsupported resource type %s", type);
        return -1;
    }
    memset(&r, 0, sizeof(r));
    r.account = o->job->account;
    r.region = o->job->region;
    r.stack_name = o->row.name;
    r.logical_id = logical;
    r.type = type;
    r.props = props;
    r.old_props = old_props;
    r.old_attrs = old_attrs;
    snprintf(r.physical_id, sizeof(r.physical_id), "%s", physical);
    if (t->update(&r) != 0) {
        snprintf(reason, rlen, "%s", r.err[0] ? r.err : "Resource update failed");
        cJSON_Delete(r.attrs);
        return -1;
    }
    *attrs = r.attrs ? r.attrs : (old_attrs ? cJSON_Duplicate(old_attrs, 1) : cJSON_CreateObject());
    return 0;
}

/* Whether another live stack imports export name; who gets its name.
 * Store locked. Returns 1 or 0. */
static int export_user(const char *account, const char *region, const char *stack_id,
                       const char *name, char *who, size_t wlen)
{
    sqlite3_stmt *st = emu_stmt("SELECT name, imports FROM cfn_stacks WHERE account = ?1 AND"
                                " region = ?2 AND stack_id != ?3 AND status != 'DELETE_COMPLETE'"
                                " AND imports IS NOT NULL");
    int found = 0;
    if (st == NULL) {
        return 0;
    }
    sqlite3_bind_text(st, 1, account, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, region, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, stack_id, -1, SQLITE_TRANSIENT);
    while (!found && sqlite3_step(st) == SQLITE_ROW) {
        cJSON *imports = parse_col(st, 1);
        const cJSON *it;
        cJSON_ArrayForEach(it, imports)
        {
            if (cJSON_IsString(it) && strcmp(it->valuestring, name) == 0) {
                snprintf(who, wlen, "%s", col_text(st, 0));
                found = 1;
            }
        }
        cJSON_Delete(imports);
    }
    emu_stmt_done(st);
    return found;
}

/* The stack's current exports: name -> value. Store locked. */
static cJSON *own_exports(const char *stack_id)
{
    cJSON *out = cJSON_CreateObject();
    sqlite3_stmt *st = emu_stmt("SELECT name, value FROM cfn_exports WHERE stack_id = ?1");
    if (st == NULL) {
        return out;
    }
    sqlite3_bind_text(st, 1, stack_id, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON_AddStringToObject(out, col_text(st, 0), col_text(st, 1));
    }
    emu_stmt_done(st);
    return out;
}

/* Evaluates outputs and records them and their exports. Returns 0, or -1
 * with reason. */
static int op_outputs(struct op *o, char *reason, size_t rlen)
{
    if (!op_alive(o)) {
        snprintf(reason, rlen, "Stack operation abandoned: greenroom was reset");
        return -1;
    }
    cJSON *outs = cfn_outputs(&o->ctx);
    const cJSON *it;
    char *txt;
    int rc = 0;
    if (outs == NULL) {
        snprintf(reason, rlen, "%s", o->ctx.err);
        return -1;
    }
    if (emu_store_begin(1) != 0) {
        cJSON_Delete(outs);
        snprintf(reason, rlen, "Internal failure");
        return -1;
    }
    cJSON_ArrayForEach(it, outs)
    {
        const cJSON *en = cJSON_GetObjectItemCaseSensitive(it, "ExportName");
        sqlite3_stmt *st;
        if (!cJSON_IsString(en)) {
            continue;
        }
        st = emu_stmt(
            "SELECT stack_id FROM cfn_exports WHERE account = ?1 AND region = ?2 AND name = ?3");
        if (st == NULL) {
            continue;
        }
        sqlite3_bind_text(st, 1, o->job->account, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, o->job->region, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, en->valuestring, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW && strcmp(col_text(st, 0), o->row.stack_id) != 0) {
            const char *other = col_text(st, 0);
            const char *slash = strstr(other, ":stack/");
            char oname[200] = "";
            if (slash != NULL) {
                const char *e;
                slash += 7;
                e = strchr(slash, '/');
                snprintf(oname, sizeof(oname), "%.*s", (int)(e ? e - slash : (long)strlen(slash)),
                         slash);
            }
            snprintf(reason, rlen, "Export with name %s is already exported by stack %s",
                     en->valuestring, oname);
            rc = -1;
        }
        emu_stmt_done(st);
        if (rc != 0) {
            break;
        }
    }
    if (rc == 0) {
        /* an export another stack imports can be neither removed nor changed */
        cJSON *old = own_exports(o->row.stack_id);
        const cJSON *e;
        cJSON_ArrayForEach(e, old)
        {
            const cJSON *now = NULL;
            char who[200];
            cJSON_ArrayForEach(it, outs)
            {
                const cJSON *en = cJSON_GetObjectItemCaseSensitive(it, "ExportName");
                if (cJSON_IsString(en) && strcmp(en->valuestring, e->string) == 0) {
                    now = cJSON_GetObjectItemCaseSensitive(it, "OutputValue");
                }
            }
            if (now != NULL && strcmp(now->valuestring, e->valuestring) == 0) {
                continue;
            }
            if (export_user(o->job->account, o->job->region, o->row.stack_id, e->string, who,
                            sizeof(who))) {
                if (now == NULL) {
                    snprintf(reason, rlen, "Export %s cannot be deleted as it is in use by %s",
                             e->string, who);
                } else {
                    snprintf(reason, rlen, "Cannot update export %s as it is in use by %s",
                             e->string, who);
                }
                rc = -1;
                break;
            }
        }
        cJSON_Delete(old);
    }
    if (rc == 0) {
        const char *vals[2] = {o->row.stack_id, NULL};
        char *imp = cJSON_PrintUnformatted(o->imports);
        exec_bind("DELETE FROM cfn_exports WHERE stack_id = ?1", vals, 1);
        vals[0] = imp;
        vals[1] = o->row.stack_id;
        exec_bind("UPDATE cfn_stacks SET imports = ?1 WHERE stack_id = ?2", vals, 2);
        free(imp);
        vals[0] = o->row.stack_id;
        vals[1] = NULL;
        cJSON_ArrayForEach(it, outs)
        {
            const cJSON *en = cJSON_GetObjectItemCaseSensitive(it, "ExportName");
            if (cJSON_IsString(en)) {
                const char *ev[5] = {
                    o->job->account, o->job->region, en->valuestring,
                    cJSON_GetObjectItemCaseSensitive(it, "OutputValue")->valuestring,
                    o->row.stack_id};
                exec_bind(
                    "INSERT OR REPLACE INTO cfn_exports (account, region, name, value, stack_id)"
                    " VALUES (?1, ?2, ?3, ?4, ?5)",
                    ev, 5);
            }
        }
        txt = cJSON_PrintUnformatted(outs);
        vals[0] = txt;
        vals[1] = o->row.stack_id;
        exec_bind("UPDATE cfn_stacks SET outputs = ?1 WHERE stack_id = ?2", vals, 2);
        free(txt);
    }
    emu_store_end(rc == 0);
    cJSON_Delete(outs);
    return rc;
}

/* Deletes the stack's resources newest first. Returns the number that
 * failed; names them in failed (array). skip_retain: honour Retain. */
static int delete_all(struct op *o, const cJSON *tmpl, int honour_retain, cJSON *failed,
                      const cJSON *retain_list)
{
    cJSON *rows = op_res_load(o);
    int n = cJSON_GetArraySize(rows), i, nfail = 0;
    for (i = n - 1; i >= 0; i--) {
        const cJSON *row = cJSON_GetArrayItem(rows, i);
        const char *logical = cJSON_GetObjectItemCaseSensitive(row, "logical")->valuestring;
        const char *type = cJSON_GetObjectItemCaseSensitive(row, "type")->valuestring;
        const char *physical = cJSON_GetObjectItemCaseSensitive(row, "physical")->valuestring;
        const char *status = cJSON_GetObjectItemCaseSensitive(row, "status")->valuestring;
        const cJSON *props = cJSON_GetObjectItemCaseSensitive(row, "props");
        const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(row, "attrs");
        char reason[1024] = "";
        int retained = 0;
        const cJSON *it;
        if (!op_alive(o)) {
            break;
        }
        cJSON_ArrayForEach(it, retain_list)
        {
            if (cJSON_IsString(it) && strcmp(it->valuestring, logical) == 0) {
                retained = 1;
            }
        }
        if (honour_retain && def_retain(tmpl_res(tmpl, logical))) {
            retained = 1;
        }
        if (strcmp(status, "DELETE_COMPLETE") == 0 || strcmp(status, "DELETE_SKIPPED") == 0) {
            continue;
        }
        if (retained) {
            op_event(o, logical, physical, type, "DELETE_SKIPPED", NULL, NULL);
            op_res_put(o, logical, type, physical, "DELETE_SKIPPED", NULL, NULL, NULL);
            continue;
        }
        if (strcmp(status, "CREATE_FAILED") == 0 || physical[0] == 0) {
            op_event(o, logical, physical, type, "DELETE_COMPLETE", NULL, NULL);
            op_res_put(o, logical, type, physical, "DELETE_COMPLETE", NULL, NULL, NULL);
            continue;
        }
        op_event(o, logical, physical, type, "DELETE_IN_PROGRESS", NULL, NULL);
        if (destroy(o, logical, type, physical, props, attrs, reason, sizeof(reason)) != 0) {
            op_event(o, logical, physical, type, "DELETE_FAILED", reason, NULL);
            op_res_put(o, logical, type, physical, "DELETE_FAILED", reason, NULL, NULL);
            cJSON_AddItemToArray(failed, cJSON_CreateString(logical));
            nfail++;
            continue;
        }
        op_event(o, logical, physical, type, "DELETE_COMPLETE", NULL, NULL);
        op_res_put(o, logical, type, physical, "DELETE_COMPLETE", NULL, NULL, NULL);
    }
    cJSON_Delete(rows);
    return nfail;
}

static void op_mark_deleted(struct op *o)
{
    if (!op_alive(o)) {
        return;
    }
    char now[32];
    const char *vals[2];
    snprintf(now, sizeof(now), "%.6f", emu_now());
    vals[0] = now;
    vals[1] = o->row.stack_id;
    if (emu_store_begin(1) != 0) {
        return;
    }
    exec_bind("UPDATE cfn_stacks SET deleted = ?1 WHERE stack_id = ?2", vals, 2);
    exec_bind("DELETE FROM cfn_exports WHERE stack_id = ?2 OR ?1 IS NULL", vals, 2);
    exec_bind("DELETE FROM cfn_changesets WHERE stack_id = ?2 OR ?1 IS NULL", vals, 2);
    emu_store_end(1);
}

static void op_changeset_done(struct op *o, int ok)
{
    if (!op_alive(o)) {
        return;
    }
    const char *vals[2] = {ok ? "EXECUTE_COMPLETE" : "EXECUTE_FAILED", o->row.stack_id};
    if (emu_store_begin(1) != 0) {
        return;
    }
    exec_bind("UPDATE cfn_changesets SET exec_status = ?1 WHERE stack_id = ?2 AND exec_status = "
              "'EXECUTE_IN_PROGRESS'",
              vals, 2);
    emu_store_end(1);
}

/* Prepares the evaluation context for tmpl/params. Returns 0 or -1. */
static int op_ctx(struct op *o, const char *body, const cJSON *params, char *reason, size_t rlen)
{
    cfn_ctx_release(&o->ctx);
    cJSON_Delete(o->tmpl);
    o->tmpl = cfn_template_parse(body ? body : "", body ? strlen(body) : 0, reason, rlen);
    if (o->tmpl == NULL) {
        return -1;
    }
    memset(&o->ctx, 0, sizeof(o->ctx));
    o->ctx.account = o->job->account;
    o->ctx.region = o->job->region;
    o->ctx.stack_name = o->row.name;
    o->ctx.stack_id = o->row.stack_id;
    o->ctx.tmpl = o->tmpl;
    o->ctx.params = params ? cJSON_Duplicate(params, 1) : cJSON_CreateObject();
    o->ctx.resources = o->resources;
    o->ctx.exports = o->exports;
    o->ctx.imports = o->imports;
    if (cfn_conditions_eval(&o->ctx) < 0) {
        snprintf(reason, rlen, "%s", o->ctx.err);
        return -1;
    }
    return 0;
}

static void run_create(struct op *o)
{
    cJSON *order = NULL, *created = cJSON_CreateArray(), *failed = cJSON_CreateArray();
    const cJSON *it;
    char reason[1200] = "", list[900];
    int ok = 1;
    if (strcmp(o->row.status, "CREATE_IN_PROGRESS") != 0) {
        op_status(o, "CREATE_IN_PROGRESS", "User Initiated");
    }
    if (op_ctx(o, o->row.template, o->row.params, reason, sizeof(reason)) < 0 ||
        (order = cfn_order(&o->ctx)) == NULL) {
        if (reason[0] == 0) {
            snprintf(reason, sizeof(reason), "%s", o->ctx.err);
        }
        ok = 0;
    }
    cJSON_ArrayForEach(it, order)
    {
        const char *logical = it->valuestring;
        const cJSON *def = tmpl_res(o->tmpl, logical);
        const char *type = def_type(def);
        cJSON *props, *attrs = NULL;
        char physical[1024] = "";
        char rreason[1024] = "";
        if (!op_alive(o)) {
            props = NULL;
            ok = 0;
            break;
        }
        op_event(o, logical, "", type, "CREATE_IN_PROGRESS", NULL, NULL);
        props = cfn_eval(&o->ctx, cJSON_GetObjectItemCaseSensitive(def, "Properties"));
        if (props == NULL) {
            snprintf(rreason, sizeof(rreason), "%s", o->ctx.err);
        } else if (cJSON_IsNull(props)) {
            cJSON_Delete(props);
            props = cJSON_CreateObject();
        }
        if (props == NULL || provision(o, logical, type, props, physical, sizeof(physical), &attrs,
                                       rreason, sizeof(rreason)) != 0) {
            op_event(o, logical, physical, type, "CREATE_FAILED", rreason, props);
            op_res_put(o, logical, type, physical, "CREATE_FAILED", rreason, props, NULL);
            cJSON_AddItemToArray(failed, cJSON_CreateString(logical));
            cJSON_Delete(props);
            ok = 0;
            break;
        }
        resources_set(o->resources, logical, physical, attrs);
        op_event(o, logical, physical, type, "CREATE_COMPLETE", NULL, props);
        op_res_put(o, logical, type, physical, "CREATE_COMPLETE", NULL, props, attrs);
        cJSON_AddItemToArray(created, cJSON_CreateString(logical));
        cJSON_Delete(props);
        cJSON_Delete(attrs);
    }
    if (ok && op_outputs(o, reason, sizeof(reason)) != 0) {
        ok = 0;
    }
    if (ok) {
        op_status(o, "CREATE_COMPLETE", NULL);
        op_changeset_done(o, 1);
        goto out;
    }
    if (cJSON_GetArraySize(failed) > 0) {
        cfn_names_join(failed, list, sizeof(list));
        snprintf(reason, sizeof(reason), "The following resource(s) failed to create: [%s]. ",
                 list);
    }
    op_changeset_done(o, 0);
    if (o->row.disable_rollback || strcmp(o->row.on_failure, "DO_NOTHING") == 0) {
        op_status(o, "CREATE_FAILED", reason);
        goto out;
    }
    {
        char rb[1300];
        snprintf(rb, sizeof(rb), "%sRollback requested by user.", reason);
        op_status(o, "ROLLBACK_IN_PROGRESS", rb);
    }
    {
        cJSON *dfail = cJSON_CreateArray();
        int nfail = delete_all(o, o->tmpl, 0, dfail, NULL);
        if (nfail > 0) {
            cfn_names_join(dfail, list, sizeof(list));
            snprintf(reason, sizeof(reason), "The following resource(s) failed to delete: [%s]. ",
                     list);
            op_status(o, "ROLLBACK_FAILED", reason);
            cJSON_Delete(dfail);
            goto out;
        }
        cJSON_Delete(dfail);
    }
    {
        char rb[1300];
        snprintf(rb, sizeof(rb), "%sRollback requested by user.", reason);
        op_status(o, "ROLLBACK_COMPLETE", rb);
    }
    if (strcmp(o->row.on_failure, "DELETE") == 0) {
        /* the reason stays: it is what a client polling the stack id shows */
        op_status(o, "DELETE_IN_PROGRESS", reason);
        op_status(o, "DELETE_COMPLETE", reason);
        op_mark_deleted(o);
    }
out:
    cJSON_Delete(order);
    cJSON_Delete(created);
    cJSON_Delete(failed);
}

/* Rolls back a create that was interrupted (greenroom stopped mid-way):
 * deletes what the stack recorded as created. */
static void run_rollback(struct op *o)
{
    cJSON *failed = cJSON_CreateArray();
    char reason[1200] = "", list[900];
    o->tmpl = o->row.template ? cfn_template_parse(o->row.template, strlen(o->row.template), reason,
                                                   sizeof(reason))
                              : NULL;
    reason[0] = 0;
    if (delete_all(o, o->tmpl, 0, failed, NULL) > 0) {
        cfn_names_join(failed, list, sizeof(list));
        snprintf(reason, sizeof(reason), "The following resource(s) failed to delete: [%s]. ",
                 list);
        op_status(o, "ROLLBACK_FAILED", reason);
    } else {
        op_status(o, "ROLLBACK_COMPLETE", o->row.reason);
        if (strcmp(o->row.on_failure, "DELETE") == 0) {
            op_status(o, "DELETE_IN_PROGRESS", NULL);
            op_status(o, "DELETE_COMPLETE", NULL);
            op_mark_deleted(o);
        }
    }
    cJSON_Delete(failed);
}

static void run_delete(struct op *o)
{
    cJSON *failed = cJSON_CreateArray();
    char reason[1200] = "", list[900];
    int nfail;
    if (strcmp(o->row.status, "DELETE_IN_PROGRESS") != 0) {
        op_status(o, "DELETE_IN_PROGRESS", "User Initiated");
    } else {
        op_event(o, o->row.name, o->row.stack_id, "AWS::CloudFormation::Stack",
                 "DELETE_IN_PROGRESS", "User Initiated", NULL);
    }
    {
        /* exports another stack imports keep the stack */
        char who[200] = "";
        int used = 0;
        if (emu_store_begin(0) == 0) {
            cJSON *mine = own_exports(o->row.stack_id);
            const cJSON *e;
            cJSON_ArrayForEach(e, mine)
            {
                if (!used && export_user(o->job->account, o->job->region, o->row.stack_id,
                                         e->string, who, sizeof(who))) {
                    snprintf(reason, sizeof(reason),
                             "Export %s cannot be deleted as it is in use by %s", e->string, who);
                    used = 1;
                }
            }
            cJSON_Delete(mine);
            emu_store_end(1);
        }
        if (used) {
            op_status(o, "DELETE_FAILED", reason);
            cJSON_Delete(failed);
            return;
        }
    }
    o->tmpl = o->row.template ? cfn_template_parse(o->row.template, strlen(o->row.template), reason,
                                                   sizeof(reason))
                              : NULL;
    nfail = delete_all(o, o->tmpl, 1, failed, o->row.retain);
    if (nfail > 0) {
        cfn_names_join(failed, list, sizeof(list));
        snprintf(reason, sizeof(reason), "The following resource(s) failed to delete: [%s]. ",
                 list);
        op_status(o, "DELETE_FAILED", reason);
    } else {
        op_status(o, "DELETE_COMPLETE", NULL);
        op_mark_deleted(o);
    }
    cJSON_Delete(failed);
}

/* One step of an update, remembered for the rollback. */
static void journal_add(cJSON *journal, const char *kind, const char *logical, const cJSON *old_row,
                        const char *new_physical, const cJSON *new_props, const cJSON *new_attrs,
                        const char *type)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "kind", kind);
    cJSON_AddStringToObject(j, "logical", logical);
    cJSON_AddStringToObject(j, "type", type);
    if (old_row != NULL) {
        cJSON_AddItemToObject(j, "old", cJSON_Duplicate(old_row, 1));
    }
    cJSON_AddStringToObject(j, "physical", new_physical ? new_physical : "");
    cJSON_AddItemToObject(j, "props",
                          new_props ? cJSON_Duplicate(new_props, 1) : cJSON_CreateObject());
    cJSON_AddItemToObject(j, "attrs",
                          new_attrs ? cJSON_Duplicate(new_attrs, 1) : cJSON_CreateObject());
    cJSON_AddItemToArray(journal, j);
}

static const cJSON *row_find(const cJSON *rows, const char *logical)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, rows)
    {
        if (strcmp(cJSON_GetObjectItemCaseSensitive(it, "logical")->valuestring, logical) == 0) {
            return it;
        }
    }
    return NULL;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Commits the new template, parameters, tags and capabilities. */
static void op_commit_update(struct op *o)
{
    if (!op_alive(o)) {
        return;
    }
    char *p = o->row.new_params ? cJSON_PrintUnformatted(o->row.new_params) : NULL;
    char *t = o->row.new_tags ? cJSON_PrintUnformatted(o->row.new_tags) : NULL;
    char *c = o->row.new_capabilities ? cJSON_PrintUnformatted(o->row.new_capabilities) : NULL;
    char now[32];
    const char *vals[6];
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(o->tmpl, "Description");
    snprintf(now, sizeof(now), "%.6f", emu_now());
    vals[0] = o->row.new_template;
    vals[1] = p;
    vals[2] = t;
    vals[3] = c;
    vals[4] = cJSON_IsString(d) ? d->valuestring : NULL;
    vals[5] = o->row.stack_id;
    if (emu_store_begin(1) == 0) {
        exec_bind(
            "UPDATE cfn_stacks SET template = ?1, params = ?2, tags = COALESCE(?3, tags),"
            " capabilities = COALESCE(?4, capabilities), description = ?5, new_template = NULL,"
            " new_params = NULL, new_tags = NULL, new_capabilities = NULL WHERE stack_id = ?6",
            vals, 6);
        vals[0] = now;
        vals[1] = o->row.stack_id;
        exec_bind("UPDATE cfn_stacks SET updated = ?1 WHERE stack_id = ?2", vals, 2);
        emu_store_end(1);
    }
    free(p);
    free(t);
    free(c);
}

static void op_drop_pending(struct op *o)
{
    if (!op_alive(o)) {
        return;
    }
    const char *vals[1] = {o->row.stack_id};
    char now[32];
    const char *v2[2];
    snprintf(now, sizeof(now), "%.6f", emu_now());
    v2[0] = now;
    v2[1] = o->row.stack_id;
    if (emu_store_begin(1) == 0) {
        exec_bind("UPDATE cfn_stacks SET new_template = NULL, new_params = NULL, new_tags = NULL,"
                  " new_capabilities = NULL WHERE stack_id = ?1",
                  vals, 1);
        exec_bind("UPDATE cfn_stacks SET updated = ?1 WHERE stack_id = ?2", v2, 2);
        emu_store_end(1);
    }
}

static void run_update(struct op *o)
{
    cJSON *rows = op_res_load(o);
    cJSON *order = NULL, *journal = cJSON_CreateArray(), *failed = cJSON_CreateArray();
    cJSON *old_tmpl = NULL;
    const cJSON *it;
    char reason[1200] = "", list[900];
    const char *fail_verb = "update";
    int ok = 1, i, n;
    op_status(o, "UPDATE_IN_PROGRESS", "User Initiated");
    cJSON_ArrayForEach(it, rows)
    {
        resources_set(o->resources, jstr(it, "logical"), jstr(it, "physical"),
                      cJSON_GetObjectItemCaseSensitive(it, "attrs"));
    }
    old_tmpl = o->row.template ? cfn_template_parse(o->row.template, strlen(o->row.template),
                                                    reason, sizeof(reason))
                               : NULL;
    reason[0] = 0;
    if (op_ctx(o, o->row.new_template, o->row.new_params, reason, sizeof(reason)) < 0 ||
        (order = cfn_order(&o->ctx)) == NULL) {
        if (reason[0] == 0) {
            snprintf(reason, sizeof(reason), "%s", o->ctx.err);
        }
        ok = 0;
    }
    cJSON_ArrayForEach(it, order)
    {
        const char *logical = it->valuestring;
        const cJSON *def = tmpl_res(o->tmpl, logical);
        const char *type = def_type(def);
        const cJSON *row = row_find(rows, logical);
        const struct cfn_rtype *rt = cfn_rtype_find(type);
        cJSON *props, *attrs = NULL;
        char physical[1024] = "";
        char rreason[1024] = "";
        if (!op_alive(o)) {
            ok = 0;
            break;
        }
        if (is_cancelled(o)) {
            snprintf(reason, sizeof(reason), "Stack update cancelled");
            ok = 0;
            break;
        }
        props = cfn_eval(&o->ctx, cJSON_GetObjectItemCaseSensitive(def, "Properties"));
        if (props != NULL && cJSON_IsNull(props)) {
            cJSON_Delete(props);
            props = cJSON_CreateObject();
        }
        if (row == NULL || strcmp(jstr(row, "status"), "DELETE_COMPLETE") == 0 ||
            strcmp(jstr(row, "status"), "CREATE_FAILED") == 0) {
            op_event(o, logical, "", type, "CREATE_IN_PROGRESS", NULL, NULL);
            if (props == NULL) {
                snprintf(rreason, sizeof(rreason), "%s", o->ctx.err);
            }
            if (props == NULL || provision(o, logical, type, props, physical, sizeof(physical),
                                           &attrs, rreason, sizeof(rreason)) != 0) {
                op_event(o, logical, physical, type, "CREATE_FAILED", rreason, props);
                op_res_put(o, logical, type, physical, "CREATE_FAILED", rreason, props, NULL);
                journal_add(journal, "add", logical, NULL, "", props, NULL, type);
                cJSON_AddItemToArray(failed, cJSON_CreateString(logical));
                fail_verb = "create";
                cJSON_Delete(props);
                ok = 0;
                break;
            }
            resources_set(o->resources, logical, physical, attrs);
            op_event(o, logical, physical, type, "CREATE_COMPLETE", NULL, props);
            op_res_put(o, logical, type, physical, "CREATE_COMPLETE", NULL, props, attrs);
            journal_add(journal, "add", logical, NULL, physical, props, attrs, type);
            cJSON_Delete(props);
            cJSON_Delete(attrs);
            continue;
        }
        if (props == NULL) {
            op_event(o, logical, jstr(row, "physical"), type, "UPDATE_FAILED", o->ctx.err, NULL);
            snprintf(reason, sizeof(reason), "%s", o->ctx.err);
            cJSON_AddItemToArray(failed, cJSON_CreateString(logical));
            ok = 0;
            break;
        }
        if (strcmp(jstr(row, "type"), type) == 0 &&
            cJSON_Compare(props, cJSON_GetObjectItemCaseSensitive(row, "props"), 1)) {
            cJSON_Delete(props);
            continue;
        }
        if (strcmp(jstr(row, "type"), type) != 0 || rt == NULL ||
            cfn_rtype_replaces(rt, cJSON_GetObjectItemCaseSensitive(row, "props"), props)) {
            /* replacement */
            const char *np = rt ? rt->name_prop : NULL;
            if (np != NULL && strcmp(jstr(row, "type"), type) == 0 &&
                cJSON_GetObjectItemCaseSensitive(props, np) != NULL &&
                cJSON_Compare(cJSON_GetObjectItemCaseSensitive(props, np),
                              cJSON_GetObjectItemCaseSensitive(
                                  cJSON_GetObjectItemCaseSensitive(row, "props"), np),
                              1)) {
                snprintf(rreason, sizeof(rreason),
                         "CloudFormation cannot update a stack when a custom-named resource "
                         "requires replacing. Rename %s and update the stack again.",
                         jstr(cJSON_GetObjectItemCaseSensitive(row, "props"), np));
                op_event(o, logical, jstr(row, "physical"), type, "UPDATE_FAILED", rreason, props);
                op_res_put(o, logical, type, jstr(row, "physical"), "UPDATE_FAILED", rreason, NULL,
                           NULL);
                cJSON_AddItemToArray(failed, cJSON_CreateString(logical));
                cJSON_Delete(props);
                ok = 0;
                break;
            }
            op_event(o, logical, jstr(row, "physical"), type, "UPDATE_IN_PROGRESS",
                     "Requested update requires the creation of a new physical resource; hence "
                     "creating one.",
                     props);
            if (provision(o, logical, type, props, physical, sizeof(physical), &attrs, rreason,
                          sizeof(rreason)) != 0) {
                op_event(o, logical, jstr(row, "physical"), type, "UPDATE_FAILED", rreason, props);
                op_res_put(o, logical, jstr(row, "type"), jstr(row, "physical"), "UPDATE_FAILED",
                           rreason, NULL, NULL);
                cJSON_AddItemToArray(failed, cJSON_CreateString(logical));
                cJSON_Delete(props);
                ok = 0;
                break;
            }
            resources_set(o->resources, logical, physical, attrs);
            op_event(o, logical, physical, type, "UPDATE_IN_PROGRESS",
                     "Resource creation Initiated", props);
            op_event(o, logical, physical, type, "UPDATE_COMPLETE", NULL, props);
            op_res_put(o, logical, type, physical, "UPDATE_COMPLETE", NULL, props, attrs);
            journal_add(journal, "replace", logical, row, physical, props, attrs, type);
            cJSON_Delete(props);
            cJSON_Delete(attrs);
            continue;
        }
        op_event(o, logical, jstr(row, "physical"), type, "UPDATE_IN_PROGRESS", NULL, props);
        if (modify(o, logical, type, jstr(row, "physical"),
                   cJSON_GetObjectItemCaseSensitive(row, "props"),
                   cJSON_GetObjectItemCaseSensitive(row, "attrs"), props, &attrs, rreason,
                   sizeof(rreason), 1) != 0) {
            op_event(o, logical, jstr(row, "physical"), type, "UPDATE_FAILED", rreason, props);
            op_res_put(o, logical, type, jstr(row, "physical"), "UPDATE_FAILED", rreason, NULL,
                       NULL);
            /* the failed update may have half-applied: restore it too */
            journal_add(journal, "revert", logical, row, jstr(row, "physical"), props, NULL, type);
            cJSON_AddItemToArray(failed, cJSON_CreateString(logical));
            cJSON_Delete(props);
            ok = 0;
            break;
        }
        resources_set(o->resources, logical, jstr(row, "physical"), attrs);
        op_event(o, logical, jstr(row, "physical"), type, "UPDATE_COMPLETE", NULL, props);
        op_res_put(o, logical, type, jstr(row, "physical"), "UPDATE_COMPLETE", NULL, props, attrs);
        journal_add(journal, "modify", logical, row, jstr(row, "physical"), props, attrs, type);
        cJSON_Delete(props);
        cJSON_Delete(attrs);
    }
    if (ok) {
        /* outputs, the new template and the move to cleanup in one
         * transaction, after a last look at CancelUpdateStack (which checks
         * the status and raises the flag under the same store lock) */
        int committed = 0;
        if (emu_store_begin(1) == 0) {
            if (is_cancelled(o)) {
                snprintf(reason, sizeof(reason), "Stack update cancelled");
                emu_store_end(1);
            } else if (op_outputs(o, reason, sizeof(reason)) != 0) {
                emu_store_end(0);
            } else {
                op_commit_update(o);
                op_status(o, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", NULL);
                committed = emu_store_end(1) == 0;
            }
        }
        ok = committed;
    }
    if (ok) {
        /* cleanup: resources no longer in the template, replaced ones */
        n = cJSON_GetArraySize(journal);
        for (i = n - 1; i >= 0; i--) {
            const cJSON *j = cJSON_GetArrayItem(journal, i);
            const cJSON *old = cJSON_GetObjectItemCaseSensitive(j, "old");
            char rreason[1024] = "";
            if (strcmp(jstr(j, "kind"), "replace") != 0) {
                continue;
            }
            {
                const cJSON *pol = cJSON_GetObjectItemCaseSensitive(
                    tmpl_res(o->tmpl, jstr(j, "logical")), "UpdateReplacePolicy");
                if (cJSON_IsString(pol) && strcmp(pol->valuestring, "Retain") == 0) {
                    op_event(o, jstr(j, "logical"), jstr(old, "physical"), jstr(old, "type"),
                             "DELETE_SKIPPED", NULL, NULL);
                    continue;
                }
            }
            op_event(o, jstr(j, "logical"), jstr(old, "physical"), jstr(old, "type"),
                     "DELETE_IN_PROGRESS", NULL, NULL);
            if (destroy(o, jstr(j, "logical"), jstr(old, "type"), jstr(old, "physical"),
                        cJSON_GetObjectItemCaseSensitive(old, "props"),
                        cJSON_GetObjectItemCaseSensitive(old, "attrs"), rreason,
                        sizeof(rreason)) != 0) {
                op_event(o, jstr(j, "logical"), jstr(old, "physical"), jstr(old, "type"),
                         "DELETE_FAILED", rreason, NULL);
            } else {
                op_event(o, jstr(j, "logical"), jstr(old, "physical"), jstr(old, "type"),
                         "DELETE_COMPLETE", NULL, NULL);
            }
        }
        n = cJSON_GetArraySize(rows);
        for (i = n - 1; i >= 0; i--) {
            const cJSON *row = cJSON_GetArrayItem(rows, i);
            const char *logical = jstr(row, "logical");
            char rreason[1024] = "";
            int listed = 0;
            const cJSON *x;
            cJSON_ArrayForEach(x, order)
            {
                if (strcmp(x->valuestring, logical) == 0) {
                    listed = 1;
                }
            }
            if (listed) {
                continue;
            }
            if (strcmp(jstr(row, "status"), "DELETE_COMPLETE") == 0) {
                op_res_forget(o, logical);
                continue;
            }
            if (def_retain(tmpl_res(old_tmpl, logical))) {
                op_event(o, logical, jstr(row, "physical"), jstr(row, "type"), "DELETE_SKIPPED",
                         NULL, NULL);
                op_res_forget(o, logical);
                continue;
            }
            op_event(o, logical, jstr(row, "physical"), jstr(row, "type"), "DELETE_IN_PROGRESS",
                     NULL, NULL);
            if (strcmp(jstr(row, "status"), "CREATE_FAILED") != 0 &&
                destroy(o, logical, jstr(row, "type"), jstr(row, "physical"),
                        cJSON_GetObjectItemCaseSensitive(row, "props"),
                        cJSON_GetObjectItemCaseSensitive(row, "attrs"), rreason,
                        sizeof(rreason)) != 0) {
                op_event(o, logical, jstr(row, "physical"), jstr(row, "type"), "DELETE_FAILED",
                         rreason, NULL);
                op_res_forget(o, logical);
                continue;
            }
            op_event(o, logical, jstr(row, "physical"), jstr(row, "type"), "DELETE_COMPLETE", NULL,
                     NULL);
            op_res_forget(o, logical);
        }
        op_status(o, "UPDATE_COMPLETE", NULL);
        op_changeset_done(o, 1);
        goto out;
    }
    /* failure */
    if (cJSON_GetArraySize(failed) > 0) {
        cfn_names_join(failed, list, sizeof(list));
        snprintf(reason, sizeof(reason), "The following resource(s) failed to %s: [%s]. ",
                 fail_verb, list);
    }
    op_changeset_done(o, 0);
    if (o->row.disable_rollback) {
        op_drop_pending(o);
        op_status(o, "UPDATE_FAILED", reason);
        goto out;
    }
    op_status(o, "UPDATE_ROLLBACK_IN_PROGRESS", reason);
    {
        int rb_ok = 1;
        n = cJSON_GetArraySize(journal);
        /* restore in reverse: updated resources get their old properties,
         * replaced ones their old physical resource, new ones are removed */
        for (i = n - 1; i >= 0; i--) {
            const cJSON *j = cJSON_GetArrayItem(journal, i);
            const cJSON *old = cJSON_GetObjectItemCaseSensitive(j, "old");
            const char *kind = jstr(j, "kind");
            const char *logical = jstr(j, "logical");
            char rreason[1024] = "";
            if (strcmp(kind, "modify") == 0 || strcmp(kind, "revert") == 0) {
                /* "revert": the resource whose update failed; putting its old
                 * properties back is best effort (the failed call usually
                 * changed nothing), so its failure does not fail the rollback */
                int best_effort = strcmp(kind, "revert") == 0;
                cJSON *attrs = NULL;
                op_event(o, logical, jstr(old, "physical"), jstr(old, "type"), "UPDATE_IN_PROGRESS",
                         NULL, NULL);
                if (modify(o, logical, jstr(old, "type"), jstr(old, "physical"),
                           cJSON_GetObjectItemCaseSensitive(j, "props"),
                           cJSON_GetObjectItemCaseSensitive(j, "attrs"),
                           cJSON_GetObjectItemCaseSensitive(old, "props"), &attrs, rreason,
                           sizeof(rreason), 0) != 0 &&
                    !best_effort) {
                    op_event(o, logical, jstr(old, "physical"), jstr(old, "type"), "UPDATE_FAILED",
                             rreason, NULL);
                    rb_ok = 0;
                    continue;
                }
                cJSON_Delete(attrs);
                op_res_put(o, logical, jstr(old, "type"), jstr(old, "physical"), "UPDATE_COMPLETE",
                           NULL, cJSON_GetObjectItemCaseSensitive(old, "props"),
                           cJSON_GetObjectItemCaseSensitive(old, "attrs"));
                op_event(o, logical, jstr(old, "physical"), jstr(old, "type"), "UPDATE_COMPLETE",
                         NULL, NULL);
            } else if (strcmp(kind, "replace") == 0) {
                op_res_put(o, logical, jstr(old, "type"), jstr(old, "physical"), "UPDATE_COMPLETE",
                           NULL, cJSON_GetObjectItemCaseSensitive(old, "props"),
                           cJSON_GetObjectItemCaseSensitive(old, "attrs"));
                op_event(o, logical, jstr(old, "physical"), jstr(old, "type"), "UPDATE_COMPLETE",
                         NULL, NULL);
            }
        }
        op_status(o, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", NULL);
        for (i = n - 1; i >= 0; i--) {
            const cJSON *j = cJSON_GetArrayItem(journal, i);
            const char *kind = jstr(j, "kind");
            const char *logical = jstr(j, "logical");
            char rreason[1024] = "";
            if (strcmp(kind, "add") != 0 && strcmp(kind, "replace") != 0) {
                continue;
            }
            if (jstr(j, "physical")[0] == 0) {
                if (strcmp(kind, "add") == 0) {
                    op_event(o, logical, "", jstr(j, "type"), "DELETE_COMPLETE", NULL, NULL);
                    op_res_forget(o, logical);
                }
                continue;
            }
            op_event(o, logical, jstr(j, "physical"), jstr(j, "type"), "DELETE_IN_PROGRESS", NULL,
                     NULL);
            if (destroy(o, logical, jstr(j, "type"), jstr(j, "physical"),
                        cJSON_GetObjectItemCaseSensitive(j, "props"),
                        cJSON_GetObjectItemCaseSensitive(j, "attrs"), rreason,
                        sizeof(rreason)) != 0) {
                op_event(o, logical, jstr(j, "physical"), jstr(j, "type"), "DELETE_FAILED", rreason,
                         NULL);
                rb_ok = 0;
                continue;
            }
            op_event(o, logical, jstr(j, "physical"), jstr(j, "type"), "DELETE_COMPLETE", NULL,
                     NULL);
            if (strcmp(kind, "add") == 0) {
                op_res_forget(o, logical);
            }
        }
        /* resources that were untouched keep their rows; failed rows get
         * their old status back */
        cJSON_ArrayForEach(it, failed)
        {
            const cJSON *row = row_find(rows, it->valuestring);
            if (row != NULL) {
                op_res_put(o, jstr(row, "logical"), jstr(row, "type"), jstr(row, "physical"),
                           "UPDATE_COMPLETE", NULL, NULL, NULL);
            }
        }
        op_drop_pending(o);
        op_status(o, rb_ok ? "UPDATE_ROLLBACK_COMPLETE" : "UPDATE_ROLLBACK_FAILED", reason);
    }
out:
    cJSON_Delete(rows);
    cJSON_Delete(order);
    cJSON_Delete(journal);
    cJSON_Delete(failed);
    cJSON_Delete(old_tmpl);
}

static void run_job(struct job *j)
{
    struct op o;
    int found;
    memset(&o, 0, sizeof(o));
    o.job = j;
    if (emu_store_begin(0) != 0) {
        return;
    }
    found = stack_find(j->account, j->region, j->stack_id, &o.row) == 0;
    o.exports = found ? exports_load(j->account, j->region) : NULL;
    emu_store_end(1);
    if (!found) {
        return;
    }
    o.resources = cJSON_CreateObject();
    o.imports = cJSON_CreateArray();
    switch (j->kind) {
    case JOB_CREATE:
        run_create(&o);
        break;
    case JOB_UPDATE:
        run_update(&o);
        break;
    case JOB_DELETE:
        run_delete(&o);
        break;
    case JOB_ROLLBACK:
        run_rollback(&o);
        break;
    }
    cfn_ctx_release(&o.ctx);
    cJSON_Delete(o.tmpl);
    cJSON_Delete(o.resources);
    cJSON_Delete(o.exports);
    cJSON_Delete(o.imports);
    stack_row_release(&o.row);
}

static void *worker_main(void *arg)
{
    (void)arg;
    for (;;) {
        struct job *j;
        pthread_mutex_lock(&q_mu);
        while (q_head == NULL && !q_stop) {
            pthread_cond_wait(&q_cv, &q_mu);
        }
        if (q_stop) {
            pthread_mutex_unlock(&q_mu);
            break;
        }
        j = q_head;
        q_head = j->next;
        if (q_head == NULL) {
            q_tail = NULL;
        }
        snprintf(q_running, sizeof(q_running), "%s", j->stack_id);
        pthread_mutex_unlock(&q_mu);
        run_job(j);
        pthread_mutex_lock(&q_mu);
        q_running[0] = 0;
        if (strcmp(q_cancel, j->stack_id) == 0) {
            q_cancel[0] = 0;
        }
        q_done_seq = j->seq;
        pthread_cond_broadcast(&q_done_cv);
        pthread_mutex_unlock(&q_mu);
        free(j);
    }
    return NULL;
}

/* Stacks left *_IN_PROGRESS by a previous process (crash, kill -9) are
 * brought to a terminal state: interrupted creates roll back, deletes are
 * resumed, cleanups are finished, interrupted updates become
 * UPDATE_ROLLBACK_FAILED (their journal was in memory). */
static void recover_interrupted(void)
{
    sqlite3_stmt *st;
    static const char *const why =
        "Stack operation interrupted: greenroom stopped while it was in progress";
    if (emu_store_begin(1) != 0) {
        return;
    }
    st = emu_stmt("SELECT account, region, stack_id, status, name FROM cfn_stacks WHERE status "
                  "LIKE '%_IN_PROGRESS'"
                  " AND status != 'REVIEW_IN_PROGRESS'");
    if (st != NULL) {
        cJSON *todo = cJSON_CreateArray();
        const cJSON *it;
        while (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "account", col_text(st, 0));
            cJSON_AddStringToObject(r, "region", col_text(st, 1));
            cJSON_AddStringToObject(r, "id", col_text(st, 2));
            cJSON_AddStringToObject(r, "status", col_text(st, 3));
            cJSON_AddStringToObject(r, "name", col_text(st, 4));
            cJSON_AddItemToArray(todo, r);
        }
        emu_stmt_done(st);
        cJSON_ArrayForEach(it, todo)
        {
            const char *status = jstr(it, "status"), *id = jstr(it, "id");
            const char *next = NULL;
            enum job_kind kind = JOB_ROLLBACK;
            int queue = 0;
            if (strcmp(status, "CREATE_IN_PROGRESS") == 0 ||
                strcmp(status, "ROLLBACK_IN_PROGRESS") == 0) {
                next = "ROLLBACK_IN_PROGRESS";
                queue = 1;
            } else if (strcmp(status, "DELETE_IN_PROGRESS") == 0) {
                kind = JOB_DELETE;
                queue = 1;
            } else if (strcmp(status, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS") == 0) {
                next = "UPDATE_COMPLETE";
            } else if (strcmp(status, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS") == 0) {
                next = "UPDATE_ROLLBACK_COMPLETE";
            } else {
                next = "UPDATE_ROLLBACK_FAILED";
            }
            if (next != NULL) {
                const char *vals[3] = {next, why, id};
                exec_bind("UPDATE cfn_stacks SET status = ?1, reason = ?2, new_template = NULL, "
                          "new_params = NULL,"
                          " new_tags = NULL, new_capabilities = NULL WHERE stack_id = ?3",
                          vals, 3);
                event_add(jstr(it, "account"), jstr(it, "region"), id, jstr(it, "name"),
                          jstr(it, "name"), id, "AWS::CloudFormation::Stack", next, why, NULL);
            }
            if (queue) {
                job_push(kind, jstr(it, "account"), jstr(it, "region"), id);
            }
        }
        cJSON_Delete(todo);
    }
    emu_store_end(1);
    t_last_job = 0;
}

static int cfn_start(void)
{
    const char *settle = getenv("GREENROOM_CFN_SETTLE_MS");
    if (settle != NULL && settle[0] != 0) {
        char *end = NULL;
        long v = strtol(settle, &end, 10);
        if (end != NULL && *end == 0 && v >= 0 && v <= 60000) {
            q_settle_ms = (int)v;
        }
    }
    pthread_mutex_lock(&q_mu);
    worker_start_locked();
    pthread_mutex_unlock(&q_mu);
    recover_interrupted();
    return 0;
}

static void queue_clear_locked(void)
{
    while (q_head != NULL) {
        struct job *j = q_head;
        q_head = j->next;
        if (j->seq > q_done_seq) {
            q_done_seq = j->seq;
        }
        free(j);
    }
    q_tail = NULL;
    pthread_cond_broadcast(&q_done_cv);
}

/* Waits (without the store lock) until job seq has finished or ms passed. */
static void job_wait(uint64_t seq, int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&q_mu);
    while (q_done_seq < seq && !q_stop) {
        if (pthread_cond_timedwait(&q_done_cv, &q_mu, &until) != 0) {
            break;
        }
    }
    pthread_mutex_unlock(&q_mu);
}

/* Runs a handler that queues stack work in its own write transaction, then
 * gives the worker a moment: a stack that completes within CFN_SETTLE_MS is
 * already terminal when the client's waiter first polls (the AWS CLI's
 * waiters otherwise sleep 30 s). Longer stacks are answered IN_PROGRESS. */
static void run_and_settle(struct emu_request *req, struct emu_response *resp, emu_handler_fn *fn)
{
    uint64_t seq;
    if (emu_store_begin(1) != 0) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    t_last_job = 0;
    fn(req, resp);
    seq = t_last_job;
    t_last_job = 0;
    if (emu_store_end(!resp->failed) != 0 && !resp->failed) {
        /* the commit failed: nothing was written, nothing will run */
        emu_kv_release(&resp->headers);
        emu_buf_release(&resp->body);
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    if (!resp->failed && seq != 0) {
        job_wait(seq, q_settle_ms);
    }
}

static void cfn_stop(void)
{
    pthread_mutex_lock(&q_mu);
    q_stop = 1;
    queue_clear_locked();
    pthread_cond_broadcast(&q_cv);
    pthread_mutex_unlock(&q_mu);
    if (q_started) {
        pthread_join(q_thread, NULL);
        q_started = 0;
    }
}

static void cfn_reload(void)
{
    pthread_mutex_lock(&q_mu);
    q_gen++;
    queue_clear_locked();
    pthread_mutex_unlock(&q_mu);
    recover_interrupted();
}

/* ------------------------------------------------------- request helpers */

/* Collects Prefix.member.N[.suffix] values into an array. */
static cJSON *form_list(struct emu_request *req, const char *prefix, const char *suffix)
{
    cJSON *arr = cJSON_CreateArray();
    int i;
    for (i = 1; i < 1000; i++) {
        char key[160];
        const char *v;
        if (suffix != NULL) {
            snprintf(key, sizeof(key), "%s.member.%d.%s", prefix, i, suffix);
        } else {
            snprintf(key, sizeof(key), "%s.member.%d", prefix, i);
        }
        v = emu_form(req, key);
        if (v == NULL) {
            break;
        }
        cJSON_AddItemToArray(arr, cJSON_CreateString(v));
    }
    return arr;
}

/* Parameters.member.N.* -> object key -> value or {"UsePreviousValue":true}. */
static cJSON *form_params(struct emu_request *req)
{
    cJSON *o = cJSON_CreateObject();
    int i;
    for (i = 1; i < 1000; i++) {
        char key[128];
        const char *k, *v, *prev;
        snprintf(key, sizeof(key), "Parameters.member.%d.ParameterKey", i);
        k = emu_form(req, key);
        if (k == NULL) {
            break;
        }
        snprintf(key, sizeof(key), "Parameters.member.%d.ParameterValue", i);
        v = emu_form(req, key);
        snprintf(key, sizeof(key), "Parameters.member.%d.UsePreviousValue", i);
        prev = emu_form(req, key);
        cJSON_DeleteItemFromObjectCaseSensitive(o, k);
        if (prev != NULL && strcmp(prev, "true") == 0) {
            cJSON *u = cJSON_CreateObject();
            cJSON_AddTrueToObject(u, "UsePreviousValue");
            cJSON_AddItemToObject(o, k, u);
        } else {
            cJSON_AddStringToObject(o, k, v ? v : "");
        }
    }
    return o;
}

static cJSON *form_tags(struct emu_request *req)
{
    cJSON *arr = cJSON_CreateArray();
    int i;
    for (i = 1; i < 100; i++) {
        char key[128];
        const char *k, *v;
        cJSON *t;
        snprintf(key, sizeof(key), "Tags.member.%d.Key", i);
        k = emu_form(req, key);
        if (k == NULL) {
            break;
        }
        snprintf(key, sizeof(key), "Tags.member.%d.Value", i);
        v = emu_form(req, key);
        t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "Key", k);
        cJSON_AddStringToObject(t, "Value", v ? v : "");
        cJSON_AddItemToArray(arr, t);
    }
    return arr;
}

static int has_form_list(struct emu_request *req, const char *prefix)
{
    char key[128];
    snprintf(key, sizeof(key), "%s.member.1", prefix);
    if (emu_form(req, key) != NULL) {
        return 1;
    }
    snprintf(key, sizeof(key), "%s.member.1.Key", prefix);
    return emu_form(req, key) != NULL;
}

/* Reads a TemplateURL's object from S3 (path-style or virtual-host URL).
 * Returns the body (caller frees) or NULL with err. */
static char *fetch_template_url(struct emu_request *req, const char *url, char *err, size_t elen)
{
    const char *p = strstr(url, "://");
    const char *host, *path;
    char bucket[256] = "", key[1024] = "", reqpath[1400];
    struct emu_call call;
    struct emu_response resp;
    char *out = NULL;
    size_t hl;
    if (p == NULL) {
        snprintf(err, elen, "TemplateURL must be a supported URL.");
        return NULL;
    }
    host = p + 3;
    path = strchr(host, '/');
    if (path == NULL) {
        snprintf(err, elen, "TemplateURL must be a supported URL.");
        return NULL;
    }
    hl = (size_t)(path - host);
    {
        const char *s3 = strstr(host, ".s3");
        if (s3 != NULL && s3 < path) {
            snprintf(bucket, sizeof(bucket), "%.*s", (int)(s3 - host), host);
            snprintf(key, sizeof(key), "%s", path + 1);
        } else {
            const char *slash = strchr(path + 1, '/');
            if (slash == NULL) {
                snprintf(err, elen, "TemplateURL must be a supported URL.");
                return NULL;
            }
            snprintf(bucket, sizeof(bucket), "%.*s", (int)(slash - path - 1), path + 1);
            snprintf(key, sizeof(key), "%s", slash + 1);
        }
    }
    (void)hl;
    if (emu_service_find("s3") == NULL) {
        snprintf(err, elen, "TemplateURL must be a supported URL.");
        return NULL;
    }
    snprintf(reqpath, sizeof(reqpath), "/%s/%s", bucket, key);
    memset(&call, 0, sizeof(call));
    call.account = req->account;
    call.region = req->region;
    call.service = "s3";
    call.method = "GET";
    call.path = reqpath;
    emu_response_init(&resp);
    emu_call_internal(&call, &resp);
    if (resp.failed || resp.status >= 300) {
        snprintf(err, elen, "S3 error: Access Denied");
    } else if (resp.body_fd >= 0) {
        size_t len = resp.body_len > CFN_MAX_TEMPLATE ? CFN_MAX_TEMPLATE : (size_t)resp.body_len;
        out = malloc(len + 1);
        if (out != NULL) {
            ssize_t got = pread(resp.body_fd, out, len, (off_t)resp.body_off);
            out[got > 0 ? got : 0] = 0;
        }
    } else {
        out = strdup(resp.body.data ? resp.body.data : "");
    }
    emu_response_release(&resp);
    return out;
}

/* The template body of a request (TemplateBody or TemplateURL); caller
 * frees. NULL with err when missing or unreadable. */
static char *request_template(struct emu_request *req, char *err, size_t elen)
{
    const char *body = emu_form(req, "TemplateBody");
    const char *url = emu_form(req, "TemplateURL");
    if (body != NULL && url != NULL) {
        snprintf(err, elen, "Specify exactly one of TemplateBody or TemplateUrl.");
        return NULL;
    }
    if (body != NULL) {
        if (strlen(body) > CFN_MAX_TEMPLATE) {
            snprintf(err, elen, "Template may not exceed 1048576 bytes in size.");
            return NULL;
        }
        return strdup(body);
    }
    if (url != NULL) {
        return fetch_template_url(req, url, err, elen);
    }
    snprintf(err, elen, "Either Template URL or Template Body must be specified.");
    return NULL;
}

static int cap_has(const cJSON *caps, const char *cap)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, caps)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, cap) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The capability a template needs: NULL, CAPABILITY_IAM or _NAMED_IAM. */
static const char *needed_capability(const cJSON *tmpl)
{
    const cJSON *it;
    const char *need = NULL;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(tmpl, "Resources"))
    {
        const char *type = def_type(it);
        const struct cfn_rtype *t = cfn_rtype_find(type);
        if (strncmp(type, "AWS::IAM::", 10) != 0) {
            continue;
        }
        if (need == NULL) {
            need = "CAPABILITY_IAM";
        }
        if (t != NULL && t->iam == 2 && t->name_prop != NULL &&
            cJSON_HasObjectItem(cJSON_GetObjectItemCaseSensitive(it, "Properties"), t->name_prop)) {
            need = "CAPABILITY_NAMED_IAM";
        }
    }
    return need;
}

/* Validates a template with its parameters the way CreateStack does.
 * Returns the parsed template (caller deletes) and *params (resolved), or
 * NULL after answering with an error. */
static cJSON *validate_for_stack(struct emu_request *req, struct emu_response *resp,
                                 const char *body, const cJSON *given, const cJSON *previous,
                                 const cJSON *caps, cJSON **params)
{
    char err[1200];
    cJSON *tmpl = cfn_template_parse(body, strlen(body), err, sizeof(err));
    const char *need;
    struct cfn_ctx ctx;
    cJSON *order;
    *params = NULL;
    if (tmpl == NULL) {
        emu_fail(resp, CFN_VALIDATION_ERROR, "%s", err);
        return NULL;
    }
    if (cfn_template_check(tmpl, err, sizeof(err)) < 0 ||
        cfn_params_resolve(tmpl, given, previous, params, err, sizeof(err)) < 0) {
        emu_fail(resp, CFN_VALIDATION_ERROR, "%s", err);
        cJSON_Delete(tmpl);
        return NULL;
    }
    memset(&ctx, 0, sizeof(ctx));
    ctx.account = req->account;
    ctx.region = req->region;
    ctx.tmpl = tmpl;
    ctx.params = cJSON_Duplicate(*params, 1);
    if (cfn_conditions_eval(&ctx) < 0 || (order = cfn_order(&ctx)) == NULL) {
        emu_fail(resp, CFN_VALIDATION_ERROR, "%s", ctx.err);
        cfn_ctx_release(&ctx);
        cJSON_Delete(tmpl);
        cJSON_Delete(*params);
        *params = NULL;
        return NULL;
    }
    cJSON_Delete(order);
    cfn_ctx_release(&ctx);
    need = needed_capability(tmpl);
    if (need != NULL && !cap_has(caps, "CAPABILITY_NAMED_IAM") &&
        (strcmp(need, "CAPABILITY_NAMED_IAM") == 0 || !cap_has(caps, "CAPABILITY_IAM"))) {
        emu_fail(resp, CFN_INSUFFICIENT_CAPABILITIES, "Requires capabilities : [%s]", need);
        cJSON_Delete(tmpl);
        cJSON_Delete(*params);
        *params = NULL;
        return NULL;
    }
    return tmpl;
}

static void stack_arn(struct emu_request *req, const char *name, char *out, size_t olen)
{
    char id[40];
    emu_uuid(id);
    snprintf(out, olen, "arn:aws:cloudformation:%s:%s:stack/%s/%s", req->region, req->account, name,
             id);
}

static int valid_stack_name(const char *name)
{
    size_t i, n = strlen(name);
    if (n == 0 || n > 128 ||
        !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z'))) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-')) {
            return 0;
        }
    }
    return 1;
}

static int status_in_progress(const char *status)
{
    size_t n = strlen(status);
    return n > 12 && strcmp(status + n - 12, "_IN_PROGRESS") == 0;
}

static int status_updatable(const char *status)
{
    static const char *const ok[] = {"CREATE_COMPLETE",
                                     "UPDATE_COMPLETE",
                                     "UPDATE_ROLLBACK_COMPLETE",
                                     "IMPORT_COMPLETE",
                                     "IMPORT_ROLLBACK_COMPLETE",
                                     "UPDATE_FAILED",
                                     NULL};
    size_t i;
    for (i = 0; ok[i] != NULL; i++) {
        if (strcmp(ok[i], status) == 0) {
            return 1;
        }
    }
    return 0;
}

static void fail_not_found(struct emu_response *resp, const char *name)
{
    emu_fail(resp, CFN_VALIDATION_ERROR, "Stack with id %s does not exist", name ? name : "");
}

static char *json_dup(const cJSON *v)
{
    return v ? cJSON_PrintUnformatted(v) : NULL;
}

/* ---------------------------------------------------------------- create */

static void create_stack_txn(struct emu_request *req, struct emu_response *resp)
{
    const char *name = emu_form(req, "StackName");
    const char *on_failure = emu_form(req, "OnFailure");
    const char *dr = emu_form(req, "DisableRollback");
    char err[1200], arn[400];
    char *body = NULL, *p_txt = NULL, *t_txt = NULL, *c_txt = NULL;
    cJSON *given = NULL, *params = NULL, *tmpl = NULL, *caps = NULL, *tags = NULL;
    struct stack_row existing;
    const cJSON *desc;
    sqlite3_stmt *st;
    if (name == NULL || !valid_stack_name(name)) {
        emu_fail(
            resp, CFN_VALIDATION_ERROR,
            "1 validation error detected: Value '%s' at 'stackName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*",
            name ? name : "");
        return;
    }
    if (on_failure != NULL && strcmp(on_failure, "ROLLBACK") != 0 &&
        strcmp(on_failure, "DELETE") != 0 && strcmp(on_failure, "DO_NOTHING") != 0) {
        emu_fail(resp, CFN_VALIDATION_ERROR,
                 "1 validation error detected: Value '%s' at 'onFailure' failed to satisfy "
                 "constraint: Member must satisfy enum value set: [ROLLBACK, DELETE, DO_NOTHING]",
                 on_failure);
        return;
    }
    if (on_failure != NULL && dr != NULL && strcmp(dr, "true") == 0) {
        emu_fail(resp, CFN_VALIDATION_ERROR,
                 "You may not specify both OnFailure and DisableRollback.");
        return;
    }
    if (stack_find(req->account, req->region, name, &existing) == 0) {
        stack_row_release(&existing);
        emu_fail(resp, CFN_ALREADY_EXISTS, "Stack [%s] already exists", name);
        return;
    }
    body = request_template(req, err, sizeof(err));
    if (body == NULL) {
        emu_fail(resp, CFN_VALIDATION_ERROR, "%s", err);
        return;
    }
    given = form_params(req);
    caps = form_list(req, "Capabilities", NULL);
    tags = form_tags(req);
    tmpl = validate_for_stack(req, resp, body, given, NULL, caps, &params);
    if (tmpl == NULL) {
        goto out;
    }
    stack_arn(req, name, arn, sizeof(arn));
    p_txt = json_dup(params);
    t_txt = json_dup(tags);
    c_txt = json_dup(caps);
    desc = cJSON_GetObjectItemCaseSensitive(tmpl, "Description");
    st = emu_stmt(
        "INSERT INTO cfn_stacks (stack_id, account, region, name, status, description, created, "
        "template,"
        " params, tags, capabilities, on_failure, disable_rollback, outputs)"
        " VALUES (?1, ?2, ?3, ?4, 'CREATE_IN_PROGRESS', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, '[]')");
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        goto out;
    }
    sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, req->account, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, req->region, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, name, -1, SQLITE_TRANSIENT);
    if (cJSON_IsString(desc)) {
        sqlite3_bind_text(st, 5, desc->valuestring, -1, SQLITE_TRANSIENT);
    }
    sqlite3_bind_double(st, 6, emu_now());
    sqlite3_bind_text(st, 7, body, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 8, p_txt, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 9, t_txt, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 10, c_txt, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 11, on_failure ? on_failure : "ROLLBACK", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 12, dr != NULL && strcmp(dr, "true") == 0);
    if (sqlite3_step(st) != SQLITE_DONE) {
        emu_stmt_done(st);
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        goto out;
    }
    emu_stmt_done(st);
    event_add(req->account, req->region, arn, name, name, arn, "AWS::CloudFormation::Stack",
              "CREATE_IN_PROGRESS", "User Initiated", NULL);
    job_push(JOB_CREATE, req->account, req->region, arn);
    {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "StackId", arn);
        reply(req, resp, doc);
    }
out:
    free(body);
    free(p_txt);
    free(t_txt);
    free(c_txt);
    cJSON_Delete(given);
    cJSON_Delete(params);
    cJSON_Delete(tmpl);
    cJSON_Delete(caps);
    cJSON_Delete(tags);
}

/* ---------------------------------------------------------------- update */

/* Resolves the template/parameters an update or UPDATE change set asks for.
 * Returns the body (caller frees) and *params, *tmpl; or NULL after failing. */
static char *update_inputs(struct emu_request *req, struct emu_response *resp, struct stack_row *s,
                           const cJSON *caps, cJSON **params, cJSON **tmpl)
{
    char err[1200];
    const char *use_prev = emu_form(req, "UsePreviousTemplate");
    char *body;
    cJSON *given;
    *params = NULL;
    *tmpl = NULL;
    if (use_prev != NULL && strcmp(use_prev, "true") == 0) {
        if (emu_form(req, "TemplateBody") != NULL || emu_form(req, "TemplateURL") != NULL) {
            emu_fail(resp, CFN_VALIDATION_ERROR,
                     "Specify exactly one of TemplateBody, TemplateUrl or UsePreviousTemplate.");
            return NULL;
        }
        body = strdup(s->template ? s->template : "");
    } else {
        body = request_template(req, err, sizeof(err));
        if (body == NULL) {
            emu_fail(resp, CFN_VALIDATION_ERROR, "%s", err);
            return NULL;
        }
    }
    given = form_params(req);
    *tmpl = validate_for_stack(req, resp, body, given, s->params, caps, params);
    cJSON_Delete(given);
    if (*tmpl == NULL) {
        free(body);
        return NULL;
    }
    return body;
}

/* Whether template/params/tags are all unchanged. */
static int nothing_changes(const struct stack_row *s, const cJSON *tmpl, const cJSON *params,
                           const cJSON *tags)
{
    char err[256];
    cJSON *old =
        s->template ? cfn_template_parse(s->template, strlen(s->template), err, sizeof(err)) : NULL;
    cJSON *empty = cJSON_CreateObject();
    int same = old != NULL && cJSON_Compare(old, tmpl, 1) &&
               cJSON_Compare(s->params ? s->params : empty, params ? params : empty, 1);
    cJSON_Delete(empty);
    if (same && tags != NULL && s->tags != NULL && !cJSON_Compare(s->tags, tags, 1)) {
        same = 0;
    }
    cJSON_Delete(old);
    return same;
}

static void update_stack_txn(struct emu_request *req, struct emu_response *resp)
{
    const char *name = emu_form(req, "StackName");
    const char *dr = emu_form(req, "DisableRollback");
    struct stack_row s;
    cJSON *caps, *tags = NULL, *params = NULL, *tmpl = NULL;
    char *body = NULL, *p_txt = NULL, *t_txt = NULL, *c_txt = NULL;
    if (stack_find(req->account, req->region, name, &s) < 0 ||
        strcmp(s.status, "DELETE_COMPLETE") == 0) {
        if (s.stack_id[0]) {
            stack_row_release(&s);
        }
        fail_not_found(resp, name);
        return;
    }
    if (!status_updatable(s.status)) {
        emu_fail(resp, CFN_VALIDATION_ERROR, "Stack:%s is in %s state and can not be updated.",
                 s.stack_id, s.status);
        stack_row_release(&s);
        return;
    }
    caps = form_list(req, "Capabilities", NULL);
    body = update_inputs(req, resp, &s, caps, &params, &tmpl);
    if (body == NULL) {
        goto out;
    }
    tags = has_form_list(req, "Tags") ? form_tags(req) : NULL;
    if (nothing_changes(&s, tmpl, params, tags)) {
        emu_fail(resp, CFN_VALIDATION_ERROR, "No updates are to be performed.");
        goto out;
    }
    p_txt = json_dup(params);
    t_txt = json_dup(tags);
    c_txt = json_dup(caps);
    {
        const char *vals[6] = {
            body,      p_txt, t_txt, c_txt, dr != NULL && strcmp(dr, "true") == 0 ? "1" : "0",
            s.stack_id};
        if (exec_bind(
                "UPDATE cfn_stacks SET new_template = ?1, new_params = ?2, new_tags = ?3,"
                " new_capabilities = ?4, disable_rollback = ?5, status = 'UPDATE_IN_PROGRESS',"
                " reason = 'User Initiated' WHERE stack_id = ?6",
                vals, 6) != 0) {
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
            goto out;
        }
    }
    job_push(JOB_UPDATE, req->account, req->region, s.stack_id);
    {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "StackId", s.stack_id);
        reply(req, resp, doc);
    }
out:
    free(body);
    free(p_txt);
    free(t_txt);
    free(c_txt);
    cJSON_Delete(caps);
    cJSON_Delete(tags);
    cJSON_Delete(params);
    cJSON_Delete(tmpl);
    stack_row_release(&s);
}

/* ---------------------------------------------------------------- delete */

static void delete_stack_txn(struct emu_request *req, struct emu_response *resp)
{
    const char *name = emu_form(req, "StackName");
    struct stack_row s;
    if (name == NULL) {
        emu_fail(resp, CFN_VALIDATION_ERROR,
                 "1 validation error detected: Value null at 'stackName' failed to satisfy "
                 "constraint: Member must not be null");
        return;
    }
    if (stack_find(req->account, req->region, name, &s) < 0) {
        emu_resp_query(req, resp, NULL);
        return;
    }
    if (strcmp(s.status, "DELETE_COMPLETE") == 0) {
        stack_row_release(&s);
        emu_resp_query(req, resp, NULL);
        return;
    }
    if (strcmp(s.status, "REVIEW_IN_PROGRESS") == 0) {
        char now[32];
        const char *vals[2] = {now, s.stack_id};
        snprintf(now, sizeof(now), "%.6f", emu_now());
        exec_bind(
            "UPDATE cfn_stacks SET status = 'DELETE_COMPLETE', deleted = ?1 WHERE stack_id = ?2",
            vals, 2);
        exec_bind("DELETE FROM cfn_changesets WHERE stack_id = ?2 OR ?1 IS NULL", vals, 2);
        event_add(req->account, req->region, s.stack_id, s.name, s.name, s.stack_id,
                  "AWS::CloudFormation::Stack", "DELETE_COMPLETE", NULL, NULL);
        stack_row_release(&s);
        emu_resp_query(req, resp, NULL);
        return;
    }
    {
        cJSON *retain = form_list(req, "RetainResources", NULL);
        char *r_txt = json_dup(retain);
        const char *vals[2] = {r_txt, s.stack_id};
        exec_bind("UPDATE cfn_stacks SET retain = ?1 WHERE stack_id = ?2", vals, 2);
        if (!status_in_progress(s.status)) {
            const char *v2[1] = {s.stack_id};
            exec_bind(
                "UPDATE cfn_stacks SET status = 'DELETE_IN_PROGRESS', reason = 'User Initiated'"
                " WHERE stack_id = ?1",
                v2, 1);
            event_add(req->account, req->region, s.stack_id, s.name, s.name, s.stack_id,
                      "AWS::CloudFormation::Stack", "DELETE_IN_PROGRESS", "User Initiated", NULL);
        }
        free(r_txt);
        cJSON_Delete(retain);
    }
    job_push(JOB_DELETE, req->account, req->region, s.stack_id);
    stack_row_release(&s);
    emu_resp_query(req, resp, NULL);
}

/* -------------------------------------------------------------- describe */

static cJSON *stack_json(const struct stack_row *s)
{
    cJSON *o = cJSON_CreateObject();
    const cJSON *it;
    cJSON_AddStringToObject(o, "StackId", s->stack_id);
    cJSON_AddStringToObject(o, "StackName", s->name);
    if (s->change_set_id[0]) {
        cJSON_AddStringToObject(o, "ChangeSetId", s->change_set_id);
    }
    add_str(o, "Description", s->description);
    if (cJSON_GetArraySize(s->params) > 0) {
        cJSON *ps = cJSON_AddArrayToObject(o, "Parameters");
        cJSON_ArrayForEach(it, s->params)
        {
            cJSON *p = cJSON_CreateObject();
            cJSON_AddStringToObject(p, "ParameterKey", it->string);
            cJSON_AddStringToObject(p, "ParameterValue", cJSON_IsString(it) ? it->valuestring : "");
            cJSON_AddItemToArray(ps, p);
        }
    }
    add_time(o, "CreationTime", s->created);
    add_time(o, "DeletionTime", s->deleted);
    add_time(o, "LastUpdatedTime", s->updated);
    cJSON_AddStringToObject(o, "StackStatus", s->status);
    add_str(o, "StackStatusReason", s->reason);
    cJSON_AddStringToObject(o, "DisableRollback", s->disable_rollback ? "true" : "false");
    cJSON_AddArrayToObject(o, "NotificationARNs");
    if (cJSON_GetArraySize(s->capabilities) > 0) {
        cJSON_AddItemToObject(o, "Capabilities", cJSON_Duplicate(s->capabilities, 1));
    }
    if (cJSON_GetArraySize(s->outputs) > 0) {
        cJSON_AddItemToObject(o, "Outputs", cJSON_Duplicate(s->outputs, 1));
    }
    if (cJSON_GetArraySize(s->tags) > 0) {
        cJSON_AddItemToObject(o, "Tags", cJSON_Duplicate(s->tags, 1));
    }
    cJSON_AddStringToObject(o, "EnableTerminationProtection", "false");
    {
        cJSON *d = cJSON_AddObjectToObject(o, "DriftInformation");
        cJSON_AddStringToObject(d, "StackDriftStatus", "NOT_CHECKED");
    }
    return o;
}

/* Hides NoEcho parameter values. */
static void mask_noecho(struct stack_row *s)
{
    char err[128];
    cJSON *tmpl;
    cJSON *it;
    if (s->template == NULL || s->params == NULL) {
        return;
    }
    tmpl = cfn_template_parse(s->template, strlen(s->template), err, sizeof(err));
    cJSON_ArrayForEach(it, s->params)
    {
        const cJSON *decl = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(tmpl, "Parameters"), it->string);
        const cJSON *ne = cJSON_GetObjectItemCaseSensitive(decl, "NoEcho");
        if (cJSON_IsTrue(ne) || (cJSON_IsString(ne) && strcmp(ne->valuestring, "true") == 0)) {
            cJSON_SetValuestring(it, "****");
        }
    }
    cJSON_Delete(tmpl);
}

static void cfn_describe_stacks(struct emu_request *req, struct emu_response *resp)
{
    const char *name = emu_form(req, "StackName");
    cJSON *doc = cJSON_CreateObject();
    cJSON *stacks = cJSON_AddArrayToObject(doc, "Stacks");
    struct stack_row s;
    if (name != NULL) {
        if (stack_find(req->account, req->region, name, &s) < 0) {
            cJSON_Delete(doc);
            fail_not_found(resp, name);
            return;
        }
        mask_noecho(&s);
        cJSON_AddItemToArray(stacks, stack_json(&s));
        stack_row_release(&s);
    } else {
        sqlite3_stmt *st =
            emu_stmt("SELECT " STACK_COLS " FROM cfn_stacks WHERE account = ?1 AND region = ?2"
                     " AND status != 'DELETE_COMPLETE' ORDER BY created DESC");
        if (st == NULL) {
            cJSON_Delete(doc);
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
            return;
        }
        sqlite3_bind_text(st, 1, req->account, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, req->region, -1, SQLITE_TRANSIENT);
        while (sqlite3_step(st) == SQLITE_ROW) {
            stack_row_read(st, &s);
            mask_noecho(&s);
            cJSON_AddItemToArray(stacks, stack_json(&s));
            stack_row_release(&s);
        }
        emu_stmt_done(st);
    }
    reply(req, resp, doc);
}

static void cfn_list_stacks(struct emu_request *req, struct emu_response *resp)
{
    cJSON *filter = form_list(req, "StackStatusFilter", NULL);
    cJSON *doc = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(doc, "StackSummaries");
    sqlite3_stmt *st =
        emu_stmt("SELECT " STACK_COLS " FROM cfn_stacks WHERE account = ?1 AND region = ?2"
                 " ORDER BY created DESC");
    if (st == NULL) {
        cJSON_Delete(doc);
        cJSON_Delete(filter);
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    sqlite3_bind_text(st, 1, req->account, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, req->region, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct stack_row s;
        cJSON *o;
        stack_row_read(st, &s);
        if (cJSON_GetArraySize(filter) > 0 && !cap_has(filter, s.status)) {
            stack_row_release(&s);
            continue;
        }
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "StackId", s.stack_id);
        cJSON_AddStringToObject(o, "StackName", s.name);
        add_str(o, "TemplateDescription", s.description);
        add_time(o, "CreationTime", s.created);
        add_time(o, "LastUpdatedTime", s.updated);
        add_time(o, "DeletionTime", s.deleted);
        cJSON_AddStringToObject(o, "StackStatus", s.status);
        add_str(o, "StackStatusReason", s.reason);
        cJSON_AddItemToArray(list, o);
        stack_row_release(&s);
    }
    emu_stmt_done(st);
    cJSON_Delete(filter);
    reply(req, resp, doc);
}

static void cfn_describe_stack_events(struct emu_request *req, struct emu_response *resp)
{
    const char *name = emu_form(req, "StackName");
    struct stack_row s;
    cJSON *doc, *list;
    sqlite3_stmt *st;
    if (stack_find(req->account, req->region, name, &s) < 0) {
        fail_not_found(resp, name);
        return;
    }
    doc = cJSON_CreateObject();
    list = cJSON_AddArrayToObject(doc, "StackEvents");
    st = emu_stmt("SELECT event_id, logical_id, physical_id, type, status, reason, ts, properties "
                  "FROM cfn_events"
                  " WHERE stack_id = ?1 ORDER BY id DESC");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, s.stack_id, -1, SQLITE_TRANSIENT);
        while (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "StackId", s.stack_id);
            cJSON_AddStringToObject(o, "EventId", col_text(st, 0));
            cJSON_AddStringToObject(o, "StackName", s.name);
            cJSON_AddStringToObject(o, "LogicalResourceId", col_text(st, 1));
            add_str(o, "PhysicalResourceId", col_text(st, 2));
            cJSON_AddStringToObject(o, "ResourceType", col_text(st, 3));
            add_time(o, "Timestamp", sqlite3_column_double(st, 6));
            cJSON_AddStringToObject(o, "ResourceStatus", col_text(st, 4));
            add_str(o, "ResourceStatusReason", col_text(st, 5));
            add_str(o, "ResourceProperties", col_text(st, 7));
            cJSON_AddItemToArray(list, o);
        }
        emu_stmt_done(st);
    }
    stack_row_release(&s);
    reply(req, resp, doc);
}

/* Lists resource rows of a stack into arr in the given shape (0: StackResource,
 * 1: StackResourceDetail, 2: StackResourceSummary); logical filters. */
static void resources_json(const struct stack_row *s, const char *logical, const char *physical,
                           int shape, cJSON *arr)
{
    sqlite3_stmt *st =
        emu_stmt("SELECT logical_id, physical_id, type, status, reason, updated FROM cfn_resources"
                 " WHERE stack_id = ?1 AND status != 'DELETE_COMPLETE' ORDER BY ord");
    if (st == NULL) {
        return;
    }
    sqlite3_bind_text(st, 1, s->stack_id, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *o;
        if (logical != NULL && strcmp(logical, col_text(st, 0)) != 0) {
            continue;
        }
        if (physical != NULL && strcmp(physical, col_text(st, 1)) != 0) {
            continue;
        }
        o = cJSON_CreateObject();
        if (shape != 2) {
            cJSON_AddStringToObject(o, "StackName", s->name);
            cJSON_AddStringToObject(o, "StackId", s->stack_id);
        }
        cJSON_AddStringToObject(o, "LogicalResourceId", col_text(st, 0));
        add_str(o, "PhysicalResourceId", col_text(st, 1));
        cJSON_AddStringToObject(o, "ResourceType", col_text(st, 2));
        add_time(o, shape == 0 ? "Timestamp" : "LastUpdatedTimestamp",
                 sqlite3_column_double(st, 5));
        cJSON_AddStringToObject(o, "ResourceStatus", col_text(st, 3));
        add_str(o, "ResourceStatusReason", col_text(st, 4));
        {
            cJSON *d = cJSON_AddObjectToObject(o, "DriftInformation");
            cJSON_AddStringToObject(d, "StackResourceDriftStatus", "NOT_CHECKED");
        }
        cJSON_AddItemToArray(arr, o);
    }
    emu_stmt_done(st);
}

static void cfn_describe_stack_resources(struct emu_request *req, struct emu_response *resp)
{
    const char *name = emu_form(req, "StackName");
    const char *physical = emu_form(req, "PhysicalResourceId");
    const char *logical = emu_form(req, "LogicalResourceId");
    struct stack_row s;
    cJSON *doc;
    if (name == NULL && physical == NULL) {
        emu_fail(resp, CFN_VALIDATION_ERROR,
                 "Either StackName or PhysicalResourceId must be specified.");
        return;
    }
    if (name == NULL) {
        sqlite3_stmt *st =
            emu_stmt("SELECT stack_id FROM cfn_resources WHERE account = ?1 AND region = ?2"
                     " AND physical_id = ?3 LIMIT 1");
        char id[300] = "";
        if (st != NULL) {
            sqlite3_bind_text(st, 1, req->account, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 2, req->region, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 3, physical, -1, SQLITE_TRANSIENT);
            if (sqlite3_step(st) == SQLITE_ROW) {
                snprintf(id, sizeof(id), "%s", col_text(st, 0));
            }
            emu_stmt_done(st);
        }
        if (id[0] == 0 || stack_find(req->account, req->region, id, &s) < 0) {
            emu_fail(resp, CFN_VALIDATION_ERROR, "Stack for %s does not exist", physical);
            return;
        }
    } else if (stack_find(req->account, req->region, name, &s) < 0) {
        fail_not_found(resp, name);
        return;
    }
    doc = cJSON_CreateObject();
    resources_json(&s, logical, name ? NULL : physical, 0,
                   cJSON_AddArrayToObject(doc, "StackResources"));
    stack_row_release(&s);
    reply(req, resp, doc);
}

static void cfn_describe_stack_resource(struct emu_request *req, struct emu_response *resp)
{
    const char *name = emu_form(req, "StackName");
    const char *logical = emu_form(req, "LogicalResourceId");
    struct stack_row s;
    cJSON *doc, *arr;
    if (stack_find(req->account, req->region, name, &s) < 0) {
        fail_not_found(resp, name);
        return;
    }
    arr = cJSON_CreateArray();
    resources_json(&s, logical ? logical : "", NULL, 1, arr);
    if (cJSON_GetArraySize(arr) == 0) {
        emu_fail(resp, CFN_VALIDATION_ERROR, "Resource %s does not exist for stack %s",
                 logical ? logical : "", s.name);
        cJSON_Delete(arr);
        stack_row_release(&s);
        return;
    }
    doc = cJSON_CreateObject();
    {
        cJSON *d = cJSON_DetachItemFromArray(arr, 0);
        cJSON_AddItemToObject(doc, "StackResourceDetail", d);
    }
    cJSON_Delete(arr);
    stack_row_release(&s);
    reply(req, resp, doc);
}

static void cfn_list_stack_resources(struct emu_request *req, struct emu_response *resp)
{
    const char *name = emu_form(req, "StackName");
    struct stack_row s;
    cJSON *doc;
    if (stack_find(req->account, req->region, name, &s) < 0) {
        fail_not_found(resp, name);
        return;
    }
    doc = cJSON_CreateObject();
    resources_json(&s, NULL, NULL, 2, cJSON_AddArrayToObject(doc, "StackResourceSummaries"));
    stack_row_release(&s);
    reply(req, resp, doc);
}

/* ------------------------------------------------------------- templates */

struct changeset_row {
    char id[400];
    char name[200];
    char stack_id[300];
    char stack_name[200];
    char type[16];
    char status[32];
    char exec_status[32];
    char *reason;
    char *description;
    char *template;
    cJSON *params;
    cJSON *tags;
    cJSON *caps;
    cJSON *changes;
    double created;
};

static void cs_release(struct changeset_row *c)
{
    free(c->reason);
    free(c->description);
    free(c->template);
    cJSON_Delete(c->params);
    cJSON_Delete(c->tags);
    cJSON_Delete(c->caps);
    cJSON_Delete(c->changes);
    memset(c, 0, sizeof(*c));
}

#define CS_COLS                                                                                    \
    "id, name, stack_id, stack_name, type, status, exec_status, reason, description, template, "   \
    "params,"                                                                                      \
    " tags, capabilities, changes, created"

static void cs_read(sqlite3_stmt *st, struct changeset_row *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->id, sizeof(c->id), "%s", col_text(st, 0));
    snprintf(c->name, sizeof(c->name), "%s", col_text(st, 1));
    snprintf(c->stack_id, sizeof(c->stack_id), "%s", col_text(st, 2));
    snprintf(c->stack_name, sizeof(c->stack_name), "%s", col_text(st, 3));
    snprintf(c->type, sizeof(c->type), "%s", col_text(st, 4));
    snprintf(c->status, sizeof(c->status), "%s", col_text(st, 5));
    snprintf(c->exec_status, sizeof(c->exec_status), "%s", col_text(st, 6));
    c->reason = emu_col_dup(st, 7);
    c->description = emu_col_dup(st, 8);
    c->template = emu_col_dup(st, 9);
    c->params = parse_col(st, 10);
    c->tags = parse_col(st, 11);
    c->caps = parse_col(st, 12);
    c->changes = parse_col(st, 13);
    c->created = sqlite3_column_double(st, 14);
}

/* Finds a change set by ARN, or by name within a stack. */
static int cs_find(struct emu_request *req, const char *cs, const char *stack,
                   struct changeset_row *c)
{
    sqlite3_stmt *st;
    int rc = -1;
    if (cs == NULL) {
        return -1;
    }
    if (strncmp(cs, "arn:", 4) == 0) {
        st = emu_stmt("SELECT " CS_COLS
                      " FROM cfn_changesets WHERE account = ?1 AND region = ?2 AND id = ?3");
        if (st == NULL) {
            return -1;
        }
        sqlite3_bind_text(st, 3, cs, -1, SQLITE_TRANSIENT);
    } else {
        struct stack_row s;
        if (stack_find(req->account, req->region, stack, &s) < 0) {
            return -1;
        }
        st = emu_stmt("SELECT " CS_COLS
                      " FROM cfn_changesets WHERE account = ?1 AND region = ?2 AND name = ?3"
                      " AND stack_id = ?4");
        if (st == NULL) {
            stack_row_release(&s);
            return -1;
        }
        sqlite3_bind_text(st, 3, cs, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, s.stack_id, -1, SQLITE_TRANSIENT);
        stack_row_release(&s);
    }
    sqlite3_bind_text(st, 1, req->account, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, req->region, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
        cs_read(st, c);
        rc = 0;
    }
    emu_stmt_done(st);
    return rc;
}

static void cfn_get_template(struct emu_request *req, struct emu_response *resp)
{
    const char *name = emu_form(req, "StackName");
    const char *csn = emu_form(req, "ChangeSetName");
    cJSON *doc = cJSON_CreateObject(), *stages;
    if (csn != NULL) {
        struct changeset_row c;
        if (cs_find(req, csn, name, &c) < 0) {
            cJSON_Delete(doc);
            emu_fail(resp, CFN_CHANGE_SET_NOT_FOUND, "ChangeSet [%s] does not exist", csn);
            return;
        }
        cJSON_AddStringToObject(doc, "TemplateBody", c.template ? c.template : "");
        cs_release(&c);
    } else {
        struct stack_row s;
        if (stack_find(req->account, req->region, name, &s) < 0) {
            cJSON_Delete(doc);
            fail_not_found(resp, name);
            return;
        }
        cJSON_AddStringToObject(doc, "TemplateBody", s.template ? s.template : "");
        stack_row_release(&s);
    }
    stages = cJSON_AddArrayToObject(doc, "StagesAvailable");
    cJSON_AddItemToArray(stages, cJSON_CreateString("Original"));
    cJSON_AddItemToArray(stages, cJSON_CreateString("Processed"));
    reply(req, resp, doc);
}

/* Parameter declarations in the GetTemplateSummary / ValidateTemplate shape. */
static cJSON *param_decls(const cJSON *tmpl, int summary)
{
    cJSON *arr = cJSON_CreateArray();
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(tmpl, "Parameters"))
    {
        cJSON *p = cJSON_CreateObject();
        const cJSON *def = cJSON_GetObjectItemCaseSensitive(it, "Default");
        const cJSON *ne = cJSON_GetObjectItemCaseSensitive(it, "NoEcho");
        const cJSON *desc = cJSON_GetObjectItemCaseSensitive(it, "Description");
        const cJSON *allowed = cJSON_GetObjectItemCaseSensitive(it, "AllowedValues");
        cJSON_AddStringToObject(p, "ParameterKey", it->string);
        if (def != NULL) {
            char *s = cfn_value_str(def);
            cJSON_AddStringToObject(p, "DefaultValue", s);
            free(s);
        }
        if (summary) {
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "Type");
            cJSON_AddStringToObject(p, "ParameterType",
                                    cJSON_IsString(t) ? t->valuestring : "String");
        }
        cJSON_AddStringToObject(
            p, "NoEcho",
            (cJSON_IsTrue(ne) || (cJSON_IsString(ne) && strcmp(ne->valuestring, "true") == 0))
                ? "true"
                : "false");
        if (cJSON_IsString(desc)) {
            cJSON_AddStringToObject(p, "Description", desc->valuestring);
        }
        if (summary) {
            cJSON *pc = cJSON_AddObjectToObject(p, "ParameterConstraints");
            if (cJSON_IsArray(allowed)) {
                cJSON *av = cJSON_AddArrayToObject(pc, "AllowedValues");
                const cJSON *a;
                cJSON_ArrayForEach(a, allowed)
                {
                    char *s = cfn_value_str(a);
                    cJSON_AddItemToArray(av, cJSON_CreateString(s));
                    free(s);
                }
            }
        }
        cJSON_AddItemToArray(arr, p);
    }
    return arr;
}

static void add_capabilities(cJSON *doc, const cJSON *tmpl)
{
    const char *need = needed_capability(tmpl);
    if (need != NULL) {
        cJSON *c = cJSON_AddArrayToObject(doc, "Capabilities");
        cJSON *types = cJSON_CreateArray();
        const cJSON *it;
        struct emu_buf b = {0};
        cJSON_AddItemToArray(c, cJSON_CreateString(need));
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(tmpl, "Resources"))
        {
            const char *type = def_type(it);
            if (strncmp(type, "AWS::IAM::", 10) == 0 && !cap_has(types, type)) {
                cJSON_AddItemToArray(types, cJSON_CreateString(type));
            }
        }
        emu_buf_puts(&b, "The following resource(s) require capabilities: [");
        cJSON_ArrayForEach(it, types)
        {
            emu_buf_printf(&b, "%s%s", it == types->child ? "" : ", ", it->valuestring);
        }
        emu_buf_puts(&b, "]");
        cJSON_AddStringToObject(doc, "CapabilitiesReason", b.data);
        emu_buf_release(&b);
        cJSON_Delete(types);
    }
}

static void cfn_get_template_summary(struct emu_request *req, struct emu_response *resp)
{
    const char *name = emu_form(req, "StackName");
    char err[1200];
    char *body = NULL;
    cJSON *tmpl, *doc, *types;
    const cJSON *it;
    if (name != NULL) {
        struct stack_row s;
        if (stack_find(req->account, req->region, name, &s) < 0) {
            fail_not_found(resp, name);
            return;
        }
        body = strdup(s.template ? s.template : "");
        stack_row_release(&s);
    } else {
        body = request_template(req, err, sizeof(err));
        if (body == NULL) {
            emu_fail(resp, CFN_VALIDATION_ERROR, "%s", err);
            return;
        }
    }
    tmpl = cfn_template_parse(body, strlen(body), err, sizeof(err));
    free(body);
    if (tmpl == NULL) {
        emu_fail(resp, CFN_VALIDATION_ERROR, "%s", err);
        return;
    }
    doc = cJSON_CreateObject();
    cJSON_AddItemToObject(doc, "Parameters", param_decls(tmpl, 1));
    it = cJSON_GetObjectItemCaseSensitive(tmpl, "Description");
    if (cJSON_IsString(it)) {
        cJSON_AddStringToObject(doc, "Description", it->valuestring);
    }
    add_capabilities(doc, tmpl);
    types = cJSON_AddArrayToObject(doc, "ResourceTypes");
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(tmpl, "Resources"))
    {
        const char *t = def_type(it);
        if (!cap_has(types, t)) {
            cJSON_AddItemToArray(types, cJSON_CreateString(t));
        }
    }
    it = cJSON_GetObjectItemCaseSensitive(tmpl, "AWSTemplateFormatVersion");
    cJSON_AddStringToObject(doc, "Version", cJSON_IsString(it) ? it->valuestring : "2010-09-09");
    cJSON_AddArrayToObject(doc, "DeclaredTransforms");
    cJSON_Delete(tmpl);
    reply(req, resp, doc);
}

static void cfn_validate_template(struct emu_request *req, struct emu_response *resp)
{
    char err[1200];
    char *body = request_template(req, err, sizeof(err));
    cJSON *tmpl, *doc;
    const cJSON *it;
    if (body == NULL) {
        emu_fail(resp, CFN_VALIDATION_ERROR, "%s", err);
        return;
    }
    tmpl = cfn_template_parse(body, strlen(body), err, sizeof(err));
    free(body);
    if (tmpl == NULL || cfn_template_check(tmpl, err, sizeof(err)) < 0) {
        cJSON_Delete(tmpl);
        emu_fail(resp, CFN_VALIDATION_ERROR, "%s", err);
        return;
    }
    doc = cJSON_CreateObject();
    cJSON_AddItemToObject(doc, "Parameters", param_decls(tmpl, 0));
    it = cJSON_GetObjectItemCaseSensitive(tmpl, "Description");
    if (cJSON_IsString(it)) {
        cJSON_AddStringToObject(doc, "Description", it->valuestring);
    }
    add_capabilities(doc, tmpl);
    cJSON_AddArrayToObject(doc, "DeclaredTransforms");
    cJSON_Delete(tmpl);
    reply(req, resp, doc);
}

/* ------------------------------------------------------------ change sets */

/* The resource rows of a stack as logical -> {type, physical, props, attrs}
 * (store locked), plus the resources map the template sees. */
static cJSON *stack_rows(const char *stack_id, cJSON *resources)
{
    cJSON *rows = cJSON_CreateObject();
    sqlite3_stmt *st =
        emu_stmt("SELECT logical_id, type, physical_id, properties, attributes FROM cfn_resources"
                 " WHERE stack_id = ?1 AND status NOT IN ('DELETE_COMPLETE', 'CREATE_FAILED')"
                 " ORDER BY ord");
    if (st == NULL) {
        return rows;
    }
    sqlite3_bind_text(st, 1, stack_id, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *r = cJSON_CreateObject();
        cJSON *p = parse_col(st, 3), *a = parse_col(st, 4);
        cJSON_AddStringToObject(r, "type", col_text(st, 1));
        cJSON_AddStringToObject(r, "physical", col_text(st, 2));
        cJSON_AddItemToObject(r, "props", p ? p : cJSON_CreateObject());
        cJSON_AddItemToObject(r, "attrs", a ? a : cJSON_CreateObject());
        resources_set(resources, col_text(st, 0), col_text(st, 2), a);
        cJSON_AddItemToObject(rows, col_text(st, 0), r);
    }
    emu_stmt_done(st);
    return rows;
}

static cJSON *resource_change(const char *action, const char *logical, const char *physical,
                              const char *type, const char *replacement)
{
    cJSON *c = cJSON_CreateObject(), *rc;
    cJSON_AddStringToObject(c, "Type", "Resource");
    rc = cJSON_AddObjectToObject(c, "ResourceChange");
    cJSON_AddStringToObject(rc, "Action", action);
    cJSON_AddStringToObject(rc, "LogicalResourceId", logical);
    if (physical != NULL && physical[0] != 0) {
        cJSON_AddStringToObject(rc, "PhysicalResourceId", physical);
    }
    cJSON_AddStringToObject(rc, "ResourceType", type);
    if (replacement != NULL) {
        cJSON_AddStringToObject(rc, "Replacement", replacement);
    }
    cJSON_AddArrayToObject(rc, "Scope");
    cJSON_AddArrayToObject(rc, "Details");
    return c;
}

/* Computes the Changes of applying tmpl/params to the stack's resources. */
static cJSON *compute_changes(struct emu_request *req, const char *stack_id, const char *stack_name,
                              const cJSON *tmpl, const cJSON *params)
{
    cJSON *changes = cJSON_CreateArray();
    cJSON *resources = cJSON_CreateObject();
    cJSON *rows = stack_id ? stack_rows(stack_id, resources) : cJSON_CreateObject();
    cJSON *exports = exports_load(req->account, req->region);
    struct cfn_ctx ctx;
    cJSON *order;
    const cJSON *it;
    memset(&ctx, 0, sizeof(ctx));
    ctx.account = req->account;
    ctx.region = req->region;
    ctx.stack_name = stack_name;
    ctx.stack_id = stack_id;
    ctx.tmpl = tmpl;
    ctx.params = cJSON_Duplicate(params, 1);
    ctx.resources = resources;
    ctx.exports = exports;
    cfn_conditions_eval(&ctx);
    order = cfn_order(&ctx);
    cJSON_ArrayForEach(it, order)
    {
        const char *logical = it->valuestring;
        const cJSON *def = tmpl_res(tmpl, logical);
        const char *type = def_type(def);
        const cJSON *row = cJSON_GetObjectItemCaseSensitive(rows, logical);
        const struct cfn_rtype *rt = cfn_rtype_find(type);
        cJSON *props, *c;
        if (row == NULL) {
            cJSON_AddItemToArray(changes, resource_change("Add", logical, NULL, type, NULL));
            continue;
        }
        props = cfn_eval(&ctx, cJSON_GetObjectItemCaseSensitive(def, "Properties"));
        if (props != NULL && cJSON_IsNull(props)) {
            cJSON_Delete(props);
            props = cJSON_CreateObject();
        }
        if (props != NULL && strcmp(jstr(row, "type"), type) == 0 &&
            cJSON_Compare(props, cJSON_GetObjectItemCaseSensitive(row, "props"), 1)) {
            cJSON_Delete(props);
            continue;
        }
        {
            const char *repl;
            if (props == NULL) {
                repl = "Conditional";
            } else if (strcmp(jstr(row, "type"), type) != 0 || rt == NULL ||
                       cfn_rtype_replaces(rt, cJSON_GetObjectItemCaseSensitive(row, "props"),
                                          props)) {
                repl = "True";
            } else {
                repl = "False";
            }
            c = resource_change("Modify", logical, jstr(row, "physical"), type, repl);
        }
        {
            cJSON *rc = cJSON_GetObjectItemCaseSensitive(c, "ResourceChange");
            cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(rc, "Scope"),
                                 cJSON_CreateString("Properties"));
            if (props != NULL) {
                const cJSON *old = cJSON_GetObjectItemCaseSensitive(row, "props");
                cJSON *names = cJSON_CreateArray();
                const cJSON *p;
                cJSON_ArrayForEach(p, props)
                {
                    if (!cJSON_Compare(p, cJSON_GetObjectItemCaseSensitive(old, p->string), 1)) {
                        cJSON_AddItemToArray(names, cJSON_CreateString(p->string));
                    }
                }
                cJSON_ArrayForEach(p, old)
                {
                    if (!cJSON_HasObjectItem(props, p->string)) {
                        cJSON_AddItemToArray(names, cJSON_CreateString(p->string));
                    }
                }
                cJSON_ArrayForEach(p, names)
                {
                    cJSON *d = cJSON_CreateObject(), *t = cJSON_AddObjectToObject(d, "Target");
                    cJSON one;
                    int recreate = 0;
                    if (rt != NULL) {
                        cJSON *a = cJSON_CreateObject(), *b = cJSON_CreateObject();
                        const cJSON *ov = cJSON_GetObjectItemCaseSensitive(old, p->valuestring);
                        const cJSON *nv = cJSON_GetObjectItemCaseSensitive(props, p->valuestring);
                        if (ov != NULL) {
                            cJSON_AddItemToObject(a, p->valuestring, cJSON_Duplicate(ov, 1));
                        }
                        if (nv != NULL) {
                            cJSON_AddItemToObject(b, p->valuestring, cJSON_Duplicate(nv, 1));
                        }
                        recreate = cfn_rtype_replaces(rt, a, b);
                        cJSON_Delete(a);
                        cJSON_Delete(b);
                    }
                    (void)one;
                    cJSON_AddStringToObject(t, "Attribute", "Properties");
                    cJSON_AddStringToObject(t, "Name", p->valuestring);
                    cJSON_AddStringToObject(t, "RequiresRecreation", recreate ? "Always" : "Never");
                    cJSON_AddStringToObject(d, "Evaluation", "Static");
                    cJSON_AddStringToObject(d, "ChangeSource", "DirectModification");
                    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(rc, "Details"), d);
                }
                cJSON_Delete(names);
            }
        }
        cJSON_Delete(props);
        cJSON_AddItemToArray(changes, c);
    }
    cJSON_ArrayForEach(it, rows)
    {
        int listed = 0;
        const cJSON *x;
        cJSON_ArrayForEach(x, order)
        {
            if (strcmp(x->valuestring, it->string) == 0) {
                listed = 1;
            }
        }
        if (!listed) {
            cJSON_AddItemToArray(changes,
                                 resource_change("Remove", it->string, jstr(it, "physical"),
                                                 jstr(it, "type"), NULL));
        }
    }
    cJSON_Delete(order);
    cfn_ctx_release(&ctx);
    cJSON_Delete(rows);
    cJSON_Delete(resources);
    cJSON_Delete(exports);
    return changes;
}

static void cfn_create_change_set(struct emu_request *req, struct emu_response *resp)
{
    const char *name = emu_form(req, "StackName");
    const char *csname = emu_form(req, "ChangeSetName");
    const char *cstype = emu_form(req, "ChangeSetType");
    const char *desc = emu_form(req, "Description");
    struct stack_row s;
    int have_stack;
    cJSON *caps = NULL, *tags = NULL, *params = NULL, *tmpl = NULL, *changes = NULL;
    char *body = NULL, *p_txt = NULL, *t_txt = NULL, *c_txt = NULL, *ch_txt = NULL;
    char csid[500], stack_id[300], id[40];
    const char *status = "CREATE_COMPLETE", *exec = "AVAILABLE", *reason = NULL;
    sqlite3_stmt *st;
    memset(&s, 0, sizeof(s));
    if (name == NULL || csname == NULL) {
        emu_fail(resp, CFN_VALIDATION_ERROR,
                 "1 validation error detected: Value null at '%s' failed to satisfy constraint: "
                 "Member must not be null",
                 name == NULL ? "stackName" : "changeSetName");
        return;
    }
    if (!valid_stack_name(csname)) {
        emu_fail(
            resp, CFN_VALIDATION_ERROR,
            "1 validation error detected: Value '%s' at 'changeSetName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*",
            csname);
        return;
    }
    if (cstype == NULL) {
        cstype = "UPDATE";
    }
    if (strcmp(cstype, "CREATE") != 0 && strcmp(cstype, "UPDATE") != 0) {
        emu_fail(resp, CFN_VALIDATION_ERROR, "ChangeSetType %s is not supported", cstype);
        return;
    }
    have_stack = stack_find(req->account, req->region, name, &s) == 0;
    if (strcmp(cstype, "CREATE") == 0) {
        if (have_stack && strcmp(s.status, "REVIEW_IN_PROGRESS") != 0) {
            emu_fail(
                resp, CFN_ALREADY_EXISTS,
                "Stack [%s] already exists and cannot be created again with the changeSet [%s].",
                name, csname);
            goto out;
        }
    } else if (!have_stack || strcmp(s.status, "REVIEW_IN_PROGRESS") == 0) {
        fail_not_found(resp, name);
        goto out;
    } else if (!status_updatable(s.status)) {
        emu_fail(resp, CFN_VALIDATION_ERROR, "Stack:%s is in %s state and can not be updated.",
                 s.stack_id, s.status);
        goto out;
    }
    {
        struct changeset_row dup;
        if (have_stack && cs_find(req, csname, name, &dup) == 0) {
            /* a FAILED change set of the same name is replaced (the CLI
             * names change sets by the second) */
            if (strcmp(dup.status, "FAILED") != 0) {
                cs_release(&dup);
                emu_fail(resp, CFN_ALREADY_EXISTS, "ChangeSet %s already exists", csname);
                goto out;
            }
            {
                const char *vals[1] = {dup.id};
                exec_bind("DELETE FROM cfn_changesets WHERE id = ?1", vals, 1);
            }
            cs_release(&dup);
        }
    }
    caps = form_list(req, "Capabilities", NULL);
    if (strcmp(cstype, "UPDATE") == 0) {
        body = update_inputs(req, resp, &s, caps, &params, &tmpl);
    } else {
        char err[1200];
        cJSON *given = form_params(req);
        body = request_template(req, err, sizeof(err));
        if (body == NULL) {
            emu_fail(resp, CFN_VALIDATION_ERROR, "%s", err);
        } else {
            tmpl = validate_for_stack(req, resp, body, given, NULL, caps, &params);
            if (tmpl == NULL) {
                free(body);
                body = NULL;
            }
        }
        cJSON_Delete(given);
    }
    if (body == NULL) {
        goto out;
    }
    tags = form_tags(req);
    if (have_stack) {
        snprintf(stack_id, sizeof(stack_id), "%s", s.stack_id);
    } else {
        stack_arn(req, name, stack_id, sizeof(stack_id));
        st = emu_stmt("INSERT INTO cfn_stacks (stack_id, account, region, name, status, reason, "
                      "created, outputs,"
                      " on_failure) VALUES (?1, ?2, ?3, ?4, 'REVIEW_IN_PROGRESS', 'User "
                      "Initiated', ?5, '[]', 'ROLLBACK')");
        if (st == NULL) {
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
            goto out;
        }
        sqlite3_bind_text(st, 1, stack_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, req->account, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, req->region, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 5, emu_now());
        sqlite3_step(st);
        emu_stmt_done(st);
        event_add(req->account, req->region, stack_id, name, name, stack_id,
                  "AWS::CloudFormation::Stack", "REVIEW_IN_PROGRESS", "User Initiated", NULL);
    }
    changes =
        compute_changes(req, strcmp(cstype, "UPDATE") == 0 ? stack_id : NULL, name, tmpl, params);
    if (strcmp(cstype, "UPDATE") == 0 && cJSON_GetArraySize(changes) == 0 &&
        nothing_changes(&s, tmpl, params, has_form_list(req, "Tags") ? tags : NULL)) {
        status = "FAILED";
        exec = "UNAVAILABLE";
        reason = NO_CHANGES_MSG;
    }
    emu_uuid(id);
    snprintf(csid, sizeof(csid), "arn:aws:cloudformation:%s:%s:changeSet/%s/%s", req->region,
             req->account, csname, id);
    p_txt = json_dup(params);
    t_txt = json_dup(tags);
    c_txt = json_dup(caps);
    ch_txt = json_dup(changes);
    st = emu_stmt(
        "INSERT INTO cfn_changesets (id, account, region, name, stack_id, stack_name, type, status,"
        " exec_status, reason, description, template, params, tags, capabilities, changes, created)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)");
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        goto out;
    }
    {
        const char *vals[16] = {csid,   req->account, req->region, csname, stack_id, name,
                                cstype, status,       exec,        reason, desc,     body,
                                p_txt,  t_txt,        c_txt,       ch_txt};
        int i;
        for (i = 0; i < 16; i++) {
            if (vals[i] != NULL) {
                sqlite3_bind_text(st, i + 1, vals[i], -1, SQLITE_TRANSIENT);
            }
        }
        sqlite3_bind_double(st, 17, emu_now());
    }
    if (sqlite3_step(st) != SQLITE_DONE) {
        emu_stmt_done(st);
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        goto out;
    }
    emu_stmt_done(st);
    {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "Id", csid);
        cJSON_AddStringToObject(doc, "StackId", stack_id);
        reply(req, resp, doc);
    }
out:
    if (have_stack) {
        stack_row_release(&s);
    }
    free(body);
    free(p_txt);
    free(t_txt);
    free(c_txt);
    free(ch_txt);
    cJSON_Delete(caps);
    cJSON_Delete(tags);
    cJSON_Delete(params);
    cJSON_Delete(tmpl);
    cJSON_Delete(changes);
}

static cJSON *params_list(const cJSON *params)
{
    cJSON *arr = cJSON_CreateArray();
    const cJSON *it;
    cJSON_ArrayForEach(it, params)
    {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "ParameterKey", it->string);
        cJSON_AddStringToObject(p, "ParameterValue", cJSON_IsString(it) ? it->valuestring : "");
        cJSON_AddItemToArray(arr, p);
    }
    return arr;
}

static void cfn_describe_change_set(struct emu_request *req, struct emu_response *resp)
{
    const char *csn = emu_form(req, "ChangeSetName");
    const char *name = emu_form(req, "StackName");
    struct changeset_row c;
    cJSON *doc;
    if (cs_find(req, csn, name, &c) < 0) {
        emu_fail(resp, CFN_CHANGE_SET_NOT_FOUND, "ChangeSet [%s] does not exist", csn ? csn : "");
        return;
    }
    doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "ChangeSetName", c.name);
    cJSON_AddStringToObject(doc, "ChangeSetId", c.id);
    cJSON_AddStringToObject(doc, "StackId", c.stack_id);
    cJSON_AddStringToObject(doc, "StackName", c.stack_name);
    add_str(doc, "Description", c.description);
    if (cJSON_GetArraySize(c.params) > 0) {
        cJSON_AddItemToObject(doc, "Parameters", params_list(c.params));
    }
    add_time(doc, "CreationTime", c.created);
    cJSON_AddStringToObject(doc, "ExecutionStatus", c.exec_status);
    cJSON_AddStringToObject(doc, "Status", c.status);
    add_str(doc, "StatusReason", c.reason);
    cJSON_AddArrayToObject(doc, "NotificationARNs");
    if (cJSON_GetArraySize(c.caps) > 0) {
        cJSON_AddItemToObject(doc, "Capabilities", cJSON_Duplicate(c.caps, 1));
    }
    if (cJSON_GetArraySize(c.tags) > 0) {
        cJSON_AddItemToObject(doc, "Tags", cJSON_Duplicate(c.tags, 1));
    }
    cJSON_AddItemToObject(doc, "Changes",
                          c.changes ? cJSON_Duplicate(c.changes, 1) : cJSON_CreateArray());
    cJSON_AddStringToObject(doc, "IncludeNestedStacks", "false");
    cs_release(&c);
    reply(req, resp, doc);
}

static void execute_change_set_txn(struct emu_request *req, struct emu_response *resp)
{
    const char *csn = emu_form(req, "ChangeSetName");
    const char *name = emu_form(req, "StackName");
    const char *dr = emu_form(req, "DisableRollback");
    struct changeset_row c;
    struct stack_row s;
    char *p_txt = NULL, *t_txt = NULL, *c_txt = NULL;
    const cJSON *d = NULL;
    cJSON *tmpl = NULL;
    char err[256];
    if (cs_find(req, csn, name, &c) < 0) {
        emu_fail(resp, CFN_CHANGE_SET_NOT_FOUND, "ChangeSet [%s] does not exist", csn ? csn : "");
        return;
    }
    if (strcmp(c.exec_status, "AVAILABLE") != 0) {
        emu_fail(resp, CFN_INVALID_CHANGE_SET_STATUS,
                 "ChangeSet [%s] cannot be executed in its current execution status of [%s]", c.id,
                 c.exec_status);
        cs_release(&c);
        return;
    }
    if (stack_find(req->account, req->region, c.stack_id, &s) < 0) {
        cs_release(&c);
        fail_not_found(resp, name);
        return;
    }
    if (status_in_progress(s.status) && strcmp(s.status, "REVIEW_IN_PROGRESS") != 0) {
        emu_fail(resp, CFN_INVALID_CHANGE_SET_STATUS,
                 "Stack:%s is in %s state and can not be updated.", s.stack_id, s.status);
        goto out;
    }
    p_txt = json_dup(c.params);
    t_txt = json_dup(c.tags);
    c_txt = json_dup(c.caps);
    tmpl = cfn_template_parse(c.template ? c.template : "", c.template ? strlen(c.template) : 0,
                              err, sizeof(err));
    d = cJSON_GetObjectItemCaseSensitive(tmpl, "Description");
    if (strcmp(c.type, "CREATE") == 0) {
        const char *vals[8] = {c.template,
                               p_txt,
                               t_txt,
                               c_txt,
                               dr != NULL && strcmp(dr, "true") == 0 ? "1" : "0",
                               cJSON_IsString(d) ? d->valuestring : NULL,
                               c.id,
                               s.stack_id};
        exec_bind("UPDATE cfn_stacks SET template = ?1, params = ?2, tags = ?3, capabilities = ?4,"
                  " disable_rollback = ?5, description = ?6, change_set_id = ?7, status = "
                  "'CREATE_IN_PROGRESS',"
                  " reason = 'User Initiated' WHERE stack_id = ?8",
                  vals, 8);
        event_add(req->account, req->region, s.stack_id, s.name, s.name, s.stack_id,
                  "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS", "User Initiated", NULL);
        job_push(JOB_CREATE, req->account, req->region, s.stack_id);
    } else {
        const char *vals[7] = {
            c.template, p_txt,     t_txt, c_txt, dr != NULL && strcmp(dr, "true") == 0 ? "1" : "0",
            c.id,       s.stack_id};
        exec_bind("UPDATE cfn_stacks SET new_template = ?1, new_params = ?2, new_tags = ?3, "
                  "new_capabilities = ?4,"
                  " disable_rollback = ?5, change_set_id = ?6, status = 'UPDATE_IN_PROGRESS',"
                  " reason = 'User Initiated' WHERE stack_id = ?7",
                  vals, 7);
        job_push(JOB_UPDATE, req->account, req->region, s.stack_id);
    }
    {
        const char *vals[2] = {c.id, s.stack_id};
        exec_bind("UPDATE cfn_changesets SET exec_status = 'EXECUTE_IN_PROGRESS' WHERE id = ?1",
                  vals, 1);
        exec_bind("DELETE FROM cfn_changesets WHERE stack_id = ?2 AND id != ?1", vals, 2);
    }
    emu_resp_query(req, resp, NULL);
out:
    free(p_txt);
    free(t_txt);
    free(c_txt);
    cJSON_Delete(tmpl);
    cs_release(&c);
    stack_row_release(&s);
}

static void cfn_delete_change_set(struct emu_request *req, struct emu_response *resp)
{
    const char *csn = emu_form(req, "ChangeSetName");
    const char *name = emu_form(req, "StackName");
    struct changeset_row c;
    const char *vals[1];
    if (cs_find(req, csn, name, &c) < 0) {
        emu_fail(resp, CFN_CHANGE_SET_NOT_FOUND, "ChangeSet [%s] does not exist", csn ? csn : "");
        return;
    }
    if (strcmp(c.exec_status, "EXECUTE_IN_PROGRESS") == 0) {
        emu_fail(resp, CFN_INVALID_CHANGE_SET_STATUS,
                 "ChangeSet [%s] cannot be deleted in its current execution status of [%s]", c.id,
                 c.exec_status);
        cs_release(&c);
        return;
    }
    vals[0] = c.id;
    exec_bind("DELETE FROM cfn_changesets WHERE id = ?1", vals, 1);
    cs_release(&c);
    emu_resp_query(req, resp, NULL);
}

static void cfn_list_change_sets(struct emu_request *req, struct emu_response *resp)
{
    const char *name = emu_form(req, "StackName");
    struct stack_row s;
    cJSON *doc, *list;
    sqlite3_stmt *st;
    if (stack_find(req->account, req->region, name, &s) < 0) {
        fail_not_found(resp, name);
        return;
    }
    doc = cJSON_CreateObject();
    list = cJSON_AddArrayToObject(doc, "Summaries");
    st = emu_stmt("SELECT " CS_COLS " FROM cfn_changesets WHERE stack_id = ?1 ORDER BY created");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, s.stack_id, -1, SQLITE_TRANSIENT);
        while (sqlite3_step(st) == SQLITE_ROW) {
            struct changeset_row c;
            cJSON *o = cJSON_CreateObject();
            cs_read(st, &c);
            cJSON_AddStringToObject(o, "StackId", c.stack_id);
            cJSON_AddStringToObject(o, "StackName", c.stack_name);
            cJSON_AddStringToObject(o, "ChangeSetId", c.id);
            cJSON_AddStringToObject(o, "ChangeSetName", c.name);
            cJSON_AddStringToObject(o, "ExecutionStatus", c.exec_status);
            cJSON_AddStringToObject(o, "Status", c.status);
            add_str(o, "StatusReason", c.reason);
            add_time(o, "CreationTime", c.created);
            add_str(o, "Description", c.description);
            cJSON_AddItemToArray(list, o);
            cs_release(&c);
        }
        emu_stmt_done(st);
    }
    stack_row_release(&s);
    reply(req, resp, doc);
}

/* ------------------------------------------------------------------ misc */

static void cfn_cancel_update_stack(struct emu_request *req, struct emu_response *resp)
{
    const char *name = emu_form(req, "StackName");
    struct stack_row s;
    if (stack_find(req->account, req->region, name, &s) < 0) {
        fail_not_found(resp, name);
        return;
    }
    if (strcmp(s.status, "UPDATE_IN_PROGRESS") != 0) {
        emu_fail(resp, CFN_VALIDATION_ERROR,
                 "CancelUpdateStack cannot be called from current stack status");
        stack_row_release(&s);
        return;
    }
    pthread_mutex_lock(&q_mu);
    snprintf(q_cancel, sizeof(q_cancel), "%s", s.stack_id);
    pthread_mutex_unlock(&q_mu);
    stack_row_release(&s);
    emu_resp_query(req, resp, NULL);
}

/* UPDATE_ROLLBACK_FAILED -> UPDATE_ROLLBACK_COMPLETE, keeping the resources
 * as recorded (greenroom has nothing left to retry). */
static void cfn_continue_update_rollback(struct emu_request *req, struct emu_response *resp)
{
    const char *name = emu_form(req, "StackName");
    struct stack_row s;
    const char *vals[1];
    if (stack_find(req->account, req->region, name, &s) < 0) {
        fail_not_found(resp, name);
        return;
    }
    if (strcmp(s.status, "UPDATE_ROLLBACK_FAILED") != 0) {
        emu_fail(resp, CFN_VALIDATION_ERROR,
                 "Stack %s is in %s state and can not continue to rollback.", s.stack_id, s.status);
        stack_row_release(&s);
        return;
    }
    vals[0] = s.stack_id;
    exec_bind("UPDATE cfn_stacks SET status = 'UPDATE_ROLLBACK_COMPLETE', reason = NULL"
              " WHERE stack_id = ?1",
              vals, 1);
    event_add(req->account, req->region, s.stack_id, s.name, s.name, s.stack_id,
              "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE", NULL, NULL);
    stack_row_release(&s);
    emu_resp_query(req, resp, NULL);
}

static void cfn_list_exports(struct emu_request *req, struct emu_response *resp)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(doc, "Exports");
    sqlite3_stmt *st =
        emu_stmt("SELECT name, value, stack_id FROM cfn_exports WHERE account = ?1 AND region = ?2"
                 " ORDER BY name");
    if (st != NULL) {
        sqlite3_bind_text(st, 1, req->account, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, req->region, -1, SQLITE_TRANSIENT);
        while (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "ExportingStackId", col_text(st, 2));
            cJSON_AddStringToObject(o, "Name", col_text(st, 0));
            cJSON_AddStringToObject(o, "Value", col_text(st, 1));
            cJSON_AddItemToArray(list, o);
        }
        emu_stmt_done(st);
    }
    reply(req, resp, doc);
}

/* ---------------------------------------------------- settling wrappers */

static void cfn_create_stack(struct emu_request *req, struct emu_response *resp)
{
    run_and_settle(req, resp, create_stack_txn);
}

static void cfn_update_stack(struct emu_request *req, struct emu_response *resp)
{
    run_and_settle(req, resp, update_stack_txn);
}

static void cfn_delete_stack(struct emu_request *req, struct emu_response *resp)
{
    run_and_settle(req, resp, delete_stack_txn);
}

static void cfn_execute_change_set(struct emu_request *req, struct emu_response *resp)
{
    run_and_settle(req, resp, execute_change_set_txn);
}

static void cfn_resource(struct emu_request *req, struct emu_buf *out)
{
    const char *name = emu_form(req, "StackName");
    if (name == NULL) {
        return;
    }
    if (strncmp(name, "arn:", 4) == 0) {
        const char *p = strstr(name, ":stack/");
        if (p != NULL) {
            const char *e;
            p += 7;
            e = strchr(p, '/');
            emu_buf_append(out, p, e ? (size_t)(e - p) : strlen(p));
            return;
        }
    }
    emu_buf_puts(out, name);
}

static const struct emu_op cfn_ops[] = {
    {"CreateStack", NULL, NULL, NULL, cfn_create_stack, EMU_OP_NO_TXN},
    {"UpdateStack", NULL, NULL, NULL, cfn_update_stack, EMU_OP_NO_TXN},
    {"DeleteStack", NULL, NULL, NULL, cfn_delete_stack, EMU_OP_NO_TXN},
    {"DescribeStacks", NULL, NULL, NULL, cfn_describe_stacks, 0},
    {"ListStacks", NULL, NULL, NULL, cfn_list_stacks, 0},
    {"DescribeStackEvents", NULL, NULL, NULL, cfn_describe_stack_events, 0},
    {"DescribeStackResource", NULL, NULL, NULL, cfn_describe_stack_resource, 0},
    {"DescribeStackResources", NULL, NULL, NULL, cfn_describe_stack_resources, 0},
    {"ListStackResources", NULL, NULL, NULL, cfn_list_stack_resources, 0},
    {"GetTemplate", NULL, NULL, NULL, cfn_get_template, 0},
    {"GetTemplateSummary", NULL, NULL, NULL, cfn_get_template_summary, 0},
    {"ValidateTemplate", NULL, NULL, NULL, cfn_validate_template, 0},
    {"CreateChangeSet", NULL, NULL, NULL, cfn_create_change_set, EMU_OP_WRITE},
    {"DescribeChangeSet", NULL, NULL, NULL, cfn_describe_change_set, 0},
    {"ExecuteChangeSet", NULL, NULL, NULL, cfn_execute_change_set, EMU_OP_NO_TXN},
    {"DeleteChangeSet", NULL, NULL, NULL, cfn_delete_change_set, EMU_OP_WRITE},
    {"ListChangeSets", NULL, NULL, NULL, cfn_list_change_sets, 0},
    {"CancelUpdateStack", NULL, NULL, NULL, cfn_cancel_update_stack, EMU_OP_WRITE},
    {"ListExports", NULL, NULL, NULL, cfn_list_exports, 0},
    {"ContinueUpdateRollback", NULL, NULL, NULL, cfn_continue_update_rollback, EMU_OP_WRITE},
};

const struct emu_service svc_cloudformation = {
    .name = "cloudformation",
    .display = "cloudformation",
    .protocol = EMU_PROTO_QUERY,
    .xmlns = "http://cloudformation.amazonaws.com/doc/2010-05-15/",
    .ops = cfn_ops,
    .nops = sizeof(cfn_ops) / sizeof(cfn_ops[0]),
    .schema = cfn_schema,
    .nschema = sizeof(cfn_schema) / sizeof(cfn_schema[0]),
    .resource = cfn_resource,
    .start = cfn_start,
    .stop = cfn_stop,
    .reload = cfn_reload,
};
