// SPDX-License-Identifier: MIT
/* Example object in libbpf's BTF `.maps` layout for the example manifests: a packet
 * counter pinned by name and a scratch hash that is not pinned. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 16);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} packets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 32);
} events_tmp SEC(".maps");

/* Counts packets in packets[0]; accepts every packet whole. */
SEC("socket")
int count_packets(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v;

	v = bpf_map_lookup_elem(&packets, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	return skb->len;
}

char _license[] SEC("license") = "GPL";
