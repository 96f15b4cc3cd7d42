/*
 * fault.c - fault injection: the rules of /_greenroom/faults, --faults FILE
 * and LocalStack's /_localstack/chaos/faults (and /_localstack/chaos/effects).
 *
 * A rule set is an array of parsed rules (struct fault_rule) published under
 * a read/write lock: the dispatcher's fault_check() takes the read lock and
 * walks the array without allocating; the control endpoints build a whole new
 * array off-line (a bad rule changes nothing) and swap it in under the write
 * lock. Every string matcher is pre-parsed into a literal or an fnmatch glob.
 *
 * Ordinals: each rule has its own small mutex; a call whose matchers match
 * takes it, increments the rule's match count (the call's ordinal among the
 * rule's matches, in arrival order across every client) and decides whether
 * the rule fires there. Probability draws are a pure function of (seed,
 * ordinal) (splitmix64), so one seed gives one sequence however the threads
 * interleave. The docs are docs/faults.md.
 */
#include <errno.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "fault.h"

#define FAULT_MAX_FILE (16u * 1024u * 1024u) /* cap for --faults FILE */
#define FAULT_MAX_LATENCY_MS 600000          /* 10 minutes */

/* What a rule does when it fires. */
enum fault_kind {
    FK_LATENCY = 0, /* only delays a normal answer */
    FK_ERROR,
    FK_THROTTLE,
    FK_RESET,
    FK_HANG,
    FK_CRASH,
    FK_CFN, /* cfnResourceFailure: asked by CloudFormation, not the dispatcher */
};

/* A pre-parsed string matcher: NULL text matches anything. */
struct fault_pat {
    char *text;
    int glob;      /* contains *, ? or [ */
    size_t prefix; /* glob: length of the literal text before the first wildcard */
    uint64_t hash; /* literal: fault_hash(text), to rule calls out cheaply */
};

/* FNV-1a of a string: literal matchers are compared by hash first. */
static uint64_t fault_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; s != NULL && *s; s++) {
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    }
    return h;
}

struct fault_rule {
    char *id;
    struct fault_pat service, operation, region, account, resource, method;
    long nth;   /* 0: any ordinal */
    long after; /* -1: unset */
    long times; /* 0: unlimited */
    double probability;
    uint64_t seed;
    enum fault_kind kind;
    int status;      /* FK_ERROR: 0 = derive from code */
    char *code;      /* FK_ERROR: NULL = derive from status */
    char *message;   /* NULL = default */
    int retry_after; /* FK_THROTTLE */
    int latency_ms;  /* 0: none */
    int jitter_ms;
    struct fault_pat cfn_logical, cfn_type;
    char *cfn_reason;
    cJSON *source; /* the rule as given (read-only counters dropped) */

    pthread_mutex_t lock; /* guards matched and fired */
    uint64_t matched;
    uint64_t fired;
};

static pthread_rwlock_t g_lock;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static struct fault_rule **g_rules; /* under g_lock */
static size_t g_n;                  /* under g_lock */
static atomic_size_t g_count;       /* g_n, readable without the lock */

/* Per-service index of the rules fault_check may have to look at (those whose
 * service matcher can match the name; cfnResourceFailure rules left out), so
 * that a call only walks the rules of its own service. Rebuilt under the
 * write lock by fault_reindex(); g_indexed = 0 (out of memory) walks all. */
static const char *const fault_svc_names[] = {
    "sts", "s3", "lambda", "iam", "apigateway", "cloudformation", "sns", "sqs", "events", "iot",
};
#define FAULT_NSVC (sizeof(fault_svc_names) / sizeof(fault_svc_names[0]))
static size_t *g_by_svc[FAULT_NSVC]; /* rule positions, under g_lock */
static size_t g_by_svc_n[FAULT_NSVC];
static int g_indexed;
static atomic_int g_effect_latency; /* /_localstack/chaos/effects "latency" (ms) */
static atomic_ulong g_next_id;

/* Creates the rule-set lock, preferring writers so that a control call is not
 * starved by a stream of client calls. */
static void fault_init_once(void)
{
    pthread_rwlockattr_t a;
    pthread_rwlockattr_init(&a);
    pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&g_lock, &a);
    pthread_rwlockattr_destroy(&a);
}

/* ------------------------------------------------------------- generator */

/* splitmix64's output function: a good 64-bit mix. */
static uint64_t fault_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The rule's draw for its k-th matching call, uniform in [0, 1). stream
 * separates independent draws (0: probability, 1: jitter). */
static double fault_draw(uint64_t seed, uint64_t k, uint64_t stream)
{
    uint64_t x = fault_mix64(seed + k * 0x9e3779b97f4a7c15ULL + stream * 0xd1b54a32d192ed03ULL);
    return (double)(x >> 11) * (1.0 / 9007199254740992.0);
}

/* ---------------------------------------------------------------- matching */

static int fault_pat_set(struct fault_pat *p, const char *s)
{
    p->text = strdup(s);
    if (p->text == NULL) {
        return -1;
    }
    p->glob = strpbrk(s, "*?[") != NULL;
    p->prefix = strcspn(s, "*?[\\");
    p->hash = fault_hash(s);
    return 0;
}

static void fault_pat_release(struct fault_pat *p)
{
    free(p->text);
    p->text = NULL;
}

/* Returns 1 when s (NULL = "") matches the pattern (absent = any). */
static int fault_pat_match(const struct fault_pat *p, const char *s, int icase)
{
    if (p->text == NULL) {
        return 1;
    }
    if (s == NULL) {
        s = "";
    }
    if (p->glob) {
        /* the literal prefix rules most calls out without fnmatch */
        if (p->prefix > 0 &&
            (icase ? strncasecmp(p->text, s, p->prefix) : strncmp(p->text, s, p->prefix)) != 0) {
            return 0;
        }
        return fnmatch(p->text, s, icase ? FNM_CASEFOLD : 0) == 0;
    }
    return icase ? strcasecmp(p->text, s) == 0 : strcmp(p->text, s) == 0;
}

/* Case-sensitive match of s, whose fault_hash is h (the hot path). */
static inline int fault_pat_match_h(const struct fault_pat *p, const char *s, uint64_t h)
{
    if (p->text == NULL) {
        return 1;
    }
    if (!p->glob) {
        return p->hash == h && strcmp(p->text, s) == 0;
    }
    if (p->prefix > 0 && p->text[0] != s[0]) {
        return 0;
    }
    return fault_pat_match(p, s, 0);
}

/* Resource matching: a glob on the whole resource string; for Lambda a
 * pattern without ':' also matches the function part of "function:qualifier"
 * ("my-fn" matches "my-fn:dev"). */
static int fault_resource_match(const struct fault_pat *p, const char *svc, const char *res)
{
    if (p->text == NULL) {
        return 1;
    }
    if (res == NULL) {
        res = "";
    }
    if ((p->prefix > 0 || !p->glob) && p->text[0] != res[0]) {
        return 0; /* every resource form starts with the pattern's literal start */
    }
    if (fault_pat_match(p, res, 0)) {
        return 1;
    }
    if (strcmp(svc, "lambda") != 0 || strchr(p->text, ':') != NULL) {
        return 0;
    }
    const char *colon = strchr(res, ':');
    if (colon == NULL) {
        return 0;
    }
    char fn[1024];
    size_t n = (size_t)(colon - res);
    if (n >= sizeof(fn)) {
        return 0;
    }
    memcpy(fn, res, n);
    fn[n] = 0;
    return fault_pat_match(p, fn, 0);
}

/* Decides, with r->lock held and r->matched already counting this call as
 * ordinal k, whether the rule fires. */
static int fault_fires(const struct fault_rule *r, uint64_t k)
{
    if (r->nth > 0 && k != (uint64_t)r->nth) {
        return 0;
    }
    if (r->after >= 0 && k <= (uint64_t)r->after) {
        return 0;
    }
    if (r->times > 0 && r->fired >= (uint64_t)r->times) {
        return 0;
    }
    if (r->probability < 1.0 && !(fault_draw(r->seed, k, 0) < r->probability)) {
        return 0;
    }
    return 1;
}

/* Counts a match of r and returns its ordinal when the rule fires there, 0
 * when it does not. may_fire = 0 counts the match only. */
static uint64_t fault_count_match(struct fault_rule *r, int may_fire)
{
    uint64_t fired_at = 0;
    pthread_mutex_lock(&r->lock);
    uint64_t k = ++r->matched;
    if (may_fire && fault_fires(r, k)) {
        r->fired++;
        fired_at = k;
    }
    pthread_mutex_unlock(&r->lock);
    return fired_at;
}

/* The delay a firing latency rule adds at ordinal k: ms +- jitter, >= 0. */
static int fault_latency_of(const struct fault_rule *r, uint64_t k)
{
    long ms = r->latency_ms;
    if (r->jitter_ms > 0) {
        double u = fault_draw(r->seed, k, 1);
        ms += (long)((u * 2.0 - 1.0) * r->jitter_ms);
    }
    return ms < 0 ? 0 : (int)ms;
}

/* Returns the index of a service name in fault_svc_names, or -1. */
static int fault_svc_index(const char *name)
{
    for (size_t i = 0; i < FAULT_NSVC; i++) {
        if (name[0] == fault_svc_names[i][0] && strcmp(name, fault_svc_names[i]) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* Rebuilds the per-service index and publishes the rule count. Called with
 * the write lock held after every change of g_rules. */
static void fault_reindex(void)
{
    g_indexed = 1;
    for (size_t s = 0; s < FAULT_NSVC; s++) {
        free(g_by_svc[s]);
        g_by_svc[s] = g_n > 0 ? calloc(g_n, sizeof(size_t)) : NULL;
        g_by_svc_n[s] = 0;
        if (g_n > 0 && g_by_svc[s] == NULL) {
            g_indexed = 0;
            continue;
        }
        for (size_t i = 0; i < g_n; i++) {
            const struct fault_rule *r = g_rules[i];
            if (r->kind != FK_CFN && fault_pat_match(&r->service, fault_svc_names[s], 1)) {
                g_by_svc[s][g_by_svc_n[s]++] = i;
            }
        }
    }
    atomic_store_explicit(&g_count, g_n, memory_order_release);
}

/* -------------------------------------------------------- error catalogue */

/* The catalogue, read from errors.def, to give a code its status and
 * message when a rule names only one of them. */
struct fault_cat {
    const char *id;
    int status;
    const char *code;
    const char *message;
};

static const struct fault_cat fault_catalogue[] = {
#define AWS_ERROR(id, status, code, message) {#id, status, code, message},
#include "errors.def"
#undef AWS_ERROR
};

/* The catalogue's id prefix of a service's section ("LAMBDA_"). */
static const char *fault_section_prefix(const char *svc)
{
    static const char *const map[][2] = {
        {"s3", "S3_"},
        {"lambda", "LAMBDA_"},
        {"apigateway", "APIGW_"},
        {"cloudformation", "CFN_"},
        {"iam", "IAM_"},
        {"sts", "STS_"},
        {"sns", "SNS_"},
        {"sqs", "SQS_"},
        {"events", "EVENTS_"},
        {"iot", "IOT_"},
    };
    if (svc == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcasecmp(map[i][0], svc) == 0) {
            return map[i][1];
        }
    }
    return NULL;
}

/* Finds code in the catalogue, preferring the service's own section. Returns
 * the entry (static) or NULL. */
static const struct fault_cat *fault_cat_find(const char *code, const char *svc)
{
    const char *prefix = fault_section_prefix(svc);
    const struct fault_cat *first = NULL;
    for (size_t i = 0; i < sizeof(fault_catalogue) / sizeof(fault_catalogue[0]); i++) {
        const struct fault_cat *c = &fault_catalogue[i];
        if (strcmp(c->code, code) != 0) {
            continue;
        }
        if (prefix != NULL && strncmp(c->id, prefix, strlen(prefix)) == 0) {
            return c;
        }
        if (first == NULL) {
            first = c;
        }
    }
    return first;
}

/* The code AWS uses for an HTTP status when a rule gives only the status. */
static const char *fault_code_for_status(int status, const char *svc)
{
    int s3 = svc != NULL && strcmp(svc, "s3") == 0;
    switch (status) {
    case 500:
        return s3 ? "InternalError" : "InternalFailure";
    case 503:
        return s3 ? "ServiceUnavailable" : "ServiceUnavailable";
    case 429:
        return "TooManyRequestsException";
    case 403:
        return s3 ? "AccessDenied" : "AccessDeniedException";
    case 404:
        return "NotFound";
    case 409:
        return "Conflict";
    case 400:
        return "BadRequest";
    default:
        return "InjectedFault";
    }
}

/* A service's throttling error (status, code, message). */
static void fault_throttle_of(const struct emu_service *svc, int *status, const char **code,
                              const char **message)
{
    static const struct {
        const char *svc;
        int status;
        const char *code;
        const char *message;
    } map[] = {
        {"s3", 503, "SlowDown", "Please reduce your request rate."},
        {"lambda", 429, "TooManyRequestsException", "Rate Exceeded."},
        {"apigateway", 429, "TooManyRequestsException", "Too Many Requests"},
        {"cloudformation", 400, "Throttling", "Rate exceeded"},
        {"iam", 400, "Throttling", "Rate exceeded"},
        {"sts", 400, "Throttling", "Rate exceeded"},
        {"sns", 400, "Throttling", "Rate exceeded"},
        {"sqs", 400, "ThrottlingException", "Rate exceeded"},
        {"events", 400, "ThrottlingException", "Rate exceeded"},
        {"iot", 429, "ThrottlingException", "Rate exceeded"},
    };
    const char *name = svc != NULL ? svc->name : "";
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(map[i].svc, name) == 0) {
            *status = map[i].status;
            *code = map[i].code;
            *message = map[i].message;
            return;
        }
    }
    *message = "Rate exceeded";
    switch (svc != NULL ? svc->protocol : EMU_PROTO_JSON) {
    case EMU_PROTO_REST_XML:
        *status = 503;
        *code = "SlowDown";
        *message = "Please reduce your request rate.";
        break;
    case EMU_PROTO_QUERY:
        *status = 400;
        *code = "Throttling";
        break;
    case EMU_PROTO_REST_JSON:
        *status = 429;
        *code = "TooManyRequestsException";
        break;
    default:
        *status = 400;
        *code = "ThrottlingException";
        break;
    }
}

/* Fills d with r's action (r has fired on a call to svc). */
static void fault_fill(const struct fault_rule *r, const struct emu_service *svc,
                       struct fault_decision *d)
{
    const char *code = NULL;
    const char *message = NULL;
    int status = 0;
    const char *svc_name = svc != NULL ? svc->name : NULL;

    snprintf(d->rule_id, sizeof(d->rule_id), "%s", r->id);
    switch (r->kind) {
    case FK_ERROR: {
        status = r->status;
        code = r->code;
        const struct fault_cat *c = code != NULL ? fault_cat_find(code, svc_name) : NULL;
        if (status == 0) {
            status = c != NULL ? c->status : (code != NULL ? 400 : 500);
        }
        if (code == NULL) {
            code = fault_code_for_status(status, svc_name);
            c = fault_cat_find(code, svc_name);
        }
        message = r->message;
        if (message == NULL && c != NULL && strchr(c->message, '%') == NULL) {
            message = c->message;
        }
        if (message == NULL) {
            message = "Injected fault";
        }
        d->action = FAULT_ERROR;
        break;
    }
    case FK_THROTTLE:
        fault_throttle_of(svc, &status, &code, &message);
        if (r->message != NULL) {
            message = r->message;
        }
        d->retry_after = r->retry_after;
        d->action = FAULT_THROTTLE;
        break;
    case FK_RESET:
        d->action = FAULT_RESET;
        break;
    case FK_HANG:
        d->action = FAULT_HANG;
        break;
    case FK_CRASH:
        d->action = FAULT_CRASH;
        break;
    default:
        return;
    }
    d->status = status;
    snprintf(d->code, sizeof(d->code), "%s", code != NULL ? code : "");
    snprintf(d->message, sizeof(d->message), "%s", message != NULL ? message : "");
}

enum fault_action fault_check(const struct emu_request *req, struct fault_decision *d)
{
    d->action = FAULT_NONE;
    d->status = 0;
    d->code[0] = 0;
    d->message[0] = 0;
    d->retry_after = 0;
    d->latency_ms = 0;
    d->rule_id[0] = 0;

    if (req->internal || (req->op != NULL && (req->op->flags & EMU_OP_NO_FAULT))) {
        return FAULT_NONE;
    }
    d->latency_ms = atomic_load_explicit(&g_effect_latency, memory_order_relaxed);
    if (atomic_load_explicit(&g_count, memory_order_acquire) == 0) {
        return FAULT_NONE;
    }
    pthread_once(&g_once, fault_init_once);

    const char *svc = req->svc != NULL ? req->svc->name : "";
    const char *op = req->op != NULL ? req->op->name : "";
    int decided = 0;
    long latency = d->latency_ms;

    uint64_t h_op = fault_hash(op);
    uint64_t h_region = fault_hash(req->region);
    uint64_t h_account = fault_hash(req->account);
    pthread_rwlock_rdlock(&g_lock);
    int si = g_indexed ? fault_svc_index(svc) : -1;
    size_t count = si >= 0 ? g_by_svc_n[si] : g_n;
    for (size_t j = 0; j < count; j++) {
        struct fault_rule *r = g_rules[si >= 0 ? g_by_svc[si][j] : j];
        /* an indexed rule's service is known to match */
        if (r->kind == FK_CFN || (si < 0 && !fault_pat_match(&r->service, svc, 1)) ||
            !fault_pat_match_h(&r->operation, op, h_op) ||
            !fault_pat_match_h(&r->region, req->region, h_region) ||
            !fault_pat_match_h(&r->account, req->account, h_account) ||
            !fault_pat_match(&r->method, req->method, r->method.glob) ||
            !fault_resource_match(&r->resource, svc, req->resource)) {
            continue;
        }
        /* Once an action is chosen, later action rules count the call only. */
        int may_fire = !(decided && r->kind != FK_LATENCY);
        uint64_t k = fault_count_match(r, may_fire);
        if (k == 0) {
            continue;
        }
        if (r->latency_ms > 0 || r->jitter_ms > 0) {
            latency += fault_latency_of(r, k);
        }
        if (r->kind == FK_LATENCY) {
            if (d->rule_id[0] == 0) {
                snprintf(d->rule_id, sizeof(d->rule_id), "%s", r->id);
            }
            continue;
        }
        fault_fill(r, req->svc, d);
        decided = 1;
    }
    pthread_rwlock_unlock(&g_lock);

    d->latency_ms = latency > FAULT_MAX_LATENCY_MS ? FAULT_MAX_LATENCY_MS : (int)latency;
    return d->action;
}

int fault_cfn_resource(const char *account, const char *region, const char *stack,
                       const char *logical_id, const char *type, char *reason, size_t rlen)
{
    int hit = 0;

    if (atomic_load_explicit(&g_count, memory_order_acquire) == 0) {
        return 0;
    }
    pthread_once(&g_once, fault_init_once);
    pthread_rwlock_rdlock(&g_lock);
    /* like fault_check: every matching rule counts, the first to fire decides */
    for (size_t i = 0; i < g_n; i++) {
        struct fault_rule *r = g_rules[i];
        if (r->kind != FK_CFN || !fault_pat_match(&r->region, region, 0) ||
            !fault_pat_match(&r->account, account, 0) || !fault_pat_match(&r->resource, stack, 0) ||
            !fault_pat_match(&r->cfn_logical, logical_id, 0) ||
            !fault_pat_match(&r->cfn_type, type, 1)) {
            continue;
        }
        if (fault_count_match(r, !hit) == 0) {
            continue;
        }
        if (reason != NULL && rlen > 0) {
            snprintf(reason, rlen, "%s", r->cfn_reason);
        }
        hit = 1;
    }
    pthread_rwlock_unlock(&g_lock);
    return hit;
}

/* ------------------------------------------------------------------ parsing */

static void fault_rule_free(struct fault_rule *r)
{
    if (r == NULL) {
        return;
    }
    free(r->id);
    fault_pat_release(&r->service);
    fault_pat_release(&r->operation);
    fault_pat_release(&r->region);
    fault_pat_release(&r->account);
    fault_pat_release(&r->resource);
    fault_pat_release(&r->method);
    fault_pat_release(&r->cfn_logical);
    fault_pat_release(&r->cfn_type);
    free(r->code);
    free(r->message);
    free(r->cfn_reason);
    cJSON_Delete(r->source);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

static void fault_rules_free(struct fault_rule **rules, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fault_rule_free(rules[i]);
    }
    free(rules);
}

/* Rule-parsing context: which rule (for messages) and where errors go. */
struct fault_parse {
    size_t index; /* 1-based position in the array */
    char *err;
    size_t errlen;
};

static int fault_bad(struct fault_parse *p, const char *field, const char *what)
{
    snprintf(p->err, p->errlen, "rule %zu: \"%s\" %s", p->index, field, what);
    return -1;
}

/* Is name one of the NULL-terminated list? */
static int fault_in_list(const char *name, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++) {
        if (strcmp(list[i], name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Refuses members of obj not in allowed; prefix names nested objects. */
static int fault_check_fields(struct fault_parse *p, const cJSON *obj, const char *prefix,
                              const char *const *allowed)
{
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        if (c->string == NULL || !fault_in_list(c->string, allowed)) {
            char field[160];
            snprintf(field, sizeof(field), "%s%s", prefix, c->string != NULL ? c->string : "");
            return fault_bad(p, field, "is not a known field");
        }
    }
    return 0;
}

/* A string member into a matcher. Absent or null: any. */
static int fault_get_pat(struct fault_parse *p, const cJSON *obj, const char *name,
                         struct fault_pat *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (v == NULL || cJSON_IsNull(v)) {
        return 0;
    }
    if (!cJSON_IsString(v) || v->valuestring[0] == 0) {
        return fault_bad(p, name, "must be a non-empty string");
    }
    if (strlen(v->valuestring) >= 1024) {
        return fault_bad(p, name, "is too long");
    }
    return fault_pat_set(out, v->valuestring);
}

/* An optional string member copied (caller owns *out). */
static int fault_get_str(struct fault_parse *p, const cJSON *obj, const char *prefix,
                         const char *name, char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    char field[160];
    snprintf(field, sizeof(field), "%s%s", prefix, name);
    if (v == NULL || cJSON_IsNull(v)) {
        return 0;
    }
    if (!cJSON_IsString(v)) {
        return fault_bad(p, field, "must be a string");
    }
    if (strlen(v->valuestring) >= 4096) {
        return fault_bad(p, field, "is too long");
    }
    *out = strdup(v->valuestring);
    return *out == NULL ? fault_bad(p, field, "could not be stored") : 0;
}

/* An optional integer member in [lo, hi]; *present says whether it was there. */
static int fault_get_int(struct fault_parse *p, const cJSON *obj, const char *prefix,
                         const char *name, long lo, long hi, long *out, int *present)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    char field[160];
    char what[96];
    snprintf(field, sizeof(field), "%s%s", prefix, name);
    *present = 0;
    if (v == NULL || cJSON_IsNull(v)) {
        return 0;
    }
    snprintf(what, sizeof(what), "must be an integer from %ld to %ld", lo, hi);
    if (!cJSON_IsNumber(v)) {
        return fault_bad(p, field, what);
    }
    double d = v->valuedouble;
    if (d != (double)(long)d || d < (double)lo || d > (double)hi) {
        return fault_bad(p, field, what);
    }
    *out = (long)d;
    *present = 1;
    return 0;
}

/* A boolean action flag: true sets it, false/absent leaves it off. */
static int fault_get_flag(struct fault_parse *p, const cJSON *obj, const char *name, int *on)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    *on = 0;
    if (v == NULL || cJSON_IsNull(v)) {
        return 0;
    }
    if (!cJSON_IsBool(v)) {
        return fault_bad(p, name, "must be true or false");
    }
    *on = cJSON_IsTrue(v);
    return 0;
}

/* Records that the rule has action kind (named field); refuses a second. */
static int fault_set_kind(struct fault_parse *p, struct fault_rule *r, int *has_action,
                          enum fault_kind kind, const char *field)
{
    if (*has_action) {
        return fault_bad(p, field,
                         "is a second action; a rule has one action among error, "
                         "throttle, reset, hang, crash and cfnResourceFailure");
    }
    *has_action = 1;
    r->kind = kind;
    return 0;
}

static const char *const fault_fields[] = {
    "id",
    "service",
    "operation",
    "region",
    "account",
    "resource",
    "method",
    "nth",
    "after",
    "times",
    "probability",
    "seed",
    "error",
    "throttle",
    "latency",
    "reset",
    "hang",
    "crash",
    "cfnResourceFailure",
    "description",
    "matched",
    "fired",
    NULL,
};
static const char *const fault_ls_fields[] = {
    "service", "region", "operation", "probability", "error", "description", NULL,
};
static const char *const fault_error_fields[] = {"statusCode", "code", "message", NULL};
static const char *const fault_throttle_fields[] = {"retryAfterSeconds", "message", NULL};
static const char *const fault_latency_fields[] = {"ms", "jitterMs", NULL};
static const char *const fault_cfn_fields[] = {"logicalId", "type", "reason", NULL};

/* Parses the "error" object into r. */
static int fault_parse_error(struct fault_parse *p, const cJSON *e, struct fault_rule *r)
{
    long v;
    int present;
    if (!cJSON_IsObject(e)) {
        return fault_bad(p, "error", "must be an object {statusCode, code, message}");
    }
    if (fault_check_fields(p, e, "error.", fault_error_fields) != 0 ||
        fault_get_int(p, e, "error.", "statusCode", 300, 599, &v, &present) != 0) {
        return -1;
    }
    r->status = present ? (int)v : 0;
    if (fault_get_str(p, e, "error.", "code", &r->code) != 0 ||
        fault_get_str(p, e, "error.", "message", &r->message) != 0) {
        return -1;
    }
    if (r->code != NULL && r->code[0] == 0) {
        return fault_bad(p, "error.code", "must not be empty");
    }
    return 0;
}

/* Parses one rule object. Returns 0 and *out (caller owns), or -1 with the
 * message in p->err. localstack: LocalStack's schema (no matchers of ours; an
 * error-less rule answers 503 ServiceUnavailable). */
static int fault_rule_parse(struct fault_parse *p, const cJSON *obj, int localstack,
                            struct fault_rule **out)
{
    struct fault_rule *r = NULL;
    int has_action = 0;
    int on;
    long v;
    int present;
    const cJSON *x;
    int rc = -1;

    *out = NULL;
    if (!cJSON_IsObject(obj)) {
        snprintf(p->err, p->errlen, "rule %zu: must be a JSON object", p->index);
        return -1;
    }
    if (fault_check_fields(p, obj, "", localstack ? fault_ls_fields : fault_fields) != 0) {
        return -1;
    }
    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        snprintf(p->err, p->errlen, "out of memory");
        return -1;
    }
    pthread_mutex_init(&r->lock, NULL);
    r->after = -1;
    r->probability = 1.0;
    r->kind = FK_LATENCY;

    x = cJSON_GetObjectItemCaseSensitive(obj, "description");
    if (x != NULL && !cJSON_IsString(x) && !cJSON_IsNull(x)) {
        fault_bad(p, "description", "must be a string");
        goto out;
    }
    if (fault_get_str(p, obj, "", "id", &r->id) != 0) {
        goto out;
    }
    if (r->id != NULL &&
        (r->id[0] == 0 || strlen(r->id) >= sizeof(((struct fault_decision *)0)->rule_id))) {
        fault_bad(p, "id", "must be 1 to 127 characters");
        goto out;
    }
    if (fault_get_pat(p, obj, "service", &r->service) != 0 ||
        fault_get_pat(p, obj, "operation", &r->operation) != 0 ||
        fault_get_pat(p, obj, "region", &r->region) != 0 ||
        fault_get_pat(p, obj, "account", &r->account) != 0 ||
        fault_get_pat(p, obj, "resource", &r->resource) != 0 ||
        fault_get_pat(p, obj, "method", &r->method) != 0) {
        goto out;
    }
    /* methods arrive upper-case: compare a literal one exactly */
    for (char *m = r->method.text; m != NULL && *m; m++) {
        if (*m >= 'a' && *m <= 'z') {
            *m = (char)(*m - 'a' + 'A');
        }
    }
    /* LocalStack writes "*" or omits a matcher for "any". */
    if (fault_get_int(p, obj, "", "nth", 1, 1000000000L, &v, &present) != 0) {
        goto out;
    }
    r->nth = present ? v : 0;
    if (fault_get_int(p, obj, "", "after", 0, 1000000000L, &v, &present) != 0) {
        goto out;
    }
    if (present) {
        if (r->nth > 0) {
            fault_bad(p, "after", "cannot be combined with \"nth\"");
            goto out;
        }
        r->after = v;
    }
    if (fault_get_int(p, obj, "", "times", 1, 1000000000L, &v, &present) != 0) {
        goto out;
    }
    r->times = present ? v : 0;

    x = cJSON_GetObjectItemCaseSensitive(obj, "probability");
    if (x != NULL && !cJSON_IsNull(x)) {
        if (!cJSON_IsNumber(x) || !(x->valuedouble >= 0.0 && x->valuedouble <= 1.0)) {
            fault_bad(p, "probability", "must be a number from 0 to 1");
            goto out;
        }
        r->probability = x->valuedouble;
    }
    x = cJSON_GetObjectItemCaseSensitive(obj, "seed");
    if (x != NULL && !cJSON_IsNull(x)) {
        if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble > 9007199254740992.0 ||
            x->valuedouble != (double)(uint64_t)x->valuedouble) {
            fault_bad(p, "seed", "must be an integer from 0 to 2^53");
            goto out;
        }
        r->seed = (uint64_t)x->valuedouble;
    } else {
        uint64_t s = 0;
        if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s)) {
            s = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)r;
        }
        r->seed = s & ((1ULL << 53) - 1);
    }

    /* actions */
    x = cJSON_GetObjectItemCaseSensitive(obj, "error");
    if (x != NULL && !cJSON_IsNull(x)) {
        if (fault_set_kind(p, r, &has_action, FK_ERROR, "error") != 0 ||
            fault_parse_error(p, x, r) != 0) {
            goto out;
        }
    }
    x = cJSON_GetObjectItemCaseSensitive(obj, "throttle");
    if (x != NULL && !cJSON_IsNull(x)) {
        if (fault_set_kind(p, r, &has_action, FK_THROTTLE, "throttle") != 0) {
            goto out;
        }
        if (cJSON_IsTrue(x)) {
            r->retry_after = 1;
        } else if (!cJSON_IsObject(x)) {
            fault_bad(p, "throttle", "must be an object {retryAfterSeconds} or true");
            goto out;
        } else {
            if (fault_check_fields(p, x, "throttle.", fault_throttle_fields) != 0 ||
                fault_get_int(p, x, "throttle.", "retryAfterSeconds", 0, 3600, &v, &present) != 0 ||
                fault_get_str(p, x, "throttle.", "message", &r->message) != 0) {
                goto out;
            }
            r->retry_after = present ? (int)v : 1;
        }
    }
    static const struct {
        const char *name;
        enum fault_kind kind;
    } flags[] = {{"reset", FK_RESET}, {"hang", FK_HANG}, {"crash", FK_CRASH}};
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        if (fault_get_flag(p, obj, flags[i].name, &on) != 0) {
            goto out;
        }
        if (on && fault_set_kind(p, r, &has_action, flags[i].kind, flags[i].name) != 0) {
            goto out;
        }
    }
    x = cJSON_GetObjectItemCaseSensitive(obj, "cfnResourceFailure");
    if (x != NULL && !cJSON_IsNull(x)) {
        if (fault_set_kind(p, r, &has_action, FK_CFN, "cfnResourceFailure") != 0) {
            goto out;
        }
        if (!cJSON_IsObject(x)) {
            fault_bad(p, "cfnResourceFailure", "must be an object {logicalId, type, reason}");
            goto out;
        }
        if (fault_check_fields(p, x, "cfnResourceFailure.", fault_cfn_fields) != 0 ||
            fault_get_pat(p, x, "logicalId", &r->cfn_logical) != 0 ||
            fault_get_pat(p, x, "type", &r->cfn_type) != 0 ||
            fault_get_str(p, x, "cfnResourceFailure.", "reason", &r->cfn_reason) != 0) {
            goto out;
        }
        if (r->cfn_reason == NULL) {
            r->cfn_reason = strdup("Resource failure injected by greenroom");
            if (r->cfn_reason == NULL) {
                goto out;
            }
        }
        if (r->operation.text != NULL || r->method.text != NULL) {
            fault_bad(p, r->operation.text != NULL ? "operation" : "method",
                      "does not apply to a cfnResourceFailure rule");
            goto out;
        }
        if (r->service.text != NULL && strcasecmp(r->service.text, "cloudformation") != 0) {
            fault_bad(p, "service",
                      "must be \"cloudformation\" (or absent) for cfnResourceFailure");
            goto out;
        }
    }
    x = cJSON_GetObjectItemCaseSensitive(obj, "latency");
    if (x != NULL && !cJSON_IsNull(x)) {
        if (r->kind == FK_CFN) {
            fault_bad(p, "latency", "cannot be combined with cfnResourceFailure");
            goto out;
        }
        if (!cJSON_IsObject(x)) {
            fault_bad(p, "latency", "must be an object {ms, jitterMs}");
            goto out;
        }
        if (fault_check_fields(p, x, "latency.", fault_latency_fields) != 0 ||
            fault_get_int(p, x, "latency.", "ms", 0, FAULT_MAX_LATENCY_MS, &v, &present) != 0) {
            goto out;
        }
        if (!present) {
            fault_bad(p, "latency.ms", "is required");
            goto out;
        }
        r->latency_ms = (int)v;
        if (fault_get_int(p, x, "latency.", "jitterMs", 0, FAULT_MAX_LATENCY_MS, &v, &present) !=
            0) {
            goto out;
        }
        r->jitter_ms = present ? (int)v : 0;
        if (r->latency_ms == 0 && r->jitter_ms == 0 && !has_action) {
            fault_bad(p, "latency.ms", "must be above 0 when latency is the rule's only effect");
            goto out;
        }
    } else if (!has_action) {
        if (!localstack) {
            snprintf(p->err, p->errlen,
                     "rule %zu: no action: give one of \"error\", \"throttle\", \"latency\", "
                     "\"reset\", \"hang\", \"crash\", \"cfnResourceFailure\"",
                     p->index);
            goto out;
        }
        /* LocalStack's default: 503 ServiceUnavailable. */
        r->kind = FK_ERROR;
        r->status = 503;
        r->code = strdup("ServiceUnavailable");
        if (r->code == NULL) {
            goto out;
        }
    }

    if (r->id == NULL) {
        char id[32];
        snprintf(id, sizeof(id), "rule-%lu", atomic_fetch_add(&g_next_id, 1) + 1);
        r->id = strdup(id);
        if (r->id == NULL) {
            goto out;
        }
    }
    r->source = cJSON_Duplicate(obj, 1);
    if (r->source == NULL) {
        goto out;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(r->source, "matched");
    cJSON_DeleteItemFromObjectCaseSensitive(r->source, "fired");
    rc = 0;
out:
    if (rc != 0) {
        if (p->err[0] == 0) {
            snprintf(p->err, p->errlen, "rule %zu: out of memory", p->index);
        }
        fault_rule_free(r);
        return -1;
    }
    *out = r;
    return 0;
}

/* Parses a body: a JSON array of rules or one rule object. Returns 0 with
 * *rules (caller owns, *n entries), or -1 with err. */
static int fault_parse_set(const char *body, size_t len, int localstack, struct fault_rule ***rules,
                           size_t *n, char *err, size_t errlen)
{
    cJSON *doc = NULL;
    struct fault_rule **out = NULL;
    size_t count = 0;
    int rc = -1;

    *rules = NULL;
    *n = 0;
    err[0] = 0;
    doc = cJSON_ParseWithLength(body != NULL ? body : "", len);
    if (doc == NULL) {
        snprintf(err, errlen, "the body is not valid JSON: give an array of rules");
        goto out;
    }
    if (cJSON_IsObject(doc)) {
        /* one rule: wrap it */
        cJSON *arr = cJSON_CreateArray();
        if (arr == NULL) {
            goto out;
        }
        cJSON_AddItemToArray(arr, doc);
        doc = arr;
    }
    if (!cJSON_IsArray(doc)) {
        snprintf(err, errlen, "the body must be a JSON array of rules");
        goto out;
    }
    size_t total = (size_t)cJSON_GetArraySize(doc);
    if (total > 100000) {
        snprintf(err, errlen, "too many rules (at most 100000)");
        goto out;
    }
    out = calloc(total + 1, sizeof(*out));
    if (out == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, doc)
    {
        struct fault_parse p = {count + 1, err, errlen};
        if (fault_rule_parse(&p, item, localstack, &out[count]) != 0) {
            goto out;
        }
        count++;
    }
    for (size_t i = 0; i < count; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(out[i]->id, out[j]->id) == 0) {
                snprintf(err, errlen, "rule %zu: \"id\" \"%s\" is used by rule %zu", i + 1,
                         out[i]->id, j + 1);
                goto out;
            }
        }
    }
    rc = 0;
out:
    cJSON_Delete(doc);
    if (rc != 0) {
        if (err[0] == 0) {
            snprintf(err, errlen, "out of memory");
        }
        fault_rules_free(out, count);
        return -1;
    }
    *rules = out;
    *n = count;
    return 0;
}

/* ------------------------------------------------------------ the rule set */

/* Installs rules (taken) as the whole set (replace) or after the current
 * ones. Returns 0, or -1 with err (an id already in use; rules are freed). */
static int fault_install(struct fault_rule **rules, size_t n, int replace, char *err, size_t errlen)
{
    struct fault_rule **old = NULL;
    size_t old_n = 0;
    int rc = -1;

    pthread_once(&g_once, fault_init_once);
    pthread_rwlock_wrlock(&g_lock);
    if (replace) {
        old = g_rules;
        old_n = g_n;
        g_rules = rules;
        g_n = n;
        rules = NULL;
        n = 0;
    } else {
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < g_n; j++) {
                if (strcmp(rules[i]->id, g_rules[j]->id) == 0) {
                    snprintf(err, errlen, "rule %zu: \"id\" \"%s\" is already loaded", i + 1,
                             rules[i]->id);
                    goto out;
                }
            }
        }
        struct fault_rule **all = calloc(g_n + n + 1, sizeof(*all));
        if (all == NULL) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        if (g_n > 0) {
            memcpy(all, g_rules, g_n * sizeof(*all));
        }
        if (n > 0) {
            memcpy(all + g_n, rules, n * sizeof(*all));
        }
        free(g_rules);
        free(rules);
        rules = NULL;
        g_rules = all;
        g_n += n;
        n = 0;
    }
    rc = 0;
out:
    fault_reindex();
    pthread_rwlock_unlock(&g_lock);
    fault_rules_free(rules, n);
    fault_rules_free(old, old_n);
    return rc;
}

/* Removes the rule named id (NULL: every rule). Returns how many went. */
static size_t fault_remove(const char *id)
{
    struct fault_rule **gone = NULL;
    size_t ngone = 0;

    pthread_once(&g_once, fault_init_once);
    pthread_rwlock_wrlock(&g_lock);
    if (id == NULL) {
        gone = g_rules;
        ngone = g_n;
        g_rules = NULL;
        g_n = 0;
    } else {
        gone = calloc(g_n + 1, sizeof(*gone));
        if (gone != NULL) {
            size_t keep = 0;
            for (size_t i = 0; i < g_n; i++) {
                if (strcmp(g_rules[i]->id, id) == 0) {
                    gone[ngone++] = g_rules[i];
                } else {
                    g_rules[keep++] = g_rules[i];
                }
            }
            g_n = keep;
        }
    }
    fault_reindex();
    pthread_rwlock_unlock(&g_lock);
    fault_rules_free(gone, ngone);
    return ngone;
}

/* Removes every rule whose source equals one of the given rules (LocalStack's
 * DELETE). Returns how many went. */
static size_t fault_remove_equal(const cJSON *list)
{
    struct fault_rule **gone = NULL;
    size_t ngone = 0;

    pthread_once(&g_once, fault_init_once);
    pthread_rwlock_wrlock(&g_lock);
    gone = calloc(g_n + 1, sizeof(*gone));
    if (gone != NULL) {
        size_t keep = 0;
        for (size_t i = 0; i < g_n; i++) {
            int eq = 0;
            const cJSON *item;
            cJSON_ArrayForEach(item, list)
            {
                cJSON *cmp = cJSON_Duplicate(g_rules[i]->source, 1);
                if (cmp != NULL) {
                    if (cJSON_GetObjectItemCaseSensitive(item, "id") == NULL) {
                        cJSON_DeleteItemFromObjectCaseSensitive(cmp, "id");
                    }
                    eq = eq || cJSON_Compare(cmp, item, 1);
                    cJSON_Delete(cmp);
                }
            }
            if (eq) {
                gone[ngone++] = g_rules[i];
            } else {
                g_rules[keep++] = g_rules[i];
            }
        }
        g_n = keep;
    }
    fault_reindex();
    pthread_rwlock_unlock(&g_lock);
    fault_rules_free(gone, ngone);
    return ngone;
}

size_t fault_count(void)
{
    return atomic_load_explicit(&g_count, memory_order_acquire);
}

int fault_load_file(const char *path, char *err, size_t errlen)
{
    FILE *f = NULL;
    char *buf = NULL;
    size_t len = 0;
    struct fault_rule **rules = NULL;
    size_t n = 0;
    int rc = -1;

    f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto out;
    }
    buf = malloc(FAULT_MAX_FILE + 1);
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    len = fread(buf, 1, FAULT_MAX_FILE + 1, f);
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        goto out;
    }
    if (len > FAULT_MAX_FILE) {
        snprintf(err, errlen, "%s: larger than %u bytes", path, FAULT_MAX_FILE);
        goto out;
    }
    buf[len] = 0;
    if (fault_parse_set(buf, len, 0, &rules, &n, err, errlen) != 0) {
        char tmp[512];
        snprintf(tmp, sizeof(tmp), "%s", err);
        snprintf(err, errlen, "%s: %s", path, tmp);
        goto out;
    }
    rc = fault_install(rules, n, 1, err, errlen);
out:
    if (f != NULL) {
        fclose(f);
    }
    free(buf);
    return rc;
}

/* ------------------------------------------------------------------- HTTP */

/* The rule set as JSON (caller owns). counters: add id, matched, fired. */
static cJSON *fault_list_json(int counters)
{
    cJSON *arr = cJSON_CreateArray();
    if (arr == NULL) {
        return NULL;
    }
    pthread_once(&g_once, fault_init_once);
    pthread_rwlock_rdlock(&g_lock);
    for (size_t i = 0; i < g_n; i++) {
        struct fault_rule *r = g_rules[i];
        cJSON *o = counters ? cJSON_CreateObject() : cJSON_Duplicate(r->source, 1);
        if (o == NULL) {
            continue;
        }
        if (counters) {
            uint64_t m, f;
            pthread_mutex_lock(&r->lock);
            m = r->matched;
            f = r->fired;
            pthread_mutex_unlock(&r->lock);
            /* id first, so listings read well; then the rule as given */
            cJSON_AddStringToObject(o, "id", r->id);
            for (const cJSON *c = r->source->child; c != NULL; c = c->next) {
                if (c->string != NULL && strcmp(c->string, "id") != 0) {
                    cJSON_AddItemToObject(o, c->string, cJSON_Duplicate(c, 1));
                }
            }
            if ((r->probability < 1.0 || r->jitter_ms > 0) &&
                cJSON_GetObjectItemCaseSensitive(o, "seed") == NULL) {
                cJSON_AddNumberToObject(o, "seed", (double)r->seed);
            }
            cJSON_AddNumberToObject(o, "matched", (double)m);
            cJSON_AddNumberToObject(o, "fired", (double)f);
        }
        cJSON_AddItemToArray(arr, o);
    }
    pthread_rwlock_unlock(&g_lock);
    return arr;
}

/* A control-plane error answer. */
static void fault_http_error(struct emu_response *resp, int status, const char *code,
                             const char *message)
{
    cJSON *o = cJSON_CreateObject();
    if (o != NULL) {
        cJSON_AddStringToObject(o, "error", code);
        cJSON_AddStringToObject(o, "message", message);
    }
    emu_resp_json(resp, status, o);
}

static int fault_body_empty(const struct emu_request *req)
{
    for (size_t i = 0; i < req->body_len; i++) {
        char c = req->body[i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            return 0;
        }
    }
    return 1;
}

/* /_localstack/chaos/effects: {"latency": ms} added to every call. */
static void fault_http_effects(struct emu_request *req, struct emu_response *resp)
{
    if (strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0 ||
        strcmp(req->method, "PATCH") == 0) {
        cJSON *doc = cJSON_ParseWithLength(req->body != NULL ? req->body : "", req->body_len);
        const cJSON *lat = cJSON_GetObjectItemCaseSensitive(doc, "latency");
        if (!cJSON_IsObject(doc) || (lat != NULL && (!cJSON_IsNumber(lat) || lat->valuedouble < 0 ||
                                                     lat->valuedouble > FAULT_MAX_LATENCY_MS))) {
            cJSON_Delete(doc);
            fault_http_error(resp, 400, "InvalidEffects",
                             "\"latency\" must be a number of milliseconds from 0 to 600000");
            return;
        }
        atomic_store(&g_effect_latency, lat != NULL ? (int)lat->valuedouble : 0);
        cJSON_Delete(doc);
    } else if (strcmp(req->method, "DELETE") == 0) {
        atomic_store(&g_effect_latency, 0);
    } else if (strcmp(req->method, "GET") != 0) {
        fault_http_error(resp, 405, "MethodNotAllowed", "use GET, POST or DELETE");
        return;
    }
    cJSON *o = cJSON_CreateObject();
    if (o != NULL) {
        cJSON_AddNumberToObject(o, "latency", atomic_load(&g_effect_latency));
    }
    emu_resp_json(resp, 200, o);
}

/* GET or DELETE /_greenroom/faults/{id} (id percent-encoded in the path). */
static void fault_http_one(struct emu_request *req, struct emu_response *resp, const char *raw)
{
    char msg[300];
    char *id = emu_url_decode(raw, strlen(raw), 0);
    if (id == NULL) {
        fault_http_error(resp, 400, "InvalidFaultRule", "bad rule id in the path");
        return;
    }
    if (strcmp(req->method, "DELETE") == 0) {
        if (fault_remove(id) == 0) {
            snprintf(msg, sizeof(msg), "no rule with id \"%.200s\"", id);
            fault_http_error(resp, 404, "NoSuchFaultRule", msg);
        } else {
            emu_resp_json(resp, 200, fault_list_json(1));
        }
    } else if (strcmp(req->method, "GET") == 0) {
        cJSON *list = fault_list_json(1);
        cJSON *found = NULL;
        const cJSON *r;
        cJSON_ArrayForEach(r, list)
        {
            const cJSON *rid = cJSON_GetObjectItemCaseSensitive(r, "id");
            if (found == NULL && cJSON_IsString(rid) && strcmp(rid->valuestring, id) == 0) {
                found = cJSON_Duplicate(r, 1);
            }
        }
        cJSON_Delete(list);
        if (found == NULL) {
            snprintf(msg, sizeof(msg), "no rule with id \"%.200s\"", id);
            fault_http_error(resp, 404, "NoSuchFaultRule", msg);
        } else {
            emu_resp_json(resp, 200, found);
        }
    } else {
        fault_http_error(resp, 405, "MethodNotAllowed", "use GET or DELETE on one rule");
    }
    free(id);
}

void fault_http(struct emu_request *req, struct emu_response *resp)
{
    char err[512];
    int localstack = strncmp(req->path, "/_localstack/", 13) == 0;
    struct fault_rule **rules = NULL;
    size_t n = 0;

    err[0] = 0;
    if (localstack && strstr(req->path, "/chaos/effects") != NULL) {
        fault_http_effects(req, resp);
        return;
    }
    /* /_greenroom/faults/{id}: one rule (GET) or its removal (DELETE) */
    static const char one[] = "/_greenroom/faults/";
    if (strncmp(req->path, one, sizeof(one) - 1) == 0 && req->path[sizeof(one) - 1] != 0) {
        fault_http_one(req, resp, req->path + sizeof(one) - 1);
        return;
    }
    if (strcmp(req->method, "GET") == 0) {
        /* list below */
    } else if (strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0 ||
               strcmp(req->method, "PATCH") == 0) {
        int replace = strcmp(req->method, "PATCH") != 0;
        if (fault_body_empty(req)) {
            fault_http_error(resp, 400, "InvalidFaultRule",
                             "the body must be a JSON array of rules");
            return;
        }
        if (fault_parse_set(req->body, req->body_len, localstack, &rules, &n, err, sizeof(err)) !=
                0 ||
            fault_install(rules, n, replace, err, sizeof(err)) != 0) {
            fault_http_error(resp, 400, "InvalidFaultRule", err);
            return;
        }
        emu_info("faults: %s %zu rule(s), %zu loaded", replace ? "set" : "added", n, fault_count());
    } else if (strcmp(req->method, "DELETE") == 0) {
        const char *id = emu_query(req, "id");
        if (id != NULL) {
            if (fault_remove(id) == 0) {
                snprintf(err, sizeof(err), "no rule with id \"%s\"", id);
                fault_http_error(resp, 404, "NoSuchFaultRule", err);
                return;
            }
        } else if (localstack && !fault_body_empty(req)) {
            cJSON *doc = cJSON_ParseWithLength(req->body, req->body_len);
            if (cJSON_IsObject(doc)) {
                cJSON *arr = cJSON_CreateArray();
                cJSON_AddItemToArray(arr, doc);
                doc = arr;
            }
            if (!cJSON_IsArray(doc)) {
                cJSON_Delete(doc);
                fault_http_error(resp, 400, "InvalidFaultRule",
                                 "the body must be a JSON array of rules");
                return;
            }
            fault_remove_equal(doc);
            cJSON_Delete(doc);
        } else {
            fault_remove(NULL);
        }
    } else {
        fault_http_error(resp, 405, "MethodNotAllowed", "use GET, POST, PATCH or DELETE");
        return;
    }
    cJSON *list = fault_list_json(!localstack);
    if (list == NULL) {
        fault_http_error(resp, 500, "InternalFailure", "out of memory");
        return;
    }
    emu_resp_json(resp, 200, list);
}
