// SPDX-License-Identifier: MIT
/* Test object (libbpf style, no maps) that the verifier rejects with
 * "invalid read from stack", after a few instructions it accepts so that
 * the verifier log has several of them.  A privileged loader may read
 * uninitialised stack slots inside the frame since Linux 6.3
 * (allow_uninit_stack), so the bad read is of a slot beyond the 512-byte
 * frame, which no loader may read. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifdef WITH_ACCEPTED
/* reject_mixed.o: a program the verifier accepts before the one it
 * rejects, so that a load of both would lose the first one's tag. */
SEC("socket")
int accepted(struct __sk_buff *skb)
{
	return skb->len;
}
#endif

SEC("socket")
int reject_btf(struct __sk_buff *skb)
{
	__u32 len = skb->len, proto = skb->protocol;
	long v;

	/* The clobber keeps the two loads above before the read. */
	asm volatile("%0 = *(u64 *)(r10 - 520)" : "=r"(v) : : "memory");
	return v + len * proto;
}

char _license[] SEC("license") = "GPL";
