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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cleanup.h"
#include "kind.h"
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

bool sys_injected(const struct sys *s)
{
	return s && s->fail_at && s->steps == s->fail_at;
}

/* Directories are kept open once resolved: every later step there, and its
 * undo, acts in the directory first found at the path, even if it has since
 * been renamed and a symlink put in its place; sys_check_dirs tells whether
 * that happened.  A bounded number: past it the oldest is closed and
 * resolved again on next use.  The bound is SYS_DIRS_MAX, or a quarter of
 * the file descriptor limit when that is lower (but at least SYS_DIRS_MIN):
 * the maps and programs being loaded need descriptors too. */
#define SYS_DIRS_MAX 256
#define SYS_DIRS_MIN 16

struct sys_dirs {
	size_t n, cap, last, victim;
	struct {
		char *path;
		int fd;
		dev_t dev;
		ino_t ino;
	} e[];
};

static size_t dirs_cap(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur / 4 >= SYS_DIRS_MAX)
		return SYS_DIRS_MAX;
	return rl.rlim_cur / 4 > SYS_DIRS_MIN ? rl.rlim_cur / 4 : SYS_DIRS_MIN;
}

struct sys sys_quiet(const struct sys *s)
{
	return (struct sys){ .root_fd = s->root_fd, .dirs = s->dirs };
}

int sys_open_root(struct sys *s, const char *root)
{
	/* bpf_obj_pin and bpf_obj_get take a path, not a directory fd (libbpf
	 * 1.1 has no path_fd): they reach a resolved directory as
	 * /proc/self/fd/N/NAME. */
	if (access("/proc/self/fd", X_OK) < 0)
		return -errno;
	size_t cap = dirs_cap();

	s->dirs = calloc(1, sizeof(*s->dirs) + cap * sizeof(s->dirs->e[0]));
	if (!s->dirs)
		return -ENOMEM;
	s->dirs->cap = cap;
	s->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->root_fd < 0) {
		int r = -errno;

		sys_close_root(s);
		return r;
	}
	return 0;
}

void sys_close_root(struct sys *s)
{
	for (size_t i = 0; s->dirs && i < s->dirs->n; i++) {
		close(s->dirs->e[i].fd);
		free(s->dirs->e[i].path);
	}
	free(s->dirs);
	s->dirs = NULL;
	if (s->root_fd >= 0)
		close(s->root_fd);
	s->root_fd = -1;
}

static ssize_t find_dir(const struct sys_dirs *c, const char *dir, size_t len)
{
	/* Steps come in runs in one directory: start from the last one used. */
	for (size_t i = 0; i < c->n; i++) {
		size_t k = (c->last + i) % c->n;

		if (strncmp(c->e[k].path, dir, len) == 0 && c->e[k].path[len] == '\0')
			return (ssize_t)k;
	}
	return -1;
}

/* What openat2 does below, for when it is missing (Linux before 5.6,
 * valgrind, some seccomp filters): one component at a time. */
static int walk_dir(const struct sys *s, const char *path)
{
	_cleanup_free_ char *copy = strdup(path);
	_cleanup_close_ int fd = -1;
	struct stat root, st;
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	if (fstat(s->root_fd, &root) < 0)
		return -errno;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int next;

		if (strcmp(c, "..") == 0 || strcmp(c, ".") == 0)
			return -EXDEV;
		next = openat(fd >= 0 ? fd : s->root_fd, c,
			      O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			int err = errno;

			if (fstatat(fd >= 0 ? fd : s->root_fd, c, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode))
				err = ELOOP;
			return -err;
		}
		if (fd >= 0)
			close(fd);
		fd = next;
		if (fstat(fd, &st) < 0)
			return -errno;
		if (st.st_dev != root.st_dev)
			return -EXDEV;
	}
	return fd >= 0 ? TAKE_FD(fd) : -EINVAL;
}

static int resolve_dir(const struct sys *s, const char *path)
{
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
					   RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV };
	long fd = syscall(SYS_openat2, s->root_fd, path, &how, sizeof(how));

	if (fd < 0 && errno == ENOSYS)
		return walk_dir(s, path);
	return fd < 0 ? -errno : (int)fd;
}

/* Closes kept directory k; the last one takes its place. */
static void drop_dir(struct sys_dirs *c, size_t k)
{
	close(c->e[k].fd);
	free(c->e[k].path);
	c->e[k] = c->e[--c->n];
	if (c->last == c->n)
		c->last = k;
}

/* Out of file descriptors: a directory kept open is given back (it is
 * resolved again on next use), not the one just used, which a rename may
 * hold while it asks for another.  false when there is none to give. */
static bool shed_dir(struct sys_dirs *c)
{
	size_t k;

	if (c->n == 0 || (c->n == 1 && c->last == 0))
		return false;
	k = c->last == 0 ? 1 : 0;
	drop_dir(c, k);
	return true;
}

/* The directory dir (len bytes of it): kept open, or resolved beneath the
 * root, through no symlink and across no mount. */
static int dir_fd(const struct sys *s, const char *dir, size_t len)
{
	struct sys_dirs *c = s->dirs;
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	ssize_t hit = find_dir(c, dir, len);
	struct stat st;
	size_t k;

	if (hit >= 0) {
		c->last = (size_t)hit;
		return c->e[hit].fd;
	}
	path = strndup(dir, len);
	if (!path)
		return -ENOMEM;
	do
		fd = resolve_dir(s, path);
	while ((fd == -EMFILE || fd == -ENFILE) && shed_dir(c));
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (c->n < c->cap) {
		k = c->n++;
	} else {
		/* Not the one just used: a rename may hold it while asking for this one. */
		k = c->victim++ % c->cap;
		if (k == c->last)
			k = c->victim++ % c->cap;
		close(c->e[k].fd);
		free(c->e[k].path);
	}
	c->e[k].path = TAKE_PTR(path);
	c->e[k].dev = st.st_dev;
	c->e[k].ino = st.st_ino;
	c->e[k].fd = TAKE_FD(fd);
	c->last = k;
	return c->e[k].fd;
}

int sys_check_dirs(const struct sys *s, const char **ret_path)
{
	for (size_t i = 0; s->dirs && i < s->dirs->n; i++) {
		_cleanup_close_ int fd = resolve_dir(s, s->dirs->e[i].path);
		struct stat st;
		int r = fd < 0 ? fd : fstat(fd, &st) < 0 ? -errno : 0;

		if (r == 0 && (st.st_dev != s->dirs->e[i].dev || st.st_ino != s->dirs->e[i].ino))
			r = -ESTALE;
		if (r < 0) {
			*ret_path = s->dirs->e[i].path;
			return r;
		}
	}
	return 0;
}

/* A directory removed: a new one of the same name must be resolved anew. */
static void forget_dir(const struct sys *s, const char *path)
{
	struct sys_dirs *c = s->dirs;
	ssize_t k = find_dir(c, path, strlen(path));

	if (k >= 0)
		drop_dir(c, (size_t)k);
}

/* The directory holding path's last component, which *name is left
 * pointing at.  Returns its fd, owned by s, or a negative errno. */
static int open_dir(const struct sys *s, const char *path, const char **name)
{
	const char *slash = strrchr(path, '/');

	if (s->root_fd < 0 || !s->dirs)
		return -EBADF;
	if (!slash) {
		*name = path;
		return s->root_fd;
	}
	if ((size_t)(slash - path) >= PATH_MAX)
		return -ENAMETOOLONG;
	*name = slash + 1;
	return dir_fd(s, path, (size_t)(slash - path));
}

/* Runs call with dfd and name set for path; call returns -1 and sets errno
 * on failure. */
#define AT_CALL(s, path, call)                                                                     \
	({                                                                                         \
		const char *name;                                                                  \
		int dfd = open_dir(s, path, &name), _r = dfd < 0 ? dfd : 0;                        \
		if (_r == 0 && (call) < 0)                                                         \
			_r = -errno;                                                               \
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

/* BPF_OBJ_PIN's directory fd (kernel 6.5), newer than these headers. */
#define SYS_BPF_F_PATH_FD (1U << 14)

/* Pins fd as name in the directory dfd.  Since 6.5 the kernel takes the
 * directory's fd (BPF_F_PATH_FD); an older one refuses the flag (EINVAL)
 * and is given the path /proc/self/fd/N/NAME, which walks /proc for every
 * pin.  A pin refused for another reason fails the same way both times. */
static int pin_at(int dfd, const char *name, int fd)
{
	struct {
		__aligned_u64 pathname;
		__u32 bpf_fd;
		__u32 file_flags;
		__s32 path_fd;
	} attr;
	char proc[PATH_MAX];

	memset(&attr, 0, sizeof(attr));
	attr.pathname = (uintptr_t)name;
	attr.bpf_fd = (__u32)fd;
	attr.file_flags = SYS_BPF_F_PATH_FD;
	attr.path_fd = dfd;
	if (syscall(__NR_bpf, BPF_OBJ_PIN, &attr, sizeof(attr)) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
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
	return AT_CALL(s, to, renameat2(from_dfd, from_name, dfd, name, flags));
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
	int r = sys_step(s) ?: AT_CALL(s, path, unlinkat(dfd, name, AT_REMOVEDIR));

	if (r == 0)
		forget_dir(s, path);
	return r;
}

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452 /* Linux 6.6, the same number on every architecture */
#endif

/* fchmodat2 takes AT_SYMLINK_NOFOLLOW in one call; before Linux 6.6 glibc
 * does it in four (through an O_PATH fd).  Both refuse a symlink with
 * EOPNOTSUPP. */
static int chmod_at(int dfd, const char *name, mode_t mode)
{
	if (syscall(SYS_fchmodat2, dfd, name, mode, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	return errno == ENOSYS ? fchmodat(dfd, name, mode, AT_SYMLINK_NOFOLLOW) : -1;
}

int sys_chmod(struct sys *s, const char *path, mode_t mode)
{
	int r = sys_step(s) ?: AT_CALL(s, path, chmod_at(dfd, name, mode));

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

int sys_map_update(struct sys *s, int map_fd, const void *key, const void *value,
		   unsigned long long flags)
{
	int r = sys_step(s);

	if (r == 0 && bpf_map_update_elem(map_fd, key, value, flags) < 0)
		r = -errno;
	return r;
}

int sys_map_delete(struct sys *s, int map_fd, const void *key)
{
	int r = sys_step(s);

	if (r == 0 && bpf_map_delete_elem(map_fd, key) < 0 && errno != ENOENT)
		r = -errno;
	return r;
}

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* the kernel's own: a map type without batch ops */
#endif

bool sys_batch_unsupported(int err)
{
	return err == -EINVAL || err == -ENOTSUPP || err == -EOPNOTSUPP;
}

size_t sys_map_value_bytes(uint32_t type, uint32_t value_size)
{
	switch (type) {
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
	case BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE:
		return ((value_size + 7) & ~7u) * (size_t)libbpf_num_possible_cpus();
	default:
		return value_size;
	}
}

static int update_each(int map_fd, const char *keys, const char *values, uint32_t *count,
		       unsigned long long flags)
{
	struct bpf_map_info info = { 0 };
	uint32_t n = *count, len = sizeof(info);
	size_t vlen;

	*count = 0;
	if (bpf_obj_get_info_by_fd(map_fd, &info, &len) < 0)
		return -errno;
	vlen = sys_map_value_bytes(info.type, info.value_size);
	for (; *count < n; (*count)++)
		if (bpf_map_update_elem(map_fd, keys + (size_t)*count * info.key_size,
					values + (size_t)*count * vlen, flags) < 0)
			return -errno;
	return 0;
}

int sys_map_update_batch(struct sys *s, int map_fd, const void *keys, const void *values,
			 uint32_t *count, unsigned long long flags)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = flags);
	uint32_t n = *count;
	int r = sys_step(s);

	if (r < 0 || n == 0) {
		*count = 0;
		return r;
	}
	if (bpf_map_update_batch(map_fd, keys, values, count, &opts) == 0)
		return 0;
	r = -errno;
	/* The kernel sets count to the entries it wrote once it starts; left
	 * as it was, it wrote none: the command or the map's batch ops may be
	 * missing (EINVAL before Linux 5.6, ENOTSUPP for the map type). */
	if (*count != n)
		return r;
	if (sys_batch_unsupported(r))
		return update_each(map_fd, keys, values, count, flags);
	*count = 0;
	return r;
}

int sys_map_create(struct sys *s, enum bpf_map_type type, const char *name, uint32_t key_size,
		   uint32_t value_size, uint32_t max_entries,
		   const struct bpf_map_create_opts *opts)
{
	int fd, r = sys_step(s);

	if (r < 0)
		return r;
	fd = bpf_map_create(type, name, key_size, value_size, max_entries, opts);
	return fd < 0 ? -errno : fd;
}

int sys_prog_load(struct sys *s, enum bpf_prog_type type, const char *name, const char *license,
		  const struct bpf_insn *insns, size_t n_insns, struct bpf_prog_load_opts *opts)
{
	int fd, r = sys_step(s);

	if (r < 0)
		return r;
	fd = bpf_prog_load(type, name, license, insns, n_insns, opts);
	return fd < 0 ? -errno : fd;
}

int sys_link_create(struct sys *s, int prog_fd, int target, enum bpf_attach_type type,
		    uint32_t flags)
{
	/* libbpf 1.1.2 passes an attach type it does not know (tcx, 46 and 47)
	 * through to the kernel as it is, with the flags of the opts: only
	 * the types it knows take opts of their own. */
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = flags);
	int fd, r = sys_step(s);

	if (r < 0)
		return r;
	fd = bpf_link_create(prog_fd, target, type, &opts);
	return fd < 0 ? -errno : fd;
}

int sys_raw_tp_open(struct sys *s, const char *name, int prog_fd)
{
	int fd, r = sys_step(s);

	if (r < 0)
		return r;
	fd = bpf_raw_tracepoint_open(name, prog_fd);
	return fd < 0 ? -errno : fd;
}

int sys_link_update(struct sys *s, int link_fd, int new_prog_fd, int old_prog_fd)
{
	/* Without an old program to expect, the swap is unconditional. */
	LIBBPF_OPTS(bpf_link_update_opts, opts, .flags = old_prog_fd >= 0 ? BPF_F_REPLACE : 0,
		    .old_prog_fd = old_prog_fd >= 0 ? (uint32_t)old_prog_fd : 0);
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	int r = sys_step(s);

	if (r < 0 || bpf_link_update(link_fd, new_prog_fd, &opts) == 0)
		return r;
	r = -errno;
	/* The kernel says EINVAL for a link type without BPF_LINK_UPDATE too
	 * (tracing, perf event): told apart from a program that does not fit. */
	memset(&info, 0, sizeof(info));
	if (r == -EINVAL && bpf_obj_get_info_by_fd(link_fd, &info, &len) == 0 &&
	    !kind_link_updatable(info.type))
		r = -EOPNOTSUPP;
	return r;
}

int sys_object_load(struct sys *s, struct bpf_object *obj)
{
	/* libbpf 1.x returns the negative errno itself. */
	return sys_step(s) ?: bpf_object__load(obj);
}
