// SPDX-License-Identifier: MIT
/* Programs that another tool attaches by hand in tests/attach.sh (bpftool
 * net attach, bpftool cgroup attach), to check that destroy leaves them
 * alone: no maps, so loading them pins nothing anywhere. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int foreign_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("cgroup_skb/egress")
int foreign_cg(struct __sk_buff *skb)
{
	return 1;
}

char _license[] SEC("license") = "GPL";
