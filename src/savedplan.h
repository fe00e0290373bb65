/* SPDX-License-Identifier: MIT */
/* savedplan: a plan written to a file for review (plan --out) and carried
 * out later exactly as reviewed (apply --plan).  The file is one JSON
 * document, "format": "bpf-provision-plan", "version": 1
 * (schema/saved-plan.schema.json), holding the plan and every identity it
 * was computed from: the manifests' and ELF objects' sha256 digests, every
 * entry under the root with its inode, kernel id, tag, spec and attributes,
 * and a digest of the ledger.  A later run computes the same document from
 * what it reads and compares the two: any difference means the tree (or the
 * input) changed since the plan was made. */
#ifndef BPFPROV_SAVEDPLAN_H
#define BPFPROV_SAVEDPLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "desired.h"
#include "diag.h"
#include "ledger.h"
#include "manifest.h"
#include "observed.h"
#include "plan.h"

#define SAVEDPLAN_FORMAT "bpf-provision-plan"
#define SAVEDPLAN_VERSION 1

/* What a plan was computed from, and the plan; all borrowed.  root is the
 * resolved root the tree was read under. */
struct savedplan_input {
	bool destroy;       /* the plan is destroy's (else apply's) */
	const char *root;
	bool prune_retired; /* apply --prune-retired */
	char *const *names; /* destroy --name */
	size_t n_names;
	char *const *targets; /* --target, relative to the root */
	size_t n_targets;
	const struct manifest_set *set;
	const struct desired *desired;
	const struct observed *observed;
	const struct ledger *ledger;
	const struct plan *plan;
};

/* A saved plan as read back.  root points into doc; savedplan_done()
 * releases everything. */
struct savedplan {
	char *file;          /* where it was read from (owned copy) */
	bool destroy;
	const char *root;
	bool prune_retired;
	char **names;        /* destroy --name; owned, as their strings */
	size_t n_names;
	char **targets;      /* --target, relative to the root; owned */
	size_t n_targets;
	char **manifests;    /* absolute paths, in the order they were read; owned */
	size_t n_manifests;
	struct json_t *doc;  /* the whole document (owned reference) */
};

/* Writes the saved plan of in to file, atomically (atomicfile.h), mode
 * 0644.  Manifest and object paths are recorded absolute (relative ones
 * completed with the working directory, symlinks kept as named) and must be
 * valid UTF-8.  Every manifest is read again for its digest.  Returns 0, or a
 * negative errno with the reason in d. */
int savedplan_write(const struct savedplan_input *in, const char *file, struct diag *d);

/* Reads and checks a saved plan: a regular file holding one JSON document
 * of this format and version with every field of the right type.  Returns 0
 * and fills *ret (release with savedplan_done()), or -EINVAL ("FILE: error:
 * ...", in d) for anything else, the file's own -errno when it cannot be
 * read, or -ENOMEM. */
int savedplan_read(const char *file, struct diag *d, struct savedplan *ret);

/* Compares sp with what the live run read and planned (in): the root, each
 * manifest's and object's path and digest, every entry under the root, the
 * ledger, then the plan itself.  Returns 0 when all agree; else -ESTALE with
 * one error in d naming the first difference, "the tree changed since the
 * plan: PATH: inode 12 is now 34"; or -ENOMEM. */
int savedplan_check(const struct savedplan *sp, const struct savedplan_input *in,
		    struct diag *d);

void savedplan_done(struct savedplan *sp);

#endif
