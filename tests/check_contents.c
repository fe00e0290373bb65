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
#include <dirent.h>
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
	return (struct diag_loc){ .file = FILE_NAME, .line = line, .column = 5 };
}

/* Values as the parser makes them; line: where it is written. */
static struct manifest_value v_uint(uint64_t u, unsigned line)
{
	return (struct manifest_value){ .kind = MANIFEST_VALUE_INT, .u = u, .loc = loc(line) };
}

static struct manifest_value v_int(int64_t v, unsigned line)
{
	return (struct manifest_value){
		.kind = MANIFEST_VALUE_INT, .u = (uint64_t)v, .negative = v < 0, .loc = loc(line) };
}

static struct manifest_value v_bytes(const void *bytes, size_t n, unsigned line)
{
	return (struct manifest_value){ .kind = MANIFEST_VALUE_BYTES,
				       .bytes = (unsigned char *)bytes,
				       .n_bytes = n,
				       .loc = loc(line) };
}

static struct manifest_value v_struct(struct manifest_field *fields, size_t n, unsigned line)
{
	return (struct manifest_value){
		.kind = MANIFEST_VALUE_STRUCT, .fields = fields, .n_fields = n, .loc = loc(line) };
}

static struct manifest_field field(const char *name, struct manifest_value v)
{
	struct diag_loc l = v.loc;

	l.column = 3;
	return (struct manifest_field){ .name = (char *)name, .name_loc = l, .value = v };
}

static struct manifest_map_entry entry(struct manifest_value key, struct manifest_value value)
{
	return (struct manifest_map_entry){ .key = key, .value = value, .loc = key.loc };
}

static struct manifest_map_entry prog_entry(struct manifest_value key, const char *prog,
					    unsigned line)
{
	return (struct manifest_map_entry){
		.key = key, .program = (char *)prog, .program_loc = loc(line), .loc = key.loc };
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct manifest_contents mc_of(struct manifest_map_entry *e, size_t n)
{
	return (struct manifest_contents){ .entries = e,
					  .n_entries = n,
					  .has_entries = true,
					  .loc = loc(1),
					  .seed = MANIFEST_SEED_ENFORCE,
					  .exact = false };
}

/* A map of no object. */
static struct contents_target standalone(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max)
{
	return (struct contents_target){ .name = "map 'solo'",
					.type = type,
					.key_size = ks,
					.value_size = vs,
					.max_entries = max };
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
	struct diag d = { 0 };
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
	return (struct contents_target){ .name = name,
					.type = m->type,
					.key_size = m->key_size,
					.value_size = m->value_size,
					.max_entries = m->max_entries,
					.of = of,
					.map = (size_t)(m - of->maps) };
}

static void encode_ok(const struct manifest_contents *mc, const struct contents_target *t,
		      struct desired_contents *c)
{
	struct diag d = { 0 };
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
		entry(v_uint(255, 10), v_int(-32768, 11)),
		entry(v_int(-128, 12), v_uint(65535, 13)),
		entry(v_int(-2, 14), v_int(-1, 15)),
		entry(v_uint(0, 16), v_uint(0x1234, 17)),
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
		entry(v_uint(UINT64_MAX, 10), v_uint(5, 11)),
		entry(v_int(INT64_MIN, 12), v_int(-2, 13)),
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
		entry(v_uint(256, 10), v_int(-32769, 11)),
		entry(v_int(-129, 12), v_uint(65536, 13)),
		entry(v_uint(7, 14), v_uint(UINT64_MAX, 15)),
	};
	struct manifest_contents mc = mc_of(e, N(e));
	struct contents_target t = standalone(BPF_MAP_TYPE_HASH, 1, 2, 8);
	struct diag d = { 0 };

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
	static const unsigned char k[] = { 0xde, 0xad, 0xbe, 0xef }, v[] = { 1, 2, 3, 4, 5, 6 },
				   short_v[] = { 1, 2 };
	struct manifest_map_entry ok[] = { entry(v_bytes(k, 4, 10), v_bytes(v, 6, 11)) };
	struct manifest_map_entry bad[] = { entry(v_bytes(k, 3, 12), v_bytes(short_v, 2, 13)),
					   entry(v_bytes(k, 4, 14), v_bytes(v, 6, 15)) };
	struct manifest_contents mc = mc_of(ok, N(ok));
	struct contents_target t = standalone(BPF_MAP_TYPE_LRU_HASH, 4, 6, 8);
	struct desired_contents c;
	struct diag d = { 0 };

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
	struct manifest_map_entry e[] = { entry(v_uint(1, 10), v_uint(0xaabbccdd, 11)) };
	struct manifest_contents mc = mc_of(e, N(e));
	int ncpu = libbpf_num_possible_cpus();
	static const uint32_t types[] = { BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH,
					 BPF_MAP_TYPE_LRU_PERCPU_HASH };

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
	struct manifest_map_entry e[] = { entry(v_uint(1, 10), v_uint(1, 11)) };
	struct manifest_contents mc = mc_of(e, N(e));
	static const struct {
		uint32_t type;
		const char *text;
	} cases[] = {
		{ BPF_MAP_TYPE_RINGBUF, "a ringbuf map has no entries to write" },
		{ BPF_MAP_TYPE_USER_RINGBUF, "a user_ringbuf map has no entries to write" },
		{ BPF_MAP_TYPE_PERF_EVENT_ARRAY, "a perf_event_array map has no entries to write" },
		{ BPF_MAP_TYPE_STACK_TRACE, "a stack_trace map has no entries to write" },
		{ BPF_MAP_TYPE_STRUCT_OPS, "a struct_ops map has no entries to write" },
		{ BPF_MAP_TYPE_BLOOM_FILTER, "a bloom_filter map has no entries to write" },
		{ BPF_MAP_TYPE_QUEUE, "a queue map has no entries to write" },
		{ BPF_MAP_TYPE_STACK, "a stack map has no entries to write" },
		{ BPF_MAP_TYPE_HASH_OF_MAPS, "a hash_of_maps map holds file descriptors: its "
					     "entries cannot be written from a manifest" },
		{ BPF_MAP_TYPE_SOCKMAP, "a sockmap map holds file descriptors: its entries "
					"cannot be written from a manifest" },
		{ 999, "a map of type 999: bpf-provision does not know how to write its entries" },
	};

	for (size_t k = 0; k < N(cases); k++) {
		struct contents_target t = standalone(cases[k].type, 4, 4, 4);
		struct diag d = { 0 };

		char want[160];

		snprintf(want, sizeof(want), "map 'solo': %s", cases[k].text);
		encode_fails(&mc, &t, &d, 1);
		has_msg(&d, 1, 5, want);
		diag_done(&d);
	}
}
END_TEST

START_TEST(test_duplicates)
{
	static const unsigned char one[] = { 1, 0, 0, 0 };
	struct manifest_map_entry e[] = {
		entry(v_uint(1, 10), v_uint(1, 11)),       entry(v_uint(2, 12), v_uint(2, 13)),
		entry(v_bytes(one, 4, 14), v_uint(3, 15)), entry(v_uint(2, 16), v_uint(4, 17)),
		entry(v_uint(1, 18), v_uint(5, 19)),
	};
	struct manifest_contents mc = mc_of(e, N(e));
	struct contents_target t = standalone(BPF_MAP_TYPE_HASH, 4, 4, 8);
	struct diag d = { 0 };

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
	struct manifest_map_entry e[] = { entry(v_uint(0, 10), v_uint(1, 11)),
					 entry(v_uint(1, 12), v_uint(2, 13)),
					 entry(v_uint(2, 14), v_uint(3, 15)) };
	struct manifest_contents mc = mc_of(e, N(e));
	struct contents_target hash = standalone(BPF_MAP_TYPE_HASH, 4, 4, 2);
	struct contents_target array = standalone(BPF_MAP_TYPE_ARRAY, 4, 4, 2);
	struct contents_target big = standalone(BPF_MAP_TYPE_ARRAY, 4, 4, 3);
	struct desired_contents c;
	struct diag d = { 0 };

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
	struct manifest_map_entry ok[] = { prog_entry(v_uint(1, 10), "prog_b", 11),
					  prog_entry(v_uint(3, 12), "prog_a", 13) };
	struct manifest_map_entry bad[] = {
		prog_entry(v_uint(0, 20), "nope", 21),
		entry(v_uint(1, 22), v_uint(5, 23)),
		prog_entry(v_uint(4, 24), "prog_a", 25),
	};
	struct manifest_map_entry on_hash[] = { prog_entry(v_uint(1, 30), "prog_a", 31) };
	struct manifest_contents mc = mc_of(ok, N(ok));
	struct desired_contents c;
	struct diag d = { 0 };
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
	mc = mc_of(&bad[1], 1);
	encode_fails(&mc, &solo, &d, 1);
	has_msg(&d, 23, 5,
		"map 'solo' is a standalone prog_array map: its slots hold programs, and it has no "
		"object to take them from");
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
	static const unsigned char mac[] = { 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01 };
	struct objfile *of = open_obj("contents_btf");
	struct contents_target config = obj_target(of, "config");
	struct contents_target by_pair = obj_target(of, "by_pair");
	struct manifest_field in[] = { field("x", v_uint(0x0102030405060708ull, 14)),
				      field("y", v_int(-1, 15)) };
	struct manifest_field cfg[] = {
		field("a", v_uint(0x11223344, 11)), field("b", v_uint(0x5566, 12)),
		field("mac", v_bytes(mac, 6, 13)),	field("in", v_struct(in, N(in), 14)),
		field("mode", v_uint(2, 16)),	field("on", v_uint(1, 17)),
		field("u", v_uint(7, 18)),		field("big", v_int(-2, 19)),
	};
	struct manifest_field partial[] = { field("big", v_uint(1, 22)) };
	struct manifest_field pair[] = { field("ip", v_uint(0x0a000001, 31)),
					field("port", v_uint(80, 32)) };
	struct manifest_map_entry e[] = { entry(v_uint(1, 10), v_struct(cfg, N(cfg), 11)),
					 entry(v_uint(2, 21), v_struct(partial, N(partial), 22)) };
	struct manifest_map_entry pe[] = { entry(v_struct(pair, N(pair), 30), v_uint(9, 33)) };
	struct manifest_contents mc = mc_of(e, N(e));
	struct desired_contents c;
	unsigned char want[56] = { 0 };

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
	static const unsigned char four[] = { 1, 2, 3, 4 };
	struct objfile *of = open_obj("contents_btf");
	struct contents_target config = obj_target(of, "config");
	struct manifest_field in[] = { field("x", v_uint(1, 21)), field("z", v_uint(1, 22)),
				      field("y", v_uint(256, 23)) };
	struct manifest_field cfg[] = {
		field("nope", v_uint(1, 11)),     field("flags", v_uint(1, 12)),
		field("mac", v_uint(1, 13)),      field("a", v_struct(in, 0, 14)),
		field("b", v_bytes(four, 4, 15)), field("in", v_struct(in, N(in), 21)),
		field("on", v_uint(2, 16)),	      field("on", v_uint(1, 17)),
		field("mode", v_int(-1, 18)),     field("big", v_bytes(four, 4, 19)),
	};
	struct manifest_map_entry e[] = { entry(v_uint(0, 10), v_struct(cfg, N(cfg), 11)) };
	struct manifest_contents mc = mc_of(e, N(e));
	struct diag d = { 0 };

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
	struct manifest_field f[] = { field("a", v_uint(1, 12)) };
	struct manifest_map_entry e[] = { entry(v_uint(1, 10), v_struct(f, N(f), 11)) };
	struct manifest_map_entry ke[] = { entry(v_struct(f, N(f), 20), v_uint(1, 21)) };
	struct manifest_contents mc = mc_of(e, N(e));
	struct diag d = { 0 };

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
	has_msg(&d, 11, 5,
		"map 'sized' has no BTF type for its value (it gives a size, not "
		"__type(value, T)): give the value as an integer or \"0x...\" bytes");
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
	static const unsigned char k[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	struct objfile *of = open_obj("contents_btf");
	struct contents_target wide = obj_target(of, "wide");
	struct manifest_map_entry e[] = { entry(v_bytes(k, 16, 10), v_uint(1, 11)),
					 entry(v_uint(5, 12), v_uint(2, 13)) };
	struct manifest_contents mc = mc_of(e, N(e));
	struct desired_contents c;

	encode_ok(&mc, &wide, &c);
	bytes_eq(c.entries[0].key, k, 16);
	bytes_eq(c.entries[1].key, "\x05\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	contents_done(&c);
	objfile_free(of);
}
END_TEST

/* LPM trie keys: a u32 prefix length, then the data; keys that differ only
 * past their prefix are one key to the trie. */
START_TEST(test_lpm_keys)
{
	static const unsigned char k24a[] = { 24, 0, 0, 0, 10, 0, 0, 5 },
				   k24b[] = { 24, 0, 0, 0, 10, 0, 0, 0 },
				   k16[] = { 16, 0, 0, 0, 10, 0, 0, 0 },
				   k33[] = { 33, 0, 0, 0, 10, 0, 0, 0 },
				   k20a[] = { 20, 0, 0, 0, 10, 1, 0x1f, 0 },
				   k20b[] = { 20, 0, 0, 0, 10, 1, 0x10, 0 };
	struct manifest_map_entry ok[] = { entry(v_bytes(k24a, 8, 10), v_uint(1, 11)),
					  entry(v_bytes(k16, 8, 12), v_uint(2, 13)),
					  entry(v_bytes(k20a, 8, 14), v_uint(3, 15)) };
	struct manifest_map_entry bad[] = {
		entry(v_bytes(k24a, 8, 20), v_uint(1, 21)),
		entry(v_bytes(k24b, 8, 22), v_uint(2, 23)),
		entry(v_bytes(k33, 8, 24), v_uint(3, 25)),
		entry(v_bytes(k20a, 8, 26), v_uint(4, 27)),
		entry(v_bytes(k20b, 8, 28), v_uint(5, 29)),
	};
	struct manifest_contents mc = mc_of(ok, N(ok));
	struct contents_target t = standalone(BPF_MAP_TYPE_LPM_TRIE, 8, 4, 8);
	struct desired_contents c;
	struct diag d = { 0 };

	encode_ok(&mc, &t, &c);
	bytes_eq(c.entries[0].key, k24a, 8); /* as written */
	contents_done(&c);

	mc = mc_of(bad, N(bad));
	encode_fails(&mc, &t, &d, 3);
	has_msg(&d, 22, 5, "the same key as the entry on line 20");
	has_msg(&d, 24, 5, "prefix length 33 is longer than the 32 bits of map 'solo''s keys");
	has_msg(&d, 28, 5, "the same key as the entry on line 26");
	diag_done(&d);
}
END_TEST

/* Every problem of a manifest is reported in one run. */
START_TEST(test_all_errors)
{
	struct objfile *of = open_obj("contents_btf");
	struct contents_target small = obj_target(of, "small");
	struct manifest_field f[] = { field("a", v_uint(1, 14)) };
	struct manifest_map_entry e[] = {
		entry(v_uint(300, 10), v_uint(1, 11)),
		entry(v_uint(1, 12), v_int(-40000, 13)),
		entry(v_uint(2, 14), v_struct(f, N(f), 14)),
		prog_entry(v_uint(3, 15), "prog_a", 16),
	};
	struct manifest_contents mc = mc_of(e, N(e));
	struct diag d = { 0 };

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
/* Observing: the fixtures of check_observed.c.  The test case's base is a
 * fresh directory under /tmp; each test makes its own dir in it and mounts
 * a private bpffs on dir/fs (the root).  The checked teardown unmounts and
 * removes them after each test; with CK_FORK=yes a failed assertion ends
 * the test's child at once, teardown not run, and the unchecked teardown,
 * in the runner itself, sweeps the base. */
static struct {
	char base[64];
	char dir[80];
	char root[96];
	bool mounted;
} fx;

static void base_setup(void)
{
	strcpy(fx.base, "/tmp/check_contents.XXXXXX");
	ck_assert_msg(mkdtemp(fx.base), "mkdtemp: %s", strerror(errno));
}

static void base_teardown(void)
{
	char p[384];
	DIR *dir;
	struct dirent *de;

	if (!fx.base[0])
		return;
	dir = opendir(fx.base);
	while (dir && (de = readdir(dir))) {
		if (strncmp(de->d_name, "t.", 2))
			continue;
		snprintf(p, sizeof(p), "%s/%s/fs", fx.base, de->d_name);
		if (umount2(p, MNT_DETACH) == 0)
			fprintf(stderr, "contents: unmounted %s left by a failed test\n", p);
		rmdir(p);
		snprintf(p, sizeof(p), "%s/%s", fx.base, de->d_name);
		rmdir(p);
	}
	if (dir)
		closedir(dir);
	if (rmdir(fx.base) < 0)
		fprintf(stderr, "contents: rmdir %s: %s\n", fx.base, strerror(errno));
	fx.base[0] = '\0';
}

static void fx_setup(void)
{
	const char *req = getenv("BPF_PROVISION_REQUIRE_ALL");
	int err;

	fx.mounted = false;
	snprintf(fx.dir, sizeof(fx.dir), "%s/t.XXXXXX", fx.base);
	ck_assert_msg(mkdtemp(fx.dir), "mkdtemp: %s", strerror(errno));
	snprintf(fx.root, sizeof(fx.root), "%s/fs", fx.dir);
	ck_assert_msg(mkdir(fx.root, 0755) == 0, "mkdir %s: %s", fx.root, strerror(errno));
	if (mount("bpf", fx.root, "bpf", 0, NULL) == 0) {
		fx.mounted = true;
		return;
	}
	err = errno;
	if (req && !strcmp(req, "1"))
		ck_abort_msg("cannot mount bpffs on %s: %s (BPF_PROVISION_REQUIRE_ALL=1)", fx.root,
			     strerror(err));
	fprintf(stderr, "SKIP: contents: cannot mount bpffs on %s: %s (needs root and bpffs)\n",
		fx.root, strerror(err));
}

static void fx_teardown(void)
{
	if (!fx.dir[0])
		return;
	if (fx.mounted && umount2(fx.root, MNT_DETACH) < 0)
		fprintf(stderr, "contents: umount %s: %s\n", fx.root, strerror(errno));
	fx.mounted = false;
	rmdir(fx.root);
	if (rmdir(fx.dir) < 0)
		fprintf(stderr, "contents: rmdir %s: %s\n", fx.dir, strerror(errno));
	fx.dir[0] = '\0';
}

/* Every kernel test starts with this: it returns at once when the setup
 * could not mount (and printed the SKIP line). */
#define NEED_BPFFS()                                                                               \
	do {                                                                                       \
		if (!fx.mounted)                                                                   \
			return;                                                                    \
	} while (0)

static char *at(const char *rel)
{
	static char buf[4][256];
	static unsigned next;
	char *p = buf[next++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", fx.root, rel);
	return p;
}

/* Made by hand, not with bpf_map_create() or bpf_prog_load(): their first
 * call has libbpf 1.1 probe the kernel with an attr it clears only in
 * part, which valgrind reports (check_observed.c). */
static int new_map_flags(enum bpf_map_type type, uint32_t ks, uint32_t vs, uint32_t max,
			 uint32_t flags)
{
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.map_type = type;
	attr.key_size = ks;
	attr.value_size = vs;
	attr.max_entries = max;
	attr.map_flags = flags;
	fd = syscall(__NR_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
	ck_assert_msg(fd >= 0, "BPF_MAP_CREATE: %s", strerror(errno));
	return fd;
}

static int new_map(enum bpf_map_type type, uint32_t ks, uint32_t vs, uint32_t max)
{
	return new_map_flags(type, ks, vs, max, 0);
}

/* r0 = ret; exit: a program of its own tag. */
static int new_prog(int ret, uint8_t tag[8])
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = ret },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insns = (__u64)(unsigned long)insns;
	attr.insn_cnt = 2;
	attr.license = (__u64)(unsigned long)"GPL";
	fd = syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	ck_assert_msg(fd >= 0, "BPF_PROG_LOAD: %s", strerror(errno));
	memset(&info, 0, sizeof(info));
	ck_assert_int_eq(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	memcpy(tag, info.tag, 8);
	return fd;
}

static void pin_at(int fd, const char *rel)
{
	ck_assert_msg(bpf_obj_pin(fd, at(rel)) == 0, "pin %s: %s", rel, strerror(errno));
}

static void put(int fd, uint32_t key, const void *value)
{
	ck_assert_msg(bpf_map_update_elem(fd, &key, value, BPF_ANY) == 0, "update %u: %s", key,
		      strerror(errno));
}

static void scan(struct observed *o)
{
	struct diag d = { 0 };
	int r = observed_scan(fx.root, NULL, &d, o);

	if (r < 0 && d.n_msgs)
		ck_abort_msg("scan: %s", d.msgs[0].text);
	ck_assert_int_eq(r, 0);
	diag_done(&d);
}

/* One desired map pin at path holding c. */
static struct desired one_pin(struct desired_pin *p, const char *path, uint32_t type, uint32_t ks,
			      uint32_t vs, uint32_t max, struct desired_contents *c)
{
	*p = (struct desired_pin){
		.path = (char *)path,
		.kind = KIND_MAP,
		.spec = { .type = type, .key_size = ks, .value_size = vs, .max_entries = max },
		.uid = -1,
		.gid = -1,
		.loc = loc(2),
		.contents = c };
	return (struct desired){ .pins = p, .n_pins = 1 };
}

static void observe_ok(struct desired *des, const struct observed *o)
{
	struct diag d = { 0 };
	int r = contents_observe(des, o, &d);

	if (r < 0 && d.n_msgs)
		ck_abort_msg("observe: %s", d.msgs[0].text);
	ck_assert_int_eq(r, 0);
	ck_assert_uint_eq(d.n_msgs, 0);
	diag_done(&d);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x, y;

	memcpy(&x, a, 4);
	memcpy(&y, b, 4);
	return x < y ? -1 : x > y;
}

/* Whether exact maps are observed here: listing a map's keys starts with a
 * NULL key, which valgrind (3.19) takes for a bad pointer. */
static bool can_exact(void)
{
	if (!test_under_valgrind())
		return true;
	fprintf(stderr, "SKIP: contents: keys beyond the entries under valgrind (it takes "
			"BPF_MAP_GET_NEXT_KEY's NULL key for a bad pointer)\n");
	return false;
}

/* c's extra keys (4 bytes each) are want, in any order; none when c is not
 * exact (under valgrind). */
static void extra_is(struct desired_contents *c, const uint32_t *want, size_t n)
{
	if (!c->exact) {
		ck_assert_uint_eq(c->n_extra, 0);
		return;
	}
	ck_assert_uint_eq(c->n_extra, n);
	if (n)
		qsort(c->extra, n, 4, cmp_u32);
	for (size_t i = 0; i < n; i++) {
		uint32_t k;

		memcpy(&k, c->extra + 4 * i, 4);
		ck_assert_uint_eq(k, want[i]);
	}
}

START_TEST(test_observe_hash)
{
	struct manifest_map_entry e[] = { entry(v_uint(1, 10), v_uint(10, 11)),
					 entry(v_uint(2, 12), v_uint(99, 13)),
					 entry(v_uint(3, 14), v_uint(30, 15)) };
	struct manifest_contents mc = mc_of(e, N(e));
	struct contents_target t = standalone(BPF_MAP_TYPE_HASH, 4, 8, 16);
	static const uint32_t want_extra[] = { 5, 6 };
	struct desired_contents c;
	struct desired_pin pin;
	struct desired des;
	struct observed o = { 0 };
	uint64_t v;
	int fd;

	NEED_BPFFS();
	fd = new_map(BPF_MAP_TYPE_HASH, 4, 8, 16);
	put(fd, 1, &(uint64_t){ 10 });
	put(fd, 2, &(uint64_t){ 20 });
	put(fd, 5, &(uint64_t){ 50 });
	put(fd, 6, &(uint64_t){ 60 });
	ck_assert_int_eq(mkdir(at("ns"), 0755), 0);
	pin_at(fd, "ns/m");
	scan(&o);

	mc.exact = can_exact();
	encode_ok(&mc, &t, &c);
	des = one_pin(&pin, "ns/m", BPF_MAP_TYPE_HASH, 4, 8, 16, &c);
	observe_ok(&des, &o);
	ck_assert(c.observed);
	ck_assert(!c.entries[0].differs && !c.entries[0].absent);
	ck_assert(c.entries[1].differs && !c.entries[1].absent);
	ck_assert(c.entries[2].differs && c.entries[2].absent);
	extra_is(&c, want_extra, 2);

	/* Observing again starts over: the map has changed. */
	put(fd, 2, &(uint64_t){ 99 });
	put(fd, 3, &(uint64_t){ 30 });
	ck_assert_int_eq(bpf_map_delete_elem(fd, &(uint32_t){ 5 }), 0);
	observe_ok(&des, &o);
	ck_assert(c.observed);
	for (size_t i = 0; i < c.n; i++)
		ck_assert(!c.entries[i].differs && !c.entries[i].absent);
	extra_is(&c, (const uint32_t[]){ 6 }, 1);
	/* Looking changed nothing. */
	ck_assert_int_eq(bpf_map_lookup_elem(fd, &(uint32_t){ 6 }, &v), 0);
	ck_assert_uint_eq(v, 60);

	/* Keys beyond the entries matter only to exact maps that enforce. */
	c.seed = MANIFEST_SEED_CREATE;
	observe_ok(&des, &o);
	ck_assert(c.observed);
	ck_assert_uint_eq(c.n_extra, 0);
	ck_assert_ptr_null(c.extra);
	c.seed = MANIFEST_SEED_ENFORCE;
	c.exact = false;
	observe_ok(&des, &o);
	ck_assert_uint_eq(c.n_extra, 0);

	contents_done(&c);
	observed_done(&o);
	close(fd);
}
END_TEST

/* What the planner replaces is not read: no map at the path, another kind,
 * type or size, another map than the scan saw, a map gone since. */
START_TEST(test_observe_skipped)
{
	struct manifest_map_entry e[] = { entry(v_uint(1, 10), v_uint(10, 11)) };
	struct manifest_contents mc = mc_of(e, N(e));
	struct contents_target t = standalone(BPF_MAP_TYPE_HASH, 4, 8, 16);
	struct desired_contents c;
	struct desired_pin pin;
	struct desired des;
	struct observed o = { 0 };
	struct observed_entry *oe;
	uint8_t tag[8];
	int hash, other, prog;

	NEED_BPFFS();
	hash = new_map(BPF_MAP_TYPE_HASH, 4, 8, 16);
	other = new_map(BPF_MAP_TYPE_HASH, 4, 4, 16);
	prog = new_prog(0, tag);
	put(hash, 1, &(uint64_t){ 11 });
	pin_at(hash, "m");
	pin_at(other, "narrow");
	pin_at(prog, "p");
	scan(&o);
	encode_ok(&mc, &t, &c);

	static const char *const paths[] = { "missing", "narrow", "p" };
	for (size_t i = 0; i < N(paths); i++) {
		des = one_pin(&pin, paths[i], BPF_MAP_TYPE_HASH, 4, 8, 16, &c);
		observe_ok(&des, &o);
		ck_assert_msg(!c.observed, "%s observed", paths[i]);
		ck_assert(!c.entries[0].differs && !c.entries[0].absent);
	}
	/* Another type than the pin's. */
	des = one_pin(&pin, "m", BPF_MAP_TYPE_LRU_HASH, 4, 8, 16, &c);
	observe_ok(&des, &o);
	ck_assert(!c.observed);

	/* The map is read... */
	des = one_pin(&pin, "m", BPF_MAP_TYPE_HASH, 4, 8, 16, &c);
	observe_ok(&des, &o);
	ck_assert(c.observed);
	ck_assert(c.entries[0].differs);
	/* ...unless another was pinned there since the scan... */
	oe = (struct observed_entry *)observed_find(&o, "m");
	ck_assert_ptr_nonnull(oe);
	oe->id++;
	observe_ok(&des, &o);
	ck_assert(!c.observed);
	ck_assert(!c.entries[0].differs);
	oe->id--;
	/* ...or it is gone. */
	ck_assert_int_eq(unlink(at("m")), 0);
	observe_ok(&des, &o);
	ck_assert(!c.observed);

	/* Pins without contents, and programs, are left alone: no map is
	 * opened, not even under a root that is not there. */
	free(o.root);
	o.root = strdup("/nonexistent/bpf-provision-test");
	ck_assert_ptr_nonnull(o.root);
	des = one_pin(&pin, "narrow", BPF_MAP_TYPE_HASH, 4, 4, 16, NULL);
	observe_ok(&des, &o);
	pin.kind = KIND_PROGRAM;
	pin.contents = &c;
	observe_ok(&des, &o);
	ck_assert(!c.observed);

	contents_done(&c);
	observed_done(&o);
	close(hash);
	close(other);
	close(prog);
}
END_TEST

/* A map the process may not open is an error at the pin. */
START_TEST(test_observe_error)
{
	struct manifest_map_entry e[] = { entry(v_uint(1, 10), v_uint(10, 11)) };
	struct manifest_contents mc = mc_of(e, N(e));
	struct contents_target t = standalone(BPF_MAP_TYPE_HASH, 4, 8, 16);
	struct desired_contents c;
	struct desired_pin pin;
	struct desired des;
	struct observed o = { 0 };
	struct diag d = { 0 };
	int fd;

	NEED_BPFFS();
	fd = new_map(BPF_MAP_TYPE_HASH, 4, 8, 16);
	pin_at(fd, "m");
	scan(&o);
	encode_ok(&mc, &t, &c);
	des = one_pin(&pin, "m", BPF_MAP_TYPE_HASH, 4, 8, 16, &c);
	/* A file now where the scan saw the map: BPF_OBJ_GET says EPERM. */
	ck_assert_int_eq(unlink(at("m")), 0);
	ck_assert_int_eq(mkdir(at("m"), 0755), 0);
	ck_assert_int_lt(contents_observe(&des, &o, &d), 0);
	ck_assert_uint_eq(d.n_errors, 1);
	ck_assert_uint_eq(d.msgs[0].line, 2);
	ck_assert_msg(strstr(d.msgs[0].text, "cannot open the map at "), "%s", d.msgs[0].text);
	ck_assert(!c.observed);
	diag_done(&d);
	rmdir(at("m"));
	contents_done(&c);
	observed_done(&o);
	close(fd);
}
END_TEST

START_TEST(test_observe_percpu)
{
	int ncpu = libbpf_num_possible_cpus();
	struct manifest_map_entry e[] = { entry(v_uint(0, 10), v_uint(7, 11)),
					 entry(v_uint(1, 12), v_uint(7, 13)) };
	struct manifest_contents mc = mc_of(e, N(e));
	struct contents_target t = standalone(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 4);
	struct desired_contents c;
	struct desired_pin pin;
	struct desired des;
	struct observed o = { 0 };
	unsigned char *v;
	int fd;

	NEED_BPFFS();
	ck_assert_int_gt(ncpu, 0);
	v = calloc((size_t)ncpu, 8);
	ck_assert_ptr_nonnull(v);
	fd = new_map(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 4);
	/* Slot 0: 7 on every CPU, the padding of each copy not zero. */
	for (int cpu = 0; cpu < ncpu; cpu++)
		memcpy(v + 8 * cpu, "\x07\0\0\0\xff\xff\xff\xff", 8);
	put(fd, 0, v);
	/* Slot 1: 7 but on the last CPU. */
	memset(v, 0, 8 * (size_t)ncpu);
	for (int cpu = 0; cpu < ncpu; cpu++)
		v[8 * cpu] = cpu == ncpu - 1 ? 8 : 7;
	put(fd, 1, v);
	/* Slot 2 zero; slot 3 not, on the last CPU only. */
	memset(v, 0, 8 * (size_t)ncpu);
	v[8 * (ncpu - 1) + 3] = 1;
	put(fd, 3, v);
	pin_at(fd, "pcpu");
	scan(&o);

	mc.exact = can_exact();
	encode_ok(&mc, &t, &c);
	des = one_pin(&pin, "pcpu", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 4, &c);
	observe_ok(&des, &o);
	ck_assert(c.observed);
	ck_assert(!c.entries[0].differs && !c.entries[0].absent);
	ck_assert(c.entries[1].differs && !c.entries[1].absent);
	/* An array's unlisted slots count when they hold something. */
	extra_is(&c, (const uint32_t[]){ 3 }, 1);

	contents_done(&c);
	observed_done(&o);
	free(v);
	close(fd);
}
END_TEST

/* An array's slots, all of which exist: only the ones not zero are extra. */
START_TEST(test_observe_array)
{
	struct manifest_map_entry e[] = { entry(v_uint(1, 10), v_uint(5, 11)) };
	struct manifest_contents mc = mc_of(e, N(e));
	struct contents_target t = standalone(BPF_MAP_TYPE_ARRAY, 4, 8, 8);
	struct desired_contents c;
	struct desired_pin pin;
	struct desired des;
	struct observed o = { 0 };
	int fd;

	NEED_BPFFS();
	fd = new_map(BPF_MAP_TYPE_ARRAY, 4, 8, 8);
	put(fd, 1, &(uint64_t){ 5 });
	put(fd, 4, &(uint64_t){ 1 });
	put(fd, 7, &(uint64_t){ 1ull << 63 });
	pin_at(fd, "arr");
	scan(&o);
	mc.exact = can_exact();
	encode_ok(&mc, &t, &c);
	des = one_pin(&pin, "arr", BPF_MAP_TYPE_ARRAY, 4, 8, 8, &c);
	observe_ok(&des, &o);
	ck_assert(c.observed);
	ck_assert(!c.entries[0].differs && !c.entries[0].absent);
	extra_is(&c, (const uint32_t[]){ 4, 7 }, 2);
	contents_done(&c);
	observed_done(&o);
	close(fd);
}
END_TEST

/* An LPM trie's lookup finds the longest prefix that matches: an entry is
 * there only when its own prefix is. */
START_TEST(test_observe_lpm)
{
	static const unsigned char k16[] = { 16, 0, 0, 0, 10, 0, 0, 0 },
				   k24[] = { 24, 0, 0, 0, 10, 0, 0, 0 },
				   k32[] = { 32, 0, 0, 0, 10, 0, 0, 7 },
				   k8[] = { 8, 0, 0, 0, 11, 0, 0, 0 },
				   k16_untidy[] = { 16, 0, 0, 0, 10, 0, 9, 9 };
	struct manifest_map_entry e[] = { entry(v_bytes(k24, 8, 10), v_uint(1, 11)),
					 entry(v_bytes(k16_untidy, 8, 12), v_uint(1, 13)),
					 entry(v_bytes(k32, 8, 14), v_uint(9, 15)) };
	struct manifest_contents mc = mc_of(e, N(e));
	struct contents_target t = standalone(BPF_MAP_TYPE_LPM_TRIE, 8, 4, 8);
	struct desired_contents c;
	struct desired_pin pin;
	struct desired des;
	struct observed o = { 0 };
	int fd;

	NEED_BPFFS();
	if (test_under_valgrind()) {
		fprintf(stderr, "SKIP: contents: LPM tries under valgrind (their keys are listed "
				"from a NULL key)\n");
		return;
	}
	fd = new_map_flags(BPF_MAP_TYPE_LPM_TRIE, 8, 4, 8, BPF_F_NO_PREALLOC);
	ck_assert_int_eq(bpf_map_update_elem(fd, k16, &(uint32_t){ 1 }, BPF_ANY), 0);
	ck_assert_int_eq(bpf_map_update_elem(fd, k32, &(uint32_t){ 2 }, BPF_ANY), 0);
	ck_assert_int_eq(bpf_map_update_elem(fd, k8, &(uint32_t){ 3 }, BPF_ANY), 0);
	pin_at(fd, "lpm");
	scan(&o);
	mc.exact = true;
	encode_ok(&mc, &t, &c);
	des = one_pin(&pin, "lpm", BPF_MAP_TYPE_LPM_TRIE, 8, 4, 8, &c);
	observe_ok(&des, &o);
	ck_assert(c.observed);
	/* 10.0.0.0/24 is not there, though 10.0.0.0/16 matches it. */
	ck_assert(c.entries[0].absent && c.entries[0].differs);
	/* 10.0.9.9/16 is 10.0.0.0/16. */
	ck_assert(!c.entries[1].absent && !c.entries[1].differs);
	ck_assert(!c.entries[2].absent && c.entries[2].differs);
	ck_assert_uint_eq(c.n_extra, 1);
	bytes_eq(c.extra, k8, 8);
	contents_done(&c);
	observed_done(&o);
	close(fd);
}
END_TEST

/* A program array's slots compared by the tag of the program they hold. */
START_TEST(test_observe_prog_array)
{
	struct desired_contents c = { .seed = MANIFEST_SEED_ENFORCE,
				      .exact = can_exact(),
				      .key_size = 4,
				      .value_bytes = 4 };
	struct desired_pin pin;
	struct desired des;
	struct observed o = { 0 };
	uint8_t t1[8], t2[8];
	int fd, p1, p2;

	NEED_BPFFS();
	fd = new_map(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4);
	p1 = new_prog(1, t1);
	p2 = new_prog(2, t2);
	ck_assert(memcmp(t1, t2, 8) != 0);
	put(fd, 0, &p1);
	put(fd, 1, &p2);
	put(fd, 3, &p1);
	pin_at(fd, "jumps");
	scan(&o);

	/* Slots 0, 1 and 2 should hold p1; 3 nothing. */
	c.n = 3;
	c.entries = calloc(3, sizeof(*c.entries));
	ck_assert_ptr_nonnull(c.entries);
	for (uint32_t i = 0; i < 3; i++) {
		c.entries[i].key = malloc(4);
		ck_assert_ptr_nonnull(c.entries[i].key);
		memcpy(c.entries[i].key, &i, 4);
		c.entries[i].is_prog = true;
		memcpy(c.entries[i].tag, t1, 8);
		c.entries[i].has_tag = true;
	}
	des = one_pin(&pin, "jumps", BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, &c);
	observe_ok(&des, &o);
	ck_assert(c.observed);
	ck_assert(!c.entries[0].differs && !c.entries[0].absent);
	ck_assert(c.entries[1].differs && !c.entries[1].absent);
	ck_assert(c.entries[2].differs && c.entries[2].absent);
	/* Empty slots are no extra; a filled one not listed is. */
	extra_is(&c, (const uint32_t[]){ 3 }, 1);

	/* Without its tag (identity not run), a filled slot is taken as is. */
	c.entries[1].has_tag = false;
	observe_ok(&des, &o);
	ck_assert(!c.entries[1].differs && !c.entries[1].absent);
	ck_assert(c.entries[2].differs && c.entries[2].absent);

	contents_done(&c);
	observed_done(&o);
	close(fd);
	close(p1);
	close(p2);
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
	tcase_add_test(enc, test_lpm_keys);
	tcase_add_test(enc, test_all_errors);
	suite_add_tcase(s, enc);

	TCase *obs = tcase_create("observe");
	tcase_add_unchecked_fixture(obs, base_setup, base_teardown);
	tcase_add_checked_fixture(obs, fx_setup, fx_teardown);
	tcase_add_test(obs, test_observe_hash);
	tcase_add_test(obs, test_observe_skipped);
	tcase_add_test(obs, test_observe_error);
	tcase_add_test(obs, test_observe_percpu);
	tcase_add_test(obs, test_observe_array);
	tcase_add_test(obs, test_observe_prog_array);
	tcase_add_test(obs, test_observe_lpm);
	suite_add_tcase(s, obs);
	return s;
}
