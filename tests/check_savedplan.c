// SPDX-License-Identifier: MIT
/* Unit tests of saved plans: a plan of states built in memory written,
 * read back and checked against the same states (no difference) and
 * against states changed one way at a time (the first difference named);
 * files that are not saved plans of this version refused.  No kernel. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_suites.h"
#include "savedplan.h"

struct world {
	char dir[64];
	char file[96];     /* the saved plan */
	char manifest[96]; /* a manifest file, named "./site.yaml" from dir */
	char cwd[4096];
	struct manifest m;
	struct manifest *items[1];
	struct manifest_set set;
	struct desired des;
	struct observed obs;
	struct observed_entry entries[3]; /* the third is not there at first */
	struct ledger ledger;
	struct ledger_entry record;
	struct plan plan;
	struct diag d;
};

static char site_name[] = "site", rel_manifest[] = "./site.yaml";
static char ns1[] = "ns1", ns1_m[] = "ns1/m", ns1_x[] = "ns1/x";

static void world_init(struct world *w)
{
	FILE *f;

	memset(w, 0, sizeof(*w));
	ck_assert_ptr_nonnull(getcwd(w->cwd, sizeof(w->cwd)));
	snprintf(w->dir, sizeof(w->dir), "/tmp/check-savedplan.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(w->dir));
	snprintf(w->file, sizeof(w->file), "%s/site.plan", w->dir);
	snprintf(w->manifest, sizeof(w->manifest), "%s/site.yaml", w->dir);
	f = fopen(w->manifest, "w");
	ck_assert_ptr_nonnull(f);
	fputs("version: 1\n", f);
	fclose(f);
	ck_assert_int_eq(chdir(w->dir), 0);
	w->m = (struct manifest){ .file = rel_manifest, .name = site_name, .prune = true };
	w->items[0] = &w->m;
	w->set = (struct manifest_set){ .items = w->items, .n = 1 };
	w->entries[0] = (struct observed_entry){ .path = ns1, .kind = OBSERVED_DIR, .mode = 0700,
						 .ino = 10 };
	w->entries[1] = (struct observed_entry){ .path = ns1_m, .kind = OBSERVED_MAP,
						 .mode = 0600, .ino = 11, .id = 5, .type = 2,
						 .key_size = 4, .value_size = 4, .max_entries = 8 };
	w->entries[2] = (struct observed_entry){ .path = ns1_x, .kind = OBSERVED_SYMLINK,
						 .mode = 0777, .ino = 13 };
	w->obs = (struct observed){ .entries = w->entries, .n = 2 };
	w->record = (struct ledger_entry){ .path = ns1_m, .manifest = site_name, .ino = 11,
					   .id = 5 };
	ck_assert_int_eq(plan_build(&(struct plan_input){ .set = &w->set,
							  .desired = &w->des,
							  .observed = &w->obs,
							  .ledger = &w->ledger },
				    &w->plan),
			 0);
}

static void world_done(struct world *w)
{
	plan_done(&w->plan);
	diag_done(&w->d);
	unlink(w->file);
	unlink(w->manifest);
	ck_assert_int_eq(chdir(w->cwd), 0);
	rmdir(w->dir);
}

static struct savedplan_input input_of(struct world *w)
{
	return (struct savedplan_input){ .root = "/sys/fs/bpf",
					 .set = &w->set,
					 .desired = &w->des,
					 .observed = &w->obs,
					 .ledger = &w->ledger,
					 .plan = &w->plan };
}

/* Saves the world's plan and reads it back into *sp. */
static void save_and_read(struct world *w, struct savedplan *sp)
{
	struct savedplan_input in = input_of(w);

	ck_assert_int_eq(savedplan_write(&in, w->file, &w->d), 0);
	ck_assert_int_eq(savedplan_read(w->file, &w->d, sp), 0);
	ck_assert_uint_eq(w->d.n_errors, 0);
}

/* The check fails with exactly this one error. */
static void expect_stale(struct world *w, const struct savedplan *sp, const char *msg)
{
	struct savedplan_input in = input_of(w);
	char want[256];

	ck_assert_int_eq(savedplan_check(sp, &in, &w->d), -ESTALE);
	ck_assert_uint_eq(w->d.n_errors, 1);
	snprintf(want, sizeof(want), "the tree changed since the plan: %s", msg);
	ck_assert_str_eq(w->d.msgs[0].text, want);
	ck_assert_str_eq(w->d.msgs[0].file, w->file);
	diag_done(&w->d);
}

START_TEST(test_roundtrip)
{
	struct savedplan sp = { 0 };
	struct savedplan_input in;
	struct world w;
	char want[128];

	world_init(&w);
	save_and_read(&w, &sp);
	ck_assert(!sp.destroy);
	ck_assert_str_eq(sp.root, "/sys/fs/bpf");
	/* "./site.yaml" from dir is recorded as dir/site.yaml. */
	ck_assert_uint_eq(sp.n_manifests, 1);
	snprintf(want, sizeof(want), "%s/site.yaml", w.dir);
	ck_assert_str_eq(sp.manifests[0], want);
	in = input_of(&w);
	ck_assert_int_eq(savedplan_check(&sp, &in, &w.d), 0);
	ck_assert_uint_eq(w.d.n_errors, 0);
	savedplan_done(&sp);
	world_done(&w);
}
END_TEST

START_TEST(test_first_difference)
{
	struct savedplan sp = { 0 };
	struct world w;
	FILE *f;

	world_init(&w);
	save_and_read(&w, &sp);

	w.entries[1].ino = 12;
	expect_stale(&w, &sp, "ns1/m: inode 11 is now 12");
	w.entries[1].ino = 11;
	w.entries[1].max_entries = 16;
	expect_stale(&w, &sp, "ns1/m: max entries 8 is now 16");
	w.entries[1].max_entries = 8;
	w.entries[1].mode = 0644;
	expect_stale(&w, &sp, "ns1/m: mode 0600 is now 0644");
	w.entries[1].mode = 0600;
	w.entries[1].kind = OBSERVED_PROGRAM;
	expect_stale(&w, &sp, "ns1/m: kind map is now program");
	w.entries[1].kind = OBSERVED_MAP;
	/* Gone, and new. */
	w.obs.n = 1;
	expect_stale(&w, &sp, "ns1/m: in the plan, gone now");
	w.obs.n = 3;
	expect_stale(&w, &sp, "ns1/x: there now, not in the plan");
	w.obs.n = 2;
	/* A ledger record. */
	w.ledger = (struct ledger){ .entries = &w.record, .n = 1 };
	{
		struct savedplan_input in = input_of(&w);

		ck_assert_int_eq(savedplan_check(&sp, &in, &w.d), -ESTALE);
		ck_assert_ptr_nonnull(strstr(w.d.msgs[0].text, "the ledger: digest null is now "));
		diag_done(&w.d);
	}
	w.ledger = (struct ledger){ 0 };
	/* The manifest's contents, before anything of the tree. */
	w.entries[1].ino = 12;
	f = fopen(w.manifest, "a");
	ck_assert_ptr_nonnull(f);
	fputs("# edited\n", f);
	fclose(f);
	{
		struct savedplan_input in = input_of(&w);
		char want[160];

		snprintf(want, sizeof(want), "%s: contents: sha256 ", w.manifest);
		ck_assert_int_eq(savedplan_check(&sp, &in, &w.d), -ESTALE);
		ck_assert_ptr_nonnull(strstr(w.d.msgs[0].text, want));
		diag_done(&w.d);
	}
	savedplan_done(&sp);
	world_done(&w);
}
END_TEST

/* FILE with this text is refused with -EINVAL and an error containing msg. */
static void expect_invalid(struct world *w, const char *text, const char *msg)
{
	struct savedplan sp = { 0 };
	FILE *f = fopen(w->file, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(savedplan_read(w->file, &w->d, &sp), -EINVAL);
	ck_assert_ptr_null(sp.doc);
	ck_assert_uint_eq(w->d.n_errors, 1);
	ck_assert_msg(strstr(w->d.msgs[0].text, msg), "'%s' lacks '%s'", w->d.msgs[0].text, msg);
	diag_done(&w->d);
}

START_TEST(test_invalid)
{
	struct savedplan sp = { 0 };
	struct world w;

	world_init(&w);
	ck_assert_int_eq(savedplan_read(w.file, &w.d, &sp), -ENOENT);
	diag_done(&w.d);
	expect_invalid(&w, "{\"format\": ", "invalid saved plan: ");
	expect_invalid(&w, "[]", "invalid saved plan: ");
	expect_invalid(&w, "{\"format\": \"bpf-provision-plan\", \"version\": 2}",
		       "saved plan version 2; this bpf-provision reads version 1");
	expect_invalid(&w, "{\"format\": \"bpf-provision-plan\", \"version\": 1}",
		       "invalid saved plan: Object item not found: command");
	expect_invalid(&w, "{\"format\": \"other\", \"version\": 1}", "not a bpf-provision plan");
	expect_invalid(&w,
		       "{\"format\": \"bpf-provision-plan\", \"version\": 1, \"command\": \"apply\","
		       " \"root\": \"/r\", \"prune_retired\": false, \"names\": [], \"targets\": [],"
		       " \"manifests\": [], \"objects\": [], \"observed\": [], \"ledger\": null,"
		       " \"plan\": {}}",
		       "it names no manifest");
	expect_invalid(&w,
		       "{\"format\": \"bpf-provision-plan\", \"version\": 1, \"command\": \"frob\","
		       " \"root\": \"/r\", \"prune_retired\": false, \"names\": [], \"targets\": [],"
		       " \"manifests\": [], \"objects\": [], \"observed\": [], \"ledger\": null,"
		       " \"plan\": {}}",
		       "command is neither");
	world_done(&w);
}
END_TEST

Suite *savedplan_suite(void)
{
	Suite *s = suite_create("savedplan");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_first_difference);
	tcase_add_test(tc, test_invalid);
	suite_add_tcase(s, tc);
	return s;
}
