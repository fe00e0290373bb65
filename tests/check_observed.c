// SPDX-License-Identifier: MIT
/* Unit tests of the observed stage (observed.c) against real kernel objects
 * pinned in a private bpffs mounted on a fresh directory under /tmp for each
 * test: kinds, specs, owners, symlinks not followed, the kernel's own debug
 * files, errors, and a scan of 10,000 pins.  Never touches /sys/fs/bpf. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_link.h>

#include <bpf/bpf.h>

#include "check_suites.h"
#include "compat.h"
#include "desired.h"
#include "kind.h"
#include "observed.h"

/* The fixtures: the test case's base is a fresh directory under /tmp; each
 * test makes its own dir in it, mounts a private bpffs on dir/fs (the root)
 * and may use dir/file as a plain file.  The checked teardown unmounts and
 * removes them after each test, after a failed one too with CK_FORK=no.  With
 * CK_FORK=yes a failed assertion ends the test's child at once, teardown not
 * run; the unchecked teardown, in the runner itself, then sweeps the base. */
static struct {
	char base[64];
	char dir[80];
	char root[96];
	char file[96];
	bool mounted;
} fx;

static void base_setup(void)
{
	strcpy(fx.base, "/tmp/check_observed.XXXXXX");
	ck_assert_msg(mkdtemp(fx.base), "mkdtemp: %s", strerror(errno));
}

static void sweep(const char *dir)
{
	char p[384];

	snprintf(p, sizeof(p), "%s/fs", dir);
	if (umount2(p, MNT_DETACH) == 0)
		fprintf(stderr, "observed: unmounted %s left by a failed test\n", p);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/file", dir);
	unlink(p);
	if (rmdir(dir) < 0)
		fprintf(stderr, "observed: rmdir %s: %s\n", dir, strerror(errno));
}

static void base_teardown(void)
{
	struct dirent *de;
	char p[352];
	DIR *dir;

	if (!fx.base[0])
		return;
	dir = opendir(fx.base);
	while (dir && (de = readdir(dir))) {
		if (strncmp(de->d_name, "t.", 2))
			continue;
		snprintf(p, sizeof(p), "%s/%s", fx.base, de->d_name);
		sweep(p);
	}
	if (dir)
		closedir(dir);
	if (rmdir(fx.base) < 0)
		fprintf(stderr, "observed: rmdir %s: %s\n", fx.base, strerror(errno));
	fx.base[0] = '\0';
}

static void fx_setup(void)
{
	const char *req = getenv("BPF_PROVISION_REQUIRE_ALL");
	int err;

	fx.mounted = false;
	snprintf(fx.dir, sizeof(fx.dir), "%s/t.XXXXXX", fx.base);
	ck_assert_msg(mkdtemp(fx.dir), "mkdtemp: %s", strerror(errno));
	snprintf(fx.root, sizeof(fx.root), "%s/fs", fx.dir);
	snprintf(fx.file, sizeof(fx.file), "%s/file", fx.dir);
	ck_assert_msg(mkdir(fx.root, 0755) == 0, "mkdir %s: %s", fx.root, strerror(errno));
	if (mount("bpf", fx.root, "bpf", 0, NULL) == 0) {
		fx.mounted = true;
		return;
	}
	err = errno;
	if (req && !strcmp(req, "1"))
		ck_abort_msg("cannot mount bpffs on %s: %s (BPF_PROVISION_REQUIRE_ALL=1)", fx.root,
			     strerror(err));
	fprintf(stderr, "SKIP: observed: cannot mount bpffs on %s: %s (needs root and bpffs)\n",
		fx.root, strerror(err));
}

static void fx_teardown(void)
{
	if (!fx.dir[0])
		return;
	if (fx.mounted && umount2(fx.root, MNT_DETACH) < 0)
		fprintf(stderr, "observed: umount %s: %s\n", fx.root, strerror(errno));
	fx.mounted = false;
	rmdir(fx.root);
	unlink(fx.file);
	if (rmdir(fx.dir) < 0)
		fprintf(stderr, "observed: rmdir %s: %s\n", fx.dir, strerror(errno));
	fx.dir[0] = '\0';
}

/* Every bpffs test starts with this: it returns at once when the setup could
 * not mount (and printed the SKIP line). */
#define NEED_BPFFS()                                                                               \
	do {                                                                                       \
		if (!fx.mounted)                                                                   \
			return;                                                                    \
	} while (0)

static char *at(const char *rel)
{
	static char buf[4][4096];
	static unsigned next;
	char *p = buf[next++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", fx.root, rel);
	return p;
}

static void mkdir_at(const char *rel)
{
	ck_assert_msg(mkdir(at(rel), 0755) == 0, "mkdir %s: %s", rel, strerror(errno));
}

static void pin_at(int fd, const char *rel)
{
	int r = bpf_obj_pin(fd, at(rel));

	ck_assert_msg(r == 0, "pin %s: %s", rel, strerror(-r));
}

/* Maps and programs are made by hand, not with bpf_map_create() or
 * bpf_prog_load(): their first call has libbpf 1.1 probe the kernel with an
 * attr it clears only in part, which valgrind reports as uninitialised. */
static int new_map(enum bpf_map_type type, const char *name, __u32 flags)
{
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.map_type = type;
	attr.key_size = 4;
	attr.value_size = 8;
	attr.max_entries = 128;
	attr.map_flags = flags;
	strncpy(attr.map_name, name, sizeof(attr.map_name) - 1);
	fd = syscall(__NR_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
	ck_assert_msg(fd >= 0, "BPF_MAP_CREATE %s: %s", name, strerror(errno));
	return fd;
}

static int new_prog(const char *name)
{
	/* r0 = 0; exit */
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insns = (__u64)(unsigned long)insns;
	attr.insn_cnt = sizeof(insns) / sizeof(insns[0]);
	attr.license = (__u64)(unsigned long)"GPL";
	strncpy(attr.prog_name, name, sizeof(attr.prog_name) - 1);
	fd = syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	ck_assert_msg(fd >= 0, "BPF_PROG_LOAD %s: %s", name, strerror(errno));
	return fd;
}

static bool is_debug(const char *path)
{
	return !strcmp(path, "maps.debug") || !strcmp(path, "progs.debug");
}

/* How many of the kernel's own debug files this mount has (0 or 2). */
static size_t n_debug(void)
{
	struct stat st;

	return (lstat(at("maps.debug"), &st) == 0) + (lstat(at("progs.debug"), &st) == 0);
}

static void scan_ok(const char *root, struct observed *o, struct diag *d)
{
	int r = observed_scan(root, NULL, d, o);

	if (r < 0 && d->n_msgs)
		ck_abort_msg("scan %s: %s", root, d->msgs[0].text);
	ck_assert_int_eq(r, 0);
	ck_assert_str_eq(o->root, root);
	for (size_t i = 1; i < o->n; i++)
		ck_assert_msg(strcmp(o->entries[i - 1].path, o->entries[i].path) < 0,
			      "not sorted: '%s' before '%s'", o->entries[i - 1].path,
			      o->entries[i].path);
}

static const struct observed_entry *find_ok(const struct observed *o, const char *path)
{
	const struct observed_entry *e = observed_find(o, path);

	ck_assert_msg(e, "'%s' not observed", path);
	ck_assert_str_eq(e->path, path);
	return e;
}

START_TEST(test_nested_tree)
{
	static const struct {
		const char *path;
		enum observed_kind kind;
	} want[] = {
		{ "a", OBSERVED_DIR },          { "a-m", OBSERVED_MAP },
		{ "a/b", OBSERVED_DIR },        { "a/b/c", OBSERVED_DIR },
		{ "a/b/c/m3", OBSERVED_MAP },   { "a/b/m2", OBSERVED_MAP },
		{ "a/m1", OBSERVED_MAP },       { "a/prog", OBSERVED_PROGRAM },
		{ "empty", OBSERVED_DIR },      { "top", OBSERVED_MAP },
	};
	struct observed o = { 0 };
	struct diag d = { 0 };
	char slashed[128];
	size_t n = 0;
	int map, prog;

	NEED_BPFFS();
	map = new_map(BPF_MAP_TYPE_HASH, "tree", 0);
	prog = new_prog("p");
	mkdir_at("a");
	mkdir_at("a/b");
	mkdir_at("a/b/c");
	mkdir_at("empty");
	pin_at(map, "top");
	pin_at(map, "a-m");
	pin_at(map, "a/m1");
	pin_at(map, "a/b/m2");
	pin_at(map, "a/b/c/m3");
	pin_at(prog, "a/prog");

	scan_ok(fx.root, &o, &d);
	ck_assert_uint_eq(d.n_msgs, 0);
	ck_assert_uint_eq(o.n, sizeof(want) / sizeof(want[0]) + n_debug());
	for (size_t i = 0; i < o.n; i++) {
		if (is_debug(o.entries[i].path))
			continue;
		ck_assert_uint_lt(n, sizeof(want) / sizeof(want[0]));
		ck_assert_str_eq(o.entries[i].path, want[n].path);
		ck_assert_msg(o.entries[i].kind == want[n].kind, "'%s' is a %s, want %s",
			      want[n].path, observed_kind_str(o.entries[i].kind),
			      observed_kind_str(want[n].kind));
		ck_assert_int_eq(o.entries[i].error, 0);
		n++;
	}
	ck_assert_uint_eq(n, sizeof(want) / sizeof(want[0]));
	ck_assert_uint_eq(find_ok(&o, "a/b/c/m3")->id, find_ok(&o, "top")->id);
	observed_done(&o);

	/* A trailing slash on the root changes nothing, messages included. */
	snprintf(slashed, sizeof(slashed), "%s//", fx.root);
	ck_assert_int_eq(observed_scan(slashed, NULL, &d, &o), 0);
	ck_assert_uint_eq(o.n, sizeof(want) / sizeof(want[0]) + n_debug());
	find_ok(&o, "a/b/c/m3");
	observed_done(&o);
	observed_done(&o); /* twice is harmless */
	diag_done(&d);
	close(map);
	close(prog);
}
END_TEST

START_TEST(test_map_spec)
{
	struct observed o = { 0 };
	struct diag d = { 0 };
	const struct observed_entry *e;
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	int hash, array;

	NEED_BPFFS();
	hash = new_map(BPF_MAP_TYPE_HASH, "counters", BPF_F_NO_PREALLOC);
	array = new_map(BPF_MAP_TYPE_ARRAY, "", 0);
	ck_assert_int_eq(bpf_obj_get_info_by_fd(hash, &info, &len), 0);
	pin_at(hash, "counters");
	pin_at(array, "array");

	scan_ok(fx.root, &o, &d);
	ck_assert_uint_eq(d.n_msgs, 0);
	e = find_ok(&o, "counters");
	ck_assert_int_eq(e->kind, OBSERVED_MAP);
	ck_assert_int_eq(e->error, 0);
	ck_assert_uint_gt(e->id, 0);
	ck_assert_uint_eq(e->id, info.id);
	ck_assert_uint_eq(e->type, BPF_MAP_TYPE_HASH);
	ck_assert_str_eq(e->name, "counters");
	ck_assert_uint_eq(e->key_size, 4);
	ck_assert_uint_eq(e->value_size, 8);
	ck_assert_uint_eq(e->max_entries, 128);
	ck_assert_uint_eq(e->map_flags, BPF_F_NO_PREALLOC);

	e = find_ok(&o, "array");
	ck_assert_int_eq(e->kind, OBSERVED_MAP);
	ck_assert_uint_gt(e->id, 0);
	ck_assert_uint_ne(e->id, info.id);
	ck_assert_uint_eq(e->type, BPF_MAP_TYPE_ARRAY);
	ck_assert_str_eq(e->name, "");
	ck_assert_uint_eq(e->map_flags, 0);
	observed_done(&o);
	diag_done(&d);
	close(hash);
	close(array);
}
END_TEST

/* A map pin the ledger records with its inode and mtime is taken from the
 * record, not opened: the record here says max_entries 7 of a map of 128,
 * so what the scan reports tells which was used.  Another mtime (touch),
 * another inode (a new pin at the path), a record without the map, or no
 * ledger: the pin is opened and the kernel's 128 reported. */
START_TEST(test_ledger_known_map)
{
	struct ledger_entry rec = { .path = (char *)"m", .manifest = (char *)"x", .has_map = true };
	struct ledger l = { .entries = &rec, .n = 1 };
	struct observed o = { 0 };
	struct diag d = { 0 };
	const struct observed_entry *e;
	struct stat st;
	int fd, fd2;

	NEED_BPFFS();
	fd = new_map(BPF_MAP_TYPE_HASH, "real", 0);
	pin_at(fd, "m");
	ck_assert_int_eq(lstat(at("m"), &st), 0);
	rec.ino = st.st_ino;
	rec.id = 4242;
	rec.map = (struct ledger_map){ .mtime = st.st_mtim, .type = BPF_MAP_TYPE_ARRAY,
				       .key_size = 4, .value_size = 8, .max_entries = 7,
				       .name = "recorded" };
	ck_assert(ledger_knows_map(&rec, st.st_ino, &st.st_mtim));

	ck_assert_int_eq(observed_scan(fx.root, &l, &d, &o), 0);
	e = find_ok(&o, "m");
	ck_assert_int_eq(e->kind, OBSERVED_MAP);
	ck_assert_uint_eq(e->id, 4242);
	ck_assert_uint_eq(e->max_entries, 7);
	ck_assert_uint_eq(e->type, BPF_MAP_TYPE_ARRAY);
	ck_assert_str_eq(e->name, "recorded");
	ck_assert_uint_eq(e->ino, st.st_ino);
	observed_done(&o);

	/* Without the ledger, and with a record that has no map: the kernel's. */
	scan_ok(fx.root, &o, &d);
	ck_assert_uint_eq(find_ok(&o, "m")->max_entries, 128);
	observed_done(&o);
	rec.has_map = false;
	ck_assert_int_eq(observed_scan(fx.root, &l, &d, &o), 0);
	ck_assert_uint_eq(find_ok(&o, "m")->max_entries, 128);
	observed_done(&o);
	rec.has_map = true;

	/* Touched: another mtime. */
	ck_assert_int_eq(utimensat(AT_FDCWD, at("m"), (struct timespec[]){ { 1, 0 }, { 1, 0 } },
				   AT_SYMLINK_NOFOLLOW),
			 0);
	ck_assert_int_eq(observed_scan(fx.root, &l, &d, &o), 0);
	e = find_ok(&o, "m");
	ck_assert_uint_eq(e->max_entries, 128);
	ck_assert_uint_ne(e->id, 4242);
	observed_done(&o);

	/* Another pin at the path, given the recorded mtime: another inode. */
	ck_assert_int_eq(unlink(at("m")), 0);
	fd2 = new_map(BPF_MAP_TYPE_HASH, "other", 0);
	pin_at(fd2, "m");
	ck_assert_int_eq(utimensat(AT_FDCWD, at("m"), (struct timespec[]){ rec.map.mtime, rec.map.mtime },
				   AT_SYMLINK_NOFOLLOW),
			 0);
	ck_assert_int_eq(lstat(at("m"), &st), 0);
	ck_assert_uint_ne(st.st_ino, rec.ino);
	ck_assert(!ledger_knows_map(&rec, st.st_ino, &st.st_mtim));
	ck_assert_int_eq(observed_scan(fx.root, &l, &d, &o), 0);
	e = find_ok(&o, "m");
	ck_assert_uint_eq(e->max_entries, 128);
	ck_assert_str_eq(e->name, "other");
	observed_done(&o);
	ck_assert(!ledger_knows_map(NULL, st.st_ino, &st.st_mtim));
	diag_done(&d);
	close(fd);
	close(fd2);
}
END_TEST

START_TEST(test_program)
{
	struct observed o = { 0 };
	struct diag d = { 0 };
	const struct observed_entry *e;
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int prog;

	NEED_BPFFS();
	prog = new_prog("filter");
	ck_assert_int_eq(bpf_obj_get_info_by_fd(prog, &info, &len), 0);
	mkdir_at("progs");
	pin_at(prog, "progs/filter");

	scan_ok(fx.root, &o, &d);
	ck_assert_uint_eq(d.n_msgs, 0);
	e = find_ok(&o, "progs/filter");
	ck_assert_int_eq(e->kind, OBSERVED_PROGRAM);
	ck_assert_int_eq(e->error, 0);
	ck_assert_uint_gt(e->id, 0);
	ck_assert_uint_eq(e->id, info.id);
	ck_assert_uint_eq(e->type, BPF_PROG_TYPE_SOCKET_FILTER);
	ck_assert_uint_eq(e->type, info.type);
	ck_assert_str_eq(e->name, "filter");
	ck_assert_mem_eq(e->tag, info.tag, sizeof(e->tag));
	ck_assert_uint_eq(e->key_size, 0);
	observed_done(&o);
	diag_done(&d);
	close(prog);
}
END_TEST

/* A raw tracepoint link of a program that does nothing, on a tracepoint that
 * rarely fires; it lives as long as its pin in the test's bpffs. */
START_TEST(test_link)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct observed o = { 0 };
	struct diag d = { 0 };
	const struct observed_entry *e;
	struct bpf_link_info info = { 0 };
	struct bpf_prog_info pinfo = { 0 };
	__u32 len = sizeof(info);
	union bpf_attr attr;
	int prog, link;

	NEED_BPFFS();
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_RAW_TRACEPOINT;
	attr.insns = (__u64)(unsigned long)insns;
	attr.insn_cnt = 2;
	attr.license = (__u64)(unsigned long)"GPL";
	prog = syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	ck_assert_msg(prog >= 0, "BPF_PROG_LOAD raw_tracepoint: %s", strerror(errno));
	memset(&attr, 0, sizeof(attr));
	attr.raw_tracepoint.name = (__u64)(unsigned long)"task_rename";
	attr.raw_tracepoint.prog_fd = prog;
	link = syscall(__NR_bpf, BPF_RAW_TRACEPOINT_OPEN, &attr, sizeof(attr));
	if (link < 0) {
		fprintf(stderr, "SKIP: observed: no raw tracepoint link: %s\n", strerror(errno));
		close(prog);
		return;
	}
	ck_assert_int_eq(bpf_obj_get_info_by_fd(link, &info, &len), 0);
	pin_at(link, "link");

	scan_ok(fx.root, &o, &d);
	ck_assert_msg(d.n_msgs == 0, "%s", d.msgs[0].text);
	e = find_ok(&o, "link");
	ck_assert_int_eq(e->kind, OBSERVED_LINK);
	ck_assert_int_eq(e->error, 0);
	ck_assert_uint_gt(e->id, 0);
	ck_assert_uint_eq(e->id, info.id);
	ck_assert_uint_eq(e->type, BPF_LINK_TYPE_RAW_TRACEPOINT);
	/* What it runs and where. */
	ck_assert_uint_eq(e->prog_id, info.prog_id);
	ck_assert_uint_eq(bpf_obj_get_info_by_fd(prog, &pinfo, &(__u32){ sizeof(pinfo) }), 0);
	ck_assert_mem_eq(e->tag, pinfo.tag, sizeof(e->tag));
	ck_assert_pstr_eq(e->target, "task_rename");
	ck_assert(!e->defunct);
	observed_done(&o);
	diag_done(&d);
	close(link);
	close(prog);
}
END_TEST

START_TEST(test_owner_mode)
{
	struct observed o = { 0 };
	struct diag d = { 0 };
	const struct observed_entry *e;
	struct stat st;
	int map;

	NEED_BPFFS();
	map = new_map(BPF_MAP_TYPE_HASH, "owned", 0);
	mkdir_at("dir");
	pin_at(map, "dir/pin");
	ck_assert_int_eq(chmod(at("dir/pin"), 0640), 0);
	ck_assert_int_eq(chown(at("dir/pin"), 1234, 5678), 0);
	ck_assert_int_eq(chmod(at("dir"), 01750), 0);
	ck_assert_int_eq(chown(at("dir"), 42, 43), 0);
	ck_assert_int_eq(lstat(at("dir/pin"), &st), 0);

	scan_ok(fx.root, &o, &d);
	ck_assert_uint_eq(d.n_msgs, 0);
	e = find_ok(&o, "dir/pin");
	ck_assert_int_eq(e->kind, OBSERVED_MAP);
	ck_assert_uint_eq(e->mode, 0640);
	ck_assert_uint_eq(e->uid, 1234);
	ck_assert_uint_eq(e->gid, 5678);
	ck_assert_uint_eq(e->ino, st.st_ino);
	e = find_ok(&o, "dir");
	ck_assert_int_eq(e->kind, OBSERVED_DIR);
	ck_assert_uint_eq(e->mode, 01750);
	ck_assert_uint_eq(e->uid, 42);
	ck_assert_uint_eq(e->gid, 43);
	observed_done(&o);
	diag_done(&d);
	close(map);
}
END_TEST

START_TEST(test_symlinks_not_followed)
{
	struct observed o = { 0 };
	struct diag d = { 0 };
	const struct observed_entry *e;
	size_t n_pins = 0;
	int map;

	NEED_BPFFS();
	map = new_map(BPF_MAP_TYPE_HASH, "target", 0);
	mkdir_at("d");
	pin_at(map, "d/pin");
	ck_assert_int_eq(symlink("/etc", at("evil")), 0);
	ck_assert_int_eq(symlink(at("d/pin"), at("to-pin")), 0);
	ck_assert_int_eq(symlink("d", at("to-dir")), 0);
	ck_assert_int_eq(symlink("d/pin", at("d/rel")), 0);
	ck_assert_int_eq(symlink("nowhere", at("dangling")), 0);

	scan_ok(fx.root, &o, &d);
	ck_assert_uint_eq(d.n_msgs, 0);
	ck_assert_uint_eq(o.n, 7 + n_debug());
	for (size_t i = 0; i < o.n; i++) {
		const char *p = o.entries[i].path;

		ck_assert_msg(strncmp(p, "evil/", 5) && strncmp(p, "to-dir/", 7),
			      "'%s' listed through a symlink", p);
		n_pins += o.entries[i].kind == OBSERVED_MAP;
	}
	ck_assert_uint_eq(n_pins, 1);
	const char *links[] = { "evil", "to-pin", "to-dir", "d/rel", "dangling" };
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		e = find_ok(&o, links[i]);
		ck_assert_msg(e->kind == OBSERVED_SYMLINK, "'%s' is a %s", links[i],
			      observed_kind_str(e->kind));
		ck_assert_uint_eq(e->id, 0);
		ck_assert_int_eq(e->error, 0);
	}
	observed_done(&o);

	/* A root that is itself a symlink is refused, not followed (O_NOFOLLOW
	 * with O_DIRECTORY says ENOTDIR). */
	ck_assert_int_eq(observed_scan(at("to-dir"), NULL, &d, &o), -ENOTDIR);
	ck_assert_uint_eq(d.n_errors, 1);
	diag_done(&d);
	close(map);
}
END_TEST

/* A fresh bpffs: only the kernel's maps.debug and progs.debug, if any. */
START_TEST(test_kernel_debug_files)
{
	struct observed o = { 0 };
	struct diag d = { 0 };
	const struct observed_entry *e;
	struct stat st;

	NEED_BPFFS();
	scan_ok(fx.root, &o, &d);
	ck_assert_uint_eq(d.n_msgs, 0);
	ck_assert_uint_eq(o.n, n_debug());
	for (size_t i = 0; i < o.n; i++) {
		e = &o.entries[i];
		ck_assert_msg(is_debug(e->path), "unexpected '%s'", e->path);
		ck_assert_int_eq(lstat(at(e->path), &st), 0);
		ck_assert_uint_eq(e->mode, st.st_mode & 07777);
		/* Iterator links where they can be opened; unknown with the
		 * error where they cannot (ENOENT on 6.18). */
		if (e->kind == OBSERVED_UNKNOWN)
			ck_assert_int_lt(e->error, 0);
		else
			ck_assert_int_eq(e->kind, OBSERVED_LINK);
		fprintf(stderr, "observed: kernel's %s: %s (%s)\n", e->path,
			observed_kind_str(e->kind), e->error ? strerror(-e->error) : "ok");
	}
	observed_done(&o);
	diag_done(&d);
}
END_TEST

START_TEST(test_find)
{
	struct observed o = { 0 };
	struct diag d = { 0 };
	static const char *const misses[] = { "", "/", "a/", "/a", "a/m", "a/m1/", "b", "zzz" };
	int map;

	ck_assert_ptr_null(observed_find(&o, "a"));
	ck_assert_ptr_null(observed_find(NULL, "a"));
	NEED_BPFFS();
	map = new_map(BPF_MAP_TYPE_HASH, "find", 0);
	mkdir_at("a");
	pin_at(map, "a/m1");
	pin_at(map, "a/m2");
	pin_at(map, "0");

	scan_ok(fx.root, &o, &d);
	ck_assert_int_eq(find_ok(&o, "a")->kind, OBSERVED_DIR);
	ck_assert_int_eq(find_ok(&o, "a/m1")->kind, OBSERVED_MAP);
	ck_assert_int_eq(find_ok(&o, "a/m2")->kind, OBSERVED_MAP);
	ck_assert_int_eq(find_ok(&o, "0")->kind, OBSERVED_MAP);
	for (size_t i = 0; i < sizeof(misses) / sizeof(misses[0]); i++)
		ck_assert_msg(!observed_find(&o, misses[i]), "'%s' found", misses[i]);
	observed_done(&o);
	diag_done(&d);
	close(map);
}
END_TEST

START_TEST(test_root_errors)
{
	struct observed o = { .root = (char *)"untouched" };
	struct diag d = { 0 };
	int map, fd;

	NEED_BPFFS();
	ck_assert_int_eq(observed_scan(at("no/such/dir"), NULL, &d, &o), -ENOENT);
	ck_assert_uint_eq(d.n_errors, 1);
	ck_assert_pstr_eq(d.msgs[0].file, at("no/such/dir"));
	ck_assert_ptr_nonnull(strstr(d.msgs[0].text, "No such file or directory"));
	ck_assert_str_eq(o.root, "untouched");

	fd = open(fx.file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(observed_scan(fx.file, NULL, &d, &o), -ENOTDIR);
	ck_assert_uint_eq(d.n_errors, 2);

	/* A pin is a regular file too. */
	map = new_map(BPF_MAP_TYPE_HASH, "file", 0);
	pin_at(map, "pin");
	ck_assert_int_eq(observed_scan(at("pin"), NULL, &d, &o), -ENOTDIR);
	ck_assert_uint_eq(d.n_errors, 3);
	ck_assert_str_eq(o.root, "untouched");
	ck_assert_ptr_null(o.entries);
	diag_done(&d);
	close(map);
}
END_TEST

START_TEST(test_unreadable_subtrees)
{
	char inner[128];
	struct observed o = { 0 };
	struct diag d = { 0 };
	const struct observed_entry *e;
	size_t i;

	NEED_BPFFS();
	/* Another filesystem mounted below the root is listed, not entered.
	 * The fixture's lazy unmount of the root takes it along. */
	mkdir_at("other");
	snprintf(inner, sizeof(inner), "%s", at("other"));
	ck_assert_int_eq(mount("bpf", inner, "bpf", 0, NULL), 0);
	mkdir_at("other/inside");

	/* A chain deeper than the limit: listed down to 64 levels. */
	char rel[4096] = "d";
	for (i = 1; i < 70; i++) {
		mkdir_at(rel);
		strcat(rel, "/d");
	}

	scan_ok(fx.root, &o, &d);
	e = find_ok(&o, "other");
	ck_assert_int_eq(e->kind, OBSERVED_DIR);
	ck_assert_int_eq(e->error, -EXDEV);
	ck_assert_ptr_null(observed_find(&o, "other/inside"));
	ck_assert_uint_eq(o.n, 1 + 64 + n_debug());
	rel[64 * 2 - 1] = '\0';
	e = find_ok(&o, rel);
	ck_assert_int_eq(e->error, -ELOOP);
	rel[63 * 2 - 1] = '\0';
	ck_assert_int_eq(find_ok(&o, rel)->error, 0);
	ck_assert_uint_eq(d.n_msgs, 2);
	ck_assert_uint_eq(d.n_errors, 0);
	observed_done(&o);
	diag_done(&d);
}
END_TEST

START_TEST(test_scale)
{
	enum { N_DIRS = 100, PER_DIR = 100 };
	struct observed o = { 0 };
	struct diag d = { 0 };
	struct timespec t0, t1;
	char rel[64];
	size_t n_maps = 0;
	int map;

	NEED_BPFFS();
	map = new_map(BPF_MAP_TYPE_HASH, "many", 0);
	for (int i = 0; i < N_DIRS; i++) {
		snprintf(rel, sizeof(rel), "d%03d", i);
		mkdir_at(rel);
		for (int j = 0; j < PER_DIR; j++) {
			snprintf(rel, sizeof(rel), "d%03d/m%05d", i, i * PER_DIR + j);
			pin_at(map, rel);
		}
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	scan_ok(fx.root, &o, &d);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "observed: scanned %zu entries in %.1f ms\n", o.n,
		(t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);

	ck_assert_uint_eq(d.n_msgs, 0);
	ck_assert_uint_eq(o.n, N_DIRS * PER_DIR + N_DIRS + n_debug());
	for (size_t i = 0; i < o.n; i++)
		n_maps += o.entries[i].kind == OBSERVED_MAP;
	ck_assert_uint_eq(n_maps, N_DIRS * PER_DIR);
	ck_assert_int_eq(find_ok(&o, "d042/m04217")->kind, OBSERVED_MAP);
	ck_assert_int_eq(find_ok(&o, "d099")->kind, OBSERVED_DIR);
	ck_assert_ptr_null(observed_find(&o, "d042/m04300"));
	observed_done(&o);
	diag_done(&d);
	close(map);
}
END_TEST

/* Enough pins to open for the query to share them with a second thread:
 * each half's failures are warned about, in the tree's order. */
START_TEST(test_query_split)
{
	enum { N = 600 };
	struct observed o = { 0 };
	struct diag d = { 0 };
	const struct observed_entry *e;
	char rel[16];
	int map;

	NEED_BPFFS();
	map = new_map(BPF_MAP_TYPE_ARRAY, "split", 0);
	for (int i = 0; i < N; i++) {
		snprintf(rel, sizeof(rel), "p%03d", i);
		pin_at(map, rel);
	}
	ck_assert_int_eq(observed_walk(fx.root, &d, &o), 0);
	/* Gone between the walk and the query, one in each half. */
	ck_assert_int_eq(unlink(at("p005")), 0);
	ck_assert_int_eq(unlink(at("p590")), 0);
	ck_assert_int_eq(observed_query(&o, NULL, &d), 0);

	ck_assert_uint_eq(d.n_errors, 0);
	ck_assert_uint_eq(d.n_msgs, 2);
	ck_assert_str_eq(d.msgs[0].file, at("p005"));
	ck_assert_str_eq(d.msgs[1].file, at("p590"));
	ck_assert_ptr_nonnull(strstr(d.msgs[0].text, "cannot open pin"));
	ck_assert_int_eq(find_ok(&o, "p005")->error, -ENOENT);
	ck_assert_int_eq(find_ok(&o, "p590")->error, -ENOENT);
	for (int i = 0; i < N; i++) {
		snprintf(rel, sizeof(rel), "p%03d", i);
		e = find_ok(&o, rel);
		if (i == 5 || i == 590)
			continue;
		ck_assert_int_eq(e->error, 0);
		ck_assert_int_eq(e->kind, OBSERVED_MAP);
		ck_assert_str_eq(e->name, "split");
	}
	observed_done(&o);
	diag_done(&d);
	close(map);
}
END_TEST

START_TEST(test_kind_str)
{
	ck_assert_str_eq(observed_kind_str(OBSERVED_DIR), "dir");
	ck_assert_str_eq(observed_kind_str(OBSERVED_MAP), "map");
	ck_assert_str_eq(observed_kind_str(OBSERVED_PROGRAM), "program");
	ck_assert_str_eq(observed_kind_str(OBSERVED_LINK), "link");
	ck_assert_str_eq(observed_kind_str(OBSERVED_SYMLINK), "symlink");
	ck_assert_str_eq(observed_kind_str(OBSERVED_UNKNOWN), "unknown");
	ck_assert_str_eq(observed_kind_str(OBSERVED_KIND_MAX), "unknown");
}
END_TEST

/* Links, from hand-made entries: what each differs in, how it is shown. */
START_TEST(test_link_type_str)
{
	ck_assert_str_eq(kind_type_str(KIND_LINK, BPF_LINK_TYPE_XDP), "xdp");
	ck_assert_str_eq(kind_type_str(KIND_LINK, BPF_LINK_TYPE_CGROUP), "cgroup");
	ck_assert_str_eq(kind_type_str(KIND_LINK, BPF_LINK_TYPE_PERF_EVENT), "perf_event");
	ck_assert_str_eq(kind_type_str(KIND_LINK, COMPAT_BPF_LINK_TYPE_TCX), "tcx");
	ck_assert_str_eq(kind_type_str(KIND_LINK, COMPAT_BPF_LINK_TYPE_NETKIT), "netkit");
	ck_assert_str_eq(kind_type_str(KIND_LINK, 999), "unknown");
}
END_TEST

START_TEST(test_link_updatable)
{
	ck_assert(kind_link_updatable(BPF_LINK_TYPE_XDP));
	ck_assert(kind_link_updatable(COMPAT_BPF_LINK_TYPE_TCX));
	ck_assert(kind_link_updatable(BPF_LINK_TYPE_CGROUP));
	ck_assert(kind_link_updatable(BPF_LINK_TYPE_NETNS));
	ck_assert(kind_link_updatable(COMPAT_BPF_LINK_TYPE_NETKIT));
	ck_assert(!kind_link_updatable(BPF_LINK_TYPE_RAW_TRACEPOINT));
	ck_assert(!kind_link_updatable(BPF_LINK_TYPE_TRACING));
	ck_assert(!kind_link_updatable(BPF_LINK_TYPE_PERF_EVENT));
	ck_assert(!kind_link_updatable(BPF_LINK_TYPE_UNSPEC));
}
END_TEST

/* The reasons the pinned h differs from w, "" for none. */
static const char *link_diff(const struct desired_pin *w, const struct observed_entry *h)
{
	static char buf[512];
	char *r = NULL;

	ck_assert_int_eq(kind_ops(KIND_LINK)->differences(w, h, &r), 0);
	snprintf(buf, sizeof(buf), "%s", r ? r : "");
	free(r);
	return buf;
}

START_TEST(test_link_differences)
{
	struct desired_link l = { .how = DESIRED_LINK_IFINDEX, .attach_type = BPF_XDP,
				  .target = (char *)"veth0", .ifindex = 3 };
	struct desired_pin w = { .path = (char *)"links/x", .kind = KIND_LINK,
				 .spec.type = BPF_LINK_TYPE_XDP, .link = &l };
	struct observed_entry h = { .path = (char *)"links/x", .kind = OBSERVED_LINK,
				    .type = BPF_LINK_TYPE_XDP, .attach_type = BPF_XDP, .ifindex = 3,
				    .target = (char *)"veth0", .prog_id = 7, .tag = { 1 } };

	/* The program is the planner's to compare, not the hook's. */
	ck_assert_str_eq(link_diff(&w, &h), "");
	h.ifindex = 4;
	h.target = (char *)"veth1";
	ck_assert_str_eq(link_diff(&w, &h), "interface veth1 -> veth0");
	h.target = NULL;
	ck_assert_str_eq(link_diff(&w, &h), "interface ifindex 4 -> veth0");
	h.ifindex = 0;
	h.defunct = true;
	ck_assert_str_eq(link_diff(&w, &h), "its interface is gone");
	/* Another type: that alone. */
	h.type = COMPAT_BPF_LINK_TYPE_TCX;
	ck_assert_str_eq(link_diff(&w, &h), "type tcx -> xdp");
	/* Unresolved (offline) or no link part: the type alone. */
	l.ifindex = 0;
	ck_assert_str_eq(link_diff(&w, &h), "type tcx -> xdp");
	h.type = BPF_LINK_TYPE_XDP;
	ck_assert_str_eq(link_diff(&w, &h), "");
	w.link = NULL;
	ck_assert_str_eq(link_diff(&w, &h), "");
	w.link = &l;

	/* tcx: interface and direction. */
	w.spec.type = h.type = COMPAT_BPF_LINK_TYPE_TCX;
	l.attach_type = COMPAT_BPF_TCX_EGRESS;
	l.ifindex = 3;
	h = (struct observed_entry){ .kind = OBSERVED_LINK, .type = COMPAT_BPF_LINK_TYPE_TCX,
				     .attach_type = COMPAT_BPF_TCX_INGRESS, .ifindex = 5,
				     .target = (char *)"eth1" };
	ck_assert_str_eq(link_diff(&w, &h), "interface eth1 -> veth0; direction ingress -> egress");

	/* cgroup: the cgroup by id, and the attach type. */
	l = (struct desired_link){ .how = DESIRED_LINK_CGROUP,
				   .attach_type = BPF_CGROUP_INET_EGRESS,
				   .target = (char *)"test.slice", .cgroup_id = 42 };
	w.spec.type = BPF_LINK_TYPE_CGROUP;
	h = (struct observed_entry){ .kind = OBSERVED_LINK, .type = BPF_LINK_TYPE_CGROUP,
				     .attach_type = BPF_CGROUP_INET_EGRESS, .cgroup_id = 42,
				     .target = (char *)"/test.slice" };
	ck_assert_str_eq(link_diff(&w, &h), "");
	h.cgroup_id = 43;
	h.target = (char *)"/other.slice";
	h.attach_type = BPF_CGROUP_INET_INGRESS;
	ck_assert_str_eq(link_diff(&w, &h), "cgroup /other.slice -> test.slice; attach type "
					    "cgroup_inet_ingress -> cgroup_inet_egress");
	h.cgroup_id = 0;
	h.target = NULL;
	h.defunct = true;
	ck_assert_str_eq(link_diff(&w, &h), "its cgroup is gone");
	l.cgroup_id = 0;
	ck_assert_str_eq(link_diff(&w, &h), "");

	/* Tracepoints: the kernel names the event without its category. */
	l = (struct desired_link){ .how = DESIRED_LINK_TRACEPOINT,
				   .target = (char *)"sched/sched_switch" };
	w.spec.type = BPF_LINK_TYPE_PERF_EVENT;
	h = (struct observed_entry){ .kind = OBSERVED_LINK, .type = BPF_LINK_TYPE_PERF_EVENT,
				     .attach_type = BPF_PERF_EVENT, .target = (char *)"sched_switch" };
	ck_assert_str_eq(link_diff(&w, &h), "");
	h.target = (char *)"sched_wakeup";
	ck_assert_str_eq(link_diff(&w, &h), "tracepoint sched_wakeup -> sched/sched_switch");
	h.target = NULL; /* a kernel before 6.6 does not say */
	ck_assert_str_eq(link_diff(&w, &h), "");

	l = (struct desired_link){ .how = DESIRED_LINK_RAW_TP, .target = (char *)"sched_switch" };
	w.spec.type = h.type = BPF_LINK_TYPE_RAW_TRACEPOINT;
	h.target = (char *)"sched_switch";
	ck_assert_str_eq(link_diff(&w, &h), "");
	h.target = (char *)"task_rename";
	ck_assert_str_eq(link_diff(&w, &h), "raw tracepoint task_rename -> sched_switch");

	/* Tracing: the function where both are known; an LSM hook's BTF
	 * name has a prefix the section does not. */
	l = (struct desired_link){ .how = DESIRED_LINK_TRACING, .attach_type = BPF_LSM_MAC,
				   .target = (char *)"file_open" };
	w.spec.type = BPF_LINK_TYPE_TRACING;
	h = (struct observed_entry){ .kind = OBSERVED_LINK, .type = BPF_LINK_TYPE_TRACING,
				     .attach_type = BPF_LSM_MAC,
				     .target = (char *)"bpf_lsm_file_open" };
	ck_assert_str_eq(link_diff(&w, &h), "");
	h.target = (char *)"bpf_lsm_bprm_check_security";
	ck_assert_str_eq(link_diff(&w, &h), "function bpf_lsm_bprm_check_security -> file_open");
	l.target = (char *)"";
	ck_assert_str_eq(link_diff(&w, &h), "");

	/* kprobes: the function, whatever the offset. */
	l = (struct desired_link){ .how = DESIRED_LINK_KPROBE, .target = (char *)"do_unlinkat+4" };
	w.spec.type = BPF_LINK_TYPE_PERF_EVENT;
	h = (struct observed_entry){ .kind = OBSERVED_LINK, .type = BPF_LINK_TYPE_PERF_EVENT,
				     .target = (char *)"do_unlinkat" };
	ck_assert_str_eq(link_diff(&w, &h), "");
	h.target = (char *)"do_unlinkat2";
	ck_assert_str_eq(link_diff(&w, &h), "function do_unlinkat2 -> do_unlinkat");
}
END_TEST

static const char *link_show(const struct observed_entry *e)
{
	static char buf[256];

	kind_link_show(e, buf, sizeof(buf));
	return buf;
}

START_TEST(test_link_show)
{
	struct observed_entry e = { .kind = OBSERVED_LINK, .type = BPF_LINK_TYPE_XDP,
				    .attach_type = BPF_XDP, .ifindex = 3,
				    .target = (char *)"veth0" };

	ck_assert_str_eq(link_show(&e), "xdp veth0 (ifindex 3)");
	e.target = NULL;
	ck_assert_str_eq(link_show(&e), "xdp ifindex 3");
	e.ifindex = 0;
	e.defunct = true;
	ck_assert_str_eq(link_show(&e), "defunct xdp (interface gone)");
	e = (struct observed_entry){ .type = COMPAT_BPF_LINK_TYPE_TCX,
				     .attach_type = COMPAT_BPF_TCX_INGRESS, .ifindex = 3,
				     .target = (char *)"veth0" };
	ck_assert_str_eq(link_show(&e), "tcx_ingress veth0");
	e.defunct = true;
	ck_assert_str_eq(link_show(&e), "defunct tcx (interface gone)");
	e = (struct observed_entry){ .type = BPF_LINK_TYPE_CGROUP,
				     .attach_type = BPF_CGROUP_INET_INGRESS, .cgroup_id = 9,
				     .target = (char *)"/test.slice" };
	ck_assert_str_eq(link_show(&e), "cgroup_inet_ingress /test.slice");
	e.target = NULL;
	ck_assert_str_eq(link_show(&e), "cgroup_inet_ingress cgroup id 9");
	e.defunct = true;
	ck_assert_str_eq(link_show(&e), "defunct cgroup_inet_ingress (cgroup gone)");
	e = (struct observed_entry){ .type = BPF_LINK_TYPE_PERF_EVENT,
				     .attach_type = BPF_PERF_EVENT,
				     .target = (char *)"sched_switch" };
	ck_assert_str_eq(link_show(&e), "perf_event sched_switch");
	e = (struct observed_entry){ .type = BPF_LINK_TYPE_RAW_TRACEPOINT,
				     .target = (char *)"sched_switch" };
	ck_assert_str_eq(link_show(&e), "raw_tracepoint sched_switch");
	e = (struct observed_entry){ .type = BPF_LINK_TYPE_TRACING,
				     .attach_type = BPF_TRACE_FENTRY,
				     .target = (char *)"do_unlinkat" };
	ck_assert_str_eq(link_show(&e), "trace_fentry do_unlinkat");
	e = (struct observed_entry){ .type = BPF_LINK_TYPE_NETNS,
				     .attach_type = BPF_FLOW_DISSECTOR, .defunct = true };
	ck_assert_str_eq(link_show(&e), "defunct flow_dissector (network namespace gone)");
	e = (struct observed_entry){ .type = 999 };
	ck_assert_str_eq(link_show(&e), "unknown");
}
END_TEST

static const char *link_describe(const struct desired_pin *w)
{
	static char buf[256];

	kind_ops(KIND_LINK)->describe(w, buf, sizeof(buf));
	return buf;
}

START_TEST(test_link_describe)
{
	struct desired_link l = { .how = DESIRED_LINK_IFINDEX, .attach_type = BPF_XDP,
				  .target = (char *)"veth0" };
	struct desired_pin w = { .kind = KIND_LINK, .spec.type = BPF_LINK_TYPE_XDP, .link = &l };

	ck_assert_str_eq(link_describe(&w), "xdp veth0");
	l.xdp_flags = XDP_FLAGS_SKB_MODE;
	ck_assert_str_eq(link_describe(&w), "xdp veth0 (generic)");
	l.attach_type = COMPAT_BPF_TCX_INGRESS;
	ck_assert_str_eq(link_describe(&w), "tcx ingress veth0");
	l = (struct desired_link){ .how = DESIRED_LINK_CGROUP,
				   .attach_type = BPF_CGROUP_INET_INGRESS,
				   .target = (char *)"/test.slice" };
	ck_assert_str_eq(link_describe(&w), "cgroup_inet_ingress /test.slice");
	l = (struct desired_link){ .how = DESIRED_LINK_TRACEPOINT,
				   .target = (char *)"sched/sched_switch" };
	ck_assert_str_eq(link_describe(&w), "tracepoint sched/sched_switch");
	l = (struct desired_link){ .how = DESIRED_LINK_KPROBE, .retprobe = true,
				   .target = (char *)"do_unlinkat" };
	ck_assert_str_eq(link_describe(&w), "kretprobe do_unlinkat");
	l = (struct desired_link){ .how = DESIRED_LINK_TRACING, .attach_type = BPF_TRACE_FENTRY,
				   .target = (char *)"" };
	ck_assert_str_eq(link_describe(&w), "trace_fentry");
	w.link = NULL;
	ck_assert_str_eq(link_describe(&w), "xdp");
}
END_TEST

Suite *observed_suite(void)
{
	Suite *s = suite_create("observed");
	TCase *tc = tcase_create("bpffs");
	TCase *pure = tcase_create("pure");

	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_nested_tree);
	tcase_add_test(tc, test_map_spec);
	tcase_add_test(tc, test_ledger_known_map);
	tcase_add_test(tc, test_program);
	tcase_add_test(tc, test_link);
	tcase_add_test(tc, test_owner_mode);
	tcase_add_test(tc, test_symlinks_not_followed);
	tcase_add_test(tc, test_kernel_debug_files);
	tcase_add_test(tc, test_find);
	tcase_add_test(tc, test_root_errors);
	tcase_add_test(tc, test_unreadable_subtrees);
	tcase_add_test(tc, test_scale);
	tcase_add_test(tc, test_query_split);
	suite_add_tcase(s, tc);

	tcase_add_test(pure, test_kind_str);
	tcase_add_test(pure, test_link_type_str);
	tcase_add_test(pure, test_link_updatable);
	tcase_add_test(pure, test_link_differences);
	tcase_add_test(pure, test_link_show);
	tcase_add_test(pure, test_link_describe);
	suite_add_tcase(s, pure);
	return s;
}
