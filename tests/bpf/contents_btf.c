// SPDX-License-Identifier: MIT
/* Test object for map contents (contents.c): maps whose keys and values are
 * structs by BTF - nested, with typedefs, an enum, a bool, an array, an
 * anonymous union and a bitfield - a per-CPU array, a program array with
 * two programs, a map with sizes but no BTF types, and maps whose entries
 * cannot be written (ring buffer, queue). */
#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum mode { MODE_OFF, MODE_ON, MODE_AUTO };

typedef __u16 port_t;

struct inner {
	__u64 x;
	__s8 y;
};

struct config {
	__u32 a;
	const volatile port_t b;
	__u8 mac[6];
	struct inner in;
	enum mode mode;
	bool on;
	union {
		__u32 u;
		__s16 s;
	};
	__u32 flags : 3;
	__u32 more : 5;
	__s64 big;
};

typedef struct config config_t;

struct pair {
	__u32 ip;
	__u16 port;
	__u16 pad;
};

typedef __u8 wide_t[16];

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, config_t);
	__uint(max_entries, 4);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct pair);
	__type(value, __u64);
	__uint(max_entries, 16);
} by_pair SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u8);
	__type(value, __s16);
	__uint(max_entries, 2);
} small SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, wide_t);
	__type(value, __u32);
	__uint(max_entries, 8);
} wide SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(key_size, 4);
	__uint(value_size, 12);
	__uint(max_entries, 8);
} sized SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 2);
} pcpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(key_size, 4);
	__uint(value_size, 4);
	__uint(max_entries, 4);
} jumps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(value_size, 4);
	__uint(max_entries, 4);
} q SEC(".maps");

SEC("socket")
int prog_a(struct __sk_buff *skb)
{
	__u32 key = 0;
	config_t *c = bpf_map_lookup_elem(&config, &key);

	bpf_tail_call(skb, &jumps, 1);
	return c ? c->a : 0;
}

SEC("socket")
int prog_b(struct __sk_buff *skb)
{
	return skb->len;
}

char _license[] SEC("license") = "GPL";
