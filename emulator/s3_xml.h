/*
 * s3_xml.h - a tiny XML reader for S3 request bodies (expat underneath).
 *
 * s3_xml_parse() turns a body into a tree of elements: local names (the
 * namespace prefix is dropped), concatenated text, children in order.
 * Attributes are ignored (S3 request bodies carry none that matter). The
 * parser caps depth and element count so no body can exhaust memory.
 */
#ifndef S3_XML_H
#define S3_XML_H

#include <stddef.h>

struct s3_xml {
    char *name; /* local name, owned */
    char *text; /* concatenated character data, owned, never NULL */
    size_t text_len;
    struct s3_xml *parent; /* borrowed */
    struct s3_xml *child;  /* first child, owned */
    struct s3_xml *next;   /* next sibling, owned by the parent's chain */
    struct s3_xml *last;   /* last child (append helper), borrowed */
};

/* Parses data[0..len). Returns the root element (caller frees with
 * s3_xml_free), or NULL when the body is not well-formed XML, is empty, or
 * exceeds the caps. */
struct s3_xml *s3_xml_parse(const char *data, size_t len);
void s3_xml_free(struct s3_xml *x);
/* Returns the first child named name (borrowed), or NULL. */
struct s3_xml *s3_xml_child(const struct s3_xml *x, const char *name);
/* Returns the next sibling after x with the same name (borrowed), or NULL. */
struct s3_xml *s3_xml_next(const struct s3_xml *x);
/* Returns the text of the first child named name (borrowed), or NULL. */
const char *s3_xml_text(const struct s3_xml *x, const char *name);

#endif
