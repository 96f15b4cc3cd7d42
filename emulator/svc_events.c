/*
 * svc_events.c - Amazon CloudWatch Events / EventBridge (JSON 1.1,
 * X-Amz-Target AWSEvents.<Op>): PutRule, DescribeRule, ListRules,
 * DeleteRule, EnableRule, DisableRule, PutTargets, RemoveTargets,
 * ListTargetsByRule, ListRuleNamesByTarget, PutEvents, TestEventPattern;
 * and the control endpoint POST /_greenroom/events/rules/{name}/trigger
 * (events_trigger_http, called by control.c).
 *
 * Schedules fire on the clock: a worker thread (start hook) wakes at least
 * every 250 ms, takes the enabled rules whose next firing time has passed,
 * advances them, and delivers AWS's scheduled-event shape (or the target's
 * Input, InputPath selection or InputTransformer template) to every target,
 * outside the store lock: Lambda (async Invoke with principal
 * events.amazonaws.com and the rule ARN as source ARN, so Lambda checks its
 * policy), SQS (SendMessage) and SNS (Publish). Throttling and 5xx answers
 * are retried twice (1 s, 2 s); every attempt is a journalled call.
 *
 * rate() periods are multiplied by GREENROOM_SCHEDULE_SCALE (a test hook,
 * default 1; 0.01 makes rate(1 minute) fire every 0.6 s); cron() follows the
 * UTC wall clock (fields: minute hour day-of-month month day-of-week year,
 * with * ? , - / L W # and month/day names).
 *
 * PutEvents matches event patterns (exact values, prefix, anything-but,
 * numeric, exists) against the bus's enabled rules and delivers at once.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events_wire.h"
#include "worker.h"

#define EVENTS_MAX_TARGETS 5

/* The scheduler (events_work below). Nothing wakes it: it looks for due
 * rules every 0.25 s; deliveries stop retrying once it is stopping. */
static double events_work(void *arg);
static struct emu_worker events_worker = EMU_WORKER_INIT(events_work, NULL);

static const char *const events_schema[] = {
    "CREATE TABLE events_rules ("
    " account TEXT NOT NULL, region TEXT NOT NULL, bus TEXT NOT NULL, name TEXT NOT NULL,"
    " arn TEXT NOT NULL, schedule TEXT NOT NULL DEFAULT '', pattern TEXT NOT NULL DEFAULT '',"
    " state TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',"
    " role_arn TEXT NOT NULL DEFAULT '', next_fire REAL NOT NULL DEFAULT 0,"
    " created REAL NOT NULL, PRIMARY KEY (account, region, bus, name));"
    "CREATE TABLE events_targets ("
    " account TEXT NOT NULL, region TEXT NOT NULL, bus TEXT NOT NULL, rule TEXT NOT NULL,"
    " id TEXT NOT NULL, arn TEXT NOT NULL, target TEXT NOT NULL,"
    " PRIMARY KEY (account, region, bus, rule, id));",
};

/* ------------------------------------------------------------- schedules */

/* One cron field: a bitmask of allowed values plus the special forms. */
struct cron_field {
    uint64_t bits;
    int last;         /* L (day of month), nL (day of week: bits hold n) */
    int nearest_wday; /* nW: day n (0 = none) */
    int nth;          /* d#n: the n-th weekday d (bits hold d) */
};

struct cron_expr {
    struct cron_field min, hour, dom, mon, dow;
    int year_lo, year_hi, year_step; /* year_step 0: any year */
    int dom_any, dow_any;            /* '?' or '*' */
};

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const day_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

/* Parses a number or a name (names[i] means first + i). Returns the value or
 * -1. Advances *p. */
static int cron_value(const char **p, const char *const *names, int nnames, int first)
{
    if (isdigit((unsigned char)**p)) {
        int v = 0;
        int digits = 0;
        while (isdigit((unsigned char)**p) && digits < 5) {
            v = v * 10 + (**p - '0');
            (*p)++;
            digits++;
        }
        return v;
    }
    for (int i = 0; names && i < nnames; i++) {
        if (strncasecmp(*p, names[i], 3) == 0) {
            *p += 3;
            return first + i;
        }
    }
    return -1;
}

/* Parses one field over [lo, hi]. Returns 0 or -1. */
static int cron_field_parse(const char *s, int lo, int hi, const char *const *names, int nnames,
                            int allow_q, int allow_special, struct cron_field *f, int *any)
{
    memset(f, 0, sizeof(*f));
    *any = 0;
    if ((strcmp(s, "?") == 0 && allow_q) || strcmp(s, "*") == 0) {
        for (int v = lo; v <= hi; v++) {
            f->bits |= (uint64_t)1 << v;
        }
        *any = 1;
        return 0;
    }
    if (allow_special == 1 && strcmp(s, "L") == 0) {
        f->last = 1;
        return 0;
    }
    if (allow_special == 1 && strcmp(s, "LW") == 0) {
        f->last = 1;
        f->nearest_wday = -1;
        return 0;
    }
    const char *p = s;
    for (;;) {
        int a;
        int b;
        int step = 1;
        if (*p == '*') {
            a = lo;
            b = hi;
            p++;
        } else {
            a = cron_value(&p, names, nnames, lo == 0 ? 0 : 1);
            if (a < 0) {
                return -1;
            }
            b = a;
            if (allow_special == 1 && *p == 'W') {
                if (a < lo || a > hi) {
                    return -1;
                }
                f->nearest_wday = a;
                p++;
                return *p == 0 ? 0 : -1;
            }
            if (allow_special == 2 && *p == 'L') {
                if (a < lo || a > hi) {
                    return -1;
                }
                f->last = 1;
                f->bits = (uint64_t)1 << a;
                p++;
                return *p == 0 ? 0 : -1;
            }
            if (allow_special == 2 && *p == '#') {
                p++;
                int n = cron_value(&p, NULL, 0, 0);
                if (a < lo || a > hi || n < 1 || n > 5) {
                    return -1;
                }
                f->nth = n;
                f->bits = (uint64_t)1 << a;
                return *p == 0 ? 0 : -1;
            }
            if (*p == '-') {
                p++;
                b = cron_value(&p, names, nnames, lo == 0 ? 0 : 1);
                if (b < 0) {
                    return -1;
                }
            }
        }
        if (*p == '/') {
            p++;
            step = cron_value(&p, NULL, 0, 0);
            if (step < 1) {
                return -1;
            }
            if (a == b) {
                b = hi;
            }
        }
        if (a < lo || b > hi || a > b) {
            return -1;
        }
        for (int v = a; v <= b; v += step) {
            f->bits |= (uint64_t)1 << v;
        }
        if (*p == ',') {
            p++;
            continue;
        }
        return *p == 0 ? 0 : -1;
    }
}

/* Parses "cron(a b c d e f)". Returns 0 or -1. */
static int cron_parse(const char *expr, struct cron_expr *c)
{
    memset(c, 0, sizeof(*c));
    size_t n = strlen(expr);
    if (n < 7 || strncmp(expr, "cron(", 5) != 0 || expr[n - 1] != ')') {
        return -1;
    }
    char buf[256];
    if (n - 6 >= sizeof(buf)) {
        return -1;
    }
    memcpy(buf, expr + 5, n - 6);
    buf[n - 6] = 0;
    char *fields[7];
    int nf = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (nf == 7) {
            return -1;
        }
        fields[nf++] = tok;
    }
    if (nf != 6) {
        return -1;
    }
    int any;
    if (cron_field_parse(fields[0], 0, 59, NULL, 0, 0, 0, &c->min, &any) != 0 ||
        cron_field_parse(fields[1], 0, 23, NULL, 0, 0, 0, &c->hour, &any) != 0 ||
        cron_field_parse(fields[2], 1, 31, NULL, 0, 1, 1, &c->dom, &c->dom_any) != 0 ||
        cron_field_parse(fields[3], 1, 12, month_names, 12, 0, 0, &c->mon, &any) != 0 ||
        cron_field_parse(fields[4], 1, 7, day_names, 7, 1, 2, &c->dow, &c->dow_any) != 0) {
        return -1;
    }
    /* exactly one of day-of-month / day-of-week must be '?' */
    int dom_q = strcmp(fields[2], "?") == 0;
    int dow_q = strcmp(fields[4], "?") == 0;
    if (dom_q == dow_q) {
        return -1;
    }
    if (dom_q) {
        c->dom_any = 1;
    }
    if (dow_q) {
        c->dow_any = 1;
    }
    const char *y = fields[5];
    if (strcmp(y, "*") == 0 || strcmp(y, "?") == 0) {
        c->year_step = 0;
        return 0;
    }
    const char *p = y;
    int a = cron_value(&p, NULL, 0, 0);
    int b = a;
    int step = 1;
    if (*p == '-') {
        p++;
        b = cron_value(&p, NULL, 0, 0);
    }
    if (*p == '/') {
        p++;
        step = cron_value(&p, NULL, 0, 0);
        if (a == b) {
            b = 2199;
        }
    }
    if (*p != 0 || a < 1970 || b > 2199 || a > b || step < 1) {
        return -1;
    }
    c->year_lo = a;
    c->year_hi = b;
    c->year_step = step;
    return 0;
}

static int days_in_month(int year, int mon /* 1..12 */)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mon == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) {
        return 29;
    }
    return d[mon - 1];
}

/* Does the day (tm: UTC broken-down) match the day fields? */
static int cron_day_match(const struct cron_expr *c, const struct tm *tm)
{
    int year = tm->tm_year + 1900;
    int mon = tm->tm_mon + 1;
    int mday = tm->tm_mday;
    int dim = days_in_month(year, mon);
    int wday = tm->tm_wday + 1; /* 1 = SUN */
    if (!(c->mon.bits & ((uint64_t)1 << mon))) {
        return 0;
    }
    if (c->year_step &&
        (year < c->year_lo || year > c->year_hi || (year - c->year_lo) % c->year_step != 0)) {
        return 0;
    }
    if (!c->dom_any) {
        const struct cron_field *f = &c->dom;
        if (f->nearest_wday) {
            int target = f->nearest_wday < 0 ? dim : f->nearest_wday;
            if (target > dim) {
                return 0;
            }
            /* weekday of target: shift from today's */
            int tw = ((tm->tm_wday + (target - mday)) % 7 + 7) % 7; /* 0 = SUN */
            int day = target;
            if (tw == 6) {
                day = target == 1 ? target + 2 : target - 1;
            } else if (tw == 0) {
                day = target == dim ? target - 2 : target + 1;
            }
            return mday == day;
        }
        if (f->last) {
            return mday == dim;
        }
        return (f->bits & ((uint64_t)1 << mday)) != 0;
    }
    if (!c->dow_any) {
        const struct cron_field *f = &c->dow;
        if (!(f->bits & ((uint64_t)1 << wday))) {
            return 0;
        }
        if (f->last) {
            return mday + 7 > dim;
        }
        if (f->nth) {
            return (mday - 1) / 7 + 1 == f->nth;
        }
        return 1;
    }
    return 1;
}

/* The first minute strictly after `after` matching c (epoch seconds), or 0
 * when none within five years. */
static double cron_next(const struct cron_expr *c, double after)
{
    time_t t = (time_t)after;
    t = t - t % 60 + 60;
    time_t limit = t + (time_t)5 * 366 * 86400;
    while (t < limit) {
        struct tm tm;
        gmtime_r(&t, &tm);
        if (!cron_day_match(c, &tm)) {
            t += 86400 - (tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
            continue;
        }
        if (!(c->hour.bits & ((uint64_t)1 << tm.tm_hour))) {
            t += 3600 - (tm.tm_min * 60 + tm.tm_sec);
            continue;
        }
        if (!(c->min.bits & ((uint64_t)1 << tm.tm_min))) {
            t += 60;
            continue;
        }
        return (double)t;
    }
    return 0;
}

/* Parses "rate(N unit)". Returns the period in seconds, or -1. */
static double rate_parse(const char *expr)
{
    size_t n = strlen(expr);
    if (n < 8 || strncmp(expr, "rate(", 5) != 0 || expr[n - 1] != ')') {
        return -1;
    }
    const char *p = expr + 5;
    char *end = NULL;
    errno = 0;
    long v = strtol(p, &end, 10);
    if (end == p || errno != 0 || v < 1 || v > 1000000 || *end != ' ') {
        return -1;
    }
    char unit[16];
    size_t ul = (size_t)(expr + n - 1 - (end + 1));
    if (ul == 0 || ul >= sizeof(unit)) {
        return -1;
    }
    memcpy(unit, end + 1, ul);
    unit[ul] = 0;
    double sec;
    const char *singular;
    if (strncmp(unit, "minute", 6) == 0) {
        sec = 60;
        singular = "minute";
    } else if (strncmp(unit, "hour", 4) == 0) {
        sec = 3600;
        singular = "hour";
    } else if (strncmp(unit, "day", 3) == 0) {
        sec = 86400;
        singular = "day";
    } else {
        return -1;
    }
    size_t sl = strlen(singular);
    int plural = strlen(unit) == sl + 1 && unit[sl] == 's';
    if (strncmp(unit, singular, sl) != 0 || (!plural && strlen(unit) != sl) || (v == 1) == plural) {
        return -1;
    }
    return sec * (double)v;
}

/* The next firing time after `after` for a schedule expression, or -1 when it
 * is not valid. */
static double schedule_next(const char *expr, double after)
{
    if (strncmp(expr, "rate(", 5) == 0) {
        double period = rate_parse(expr);
        if (period < 0) {
            return -1;
        }
        return after + period * evw_schedule_scale();
    }
    struct cron_expr c;
    if (cron_parse(expr, &c) != 0) {
        return -1;
    }
    double next = cron_next(&c, after);
    return next > 0 ? next : -1;
}

/* ------------------------------------------------------- pattern matching */

static int pattern_value_match(const cJSON *rule, const cJSON *v);

/* One content filter object ({"prefix": ...} etc.) against a scalar. */
static int pattern_filter_match(const cJSON *rule, const cJSON *v)
{
    const cJSON *op = rule->child;
    if (op == NULL || op->string == NULL) {
        return 0;
    }
    if (strcmp(op->string, "exists") == 0) {
        return cJSON_IsTrue(op) ? v != NULL : v == NULL;
    }
    if (v == NULL) {
        return 0;
    }
    if (strcmp(op->string, "prefix") == 0) {
        return cJSON_IsString(op) && cJSON_IsString(v) &&
               strncmp(v->valuestring, op->valuestring, strlen(op->valuestring)) == 0;
    }
    if (strcmp(op->string, "suffix") == 0) {
        if (!cJSON_IsString(op) || !cJSON_IsString(v)) {
            return 0;
        }
        size_t a = strlen(v->valuestring);
        size_t b = strlen(op->valuestring);
        return a >= b && strcmp(v->valuestring + a - b, op->valuestring) == 0;
    }
    if (strcmp(op->string, "anything-but") == 0) {
        if (cJSON_IsArray(op)) {
            const cJSON *x;
            cJSON_ArrayForEach(x, op)
            {
                if (pattern_value_match(x, v)) {
                    return 0;
                }
            }
            return 1;
        }
        return !pattern_value_match(op, v);
    }
    if (strcmp(op->string, "numeric") == 0 && cJSON_IsArray(op) && cJSON_IsNumber(v)) {
        int n = cJSON_GetArraySize(op);
        double num = v->valuedouble;
        for (int i = 0; i + 1 < n; i += 2) {
            const cJSON *o = cJSON_GetArrayItem(op, i);
            const cJSON *d = cJSON_GetArrayItem(op, i + 1);
            if (!cJSON_IsString(o) || !cJSON_IsNumber(d)) {
                return 0;
            }
            const char *s = o->valuestring;
            double x = d->valuedouble;
            int ok = (strcmp(s, "=") == 0 && num == x) || (strcmp(s, "<") == 0 && num < x) ||
                     (strcmp(s, "<=") == 0 && num <= x) || (strcmp(s, ">") == 0 && num > x) ||
                     (strcmp(s, ">=") == 0 && num >= x);
            if (!ok) {
                return 0;
            }
        }
        return 1;
    }
    return 0;
}

/* A pattern list item against one scalar value. */
static int pattern_value_match(const cJSON *rule, const cJSON *v)
{
    if (cJSON_IsObject(rule)) {
        return pattern_filter_match(rule, v);
    }
    if (v == NULL) {
        return 0;
    }
    if (cJSON_IsString(rule)) {
        return cJSON_IsString(v) && strcmp(rule->valuestring, v->valuestring) == 0;
    }
    if (cJSON_IsNumber(rule)) {
        return cJSON_IsNumber(v) && rule->valuedouble == v->valuedouble;
    }
    if (cJSON_IsNull(rule)) {
        return cJSON_IsNull(v);
    }
    if (cJSON_IsBool(rule)) {
        return cJSON_IsBool(v) && cJSON_IsTrue(rule) == cJSON_IsTrue(v);
    }
    return 0;
}

/* Does event match pattern? Both JSON objects. */
static int pattern_match(const cJSON *pattern, const cJSON *event)
{
    const cJSON *key;
    cJSON_ArrayForEach(key, pattern)
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(event, key->string);
        if (cJSON_IsObject(key)) {
            if (!cJSON_IsObject(v) || !pattern_match(key, v)) {
                return 0;
            }
            continue;
        }
        if (!cJSON_IsArray(key)) {
            return 0;
        }
        int any = 0;
        const cJSON *rule;
        cJSON_ArrayForEach(rule, key)
        {
            if (cJSON_IsArray(v)) {
                const cJSON *x;
                cJSON_ArrayForEach(x, v)
                {
                    any |= pattern_value_match(rule, x);
                }
            } else {
                any |= pattern_value_match(rule, v);
            }
        }
        if (!any) {
            return 0;
        }
    }
    return 1;
}

/* Validates a pattern. Returns NULL or a reason. */
static const char *pattern_check(const cJSON *p, int depth)
{
    if (!cJSON_IsObject(p)) {
        return "Filter is not an object";
    }
    if (depth > 10) {
        return "Filter is nested too deeply";
    }
    const cJSON *key;
    cJSON_ArrayForEach(key, p)
    {
        if (cJSON_IsObject(key)) {
            const char *r = pattern_check(key, depth + 1);
            if (r) {
                return r;
            }
        } else if (!cJSON_IsArray(key)) {
            return "Match value must be String, number, true, false, or null";
        }
    }
    return NULL;
}

/* -------------------------------------------------------------- handlers */

static int events_valid_name(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max) {
        return 0;
    }
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static const char *events_bus(const cJSON *in)
{
    const char *b = evw_json_str(in, "EventBusName");
    if (b == NULL || *b == 0) {
        return "default";
    }
    /* an ARN names the bus after "event-bus/" */
    const char *slash = strstr(b, ":event-bus/");
    return slash ? slash + 11 : b;
}

static void events_rule_arn(const char *region, const char *account, const char *bus,
                            const char *name, char *out, size_t len)
{
    if (strcmp(bus, "default") == 0) {
        snprintf(out, len, "arn:aws:events:%s:%s:rule/%s", region, account, name);
    } else {
        snprintf(out, len, "arn:aws:events:%s:%s:rule/%s/%s", region, account, bus, name);
    }
}

/* Binds account, region, bus and key (a rule name, or what the statement
 * keys on next) as parameters first .. first + 3 of st. */
static void events_bind_key(sqlite3_stmt *st, int first, const char *account, const char *region,
                            const char *bus, const char *key)
{
    sqlite3_bind_text(st, first, account, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, first + 1, region, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, first + 2, bus, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, first + 3, key, -1, SQLITE_TRANSIENT);
}

/* Loads a rule row as a DescribeRule object (new), or NULL. Store locked. */
static cJSON *events_rule_load(const char *account, const char *region, const char *bus,
                               const char *name)
{
    sqlite3_stmt *st = emu_stmt("SELECT arn, schedule, pattern, state, description, role_arn"
                                " FROM events_rules WHERE account = ? AND region = ? AND bus = ?"
                                " AND name = ?");
    if (st == NULL) {
        return NULL;
    }
    events_bind_key(st, 1, account, region, bus, name);
    cJSON *o = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "Name", name);
        cJSON_AddStringToObject(o, "Arn", (const char *)sqlite3_column_text(st, 0));
        const char *sched = (const char *)sqlite3_column_text(st, 1);
        const char *pat = (const char *)sqlite3_column_text(st, 2);
        const char *desc = (const char *)sqlite3_column_text(st, 4);
        const char *role = (const char *)sqlite3_column_text(st, 5);
        if (pat && *pat) {
            cJSON_AddStringToObject(o, "EventPattern", pat);
        }
        if (sched && *sched) {
            cJSON_AddStringToObject(o, "ScheduleExpression", sched);
        }
        cJSON_AddStringToObject(o, "State", (const char *)sqlite3_column_text(st, 3));
        if (desc && *desc) {
            cJSON_AddStringToObject(o, "Description", desc);
        }
        if (role && *role) {
            cJSON_AddStringToObject(o, "RoleArn", role);
        }
        cJSON_AddStringToObject(o, "EventBusName", bus);
    }
    emu_stmt_done(st);
    return o;
}

static void events_put_rule(struct emu_request *req, struct emu_response *resp)
{
    const cJSON *in = req->json;
    const char *name = evw_json_str(in, "Name");
    const char *sched = evw_json_str(in, "ScheduleExpression");
    const char *pat = evw_json_str(in, "EventPattern");
    const char *state = evw_json_str(in, "State");
    const char *desc = evw_json_str(in, "Description");
    const char *role = evw_json_str(in, "RoleArn");
    const char *bus = events_bus(in);
    cJSON *old = NULL;
    if (!events_valid_name(name, 64)) {
        emu_fail(resp, AWS_VALIDATION_EXCEPTION,
                 "1 validation error detected: Value '%s' at 'name' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+",
                 name ? name : "");
        goto out;
    }
    if ((sched == NULL || *sched == 0) && (pat == NULL || *pat == 0)) {
        emu_fail(resp, AWS_VALIDATION_EXCEPTION,
                 "Parameter(s) EventPattern or ScheduleExpression must be specified.");
        goto out;
    }
    double next = 0;
    if (sched && *sched) {
        if (strcmp(bus, "default") != 0) {
            emu_fail(resp, AWS_VALIDATION_EXCEPTION,
                     "ScheduleExpression is supported only on the default event bus.");
            goto out;
        }
        next = schedule_next(sched, emu_now());
        if (next < 0) {
            emu_fail(resp, AWS_VALIDATION_EXCEPTION, "Parameter ScheduleExpression is not valid.");
            goto out;
        }
    }
    if (pat && *pat) {
        cJSON *p = cJSON_Parse(pat);
        const char *why = p ? pattern_check(p, 0) : "Filter is not valid JSON";
        cJSON_Delete(p);
        if (why) {
            emu_fail(resp, EVENTS_INVALID_EVENT_PATTERN, "Event pattern is not valid. Reason: %s",
                     why);
            goto out;
        }
    }
    if (state == NULL || *state == 0) {
        state = "ENABLED";
    }
    if (strcmp(state, "ENABLED") != 0 && strcmp(state, "DISABLED") != 0 &&
        strcmp(state, "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS") != 0) {
        emu_fail(resp, AWS_VALIDATION_EXCEPTION,
                 "1 validation error detected: Value '%s' at 'state' failed to satisfy "
                 "constraint: Member must satisfy enum value set: [ENABLED, DISABLED, "
                 "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]",
                 state);
        goto out;
    }
    if (strcmp(bus, "default") != 0) {
        emu_fail(resp, EVENTS_RESOURCE_NOT_FOUND, "Event bus %s does not exist.", bus);
        goto out;
    }
    char arn[512];
    events_rule_arn(req->region, req->account, bus, name, arn, sizeof(arn));
    old = events_rule_load(req->account, req->region, bus, name);
    /* An unchanged schedule keeps its phase. */
    if (old && sched) {
        const char *os = evw_json_str(old, "ScheduleExpression");
        if (os && strcmp(os, sched) == 0) {
            sqlite3_stmt *q = emu_stmt("SELECT next_fire FROM events_rules WHERE account = ? AND"
                                       " region = ? AND bus = ? AND name = ?");
            if (q) {
                sqlite3_bind_text(q, 1, req->account, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(q, 2, req->region, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(q, 3, bus, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(q, 4, name, -1, SQLITE_TRANSIENT);
                if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_double(q, 0) > 0) {
                    next = sqlite3_column_double(q, 0);
                }
            }
            emu_stmt_done(q);
        }
    }
    sqlite3_stmt *st = emu_stmt(
        "INSERT INTO events_rules(account, region, bus, name, arn, schedule, pattern, state,"
        " description, role_arn, next_fire, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(account, region, bus, name) DO UPDATE SET schedule = excluded.schedule,"
        " pattern = excluded.pattern, state = excluded.state, description ="
        " excluded.description, role_arn = excluded.role_arn, next_fire = excluded.next_fire");
    int ok = 0;
    if (st) {
        events_bind_key(st, 1, req->account, req->region, bus, name);
        sqlite3_bind_text(st, 5, arn, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 6, sched ? sched : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 7, pat ? pat : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 8, state, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 9, desc ? desc : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 10, role ? role : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 11, next);
        sqlite3_bind_double(st, 12, emu_now());
        ok = sqlite3_step(st) == SQLITE_DONE;
    }
    emu_stmt_done(st);
    if (!ok) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        goto out;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "RuleArn", arn);
    emu_resp_json(resp, 200, o);
out:
    cJSON_Delete(old);
}

/* Fails with ResourceNotFoundException for a missing rule. */
/* The rule the request names in `param` ("Name" or "Rule") on its event bus,
 * loaded as a DescribeRule object (new; the caller deletes it), with *name
 * and *bus (borrowed) set; NULL when resp holds ResourceNotFoundException. */
static cJSON *events_rule_or_fail(struct emu_request *req, struct emu_response *resp,
                                  const char *param, const char **name, const char **bus)
{
    *name = evw_json_str(req->json, param);
    *bus = events_bus(req->json);
    cJSON *r = *name ? events_rule_load(req->account, req->region, *bus, *name) : NULL;
    if (r == NULL) {
        emu_fail(resp, EVENTS_RESOURCE_NOT_FOUND, "Rule %s does not exist on EventBus %s.",
                 *name ? *name : "", *bus);
    }
    return r;
}

static void events_describe_rule(struct emu_request *req, struct emu_response *resp)
{
    const char *name;
    const char *bus;
    cJSON *o = events_rule_or_fail(req, resp, "Name", &name, &bus);
    if (o == NULL) {
        return;
    }
    cJSON_AddStringToObject(o, "CreatedBy", req->account);
    emu_resp_json(resp, 200, o);
}

static void events_list_rules(struct emu_request *req, struct emu_response *resp)
{
    const char *prefix = evw_json_str(req->json, "NamePrefix");
    const char *token = evw_json_str(req->json, "NextToken");
    const char *bus = events_bus(req->json);
    const cJSON *lim = cJSON_GetObjectItemCaseSensitive(req->json, "Limit");
    int limit = cJSON_IsNumber(lim) ? (int)lim->valuedouble : 100;
    if (limit < 1 || limit > 100) {
        limit = 100;
    }
    sqlite3_stmt *st = emu_stmt("SELECT name FROM events_rules WHERE account = ? AND region = ?"
                                " AND bus = ? AND name > ? ORDER BY name");
    if (st == NULL) {
        emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
        return;
    }
    events_bind_key(st, 1, req->account, req->region, bus, token ? token : "");
    struct emu_kvlist names = {0};
    int more = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *n = (const char *)sqlite3_column_text(st, 0);
        if (n == NULL || (prefix && strncmp(n, prefix, strlen(prefix)) != 0)) {
            continue;
        }
        if ((int)names.n == limit) {
            more = 1;
            break;
        }
        emu_kv_add(&names, n, "");
    }
    emu_stmt_done(st);
    cJSON *o = cJSON_CreateObject();
    cJSON *rules = cJSON_AddArrayToObject(o, "Rules");
    for (size_t i = 0; i < names.n; i++) {
        cJSON *r = events_rule_load(req->account, req->region, bus, names.items[i].key);
        if (r) {
            cJSON_AddItemToArray(rules, r);
        }
    }
    if (more && names.n > 0) {
        cJSON_AddStringToObject(o, "NextToken", names.items[names.n - 1].key);
    }
    emu_kv_release(&names);
    emu_resp_json(resp, 200, o);
}

static int events_target_count(const char *account, const char *region, const char *bus,
                               const char *rule)
{
    sqlite3_stmt *st = emu_stmt("SELECT COUNT(*) FROM events_targets WHERE account = ? AND"
                                " region = ? AND bus = ? AND rule = ?");
    int n = 0;
    if (st) {
        events_bind_key(st, 1, account, region, bus, rule);
        if (sqlite3_step(st) == SQLITE_ROW) {
            n = sqlite3_column_int(st, 0);
        }
    }
    emu_stmt_done(st);
    return n;
}

static void events_delete_rule(struct emu_request *req, struct emu_response *resp)
{
    const char *name = evw_json_str(req->json, "Name");
    const char *bus = events_bus(req->json);
    const cJSON *force = cJSON_GetObjectItemCaseSensitive(req->json, "Force");
    if (!events_valid_name(name, 64)) {
        emu_fail(resp, AWS_VALIDATION_EXCEPTION,
                 "1 validation error detected: Value at 'name' "
                 "failed to satisfy constraint");
        return;
    }
    if (!cJSON_IsTrue(force) && events_target_count(req->account, req->region, bus, name) > 0) {
        emu_fail(resp, AWS_VALIDATION_EXCEPTION, "Rule can't be deleted since it has targets.");
        return;
    }
    static const char *const sqls[2] = {
        "DELETE FROM events_targets WHERE account = ? AND region = ? AND bus = ? AND rule = ?",
        "DELETE FROM events_rules WHERE account = ? AND region = ? AND bus = ? AND name = ?",
    };
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st = emu_stmt(sqls[i]);
        if (st) {
            events_bind_key(st, 1, req->account, req->region, bus, name);
            sqlite3_step(st);
        }
        emu_stmt_done(st);
    }
    emu_resp_json(resp, 200, cJSON_CreateObject());
}

static void events_set_state(struct emu_request *req, struct emu_response *resp, const char *state)
{
    const char *name;
    const char *bus;
    cJSON *r = events_rule_or_fail(req, resp, "Name", &name, &bus);
    if (r == NULL) {
        return;
    }
    const char *sched = evw_json_str(r, "ScheduleExpression");
    double next = 0;
    if (sched && strcmp(state, "ENABLED") == 0) {
        next = schedule_next(sched, emu_now());
    }
    sqlite3_stmt *st = emu_stmt("UPDATE events_rules SET state = ?, next_fire = CASE WHEN ? > 0"
                                " AND state != 'ENABLED' THEN ? ELSE next_fire END WHERE"
                                " account = ? AND region = ? AND bus = ? AND name = ?");
    if (st) {
        sqlite3_bind_text(st, 1, state, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 2, next);
        sqlite3_bind_double(st, 3, next);
        events_bind_key(st, 4, req->account, req->region, bus, name);
        sqlite3_step(st);
    }
    emu_stmt_done(st);
    cJSON_Delete(r);
    emu_resp_json(resp, 200, cJSON_CreateObject());
}

static void events_enable_rule(struct emu_request *req, struct emu_response *resp)
{
    events_set_state(req, resp, "ENABLED");
}

static void events_disable_rule(struct emu_request *req, struct emu_response *resp)
{
    events_set_state(req, resp, "DISABLED");
}

static void add_failed_entry(cJSON *failed, const char *id, const char *code, const char *msg)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "TargetId", id ? id : "");
    cJSON_AddStringToObject(f, "ErrorCode", code);
    cJSON_AddStringToObject(f, "ErrorMessage", msg);
    cJSON_AddItemToArray(failed, f);
}

static void events_put_targets(struct emu_request *req, struct emu_response *resp)
{
    const char *rule;
    const char *bus;
    const cJSON *targets = cJSON_GetObjectItemCaseSensitive(req->json, "Targets");
    cJSON *r = events_rule_or_fail(req, resp, "Rule", &rule, &bus);
    if (r == NULL) {
        return;
    }
    cJSON_Delete(r);
    int n = cJSON_IsArray(targets) ? cJSON_GetArraySize(targets) : 0;
    if (n == 0 || n > 10) {
        emu_fail(resp, AWS_VALIDATION_EXCEPTION,
                 "1 validation error detected: Value at 'targets' failed to satisfy constraint: "
                 "Member must have length between 1 and 10");
        return;
    }
    cJSON *failed = cJSON_CreateArray();
    const cJSON *t;
    cJSON_ArrayForEach(t, targets)
    {
        const char *id = evw_json_str(t, "Id");
        const char *arn = evw_json_str(t, "Arn");
        const char *input = evw_json_str(t, "Input");
        struct evw_arn a;
        if (!events_valid_name(id, 64)) {
            add_failed_entry(failed, id, "ValidationException", "Target Id is not valid.");
            continue;
        }
        if (arn == NULL || evw_arn_parse(arn, &a) != 0) {
            add_failed_entry(failed, id, "ValidationException", "Parameter Arn is not valid.");
            continue;
        }
        if ((input != NULL) + (evw_json_str(t, "InputPath") != NULL) +
                (cJSON_GetObjectItemCaseSensitive(t, "InputTransformer") != NULL) >
            1) {
            add_failed_entry(failed, id, "ValidationException",
                             "Only one of Input, InputPath, or InputTransformer must be provided.");
            continue;
        }
        if (input) {
            cJSON *p = cJSON_Parse(input);
            cJSON_Delete(p);
            if (p == NULL) {
                add_failed_entry(failed, id, "ValidationException",
                                 "Parameter Input is not valid JSON.");
                continue;
            }
        }
        /* replace, or add when under the per-rule limit */
        sqlite3_stmt *st = emu_stmt("SELECT 1 FROM events_targets WHERE account = ? AND"
                                    " region = ? AND bus = ? AND rule = ? AND id = ?");
        int exists = 0;
        if (st) {
            events_bind_key(st, 1, req->account, req->region, bus, rule);
            sqlite3_bind_text(st, 5, id, -1, SQLITE_TRANSIENT);
            exists = sqlite3_step(st) == SQLITE_ROW;
        }
        emu_stmt_done(st);
        if (!exists &&
            events_target_count(req->account, req->region, bus, rule) >= EVENTS_MAX_TARGETS) {
            emu_fail(resp, EVENTS_LIMIT_EXCEEDED,
                     "The requested resource exceeds the maximum number allowed.");
            cJSON_Delete(failed);
            return;
        }
        char *text = cJSON_PrintUnformatted(t);
        st = emu_stmt("INSERT OR REPLACE INTO events_targets(account, region, bus, rule, id, arn,"
                      " target) VALUES (?, ?, ?, ?, ?, ?, ?)");
        if (st && text) {
            events_bind_key(st, 1, req->account, req->region, bus, rule);
            sqlite3_bind_text(st, 5, id, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 6, arn, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 7, text, -1, SQLITE_TRANSIENT);
            sqlite3_step(st);
        }
        emu_stmt_done(st);
        free(text);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "FailedEntryCount", cJSON_GetArraySize(failed));
    cJSON_AddItemToObject(o, "FailedEntries", failed);
    emu_resp_json(resp, 200, o);
}

static void events_remove_targets(struct emu_request *req, struct emu_response *resp)
{
    const char *rule;
    const char *bus;
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(req->json, "Ids");
    cJSON *r = events_rule_or_fail(req, resp, "Rule", &rule, &bus);
    if (r == NULL) {
        return;
    }
    cJSON_Delete(r);
    if (!cJSON_IsArray(ids) || cJSON_GetArraySize(ids) == 0) {
        emu_fail(resp, AWS_VALIDATION_EXCEPTION,
                 "1 validation error detected: Value at 'ids' failed to satisfy constraint: "
                 "Member must have length greater than or equal to 1");
        return;
    }
    cJSON *failed = cJSON_CreateArray();
    const cJSON *id;
    cJSON_ArrayForEach(id, ids)
    {
        if (!cJSON_IsString(id)) {
            continue;
        }
        sqlite3_stmt *st = emu_stmt("DELETE FROM events_targets WHERE account = ? AND region = ?"
                                    " AND bus = ? AND rule = ? AND id = ?");
        int changed = 0;
        if (st) {
            events_bind_key(st, 1, req->account, req->region, bus, rule);
            sqlite3_bind_text(st, 5, id->valuestring, -1, SQLITE_TRANSIENT);
            if (sqlite3_step(st) == SQLITE_DONE) {
                changed = sqlite3_changes(emu_db());
            }
        }
        emu_stmt_done(st);
        if (!changed) {
            add_failed_entry(failed, id->valuestring, "ResourceNotFoundException",
                             "Target does not exist.");
        }
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "FailedEntryCount", cJSON_GetArraySize(failed));
    cJSON_AddItemToObject(o, "FailedEntries", failed);
    emu_resp_json(resp, 200, o);
}

/* The targets of a rule as an array of Target objects (new). Store locked. */
static cJSON *events_targets_load(const char *account, const char *region, const char *bus,
                                  const char *rule)
{
    cJSON *arr = cJSON_CreateArray();
    sqlite3_stmt *st = emu_stmt("SELECT target FROM events_targets WHERE account = ? AND"
                                " region = ? AND bus = ? AND rule = ? ORDER BY id");
    if (st == NULL) {
        return arr;
    }
    events_bind_key(st, 1, account, region, bus, rule);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        cJSON *o = cJSON_Parse(t ? t : "{}");
        if (o) {
            cJSON_AddItemToArray(arr, o);
        }
    }
    emu_stmt_done(st);
    return arr;
}

static void events_list_targets_by_rule(struct emu_request *req, struct emu_response *resp)
{
    const char *rule;
    const char *bus;
    cJSON *r = events_rule_or_fail(req, resp, "Rule", &rule, &bus);
    if (r == NULL) {
        return;
    }
    cJSON_Delete(r);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "Targets", events_targets_load(req->account, req->region, bus, rule));
    emu_resp_json(resp, 200, o);
}

static void events_list_rule_names_by_target(struct emu_request *req, struct emu_response *resp)
{
    const char *arn = evw_json_str(req->json, "TargetArn");
    const char *bus = events_bus(req->json);
    if (arn == NULL) {
        emu_fail(resp, AWS_VALIDATION_EXCEPTION, "TargetArn is required.");
        return;
    }
    sqlite3_stmt *st = emu_stmt("SELECT DISTINCT rule FROM events_targets WHERE account = ? AND"
                                " region = ? AND bus = ? AND arn = ? ORDER BY rule");
    cJSON *o = cJSON_CreateObject();
    cJSON *names = cJSON_AddArrayToObject(o, "RuleNames");
    if (st) {
        events_bind_key(st, 1, req->account, req->region, bus, arn);
        while (sqlite3_step(st) == SQLITE_ROW) {
            cJSON_AddItemToArray(names,
                                 cJSON_CreateString((const char *)sqlite3_column_text(st, 0)));
        }
    }
    emu_stmt_done(st);
    emu_resp_json(resp, 200, o);
}

/* ------------------------------------------------------------- delivery */

static void events_time(char out[32], double t)
{
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The value at a JSONPath-like "$", "$.a.b" in event (borrowed), or NULL. */
static const cJSON *events_select(const cJSON *event, const char *path)
{
    if (path == NULL || path[0] != '$') {
        return NULL;
    }
    const cJSON *sel = event;
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path + 1);
    char *save = NULL;
    for (char *k = strtok_r(buf, ".", &save); k && sel; k = strtok_r(NULL, ".", &save)) {
        sel = cJSON_GetObjectItemCaseSensitive(sel, k);
    }
    return sel;
}

/* InputTransformer: InputTemplate with <name> replaced by the values that
 * InputPathsMap selects (strings bare, other values as JSON). New string. */
static char *events_transform(const cJSON *xf, const cJSON *event)
{
    const char *tmpl = evw_json_str(xf, "InputTemplate");
    const cJSON *paths = cJSON_GetObjectItemCaseSensitive(xf, "InputPathsMap");
    struct emu_buf b = {0};
    for (const char *p = tmpl ? tmpl : ""; *p;) {
        const char *close = *p == '<' ? strchr(p, '>') : NULL;
        if (close && close - p - 1 > 0 && close - p - 1 < 128) {
            char name[128];
            snprintf(name, sizeof(name), "%.*s", (int)(close - p - 1), p + 1);
            const cJSON *path = cJSON_GetObjectItemCaseSensitive(paths, name);
            if (cJSON_IsString(path)) {
                const cJSON *v = events_select(event, path->valuestring);
                if (cJSON_IsString(v)) {
                    emu_buf_puts(&b, v->valuestring);
                } else if (v) {
                    char *txt = cJSON_PrintUnformatted(v);
                    emu_buf_puts(&b, txt ? txt : "null");
                    free(txt);
                } else {
                    emu_buf_puts(&b, "null");
                }
                p = close + 1;
                continue;
            }
        }
        emu_buf_append(&b, p, 1);
        p++;
    }
    return emu_buf_take(&b);
}

/* What a target receives for event: its Input, the InputPath selection
 * ("$", "$.a.b"), its InputTransformer's template, or the event. Returns a
 * new string. */
static char *events_payload(const cJSON *target, const cJSON *event)
{
    const char *input = evw_json_str(target, "Input");
    if (input) {
        return strdup(input);
    }
    const cJSON *xf = cJSON_GetObjectItemCaseSensitive(target, "InputTransformer");
    if (cJSON_IsObject(xf)) {
        return events_transform(xf, event);
    }
    const char *path = evw_json_str(target, "InputPath");
    const cJSON *sel = path ? events_select(event, path) : event;
    if (sel == NULL) {
        return strdup("null");
    }
    return cJSON_PrintUnformatted(sel);
}

/* Delivers event to every target (array) of the rule. No lock held.
 * Fills `report` (may be NULL) with {Id, Arn, StatusCode, ErrorCode}. */
static void events_deliver_all(const cJSON *targets, const cJSON *event, const char *rule_arn,
                               cJSON *report)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, targets)
    {
        const char *arn = evw_json_str(t, "Arn");
        char *payload = events_payload(t, event);
        struct evw_result r;
        memset(&r, 0, sizeof(r));
        /* throttling and 5xx are retried twice, after 1 s and 2 s */
        for (int attempt = 0; arn && payload && attempt < 3; attempt++) {
            if (attempt > 0) {
                struct timespec ts = {1 << (attempt - 1), 0};
                nanosleep(&ts, NULL);
            }
            evw_deliver(arn, payload, "events.amazonaws.com", rule_arn, &r);
            if (!evw_retryable(&r) || emu_worker_stopping(&events_worker)) {
                break;
            }
        }
        if (report) {
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "Id", evw_json_str(t, "Id") ? evw_json_str(t, "Id") : "");
            cJSON_AddStringToObject(x, "Arn", arn ? arn : "");
            cJSON_AddNumberToObject(x, "StatusCode", r.status);
            if (r.code[0]) {
                cJSON_AddStringToObject(x, "ErrorCode", r.code);
            }
            cJSON_AddItemToArray(report, x);
        }
        free(payload);
    }
}

/* AWS's scheduled event for a rule (new). */
static cJSON *events_scheduled_event(const char *account, const char *region, const char *rule_arn,
                                     double when)
{
    char id[37];
    char ts[32];
    emu_uuid(id);
    events_time(ts, when);
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "version", "0");
    cJSON_AddStringToObject(ev, "id", id);
    cJSON_AddStringToObject(ev, "detail-type", "Scheduled Event");
    cJSON_AddStringToObject(ev, "source", "aws.events");
    cJSON_AddStringToObject(ev, "account", account);
    cJSON_AddStringToObject(ev, "time", ts);
    cJSON_AddStringToObject(ev, "region", region);
    cJSON *res = cJSON_AddArrayToObject(ev, "resources");
    cJSON_AddItemToArray(res, cJSON_CreateString(rule_arn));
    cJSON_AddObjectToObject(ev, "detail");
    return ev;
}

/* Fires a scheduled rule now: loads its targets and delivers. Returns the
 * number of targets, or -1 when the rule does not exist. No lock held. */
static int events_fire(const char *account, const char *region, const char *bus, const char *name,
                       cJSON *report)
{
    if (emu_store_begin(0) != 0) {
        return -1;
    }
    cJSON *rule = events_rule_load(account, region, bus, name);
    cJSON *targets = rule ? events_targets_load(account, region, bus, name) : NULL;
    emu_store_end(1);
    if (rule == NULL) {
        return -1;
    }
    const char *arn = evw_json_str(rule, "Arn");
    cJSON *ev = events_scheduled_event(account, region, arn, emu_now());
    events_deliver_all(targets, ev, arn, report);
    int n = cJSON_GetArraySize(targets);
    cJSON_Delete(ev);
    cJSON_Delete(targets);
    cJSON_Delete(rule);
    return n;
}

/* PutEvents: matches each entry against the bus's enabled pattern rules and
 * delivers. Runs without a transaction (deliveries call other services). */
static void events_put_events(struct emu_request *req, struct emu_response *resp)
{
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive(req->json, "Entries");
    int n = cJSON_IsArray(entries) ? cJSON_GetArraySize(entries) : 0;
    if (n == 0 || n > 10) {
        emu_fail(resp, AWS_VALIDATION_EXCEPTION,
                 "1 validation error detected: Value at 'entries' failed to satisfy constraint: "
                 "Member must have length between 1 and 10");
        return;
    }
    cJSON *out = cJSON_CreateObject();
    cJSON *res = cJSON_CreateArray();
    int failed = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, entries)
    {
        const char *source = evw_json_str(e, "Source");
        const char *dtype = evw_json_str(e, "DetailType");
        const char *detail = evw_json_str(e, "Detail");
        cJSON *r = cJSON_CreateObject();
        cJSON *d = detail ? cJSON_Parse(detail) : NULL;
        if (source == NULL || dtype == NULL || detail == NULL || !cJSON_IsObject(d)) {
            cJSON_AddStringToObject(r, "ErrorCode", "MalformedDetail");
            cJSON_AddStringToObject(r, "ErrorMessage",
                                    source == NULL  ? "Source is not valid. Reason: Source is a "
                                                      "required argument."
                                    : dtype == NULL ? "DetailType is not valid. Reason: "
                                                      "DetailType is a required argument."
                                                    : "Detail is malformed.");
            cJSON_AddItemToArray(res, r);
            cJSON_Delete(d);
            failed++;
            continue;
        }
        char id[37];
        char ts[32];
        emu_uuid(id);
        events_time(ts, emu_now());
        cJSON *ev = cJSON_CreateObject();
        cJSON_AddStringToObject(ev, "version", "0");
        cJSON_AddStringToObject(ev, "id", id);
        cJSON_AddStringToObject(ev, "detail-type", dtype);
        cJSON_AddStringToObject(ev, "source", source);
        cJSON_AddStringToObject(ev, "account", req->account);
        cJSON_AddStringToObject(ev, "time", evw_json_str(e, "Time") ? evw_json_str(e, "Time") : ts);
        cJSON_AddStringToObject(ev, "region", req->region);
        const cJSON *resources = cJSON_GetObjectItemCaseSensitive(e, "Resources");
        cJSON_AddItemToObject(ev, "resources",
                              cJSON_IsArray(resources) ? cJSON_Duplicate(resources, 1)
                                                       : cJSON_CreateArray());
        cJSON_AddItemToObject(ev, "detail", d);
        const char *bus = events_bus(e);
        /* matching rules and their targets, read in one short transaction */
        struct emu_kvlist matched = {0};
        cJSON *target_sets = cJSON_CreateArray();
        if (emu_store_begin(0) == 0) {
            sqlite3_stmt *st = emu_stmt("SELECT name, arn, pattern FROM events_rules WHERE"
                                        " account = ? AND region = ? AND bus = ? AND"
                                        " state != 'DISABLED' AND pattern != ''");
            if (st) {
                sqlite3_bind_text(st, 1, req->account, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(st, 2, req->region, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(st, 3, bus, -1, SQLITE_TRANSIENT);
                while (sqlite3_step(st) == SQLITE_ROW) {
                    cJSON *p = cJSON_Parse((const char *)sqlite3_column_text(st, 2));
                    if (p && pattern_match(p, ev)) {
                        emu_kv_add(&matched, (const char *)sqlite3_column_text(st, 0),
                                   (const char *)sqlite3_column_text(st, 1));
                    }
                    cJSON_Delete(p);
                }
            }
            emu_stmt_done(st);
            for (size_t i = 0; i < matched.n; i++) {
                cJSON_AddItemToArray(target_sets, events_targets_load(req->account, req->region,
                                                                      bus, matched.items[i].key));
            }
            emu_store_end(1);
        }
        for (size_t i = 0; i < matched.n; i++) {
            events_deliver_all(cJSON_GetArrayItem(target_sets, (int)i), ev, matched.items[i].value,
                               NULL);
        }
        emu_kv_release(&matched);
        cJSON_Delete(target_sets);
        cJSON_Delete(ev);
        cJSON_AddStringToObject(r, "EventId", id);
        cJSON_AddItemToArray(res, r);
    }
    cJSON_AddNumberToObject(out, "FailedEntryCount", failed);
    cJSON_AddItemToObject(out, "Entries", res);
    emu_resp_json(resp, 200, out);
}

static void events_test_event_pattern(struct emu_request *req, struct emu_response *resp)
{
    const char *pat = evw_json_str(req->json, "EventPattern");
    const char *event = evw_json_str(req->json, "Event");
    cJSON *p = pat ? cJSON_Parse(pat) : NULL;
    cJSON *e = event ? cJSON_Parse(event) : NULL;
    const char *why = p ? pattern_check(p, 0) : "Filter is not valid JSON";
    if (why) {
        emu_fail(resp, EVENTS_INVALID_EVENT_PATTERN, "Event pattern is not valid. Reason: %s", why);
    } else if (!cJSON_IsObject(e)) {
        emu_fail(resp, AWS_VALIDATION_EXCEPTION, "Parameter Event is not valid.");
    } else {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddBoolToObject(o, "Result", pattern_match(p, e));
        emu_resp_json(resp, 200, o);
    }
    cJSON_Delete(p);
    cJSON_Delete(e);
}

/* --------------------------------------------------------- the scheduler */

struct due_rule {
    char account[16];
    char region[32];
    char bus[64];
    char name[72];
};

/* Takes the due rules, advancing their next firing time. Returns how many
 * (at most cap). */
static size_t events_take_due(struct due_rule *out, size_t cap)
{
    size_t n = 0;
    if (emu_store_begin(1) != 0) {
        return 0;
    }
    double now = emu_now();
    struct {
        long long rowid;
        char sched[256];
        double next;
    } rows[32];
    sqlite3_stmt *st = emu_stmt("SELECT rowid, account, region, bus, name, schedule, next_fire"
                                " FROM events_rules WHERE state != 'DISABLED' AND schedule != ''"
                                " AND next_fire > 0 AND next_fire <= ? LIMIT 32");
    if (st) {
        sqlite3_bind_double(st, 1, now);
        while (n < cap && n < 32 && sqlite3_step(st) == SQLITE_ROW) {
            rows[n].rowid = sqlite3_column_int64(st, 0);
            snprintf(out[n].account, sizeof(out[n].account), "%s",
                     (const char *)sqlite3_column_text(st, 1));
            snprintf(out[n].region, sizeof(out[n].region), "%s",
                     (const char *)sqlite3_column_text(st, 2));
            snprintf(out[n].bus, sizeof(out[n].bus), "%s",
                     (const char *)sqlite3_column_text(st, 3));
            snprintf(out[n].name, sizeof(out[n].name), "%s",
                     (const char *)sqlite3_column_text(st, 4));
            snprintf(rows[n].sched, sizeof(rows[n].sched), "%s",
                     (const char *)sqlite3_column_text(st, 5));
            rows[n].next = sqlite3_column_double(st, 6);
            n++;
        }
    }
    emu_stmt_done(st);
    for (size_t i = 0; i < n; i++) {
        /* keep the phase; skip missed firings instead of bursting */
        double next = schedule_next(rows[i].sched, rows[i].next);
        if (next > 0 && next <= now) {
            next = schedule_next(rows[i].sched, now);
        }
        st = emu_stmt("UPDATE events_rules SET next_fire = ? WHERE rowid = ?");
        if (st) {
            sqlite3_bind_double(st, 1, next > 0 ? next : 0);
            sqlite3_bind_int64(st, 2, rows[i].rowid);
            sqlite3_step(st);
        }
        emu_stmt_done(st);
    }
    emu_store_end(1);
    return n;
}

/* The scheduler's step: fires the due rules; runs again 0.25 s later. */
static double events_work(void *arg)
{
    (void)arg;
    struct due_rule due[32];
    size_t n = events_take_due(due, sizeof(due) / sizeof(due[0]));
    for (size_t i = 0; i < n && !emu_worker_stopping(&events_worker); i++) {
        emu_info("events: rule %s fires", due[i].name);
        events_fire(due[i].account, due[i].region, due[i].bus, due[i].name, NULL);
    }
    return emu_now() + 0.25;
}

static int events_start(void)
{
    if (emu_worker_start(&events_worker) != 0) {
        emu_error_log("events: cannot start the scheduler");
        return -1;
    }
    return 0;
}

static void events_stop(void)
{
    emu_worker_stop(&events_worker);
}

/* POST /_greenroom/events/rules/{name}/trigger[?account=&region=&bus=]:
 * fires the rule now (its scheduled event, or each target's Input) and
 * answers {"rule", "arn", "targets": [{Id, Arn, StatusCode, ErrorCode?}]}. */
void events_trigger_http(struct emu_request *req, struct emu_response *resp)
{
    const char *p = req->path + strlen("/_greenroom/events/rules/");
    const char *slash = strchr(p, '/');
    char *name = NULL;
    cJSON *o = NULL;
    if (strcmp(req->method, "POST") != 0) {
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "error", "MethodNotAllowed");
        cJSON_AddStringToObject(o, "message", "use POST /_greenroom/events/rules/{name}/trigger");
        emu_resp_json(resp, 405, o);
        return;
    }
    if (slash == NULL || strcmp(slash, "/trigger") != 0 || slash == p) {
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "error", "NotFound");
        cJSON_AddStringToObject(o, "message", "use POST /_greenroom/events/rules/{name}/trigger");
        emu_resp_json(resp, 404, o);
        return;
    }
    name = emu_url_decode(p, (size_t)(slash - p), 0);
    const char *account = emu_query(req, "account");
    const char *region = emu_query(req, "region");
    const char *bus = emu_query(req, "bus");
    account = account && *account ? account : EMU_DEFAULT_ACCOUNT;
    region = region && *region ? region : "us-east-1";
    bus = bus && *bus ? bus : "default";
    cJSON *report = cJSON_CreateArray();
    int n =
        name && events_valid_name(name, 64) ? events_fire(account, region, bus, name, report) : -1;
    o = cJSON_CreateObject();
    if (n < 0) {
        cJSON_Delete(report);
        cJSON_AddStringToObject(o, "error", "ResourceNotFoundException");
        char msg[256];
        snprintf(msg, sizeof(msg), "Rule %s does not exist on EventBus %s.", name ? name : "", bus);
        cJSON_AddStringToObject(o, "message", msg);
        emu_resp_json(resp, 404, o);
    } else {
        char arn[512];
        events_rule_arn(region, account, bus, name, arn, sizeof(arn));
        cJSON_AddStringToObject(o, "rule", name);
        cJSON_AddStringToObject(o, "arn", arn);
        cJSON_AddItemToObject(o, "targets", report);
        emu_resp_json(resp, 200, o);
    }
    free(name);
}

/* ------------------------------------------------------------- registry */

static void events_resource(struct emu_request *req, struct emu_buf *out)
{
    const char *name = evw_json_str(req->json, "Name");
    if (name == NULL) {
        name = evw_json_str(req->json, "Rule");
    }
    if (name) {
        emu_buf_puts(out, name);
    }
}

static const struct emu_op events_ops[] = {
    {"PutRule", NULL, NULL, NULL, events_put_rule, EMU_OP_WRITE},
    {"DescribeRule", NULL, NULL, NULL, events_describe_rule, 0},
    {"ListRules", NULL, NULL, NULL, events_list_rules, 0},
    {"DeleteRule", NULL, NULL, NULL, events_delete_rule, EMU_OP_WRITE},
    {"EnableRule", NULL, NULL, NULL, events_enable_rule, EMU_OP_WRITE},
    {"DisableRule", NULL, NULL, NULL, events_disable_rule, EMU_OP_WRITE},
    {"PutTargets", NULL, NULL, NULL, events_put_targets, EMU_OP_WRITE},
    {"RemoveTargets", NULL, NULL, NULL, events_remove_targets, EMU_OP_WRITE},
    {"ListTargetsByRule", NULL, NULL, NULL, events_list_targets_by_rule, 0},
    {"ListRuleNamesByTarget", NULL, NULL, NULL, events_list_rule_names_by_target, 0},
    {"PutEvents", NULL, NULL, NULL, events_put_events, EMU_OP_NO_TXN},
    {"TestEventPattern", NULL, NULL, NULL, events_test_event_pattern, 0},
};

const struct emu_service svc_events = {
    .name = "events",
    .display = "events",
    .protocol = EMU_PROTO_JSON,
    .target_prefix = "AWSEvents",
    .ops = events_ops,
    .nops = sizeof(events_ops) / sizeof(events_ops[0]),
    .schema = events_schema,
    .nschema = sizeof(events_schema) / sizeof(events_schema[0]),
    .resource = events_resource,
    .start = events_start,
    .stop = events_stop,
};
