/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: one ELF object (src/objfile.c: libelf for the legacy
 * layouts, libbpf for BTF) read from a memfd, and when it opens, every lookup
 * by name and section and the inspect report, as text and JSON, to
 * /dev/null.  Built by `make fuzz` (tests/fuzz/fuzz.am). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "diag.h"
#include "objfile.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;
static int memfd = -1;
static char memfd_path[64];

static void write_all(int fd, const uint8_t *data, size_t size)
{
	while (size > 0) {
		ssize_t n = write(fd, data, size);

		if (n <= 0)
			abort();
		data += n;
		size -= (size_t)n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag d = { 0 };
	struct objfile *o = NULL;

	if (memfd < 0) {
		devnull = fopen("/dev/null", "w");
		memfd = memfd_create("fuzz-objfile", MFD_CLOEXEC);
		if (!devnull || memfd < 0)
			abort();
		snprintf(memfd_path, sizeof(memfd_path), "/proc/self/fd/%d", memfd);
	}
	/* One memfd for the whole run, rewritten for each input. */
	if (ftruncate(memfd, 0) < 0 || lseek(memfd, 0, SEEK_SET) < 0)
		abort();
	write_all(memfd, data, size);

	if (objfile_open(memfd_path, &d, &o) == 0) {
		for (size_t i = 0; i < o->n_maps; i++) {
			if (objfile_map_by_name(o, o->maps[i].name) == NULL)
				abort();
			objfile_map_by_section(o, o->maps[i].section);
		}
		for (size_t i = 0; i < o->n_progs; i++) {
			if (objfile_prog_by_section(o, o->progs[i].section) == NULL)
				abort();
			objfile_prog_by_name(o, o->progs[i].name);
		}
		objfile_layout_str(o->layout);
		report_inspect(o, devnull, false);
		report_inspect(o, devnull, true);
		objfile_free(o);
	}
	for (size_t i = 0; i < d.n_msgs; i++)
		free(diag_msg_format(&d.msgs[i]));
	diag_done(&d);
	return 0;
}
