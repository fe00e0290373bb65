/* SPDX-License-Identifier: MIT */
/* sys: the one door to kernel and filesystem calls that change state.  Each
 * call counts as a step; a test can make step N fail (BPF_PROVISION_FAIL_AT=N,
 * with errno BPF_PROVISION_FAIL_ERRNO, default EIO) to prove that apply rolls
 * back from any point, or stop the process before step N
 * (BPF_PROVISION_PAUSE_AT=N, SIGSTOP) to change the tree under a running apply.
 *
 * Paths are relative to the root opened by sys_open_root and are resolved
 * beneath it, through no symlink and across no mount: a directory swapped
 * for a symlink after the plan was made fails with -ELOOP instead of
 * leading elsewhere.  The last component is never followed either.  A
 * directory once resolved is kept open: later steps there, and their undo,
 * act in it even after it was renamed and a symlink took its name, and
 * sys_check_dirs tells whether that happened.  Every function returns 0 or
 * a negative errno. */
#ifndef BPFPROV_SYS_H
#define BPFPROV_SYS_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

struct sys {
	unsigned long steps;    /* calls made so far */
	unsigned long fail_at;  /* 1-based step that fails; 0: none */
	int fail_errno;
	unsigned long pause_at; /* 1-based step before which the process stops itself; 0: none */
	int root_fd;            /* -1 until sys_open_root */
	struct sys_dirs *dirs;  /* the directories resolved so far */
};

/* Reads the fault-injection variables from the environment. */
void sys_init(struct sys *s);

/* Counts a step; returns the injected error when this is the failing one.
 * Callers that make kernel calls outside this module call it first. */
int sys_step(struct sys *s);

/* A copy of s for undoing steps and reading back: the same root and open
 * directories, no fault injected, no pause; it counts its steps apart from
 * s. */
struct sys sys_quiet(const struct sys *s);

/* The root may itself be reached through symlinks: it is the caller's.
 * sys_close_root closes it and every directory kept open; copies made by
 * sys_quiet share them and must not be used after. */
int sys_open_root(struct sys *s, const char *root);
void sys_close_root(struct sys *s);

/* Whether each directory kept open is still what its path leads to:
 * -ELOOP or -ESTALE (another directory) for the first that is not, with
 * its path (valid until sys_close_root) in *ret_path.  Not a step. */
int sys_check_dirs(const struct sys *s, const char **ret_path);

/* lstat beneath the root; not a step. */
int sys_stat(const struct sys *s, const char *path, struct stat *st);
int sys_obj_get(struct sys *s, const char *path, int *ret_fd);
int sys_obj_pin(struct sys *s, int fd, const char *path);
/* Never replaces what is at to (RENAME_NOREPLACE): -EEXIST. */
int sys_rename(struct sys *s, const char *from, const char *to);
/* Swaps two names atomically (renameat2 RENAME_EXCHANGE; bpffs has it). */
int sys_exchange(struct sys *s, const char *a, const char *b);
int sys_unlink(struct sys *s, const char *path);
int sys_mkdir(struct sys *s, const char *path, mode_t mode);
int sys_rmdir(struct sys *s, const char *path);
/* Refuses (-ELOOP) a symlink rather than change it or what it points at. */
int sys_chmod(struct sys *s, const char *path, mode_t mode);
int sys_chown(struct sys *s, const char *path, uid_t uid, gid_t gid);

/* A map entry written or removed (bpf_map_update_elem, bpf_map_delete_elem
 * with flags as they take them); deleting an absent key is not an error. */
int sys_map_update(struct sys *s, int map_fd, const void *key, const void *value,
		   unsigned long long flags);
int sys_map_delete(struct sys *s, int map_fd, const void *key);

#endif
