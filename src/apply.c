// SPDX-License-Identifier: MIT
/* Apply stage: one executor over the plan's steps.  Each state change goes
 * through sys.c and leaves an undo record; a failure anywhere undoes them
 * all in reverse, so the tree is as it was.  A dry run announces the same
 * steps and takes none. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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
#include "kind.h"
#include "loader.h"
#include "target.h"

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
	UNDO_RELINK,    /* a link (fd) we pointed at another program: point it back at old_fd */
	UNDO_ENTRY,     /* an entry of a kept map (fd) we wrote or deleted: put back value (or delete key) */
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
	int old_fd;   /* SLOT, RELINK: the program before */
	unsigned char *entry; /* ENTRY: the key, then the value it had (has_value) */
	bool has_value;
	size_t key_len;
};

/* What a load of one object is given and hands back. */
struct object_load {
	size_t object; /* index in desired.objfiles; SIZE_MAX: none loaded */
	bool *want, *make;
	int *map_fds, *prog_fds;
	const struct diag_loc **prog_locs;
	const char **map_pins; /* per map: its pin, to name it in messages and undo records */
};

struct txn {
	const struct apply_input *in;
	struct sys *sys;
	struct sys quiet; /* for undo and read-back: no fault injected, no pause */
	struct diag *d;
	struct undo *undo; /* how to undo each change made so far, in order */
	size_t n_undo;
	char *trash; /* this run's directory for old pins, once made */
	bool intent_saved;
	bool ledger_existed; /* before the intent was saved */
	enum apply_status *status;
	size_t *last_step; /* per change: the index of its last step */
	struct placed {
		ino_t ino;
		uint32_t id;
		bool has_map;
		struct ledger_map map;
	} *placed; /* per desired pin: what this run pinned there, once it did */
	char run[48]; /* this run's token: names its temporary pins and trash */
	size_t n_done;
	struct ledger ledger; /* the new ledger, saved at the end */
	struct object_load ol; /* the object loaded last */
	int link_fd; /* the link the last attach made, until it is pinned */
	int map_fd;  /* the standalone map the last mkmap made */
	/* Per object, its pins (indexes in desired.pins) as a list threaded
	 * through pin_next[], in declaration order; SIZE_MAX ends it. */
	size_t *obj_first, *pin_next;
	/* Per object (allocated at its first load), per program: the tag
	 * its load gave a program whose tag was deferred (desired_spec). */
	struct loaded_tag {
		uint8_t tag[8];
		bool has;
	} **tags;
};

static char *abs_path(const char *root, const char *rel)
{
	char *s;

	return asprintf(&s, "%s/%s", root, rel) < 0 ? NULL : s;
}

static void undo_free(struct undo *u)
{
	free(u->path);
	free(u->aside);
	if (u->fd >= 0)
		close(u->fd);
	if ((u->kind == UNDO_SLOT || u->kind == UNDO_RELINK) && u->old_fd >= 0)
		close(u->old_fd);
	free(u->entry);
}

/* Records how to undo a change just made; takes u's strings and fds, also
 * on failure. */
static int push(struct txn *t, struct undo u)
{
	bool needs_aside = u.kind == UNDO_EXCHANGE || u.kind == UNDO_MOVE_BACK;

	if (!u.path || (needs_aside && !u.aside) ||
	    array_reserve(&t->undo, t->n_undo, sizeof(*t->undo)) < 0) {
		undo_free(&u);
		return -ENOMEM;
	}
	t->undo[t->n_undo++] = u;
	return 0;
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

	for (size_t i = t->n_undo; i-- > 0;) {
		struct undo *u = &t->undo[i];
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
		case UNDO_RELINK:
			r = sys_link_update(q, u->fd, u->old_fd, -1);
			break;
		case UNDO_ENTRY:
			r = u->has_value ? sys_map_update(q, u->fd, u->entry, u->entry + u->key_len,
							  BPF_ANY)
					 : sys_map_delete(q, u->fd, u->entry);
			break;
		}
		if (r < 0) {
			fail(t, u->path, "rollback incomplete: cannot undo this step", r);
			failed++;
		}
	}
	return failed;
}

static const char *const status_names[APPLY_STATUS_MAX] = {
	[APPLY_DONE] = "done",
	[APPLY_FAILED] = "failed",
	[APPLY_ROLLED_BACK] = "rolled_back",
};

const char *apply_status_str(enum apply_status s)
{
	return s > APPLY_UNTRIED && s < APPLY_STATUS_MAX ? status_names[s] : NULL;
}

/* The ledger file is written as a step: fault injection reaches it. */
static int save_ledger(struct txn *t)
{
	int r = sys_step(t->sys) ?: ledger_save(&t->ledger, t->d);

	if (r < 0 && !t->d->n_errors)
		diag_error(t->d, &(struct diag_loc){ .file = t->ledger.file },
			   "cannot write the ledger: %s", DIAG_STRERROR(-r));
	return r;
}

/* The name of temporary pin number temp beside path. */
static char *temp_name(const struct txn *t, const char *path, uint32_t temp)
{
	const char *slash = strrchr(path, '/');
	int dir_len = slash ? (int)(slash - path + 1) : 0;
	char *s;

	return asprintf(&s, "%.*s" PLAN_TEMP_PREFIX "%s_%" PRIu32, dir_len, path, t->run, temp) < 0
		       ? NULL
		       : s;
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

static int step_mkdir(struct txn *t, const struct plan_step *s)
{
	struct stat st;
	int r = sys_mkdir(t->sys, s->path, (mode_t)s->mode);

	if (r < 0)
		return fail(t, s->path, "cannot create directory", r);
	r = push(t, (struct undo){ .kind = UNDO_RMDIR, .path = strdup(s->path), .fd = -1 });
	if (r < 0)
		return r;
	/* Its identity replaces the intent's promise to make it. */
	r = sys_stat(&t->quiet, s->path, &st);
	if (r < 0)
		return fail(t, s->path, "cannot read back the directory", r);
	/* Exactly the declared mode: the umask is cleared, but mkdir may
	 * still leave out the set-id bits. */
	if ((st.st_mode & 07777) != (mode_t)s->mode) {
		r = sys_chmod(t->sys, s->path, (mode_t)s->mode);
		if (r < 0)
			return fail(t, s->path, "cannot set the directory's mode", r);
	}
	return record_dir(&t->ledger, s->path, s->want->manifest->name, st.st_ino);
}

static int step_mktrash(struct txn *t, const struct plan_step *s)
{
	int r;

	if (asprintf(&t->trash, PLAN_TEMP_PREFIX "trash_%s", t->run) < 0)
		return -ENOMEM;
	r = sys_mkdir(t->sys, t->trash, 0700);
	if (r < 0)
		return fail(t, t->trash, "cannot create the trash directory", r);
	return push(t, (struct undo){ .kind = UNDO_RMDIR, .path = strdup(t->trash), .fd = -1 });
}

/* Moves the pin (of inode ino) at path, or at its temporary name, into
 * this run's trash, where it waits for the commit. */
static int step_trash(struct txn *t, const struct plan_step *s)
{
	_cleanup_free_ char *aside = NULL;
	_cleanup_free_ char *from = s->at_temp ? temp_name(t, s->path, s->temp) : strdup(s->path);
	int r;

	if (!from || asprintf(&aside, "%s/%" PRIu32, t->trash, s->slot) < 0)
		return -ENOMEM;
	r = sys_rename(t->sys, from, aside);
	if (r < 0)
		return fail(t, s->path, s->at_temp ? "cannot move the old pin aside" : "cannot unpin",
			    r);
	r = push(t, (struct undo){ .kind = UNDO_MOVE_BACK,
				   .path = strdup(from),
				   .aside = strdup(aside),
				   .fd = -1 });
	r = r ?: check_moved(t, s->path, aside, s->ino);
	if (r == 0 && !s->at_temp)
		ledger_remove(&t->ledger, s->path);
	return r;
}

/* The identity of the pin this run made for w, for the ledger: its inode
 * (kept by a rename into place) and the kernel object's id. */
static int remember(struct txn *t, const struct desired_pin *w, const char *tmp, int fd,
		    mode_t *ret_mode)
{
	union {
		struct bpf_map_info map;
		struct bpf_prog_info prog;
		struct bpf_link_info link;
	} info = { 0 };
	__u32 len = sizeof(info);
	struct stat st;
	int r = sys_stat(&t->quiet, tmp, &st);
	struct placed *p = &t->placed[w - t->in->desired->pins];

	if (r == 0 && bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		r = -errno;
	if (r < 0)
		return r;
	/* The id is the first field of each. */
	*p = (struct placed){ .ino = st.st_ino, .id = info.map.id };
	/* The rename into place keeps the inode and its mtime. */
	if (w->kind == KIND_MAP) {
		p->has_map = true;
		p->map = (struct ledger_map){ .mtime = st.st_mtim,
					      .type = info.map.type,
					      .key_size = info.map.key_size,
					      .value_size = info.map.value_size,
					      .max_entries = info.map.max_entries,
					      .map_flags = info.map.map_flags };
		memcpy(p->map.name, info.map.name, sizeof(p->map.name));
		p->map.name[sizeof(p->map.name) - 1] = '\0';
	}
	*ret_mode = st.st_mode & 07777;
	return 0;
}

/* The map this run made for w: its object's, or its own (standalone). */
static int new_map(const struct txn *t, const struct desired_pin *w)
{
	return w->standalone ? t->map_fd : t->ol.map_fds[w->index];
}

/* Pins the new object of the step's pin at its path or under its
 * temporary name, with its mode and owner. */
static int step_pin(struct txn *t, const struct plan_step *s)
{
	const struct desired_pin *w = s->want;
	int fd = w->kind == KIND_MAP	   ? new_map(t, w)
		 : w->kind == KIND_PROGRAM ? t->ol.prog_fds[w->index]
					   : t->link_fd;
	_cleanup_free_ char *tmp = s->direct ? strdup(s->path) : temp_name(t, s->path, s->temp);
	mode_t mode = 0;
	int r;

	if (!tmp)
		return -ENOMEM;
	r = sys_obj_pin(t->sys, fd, tmp);
	if (r < 0)
		return fail(t, s->path, "cannot pin", r);
	r = push(t, (struct undo){ .kind = UNDO_UNLINK, .path = strdup(tmp), .fd = -1 });
	if (r < 0)
		return r;
	r = remember(t, w, tmp, fd, &mode);
	/* Pinned, the link lives on its pin alone: unpinning it (the undo)
	 * detaches it. */
	if (w->kind == KIND_LINK)
		close(TAKE_FD(t->link_fd));
	if (r < 0)
		return fail(t, s->path, "cannot read back the pin", r);
	/* The kernel pins with 0600 (the umask is cleared): most pins need no
	 * chmod, and a direct one none. */
	if (mode != (mode_t)s->mode)
		r = sys_chmod(t->sys, tmp, (mode_t)s->mode);
	if (r == 0 && (s->uid != PLAN_KEEP_ID || s->gid != PLAN_KEEP_ID))
		r = sys_chown(t->sys, tmp, (uid_t)s->uid, (gid_t)s->gid);
	return r < 0 ? fail(t, s->path, "cannot set mode or owner", r) : 0;
}

/* Renames the temporary pin into place, or swaps it with the old pin
 * there; the undo record of the pin becomes that of the placement. */
static int step_place(struct txn *t, const struct plan_step *s)
{
	bool replace = s->op == PLAN_OP_EXCHANGE;
	_cleanup_free_ char *tmp = temp_name(t, s->path, s->temp);
	char *path = strdup(s->path);
	struct undo *u = NULL;
	int r;

	if (!tmp || !path) {
		free(path);
		return -ENOMEM;
	}
	/* The pin step made it: its undo record is among the last. */
	for (size_t i = t->n_undo; i-- > 0 && !u;)
		if (t->undo[i].kind == UNDO_UNLINK && strcmp(t->undo[i].path, tmp) == 0)
			u = &t->undo[i];
	if (!u) {
		free(path);
		return fail(t, s->path, "cannot rename into place", -ENOENT);
	}
	r = replace ? sys_exchange(t->sys, tmp, s->path) : sys_rename(t->sys, tmp, s->path);
	if (r < 0) {
		free(path);
		return fail(t, s->path, "cannot rename into place", r);
	}
	free(u->path);
	*u = (struct undo){ .kind = replace ? UNDO_EXCHANGE : UNDO_UNLINK,
			    .path = path,
			    .aside = replace ? TAKE_PTR(tmp) : NULL,
			    .fd = -1 };
	if (replace && !u->aside)
		return -ENOMEM;
	return replace ? check_moved(t, s->path, u->aside, s->ino) : 0;
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
		return sys_batch_unsupported(-errno) ? -EOPNOTSUPP : -errno;
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
static int migrate(struct txn *t, const char *path, const struct plan_change *c, int old_fd,
		   int new_fd)
{
	const struct observed_entry *h = c->have;
	const struct desired_spec *s = &c->want->spec;
	size_t klen = h->key_size, vlen = sys_map_value_bytes(h->type, h->value_size);
	_cleanup_free_ char *keys = malloc(klen * MIGRATE_BATCH + 8);
	_cleanup_free_ char *vals = malloc(vlen * MIGRATE_BATCH + 8);
	_cleanup_free_ char *token = malloc(klen + 8), *prev = malloc(klen + 8);
	bool fits = klen == s->key_size && vlen == sys_map_value_bytes(s->type, s->value_size);
	bool first = true, batched = true, started = false;
	size_t copied = 0, dropped = 0;
	int n;

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
			return fail(t, path, "cannot read the old map", n);
		if (n == 0)
			break;
		/* An entry the new map refuses is dropped, and the rest go on. */
		for (uint32_t i = 0, done; fits && i < (uint32_t)n; i += done + 1) {
			int r;

			done = (uint32_t)n - i;
			r = sys_map_update_batch(t->sys, new_fd, keys + (size_t)i * klen,
						 vals + (size_t)i * vlen, &done, BPF_ANY);
			if (r < 0 && sys_injected(t->sys))
				return fail(t, path, "cannot migrate the map's entries", r);
			copied += done;
			dropped += r < 0;
		}
		if (!fits)
			dropped += (size_t)n;
	}
	if (dropped)
		diag_warning(t->d, &(struct diag_loc){ .file = path },
			     "migrate: %zu entries copied, %zu did not fit the new map", copied,
			     dropped);
	return 0;
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

static void object_load_done(struct object_load *ol, const struct desired *des)
{
	const struct objfile *of = ol->object == SIZE_MAX ? NULL : des->objfiles[ol->object];

	if (!of)
		return;
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
	*ol = (struct object_load){ .object = SIZE_MAX };
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
				      .path = strdup(t->ol.map_pins[map] ? t->ol.map_pins[map]
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

/* What the load step at marks for the steps up to the next load: the
 * programs they pin, attach or put in slots (want), the maps they pin
 * anew (make, may be NULL). */
static void load_wants(const struct plan *p, size_t at, bool *want, bool *make)
{
	for (size_t i = at + 1; i < p->n_steps && p->steps[i].op != PLAN_OP_LOAD; i++) {
		const struct plan_step *s = &p->steps[i];

		if (s->op == PLAN_OP_PIN && s->want->kind == KIND_MAP) {
			if (make)
				make[s->want->index] = true;
		} else if ((s->op == PLAN_OP_PIN && s->want->kind == KIND_PROGRAM) ||
			   ((s->op == PLAN_OP_ATTACH || s->op == PLAN_OP_RELINK) && s->loaded))
			want[s->want->index] = true;
		for (size_t j = 0; s->op == PLAN_OP_WRITE && j < s->want->contents->n; j++) {
			const struct desired_entry *e = &s->want->contents->entries[j];

			if (e->is_prog && (s->fresh || desired_entry_rewritten(s->want->contents, e)))
				want[e->prog] = true;
		}
	}
}

/* Which programs of object k had their tags deferred (desired_spec), by
 * a pin or a program array entry, and where the first such pin is;
 * computed_too: or computed, so not loaded either. */
static void deferred_progs(const struct txn *t, size_t k, bool computed_too, bool *deferred,
			   const struct diag_loc **locs)
{
	const struct desired *des = t->in->desired;

	for (size_t i = t->obj_first[k]; i != SIZE_MAX; i = t->pin_next[i]) {
		const struct desired_pin *w = &des->pins[i];
		const struct desired_contents *c = w->contents;

		for (size_t j = 0; c && j < c->n; j++)
			if (c->entries[j].is_prog &&
			    (c->entries[j].tag_deferred || (computed_too && c->entries[j].tag_computed)))
				deferred[c->entries[j].prog] = true;
		if (w->kind == KIND_MAP ||
		    !(w->spec.tag_deferred || (computed_too && w->spec.tag_computed)))
			continue;
		deferred[w->index] = true;
		if (locs && !locs[w->index])
			locs[w->index] = &w->loc;
	}
}

/* The tags of the programs the load made whose tags were deferred or
 * computed, for the ledger: read from the programs, no second load - the
 * kernel's word over a computed tag. */
static int deferred_tags(struct txn *t, size_t k)
{
	const struct objfile *of = t->in->desired->objfiles[k];
	_cleanup_free_ bool *deferred = calloc(of->n_progs + 1, sizeof(*deferred));

	if (!deferred)
		return -ENOMEM;
	deferred_progs(t, k, true, deferred, NULL);
	for (size_t i = 0; i < of->n_progs; i++) {
		int fd = t->ol.prog_fds[i], r;

		if (!deferred[i] || fd < 0)
			continue;
		if (!t->tags[k])
			t->tags[k] = calloc(of->n_progs, sizeof(*t->tags[k]));
		if (!t->tags[k])
			return -ENOMEM;
		r = kind_prog_tag(fd, t->tags[k][i].tag);
		if (r < 0)
			return fail(t, of->progs[i].name, "cannot read the loaded program's tag", r);
		t->tags[k][i].has = true;
	}
	return 0;
}

/* A dry run's load step: the programs whose tags were deferred or
 * computed were not loaded yet, so they are here, once each (identity.h) -
 * a program the verifier refuses fails the dry run at the step where the
 * real run would fail. */
static int check_load(struct txn *t, size_t at)
{
	const struct desired *des = t->in->desired;
	size_t k = t->in->plan->steps[at].want->objfile_index;
	const struct objfile *of = des->objfiles[k];
	_cleanup_free_ bool *want = calloc(of->n_progs + 1, sizeof(*want));
	_cleanup_free_ bool *deferred = calloc(of->n_progs + 1, sizeof(*deferred));
	_cleanup_free_ int *fds = malloc((of->n_progs + 1) * sizeof(*fds));
	_cleanup_free_ const struct diag_loc **locs = calloc(of->n_progs + 1, sizeof(*locs));
	bool any = false;
	int r;

	if (!want || !deferred || !fds || !locs)
		return -ENOMEM;
	deferred_progs(t, k, true, deferred, locs);
	load_wants(t->in->plan, at, want, NULL);
	for (size_t i = 0; i < of->n_progs; i++) {
		want[i] = want[i] && deferred[i];
		any |= want[i];
	}
	if (!any)
		return 0;
	r = loader_load(of,
			&(struct loader_job){ .want = want,
					      .prog_locs = locs,
					      .log = t->in->verifier_log },
			NULL, t->d, fds);
	for (size_t i = 0; r == 0 && i < of->n_progs; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return r;
}

/* Loads one object for the pins the steps up to the next load make of it:
 * its maps made anew, and its programs, wired to the maps kept in place. */
static int step_load(struct txn *t, size_t at)
{
	const struct desired *des = t->in->desired;
	const struct plan *p = t->in->plan;
	size_t k = p->steps[at].want->objfile_index;
	const struct objfile *of = des->objfiles[k];
	struct object_load *ol = &t->ol;
	int r = 0;

	object_load_done(ol, des);
	ol->object = k;
	ol->want = calloc(of->n_progs + 1, sizeof(*ol->want));
	ol->make = calloc(of->n_maps + 1, sizeof(*ol->make));
	ol->map_fds = malloc((of->n_maps + 1) * sizeof(*ol->map_fds));
	ol->prog_fds = malloc((of->n_progs + 1) * sizeof(*ol->prog_fds));
	ol->prog_locs = calloc(of->n_progs + 1, sizeof(*ol->prog_locs));
	ol->map_pins = calloc(of->n_maps + 1, sizeof(*ol->map_pins));
	if (!ol->want || !ol->make || !ol->map_fds || !ol->prog_fds || !ol->prog_locs ||
	    !ol->map_pins)
		return -ENOMEM;
	for (size_t i = 0; i < of->n_maps; i++)
		ol->map_fds[i] = -1;
	for (size_t i = 0; i < of->n_progs; i++)
		ol->prog_fds[i] = -1;
	load_wants(p, at, ol->want, ol->make);
	for (size_t i = t->obj_first[k]; i != SIZE_MAX; i = t->pin_next[i]) {
		const struct desired_pin *w = &des->pins[i];

		if (w->kind == KIND_MAP)
			ol->map_pins[w->index] = w->path;
		else if (!ol->prog_locs[w->index])
			ol->prog_locs[w->index] = &w->loc;
	}
	/* The maps kept in place: the programs loaded now use them, slots
	 * name them, and libbpf would make anew any map it is not handed.  A
	 * legacy object that only gets new maps needs none of them open. */
	for (size_t i = t->obj_first[k]; uses_kept_maps(of, ol->want) && i != SIZE_MAX;
	     i = t->pin_next[i]) {
		const struct desired_pin *w = &des->pins[i];
		const struct observed_entry *h;

		if (w->kind != KIND_MAP || ol->make[w->index])
			continue;
		h = observed_find(t->in->observed, w->path);
		/* Outside --target and not pinned: no program loaded now uses it. */
		if (!h && p->untargeted && p->untargeted[i])
			continue;
		r = open_pin(t, w->path, h ? h->id : 0, &ol->map_fds[w->index]);
		if (r < 0)
			return r;
	}
	r = loader_load(of,
			&(struct loader_job){ .want = ol->want,
					      .make = ol->make,
					      .map_fds = ol->map_fds,
					      .prog_locs = ol->prog_locs,
					      .map_pins = ol->map_pins,
					      .log = t->in->verifier_log,
					      .kept_slot = keep_slot,
					      .ctx = t },
			t->sys, t->d, ol->prog_fds);
	return r ?: deferred_tags(t, k);
}

static int step_migrate(struct txn *t, const struct plan_step *s)
{
	_cleanup_close_ int old_fd = -1;
	int r = open_pin(t, s->path, s->id, &old_fd);

	return r ?: migrate(t, s->path, &t->in->plan->changes[s->change], old_fd,
			    new_map(t, s->want));
}

static int step_mkmap(struct txn *t, const struct plan_step *s)
{
	const struct desired_pin *w = s->want;
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = w->spec.map_flags);
	int fd;

	if (t->map_fd >= 0)
		close(TAKE_FD(t->map_fd));
	fd = sys_map_create(t->sys, (enum bpf_map_type)w->spec.type, w->standalone->name,
			    w->spec.key_size, w->spec.value_size, w->spec.max_entries, &opts);
	if (fd < 0)
		return fail(t, s->path, "cannot create the map", fd);
	t->map_fd = fd;
	return 0;
}

/* The value an entry is written with: its bytes, or for a program array's
 * slot the fd of its program from this object's load. */
static const void *entry_value(const struct txn *t, const struct desired_entry *e)
{
	return e->is_prog ? (const void *)&t->ol.prog_fds[e->prog] : e->value;
}

/* Before an entry of a kept map changes: what it holds now, so that the
 * undo puts it back (a program array's slot: its program, held open). */
static int keep_entry(struct txn *t, const char *path, int map_fd, const void *key,
		      const struct desired_contents *c, bool is_prog)
{
	size_t vlen = is_prog ? sizeof(uint32_t) : c->value_bytes;
	unsigned char *entry = malloc(c->key_size + vlen + 8);
	int fd = fcntl(map_fd, F_DUPFD_CLOEXEC, 3), r;
	bool has;

	if (!entry || fd < 0) {
		r = fd < 0 ? -errno : -ENOMEM;
		free(entry);
		if (fd >= 0)
			close(fd);
		return r;
	}
	memcpy(entry, key, c->key_size);
	has = bpf_map_lookup_elem(fd, key, entry + c->key_size) == 0;
	if (!has && errno != ENOENT) {
		r = -errno;
		free(entry);
		close(fd);
		return fail(t, path, "cannot read the entry before writing it", r);
	}
	if (is_prog) {
		uint32_t id;
		int old = -1;

		memcpy(&id, entry + c->key_size, sizeof(id));
		free(entry);
		if (has && (old = bpf_prog_get_fd_by_id(id)) < 0 && errno != ENOENT) {
			r = -errno;
			close(fd);
			return fail(t, path, "cannot hold the program of the slot", r);
		}
		memcpy(&id, key, sizeof(id));
		return push(t, (struct undo){ .kind = UNDO_SLOT,
					      .path = strdup(path),
					      .fd = fd,
					      .key = id,
					      .old_fd = old });
	}
	return push(t, (struct undo){ .kind = UNDO_ENTRY,
				      .path = strdup(path),
				      .fd = fd,
				      .entry = entry,
				      .has_value = has,
				      .key_len = c->key_size });
}

/* An entry not listed goes: deleted, or in an array, whose slots always
 * exist, set to zero. */
static int clear_entry(struct txn *t, int fd, const void *key, const struct desired_contents *c,
		       uint32_t type)
{
	_cleanup_free_ void *zero = NULL;

	if (type != BPF_MAP_TYPE_ARRAY && type != BPF_MAP_TYPE_PERCPU_ARRAY)
		return sys_map_delete(t->sys, fd, key);
	zero = calloc(1, c->value_bytes + 8);
	return zero ? sys_map_update(t->sys, fd, key, zero, BPF_ANY) : -ENOMEM;
}

/* An array's slot that holds nothing: zero (or unreadable). */
static bool all_zero(int fd, const void *key, unsigned char *value, size_t len)
{
	if (bpf_map_lookup_elem(fd, key, value) < 0)
		return true;
	for (size_t i = 0; i < len; i++)
		if (value[i])
			return false;
	return true;
}

static bool listed(const struct desired_contents *c, const void *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (memcmp(c->entries[i].key, key, c->key_size) == 0)
			return true;
	return false;
}

/* exact: a new map holds only the listed entries, whatever a migration
 * brought into it. */
static int drop_unlisted(struct txn *t, const char *path, int fd,
			 const struct desired_contents *c, uint32_t type)
{
	_cleanup_free_ unsigned char *keys = NULL;
	_cleanup_free_ unsigned char *key = malloc(c->key_size + 8);
	_cleanup_free_ unsigned char *value = malloc(c->value_bytes + 8);
	bool is_array = type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY;
	size_t n = 0;
	int r = 0;

	if (!key || !value)
		return -ENOMEM;
	for (bool first = true; bpf_map_get_next_key(fd, first ? NULL : key, key) == 0; first = false) {
		unsigned char *more;

		if (listed(c, key) || (is_array && all_zero(fd, key, value, c->value_bytes)))
			continue;
		more = realloc(keys, (n + 1) * c->key_size);
		if (!more)
			return -ENOMEM;
		keys = more;
		memcpy(keys + n++ * c->key_size, key, c->key_size);
	}
	for (size_t i = 0; i < n && r == 0; i++)
		r = clear_entry(t, fd, keys + i * c->key_size, c, type);
	return r < 0 ? fail(t, path, "cannot delete an entry not listed", r) : 0;
}

/* The declared entries: all of them into the map this run made, or the
 * ones that differ into the kept map, each change recorded for the undo. */
static int step_write(struct txn *t, const struct plan_step *s)
{
	const struct desired_contents *c = s->want->contents;
	_cleanup_close_ int kept = -1;
	int fd, r = 0;

	if (s->fresh) {
		fd = new_map(t, s->want);
	} else {
		r = same_pin(t, s->path, s->ino);
		if (r < 0)
			return fail(t, s->path, "cannot write the entries", r);
		r = open_pin(t, s->path, s->id, &kept);
		if (r < 0)
			return r;
		fd = kept;
	}
	for (size_t i = 0; i < c->n; i++) {
		const struct desired_entry *e = &c->entries[i];

		if (!s->fresh && !desired_entry_rewritten(c, e))
			continue;
		r = s->fresh ? 0 : keep_entry(t, s->path, fd, e->key, c, e->is_prog);
		if (r < 0)
			return r;
		r = sys_map_update(t->sys, fd, e->key, entry_value(t, e), BPF_ANY);
		if (r < 0)
			return fail(t, s->path, "cannot write an entry", r);
	}
	if (s->fresh)
		return c->exact ? drop_unlisted(t, s->path, fd, c, s->want->spec.type) : 0;
	for (size_t i = 0; c->exact && c->seed == MANIFEST_SEED_ENFORCE && i < c->n_extra; i++) {
		const unsigned char *key = c->extra + i * c->key_size;

		r = keep_entry(t, s->path, fd, key, c, false);
		if (r < 0)
			return r;
		r = clear_entry(t, fd, key, c, s->want->spec.type);
		if (r < 0)
			return fail(t, s->path, "cannot delete an entry not listed", r);
	}
	return r;
}

/* The program a link step runs: the one this object's load made, or the
 * one pinned as the plan saw it.  *ret_owned: the fd is the caller's. */
static int program_fd(struct txn *t, const struct plan_step *s, int *ret_fd, bool *ret_owned)
{
	const struct desired_pin *prog = s->want->link->prog;
	const struct observed_entry *h;

	*ret_owned = !s->loaded;
	if (s->loaded) {
		*ret_fd = t->ol.prog_fds[s->want->index];
		return 0;
	}
	h = observed_find(t->in->observed, prog->path);
	return open_pin(t, prog->path, h ? h->id : 0, ret_fd);
}

static int step_attach(struct txn *t, const struct plan_step *s)
{
	int prog_fd, r;
	bool owned;

	r = program_fd(t, s, &prog_fd, &owned);
	if (r < 0)
		return r;
	if (t->link_fd >= 0)
		close(TAKE_FD(t->link_fd));
	r = target_attach(t->sys, s->want->link, prog_fd, t->d, &t->link_fd);
	if (owned)
		close(prog_fd);
	return r;
}

/* Points the pinned link, still the one the plan saw, at the new program;
 * the program it ran is held open so that the undo can point it back. */
static int step_relink(struct txn *t, const struct plan_step *s)
{
	const struct observed_entry *h = t->in->plan->changes[s->change].have;
	_cleanup_close_ int link_fd = -1, old_fd = -1;
	int prog_fd = -1, r;
	bool owned = false;

	r = same_pin(t, s->path, s->ino) ?: open_pin(t, s->path, s->id, &link_fd);
	if (r < 0)
		return r == -ELOOP || r == -ESTALE ? fail(t, s->path, "cannot update the link", r) : r;
	old_fd = bpf_prog_get_fd_by_id(h->prog_id);
	if (old_fd < 0)
		return fail(t, s->path, "cannot hold the program the link runs", -errno);
	r = push(t, (struct undo){ .kind = UNDO_RELINK,
				   .path = strdup(s->path),
				   .fd = TAKE_FD(link_fd),
				   .old_fd = TAKE_FD(old_fd) });
	if (r < 0)
		return r;
	r = program_fd(t, s, &prog_fd, &owned);
	if (r == 0) {
		const struct undo *u = &t->undo[t->n_undo - 1];

		r = sys_link_update(t->sys, u->fd, prog_fd, u->old_fd);
		if (owned)
			close(prog_fd);
		if (r < 0)
			fail(t, s->path,
			     r == -EPERM ? "cannot update the link: it runs another program than "
					   "the plan saw"
					 : "cannot update the link",
			     r);
	}
	/* Nothing changed: no undo to run. */
	if (r < 0)
		undo_free(&t->undo[--t->n_undo]);
	return r;
}

static int step_attrs(struct txn *t, const struct plan_step *s)
{
	const struct observed_entry *h = t->in->plan->changes[s->change].have;
	int r = same_pin(t, s->path, s->ino);

	if (r < 0)
		return fail(t, s->path, "cannot change mode or owner", r);
	r = push(t, (struct undo){ .kind = UNDO_ATTRS,
				   .path = strdup(s->path),
				   .fd = -1,
				   .mode = h->mode,
				   .uid = h->uid,
				   .gid = h->gid });
	if (r < 0)
		return r;
	if (s->mode >= 0)
		r = sys_chmod(t->sys, s->path, (mode_t)s->mode);
	if (r < 0) {
		/* Nothing changed: no undo to run (and report as failing). */
		undo_free(&t->undo[--t->n_undo]);
		return fail(t, s->path, "cannot change mode or owner", r);
	}
	if (s->uid != PLAN_KEEP_ID || s->gid != PLAN_KEEP_ID)
		r = sys_chown(t->sys, s->path, (uid_t)s->uid, (gid_t)s->gid);
	return r < 0 ? fail(t, s->path, "cannot change mode or owner", r) : 0;
}

/* A directory the plan found empty once the steps before are taken; one
 * that is no longer the directory planned, or is not empty, stays. */
static int step_rmdir(struct txn *t, const struct plan_step *s)
{
	struct stat st;
	int r;

	if (sys_stat(t->sys, s->path, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_ino != s->ino)
		return 0;
	r = st.st_nlink > 2 ? -ENOTEMPTY : sys_rmdir(t->sys, s->path);
	if (r == -ENOTEMPTY || r == -EEXIST || r == -ENOENT)
		return 0;
	if (r < 0)
		return fail(t, s->path, s->leftover ? "cannot remove a leftover trash directory"
						    : "cannot remove the empty directory",
			    r);
	ledger_remove(&t->ledger, s->path);
	return push(t, (struct undo){ .kind = UNDO_MKDIR,
				      .path = strdup(s->path),
				      .fd = -1,
				      .mode = (mode_t)s->mode });
}

/* The manifests' directory records that stay: one no longer the directory
 * made goes; one recorded before it was made is known by its inode from
 * now on. */
static int settle_dirs(struct txn *t)
{
	for (size_t i = t->ledger.n; i-- > 0;) {
		const struct ledger_entry *e = &t->ledger.entries[i];
		struct stat st;

		if (!e->is_dir || !manifest_set_find(t->in->set, e->manifest))
			continue;
		if (sys_stat(t->sys, e->path, &st) < 0 || !S_ISDIR(st.st_mode) ||
		    !ledger_claims_dir(&t->ledger, e, st.st_ino)) {
			ledger_remove(&t->ledger, e->path);
			continue;
		}
		/* ledger_put copies the record before it frees the one replaced. */
		if (!e->ino) {
			int r = record_dir(&t->ledger, e->path, e->manifest, st.st_ino);

			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* What a pin is made from, for plans made offline: its object's digest,
 * and the programs it is, runs or holds with the tags the kernel gives
 * them (this run's load gave them: tags; else identity_load_tags() found
 * them for this run), into e, its programs into progs (borrowed names). */
static void record_progs(const struct txn *t, const struct desired_pin *w,
			 struct ledger_entry *e, struct ledger_prog *progs)
{
	const struct objfile *of = w->objfile;
	const struct desired_contents *c = w->contents;
	const struct loaded_tag *loaded = of ? t->tags[w->objfile_index] : NULL;

	if (!of)
		return;
	e->object = (char *)of->sha1;
	e->progs = progs;
	if (w->kind != KIND_MAP && (w->spec.has_tag || (loaded && loaded[w->index].has))) {
		progs[e->n_progs].name = of->progs[w->index].name;
		memcpy(progs[e->n_progs++].tag,
		       loaded && loaded[w->index].has ? loaded[w->index].tag : w->spec.tag, 8);
	}
	for (size_t j = 0; c && j < c->n; j++) {
		const struct desired_entry *en = &c->entries[j];

		if (!en->is_prog || !(en->has_tag || (loaded && loaded[en->prog].has)))
			continue;
		progs[e->n_progs].name = of->progs[en->prog].name;
		memcpy(progs[e->n_progs++].tag,
		       loaded && loaded[en->prog].has ? loaded[en->prog].tag : en->tag, 8);
	}
}

/* What the ledger keeps of the map pin h, for the next scan. */
static void seen_map(const struct observed_entry *h, struct ledger_map *m)
{
	*m = (struct ledger_map){ .mtime = h->mtime,
				  .type = h->type,
				  .key_size = h->key_size,
				  .value_size = h->value_size,
				  .max_entries = h->max_entries,
				  .map_flags = h->map_flags };
	memcpy(m->name, h->name, sizeof(m->name));
}

/* Records every declared pin as the manifest's, with the identity it has
 * now (as placed by this run, or as observed) and what it was made from. */
static int record_pins(struct txn *t)
{
	const struct desired *des = t->in->desired;
	_cleanup_free_ struct ledger_prog *progs = NULL;
	struct ledger_puts puts = { 0 };
	size_t n_progs = 1;
	int r;

	if (t->in->destroy)
		return 0;
	for (size_t i = 0; i < des->n_pins; i++)
		if (des->pins[i].contents && des->pins[i].contents->n >= n_progs)
			n_progs = des->pins[i].contents->n + 1;
	progs = calloc(n_progs, sizeof(*progs));
	if (!progs)
		return -ENOMEM;
	r = ledger_puts_begin(&t->ledger, des->n_pins, &puts);
	for (size_t i = 0; r == 0 && i < des->n_pins; i++) {
		const struct desired_pin *w = &des->pins[i];
		struct ledger_entry rec = { .path = w->path,
					    .manifest = w->manifest->name,
					    .ino = t->placed[i].ino,
					    .id = t->placed[i].id,
					    .has_map = t->placed[i].has_map,
					    .map = t->placed[i].map };
		const struct ledger_entry *old;
		const struct observed_entry *h;

		/* Outside --target: its record, if any, stays as it was. */
		if (t->in->plan->untargeted && t->in->plan->untargeted[i])
			continue;
		if (!rec.ino) {
			h = observed_find(t->in->observed, w->path);
			/* A skipped link owns nothing until its target appears. */
			if (!h && w->link && w->link->skipped)
				continue;
			if (!h) {
				r = fail(t, w->path, "the pin was neither found nor made", -ENOENT);
				break;
			}
			/* Kept: the tool's if it was, else adopted now. */
			old = ledger_find(&t->ledger, w->path);
			rec.adopted = ledger_claims(old, h->ino, h->id) ? old->adopted : true;
			rec.ino = h->ino;
			rec.id = h->id;
			rec.has_map = h->kind == OBSERVED_MAP;
			if (rec.has_map)
				seen_map(h, &rec.map);
		}
		record_progs(t, w, &rec, progs);
		r = ledger_puts_add(&puts, &rec);
	}
	if (puts.l)
		ledger_puts_end(&puts);
	return r;
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

/* Records the directories this run will make before it makes any, so that
 * a run killed half-way leaves directories the next run knows as its own,
 * and the run, before it makes its first temporary name. */
static int step_intent(struct txn *t)
{
	const struct plan *p = t->in->plan;
	_cleanup_free_ struct ledger_entry *dirs = calloc(p->n_steps + 1, sizeof(*dirs));
	size_t n = 0;
	int r;

	if (!dirs)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct plan_step *s = &p->steps[i];

		if (s->op == PLAN_OP_MKDIR && !ledger_find(&t->ledger, s->path))
			dirs[n++] = (struct ledger_entry){ .path = (char *)s->path,
							   .manifest = s->want->manifest->name,
							   .is_dir = true,
							   .run = t->run };
	}
	r = ledger_put_many(&t->ledger, dirs, n) ?: ledger_add_run(&t->ledger, t->run);
	if (r < 0)
		return r;
	t->ledger_existed = access(t->ledger.file, F_OK) == 0;
	r = save_ledger(t);
	t->intent_saved = r == 0;
	return r;
}

/* Released pins are forgotten, left in place; the ledger is what makes
 * them, and adoptions, final. */
static void release(struct txn *t)
{
	const struct plan *p = t->in->plan;

	for (size_t i = 0; i < p->n; i++)
		if (p->changes[i].action == PLAN_RELEASE)
			ledger_remove(&t->ledger, p->changes[i].path);
}

/* Adoptions and releases without a step of their own are done once the
 * ledger that records them is saved. */
static void recorded(struct txn *t)
{
	const struct plan *p = t->in->plan;

	for (size_t i = 0; i < p->n; i++)
		if ((p->changes[i].action == PLAN_RELEASE || p->changes[i].action == PLAN_ADOPT) &&
		    t->status[i] == APPLY_UNTRIED)
			t->status[i] = APPLY_DONE;
}

/* A retired manifest is forgotten once removed: what it made and this run
 * left in place (replaced by hand, not empty) is no longer its. */
static void forget_retired(struct txn *t)
{
	for (size_t i = t->ledger.n; i-- > 0;) {
		const struct manifest *m = manifest_set_find(t->in->set, t->ledger.entries[i].manifest);

		if (m && m->retired)
			ledger_remove(&t->ledger, t->ledger.entries[i].path);
	}
}

/* What the manifests own now, saved: after this nothing is undone. */
static int step_ledger(struct txn *t)
{
	int r = settle_dirs(t) ?: record_pins(t) ?: check_dirs(t);

	if (r < 0)
		return r;
	release(t);
	forget_retired(t);
	/* Every leftover of the runs recorded before was deleted by this plan;
	 * this run stays recorded while its trash still awaits the purge,
	 * should the purge be cut short. */
	ledger_clear_runs(&t->ledger);
	if (t->trash)
		r = ledger_add_run(&t->ledger, t->run);
	r = r ?: save_ledger(t);
	if (r == 0)
		recorded(t);
	return r;
}

/* After the ledger is written the old pins go for good.  A failure here
 * leaves pins in the trash that the next run removes. */
static int step_purge(struct txn *t)
{
	for (size_t i = 0; i < t->n_undo; i++)
		if (t->undo[i].kind == UNDO_MOVE_BACK)
			sys_unlink(&t->quiet, t->undo[i].aside);
	if (t->trash)
		sys_rmdir(&t->quiet, t->trash);
	return 0;
}

static int take(struct txn *t, size_t i)
{
	const struct plan_step *s = &t->in->plan->steps[i];

	switch (s->op) {
	case PLAN_OP_INTENT:
		return step_intent(t);
	case PLAN_OP_MKDIR:
		return step_mkdir(t, s);
	case PLAN_OP_LOAD:
		return step_load(t, i);
	case PLAN_OP_MIGRATE:
		return step_migrate(t, s);
	case PLAN_OP_MKMAP:
		return step_mkmap(t, s);
	case PLAN_OP_WRITE:
		return step_write(t, s);
	case PLAN_OP_ATTACH:
		return step_attach(t, s);
	case PLAN_OP_RELINK:
		return step_relink(t, s);
	case PLAN_OP_PIN:
		return step_pin(t, s);
	case PLAN_OP_RENAME:
	case PLAN_OP_EXCHANGE:
		return step_place(t, s);
	case PLAN_OP_MKTRASH:
		return step_mktrash(t, s);
	case PLAN_OP_TRASH:
		return step_trash(t, s);
	case PLAN_OP_ATTRS:
		return step_attrs(t, s);
	case PLAN_OP_RMDIR:
		return step_rmdir(t, s);
	case PLAN_OP_LEDGER:
		return step_ledger(t);
	case PLAN_OP_PURGE:
		return step_purge(t);
	case PLAN_OP_MAX:
		break;
	}
	return -EINVAL;
}

/* The one loop: each step announced, then taken unless this is a dry run.
 * A change is failed from its first step on, and done after its last. */
static int run(struct txn *t, bool dry_run)
{
	const struct plan *p = t->in->plan;
	int r = 0;

	for (size_t i = 0; i < p->n_steps && r == 0; i++) {
		size_t ci = p->steps[i].change;

		if (t->in->announce)
			t->in->announce(t->in->ctx, i);
		if (dry_run) {
			if (p->steps[i].op == PLAN_OP_LOAD)
				r = check_load(t, i);
			continue;
		}
		if (ci != PLAN_NO_CHANGE)
			t->status[ci] = APPLY_FAILED;
		r = take(t, i);
		if (r == 0 && ci != PLAN_NO_CHANGE && t->last_step[ci] == i) {
			t->status[ci] = APPLY_DONE;
			t->n_done++;
			if (t->in->progress)
				t->in->progress(t->in->ctx, t->n_done, p->n);
		}
	}
	return r;
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

static int prepare(struct txn *t)
{
	const struct plan *p = t->in->plan;
	size_t n_pins = t->in->desired->n_pins;

	t->last_step = calloc(p->n + 1, sizeof(*t->last_step));
	t->placed = calloc(n_pins + 1, sizeof(*t->placed));
	t->tags = calloc(t->in->desired->n_objfiles + 1, sizeof(*t->tags));
	if (!t->last_step || !t->placed || !t->tags)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_steps; i++)
		if (p->steps[i].change != PLAN_NO_CHANGE)
			t->last_step[p->steps[i].change] = i;
	return desired_pins_by_object(t->in->desired, &t->obj_first, &t->pin_next) ?:
	       ledger_copy(t->in->ledger, &t->ledger);
}

int apply_run(const struct apply_input *in, struct sys *sys, struct diag *d,
	      enum apply_status *status)
{
	struct txn t = {
		.in = in, .sys = sys, .d = d, .status = status, .ol.object = SIZE_MAX, .link_fd = -1,
		.map_fd = -1,
	};
	size_t errors = d->n_errors;
	mode_t umask_was;
	int r;

	for (size_t i = 0; i < in->plan->n; i++)
		status[i] = APPLY_UNTRIED;
	if (in->plan->n_refused)
		return refuse(in->plan, d);
	if (in->dry_run) {
		r = desired_pins_by_object(in->desired, &t.obj_first, &t.pin_next) ?: run(&t, true);
		free(t.obj_first);
		free(t.pin_next);
		return r;
	}
	run_token(t.run);
	r = sys_open_root(sys, in->root);
	if (r < 0)
		return diag_error(d, &(struct diag_loc){ .file = in->root },
				  "cannot open the root (apply needs it, and /proc): %s", DIAG_STRERROR(-r)),
		       r;
	t.quiet = sys_quiet(sys);
	/* Pins and directories are made with the steps' modes as they are: a
	 * direct pin is never seen with another mode, and none needs a chmod. */
	umask_was = umask(0);
	r = prepare(&t);
	if (r == 0)
		r = run(&t, false);
	object_load_done(&t.ol, in->desired);
	/* A link made and not yet pinned goes first: closed, it detaches. */
	if (t.link_fd >= 0)
		close(TAKE_FD(t.link_fd));
	if (t.map_fd >= 0)
		close(TAKE_FD(t.map_fd));
	if (r < 0) {
		size_t stuck = rollback(&t);

		if (in->not_undone)
			*in->not_undone = stuck;

		/* The intent record named directories that are gone again. */
		if (t.intent_saved && t.ledger_existed)
			ledger_save(in->ledger, d);
		else if (t.intent_saved)
			unlink(t.ledger.file);
		for (size_t i = 0; i < in->plan->n; i++)
			if (status[i] == APPLY_DONE)
				status[i] = APPLY_ROLLED_BACK;
		if (stuck)
			diag_error(d, NULL, "apply failed; %zu step%s could not be undone (see above)",
				   stuck, stuck == 1 ? "" : "s");
		/* -ENOMEM with nothing said is ours; the kernel's ENOMEM was reported. */
		else if (r == -ENOMEM && d->n_errors == errors)
			diag_error(d, NULL, "out of memory; every change was rolled back");
		else
			diag_error(d, NULL, "apply failed; every change was rolled back");
	} else {
		/* The new ledger replaces the loaded one. */
		ledger_done(in->ledger);
		*in->ledger = t.ledger;
		t.ledger = (struct ledger){ 0 };
	}
	for (size_t i = 0; i < t.n_undo; i++)
		undo_free(&t.undo[i]);
	free(t.undo);
	free(t.last_step);
	free(t.placed);
	for (size_t k = 0; t.tags && k < in->desired->n_objfiles; k++)
		free(t.tags[k]);
	free(t.tags);
	free(t.obj_first);
	free(t.pin_next);
	free(t.trash);
	ledger_done(&t.ledger);
	sys_close_root(sys);
	umask(umask_was);
	return r;
}
