// SPDX-License-Identifier: MIT
/* objfile: the ELF-object stage of the pipeline.  Reads an object into memory,
 * checks every header, section, symbol and relocation against the file's
 * bounds, and turns what it declares (maps with their pinning, programs with
 * their map relocations) into a struct objfile.  Nothing here loads anything. */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <nettle/sha1.h>
#include <nettle/sha2.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "escape.h"
#include "cleanup.h"
#include "input.h"
#include "objfile.h"

/* gobpf's bpf_map_def: six 32-bit words and a 256-byte namespace.  gobpf
 * itself only ever emits exactly this size, so any other size is a sign of a
 * different (or broken) layout rather than an older version of it. */
#define GOBPF_REC_SIZE 280
#define GOBPF_NS_OFF 24
#define GOBPF_NS_SIZE 256
#define GOBPF_PIN_MAX 3

/* iproute2's bpf_elf_map is nine 32-bit words; older objects have shorter
 * records (missing fields read as 0).  Records up to 64 bytes are accepted as
 * long as the fields we do not know are zero, so that a newer layout with an
 * unused extension still reads, but one that uses it is not misread. */
#define IPROUTE2_REC_FULL 36
#define IPROUTE2_REC_MIN 16
#define IPROUTE2_REC_MAX 64
#define IPROUTE2_PIN_GLOBAL 2

/* Far above any real BPF object; keeps a hostile file from costing memory. */
#define OBJFILE_MAX_SIZE (256u << 20)

/* enum libbpf_pin_type, which only the BPF-side bpf_helpers.h defines. */
#define BTF_MAPS_PIN_NONE 0
#define BTF_MAPS_PIN_BY_NAME 1

#define INSN_SIZE sizeof(struct bpf_insn)
#define LD_IMM64 (BPF_LD | BPF_IMM | BPF_DW)

/* Everything one open needs; the objfile being built is o. */
struct reader {
	const char *path;
	struct diag *d;
	struct diag_loc loc;
	char *buf;
	size_t size;
	Elf *elf;
	size_t shnum;
	GElf_Shdr *shdrs;
	const char **secnames;
	size_t symtab;  /* section index of .symtab, 0 when there is none */
	size_t strtab;
	Elf_Data *symdata;
	size_t n_syms;
	int *sec_map;  /* gobpf: section index -> map index, else -1 */
	int *sec_prog; /* section index -> program index, else -1 */
	size_t maps_shndx; /* iproute2: the `maps` section */
	size_t rec_size;   /* iproute2: bytes per record */
	size_t text_shndx; /* legacy: `.text`, the subprograms programs call; 0 if none */
	struct objfile_prog text;
	struct call {
		struct objfile_prog *prog; /* NULL: in `.text` itself */
		size_t insn;
		size_t target; /* instruction index in `.text` */
	} *calls;
	size_t n_calls;
	struct objfile *o;
};

__attribute__((format(printf, 2, 3))) static int rd_error(struct reader *r, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	return diag_error(r->d, &r->loc, "%s", n < 0 ? "invalid BPF object" : msg);
}

static uint32_t get_u32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

const char *objfile_layout_str(enum objfile_layout l)
{
	static const char *const names[] = {
		[OBJFILE_LAYOUT_NONE] = "none",
		[OBJFILE_LAYOUT_GOBPF] = "gobpf",
		[OBJFILE_LAYOUT_IPROUTE2] = "iproute2",
		[OBJFILE_LAYOUT_BTF] = "btf",
	};

	if ((unsigned)l >= OBJFILE_LAYOUT_MAX)
		return NULL;
	return names[l];
}

static void map_done(struct objfile_map *m)
{
	free(m->name);
	free(m->section);
	free(m->namespace);
	free(m->slots);
}

static void prog_done(struct objfile_prog *p)
{
	free(p->section);
	free(p->name);
	free(p->insns);
	free(p->relocs);
	free(p->uses);
}

void objfile_free(struct objfile *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->n_maps; i++)
		map_done(&o->maps[i]);
	for (size_t i = 0; i < o->n_progs; i++)
		prog_done(&o->progs[i]);
	free(o->maps);
	free(o->progs);
	free(o->path);
	free(o->license);
	free(o->bytes);
	free(o->btf);
	free(o);
}

DEFINE_FREE_FUNC(struct objfile, objfile_free)

static int read_whole_file(struct reader *r)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int err;

	fd = input_open(r->path, r->d, &r->loc, "cannot open", &st);
	if (fd < 0)
		return fd;
	if ((uint64_t)st.st_size > OBJFILE_MAX_SIZE)
		return rd_error(r, "file too large for a BPF object (%lld bytes)",
				(long long)st.st_size);
	err = input_read(fd, (size_t)st.st_size, OBJFILE_MAX_SIZE, &r->buf, &r->size);
	if (err == -EFBIG)
		return rd_error(r, "file too large for a BPF object (grew past %u bytes)",
				OBJFILE_MAX_SIZE);
	if (err < 0 && err != -ENOMEM)
		diag_error(r->d, &r->loc, "cannot read: %s", strerror(-err));
	return err;
}

/* The machines an object given by mistake is most likely built for: a
 * name says "built for x86-64" where a number leaves the reader to look it
 * up.  Names as binutils' readelf prints them, shortened. */
static const char *machine_str(unsigned m)
{
	static const char *const names[] = {
		[EM_386] = "i386",	     [EM_MIPS] = "MIPS",
		[EM_PPC] = "PowerPC",	  [EM_PPC64] = "PowerPC64", [EM_S390] = "s390",
		[EM_ARM] = "ARM",	  [EM_SPARCV9] = "SPARC v9", [EM_IA_64] = "IA-64",
		[EM_X86_64] = "x86-64",	  [EM_AARCH64] = "AArch64", [EM_RISCV] = "RISC-V",
		[EM_BPF] = "BPF",	  [EM_LOONGARCH] = "LoongArch",
	};

	return m < sizeof(names) / sizeof(*names) ? names[m] : NULL;
}

/* The ELF header by hand before libelf sees the file, so that the message
 * says what is wrong in the user's terms. */
static int check_ehdr(struct reader *r)
{
	Elf64_Ehdr eh;

	if (r->size < SELFMAG || memcmp(r->buf, ELFMAG, SELFMAG) != 0)
		return rd_error(r, "not an ELF file");
	if (r->size < sizeof(eh))
		return rd_error(r, "truncated ELF header (%zu bytes)", r->size);
	memcpy(&eh, r->buf, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64)
		return rd_error(r, "not a 64-bit ELF file (BPF objects are ELF64)");
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return rd_error(r, "not a little-endian ELF file");
	/* Old LLVM wrote EM_NONE; gobpf, iproute2 and libbpf all take it. */
	if (eh.e_machine != EM_BPF && eh.e_machine != EM_NONE)
		return machine_str(eh.e_machine)
			       ? rd_error(r, "not a BPF object: ELF machine %s (%u), not BPF (%u)",
					  machine_str(eh.e_machine), eh.e_machine, EM_BPF)
			       : rd_error(r, "not a BPF object: ELF machine %u, not BPF (%u)",
					  eh.e_machine, EM_BPF);
	if (eh.e_type != ET_REL)
		return rd_error(r, "not a relocatable object (ELF type %u)", eh.e_type);
	if (eh.e_shoff == 0)
		return rd_error(r, "no section header table");
	if (eh.e_shentsize != sizeof(Elf64_Shdr))
		return rd_error(r, "section header size %u, expected %zu", eh.e_shentsize,
				sizeof(Elf64_Shdr));
	/* e_shnum == 0 means the count is in section 0; checked after libelf. */
	if (eh.e_shoff > r->size || sizeof(Elf64_Shdr) > r->size - eh.e_shoff ||
	    (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr) > r->size - eh.e_shoff)
		return rd_error(r, "truncated: section header table at offset %llu lies outside "
				   "the file (%zu bytes)",
				(unsigned long long)eh.e_shoff, r->size);
	return 0;
}

static int load_sections(struct reader *r)
{
	GElf_Ehdr eh;
	size_t shstrndx;

	elf_version(EV_CURRENT);
	r->elf = elf_memory(r->buf, r->size);
	if (!r->elf || elf_kind(r->elf) != ELF_K_ELF || !gelf_getehdr(r->elf, &eh))
		return rd_error(r, "not a valid ELF file: %s", elf_errmsg(-1));
	if (elf_getshdrnum(r->elf, &r->shnum) < 0 || elf_getshdrstrndx(r->elf, &shstrndx) < 0)
		return rd_error(r, "malformed section header table: %s", elf_errmsg(-1));
	if (r->shnum == 0 || eh.e_shoff > r->size ||
	    r->shnum > (r->size - eh.e_shoff) / sizeof(Elf64_Shdr))
		return rd_error(r, "truncated: %zu section headers do not fit in the file",
				r->shnum);
	if (shstrndx == 0 || shstrndx >= r->shnum)
		return rd_error(r, "section name table index %zu out of range", shstrndx);

	r->shdrs = calloc(r->shnum, sizeof(*r->shdrs));
	r->secnames = calloc(r->shnum, sizeof(*r->secnames));
	r->sec_map = malloc(r->shnum * sizeof(*r->sec_map));
	r->sec_prog = malloc(r->shnum * sizeof(*r->sec_prog));
	if (!r->shdrs || !r->secnames || !r->sec_map || !r->sec_prog)
		return -ENOMEM;

	for (size_t i = 0; i < r->shnum; i++) {
		GElf_Shdr *sh = &r->shdrs[i];
		Elf_Scn *scn = elf_getscn(r->elf, i);

		r->sec_map[i] = -1;
		r->sec_prog[i] = -1;
		if (!scn || !gelf_getshdr(scn, sh))
			return rd_error(r, "section %zu: unreadable header: %s", i, elf_errmsg(-1));
		if (i == 0) {
			r->secnames[i] = "";
			continue;
		}
		if (sh->sh_type != SHT_NOBITS &&
		    (sh->sh_offset > r->size || sh->sh_size > r->size - sh->sh_offset))
			return rd_error(r, "section %zu: offset %llu size %llu lies outside the file "
					   "(%zu bytes)",
					i, (unsigned long long)sh->sh_offset,
					(unsigned long long)sh->sh_size, r->size);
	}
	/* Names only once the string table's own header is known to be sane. */
	if (r->shdrs[shstrndx].sh_type != SHT_STRTAB)
		return rd_error(r, "section name table %zu is not a string table", shstrndx);
	for (size_t i = 1; i < r->shnum; i++) {
		r->secnames[i] = elf_strptr(r->elf, shstrndx, r->shdrs[i].sh_name);
		if (!r->secnames[i])
			return rd_error(r, "section %zu: name offset %u is outside the name table", i,
					r->shdrs[i].sh_name);
	}
	return 0;
}

static const char *sym_name(struct reader *r, const GElf_Sym *sym)
{
	return elf_strptr(r->elf, r->strtab, sym->st_name);
}

/* Every symbol that names a place in a section must lie inside it: later
 * stages index records and instructions by st_value without checking again. */
static int load_symbols(struct reader *r)
{
	for (size_t i = 1; i < r->shnum; i++) {
		if (r->shdrs[i].sh_type != SHT_SYMTAB)
			continue;
		if (r->symtab)
			return rd_error(r, "more than one symbol table");
		r->symtab = i;
	}
	if (!r->symtab)
		return 0;

	const GElf_Shdr *sh = &r->shdrs[r->symtab];

	if (sh->sh_entsize != sizeof(Elf64_Sym) || sh->sh_size % sizeof(Elf64_Sym))
		return rd_error(r, "symbol table: entry size %llu, size %llu",
				(unsigned long long)sh->sh_entsize,
				(unsigned long long)sh->sh_size);
	if (sh->sh_link == 0 || sh->sh_link >= r->shnum ||
	    r->shdrs[sh->sh_link].sh_type != SHT_STRTAB)
		return rd_error(r, "symbol table: string table %u is not a string table",
				sh->sh_link);
	r->strtab = sh->sh_link;
	r->symdata = elf_getdata(elf_getscn(r->elf, r->symtab), NULL);
	if (!r->symdata || r->symdata->d_size != sh->sh_size)
		return rd_error(r, "symbol table: unreadable: %s", elf_errmsg(-1));
	r->n_syms = sh->sh_size / sizeof(Elf64_Sym);

	for (size_t i = 1; i < r->n_syms; i++) {
		GElf_Sym sym;
		const char *name;
		const GElf_Shdr *target;
		int type;

		if (!gelf_getsym(r->symdata, (int)i, &sym))
			return rd_error(r, "symbol %zu: unreadable: %s", i, elf_errmsg(-1));
		name = sym_name(r, &sym);
		if (!name)
			return rd_error(r, "symbol %zu: name offset %u is outside the string table",
					i, sym.st_name);
		type = GELF_ST_TYPE(sym.st_info);
		/* libbpf 1.1 takes a variable's offset from the data symbol of
		 * its name, whatever its section (btf_fixup_datasec), cuts it
		 * to 32 bits and checks it with a sum that wraps: a '.struct_ops'
		 * variable at 0xffffffff made it copy from far outside the
		 * section.  Data and code lie in a section, at no offset when
		 * undefined. */
		if ((type == STT_OBJECT || type == STT_FUNC) &&
		    (sym.st_shndx >= SHN_LORESERVE || (sym.st_shndx == SHN_UNDEF && sym.st_value)))
			return rd_error(r, "symbol '%s': offset %llu in section index %#x, which is "
					   "no section",
					name, (unsigned long long)sym.st_value, sym.st_shndx);
		if (sym.st_shndx == SHN_UNDEF || sym.st_shndx >= SHN_LORESERVE)
			continue;
		if (sym.st_shndx >= r->shnum)
			return rd_error(r, "symbol '%s': section index %u out of range", name,
					sym.st_shndx);
		if (type == STT_SECTION || type == STT_FILE)
			continue;
		target = &r->shdrs[sym.st_shndx];
		if (sym.st_value > target->sh_size || sym.st_size > target->sh_size - sym.st_value)
			return rd_error(r, "symbol '%s' (offset %llu, size %llu) lies outside section "
					   "'%s' (%llu bytes)",
					name, (unsigned long long)sym.st_value,
					(unsigned long long)sym.st_size, r->secnames[sym.st_shndx],
					(unsigned long long)target->sh_size);
	}
	return 0;
}

/* The bytes of a section that must hold data (not SHT_NOBITS). */
static int section_bytes(struct reader *r, size_t idx, const unsigned char **ret)
{
	const GElf_Shdr *sh = &r->shdrs[idx];

	if (sh->sh_type != SHT_PROGBITS)
		return rd_error(r, "section '%s': expected data (PROGBITS), found type %u",
				r->secnames[idx], sh->sh_type);
	*ret = (const unsigned char *)r->buf + sh->sh_offset;
	return 0;
}

static int detect_layout(struct reader *r)
{
	bool gobpf = false, iproute2 = false, btf = false;

	for (size_t i = 1; i < r->shnum; i++) {
		const char *n = r->secnames[i];

		if (strncmp(n, "maps/", 5) == 0)
			gobpf = true;
		else if (strcmp(n, "maps") == 0)
			iproute2 = true;
		else if (strcmp(n, ".maps") == 0)
			btf = true;
	}
	if (gobpf + iproute2 + btf > 1)
		return rd_error(r, "mixes map layouts (%s%s%s): libbpf 1.x refuses legacy map "
				   "sections and the legacy loaders never read '.maps', so no loader "
				   "takes both; declare every map in one layout",
				gobpf ? "gobpf 'maps/NAME' " : "", iproute2 ? "iproute2 'maps' " : "",
				btf ? "BTF '.maps'" : "");
	if (gobpf)
		r->o->layout = OBJFILE_LAYOUT_GOBPF;
	else if (iproute2)
		r->o->layout = OBJFILE_LAYOUT_IPROUTE2;
	else if (btf)
		r->o->layout = OBJFILE_LAYOUT_BTF;
	else
		r->o->layout = OBJFILE_LAYOUT_NONE;
	return 0;
}

static int read_license_version(struct reader *r)
{
	for (size_t i = 1; i < r->shnum; i++) {
		const unsigned char *p = NULL;
		size_t size = r->shdrs[i].sh_size;
		int err;

		if (strcmp(r->secnames[i], "license") == 0) {
			err = section_bytes(r, i, &p);
			if (err < 0)
				return err;
			if (!memchr(p, '\0', size))
				return rd_error(r, "section 'license' is not a NUL-terminated string");
			free(r->o->license);
			r->o->license = strdup((const char *)p);
			if (!r->o->license)
				return -ENOMEM;
		} else if (strcmp(r->secnames[i], "version") == 0) {
			err = section_bytes(r, i, &p);
			if (err < 0)
				return err;
			if (size != sizeof(uint32_t))
				return rd_error(r, "section 'version': size %zu, expected 4", size);
			r->o->kern_version = get_u32(p);
			r->o->has_kern_version = true;
		}
	}
	return 0;
}

static struct objfile_map *add_map(struct reader *r)
{
	struct objfile *o = r->o;
	struct objfile_map *maps = realloc(o->maps, (o->n_maps + 1) * sizeof(*maps));

	if (!maps)
		return NULL;
	o->maps = maps;
	maps[o->n_maps] = (struct objfile_map){ .inner_map = -1 };
	return &maps[o->n_maps++];
}

bool objfile_is_map_in_map(uint32_t type)
{
	return type == BPF_MAP_TYPE_ARRAY_OF_MAPS || type == BPF_MAP_TYPE_HASH_OF_MAPS;
}

static int add_slot(struct reader *r, struct objfile_map *m, uint32_t key, bool is_prog,
		    size_t index)
{
	struct objfile_slot *slots;

	for (size_t i = 0; i < m->n_slots; i++)
		if (m->slots[i].key == key)
			return rd_error(r, "map '%s': slot %" PRIu32 " is filled twice", m->name, key);
	if (key >= m->max_entries)
		return rd_error(r, "map '%s': slot %" PRIu32 " lies beyond its max_entries %" PRIu32,
				m->name, key, m->max_entries);
	slots = realloc(m->slots, (m->n_slots + 1) * sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	m->slots = slots;
	slots[m->n_slots++] = (struct objfile_slot){ .key = key, .is_prog = is_prog, .index = index };
	return 0;
}

/* libbpf sizes a perf event array declared with max_entries 0 to the
 * possible CPUs when it loads; legacy objects get the same, so that the
 * pinned map compares equal to what the ELF asks for. */
static int size_perf_arrays(struct reader *r)
{
	int cpus = -1;

	for (size_t i = 0; i < r->o->n_maps; i++) {
		struct objfile_map *m = &r->o->maps[i];

		if (m->type != BPF_MAP_TYPE_PERF_EVENT_ARRAY || m->max_entries)
			continue;
		if (cpus < 0)
			cpus = libbpf_num_possible_cpus();
		if (cpus <= 0)
			return rd_error(r, "map '%s': cannot count the possible CPUs to size it: %s",
					m->name, strerror(cpus ? -cpus : EINVAL));
		m->max_entries = (uint32_t)cpus;
	}
	return 0;
}

static int check_unique_map_names(struct reader *r)
{
	for (size_t i = 0; i < r->o->n_maps; i++)
		for (size_t j = i + 1; j < r->o->n_maps; j++)
			if (strcmp(r->o->maps[i].name, r->o->maps[j].name) == 0)
				return rd_error(r, "map '%s' is declared twice", r->o->maps[i].name);
	return 0;
}

static int read_gobpf_maps(struct reader *r)
{
	for (size_t i = 1; i < r->shnum; i++) {
		const char *sec = r->secnames[i];
		const unsigned char *p = NULL;
		struct objfile_map *m;
		size_t size = r->shdrs[i].sh_size;
		int err;

		if (strncmp(sec, "maps/", 5) != 0)
			continue;
		if (sec[5] == '\0')
			return rd_error(r, "section 'maps/' has no map name");
		err = section_bytes(r, i, &p);
		if (err < 0)
			return err;
		if (size != GOBPF_REC_SIZE)
			return rd_error(r, "section '%s': size %zu, gobpf map records are %d bytes",
					sec, size, GOBPF_REC_SIZE);
		if (!memchr(p + GOBPF_NS_OFF, '\0', GOBPF_NS_SIZE))
			return rd_error(r, "section '%s': namespace is not NUL-terminated", sec);
		if (get_u32(p + 20) > GOBPF_PIN_MAX)
			return rd_error(r, "section '%s': unknown pinning value %u (0..3 allowed)",
					sec, get_u32(p + 20));

		m = add_map(r);
		if (!m)
			return -ENOMEM;
		m->type = get_u32(p);
		m->key_size = get_u32(p + 4);
		m->value_size = get_u32(p + 8);
		m->max_entries = get_u32(p + 12);
		m->flags = get_u32(p + 16);
		m->pinning_raw = get_u32(p + 20);
		/* gobpf's PIN_NONE/OBJECT_NS/GLOBAL_NS/CUSTOM_NS are our modes in order. */
		m->pinning = (enum pin_mode)m->pinning_raw;
		m->name = strdup(sec + 5);
		m->section = strdup(sec);
		if (p[GOBPF_NS_OFF] != '\0')
			m->namespace = strdup((const char *)p + GOBPF_NS_OFF);
		if (!m->name || !m->section || (p[GOBPF_NS_OFF] && !m->namespace))
			return -ENOMEM;
		r->sec_map[i] = (int)(r->o->n_maps - 1);
	}
	return check_unique_map_names(r) ?: size_perf_arrays(r);
}

/* A symbol that names an iproute2 record: data or untyped, with a name. */
static bool is_record_symbol(struct reader *r, const GElf_Sym *sym, size_t shndx)
{
	int type = GELF_ST_TYPE(sym->st_info);
	const char *name;

	if (sym->st_shndx != shndx || (type != STT_OBJECT && type != STT_NOTYPE))
		return false;
	name = sym_name(r, sym);
	return name && *name;
}

static int read_iproute2_maps(struct reader *r)
{
	size_t shndx = 0, size, n_recs = 0, rs;
	const unsigned char *p = NULL;
	const char **names = NULL;
	int err;

	for (size_t i = 1; i < r->shnum; i++)
		if (strcmp(r->secnames[i], "maps") == 0) {
			if (shndx)
				return rd_error(r, "more than one 'maps' section");
			shndx = i;
		}
	r->maps_shndx = shndx;
	err = section_bytes(r, shndx, &p);
	if (err < 0)
		return err;
	size = r->shdrs[shndx].sh_size;

	for (size_t i = 1; i < r->n_syms; i++) {
		GElf_Sym sym;

		if (gelf_getsym(r->symdata, (int)i, &sym) && is_record_symbol(r, &sym, shndx))
			n_recs++;
	}
	if (n_recs == 0) {
		if (size == 0)
			return 0;
		return rd_error(r, "section 'maps': %zu bytes but no symbols name its records",
				size);
	}
	/* iproute2 derives the record size the same way: the section is an array
	 * with one symbol per element. */
	if (size % n_recs)
		return rd_error(r, "section 'maps': size %zu does not divide into %zu records", size,
				n_recs);
	rs = size / n_recs;
	if (rs < IPROUTE2_REC_MIN || rs > IPROUTE2_REC_MAX || rs % 4)
		return rd_error(r, "section 'maps': record size %zu (%zu bytes / %zu symbols) is "
				   "not a multiple of 4 in %d..%d",
				rs, size, n_recs, IPROUTE2_REC_MIN, IPROUTE2_REC_MAX);
	r->rec_size = rs;

	names = calloc(n_recs, sizeof(*names));
	if (!names)
		return -ENOMEM;
	for (size_t i = 1; i < r->n_syms; i++) {
		GElf_Sym sym;
		size_t slot;

		if (!gelf_getsym(r->symdata, (int)i, &sym) || !is_record_symbol(r, &sym, shndx))
			continue;
		if (sym.st_value % rs) {
			err = rd_error(r, "map '%s': offset %llu in section 'maps' is not a multiple "
					  "of the record size %zu",
				       sym_name(r, &sym), (unsigned long long)sym.st_value, rs);
			goto out;
		}
		slot = sym.st_value / rs;
		if (slot >= n_recs) {
			err = rd_error(r, "map '%s': offset %llu lies outside section 'maps'",
				       sym_name(r, &sym), (unsigned long long)sym.st_value);
			goto out;
		}
		if (names[slot]) {
			err = rd_error(r, "maps '%s' and '%s' name the same record", names[slot],
				       sym_name(r, &sym));
			goto out;
		}
		names[slot] = sym_name(r, &sym);
	}

	for (size_t i = 0; i < n_recs; i++) {
		const unsigned char *rec = p + i * rs;
		uint32_t f[IPROUTE2_REC_FULL / 4] = { 0 };
		struct objfile_map *m;

		memcpy(f, rec, rs < sizeof(f) ? rs : sizeof(f));
		for (size_t b = IPROUTE2_REC_FULL; b < rs; b++)
			if (rec[b]) {
				err = rd_error(r, "map '%s': record has non-zero bytes past the %d "
						  "that iproute2 defines",
					       names[i], IPROUTE2_REC_FULL);
				goto out;
			}
		m = add_map(r);
		if (!m) {
			err = -ENOMEM;
			goto out;
		}
		m->type = f[0];
		m->key_size = f[1];
		m->value_size = f[2];
		m->max_entries = f[3];
		m->flags = f[4];
		m->id = f[5];
		m->pinning_raw = f[6];
		m->inner_id = f[7];
		m->inner_idx = f[8];
		if (m->pinning_raw <= IPROUTE2_PIN_GLOBAL) {
			m->pinning = (enum pin_mode)m->pinning_raw;
		} else {
			m->pinning = PIN_MODE_CUSTOM;
			m->pin_id = m->pinning_raw;
		}
		m->name = strdup(names[i]);
		m->section = strdup("maps");
		if (!m->name || !m->section) {
			err = -ENOMEM;
			goto out;
		}
	}

	for (size_t i = 0; i < r->o->n_maps; i++) {
		struct objfile_map *m = &r->o->maps[i];

		if (!m->inner_id)
			continue;
		for (size_t j = 0; j < r->o->n_maps; j++) {
			if (j == i || r->o->maps[j].id != m->inner_id)
				continue;
			if (m->inner_map >= 0) {
				err = rd_error(r, "map '%s': inner_id %u matches more than one map",
					       m->name, m->inner_id);
				goto out;
			}
			m->inner_map = (int)j;
		}
		if (m->inner_map < 0) {
			err = rd_error(r, "map '%s': inner_id %u matches no map's id", m->name,
				       m->inner_id);
			goto out;
		}
	}
	/* tc puts a map with an id (and no inner_id of its own) into every
	 * map-in-map whose inner_id names it, at its inner_idx; -1 opts out. */
	for (size_t i = 0; i < r->o->n_maps; i++) {
		const struct objfile_map *m = &r->o->maps[i];

		if (!m->id || m->inner_id || m->inner_idx == UINT32_MAX)
			continue;
		for (size_t j = 0; j < r->o->n_maps; j++) {
			if (!objfile_is_map_in_map(r->o->maps[j].type) ||
			    r->o->maps[j].inner_id != m->id)
				continue;
			err = add_slot(r, &r->o->maps[j], m->inner_idx, false, i);
			if (err < 0)
				goto out;
		}
	}
	err = check_unique_map_names(r) ?: size_perf_arrays(r);
out:
	free(names);
	return err;
}

/* libbpf knows "socket", "classifier"; legacy loaders matched by prefix, so
 * "socket/count" or "classifier/tail" falls back to the part before '/'. */
static void guess_prog_type(const char *sec, struct objfile_prog *p)
{
	enum bpf_prog_type type = BPF_PROG_TYPE_UNSPEC;
	enum bpf_attach_type attach = 0;
	const char *slash = strchr(sec, '/');

	if (libbpf_prog_type_by_name(sec, &type, &attach) < 0 && slash) {
		_cleanup_free_ char *prefix = strndup(sec, (size_t)(slash - sec));

		type = BPF_PROG_TYPE_UNSPEC;
		attach = 0;
		if (!prefix || libbpf_prog_type_by_name(prefix, &type, &attach) < 0) {
			type = BPF_PROG_TYPE_UNSPEC;
			attach = 0;
		}
	}
	p->elf_type = type;
	p->type = type;
	p->expected_attach = attach;
}

/* iproute2's tail-call sections are named ID/KEY: the program goes into
 * slot KEY of the prog array whose id is ID (numbers as sscanf's %i reads
 * them).  A name that does not parse, or names no map, is an ordinary
 * section, as tc treats it. */
static int tail_call_section(struct reader *r, const char *sec, size_t prog)
{
	unsigned long id, key;
	char *end;

	errno = 0;
	id = strtoul(sec, &end, 0);
	if (end == sec || *end != '/' || errno)
		return 0;
	sec = end + 1;
	key = strtoul(sec, &end, 0);
	if (end == sec || *end || errno || id > UINT32_MAX || key > UINT32_MAX)
		return 0;
	for (size_t i = 0; i < r->o->n_maps; i++) {
		struct objfile_map *m = &r->o->maps[i];

		if (m->id != id)
			continue;
		if (m->type != BPF_MAP_TYPE_PROG_ARRAY)
			return rd_error(r, "tail-call section '%s' names map '%s' (id %lu), which is "
					   "not a prog array",
					r->o->progs[prog].section, m->name, id);
		r->o->progs[prog].is_tail = true;
		return add_slot(r, m, (uint32_t)key, true, prog);
	}
	return 0;
}

static int add_use(struct objfile_prog *p, size_t map)
{
	size_t *uses;

	for (size_t i = 0; i < p->n_uses; i++)
		if (p->uses[i] == map)
			return 0;
	uses = realloc(p->uses, (p->n_uses + 1) * sizeof(*uses));
	if (!uses)
		return -ENOMEM;
	p->uses = uses;
	uses[p->n_uses++] = map;
	return 0;
}

static struct objfile_prog *add_prog(struct reader *r)
{
	struct objfile *o = r->o;
	struct objfile_prog *progs = realloc(o->progs, (o->n_progs + 1) * sizeof(*progs));

	if (!progs)
		return NULL;
	o->progs = progs;
	progs[o->n_progs] = (struct objfile_prog){ 0 };
	return &progs[o->n_progs++];
}

/* The function at the start of a section names its program; a global one
 * wins over a local one (clang emits both only for odd code). */
static const char *prog_symbol(struct reader *r, size_t shndx)
{
	const char *best = NULL;

	for (size_t i = 1; i < r->n_syms; i++) {
		GElf_Sym sym;
		const char *name;

		if (!gelf_getsym(r->symdata, (int)i, &sym) || sym.st_shndx != shndx ||
		    GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_value != 0)
			continue;
		name = sym_name(r, &sym);
		if (!name || !*name)
			continue;
		if (GELF_ST_BIND(sym.st_info) == STB_GLOBAL)
			return name;
		if (!best)
			best = name;
	}
	return best;
}

static int read_legacy_progs(struct reader *r)
{
	for (size_t i = 1; i < r->shnum; i++) {
		const GElf_Shdr *sh = &r->shdrs[i];
		const char *sec = r->secnames[i], *name;
		const unsigned char *p = NULL;
		struct objfile_prog *pr;
		int err;

		if (!(sh->sh_flags & SHF_EXECINSTR) || sh->sh_size == 0)
			continue;
		err = section_bytes(r, i, &p);
		if (err < 0)
			return err;
		if (sh->sh_size % INSN_SIZE)
			return rd_error(r, "program section '%s': size %llu is not a multiple of %zu",
					sec, (unsigned long long)sh->sh_size, INSN_SIZE);
		/* `.text` holds the subprograms that programs call; it is
		 * appended to each caller, as iproute2's loader does. */
		if (strcmp(sec, ".text") == 0) {
			if (r->text_shndx)
				return rd_error(r, "more than one '.text' section");
			r->text_shndx = i;
			r->text.section = strdup(sec);
			r->text.insns = malloc(sh->sh_size);
			if (!r->text.section || !r->text.insns)
				return -ENOMEM;
			memcpy(r->text.insns, p, sh->sh_size);
			r->text.n_insns = sh->sh_size / INSN_SIZE;
			continue;
		}
		pr = add_prog(r);
		if (!pr)
			return -ENOMEM;
		name = prog_symbol(r, i);
		pr->section = strdup(sec);
		pr->name = strdup(name ? name : sec);
		pr->n_insns = sh->sh_size / INSN_SIZE;
		pr->insns = malloc(sh->sh_size);
		if (!pr->section || !pr->name || !pr->insns)
			return -ENOMEM;
		memcpy(pr->insns, p, sh->sh_size);
		guess_prog_type(sec, pr);
		r->sec_prog[i] = (int)(r->o->n_progs - 1);
		if (r->o->layout != OBJFILE_LAYOUT_IPROUTE2)
			continue;
		/* tc decides the type from the command; `tc filter` loads sched_cls. */
		if (pr->type == BPF_PROG_TYPE_UNSPEC)
			pr->type = BPF_PROG_TYPE_SCHED_CLS;
		err = tail_call_section(r, sec, r->o->n_progs - 1);
		if (err < 0)
			return err;
	}
	return 0;
}

/* The map a relocation's symbol designates, or -1 when it is not a map. */
static int reloc_map(struct reader *r, const GElf_Sym *sym, const struct bpf_insn *insn,
		     const char *prog_sec, int *ret)
{
	const char *name = sym_name(r, sym);
	uint64_t off;

	*ret = -1;
	if (sym->st_shndx == SHN_UNDEF || sym->st_shndx >= r->shnum)
		return 0;
	if (r->sec_map[sym->st_shndx] >= 0) {
		*ret = r->sec_map[sym->st_shndx];
		return 0;
	}
	if (r->o->layout != OBJFILE_LAYOUT_IPROUTE2 || sym->st_shndx != r->maps_shndx)
		return 0;
	/* A section symbol carries the record's offset in the instruction. */
	off = sym->st_value;
	if (GELF_ST_TYPE(sym->st_info) == STT_SECTION)
		off += (uint32_t)insn->imm;
	if (!r->rec_size || off % r->rec_size || off / r->rec_size >= r->o->n_maps)
		return rd_error(r, "section '%s': relocation against '%s' offset %llu matches no "
				   "map record",
				prog_sec, name ? name : "?", (unsigned long long)off);
	*ret = (int)(off / r->rec_size);
	return 0;
}

/* A call into `.text`: which instruction of it the call lands on, as
 * libbpf computes it (the symbol's offset plus the call's own immediate). */
static int add_call(struct reader *r, struct objfile_prog *pr, const GElf_Sym *sym, size_t insn)
{
	const char *sec = pr->section;
	int64_t target = (int64_t)(sym->st_value / INSN_SIZE) + pr->insns[insn].imm + 1;
	struct call *calls;

	if (pr->insns[insn].code != (BPF_JMP | BPF_CALL) || pr->insns[insn].src_reg != BPF_PSEUDO_CALL)
		return rd_error(r, "section '%s': relocation into '.text' at instruction %zu, which "
				   "is not a BPF-to-BPF call (code 0x%02x)",
				sec, insn, pr->insns[insn].code);
	if (sym->st_value % INSN_SIZE || target < 0 || (uint64_t)target >= r->text.n_insns)
		return rd_error(r, "section '%s': the call at instruction %zu lands outside '.text'",
				sec, insn);
	calls = realloc(r->calls, (r->n_calls + 1) * sizeof(*calls));
	if (!calls)
		return -ENOMEM;
	r->calls = calls;
	calls[r->n_calls++] = (struct call){ .prog = pr == &r->text ? NULL : pr,
					     .insn = insn,
					     .target = (size_t)target };
	return 0;
}

static int read_relocs_of(struct reader *r, size_t rel_idx, struct objfile_prog *pr)
{
	const GElf_Shdr *sh = &r->shdrs[rel_idx];
	size_t target = sh->sh_info;
	const char *sec = r->secnames[target];
	Elf_Data *data;
	size_t n;

	if (sh->sh_entsize != sizeof(Elf64_Rel) || sh->sh_size % sizeof(Elf64_Rel))
		return rd_error(r, "relocation section '%s': entry size %llu, size %llu",
				r->secnames[rel_idx], (unsigned long long)sh->sh_entsize,
				(unsigned long long)sh->sh_size);
	if (sh->sh_link != r->symtab || !r->symtab)
		return rd_error(r, "relocation section '%s' does not use the symbol table",
				r->secnames[rel_idx]);
	data = elf_getdata(elf_getscn(r->elf, rel_idx), NULL);
	if (!data || data->d_size != sh->sh_size)
		return rd_error(r, "relocation section '%s': unreadable: %s", r->secnames[rel_idx],
				elf_errmsg(-1));
	n = sh->sh_size / sizeof(Elf64_Rel);

	for (size_t i = 0; i < n; i++) {
		GElf_Rel rel;
		GElf_Sym sym;
		size_t symi, insn;
		struct objfile_reloc *relocs;
		int map, err;

		if (!gelf_getrel(data, (int)i, &rel))
			return rd_error(r, "relocation section '%s': entry %zu unreadable",
					r->secnames[rel_idx], i);
		symi = GELF_R_SYM(rel.r_info);
		if (symi == 0 || symi >= r->n_syms || !gelf_getsym(r->symdata, (int)symi, &sym))
			return rd_error(r, "section '%s': relocation %zu refers to symbol %zu of %zu",
					sec, i, symi, r->n_syms);
		if (rel.r_offset % INSN_SIZE || rel.r_offset / INSN_SIZE >= pr->n_insns)
			return rd_error(r, "section '%s': relocation %zu at offset %llu is not an "
					   "instruction of the section",
					sec, i, (unsigned long long)rel.r_offset);
		insn = rel.r_offset / INSN_SIZE;
		if (r->text_shndx && sym.st_shndx == r->text_shndx) {
			err = add_call(r, pr, &sym, insn);
			if (err < 0)
				return err;
			continue;
		}
		err = reloc_map(r, &sym, &pr->insns[insn], sec, &map);
		if (err < 0)
			return err;
		if (map < 0)
			continue;
		if (pr->insns[insn].code != LD_IMM64 || insn + 1 >= pr->n_insns)
			return rd_error(r, "section '%s': instruction %zu refers to map '%s' but is "
					   "not a 64-bit immediate load (code 0x%02x)",
					sec, insn, r->o->maps[map].name, pr->insns[insn].code);
		relocs = realloc(pr->relocs, (pr->n_relocs + 1) * sizeof(*relocs));
		if (!relocs)
			return -ENOMEM;
		pr->relocs = relocs;
		relocs[pr->n_relocs++] = (struct objfile_reloc){ .insn = insn, .map = (size_t)map };
	}
	return 0;
}

/* Appends `.text` (with its own map relocations) to every program that
 * calls into it and points each call at its copy, as iproute2's loader
 * does; libbpf instead appends only the subprograms reached, which
 * gives the same program for the verifier when `.text` is all called. */
static int link_text(struct reader *r)
{
	const struct objfile_prog *t = &r->text;

	/* Calls within `.text` land in the same copy: relative as they are. */
	for (size_t i = 0; i < r->n_calls; i++)
		if (!r->calls[i].prog)
			r->text.insns[r->calls[i].insn].imm =
				(int32_t)((int64_t)r->calls[i].target - (int64_t)r->calls[i].insn - 1);
	for (size_t pi = 0; pi < r->o->n_progs; pi++) {
		struct objfile_prog *pr = &r->o->progs[pi];
		size_t base = pr->n_insns;
		struct bpf_insn *insns;
		struct objfile_reloc *relocs;

		for (size_t i = 0; i < r->n_calls; i++)
			if (r->calls[i].prog == pr)
				pr->n_calls++;
		if (!pr->n_calls)
			continue;
		insns = realloc(pr->insns, (base + t->n_insns) * INSN_SIZE);
		if (!insns)
			return -ENOMEM;
		pr->insns = insns;
		memcpy(insns + base, t->insns, t->n_insns * INSN_SIZE);
		pr->n_insns += t->n_insns;
		relocs = realloc(pr->relocs, (pr->n_relocs + t->n_relocs + 1) * sizeof(*relocs));
		if (!relocs)
			return -ENOMEM;
		pr->relocs = relocs;
		for (size_t i = 0; i < t->n_relocs; i++)
			relocs[pr->n_relocs++] = (struct objfile_reloc){ .insn = base + t->relocs[i].insn,
									 .map = t->relocs[i].map };
		for (size_t i = 0; i < r->n_calls; i++)
			if (r->calls[i].prog == pr)
				insns[r->calls[i].insn].imm = (int32_t)((int64_t)(base + r->calls[i].target) -
									(int64_t)r->calls[i].insn - 1);
	}
	for (size_t pi = 0; pi < r->o->n_progs; pi++)
		for (size_t i = 0; i < r->o->progs[pi].n_relocs; i++)
			if (add_use(&r->o->progs[pi], r->o->progs[pi].relocs[i].map) < 0)
				return -ENOMEM;
	return 0;
}

static int read_legacy_relocs(struct reader *r)
{
	for (size_t i = 1; i < r->shnum; i++) {
		const GElf_Shdr *sh = &r->shdrs[i];
		int err;

		if (sh->sh_type != SHT_REL && sh->sh_type != SHT_RELA)
			continue;
		if (sh->sh_info >= r->shnum)
			return rd_error(r, "relocation section '%s' applies to section %u of %zu",
					r->secnames[i], sh->sh_info, r->shnum);
		if (r->sec_prog[sh->sh_info] < 0 && (!r->text_shndx || sh->sh_info != r->text_shndx))
			continue;
		if (sh->sh_type == SHT_RELA)
			return rd_error(r, "section '%s': RELA relocations are not used by BPF",
					r->secnames[i]);
		err = read_relocs_of(r, i,
				     r->sec_prog[sh->sh_info] >= 0
					     ? &r->o->progs[r->sec_prog[sh->sh_info]]
					     : &r->text);
		if (err < 0)
			return err;
	}
	return link_text(r);
}

/* The struct that defines map_name in `.maps`: 0 and the type in *ret,
 * -ENOENT when there is no such variable, -EINVAL when it is no struct. */
static int maps_sec_def(const struct btf *btf, const char *map_name, const struct btf_type **ret)
{
	const struct btf_type *sec, *t;
	const struct btf_var_secinfo *vs;
	int id;

	id = btf__find_by_name_kind(btf, ".maps", BTF_KIND_DATASEC);
	if (id < 0)
		return -ENOENT;
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (unsigned i = 0; i < btf_vlen(sec); i++, vs++) {
		const char *vname;

		t = btf__type_by_id(btf, vs->type);
		if (!t || !btf_is_var(t))
			continue;
		vname = btf__name_by_offset(btf, t->name_off);
		if (!vname || strcmp(vname, map_name) != 0)
			continue;
		id = btf__resolve_type(btf, t->type);
		t = id < 0 ? NULL : btf__type_by_id(btf, id);
		if (!t || !btf_is_struct(t))
			return -EINVAL;
		*ret = t;
		return 0;
	}
	return -ENOENT;
}

/* Byte offset of the `values` member (the `.values` initialisers) of a map
 * definition, or -ENOENT. */
static long maps_values_offset(const struct btf *btf, const char *map_name)
{
	const struct btf_type *t = NULL;
	const struct btf_member *mb;

	if (maps_sec_def(btf, map_name, &t) < 0)
		return -ENOENT;
	mb = btf_members(t);
	for (unsigned j = 0; j < btf_vlen(t); j++, mb++) {
		const char *mname = btf__name_by_offset(btf, mb->name_off);

		if (mname && strcmp(mname, "values") == 0)
			return (long)(btf_member_bit_offset(t, j) / 8);
	}
	return -ENOENT;
}

/* libbpf parses `__uint(pinning, N)` into a field it does not export, so the
 * value is read where the compiler put it: `.maps` is a DATASEC of variables,
 * each a struct whose member "pinning" is a pointer to an array of N. */
static int maps_sec_pinning(const struct btf *btf, const char *map_name, uint32_t *ret)
{
	const struct btf_type *t = NULL;
	const struct btf_member *mb;
	int r = maps_sec_def(btf, map_name, &t);

	if (r < 0)
		return r;
	mb = btf_members(t);
	for (unsigned j = 0; j < btf_vlen(t); j++, mb++) {
		const char *mname = btf__name_by_offset(btf, mb->name_off);
		const struct btf_type *ptr, *arr;

		if (!mname || strcmp(mname, "pinning") != 0)
			continue;
		ptr = btf__type_by_id(btf, mb->type);
		if (!ptr || !btf_is_ptr(ptr))
			return -EINVAL;
		arr = btf__type_by_id(btf, ptr->type);
		if (!arr || !btf_is_array(arr))
			return -EINVAL;
		*ret = btf_array(arr)->nelems;
		return 0;
	}
	*ret = BTF_MAPS_PIN_NONE;
	return 0;
}

static size_t section_index(struct reader *r, const char *name)
{
	for (size_t i = 1; i < r->shnum; i++)
		if (strcmp(r->secnames[i], name) == 0)
			return i;
	return 0;
}

/* Counts every ELF relocation that applies to program p in section shndx
 * (a section may hold several programs), as libbpf processes them, and
 * notes the maps of `.maps` they name. */
static int read_elf_relocs(struct reader *r, size_t shndx, struct objfile_prog *p)
{
	const char *name = p->name;
	size_t maps_idx = section_index(r, ".maps");
	uint64_t lo = 0, hi = r->shdrs[shndx].sh_size;

	for (size_t i = 1; i < r->n_syms; i++) {
		GElf_Sym sym;
		const char *sname;

		if (!gelf_getsym(r->symdata, (int)i, &sym) || sym.st_shndx != shndx ||
		    GELF_ST_TYPE(sym.st_info) != STT_FUNC)
			continue;
		sname = sym_name(r, &sym);
		if (sname && strcmp(sname, name) == 0) {
			lo = sym.st_value;
			hi = sym.st_value + sym.st_size;
			break;
		}
	}
	for (size_t i = 1; i < r->shnum; i++) {
		const GElf_Shdr *sh = &r->shdrs[i];
		Elf_Data *data;

		if (sh->sh_type != SHT_REL || sh->sh_info != shndx ||
		    sh->sh_entsize != sizeof(Elf64_Rel))
			continue;
		data = elf_getdata(elf_getscn(r->elf, i), NULL);
		for (size_t k = 0; data && k < sh->sh_size / sizeof(Elf64_Rel); k++) {
			const struct objfile_map *m;
			const char *mname;
			GElf_Rel rel;
			GElf_Sym sym;

			if (!gelf_getrel(data, (int)k, &rel) || rel.r_offset < lo || rel.r_offset >= hi)
				continue;
			p->n_elf_relocs++;
			if (!maps_idx || !gelf_getsym(r->symdata, (int)GELF_R_SYM(rel.r_info), &sym) ||
			    sym.st_shndx != maps_idx || !(mname = sym_name(r, &sym)) ||
			    !(m = objfile_map_by_name(r->o, mname)))
				continue;
			if (add_use(p, (size_t)(m - r->o->maps)) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* The `.values` initialisers of BTF maps-in-maps and prog arrays, read from
 * the relocations of `.maps` as libbpf reads them: each points a slot of a
 * map's `values` array at another map or at a program. */
static int read_btf_slots(struct reader *r, const struct btf *btf)
{
	size_t maps_idx = section_index(r, ".maps");

	for (size_t i = 1; maps_idx && btf && i < r->shnum; i++) {
		const GElf_Shdr *sh = &r->shdrs[i];
		Elf_Data *data;

		if (sh->sh_type != SHT_REL || sh->sh_info != maps_idx ||
		    sh->sh_entsize != sizeof(Elf64_Rel) || sh->sh_link != r->symtab)
			continue;
		data = elf_getdata(elf_getscn(r->elf, i), NULL);
		for (size_t k = 0; data && k < sh->sh_size / sizeof(Elf64_Rel); k++) {
			struct objfile_map *m = NULL;
			const struct objfile_map *tm;
			const struct objfile_prog *tp;
			const char *tname;
			GElf_Rel rel;
			GElf_Sym sym;
			uint64_t var_off = 0;
			long voff;
			int err;

			if (!gelf_getrel(data, (int)k, &rel) ||
			    !gelf_getsym(r->symdata, (int)GELF_R_SYM(rel.r_info), &sym))
				return rd_error(r, "section '.rel.maps': entry %zu unreadable", k);
			/* Which map's definition the relocated slot lies in. */
			for (size_t s = 1; s < r->n_syms && !m; s++) {
				GElf_Sym ms;
				const char *mname;

				if (!gelf_getsym(r->symdata, (int)s, &ms) || ms.st_shndx != maps_idx ||
				    GELF_ST_TYPE(ms.st_info) != STT_OBJECT ||
				    rel.r_offset < ms.st_value || rel.r_offset >= ms.st_value + ms.st_size)
					continue;
				mname = sym_name(r, &ms);
				m = mname ? (struct objfile_map *)objfile_map_by_name(r->o, mname) : NULL;
				var_off = ms.st_value;
			}
			voff = m ? maps_values_offset(btf, m->name) : -ENOENT;
			tname = sym_name(r, &sym);
			if (!m || voff < 0 || !tname || rel.r_offset < var_off + (uint64_t)voff ||
			    (rel.r_offset - var_off - (uint64_t)voff) % 8)
				return rd_error(r, "section '.rel.maps': relocation %zu at offset %llu is "
						   "not a '.values' slot of a map",
						k, (unsigned long long)rel.r_offset);
			tm = objfile_map_by_name(r->o, tname);
			tp = objfile_prog_by_name(r->o, tname);
			if (!tm && !tp)
				return rd_error(r, "map '%s': '.values' names '%s', which is neither a "
						   "map nor a program of the object",
						m->name, tname);
			err = add_slot(r, m, (uint32_t)((rel.r_offset - var_off - (uint64_t)voff) / 8),
				       !tm, tm ? (size_t)(tm - r->o->maps) : (size_t)(tp - r->o->progs));
			if (err < 0)
				return err;
		}
	}
	return 0;
}

static int read_btf_object(struct reader *r, struct bpf_object *obj)
{
	const struct btf *btf = bpf_object__btf(obj);
	struct bpf_program *prog;
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj) {
		struct objfile_map *m;
		const struct bpf_map *inner;
		uint32_t pin = BTF_MAPS_PIN_NONE;
		const char *name = bpf_map__name(map);

		/* .data/.bss/.rodata/.kconfig: libbpf creates them at load, never pinned. */
		if (bpf_map__is_internal(map))
			continue;
		if (btf && maps_sec_pinning(btf, name, &pin) == -EINVAL)
			return rd_error(r, "map '%s': malformed 'pinning' attribute in BTF", name);
		if (pin != BTF_MAPS_PIN_NONE && pin != BTF_MAPS_PIN_BY_NAME)
			return rd_error(r, "map '%s': unknown pinning value %u", name, pin);
		m = add_map(r);
		if (!m)
			return -ENOMEM;
		m->name = strdup(name);
		/* struct_ops maps come from their own section, not `.maps`. */
		m->section = strdup(bpf_map__type(map) == BPF_MAP_TYPE_STRUCT_OPS ? ".struct_ops"
										  : ".maps");
		if (!m->name || !m->section)
			return -ENOMEM;
		m->type = bpf_map__type(map);
		m->key_size = bpf_map__key_size(map);
		m->value_size = bpf_map__value_size(map);
		m->max_entries = bpf_map__max_entries(map);
		m->flags = bpf_map__map_flags(map);
		m->pinning_raw = pin;
		m->pinning = pin == BTF_MAPS_PIN_BY_NAME ? PIN_MODE_GLOBAL : PIN_MODE_NONE;
		m->btf_key_type_id = bpf_map__btf_key_type_id(map);
		m->btf_value_type_id = bpf_map__btf_value_type_id(map);
		/* A perf event array's key and value are CPU index and fd: libbpf
		 * 1.2 and later default them to 4 bytes, 1.1 leaves 0, which the
		 * kernel refuses.  The loader sets the same. */
		if (m->type == BPF_MAP_TYPE_PERF_EVENT_ARRAY) {
			m->key_size = m->key_size ?: 4;
			m->value_size = m->value_size ?: 4;
		}
		inner = bpf_map__inner_map(map);
		if (inner) {
			m->has_inner = true;
			m->inner_type = bpf_map__type(inner);
			m->inner_key_size = bpf_map__key_size(inner);
			m->inner_value_size = bpf_map__value_size(inner);
			m->inner_max_entries = bpf_map__max_entries(inner);
		}
	}
	if (btf) {
		/* Kept for map contents (contents.c): struct keys and values by
		 * field name. */
		uint32_t size = 0;
		const void *raw = btf__raw_data(btf, &size);

		if (!raw)
			return -ENOMEM;
		r->o->btf = malloc(size ? size : 1);
		if (!r->o->btf)
			return -ENOMEM;
		memcpy(r->o->btf, raw, size);
		r->o->btf_size = size;
	}

	bpf_object__for_each_program(prog, obj) {
		struct objfile_prog *p = add_prog(r);
		size_t n = bpf_program__insn_cnt(prog), shndx;

		if (!p)
			return -ENOMEM;
		p->section = strdup(bpf_program__section_name(prog));
		p->name = strdup(bpf_program__name(prog));
		p->type = bpf_program__type(prog);
		p->elf_type = p->type;
		p->expected_attach = bpf_program__expected_attach_type(prog);
		p->n_insns = n;
		p->insns = malloc(n ? n * INSN_SIZE : 1);
		if (!p->section || !p->name || !p->insns)
			return -ENOMEM;
		if (n)
			memcpy(p->insns, bpf_program__insns(prog), n * INSN_SIZE);
		shndx = section_index(r, p->section);
		if (shndx && read_elf_relocs(r, shndx, p) < 0)
			return -ENOMEM;
	}
	return read_btf_slots(r, btf) ?: size_perf_arrays(r);
}

/* libbpf 1.1 trusts the type references inside .BTF and dereferences NULL
 * on a dangling one (1.3 added the checks), so a corrupt object would crash us
 * during open.  Same rules as libbpf's later btf_validate_type(): every
 * referenced type id and every name offset must exist. */
static int check_btf_type(const struct btf *btf, unsigned id, unsigned n)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	unsigned vlen;

	if (!t || !btf__name_by_offset(btf, t->name_off))
		return -EINVAL;
	vlen = btf_vlen(t);
	switch (btf_kind(t)) {
	case BTF_KIND_UNKN:
	case BTF_KIND_INT:
	case BTF_KIND_FWD:
	case BTF_KIND_FLOAT:
		return 0;
	case BTF_KIND_PTR:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
	case BTF_KIND_TYPE_TAG:
		return t->type < n ? 0 : -EINVAL;
	case BTF_KIND_FUNC: {
		const struct btf_type *proto = btf__type_by_id(btf, t->type);

		return t->type < n && proto && btf_is_func_proto(proto) ? 0 : -EINVAL;
	}
	case BTF_KIND_ARRAY:
		return btf_array(t)->type < n && btf_array(t)->index_type < n ? 0 : -EINVAL;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		for (unsigned i = 0; i < vlen; i++)
			if (btf_members(t)[i].type >= n ||
			    !btf__name_by_offset(btf, btf_members(t)[i].name_off))
				return -EINVAL;
		return 0;
	case BTF_KIND_ENUM:
		for (unsigned i = 0; i < vlen; i++)
			if (!btf__name_by_offset(btf, btf_enum(t)[i].name_off))
				return -EINVAL;
		return 0;
	case BTF_KIND_ENUM64:
		for (unsigned i = 0; i < vlen; i++)
			if (!btf__name_by_offset(btf, btf_enum64(t)[i].name_off))
				return -EINVAL;
		return 0;
	case BTF_KIND_FUNC_PROTO:
		if (t->type >= n)
			return -EINVAL;
		for (unsigned i = 0; i < vlen; i++)
			if (btf_params(t)[i].type >= n ||
			    !btf__name_by_offset(btf, btf_params(t)[i].name_off))
				return -EINVAL;
		return 0;
	case BTF_KIND_DATASEC:
		for (unsigned i = 0; i < vlen; i++)
			if (btf_var_secinfos(t)[i].type >= n)
				return -EINVAL;
		return 0;
	default:
		return -EINVAL;
	}
}

/* What a type holds by value: a typedef or modifier its type, an array its
 * elements, a struct or union its members (not what a pointer points to). */
static unsigned value_refs(const struct btf_type *t)
{
	switch (btf_kind(t)) {
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
	case BTF_KIND_DECL_TAG:
	case BTF_KIND_ARRAY:
		return 1;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return btf_vlen(t);
	default:
		return 0;
	}
}

static uint32_t value_ref(const struct btf_type *t, unsigned i)
{
	if (btf_is_array(t))
		return btf_array(t)->type;
	if (btf_is_composite(t))
		return btf_members(t)[i].type;
	return t->type;
}

static bool is_chain_link(const struct btf_type *t)
{
	return value_refs(t) == 1 && !btf_is_array(t) && !btf_is_composite(t);
}

/* libbpf 1.1 follows typedefs and modifiers with no bound
 * (skip_mods_and_typedefs, while opening the maps' definitions), and
 * computes an extern's alignment recursing through members and array
 * elements (btf__align_of): a loop there hangs bpf_object__open_mem or
 * overflows the stack.  So no type may hold itself by value.  Depth first,
 * each type entered once (linear in the types, so a chain can be no longer
 * than their number); one met again while still on the path closes a loop.
 * Pointers are not followed: libbpf 1.1 follows pointer chains only with a
 * depth limit (btf__resolve_size stops at one, relo_core.c gives up after
 * 32), and a type may well point to itself. */
static int check_btf_loops(struct reader *r, const struct btf *btf, unsigned n)
{
	enum { UNSEEN, ON_PATH, DONE };
	struct frame {
		uint32_t id;
		unsigned next; /* the next of its value_refs() to follow */
	};
	_cleanup_free_ unsigned char *state = calloc(n, 1);
	_cleanup_free_ struct frame *path = malloc(n * sizeof(*path));

	if (!state || !path)
		return -ENOMEM;
	for (uint32_t root = 1; root < n; root++) {
		size_t depth = 0;

		if (state[root] != UNSEEN)
			continue;
		state[root] = ON_PATH;
		path[depth++] = (struct frame){ .id = root };
		while (depth > 0) {
			struct frame *f = &path[depth - 1];
			const struct btf_type *t = btf__type_by_id(btf, f->id);
			uint32_t next;
			bool chain = true;

			if (f->next == value_refs(t)) {
				state[f->id] = DONE;
				depth--;
				continue;
			}
			next = value_ref(t, f->next++);
			if (state[next] == DONE)
				continue;
			if (state[next] == UNSEEN) {
				state[next] = ON_PATH;
				path[depth++] = (struct frame){ .id = next };
				continue;
			}
			for (size_t i = depth; i-- > 0 && chain;) {
				chain = is_chain_link(btf__type_by_id(btf, path[i].id));
				if (path[i].id == next)
					break;
			}
			if (chain)
				return rd_error(r, "section '.BTF': type %u: typedef/modifier "
						   "chain loops", next);
			return rd_error(r, "section '.BTF': type %u: contains itself (through its "
					   "members or array elements)", next);
		}
	}
	return 0;
}

static int check_btf(struct reader *r)
{
	struct btf *btf = NULL;
	const unsigned char *p = NULL;
	size_t idx = 0;
	unsigned n;
	int err;

	for (size_t i = 1; i < r->shnum; i++) {
		if (strcmp(r->secnames[i], ".BTF") == 0)
			idx = i;
		/* libbpf copies .BTF.ext from libelf's data pointer, NULL when
		 * the section is empty, and reads its records as u32s at
		 * hdr_len + off, checking only off for alignment: reject what
		 * is shorter than the header's first 8 bytes (libbpf would too,
		 * after the copy) and a hdr_len (the u32 at byte 4) that is not
		 * a multiple of 4. */
		if (strcmp(r->secnames[i], ".BTF.ext") == 0 &&
		    r->shdrs[i].sh_type == SHT_PROGBITS &&
		    (r->shdrs[i].sh_size < 8 ||
		     get_u32((const unsigned char *)r->buf + r->shdrs[i].sh_offset + 4) % 4))
			return rd_error(r, "section '.BTF.ext': truncated header or header "
					   "length not a multiple of 4");
	}
	if (!idx && r->o->layout == OBJFILE_LAYOUT_BTF)
		return rd_error(r, "BTF '.maps' object without a '.BTF' section");
	if (!idx)
		return 0;
	err = section_bytes(r, idx, &p);
	if (err < 0)
		return err;
	/* libbpf checks type_off's alignment but not hdr_len's (the u32 at
	 * byte 4), and reads the types as u32s at hdr_len + type_off. */
	if (r->shdrs[idx].sh_size >= 8 && get_u32(p + 4) % 4)
		return rd_error(r, "section '.BTF': header length %u is not a multiple of 4",
				get_u32(p + 4));
	btf = btf__new(p, r->shdrs[idx].sh_size);
	if (!btf)
		return rd_error(r, "section '.BTF' is malformed");
	n = btf__type_cnt(btf);
	for (unsigned id = 1; id < n; id++)
		if (check_btf_type(btf, id, n) < 0) {
			btf__free(btf);
			return rd_error(r, "section '.BTF': type %u is malformed", id);
		}
	err = check_btf_loops(r, btf, n);
	btf__free(btf);
	return err;
}

/* What the libbpf we run with cannot load, said before it fails obscurely:
 * BPF arena maps and their `.addr_space.1` section came with libbpf 1.4. */
static int check_libbpf_features(struct reader *r)
{
	bool old = libbpf_major_version() < 1 ||
		   (libbpf_major_version() == 1 && libbpf_minor_version() < 4);

	if (old && section_index(r, ".addr_space.1"))
		return rd_error(r, "uses a BPF arena ('.addr_space.1'), which needs libbpf 1.4 or "
				   "later; this is libbpf %s",
				libbpf_version_string());
	return 0;
}

/* What libbpf would refuse with a bare EINVAL, or trust and crash on
 * (libbpf 1.1 follows a relocation section's symbol table link unchecked:
 * found by fuzz-objfile), said in the file's terms. */
static int check_code_sections(struct reader *r)
{
	for (size_t i = 1; i < r->shnum; i++) {
		const GElf_Shdr *sh = &r->shdrs[i];

		if ((sh->sh_flags & SHF_EXECINSTR) && sh->sh_size % INSN_SIZE)
			return rd_error(r, "program section '%s': size %llu is not a multiple of %zu",
					r->secnames[i], (unsigned long long)sh->sh_size, INSN_SIZE);
		if (sh->sh_type == SHT_RELA)
			return rd_error(r, "section '%s': RELA relocations are not used by BPF",
					r->secnames[i]);
		if (sh->sh_type != SHT_REL)
			continue;
		if (sh->sh_entsize != sizeof(Elf64_Rel) || sh->sh_size % sizeof(Elf64_Rel))
			return rd_error(r, "relocation section '%s': entry size %llu, size %llu",
					r->secnames[i], (unsigned long long)sh->sh_entsize,
					(unsigned long long)sh->sh_size);
		if (!r->symtab || sh->sh_link != r->symtab)
			return rd_error(r, "relocation section '%s' does not use the symbol table",
					r->secnames[i]);
		if (sh->sh_info == 0 || sh->sh_info >= r->shnum)
			return rd_error(r, "relocation section '%s' applies to section %u of %zu",
					r->secnames[i], sh->sh_info, r->shnum);
	}
	return 0;
}

/* tc names an object's directory after the sha1 of the file's bytes; a
 * saved plan (savedplan.h) records their sha256. */
static void hash_object(struct reader *r)
{
	uint8_t md[SHA1_DIGEST_SIZE], md256[SHA256_DIGEST_SIZE];
	struct sha256_ctx ctx256;
	struct sha1_ctx ctx;

	sha1_init(&ctx);
	sha1_update(&ctx, r->size, (const uint8_t *)r->buf);
	sha1_digest(&ctx, sizeof(md), md);
	escape_hex(md, sizeof(md), r->o->sha1);
	sha256_init(&ctx256);
	sha256_update(&ctx256, r->size, (const uint8_t *)r->buf);
	sha256_digest(&ctx256, sizeof(md256), md256);
	escape_hex(md256, sizeof(md256), r->o->sha256);
}

static int print_nothing(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static int open_btf(struct reader *r)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = r->path);
	struct bpf_object *obj;
	int err;

	err = check_btf(r);
	if (err < 0)
		return err;
	err = check_libbpf_features(r) ?: check_code_sections(r);
	if (err < 0)
		return err;
	obj = bpf_object__open_mem(r->buf, r->size, &opts);
	if (!obj) {
		char msg[128];

		/* libbpf's own codes (LIBBPF_ERRNO__*) are beyond strerror's. */
		libbpf_strerror(errno ? errno : EINVAL, msg, sizeof(msg));
		return rd_error(r, "libbpf cannot read the object (libbpf %s): %s",
				libbpf_version_string(), msg);
	}
	err = read_btf_object(r, obj);
	bpf_object__close(obj);
	return err;
}

static int read_object(struct reader *r)
{
	int err;

	err = read_whole_file(r);
	if (err < 0)
		return err;
	err = check_ehdr(r);
	if (err < 0)
		return err;
	err = load_sections(r);
	if (err < 0)
		return err;
	err = load_symbols(r);
	if (err < 0)
		return err;
	err = detect_layout(r);
	if (err < 0)
		return err;
	err = read_license_version(r);
	if (err < 0)
		return err;

	switch (r->o->layout) {
	case OBJFILE_LAYOUT_BTF:
	case OBJFILE_LAYOUT_NONE:
		r->o->libbpf = true;
		return open_btf(r);
	case OBJFILE_LAYOUT_GOBPF:
		err = read_gobpf_maps(r);
		break;
	case OBJFILE_LAYOUT_IPROUTE2:
		err = read_iproute2_maps(r);
		break;
	default:
		break;
	}
	if (err < 0)
		return err;
	err = read_legacy_progs(r);
	if (err < 0)
		return err;
	return read_legacy_relocs(r);
}

int objfile_open(const char *path, struct diag *d, struct objfile **ret)
{
	_cleanup_(objfile_freep) struct objfile *o = NULL;
	struct reader r = { .path = path, .d = d, .loc = { .file = path } };
	libbpf_print_fn_t old_print;
	int err;

	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->path = strdup(path);
	if (!o->path)
		return -ENOMEM;
	r.o = o;

	/* libbpf would print its own view of what it disliked (or guessed) to
	 * stderr; our diagnostics say it once, in the file's terms.  The
	 * previous printer (main.c's, under -v) is put back afterwards. */
	old_print = libbpf_set_print(print_nothing);
	err = read_object(&r);
	libbpf_set_print(old_print);

	if (r.elf)
		elf_end(r.elf);
	prog_done(&r.text);
	free(r.calls);
	if (err == 0)
		hash_object(&r);
	if (err == 0 && o->libbpf) {
		/* libbpf opens the object again from these bytes when it loads. */
		o->bytes = (unsigned char *)TAKE_PTR(r.buf);
		o->size = r.size;
	}
	free(r.buf);
	free(r.shdrs);
	free(r.secnames);
	free(r.sec_map);
	free(r.sec_prog);
	if (err == -ENOMEM)
		diag_error(d, &r.loc, "out of memory");
	if (err < 0)
		return err;
	*ret = TAKE_PTR(o);
	return 0;
}

void objfile_set_prog_type(struct objfile *o, size_t i, enum bpf_prog_type type, int attach)
{
	struct objfile_prog *p = &o->progs[i];

	/* The section's expected attach type holds only for the section's type. */
	if (attach >= 0)
		p->expected_attach = (enum bpf_attach_type)attach;
	else if (type != p->type)
		p->expected_attach = 0;
	p->type = type;
}

uint32_t objfile_kern_version(const struct objfile *o)
{
	struct utsname u;
	unsigned a = 0, b = 0, c = 0;

	if (!o->has_kern_version || o->kern_version != OBJFILE_KERN_VERSION_CURRENT)
		return o->kern_version;
	if (uname(&u) < 0 || sscanf(u.release, "%u.%u.%u", &a, &b, &c) < 2)
		return 0;
	/* KERNEL_VERSION() saturates the sublevel at 255. */
	return (a << 16) + (b << 8) + (c > 255 ? 255 : c);
}

const struct objfile_map *objfile_map_by_name(const struct objfile *o, const char *name)
{
	for (size_t i = 0; i < o->n_maps; i++)
		if (strcmp(o->maps[i].name, name) == 0)
			return &o->maps[i];
	return NULL;
}

const struct objfile_prog *objfile_prog_by_name(const struct objfile *o, const char *name)
{
	for (size_t i = 0; i < o->n_progs; i++)
		if (strcmp(o->progs[i].name, name) == 0)
			return &o->progs[i];
	return NULL;
}

/* Only gobpf maps have a section of their own; iproute2's and BTF's share one. */
const struct objfile_map *objfile_map_by_section(const struct objfile *o, const char *section)
{
	if (o->layout != OBJFILE_LAYOUT_GOBPF)
		return NULL;
	for (size_t i = 0; i < o->n_maps; i++)
		if (strcmp(o->maps[i].section, section) == 0)
			return &o->maps[i];
	return NULL;
}

const struct objfile_prog *objfile_prog_by_section(const struct objfile *o, const char *section)
{
	for (size_t i = 0; i < o->n_progs; i++)
		if (strcmp(o->progs[i].section, section) == 0)
			return &o->progs[i];
	return NULL;
}
