// SPDX-License-Identifier: MIT
/* Benchmark object in gobpf's layout: ten tiny maps (ARRAY, key 4, value 4,
 * one entry), each pinned PIN_OBJECT_NS, so a manifest that lists this file
 * K times under K object names declares 10*K pins NAMESPACE/OBJECT/mJ.  No
 * programs: the benchmark measures maps and the tree. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "../tests/bpf/legacy.h"

#define BENCH_MAP(n)                                                \
	struct gobpf_map_rec m##n SEC("maps/m" #n) = {              \
		.type = BPF_MAP_TYPE_ARRAY,                         \
		.key_size = 4,                                      \
		.value_size = 4,                                    \
		.max_entries = 1,                                   \
		.pinning = GOBPF_PIN_OBJECT_NS,                     \
	}

BENCH_MAP(0);
BENCH_MAP(1);
BENCH_MAP(2);
BENCH_MAP(3);
BENCH_MAP(4);
BENCH_MAP(5);
BENCH_MAP(6);
BENCH_MAP(7);
BENCH_MAP(8);
BENCH_MAP(9);

char _license[] SEC("license") = "GPL";
