/*
 * vtl.c - the Velocity Template Language engine of API Gateway mapping
 * templates (see vtl.h for what it covers).
 *
 * Two passes: vtl_parse() turns the template into a tree of struct vn
 * (text, references, directives, expressions); vtl_eval_block() walks it.
 * Every value made during a render is a cJSON node owned by the render's
 * arena (struct vtl_run.arena) and freed at the end, so evaluation code only
 * ever borrows values. Nodes detached from a map by #set go to the arena too,
 * so no borrowed pointer dangles.
 *
 * Whitespace: a directive alone on its line eats the line's indentation and
 * its newline (Velocity's "lines" gobbling), so JSON templates written one
 * directive per line render without blank lines.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "emu.h"
#include "emu_regex.h"
#include "vtl.h"

#define VTL_MAX_DEPTH 64
#define VTL_MAX_OUTPUT (8u << 20)
#define VTL_MAX_LOOP 100000

/* ------------------------------------------------------------------- tree */

enum vn_kind {
    VN_BLOCK,   /* kids: sequence */
    VN_TEXT,    /* text/len */
    VN_REF,     /* name, segs, quiet, raw */
    VN_SET,     /* a = target ref, b = expr */
    VN_IF,      /* a = cond, b = then block, c = else (VN_IF or VN_BLOCK) or NULL */
    VN_FOREACH, /* name = loop var, a = iterable, b = body */
    VN_BREAK,
    VN_STOP,
    /* expressions */
    VX_STR,  /* text: literal */
    VX_ISTR, /* text: interpolated ("..."): b = parsed block */
    VX_NUM,
    VX_TRUE,
    VX_FALSE,
    VX_NULL,
    VX_LIST,  /* kids */
    VX_MAP,   /* kids: key, value, key, value */
    VX_RANGE, /* a..b */
    VX_BIN,   /* op, a, b */
    VX_NOT,   /* a */
    VX_NEG,   /* a */
};

enum vseg_kind { VSEG_PROP, VSEG_CALL, VSEG_INDEX };

struct vseg {
    enum vseg_kind kind;
    char *name;
    struct vn **args; /* CALL: arguments; INDEX: args[0] */
    size_t nargs;
};

struct vn {
    enum vn_kind kind;
    char *text;
    size_t len;
    double num;
    int op;
    int quiet;
    char *name;
    struct vseg *segs;
    size_t nsegs;
    char *raw; /* a reference's source text, rendered when undefined */
    struct vn *a, *b, *c;
    struct vn **kids;
    size_t nkids;
};

enum {
    OP_OR = 1,
    OP_AND,
    OP_EQ,
    OP_NE,
    OP_LT,
    OP_GT,
    OP_LE,
    OP_GE,
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_MOD
};

static void vn_free(struct vn *n);

static void vseg_release(struct vseg *s)
{
    free(s->name);
    for (size_t i = 0; i < s->nargs; i++) {
        vn_free(s->args[i]);
    }
    free(s->args);
}

static void vn_free(struct vn *n)
{
    if (n == NULL) {
        return;
    }
    free(n->text);
    free(n->name);
    free(n->raw);
    for (size_t i = 0; i < n->nsegs; i++) {
        vseg_release(&n->segs[i]);
    }
    free(n->segs);
    vn_free(n->a);
    vn_free(n->b);
    vn_free(n->c);
    for (size_t i = 0; i < n->nkids; i++) {
        vn_free(n->kids[i]);
    }
    free(n->kids);
    free(n);
}

static struct vn *vn_new(enum vn_kind kind)
{
    struct vn *n = calloc(1, sizeof(*n));
    if (n == NULL) {
        abort();
    }
    n->kind = kind;
    return n;
}

static void vn_push(struct vn *parent, struct vn *kid)
{
    struct vn **k = realloc(parent->kids, (parent->nkids + 1) * sizeof(*k));
    if (k == NULL) {
        abort();
    }
    parent->kids = k;
    parent->kids[parent->nkids++] = kid;
}

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d == NULL) {
        abort();
    }
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

/* ----------------------------------------------------------------- parser */

struct vparser {
    const char *s;
    size_t pos;
    size_t len;
    char err[256];
    int depth;
};

static int perr(struct vparser *p, const char *msg)
{
    if (p->err[0] == 0) {
        snprintf(p->err, sizeof(p->err), "%s at offset %zu", msg, p->pos);
    }
    return -1;
}

static int is_ident_start(int c)
{
    return isalpha(c) || c == '_';
}

static int is_ident(int c)
{
    return isalnum(c) || c == '_';
}

static void skip_ws(struct vparser *p)
{
    while (p->pos < p->len && isspace((unsigned char)p->s[p->pos])) {
        p->pos++;
    }
}

static int peek(struct vparser *p)
{
    return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int starts(struct vparser *p, const char *lit)
{
    size_t n = strlen(lit);
    return p->pos + n <= p->len && memcmp(p->s + p->pos, lit, n) == 0;
}

static struct vn *parse_expr(struct vparser *p);
static struct vn *parse_ref(struct vparser *p, int in_text);
static int parse_block(struct vparser *p, struct vn *block, const char **stopped_at);

/* Parses comma-separated expressions up to the closing character. */
static int parse_args(struct vparser *p, char close, struct vn ***out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    skip_ws(p);
    if (peek(p) == close) {
        p->pos++;
        return 0;
    }
    for (;;) {
        struct vn *e = parse_expr(p);
        if (e == NULL) {
            return -1;
        }
        struct vn **na = realloc(*out, (*nout + 1) * sizeof(*na));
        if (na == NULL) {
            abort();
        }
        *out = na;
        (*out)[(*nout)++] = e;
        skip_ws(p);
        if (peek(p) == ',') {
            p->pos++;
            continue;
        }
        if (peek(p) == close) {
            p->pos++;
            return 0;
        }
        return perr(p, "expected ',' or closing bracket");
    }
}

/* Parses a reference at '$'. In text, a reference that does not continue
 * with an identifier is not a reference: returns NULL without an error and
 * leaves pos unchanged. */
static struct vn *parse_ref(struct vparser *p, int in_text)
{
    size_t start = p->pos;
    int quiet = 0;
    int formal = 0;
    p->pos++; /* '$' */
    if (peek(p) == '!') {
        quiet = 1;
        p->pos++;
    }
    if (peek(p) == '{') {
        formal = 1;
        p->pos++;
    }
    if (!is_ident_start(peek(p))) {
        p->pos = start;
        if (!in_text) {
            perr(p, "expected a reference");
        }
        return NULL;
    }
    size_t ns = p->pos;
    while (p->pos < p->len && is_ident((unsigned char)p->s[p->pos])) {
        p->pos++;
    }
    struct vn *n = vn_new(VN_REF);
    n->name = dupn(p->s + ns, p->pos - ns);
    n->quiet = quiet;
    for (;;) {
        if (peek(p) == '.' && p->pos + 1 < p->len &&
            is_ident_start((unsigned char)p->s[p->pos + 1])) {
            p->pos++;
            size_t is = p->pos;
            while (p->pos < p->len &&
                   (isalnum((unsigned char)p->s[p->pos]) || p->s[p->pos] == '_')) {
                p->pos++;
            }
            struct vseg seg = {VSEG_PROP, dupn(p->s + is, p->pos - is), NULL, 0};
            if (peek(p) == '(') {
                p->pos++;
                seg.kind = VSEG_CALL;
                p->depth++;
                int rc = p->depth > VTL_MAX_DEPTH ? perr(p, "nesting too deep")
                                                  : parse_args(p, ')', &seg.args, &seg.nargs);
                p->depth--;
                if (rc < 0) {
                    vseg_release(&seg);
                    vn_free(n);
                    return NULL;
                }
            }
            struct vseg *ns2 = realloc(n->segs, (n->nsegs + 1) * sizeof(*ns2));
            if (ns2 == NULL) {
                abort();
            }
            n->segs = ns2;
            n->segs[n->nsegs++] = seg;
            continue;
        }
        if (peek(p) == '[') {
            size_t save = p->pos;
            p->pos++;
            struct vseg seg = {VSEG_INDEX, NULL, NULL, 0};
            p->depth++;
            int rc = p->depth > VTL_MAX_DEPTH ? perr(p, "nesting too deep")
                                              : parse_args(p, ']', &seg.args, &seg.nargs);
            p->depth--;
            if (rc < 0 || seg.nargs != 1) {
                vseg_release(&seg);
                if (in_text) {
                    /* "$a[" in text that is not an index: stop the ref here */
                    p->err[0] = 0;
                    p->pos = save;
                    break;
                }
                vn_free(n);
                perr(p, "bad index");
                return NULL;
            }
            struct vseg *ns2 = realloc(n->segs, (n->nsegs + 1) * sizeof(*ns2));
            if (ns2 == NULL) {
                abort();
            }
            n->segs = ns2;
            n->segs[n->nsegs++] = seg;
            continue;
        }
        break;
    }
    if (formal) {
        if (peek(p) != '}') {
            vn_free(n);
            if (in_text) {
                p->pos = start;
                return NULL;
            }
            perr(p, "expected '}'");
            return NULL;
        }
        p->pos++;
    }
    n->raw = dupn(p->s + start, p->pos - start);
    return n;
}

static struct vn *parse_string(struct vparser *p)
{
    char q = p->s[p->pos++];
    struct emu_buf b = {0};
    while (p->pos < p->len) {
        if (p->s[p->pos] == q) {
            if (p->pos + 1 < p->len && p->s[p->pos + 1] == q) {
                /* Velocity escapes a quote by doubling it */
                emu_buf_append(&b, &q, 1);
                p->pos += 2;
                continue;
            }
            break;
        }
        if (p->s[p->pos] == '\\' && p->pos + 1 < p->len && p->s[p->pos + 1] == q) {
            emu_buf_append(&b, &q, 1);
            p->pos += 2;
            continue;
        }
        emu_buf_append(&b, p->s + p->pos, 1);
        p->pos++;
    }
    if (p->pos >= p->len) {
        emu_buf_release(&b);
        perr(p, "unterminated string");
        return NULL;
    }
    p->pos++;
    struct vn *n = vn_new(q == '"' ? VX_ISTR : VX_STR);
    n->len = b.len;
    n->text = emu_buf_take(&b);
    if (q == '"' && (strchr(n->text, '$') != NULL || strchr(n->text, '#') != NULL)) {
        struct vparser sub = {n->text, 0, n->len, {0}, p->depth + 1};
        n->b = vn_new(VN_BLOCK);
        if (sub.depth > VTL_MAX_DEPTH || parse_block(&sub, n->b, NULL) < 0) {
            /* not a template after all: keep it literal */
            vn_free(n->b);
            n->b = NULL;
        }
    }
    if (n->b == NULL) {
        n->kind = VX_STR;
    }
    return n;
}

static int word_at(struct vparser *p, const char *w)
{
    size_t n = strlen(w);
    return p->pos + n <= p->len && memcmp(p->s + p->pos, w, n) == 0 &&
           (p->pos + n == p->len || !is_ident((unsigned char)p->s[p->pos + n]));
}

static struct vn *parse_primary(struct vparser *p)
{
    skip_ws(p);
    int c = peek(p);
    if (c == '$') {
        return parse_ref(p, 0);
    }
    if (c == '\'' || c == '"') {
        return parse_string(p);
    }
    if (isdigit(c) ||
        (c == '.' && p->pos + 1 < p->len && isdigit((unsigned char)p->s[p->pos + 1]))) {
        size_t st = p->pos;
        while (p->pos < p->len && isdigit((unsigned char)p->s[p->pos])) {
            p->pos++;
        }
        /* "1..3" is a range, not a decimal */
        if (peek(p) == '.' && !starts(p, "..") && p->pos + 1 < p->len &&
            isdigit((unsigned char)p->s[p->pos + 1])) {
            p->pos++;
            while (p->pos < p->len && isdigit((unsigned char)p->s[p->pos])) {
                p->pos++;
            }
        }
        char tmp[64];
        size_t l = p->pos - st < sizeof(tmp) - 1 ? p->pos - st : sizeof(tmp) - 1;
        memcpy(tmp, p->s + st, l);
        tmp[l] = 0;
        struct vn *n = vn_new(VX_NUM);
        n->num = strtod(tmp, NULL);
        return n;
    }
    if (c == '(') {
        p->pos++;
        struct vn *e = parse_expr(p);
        if (e == NULL) {
            return NULL;
        }
        skip_ws(p);
        if (peek(p) != ')') {
            vn_free(e);
            perr(p, "expected ')'");
            return NULL;
        }
        p->pos++;
        return e;
    }
    if (c == '[') {
        p->pos++;
        skip_ws(p);
        if (peek(p) == ']') {
            p->pos++;
            return vn_new(VX_LIST);
        }
        struct vn *first = parse_expr(p);
        if (first == NULL) {
            return NULL;
        }
        skip_ws(p);
        if (starts(p, "..")) {
            p->pos += 2;
            struct vn *last = parse_expr(p);
            skip_ws(p);
            if (last == NULL || peek(p) != ']') {
                vn_free(first);
                vn_free(last);
                perr(p, "bad range");
                return NULL;
            }
            p->pos++;
            struct vn *r = vn_new(VX_RANGE);
            r->a = first;
            r->b = last;
            return r;
        }
        struct vn *l = vn_new(VX_LIST);
        vn_push(l, first);
        for (;;) {
            skip_ws(p);
            if (peek(p) == ']') {
                p->pos++;
                return l;
            }
            if (peek(p) != ',') {
                vn_free(l);
                perr(p, "expected ',' in list");
                return NULL;
            }
            p->pos++;
            struct vn *e = parse_expr(p);
            if (e == NULL) {
                vn_free(l);
                return NULL;
            }
            vn_push(l, e);
        }
    }
    if (c == '{') {
        p->pos++;
        struct vn *m = vn_new(VX_MAP);
        skip_ws(p);
        if (peek(p) == '}') {
            p->pos++;
            return m;
        }
        for (;;) {
            struct vn *k = parse_expr(p);
            if (k == NULL) {
                vn_free(m);
                return NULL;
            }
            vn_push(m, k);
            skip_ws(p);
            if (peek(p) != ':') {
                vn_free(m);
                perr(p, "expected ':' in map");
                return NULL;
            }
            p->pos++;
            struct vn *v = parse_expr(p);
            if (v == NULL) {
                vn_free(m);
                return NULL;
            }
            vn_push(m, v);
            skip_ws(p);
            if (peek(p) == ',') {
                p->pos++;
                continue;
            }
            if (peek(p) == '}') {
                p->pos++;
                return m;
            }
            vn_free(m);
            perr(p, "expected ',' or '}' in map");
            return NULL;
        }
    }
    if (word_at(p, "true")) {
        p->pos += 4;
        return vn_new(VX_TRUE);
    }
    if (word_at(p, "false")) {
        p->pos += 5;
        return vn_new(VX_FALSE);
    }
    if (word_at(p, "null")) {
        p->pos += 4;
        return vn_new(VX_NULL);
    }
    perr(p, "expected an expression");
    return NULL;
}

static struct vn *parse_unary(struct vparser *p)
{
    skip_ws(p);
    if (peek(p) == '!' && !starts(p, "!=")) {
        p->pos++;
        struct vn *a = parse_unary(p);
        if (a == NULL) {
            return NULL;
        }
        struct vn *n = vn_new(VX_NOT);
        n->a = a;
        return n;
    }
    if (word_at(p, "not")) {
        p->pos += 3;
        struct vn *a = parse_unary(p);
        if (a == NULL) {
            return NULL;
        }
        struct vn *n = vn_new(VX_NOT);
        n->a = a;
        return n;
    }
    if (peek(p) == '-') {
        p->pos++;
        struct vn *a = parse_unary(p);
        if (a == NULL) {
            return NULL;
        }
        struct vn *n = vn_new(VX_NEG);
        n->a = a;
        return n;
    }
    return parse_primary(p);
}

/* Operator at pos for a precedence level; returns OP_* and advances, or 0. */
static int take_op(struct vparser *p, int level)
{
    skip_ws(p);
    static const struct {
        int level;
        const char *sym;
        int word;
        int op;
    } ops[] = {
        {0, "||", 0, OP_OR}, {0, "or", 1, OP_OR}, {1, "&&", 0, OP_AND}, {1, "and", 1, OP_AND},
        {2, "==", 0, OP_EQ}, {2, "!=", 0, OP_NE}, {2, "<=", 0, OP_LE},  {2, ">=", 0, OP_GE},
        {2, "<", 0, OP_LT},  {2, ">", 0, OP_GT},  {2, "eq", 1, OP_EQ},  {2, "ne", 1, OP_NE},
        {2, "le", 1, OP_LE}, {2, "ge", 1, OP_GE}, {2, "lt", 1, OP_LT},  {2, "gt", 1, OP_GT},
        {3, "+", 0, OP_ADD}, {3, "-", 0, OP_SUB}, {4, "*", 0, OP_MUL},  {4, "/", 0, OP_DIV},
        {4, "%", 0, OP_MOD},
    };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (ops[i].level != level) {
            continue;
        }
        if (ops[i].word ? word_at(p, ops[i].sym) : starts(p, ops[i].sym)) {
            p->pos += strlen(ops[i].sym);
            return ops[i].op;
        }
    }
    return 0;
}

static struct vn *parse_level(struct vparser *p, int level)
{
    if (level > 4) {
        return parse_unary(p);
    }
    struct vn *left = parse_level(p, level + 1);
    if (left == NULL) {
        return NULL;
    }
    for (;;) {
        size_t save = p->pos;
        int op = take_op(p, level);
        if (op == 0) {
            p->pos = save;
            return left;
        }
        struct vn *right = parse_level(p, level + 1);
        if (right == NULL) {
            vn_free(left);
            return NULL;
        }
        struct vn *n = vn_new(VX_BIN);
        n->op = op;
        n->a = left;
        n->b = right;
        left = n;
    }
}

static struct vn *parse_expr(struct vparser *p)
{
    if (++p->depth > VTL_MAX_DEPTH) {
        p->depth--;
        perr(p, "expression nesting too deep");
        return NULL;
    }
    struct vn *n = parse_level(p, 0);
    p->depth--;
    return n;
}

/* Directive names, with or without braces: "#if(" / "#{if}(". Returns the
 * length of the directive token and sets *name, or 0. */
static size_t directive_at(struct vparser *p, const char **name)
{
    static const char *const names[] = {"elseif", "else", "end",   "foreach",
                                        "if",     "set",  "break", "stop"};
    const char *s = p->s + p->pos;
    size_t rest = p->len - p->pos;
    if (rest < 2 || s[0] != '#') {
        return 0;
    }
    int brace = s[1] == '{';
    size_t off = brace ? 2 : 1;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t n = strlen(names[i]);
        if (off + n > rest || memcmp(s + off, names[i], n) != 0) {
            continue;
        }
        size_t end = off + n;
        if (brace) {
            if (end >= rest || s[end] != '}') {
                continue;
            }
            end++;
        } else if (end < rest && is_ident((unsigned char)s[end])) {
            continue;
        }
        *name = names[i];
        return end;
    }
    return 0;
}

/* Is everything between the last newline (or start) and pos whitespace? */
static size_t line_indent_start(struct vparser *p, size_t pos, int *only_ws)
{
    size_t i = pos;
    while (i > 0 && p->s[i - 1] != '\n') {
        if (p->s[i - 1] != ' ' && p->s[i - 1] != '\t') {
            *only_ws = 0;
            return pos;
        }
        i--;
    }
    *only_ws = 1;
    return i;
}

/* After a directive: when the rest of the line is blank and the directive
 * began its line, eat the newline. */
static void gobble_eol(struct vparser *p, int began_line)
{
    if (!began_line) {
        return;
    }
    size_t i = p->pos;
    while (i < p->len && (p->s[i] == ' ' || p->s[i] == '\t' || p->s[i] == '\r')) {
        i++;
    }
    if (i < p->len && p->s[i] == '\n') {
        p->pos = i + 1;
    } else if (i == p->len) {
        p->pos = i;
    }
}

static void push_text(struct vn *block, const char *s, size_t n)
{
    if (n == 0) {
        return;
    }
    if (block->nkids > 0 && block->kids[block->nkids - 1]->kind == VN_TEXT) {
        struct vn *t = block->kids[block->nkids - 1];
        char *nt = realloc(t->text, t->len + n + 1);
        if (nt == NULL) {
            abort();
        }
        memcpy(nt + t->len, s, n);
        t->len += n;
        nt[t->len] = 0;
        t->text = nt;
        return;
    }
    struct vn *t = vn_new(VN_TEXT);
    t->text = dupn(s, n);
    t->len = n;
    vn_push(block, t);
}

/* Drops trailing indentation from the block's last text node (a directive
 * that began its line). */
static void trim_indent(struct vn *block, size_t nspaces)
{
    if (nspaces == 0 || block->nkids == 0 || block->kids[block->nkids - 1]->kind != VN_TEXT) {
        return;
    }
    struct vn *t = block->kids[block->nkids - 1];
    if (t->len >= nspaces) {
        t->len -= nspaces;
        t->text[t->len] = 0;
    }
}

static int parse_paren_expr(struct vparser *p, struct vn **out)
{
    skip_ws(p);
    if (peek(p) != '(') {
        return perr(p, "expected '('");
    }
    p->pos++;
    *out = parse_expr(p);
    if (*out == NULL) {
        return -1;
    }
    skip_ws(p);
    if (peek(p) != ')') {
        vn_free(*out);
        *out = NULL;
        return perr(p, "expected ')'");
    }
    p->pos++;
    return 0;
}

static int parse_if_rest(struct vparser *p, struct vn *ifn, int began_line);

/* Parses text and directives into block until #end/#else/#elseif (returned
 * in *stopped_at, directive consumed) or the end of input. */
static int parse_block(struct vparser *p, struct vn *block, const char **stopped_at)
{
    if (stopped_at != NULL) {
        *stopped_at = NULL;
    }
    if (++p->depth > VTL_MAX_DEPTH) {
        return perr(p, "nesting too deep");
    }
    int rc = -1;
    size_t text_start = p->pos;
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c == '#') {
            if (starts(p, "##")) {
                push_text(block, p->s + text_start, p->pos - text_start);
                while (p->pos < p->len && p->s[p->pos] != '\n') {
                    p->pos++;
                }
                if (p->pos < p->len) {
                    p->pos++;
                }
                text_start = p->pos;
                continue;
            }
            if (starts(p, "#*")) {
                push_text(block, p->s + text_start, p->pos - text_start);
                const char *e = strstr(p->s + p->pos + 2, "*#");
                p->pos = e == NULL ? p->len : (size_t)(e - p->s) + 2;
                text_start = p->pos;
                continue;
            }
            if (starts(p, "#[[")) {
                push_text(block, p->s + text_start, p->pos - text_start);
                const char *e = strstr(p->s + p->pos + 3, "]]#");
                size_t body_end = e == NULL ? p->len : (size_t)(e - p->s);
                push_text(block, p->s + p->pos + 3, body_end - p->pos - 3);
                p->pos = e == NULL ? p->len : body_end + 3;
                text_start = p->pos;
                continue;
            }
            const char *name = NULL;
            size_t dl = directive_at(p, &name);
            if (dl == 0) {
                p->pos++;
                continue;
            }
            int began_line = 0;
            size_t ind = line_indent_start(p, p->pos, &began_line);
            push_text(block, p->s + text_start, p->pos - text_start);
            if (began_line) {
                trim_indent(block, p->pos - ind);
            }
            p->pos += dl;
            if (strcmp(name, "end") == 0 || strcmp(name, "else") == 0 ||
                strcmp(name, "elseif") == 0) {
                if (stopped_at == NULL) {
                    perr(p, "unexpected #end/#else");
                    goto out;
                }
                *stopped_at = name;
                if (strcmp(name, "elseif") != 0) {
                    gobble_eol(p, began_line);
                }
                /* the caller handles the rest of #elseif(...) */
                p->depth--;
                return began_line ? 2 : 1;
            }
            if (strcmp(name, "set") == 0) {
                skip_ws(p);
                if (peek(p) != '(') {
                    perr(p, "expected '(' after #set");
                    goto out;
                }
                p->pos++;
                skip_ws(p);
                if (peek(p) != '$') {
                    perr(p, "expected a reference in #set");
                    goto out;
                }
                struct vn *target = parse_ref(p, 0);
                if (target == NULL) {
                    goto out;
                }
                skip_ws(p);
                if (peek(p) != '=') {
                    vn_free(target);
                    perr(p, "expected '=' in #set");
                    goto out;
                }
                p->pos++;
                struct vn *val = parse_expr(p);
                if (val == NULL) {
                    vn_free(target);
                    goto out;
                }
                skip_ws(p);
                if (peek(p) != ')') {
                    vn_free(target);
                    vn_free(val);
                    perr(p, "expected ')' after #set");
                    goto out;
                }
                p->pos++;
                struct vn *s = vn_new(VN_SET);
                s->a = target;
                s->b = val;
                vn_push(block, s);
                gobble_eol(p, began_line);
            } else if (strcmp(name, "if") == 0) {
                struct vn *ifn = vn_new(VN_IF);
                vn_push(block, ifn);
                if (parse_paren_expr(p, &ifn->a) < 0) {
                    goto out;
                }
                gobble_eol(p, began_line);
                if (parse_if_rest(p, ifn, began_line) < 0) {
                    goto out;
                }
            } else if (strcmp(name, "foreach") == 0) {
                struct vn *fe = vn_new(VN_FOREACH);
                vn_push(block, fe);
                skip_ws(p);
                if (peek(p) != '(') {
                    perr(p, "expected '(' after #foreach");
                    goto out;
                }
                p->pos++;
                skip_ws(p);
                if (peek(p) != '$') {
                    perr(p, "expected a loop variable");
                    goto out;
                }
                p->pos++;
                size_t ns = p->pos;
                while (p->pos < p->len && is_ident((unsigned char)p->s[p->pos])) {
                    p->pos++;
                }
                fe->name = dupn(p->s + ns, p->pos - ns);
                skip_ws(p);
                if (!word_at(p, "in")) {
                    perr(p, "expected 'in' in #foreach");
                    goto out;
                }
                p->pos += 2;
                fe->a = parse_expr(p);
                if (fe->a == NULL) {
                    goto out;
                }
                skip_ws(p);
                if (peek(p) != ')') {
                    perr(p, "expected ')' after #foreach");
                    goto out;
                }
                p->pos++;
                gobble_eol(p, began_line);
                fe->b = vn_new(VN_BLOCK);
                const char *stop = NULL;
                if (parse_block(p, fe->b, &stop) < 0) {
                    goto out;
                }
                if (stop == NULL || strcmp(stop, "end") != 0) {
                    perr(p, "#foreach without #end");
                    goto out;
                }
            } else if (strcmp(name, "break") == 0) {
                vn_push(block, vn_new(VN_BREAK));
                gobble_eol(p, began_line);
            } else if (strcmp(name, "stop") == 0) {
                vn_push(block, vn_new(VN_STOP));
                gobble_eol(p, began_line);
            }
            text_start = p->pos;
            continue;
        }
        if (c == '$') {
            struct vn *r = parse_ref(p, 1);
            if (r == NULL) {
                if (p->err[0] != 0) {
                    goto out;
                }
                p->pos++;
                continue;
            }
            /* push preceding text, then the ref */
            size_t ref_len = strlen(r->raw);
            push_text(block, p->s + text_start, p->pos - ref_len - text_start);
            vn_push(block, r);
            text_start = p->pos;
            continue;
        }
        p->pos++;
    }
    push_text(block, p->s + text_start, p->pos - text_start);
    rc = 0;
out:
    p->depth--;
    return rc;
}

/* After "#if(cond)": then-block, then #elseif/#else chains up to #end. */
static int parse_if_rest(struct vparser *p, struct vn *ifn, int began_line)
{
    ifn->b = vn_new(VN_BLOCK);
    const char *stop = NULL;
    int r = parse_block(p, ifn->b, &stop);
    if (r < 0) {
        return -1;
    }
    if (stop == NULL) {
        return perr(p, "#if without #end");
    }
    if (strcmp(stop, "end") == 0) {
        return 0;
    }
    if (strcmp(stop, "else") == 0) {
        ifn->c = vn_new(VN_BLOCK);
        r = parse_block(p, ifn->c, &stop);
        if (r < 0) {
            return -1;
        }
        if (stop == NULL || strcmp(stop, "end") != 0) {
            return perr(p, "#else without #end");
        }
        return 0;
    }
    /* elseif */
    struct vn *next = vn_new(VN_IF);
    ifn->c = next;
    if (parse_paren_expr(p, &next->a) < 0) {
        return -1;
    }
    gobble_eol(p, r == 2);
    return parse_if_rest(p, next, began_line);
}

/* -------------------------------------------------------------- evaluator */

struct vtl_var {
    char *name;
    cJSON *value; /* borrowed from the arena */
};

struct vtl_run {
    const struct vtl_input *in;
    cJSON **arena;
    size_t narena;
    size_t carena;
    struct vtl_var *vars;
    size_t nvars;
    size_t cvars;
    cJSON *body_json; /* parsed $input body, lazily; arena-owned */
    int body_parsed;
    int stop;
    int brk;
    int depth;
    struct emu_buf out;
};

/* Hands a value to the arena; returns it. */
static cJSON *own(struct vtl_run *r, cJSON *v)
{
    if (v == NULL) {
        return NULL;
    }
    if (r->narena == r->carena) {
        size_t nc = r->carena ? r->carena * 2 : 64;
        cJSON **na = realloc(r->arena, nc * sizeof(*na));
        if (na == NULL) {
            abort();
        }
        r->arena = na;
        r->carena = nc;
    }
    r->arena[r->narena++] = v;
    return v;
}

static cJSON *mk_str(struct vtl_run *r, const char *s)
{
    return own(r, cJSON_CreateString(s != NULL ? s : ""));
}

static cJSON *mk_num(struct vtl_run *r, double d)
{
    return own(r, cJSON_CreateNumber(d));
}

static cJSON *mk_bool(struct vtl_run *r, int b)
{
    return own(r, cJSON_CreateBool(b));
}

static cJSON *var_get(struct vtl_run *r, const char *name)
{
    for (size_t i = r->nvars; i > 0; i--) {
        if (strcmp(r->vars[i - 1].name, name) == 0) {
            return r->vars[i - 1].value;
        }
    }
    return NULL;
}

static void var_set(struct vtl_run *r, const char *name, cJSON *v)
{
    for (size_t i = r->nvars; i > 0; i--) {
        if (strcmp(r->vars[i - 1].name, name) == 0) {
            r->vars[i - 1].value = v;
            return;
        }
    }
    if (r->nvars == r->cvars) {
        size_t nc = r->cvars ? r->cvars * 2 : 16;
        struct vtl_var *nv = realloc(r->vars, nc * sizeof(*nv));
        if (nv == NULL) {
            abort();
        }
        r->vars = nv;
        r->cvars = nc;
    }
    r->vars[r->nvars].name = dupn(name, strlen(name));
    r->vars[r->nvars].value = v;
    r->nvars++;
}

static void num_to_string(struct emu_buf *b, double d)
{
    if (isnan(d) || isinf(d)) {
        emu_buf_puts(b, isnan(d) ? "NaN" : (d > 0 ? "Infinity" : "-Infinity"));
        return;
    }
    if (d == floor(d) && fabs(d) < 9.2e18) {
        emu_buf_printf(b, "%lld", (long long)d);
        return;
    }
    char tmp[64];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        if (strtod(tmp, NULL) == d) {
            break;
        }
    }
    emu_buf_puts(b, tmp);
}

static void to_string_buf(struct emu_buf *b, const cJSON *v)
{
    if (v == NULL || cJSON_IsNull(v)) {
        return;
    }
    if (cJSON_IsString(v)) {
        emu_buf_puts(b, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        num_to_string(b, v->valuedouble);
    } else if (cJSON_IsBool(v)) {
        emu_buf_puts(b, cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsArray(v)) {
        emu_buf_puts(b, "[");
        const cJSON *it;
        int first = 1;
        cJSON_ArrayForEach(it, v)
        {
            if (!first) {
                emu_buf_puts(b, ", ");
            }
            first = 0;
            if (cJSON_IsNull(it)) {
                emu_buf_puts(b, "null");
            } else {
                to_string_buf(b, it);
            }
        }
        emu_buf_puts(b, "]");
    } else if (cJSON_IsObject(v)) {
        emu_buf_puts(b, "{");
        const cJSON *it;
        int first = 1;
        cJSON_ArrayForEach(it, v)
        {
            if (!first) {
                emu_buf_puts(b, ", ");
            }
            first = 0;
            emu_buf_puts(b, it->string != NULL ? it->string : "");
            emu_buf_puts(b, "=");
            if (cJSON_IsNull(it)) {
                emu_buf_puts(b, "null");
            } else {
                to_string_buf(b, it);
            }
        }
        emu_buf_puts(b, "}");
    } else if (cJSON_IsRaw(v)) {
        emu_buf_puts(b, v->valuestring);
    }
}

char *vtl_to_string(const cJSON *v)
{
    struct emu_buf b = {0};
    emu_buf_puts(&b, "");
    to_string_buf(&b, v);
    return emu_buf_take(&b);
}

static char *str_of(struct vtl_run *r, const cJSON *v)
{
    char *s = vtl_to_string(v);
    cJSON *held = mk_str(r, s);
    free(s);
    return held->valuestring;
}

static int truthy(const cJSON *v)
{
    if (v == NULL || cJSON_IsNull(v) || cJSON_IsFalse(v)) {
        return 0;
    }
    return 1;
}

/* ------------------------------------------------------------- JSONPath */

static void jp_collect(const cJSON *node, const char *p, cJSON *results, int depth);

static void jp_step(const cJSON *child, const char *rest, cJSON *results, int depth)
{
    if (child != NULL) {
        jp_collect(child, rest, results, depth + 1);
    }
}

/* Walks the path from node, adding copies of matches to results (array). */
static void jp_collect(const cJSON *node, const char *p, cJSON *results, int depth)
{
    if (depth > 64) {
        return;
    }
    while (*p == ' ') {
        p++;
    }
    if (*p == 0) {
        cJSON_AddItemToArray(results, cJSON_Duplicate(node, 1));
        return;
    }
    if (*p == '.') {
        p++;
        if (*p == '*') {
            const cJSON *it;
            cJSON_ArrayForEach(it, node)
            {
                jp_step(it, p + 1, results, depth);
            }
            return;
        }
        size_t n = strcspn(p, ".[");
        char name[256];
        if (n >= sizeof(name) || n == 0) {
            return;
        }
        memcpy(name, p, n);
        name[n] = 0;
        if (cJSON_IsObject(node)) {
            jp_step(cJSON_GetObjectItemCaseSensitive(node, name), p + n, results, depth);
        }
        return;
    }
    if (*p == '[') {
        p++;
        if (*p == '\'' || *p == '"') {
            char q = *p++;
            const char *e = strchr(p, q);
            if (e == NULL || e[1] != ']') {
                return;
            }
            char name[256];
            size_t n = (size_t)(e - p);
            if (n >= sizeof(name)) {
                return;
            }
            memcpy(name, p, n);
            name[n] = 0;
            if (cJSON_IsObject(node)) {
                jp_step(cJSON_GetObjectItemCaseSensitive(node, name), e + 2, results, depth);
            }
            return;
        }
        if (*p == '*') {
            if (p[1] != ']') {
                return;
            }
            const cJSON *it;
            cJSON_ArrayForEach(it, node)
            {
                jp_step(it, p + 2, results, depth);
            }
            return;
        }
        char *end = NULL;
        long idx = strtol(p, &end, 10);
        if (end == p || *end != ']' || !cJSON_IsArray(node)) {
            return;
        }
        int sz = cJSON_GetArraySize(node);
        if (idx < 0) {
            idx += sz;
        }
        if (idx >= 0 && idx < sz) {
            jp_step(cJSON_GetArrayItem(node, (int)idx), end + 1, results, depth);
        }
        return;
    }
    /* bare name after "$" was stripped ("a.b") */
    char buf[512];
    if (snprintf(buf, sizeof(buf), ".%s", p) < (int)sizeof(buf)) {
        jp_collect(node, buf, results, depth + 1);
    }
}

cJSON *vtl_json_path(const cJSON *root, const char *path)
{
    if (root == NULL || path == NULL) {
        return NULL;
    }
    const char *p = path;
    while (*p == ' ') {
        p++;
    }
    if (*p == '$') {
        p++;
    }
    int wildcard = strstr(p, "*") != NULL;
    cJSON *results = cJSON_CreateArray();
    jp_collect(root, p, results, 0);
    cJSON *out = NULL;
    int n = cJSON_GetArraySize(results);
    if (wildcard) {
        out = results;
        results = NULL;
    } else if (n > 0) {
        out = cJSON_DetachItemFromArray(results, 0);
    }
    cJSON_Delete(results);
    return out;
}

/* ------------------------------------------------------------- $util */

char *vtl_escape_javascript(const char *s)
{
    struct emu_buf b = {0};
    emu_buf_puts(&b, "");
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        if (c < 0x80) {
            switch (c) {
            case '"':
                emu_buf_puts(&b, "\\\"");
                break;
            case '\'':
                emu_buf_puts(&b, "\\'");
                break;
            case '\\':
                emu_buf_puts(&b, "\\\\");
                break;
            case '/':
                emu_buf_puts(&b, "\\/");
                break;
            case '\b':
                emu_buf_puts(&b, "\\b");
                break;
            case '\f':
                emu_buf_puts(&b, "\\f");
                break;
            case '\n':
                emu_buf_puts(&b, "\\n");
                break;
            case '\r':
                emu_buf_puts(&b, "\\r");
                break;
            case '\t':
                emu_buf_puts(&b, "\\t");
                break;
            default:
                if (c < 32) {
                    emu_buf_printf(&b, "\\u%04X", c);
                } else {
                    emu_buf_append(&b, p, 1);
                }
            }
            p++;
            continue;
        }
        /* decode UTF-8, emit UTF-16 \uXXXX as commons-lang does */
        unsigned cp = 0;
        int extra = 0;
        if ((c & 0xe0) == 0xc0) {
            cp = c & 0x1f;
            extra = 1;
        } else if ((c & 0xf0) == 0xe0) {
            cp = c & 0x0f;
            extra = 2;
        } else if ((c & 0xf8) == 0xf0) {
            cp = c & 0x07;
            extra = 3;
        } else {
            emu_buf_printf(&b, "\\u%04X", 0xfffdu);
            p++;
            continue;
        }
        int ok = 1;
        for (int i = 1; i <= extra; i++) {
            if ((p[i] & 0xc0) != 0x80) {
                ok = 0;
                break;
            }
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if (!ok) {
            emu_buf_printf(&b, "\\u%04X", 0xfffdu);
            p++;
            continue;
        }
        p += extra + 1;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            emu_buf_printf(&b, "\\u%04X\\u%04X", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
        } else {
            emu_buf_printf(&b, "\\u%04X", cp);
        }
    }
    return emu_buf_take(&b);
}

static char *java_url_encode(const char *s)
{
    struct emu_buf b = {0};
    emu_buf_puts(&b, "");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '.' || *p == '-' || *p == '*' || *p == '_') {
            emu_buf_append(&b, p, 1);
        } else if (*p == ' ') {
            emu_buf_puts(&b, "+");
        } else {
            emu_buf_printf(&b, "%%%02X", *p);
        }
    }
    return emu_buf_take(&b);
}

/* Returns decoded bytes (NUL-terminated, caller frees) or NULL. */
static char *b64_decode(const char *s)
{
    size_t n = strlen(s);
    char *clean = malloc(n + 4);
    if (clean == NULL) {
        abort();
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isspace((unsigned char)s[i])) {
            clean[m++] = s[i] == '-' ? '+' : (s[i] == '_' ? '/' : s[i]);
        }
    }
    while (m % 4 != 0) {
        clean[m++] = '=';
    }
    clean[m] = 0;
    char *out = malloc(m / 4 * 3 + 1);
    if (out == NULL) {
        abort();
    }
    int len = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)clean, (int)m);
    if (len < 0) {
        free(clean);
        free(out);
        return NULL;
    }
    for (size_t i = m; i > 0 && clean[i - 1] == '='; i--) {
        len--;
    }
    out[len < 0 ? 0 : len] = 0;
    free(clean);
    return out;
}

/* --------------------------------------------------------------- eval */

static cJSON *eval_expr(struct vtl_run *r, const struct vn *n);
static int eval_block(struct vtl_run *r, const struct vn *b);

static const char *arg_str(struct vtl_run *r, cJSON **args, size_t nargs, size_t i)
{
    if (i >= nargs || args[i] == NULL) {
        return "";
    }
    return str_of(r, args[i]);
}

static cJSON *input_body_json(struct vtl_run *r)
{
    if (!r->body_parsed) {
        r->body_parsed = 1;
        const char *body = r->in->body;
        int blank = 1;
        for (const char *p = body; p != NULL && *p; p++) {
            if (!isspace((unsigned char)*p)) {
                blank = 0;
                break;
            }
        }
        if (blank) {
            r->body_json = own(r, cJSON_CreateObject());
        } else {
            r->body_json = own(r, cJSON_Parse(body));
            if (r->body_json == NULL) {
                /* not JSON: the body as a string */
                r->body_json = mk_str(r, body);
            }
        }
    }
    return r->body_json;
}

static cJSON *call_input(struct vtl_run *r, const char *m, cJSON **args, size_t nargs)
{
    const struct vtl_input *in = r->in;
    if (strcmp(m, "json") == 0) {
        cJSON *found =
            vtl_json_path(input_body_json(r), nargs > 0 ? arg_str(r, args, nargs, 0) : "$");
        char *txt = found != NULL ? cJSON_PrintUnformatted(found) : NULL;
        cJSON_Delete(found);
        cJSON *res = mk_str(r, txt != NULL ? txt : "null");
        free(txt);
        return res;
    }
    if (strcmp(m, "path") == 0) {
        return own(r,
                   vtl_json_path(input_body_json(r), nargs > 0 ? arg_str(r, args, nargs, 0) : "$"));
    }
    if (strcmp(m, "params") == 0) {
        if (nargs == 0) {
            cJSON *all = own(r, cJSON_CreateObject());
            cJSON_AddItemToObject(all, "path",
                                  in->path ? cJSON_Duplicate(in->path, 1) : cJSON_CreateObject());
            cJSON_AddItemToObject(all, "querystring",
                                  in->querystring ? cJSON_Duplicate(in->querystring, 1)
                                                  : cJSON_CreateObject());
            cJSON_AddItemToObject(
                all, "header", in->header ? cJSON_Duplicate(in->header, 1) : cJSON_CreateObject());
            return all;
        }
        const char *name = arg_str(r, args, nargs, 0);
        const cJSON *v = in->path ? cJSON_GetObjectItemCaseSensitive(in->path, name) : NULL;
        if (v == NULL && in->querystring) {
            v = cJSON_GetObjectItemCaseSensitive(in->querystring, name);
        }
        if (v == NULL && in->header) {
            v = cJSON_GetObjectItem(in->header, name); /* case-insensitive */
        }
        return mk_str(r, cJSON_IsString(v) ? v->valuestring : "");
    }
    return NULL;
}

static cJSON *call_util(struct vtl_run *r, const char *m, cJSON **args, size_t nargs)
{
    const char *a = arg_str(r, args, nargs, 0);
    char *s = NULL;
    cJSON *res = NULL;
    if (strcmp(m, "escapeJavaScript") == 0) {
        s = vtl_escape_javascript(a);
    } else if (strcmp(m, "urlEncode") == 0) {
        s = java_url_encode(a);
    } else if (strcmp(m, "urlDecode") == 0) {
        s = emu_url_decode(a, strlen(a), 1);
        if (s == NULL) {
            s = dupn(a, strlen(a));
        }
    } else if (strcmp(m, "base64Encode") == 0) {
        s = emu_base64_encode(a, strlen(a));
    } else if (strcmp(m, "base64Decode") == 0) {
        s = b64_decode(a);
    } else if (strcmp(m, "parseJson") == 0) {
        return own(r, cJSON_Parse(a));
    } else if (strcmp(m, "toJson") == 0) {
        char *t = nargs > 0 && args[0] ? cJSON_PrintUnformatted(args[0]) : NULL;
        res = mk_str(r, t != NULL ? t : "null");
        free(t);
        return res;
    } else {
        return NULL;
    }
    res = mk_str(r, s);
    free(s);
    return res;
}

/* Java's String.matches(): whole-string match; an invalid pattern is false. */
static int regex_match_whole(const char *pattern, const char *s)
{
    return emu_regex_match_whole(pattern, s) == 1;
}

static cJSON *string_replace_all(struct vtl_run *r, const char *s, const char *pat, const char *rep,
                                 int regex)
{
    struct emu_buf b = {0};
    emu_buf_puts(&b, "");
    if (!regex) {
        size_t pl = strlen(pat);
        if (pl == 0) {
            emu_buf_puts(&b, s);
        } else {
            const char *p = s;
            const char *f;
            while ((f = strstr(p, pat)) != NULL) {
                emu_buf_append(&b, p, (size_t)(f - p));
                emu_buf_puts(&b, rep);
                p = f + pl;
            }
            emu_buf_puts(&b, p);
        }
    } else {
        /* Java's replaceAll ($1, ${name}, \$); an invalid pattern or
         * replacement leaves s as it is */
        char *t = emu_regex_replace_all(pat, s, rep);
        emu_buf_puts(&b, t != NULL ? t : s);
        free(t);
    }
    char *t = emu_buf_take(&b);
    cJSON *res = mk_str(r, t);
    free(t);
    return res;
}

/* A method on a value. Returns NULL when the method does not exist or
 * yields null; *known says whether it exists. */
static cJSON *call_method(struct vtl_run *r, cJSON *obj, const char *m, cJSON **args, size_t nargs,
                          int *known)
{
    *known = 1;
    if (cJSON_IsObject(obj)) {
        if (strcmp(m, "get") == 0) {
            return cJSON_GetObjectItemCaseSensitive(obj, arg_str(r, args, nargs, 0));
        }
        if (strcmp(m, "containsKey") == 0) {
            return mk_bool(r, cJSON_GetObjectItemCaseSensitive(obj, arg_str(r, args, nargs, 0)) !=
                                  NULL);
        }
        if (strcmp(m, "size") == 0) {
            return mk_num(r, cJSON_GetArraySize(obj));
        }
        if (strcmp(m, "isEmpty") == 0) {
            return mk_bool(r, obj->child == NULL);
        }
        if (strcmp(m, "keySet") == 0 || strcmp(m, "values") == 0 || strcmp(m, "entrySet") == 0) {
            int keys = m[0] == 'k';
            cJSON *l = own(r, cJSON_CreateArray());
            const cJSON *it;
            cJSON_ArrayForEach(it, obj)
            {
                if (keys) {
                    cJSON_AddItemToArray(l, cJSON_CreateString(it->string));
                } else if (m[0] == 'v') {
                    cJSON_AddItemToArray(l, cJSON_Duplicate(it, 1));
                } else {
                    cJSON *e = cJSON_CreateObject();
                    cJSON_AddStringToObject(e, "key", it->string);
                    cJSON_AddItemToObject(e, "value", cJSON_Duplicate(it, 1));
                    cJSON_AddItemToArray(l, e);
                }
            }
            return l;
        }
        if (strcmp(m, "put") == 0 && nargs == 2) {
            const char *k = arg_str(r, args, nargs, 0);
            cJSON *old = cJSON_DetachItemFromObjectCaseSensitive(obj, k);
            own(r, old);
            cJSON_AddItemToObject(obj, k,
                                  args[1] ? cJSON_Duplicate(args[1], 1) : cJSON_CreateNull());
            return old;
        }
        if (strcmp(m, "remove") == 0) {
            return own(r, cJSON_DetachItemFromObjectCaseSensitive(obj, arg_str(r, args, nargs, 0)));
        }
    }
    if (cJSON_IsArray(obj)) {
        int sz = cJSON_GetArraySize(obj);
        if (strcmp(m, "size") == 0) {
            return mk_num(r, sz);
        }
        if (strcmp(m, "isEmpty") == 0) {
            return mk_bool(r, sz == 0);
        }
        if (strcmp(m, "get") == 0 && nargs == 1 && cJSON_IsNumber(args[0])) {
            return cJSON_GetArrayItem(obj, (int)args[0]->valuedouble);
        }
        if (strcmp(m, "add") == 0 && nargs == 1) {
            cJSON_AddItemToArray(obj, args[0] ? cJSON_Duplicate(args[0], 1) : cJSON_CreateNull());
            return mk_bool(r, 1);
        }
        if (strcmp(m, "contains") == 0 && nargs == 1) {
            const cJSON *it;
            const char *want = arg_str(r, args, nargs, 0);
            cJSON_ArrayForEach(it, obj)
            {
                if (strcmp(str_of(r, it), want) == 0) {
                    return mk_bool(r, 1);
                }
            }
            return mk_bool(r, 0);
        }
    }
    if (cJSON_IsString(obj) || cJSON_IsNumber(obj) || cJSON_IsBool(obj)) {
        const char *s = str_of(r, obj);
        size_t sl = strlen(s);
        const char *a0 = arg_str(r, args, nargs, 0);
        if (strcmp(m, "toString") == 0) {
            return mk_str(r, s);
        }
        if (strcmp(m, "length") == 0 || strcmp(m, "size") == 0) {
            return mk_num(r, (double)sl);
        }
        if (strcmp(m, "isEmpty") == 0) {
            return mk_bool(r, sl == 0);
        }
        if (strcmp(m, "toLowerCase") == 0 || strcmp(m, "toUpperCase") == 0) {
            cJSON *res = mk_str(r, s);
            for (char *p = res->valuestring; *p; p++) {
                *p = (char)(m[2] == 'L' ? tolower((unsigned char)*p) : toupper((unsigned char)*p));
            }
            return res;
        }
        if (strcmp(m, "trim") == 0) {
            while (*s && isspace((unsigned char)*s)) {
                s++;
            }
            size_t l = strlen(s);
            while (l > 0 && isspace((unsigned char)s[l - 1])) {
                l--;
            }
            char *t = dupn(s, l);
            cJSON *res = mk_str(r, t);
            free(t);
            return res;
        }
        if (strcmp(m, "contains") == 0) {
            return mk_bool(r, strstr(s, a0) != NULL);
        }
        if (strcmp(m, "startsWith") == 0) {
            return mk_bool(r, strncmp(s, a0, strlen(a0)) == 0);
        }
        if (strcmp(m, "endsWith") == 0) {
            size_t al = strlen(a0);
            return mk_bool(r, al <= sl && strcmp(s + sl - al, a0) == 0);
        }
        if (strcmp(m, "equals") == 0) {
            return mk_bool(r, strcmp(s, a0) == 0);
        }
        if (strcmp(m, "equalsIgnoreCase") == 0) {
            return mk_bool(r, strcasecmp(s, a0) == 0);
        }
        if (strcmp(m, "indexOf") == 0) {
            const char *f = strstr(s, a0);
            return mk_num(r, f == NULL ? -1 : (double)(f - s));
        }
        if (strcmp(m, "matches") == 0) {
            return mk_bool(r, regex_match_whole(a0, s));
        }
        if (strcmp(m, "replace") == 0 && nargs == 2) {
            return string_replace_all(r, s, a0, arg_str(r, args, nargs, 1), 0);
        }
        if (strcmp(m, "replaceAll") == 0 && nargs == 2) {
            return string_replace_all(r, s, a0, arg_str(r, args, nargs, 1), 1);
        }
        if (strcmp(m, "substring") == 0 && nargs >= 1 && cJSON_IsNumber(args[0])) {
            long b = (long)args[0]->valuedouble;
            long e = (long)sl;
            if (nargs >= 2 && cJSON_IsNumber(args[1])) {
                e = (long)args[1]->valuedouble;
            }
            if (b < 0 || e > (long)sl || b > e) {
                return NULL;
            }
            char *t = dupn(s + b, (size_t)(e - b));
            cJSON *res = mk_str(r, t);
            free(t);
            return res;
        }
        if (strcmp(m, "charAt") == 0 && nargs == 1 && cJSON_IsNumber(args[0])) {
            long i = (long)args[0]->valuedouble;
            if (i < 0 || i >= (long)sl) {
                return NULL;
            }
            char t[2] = {s[i], 0};
            return mk_str(r, t);
        }
        if (strcmp(m, "split") == 0) {
            cJSON *l = own(r, cJSON_CreateArray());
            size_t al = strlen(a0);
            const char *p = s;
            if (al == 0) {
                cJSON_AddItemToArray(l, cJSON_CreateString(s));
                return l;
            }
            const char *f;
            while ((f = strstr(p, a0)) != NULL) {
                char *t = dupn(p, (size_t)(f - p));
                cJSON_AddItemToArray(l, cJSON_CreateString(t));
                free(t);
                p = f + al;
            }
            cJSON_AddItemToArray(l, cJSON_CreateString(p));
            return l;
        }
        if (strcmp(m, "concat") == 0) {
            struct emu_buf b = {0};
            emu_buf_puts(&b, s);
            emu_buf_puts(&b, a0);
            char *t = emu_buf_take(&b);
            cJSON *res = mk_str(r, t);
            free(t);
            return res;
        }
        if (cJSON_IsNumber(obj) && (strcmp(m, "intValue") == 0 || strcmp(m, "longValue") == 0)) {
            return mk_num(r, trunc(obj->valuedouble));
        }
        if (cJSON_IsNumber(obj) && strcmp(m, "doubleValue") == 0) {
            return obj;
        }
    }
    *known = 0;
    return NULL;
}

/* Evaluates a reference. *defined is 0 when the head variable (or a
 * property/method along the way) does not exist. */
static cJSON *eval_ref(struct vtl_run *r, const struct vn *n, int *defined)
{
    *defined = 1;
    cJSON *cur = NULL;
    size_t i = 0;
    const char *head = n->name;
    if ((strcmp(head, "input") == 0 || strcmp(head, "util") == 0) && n->nsegs > 0 &&
        n->segs[0].kind == VSEG_CALL) {
        cJSON *args[8] = {0};
        size_t na = n->segs[0].nargs < 8 ? n->segs[0].nargs : 8;
        for (size_t k = 0; k < na; k++) {
            args[k] = eval_expr(r, n->segs[0].args[k]);
        }
        cur = head[0] == 'i' ? call_input(r, n->segs[0].name, args, na)
                             : call_util(r, n->segs[0].name, args, na);
        i = 1;
    } else if (strcmp(head, "input") == 0 && n->nsegs > 0 && n->segs[0].kind == VSEG_PROP &&
               strcmp(n->segs[0].name, "body") == 0) {
        cur = mk_str(r, r->in->body != NULL ? r->in->body : "");
        i = 1;
    } else {
        cur = var_get(r, head);
        if (cur == NULL) {
            *defined = 0;
            return NULL;
        }
    }
    for (; i < n->nsegs && cur != NULL; i++) {
        const struct vseg *s = &n->segs[i];
        if (s->kind == VSEG_PROP) {
            if (cJSON_IsObject(cur)) {
                cJSON *next = cJSON_GetObjectItemCaseSensitive(cur, s->name);
                if (next == NULL) {
                    /* getter-style: $m.size, $s.length, $m.empty */
                    int known = 0;
                    if (strcmp(s->name, "empty") == 0) {
                        next = mk_bool(r, cur->child == NULL);
                    } else if (strcmp(s->name, "size") == 0) {
                        next = call_method(r, cur, "size", NULL, 0, &known);
                    }
                }
                cur = next;
            } else if (cJSON_IsArray(cur) && strcmp(s->name, "size") == 0) {
                cur = mk_num(r, cJSON_GetArraySize(cur));
            } else if (cJSON_IsString(cur) &&
                       (strcmp(s->name, "length") == 0 || strcmp(s->name, "bytes") == 0)) {
                cur = mk_num(r, (double)strlen(cur->valuestring));
            } else if (cJSON_IsString(cur) && strcmp(s->name, "empty") == 0) {
                cur = mk_bool(r, cur->valuestring[0] == 0);
            } else {
                cur = NULL;
            }
            continue;
        }
        cJSON *args[8] = {0};
        size_t na = s->nargs < 8 ? s->nargs : 8;
        for (size_t k = 0; k < na; k++) {
            args[k] = eval_expr(r, s->args[k]);
        }
        if (s->kind == VSEG_INDEX) {
            cJSON *idx = args[0];
            if (cJSON_IsArray(cur) && cJSON_IsNumber(idx)) {
                int ix = (int)idx->valuedouble;
                if (ix < 0) {
                    ix += cJSON_GetArraySize(cur);
                }
                cur = cJSON_GetArrayItem(cur, ix);
            } else if (cJSON_IsObject(cur) && idx != NULL) {
                cur = cJSON_GetObjectItemCaseSensitive(cur, str_of(r, idx));
            } else {
                cur = NULL;
            }
            continue;
        }
        int known = 0;
        cur = call_method(r, cur, s->name, args, na, &known);
        if (!known) {
            *defined = 0;
            return NULL;
        }
    }
    return cur;
}

static double num_of(struct vtl_run *r, const cJSON *v, int *ok)
{
    *ok = 1;
    if (cJSON_IsNumber(v)) {
        return v->valuedouble;
    }
    if (cJSON_IsString(v)) {
        char *end = NULL;
        double d = strtod(v->valuestring, &end);
        if (end != v->valuestring && *end == 0) {
            return d;
        }
    }
    (void)r;
    *ok = 0;
    return 0;
}

static int is_int(double d)
{
    return d == floor(d) && fabs(d) < 9.2e18;
}

static cJSON *eval_bin(struct vtl_run *r, const struct vn *n)
{
    if (n->op == OP_AND) {
        return mk_bool(r, truthy(eval_expr(r, n->a)) && truthy(eval_expr(r, n->b)));
    }
    if (n->op == OP_OR) {
        return mk_bool(r, truthy(eval_expr(r, n->a)) || truthy(eval_expr(r, n->b)));
    }
    cJSON *a = eval_expr(r, n->a);
    cJSON *b = eval_expr(r, n->b);
    if (n->op == OP_EQ || n->op == OP_NE) {
        int eq;
        if (a == NULL || b == NULL || cJSON_IsNull(a) || cJSON_IsNull(b)) {
            eq = (a == NULL || cJSON_IsNull(a)) && (b == NULL || cJSON_IsNull(b));
        } else if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) {
            eq = a->valuedouble == b->valuedouble;
        } else if (cJSON_IsBool(a) && cJSON_IsBool(b)) {
            eq = cJSON_IsTrue(a) == cJSON_IsTrue(b);
        } else {
            eq = strcmp(str_of(r, a), str_of(r, b)) == 0;
        }
        return mk_bool(r, n->op == OP_EQ ? eq : !eq);
    }
    int oka = 0;
    int okb = 0;
    double x = a ? num_of(r, a, &oka) : 0;
    double y = b ? num_of(r, b, &okb) : 0;
    if (n->op >= OP_LT && n->op <= OP_GE) {
        int c;
        if (oka && okb && cJSON_IsNumber(a) && cJSON_IsNumber(b)) {
            c = x < y ? -1 : (x > y ? 1 : 0);
        } else if (a == NULL || b == NULL) {
            return mk_bool(r, 0);
        } else {
            c = strcmp(str_of(r, a), str_of(r, b));
        }
        switch (n->op) {
        case OP_LT:
            return mk_bool(r, c < 0);
        case OP_GT:
            return mk_bool(r, c > 0);
        case OP_LE:
            return mk_bool(r, c <= 0);
        default:
            return mk_bool(r, c >= 0);
        }
    }
    if (n->op == OP_ADD && (cJSON_IsString(a) || cJSON_IsString(b))) {
        struct emu_buf buf = {0};
        emu_buf_puts(&buf, "");
        to_string_buf(&buf, a);
        to_string_buf(&buf, b);
        char *t = emu_buf_take(&buf);
        cJSON *res = mk_str(r, t);
        free(t);
        return res;
    }
    if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b)) {
        return NULL;
    }
    switch (n->op) {
    case OP_ADD:
        return mk_num(r, x + y);
    case OP_SUB:
        return mk_num(r, x - y);
    case OP_MUL:
        return mk_num(r, x * y);
    case OP_DIV:
        if (y == 0) {
            return NULL;
        }
        return mk_num(r, is_int(x) && is_int(y) ? trunc(x / y) : x / y);
    case OP_MOD:
        if (y == 0) {
            return NULL;
        }
        return mk_num(r, fmod(x, y));
    default:
        return NULL;
    }
}

static cJSON *render_to_value(struct vtl_run *r, const struct vn *block)
{
    struct emu_buf saved = r->out;
    memset(&r->out, 0, sizeof(r->out));
    emu_buf_puts(&r->out, "");
    int saved_stop = r->stop;
    eval_block(r, block);
    r->stop = saved_stop;
    char *t = emu_buf_take(&r->out);
    r->out = saved;
    cJSON *res = mk_str(r, t);
    free(t);
    return res;
}

static cJSON *eval_expr(struct vtl_run *r, const struct vn *n)
{
    if (n == NULL || ++r->depth > VTL_MAX_DEPTH * 4) {
        return NULL;
    }
    cJSON *res = NULL;
    switch (n->kind) {
    case VX_STR:
        res = mk_str(r, n->text);
        break;
    case VX_ISTR:
        res = render_to_value(r, n->b);
        break;
    case VX_NUM:
        res = mk_num(r, n->num);
        break;
    case VX_TRUE:
        res = mk_bool(r, 1);
        break;
    case VX_FALSE:
        res = mk_bool(r, 0);
        break;
    case VX_NULL:
        res = NULL;
        break;
    case VX_LIST: {
        res = own(r, cJSON_CreateArray());
        for (size_t i = 0; i < n->nkids; i++) {
            cJSON *v = eval_expr(r, n->kids[i]);
            cJSON_AddItemToArray(res, v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
        }
        break;
    }
    case VX_MAP: {
        res = own(r, cJSON_CreateObject());
        for (size_t i = 0; i + 1 < n->nkids; i += 2) {
            const char *k = str_of(r, eval_expr(r, n->kids[i]));
            cJSON *v = eval_expr(r, n->kids[i + 1]);
            own(r, cJSON_DetachItemFromObjectCaseSensitive(res, k));
            cJSON_AddItemToObject(res, k, v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
        }
        break;
    }
    case VX_RANGE: {
        int oka = 0;
        int okb = 0;
        cJSON *a = eval_expr(r, n->a);
        cJSON *b = eval_expr(r, n->b);
        double x = a ? num_of(r, a, &oka) : 0;
        double y = b ? num_of(r, b, &okb) : 0;
        res = own(r, cJSON_CreateArray());
        if (oka && okb && fabs(y - x) <= VTL_MAX_LOOP) {
            long from = (long)x;
            long to = (long)y;
            long step = from <= to ? 1 : -1;
            for (long v = from;; v += step) {
                cJSON_AddItemToArray(res, cJSON_CreateNumber((double)v));
                if (v == to) {
                    break;
                }
            }
        }
        break;
    }
    case VX_BIN:
        res = eval_bin(r, n);
        break;
    case VX_NOT:
        res = mk_bool(r, !truthy(eval_expr(r, n->a)));
        break;
    case VX_NEG: {
        cJSON *a = eval_expr(r, n->a);
        res = cJSON_IsNumber(a) ? mk_num(r, -a->valuedouble) : NULL;
        break;
    }
    case VN_REF: {
        int defined = 0;
        res = eval_ref(r, n, &defined);
        break;
    }
    default:
        res = NULL;
    }
    r->depth--;
    return res;
}

static void eval_set(struct vtl_run *r, const struct vn *n)
{
    const struct vn *t = n->a;
    cJSON *v = eval_expr(r, n->b);
    if (t->nsegs == 0) {
        /* Velocity 1.7 (directive.set.null.allowed=false): a null right
         * side leaves the variable as it was. */
        if (v != NULL) {
            var_set(r, t->name, v);
        }
        return;
    }
    /* $a.b.c = v: evaluate $a.b then set key c */
    struct vn parent = *t;
    parent.nsegs = t->nsegs - 1;
    int defined = 0;
    cJSON *obj = eval_ref(r, &parent, &defined);
    const struct vseg *last = &t->segs[t->nsegs - 1];
    if (cJSON_IsObject(obj) && last->kind == VSEG_PROP) {
        own(r, cJSON_DetachItemFromObjectCaseSensitive(obj, last->name));
        cJSON_AddItemToObject(obj, last->name, v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
    } else if (last->kind == VSEG_INDEX && last->nargs == 1) {
        cJSON *idx = eval_expr(r, last->args[0]);
        if (cJSON_IsObject(obj) && idx != NULL) {
            const char *k = str_of(r, idx);
            own(r, cJSON_DetachItemFromObjectCaseSensitive(obj, k));
            cJSON_AddItemToObject(obj, k, v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
        } else if (cJSON_IsArray(obj) && cJSON_IsNumber(idx)) {
            int ix = (int)idx->valuedouble;
            if (ix >= 0 && ix < cJSON_GetArraySize(obj)) {
                own(r, cJSON_DetachItemFromArray(obj, ix));
                cJSON_InsertItemInArray(obj, ix, v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
            }
        }
    }
}

static void eval_foreach(struct vtl_run *r, const struct vn *n)
{
    cJSON *coll = eval_expr(r, n->a);
    if (coll == NULL) {
        return;
    }
    cJSON *items = NULL;
    if (cJSON_IsArray(coll)) {
        items = coll;
    } else if (cJSON_IsObject(coll)) {
        /* iterating a map walks its values, as Velocity does */
        items = own(r, cJSON_CreateArray());
        const cJSON *it;
        cJSON_ArrayForEach(it, coll)
        {
            cJSON_AddItemToArray(items, cJSON_Duplicate(it, 1));
        }
    } else {
        items = own(r, cJSON_CreateArray());
        cJSON_AddItemToArray(items, cJSON_Duplicate(coll, 1));
    }
    cJSON *saved_fe = var_get(r, "foreach");
    cJSON *saved_vc = var_get(r, "velocityCount");
    cJSON *saved_var = var_get(r, n->name);
    int total = cJSON_GetArraySize(items);
    /* iterate over a snapshot so that .add() in the body cannot loop forever */
    cJSON *snap = own(r, cJSON_Duplicate(items, 1));
    int i = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, snap)
    {
        if (i >= VTL_MAX_LOOP) {
            break;
        }
        cJSON *fe = own(r, cJSON_CreateObject());
        cJSON_AddNumberToObject(fe, "index", i);
        cJSON_AddNumberToObject(fe, "count", i + 1);
        cJSON_AddBoolToObject(fe, "hasNext", i + 1 < total);
        cJSON_AddBoolToObject(fe, "first", i == 0);
        cJSON_AddBoolToObject(fe, "last", i + 1 == total);
        var_set(r, "foreach", fe);
        var_set(r, "velocityCount", mk_num(r, i + 1));
        var_set(r, n->name, it);
        eval_block(r, n->b);
        i++;
        if (r->brk) {
            r->brk = 0;
            break;
        }
        if (r->stop) {
            break;
        }
    }
    if (saved_fe != NULL) {
        var_set(r, "foreach", saved_fe);
    }
    if (saved_vc != NULL) {
        var_set(r, "velocityCount", saved_vc);
    }
    var_set(r, n->name, saved_var);
}

/* Renders a block into r->out. Returns 0. */
static int eval_block(struct vtl_run *r, const struct vn *b)
{
    if (++r->depth > VTL_MAX_DEPTH * 4) {
        r->depth--;
        return 0;
    }
    for (size_t i = 0; i < b->nkids && !r->stop && !r->brk; i++) {
        const struct vn *n = b->kids[i];
        if (r->out.len > VTL_MAX_OUTPUT) {
            r->stop = 1;
            break;
        }
        switch (n->kind) {
        case VN_TEXT:
            emu_buf_append(&r->out, n->text, n->len);
            break;
        case VN_REF: {
            int defined = 0;
            cJSON *v = eval_ref(r, n, &defined);
            if (v == NULL || cJSON_IsNull(v)) {
                if (!n->quiet && !defined) {
                    emu_buf_puts(&r->out, n->raw);
                }
            } else {
                to_string_buf(&r->out, v);
            }
            break;
        }
        case VN_SET:
            eval_set(r, n);
            break;
        case VN_IF: {
            const struct vn *cur = n;
            while (cur != NULL) {
                if (cur->kind == VN_BLOCK) {
                    eval_block(r, cur);
                    break;
                }
                if (truthy(eval_expr(r, cur->a))) {
                    eval_block(r, cur->b);
                    break;
                }
                cur = cur->c;
            }
            break;
        }
        case VN_FOREACH:
            eval_foreach(r, n);
            break;
        case VN_BREAK:
            r->brk = 1;
            break;
        case VN_STOP:
            r->stop = 1;
            break;
        default:
            break;
        }
    }
    r->depth--;
    return 0;
}

char *vtl_render(const char *tmpl, const struct vtl_input *in, char *err, size_t errlen)
{
    static const struct vtl_input empty;
    struct vparser p = {tmpl != NULL ? tmpl : "", 0, tmpl != NULL ? strlen(tmpl) : 0, {0}, 0};
    struct vn *root = vn_new(VN_BLOCK);
    char *out = NULL;
    struct vtl_run r;
    memset(&r, 0, sizeof(r));
    r.in = in != NULL ? in : &empty;
    if (parse_block(&p, root, NULL) < 0) {
        if (err != NULL) {
            snprintf(err, errlen, "%s", p.err);
        }
        goto out;
    }
    if (r.in->context != NULL) {
        var_set(&r, "context", own(&r, cJSON_Duplicate(r.in->context, 1)));
    }
    var_set(&r, "stageVariables",
            r.in->stage_variables != NULL ? own(&r, cJSON_Duplicate(r.in->stage_variables, 1))
                                          : own(&r, cJSON_CreateObject()));
    emu_buf_puts(&r.out, "");
    eval_block(&r, root);
    r.brk = 0;
    out = emu_buf_take(&r.out);
out:
    emu_buf_release(&r.out);
    for (size_t i = 0; i < r.narena; i++) {
        cJSON_Delete(r.arena[i]);
    }
    free(r.arena);
    for (size_t i = 0; i < r.nvars; i++) {
        free(r.vars[i].name);
    }
    free(r.vars);
    vn_free(root);
    return out;
}
