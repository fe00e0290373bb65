// SPDX-License-Identifier: MIT
/* Identity: the tag each desired program will have, computed from the
 * instructions its load would hand the kernel, or from one throwaway load
 * per object.  Kept out of the desired stage so that building the desired
 * state needs no kernel; live runs call this before planning. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <nettle/sha1.h>
#include <nettle/sha2.h>

#include "cleanup.h"
#include "identity.h"
#include "kind.h"
#include "loader.h"

static void digest_tag(struct bpf_insn *insns, size_t n, int bits, uint8_t tag[8]);

/* Programs of one object have their tags computed: the digest of what the
 * load would hand the kernel (loader_insns()), once the kernel's digest is
 * known - a replaced program then costs the verifier one run, the
 * apply's.  Where that cannot be (the digest unknown, libbpf stopping
 * short), they are loaded together, with throwaway maps for what they
 * use, as apply would load them, the tags read back and every fd closed.
 * One pass over the pins finds the programs of every object, so that many
 * objects cost no more than many pins. */

/* The tags of one object's wanted programs, as found: computed from insns
 * with the digest of bits, or read from the loaded fds. */
struct found {
	int bits;
	struct bpf_insn **insns;
	size_t *n_insns;
	int *fds;
};

/* The kernel's digest, > 0, or 0 when unknown.  *probed keeps
 * identity_probe_tag_bits()'s answer for the run: 0 not asked yet, < 0
 * unknown. */
static int known_bits(int *probed)
{
	if (*probed == 0) {
		*probed = identity_probe_tag_bits();
		*probed = *probed > 0 ? *probed : -1;
	}
	return *probed > 0 ? *probed : 0;
}

static int found_alloc(struct found *f, size_t n_progs)
{
	*f = (struct found){ .insns = calloc(n_progs + 1, sizeof(*f->insns)),
			     .n_insns = calloc(n_progs + 1, sizeof(*f->n_insns)),
			     .fds = malloc((n_progs + 1) * sizeof(*f->fds)) };
	for (size_t i = 0; f->fds && i < n_progs; i++)
		f->fds[i] = -1;
	return f->insns && f->n_insns && f->fds ? 0 : -ENOMEM;
}

static void found_free(struct found *f, size_t n_progs)
{
	for (size_t i = 0; i < n_progs; i++) {
		if (f->insns)
			free(f->insns[i]);
		if (f->fds && f->fds[i] >= 0)
			close(f->fds[i]);
	}
	free(f->insns);
	free(f->n_insns);
	free(f->fds);
}

/* The wanted programs' instructions, when the digest is known (f->bits
 * set); else f->bits is 0 and they are to be loaded.  Returns 0 or
 * -ENOMEM. */
static int compute(const struct objfile *of, const bool *want, int *probed, struct found *f)
{
	int r;

	f->bits = known_bits(probed);
	if (!f->bits)
		return 0;
	r = loader_insns(of, want, f->insns, f->n_insns);
	if (r == -EAGAIN)
		f->bits = 0;
	return r == -EAGAIN ? 0 : r;
}

/* Program i's tag, as f found it. */
static int prog_tag(const struct found *f, size_t i, uint8_t tag[8])
{
	if (f->bits > 0) {
		digest_tag(f->insns[i], f->n_insns[i], f->bits, tag);
		return 0;
	}
	return kind_prog_tag(f->fds[i], tag);
}

/* The tags of the programs a program array's entries name. */
static int slot_tags(struct desired_contents *c, const struct found *f, struct diag *d,
		     const struct diag_loc *loc)
{
	for (size_t j = 0; c && j < c->n; j++) {
		struct desired_entry *e = &c->entries[j];
		int r;

		if (!e->is_prog || e->has_tag || e->tag_deferred)
			continue;
		r = prog_tag(f, e->prog, e->tag);
		if (r < 0) {
			diag_error(d, e->src ? &e->src->program_loc : loc,
				   "cannot read the tag of a program array's program: %s",
				   DIAG_STRERROR(-r));
			return r;
		}
		e->has_tag = true;
		e->tag_computed = f->bits > 0;
	}
	return 0;
}

static bool holds_programs(const struct desired_contents *c)
{
	for (size_t j = 0; c && j < c->n; j++)
		if (c->entries[j].is_prog)
			return true;
	return false;
}

/* Object k's wanted programs' tags into the pins of des. */
static int object_tags(struct desired *des, size_t k, const size_t *first, const size_t *next,
		       const bool *want, const struct diag_loc **locs, int *probed, FILE *vlog,
		       size_t *loads, struct diag *d)
{
	const struct objfile *of = des->objfiles[k];
	struct found f;
	int r = found_alloc(&f, of->n_progs);

	r = r ?: compute(of, want, probed, &f);
	for (size_t i = 0; r == 0 && !f.bits && i < of->n_progs; i++)
		*loads += want[i];
	if (r == 0 && !f.bits)
		r = loader_load(of,
				&(struct loader_job){ .want = want, .prog_locs = locs, .log = vlog },
				NULL, d, f.fds);
	for (size_t i = first[k]; i != SIZE_MAX && r == 0; i = next[i]) {
		struct desired_pin *p = &des->pins[i];

		if (p->kind == KIND_MAP) {
			r = slot_tags(p->contents, &f, d, &p->loc);
			continue;
		}
		if (p->spec.has_tag || p->spec.tag_deferred)
			continue;
		r = prog_tag(&f, p->index, p->spec.tag);
		if (r < 0) {
			diag_error(d, &p->loc, "program '%s': cannot read its tag: %s",
				   desired_pin_name(p), DIAG_STRERROR(-r));
			break;
		}
		p->spec.has_tag = true;
		p->spec.tag_computed = f.bits > 0;
	}
	found_free(&f, of->n_progs);
	return r;
}

int identity_load_tags(struct desired *des, const struct observed *obs, FILE *vlog,
		       struct diag *d)
{
	_cleanup_free_ size_t *first = NULL, *next = NULL;
	int r = desired_pins_by_object(des, &first, &next);
	int probed = 0; /* known_bits()'s */
	size_t loads = 0;

	if (r < 0)
		return r;
	for (size_t k = 0; k < des->n_objfiles && r == 0; k++) {
		const struct objfile *of = des->objfiles[k];
		_cleanup_free_ bool *want = NULL;
		_cleanup_free_ const struct diag_loc **locs = NULL;
		bool any = false;

		if (!of || first[k] == SIZE_MAX)
			continue;
		want = calloc(of->n_progs + 1, sizeof(*want));
		locs = calloc(of->n_progs + 1, sizeof(*locs));
		if (!want || !locs)
			return -ENOMEM;
		/* A link's tag is its program's: what it should run; so is a
		 * program array slot's.  Only a pin found in place is compared. */
		for (size_t i = first[k]; i != SIZE_MAX; i = next[i]) {
			const struct desired_contents *c = des->pins[i].contents;
			bool prog = des->pins[i].kind != KIND_MAP && !des->pins[i].spec.has_tag;
			bool found;

			/* Most pins are maps holding no program: not looked up. */
			if (!prog && !holds_programs(c))
				continue;
			found = observed_find(obs, des->pins[i].path);
			for (size_t j = 0; found && c && j < c->n; j++)
				if (c->entries[j].is_prog && !c->entries[j].has_tag)
					want[c->entries[j].prog] = any = true;
			if (!prog || !found)
				continue;
			want[des->pins[i].index] = any = true;
			if (!locs[des->pins[i].index])
				locs[des->pins[i].index] = &des->pins[i].loc;
		}
		for (size_t i = first[k]; i != SIZE_MAX; i = next[i]) {
			struct desired_contents *c = des->pins[i].contents;

			for (size_t j = 0; c && j < c->n; j++)
				if (c->entries[j].is_prog && !c->entries[j].has_tag)
					c->entries[j].tag_deferred = !want[c->entries[j].prog];
			if (des->pins[i].kind != KIND_MAP && !des->pins[i].spec.has_tag)
				des->pins[i].spec.tag_deferred = !want[des->pins[i].index];
		}
		if (any)
			r = object_tags(des, k, first, next, want, locs, &probed, vlog, &loads, d);
	}
	if (vlog)
		fprintf(vlog, "bpf-provision: %zu program%s loaded to learn %s\n", loads,
			loads == 1 ? "" : "s", loads == 1 ? "its tag" : "their tags");
	return r;
}

/* Program i loaded alone, so that a program the verifier refuses costs
 * its own tag and no other's. */
static int load_one(const struct objfile *of, size_t i, FILE *vlog, struct diag *d,
		    uint8_t tag[8], bool *has_tag)
{
	const struct objfile_prog *pr = &of->progs[i];
	_cleanup_free_ int *fds = calloc(of->n_progs + 1, sizeof(*fds));
	_cleanup_free_ bool *one = calloc(of->n_progs + 1, sizeof(*one));
	struct diag why = { 0 };
	int r;

	if (!fds || !one)
		return -ENOMEM;
	one[i] = true;
	r = loader_load(of, &(struct loader_job){ .want = one, .log = vlog }, NULL, &why, fds);
	if (r < 0 && r != -ENOMEM)
		diag_warning(d, &(struct diag_loc){ .file = of->path },
			     "program '%s' (section '%s'): cannot be loaded to learn its tag, "
			     "so no pin is matched to it: %s",
			     pr->name, pr->section, why.n_msgs ? why.msgs[0].text : DIAG_STRERROR(-r));
	diag_done(&why);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	*has_tag = kind_prog_tag(fds[i], tag) == 0;
	close(fds[i]);
	return 0;
}

int identity_object_tags(const struct objfile *of, int *tag_bits, FILE *vlog, struct diag *d,
			 uint8_t (*tags)[8], bool *has_tag)
{
	_cleanup_free_ bool *want = calloc(of->n_progs + 1, sizeof(*want));
	struct found f = { 0 };
	int r = want ? found_alloc(&f, of->n_progs) : -ENOMEM;

	for (size_t i = 0; r == 0 && i < of->n_progs; i++) {
		const struct objfile_prog *pr = &of->progs[i];

		has_tag[i] = false;
		want[i] = pr->type != BPF_PROG_TYPE_UNSPEC;
		if (!want[i])
			diag_warning(d, &(struct diag_loc){ .file = of->path },
				     "program '%s' (section '%s'): its type is unknown, so no pin "
				     "is matched to it",
				     pr->name, pr->section);
	}
	r = r ?: compute(of, want, tag_bits, &f);
	for (size_t i = 0; r == 0 && i < of->n_progs; i++) {
		if (!want[i])
			continue;
		if (f.bits)
			has_tag[i] = prog_tag(&f, i, tags[i]) == 0;
		else
			r = load_one(of, i, vlog, d, tags[i], &has_tag[i]);
	}
	found_free(&f, of->n_progs);
	return r;
}

/* The kernel's tag of n instructions: the first 8 bytes of their digest
 * with the fds of map loads zeroed (bpf_prog_calc_tag). */
static void digest_tag(struct bpf_insn *insns, size_t n, int bits, uint8_t tag[8])
{
	uint8_t md[SHA256_DIGEST_SIZE];
	bool was_ld_map = false;

	for (size_t i = 0; i < n; i++) {
		struct bpf_insn *in = &insns[i];

		if (!was_ld_map && in->code == (BPF_LD | BPF_IMM | BPF_DW) &&
		    (in->src_reg == BPF_PSEUDO_MAP_FD || in->src_reg == BPF_PSEUDO_MAP_VALUE)) {
			was_ld_map = true;
			in->imm = 0;
		} else if (was_ld_map && in->code == 0 && in->dst_reg == 0 && in->src_reg == 0 &&
			   in->off == 0) {
			was_ld_map = false;
			in->imm = 0;
		} else {
			was_ld_map = false;
		}
	}
	if (bits == 256) {
		struct sha256_ctx ctx;

		sha256_init(&ctx);
		sha256_update(&ctx, n * sizeof(*insns), (const uint8_t *)insns);
		sha256_digest(&ctx, SHA256_DIGEST_SIZE, md);
	} else {
		struct sha1_ctx ctx;

		sha1_init(&ctx);
		sha1_update(&ctx, n * sizeof(*insns), (const uint8_t *)insns);
		sha1_digest(&ctx, SHA1_DIGEST_SIZE, md);
	}
	memcpy(tag, md, 8);
}

int identity_probe_tag_bits(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	uint8_t tag[8], loaded[8];
	int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, NULL, "GPL", insns, 2, NULL), r;

	if (fd < 0)
		return -errno;
	r = kind_prog_tag(fd, loaded);
	close(fd);
	if (r < 0)
		return r;
	for (int bits = 160; bits <= 256; bits += 96) {
		digest_tag(insns, 2, bits, tag);
		if (memcmp(tag, loaded, 8) == 0)
			return bits;
	}
	return -EPROTO;
}

/* Program prog of a legacy object as its loader hands it to the kernel:
 * its tag, into tag. */
static int legacy_tag(const struct objfile *of, size_t prog, int bits, uint8_t tag[8])
{
	_cleanup_free_ bool *want = calloc(of->n_progs + 1, sizeof(*want));
	struct found f = { 0 };
	int r = want ? found_alloc(&f, of->n_progs) : -ENOMEM;

	if (r == 0) {
		want[prog] = true;
		r = loader_insns(of, want, f.insns, f.n_insns);
	}
	if (r == 0)
		digest_tag(f.insns[prog], f.n_insns[prog], bits, tag);
	found_free(&f, of->n_progs);
	return r;
}

/* The tag record e gives program name of object (a SHA-1), if e is live:
 * it claims the pin in the tree, so it was written on this mount, on this
 * kernel - a ledger that outlived them vouches for nothing. */
static const uint8_t *live_tag(const struct ledger_entry *e, const struct observed *obs,
			       const char *object, const char *name)
{
	const struct observed_entry *h = e ? observed_find(obs, e->path) : NULL;

	return h && ledger_claims(e, h->ino, h->id) ? ledger_prog_tag(e, object, name) : NULL;
}

/* The tag of program prog of of: computed (legacy layouts, digest known),
 * else recorded at path's live record, else at any live one; false when
 * unknown. */
static int known_tag(const struct ledger *l, const struct observed *obs, const char *path,
		     const struct objfile *of, size_t prog, int bits, uint8_t tag[8])
{
	const char *name = of->progs[prog].name;
	const uint8_t *t;

	if (!of->libbpf && (bits == 160 || bits == 256)) {
		int r = legacy_tag(of, prog, bits, tag);

		return r < 0 ? r : 1;
	}
	t = live_tag(ledger_find(l, path), obs, of->sha1, name);
	for (size_t i = 0; !t && i < l->n; i++)
		t = live_tag(&l->entries[i], obs, of->sha1, name);
	if (t)
		memcpy(tag, t, 8);
	return t != NULL;
}

/* The tags known without a load into des; offline, the others are marked
 * unknown. */
static int known_tags(struct desired *des, const struct ledger *l, const struct observed *obs,
		      int tag_bits, bool offline)
{
	for (size_t i = 0; i < des->n_pins; i++) {
		struct desired_pin *p = &des->pins[i];
		struct desired_contents *c = p->contents;
		int r;

		if (!p->objfile)
			continue;
		for (size_t j = 0; c && j < c->n; j++) {
			struct desired_entry *e = &c->entries[j];

			if (!e->is_prog)
				continue;
			r = known_tag(l, obs, p->path, p->objfile, e->prog, tag_bits, e->tag);
			if (r < 0)
				return r;
			e->has_tag = r > 0;
			e->tag_unknown = offline && r == 0;
		}
		if (p->kind == KIND_MAP)
			continue;
		r = known_tag(l, obs, p->path, p->objfile, p->index, tag_bits, p->spec.tag);
		if (r < 0)
			return r;
		p->spec.has_tag = r > 0;
		p->spec.tag_unknown = offline && r == 0;
	}
	return 0;
}

int identity_offline_tags(struct desired *des, const struct ledger *l, const struct observed *obs,
			  int tag_bits)
{
	return known_tags(des, l, obs, tag_bits, true);
}

int identity_recorded_tags(struct desired *des, const struct ledger *l,
			   const struct observed *obs)
{
	return known_tags(des, l, obs, 0, false);
}
