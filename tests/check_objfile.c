// SPDX-License-Identifier: MIT
/* Unit tests of the ELF-object stage (objfile.c) and of `inspect`'s renderer
 * (report.c): every map and program of the objects built from tests/bpf/ sources,
 * their relocations cross-checked against the ELF relocation sections, and a
 * corpus of broken objects derived from the good ones at run time. */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <jansson.h>

#include "check_suites.h"
#include "objfile.h"
#include "report.h"

#define LD_IMM64 (BPF_LD | BPF_IMM | BPF_DW)

static char *obj_path(const char *name)
{
	char *p = NULL;

	ck_assert_int_ge(asprintf(&p, "%s/tests/bpf/%s.o", test_builddir(), name), 0);
	return p;
}

static struct objfile *open_ok(const char *name)
{
	char *path = obj_path(name);
	struct diag d = { 0 };
	struct objfile *o = NULL;
	int r = objfile_open(path, &d, &o);

	if (r < 0 && d.n_msgs)
		ck_abort_msg("%s: %s", path, d.msgs[0].text);
	ck_assert_int_eq(r, 0);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(d.n_msgs, 0);
	ck_assert_str_eq(o->path, path);
	diag_done(&d);
	free(path);
	return o;
}

struct want_map {
	const char *name, *section;
	uint32_t type, key, value, max, flags, pin_raw;
	enum pin_mode pin;
	uint32_t pin_id;
	const char *ns;
	uint32_t id, inner_id, inner_idx;
	int inner_map;
};

static void check_maps(const struct objfile *o, const struct want_map *w, size_t n)
{
	ck_assert_uint_eq(o->n_maps, n);
	for (size_t i = 0; i < n; i++) {
		const struct objfile_map *m = &o->maps[i];

		ck_assert_str_eq(m->name, w[i].name);
		ck_assert_str_eq(m->section, w[i].section);
		ck_assert_uint_eq(m->type, w[i].type);
		ck_assert_uint_eq(m->key_size, w[i].key);
		ck_assert_uint_eq(m->value_size, w[i].value);
		ck_assert_uint_eq(m->max_entries, w[i].max);
		ck_assert_uint_eq(m->flags, w[i].flags);
		ck_assert_uint_eq(m->pinning_raw, w[i].pin_raw);
		ck_assert_int_eq(m->pinning, w[i].pin);
		ck_assert_uint_eq(m->pin_id, w[i].pin_id);
		if (w[i].ns)
			ck_assert_pstr_eq(m->namespace, w[i].ns);
		else
			ck_assert_ptr_null(m->namespace);
		ck_assert_uint_eq(m->id, w[i].id);
		ck_assert_uint_eq(m->inner_id, w[i].inner_id);
		ck_assert_uint_eq(m->inner_idx, w[i].inner_idx);
		ck_assert_int_eq(m->inner_map, w[i].inner_map);
		ck_assert_ptr_eq(objfile_map_by_name(o, w[i].name), m);
	}
}

struct want_prog {
	const char *section, *name;
	enum bpf_prog_type type;
	enum bpf_attach_type attach;
	const char *maps[8]; /* map of each relocation in order; NULL-terminated */
};

/* Reads the whole file; the test's own view of the bytes, independent of
 * objfile.c. */
static unsigned char *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_gt(n, (long)sizeof(Elf64_Ehdr));
	rewind(f);
	buf = malloc((size_t)n);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*size = (size_t)n;
	return buf;
}

/* Minimal raw ELF access for the good objects the tests built: enough to
 * cross-check relocations and to aim corruptions at the right bytes. */
static Elf64_Shdr *shdr_at(unsigned char *buf, size_t i)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)buf;

	return (Elf64_Shdr *)(buf + eh->e_shoff + i * sizeof(Elf64_Shdr));
}

static const char *sec_name(unsigned char *buf, const Elf64_Shdr *sh)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)buf;

	return (const char *)buf + shdr_at(buf, eh->e_shstrndx)->sh_offset + sh->sh_name;
}

static size_t find_sec(unsigned char *buf, const char *name)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)buf;

	for (size_t i = 1; i < eh->e_shnum; i++)
		if (strcmp(sec_name(buf, shdr_at(buf, i)), name) == 0)
			return i;
	ck_abort_msg("no section '%s'", name);
	return 0;
}

static size_t find_symtab(unsigned char *buf)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)buf;

	for (size_t i = 1; i < eh->e_shnum; i++)
		if (shdr_at(buf, i)->sh_type == SHT_SYMTAB)
			return i;
	ck_abort_msg("no symbol table");
	return 0;
}

static const char *sym_str(unsigned char *buf, const Elf64_Sym *s)
{
	const Elf64_Shdr *symtab = shdr_at(buf, find_symtab(buf));

	return (const char *)buf + shdr_at(buf, symtab->sh_link)->sh_offset + s->st_name;
}

static Elf64_Sym *find_sym(unsigned char *buf, const char *name)
{
	const Elf64_Shdr *symtab = shdr_at(buf, find_symtab(buf));
	Elf64_Sym *syms = (Elf64_Sym *)(buf + symtab->sh_offset);

	for (size_t i = 1; i < symtab->sh_size / sizeof(*syms); i++)
		if (strcmp(sym_str(buf, &syms[i]), name) == 0)
			return &syms[i];
	ck_abort_msg("no symbol '%s'", name);
	return NULL;
}

/* The ELF's own relocation section for a program, read without objfile.c:
 * every entry that names a map symbol must appear in p->relocs, in order,
 * with the same instruction index. */
static void cross_check_relocs(const struct objfile *o, const struct objfile_prog *p)
{
	size_t size, n = 0;
	unsigned char *buf = slurp(o->path, &size);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)buf;
	const Elf64_Shdr *symtab = shdr_at(buf, find_symtab(buf));
	const Elf64_Sym *syms = (const Elf64_Sym *)(buf + symtab->sh_offset);
	size_t target = find_sec(buf, p->section);

	for (size_t i = 1; i < eh->e_shnum; i++) {
		const Elf64_Shdr *sh = shdr_at(buf, i);
		const Elf64_Rel *rel = (const Elf64_Rel *)(buf + sh->sh_offset);

		if (sh->sh_type != SHT_REL || sh->sh_info != target)
			continue;
		for (size_t k = 0; k < sh->sh_size / sizeof(*rel); k++) {
			const char *name = sym_str(buf, &syms[ELF64_R_SYM(rel[k].r_info)]);

			if (!objfile_map_by_name(o, name))
				continue;
			ck_assert_uint_lt(n, p->n_relocs);
			ck_assert_uint_eq(p->relocs[n].insn, rel[k].r_offset / 8);
			ck_assert_str_eq(o->maps[p->relocs[n].map].name, name);
			n++;
		}
	}
	ck_assert_uint_eq(n, p->n_relocs);
	free(buf);
}

static void check_progs(const struct objfile *o, const struct want_prog *w, size_t n)
{
	ck_assert_uint_eq(o->n_progs, n);
	for (size_t i = 0; i < n; i++) {
		const struct objfile_prog *p = &o->progs[i];
		size_t n_relocs = 0;

		ck_assert_str_eq(p->section, w[i].section);
		ck_assert_str_eq(p->name, w[i].name);
		ck_assert_int_eq(p->type, w[i].type);
		ck_assert_int_eq(p->expected_attach, w[i].attach);
		ck_assert_ptr_nonnull(p->insns);
		ck_assert_uint_gt(p->n_insns, 1);
		/* Every program ends with exit (BPF_JMP | BPF_EXIT). */
		ck_assert_uint_eq(p->insns[p->n_insns - 1].code, BPF_JMP | BPF_EXIT);
		ck_assert_ptr_eq(objfile_prog_by_name(o, w[i].name), p);
		ck_assert_ptr_eq(objfile_prog_by_section(o, w[i].section), p);

		while (w[i].maps[n_relocs])
			n_relocs++;
		if (o->layout == OBJFILE_LAYOUT_BTF) {
			ck_assert_uint_eq(p->n_relocs, 0); /* left to libbpf */
			continue;
		}
		ck_assert_uint_eq(p->n_relocs, n_relocs);
		for (size_t k = 0; k < p->n_relocs; k++) {
			const struct objfile_reloc *r = &p->relocs[k];

			ck_assert_uint_lt(r->map, o->n_maps);
			ck_assert_str_eq(o->maps[r->map].name, w[i].maps[k]);
			ck_assert_uint_lt(r->insn + 1, p->n_insns);
			ck_assert_uint_eq(p->insns[r->insn].code, LD_IMM64);
			/* The second half of ld_imm64 is a zero pseudo-instruction,
			 * and nothing has been patched in yet. */
			ck_assert_uint_eq(p->insns[r->insn + 1].code, 0);
			ck_assert_uint_eq(p->insns[r->insn].src_reg, 0);
			if (k)
				ck_assert_uint_gt(r->insn, p->relocs[k - 1].insn);
		}
		cross_check_relocs(o, p);
	}
}

START_TEST(test_gobpf)
{
	struct objfile *o = open_ok("gobpf");
	const struct want_map maps[] = {
		{ "none_hash", "maps/none_hash", BPF_MAP_TYPE_HASH, 4, 8, 128, 0, 0, PIN_MODE_NONE,
		  .inner_map = -1 },
		{ "object_array", "maps/object_array", BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, 1,
		  PIN_MODE_OBJECT, .inner_map = -1 },
		{ "global_hash", "maps/global_hash", BPF_MAP_TYPE_HASH, 8, 16, 1024,
		  BPF_F_NO_PREALLOC, 2, PIN_MODE_GLOBAL, .ns = "ns1", .inner_map = -1 },
		{ "custom_array", "maps/custom_array", BPF_MAP_TYPE_ARRAY, 4, 4, 1024, 0, 3,
		  PIN_MODE_CUSTOM, .inner_map = -1 },
	};
	const struct want_prog progs[] = {
		{ "kprobe/do_nanosleep", "kprobe_nanosleep", BPF_PROG_TYPE_KPROBE, 0,
		  { "none_hash", "none_hash" } },
		{ "socket/count", "socket_count", BPF_PROG_TYPE_SOCKET_FILTER, 0,
		  { "object_array", "global_hash" } },
		{ "kprobe/do_sys_openat2", "kprobe_openat", BPF_PROG_TYPE_KPROBE, 0,
		  { "custom_array" } },
	};

	ck_assert_int_eq(o->layout, OBJFILE_LAYOUT_GOBPF);
	ck_assert_str_eq(objfile_layout_str(o->layout), "gobpf");
	ck_assert_pstr_eq(o->license, "GPL");
	ck_assert(o->has_kern_version);
	ck_assert_uint_eq(o->kern_version, 0x050a00);
	check_maps(o, maps, sizeof(maps) / sizeof(maps[0]));
	check_progs(o, progs, sizeof(progs) / sizeof(progs[0]));

	ck_assert_ptr_eq(objfile_map_by_section(o, "maps/global_hash"), &o->maps[2]);
	ck_assert_ptr_null(objfile_map_by_section(o, "maps/nope"));
	ck_assert_ptr_null(objfile_map_by_section(o, "socket/count"));
	ck_assert_ptr_null(objfile_map_by_name(o, "maps/global_hash"));
	ck_assert_ptr_null(objfile_prog_by_name(o, "nope"));
	ck_assert_ptr_null(objfile_prog_by_section(o, "maps/none_hash"));
	objfile_free(o);
}
END_TEST

START_TEST(test_iproute2)
{
	struct objfile *o = open_ok("iproute2");
	const struct want_map maps[] = {
		{ "map_inner", "maps", BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0, 0, PIN_MODE_NONE, .id = 1,
		  .inner_map = -1 },
		{ "map_outer", "maps", BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 4, 0, 1, PIN_MODE_OBJECT,
		  .id = 2, .inner_id = 1, .inner_idx = 0, .inner_map = 0 },
		{ "map_stats", "maps", BPF_MAP_TYPE_HASH, 4, 8, 64, 0, 2, PIN_MODE_GLOBAL, .id = 3,
		  .inner_map = -1 },
		{ "map_custom", "maps", BPF_MAP_TYPE_HASH, 8, 8, 16, BPF_F_NO_PREALLOC, 4,
		  PIN_MODE_CUSTOM, .pin_id = 4, .inner_map = -1 },
		{ "jmp_tc", "maps", BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 2, 0, 2, PIN_MODE_GLOBAL,
		  .inner_map = -1 },
	};
	const struct want_prog progs[] = {
		{ "classifier", "cls_entry", BPF_PROG_TYPE_SCHED_CLS, 0,
		  { "map_stats", "map_stats", "map_outer", "jmp_tc" } },
		{ "action", "act_count", BPF_PROG_TYPE_SCHED_ACT, 0, { "map_custom" } },
		{ "classifier/tail", "cls_tail", BPF_PROG_TYPE_SCHED_CLS, 0, { NULL } },
	};

	ck_assert_int_eq(o->layout, OBJFILE_LAYOUT_IPROUTE2);
	ck_assert_str_eq(objfile_layout_str(o->layout), "iproute2");
	ck_assert_pstr_eq(o->license, "GPL");
	ck_assert(!o->has_kern_version);
	check_maps(o, maps, sizeof(maps) / sizeof(maps[0]));
	check_progs(o, progs, sizeof(progs) / sizeof(progs[0]));
	/* iproute2 maps share one section: no map is selected by it. */
	ck_assert_ptr_null(objfile_map_by_section(o, "maps"));
	objfile_free(o);
}
END_TEST

START_TEST(test_iproute2_short_records)
{
	struct objfile *o = open_ok("iproute2_short");
	const struct want_map maps[] = {
		{ "short_hash", "maps", BPF_MAP_TYPE_HASH, 4, 4, 8, 0, 0, PIN_MODE_NONE,
		  .inner_map = -1 },
		{ "short_array", "maps", BPF_MAP_TYPE_ARRAY, 4, 8, 2, 0, 0, PIN_MODE_NONE,
		  .inner_map = -1 },
	};
	const struct want_prog progs[] = {
		{ "classifier", "cls_short", BPF_PROG_TYPE_SCHED_CLS, 0,
		  { "short_hash", "short_array" } },
	};

	ck_assert_int_eq(o->layout, OBJFILE_LAYOUT_IPROUTE2);
	check_maps(o, maps, sizeof(maps) / sizeof(maps[0]));
	check_progs(o, progs, sizeof(progs) / sizeof(progs[0]));
	objfile_free(o);
}
END_TEST

START_TEST(test_btf)
{
	struct objfile *o = open_ok("btf");
	const struct want_map maps[] = {
		{ "pinned_counts", ".maps", BPF_MAP_TYPE_ARRAY, 4, 8, 8, 0, 1, PIN_MODE_GLOBAL,
		  .inner_map = -1 },
		{ "scratch_hash", ".maps", BPF_MAP_TYPE_HASH, 4, 4, 32, BPF_F_NO_PREALLOC, 0,
		  PIN_MODE_NONE, .inner_map = -1 },
	};
	const struct want_prog progs[] = {
		{ "socket", "socket_count", BPF_PROG_TYPE_SOCKET_FILTER, 0, { NULL } },
		{ "xdp", "xdp_note", BPF_PROG_TYPE_XDP, BPF_XDP, { NULL } },
	};

	ck_assert_int_eq(o->layout, OBJFILE_LAYOUT_BTF);
	ck_assert_str_eq(objfile_layout_str(o->layout), "btf");
	ck_assert_pstr_eq(o->license, "GPL");
	ck_assert(!o->has_kern_version);
	/* The .rodata global is libbpf's internal map, not one of ours. */
	check_maps(o, maps, sizeof(maps) / sizeof(maps[0]));
	check_progs(o, progs, sizeof(progs) / sizeof(progs[0]));
	ck_assert_ptr_null(objfile_map_by_section(o, ".maps"));
	objfile_free(o);
}
END_TEST

START_TEST(test_none)
{
	struct objfile *o = open_ok("none");
	const struct want_prog progs[] = {
		{ "socket", "socket_drop", BPF_PROG_TYPE_SOCKET_FILTER, 0, { NULL } },
		{ "xdp", "xdp_pass", BPF_PROG_TYPE_XDP, BPF_XDP, { NULL } },
	};

	ck_assert_int_eq(o->layout, OBJFILE_LAYOUT_NONE);
	ck_assert_str_eq(objfile_layout_str(o->layout), "none");
	ck_assert_pstr_eq(o->license, "Dual MIT/GPL");
	ck_assert_uint_eq(o->n_maps, 0);
	check_progs(o, progs, sizeof(progs) / sizeof(progs[0]));
	objfile_free(o);
}
END_TEST

START_TEST(test_layout_names)
{
	ck_assert_str_eq(objfile_layout_str(OBJFILE_LAYOUT_NONE), "none");
	ck_assert_str_eq(objfile_layout_str(OBJFILE_LAYOUT_IPROUTE2), "iproute2");
	ck_assert_ptr_null(objfile_layout_str(OBJFILE_LAYOUT_MAX));
	ck_assert_ptr_null(objfile_layout_str((enum objfile_layout)-1));
	objfile_free(NULL);
}
END_TEST

/* The example objects the shipped manifests name. */
START_TEST(test_example_objects)
{
	char *path = NULL;
	struct diag d = { 0 };
	struct objfile *o = NULL;
	const struct objfile_map *m;

	ck_assert_int_ge(asprintf(&path, "%s/configs/bpf/gobpf_site.o", test_builddir()), 0);
	ck_assert_int_eq(objfile_open(path, &d, &o), 0);
	ck_assert_uint_eq(o->n_maps, 4);
	m = objfile_map_by_section(o, "maps/dummy_array_custom");
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(m->pinning, PIN_MODE_CUSTOM);
	ck_assert_uint_eq(m->max_entries, 1024);
	ck_assert_int_eq(objfile_map_by_name(o, "dummy_hash")->pinning, PIN_MODE_GLOBAL);
	ck_assert_int_eq(objfile_map_by_name(o, "dummy_array")->pinning, PIN_MODE_OBJECT);
	ck_assert_uint_eq(objfile_map_by_name(o, "dummy_prog_array")->type,
			  BPF_MAP_TYPE_PROG_ARRAY);
	ck_assert_str_eq(objfile_prog_by_section(o, "kprobe/dummy")->name, "dummy_kprobe");
	ck_assert_int_eq(objfile_prog_by_name(o, "dummy_socket")->type,
			 BPF_PROG_TYPE_SOCKET_FILTER);
	objfile_free(o);
	free(path);

	ck_assert_int_ge(asprintf(&path, "%s/configs/bpf/iproute2_site.o", test_builddir()), 0);
	ck_assert_int_eq(objfile_open(path, &d, &o), 0);
	ck_assert_uint_eq(o->n_maps, 3);
	ck_assert_int_eq(objfile_map_by_name(o, "counters")->pinning, PIN_MODE_GLOBAL);
	ck_assert_uint_eq(objfile_map_by_name(o, "flows")->pin_id, 4);
	ck_assert_uint_eq(objfile_map_by_name(o, "scratch")->type, BPF_MAP_TYPE_PERCPU_ARRAY);
	ck_assert_int_eq(objfile_prog_by_name(o, "cls_main")->type, BPF_PROG_TYPE_SCHED_CLS);
	objfile_free(o);
	free(path);

	ck_assert_int_ge(asprintf(&path, "%s/configs/bpf/btf_site.o", test_builddir()), 0);
	ck_assert_int_eq(objfile_open(path, &d, &o), 0);
	ck_assert_uint_eq(o->n_maps, 2);
	ck_assert_int_eq(objfile_map_by_name(o, "packets")->pinning, PIN_MODE_GLOBAL);
	ck_assert_int_eq(objfile_map_by_name(o, "events_tmp")->pinning, PIN_MODE_NONE);
	ck_assert_int_eq(objfile_prog_by_name(o, "count_packets")->type,
			 BPF_PROG_TYPE_SOCKET_FILTER);
	objfile_free(o);
	free(path);
	ck_assert_uint_eq(d.n_msgs, 0);
}
END_TEST

/* ---- what the reader tells the loaders: calls, slots, kernel version, types ---- */

#define INSN_SZ sizeof(struct bpf_insn)

/* In host order, as the raw ELF helpers above read the file: clang's
 * -target bpf builds for the host's byte order. */
static uint32_t get_u32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static bool is_pseudo_call(const struct bpf_insn *insn)
{
	return insn->code == (BPF_JMP | BPF_CALL) && insn->src_reg == BPF_PSEUDO_CALL;
}

/* Instructions of a section of the file, counted from its header. */
static size_t sec_insns(const char *path, const char *sec)
{
	size_t size, n;
	unsigned char *buf = slurp(path, &size);

	n = shdr_at(buf, find_sec(buf, sec))->sh_size / INSN_SZ;
	free(buf);
	return n;
}

/* ELF relocations of section sec whose offset lies in [lo, hi): libbpf
 * gives a program those of its own function's range. */
static size_t elf_relocs_in(unsigned char *buf, const char *sec, uint64_t lo, uint64_t hi)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)buf;
	size_t target = find_sec(buf, sec), n = 0;

	for (size_t i = 1; i < eh->e_shnum; i++) {
		const Elf64_Shdr *sh = shdr_at(buf, i);
		const Elf64_Rel *rel = (const Elf64_Rel *)(buf + sh->sh_offset);

		if (sh->sh_type != SHT_REL || sh->sh_info != target)
			continue;
		for (size_t k = 0; k < sh->sh_size / sizeof(*rel); k++)
			n += rel[k].r_offset >= lo && rel[k].r_offset < hi;
	}
	return n;
}

/* The ELF relocations of the function sym (in section sec) as the test
 * counts them from the file, independent of objfile.c. */
static size_t elf_relocs_of(const char *path, const char *sec, const char *sym)
{
	size_t size, n;
	unsigned char *buf = slurp(path, &size);
	const Elf64_Sym *s = find_sym(buf, sym);

	n = elf_relocs_in(buf, sec, s->st_value, s->st_value + s->st_size);
	free(buf);
	return n;
}

/* A legacy program that calls into `.text` holds its own section's
 * instructions followed by all of `.text`, as iproute2's loader links it:
 * the same instructions as the file apart from the calls' immediates, and
 * every call of its own part lands in the appended copy.  Returns the count
 * of its own instructions. */
static size_t check_text_appended(const struct objfile *o, const struct objfile_prog *p)
{
	size_t size, n_own, n_text, n_calls = 0;
	unsigned char *buf = slurp(o->path, &size);
	const Elf64_Shdr *own = shdr_at(buf, find_sec(buf, p->section));
	const Elf64_Shdr *text = shdr_at(buf, find_sec(buf, ".text"));
	const struct bpf_insn *file_own = (const struct bpf_insn *)(buf + own->sh_offset);
	const struct bpf_insn *file_text = (const struct bpf_insn *)(buf + text->sh_offset);

	n_own = own->sh_size / INSN_SZ;
	n_text = text->sh_size / INSN_SZ;
	ck_assert_uint_gt(n_text, 0);
	ck_assert_uint_gt(p->n_insns, n_own);
	ck_assert_uint_eq(p->n_insns, n_own + n_text);
	for (size_t i = 0; i < p->n_insns; i++) {
		const struct bpf_insn *got = &p->insns[i];
		const struct bpf_insn *want = i < n_own ? &file_own[i] : &file_text[i - n_own];

		ck_assert_msg(got->code == want->code && got->dst_reg == want->dst_reg &&
				      got->src_reg == want->src_reg && got->off == want->off,
			      "%s: instruction %zu differs from the file's", p->section, i);
		if (!is_pseudo_call(got)) {
			ck_assert_int_eq(got->imm, want->imm);
			continue;
		}
		if (i >= n_own)
			continue; /* a call within `.text`: relative, checked by the verifier */
		n_calls++;
		ck_assert_msg((int64_t)i + got->imm + 1 >= (int64_t)n_own &&
				      (int64_t)i + got->imm + 1 < (int64_t)p->n_insns,
			      "%s: the call at %zu (imm %d) does not land in the appended .text",
			      p->section, i, got->imm);
	}
	ck_assert_uint_eq(p->n_calls, n_calls);
	free(buf);
	return n_own;
}

/* What the test itself says KERNEL_VERSION(a, b, c) of the running kernel
 * is, from uname's release ("6.1.0-13-amd64", "5.10"), sublevel capped at
 * 255 as the kernel's macro does since 4.14.256/4.9.291. */
static uint32_t running_kernel_version(void)
{
	struct utsname u;
	unsigned long v[3] = { 0, 0, 0 };
	const char *s;
	char *end;

	ck_assert_int_eq(uname(&u), 0);
	s = u.release;
	for (int i = 0; i < 3; i++) {
		v[i] = strtoul(s, &end, 10);
		if (end == s || *end != '.')
			break;
		s = end + 1;
	}
	ck_assert_uint_gt(v[0], 0);
	return (uint32_t)((v[0] << 16) + (v[1] << 8) + (v[2] > 255 ? 255 : v[2]));
}

/* What `sha1sum` prints for the file: the test's own hash, not the library the reader uses. */
static void sha1sum_of(const char *path, char out[41])
{
	char *cmd = NULL, line[256];
	FILE *p;

	ck_assert_ptr_null(strchr(path, '\''));
	ck_assert_int_ge(asprintf(&cmd, "sha1sum '%s'", path), 0);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), p));
	ck_assert_int_eq(pclose(p), 0);
	free(cmd);
	ck_assert_msg(strlen(line) > 41 && line[40] == ' ', "sha1sum printed '%s'", line);
	memcpy(out, line, 40);
	out[40] = '\0';
}

static void check_sha1(const struct objfile *o)
{
	char want[41];

	ck_assert_uint_eq(strlen(o->sha1), 40);
	for (size_t i = 0; i < 40; i++)
		ck_assert_msg((o->sha1[i] >= '0' && o->sha1[i] <= '9') ||
				      (o->sha1[i] >= 'a' && o->sha1[i] <= 'f'),
			      "sha1 '%s' is not lowercase hex", o->sha1);
	sha1sum_of(o->path, want);
	ck_assert_str_eq(o->sha1, want);
}

/* The slot of m with key key, which must exist once. */
static const struct objfile_slot *slot_of(const struct objfile_map *m, uint32_t key)
{
	const struct objfile_slot *found = NULL;

	for (size_t i = 0; i < m->n_slots; i++)
		if (m->slots[i].key == key) {
			ck_assert_msg(found == NULL, "map '%s': slot %u twice", m->name, key);
			found = &m->slots[i];
		}
	ck_assert_msg(found != NULL, "map '%s': no slot %u", m->name, key);
	return found;
}

static void check_map_slot(const struct objfile *o, const struct objfile_map *m, uint32_t key,
			   const char *map_name)
{
	const struct objfile_slot *s = slot_of(m, key);

	ck_assert_msg(!s->is_prog, "map '%s': slot %u holds a program", m->name, key);
	ck_assert_uint_lt(s->index, o->n_maps);
	ck_assert_str_eq(o->maps[s->index].name, map_name);
}

static void check_prog_slot(const struct objfile *o, const struct objfile_map *m, uint32_t key,
			    const char *prog_name)
{
	const struct objfile_slot *s = slot_of(m, key);

	ck_assert_msg(s->is_prog, "map '%s': slot %u holds a map", m->name, key);
	ck_assert_uint_lt(s->index, o->n_progs);
	ck_assert_str_eq(o->progs[s->index].name, prog_name);
}

static const struct objfile_map *map_ok(const struct objfile *o, const char *name)
{
	const struct objfile_map *m = objfile_map_by_name(o, name);

	ck_assert_msg(m != NULL, "%s: no map '%s'", o->path, name);
	return m;
}

static const struct objfile_prog *prog_ok(const struct objfile *o, const char *name)
{
	const struct objfile_prog *p = objfile_prog_by_name(o, name);

	ck_assert_msg(p != NULL, "%s: no program '%s'", o->path, name);
	return p;
}

static uint32_t possible_cpus(void)
{
	int n = libbpf_num_possible_cpus();

	ck_assert_int_gt(n, 0);
	return (uint32_t)n;
}

START_TEST(test_gobpf_calls)
{
	struct objfile *o = open_ok("gobpf_calls");
	const struct want_map maps[] = {
		{ "counts", "maps/counts", BPF_MAP_TYPE_HASH, 4, 8, 64, 0, 2, PIN_MODE_GLOBAL,
		  .ns = "gobpfns", .inner_map = -1 },
		{ "jmp", "maps/jmp", BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0, 2, PIN_MODE_GLOBAL,
		  .ns = "gobpfns", .inner_map = -1 },
	};
	const struct want_prog progs[] = {
		{ "socket/main", "socket_main", BPF_PROG_TYPE_SOCKET_FILTER, 0,
		  { "counts", "counts", "jmp" } },
		{ "socket/tail", "socket_tail", BPF_PROG_TYPE_SOCKET_FILTER, 0, { NULL } },
	};

	ck_assert_int_eq(o->layout, OBJFILE_LAYOUT_GOBPF);
	ck_assert(!o->libbpf);
	ck_assert_pstr_eq(o->license, "GPL");
	ck_assert(o->has_kern_version);
	ck_assert_uint_eq(o->kern_version, OBJFILE_KERN_VERSION_CURRENT);
	ck_assert_uint_eq(objfile_kern_version(o), running_kernel_version());
	check_maps(o, maps, sizeof(maps) / sizeof(maps[0]));
	check_progs(o, progs, sizeof(progs) / sizeof(progs[0]));
	for (size_t i = 0; i < o->n_progs; i++) {
		const struct objfile_prog *p = &o->progs[i];

		ck_assert_uint_ge(p->n_calls, 1);
		ck_assert_uint_gt(p->n_insns, sec_insns(o->path, p->section));
		ck_assert_uint_eq(check_text_appended(o, p), sec_insns(o->path, p->section));
		ck_assert_int_eq(p->elf_type, BPF_PROG_TYPE_SOCKET_FILTER);
		ck_assert(!p->is_tail);
	}
	/* gobpf fills no prog array itself: its users do. */
	for (size_t i = 0; i < o->n_maps; i++)
		ck_assert_uint_eq(o->maps[i].n_slots, 0);
	check_sha1(o);
	objfile_free(o);
}
END_TEST

/* The version a legacy program loads with: the section's own, or none. */
START_TEST(test_kern_version)
{
	struct objfile *o = open_ok("gobpf");

	ck_assert_uint_eq(objfile_kern_version(o), 0x050a00);
	objfile_free(o);
	o = open_ok("iproute2");
	ck_assert(!o->has_kern_version);
	ck_assert_uint_eq(objfile_kern_version(o), 0);
	objfile_free(o);
}
END_TEST

/* Old LLVM's e_machine 0: read as the very same object. */
START_TEST(test_gobpf_em_none)
{
	struct objfile *a = open_ok("gobpf_calls"), *b = open_ok("gobpf_em_none");
	size_t size;
	unsigned char *buf = slurp(b->path, &size);

	ck_assert_uint_eq(((const Elf64_Ehdr *)buf)->e_machine, EM_NONE);
	free(buf);
	ck_assert_int_eq(b->layout, a->layout);
	ck_assert(!b->libbpf);
	ck_assert_pstr_eq(b->license, a->license);
	ck_assert(b->has_kern_version);
	ck_assert_uint_eq(b->kern_version, a->kern_version);
	ck_assert_uint_eq(b->n_maps, a->n_maps);
	for (size_t i = 0; i < a->n_maps; i++) {
		const struct objfile_map *ma = &a->maps[i], *mb = &b->maps[i];

		ck_assert_str_eq(mb->name, ma->name);
		ck_assert_str_eq(mb->section, ma->section);
		ck_assert_uint_eq(mb->type, ma->type);
		ck_assert_uint_eq(mb->key_size, ma->key_size);
		ck_assert_uint_eq(mb->value_size, ma->value_size);
		ck_assert_uint_eq(mb->max_entries, ma->max_entries);
		ck_assert_uint_eq(mb->flags, ma->flags);
		ck_assert_uint_eq(mb->pinning_raw, ma->pinning_raw);
		ck_assert_int_eq(mb->pinning, ma->pinning);
		ck_assert_pstr_eq(mb->namespace, ma->namespace);
		ck_assert_uint_eq(mb->n_slots, ma->n_slots);
	}
	ck_assert_uint_eq(b->n_progs, a->n_progs);
	for (size_t i = 0; i < a->n_progs; i++) {
		const struct objfile_prog *pa = &a->progs[i], *pb = &b->progs[i];

		ck_assert_str_eq(pb->section, pa->section);
		ck_assert_str_eq(pb->name, pa->name);
		ck_assert_int_eq(pb->type, pa->type);
		ck_assert_int_eq(pb->expected_attach, pa->expected_attach);
		ck_assert_uint_eq(pb->n_insns, pa->n_insns);
		ck_assert_int_eq(memcmp(pb->insns, pa->insns, pa->n_insns * INSN_SZ), 0);
		ck_assert_uint_eq(pb->n_relocs, pa->n_relocs);
		for (size_t k = 0; k < pa->n_relocs; k++) {
			ck_assert_uint_eq(pb->relocs[k].insn, pa->relocs[k].insn);
			ck_assert_uint_eq(pb->relocs[k].map, pa->relocs[k].map);
		}
		ck_assert_uint_eq(pb->n_calls, pa->n_calls);
	}
	/* Two bytes differ, so does the hash tc would name its directory by. */
	ck_assert_str_ne(b->sha1, a->sha1);
	check_sha1(b);
	objfile_free(a);
	objfile_free(b);
}
END_TEST

START_TEST(test_iproute2_calls)
{
	struct objfile *o = open_ok("iproute2_calls");
	const struct want_map maps[] = {
		{ "jmp", "maps", BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 2, 0, 2, PIN_MODE_GLOBAL, .id = 1,
		  .inner_map = -1 },
		{ "inner", "maps", BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0, 2, PIN_MODE_GLOBAL, .id = 2,
		  .inner_idx = 0, .inner_map = -1 },
		{ "outer", "maps", BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 1, 0, 2, PIN_MODE_GLOBAL,
		  .inner_id = 2, .inner_idx = 0, .inner_map = 1 },
		/* max_elem 0 in the ELF: one slot per possible CPU, as libbpf sizes it. */
		{ "events", "maps", BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, possible_cpus(), 0, 2,
		  PIN_MODE_GLOBAL, .inner_map = -1 },
		{ "flows", "maps", BPF_MAP_TYPE_HASH, 4, 8, 256, 0, 5, PIN_MODE_CUSTOM, .pin_id = 5,
		  .inner_map = -1 },
		{ "objmap", "maps", BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, 1, PIN_MODE_OBJECT,
		  .inner_map = -1 },
	};
	const struct want_prog progs[] = {
		{ "ingress", "cls_ingress", BPF_PROG_TYPE_SCHED_CLS, 0,
		  { "flows", "flows", "objmap", "outer", "events", "jmp" } },
		{ "1/0", "cls_tail0", BPF_PROG_TYPE_SCHED_CLS, 0, { NULL } },
		{ "1/1", "cls_tail1", BPF_PROG_TYPE_SCHED_CLS, 0, { NULL } },
	};
	const struct objfile_map *jmp, *outer;
	size_t size;
	unsigned char *buf;
	const Elf64_Sym *ev;

	/* The premise: the record itself says max_elem 0. */
	buf = slurp(o->path, &size);
	ev = find_sym(buf, "events");
	ck_assert_uint_eq(get_u32(buf + shdr_at(buf, find_sec(buf, "maps"))->sh_offset +
				   ev->st_value + 12),
			  0);
	free(buf);

	ck_assert_int_eq(o->layout, OBJFILE_LAYOUT_IPROUTE2);
	ck_assert(!o->libbpf);
	ck_assert(!o->has_kern_version);
	check_maps(o, maps, sizeof(maps) / sizeof(maps[0]));
	check_progs(o, progs, sizeof(progs) / sizeof(progs[0]));
	for (size_t i = 0; i < o->n_progs; i++) {
		const struct objfile_prog *p = &o->progs[i];

		/* No section names a type: tc filter loads sched_cls. */
		ck_assert_int_eq(p->elf_type, BPF_PROG_TYPE_UNSPEC);
		ck_assert_uint_ge(p->n_calls, 1);
		ck_assert_uint_gt(p->n_insns, sec_insns(o->path, p->section));
		check_text_appended(o, p);
		ck_assert(p->is_tail == (i > 0));
	}
	ck_assert(!prog_ok(o, "cls_ingress")->is_tail);
	ck_assert(prog_ok(o, "cls_tail0")->is_tail);
	ck_assert(prog_ok(o, "cls_tail1")->is_tail);

	/* tc fills prog array 1 from sections 1/KEY ... */
	jmp = map_ok(o, "jmp");
	ck_assert_uint_eq(jmp->n_slots, 2);
	check_prog_slot(o, jmp, 0, "cls_tail0");
	check_prog_slot(o, jmp, 1, "cls_tail1");
	ck_assert_str_eq(o->progs[slot_of(jmp, 0)->index].section, "1/0");
	ck_assert_str_eq(o->progs[slot_of(jmp, 1)->index].section, "1/1");
	/* ... and puts map id 2 into outer (inner_id 2) at inner_idx 0. */
	outer = map_ok(o, "outer");
	ck_assert_uint_eq(outer->n_slots, 1);
	check_map_slot(o, outer, 0, "inner");
	for (size_t i = 0; i < o->n_maps; i++)
		if (&o->maps[i] != jmp && &o->maps[i] != outer)
			ck_assert_uint_eq(o->maps[i].n_slots, 0);
	check_sha1(o);
	objfile_free(o);
}
END_TEST

/* iproute2.c's map_inner (id 1, inner_idx 0) goes into map_outer (inner_id 1). */
START_TEST(test_iproute2_inner_slot)
{
	struct objfile *o = open_ok("iproute2");
	const struct objfile_map *outer = map_ok(o, "map_outer");

	ck_assert_uint_eq(outer->n_slots, 1);
	check_map_slot(o, outer, 0, "map_inner");
	for (size_t i = 0; i < o->n_maps; i++)
		if (&o->maps[i] != outer)
			ck_assert_uint_eq(o->maps[i].n_slots, 0);
	/* "classifier/tail" is no ID/KEY section. */
	for (size_t i = 0; i < o->n_progs; i++)
		ck_assert(!o->progs[i].is_tail);
	objfile_free(o);
}
END_TEST

START_TEST(test_libbpf_minimal)
{
	struct objfile *o = open_ok("libbpf_minimal");
	const struct objfile_prog *p;
	struct stat st;
	size_t size;
	unsigned char *buf;

	ck_assert_int_eq(o->layout, OBJFILE_LAYOUT_NONE);
	ck_assert(o->libbpf);
	ck_assert_pstr_eq(o->license, "Dual BSD/GPL");
	ck_assert(!o->has_kern_version);
	/* The bytes libbpf opens again when it loads: the whole file. */
	ck_assert_ptr_nonnull(o->bytes);
	ck_assert_int_eq(stat(o->path, &st), 0);
	ck_assert_uint_eq(o->size, (size_t)st.st_size);
	buf = slurp(o->path, &size);
	ck_assert_uint_eq(size, o->size);
	ck_assert_int_eq(memcmp(buf, o->bytes, size), 0);
	free(buf);
	/* .bss and .rodata are libbpf's internal maps, not ours. */
	ck_assert_uint_eq(o->n_maps, 0);
	ck_assert_uint_eq(o->n_progs, 1);
	p = &o->progs[0];
	ck_assert_str_eq(p->section, "tp/syscalls/sys_enter_write");
	ck_assert_str_eq(p->name, "handle_tp");
	ck_assert_int_eq(p->type, BPF_PROG_TYPE_TRACEPOINT);
	ck_assert_int_eq(p->elf_type, BPF_PROG_TYPE_TRACEPOINT);
	/* my_pid (.bss), the printk format (.rodata.str) and the call of
	 * current_pid: libbpf relocates them, objfile.c only counts. */
	ck_assert_uint_ge(p->n_elf_relocs, 1);
	ck_assert_uint_eq(p->n_elf_relocs, elf_relocs_of(o->path, p->section, "handle_tp"));
	ck_assert_uint_eq(p->n_relocs, 0);
	ck_assert_uint_eq(p->n_calls, 0);
	ck_assert(!p->is_tail);
	/* libbpf appends .text when it loads, not when it opens. */
	ck_assert_uint_eq(p->n_insns, sec_insns(o->path, p->section));
	check_sha1(o);
	objfile_free(o);
}
END_TEST

START_TEST(test_libbpf_mim)
{
	struct objfile *o = open_ok("libbpf_mim");
	const struct objfile_map *m;
	const struct objfile_prog *p;
	static const char *const inners[] = { "inner_a", "inner_b" };

	ck_assert_int_eq(o->layout, OBJFILE_LAYOUT_BTF);
	ck_assert(o->libbpf);
	ck_assert_ptr_nonnull(o->bytes);
	/* inner_a and inner_b are `.maps` variables: maps of their own. */
	ck_assert_uint_eq(o->n_maps, 4);
	for (size_t i = 0; i < 2; i++) {
		m = map_ok(o, inners[i]);
		ck_assert_uint_eq(m->type, BPF_MAP_TYPE_ARRAY);
		ck_assert_uint_eq(m->key_size, 4);
		ck_assert_uint_eq(m->value_size, 4);
		ck_assert_uint_eq(m->max_entries, 1);
		ck_assert_int_eq(m->pinning, PIN_MODE_NONE);
		ck_assert(!m->has_inner);
		ck_assert_uint_eq(m->n_slots, 0);
	}

	m = map_ok(o, "outer");
	ck_assert_str_eq(m->section, ".maps");
	ck_assert_uint_eq(m->type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	ck_assert_uint_eq(m->key_size, 4);
	ck_assert_uint_eq(m->value_size, 4);
	ck_assert_uint_eq(m->max_entries, 2);
	ck_assert_uint_eq(m->pinning_raw, 1);
	ck_assert_int_eq(m->pinning, PIN_MODE_GLOBAL);
	ck_assert_int_eq(m->inner_map, -1); /* iproute2's field */
	/* struct inner_def: array, key and value __u32, max_entries 1. */
	ck_assert(m->has_inner);
	ck_assert_uint_eq(m->inner_type, BPF_MAP_TYPE_ARRAY);
	ck_assert_uint_eq(m->inner_key_size, 4);
	ck_assert_uint_eq(m->inner_value_size, 4);
	ck_assert_uint_eq(m->inner_max_entries, 1);
	ck_assert_uint_eq(m->n_slots, 2);
	check_map_slot(o, m, 0, "inner_a");
	check_map_slot(o, m, 1, "inner_b");

	m = map_ok(o, "jmp_table");
	ck_assert_uint_eq(m->type, BPF_MAP_TYPE_PROG_ARRAY);
	ck_assert_uint_eq(m->key_size, 4);
	ck_assert_uint_eq(m->value_size, 4);
	ck_assert_uint_eq(m->max_entries, 2);
	ck_assert_int_eq(m->pinning, PIN_MODE_GLOBAL);
	ck_assert(!m->has_inner);
	ck_assert_uint_eq(m->n_slots, 1);
	check_prog_slot(o, m, 0, "tail_prog");

	/* Two programs in one section "socket": relocations by function range. */
	ck_assert_uint_eq(o->n_progs, 2);
	p = prog_ok(o, "tail_prog");
	ck_assert_str_eq(p->section, "socket");
	ck_assert_int_eq(p->type, BPF_PROG_TYPE_SOCKET_FILTER);
	ck_assert_uint_eq(p->n_elf_relocs, 0);
	ck_assert_uint_eq(p->n_elf_relocs, elf_relocs_of(o->path, "socket", "tail_prog"));
	p = prog_ok(o, "main_prog");
	ck_assert_str_eq(p->section, "socket");
	ck_assert_int_eq(p->type, BPF_PROG_TYPE_SOCKET_FILTER);
	ck_assert_uint_eq(p->n_elf_relocs, 2); /* outer and jmp_table */
	ck_assert_uint_eq(p->n_elf_relocs, elf_relocs_of(o->path, "socket", "main_prog"));
	check_sha1(o);
	objfile_free(o);
}
END_TEST

START_TEST(test_libbpf_perf)
{
	struct objfile *o = open_ok("libbpf_perf");
	const struct want_map maps[] = {
		/* Neither size nor max_entries declared: 4-byte key and value
		 * and one slot per possible CPU, what libbpf makes. */
		{ "perf_events", ".maps", BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, possible_cpus(), 0,
		  1, PIN_MODE_GLOBAL, .inner_map = -1 },
		{ "ring_events", ".maps", BPF_MAP_TYPE_RINGBUF, 0, 0, 262144, 0, 1, PIN_MODE_GLOBAL,
		  .inner_map = -1 },
	};
	const struct want_prog progs[] = {
		{ "tp/syscalls/sys_enter_write", "emit", BPF_PROG_TYPE_TRACEPOINT, 0, { NULL } },
	};

	ck_assert_int_eq(o->layout, OBJFILE_LAYOUT_BTF);
	ck_assert(o->libbpf);
	check_maps(o, maps, sizeof(maps) / sizeof(maps[0]));
	check_progs(o, progs, sizeof(progs) / sizeof(progs[0]));
	ck_assert_uint_eq(o->progs[0].n_elf_relocs,
			  elf_relocs_of(o->path, o->progs[0].section, "emit"));
	objfile_free(o);
}
END_TEST

START_TEST(test_libbpf_ingress_set_type)
{
	struct objfile *o = open_ok("libbpf_ingress");
	const struct objfile_prog *p;

	ck_assert_int_eq(o->layout, OBJFILE_LAYOUT_BTF);
	ck_assert(o->libbpf);
	ck_assert_uint_eq(o->n_progs, 1);
	p = &o->progs[0];
	ck_assert_str_eq(p->section, "ingress");
	ck_assert_str_eq(p->name, "ingress_count");
	/* "ingress" names no type libbpf 1.1 knows. */
	ck_assert_int_eq(p->type, BPF_PROG_TYPE_UNSPEC);
	ck_assert_int_eq(p->elf_type, BPF_PROG_TYPE_UNSPEC);
	ck_assert_int_eq(p->expected_attach, 0);

	objfile_set_prog_type(o, 0, BPF_PROG_TYPE_SCHED_CLS, -1);
	ck_assert_int_eq(p->type, BPF_PROG_TYPE_SCHED_CLS);
	ck_assert_int_eq(p->expected_attach, 0);
	ck_assert_int_eq(p->elf_type, BPF_PROG_TYPE_UNSPEC); /* what the section says */
	/* BPF_CGROUP_INET_INGRESS is 0: first a non-zero one, so that setting
	 * it is seen. */
	objfile_set_prog_type(o, 0, BPF_PROG_TYPE_SCHED_CLS, BPF_CGROUP_INET_EGRESS);
	ck_assert_int_eq(p->expected_attach, BPF_CGROUP_INET_EGRESS);
	objfile_set_prog_type(o, 0, BPF_PROG_TYPE_SCHED_CLS, BPF_CGROUP_INET_INGRESS);
	ck_assert_int_eq(p->type, BPF_PROG_TYPE_SCHED_CLS);
	ck_assert_int_eq(p->expected_attach, BPF_CGROUP_INET_INGRESS);
	objfile_free(o);

	/* The section's own attach type holds for the section's own type only. */
	o = open_ok("btf");
	p = prog_ok(o, "xdp_note");
	ck_assert_int_eq(p->expected_attach, BPF_XDP);
	objfile_set_prog_type(o, (size_t)(p - o->progs), BPF_PROG_TYPE_XDP, -1);
	ck_assert_int_eq(p->type, BPF_PROG_TYPE_XDP);
	ck_assert_int_eq(p->expected_attach, BPF_XDP);
	objfile_set_prog_type(o, (size_t)(p - o->progs), BPF_PROG_TYPE_SCHED_CLS, -1);
	ck_assert_int_eq(p->type, BPF_PROG_TYPE_SCHED_CLS);
	ck_assert_int_eq(p->expected_attach, 0);
	ck_assert_int_eq(p->elf_type, BPF_PROG_TYPE_XDP);
	objfile_free(o);
}
END_TEST

/* libbpf-bootstrap's tc.bpf.c style, CO-RE, and a program only the verifier
 * refuses: all read as libbpf reads them. */
START_TEST(test_libbpf_tc_core)
{
	struct objfile *o = open_ok("libbpf_tc");
	const struct want_map maps[] = {
		{ "tc_counts", ".maps", BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, 1, PIN_MODE_GLOBAL,
		  .inner_map = -1 },
	};
	const struct want_prog tc[] = {
		{ "tc", "tc_ingress", BPF_PROG_TYPE_SCHED_CLS, 0, { NULL } },
	};
	const struct want_prog core[] = {
		{ "raw_tp/sys_enter", "core_read", BPF_PROG_TYPE_RAW_TRACEPOINT, 0, { NULL } },
	};
	const struct want_prog rejected[] = {
		{ "socket", "reject_btf", BPF_PROG_TYPE_SOCKET_FILTER, 0, { NULL } },
	};

	ck_assert_int_eq(o->layout, OBJFILE_LAYOUT_BTF);
	ck_assert(o->libbpf);
	check_maps(o, maps, 1);
	check_progs(o, tc, 1);
	ck_assert_int_eq(o->progs[0].elf_type, BPF_PROG_TYPE_SCHED_CLS);
	/* tc_counts, the .data global and the printk format. */
	ck_assert_uint_eq(o->progs[0].n_elf_relocs, elf_relocs_of(o->path, "tc", "tc_ingress"));
	ck_assert_uint_ge(o->progs[0].n_elf_relocs, 2);
	objfile_free(o);

	o = open_ok("libbpf_core");
	ck_assert_int_eq(o->layout, OBJFILE_LAYOUT_NONE);
	ck_assert(o->libbpf);
	ck_assert_uint_eq(o->n_maps, 0);
	check_progs(o, core, 1);
	/* CO-RE relocations live in .BTF.ext, not in ELF relocation sections. */
	ck_assert_uint_eq(o->progs[0].n_elf_relocs,
			  elf_relocs_of(o->path, "raw_tp/sys_enter", "core_read"));
	objfile_free(o);

	o = open_ok("reject_btf");
	ck_assert_int_eq(o->layout, OBJFILE_LAYOUT_NONE);
	check_progs(o, rejected, 1);
	objfile_free(o);
}
END_TEST

/* ---- broken objects, derived from the good ones in a private directory ---- */

static char bad_dir[PATH_MAX];

static void bad_setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(bad_dir, sizeof(bad_dir), "%s/bpfprov-badelf.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(bad_dir));
}

static void bad_teardown(void)
{
	DIR *dir = opendir(bad_dir);
	struct dirent *e;
	char p[PATH_MAX * 2];

	if (!dir)
		return;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", bad_dir, e->d_name);
		if (unlink(p) < 0)
			rmdir(p);
	}
	closedir(dir);
	rmdir(bad_dir);
}

static char *write_bad(const char *name, const void *buf, size_t size)
{
	char *path = NULL;
	FILE *f;

	ck_assert_int_ge(asprintf(&path, "%s/%s", bad_dir, name), 0);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, size, f), size);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* objfile_open must fail with want_err, leave *ret alone, and record an
 * error located at the file (whose text contains want_text, if given). */
static void expect_reject(const char *path, int want_err, const char *want_text)
{
	struct diag d = { 0 };
	struct objfile *sentinel = (struct objfile *)&d, *o = sentinel;
	int r = objfile_open(path, &d, &o);

	ck_assert_msg(r == want_err, "%s: objfile_open returned %d, expected %d", path, r,
		      want_err);
	ck_assert_ptr_eq(o, sentinel);
	ck_assert_uint_ge(d.n_errors, 1);
	ck_assert_uint_ge(d.n_msgs, 1);
	ck_assert_int_eq(d.msgs[0].severity, DIAG_ERROR);
	ck_assert_pstr_eq(d.msgs[0].file, path);
	if (want_text)
		ck_assert_msg(strstr(d.msgs[0].text, want_text), "%s: message '%s' lacks '%s'",
			      path, d.msgs[0].text, want_text);
	diag_done(&d);
}

/* Copies a good object, lets patch() break it, writes it, expects -EINVAL. */
static void reject_patched(const char *good, const char *bad, void (*patch)(unsigned char *),
			   const char *want_text)
{
	char *path = obj_path(good), *bad_path;
	size_t size;
	unsigned char *buf = slurp(path, &size);

	patch(buf);
	bad_path = write_bad(bad, buf, size);
	expect_reject(bad_path, -EINVAL, want_text);
	free(bad_path);
	free(buf);
	free(path);
}

START_TEST(test_reject_not_elf)
{
	static const char text[] = "this is a text file, not an ELF object\n";
	char *p;

	p = write_bad("empty.o", "", 0);
	expect_reject(p, -EINVAL, "not an ELF file");
	free(p);
	p = write_bad("text.o", text, sizeof(text) - 1);
	expect_reject(p, -EINVAL, "not an ELF file");
	free(p);
	p = write_bad("magic-only.o", ELFMAG, SELFMAG);
	expect_reject(p, -EINVAL, "truncated");
	free(p);
	expect_reject(bad_dir, -EINVAL, "not a regular file");

	ck_assert_int_ge(asprintf(&p, "%s/missing.o", bad_dir), 0);
	expect_reject(p, -ENOENT, "cannot open");
	free(p);
}
END_TEST

/* Out of file descriptors, the error says which limit and what to do, not
 * just strerror's "Too many open files".  Only the soft limit is lowered
 * (valgrind allows no more), and every descriptor below it taken. */
START_TEST(test_reject_fd_limit)
{
	struct rlimit saved, rl;
	char *path = obj_path("gobpf");
	int fds[64], n = 0;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
	rl = saved;
	rl.rlim_cur = 32;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	while (n < 64 && (fds[n] = dup(0)) >= 0)
		n++;
	ck_assert_int_lt(n, 64);
	expect_reject(path, -EMFILE,
		      "cannot open: too many open files (ulimit -n 32): raise the limit");
	while (n > 0)
		close(fds[--n]);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
	free(path);
}
END_TEST

/* Every good object cut at several places: the header, the middle, the end. */
START_TEST(test_reject_truncated)
{
	static const char *const objs[] = { "gobpf", "iproute2", "iproute2_short", "btf", "none" };

	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		char *path = obj_path(objs[i]), *bad, name[64];
		size_t size;
		unsigned char *buf = slurp(path, &size);
		const size_t cuts[] = { 20, 64, size / 2, size - 1 };

		for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
			snprintf(name, sizeof(name), "%s-cut%zu.o", objs[i], cuts[c]);
			bad = write_bad(name, buf, cuts[c]);
			expect_reject(bad, -EINVAL, NULL);
			free(bad);
		}
		free(buf);
		free(path);
	}
}
END_TEST

static void patch_machine(unsigned char *b)
{
	((Elf64_Ehdr *)b)->e_machine = EM_X86_64;
}

static void patch_class32(unsigned char *b)
{
	b[EI_CLASS] = ELFCLASS32;
}

static void patch_big_endian(unsigned char *b)
{
	b[EI_DATA] = ELFDATA2MSB;
}

static void patch_exec_type(unsigned char *b)
{
	((Elf64_Ehdr *)b)->e_type = ET_EXEC;
}

static void patch_shstrndx(unsigned char *b)
{
	((Elf64_Ehdr *)b)->e_shstrndx = 0x7fff;
}

static void patch_shnum(unsigned char *b)
{
	((Elf64_Ehdr *)b)->e_shnum = 0xfff0;
}

START_TEST(test_reject_header)
{
	reject_patched("gobpf", "machine.o", patch_machine, "not a BPF object");
	reject_patched("btf", "machine-btf.o", patch_machine, "not a BPF object");
	reject_patched("gobpf", "class32.o", patch_class32, "64-bit");
	reject_patched("iproute2", "bigendian.o", patch_big_endian, "little-endian");
	reject_patched("none", "exec.o", patch_exec_type, "relocatable");
	reject_patched("gobpf", "shstrndx.o", patch_shstrndx, NULL);
	reject_patched("gobpf", "shnum.o", patch_shnum, NULL);
}
END_TEST

static void patch_huge_size(unsigned char *b)
{
	shdr_at(b, find_sec(b, "socket/count"))->sh_size = 1ull << 60;
}

static void patch_huge_offset(unsigned char *b)
{
	shdr_at(b, find_sec(b, "license"))->sh_offset = ~0ull - 2;
}

static void patch_symtab_size(unsigned char *b)
{
	shdr_at(b, find_symtab(b))->sh_size = 1ull << 40;
}

static void patch_sec_name(unsigned char *b)
{
	shdr_at(b, find_sec(b, "license"))->sh_name = 0x7fffffff;
}

static void patch_btf_huge_size(unsigned char *b)
{
	shdr_at(b, find_sec(b, ".maps"))->sh_size = 1ull << 62;
}

START_TEST(test_reject_section_headers)
{
	reject_patched("gobpf", "huge-size.o", patch_huge_size, "lies outside the file");
	reject_patched("gobpf", "huge-offset.o", patch_huge_offset, "lies outside the file");
	reject_patched("iproute2", "symtab-size.o", patch_symtab_size, "lies outside the file");
	reject_patched("btf", "btf-huge-size.o", patch_btf_huge_size, "lies outside the file");
	reject_patched("none", "sec-name.o", patch_sec_name, "name offset");
}
END_TEST

static void patch_gobpf_rec_size(unsigned char *b)
{
	shdr_at(b, find_sec(b, "maps/object_array"))->sh_size = 276; /* the symbol's size too */
	find_sym(b, "object_array")->st_size = 276;
}

static void patch_gobpf_nobits(unsigned char *b)
{
	shdr_at(b, find_sec(b, "maps/global_hash"))->sh_type = SHT_NOBITS;
}

static void patch_gobpf_pinning(unsigned char *b)
{
	const Elf64_Shdr *sh = shdr_at(b, find_sec(b, "maps/none_hash"));

	b[sh->sh_offset + 20] = 7;
}

static void patch_gobpf_namespace(unsigned char *b)
{
	const Elf64_Shdr *sh = shdr_at(b, find_sec(b, "maps/none_hash"));

	memset(b + sh->sh_offset + 24, 'x', 256);
}

static void patch_symbol_outside(unsigned char *b)
{
	find_sym(b, "custom_array")->st_value = 0x100000;
}

static void patch_reloc_not_ldimm64(unsigned char *b)
{
	const Elf64_Shdr *prog = shdr_at(b, find_sec(b, "kprobe/do_nanosleep"));
	Elf64_Shdr *sh = shdr_at(b, find_sec(b, ".relkprobe/do_nanosleep"));
	Elf64_Rel *rel = (Elf64_Rel *)(b + sh->sh_offset);

	/* Instruction 0 of the program sets up the key, it loads no map. */
	ck_assert_uint_ne(b[prog->sh_offset], LD_IMM64);
	rel[0].r_offset = 0;
}

static void patch_reloc_offset(unsigned char *b)
{
	Elf64_Shdr *sh = shdr_at(b, find_sec(b, ".relsocket/count"));
	Elf64_Rel *rel = (Elf64_Rel *)(b + sh->sh_offset);

	rel[1].r_offset = 1u << 20;
}

static void patch_reloc_symbol(unsigned char *b)
{
	Elf64_Shdr *sh = shdr_at(b, find_sec(b, ".relsocket/count"));
	Elf64_Rel *rel = (Elf64_Rel *)(b + sh->sh_offset);

	rel[0].r_info = ELF64_R_INFO(0xffffff, ELF64_R_TYPE(rel[0].r_info));
}

static void patch_license(unsigned char *b)
{
	const Elf64_Shdr *sh = shdr_at(b, find_sec(b, "license"));

	memset(b + sh->sh_offset, 'X', sh->sh_size);
}

static void patch_prog_size(unsigned char *b)
{
	const size_t idx = find_sec(b, "xdp");
	Elf64_Shdr *sh = shdr_at(b, idx);
	Elf64_Sym *sym = find_sym(b, "xdp_pass");

	sh->sh_size -= 4;
	sym->st_size = sh->sh_size;
}

START_TEST(test_reject_gobpf)
{
	reject_patched("gobpf", "gobpf-recsize.o", patch_gobpf_rec_size, "280 bytes");
	reject_patched("gobpf", "gobpf-nobits.o", patch_gobpf_nobits, "PROGBITS");
	reject_patched("gobpf", "gobpf-pinning.o", patch_gobpf_pinning, "pinning value 7");
	reject_patched("gobpf", "gobpf-namespace.o", patch_gobpf_namespace, "NUL-terminated");
	reject_patched("gobpf", "gobpf-symbol.o", patch_symbol_outside,
		       "symbol 'custom_array'");
	reject_patched("gobpf", "gobpf-reloc-insn.o", patch_reloc_not_ldimm64,
		       "not a 64-bit immediate load");
	reject_patched("gobpf", "gobpf-reloc-offset.o", patch_reloc_offset,
		       "not an instruction");
	reject_patched("gobpf", "gobpf-reloc-symbol.o", patch_reloc_symbol, "refers to symbol");
	reject_patched("gobpf", "gobpf-license.o", patch_license, "license");
	reject_patched("none", "none-progsize.o", patch_prog_size, "multiple of 8");
}
END_TEST

/* Four bytes more than five records: still inside the file, but 184 does not
 * divide by the five symbols. */
static void patch_iproute2_size(unsigned char *b)
{
	shdr_at(b, find_sec(b, "maps"))->sh_size += 4;
}

static void patch_iproute2_symbol(unsigned char *b)
{
	find_sym(b, "map_stats")->st_value = 0x100000;
}

static void patch_iproute2_misaligned(unsigned char *b)
{
	find_sym(b, "jmp_tc")->st_value += 4;
	find_sym(b, "jmp_tc")->st_size -= 4;
}

static void patch_iproute2_same_record(unsigned char *b)
{
	find_sym(b, "map_custom")->st_value = find_sym(b, "map_stats")->st_value;
}

static void patch_iproute2_inner_id(unsigned char *b)
{
	const Elf64_Shdr *sh = shdr_at(b, find_sec(b, "maps"));
	uint32_t bad = 99;

	/* map_outer is the second record; inner_id is its eighth word. */
	memcpy(b + sh->sh_offset + 36 + 28, &bad, sizeof(bad));
}

static void patch_iproute2_record_size(unsigned char *b)
{
	/* Two 20-byte records read as five 8-byte ones. */
	shdr_at(b, find_sec(b, "maps"))->sh_size = 8;
	find_sym(b, "short_hash")->st_size = 8;
	find_sym(b, "short_array")->st_value = 0;
	find_sym(b, "short_array")->st_size = 8;
}

START_TEST(test_reject_iproute2)
{
	reject_patched("iproute2", "ip-size.o", patch_iproute2_size, "does not divide");
	reject_patched("iproute2", "ip-symbol.o", patch_iproute2_symbol, "symbol 'map_stats'");
	reject_patched("iproute2", "ip-misaligned.o", patch_iproute2_misaligned,
		       "not a multiple of the record size");
	reject_patched("iproute2", "ip-same.o", patch_iproute2_same_record,
		       "name the same record");
	reject_patched("iproute2", "ip-inner.o", patch_iproute2_inner_id, "inner_id 99");
	reject_patched("iproute2_short", "ip-recsize.o", patch_iproute2_record_size,
		       "record size");
}
END_TEST

static void patch_btf_magic(unsigned char *b)
{
	const Elf64_Shdr *sh = shdr_at(b, find_sec(b, ".BTF"));

	memset(b + sh->sh_offset, 0, 8);
}

/* Points type 1 (clang emits the pointer `int (*type)[N]` first) at a type
 * that does not exist: libbpf 1.1 would dereference NULL on it. */
static void patch_btf_dangling(unsigned char *b)
{
	const Elf64_Shdr *sh = shdr_at(b, find_sec(b, ".BTF"));
	unsigned char *hdr = b + sh->sh_offset;
	uint32_t hdr_len, type_off, info, bad = 0x7fffffff;

	memcpy(&hdr_len, hdr + 4, 4);
	memcpy(&type_off, hdr + 8, 4);
	memcpy(&info, hdr + hdr_len + type_off + 4, 4);
	ck_assert_uint_eq((info >> 24) & 0x1f, 2 /* BTF_KIND_PTR */);
	memcpy(hdr + hdr_len + type_off + 8, &bad, 4);
}

/* The record of BTF type id in the object's .BTF (ids from 1), with its
 * kind; NULL past the last type. */
static unsigned char *btf_type_rec(unsigned char *b, uint32_t id, unsigned *ret_kind)
{
	const Elf64_Shdr *sh = shdr_at(b, find_sec(b, ".BTF"));
	unsigned char *hdr = b + sh->sh_offset, *t, *end;
	uint32_t hdr_len, type_off, type_len, info;

	memcpy(&hdr_len, hdr + 4, 4);
	memcpy(&type_off, hdr + 8, 4);
	memcpy(&type_len, hdr + 12, 4);
	t = hdr + hdr_len + type_off;
	end = t + type_len;
	for (uint32_t i = 1; t < end; i++) {
		unsigned kind, vlen;

		memcpy(&info, t + 4, 4);
		kind = (info >> 24) & 0x1f;
		vlen = info & 0xffff;
		ck_assert_uint_lt(kind, 20);
		if (i == id) {
			*ret_kind = kind;
			return t;
		}
		t += 12;
		if (kind == 3) /* array: type, index_type, nelems */
			t += 12;
		else if (kind == 4 || kind == 5 || kind == 15 || kind == 19)
			t += 12 * vlen; /* members, var_secinfos, enum64 values */
		else if (kind == 1 || kind == 14 || kind == 17)
			t += 4; /* int encoding, var linkage, decl_tag index */
		else if (kind == 6 || kind == 13)
			t += 8 * vlen; /* enum values, func_proto params */
	}
	return NULL;
}

/* The first type of a kind. */
static uint32_t btf_first(unsigned char *b, unsigned want)
{
	unsigned kind;

	for (uint32_t id = 1; btf_type_rec(b, id, &kind); id++)
		if (kind == want)
			return id;
	ck_abort_msg("no BTF type of kind %u", want);
	return 0;
}

/* Makes type id of the given kind and pointing at target: every kind that
 * refers to one type has that reference at the same place. */
static void btf_retype(unsigned char *b, uint32_t id, unsigned kind, uint32_t target)
{
	unsigned old;
	unsigned char *t = btf_type_rec(b, id, &old);
	uint32_t info;

	memcpy(&info, t + 4, 4);
	info = (info & ~(0x1fu << 24)) | kind << 24;
	memcpy(t + 4, &info, 4);
	memcpy(t + 8, &target, 4);
}

/* Turns every `int (*)[1]` into `[5]`, pinning included: well-formed BTF
 * that libbpf itself refuses ("invalid pinning value"). */
static void patch_btf_pinning(unsigned char *b)
{
	uint32_t nelems, five = 5;
	unsigned char *t;
	unsigned kind;
	int patched = 0;

	for (uint32_t id = 1; (t = btf_type_rec(b, id, &kind)); id++) {
		if (kind != 3) /* array: type, index_type, nelems */
			continue;
		memcpy(&nelems, t + 20, 4);
		if (nelems == 1) {
			memcpy(t + 20, &five, 4);
			patched++;
		}
	}
	ck_assert_int_gt(patched, 0);
}

/* The first typedef (__u32) made its own target. */
static void patch_btf_typedef_loop(unsigned char *b)
{
	uint32_t id = btf_first(b, 8 /* BTF_KIND_TYPEDEF */);

	btf_retype(b, id, 8, id);
}

/* Type 1, the pointer that the first map's `type` attribute is, turned into
 * a const of that typedef, which points back: libbpf 1.1 follows the chain
 * from the map definition (skip_mods_and_typedefs) forever. */
static void patch_btf_mod_cycle(unsigned char *b)
{
	uint32_t td = btf_first(b, 8 /* BTF_KIND_TYPEDEF */);
	unsigned kind;

	btf_type_rec(b, 1, &kind);
	ck_assert_uint_eq(kind, 2 /* BTF_KIND_PTR */);
	btf_retype(b, 1, 10 /* BTF_KIND_CONST */, td);
	btf_retype(b, td, 8, 1);
}

/* The kconfig extern made a struct whose first member is the struct
 * itself: libbpf 1.1 computes the extern's alignment (btf__align_of)
 * recursing through the members until the stack overflows. */
static void patch_btf_struct_self(unsigned char *b)
{
	uint32_t st = btf_first(b, 4 /* BTF_KIND_STRUCT */), var = btf_first(b, 14 /* VAR */);
	unsigned kind;
	unsigned char *t = btf_type_rec(b, st, &kind);

	memcpy(t + 12 + 4, &st, 4); /* the first member's type */
	t = btf_type_rec(b, var, &kind);
	memcpy(t + 8, &st, 4);
}

/* The struct_ops variable's symbol moved out of every section, at an
 * offset that libbpf 1.1 cuts to 0xffffffff and then copies from (found by
 * fuzz-objfile; tests/fuzz/regressions/objfile/crash-9f3eb3c9...). */
static void patch_struct_ops_sym(unsigned char *b)
{
	Elf64_Sym *sym = find_sym(b, "bpfprov_cc");

	sym->st_shndx = 0xfffa;
	sym->st_value = 0xf7ffffffffffull;
}

START_TEST(test_reject_btf)
{
	reject_patched("btf", "btf-magic.o", patch_btf_magic, "'.BTF' is malformed");
	reject_patched("btf", "btf-dangling.o", patch_btf_dangling, "type 1 is malformed");
	reject_patched("btf", "btf-pinning.o", patch_btf_pinning, "libbpf cannot read");
	reject_patched("btf", "btf-typedef-loop.o", patch_btf_typedef_loop,
		       "section '.BTF': type 6: typedef/modifier chain loops");
	reject_patched("btf", "btf-mod-cycle.o", patch_btf_mod_cycle,
		       "section '.BTF': type 1: typedef/modifier chain loops");
	reject_patched("libbpf_core", "btf-struct-self.o", patch_btf_struct_self,
		       "section '.BTF': type 5: contains itself");
	reject_patched("libbpf_struct_ops", "struct-ops-sym.o", patch_struct_ops_sym,
		       "symbol 'bpfprov_cc': offset 272678883688447 in section index 0xfffa");
}
END_TEST

/* A BPF arena's `.addr_space.1` needs libbpf 1.4: said before libbpf 1.1
 * fails on it obscurely.  The object is a good one whose `.debug_abbrev`
 * (as long a name, not shared with another) is renamed in place. */
static void patch_arena(unsigned char *b)
{
	static const char arena[] = ".addr_space.1";
	char *name = (char *)sec_name(b, shdr_at(b, find_sec(b, ".debug_abbrev")));

	ck_assert_uint_eq(strlen(name), sizeof(arena) - 1);
	memcpy(name, arena, sizeof(arena) - 1);
	find_sec(b, arena);
}

START_TEST(test_reject_arena)
{
	if (libbpf_major_version() > 1 ||
	    (libbpf_major_version() == 1 && libbpf_minor_version() >= 4)) {
		fprintf(stderr, "test_reject_arena: SKIPPED: libbpf %s loads arenas itself\n",
			libbpf_version_string());
		return;
	}
	reject_patched("libbpf_minimal", "arena-none.o", patch_arena, "libbpf 1.4");
	reject_patched("libbpf_perf", "arena-btf.o", patch_arena, "libbpf 1.4");
}
END_TEST

/* ---- report_inspect ---- */

static json_t *inspect_json(const char *name)
{
	struct objfile *o = open_ok(name);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	json_error_t err;
	json_t *j;

	const struct objfile *one[] = { o };
	json_t *doc;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(report_inspect(one, 1, f, true), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(text[len - 1], '\n');
	doc = json_loads(text, 0, &err);
	ck_assert_msg(doc != NULL, "invalid JSON at line %d: %s", err.line, err.text);
	/* Format version 2: the objects in one document. */
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "format_version")), 2);
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "objects")), 1);
	j = json_incref(json_array_get(json_object_get(doc, "objects"), 0));
	json_decref(doc);
	ck_assert_str_eq(json_string_value(json_object_get(j, "path")), o->path);
	free(text);
	objfile_free(o);
	return j;
}

static const char *jstr(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	ck_assert_msg(json_is_string(v), "'%s' is not a string", key);
	return json_string_value(v);
}

static json_int_t jint(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	ck_assert_msg(json_is_integer(v), "'%s' is not an integer", key);
	return json_integer_value(v);
}

START_TEST(test_inspect_json_gobpf)
{
	json_t *j = inspect_json("gobpf");
	json_t *maps = json_object_get(j, "maps"), *progs = json_object_get(j, "programs");
	json_t *m, *p, *r;

	ck_assert_str_eq(jstr(j, "layout"), "gobpf");
	ck_assert_str_eq(jstr(j, "license"), "GPL");
	ck_assert_int_eq(jint(j, "kern_version"), 0x050a00);
	ck_assert_uint_eq(json_array_size(maps), 4);
	ck_assert_uint_eq(json_array_size(progs), 3);

	m = json_array_get(maps, 2);
	ck_assert_str_eq(jstr(m, "name"), "global_hash");
	ck_assert_str_eq(jstr(m, "section"), "maps/global_hash");
	ck_assert_str_eq(jstr(m, "type"), "hash");
	ck_assert_int_eq(jint(m, "type_raw"), BPF_MAP_TYPE_HASH);
	ck_assert_int_eq(jint(m, "key_size"), 8);
	ck_assert_int_eq(jint(m, "value_size"), 16);
	ck_assert_int_eq(jint(m, "max_entries"), 1024);
	ck_assert_int_eq(jint(m, "flags"), BPF_F_NO_PREALLOC);
	ck_assert_str_eq(jstr(m, "pinning"), "global");
	ck_assert_int_eq(jint(m, "pinning_raw"), 2);
	ck_assert_int_eq(jint(m, "pin_id"), 0);
	ck_assert_str_eq(jstr(m, "namespace"), "ns1");
	ck_assert(json_is_null(json_object_get(m, "inner_map")));
	m = json_array_get(maps, 3);
	ck_assert_str_eq(jstr(m, "pinning"), "custom");
	ck_assert(json_is_null(json_object_get(m, "namespace")));

	p = json_array_get(progs, 1);
	ck_assert_str_eq(jstr(p, "section"), "socket/count");
	ck_assert_str_eq(jstr(p, "name"), "socket_count");
	ck_assert_str_eq(jstr(p, "type"), "socket_filter");
	ck_assert_int_gt(jint(p, "insns"), 2);
	ck_assert_int_eq(jint(p, "map_relocations"), 2);
	ck_assert_uint_eq(json_array_size(json_object_get(p, "relocations")), 2);
	r = json_array_get(json_object_get(p, "relocations"), 1);
	ck_assert_str_eq(jstr(r, "map"), "global_hash");
	ck_assert_int_lt(jint(r, "insn"), jint(p, "insns"));
	ck_assert_str_eq(jstr(json_array_get(progs, 0), "type"), "kprobe");
	json_decref(j);
}
END_TEST

START_TEST(test_inspect_json_iproute2)
{
	json_t *j = inspect_json("iproute2");
	json_t *maps = json_object_get(j, "maps"), *m;

	ck_assert_str_eq(jstr(j, "layout"), "iproute2");
	ck_assert(json_is_null(json_object_get(j, "kern_version")));
	m = json_array_get(maps, 1);
	ck_assert_str_eq(jstr(m, "name"), "map_outer");
	ck_assert_str_eq(jstr(m, "type"), "array_of_maps");
	ck_assert_int_eq(jint(m, "id"), 2);
	ck_assert_int_eq(jint(m, "inner_id"), 1);
	ck_assert_int_eq(jint(m, "inner_idx"), 0);
	ck_assert_str_eq(jstr(m, "inner_map"), "map_inner");
	ck_assert_str_eq(jstr(m, "pinning"), "object");
	m = json_array_get(maps, 3);
	ck_assert_str_eq(jstr(m, "name"), "map_custom");
	ck_assert_str_eq(jstr(m, "pinning"), "custom");
	ck_assert_int_eq(jint(m, "pinning_raw"), 4);
	ck_assert_int_eq(jint(m, "pin_id"), 4);
	ck_assert_str_eq(jstr(json_array_get(maps, 4), "type"), "prog_array");
	ck_assert_str_eq(jstr(json_array_get(json_object_get(j, "programs"), 1), "type"),
			 "sched_act");
	json_decref(j);
}
END_TEST

START_TEST(test_inspect_json_btf_none)
{
	json_t *j = inspect_json("btf"), *m;

	ck_assert_str_eq(jstr(j, "layout"), "btf");
	m = json_array_get(json_object_get(j, "maps"), 0);
	ck_assert_str_eq(jstr(m, "name"), "pinned_counts");
	ck_assert_str_eq(jstr(m, "section"), ".maps");
	ck_assert_str_eq(jstr(m, "pinning"), "global");
	ck_assert_int_eq(jint(m, "pinning_raw"), 1);
	ck_assert_str_eq(jstr(json_array_get(json_object_get(j, "programs"), 1), "type"), "xdp");
	json_decref(j);

	j = inspect_json("none");
	ck_assert_str_eq(jstr(j, "layout"), "none");
	ck_assert_str_eq(jstr(j, "license"), "Dual MIT/GPL");
	ck_assert_uint_eq(json_array_size(json_object_get(j, "maps")), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "programs")), 2);
	json_decref(j);
}
END_TEST

START_TEST(test_inspect_text)
{
	struct objfile *o = open_ok("iproute2");
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(report_inspect((const struct objfile *[]){ o }, 1, f, false), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_ptr_nonnull(strstr(text, "layout: iproute2\n"));
	ck_assert_ptr_nonnull(strstr(text, "license: GPL\n"));
	ck_assert_ptr_nonnull(strstr(text, "maps: 5\n"));
	ck_assert_ptr_nonnull(strstr(text, "  map map_outer: section maps, array_of_maps key 4 "
					   "value 4 max 4, pinning object (1), map id 2, inner "
					   "map map_inner (id 1, index 0), slots 0=map map_inner\n"));
	ck_assert_ptr_nonnull(strstr(text, "loader: legacy (bpf-provision's own)\n"));
	ck_assert_ptr_nonnull(strstr(text, "pinning custom (4) pin_id 4"));
	ck_assert_ptr_nonnull(strstr(text, "programs: 3\n"));
	ck_assert_ptr_nonnull(strstr(text, "  program act_count: section action, sched_act, "));
	ck_assert_ptr_nonnull(strstr(text, "1 map relocations (map_custom@"));
	free(text);
	objfile_free(o);
}
END_TEST

static char *inspect_text_of(const char *name, struct objfile **ret)
{
	struct objfile *o = open_ok(name);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(report_inspect((const struct objfile *[]){ o }, 1, f, false), 0);
	ck_assert_int_eq(fclose(f), 0);
	if (ret)
		*ret = o;
	else
		objfile_free(o);
	return text;
}

/* The line of text that starts with prefix, without its newline. */
static char *line_of(const char *text, const char *prefix)
{
	const char *b = strstr(text, prefix);
	char *line;

	ck_assert_msg(b != NULL, "no line '%s' in:\n%s", prefix, text);
	line = strndup(b, strcspn(b, "\n"));
	ck_assert_ptr_nonnull(line);
	return line;
}

#define ck_assert_contains(text, want)                                                            \
	ck_assert_msg(strstr((text), (want)) != NULL, "no '%s' in:\n%s", (want), (text))

START_TEST(test_inspect_text_calls)
{
	struct objfile *o;
	char *text = inspect_text_of("gobpf_calls", NULL), want[256], *line;

	ck_assert_contains(text, "loader: legacy (bpf-provision's own)\n");
	ck_assert_contains(text, "kern_version: current");
	ck_assert_contains(text, ", namespace gobpfns");
	ck_assert_contains(text, "  program socket_tail: section socket/tail, socket_filter, ");
	ck_assert_contains(text, ", 1 calls into .text\n");
	free(text);

	text = inspect_text_of("iproute2_calls", &o);
	ck_assert_contains(text, "layout: iproute2\n");
	snprintf(want, sizeof(want), "sha1: %s\n", o->sha1);
	ck_assert_contains(text, want);
	ck_assert_contains(text, "  map jmp: section maps, prog_array key 4 value 4 max 2, "
				 "pinning global (2), map id 1, slots 0=program cls_tail0, "
				 "1=program cls_tail1\n");
	ck_assert_contains(text, "  map outer: section maps, array_of_maps key 4 value 4 max 1, "
				 "pinning global (2), inner map inner (id 2, index 0), slots "
				 "0=map inner\n");
	snprintf(want, sizeof(want), "  map events: section maps, perf_event_array key 4 value 4 "
				     "max %u,", possible_cpus());
	ck_assert_contains(text, want);
	ck_assert_contains(text, ", slots 0=program ");
	ck_assert_contains(text, "calls into .text");
	ck_assert_contains(text, ", tail call");
	snprintf(want, sizeof(want), "  program cls_tail1: section 1/1, sched_cls, %zu insns, "
				     "0 map relocations, 1 calls into .text, tail call, type not "
				     "in the section name\n",
		 prog_ok(o, "cls_tail1")->n_insns);
	ck_assert_contains(text, want);
	/* The main program is no tail call. */
	line = line_of(text, "  program cls_ingress: ");
	ck_assert_contains(line, ", 1 calls into .text");
	ck_assert_ptr_null(strstr(line, "tail call"));
	free(line);
	free(text);
	objfile_free(o);
}
END_TEST

START_TEST(test_inspect_text_libbpf)
{
	struct objfile *o;
	char *text = inspect_text_of("libbpf_mim", NULL), want[256];

	ck_assert_contains(text, "loader: libbpf\n");
	ck_assert_contains(text, "kern_version: (none)\n");
	ck_assert_contains(text, "  map outer: section .maps, array_of_maps key 4 value 4 max 2, "
				 "pinning global (1), inner array key 4 value 4 max 1, slots "
				 "0=map inner_a, 1=map inner_b\n");
	ck_assert_contains(text, "  map jmp_table: section .maps, prog_array key 4 value 4 max 2, "
				 "pinning global (1), slots 0=program tail_prog\n");
	ck_assert_contains(text, "  map inner_a: section .maps, array key 4 value 4 max 1, "
				 "pinning none (0)\n");
	free(text);

	text = inspect_text_of("libbpf_minimal", &o);
	ck_assert_contains(text, "layout: none\n");
	ck_assert_contains(text, "loader: libbpf\n");
	snprintf(want, sizeof(want), ", %zu ELF relocations\n", o->progs[0].n_elf_relocs);
	ck_assert_contains(text, want);
	free(text);
	objfile_free(o);

	text = inspect_text_of("libbpf_ingress", NULL);
	ck_assert_contains(text, "section ingress, unspec, ");
	ck_assert_contains(text, ", type not in the section name\n");
	free(text);
}
END_TEST

/* A slot of the JSON "slots" array: {"key": K, "map" | "program": NAME}. */
static void check_json_slot(json_t *slots, size_t i, json_int_t key, const char *kind,
			    const char *name)
{
	json_t *s = json_array_get(slots, i);

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(jint(s, "key"), key);
	ck_assert_str_eq(jstr(s, kind), name);
	ck_assert_uint_eq(json_object_size(s), 2);
}

START_TEST(test_inspect_json_calls)
{
	json_t *j = inspect_json("gobpf_calls"), *progs, *maps, *p, *m;
	struct objfile *o = open_ok("iproute2_calls");

	ck_assert_str_eq(jstr(j, "layout"), "gobpf");
	ck_assert_str_eq(jstr(j, "loader"), "legacy");
	ck_assert_str_eq(jstr(j, "kern_version"), "current");
	ck_assert_uint_eq(strlen(jstr(j, "sha1")), 40);
	progs = json_object_get(j, "programs");
	ck_assert_uint_eq(json_array_size(progs), 2);
	for (size_t i = 0; i < 2; i++) {
		p = json_array_get(progs, i);
		ck_assert_int_eq(jint(p, "text_calls"), 1);
		ck_assert(json_is_false(json_object_get(p, "tail_call")));
		ck_assert_str_eq(jstr(p, "section_type"), "socket_filter");
	}
	/* gobpf's prog array is filled by its users, not by the loader. */
	m = json_array_get(json_object_get(j, "maps"), 1);
	ck_assert_str_eq(jstr(m, "name"), "jmp");
	ck_assert(json_is_array(json_object_get(m, "slots")));
	ck_assert_uint_eq(json_array_size(json_object_get(m, "slots")), 0);
	json_decref(j);

	j = inspect_json("iproute2_calls");
	ck_assert_str_eq(jstr(j, "loader"), "legacy");
	ck_assert_str_eq(jstr(j, "sha1"), o->sha1);
	ck_assert(json_is_null(json_object_get(j, "kern_version")));
	maps = json_object_get(j, "maps");
	m = json_array_get(maps, 0);
	ck_assert_str_eq(jstr(m, "name"), "jmp");
	ck_assert_uint_eq(json_array_size(json_object_get(m, "slots")), 2);
	check_json_slot(json_object_get(m, "slots"), 0, 0, "program", "cls_tail0");
	check_json_slot(json_object_get(m, "slots"), 1, 1, "program", "cls_tail1");
	m = json_array_get(maps, 2);
	ck_assert_str_eq(jstr(m, "name"), "outer");
	ck_assert_uint_eq(json_array_size(json_object_get(m, "slots")), 1);
	check_json_slot(json_object_get(m, "slots"), 0, 0, "map", "inner");
	ck_assert(json_is_null(json_object_get(m, "inner"))); /* BTF's definition, not iproute2's */
	m = json_array_get(maps, 3);
	ck_assert_str_eq(jstr(m, "name"), "events");
	ck_assert_int_eq(jint(m, "max_entries"), possible_cpus());
	progs = json_object_get(j, "programs");
	p = json_array_get(progs, 0);
	ck_assert_str_eq(jstr(p, "section"), "ingress");
	ck_assert_str_eq(jstr(p, "type"), "sched_cls");
	ck_assert(json_is_null(json_object_get(p, "section_type")));
	ck_assert(json_is_false(json_object_get(p, "tail_call")));
	ck_assert_int_eq(jint(p, "text_calls"), 1);
	ck_assert_int_eq(jint(p, "insns"), (json_int_t)prog_ok(o, "cls_ingress")->n_insns);
	ck_assert_int_eq(jint(p, "map_relocations"), 6);
	p = json_array_get(progs, 2);
	ck_assert_str_eq(jstr(p, "section"), "1/1");
	ck_assert(json_is_true(json_object_get(p, "tail_call")));
	json_decref(j);
	objfile_free(o);
}
END_TEST

START_TEST(test_inspect_json_libbpf)
{
	json_t *j = inspect_json("libbpf_mim"), *m, *inner, *slots, *p;

	ck_assert_str_eq(jstr(j, "layout"), "btf");
	ck_assert_str_eq(jstr(j, "loader"), "libbpf");
	ck_assert(json_is_null(json_object_get(j, "kern_version")));
	ck_assert_uint_eq(json_array_size(json_object_get(j, "maps")), 4);
	for (size_t i = 0; i < 4; i++) {
		m = json_array_get(json_object_get(j, "maps"), i);
		if (strcmp(jstr(m, "name"), "outer") == 0)
			break;
		m = NULL;
	}
	ck_assert_ptr_nonnull(m);
	inner = json_object_get(m, "inner");
	ck_assert(json_is_object(inner));
	ck_assert_str_eq(jstr(inner, "type"), "array");
	ck_assert_int_eq(jint(inner, "key_size"), 4);
	ck_assert_int_eq(jint(inner, "value_size"), 4);
	ck_assert_int_eq(jint(inner, "max_entries"), 1);
	ck_assert(json_is_null(json_object_get(m, "inner_map")));
	slots = json_object_get(m, "slots");
	ck_assert_uint_eq(json_array_size(slots), 2);
	check_json_slot(slots, 0, 0, "map", "inner_a");
	check_json_slot(slots, 1, 1, "map", "inner_b");
	for (size_t i = 0; i < 4; i++) {
		m = json_array_get(json_object_get(j, "maps"), i);
		if (strcmp(jstr(m, "name"), "jmp_table") == 0)
			break;
		m = NULL;
	}
	ck_assert_ptr_nonnull(m);
	ck_assert(json_is_null(json_object_get(m, "inner")));
	ck_assert_uint_eq(json_array_size(json_object_get(m, "slots")), 1);
	check_json_slot(json_object_get(m, "slots"), 0, 0, "program", "tail_prog");
	p = json_array_get(json_object_get(j, "programs"), 1);
	ck_assert_str_eq(jstr(p, "name"), "main_prog");
	ck_assert_int_eq(jint(p, "elf_relocations"), 2);
	ck_assert_int_eq(jint(p, "text_calls"), 0);
	json_decref(j);

	j = inspect_json("libbpf_minimal");
	ck_assert_str_eq(jstr(j, "layout"), "none");
	ck_assert_str_eq(jstr(j, "loader"), "libbpf");
	p = json_array_get(json_object_get(j, "programs"), 0);
	ck_assert_str_eq(jstr(p, "type"), "tracepoint");
	ck_assert_str_eq(jstr(p, "section_type"), "tracepoint");
	ck_assert_int_ge(jint(p, "elf_relocations"), 1);
	json_decref(j);
}
END_TEST

Suite *objfile_suite(void)
{
	Suite *s = suite_create("objfile");
	TCase *tc = tcase_create("read");
	TCase *bad = tcase_create("reject");
	TCase *rep = tcase_create("report");

	tcase_add_test(tc, test_gobpf);
	tcase_add_test(tc, test_iproute2);
	tcase_add_test(tc, test_iproute2_short_records);
	tcase_add_test(tc, test_btf);
	tcase_add_test(tc, test_none);
	tcase_add_test(tc, test_layout_names);
	tcase_add_test(tc, test_example_objects);
	tcase_add_test(tc, test_gobpf_calls);
	tcase_add_test(tc, test_kern_version);
	tcase_add_test(tc, test_gobpf_em_none);
	tcase_add_test(tc, test_iproute2_calls);
	tcase_add_test(tc, test_iproute2_inner_slot);
	tcase_add_test(tc, test_libbpf_minimal);
	tcase_add_test(tc, test_libbpf_mim);
	tcase_add_test(tc, test_libbpf_perf);
	tcase_add_test(tc, test_libbpf_ingress_set_type);
	tcase_add_test(tc, test_libbpf_tc_core);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(bad, bad_setup, bad_teardown);
	tcase_add_test(bad, test_reject_not_elf);
	tcase_add_test(bad, test_reject_fd_limit);
	tcase_add_test(bad, test_reject_truncated);
	tcase_add_test(bad, test_reject_header);
	tcase_add_test(bad, test_reject_section_headers);
	tcase_add_test(bad, test_reject_gobpf);
	tcase_add_test(bad, test_reject_iproute2);
	tcase_add_test(bad, test_reject_btf);
	tcase_add_test(bad, test_reject_arena);
	suite_add_tcase(s, bad);

	tcase_add_test(rep, test_inspect_json_gobpf);
	tcase_add_test(rep, test_inspect_json_iproute2);
	tcase_add_test(rep, test_inspect_json_btf_none);
	tcase_add_test(rep, test_inspect_text);
	tcase_add_test(rep, test_inspect_text_calls);
	tcase_add_test(rep, test_inspect_text_libbpf);
	tcase_add_test(rep, test_inspect_json_calls);
	tcase_add_test(rep, test_inspect_json_libbpf);
	suite_add_tcase(s, rep);
	return s;
}
