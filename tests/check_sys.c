// SPDX-License-Identifier: MIT
/* Unit tests of sys.c's confinement on a plain temporary directory (no
 * bpffs needed for directories, renames and modes): no call goes through a
 * symlink, at the last component or before it, nor out of the root; a
 * directory renamed after first use is still the one acted in, and the
 * change is found; a rename never replaces; fault injection counts steps and the quiet copy
 * injects nothing.  And the kernel objects made through it: a failing step
 * returns the injected errno and makes nothing, the next one goes through. */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/if_link.h>

#include <bpf/libbpf.h>

#include "check_suites.h"
#include "compat.h"
#include "sys.h"

static struct {
	char base[64];
	char root[96];
	char outside[96];
} fx;

static char paths[2][256];
static int next_path;

static void setup(void)
{
	strcpy(fx.base, "/tmp/check_sys.XXXXXX");
	ck_assert_msg(mkdtemp(fx.base), "mkdtemp: %s", strerror(errno));
	snprintf(fx.root, sizeof(fx.root), "%s/root", fx.base);
	snprintf(fx.outside, sizeof(fx.outside), "%s/outside", fx.base);
	ck_assert_int_eq(mkdir(fx.root, 0755), 0);
	ck_assert_int_eq(mkdir(fx.outside, 0755), 0);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx.base);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", fx.base);
}

/* An absolute path under the base, for checking from outside sys.c; two
 * may be used in one call. */
static const char *at(const char *rel)
{
	char *p = paths[next_path++ % 2];

	snprintf(p, sizeof(paths[0]), "%s/%s", fx.base, rel);
	return p;
}

static void touch(const char *rel, mode_t mode)
{
	int fd = open(at(rel), O_CREAT | O_WRONLY | O_EXCL, mode);

	ck_assert_msg(fd >= 0, "create %s: %s", rel, strerror(errno));
	close(fd);
	ck_assert_int_eq(chmod(at(rel), mode), 0);
}

static struct sys opened(void)
{
	struct sys s = { .root_fd = -1 };

	ck_assert_int_eq(sys_open_root(&s, fx.root), 0);
	return s;
}

static mode_t mode_of(const char *rel)
{
	struct stat st;

	ck_assert_int_eq(stat(at(rel), &st), 0);
	return st.st_mode & 07777;
}

START_TEST(test_plain_ops)
{
	struct sys s = opened();
	struct stat st;

	ck_assert_int_eq(sys_mkdir(&s, "d", 0700), 0);
	ck_assert_int_eq(sys_mkdir(&s, "d/e", 0700), 0);
	touch("root/d/e/f", 0600);
	ck_assert_int_eq(sys_chmod(&s, "d/e/f", 0640), 0);
	ck_assert_int_eq(mode_of("root/d/e/f"), 0640);
	ck_assert_int_eq(sys_chown(&s, "d/e/f", 0, 0), 0);
	ck_assert_int_eq(sys_stat(&s, "d/e/f", &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(sys_rename(&s, "d/e/f", "g"), 0);
	ck_assert_int_eq(access(at("root/g"), F_OK), 0);
	ck_assert_int_eq(sys_unlink(&s, "g"), 0);
	ck_assert_int_eq(sys_rmdir(&s, "d/e"), 0);
	ck_assert_int_eq(sys_stat(&s, "d/e", &st), -ENOENT);
	ck_assert_uint_eq(s.steps, 7);
	sys_close_root(&s);
}
END_TEST

/* A directory on the way that is a symlink, inside the root or out of it:
 * every call fails with -ELOOP and nothing at its target changes. */
START_TEST(test_symlinked_dir)
{
	struct sys s = opened();
	struct stat st;

	ck_assert_int_eq(mkdir(at("root/real"), 0755), 0);
	touch("root/real/f", 0644);
	touch("outside/f", 0644);
	ck_assert_int_eq(symlink("real", at("root/in")), 0);
	ck_assert_int_eq(symlink(fx.outside, at("root/out")), 0);
	for (int i = 0; i < 2; i++) {
		const char *d = i ? "out" : "in";
		char f[16], x[16];

		snprintf(f, sizeof(f), "%s/f", d);
		snprintf(x, sizeof(x), "%s/x", d);
		ck_assert_int_eq(sys_mkdir(&s, x, 0700), -ELOOP);
		ck_assert_int_eq(sys_unlink(&s, f), -ELOOP);
		ck_assert_int_eq(sys_chmod(&s, f, 0600), -ELOOP);
		ck_assert_int_eq(sys_chown(&s, f, 1, 1), -ELOOP);
		ck_assert_int_eq(sys_rename(&s, f, "moved"), -ELOOP);
		ck_assert_int_eq(sys_rename(&s, "real/f", x), -ELOOP);
		ck_assert_int_eq(sys_exchange(&s, f, "real/f"), -ELOOP);
		ck_assert_int_eq(sys_stat(&s, f, &st), -ELOOP);
	}
	ck_assert_int_eq(mode_of("root/real/f"), 0644);
	ck_assert_int_eq(mode_of("outside/f"), 0644);
	ck_assert_int_eq(access(at("root/real/x"), F_OK), -1);
	ck_assert_int_eq(access(at("outside/x"), F_OK), -1);
	ck_assert_int_eq(access(at("root/moved"), F_OK), -1);
	sys_close_root(&s);
}
END_TEST

/* A symlink as the last component: mode and owner refused, the link
 * itself seen by stat, and unlink or rename act on the link, not on its
 * target. */
START_TEST(test_symlink_last)
{
	struct sys s = opened();
	struct stat st;

	touch("outside/f", 0644);
	ck_assert_int_eq(symlink(at("outside/f"), at("root/l")), 0);
	ck_assert_int_eq(sys_chmod(&s, "l", 0600), -ELOOP);
	ck_assert_int_eq(sys_chown(&s, "l", 1, 1), -ELOOP);
	ck_assert_int_eq(mode_of("outside/f"), 0644);
	ck_assert_int_eq(sys_stat(&s, "l", &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(sys_unlink(&s, "l"), 0);
	ck_assert_int_eq(access(at("outside/f"), F_OK), 0);
	sys_close_root(&s);
}
END_TEST

/* A directory renamed after its first use and something else put at its
 * name: steps and their undo go on in the renamed one, and sys_check_dirs
 * says what changed (-ELOOP for a symlink, -ESTALE for another
 * directory). */
START_TEST(test_renamed_dir)
{
	struct sys s = opened(), q = sys_quiet(&s);
	const char *path = NULL;

	ck_assert_int_eq(mkdir(at("root/other"), 0755), 0);
	touch("root/other/f", 0644);
	ck_assert_int_eq(sys_mkdir(&s, "d", 0755), 0);
	touch("root/d/f", 0644);
	ck_assert_int_eq(sys_chmod(&s, "d/f", 0600), 0);
	ck_assert_int_eq(sys_check_dirs(&s, &path), 0);
	ck_assert_int_eq(rename(at("root/d"), at("root/e")), 0);
	ck_assert_int_eq(symlink("other", at("root/d")), 0);
	ck_assert_int_eq(sys_chmod(&s, "d/f", 0640), 0);
	ck_assert_int_eq(mode_of("root/e/f"), 0640);
	ck_assert_int_eq(sys_check_dirs(&s, &path), -ELOOP);
	ck_assert_str_eq(path, "d");
	ck_assert_int_eq(unlink(at("root/d")), 0);
	ck_assert_int_eq(mkdir(at("root/d"), 0755), 0);
	touch("root/d/f", 0644);
	ck_assert_int_eq(sys_check_dirs(&s, &path), -ESTALE);
	ck_assert_int_eq(sys_unlink(&q, "d/f"), 0);
	ck_assert_int_eq(access(at("root/e/f"), F_OK), -1);
	ck_assert_int_eq(access(at("root/d/f"), F_OK), 0);
	ck_assert_int_eq(mode_of("root/other/f"), 0644);
	sys_close_root(&s);
}
END_TEST

START_TEST(test_beneath)
{
	struct sys s = opened();

	touch("outside/f", 0644);
	ck_assert_int_eq(sys_unlink(&s, "../outside/f"), -EXDEV);
	ck_assert_int_eq(sys_chmod(&s, "../outside/f", 0600), -EXDEV);
	ck_assert_int_eq(mode_of("outside/f"), 0644);
	sys_close_root(&s);
}
END_TEST

/* rename never replaces; exchange swaps. */
START_TEST(test_rename_exchange)
{
	struct sys s = opened();
	struct stat a, b, a2, b2;

	touch("root/a", 0600);
	touch("root/b", 0644);
	ck_assert_int_eq(stat(at("root/a"), &a), 0);
	ck_assert_int_eq(stat(at("root/b"), &b), 0);
	ck_assert_int_eq(sys_rename(&s, "a", "b"), -EEXIST);
	ck_assert_int_eq(sys_exchange(&s, "a", "b"), 0);
	ck_assert_int_eq(stat(at("root/a"), &a2), 0);
	ck_assert_int_eq(stat(at("root/b"), &b2), 0);
	ck_assert_uint_eq(a2.st_ino, b.st_ino);
	ck_assert_uint_eq(b2.st_ino, a.st_ino);
	sys_close_root(&s);
}
END_TEST

START_TEST(test_fault_injection)
{
	struct sys s = opened(), q;

	s.fail_at = 2;
	s.fail_errno = ENOSPC;
	q = sys_quiet(&s);
	ck_assert_int_eq(sys_mkdir(&s, "a", 0700), 0);
	ck_assert_int_eq(sys_mkdir(&s, "b", 0700), -ENOSPC);
	ck_assert_int_eq(access(at("root/b"), F_OK), -1);
	ck_assert_int_eq(sys_mkdir(&s, "b", 0700), 0);
	ck_assert_int_eq(sys_rmdir(&q, "a"), 0);
	q.steps = 1; /* its own count: the second step of the quiet copy does not fail */
	ck_assert_int_eq(sys_mkdir(&q, "a", 0700), 0);
	ck_assert_uint_eq(s.steps, 3);
	ck_assert_int_eq(sys_step(NULL), 0);
	sys_close_root(&s);
}
END_TEST

/* Under a low file descriptor limit: no more directories are kept open
 * than a quarter of it (at least 16), and once descriptors run out, kept
 * ones are given back to resolve a new one, never the one a rename is
 * moving from. */
static int count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;

	ck_assert_ptr_nonnull(dir);
	while (readdir(dir))
		n++;
	closedir(dir);
	return n;
}

START_TEST(test_fd_limit)
{
	struct rlimit saved, rl;
	struct sys s;
	int fds[64], n = 0, before;
	char d[16], f[16];

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
	rl = saved;
	rl.rlim_cur = 40;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	s = opened();
	before = count_fds();
	for (int i = 0; i < 20; i++) {
		snprintf(d, sizeof(d), "d%d", i);
		snprintf(f, sizeof(f), "d%d/f", i);
		ck_assert_int_eq(sys_mkdir(&s, d, 0755), 0);
		ck_assert_int_eq(sys_mkdir(&s, f, 0755), 0);
	}
	ck_assert_int_eq(count_fds() - before, 16);
	ck_assert_int_eq(mkdir(at("root/x"), 0755), 0);
	ck_assert_int_eq(mkdir(at("root/y"), 0755), 0);
	touch("root/x/f", 0644);
	while (n < 64 && (fds[n] = dup(0)) >= 0)
		n++;
	ck_assert_int_lt(n, 64);
	/* Calls that need no descriptor of their own (a chmod can: glibc's
	 * fchmodat without fchmodat2 goes through an O_PATH one). */
	ck_assert_int_eq(sys_mkdir(&s, "x/g", 0700), 0);
	ck_assert_int_eq(sys_rename(&s, "x/f", "y/g"), 0);
	ck_assert_int_eq(access(at("root/x/g"), F_OK), 0);
	ck_assert_int_eq(access(at("root/y/g"), F_OK), 0);
	while (n > 0)
		close(fds[--n]);
	sys_close_root(&s);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
}
END_TEST

START_TEST(test_not_opened)
{
	struct sys s = { .root_fd = -1 };

	ck_assert_int_eq(sys_mkdir(&s, "a", 0700), -EBADF);
	ck_assert_int_eq(sys_open_root(&s, at("missing")), -ENOENT);
}
END_TEST

/* The kernel objects: each test starts here and returns at once (after a
 * SKIP line) when the process may not make BPF objects. */
static bool may_bpf(void)
{
	const char *req = getenv("BPF_PROVISION_REQUIRE_ALL");
	int fd = sys_map_create(NULL, BPF_MAP_TYPE_ARRAY, NULL, 4, 4, 1, NULL);

	if (fd >= 0) {
		close(fd);
		return true;
	}
	if (req && !strcmp(req, "1"))
		ck_abort_msg("cannot create a map: %s (BPF_PROVISION_REQUIRE_ALL=1)",
			     strerror(-fd));
	fprintf(stderr, "SKIP: sys: cannot create a map: %s (needs CAP_BPF)\n", strerror(-fd));
	return false;
}

/* The descriptor the next open gets: a call that made a kernel object and
 * kept it would have taken it. */
static int next_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	close(fd);
	return fd;
}

static struct sys failing_at(unsigned long n)
{
	return (struct sys){ .fail_at = n, .fail_errno = ENOSPC, .root_fd = -1 };
}

START_TEST(test_map_create)
{
	struct sys s = failing_at(1);
	int before, fd;

	if (!may_bpf())
		return;
	before = next_fd();
	ck_assert_int_eq(sys_map_create(&s, BPF_MAP_TYPE_ARRAY, NULL, 4, 8, 4, NULL), -ENOSPC);
	ck_assert_int_eq(next_fd(), before);
	fd = sys_map_create(&s, BPF_MAP_TYPE_ARRAY, NULL, 4, 8, 4, NULL);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(sys_map_create(&s, BPF_MAP_TYPE_ARRAY, NULL, 4, 8, 0, NULL), -EINVAL);
	ck_assert_uint_eq(s.steps, 3);
}
END_TEST

START_TEST(test_prog_load)
{
	/* r0 = 0; exit */
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct sys s = failing_at(1);
	int before, fd;

	if (!may_bpf())
		return;
	before = next_fd();
	ck_assert_int_eq(sys_prog_load(&s, BPF_PROG_TYPE_SOCKET_FILTER, NULL, "GPL", insns, 2, NULL),
			 -ENOSPC);
	ck_assert_int_eq(next_fd(), before);
	fd = sys_prog_load(&s, BPF_PROG_TYPE_SOCKET_FILTER, NULL, "GPL", insns, 2, NULL);
	ck_assert_int_ge(fd, 0);
	close(fd);
	/* The verifier's no: falls off the end without exit. */
	ck_assert_int_eq(sys_prog_load(&s, BPF_PROG_TYPE_SOCKET_FILTER, NULL, "GPL", insns, 1, NULL),
			 -EINVAL);
	ck_assert_uint_eq(s.steps, 3);
}
END_TEST

/* One step per object, whatever it holds; a failed one loaded nothing and
 * the object can still be loaded. */
START_TEST(test_object_load)
{
	struct sys s = failing_at(1);
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *map;
	char *path = NULL;
	int before;

	if (!may_bpf())
		return;
	ck_assert_int_ge(asprintf(&path, "%s/tests/bpf/wired_btf.o", test_builddir()), 0);
	obj = bpf_object__open_file(path, NULL);
	ck_assert_msg(obj, "open %s: %s", path, strerror(errno));
	free(path);
	/* libbpf would pin `counts` under /sys/fs/bpf. */
	bpf_object__for_each_map(map, obj)
		bpf_map__set_pin_path(map, NULL);
	before = next_fd();
	ck_assert_int_eq(sys_object_load(&s, obj), -ENOSPC);
	ck_assert_int_eq(next_fd(), before);
	bpf_object__for_each_program(prog, obj)
		ck_assert_int_lt(bpf_program__fd(prog), 0);
	bpf_object__for_each_map(map, obj)
		ck_assert_int_lt(bpf_map__fd(map), 0);
	if (!test_under_valgrind()) {
		ck_assert_int_eq(sys_object_load(&s, obj), 0);
		bpf_object__for_each_program(prog, obj)
			ck_assert_int_ge(bpf_program__fd(prog), 0);
		ck_assert_uint_eq(s.steps, 2);
	}
	bpf_object__close(obj);
}
END_TEST

/* What map holds at keys 0..n-1: values, or -1 where it has none. */
static void check_entries(int fd, uint32_t n, const int64_t *want)
{
	for (uint32_t k = 0; k < n; k++) {
		int64_t v = -1;
		int r = bpf_map_lookup_elem(fd, &k, &v);

		ck_assert_msg(r == 0 || errno == ENOENT, "lookup %u: %s", k, strerror(errno));
		ck_assert_msg(v == want[k], "key %u: %lld, want %lld", k, (long long)v,
			      (long long)want[k]);
	}
}

START_TEST(test_map_update_batch)
{
	uint32_t keys[] = { 0, 1, 2, 3 }, count = 4;
	int64_t vals[] = { 10, 11, 12, 13 }, none[] = { -1, -1, -1, -1 };
	struct sys s = failing_at(1);
	int fd;

	if (!may_bpf())
		return;
	fd = sys_map_create(NULL, BPF_MAP_TYPE_HASH, NULL, 4, 8, 4, NULL);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sys_map_update_batch(&s, fd, keys, vals, &count, BPF_ANY), -ENOSPC);
	ck_assert_uint_eq(count, 0);
	check_entries(fd, 4, none);
	count = 4;
	ck_assert_int_eq(sys_map_update_batch(&s, fd, keys, vals, &count, BPF_ANY), 0);
	ck_assert_uint_eq(count, 4);
	check_entries(fd, 4, vals);
	/* Stops at the first entry refused, which count names. */
	count = 4;
	ck_assert_int_eq(sys_map_update_batch(&s, fd, (uint32_t[]){ 0, 1, 9, 2 }, vals, &count,
					      BPF_ANY),
			 -E2BIG);
	ck_assert_uint_eq(count, 2);
	ck_assert_uint_eq(s.steps, 3);
	close(fd);
}
END_TEST

/* A map without batch ops (devmap: ENOTSUPP): entry by entry, one step. */
START_TEST(test_map_update_batch_fallback)
{
	uint32_t keys[] = { 0, 2 }, ifindex[] = { 1, 1 }, count = 2, v;
	struct sys s = failing_at(0);
	int fd;

	if (!may_bpf())
		return;
	fd = sys_map_create(NULL, BPF_MAP_TYPE_DEVMAP, NULL, 4, 4, 4, NULL);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sys_map_update_batch(&s, fd, keys, ifindex, &count, BPF_ANY), 0);
	ck_assert_uint_eq(count, 2);
	ck_assert_uint_eq(s.steps, 1);
	ck_assert_int_eq(bpf_map_lookup_elem(fd, &keys[1], &v), 0);
	ck_assert_uint_eq(v, 1);
	count = 2;
	ck_assert_int_eq(sys_map_update_batch(&s, fd, (uint32_t[]){ 1, 7 }, ifindex, &count,
					      BPF_ANY),
			 -E2BIG);
	ck_assert_uint_eq(count, 1);
	close(fd);
}
END_TEST

/* A program of type type that returns ret, loaded by hand (see
 * check_observed.c's new_prog: libbpf's first bpf_prog_load probes with an
 * attr valgrind calls uninitialised). */
static int prog_returning(enum bpf_prog_type type, int ret)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = ret },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = type;
	attr.insns = (__u64)(unsigned long)insns;
	attr.insn_cnt = 2;
	attr.license = (__u64)(unsigned long)"GPL";
	fd = (int)syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	ck_assert_msg(fd >= 0, "BPF_PROG_LOAD type %d: %s", type, strerror(errno));
	return fd;
}

static uint32_t prog_id_of_link(int link)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	ck_assert_int_eq(bpf_obj_get_info_by_fd(link, &info, &len), 0);
	return info.prog_id;
}

static uint32_t prog_id(int prog)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	ck_assert_int_eq(bpf_obj_get_info_by_fd(prog, &info, &len), 0);
	return info.id;
}

/* A network namespace of the test's own, entered for an XDP hook on its
 * lo (ifindex 1) and left again: under CK_FORK=no the runner goes on in
 * the namespace it started in. */
static int enter_netns(void)
{
	const char *req = getenv("BPF_PROVISION_REQUIRE_ALL");
	int saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(saved, 0);
	if (unshare(CLONE_NEWNET) == 0)
		return saved;
	if (req && !strcmp(req, "1"))
		ck_abort_msg("cannot make a network namespace: %s (BPF_PROVISION_REQUIRE_ALL=1)",
			     strerror(errno));
	fprintf(stderr, "SKIP: sys: cannot make a network namespace: %s (needs CAP_SYS_ADMIN)\n",
		strerror(errno));
	close(saved);
	return -1;
}

static void leave_netns(int saved)
{
	ck_assert_int_eq(setns(saved, CLONE_NEWNET), 0);
	close(saved);
}

/* One step each; a failed one makes no link, the next one goes through,
 * and the kernel's own refusal comes back as its errno. */
START_TEST(test_link_create)
{
	struct sys s = failing_at(1);
	int ns, xdp, filter, before, link;

	if (!may_bpf() || (ns = enter_netns()) < 0)
		return;
	xdp = prog_returning(BPF_PROG_TYPE_XDP, 2 /* XDP_PASS */);
	filter = prog_returning(BPF_PROG_TYPE_SOCKET_FILTER, 0);
	before = next_fd();
	ck_assert_int_eq(sys_link_create(&s, xdp, 1, BPF_XDP, 0), -ENOSPC);
	ck_assert_int_eq(next_fd(), before);
	link = sys_link_create(&s, xdp, 1, BPF_XDP, XDP_FLAGS_SKB_MODE);
	ck_assert_msg(link >= 0, "xdp link on lo: %s", strerror(-link));
	ck_assert_uint_eq(prog_id_of_link(link), prog_id(xdp));
	/* The hook is held. */
	ck_assert_int_eq(sys_link_create(&s, xdp, 1, BPF_XDP, XDP_FLAGS_SKB_MODE), -EBUSY);
	close(link);
	/* Not a program for the hook. */
	ck_assert_int_eq(sys_link_create(&s, filter, 1, BPF_XDP, 0), -EINVAL);
	ck_assert_uint_eq(s.steps, 4);
	close(filter);
	close(xdp);
	leave_netns(ns);
}
END_TEST

/* The attach types libbpf 1.1.2 does not know go through it as they are:
 * a tcx link on lo, where the kernel has tcx (Linux 6.6). */
START_TEST(test_link_create_tcx)
{
	struct sys s = failing_at(0);
	int ns, cls, link;

	if (!may_bpf() || (ns = enter_netns()) < 0)
		return;
	cls = prog_returning(BPF_PROG_TYPE_SCHED_CLS, -1 /* TCX_NEXT */);
	link = sys_link_create(&s, cls, 1, (enum bpf_attach_type)COMPAT_BPF_TCX_EGRESS, 0);
	if (link == -EINVAL) {
		fprintf(stderr, "SKIP: sys: this kernel has no tcx links (Linux 6.6)\n");
	} else {
		struct compat_bpf_link_info info;
		__u32 len = sizeof(info);

		ck_assert_msg(link >= 0, "tcx link on lo: %s", strerror(-link));
		memset(&info, 0, sizeof(info));
		ck_assert_int_eq(bpf_obj_get_info_by_fd(link, &info, &len), 0);
		ck_assert_uint_eq(info.type, COMPAT_BPF_LINK_TYPE_TCX);
		ck_assert_uint_eq(info.tcx.ifindex, 1);
		ck_assert_uint_eq(info.tcx.attach_type, COMPAT_BPF_TCX_EGRESS);
		close(link);
	}
	close(cls);
	leave_netns(ns);
}
END_TEST

START_TEST(test_raw_tp_open)
{
	struct sys s = failing_at(1);
	int prog, before, link;

	if (!may_bpf())
		return;
	prog = prog_returning(BPF_PROG_TYPE_RAW_TRACEPOINT, 0);
	before = next_fd();
	ck_assert_int_eq(sys_raw_tp_open(&s, "task_rename", prog), -ENOSPC);
	ck_assert_int_eq(next_fd(), before);
	link = sys_raw_tp_open(&s, "task_rename", prog);
	ck_assert_msg(link >= 0, "raw tracepoint task_rename: %s", strerror(-link));
	ck_assert_uint_eq(prog_id_of_link(link), prog_id(prog));
	close(link);
	ck_assert_int_eq(sys_raw_tp_open(&s, "no_such_tracepoint_here", prog), -ENOENT);
	/* A raw tracepoint program names its tracepoint. */
	ck_assert_int_lt(sys_raw_tp_open(&s, NULL, prog), 0);
	ck_assert_uint_eq(s.steps, 4);
	close(prog);
}
END_TEST

/* Pointed at another program in place: only while it runs the expected
 * one (-EPERM otherwise), unconditionally without one; a link type that
 * cannot be updated says so. */
START_TEST(test_link_update)
{
	struct sys s = failing_at(1);
	int ns, a, b, c, link, raw, tp;

	if (!may_bpf() || (ns = enter_netns()) < 0)
		return;
	a = prog_returning(BPF_PROG_TYPE_XDP, 2);
	b = prog_returning(BPF_PROG_TYPE_XDP, 1);
	c = prog_returning(BPF_PROG_TYPE_XDP, 3);
	link = sys_link_create(NULL, a, 1, BPF_XDP, 0);
	ck_assert_msg(link >= 0, "xdp link on lo: %s", strerror(-link));
	ck_assert_int_eq(sys_link_update(&s, link, b, a), -ENOSPC);
	ck_assert_uint_eq(prog_id_of_link(link), prog_id(a));
	ck_assert_int_eq(sys_link_update(&s, link, b, c), -EPERM);
	ck_assert_uint_eq(prog_id_of_link(link), prog_id(a));
	ck_assert_int_eq(sys_link_update(&s, link, b, a), 0);
	ck_assert_uint_eq(prog_id_of_link(link), prog_id(b));
	ck_assert_int_eq(sys_link_update(&s, link, c, -1), 0);
	ck_assert_uint_eq(prog_id_of_link(link), prog_id(c));
	ck_assert_uint_eq(s.steps, 4);

	raw = prog_returning(BPF_PROG_TYPE_RAW_TRACEPOINT, 0);
	tp = sys_raw_tp_open(NULL, "task_rename", raw);
	ck_assert_int_ge(tp, 0);
	ck_assert_int_eq(sys_link_update(&s, tp, raw, raw), -EOPNOTSUPP);
	close(tp);
	close(raw);
	close(link);
	close(a);
	close(b);
	close(c);
	leave_netns(ns);
}
END_TEST

Suite *sys_suite(void)
{
	Suite *s = suite_create("sys");
	TCase *tc = tcase_create("confined");
	TCase *bpf = tcase_create("kernel objects");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_plain_ops);
	tcase_add_test(tc, test_symlinked_dir);
	tcase_add_test(tc, test_symlink_last);
	tcase_add_test(tc, test_renamed_dir);
	tcase_add_test(tc, test_beneath);
	tcase_add_test(tc, test_rename_exchange);
	tcase_add_test(tc, test_fault_injection);
	tcase_add_test(tc, test_not_opened);
	tcase_add_test(tc, test_fd_limit);
	suite_add_tcase(s, tc);

	tcase_add_test(bpf, test_map_create);
	tcase_add_test(bpf, test_prog_load);
	tcase_add_test(bpf, test_object_load);
	tcase_add_test(bpf, test_map_update_batch);
	tcase_add_test(bpf, test_map_update_batch_fallback);
	tcase_add_test(bpf, test_link_create);
	tcase_add_test(bpf, test_link_create_tcx);
	tcase_add_test(bpf, test_raw_tp_open);
	tcase_add_test(bpf, test_link_update);
	suite_add_tcase(s, bpf);
	return s;
}
