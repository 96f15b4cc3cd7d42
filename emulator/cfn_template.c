/*
 * cfn_template.c - CloudFormation template language: JSON/YAML parsing
 * (libyaml, short-form tags), structural checks, parameters, conditions,
 * intrinsic functions (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select,
 * Fn::Split, Fn::Base64, Fn::GetAZs, Fn::FindInMap, Fn::ImportValue, Fn::If,
 * Fn::Equals/And/Or/Not), pseudo parameters and dependency ordering.
 */
#include "cfn_template.h"
#include "cfn_resources.h"
#include "emu_regex.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#define CFN_NOVALUE_MARK                                                                           \
    "\x01"                                                                                         \
    "AWS::NoValue"

static void ctx_err(struct cfn_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void ctx_err(struct cfn_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof(c->err), fmt, ap);
    va_end(ap);
}

static int is_novalue(const cJSON *v)
{
    return v != NULL && cJSON_IsString(v) && strcmp(v->valuestring, CFN_NOVALUE_MARK) == 0;
}

/* ------------------------------------------------------------------ YAML */

struct yaml_anchor {
    char *name;
    cJSON *node;
};

struct yaml_state {
    yaml_parser_t parser;
    struct yaml_anchor *anchors;
    size_t nanchors;
    char *err;
    size_t elen;
    int depth;
};

static cJSON *yaml_node(struct yaml_state *y, yaml_event_t *ev);

/* Wraps v (taken) according to a short-form tag ("!Ref", "!GetAtt"...). */
static cJSON *yaml_apply_tag(const char *tag, cJSON *v)
{
    cJSON *o = cJSON_CreateObject();
    char key[64];
    if (tag[0] == '!') {
        tag++;
    }
    if (strcmp(tag, "Ref") == 0 || strcmp(tag, "Condition") == 0) {
        cJSON_AddItemToObject(o, tag, v);
        return o;
    }
    if (strcmp(tag, "GetAtt") == 0 && cJSON_IsString(v)) {
        const char *dot = strchr(v->valuestring, '.');
        cJSON *arr = cJSON_CreateArray();
        if (dot != NULL) {
            char *first = strndup(v->valuestring, (size_t)(dot - v->valuestring));
            cJSON_AddItemToArray(arr, cJSON_CreateString(first));
            cJSON_AddItemToArray(arr, cJSON_CreateString(dot + 1));
            free(first);
        } else {
            cJSON_AddItemToArray(arr, cJSON_CreateString(v->valuestring));
        }
        cJSON_Delete(v);
        cJSON_AddItemToObject(o, "Fn::GetAtt", arr);
        return o;
    }
    snprintf(key, sizeof(key), "Fn::%s", tag);
    cJSON_AddItemToObject(o, key, v);
    return o;
}

static int looks_number(const char *s)
{
    const char *p = s;
    int digits = 0;
    if (*p == '-' || *p == '+') {
        p++;
    }
    if (p[0] == '0' && isdigit((unsigned char)p[1])) {
        return 0; /* leading zero: keep as a string */
    }
    while (isdigit((unsigned char)*p)) {
        p++;
        digits++;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            p++;
            digits++;
        }
    }
    if (digits == 0) {
        return 0;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '-' || *p == '+') {
            p++;
        }
        if (!isdigit((unsigned char)*p)) {
            return 0;
        }
        while (isdigit((unsigned char)*p)) {
            p++;
        }
    }
    return *p == 0 && strlen(s) < 16;
}

static cJSON *yaml_scalar(yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    const char *tag = (const char *)ev->data.scalar.tag;
    if (tag != NULL && strncmp(tag, "tag:yaml.org,2002:", 18) == 0) {
        const char *t = tag + 18;
        if (strcmp(t, "str") == 0) {
            return cJSON_CreateString(s);
        }
        if ((strcmp(t, "int") == 0 || strcmp(t, "float") == 0) && looks_number(s)) {
            return cJSON_CreateNumber(strtod(s, NULL));
        }
        if (strcmp(t, "bool") == 0) {
            return cJSON_CreateBool(strcasecmp(s, "true") == 0);
        }
        return cJSON_CreateString(s);
    }
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        return cJSON_CreateString(s);
    }
    if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0) {
        return cJSON_CreateTrue();
    }
    if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0) {
        return cJSON_CreateFalse();
    }
    if (strcmp(s, "null") == 0 || strcmp(s, "~") == 0 || s[0] == 0) {
        return cJSON_CreateNull();
    }
    if (looks_number(s)) {
        return cJSON_CreateNumber(strtod(s, NULL));
    }
    return cJSON_CreateString(s);
}

static int yaml_next(struct yaml_state *y, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&y->parser, ev)) {
        snprintf(y->err, y->elen,
                 "Template format error: YAML not well-formed. (line %zu, column %zu)",
                 y->parser.problem_mark.line + 1, y->parser.problem_mark.column + 1);
        return -1;
    }
    return 0;
}

static void yaml_remember(struct yaml_state *y, const unsigned char *anchor, const cJSON *node)
{
    struct yaml_anchor *n;
    if (anchor == NULL || node == NULL) {
        return;
    }
    n = realloc(y->anchors, (y->nanchors + 1) * sizeof(*n));
    if (n == NULL) {
        return;
    }
    y->anchors = n;
    y->anchors[y->nanchors].name = strdup((const char *)anchor);
    y->anchors[y->nanchors].node = cJSON_Duplicate(node, 1);
    y->nanchors++;
}

/* Reads the next event of a collection: 0 with *node built from it, or
 * NULL when the event is `end` (YAML_NO_EVENT: none may end here); -1 on an
 * error (y->err says which). */
static int yaml_child(struct yaml_state *y, yaml_event_type_t end, cJSON **node)
{
    yaml_event_t e;
    *node = NULL;
    if (yaml_next(y, &e) < 0) {
        return -1;
    }
    int at_end = e.type == end;
    if (!at_end) {
        *node = yaml_node(y, &e);
    }
    yaml_event_delete(&e);
    return at_end || *node != NULL ? 0 : -1;
}

/* The items of a sequence up to its end event, as an array (caller
 * deletes); NULL on an error. */
static cJSON *yaml_sequence(struct yaml_state *y)
{
    cJSON *out = cJSON_CreateArray();
    for (;;) {
        cJSON *item;
        if (yaml_child(y, YAML_SEQUENCE_END_EVENT, &item) < 0) {
            cJSON_Delete(out);
            return NULL;
        }
        if (item == NULL) {
            return out;
        }
        cJSON_AddItemToArray(out, item);
    }
}

/* The pairs of a mapping up to its end event, as an object (caller
 * deletes): a repeated key keeps its last value, a merge key ("<<") adds
 * the members of its mapping that are not there yet. NULL on an error. */
static cJSON *yaml_mapping(struct yaml_state *y)
{
    cJSON *out = cJSON_CreateObject();
    for (;;) {
        cJSON *key, *val;
        if (yaml_child(y, YAML_MAPPING_END_EVENT, &key) < 0) {
            cJSON_Delete(out);
            return NULL;
        }
        if (key == NULL) {
            return out;
        }
        if (yaml_child(y, YAML_NO_EVENT, &val) < 0) {
            cJSON_Delete(key);
            cJSON_Delete(out);
            return NULL;
        }
        char *k = cfn_value_str(key);
        if (strcmp(k, "<<") == 0 && cJSON_IsObject(val)) {
            cJSON *it;
            cJSON_ArrayForEach(it, val)
            {
                if (!cJSON_HasObjectItem(out, it->string)) {
                    cJSON_AddItemToObject(out, it->string, cJSON_Duplicate(it, 1));
                }
            }
            cJSON_Delete(val);
        } else if (cJSON_HasObjectItem(out, k)) {
            cJSON_ReplaceItemInObject(out, k, val);
        } else {
            cJSON_AddItemToObject(out, k, val);
        }
        free(k);
        cJSON_Delete(key);
    }
}

/* Builds the node starting at ev (consumed by the caller). */
static cJSON *yaml_node(struct yaml_state *y, yaml_event_t *ev)
{
    cJSON *out = NULL;
    const unsigned char *tag = NULL;
    unsigned char *anchor = NULL;
    if (++y->depth > 200) {
        snprintf(y->err, y->elen, "Template format error: YAML nesting too deep");
        goto out;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        tag = ev->data.scalar.tag;
        if (tag != NULL && tag[0] == '!' && tag[1] != '!') {
            cJSON *v;
            yaml_event_t fake = *ev;
            fake.data.scalar.tag = NULL;
            fake.data.scalar.style = YAML_SINGLE_QUOTED_SCALAR_STYLE;
            v = yaml_scalar(&fake);
            out = yaml_apply_tag((const char *)tag, v);
        } else {
            out = yaml_scalar(ev);
        }
        yaml_remember(y, ev->data.scalar.anchor, out);
        break;
    case YAML_ALIAS_EVENT: {
        size_t i;
        for (i = 0; i < y->nanchors; i++) {
            if (strcmp(y->anchors[i].name, (const char *)ev->data.alias.anchor) == 0) {
                out = cJSON_Duplicate(y->anchors[i].node, 1);
                break;
            }
        }
        if (out == NULL) {
            snprintf(y->err, y->elen, "Template format error: unknown YAML alias");
        }
        break;
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        int map = ev->type == YAML_MAPPING_START_EVENT;
        const unsigned char *a =
            map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
        tag = map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag;
        anchor = a ? (unsigned char *)strdup((const char *)a) : NULL;
        char *tagdup = tag ? strdup((const char *)tag) : NULL;
        out = map ? yaml_mapping(y) : yaml_sequence(y);
        if (out != NULL && tagdup != NULL && tagdup[0] == '!' && tagdup[1] != '!') {
            out = yaml_apply_tag(tagdup, out);
        }
        free(tagdup);
        yaml_remember(y, anchor, out);
        free(anchor);
        break;
    }
    default:
        snprintf(y->err, y->elen, "Template format error: unexpected YAML structure");
        break;
    }
out:
    y->depth--;
    return out;
}

static cJSON *yaml_parse(const char *body, size_t len, char *err, size_t elen)
{
    struct yaml_state y;
    yaml_event_t ev;
    cJSON *doc = NULL;
    size_t i;
    memset(&y, 0, sizeof(y));
    y.err = err;
    y.elen = elen;
    if (!yaml_parser_initialize(&y.parser)) {
        snprintf(err, elen, "Template format error: YAML parser unavailable");
        return NULL;
    }
    yaml_parser_set_input_string(&y.parser, (const unsigned char *)body, len);
    for (;;) {
        if (yaml_next(&y, &ev) < 0) {
            break;
        }
        if (ev.type == YAML_STREAM_END_EVENT || ev.type == YAML_DOCUMENT_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (ev.type == YAML_STREAM_START_EVENT || ev.type == YAML_DOCUMENT_START_EVENT) {
            yaml_event_delete(&ev);
            continue;
        }
        doc = yaml_node(&y, &ev);
        yaml_event_delete(&ev);
        break;
    }
    for (i = 0; i < y.nanchors; i++) {
        free(y.anchors[i].name);
        cJSON_Delete(y.anchors[i].node);
    }
    free(y.anchors);
    yaml_parser_delete(&y.parser);
    return doc;
}

cJSON *cfn_template_parse(const char *body, size_t len, char *err, size_t elen)
{
    const char *p = body;
    cJSON *doc = NULL;
    err[0] = 0;
    while (p < body + len && isspace((unsigned char)*p)) {
        p++;
    }
    if (p == body + len) {
        snprintf(err, elen, "Template format error: unsupported structure.");
        return NULL;
    }
    if (*p == '{') {
        const char *end = NULL;
        doc = cJSON_ParseWithLengthOpts(body, len, &end, 0);
        if (doc == NULL) {
            snprintf(err, elen, "Template format error: JSON not well-formed. (line 1, column %ld)",
                     (long)((end ? end : body) - body) + 1);
            return NULL;
        }
    } else {
        doc = yaml_parse(body, len, err, elen);
        if (doc == NULL) {
            if (err[0] == 0) {
                snprintf(err, elen, "Template format error: unsupported structure.");
            }
            return NULL;
        }
    }
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        snprintf(err, elen, "Template format error: unsupported structure.");
        return NULL;
    }
    return doc;
}

/* ------------------------------------------------------------- structure */

static int is_pseudo(const char *name)
{
    static const char *const pseudo[] = {
        "AWS::AccountId", "AWS::Region",           "AWS::StackName",
        "AWS::StackId",   "AWS::Partition",        "AWS::URLSuffix",
        "AWS::NoValue",   "AWS::NotificationARNs", NULL};
    size_t i;
    for (i = 0; pseudo[i] != NULL; i++) {
        if (strcmp(pseudo[i], name) == 0) {
            return 1;
        }
    }
    return 0;
}

static void add_unique(cJSON *arr, const char *name)
{
    cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (strcmp(it->valuestring, name) == 0) {
            return;
        }
    }
    cJSON_AddItemToArray(arr, cJSON_CreateString(name));
}

/* Names referenced in a Fn::Sub string: ${X} and ${X.Attr}; vars excluded. */
static void sub_refs(const char *s, const cJSON *vars, cJSON *out)
{
    const char *p = s;
    while ((p = strstr(p, "${")) != NULL) {
        const char *end = strchr(p + 2, '}');
        char name[256];
        size_t n;
        char *dot;
        if (end == NULL) {
            break;
        }
        if (p[2] == '!') {
            p = end + 1;
            continue;
        }
        n = (size_t)(end - (p + 2));
        if (n >= sizeof(name)) {
            n = sizeof(name) - 1;
        }
        memcpy(name, p + 2, n);
        name[n] = 0;
        while (n > 0 && isspace((unsigned char)name[n - 1])) {
            name[--n] = 0;
        }
        if (vars == NULL || !cJSON_HasObjectItem(vars, name)) {
            if (!is_pseudo(name)) {
                dot = strchr(name, '.');
                if (dot != NULL) {
                    *dot = 0;
                }
                add_unique(out, name);
            }
        }
        p = end + 1;
    }
}

/* Collects every name used by Ref / Fn::GetAtt / Fn::Sub under node. */
static void collect_refs(const cJSON *node, cJSON *out)
{
    const cJSON *it;
    if (cJSON_IsArray(node)) {
        cJSON_ArrayForEach(it, node)
        {
            collect_refs(it, out);
        }
        return;
    }
    if (!cJSON_IsObject(node)) {
        return;
    }
    if (cJSON_GetArraySize(node) == 1) {
        const cJSON *f = node->child;
        if (strcmp(f->string, "Ref") == 0 && cJSON_IsString(f)) {
            if (!is_pseudo(f->valuestring)) {
                add_unique(out, f->valuestring);
            }
            return;
        }
        if (strcmp(f->string, "Fn::GetAtt") == 0) {
            if (cJSON_IsArray(f) && cJSON_IsString(cJSON_GetArrayItem(f, 0))) {
                add_unique(out, cJSON_GetArrayItem(f, 0)->valuestring);
            } else if (cJSON_IsString(f)) {
                char *dup = strdup(f->valuestring);
                char *dot = strchr(dup, '.');
                if (dot != NULL) {
                    *dot = 0;
                }
                add_unique(out, dup);
                free(dup);
            }
            return;
        }
        if (strcmp(f->string, "Fn::Sub") == 0) {
            if (cJSON_IsString(f)) {
                sub_refs(f->valuestring, NULL, out);
            } else if (cJSON_IsArray(f) && cJSON_IsString(cJSON_GetArrayItem(f, 0))) {
                const cJSON *vars = cJSON_GetArrayItem(f, 1);
                sub_refs(cJSON_GetArrayItem(f, 0)->valuestring, vars, out);
                if (vars != NULL) {
                    collect_refs(vars, out);
                }
            }
            return;
        }
    }
    cJSON_ArrayForEach(it, node)
    {
        collect_refs(it, out);
    }
}

cJSON *cfn_resource_deps(const cJSON *tmpl, const cJSON *res)
{
    cJSON *refs = cJSON_CreateArray();
    cJSON *out = cJSON_CreateArray();
    const cJSON *resources = cJSON_GetObjectItemCaseSensitive(tmpl, "Resources");
    const cJSON *dep = cJSON_GetObjectItemCaseSensitive(res, "DependsOn");
    const cJSON *it;
    collect_refs(cJSON_GetObjectItemCaseSensitive(res, "Properties"), refs);
    if (cJSON_IsString(dep)) {
        add_unique(refs, dep->valuestring);
    } else if (cJSON_IsArray(dep)) {
        cJSON_ArrayForEach(it, dep)
        {
            if (cJSON_IsString(it)) {
                add_unique(refs, it->valuestring);
            }
        }
    }
    cJSON_ArrayForEach(it, refs)
    {
        if (cJSON_HasObjectItem(resources, it->valuestring)) {
            add_unique(out, it->valuestring);
        }
    }
    cJSON_Delete(refs);
    return out;
}

/* Checks that every reference in node names a resource, a parameter or a
 * pseudo parameter; appends unresolved ones to bad. */
static void check_refs(const cJSON *tmpl, const cJSON *node, cJSON *bad)
{
    cJSON *refs = cJSON_CreateArray();
    const cJSON *it;
    const cJSON *resources = cJSON_GetObjectItemCaseSensitive(tmpl, "Resources");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(tmpl, "Parameters");
    collect_refs(node, refs);
    cJSON_ArrayForEach(it, refs)
    {
        if (!cJSON_HasObjectItem(resources, it->valuestring) &&
            !cJSON_HasObjectItem(params, it->valuestring)) {
            add_unique(bad, it->valuestring);
        }
    }
    cJSON_Delete(refs);
}

void cfn_names_join(const cJSON *arr, char *buf, size_t blen)
{
    const cJSON *it;
    size_t off = 0;
    buf[0] = 0;
    cJSON_ArrayForEach(it, arr)
    {
        int n = snprintf(buf + off, blen - off, "%s%s", off ? ", " : "", it->valuestring);
        if (n < 0 || (size_t)n >= blen - off) {
            break;
        }
        off += (size_t)n;
    }
}

/* Kahn's algorithm over names (all resources or only the enabled ones).
 * Returns the ordered array; *cyclic receives the names left over. */
static cJSON *toposort(const cJSON *tmpl, const cJSON *names, cJSON **cyclic)
{
    int n = cJSON_GetArraySize(names);
    cJSON *order = cJSON_CreateArray();
    cJSON **deps = calloc((size_t)(n > 0 ? n : 1), sizeof(*deps));
    char *done = calloc((size_t)(n > 0 ? n : 1), 1);
    const cJSON *resources = cJSON_GetObjectItemCaseSensitive(tmpl, "Resources");
    int i, progress = 1, placed = 0;
    for (i = 0; i < n; i++) {
        const char *name = cJSON_GetArrayItem(names, i)->valuestring;
        deps[i] = cfn_resource_deps(tmpl, cJSON_GetObjectItemCaseSensitive(resources, name));
    }
    while (progress && placed < n) {
        progress = 0;
        for (i = 0; i < n; i++) {
            const cJSON *d;
            int ready = 1;
            if (done[i]) {
                continue;
            }
            cJSON_ArrayForEach(d, deps[i])
            {
                int j;
                for (j = 0; j < n; j++) {
                    if (!done[j] &&
                        strcmp(cJSON_GetArrayItem(names, j)->valuestring, d->valuestring) == 0) {
                        ready = 0;
                        break;
                    }
                }
                if (!ready) {
                    break;
                }
            }
            if (ready) {
                done[i] = 1;
                placed++;
                progress = 1;
                cJSON_AddItemToArray(order,
                                     cJSON_CreateString(cJSON_GetArrayItem(names, i)->valuestring));
            }
        }
    }
    if (cyclic != NULL) {
        *cyclic = cJSON_CreateArray();
        for (i = 0; i < n; i++) {
            if (!done[i]) {
                cJSON_AddItemToArray(*cyclic,
                                     cJSON_CreateString(cJSON_GetArrayItem(names, i)->valuestring));
            }
        }
    }
    for (i = 0; i < n; i++) {
        cJSON_Delete(deps[i]);
    }
    free(deps);
    free(done);
    return order;
}

int cfn_template_check(const cJSON *tmpl, char *err, size_t elen)
{
    const cJSON *resources = cJSON_GetObjectItemCaseSensitive(tmpl, "Resources");
    const cJSON *it;
    cJSON *bad = NULL, *names = NULL, *order = NULL, *cyc = NULL;
    char list[900];
    int rc = -1;
    static const char *const sections[] = {"AWSTemplateFormatVersion",
                                           "Description",
                                           "Metadata",
                                           "Parameters",
                                           "Mappings",
                                           "Conditions",
                                           "Transform",
                                           "Resources",
                                           "Outputs",
                                           "Rules",
                                           NULL};
    cJSON_ArrayForEach(it, tmpl)
    {
        size_t i;
        int ok = 0;
        for (i = 0; sections[i] != NULL; i++) {
            if (strcmp(sections[i], it->string) == 0) {
                ok = 1;
            }
        }
        if (!ok) {
            snprintf(err, elen,
                     "Template format error: Invalid template property or properties [%s]",
                     it->string);
            goto out;
        }
    }
    if (!cJSON_IsObject(resources) || cJSON_GetArraySize(resources) == 0) {
        snprintf(err, elen,
                 "Template format error: At least one Resources member must be defined.");
        goto out;
    }
    if (cJSON_GetArraySize(resources) > 500) {
        snprintf(err, elen,
                 "Template format error: Number of resources, %d, is greater than maximum "
                 "allowed, 500",
                 cJSON_GetArraySize(resources));
        goto out;
    }
    cJSON_ArrayForEach(it, resources)
    {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(it, "Type");
        if (!cJSON_IsObject(it) || !cJSON_IsString(type)) {
            snprintf(err, elen,
                     "Template format error: [/Resources/%s] Every Resources object must contain a "
                     "Type member.",
                     it->string);
            goto out;
        }
    }
    if (cfn_types_unrecognized(resources, list, sizeof(list)) > 0) {
        snprintf(err, elen, "Template format error: Unrecognized resource types: [%s]", list);
        goto out;
    }
    bad = cJSON_CreateArray();
    cJSON_ArrayForEach(it, resources)
    {
        const cJSON *dep = cJSON_GetObjectItemCaseSensitive(it, "DependsOn");
        const cJSON *d;
        check_refs(tmpl, cJSON_GetObjectItemCaseSensitive(it, "Properties"), bad);
        if (cJSON_IsString(dep) && !cJSON_HasObjectItem(resources, dep->valuestring)) {
            add_unique(bad, dep->valuestring);
        }
        if (cJSON_IsArray(dep)) {
            cJSON_ArrayForEach(d, dep)
            {
                if (cJSON_IsString(d) && !cJSON_HasObjectItem(resources, d->valuestring)) {
                    add_unique(bad, d->valuestring);
                }
            }
        }
    }
    if (cJSON_GetArraySize(bad) > 0) {
        cfn_names_join(bad, list, sizeof(list));
        snprintf(err, elen,
                 "Template format error: Unresolved resource dependencies [%s] in the Resources "
                 "block of the template",
                 list);
        goto out;
    }
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(tmpl, "Outputs"))
    {
        check_refs(tmpl, cJSON_GetObjectItemCaseSensitive(it, "Value"), bad);
    }
    if (cJSON_GetArraySize(bad) > 0) {
        cfn_names_join(bad, list, sizeof(list));
        snprintf(err, elen,
                 "Template format error: Unresolved resource dependencies [%s] in the Outputs "
                 "block of the template",
                 list);
        goto out;
    }
    names = cJSON_CreateArray();
    cJSON_ArrayForEach(it, resources)
    {
        cJSON_AddItemToArray(names, cJSON_CreateString(it->string));
    }
    order = toposort(tmpl, names, &cyc);
    if (cJSON_GetArraySize(cyc) > 0) {
        cfn_names_join(cyc, list, sizeof(list));
        snprintf(err, elen, "Circular dependency between resources: [%s]", list);
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(bad);
    cJSON_Delete(names);
    cJSON_Delete(order);
    cJSON_Delete(cyc);
    return rc;
}

/* ------------------------------------------------------------- parameters */

int cfn_param_is_list(const char *type)
{
    return type != NULL &&
           (strcmp(type, "CommaDelimitedList") == 0 || strncmp(type, "List<", 5) == 0);
}

static int parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    if (s == NULL || *s == 0) {
        return -1;
    }
    *out = strtod(s, &end);
    while (isspace((unsigned char)*end)) {
        end++;
    }
    return (errno != 0 || *end != 0) ? -1 : 0;
}

static int check_param(const char *name, const cJSON *decl, const char *value, char *err,
                       size_t elen)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(decl, "Type");
    const char *t = cJSON_IsString(type) ? type->valuestring : "String";
    const cJSON *allowed = cJSON_GetObjectItemCaseSensitive(decl, "AllowedValues");
    const cJSON *pattern = cJSON_GetObjectItemCaseSensitive(decl, "AllowedPattern");
    const cJSON *minl = cJSON_GetObjectItemCaseSensitive(decl, "MinLength");
    const cJSON *maxl = cJSON_GetObjectItemCaseSensitive(decl, "MaxLength");
    const cJSON *minv = cJSON_GetObjectItemCaseSensitive(decl, "MinValue");
    const cJSON *maxv = cJSON_GetObjectItemCaseSensitive(decl, "MaxValue");
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(decl, "ConstraintDescription");
    double d;
    if (strcmp(t, "Number") == 0 || strcmp(t, "List<Number>") == 0) {
        char *dup = strdup(value), *save = NULL, *tok;
        int ok = 1;
        if (strcmp(t, "Number") == 0) {
            ok = parse_double(value, &d) == 0;
        } else {
            for (tok = strtok_r(dup, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
                if (parse_double(tok, &d) != 0) {
                    ok = 0;
                }
            }
        }
        free(dup);
        if (!ok) {
            snprintf(err, elen, "Parameter '%s' must be a number.", name);
            return -1;
        }
    }
    if (cJSON_IsArray(allowed)) {
        const cJSON *a;
        int ok = 0;
        cJSON_ArrayForEach(a, allowed)
        {
            char *s = cfn_value_str(a);
            if (strcmp(s, value) == 0) {
                ok = 1;
            }
            free(s);
        }
        if (!ok && !cfn_param_is_list(t)) {
            if (cJSON_IsString(desc)) {
                snprintf(err, elen, "Parameter '%s' must be one of AllowedValues", name);
            } else {
                snprintf(err, elen, "Parameter '%s' must be one of AllowedValues", name);
            }
            return -1;
        }
    }
    if (cJSON_IsString(pattern)) {
        /* Java regex, whole match; an invalid pattern constrains nothing */
        if (emu_regex_match_whole(pattern->valuestring, value) == 0) {
            if (cJSON_IsString(desc)) {
                snprintf(err, elen, "Parameter '%s' failed to satisfy constraint: %s", name,
                         desc->valuestring);
            } else {
                snprintf(err, elen, "Parameter '%s' must match pattern %s", name,
                         pattern->valuestring);
            }
            return -1;
        }
    }
    if (minl != NULL) {
        char *s = cfn_value_str(minl);
        double v;
        if (parse_double(s, &v) == 0 && (double)strlen(value) < v) {
            snprintf(err, elen, "Parameter '%s' must contain at least %s characters", name, s);
            free(s);
            return -1;
        }
        free(s);
    }
    if (maxl != NULL) {
        char *s = cfn_value_str(maxl);
        double v;
        if (parse_double(s, &v) == 0 && (double)strlen(value) > v) {
            snprintf(err, elen, "Parameter '%s' must contain at most %s characters", name, s);
            free(s);
            return -1;
        }
        free(s);
    }
    if (strcmp(t, "Number") == 0 && parse_double(value, &d) == 0) {
        if (minv != NULL) {
            char *s = cfn_value_str(minv);
            double v;
            if (parse_double(s, &v) == 0 && d < v) {
                snprintf(err, elen, "Parameter '%s' must be a number not less than %s", name, s);
                free(s);
                return -1;
            }
            free(s);
        }
        if (maxv != NULL) {
            char *s = cfn_value_str(maxv);
            double v;
            if (parse_double(s, &v) == 0 && d > v) {
                snprintf(err, elen, "Parameter '%s' must be a number not greater than %s", name, s);
                free(s);
                return -1;
            }
            free(s);
        }
    }
    return 0;
}

int cfn_params_resolve(const cJSON *tmpl, const cJSON *given, const cJSON *previous, cJSON **out,
                       char *err, size_t elen)
{
    const cJSON *decls = cJSON_GetObjectItemCaseSensitive(tmpl, "Parameters");
    const cJSON *it;
    cJSON *res = cJSON_CreateObject();
    cJSON *missing = cJSON_CreateArray();
    cJSON *unknown = cJSON_CreateArray();
    char list[900];
    int rc = -1;
    *out = NULL;
    cJSON_ArrayForEach(it, given)
    {
        if (!cJSON_HasObjectItem(decls, it->string)) {
            add_unique(unknown, it->string);
        }
    }
    if (cJSON_GetArraySize(unknown) > 0) {
        cfn_names_join(unknown, list, sizeof(list));
        snprintf(err, elen, "Parameters: [%s] do not exist in the template", list);
        goto out;
    }
    cJSON_ArrayForEach(it, decls)
    {
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(given, it->string);
        const cJSON *def = cJSON_GetObjectItemCaseSensitive(it, "Default");
        char *value = NULL;
        if (!cJSON_IsObject(it)) {
            snprintf(err, elen, "Template format error: Parameter '%s' must be an object",
                     it->string);
            goto out;
        }
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, "Type"))) {
            snprintf(err, elen,
                     "Template format error: Every Parameters object must contain a Type member.");
            goto out;
        }
        if (cJSON_IsObject(g) &&
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g, "UsePreviousValue"))) {
            const cJSON *p = cJSON_GetObjectItemCaseSensitive(previous, it->string);
            if (cJSON_IsString(p)) {
                value = strdup(p->valuestring);
            } else {
                snprintf(err, elen,
                         "Invalid input for parameter key %s. Cannot specify usePreviousValue as "
                         "true for a parameter key not in the previous template",
                         it->string);
                goto out;
            }
        } else if (cJSON_IsString(g)) {
            value = strdup(g->valuestring);
        } else if (def != NULL && !cJSON_IsNull(def)) {
            value = cfn_value_str(def);
        } else {
            add_unique(missing, it->string);
            continue;
        }
        if (check_param(it->string, it, value, err, elen) < 0) {
            free(value);
            goto out;
        }
        cJSON_AddStringToObject(res, it->string, value);
        free(value);
    }
    if (cJSON_GetArraySize(missing) > 0) {
        cfn_names_join(missing, list, sizeof(list));
        snprintf(err, elen, "Parameters: [%s] must have values", list);
        goto out;
    }
    *out = res;
    res = NULL;
    rc = 0;
out:
    cJSON_Delete(res);
    cJSON_Delete(missing);
    cJSON_Delete(unknown);
    return rc;
}

/* ------------------------------------------------------------- evaluation */

char *cfn_value_str(const cJSON *v)
{
    char buf[64];
    if (v == NULL || cJSON_IsNull(v)) {
        return strdup("");
    }
    if (cJSON_IsString(v)) {
        return strdup(v->valuestring);
    }
    if (cJSON_IsBool(v)) {
        return strdup(cJSON_IsTrue(v) ? "true" : "false");
    }
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == floor(d) && fabs(d) < 1e15) {
            snprintf(buf, sizeof(buf), "%.0f", d);
        } else {
            snprintf(buf, sizeof(buf), "%.15g", d);
        }
        return strdup(buf);
    }
    if (cJSON_IsArray(v)) {
        struct {
            char *d;
            size_t n;
        } b = {NULL, 0};
        const cJSON *it;
        FILE *f = open_memstream(&b.d, &b.n);
        int first = 1;
        cJSON_ArrayForEach(it, v)
        {
            char *s = cfn_value_str(it);
            fprintf(f, "%s%s", first ? "" : ",", s);
            free(s);
            first = 0;
        }
        fclose(f);
        return b.d;
    }
    return cJSON_PrintUnformatted(v);
}

static cJSON *eval_node(struct cfn_ctx *c, const cJSON *node, int depth);

/* A parameter's value as Ref returns it (lists split on commas). */
static cJSON *param_value(struct cfn_ctx *c, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->params, name);
    const cJSON *decl = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(c->tmpl, "Parameters"), name);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(decl, "Type");
    if (!cJSON_IsString(v)) {
        return NULL;
    }
    if (cJSON_IsString(type) && cfn_param_is_list(type->valuestring)) {
        cJSON *arr = cJSON_CreateArray();
        const char *p = v->valuestring;
        if (*p != 0) {
            for (;;) {
                const char *comma = strchr(p, ',');
                size_t n = comma ? (size_t)(comma - p) : strlen(p);
                char *item = strndup(p, n);
                char *s = item, *e;
                while (isspace((unsigned char)*s)) {
                    s++;
                }
                e = s + strlen(s);
                while (e > s && isspace((unsigned char)e[-1])) {
                    *--e = 0;
                }
                cJSON_AddItemToArray(arr, cJSON_CreateString(s));
                free(item);
                if (comma == NULL) {
                    break;
                }
                p = comma + 1;
            }
        }
        return arr;
    }
    return cJSON_CreateString(v->valuestring);
}

static cJSON *pseudo_value(struct cfn_ctx *c, const char *name)
{
    char buf[256];
    if (strcmp(name, "AWS::AccountId") == 0) {
        return cJSON_CreateString(c->account ? c->account : "000000000000");
    }
    if (strcmp(name, "AWS::Region") == 0) {
        return cJSON_CreateString(c->region ? c->region : "us-east-1");
    }
    if (strcmp(name, "AWS::StackName") == 0) {
        return cJSON_CreateString(c->stack_name ? c->stack_name : "");
    }
    if (strcmp(name, "AWS::StackId") == 0) {
        return cJSON_CreateString(c->stack_id ? c->stack_id : "");
    }
    if (strcmp(name, "AWS::Partition") == 0) {
        const char *r = c->region ? c->region : "";
        return cJSON_CreateString(strncmp(r, "cn-", 3) == 0       ? "aws-cn"
                                  : strncmp(r, "us-gov-", 7) == 0 ? "aws-us-gov"
                                                                  : "aws");
    }
    if (strcmp(name, "AWS::URLSuffix") == 0) {
        snprintf(buf, sizeof(buf), "%s",
                 (c->region && strncmp(c->region, "cn-", 3) == 0) ? "amazonaws.com.cn"
                                                                  : "amazonaws.com");
        return cJSON_CreateString(buf);
    }
    if (strcmp(name, "AWS::NoValue") == 0) {
        return cJSON_CreateString(CFN_NOVALUE_MARK);
    }
    if (strcmp(name, "AWS::NotificationARNs") == 0) {
        return cJSON_CreateArray();
    }
    return NULL;
}

static cJSON *do_ref(struct cfn_ctx *c, const char *name)
{
    cJSON *v = pseudo_value(c, name);
    const cJSON *r;
    if (v != NULL) {
        return v;
    }
    if (cJSON_HasObjectItem(cJSON_GetObjectItemCaseSensitive(c->tmpl, "Parameters"), name)) {
        v = param_value(c, name);
        if (v == NULL) {
            ctx_err(c, "Parameters: [%s] must have values", name);
        }
        return v;
    }
    r = cJSON_GetObjectItemCaseSensitive(c->resources, name);
    if (r != NULL) {
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(r, "ref");
        if (cJSON_IsString(ref)) {
            return cJSON_CreateString(ref->valuestring);
        }
    }
    if (cJSON_HasObjectItem(cJSON_GetObjectItemCaseSensitive(c->tmpl, "Resources"), name)) {
        ctx_err(c, "Template error: resource %s is not available for Ref", name);
    } else {
        ctx_err(c,
                "Template format error: Unresolved resource dependencies [%s] in the Resources "
                "block of the template",
                name);
    }
    return NULL;
}

static cJSON *do_getatt(struct cfn_ctx *c, const char *res, const char *attr)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(c->resources, res);
    const cJSON *a;
    if (r == NULL) {
        if (cJSON_HasObjectItem(cJSON_GetObjectItemCaseSensitive(c->tmpl, "Resources"), res)) {
            ctx_err(c, "Template error: resource %s is not available for Fn::GetAtt", res);
        } else {
            ctx_err(c, "Template error: instance of Fn::GetAtt references undefined resource %s",
                    res);
        }
        return NULL;
    }
    a = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "attrs"), attr);
    if (a == NULL) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c->tmpl, "Resources"),
                                             res),
            "Type");
        ctx_err(c, "Template error: resource %s does not support attribute type %s in Fn::GetAtt",
                res, attr);
        (void)type;
        return NULL;
    }
    return cJSON_Duplicate(a, 1);
}

static cJSON *do_sub(struct cfn_ctx *c, const char *s, const cJSON *vars, int depth)
{
    char *buf = NULL;
    size_t blen = 0;
    FILE *f = open_memstream(&buf, &blen);
    const char *p = s;
    cJSON *out = NULL;
    cJSON *evars = NULL;
    if (vars != NULL) {
        evars = eval_node(c, vars, depth + 1);
        if (evars == NULL) {
            fclose(f);
            free(buf);
            return NULL;
        }
    }
    for (;;) {
        const char *start = strstr(p, "${");
        const char *end;
        char name[512];
        size_t n;
        cJSON *v = NULL;
        char *dot;
        if (start == NULL) {
            fputs(p, f);
            break;
        }
        fwrite(p, 1, (size_t)(start - p), f);
        end = strchr(start + 2, '}');
        if (end == NULL) {
            fputs(start, f);
            break;
        }
        if (start[2] == '!') {
            fputs("${", f);
            fwrite(start + 3, 1, (size_t)(end - (start + 3)), f);
            fputc('}', f);
            p = end + 1;
            continue;
        }
        n = (size_t)(end - (start + 2));
        if (n >= sizeof(name)) {
            n = sizeof(name) - 1;
        }
        memcpy(name, start + 2, n);
        name[n] = 0;
        if (evars != NULL && cJSON_HasObjectItem(evars, name)) {
            v = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(evars, name), 1);
        } else if ((dot = strchr(name, '.')) != NULL && !is_pseudo(name)) {
            *dot = 0;
            v = do_getatt(c, name, dot + 1);
        } else {
            v = do_ref(c, name);
        }
        if (v == NULL) {
            goto fail;
        }
        {
            char *str = cfn_value_str(v);
            fputs(str, f);
            free(str);
        }
        cJSON_Delete(v);
        p = end + 1;
    }
    fclose(f);
    f = NULL;
    out = cJSON_CreateString(buf);
fail:
    if (f != NULL) {
        fclose(f);
    }
    free(buf);
    cJSON_Delete(evars);
    return out;
}

static int eval_condition(struct cfn_ctx *c, const cJSON *node, int depth, int *result);

static int cond_by_name(struct cfn_ctx *c, const char *name, int depth, int *result)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->conditions, name);
    const cJSON *def;
    if (cJSON_IsBool(v)) {
        *result = cJSON_IsTrue(v);
        return 0;
    }
    def = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c->tmpl, "Conditions"),
                                           name);
    if (def == NULL) {
        ctx_err(c, "Template format error: Unresolved condition dependency %s in Fn::If", name);
        return -1;
    }
    if (depth > 50) {
        ctx_err(c, "Template format error: Circular dependency between conditions");
        return -1;
    }
    if (eval_condition(c, def, depth + 1, result) < 0) {
        return -1;
    }
    if (c->conditions == NULL) {
        c->conditions = cJSON_CreateObject();
    }
    cJSON_AddBoolToObject(c->conditions, name, *result);
    return 0;
}

static int eval_condition(struct cfn_ctx *c, const cJSON *node, int depth, int *result)
{
    const cJSON *f;
    if (cJSON_IsBool(node)) {
        *result = cJSON_IsTrue(node);
        return 0;
    }
    if (cJSON_IsString(node)) {
        if (strcmp(node->valuestring, "true") == 0 || strcmp(node->valuestring, "false") == 0) {
            *result = strcmp(node->valuestring, "true") == 0;
            return 0;
        }
        ctx_err(c, "Template format error: Conditions can only be boolean operations");
        return -1;
    }
    if (!cJSON_IsObject(node) || cJSON_GetArraySize(node) != 1) {
        ctx_err(c, "Template format error: Conditions can only be boolean operations");
        return -1;
    }
    f = node->child;
    if (strcmp(f->string, "Condition") == 0 && cJSON_IsString(f)) {
        return cond_by_name(c, f->valuestring, depth, result);
    }
    if (strcmp(f->string, "Fn::Equals") == 0) {
        cJSON *a, *b;
        char *sa, *sb;
        if (!cJSON_IsArray(f) || cJSON_GetArraySize(f) != 2) {
            ctx_err(
                c,
                "Template error: every Fn::Equals object requires a list of 2 string parameters.");
            return -1;
        }
        a = eval_node(c, cJSON_GetArrayItem(f, 0), depth + 1);
        if (a == NULL) {
            return -1;
        }
        b = eval_node(c, cJSON_GetArrayItem(f, 1), depth + 1);
        if (b == NULL) {
            cJSON_Delete(a);
            return -1;
        }
        sa = cfn_value_str(a);
        sb = cfn_value_str(b);
        *result = strcmp(sa, sb) == 0;
        free(sa);
        free(sb);
        cJSON_Delete(a);
        cJSON_Delete(b);
        return 0;
    }
    if (strcmp(f->string, "Fn::Not") == 0) {
        int r;
        if (!cJSON_IsArray(f) || cJSON_GetArraySize(f) != 1) {
            ctx_err(c, "Template error: Fn::Not requires a list argument with one function token");
            return -1;
        }
        if (eval_condition(c, cJSON_GetArrayItem(f, 0), depth + 1, &r) < 0) {
            return -1;
        }
        *result = !r;
        return 0;
    }
    if (strcmp(f->string, "Fn::And") == 0 || strcmp(f->string, "Fn::Or") == 0) {
        int is_and = strcmp(f->string, "Fn::And") == 0;
        const cJSON *it;
        int acc = is_and;
        if (!cJSON_IsArray(f) || cJSON_GetArraySize(f) < 2 || cJSON_GetArraySize(f) > 10) {
            ctx_err(c, "Template error: %s requires a list argument with 2 to 10 conditions",
                    f->string);
            return -1;
        }
        cJSON_ArrayForEach(it, f)
        {
            int r;
            if (eval_condition(c, it, depth + 1, &r) < 0) {
                return -1;
            }
            acc = is_and ? (acc && r) : (acc || r);
        }
        *result = acc;
        return 0;
    }
    ctx_err(c, "Template format error: Conditions can only be boolean operations");
    return -1;
}

int cfn_conditions_eval(struct cfn_ctx *c)
{
    const cJSON *it;
    if (c->conditions == NULL) {
        c->conditions = cJSON_CreateObject();
    }
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(c->tmpl, "Conditions"))
    {
        int r;
        if (cond_by_name(c, it->string, 0, &r) < 0) {
            return -1;
        }
    }
    return 0;
}

int cfn_enabled(struct cfn_ctx *c, const cJSON *def)
{
    const cJSON *cond = cJSON_GetObjectItemCaseSensitive(def, "Condition");
    int r = 1;
    if (!cJSON_IsString(cond)) {
        return 1;
    }
    if (cond_by_name(c, cond->valuestring, 0, &r) < 0) {
        return 0;
    }
    return r;
}

static cJSON *list_arg(struct cfn_ctx *c, const cJSON *node, int depth, const char *fn)
{
    cJSON *v = eval_node(c, node, depth + 1);
    if (v == NULL) {
        return NULL;
    }
    if (!cJSON_IsArray(v)) {
        ctx_err(c, "Template error: %s requires a list argument", fn);
        cJSON_Delete(v);
        return NULL;
    }
    return v;
}

static cJSON *eval_fn(struct cfn_ctx *c, const cJSON *f, int depth)
{
    const char *fn = f->string;
    if (strcmp(fn, "Ref") == 0) {
        if (!cJSON_IsString(f)) {
            ctx_err(c, "Template format error: Every Ref object must have a single String value.");
            return NULL;
        }
        return do_ref(c, f->valuestring);
    }
    if (strcmp(fn, "Fn::GetAtt") == 0) {
        cJSON *attr = NULL, *out = NULL;
        char *s;
        if (cJSON_IsString(f)) {
            char *dup = strdup(f->valuestring);
            char *dot = strchr(dup, '.');
            if (dot == NULL) {
                free(dup);
                ctx_err(
                    c, "Template error: every Fn::GetAtt object requires two non-empty parameters");
                return NULL;
            }
            *dot = 0;
            out = do_getatt(c, dup, dot + 1);
            free(dup);
            return out;
        }
        if (!cJSON_IsArray(f) || cJSON_GetArraySize(f) != 2 ||
            !cJSON_IsString(cJSON_GetArrayItem(f, 0))) {
            ctx_err(c, "Template error: every Fn::GetAtt object requires two non-empty parameters");
            return NULL;
        }
        attr = eval_node(c, cJSON_GetArrayItem(f, 1), depth + 1);
        if (attr == NULL) {
            return NULL;
        }
        s = cfn_value_str(attr);
        out = do_getatt(c, cJSON_GetArrayItem(f, 0)->valuestring, s);
        free(s);
        cJSON_Delete(attr);
        return out;
    }
    if (strcmp(fn, "Fn::Join") == 0) {
        cJSON *list, *out;
        const cJSON *it;
        char *buf = NULL;
        size_t blen = 0;
        FILE *m;
        int first = 1;
        if (!cJSON_IsArray(f) || cJSON_GetArraySize(f) != 2 ||
            !cJSON_IsString(cJSON_GetArrayItem(f, 0))) {
            ctx_err(c, "Template error: every Fn::Join object requires two parameters, (1) a "
                       "string delimiter and (2) a list of strings to be joined or a function that "
                       "returns a list of strings (such as Fn::GetAZs) to be joined.");
            return NULL;
        }
        list = list_arg(c, cJSON_GetArrayItem(f, 1), depth, fn);
        if (list == NULL) {
            return NULL;
        }
        m = open_memstream(&buf, &blen);
        cJSON_ArrayForEach(it, list)
        {
            char *s = cfn_value_str(it);
            fprintf(m, "%s%s", first ? "" : cJSON_GetArrayItem(f, 0)->valuestring, s);
            free(s);
            first = 0;
        }
        fclose(m);
        out = cJSON_CreateString(buf);
        free(buf);
        cJSON_Delete(list);
        return out;
    }
    if (strcmp(fn, "Fn::Sub") == 0) {
        if (cJSON_IsString(f)) {
            return do_sub(c, f->valuestring, NULL, depth);
        }
        if (cJSON_IsArray(f) && cJSON_GetArraySize(f) == 2 &&
            cJSON_IsString(cJSON_GetArrayItem(f, 0)) && cJSON_IsObject(cJSON_GetArrayItem(f, 1))) {
            return do_sub(c, cJSON_GetArrayItem(f, 0)->valuestring, cJSON_GetArrayItem(f, 1),
                          depth);
        }
        ctx_err(c, "Template error: One or more Fn::Sub intrinsic functions don't specify expected "
                   "arguments. Specify a string as first argument, and an optional second argument "
                   "to specify a mapping of values to replace in the string");
        return NULL;
    }
    if (strcmp(fn, "Fn::Select") == 0) {
        cJSON *idx, *list, *out;
        char *s;
        double d;
        if (!cJSON_IsArray(f) || cJSON_GetArraySize(f) != 2) {
            ctx_err(c, "Template error: Fn::Select requires a list argument with two elements: an "
                       "integer index and a list");
            return NULL;
        }
        idx = eval_node(c, cJSON_GetArrayItem(f, 0), depth + 1);
        if (idx == NULL) {
            return NULL;
        }
        s = cfn_value_str(idx);
        cJSON_Delete(idx);
        if (parse_double(s, &d) < 0 || d < 0 || d != floor(d)) {
            free(s);
            ctx_err(c, "Template error: Fn::Select requires a list argument with two elements: an "
                       "integer index and a list");
            return NULL;
        }
        free(s);
        list = list_arg(c, cJSON_GetArrayItem(f, 1), depth, fn);
        if (list == NULL) {
            return NULL;
        }
        if ((int)d >= cJSON_GetArraySize(list)) {
            cJSON_Delete(list);
            ctx_err(c, "Template error: Fn::Select cannot select nonexistent value at index %d",
                    (int)d);
            return NULL;
        }
        out = cJSON_Duplicate(cJSON_GetArrayItem(list, (int)d), 1);
        cJSON_Delete(list);
        return out;
    }
    if (strcmp(fn, "Fn::Split") == 0) {
        cJSON *src, *out;
        const char *delim, *p;
        char *s;
        size_t dl;
        if (!cJSON_IsArray(f) || cJSON_GetArraySize(f) != 2 ||
            !cJSON_IsString(cJSON_GetArrayItem(f, 0)) ||
            cJSON_GetArrayItem(f, 0)->valuestring[0] == 0) {
            ctx_err(c, "Template error: every Fn::Split object requires two parameters, (1) a "
                       "string delimiter and (2) a string to be split or a function that returns a "
                       "string to be split.");
            return NULL;
        }
        delim = cJSON_GetArrayItem(f, 0)->valuestring;
        dl = strlen(delim);
        src = eval_node(c, cJSON_GetArrayItem(f, 1), depth + 1);
        if (src == NULL) {
            return NULL;
        }
        s = cfn_value_str(src);
        cJSON_Delete(src);
        out = cJSON_CreateArray();
        p = s;
        for (;;) {
            const char *q = strstr(p, delim);
            char *item = strndup(p, q ? (size_t)(q - p) : strlen(p));
            cJSON_AddItemToArray(out, cJSON_CreateString(item));
            free(item);
            if (q == NULL) {
                break;
            }
            p = q + dl;
        }
        free(s);
        return out;
    }
    if (strcmp(fn, "Fn::Base64") == 0) {
        static const char tbl[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        cJSON *v = eval_node(c, f, depth + 1), *out;
        char *s, *o;
        size_t n, i, j = 0;
        if (v == NULL) {
            return NULL;
        }
        s = cfn_value_str(v);
        cJSON_Delete(v);
        n = strlen(s);
        o = malloc(4 * ((n + 2) / 3) + 1);
        for (i = 0; i + 2 < n; i += 3) {
            unsigned x = ((unsigned char)s[i] << 16) | ((unsigned char)s[i + 1] << 8) |
                         (unsigned char)s[i + 2];
            o[j++] = tbl[(x >> 18) & 63];
            o[j++] = tbl[(x >> 12) & 63];
            o[j++] = tbl[(x >> 6) & 63];
            o[j++] = tbl[x & 63];
        }
        if (i < n) {
            unsigned x = (unsigned char)s[i] << 16;
            if (i + 1 < n) {
                x |= (unsigned char)s[i + 1] << 8;
            }
            o[j++] = tbl[(x >> 18) & 63];
            o[j++] = tbl[(x >> 12) & 63];
            o[j++] = i + 1 < n ? tbl[(x >> 6) & 63] : '=';
            o[j++] = '=';
        }
        o[j] = 0;
        out = cJSON_CreateString(o);
        free(o);
        free(s);
        return out;
    }
    if (strcmp(fn, "Fn::GetAZs") == 0) {
        cJSON *v = eval_node(c, f, depth + 1), *out;
        char *r;
        const char *region;
        char az[64];
        static const char suffix[] = "abc";
        size_t i;
        if (v == NULL) {
            return NULL;
        }
        r = cfn_value_str(v);
        cJSON_Delete(v);
        region = r[0] ? r : (c->region ? c->region : "us-east-1");
        out = cJSON_CreateArray();
        for (i = 0; i < 3; i++) {
            snprintf(az, sizeof(az), "%s%c", region, suffix[i]);
            cJSON_AddItemToArray(out, cJSON_CreateString(az));
        }
        free(r);
        return out;
    }
    if (strcmp(fn, "Fn::FindInMap") == 0) {
        cJSON *args[3] = {NULL, NULL, NULL};
        char *s[3] = {NULL, NULL, NULL};
        const cJSON *m;
        cJSON *out = NULL;
        int i;
        if (!cJSON_IsArray(f) || cJSON_GetArraySize(f) < 3) {
            ctx_err(c, "Template error: every Fn::FindInMap object requires three parameters, the "
                       "map name, map key and the attribute for return value");
            return NULL;
        }
        for (i = 0; i < 3; i++) {
            args[i] = eval_node(c, cJSON_GetArrayItem(f, i), depth + 1);
            if (args[i] == NULL) {
                goto fim_out;
            }
            s[i] = cfn_value_str(args[i]);
        }
        m = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c->tmpl, "Mappings"),
                                             s[0]);
        if (m == NULL) {
            ctx_err(c, "Template error: Unable to get mapping for %s::%s::%s", s[0], s[1], s[2]);
            goto fim_out;
        }
        m = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, s[1]), s[2]);
        if (m == NULL) {
            if (cJSON_GetArraySize(f) == 4 && cJSON_IsObject(cJSON_GetArrayItem(f, 3))) {
                out = eval_node(
                    c, cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(f, 3), "DefaultValue"),
                    depth + 1);
                goto fim_out;
            }
            ctx_err(c, "Template error: Unable to get mapping for %s::%s::%s", s[0], s[1], s[2]);
            goto fim_out;
        }
        out = cJSON_Duplicate(m, 1);
    fim_out:
        for (i = 0; i < 3; i++) {
            cJSON_Delete(args[i]);
            free(s[i]);
        }
        return out;
    }
    if (strcmp(fn, "Fn::ImportValue") == 0) {
        cJSON *v = eval_node(c, f, depth + 1);
        const cJSON *e;
        char *name;
        if (v == NULL) {
            return NULL;
        }
        name = cfn_value_str(v);
        cJSON_Delete(v);
        e = cJSON_GetObjectItemCaseSensitive(c->exports, name);
        if (!cJSON_IsString(e)) {
            ctx_err(c, "No export named %s found.", name);
            free(name);
            return NULL;
        }
        if (c->imports != NULL) {
            add_unique(c->imports, name);
        }
        free(name);
        return cJSON_CreateString(e->valuestring);
    }
    if (strcmp(fn, "Fn::If") == 0) {
        int r;
        if (!cJSON_IsArray(f) || cJSON_GetArraySize(f) != 3 ||
            !cJSON_IsString(cJSON_GetArrayItem(f, 0))) {
            ctx_err(c, "Template error: Fn::If requires a list argument with three elements");
            return NULL;
        }
        if (cond_by_name(c, cJSON_GetArrayItem(f, 0)->valuestring, 0, &r) < 0) {
            return NULL;
        }
        return eval_node(c, cJSON_GetArrayItem(f, r ? 1 : 2), depth + 1);
    }
    if (strcmp(fn, "Fn::Equals") == 0 || strcmp(fn, "Fn::And") == 0 || strcmp(fn, "Fn::Or") == 0 ||
        strcmp(fn, "Fn::Not") == 0 || strcmp(fn, "Condition") == 0) {
        cJSON *wrap = cJSON_CreateObject();
        int r, rc;
        cJSON_AddItemReferenceToObject(wrap, fn, (cJSON *)f);
        rc = eval_condition(c, wrap, depth + 1, &r);
        cJSON_Delete(wrap);
        if (rc < 0) {
            return NULL;
        }
        return cJSON_CreateString(r ? "true" : "false");
    }
    return (cJSON *)1; /* not an intrinsic */
}

static cJSON *eval_node(struct cfn_ctx *c, const cJSON *node, int depth)
{
    cJSON *out;
    const cJSON *it;
    if (depth > 100) {
        ctx_err(c, "Template error: intrinsic functions nested too deeply");
        return NULL;
    }
    if (node == NULL) {
        return cJSON_CreateNull();
    }
    if (cJSON_IsObject(node) && cJSON_GetArraySize(node) == 1 && node->child->string != NULL &&
        (strcmp(node->child->string, "Ref") == 0 || strncmp(node->child->string, "Fn::", 4) == 0)) {
        out = eval_fn(c, node->child, depth);
        if (out != (cJSON *)1) {
            return out;
        }
        if (strncmp(node->child->string, "Fn::", 4) == 0) {
            ctx_err(c, "Template format error: Unrecognized function %s", node->child->string);
            return NULL;
        }
    }
    if (cJSON_IsArray(node)) {
        out = cJSON_CreateArray();
        cJSON_ArrayForEach(it, node)
        {
            cJSON *v = eval_node(c, it, depth + 1);
            if (v == NULL) {
                cJSON_Delete(out);
                return NULL;
            }
            if (is_novalue(v)) {
                cJSON_Delete(v);
                continue;
            }
            cJSON_AddItemToArray(out, v);
        }
        return out;
    }
    if (cJSON_IsObject(node)) {
        out = cJSON_CreateObject();
        cJSON_ArrayForEach(it, node)
        {
            cJSON *v = eval_node(c, it, depth + 1);
            if (v == NULL) {
                cJSON_Delete(out);
                return NULL;
            }
            if (is_novalue(v)) {
                cJSON_Delete(v);
                continue;
            }
            cJSON_AddItemToObject(out, it->string, v);
        }
        return out;
    }
    return cJSON_Duplicate(node, 1);
}

cJSON *cfn_eval(struct cfn_ctx *c, const cJSON *node)
{
    cJSON *v;
    c->err[0] = 0;
    v = eval_node(c, node, 0);
    if (v != NULL && is_novalue(v)) {
        cJSON_Delete(v);
        return cJSON_CreateNull();
    }
    return v;
}

cJSON *cfn_order(struct cfn_ctx *c)
{
    const cJSON *resources = cJSON_GetObjectItemCaseSensitive(c->tmpl, "Resources");
    const cJSON *it;
    cJSON *names = cJSON_CreateArray();
    cJSON *cyc = NULL, *order;
    cJSON_ArrayForEach(it, resources)
    {
        if (cfn_enabled(c, it)) {
            cJSON_AddItemToArray(names, cJSON_CreateString(it->string));
        }
    }
    order = toposort(c->tmpl, names, &cyc);
    if (cJSON_GetArraySize(cyc) > 0) {
        char list[900];
        cfn_names_join(cyc, list, sizeof(list));
        ctx_err(c, "Circular dependency between resources: [%s]", list);
        cJSON_Delete(order);
        order = NULL;
    }
    cJSON_Delete(cyc);
    cJSON_Delete(names);
    return order;
}

cJSON *cfn_outputs(struct cfn_ctx *c)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(c->tmpl, "Outputs"))
    {
        cJSON *o, *v, *d = NULL, *e = NULL;
        char *s;
        if (!cfn_enabled(c, it)) {
            continue;
        }
        v = cfn_eval(c, cJSON_GetObjectItemCaseSensitive(it, "Value"));
        if (v == NULL) {
            cJSON_Delete(out);
            return NULL;
        }
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "OutputKey", it->string);
        s = cfn_value_str(v);
        cJSON_AddStringToObject(o, "OutputValue", s);
        free(s);
        cJSON_Delete(v);
        if (cJSON_HasObjectItem(it, "Description")) {
            d = cfn_eval(c, cJSON_GetObjectItemCaseSensitive(it, "Description"));
            if (d != NULL) {
                s = cfn_value_str(d);
                cJSON_AddStringToObject(o, "Description", s);
                free(s);
                cJSON_Delete(d);
            }
        }
        if (cJSON_HasObjectItem(it, "Export")) {
            e = cfn_eval(c, cJSON_GetObjectItemCaseSensitive(
                                cJSON_GetObjectItemCaseSensitive(it, "Export"), "Name"));
            if (e == NULL) {
                cJSON_Delete(o);
                cJSON_Delete(out);
                return NULL;
            }
            s = cfn_value_str(e);
            cJSON_AddStringToObject(o, "ExportName", s);
            free(s);
            cJSON_Delete(e);
        }
        cJSON_AddItemToArray(out, o);
    }
    return out;
}

void cfn_ctx_release(struct cfn_ctx *c)
{
    cJSON_Delete(c->params);
    cJSON_Delete(c->conditions);
    c->params = NULL;
    c->conditions = NULL;
}
