// SPDX-License-Identifier: MIT
/* Unit tests of target.c with the links observed.c then finds: each test
 * runs in a network namespace of its own (veths made there with ip(8)),
 * pins in a private bpffs on a fresh directory under /tmp, makes cgroups
 * below the cgroup2 mount and mounts tracefs on a directory of its own
 * when none is mounted; all of it removed after.  Never touches
 * /sys/fs/bpf, the host's interfaces or /sys/kernel/tracing.  A test the
 * machine cannot run prints SKIP (a failure with
 * BPF_PROVISION_REQUIRE_ALL=1). */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "check_suites.h"
#include "cleanup.h"
#include "compat.h"
#include "desired.h"
#include "kind.h"
#include "manifest.h"
#include "observed.h"
#include "sys.h"
#include "target.h"

static struct {
	char base[64];
	char root[96];
	char tracefs[96]; /* ours, when we mounted one */
	char cgroup[4096]; /* ours, below the cgroup2 mount */
	bool mounted;
	int netns; /* the runner's, to go back to; -1 when not left */
} fx = { .netns = -1 };

static bool require_all(void)
{
	const char *req = getenv("BPF_PROVISION_REQUIRE_ALL");

	return req && !strcmp(req, "1");
}

#define SKIP(...)                                                                                  \
	do {                                                                                       \
		if (require_all())                                                                 \
			ck_abort_msg(__VA_ARGS__);                                                 \
		fprintf(stderr, "SKIP: target: " __VA_ARGS__);                                     \
		fprintf(stderr, "\n");                                                             \
		return;                                                                            \
	} while (0)

static void setup(void)
{
	fx.mounted = false;
	fx.tracefs[0] = fx.cgroup[0] = '\0';
	strcpy(fx.base, "/tmp/check_target.XXXXXX");
	ck_assert_msg(mkdtemp(fx.base), "mkdtemp: %s", strerror(errno));
	snprintf(fx.root, sizeof(fx.root), "%s/fs", fx.base);
	ck_assert_int_eq(mkdir(fx.root, 0700), 0);
	fx.mounted = mount("bpf", fx.root, "bpf", 0, NULL) == 0;
	fx.netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fx.netns, 0);
	if (unshare(CLONE_NEWNET) < 0) {
		close(fx.netns);
		fx.netns = -1;
	}
}

static void teardown(void)
{
	/* The pins go with the mount, and the links with them. */
	if (fx.mounted && umount2(fx.root, MNT_DETACH) < 0)
		fprintf(stderr, "target: umount %s: %s\n", fx.root, strerror(errno));
	rmdir(fx.root);
	if (fx.tracefs[0]) {
		if (umount2(fx.tracefs, MNT_DETACH) < 0)
			fprintf(stderr, "target: umount %s: %s\n", fx.tracefs, strerror(errno));
		rmdir(fx.tracefs);
	}
	if (fx.cgroup[0] && rmdir(fx.cgroup) < 0 && errno != ENOENT)
		fprintf(stderr, "target: rmdir %s: %s\n", fx.cgroup, strerror(errno));
	if (fx.netns >= 0) {
		/* The namespace, and the veths in it, go when nothing is in it. */
		if (setns(fx.netns, CLONE_NEWNET) < 0)
			fprintf(stderr, "target: setns: %s\n", strerror(errno));
		close(fx.netns);
		fx.netns = -1;
	}
	if (rmdir(fx.base) < 0)
		fprintf(stderr, "target: rmdir %s: %s\n", fx.base, strerror(errno));
}

/* Every kernel test starts with this. */
#define NEED_KERNEL()                                                                              \
	do {                                                                                       \
		if (!fx.mounted)                                                                   \
			SKIP("cannot mount bpffs on %s (needs root)", fx.root);                    \
		if (fx.netns < 0)                                                                  \
			SKIP("cannot make a network namespace (needs CAP_SYS_ADMIN)");             \
	} while (0)

/* A veth pair in the test's namespace; false when ip(8) cannot make one. */
static bool make_veth(const char *a, const char *b)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "ip link add %s type veth peer name %s >/dev/null 2>&1", a, b);
	return system(cmd) == 0;
}

static void del_link(const char *name)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "ip link del %s", name);
	ck_assert_int_eq(system(cmd), 0);
}

static int prog_returning(enum bpf_prog_type type, const char *name, int ret)
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
	strncpy(attr.prog_name, name, sizeof(attr.prog_name) - 1);
	fd = (int)syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	ck_assert_msg(fd >= 0, "BPF_PROG_LOAD %s: %s", name, strerror(errno));
	return fd;
}

static struct bpf_prog_info prog_info(int fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	ck_assert_int_eq(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	return info;
}

/* One declared link at path, as desired.c would make it. */
struct one {
	struct manifest_attach attach;
	struct desired_link link;
	struct desired_pin pin;
	struct desired des;
};

static void one_init(struct one *o, const char *path, enum desired_link_how how, uint32_t type,
		     uint32_t attach_type, const char *target)
{
	memset(o, 0, sizeof(*o));
	o->attach.loc = (struct diag_loc){ .file = "m.yaml", .line = 7, .column = 12 };
	o->link = (struct desired_link){ .attach = &o->attach,
					 .how = how,
					 .attach_type = attach_type,
					 .target = strdup(target) };
	ck_assert_ptr_nonnull(o->link.target);
	o->pin = (struct desired_pin){ .path = (char *)path,
				       .kind = KIND_LINK,
				       .spec.type = type,
				       .link = &o->link };
	o->des = (struct desired){ .pins = &o->pin, .n_pins = 1, .links = &o->link, .n_links = 1 };
}

static void one_done(struct one *o)
{
	free(o->link.target);
	free(o->link.cgroup_path);
}

static bool has_msg(const struct diag *d, enum diag_severity sev, const char *part)
{
	for (size_t i = 0; i < d->n_msgs; i++)
		if (d->msgs[i].severity == sev && strstr(d->msgs[i].text, part))
			return true;
	return false;
}

static void assert_msg(const struct diag *d, enum diag_severity sev, const char *part)
{
	ck_assert_msg(has_msg(d, sev, part), "no %s saying '%s' (%zu messages, first: %s)",
		      sev == DIAG_ERROR ? "error" : "warning", part, d->n_msgs,
		      d->n_msgs ? d->msgs[0].text : "-");
}

static int resolve(struct one *o, const struct observed *obs, struct diag *d)
{
	struct target_options opts = { 0 };

	return target_resolve(&o->des, obs, &opts, d);
}

/* Attaches the resolved link for prog and pins it at its path. */
static void attach_pin(const struct one *o, int prog)
{
	struct diag d = { 0 };
	struct sys s;
	int fd = -1, r;

	sys_init(&s);
	s.fail_at = 0;
	ck_assert_int_eq(sys_open_root(&s, fx.root), 0);
	r = target_attach(&s, &o->link, prog, &d, &fd);
	ck_assert_msg(r == 0, "attach: %s", d.n_msgs ? d.msgs[0].text : strerror(-r));
	ck_assert_uint_eq(s.steps, 1);
	ck_assert_int_eq(sys_obj_pin(&s, fd, o->pin.path), 0);
	close(fd);
	sys_close_root(&s);
	diag_done(&d);
}

static const struct observed_entry *scan_find(struct observed *o, const char *path)
{
	struct diag d = { 0 };
	const struct observed_entry *e;

	observed_done(o);
	ck_assert_int_eq(observed_scan(fx.root, NULL, &d, o), 0);
	diag_done(&d);
	e = observed_find(o, path);
	ck_assert_msg(e, "'%s' not observed", path);
	ck_assert_int_eq(e->kind, OBSERVED_LINK);
	return e;
}

static const char *reasons(const struct one *o, const struct observed_entry *e)
{
	static char buf[512];
	char *r = NULL;

	ck_assert_int_eq(kind_ops(KIND_LINK)->differences(&o->pin, e, &r), 0);
	snprintf(buf, sizeof(buf), "%s", r ? r : "");
	free(r);
	return buf;
}

static const char *show(const struct observed_entry *e)
{
	static char buf[256];

	kind_link_show(e, buf, sizeof(buf));
	return buf;
}

/* Runs on every plan: no link, nothing to do, nothing said. */
START_TEST(test_no_links)
{
	struct desired_pin pins[2] = { { .path = (char *)"m", .kind = KIND_MAP },
				       { .path = (char *)"p", .kind = KIND_PROGRAM } };
	struct desired des = { .pins = pins, .n_pins = 2 };
	struct target_options opts = { .mount_tracefs = true };
	struct diag d = { 0 };

	ck_assert_int_eq(target_resolve(&des, NULL, &opts, &d), 0);
	des.n_pins = 0;
	ck_assert_int_eq(target_resolve(&des, NULL, &opts, &d), 0);
	ck_assert_uint_eq(d.n_msgs, 0);
}
END_TEST

START_TEST(test_mount_point)
{
	char *p = NULL;

	ck_assert_int_eq(target_mount_point("no-such-fstype", &p), -ENOENT);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(target_mount_point("proc", &p), 0);
	ck_assert_str_eq(p, "/proc");
	free(p);
}
END_TEST

/* An XDP link: resolved, made, pinned and found again with its program
 * and interface; its hook then refused to any other pin; and once the
 * interface is gone, found defunct. */
START_TEST(test_xdp)
{
	struct observed obs = { 0 };
	const struct observed_entry *e;
	struct bpf_prog_info pi;
	struct diag d = { 0 };
	struct one x, other;
	int prog;

	NEED_KERNEL();
	if (!make_veth("veth0", "veth1"))
		SKIP("cannot make a veth pair with ip(8)");
	prog = prog_returning(BPF_PROG_TYPE_XDP, "ck_xdp", 2);
	pi = prog_info(prog);
	one_init(&x, "xdp", DESIRED_LINK_IFINDEX, BPF_LINK_TYPE_XDP, BPF_XDP, "veth0");
	ck_assert_int_eq(resolve(&x, NULL, &d), 0);
	ck_assert_uint_eq(d.n_msgs, 0);
	ck_assert_uint_eq(x.link.ifindex, if_nametoindex("veth0"));
	attach_pin(&x, prog);

	e = scan_find(&obs, "xdp");
	ck_assert_uint_eq(e->type, BPF_LINK_TYPE_XDP);
	ck_assert_uint_eq(e->attach_type, BPF_XDP);
	ck_assert_uint_eq(e->prog_id, pi.id);
	ck_assert_mem_eq(e->tag, pi.tag, sizeof(e->tag));
	ck_assert_uint_eq(e->ifindex, x.link.ifindex);
	ck_assert_pstr_eq(e->target, "veth0");
	ck_assert(!e->defunct);
	ck_assert_str_eq(reasons(&x, e), "");

	/* Its own pin holds the hook: fine.  Another: refused, and named. */
	ck_assert_int_eq(resolve(&x, &obs, &d), 0);
	ck_assert_uint_eq(d.n_msgs, 0);
	one_init(&other, "other", DESIRED_LINK_IFINDEX, BPF_LINK_TYPE_XDP, BPF_XDP, "veth0");
	ck_assert_int_eq(resolve(&other, &obs, &d), -EBUSY);
	assert_msg(&d, DIAG_ERROR, "the XDP hook of veth0 is taken by program 'ck_xdp'");
	assert_msg(&d, DIAG_ERROR, "attached by the link pinned at ");
	ck_assert_str_eq(d.msgs[0].file, "m.yaml");
	ck_assert_uint_eq(d.msgs[0].line, 7);
	diag_done(&d);
	/* And the kernel says so too, in words. */
	{
		struct sys s;
		int fd = -1;

		sys_init(&s);
		s.fail_at = 0;
		ck_assert_int_eq(target_attach(&s, &other.link, prog, &d, &fd), -EBUSY);
		assert_msg(&d, DIAG_ERROR, "the XDP hook of veth0 is taken");
		diag_done(&d);
	}

	del_link("veth0");
	e = scan_find(&obs, "xdp");
	ck_assert(e->defunct);
	ck_assert_uint_eq(e->ifindex, 0);
	ck_assert_ptr_null(e->target);
	ck_assert_uint_eq(e->prog_id, pi.id);
	ck_assert_str_eq(show(e), "defunct xdp (interface gone)");
	ck_assert_str_eq(reasons(&x, e), "its interface is gone");
	observed_done(&obs);
	one_done(&x);
	one_done(&other);
	close(prog);
}
END_TEST

START_TEST(test_missing_interface)
{
	struct diag d = { 0 };
	struct one x;

	NEED_KERNEL();
	one_init(&x, "xdp", DESIRED_LINK_IFINDEX, BPF_LINK_TYPE_XDP, BPF_XDP, "nosuch0");
	ck_assert_int_eq(resolve(&x, NULL, &d), -ENOENT);
	assert_msg(&d, DIAG_ERROR, "interface 'nosuch0' does not exist");
	ck_assert(!x.link.skipped);
	diag_done(&d);
	x.attach.optional = true;
	ck_assert_int_eq(resolve(&x, NULL, &d), 0);
	ck_assert_uint_eq(d.n_errors, 0);
	assert_msg(&d, DIAG_WARNING, "interface 'nosuch0' does not exist: skipped (optional)");
	ck_assert(x.link.skipped);
	ck_assert_uint_eq(x.link.ifindex, 0);
	diag_done(&d);
	one_done(&x);
}
END_TEST

/* A program of the wrong type for the hook: said so; and an injected
 * failure makes nothing. */
START_TEST(test_attach_errors)
{
	struct diag d = { 0 };
	struct sys s;
	struct one x;
	int prog, fd = -1;

	NEED_KERNEL();
	prog = prog_returning(BPF_PROG_TYPE_SOCKET_FILTER, "ck_filter", 0);
	one_init(&x, "xdp", DESIRED_LINK_IFINDEX, BPF_LINK_TYPE_XDP, BPF_XDP, "lo");
	ck_assert_int_eq(resolve(&x, NULL, &d), 0);
	ck_assert_uint_eq(x.link.ifindex, 1);
	sys_init(&s);
	s.fail_at = 0;
	ck_assert_int_eq(target_attach(&s, &x.link, prog, &d, &fd), -EINVAL);
	assert_msg(&d, DIAG_ERROR, "it takes xdp programs, and 'ck_filter' is of type socket_filter");
	ck_assert_int_eq(fd, -1);
	diag_done(&d);
	s.fail_at = s.steps + 1;
	s.fail_errno = ENOSPC;
	ck_assert_int_eq(target_attach(&s, &x.link, prog, &d, &fd), -ENOSPC);
	ck_assert_int_eq(fd, -1);
	ck_assert_uint_eq(d.n_errors, 1);
	diag_done(&d);
	one_done(&x);
	close(prog);
}
END_TEST

START_TEST(test_tcx)
{
	struct observed obs = { 0 };
	const struct observed_entry *e;
	struct diag d = { 0 };
	struct one x;
	int prog, r;

	NEED_KERNEL();
	if (!make_veth("veth0", "veth1"))
		SKIP("cannot make a veth pair with ip(8)");
	prog = prog_returning(BPF_PROG_TYPE_SCHED_CLS, "ck_tc", -1);
	one_init(&x, "tcx", DESIRED_LINK_IFINDEX, COMPAT_BPF_LINK_TYPE_TCX, COMPAT_BPF_TCX_EGRESS,
		 "veth1");
	r = resolve(&x, NULL, &d);
	if (r == -EOPNOTSUPP) {
		assert_msg(&d, DIAG_ERROR, "tcx links need Linux 6.6 or later");
		diag_done(&d);
		one_done(&x);
		close(prog);
		SKIP("this kernel has no tcx");
	}
	ck_assert_int_eq(r, 0);
	attach_pin(&x, prog);
	e = scan_find(&obs, "tcx");
	ck_assert_uint_eq(e->type, COMPAT_BPF_LINK_TYPE_TCX);
	ck_assert_uint_eq(e->attach_type, COMPAT_BPF_TCX_EGRESS);
	ck_assert_uint_eq(e->ifindex, if_nametoindex("veth1"));
	ck_assert_pstr_eq(e->target, "veth1");
	ck_assert_str_eq(show(e), "tcx_egress veth1");
	ck_assert_str_eq(reasons(&x, e), "");
	x.link.attach_type = COMPAT_BPF_TCX_INGRESS;
	ck_assert_str_eq(reasons(&x, e), "direction egress -> ingress");
	del_link("veth1");
	e = scan_find(&obs, "tcx");
	ck_assert(e->defunct);
	ck_assert_str_eq(show(e), "defunct tcx (interface gone)");
	observed_done(&obs);
	one_done(&x);
	close(prog);
}
END_TEST

/* A cgroup link on a cgroup of the test's own, named relative to the
 * cgroup2 mount; defunct once the cgroup is removed. */
START_TEST(test_cgroup)
{
	_cleanup_free_ char *mnt = NULL;
	struct observed obs = { 0 };
	const struct observed_entry *e;
	struct diag d = { 0 };
	char rel[64], want[80];
	struct one x;
	int prog;

	NEED_KERNEL();
	if (target_mount_point("cgroup2", &mnt) < 0)
		SKIP("no cgroup2 filesystem is mounted");
	snprintf(fx.cgroup, sizeof(fx.cgroup), "%s/check_target.XXXXXX", mnt);
	if (!mkdtemp(fx.cgroup)) {
		fx.cgroup[0] = '\0';
		SKIP("cannot make a cgroup below %s: %s", mnt, strerror(errno));
	}
	snprintf(rel, sizeof(rel), "%s", fx.cgroup + strlen(mnt) + 1);
	snprintf(want, sizeof(want), "/%s", rel);
	prog = prog_returning(BPF_PROG_TYPE_CGROUP_SKB, "ck_cg", 1);
	one_init(&x, "cg", DESIRED_LINK_CGROUP, BPF_LINK_TYPE_CGROUP, BPF_CGROUP_INET_INGRESS, rel);
	ck_assert_int_eq(resolve(&x, NULL, &d), 0);
	ck_assert_uint_eq(d.n_msgs, 0);
	ck_assert_pstr_eq(x.link.cgroup_path, fx.cgroup);
	ck_assert_uint_ne(x.link.cgroup_id, 0);
	attach_pin(&x, prog);
	e = scan_find(&obs, "cg");
	ck_assert_uint_eq(e->type, BPF_LINK_TYPE_CGROUP);
	ck_assert_uint_eq(e->attach_type, BPF_CGROUP_INET_INGRESS);
	ck_assert_uint_eq(e->cgroup_id, x.link.cgroup_id);
	ck_assert_pstr_eq(e->target, want);
	ck_assert_str_eq(reasons(&x, e), "");

	/* The same cgroup by its absolute path is the same cgroup. */
	free(x.link.target);
	x.link.target = strdup(fx.cgroup);
	ck_assert_int_eq(resolve(&x, NULL, &d), 0);
	ck_assert_str_eq(reasons(&x, e), "");

	ck_assert_int_eq(rmdir(fx.cgroup), 0);
	fx.cgroup[0] = '\0';
	/* The cgroup lets go of its links from a workqueue: soon, not at once. */
	for (int i = 0; i < 200; i++) {
		e = scan_find(&obs, "cg");
		if (e->defunct)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
	ck_assert(e->defunct);
	ck_assert_uint_eq(e->cgroup_id, 0);
	ck_assert_str_eq(show(e), "defunct cgroup_inet_ingress (cgroup gone)");
	ck_assert_str_eq(reasons(&x, e), "its cgroup is gone");

	/* Gone, and optional: skipped. */
	ck_assert_int_eq(resolve(&x, NULL, &d), -ENOENT);
	assert_msg(&d, DIAG_ERROR, "does not exist");
	diag_done(&d);
	x.attach.optional = true;
	ck_assert_int_eq(resolve(&x, NULL, &d), 0);
	ck_assert(x.link.skipped);
	diag_done(&d);
	/* Not a cgroup at all. */
	free(x.link.target);
	x.link.target = strdup(fx.base);
	ck_assert_int_eq(resolve(&x, NULL, &d), -EINVAL);
	assert_msg(&d, DIAG_ERROR, "not in a cgroup2 filesystem");
	diag_done(&d);
	observed_done(&obs);
	one_done(&x);
	close(prog);
}
END_TEST

/* A tracepoint link through a perf event, with tracefs found where it is
 * mounted - or mounted by the test on a directory of its own. */
START_TEST(test_tracepoint)
{
	_cleanup_free_ char *have = NULL;
	struct observed obs = { 0 };
	const struct observed_entry *e;
	struct diag d = { 0 };
	struct one x;
	int prog, r;

	NEED_KERNEL();
	prog = prog_returning(BPF_PROG_TYPE_TRACEPOINT, "ck_tp", 0);
	one_init(&x, "tp", DESIRED_LINK_TRACEPOINT, BPF_LINK_TYPE_PERF_EVENT, BPF_PERF_EVENT,
		 "sched/sched_switch");
	if (target_mount_point("tracefs", &have) == -ENOENT &&
	    target_mount_point("debugfs", &have) == -ENOENT) {
		/* None: an error, unless --mount; a dry run only plans it. */
		struct target_options opts = { .mount_tracefs = true, .dry_run = true };

		ck_assert_int_eq(resolve(&x, NULL, &d), -ENOENT);
		assert_msg(&d, DIAG_ERROR,
			   "tracepoints need tracefs; mount it at /sys/kernel/tracing or pass --mount");
		diag_done(&d);
		ck_assert_int_eq(target_resolve(&x.des, NULL, &opts, &d), 0);
		ck_assert_uint_eq(d.n_msgs, 0);
		snprintf(fx.tracefs, sizeof(fx.tracefs), "%s/tracing", fx.base);
		ck_assert_int_eq(mkdir(fx.tracefs, 0700), 0);
		if (mount("tracefs", fx.tracefs, "tracefs", 0, NULL) < 0) {
			rmdir(fx.tracefs);
			fx.tracefs[0] = '\0';
			close(prog);
			one_done(&x);
			SKIP("cannot mount tracefs: %s", strerror(errno));
		}
	}
	r = resolve(&x, NULL, &d);
	ck_assert_msg(r == 0, "resolve: %s", d.n_msgs ? d.msgs[0].text : strerror(-r));
	attach_pin(&x, prog);
	e = scan_find(&obs, "tp");
	ck_assert_uint_eq(e->type, BPF_LINK_TYPE_PERF_EVENT);
	ck_assert_uint_eq(e->prog_id, prog_info(prog).id);
	/* Linux 6.6 and later name the event (without its category). */
	if (e->target)
		ck_assert_str_eq(e->target, "sched_switch");
	ck_assert_str_eq(reasons(&x, e), "");

	one_done(&x);
	one_init(&x, "tp2", DESIRED_LINK_TRACEPOINT, BPF_LINK_TYPE_PERF_EVENT, BPF_PERF_EVENT,
		 "sched/no_such_event");
	ck_assert_int_eq(resolve(&x, NULL, &d), -ENOENT);
	assert_msg(&d, DIAG_ERROR, "tracepoint 'sched/no_such_event' does not exist");
	diag_done(&d);
	free(x.link.target);
	x.link.target = strdup("../../etc");
	ck_assert_int_eq(resolve(&x, NULL, &d), -EINVAL);
	assert_msg(&d, DIAG_ERROR, "is not CATEGORY/NAME");
	diag_done(&d);
	observed_done(&obs);
	one_done(&x);
	close(prog);
}
END_TEST

START_TEST(test_raw_tp)
{
	struct observed obs = { 0 };
	const struct observed_entry *e;
	struct diag d = { 0 };
	struct one x;
	int prog;

	NEED_KERNEL();
	prog = prog_returning(BPF_PROG_TYPE_RAW_TRACEPOINT, "ck_raw", 0);
	one_init(&x, "raw", DESIRED_LINK_RAW_TP, BPF_LINK_TYPE_RAW_TRACEPOINT, 0, "task_rename");
	ck_assert_int_eq(resolve(&x, NULL, &d), 0);
	attach_pin(&x, prog);
	e = scan_find(&obs, "raw");
	ck_assert_uint_eq(e->type, BPF_LINK_TYPE_RAW_TRACEPOINT);
	ck_assert_pstr_eq(e->target, "task_rename");
	ck_assert_str_eq(show(e), "raw_tracepoint task_rename");
	ck_assert_str_eq(reasons(&x, e), "");
	observed_done(&obs);
	one_done(&x);
	close(prog);
}
END_TEST

/* Without the kprobe PMU, said in words; with it, a function that is not
 * there. */
START_TEST(test_kprobe)
{
	struct diag d = { 0 };
	struct one x;

	one_init(&x, "kp", DESIRED_LINK_KPROBE, BPF_LINK_TYPE_PERF_EVENT, BPF_PERF_EVENT,
		 "no_such_function_here");
	if (access("/sys/bus/event_source/devices/kprobe/type", F_OK) < 0) {
		ck_assert_int_eq(resolve(&x, NULL, &d), -EOPNOTSUPP);
		assert_msg(&d, DIAG_ERROR,
			   "kprobes are not supported by this kernel (CONFIG_KPROBE_EVENTS)");
	} else {
		ck_assert_int_eq(resolve(&x, NULL, &d), -ENOENT);
		assert_msg(&d, DIAG_ERROR, "function 'no_such_function_here' does not exist");
	}
	diag_done(&d);
	one_done(&x);
}
END_TEST

Suite *target_suite(void)
{
	Suite *s = suite_create("target");
	TCase *pure = tcase_create("pure");
	TCase *tc = tcase_create("kernel");

	tcase_add_test(pure, test_no_links);
	tcase_add_test(pure, test_mount_point);
	tcase_add_test(pure, test_kprobe);
	suite_add_tcase(s, pure);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_xdp);
	tcase_add_test(tc, test_missing_interface);
	tcase_add_test(tc, test_attach_errors);
	tcase_add_test(tc, test_tcx);
	tcase_add_test(tc, test_cgroup);
	tcase_add_test(tc, test_tracepoint);
	tcase_add_test(tc, test_raw_tp);
	suite_add_tcase(s, tc);
	return s;
}
