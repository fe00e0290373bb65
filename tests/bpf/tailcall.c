// SPDX-License-Identifier: MIT
/* Test object for map contents (tests/contents.sh): a tail-call chain in
 * libbpf's style.  chain_entry counts into hits[0] and tail-calls slot 0 of
 * the program array jmp_table; the program there (chain_second, by the
 * manifest's `program:` entries) counts into hits[1] and tail-calls slot 1,
 * chain_third, which counts into hits[2].  One BPF_PROG_TEST_RUN of
 * chain_entry leaves every counter at 1 when both slots are wired, and the
 * chain stops (XDP_PASS) where a slot is empty.  No map is pinned by name:
 * loading the object (bpftool prog loadall) pins nothing by itself. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* tailcall_v2.c: chain_third counts by 2, a program changed in place. */
#ifndef THIRD_STEP
#define THIRD_STEP 1
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 3);
} hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 4);
} jmp_table SEC(".maps");

static __always_inline void count(__u32 slot, __u64 by)
{
	__u64 *v = bpf_map_lookup_elem(&hits, &slot);

	if (v)
		__sync_fetch_and_add(v, by);
}

SEC("xdp")
int chain_entry(struct xdp_md *ctx)
{
	count(0, 1);
	bpf_tail_call(ctx, &jmp_table, 0);
	return XDP_PASS;
}

SEC("xdp")
int chain_second(struct xdp_md *ctx)
{
	count(1, 1);
	bpf_tail_call(ctx, &jmp_table, 1);
	return XDP_PASS;
}

SEC("xdp")
int chain_third(struct xdp_md *ctx)
{
	count(2, THIRD_STEP);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
