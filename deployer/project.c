/*
 * project.c - the Serverless v0.5 project model: loading, population,
 * naming (spec/serverless-v05.md sections 1.1-1.8).
 *
 * Loading: s-project.json, s-templates.json/.yaml (project, parent
 * folders, function folder; lodash-merged in that order), s-resources-cf.json
 * (else s-resources-cf.yaml/.yml, CloudFormation short tags allowed), every
 * s-function.json below the root (skipping _meta, node_modules and dot
 * folders), _meta/variables/s-variables-{common,<stage>,<stage>-<rc>}.json.
 * A project without a resources template gets v0.5's default one (the
 * Resources class defaults: IamRoleLambda, IamPolicyLambda, output
 * IamRoleArnLambda), as `sls` deploys it. A function without a runtime takes
 * the nearest s-component.json's (v0.5.0-0.5.4 components); a v0.4
 * s-function.json (a "functions" map) is refused as such.
 * Invalid JSON is reported as file:line:column with what was expected (a
 * small validator re-reads the text to find the exact spot: cJSON's own
 * error pointer is often at the end of the input).
 *
 * Population (utils.populate): pass 1 replaces a string holding $${name}
 * entirely by the template (the lookup key is the string with every
 * $${x} replaced by x, exactly as v0.5 computes it) and descends into the
 * result; pass 2 splices ${name} in strings that hold no $${...}: string
 * values are spliced, other values replace the whole string, falsy or
 * undefined ones leave the placeholder and add a warning. Reserved names
 * (name, functionName, endpointName, eventName) come from the object being
 * populated. Keys are never substituted.
 *
 * Ownership: struct dep_project owns every string and tree in it;
 * dep_project_release frees all of it.
 */
#include "dep.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#define DEP_MAX_PROJECT_FILE (16u * 1024u * 1024u)

/* ------------------------------------------------------------ JSON files */

void dep_text_line_col(const char *text, size_t off, int *line, int *col)
{
    int l = 1, c = 1;

    for (size_t i = 0; i < off && text[i]; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* A strict JSON validator that stops at the first error: *off and *what
 * say where and what was expected. Returns 0 when the text is valid. */
struct jv {
    const char *s;
    size_t i, n;
    const char *what;
    int depth;
};

static void jv_ws(struct jv *v)
{
    while (v->i < v->n &&
           (v->s[v->i] == ' ' || v->s[v->i] == '\t' || v->s[v->i] == '\n' || v->s[v->i] == '\r')) {
        v->i++;
    }
}

static int jv_value(struct jv *v);

static int jv_string(struct jv *v)
{
    v->i++; /* opening quote */
    while (v->i < v->n) {
        unsigned char c = (unsigned char)v->s[v->i];
        if (c == '"') {
            v->i++;
            return 0;
        }
        if (c < 0x20) {
            v->what = "a closing '\"' (control character or newline inside a string)";
            return -1;
        }
        if (c == '\\') {
            v->i++;
            if (v->i >= v->n) {
                break;
            }
            c = (unsigned char)v->s[v->i];
            if (c == 'u') {
                for (int k = 1; k <= 4; k++) {
                    if (v->i + (size_t)k >= v->n ||
                        !isxdigit((unsigned char)v->s[v->i + (size_t)k])) {
                        v->i += (size_t)k;
                        v->what = "4 hex digits after \\u";
                        return -1;
                    }
                }
                v->i += 4;
            } else if (!strchr("\"\\/bfnrt", c)) {
                v->what = "a valid escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u)";
                return -1;
            }
        }
        v->i++;
    }
    v->what = "a closing '\"' before the end of the file";
    return -1;
}

static int jv_number(struct jv *v)
{
    size_t st = v->i;

    if (v->s[v->i] == '-') {
        v->i++;
    }
    if (v->i >= v->n || !isdigit((unsigned char)v->s[v->i])) {
        v->what = "a digit";
        return -1;
    }
    if (v->s[v->i] == '0') {
        v->i++;
    } else {
        while (v->i < v->n && isdigit((unsigned char)v->s[v->i])) {
            v->i++;
        }
    }
    if (v->i < v->n && v->s[v->i] == '.') {
        v->i++;
        if (v->i >= v->n || !isdigit((unsigned char)v->s[v->i])) {
            v->what = "a digit after '.'";
            return -1;
        }
        while (v->i < v->n && isdigit((unsigned char)v->s[v->i])) {
            v->i++;
        }
    }
    if (v->i < v->n && (v->s[v->i] == 'e' || v->s[v->i] == 'E')) {
        v->i++;
        if (v->i < v->n && (v->s[v->i] == '+' || v->s[v->i] == '-')) {
            v->i++;
        }
        if (v->i >= v->n || !isdigit((unsigned char)v->s[v->i])) {
            v->what = "a digit in the exponent";
            return -1;
        }
        while (v->i < v->n && isdigit((unsigned char)v->s[v->i])) {
            v->i++;
        }
    }
    (void)st;
    return 0;
}

static int jv_lit(struct jv *v, const char *lit)
{
    size_t l = strlen(lit);

    if (v->n - v->i >= l && memcmp(v->s + v->i, lit, l) == 0) {
        v->i += l;
        return 0;
    }
    v->what = "a value (string, number, object, array, true, false or null)";
    return -1;
}

static int jv_value(struct jv *v)
{
    jv_ws(v);
    if (v->i >= v->n) {
        v->what = "a value, found the end of the file";
        return -1;
    }
    if (++v->depth > 200) {
        v->what = "less nesting";
        return -1;
    }
    char c = v->s[v->i];
    int rc;
    if (c == '{') {
        v->i++;
        jv_ws(v);
        if (v->i < v->n && v->s[v->i] == '}') {
            v->i++;
            rc = 0;
            goto out;
        }
        for (;;) {
            jv_ws(v);
            if (v->i >= v->n || v->s[v->i] != '"') {
                v->what = "a string key in double quotes (no trailing comma before '}')";
                return -1;
            }
            if (jv_string(v) < 0) {
                return -1;
            }
            jv_ws(v);
            if (v->i >= v->n || v->s[v->i] != ':') {
                v->what = "':' after the key";
                return -1;
            }
            v->i++;
            if (jv_value(v) < 0) {
                return -1;
            }
            jv_ws(v);
            if (v->i < v->n && v->s[v->i] == ',') {
                v->i++;
                continue;
            }
            if (v->i < v->n && v->s[v->i] == '}') {
                v->i++;
                rc = 0;
                goto out;
            }
            v->what = "',' or '}' after a value in an object";
            return -1;
        }
    } else if (c == '[') {
        v->i++;
        jv_ws(v);
        if (v->i < v->n && v->s[v->i] == ']') {
            v->i++;
            rc = 0;
            goto out;
        }
        for (;;) {
            if (jv_value(v) < 0) {
                return -1;
            }
            jv_ws(v);
            if (v->i < v->n && v->s[v->i] == ',') {
                v->i++;
                jv_ws(v);
                if (v->i < v->n && v->s[v->i] == ']') {
                    v->what = "a value after ',' (no trailing comma before ']')";
                    return -1;
                }
                continue;
            }
            if (v->i < v->n && v->s[v->i] == ']') {
                v->i++;
                rc = 0;
                goto out;
            }
            v->what = "',' or ']' after a value in an array";
            return -1;
        }
    } else if (c == '"') {
        rc = jv_string(v);
    } else if (c == '-' || isdigit((unsigned char)c)) {
        rc = jv_number(v);
    } else if (c == 't') {
        rc = jv_lit(v, "true");
    } else if (c == 'f') {
        rc = jv_lit(v, "false");
    } else if (c == 'n') {
        rc = jv_lit(v, "null");
    } else {
        v->what = "a value (string, number, object, array, true, false or null)";
        return -1;
    }
out:
    v->depth--;
    return rc;
}

/* Returns 0 if text is valid JSON, else -1 with *off and *what. */
static int json_locate_error(const char *text, size_t n, size_t *off, const char **what)
{
    struct jv v = {text, 0, n, NULL, 0};

    if (jv_value(&v) == 0) {
        jv_ws(&v);
        if (v.i == v.n) {
            return 0;
        }
        v.what = "the end of the file after the top-level value";
    }
    *off = v.i;
    *what = v.what ? v.what : "valid JSON";
    return -1;
}

static char *read_file_capped(const char *path, size_t *len, struct dep_err *err)
{
    FILE *f = fopen(path, "rb");
    struct dep_buf b = {0};
    char chunk[65536];
    size_t r;

    if (!f) {
        dep_err_local(err, "MissingFile", "%s: %s", path, strerror(errno));
        return NULL;
    }
    while ((r = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (b.len + r > DEP_MAX_PROJECT_FILE) {
            fclose(f);
            dep_buf_release(&b);
            dep_err_local(err, "FileTooLarge", "%s: larger than %u bytes", path,
                          DEP_MAX_PROJECT_FILE);
            return NULL;
        }
        dep_buf_append(&b, chunk, r);
    }
    fclose(f);
    *len = b.len;
    return dep_buf_take(&b);
}

cJSON *dep_json_load_file(const char *path, struct dep_err *err)
{
    size_t len = 0, off = 0;
    const char *what = NULL;
    char *text = read_file_capped(path, &len, err);
    cJSON *j;

    if (!text) {
        return NULL;
    }
    j = cJSON_ParseWithLength(text, len);
    /* the strict validator also rejects what cJSON tolerates (trailing commas) */
    if (json_locate_error(text, len, &off, &what) < 0 || !j) {
        int line, col;
        if (!what) {
            const char *ep = cJSON_GetErrorPtr();
            off = ep && ep >= text && ep <= text + len ? (size_t)(ep - text) : 0;
            what = "valid JSON";
        }
        dep_text_line_col(text, off, &line, &col);
        if (off < len) {
            dep_err_local(err, "InvalidJSON", "%s:%d:%d: expected %s, found '%c'", path, line, col,
                          what, isprint((unsigned char)text[off]) ? text[off] : '?');
        } else {
            dep_err_local(err, "InvalidJSON", "%s:%d:%d: expected %s", path, line, col, what);
        }
        cJSON_Delete(j);
        j = NULL;
    }
    free(text);
    return j;
}

int dep_json_save_file(const char *path, const cJSON *json, struct dep_err *err)
{
    char *s = cJSON_Print(json);
    char tmp[4200];
    FILE *f;
    int rc = -1;

    /* cJSON_Print indents with tabs; v0.5 writes 2 spaces */
    struct dep_buf b = {0};
    int line_start = 1;
    for (const char *p = s; p && *p; p++) {
        if (*p == '\t') {
            dep_buf_puts(&b, line_start ? "  " : " ");
        } else {
            line_start = *p == '\n';
            dep_buf_append(&b, p, 1);
        }
    }
    dep_buf_puts(&b, "\n");
    cJSON_free(s);
    snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
    f = fopen(tmp, "wb");
    if (!f) {
        dep_err_local(err, "WriteFailed", "%s: %s", tmp, strerror(errno));
        goto out;
    }
    if (fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0) {
        dep_err_local(err, "WriteFailed", "%s: %s", tmp, strerror(errno));
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, path) != 0) {
        dep_err_local(err, "WriteFailed", "%s: %s", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    rc = 0;
out:
    dep_buf_release(&b);
    return rc;
}

/* ------------------------------------------------------------- merging */

void dep_json_merge(cJSON *dst, const cJSON *src)
{
    const cJSON *c;

    if (!cJSON_IsObject(dst) || !cJSON_IsObject(src)) {
        return;
    }
    cJSON_ArrayForEach(c, src)
    {
        cJSON *d = cJSON_GetObjectItemCaseSensitive(dst, c->string);
        if (d && cJSON_IsObject(d) && cJSON_IsObject(c)) {
            dep_json_merge(d, c);
        } else if (d) {
            cJSON_ReplaceItemInObjectCaseSensitive(dst, c->string, cJSON_Duplicate(c, 1));
        } else {
            cJSON_AddItemToObject(dst, c->string, cJSON_Duplicate(c, 1));
        }
    }
}

/* ------------------------------------------------------------ population */

static int truthy(const cJSON *v)
{
    if (!v || cJSON_IsNull(v) || cJSON_IsFalse(v) || cJSON_IsInvalid(v)) {
        return 0;
    }
    if (cJSON_IsString(v)) {
        return v->valuestring && v->valuestring[0];
    }
    if (cJSON_IsNumber(v)) {
        return v->valuedouble != 0;
    }
    return 1;
}

/* Find the next "$${...}" (template=1) or "${...}" at or after s.
 * Returns the start; name_s/name_e bound the name (untrimmed), end is one past the brace. */
static const char *find_placeholder(const char *s, int template, const char **name_s,
                                    const char **name_e, const char **end)
{
    for (const char *p = s; *p; p++) {
        if (template) {
            if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
                const char *c = strchr(p + 3, '}');
                if (c && c > p + 3) {
                    *name_s = p + 3;
                    *name_e = c;
                    *end = c + 1;
                    return p;
                }
            }
        } else if (p[0] == '$' && p[1] == '{') {
            const char *c = strchr(p + 2, '}');
            if (c && c > p + 2) {
                *name_s = p + 2;
                *name_e = c;
                *end = c + 1;
                return p;
            }
        }
    }
    return NULL;
}

static char *trim_dup(const char *s, const char *e)
{
    while (s < e && isspace((unsigned char)*s)) {
        s++;
    }
    while (e > s && isspace((unsigned char)e[-1])) {
        e--;
    }
    return strndup(s, (size_t)(e - s));
}

/* The template v0.5's Resources class starts from (lib/Resources.js defaults):
 * what `sls resources deploy` deploys for a project without s-resources-cf.json. */
static const char DEFAULT_RESOURCES[] =
    "{\"AWSTemplateFormatVersion\":\"2010-09-09\","
    "\"Description\":\"The AWS CloudFormation template for this Serverless application's "
    "resources outside of Lambdas and Api Gateway\","
    "\"Resources\":{"
    "\"IamRoleLambda\":{\"Type\":\"AWS::IAM::Role\",\"Properties\":{"
    "\"AssumeRolePolicyDocument\":{\"Version\":\"2012-10-17\",\"Statement\":[{"
    "\"Effect\":\"Allow\",\"Principal\":{\"Service\":[\"lambda.amazonaws.com\"]},"
    "\"Action\":[\"sts:AssumeRole\"]}]},\"Path\":\"/\"}},"
    "\"IamPolicyLambda\":{\"Type\":\"AWS::IAM::Policy\",\"Properties\":{"
    "\"PolicyName\":\"${stage}-${project}-lambda\","
    "\"PolicyDocument\":{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
    "\"Action\":[\"logs:CreateLogGroup\",\"logs:CreateLogStream\",\"logs:PutLogEvents\"],"
    "\"Resource\":\"arn:aws:logs:${region}:*:*\"}]},"
    "\"Roles\":[{\"Ref\":\"IamRoleLambda\"}]}}},"
    "\"Outputs\":{\"IamRoleArnLambda\":{\"Description\":\"ARN of the lambda IAM role\","
    "\"Value\":{\"Fn::GetAtt\":[\"IamRoleLambda\",\"Arn\"]}}}}";

static void warn(cJSON *warnings, const char *fmt, const char *a, const char *b)
{
    char msg[1024];

    if (!warnings) {
        return;
    }
    snprintf(msg, sizeof(msg), fmt, a, b ? b : "");
    /* one warning per distinct message */
    const cJSON *w;
    cJSON_ArrayForEach(w, warnings)
    {
        if (cJSON_IsString(w) && strcmp(w->valuestring, msg) == 0) {
            return;
        }
    }
    cJSON_AddItemToArray(warnings, cJSON_CreateString(msg));
}

/* Replace old (a child of parent) by repl, keeping old's key. */
static void replace_keep_key(cJSON *parent, cJSON *old, cJSON *repl)
{
    if (old->string) {
        if (repl->string && !(repl->type & cJSON_StringIsConst)) {
            cJSON_free(repl->string);
        }
        repl->string = strdup(old->string);
        repl->type &= ~cJSON_StringIsConst;
    }
    cJSON_ReplaceItemViaPointer(parent, old, repl);
}

/* Pass 1 on node (in place): replace strings holding $${..}. */
static void populate_templates(cJSON *node, const cJSON *templates, const char *owner_name,
                               cJSON *warnings, int depth)
{
    cJSON *c;

    if (depth > 32) {
        return;
    }
    if (cJSON_IsArray(node) || cJSON_IsObject(node)) {
        for (c = node->child; c; c = c->next) {
            if (cJSON_IsString(c)) {
                const char *ns, *ne, *end;
                if (!find_placeholder(c->valuestring, 1, &ns, &ne, &end)) {
                    continue;
                }
                /* v0.5: key = val.replace(/\$\${([\s\S]+?)}/g, (m, n) => n.trim()) */
                struct dep_buf key = {0};
                const char *p = c->valuestring;
                const char *st;
                while ((st = find_placeholder(p, 1, &ns, &ne, &end))) {
                    dep_buf_append(&key, p, (size_t)(st - p));
                    char *n = trim_dup(ns, ne);
                    dep_buf_puts(&key, n);
                    free(n);
                    p = end;
                }
                dep_buf_puts(&key, p);
                const cJSON *t = cJSON_GetObjectItemCaseSensitive(templates, key.data);
                if (!truthy(t)) {
                    if (owner_name) {
                        warn(warnings,
                             "WARNING: the following template is requested but not defined: %s in "
                             "%s",
                             key.data, owner_name);
                    } else {
                        warn(warnings,
                             "WARNING: the following template is requested but not defined: %s%s",
                             key.data, NULL);
                    }
                    dep_buf_release(&key);
                    continue;
                }
                dep_buf_release(&key);
                cJSON *dup = cJSON_Duplicate(t, 1);
                /* replace c in place: keep its position and key */
                replace_keep_key(node, c, dup);
                c = dup;
                /* traverse descends into the new value */
                if (cJSON_IsArray(c) || cJSON_IsObject(c)) {
                    populate_templates(c, templates, owner_name, warnings, depth + 1);
                }
            } else if (cJSON_IsArray(c) || cJSON_IsObject(c)) {
                populate_templates(c, templates, owner_name, warnings, depth + 1);
            }
        }
    }
}

static const char *reserved_names[] = {"name", "functionName", "endpointName", "eventName", NULL};

/* Pass 2 on node (in place). */
static void populate_vars(cJSON *node, const cJSON *vars, const cJSON *owner, cJSON *warnings,
                          int depth)
{
    cJSON *c;

    if (depth > 32) {
        return;
    }
    for (c = node ? node->child : NULL; c; c = c->next) {
        if (cJSON_IsString(c)) {
            const char *ns, *ne, *end;
            if (find_placeholder(c->valuestring, 1, &ns, &ne, &end) ||
                !find_placeholder(c->valuestring, 0, &ns, &ne, &end)) {
                continue;
            }
            /* collect the placeholders of the original string, in order */
            char *orig = strdup(c->valuestring);
            char *val = strdup(c->valuestring);
            cJSON *replacement = NULL;
            const char *p = orig, *st;
            while ((st = find_placeholder(p, 0, &ns, &ne, &end))) {
                char *name = trim_dup(ns, ne);
                char *syntax = strndup(st, (size_t)(end - st));
                const cJSON *v = NULL;
                for (int i = 0; reserved_names[i]; i++) {
                    if (strcmp(name, reserved_names[i]) == 0 && owner) {
                        v = cJSON_GetObjectItemCaseSensitive(owner, name);
                    }
                }
                if (!v) {
                    v = cJSON_GetObjectItemCaseSensitive(vars, name);
                }
                if (!truthy(v)) {
                    warn(warnings, "WARNING: This variable is not defined: %s%s", name, NULL);
                } else if (cJSON_IsString(v)) {
                    /* replaceall(syntax, value, val) */
                    struct dep_buf nb = {0};
                    const char *q = val, *hit;
                    size_t sl = strlen(syntax);
                    while ((hit = strstr(q, syntax))) {
                        dep_buf_append(&nb, q, (size_t)(hit - q));
                        dep_buf_puts(&nb, v->valuestring);
                        q = hit + sl;
                    }
                    dep_buf_puts(&nb, q);
                    free(val);
                    val = dep_buf_take(&nb);
                } else {
                    replacement = cJSON_Duplicate(v, 1);
                }
                free(name);
                free(syntax);
                p = end;
                if (replacement) {
                    break;
                }
            }
            if (replacement) {
                replace_keep_key(node, c, replacement);
                c = replacement;
                if (cJSON_IsArray(c) || cJSON_IsObject(c)) {
                    populate_vars(c, vars, owner, warnings, depth + 1);
                }
            } else if (strcmp(val, orig) != 0) {
                cJSON *ns2 = cJSON_CreateString(val);
                replace_keep_key(node, c, ns2);
                c = ns2;
            }
            free(orig);
            free(val);
        } else if (cJSON_IsArray(c) || cJSON_IsObject(c)) {
            populate_vars(c, vars, owner, warnings, depth + 1);
        }
    }
}

cJSON *dep_populate(const cJSON *value, const cJSON *templates, const cJSON *vars,
                    const cJSON *owner, cJSON *warnings)
{
    /* wrap so that a top-level string can be replaced too */
    cJSON *wrap = cJSON_CreateArray();
    cJSON *out;
    const cJSON *n = owner ? cJSON_GetObjectItemCaseSensitive(owner, "name") : NULL;

    cJSON_AddItemToArray(wrap, cJSON_Duplicate(value, 1));
    populate_templates(wrap, templates, cJSON_IsString(n) ? n->valuestring : NULL, warnings, 0);
    populate_vars(wrap, vars, owner, warnings, 0);
    out = cJSON_DetachItemFromArray(wrap, 0);
    cJSON_Delete(wrap);
    return out;
}

/* --------------------------------------------------------------- loading */

static char *path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *r = malloc(la + lb + 2);

    if (!r) {
        abort();
    }
    memcpy(r, a, la);
    r[la] = '/';
    memcpy(r + la + 1, b, lb + 1);
    if (la == 0) {
        memmove(r, r + 1, lb + 1);
    }
    return r;
}

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static const char *jget_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

struct fn_list {
    char **dirs;
    int n, cap;
};

static void walk(const char *root, const char *rel, struct fn_list *out, int depth)
{
    char *abs = rel[0] ? path_join(root, rel) : strdup(root);
    DIR *d = opendir(abs);
    struct dirent *e;
    char **names = NULL;
    int nn = 0;

    if (!d || depth > 32) {
        if (d) {
            closedir(d);
        }
        free(abs);
        return;
    }
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "_meta") == 0 ||
            strcmp(e->d_name, "node_modules") == 0) {
            continue;
        }
        char **nn2 = realloc(names, sizeof(*names) * (size_t)(nn + 1));
        if (!nn2) {
            abort();
        }
        names = nn2;
        names[nn++] = strdup(e->d_name);
    }
    closedir(d);
    for (int i = 0; i < nn; i++) {
        char *child_abs = path_join(abs, names[i]);
        struct stat st;
        if (stat(child_abs, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                char *child_rel = rel[0] ? path_join(rel, names[i]) : strdup(names[i]);
                walk(root, child_rel, out, depth + 1);
                free(child_rel);
            } else if (S_ISREG(st.st_mode) && strcmp(names[i], "s-function.json") == 0 && rel[0]) {
                if (out->n == out->cap) {
                    out->cap = out->cap ? out->cap * 2 : 16;
                    char **nd = realloc(out->dirs, sizeof(*nd) * (size_t)out->cap);
                    if (!nd) {
                        abort();
                    }
                    out->dirs = nd;
                }
                out->dirs[out->n++] = strdup(rel);
            }
        }
        free(child_abs);
        free(names[i]);
    }
    free(names);
    free(abs);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A YAML node as cJSON: mappings -> objects, sequences -> arrays, plain
 * scalars true/false/null/numbers typed, everything else a string. */
static cJSON *yaml_node_json(yaml_document_t *doc, yaml_node_t *n, int depth)
{
    if (!n || depth > 64) {
        return cJSON_CreateNull();
    }
    const char *tag = (const char *)n->tag;
    if (tag && tag[0] == '!' && tag[1] && tag[1] != '!') {
        /* CloudFormation short form: !Ref x -> {"Ref": x}, !Sub s -> {"Fn::Sub": s},
         * !GetAtt a.b -> {"Fn::GetAtt": ["a", "b"]} */
        yaml_char_t *saved = n->tag;
        n->tag = NULL;
        cJSON *inner = yaml_node_json(doc, n, depth + 1);
        n->tag = saved;
        char key[64];
        if (strcmp(tag, "!Ref") == 0 || strcmp(tag, "!Condition") == 0) {
            snprintf(key, sizeof(key), "%s", tag + 1);
        } else {
            snprintf(key, sizeof(key), "Fn::%s", tag + 1);
        }
        if (strcmp(tag, "!GetAtt") == 0 && cJSON_IsString(inner)) {
            const char *dot = strchr(inner->valuestring, '.');
            if (dot) {
                cJSON *arr = cJSON_CreateArray();
                char *res = strndup(inner->valuestring, (size_t)(dot - inner->valuestring));
                cJSON_AddItemToArray(arr, cJSON_CreateString(res ? res : ""));
                cJSON_AddItemToArray(arr, cJSON_CreateString(dot + 1));
                free(res);
                cJSON_Delete(inner);
                inner = arr;
            }
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, key, inner);
        return o;
    }
    if (n->type == YAML_MAPPING_NODE) {
        cJSON *o = cJSON_CreateObject();
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = yaml_document_get_node(doc, p->key);
            if (!k || k->type != YAML_SCALAR_NODE) {
                continue;
            }
            cJSON_AddItemToObject(
                o, (const char *)k->data.scalar.value,
                yaml_node_json(doc, yaml_document_get_node(doc, p->value), depth + 1));
        }
        return o;
    }
    if (n->type == YAML_SEQUENCE_NODE) {
        cJSON *a = cJSON_CreateArray();
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
             i++) {
            cJSON_AddItemToArray(a,
                                 yaml_node_json(doc, yaml_document_get_node(doc, *i), depth + 1));
        }
        return a;
    }
    const char *v = (const char *)n->data.scalar.value;
    if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        char *end = NULL;
        if (strcmp(v, "true") == 0) {
            return cJSON_CreateTrue();
        }
        if (strcmp(v, "false") == 0) {
            return cJSON_CreateFalse();
        }
        if (strcmp(v, "null") == 0 || strcmp(v, "~") == 0 || v[0] == 0) {
            return cJSON_CreateNull();
        }
        errno = 0;
        double d = strtod(v, &end);
        if (!errno && end && !*end && end != v) {
            return cJSON_CreateNumber(d);
        }
    }
    return cJSON_CreateString(v);
}

/* Load a YAML file as cJSON; errors as file:line:column. */
static cJSON *yaml_load_file(const char *path, struct dep_err *err)
{
    FILE *f = fopen(path, "rb");
    yaml_parser_t parser;
    yaml_document_t doc;
    cJSON *out = NULL;

    if (!f) {
        dep_err_local(err, "MissingFile", "%s: %s", path, strerror(errno));
        return NULL;
    }
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        dep_err_local(err, "InvalidYAML", "%s:%zu:%zu: %s", path, parser.problem_mark.line + 1,
                      parser.problem_mark.column + 1,
                      parser.problem ? parser.problem : "invalid YAML");
    } else {
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        out = root ? yaml_node_json(&doc, root, 0) : cJSON_CreateObject();
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    fclose(f);
    return out;
}

/* Merge <dir>/s-templates.json (and .yaml / .yml, in that order) into dst
 * when present. */
static int merge_templates_file(cJSON *dst, const char *dir, struct dep_err *err)
{
    static const char *const names[] = {"s-templates.json", "s-templates.yaml", "s-templates.yml"};
    int rc = 0;

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && rc == 0; i++) {
        char *p = path_join(dir, names[i]);
        if (file_exists(p)) {
            cJSON *t = i == 0 ? dep_json_load_file(p, err) : yaml_load_file(p, err);
            if (!t) {
                rc = -1;
            } else if (!cJSON_IsObject(t)) {
                dep_err_local(err, "InvalidProject", "%s: expected a map of templates", p);
                cJSON_Delete(t);
                rc = -1;
            } else {
                dep_json_merge(dst, t);
                cJSON_Delete(t);
            }
        }
        free(p);
    }
    return rc;
}

static void apply_endpoint_defaults(cJSON *e, const char *fname)
{
    if (!cJSON_GetObjectItemCaseSensitive(e, "path")) {
        cJSON_AddStringToObject(e, "path", fname);
    }
    if (!cJSON_GetObjectItemCaseSensitive(e, "method")) {
        cJSON_AddStringToObject(e, "method", "GET");
    }
    if (!cJSON_GetObjectItemCaseSensitive(e, "type")) {
        cJSON_AddStringToObject(e, "type", "AWS");
    }
    if (!cJSON_GetObjectItemCaseSensitive(e, "authorizationType")) {
        cJSON_AddStringToObject(e, "authorizationType", "none");
    }
    if (!cJSON_GetObjectItemCaseSensitive(e, "authorizerFunction")) {
        cJSON_AddFalseToObject(e, "authorizerFunction");
    }
    if (!cJSON_GetObjectItemCaseSensitive(e, "apiKeyRequired")) {
        cJSON_AddFalseToObject(e, "apiKeyRequired");
    }
    if (!cJSON_GetObjectItemCaseSensitive(e, "requestParameters")) {
        cJSON_AddObjectToObject(e, "requestParameters");
    }
    if (!cJSON_GetObjectItemCaseSensitive(e, "requestTemplates")) {
        cJSON *rt = cJSON_AddObjectToObject(e, "requestTemplates");
        cJSON_AddStringToObject(rt, "application/json", "");
    }
    if (!cJSON_GetObjectItemCaseSensitive(e, "responses")) {
        cJSON *r = cJSON_AddObjectToObject(e, "responses");
        cJSON *b = cJSON_AddObjectToObject(r, "400");
        cJSON_AddStringToObject(b, "statusCode", "400");
        cJSON *d = cJSON_AddObjectToObject(r, "default");
        cJSON_AddStringToObject(d, "statusCode", "200");
        cJSON_AddObjectToObject(d, "responseParameters");
        cJSON *m = cJSON_AddObjectToObject(d, "responseModels");
        cJSON_AddStringToObject(m, "application/json;charset=UTF-8", "Empty");
        cJSON *t = cJSON_AddObjectToObject(d, "responseTemplates");
        cJSON_AddStringToObject(t, "application/json", "");
    }
}

/* The runtime of the nearest s-component.json above the function folder `rel`
 * (v0.5.0-0.5.4 components: their functions had no runtime of their own and
 * SFunction.getRuntime() answered the component's). Returns a malloc'd string
 * the caller frees, NULL when no component gives one, -1 via *bad with err set
 * when a component file is not valid JSON. */
static char *component_runtime(const struct dep_project *p, const char *rel, int *bad,
                               struct dep_err *err)
{
    char *dir = strdup(rel);
    char *found = NULL;

    *bad = 0;
    for (char *slash = strrchr(dir, '/'); slash; slash = strrchr(dir, '/')) {
        *slash = 0;
        char *cdir = path_join(p->root, dir);
        char *cfile = path_join(cdir, "s-component.json");
        free(cdir);
        if (file_exists(cfile)) {
            cJSON *c = dep_json_load_file(cfile, err);
            const char *rt = c ? jget_str(c, "runtime") : NULL;
            if (!c) {
                *bad = 1;
            } else if (rt && *rt) {
                found = strdup(rt);
            }
            cJSON_Delete(c);
            free(cfile);
            break;
        }
        free(cfile);
    }
    free(dir);
    return found;
}

static int load_function(struct dep_project *p, const char *rel, struct dep_function *f,
                         struct dep_err *err)
{
    char *file;
    const char *name, *runtime;
    int rc = -1;

    f->rel_dir = strdup(rel);
    f->dir = path_join(p->root, rel);
    file = path_join(f->dir, "s-function.json");
    f->raw = dep_json_load_file(file, err);
    if (!f->raw) {
        goto out;
    }
    if (!cJSON_IsObject(f->raw)) {
        dep_err_local(err, "InvalidProject", "%s: expected an object", file);
        goto out;
    }
    name = jget_str(f->raw, "name");
    runtime = jget_str(f->raw, "runtime");
    if (!name && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(f->raw, "functions"))) {
        /* v0.1-0.4 (modules with s-module.json): one file held a map of functions */
        dep_err_local(err, "InvalidProject",
                      "%s: a Serverless v0.4 s-function.json (a \"functions\" map, from a project "
                      "of s-module.json modules), not v0.5: give each function its own folder and "
                      "s-function.json with \"name\" and \"runtime\"",
                      file);
        goto out;
    }
    if (!name || !*name) {
        dep_err_local(err, "InvalidProject", "%s: \"name\" is missing", file);
        goto out;
    }
    if (!runtime || !*runtime) {
        int bad = 0;
        f->runtime = component_runtime(p, rel, &bad, err);
        if (bad) {
            goto out;
        }
        if (!f->runtime) {
            dep_err_local(err, "InvalidProject",
                          "%s: \"runtime\" is missing (nodejs, nodejs4.3, python2.7) and no "
                          "s-component.json above it gives one",
                          file);
            goto out;
        }
    } else {
        f->runtime = strdup(runtime);
    }
    f->name = strdup(name);
    f->handler =
        strdup(jget_str(f->raw, "handler") ? jget_str(f->raw, "handler") : "handler.handler");
    /* templates: project -> parent folders -> function folder */
    f->templates = cJSON_Duplicate(p->templates, 1);
    {
        char *acc = strdup("");
        char *copy = strdup(rel);
        char *save = NULL;
        for (char *tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
            char *next = acc[0] ? path_join(acc, tok) : strdup(tok);
            free(acc);
            acc = next;
            char *abs = path_join(p->root, acc);
            int r = merge_templates_file(f->templates, abs, err);
            free(abs);
            if (r < 0) {
                free(acc);
                free(copy);
                goto out;
            }
        }
        free(acc);
        free(copy);
    }
    rc = 0;
out:
    free(file);
    return rc;
}

int dep_project_load(const char *root, struct dep_project *p, struct dep_err *err)
{
    char *file = NULL;
    struct fn_list fl = {0};
    int rc = -1;
    char absroot[4096];

    memset(p, 0, sizeof(*p));
    p->warnings = cJSON_CreateArray();
    if (!realpath(root ? root : ".", absroot)) {
        dep_err_local(err, "MissingFile", "%s: %s", root ? root : ".", strerror(errno));
        return -1;
    }
    p->root = strdup(absroot);
    file = path_join(p->root, "s-project.json");
    p->raw = dep_json_load_file(file, err);
    if (!p->raw) {
        if (err && strcmp(err->code, "MissingFile") == 0) {
            dep_err_local(err, "MissingFile",
                          "%s: not a Serverless v0.5 project (s-project.json missing)", p->root);
        }
        goto out;
    }
    const char *name = jget_str(p->raw, "name");
    if (!name || !dep_project_name_valid(name)) {
        dep_err_local(err, "InvalidProject", "%s: \"name\" must match ^[a-zA-Z0-9-]+$", file);
        goto out;
    }
    p->name = strdup(name);
    p->templates = cJSON_CreateObject();
    if (merge_templates_file(p->templates, p->root, err) < 0) {
        goto out;
    }
    free(file);
    file = path_join(p->root, "s-resources-cf.json");
    if (file_exists(file)) {
        p->resources_raw = dep_json_load_file(file, err);
        if (!p->resources_raw) {
            goto out;
        }
    } else {
        /* no JSON: the YAML form (.yaml, then .yml), CloudFormation short tags allowed */
        static const char *const ynames[] = {"s-resources-cf.yaml", "s-resources-cf.yml"};
        for (size_t i = 0; i < sizeof(ynames) / sizeof(ynames[0]); i++) {
            free(file);
            file = path_join(p->root, ynames[i]);
            if (!file_exists(file)) {
                continue;
            }
            p->resources_raw = yaml_load_file(file, err);
            if (!p->resources_raw) {
                goto out;
            }
            if (!cJSON_IsObject(p->resources_raw)) {
                dep_err_local(err, "InvalidProject", "%s: the resources template is not a mapping",
                              file);
                goto out;
            }
            break;
        }
    }
    if (!p->resources_raw) {
        p->resources_raw = cJSON_Parse(DEFAULT_RESOURCES);
        if (!p->resources_raw) {
            abort();
        }
        p->resources_default = 1;
    }
    walk(p->root, "", &fl, 0);
    qsort(fl.dirs, (size_t)fl.n, sizeof(char *), cmp_str);
    p->functions = calloc((size_t)(fl.n ? fl.n : 1), sizeof(*p->functions));
    if (!p->functions) {
        abort();
    }
    for (int i = 0; i < fl.n; i++) {
        p->n_functions++;
        if (load_function(p, fl.dirs[i], &p->functions[i], err) < 0) {
            goto out;
        }
        for (int j = 0; j < i; j++) {
            if (strcmp(p->functions[j].name, p->functions[i].name) == 0) {
                dep_err_local(
                    err, "InvalidProject", "function name \"%s\" is used by both %s and %s",
                    p->functions[i].name, p->functions[j].rel_dir, p->functions[i].rel_dir);
                goto out;
            }
        }
    }
    rc = 0;
out:
    for (int i = 0; i < fl.n; i++) {
        free(fl.dirs[i]);
    }
    free(fl.dirs);
    free(file);
    return rc;
}

const char *dep_region_code(const char *region, char *buf, size_t n)
{
    size_t j = 0;

    for (const char *s = region ? region : ""; *s && j + 1 < n; s++) {
        if (*s != '-') {
            buf[j++] = *s;
        }
    }
    buf[j] = 0;
    return buf;
}

const char *dep_project_vars_path(const struct dep_project *p, int which, char *buf, size_t n)
{
    char stage[64], rc[64];
    size_t i;

    for (i = 0; p->stage && p->stage[i] && i + 1 < sizeof(stage); i++) {
        stage[i] = (char)tolower((unsigned char)p->stage[i]);
    }
    stage[i] = 0;
    dep_region_code(p->region, rc, sizeof(rc));
    if (which == 0) {
        snprintf(buf, n, "%s/_meta/variables/s-variables-common.json", p->root);
    } else if (which == 1) {
        snprintf(buf, n, "%s/_meta/variables/s-variables-%s.json", p->root, stage);
    } else {
        snprintf(buf, n, "%s/_meta/variables/s-variables-%s-%s.json", p->root, stage, rc);
    }
    return buf;
}

static cJSON *load_vars_file(const char *path, int allow_missing, const char *code,
                             struct dep_err *err, int *fail)
{
    cJSON *j;

    if (!file_exists(path)) {
        if (allow_missing) {
            return cJSON_CreateObject();
        }
        dep_err_local(err, code,
                      "%s does not exist (run `stagehand project init` or `meta sync` first)",
                      path);
        *fail = 1;
        return NULL;
    }
    j = dep_json_load_file(path, err);
    if (!j) {
        *fail = 1;
        return NULL;
    }
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        dep_err_local(err, "InvalidProject", "%s: expected an object", path);
        *fail = 1;
        return NULL;
    }
    return j;
}

int dep_project_load_vars(struct dep_project *p, const char *stage, const char *region,
                          int allow_missing, struct dep_err *err)
{
    char path[4200];
    int fail = 0;

    free(p->stage);
    free(p->region);
    p->stage = stage ? strdup(stage) : NULL;
    p->region = region ? strdup(region) : NULL;
    cJSON_Delete(p->vars_common);
    cJSON_Delete(p->vars_stage);
    cJSON_Delete(p->vars_region);
    p->vars_common = p->vars_stage = p->vars_region = NULL;
    p->vars_common = load_vars_file(dep_project_vars_path(p, 0, path, sizeof(path)), 1,
                                    "MissingFile", err, &fail);
    if (fail) {
        return -1;
    }
    if (stage) {
        p->vars_stage = load_vars_file(dep_project_vars_path(p, 1, path, sizeof(path)),
                                       allow_missing, "MissingStage", err, &fail);
        if (fail) {
            return -1;
        }
    } else {
        p->vars_stage = cJSON_CreateObject();
    }
    if (stage && region) {
        p->vars_region = load_vars_file(dep_project_vars_path(p, 2, path, sizeof(path)),
                                        allow_missing, "MissingRegion", err, &fail);
        if (fail) {
            return -1;
        }
    } else {
        p->vars_region = cJSON_CreateObject();
    }
    return 0;
}

cJSON *dep_project_vars(const struct dep_project *p)
{
    cJSON *v = cJSON_CreateObject();

    if (p->vars_common) {
        dep_json_merge(v, p->vars_common);
    }
    if (p->vars_stage) {
        dep_json_merge(v, p->vars_stage);
    }
    if (p->vars_region) {
        dep_json_merge(v, p->vars_region);
    }
    return v;
}

static void free_function_populated(struct dep_function *f)
{
    for (int i = 0; i < f->n_endpoints; i++) {
        free(f->endpoints[i].path);
        free(f->endpoints[i].method);
        free(f->endpoints[i].type);
        cJSON_Delete(f->endpoints[i].json);
    }
    free(f->endpoints);
    f->endpoints = NULL;
    f->n_endpoints = 0;
    for (int i = 0; i < f->n_events; i++) {
        free(f->events[i].name);
        free(f->events[i].type);
        cJSON_Delete(f->events[i].json);
    }
    free(f->events);
    f->events = NULL;
    f->n_events = 0;
    cJSON_Delete(f->json);
    f->json = NULL;
    free(f->lambda_name);
    f->lambda_name = NULL;
}

static char *str_or(const cJSON *v, const char *def)
{
    if (cJSON_IsString(v)) {
        return strdup(v->valuestring);
    }
    if (cJSON_IsNumber(v)) {
        char b[64];
        snprintf(b, sizeof(b), "%g", v->valuedouble);
        return strdup(b);
    }
    return strdup(def);
}

static int populate_function(struct dep_project *p, struct dep_function *f, const cJSON *vars,
                             struct dep_err *err)
{
    cJSON *owner = cJSON_CreateObject();
    cJSON *raw = cJSON_Duplicate(f->raw, 1);
    const cJSON *arr, *it;
    int rc = -1;

    free_function_populated(f);
    cJSON_AddStringToObject(owner, "name", f->name);
    cJSON_AddStringToObject(owner, "functionName", f->name);
    /* endpoints and events are populated with their own owners below */
    cJSON *eps = cJSON_DetachItemFromObjectCaseSensitive(raw, "endpoints");
    cJSON *evs = cJSON_DetachItemFromObjectCaseSensitive(raw, "events");
    f->json = dep_populate(raw, f->templates, vars, owner, p->warnings);
    const cJSON *cn = cJSON_GetObjectItemCaseSensitive(f->json, "customName");
    if (cJSON_IsString(cn) && cn->valuestring[0]) {
        f->lambda_name = strdup(cn->valuestring);
    } else {
        size_t l = strlen(p->name) + strlen(f->name) + 2;
        f->lambda_name = malloc(l);
        if (!f->lambda_name) {
            abort();
        }
        snprintf(f->lambda_name, l, "%s-%s", p->name, f->name);
    }
    arr = eps;
    if (arr && !cJSON_IsArray(arr)) {
        dep_err_local(err, "InvalidProject", "%s/s-function.json: \"endpoints\" must be an array",
                      f->rel_dir);
        goto out;
    }
    f->endpoints = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*f->endpoints));
    cJSON_ArrayForEach(it, arr)
    {
        cJSON *eo = cJSON_Duplicate(it, 1);
        if (!cJSON_IsObject(eo)) {
            cJSON_Delete(eo);
            dep_err_local(err, "InvalidProject", "%s/s-function.json: endpoints[] must be objects",
                          f->rel_dir);
            goto out;
        }
        apply_endpoint_defaults(eo, f->name);
        cJSON *eowner = cJSON_Duplicate(eo, 0);
        const cJSON *ep = cJSON_GetObjectItemCaseSensitive(eo, "path");
        const cJSON *em = cJSON_GetObjectItemCaseSensitive(eo, "method");
        char idbuf[512];
        snprintf(idbuf, sizeof(idbuf), "%s~%s", cJSON_IsString(ep) ? ep->valuestring : "",
                 cJSON_IsString(em) ? em->valuestring : "");
        cJSON_AddStringToObject(eowner, "name", idbuf);
        cJSON_AddStringToObject(eowner, "endpointName", idbuf);
        cJSON_AddStringToObject(eowner, "functionName", f->name);
        struct dep_endpoint *e = &f->endpoints[f->n_endpoints++];
        e->json = dep_populate(eo, f->templates, vars, eowner, p->warnings);
        cJSON_Delete(eo);
        cJSON_Delete(eowner);
        e->path = str_or(cJSON_GetObjectItemCaseSensitive(e->json, "path"), f->name);
        while (e->path[0] == '/') {
            memmove(e->path, e->path + 1, strlen(e->path));
        }
        e->method = str_or(cJSON_GetObjectItemCaseSensitive(e->json, "method"), "GET");
        for (char *q = e->method; *q; q++) {
            *q = (char)toupper((unsigned char)*q);
        }
        e->type = str_or(cJSON_GetObjectItemCaseSensitive(e->json, "type"), "AWS");
        for (char *q = e->type; *q; q++) {
            *q = (char)toupper((unsigned char)*q);
        }
    }
    arr = evs;
    if (arr && !cJSON_IsArray(arr)) {
        dep_err_local(err, "InvalidProject", "%s/s-function.json: \"events\" must be an array",
                      f->rel_dir);
        goto out;
    }
    f->events = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*f->events));
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsObject(it) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, "name"))) {
            dep_err_local(err, "InvalidProject", "%s/s-function.json: every event needs a \"name\"",
                          f->rel_dir);
            goto out;
        }
        cJSON *vowner = cJSON_Duplicate(it, 0);
        cJSON_AddStringToObject(vowner, "eventName",
                                cJSON_GetObjectItemCaseSensitive(it, "name")->valuestring);
        cJSON_AddStringToObject(vowner, "functionName", f->name);
        struct dep_event *e = &f->events[f->n_events++];
        e->json = dep_populate(it, f->templates, vars, vowner, p->warnings);
        cJSON_Delete(vowner);
        e->name = str_or(cJSON_GetObjectItemCaseSensitive(e->json, "name"), "");
        e->type = str_or(cJSON_GetObjectItemCaseSensitive(e->json, "type"), "schedule");
        for (char *q = e->type; *q; q++) {
            *q = (char)tolower((unsigned char)*q);
        }
        e->config = cJSON_GetObjectItemCaseSensitive(e->json, "config");
        if (!e->config) {
            e->config = cJSON_AddObjectToObject(e->json, "config");
        }
    }
    /* keep the populated arrays in the function's json as well */
    {
        cJSON *a = cJSON_CreateArray();
        for (int i = 0; i < f->n_endpoints; i++) {
            cJSON_AddItemToArray(a, cJSON_Duplicate(f->endpoints[i].json, 1));
        }
        cJSON_AddItemToObject(f->json, "endpoints", a);
        a = cJSON_CreateArray();
        for (int i = 0; i < f->n_events; i++) {
            cJSON_AddItemToArray(a, cJSON_Duplicate(f->events[i].json, 1));
        }
        cJSON_AddItemToObject(f->json, "events", a);
    }
    rc = 0;
out:
    cJSON_Delete(eps);
    cJSON_Delete(evs);
    cJSON_Delete(raw);
    cJSON_Delete(owner);
    return rc;
}

/* ---- serverless-cors-plugin (v1.x for v0.5, joostfarla): many v0.5 projects
 * list it in "plugins" and configure custom.cors {allowOrigin, allowHeaders[],
 * allowCredentials, exposeHeaders[], maxAge} in s-project.json and/or
 * s-function.json (merged, the function's keys winning). What it does to the
 * deploy, done here at population:
 *  - every non-OPTIONS endpoint of a function with a policy gets on each
 *    response Access-Control-Allow-Origin '<allowOrigin>' (+ Expose-Headers,
 *    + Allow-Credentials on GET);
 *  - every path with such endpoints gets an OPTIONS MOCK preflight endpoint
 *    ({"statusCode": 200}, path parameters mapped) answering Allow-Methods
 *    (the methods with a policy, comma-joined), Allow-Origin, and Allow-Headers,
 *    Allow-Credentials, Expose-Headers, Max-Age when set; it belongs to the
 *    last function with a policy on that path. A path that already has an
 *    OPTIONS endpoint keeps it. */

static int project_has_plugin(const cJSON *pj, const char *name)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(pj, "plugins"))
    {
        const char *n = cJSON_IsString(it) ? it->valuestring : NULL;
        if (cJSON_IsObject(it)) {
            const cJSON *pp = cJSON_GetObjectItemCaseSensitive(it, "path");
            n = cJSON_IsString(pp) ? pp->valuestring : NULL;
        }
        if (n && strcmp(n, name) == 0) {
            return 1;
        }
    }
    return 0;
}

static const cJSON *custom_cors(const cJSON *o)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "custom");
    const cJSON *cors = cJSON_GetObjectItemCaseSensitive(c, "cors");
    return cJSON_IsObject(cors) ? cors : NULL;
}

/* The merged policy (new tree) or NULL when neither level has one. */
static cJSON *cors_policy(const struct dep_project *p, const struct dep_function *f)
{
    const cJSON *a = custom_cors(p->json), *b = custom_cors(f->json), *it;
    if (!a && !b) {
        return NULL;
    }
    cJSON *pol = a ? cJSON_Duplicate(a, 1) : cJSON_CreateObject();
    cJSON_ArrayForEach(it, b)
    {
        cJSON_DeleteItemFromObjectCaseSensitive(pol, it->string);
        cJSON_AddItemToObject(pol, it->string, cJSON_Duplicate(it, 1));
    }
    return pol;
}

/* "'<value>'" of a policy key as JavaScript's String() renders it (arrays
 * comma-joined), truncated to n; 0 when the key is absent. */
static int cors_value(const cJSON *pol, const char *key, char *out, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(pol, key), *it;
    struct dep_buf b = {0};
    if (!v || cJSON_IsNull(v)) {
        return 0;
    }
    dep_buf_puts(&b, "'");
    if (cJSON_IsString(v)) {
        dep_buf_puts(&b, v->valuestring);
    } else if (cJSON_IsBool(v)) {
        dep_buf_puts(&b, cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsNumber(v)) {
        dep_buf_printf(&b, "%.15g", v->valuedouble);
    } else if (cJSON_IsArray(v)) {
        int first = 1;
        cJSON_ArrayForEach(it, v)
        {
            dep_buf_printf(&b, "%s%s", first ? "" : ",", cJSON_IsString(it) ? it->valuestring : "");
            first = 0;
        }
    }
    dep_buf_puts(&b, "'");
    char *s = dep_buf_take(&b);
    snprintf(out, n, "%s", s);
    free(s);
    return 1;
}

static void set_param(cJSON *params, const char *key, const char *val)
{
    cJSON_DeleteItemFromObjectCaseSensitive(params, key);
    cJSON_AddStringToObject(params, key, val);
}

static int apply_cors_plugin(struct dep_project *p, struct dep_err *err)
{
    char val[2048];
    int rc = -1;

    if (!project_has_plugin(p->json, "serverless-cors-plugin")) {
        return 0;
    }
    /* 1. the Allow-Origin header on every response of endpoints with a policy */
    for (int i = 0; i < p->n_functions; i++) {
        struct dep_function *f = &p->functions[i];
        cJSON *pol = cors_policy(p, f);
        if (!pol) {
            continue;
        }
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(pol, "allowOrigin"))) {
            cJSON_Delete(pol);
            dep_err_local(err, "InvalidProject",
                          "%s: custom.cors needs \"allowOrigin\" (serverless-cors-plugin)",
                          f->rel_dir);
            return -1;
        }
        for (int j = 0; j < f->n_endpoints; j++) {
            struct dep_endpoint *e = &f->endpoints[j];
            cJSON *r;
            if (strcmp(e->method, "OPTIONS") == 0) {
                continue;
            }
            cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(e->json, "responses"))
            {
                if (!cJSON_IsObject(r)) {
                    continue;
                }
                cJSON *rp = cJSON_GetObjectItemCaseSensitive(r, "responseParameters");
                if (!cJSON_IsObject(rp)) {
                    cJSON_DeleteItemFromObjectCaseSensitive(r, "responseParameters");
                    rp = cJSON_AddObjectToObject(r, "responseParameters");
                }
                cors_value(pol, "allowOrigin", val, sizeof(val));
                set_param(rp, "method.response.header.Access-Control-Allow-Origin", val);
                if (cors_value(pol, "exposeHeaders", val, sizeof(val))) {
                    set_param(rp, "method.response.header.Access-Control-Expose-Headers", val);
                }
                if (strcmp(e->method, "GET") == 0 &&
                    cors_value(pol, "allowCredentials", val, sizeof(val))) {
                    set_param(rp, "method.response.header.Access-Control-Allow-Credentials", val);
                }
            }
        }
        cJSON_Delete(pol);
    }
    /* 2. one preflight per path */
    int total = 0;
    for (int i = 0; i < p->n_functions; i++) {
        total += p->functions[i].n_endpoints;
    }
    char **paths = calloc((size_t)total + 1, sizeof(*paths));
    int n_paths = 0;
    if (!paths) {
        abort();
    }
    for (int i = 0; i < p->n_functions; i++) {
        for (int j = 0; j < p->functions[i].n_endpoints; j++) {
            const char *ep = p->functions[i].endpoints[j].path;
            int seen = 0;
            for (int k = 0; k < n_paths && !seen; k++) {
                seen = strcmp(paths[k], ep) == 0;
            }
            if (!seen) {
                paths[n_paths++] = strdup(ep);
            }
        }
    }
    for (int k = 0; k < n_paths; k++) {
        struct dep_function *owner = NULL;
        char methods[256] = "";
        size_t ml = 0;
        int has_options = 0;
        for (int i = 0; i < p->n_functions; i++) {
            struct dep_function *f = &p->functions[i];
            cJSON *pol = cors_policy(p, f);
            for (int j = 0; j < f->n_endpoints; j++) {
                struct dep_endpoint *e = &f->endpoints[j];
                if (strcmp(e->path, paths[k]) != 0) {
                    continue;
                }
                if (strcmp(e->method, "OPTIONS") == 0) {
                    has_options = 1;
                } else if (pol && ml < sizeof(methods)) {
                    owner = f;
                    ml += (size_t)snprintf(methods + ml, sizeof(methods) - ml, "%s%s",
                                           ml ? "," : "", e->method);
                }
            }
            cJSON_Delete(pol);
        }
        if (!owner || has_options || ml >= sizeof(methods)) {
            continue;
        }
        cJSON *pol = cors_policy(p, owner);
        cJSON *eo = cJSON_CreateObject();
        cJSON_AddStringToObject(eo, "path", paths[k]);
        cJSON_AddStringToObject(eo, "method", "OPTIONS");
        cJSON_AddStringToObject(eo, "type", "MOCK");
        cJSON *rq = cJSON_AddObjectToObject(eo, "requestParameters");
        for (const char *q = strchr(paths[k], '{'); q; q = strchr(q + 1, '{')) {
            const char *end = strchr(q, '}');
            char a[300], b[300];
            if (!end || end - q - 1 <= 0 || end - q - 1 > 200) {
                break;
            }
            snprintf(a, sizeof(a), "integration.request.path.%.*s", (int)(end - q - 1), q + 1);
            snprintf(b, sizeof(b), "method.request.path.%.*s", (int)(end - q - 1), q + 1);
            cJSON_AddStringToObject(rq, a, b);
        }
        cJSON *rt = cJSON_AddObjectToObject(eo, "requestTemplates");
        cJSON_AddStringToObject(rt, "application/json", "{\"statusCode\": 200}");
        cJSON *def = cJSON_AddObjectToObject(cJSON_AddObjectToObject(eo, "responses"), "default");
        cJSON_AddStringToObject(def, "statusCode", "200");
        cJSON *rp = cJSON_AddObjectToObject(def, "responseParameters");
        snprintf(val, sizeof(val), "'%s'", methods);
        set_param(rp, "method.response.header.Access-Control-Allow-Methods", val);
        cors_value(pol, "allowOrigin", val, sizeof(val));
        set_param(rp, "method.response.header.Access-Control-Allow-Origin", val);
        static const char *const opt[][2] = {
            {"allowHeaders", "method.response.header.Access-Control-Allow-Headers"},
            {"allowCredentials", "method.response.header.Access-Control-Allow-Credentials"},
            {"exposeHeaders", "method.response.header.Access-Control-Expose-Headers"},
            {"maxAge", "method.response.header.Access-Control-Max-Age"}};
        for (size_t o = 0; o < sizeof(opt) / sizeof(opt[0]); o++) {
            if (cors_value(pol, opt[o][0], val, sizeof(val))) {
                set_param(rp, opt[o][1], val);
            }
        }
        cJSON_AddObjectToObject(def, "responseModels");
        cJSON_AddStringToObject(cJSON_AddObjectToObject(def, "responseTemplates"),
                                "application/json", "");
        apply_endpoint_defaults(eo, owner->name);
        cJSON_Delete(pol);
        struct dep_endpoint *grown =
            realloc(owner->endpoints, (size_t)(owner->n_endpoints + 1) * sizeof(*grown));
        if (!grown) {
            abort();
        }
        owner->endpoints = grown;
        struct dep_endpoint *e = &owner->endpoints[owner->n_endpoints++];
        memset(e, 0, sizeof(*e));
        e->json = eo;
        e->path = strdup(paths[k]);
        e->method = strdup("OPTIONS");
        e->type = strdup("MOCK");
    }
    rc = 0;
    for (int k = 0; k < n_paths; k++) {
        free(paths[k]);
    }
    free(paths);
    return rc;
}

/* An s-resources-cf.json in a function folder or a folder between it and the
 * root ("s-resources-cf.json extensions": Resources and
 * LambdaIamPolicyStatements that v0.5.0 merged into the project template) is
 * not read by v0.5.6 nor by stagehand: say so, once per file. */
static void warn_resource_snippets(struct dep_project *p)
{
    for (int i = 0; i < p->n_functions; i++) {
        char rel[4096];
        snprintf(rel, sizeof(rel), "%s", p->functions[i].rel_dir);
        while (rel[0]) {
            char *dir = path_join(p->root, rel);
            char *f = path_join(dir, "s-resources-cf.json");
            if (file_exists(f)) {
                warn(p->warnings,
                     "%s/s-resources-cf.json is ignored: only the project's template is deployed "
                     "(as Serverless v0.5.6 does); move its Resources and "
                     "LambdaIamPolicyStatements into the project's s-resources-cf.json%s",
                     rel, NULL);
            }
            free(f);
            free(dir);
            char *slash = strrchr(rel, '/');
            if (!slash) {
                break;
            }
            *slash = 0;
        }
    }
}

int dep_project_populate(struct dep_project *p, int strict, struct dep_err *err)
{
    cJSON *vars = dep_project_vars(p);
    int rc = -1;

    cJSON_Delete(p->warnings);
    p->warnings = cJSON_CreateArray();
    cJSON_Delete(p->json);
    p->json = dep_populate(p->raw, p->templates, vars, NULL, p->warnings);
    cJSON_Delete(p->resources);
    p->resources = p->resources_raw
                       ? dep_populate(p->resources_raw, p->templates, vars, NULL, p->warnings)
                       : NULL;
    if (p->resources_default) {
        warn(p->warnings,
             "%s has no s-resources-cf.json: deploying Serverless v0.5's default resources "
             "(IamRoleLambda, IamPolicyLambda, output IamRoleArnLambda)%s",
             p->name, NULL);
    }
    warn_resource_snippets(p);
    for (int i = 0; i < p->n_functions; i++) {
        if (populate_function(p, &p->functions[i], vars, err) < 0) {
            goto out;
        }
        for (int j = 0; j < i; j++) {
            for (int a = 0; a < p->functions[i].n_events; a++) {
                for (int b = 0; b < p->functions[j].n_events; b++) {
                    if (strcmp(p->functions[i].events[a].name, p->functions[j].events[b].name) ==
                        0) {
                        dep_err_local(err, "InvalidProject",
                                      "event name \"%s\" is used by both %s and %s",
                                      p->functions[i].events[a].name, p->functions[j].name,
                                      p->functions[i].name);
                        goto out;
                    }
                }
            }
        }
    }
    if (apply_cors_plugin(p, err) < 0) {
        goto out;
    }
    if (strict && cJSON_GetArraySize(p->warnings) > 0) {
        const cJSON *w = cJSON_GetArrayItem(p->warnings, 0);
        dep_err_local(err, "UndefinedVariable", "%s (%d warning%s, --strict)", w->valuestring,
                      cJSON_GetArraySize(p->warnings),
                      cJSON_GetArraySize(p->warnings) == 1 ? "" : "s");
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(vars);
    return rc;
}

struct dep_function *dep_project_function(struct dep_project *p, const char *name)
{
    for (int i = 0; i < p->n_functions; i++) {
        if (strcmp(p->functions[i].name, name) == 0) {
            return &p->functions[i];
        }
    }
    return NULL;
}

void dep_project_set_var(struct dep_project *p, int region_file, const char *key, cJSON *value_take)
{
    cJSON **layer = region_file ? &p->vars_region : &p->vars_stage;

    if (!*layer) {
        *layer = cJSON_CreateObject();
    }
    if (cJSON_GetObjectItemCaseSensitive(*layer, key)) {
        cJSON_ReplaceItemInObjectCaseSensitive(*layer, key, value_take);
    } else {
        cJSON_AddItemToObject(*layer, key, value_take);
    }
}

int dep_project_save_vars(struct dep_project *p, int region_file, struct dep_err *err)
{
    char path[4200], dir[4200];

    snprintf(dir, sizeof(dir), "%s/_meta", p->root);
    mkdir(dir, 0755);
    snprintf(dir, sizeof(dir), "%s/_meta/variables", p->root);
    mkdir(dir, 0755);
    dep_project_vars_path(p, region_file ? 2 : 1, path, sizeof(path));
    return dep_json_save_file(path, region_file ? p->vars_region : p->vars_stage, err);
}

void dep_project_release(struct dep_project *p)
{
    if (!p) {
        return;
    }
    for (int i = 0; i < p->n_functions; i++) {
        struct dep_function *f = &p->functions[i];
        free_function_populated(f);
        free(f->name);
        free(f->dir);
        free(f->rel_dir);
        free(f->runtime);
        free(f->handler);
        cJSON_Delete(f->raw);
        cJSON_Delete(f->templates);
    }
    free(p->functions);
    free(p->root);
    free(p->name);
    free(p->stage);
    free(p->region);
    cJSON_Delete(p->raw);
    cJSON_Delete(p->json);
    cJSON_Delete(p->templates);
    cJSON_Delete(p->resources_raw);
    cJSON_Delete(p->resources);
    cJSON_Delete(p->vars_common);
    cJSON_Delete(p->vars_stage);
    cJSON_Delete(p->vars_region);
    cJSON_Delete(p->warnings);
    memset(p, 0, sizeof(*p));
}

/* ---------------------------------------------------------------- naming */

int dep_stage_valid(const char *stage)
{
    if (!stage || !*stage) {
        return 0;
    }
    for (const char *s = stage; *s; s++) {
        if (!isalnum((unsigned char)*s)) {
            return 0;
        }
    }
    return 1;
}

int dep_project_name_valid(const char *name)
{
    if (!name || !*name) {
        return 0;
    }
    for (const char *s = name; *s; s++) {
        if (!isalnum((unsigned char)*s) && *s != '-') {
            return 0;
        }
    }
    return 1;
}

static const char *var_str(const struct dep_project *p, const char *name)
{
    const cJSON *layers[3] = {p->vars_region, p->vars_stage, p->vars_common};

    for (int i = 0; i < 3; i++) {
        const cJSON *v = layers[i] ? cJSON_GetObjectItemCaseSensitive(layers[i], name) : NULL;
        if (cJSON_IsString(v) && v->valuestring[0]) {
            return v->valuestring;
        }
    }
    return NULL;
}

const char *dep_stack_name(const struct dep_project *p, char *buf, size_t n)
{
    const char *v = var_str(p, "resourcesStackName");

    if (v) {
        snprintf(buf, n, "%s", v);
    } else {
        snprintf(buf, n, "%s-%s-r", p->name, p->stage ? p->stage : "");
    }
    return buf;
}

const char *dep_rest_api_name(const struct dep_project *p, char *buf, size_t n)
{
    const char *v = var_str(p, "apiGatewayApi");

    snprintf(buf, n, "%s", v ? v : p->name);
    return buf;
}

const char *dep_sid_endpoint(const char *path, const char *method, char *buf, size_t n)
{
    char tmp[1024];

    snprintf(tmp, sizeof(tmp), "s_apig%s%s_%s", path && path[0] == '/' ? "" : "/", path ? path : "",
             method);
    for (char *q = tmp; *q; q++) {
        if (*q == '/' || *q == '{' || *q == '}' || *q == '.') {
            *q = '_';
        }
    }
    snprintf(buf, n, "%s", tmp);
    return buf;
}

const char *dep_sid_authorizer(const char *lambda_name, char *buf, size_t n)
{
    snprintf(buf, n, "s_apig_auth_%s", lambda_name);
    return buf;
}

const char *dep_sid_event(const char *lambda_name, const char *event, const char *stage, char *buf,
                          size_t n)
{
    snprintf(buf, n, "sEvents-%s-%s-%s", lambda_name, event, stage);
    return buf;
}

const char *dep_schedule_rule_name(const char *lambda_name, const char *event, const char *stage,
                                   char *buf, size_t n)
{
    char tmp[1024];

    snprintf(tmp, sizeof(tmp), "%s-%s-%s", lambda_name, event, stage);
    size_t len = strlen(tmp), sl = strlen(stage);
    if (len > 64 && sl + 11 < 64) {
        /* CloudWatch Events names are at most 64 characters. Cutting the
         * end would cut the stage off and give every stage the same rule
         * (a production deploy retargeting dev's schedule): keep "-<stage>",
         * shorten the rest and make it unique with a hash of the full name. */
        uint32_t h = 2166136261u; /* FNV-1a */
        for (size_t i = 0; i < len; i++) {
            h = (h ^ (unsigned char)tmp[i]) * 16777619u;
        }
        size_t keep = 64 - sl - 10; /* prefix + "-" + 8 hex + "-" + stage */
        char out[72];
        snprintf(out, sizeof(out), "%.*s-%08x-%s", (int)keep, tmp, (unsigned)h, stage);
        snprintf(buf, n, "%s", out);
        return buf;
    }
    if (len > 64) {
        tmp[64] = 0;
    }
    snprintf(buf, n, "%s", tmp);
    return buf;
}

const char *dep_sid_schedule(const char *rule, const char *stage, char *buf, size_t n)
{
    snprintf(buf, n, "s_events_%s_%s", rule, stage);
    return buf;
}

const char *dep_account_id(const struct dep_project *p, char *buf, size_t n, struct dep_err *err)
{
    const char *acct = p ? var_str(p, "accountId") : NULL;
    const char *role = p ? var_str(p, "iamRoleArnLambda") : NULL;
    static char cached[32];

    if (acct) {
        snprintf(buf, n, "%s", acct);
        return buf;
    }
    if (role && strncmp(role, "arn:", 4) == 0) {
        /* arn:aws:iam::<acct>:role/... */
        const char *s = role;
        for (int i = 0; i < 4 && s; i++) {
            s = strchr(s, ':');
            if (s) {
                s++;
            }
        }
        const char *e = s ? strchr(s, ':') : NULL;
        if (s && e && e > s && (size_t)(e - s) < n) {
            memcpy(buf, s, (size_t)(e - s));
            buf[e - s] = 0;
            return buf;
        }
    }
    if (!cached[0]) {
        char tmp[32];
        if (dep_sts_account(p && p->region ? p->region : "us-east-1", tmp, sizeof(tmp), err) < 0) {
            return NULL;
        }
        snprintf(cached, sizeof(cached), "%s", tmp);
    }
    snprintf(buf, n, "%s", cached);
    return buf;
}

const char *dep_lambda_arn(const char *region, const char *account, const char *fn,
                           const char *qualifier, char *buf, size_t n)
{
    snprintf(buf, n, "arn:aws:lambda:%s:%s:function:%s%s%s", region, account, fn,
             qualifier ? ":" : "", qualifier ? qualifier : "");
    return buf;
}

const char *dep_stage_url(const char *api_id, const char *region, const char *stage, char *buf,
                          size_t n)
{
    if (dep_transport_is_custom()) {
        char base[512];
        dep_endpoint("apigateway", region, base, sizeof(base));
        snprintf(buf, n, "%s/restapis/%s/%s/_user_request_", base, api_id, stage);
    } else {
        snprintf(buf, n, "https://%s.execute-api.%s.amazonaws.com/%s", api_id, region, stage);
    }
    return buf;
}
