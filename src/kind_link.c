// SPDX-License-Identifier: MIT
/* Links: what a pinned one runs and where it is hooked, as the kernel says
 * (its info, with names looked up for people: interface, cgroup path,
 * tracepoint, function); how one differs from the declared link; and both
 * in a few words.  Made by target.c, placed and removed like any pin. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_link.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "cleanup.h"
#include "compat.h"
#include "desired.h"
#include "kind.h"
#include "observed.h"
#include "target.h"

/* The kernel's longest symbol name (KSYM_NAME_LEN), with room for its NUL. */
#define LINK_NAME_MAX 512
/* A cgroup2 file handle's type: the kernfs node id, which is the cgroup id. */
#define FILEID_KERNFS 0xfe

static const char *type_str(uint32_t type)
{
	const char *s = libbpf_bpf_link_type_str((enum bpf_link_type)type);

	if (s)
		return s;
	/* Types newer than libbpf 1.1.2. */
	switch (type) {
	case COMPAT_BPF_LINK_TYPE_NETFILTER:
		return "netfilter";
	case COMPAT_BPF_LINK_TYPE_TCX:
		return "tcx";
	case COMPAT_BPF_LINK_TYPE_UPROBE_MULTI:
		return "uprobe_multi";
	case COMPAT_BPF_LINK_TYPE_NETKIT:
		return "netkit";
	case COMPAT_BPF_LINK_TYPE_SOCKMAP:
		return "sockmap";
	default:
		return NULL;
	}
}

/* libbpf's name of an attach type, and of the ones newer than it. */
static const char *attach_str(uint32_t t)
{
	const char *s = libbpf_bpf_attach_type_str((enum bpf_attach_type)t);

	if (s)
		return s;
	switch (t) {
	case COMPAT_BPF_TCX_INGRESS:
		return "tcx_ingress";
	case COMPAT_BPF_TCX_EGRESS:
		return "tcx_egress";
	case COMPAT_BPF_NETKIT_PRIMARY:
		return "netkit_primary";
	case COMPAT_BPF_NETKIT_PEER:
		return "netkit_peer";
	default:
		return "unknown";
	}
}

bool kind_link_updatable(uint32_t link_type)
{
	switch (link_type) {
	case BPF_LINK_TYPE_XDP:
	case COMPAT_BPF_LINK_TYPE_TCX:
	case BPF_LINK_TYPE_CGROUP:
	case BPF_LINK_TYPE_NETNS:
	case COMPAT_BPF_LINK_TYPE_NETKIT:
		return true;
	default:
		return false;
	}
}

static int link_info(int fd, struct compat_bpf_link_info *info)
{
	__u32 len = sizeof(*info);

	return bpf_obj_get_info_by_fd(fd, info, &len) < 0 ? -errno : 0;
}

/* A name the kernel copies into a buffer of ours (tracepoint, kprobe
 * function, iterator target): the info asked for again with the buffer in
 * place, as the first answer said which member holds it.  NULL when the
 * link has none or it cannot be had. */
static char *info_name(int fd, const struct compat_bpf_link_info *first)
{
	struct compat_bpf_link_info info;
	char buf[LINK_NAME_MAX] = "";
	__u64 ptr = (__u64)(uintptr_t)buf;

	memset(&info, 0, sizeof(info));
	switch (first->type) {
	case BPF_LINK_TYPE_RAW_TRACEPOINT:
		info.raw_tracepoint.tp_name = ptr;
		info.raw_tracepoint.tp_name_len = sizeof(buf);
		break;
	case BPF_LINK_TYPE_ITER:
		info.iter.target_name = ptr;
		info.iter.target_name_len = sizeof(buf);
		break;
	case BPF_LINK_TYPE_PERF_EVENT:
		switch (first->perf_event.type) {
		case COMPAT_BPF_PERF_EVENT_TRACEPOINT:
			info.perf_event.tracepoint.tp_name = ptr;
			info.perf_event.tracepoint.name_len = sizeof(buf);
			break;
		case COMPAT_BPF_PERF_EVENT_KPROBE:
		case COMPAT_BPF_PERF_EVENT_KRETPROBE:
			info.perf_event.kprobe.func_name = ptr;
			info.perf_event.kprobe.name_len = sizeof(buf);
			break;
		default:
			return NULL;
		}
		break;
	default:
		return NULL;
	}
	if (link_info(fd, &info) < 0)
		return NULL;
	buf[sizeof(buf) - 1] = '\0';
	return buf[0] ? strdup(buf) : NULL;
}

/* The program the link runs; zeroed when it cannot be read. */
static void linked_prog(uint32_t id, struct bpf_prog_info *prog)
{
	_cleanup_close_ int fd = id ? bpf_prog_get_fd_by_id(id) : -1;
	__u32 len = sizeof(*prog);

	memset(prog, 0, sizeof(*prog));
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, prog, &len) < 0)
		memset(prog, 0, sizeof(*prog));
}

/* The cgroup with this id, below the cgroup2 mount with a leading '/':
 * opened by its file handle (the id) and named by /proc.  NULL when it
 * cannot be (no cgroup2 mount, no CAP_DAC_READ_SEARCH, outside this
 * namespace's view, removed meanwhile). */
static char *cgroup_path(uint64_t id)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h;
	_cleanup_free_ char *mnt = NULL;
	_cleanup_close_ int mfd = -1, fd = -1;
	char proc[64], path[PATH_MAX];
	const char *rel;
	size_t m;
	ssize_t n;

	if (target_mount_point("cgroup2", &mnt) < 0)
		return NULL;
	mfd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0)
		return NULL;
	h.fh.handle_bytes = sizeof(id);
	h.fh.handle_type = FILEID_KERNFS;
	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(mfd, &h.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, path, sizeof(path) - 1);
	if (n < 0)
		return NULL;
	path[n] = '\0';
	m = strcmp(mnt, "/") == 0 ? 0 : strlen(mnt);
	if (strncmp(path, mnt, m) || (path[m] != '/' && path[m]) || strstr(path, " (deleted)"))
		return NULL;
	rel = path + m;
	return strdup(rel[0] ? rel : "/");
}

/* The function a tracing link is attached to, from the BTF it names.  Its
 * target_obj_id is a BTF object's id, or for a program attached to another
 * program (freplace, fentry on BPF) that program's id: the linked program's
 * own attach_btf_obj_id tells which.  vmlinux BTF is read only here, when
 * such a link is found; a module's is split on top of it. */
static char *tracing_name(const struct compat_bpf_link_info *info, const struct bpf_prog_info *prog)
{
	struct bpf_btf_info bi;
	char name[64] = "";
	__u32 len = sizeof(bi);
	struct btf *vmlinux, *btf;
	const struct btf_type *t;
	const char *s = NULL;
	char *ret = NULL;
	int fd;

	if (!info->tracing.target_obj_id || prog->attach_btf_obj_id != info->tracing.target_obj_id)
		return NULL;
	fd = bpf_btf_get_fd_by_id(info->tracing.target_obj_id);
	if (fd < 0)
		return NULL;
	memset(&bi, 0, sizeof(bi));
	bi.name = (__u64)(uintptr_t)name;
	bi.name_len = sizeof(name);
	if (bpf_obj_get_info_by_fd(fd, &bi, &len) < 0 || !bi.kernel_btf) {
		close(fd);
		return NULL;
	}
	close(fd);
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		return NULL;
	btf = strcmp(name, "vmlinux") == 0
		  ? vmlinux
		  : btf__load_from_kernel_by_id_split(info->tracing.target_obj_id, vmlinux);
	t = btf ? btf__type_by_id(btf, info->tracing.target_btf_id) : NULL;
	if (t)
		s = btf__name_by_offset(btf, t->name_off);
	if (s && s[0])
		ret = strdup(s);
	if (btf != vmlinux)
		btf__free(btf);
	btf__free(vmlinux);
	return ret;
}

static void hooked_ifindex(struct observed_entry *e, uint32_t ifindex)
{
	char name[IF_NAMESIZE];

	e->ifindex = ifindex;
	e->defunct = ifindex == 0;
	if (ifindex && if_indextoname(ifindex, name))
		e->target = strdup(name);
}

static int query(int fd, struct observed_entry *e)
{
	struct compat_bpf_link_info info;
	struct bpf_prog_info prog;
	int r;

	memset(&info, 0, sizeof(info));
	r = link_info(fd, &info);
	if (r < 0)
		return r;
	e->id = info.id;
	e->type = info.type;
	e->prog_id = info.prog_id;
	linked_prog(info.prog_id, &prog);
	memcpy(e->tag, prog.tag, sizeof(e->tag));
	/* The names are for people: a failed lookup leaves target NULL. */
	switch (info.type) {
	case BPF_LINK_TYPE_XDP:
		e->attach_type = BPF_XDP;
		hooked_ifindex(e, info.xdp.ifindex);
		break;
	case COMPAT_BPF_LINK_TYPE_TCX:
		e->attach_type = info.tcx.attach_type;
		hooked_ifindex(e, info.tcx.ifindex);
		break;
	case COMPAT_BPF_LINK_TYPE_NETKIT:
		e->attach_type = info.netkit.attach_type;
		hooked_ifindex(e, info.netkit.ifindex);
		break;
	case BPF_LINK_TYPE_CGROUP:
		/* A removed cgroup lets go of its links: they report id 0. */
		e->attach_type = info.cgroup.attach_type;
		e->cgroup_id = info.cgroup.cgroup_id;
		e->defunct = e->cgroup_id == 0;
		if (e->cgroup_id)
			e->target = cgroup_path(e->cgroup_id);
		break;
	case BPF_LINK_TYPE_NETNS:
		/* Likewise a network namespace gone: inode 0. */
		e->attach_type = info.netns.attach_type;
		e->defunct = info.netns.netns_ino == 0;
		break;
	case BPF_LINK_TYPE_TRACING:
		e->attach_type = info.tracing.attach_type;
		e->target = tracing_name(&info, &prog);
		break;
	case BPF_LINK_TYPE_PERF_EVENT:
		e->attach_type = BPF_PERF_EVENT;
		e->target = info_name(fd, &info);
		break;
	case BPF_LINK_TYPE_ITER:
		e->attach_type = BPF_TRACE_ITER;
		e->target = info_name(fd, &info);
		break;
	case BPF_LINK_TYPE_RAW_TRACEPOINT:
		e->target = info_name(fd, &info);
		break;
	default:
		break;
	}
	return 0;
}

/* A tracing link's function as BTF names it: an LSM hook's is
 * bpf_lsm_HOOK where the section says lsm/HOOK. */
static bool same_function(const struct observed_entry *h, const char *want)
{
	const char *have = h->target;

	if (h->attach_type == BPF_LSM_MAC && strncmp(have, "bpf_lsm_", 8) == 0 &&
	    strncmp(want, "bpf_lsm_", 8) != 0)
		have += 8;
	return strcmp(have, want) == 0;
}

static int differences(const struct desired_pin *w, const struct observed_entry *h, char **r)
{
	const struct desired_link *l = w->link;
	const char *want = l && l->target ? l->target : "";
	char have_if[32];
	const char *p;
	size_t n;

	/* Another type of link is another hook altogether: nothing else
	 * compares. */
	if (h->type != w->spec.type)
		return kind_reason(r, "type %s -> %s", kind_type_str(KIND_LINK, h->type),
				   kind_type_str(KIND_LINK, w->spec.type));
	if (!l)
		return 0;
	switch (l->how) {
	case DESIRED_LINK_IFINDEX:
		/* Not resolved (offline, or skipped): the hook is unknown. */
		if (!l->ifindex)
			return 0;
		if (h->defunct)
			return kind_reason(r, "its interface is gone");
		snprintf(have_if, sizeof(have_if), "ifindex %u", h->ifindex);
		if (h->ifindex != l->ifindex &&
		    kind_reason(r, "interface %s -> %s", h->target ? h->target : have_if, want) < 0)
			return -ENOMEM;
		if (h->type == COMPAT_BPF_LINK_TYPE_TCX && h->attach_type != l->attach_type)
			return kind_reason(
			    r, "direction %s -> %s",
			    h->attach_type == COMPAT_BPF_TCX_EGRESS ? "egress" : "ingress",
			    l->attach_type == COMPAT_BPF_TCX_EGRESS ? "egress" : "ingress");
		return 0;
	case DESIRED_LINK_CGROUP:
		if (!l->cgroup_id)
			return 0;
		if (h->defunct)
			return kind_reason(r, "its cgroup is gone");
		if (h->cgroup_id != l->cgroup_id &&
		    kind_reason(r, "cgroup %s -> %s", h->target ? h->target : "(another)", want) <
			0)
			return -ENOMEM;
		if (h->attach_type != l->attach_type)
			return kind_reason(r, "attach type %s -> %s", attach_str(h->attach_type),
					   attach_str(l->attach_type));
		return 0;
	case DESIRED_LINK_TRACEPOINT:
		/* The kernel names a tracepoint's event without its category. */
		p = strchr(want, '/');
		if (h->target && strcmp(h->target, p ? p + 1 : want))
			return kind_reason(r, "tracepoint %s -> %s", h->target, want);
		return 0;
	case DESIRED_LINK_RAW_TP:
		if (h->target && strcmp(h->target, want))
			return kind_reason(r, "raw tracepoint %s -> %s", h->target, want);
		return 0;
	case DESIRED_LINK_TRACING:
		if (h->target && want[0] && !same_function(h, want))
			return kind_reason(r, "function %s -> %s", h->target, want);
		return 0;
	case DESIRED_LINK_KPROBE:
		n = strcspn(want, "+");
		if (h->target && (strncmp(h->target, want, n) || h->target[n]))
			return kind_reason(r, "function %s -> %.*s", h->target, (int)n, want);
		return 0;
	default:
		return 0;
	}
}

static void describe(const struct desired_pin *w, char *buf, size_t len)
{
	const struct desired_link *l = w->link;
	const char *t = l && l->target ? l->target : "";

	if (!l) {
		snprintf(buf, len, "%s", kind_type_str(KIND_LINK, w->spec.type));
		return;
	}
	switch (l->how) {
	case DESIRED_LINK_IFINDEX:
		if (l->attach_type == BPF_XDP)
			snprintf(buf, len, "xdp %s%s", t,
				 l->xdp_flags & XDP_FLAGS_DRV_MODE   ? " (native)"
				 : l->xdp_flags & XDP_FLAGS_SKB_MODE ? " (generic)"
								     : "");
		else
			snprintf(buf, len, "tcx %s %s",
				 l->attach_type == COMPAT_BPF_TCX_EGRESS ? "egress" : "ingress", t);
		break;
	case DESIRED_LINK_CGROUP:
		snprintf(buf, len, "%s %s", attach_str(l->attach_type), t);
		break;
	case DESIRED_LINK_TRACEPOINT:
		snprintf(buf, len, "tracepoint %s", t);
		break;
	case DESIRED_LINK_RAW_TP:
		snprintf(buf, len, "raw_tracepoint %s", t);
		break;
	case DESIRED_LINK_KPROBE:
		snprintf(buf, len, "%s %s", l->retprobe ? "kretprobe" : "kprobe", t);
		break;
	case DESIRED_LINK_TRACING:
		snprintf(buf, len, "%s%s%s", attach_str(l->attach_type), t[0] ? " " : "", t);
		break;
	default:
		snprintf(buf, len, "%s", kind_type_str(KIND_LINK, w->spec.type));
		break;
	}
}

void kind_link_show(const struct observed_entry *e, char *buf, size_t len)
{
	const char *type = kind_type_str(KIND_LINK, e->type);
	const char *t = e->target;

	switch (e->type) {
	case BPF_LINK_TYPE_XDP:
		if (e->defunct)
			snprintf(buf, len, "defunct xdp (interface gone)");
		else if (t)
			snprintf(buf, len, "xdp %s (ifindex %u)", t, e->ifindex);
		else
			snprintf(buf, len, "xdp ifindex %u", e->ifindex);
		break;
	case COMPAT_BPF_LINK_TYPE_TCX:
	case COMPAT_BPF_LINK_TYPE_NETKIT:
		if (e->defunct)
			snprintf(buf, len, "defunct %s (interface gone)", type);
		else if (t)
			snprintf(buf, len, "%s %s", attach_str(e->attach_type), t);
		else
			snprintf(buf, len, "%s ifindex %u", attach_str(e->attach_type), e->ifindex);
		break;
	case BPF_LINK_TYPE_CGROUP:
		if (e->defunct)
			snprintf(buf, len, "defunct %s (cgroup gone)", attach_str(e->attach_type));
		else if (t)
			snprintf(buf, len, "%s %s", attach_str(e->attach_type), t);
		else
			snprintf(buf, len, "%s cgroup id %llu", attach_str(e->attach_type),
				 (unsigned long long)e->cgroup_id);
		break;
	case BPF_LINK_TYPE_NETNS:
		snprintf(buf, len, "%s%s", e->defunct ? "defunct " : "",
			 attach_str(e->attach_type));
		if (e->defunct)
			snprintf(buf + strlen(buf), len - strlen(buf), " (network namespace gone)");
		break;
	case BPF_LINK_TYPE_TRACING:
		snprintf(buf, len, "%s%s%s", attach_str(e->attach_type), t ? " " : "", t ? t : "");
		break;
	default:
		/* perf_event (a tracepoint's or kprobe's), raw_tracepoint, iter. */
		snprintf(buf, len, "%s%s%s", type, t ? " " : "", t ? t : "");
		break;
	}
}

const struct kind_ops kind_link = {
    .name = "link",
    /* A link's first fd says "bpf_link"; one from BPF_OBJ_GET "bpf-link". */
    .anon_inodes = (const char *const[]){"anon_inode:bpf-link", "anon_inode:bpf_link", NULL},
    .type_str = type_str,
    .query = query,
    .differences = differences,
    .describe = describe,
};
