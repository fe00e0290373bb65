// SPDX-License-Identifier: MIT
/* Test object whose second map the kernel refuses to create (2 GiB of 64 KiB
 * values): an apply must fail after making the first and roll it back. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "legacy.h"

struct gobpf_map_rec small SEC("maps/small") = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = 4,
	.value_size = 4,
	.max_entries = 16,
	.pinning = GOBPF_PIN_GLOBAL_NS,
};

struct gobpf_map_rec toobig SEC("maps/toobig") = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = 4,
	.value_size = 65536,
	.max_entries = 0x7fffffff,
	.pinning = GOBPF_PIN_GLOBAL_NS,
};

char _license[] SEC("license") = "GPL";
