// SPDX-License-Identifier: MIT
/* Escaping of untrusted text for output. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "escape.h"

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when s[0] does not
 * start one: overlong forms, surrogates and code points past U+10FFFF are
 * not valid (RFC 3629), as jansson also holds. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* The escape of the character at s in out (room for 5), or "" when s
 * starts a valid printable character; *len is set to its length. */
static const char *escape_at(const unsigned char *s, size_t *len, char out[5])
{
	*len = utf8_len(s);
	if (*len == 0) {
		*len = 1;
		snprintf(out, 5, "\\x%02x", s[0]);
		return out;
	}
	if (s[0] == '\\')
		return "\\\\";
	if (s[0] == '\n')
		return "\\n";
	if (s[0] == '\t')
		return "\\t";
	if (s[0] < 0x20 || s[0] == 0x7f) {
		snprintf(out, 5, "\\x%02x", s[0]);
		return out;
	}
	return "";
}

bool escape_needed(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char buf[5];
	size_t len;

	for (; *p; p += len)
		if (*escape_at(p, &len, buf))
			return true;
	return false;
}

char *escape_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = malloc(strlen(s) * 4 + 1), *o = out, buf[5];
	size_t len;

	if (!out)
		return NULL;
	for (; *p; p += len) {
		const char *e = escape_at(p, &len, buf);

		if (*e) {
			o = stpcpy(o, e);
		} else {
			memcpy(o, p, len);
			o += len;
		}
	}
	*o = '\0';
	return out;
}

json_t *escape_json(const char *s)
{
	_cleanup_free_ char *e = NULL;
	json_t *j = json_string(s);

	if (j || !s)
		return j;
	e = escape_text(s);
	return e ? json_string(e) : NULL;
}

void escape_hex(const void *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *b = bytes;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 0xf];
	}
	out[2 * n] = '\0';
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

int escape_unhex(const char *s, void *out, size_t n)
{
	unsigned char *b = out;

	if (!s || strlen(s) != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		b[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}
