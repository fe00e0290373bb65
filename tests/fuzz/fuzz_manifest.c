/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: one manifest from memory (src/manifest.c), and when it
 * parses, the manifest-only resolution of desired.c (no object is read) and
 * the validate report, as text and JSON, to /dev/null.  Built by `make fuzz`
 * (tests/fuzz/fuzz.am). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "desired.h"
#include "diag.h"
#include "manifest.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag d = { 0 };
	struct manifest *m = NULL;

	if (!devnull) {
		devnull = fopen("/dev/null", "w");
		if (!devnull)
			abort();
	}
	/* A directory-less name: objects resolve against ".", never read. */
	if (manifest_parse_buffer("fuzz.yaml", data, size, &d, &m) == 0) {
		struct manifest *items[1] = { m };
		struct manifest_set set = { .items = items, .n = 1 };
		struct desired des = { 0 };

		if (desired_build(&set, false, &d, &des) == 0) {
			report_validate(&set, &des, false, devnull);
			report_validate(&set, &des, true, devnull);
		}
		desired_done(&des);
		manifest_free(m);
	}
	for (size_t i = 0; i < d.n_msgs; i++)
		free(diag_msg_format(&d.msgs[i]));
	diag_done(&d);
	return 0;
}
