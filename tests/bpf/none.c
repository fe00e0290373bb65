// SPDX-License-Identifier: MIT
/* Test object without any maps section: programs only. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("socket")
int socket_drop(struct __sk_buff *skb)
{
	return 0;
}

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual MIT/GPL";
