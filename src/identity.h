/* SPDX-License-Identifier: MIT */
/* identity: what the kernel will call each desired program - its tag - found
 * by loading the program once.  A separate step from the desired stage, which
 * never calls the kernel: only live runs compute identities, so that a plan
 * made offline can skip them. */
#ifndef BPFPROV_IDENTITY_H
#define BPFPROV_IDENTITY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "desired.h"
#include "diag.h"
#include "objfile.h"

/* Finds the tag the kernel will give each pinned program of des by loading it
 * once (legacy objects with throwaway maps for their relocations, BTF objects
 * through libbpf with pinning disabled) and closing it at once: nothing is
 * pinned, nothing outlives the call, and no sys step is counted.  Needs
 * CAP_BPF.  Sets spec.tag and spec.has_tag of every program pin.  A refused
 * program's whole verifier log goes to vlog (-v) when it is not NULL.
 * Returns 0, or a negative errno with the kernel's refusal recorded in d. */
int identity_load_tags(struct desired *des, FILE *vlog, struct diag *d);

/* The tag of every program of one object, each loaded alone (as
 * identity_load_tags() loads them: throwaway maps, nothing pinned), for
 * matching pins found in a tree to the object (export).  A program the
 * kernel refuses, or whose type the object does not say, gets no tag and a
 * warning in d.  tags and has_tag hold of->n_progs items each; has_tag[i]
 * says whether tags[i] was found.  Returns 0, or -ENOMEM. */
int identity_object_tags(const struct objfile *of, FILE *vlog, struct diag *d, uint8_t (*tags)[8],
			 bool *has_tag);

#endif
