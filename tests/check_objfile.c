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
#include <sys/stat.h>
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
	const char *maps[6]; /* map of each relocation in order; NULL-terminated */
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

/* Turns every `int (*)[1]` into `[5]`, pinning included: well-formed BTF
 * that libbpf itself refuses ("invalid pinning value"). */
static void patch_btf_pinning(unsigned char *b)
{
	const Elf64_Shdr *sh = shdr_at(b, find_sec(b, ".BTF"));
	unsigned char *hdr = b + sh->sh_offset, *t, *end;
	uint32_t hdr_len, type_off, type_len, info, nelems, five = 5;
	int patched = 0;

	memcpy(&hdr_len, hdr + 4, 4);
	memcpy(&type_off, hdr + 8, 4);
	memcpy(&type_len, hdr + 12, 4);
	t = hdr + hdr_len + type_off;
	end = t + type_len;
	while (t < end) {
		unsigned kind, vlen;

		memcpy(&info, t + 4, 4);
		kind = (info >> 24) & 0x1f;
		vlen = info & 0xffff;
		ck_assert_uint_lt(kind, 20);
		t += 12;
		if (kind == 3) { /* array: type, index_type, nelems */
			memcpy(&nelems, t + 8, 4);
			if (nelems == 1) {
				memcpy(t + 8, &five, 4);
				patched++;
			}
			t += 12;
		} else if (kind == 4 || kind == 5 || kind == 15 || kind == 19) {
			t += 12 * vlen; /* members, var_secinfos, enum64 values */
		} else if (kind == 1 || kind == 14 || kind == 17) {
			t += 4; /* int encoding, var linkage, decl_tag index */
		} else if (kind == 6 || kind == 13) {
			t += 8 * vlen; /* enum values, func_proto params */
		}
	}
	ck_assert_int_gt(patched, 0);
}

START_TEST(test_reject_btf)
{
	reject_patched("btf", "btf-magic.o", patch_btf_magic, "'.BTF' is malformed");
	reject_patched("btf", "btf-dangling.o", patch_btf_dangling, "type 1 is malformed");
	reject_patched("btf", "btf-pinning.o", patch_btf_pinning, "libbpf cannot read");
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

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(report_inspect(o, f, true), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(text[len - 1], '\n');
	j = json_loads(text, 0, &err);
	ck_assert_msg(j != NULL, "invalid JSON at line %d: %s", err.line, err.text);
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
	ck_assert_int_eq(report_inspect(o, f, false), 0);
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
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(bad, bad_setup, bad_teardown);
	tcase_add_test(bad, test_reject_not_elf);
	tcase_add_test(bad, test_reject_truncated);
	tcase_add_test(bad, test_reject_header);
	tcase_add_test(bad, test_reject_section_headers);
	tcase_add_test(bad, test_reject_gobpf);
	tcase_add_test(bad, test_reject_iproute2);
	tcase_add_test(bad, test_reject_btf);
	suite_add_tcase(s, bad);

	tcase_add_test(rep, test_inspect_json_gobpf);
	tcase_add_test(rep, test_inspect_json_iproute2);
	tcase_add_test(rep, test_inspect_json_btf_none);
	tcase_add_test(rep, test_inspect_text);
	suite_add_tcase(s, rep);
	return s;
}
