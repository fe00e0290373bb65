/* SPDX-License-Identifier: MIT */
/* Kernel ABI values newer than the build's linux/bpf.h (Debian 12 has
 * Linux 6.1's): the kernel is asked for them by number.  Each is the uapi's
 * own value, which never changes once released. */
#ifndef BPFPROV_COMPAT_H
#define BPFPROV_COMPAT_H

#include <linux/bpf.h>

/* Linux 6.4: netfilter links. */
#define COMPAT_BPF_LINK_TYPE_NETFILTER 10
/* Linux 6.6: tcx. */
#define COMPAT_BPF_TCX_INGRESS 46
#define COMPAT_BPF_TCX_EGRESS 47
#define COMPAT_BPF_LINK_TYPE_TCX 11
/* Linux 6.6: uprobe_multi links. */
#define COMPAT_BPF_LINK_TYPE_UPROBE_MULTI 12
/* Linux 6.7: netkit. */
#define COMPAT_BPF_NETKIT_PRIMARY 48
#define COMPAT_BPF_NETKIT_PEER 49
#define COMPAT_BPF_LINK_TYPE_NETKIT 13
/* Linux 6.2 and 6.9: map types the 6.1 header lacks (enum bpf_map_type). */
#define COMPAT_BPF_MAP_TYPE_CGRP_STORAGE 32
#define COMPAT_BPF_MAP_TYPE_ARENA 33
/* Linux 6.10: sockmap links. */
#define COMPAT_BPF_LINK_TYPE_SOCKMAP 14

/* Linux 6.6: what a perf event link's event is (enum bpf_perf_event_type). */
#define COMPAT_BPF_PERF_EVENT_UPROBE 1
#define COMPAT_BPF_PERF_EVENT_URETPROBE 2
#define COMPAT_BPF_PERF_EVENT_KPROBE 3
#define COMPAT_BPF_PERF_EVENT_KRETPROBE 4
#define COMPAT_BPF_PERF_EVENT_TRACEPOINT 5
#define COMPAT_BPF_PERF_EVENT_EVENT 6

/* struct bpf_link_info as the kernel lays it out, for the members the 6.1
 * header lacks (tcx, netkit, perf_event: Linux 6.6 and 6.7) and the ones
 * it has that are read.  Only the leading members of the kernel's are
 * mirrored: it takes any length up to its own and fills what fits, and an
 * older kernel leaves the newer members zero.  The union starts at byte 16
 * on every architecture (aligned_u64 members). */
struct compat_bpf_link_info {
	__u32 type;
	__u32 id;
	__u32 prog_id;
	union {
		struct {
			__aligned_u64 tp_name; /* in/out: buffer */
			__u32 tp_name_len;     /* in/out: its size */
		} raw_tracepoint;
		struct {
			__u32 attach_type;
			__u32 target_obj_id; /* program id for PROG_EXT, else BTF object id */
			__u32 target_btf_id;
		} tracing;
		struct {
			__u64 cgroup_id;
			__u32 attach_type;
		} cgroup;
		struct {
			__aligned_u64 target_name; /* in/out: buffer */
			__u32 target_name_len;	   /* in/out: its size */
		} iter;
		struct {
			__u32 netns_ino;
			__u32 attach_type;
		} netns;
		struct {
			__u32 ifindex;
		} xdp;
		struct {
			__u32 type; /* COMPAT_BPF_PERF_EVENT_* */
			__u32 : 32;
			union {
				struct {
					__aligned_u64 func_name; /* in/out: buffer */
					__u32 name_len;		 /* in/out: its size */
					__u32 offset;
					__u64 addr;
				} kprobe;
				struct {
					__aligned_u64 tp_name; /* in/out: buffer */
					__u32 name_len;	       /* in/out: its size */
				} tracepoint;
			};
		} perf_event;
		struct {
			__u32 ifindex;
			__u32 attach_type;
		} tcx;
		struct {
			__u32 ifindex;
			__u32 attach_type;
		} netkit;
	};
} __attribute__((aligned(8)));

_Static_assert(sizeof(struct compat_bpf_link_info) <= 64,
	       "no larger than Linux 6.6's struct bpf_link_info");

#endif
