/*
 * s3_xml.c - a tiny expat-based XML tree for S3 request bodies (s3_xml.h).
 */
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "s3_xml.h"

#define S3_XML_MAX_DEPTH 32
#define S3_XML_MAX_NODES 100000
#define S3_XML_MAX_TEXT (1024 * 1024)

struct s3_xml_ctx {
    struct s3_xml *root;
    struct s3_xml *cur;
    int depth;
    size_t nodes;
    int failed;
    XML_Parser parser;
};

static void xml_fail(struct s3_xml_ctx *c)
{
    c->failed = 1;
    XML_StopParser(c->parser, XML_FALSE);
}

static void XMLCALL xml_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct s3_xml_ctx *c = ud;
    (void)attrs;
    if (c->failed) {
        return;
    }
    if (++c->depth > S3_XML_MAX_DEPTH || ++c->nodes > S3_XML_MAX_NODES ||
        (c->root != NULL && c->cur == NULL)) {
        xml_fail(c);
        return;
    }
    const char *colon = strchr(name, ':');
    struct s3_xml *x = calloc(1, sizeof(*x));
    if (x == NULL) {
        xml_fail(c);
        return;
    }
    x->name = strdup(colon != NULL ? colon + 1 : name);
    x->text = calloc(1, 1);
    if (x->name == NULL || x->text == NULL) {
        free(x->name);
        free(x->text);
        free(x);
        xml_fail(c);
        return;
    }
    x->parent = c->cur;
    if (c->cur == NULL) {
        c->root = x;
    } else if (c->cur->last == NULL) {
        c->cur->child = x;
        c->cur->last = x;
    } else {
        c->cur->last->next = x;
        c->cur->last = x;
    }
    c->cur = x;
}

static void XMLCALL xml_end(void *ud, const XML_Char *name)
{
    struct s3_xml_ctx *c = ud;
    (void)name;
    if (c->failed || c->cur == NULL) {
        return;
    }
    c->depth--;
    c->cur = c->cur->parent;
}

static void XMLCALL xml_chars(void *ud, const XML_Char *s, int len)
{
    struct s3_xml_ctx *c = ud;
    if (c->failed || c->cur == NULL || len <= 0) {
        return;
    }
    struct s3_xml *x = c->cur;
    if (x->text_len + (size_t)len > S3_XML_MAX_TEXT) {
        xml_fail(c);
        return;
    }
    char *t = realloc(x->text, x->text_len + (size_t)len + 1);
    if (t == NULL) {
        xml_fail(c);
        return;
    }
    memcpy(t + x->text_len, s, (size_t)len);
    x->text_len += (size_t)len;
    t[x->text_len] = 0;
    x->text = t;
}

/* A DOCTYPE could declare entities (billion laughs): refuse any. */
static void XMLCALL xml_entity_decl(void *ud, const XML_Char *name, int pe, const XML_Char *value,
                                    int vlen, const XML_Char *base, const XML_Char *sysid,
                                    const XML_Char *pubid, const XML_Char *notation)
{
    (void)name, (void)pe, (void)value, (void)vlen, (void)base, (void)sysid, (void)pubid,
        (void)notation;
    xml_fail(ud);
}

struct s3_xml *s3_xml_parse(const char *data, size_t len)
{
    struct s3_xml_ctx c = {0};
    if (data == NULL || len == 0 || len > 64 * 1024 * 1024) {
        return NULL;
    }
    c.parser = XML_ParserCreate("UTF-8");
    if (c.parser == NULL) {
        return NULL;
    }
    XML_SetUserData(c.parser, &c);
    XML_SetElementHandler(c.parser, xml_start, xml_end);
    XML_SetCharacterDataHandler(c.parser, xml_chars);
    XML_SetEntityDeclHandler(c.parser, xml_entity_decl);
    if (XML_Parse(c.parser, data, (int)len, XML_TRUE) != XML_STATUS_OK || c.failed ||
        c.root == NULL) {
        s3_xml_free(c.root);
        c.root = NULL;
    }
    XML_ParserFree(c.parser);
    return c.root;
}

void s3_xml_free(struct s3_xml *x)
{
    while (x != NULL) {
        struct s3_xml *next = x->next;
        s3_xml_free(x->child);
        free(x->name);
        free(x->text);
        free(x);
        x = next;
    }
}

struct s3_xml *s3_xml_child(const struct s3_xml *x, const char *name)
{
    if (x == NULL) {
        return NULL;
    }
    for (struct s3_xml *c = x->child; c != NULL; c = c->next) {
        if (strcmp(c->name, name) == 0) {
            return c;
        }
    }
    return NULL;
}

struct s3_xml *s3_xml_next(const struct s3_xml *x)
{
    for (struct s3_xml *c = x->next; c != NULL; c = c->next) {
        if (strcmp(c->name, x->name) == 0) {
            return c;
        }
    }
    return NULL;
}

const char *s3_xml_text(const struct s3_xml *x, const char *name)
{
    struct s3_xml *c = s3_xml_child(x, name);
    return c != NULL ? c->text : NULL;
}
