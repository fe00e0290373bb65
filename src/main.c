// SPDX-License-Identifier: MIT
/* main: options, the command table and exit codes (SPEC section 1).  Each
 * command runs the pipeline stages it needs; diagnostics are printed here,
 * once, after the stage that collected them returns. */
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
#include <unistd.h>

#include <linux/magic.h>

#include <bpf/libbpf.h>

#include "apply.h"
#include "cleanup.h"
#include "desired.h"
#include "diag.h"
#include "ledger.h"
#include "loader.h"
#include "manifest.h"
#include "objfile.h"
#include "observed.h"
#include "plan.h"
#include "report.h"
#include "sys.h"

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
	bool dry_run;
	bool no_objects;
	bool help;
	const char *metrics_file;
};

struct command {
	const char *name;
	const char *usage;
	const char *summary;
	int (*fn)(const struct options *opts, int argc, char **argv);
	bool dry_run;   /* accepts --dry-run */
	bool min_args;  /* needs at least one argument */
};

static const char *const options_help =
	"Options:\n"
	"      --bpffs DIR           bpffs root (overrides the manifests' 'bpffs'; default /sys/fs/bpf)\n"
	"      --mount               mount bpffs at the root first if it is not one\n"
	"  -o, --output FORMAT       text (default) or json\n"
	"  -q, --quiet               print nothing but errors\n"
	"  -v, --verbose             say more\n"
	"      --color WHEN          auto (default), always or never\n"
	"      --lock-timeout SECS   wait at most this long for another run's lock (default 30)\n"
	"      --metrics-file FILE   write the plan summary there, Prometheus text format\n"
	"  -h, --help                this help (after a command: the command's help)\n"
	"      --version             print the version\n";

/* Prints the collected diagnostics: text on stderr always, and under -o json
 * the error document on stdout for scripts. */
static void print_diags_doc(const struct options *opts, const struct diag *d, bool json_doc);

static void print_diags(const struct options *opts, const struct diag *d)
{
	print_diags_doc(opts, d, true);
}

/* json_doc: under -o json, also print the error document (not when stdout
 * already holds the run's one result document). */
static void print_diags_doc(const struct options *opts, const struct diag *d, bool json_doc)
{
	size_t shown = 0;

	for (size_t i = 0; i < d->n_msgs; i++)
		shown += d->msgs[i].severity == DIAG_ERROR;
	for (size_t i = 0; i < d->n_msgs; i++) {
		char *_cleanup_free_ s = diag_msg_format(&d->msgs[i]);

		if (d->msgs[i].severity == DIAG_WARNING && opts->quiet)
			continue;
		fprintf(stderr, "%s\n", s ? s : d->msgs[i].text);
	}
	if (d->n_errors > shown)
		fprintf(stderr, "error: %zu more errors not shown\n", d->n_errors - shown);
	if (json_doc && opts->output == OUTPUT_JSON && d->n_errors > 0)
		report_errors_json(d, stdout);
}

static int fail_with(const struct options *opts, struct diag *d, int r)
{
	print_diags(opts, d);
	diag_done(d);
	if (r == -ENOMEM)
		return EXIT_FAIL;
	return EXIT_INVALID;
}

static int load_manifests(const struct options *opts, int argc, char **argv,
			  struct manifest_set *set, struct desired *des, struct diag *d)
{
	int r;

	r = manifest_set_load(set, argv, (size_t)argc, d);
	if (r < 0)
		return r;
	return desired_build(set, !opts->no_objects, d, des);
}

static int cmd_validate(const struct options *opts, int argc, char **argv)
{
	struct manifest_set set = { 0 };
	struct desired des = { 0 };
	struct diag d = { 0 };
	int r;

	r = load_manifests(opts, argc, argv, &set, &des, &d);
	if (r < 0) {
		r = fail_with(opts, &d, r);
		goto out;
	}
	print_diags(opts, &d);
	if (!opts->quiet)
		report_validate(&set, &des, opts->output == OUTPUT_JSON, stdout);
	diag_done(&d);
	r = EXIT_OK;
out:
	desired_done(&des);
	manifest_set_done(&set);
	return r;
}

static int cmd_inspect(const struct options *opts, int argc, char **argv)
{
	struct diag d = { 0 };
	int status = EXIT_OK;

	for (int i = 0; i < argc; i++) {
		struct objfile *o = NULL;
		int r = objfile_open(argv[i], &d, &o);

		if (r < 0) {
			status = r == -EINVAL ? EXIT_INVALID : EXIT_FAIL;
			continue;
		}
		r = report_inspect(o, stdout, opts->output == OUTPUT_JSON);
		objfile_free(o);
		if (r < 0)
			status = EXIT_FAIL;
	}
	print_diags(opts, &d);
	diag_done(&d);
	return status;
}

/* --bpffs, else the manifests' own `bpffs` (which must agree), else the default. */
/* Two spellings of one existing directory. */
static bool same_dir(const char *a, const char *b)
{
	struct stat x, y;

	return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

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

/* Everything a plan needs, read in pipeline order. */
struct session {
	struct manifest_set set;
	struct desired des;
	struct observed obs;
	struct ledger ledger;
	struct plan plan;
	const char *root;
	char *resolved_root; /* root with its symlinks, "//" and "/./" resolved, when it exists */
	struct diag d;
	int lock_fd;
};

static void session_done(struct session *s)
{
	if (s->lock_fd > 0)
		close(s->lock_fd);
	plan_done(&s->plan);
	free(s->resolved_root);
	ledger_done(&s->ledger);
	observed_done(&s->obs);
	desired_done(&s->des);
	manifest_set_done(&s->set);
	diag_done(&s->d);
}

/* Returns an exit code: EXIT_OK when s->plan is ready, else the failure's. */
static int session_plan(const struct options *opts, int argc, char **argv, bool destroy,
			bool lock, struct session *s)
{
	bool empty = false;
	int r;

	r = load_manifests(opts, argc, argv, &s->set, &s->des, &s->d);
	if (r == 0)
		r = desired_resolve_owners(&s->des, &s->d);
	if (r == 0)
		r = pick_root(opts, &s->set, &s->d, &s->root);
	if (r < 0)
		return r == -ENOMEM ? EXIT_FAIL : EXIT_INVALID;
	/* From here on the input was valid: what fails is the system.  A run
	 * that changes the tree (lock) reads it under the lock, so the plan
	 * applied is the plan computed; the others change nothing. */
	if (check_bpffs(opts, s->root, !lock, &s->d, &empty) < 0)
		return EXIT_FAIL;
	/* One root however it is spelled: the tree is walked, and changed,
	 * under the path it resolves to. */
	s->resolved_root = realpath(s->root, NULL);
	if (s->resolved_root)
		s->root = s->resolved_root;
	if ((s->des.n_pins > 0 && loader_probe(&s->d) < 0) ||
	    (lock && ledger_lock(s->root, opts->lock_timeout, &s->d, &s->lock_fd) < 0) ||
	    desired_load_tags(&s->des, opts->verbose ? stderr : NULL, &s->d) < 0 ||
	    ledger_load(s->root, &s->d, &s->ledger) < 0 ||
	    (!empty && observed_scan(s->root, &s->d, &s->obs) < 0))
		return EXIT_FAIL;
	r = plan_build(&(struct plan_input){ .set = &s->set,
					     .desired = &s->des,
					     .observed = &s->obs,
					     .ledger = &s->ledger,
					     .destroy = destroy },
		       &s->plan);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}

static void write_metrics(const struct options *opts, struct session *s, bool dry_run, bool ok)
{
	if (opts->metrics_file && s->root)
		report_metrics(&s->plan, s->root, dry_run, ok, opts->metrics_file, &s->d);
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

static void progress(void *ctx, size_t done, size_t total);

/* Progress only for a person: a terminal on stderr, text output, not quiet. */
static bool show_progress(const struct options *opts);

/* The one executor over the plan's steps, for real or as a dry run. */
static int execute(const struct options *opts, struct session *s, bool destroy, bool dry_run,
		   struct sys *sys, enum apply_status *status)
{
	const char *trace = getenv("BPF_PROVISION_TRACE_STEPS");
	struct announcer a = { .plan = &s->plan,
			       .dry_run = dry_run,
			       .verbose = opts->verbose > 0 && !opts->quiet,
			       /* An absolute path: the steps are appended there, not to stderr. */
			       .trace = !trace ? NULL : trace[0] == '/' ? fopen(trace, "ae") : stderr };
	int r;

	r = apply_run(&(struct apply_input){ .root = s->root,
						.set = &s->set,
						.desired = &s->des,
						.plan = &s->plan,
						.observed = &s->obs,
						.ledger = &s->ledger,
						.destroy = destroy,
						.dry_run = dry_run,
						.verifier_log = opts->verbose ? stderr : NULL,
						.announce = a.trace || a.verbose ? announce : NULL,
						.progress = show_progress(opts) ? progress : NULL,
						.ctx = &a },
		      sys, &s->d, status);
	if (a.trace && a.trace != stderr)
		fclose(a.trace);
	return r;
}

static int run_plan(const struct options *opts, int argc, char **argv, bool destroy)
{
	struct session s = { 0 };
	int status = session_plan(opts, argc, argv, destroy, false, &s);
	_cleanup_free_ enum apply_status *st = NULL;

	if (status == EXIT_OK && !s.plan.n_refused) {
		st = calloc(s.plan.n + 1, sizeof(*st));
		if (!st || execute(opts, &s, destroy, true, NULL, st) < 0)
			status = EXIT_FAIL;
	}
	if (status == EXIT_OK) {
		if (report_plan(&s.plan, s.root, true, NULL, opts->output == OUTPUT_JSON, stdout) < 0)
			status = EXIT_FAIL;
		else
			status = plan_has_changes(&s.plan) ? EXIT_DRIFT : EXIT_OK;
	}
	write_metrics(opts, &s, true, status != EXIT_FAIL && status != EXIT_INVALID);
	print_diags(opts, &s.d);
	session_done(&s);
	return status;
}

static int cmd_plan(const struct options *opts, int argc, char **argv)
{
	return run_plan(opts, argc, argv, false);
}

static int run_apply(const struct options *opts, int argc, char **argv, bool destroy)
{
	struct session s = { 0 };
	_cleanup_free_ enum apply_status *status = NULL;
	bool printed = false;
	struct sys sys;
	int code, r;

	code = session_plan(opts, argc, argv, destroy, true, &s);
	if (code != EXIT_OK)
		goto out;
	status = calloc(s.plan.n + 1, sizeof(*status));
	if (!status) {
		code = EXIT_FAIL;
		goto out;
	}
	sys_init(&sys);
	r = execute(opts, &s, destroy, false, &sys, status);
	if (show_progress(opts) && s.plan.n)
		fputs("\r\033[K", stderr);
	code = r < 0 ? EXIT_FAIL : EXIT_OK;
	write_metrics(opts, &s, false, code == EXIT_OK);
	/* A failed apply's document carries each change's status; the errors
	 * themselves go to stderr. */
	if (r != -EPERM && !opts->quiet) {
		report_plan(&s.plan, s.root, false, status, opts->output == OUTPUT_JSON, stdout);
		printed = true;
	}
	if (getenv("BPF_PROVISION_TRACE_STEPS"))
		fprintf(stderr, "bpf-provision: %lu steps\n", sys.steps);
out:
	print_diags_doc(opts, &s.d, !printed);
	session_done(&s);
	return code;
}

static int cmd_apply(const struct options *opts, int argc, char **argv)
{
	return opts->dry_run ? run_plan(opts, argc, argv, false) : run_apply(opts, argc, argv, false);
}

static int cmd_destroy(const struct options *opts, int argc, char **argv)
{
	return opts->dry_run ? run_plan(opts, argc, argv, true) : run_apply(opts, argc, argv, true);
}

static int cmd_status(const struct options *opts, int argc, char **argv)
{
	struct session s = { 0 };
	int status = session_plan(opts, argc, argv, false, false, &s);

	print_diags(opts, &s.d);
	if (status == EXIT_OK &&
	    report_status(&s.obs, &s.des, &s.ledger, &s.plan, s.root, opts->output == OUTPUT_JSON,
			  stdout) < 0)
		status = EXIT_FAIL;
	session_done(&s);
	return status;
}

static const struct command commands[] = {
	{ "validate", "validate [--no-objects] MANIFEST...",
	  "check manifests and the ELF objects they name; touches no kernel state", cmd_validate,
	  false, true },
	{ "plan", "plan MANIFEST...", "same as 'apply --dry-run'", cmd_plan, false, true },
	{ "apply", "apply [--dry-run] MANIFEST...", "converge the bpffs tree to the manifests",
	  cmd_apply, true, true },
	{ "destroy", "destroy [--dry-run] MANIFEST...", "unpin everything the manifests own",
	  cmd_destroy, true, true },
	{ "status", "status [MANIFEST...]", "table of pins under the root and their state",
	  cmd_status, false, false },
	{ "inspect", "inspect OBJECT.o...",
	  "maps and programs in ELF objects with their pinning attributes and layout", cmd_inspect,
	  false, true },
};

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
	if (c->dry_run)
		printf("\n      --dry-run             show the plan, change nothing (exit 2 if "
		       "there is drift)\n");
	if (c->fn == cmd_validate)
		printf("\n      --no-objects          check the manifests only, without opening "
		       "their ELF objects\n");
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
};

static int parse_options(int argc, char **argv, struct options *opts, bool *version)
{
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
		{ 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "o:qvh", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_BPFFS:
			if (optarg[0] != '/') {
				fprintf(stderr, "bpf-provision: --bpffs needs an absolute path\n");
				return -EINVAL;
			}
			/* One spelling of the root: it names the ledger and shows in output. */
			for (size_t n = strlen(optarg); n > 1 && optarg[n - 1] == '/'; n--)
				optarg[n - 1] = '\0';
			opts->bpffs = optarg;
			break;
		case OPT_MOUNT:
			opts->mount = true;
			break;
		case 'o':
			if (strcmp(optarg, "text") == 0) {
				opts->output = OUTPUT_TEXT;
			} else if (strcmp(optarg, "json") == 0) {
				opts->output = OUTPUT_JSON;
			} else {
				fprintf(stderr, "bpf-provision: unknown output format '%s' "
						"(text or json)\n", optarg);
				return -EINVAL;
			}
			break;
		case 'q':
			opts->quiet = true;
			break;
		case 'v':
			opts->verbose++;
			break;
		case OPT_COLOR:
			if (strcmp(optarg, "auto") == 0) {
				opts->color = COLOR_AUTO;
			} else if (strcmp(optarg, "always") == 0) {
				opts->color = COLOR_ALWAYS;
			} else if (strcmp(optarg, "never") == 0) {
				opts->color = COLOR_NEVER;
			} else {
				fprintf(stderr, "bpf-provision: --color takes auto, always or never\n");
				return -EINVAL;
			}
			break;
		case OPT_LOCK_TIMEOUT:
			errno = 0;
			opts->lock_timeout = strtod(optarg, &end);
			/* nan and inf would wait forever: a boot must not hang. */
			if (errno || end == optarg || *end || !isfinite(opts->lock_timeout) ||
			    opts->lock_timeout < 0) {
				fprintf(stderr, "bpf-provision: --lock-timeout takes a finite number "
						"of seconds\n");
				return -EINVAL;
			}
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
		case OPT_METRICS_FILE:
			opts->metrics_file = optarg;
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

int main(int argc, char **argv)
{
	struct options opts = { .lock_timeout = 30 };
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
		usage(stderr);
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd) {
		fprintf(stderr, "bpf-provision: unknown command '%s'\nTry 'bpf-provision --help'.\n",
			argv[optind]);
		return EXIT_FAIL;
	}
	if (opts.help) {
		command_help(cmd);
		return EXIT_OK;
	}
	if (opts.dry_run && !cmd->dry_run) {
		fprintf(stderr, "bpf-provision: %s does not take --dry-run\n", cmd->name);
		return EXIT_FAIL;
	}
	if (opts.no_objects && cmd->fn != cmd_validate) {
		fprintf(stderr, "bpf-provision: only validate takes --no-objects\n");
		return EXIT_FAIL;
	}
	if (cmd->min_args && optind + 1 == argc) {
		fprintf(stderr, "Usage: bpf-provision [OPTIONS] %s\n", cmd->usage);
		return EXIT_FAIL;
	}
	return cmd->fn(&opts, argc - optind - 1, argv + optind + 1);
}
