/* SPDX-License-Identifier: MIT */
/* Map records of the two legacy ELF layouts, as the test objects declare
 * them: gobpf's one `maps/NAME` section per map and iproute2's `maps` section
 * of records.  Field order and widths are what src/objfile.c reads. */
#ifndef BPFPROV_TEST_LEGACY_H
#define BPFPROV_TEST_LEGACY_H

#include <linux/types.h>

/* gobpf: six 32-bit words and a NUL-terminated namespace, 280 bytes. */
struct gobpf_map_rec {
	__u32 type;
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;
	__u32 map_flags;
	__u32 pinning;
	char namespace[256];
};

/* gobpf pinning values. */
#define GOBPF_PIN_NONE 0
#define GOBPF_PIN_OBJECT_NS 1
#define GOBPF_PIN_GLOBAL_NS 2
#define GOBPF_PIN_CUSTOM_NS 3

/* iproute2: nine 32-bit words, 36 bytes; the name is the record's symbol. */
struct iproute2_map_rec {
	__u32 type;
	__u32 size_key;
	__u32 size_value;
	__u32 max_elem;
	__u32 flags;
	__u32 id;
	__u32 pinning;
	__u32 inner_id;
	__u32 inner_idx;
};

/* An older iproute2 record without id, pinning and inner map: 20 bytes. */
struct iproute2_map_rec_short {
	__u32 type;
	__u32 size_key;
	__u32 size_value;
	__u32 max_elem;
	__u32 flags;
};

/* iproute2 pinning values; anything above is a custom id. */
#define IPROUTE2_PIN_NONE 0
#define IPROUTE2_PIN_OBJECT_NS 1
#define IPROUTE2_PIN_GLOBAL_NS 2

#endif
