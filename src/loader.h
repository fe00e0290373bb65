/* SPDX-License-Identifier: MIT */
/* loader: turns what an objfile declares into kernel objects - maps created
 * with the ELF's spec, programs loaded with their map relocations patched.
 * Nothing is pinned here; callers own every fd they get back. */
#ifndef BPFPROV_LOADER_H
#define BPFPROV_LOADER_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "objfile.h"
#include "sys.h"

/* Creates map i of of as the ELF declares it (for a map-in-map, with a
 * throwaway inner map as the template), for the pin path pin (NULL: none;
 * only named in messages, since one object may back many pins).  sys counts
 * the kernel calls (NULL: no counting, no injected faults).  Returns 0 and
 * the new fd in *ret_fd, or a negative errno with the kernel's refusal
 * recorded in d. */
int loader_create_map(const struct objfile *of, size_t i, const char *pin, struct sys *sys,
		      struct diag *d, int *ret_fd);

/* Loads the programs of of that want[] marks (indexes of of->progs).
 * map_fds[i] is the fd to use for map i of of, or -1: such maps are created
 * as throwaway maps (and closed again before returning).  On success returns
 * 0 with the fd of each wanted program in prog_fds[] (others -1); on failure
 * returns a negative errno, records why in d (with the verifier's first lines
 * where it has any) and leaves no fd open.  Legacy layouts are loaded with
 * libbpf's low-level calls; BTF objects through bpf_object__load() with
 * libbpf's pinning disabled and map_fds reused. */
int loader_load_programs(const struct objfile *of, const bool *want, const int *map_fds,
			 struct sys *sys, struct diag *d, int *prog_fds);

/* Whether this process may create BPF objects at all, so that a run without
 * the privilege fails with one message instead of one per object.  Returns 0,
 * or the kernel's refusal (-EPERM, ...) recorded in d. */
int loader_probe(struct diag *d);

#endif
