/*
 * output.c - what stagehand tells people and machines.
 *
 * Three modes (enum dep_output_mode):
 *   tty   - a person at a terminal: "==> step" headers, one line per item
 *           with a mark, upload bytes redrawn in place on stderr;
 *   plain - not a terminal or CI=true: one plain line per event, upload
 *           bytes once per upload when it completes;
 *   json  - --output json: nothing on stdout until the end, then one JSON
 *           document {command, ok, exitCode, steps, items, warnings,
 *           errors, urls, result}.
 * Progress and the summary go to stdout, warnings and errors to stderr
 * (json mode: errors are also in the document). All calls are serialised
 * by one mutex; state lives until dep_out_finish.
 */
#include "dep.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct {
    pthread_mutex_t lock;
    int mode;
    char command[64];
    cJSON *steps, *items, *warnings, *errors, *urls, *result;
    int redraw; /* a \r progress line is pending on stderr */
} O = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void ensure(void)
{
    if (!O.steps) {
        O.steps = cJSON_CreateArray();
        O.items = cJSON_CreateArray();
        O.warnings = cJSON_CreateArray();
        O.errors = cJSON_CreateArray();
        O.urls = cJSON_CreateArray();
        O.result = cJSON_CreateObject();
    }
}

static void end_redraw(void)
{
    if (O.redraw) {
        fputs("\r\033[K", stderr);
        O.redraw = 0;
    }
}

void dep_out_init(int mode, const char *command)
{
    pthread_mutex_lock(&O.lock);
    O.mode = mode;
    snprintf(O.command, sizeof(O.command), "%s", command ? command : "");
    ensure();
    pthread_mutex_unlock(&O.lock);
}

int dep_out_mode(void)
{
    return O.mode;
}

void dep_out_step(const char *step)
{
    pthread_mutex_lock(&O.lock);
    ensure();
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "name", step);
    cJSON_AddStringToObject(s, "status", "running");
    cJSON_AddItemToArray(O.steps, s);
    if (O.mode == DEP_OUT_TTY) {
        end_redraw();
        printf("\033[1m==> %s\033[0m\n", step);
    } else if (O.mode == DEP_OUT_PLAIN) {
        printf("step: %s\n", step);
    }
    fflush(stdout);
    pthread_mutex_unlock(&O.lock);
}

void dep_out_step_done(const char *step, const char *status)
{
    cJSON *s;

    pthread_mutex_lock(&O.lock);
    ensure();
    cJSON_ArrayForEach(s, O.steps)
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(s, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, step) == 0) {
            cJSON_ReplaceItemInObjectCaseSensitive(s, "status", cJSON_CreateString(status));
        }
    }
    if (O.mode == DEP_OUT_TTY) {
        end_redraw();
        printf("    %s: %s\n", step, status);
    } else if (O.mode == DEP_OUT_PLAIN) {
        printf("step: %s: %s\n", step, status);
    }
    fflush(stdout);
    pthread_mutex_unlock(&O.lock);
}

void dep_out_item(const char *kind, const char *name, const char *status, const char *fmt, ...)
{
    char detail[1024] = "";
    va_list ap;

    if (fmt) {
        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
    }
    pthread_mutex_lock(&O.lock);
    ensure();
    cJSON *i = cJSON_CreateObject();
    cJSON_AddStringToObject(i, "kind", kind);
    cJSON_AddStringToObject(i, "name", name);
    cJSON_AddStringToObject(i, "status", status);
    if (detail[0]) {
        cJSON_AddStringToObject(i, "detail", detail);
    }
    cJSON_AddItemToArray(O.items, i);
    if (O.mode == DEP_OUT_TTY) {
        int bad = strcmp(status, "failed") == 0;
        end_redraw();
        printf("    %s %s %s: %s%s%s\n", bad ? "\033[31mx\033[0m" : "\033[32m+\033[0m", kind, name,
               status, detail[0] ? " - " : "", detail);
    } else if (O.mode == DEP_OUT_PLAIN) {
        printf("%s %s: %s%s%s\n", kind, name, status, detail[0] ? " - " : "", detail);
    }
    fflush(stdout);
    pthread_mutex_unlock(&O.lock);
}

void dep_out_bytes(const char *label, uint64_t sent, uint64_t total)
{
    pthread_mutex_lock(&O.lock);
    if (O.mode == DEP_OUT_TTY) {
        fprintf(stderr, "\r\033[K    uploading %s: %llu/%llu bytes", label,
                (unsigned long long)sent, (unsigned long long)total);
        O.redraw = 1;
        if (sent >= total) {
            end_redraw();
        }
        fflush(stderr);
    } else if (O.mode == DEP_OUT_PLAIN && sent >= total && total > 0) {
        /* curl calls back repeatedly at completion: print once per label */
        static __thread char last[256];
        if (strcmp(last, label) != 0) {
            snprintf(last, sizeof(last), "%s", label);
            printf("upload %s: %llu bytes\n", label, (unsigned long long)total);
            fflush(stdout);
        }
    }
    pthread_mutex_unlock(&O.lock);
}

void dep_out_info(const char *fmt, ...)
{
    char msg[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&O.lock);
    if (O.mode != DEP_OUT_JSON) {
        end_redraw();
        printf("%s%s\n", O.mode == DEP_OUT_TTY ? "    " : "", msg);
        fflush(stdout);
    }
    pthread_mutex_unlock(&O.lock);
}

void dep_out_warn(const char *fmt, ...)
{
    char msg[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&O.lock);
    ensure();
    cJSON_AddItemToArray(O.warnings, cJSON_CreateString(msg));
    if (O.mode != DEP_OUT_JSON) {
        end_redraw();
        fprintf(stderr, "stagehand: warning: %s\n", msg);
    }
    pthread_mutex_unlock(&O.lock);
}

static void add_error(const char *step, const struct dep_err *err, const char *text)
{
    cJSON *e = cJSON_CreateObject();

    cJSON_AddStringToObject(e, "step", step ? step : "");
    if (err) {
        cJSON_AddStringToObject(e, "service", err->service);
        cJSON_AddStringToObject(e, "operation", err->operation);
        cJSON_AddStringToObject(e, "resource", err->resource);
        cJSON_AddNumberToObject(e, "status", (double)err->http_status);
        cJSON_AddStringToObject(e, "code", err->code);
        cJSON_AddStringToObject(e, "message", err->message);
        if (err->request_id[0]) {
            cJSON_AddStringToObject(e, "requestId", err->request_id);
        }
        cJSON_AddNumberToObject(e, "attempts", err->attempts);
    }
    cJSON_AddStringToObject(e, "text", text);
    cJSON_AddItemToArray(O.errors, e);
}

void dep_out_error(const char *step, const struct dep_err *err)
{
    char s[2048];

    dep_err_str(err, s, sizeof(s));
    pthread_mutex_lock(&O.lock);
    ensure();
    add_error(step, err, s);
    end_redraw();
    fprintf(stderr, "stagehand: error: %s%s%s\n", step ? step : "", step ? ": " : "", s);
    pthread_mutex_unlock(&O.lock);
}

void dep_out_errorf(const char *step, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&O.lock);
    ensure();
    add_error(step, NULL, msg);
    end_redraw();
    fprintf(stderr, "stagehand: error: %s%s%s\n", step ? step : "", step ? ": " : "", msg);
    pthread_mutex_unlock(&O.lock);
}

void dep_out_url(const char *stage, const char *region, const char *url)
{
    pthread_mutex_lock(&O.lock);
    ensure();
    cJSON *u = cJSON_CreateObject();
    cJSON_AddStringToObject(u, "stage", stage);
    cJSON_AddStringToObject(u, "region", region);
    cJSON_AddStringToObject(u, "url", url);
    cJSON_AddItemToArray(O.urls, u);
    pthread_mutex_unlock(&O.lock);
}

void dep_out_result(const char *key, cJSON *value_take)
{
    pthread_mutex_lock(&O.lock);
    ensure();
    if (cJSON_GetObjectItemCaseSensitive(O.result, key)) {
        cJSON_ReplaceItemInObjectCaseSensitive(O.result, key, value_take);
    } else {
        cJSON_AddItemToObject(O.result, key, value_take);
    }
    pthread_mutex_unlock(&O.lock);
}

static const char *exit_name(int code)
{
    switch (code) {
    case DEP_EXIT_OK:
        return "ok";
    case DEP_EXIT_FAIL:
        return "failed";
    case DEP_EXIT_USAGE:
        return "usage";
    case DEP_EXIT_PROJECT:
        return "project";
    case DEP_EXIT_PARTIAL:
        return "partial";
    case DEP_EXIT_TRANSPORT:
        return "transport";
    case DEP_EXIT_CONFLICT:
        return "conflict";
    case DEP_EXIT_ROLLED_BACK:
        return "rolled-back";
    case DEP_EXIT_INVARIANT:
        return "invariant";
    case DEP_EXIT_HARNESS:
        return "harness";
    default:
        return "unknown";
    }
}

int dep_out_finish(int code)
{
    cJSON *u;

    pthread_mutex_lock(&O.lock);
    ensure();
    end_redraw();
    if (O.mode == DEP_OUT_JSON) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "command", O.command);
        cJSON_AddBoolToObject(doc, "ok", code == 0);
        cJSON_AddNumberToObject(doc, "exitCode", code);
        cJSON_AddStringToObject(doc, "exit", exit_name(code));
        cJSON_AddItemToObject(doc, "steps", O.steps);
        cJSON_AddItemToObject(doc, "items", O.items);
        cJSON_AddItemToObject(doc, "warnings", O.warnings);
        cJSON_AddItemToObject(doc, "errors", O.errors);
        cJSON_AddItemToObject(doc, "urls", O.urls);
        cJSON_AddItemToObject(doc, "result", O.result);
        char *s = cJSON_Print(doc);
        puts(s);
        cJSON_free(s);
        cJSON_Delete(doc);
        O.steps = O.items = O.warnings = O.errors = O.urls = O.result = NULL;
    } else {
        cJSON_ArrayForEach(u, O.urls)
        {
            printf("%sstage %s (%s): %s\n", O.mode == DEP_OUT_TTY ? "==> " : "",
                   cJSON_GetObjectItemCaseSensitive(u, "stage")->valuestring,
                   cJSON_GetObjectItemCaseSensitive(u, "region")->valuestring,
                   cJSON_GetObjectItemCaseSensitive(u, "url")->valuestring);
        }
        if (O.command[0]) {
            if (code == 0) {
                printf("%s%s: done\n", O.mode == DEP_OUT_TTY ? "==> " : "", O.command);
            } else {
                fprintf(stderr, "stagehand: %s failed (exit %d, %s)\n", O.command, code,
                        exit_name(code));
            }
        }
        cJSON_Delete(O.steps);
        cJSON_Delete(O.items);
        cJSON_Delete(O.warnings);
        cJSON_Delete(O.errors);
        cJSON_Delete(O.urls);
        cJSON_Delete(O.result);
        O.steps = O.items = O.warnings = O.errors = O.urls = O.result = NULL;
    }
    fflush(stdout);
    fflush(stderr);
    pthread_mutex_unlock(&O.lock);
    return code;
}
