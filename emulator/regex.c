/*
 * regex.c - Java (java.util.regex) regular expressions on PCRE2: whole-string
 * match (String.matches, Pattern.matches) and String.replaceAll with Java's
 * replacement syntax. PCRE2's syntax is close to Java's (lookaround, lazy and
 * possessive quantifiers, atomic groups, (?i), \Q..\E, named groups); the
 * options below give Java's semantics for '.', '$' and line terminators. A
 * match limit keeps a catastrophic pattern from holding a request thread.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "emu.h"
#include "emu_regex.h"

/* Backtracking steps allowed per match attempt (PCRE2's default is 10M). */
#define RE_MATCH_LIMIT 1000000
/* Nested backtracking depth and heap per match (KiB). */
#define RE_DEPTH_LIMIT 10000
#define RE_HEAP_LIMIT (8 * 1024)

/* Compiles pattern with Java's defaults: UTF-8, '.' and '$' honour every
 * Unicode line terminator, invalid UTF-8 in subjects is tolerated. Returns
 * the code (caller frees with pcre2_code_free) or NULL when it is invalid. */
static pcre2_code *re_compile(const char *pattern, uint32_t extra)
{
    pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
    if (cc == NULL) {
        abort();
    }
    pcre2_set_newline(cc, PCRE2_NEWLINE_ANY);
    int errcode = 0;
    PCRE2_SIZE erroff = 0;
    pcre2_code *code =
        pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                      PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | extra, &errcode, &erroff, cc);
    pcre2_compile_context_free(cc);
    return code;
}

/* A match context with the limits. Caller frees. */
static pcre2_match_context *re_limits(void)
{
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    if (mc == NULL) {
        abort();
    }
    pcre2_set_match_limit(mc, RE_MATCH_LIMIT);
    pcre2_set_depth_limit(mc, RE_DEPTH_LIMIT);
    pcre2_set_heap_limit(mc, RE_HEAP_LIMIT);
    return mc;
}

int emu_regex_match_whole(const char *pattern, const char *s)
{
    int rc = -1;
    pcre2_match_context *mc = NULL;
    pcre2_match_data *md = NULL;
    pcre2_code *code = re_compile(pattern, PCRE2_ANCHORED | PCRE2_ENDANCHORED);
    if (code == NULL) {
        goto out;
    }
    mc = re_limits();
    md = pcre2_match_data_create_from_pattern(code, NULL);
    if (md == NULL) {
        abort();
    }
    int m = pcre2_match(code, (PCRE2_SPTR)s, strlen(s), 0, 0, md, mc);
    if (m < 0 && m != PCRE2_ERROR_NOMATCH) {
        emu_warn("regex: matching /%.200s/ stopped (PCRE2 error %d): no match", pattern, m);
    }
    rc = m >= 0;
out:
    pcre2_match_data_free(md);
    pcre2_match_context_free(mc);
    pcre2_code_free(code);
    return rc;
}

/* Appends Java's expansion of rep for the match in ov to b. Returns 0, or -1
 * when rep is invalid (as Java's appendReplacement would throw). */
static int re_expand(struct emu_buf *b, const pcre2_code *code, uint32_t ngroups, const char *s,
                     const PCRE2_SIZE *ov, const char *rep)
{
    for (const char *p = rep; *p; p++) {
        if (*p == '\\') {
            if (p[1] == 0) {
                return -1;
            }
            p++;
            emu_buf_append(b, p, 1);
            continue;
        }
        if (*p != '$') {
            emu_buf_append(b, p, 1);
            continue;
        }
        long g;
        if (p[1] == '{') {
            const char *e = strchr(p + 2, '}');
            if (e == NULL || e == p + 2) {
                return -1;
            }
            char name[128];
            size_t nl = (size_t)(e - (p + 2));
            if (nl >= sizeof(name)) {
                return -1;
            }
            memcpy(name, p + 2, nl);
            name[nl] = 0;
            int n = pcre2_substring_number_from_name(code, (PCRE2_SPTR)name);
            if (n < 0) {
                return -1;
            }
            g = n;
            p = e;
        } else if (p[1] >= '0' && p[1] <= '9') {
            /* Java: the first digit always, further digits while the number
             * stays a group of the pattern. */
            p++;
            g = *p - '0';
            while (p[1] >= '0' && p[1] <= '9') {
                long ng = g * 10 + (p[1] - '0');
                if (ng > (long)ngroups) {
                    break;
                }
                g = ng;
                p++;
            }
            if (g > (long)ngroups) {
                return -1;
            }
        } else {
            return -1;
        }
        PCRE2_SIZE so = ov[2 * g];
        PCRE2_SIZE eo = ov[2 * g + 1];
        if (so != PCRE2_UNSET && eo >= so) {
            emu_buf_append(b, s + so, eo - so);
        }
    }
    return 0;
}

char *emu_regex_replace_all(const char *pattern, const char *s, const char *rep)
{
    char *res = NULL;
    struct emu_buf b = {0};
    pcre2_match_context *mc = NULL;
    pcre2_match_data *md = NULL;
    pcre2_code *code = re_compile(pattern, 0);
    if (code == NULL) {
        goto out;
    }
    uint32_t ngroups = 0;
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &ngroups);
    mc = re_limits();
    md = pcre2_match_data_create_from_pattern(code, NULL);
    if (md == NULL) {
        abort();
    }
    emu_buf_puts(&b, "");
    size_t len = strlen(s);
    size_t last = 0; /* end of the text already copied */
    size_t from = 0; /* where the next search starts */
    while (from <= len) {
        int m = pcre2_match(code, (PCRE2_SPTR)s, len, from, 0, md, mc);
        if (m < 0) {
            if (m != PCRE2_ERROR_NOMATCH) {
                emu_warn("regex: replaceAll /%.200s/ stopped (PCRE2 error %d)", pattern, m);
            }
            break;
        }
        const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        if (ov[0] < last || ov[1] < ov[0]) {
            break; /* \K games: stop rather than go backwards */
        }
        emu_buf_append(&b, s + last, ov[0] - last);
        if (re_expand(&b, code, ngroups, s, ov, rep) != 0) {
            goto out;
        }
        last = ov[1];
        from = ov[1];
        if (ov[1] == ov[0]) {
            /* Java's find(): after an empty match the next search starts one
             * character on. */
            if (from >= len) {
                break;
            }
            from++;
            while (from < len && ((unsigned char)s[from] & 0xC0) == 0x80) {
                from++;
            }
        }
    }
    emu_buf_append(&b, s + last, len - last);
    res = emu_buf_take(&b);
out:
    emu_buf_release(&b);
    pcre2_match_data_free(md);
    pcre2_match_context_free(mc);
    pcre2_code_free(code);
    return res;
}
