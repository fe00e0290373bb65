// SPDX-License-Identifier: MIT
/* Example object in gobpf's layout for the example manifests: one map per pinning
 * mode, a kprobe and a socket filter. */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>

#include "legacy_maps.h"

struct gobpf_map dummy_hash SEC("maps/dummy_hash") = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = 4,
	.value_size = 8,
	.max_entries = 128,
	.pinning = 2, /* PIN_GLOBAL_NS */
};

struct gobpf_map dummy_array SEC("maps/dummy_array") = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = 4,
	.value_size = 4,
	.max_entries = 64,
	.pinning = 1, /* PIN_OBJECT_NS */
};

struct gobpf_map dummy_array_custom SEC("maps/dummy_array_custom") = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = 4,
	.value_size = 4,
	.max_entries = 1024,
	.pinning = 3, /* PIN_CUSTOM_NS: the manifest gives the path */
};

struct gobpf_map dummy_prog_array SEC("maps/dummy_prog_array") = {
	.type = BPF_MAP_TYPE_PROG_ARRAY,
	.key_size = 4,
	.value_size = 4,
	.max_entries = 4,
	.pinning = 0,
};

SEC("kprobe/dummy")
int dummy_kprobe(struct pt_regs *ctx)
{
	__u32 key = 0;
	__u64 *v;

	v = bpf_map_lookup_elem(&dummy_hash, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}

/* Counts packets in dummy_array[0]; accepts every packet whole. */
SEC("socket/dummy")
int dummy_socket(struct __sk_buff *skb)
{
	__u32 key = 0, *v;

	v = bpf_map_lookup_elem(&dummy_array, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	return skb->len;
}

char _license[] SEC("license") = "GPL";
__u32 _version SEC("version") = 0xFFFFFFFE; /* gobpf: "the running kernel's" */
