// SPDX-License-Identifier: MIT
/* Example object in iproute2's layout for the example manifests: a tc classifier
 * with a globally pinned counter array, a flow table under custom id 4 and
 * an unpinned scratch map. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "legacy_maps.h"

struct iproute2_map counters SEC("maps") = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = 4,
	.size_value = 8,
	.max_elem = 256,
	.id = 1,
	.pinning = 2, /* PIN_GLOBAL_NS */
};

struct iproute2_map flows SEC("maps") = {
	.type = BPF_MAP_TYPE_HASH,
	.size_key = 8,
	.size_value = 8,
	.max_elem = 1024,
	.id = 2,
	.pinning = 4, /* custom id: the manifest's pin_ids[4] */
};

struct iproute2_map scratch SEC("maps") = {
	.type = BPF_MAP_TYPE_PERCPU_ARRAY,
	.size_key = 4,
	.size_value = 8,
	.max_elem = 1,
	.pinning = 0,
};

SEC("classifier")
int cls_main(struct __sk_buff *skb)
{
	__u32 key = skb->queue_mapping & 0xff;
	__u64 flow = ((__u64)skb->protocol << 32) | skb->ifindex, one = 1, *v;

	v = bpf_map_lookup_elem(&counters, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	v = bpf_map_lookup_elem(&flows, &flow);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&flows, &flow, &one, BPF_ANY);
	return TC_ACT_OK;
}

/* Counts in the per-CPU scratch slot; a tc action that never drops. */
SEC("action")
int act_main(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v;

	v = bpf_map_lookup_elem(&scratch, &key);
	if (v)
		*v += 1;
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
