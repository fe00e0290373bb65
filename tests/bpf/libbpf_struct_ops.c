// SPDX-License-Identifier: MIT
/* Test object with a struct_ops map, as libbpf-bootstrap and the kernel
 * selftests write TCP congestion controls: a `.struct_ops` variable whose
 * function pointers are the object's struct_ops programs.  inspect reads it;
 * nothing here is loaded (registering it is attaching). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct sock;

/* Only the members set below; libbpf matches them by name against the
 * kernel's BTF when it loads. */
struct tcp_congestion_ops {
	__u32 (*ssthresh)(struct sock *sk);
	__u32 (*undo_cwnd)(struct sock *sk);
	void (*cong_avoid)(struct sock *sk, __u32 ack, __u32 acked);
	char name[16];
} __attribute__((preserve_access_index));

SEC("struct_ops/cc_ssthresh")
__u32 cc_ssthresh(struct sock *sk)
{
	return 2;
}

SEC("struct_ops/cc_undo_cwnd")
__u32 cc_undo_cwnd(struct sock *sk)
{
	return 2;
}

SEC("struct_ops/cc_cong_avoid")
void cc_cong_avoid(struct sock *sk, __u32 ack, __u32 acked)
{
}

SEC(".struct_ops")
struct tcp_congestion_ops bpfprov_cc = {
	.ssthresh = (void *)cc_ssthresh,
	.undo_cwnd = (void *)cc_undo_cwnd,
	.cong_avoid = (void *)cc_cong_avoid,
	.name = "bpfprov_cc",
};

char _license[] SEC("license") = "GPL";
