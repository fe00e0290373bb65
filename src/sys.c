// SPDX-License-Identifier: MIT
/* State-changing kernel and filesystem calls, counted so that a test can
 * inject a failure at any step of an apply. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "sys.h"

void sys_init(struct sys *s)
{
	const char *at = getenv("BPF_PROVISION_FAIL_AT");
	const char *err = getenv("BPF_PROVISION_FAIL_ERRNO");

	*s = (struct sys){ .fail_at = at ? strtoul(at, NULL, 10) : 0,
			   .fail_errno = err ? atoi(err) : EIO };
	if (s->fail_errno <= 0)
		s->fail_errno = EIO;
}

int sys_step(struct sys *s)
{
	if (!s)
		return 0;
	s->steps++;
	return s->steps == s->fail_at ? -s->fail_errno : 0;
}

/* Runs a call that returns -1 and sets errno on failure. */
#define SYS_CALL(s, call)                                                                          \
	({                                                                                         \
		int _r = sys_step(s);                                                              \
		if (_r == 0 && (call) < 0)                                                         \
			_r = -errno;                                                               \
		_r;                                                                                \
	})

int sys_obj_get(struct sys *s, const char *path, int *ret_fd)
{
	int fd = -1;
	int r = SYS_CALL(s, fd = bpf_obj_get(path));

	if (r == 0)
		*ret_fd = fd;
	return r;
}

int sys_obj_pin(struct sys *s, int fd, const char *path)
{
	return SYS_CALL(s, bpf_obj_pin(fd, path));
}

int sys_rename(struct sys *s, const char *from, const char *to)
{
	return SYS_CALL(s, rename(from, to));
}

int sys_exchange(struct sys *s, const char *a, const char *b)
{
	return SYS_CALL(s, renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE));
}

int sys_unlink(struct sys *s, const char *path)
{
	return SYS_CALL(s, unlink(path));
}

int sys_mkdir(struct sys *s, const char *path, mode_t mode)
{
	return SYS_CALL(s, mkdir(path, mode));
}

int sys_rmdir(struct sys *s, const char *path)
{
	return SYS_CALL(s, rmdir(path));
}

int sys_chmod(struct sys *s, const char *path, mode_t mode)
{
	return SYS_CALL(s, chmod(path, mode));
}

int sys_chown(struct sys *s, const char *path, uid_t uid, gid_t gid)
{
	return SYS_CALL(s, lchown(path, uid, gid));
}
