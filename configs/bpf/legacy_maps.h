/* SPDX-License-Identifier: MIT */
/* Map records of the legacy layouts the example objects use: gobpf's
 * `maps/NAME` sections (280 bytes) and iproute2's `maps` section (36-byte
 * records named by their symbols). */
#ifndef BPFPROV_EXAMPLE_LEGACY_MAPS_H
#define BPFPROV_EXAMPLE_LEGACY_MAPS_H

#include <linux/types.h>

struct gobpf_map {
	__u32 type;
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;
	__u32 map_flags;
	__u32 pinning; /* 0 none, 1 object, 2 global, 3 custom */
	char namespace[256];
};

struct iproute2_map {
	__u32 type;
	__u32 size_key;
	__u32 size_value;
	__u32 max_elem;
	__u32 flags;
	__u32 id;
	__u32 pinning; /* 0 none, 1 object, 2 global, else a custom id */
	__u32 inner_id;
	__u32 inner_idx;
};

#endif
