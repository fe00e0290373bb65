// SPDX-License-Identifier: MIT
/* Test object written the way gobpf users write them: one `maps/NAME`
 * section per map in gobpf's 280-byte record with its namespace field, two
 * socket filters that call one helper in .text (a BPF-to-BPF call the loader
 * must link into both), a tail call through a prog array, and a `version`
 * section saying "the running kernel" (0xFFFFFFFE, gobpf's convention). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "legacy.h"

struct gobpf_map_rec counts SEC("maps/counts") = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = 4,
	.value_size = 8,
	.max_entries = 64,
	.pinning = GOBPF_PIN_GLOBAL_NS,
	.namespace = "gobpfns",
};

struct gobpf_map_rec jmp SEC("maps/jmp") = {
	.type = BPF_MAP_TYPE_PROG_ARRAY,
	.key_size = 4,
	.value_size = 4,
	.max_entries = 4,
	.pinning = GOBPF_PIN_GLOBAL_NS,
	.namespace = "gobpfns",
};

/* Not inlined on purpose: it stays a function of its own in .text, reached
 * by a call instruction with a relocation against .text. */
static __attribute__((noinline)) int classify(struct __sk_buff *skb)
{
	return (skb->protocol & 0xff) ^ (skb->len & 0x0f);
}

SEC("socket/main")
int socket_main(struct __sk_buff *skb)
{
	__u32 key = classify(skb);
	__u64 one = 1, *v;

	v = bpf_map_lookup_elem(&counts, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&counts, &key, &one, BPF_ANY);
	bpf_tail_call(skb, &jmp, 0);
	return skb->len;
}

SEC("socket/tail")
int socket_tail(struct __sk_buff *skb)
{
	return classify(skb) ? skb->len : 0;
}

char _license[] SEC("license") = "GPL";
/* gobpf: 0xFFFFFFFE = use the version of the running kernel. */
__u32 _version SEC("version") = 0xFFFFFFFE;
