// SPDX-License-Identifier: MIT
/* Unit tests of map contents (contents.c).  Encoding, without a kernel:
 * entries built by hand as the manifest parser fills them, against
 * standalone targets and against the maps of tests/bpf/contents_btf.o
 * (struct keys and values by BTF, a per-CPU array, a program array) -
 * every rule and every error with its location.  Observing, against real
 * maps pinned in a private bpffs mounted on a fresh directory under /tmp
 * for each test (never /sys/fs/bpf): values equal, different and absent,
 * per-CPU copies, program slots by tag, the keys an exact map holds beyond
 * its entries, and maps the planner replaces left unobserved.  Without the
 * privilege to mount bpffs the kernel tests print SKIP (a failure with
 * BPF_PROVISION_REQUIRE_ALL=1). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "check_suites.h"
#include "contents.h"
#include "desired.h"
#include "observed.h"
#include "sys.h"

#define FILE_NAME "t.yaml"

static struct diag_loc loc(unsigned line)
{
	return (struct diag_loc){.file = FILE_NAME, .line = line, .column = 5};
}

/* Values as the parser makes them; line: where it is written. */
static struct manifest_value U(uint64_t u, unsigned line) {
	return (struct manifest_value){.kind = MANIFEST_VALUE_INT, .u = u, .loc = loc(line)};
}

static struct manifest_value
I(int64_t v, unsigned line) {
	return (struct manifest_value){
	    .kind = MANIFEST_VALUE_INT, .u = (uint64_t)v, .negative = v < 0, .loc = loc(line)};
}

static struct manifest_value
B(const void *bytes, size_t n, unsigned line) {
	return (struct manifest_value){.kind = MANIFEST_VALUE_BYTES,
				       .bytes = (unsigned char *)bytes,
				       .n_bytes = n,
				       .loc = loc(line)};
}

static struct manifest_value
S(struct manifest_field *fields, size_t n, unsigned line) {
	return (struct manifest_value){
	    .kind = MANIFEST_VALUE_STRUCT, .fields = fields, .n_fields = n, .loc = loc(line)};
}

static struct manifest_field
F(const char *name, struct manifest_value v) {
	struct diag_loc l = v.loc;

	l.column = 3;
	return (struct manifest_field){.name = (char *)name, .name_loc = l, .value = v};
}

static struct manifest_map_entry
E(struct manifest_value key, struct manifest_value value) {
	return (struct manifest_map_entry){.key = key, .value = value, .loc = key.loc};
}

static struct manifest_map_entry
P(struct manifest_value key, const char *prog, unsigned line) {
	return (struct manifest_map_entry){
	    .key = key, .program = (char *)prog, .program_loc = loc(line), .loc = key.loc};
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct manifest_contents
mc_of(struct manifest_map_entry *e, size_t n)
{
	return (struct manifest_contents){.entries = e,
					  .n_entries = n,
					  .has_entries = true,
					  .loc = loc(1),
					  .seed = MANIFEST_SEED_ENFORCE,
					  .exact = false};
}

/* A map of no object. */
static struct contents_target standalone(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max)
{
	return (struct contents_target){.name = "map 'solo'",
					.type = type,
					.key_size = ks,
					.value_size = vs,
					.max_entries = max};
}

static char *obj_path(const char *name)
{
	char *p;

	ck_assert_int_ge(asprintf(&p, "%s/tests/bpf/%s.o", test_builddir(), name), 0);
	return p;
}

static struct objfile *open_obj(const char *name)
{
	char *path = obj_path(name);
	struct diag d = {0};
	struct objfile *o = NULL;
	int r = objfile_open(path, &d, &o);

	if (r < 0 && d.n_msgs)
		ck_abort_msg("%s: %s", path, d.msgs[0].text);
	ck_assert_int_eq(r, 0);
	diag_done(&d);
	free(path);
	return o;
}

/* The map of an object as desired.c describes it. */
static struct contents_target obj_target(const struct objfile *of, const char *map)
{
	static char names[8][64];
	static unsigned next;
	const struct objfile_map *m = objfile_map_by_name(of, map);
	char *name = names[next++ % 8];

	ck_assert_msg(m, "no map '%s' in %s", map, of->path);
	snprintf(name, sizeof(names[0]), "map '%s'", map);
	return (struct contents_target){.name = name,
					.type = m->type,
					.key_size = m->key_size,
					.value_size = m->value_size,
					.max_entries = m->max_entries,
					.of = of,
					.map = (size_t)(m - of->maps)};
}

static void encode_ok(const struct manifest_contents *mc, const struct contents_target *t,
		      struct desired_contents *c)
{
	struct diag d = {0};
	int r = contents_encode(mc, t, &d, c);

	if (r < 0 && d.n_msgs)
		ck_abort_msg("encode: %u: %s", d.msgs[0].line, d.msgs[0].text);
	ck_assert_int_eq(r, 0);
	ck_assert_uint_eq(d.n_msgs, 0);
	diag_done(&d);
}

/* Encoding fails with n errors, ret untouched. */
static void encode_fails(const struct manifest_contents *mc, const struct contents_target *t,
			 struct diag *d, size_t n)
{
	struct desired_contents c;

	memset(&c, 0xa5, sizeof(c));
	ck_assert_int_eq(contents_encode(mc, t, d, &c), -EINVAL);
	for (size_t i = 0; i < d->n_msgs; i++)
		fprintf(stderr, "  (expected) %s:%u:%u: %s\n", d->msgs[i].file, d->msgs[i].line,
			d->msgs[i].column, d->msgs[i].text);
	ck_assert_uint_eq(d->n_errors, n);
	ck_assert_uint_eq(d->n_msgs, n);
	ck_assert_uint_eq(((unsigned char *)&c)[0], 0xa5);
}

/* One of d's messages is text, at line (and column when not 0). */
static void has_msg(const struct diag *d, unsigned line, unsigned column, const char *text)
{
	for (size_t i = 0; i < d->n_msgs; i++)
		if (d->msgs[i].line == line && !strcmp(d->msgs[i].text, text)) {
			ck_assert_str_eq(d->msgs[i].file, FILE_NAME);
			if (column)
				ck_assert_uint_eq(d->msgs[i].column, column);
			return;
		}
	for (size_t i = 0; i < d->n_msgs; i++)
		fprintf(stderr, "  have %u: %s\n", d->msgs[i].line, d->msgs[i].text);
	ck_abort_msg("no message at line %u: %s", line, text);
}

static void bytes_eq(const unsigned char *have, const void *want, size_t n)
{
	if (memcmp(have, want, n) == 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (have[i] != ((const unsigned char *)want)[i])
			ck_abort_msg("byte %zu: have 0x%02x, want 0x%02x", i, have[i],
				     ((const unsigned char *)want)[i]);
}

/* ------------------------------------------------------------------ */
/* Encoding */

START_TEST(test_int_fits)
{
	struct manifest_map_entry e[] = {
	    E(U(255, 10), I(-32768, 11)),
	    E(I(-128, 12), U(65535, 13)),
	    E(I(-2, 14), I(-1, 15)),
	    E(U(0, 16), U(0x1234, 17)),
	};
	struct manifest_contents mc = mc_of(e, N(e));
	struct contents_target t = standalone(BPF_MAP_TYPE_HASH, 1, 2, 8);
	struct desired_contents c;

	encode_ok(&mc, &t, &c);
	ck_assert_uint_eq(c.n, 4);
	ck_assert_uint_eq(c.key_size, 1);
	ck_assert_uint_eq(c.value_bytes, 2);
	ck_assert_int_eq(c.seed, MANIFEST_SEED_ENFORCE);
	ck_assert(!c.exact);
	bytes_eq(c.entries[0].key, "\xff", 1);
	bytes_eq(c.entries[0].value, "\x00\x80", 2);
	bytes_eq(c.entries[1].key, "\x80", 1);
	bytes_eq(c.entries[1].value, "\xff\xff", 2);
	bytes_eq(c.entries[2].key, "\xfe", 1);
	bytes_eq(c.entries[2].value, "\xff\xff", 2);
	bytes_eq(c.entries[3].value, "\x34\x12", 2);
	for (size_t i = 0; i < c.n; i++) {
		ck_assert_ptr_eq(c.entries[i].src, &e[i]);
		ck_assert(!c.entries[i].is_prog);
		ck_assert(!c.entries[i].differs && !c.entries[i].absent);
	}
	ck_assert(!c.observed);
	ck_assert_ptr_null(c.extra);
	contents_done(&c);
	ck_assert_ptr_null(c.entries);
	ck_assert_uint_eq(c.n, 0);
	contents_done(&c); /* twice is harmless */
}
END_TEST

START_TEST(test_int_wide)
{
	struct manifest_map_entry e[] = {
	    E(U(UINT64_MAX, 10), U(5, 11)),
	    E(I(INT64_MIN, 12), I(-2, 13)),
	};
	struct manifest_contents mc = mc_of(e, N(e));
	struct contents_target t = standalone(BPF_MAP_TYPE_HASH, 8, 12, 8);
	struct desired_contents c;

	encode_ok(&mc, &t, &c);
	bytes_eq(c.entries[0].key, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
	/* Wider than 8 bytes: zero-extended, or sign-extended when negative. */
	bytes_eq(c.entries[0].value, "\x05\0\0\0\0\0\0\0\0\0\0\0", 12);
	bytes_eq(c.entries[1].key, "\0\0\0\0\0\0\0\x80", 8);
	bytes_eq(c.entries[1].value, "\xfe\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 12);
	contents_done(&c);
}
END_TEST

START_TEST(test_int_too_big)
{
	struct manifest_map_entry e[] = {
	    E(U(256, 10), I(-32769, 11)),
	    E(I(-129, 12), U(65536, 13)),
	    E(U(7, 14), U(UINT64_MAX, 15)),
	};
	struct manifest_contents mc = mc_of(e, N(e));
	struct contents_target t = standalone(BPF_MAP_TYPE_HASH, 1, 2, 8);
	struct diag d = {0};

	encode_fails(&mc, &t, &d, 5);
	has_msg(&d, 10, 5, "key: 256 does not fit in 1 byte (-128 to 255)");
	has_msg(&d, 11, 5, "value: -32769 does not fit in 2 bytes (-32768 to 65535)");
	has_msg(&d, 12, 5, "key: -129 does not fit in 1 byte (-128 to 255)");
	has_msg(&d, 13, 5, "value: 65536 does not fit in 2 bytes (-32768 to 65535)");
	has_msg(&d, 15, 5, "value: 18446744073709551615 does not fit in 2 bytes (-32768 to 65535)");
	diag_done(&d);
}
END_TEST

START_TEST(test_bytes)
{
	static const unsigned char k[] = {0xde, 0xad, 0xbe, 0xef}, v[] = {1, 2, 3, 4, 5, 6},
				   short_v[] = {1, 2};
	struct manifest_map_entry ok[] = {E(B(k, 4, 10), B(v, 6, 11))};
	struct manifest_map_entry bad[] = {E(B(k, 3, 12), B(short_v, 2, 13)),
					   E(B(k, 4, 14), B(v, 6, 15))};
	struct manifest_contents mc = mc_of(ok, N(ok));
	struct contents_target t = standalone(BPF_MAP_TYPE_LRU_HASH, 4, 6, 8);
	struct desired_contents c;
	struct diag d = {0};

	encode_ok(&mc, &t, &c);
	bytes_eq(c.entries[0].key, k, 4); /* in the order written */
	bytes_eq(c.entries[0].value, v, 6);
	contents_done(&c);

	mc = mc_of(bad, N(bad));
	encode_fails(&mc, &t, &d, 2);
	has_msg(&d, 12, 5, "key: 3 bytes given, it takes exactly 4");
	has_msg(&d, 13, 5, "value: 2 bytes given, it takes exactly 6");
	diag_done(&d);
}
END_TEST

START_TEST(test_percpu)
{
	struct manifest_map_entry e[] = {E(U(1, 10), U(0xaabbccdd, 11))};
	struct manifest_contents mc = mc_of(e, N(e));
	int ncpu = libbpf_num_possible_cpus();
	static const uint32_t types[] = {BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH,
					 BPF_MAP_TYPE_LRU_PERCPU_HASH};

	ck_assert_int_gt(ncpu, 0);
	for (size_t k = 0; k < N(types); k++) {
		struct contents_target t = standalone(types[k], 4, 4, 4);
		struct desired_contents c;

		encode_ok(&mc, &t, &c);
		ck_assert_uint_eq(c.value_bytes, 8 * (size_t)ncpu);
		ck_assert_uint_eq(c.value_bytes, sys_map_value_bytes(types[k], 4));
		for (int cpu = 0; cpu < ncpu; cpu++)
			bytes_eq(c.entries[0].value + 8 * cpu, "\xdd\xcc\xbb\xaa\0\0\0\0", 8);
		contents_done(&c);
	}
}
END_TEST

START_TEST(test_not_writable)
{
	struct manifest_map_entry e[] = {E(U(1, 10), U(1, 11))};
	struct manifest_contents mc = mc_of(e, N(e));
	static const struct {
		uint32_t type;
		const char *text;
	} cases[] = {
	    {BPF_MAP_TYPE_RINGBUF, "map 'solo': a ringbuf map has no entries to write"},
	    {BPF_MAP_TYPE_USER_RINGBUF, "map 'solo': a user_ringbuf map has no entries to write"},
	    {BPF_MAP_TYPE_PERF_EVENT_ARRAY,
	     "map 'solo': a perf_event_array map has no entries to write"},
	    {BPF_MAP_TYPE_STACK_TRACE, "map 'solo': a stack_trace map has no entries to write"},
	    {BPF_MAP_TYPE_STRUCT_OPS, "map 'solo': a struct_ops map has no entries to write"},
	    {BPF_MAP_TYPE_BLOOM_FILTER, "map 'solo': a bloom_filter map has no entries to write"},
	    {BPF_MAP_TYPE_QUEUE, "map 'solo': a queue map has no entries to write"},
	    {BPF_MAP_TYPE_STACK, "map 'solo': a stack map has no entries to write"},
	    {BPF_MAP_TYPE_HASH_OF_MAPS, "map 'solo': a hash_of_maps map holds file "
					"descriptors: its entries cannot be written from a "
					"manifest"},
	    {BPF_MAP_TYPE_SOCKMAP, "map 'solo': a sockmap map holds file descriptors: its "
				   "entries cannot be written from a manifest"},
	    {999, "map 'solo': a map of type 999: bpf-provision does not know how to write "
		  "its entries"},
	};

	for (size_t k = 0; k < N(cases); k++) {
		struct contents_target t = standalone(cases[k].type, 4, 4, 4);
		struct diag d = {0};

		encode_fails(&mc, &t, &d, 1);
		has_msg(&d, 1, 5, cases[k].text);
		diag_done(&d);
	}
}
END_TEST

START_TEST(test_duplicates)
{
	static const unsigned char one[] = {1, 0, 0, 0};
	struct manifest_map_entry e[] = {
	    E(U(1, 10), U(1, 11)), E(U(2, 12), U(2, 13)), E(B(one, 4, 14), U(3, 15)),
	    E(U(2, 16), U(4, 17)), E(U(1, 18), U(5, 19)),
	};
	struct manifest_contents mc = mc_of(e, N(e));
	struct contents_target t = standalone(BPF_MAP_TYPE_HASH, 4, 4, 8);
	struct diag d = {0};

	encode_fails(&mc, &t, &d, 3);
	has_msg(&d, 14, 5, "the same key as the entry on line 10");
	has_msg(&d, 16, 5, "the same key as the entry on line 12");
	has_msg(&d, 18, 5, "the same key as the entry on line 10");
	/* In the order written. */
	ck_assert_uint_eq(d.msgs[0].line, 14);
	ck_assert_uint_eq(d.msgs[1].line, 16);
	ck_assert_uint_eq(d.msgs[2].line, 18);
	diag_done(&d);
}
END_TEST

START_TEST(test_max_entries)
{
	struct manifest_map_entry e[] = {E(U(0, 10), U(1, 11)), E(U(1, 12), U(2, 13)),
					 E(U(2, 14), U(3, 15))};
	struct manifest_contents mc = mc_of(e, N(e));
	struct contents_target hash = standalone(BPF_MAP_TYPE_HASH, 4, 4, 2);
	struct contents_target array = standalone(BPF_MAP_TYPE_ARRAY, 4, 4, 2);
	struct contents_target big = standalone(BPF_MAP_TYPE_ARRAY, 4, 4, 3);
	struct desired_contents c;
	struct diag d = {0};

	encode_fails(&mc, &hash, &d, 1);
	has_msg(&d, 1, 5, "map 'solo' holds at most 2 entries, 3 given");
	diag_done(&d);

	/* An array's keys are indexes below max_entries. */
	encode_fails(&mc, &array, &d, 2);
	has_msg(&d, 1, 5, "map 'solo' holds at most 2 entries, 3 given");
	has_msg(&d, 14, 5, "key 2 is past the end of map 'solo' (max_entries 2: keys 0 to 1)");
	diag_done(&d);

	encode_ok(&mc, &big, &c);
	ck_assert_uint_eq(c.n, 3);
	contents_done(&c);

	/* No entries at all: an empty exact map. */
	mc = mc_of(NULL, 0);
	mc.exact = true;
	encode_ok(&mc, &hash, &c);
	ck_assert_uint_eq(c.n, 0);
	ck_assert(c.exact);
	contents_done(&c);
}
END_TEST

START_TEST(test_programs)
{
	struct objfile *of = open_obj("contents_btf");
	const struct objfile_prog *pb = objfile_prog_by_name(of, "prog_b");
	struct contents_target jumps = obj_target(of, "jumps");
	struct contents_target small = obj_target(of, "small");
	struct contents_target solo = standalone(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4);
	struct manifest_map_entry ok[] = {P(U(1, 10), "prog_b", 11), P(U(3, 12), "prog_a", 13)};
	struct manifest_map_entry bad[] = {
	    P(U(0, 20), "nope", 21),
	    E(U(1, 22), U(5, 23)),
	    P(U(4, 24), "prog_a", 25),
	};
	struct manifest_map_entry on_hash[] = {P(U(1, 30), "prog_a", 31)};
	struct manifest_contents mc = mc_of(ok, N(ok));
	struct desired_contents c;
	struct diag d = {0};
	char want[512];

	ck_assert_ptr_nonnull(pb);
	encode_ok(&mc, &jumps, &c);
	ck_assert(c.entries[0].is_prog);
	ck_assert_uint_eq(c.entries[0].prog, (size_t)(pb - of->progs));
	ck_assert(c.entries[1].is_prog);
	ck_assert_str_eq(of->progs[c.entries[1].prog].name, "prog_a");
	ck_assert_ptr_null(c.entries[0].value);
	ck_assert(!c.entries[0].has_tag);
	bytes_eq(c.entries[0].key, "\x01\0\0\0", 4);
	bytes_eq(c.entries[1].key, "\x03\0\0\0", 4);
	ck_assert_uint_eq(c.value_bytes, 4);
	contents_done(&c);

	mc = mc_of(bad, N(bad));
	encode_fails(&mc, &jumps, &d, 3);
	snprintf(want, sizeof(want), "%s has no program 'nope' (has: prog_a, prog_b)", of->path);
	has_msg(&d, 21, 5, want);
	has_msg(&d, 23, 5,
		"map 'jumps' is a prog_array map: give a program (program: NAME), not a value");
	has_msg(&d, 24, 5, "key 4 is past the end of map 'jumps' (max_entries 4: keys 0 to 3)");
	diag_done(&d);

	/* Programs only in program arrays, and only of the map's object. */
	mc = mc_of(on_hash, N(on_hash));
	encode_fails(&mc, &small, &d, 1);
	has_msg(&d, 31, 5, "map 'small' is a hash map: only a prog_array holds programs");
	diag_done(&d);
	encode_fails(&mc, &solo, &d, 1);
	has_msg(&d, 31, 5,
		"map 'solo' is standalone: it has no object whose program 'prog_a' it could hold");
	diag_done(&d);
	objfile_free(of);
}
END_TEST

/* The object's struct config (tests/bpf/contents_btf.c), 56 bytes:
 *   a@0 u32, b@4 const volatile port_t, mac@6 u8[6], in@16 {x@0 u64, y@8 s8},
 *   mode@32 enum, on@36 bool, (anonymous union {u, s})@40, flags:3, more:5
 *   @44, big@48 s64. */
START_TEST(test_struct)
{
	static const unsigned char mac[] = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x01};
	struct objfile *of = open_obj("contents_btf");
	struct contents_target config = obj_target(of, "config");
	struct contents_target by_pair = obj_target(of, "by_pair");
	struct manifest_field in[] = {F("x", U(0x0102030405060708ull, 14)), F("y", I(-1, 15))};
	struct manifest_field cfg[] = {
	    F("a", U(0x11223344, 11)), F("b", U(0x5566, 12)), F("mac", B(mac, 6, 13)),
	    F("in", S(in, N(in), 14)), F("mode", U(2, 16)),   F("on", U(1, 17)),
	    F("u", U(7, 18)),	       F("big", I(-2, 19)),
	};
	struct manifest_field partial[] = {F("big", U(1, 22))};
	struct manifest_field pair[] = {F("ip", U(0x0a000001, 31)), F("port", U(80, 32))};
	struct manifest_map_entry e[] = {E(U(1, 10), S(cfg, N(cfg), 11)),
					 E(U(2, 21), S(partial, N(partial), 22))};
	struct manifest_map_entry pe[] = {E(S(pair, N(pair), 30), U(9, 33))};
	struct manifest_contents mc = mc_of(e, N(e));
	struct desired_contents c;
	unsigned char want[56] = {0};

	ck_assert_uint_eq(config.value_size, 56);
	encode_ok(&mc, &config, &c);
	memcpy(want + 0, "\x44\x33\x22\x11", 4);
	memcpy(want + 4, "\x66\x55", 2);
	memcpy(want + 6, mac, 6);
	memcpy(want + 16, "\x08\x07\x06\x05\x04\x03\x02\x01", 8);
	want[24] = 0xff;
	want[32] = 2;
	want[36] = 1;
	want[40] = 7;
	memcpy(want + 48, "\xfe\xff\xff\xff\xff\xff\xff\xff", 8);
	bytes_eq(c.entries[0].value, want, 56);
	/* The rest of the struct zero. */
	memset(want, 0, sizeof(want));
	want[48] = 1;
	bytes_eq(c.entries[1].value, want, 56);
	contents_done(&c);

	/* A struct key. */
	mc = mc_of(pe, N(pe));
	encode_ok(&mc, &by_pair, &c);
	ck_assert_uint_eq(c.key_size, 8);
	bytes_eq(c.entries[0].key, "\x01\x00\x00\x0a\x50\x00\x00\x00", 8);
	bytes_eq(c.entries[0].value, "\x09\0\0\0\0\0\0\0", 8);
	contents_done(&c);
	objfile_free(of);
}
END_TEST

START_TEST(test_struct_errors)
{
	static const unsigned char four[] = {1, 2, 3, 4};
	struct objfile *of = open_obj("contents_btf");
	struct contents_target config = obj_target(of, "config");
	struct manifest_field in[] = {F("x", U(1, 21)), F("z", U(1, 22)), F("y", U(256, 23))};
	struct manifest_field cfg[] = {
	    F("nope", U(1, 11)),      F("flags", U(1, 12)),   F("mac", U(1, 13)),
	    F("a", S(in, 0, 14)),     F("b", B(four, 4, 15)), F("in", S(in, N(in), 21)),
	    F("on", U(2, 16)),	      F("on", U(1, 17)),      F("mode", I(-1, 18)),
	    F("big", B(four, 4, 19)),
	};
	struct manifest_map_entry e[] = {E(U(0, 10), S(cfg, N(cfg), 11))};
	struct manifest_contents mc = mc_of(e, N(e));
	struct diag d = {0};

	encode_fails(&mc, &config, &d, 10);
	has_msg(&d, 11, 3,
		"struct config has no field 'nope' (has: a, b, mac, in, mode, on, u, s, flags, "
		"more, big)");
	has_msg(&d, 12, 3,
		"field 'flags' of struct config is a bitfield: a bitfield cannot be set");
	has_msg(&d, 13, 5, "field 'mac' is an array, not an integer: give it as \"0x...\" bytes");
	has_msg(&d, 14, 5,
		"field 'a' is an integer, not a struct: give it as an integer or \"0x...\" bytes");
	has_msg(&d, 15, 5, "field 'b': 4 bytes given, it takes exactly 2");
	has_msg(&d, 22, 3, "struct inner has no field 'z' (has: x, y)");
	has_msg(&d, 23, 5, "field 'in.y': 256 does not fit in 1 byte (-128 to 255)");
	has_msg(&d, 17, 3, "field 'on' given twice");
	has_msg(&d, 19, 5, "field 'big': 4 bytes given, it takes exactly 8");
	has_msg(&d, 16, 5, "field 'on' is a bool: give 0 or 1 (false or true)");
	diag_done(&d);
	objfile_free(of);
}
END_TEST

START_TEST(test_struct_without_btf)
{
	struct objfile *btf = open_obj("contents_btf"), *gobpf = open_obj("gobpf");
	struct contents_target legacy = obj_target(gobpf, "global_hash");
	struct contents_target sized = obj_target(btf, "sized");
	struct contents_target small = obj_target(btf, "small");
	struct contents_target solo = standalone(BPF_MAP_TYPE_HASH, 4, 4, 4);
	struct manifest_field f[] = {F("a", U(1, 12))};
	struct manifest_map_entry e[] = {E(U(1, 10), S(f, N(f), 11))};
	struct manifest_map_entry ke[] = {E(S(f, N(f), 20), U(1, 21))};
	struct manifest_contents mc = mc_of(e, N(e));
	struct diag d = {0};

	ck_assert_ptr_null(gobpf->btf);
	ck_assert_ptr_nonnull(btf->btf);
	encode_fails(&mc, &legacy, &d, 1);
	has_msg(&d, 11, 5,
		"map 'global_hash' has no BTF: give the value as an integer or \"0x...\" bytes");
	diag_done(&d);
	encode_fails(&mc, &solo, &d, 1);
	has_msg(&d, 11, 5,
		"map 'solo' has no BTF: give the value as an integer or \"0x...\" bytes");
	diag_done(&d);
	encode_fails(&mc, &sized, &d, 1);
	has_msg(
	    &d, 11, 5,
	    "map 'sized' has no BTF type for its value (it gives a size, not __type(value, T)): "
	    "give the value as an integer or \"0x...\" bytes");
	diag_done(&d);
	encode_fails(&mc, &small, &d, 1);
	has_msg(&d, 11, 5,
		"the value of map 'small' is an integer, not a struct: give it as an integer or "
		"\"0x...\" bytes");
	diag_done(&d);
	mc = mc_of(ke, N(ke));
	encode_fails(&mc, &small, &d, 1);
	has_msg(&d, 20, 5,
		"the key of map 'small' is an integer, not a struct: give it as an integer or "
		"\"0x...\" bytes");
	diag_done(&d);
	objfile_free(btf);
	objfile_free(gobpf);
}
END_TEST

/* Wider than 8 bytes by BTF: a typedef'd array key takes "0x..." bytes or an
 * integer, zero-extended. */
START_TEST(test_wide_key)
{
	static const unsigned char k[16] = {0x20, 0x01, 0x0d, 0xb8};
	struct objfile *of = open_obj("contents_btf");
	struct contents_target wide = obj_target(of, "wide");
	struct manifest_map_entry e[] = {E(B(k, 16, 10), U(1, 11)), E(U(5, 12), U(2, 13))};
	struct manifest_contents mc = mc_of(e, N(e));
	struct desired_contents c;

	encode_ok(&mc, &wide, &c);
	bytes_eq(c.entries[0].key, k, 16);
	bytes_eq(c.entries[1].key, "\x05\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	contents_done(&c);
	objfile_free(of);
}
END_TEST

/* Every problem of a manifest is reported in one run. */
START_TEST(test_all_errors)
{
	struct objfile *of = open_obj("contents_btf");
	struct contents_target small = obj_target(of, "small");
	struct manifest_field f[] = {F("a", U(1, 14))};
	struct manifest_map_entry e[] = {E(U(300, 10), U(1, 11)), E(U(1, 12), I(-40000, 13)),
					 E(U(2, 14), S(f, N(f), 14)), P(U(3, 15), "prog_a", 16)};
	struct manifest_contents mc = mc_of(e, N(e));
	struct diag d = {0};

	encode_fails(&mc, &small, &d, 5);
	has_msg(&d, 1, 5, "map 'small' holds at most 2 entries, 4 given");
	has_msg(&d, 10, 5, "key: 300 does not fit in 1 byte (-128 to 255)");
	has_msg(&d, 13, 5, "value: -40000 does not fit in 2 bytes (-32768 to 65535)");
	has_msg(&d, 14, 5,
		"the value of map 'small' is an integer, not a struct: give it as an integer or "
		"\"0x...\" bytes");
	has_msg(&d, 16, 5, "map 'small' is a hash map: only a prog_array holds programs");
	diag_done(&d);
	objfile_free(of);
}
END_TEST

/* ------------------------------------------------------------------ */

Suite *contents_suite(void)
{
	Suite *s = suite_create("contents");
	TCase *enc = tcase_create("encode");

	tcase_add_test(enc, test_int_fits);
	tcase_add_test(enc, test_int_wide);
	tcase_add_test(enc, test_int_too_big);
	tcase_add_test(enc, test_bytes);
	tcase_add_test(enc, test_percpu);
	tcase_add_test(enc, test_not_writable);
	tcase_add_test(enc, test_duplicates);
	tcase_add_test(enc, test_max_entries);
	tcase_add_test(enc, test_programs);
	tcase_add_test(enc, test_struct);
	tcase_add_test(enc, test_struct_errors);
	tcase_add_test(enc, test_struct_without_btf);
	tcase_add_test(enc, test_wide_key);
	tcase_add_test(enc, test_all_errors);
	suite_add_tcase(s, enc);
	return s;
}
