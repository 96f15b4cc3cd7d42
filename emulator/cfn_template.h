/*
 * cfn_template.h - CloudFormation templates: parsing (JSON and YAML with the
 * short-form tags), structural checks (unresolved references, cycles),
 * parameters, conditions, intrinsic functions and resource ordering.
 *
 * Everything here is pure: no store, no other service. Templates are cJSON
 * trees; YAML is converted to the same tree (!Ref x -> {"Ref": x}, ...).
 * Ownership: functions named _new or returning cJSON * hand the caller a new
 * tree; struct cfn_ctx borrows everything except params and conditions.
 */
#ifndef CFN_TEMPLATE_H
#define CFN_TEMPLATE_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* Evaluation context of one stack operation. */
struct cfn_ctx {
    const char *account;
    const char *region;
    const char *stack_name;
    const char *stack_id;
    const cJSON *tmpl;      /* borrowed: the parsed template */
    cJSON *params;          /* owned: name -> string value (as resolved) */
    cJSON *conditions;      /* owned: name -> bool (cfn_conditions_eval) */
    const cJSON *resources; /* borrowed: logicalId -> {"ref": str, "attrs": {...}} */
    const cJSON *exports;   /* borrowed: export name -> value (Fn::ImportValue) */
    cJSON *imports;         /* borrowed, may be NULL: names Fn::ImportValue resolved */
    char err[1024];
};

/* Parses a template body (JSON, or YAML when it is not a JSON object).
 * Returns a new tree, or NULL with err set ("Template format error: ..."). */
cJSON *cfn_template_parse(const char *body, size_t len, char *err, size_t elen);

/* Structural checks AWS makes on every template: Resources present, every
 * resource has a Type, references resolve, no cycle. Returns 0, or -1 with
 * err set to AWS's wording. */
int cfn_template_check(const cJSON *tmpl, char *err, size_t elen);

/* Resolves the parameters: given is an object name -> string (or NULL),
 * previous (may be NULL) the stack's current values for UsePreviousValue
 * (given[name] == {"UsePreviousValue": true}). Applies defaults and
 * constraints. Returns 0 and *out (new object name -> string), or -1 with
 * err set. */
int cfn_params_resolve(const cJSON *tmpl, const cJSON *given, const cJSON *previous, cJSON **out,
                       char *err, size_t elen);

/* Evaluates the Conditions section into c->conditions. Returns 0 or -1. */
int cfn_conditions_eval(struct cfn_ctx *c);

/* Whether a resource (or output, given its definition) is enabled by its
 * Condition. Returns 1 or 0. */
int cfn_enabled(struct cfn_ctx *c, const cJSON *def);

/* Evaluates intrinsic functions in node. Returns a new tree or NULL with
 * c->err set. Properties resolving to AWS::NoValue are dropped. */
cJSON *cfn_eval(struct cfn_ctx *c, const cJSON *node);

/* The names a resource depends on (Ref, Fn::GetAtt, Fn::Sub, DependsOn),
 * resources only. Returns a new array of strings. */
cJSON *cfn_resource_deps(const cJSON *tmpl, const cJSON *res);

/* Enabled resources in an order that respects dependencies (template order
 * otherwise). Returns a new array of logical ids, or NULL with c->err. */
cJSON *cfn_order(struct cfn_ctx *c);

/* Evaluates the Outputs: a new array of {OutputKey, OutputValue,
 * Description?, ExportName?}, or NULL with c->err. */
cJSON *cfn_outputs(struct cfn_ctx *c);

/* Releases c->params and c->conditions. */
void cfn_ctx_release(struct cfn_ctx *c);

/* A value as the string AWS would show (numbers without ".0", lists
 * joined with ","). Returns a new string. */
char *cfn_value_str(const cJSON *v);

/* Whether a template parameter type is a list type. */
int cfn_param_is_list(const char *type);

/* Writes the strings of arr joined with ", " into buf (blen bytes; what
 * does not fit is left out), for AWS's messages that name resources. */
void cfn_names_join(const cJSON *arr, char *buf, size_t blen);

#endif
