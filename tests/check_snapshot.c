// SPDX-License-Identifier: MIT
/* Unit tests of snapshot_read() (snapshot.c) and of the ledger's JSON with
 * the records offline plans read: documents written here, no kernel.  A
 * snapshot fills the observed tree (sorted, offline, map entries sorted by
 * key), the programs program arrays held, interfaces, cgroups and the
 * ledger; anything malformed is -EINVAL with an error naming the file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "check_suites.h"
#include "diag.h"
#include "ledger.h"
#include "observed.h"
#include "snapshot.h"

#define ENTRY_REST                                                                                 \
	"\"uid\": 0, \"gid\": 0, \"error\": 0, \"type\": 1, \"name\": \"n\", \"key_size\": 4, "      \
	"\"value_size\": 8, \"max_entries\": 4, \"map_flags\": 0, \"map_ids\": [], \"prog_id\": 0, " \
	"\"attach_type\": 0, \"ifindex\": 0, \"cgroup_id\": 0, \"defunct\": false"

/* A snapshot with a map (entries out of order), a program, a directory. */
static const char good[] =
	"{\"format\": \"bpf-provision-snapshot\", \"version\": 1, \"root\": \"/r\",\n"
	" \"entries\": [\n"
	"  {\"path\": \"d/m\", \"kind\": \"map\", \"mode\": 384, \"ino\": 7, \"id\": 11, "
	"\"tag\": \"0000000000000000\", " ENTRY_REST ",\n"
	"   \"contents\": [{\"key\": \"02000000\", \"value\": \"0200000000000000\"},\n"
	"                {\"key\": \"01000000\", \"value\": \"0100000000000000\"}]},\n"
	"  {\"path\": \"d\", \"kind\": \"dir\", \"mode\": 448, \"ino\": 6, \"id\": 0, "
	"\"tag\": \"0000000000000000\", " ENTRY_REST "},\n"
	"  {\"path\": \"d/p\", \"kind\": \"program\", \"mode\": 384, \"ino\": 8, \"id\": 12, "
	"\"tag\": \"0102030405060708\", " ENTRY_REST "}],\n"
	" \"ledger\": {\"format_version\": 1, \"runs\": [], \"entries\": [\n"
	"  {\"path\": \"d/p\", \"manifest\": \"m\", \"ino\": 8, \"id\": 12, \"object\": "
	"\"00112233445566778899aabbccddeeff00112233\", \"programs\": [{\"name\": \"prog\", "
	"\"tag\": \"0102030405060708\"}]}]},\n"
	" \"programs\": [{\"id\": 9, \"tag\": \"0909090909090909\"}, {\"id\": 3, \"tag\": "
	"\"0303030303030303\"}],\n"
	" \"interfaces\": {\"lo\": 1, \"veth0\": 5},\n"
	" \"cgroup2\": \"/sys/fs/cgroup\", \"cgroups\": {\"/\": 1, \"/a\": 42}}\n";

static char file[64];

static void write_doc(const char *text)
{
	FILE *f;

	strcpy(file, "/tmp/check_snapshot.XXXXXX");
	int fd = mkstemp(file);

	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(test_read)
{
	struct diag d = { 0 };
	struct observed o = { 0 };
	struct ledger l = { 0 };
	const struct observed_entry *m, *p;
	const struct ledger_entry *e;
	uint64_t id;

	write_doc(good);
	ck_assert_int_eq(snapshot_read(file, &d, &o, &l), 0);
	unlink(file);
	ck_assert(o.offline);
	ck_assert_str_eq(o.root, "/r");
	ck_assert_uint_eq(o.n, 3);
	ck_assert_str_eq(o.entries[0].path, "d"); /* sorted by path */
	ck_assert_int_eq(o.entries[0].kind, OBSERVED_DIR);
	m = observed_find(&o, "d/m");
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(m->kind, OBSERVED_MAP);
	ck_assert_uint_eq(m->mode, 0600);
	ck_assert_uint_eq(m->id, 11);
	ck_assert_ptr_nonnull(m->data);
	ck_assert_uint_eq(m->data->n, 2);
	ck_assert_uint_eq(m->data->value_bytes, 8);
	/* Sorted by key, each value with its key. */
	ck_assert_int_eq(m->data->keys[0], 1);
	ck_assert_int_eq(m->data->values[0], 1);
	ck_assert_int_eq(m->data->keys[4], 2);
	ck_assert_int_eq(m->data->values[8], 2);
	p = observed_find(&o, "d/p");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_null(p->data);
	ck_assert_int_eq(p->tag[0], 1);
	ck_assert_int_eq(p->tag[7], 8);
	ck_assert_int_eq(observed_prog_tag(&o, 3)[0], 3);
	ck_assert_int_eq(observed_prog_tag(&o, 9)[0], 9);
	ck_assert_ptr_null(observed_prog_tag(&o, 4));
	ck_assert(observed_name_id(o.ifaces, o.n_ifaces, "veth0", &id) && id == 5);
	ck_assert(!observed_name_id(o.ifaces, o.n_ifaces, "eth9", &id));
	ck_assert(observed_name_id(o.cgroups, o.n_cgroups, "/a", &id) && id == 42);
	ck_assert_str_eq(o.cgroup2, "/sys/fs/cgroup");
	e = ledger_find(&l, "d/p");
	ck_assert_ptr_nonnull(e);
	ck_assert_ptr_nonnull(ledger_prog_tag(e, "00112233445566778899aabbccddeeff00112233", "prog"));
	ck_assert_int_eq(ledger_prog_tag(e, "00112233445566778899aabbccddeeff00112233", "prog")[7],
			 8);
	ck_assert_ptr_null(ledger_prog_tag(e, "ffffffffffffffffffffffffffffffffffffffff", "prog"));
	ck_assert_ptr_null(ledger_prog_tag(e, "00112233445566778899aabbccddeeff00112233", "other"));
	ck_assert_uint_eq(d.n_errors, 0);
	observed_done(&o);
	ledger_done(&l);
	diag_done(&d);
}
END_TEST

/* One change of the good document makes it no snapshot. */
static const char *const bad_edits[][2] = {
	{ "\"bpf-provision-snapshot\"", "\"other\"" },
	{ "\"version\": 1", "\"version\": 2" },
	{ "\"root\": \"/r\"", "\"root\": \"r\"" },
	{ "\"kind\": \"dir\"", "\"kind\": \"folder\"" },
	{ "\"0102030405060708\", \"uid\"", "\"01020304\", \"uid\"" },
	{ "\"key\": \"01000000\"", "\"key\": \"010000\"" },
	{ "\"value\": \"0100000000000000\"", "\"value\": \"01000000zz000000\"" },
	{ "\"path\": \"d\",", "\"path\": \"d/m\"," },
	{ "\"tag\": \"0303030303030303\"", "\"tag\": 3" },
	{ "\"lo\": 1", "\"lo\": \"1\"" },
	{ "\"format_version\": 1", "\"format_version\": 9" },
	{ "\"programs\": [{\"name\": \"prog\"", "\"programs\": [{\"nom\": \"prog\"" },
	{ "\"interfaces\"", "\"ifaces\"" },
	{ "}}\n", "}\n" },
};

START_TEST(test_bad)
{
	const char *from = bad_edits[_i][0], *to = bad_edits[_i][1];
	const char *at = strstr(good, from);
	struct diag d = { 0 };
	struct observed o = { 0 };
	struct ledger l = { 0 };
	char *doc;
	int r;

	ck_assert_msg(at, "edit %d: '%s' is not in the document", _i, from);
	ck_assert_int_ge(asprintf(&doc, "%.*s%s%s", (int)(at - good), good, to, at + strlen(from)), 0);
	write_doc(doc);
	free(doc);
	r = snapshot_read(file, &d, &o, &l);
	unlink(file);
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_uint_ge(d.n_errors, 1);
	ck_assert_str_eq(d.msgs[0].file, file);
	ck_assert_ptr_null(o.entries);
	ck_assert_uint_eq(l.n, 0);
	diag_done(&d);
}
END_TEST

START_TEST(test_missing)
{
	struct diag d = { 0 };
	struct observed o = { 0 };
	struct ledger l = { 0 };

	ck_assert_int_eq(snapshot_read("/nonexistent/snap.json", &d, &o, &l), -ENOENT);
	ck_assert_uint_ge(d.n_errors, 1);
	diag_done(&d);
}
END_TEST

/* A record's object and programs survive the ledger's JSON, and a copy. */
START_TEST(test_ledger_progs)
{
	char a[] = "a", b[] = "b", path[] = "x/p", manifest[] = "m";
	char object[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	struct ledger_prog progs[] = { { a, { 1, 2, 3, 4, 5, 6, 7, 8 } }, { b, { 9 } } };
	struct ledger_entry e = { .path = path, .manifest = manifest, .ino = 3, .id = 4,
				  .object = object, .progs = progs, .n_progs = 2 };
	struct ledger l = { 0 }, back = { 0 }, copy = { 0 };
	json_t *doc;

	l.file = strdup("f");
	ck_assert_int_eq(ledger_put(&l, &e), 0);
	doc = ledger_to_json(&l);
	ck_assert_ptr_nonnull(doc);
	ck_assert_int_eq(ledger_from_json(doc, &back), 0);
	json_decref(doc);
	ck_assert_uint_eq(back.n, 1);
	ck_assert_str_eq(back.entries[0].object, e.object);
	ck_assert_uint_eq(back.entries[0].n_progs, 2);
	ck_assert_mem_eq(ledger_prog_tag(&back.entries[0], e.object, "a"), progs[0].tag, 8);
	ck_assert_mem_eq(ledger_prog_tag(&back.entries[0], e.object, "b"), progs[1].tag, 8);
	ck_assert_int_eq(ledger_copy(&l, &copy), 0);
	ck_assert_mem_eq(ledger_prog_tag(&copy.entries[0], e.object, "a"), progs[0].tag, 8);
	ledger_done(&l);
	ledger_done(&back);
	ledger_done(&copy);
}
END_TEST

/* A map record's "seen" survives the JSON, a copy and a save; one that is
 * not [mtime, type, key, value, max_entries, flags, name] is refused.  And
 * records put in any order come out sorted, replacing those of their path. */
START_TEST(test_ledger_map_and_order)
{
	struct ledger_entry m = { .path = (char *)"k", .manifest = (char *)"m", .ino = 9, .id = 8,
				  .has_map = true,
				  .map = { .mtime = { 1700000000, 123456789 }, .type = 2, .key_size = 4,
					   .value_size = 8, .max_entries = 16, .map_flags = 1,
					   .name = "counts" } };
	struct ledger_entry batch[] = {
		{ .path = (char *)"z", .manifest = (char *)"m" },
		{ .path = (char *)"a", .manifest = (char *)"m" },
		{ .path = (char *)"k", .manifest = (char *)"n" },
		{ .path = (char *)"c", .manifest = (char *)"m" },
	};
	static const char *const order[] = { "a", "c", "k", "z" };
	static const char *const bad[] = {
		"[1, 2, 4, 8, 16, 1]", "[1, 2, 4, 8, 16, 1, 7]", "[-1, 2, 4, 8, 16, 1, \"x\"]",
		"[1, 2, 4, 8, 16, 1, \"sixteen-chars-xx\"]", "{}",
	};
	struct ledger l = { .file = strdup("f") }, back = { 0 }, copy = { 0 };
	json_t *doc;

	ck_assert_int_eq(ledger_put(&l, &m), 0);
	doc = ledger_to_json(&l);
	ck_assert_int_eq(ledger_from_json(doc, &back), 0);
	back.file = strdup("f");
	ck_assert_int_eq(ledger_copy(&back, &copy), 0);
	for (int i = 0; i < 2; i++) {
		const struct ledger_entry *e = &(i ? &copy : &back)->entries[0];

		ck_assert(e->has_map);
		ck_assert_int_eq(e->map.mtime.tv_sec, m.map.mtime.tv_sec);
		ck_assert_int_eq(e->map.mtime.tv_nsec, m.map.mtime.tv_nsec);
		ck_assert_uint_eq(e->map.type, 2);
		ck_assert_uint_eq(e->map.key_size, 4);
		ck_assert_uint_eq(e->map.value_size, 8);
		ck_assert_uint_eq(e->map.max_entries, 16);
		ck_assert_uint_eq(e->map.map_flags, 1);
		ck_assert_str_eq(e->map.name, "counts");
	}
	ledger_done(&back);
	ledger_done(&copy);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *entry = json_array_get(json_object_get(doc, "entries"), 0);

		json_object_set_new(entry, "seen", json_loads(bad[i], 0, NULL));
		ck_assert_msg(ledger_from_json(doc, &back) == -EINVAL, "seen %s was taken", bad[i]);
		ledger_done(&back);
	}
	json_decref(doc);

	/* Interleaved with the record there, one of them replacing it. */
	ck_assert_int_eq(ledger_put_many(&l, batch, 4), 0);
	ck_assert_uint_eq(l.n, 4);
	for (size_t i = 0; i < 4; i++)
		ck_assert_str_eq(l.entries[i].path, order[i]);
	ck_assert_str_eq(ledger_find(&l, "k")->manifest, "n");
	ck_assert(!ledger_find(&l, "k")->has_map);
	/* In order and after them all. */
	ck_assert_int_eq(ledger_put_many(&l, &(struct ledger_entry){ .path = (char *)"zz",
								     .manifest = (char *)"m" },
					 1),
			 0);
	ck_assert_uint_eq(l.n, 5);
	ck_assert_str_eq(l.entries[4].path, "zz");
	ck_assert_ptr_nonnull(ledger_find(&l, "a"));
	ledger_done(&l);
}
END_TEST

/* The ledger file is read record by record (ledger.c): compact as it is
 * written, or spaced out by hand, it reads as ledger_from_json() reads its
 * tree; anything else is refused whole. */
START_TEST(test_ledger_text)
{
	char dir[] = "/tmp/bpfprov-check-ledger.XXXXXX";
	char a[] = "a", object[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
	struct ledger_prog progs[] = { { a, { 1, 2, 3, 4, 5, 6, 7, 8 } } };
	struct ledger_entry es[] = {
		{ .path = (char *)"d", .manifest = (char *)"m", .is_dir = true, .ino = 2,
		  .run = (char *)"r1" },
		{ .path = (char *)"d/p", .manifest = (char *)"m", .ino = 3, .id = 4,
		  .object = object, .progs = progs, .n_progs = 1 },
		{ .path = (char *)"d/q", .manifest = (char *)"n", .ino = 5, .id = 6, .adopted = true },
	};
	static const char *const bad[] = {
		"", "{", "[]", "{\"format_version\": 1, \"runs\": []}",
		"{\"format_version\": 2, \"entries\": [], \"runs\": []}",
		"{\"format_version\": 1, \"entries\": 3, \"runs\": []}",
		"{\"format_version\": 1, \"entries\": [{\"manifest\": \"m\"}], \"runs\": []}",
		"{\"format_version\": 1, \"entries\": [{\"path\": \"p\", \"manifest\": \"m\"},], \"runs\": []}",
		"{\"format_version\": 1, \"entries\": [], \"runs\": []} x",
		"{\"format_version\": 1, \"entries\": [{\"path\": \"p\", \"manifest\": \"m\"}], "
		"\"entries\": [{\"path\": \"q\", \"manifest\": \"m\"}], \"runs\": []}",
	};
	struct ledger l = { 0 }, back = { 0 };
	struct diag d = { 0 };
	char *text;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(setenv("BPF_PROVISION_RUNTIME_DIR", dir, 1), 0);
	ck_assert_int_eq(ledger_path(dir, &l.file), 0);
	ck_assert_int_eq(ledger_put_many(&l, es, 3), 0);
	ck_assert_int_eq(ledger_add_run(&l, "r1"), 0);
	/* 0: as written; 1: indented; 2: a space before every colon too, so
	 * that no record is counted ahead (records_left()) and the entries
	 * grow as they are read. */
	for (int spaced = 0; spaced < 3; spaced++) {
		if (spaced) {
			json_t *doc = ledger_to_json(&l);

			text = json_dumps(doc, JSON_INDENT(3));
			json_decref(doc);
			f = fopen(l.file, "w");
			ck_assert_ptr_nonnull(f);
			fputc('\n', f);
			for (const char *c = text; *c; c++) {
				if (spaced == 2 && c[0] == '"' && c[1] == ':')
					fputs("\" ", f);
				else
					fputc(*c, f);
			}
			fputs("\n\t", f);
			ck_assert_int_eq(fclose(f), 0);
			free(text);
		} else {
			ck_assert_int_eq(ledger_save(&l, &d), 0);
		}
		ck_assert_int_eq(ledger_load(dir, &d, &back), 0);
		ck_assert_uint_eq(back.n, 3);
		ck_assert_str_eq(back.entries[0].path, "d");
		ck_assert(back.entries[0].is_dir);
		ck_assert_str_eq(back.entries[0].run, "r1");
		ck_assert_str_eq(back.entries[1].object, object);
		ck_assert_mem_eq(ledger_prog_tag(&back.entries[1], object, "a"), progs[0].tag, 8);
		ck_assert(back.entries[2].adopted && back.entries[2].id == 6);
		ck_assert(ledger_has_run(&back, "r1", 2));
		ledger_done(&back);
	}
	/* No record at all (every pin destroyed) is a ledger too. */
	f = fopen(l.file, "w");
	ck_assert_ptr_nonnull(f);
	fputs("{\"format_version\": 1, \"entries\": [ ], \"runs\": [\"r2\"]}", f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(ledger_load(dir, &d, &back), 0);
	ck_assert_uint_eq(back.n, 0);
	ck_assert(ledger_has_run(&back, "r2", 2));
	ledger_done(&back);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		f = fopen(l.file, "w");
		ck_assert_ptr_nonnull(f);
		fputs(bad[i], f);
		ck_assert_int_eq(fclose(f), 0);
		ck_assert_msg(ledger_load(dir, &d, &back) == -EINVAL, "accepted: %s", bad[i]);
	}
	ck_assert_uint_eq(d.n_errors, sizeof(bad) / sizeof(*bad));
	unlink(l.file);
	rmdir(dir);
	unsetenv("BPF_PROVISION_RUNTIME_DIR");
	ledger_done(&l);
	diag_done(&d);
}
END_TEST

Suite *snapshot_suite(void)
{
	Suite *s = suite_create("snapshot");
	TCase *tc = tcase_create("read");

	tcase_add_test(tc, test_read);
	tcase_add_loop_test(tc, test_bad, 0, sizeof(bad_edits) / sizeof(*bad_edits));
	tcase_add_test(tc, test_missing);
	tcase_add_test(tc, test_ledger_progs);
	tcase_add_test(tc, test_ledger_map_and_order);
	tcase_add_test(tc, test_ledger_text);
	suite_add_tcase(s, tc);
	return s;
}
