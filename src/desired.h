/* SPDX-License-Identifier: MIT */
/* desired: the manifests and their ELF objects resolved into the list of pins
 * that should exist - path, kind, and which manifest, object and map or
 * program each comes from (SPEC section 3). */
#ifndef BPFPROV_DESIRED_H
#define BPFPROV_DESIRED_H

#include <stddef.h>

#include "diag.h"
#include "manifest.h"
#include "objfile.h"

enum desired_kind {
	DESIRED_MAP,
	DESIRED_PROGRAM,
};

struct desired_pin {
	char *path;                             /* relative to the root */
	enum desired_kind kind;
	const struct manifest *manifest;        /* borrowed from the manifest set */
	const struct manifest_object *object;   /* borrowed */
	const struct manifest_entry *entry;     /* the entry that declared it, or NULL (ELF default) */
	const struct manifest_attrs *attrs;     /* the entry's, else the manifest's defaults */
	const struct objfile *objfile;          /* NULL when objects were not read */
	size_t index;                           /* in objfile->maps or objfile->progs */
	struct diag_loc loc;                    /* where it was declared */
};

struct desired {
	struct objfile **objfiles; /* one per manifest object, in manifest order; owned */
	size_t n_objfiles;
	struct desired_pin *pins;
	size_t n_pins;
};

/* Builds the desired pins of a set.  With read_objects, every object is read
 * and every selector checked against it (errors list what the object has);
 * without, only the pins whose path the manifest alone determines are listed.
 * In both cases no two pins may share a path.  Returns 0, or a negative errno
 * with every problem recorded in d (-EINVAL invalid input, -ENOMEM).  The set
 * must outlive des; desired_done() releases des's contents. */
int desired_build(const struct manifest_set *set, bool read_objects, struct diag *d,
		  struct desired *des);
void desired_done(struct desired *des);

#endif
