// SPDX-License-Identifier: MIT
/* Observed stage: walks the live bpffs tree under a root and asks the kernel
 * what each pin is (BPF_OBJ_GET, then the object's info).  Its result is the
 * state plan.c diffs against the desired one; nothing here writes to bpffs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "cleanup.h"
#include "job.h"
#include "kind.h"
#include "model.h"
#include "observed.h"

/* Entries have at most this many path components; a directory at the limit
 * is listed but not entered, so a hostile tree cannot exhaust the stack.
 * The manifests' bound too, so that no declared pin lies beyond it. */
#define OBSERVED_MAX_DEPTH MODEL_MAX_DEPTH

struct walker {
	struct diag *d;
	char *path;      /* the root, then "/" and the current entry's relative path */
	size_t path_cap;
	size_t root_len; /* the root's part of path, without trailing slashes */
	dev_t dev;       /* the root's filesystem: other mounts below it are not entered */
	struct observed_entry *entries;
	size_t n, cap;
};

static const char *const kind_names[OBSERVED_KIND_MAX] = {
	[OBSERVED_DIR] = "dir",
	[OBSERVED_SYMLINK] = "symlink",
	[OBSERVED_UNKNOWN] = "unknown",
};

const char *observed_kind_str(enum observed_kind k)
{
	if ((unsigned)k < KIND_MAX)
		return kind_ops((enum kind)k)->name;
	return (unsigned)k < OBSERVED_KIND_MAX ? kind_names[k] : "unknown";
}

bool observed_is_pin(const struct observed_entry *e)
{
	return (unsigned)e->kind < KIND_MAX;
}

/* "/sys/fs/bpf/" and "/sys/fs/bpf" give the same paths in messages: the
 * root's length without trailing slashes. */
static size_t root_length(const char *root)
{
	size_t n = strlen(root);

	while (n > 0 && root[n - 1] == '/')
		n--;
	return n;
}

static const char *rel_path(const struct walker *w)
{
	return w->path + w->root_len + 1;
}

static void warn_at(struct walker *w, const char *what, int err)
{
	diag_warning(w->d, &(struct diag_loc){ .file = w->path }, "%s: %s", what, strerror(-err));
}

static int path_reserve(struct walker *w, size_t need)
{
	size_t cap = w->path_cap;
	char *p;

	if (need <= cap)
		return 0;
	while (cap < need)
		cap *= 2;
	p = realloc(w->path, cap);
	if (!p)
		return -ENOMEM;
	w->path = p;
	w->path_cap = cap;
	return 0;
}

/* Appends an entry for the current path; *ret_idx is its index, as the array
 * moves while it grows. */
static int add_entry(struct walker *w, const struct stat *st, enum observed_kind kind,
		     size_t *ret_idx)
{
	struct observed_entry *e;
	char *path;

	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;

		e = realloc(w->entries, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		w->entries = e;
		w->cap = cap;
	}
	path = strdup(rel_path(w));
	if (!path)
		return -ENOMEM;
	e = &w->entries[w->n];
	*e = (struct observed_entry){
		.path = path,
		.kind = kind,
	};
	if (st) {
		e->mode = st->st_mode & 07777;
		e->uid = st->st_uid;
		e->gid = st->st_gid;
		e->ino = st->st_ino;
		e->mtime = st->st_mtim;
	}
	*ret_idx = w->n++;
	return 0;
}

/* Opens the pin at path and fills e from what the kernel says.  The
 * object's kind is only told by the name of the fd's anonymous inode, read
 * in proc_fd (/proc/self/fd opened once: a readlink of the whole path walks
 * /proc again for every pin; -1 reads the whole path).  On failure
 * *ret_what says which step failed, for the message. */
static int query_pin(int proc_fd, const char *path, struct observed_entry *e,
		     const char **ret_what)
{
	_cleanup_close_ int fd = -1;
	char link[32], target[64];
	ssize_t n;
	int k, r;

	/* BPF_OBJ_GET resolves the whole path again and follows a final
	 * symlink: a pin replaced by a symlink since the walk's fstatat()
	 * would be followed.  That can only make this entry describe another
	 * object, nothing is opened for reading or writing. */
	*ret_what = "cannot open pin";
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	*ret_what = "cannot identify pin";
	if (proc_fd >= 0)
		snprintf(link, sizeof(link), "%d", fd);
	else
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlinkat(proc_fd >= 0 ? proc_fd : AT_FDCWD, link, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	k = kind_of_anon_inode(target);
	if (k < 0) {
		*ret_what = "pin of unknown kind";
		return -EPROTONOSUPPORT;
	}
	*ret_what = "cannot query pin";
	r = kind_ops((enum kind)k)->query(fd, e);
	if (r == 0)
		e->kind = (enum observed_kind)k;
	return r;
}

/* Fills e from the ledger's record of the map pin it is, if it has one:
 * an inode of bpffs holds the one object it was made with for its life, so
 * the same inode (and mtime, against a reused inode number) is the same
 * map. */
static bool known_map(const struct ledger *known, struct observed_entry *e)
{
	const struct ledger_entry *r = ledger_find(known, e->path);

	if (!ledger_knows_map(r, e->ino, &e->mtime))
		return false;
	e->kind = OBSERVED_MAP;
	e->id = r->id;
	e->type = r->map.type;
	memcpy(e->name, r->map.name, sizeof(e->name));
	e->key_size = r->map.key_size;
	e->value_size = r->map.value_size;
	e->max_entries = r->map.max_entries;
	e->map_flags = r->map.map_flags;
	return true;
}

/* A fresh bpffs holds the kernel's preloaded iterators "maps.debug" and
 * "progs.debug" at its top (mode 0400, root).  No one else can make these
 * names: bpffs refuses any user-made name with a dot (EPERM).  On kernel 6.18
 * both BPF_OBJ_GET and open() of them fail with ENOENT even for root, and
 * without CAP_DAC_OVERRIDE they fail with EACCES; elsewhere they open as
 * iterator links.  Either way they are listed, and such a failure is expected,
 * so it is not warned about. */
static bool is_kernel_preload(const char *path, int err)
{
	if (strcmp(path, "maps.debug") && strcmp(path, "progs.debug"))
		return false;
	return err == -ENOENT || err == -EACCES || err == -EPERM;
}

bool observed_is_kernel_file(const struct observed_entry *e)
{
	return e->kind == OBSERVED_UNKNOWN && is_kernel_preload(e->path, e->error);
}

static int walk_dir(struct walker *w, DIR *dir, size_t len, unsigned level, size_t dir_idx);

/* Lists the directory at the current path (entry dir_idx) and enters it. */
static int enter_dir(struct walker *w, int dfd, const char *name, const struct stat *st,
		     size_t len, unsigned level, size_t dir_idx)
{
	_cleanup_close_ int fd = -1;
	DIR *dir;
	int err;

	if (st->st_dev != w->dev) {
		w->entries[dir_idx].error = -EXDEV;
		diag_warning(w->d, &(struct diag_loc){ .file = w->path },
			     "directory not entered: another filesystem is mounted on it");
		return 0;
	}
	if (level >= OBSERVED_MAX_DEPTH) {
		w->entries[dir_idx].error = -ELOOP;
		diag_warning(w->d, &(struct diag_loc){ .file = w->path },
			     "directory not entered: deeper than %d levels", OBSERVED_MAX_DEPTH);
		return 0;
	}
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		w->entries[dir_idx].error = err;
		warn_at(w, "cannot open directory", err);
		return 0;
	}
	dir = fdopendir(fd);
	if (!dir) {
		err = -errno;
		w->entries[dir_idx].error = err;
		warn_at(w, "cannot open directory", err);
		return 0;
	}
	TAKE_FD(fd);
	err = walk_dir(w, dir, len, level + 1, dir_idx);
	closedir(dir);
	return err;
}

/* Lists one name of the directory dfd; the current path ends with it. */
static int scan_name(struct walker *w, int dfd, const char *name, size_t len, unsigned level)
{
	struct stat st;
	size_t idx;
	int err;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		err = -errno;
		/* Unlinked since readdir(): it is no longer there to report. */
		if (err == -ENOENT)
			return 0;
		if (add_entry(w, NULL, OBSERVED_UNKNOWN, &idx) < 0)
			return -ENOMEM;
		w->entries[idx].error = err;
		warn_at(w, "cannot stat", err);
		return 0;
	}
	if (S_ISLNK(st.st_mode))
		return add_entry(w, &st, OBSERVED_SYMLINK, &idx);
	if (S_ISDIR(st.st_mode)) {
		err = add_entry(w, &st, OBSERVED_DIR, &idx);
		if (err < 0)
			return err;
		return enter_dir(w, dfd, name, &st, len, level, idx);
	}
	/* A pin: asked about once the walk is done (observed_query()). */
	return add_entry(w, &st, OBSERVED_UNKNOWN, &idx);
}

/* Lists every name in dir, whose path is the first len bytes of w->path;
 * its entries are at the given level (1 directly under the root).  dir_idx is
 * the directory's entry, SIZE_MAX for the root. */
static int walk_dir(struct walker *w, DIR *dir, size_t len, unsigned level, size_t dir_idx)
{
	struct dirent *de;
	size_t name_len;
	int err;

	for (;;) {
		errno = 0;
		de = readdir(dir);
		if (!de)
			break;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		name_len = strlen(de->d_name);
		err = path_reserve(w, len + 1 + name_len + 1);
		if (err < 0)
			return err;
		w->path[len] = '/';
		memcpy(w->path + len + 1, de->d_name, name_len + 1);
		err = scan_name(w, dirfd(dir), de->d_name, len + 1 + name_len, level);
		if (err < 0)
			return err;
	}
	w->path[len] = '\0';
	if (errno) {
		err = -errno;
		if (dir_idx == SIZE_MAX)
			return err;
		w->entries[dir_idx].error = err;
		warn_at(w, "cannot read directory", err);
	}
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct observed_entry *x = a, *y = b;

	return strcmp(x->path, y->path);
}

static int entry_key_cmp(const void *key, const void *b)
{
	const struct observed_entry *y = b;

	return strcmp(key, y->path);
}

static void walker_done(struct walker *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->entries[i].path);
		free(w->entries[i].map_ids);
		free(w->entries[i].target);
	}
	free(w->entries);
	free(w->path);
}

int observed_walk(const char *root, struct diag *d, struct observed *ret)
{
	struct walker w = { .d = d };
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *root_copy = NULL;
	struct stat st;
	DIR *dir;
	int err;

	fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		diag_error(d, &(struct diag_loc){ .file = root }, "cannot open root: %s",
			   strerror(-err));
		return err;
	}
	if (fstat(fd, &st) < 0) {
		err = -errno;
		diag_error(d, &(struct diag_loc){ .file = root }, "cannot stat root: %s",
			   strerror(-err));
		return err;
	}
	w.dev = st.st_dev;

	w.root_len = root_length(root);
	w.path_cap = 256;
	err = -ENOMEM;
	root_copy = strdup(root);
	w.path = malloc(w.path_cap);
	if (!root_copy || !w.path || path_reserve(&w, w.root_len + 1) < 0)
		goto fail;
	memcpy(w.path, root, w.root_len);
	w.path[w.root_len] = '\0';

	dir = fdopendir(fd);
	if (!dir) {
		err = -errno;
		goto fail;
	}
	TAKE_FD(fd);
	err = walk_dir(&w, dir, w.root_len, 1, SIZE_MAX);
	closedir(dir);
	if (err < 0)
		goto fail;

	if (w.n)
		qsort(w.entries, w.n, sizeof(*w.entries), entry_cmp);
	/* The rest of the doubling is given back: on a large tree it is a
	 * tenth of a plan's memory. */
	if (w.n && w.n < w.cap) {
		struct observed_entry *fit = realloc(w.entries, w.n * sizeof(*fit));

		if (fit)
			w.entries = fit;
	}
	free(w.path);
	*ret = (struct observed){
		.root = TAKE_PTR(root_copy),
		.entries = w.entries,
		.n = w.n,
	};
	return 0;

fail:
	walker_done(&w);
	if (err == -ENOMEM)
		diag_error(d, &(struct diag_loc){ .file = root }, "cannot scan: out of memory");
	else
		diag_error(d, &(struct diag_loc){ .file = root }, "cannot read root: %s",
			   strerror(-err));
	return err;
}

/* A pin the walk could stat, not yet asked about. */
static bool to_ask(const struct observed_entry *e)
{
	return e->kind == OBSERVED_UNKNOWN && !e->error;
}

/* Opens the pins among entries [from, to) still to be asked about. */
static int query_range(struct observed *o, size_t from, size_t to, struct diag *d)
{
	size_t root_len = root_length(o->root);
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int proc_fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	size_t cap = 0;

	for (size_t i = from; i < to; i++) {
		struct observed_entry *e = &o->entries[i];
		size_t need = root_len + strlen(e->path) + 2;
		const char *what;
		int r;

		if (!to_ask(e))
			continue;
		if (need > cap) {
			char *p = realloc(path, need * 2);

			if (!p) {
				diag_error(d, &(struct diag_loc){ .file = o->root },
					   "cannot scan: out of memory");
				return -ENOMEM;
			}
			path = p;
			cap = need * 2;
		}
		snprintf(path, cap, "%.*s/%s", (int)root_len, o->root, e->path);
		r = query_pin(proc_fd, path, e, &what);
		if (r == -ENOMEM) {
			diag_error(d, &(struct diag_loc){ .file = path }, "cannot scan: out of memory");
			return r;
		}
		if (r < 0) {
			e->error = r;
			if (!is_kernel_preload(e->path, r))
				diag_warning(d, &(struct diag_loc){ .file = path }, "%s: %s", what,
					     strerror(-r));
		}
	}
	return 0;
}

/* The second half of the pins to open, asked about in a job. */
struct query_half {
	struct observed *o;
	size_t from;
	struct diag d;
	int r;
};

static void *query_second_half(void *arg)
{
	struct query_half *h = arg;

	h->r = query_range(h->o, h->from, h->o->n, &h->d);
	return NULL;
}

/* Opening a pin is four system calls (a tree of adopted or foreign pins
 * is mostly that): with this many or more to open they are shared with a
 * second thread.  Below, the thread costs about what it saves. */
#define QUERY_SPLIT_MIN 256

int observed_query(struct observed *o, const struct ledger *known, struct diag *d)
{
	struct query_half h = { .o = o };
	struct job second = { 0 };
	size_t to_open = 0;
	int r;

	for (size_t i = 0; i < o->n; i++)
		if (to_ask(&o->entries[i]) && !(known && known_map(known, &o->entries[i])))
			to_open++;
	if (to_open < QUERY_SPLIT_MIN)
		return query_range(o, 0, o->n, d);
	/* Split where half of them are behind: the warnings of the first
	 * half, then those of the second, keep the tree's order. */
	for (size_t behind = 0; behind < to_open / 2; h.from++)
		behind += to_ask(&o->entries[h.from]);
	job_start(&second, query_second_half, &h);
	r = query_range(o, 0, h.from, d);
	job_wait(&second);
	diag_move(d, &h.d, NULL, "");
	return r ?: h.r;
}

int observed_scan(const char *root, const struct ledger *known, struct diag *d,
		  struct observed *ret)
{
	int r = observed_walk(root, d, ret);

	if (r < 0)
		return r;
	r = observed_query(ret, known, d);
	if (r < 0)
		observed_done(ret);
	return r;
}

const struct observed_entry *observed_find(const struct observed *o, const char *path)
{
	if (!o || !o->n)
		return NULL;
	return bsearch(path, o->entries, o->n, sizeof(*o->entries), entry_key_cmp);
}

void observed_done(struct observed *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->n; i++) {
		free(o->entries[i].path);
		free(o->entries[i].map_ids);
		free(o->entries[i].target);
		if (o->entries[i].data) {
			free(o->entries[i].data->keys);
			free(o->entries[i].data->values);
			free(o->entries[i].data);
		}
	}
	free(o->entries);
	free(o->root);
	free(o->progs);
	for (size_t i = 0; i < o->n_ifaces; i++)
		free(o->ifaces[i].name);
	free(o->ifaces);
	for (size_t i = 0; i < o->n_cgroups; i++)
		free(o->cgroups[i].name);
	free(o->cgroups);
	free(o->cgroup2);
	*o = (struct observed){ 0 };
}

const uint8_t *observed_prog_tag(const struct observed *o, uint32_t id)
{
	size_t lo = 0, hi = o->n_progs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (o->progs[mid].id == id)
			return o->progs[mid].tag;
		if (o->progs[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool observed_name_id(const struct observed_name *names, size_t n, const char *name,
		      uint64_t *ret)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i].name, name) == 0) {
			*ret = names[i].id;
			return true;
		}
	return false;
}
