// SPDX-License-Identifier: MIT
/* Test object in libbpf's style with a map type that has no batch ops (a
 * devmap), so that migrating it goes one entry at a time. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} ports SEC(".maps");

SEC("xdp")
int forward(struct xdp_md *ctx)
{
	return bpf_redirect_map(&ports, 0, XDP_PASS);
}
