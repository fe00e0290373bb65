// SPDX-License-Identifier: MIT
/* Saved plans: the plan and every identity it depends on, written as one
 * JSON document (plan --out) and compared, field by field, with what a later
 * run reads (apply --plan), so that the plan carried out is the one
 * reviewed.  The same builder makes the saved and the live document. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <nettle/sha2.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "escape.h"
#include "input.h"
#include "objfile.h"
#include "report.h"
#include "savedplan.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

/* A manifest is at most a few MiB (manifest.c); a saved plan lists every
 * entry under the root, a few hundred bytes each. */
#define SAVEDPLAN_MAX_BYTES (256u << 20)
#define DIGEST_MAX_BYTES (1u << 30)

#define HEX_SHA256 (2 * SHA256_DIGEST_SIZE + 1)

static void sha256_hex(const void *buf, size_t len, char hex[static HEX_SHA256])
{
	uint8_t md[SHA256_DIGEST_SIZE];
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, len, buf);
	sha256_digest(&ctx, sizeof(md), md);
	escape_hex(md, sizeof(md), hex);
}


static int set(json_t *obj, const char *key, json_t *val)
{
	return val && json_object_set_new(obj, key, val) == 0 ? 0 : -ENOMEM;
}

/* path made absolute against the working directory, as named (symlinks
 * kept, so ".." too): the file a later run reads is the one the user named.
 * "." components and repeated slashes go, so that an object named from a
 * manifest given as "site.yaml" ("./bpf/x.o") is recorded as from the same
 * manifest given by its absolute path. */
static int absolute(const char *path, char **ret)
{
	_cleanup_free_ char *cwd = NULL, *abs = NULL;
	char *w;

	if (path[0] != '/' && !(cwd = getcwd(NULL, 0)))
		return -errno;
	if (asprintf(&abs, "%s/%s", cwd ? cwd : "", path) < 0)
		return -ENOMEM;
	w = abs;
	for (const char *p = abs; *p;) {
		if (p[0] == '/' && (p[1] == '/' || (p[1] == '.' && (p[2] == '/' || !p[2])))) {
			p += p[1] == '/' ? 1 : 2;
			continue;
		}
		*w++ = *p++;
	}
	if (w == abs)
		*w++ = '/';
	*w = '\0';
	*ret = TAKE_PTR(abs);
	return 0;
}

/* {"path": absolute path, "sha256": hex} */
static int file_json(const char *path, const char *hex, struct diag *d, json_t **ret)
{
	_cleanup_free_ char *abs = NULL;
	int r;

	r = absolute(path, &abs);
	if (r < 0)
		return diag_error(d, &(struct diag_loc){ .file = path },
				  "cannot make the path absolute: %s", DIAG_STRERROR(-r)),
		       r;
	/* The path is read again from the saved plan: it must survive as is. */
	if (escape_needed(abs))
		return diag_error(d, &(struct diag_loc){ .file = path },
				  "a saved plan records only paths of printable UTF-8");
	*ret = json_pack("{s:s, s:s}", "path", abs, "sha256", hex);
	return *ret ? 0 : -ENOMEM;
}

/* A manifest as it is now on disk: read again for its digest. */
static int manifest_json(const char *path, struct diag *d, json_t **ret)
{
	const struct diag_loc loc = { .file = path };
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	char hex[HEX_SHA256];
	struct stat st;
	size_t len;
	int r;

	fd = input_open(path, d, &loc, "cannot read manifest", &st);
	if (fd < 0)
		return fd;
	r = input_read(fd, (size_t)st.st_size, DIGEST_MAX_BYTES, &buf, &len);
	if (r < 0)
		return diag_error(d, &loc, "cannot read manifest: %s", DIAG_STRERROR(-r)), r;
	sha256_hex(buf, len, hex);
	return file_json(path, hex, d, ret);
}

static const char *mode_str(mode_t m, char buf[static 8])
{
	snprintf(buf, 8, "%04o", (unsigned)m & 07777);
	return buf;
}

/* Every identity of an entry the plan may rely on, kind by kind.  The keys'
 * order is the order differences are looked for. */
static json_t *observed_json(const struct observed_entry *e)
{
	json_t *j = json_object();
	char mode[8], tag[17];
	int err = 0;

	if (!j)
		return NULL;
	err |= set(j, "path", escape_json(e->path)) |
	       set(j, "kind", json_string(observed_kind_str(e->kind))) |
	       set(j, "ino", json_integer((json_int_t)e->ino));
	if (observed_is_pin(e))
		err |= set(j, "id", json_integer(e->id)) | set(j, "type", json_integer(e->type)) |
		       set(j, "name", escape_json(e->name));
	if (e->kind == OBSERVED_MAP)
		err |= set(j, "key_size", json_integer(e->key_size)) |
		       set(j, "value_size", json_integer(e->value_size)) |
		       set(j, "max_entries", json_integer(e->max_entries)) |
		       set(j, "flags", json_integer(e->map_flags));
	if (e->kind == OBSERVED_PROGRAM || e->kind == OBSERVED_LINK) {
		escape_hex(e->tag, sizeof(e->tag), tag);
		err |= set(j, "tag", json_string(tag));
	}
	if (e->kind == OBSERVED_LINK)
		err |= set(j, "prog_id", json_integer(e->prog_id)) |
		       set(j, "attach_type", json_integer(e->attach_type)) |
		       set(j, "ifindex", json_integer(e->ifindex)) |
		       set(j, "cgroup_id", json_integer((json_int_t)e->cgroup_id)) |
		       set(j, "defunct", json_boolean(e->defunct));
	if (e->error)
		err |= set(j, "error", json_integer(e->error));
	err |= set(j, "mode", json_string(mode_str(e->mode, mode))) |
	       set(j, "uid", json_integer(e->uid)) | set(j, "gid", json_integer(e->gid));
	if (err) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* The ledger as the planner read it, records and interrupted runs, in one
 * canonical form: its digest is null for an empty ledger.  (The ledger as
 * read, not the file's bytes: a ledger kept under an older name, or a file
 * rewritten between the read and a digest, would otherwise not be what the
 * plan was computed from.) */
static int ledger_digest(const struct ledger *l, json_t **ret)
{
	_cleanup_json_ json_t *doc = NULL;
	_cleanup_free_ char *text = NULL;
	json_t *entries, *runs;
	char hex[HEX_SHA256];

	if (l->n == 0 && l->n_runs == 0)
		return (*ret = json_null()) ? 0 : -ENOMEM;
	doc = json_pack("{s:[], s:[]}", "entries", "runs");
	if (!doc)
		return -ENOMEM;
	entries = json_object_get(doc, "entries");
	runs = json_object_get(doc, "runs");
	for (size_t i = 0; i < l->n; i++) {
		const struct ledger_entry *e = &l->entries[i];

		if (json_array_append_new(entries,
					  json_pack("{s:o, s:o, s:b, s:I, s:I, s:o*}", "path",
						    escape_json(e->path), "manifest", escape_json(e->manifest),
						    "dir", e->is_dir, "ino", (json_int_t)e->ino,
						    "id", (json_int_t)e->id, "run",
						    e->run ? escape_json(e->run) : NULL)) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < l->n_runs; i++)
		if (json_array_append_new(runs, escape_json(l->runs[i])) < 0)
			return -ENOMEM;
	text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		return -ENOMEM;
	sha256_hex(text, strlen(text), hex);
	return (*ret = json_string(hex)) ? 0 : -ENOMEM;
}

/* The whole document for in; the same for the saved and the live run. */
static int build(const struct savedplan_input *in, struct diag *d, json_t **ret)
{
	_cleanup_json_ json_t *doc = NULL;
	json_t *names, *targets, *manifests, *objects, *observed, *led = NULL;
	int r;

	doc = json_pack("{s:s, s:i, s:s, s:o, s:b, s:[], s:[], s:[], s:[], s:[]}", "format",
			SAVEDPLAN_FORMAT, "version", SAVEDPLAN_VERSION, "command",
			in->destroy ? "destroy" : "apply", "root", escape_json(in->root), "prune_retired",
			in->prune_retired, "names", "targets", "manifests", "objects", "observed");
	if (!doc)
		return -ENOMEM;
	names = json_object_get(doc, "names");
	targets = json_object_get(doc, "targets");
	for (size_t i = 0; i < in->n_targets; i++)
		if (json_array_append_new(targets, escape_json(in->targets[i])) < 0)
			return -ENOMEM;
	manifests = json_object_get(doc, "manifests");
	objects = json_object_get(doc, "objects");
	observed = json_object_get(doc, "observed");
	for (size_t i = 0; i < in->n_names; i++)
		if (json_array_append_new(names, escape_json(in->names[i])) < 0)
			return -ENOMEM;
	for (size_t i = 0; i < in->set->n; i++) {
		json_t *m = NULL;

		if (!in->set->items[i]->file) /* retired: a name alone */
			continue;
		r = manifest_json(in->set->items[i]->file, d, &m);
		if (r < 0)
			return r;
		if (json_array_append_new(manifests, m) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < in->desired->n_objfiles; i++) {
		const struct objfile *o = in->desired->objfiles[i];
		json_t *j = NULL;

		if (!o)
			continue;
		/* The digest of the bytes read, those the plan was made from. */
		r = file_json(o->path, o->sha256, d, &j);
		if (r < 0)
			return r;
		if (json_array_append_new(objects, j) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < in->observed->n; i++)
		if (json_array_append_new(observed, observed_json(&in->observed->entries[i])) < 0)
			return -ENOMEM;
	r = ledger_digest(in->ledger, &led);
	if (r < 0)
		return r;
	if (json_object_set_new(doc, "ledger", led) < 0 ||
	    set(doc, "plan", report_plan_json(in->plan, in->root, true, NULL)) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(doc);
	return 0;
}

int savedplan_write(const struct savedplan_input *in, const char *file, struct diag *d)
{
	_cleanup_json_ json_t *doc = NULL;
	_cleanup_free_ char *text = NULL, *line = NULL;
	int r;

	r = build(in, d, &doc);
	if (r < 0)
		return r;
	text = json_dumps(doc, JSON_INDENT(2));
	/* Ended by a newline, as every document the tool prints. */
	if (!text || asprintf(&line, "%s\n", text) < 0)
		return -ENOMEM;
	r = atomicfile_write(file, line, strlen(line), 0644);
	if (r < 0)
		return diag_error(d, &(struct diag_loc){ .file = file },
				  "cannot write the plan: %s", DIAG_STRERROR(-r)),
		       r;
	return 0;
}

/* "FILE: error: invalid saved plan: WHY" */
static int invalid(struct diag *d, const char *file, const char *why)
{
	return diag_error(d, &(struct diag_loc){ .file = file }, "invalid saved plan: %s", why);
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* The strings of a (or the "path" of its objects) as a new array of copies. */
static int strings(json_t *a, const char *file, const char *what, struct diag *d, char ***ret,
		   size_t *ret_n)
{
	size_t n = json_array_size(a);
	char **v = calloc(n + 1, sizeof(*v));
	char why[96];

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_array_get(a, i);

		if (json_is_object(s))
			s = json_object_get(s, "path");
		if (!json_is_string(s)) {
			snprintf(why, sizeof(why), "%s item %zu is not a %s", what, i + 1,
				 strcmp(what, "manifests") == 0 ? "path" : "string");
			strv_free(v, n);
			return invalid(d, file, why);
		}
		if (!(v[i] = strdup(json_string_value(s)))) {
			strv_free(v, n);
			return -ENOMEM;
		}
	}
	*ret_n = n;
	*ret = v;
	return 0;
}

int savedplan_read(const char *file, struct diag *d, struct savedplan *ret)
{
	const struct diag_loc loc = { .file = file };
	struct savedplan sp = { 0 };
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	json_t *names, *targets, *manifests, *objects, *observed, *ledger, *plan;
	const char *format, *command;
	json_error_t je;
	struct stat st;
	size_t len;
	int version, prune, r;

	fd = input_open(file, d, &loc, "cannot read the saved plan", &st);
	if (fd < 0)
		return fd;
	r = input_read(fd, (size_t)st.st_size, SAVEDPLAN_MAX_BYTES, &buf, &len);
	if (r < 0)
		return diag_error(d, &loc, "cannot read the saved plan: %s", DIAG_STRERROR(-r)), r;
	sp.doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!sp.doc)
		return diag_error(d, &(struct diag_loc){ .file = file, .line = (unsigned)je.line,
							 .column = (unsigned)je.column },
				  "invalid saved plan: %s", je.text);
	r = -EINVAL;
	/* The format and version first: another version's fields mean other things. */
	if (json_unpack_ex(sp.doc, &je, 0, "{s:s, s:i}", "format", &format, "version", &version) <
	    0) {
		invalid(d, file, je.text);
		goto fail;
	}
	if (strcmp(format, SAVEDPLAN_FORMAT) != 0) {
		invalid(d, file,
			"not a bpf-provision plan (format is not \"" SAVEDPLAN_FORMAT "\")");
		goto fail;
	}
	if (version != SAVEDPLAN_VERSION) {
		diag_error(d, &loc, "saved plan version %d; this bpf-provision reads version %d",
			   version, SAVEDPLAN_VERSION);
		goto fail;
	}
	if (json_unpack_ex(sp.doc, &je, JSON_STRICT,
			   "{s:s, s:i, s:s, s:s, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			   "format", &format, "version", &version, "command", &command, "root",
			   &sp.root, "prune_retired", &prune, "names", &names, "targets", &targets,
			   "manifests",
			   &manifests, "objects", &objects, "observed", &observed, "ledger", &ledger,
			   "plan", &plan) < 0) {
		invalid(d, file, je.text);
		goto fail;
	}
	if (strcmp(command, "apply") != 0 && strcmp(command, "destroy") != 0) {
		invalid(d, file, "command is neither \"apply\" nor \"destroy\"");
		goto fail;
	}
	if (sp.root[0] != '/' || !json_is_array(names) || !json_is_array(targets) ||
	    !json_is_array(manifests) ||
	    !json_is_array(objects) || !json_is_array(observed) ||
	    !(json_is_null(ledger) || json_is_string(ledger)) || !json_is_object(plan)) {
		invalid(d, file,
			"a field has the wrong type (see the schema, saved-plan.schema.json)");
		goto fail;
	}
	sp.destroy = strcmp(command, "destroy") == 0;
	sp.prune_retired = prune;
	r = strings(names, file, "names", d, &sp.names, &sp.n_names);
	if (r == 0)
		r = strings(targets, file, "targets", d, &sp.targets, &sp.n_targets);
	if (r == 0)
		r = strings(manifests, file, "manifests", d, &sp.manifests, &sp.n_manifests);
	if (r == 0 && sp.n_manifests == 0 && sp.n_names == 0)
		r = invalid(d, file, "it names no manifest");
	for (size_t i = 0; r == 0 && i < sp.n_manifests; i++)
		if (sp.manifests[i][0] != '/')
			r = invalid(d, file, "a manifest path is not absolute");
	if (r == 0 && !(sp.file = strdup(file)))
		r = -ENOMEM;
	if (r < 0)
		goto fail;
	*ret = sp;
	return 0;
fail:
	savedplan_done(&sp);
	return r;
}

void savedplan_done(struct savedplan *sp)
{
	free(sp->file);
	strv_free(sp->names, sp->n_names);
	strv_free(sp->targets, sp->n_targets);
	strv_free(sp->manifests, sp->n_manifests);
	json_decref(sp->doc);
	*sp = (struct savedplan){ 0 };
}

/* --- comparing ------------------------------------------------------------ */

/* A value as one word of a message: strings bare, the rest as JSON. */
static char *value_text(json_t *v)
{
	if (!v)
		return strdup("none");
	if (json_is_string(v))
		return strdup(json_string_value(v));
	return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

/* "the tree changed since the plan: WHAT: LABEL OLD is now NEW" */
static int changed(const struct savedplan *sp, struct diag *d, const char *what, const char *label,
		   json_t *old, json_t *now)
{
	_cleanup_free_ char *o = value_text(old), *n = value_text(now);

	if (!o || !n)
		return -ENOMEM;
	diag_error(d, &(struct diag_loc){ .file = sp->file },
		   "the tree changed since the plan: %s: %s %s is now %s", what, label, o, n);
	return -ESTALE;
}

static int stale(const struct savedplan *sp, struct diag *d, const char *what, const char *how)
{
	diag_error(d, &(struct diag_loc){ .file = sp->file },
		   "the tree changed since the plan: %s: %s", what, how);
	return -ESTALE;
}

/* How a key shows in a message: "inode", "max entries". */
static void label_of(const char *key, char *buf, size_t len)
{
	snprintf(buf, len, "%s", strcmp(key, "ino") == 0 ? "inode" : key);
	for (char *p = buf; *p; p++)
		if (*p == '_')
			*p = ' ';
}

/* The first key (in old's order, then new's) whose value differs. */
static int compare_object(const struct savedplan *sp, struct diag *d, const char *what,
			  json_t *old, json_t *now)
{
	const char *key;
	json_t *v;
	char label[32];

	json_object_foreach (old, key, v)
		if (!json_equal(v, json_object_get(now, key))) {
			label_of(key, label, sizeof(label));
			return changed(sp, d, what, label, v, json_object_get(now, key));
		}
	json_object_foreach (now, key, v)
		if (!json_object_get(old, key)) {
			label_of(key, label, sizeof(label));
			return changed(sp, d, what, label, NULL, v);
		}
	return 0;
}

/* Manifests or objects: the same files, in the same order, with the same
 * digests. */
static int compare_files(const struct savedplan *sp, struct diag *d, const char *what,
			 json_t *old, json_t *now)
{
	size_t n = json_array_size(old) > json_array_size(now) ? json_array_size(old)
							       : json_array_size(now);

	for (size_t i = 0; i < n; i++) {
		json_t *o = json_array_get(old, i), *w = json_array_get(now, i);
		const char *op = json_string_value(json_object_get(o, "path"));
		const char *wp = json_string_value(json_object_get(w, "path"));

		if (!o)
			return stale(sp, d, wp, what[0] == 'm' ? "a manifest not in the plan"
							       : "an object not in the plan");
		if (!w || !op || !wp || strcmp(op, wp) != 0)
			return stale(sp, d, op ? op : "?",
				     what[0] == 'm' ? "a manifest no longer read"
						    : "an object no longer read");
		if (!json_equal(json_object_get(o, "sha256"), json_object_get(w, "sha256")))
			return changed(sp, d, op, "contents: sha256", json_object_get(o, "sha256"),
				       json_object_get(w, "sha256"));
	}
	return 0;
}

/* Both lists are sorted by path (observed.h): a merge finds the first
 * entry gone, new or changed. */
static int compare_observed(const struct savedplan *sp, struct diag *d, json_t *old, json_t *now)
{
	size_t i = 0, j = 0;

	while (i < json_array_size(old) || j < json_array_size(now)) {
		json_t *o = json_array_get(old, i), *w = json_array_get(now, j);
		const char *op = json_string_value(json_object_get(o, "path"));
		const char *wp = json_string_value(json_object_get(w, "path"));
		int c = !o ? 1 : !w ? -1 : !op ? -1 : !wp ? 1 : strcmp(op, wp);
		int r;

		if (c < 0)
			return stale(sp, d, op ? op : "?", "in the plan, gone now");
		if (c > 0)
			return stale(sp, d, wp ? wp : "?", "there now, not in the plan");
		r = compare_object(sp, d, op, o, w);
		if (r < 0)
			return r;
		i++;
		j++;
	}
	return 0;
}

/* The plans: the first change that differs, else the first step. */
static int compare_plans(const struct savedplan *sp, struct diag *d, json_t *old, json_t *now)
{
	static const char *const lists[] = { "changes", "steps" };
	char what[64];

	for (size_t l = 0; l < 2; l++) {
		json_t *a = json_object_get(old, lists[l]), *b = json_object_get(now, lists[l]);
		size_t n = json_array_size(a) > json_array_size(b) ? json_array_size(a)
								   : json_array_size(b);

		for (size_t i = 0; i < n; i++) {
			json_t *x = json_array_get(a, i), *y = json_array_get(b, i);

			if (json_equal(x, y))
				continue;
			snprintf(what, sizeof(what), "the plan's %s %zu",
				 l == 0 ? "change" : "step", i + 1);
			if (!x || !y)
				return stale(sp, d, what, x ? "gone now" : "new");
			return compare_object(sp, d, what, x, y);
		}
	}
	if (!json_equal(old, now))
		return stale(sp, d, "the plan", "it differs (its summary or retired manifests)");
	return 0;
}

int savedplan_check(const struct savedplan *sp, const struct savedplan_input *in,
		    struct diag *d)
{
	_cleanup_json_ json_t *now = NULL;
	json_t *old = sp->doc;
	int r;

	r = build(in, d, &now);
	if (r < 0)
		return r;
	if (!json_equal(json_object_get(old, "root"), json_object_get(now, "root")))
		return changed(sp, d, "the root", "path", json_object_get(old, "root"),
			       json_object_get(now, "root"));
	r = compare_files(sp, d, "manifests", json_object_get(old, "manifests"),
			  json_object_get(now, "manifests"));
	if (r == 0)
		r = compare_files(sp, d, "objects", json_object_get(old, "objects"),
				  json_object_get(now, "objects"));
	if (r == 0)
		r = compare_observed(sp, d, json_object_get(old, "observed"),
				     json_object_get(now, "observed"));
	if (r == 0 && !json_equal(json_object_get(old, "ledger"), json_object_get(now, "ledger")))
		r = changed(sp, d, "the ledger", "digest", json_object_get(old, "ledger"),
			    json_object_get(now, "ledger"));
	if (r == 0)
		r = compare_plans(sp, d, json_object_get(old, "plan"),
				  json_object_get(now, "plan"));
	/* Anything else (command, names) the run took from the saved plan. */
	if (r == 0 && !json_equal(old, now))
		r = stale(sp, d, sp->file, "the saved plan differs from this run's");
	return r;
}
