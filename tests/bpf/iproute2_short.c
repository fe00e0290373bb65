// SPDX-License-Identifier: MIT
/* Test object in iproute2's layout with the older 20-byte records (no id,
 * pinning or inner map): the reader derives the record size from the
 * section size and the number of symbols, and zero-fills the rest. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "legacy.h"

struct iproute2_map_rec_short short_hash SEC("maps") = {
	.type = BPF_MAP_TYPE_HASH,
	.size_key = 4,
	.size_value = 4,
	.max_elem = 8,
};

struct iproute2_map_rec_short short_array SEC("maps") = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = 4,
	.size_value = 8,
	.max_elem = 2,
	.flags = 0,
};

SEC("classifier")
int cls_short(struct __sk_buff *skb)
{
	__u32 key = 1, val = skb->len;
	__u64 *cnt;

	bpf_map_update_elem(&short_hash, &key, &val, BPF_ANY);
	key = 0;
	cnt = bpf_map_lookup_elem(&short_array, &key);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
