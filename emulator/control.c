/*
 * control.c - greenroom's own endpoints, unsigned, never journaled:
 *
 *   GET    /_greenroom/health, /_localstack/health   services and state
 *   POST   /_greenroom/reset                         empty every service
 *   GET    /_greenroom/calls?since=N...              the journal (journal.c)
 *   DELETE /_greenroom/calls
 *   *      /_greenroom/faults, /_localstack/chaos/faults|effects   fault.c
 *   *      /_greenroom/snapshots[/{name}[/restore]]        snapshot.c
 *   POST   /_greenroom/events/rules/{name}/trigger         svc_events.c
 *
 * Modules that serve a control endpoint are optional (weak symbols): a
 * build without them answers 501.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "fault.h"

extern void snapshot_http(struct emu_request *req, struct emu_response *resp) __attribute__((weak));
extern void events_trigger_http(struct emu_request *req, struct emu_response *resp)
    __attribute__((weak));
#pragma weak fault_http
#pragma weak fault_count

extern char **environ;

static double started_at;
static char credentials_file[PATH_MAX]; /* --credentials, absolute; "" when none */
/* The GREENROOM_* variables greenroom was started with (health's
 * process.env: a clone is started with exactly these); never anything else
 * of the environment (credentials live there). Built once at start, read
 * only after; NULL when emu_control_started was not called. */
static cJSON *started_env;

void emu_control_started(double t, const char *credentials)
{
    started_at = t;
    if (credentials == NULL || realpath(credentials, credentials_file) == NULL) {
        credentials_file[0] = 0;
    }
    if (started_env == NULL) {
        started_env = cJSON_CreateObject();
        for (char **e = environ; e && *e && started_env; e++) {
            const char *eq = strchr(*e, '=');
            char name[256];
            if (strncmp(*e, "GREENROOM_", 10) != 0 || !eq || (size_t)(eq - *e) >= sizeof(name)) {
                continue;
            }
            memcpy(name, *e, (size_t)(eq - *e));
            name[eq - *e] = 0;
            if (!cJSON_GetObjectItemCaseSensitive(started_env, name)) {
                cJSON_AddStringToObject(started_env, name, eq + 1);
            }
        }
    }
}

static void health(struct emu_request *req, struct emu_response *resp, int localstack)
{
    (void)req;
    cJSON *o = cJSON_CreateObject();
    cJSON *svcs = cJSON_AddObjectToObject(o, "services");
    for (size_t i = 0; i < emu_services_count(); i++) {
        const struct emu_service *s = emu_service_at(i);
        cJSON_AddStringToObject(svcs, s->display ? s->display : s->name,
                                localstack ? "available" : "running");
    }
    cJSON_AddStringToObject(o, "edition", "community");
    cJSON_AddStringToObject(o, "version", EMU_VERSION);
    if (!localstack) {
        cJSON_AddStringToObject(o, "status", "running");
        cJSON_AddStringToObject(o, "name", "greenroom");
        cJSON_AddStringToObject(o, "url", emu_base_url());
        cJSON_AddNumberToObject(o, "uptimeSeconds", emu_now() - started_at);
        cJSON_AddBoolToObject(o, "ephemeral", emu_cfg.ephemeral);
        cJSON_AddBoolToObject(o, "auth", emu_cfg.auth);
        cJSON_AddNumberToObject(o, "faultRules", fault_count ? (double)fault_count() : 0);
        /* How to start an equivalent greenroom on a copy of this state (stagehand
         * rehearse runs its cases on such clones when it can reach these paths). */
        cJSON *p = cJSON_AddObjectToObject(o, "process");
        char exe[PATH_MAX], state[PATH_MAX], num[32];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        exe[n > 0 ? n : 0] = 0;
        cJSON_AddNumberToObject(p, "pid", (double)getpid());
        cJSON_AddStringToObject(p, "exe", exe);
        cJSON_AddStringToObject(p, "stateDir",
                                realpath(emu_state_dir(), state) ? state : emu_state_dir());
        cJSON *args = cJSON_AddArrayToObject(p, "cloneArgs");
        cJSON_AddItemToArray(args, cJSON_CreateString("--auth"));
        cJSON_AddItemToArray(args, cJSON_CreateString(emu_cfg.auth ? "on" : "off"));
        cJSON_AddItemToArray(args, cJSON_CreateString("--max-body"));
        snprintf(num, sizeof(num), "%zu", emu_cfg.max_body);
        cJSON_AddItemToArray(args, cJSON_CreateString(num));
        if (credentials_file[0]) {
            cJSON_AddItemToArray(args, cJSON_CreateString("--credentials"));
            cJSON_AddItemToArray(args, cJSON_CreateString(credentials_file));
        }
        if (emu_cfg.log_json) {
            cJSON_AddItemToArray(args, cJSON_CreateString("--log-format"));
            cJSON_AddItemToArray(args, cJSON_CreateString("json"));
        }
        /* its GREENROOM_* settings (knobs such as GREENROOM_CFN_SETTLE_MS) */
        cJSON_AddItemToObject(p, "env",
                              started_env ? cJSON_Duplicate(started_env, 1) : cJSON_CreateObject());
    }
    emu_resp_json(resp, 200, o);
}

static void unavailable(struct emu_response *resp, const char *what)
{
    struct emu_buf m = {0};
    emu_buf_printf(&m, "%s is not built into this greenroom.", what);
    emu_fail_raw(resp, 501, "NotImplemented", m.data);
    emu_buf_release(&m);
}

/* Calls every service's reload hook (after a reset or a restore). */
void emu_services_reload(void)
{
    for (size_t i = 0; i < emu_services_count(); i++) {
        const struct emu_service *s = emu_service_at(i);
        if (s->reload) {
            s->reload();
        }
    }
}

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int emu_control(struct emu_request *req, struct emu_response *resp)
{
    const char *p = req->path;
    if (strcmp(p, "/_greenroom/health") == 0 || strcmp(p, "/_greenroom") == 0 ||
        strcmp(p, "/_greenroom/") == 0) {
        health(req, resp, 0);
        return 1;
    }
    if (strcmp(p, "/_localstack/health") == 0) {
        health(req, resp, 1);
        return 1;
    }
    if (strcmp(p, "/_greenroom/reset") == 0) {
        if (strcmp(req->method, "POST") != 0) {
            emu_fail_raw(resp, 405, "MethodNotAllowed", "Use POST.");
            return 1;
        }
        emu_journal_flush(); /* queued entries go before the reset empties the table */
        if (emu_store_reset() != 0) {
            emu_fail(resp, AWS_INTERNAL_FAILURE, NULL);
            return 1;
        }
        emu_journal_forget_file();
        emu_services_reload();
        emu_resp_json(resp, 200, cJSON_Parse("{\"reset\":true}"));
        return 1;
    }
    if (strcmp(p, "/_greenroom/calls") == 0) {
        emu_journal_http(req, resp);
        return 1;
    }
    if (strcmp(p, "/_greenroom/faults") == 0 || starts(p, "/_greenroom/faults/") ||
        strcmp(p, "/_localstack/chaos/faults") == 0 ||
        strcmp(p, "/_localstack/chaos/effects") == 0) {
        if (fault_http) {
            fault_http(req, resp);
        } else {
            unavailable(resp, "Fault injection");
        }
        return 1;
    }
    if (strcmp(p, "/_greenroom/snapshots") == 0 || starts(p, "/_greenroom/snapshots/")) {
        if (snapshot_http) {
            snapshot_http(req, resp);
        } else {
            unavailable(resp, "Snapshots");
        }
        return 1;
    }
    if (starts(p, "/_greenroom/events/rules/")) {
        if (events_trigger_http) {
            events_trigger_http(req, resp);
        } else {
            unavailable(resp, "CloudWatch Events");
        }
        return 1;
    }
    return 0;
}
