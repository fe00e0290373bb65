/* SPDX-License-Identifier: MIT */
/* objfile: what one ELF object declares - its maps and programs with their
 * pinning attributes - for the three layouts users have: gobpf (`maps/NAME`
 * sections), iproute2 (a `maps` section of records) and BTF `.maps` (libbpf).
 * Legacy layouts are read with libelf (libbpf 1.x refuses them); every other
 * object through libbpf's open API, never loaded. */
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
	/* BTF: the inner map definition of a map-in-map (type, key and value
	 * size, max entries), has_inner false when there is none. */
	bool has_inner;
	uint32_t inner_type, inner_key_size, inner_value_size, inner_max_entries;
	/* BTF: the key and value types in objfile.btf (`__type(key, T)`,
	 * `__type(value, T)`), as bpf_map__btf_key_type_id() says; 0 when
	 * the map names none (`__uint(key_size, N)`) and for legacy layouts. */
	uint32_t btf_key_type_id, btf_value_type_id;
	/* Slots the owner's loader fills when it makes the map: BTF `.values`
	 * initialisers, iproute2 inner maps by inner_idx and tail-call sections
	 * by ID/KEY.  Each names a map or a program of the object. */
	struct objfile_slot *slots;
	size_t n_slots;
};

struct objfile_slot {
	uint32_t key;
	bool is_prog; /* index is in objfile.progs, else in objfile.maps */
	size_t index;
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
	/* The type to load it as: what the section name says as libbpf reads
	 * it (iproute2 layout: sched_cls when it says nothing, as `tc filter`
	 * loads), until objfile_set_prog_type() says otherwise. */
	enum bpf_prog_type type;
	enum bpf_attach_type expected_attach;
	enum bpf_prog_type elf_type;         /* what the section name says: UNSPEC for nothing */
	struct bpf_insn *insns;              /* legacy: the instructions, `.text` appended if called */
	size_t n_insns;
	struct objfile_reloc *relocs;        /* legacy layouts: map relocations of this section */
	size_t n_relocs;
	size_t n_calls;                      /* legacy: calls into `.text` (BPF-to-BPF) */
	size_t n_elf_relocs;                 /* every ELF relocation of the program, as libbpf counts */
	bool is_tail;                        /* iproute2: an ID/KEY tail-call section */
	/* Maps the loaded program is sure to hold (kernel map_ids): indexes in
	 * objfile.maps, each once.  Legacy: every map relocation (`.text`
	 * included).  libbpf: the relocations in the program's own code; maps
	 * only its subprograms use are left out, so a check never fails for
	 * a map the program does not have. */
	size_t *uses;
	size_t n_uses;
};

/* gobpf's "version" value that means the running kernel's version. */
#define OBJFILE_KERN_VERSION_CURRENT 0xFFFFFFFEu

struct objfile {
	char *path;
	enum objfile_layout layout;
	bool libbpf;           /* loaded by libbpf (every layout but gobpf and iproute2) */
	unsigned char *bytes;  /* the whole file, for libbpf to open again from memory */
	size_t size;
	char sha1[41];         /* hex sha1 of the file, as tc names object directories */
	char sha256[65];       /* hex sha256 of the file (saved plans) */
	char *license;         /* "license" section; NULL when absent */
	uint32_t kern_version; /* "version" section */
	bool has_kern_version;
	struct objfile_map *maps;
	size_t n_maps;
	struct objfile_prog *progs;
	size_t n_progs;
	/* libbpf objects: the object's BTF as libbpf read it (btf__raw_data),
	 * for btf__new() - the types btf_key_type_id and btf_value_type_id
	 * name.  NULL when the object has none (legacy layouts, no .BTF). */
	unsigned char *btf;
	size_t btf_size;
};

/* Reads the object at path.  On success returns 0 and stores a new objfile in
 * *ret (caller frees it with objfile_free()).  On failure returns a negative
 * errno, leaves *ret untouched and records in d why, with the file name as the
 * location: -ENOENT/-EACCES (cannot open), -EINVAL (not a valid BPF object:
 * not ELF, wrong machine, truncated, malformed maps section or symbols). */
int objfile_open(const char *path, struct diag *d, struct objfile **ret);
void objfile_free(struct objfile *o);

/* Whether maps of this type hold other maps (array and hash of maps). */
bool objfile_is_map_in_map(uint32_t type);

/* Sets the type program i is loaded as (a manifest's `type:`/`attach_type:`);
 * attach < 0 keeps libbpf's guess for the new type's default. */
void objfile_set_prog_type(struct objfile *o, size_t i, enum bpf_prog_type type, int attach);

/* The kernel version to load legacy programs with: the "version" section,
 * the running kernel's for OBJFILE_KERN_VERSION_CURRENT (as gobpf does). */
uint32_t objfile_kern_version(const struct objfile *o);

/* "gobpf", "iproute2", "btf", "none". */
const char *objfile_layout_str(enum objfile_layout l);

/* Lookups by selector; NULL when absent.  A section selector matches a map's
 * "maps/NAME" section (gobpf) or a program's section. */
const struct objfile_map *objfile_map_by_name(const struct objfile *o, const char *name);
const struct objfile_prog *objfile_prog_by_name(const struct objfile *o, const char *name);
const struct objfile_map *objfile_map_by_section(const struct objfile *o, const char *section);
const struct objfile_prog *objfile_prog_by_section(const struct objfile *o, const char *section);

#endif
