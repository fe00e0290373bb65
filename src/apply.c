// SPDX-License-Identifier: MIT
/* Apply stage: plan -> changes on the live bpffs tree.  Maps first (programs
 * need their fds), then programs, attribute updates, deletes (children first),
 * and the tool's own empty directories; the ledger is written last.  Each
 * state change goes through sys.c and leaves an undo record; a failure
 * anywhere undoes them all in reverse, so the tree is as it was. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "apply.h"
#include "array.h"
#include "cleanup.h"
#include "loader.h"

#define DEFAULT_PIN_MODE 0600
#define DEFAULT_DIR_MODE 0700

/* Old pins are never unlinked during the transaction: they are exchanged
 * or moved aside into a trash directory of this run, keeping their inode,
 * mode and owner, and unlinked only once the new ledger is written. */
enum undo_kind {
	UNDO_UNLINK,    /* a pin we placed: unlink it */
	UNDO_EXCHANGE,  /* new pin at path, old one at aside: exchange back, unlink aside */
	UNDO_MOVE_BACK, /* a pin we moved from path to aside: move it back */
	UNDO_ATTRS,     /* mode/owner we changed: set them back */
	UNDO_RMDIR,     /* a directory we made */
	UNDO_MKDIR,     /* a directory we removed */
	UNDO_SLOT,      /* a slot of a kept prog array we wrote: put back old_fd (or empty it) */
};

struct undo {
	enum undo_kind kind;
	char *path;  /* relative to the root, as every path here */
	char *aside; /* EXCHANGE, MOVE_BACK: where the old pin is */
	int fd;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	uint32_t key; /* SLOT: in the map fd, the program old_fd was there (-1: none) */
	int old_fd;
};

struct txn {
	const struct apply_input *in;
	struct sys *sys;
	struct sys quiet; /* for undo and read-back: no fault injected, no pause */
	struct diag *d;
	struct undo *steps;
	size_t n;
	unsigned long tmp_seq;
	char *trash; /* this run's directory for old pins, once made */
	bool intent_saved;
	bool ledger_existed; /* before the intent was saved */
	const char **status;
	ssize_t *pin_change;  /* per desired pin: index of its change in the plan, or -1 */
	struct placed {
		ino_t ino;
		uint32_t id;
	} *placed; /* per desired pin: what this run pinned there, once it did */
	char run[48]; /* this run's token: names its temporary pins and trash */
	size_t n_done;
	struct ledger ledger; /* the new ledger, saved at the end */
	const char **slot_paths; /* during a load: the pin of each kept map, for undo records */
	/* Per object, its pins (indexes in desired.pins) as a list threaded
	 * through pin_next[], in declaration order; SIZE_MAX ends it. */
	size_t *obj_first, *pin_next;
};

static char *abs_path(const char *root, const char *rel)
{
	char *s;

	return asprintf(&s, "%s/%s", root, rel) < 0 ? NULL : s;
}

static int push(struct txn *t, struct undo u)
{
	bool needs_aside = u.kind == UNDO_EXCHANGE || u.kind == UNDO_MOVE_BACK;

	if (!u.path || (needs_aside && !u.aside) ||
	    array_reserve(&t->steps, t->n, sizeof(*t->steps)) < 0) {
		free(u.path);
		free(u.aside);
		if (u.fd >= 0)
			close(u.fd);
		if (u.kind == UNDO_SLOT && u.old_fd >= 0)
			close(u.old_fd);
		return -ENOMEM;
	}
	t->steps[t->n++] = u;
	return 0;
}

static void undo_free(struct undo *u)
{
	free(u->path);
	free(u->aside);
	if (u->fd >= 0)
		close(u->fd);
	if (u->kind == UNDO_SLOT && u->old_fd >= 0)
		close(u->old_fd);
}

/* Reports err about path (relative), shown under the root.  A symlink met
 * where the plan saw none, or another object at a pin, means the tree
 * changed since the plan was made. */
static int fail(struct txn *t, const char *path, const char *what, int err)
{
	_cleanup_free_ char *shown = abs_path(t->in->root, path);
	const char *why = err == -ELOOP	   ? "a symlink is in the way (the tree changed since the plan)"
			  : err == -ESTALE || err == -EEXIST
				  ? "another object is there (the tree changed since the plan)"
					   : DIAG_STRERROR(-err);

	diag_error(t->d, &(struct diag_loc){ .file = shown ? shown : path }, "%s: %s", what, why);
	return err;
}

/* The record of a directory the tool made: known by its inode. */
static int record_dir(struct ledger *l, const char *path, const char *manifest, ino_t ino)
{
	return ledger_put(l, &(struct ledger_entry){ .path = (char *)path,
						     .manifest = (char *)manifest,
						     .is_dir = true,
						     .ino = ino });
}

/* A directory made again by the rollback has a new inode: the ledger put
 * back (the one loaded) records that one, so it stays the tool's. */
static int rerecord_dir(struct txn *t, const char *path)
{
	const struct ledger_entry *e = ledger_find(t->in->ledger, path);
	struct stat st;
	int r;

	if (!e || !e->is_dir)
		return 0;
	r = sys_stat(&t->quiet, path, &st);
	if (r < 0)
		return r;
	return record_dir(t->in->ledger, path, e->manifest, st.st_ino);
}

/* Undo runs without fault injection: a test injects into the apply, not
 * into its repair.  A failing undo is reported; the rest still runs.
 * Returns how many failed. */
static size_t rollback(struct txn *t)
{
	struct sys *q = &t->quiet;
	size_t failed = 0;

	for (size_t i = t->n; i-- > 0;) {
		struct undo *u = &t->steps[i];
		int r = 0;

		switch (u->kind) {
		case UNDO_UNLINK:
			r = sys_unlink(q, u->path);
			break;
		case UNDO_EXCHANGE:
			r = sys_exchange(q, u->aside, u->path) ?: sys_unlink(q, u->aside);
			break;
		case UNDO_MOVE_BACK:
			r = sys_rename(q, u->aside, u->path);
			break;
		case UNDO_ATTRS:
			r = sys_chmod(q, u->path, u->mode) ?: sys_chown(q, u->path, u->uid, u->gid);
			break;
		case UNDO_RMDIR:
			r = sys_rmdir(q, u->path);
			break;
		case UNDO_MKDIR:
			r = sys_mkdir(q, u->path, u->mode) ?: sys_chmod(q, u->path, u->mode);
			if (r == 0)
				r = rerecord_dir(t, u->path);
			break;
		case UNDO_SLOT:
			r = u->old_fd >= 0 ? sys_map_update(q, u->fd, &u->key, &u->old_fd, BPF_ANY)
					   : sys_map_delete(q, u->fd, &u->key);
			break;
		}
		if (r < 0) {
			fail(t, u->path, "rollback incomplete: cannot undo this step", r);
			failed++;
		}
	}
	return failed;
}

static void done(struct txn *t, size_t ci)
{
	t->status[ci] = "done";
	t->n_done++;
	if (t->in->progress)
		t->in->progress(t->in->progress_ctx, t->n_done, t->in->plan->n);
}

static int fail_ledger(struct txn *t, int err)
{
	diag_error(t->d, &(struct diag_loc){ .file = t->ledger.file }, "cannot write the ledger: %s",
		   DIAG_STRERROR(-err));
	return err;
}

/* Makes the missing parents of rel, each with mode. */
static int ensure_parents(struct txn *t, const char *rel, mode_t mode, const char *manifest)
{
	_cleanup_free_ char *path = strdup(rel);
	int r;

	if (!path)
		return -ENOMEM;
	for (char *slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/')) {
		struct stat st;

		*slash = '\0';
		if (sys_stat(t->sys, path, &st) == 0) {
			if (!S_ISDIR(st.st_mode)) {
				*slash = '/';
				return fail(t, path, "a parent of the pin is not a directory",
					    S_ISLNK(st.st_mode) ? -ELOOP : -ENOTDIR);
			}
			*slash = '/';
			continue;
		}
		r = sys_mkdir(t->sys, path, mode);
		if (r < 0)
			return fail(t, path, "cannot create directory", r);
		r = push(t, (struct undo){ .kind = UNDO_RMDIR, .path = strdup(path), .fd = -1 });
		if (r < 0)
			return r;
		/* Exactly the declared mode, whatever the umask. */
		r = sys_chmod(t->sys, path, mode);
		if (r < 0)
			return fail(t, path, "cannot set the directory's mode", r);
		/* Its identity replaces the intent's promise to make it. */
		r = sys_stat(&t->quiet, path, &st);
		if (r < 0)
			return fail(t, path, "cannot read back the directory", r);
		r = record_dir(&t->ledger, path, manifest, st.st_ino);
		*slash = '/';
		if (r < 0)
			return r;
	}
	return 0;
}

/* Whether the entry at path is still the pin of inode ino that the plan
 * saw: -ELOOP for a symlink, -ESTALE for another object. */
static int same_pin(struct txn *t, const char *path, ino_t ino)
{
	struct stat st;
	int r = sys_stat(&t->quiet, path, &st);

	if (r < 0)
		return r;
	return S_ISLNK(st.st_mode) ? -ELOOP : st.st_ino != ino ? -ESTALE : 0;
}

/* After the rename that moved the pin planned at path to aside: is it
 * still the object the plan saw?  If not, the undo moves it back. */
static int check_moved(struct txn *t, const char *path, const char *aside, ino_t ino)
{
	int r = same_pin(t, aside, ino);

	return r < 0 ? fail(t, path, "cannot unpin", r) : 0;
}

/* Moves the pin at path, the object of inode ino, into this run's trash
 * directory, made on first use at the root, where it waits for the commit. */
static int move_aside(struct txn *t, const char *path, ino_t ino)
{
	_cleanup_free_ char *aside = NULL;
	int r;

	if (!t->trash) {
		if (asprintf(&t->trash, PLAN_TEMP_PREFIX "trash_%s", t->run) < 0)
			return -ENOMEM;
		r = sys_mkdir(t->sys, t->trash, 0700);
		if (r < 0)
			return fail(t, t->trash, "cannot create the trash directory", r);
		r = push(t, (struct undo){ .kind = UNDO_RMDIR, .path = strdup(t->trash), .fd = -1 });
		if (r < 0)
			return r;
	}
	if (asprintf(&aside, "%s/%lu", t->trash, t->tmp_seq++) < 0)
		return -ENOMEM;
	r = sys_rename(t->sys, path, aside);
	if (r < 0)
		return fail(t, path, "cannot move the old pin aside", r);
	r = push(t, (struct undo){ .kind = UNDO_MOVE_BACK,
				   .path = strdup(path),
				   .aside = strdup(aside),
				   .fd = -1 });
	return r ?: check_moved(t, path, aside, ino);
}

/* The identity of the pin this run made for w, for the ledger: its inode
 * (kept by the rename into place) and the kernel object's id. */
static int remember(struct txn *t, const struct desired_pin *w, const char *tmp, int fd)
{
	struct bpf_prog_info info = { 0 }; /* large enough for map and link info */
	__u32 len = sizeof(info);
	struct stat st;
	int r = sys_stat(&t->quiet, tmp, &st);

	if (r == 0 && bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		r = -errno;
	if (r == 0)
		t->placed[w - t->in->desired->pins] = (struct placed){ st.st_ino, info.id };
	return r;
}

/* Pins fd under a temporary name beside its place, gives it its mode and
 * owner, and renames it into place; when something is there (old, the
 * object a replace is planned for), the two are exchanged atomically and
 * the old one moved aside. */
static int place(struct txn *t, const struct desired_pin *w, int fd,
		 const struct observed_entry *old)
{
	_cleanup_free_ char *path = strdup(w->path);
	_cleanup_free_ char *tmp = NULL;
	const char *slash = strrchr(w->path, '/');
	int dir_len = slash ? (int)(slash - w->path + 1) : 0;
	mode_t mode = w->attrs->mode >= 0 ? (mode_t)w->attrs->mode : DEFAULT_PIN_MODE;
	bool replace = old != NULL;
	struct undo *u;
	int r;

	if (!path)
		return -ENOMEM;
	if (asprintf(&tmp, "%.*s" PLAN_TEMP_PREFIX "%s_%lu", dir_len, w->path, t->run,
		     t->tmp_seq++) < 0)
		return -ENOMEM;
	r = sys_obj_pin(t->sys, fd, tmp);
	if (r < 0)
		return fail(t, path, "cannot pin", r);
	r = push(t, (struct undo){ .kind = UNDO_UNLINK, .path = strdup(tmp), .fd = -1 });
	if (r < 0)
		return r;
	r = remember(t, w, tmp, fd);
	if (r < 0)
		return fail(t, path, "cannot read back the pin", r);
	r = sys_chmod(t->sys, tmp, mode);
	if (r == 0 && (w->uid >= 0 || w->gid >= 0))
		r = sys_chown(t->sys, tmp, (uid_t)w->uid, (gid_t)w->gid);
	if (r < 0)
		return fail(t, path, "cannot set mode or owner", r);
	r = replace ? sys_exchange(t->sys, tmp, path) : sys_rename(t->sys, tmp, path);
	if (r < 0)
		return fail(t, path, "cannot rename into place", r);
	/* What is left to undo is the placement (and, for a replace, the swap). */
	u = &t->steps[t->n - 1];
	free(u->path);
	*u = (struct undo){ .kind = replace ? UNDO_EXCHANGE : UNDO_UNLINK,
			    .path = TAKE_PTR(path),
			    .aside = replace ? strdup(tmp) : NULL,
			    .fd = -1 };
	if (!replace)
		return 0;
	r = check_moved(t, w->path, tmp, old->ino);
	return r ?: move_aside(t, tmp, old->ino);
}

static size_t value_bytes(uint32_t type, uint32_t value_size)
{
	switch (type) {
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
	case BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE:
		return ((value_size + 7) & ~7u) * (size_t)libbpf_num_possible_cpus();
	default:
		return value_size;
	}
}

#define MIGRATE_BATCH 256

/* Reads entries in batches where the kernel has batch ops (hash and array
 * maps since 5.6).  Returns the number read into keys/vals, 0 at the end,
 * -EOPNOTSUPP when the map has no batch ops, or another negative errno. */
static int read_batch(int fd, void *token, bool *first, void *keys, void *vals)
{
	__u32 count = MIGRATE_BATCH;
	int r;

	r = bpf_map_lookup_batch(fd, *first ? NULL : token, token, keys, vals, &count, NULL);
	if (r < 0 && errno != ENOENT)
		return errno == EINVAL || errno == ENOTSUP || errno == EOPNOTSUPP ? -EOPNOTSUPP
										  : -errno;
	*first = false;
	return r < 0 && count == 0 ? 0 : (int)count;
}

/* The fallback, one entry at a time.  Returns 1 with the entry in key and
 * val, 0 at the end, or a negative errno. */
static int read_one(int fd, char *prev, bool *started, size_t klen, void *key, void *val)
{
	for (;;) {
		if (bpf_map_get_next_key(fd, *started ? prev : NULL, key) < 0)
			return errno == ENOENT ? 0 : -errno;
		memcpy(prev, key, klen);
		*started = true;
		if (bpf_map_lookup_elem(fd, key, val) == 0)
			return 1;
		if (errno != ENOENT)
			return -errno;
		/* Deleted while we copied: go on from its key. */
	}
}

/* Copies every entry of the old map that fits into the new one.  Entries
 * fit when key and value sizes are unchanged and the new map takes them
 * (an array index beyond the new max_entries, a full hash, do not). */
static int migrate(struct txn *t, const struct plan_change *c, int old_fd, int new_fd)
{
	const struct observed_entry *h = c->have;
	const struct desired_spec *s = &c->want->spec;
	size_t klen = h->key_size, vlen = value_bytes(h->type, h->value_size);
	_cleanup_free_ char *keys = malloc(klen * MIGRATE_BATCH + 8);
	_cleanup_free_ char *vals = malloc(vlen * MIGRATE_BATCH + 8);
	_cleanup_free_ char *token = malloc(klen + 8), *prev = malloc(klen + 8);
	bool fits = klen == s->key_size && vlen == value_bytes(s->type, s->value_size);
	bool first = true, batched = true, started = false;
	size_t copied = 0, dropped = 0;
	int r = sys_step(t->sys), n;

	if (r < 0)
		return fail(t, c->path, "cannot migrate the map's entries", r);
	if (!keys || !vals || !token || !prev)
		return -ENOMEM;
	for (;;) {
		n = batched ? read_batch(old_fd, token, &first, keys, vals)
			    : read_one(old_fd, prev, &started, klen, keys, vals);
		if (n == -EOPNOTSUPP && batched && first) {
			batched = false;
			continue;
		}
		if (n < 0)
			return fail(t, c->path, "cannot read the old map", n);
		if (n == 0)
			break;
		for (int i = 0; i < n; i++) {
			if (fits && bpf_map_update_elem(new_fd, keys + (size_t)i * klen,
							vals + (size_t)i * vlen, BPF_ANY) == 0)
				copied++;
			else
				dropped++;
		}
	}
	if (dropped)
		diag_warning(t->d, &(struct diag_loc){ .file = c->path },
			     "migrate: %zu entries copied, %zu did not fit the new map", copied,
			     dropped);
	return 0;
}

static const struct plan_change *change_for(const struct txn *t, const struct desired_pin *w,
					    size_t *ret_index)
{
	ssize_t ci = t->pin_change[w - t->in->desired->pins];

	if (ci < 0)
		return NULL;
	*ret_index = (size_t)ci;
	return &t->in->plan->changes[ci];
}

static bool makes_anew(const struct plan_change *c)
{
	return c && (c->action == PLAN_CREATE || c->action == PLAN_REPLACE);
}

/* The object at a pin path, to migrate from or to wire programs to: the
 * one the plan saw there (kernel id id), or none. */
static int open_pin(struct txn *t, const char *path, uint32_t id, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	int r = sys_obj_get(t->sys, path, &fd);

	if (r == 0 && bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		r = -errno;
	if (r == 0 && info.id != id)
		r = -ESTALE;
	if (r < 0)
		return fail(t, path, "cannot open the pin", r);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* What a load of one object is given and hands back. */
struct object_load {
	bool *want, *make;
	int *map_fds, *prog_fds;
	const struct diag_loc **prog_locs;
	const char **map_pins; /* per map: its pin, to name it in messages and undo records */
};

static void object_load_done(struct object_load *ol, const struct objfile *of)
{
	for (size_t i = 0; ol->map_fds && i < of->n_maps; i++)
		if (ol->map_fds[i] >= 0)
			close(ol->map_fds[i]);
	for (size_t i = 0; ol->prog_fds && i < of->n_progs; i++)
		if (ol->prog_fds[i] >= 0)
			close(ol->prog_fds[i]);
	free(ol->want);
	free(ol->make);
	free(ol->map_fds);
	free(ol->prog_fds);
	free(ol->prog_locs);
	free(ol->map_pins);
}

/* Before the load writes slot key of a kept prog array: the program there
 * now is held open, so that the undo can put it back. */
static int keep_slot(void *ctx, size_t map, int map_fd, uint32_t key)
{
	struct txn *t = ctx;
	uint32_t id = 0;
	int old = -1, fd = fcntl(map_fd, F_DUPFD_CLOEXEC, 3);

	if (fd < 0)
		return -errno;
	if (bpf_map_lookup_elem(map_fd, &key, &id) == 0) {
		old = bpf_prog_get_fd_by_id(id);
		if (old < 0) {
			int r = -errno;

			close(fd);
			return r == -ENOENT ? 0 : r;
		}
	} else if (errno != ENOENT) {
		int r = -errno;

		close(fd);
		return r;
	}
	return push(t, (struct undo){ .kind = UNDO_SLOT,
				      .path = strdup(t->slot_paths && t->slot_paths[map] ? t->slot_paths[map]
									       : "?"),
				      .fd = fd,
				      .key = key,
				      .old_fd = old });
}

static bool uses_kept_maps(const struct objfile *of, const bool *want)
{
	if (of->libbpf)
		return true;
	for (size_t i = 0; i < of->n_progs; i++)
		if (want[i])
			return true;
	for (size_t i = 0; i < of->n_maps; i++)
		if (of->maps[i].n_slots)
			return true;
	return false;
}

/* Loads one object for the pins this plan makes of it: its maps made anew
 * (migrated where asked) and its programs loaded, wired to the maps kept in
 * place, and each placed.  Objects with nothing made are not loaded. */
static int apply_object(struct txn *t, size_t k)
{
	const struct objfile *of = t->in->desired->objfiles[k];
	const struct desired *des = t->in->desired;
	struct object_load ol = { 0 };
	bool any = false, kept;
	int r = 0;

	ol.want = calloc(of->n_progs + 1, sizeof(*ol.want));
	ol.make = calloc(of->n_maps + 1, sizeof(*ol.make));
	ol.map_fds = malloc((of->n_maps + 1) * sizeof(*ol.map_fds));
	ol.prog_fds = malloc((of->n_progs + 1) * sizeof(*ol.prog_fds));
	ol.prog_locs = calloc(of->n_progs + 1, sizeof(*ol.prog_locs));
	ol.map_pins = calloc(of->n_maps + 1, sizeof(*ol.map_pins));
	if (!ol.want || !ol.make || !ol.map_fds || !ol.prog_fds || !ol.prog_locs || !ol.map_pins) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < of->n_maps; i++)
		ol.map_fds[i] = -1;
	for (size_t i = 0; i < of->n_progs; i++)
		ol.prog_fds[i] = -1;
	for (size_t i = t->obj_first[k]; i != SIZE_MAX; i = t->pin_next[i]) {
		const struct desired_pin *w = &des->pins[i];
		size_t ci;
		bool anew = makes_anew(change_for(t, w, &ci));

		if (w->kind == DESIRED_MAP) {
			ol.make[w->index] = anew;
			ol.map_pins[w->index] = w->path;
		} else {
			ol.want[w->index] = anew;
			ol.prog_locs[w->index] = &w->loc;
		}
		any |= anew;
	}
	if (!any)
		goto out;
	/* The maps kept in place: the programs loaded now use them, slots
	 * name them, and libbpf would make anew any map it is not handed.  A
	 * legacy object that only gets new maps needs none of them open. */
	kept = uses_kept_maps(of, ol.want);
	for (size_t i = t->obj_first[k]; kept && i != SIZE_MAX; i = t->pin_next[i]) {
		const struct desired_pin *w = &des->pins[i];
		const struct observed_entry *h;

		if (w->kind != DESIRED_MAP || ol.make[w->index])
			continue;
		h = t->in->observed ? observed_find(t->in->observed, w->path) : NULL;
		r = open_pin(t, w->path, h ? h->id : 0, &ol.map_fds[w->index]);
		if (r < 0)
			goto out;
	}
	t->slot_paths = ol.map_pins;
	r = loader_load(of,
			&(struct loader_job){ .want = ol.want,
					      .make = ol.make,
					      .map_fds = ol.map_fds,
					      .prog_locs = ol.prog_locs,
					      .map_pins = ol.map_pins,
					      .log = t->in->verifier_log,
					      .kept_slot = keep_slot,
					      .ctx = t },
			t->sys, t->d, ol.prog_fds);
	t->slot_paths = NULL;
	if (r < 0)
		goto out;
	/* Maps first, then the programs that use them, in the plan's order. */
	for (int pass = 0; pass < 2 && r == 0; pass++)
		for (size_t i = t->obj_first[k]; i != SIZE_MAX && r == 0; i = t->pin_next[i]) {
			const struct desired_pin *w = &des->pins[i];
			size_t ci = 0;
			const struct plan_change *c = change_for(t, w, &ci);
			_cleanup_close_ int old_fd = -1;
			int fd;

			if (!makes_anew(c) || (w->kind == DESIRED_MAP) != (pass == 0))
				continue;
			fd = w->kind == DESIRED_MAP ? ol.map_fds[w->index] : ol.prog_fds[w->index];
			t->status[ci] = "failed";
			r = ensure_parents(t, w->path,
					   w->attrs->dir_mode >= 0 ? (mode_t)w->attrs->dir_mode
								   : DEFAULT_DIR_MODE,
					   w->manifest->name);
			if (r == 0 && w->kind == DESIRED_MAP && c->action == PLAN_REPLACE &&
			    c->policy == ON_INCOMPATIBLE_MIGRATE && c->have->kind == OBSERVED_MAP) {
				r = open_pin(t, w->path, c->have->id, &old_fd);
				if (r == 0)
					r = migrate(t, c, old_fd, fd);
			}
			if (r == 0)
				r = place(t, w, fd, c->action == PLAN_REPLACE ? c->have : NULL);
			if (r == 0)
				done(t, ci);
		}
out:
	object_load_done(&ol, of);
	return r;
}

static int apply_update(struct txn *t, const struct plan_change *c)
{
	const struct desired_pin *w = c->want;
	const char *path = c->path;
	int r = same_pin(t, path, c->have->ino);

	if (r < 0)
		return fail(t, path, "cannot change mode or owner", r);
	r = push(t, (struct undo){ .kind = UNDO_ATTRS,
				   .path = strdup(path),
				   .fd = -1,
				   .mode = c->have->mode,
				   .uid = c->have->uid,
				   .gid = c->have->gid });
	if (r < 0)
		return r;
	if (w->attrs->mode >= 0)
		r = sys_chmod(t->sys, path, (mode_t)w->attrs->mode);
	if (r < 0) {
		/* Nothing changed: no undo to run (and report as failing). */
		undo_free(&t->steps[--t->n]);
		return fail(t, path, "cannot change mode or owner", r);
	}
	if (w->uid >= 0 || w->gid >= 0)
		r = sys_chown(t->sys, path, (uid_t)w->uid, (gid_t)w->gid);
	return r < 0 ? fail(t, path, "cannot change mode or owner", r) : 0;
}

static int apply_delete(struct txn *t, const struct plan_change *c)
{
	int r = move_aside(t, c->path, c->have->ino);

	if (r < 0)
		return r;
	ledger_remove(&t->ledger, c->path);
	return 0;
}

static bool in_set(const struct manifest_set *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->items[i]->name, name) == 0)
			return true;
	return false;
}

/* The directories this tool made for the manifests, once empty, deepest
 * first; and empty trash directories that killed runs left at the root. */
static int remove_empty_dirs(struct txn *t)
{
	for (size_t i = 0; t->in->observed && i < t->in->observed->n; i++) {
		const struct observed_entry *e = &t->in->observed->entries[i];
		int r;

		if (e->kind != OBSERVED_DIR || ledger_temp_of(&t->ledger, e->path) != LEDGER_TEMP_TRASH)
			continue;
		r = sys_rmdir(t->sys, e->path);
		if (r == -ENOTEMPTY || r == -EEXIST || r == -ENOENT)
			continue;
		if (r < 0)
			return fail(t, e->path, "cannot remove a leftover trash directory", r);
		r = push(t, (struct undo){ .kind = UNDO_MKDIR,
					   .path = strdup(e->path),
					   .fd = -1,
					   .mode = e->mode });
		if (r < 0)
			return r;
	}
	for (size_t i = t->ledger.n; i-- > 0;) {
		const struct ledger_entry *e = &t->ledger.entries[i];
		_cleanup_free_ char *path = NULL;
		struct stat st;
		int r;

		if (!e->is_dir || !in_set(t->in->set, e->manifest))
			continue;
		/* Ours only while it is the directory made: the same inode, or
		 * for one recorded before it was made, made by a recorded run
		 * (which this run is, or one that was interrupted). */
		if (sys_stat(t->sys, e->path, &st) < 0 || !S_ISDIR(st.st_mode) ||
		    (e->ino && e->ino != st.st_ino) ||
		    (!e->ino && (!e->run || !ledger_has_run(&t->ledger, e->run, strlen(e->run))))) {
			ledger_remove(&t->ledger, e->path);
			continue;
		}
		path = strdup(e->path); /* ledger_remove frees e->path */
		if (!path)
			return -ENOMEM;
		r = st.st_nlink > 2 ? -ENOTEMPTY : sys_rmdir(t->sys, path);
		if (r == -ENOTEMPTY || r == -EEXIST) {
			/* It stays: one recorded before it was made is known by
			 * its inode from now on. */
			r = e->ino ? 0 : record_dir(&t->ledger, path, e->manifest, st.st_ino);
			if (r < 0)
				return r;
			continue;
		}
		if (r < 0)
			return fail(t, path, "cannot remove the empty directory", r);
		ledger_remove(&t->ledger, path);
		r = push(t, (struct undo){ .kind = UNDO_MKDIR,
					   .path = TAKE_PTR(path),
					   .fd = -1,
					   .mode = st.st_mode & 07777 });
		if (r < 0)
			return r;
	}
	return 0;
}

/* Records every declared pin as the manifest's, with the identity it has
 * now: as placed by this run, or as observed. */
static int record_pins(struct txn *t)
{
	const struct desired *des = t->in->desired;
	_cleanup_free_ struct ledger_entry *rec = calloc(des->n_pins + 1, sizeof(*rec));
	size_t n = 0;

	if (!rec)
		return -ENOMEM;
	if (t->in->destroy)
		return 0;
	for (size_t i = 0; i < des->n_pins; i++) {
		const struct desired_pin *w = &des->pins[i];
		const struct observed_entry *h = NULL;
		size_t ci;

		if (!makes_anew(change_for(t, w, &ci)) && t->in->observed)
			h = observed_find(t->in->observed, w->path);
		rec[n] = (struct ledger_entry){ .path = w->path, .manifest = w->manifest->name };
		if (h) {
			rec[n].ino = h->ino;
			rec[n].id = h->id;
		} else if (t->placed[i].ino) {
			rec[n].ino = t->placed[i].ino;
			rec[n].id = t->placed[i].id;
		} else {
			return fail(t, w->path, "the pin was neither found nor made", -ENOENT);
		}
		n++;
	}
	return ledger_put_many(&t->ledger, rec, n);
}

/* Every step acted in the directory first found at its path; that each is
 * still there is checked once, before the ledger makes the apply final. */
static int check_dirs(struct txn *t)
{
	const char *path = NULL;
	int r = sys_check_dirs(t->sys, &path);

	if (r == -EMFILE || r == -ENFILE)
		return fail(t, path, "cannot check the directory", r);
	return r < 0 ? fail(t, path, "a directory changed during the apply", r) : 0;
}

static int cmp_dir_records(const void *a, const void *b)
{
	return strcmp(((const struct ledger_entry *)a)->path, ((const struct ledger_entry *)b)->path);
}

/* Records the directories this run will make before it makes any, so that
 * a run killed half-way leaves directories the next run knows as its own. */
static int save_intent(struct txn *t)
{
	const struct plan *p = t->in->plan;
	size_t n = 0, u = 0;
	struct ledger_entry *dirs = NULL;
	int r = 0;

	for (size_t i = 0; i < p->n && r == 0; i++) {
		const struct desired_pin *w = p->changes[i].want;
		_cleanup_free_ char *path = NULL;
		bool missing = false; /* a parent is: so is all below it */

		if (!w || !makes_anew(&p->changes[i]))
			continue;
		path = strdup(w->path);
		if (!path) {
			r = -ENOMEM;
			break;
		}
		for (char *slash = strchr(path, '/'); slash && r == 0;
		     slash = strchr(slash + 1, '/')) {
			struct stat st;

			*slash = '\0';
			if (!ledger_find(&t->ledger, path) &&
			    (missing || (missing = sys_stat(t->sys, path, &st) < 0))) {
				r = array_reserve(&dirs, n, sizeof(*dirs));
				if (r < 0)
					break;
				dirs[n] = (struct ledger_entry){ .path = strdup(path),
								 .manifest = w->manifest->name,
								 .is_dir = true,
								 .run = t->run };
				if (!dirs[n++].path)
					r = -ENOMEM;
			}
			*slash = '/';
		}
	}
	/* Many pins share their parents: each directory once. */
	if (r == 0 && n > 0) {
		qsort(dirs, n, sizeof(*dirs), cmp_dir_records);
		for (size_t i = 0; i < n; i++)
			if (u == 0 || strcmp(dirs[u - 1].path, dirs[i].path) != 0)
				dirs[u++] = dirs[i];
			else
				free(dirs[i].path);
		n = u;
		r = ledger_put_many(&t->ledger, dirs, n);
	}
	for (size_t i = 0; i < n; i++)
		free(dirs[i].path);
	free(dirs);
	/* The run is recorded before it makes its first temporary name, so
	 * that a run killed half-way leaves only names the next one knows. */
	if (r == 0 && p->n > 0)
		r = ledger_add_run(&t->ledger, t->run);
	if (r < 0 || p->n == 0)
		return r;
	t->ledger_existed = access(t->ledger.file, F_OK) == 0;
	r = sys_step(t->sys) ?: ledger_save(&t->ledger, t->d);
	if (r < 0 && !t->d->n_errors)
		fail_ledger(t, r);
	t->intent_saved = r == 0;
	return r;
}

/* After the ledger is written nothing is undone: the old pins go for good.
 * A failure here leaves temporary pins the next run removes. */
static void commit(struct txn *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->steps[i].kind == UNDO_MOVE_BACK)
			sys_unlink(&t->quiet, t->steps[i].aside);
	if (t->trash)
		sys_rmdir(&t->quiet, t->trash);
}

/* PID and start time (in clock ticks since boot, /proc/self/stat's 22nd
 * field): no other process of this boot has both, so the temporary names
 * a run makes are known as its own, and never confused with lookalikes. */
static void run_token(char out[48])
{
	unsigned long long start = 0;
	char buf[1024], *p;
	FILE *f = fopen("/proc/self/stat", "re");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: fields count from
	 * the last ')'; starttime is the 20th after it. */
	p = strrchr(buf, ')');
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p)
		start = strtoull(p + 1, NULL, 10);
	snprintf(out, 48, "%dt%llu", (int)getpid(), start);
}

static int refuse(const struct plan *p, struct diag *d)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_change *c = &p->changes[i];

		if (c->refused)
			diag_error(d, c->want ? &c->want->loc : NULL,
				   "%s '%s': replace refused (%s)%s", observed_kind_str(c->kind),
				   c->path, c->reason,
				   c->policy == ON_INCOMPATIBLE_FAIL
					   ? "; set on_incompatible: replace or migrate to allow it"
					   : "");
	}
	return diag_error(d, NULL, "apply refused: %zu change%s cannot be made; nothing was changed",
			  p->n_refused, p->n_refused == 1 ? "" : "s"),
	       -EPERM;
}

static int run(struct txn *t)
{
	const struct desired *des = t->in->desired;
	const struct plan *p = t->in->plan;
	int r = 0;

	t->pin_change = malloc((des->n_pins + 1) * sizeof(*t->pin_change));
	t->placed = calloc(des->n_pins + 1, sizeof(*t->placed));
	if (!t->pin_change || !t->placed)
		return -ENOMEM;
	for (size_t i = 0; i < des->n_pins; i++)
		t->pin_change[i] = -1;
	for (size_t i = 0; i < p->n; i++)
		if (p->changes[i].want)
			t->pin_change[p->changes[i].want - des->pins] = (ssize_t)i;
	r = desired_pins_by_object(des, &t->obj_first, &t->pin_next);
	if (r < 0)
		return r;

	r = save_intent(t);
	for (size_t k = 0; k < des->n_objfiles && r == 0; k++)
		if (des->objfiles[k])
			r = apply_object(t, k);
	for (size_t i = 0; i < p->n && r == 0; i++) {
		const struct plan_change *c = &p->changes[i];

		if (c->action != PLAN_UPDATE && c->action != PLAN_DELETE)
			continue;
		t->status[i] = "failed";
		r = c->action == PLAN_UPDATE ? apply_update(t, c) : apply_delete(t, c);
		if (r == 0)
			done(t, i);
	}
	if (r == 0)
		r = remove_empty_dirs(t);
	if (r == 0)
		r = record_pins(t);
	if (r == 0)
		r = check_dirs(t);
	if (r == 0) {
		/* Every leftover of the runs recorded before was deleted by this
		 * plan; this run stays recorded while its trash still awaits the
		 * commit, should the commit be cut short. */
		ledger_clear_runs(&t->ledger);
		if (t->trash)
			r = ledger_add_run(&t->ledger, t->run);
	}
	if (r == 0) {
		r = sys_step(t->sys) ?: ledger_save(&t->ledger, t->d);
		if (r < 0 && !t->d->n_errors)
			fail_ledger(t, r);
	}
	return r;
}

int apply_run(const struct apply_input *in, struct sys *sys, struct diag *d, const char **status)
{
	struct txn t = { .in = in, .sys = sys, .d = d, .status = status };
	size_t errors = d->n_errors;
	int r;

	for (size_t i = 0; i < in->plan->n; i++)
		status[i] = NULL;
	if (in->plan->n_refused)
		return refuse(in->plan, d);
	run_token(t.run);
	r = sys_open_root(sys, in->root);
	if (r < 0)
		return diag_error(d, &(struct diag_loc){ .file = in->root },
				  "cannot open the root (apply needs it, and /proc): %s", DIAG_STRERROR(-r)),
		       r;
	t.quiet = sys_quiet(sys);
	r = ledger_copy(in->ledger, &t.ledger);
	if (r == 0)
		r = run(&t);
	if (r < 0) {
		size_t stuck = rollback(&t);

		/* The intent record named directories that are gone again. */
		if (t.intent_saved && t.ledger_existed)
			ledger_save(in->ledger, d);
		else if (t.intent_saved)
			unlink(t.ledger.file);
		for (size_t i = 0; i < in->plan->n; i++)
			if (status[i] && strcmp(status[i], "done") == 0)
				status[i] = "rolled_back";
		if (stuck)
			diag_error(d, NULL, "apply failed; %zu step%s could not be undone (see above)",
				   stuck, stuck == 1 ? "" : "s");
		/* -ENOMEM with nothing said is ours; the kernel's ENOMEM was reported. */
		else if (r == -ENOMEM && d->n_errors == errors)
			diag_error(d, NULL, "out of memory; every change was rolled back");
		else
			diag_error(d, NULL, "apply failed; every change was rolled back");
	} else {
		commit(&t);
		/* The new ledger replaces the loaded one. */
		ledger_done(in->ledger);
		*in->ledger = t.ledger;
		t.ledger = (struct ledger){ 0 };
	}
	for (size_t i = 0; i < t.n; i++)
		undo_free(&t.steps[i]);
	free(t.steps);
	free(t.pin_change);
	free(t.placed);
	free(t.obj_first);
	free(t.pin_next);
	free(t.trash);
	ledger_done(&t.ledger);
	sys_close_root(sys);
	return r;
}
