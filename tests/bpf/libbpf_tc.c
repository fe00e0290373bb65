// SPDX-License-Identifier: MIT
/* Test object in libbpf-bootstrap's tc.bpf.c style: a SEC("tc") classifier,
 * one BTF map pinned by name (tc pins it in tc/globals) and a .data global. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tc_counts SEC(".maps");

__u32 slot = 1; /* .data */

SEC("tc")
int tc_ingress(struct __sk_buff *ctx)
{
	__u64 *v = bpf_map_lookup_elem(&tc_counts, &slot);

	if (v)
		__sync_fetch_and_add(v, 1);
	bpf_printk("Got IP packet: len %d", ctx->len);
	return TC_ACT_OK;
}

char __license[] SEC("license") = "GPL";
