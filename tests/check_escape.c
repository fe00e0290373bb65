// SPDX-License-Identifier: MIT
/* Unit tests of escape.c: what is kept, what is escaped, and the UTF-8
 * rules (RFC 3629) at their edges. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "escape.h"

static const struct {
	const char *in, *out;
} cases[] = {
	{ "", "" },
	{ "ns1/globals/x_y", "ns1/globals/x_y" },
	{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x9d", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x9d" },
	{ "a\nb\tc", "a\\nb\\tc" },
	{ "back\\slash", "back\\\\slash" },
	{ "esc\x1b[31m\x7f", "esc\\x1b[31m\\x7f" },
	{ "bad\xff", "bad\\xff" },
	{ "\xc0\xaf", "\\xc0\\xaf" },             /* overlong '/' */
	{ "\xe0\x80\xaf", "\\xe0\\x80\\xaf" },     /* overlong, three bytes */
	{ "\xed\xa0\x80", "\\xed\\xa0\\x80" },     /* a surrogate */
	{ "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80" }, /* past U+10FFFF */
	{ "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf" }, /* U+10FFFF itself */
	{ "\xe2\x82", "\\xe2\\x82" },             /* cut short at the end */
	{ "\xe2\x82z", "\\xe2\\x82z" },           /* cut short before ASCII */
	{ "\x80", "\\x80" },                      /* a lone continuation byte */
};

START_TEST(test_escape)
{
	char *out = escape_text(cases[_i].in);

	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, cases[_i].out);
	ck_assert_int_eq(escape_needed(cases[_i].in), strcmp(cases[_i].in, cases[_i].out) != 0);
	free(out);
}
END_TEST

/* Bytes to hex and back; anything but exactly 2n hex digits is refused. */
START_TEST(test_hex)
{
	const unsigned char b[] = { 0x00, 0x0f, 0xa5, 0xff };
	unsigned char back[4];
	char hex[9];

	escape_hex(b, sizeof(b), hex);
	ck_assert_str_eq(hex, "000fa5ff");
	ck_assert_int_eq(escape_unhex(hex, back, sizeof(back)), 0);
	ck_assert_mem_eq(back, b, sizeof(b));
	ck_assert_int_eq(escape_unhex("000FA5FF", back, sizeof(back)), 0);
	ck_assert_mem_eq(back, b, sizeof(b));
	escape_hex(b, 0, hex);
	ck_assert_str_eq(hex, "");
	ck_assert_int_eq(escape_unhex("000fa5f", back, sizeof(back)), -EINVAL);
	ck_assert_int_eq(escape_unhex("000fa5ff0", back, sizeof(back)), -EINVAL);
	ck_assert_int_eq(escape_unhex("000fa5fg", back, sizeof(back)), -EINVAL);
	ck_assert_int_eq(escape_unhex("+00fa5ff", back, sizeof(back)), -EINVAL);
	ck_assert_int_eq(escape_unhex(" 00fa5ff", back, sizeof(back)), -EINVAL);
	ck_assert_int_eq(escape_unhex(NULL, back, sizeof(back)), -EINVAL);
}
END_TEST

Suite *escape_suite(void)
{
	Suite *s = suite_create("escape");
	TCase *tc = tcase_create("text");

	tcase_add_loop_test(tc, test_escape, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_hex);
	suite_add_tcase(s, tc);
	return s;
}
