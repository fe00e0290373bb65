// SPDX-License-Identifier: MIT
/* Ledger: the record of what this tool created under a root, read before
 * planning and written after a successful apply, as JSON (jansson). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "escape.h"
#include "atomicfile.h"
#include "cleanup.h"
#include "input.h"
#include "ledger.h"
#include "model.h"
#include "prefault.h"

#define LEDGER_FORMAT 1

static const char *runtime_dir(void)
{
	const char *d = getenv("BPF_PROVISION_RUNTIME_DIR");

	return d && *d ? d : "/run/bpf-provision";
}

/* The runtime directory, made on first use (0700: ledgers say what is
 * whose).  What it holds decides what is deleted, so it must be a real
 * directory of this user that no one else can write to: a symlink, or a
 * directory others can write, could steer the ledger and the lock. */
static int check_runtime_dir(struct diag *d, bool create)
{
	const struct diag_loc loc = { .file = runtime_dir() };
	struct stat st;
	int r;

	if (create && mkdir(runtime_dir(), 0700) < 0 && errno != EEXIST) {
		r = -errno;
		return diag_error(d, &loc, "cannot create the runtime directory: %s", DIAG_STRERROR(-r)),
		       r;
	}
	if (lstat(runtime_dir(), &st) < 0) {
		r = -errno;
		if (r == -ENOENT && !create)
			return r;
		return diag_error(d, &loc, "cannot read the runtime directory: %s", DIAG_STRERROR(-r)), r;
	}
	if (S_ISLNK(st.st_mode))
		return diag_error(d, &loc, "the runtime directory is a symlink; refusing to follow it"),
		       -ELOOP;
	if (!S_ISDIR(st.st_mode))
		return diag_error(d, &loc, "the runtime directory is not a directory"), -ENOTDIR;
	if (st.st_uid != geteuid() || (st.st_mode & 022))
		return diag_error(d, &loc,
				  "the runtime directory must belong to uid %u and be writable by "
				  "no one else (it is uid %u, mode %04o)",
				  (unsigned)geteuid(), (unsigned)st.st_uid,
				  (unsigned)(st.st_mode & 07777)),
		       -EPERM;
	return 0;
}

/* One root is one directory of one bpffs mount, however it is spelled
 * (a trailing slash, "//", "/./", a symlink, a bind mount): the ledger is
 * named after the mount's device and the directory's inode, and the lock
 * after the device alone, so that every root of one bpffs, nested ones
 * included, serializes on one lock.  A remount is a new device: its ledger
 * starts empty, as its tree does. */
static int legacy_path(const char *root, char **ret);

static int root_identity(const char *root, struct stat *st)
{
	return stat(root, st) < 0 ? -errno : 0;
}

int ledger_path(const char *root, char **ret)
{
	struct stat st;

	if (root_identity(root, &st) < 0)
		return legacy_path(root, ret);
	if (asprintf(ret, "%s/ledger-%u_%u-%llu.json", runtime_dir(), major(st.st_dev),
		     minor(st.st_dev), (unsigned long long)st.st_ino) < 0)
		return -ENOMEM;
	return 0;
}

static int lock_path(const char *root, char **ret)
{
	struct stat st;
	int r = root_identity(root, &st);

	if (r < 0)
		return r;
	if (asprintf(ret, "%s/ledger-%u_%u.lock", runtime_dir(), major(st.st_dev), minor(st.st_dev)) < 0)
		return -ENOMEM;
	return 0;
}

/* The name ledgers had before they were keyed by identity, after the
 * root's spelling; read once so that an upgrade within a boot keeps what
 * it owns, and used for a root that does not exist (nothing to own). */
static int legacy_path(const char *root, char **ret)
{
	_cleanup_free_ char *esc = malloc(strlen(root) * 4 + 2);
	size_t o = 0;

	if (!esc)
		return -ENOMEM;
	/* systemd-escape style: '/' -> '-', anything unusual -> \xNN. */
	for (const char *c = root[0] == '/' ? root + 1 : root; *c; c++) {
		if (*c == '/')
			esc[o++] = '-';
		else if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			 (*c >= '0' && *c <= '9') || *c == '_' || *c == '.')
			esc[o++] = *c;
		else
			o += (size_t)sprintf(esc + o, "\\x%02x", (unsigned char)*c);
	}
	esc[o] = '\0';
	if (asprintf(ret, "%s/ledger-%s.json", runtime_dir(), o ? esc : "-") < 0)
		return -ENOMEM;
	return 0;
}

static int cmp_entries(const void *a, const void *b)
{
	return strcmp(((const struct ledger_entry *)a)->path, ((const struct ledger_entry *)b)->path);
}

/* Puts the records in order, those before sorted being in order already:
 * the others are sorted (when they are not in order already, as a file's
 * and an apply's are) and merged with them, in O(n) for records that go
 * after them all, as a first apply's do. */
static void sort_from(struct ledger *l, size_t sorted)
{
	struct ledger_entry *all = l->entries, *tmp;
	size_t n = l->n - sorted, i, j, k;
	bool in_order = true;

	for (size_t x = sorted + 1; x < l->n && in_order; x++)
		in_order = cmp_entries(&all[x - 1], &all[x]) < 0;
	if (!in_order)
		qsort(all + sorted, n, sizeof(*all), cmp_entries);
	if (!n || !sorted || cmp_entries(&all[sorted - 1], &all[sorted]) < 0)
		return;
	/* The smaller run is set aside, and the merge fills from the end it
	 * leaves free: it never overtakes what it has still to read. */
	tmp = malloc((sorted < n ? sorted : n) * sizeof(*tmp));
	if (!tmp) {
		qsort(all, l->n, sizeof(*all), cmp_entries);
		return;
	}
	if (sorted < n) {
		memcpy(tmp, all, sorted * sizeof(*tmp));
		for (i = 0, j = sorted, k = 0; i < sorted; k++)
			all[k] = j < l->n && cmp_entries(&all[j], &tmp[i]) < 0 ? all[j++] : tmp[i++];
	} else {
		memcpy(tmp, all + sorted, n * sizeof(*tmp));
		for (i = sorted, j = n, k = l->n; j > 0;)
			all[--k] = i > 0 && cmp_entries(&all[i - 1], &tmp[j - 1]) > 0 ? all[--i]
										: tmp[--j];
	}
	free(tmp);
}

static void entry_done(struct ledger_entry *e)
{
	free(e->path);
	free(e->manifest);
	free(e->run);
	free(e->object);
	for (size_t i = 0; i < e->n_progs; i++)
		free(e->progs[i].name);
	free(e->progs);
}

/* Fields of a record, read with json_object_get(): json_unpack() parsing
 * its format for every record was a tenth of a large plan.  Each is NULL
 * when absent, false when of another type. */
static bool string_field(json_t *v, const char *key, bool need, const char **ret)
{
	json_t *f = json_object_get(v, key);

	*ret = json_string_value(f);
	return f ? *ret != NULL : !need;
}

static bool int_field(json_t *v, const char *key, json_int_t *ret)
{
	json_t *f = json_object_get(v, key);

	*ret = json_integer_value(f);
	return !f || json_is_integer(f);
}

static bool bool_field(json_t *v, const char *key, bool *ret)
{
	json_t *f = json_object_get(v, key);

	*ret = json_is_true(f);
	return !f || json_is_boolean(f);
}

/* "object" and "programs" of a pin's record (ledger.h). */
static int parse_progs(json_t *v, struct ledger_entry *e)
{
	const char *object;
	json_t *progs = json_object_get(v, "programs"), *p;
	size_t i;

	if (!string_field(v, "object", false, &object) || (progs && !json_is_array(progs)))
		return -EINVAL;
	if (object && !(e->object = strdup(object)))
		return -ENOMEM;
	if (!json_array_size(progs))
		return 0;
	e->progs = calloc(json_array_size(progs), sizeof(*e->progs));
	if (!e->progs)
		return -ENOMEM;
	json_array_foreach(progs, i, p) {
		const char *name, *tag;
		struct ledger_prog *lp = &e->progs[e->n_progs];

		if (json_unpack(p, "{s:s, s:s}", "name", &name, "tag", &tag) < 0 ||
		    escape_unhex(tag, lp->tag, sizeof(lp->tag)) < 0)
			return -EINVAL;
		if (!(lp->name = strdup(name)))
			return -ENOMEM;
		e->n_progs++;
	}
	return 0;
}

static json_t *progs_json(const struct ledger_entry *e)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < e->n_progs; i++) {
		char tag[17];

		escape_hex(e->progs[i].tag, sizeof(e->progs[i].tag), tag);
		if (json_array_append_new(a, json_pack("{s:s, s:s}", "name", e->progs[i].name,
						       "tag", tag)) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

const uint8_t *ledger_prog_tag(const struct ledger_entry *e, const char *object, const char *name)
{
	if (!e || !e->object || !object || strcmp(e->object, object) != 0)
		return NULL;
	for (size_t i = 0; i < e->n_progs; i++)
		if (strcmp(e->progs[i].name, name) == 0)
			return e->progs[i].tag;
	return NULL;
}

void ledger_clear_runs(struct ledger *l)
{
	for (size_t i = 0; i < l->n_runs; i++)
		free(l->runs[i]);
	free(l->runs);
	l->runs = NULL;
	l->n_runs = 0;
}

void ledger_done(struct ledger *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		entry_done(&l->entries[i]);
	free(l->entries);
	free(l->file);
	free(l->legacy_file);
	ledger_clear_runs(l);
	*l = (struct ledger){ 0 };
}

bool ledger_has_run(const struct ledger *l, const char *token, size_t len)
{
	for (size_t i = 0; i < l->n_runs; i++)
		if (strlen(l->runs[i]) == len && memcmp(l->runs[i], token, len) == 0)
			return true;
	return false;
}

enum ledger_temp ledger_temp_of(const struct ledger *l, const char *path)
{
	const size_t plen = strlen(PLAN_TEMP_PREFIX);

	for (const char *c = path; c; c = strchr(c, '/') ? strchr(c, '/') + 1 : NULL) {
		const char *rest = c + plen, *end = strchr(c, '/'), *us;

		if (strncmp(c, PLAN_TEMP_PREFIX, plen) != 0)
			continue;
		if (!end)
			end = c + strlen(c);
		if (c == path && strncmp(rest, "trash_", 6) == 0) {
			if (!ledger_has_run(l, rest + 6, (size_t)(end - rest - 6)))
				return LEDGER_TEMP_NONE;
			return *end == '/' ? LEDGER_TEMP_IN_TRASH : LEDGER_TEMP_TRASH;
		}
		us = memrchr(rest, '_', (size_t)(end - rest));
		if (!us || us + 1 == end || strspn(us + 1, "0123456789") != (size_t)(end - us - 1))
			return LEDGER_TEMP_NONE;
		return ledger_has_run(l, rest, (size_t)(us - rest)) ? LEDGER_TEMP_PIN
								    : LEDGER_TEMP_NONE;
	}
	return LEDGER_TEMP_NONE;
}

int ledger_add_run(struct ledger *l, const char *token)
{
	char **runs;

	if (ledger_has_run(l, token, strlen(token)))
		return 0;
	runs = realloc(l->runs, (l->n_runs + 1) * sizeof(*runs));
	if (!runs)
		return -ENOMEM;
	l->runs = runs;
	runs[l->n_runs] = strdup(token);
	if (!runs[l->n_runs])
		return -ENOMEM;
	l->n_runs++;
	return 0;
}

/* A record's "seen" (struct ledger_map): six integers and the name, read
 * and written item by item like the rest of a record; absent is no map
 * known. */
#define SEEN_INTS 6

static int parse_map(json_t *v, struct ledger_entry *e)
{
	struct ledger_map *m = &e->map;
	json_int_t f[SEEN_INTS];
	const char *name;

	if (!v)
		return 0;
	name = json_string_value(json_array_get(v, SEEN_INTS));
	if (json_array_size(v) != SEEN_INTS + 1 || !name || strlen(name) >= sizeof(m->name))
		return -EINVAL;
	for (size_t i = 0; i < SEEN_INTS; i++) {
		json_t *x = json_array_get(v, i);

		if (!json_is_integer(x))
			return -EINVAL;
		f[i] = json_integer_value(x);
	}
	if (f[0] < 0)
		return -EINVAL;
	m->mtime = (struct timespec){ .tv_sec = (time_t)(f[0] / 1000000000),
				      .tv_nsec = (long)(f[0] % 1000000000) };
	m->type = (uint32_t)f[1];
	m->key_size = (uint32_t)f[2];
	m->value_size = (uint32_t)f[3];
	m->max_entries = (uint32_t)f[4];
	m->map_flags = (uint32_t)f[5];
	strcpy(m->name, name);
	e->has_map = true;
	return 0;
}

static json_t *map_json(const struct ledger_map *m)
{
	const json_int_t f[SEEN_INTS] = {
		(json_int_t)m->mtime.tv_sec * 1000000000 + m->mtime.tv_nsec,
		m->type, m->key_size, m->value_size, m->max_entries, m->map_flags,
	};
	json_t *a = json_array();

	for (size_t i = 0; a && i < SEEN_INTS; i++)
		if (json_array_append_new(a, json_integer(f[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	if (a && json_array_append_new(a, json_string(m->name)) < 0) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* One record of the entries array into the next slot of l, which has room. */
static int entry_from_json(json_t *v, struct ledger *l)
{
	const char *path, *manifest, *run;
	json_int_t ino, id;
	struct ledger_entry *e = &l->entries[l->n];

	if (!string_field(v, "path", true, &path) || !string_field(v, "manifest", true, &manifest) ||
	    !string_field(v, "run", false, &run) || !bool_field(v, "dir", &e->is_dir) ||
	    !bool_field(v, "adopted", &e->adopted) || !int_field(v, "ino", &ino) ||
	    !int_field(v, "id", &id))
		return -EINVAL;
	e->path = strdup(path);
	e->manifest = strdup(manifest);
	e->run = run ? strdup(run) : NULL;
	l->n++;
	if (!e->path || !e->manifest || (run && !e->run))
		return -ENOMEM;
	e->ino = (uint64_t)ino;
	e->id = (uint32_t)id;
	return parse_progs(v, e) ?: parse_map(json_object_get(v, "seen"), e);
}

static int runs_from_json(json_t *runs, struct ledger *l)
{
	json_t *v;
	size_t i;

	if (!json_is_array(runs))
		return -EINVAL;
	json_array_foreach(runs, i, v) {
		if (!json_is_string(v))
			return -EINVAL;
		if (ledger_add_run(l, json_string_value(v)) < 0)
			return -ENOMEM;
	}
	return 0;
}

int ledger_from_json(struct json_t *root, struct ledger *l)
{
	json_t *pins = json_object_get(root, "entries"), *runs = json_object_get(root, "runs"), *v;
	size_t i;
	int r;

	if (json_integer_value(json_object_get(root, "format_version")) != LEDGER_FORMAT ||
	    !json_is_array(pins) || (runs && runs_from_json(runs, l) < 0))
		return -EINVAL;
	l->entries = calloc(json_array_size(pins) + 1, sizeof(*l->entries));
	if (!l->entries)
		return -ENOMEM;
	json_array_foreach(pins, i, v) {
		r = entry_from_json(v, l);
		if (r < 0)
			return r;
	}
	sort_from(l, 0);
	return 0;
}

/* The ledger document is read value by value, each record parsed and
 * freed before the next, so that the JSON tree of a large ledger (some
 * 850 bytes per pin) is never held whole. */
struct reader {
	const char *text;
	size_t len, at;
};

static void skip_space(struct reader *rd)
{
	while (rd->at < rd->len && memchr(" \t\r\n", rd->text[rd->at], 4))
		rd->at++;
}

static bool next_is(struct reader *rd, char c)
{
	skip_space(rd);
	if (rd->at == rd->len || rd->text[rd->at] != c)
		return false;
	rd->at++;
	return true;
}

static json_t *next_value(struct reader *rd)
{
	json_error_t jerr;
	json_t *v = json_loadb(rd->text + rd->at, rd->len - rd->at,
			       JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, &jerr);

	if (v)
		rd->at += (size_t)jerr.position;
	return v;
}

/* How many records the rest of the text holds at most: every one has a
 * "path" key, and a string value cannot hold that quote unescaped.  Sized
 * so, the entries are not copied on every doubling (on 1k pins, half the
 * pages the ledger's reading touched). */
static size_t records_left(const struct reader *rd)
{
	static const char key[] = "\"path\":";
	const char *p = rd->text + rd->at, *end = rd->text + rd->len;
	size_t n = 0;

	while ((p = memmem(p, (size_t)(end - p), key, sizeof(key) - 1))) {
		n++;
		p += sizeof(key) - 1;
	}
	return n;
}

static int entries_from_text(struct reader *rd, struct ledger *l)
{
	size_t cap = 0;
	int r = 0;

	if (!next_is(rd, '['))
		return -EINVAL;
	if (next_is(rd, ']'))
		return 0;
	cap = records_left(rd);
	l->entries = cap ? malloc((cap + 1) * sizeof(*l->entries)) : NULL;
	if (cap && !l->entries)
		return -ENOMEM;
	if (cap)
		prefault(l->entries, cap * sizeof(*l->entries));
	do {
		json_t *v = next_value(rd);

		if (!v)
			return -EINVAL;
		if (l->n == cap) {
			struct ledger_entry *grown;

			cap = cap ? 2 * cap : 64;
			grown = realloc(l->entries, (cap + 1) * sizeof(*grown));
			if (!grown) {
				json_decref(v);
				return -ENOMEM;
			}
			l->entries = grown;
		}
		/* Only the slot filled is cleared: the rest of the doubling is
		 * never touched, so never paged in. */
		memset(&l->entries[l->n], 0, sizeof(*l->entries));
		r = entry_from_json(v, l);
		json_decref(v);
	} while (r == 0 && next_is(rd, ','));
	return r ?: next_is(rd, ']') ? 0 : -EINVAL;
}

/* What ledger_from_json() reads from the document's tree, from its text. */
static int ledger_from_text(const char *text, size_t len, struct ledger *l)
{
	struct reader rd = { .text = text, .len = len };
	bool version = false, entries = false;
	int r = 0;

	if (!next_is(&rd, '{'))
		return -EINVAL;
	do {
		json_t *key = next_value(&rd), *v = NULL;

		if (!json_is_string(key) || !next_is(&rd, ':')) {
			json_decref(key);
			return -EINVAL;
		}
		if (strcmp(json_string_value(key), "entries") == 0) {
			/* Twice would append to records sized for the first. */
			r = entries ? -EINVAL : entries_from_text(&rd, l);
			entries = true;
		} else if (!(v = next_value(&rd))) {
			r = -EINVAL;
		} else if (strcmp(json_string_value(key), "format_version") == 0) {
			version = json_integer_value(v) == LEDGER_FORMAT && json_is_integer(v);
		} else if (strcmp(json_string_value(key), "runs") == 0) {
			r = runs_from_json(v, l);
		}
		json_decref(v);
		json_decref(key);
	} while (r == 0 && next_is(&rd, ','));
	if (r < 0)
		return r;
	if (!next_is(&rd, '}') || !version || !entries)
		return -EINVAL;
	/* The rest of the doubling is given back (ledger_put_many() grows it
	 * again as it needs). */
	if (l->n) {
		struct ledger_entry *fit = realloc(l->entries, (l->n + 1) * sizeof(*fit));

		if (fit)
			l->entries = fit;
	}
	skip_space(&rd);
	if (rd.at != rd.len)
		return -EINVAL;
	sort_from(l, 0);
	return 0;
}

int ledger_load(const char *root, struct diag *d, struct ledger *ret)
{
	struct ledger l = { 0 };
	_cleanup_free_ char *legacy = NULL, *text = NULL;
	_cleanup_close_ int fd = -1;
	size_t len = 0;
	struct stat st = { 0 };
	int r;

	r = ledger_path(root, &l.file);
	if (r < 0)
		return r;
	/* Read where it is, made only by what writes. */
	r = check_runtime_dir(d, false);
	if (r == -ENOENT) {
		*ret = l;
		return 0;
	}
	if (r < 0) {
		ledger_done(&l);
		return r;
	}
	fd = open(l.file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT) {
		/* Written by an older version under the root's spelling. */
		r = legacy_path(root, &legacy);
		if (r < 0) {
			ledger_done(&l);
			return r;
		}
		fd = open(legacy, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd >= 0)
			l.legacy_file = TAKE_PTR(legacy);
		else
			errno = ENOENT;
	}
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT) {
			*ret = l;
			return 0;
		}
		diag_error(d, &(struct diag_loc){ .file = l.file }, "cannot open the ledger: %s",
			   DIAG_STRERROR(-r));
		ledger_done(&l);
		return r;
	}
	/* Read whole, then parsed: jansson reads an fd one byte per call. */
	if (fstat(fd, &st) < 0)
		r = -errno;
	else
		r = S_ISREG(st.st_mode) ? input_read(fd, (size_t)st.st_size, SIZE_MAX / 4, &text, &len)
					: -EINVAL;
	if (r < 0) {
		diag_error(d, &(struct diag_loc){ .file = l.file }, "cannot read the ledger: %s",
			   r == -EINVAL ? "not a regular file" : DIAG_STRERROR(-r));
		ledger_done(&l);
		return r;
	}
	r = ledger_from_text(text, len, &l);
	if (r < 0) {
		if (r == -EINVAL)
			diag_error(d, &(struct diag_loc){ .file = l.file },
				   "the ledger is corrupt; move it away to start afresh");
		ledger_done(&l);
		return r;
	}
	*ret = l;
	return 0;
}

/* One record as the file holds it; NULL on -ENOMEM.  Built without
 * json_pack(): its format parsing was a tenth of a large apply. */
static json_t *entry_json(const struct ledger_entry *e)
{
	json_t *j = json_object();
	int bad = !j;

#define SET(key, value) (bad = bad || json_object_set_new_nocheck(j, key, value) < 0)
	SET("path", json_string(e->path));
	SET("manifest", json_string(e->manifest));
	if (e->is_dir)
		SET("dir", json_true());
	SET("ino", json_integer((json_int_t)e->ino));
	if (!e->is_dir)
		SET("id", json_integer((json_int_t)e->id));
	if (e->run)
		SET("run", json_string(e->run));
	/* The object only names what the programs' tags were taken from. */
	if (e->object && e->n_progs) {
		SET("object", json_string(e->object));
		SET("programs", progs_json(e));
	}
	if (e->has_map)
		SET("seen", map_json(&e->map));
	if (e->adopted)
		SET("adopted", json_true());
#undef SET
	if (bad) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *runs_json(const struct ledger *l)
{
	json_t *runs = json_array();

	for (size_t i = 0; runs && i < l->n_runs; i++)
		if (json_array_append_new(runs, json_string(l->runs[i])) < 0) {
			json_decref(runs);
			return NULL;
		}
	return runs;
}

struct json_t *ledger_to_json(const struct ledger *l)
{
	json_t *entries = json_array();

	for (size_t i = 0; entries && i < l->n; i++)
		if (json_array_append_new(entries, entry_json(&l->entries[i])) < 0) {
			json_decref(entries);
			entries = NULL;
		}
	if (!entries)
		return NULL;
	return json_pack("{s:i, s:o, s:o}", "format_version", LEDGER_FORMAT, "runs", runs_json(l),
			 "entries", entries);
}

/* json_dumpf() writes token by token: a record is dumped whole into a
 * buffer, then written. */
static int write_value(json_t *j, FILE *f)
{
	char buf[1024];
	size_t n = json_dumpb(j, buf, sizeof(buf), JSON_COMPACT);
	_cleanup_free_ char *big = NULL;

	if (n > sizeof(buf)) {
		big = malloc(n);
		if (!big)
			return -ENOMEM;
		n = json_dumpb(j, big, n, JSON_COMPACT);
	}
	if (!n)
		return -ENOMEM;
	return fwrite(big ? big : buf, n, 1, f) == 1 ? 0 : -EIO;
}

/* The document ledger_to_json() makes, written record by record: the tree
 * of a large ledger (some 900 bytes per pin) is never held whole.  jansson
 * writes every value; only the punctuation between them is written here.
 * The head is the document without its entries, which go last. */
static int write_ledger(FILE *f, void *ctx)
{
	const struct ledger *l = ctx;
	json_t *head = json_pack("{s:i, s:o}", "format_version", LEDGER_FORMAT, "runs", runs_json(l));
	_cleanup_free_ char *text = head ? json_dumps(head, JSON_COMPACT) : NULL;
	int r = 0;

	json_decref(head);
	if (!text)
		return -ENOMEM;
	/* text is "{...}": the entries go before its closing brace. */
	text[strlen(text) - 1] = '\0';
	if (fputs(text, f) == EOF || fputs(",\"entries\":[", f) == EOF)
		return -EIO;
	for (size_t i = 0; i < l->n && r == 0; i++) {
		json_t *j = entry_json(&l->entries[i]);

		if (!j)
			return -ENOMEM;
		if (i && fputc(',', f) == EOF)
			r = -EIO;
		r = r ?: write_value(j, f);
		json_decref(j);
	}
	return r ?: fputs("]}", f) == EOF ? -EIO : 0;
}

int ledger_save(const struct ledger *l, struct diag *d)
{
	int r = check_runtime_dir(d, true);

	if (r < 0)
		return r;
	r = atomicfile_write_with(l->file, 0600, write_ledger, (void *)l);
	if (r < 0)
		return diag_error(d, &(struct diag_loc){ .file = l->file },
				  "cannot write the ledger: %s", DIAG_STRERROR(-r)),
		       r;
	/* Now under its identity's name: the old spelling's file goes. */
	if (l->legacy_file)
		unlink(l->legacy_file);
	return 0;
}

const struct ledger_entry *ledger_find(const struct ledger *l, const char *path)
{
	struct ledger_entry key = { .path = (char *)path };

	if (!l->n)
		return NULL;
	return bsearch(&key, l->entries, l->n, sizeof(*l->entries), cmp_entries);
}

bool ledger_claims(const struct ledger_entry *e, uint64_t ino, uint32_t id)
{
	return e && !e->is_dir && e->ino == ino && e->id == id;
}

bool ledger_knows_map(const struct ledger_entry *e, uint64_t ino, const struct timespec *mtime)
{
	return e && e->has_map && !e->is_dir && e->ino == ino &&
	       e->map.mtime.tv_sec == mtime->tv_sec && e->map.mtime.tv_nsec == mtime->tv_nsec;
}

bool ledger_claims_dir(const struct ledger *l, const struct ledger_entry *e, uint64_t ino)
{
	if (!e->is_dir)
		return false;
	return e->ino ? e->ino == ino : e->run && ledger_has_run(l, e->run, strlen(e->run));
}

static int entry_copy(const struct ledger_entry *e, struct ledger_entry *ret)
{
	struct ledger_entry c = { .path = strdup(e->path),
				  .manifest = strdup(e->manifest),
				  .is_dir = e->is_dir,
				  .adopted = e->adopted,
				  .ino = e->ino,
				  .id = e->id,
				  .run = e->run ? strdup(e->run) : NULL,
				  .object = e->object ? strdup(e->object) : NULL,
				  .progs = calloc(e->n_progs + 1, sizeof(*c.progs)),
				  .has_map = e->has_map,
				  .map = e->map };
	bool ok = c.path && c.manifest && (!e->run || c.run) && (!e->object || c.object) && c.progs;

	for (size_t i = 0; ok && i < e->n_progs; i++, c.n_progs++) {
		c.progs[i] = e->progs[i];
		ok = (c.progs[i].name = strdup(e->progs[i].name)) != NULL;
	}
	if (!ok) {
		entry_done(&c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

int ledger_puts_begin(struct ledger *l, size_t n, struct ledger_puts *ret)
{
	struct ledger_entry *entries = realloc(l->entries, (l->n + n + 1) * sizeof(*entries));

	if (!entries)
		return -ENOMEM;
	l->entries = entries;
	*ret = (struct ledger_puts){ .l = l, .room = n };
	return 0;
}

int ledger_puts_add(struct ledger_puts *p, const struct ledger_entry *e)
{
	struct ledger *l = p->l;
	/* Only the records from before: those put so far lie past l->n. */
	struct ledger_entry *found = (struct ledger_entry *)ledger_find(l, e->path), copy;
	int r;

	if (!found && p->added == p->room)
		return -ENOBUFS;
	r = entry_copy(e, found ? &copy : &l->entries[l->n + p->added]);
	if (r < 0)
		return r;
	if (found) {
		entry_done(found);
		*found = copy;
	} else {
		p->added++;
	}
	return 0;
}

void ledger_puts_end(struct ledger_puts *p)
{
	size_t sorted = p->l->n;

	p->l->n += p->added;
	sort_from(p->l, sorted);
	p->added = 0;
}

int ledger_put_many(struct ledger *l, const struct ledger_entry *e, size_t n)
{
	struct ledger_puts p = { 0 };
	int r = ledger_puts_begin(l, n, &p);

	for (size_t i = 0; r == 0 && i < n; i++)
		r = ledger_puts_add(&p, &e[i]);
	if (p.l)
		ledger_puts_end(&p);
	return r;
}

int ledger_put(struct ledger *l, const struct ledger_entry *e)
{
	return ledger_put_many(l, e, 1);
}

int ledger_copy(const struct ledger *from, struct ledger *to)
{
	*to = (struct ledger){ .file = strdup(from->file),
			       .legacy_file = from->legacy_file ? strdup(from->legacy_file) : NULL,
			       .entries = calloc(from->n + 1, sizeof(*to->entries)) };
	if (!to->file || !to->entries || (from->legacy_file && !to->legacy_file))
		return -ENOMEM;
	for (size_t i = 0; i < from->n; i++, to->n++)
		if (entry_copy(&from->entries[i], &to->entries[i]) < 0)
			return -ENOMEM;
	for (size_t i = 0; i < from->n_runs; i++)
		if (ledger_add_run(to, from->runs[i]) < 0)
			return -ENOMEM;
	return 0;
}

void ledger_remove(struct ledger *l, const char *path)
{
	struct ledger_entry *e = (struct ledger_entry *)ledger_find(l, path);
	size_t at;

	if (!e)
		return;
	at = (size_t)(e - l->entries);
	entry_done(e);
	memmove(e, e + 1, (l->n - at - 1) * sizeof(*e));
	l->n--;
}

int ledger_lock(const char *root, double timeout, struct diag *d, int *ret_fd)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	struct timespec start, now;
	int r;

	r = lock_path(root, &path);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return diag_error(d, &(struct diag_loc){ .file = root }, "cannot read the root: %s",
				  DIAG_STRERROR(-r)),
		       r;
	r = check_runtime_dir(d, true);
	if (r < 0)
		return r;
	/* Never through a symlink someone planted at the lock's name. */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	if (fd < 0) {
		r = -errno;
		return diag_error(d, &(struct diag_loc){ .file = path }, "cannot open the lock: %s",
				  DIAG_STRERROR(-r)),
		       r;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			r = -errno;
			return diag_error(d, &(struct diag_loc){ .file = path },
					  "cannot take the lock: %s", DIAG_STRERROR(-r)),
			       r;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9 >=
		    timeout)
			return diag_error(d, &(struct diag_loc){ .file = root },
					  "another bpf-provision run holds the lock on this root "
					  "(waited %g s; see --lock-timeout)",
					  timeout),
			       -ETIMEDOUT;
		usleep(50 * 1000);
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}
