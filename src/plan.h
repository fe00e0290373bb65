/* SPDX-License-Identifier: MIT */
/* plan: the difference between desired and observed state as ordered actions
 * (SPEC section 4).  A pure function: no I/O, so it is unit-tested with states
 * built in memory. */
#ifndef BPFPROV_PLAN_H
#define BPFPROV_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "desired.h"
#include "ledger.h"
#include "manifest.h"
#include "observed.h"

/* PLAN_TEMP_PREFIX, the temporary pins' names, is in model.h: manifest.c
 * refuses it in declared paths. */

enum plan_action {
	PLAN_CREATE,
	PLAN_REPLACE,
	PLAN_UPDATE,
	PLAN_DELETE,
	PLAN_UNCHANGED,
	PLAN_ACTION_MAX,
};

struct plan_change {
	enum plan_action action;
	enum observed_kind kind;            /* what is created/replaced (desired) or deleted (observed) */
	const char *path;                   /* borrowed from want or have */
	const struct desired_pin *want;     /* NULL for delete */
	const struct observed_entry *have;  /* NULL for create */
	const char *manifest;               /* name of the manifest it belongs to */
	enum on_incompatible policy;        /* replace of a map: how; else ON_INCOMPATIBLE_UNSET */
	bool refused;                       /* apply will refuse this change (policy fail, conflict) */
	char *reason;                       /* owned */
};

struct plan {
	struct plan_change *changes; /* ordered: create/replace/update by path, then deletes children first */
	size_t n;
	size_t counts[PLAN_ACTION_MAX];
	size_t n_refused;
};

/* What is planned for: the manifests (for prune flags and owned dirs), and
 * whether everything they declare is to go (destroy). */
struct plan_input {
	const struct manifest_set *set;
	const struct desired *desired;
	const struct observed *observed;
	const struct ledger *ledger;
	bool destroy;
};

/* Builds the plan.  Returns 0 and fills *ret (release with plan_done()), or
 * -ENOMEM.  Ownership: a pin is deleted only when (a) the ledger records it for
 * a manifest of the set that prunes, and it is still the same pin (inode and
 * id), or (b) it lies under an `owned` directory of a manifest of the set and
 * no manifest's ledger record claims it; also (c) temporary pins
 * (PLAN_TEMP_PREFIX) an interrupted run left.  Symlinks and unreadable pins
 * are never deleted.  A program whose map is created or replaced is replaced
 * too, so that it is loaded against the new map. */
int plan_build(const struct plan_input *in, struct plan *ret);
void plan_done(struct plan *p);

/* "create", "replace", "update", "delete", "unchanged". */
const char *plan_action_str(enum plan_action a);

/* True when there is anything to do (or refused). */
bool plan_has_changes(const struct plan *p);

#endif
