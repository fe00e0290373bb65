/* SPDX-License-Identifier: MIT */
/* apply: carries out a plan on the live tree, all or nothing.  New objects are
 * pinned under temporary names beside their place and renamed into it; every
 * step is journaled and undone in reverse on any failure. */
#ifndef BPFPROV_APPLY_H
#define BPFPROV_APPLY_H

#include <stdbool.h>
#include <stdio.h>

#include "desired.h"
#include "diag.h"
#include "ledger.h"
#include "manifest.h"
#include "plan.h"
#include "sys.h"

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
	FILE *verifier_log; /* a refused program's whole verifier log goes here (-v), or NULL */
	/* Called after each change is made, with how many of how many are done;
	 * may be NULL.  Rendering is the caller's business. */
	void (*progress)(void *ctx, size_t done, size_t total);
	void *progress_ctx;
};

/* Executes in->plan.  status must have room for plan->n entries and receives
 * each change's outcome: "done", "failed", "rolled_back", or NULL when it
 * was never tried.  Returns 0, or a negative errno with the reason in d once
 * every step taken has been undone (-EPERM: the plan holds refused changes,
 * and nothing was tried). */
int apply_run(const struct apply_input *in, struct sys *sys, struct diag *d, const char **status);

#endif
