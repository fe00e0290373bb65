// SPDX-License-Identifier: MIT
/* Test object in iproute2's layout: one `maps` section of 36-byte records
 * named by their symbols, with pinning none/object/global, a custom pinning
 * id, a map-in-map whose inner_id names another record's id, and a prog
 * array for tail calls. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "legacy.h"

/* The inner map's template for map_outer. */
struct iproute2_map_rec map_inner SEC("maps") = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = 4,
	.size_value = 4,
	.max_elem = 1,
	.id = 1,
	.pinning = IPROUTE2_PIN_NONE,
};

struct iproute2_map_rec map_outer SEC("maps") = {
	.type = BPF_MAP_TYPE_ARRAY_OF_MAPS,
	.size_key = 4,
	.size_value = 4,
	.max_elem = 4,
	.id = 2,
	.pinning = IPROUTE2_PIN_OBJECT_NS,
	.inner_id = 1,
	.inner_idx = 0,
};

struct iproute2_map_rec map_stats SEC("maps") = {
	.type = BPF_MAP_TYPE_HASH,
	.size_key = 4,
	.size_value = 8,
	.max_elem = 64,
	.id = 3,
	.pinning = IPROUTE2_PIN_GLOBAL_NS,
};

/* Pinned under the manifest's pin_ids entry for id 4. */
struct iproute2_map_rec map_custom SEC("maps") = {
	.type = BPF_MAP_TYPE_HASH,
	.size_key = 8,
	.size_value = 8,
	.max_elem = 16,
	.flags = BPF_F_NO_PREALLOC,
	.pinning = 4,
};

struct iproute2_map_rec jmp_tc SEC("maps") = {
	.type = BPF_MAP_TYPE_PROG_ARRAY,
	.size_key = 4,
	.size_value = 4,
	.max_elem = 2,
	.pinning = IPROUTE2_PIN_GLOBAL_NS,
};

SEC("classifier")
int cls_entry(struct __sk_buff *skb)
{
	__u32 key = skb->ifindex, *v;
	__u64 one = 1, *cnt;

	cnt = bpf_map_lookup_elem(&map_stats, &key);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	else
		bpf_map_update_elem(&map_stats, &key, &one, BPF_ANY);
	key = 0;
	v = bpf_map_lookup_elem(&map_outer, &key);
	if (v)
		bpf_tail_call(skb, &jmp_tc, 0);
	return TC_ACT_OK;
}

SEC("action")
int act_count(struct __sk_buff *skb)
{
	__u64 key = skb->mark, one = 1;

	bpf_map_update_elem(&map_custom, &key, &one, BPF_ANY);
	return TC_ACT_OK;
}

/* Tail call target; no maps. */
SEC("classifier/tail")
int cls_tail(struct __sk_buff *skb)
{
	return TC_ACT_SHOT;
}

char _license[] SEC("license") = "GPL";
