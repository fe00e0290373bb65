/* SPDX-License-Identifier: MIT */
/* identity: what the kernel will call each desired program - its tag -
 * found without the verifier where it can be: the digest of the
 * instructions the load would hand the kernel.  A separate step from the
 * desired stage, which never calls the kernel: only live runs compute
 * identities.  A plan made offline takes them from the ledger instead,
 * which records what each pin was built from and the tags the kernel gave
 * it. */
#ifndef BPFPROV_IDENTITY_H
#define BPFPROV_IDENTITY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "desired.h"
#include "diag.h"
#include "objfile.h"
#include "ledger.h"
#include "observed.h"

/* Finds the tag the kernel will give each pinned program of des that has
 * none yet (identity_recorded_tags() gives most of a tree the tool made),
 * and that the plan compares with something in obs: computed from
 * loader_insns() once identity_probe_tag_bits() has told the kernel's
 * digest (spec.tag_computed; entries: tag_computed) - a legacy object's
 * with no kernel call, a libbpf object's relocated by libbpf without the
 * verifier; else (digest unknown, libbpf stopping short) by loading the
 * object's programs once, with pinning disabled and throwaway maps, and
 * closing them at once.  Nothing is pinned, nothing outlives the call, and
 * no sys step is counted.  Needs CAP_BPF when any is computed or loaded.
 * Sets spec.tag and spec.has_tag of every such program pin (entries: tag,
 * has_tag); a program whose every pin is at a free path in obs is not
 * looked at: spec.tag_deferred is set on its pins, and the apply's load
 * step loads it (see apply.h).  A refused program's whole verifier log
 * goes to vlog (-v) when it is not NULL, and so does the count of programs
 * loaded.  Returns 0, or a negative errno with the kernel's refusal
 * recorded in d. */
int identity_load_tags(struct desired *des, const struct observed *obs, FILE *vlog,
		       struct diag *d);

/* The tag of every program of one object, computed as
 * identity_load_tags() computes them, else each loaded alone (throwaway
 * maps, nothing pinned), for matching pins found in a tree to the object
 * (export).  *tag_bits is the run's memory of the kernel's digest across
 * calls: 0 before the first, so that it is probed once.  A program the
 * kernel refuses, or whose type the object does not say, gets no tag and a
 * warning in d.  tags and has_tag hold of->n_progs items each; has_tag[i]
 * says whether tags[i] was found.  Returns 0, or -ENOMEM. */
int identity_object_tags(const struct objfile *of, int *tag_bits, FILE *vlog, struct diag *d,
			 uint8_t (*tags)[8], bool *has_tag);
/* The digest the running kernel takes a program's tag from (the first 8
 * bytes of it): SHA-1 before Linux 6.18, SHA-256 since.  Found by loading
 * a two-instruction socket filter once and comparing; needs CAP_BPF.
 * Returns 160 or 256, or a negative errno (the load was refused, or
 * neither digest is the tag). */
int identity_probe_tag_bits(void);

/* Offline: the tags of the programs of des - a program pin's, a link's
 * program's, a program array entry's.  Objects of legacy layouts (gobpf,
 * iproute2) are loaded as their instructions stand, map fds patched in,
 * and the kernel's tag is the digest (tag_bits: 160 SHA-1, 256 SHA-256, as
 * identity_probe_tag_bits() found on the planned host; 0 unknown) of those
 * instructions with the fds zeroed: computed here, exactly.  For the rest
 * (libbpf relocates at load, against the kernel) the ledger's record is
 * taken for the same object bytes (SHA-1) and program name: the pin's own
 * first, else any other (the kernel gives the same instructions the same
 * tag); only a live record counts, one that claims its pin in obs (written
 * on this mount, so on this kernel).  Where neither gives it, spec.tag_unknown (entries: tag_unknown)
 * is set and the plan names it.  No kernel call.  Returns 0 or -ENOMEM. */
int identity_offline_tags(struct desired *des, const struct ledger *l, const struct observed *obs,
			  int tag_bits);

/* Live: the tags the ledger proves, as identity_offline_tags() takes them
 * from it (same object bytes, same program name, a live record: the same
 * instructions on the same kernel), so that a
 * plan of an unchanged tree the tool made loads no program.  The rest keep
 * has_tag false, for identity_load_tags().  No kernel call.  Returns 0 or
 * -ENOMEM. */
int identity_recorded_tags(struct desired *des, const struct ledger *l,
			   const struct observed *obs);

#endif
