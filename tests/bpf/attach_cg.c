// SPDX-License-Identifier: MIT
/* Test object for attachments (tests/attach.sh): a cgroup skb program that
 * counts the IPv4 packets the cgroup's sockets send (key 0 of a map pinned
 * by name) and lets every packet go (1). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cg_counts SEC(".maps");

SEC("cgroup_skb/egress")
int cg_count(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return 1;
	v = bpf_map_lookup_elem(&cg_counts, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	return 1;
}

char _license[] SEC("license") = "GPL";
