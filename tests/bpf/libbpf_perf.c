// SPDX-License-Identifier: MIT
/* Test object with the two event maps libbpf programs use, both pinned by
 * name: a perf event array declared with neither max_entries nor key/value
 * (libbpf makes it one 4-byte slot per possible CPU) and a 256 KiB ring
 * buffer. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} perf_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ring_events SEC(".maps");

SEC("tp/syscalls/sys_enter_write")
int emit(void *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, &pid_tgid, sizeof(pid_tgid));
	bpf_ringbuf_output(&ring_events, &pid_tgid, sizeof(pid_tgid), 0);
	return 0;
}

char _license[] SEC("license") = "GPL";
