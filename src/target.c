// SPDX-License-Identifier: MIT
/* Target: the hooks declared links attach to, checked against this machine
 * before planning - so that a plan says "interface 'veth0' does not exist"
 * rather than apply failing with ENODEV halfway - and the links themselves
 * made for apply.  Resolution reads only (interfaces, cgroup2, tracefs,
 * kallsyms); the one change it may make is mounting tracefs when asked. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/magic.h>
#include <linux/perf_event.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cleanup.h"
#include "compat.h"
#include "kind.h"
#include "target.h"

/* Where --mount puts tracefs, as systemd's sys-kernel-tracing.mount does. */
#define TRACEFS_DEFAULT "/sys/kernel/tracing"
/* The kprobe PMU: there only with CONFIG_KPROBE_EVENTS. */
#define KPROBE_PMU "/sys/bus/event_source/devices/kprobe"

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

int target_mount_point(const char *fstype, char **ret)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		/* ID PARENT MAJ:MIN ROOT MOUNT-POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE
		 * SUPER-OPTIONS */
		char *save = NULL, *mnt = NULL;
		bool dash = false;
		int field = 0;

		for (char *t = strtok_r(line, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
			if (dash) {
				if (strcmp(t, fstype) || !mnt)
					break;
				unescape_octal(mnt);
				*ret = strdup(mnt);
				return *ret ? 0 : -ENOMEM;
			}
			if (field == 4)
				mnt = t;
			else if (field > 5 && strcmp(t, "-") == 0)
				dash = true;
			field++;
		}
	}
	return ferror(f) ? -EIO : -ENOENT;
}

/* tracefs where it is mounted, else below debugfs (an automount there). */
static int tracefs_dir(char **ret)
{
	_cleanup_free_ char *debugfs = NULL;
	int r = target_mount_point("tracefs", ret);

	if (r != -ENOENT)
		return r;
	r = target_mount_point("debugfs", &debugfs);
	if (r < 0)
		return r;
	if (asprintf(ret, "%s/tracing", debugfs) < 0)
		return -ENOMEM;
	if (access(*ret, X_OK) < 0) {
		r = -errno;
		free(*ret);
		*ret = NULL;
		return r == -ENOMEM ? r : -ENOENT;
	}
	return 0;
}

static const struct diag_loc *loc_of(const struct desired_link *l)
{
	return l->attach ? &l->attach->loc : NULL;
}

static const char *target_of(const struct desired_link *l)
{
	return l->target ? l->target : "";
}

static bool is_tcx(uint32_t attach_type)
{
	return attach_type == COMPAT_BPF_TCX_INGRESS || attach_type == COMPAT_BPF_TCX_EGRESS;
}

/* What one target_resolve() call has learnt, so that each probe and lookup
 * is made at most once however many links need it. */
struct resolver {
	const struct target_options *opts;
	const struct observed *obs;
	struct diag *d;
	int tcx;	   /* 0 not asked yet, 1 the kernel has tcx, -1 it has none */
	int kprobes;	   /* likewise */
	bool tracefs_done; /* tracefs looked for (and mounted, if asked to) */
	int tracefs_err;   /* why it was not found: negative errno, 0 found or planned */
	char *tracefs;	   /* its directory; NULL when not found, or planned in a dry run */
	bool cgroup2_done;
	char *cgroup2; /* the cgroup2 mount, NULL when none */
};

/* A target that is not there: an optional attach's link is skipped with a
 * warning, any other's is an error. */
__attribute__((format(printf, 3, 4))) static int
missing(struct resolver *rs, struct desired_link *l, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (l->attach && l->attach->optional) {
		diag_warning(rs->d, loc_of(l), "%s: skipped (optional)", what);
		l->skipped = true;
		return 0;
	}
	diag_error(rs->d, loc_of(l), "%s", what);
	return -ENOENT;
}

/* tcx answers BPF_PROG_QUERY on any interface - lo is ifindex 1 in every
 * network namespace - whether or not programs are attached; a kernel
 * without it refuses the attach type with EINVAL.  Any other failure
 * (EPERM) leaves it to the attach to say. */
static bool tcx_supported(struct resolver *rs)
{
	if (!rs->tcx) {
		__u32 count = 0;
		int r = bpf_prog_query(1, (enum bpf_attach_type)COMPAT_BPF_TCX_INGRESS, 0, NULL,
				       NULL, &count);

		rs->tcx = r == 0 || errno != EINVAL ? 1 : -1;
	}
	return rs->tcx > 0;
}

/* The name of the program with this id, "" when it cannot be read. */
static void prog_name(uint32_t id, char name[static BPF_OBJ_NAME_LEN])
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	_cleanup_close_ int fd = bpf_prog_get_fd_by_id(id);

	name[0] = '\0';
	memset(&info, 0, sizeof(info));
	if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
		snprintf(name, BPF_OBJ_NAME_LEN, "%s", info.name);
}

/* A program holds the XDP hook, and it is not the link declared at w's
 * pin: apply could only fail (EBUSY), and replacing another's program is
 * not ours to do. */
static int xdp_hook_taken(struct resolver *rs, const struct desired_link *l, uint32_t id)
{
	char name[BPF_OBJ_NAME_LEN];
	const char *holder = NULL;

	prog_name(id, name);
	for (size_t i = 0; rs->obs && i < rs->obs->n; i++) {
		const struct observed_entry *e = &rs->obs->entries[i];

		if (e->kind == OBSERVED_LINK && e->type == BPF_LINK_TYPE_XDP &&
		    e->ifindex == l->ifindex && e->prog_id == id) {
			holder = e->path;
			break;
		}
	}
	diag_error(rs->d, loc_of(l), "the XDP hook of %s is taken by program '%s' (id %u)%s%s%s%s",
		   target_of(l), name, id, holder ? ", attached by the link pinned at " : "",
		   holder ? rs->obs->root : "", holder ? "/" : "", holder ? holder : "");
	return -EBUSY;
}

static int check_xdp_hook(struct resolver *rs, const struct desired_pin *w,
			  const struct desired_link *l)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	const struct observed_entry *mine = observed_find(rs->obs, w->path);
	uint32_t ids[4];
	int r = bpf_xdp_query((int)l->ifindex, 0, &q);

	if (r < 0) {
		/* The hook is asked for over netlink; without it (a sandbox
		 * with no AF_NETLINK) apply still says whether it is taken. */
		diag_warning(rs->d, loc_of(l), "cannot ask whether the XDP hook of %s is taken: %s",
			     target_of(l), DIAG_STRERROR(-r));
		return 0;
	}
	ids[0] = q.prog_id;
	ids[1] = q.drv_prog_id;
	ids[2] = q.skb_prog_id;
	ids[3] = q.hw_prog_id;
	for (size_t i = 0; i < 4; i++) {
		if (!ids[i])
			continue;
		/* Its own link, still there: apply points it at the program. */
		if (mine && mine->kind == OBSERVED_LINK && mine->type == BPF_LINK_TYPE_XDP &&
		    mine->ifindex == l->ifindex && mine->prog_id == ids[i])
			continue;
		return xdp_hook_taken(rs, l, ids[i]);
	}
	return 0;
}

static int resolve_ifindex(struct resolver *rs, const struct desired_pin *w, struct desired_link *l)
{
	unsigned idx;

	if (is_tcx(l->attach_type) && !tcx_supported(rs)) {
		diag_error(rs->d, loc_of(l),
			   "tc: tcx links need Linux 6.6 or later; this kernel has none");
		return -EOPNOTSUPP;
	}
	idx = if_nametoindex(target_of(l));
	if (!idx) {
		int err = errno;

		if (err == ENODEV || err == ENXIO || err == EINVAL || err == ENAMETOOLONG)
			return missing(rs, l, "interface '%s' does not exist", target_of(l));
		diag_error(rs->d, loc_of(l), "cannot look up interface '%s': %s", target_of(l),
			   DIAG_STRERROR(err));
		return -err;
	}
	l->ifindex = idx;
	return l->attach_type == BPF_XDP ? check_xdp_hook(rs, w, l) : 0;
}

static int resolve_cgroup(struct resolver *rs, struct desired_link *l)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h;
	_cleanup_free_ char *path = NULL, *named = NULL;
	_cleanup_close_ int fd = -1;
	struct statfs sf;
	int mount_id, err;

	if (target_of(l)[0] == '/') {
		path = strdup(target_of(l));
	} else {
		if (!rs->cgroup2_done) {
			err = target_mount_point("cgroup2", &rs->cgroup2);
			if (err < 0 && err != -ENOENT) {
				diag_error(rs->d, loc_of(l), "cannot find the cgroup2 mount: %s",
					   DIAG_STRERROR(-err));
				return err;
			}
			rs->cgroup2_done = true;
		}
		if (!rs->cgroup2) {
			diag_error(rs->d, loc_of(l),
				   "cgroup '%s': no cgroup2 filesystem is mounted to find it in",
				   target_of(l));
			return -ENOENT;
		}
		if (asprintf(&path, "%s/%s", rs->cgroup2, target_of(l)) < 0)
			path = NULL;
	}
	if (!path)
		return -ENOMEM;
	/* A relative path is named with the directory it led to. */
	if (strcmp(path, target_of(l)) && asprintf(&named, "'%s' (%s)", target_of(l), path) < 0)
		named = NULL;
	else if (!strcmp(path, target_of(l)) && asprintf(&named, "'%s'", path) < 0)
		named = NULL;
	if (!named)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		if (err == ENOENT)
			return missing(rs, l, "cgroup %s does not exist", named);
		diag_error(rs->d, loc_of(l), "cannot open cgroup %s: %s", named,
			   DIAG_STRERROR(err));
		return -err;
	}
	if (fstatfs(fd, &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC) {
		diag_error(rs->d, loc_of(l), "%s is not a cgroup: not in a cgroup2 filesystem",
			   named);
		return -EINVAL;
	}
	/* A cgroup2 directory's file handle is its 8-byte cgroup id (kernfs
	 * node id), what a cgroup link's info reports. */
	h.fh.handle_bytes = sizeof(uint64_t);
	err = name_to_handle_at(fd, "", &h.fh, &mount_id, AT_EMPTY_PATH) < 0 ? errno : 0;
	if (err == 0 && h.fh.handle_bytes != sizeof(uint64_t))
		err = EPROTO;
	if (err) {
		diag_error(rs->d, loc_of(l), "cannot read the id of cgroup %s: %s", named,
			   DIAG_STRERROR(err));
		return -err;
	}
	memcpy(&l->cgroup_id, h.fh.f_handle, sizeof(l->cgroup_id));
	l->cgroup_path = TAKE_PTR(path);
	return 0;
}

/* mkdir -p for the tracefs mount point; what is already there is fine. */
static void make_dirs(const char *path)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
		if (s)
			*s = '\0';
		mkdir(p, 0700);
		if (!s)
			break;
		*s = '/';
	}
}

/* Finds tracefs once per call; with --mount mounts it where there is none
 * (a dry run only plans as if it had: rs->tracefs stays NULL, no error). */
static void find_tracefs(struct resolver *rs)
{
	int r;

	if (rs->tracefs_done)
		return;
	rs->tracefs_done = true;
	r = tracefs_dir(&rs->tracefs);
	if (r != -ENOENT || !rs->opts || !rs->opts->mount_tracefs) {
		rs->tracefs_err = r;
		return;
	}
	if (rs->opts->dry_run) {
		rs->tracefs_err = 0;
		return;
	}
	make_dirs(TRACEFS_DEFAULT);
	if (mount("tracefs", TRACEFS_DEFAULT, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) <
	    0) {
		rs->tracefs_err = -errno;
		diag_error(rs->d, NULL, "cannot mount tracefs at %s: %s", TRACEFS_DEFAULT,
			   DIAG_STRERROR(errno));
		return;
	}
	rs->tracefs = strdup(TRACEFS_DEFAULT);
	rs->tracefs_err = rs->tracefs ? 0 : -ENOMEM;
}

/* "CATEGORY/NAME", each part a plain name: it is a path below tracefs. */
static bool tracepoint_name_ok(const char *t)
{
	const char *slash = strchr(t, '/');

	return slash && slash != t && slash[1] && !strchr(slash + 1, '/') && strncmp(t, "../", 3) &&
	       strncmp(t, "./", 2) && strcmp(slash, "/..") && strcmp(slash, "/.");
}

static int resolve_tracepoint(struct resolver *rs, struct desired_link *l)
{
	_cleanup_free_ char *id = NULL;

	if (!tracepoint_name_ok(target_of(l))) {
		diag_error(rs->d, loc_of(l), "tracepoint '%s' is not CATEGORY/NAME", target_of(l));
		return -EINVAL;
	}
	find_tracefs(rs);
	if (rs->tracefs_err == -ENOENT) {
		diag_error(rs->d, loc_of(l),
			   "tracepoints need tracefs; mount it at %s or pass --mount",
			   TRACEFS_DEFAULT);
		return -ENOENT;
	}
	if (rs->tracefs_err < 0) {
		/* A failed mount was reported once, where it failed. */
		if (!rs->opts || !rs->opts->mount_tracefs)
			diag_error(rs->d, loc_of(l), "cannot find tracefs: %s",
				   DIAG_STRERROR(-rs->tracefs_err));
		return rs->tracefs_err;
	}
	if (!rs->tracefs)
		return 0; /* a dry run planning the mount: its events are not known */
	if (asprintf(&id, "%s/events/%s/id", rs->tracefs, target_of(l)) < 0)
		return -ENOMEM;
	if (access(id, R_OK) < 0) {
		int err = errno;

		if (err == ENOENT || err == ENOTDIR)
			return missing(rs, l, "tracepoint '%s' does not exist", target_of(l));
		diag_error(rs->d, loc_of(l), "cannot read tracepoint '%s' (%s): %s", target_of(l),
			   id, DIAG_STRERROR(err));
		return -err;
	}
	return 0;
}

/* A kprobe target is FUNCTION or FUNCTION+OFFSET; *len is FUNCTION's. */
static unsigned long kprobe_offset(const char *t, size_t *len)
{
	const char *plus = strchr(t, '+');

	*len = plus ? (size_t)(plus - t) : strlen(t);
	return plus ? strtoul(plus + 1, NULL, 0) : 0;
}

/* Whether /proc/kallsyms lists the function ("ADDRESS TYPE NAME [MODULE]"). */
static int kallsyms_has(const char *name, size_t len)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/kallsyms", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		char *sym = strchr(line, ' ');

		if (!sym || !(sym = strchr(sym + 1, ' ')))
			continue;
		sym++;
		if (strncmp(sym, name, len) == 0 &&
		    (sym[len] == '\n' || sym[len] == '\t' || sym[len] == ' ' || !sym[len]))
			return 1;
	}
	return 0;
}

static int resolve_kprobe(struct resolver *rs, struct desired_link *l)
{
	size_t len;
	int r;

	if (!rs->kprobes)
		rs->kprobes = access(KPROBE_PMU "/type", R_OK) == 0 ? 1 : -1;
	if (rs->kprobes < 0) {
		diag_error(rs->d, loc_of(l),
			   "kprobes are not supported by this kernel (CONFIG_KPROBE_EVENTS)");
		return -EOPNOTSUPP;
	}
	kprobe_offset(target_of(l), &len);
	if (len == 0) {
		diag_error(rs->d, loc_of(l), "a kprobe needs a function name");
		return -EINVAL;
	}
	r = kallsyms_has(target_of(l), len);
	if (r < 0) {
		diag_error(rs->d, loc_of(l), "cannot read /proc/kallsyms: %s", DIAG_STRERROR(-r));
		return r;
	}
	if (r == 0)
		return missing(rs, l, "function '%.*s' does not exist in this kernel", (int)len,
			       target_of(l));
	return 0;
}

/* Offline (a tree read from a snapshot): the interfaces and cgroups the
 * snapshot lists stand for the machine's.  Tracepoints, functions and the
 * kernel's hooks are taken as there, and whether an XDP hook is taken by
 * another program is not known: apply checks them (bpf-provision(1),
 * OFFLINE PLANS). */
static int resolve_offline(struct resolver *rs, struct desired_link *l)
{
	const struct observed *o = rs->obs;
	const char *t = target_of(l), *rel = t;
	uint64_t id;

	switch (l->how) {
	case DESIRED_LINK_IFINDEX:
		if (!observed_name_id(o->ifaces, o->n_ifaces, t, &id))
			return missing(rs, l, "interface '%s' does not exist", t);
		l->ifindex = (uint32_t)id;
		return 0;
	case DESIRED_LINK_CGROUP:
		if (!o->cgroup2) {
			diag_error(rs->d, loc_of(l),
				   "cgroup '%s': no cgroup2 filesystem is mounted to find it in", t);
			return -ENOENT;
		}
		if (t[0] == '/') {
			size_t m = strcmp(o->cgroup2, "/") == 0 ? 0 : strlen(o->cgroup2);

			if (strncmp(t, o->cgroup2, m) || (t[m] != '/' && t[m])) {
				diag_error(rs->d, loc_of(l),
					   "'%s' is not a cgroup: not in a cgroup2 filesystem", t);
				return -EINVAL;
			}
			rel = t + m;
		}
		while (*rel == '/')
			rel++;
		if (asprintf(&l->cgroup_path, "%s%s%s", o->cgroup2,
			     strcmp(o->cgroup2, "/") && rel[0] ? "/" : "", rel) < 0) {
			l->cgroup_path = NULL;
			return -ENOMEM;
		}
		{
			_cleanup_free_ char *key = NULL;

			if (asprintf(&key, "/%s", rel) < 0)
				return -ENOMEM;
			/* A trailing slash names the same cgroup. */
			for (size_t n = strlen(key); n > 1 && key[n - 1] == '/'; n--)
				key[n - 1] = '\0';
			if (!observed_name_id(o->cgroups, o->n_cgroups, key, &id)) {
				_cleanup_free_ char *path = TAKE_PTR(l->cgroup_path);

				/* Named as the live run names it. */
				if (t[0] == '/')
					return missing(rs, l, "cgroup '%s' does not exist", t);
				return missing(rs, l, "cgroup '%s' (%s) does not exist", t, path);
			}
		}
		l->cgroup_id = id;
		return 0;
	default:
		return 0;
	}
}

static int resolve_one(struct resolver *rs, const struct desired_pin *w, struct desired_link *l)
{
	/* Resolved afresh: a second call must not keep the first's answers. */
	l->ifindex = 0;
	l->cgroup_id = 0;
	free(l->cgroup_path);
	l->cgroup_path = NULL;
	l->skipped = false;
	if (rs->obs && rs->obs->offline)
		return resolve_offline(rs, l);
	switch (l->how) {
	case DESIRED_LINK_IFINDEX:
		return resolve_ifindex(rs, w, l);
	case DESIRED_LINK_CGROUP:
		return resolve_cgroup(rs, l);
	case DESIRED_LINK_TRACEPOINT:
		return resolve_tracepoint(rs, l);
	case DESIRED_LINK_KPROBE:
		return resolve_kprobe(rs, l);
	case DESIRED_LINK_RAW_TP:
		/* The kernel knows its raw tracepoints only by BTF or by trying:
		 * the attach says. */
	case DESIRED_LINK_TRACING:
		/* Its function was fixed when the program was loaded. */
	default:
		return 0;
	}
}

int target_resolve(struct desired *des, const struct observed *obs,
		   const struct target_options *opts, struct diag *d)
{
	struct resolver rs = {.opts = opts, .obs = obs, .d = d};
	int first = 0;

	/* Runs on every plan: without links nothing here is read or probed. */
	for (size_t i = 0; i < des->n_pins; i++) {
		struct desired_pin *w = &des->pins[i];
		int r;

		if (w->kind != KIND_LINK || !w->link)
			continue;
		r = resolve_one(&rs, w, w->link);
		if (r == -ENOMEM) {
			first = r;
			break;
		}
		if (r < 0 && first == 0)
			first = r;
	}
	free(rs.tracefs);
	free(rs.cgroup2);
	return first;
}

static const char *attach_type_str(uint32_t t)
{
	const char *s = libbpf_bpf_attach_type_str((enum bpf_attach_type)t);

	if (s)
		return s;
	return t == COMPAT_BPF_TCX_INGRESS  ? "tcx_ingress"
	       : t == COMPAT_BPF_TCX_EGRESS ? "tcx_egress"
					    : "unknown";
}

/* The hook in words, for messages: "the XDP hook of veth0". */
static void hook_str(const struct desired_link *l, char *buf, size_t len)
{
	switch (l->how) {
	case DESIRED_LINK_IFINDEX:
		if (l->attach_type == BPF_XDP)
			snprintf(buf, len, "the XDP hook of %s", target_of(l));
		else
			snprintf(buf, len, "tc %s of %s",
				 l->attach_type == COMPAT_BPF_TCX_EGRESS ? "egress" : "ingress",
				 target_of(l));
		break;
	case DESIRED_LINK_CGROUP:
		snprintf(buf, len, "%s of cgroup %s", attach_type_str(l->attach_type),
			 l->cgroup_path ? l->cgroup_path : target_of(l));
		break;
	case DESIRED_LINK_TRACEPOINT:
		snprintf(buf, len, "tracepoint %s", target_of(l));
		break;
	case DESIRED_LINK_RAW_TP:
		snprintf(buf, len, "raw tracepoint %s", target_of(l));
		break;
	case DESIRED_LINK_KPROBE:
		snprintf(buf, len, "%s %s", l->retprobe ? "kretprobe" : "kprobe", target_of(l));
		break;
	default:
		snprintf(buf, len, "%s%s", target_of(l)[0] ? "function " : "its function",
			 target_of(l));
		break;
	}
}

/* A refused link in words: the common causes named, the rest as errnos. */
static int attach_failed(const struct sys *s, const struct desired_link *l, int prog_fd, int err,
			 struct diag *d)
{
	char hook[PATH_MAX + 64], why[256];
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	bool strict;
	int want = desired_link_prog_type(l, &strict);

	hook_str(l, hook, sizeof(hook));
	memset(&info, 0, sizeof(info));
	snprintf(why, sizeof(why), "%s", DIAG_STRERROR(-err));
	if (sys_injected(s)) {
		/* Ours, not the kernel's: the errno as it is. */
	} else if (l->attach_type == BPF_XDP && (err == -EBUSY || err == -EEXIST)) {
		diag_error(d, loc_of(l), "cannot attach: %s is taken", hook);
		return err;
	} else if (l->how == DESIRED_LINK_IFINDEX && err == -ENODEV) {
		snprintf(why, sizeof(why), "the interface is gone");
	} else if (l->attach_type == BPF_XDP && err == -EOPNOTSUPP &&
		   (l->xdp_flags & XDP_FLAGS_DRV_MODE)) {
		snprintf(why, sizeof(why), "its driver has no native XDP mode");
	} else if (err == -EINVAL && want >= 0 &&
		   bpf_obj_get_info_by_fd(prog_fd, &info, &len) == 0 &&
		   info.type != (uint32_t)want) {
		const char *have = libbpf_bpf_prog_type_str((enum bpf_prog_type)info.type);
		const char *need = libbpf_bpf_prog_type_str((enum bpf_prog_type)want);

		snprintf(why, sizeof(why), "it takes %s programs, and '%s' is of type %s",
			 need ? need : "other", info.name, have ? have : "unknown");
	} else if (err == -EPERM || err == -EACCES) {
		snprintf(why, sizeof(why),
			 "%s (it needs CAP_BPF, with CAP_NET_ADMIN or CAP_PERFMON)",
			 DIAG_STRERROR(-err));
	}
	diag_error(d, loc_of(l), "cannot attach to %s: %s", hook, why);
	return err;
}

/* A number read from a sysfs or tracefs file. */
static int read_ulong(const char *path, unsigned long *ret)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	if (fscanf(f, "%lu", ret) != 1)
		return -EINVAL;
	return 0;
}

static int perf_event_open(struct perf_event_attr *a)
{
	/* Any CPU will do: a BPF program on a tracepoint or kprobe runs on
	 * every CPU it fires on; the event only carries it (as libbpf does). */
	long fd = syscall(__NR_perf_event_open, a, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);

	return fd < 0 ? -errno : (int)fd;
}

static int tracepoint_event(const struct desired_link *l, struct diag *d)
{
	_cleanup_free_ char *dir = NULL, *path = NULL;
	struct perf_event_attr a;
	unsigned long id;
	int r;

	if (!tracepoint_name_ok(target_of(l)))
		return diag_error(d, loc_of(l), "tracepoint '%s' is not CATEGORY/NAME",
				  target_of(l));
	r = tracefs_dir(&dir);
	if (r == -ENOENT) {
		diag_error(d, loc_of(l), "tracepoints need tracefs; mount it at %s or pass --mount",
			   TRACEFS_DEFAULT);
		return r;
	}
	if (r < 0) {
		diag_error(d, loc_of(l), "cannot find tracefs: %s", DIAG_STRERROR(-r));
		return r;
	}
	if (asprintf(&path, "%s/events/%s/id", dir, target_of(l)) < 0)
		return -ENOMEM;
	r = read_ulong(path, &id);
	if (r < 0) {
		diag_error(d, loc_of(l), "cannot read the id of tracepoint '%s' (%s): %s",
			   target_of(l), path, DIAG_STRERROR(-r));
		return r;
	}
	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_TRACEPOINT;
	a.size = sizeof(a);
	a.config = id;
	a.sample_period = 1;
	a.wakeup_events = 1;
	r = perf_event_open(&a);
	if (r < 0)
		diag_error(d, loc_of(l), "cannot open a perf event on tracepoint '%s': %s",
			   target_of(l), DIAG_STRERROR(-r));
	return r;
}

static int kprobe_event(const struct desired_link *l, struct diag *d)
{
	_cleanup_free_ char *func = NULL;
	unsigned long type, bit = 0;
	struct perf_event_attr a;
	size_t len;
	unsigned long offset = kprobe_offset(target_of(l), &len);
	int r = read_ulong(KPROBE_PMU "/type", &type);

	if (r < 0) {
		diag_error(d, loc_of(l),
			   "kprobes are not supported by this kernel (CONFIG_KPROBE_EVENTS)");
		return -EOPNOTSUPP;
	}
	if (l->retprobe) {
		/* The format file says "config:N": the bit that makes it a retprobe. */
		_cleanup_fclose_ FILE *f = fopen(KPROBE_PMU "/format/retprobe", "re");

		if (!f || fscanf(f, "config:%lu", &bit) != 1 || bit > 63) {
			diag_error(d, loc_of(l),
				   "this kernel's kprobes cannot fire on return (no %s)",
				   KPROBE_PMU "/format/retprobe");
			return -EOPNOTSUPP;
		}
	}
	func = strndup(target_of(l), len);
	if (!func)
		return -ENOMEM;
	memset(&a, 0, sizeof(a));
	a.type = (uint32_t)type;
	a.size = sizeof(a);
	a.config = l->retprobe ? 1ULL << bit : 0;
	a.config1 = (uint64_t)(uintptr_t)func; /* kprobe_func */
	a.config2 = offset;		       /* probe_offset */
	r = perf_event_open(&a);
	if (r < 0)
		diag_error(d, loc_of(l), "cannot open a %s on '%s': %s",
			   l->retprobe ? "kretprobe" : "kprobe", func, DIAG_STRERROR(-r));
	return r;
}

int target_attach(struct sys *s, const struct desired_link *l, int prog_fd, struct diag *d,
		  int *ret_fd)
{
	_cleanup_close_ int hook = -1;
	int fd;

	switch (l->how) {
	case DESIRED_LINK_IFINDEX:
		fd = sys_link_create(s, prog_fd, (int)l->ifindex,
				     (enum bpf_attach_type)l->attach_type, l->xdp_flags);
		break;
	case DESIRED_LINK_CGROUP:
		if (!l->cgroup_path) {
			diag_error(d, loc_of(l), "cgroup '%s' was not resolved", target_of(l));
			return -EINVAL;
		}
		hook = open(l->cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (hook < 0) {
			fd = -errno;
			diag_error(d, loc_of(l), "cannot open cgroup %s: %s", l->cgroup_path,
				   DIAG_STRERROR(-fd));
			return fd;
		}
		fd = sys_link_create(s, prog_fd, hook, (enum bpf_attach_type)l->attach_type, 0);
		break;
	case DESIRED_LINK_TRACEPOINT:
	case DESIRED_LINK_KPROBE:
		/* The perf event is the link's to hold: closed here once made. */
		hook = l->how == DESIRED_LINK_KPROBE ? kprobe_event(l, d) : tracepoint_event(l, d);
		if (hook < 0)
			return hook;
		fd = sys_link_create(s, prog_fd, hook, BPF_PERF_EVENT, 0);
		break;
	case DESIRED_LINK_RAW_TP:
		fd = sys_raw_tp_open(s, target_of(l), prog_fd);
		break;
	case DESIRED_LINK_TRACING:
		fd = sys_raw_tp_open(s, NULL, prog_fd);
		break;
	default:
		diag_error(d, loc_of(l), "cannot attach: unknown kind of hook %d", l->how);
		return -EINVAL;
	}
	if (fd < 0)
		return attach_failed(s, l, prog_fd, fd, d);
	*ret_fd = fd;
	return 0;
}
