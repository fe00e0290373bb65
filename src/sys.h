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
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <bpf/bpf.h>

struct bpf_object;

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
 * Every kernel call that changes state is made here; apply calls this only
 * before it writes the ledger file, its one change outside the tree. */
int sys_step(struct sys *s);

/* Whether the last step counted was the one made to fail: its error is
 * ours, not the kernel's. */
bool sys_injected(const struct sys *s);

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

/* A batch of entries written (bpf_map_update_batch, elem_flags flags) as one
 * step; where the kernel has no batch ops for the map (before Linux 5.6, or
 * a map type without them) one bpf_map_update_elem per entry, still one
 * step.  keys and values hold *count entries each, laid out as the batch
 * call takes them (per-CPU values rounded up to 8 bytes, times the possible
 * CPUs).  *count becomes the number of entries written: all of them on
 * success; on failure those before entry *count, which is the one that
 * failed (0 when the step itself failed). */
/* Whether a batch map call failed with err (a negative errno) because
 * there are no batch ops: EINVAL before Linux 5.6, the kernel's own
 * ENOTSUPP (524) for a map type without them. */
bool sys_batch_unsupported(int err);

/* Bytes of one value as the map syscalls take it: per-CPU maps hold one
 * value, rounded up to 8 bytes, per possible CPU. */
size_t sys_map_value_bytes(uint32_t type, uint32_t value_size);

int sys_map_update_batch(struct sys *s, int map_fd, const void *keys, const void *values,
			 uint32_t *count, unsigned long long flags);

/* Kernel objects made, one step each: bpf_map_create and bpf_prog_load with
 * their arguments.  Return the new fd, the caller's, or a negative errno.
 * With s NULL the call is no step: objects thrown away within the call
 * that made them (inner-map templates, probes) change no state a run
 * rolls back. */
int sys_map_create(struct sys *s, enum bpf_map_type type, const char *name, uint32_t key_size,
		   uint32_t value_size, uint32_t max_entries,
		   const struct bpf_map_create_opts *opts);
int sys_prog_load(struct sys *s, enum bpf_prog_type type, const char *name, const char *license,
		  const struct bpf_insn *insns, size_t n_insns, struct bpf_prog_load_opts *opts);

/* A BPF link made, one step: bpf_link_create(prog_fd, target, type) with
 * flags (XDP mode flags), target an ifindex or an fd (cgroup directory,
 * perf event) as the attach type takes it; or, for raw tracepoints,
 * bpf_raw_tracepoint_open(name, prog_fd) (type ignored).  Returns the link's
 * fd, the caller's, or a negative errno. */
int sys_link_create(struct sys *s, int prog_fd, int target, enum bpf_attach_type type,
		    uint32_t flags);
int sys_raw_tp_open(struct sys *s, const char *name, int prog_fd);

/* A link pointed at another program atomically (BPF_LINK_UPDATE with
 * BPF_F_REPLACE): only while it runs old_prog_fd's program, -EPERM
 * otherwise; -EOPNOTSUPP where the link type cannot be updated. */
int sys_link_update(struct sys *s, int link_fd, int new_prog_fd, int old_prog_fd);

/* Every map and program of a libbpf object loaded (bpf_object__load) as one
 * step; the object keeps their fds.  On an injected failure nothing is
 * loaded and the object can still be. */
int sys_object_load(struct sys *s, struct bpf_object *obj);

#endif
