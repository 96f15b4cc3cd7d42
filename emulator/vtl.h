/*
 * vtl.h - a Velocity Template Language engine for API Gateway mapping
 * templates (request templates of AWS/HTTP/MOCK integrations and response
 * templates of integration responses).
 *
 * Covers what real templates use: references ($x, $!x, ${x}, properties,
 * method calls, [index]), #set, #if/#elseif/#else/#end, #foreach with
 * $foreach.hasNext/index/count, #break, #stop, ## and #* *# comments, string,
 * number, list, map and range literals, arithmetic, comparison and logic.
 * Built-ins: $input (json, path, params, body), $util (escapeJavaScript,
 * urlEncode, urlDecode, base64Encode, base64Decode, parseJson), and any
 * objects passed in (e.g. $context, $stageVariables).
 *
 * Values are cJSON nodes; maps and lists render as Java's toString does
 * ({a=1, b=2} and [1, 2]) since API Gateway runs Velocity on the JVM.
 * The engine is pure (no store, no I/O): unit-tested by tests/test_vtl.c.
 */
#ifndef VTL_H
#define VTL_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* What a template sees. Every pointer is borrowed and may be NULL. */
struct vtl_input {
    const char *body;             /* $input.body (raw), NUL-terminated */
    const cJSON *path;            /* $input.params().path: object of strings */
    const cJSON *querystring;     /* $input.params().querystring */
    const cJSON *header;          /* $input.params().header */
    const cJSON *context;         /* $context */
    const cJSON *stage_variables; /* $stageVariables */
};

/* Renders tmpl. Returns the output (caller frees), or NULL with a message in
 * err (a parse error; never crashes on any input). */
char *vtl_render(const char *tmpl, const struct vtl_input *in, char *err, size_t errlen);

/* Evaluates a JSONPath subset ($, .name, ['name'], [n], [*]) against root.
 * Returns a new tree (caller deletes), or NULL when nothing matches. */
cJSON *vtl_json_path(const cJSON *root, const char *path);

/* Appends the Java toString() form of v to a malloc'ed string (caller
 * frees): strings as is, integral numbers without a fraction, maps as
 * {k=v, ...}, lists as [a, b], null as "". */
char *vtl_to_string(const cJSON *v);

/* $util.escapeJavaScript: returns a new string (caller frees). */
char *vtl_escape_javascript(const char *s);

#endif
