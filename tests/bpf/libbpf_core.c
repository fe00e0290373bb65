// SPDX-License-Identifier: MIT
/* Test object that needs CO-RE: a local task_struct with only the fields it
 * reads, relocated against the running kernel's BTF by the loader (libbpf's
 * .BTF.ext field relocations). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* A .kconfig extern, as cilium's kconfig object has: libbpf fills it in a
 * map of its own at load. */
extern unsigned int LINUX_KERNEL_VERSION __kconfig;

struct task_struct {
	int pid;
	int tgid;
} __attribute__((preserve_access_index));

SEC("raw_tp/sys_enter")
int core_read(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	int pid = BPF_CORE_READ(task, pid);
	int tgid = BPF_CORE_READ(task, tgid);

	return pid == tgid && LINUX_KERNEL_VERSION ? 0 : 1;
}

char LICENSE[] SEC("license") = "GPL";
