// SPDX-License-Identifier: MIT
/* Test object in libbpf's BTF `.maps` layout: one map pinned by name, one not
 * pinned, and a read-only global (an internal map the reader skips). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pinned_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} scratch_hash SEC(".maps");

const volatile __u32 verdict = XDP_PASS;

/* Counts packets in pinned_counts[0] and accepts each one whole. */
SEC("socket")
int socket_count(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *cnt;

	cnt = bpf_map_lookup_elem(&pinned_counts, &key);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	return skb->len;
}

SEC("xdp")
int xdp_note(struct xdp_md *ctx)
{
	__u32 key = ctx->ingress_ifindex, one = 1;

	bpf_map_update_elem(&scratch_hash, &key, &one, BPF_ANY);
	return verdict;
}

char _license[] SEC("license") = "GPL";
