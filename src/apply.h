/* SPDX-License-Identifier: MIT */
/* apply: one executor over a plan's steps.  A real run takes them in order,
 * all or nothing: new objects are pinned under temporary names beside their
 * place and renamed into it, every step leaves an undo record, and any
 * failure undoes them all in reverse.  A dry run goes through the same
 * steps and only announces them. */
#ifndef BPFPROV_APPLY_H
#define BPFPROV_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "desired.h"
#include "diag.h"
#include "ledger.h"
#include "manifest.h"
#include "plan.h"
#include "sys.h"

/* What became of a change. */
enum apply_status {
	APPLY_UNTRIED = 0,
	APPLY_DONE,
	APPLY_FAILED,
	APPLY_ROLLED_BACK,
	APPLY_STATUS_MAX,
};

struct apply_input {
	const char *root;
	const struct manifest_set *set;
	const struct desired *desired;
	const struct plan *plan;
	const struct observed *observed; /* the tree the plan was made from */
	/* Updated in memory and saved on success; on failure as loaded, but for
	 * the inodes of directories the rollback had to make again. */
	struct ledger *ledger;
	bool destroy;
	bool dry_run; /* announce the steps, take none: no root, lock or kernel needed */
	FILE *verifier_log; /* a refused program's whole verifier log goes here (-v), or NULL */
	/* Called before each step is taken (or, in a dry run, would be), with
	 * its index in plan->steps; may be NULL.  Rendering is the caller's. */
	void (*announce)(void *ctx, size_t step);
	/* Called after each change is made, with how many of how many are done;
	 * may be NULL. */
	void (*progress)(void *ctx, size_t done, size_t total);
	void *ctx; /* for announce and progress */
	/* After a failure, receives how many steps the rollback could not
	 * undo (0: the tree is as before); may be NULL. */
	size_t *not_undone;
};

/* Executes in->plan's steps.  status must have room for plan->n entries
 * and receives each change's outcome.  Returns 0, or a negative errno with
 * the reason in d once every step taken has been undone (-EPERM: the plan
 * holds refused changes, and nothing was tried). */
int apply_run(const struct apply_input *in, struct sys *sys, struct diag *d,
	      enum apply_status *status);

/* "done", "failed", "rolled_back"; NULL for a change never tried. */
const char *apply_status_str(enum apply_status s);

#endif
