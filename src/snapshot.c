// SPDX-License-Identifier: MIT
/* Snapshot: the observed stage saved and read back.  Writing reads the live
 * tree, maps and ledger as a live plan would (observed.c, contents.c,
 * target.c ask the same questions); reading fills struct observed and
 * struct ledger from the document alone, so that the planner runs unchanged
 * on a machine, or as a user, that has no bpffs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <jansson.h>

#include "escape.h"
#include "cleanup.h"
#include "identity.h"
#include "input.h"
#include "kind.h"
#include "model.h"
#include "snapshot.h"
#include "sys.h"
#include "target.h"

/* cgroups are walked this deep at most, as the bpffs tree is. */
#define SNAPSHOT_CGROUP_DEPTH 64
/* A cgroup2 directory's file handle type: the kernfs node id, the cgroup id. */
#define SNAPSHOT_FILEID_KERNFS 0xfe


static json_t *hex_json(const unsigned char *b, size_t n)
{
	_cleanup_free_ char *s = malloc(2 * n + 1);

	if (!s)
		return NULL;
	escape_hex(b, n, s);
	return json_string(s);
}

/* ------------------------------------------------------------------ */
/* Writing */

struct writer {
	const char *root;
	struct diag *d;
	uint32_t *prog_ids; /* programs the program arrays hold */
	size_t n_prog_ids;
};

static int add_prog_id(struct writer *w, uint32_t id)
{
	uint32_t *ids;

	for (size_t i = 0; i < w->n_prog_ids; i++)
		if (w->prog_ids[i] == id)
			return 0;
	ids = realloc(w->prog_ids, (w->n_prog_ids + 1) * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	w->prog_ids = ids;
	w->prog_ids[w->n_prog_ids++] = id;
	return 0;
}

/* Every entry of the map pinned as e, as [{key, value}] in key order of the
 * walk; NULL into *ret when the map cannot be read (its entries are then
 * not recorded).  The walk is bounded, as the contents stage's is: a hash
 * map changing under it may start over. */
static int map_entries(struct writer *w, const struct observed_entry *e, json_t **ret)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ unsigned char *prev = NULL, *next = NULL, *value = NULL;
	_cleanup_close_ int fd = -1;
	_cleanup_(json_decrefp) json_t *list = json_array();
	LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = BPF_F_RDONLY);
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	size_t vb = sys_map_value_bytes(e->type, e->value_size);
	uint64_t limit = 2 * (uint64_t)e->max_entries + 16;
	bool have_prev = false;

	*ret = NULL;
	if (!list || asprintf(&path, "%s/%s", w->root, e->path) < 0)
		return -ENOMEM;
	prev = malloc(e->key_size + 1);
	next = malloc(e->key_size + 1);
	value = calloc(1, vb + 1);
	if (!prev || !next || !value)
		return -ENOMEM;
	fd = bpf_obj_get_opts(path, &opts);
	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0 || info.id != e->id)
		return 0;
	for (uint64_t step = 0; step < limit; step++) {
		unsigned char *tmp;
		json_t *item;
		int r = bpf_map_get_next_key(fd, have_prev ? prev : NULL, next) < 0 ? -errno : 0;

		if (r == -ENOENT)
			break;
		if (r < 0)
			return 0;
		if (bpf_map_lookup_elem(fd, next, value) < 0) {
			if (errno == ENOENT)
				goto advance;
			return 0;
		}
		if (e->type == BPF_MAP_TYPE_PROG_ARRAY && vb >= sizeof(uint32_t)) {
			uint32_t id;

			memcpy(&id, value, sizeof(id));
			if (add_prog_id(w, id) < 0)
				return -ENOMEM;
		}
		item = json_pack("{s:o, s:o}", "key", hex_json(next, e->key_size), "value",
				 hex_json(value, vb));
		if (json_array_append_new(list, item) < 0)
			return -ENOMEM;
	advance:
		tmp = prev;
		prev = next;
		next = tmp;
		have_prev = true;
	}
	*ret = TAKE_PTR(list);
	return 0;
}

static json_t *entry_json(const struct observed_entry *e)
{
	json_t *ids = json_array(), *j;
	char tag[17];

	for (uint32_t i = 0; ids && i < e->n_map_ids; i++)
		if (json_array_append_new(ids, json_integer(e->map_ids[i])) < 0) {
			json_decref(ids);
			ids = NULL;
		}
	if (!ids)
		return NULL;
	escape_hex(e->tag, sizeof(e->tag), tag);
	j = json_pack("{s:s, s:s, s:i, s:I, s:I, s:I, s:i, s:I, s:I, s:s}", "path", e->path, "kind",
		      observed_kind_str(e->kind), "mode", (int)e->mode, "uid", (json_int_t)e->uid,
		      "gid", (json_int_t)e->gid, "ino", (json_int_t)e->ino, "error", e->error,
		      "id", (json_int_t)e->id, "type", (json_int_t)e->type, "name", e->name);
	if (!j || json_object_update_new(
			  j, json_pack("{s:I, s:I, s:I, s:I, s:s, s:o, s:I, s:I, s:I, s:I, s:s*, s:b}",
				       "key_size", (json_int_t)e->key_size, "value_size",
				       (json_int_t)e->value_size, "max_entries",
				       (json_int_t)e->max_entries, "map_flags",
				       (json_int_t)e->map_flags, "tag", tag, "map_ids", ids,
				       "prog_id", (json_int_t)e->prog_id, "attach_type",
				       (json_int_t)e->attach_type, "ifindex", (json_int_t)e->ifindex,
				       "cgroup_id", (json_int_t)e->cgroup_id, "target", e->target,
				       "defunct", e->defunct)) < 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *progs_json(const struct writer *w)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < w->n_prog_ids; i++) {
		_cleanup_close_ int fd = bpf_prog_get_fd_by_id(w->prog_ids[i]);
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		char tag[17];

		memset(&info, 0, sizeof(info));
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
			continue; /* gone since: the slot is then another program */
		escape_hex(info.tag, sizeof(info.tag), tag);
		if (json_array_append_new(list, json_pack("{s:I, s:s}", "id",
							  (json_int_t)w->prog_ids[i], "tag", tag)) <
		    0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

static json_t *interfaces_json(void)
{
	struct if_nameindex *ifs = if_nameindex();
	json_t *o = json_object();

	for (struct if_nameindex *i = ifs; o && i && i->if_index; i++)
		if (json_object_set_new(o, i->if_name, json_integer(i->if_index)) < 0) {
			json_decref(o);
			o = NULL;
		}
	if (ifs)
		if_freenameindex(ifs);
	return o;
}

/* The id of the cgroup directory at dfd/name. */
static int cgroup_id(int dfd, const char *name, uint64_t *ret)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h;
	int mount_id;

	h.fh.handle_bytes = sizeof(uint64_t);
	if (name_to_handle_at(dfd, name, &h.fh, &mount_id, name[0] ? 0 : AT_EMPTY_PATH) < 0)
		return -errno;
	if (h.fh.handle_bytes != sizeof(uint64_t))
		return -EPROTO;
	memcpy(ret, h.fh.f_handle, sizeof(*ret));
	return 0;
}

/* Every cgroup below dfd (whose path below the mount is rel) into o,
 * path -> id.  Unreadable directories are left out. */
static int walk_cgroups(int dfd, const char *rel, int depth, json_t *o)
{
	DIR *dir;
	struct dirent *de;
	int r = 0;

	if (depth >= SNAPSHOT_CGROUP_DEPTH)
		return 0;
	dir = fdopendir(dfd);
	if (!dir) {
		close(dfd);
		return 0;
	}
	while (r == 0 && (de = readdir(dir))) {
		_cleanup_free_ char *path = NULL;
		uint64_t id;
		int sub;

		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (asprintf(&path, "%s/%s", strcmp(rel, "/") ? rel : "", de->d_name) < 0)
			return closedir(dir), -ENOMEM;
		if (cgroup_id(dirfd(dir), de->d_name, &id) < 0)
			continue;
		if (json_object_set_new(o, path, json_integer((json_int_t)id)) < 0)
			r = -ENOMEM;
		sub = openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (r == 0 && sub >= 0)
			r = walk_cgroups(sub, path, depth + 1, o);
	}
	closedir(dir);
	return r;
}

/* The cgroup2 mount and its cgroups, path -> id; none without cgroup2. */
static int cgroups_json(char **ret_mount, json_t **ret)
{
	json_t *o = json_object();
	uint64_t id;
	int fd, r;

	*ret_mount = NULL;
	if (!o)
		return -ENOMEM;
	r = target_mount_point("cgroup2", ret_mount);
	if (r == -ENOENT) {
		*ret = o;
		return 0;
	}
	if (r < 0) {
		json_decref(o);
		return r;
	}
	fd = open(*ret_mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && cgroup_id(fd, "", &id) == 0 &&
	    json_object_set_new(o, "/", json_integer((json_int_t)id)) < 0)
		r = -ENOMEM;
	if (fd >= 0 && r == 0)
		r = walk_cgroups(fd, "/", 0, o);
	else if (fd >= 0)
		close(fd);
	if (r < 0) {
		json_decref(o);
		return r;
	}
	*ret = o;
	return 0;
}

int snapshot_write(const char *root, struct diag *d, FILE *out)
{
	struct writer w = { .root = root, .d = d };
	struct observed obs = { 0 };
	struct ledger l = { 0 };
	_cleanup_(json_decrefp) json_t *entries = json_array(), *doc = NULL;
	_cleanup_free_ char *cgroup2 = NULL;
	json_t *cgroups = NULL;
	int tag_bits = identity_probe_tag_bits();
	int r;

	if (!entries)
		return -ENOMEM;
	r = observed_scan(root, NULL, d, &obs);
	if (r == 0)
		r = ledger_load(root, d, &l);
	for (size_t i = 0; r == 0 && i < obs.n; i++) {
		const struct observed_entry *e = &obs.entries[i];
		json_t *j = entry_json(e), *data = NULL;

		if (j && e->kind == OBSERVED_MAP)
			r = map_entries(&w, e, &data);
		if (r == 0 && data && json_object_set_new(j, "contents", data) < 0)
			r = -ENOMEM;
		if (r == 0 && json_array_append_new(entries, j) < 0)
			r = -ENOMEM;
		if (r < 0 && j)
			json_decref(j);
	}
	if (r == 0)
		r = cgroups_json(&cgroup2, &cgroups);
	if (r == 0) {
		doc = json_pack("{s:s, s:i, s:s, s:O, s:o, s:o, s:o, s:s*, s:o}", "format",
				SNAPSHOT_FORMAT, "version", SNAPSHOT_VERSION, "root", root, "entries",
				entries, "ledger", ledger_to_json(&l), "programs", progs_json(&w),
				"interfaces", interfaces_json(), "cgroup2", cgroup2, "cgroups",
				cgroups);
		if (!doc)
			r = -ENOMEM;
	}
	/* Unknown when the probe was refused: tags then come from the ledger. */
	if (r == 0 && tag_bits > 0 &&
	    json_object_set_new(doc, "tag_bits", json_integer(tag_bits)) < 0)
		r = -ENOMEM;
	if (r == 0 && (json_dumpf(doc, out, JSON_INDENT(1) | JSON_SORT_KEYS) < 0 ||
		       fputc('\n', out) == EOF || fflush(out) == EOF)) {
		diag_error(d, NULL, "cannot write the snapshot: %s", DIAG_STRERROR(EIO));
		r = -EIO;
	}
	free(w.prog_ids);
	ledger_done(&l);
	observed_done(&obs);
	return r;
}

/* ------------------------------------------------------------------ */
/* Reading */

static int kind_parse(const char *s, enum observed_kind *ret)
{
	for (int k = 0; k < OBSERVED_KIND_MAX; k++)
		if (strcmp(observed_kind_str((enum observed_kind)k), s) == 0) {
			*ret = (enum observed_kind)k;
			return 0;
		}
	return -EINVAL;
}

static int data_sort(struct observed_data *m);

/* A map's recorded entries, sorted by key (written in the walk's order,
 * which for a hash map is its own). */
static int data_parse(json_t *list, struct observed_entry *e)
{
	struct observed_data *m = calloc(1, sizeof(*m));
	size_t n = json_array_size(list), i;
	json_t *v;

	if (!m)
		return -ENOMEM;
	e->data = m;
	m->key_size = e->key_size;
	m->value_bytes = sys_map_value_bytes(e->type, e->value_size);
	m->keys = malloc(n * m->key_size + 1);
	m->values = malloc(n * m->value_bytes + 1);
	if (!m->keys || !m->values)
		return -ENOMEM;
	json_array_foreach(list, i, v) {
		const char *key = NULL, *value = NULL;

		/* Another machine's CPU count makes per-CPU values another size:
		 * they do not parse, as they could not compare. */
		if (json_unpack(v, "{s:s, s:s}", "key", &key, "value", &value) < 0 ||
		    escape_unhex(key, m->keys + i * m->key_size, m->key_size) < 0 ||
		    escape_unhex(value, m->values + i * m->value_bytes, m->value_bytes) < 0)
			return -EINVAL;
		m->n++;
	}
	return data_sort(m);
}

static int cmp_keys(const void *a, const void *b, void *ks)
{
	return memcmp(a, b, *(const uint32_t *)ks);
}

/* The recorded entries in memcmp order, keys and values together. */
static int data_sort(struct observed_data *m)
{
	size_t stride = m->key_size + m->value_bytes;
	_cleanup_free_ unsigned char *pairs = malloc(m->n * stride + 1);

	if (!pairs)
		return -ENOMEM;
	for (size_t i = 0; i < m->n; i++) {
		memcpy(pairs + i * stride, m->keys + i * m->key_size, m->key_size);
		memcpy(pairs + i * stride + m->key_size, m->values + i * m->value_bytes,
		       m->value_bytes);
	}
	qsort_r(pairs, m->n, stride, cmp_keys, &m->key_size);
	for (size_t i = 0; i < m->n; i++) {
		memcpy(m->keys + i * m->key_size, pairs + i * stride, m->key_size);
		memcpy(m->values + i * m->value_bytes, pairs + i * stride + m->key_size,
		       m->value_bytes);
	}
	return 0;
}

static int entry_parse(json_t *v, struct observed_entry *e)
{
	const char *path, *kind, *name, *tag, *target = NULL;
	json_int_t mode, uid, gid, ino, id, type, ks, vs, max, flags, prog_id, attach, ifindex, cg;
	json_t *ids, *contents = NULL, *x;
	int error, defunct;
	size_t i;

	if (json_unpack(v, "{s:s, s:s, s:I, s:I, s:I, s:I, s:i, s:I, s:I, s:s}", "path", &path,
			"kind", &kind, "mode", &mode, "uid", &uid, "gid", &gid, "ino", &ino,
			"error", &error, "id", &id, "type", &type, "name", &name) < 0 ||
	    json_unpack(v, "{s:I, s:I, s:I, s:I, s:s, s:o, s:I, s:I, s:I, s:I, s?s, s:b, s?o}",
			"key_size", &ks, "value_size", &vs, "max_entries", &max, "map_flags",
			&flags, "tag", &tag, "map_ids", &ids, "prog_id", &prog_id, "attach_type",
			&attach, "ifindex", &ifindex, "cgroup_id", &cg, "target", &target,
			"defunct", &defunct, "contents", &contents) < 0 ||
	    !json_is_array(ids) || (contents && !json_is_array(contents)) || !path[0] ||
	    path[0] == '/' || strlen(name) >= sizeof(e->name))
		return -EINVAL;
	if (!(e->path = strdup(path)) || (target && !(e->target = strdup(target))))
		return -ENOMEM;
	if (kind_parse(kind, &e->kind) < 0 || escape_unhex(tag, e->tag, sizeof(e->tag)) < 0)
		return -EINVAL;
	e->mode = (mode_t)mode & 07777;
	e->uid = (uid_t)uid;
	e->gid = (gid_t)gid;
	e->ino = (ino_t)ino;
	e->error = error;
	e->id = (uint32_t)id;
	e->type = (uint32_t)type;
	strcpy(e->name, name);
	e->key_size = (uint32_t)ks;
	e->value_size = (uint32_t)vs;
	e->max_entries = (uint32_t)max;
	e->map_flags = (uint32_t)flags;
	e->prog_id = (uint32_t)prog_id;
	e->attach_type = (uint32_t)attach;
	e->ifindex = (uint32_t)ifindex;
	e->cgroup_id = (uint64_t)cg;
	e->defunct = defunct;
	e->map_ids = calloc(json_array_size(ids) + 1, sizeof(*e->map_ids));
	if (!e->map_ids)
		return -ENOMEM;
	json_array_foreach(ids, i, x) {
		if (!json_is_integer(x))
			return -EINVAL;
		e->map_ids[e->n_map_ids++] = (uint32_t)json_integer_value(x);
	}
	if (!contents)
		return 0;
	if (e->kind != OBSERVED_MAP)
		return -EINVAL;
	return data_parse(contents, e);
}

static int cmp_entries(const void *a, const void *b)
{
	return strcmp(((const struct observed_entry *)a)->path,
		      ((const struct observed_entry *)b)->path);
}

static int cmp_progs(const void *a, const void *b)
{
	uint32_t x = ((const struct observed_prog *)a)->id, y = ((const struct observed_prog *)b)->id;

	return x < y ? -1 : x > y;
}

static int names_parse(json_t *o, struct observed_name **ret, size_t *ret_n)
{
	const char *name;
	json_t *v;

	if (!json_is_object(o))
		return -EINVAL;
	*ret = calloc(json_object_size(o) + 1, sizeof(**ret));
	if (!*ret)
		return -ENOMEM;
	json_object_foreach(o, name, v) {
		if (!json_is_integer(v))
			return -EINVAL;
		(*ret)[*ret_n].id = (uint64_t)json_integer_value(v);
		if (!((*ret)[*ret_n].name = strdup(name)))
			return -ENOMEM;
		(*ret_n)++;
	}
	return 0;
}

static int parse(json_t *doc, struct observed *obs, struct ledger *l)
{
	const char *format = NULL, *root = NULL, *cgroup2 = NULL;
	json_t *entries, *ledger, *progs, *ifaces, *cgroups, *v;
	json_int_t version = 0;
	int tag_bits = 0;
	size_t i;
	int r;

	if (json_unpack(doc, "{s:s, s:I, s:s, s:o, s:o, s:o, s:o, s?s, s:o, s?i}", "format",
			&format, "version", &version, "root", &root, "entries", &entries, "ledger",
			&ledger, "programs", &progs, "interfaces", &ifaces, "cgroup2", &cgroup2,
			"cgroups", &cgroups, "tag_bits", &tag_bits) < 0 ||
	    strcmp(format, SNAPSHOT_FORMAT) != 0 || version != SNAPSHOT_VERSION ||
	    (tag_bits != 0 && tag_bits != 160 && tag_bits != 256) ||
	    root[0] != '/' || !json_is_array(entries) || !json_is_array(progs))
		return -EINVAL;
	obs->offline = true;
	obs->tag_bits = tag_bits;
	if (!(obs->root = strdup(root)) || (cgroup2 && !(obs->cgroup2 = strdup(cgroup2))))
		return -ENOMEM;
	obs->entries = calloc(json_array_size(entries) + 1, sizeof(*obs->entries));
	obs->progs = calloc(json_array_size(progs) + 1, sizeof(*obs->progs));
	if (!obs->entries || !obs->progs)
		return -ENOMEM;
	json_array_foreach(entries, i, v) {
		r = entry_parse(v, &obs->entries[obs->n++]);
		if (r < 0)
			return r;
	}
	qsort(obs->entries, obs->n, sizeof(*obs->entries), cmp_entries);
	for (i = 1; i < obs->n; i++)
		if (strcmp(obs->entries[i - 1].path, obs->entries[i].path) == 0)
			return -EINVAL;
	json_array_foreach(progs, i, v) {
		struct observed_prog *p = &obs->progs[obs->n_progs];
		const char *tag;
		json_int_t id;

		if (json_unpack(v, "{s:I, s:s}", "id", &id, "tag", &tag) < 0 ||
		    escape_unhex(tag, p->tag, sizeof(p->tag)) < 0)
			return -EINVAL;
		p->id = (uint32_t)id;
		obs->n_progs++;
	}
	qsort(obs->progs, obs->n_progs, sizeof(*obs->progs), cmp_progs);
	r = names_parse(ifaces, &obs->ifaces, &obs->n_ifaces);
	if (r == 0)
		r = names_parse(cgroups, &obs->cgroups, &obs->n_cgroups);
	if (r == 0)
		r = ledger_from_json(ledger, l);
	return r;
}

int snapshot_read(const char *file, struct diag *d, struct observed *obs, struct ledger *l)
{
	const struct diag_loc loc = { .file = file };
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int fd = -1;
	struct observed o = { 0 };
	struct ledger lg = { 0 };
	json_error_t jerr;
	struct stat st;
	size_t len = 0;
	json_t *doc;
	int r;

	fd = input_open(file, d, &loc, "cannot open the snapshot", &st);
	if (fd < 0)
		return fd;
	r = input_read(fd, (size_t)st.st_size, SIZE_MAX / 4, &text, &len);
	if (r < 0)
		return diag_error(d, &loc, "cannot read the snapshot: %s", DIAG_STRERROR(-r)), r;
	doc = json_loadb(text, len, 0, &jerr);
	if (!doc)
		return diag_error(d, &(struct diag_loc){ .file = file, .line = jerr.line,
							  .column = jerr.column },
				  "not a snapshot: %s", jerr.text),
		       -EINVAL;
	r = parse(doc, &o, &lg);
	json_decref(doc);
	if (r < 0) {
		observed_done(&o);
		ledger_done(&lg);
		if (r == -EINVAL)
			diag_error(d, &loc, "not a bpf-provision snapshot of version %d, or corrupt "
					    "(make it again with 'bpf-provision snapshot')",
				   SNAPSHOT_VERSION);
		return r;
	}
	*obs = o;
	*l = lg;
	return 0;
}
