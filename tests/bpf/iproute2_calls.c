// SPDX-License-Identifier: MIT
/* Test object written the way tc (iproute2) users write them: one `maps`
 * section of struct bpf_elf_map records named by their symbols.
 *  - jmp (id 1): prog array that tc fills from the sections "1/0" and "1/1"
 *    (prog array id 1, keys 0 and 1);
 *  - inner (id 2, inner_idx 0) and outer (inner_id 2): tc creates outer with
 *    inner as its template and inserts inner into outer at index 0;
 *  - events: perf event array with max_elem 0 (one slot per possible CPU);
 *  - flows: custom pinning id 5; objmap: PIN_OBJECT_NS.
 * The main program's section, "ingress", names no program type: iproute2
 * loads it as what `tc filter` asks for, sched_cls.  Every program calls one
 * helper in .text. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "legacy.h"

struct iproute2_map_rec jmp SEC("maps") = {
	.type = BPF_MAP_TYPE_PROG_ARRAY,
	.size_key = 4,
	.size_value = 4,
	.max_elem = 2,
	.id = 1,
	.pinning = IPROUTE2_PIN_GLOBAL_NS,
};

struct iproute2_map_rec inner SEC("maps") = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = 4,
	.size_value = 4,
	.max_elem = 1,
	.id = 2,
	.pinning = IPROUTE2_PIN_GLOBAL_NS,
	.inner_idx = 0,
};

struct iproute2_map_rec outer SEC("maps") = {
	.type = BPF_MAP_TYPE_ARRAY_OF_MAPS,
	.size_key = 4,
	.size_value = 4,
	.max_elem = 1,
	.pinning = IPROUTE2_PIN_GLOBAL_NS,
	.inner_id = 2,
};

struct iproute2_map_rec events SEC("maps") = {
	.type = BPF_MAP_TYPE_PERF_EVENT_ARRAY,
	.size_key = 4,
	.size_value = 4,
	.max_elem = 0,
	.pinning = IPROUTE2_PIN_GLOBAL_NS,
};

/* Custom pinning id: the manifest's pin_ids (tc: /etc/iproute2/bpf_pinning). */
struct iproute2_map_rec flows SEC("maps") = {
	.type = BPF_MAP_TYPE_HASH,
	.size_key = 4,
	.size_value = 8,
	.max_elem = 256,
	.pinning = 5,
};

struct iproute2_map_rec objmap SEC("maps") = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = 4,
	.size_value = 8,
	.max_elem = 4,
	.pinning = IPROUTE2_PIN_OBJECT_NS,
};

/* Not inlined on purpose: a function of its own in .text. */
static __attribute__((noinline)) __u32 flow_key(struct __sk_buff *skb)
{
	return skb->ifindex * 31 + skb->protocol;
}

SEC("ingress")
int cls_ingress(struct __sk_buff *skb)
{
	__u32 key = flow_key(skb), zero = 0, *inner_map;
	__u64 one = 1, *v;

	v = bpf_map_lookup_elem(&flows, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&flows, &key, &one, BPF_ANY);
	v = bpf_map_lookup_elem(&objmap, &zero);
	if (v)
		__sync_fetch_and_add(v, 1);
	inner_map = bpf_map_lookup_elem(&outer, &zero);
	if (inner_map)
		bpf_perf_event_output(skb, &events, BPF_F_CURRENT_CPU, &key, sizeof(key));
	bpf_tail_call(skb, &jmp, key & 1);
	return TC_ACT_OK;
}

SEC("1/0")
int cls_tail0(struct __sk_buff *skb)
{
	return flow_key(skb) ? TC_ACT_OK : TC_ACT_SHOT;
}

SEC("1/1")
int cls_tail1(struct __sk_buff *skb)
{
	return flow_key(skb) & 1 ? TC_ACT_OK : TC_ACT_UNSPEC;
}

char _license[] SEC("license") = "GPL";
