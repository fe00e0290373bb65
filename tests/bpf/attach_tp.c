// SPDX-License-Identifier: MIT
/* Test object for attachments (tests/attach.sh): a tracepoint program whose
 * target is in its section name (attach `auto: true`), counting every
 * getppid(2) on the machine at key 0 of a map pinned by name. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tp_counts SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int tp_count(void *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&tp_counts, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}

char _license[] SEC("license") = "GPL";
