// SPDX-License-Identifier: MIT
/* Test object in libbpf-bootstrap's minimal.bpf.c style: no maps section at
 * all, only global data (.bss, .rodata) that libbpf turns into internal maps,
 * a tracepoint program and a helper in .text. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

int my_pid = 0;
const volatile int shift = 32;

static __attribute__((noinline)) int current_pid(void)
{
	return bpf_get_current_pid_tgid() >> shift;
}

SEC("tp/syscalls/sys_enter_write")
int handle_tp(void *ctx)
{
	int pid = current_pid();

	if (pid != my_pid)
		return 0;
	bpf_printk("BPF triggered from PID %d.\n", pid);
	return 0;
}
