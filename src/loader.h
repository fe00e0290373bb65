/* SPDX-License-Identifier: MIT */
/* loader: turns what an objfile declares into kernel objects, the way the
 * object's own loader does - legacy objects (gobpf, iproute2) with our own
 * map creation and relocation, every other object through libbpf.  Nothing
 * is pinned here; callers own every fd they get back. */
#ifndef BPFPROV_LOADER_H
#define BPFPROV_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "objfile.h"
#include "sys.h"

/* One load of one object.  Arrays are indexed like of->maps and of->progs. */
struct loader_job {
	const bool *want; /* programs to load and hand back */
	const bool *make; /* maps to make anew and hand back (NULL: none) */
	/* In: a pinned map to reuse, or -1.  Out: also the fd of every map of
	 * make[].  Reused fds stay the caller's; so do the new ones on success.
	 * NULL: no map reused or handed back (make must be NULL too), every map
	 * a throwaway - a load only to check programs or learn their tags. */
	int *map_fds;
	const struct diag_loc *const *prog_locs; /* manifest entry per program, or NULL */
	const char *const *map_pins;             /* pin path per map for messages, or NULL */
	FILE *log; /* the whole verifier log of a refused program goes here (-v), or NULL */
	/* Called before the load writes slot key of a reused map (tail calls,
	 * `.values` of a prog array), so that the caller can undo it; a negative
	 * return aborts the load.  May be NULL. */
	int (*kept_slot)(void *ctx, size_t map, int map_fd, uint32_t key);
	void *ctx;
};

/* Loads job->want of of, with the maps they use: reused where job->map_fds
 * says, made for make[], throwaway otherwise (closed before returning).  As
 * the owner's loader does, a map made here gets its initial slots (iproute2
 * inner maps by inner_idx, BTF `.values`), and prog arrays get their
 * tail-call programs (iproute2 ID/KEY sections, BTF `.values`), reused ones
 * too.  sys counts one step per map made and per program section loaded
 * (one per libbpf object), NULL for none.  On success returns 0 with each
 * wanted program's fd in prog_fds[] (others -1); on failure a negative errno,
 * with the kernel's reason in d (a refused program: its name, section and
 * manifest entry, and the verifier's own words), and no fd of ours open. */
int loader_load(const struct objfile *of, const struct loader_job *job, struct sys *sys,
		struct diag *d, int *prog_fds);

/* The instructions each want[]ed program of of is handed to the kernel as,
 * without the verifier: a program's tag is their digest (identity.h), map
 * fds zeroed.  A legacy object's are computed here, no kernel call; a
 * libbpf object's are libbpf's own, relocated as it loads (throwaway maps,
 * CO-RE against this kernel), and libbpf stopped at the kernel's load of
 * the first program, which refuses it before the verifier runs.  On
 * success insns[p] (malloc'ed, the caller's) holds n_insns[p] instructions
 * of each wanted program, NULL for the others.  Returns 0; -EAGAIN when
 * libbpf stopped short of loading (loader_load() tells why); or -ENOMEM. */
int loader_insns(const struct objfile *of, const bool *want, struct bpf_insn **insns,
		 size_t *n_insns);

/* Whether this process may create BPF objects at all, so that a run without
 * the privilege fails with one message instead of one per object.  Returns 0,
 * or the kernel's refusal (-EPERM, ...) recorded in d. */
int loader_probe(struct diag *d);

#endif
