// SPDX-License-Identifier: MIT
/* The one unit-test runner: every module's suite in one SRunner.  Exit status
 * is the automake convention (0 pass, 1 fail). */
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"

const char *test_builddir(void)
{
	const char *d = getenv("top_builddir");

	return d ? d : ".";
}

const char *test_srcdir(void)
{
	const char *d = getenv("top_srcdir");

	return d ? d : ".";
}

bool test_under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p && strstr(p, "vgpreload");
}

int main(void)
{
	SRunner *sr = srunner_create(model_suite());
	int failed;

	srunner_add_suite(sr, manifest_suite());
	srunner_add_suite(sr, objfile_suite());
	srunner_add_suite(sr, plan_suite());
	srunner_add_suite(sr, observed_suite());
	srunner_add_suite(sr, sys_suite());
	srunner_add_suite(sr, identity_suite());
	srunner_add_suite(sr, escape_suite());
	srunner_add_suite(sr, target_suite());
	srunner_add_suite(sr, contents_suite());
	srunner_add_suite(sr, savedplan_suite());
	srunner_add_suite(sr, export_suite());
	srunner_add_suite(sr, snapshot_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
