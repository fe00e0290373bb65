// SPDX-License-Identifier: MIT
/* Test object in gobpf's layout for the kill test: eight socket filters
 * wired to one globally pinned array whose size the build sets
 * (COUNTS_MAX: 4, or 8 for the second version, which migrates). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "legacy.h"

#ifndef COUNTS_MAX
#define COUNTS_MAX 4
#endif

struct gobpf_map_rec counts SEC("maps/counts") = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = 4,
	.value_size = 8,
	.max_entries = COUNTS_MAX,
	.pinning = GOBPF_PIN_GLOBAL_NS,
	.namespace = "wired",
};

#define COUNTER(N)                                                     \
	SEC("socket/p" #N)                                             \
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
