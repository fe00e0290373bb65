// SPDX-License-Identifier: MIT
/* Input files, opened only when they are regular files: the first thing
 * the manifest and object stages do with a path. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "input.h"
#include "prefault.h"

static const char *file_type_str(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a file";
}

static int not_regular(struct diag *d, const struct diag_loc *loc, mode_t mode)
{
	return diag_error(d, loc, "not a regular file (%s)", file_type_str(mode));
}

int input_open(const char *path, struct diag *d, const struct diag_loc *loc, const char *failed,
	       struct stat *ret_st)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int err;

	if (stat(path, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode))
		return not_regular(d, loc, st.st_mode);
	/* O_NONBLOCK: should a FIFO have taken the file's place since the
	 * stat, the open returns at once instead of waiting for a writer.  On a
	 * regular file it changes nothing, so it can stay set for the reads. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode))
		return not_regular(d, loc, st.st_mode);
	*ret_st = st;
	return TAKE_FD(fd);
fail:
	err = -errno;
	diag_error(d, loc, "%s: %s", failed, DIAG_STRERROR(-err));
	return err;
}

int input_read(int fd, size_t size_hint, size_t max, char **ret_buf, size_t *ret_len)
{
	/* Room for one byte past max, to tell a file of max bytes from a
	 * longer one, and for the NUL; files that stat as empty (/proc) may
	 * still hold something. */
	size_t want = size_hint < 4096 ? 4096 : size_hint;
	size_t cap = (want < max ? want : max) + 2, len = 0;
	char *buf = malloc(cap), *nbuf;

	if (!buf)
		return -ENOMEM;
	prefault(buf, cap);
	for (;;) {
		ssize_t n;

		if (len + 1 == cap) {
			if (len > max)
				break;
			cap = cap > (max + 2) / 2 ? max + 2 : 2 * cap;
			nbuf = realloc(buf, cap);
			if (!nbuf) {
				free(buf);
				return -ENOMEM;
			}
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;

			free(buf);
			return err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		free(buf);
		return -EFBIG;
	}
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

