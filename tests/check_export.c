// SPDX-License-Identifier: MIT
/* export_match and export_emit without a kernel: an observed tree made by
 * hand, matched against configs/bpf/gobpf_site.o with tags set by hand, and
 * the manifest emitted read back by the manifest parser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "check_suites.h"
#include "export.h"
#include "manifest.h"

static const uint8_t socket_tag[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static const uint8_t other_tag[8] = { 8, 7, 6, 5, 4, 3, 2, 1 };
static uint32_t prog_maps[] = { 20 };

/* gobpf_site.o: dummy_hash, dummy_array, dummy_array_custom,
 * dummy_prog_array; programs dummy_kprobe (no tag here) and dummy_socket,
 * which uses dummy_array. */
static void object_init(struct export *x)
{
	struct export_object *o;
	struct diag d = { 0 };
	char *path = NULL;

	ck_assert_int_ge(asprintf(&path, "%s/configs/bpf/gobpf_site.o", test_builddir()), 0);
	*x = (struct export){ .objects = calloc(1, sizeof(*x->objects)), .n_objects = 1 };
	ck_assert_ptr_nonnull(x->objects);
	o = &x->objects[0];
	ck_assert_int_eq(objfile_open(path, &d, &o->of), 0);
	o->name = strdup("gobpf_site");
	ck_assert_uint_eq(o->of->n_progs, 2);
	o->tags = calloc(2, sizeof(*o->tags));
	o->has_tag = calloc(2, sizeof(*o->has_tag));
	ck_assert_str_eq(o->of->progs[1].name, "dummy_socket");
	memcpy(o->tags[1], socket_tag, 8);
	o->has_tag[1] = true;
	free(path);
	diag_done(&d);
}

static struct observed_entry map_at(const char *path, const char *name, uint32_t type,
				    uint32_t key, uint32_t value, uint32_t max, uint32_t id)
{
	struct observed_entry e = { .path = (char *)path,
				    .kind = OBSERVED_MAP,
				    .mode = 0600,
				    .type = type,
				    .key_size = key,
				    .value_size = value,
				    .max_entries = max,
				    .id = id };

	snprintf(e.name, sizeof(e.name), "%s", name);
	return e;
}

static struct observed_entry prog_at(const char *path, const uint8_t tag[8])
{
	struct observed_entry e = { .path = (char *)path,
				    .kind = OBSERVED_PROGRAM,
				    .mode = 0644,
				    .type = BPF_PROG_TYPE_SOCKET_FILTER,
				    .map_ids = prog_maps,
				    .n_map_ids = 1 };

	memcpy(e.tag, tag, 8);
	return e;
}

/* In path order, as observed_scan() gives them. */
static struct observed_entry tree[10];

static struct observed tree_init(void)
{
	size_t n = 0;

	tree[n++] = map_at("a/hash", "dummy_hash", BPF_MAP_TYPE_HASH, 4, 8, 128, 10);
	tree[n++] = map_at("a/hash2", "dummy_hash", BPF_MAP_TYPE_HASH, 4, 8, 128, 11);
	tree[n++] = prog_at("a/prog", socket_tag);
	/* The program holds map 20, not this one. */
	tree[n++] = map_at("b/arr", "dummy_array", BPF_MAP_TYPE_ARRAY, 4, 4, 64, 21);
	tree[n++] = map_at("b/arr2", "dummy_array", BPF_MAP_TYPE_ARRAY, 4, 4, 64, 20);
	tree[n++] = (struct observed_entry){ .path = (char *)"c", .kind = OBSERVED_DIR };
	tree[n++] = (struct observed_entry){ .path = (char *)"c/link", .kind = OBSERVED_LINK, .prog_id = 7 };
	tree[n++] = map_at("c/mim", "outer", BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 8, 30);
	tree[n++] = prog_at("c/other", other_tag);
	tree[n++] = map_at("x/n123", "123", BPF_MAP_TYPE_ARRAY, 4, 4, 2, 40);
	return (struct observed){ .root = (char *)"/r", .entries = tree, .n = n };
}

START_TEST(test_match)
{
	struct observed obs = tree_init();
	struct export x;

	object_init(&x);
	ck_assert_int_eq(export_match(&x, &obs, NULL, 0), 0);
	ck_assert_ptr_eq(x.objects[0].map_pin[0], &tree[0]);
	ck_assert_ptr_eq(x.objects[0].map_pin[1], &tree[4]);
	ck_assert_ptr_null(x.objects[0].map_pin[2]);
	ck_assert_ptr_eq(x.objects[0].prog_pin[1], &tree[2]);
	ck_assert_ptr_null(x.objects[0].prog_pin[0]);
	/* A second pin of an object's map, and one the program does not hold:
	 * standalone. */
	ck_assert_uint_eq(x.n_maps, 3);
	ck_assert_ptr_eq(x.maps[0], &tree[1]);
	ck_assert_ptr_eq(x.maps[1], &tree[3]);
	ck_assert_ptr_eq(x.maps[2], &tree[9]);
	/* The link, the map of maps, the program of no object. */
	ck_assert_uint_eq(x.n_skipped, 3);
	ck_assert_ptr_eq(x.skipped[0].e, &tree[6]);
	ck_assert_ptr_eq(x.skipped[1].e, &tree[7]);
	ck_assert_ptr_eq(x.skipped[2].e, &tree[8]);
	ck_assert_ptr_nonnull(strstr(x.skipped[2].why, "tag 0807060504030201"));
	export_done(&x);
}
END_TEST

START_TEST(test_scope)
{
	struct observed obs = tree_init();
	char *prefixes[] = { (char *)"b", (char *)"c/link" };
	struct export x;

	object_init(&x);
	ck_assert_int_eq(export_match(&x, &obs, prefixes, 2), 0);
	/* No program declared: the first map of the name and spec is it. */
	ck_assert_ptr_null(x.objects[0].map_pin[0]);
	ck_assert_ptr_eq(x.objects[0].map_pin[1], &tree[3]);
	ck_assert_ptr_null(x.objects[0].prog_pin[1]);
	ck_assert_uint_eq(x.n_maps, 1);
	ck_assert_ptr_eq(x.maps[0], &tree[4]);
	ck_assert_uint_eq(x.n_skipped, 1);
	ck_assert_ptr_eq(x.skipped[0].e, &tree[6]);
	export_done(&x);
}
END_TEST

/* One tag, two programs: the pin's type first, then a free slot, and a
 * program loaded as another type says so. */
START_TEST(test_same_tag)
{
	struct observed_entry pins[2] = { prog_at("p/one", socket_tag), prog_at("p/two", socket_tag) };
	struct observed obs = { .root = (char *)"/r", .entries = pins, .n = 2 };
	struct diag d = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct export x;

	object_init(&x);
	memcpy(x.objects[0].tags[0], socket_tag, 8);
	x.objects[0].has_tag[0] = true;
	ck_assert_int_eq(export_match(&x, &obs, NULL, 0), 0);
	ck_assert_ptr_eq(x.objects[0].prog_pin[1], &pins[0]);
	ck_assert_ptr_eq(x.objects[0].prog_pin[0], &pins[1]);
	ck_assert_uint_eq(x.n_skipped, 0);
	ck_assert_int_eq(export_emit(&x, "/r", &d, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_ptr_nonnull(strstr(buf, "  - program: dummy_kprobe\n    pinning: custom\n"
					  "    path: p/two\n    mode: \"0644\"\n    type: socket_filter\n"));
	free(buf);
	diag_done(&d);
	export_done(&x);
}
END_TEST

/* The emitted YAML is a manifest the parser takes, with what was matched. */
START_TEST(test_emit)
{
	struct observed obs = tree_init();
	struct diag d = { 0 };
	struct manifest *m = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct export x;

	ck_assert_ptr_nonnull(f);
	object_init(&x);
	ck_assert_int_eq(export_match(&x, &obs, NULL, 0), 0);
	ck_assert_int_eq(export_emit(&x, "/r", &d, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_ptr_nonnull(strstr(buf, "# not exported: c/link link (program id 7)"));
	ck_assert_int_eq(manifest_parse_buffer("exported.yaml", buf, len, &d, &m), 0);
	ck_assert_str_eq(m->name, "exported");
	ck_assert(!m->prune);
	ck_assert_uint_eq(m->n_objects, 1);
	/* dummy_hash and dummy_array at their pins, dummy_array_custom (the
	 * ELF pins it) unpinned, dummy_socket with its mode. */
	ck_assert_uint_eq(m->objects[0].n_entries, 4);
	ck_assert_str_eq(m->objects[0].entries[0].value, "dummy_hash");
	ck_assert_str_eq(m->objects[0].entries[0].path, "a/hash");
	ck_assert_int_eq(m->objects[0].entries[2].pinning, PIN_MODE_NONE);
	ck_assert_str_eq(m->objects[0].entries[3].value, "dummy_socket");
	ck_assert_int_eq(m->objects[0].entries[3].attrs.mode, 0644);
	ck_assert_uint_eq(m->n_maps, 3);
	ck_assert_str_eq(m->maps[2].path, "x/n123");
	ck_assert_str_eq(m->maps[2].name, "123"); /* quoted: no integer */
	ck_assert_uint_eq(m->maps[2].max_entries, 2);
	manifest_free(m);
	free(buf);
	diag_done(&d);
	export_done(&x);
}
END_TEST

Suite *export_suite(void)
{
	Suite *s = suite_create("export");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_match);
	tcase_add_test(tc, test_scope);
	tcase_add_test(tc, test_same_tag);
	tcase_add_test(tc, test_emit);
	suite_add_tcase(s, tc);
	return s;
}
