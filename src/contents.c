// SPDX-License-Identifier: MIT
/* Map contents (contents.h): entries as manifests write them encoded into
 * the bytes bpf_map_update_elem takes, and what a pinned map holds at
 * those keys now.
 *
 * Encoding: integers little-endian in the size (host order), checked to
 * fit; "0x..." bytes exactly the size; structs by BTF field name, the
 * object's BTF (objfile.btf) and the map's key or value type id, the rest
 * of the struct zero; per-CPU values repeated once per possible CPU, each
 * copy padded to 8 bytes.  Program arrays hold programs of the same object
 * by name.
 *
 * Observing: each listed key looked up in the map pinned at the pin's
 * path (when the scan saw there a map of the same type and sizes).  With
 * exact and seed enforce, the keys held that no entry lists are collected
 * in extra: every such key of a hash-like map; for array-like maps, whose
 * keys all exist, only the slots that hold something - a program array's,
 * devmap's or cpumap's filled slots, which can be deleted, and a plain
 * (per-CPU) array's slots that are not all zero, which cannot be deleted
 * and are to be written with zeros instead. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "cleanup.h"
#include "contents.h"
#include "kind.h"
#include "sys.h"

/* Map types newer than the build's linux/bpf.h (compat.h's rule: asked for
 * by number). */
#define CONTENTS_MAP_TYPE_CGRP_STORAGE 32 /* Linux 6.2 */
#define CONTENTS_MAP_TYPE_ARENA	       33 /* Linux 6.9 */

/* How deep typedef/const chains and anonymous members are followed: far
 * past what compilers emit, short of a loop in malformed BTF. */
#define MAX_BTF_DEPTH 32

enum writable {
	WRITABLE_ENTRIES,  /* keys and values of bytes */
	WRITABLE_PROGRAMS, /* a program array: programs by name */
	WRITABLE_NONE,	   /* no entries user space writes by key */
	WRITABLE_FDS,	   /* keys or values are file descriptors of this process */
	WRITABLE_UNKNOWN,  /* a type newer than this code */
};

static enum writable map_writable(uint32_t type)
{
	switch (type) {
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_LRU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
	case BPF_MAP_TYPE_LPM_TRIE:
	case BPF_MAP_TYPE_CGROUP_STORAGE:
	case BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE:
	case BPF_MAP_TYPE_DEVMAP:
	case BPF_MAP_TYPE_DEVMAP_HASH:
	case BPF_MAP_TYPE_CPUMAP:
		return WRITABLE_ENTRIES;
	case BPF_MAP_TYPE_PROG_ARRAY:
		return WRITABLE_PROGRAMS;
	case BPF_MAP_TYPE_RINGBUF:
	case BPF_MAP_TYPE_USER_RINGBUF:
	case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
	case BPF_MAP_TYPE_STACK_TRACE:
	case BPF_MAP_TYPE_STRUCT_OPS:
	case BPF_MAP_TYPE_BLOOM_FILTER: /* pushed to, never written by key */
	case BPF_MAP_TYPE_QUEUE:
	case BPF_MAP_TYPE_STACK:
	case CONTENTS_MAP_TYPE_ARENA:
		return WRITABLE_NONE;
	case BPF_MAP_TYPE_ARRAY_OF_MAPS:
	case BPF_MAP_TYPE_HASH_OF_MAPS:
	case BPF_MAP_TYPE_SOCKMAP:
	case BPF_MAP_TYPE_SOCKHASH:
	case BPF_MAP_TYPE_XSKMAP:
	case BPF_MAP_TYPE_CGROUP_ARRAY:
	case BPF_MAP_TYPE_REUSEPORT_SOCKARRAY:
	case BPF_MAP_TYPE_SK_STORAGE:
	case BPF_MAP_TYPE_INODE_STORAGE:
	case BPF_MAP_TYPE_TASK_STORAGE:
	case CONTENTS_MAP_TYPE_CGRP_STORAGE:
		return WRITABLE_FDS;
	default:
		return WRITABLE_UNKNOWN;
	}
}

static bool map_is_percpu(uint32_t type)
{
	return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

/* Maps whose key is an index below max_entries. */
static bool map_is_indexed(uint32_t type)
{
	return type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPF_MAP_TYPE_PROG_ARRAY || type == BPF_MAP_TYPE_DEVMAP ||
	       type == BPF_MAP_TYPE_CPUMAP;
}

/* Plain arrays: every slot always holds a value, zero until written. */
static bool map_is_plain_array(uint32_t type)
{
	return type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY;
}

static const char *map_type_str(uint32_t type, char buf[static 32])
{
	const char *s = libbpf_bpf_map_type_str((enum bpf_map_type)type);

	if (s)
		return s;
	if (type == CONTENTS_MAP_TYPE_CGRP_STORAGE)
		return "cgrp_storage";
	if (type == CONTENTS_MAP_TYPE_ARENA)
		return "arena";
	snprintf(buf, 32, "type %" PRIu32, type);
	return buf;
}

/* An LPM trie's key (u32 prefix length, then the data, most significant
 * bit first) with the bits past its prefix cleared: the trie takes keys
 * that differ only there for the same key. */
static void lpm_canon(unsigned char *k, uint32_t ks)
{
	uint32_t plen;

	if (ks < 4)
		return;
	memcpy(&plen, k, 4);
	for (size_t i = 0; i < ks - 4; i++) {
		uint64_t bit = 8 * (uint64_t)i;

		if (bit >= plen)
			k[4 + i] = 0;
		else if (bit + 8 > plen)
			k[4 + i] &= (unsigned char)(0xff << (8 - (plen - bit)));
	}
}

/* -------------------------------------------------------------------- */
/* Encoding */

struct enc {
	const struct contents_target *t;
	struct diag *d;
	struct btf *btf; /* the object's, opened at the first struct */
	bool btf_failed; /* reported once */
	int err;	 /* first -ENOMEM; the rest of the work stops */
};

static void host_order(unsigned char *out, size_t size)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	for (size_t i = 0; i < size / 2; i++) {
		unsigned char c = out[i];

		out[i] = out[size - 1 - i];
		out[size - 1 - i] = c;
	}
#else
	(void)out;
	(void)size;
#endif
}

/* An integer into size bytes.  It fits when it is in -2^(8*size-1) to
 * 2^(8*size)-1: either the signed or the unsigned reading of the bytes.
 * Wider than 8 bytes: sign- or zero-extended. */
static int encode_int(struct enc *e, const struct manifest_value *v, size_t size, const char *what,
		      unsigned char *out)
{
	int64_t sv = (int64_t)v->u;

	if (size < 8) {
		unsigned bits = (unsigned)(8 * size);
		int64_t min = size ? -((int64_t)1 << (bits - 1)) : 0;
		uint64_t max = ((uint64_t)1 << bits) - 1;
		bool fits = v->negative ? sv >= min && sv <= 0 : v->u <= max;

		if (!fits) {
			if (v->negative)
				return diag_error(e->d, &v->loc,
						  "%s: %" PRId64
						  " does not fit in %zu byte%s (%" PRId64
						  " to %" PRIu64 ")",
						  what, sv, size, size == 1 ? "" : "s", min, max);
			return diag_error(e->d, &v->loc,
					  "%s: %" PRIu64 " does not fit in %zu byte%s (%" PRId64
					  " to %" PRIu64 ")",
					  what, v->u, size, size == 1 ? "" : "s", min, max);
		}
	}
	for (size_t i = 0; i < size; i++) {
		if (i < 8)
			out[i] = (unsigned char)(v->u >> (8 * i));
		else
			out[i] = v->negative && sv < 0 ? 0xff : 0;
	}
	host_order(out, size);
	return 0;
}

static int encode_bytes(struct enc *e, const struct manifest_value *v, size_t size,
			const char *what, unsigned char *out)
{
	if (v->n_bytes != size)
		return diag_error(e->d, &v->loc, "%s: %zu byte%s given, it takes exactly %zu", what,
				  v->n_bytes, v->n_bytes == 1 ? "" : "s", size);
	if (size)
		memcpy(out, v->bytes, size);
	return 0;
}

/* The type under typedefs and qualifiers; NULL for an id out of range or a
 * loop. */
static const struct btf_type *skip_mods(const struct btf *btf, uint32_t id)
{
	for (int i = 0; i < MAX_BTF_DEPTH; i++) {
		const struct btf_type *t = btf__type_by_id(btf, id);

		if (!t)
			return NULL;
		if (!btf_is_typedef(t) && !btf_is_const(t) && !btf_is_volatile(t) &&
		    !btf_is_restrict(t) && !btf_is_type_tag(t))
			return t;
		id = t->type;
	}
	return NULL;
}

static const char *btf_name(const struct btf *btf, uint32_t off)
{
	const char *s = btf__name_by_offset(btf, off);

	return s ? s : "";
}

/* "struct config", "union (anonymous)", "an integer", ... for messages. */
static const char *type_desc(const struct btf *btf, const struct btf_type *t, char *buf, size_t len)
{
	const char *name = btf_name(btf, t->name_off);

	switch (btf_kind(t)) {
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		snprintf(buf, len, "%s %s", btf_is_struct(t) ? "struct" : "union",
			 *name ? name : "(anonymous)");
		return buf;
	case BTF_KIND_INT:
		return "an integer";
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		return "an enum";
	case BTF_KIND_ARRAY:
		return "an array";
	case BTF_KIND_PTR:
		return "a pointer";
	case BTF_KIND_FLOAT:
		return "a float";
	default:
		snprintf(buf, len, "a type of BTF kind %u", btf_kind(t));
		return buf;
	}
}

struct member {
	uint32_t type;
	size_t bit_off;
	uint32_t bitfield_size;
};

/* Member name of struct or union st, members of anonymous struct or union
 * members included (C reaches them by name too). */
static bool find_member(const struct btf *btf, const struct btf_type *st, const char *name,
			size_t base, int depth, struct member *ret)
{
	const struct btf_member *m = btf_members(st);

	if (depth > MAX_BTF_DEPTH)
		return false;
	for (unsigned i = 0; i < btf_vlen(st); i++) {
		const char *mn = btf_name(btf, m[i].name_off);
		size_t off = base + btf_member_bit_offset(st, i);
		const struct btf_type *mt;

		if (*mn) {
			if (strcmp(mn, name))
				continue;
			ret->type = m[i].type;
			ret->bit_off = off;
			ret->bitfield_size = btf_member_bitfield_size(st, i);
			return true;
		}
		mt = skip_mods(btf, m[i].type);
		if (mt && (btf_is_struct(mt) || btf_is_union(mt)) &&
		    find_member(btf, mt, name, off, depth + 1, ret))
			return true;
	}
	return false;
}

static void list_members(const struct btf *btf, const struct btf_type *st, int depth, FILE *f,
			 bool *first)
{
	const struct btf_member *m = btf_members(st);

	if (depth > MAX_BTF_DEPTH)
		return;
	for (unsigned i = 0; i < btf_vlen(st); i++) {
		const char *mn = btf_name(btf, m[i].name_off);
		const struct btf_type *mt;

		if (*mn) {
			fprintf(f, "%s%s", *first ? "" : ", ", mn);
			*first = false;
			continue;
		}
		mt = skip_mods(btf, m[i].type);
		if (mt && (btf_is_struct(mt) || btf_is_union(mt)))
			list_members(btf, mt, depth + 1, f, first);
	}
}

static int encode_fields(struct enc *e, const struct manifest_value *v, const struct btf_type *st,
			 const char *prefix, unsigned char *out, size_t size, int depth);

/* One field given for member m (what: "field 'a.b'"). */
static int encode_field(struct enc *e, const struct manifest_field *f, const struct member *m,
			const char *what, const char *path, unsigned char *out, size_t size,
			int depth)
{
	const struct btf *btf = e->btf;
	const struct btf_type *mt = skip_mods(btf, m->type);
	long msize = btf__resolve_size(btf, m->type);
	size_t off = m->bit_off / 8;
	char buf[128];

	if (!mt || msize < 0 || off > size || (size_t)msize > size - off)
		return diag_error(e->d, &f->name_loc, "%s: malformed BTF type", what);
	switch (f->value.kind) {
	case MANIFEST_VALUE_INT:
		if (!btf_is_int(mt) && !btf_is_any_enum(mt))
			return diag_error(e->d, &f->value.loc,
					  "%s is %s, not an integer: give it %s", what,
					  type_desc(btf, mt, buf, sizeof(buf)),
					  btf_is_struct(mt) ? "as a mapping of its fields"
							    : "as \"0x...\" bytes");
		if (btf_is_int(mt) && (btf_int_encoding(mt) & BTF_INT_BOOL) &&
		    (f->value.negative || f->value.u > 1))
			return diag_error(e->d, &f->value.loc,
					  "%s is a bool: give 0 or 1 (false or true)", what);
		return encode_int(e, &f->value, (size_t)msize, what, out + off);
	case MANIFEST_VALUE_BYTES:
		return encode_bytes(e, &f->value, (size_t)msize, what, out + off);
	case MANIFEST_VALUE_STRUCT:
		if (!btf_is_struct(mt))
			return diag_error(
			    e->d, &f->value.loc, "%s is %s, not a struct: give it as %s", what,
			    type_desc(btf, mt, buf, sizeof(buf)),
			    btf_is_int(mt) || btf_is_any_enum(mt) ? "an integer or \"0x...\" bytes"
								  : "\"0x...\" bytes");
		return encode_fields(e, &f->value, mt, path, out + off, (size_t)msize, depth + 1);
	default:
		return diag_error(e->d, &f->value.loc, "%s: unknown kind of value", what);
	}
}

/* The fields of v into struct st, which out (size bytes) holds. */
static int encode_fields(struct enc *e, const struct manifest_value *v, const struct btf_type *st,
			 const char *prefix, unsigned char *out, size_t size, int depth)
{
	const struct btf *btf = e->btf;
	int ret = 0;

	if (depth > MAX_BTF_DEPTH)
		return diag_error(e->d, &v->loc, "structs nested too deep");
	for (size_t i = 0; i < v->n_fields && !e->err; i++) {
		const struct manifest_field *f = &v->fields[i];
		_cleanup_free_ char *what = NULL, *sub = NULL;
		struct member m;
		char buf[128];
		bool dup = false;
		int r;

		for (size_t j = 0; j < i && !dup; j++)
			dup = !strcmp(v->fields[j].name, f->name);
		if (dup) {
			ret = diag_error(e->d, &f->name_loc, "field '%s%s' given twice", prefix,
					 f->name);
			continue;
		}
		if (!find_member(btf, st, f->name, 0, 0, &m)) {
			_cleanup_free_ char *names = NULL;
			size_t len = 0;
			bool first = true;
			FILE *mf = open_memstream(&names, &len);

			if (!mf)
				return e->err = -ENOMEM;
			list_members(btf, st, 0, mf, &first);
			if (fclose(mf) != 0 || !names)
				return e->err = -ENOMEM;
			ret = diag_error(e->d, &f->name_loc, "%s has no field '%s' (has: %s)",
					 type_desc(btf, st, buf, sizeof(buf)), f->name,
					 first ? "no fields" : names);
			continue;
		}
		if (m.bitfield_size || m.bit_off % 8) {
			ret =
			    diag_error(e->d, &f->name_loc,
				       "field '%s%s' of %s is a bitfield: a bitfield cannot be set",
				       prefix, f->name, type_desc(btf, st, buf, sizeof(buf)));
			continue;
		}
		if (asprintf(&what, "field '%s%s'", prefix, f->name) < 0) {
			what = NULL;
			return e->err = -ENOMEM;
		}
		if (asprintf(&sub, "%s%s.", prefix, f->name) < 0) {
			sub = NULL;
			return e->err = -ENOMEM;
		}
		r = encode_field(e, f, &m, what, sub, out, size, depth);
		if (r < 0)
			ret = r;
	}
	return e->err ?: ret;
}

static int open_btf(struct enc *e, const struct diag_loc *loc)
{
	const struct objfile *of = e->t->of;
	struct btf *btf;

	if (e->btf)
		return 0;
	if (e->btf_failed)
		return -EINVAL;
	btf = btf__new(of->btf, (uint32_t)of->btf_size);
	if (!btf) {
		int err = errno ? errno : EINVAL;

		e->btf_failed = true;
		if (err == ENOMEM)
			return e->err = -ENOMEM;
		return diag_error(e->d, loc, "%s: the BTF of %s cannot be read: %s", e->t->name,
				  of->path, DIAG_STRERROR(err));
	}
	e->btf = btf;
	return 0;
}

/* A key (is_key) or a value, size bytes, into out (zeroed). */
static int encode_value(struct enc *e, const struct manifest_value *v, bool is_key, size_t size,
			unsigned char *out)
{
	const struct contents_target *t = e->t;
	const char *what = is_key ? "key" : "value";
	const struct objfile_map *m;
	const struct btf_type *st;
	uint32_t id;
	long tsize;
	char buf[128];
	int r;

	switch (v->kind) {
	case MANIFEST_VALUE_INT:
		return encode_int(e, v, size, what, out);
	case MANIFEST_VALUE_BYTES:
		return encode_bytes(e, v, size, what, out);
	case MANIFEST_VALUE_STRUCT:
		break;
	default:
		return diag_error(e->d, &v->loc, "%s: unknown kind of value", what);
	}
	if (!t->of || !t->of->btf || t->map >= t->of->n_maps)
		return diag_error(e->d, &v->loc,
				  "%s has no BTF: give the %s as an integer or \"0x...\" bytes",
				  t->name, what);
	m = &t->of->maps[t->map];
	id = is_key ? m->btf_key_type_id : m->btf_value_type_id;
	if (!id)
		return diag_error(
		    e->d, &v->loc,
		    "%s has no BTF type for its %s (it gives a size, not __type(%s, T)): "
		    "give the %s as an integer or \"0x...\" bytes",
		    t->name, what, what, what);
	r = open_btf(e, &v->loc);
	if (r < 0)
		return r;
	st = skip_mods(e->btf, id);
	tsize = btf__resolve_size(e->btf, id);
	if (!st || tsize < 0)
		return diag_error(e->d, &v->loc, "%s: malformed BTF type for its %s", t->name,
				  what);
	if (!btf_is_struct(st))
		return diag_error(e->d, &v->loc,
				  "the %s of %s is %s, not a struct: give it as an integer or "
				  "\"0x...\" bytes",
				  what, t->name, type_desc(e->btf, st, buf, sizeof(buf)));
	if ((size_t)tsize != size)
		return diag_error(e->d, &v->loc, "%s: its BTF %s type has %ld bytes, the map %zu",
				  t->name, what, tsize, size);
	return encode_fields(e, v, st, "", out, size, 0);
}

struct dup_key {
	const unsigned char *key;
	size_t i;
};

static int cmp_dup_keys(const void *a, const void *b, void *arg)
{
	const struct dup_key *x = a, *y = b;
	int c = memcmp(x->key, y->key, *(const uint32_t *)arg);

	if (c)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Every key given twice is an error at the later, naming the first.  LPM
 * trie keys compare by their prefix, as the trie does. */
static int check_duplicates(struct enc *e, const struct desired_entry *entries, const bool *key_ok,
			    size_t n, uint32_t ks)
{
	bool lpm = e->t->type == BPF_MAP_TYPE_LPM_TRIE;
	_cleanup_free_ struct dup_key *sorted = malloc((n + 1) * sizeof(*sorted));
	_cleanup_free_ size_t *first = malloc((n + 1) * sizeof(*first));
	_cleanup_free_ unsigned char *canon = lpm ? malloc(n * (size_t)ks + 1) : NULL;
	size_t m = 0;
	int ret = 0;

	if (!sorted || !first || (lpm && !canon))
		return e->err = -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const unsigned char *k = entries[i].key;

		first[i] = SIZE_MAX;
		if (!key_ok[i])
			continue;
		if (lpm) {
			memcpy(canon + i * ks, k, ks);
			lpm_canon(canon + i * ks, ks);
			k = canon + i * ks;
		}
		sorted[m++] = (struct dup_key){ .key = k, .i = i };
	}
	qsort_r(sorted, m, sizeof(*sorted), cmp_dup_keys, &ks);
	for (size_t i = 1, g = 0; i < m; i++) {
		if (memcmp(sorted[g].key, sorted[i].key, ks)) {
			g = i;
			continue;
		}
		first[sorted[i].i] = sorted[g].i;
	}
	for (size_t i = 0; i < n; i++) {
		if (first[i] == SIZE_MAX)
			continue;
		ret = diag_error(e->d, &entries[i].src->key.loc,
				 "the same key as the entry on line %u",
				 entries[first[i]].src->key.loc.line);
	}
	return ret;
}

static void entries_free(struct desired_entry *entries, size_t n)
{
	for (size_t i = 0; entries && i < n; i++) {
		free(entries[i].key);
		free(entries[i].value);
	}
	free(entries);
}

static int program_entry(struct enc *e, const struct manifest_map_entry *me,
			 struct desired_entry *de)
{
	const struct contents_target *t = e->t;
	const struct objfile_prog *p;
	_cleanup_free_ char *names = NULL;
	size_t len = 0;
	FILE *f;

	if (!t->of)
		return diag_error(e->d, &me->program_loc,
				  "%s is standalone: it has no object whose program '%s' it could "
				  "hold",
				  t->name, me->program);
	p = objfile_prog_by_name(t->of, me->program);
	if (p) {
		de->is_prog = true;
		de->prog = (size_t)(p - t->of->progs);
		return 0;
	}
	f = open_memstream(&names, &len);
	if (!f)
		return e->err = -ENOMEM;
	for (size_t i = 0; i < t->of->n_progs; i++)
		fprintf(f, "%s%s", i ? ", " : "", t->of->progs[i].name);
	if (fclose(f) != 0 || !names)
		return e->err = -ENOMEM;
	return diag_error(e->d, &me->program_loc, "%s has no program '%s' (has: %s)", t->of->path,
			  me->program, t->of->n_progs ? names : "no programs");
}

static int encode_entry(struct enc *e, const struct manifest_map_entry *me, size_t value_bytes,
			struct desired_entry *de, bool *key_ok)
{
	const struct contents_target *t = e->t;
	_cleanup_free_ unsigned char *value = NULL;
	char tbuf[32];
	int ret = 0, r;

	de->src = me;
	de->key = calloc(1, t->key_size ? t->key_size : 1);
	if (!de->key)
		return e->err = -ENOMEM;
	r = encode_value(e, &me->key, true, t->key_size, de->key);
	if (r == 0 && t->type == BPF_MAP_TYPE_LPM_TRIE && t->key_size > 4) {
		uint32_t plen;

		memcpy(&plen, de->key, 4);
		if (plen > 8 * (t->key_size - 4))
			r = diag_error(e->d, &me->key.loc,
				       "prefix length %" PRIu32 " is longer than the %" PRIu32
				       " bits of %s's keys",
				       plen, 8 * (t->key_size - 4), t->name);
	}
	if (r == 0 && map_is_indexed(t->type) && t->key_size == 4) {
		uint32_t idx;

		memcpy(&idx, de->key, 4);
		if (idx >= t->max_entries)
			r = diag_error(e->d, &me->key.loc,
				       "key %" PRIu32 " is past the end of %s (max_entries %" PRIu32
				       ": keys 0 to %" PRIu32 ")",
				       idx, t->name, t->max_entries, t->max_entries - 1);
	}
	*key_ok = r == 0;
	if (r < 0)
		ret = r;
	if (e->err)
		return e->err;

	if (me->program) {
		if (t->type != BPF_MAP_TYPE_PROG_ARRAY)
			return diag_error(e->d, &me->program_loc,
					  "%s is a %s map: only a prog_array holds programs",
					  t->name, map_type_str(t->type, tbuf));
		r = program_entry(e, me, de);
		return r < 0 ? r : ret;
	}
	if (t->type == BPF_MAP_TYPE_PROG_ARRAY && !t->of)
		return diag_error(e->d, &me->value.loc,
				  "%s is a standalone prog_array map: its slots hold programs, and "
				  "it has no object to take them from",
				  t->name);
	if (t->type == BPF_MAP_TYPE_PROG_ARRAY)
		return diag_error(
		    e->d, &me->value.loc,
		    "%s is a prog_array map: give a program (program: NAME), not a value", t->name);

	value = calloc(1, t->value_size ? t->value_size : 1);
	de->value = calloc(1, value_bytes ? value_bytes : 1);
	if (!value || !de->value)
		return e->err = -ENOMEM;
	r = encode_value(e, &me->value, false, t->value_size, value);
	if (r < 0)
		return r;
	if (map_is_percpu(t->type)) {
		size_t stride = ((size_t)t->value_size + 7) & ~(size_t)7;

		for (size_t off = 0; stride && off + stride <= value_bytes; off += stride)
			memcpy(de->value + off, value, t->value_size);
	} else {
		memcpy(de->value, value, t->value_size);
	}
	return ret;
}

int contents_encode(const struct manifest_contents *mc, const struct contents_target *t,
		    struct diag *d, struct desired_contents *ret)
{
	struct enc e = { .t = t, .d = d };
	struct desired_entry *entries = NULL;
	_cleanup_free_ bool *key_ok = NULL;
	size_t value_bytes;
	char tbuf[32];
	int err = 0, r;

	switch (map_writable(t->type)) {
	case WRITABLE_ENTRIES:
	case WRITABLE_PROGRAMS:
		break;
	case WRITABLE_NONE:
		return diag_error(d, &mc->loc, "%s: a %s map has no entries to write", t->name,
				  map_type_str(t->type, tbuf));
	case WRITABLE_FDS:
		return diag_error(d, &mc->loc,
				  "%s: a %s map holds file descriptors: its entries cannot be "
				  "written from a manifest",
				  t->name, map_type_str(t->type, tbuf));
	default:
		return diag_error(d, &mc->loc,
				  "%s: a map of %s: bpf-provision does not know how to write its "
				  "entries",
				  t->name, map_type_str(t->type, tbuf));
	}
	if (map_is_percpu(t->type)) {
		int ncpu = libbpf_num_possible_cpus();

		if (ncpu <= 0)
			return diag_error(d, &mc->loc, "%s: cannot count the possible CPUs: %s",
					  t->name, DIAG_STRERROR(ncpu < 0 ? -ncpu : EINVAL));
	}
	value_bytes = sys_map_value_bytes(t->type, t->value_size);

	if (mc->n_entries > t->max_entries)
		err = diag_error(d, &mc->loc, "%s holds at most %" PRIu32 " entries, %zu given",
				 t->name, t->max_entries, mc->n_entries);
	entries = calloc(mc->n_entries + 1, sizeof(*entries));
	key_ok = calloc(mc->n_entries + 1, sizeof(*key_ok));
	if (!entries || !key_ok) {
		e.err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < mc->n_entries && !e.err; i++) {
		r = encode_entry(&e, &mc->entries[i], value_bytes, &entries[i], &key_ok[i]);
		if (r < 0)
			err = r;
	}
	if (!e.err) {
		r = check_duplicates(&e, entries, key_ok, mc->n_entries, t->key_size);
		if (r < 0)
			err = r;
	}
out:
	btf__free(e.btf);
	if (e.err) {
		entries_free(entries, mc->n_entries);
		diag_error(d, &mc->loc, "out of memory");
		return e.err;
	}
	if (err < 0) {
		entries_free(entries, mc->n_entries);
		return -EINVAL;
	}
	*ret = (struct desired_contents){
	    .entries = entries,
	    .n = mc->n_entries,
	    .seed = mc->seed,
	    .exact = mc->exact,
	    .key_size = t->key_size,
	    .value_bytes = value_bytes,
	};
	return 0;
}

void contents_done(struct desired_contents *c)
{
	if (!c)
		return;
	entries_free(c->entries, c->n);
	free(c->extra);
	*c = (struct desired_contents){ 0 };
}

/* -------------------------------------------------------------------- */
/* Observing */

static int prog_tag(uint32_t id, uint8_t tag[8])
{
	_cleanup_close_ int fd = bpf_prog_get_fd_by_id(id);

	return fd < 0 ? -errno : kind_prog_tag(fd, tag);
}

static bool value_equal(const struct desired_pin *p, const unsigned char *have,
			const unsigned char *want, size_t value_bytes)
{
	uint32_t vs = p->spec.value_size;
	size_t stride;

	if (!map_is_percpu(p->spec.type))
		return !memcmp(have, want, value_bytes);
	/* Each CPU's copy, not the padding to 8 bytes, which holds whatever
	 * its last writer passed. */
	stride = ((size_t)vs + 7) & ~(size_t)7;
	for (size_t off = 0; stride && off + stride <= value_bytes; off += stride)
		if (memcmp(have + off, want + off, vs))
			return false;
	return true;
}

static bool all_zero(const struct desired_pin *p, const unsigned char *v, size_t value_bytes)
{
	uint32_t vs = p->spec.value_size;
	size_t stride = map_is_percpu(p->spec.type) ? ((size_t)vs + 7) & ~(size_t)7 : value_bytes;

	for (size_t off = 0; stride && off + stride <= value_bytes; off += stride)
		for (size_t i = 0; i < vs && off + i < value_bytes; i++)
			if (v[off + i])
				return false;
	return true;
}

/* BPF_MAP_GET_NEXT_KEY (key NULL: the first) with the whole attr cleared:
 * libbpf 1.1's bpf_map_get_next_key() clears only part of it. */
static int map_next_key(int fd, const void *key, void *next)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (uint32_t)fd;
	attr.key = (uint64_t)(uintptr_t)key;
	attr.next_key = (uint64_t)(uintptr_t)next;
	return syscall(__NR_bpf, BPF_MAP_GET_NEXT_KEY, &attr, sizeof(attr)) < 0 ? -errno : 0;
}

/* Where a map's entries are read from: the live map (fd), or the entries
 * a snapshot recorded (data, offline; obs for the tags of the programs
 * its program arrays held).  The walk below is the same for both. */
struct map_src {
	int fd;
	const struct observed_data *data;
	const struct observed *obs;
	bool lpm;
};

/* The first recorded key after key (memcmp order; NULL: the first). */
static int data_next_key(const struct observed_data *m, const void *key, void *next)
{
	size_t lo = 0, hi = m->n;

	while (key && lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(m->keys + mid * m->key_size, key, m->key_size) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= m->n)
		return -ENOENT;
	memcpy(next, m->keys + lo * m->key_size, m->key_size);
	return 0;
}

/* A recorded entry's value, as a lookup of key would give it; an LPM
 * trie's key matches one of the same prefix (the caller checked it is
 * held). */
static int data_lookup(const struct map_src *src, const void *key, void *value)
{
	const struct observed_data *m = src->data;
	_cleanup_free_ unsigned char *want = malloc(m->key_size + 1), *have = malloc(m->key_size + 1);

	if (!want || !have)
		return -ENOMEM;
	if (!src->lpm) {
		size_t lo = 0, hi = m->n;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int c = memcmp(m->keys + mid * m->key_size, key, m->key_size);

			if (c == 0) {
				memcpy(value, m->values + mid * m->value_bytes, m->value_bytes);
				return 0;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		return -ENOENT;
	}
	memcpy(want, key, m->key_size);
	lpm_canon(want, m->key_size);
	for (size_t i = 0; i < m->n; i++) {
		memcpy(have, m->keys + i * m->key_size, m->key_size);
		lpm_canon(have, m->key_size);
		if (memcmp(have, want, m->key_size) == 0) {
			memcpy(value, m->values + i * m->value_bytes, m->value_bytes);
			return 0;
		}
	}
	return -ENOENT;
}

static int src_next_key(const struct map_src *src, const void *key, void *next)
{
	return src->data ? data_next_key(src->data, key, next) : map_next_key(src->fd, key, next);
}

static int src_lookup(const struct map_src *src, const void *key, void *value)
{
	if (src->data)
		return data_lookup(src, key, value);
	return bpf_map_lookup_elem(src->fd, key, value) < 0 ? -errno : 0;
}

static int src_prog_tag(const struct map_src *src, uint32_t id, uint8_t tag[8])
{
	const uint8_t *t;

	if (!src->data)
		return prog_tag(id, tag);
	t = observed_prog_tag(src->obs, id);
	if (!t)
		return -ENOENT;
	memcpy(tag, t, 8);
	return 0;
}

static int cmp_keys_flat(const void *a, const void *b, void *arg)
{
	return memcmp(a, b, *(const uint32_t *)arg);
}

/* Keys of ks bytes each, sorted (canonical for an LPM trie). */
struct keyset {
	unsigned char *keys;
	size_t n;
	uint32_t ks;
};

static void keyset_sort(struct keyset *s, bool lpm)
{
	if (lpm)
		for (size_t i = 0; i < s->n; i++)
			lpm_canon(s->keys + i * s->ks, s->ks);
	if (s->ks)
		qsort_r(s->keys, s->n, s->ks, cmp_keys_flat, &s->ks);
}

static bool keyset_has(const struct keyset *s, const unsigned char *key)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(s->keys + mid * s->ks, key, s->ks);

		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int keyset_add(struct keyset *s, size_t *cap, const unsigned char *key)
{
	size_t ks = s->ks ? s->ks : 1;

	if (s->n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 16;
		unsigned char *nk = realloc(s->keys, ncap * ks);

		if (!nk)
			return -ENOMEM;
		s->keys = nk;
		*cap = ncap;
	}
	memcpy(s->keys + s->n * s->ks, key, s->ks);
	s->n++;
	return 0;
}

/* Every key the map holds, sorted.  A hash map changing under the walk may
 * start it over: the walk is bounded, and a key may come twice. */
static int list_keys(const struct desired_pin *p, const struct map_src *src, uint32_t max_entries,
		     struct diag *d, const char *path, struct keyset *ret)
{
	uint32_t ks = p->contents->key_size;
	_cleanup_free_ unsigned char *prev = malloc(ks ? ks : 1), *next = malloc(ks ? ks : 1);
	struct keyset s = { .ks = ks };
	uint64_t limit = 2 * (uint64_t)max_entries + 16;
	size_t cap = 0;
	bool have_prev = false;

	if (!prev || !next)
		return -ENOMEM;
	for (uint64_t step = 0; step < limit; step++) {
		int err = src_next_key(src, have_prev ? prev : NULL, next);
		unsigned char *tmp;

		if (err == -ENOENT)
			break;
		if (err < 0) {
			free(s.keys);
			diag_error(d, &p->loc, "cannot list the keys of the map at %s: %s", path,
				   DIAG_STRERROR(-err));
			return err;
		}
		if (keyset_add(&s, &cap, next) < 0) {
			free(s.keys);
			return -ENOMEM;
		}
		tmp = prev;
		prev = next;
		next = tmp;
		have_prev = true;
	}
	keyset_sort(&s, p->spec.type == BPF_MAP_TYPE_LPM_TRIE);
	*ret = s;
	return 0;
}

/* The keys held (held) that no entry lists (see the top of the file). */
static int collect_extra(const struct desired_pin *p, const struct map_src *src,
			 const struct keyset *held,
			 unsigned char *value, struct diag *d, const char *path)
{
	struct desired_contents *c = p->contents;
	uint32_t ks = c->key_size;
	_cleanup_free_ unsigned char *listed_keys = malloc(c->n * (size_t)ks + 1);
	struct keyset listed = { .keys = listed_keys, .n = c->n, .ks = ks };
	struct keyset extra = { .ks = ks };
	size_t cap = 0;

	if (!listed_keys)
		return -ENOMEM;
	for (size_t i = 0; i < c->n; i++)
		memcpy(listed.keys + i * ks, c->entries[i].key, ks);
	keyset_sort(&listed, p->spec.type == BPF_MAP_TYPE_LPM_TRIE);

	for (size_t i = 0; i < held->n; i++) {
		const unsigned char *k = held->keys + i * ks;

		if (keyset_has(&listed, k) || (i && !memcmp(k - ks, k, ks)))
			continue;
		if (map_is_indexed(p->spec.type)) {
			/* Every index exists: what matters is what it holds. */
			int err = -src_lookup(src, k, value);

			if (err == ENOENT)
				continue;
			if (err) {
				free(extra.keys);
				diag_error(d, &p->loc, "cannot read the map at %s: %s", path,
					   DIAG_STRERROR(err));
				return -err;
			}
			if (map_is_plain_array(p->spec.type) && all_zero(p, value, c->value_bytes))
				continue;
		}
		if (keyset_add(&extra, &cap, k) < 0) {
			free(extra.keys);
			return -ENOMEM;
		}
	}
	c->extra = extra.keys;
	c->n_extra = extra.n;
	return 0;
}

/* Whether the entry's key is one the map holds.  LPM tries only: their
 * lookup finds the longest prefix that matches, not the key itself. */
static int lpm_held(const struct keyset *held, const unsigned char *key, bool *ret)
{
	_cleanup_free_ unsigned char *k = malloc(held->ks ? held->ks : 1);

	if (!k)
		return -ENOMEM;
	memcpy(k, key, held->ks);
	lpm_canon(k, held->ks);
	*ret = keyset_has(held, k);
	return 0;
}

static int observe_pin(const struct desired_pin *p, const struct observed *obs, struct diag *d)
{
	struct desired_contents *c = p->contents;
	const struct observed_entry *oe;
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ unsigned char *value = NULL;
	_cleanup_close_ int fd = -1;
	LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = BPF_F_RDONLY);
	struct bpf_map_info info;
	uint32_t len = sizeof(info);
	struct keyset held = { 0 };
	bool lpm = p->spec.type == BPF_MAP_TYPE_LPM_TRIE;
	struct map_src src = { .fd = -1, .obs = obs, .lpm = lpm };
	uint32_t max_entries;
	bool want_extra = c->exact && c->seed == MANIFEST_SEED_ENFORCE;
	size_t root_len;
	int err;

	c->observed = false;
	free(c->extra);
	c->extra = NULL;
	c->n_extra = 0;
	for (size_t i = 0; i < c->n; i++)
		c->entries[i].differs = c->entries[i].absent = false;

	/* Anything else at the path is the planner's to replace. */
	oe = observed_find(obs, p->path);
	if (!oe || oe->kind != OBSERVED_MAP || oe->type != p->spec.type ||
	    oe->key_size != p->spec.key_size || oe->value_size != p->spec.value_size ||
	    c->key_size != p->spec.key_size ||
	    c->value_bytes != sys_map_value_bytes(p->spec.type, p->spec.value_size))
		return 0;

	root_len = strlen(obs->root);
	while (root_len > 1 && obs->root[root_len - 1] == '/')
		root_len--;
	if (asprintf(&path, "%.*s/%s", (int)root_len, obs->root, p->path) < 0) {
		path = NULL;
		return -ENOMEM;
	}
	if (obs->offline) {
		/* A snapshot holds what the map held, or nothing to compare. */
		if (!oe->data || oe->data->key_size != c->key_size ||
		    oe->data->value_bytes != c->value_bytes)
			return 0;
		src.data = oe->data;
		max_entries = oe->max_entries;
	} else {
		fd = bpf_obj_get_opts(path, &opts);
		if (fd < 0) {
			err = errno;
			if (err == ENOENT) /* gone since the scan */
				return 0;
			diag_error(d, &p->loc, "cannot open the map at %s: %s", path,
				   DIAG_STRERROR(err));
			return -err;
		}
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
			err = errno;
			diag_error(d, &p->loc, "cannot read the map at %s: %s", path,
				   DIAG_STRERROR(err));
			return -err;
		}
		if (info.id != oe->id) /* replaced since the scan */
			return 0;
		src.fd = fd;
		max_entries = info.max_entries;
	}

	/* Zeroed: valgrind takes a per-CPU lookup for value_size bytes. */
	value = calloc(1, c->value_bytes ? c->value_bytes : 1);
	if (!value)
		return -ENOMEM;
	if (lpm || want_extra) {
		err = list_keys(p, &src, max_entries, d, path, &held);
		if (err < 0)
			return err;
	}
	err = 0;
	for (size_t i = 0; i < c->n && err == 0; i++) {
		struct desired_entry *de = &c->entries[i];
		bool there = true;

		if (lpm)
			err = lpm_held(&held, de->key, &there);
		if (err < 0)
			break;
		if (!there) {
			de->absent = de->differs = true;
			continue;
		}
		err = src_lookup(&src, de->key, value);
		if (err < 0) {
			if (err != -ENOENT) {
				diag_error(d, de->src ? &de->src->key.loc : &p->loc,
					   "cannot read the map at %s: %s", path,
					   DIAG_STRERROR(-err));
				break;
			}
			err = 0;
			de->absent = de->differs = true;
			continue;
		}
		if (de->is_prog) {
			uint32_t id;
			uint8_t tag[8];

			memcpy(&id, value, sizeof(id));
			err = src_prog_tag(&src, id, tag);
			if (err == -ENOENT) { /* emptied since the lookup */
				err = 0;
				de->absent = de->differs = true;
				continue;
			}
			if (err < 0) {
				diag_error(d, de->src ? &de->src->program_loc : &p->loc,
					   "cannot read program %" PRIu32 " in the map at %s: %s",
					   id, path, DIAG_STRERROR(-err));
				break;
			}
			/* Offline, a program whose tag is unknown may be another. */
			de->differs = de->tag_unknown || (de->has_tag && memcmp(tag, de->tag, 8) != 0);
			continue;
		}
		de->differs = !de->value || !value_equal(p, value, de->value, c->value_bytes);
	}
	if (err == 0 && want_extra)
		err = collect_extra(p, &src, &held, value, d, path);
	free(held.keys);
	if (err < 0)
		return err;
	c->observed = true;
	return 0;
}

int contents_observe(struct desired *des, const struct observed *obs, struct diag *d)
{
	int ret = 0;

	for (size_t i = 0; i < des->n_pins; i++) {
		const struct desired_pin *p = &des->pins[i];
		int r;

		if (p->kind != KIND_MAP || !p->contents)
			continue;
		r = observe_pin(p, obs, d);
		if (r == -ENOMEM) {
			diag_error(d, &p->loc, "out of memory");
			return r;
		}
		if (r < 0 && ret == 0)
			ret = r;
	}
	return ret;
}
