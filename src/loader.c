// SPDX-License-Identifier: MIT
/* Loader: objfile -> kernel objects.  Legacy objects (gobpf, iproute2) get
 * bpf_map_create() and bpf_prog_load() with their ld_imm64 map relocations
 * patched to map fds and `.text` already linked by objfile.c, and their
 * slots filled as tc fills them; every other object is opened by libbpf from
 * the bytes objfile.c read, with the kept maps handed over as fds and
 * libbpf's pinning switched off.  Every call that makes or changes a kernel
 * object goes through sys.c, so that fault injection reaches each one. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cleanup.h"
#include "loader.h"

/* Large enough for the verifier's log of any program it rejects: a log cut
 * short makes the kernel answer ENOSPC instead of its reason.  Mapped, not
 * allocated, and only for loads of programs: the kernel writes it only on
 * a refusal, and untouched pages cost nothing (a malloc'ed one would be
 * charged whole under sanitizers). */
#define LOG_SIZE (16u << 20)

struct load {
	const struct objfile *of;
	const struct loader_job *job;
	struct sys *sys;
	struct diag *d;
	int *fds;     /* per map: in use for this load, or -1 */
	bool *own;    /* per map: made by this load */
	bool *need;   /* per map: this load needs it */
	bool *load;   /* per program: loaded by this load */
	int *prog_fds;
	char *log;
};

static const struct diag_loc *prog_loc(const struct load *l, size_t p)
{
	static const struct diag_loc none;

	if (l->job->prog_locs && l->job->prog_locs[p])
		return l->job->prog_locs[p];
	return &none;
}

/* The kernel keeps 15 bytes of a name, and only [A-Za-z0-9_.]. */
static void kernel_name(const char *name, char out[16])
{
	size_t o = 0;

	for (; *name && o < 15; name++)
		if ((*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z') ||
		    (*name >= '0' && *name <= '9') || *name == '_' || *name == '.')
			out[o++] = *name;
	out[o] = '\0';
}

static bool is_insn_line(const char *s)
{
	const char *p = s;

	while (*p >= '0' && *p <= '9')
		p++;
	return p > s && *p == ':';
}

/* The verifier's reason: the lines just before its closing "processed N
 * insns" statistics, up to the instruction they are about. */
static char *log_reason(const char *log)
{
	_cleanup_free_ char *copy = strdup(log);
	char *lines[4] = { 0 }, *end, *save = NULL;
	size_t n = 0;
	char *out = NULL;

	if (!copy)
		return NULL;
	/* Keep the last lines before "processed" (or before the end). */
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "processed ", 10) == 0)
			break;
		if (is_insn_line(line) || !*line) {
			n = 0;
			continue;
		}
		if (n == sizeof(lines) / sizeof(*lines)) {
			memmove(lines, lines + 1, (n - 1) * sizeof(*lines));
			n--;
		}
		lines[n++] = line;
	}
	if (n == 0)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		end = lines[i] + strlen(lines[i]);
		while (end > lines[i] && (end[-1] == ' ' || end[-1] == '\r'))
			*--end = '\0';
		if (asprintf(&end, "%s%s%s", out ? out : "", out ? "; " : "", lines[i]) < 0) {
			free(out);
			return NULL;
		}
		free(out);
		out = end;
	}
	return out;
}

/* A program the kernel refused: the verifier's words where it said any, so
 * that EACCES (the verifier's "no") never reads as a missing privilege. */
static int prog_refused(struct load *l, size_t p, int err)
{
	const struct objfile_prog *pr = &l->of->progs[p];
	const struct diag_loc *loc = prog_loc(l, p);
	_cleanup_free_ char *reason = l->log && *l->log ? log_reason(l->log) : NULL;
	struct diag_loc file = { .file = l->of->path };

	if (l->job->log && l->log && *l->log)
		fprintf(l->job->log, "verifier log of program '%s' (section '%s'):\n%s\n", pr->name,
			pr->section, l->log);
	if (reason)
		return diag_error(l->d, loc->file ? loc : &file,
				  "program '%s' (section '%s' of '%s'): the verifier rejected it: %s%s",
				  pr->name, pr->section, l->of->path, reason,
				  l->job->log ? "" : " (-v prints the whole log)"),
		       err;
	return diag_error(l->d, loc->file ? loc : &file,
			  "program '%s' (section '%s' of '%s'): %s: %s", pr->name, pr->section,
			  l->of->path,
			  err == -EMFILE || err == -ENFILE ? "cannot load it"
							    : "the kernel refused to load it",
			  DIAG_STRERROR(-err)),
	       err;
}

static int map_refused(struct load *l, size_t i, int err)
{
	const char *pin = l->job->map_pins ? l->job->map_pins[i] : NULL;

	return diag_error(l->d, &(struct diag_loc){ .file = l->of->path },
			  "map '%s'%s%s: %s: %s", l->of->maps[i].name, pin ? " for pin " : "",
			  pin ? pin : "",
			  err == -EMFILE || err == -ENFILE ? "cannot create it"
							    : "the kernel refused to create it",
			  DIAG_STRERROR(-err)),
	       err;
}

/* --- legacy objects -------------------------------------------------------- */

static int create_map(struct load *l, size_t i)
{
	const struct objfile_map *m = &l->of->maps[i];
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = m->flags);
	_cleanup_close_ int template = -1;
	char name[16];
	int fd;

	if (objfile_is_map_in_map(m->type)) {
		size_t in = (size_t)m->inner_map;

		if (m->inner_map < 0 || objfile_is_map_in_map(l->of->maps[in].type))
			return diag_error(l->d, &(struct diag_loc){ .file = l->of->path },
					  "map '%s': map-in-map without a usable inner map", m->name);
		/* The inner map itself when this load has it, else a template
		 * made for the purpose, as tc does. */
		if (l->fds[in] < 0) {
			LIBBPF_OPTS(bpf_map_create_opts, iopts, .map_flags = l->of->maps[in].flags);

			/* Gone when the load returns: no step of the run. */
			template = sys_map_create(NULL, l->of->maps[in].type, NULL,
						  l->of->maps[in].key_size,
						  l->of->maps[in].value_size,
						  l->of->maps[in].max_entries, &iopts);
			if (template < 0)
				return map_refused(l, in, template);
		}
		opts.inner_map_fd = l->fds[in] >= 0 ? l->fds[in] : template;
	}
	kernel_name(m->name, name);
	fd = sys_map_create(l->sys, m->type, name, m->key_size, m->value_size, m->max_entries,
			    &opts);
	if (fd < 0)
		return map_refused(l, i, fd);
	l->fds[i] = fd;
	l->own[i] = true;
	return 0;
}

/* Program p as its loader hands it to the kernel: its map loads marked as
 * such, with the fds of its maps (NULL: 0s).  NULL without memory. */
static struct bpf_insn *legacy_insns(const struct objfile_prog *p, const int *fds)
{
	struct bpf_insn *insns = malloc((p->n_insns ? p->n_insns : 1) * sizeof(*insns));

	if (!insns)
		return NULL;
	memcpy(insns, p->insns, p->n_insns * sizeof(*insns));
	for (size_t r = 0; r < p->n_relocs; r++) {
		insns[p->relocs[r].insn].src_reg = BPF_PSEUDO_MAP_FD;
		insns[p->relocs[r].insn].imm = fds ? fds[p->relocs[r].map] : 0;
	}
	return insns;
}

static int load_legacy_prog(struct load *l, size_t pi)
{
	const struct objfile *of = l->of;
	const struct objfile_prog *p = &of->progs[pi];
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .kern_version = objfile_kern_version(of),
		    .expected_attach_type = p->expected_attach, .log_buf = l->log,
		    .log_size = l->log ? LOG_SIZE : 0);
	_cleanup_free_ struct bpf_insn *insns = legacy_insns(p, l->fds);
	char name[16];
	int fd;

	if (!insns)
		return -ENOMEM;
	if (l->log)
		l->log[0] = '\0';
	kernel_name(p->name, name);
	fd = sys_prog_load(l->sys, p->type, name, of->license ? of->license : "", insns,
			   p->n_insns, &opts);
	if (fd < 0)
		return prog_refused(l, pi, fd);
	l->prog_fds[pi] = fd;
	return 0;
}

/* Marks what the load needs: the wanted programs' maps, and the programs
 * and maps that the slots of those maps name, until nothing new comes. */
static void legacy_closure(struct load *l)
{
	const struct objfile *of = l->of;
	bool more = true;

	for (size_t i = 0; i < of->n_maps; i++)
		l->need[i] = (l->job->make && l->job->make[i]) || l->fds[i] >= 0;
	for (size_t p = 0; p < of->n_progs; p++)
		l->load[p] = l->job->want[p];
	while (more) {
		more = false;
		for (size_t p = 0; p < of->n_progs; p++)
			for (size_t r = 0; l->load[p] && r < of->progs[p].n_relocs; r++)
				if (!l->need[of->progs[p].relocs[r].map])
					more = l->need[of->progs[p].relocs[r].map] = true;
		for (size_t i = 0; i < of->n_maps; i++) {
			/* A map-in-map is filled only when made; tail calls always. */
			bool made = l->fds[i] < 0;

			for (size_t s = 0; l->need[i] && s < of->maps[i].n_slots; s++) {
				const struct objfile_slot *sl = &of->maps[i].slots[s];

				if (sl->is_prog && !l->load[sl->index])
					more = l->load[sl->index] = true;
				else if (!sl->is_prog && made && !l->need[sl->index])
					more = l->need[sl->index] = true;
			}
		}
	}
}

static int write_slot(struct load *l, size_t i, const struct objfile_slot *sl)
{
	uint32_t key = sl->key;
	int value = sl->is_prog ? l->prog_fds[sl->index] : l->fds[sl->index];
	int err;

	if (!l->own[i] && l->job->kept_slot) {
		err = l->job->kept_slot(l->job->ctx, i, l->fds[i], key);
		if (err < 0)
			return err;
	}
	err = sys_map_update(l->sys, l->fds[i], &key, &value, BPF_ANY);
	if (err < 0)
		return diag_error(l->d, &(struct diag_loc){ .file = l->of->path },
				  "map '%s': cannot put %s '%s' at slot %u: %s", l->of->maps[i].name,
				  sl->is_prog ? "program" : "map",
				  sl->is_prog ? l->of->progs[sl->index].name
					      : l->of->maps[sl->index].name,
				  key, DIAG_STRERROR(-err)),
		       err;
	return 0;
}

static int load_legacy(struct load *l)
{
	const struct objfile *of = l->of;
	int err = 0;

	legacy_closure(l);
	/* Plain maps first: a map-in-map is made with its inner map. */
	for (int pass = 0; pass < 2 && !err; pass++)
		for (size_t i = 0; i < of->n_maps && !err; i++)
			if (l->need[i] && l->fds[i] < 0 &&
			    objfile_is_map_in_map(of->maps[i].type) == pass)
				err = create_map(l, i);
	for (size_t p = 0; p < of->n_progs && !err; p++)
		if (l->load[p])
			err = load_legacy_prog(l, p);
	for (size_t i = 0; i < of->n_maps && !err; i++)
		for (size_t s = 0; l->need[i] && s < of->maps[i].n_slots && !err; s++)
			if (of->maps[i].slots[s].is_prog || l->own[i])
				err = write_slot(l, i, &of->maps[i].slots[s]);
	return err;
}

/* --- libbpf objects -------------------------------------------------------- */

/* libbpf says which program or map failed only through its print callback,
 * a process-wide hook: the load records its last words here.  Per thread,
 * and only while a load runs. */
static __thread char last_warning[512];

static int record_warning(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[sizeof(last_warning)];
	const char *text;

	if (level != LIBBPF_WARN)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	text = strncmp(line, "libbpf: ", 8) == 0 ? line + 8 : line;
	/* Keep the first line that names a program or a map: the cause. */
	if (!last_warning[0] && (strncmp(text, "prog '", 6) == 0 || strncmp(text, "map '", 5) == 0))
		snprintf(last_warning, sizeof(last_warning), "%s", text);
	return 0;
}

/* The name in "prog 'NAME': ..." or "map 'NAME': ...", or NULL. */
static char *warned_name(const char *prefix)
{
	size_t n = strlen(prefix);
	const char *end;

	if (strncmp(last_warning, prefix, n) != 0 || !(end = strchr(last_warning + n, '\'')))
		return NULL;
	return strndup(last_warning + n, (size_t)(end - last_warning - n));
}

static int libbpf_refused(struct load *l, int err)
{
	_cleanup_free_ char *prog = warned_name("prog '");
	_cleanup_free_ char *map = warned_name("map '");
	const struct objfile_prog *p = prog ? objfile_prog_by_name(l->of, prog) : NULL;
	const struct objfile_map *m = map ? objfile_map_by_name(l->of, map) : NULL;
	char msg[128];
	char *nl;

	if (p && ((l->log && l->log[0]) || err != -EINVAL))
		return prog_refused(l, (size_t)(p - l->of->progs), err);
	if (m && strstr(last_warning, "failed to create"))
		return map_refused(l, (size_t)(m - l->of->maps), err);
	nl = strchr(last_warning, '\n');
	if (nl)
		*nl = '\0';
	libbpf_strerror(-err, msg, sizeof(msg));
	return diag_error(l->d, &(struct diag_loc){ .file = l->of->path },
			  "libbpf cannot load the object: %s%s%s",
			  err == -EMFILE || err == -ENFILE ? DIAG_STRERROR(-err) : msg,
			  last_warning[0] ? ": " : "", last_warning),
	       err;
}

/* Before libbpf writes a reused prog array's `.values` slots. */
static int announce_kept_slots(struct load *l, size_t i)
{
	for (size_t s = 0; l->job->kept_slot && s < l->of->maps[i].n_slots; s++) {
		int err;

		if (!l->of->maps[i].slots[s].is_prog)
			continue;
		err = l->job->kept_slot(l->job->ctx, i, l->fds[i], l->of->maps[i].slots[s].key);
		if (err < 0)
			return err;
	}
	return 0;
}

static int setup_libbpf(struct load *l, struct bpf_object *obj)
{
	const struct objfile *of = l->of;
	struct bpf_program *prog;
	struct bpf_map *map;
	int err;

	for (size_t p = 0; p < of->n_progs; p++)
		l->load[p] = l->job->want[p];
	/* libbpf fills every prog array's `.values` slots, so their programs
	 * must be loaded too. */
	for (size_t i = 0; i < of->n_maps; i++)
		for (size_t s = 0; s < of->maps[i].n_slots; s++)
			if (of->maps[i].slots[s].is_prog)
				l->load[of->maps[i].slots[s].index] = true;
	bpf_object__for_each_map(map, obj) {
		const struct objfile_map *m = objfile_map_by_name(of, bpf_map__name(map));
		size_t i;

		/* libbpf would pin LIBBPF_PIN_BY_NAME maps itself: pinning is ours. */
		bpf_map__set_pin_path(map, NULL);
		if (!m || bpf_map__is_internal(map))
			continue;
		i = (size_t)(m - of->maps);
		if (bpf_map__key_size(map) != m->key_size)
			bpf_map__set_key_size(map, m->key_size);
		if (bpf_map__value_size(map) != m->value_size)
			bpf_map__set_value_size(map, m->value_size);
		if (l->fds[i] < 0)
			continue;
		err = bpf_map__reuse_fd(map, l->fds[i]);
		if (err < 0)
			return diag_error(l->d, &(struct diag_loc){ .file = of->path },
					  "map '%s': cannot reuse the pinned map: %s", m->name,
					  DIAG_STRERROR(-err)),
			       err;
		err = m->type == BPF_MAP_TYPE_PROG_ARRAY ? announce_kept_slots(l, i) : 0;
		if (err < 0)
			return err;
	}
	bpf_object__for_each_program(prog, obj) {
		const struct objfile_prog *p = objfile_prog_by_name(of, bpf_program__name(prog));
		bool load = p && l->load[p - of->progs];

		bpf_program__set_autoload(prog, load);
		if (!load)
			continue;
		if (p->type != bpf_program__type(prog))
			bpf_program__set_type(prog, p->type);
		if (p->expected_attach != bpf_program__expected_attach_type(prog))
			bpf_program__set_expected_attach_type(prog, p->expected_attach);
		/* libbpf loads with no log first and retries into this one only
		 * when the verifier refuses; one buffer serves every program. */
		if (l->log)
			bpf_program__set_log_buf(prog, l->log, LOG_SIZE);
	}
	return 0;
}

/* The object opened by libbpf and set up for l's load, into *objp. */
static int open_libbpf(struct load *l, struct bpf_object **objp)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = l->of->path);
	struct bpf_object *obj = bpf_object__open_mem(l->of->bytes, l->of->size, &opts);
	int err;

	if (!obj) {
		char msg[128];

		libbpf_strerror(errno ? errno : EINVAL, msg, sizeof(msg));
		return diag_error(l->d, &(struct diag_loc){ .file = l->of->path },
				  "libbpf cannot open the object: %s", msg),
		       -EINVAL;
	}
	err = setup_libbpf(l, obj);
	if (err < 0) {
		bpf_object__close(obj);
		return err;
	}
	*objp = obj;
	return 0;
}

/* bpf_object__load(), its warnings recorded in last_warning. */
static int object_load(struct load *l, struct bpf_object *obj)
{
	libbpf_print_fn_t old_print;
	int err;

	last_warning[0] = '\0';
	old_print = libbpf_set_print(record_warning);
	err = sys_object_load(l->sys, obj);
	libbpf_set_print(old_print);
	return err;
}

static int load_libbpf(struct load *l)
{
	const struct objfile *of = l->of;
	struct bpf_object *obj = NULL;
	int err = open_libbpf(l, &obj);

	if (err < 0)
		return err;
	err = object_load(l, obj);
	if (err < 0 && sys_injected(l->sys)) {
		diag_error(l->d, &(struct diag_loc){ .file = of->path },
			   "the kernel refused to load the object: %s", DIAG_STRERROR(-err));
		goto out;
	}
	if (err < 0) {
		err = libbpf_refused(l, err);
		goto out;
	}
	/* Hand back what was asked for; libbpf closes the rest with obj. */
	for (size_t i = 0; i < of->n_maps && err == 0; i++) {
		struct bpf_map *map;

		if (!l->job->make || !l->job->make[i])
			continue;
		map = bpf_object__find_map_by_name(obj, of->maps[i].name);
		l->fds[i] = map ? fcntl(bpf_map__fd(map), F_DUPFD_CLOEXEC, 3) : -1;
		if (l->fds[i] < 0)
			err = diag_error(l->d, &(struct diag_loc){ .file = of->path },
					 "map '%s': cannot keep it: %s", of->maps[i].name,
					 map ? DIAG_STRERROR(errno) : "not created");
		l->own[i] = l->fds[i] >= 0;
	}
	for (size_t p = 0; p < of->n_progs && err == 0; p++) {
		struct bpf_program *prog;

		if (!l->job->want[p])
			continue;
		prog = bpf_object__find_program_by_name(obj, of->progs[p].name);
		l->prog_fds[p] = prog ? fcntl(bpf_program__fd(prog), F_DUPFD_CLOEXEC, 3) : -1;
		if (l->prog_fds[p] < 0)
			err = diag_error(l->d, &(struct diag_loc){ .file = of->path },
					 "program '%s': cannot keep it: %s", of->progs[p].name,
					 prog ? DIAG_STRERROR(errno) : "not loaded");
	}
out:
	bpf_object__close(obj);
	return err;
}

/* Whether the load may load a program: a wanted one, or one that a slot
 * names (tail calls, prog array `.values`). */
static bool loads_programs(const struct objfile *of, const struct loader_job *job)
{
	for (size_t p = 0; p < of->n_progs; p++)
		if (job->want[p])
			return true;
	for (size_t i = 0; i < of->n_maps; i++)
		for (size_t s = 0; s < of->maps[i].n_slots; s++)
			if (of->maps[i].slots[s].is_prog)
				return true;
	return false;
}

/* l's arrays, every map fd job->map_fds's or -1.  Returns 0 or -ENOMEM. */
static int load_begin(struct load *l)
{
	size_t nm = l->of->n_maps + 1, np = l->of->n_progs + 1;

	l->fds = malloc(nm * sizeof(*l->fds));
	l->own = calloc(nm, sizeof(*l->own));
	l->need = calloc(nm, sizeof(*l->need));
	l->load = calloc(np, sizeof(*l->load));
	if (!l->fds || !l->own || !l->need || !l->load)
		return -ENOMEM;
	for (size_t i = 0; i < l->of->n_maps; i++)
		l->fds[i] = l->job->map_fds ? l->job->map_fds[i] : -1;
	return 0;
}

static void load_end(struct load *l)
{
	free(l->fds);
	free(l->own);
	free(l->need);
	free(l->load);
	if (l->log)
		munmap(l->log, LOG_SIZE);
}

int loader_load(const struct objfile *of, const struct loader_job *job, struct sys *sys,
		struct diag *d, int *prog_fds)
{
	struct load l = { .of = of, .job = job, .sys = sys, .d = d, .prog_fds = prog_fds };
	int err;

	for (size_t p = 0; p < of->n_progs; p++)
		prog_fds[p] = -1;
	err = load_begin(&l);
	if (err < 0)
		goto out;
	if (loads_programs(of, job)) {
		l.log = mmap(NULL, LOG_SIZE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (l.log == MAP_FAILED) {
			l.log = NULL;
			err = -ENOMEM;
			goto out;
		}
	}
	err = of->libbpf ? load_libbpf(&l) : load_legacy(&l);
	for (size_t i = 0; i < of->n_maps; i++) {
		if (!l.own[i])
			continue;
		if (err == 0 && job->make && job->make[i])
			job->map_fds[i] = l.fds[i];
		else
			close(l.fds[i]);
	}
	/* Programs loaded only for slots live on in their prog arrays. */
	for (size_t p = 0; p < of->n_progs; p++)
		if (prog_fds[p] >= 0 && (err < 0 || !job->want[p])) {
			close(prog_fds[p]);
			prog_fds[p] = -1;
		}
out:
	load_end(&l);
	return err;
}

/* A program flag no kernel knows: refused (EINVAL) before the verifier
 * runs. */
#define UNKNOWN_PROG_FLAG (1u << 31)

/* Whether libbpf stopped at the kernel's refusal of that flag: it names
 * the program the kernel refused, the first it loads. */
static bool stopped_at_load(int err)
{
	return err == 0 ||
	       (err == -EINVAL && strncmp(last_warning, "prog '", 6) == 0 &&
		strstr(last_warning, "': BPF program load failed: "));
}

/* libbpf relocates every program it will load - subprograms appended,
 * CO-RE against the kernel's BTF, map loads - before it loads the first;
 * that load is refused by UNKNOWN_PROG_FLAG and the relocated instructions
 * read back.  (libbpf 1.6's bpf_object__prepare() stops there itself;
 * Debian 12 has 1.1.) */
static int libbpf_insns(struct load *l, struct bpf_insn **insns, size_t *n_insns)
{
	struct bpf_object *obj = NULL;
	struct bpf_program *prog;
	int err = open_libbpf(l, &obj);

	if (err < 0)
		return err == -ENOMEM ? err : -EAGAIN;
	bpf_object__for_each_program(prog, obj)
		bpf_program__set_flags(prog, bpf_program__flags(prog) | UNKNOWN_PROG_FLAG);
	err = object_load(l, obj);
	err = stopped_at_load(err) ? 0 : -EAGAIN;
	for (size_t p = 0; p < l->of->n_progs && err == 0; p++) {
		if (!l->job->want[p])
			continue;
		prog = bpf_object__find_program_by_name(obj, l->of->progs[p].name);
		if (!prog || !bpf_program__insns(prog)) {
			err = -EAGAIN;
			break;
		}
		n_insns[p] = bpf_program__insn_cnt(prog);
		insns[p] = malloc((n_insns[p] + 1) * sizeof(**insns));
		if (!insns[p])
			err = -ENOMEM;
		else
			memcpy(insns[p], bpf_program__insns(prog), n_insns[p] * sizeof(**insns));
	}
	bpf_object__close(obj);
	return err;
}

int loader_insns(const struct objfile *of, const bool *want, struct bpf_insn **insns,
		 size_t *n_insns)
{
	struct diag quiet = { 0 };
	struct load l = { .of = of, .job = &(struct loader_job){ .want = want }, .d = &quiet };
	int err = load_begin(&l);

	for (size_t p = 0; p < of->n_progs; p++) {
		insns[p] = NULL;
		n_insns[p] = 0;
	}
	if (err == 0 && of->libbpf)
		err = libbpf_insns(&l, insns, n_insns);
	for (size_t p = 0; err == 0 && !of->libbpf && p < of->n_progs; p++) {
		if (!want[p])
			continue;
		insns[p] = legacy_insns(&of->progs[p], NULL);
		n_insns[p] = of->progs[p].n_insns;
		err = insns[p] ? 0 : -ENOMEM;
	}
	for (size_t p = 0; err < 0 && p < of->n_progs; p++) {
		free(insns[p]);
		insns[p] = NULL;
	}
	load_end(&l);
	diag_done(&quiet);
	return err;
}

int loader_probe(struct diag *d)
{
	/* The kernel's call, not libbpf's bpf_map_create(): libbpf's first map
	 * also loads a program to probe the kernel's memory accounting, which
	 * a plan that makes nothing need not pay.  Closed at once: no step of
	 * the run. */
	union bpf_attr attr = { .map_type = BPF_MAP_TYPE_ARRAY,
				.key_size = 4,
				.value_size = 4,
				.max_entries = 1 };
	int fd = (int)syscall(__NR_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	fd = -errno;
	return diag_error(d, NULL,
			  "the kernel refuses to create BPF objects for this process (%s): "
			  "plan and apply need CAP_BPF (run them as root)",
			  DIAG_STRERROR(-fd)),
	       fd;
}
