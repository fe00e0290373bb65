/* SPDX-License-Identifier: MIT */
/* One Check suite per module; tests/check_main.c runs them all. */
#ifndef BPFPROV_CHECK_SUITES_H
#define BPFPROV_CHECK_SUITES_H

#include <stdbool.h>

#include <check.h>

Suite *model_suite(void);
Suite *manifest_suite(void);
Suite *objfile_suite(void);
Suite *plan_suite(void);
Suite *observed_suite(void);
Suite *sys_suite(void);
Suite *identity_suite(void);
Suite *escape_suite(void);
Suite *target_suite(void);
Suite *contents_suite(void);
Suite *savedplan_suite(void);
Suite *export_suite(void);
Suite *snapshot_suite(void);

/* Directory of the built test objects and of the test sources, from the
 * environment the test harness sets (tests/lib.sh, Makefile.am). */
const char *test_builddir(void);
const char *test_srcdir(void);

/* Whether valgrind runs the tests (it preloads its vgpreload libraries):
 * libbpf 1.1's first bpf_prog_load, bpf_map_create with a name or
 * bpf_object__load probes the kernel with an attr it clears only in part,
 * which valgrind reports, so tests that make them skip there. */
bool test_under_valgrind(void);

#endif
