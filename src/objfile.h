/* SPDX-License-Identifier: MIT */
/* objfile: what one ELF object declares - its maps and programs with their
 * pinning attributes - for the three layouts users have: gobpf (`maps/NAME`
 * sections), iproute2 (a `maps` section of records) and BTF `.maps` (libbpf).
 * Legacy layouts are read with libelf (libbpf 1.x refuses them); BTF objects
 * through libbpf's open API, never loaded. */
#ifndef BPFPROV_OBJFILE_H
#define BPFPROV_OBJFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#include "diag.h"
#include "model.h"

enum objfile_layout {
	OBJFILE_LAYOUT_NONE = 0, /* no maps section at all: programs only */
	OBJFILE_LAYOUT_GOBPF,
	OBJFILE_LAYOUT_IPROUTE2,
	OBJFILE_LAYOUT_BTF,
	OBJFILE_LAYOUT_MAX,
};

struct objfile_map {
	char *name;    /* gobpf: section name after "maps/"; iproute2/BTF: symbol name */
	char *section; /* "maps/NAME", "maps" or ".maps" */
	uint32_t type; /* enum bpf_map_type */
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t flags;
	uint32_t pinning_raw;  /* the ELF's own pinning value */
	enum pin_mode pinning; /* pinning_raw mapped to a mode; iproute2 custom ids -> CUSTOM */
	uint32_t pin_id;       /* iproute2 custom pinning id (pinning_raw when > 2), else 0 */
	char *namespace;       /* gobpf's namespace field; NULL when empty or other layouts */
	uint32_t id;           /* iproute2 map id; 0 otherwise */
	uint32_t inner_id;     /* iproute2 inner map id; 0 otherwise */
	uint32_t inner_idx;    /* iproute2 inner index */
	int inner_map;         /* index in objfile.maps of the inner map of a map-in-map, or -1 */
};

/* One ld_imm64 instruction of a program that loads a map's address: apply
 * patches in the map's fd (src_reg = BPF_PSEUDO_MAP_FD, imm = fd). */
struct objfile_reloc {
	size_t insn; /* index of the instruction in objfile_prog.insns */
	size_t map;  /* index in objfile.maps */
};

struct objfile_prog {
	char *section;                       /* ELF section, e.g. "socket/filter", "kprobe/sys_open" */
	char *name;                          /* function symbol name; the section name if none */
	enum bpf_prog_type type;             /* from the section name, as libbpf names it */
	enum bpf_attach_type expected_attach;
	struct bpf_insn *insns;              /* legacy layouts (and none): the raw instructions */
	size_t n_insns;
	struct objfile_reloc *relocs;        /* legacy layouts: map relocations of this section */
	size_t n_relocs;
};

struct objfile {
	char *path;
	enum objfile_layout layout;
	char *license;         /* "license" section; NULL when absent */
	uint32_t kern_version; /* "version" section */
	bool has_kern_version;
	struct objfile_map *maps;
	size_t n_maps;
	struct objfile_prog *progs;
	size_t n_progs;
};

/* Reads the object at path.  On success returns 0 and stores a new objfile in
 * *ret (caller frees it with objfile_free()).  On failure returns a negative
 * errno, leaves *ret untouched and records in d why, with the file name as the
 * location: -ENOENT/-EACCES (cannot open), -EINVAL (not a valid BPF object:
 * not ELF, wrong machine, truncated, malformed maps section or symbols). */
int objfile_open(const char *path, struct diag *d, struct objfile **ret);
void objfile_free(struct objfile *o);

/* "gobpf", "iproute2", "btf", "none". */
const char *objfile_layout_str(enum objfile_layout l);

/* Lookups by selector; NULL when absent.  A section selector matches a map's
 * "maps/NAME" section (gobpf) or a program's section. */
const struct objfile_map *objfile_map_by_name(const struct objfile *o, const char *name);
const struct objfile_prog *objfile_prog_by_name(const struct objfile *o, const char *name);
const struct objfile_map *objfile_map_by_section(const struct objfile *o, const char *section);
const struct objfile_prog *objfile_prog_by_section(const struct objfile *o, const char *section);

#endif
