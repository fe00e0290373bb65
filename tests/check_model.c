// SPDX-License-Identifier: MIT
/* Unit tests of the shared names (model.c) and of the diagnostics. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "diag.h"
#include "model.h"

START_TEST(test_pin_mode_names_round_trip)
{
	for (int m = PIN_MODE_NONE; m < PIN_MODE_MAX; m++)
		ck_assert_int_eq(pin_mode_from_str(pin_mode_str(m)), m);
	ck_assert_str_eq(pin_mode_str(PIN_MODE_GLOBAL), "global");
	ck_assert_ptr_null(pin_mode_str(PIN_MODE_UNSET));
	ck_assert_ptr_null(pin_mode_str(PIN_MODE_MAX));
	ck_assert_int_eq(pin_mode_from_str("Global"), -EINVAL);
	ck_assert_int_eq(pin_mode_from_str(""), -EINVAL);
}
END_TEST

START_TEST(test_on_incompatible_names_round_trip)
{
	for (int p = ON_INCOMPATIBLE_FAIL; p < ON_INCOMPATIBLE_MAX; p++)
		ck_assert_int_eq(on_incompatible_from_str(on_incompatible_str(p)), p);
	ck_assert_str_eq(on_incompatible_str(ON_INCOMPATIBLE_MIGRATE), "migrate");
	ck_assert_int_eq(on_incompatible_from_str("drop"), -EINVAL);
}
END_TEST

START_TEST(test_diag_format)
{
	struct diag d = { 0 };
	struct diag_loc loc = { .file = "site.yaml", .line = 12, .column = 7 };
	struct diag_loc file_only = { .file = "dummy.o" };
	char *s;

	ck_assert_int_eq(diag_error(&d, &loc, "map '%s': bad", "counters"), -EINVAL);
	ck_assert_int_eq(diag_error(&d, &file_only, "not an ELF file"), -EINVAL);
	diag_warning(&d, NULL, "careful");
	ck_assert_uint_eq(d.n_msgs, 3);
	ck_assert_uint_eq(d.n_errors, 2);
	s = diag_msg_format(&d.msgs[0]);
	ck_assert_str_eq(s, "site.yaml:12:7: error: map 'counters': bad");
	free(s);
	s = diag_msg_format(&d.msgs[1]);
	ck_assert_str_eq(s, "dummy.o: error: not an ELF file");
	free(s);
	s = diag_msg_format(&d.msgs[2]);
	ck_assert_str_eq(s, "bpf-provision: warning: careful");
	free(s);
	/* Outside bytes are kept as given and escaped once, when printed. */
	diag_error(&d, &(struct diag_loc){ .file = "a\nb.yaml" }, "name '%s'", "site\x01");
	ck_assert_str_eq(d.msgs[3].text, "name 'site\x01'");
	s = diag_msg_format(&d.msgs[3]);
	ck_assert_str_eq(s, "a\\nb.yaml: error: name 'site\\x01'");
	free(s);
	diag_done(&d);
	ck_assert_uint_eq(d.n_msgs, 0);
	diag_done(NULL);
}
END_TEST

Suite *model_suite(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_create("names");

	tcase_add_test(tc, test_pin_mode_names_round_trip);
	tcase_add_test(tc, test_on_incompatible_names_round_trip);
	tcase_add_test(tc, test_diag_format);
	suite_add_tcase(s, tc);
	return s;
}
