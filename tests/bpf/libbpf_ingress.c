// SPDX-License-Identifier: MIT
/* Test object in libbpf's BTF layout whose program section, "ingress", names
 * no program type libbpf 1.1 knows: the manifest must give `type:`. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ingress_counts SEC(".maps");

SEC("ingress")
int ingress_count(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&ingress_counts, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
