/*
 * cfn_resources.h - the resource types CloudFormation provisions, as one
 * table of {type, owning service, create, update, delete, replacement rules}.
 *
 * Each handler provisions through the owning service's public API in-process
 * (emu_call_internal); it must be called WITHOUT the store lock held. When
 * the owning service is not served (emu_service_find() == NULL) the resource
 * is recorded in CloudFormation's own table (cfn_local) with the identifiers
 * and attributes AWS would give it. AWS::DynamoDB::Table,
 * AWS::Logs::LogGroup and the types of cfn_recorded.c always live in that
 * table.
 */
#ifndef CFN_RESOURCES_H
#define CFN_RESOURCES_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* One resource operation. The caller owns every pointer; attrs (out) is a
 * new object the caller deletes. */
struct cfn_res {
    const char *account;
    const char *region;
    const char *stack_name;
    const char *logical_id;
    const char *type;
    const cJSON *props;     /* desired properties (create, update) */
    const cJSON *old_props; /* update: the current properties */
    const cJSON *old_attrs; /* update/delete: the current attributes (may be NULL) */
    char physical_id[1024]; /* create: out; update, delete: in */
    cJSON *attrs;           /* create, update: out (Ref is physical_id) */
    char err[1024];         /* the status reason on failure */
};

/* Handlers return 0 on success, -1 with r->err set. */
typedef int cfn_res_fn(struct cfn_res *r);

struct cfn_rtype {
    const char *type;    /* "AWS::S3::Bucket" */
    const char *service; /* signing name of the owner, NULL: CloudFormation's table */
    cfn_res_fn *create;
    cfn_res_fn *update; /* NULL: any change replaces */
    cfn_res_fn *del;
    const char *replace;   /* comma list of properties whose change replaces; "*": all */
    const char *name_prop; /* the property that names the resource, or NULL */
    int iam;               /* needs CAPABILITY_IAM (2: CAPABILITY_NAMED_IAM if named) */
};

/* The row for a type, or NULL when CloudFormation does not support it. */
const struct cfn_rtype *cfn_rtype_find(const char *type);

/* The row of a type recorded in CloudFormation's own table without a
 * service behind it (cfn_recorded.c), or NULL. */
const struct cfn_rtype *cfn_recorded_find(const char *type);

/* Records r (its physical_id, props and r->attrs) in CloudFormation's own
 * table, or forgets it when props is NULL. Takes and releases the store
 * lock. Returns 0, or -1 with r->err set. */
int cfn_local_put(struct cfn_res *r, const cJSON *props);

/* The resource types of a template's Resources that AWS would not
 * recognise (neither served, recorded, custom nor of an AWS service), as
 * "A, B" in out. Returns how many. */
int cfn_types_unrecognized(const cJSON *resources, char *out, size_t outlen);

/* Whether changing old -> new properties requires a replacement: 1 yes, 0 no. */
int cfn_rtype_replaces(const struct cfn_rtype *t, const cJSON *old_props, const cJSON *new_props);

/* A physical name "<stack>-<logical>-<13 random>", truncated to max chars
 * as AWS does, lower-cased when lower. Writes out (NUL-terminated). */
void cfn_physical_name(const char *stack, const char *logical, size_t max, int lower, char *out,
                       size_t outlen);

#endif
