/*
 * fault.h - fault injection: the rules of /_greenroom/faults and --faults.
 *
 * The dispatcher asks fault_check() once per client call, after routing and
 * authentication, before the body is read; CloudFormation asks
 * fault_cfn_resource() once per resource it provisions. Rule schema:
 * ../shared/spec/PRODUCT.md section 3 and the README's fault page.
 */
#ifndef FAULT_H
#define FAULT_H

#include "emu.h"

enum fault_action {
    FAULT_NONE = 0,
    FAULT_ERROR,    /* answer with an AWS error (status/code/message) */
    FAULT_THROTTLE, /* the service's throttling error with Retry-After */
    FAULT_RESET,    /* drop the connection without an answer */
    FAULT_HANG,     /* never answer; wait until the client goes away */
    FAULT_CRASH,    /* greenroom exits at once, as if killed */
};

struct fault_decision {
    enum fault_action action;
    int status;
    char code[96];
    char message[512];
    int retry_after;   /* seconds, FAULT_THROTTLE */
    int latency_ms;    /* delay before answering (alone or with an action) */
    char rule_id[128]; /* the rule that fired, "" when none */
};

/* Evaluates the rules against a routed call (req->svc, req->op, account,
 * region, resource, method). Counts matches and firings. Returns the action
 * (FAULT_NONE when nothing fires; d->latency_ms may still be set). */
enum fault_action fault_check(const struct emu_request *req, struct fault_decision *d);

/* Should CloudFormation fail this resource? Returns 1 and writes the status
 * reason when a cfnResourceFailure rule matches (stack name, logical id or
 * type), else 0. */
int fault_cfn_resource(const char *account, const char *region, const char *stack,
                       const char *logical_id, const char *type, char *reason, size_t rlen);

/* Loads rules from a JSON file (--faults). Returns 0, or -1 with err set. */
int fault_load_file(const char *path, char *err, size_t errlen);

/* The control endpoints /_greenroom/faults and /_localstack/chaos/faults. */
void fault_http(struct emu_request *req, struct emu_response *resp);

/* Number of loaded rules (for health). */
size_t fault_count(void);

#endif
