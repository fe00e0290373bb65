// SPDX-License-Identifier: MIT
/* Test object with libbpf's BTF map-in-map and prog array initialisers: an
 * ARRAY_OF_MAPS pinned by name whose slots 0 and 1 hold inner_a and inner_b,
 * and a prog array pinned by name whose slot 0 holds tail_prog.  libbpf fills
 * both when it creates them. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner_def {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
};

struct inner_def inner_a SEC(".maps");
struct inner_def inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct inner_def);
} outer SEC(".maps") = {
	.values = { [0] = &inner_a, [1] = &inner_b },
};

SEC("socket")
int tail_prog(struct __sk_buff *skb)
{
	return skb->len;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, int(void *));
} jmp_table SEC(".maps") = {
	.values = { [0] = (void *)&tail_prog },
};

SEC("socket")
int main_prog(struct __sk_buff *skb)
{
	__u32 key = skb->len & 1;
	__u32 *inner = bpf_map_lookup_elem(&outer, &key);

	if (inner) {
		__u32 *v = bpf_map_lookup_elem(inner, &(__u32){ 0 });

		if (v)
			__sync_fetch_and_add(v, 1);
	}
	bpf_tail_call(skb, &jmp_table, 0);
	return 0;
}

char _license[] SEC("license") = "GPL";
