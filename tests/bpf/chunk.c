// SPDX-License-Identifier: MIT
/* Test object with one 4 MiB map pinned per object name: a manifest naming
 * it many times fills a memory cgroup's limit part of the way through. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "legacy.h"

struct gobpf_map_rec chunk SEC("maps/chunk") = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = 4,
	.value_size = 4096,
	.max_entries = 1024,
	.pinning = GOBPF_PIN_OBJECT_NS,
};

char _license[] SEC("license") = "GPL";
