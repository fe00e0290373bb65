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

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int atomicfile_write(const char *file, const void *buf, size_t len, mode_t mode)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	int r;

	if (asprintf(&tmp, "%s.XXXXXX", file) < 0)
		return -ENOMEM;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	r = write_all(fd, buf, len);
	/* The mode before the sync, so that both reach the disk; the sync
	 * before the rename, so that a crash cannot leave the new name on a
	 * file whose data never got there. */
	if (r == 0 && (fchmod(fd, mode) < 0 || fsync(fd) < 0 || rename(tmp, file) < 0))
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}
