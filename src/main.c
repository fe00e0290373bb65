// SPDX-License-Identifier: MIT
/* main: options, the command table and exit codes (bpf-provision(1)).  A
 * command's flags say which pipeline stages run_command() runs for it;
 * diagnostics are printed here, once, after the stages that collected them. */
#include <errno.h>
#include <math.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>

#include <bpf/libbpf.h>

#include "apply.h"
#include "array.h"
#include "cleanup.h"
#include "contents.h"
#include "desired.h"
#include "diag.h"
#include "export.h"
#include "identity.h"
#include "job.h"
#include "ledger.h"
#include "loader.h"
#include "manifest.h"
#include "objfile.h"
#include "observed.h"
#include "plan.h"
#include "report.h"
#include "savedplan.h"
#include "snapshot.h"
#include "sys.h"
#include "target.h"

enum exit_code {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_DRIFT = 2,
	EXIT_INVALID = 65, /* EX_DATAERR: an invalid manifest or object; nothing touched */
};

enum output_format {
	OUTPUT_TEXT,
	OUTPUT_JSON,
};

enum color_mode {
	COLOR_AUTO,
	COLOR_ALWAYS,
	COLOR_NEVER,
};

struct options {
	const char *bpffs;
	bool mount;
	enum output_format output;
	bool quiet;
	int verbose;
	enum color_mode color;
	double lock_timeout;
	bool lock_timeout_set; /* --lock-timeout given */
	bool dry_run;
	bool no_objects;
	bool help;
	const char *metrics_file;
	char **names;       /* destroy --name: retired manifests to remove, by ledger name */
	size_t n_names;
	bool prune_retired; /* apply --prune-retired */
	char **targets;     /* --target: pin paths or directories, as given */
	size_t n_targets;
	const char *out_file;  /* --out: save the plan there (savedplan.h) */
	const char *plan_file; /* --plan: carry out the plan saved there */
	char **objects;     /* export --objects: object files or directories */
	size_t n_objects;
	const char *observed; /* plan --observed: a snapshot to plan against */
	bool keep_going;      /* plan, apply --keep-going: invalid manifests left out */
};

/* What a command needs, so that one run_command() reads, checks and plans
 * for all of them and a new command is one row plus its function (git.c's
 * RUN_SETUP | NEED_WORK_TREE). */
enum {
	CMD_READS_OBJECTS = 1 << 0, /* reads the manifests (its arguments) and their ELF objects */
	CMD_NEEDS_KERNEL = 1 << 1,  /* plans: scans the tree, loads programs to learn their tags */
	CMD_TAKES_LOCK = 1 << 2,    /* changes the tree, so reads it under the ledger lock */
	CMD_DRY_RUN = 1 << 3,       /* accepts --dry-run */
	CMD_NO_OBJECTS = 1 << 4,    /* accepts --no-objects */
	CMD_MIN_ARGS = 1 << 5,      /* needs at least one argument */
	CMD_DESTROY = 1 << 6,       /* plans as if the manifests declared nothing */
	CMD_METRICS = 1 << 7,       /* writes --metrics-file */
	CMD_NAMES = 1 << 8,         /* accepts --name (then needs no argument) */
	CMD_PRUNE_RETIRED = 1 << 9, /* accepts --prune-retired */
	CMD_TARGET = 1 << 10,       /* accepts --target */
	CMD_SAVED_PLAN = 1 << 11,   /* accepts --out (no change made), --plan (if it locks) */
	CMD_OBJECTS = 1 << 12,      /* accepts --objects */
	CMD_OBSERVED = 1 << 13,     /* accepts --observed (then needs no kernel) */
	CMD_NO_ARGS = 1 << 14,      /* takes no argument */
	CMD_MOUNT = 1 << 15,        /* accepts --mount */
	CMD_KEEP_GOING = 1 << 16,   /* accepts --keep-going */
	CMD_SYSTEM_DIRS = 1 << 17,  /* no argument: the system's manifest directories */
};

/* The manifest directories read when no MANIFEST is given, as tmpfiles.d's:
 * the vendor's, the runtime's, the administrator's, a name in a later one
 * overriding the same name in an earlier one (manifest_set_load). */
#define SYSTEM_MANIFEST_DIRS "/usr/lib/bpf-provision.d:/run/bpf-provision.d:/etc/bpf-provision.d"

static const char *const options_help =
	"Options:\n"
	"      --bpffs DIR           bpffs root (overrides the manifests' 'bpffs'; default /sys/fs/bpf)\n"
	"      --mount               mount bpffs at the root first if it is not one\n"
	"  -o, --output FORMAT       text (default) or json\n"
	"  -q, --quiet               print nothing but errors\n"
	"  -v, --verbose             say more\n"
	"      --color WHEN          auto (default), always or never\n"
	"      --lock-timeout SECS   wait at most this long for another run's lock (default 30)\n"
	"      --metrics-file FILE   write how the run ended and its plan there (Prometheus text)\n"
	"  -h, --help                this help (after a command: the command's help)\n"
	"      --version             print the version\n";

/* Prints the collected diagnostics: text on stderr always, and under -o json
 * the error document on stdout for scripts.  json_doc: under -o json, also
 * print the error document (not when stdout already holds the run's one
 * result document). */
static void print_diags_doc(const struct options *opts, const struct diag *d, bool json_doc)
{
	size_t shown = 0;

	for (size_t i = 0; i < d->n_msgs; i++)
		shown += d->msgs[i].severity == DIAG_ERROR;
	for (size_t i = 0; i < d->n_msgs; i++) {
		char *_cleanup_free_ s = diag_msg_format(&d->msgs[i]);

		if (d->msgs[i].severity == DIAG_WARNING && opts->quiet)
			continue;
		/* The stored text is raw: never printed unescaped. */
		fprintf(stderr, "%s\n",
			s ? s : "bpf-provision: error: out of memory formatting a message");
	}
	if (d->n_errors > shown)
		fprintf(stderr, "bpf-provision: error: %zu more errors not shown\n",
			d->n_errors - shown);
	if (json_doc && opts->output == OUTPUT_JSON && d->n_errors > 0)
		report_errors_json(d, stdout);
}

/* Two spellings of one existing directory. */
static bool same_dir(const char *a, const char *b)
{
	struct stat x, y;

	return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/* --bpffs, else the manifests' own `bpffs` (which must agree), else the default. */
static int pick_root(const struct options *opts, const struct manifest_set *set, struct diag *d,
		     const char **ret)
{
	const char *root = NULL;

	if (opts->bpffs) {
		*ret = opts->bpffs;
		return 0;
	}
	for (size_t i = 0; i < set->n; i++) {
		const char *b = set->items[i]->bpffs;

		if (!b)
			continue;
		if (root && strcmp(root, b) != 0 && !same_dir(root, b))
			return diag_error(d, &(struct diag_loc){ .file = set->items[i]->file },
					  "bpffs '%s' differs from '%s' of another manifest; "
					  "reconcile one root at a time or pass --bpffs",
					  b, root);
		root = b;
	}
	*ret = root ? root : "/sys/fs/bpf";
	return 0;
}

static bool is_bpffs(const char *root)
{
	struct statfs st;

	return statfs(root, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

/* mkdir -p, for --mount's mount point. */
static int make_dirs(const char *path)
{
	_cleanup_free_ char *p = strdup(path);

	if (!p)
		return -ENOMEM;
	for (char *slash = strchr(p + 1, '/');; slash = strchr(slash + 1, '/')) {
		if (slash)
			*slash = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		if (!slash)
			return 0;
		*slash = '/';
	}
}

/* The root must be a bpffs.  With --mount one is mounted there first, as
 * systemd mounts /sys/fs/bpf (mode 0700); a dry run mounts nothing and plans
 * against the empty tree the mount would give (*ret_empty). */
static int check_bpffs(const struct options *opts, const char *root, bool dry_run,
		       struct diag *d, bool *ret_empty)
{
	int r;

	if (is_bpffs(root))
		return 0;
	if (!opts->mount)
		return diag_error(d, &(struct diag_loc){ .file = root },
				  "not a bpffs mount (mount one, or pass --mount)"),
		       -ENOTSUP;
	if (dry_run) {
		*ret_empty = true;
		return 0;
	}
	r = make_dirs(root);
	if (r == 0 && mount("bpf", root, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0)
		r = -errno;
	if (r < 0)
		return diag_error(d, &(struct diag_loc){ .file = root },
				  "cannot mount bpffs here: %s", strerror(-r)),
		       r;
	return 0;
}

/* A root's ledger, read as a job. */
struct ledger_read {
	const char *root;
	struct diag d;
	struct ledger ledger;
	int r;
};

static void *load_ledger(void *arg)
{
	struct ledger_read *l = arg;

	l->r = ledger_load(l->root, &l->d, &l->ledger);
	return NULL;
}

/* A root's tree walked ahead (observed_walk()), as a job. */
struct walk_ahead {
	char *root; /* NULL: none started */
	struct job job;
	struct diag d;
	struct observed obs;
	int r;
};

static void *walk_tree(void *arg)
{
	struct walk_ahead *w = arg;

	w->r = observed_walk(w->root, &w->d, &w->obs);
	return NULL;
}

/* Waits for the walk, if one was started, and drops what was not taken. */
static void walk_ahead_done(struct walk_ahead *w)
{
	job_wait(&w->job);
	observed_done(&w->obs);
	diag_done(&w->d);
	free(w->root);
	*w = (struct walk_ahead){ 0 };
}

/* One run of a command: what it read, in pipeline order, and the plan. */
struct session {
	const struct options *opts;
	unsigned flags;  /* the command's CMD_* */
	char **args;     /* the command's arguments */
	size_t n_args;
	bool dry_run;    /* changes nothing: takes no lock, mounts nothing */
	bool empty;      /* plans against the empty tree that --mount would give */
	bool printed;    /* stdout holds the run's result document */
	struct manifest_set set;
	struct desired des;
	struct observed obs;
	struct ledger ledger;
	struct walk_ahead ahead; /* a dry run's walk, started before the objects are read */
	struct plan plan;
	const char *root;
	char *resolved_root; /* root with its symlinks, "//" and "/./" resolved, when it exists */
	char **targets;      /* --target relative to the root; owned */
	size_t n_targets;
	struct diag d;
	int lock_fd;
	bool planned;              /* s->plan was made */
	enum report_reason reason; /* why the run failed, where a stage knows (metrics) */
};

/* AddressSanitizer's leak checker runs at exit: the session is freed for it. */
#if defined(__SANITIZE_ADDRESS__)
#define LEAK_CHECKED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LEAK_CHECKED 1
#endif
#endif
#ifndef LEAK_CHECKED
#define LEAK_CHECKED 0
#endif

static void session_done(struct session *s)
{
	if (s->lock_fd > 0)
		close(s->lock_fd);
	plan_done(&s->plan);
	for (size_t i = 0; i < s->n_targets; i++)
		free(s->targets[i]);
	free(s->targets);
	free(s->resolved_root);
	walk_ahead_done(&s->ahead);
	ledger_done(&s->ledger);
	observed_done(&s->obs);
	desired_done(&s->des);
	manifest_set_done(&s->set);
	diag_done(&s->d);
}

/* Prints the diagnostics collected so far and forgets them, so that a
 * command can show them before its result and the run's end shows the rest. */
static void show_diags(struct session *s)
{
	print_diags_doc(s->opts, &s->d, !s->printed);
	diag_done(&s->d);
}

/* The one mapping from a run's result to its exit status.  A command
 * returns 0, EXIT_DRIFT or a negative errno, and -EINVAL means invalid input
 * alone: see invalid_input() and system_error(). */
static int exit_code(int r)
{
	if (r >= 0)
		return r;
	return r == -EINVAL ? EXIT_INVALID : EXIT_FAIL;
}

/* An input the command was told to read and cannot read (missing,
 * unreadable) is no more a valid manifest or object than one that does not
 * parse; either way nothing was touched. */
static int invalid_input(int r)
{
	return r < 0 && r != -ENOMEM ? -EINVAL : r;
}

/* Once the input was read and found valid, what fails is the system, even
 * where the kernel says EINVAL (a refused program, a mount): any errno but
 * EINVAL says so. */
static int system_error(int r)
{
	return r == -EINVAL ? -EIO : r;
}

/* What leave_out_clash() marks: the manifests of the set to leave out. */
struct clashes {
	struct session *s;
	bool *bad;
};

/* A clash between two valid manifests: told at both pins, and both
 * manifests marked. */
static int leave_out_clash(void *ctx, enum desired_clash how, const struct desired_pin *first,
			   const struct desired_pin *w)
{
	struct clashes *c = ctx;
	struct diag *d = &c->s->d;
	const struct diag_loc *a = &w->loc, *b = &first->loc;

	if (w->manifest == first->manifest)
		return 0;
	switch (how) {
	case DESIRED_CLASH_XDP:
		diag_error(d, a,
			   "interface '%s' takes one XDP program; %s:%u:%u attaches one too: both "
			   "manifests are left out",
			   w->link->target, b->file, b->line, b->column);
		diag_error(d, b,
			   "interface '%s' takes one XDP program; %s:%u:%u attaches one too: both "
			   "manifests are left out",
			   w->link->target, a->file, a->line, a->column);
		break;
	case DESIRED_CLASH_UNDER:
		diag_error(d, a,
			   "pin path '%s' lies under the pin '%s' of %s:%u:%u: both manifests are "
			   "left out",
			   w->path, first->path, b->file, b->line, b->column);
		diag_error(d, b,
			   "pin '%s' stands where '%s' of %s:%u:%u needs a directory: both "
			   "manifests are left out",
			   first->path, w->path, a->file, a->line, a->column);
		break;
	case DESIRED_CLASH_SAME_PATH:
		diag_error(d, a,
			   "pin path '%s' is also declared at %s:%u:%u: both manifests are left out",
			   w->path, b->file, b->line, b->column);
		diag_error(d, b,
			   "pin path '%s' is also declared at %s:%u:%u: both manifests are left out",
			   w->path, a->file, a->line, a->column);
		break;
	}
	for (size_t i = 0; i < c->s->set.n; i++)
		c->bad[i] = c->bad[i] || c->s->set.items[i] == w->manifest ||
			    c->s->set.items[i] == first->manifest;
	return 0;
}

/* Two valid manifests that declare one pin path, a pin where the other's
 * needs a directory, or XDP programs on one interface: which one is right
 * cannot be told, so both are marked in bad (by index in the set), to be
 * left out, and neither takes over what the other made. */
static int find_clashes(struct session *s, const struct desired *built, size_t n, bool *bad)
{
	_cleanup_free_ const struct desired_pin **pins = NULL;
	size_t n_pins = 0;

	for (size_t k = 0; k < n; k++)
		n_pins += built[k].n_pins;
	pins = calloc(n_pins + 1, sizeof(*pins));
	if (!pins)
		return -ENOMEM;
	n_pins = 0;
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < built[k].n_pins; i++)
			pins[n_pins++] = &built[k].pins[i];
	return desired_clashes(pins, n_pins, leave_out_clash, &(struct clashes){ .s = s, .bad = bad });
}

/* --keep-going: each manifest's objects and owners checked alone, so that
 * its errors leave out that manifest alone (manifest_set_leave_out), then
 * the clashes between those that are valid.  What is left builds
 * together; -EINVAL only for what no manifest alone explains. */
static int keep_valid(struct session *s)
{
	_cleanup_free_ struct desired *built = calloc(s->set.n + 1, sizeof(*built));
	_cleanup_free_ bool *bad = calloc(s->set.n + 1, sizeof(*bad));
	size_t n = 0;
	int r = built && bad ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < s->set.n;) {
		struct manifest_set one = { .items = &s->set.items[i], .n = 1 };
		struct desired *des = &built[n];

		r = desired_build(&one, !s->opts->no_objects, &s->d, des);
		if (r == 0 && (s->flags & CMD_NEEDS_KERNEL))
			r = desired_resolve_owners(des, &s->d);
		if (r == 0) {
			n++;
			i++;
			continue;
		}
		desired_done(des);
		*des = (struct desired){ 0 };
		if (r != -ENOMEM)
			r = manifest_set_leave_out(&s->set, i);
	}
	if (r == 0)
		r = find_clashes(s, built, n, bad);
	/* Released before a manifest they point into is. */
	for (size_t k = 0; k < n; k++)
		desired_done(&built[k]);
	/* In the order read: i is where item k of the set stands now. */
	for (size_t k = 0, i = 0, m = s->set.n; r == 0 && k < m; k++)
		r = bad[k] ? manifest_set_leave_out(&s->set, i) : (i++, 0);
	return r;
}

/* Each manifest left out, said once more after the errors that did it. */
static void report_left_out(struct session *s)
{
	for (size_t i = 0; i < s->set.n_left_out; i++)
		diag_error(&s->d, &(struct diag_loc){ .file = s->set.left_out[i].file },
			   "left out (--keep-going): nothing it declares is planned, and its pins "
			   "and records stay as they are");
}

/* The directories to read when no MANIFEST is given:
 * BPF_PROVISION_MANIFEST_DIRS (colon-separated, for tests), else the
 * system's.  *ret_buf holds the strings *ret_dirs points at; both are the
 * caller's to free. */
static int system_dirs(char **ret_buf, char ***ret_dirs, size_t *ret_n)
{
	const char *env = getenv("BPF_PROVISION_MANIFEST_DIRS");
	_cleanup_free_ char *buf = strdup(env && *env ? env : SYSTEM_MANIFEST_DIRS);
	char **dirs, *save = NULL;
	size_t n = 0;

	if (!buf)
		return -ENOMEM;
	dirs = calloc(strlen(buf) + 1, sizeof(*dirs));
	if (!dirs)
		return -ENOMEM;
	for (char *tok = strtok_r(buf, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
		dirs[n++] = tok;
	*ret_buf = TAKE_PTR(buf);
	*ret_dirs = dirs;
	*ret_n = n;
	return 0;
}

/* A dry run takes no lock, so it can walk the tree while it reads the
 * manifests and objects: started here, on the root --bpffs names before the
 * manifests are read, else on the one they name, when it is a bpffs
 * (read_tree() takes the walk, or walks again if the root turns out
 * otherwise).  The ledger is read after the objects, on this thread: in a
 * third one as well, the three arenas' peaks added up to 12 MB more on 100k
 * pins, for no time gained.  A run that changes the tree reads it under the
 * lock. */
static void prefetch_tree(struct session *s)
{
	struct diag quiet = { 0 };
	const char *root = NULL;
	char *resolved = NULL;

	if (!s->dry_run || !(s->flags & CMD_NEEDS_KERNEL) || s->opts->observed ||
	    s->opts->plan_file || s->ahead.root)
		return;
	if (pick_root(s->opts, &s->set, &quiet, &root) == 0 && is_bpffs(root))
		resolved = realpath(root, NULL);
	diag_done(&quiet);
	if (!resolved)
		return;
	s->ahead.root = resolved;
	job_start(&s->ahead.job, walk_tree, &s->ahead);
}

/* The manifests and the objects they name, the owners and the root. */
static int read_input(struct session *s)
{
	unsigned flags = s->opts->keep_going ? MANIFEST_SET_KEEP_GOING : 0;
	_cleanup_free_ char *buf = NULL;
	_cleanup_free_ char **dirs = NULL;
	char **args = s->args;
	size_t n_args = s->n_args;
	int r = 0;

	if (n_args == 0 && (s->flags & CMD_SYSTEM_DIRS) && !s->opts->plan_file) {
		r = system_dirs(&buf, &dirs, &n_args);
		args = dirs;
		flags |= MANIFEST_SET_SYSTEM;
	}
	if (s->opts->bpffs)
		prefetch_tree(s);
	if (r == 0)
		r = manifest_set_load_flags(&s->set, args, n_args, flags, &s->d);
	if (r == 0 && s->opts->keep_going)
		r = keep_valid(s);
	if (r == 0 && s->opts->keep_going)
		report_left_out(s);
	if (r == 0)
		prefetch_tree(s);
	if (r == 0)
		r = desired_build(&s->set, !s->opts->no_objects, &s->d, &s->des);
	if (r == 0 && (s->flags & CMD_NEEDS_KERNEL))
		r = desired_resolve_owners(&s->des, &s->d);
	if (r == 0 && (s->flags & CMD_NEEDS_KERNEL))
		r = pick_root(s->opts, &s->set, &s->d, &s->root);
	return invalid_input(r);
}

/* Whether the ledger records anything of manifest name. */
static bool ledger_knows(const struct ledger *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->entries[i].manifest, name) == 0)
			return true;
	return false;
}

/* The retired manifests to remove, into the set as names alone: those
 * --name gives (destroy), or every one the ledger records and the set does
 * not name (--prune-retired). */
static int add_retired(struct session *s)
{
	const struct ledger *l = &s->ledger;
	int r = 0;

	for (size_t i = 0; i < s->opts->n_names && r == 0; i++) {
		const char *name = s->opts->names[i];

		if (manifest_set_find(&s->set, name))
			continue;
		if (!ledger_knows(l, name))
			return diag_error(&s->d, NULL,
					  "no manifest '%s' is recorded under %s; 'status' lists "
					  "the retired ones",
					  name, s->root),
			       -ENOENT;
		r = manifest_set_add_retired(&s->set, name);
	}
	/* A manifest left out may be recorded under a name its broken file
	 * no longer shows: nothing is taken for retired then. */
	if (s->opts->prune_retired && s->set.n_left_out) {
		diag_warning(&s->d, NULL,
			     "--prune-retired: no retired manifest is pruned while manifests are "
			     "left out (--keep-going)");
		return r;
	}
	for (size_t i = 0; s->opts->prune_retired && i < l->n && r == 0; i++)
		if (!manifest_set_find(&s->set, l->entries[i].manifest))
			r = manifest_set_add_retired(&s->set, l->entries[i].manifest);
	return r;
}

/* One --target as a path relative to the root: absolute ones must lie in
 * it (as given or as resolved); no "." or ".." parts, no trailing slash.
 * The root itself is every path: *ret NULL. */
static int relative_target(struct session *s, const char *t, char **ret)
{
	const char *roots[] = { s->root, s->opts->bpffs };
	_cleanup_free_ char *rel = NULL;
	const char *p = t;

	*ret = NULL;
	for (size_t i = 0; t[0] == '/' && p == t && i < 2; i++) {
		size_t n = roots[i] ? strlen(roots[i]) : 0;

		if (n && strncmp(t, roots[i], n) == 0 && (t[n] == '/' || t[n] == '\0'))
			p = t + n;
	}
	if (t[0] == '/' && p == t)
		return diag_error(&s->d, NULL, "--target %s is not under the root %s", t, s->root),
		       -EINVAL;
	while (*p == '/')
		p++;
	rel = strdup(p);
	if (!rel)
		return -ENOMEM;
	for (size_t n = strlen(rel); n > 0 && rel[n - 1] == '/'; n--)
		rel[n - 1] = '\0';
	for (char *part = rel; *part; part += strcspn(part, "/"), part += *part == '/') {
		size_t n = strcspn(part, "/");

		if (n == 0 || (n == 1 && part[0] == '.') || (n == 2 && strncmp(part, "..", 2) == 0))
			return diag_error(&s->d, NULL,
					  "--target %s: give the path without '.', '..' or '//'", t),
			       -EINVAL;
	}
	if (*rel)
		*ret = TAKE_PTR(rel);
	return 0;
}

/* The targets relative to the root; none when one is the root itself. */
static int resolve_targets(struct session *s)
{
	for (size_t i = 0; i < s->opts->n_targets; i++) {
		char *rel;
		int r = relative_target(s, s->opts->targets[i], &rel);

		if (r < 0)
			return r;
		if (!rel) {
			while (s->n_targets)
				free(s->targets[--s->n_targets]);
			return 0;
		}
		s->targets[s->n_targets++] = rel;
	}
	return 0;
}

/* A target that names nothing declared and nothing pinned is most likely
 * a typo: said, not fatal (a destroy of what is gone is fine). */
static void warn_idle_targets(struct session *s)
{
	for (size_t i = 0; i < s->n_targets; i++) {
		const char *t = s->targets[i];
		bool hit = false;

		for (size_t k = 0; k < s->des.n_pins && !hit; k++)
			hit = plan_path_in(s->des.pins[k].path, t);
		for (size_t k = 0; k < s->obs.n && !hit; k++)
			hit = plan_path_in(s->obs.entries[k].path, t);
		if (!hit)
			diag_warning(&s->d, NULL,
				     "--target %s matches no declared pin and nothing under the root", t);
	}
}

/* --target, relative to the root (s->root, as resolved). */
static int take_targets(struct session *s)
{
	s->targets = calloc(s->opts->n_targets + 1, sizeof(*s->targets));
	if (!s->targets)
		return -ENOMEM;
	return resolve_targets(s);
}

/* The plan of what the session read, live or from a snapshot. */
static int make_plan(struct session *s)
{
	int r;

	warn_idle_targets(s);
	r = plan_build(&(struct plan_input){ .set = &s->set,
						.desired = &s->des,
						.observed = &s->obs,
						.ledger = &s->ledger,
						.destroy = s->flags & CMD_DESTROY,
						.targets = (const char *const *)s->targets,
						.n_targets = s->n_targets },
		       &s->plan);
	s->planned = r == 0;
	return r;
}

/* A snapshot instead of the live tree (plan --observed): no bpffs, no lock,
 * no BPF syscall, no runtime directory; the root is the snapshot's, the
 * programs' tags computed or the ledger's (identity_offline_tags), map
 * entries and hooks the snapshot's.  A snapshot that cannot be read is
 * invalid input, as a manifest would be. */
static int read_snapshot(struct session *s)
{
	int r = snapshot_read(s->opts->observed, &s->d, &s->obs, &s->ledger);

	if (r < 0)
		return invalid_input(r);
	if (s->opts->bpffs && strcmp(s->opts->bpffs, s->obs.root) != 0)
		return diag_error(&s->d, &(struct diag_loc){ .file = s->opts->observed },
				  "the snapshot is of root '%s', not of '%s'", s->obs.root,
				  s->opts->bpffs),
		       -EINVAL;
	s->root = s->obs.root;
	r = take_targets(s);
	if (r == 0)
		r = add_retired(s);
	if (r == 0)
		r = identity_offline_tags(&s->des, &s->ledger, &s->obs, s->obs.tag_bits);
	if (r == 0)
		r = contents_observe(&s->des, &s->obs, &s->d);
	if (r == 0)
		r = target_resolve(&s->des, &s->obs,
				   &(struct target_options){ .dry_run = true }, &s->d);
	if (r == 0)
		r = make_plan(s);
	return system_error(r);
}

/* The tree walked and the ledger read at once (on 10k pins each took about
 * 40 ms of a plan), then the pins the ledger does not know opened.  A dry
 * run walked ahead (prefetch_tree) and reads the ledger here meanwhile;
 * otherwise the ledger is read in a thread while the tree is walked here. */
static int read_ledger_and_tree(struct session *s)
{
	struct walk_ahead *w = &s->ahead;
	struct ledger_read l = { .root = s->root };
	struct job reading = { 0 };
	int r = 0;

	if (w->root && !s->empty && strcmp(w->root, s->root) == 0) {
		load_ledger(&l);
		job_wait(&w->job);
		s->obs = w->obs;
		w->obs = (struct observed){ 0 };
		diag_move(&s->d, &w->d, NULL, "");
		r = w->r;
	} else {
		walk_ahead_done(w);
		job_start(&reading, load_ledger, &l);
		if (!s->empty)
			r = observed_walk(s->root, &s->d, &s->obs);
		job_wait(&reading);
	}
	walk_ahead_done(w);
	s->ledger = l.ledger;
	diag_move(&s->d, &l.d, NULL, "");
	r = l.r ?: r;
	if (r == 0)
		r = add_retired(s);
	if (r == 0 && !s->empty)
		r = observed_query(&s->obs, &s->ledger, &s->d);
	return r;
}

/* The live tree and what the kernel makes of the programs, then the plan.
 * A run that changes the tree reads it under the lock, so the plan applied
 * is the plan computed; the others change nothing. */
static int read_tree(struct session *s)
{
	int r;

	if (s->opts->observed)
		return read_snapshot(s);
	r = check_bpffs(s->opts, s->root, s->dry_run, &s->d, &s->empty);
	if (r < 0) {
		s->reason = REPORT_REASON_BPFFS;
		return system_error(r);
	}
	/* One root however it is spelled: the tree is walked, and changed,
	 * under the path it resolves to. */
	s->resolved_root = realpath(s->root, NULL);
	if (s->resolved_root)
		s->root = s->resolved_root;
	/* A bad --target is a usage error (1), not invalid input (65). */
	r = take_targets(s);
	if (r < 0)
		return system_error(r);
	if (s->des.n_pins > 0)
		r = loader_probe(&s->d);
	if (r == 0 && !s->dry_run) {
		r = ledger_lock(s->root, s->opts->lock_timeout, &s->d, &s->lock_fd);
		if (r < 0)
			s->reason = REPORT_REASON_LOCK;
	}
	if (r == 0)
		r = read_ledger_and_tree(s);
	/* Tags: what the ledger proves, then a load of the rest - none for
	 * an unchanged tree the tool made.  Destroy compares none. */
	if (r == 0 && !(s->flags & CMD_DESTROY))
		r = identity_recorded_tags(&s->des, &s->ledger, &s->obs);
	if (r == 0 && !(s->flags & CMD_DESTROY))
		r = identity_load_tags(&s->des, &s->obs, s->opts->verbose ? stderr : NULL, &s->d);
	/* Destroy unpins what the manifests made; where it was attached does
	 * not matter. */
	if (r == 0 && !(s->flags & CMD_DESTROY))
		r = contents_observe(&s->des, &s->obs, &s->d);
	if (r == 0 && !(s->flags & CMD_DESTROY))
		r = target_resolve(&s->des, &s->obs,
				   &(struct target_options){ .mount_tracefs = s->opts->mount,
							     .dry_run = s->dry_run },
				   &s->d);
	if (r == 0)
		r = make_plan(s);
	return system_error(r);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* --metrics-file, for every run of a command that writes it, however it
 * ended (r: the command's result), so that what one alerts on - an invalid
 * manifest, a missing bpffs, a lock not had - shows there.  The bpffs label
 * is the root the run used or would have used, resolved as a run that gets
 * that far resolves it; "" when the manifests that would name it are
 * invalid. */
static int write_metrics(struct session *s, int r, const struct timespec *started)
{
	const char *root = s->root ? s->root : s->opts->bpffs ? s->opts->bpffs : "";
	_cleanup_free_ char *resolved = root[0] ? realpath(root, NULL) : NULL;
	enum report_reason reason = s->reason ? s->reason : REPORT_REASON_ERROR;

	if (r >= 0)
		reason = REPORT_REASON_OK;
	else if (exit_code(r) == EXIT_INVALID)
		reason = REPORT_REASON_INVALID;
	return report_metrics(&(struct report_run){ .plan = s->planned ? &s->plan : NULL,
						    .root = resolved ? resolved : root,
						    .dry_run = s->dry_run,
						    .reason = reason,
						    .duration = seconds_since(started) },
			      s->opts->metrics_file, &s->d);
}

/* How results are written: JSON never has colours; text has them under
 * --color=always, or under auto when stdout is a terminal and neither
 * NO_COLOR (set and not empty, no-color.org) nor TERM=dumb says no. */
static enum report_format result_format(const struct options *opts)
{
	const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");

	if (opts->output == OUTPUT_JSON)
		return REPORT_JSON;
	if (opts->color == COLOR_ALWAYS)
		return REPORT_COLOR;
	if (opts->color == COLOR_NEVER || (no_color && no_color[0]) ||
	    (term && strcmp(term, "dumb") == 0) || !isatty(STDOUT_FILENO))
		return REPORT_TEXT;
	return REPORT_COLOR;
}

/* Progress only for a person: a terminal on stderr, text output, not quiet. */
static bool show_progress(const struct options *opts)
{
	return opts->output == OUTPUT_TEXT && !opts->quiet && isatty(STDERR_FILENO);
}

static void progress(void *ctx, size_t done, size_t total)
{
	fprintf(stderr, "\r\033[Kapplying: %zu/%zu", done, total);
}

/* Each step as it is taken, or in a dry run would be: under -v, and for
 * tests (BPF_PROVISION_TRACE_STEPS) in one form for both, to compare. */
struct announcer {
	const struct plan *plan;
	bool dry_run, verbose;
	FILE *trace;
};

static void announce(void *ctx, size_t step)
{
	const struct announcer *a = ctx;

	if (a->trace) {
		fputs("bpf-provision: step: ", a->trace);
		report_step(a->plan, step, a->trace);
		fputc('\n', a->trace);
	}
	if (a->verbose) {
		fputs(a->dry_run ? "would " : "", stderr);
		report_step(a->plan, step, stderr);
		fputc('\n', stderr);
	}
}

/* The one executor over the plan's steps, for real or as a dry run;
 * not_undone (may be NULL) receives how many steps a failed run's rollback
 * could not undo. */
static int execute(struct session *s, struct sys *sys, enum apply_status *status,
		   size_t *not_undone)
{
	const char *trace = getenv("BPF_PROVISION_TRACE_STEPS");
	struct announcer a = { .plan = &s->plan,
			       .dry_run = s->dry_run,
			       .verbose = s->opts->verbose > 0 && !s->opts->quiet,
			       /* An absolute path: the steps are appended there, not to stderr. */
			       .trace = !trace ? NULL : trace[0] == '/' ? fopen(trace, "ae") : stderr };
	int r;

	r = apply_run(&(struct apply_input){ .root = s->root,
					     .set = &s->set,
					     .desired = &s->des,
					     .plan = &s->plan,
					     .observed = &s->obs,
					     .ledger = &s->ledger,
					     .destroy = s->flags & CMD_DESTROY,
					     .dry_run = s->dry_run,
					     .verifier_log = s->opts->verbose ? stderr : NULL,
					     .announce = a.trace || a.verbose ? announce : NULL,
					     .progress = show_progress(s->opts) ? progress : NULL,
					     .ctx = &a,
					     .not_undone = not_undone },
		      sys, &s->d, status);
	if (a.trace && a.trace != stderr)
		fclose(a.trace);
	return r;
}

/* What the plan of s was computed from, for a saved plan. */
static struct savedplan_input saved_input(const struct session *s)
{
	return (struct savedplan_input){ .destroy = s->flags & CMD_DESTROY,
					 .root = s->root,
					 .prune_retired = s->opts->prune_retired,
					 .names = s->opts->names,
					 .n_names = s->opts->n_names,
					 .targets = s->targets,
					 .n_targets = s->n_targets,
					 .set = &s->set,
					 .desired = &s->des,
					 .observed = &s->obs,
					 .ledger = &s->ledger,
					 .plan = &s->plan };
}

/* --plan FILE: the saved plan says what to read (its manifests, root,
 * --name and --prune-retired), in place of the command line; opts is the
 * session's copy of the options.  A plan that cannot be read, or is another
 * command's, or for another root than --bpffs, is invalid input. */
static int load_saved(struct session *s, struct options *opts, struct savedplan *sp)
{
	const struct diag_loc loc = { .file = opts->plan_file };
	int r;

	r = savedplan_read(opts->plan_file, &s->d, sp);
	if (r < 0)
		return invalid_input(r);
	if (sp->destroy != !!(s->flags & CMD_DESTROY))
		return diag_error(&s->d, &loc, "a plan for %s; carry it out with 'bpf-provision %s --plan'",
				  sp->destroy ? "destroy" : "apply", sp->destroy ? "destroy" : "apply");
	if (opts->bpffs && strcmp(opts->bpffs, sp->root) != 0 && !same_dir(opts->bpffs, sp->root))
		return diag_error(&s->d, &loc, "a plan for the root '%s', not '%s' (--bpffs)", sp->root,
				  opts->bpffs);
	opts->bpffs = sp->root;
	opts->names = sp->names;
	opts->n_names = sp->n_names;
	opts->targets = sp->targets;
	opts->n_targets = sp->n_targets;
	opts->prune_retired = sp->prune_retired;
	s->args = sp->manifests;
	s->n_args = sp->n_manifests;
	return 0;
}

/* Before anything is done: the tree, the input and the plan are what the
 * saved plan recorded, or the run refuses (exit 1). */
static int check_saved(struct session *s, const struct savedplan *sp)
{
	struct savedplan_input in = saved_input(s);

	return savedplan_check(sp, &in, &s->d);
}

/* --out FILE: the plan and what it was computed from, for review and for
 * 'apply --plan FILE'. */
static int save_plan(struct session *s)
{
	struct savedplan_input in = saved_input(s);

	return savedplan_write(&in, s->opts->out_file, &s->d);
}

static int cmd_validate(struct session *s)
{
	show_diags(s);
	if (!s->opts->quiet)
		report_validate(&s->set, &s->des, s->opts->output == OUTPUT_JSON, stdout);
	return 0;
}

/* plan, and apply or destroy under --dry-run. */
static int cmd_plan(struct session *s)
{
	_cleanup_free_ enum apply_status *status = calloc(s->plan.n + 1, sizeof(*status));
	int r = status ? 0 : -ENOMEM;

	/* The steps the real run would take, announced (-v, tracing). */
	if (r == 0 && !s->plan.n_refused)
		r = execute(s, NULL, status, NULL);
	/* -q: the exit status alone says whether there is drift. */
	if (r == 0 && !s->opts->quiet) {
		r = report_plan(&s->plan, s->root, NULL, result_format(s->opts), stdout);
		/* One document: a later error (the metrics) goes to stderr alone. */
		s->printed = true;
	}
	if (r < 0)
		return r;
	/* A directory is all of its manifests: one recorded and no longer
	 * there is drift too. */
	return plan_has_changes(&s->plan) || (s->set.has_dir && s->plan.n_retired) ? EXIT_DRIFT
										   : 0;
}

/* The first error recorded from message index from on: what stopped the run. */
static const struct diag_msg *first_error(const struct diag *d, size_t from)
{
	for (size_t i = from; i < d->n_msgs; i++)
		if (d->msgs[i].severity == DIAG_ERROR)
			return &d->msgs[i];
	return NULL;
}

static int cmd_apply(struct session *s)
{
	_cleanup_free_ enum apply_status *status = NULL;
	struct report_outcome outcome = { .destroy = s->flags & CMD_DESTROY };
	size_t said = s->d.n_msgs;
	struct sys sys;
	int r;

	if (s->dry_run)
		return cmd_plan(s);
	status = calloc(s->plan.n + 1, sizeof(*status));
	if (!status)
		return -ENOMEM;
	sys_init(&sys);
	r = execute(s, &sys, status, &outcome.not_undone);
	if (show_progress(s->opts) && s->plan.n)
		fputs("\r\033[K", stderr);
	if (r < 0)
		s->reason = s->plan.n_refused ? REPORT_REASON_REFUSED : REPORT_REASON_APPLY_FAILED;
	/* A failed apply's document carries each change's status and how it
	 * ended; the errors themselves go to stderr. */
	if (r != -EPERM && !s->opts->quiet) {
		outcome.status = status;
		outcome.error = r;
		outcome.reason = r ? first_error(&s->d, said) : NULL;
		report_plan(&s->plan, s->root, &outcome, result_format(s->opts), stdout);
		s->printed = true;
	}
	if (getenv("BPF_PROVISION_TRACE_STEPS"))
		fprintf(stderr, "bpf-provision: %lu steps\n", sys.steps);
	return system_error(r);
}

static int cmd_status(struct session *s)
{
	show_diags(s);
	if (s->opts->quiet)
		return 0;
	return report_status(&s->obs, &s->des, &s->ledger, &s->plan, s->root,
			     result_format(s->opts), stdout);
}

static void objfiles_free(struct objfile ***objs)
{
	for (size_t i = 0; *objs && (*objs)[i]; i++)
		objfile_free((*objs)[i]);
	free(*objs);
}

/* Every object is read before any is shown: under -o json the result is
 * one document, or the error document when an object could not be read. */
static int cmd_inspect(struct session *s)
{
	_cleanup_(objfiles_free) struct objfile **objs = calloc(s->n_args + 1, sizeof(*objs));
	bool json = s->opts->output == OUTPUT_JSON;
	size_t n = 0;
	int err = 0;

	if (!objs)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_args; i++) {
		int r = objfile_open(s->args[i], &s->d, &objs[n]);

		if (r < 0)
			err = invalid_input(r);
		else
			n++;
	}
	if (!json || err == 0) {
		int r = report_inspect((const struct objfile *const *)objs, n, stdout, json);

		if (r < 0)
			err = r;
	}
	return err;
}

/* The live tree as a manifest; reads no manifest, takes no lock. */
static int cmd_export(struct session *s)
{
	const char *root = s->opts->bpffs ? s->opts->bpffs : "/sys/fs/bpf";
	int r = check_bpffs(s->opts, root, true, &s->d, &s->empty);

	if (r < 0)
		return system_error(r);
	return export_run(&(struct export_request){ .root = root,
						    .empty = s->empty,
						    .objects = s->opts->objects,
						    .n_objects = s->opts->n_objects,
						    .paths = s->args,
						    .n_paths = s->n_args,
						    .vlog = s->opts->verbose ? stderr : NULL },
			  &s->d, stdout);
}

/* The tree under the root as one JSON document, for plan --observed. */
static int cmd_snapshot(struct session *s)
{
	const char *root = s->opts->bpffs ? s->opts->bpffs : "/sys/fs/bpf";
	_cleanup_free_ char *resolved = NULL;

	if (!is_bpffs(root))
		return diag_error(&s->d, &(struct diag_loc){ .file = root }, "not a bpffs mount"),
		       -ENOTSUP;
	/* Named as a live plan names it, so that the two plans agree. */
	resolved = realpath(root, NULL);
	s->printed = true;
	return system_error(snapshot_write(resolved ? resolved : root, &s->d, stdout));
}

struct command {
	const char *name;
	const char *usage;
	const char *summary;
	int (*fn)(struct session *s); /* runs once the session has read what flags ask for */
	unsigned flags;               /* CMD_* */
};

static const struct command commands[] = {
	{ "validate", "validate [--no-objects] [MANIFEST...]",
	  "check manifests and the ELF objects they name; touches no kernel state", cmd_validate,
	  CMD_READS_OBJECTS | CMD_NO_OBJECTS | CMD_SYSTEM_DIRS },
	{ "plan",
	  "plan [--keep-going] [--target PATH]... [--out FILE | --observed SNAPSHOT] [MANIFEST...]",
	  "same as 'apply --dry-run'; against a snapshot with --observed", cmd_plan,
	  CMD_READS_OBJECTS | CMD_NEEDS_KERNEL | CMD_METRICS | CMD_TARGET | CMD_SAVED_PLAN |
		  CMD_OBSERVED | CMD_MOUNT | CMD_KEEP_GOING | CMD_SYSTEM_DIRS },
	{ "apply",
	  "apply [--dry-run] [--keep-going] [--prune-retired] [--target PATH]... [--out FILE] "
	  "[MANIFEST...] | --plan FILE",
	  "converge the bpffs tree to the manifests", cmd_apply,
	  CMD_READS_OBJECTS | CMD_NEEDS_KERNEL | CMD_TAKES_LOCK | CMD_DRY_RUN | CMD_METRICS |
		  CMD_PRUNE_RETIRED | CMD_TARGET | CMD_SAVED_PLAN | CMD_MOUNT | CMD_KEEP_GOING |
		  CMD_SYSTEM_DIRS },
	{ "destroy",
	  "destroy [--dry-run] [--name NAME]... [--target PATH]... [--out FILE] [MANIFEST...] | "
	  "--plan FILE",
	  "unpin everything the manifests (or retired ones, by name) own", cmd_apply,
	  CMD_READS_OBJECTS | CMD_NEEDS_KERNEL | CMD_TAKES_LOCK | CMD_DRY_RUN | CMD_METRICS |
		  CMD_MIN_ARGS | CMD_DESTROY | CMD_NAMES | CMD_TARGET | CMD_SAVED_PLAN | CMD_MOUNT },
	{ "status", "status [MANIFEST...]", "table of pins under the root and their state",
	  cmd_status, CMD_READS_OBJECTS | CMD_NEEDS_KERNEL | CMD_MOUNT },
	{ "snapshot", "snapshot",
	  "the tree, its maps' entries and the ledger as JSON, for 'plan --observed'",
	  cmd_snapshot, CMD_NO_ARGS },
	{ "inspect", "inspect OBJECT.o...",
	  "maps and programs in ELF objects with their pinning attributes and layout", cmd_inspect,
	  CMD_MIN_ARGS },
	{ "export", "export [--objects OBJ|DIR]... [PATH...]",
	  "write a manifest that declares the pins under the root (or PATHs) as they are",
	  cmd_export, CMD_OBJECTS | CMD_MOUNT },
};

/* Reads what the command's flags ask for, stage by stage, runs it and
 * prints what went wrong.  Returns the exit status. */
static int run_command(const struct command *c, const struct options *opts, int argc, char **argv)
{
	struct options o = *opts; /* --plan fills in what the saved plan says */
	struct session s = { .opts = &o,
			     .flags = c->flags,
			     .args = argv,
			     .n_args = (size_t)argc,
			     .dry_run = opts->dry_run || !(c->flags & CMD_TAKES_LOCK) };
	struct savedplan sp = { 0 };
	struct timespec started;
	int r = 0;

	clock_gettime(CLOCK_MONOTONIC, &started);
	if (opts->plan_file)
		r = load_saved(&s, &o, &sp);
	if (r == 0 && (c->flags & CMD_READS_OBJECTS))
		r = read_input(&s);
	if (r == 0 && (c->flags & CMD_NEEDS_KERNEL))
		r = read_tree(&s);
	if (r == 0 && opts->plan_file) {
		r = check_saved(&s, &sp);
		if (r < 0)
			s.reason = REPORT_REASON_REFUSED;
	}
	if (r == 0 && opts->out_file)
		r = save_plan(&s);
	/* --keep-going: the errors that left manifests out first, on stderr
	 * alone (stdout is for the plan's document), apart from any to come. */
	if (r == 0 && s.set.n_left_out) {
		s.printed = true;
		show_diags(&s);
		s.printed = false;
	}
	if (r == 0)
		r = c->fn(&s);
	/* --keep-going: the valid manifests were planned or applied; the
	 * invalid ones still make the run's status that of invalid input. */
	if (r >= 0 && s.set.n_left_out)
		r = -EINVAL;
	/* A run whose metrics cannot be written failed (unless it failed
	 * already): a textfile left stale would say the last run was fine. */
	if ((c->flags & CMD_METRICS) && o.metrics_file) {
		int m = write_metrics(&s, r, &started);

		if (m < 0 && r >= 0)
			r = system_error(m);
	}
	show_diags(&s);
	/* The run ends with the process, whose memory goes back to the kernel
	 * whole: freeing the records of a plan of 100k pins one by one took
	 * 100 ms of its 850.  A build with a leak checker frees all, so that
	 * what a stage forgets to free is still found. */
	if (!LEAK_CHECKED) {
		walk_ahead_done(&s.ahead);
		exit(exit_code(r));
	}
	session_done(&s);
	savedplan_done(&sp);
	return exit_code(r);
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: bpf-provision [OPTIONS] COMMAND [ARGS]\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		fprintf(out, "  %-36s %s\n", commands[i].usage, commands[i].summary);
	fprintf(out, "\n%s\nExit status: 0 success (or no drift under --dry-run), 2 drift found "
		     "under --dry-run/plan,\n65 invalid manifest or ELF object, 1 any other "
		     "failure.\n",
		options_help);
}

static void command_help(const struct command *c)
{
	printf("Usage: bpf-provision [OPTIONS] %s\n\n%s.\n", c->usage, c->summary);
	if (c->flags & CMD_DRY_RUN)
		printf("\n      --dry-run             show the plan, change nothing (exit 2 if "
		       "there is drift)\n");
	if (c->flags & CMD_KEEP_GOING)
		printf("\n      --keep-going          leave out each invalid manifest, %s the others; "
		       "exit 65\n                            if any was left out\n",
		       c->flags & CMD_TAKES_LOCK ? "apply" : "plan");
	if (c->flags & CMD_NO_OBJECTS)
		printf("\n      --no-objects          check the manifests only, without opening "
		       "their ELF objects\n");
	if (c->flags & CMD_NAMES)
		printf("\n      --name NAME           also a retired manifest, by its name in the "
		       "ledger (repeatable)\n");
	if (c->flags & CMD_PRUNE_RETIRED)
		printf("\n      --prune-retired       also unpin what retired manifests made\n");
	if (c->flags & CMD_TARGET)
		printf("\n      --target PATH         only this pin or directory, and what it needs "
		       "(repeatable)\n");
	if (c->flags & CMD_SAVED_PLAN)
		printf("\n      --out FILE            also save the plan there, with what it relies on "
		       "(%s)\n",
		       c->flags & CMD_TAKES_LOCK ? "with --dry-run" : "for 'apply --plan'");
	if ((c->flags & CMD_SAVED_PLAN) && (c->flags & CMD_TAKES_LOCK))
		printf("\n      --plan FILE           carry out the plan saved there, exactly; refuse "
		       "(exit 1)\n                            if anything changed since\n");
	if (c->flags & CMD_OBJECTS)
		printf("\n      --objects OBJ|DIR     match pins to this ELF object's maps and "
		       "programs (a directory:\n                            its *.o; repeatable)\n");
	if (c->flags & CMD_OBSERVED)
		printf("\n      --observed FILE       plan against a snapshot ('bpf-provision "
		       "snapshot'):\n                            no bpffs, no privileges\n");
	if (c->flags & CMD_SYSTEM_DIRS)
		printf("\nWithout MANIFEST: the manifests of /usr/lib/bpf-provision.d, "
		       "/run/bpf-provision.d\nand /etc/bpf-provision.d, a file name in a later "
		       "directory overriding an earlier one.\n");
	printf("\n%s", options_help);
}

enum {
	OPT_BPFFS = 0x100,
	OPT_MOUNT,
	OPT_COLOR,
	OPT_LOCK_TIMEOUT,
	OPT_VERSION,
	OPT_DRY_RUN,
	OPT_NO_OBJECTS,
	OPT_METRICS_FILE,
	OPT_NAME,
	OPT_PRUNE_RETIRED,
	OPT_TARGET,
	OPT_OUT,
	OPT_PLAN,
	OPT_OBJECTS,
	OPT_OBSERVED,
	OPT_KEEP_GOING,
};

/* A repeatable option's values. */
static int append_arg(char ***list, size_t *n, char *arg)
{
	char **l = realloc(*list, (*n + 1) * sizeof(**list));

	if (!l)
		return -ENOMEM;
	*list = l;
	l[(*n)++] = arg;
	return 0;
}

/* A mistake on the command line, said as every one is:
 * "bpf-provision: error: ..." on stderr.  Returns -EINVAL. */
__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("bpf-provision: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

static const struct option long_options[] = {
	{ "bpffs", required_argument, NULL, OPT_BPFFS },
	{ "mount", no_argument, NULL, OPT_MOUNT },
	{ "output", required_argument, NULL, 'o' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "color", required_argument, NULL, OPT_COLOR },
	{ "lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "no-objects", no_argument, NULL, OPT_NO_OBJECTS },
	{ "metrics-file", required_argument, NULL, OPT_METRICS_FILE },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "prune-retired", no_argument, NULL, OPT_PRUNE_RETIRED },
	{ "target", required_argument, NULL, OPT_TARGET },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "plan", required_argument, NULL, OPT_PLAN },
	{ "objects", required_argument, NULL, OPT_OBJECTS },
	{ "observed", required_argument, NULL, OPT_OBSERVED },
	{ "keep-going", no_argument, NULL, OPT_KEEP_GOING },
	{ 0 },
};

/* "; did you mean '--dry-run'?" for the long option closest to name (the
 * text after "--", up to any '='), else "". */
static const char *option_guess(const char *name, size_t len, char buf[static 100])
{
	char word[DIAG_SUGGEST_MAX + 1];
	struct diag_guess g = { .word = word };

	if (len > DIAG_SUGGEST_MAX)
		return "";
	memcpy(word, name, len);
	word[len] = '\0';
	for (const struct option *o = long_options; o->name; o++)
		diag_guess_offer(&g, o->name);
	if (!g.best)
		return "";
	snprintf(buf, 100, "; did you mean '--%s'?", g.best);
	return buf;
}

/* What getopt_long refused, said in our words (opterr is 0): arg is the
 * argument it stopped at, opt its optopt (the option, 0 for an unknown
 * long one), missing whether the option lacks its argument. */
static int bad_option(const char *arg, int opt, bool missing)
{
	const char *name = arg + 2;
	size_t len = strcspn(name, "=");
	const struct option *match = NULL;
	size_t n_prefix = 0;

	/* In a cluster such as "-xq" the argument is not the option's own. */
	if (strncmp(arg, "--", 2) != 0 || (opt > 0 && opt < 0x100 && !strchr("oqvh", opt)))
		return missing ? usage_error("option '-%c' needs an argument", opt)
			       : usage_error("unknown option '-%c'", opt);
	for (const struct option *o = long_options; o->name; o++)
		if (strncmp(o->name, name, len) == 0) {
			if (!match)
				match = o;
			n_prefix++;
		}
	if (missing)
		return usage_error("option '--%.*s' needs an argument", (int)len, name);
	if (opt != 0 && match)
		return usage_error("option '--%s' takes no argument", match->name);
	if (n_prefix > 1) {
		fprintf(stderr, "bpf-provision: error: option '--%.*s' is ambiguous:", (int)len, name);
		for (const struct option *o = long_options; o->name; o++)
			if (strncmp(o->name, name, len) == 0)
				fprintf(stderr, " --%s", o->name);
		fputc('\n', stderr);
		return -EINVAL;
	}
	return usage_error("unknown option '--%.*s'%s", (int)len, name,
			   option_guess(name, len, (char[100]){ 0 }));
}

/* value among names[0..n), the option's values: its index, else an error
 * that lists them (and guesses). */
static int option_value(const char *option, const char *value, const char *const *names,
			size_t n, const char *expected)
{
	const char *best;

	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], value) == 0)
			return (int)i;
	best = diag_suggest(value, names, n);
	if (best)
		return usage_error("%s '%s'; did you mean '%s'? (expected %s)", option, value, best,
				   expected);
	return usage_error("%s '%s' (expected %s)", option, value, expected);
}

static int parse_options(int argc, char **argv, struct options *opts, bool *version)
{
	static const char *const formats[] = { [OUTPUT_TEXT] = "text", [OUTPUT_JSON] = "json" };
	static const char *const colors[] = { [COLOR_AUTO] = "auto",
					      [COLOR_ALWAYS] = "always",
					      [COLOR_NEVER] = "never" };
	char *end;
	int c, v;

	/* getopt's own messages have another style and guess nothing. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:qvh", long_options, NULL)) != -1) {
		switch (c) {
		case '?':
		case ':':
			return bad_option(argv[optind - 1], optopt, c == ':');
		case OPT_BPFFS:
			if (optarg[0] != '/')
				return usage_error("--bpffs needs an absolute path, not '%s'", optarg);
			/* One spelling of the root: it names the ledger and shows in output. */
			for (size_t n = strlen(optarg); n > 1 && optarg[n - 1] == '/'; n--)
				optarg[n - 1] = '\0';
			opts->bpffs = optarg;
			break;
		case OPT_MOUNT:
			opts->mount = true;
			break;
		case 'o':
			v = option_value("unknown output format", optarg, formats, 2, "text or json");
			if (v < 0)
				return v;
			opts->output = (enum output_format)v;
			break;
		case 'q':
			opts->quiet = true;
			break;
		case 'v':
			opts->verbose++;
			break;
		case OPT_COLOR:
			v = option_value("unknown --color value", optarg, colors, 3, "auto, always or never");
			if (v < 0)
				return v;
			opts->color = (enum color_mode)v;
			break;
		case OPT_LOCK_TIMEOUT:
			errno = 0;
			opts->lock_timeout = strtod(optarg, &end);
			/* nan and inf would wait forever: a boot must not hang. */
			if (errno || end == optarg || *end || !isfinite(opts->lock_timeout) ||
			    opts->lock_timeout < 0)
				return usage_error("--lock-timeout takes a finite number of seconds, "
						   "not '%s'", optarg);
			opts->lock_timeout_set = true;
			break;
		case 'h':
			opts->help = true;
			break;
		case OPT_VERSION:
			*version = true;
			break;
		case OPT_DRY_RUN:
			opts->dry_run = true;
			break;
		case OPT_NO_OBJECTS:
			opts->no_objects = true;
			break;
		case OPT_NAME:
			if (append_arg(&opts->names, &opts->n_names, optarg) < 0)
				return -ENOMEM;
			break;
		case OPT_TARGET:
			if (append_arg(&opts->targets, &opts->n_targets, optarg) < 0)
				return -ENOMEM;
			break;
		case OPT_PRUNE_RETIRED:
			opts->prune_retired = true;
			break;
		case OPT_OBJECTS:
			if (append_arg(&opts->objects, &opts->n_objects, optarg) < 0)
				return -ENOMEM;
			break;
		case OPT_METRICS_FILE:
			opts->metrics_file = optarg;
			break;
		case OPT_OUT:
			opts->out_file = optarg;
			break;
		case OPT_PLAN:
			opts->plan_file = optarg;
			break;
		case OPT_OBSERVED:
			opts->observed = optarg;
			break;
		case OPT_KEEP_GOING:
			opts->keep_going = true;
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

/* libbpf's own messages only under -v: ours say what failed, in context. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_DEBUG ? 0 : vfprintf(stderr, fmt, ap);
}

/* Every pin an apply makes holds a file descriptor for a while, and so do
 * the directories it acts in: the default soft limit of 1024 is low for a
 * few hundred pins.  As systemd advises (and does for itself), the soft
 * limit is raised to the hard one; this program uses no select(), so a
 * descriptor above 1023 is no problem.  Failing to is not an error: the
 * limit stays what it was. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void options_done(struct options *opts)
{
	free(opts->names);
	free(opts->targets);
	free(opts->objects);
}

/* "apply and destroy": the commands whose flags hold all of needs.
 * Returns how many there are. */
static size_t print_takers(FILE *f, unsigned needs)
{
	size_t n = 0, k = 0;

	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		n += (commands[i].flags & needs) == needs;
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		if ((commands[i].flags & needs) == needs)
			fprintf(f, "%s%s", k++ == 0 ? "" : k == n ? " and " : ", ", commands[i].name);
	return n;
}

/* Each command-specific option given to a command that takes it; else an
 * error that says which commands do.  The options every command takes
 * (--bpffs, -o, -q, -v, --color, -h) are not here: scripts pass them to
 * every command of a run. */
static bool options_fit(const struct command *cmd, const struct options *opts)
{
	const struct {
		bool given;
		unsigned needs; /* all of these CMD_* */
		const char *option;
	} rules[] = {
		{ opts->dry_run, CMD_DRY_RUN, "--dry-run" },
		{ opts->no_objects, CMD_NO_OBJECTS, "--no-objects" },
		{ opts->mount, CMD_MOUNT, "--mount" },
		{ opts->lock_timeout_set, CMD_TAKES_LOCK, "--lock-timeout" },
		{ opts->metrics_file, CMD_METRICS, "--metrics-file" },
		{ opts->n_names, CMD_NAMES, "--name" },
		{ opts->prune_retired, CMD_PRUNE_RETIRED, "--prune-retired" },
		{ opts->n_targets, CMD_TARGET, "--target" },
		{ opts->out_file, CMD_SAVED_PLAN, "--out" },
		{ opts->plan_file, CMD_SAVED_PLAN | CMD_TAKES_LOCK, "--plan" },
		{ opts->n_objects, CMD_OBJECTS, "--objects" },
		{ opts->observed, CMD_OBSERVED, "--observed" },
		{ opts->keep_going, CMD_KEEP_GOING, "--keep-going" },
	};

	for (size_t i = 0; i < sizeof(rules) / sizeof(*rules); i++) {
		if (!rules[i].given || (cmd->flags & rules[i].needs) == rules[i].needs)
			continue;
		fprintf(stderr, "bpf-provision: error: %s does not take %s; only ", cmd->name,
			rules[i].option);
		fprintf(stderr, " take%s %s\n", print_takers(stderr, rules[i].needs) == 1 ? "s" : "",
			rules[i].option);
		return false;
	}
	return true;
}

/* The metrics of a command line refused before anything ran. */
static void usage_metrics(const struct command *cmd, const struct options *opts)
{
	_cleanup_free_ char *resolved = opts->bpffs ? realpath(opts->bpffs, NULL) : NULL;
	struct diag d = { 0 };

	if (report_metrics(&(struct report_run){ .root = resolved	  ? resolved
							 : opts->bpffs ? opts->bpffs
								       : "",
						 .dry_run = opts->dry_run ||
							    !(cmd->flags & CMD_TAKES_LOCK),
						 .reason = REPORT_REASON_USAGE },
			   opts->metrics_file, &d) < 0)
		for (size_t i = 0; i < d.n_msgs; i++) {
			_cleanup_free_ char *line = diag_msg_format(&d.msgs[i]);

			if (line)
				fprintf(stderr, "%s\n", line);
		}
	diag_done(&d);
}

/* The rules between options and arguments that options_fit() does not
 * check, each with its message.  argc as main() has it, optind past the
 * options. */
static bool command_line_fits(const struct command *cmd, const struct options *opts, int argc)
{
	/* What a retired manifest made is removed whole, and its records
	 * forgotten: never a part of it. */
	if (opts->n_targets && (opts->n_names || opts->prune_retired)) {
		usage_error("--target does not go with --name or --prune-retired");
		return false;
	}
	if (opts->out_file && (!(cmd->flags & CMD_SAVED_PLAN) ||
			      ((cmd->flags & CMD_TAKES_LOCK) && !opts->dry_run))) {
		usage_error("--out saves the plan of plan, or of apply or destroy --dry-run");
		return false;
	}
	if (opts->plan_file &&
	    (optind + 1 < argc || opts->n_names || opts->prune_retired || opts->n_targets)) {
		usage_error("%s --plan takes its manifests, --name, --prune-retired and --target "
			    "from the plan, not the command line",
			    cmd->name);
		return false;
	}
	/* A saved plan names this host's files and tree; a snapshot's plan is
	 * reviewed, not carried out. */
	if (opts->observed && opts->out_file) {
		usage_error("--out does not go with --observed");
		return false;
	}
	/* A saved plan is of every manifest it names, carried out whole. */
	if (opts->keep_going && (opts->out_file || opts->plan_file)) {
		usage_error("--keep-going does not go with --out or --plan");
		return false;
	}
	if (((cmd->flags & CMD_MIN_ARGS) && optind + 1 == argc && !opts->n_names &&
	     !opts->plan_file) ||
	    ((cmd->flags & CMD_NO_ARGS) && optind + 1 < argc)) {
		usage_error(cmd->flags & CMD_NO_ARGS ? "%s takes no argument"
						      : "%s needs an argument",
			    cmd->name);
		fprintf(stderr, "Usage: bpf-provision [OPTIONS] %s\n", cmd->usage);
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	_cleanup_(options_done) struct options opts = { .lock_timeout = 30 };
	const struct command *cmd = NULL;
	bool version = false;

	raise_fd_limit();

	if (parse_options(argc, argv, &opts, &version) < 0) {
		fprintf(stderr, "Try 'bpf-provision --help'.\n");
		return EXIT_FAIL;
	}
	if (version) {
		printf("%s\n", PACKAGE_STRING);
		return EXIT_OK;
	}
	libbpf_set_print(opts.verbose ? libbpf_print : NULL);
	if (optind == argc) {
		if (opts.help) {
			usage(stdout);
			return EXIT_OK;
		}
		usage_error("no command");
		usage(stderr);
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd) {
		struct diag_guess g = { .word = argv[optind] };

		for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
			diag_guess_offer(&g, commands[i].name);
		if (g.best)
			usage_error("unknown command '%s'; did you mean '%s'?", argv[optind], g.best);
		else
			usage_error("unknown command '%s'", argv[optind]);
		fprintf(stderr, "Try 'bpf-provision --help'.\n");
		return EXIT_FAIL;
	}
	if (opts.help) {
		command_help(cmd);
		return EXIT_OK;
	}
	if (!options_fit(cmd, &opts))
		return EXIT_FAIL;
	if (!command_line_fits(cmd, &opts, argc)) {
		/* An alert on a refused boot command line needs its textfile. */
		if ((cmd->flags & CMD_METRICS) && opts.metrics_file)
			usage_metrics(cmd, &opts);
		return EXIT_FAIL;
	}
	return run_command(cmd, &opts, argc - optind - 1, argv + optind + 1);
}
