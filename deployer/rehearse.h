/*
 * rehearse.h - `stagehand rehearse` (issue 10): a fault at every call of a
 * deploy, and the invariants of PRODUCT.md section 5 checked after each.
 * The pure parts (state normalisation, comparison, fault rules, JUnit) are
 * exported for tests/test_dep_rehearse.c.
 *
 * Ownership: functions returning cJSON * or char * return new objects the
 * caller deletes/frees.
 */
#ifndef REHEARSE_H
#define REHEARSE_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* Fault kinds, in table order. */
enum rh_kind {
    RH_ERROR = 0, /* AWS 5xx error on call k and its retries */
    RH_THROTTLE,  /* throttling on call k and its retries */
    RH_RESET,     /* connection reset on call k and its retries */
    RH_TIMEOUT,   /* call k hangs past the client timeout once (the retry decides) */
    RH_KILL,      /* the deployer is killed while call k is in flight */
    RH_CRASH,     /* greenroom crashes at call k and is restarted (needs --greenroom BIN) */
    RH_NKINDS,
};

/* "error" "throttle" "reset" "timeout" "kill" "crash". */
const char *rh_kind_name(int kind);
/* Kind by name, -1 if unknown. */
int rh_kind_parse(const char *name);

/* The fault rule set (a JSON array, new) that fires kind at call ordinal k
 * (1-based, counted from the rule's installation) and on the next
 * attempts-1 calls (the retries of call k). */
cJSON *rh_fault_rules(int kind, int k, int attempts);

/* Normalise a captured stage state (txn_capture shape) for comparison.
 * shape 0: exact comparison (invariant 1): unordered lists sorted, stack
 * statuses folded to STABLE, subscription ARNs dropped. shape 1 (invariant
 * 2/4): additionally ids that differ between runs become "same"/"new"
 * against pre (deployment id, alias versions), random names and values
 * dropped (stack outputs values, meta values), topic keys dropped. */
cJSON *rh_normalise(const cJSON *state, const cJSON *pre, int shape);

/* First difference between a and b: 1 and path/expected/found filled (e.g.
 * "functions.books-get.alias.version", "3", "5"), 0 when equal. */
int rh_first_diff(const cJSON *a, const cJSON *b, char *path, size_t pn, char *expected, size_t en,
                  char *found, size_t fn);

/* JUnit XML of the cases array (each {k,kind,service,operation,resource,
 * outcome,result,detail,ms}); new string. */
char *rh_junit(const cJSON *cases, double total_ms);

#endif
