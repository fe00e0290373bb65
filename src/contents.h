/* SPDX-License-Identifier: MIT */
/* contents: map entries as manifests write them (bpf-provision.yaml(5), MAP
 * CONTENTS) turned into the bytes the kernel takes - integers in the key or
 * value size, exact bytes, structs by BTF field name, programs of a program
 * array by name - and, apart, what a pinned map holds at those keys now.
 * Encoding needs no kernel (the desired stage calls it); observing reads
 * the live maps, before planning, as identity.h and target.h do. */
#ifndef BPFPROV_CONTENTS_H
#define BPFPROV_CONTENTS_H

#include <stddef.h>
#include <stdint.h>

#include "desired.h"
#include "diag.h"
#include "manifest.h"
#include "objfile.h"
#include "observed.h"

/* The map entries are for. */
struct contents_target {
	const char *name;  /* for messages: "map 'config'" */
	uint32_t type;     /* enum bpf_map_type */
	uint32_t key_size, value_size, max_entries;
	const struct objfile *of; /* its object, for BTF and program names; NULL: standalone */
	size_t map;               /* its index in of->maps */
};

/* Encodes mc's entries for t into *ret (release with contents_done()).
 * Errors, each at its FILE:LINE:COL: an integer or bytes that do not fit
 * the size (bytes must be exactly the size), a struct without BTF or with a
 * field the BTF type has not (integer and nested struct fields; the rest of
 * the struct zero), a program not in the object or a program on a map that
 * is no program array (and a value on one that is), a duplicate key, a map
 * type whose entries cannot be written from user space (ring buffers,
 * perf event arrays, ...), more entries than max_entries.  Returns 0, or
 * -EINVAL with every problem in d, or -ENOMEM. */
int contents_encode(const struct manifest_contents *mc, const struct contents_target *t,
		    struct diag *d, struct desired_contents *ret);
void contents_done(struct desired_contents *c);

/* For every map pin of des with contents and a map of the same type, key
 * and value size pinned at its path under root (as obs saw it, same id):
 * looks up each entry and sets differs/absent (program entries: the slot's
 * program tag against entry->tag), and with exact lists the keys held that
 * no entry lists.  Marks each such contents observed.  Returns 0, or a
 * negative errno with the reason in d. */
int contents_observe(struct desired *des, const struct observed *obs, struct diag *d);

#endif
