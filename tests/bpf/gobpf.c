// SPDX-License-Identifier: MIT
/* Test object in gobpf's layout: one `maps/NAME` section per map, covering
 * every pinning value and a namespace, and programs whose map references
 * become relocations. */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

#include "legacy.h"

struct gobpf_map_rec none_hash SEC("maps/none_hash") = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = 4,
	.value_size = 8,
	.max_entries = 128,
	.pinning = GOBPF_PIN_NONE,
};

struct gobpf_map_rec object_array SEC("maps/object_array") = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = 4,
	.value_size = 8,
	.max_entries = 4,
	.pinning = GOBPF_PIN_OBJECT_NS,
};

struct gobpf_map_rec global_hash SEC("maps/global_hash") = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = 8,
	.value_size = 16,
	.max_entries = 1024,
	.map_flags = BPF_F_NO_PREALLOC,
	.pinning = GOBPF_PIN_GLOBAL_NS,
	.namespace = "ns1",
};

struct gobpf_map_rec custom_array SEC("maps/custom_array") = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = 4,
	.value_size = 4,
	.max_entries = 1024,
	.pinning = GOBPF_PIN_CUSTOM_NS,
};

/* Counts every call; references none_hash twice (lookup, then update). */
SEC("kprobe/do_nanosleep")
int kprobe_nanosleep(struct pt_regs *ctx)
{
	__u32 key = 0;
	__u64 one = 1, *v;

	v = bpf_map_lookup_elem(&none_hash, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&none_hash, &key, &one, BPF_ANY);
	return 0;
}

/* Socket filter that counts packets in object_array[0] and bytes in
 * global_hash, and accepts each packet whole. */
SEC("socket/count")
int socket_count(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 hkey = skb->protocol;
	__u64 val[2] = { 1, skb->len };
	__u64 *cnt;

	cnt = bpf_map_lookup_elem(&object_array, &key);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	bpf_map_update_elem(&global_hash, &hkey, val, BPF_ANY);
	return skb->len;
}

/* References custom_array only. */
SEC("kprobe/do_sys_openat2")
int kprobe_openat(struct pt_regs *ctx)
{
	__u32 key = 1, *v;

	v = bpf_map_lookup_elem(&custom_array, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}

char _license[] SEC("license") = "GPL";
__u32 _version SEC("version") = 0x050a00;
