// SPDX-License-Identifier: MIT
/* Export: the live tree written back as a manifest.  Pins are matched to the
 * given objects (maps by name and spec, programs by tag) and declared at
 * their own paths with custom pinning; maps no object has become standalone
 * maps; the rest is listed in comments.  The YAML is emitted by libyaml. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <bpf/libbpf.h>
#include <yaml.h>

#include "cleanup.h"
#include "compat.h"
#include "escape.h"
#include "export.h"
#include "identity.h"
#include "loader.h"
#include "manifest.h"

/* The mode bpf-provision gives a pin whose manifest states none. */
#define EXPORT_DEFAULT_MODE 0600
/* The kernel's object names (BPF_OBJ_NAME_LEN) hold 15 bytes. */
#define EXPORT_NAME_MAX 15

static bool in_scope(const char *path, char *const *prefixes, size_t n)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(prefixes[i]);

		if (len == 0 || (strncmp(path, prefixes[i], len) == 0 &&
				 (path[len] == '\0' || path[len] == '/')))
			return true;
	}
	return false;
}

/* The kernel adds BPF_F_RDONLY_PROG to device maps whatever it is asked. */
static uint32_t forced_flags(uint32_t type)
{
	return type == BPF_MAP_TYPE_DEVMAP || type == BPF_MAP_TYPE_DEVMAP_HASH ? BPF_F_RDONLY_PROG
										: 0;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* A pinned map is the object's map m when it has m's spec and name: the
 * kernel's name (the first 15 bytes of m's), or where the loader gave it
 * none, the pin's file name. */
static bool map_matches(const struct objfile_map *m, const struct observed_entry *e)
{
	if (e->type != m->type || e->key_size != m->key_size || e->value_size != m->value_size ||
	    e->map_flags != (m->flags | forced_flags(m->type)))
		return false;
	/* A perf event array of 0 entries is made with one per possible CPU. */
	if (e->max_entries != m->max_entries &&
	    !(m->type == BPF_MAP_TYPE_PERF_EVENT_ARRAY && m->max_entries == 0))
		return false;
	if (e->name[0])
		return strncmp(e->name, m->name, EXPORT_NAME_MAX) == 0 &&
		       (strlen(m->name) >= EXPORT_NAME_MAX || e->name[strlen(m->name)] == '\0');
	return strcmp(base_name(e->path), m->name) == 0;
}

/* Maps bpf_map_create() cannot make from a type and sizes alone (an inner
 * map, BTF, a kernel struct): no standalone declaration can give them. */
static bool standalone_ok(uint32_t type)
{
	switch (type) {
	case BPF_MAP_TYPE_ARRAY_OF_MAPS:
	case BPF_MAP_TYPE_HASH_OF_MAPS:
	case BPF_MAP_TYPE_STRUCT_OPS:
	case BPF_MAP_TYPE_SK_STORAGE:
	case BPF_MAP_TYPE_INODE_STORAGE:
	case BPF_MAP_TYPE_TASK_STORAGE:
	case COMPAT_BPF_MAP_TYPE_CGRP_STORAGE:
	case COMPAT_BPF_MAP_TYPE_ARENA:
		return false;
	default:
		return libbpf_bpf_map_type_str((enum bpf_map_type)type) != NULL;
	}
}

static int skip(struct export *x, const struct observed_entry *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int skip(struct export *x, const struct observed_entry *e, const char *fmt, ...)
{
	struct export_skipped *s = realloc(x->skipped, (x->n_skipped + 1) * sizeof(*s));
	va_list ap;
	char *why;
	int r;

	if (!s)
		return -ENOMEM;
	x->skipped = s;
	va_start(ap, fmt);
	r = vasprintf(&why, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	x->skipped[x->n_skipped++] = (struct export_skipped){ .e = e, .why = why };
	return 0;
}

static const char *prog_type_name(uint32_t type)
{
	const char *s = libbpf_bpf_prog_type_str((enum bpf_prog_type)type);

	return s ? s : "unknown";
}

static const char *map_type_name(uint32_t type)
{
	const char *s = libbpf_bpf_map_type_str((enum bpf_map_type)type);

	return s ? s : "unknown";
}

/* The program of a given object with the pin's tag: one whose slot is
 * free before one declared already, one of the pin's type before one of
 * another, the first of equals.  Its object and index in *ret_k, *ret_j. */
static bool find_program(const struct export *x, const struct observed_entry *e, size_t *ret_k,
			 size_t *ret_j)
{
	int best = -1;

	for (size_t k = 0; k < x->n_objects; k++) {
		const struct export_object *o = &x->objects[k];

		for (size_t j = 0; j < o->of->n_progs; j++) {
			int score = (o->prog_pin[j] ? 0 : 2) + (o->of->progs[j].type == e->type);

			if (!o->has_tag[j] || memcmp(o->tags[j], e->tag, 8) != 0 || score <= best)
				continue;
			best = score;
			*ret_k = k;
			*ret_j = j;
		}
	}
	return best >= 0;
}

static bool holds(const struct observed_entry *prog, uint32_t map_id)
{
	for (uint32_t i = 0; i < prog->n_map_ids; i++)
		if (prog->map_ids[i] == map_id)
			return true;
	return false;
}

/* Whether map pin e can be map i of object o: every program o declares that
 * uses map i holds e (else the plan would call the program miswired). */
static bool wired(const struct export_object *o, size_t i, const struct observed_entry *e)
{
	for (size_t j = 0; j < o->of->n_progs; j++) {
		const struct objfile_prog *pr = &o->of->progs[j];

		if (!o->prog_pin[j])
			continue;
		for (size_t u = 0; u < pr->n_uses; u++)
			if (pr->uses[u] == i && !holds(o->prog_pin[j], e->id))
				return false;
	}
	return true;
}

/* How an entry selects program j: by its name where that is unique, else by
 * its section where that is; NULL when neither selects it alone. */
static const char *program_selector(const struct objfile *of, size_t j, const char **ret_value)
{
	const struct objfile_prog *pr = &of->progs[j];

	if (objfile_prog_by_name(of, pr->name) == pr) {
		*ret_value = pr->name;
		return "program";
	}
	if (objfile_prog_by_section(of, pr->section) == pr) {
		*ret_value = pr->section;
		return "section";
	}
	return NULL;
}

/* Programs first, so that a map is declared where the programs declared
 * with it hold it. */
static int match_programs(struct export *x, const struct observed_entry **pins, size_t n)
{
	for (size_t p = 0; p < n; p++) {
		const struct observed_entry *e = pins[p];
		size_t k = 0, j = 0;
		char tag[17];
		int r = 0;

		if (e->kind != OBSERVED_PROGRAM)
			continue;
		escape_hex(e->tag, sizeof(e->tag), tag);
		if (!find_program(x, e, &k, &j))
			r = skip(x, e, "program (%s, tag %s): no given object has a program with its tag",
				 prog_type_name(e->type), tag);
		else if (!program_selector(x->objects[k].of, j, &(const char *){ NULL }))
			r = skip(x, e, "program (%s, tag %s): program '%s' of object '%s', which no "
				       "entry can select (its name and its section are not its alone)",
				 prog_type_name(e->type), tag, x->objects[k].of->progs[j].name,
				 x->objects[k].name);
		else if (x->objects[k].prog_pin[j])
			r = skip(x, e, "program (%s, tag %s): program '%s' of object '%s', which is "
				       "declared at '%s' already; a program of an object is declared once",
				 prog_type_name(e->type), tag, x->objects[k].of->progs[j].name,
				 x->objects[k].name, x->objects[k].prog_pin[j]->path);
		else
			x->objects[k].prog_pin[j] = e;
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_standalone(struct export *x, const struct observed_entry *e)
{
	const struct observed_entry **m = realloc(x->maps, (x->n_maps + 1) * sizeof(*m));

	if (!m)
		return -ENOMEM;
	x->maps = m;
	x->maps[x->n_maps++] = e;
	return 0;
}

static int match_maps(struct export *x, const struct observed_entry **pins, size_t n)
{
	for (size_t p = 0; p < n; p++) {
		const struct observed_entry *e = pins[p];
		bool done = false;
		int r = 0;

		if (e->kind != OBSERVED_MAP)
			continue;
		for (size_t k = 0; k < x->n_objects && !done; k++) {
			struct export_object *o = &x->objects[k];

			for (size_t i = 0; i < o->of->n_maps && !done; i++)
				if (!o->map_pin[i] && map_matches(&o->of->maps[i], e) && wired(o, i, e)) {
					o->map_pin[i] = e;
					done = true;
				}
		}
		if (done)
			continue;
		if (standalone_ok(e->type))
			r = add_standalone(x, e);
		else
			r = skip(x, e, "map (%s): no given object has it, and a map of this type "
				       "cannot be declared alone",
				 map_type_name(e->type));
		if (r < 0)
			return r;
	}
	return 0;
}

static int skipped_cmp(const void *a, const void *b)
{
	const struct export_skipped *x = a, *y = b;

	return strcmp(x->e->path, y->e->path);
}

int export_match(struct export *x, const struct observed *obs, char *const *prefixes,
		 size_t n_prefixes)
{
	_cleanup_free_ const struct observed_entry **pins = calloc(obs->n + 1, sizeof(*pins));
	size_t n = 0;
	int r = 0;

	if (!pins)
		return -ENOMEM;
	for (size_t k = 0; k < x->n_objects; k++) {
		struct export_object *o = &x->objects[k];

		o->map_pin = calloc(o->of->n_maps + 1, sizeof(*o->map_pin));
		o->prog_pin = calloc(o->of->n_progs + 1, sizeof(*o->prog_pin));
		if (!o->map_pin || !o->prog_pin)
			return -ENOMEM;
	}
	for (size_t i = 0; i < obs->n && r == 0; i++) {
		const struct observed_entry *e = &obs->entries[i];
		const char *why = NULL;

		if (!in_scope(e->path, prefixes, n_prefixes) || e->kind == OBSERVED_DIR ||
		    e->kind == OBSERVED_SYMLINK || observed_is_kernel_file(e))
			continue;
		if (e->kind == OBSERVED_UNKNOWN)
			r = skip(x, e, "cannot be read: %s", DIAG_STRERROR(-e->error));
		else if (e->kind == OBSERVED_LINK)
			r = skip(x, e, "link (program id %u): links are not exported", e->prog_id);
		else if (manifest_check_path(e->path, &why) < 0)
			r = skip(x, e, "%s (%s): no manifest can declare this path: %s",
				 observed_kind_str(e->kind),
				 e->kind == OBSERVED_MAP ? map_type_name(e->type) : prog_type_name(e->type),
				 why);
		else if (escape_needed(e->path))
			r = skip(x, e, "%s: its path is no text a manifest can hold",
				 observed_kind_str(e->kind));
		else
			pins[n++] = e;
	}
	if (r == 0)
		r = match_programs(x, pins, n);
	if (r == 0)
		r = match_maps(x, pins, n);
	/* Listed in the tree's order, whichever pass skipped them. */
	if (r == 0 && x->n_skipped > 1)
		qsort(x->skipped, x->n_skipped, sizeof(*x->skipped), skipped_cmp);
	return r;
}

void export_done(struct export *x)
{
	for (size_t k = 0; k < x->n_objects; k++) {
		struct export_object *o = &x->objects[k];

		objfile_free(o->of);
		free(o->name);
		free(o->tags);
		free(o->has_tag);
		free(o->map_pin);
		free(o->prog_pin);
	}
	free(x->objects);
	free(x->maps);
	for (size_t i = 0; i < x->n_skipped; i++)
		free(x->skipped[i].why);
	free(x->skipped);
	*x = (struct export){ 0 };
}

/* --- YAML ------------------------------------------------------------------ */

/* libyaml's emitter, with its first failure kept, so that the document is
 * written as a sequence of calls and checked once. */
struct yemit {
	yaml_emitter_t e;
	bool failed;
};

static void y_emit(struct yemit *y, yaml_event_t *ev, int made)
{
	if (!made) {
		y->failed = true;
		return;
	}
	/* libyaml takes the event, emitted or not. */
	if (y->failed)
		yaml_event_delete(ev);
	else if (!yaml_emitter_emit(&y->e, ev))
		y->failed = true;
}

static void y_scalar(struct yemit *y, const char *s, yaml_scalar_style_t style)
{
	yaml_event_t ev;

	y_emit(y, &ev,
	       yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, -1, 1, 1, style));
}

/* A string plain only where the YAML 1.2 core schema reads it back as that
 * string (not a number, boolean or null); quoted otherwise. */
static void y_str(struct yemit *y, const char *s)
{
	static const char *const words[] = { "true", "True", "TRUE", "false", "False", "FALSE",
					     "null", "Null", "NULL" };
	bool plain = s[0] == '_' || s[0] == '/' || ((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z');

	for (const char *c = s; *c && plain; c++)
		plain = (*c >= '0' && *c <= '9') || ((*c | 0x20) >= 'a' && (*c | 0x20) <= 'z') ||
			*c == '_' || *c == '-' || *c == '/' || *c == '.';
	for (size_t i = 0; i < sizeof(words) / sizeof(*words) && plain; i++)
		plain = strcmp(s, words[i]) != 0;
	y_scalar(y, s, plain ? YAML_PLAIN_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

static void y_uint(struct yemit *y, uint64_t u)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)u);
	y_scalar(y, buf, YAML_PLAIN_SCALAR_STYLE);
}

static void y_mapping(struct yemit *y, bool start)
{
	yaml_event_t ev;

	if (start)
		y_emit(y, &ev,
		       yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
							   YAML_BLOCK_MAPPING_STYLE));
	else
		y_emit(y, &ev, yaml_mapping_end_event_initialize(&ev));
}

static void y_sequence(struct yemit *y, bool start, bool flow)
{
	yaml_event_t ev;

	if (start)
		y_emit(y, &ev,
		       yaml_sequence_start_event_initialize(
			       &ev, NULL, NULL, 1,
			       flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE));
	else
		y_emit(y, &ev, yaml_sequence_end_event_initialize(&ev));
}

static void y_key_str(struct yemit *y, const char *key, const char *value)
{
	y_scalar(y, key, YAML_PLAIN_SCALAR_STYLE);
	y_str(y, value);
}

static void y_key_uint(struct yemit *y, const char *key, uint64_t value)
{
	y_scalar(y, key, YAML_PLAIN_SCALAR_STYLE);
	y_uint(y, value);
}

/* The pin's mode, owner and group where they are not what a pin made by
 * apply gets anyway (mode 0600, owner and group left alone). */
static void y_attrs(struct yemit *y, const struct observed_entry *e)
{
	char mode[8];

	if (e->mode != EXPORT_DEFAULT_MODE) {
		snprintf(mode, sizeof(mode), "%04o", (unsigned)e->mode);
		y_scalar(y, "mode", YAML_PLAIN_SCALAR_STYLE);
		y_scalar(y, mode, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	}
	if (e->uid != 0)
		y_key_uint(y, "owner", e->uid);
	if (e->gid != 0)
		y_key_uint(y, "group", e->gid);
}

static void y_custom_pin(struct yemit *y, const char *selector, const char *value,
			 const struct observed_entry *e)
{
	y_mapping(y, true);
	y_key_str(y, selector, value);
	y_key_str(y, "pinning", "custom");
	y_key_str(y, "path", e->path);
	y_attrs(y, e);
}

static void y_object(struct yemit *y, const struct export_object *o)
{
	const struct objfile *of = o->of;

	y_mapping(y, true);
	y_key_str(y, "file", of->path);
	y_key_str(y, "name", o->name);
	y_scalar(y, "sections", YAML_PLAIN_SCALAR_STYLE);
	y_sequence(y, true, false);
	for (size_t i = 0; i < of->n_maps; i++) {
		const struct objfile_map *m = &of->maps[i];

		/* A map the object pins itself and the tree does not hold here
		 * would be made by apply: declared unpinned. */
		if (o->map_pin[i]) {
			y_custom_pin(y, "map", m->name, o->map_pin[i]);
			y_mapping(y, false);
		} else if (m->pinning != PIN_MODE_NONE) {
			y_mapping(y, true);
			y_key_str(y, "map", m->name);
			y_key_str(y, "pinning", "none");
			y_mapping(y, false);
		}
	}
	for (size_t j = 0; j < of->n_progs; j++) {
		const struct observed_entry *e = o->prog_pin[j];
		const char *value = NULL, *selector;

		if (!e)
			continue;
		selector = program_selector(of, j, &value);
		y_custom_pin(y, selector, value, e);
		/* Loaded as another type than its section says: the tag is the
		 * same, and the type is stated. */
		if (e->type != of->progs[j].type)
			y_key_str(y, "type", prog_type_name(e->type));
		y_mapping(y, false);
	}
	y_sequence(y, false, false);
	y_mapping(y, false);
}

/* The name apply gives a standalone map that states none
 * (bpf-provision.yaml(5), Standalone maps). */
static void default_map_name(const char *path, char buf[EXPORT_NAME_MAX + 1])
{
	const char *b = base_name(path);
	size_t i;

	for (i = 0; b[i] && i < EXPORT_NAME_MAX; i++)
		buf[i] = (b[i] >= '0' && b[i] <= '9') || ((b[i] | 0x20) >= 'a' && (b[i] | 0x20) <= 'z') ||
					 b[i] == '_' || b[i] == '.'
				 ? b[i]
				 : '_';
	buf[i] = '\0';
}

static void y_flags(struct yemit *y, const struct observed_entry *e)
{
	uint32_t flags = e->map_flags & ~forced_flags(e->type);

	if (!flags)
		return;
	y_scalar(y, "flags", YAML_PLAIN_SCALAR_STYLE);
	y_sequence(y, true, true);
	for (unsigned bit = 0; bit < 32; bit++) {
		const char *name;

		if (!(flags & (1u << bit)))
			continue;
		name = manifest_map_flag_str(1u << bit);
		if (!name) {
			y->failed = true;
			break;
		}
		y_str(y, name);
	}
	y_sequence(y, false, true);
}

static void y_standalone(struct yemit *y, const struct observed_entry *e)
{
	char name[EXPORT_NAME_MAX + 1];

	y_mapping(y, true);
	y_key_str(y, "path", e->path);
	y_key_str(y, "type", map_type_name(e->type));
	y_key_uint(y, "key_size", e->key_size);
	y_key_uint(y, "value_size", e->value_size);
	y_key_uint(y, "max_entries", e->max_entries);
	y_flags(y, e);
	default_map_name(e->path, name);
	if (e->name[0] && strcmp(e->name, name) != 0)
		y_key_str(y, "name", e->name);
	y_attrs(y, e);
	y_mapping(y, false);
}

static bool object_used(const struct export_object *o)
{
	for (size_t i = 0; i < o->of->n_maps; i++)
		if (o->map_pin[i])
			return true;
	for (size_t j = 0; j < o->of->n_progs; j++)
		if (o->prog_pin[j])
			return true;
	return false;
}

/* Comment lines before the document (libyaml emits no comments); every
 * outside name in them escaped. */
static int comments(const struct export *x, const char *root, FILE *out)
{
	_cleanup_free_ char *r = escape_text(root);

	if (!r)
		return -ENOMEM;
	fprintf(out, "# The pins under %s as found, exported by %s.\n", r, PACKAGE_STRING);
	fprintf(out, "# Applying this manifest there changes no pin; apply records them as its\n"
		     "# own.  prune is off, so that removing a declaration never unpins.\n");
	for (size_t k = 0; k < x->n_objects; k++) {
		_cleanup_free_ char *f = NULL;

		if (object_used(&x->objects[k]))
			continue;
		f = escape_text(x->objects[k].of->path);
		if (!f)
			return -ENOMEM;
		fprintf(out, "# object %s: no pin under the paths is one of its maps or programs\n", f);
	}
	for (size_t i = 0; i < x->n_skipped; i++) {
		_cleanup_free_ char *p = escape_text(x->skipped[i].e->path);
		_cleanup_free_ char *w = escape_text(x->skipped[i].why);

		if (!p || !w)
			return -ENOMEM;
		fprintf(out, "# not exported: %s %s\n", p, w);
	}
	return 0;
}

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
	return fwrite(buffer, 1, size, data) == size;
}

int export_emit(const struct export *x, const char *root, struct diag *d, FILE *out)
{
	struct yemit y = { .failed = false };
	yaml_event_t ev;
	size_t used = 0;
	int r;

	r = comments(x, root, out);
	if (r < 0)
		return r;
	if (!yaml_emitter_initialize(&y.e))
		return -ENOMEM;
	yaml_emitter_set_output(&y.e, write_handler, out);
	yaml_emitter_set_unicode(&y.e, 1);
	yaml_emitter_set_width(&y.e, 100);
	y_emit(&y, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	y_emit(&y, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
	y_mapping(&y, true);
	y_key_uint(&y, "version", 1);
	y_key_str(&y, "name", "exported");
	y_key_str(&y, "bpffs", root);
	y_scalar(&y, "prune", YAML_PLAIN_SCALAR_STYLE);
	y_scalar(&y, "false", YAML_PLAIN_SCALAR_STYLE);
	for (size_t k = 0; k < x->n_objects; k++)
		used += object_used(&x->objects[k]);
	if (used) {
		y_scalar(&y, "objects", YAML_PLAIN_SCALAR_STYLE);
		y_sequence(&y, true, false);
		for (size_t k = 0; k < x->n_objects; k++)
			if (object_used(&x->objects[k]))
				y_object(&y, &x->objects[k]);
		y_sequence(&y, false, false);
	}
	if (x->n_maps) {
		y_scalar(&y, "maps", YAML_PLAIN_SCALAR_STYLE);
		y_sequence(&y, true, false);
		for (size_t i = 0; i < x->n_maps; i++)
			y_standalone(&y, x->maps[i]);
		y_sequence(&y, false, false);
	}
	y_mapping(&y, false);
	y_emit(&y, &ev, yaml_document_end_event_initialize(&ev, 1));
	y_emit(&y, &ev, yaml_stream_end_event_initialize(&ev));
	if (!y.failed && !yaml_emitter_flush(&y.e))
		y.failed = true;
	if (y.failed)
		r = diag_error(d, NULL, "cannot write the manifest: %s",
			       y.e.problem ? y.e.problem : "out of memory");
	yaml_emitter_delete(&y.e);
	return r;
}

/* --- Input ------------------------------------------------------------------ */

static int dot_o(const struct dirent *de)
{
	size_t n = strlen(de->d_name);

	return n > 2 && strcmp(de->d_name + n - 2, ".o") == 0;
}

/* The object's name in the manifest: its file name up to the first dot, as
 * the manifest's default is, made unique with _2, _3, ... */
static int object_name(const struct export *x, const char *path, char **ret)
{
	const char *b = base_name(path);
	size_t len = strcspn(b, ".");
	const char *why;
	char *name;

	name = len ? strndup(b, len) : strdup("object");
	if (!name)
		return -ENOMEM;
	if (manifest_check_path(name, &why) < 0 || strchr(name, '/')) {
		free(name);
		name = strdup("object");
		if (!name)
			return -ENOMEM;
	}
	for (unsigned n = 2;; n++) {
		bool taken = false;
		char *other;

		for (size_t k = 0; k < x->n_objects && !taken; k++)
			taken = strcmp(x->objects[k].name, name) == 0;
		if (!taken)
			break;
		if (asprintf(&other, "%.*s_%u", (int)(len ? len : 6), len ? b : "object", n) < 0) {
			free(name);
			return -ENOMEM;
		}
		free(name);
		name = other;
	}
	*ret = name;
	return 0;
}

/* Opens one object (absolute path, once however often it is given). */
static int add_object(struct export *x, const char *path, struct diag *d)
{
	_cleanup_free_ char *abs = realpath(path, NULL);
	struct export_object *o;
	struct objfile *of = NULL;
	int r;

	if (!abs)
		return diag_error(d, &(struct diag_loc){ .file = path }, "cannot read the object: %s",
				  DIAG_STRERROR(errno));
	for (size_t k = 0; k < x->n_objects; k++)
		if (strcmp(x->objects[k].of->path, abs) == 0)
			return 0;
	o = realloc(x->objects, (x->n_objects + 1) * sizeof(*o));
	if (!o)
		return -ENOMEM;
	x->objects = o;
	r = objfile_open(abs, d, &of);
	if (r < 0)
		return r == -ENOMEM ? r : -EINVAL;
	o = &x->objects[x->n_objects];
	*o = (struct export_object){ .of = of };
	r = object_name(x, abs, &o->name);
	if (r < 0) {
		objfile_free(of);
		return r;
	}
	x->n_objects++;
	return 0;
}

/* An --objects argument: a file, or a directory's *.o in name order.  Every
 * object is read, so that all bad ones are reported at once. */
static int add_objects(struct export *x, const char *arg, struct diag *d)
{
	struct dirent **list = NULL;
	struct stat st;
	int n, r = 0;

	if (stat(arg, &st) < 0 || !S_ISDIR(st.st_mode))
		return add_object(x, arg, d);
	n = scandir(arg, &list, dot_o, alphasort);
	if (n < 0)
		return diag_error(d, &(struct diag_loc){ .file = arg },
				  "cannot read the directory: %s", DIAG_STRERROR(errno));
	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *p = NULL;
		int q = r == -ENOMEM					   ? r
			: asprintf(&p, "%s/%s", arg, list[i]->d_name) < 0 ? -ENOMEM
									   : add_object(x, p, d);

		if (q < 0 && (r == 0 || q == -ENOMEM))
			r = q;
		free(list[i]);
	}
	free(list);
	return r;
}

/* A PATH argument as a prefix relative to the root: absolute under the
 * root, or relative to it; the pin or directory must exist. */
static int scope_path(const char *root, const char *arg, struct diag *d, char **ret)
{
	_cleanup_free_ char *joined = NULL, *abs = NULL;
	size_t len = strlen(root);

	if (arg[0] != '/' && asprintf(&joined, "%s/%s", root, arg) < 0)
		return -ENOMEM;
	abs = realpath(joined ? joined : arg, NULL);
	if (!abs)
		return diag_error(d, &(struct diag_loc){ .file = arg }, "cannot export it: %s",
				  DIAG_STRERROR(errno));
	if (strcmp(abs, root) == 0)
		return (*ret = strdup("")) ? 0 : -ENOMEM;
	if (strncmp(abs, root, len) != 0 || abs[len] != '/')
		return diag_error(d, &(struct diag_loc){ .file = arg },
				  "cannot export it: not under the root %s", root);
	return (*ret = strdup(abs + len + 1)) ? 0 : -ENOMEM;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

int export_run(const struct export_request *req, struct diag *d, FILE *out)
{
	_cleanup_free_ char *root = realpath(req->root, NULL);
	_cleanup_free_ char *text = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	struct export x = { 0 };
	struct observed obs = { 0 };
	char **prefixes = NULL;
	size_t n_prefixes = 0, len = 0;
	int r = 0, tag_bits = 0;

	if (!root && !req->empty) {
		r = -errno;
		diag_error(d, &(struct diag_loc){ .file = req->root }, "cannot read the root: %s",
			   DIAG_STRERROR(-r));
		return r;
	}
	for (size_t i = 0; i < req->n_objects && r != -ENOMEM; i++) {
		int q = add_objects(&x, req->objects[i], d);

		if (q < 0 && (r == 0 || q == -ENOMEM))
			r = q;
	}
	prefixes = calloc(req->n_paths + 1, sizeof(*prefixes));
	if (!prefixes && r == 0)
		r = -ENOMEM;
	for (size_t i = 0; i < req->n_paths && r >= 0 && prefixes && !req->empty; i++) {
		r = scope_path(root, req->paths[i], d, &prefixes[i]);
		n_prefixes += r == 0;
	}
	if (r < 0)
		goto out;
	if (x.n_objects > 0)
		r = loader_probe(d);
	for (size_t k = 0; k < x.n_objects && r == 0; k++) {
		struct export_object *o = &x.objects[k];

		o->tags = calloc(o->of->n_progs + 1, sizeof(*o->tags));
		o->has_tag = calloc(o->of->n_progs + 1, sizeof(*o->has_tag));
		r = o->tags && o->has_tag ? identity_object_tags(o->of, &tag_bits, req->vlog, d,
								 o->tags, o->has_tag)
					  : -ENOMEM;
	}
	if (r == 0 && !req->empty)
		r = observed_scan(root, NULL, d, &obs);
	if (r == 0)
		r = export_match(&x, &obs, prefixes, n_prefixes);
	/* Written whole or not at all. */
	if (r == 0)
		r = (f = open_memstream(&text, &len)) ? 0 : -ENOMEM;
	if (r == 0)
		r = export_emit(&x, root ? root : req->root, d, f);
	if (r == 0)
		r = fclose(TAKE_PTR(f)) == 0 ? 0 : -ENOMEM;
	if (r == 0 && (fwrite(text, 1, len, out) != len || fflush(out) != 0))
		r = diag_error(d, NULL, "cannot write the manifest: %s", DIAG_STRERROR(errno));
	/* The input was read and valid: what fails from here is the system,
	 * even where the kernel says EINVAL. */
	if (r == -EINVAL)
		r = -EIO;
out:
	strv_free(prefixes, req->n_paths);
	observed_done(&obs);
	export_done(&x);
	return r;
}
