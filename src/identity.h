/* SPDX-License-Identifier: MIT */
/* identity: what the kernel will call each desired program - its tag - found
 * by loading the program once.  A separate step from the desired stage, which
 * never calls the kernel: only live runs compute identities.  A plan made
 * offline takes them from the ledger instead, which records what each pin
 * was built from and the tags the kernel gave it. */
#ifndef BPFPROV_IDENTITY_H
#define BPFPROV_IDENTITY_H

#include <stdio.h>

#include "desired.h"
#include "diag.h"
#include "ledger.h"

/* Finds the tag the kernel will give each pinned program of des by loading it
 * once (legacy objects with throwaway maps for their relocations, BTF objects
 * through libbpf with pinning disabled) and closing it at once: nothing is
 * pinned, nothing outlives the call, and no sys step is counted.  Needs
 * CAP_BPF.  Sets spec.tag and spec.has_tag of every program pin.  A refused
 * program's whole verifier log goes to vlog (-v) when it is not NULL.
 * Returns 0, or a negative errno with the kernel's refusal recorded in d. */
int identity_load_tags(struct desired *des, FILE *vlog, struct diag *d);

/* Offline: the tags of the programs of des as the ledger records them - a
 * program pin's, a link's program's, a program array entry's - for a record
 * of the same object bytes (SHA-1) and program name: the pin's own first,
 * else any other (the kernel gives the same instructions the same tag).
 * Where none is recorded, spec.tag_unknown (entries: tag_unknown) is set
 * and the plan names it.  No kernel call.  Returns 0. */
int identity_recorded_tags(struct desired *des, const struct ledger *l);

#endif
