// SPDX-License-Identifier: MIT
/* State-changing kernel and filesystem calls, counted so that a test can
 * inject a failure at any step of an apply, and confined to the root. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include <bpf/bpf.h>

#include "cleanup.h"
#include "sys.h"

void sys_init(struct sys *s)
{
	const char *at = getenv("BPF_PROVISION_FAIL_AT");
	const char *err = getenv("BPF_PROVISION_FAIL_ERRNO");
	const char *pause = getenv("BPF_PROVISION_PAUSE_AT");

	*s = (struct sys){ .fail_at = at ? strtoul(at, NULL, 10) : 0,
			   .fail_errno = err ? atoi(err) : EIO,
			   .pause_at = pause ? strtoul(pause, NULL, 10) : 0,
			   .root_fd = -1 };
	if (s->fail_errno <= 0)
		s->fail_errno = EIO;
}

int sys_step(struct sys *s)
{
	if (!s)
		return 0;
	s->steps++;
	if (s->steps == s->pause_at)
		raise(SIGSTOP);
	return s->steps == s->fail_at ? -s->fail_errno : 0;
}

struct sys sys_quiet(const struct sys *s)
{
	return (struct sys){ .root_fd = s->root_fd };
}

int sys_open_root(struct sys *s, const char *root)
{
	/* bpf_obj_pin and bpf_obj_get take a path, not a directory fd (libbpf
	 * 1.1 has no path_fd): they reach a resolved directory as
	 * /proc/self/fd/N/NAME. */
	if (access("/proc/self/fd", X_OK) < 0)
		return -errno;
	s->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return s->root_fd < 0 ? -errno : 0;
}

void sys_close_root(struct sys *s)
{
	if (s->root_fd >= 0)
		close(s->root_fd);
	s->root_fd = -1;
}

/* Opens the directory holding path's last component, which *name is left
 * pointing at.  Returns the fd (the root's own for a top-level name: release
 * with put_dir) or a negative errno. */
static int open_dir(const struct sys *s, const char *path, const char **name)
{
	const char *slash = strrchr(path, '/');
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
					   RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV };
	char dir[PATH_MAX];
	long fd;

	if (s->root_fd < 0)
		return -EBADF;
	if (!slash) {
		*name = path;
		return s->root_fd;
	}
	if ((size_t)(slash - path) >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	*name = slash + 1;
	fd = syscall(SYS_openat2, s->root_fd, dir, &how, sizeof(how));
	return fd < 0 ? -errno : (int)fd;
}

static void put_dir(const struct sys *s, int fd)
{
	if (fd >= 0 && fd != s->root_fd)
		close(fd);
}

/* Runs call with dfd and name set for path; call returns -1 and sets errno
 * on failure. */
#define AT_CALL(s, path, call)                                                                     \
	({                                                                                         \
		const char *name;                                                                  \
		int dfd = open_dir(s, path, &name), _r = dfd < 0 ? dfd : 0;                        \
		if (_r == 0 && (call) < 0)                                                         \
			_r = -errno;                                                               \
		put_dir(s, dfd);                                                                   \
		_r;                                                                                \
	})

int sys_stat(const struct sys *s, const char *path, struct stat *st)
{
	return AT_CALL(s, path, fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW));
}

int sys_obj_get(struct sys *s, const char *path, int *ret_fd)
{
	_cleanup_close_ int pfd = -1;
	char proc[64];
	struct stat st;
	int r = sys_step(s) ?: AT_CALL(s, path, pfd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC));

	if (r < 0)
		return r;
	if (fstat(pfd, &st) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	*ret_fd = bpf_obj_get(proc);
	return *ret_fd < 0 ? -errno : 0;
}

static int pin_at(int dfd, const char *name, int fd)
{
	char proc[PATH_MAX];

	if (snprintf(proc, sizeof(proc), "/proc/self/fd/%d/%s", dfd, name) >= (int)sizeof(proc)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return bpf_obj_pin(fd, proc);
}

int sys_obj_pin(struct sys *s, int fd, const char *path)
{
	return sys_step(s) ?: AT_CALL(s, path, pin_at(dfd, name, fd));
}

static int rename_flags(struct sys *s, const char *from, const char *to, unsigned int flags)
{
	const char *from_name;
	int from_dfd, r = sys_step(s);

	if (r < 0)
		return r;
	from_dfd = open_dir(s, from, &from_name);
	if (from_dfd < 0)
		return from_dfd;
	r = AT_CALL(s, to, renameat2(from_dfd, from_name, dfd, name, flags));
	put_dir(s, from_dfd);
	return r;
}

int sys_rename(struct sys *s, const char *from, const char *to)
{
	return rename_flags(s, from, to, RENAME_NOREPLACE);
}

int sys_exchange(struct sys *s, const char *a, const char *b)
{
	return rename_flags(s, a, b, RENAME_EXCHANGE);
}

int sys_unlink(struct sys *s, const char *path)
{
	return sys_step(s) ?: AT_CALL(s, path, unlinkat(dfd, name, 0));
}

int sys_mkdir(struct sys *s, const char *path, mode_t mode)
{
	return sys_step(s) ?: AT_CALL(s, path, mkdirat(dfd, name, mode));
}

int sys_rmdir(struct sys *s, const char *path)
{
	return sys_step(s) ?: AT_CALL(s, path, unlinkat(dfd, name, AT_REMOVEDIR));
}

int sys_chmod(struct sys *s, const char *path, mode_t mode)
{
	/* glibc does AT_SYMLINK_NOFOLLOW through an O_PATH fd and refuses a
	 * symlink with EOPNOTSUPP. */
	int r = sys_step(s) ?: AT_CALL(s, path, fchmodat(dfd, name, mode, AT_SYMLINK_NOFOLLOW));

	return r == -EOPNOTSUPP ? -ELOOP : r;
}

int sys_chown(struct sys *s, const char *path, uid_t uid, gid_t gid)
{
	struct stat st;
	int r = sys_step(s) ?: sys_stat(s, path, &st);

	if (r == 0 && S_ISLNK(st.st_mode))
		return -ELOOP;
	return r ?: AT_CALL(s, path, fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW));
}
