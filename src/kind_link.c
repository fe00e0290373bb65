// SPDX-License-Identifier: MIT
/* Links: what a pinned one runs and where it is hooked, as the kernel says
 * (its info, with names looked up for people: interface, cgroup path,
 * tracepoint, function); how one differs from the declared link; and both
 * in a few words.  Made by target.c, placed and removed like any pin. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/if_link.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "compat.h"
#include "desired.h"
#include "kind.h"
#include "observed.h"

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

static int query(int fd, struct observed_entry *e)
{
	struct compat_bpf_link_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return -errno;
	e->id = info.id;
	e->type = info.type;
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
