// SPDX-License-Identifier: MIT
/* Test object for attachments (tests/attach.sh), for tcx links: tc_drop_icmp
 * (ingress) drops every IPv4 ICMP packet and counts the drops;
 * tc_count_egress counts every IPv4 packet sent.  Both count at key 0 of a
 * map pinned by name.  tcx takes TC_ACT_OK (0) as TCX_PASS and TC_ACT_SHOT
 * (2) as TCX_DROP. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tc_drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tc_egress SEC(".maps");

static __always_inline void count(void *map)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(map, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("tc")
int tc_drop_icmp(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->protocol != IPPROTO_ICMP)
		return TC_ACT_OK;
	count(&tc_drops);
	return TC_ACT_SHOT;
}

SEC("tc")
int tc_count_egress(struct __sk_buff *skb)
{
	if (skb->protocol == bpf_htons(ETH_P_IP))
		count(&tc_egress);
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
