// SPDX-License-Identifier: MIT
/* Test object for map contents (tests/contents.sh), in libbpf's style with
 * BTF, so that values can be written as structs by field name:
 *  - config: a hash of u32 to struct cfg (8 bytes: integer fields, a
 *    nested struct, padding), the map the seed/enforce/exact cases write;
 *  - small: a hash of max_entries 2 (more entries than that are an error);
 *  - slots: an array of u32 to u64;
 *  - ring, perf: a ring buffer and a perf event array, whose entries
 *    cannot be written from user space (entries on them are an error).
 * No map is pinned by name: loading the object pins nothing by itself. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct range {
	__u16 lo;
	__u16 hi;
};

struct cfg {
	__u16 port;
	__u8 enabled;
	__u8 pad;
	struct range range;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct cfg);
	__uint(max_entries, 64);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 2);
} small SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 8);
} slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf SEC(".maps");

/* Counts the packets of a socket whose config[1] is enabled into slots[0],
 * and reports the port in the ring buffer and the perf event array. */
SEC("socket")
int site_filter(struct __sk_buff *skb)
{
	__u32 key = 1, zero = 0, small_key = 0;
	struct cfg *c = bpf_map_lookup_elem(&config, &key);
	__u64 *n;
	__u32 *s;
	__u64 port;

	if (!c || !c->enabled)
		return skb->len;
	n = bpf_map_lookup_elem(&slots, &zero);
	if (n)
		__sync_fetch_and_add(n, 1);
	s = bpf_map_lookup_elem(&small, &small_key);
	if (s)
		__sync_fetch_and_add(s, 1);
	port = c->port;
	bpf_ringbuf_output(&ring, &port, sizeof(port), 0);
	bpf_perf_event_output(skb, &perf, BPF_F_CURRENT_CPU, &port, sizeof(port));
	return skb->len;
}

char _license[] SEC("license") = "GPL";
