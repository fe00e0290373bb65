// SPDX-License-Identifier: MIT
/* Plan stage: diff(desired, observed, ledger) -> ordered changes with their
 * reasons.  Lookups are binary searches over sorted arrays, so planning is
 * O(n log n) in pins.  No I/O: everything it needs is in its input. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "array.h"
#include "cleanup.h"
#include "plan.h"

static const char *const action_names[PLAN_ACTION_MAX] = {
	[PLAN_CREATE] = "create",
	[PLAN_REPLACE] = "replace",
	[PLAN_UPDATE] = "update",
	[PLAN_DELETE] = "delete",
	[PLAN_UNCHANGED] = "unchanged",
};

const char *plan_action_str(enum plan_action a)
{
	return a >= 0 && a < PLAN_ACTION_MAX ? action_names[a] : NULL;
}

bool plan_has_changes(const struct plan *p)
{
	return p->n > 0;
}

void plan_done(struct plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->changes[i].reason);
	free(p->changes);
	*p = (struct plan){ 0 };
}

/* Appends "; " and a formatted part to a reason being built. */
__attribute__((format(printf, 2, 3))) static int append(char **s, const char *fmt, ...)
{
	_cleanup_free_ char *part = NULL;
	char *joined;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&part, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	if (asprintf(&joined, "%s%s%s", *s ? *s : "", *s ? "; " : "", part) < 0)
		return -ENOMEM;
	free(*s);
	*s = joined;
	return 0;
}

static int add_change(struct plan *p, struct plan_change c)
{
	if (array_reserve(&p->changes, p->n, sizeof(*p->changes)) < 0) {
		free(c.reason);
		return -ENOMEM;
	}
	p->changes[p->n++] = c;
	p->counts[c.action]++;
	p->n_refused += c.refused;
	return 0;
}

static enum observed_kind want_kind(const struct desired_pin *w)
{
	return w->kind == DESIRED_MAP ? OBSERVED_MAP : OBSERVED_PROGRAM;
}

static const char *map_type_name(uint32_t t)
{
	const char *s = libbpf_bpf_map_type_str(t);

	return s ? s : "unknown";
}

static const char *prog_type_name(uint32_t t)
{
	const char *s = libbpf_bpf_prog_type_str(t);

	return s ? s : "unknown";
}

/* Why a pinned map cannot serve as the declared one ("pinned -> manifest"). */
static int map_differences(const struct desired_pin *w, const struct observed_entry *h, char **r)
{
	const struct desired_spec *s = &w->spec;
	int e = 0;

	if (h->type != s->type)
		e = append(r, "type %s -> %s", map_type_name(h->type), map_type_name(s->type));
	if (!e && h->key_size != s->key_size)
		e = append(r, "key_size %u -> %u", h->key_size, s->key_size);
	if (!e && h->value_size != s->value_size)
		e = append(r, "value_size %u -> %u", h->value_size, s->value_size);
	/* The kernel sizes a perf event array with max_entries 0 to the CPU count. */
	if (!e && h->max_entries != s->max_entries &&
	    !(s->type == BPF_MAP_TYPE_PERF_EVENT_ARRAY && s->max_entries == 0))
		e = append(r, "max_entries %u -> %u", h->max_entries, s->max_entries);
	if (!e && h->map_flags != s->map_flags)
		e = append(r, "map_flags 0x%x -> 0x%x", h->map_flags, s->map_flags);
	return e;
}

static void tag_hex(const uint8_t tag[8], char out[17])
{
	for (int i = 0; i < 8; i++)
		sprintf(out + 2 * i, "%02x", tag[i]);
}

static int prog_differences(const struct desired_pin *w, const struct observed_entry *h,
			    char **r)
{
	char have[17], want[17];

	if (h->type != w->spec.type)
		return append(r, "type %s -> %s", prog_type_name(h->type),
			      prog_type_name(w->spec.type));
	if (w->spec.has_tag && memcmp(h->tag, w->spec.tag, sizeof(h->tag)) != 0) {
		tag_hex(h->tag, have);
		tag_hex(w->spec.tag, want);
		return append(r, "instructions differ (tag %s -> %s)", have, want);
	}
	return 0;
}

static int attr_differences(const struct desired_pin *w, const struct observed_entry *h,
			    char **r)
{
	int e = 0;

	if (w->attrs->mode >= 0 && (int)h->mode != w->attrs->mode)
		e = append(r, "mode %04o -> %04o", (unsigned)h->mode, (unsigned)w->attrs->mode);
	if (!e && w->uid >= 0 && (int64_t)h->uid != w->uid)
		e = append(r, "owner %u -> %lld", (unsigned)h->uid, (long long)w->uid);
	if (!e && w->gid >= 0 && (int64_t)h->gid != w->gid)
		e = append(r, "group %u -> %lld", (unsigned)h->gid, (long long)w->gid);
	return e;
}

/* Something other than a directory where a parent of path must be one. */
static const struct observed_entry *blocked_parent(const struct observed *obs, const char *path)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return NULL;
	memcpy(buf, path, len + 1);
	for (char *slash = strchr(buf, '/'); slash; slash = strchr(slash + 1, '/')) {
		const struct observed_entry *e;

		*slash = '\0';
		e = observed_find(obs, buf);
		*slash = '/';
		if (e && e->kind != OBSERVED_DIR)
			return e;
	}
	return NULL;
}

/* The change for one declared pin. */
static int plan_pin(struct plan *p, const struct desired_pin *w, const struct observed_entry *h,
		    const struct observed_entry *parent, const char *reload)
{
	struct plan_change c = {
		.kind = want_kind(w),
		.path = w->path,
		.want = w,
		.have = h,
		.manifest = w->manifest->name,
		.policy = ON_INCOMPATIBLE_UNSET,
	};
	enum on_incompatible policy = w->attrs->on_incompatible == ON_INCOMPATIBLE_UNSET
					      ? ON_INCOMPATIBLE_FAIL
					      : w->attrs->on_incompatible;
	int e = 0;

	if (parent) {
		/* Never removed, like anything in the way below. */
		c.action = PLAN_REPLACE;
		c.refused = true;
		e = append(&c.reason, "a %s is in the way at '%s'; remove it by hand",
			   observed_kind_str(parent->kind), parent->path);
	} else if (!h) {
		c.action = PLAN_CREATE;
		e = append(&c.reason, "missing");
	} else if (h->kind == OBSERVED_DIR || h->kind == OBSERVED_SYMLINK ||
		   h->kind == OBSERVED_UNKNOWN) {
		/* Never removed: a directory may hold others' pins, a symlink may
		 * be anyone's, an unreadable pin cannot be judged. */
		c.action = PLAN_REPLACE;
		c.refused = true;
		e = h->kind == OBSERVED_UNKNOWN
			    ? append(&c.reason, "a pin that cannot be opened (%s) is in the way",
				     strerror(-h->error))
			    : append(&c.reason, "a %s is in the way; remove it by hand",
				     observed_kind_str(h->kind));
	} else if (h->kind != c.kind) {
		c.action = PLAN_REPLACE;
		c.policy = policy;
		c.refused = policy != ON_INCOMPATIBLE_REPLACE;
		e = append(&c.reason, "a %s is pinned where a %s is declared",
			   observed_kind_str(h->kind), observed_kind_str(c.kind));
	} else {
		e = w->kind == DESIRED_MAP ? map_differences(w, h, &c.reason)
					   : prog_differences(w, h, &c.reason);
		if (!e && c.reason) {
			c.action = PLAN_REPLACE;
			if (w->kind == DESIRED_MAP) {
				c.policy = policy;
				c.refused = policy == ON_INCOMPATIBLE_FAIL;
			}
		} else if (!e && reload) {
			c.action = PLAN_REPLACE;
			e = append(&c.reason, "%s", reload);
		} else if (!e) {
			e = attr_differences(w, h, &c.reason);
			c.action = c.reason ? PLAN_UPDATE : PLAN_UNCHANGED;
		}
	}
	if (e < 0) {
		free(c.reason);
		return e;
	}
	if (c.action == PLAN_UNCHANGED) {
		p->counts[PLAN_UNCHANGED]++;
		return 0;
	}
	return add_change(p, c);
}

/* The pinned maps each object's programs are wired to: per object, the
 * declared pin of each map (NULL where it is not pinned). */
static const struct desired_pin ***map_pins_index(const struct desired *des)
{
	const struct desired_pin ***idx = calloc(des->n_objfiles + 1, sizeof(*idx));

	if (!idx)
		return NULL;
	for (size_t i = 0; i < des->n_pins; i++) {
		const struct desired_pin *w = &des->pins[i];
		size_t k = w->objfile_index;

		if (w->kind != DESIRED_MAP || !w->objfile)
			continue;
		if (!idx[k])
			idx[k] = calloc(w->objfile->n_maps + 1, sizeof(**idx));
		if (!idx[k]) {
			for (size_t j = 0; j < des->n_objfiles; j++)
				free(idx[j]);
			free(idx);
			return NULL;
		}
		idx[k][w->index] = w;
	}
	return idx;
}

static void map_pins_free(const struct desired_pin ***idx, size_t n)
{
	for (size_t i = 0; idx && i < n; i++)
		free(idx[i]);
	free(idx);
}

/* Why a pinned program must be loaded again though its tag is right: it
 * holds another map than a pinned one it is declared to use (a run killed
 * between swapping a map and reloading its programs leaves it so), in a
 * new string in *ret; NULL when it is wired as declared. */
static int miswired(const struct desired_pin *const *pins, const struct observed *obs,
		    const struct desired_pin *w, const struct observed_entry *h, char **ret)
{
	const struct objfile_prog *pr;

	*ret = NULL;
	if (!pins || !w->objfile || !h || h->kind != OBSERVED_PROGRAM)
		return 0;
	pr = &w->objfile->progs[w->index];
	for (size_t i = 0; i < pr->n_uses; i++) {
		const struct desired_pin *mw = pins[pr->uses[i]];
		const struct observed_entry *mh = mw ? observed_find(obs, mw->path) : NULL;
		bool held = false;

		if (!mh || mh->kind != OBSERVED_MAP)
			continue;
		for (uint32_t k = 0; k < h->n_map_ids && !held; k++)
			held = h->map_ids[k] == mh->id;
		if (!held)
			return asprintf(ret, "wired to another map than '%s' (map id %u): reload to "
					     "use it",
					mw->path, mh->id) < 0
				       ? -ENOMEM
				       : 0;
	}
	return 0;
}

/* Maps made anew by this plan, so that their programs are reloaded. */
struct remade {
	const struct objfile *of;
	size_t map;
};

/* The name of a map the program uses that this plan makes anew, or NULL.
 * Objects libbpf loads keep their relocations to it: any map of the object counts. */
static const char *remade_map(const struct remade *r, size_t n, const struct desired_pin *w)
{
	const struct objfile *of = w->objfile;

	if (!of)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (r[i].of != of)
			continue;
		if (of->libbpf)
			return of->maps[r[i].map].name;
		for (size_t k = 0; k < of->progs[w->index].n_relocs; k++)
			if (of->progs[w->index].relocs[k].map == r[i].map)
				return of->maps[r[i].map].name;
	}
	return NULL;
}

static const struct manifest *set_find(const struct manifest_set *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->items[i]->name, name) == 0)
			return set->items[i];
	return NULL;
}

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* The manifest of the set whose `owned` directory holds path, or NULL. */
static const struct manifest *owner_dir(const struct manifest_set *set, const char *path,
					const char **ret_dir)
{
	for (size_t i = 0; i < set->n; i++)
		for (size_t j = 0; j < set->items[i]->n_owned; j++)
			if (under(path, set->items[i]->owned[j])) {
				*ret_dir = set->items[i]->owned[j];
				return set->items[i];
			}
	return NULL;
}

static int cmp_desired_path(const void *key, const void *elem)
{
	return strcmp(key, (*(const struct desired_pin *const *)elem)->path);
}

static int cmp_desired(const void *a, const void *b)
{
	return strcmp((*(const struct desired_pin *const *)a)->path,
		      (*(const struct desired_pin *const *)b)->path);
}

/* The delete, if any, for an observed pin that nothing declares. */
static int plan_undeclared(struct plan *p, const struct plan_input *in,
			   const struct observed_entry *h)
{
	const struct ledger_entry *l = ledger_find(in->ledger, h->path);
	const struct manifest *m = NULL;
	const char *dir = NULL;
	struct plan_change c = { .action = PLAN_DELETE,
				 .kind = h->kind,
				 .path = h->path,
				 .have = h,
				 .policy = ON_INCOMPATIBLE_UNSET };
	enum ledger_temp temp;
	int e;

	if (h->kind != OBSERVED_MAP && h->kind != OBSERVED_PROGRAM && h->kind != OBSERVED_LINK)
		return 0;
	temp = ledger_temp_of(in->ledger, h->path);
	if (temp == LEDGER_TEMP_PIN || temp == LEDGER_TEMP_IN_TRASH) {
		/* Ours by name: made by a run that was killed before its rename. */
		e = append(&c.reason, "temporary pin left by an interrupted run");
		if (e < 0)
			return e;
		c.manifest = "";
		return add_change(p, c);
	}
	if (ledger_claims(l, h->ino, h->id)) {
		/* Ours: deleted only by the manifest that made it. */
		m = set_find(in->set, l->manifest);
		if (!m || (!m->prune && !in->destroy))
			return 0;
		e = append(&c.reason, in->destroy ? "destroyed with its manifest" : "no longer declared");
	} else {
		m = owner_dir(in->set, h->path, &dir);
		/* Another manifest's live record outranks an owned directory. */
		if (!m || ledger_claims(l, h->ino, h->id))
			return 0;
		e = append(&c.reason, "undeclared in owned directory '%s'", dir);
	}
	if (e < 0)
		return e;
	c.manifest = m->name;
	return add_change(p, c);
}

static int cmp_changes(const void *a, const void *b)
{
	const struct plan_change *x = a, *y = b;
	bool dx = x->action == PLAN_DELETE, dy = y->action == PLAN_DELETE;

	if (dx != dy)
		return dx - dy;
	/* Deletes children first: reverse path order puts "a/b" before "a". */
	return dx ? strcmp(y->path, x->path) : strcmp(x->path, y->path);
}

int plan_build(const struct plan_input *in, struct plan *ret)
{
	const struct desired *des = in->desired;
	_cleanup_free_ const struct desired_pin **sorted = NULL;
	_cleanup_free_ struct remade *remade = NULL;
	size_t n_want = in->destroy ? 0 : des->n_pins, n_remade = 0;
	const struct desired_pin ***pins = NULL;
	struct plan p = { 0 };
	int e = 0;

	sorted = malloc((n_want + 1) * sizeof(*sorted));
	remade = malloc((n_want + 1) * sizeof(*remade));
	pins = map_pins_index(des);
	if (!sorted || !remade || !pins) {
		map_pins_free(pins, des->n_objfiles);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n_want; i++)
		sorted[i] = &des->pins[i];
	qsort(sorted, n_want, sizeof(*sorted), cmp_desired);

	for (size_t i = 0; i < n_want && !e; i++)
		if (sorted[i]->kind == DESIRED_MAP)
			e = plan_pin(&p, sorted[i], observed_find(in->observed, sorted[i]->path),
				     blocked_parent(in->observed, sorted[i]->path), NULL);
	/* So far the plan holds map changes only. */
	for (size_t i = 0; i < p.n && !e; i++)
		if (p.changes[i].action == PLAN_CREATE ||
		    (p.changes[i].action == PLAN_REPLACE && !p.changes[i].refused))
			remade[n_remade++] = (struct remade){ p.changes[i].want->objfile,
							      p.changes[i].want->index };
	for (size_t i = 0; i < n_want && !e; i++) {
		const struct desired_pin *w = sorted[i];
		const struct observed_entry *h = observed_find(in->observed, w->path);
		const char *map = NULL;
		_cleanup_free_ char *reload = NULL;

		if (w->kind != DESIRED_PROGRAM)
			continue;
		map = remade_map(remade, n_remade, w);
		if (map)
			e = asprintf(&reload, "its map '%s' is made anew: reload to use it", map) < 0
				    ? -ENOMEM
				    : 0;
		else
			e = miswired(pins ? pins[w->objfile_index] : NULL, in->observed, w, h,
				     &reload);
		if (!e)
			e = plan_pin(&p, w, h, blocked_parent(in->observed, w->path), reload);
	}
	for (size_t i = 0; i < in->observed->n && !e; i++) {
		const struct observed_entry *h = &in->observed->entries[i];

		if (!bsearch(h->path, sorted, n_want, sizeof(*sorted), cmp_desired_path))
			e = plan_undeclared(&p, in, h);
	}
	map_pins_free(pins, des->n_objfiles);
	if (e < 0) {
		plan_done(&p);
		return e;
	}
	if (p.n)
		qsort(p.changes, p.n, sizeof(*p.changes), cmp_changes);
	*ret = p;
	return 0;
}
