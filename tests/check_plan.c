// SPDX-License-Identifier: MIT
/* Unit tests of the planner: desired, observed and ledger built in memory,
 * no kernel.  Every action, every reason, the ownership rules and order. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/bpf.h>

#include "check_suites.h"
#include "compat.h"
#include "plan.h"

/* A small world: one manifest "site" owning ns1, one object. */
struct world {
	struct manifest m, other;
	struct manifest *items[2];
	struct manifest_set set;
	struct manifest_object obj;
	struct manifest_attrs attrs;
	struct desired des;
	struct observed obs;
	struct ledger ledger;
	struct plan plan;
};

static char ns1_dir[] = "ns1", site_name[] = "site", other_name[] = "other", dummy_name[] = "dummy";
static char *owned_dirs[] = { ns1_dir };

static void world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	w->m = (struct manifest){ .name = site_name, .prune = true, .owned = owned_dirs, .n_owned = 1 };
	w->other = (struct manifest){ .name = other_name, .prune = true };
	w->items[0] = &w->m;
	w->set = (struct manifest_set){ .items = w->items, .n = 1 };
	w->obj = (struct manifest_object){ .name = dummy_name };
	w->attrs = (struct manifest_attrs){ .on_incompatible = ON_INCOMPATIBLE_UNSET,
					    .mode = -1,
					    .dir_mode = -1 };
	w->des.pins = calloc(16, sizeof(*w->des.pins));
	w->obs.entries = calloc(16, sizeof(*w->obs.entries));
	w->ledger.entries = calloc(16, sizeof(*w->ledger.entries));
}

static struct desired_pin *want_map(struct world *w, const char *path, uint32_t type,
				    uint32_t max)
{
	struct desired_pin *p = &w->des.pins[w->des.n_pins++];

	*p = (struct desired_pin){
		.path = (char *)path,
		.kind = KIND_MAP,
		.spec = { .type = type, .key_size = 4, .value_size = 8, .max_entries = max },
		.uid = -1,
		.gid = -1,
		.manifest = &w->m,
		.object = &w->obj,
		.attrs = &w->attrs,
	};
	return p;
}

static struct desired_pin *want_prog(struct world *w, const char *path, uint8_t tag0)
{
	struct desired_pin *p = &w->des.pins[w->des.n_pins++];

	*p = (struct desired_pin){
		.path = (char *)path,
		.kind = KIND_PROGRAM,
		.spec = { .type = BPF_PROG_TYPE_SOCKET_FILTER, .tag = { tag0 }, .has_tag = true },
		.uid = -1,
		.gid = -1,
		.manifest = &w->m,
		.object = &w->obj,
		.attrs = &w->attrs,
	};
	return p;
}

/* Observed entries must be added in path order, as observed_scan() sorts them. */
static struct observed_entry *have(struct world *w, const char *path, enum observed_kind kind,
				   uint32_t type, uint32_t max)
{
	struct observed_entry *e = &w->obs.entries[w->obs.n++];

	*e = (struct observed_entry){ .path = (char *)path,
				      .kind = kind,
				      .type = type,
				      .key_size = 4,
				      .value_size = 8,
				      .max_entries = max,
				      .mode = 0600,
				      .ino = 100 + w->obs.n,
				      .id = 200 + (uint32_t)w->obs.n };
	return e;
}

static void record(struct world *w, const char *path, const char *manifest,
		   const struct observed_entry *e)
{
	w->ledger.entries[w->ledger.n++] = (struct ledger_entry){ .path = (char *)path,
								  .manifest = (char *)manifest,
								  .ino = e->ino,
								  .id = e->id };
}

static void run(struct world *w, bool destroy)
{
	plan_done(&w->plan);
	ck_assert_int_eq(plan_build(&(struct plan_input){ .set = &w->set,
							  .desired = &w->des,
							  .observed = &w->obs,
							  .ledger = &w->ledger,
							  .destroy = destroy },
				    &w->plan),
			 0);
}

static void world_done(struct world *w)
{
	plan_done(&w->plan);
	free(w->des.pins);
	free(w->obs.entries);
	free(w->ledger.entries);
}

static const struct plan_change *change(const struct world *w, const char *path)
{
	for (size_t i = 0; i < w->plan.n; i++)
		if (strcmp(w->plan.changes[i].path, path) == 0)
			return &w->plan.changes[i];
	return NULL;
}

START_TEST(test_create_when_missing)
{
	struct world w;
	const struct plan_change *c;

	world_init(&w);
	want_map(&w, "ns1/globals/b", BPF_MAP_TYPE_HASH, 128);
	want_map(&w, "ns1/a", BPF_MAP_TYPE_ARRAY, 4);
	run(&w, false);
	ck_assert_uint_eq(w.plan.n, 2);
	ck_assert_uint_eq(w.plan.counts[PLAN_CREATE], 2);
	/* Parents before children: path order. */
	ck_assert_str_eq(w.plan.changes[0].path, "ns1/a");
	c = change(&w, "ns1/globals/b");
	ck_assert_int_eq(c->action, PLAN_CREATE);
	ck_assert_int_eq(c->kind, OBSERVED_MAP);
	ck_assert_str_eq(c->reason, "missing");
	ck_assert_str_eq(c->manifest, "site");
	ck_assert(!c->refused);
	ck_assert(plan_has_changes(&w.plan));
	world_done(&w);
}
END_TEST

START_TEST(test_in_sync_is_unchanged)
{
	struct world w;

	world_init(&w);
	want_map(&w, "ns1/m", BPF_MAP_TYPE_HASH, 128);
	want_prog(&w, "ns1/p", 0xab);
	have(&w, "ns1", OBSERVED_DIR, 0, 0);
	have(&w, "ns1/m", OBSERVED_MAP, BPF_MAP_TYPE_HASH, 128);
	have(&w, "ns1/p", OBSERVED_PROGRAM, BPF_PROG_TYPE_SOCKET_FILTER, 0)->tag[0] = 0xab;
	record(&w, "ns1/m", "site", &w.obs.entries[1]);
	record(&w, "ns1/p", "site", &w.obs.entries[2]);
	run(&w, false);
	ck_assert_uint_eq(w.plan.n, 0);
	ck_assert_uint_eq(w.plan.counts[PLAN_UNCHANGED], 2);
	ck_assert(!plan_has_changes(&w.plan));
	world_done(&w);
}
END_TEST

/* The kernel makes every device map read-only to programs: a pinned one
 * with BPF_F_RDONLY_PROG is the declared one, and one without it is not. */
START_TEST(test_device_map_forced_flags)
{
	struct world w;

	world_init(&w);
	want_map(&w, "ns1/dev", BPF_MAP_TYPE_DEVMAP, 8);
	have(&w, "ns1", OBSERVED_DIR, 0, 0);
	have(&w, "ns1/dev", OBSERVED_MAP, BPF_MAP_TYPE_DEVMAP, 8)->map_flags = BPF_F_RDONLY_PROG;
	record(&w, "ns1/dev", "site", &w.obs.entries[1]);
	run(&w, false);
	ck_assert_uint_eq(w.plan.n, 0);
	w.obs.entries[1].map_flags = 0;
	run(&w, false);
	ck_assert_uint_eq(w.plan.n, 1);
	ck_assert_str_eq(w.plan.changes[0].reason, "map_flags 0x0 -> 0x80");
	world_done(&w);
}
END_TEST

struct spec_case {
	void (*mutate)(struct observed_entry *e);
	const char *reason;
};

static void other_type(struct observed_entry *e)
{
	e->type = BPF_MAP_TYPE_ARRAY;
}
static void other_key(struct observed_entry *e)
{
	e->key_size = 8;
}
static void other_value(struct observed_entry *e)
{
	e->value_size = 16;
}
static void other_max(struct observed_entry *e)
{
	e->max_entries = 1024;
}
static void other_flags(struct observed_entry *e)
{
	e->map_flags = BPF_F_NO_PREALLOC;
}

static const struct spec_case spec_cases[] = {
	{ other_type, "type array -> hash" },
	{ other_key, "key_size 8 -> 4" },
	{ other_value, "value_size 16 -> 8" },
	{ other_max, "max_entries 1024 -> 128" },
	{ other_flags, "map_flags 0x1 -> 0x0" },
};

START_TEST(test_map_spec_differs)
{
	static const enum on_incompatible policies[] = { ON_INCOMPATIBLE_UNSET, ON_INCOMPATIBLE_FAIL,
							 ON_INCOMPATIBLE_REPLACE,
							 ON_INCOMPATIBLE_MIGRATE };
	const struct spec_case *sc = &spec_cases[_i];

	for (size_t k = 0; k < sizeof(policies) / sizeof(*policies); k++) {
		struct world w;
		const struct plan_change *c;

		world_init(&w);
		w.attrs.on_incompatible = policies[k];
		want_map(&w, "ns1/m", BPF_MAP_TYPE_HASH, 128);
		sc->mutate(have(&w, "ns1/m", OBSERVED_MAP, BPF_MAP_TYPE_HASH, 128));
		run(&w, false);
		ck_assert_uint_eq(w.plan.n, 1);
		c = &w.plan.changes[0];
		ck_assert_int_eq(c->action, PLAN_REPLACE);
		ck_assert_str_eq(c->reason, sc->reason);
		/* The default policy is fail: shown, refused by apply. */
		ck_assert_int_eq(c->policy, policies[k] == ON_INCOMPATIBLE_UNSET ? ON_INCOMPATIBLE_FAIL
										 : policies[k]);
		ck_assert(c->refused == (c->policy == ON_INCOMPATIBLE_FAIL));
		ck_assert_uint_eq(w.plan.n_refused, c->refused);
		world_done(&w);
	}
}
END_TEST

START_TEST(test_several_differences_in_one_reason)
{
	struct world w;
	struct observed_entry *e;

	world_init(&w);
	want_map(&w, "ns1/m", BPF_MAP_TYPE_HASH, 128);
	e = have(&w, "ns1/m", OBSERVED_MAP, BPF_MAP_TYPE_HASH, 64);
	e->key_size = 16;
	run(&w, false);
	ck_assert_str_eq(w.plan.changes[0].reason, "key_size 16 -> 4; max_entries 64 -> 128");
	world_done(&w);
}
END_TEST

START_TEST(test_program_replaced_whatever_the_policy)
{
	struct world w;
	const struct plan_change *c;

	world_init(&w);
	w.attrs.on_incompatible = ON_INCOMPATIBLE_FAIL;
	want_prog(&w, "ns1/p", 0xab);
	want_prog(&w, "ns1/q", 0xab);
	have(&w, "ns1/p", OBSERVED_PROGRAM, BPF_PROG_TYPE_SOCKET_FILTER, 0)->tag[0] = 0xcd;
	have(&w, "ns1/q", OBSERVED_PROGRAM, BPF_PROG_TYPE_XDP, 0)->tag[0] = 0xab;
	run(&w, false);
	c = change(&w, "ns1/p");
	ck_assert_int_eq(c->action, PLAN_REPLACE);
	ck_assert_str_eq(c->reason, "instructions differ (tag cd00000000000000 -> ab00000000000000)");
	ck_assert(!c->refused);
	ck_assert_int_eq(c->policy, ON_INCOMPATIBLE_UNSET);
	c = change(&w, "ns1/q");
	ck_assert_str_eq(c->reason, "type xdp -> socket_filter");
	ck_assert(!c->refused);
	world_done(&w);
}
END_TEST

START_TEST(test_kind_mismatch_needs_replace)
{
	static const enum on_incompatible policies[] = { ON_INCOMPATIBLE_FAIL,
							 ON_INCOMPATIBLE_MIGRATE,
							 ON_INCOMPATIBLE_REPLACE };

	for (size_t k = 0; k < 3; k++) {
		struct world w;
		const struct plan_change *c;

		world_init(&w);
		w.attrs.on_incompatible = policies[k];
		want_map(&w, "ns1/m", BPF_MAP_TYPE_HASH, 128);
		have(&w, "ns1/m", OBSERVED_PROGRAM, BPF_PROG_TYPE_XDP, 0);
		run(&w, false);
		c = &w.plan.changes[0];
		ck_assert_int_eq(c->action, PLAN_REPLACE);
		ck_assert_str_eq(c->reason, "a program is pinned where a map is declared");
		ck_assert(c->refused == (policies[k] != ON_INCOMPATIBLE_REPLACE));
		world_done(&w);
	}
}
END_TEST

START_TEST(test_never_replaces_dirs_symlinks_unreadable)
{
	struct world w;

	world_init(&w);
	w.attrs.on_incompatible = ON_INCOMPATIBLE_REPLACE;
	want_map(&w, "ns1/a", BPF_MAP_TYPE_HASH, 128);
	want_map(&w, "ns1/b", BPF_MAP_TYPE_HASH, 128);
	want_map(&w, "ns1/c", BPF_MAP_TYPE_HASH, 128);
	have(&w, "ns1/a", OBSERVED_DIR, 0, 0);
	have(&w, "ns1/b", OBSERVED_SYMLINK, 0, 0);
	have(&w, "ns1/c", OBSERVED_UNKNOWN, 0, 0)->error = -EACCES;
	run(&w, false);
	ck_assert_uint_eq(w.plan.n_refused, 3);
	ck_assert_str_eq(change(&w, "ns1/a")->reason, "a dir is in the way; remove it by hand");
	ck_assert_str_eq(change(&w, "ns1/b")->reason, "a symlink is in the way; remove it by hand");
	ck_assert_str_eq(change(&w, "ns1/c")->reason,
			 "a pin that cannot be opened (Permission denied) is in the way");
	world_done(&w);
}
END_TEST

/* Pins in one directory share the answer about their parents; the next
 * directory, blocked or not, gets its own. */
START_TEST(test_blocked_parents)
{
	struct world w;

	world_init(&w);
	want_map(&w, "ns1/a/x", BPF_MAP_TYPE_HASH, 128);
	want_map(&w, "ns1/a/y", BPF_MAP_TYPE_HASH, 128);
	want_map(&w, "ns1/b/x", BPF_MAP_TYPE_HASH, 128);
	want_map(&w, "ns1/c/d/x", BPF_MAP_TYPE_HASH, 128);
	want_map(&w, "ns1/c/d/y", BPF_MAP_TYPE_HASH, 128);
	want_map(&w, "ns1/e/x", BPF_MAP_TYPE_HASH, 128);
	have(&w, "ns1", OBSERVED_DIR, 0, 0);
	have(&w, "ns1/a", OBSERVED_MAP, BPF_MAP_TYPE_HASH, 128);
	have(&w, "ns1/b", OBSERVED_DIR, 0, 0);
	have(&w, "ns1/c", OBSERVED_SYMLINK, 0, 0);
	run(&w, false);
	ck_assert_str_eq(change(&w, "ns1/a/x")->reason,
			 "a map is in the way at 'ns1/a'; remove it by hand");
	ck_assert_str_eq(change(&w, "ns1/a/y")->reason,
			 "a map is in the way at 'ns1/a'; remove it by hand");
	ck_assert_int_eq(change(&w, "ns1/b/x")->action, PLAN_CREATE);
	ck_assert_str_eq(change(&w, "ns1/c/d/x")->reason,
			 "a symlink is in the way at 'ns1/c'; remove it by hand");
	ck_assert_str_eq(change(&w, "ns1/c/d/y")->reason,
			 "a symlink is in the way at 'ns1/c'; remove it by hand");
	ck_assert_int_eq(change(&w, "ns1/e/x")->action, PLAN_CREATE);
	ck_assert_uint_eq(w.plan.n_refused, 4);
	world_done(&w);
}
END_TEST

START_TEST(test_attributes_update_in_place)
{
	struct world w;
	struct desired_pin *p;
	struct observed_entry *e;

	world_init(&w);
	w.attrs.mode = 0600;
	p = want_map(&w, "ns1/m", BPF_MAP_TYPE_HASH, 128);
	p->uid = 0;
	p->gid = 42;
	e = have(&w, "ns1/m", OBSERVED_MAP, BPF_MAP_TYPE_HASH, 128);
	e->mode = 0644;
	e->gid = 7;
	record(&w, "ns1/m", "site", e);
	run(&w, false);
	ck_assert_uint_eq(w.plan.n, 1);
	ck_assert_int_eq(w.plan.changes[0].action, PLAN_UPDATE);
	ck_assert_str_eq(w.plan.changes[0].reason, "mode 0644 -> 0600; group 7 -> 42");
	ck_assert_uint_eq(w.plan.counts[PLAN_UPDATE], 1);
	world_done(&w);
}
END_TEST

START_TEST(test_ownership)
{
	struct world w;
	const struct plan_change *c;

	world_init(&w);
	/* "other" is not applied now: its record inside site's owned dir stands.
	 * Sorted: foreign outside, debug files, ns1/... */
	have(&w, "maps.debug", OBSERVED_UNKNOWN, 0, 0)->error = -ENOENT;
	record(&w, "ns1/gone", "site", have(&w, "ns1/gone", OBSERVED_MAP, 1, 1));
	have(&w, "ns1/link", OBSERVED_SYMLINK, 0, 0);
	record(&w, "ns1/others", "other", have(&w, "ns1/others", OBSERVED_MAP, 1, 1));
	have(&w, "ns1/stray", OBSERVED_PROGRAM, 1, 0);
	have(&w, "ns1/sub/deep", OBSERVED_MAP, 1, 1);
	record(&w, "ns2/ours", "site", have(&w, "ns2/ours", OBSERVED_MAP, 1, 1));
	/* A record whose pin was replaced by someone else since: not ours any more. */
	record(&w, "ns2/replaced", "site", have(&w, "ns2/replaced", OBSERVED_MAP, 1, 1));
	w.ledger.entries[w.ledger.n - 1].id = 9999;
	have(&w, "other/foreign", OBSERVED_MAP, 1, 1);
	have(&w, "progs.debug", OBSERVED_UNKNOWN, 0, 0)->error = -ENOENT;
	run(&w, false);

	c = change(&w, "ns1/gone");
	ck_assert_int_eq(c->action, PLAN_DELETE);
	ck_assert_str_eq(c->reason, "no longer declared");
	c = change(&w, "ns1/stray");
	ck_assert_int_eq(c->action, PLAN_DELETE);
	ck_assert_int_eq(c->kind, OBSERVED_PROGRAM);
	ck_assert_str_eq(c->reason, "undeclared in owned directory 'ns1'");
	ck_assert_ptr_nonnull(change(&w, "ns1/sub/deep"));
	ck_assert_str_eq(change(&w, "ns2/ours")->reason, "no longer declared");
	/* Never: symlinks, another manifest's live record, stale records,
	 * pins outside owned dirs, the kernel's own files. */
	ck_assert_ptr_null(change(&w, "ns1/link"));
	ck_assert_ptr_null(change(&w, "ns1/others"));
	ck_assert_ptr_null(change(&w, "ns2/replaced"));
	ck_assert_ptr_null(change(&w, "other/foreign"));
	ck_assert_ptr_null(change(&w, "maps.debug"));
	ck_assert_uint_eq(w.plan.n, 4);
	/* Deletes children first. */
	ck_assert_str_eq(w.plan.changes[0].path, "ns2/ours");
	ck_assert_str_eq(w.plan.changes[1].path, "ns1/sub/deep");
	ck_assert_str_eq(w.plan.changes[3].path, "ns1/gone");
	world_done(&w);
}
END_TEST

START_TEST(test_other_manifest_record_outside_set)
{
	struct world w;

	world_init(&w);
	/* "other" is not being applied: its pins are not ours to prune. */
	record(&w, "x/theirs", "other", have(&w, "x/theirs", OBSERVED_MAP, 1, 1));
	run(&w, false);
	ck_assert_uint_eq(w.plan.n, 0);
	world_done(&w);
}
END_TEST

START_TEST(test_prune_off_keeps_records)
{
	struct world w;

	world_init(&w);
	w.m.prune = false;
	record(&w, "x/old", "site", have(&w, "x/old", OBSERVED_MAP, 1, 1));
	run(&w, false);
	ck_assert_uint_eq(w.plan.n, 0);
	/* destroy removes them all the same. */
	run(&w, true);
	ck_assert_uint_eq(w.plan.counts[PLAN_DELETE], 1);
	ck_assert_str_eq(w.plan.changes[0].reason, "destroyed with its manifest");
	world_done(&w);
}
END_TEST

START_TEST(test_destroy_ignores_declarations)
{
	struct world w;

	world_init(&w);
	want_map(&w, "ns1/m", BPF_MAP_TYPE_HASH, 128);
	want_map(&w, "x/n", BPF_MAP_TYPE_HASH, 128);
	record(&w, "ns1/m", "site", have(&w, "ns1/m", OBSERVED_MAP, BPF_MAP_TYPE_HASH, 128));
	have(&w, "x/n", OBSERVED_MAP, BPF_MAP_TYPE_HASH, 128); /* declared, but not made by us */
	run(&w, true);
	ck_assert_uint_eq(w.plan.n, 1);
	ck_assert_int_eq(w.plan.changes[0].action, PLAN_DELETE);
	ck_assert_str_eq(w.plan.changes[0].path, "ns1/m");
	ck_assert_uint_eq(w.plan.counts[PLAN_CREATE], 0);
	world_done(&w);
}
END_TEST

START_TEST(test_creates_before_deletes)
{
	struct world w;

	world_init(&w);
	want_map(&w, "ns1/z", BPF_MAP_TYPE_HASH, 128);
	have(&w, "ns1/a", OBSERVED_MAP, 1, 1);
	run(&w, false);
	ck_assert_uint_eq(w.plan.n, 2);
	ck_assert_int_eq(w.plan.changes[0].action, PLAN_CREATE);
	ck_assert_int_eq(w.plan.changes[1].action, PLAN_DELETE);
	world_done(&w);
}
END_TEST

/* The world's pins as read from one object, so that the plan has steps. */
static char m0[] = "m0", m1[] = "m1", m2[] = "m2", dummy_o[] = "dummy.o", ns1_a[] = "ns1/a",
	    ns1_b[] = "ns1/b";
static struct objfile_map obj_maps[8] = { { .name = m0 }, { .name = m1 }, { .name = m2 } };
static struct objfile_prog obj_progs[8];
static struct objfile obj_file = {
	.path = dummy_o, .libbpf = true, .maps = obj_maps, .n_maps = 8, .progs = obj_progs,
	.n_progs = 8,
};

static void from_object(struct world *w)
{
	static struct objfile *files[] = { &obj_file };
	size_t maps = 0, progs = 0;

	w->des.objfiles = files;
	w->des.n_objfiles = 1;
	for (size_t i = 0; i < w->des.n_pins; i++) {
		w->des.pins[i].objfile = &obj_file;
		w->des.pins[i].index = w->des.pins[i].kind == KIND_MAP ? maps++ : progs++;
	}
}

/* The plan's steps as "op path" words, to compare with what is expected. */
static void expect_steps(const struct world *w, const char *want)
{
	char got[1024] = "";

	for (size_t i = 0; i < w->plan.n_steps; i++) {
		const struct plan_step *s = &w->plan.steps[i];
		size_t n = strlen(got);

		snprintf(got + n, sizeof(got) - n, "%s%s%s%s", n ? ", " : "", plan_op_str(s->op),
			 s->path ? " " : "", s->path ? s->path : "");
	}
	ck_assert_str_eq(got, want);
}

START_TEST(test_steps_make_parents_once)
{
	struct world w;

	world_init(&w);
	want_map(&w, "ns1/g/b", BPF_MAP_TYPE_HASH, 128);
	want_prog(&w, "ns1/g/p", 1);
	want_map(&w, "ns1/a", BPF_MAP_TYPE_ARRAY, 4)->gid = 0;
	from_object(&w);
	have(&w, "ns1", OBSERVED_DIR, 0, 0);
	run(&w, false);
	/* Maps first, in declaration order, then programs; ns1 exists.  A new
	 * pin with the mode bpffs gives it and no owner is made at its path;
	 * one with an owner under a temporary name, renamed into place. */
	expect_steps(&w, "intent, load, mkdir ns1/g, pin ns1/g/b, pin ns1/a, rename ns1/a, "
			 "pin ns1/g/p, ledger");
	ck_assert_int_eq(w.plan.steps[2].mode, 0700);
	ck_assert_int_eq(w.plan.steps[3].mode, 0600);
	ck_assert(w.plan.steps[3].direct && w.plan.steps[6].direct);
	ck_assert(!w.plan.steps[4].direct);
	ck_assert_uint_eq(w.plan.steps[4].temp, w.plan.steps[5].temp);
	world_done(&w);

	/* Any other mode: every pin under a temporary name, numbered once each. */
	world_init(&w);
	w.attrs.mode = 0400;
	want_map(&w, "ns1/b", BPF_MAP_TYPE_HASH, 128);
	want_map(&w, "ns1/a", BPF_MAP_TYPE_ARRAY, 4);
	from_object(&w);
	have(&w, "ns1", OBSERVED_DIR, 0, 0);
	run(&w, false);
	expect_steps(&w, "intent, load, pin ns1/b, rename ns1/b, pin ns1/a, rename ns1/a, ledger");
	ck_assert(!w.plan.steps[2].direct && !w.plan.steps[4].direct);
	ck_assert_uint_eq(w.plan.steps[2].temp, w.plan.steps[3].temp);
	ck_assert_uint_ne(w.plan.steps[2].temp, w.plan.steps[4].temp);
	world_done(&w);
}
END_TEST

START_TEST(test_steps_replace_migrates_and_trashes)
{
	struct world w;
	struct observed_entry *old;

	world_init(&w);
	w.attrs.on_incompatible = ON_INCOMPATIBLE_MIGRATE;
	want_map(&w, "ns1/m", BPF_MAP_TYPE_HASH, 256);
	want_prog(&w, "ns1/p", 1);
	from_object(&w);
	have(&w, "ns1", OBSERVED_DIR, 0, 0);
	old = have(&w, "ns1/m", OBSERVED_MAP, BPF_MAP_TYPE_HASH, 128);
	have(&w, "ns1/p", OBSERVED_PROGRAM, BPF_PROG_TYPE_SOCKET_FILTER, 0)->tag[0] = 1;
	run(&w, false);
	/* The program is loaded again against the new map. */
	expect_steps(&w, "intent, load, migrate ns1/m, pin ns1/m, exchange ns1/m, mktrash, "
			 "trash ns1/m, pin ns1/p, exchange ns1/p, trash ns1/p, ledger, purge");
	ck_assert_uint_eq(w.plan.steps[2].id, old->id);
	ck_assert_uint_eq(w.plan.steps[4].ino, old->ino);
	ck_assert(w.plan.steps[6].at_temp);
	ck_assert_uint_eq(w.plan.steps[6].temp, w.plan.steps[3].temp);
	world_done(&w);
}
END_TEST

START_TEST(test_steps_remove_emptied_dirs_only)
{
	struct world w;
	struct observed_entry *a, *b, *c;

	world_init(&w);
	from_object(&w);
	a = have(&w, "ns1", OBSERVED_DIR, 0, 0);
	b = have(&w, "ns1/a", OBSERVED_DIR, 0, 0);
	record(&w, "ns1/a/x", "site", have(&w, "ns1/a/x", OBSERVED_MAP, 1, 1));
	c = have(&w, "ns1/b", OBSERVED_DIR, 0, 0);
	have(&w, "ns1/b/foreign", OBSERVED_SYMLINK, 0, 0);
	/* Records in path order, as the ledger keeps them. */
	w.ledger.entries[2] = w.ledger.entries[0];
	w.ledger.entries[0] = (struct ledger_entry){ .path = ns1_dir, .manifest = site_name,
						     .is_dir = true, .ino = a->ino };
	w.ledger.entries[1] = (struct ledger_entry){ .path = ns1_a, .manifest = site_name,
						     .is_dir = true, .ino = b->ino };
	w.ledger.entries[3] = (struct ledger_entry){ .path = ns1_b, .manifest = site_name,
						     .is_dir = true, .ino = c->ino };
	w.ledger.n = 4;
	run(&w, false);
	/* ns1/b keeps what is not ours, and so ns1 stays too. */
	expect_steps(&w, "intent, mktrash, trash ns1/a/x, rmdir ns1/a, ledger, purge");
	ck_assert_uint_eq(w.plan.steps[3].ino, b->ino);
	world_done(&w);
}
END_TEST

START_TEST(test_steps_none_when_refused)
{
	struct world w;

	world_init(&w);
	want_map(&w, "ns1/m", BPF_MAP_TYPE_HASH, 256);
	want_map(&w, "ns1/n", BPF_MAP_TYPE_HASH, 256);
	from_object(&w);
	have(&w, "ns1", OBSERVED_DIR, 0, 0);
	have(&w, "ns1/m", OBSERVED_MAP, BPF_MAP_TYPE_HASH, 128);
	run(&w, false);
	ck_assert_uint_eq(w.plan.n_refused, 1);
	ck_assert_uint_eq(w.plan.n_steps, 0);
	world_done(&w);
}
END_TEST

/* A link on interface 3 running the program of pin `prog` (NULL: an
 * unpinned program, index 0 of the object). */
static struct desired_link links[4];
static char veth0[] = "veth0";

static struct desired_pin *want_link(struct world *w, const char *path, uint32_t type,
				     const struct desired_pin *prog, uint8_t tag0)
{
	struct desired_pin *p = &w->des.pins[w->des.n_pins++];
	struct desired_link *l = &links[p - w->des.pins < 4 ? p - w->des.pins : 0];

	*l = (struct desired_link){ .prog = prog, .how = DESIRED_LINK_IFINDEX,
				    .attach_type = BPF_XDP, .target = veth0, .ifindex = 3 };
	*p = (struct desired_pin){
		.path = (char *)path,
		.kind = KIND_LINK,
		.spec = { .type = type, .tag = { tag0 }, .has_tag = true },
		.uid = -1,
		.gid = -1,
		.manifest = &w->m,
		.object = &w->obj,
		.attrs = &w->attrs,
		.link = l,
	};
	return p;
}

static struct observed_entry *have_link(struct world *w, const char *path, uint32_t type,
					uint8_t tag0)
{
	struct observed_entry *e = have(w, path, OBSERVED_LINK, type, 0);

	e->tag[0] = tag0;
	e->prog_id = 77;
	e->ifindex = 3;
	e->attach_type = BPF_XDP;
	return e;
}

/* The links' programs are index 0 of the object, like their own. */
static void links_from_object(struct world *w)
{
	from_object(w);
	for (size_t i = 0; i < w->des.n_pins; i++)
		if (w->des.pins[i].kind != KIND_MAP)
			w->des.pins[i].index = 0;
}

START_TEST(test_link_created_for_pinned_program)
{
	struct world w;
	struct desired_pin *p;

	world_init(&w);
	p = want_prog(&w, "ns1/p", 1);
	want_link(&w, "ns1/l", BPF_LINK_TYPE_XDP, p, 1);
	links_from_object(&w);
	have(&w, "ns1", OBSERVED_DIR, 0, 0);
	have(&w, "ns1/p", OBSERVED_PROGRAM, BPF_PROG_TYPE_SOCKET_FILTER, 0)->tag[0] = 1;
	run(&w, false);
	ck_assert_int_eq(change(&w, "ns1/l")->action, PLAN_CREATE);
	/* No load: the pinned program is attached. */
	expect_steps(&w, "intent, attach ns1/l, pin ns1/l, ledger");
	ck_assert(!w.plan.steps[1].loaded);
	world_done(&w);
}
END_TEST

START_TEST(test_link_updated_in_place_when_its_program_is_replaced)
{
	struct world w;
	struct desired_pin *p;
	struct observed_entry *l;
	const struct plan_change *c;

	world_init(&w);
	p = want_prog(&w, "ns1/p", 2);
	want_link(&w, "ns1/l", BPF_LINK_TYPE_XDP, p, 2);
	links_from_object(&w);
	have(&w, "ns1", OBSERVED_DIR, 0, 0);
	l = have_link(&w, "ns1/l", BPF_LINK_TYPE_XDP, 1);
	have(&w, "ns1/p", OBSERVED_PROGRAM, BPF_PROG_TYPE_SOCKET_FILTER, 0)->tag[0] = 1;
	record(&w, "ns1/l", "site", l);
	run(&w, false);
	c = change(&w, "ns1/l");
	ck_assert_int_eq(c->action, PLAN_UPDATE);
	ck_assert(c->relink);
	ck_assert(!c->attrs);
	ck_assert_ptr_nonnull(strstr(c->reason, "in place"));
	expect_steps(&w, "intent, load, pin ns1/p, exchange ns1/p, mktrash, trash ns1/p, "
			 "relink ns1/l, ledger, purge");
	ck_assert(w.plan.steps[6].loaded);
	ck_assert_uint_eq(w.plan.steps[6].id, l->id);
	ck_assert_uint_eq(w.plan.steps[6].ino, l->ino);
	world_done(&w);
}
END_TEST

START_TEST(test_link_replaced_when_it_cannot_be_updated)
{
	struct world w;
	const struct plan_change *c;

	world_init(&w);
	/* An unpinned program whose tag changed, on a perf event link. */
	want_link(&w, "ns1/l", BPF_LINK_TYPE_PERF_EVENT, NULL, 2);
	links_from_object(&w);
	links[0].how = DESIRED_LINK_TRACEPOINT;
	links[0].ifindex = 0;
	have(&w, "ns1", OBSERVED_DIR, 0, 0);
	have_link(&w, "ns1/l", BPF_LINK_TYPE_PERF_EVENT, 1)->ifindex = 0;
	run(&w, false);
	c = change(&w, "ns1/l");
	ck_assert_int_eq(c->action, PLAN_REPLACE);
	ck_assert_ptr_nonnull(strstr(c->reason, "cannot be updated in place"));
	expect_steps(&w, "intent, load, attach ns1/l, pin ns1/l, exchange ns1/l, mktrash, "
			 "trash ns1/l, ledger, purge");
	ck_assert(w.plan.steps[2].loaded);
	world_done(&w);
}
END_TEST

START_TEST(test_link_in_sync_and_skipped_links_are_left)
{
	struct world w;

	world_init(&w);
	want_link(&w, "ns1/l", BPF_LINK_TYPE_XDP, NULL, 1);
	want_link(&w, "ns1/skipped", BPF_LINK_TYPE_XDP, NULL, 1);
	links_from_object(&w);
	links[1].skipped = true;
	have(&w, "ns1", OBSERVED_DIR, 0, 0);
	record(&w, "ns1/l", "site", have_link(&w, "ns1/l", BPF_LINK_TYPE_XDP, 1));
	run(&w, false);
	ck_assert_uint_eq(w.plan.n, 0);
	expect_steps(&w, "ledger");
	ck_assert_uint_eq(w.plan.counts[PLAN_UNCHANGED], 2);
	world_done(&w);
}
END_TEST

START_TEST(test_link_on_another_hook_is_replaced)
{
	struct world w;
	const struct plan_change *c;

	world_init(&w);
	want_link(&w, "ns1/l", COMPAT_BPF_LINK_TYPE_TCX, NULL, 1);
	links_from_object(&w);
	links[0].attach_type = COMPAT_BPF_TCX_INGRESS;
	have(&w, "ns1", OBSERVED_DIR, 0, 0);
	have_link(&w, "ns1/l", BPF_LINK_TYPE_XDP, 1);
	run(&w, false);
	c = change(&w, "ns1/l");
	ck_assert_int_eq(c->action, PLAN_REPLACE);
	ck_assert_ptr_nonnull(strstr(c->reason, "type"));
	expect_steps(&w, "intent, load, attach ns1/l, pin ns1/l, exchange ns1/l, mktrash, "
			 "trash ns1/l, ledger, purge");
	world_done(&w);
}
END_TEST

/* Found in place and not recorded: adopted, which alone is no drift; one
 * that differs in mode is adopted and fixed, which is. */
START_TEST(test_found_pin_is_adopted)
{
	struct world w;
	const struct plan_change *c;

	world_init(&w);
	w.attrs.mode = 0600;
	want_map(&w, "ns1/m", BPF_MAP_TYPE_HASH, 128);
	have(&w, "ns1", OBSERVED_DIR, 0, 0);
	have(&w, "ns1/m", OBSERVED_MAP, BPF_MAP_TYPE_HASH, 128);
	run(&w, false);
	c = change(&w, "ns1/m");
	ck_assert_int_eq(c->action, PLAN_ADOPT);
	ck_assert_str_eq(c->reason, "found in place, not made by bpf-provision");
	ck_assert_uint_eq(w.plan.counts[PLAN_ADOPT], 1);
	ck_assert(!plan_has_changes(&w.plan));
	expect_steps(&w, "intent, ledger");
	/* A record of another object at that path claims nothing. */
	record(&w, "ns1/m", "site", &w.obs.entries[1]);
	w.ledger.entries[0].id++;
	w.obs.entries[1].mode = 0644;
	run(&w, false);
	c = change(&w, "ns1/m");
	ck_assert_int_eq(c->action, PLAN_ADOPT);
	ck_assert_str_eq(c->reason, "found in place, not made by bpf-provision; mode 0644 -> 0600");
	ck_assert(c->attrs);
	ck_assert(plan_has_changes(&w.plan));
	expect_steps(&w, "intent, attrs ns1/m, ledger");
	world_done(&w);
}
END_TEST

/* Undeclared and adopted: released, unless in an owned directory. */
START_TEST(test_adopted_pin_is_released)
{
	struct world w;
	static char keep_m[] = "keep/m", ns1_x[] = "ns1/x";

	world_init(&w);
	have(&w, "keep", OBSERVED_DIR, 0, 0);
	record(&w, keep_m, "site", have(&w, keep_m, OBSERVED_MAP, BPF_MAP_TYPE_HASH, 128));
	w.ledger.entries[0].adopted = true;
	run(&w, false);
	ck_assert_int_eq(change(&w, "keep/m")->action, PLAN_RELEASE);
	ck_assert_str_eq(change(&w, "keep/m")->reason,
			 "adopted and no longer declared: left in place");
	ck_assert(!plan_has_changes(&w.plan));
	expect_steps(&w, "intent, ledger");
	/* destroy releases too */
	run(&w, true);
	ck_assert_int_eq(change(&w, "keep/m")->action, PLAN_RELEASE);
	have(&w, "ns1", OBSERVED_DIR, 0, 0);
	record(&w, ns1_x, "site", have(&w, ns1_x, OBSERVED_MAP, BPF_MAP_TYPE_HASH, 128));
	w.ledger.entries[1].adopted = true;
	run(&w, false);
	ck_assert_int_eq(change(&w, "ns1/x")->action, PLAN_DELETE);
	ck_assert_str_eq(change(&w, "ns1/x")->reason,
			 "adopted, no longer declared, in owned directory 'ns1'");
	ck_assert(plan_has_changes(&w.plan));
	world_done(&w);
}
END_TEST

/* --target: only the targeted pins and undeclared pins are planned. */
START_TEST(test_targets_limit_the_plan)
{
	struct world w;
	const char *one[] = { "ns1/a" }, *dir[] = { "ns1/sub" };

	world_init(&w);
	want_map(&w, "ns1/a", BPF_MAP_TYPE_HASH, 128);
	want_map(&w, "ns1/b", BPF_MAP_TYPE_HASH, 128);
	want_map(&w, "ns1/sub/c", BPF_MAP_TYPE_HASH, 128);
	have(&w, "ns1", OBSERVED_DIR, 0, 0);
	have(&w, "ns1/stray", OBSERVED_MAP, BPF_MAP_TYPE_HASH, 1);
	have(&w, "ns1/sub", OBSERVED_DIR, 0, 0);
	have(&w, "ns1/sub/stray", OBSERVED_MAP, BPF_MAP_TYPE_HASH, 1);
	plan_done(&w.plan);
	ck_assert_int_eq(plan_build(&(struct plan_input){ .set = &w.set, .desired = &w.des,
							  .observed = &w.obs, .ledger = &w.ledger,
							  .targets = one, .n_targets = 1 },
				    &w.plan),
			 0);
	ck_assert_uint_eq(w.plan.n, 1);
	ck_assert_int_eq(change(&w, "ns1/a")->action, PLAN_CREATE);
	ck_assert(!w.plan.untargeted[0] && w.plan.untargeted[1] && w.plan.untargeted[2]);
	plan_done(&w.plan);
	ck_assert_int_eq(plan_build(&(struct plan_input){ .set = &w.set, .desired = &w.des,
							  .observed = &w.obs, .ledger = &w.ledger,
							  .targets = dir, .n_targets = 1 },
				    &w.plan),
			 0);
	ck_assert_uint_eq(w.plan.n, 2);
	ck_assert_int_eq(change(&w, "ns1/sub/c")->action, PLAN_CREATE);
	ck_assert_int_eq(change(&w, "ns1/sub/stray")->action, PLAN_DELETE);
	ck_assert_ptr_null(change(&w, "ns1/stray"));
	/* Without targets, nothing is left alone. */
	run(&w, false);
	ck_assert_uint_eq(w.plan.n, 5);
	ck_assert_ptr_null(w.plan.untargeted);
	world_done(&w);
}
END_TEST

START_TEST(test_scale_10000)
{
	enum { N = 10000 };
	struct world w;
	char(*paths)[32] = calloc(N, 32);
	struct timespec t0, t1;

	world_init(&w);
	free(w.des.pins);
	free(w.obs.entries);
	free(w.ledger.entries);
	w.des.pins = calloc(N, sizeof(*w.des.pins));
	w.obs.entries = calloc(N + 1, sizeof(*w.obs.entries));
	w.ledger.entries = calloc(N + 1, sizeof(*w.ledger.entries));
	/* Zero-padded so that creation order is path order. */
	for (int i = 0; i < N; i++)
		snprintf(paths[i], 32, "ns1/d%03d/m%05d", i / 100, i);
	for (int i = 0; i < N; i++) {
		want_map(&w, paths[i], BPF_MAP_TYPE_HASH, 128);
		/* Every tenth drifted, every hundredth missing. */
		if (i % 100 != 0)
			record(&w, paths[i], "site",
			       have(&w, paths[i], OBSERVED_MAP, BPF_MAP_TYPE_HASH,
				    i % 10 == 1 ? 64 : 128));
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run(&w, false);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "plan: %d desired, %zu observed planned in %.1f ms\n", N, w.obs.n,
		(double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	ck_assert_uint_eq(w.plan.counts[PLAN_CREATE], N / 100);
	ck_assert_uint_eq(w.plan.counts[PLAN_REPLACE], N / 10);
	ck_assert_uint_eq(w.plan.counts[PLAN_UNCHANGED], N - N / 100 - N / 10);
	world_done(&w);
	free(paths);
}
END_TEST

Suite *plan_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *tc = tcase_create("plan");

	tcase_add_test(tc, test_create_when_missing);
	tcase_add_test(tc, test_in_sync_is_unchanged);
	tcase_add_test(tc, test_device_map_forced_flags);
	tcase_add_loop_test(tc, test_map_spec_differs, 0, sizeof(spec_cases) / sizeof(*spec_cases));
	tcase_add_test(tc, test_several_differences_in_one_reason);
	tcase_add_test(tc, test_program_replaced_whatever_the_policy);
	tcase_add_test(tc, test_kind_mismatch_needs_replace);
	tcase_add_test(tc, test_never_replaces_dirs_symlinks_unreadable);
	tcase_add_test(tc, test_blocked_parents);
	tcase_add_test(tc, test_attributes_update_in_place);
	tcase_add_test(tc, test_ownership);
	tcase_add_test(tc, test_other_manifest_record_outside_set);
	tcase_add_test(tc, test_prune_off_keeps_records);
	tcase_add_test(tc, test_destroy_ignores_declarations);
	tcase_add_test(tc, test_creates_before_deletes);
	tcase_add_test(tc, test_steps_make_parents_once);
	tcase_add_test(tc, test_steps_replace_migrates_and_trashes);
	tcase_add_test(tc, test_steps_remove_emptied_dirs_only);
	tcase_add_test(tc, test_steps_none_when_refused);
	tcase_add_test(tc, test_link_created_for_pinned_program);
	tcase_add_test(tc, test_link_updated_in_place_when_its_program_is_replaced);
	tcase_add_test(tc, test_link_replaced_when_it_cannot_be_updated);
	tcase_add_test(tc, test_link_in_sync_and_skipped_links_are_left);
	tcase_add_test(tc, test_link_on_another_hook_is_replaced);
	tcase_add_test(tc, test_found_pin_is_adopted);
	tcase_add_test(tc, test_adopted_pin_is_released);
	tcase_add_test(tc, test_targets_limit_the_plan);
	tcase_add_test(tc, test_scale_10000);
	suite_add_tcase(s, tc);
	return s;
}
