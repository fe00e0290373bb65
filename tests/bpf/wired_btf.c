// SPDX-License-Identifier: MIT
/* The kill test's object in libbpf's layout: eight socket filters wired to
 * one array pinned by name, whose size the build sets (COUNTS_MAX: 4, or 8
 * for the second version, which migrates). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifndef COUNTS_MAX
#define COUNTS_MAX 4
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, COUNTS_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} counts SEC(".maps");

#define COUNTER(N)                                                     \
	SEC("socket")                                                  \
	int p##N(struct __sk_buff *skb)                                \
	{                                                              \
		__u32 key = N & 3; /* the same code in both versions */ \
		__u64 *v = bpf_map_lookup_elem(&counts, &key);         \
                                                                       \
		if (v)                                                 \
			__sync_fetch_and_add(v, 1);                    \
		return 0;                                              \
	}

COUNTER(0)
COUNTER(1)
COUNTER(2)
COUNTER(3)
COUNTER(4)
COUNTER(5)
COUNTER(6)
COUNTER(7)

char _license[] SEC("license") = "GPL";
