/* SPDX-License-Identifier: MIT */
/* escape: text from outside the tool (bpffs names, ELF strings, messages
 * that quote them) made safe to print: one line on a terminal or in a log,
 * and valid UTF-8 for JSON.  Control characters, DEL, backslash and bytes
 * that are not part of valid UTF-8 become \n, \t, \\ or \xHH; all else,
 * other scripts included, is kept. */
#ifndef BPFPROV_ESCAPE_H
#define BPFPROV_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* Whether escape_text would change s. */
bool escape_needed(const char *s);

/* A new string (free it), or NULL when out of memory. */
char *escape_text(const char *s);

/* n bytes as 2n lowercase hex digits and a NUL, into out (tags, digests,
 * keys: bytes for people and JSON). */
void escape_hex(const void *bytes, size_t n, char *out);

/* The reverse: s is exactly 2n hex digits, their n bytes go into out.
 * Returns 0, or -EINVAL for anything else (out then undefined). */
int escape_unhex(const char *s, void *out, size_t n);

/* s as a JSON string: kept as it is where jansson takes it (valid UTF-8),
 * escaped where not, rather than lost.  A new reference; NULL when s is
 * NULL or out of memory. */
json_t *escape_json(const char *s);

#endif
