/*
 * emu_regex.h - Java (java.util.regex) patterns on PCRE2, for the places AWS
 * evaluates a Java regex: API Gateway selectionPattern and
 * identityValidationExpression, VTL String.matches/replaceAll, CloudFormation
 * AllowedPattern. (Not named regex.h: it would shadow <regex.h>.)
 */
#ifndef EMU_REGEX_H
#define EMU_REGEX_H

/* Whole-string match of s against the Java regex pattern, as Java's
 * String.matches(). Returns 1 on a match, 0 on no match (also when the match
 * limit is hit: a runaway pattern answers "no match" promptly), -1 when the
 * pattern does not compile. Borrows both strings. */
int emu_regex_match_whole(const char *pattern, const char *s);

/* Java's s.replaceAll(pattern, rep): every match replaced by rep, where $n
 * and ${name} insert a group and \x is a literal x. Returns a new string
 * (caller frees), or NULL when the pattern does not compile or rep is
 * invalid (trailing \, $ without a group, a group the pattern lacks).
 * Matching stops (the rest is kept) if the match limit is hit. */
char *emu_regex_replace_all(const char *pattern, const char *s, const char *rep);

#endif
