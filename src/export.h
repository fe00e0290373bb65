/* SPDX-License-Identifier: MIT */
/* export: a manifest (bpf-provision.yaml(5)) that declares the live pins of a
 * tree as they are - maps and programs matched to the maps and programs of
 * given ELF objects, maps matched to none as standalone maps - so that
 * applying it where they are changes nothing and applying it on an empty
 * bpffs makes the same pins (bpf-provision(1), export). */
#ifndef BPFPROV_EXPORT_H
#define BPFPROV_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "objfile.h"
#include "observed.h"

/* One given object and what of the tree it declares. */
struct export_object {
	struct objfile *of; /* owned */
	char *name;         /* its name in the manifest, unique there; owned */
	/* The tag of each program (identity_object_tags()); has_tag false for
	 * one that could not be loaded.  n_progs each; owned. */
	uint8_t (*tags)[8];
	bool *has_tag;
	/* The pin each map and program is declared at, or NULL: borrowed
	 * from the observed tree.  n_maps and n_progs; owned arrays. */
	const struct observed_entry **map_pin;
	const struct observed_entry **prog_pin;
};

/* A pin under the paths that the manifest does not declare, and why. */
struct export_skipped {
	const struct observed_entry *e; /* borrowed */
	char *why;                      /* raw text, escaped when written; owned */
};

struct export {
	struct export_object *objects;
	size_t n_objects;
	const struct observed_entry **maps; /* standalone maps; borrowed entries */
	size_t n_maps;
	struct export_skipped *skipped;
	size_t n_skipped;
};

/* What to export and from where. */
struct export_request {
	const char *root;           /* the bpffs root */
	bool empty;                 /* the tree is empty (--mount on no bpffs): nothing to scan */
	char *const *objects;       /* --objects: object files, or directories of *.o */
	size_t n_objects;
	char *const *paths;         /* pins under these, relative to root or absolute under it */
	size_t n_paths;             /* 0: the whole root */
	FILE *vlog;                 /* verifier logs (-v), or NULL */
};

/* Reads the objects, learns their programs' tags (needs CAP_BPF), scans the
 * tree and writes the manifest to out, as YAML emitted by libyaml after
 * comment lines that list what was not exported and why.  Nothing is written
 * to out on failure.  Returns 0; -EINVAL for an object or path that cannot
 * be read or is invalid, with the reason in d; another negative errno when
 * the tree cannot be read or the kernel refuses (in d). */
int export_run(const struct export_request *req, struct diag *d, FILE *out);

/* Matching alone, no I/O: which pins of obs under prefixes (relative to the
 * root, "" the whole tree; none: the whole tree) each object of x declares
 * (x->objects with of, name, tags and has_tag set), which are standalone
 * maps and which are skipped.  Returns 0 or -ENOMEM. */
int export_match(struct export *x, const struct observed *obs, char *const *prefixes,
		 size_t n_prefixes);

/* Writes x as a manifest named "exported" for root to out.  Returns 0, or
 * -EINVAL with the reason in d when libyaml cannot emit it, -ENOMEM. */
int export_emit(const struct export *x, const char *root, struct diag *d, FILE *out);

void export_done(struct export *x);

#endif
