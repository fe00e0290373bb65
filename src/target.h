/* SPDX-License-Identifier: MIT */
/* target: the hooks declared links attach to, as this machine has them -
 * interfaces, cgroups, tracepoints, functions - and what the running
 * kernel supports (tcx, kprobes, tracefs), so that a plan names what is
 * missing instead of failing with an errno at apply.  Like identity.h, kept
 * out of the desired stage: live runs call it before planning.  Also makes
 * the links themselves for apply (target_attach). */
#ifndef BPFPROV_TARGET_H
#define BPFPROV_TARGET_H

#include <stdbool.h>

#include "desired.h"
#include "diag.h"
#include "observed.h"
#include "sys.h"

struct target_options {
	/* Mount tracefs at /sys/kernel/tracing when a tracepoint needs it and
	 * none is mounted (--mount); a dry run only plans as if it had. */
	bool mount_tracefs;
	bool dry_run;
};

/* Resolves every link of des: ifindex of its interface (in this process's
 * network namespace), absolute path and id of its cgroup (a relative path is
 * below the cgroup2 mount), that its tracepoint or function exists, and that
 * the kernel can make such a link.  A missing target of an `optional:`
 * attach marks the link skipped, with a warning; otherwise it is an error at
 * the attach's FILE:LINE:COL.  An XDP hook already held by a program that
 * the observed link at the declared pin does not run (obs: the tree under
 * the root; NULL or empty when there is none yet) is an error naming that
 * program, and the link pinned elsewhere that holds it if one does.
 * Returns 0, or -ENOENT (a target missing), -EOPNOTSUPP (the kernel lacks
 * the hook), -EBUSY (hook taken), another negative errno, with every
 * problem recorded in d. */
int target_resolve(struct desired *des, const struct observed *obs,
		   const struct target_options *opts, struct diag *d);

/* Makes the link of a resolved link pin l for the program prog_fd, through
 * s (one step).  Returns 0 with the new link's fd in *ret_fd (the
 * caller's; closing it before it is pinned detaches it), or a negative
 * errno with the reason in d at the attach's location. */
int target_attach(struct sys *s, const struct desired_link *l, int prog_fd, struct diag *d,
		  int *ret_fd);

/* Where a filesystem of type fstype ("cgroup2", "tracefs") is mounted in
 * this process's mount namespace: the first such line of
 * /proc/self/mountinfo.  Returns 0 with a new string in *ret (the
 * caller's), -ENOENT when there is none, or another negative errno.
 * Shared with the observed stage, which names a link's cgroup by it. */
int target_mount_point(const char *fstype, char **ret);

#endif
