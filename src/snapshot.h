/* SPDX-License-Identifier: MIT */
/* snapshot: everything a plan needs from a host, saved as one JSON document
 * (schema/snapshot.schema.json) - the tree under a root with each pin's
 * kind, spec, ids, mode and owner, every map's entries, the programs its
 * program arrays hold, the ledger, and the interfaces and cgroups links
 * name - and read back into the structures a live scan fills, so that
 * `plan --observed` plans with no bpffs, no privilege and no BPF syscall
 * (bpf-provision(1), OFFLINE PLANS). */
#ifndef BPFPROV_SNAPSHOT_H
#define BPFPROV_SNAPSHOT_H

#include <stdio.h>

#include "diag.h"
#include "ledger.h"
#include "observed.h"

#define SNAPSHOT_FORMAT "bpf-provision-snapshot"
#define SNAPSHOT_VERSION 1

/* Reads the live tree under root (a bpffs directory, spelled as plans
 * name it), its ledger, the maps' entries, the interfaces of this network
 * namespace and the cgroups under the cgroup2 mount, and writes the
 * document to out.  Needs what a live plan needs (CAP_BPF, CAP_SYS_ADMIN
 * for foreign pins).  A map whose entries cannot be read is saved without
 * them (its contents are then not compared offline).  Returns 0, or a
 * negative errno with the reason in d. */
int snapshot_write(const char *root, struct diag *d, FILE *out);

/* Reads the document in file into *obs (offline set; release with
 * observed_done()) and *l (ledger_done()): the same structures
 * observed_scan() and ledger_load() fill.  Touches nothing else.  Returns
 * 0, or -EINVAL (not a snapshot of this version, or corrupt: the reason
 * in d at file), -ENOENT/-EACCES (cannot be read), -ENOMEM; on failure
 * obs and l are left empty. */
int snapshot_read(const char *file, struct diag *d, struct observed *obs, struct ledger *l);

#endif
