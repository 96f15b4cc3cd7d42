/*
 * txn_int.h - declarations shared by the transaction's own files
 * (txn_capture.c, txn_steps.c, txn_engine.c, txn_cmds.c, rehearse.c).
 * Not a contract for anyone else.
 */
#ifndef TXN_INT_H
#define TXN_INT_H

#include "txn.h"

/* txn_capture.c */
cJSON *txn_jfind(cJSON *o, const char *key);
cJSON *txn_jarray_dup(const cJSON *v);
cJSON *txn_stack_outputs(cJSON *stack);
int txn_describe_stack(const char *region, const char *name, cJSON **stack, struct dep_err *err);
int txn_policy_sids(const char *region, const char *fn, const char *qualifier, cJSON **sids,
                    struct dep_err *err);
int txn_alias_state(const char *region, const char *fn, const char *alias, cJSON **state,
                    struct dep_err *err);
int txn_find_api(const char *region, const char *name, char *id, size_t n, struct dep_err *err);
const char *txn_topic_arn(struct txn *t, const cJSON *config, char *buf, size_t n);
int txn_topic_subscriptions(struct txn *t, const char *topic_arn, cJSON **endpoints,
                            struct dep_err *err);
int txn_capture(struct txn *t, cJSON **out, struct dep_err *err);

/* txn_steps.c */
/* Wait until the stack is in a stable state; *status gets it ("" when the
 * stack is gone). Returns 0, or -1 on timeout/error. */
int txn_stack_wait(struct txn *t, const char *name, char *status, size_t n, struct dep_err *err);
/* Fingerprint (hex sha256) of the project's populated endpoints on api. */
void txn_endpoints_fingerprint(struct txn *t, const char *api_id, char *out, size_t n);
/* Per-endpoint fingerprints {"path~METHOD": sha256 hex} (new). */
cJSON *txn_endpoint_map(struct txn *t);
/* The row of the plan with this kind (and item when non-NULL), borrowed. */
cJSON *txn_plan_row(struct txn *t, const char *kind, const char *item);
/* Re-populate the project after variables changed (stack outputs). */
int txn_repopulate(struct txn *t, struct dep_err *err);

/* txn_engine.c */
/* Append a row {kind,item,status:"pending",undo:{},redo:{}} to the plan. */
cJSON *txn_plan_add(struct txn *t, const char *kind, const char *item);
/* Compact JSON of the region variables layer (new string). */
char *txn_region_vars_json(struct txn *t);

#endif
