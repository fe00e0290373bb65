// SPDX-License-Identifier: MIT
/* Test object for attachments (tests/attach.sh): an XDP program that counts
 * the ICMP echo requests it sees into slot COUNT_SLOT of a map pinned by
 * name, and passes every packet on.  attach_xdp_v2.c is the same object
 * counting into slot 1: swapped into the same link under a ping flood, the
 * two slots add up to the packets sent when no packet went uncounted. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* linux/icmp.h includes libc headers, which a BPF build cannot: the two
 * bytes read here. */
struct icmp_head {
	__u8 type; /* 8: echo request */
	__u8 code;
};
#define ICMP_ECHO_REQUEST 8

#ifndef COUNT_SLOT
#define COUNT_SLOT 0
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 2);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} counts SEC(".maps");

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct icmp_head *icmp;
	__u32 key = COUNT_SLOT;
	__u64 *v;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->protocol != IPPROTO_ICMP)
		return XDP_PASS;
	icmp = (void *)ip + ip->ihl * 4;
	if ((void *)(icmp + 1) > end || icmp->type != ICMP_ECHO_REQUEST)
		return XDP_PASS;
	v = bpf_map_lookup_elem(&counts, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
