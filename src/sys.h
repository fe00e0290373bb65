/* SPDX-License-Identifier: MIT */
/* sys: the one door to kernel and filesystem calls that change state.  Each
 * call counts as a step; a test can make step N fail (BPF_PROVISION_FAIL_AT=N,
 * with errno BPF_PROVISION_FAIL_ERRNO, default EIO) to prove that apply rolls
 * back from any point.  Every function returns 0 or a negative errno. */
#ifndef BPFPROV_SYS_H
#define BPFPROV_SYS_H

#include <stdbool.h>
#include <sys/types.h>

struct sys {
	unsigned long steps;   /* calls made so far */
	unsigned long fail_at; /* 1-based step that fails; 0: none */
	int fail_errno;
};

/* Reads the fault-injection variables from the environment. */
void sys_init(struct sys *s);

/* Counts a step; returns the injected error when this is the failing one.
 * Callers that make kernel calls outside this module call it first. */
int sys_step(struct sys *s);

int sys_obj_get(struct sys *s, const char *path, int *ret_fd);
int sys_obj_pin(struct sys *s, int fd, const char *path);
int sys_rename(struct sys *s, const char *from, const char *to);
/* Swaps two names atomically (renameat2 RENAME_EXCHANGE; bpffs has it). */
int sys_exchange(struct sys *s, const char *a, const char *b);
int sys_unlink(struct sys *s, const char *path);
int sys_mkdir(struct sys *s, const char *path, mode_t mode);
int sys_rmdir(struct sys *s, const char *path);
int sys_chmod(struct sys *s, const char *path, mode_t mode);
int sys_chown(struct sys *s, const char *path, uid_t uid, gid_t gid);

#endif
