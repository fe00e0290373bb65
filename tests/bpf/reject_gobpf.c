// SPDX-License-Identifier: MIT
/* Test object in gobpf's layout that the verifier rejects with "invalid
 * read from stack": a stack read beyond the 512-byte frame (see
 * reject_btf.c for why not an uninitialised slot inside it). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "legacy.h"

struct gobpf_map_rec hits SEC("maps/hits") = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = 4,
	.value_size = 8,
	.max_entries = 1,
	.pinning = GOBPF_PIN_NONE,
};

SEC("socket/reject")
int reject_gobpf(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&hits, &key);
	long v;

	if (n)
		__sync_fetch_and_add(n, 1);
	asm volatile("%0 = *(u64 *)(r10 - 520)" : "=r"(v));
	return v;
}

char _license[] SEC("license") = "GPL";
