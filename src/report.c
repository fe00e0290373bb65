// SPDX-License-Identifier: MIT
/* report: the last stage, turning results into text for people and JSON for
 * scripts.  JSON is built with jansson so that every string is escaped the
 * same way; text keeps one line per map or program so that it greps well. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>
#include <jansson.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "escape.h"
#include "kind.h"
#include "model.h"
#include "report.h"

/* json_decrefp() comes with jansson (its json_auto_t). */
#define _cleanup_json_ _cleanup_(json_decrefp)

/* The object a pin comes from; standalone maps come from the manifest's
 * top-level `maps:`. */
static const char *object_name(const struct desired_pin *p)
{
	return p->object ? p->object->name : "maps";
}

static const char *pinning_str(enum pin_mode m)
{
	const char *s = pin_mode_str(m);

	return s ? s : "unknown";
}

/* json_object_set_new() and json_array_append_new() steal the value even on
 * failure, so building is a chain of calls whose failures are collected. */
static int set(json_t *obj, const char *key, json_t *val)
{
	return val && json_object_set_new(obj, key, val) == 0 ? 0 : -ENOMEM;
}


static json_t *str_or_null(const char *s)
{
	return s ? escape_json(s) : json_null();
}

/* The same text for one line of plain output: escaped copies, freed
 * together (shown_free) once the line is printed. */
struct shown {
	char *buf[8];
	size_t n;
};

static void shown_free(struct shown *sh)
{
	for (size_t i = 0; i < sh->n; i++)
		free(sh->buf[i]);
	sh->n = 0;
}

static const char *show(struct shown *sh, const char *s)
{
	if (!s || !escape_needed(s))
		return s;
	if (sh->n == sizeof(sh->buf) / sizeof(sh->buf[0]) || !(sh->buf[sh->n] = escape_text(s)))
		return "?";
	return sh->buf[sh->n++];
}

/* What the owner's loader puts into the map when it makes it. */
static json_t *slots_json(const struct objfile *o, const struct objfile_map *m)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < m->n_slots; i++) {
		const struct objfile_slot *sl = &m->slots[i];
		json_t *e = json_object();

		if (!e || set(e, "key", json_integer(sl->key)) ||
		    set(e, sl->is_prog ? "program" : "map",
			escape_json(sl->is_prog ? o->progs[sl->index].name : o->maps[sl->index].name)) ||
		    json_array_append_new(a, e)) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *map_json(const struct objfile *o, const struct objfile_map *m)
{
	json_t *j = json_object();
	int err = 0;

	if (!j)
		return NULL;
	err |= set(j, "name", escape_json(m->name));
	err |= set(j, "section", escape_json(m->section));
	err |= set(j, "type", json_string(kind_type_str(KIND_MAP, m->type)));
	err |= set(j, "type_raw", json_integer(m->type));
	err |= set(j, "key_size", json_integer(m->key_size));
	err |= set(j, "value_size", json_integer(m->value_size));
	err |= set(j, "max_entries", json_integer(m->max_entries));
	err |= set(j, "flags", json_integer(m->flags));
	err |= set(j, "pinning", json_string(pinning_str(m->pinning)));
	err |= set(j, "pinning_raw", json_integer(m->pinning_raw));
	err |= set(j, "pin_id", json_integer(m->pin_id));
	err |= set(j, "namespace", str_or_null(m->namespace));
	err |= set(j, "id", json_integer(m->id));
	err |= set(j, "inner_id", json_integer(m->inner_id));
	err |= set(j, "inner_idx", json_integer(m->inner_idx));
	err |= set(j, "inner_map", m->inner_map >= 0 && (size_t)m->inner_map < o->n_maps ?
					   escape_json(o->maps[m->inner_map].name) :
					   json_null());
	err |= set(j, "inner", m->has_inner ? json_pack("{s:s?, s:I, s:I, s:I}", "type",
						       kind_type_str(KIND_MAP, m->inner_type), "key_size",
						       (json_int_t)m->inner_key_size, "value_size",
						       (json_int_t)m->inner_value_size, "max_entries",
						       (json_int_t)m->inner_max_entries)
					    : json_null());
	err |= set(j, "slots", slots_json(o, m));
	if (err) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *prog_json(const struct objfile *o, const struct objfile_prog *p)
{
	json_t *j = json_object(), *relocs = json_array();
	int err = 0;

	if (!j || !relocs) {
		json_decref(j);
		json_decref(relocs);
		return NULL;
	}
	for (size_t i = 0; i < p->n_relocs; i++) {
		const struct objfile_reloc *r = &p->relocs[i];
		json_t *jr = json_object();

		if (!jr || set(jr, "insn", json_integer((json_int_t)r->insn)) ||
		    set(jr, "map", escape_json(r->map < o->n_maps ? o->maps[r->map].name : "?")) ||
		    json_array_append_new(relocs, jr)) {
			err = -ENOMEM;
			break;
		}
	}
	err |= set(j, "section", escape_json(p->section));
	err |= set(j, "name", escape_json(p->name));
	err |= set(j, "type", json_string(kind_type_str(KIND_PROGRAM, p->type)));
	err |= set(j, "type_raw", json_integer(p->type));
	err |= set(j, "insns", json_integer((json_int_t)p->n_insns));
	err |= set(j, "section_type", p->elf_type ? json_string(kind_type_str(KIND_PROGRAM, p->elf_type))
						 : json_null());
	err |= set(j, "map_relocations", json_integer((json_int_t)p->n_relocs));
	err |= set(j, "relocations", relocs);
	err |= set(j, "elf_relocations", json_integer((json_int_t)p->n_elf_relocs));
	err |= set(j, "text_calls", json_integer((json_int_t)p->n_calls));
	err |= set(j, "tail_call", json_boolean(p->is_tail));
	if (err) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* One object of the inspect document: what inspect_text() shows of it. */
static json_t *object_json(const struct objfile *o)
{
	json_t *j = json_object(), *maps = json_array(), *progs = json_array();
	int err = 0;

	if (!j || !maps || !progs) {
		json_decref(j);
		json_decref(maps);
		json_decref(progs);
		return NULL;
	}
	err |= set(j, "path", escape_json(o->path));
	err |= set(j, "layout", json_string(objfile_layout_str(o->layout)));
	err |= set(j, "license", str_or_null(o->license));
	err |= set(j, "loader", json_string(o->libbpf ? "libbpf" : "legacy"));
	err |= set(j, "sha1", json_string(o->sha1));
	err |= set(j, "kern_version",
		   !o->has_kern_version ? json_null()
		   : o->kern_version == OBJFILE_KERN_VERSION_CURRENT ? json_string("current")
								       : json_integer(o->kern_version));
	err |= set(j, "maps", maps);
	err |= set(j, "programs", progs);
	for (size_t i = 0; !err && i < o->n_maps; i++)
		err = json_array_append_new(maps, map_json(o, &o->maps[i])) < 0;
	for (size_t i = 0; !err && i < o->n_progs; i++)
		err = json_array_append_new(progs, prog_json(o, &o->progs[i])) < 0;
	if (err) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Format version 2: one document for all the objects, as every other
 * command prints one (version 1, without format_version, printed a document
 * per object). */
static int inspect_json(const struct objfile *const *objs, size_t n, FILE *out)
{
	_cleanup_json_ json_t *root = json_pack("{s:i, s:[]}", "format_version", 2, "objects");
	json_t *list = root ? json_object_get(root, "objects") : NULL;

	if (!list)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(list, object_json(objs[i])) < 0)
			return -ENOMEM;
	if (json_dumpf(root, out, JSON_INDENT(2)) < 0 || fputc('\n', out) == EOF)
		return -EIO;
	return 0;
}

static void map_text(const struct objfile *o, const struct objfile_map *m, FILE *out)
{
	_cleanup_(shown_free) struct shown sh = { 0 };

	fprintf(out, "  map %s: section %s, %s key %" PRIu32 " value %" PRIu32 " max %" PRIu32,
		show(&sh, m->name), show(&sh, m->section), kind_type_str(KIND_MAP, m->type), m->key_size,
		m->value_size, m->max_entries);
	if (m->flags)
		fprintf(out, " flags 0x%" PRIx32, m->flags);
	fprintf(out, ", pinning %s (%" PRIu32 ")", pinning_str(m->pinning), m->pinning_raw);
	if (m->pin_id)
		fprintf(out, " pin_id %" PRIu32, m->pin_id);
	if (m->namespace)
		fprintf(out, ", namespace %s", show(&sh, m->namespace));
	if (m->id)
		fprintf(out, ", map id %" PRIu32, m->id);
	if (m->inner_map >= 0 && (size_t)m->inner_map < o->n_maps)
		fprintf(out, ", inner map %s (id %" PRIu32 ", index %" PRIu32 ")",
			show(&sh, o->maps[m->inner_map].name), m->inner_id, m->inner_idx);
	if (m->has_inner)
		fprintf(out, ", inner %s key %" PRIu32 " value %" PRIu32 " max %" PRIu32,
			kind_type_str(KIND_MAP, m->inner_type), m->inner_key_size, m->inner_value_size,
			m->inner_max_entries);
	for (size_t i = 0; i < m->n_slots; i++) {
		const struct objfile_slot *sl = &m->slots[i];

		fprintf(out, "%s%" PRIu32 "=%s %s", i ? ", " : ", slots ", sl->key,
			sl->is_prog ? "program" : "map",
			show(&sh, sl->is_prog ? o->progs[sl->index].name : o->maps[sl->index].name));
		shown_free(&sh);
	}
	fputc('\n', out);
}

static void prog_text(const struct objfile *o, const struct objfile_prog *p, FILE *out)
{
	_cleanup_(shown_free) struct shown sh = { 0 };

	fprintf(out, "  program %s: section %s, %s, %zu insns, %zu map relocations",
		show(&sh, p->name), show(&sh, p->section), kind_type_str(KIND_PROGRAM, p->type), p->n_insns,
		p->n_relocs);
	if (o->libbpf)
		fprintf(out, ", %zu ELF relocations", p->n_elf_relocs);
	for (size_t i = 0; i < p->n_relocs; i++) {
		fprintf(out, "%s%s@%zu", i ? ", " : " (",
			show(&sh, p->relocs[i].map < o->n_maps ? o->maps[p->relocs[i].map].name : "?"),
			p->relocs[i].insn);
		shown_free(&sh);
	}
	fputs(p->n_relocs ? ")" : "", out);
	if (p->n_calls)
		fprintf(out, ", %zu calls into .text", p->n_calls);
	if (p->is_tail)
		fputs(", tail call", out);
	if (!p->elf_type)
		fputs(", type not in the section name", out);
	fputc('\n', out);
}

static int inspect_text(const struct objfile *o, FILE *out)
{
	_cleanup_(shown_free) struct shown sh = { 0 };

	fprintf(out, "object: %s\n", show(&sh, o->path));
	fprintf(out, "layout: %s\n", objfile_layout_str(o->layout));
	fprintf(out, "loader: %s\n", o->libbpf ? "libbpf" : "legacy (bpf-provision's own)");
	fprintf(out, "sha1: %s\n", o->sha1);
	fprintf(out, "license: %s\n", o->license ? show(&sh, o->license) : "(none)");
	if (o->has_kern_version && o->kern_version == OBJFILE_KERN_VERSION_CURRENT)
		fputs("kern_version: current (0xfffffffe: the running kernel's)\n", out);
	else if (o->has_kern_version)
		fprintf(out, "kern_version: %" PRIu32 " (%u.%u.%u)\n", o->kern_version,
			o->kern_version >> 16, (o->kern_version >> 8) & 0xff,
			o->kern_version & 0xff);
	else
		fputs("kern_version: (none)\n", out);
	fprintf(out, "maps: %zu\n", o->n_maps);
	for (size_t i = 0; i < o->n_maps; i++)
		map_text(o, &o->maps[i], out);
	fprintf(out, "programs: %zu\n", o->n_progs);
	for (size_t i = 0; i < o->n_progs; i++)
		prog_text(o, &o->progs[i], out);
	return fflush(out) == EOF || ferror(out) ? -EIO : 0;
}

int report_inspect(const struct objfile *const *objs, size_t n, FILE *out, bool json)
{
	int r = 0;

	if (json)
		return inspect_json(objs, n, out);
	for (size_t i = 0; i < n && r == 0; i++)
		r = inspect_text(objs[i], out);
	return r;
}

static int validate_json(const struct manifest_set *set, const struct desired *des, FILE *out)
{
	json_t *root = json_pack("{s:i, s:b, s:[]}", "format_version", 1, "valid", 1, "manifests");
	json_t *list;
	int r = -ENOMEM;

	if (!root)
		return -ENOMEM;
	list = json_object_get(root, "manifests");
	for (size_t i = 0; i < set->n; i++) {
		const struct manifest *m = set->items[i];
		json_t *pins = json_array(), *jm;

		if (!pins)
			goto out;
		for (size_t j = 0; j < des->n_pins; j++) {
			const struct desired_pin *p = &des->pins[j];

			if (p->manifest != m)
				continue;
			if (json_array_append_new(pins, json_pack("{s:s, s:s, s:o, s:o}", "path",
								  p->path, "kind",
								  kind_ops(p->kind)->name,
								  "object", escape_json(object_name(p)),
								  "name",
								  escape_json(desired_pin_name(p)))) < 0) {
				json_decref(pins);
				goto out;
			}
		}
		jm = json_pack("{s:o, s:s, s:I, s:o}", "file", escape_json(m->file), "name", m->name,
			       "objects", (json_int_t)m->n_objects, "pins", pins);
		if (json_array_append_new(list, jm) < 0)
			goto out;
	}
	r = json_dumpf(root, out, JSON_INDENT(2)) < 0 || fputc('\n', out) == EOF ? -EIO : 0;
out:
	json_decref(root);
	return r;
}

int report_validate(const struct manifest_set *set, const struct desired *des, bool json,
		    FILE *out)
{
	if (json)
		return validate_json(set, des, out);
	for (size_t i = 0; i < set->n; i++) {
		const struct manifest *m = set->items[i];
		_cleanup_(shown_free) struct shown sh = { 0 };
		size_t n = 0;

		for (size_t j = 0; j < des->n_pins; j++)
			n += des->pins[j].manifest == m;
		fprintf(out, "%s: valid (manifest '%s', %zu object%s, %zu pin%s)\n", show(&sh, m->file),
			m->name, m->n_objects, m->n_objects == 1 ? "" : "s", n, n == 1 ? "" : "s");
		for (size_t j = 0; j < des->n_pins; j++) {
			const struct desired_pin *p = &des->pins[j];

			if (p->manifest == m)
				fprintf(out, "  %-8s %-40s (%s: %s)\n", kind_ops(p->kind)->name,
					p->path, show(&sh, object_name(p)),
					show(&sh, desired_pin_name(p)));
			shown_free(&sh);
		}
	}
	return ferror(out) ? -EIO : 0;
}

static json_t *diag_msg_json(const struct diag_msg *m)
{
	json_t *j = json_pack("{s:o, s:o*}", "message", escape_json(m->text), "file", escape_json(m->file));

	if (j && m->line) {
		json_object_set_new(j, "line", json_integer(m->line));
		json_object_set_new(j, "column", json_integer(m->column));
	}
	return j;
}

int report_errors_json(const struct diag *d, FILE *out)
{
	json_t *root = json_object(), *all = json_array();
	int r = -ENOMEM;

	if (!root || !all)
		goto out;
	for (size_t i = 0; i < d->n_msgs; i++) {
		if (d->msgs[i].severity != DIAG_ERROR)
			continue;
		if (!json_object_get(root, "error") &&
		    json_object_set_new(root, "error", diag_msg_json(&d->msgs[i])) < 0)
			goto out;
		if (json_array_append_new(all, diag_msg_json(&d->msgs[i])) < 0)
			goto out;
	}
	if (json_object_set(root, "errors", all) < 0)
		goto out;
	r = json_dumpf(root, out, JSON_INDENT(2)) < 0 || fputc('\n', out) == EOF ? -EIO : 0;
out:
	json_decref(all);
	json_decref(root);
	return r;
}

static const char action_symbol[PLAN_ACTION_MAX] = {
	[PLAN_CREATE] = '+', [PLAN_REPLACE] = '~', [PLAN_UPDATE] = '*', [PLAN_DELETE] = '-',
	[PLAN_ADOPT] = '<',  [PLAN_RELEASE] = '>',
};

/* SGR parameters of the colours (ECMA-48): what adds is green, what
 * removes red, what changes in place yellow, what only the ledger records
 * cyan. */
#define SGR_RED "31"
#define SGR_GREEN "32"
#define SGR_YELLOW "33"
#define SGR_CYAN "36"

static const char *const action_color[PLAN_ACTION_MAX] = {
	[PLAN_CREATE] = SGR_GREEN,  [PLAN_REPLACE] = SGR_YELLOW, [PLAN_UPDATE] = SGR_YELLOW,
	[PLAN_DELETE] = SGR_RED,    [PLAN_ADOPT] = SGR_CYAN,     [PLAN_RELEASE] = SGR_CYAN,
};

/* Writes s, coloured by sgr when fmt says so, then blanks up to width: the
 * width counts what is seen, never the escape sequences. */
static void put_colored(FILE *out, enum report_format fmt, const char *sgr, const char *s,
			int width)
{
	int len = (int)strlen(s);

	if (fmt == REPORT_COLOR && sgr)
		fprintf(out, "\033[%sm%s\033[0m", sgr, s);
	else
		fputs(s, out);
	if (width > len)
		fprintf(out, "%*s", width - len, "");
}

static const char *policy_text(const struct plan_change *c)
{
	if (c->policy == ON_INCOMPATIBLE_UNSET)
		return c->refused ? "refused" : NULL;
	if (c->refused)
		return c->policy == ON_INCOMPATIBLE_FAIL ? "fail: apply refuses" : "refused";
	return on_incompatible_str(c->policy);
}

/* The command that removes a retired manifest's pins. */
static char *retired_command(const char *name)
{
	char *s;

	return asprintf(&s, "bpf-provision destroy --name %s", name) < 0 ? NULL : s;
}

static void retired_text(const struct plan *p, FILE *out)
{
	for (size_t i = 0; i < p->n_retired; i++) {
		_cleanup_(shown_free) struct shown sh = { 0 };
		const struct plan_retired *r = &p->retired[i];
		const char *name = show(&sh, r->manifest);

		fprintf(out, "Retired manifest '%s': %zu pin%s (remove them with: bpf-provision "
			     "destroy --name %s)\n",
			name, r->n, r->n == 1 ? "" : "s", name);
	}
}

/* [{"manifest", "pins", "command"}] of the retired manifests. */
static json_t *retired_json(const struct plan *p)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < p->n_retired; i++) {
		const struct plan_retired *r = &p->retired[i];
		_cleanup_free_ char *cmd = retired_command(r->manifest);
		json_t *pins = json_array();
		int e = !cmd || !pins;

		for (size_t k = 0; !e && k < r->n; k++)
			e = json_array_append_new(pins, escape_json(r->paths[k])) < 0;
		if (e || json_array_append_new(list, json_pack("{s:o, s:o, s:o}", "manifest",
							       escape_json(r->manifest), "pins", pins,
							       "command", escape_json(cmd))) < 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

/* The width of the path column: the widest path, as shown. */
static int path_width(const struct plan *p, int width)
{
	_cleanup_(shown_free) struct shown sh = { 0 };

	for (size_t i = 0; i < p->n; i++) {
		int len = (int)strlen(show(&sh, p->changes[i].path));

		width = len > width ? len : width;
		shown_free(&sh);
	}
	return width;
}

static void plan_text(const struct plan *p, enum report_format fmt, FILE *out)
{
	_cleanup_(shown_free) struct shown sh = { 0 };
	int width = path_width(p, 23);

	for (size_t i = 0; i < p->n; i++) {
		const struct plan_change *c = &p->changes[i];
		const char *policy = policy_text(c);
		const char symbol[2] = { action_symbol[c->action], '\0' };
		char spec[128];

		put_colored(out, fmt, action_color[c->action], symbol, 0);
		fprintf(out, " %-8s %-*s ", observed_kind_str(c->kind), width, show(&sh, c->path));
		put_colored(out, fmt, action_color[c->action], plan_action_str(c->action), 7);
		fputs(" (", out);
		if (c->action == PLAN_CREATE) {
			kind_ops(c->want->kind)->describe(c->want, spec, sizeof(spec));
			fprintf(out, "%s: %s, %s", show(&sh, object_name(c->want)),
				show(&sh, desired_pin_name(c->want)), spec);
		} else {
			fprintf(out, "%s", show(&sh, c->reason));
		}
		fprintf(out, "%s%s)\n", policy ? "; " : "", policy ? policy : "");
		shown_free(&sh);
	}
	fprintf(out, "Plan: %zu to create, %zu to replace, %zu to update, %zu to delete, %zu "
		     "to adopt, %zu to release, %zu unchanged.\n",
		p->counts[PLAN_CREATE], p->counts[PLAN_REPLACE], p->counts[PLAN_UPDATE],
		p->counts[PLAN_DELETE], p->counts[PLAN_ADOPT], p->counts[PLAN_RELEASE],
		p->counts[PLAN_UNCHANGED]);
	if (p->n_refused)
		fprintf(out, "%zu change%s would be refused by apply.\n", p->n_refused,
			p->n_refused == 1 ? "" : "s");
	retired_text(p, out);
}

/* A change's outcome in JSON; a change the run never came to has one too. */
static const char *status_str(enum apply_status s)
{
	const char *str = apply_status_str(s);

	return str ? str : "not_tried";
}

/* The same for people, with its colour. */
static const struct {
	const char *text, *sgr;
} outcome_names[APPLY_STATUS_MAX] = {
	[APPLY_UNTRIED] = { "not tried", NULL },
	[APPLY_DONE] = { "done", SGR_GREEN },
	[APPLY_FAILED] = { "failed", SGR_RED },
	[APPLY_ROLLED_BACK] = { "rolled back", SGR_YELLOW },
};

/* The error that stopped a run, on one line: "FILE:LINE:COLUMN: TEXT" with
 * the parts that are known, escaped. */
static void reason_text(const struct diag_msg *m, FILE *out)
{
	_cleanup_(shown_free) struct shown sh = { 0 };

	if (m->file && m->line)
		fprintf(out, "%s:%u:%u: ", show(&sh, m->file), m->line, m->column);
	else if (m->file)
		fprintf(out, "%s: ", show(&sh, m->file));
	fputs(show(&sh, m->text), out);
}

/* After a real run: every change that is not done, one line each ("STATE
 * KIND PATH ACTION", none starting with a plan symbol), then how the run
 * ended.  A run that did all reads as the plan and one line. */
static void outcome_text(const struct plan *p, const struct report_outcome *o,
			 enum report_format fmt, FILE *out)
{
	_cleanup_(shown_free) struct shown sh = { 0 };
	const char *cmd = o->destroy ? "Destroy" : "Apply";
	size_t done[PLAN_ACTION_MAX] = { 0 };
	int width = path_width(p, 23);
	char head[64];

	for (size_t i = 0; i < p->n; i++) {
		const struct plan_change *c = &p->changes[i];
		enum apply_status st = o->status[i] < APPLY_STATUS_MAX ? o->status[i] : APPLY_UNTRIED;

		if (st == APPLY_DONE) {
			done[c->action]++;
			continue;
		}
		put_colored(out, fmt, outcome_names[st].sgr, outcome_names[st].text, 11);
		fprintf(out, " %-8s %-*s %s\n", observed_kind_str(c->kind), width, show(&sh, c->path),
			plan_action_str(c->action));
		shown_free(&sh);
	}
	if (o->error == 0 && o->destroy) {
		put_colored(out, fmt, SGR_GREEN, "Destroy complete:", 0);
		fprintf(out, " %zu deleted, %zu released.\n", done[PLAN_DELETE],
			done[PLAN_RELEASE]);
	} else if (o->error == 0) {
		put_colored(out, fmt, SGR_GREEN, "Apply complete:", 0);
		fprintf(out, " %zu created, %zu replaced, %zu updated, %zu deleted, %zu adopted, "
			     "%zu released.\n",
			done[PLAN_CREATE], done[PLAN_REPLACE], done[PLAN_UPDATE], done[PLAN_DELETE],
			done[PLAN_ADOPT], done[PLAN_RELEASE]);
	} else {
		snprintf(head, sizeof(head), "%s failed, %s:", cmd,
			 o->not_undone ? "rollback incomplete" : "rolled back");
		put_colored(out, fmt, SGR_RED, head, 0);
		fputc(' ', out);
		if (o->reason)
			reason_text(o->reason, out);
		else
			fputs(strerror(-o->error), out);
		if (o->not_undone)
			fprintf(out, "; %zu step%s could not be undone (see the errors).\n",
				o->not_undone, o->not_undone == 1 ? "" : "s");
		else
			fputs("; nothing changed.\n", out);
	}
}

static json_t *change_json(const struct plan_change *c, const char *status)
{
	json_t *j = json_pack("{s:s, s:s, s:o, s:s, s:o}", "action", plan_action_str(c->action),
			      "kind", observed_kind_str(c->kind), "path", escape_json(c->path), "manifest",
			      c->manifest, "reason", escape_json(c->reason));

	if (!j)
		return NULL;
	if (c->want && (json_object_set_new(j, "object", escape_json(object_name(c->want))) < 0 ||
			json_object_set_new(j, "name", escape_json(desired_pin_name(c->want))) < 0))
		goto fail;
	if (c->policy != ON_INCOMPATIBLE_UNSET &&
	    json_object_set_new(j, "on_incompatible", json_string(on_incompatible_str(c->policy))) < 0)
		goto fail;
	if (c->refused && json_object_set_new(j, "refused", json_true()) < 0)
		goto fail;
	if (status && json_object_set_new(j, "status", json_string(status)) < 0)
		goto fail;
	return j;
fail:
	json_decref(j);
	return NULL;
}

/* The kind of object a step pins. */
static const char *step_kind(const struct plan_step *s)
{
	return kind_ops(s->want->kind)->name;
}

/* " (mode 0600, owner 0, group 0)" or "" for what a step sets. */
static void attrs_text(const struct plan_step *s, char *buf, size_t len)
{
	int n = 0;

	buf[0] = '\0';
	if (s->op != PLAN_OP_MKDIR && s->op != PLAN_OP_PIN && s->op != PLAN_OP_ATTRS)
		return;
	if (s->op == PLAN_OP_MKDIR) /* owned as the process makes it */
		n = snprintf(buf, len, ", mode %04o", (unsigned)s->mode);
	else if (s->mode >= 0)
		n = snprintf(buf, len, ", mode %04o", (unsigned)s->mode);
	if (s->op != PLAN_OP_MKDIR && s->uid != PLAN_KEEP_ID && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, ", owner %" PRIu32, s->uid);
	if (s->op != PLAN_OP_MKDIR && s->gid != PLAN_KEEP_ID && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ", group %" PRIu32, s->gid);
}

/* The declared object in a few words: a map's spec, a link's hook. */
static const char *describe_text(const struct desired_pin *w, char *buf, size_t len)
{
	kind_ops(w->kind)->describe(w, buf, len);
	return buf;
}

int report_step(const struct plan *p, size_t i, FILE *out)
{
	_cleanup_(shown_free) struct shown sh = { 0 };
	const struct plan_step *s = &p->steps[i];
	const char *path = show(&sh, s->path);
	char attrs[96], hook[128];

	attrs_text(s, attrs, sizeof(attrs));
	switch (s->op) {
	case PLAN_OP_INTENT:
		fprintf(out, "intent: record this run and the directories it makes");
		break;
	case PLAN_OP_MKDIR:
		fprintf(out, "mkdir %s (manifest %s%s)", path, show(&sh, s->want->manifest->name),
			attrs);
		break;
	case PLAN_OP_LOAD:
		fprintf(out, "load object %s (%s)", show(&sh, s->want->object->name),
			show(&sh, s->want->objfile->path));
		break;
	case PLAN_OP_MIGRATE:
		fprintf(out, "migrate %s (the entries of map id %u)", path, s->id);
		break;
	case PLAN_OP_MKMAP:
		fprintf(out, "mkmap %s (%s)", path, show(&sh, describe_text(s->want, hook, sizeof(hook))));
		break;
	case PLAN_OP_WRITE:
		fprintf(out, "write %s %s (%zu entr%s%s)", s->fresh ? "into the new map for" : "in place into",
			path, s->want->contents->n, s->want->contents->n == 1 ? "y" : "ies",
			s->fresh ? "" : ", those that differ");
		break;
	case PLAN_OP_ATTACH:
		fprintf(out, "attach %s to %s for %s (%s)", show(&sh, desired_pin_name(s->want)),
			show(&sh, describe_text(s->want, hook, sizeof(hook))), path,
			s->loaded ? "the program just loaded" : "its pinned program");
		break;
	case PLAN_OP_RELINK:
		fprintf(out, "relink %s (link id %u, inode %llu) to %s (%s)", path, s->id,
			(unsigned long long)s->ino, show(&sh, desired_pin_name(s->want)),
			s->loaded ? "the program just loaded" : "its pinned program");
		break;
	case PLAN_OP_PIN:
		if (s->direct)
			fprintf(out, "pin %s %s at its free path (%s%s)", step_kind(s), path,
				show(&sh, desired_pin_name(s->want)), attrs);
		else
			fprintf(out, "pin %s %s as temporary %" PRIu32 " (%s%s)", step_kind(s), path,
				s->temp, show(&sh, desired_pin_name(s->want)), attrs);
		break;
	case PLAN_OP_RENAME:
		fprintf(out, "rename temporary %" PRIu32 " to %s", s->temp, path);
		break;
	case PLAN_OP_EXCHANGE:
		fprintf(out, "exchange temporary %" PRIu32 " with %s (inode %llu)", s->temp, path,
			(unsigned long long)s->ino);
		break;
	case PLAN_OP_MKTRASH:
		fprintf(out, "mktrash");
		break;
	case PLAN_OP_TRASH:
		if (s->at_temp)
			fprintf(out, "trash the old %s (inode %llu, at temporary %" PRIu32 ") into slot %" PRIu32,
				path, (unsigned long long)s->ino, s->temp, s->slot);
		else
			fprintf(out, "trash %s (inode %llu) into slot %" PRIu32, path,
				(unsigned long long)s->ino, s->slot);
		break;
	case PLAN_OP_ATTRS:
		fprintf(out, "attrs %s (inode %llu%s)", path, (unsigned long long)s->ino, attrs);
		break;
	case PLAN_OP_RMDIR:
		fprintf(out, "rmdir %s (inode %llu)", path, (unsigned long long)s->ino);
		break;
	case PLAN_OP_LEDGER:
		fprintf(out, "ledger: record what the manifests own");
		break;
	case PLAN_OP_PURGE:
		fprintf(out, "purge: unlink the old pins in the trash");
		break;
	case PLAN_OP_MAX:
		break;
	}
	return ferror(out) ? -EIO : 0;
}

static json_t *step_json(const struct plan_step *s)
{
	json_t *j = json_pack("{s:s}", "op", plan_op_str(s->op));
	char mode[16];
	int e = 0;

	if (!j)
		return NULL;
	if (s->path)
		e |= set(j, "path", escape_json(s->path));
	if (s->change != PLAN_NO_CHANGE)
		e |= set(j, "change", json_integer((json_int_t)s->change));
	if (s->op == PLAN_OP_LOAD)
		e |= set(j, "object", escape_json(s->want->object->name));
	if (s->op == PLAN_OP_PIN)
		e |= set(j, "kind", json_string(step_kind(s))) |
		     set(j, "name", escape_json(desired_pin_name(s->want)));
	if ((s->op == PLAN_OP_PIN && !s->direct) || s->op == PLAN_OP_RENAME ||
	    s->op == PLAN_OP_EXCHANGE || (s->op == PLAN_OP_TRASH && s->at_temp))
		e |= set(j, "temporary", json_integer((json_int_t)s->temp));
	if (s->op == PLAN_OP_TRASH)
		e |= set(j, "slot", json_integer((json_int_t)s->slot));
	if (s->ino)
		e |= set(j, "inode", json_integer((json_int_t)s->ino));
	if (s->op == PLAN_OP_MIGRATE || s->op == PLAN_OP_RELINK ||
	    (s->op == PLAN_OP_WRITE && !s->fresh))
		e |= set(j, "id", json_integer((json_int_t)s->id));
	if (s->op == PLAN_OP_WRITE)
		e |= set(j, "fresh", json_boolean(s->fresh)) |
		     set(j, "entries", json_integer((json_int_t)s->want->contents->n));
	if (s->op == PLAN_OP_ATTACH || s->op == PLAN_OP_RELINK)
		e |= set(j, "name", escape_json(desired_pin_name(s->want))) |
		     set(j, "program", json_string(s->loaded ? "loaded" : "pinned"));
	if ((s->op == PLAN_OP_MKDIR || s->op == PLAN_OP_PIN || s->op == PLAN_OP_ATTRS) &&
	    s->mode >= 0) {
		snprintf(mode, sizeof(mode), "%04o", (unsigned)s->mode);
		e |= set(j, "mode", json_string(mode));
	}
	if ((s->op == PLAN_OP_PIN || s->op == PLAN_OP_ATTRS) && s->uid != PLAN_KEEP_ID)
		e |= set(j, "owner", json_integer((json_int_t)s->uid));
	if ((s->op == PLAN_OP_PIN || s->op == PLAN_OP_ATTRS) && s->gid != PLAN_KEEP_ID)
		e |= set(j, "group", json_integer((json_int_t)s->gid));
	if (e) {
		json_decref(j);
		return NULL;
	}
	return j;
}

json_t *report_plan_json(const struct plan *p, const char *root, bool dry_run,
			 const enum apply_status *status)
{
	json_t *doc, *changes, *steps;

	doc = json_pack("{s:i, s:o, s:b, s:[], s:[], s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
			"format_version", 3, "bpffs", escape_json(root), "dry_run", dry_run, "changes",
			"steps", "summary", "create", (json_int_t)p->counts[PLAN_CREATE], "replace",
			(json_int_t)p->counts[PLAN_REPLACE], "update",
			(json_int_t)p->counts[PLAN_UPDATE], "delete",
			(json_int_t)p->counts[PLAN_DELETE], "adopt", (json_int_t)p->counts[PLAN_ADOPT],
			"release", (json_int_t)p->counts[PLAN_RELEASE], "unchanged",
			(json_int_t)p->counts[PLAN_UNCHANGED]);
	if (!doc)
		return NULL;
	if (json_object_set_new(doc, "retired", retired_json(p)) < 0)
		goto fail;
	changes = json_object_get(doc, "changes");
	steps = json_object_get(doc, "steps");
	for (size_t i = 0; i < p->n; i++)
		if (json_array_append_new(changes, change_json(&p->changes[i],
							       status ? status_str(status[i]) : NULL)) < 0)
			goto fail;
	for (size_t i = 0; i < p->n_steps; i++)
		if (json_array_append_new(steps, step_json(&p->steps[i])) < 0)
			goto fail;
	return doc;
fail:
	json_decref(doc);
	return NULL;
}

/* {"result": "complete"} or {"result": "failed", "rolled_back", "not_undone",
 * "error": the error that stopped the run, as in the error document}. */
static json_t *outcome_json(const struct report_outcome *o)
{
	json_t *j = json_pack("{s:s}", "result", o->error ? "failed" : "complete");
	int e = 0;

	if (!j || !o->error)
		return j;
	e |= set(j, "rolled_back", json_boolean(!o->not_undone));
	e |= set(j, "not_undone", json_integer((json_int_t)o->not_undone));
	e |= set(j, "error", o->reason ? diag_msg_json(o->reason)
				       : json_pack("{s:s}", "message", strerror(-o->error)));
	if (e) {
		json_decref(j);
		return NULL;
	}
	return j;
}

int report_plan(const struct plan *p, const char *root, const struct report_outcome *outcome,
		enum report_format fmt, FILE *out)
{
	_cleanup_json_ json_t *doc = NULL;

	if (fmt != REPORT_JSON) {
		plan_text(p, fmt, out);
		if (outcome)
			outcome_text(p, outcome, fmt, out);
		return ferror(out) ? -EIO : 0;
	}
	doc = report_plan_json(p, root, !outcome, outcome ? outcome->status : NULL);
	if (!doc || (outcome && set(doc, "outcome", outcome_json(outcome)) < 0))
		return -ENOMEM;
	return json_dumpf(doc, out, JSON_INDENT(2)) < 0 || fputc('\n', out) == EOF ? -EIO : 0;
}

static int cmp_change_path(const void *a, const void *b)
{
	return strcmp((*(const struct plan_change *const *)a)->path,
		      (*(const struct plan_change *const *)b)->path);
}

static const struct plan_change *change_at(const struct plan_change *const *sorted, size_t n,
					   const char *path)
{
	struct plan_change key = { .path = path };
	const struct plan_change *kp = &key, *const *found;

	found = n ? bsearch(&kp, sorted, n, sizeof(*sorted), cmp_change_path) : NULL;
	return found ? *found : NULL;
}

static int cmp_want(const void *a, const void *b)
{
	return strcmp((*(const struct desired_pin *const *)a)->path,
		      (*(const struct desired_pin *const *)b)->path);
}

static int cmp_want_key(const void *key, const void *elem)
{
	return strcmp(key, (*(const struct desired_pin *const *)elem)->path);
}

/* libbpf's name of the type of a pin, or NULL. */
static const char *pin_type_str(enum observed_kind k, uint32_t type)
{
	return (unsigned)k < KIND_MAX ? kind_ops((enum kind)k)->type_str(type) : NULL;
}

/* A link's hook and program after its state: what `status` is asked for. */
static void link_state(const struct observed_entry *h, char *state, size_t len)
{
	size_t n = strlen(state);
	char hook[256];

	kind_link_show(h, hook, sizeof(hook));
	snprintf(state + n, len - n, "%s%s, program id %u", n ? "; " : "", hook, h->prog_id);
}

/* One row of `status`.  NULL, 0 and "" are "nothing to say": null in JSON,
 * "-" (or "unmanaged") in text. */
struct status_row {
	const char *path, *kind, *type, *managed_by;
	uint32_t id;
	bool in_sync;
	const char *sgr; /* the state's colour, or NULL */
	char state[512];
};

static json_t *status_row_json(const struct status_row *row)
{
	return json_pack("{s:o, s:s, s:s?, s:o, s:s?, s:b, s:o}", "path", escape_json(row->path),
			 "kind", row->kind, "type", row->type, "id",
			 row->id ? json_integer((json_int_t)row->id) : json_null(), "managed_by",
			 row->managed_by, "in_sync", row->in_sync, "state",
			 row->state[0] ? escape_json(row->state) : json_null());
}

/* The widths of the text columns: each its widest entry, as shown. */
struct status_widths {
	int path, kind, type, id, managed_by;
};

static int widest(int w, const char *s)
{
	int len = (int)strlen(s);

	return len > w ? len : w;
}

static void status_text(const struct status_row *rows, size_t n, enum report_format fmt,
			FILE *out)
{
	_cleanup_(shown_free) struct shown sh = { 0 };
	struct status_widths w = { 4, 4, 4, 2, 10 }; /* the headers' */
	char id[16];

	for (size_t i = 0; i < n; i++) {
		const struct status_row *r = &rows[i];

		snprintf(id, sizeof(id), "%u", r->id);
		w.path = widest(w.path, show(&sh, r->path));
		w.kind = widest(w.kind, r->kind);
		w.type = widest(w.type, r->type ? r->type : "-");
		w.id = r->id ? widest(w.id, id) : w.id;
		w.managed_by =
			widest(w.managed_by, r->managed_by ? show(&sh, r->managed_by) : "unmanaged");
		shown_free(&sh);
	}
	fprintf(out, "%-*s %-*s %-*s %-*s %-*s STATE\n", w.path, "PATH", w.kind, "KIND", w.type,
		"TYPE", w.id, "ID", w.managed_by, "MANAGED-BY");
	for (size_t i = 0; i < n; i++) {
		const struct status_row *r = &rows[i];

		snprintf(id, sizeof(id), r->id ? "%u" : "-", r->id);
		fprintf(out, "%-*s %-*s %-*s %-*s %-*s ", w.path, show(&sh, r->path), w.kind, r->kind,
			w.type, r->type ? r->type : "-", w.id, id, w.managed_by,
			r->managed_by ? show(&sh, r->managed_by) : "unmanaged");
		put_colored(out, fmt, r->sgr, r->state[0] ? show(&sh, r->state) : "-", 0);
		fputc('\n', out);
		shown_free(&sh);
	}
}

/* The row of pin h: who manages it and what the plan c (or NULL) does
 * there; want is the declared pins, sorted by path. */
static void status_pin(struct status_row *row, const struct observed_entry *h,
		       const struct plan_change *c, const struct desired_pin *const *want,
		       size_t n_want, const struct ledger *l)
{
	const struct ledger_entry *le = ledger_find(l, h->path);
	const struct desired_pin *w = NULL;

	*row = (struct status_row){ .path = h->path, .kind = observed_kind_str(h->kind),
				    .type = pin_type_str(h->kind, h->type), .id = h->id };
	if (!c) {
		const struct desired_pin *const *found =
			bsearch(h->path, want, n_want, sizeof(*want), cmp_want_key);

		w = found ? *found : NULL;
	}
	if (c && c->want)
		w = c->want;
	if (w)
		row->managed_by = w->manifest->name;
	else if (c)
		row->managed_by = c->manifest;
	else if (ledger_claims(le, h->ino, h->id))
		row->managed_by = le->manifest;
	if (c) {
		row->in_sync = !plan_change_drifts(c);
		row->sgr = row->in_sync ? SGR_GREEN : SGR_YELLOW;
		snprintf(row->state, sizeof(row->state), "%s: %s", plan_action_str(c->action),
			 c->reason);
	} else if (w) {
		row->in_sync = true;
		row->sgr = SGR_GREEN;
		snprintf(row->state, sizeof(row->state), "in sync");
	} else if (observed_is_kernel_file(h)) {
		snprintf(row->state, sizeof(row->state), "the kernel's own file, not a pin");
	} else if (h->kind == OBSERVED_UNKNOWN) {
		row->sgr = SGR_RED;
		snprintf(row->state, sizeof(row->state), "cannot open: %s", strerror(-h->error));
	}
	if (h->kind == OBSERVED_LINK)
		link_state(h, row->state, sizeof(row->state));
}

int report_status(const struct observed *obs, const struct desired *des, const struct ledger *l,
		  const struct plan *p, const char *root, enum report_format fmt, FILE *out)
{
	_cleanup_free_ const struct plan_change **sorted = malloc((p->n + 1) * sizeof(*sorted));
	_cleanup_free_ const struct desired_pin **want = malloc((des->n_pins + 1) * sizeof(*want));
	_cleanup_free_ struct status_row *rows = malloc((obs->n + p->n + 1) * sizeof(*rows));
	_cleanup_json_ json_t *doc = NULL;
	json_t *pins;
	size_t n = 0;

	if (!sorted || !want || !rows)
		return -ENOMEM;
	for (size_t i = 0; i < des->n_pins; i++)
		want[i] = &des->pins[i];
	qsort(want, des->n_pins, sizeof(*want), cmp_want);
	for (size_t i = 0; i < p->n; i++)
		sorted[i] = &p->changes[i];
	qsort(sorted, p->n, sizeof(*sorted), cmp_change_path);
	for (size_t i = 0; i < obs->n; i++) {
		const struct observed_entry *h = &obs->entries[i];

		if (h->kind != OBSERVED_DIR)
			status_pin(&rows[n++], h, change_at(sorted, p->n, h->path), want,
				   des->n_pins, l);
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_change *c = &p->changes[i];
		struct status_row *row = &rows[n];

		if (c->action != PLAN_CREATE)
			continue;
		*row = (struct status_row){ .path = c->path, .kind = observed_kind_str(c->kind),
					    .type = pin_type_str(c->kind, c->want->spec.type),
					    .managed_by = c->manifest, .sgr = SGR_RED };
		snprintf(row->state, sizeof(row->state), "missing");
		n++;
	}
	if (fmt != REPORT_JSON) {
		status_text(rows, n, fmt, out);
		retired_text(p, out);
		return ferror(out) ? -EIO : 0;
	}
	doc = json_pack("{s:i, s:o, s:[]}", "format_version", 2, "bpffs", escape_json(root), "pins");
	if (!doc)
		return -ENOMEM;
	pins = json_object_get(doc, "pins");
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(pins, status_row_json(&rows[i])) < 0)
			return -ENOMEM;
	if (json_object_set_new(doc, "retired", retired_json(p)) < 0)
		return -ENOMEM;
	return json_dumpf(doc, out, JSON_INDENT(2)) < 0 || fputc('\n', out) == EOF ? -EIO : 0;
}

/* Label values escape backslash, quote and newline, and must be UTF-8. */
static void prom_label(FILE *f, const char *s)
{
	_cleanup_free_ char *e = NULL;
	const char *v = s;

	if (escape_needed(s) && (e = escape_text(s)))
		v = e;
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static const char *const reason_str[REPORT_REASON_MAX] = {
	[REPORT_REASON_OK] = "ok",
	[REPORT_REASON_INVALID] = "invalid",
	[REPORT_REASON_BPFFS] = "bpffs",
	[REPORT_REASON_LOCK] = "lock",
	[REPORT_REASON_REFUSED] = "refused",
	[REPORT_REASON_APPLY_FAILED] = "apply_failed",
	[REPORT_REASON_USAGE] = "usage",
	[REPORT_REASON_ERROR] = "error",
};

/* The HELP and TYPE lines of a gauge, then its name and the bpffs label
 * that every series carries (two roots' files side by side in one
 * collector's directory would otherwise hold the same series); the caller
 * adds the other labels and the value. */
static void prom_gauge(FILE *f, const char *name, const char *help, const char *root)
{
	if (help)
		fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
	fprintf(f, "%s{bpffs=\"", name);
	prom_label(f, root);
	fputc('"', f);
}

/* The plan's part: only a run that got as far as a plan has one. */
static void metrics_plan(FILE *f, const struct report_run *run)
{
	static const enum plan_action actions[] = { PLAN_CREATE, PLAN_REPLACE, PLAN_UPDATE,
						    PLAN_DELETE, PLAN_ADOPT,   PLAN_RELEASE,
						    PLAN_UNCHANGED };
	const struct plan *p = run->plan;

	for (size_t i = 0; i < sizeof(actions) / sizeof(*actions); i++) {
		prom_gauge(f, "bpf_provision_changes",
			   i ? NULL : "Changes of the last run's plan, by action.", run->root);
		fprintf(f, ",action=\"%s\"} %zu\n", plan_action_str(actions[i]),
			p->counts[actions[i]]);
	}
	prom_gauge(f, "bpf_provision_refused", "Changes the last plan holds that apply refuses.",
		   run->root);
	fprintf(f, "} %zu\n", p->n_refused);
	/* An apply that did not succeed left the tree as it was: drifted. */
	prom_gauge(f, "bpf_provision_drift", "1 when the tree differs from the manifests.",
		   run->root);
	fprintf(f, "} %d\n", run->dry_run ? plan_has_changes(p) : run->reason != REPORT_REASON_OK);
}

int report_metrics(const struct report_run *run, const char *file, struct diag *d)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r;

	if (!f)
		return -ENOMEM;
	prom_gauge(f, "bpf_provision_build_info",
		   "The version of bpf-provision that wrote this file.", run->root);
	fprintf(f, ",version=\"%s\"} 1\n", PACKAGE_VERSION);
	prom_gauge(f, "bpf_provision_last_run_success",
		   "1 when the last run succeeded; reason says how it ended.", run->root);
	fprintf(f, ",dry_run=\"%s\",reason=\"%s\"} %d\n", run->dry_run ? "true" : "false",
		reason_str[run->reason], run->reason == REPORT_REASON_OK);
	prom_gauge(f, "bpf_provision_last_run_timestamp_seconds", "When the last run ended.",
		   run->root);
	fprintf(f, "} %lld\n", (long long)time(NULL));
	prom_gauge(f, "bpf_provision_last_run_duration_seconds", "How long the last run took.",
		   run->root);
	fprintf(f, "} %.6f\n", run->duration);
	if (run->plan)
		metrics_plan(f, run);
	/* A memory stream fails only for want of memory. */
	r = ferror(f);
	if (fclose(f) != 0 || r)
		return -ENOMEM;
	r = atomicfile_write(file, text, len, 0644);
	if (r < 0)
		return diag_error(d, &(struct diag_loc){ .file = file },
				  "cannot write the metrics: %s", strerror(-r)),
		       r;
	return 0;
}
