// SPDX-License-Identifier: MIT
/* Atomic file replacement for the ledger (ledger.c) and the metrics
 * (report.c): a temporary file, fsync, rename. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cleanup.h"

int atomicfile_write_with(const char *file, mode_t mode, int (*fill)(FILE *f, void *ctx),
			  void *ctx)
{
	_cleanup_free_ char *tmp = NULL;
	FILE *f;
	int fd, r;

	if (asprintf(&tmp, "%s.XXXXXX", file) < 0)
		return -ENOMEM;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
		unlink(tmp);
		return r;
	}
	r = fill(f, ctx);
	if (r == 0 && fflush(f) == EOF)
		r = -errno;
	/* The mode before the sync, so that both reach the disk; the sync
	 * before the rename, so that a crash cannot leave the new name on a
	 * file whose data never got there. */
	if (r == 0 && (fchmod(fd, mode) < 0 || fsync(fd) < 0))
		r = -errno;
	if (fclose(f) == EOF && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, file) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

struct buffer {
	const void *buf;
	size_t len;
};

static int write_buffer(FILE *f, void *ctx)
{
	const struct buffer *b = ctx;

	return b->len && fwrite(b->buf, b->len, 1, f) != 1 ? -EIO : 0;
}

int atomicfile_write(const char *file, const void *buf, size_t len, mode_t mode)
{
	struct buffer b = { buf, len };

	return atomicfile_write_with(file, mode, write_buffer, &b);
}
