// SPDX-License-Identifier: MIT
/* Plan stage: diff(desired, observed, ledger) -> ordered changes with their
 * reasons.  Lookups are in sorted arrays, most of them in path order, so
 * planning is O(n log n) in pins.  No I/O: everything it needs is in its
 * input. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "array.h"
#include "cleanup.h"
#include "kind.h"
#include "plan.h"

static const char *const action_names[PLAN_ACTION_MAX] = {
	[PLAN_CREATE] = "create",
	[PLAN_REPLACE] = "replace",
	[PLAN_UPDATE] = "update",
	[PLAN_DELETE] = "delete",
	[PLAN_ADOPT] = "adopt",
	[PLAN_RELEASE] = "release",
	[PLAN_UNCHANGED] = "unchanged",
};

const char *plan_action_str(enum plan_action a)
{
	return a >= 0 && a < PLAN_ACTION_MAX ? action_names[a] : NULL;
}

static const char *const op_names[PLAN_OP_MAX] = {
	[PLAN_OP_INTENT] = "intent",	 [PLAN_OP_MKDIR] = "mkdir",   [PLAN_OP_LOAD] = "load",
	[PLAN_OP_ATTACH] = "attach",	 [PLAN_OP_RELINK] = "relink", [PLAN_OP_MKMAP] = "mkmap",
	[PLAN_OP_WRITE] = "write",
	[PLAN_OP_MIGRATE] = "migrate",	 [PLAN_OP_PIN] = "pin",	      [PLAN_OP_RENAME] = "rename",
	[PLAN_OP_EXCHANGE] = "exchange", [PLAN_OP_MKTRASH] = "mktrash", [PLAN_OP_TRASH] = "trash",
	[PLAN_OP_ATTRS] = "attrs",	 [PLAN_OP_RMDIR] = "rmdir",   [PLAN_OP_LEDGER] = "ledger",
	[PLAN_OP_PURGE] = "purge",
};

const char *plan_op_str(enum plan_op op)
{
	return op >= 0 && op < PLAN_OP_MAX ? op_names[op] : NULL;
}

bool plan_change_drifts(const struct plan_change *c)
{
	return c->refused || (c->action != PLAN_ADOPT && c->action != PLAN_RELEASE) ||
	       (c->action == PLAN_ADOPT && (c->attrs || c->rewrite || c->relink));
}

bool plan_has_changes(const struct plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (plan_change_drifts(&p->changes[i]))
			return true;
	return false;
}

void plan_done(struct plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->changes[i].reason);
	free(p->changes);
	for (size_t i = 0; i < p->n_steps; i++)
		if (p->steps[i].op == PLAN_OP_MKDIR)
			free((char *)p->steps[i].path);
	free(p->steps);
	for (size_t i = 0; i < p->n_retired; i++) {
		for (size_t k = 0; k < p->retired[i].n; k++)
			free(p->retired[i].paths[k]);
		free(p->retired[i].paths);
		free(p->retired[i].manifest);
	}
	free(p->retired);
	free(p->untargeted);
	*p = (struct plan){ 0 };
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

static int attr_differences(const struct desired_pin *w, const struct observed_entry *h,
			    char **r)
{
	int e = 0;

	if (w->attrs->mode >= 0 && (int)h->mode != w->attrs->mode)
		e = kind_reason(r, "mode %04o -> %04o", (unsigned)h->mode, (unsigned)w->attrs->mode);
	if (!e && w->uid >= 0 && (int64_t)h->uid != w->uid)
		e = kind_reason(r, "owner %u -> %lld", (unsigned)h->uid, (long long)w->uid);
	if (!e && w->gid >= 0 && (int64_t)h->gid != w->gid)
		e = kind_reason(r, "group %u -> %lld", (unsigned)h->gid, (long long)w->gid);
	return e;
}

/* blocked_parent()'s last answer, for the next path in the same
 * directory: sorted pins come many to a directory.  The answer depends on
 * the observed tree alone, so one memo serves every pass over it. */
struct parent_memo {
	const char *path; /* the last path asked about; NULL: none */
	size_t dir_len;   /* the length of its directory's path */
	const struct observed_entry *blocked;
};

/* Something other than a directory where a parent of path must be one. */
static const struct observed_entry *blocked_parent(const struct observed *obs, const char *path,
						   struct parent_memo *memo)
{
	const char *last = strrchr(path, '/');
	size_t dir_len = last ? (size_t)(last - path) : 0;
	const struct observed_entry *found = NULL;
	char buf[4096];
	size_t len = strlen(path);

	if (memo->path && memo->dir_len == dir_len && strncmp(memo->path, path, dir_len) == 0)
		return memo->blocked;
	if (len >= sizeof(buf))
		return NULL;
	memcpy(buf, path, len + 1);
	for (char *slash = strchr(buf, '/'); slash && !found; slash = strchr(slash + 1, '/')) {
		const struct observed_entry *e;

		*slash = '\0';
		e = observed_find(obs, buf);
		*slash = '/';
		if (e && e->kind != OBSERVED_DIR)
			found = e;
	}
	*memo = (struct parent_memo){ .path = path, .dir_len = dir_len, .blocked = found };
	return found;
}

/* "0x0100000a": a key in words, its bytes as they are in memory. */
static void hex_text(const unsigned char *b, size_t n, char *buf, size_t len)
{
	size_t at = (size_t)snprintf(buf, len, "0x");

	for (size_t i = 0; i < n && at + 3 <= len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%02x", b[i]);
}

/* How the entries of a kept map differ from its declared ones, as the
 * contents stage read them: listed entries under seed enforce, program
 * array slots always (a slot holding another program is a program
 * replaced), and with exact the entries no one listed. */
static int contents_drift(const struct desired_pin *w, char **r)
{
	const struct desired_contents *c = w->contents;
	size_t shown = 0, more = 0;
	int e = 0;

	if (!c || !c->observed)
		return 0;
	for (size_t i = 0; i < c->n && !e; i++) {
		const struct desired_entry *en = &c->entries[i];
		char key[64];

		if (!desired_entry_rewritten(c, en))
			continue;
		if (shown++ >= 3) {
			more++;
			continue;
		}
		hex_text(en->key, c->key_size, key, sizeof(key));
		e = kind_reason(r, "entry %s %s", key,
				en->absent	    ? "missing"
				: en->tag_unknown ? "may hold another program (tag unknown offline)"
				: en->is_prog	    ? "holds another program"
					      : "differs");
	}
	for (size_t i = 0; c->exact && c->seed == MANIFEST_SEED_ENFORCE && i < c->n_extra && !e;
	     i++) {
		char key[64];

		if (shown++ >= 3) {
			more++;
			continue;
		}
		hex_text(c->extra + i * c->key_size, c->key_size, key, sizeof(key));
		e = kind_reason(r, "entry %s not listed (exact)", key);
	}
	if (!e && more)
		e = kind_reason(r, "%zu more entries differ", more);
	return e;
}

/* A kept pin the ledger does not record as the tool's is adopted: its
 * change says so before whatever else it does. */
static int adopt(struct plan_change *c)
{
	char *why = c->reason;
	int e = asprintf(&c->reason, "found in place, not made by bpf-provision%s%s",
			 why ? "; " : "", why ? why : "") < 0
			? -ENOMEM
			: 0;

	if (e < 0)
		c->reason = why;
	else
		free(why);
	c->action = PLAN_ADOPT;
	return e;
}

/* Lookups of paths asked in order, as the declared pins are planned: a
 * finger into an array sorted by path looks a few entries ahead before it
 * searches, so a pass over the pins costs about one comparison a pin
 * instead of a binary search (half of a 100k-pin plan's time). */
struct finger {
	const char *base; /* the array */
	size_t n, size;   /* its entries, and their size */
	size_t off;       /* where an entry's path (a char *) is */
	size_t at;        /* every entry before this one is below the path asked last */
};

#define FINGER(array, count, type)                                                  \
	((struct finger){ .base = (const char *)(array), .n = (count), .size = sizeof(type), \
			  .off = offsetof(type, path) })

static const char *finger_path(const struct finger *f, size_t i)
{
	return *(const char *const *)(f->base + i * f->size + f->off);
}

/* The entry at path, or NULL. */
static const void *finger_find(struct finger *f, const char *path)
{
	size_t lo, hi;

	/* Asked out of order (the next pass over the pins): from the start. */
	if (f->at > 0 && strcmp(finger_path(f, f->at - 1), path) >= 0)
		f->at = 0;
	for (size_t k = 0; k < 4 && f->at < f->n; k++, f->at++) {
		int c = strcmp(finger_path(f, f->at), path);

		if (c >= 0)
			return c == 0 ? f->base + f->at * f->size : NULL;
	}
	lo = f->at;
	hi = f->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(finger_path(f, mid), path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	f->at = lo;
	return lo < f->n && strcmp(finger_path(f, lo), path) == 0 ? f->base + lo * f->size : NULL;
}

/* The change for one declared pin, recorded in the ledger as rec (NULL:
 * not recorded).  reload: why it must be made again though it matches;
 * in_place: a link is then pointed at the new program instead. */
static int plan_pin(struct plan *p, const struct ledger_entry *rec, const struct desired_pin *w,
		    const struct observed_entry *h, const struct observed_entry *parent,
		    const char *reload, bool in_place)
{
	struct plan_change c = {
		.kind = (enum observed_kind)w->kind,
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
		e = kind_reason(&c.reason, "a %s is in the way at '%s'; remove it by hand",
			   observed_kind_str(parent->kind), parent->path);
	} else if (!h) {
		c.action = PLAN_CREATE;
		e = kind_reason(&c.reason, "missing");
	} else if (h->kind == OBSERVED_DIR || h->kind == OBSERVED_SYMLINK ||
		   h->kind == OBSERVED_UNKNOWN) {
		/* Never removed: a directory may hold others' pins, a symlink may
		 * be anyone's, an unreadable pin cannot be judged. */
		c.action = PLAN_REPLACE;
		c.refused = true;
		e = h->kind == OBSERVED_UNKNOWN
			    ? kind_reason(&c.reason, "a pin that cannot be opened (%s) is in the way",
				     strerror(-h->error))
			    : kind_reason(&c.reason, "a %s is in the way; remove it by hand",
				     observed_kind_str(h->kind));
	} else if (h->kind != c.kind) {
		c.action = PLAN_REPLACE;
		c.policy = policy;
		c.refused = policy != ON_INCOMPATIBLE_REPLACE;
		e = kind_reason(&c.reason, "a %s is pinned where a %s is declared",
			   observed_kind_str(h->kind), observed_kind_str(c.kind));
	} else {
		e = kind_ops(w->kind)->differences(w, h, &c.reason);
		if (!e && c.reason) {
			c.action = PLAN_REPLACE;
			if (w->kind == KIND_MAP) {
				c.policy = policy;
				c.refused = policy == ON_INCOMPATIBLE_FAIL;
			}
		} else if (!e && reload && !in_place) {
			c.action = PLAN_REPLACE;
			e = kind_reason(&c.reason, "%s", reload);
		} else if (!e) {
			c.relink = reload != NULL;
			e = reload ? kind_reason(&c.reason, "%s, in place", reload) : 0;
			if (!e) {
				char *before = c.reason;

				e = attr_differences(w, h, &c.reason);
				c.attrs = c.reason != before;
			}
			if (!e) {
				char *before = c.reason;

				e = contents_drift(w, &c.reason);
				c.rewrite = c.reason != before;
			}
			c.action = c.reason ? PLAN_UPDATE : PLAN_UNCHANGED;
			if (!e && !ledger_claims(rec, h->ino, h->id))
				e = adopt(&c);
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

		if (w->kind != KIND_MAP || !w->objfile)
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

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

bool plan_path_in(const char *path, const char *dir)
{
	return strcmp(path, dir) == 0 || under(path, dir);
}

/* Whether path is a target or lies below one; every path without targets. */
static bool targeted(const struct plan_input *in, const char *path)
{
	for (size_t i = 0; i < in->n_targets; i++)
		if (plan_path_in(path, in->targets[i]))
			return true;
	return in->n_targets == 0;
}

/* Whether the directory dir is on the way to a target or below one. */
static bool dir_targeted(const struct plan_input *in, const char *dir)
{
	for (size_t i = 0; i < in->n_targets; i++)
		if (under(in->targets[i], dir))
			return true;
	return targeted(in, dir);
}

/* Marks the pinned maps the program of w (a program or a link) is wired to:
 * those its instructions refer to, or for a libbpf object all of them, as
 * remade_map() counts them. */
static void mark_maps(const struct desired_pin *const *pins, const struct desired *des,
		      const struct desired_pin *w, bool *sel)
{
	const struct objfile *of = w->objfile;

	if (!pins || !of)
		return;
	for (size_t m = 0; of->libbpf && m < of->n_maps; m++)
		if (pins[m])
			sel[pins[m] - des->pins] = true;
	for (size_t k = 0; !of->libbpf && k < of->progs[w->index].n_relocs; k++) {
		const struct desired_pin *mp = pins[of->progs[w->index].relocs[k].map];

		if (mp)
			sel[mp - des->pins] = true;
	}
}

/* Per declared pin, whether it is planned under the targets: targeted, or
 * a link's program, or a map such a program (or a link's) is wired to. */
static bool *select_pins(const struct plan_input *in, const struct desired_pin ***pins)
{
	const struct desired *des = in->desired;
	bool *sel = calloc(des->n_pins + 1, sizeof(*sel));

	for (size_t i = 0; sel && i < des->n_pins; i++)
		sel[i] = targeted(in, des->pins[i].path);
	for (size_t i = 0; sel && i < des->n_pins; i++)
		if (sel[i] && des->pins[i].link && des->pins[i].link->prog)
			sel[des->pins[i].link->prog - des->pins] = true;
	for (size_t i = 0; sel && i < des->n_pins; i++) {
		const struct desired_pin *w = &des->pins[i];

		if (sel[i] && (w->kind == KIND_PROGRAM || w->kind == KIND_LINK))
			mark_maps(pins ? pins[w->objfile_index] : NULL, des, w, sel);
	}
	return sel;
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

static bool has_tag(const uint8_t tag[8])
{
	for (int i = 0; i < 8; i++)
		if (tag[i])
			return true;
	return false;
}

/* Why the link must run its program anew, in a new string in *ret (NULL:
 * it runs the declared one): the program's pin is made anew by this plan,
 * a map of an unpinned program is, or it runs a program of another tag. */
static int link_reload(const bool *anew, const struct desired *des, const struct remade *remade,
		       size_t n_remade, const struct desired_pin *w, const struct observed_entry *h,
		       char **ret)
{
	const char *map = w->link->prog ? NULL : remade_map(remade, n_remade, w);
	char was[17], now[17];

	*ret = NULL;
	if (w->link->prog && anew[w->link->prog - des->pins])
		return asprintf(ret, "its program '%s' is loaded anew", w->link->prog->path) < 0
			       ? -ENOMEM
			       : 0;
	if (map)
		return asprintf(ret, "its program's map '%s' is made anew", map) < 0 ? -ENOMEM : 0;
	if (h && h->kind == OBSERVED_LINK && w->spec.tag_unknown)
		return asprintf(ret, "its program is not recorded as built from this object (tag "
				     "unknown offline)") < 0
			       ? -ENOMEM
			       : 0;
	if (!h || h->kind != OBSERVED_LINK || !w->spec.has_tag || !has_tag(h->tag) ||
	    memcmp(h->tag, w->spec.tag, sizeof(h->tag)) == 0)
		return 0;
	escape_hex(h->tag, sizeof(h->tag), was);
	escape_hex(w->spec.tag, sizeof(w->spec.tag), now);
	return asprintf(ret, "program tag %s -> %s", was, now) < 0 ? -ENOMEM : 0;
}

static bool *made_anew(const struct plan *p, const struct desired *des)
{
	bool *anew = calloc(des->n_pins + 1, sizeof(*anew));

	for (size_t i = 0; anew && i < p->n; i++)
		if (p->changes[i].want && !p->changes[i].refused &&
		    (p->changes[i].action == PLAN_CREATE || p->changes[i].action == PLAN_REPLACE))
			anew[p->changes[i].want - des->pins] = true;
	return anew;
}

/* The links, once their programs are planned: a link whose program is
 * loaded anew is pointed at it in place where its type allows, else made
 * again.  A link whose target is absent and optional is left as it is. */
static int plan_links(struct plan *p, const struct plan_input *in,
		      const struct desired_pin *const *sorted, size_t n_want,
		      const struct remade *remade, size_t n_remade, const bool *sel)
{
	const struct desired *des = in->desired;
	/* Per declared pin: made anew by the changes so far (maps, programs);
	 * known once a link needs it. */
	_cleanup_free_ bool *anew = NULL;
	struct parent_memo memo = { 0 };
	int e = 0;

	for (size_t i = 0; i < n_want && !e; i++) {
		const struct desired_pin *w = sorted[i];
		const struct observed_entry *h;
		_cleanup_free_ char *reload = NULL;
		bool in_place;

		if (w->kind != KIND_LINK || !w->link)
			continue;
		h = observed_find(in->observed, w->path);
		if (w->link->skipped) {
			p->counts[PLAN_UNCHANGED]++;
			continue;
		}
		if (!anew && !(anew = made_anew(p, des)))
			return -ENOMEM;
		/* Outside the targets, a link is planned only when its program
		 * is made anew (h NULL: its tag is not judged). */
		e = link_reload(anew, des, remade, n_remade, w, sel[w - des->pins] ? h : NULL,
				&reload);
		if (!e && !sel[w - des->pins] && !reload)
			continue;
		in_place = h && h->kind == OBSERVED_LINK && kind_link_updatable(h->type);
		if (!e && reload && h && h->kind == OBSERVED_LINK && !in_place) {
			char *more;

			e = asprintf(&more, "%s (a %s link cannot be updated in place)", reload,
				     kind_type_str(KIND_LINK, h->type)) < 0
				    ? -ENOMEM
				    : 0;
			if (!e) {
				free(reload);
				reload = more;
			}
		}
		if (!e)
			e = plan_pin(p, ledger_find(in->ledger, w->path), w, h,
				     blocked_parent(in->observed, w->path, &memo), reload, in_place);
	}
	return e;
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

static int cmp_desired(const void *a, const void *b)
{
	return strcmp((*(const struct desired_pin *const *)a)->path,
		      (*(const struct desired_pin *const *)b)->path);
}

/* The delete, if any, for an observed pin that nothing declares. */
static int plan_undeclared(struct plan *p, const struct plan_input *in,
			   const struct observed_entry *h)
{
	const struct ledger_entry *l;
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
	l = ledger_find(in->ledger, h->path);
	temp = ledger_temp_of(in->ledger, h->path);
	if (temp == LEDGER_TEMP_PIN || temp == LEDGER_TEMP_IN_TRASH) {
		/* Ours by name: made by a run that was killed before its rename. */
		e = kind_reason(&c.reason, "temporary pin left by an interrupted run");
		if (e < 0)
			return e;
		c.manifest = "";
		return add_change(p, c);
	}
	if (ledger_claims(l, h->ino, h->id)) {
		/* Ours: deleted only by the manifest that made it; another
		 * manifest's live record outranks an owned directory.  One it
		 * adopted is not ours to unpin, unless an owned directory says so. */
		m = manifest_set_find(in->set, l->manifest);
		if (!m || (!l->adopted && !m->prune && !in->destroy))
			return 0;
		if (l->adopted && owner_dir(in->set, h->path, &dir)) {
			e = kind_reason(&c.reason, "adopted, no longer declared, in owned directory '%s'",
					dir);
		} else if (l->adopted) {
			c.action = PLAN_RELEASE;
			e = kind_reason(&c.reason, "adopted and no longer declared: left in place");
		} else {
			e = m->retired	     ? kind_reason(&c.reason, "its manifest '%s' is retired", m->name)
			    : in->destroy ? kind_reason(&c.reason, "destroyed with its manifest")
					  : kind_reason(&c.reason, "no longer declared");
		}
	} else {
		m = owner_dir(in->set, h->path, &dir);
		if (!m)
			return 0;
		e = kind_reason(&c.reason, "undeclared in owned directory '%s'", dir);
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

/* Modes of what apply makes where the manifest gives none. */
#define DEFAULT_PIN_MODE 0600
/* The mode bpffs gives a new pin, less the umask (apply clears it). */
#define BPFFS_PIN_MODE 0600
#define DEFAULT_DIR_MODE 0700

/* An owner or group of the manifest as a step takes it. */
static uint32_t step_id(int64_t id)
{
	return id >= 0 ? (uint32_t)id : PLAN_KEEP_ID;
}

/* A sorted set of paths, borrowed. */
struct path_set {
	const char **items;
	size_t n;
};

static int cmp_str(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

static bool path_set_has(const struct path_set *ps, const char *path)
{
	return ps->n && bsearch(path, ps->items, ps->n, sizeof(*ps->items), cmp_str);
}

static int path_set_add(struct path_set *ps, const char *path)
{
	size_t lo = 0, hi = ps->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(ps->items[mid], path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (array_reserve(&ps->items, ps->n, sizeof(*ps->items)) < 0)
		return -ENOMEM;
	memmove(ps->items + lo + 1, ps->items + lo, (ps->n - lo) * sizeof(*ps->items));
	ps->items[lo] = path;
	ps->n++;
	return 0;
}

/* What turning changes into steps needs to know. */
struct stepper {
	const struct plan_input *in;
	struct plan *p;
	const struct desired_pin **sorted; /* the declared pins, by path */
	size_t n_want;
	size_t *pin_change;     /* per declared pin: its change, or PLAN_NO_CHANGE */
	struct path_set made;   /* directories the steps make */
	struct path_set gone;   /* directories the steps remove */
	struct path_set deleted; /* pins the steps unpin for good */
	uint32_t seq;           /* numbers temporary names and trash slots */
	bool trash;             /* MKTRASH is taken */
};

static int add_step(struct stepper *st, struct plan_step s)
{
	struct plan *p = st->p;

	if (array_reserve(&p->steps, p->n_steps, sizeof(*p->steps)) < 0) {
		if (s.op == PLAN_OP_MKDIR)
			free((char *)s.path);
		return -ENOMEM;
	}
	p->steps[p->n_steps++] = s;
	return 0;
}

static bool makes_anew(const struct plan_change *c)
{
	return c && (c->action == PLAN_CREATE || c->action == PLAN_REPLACE);
}

static const struct plan_change *change_of(const struct stepper *st, const struct desired_pin *w)
{
	size_t ci = st->pin_change[w - st->in->desired->pins];

	return ci == PLAN_NO_CHANGE ? NULL : &st->p->changes[ci];
}

/* The parents of w's path that neither exist nor are made yet. */
static int make_parents(struct stepper *st, const struct desired_pin *w, size_t ci)
{
	_cleanup_free_ char *path = strdup(w->path);
	int mode = w->attrs->dir_mode >= 0 ? w->attrs->dir_mode : DEFAULT_DIR_MODE;

	if (!path)
		return -ENOMEM;
	for (char *slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/')) {
		const struct observed_entry *e;
		char *dir;
		int r;

		*slash = '\0';
		e = observed_find(st->in->observed, path);
		if ((!e || e->kind != OBSERVED_DIR) && !path_set_has(&st->made, path)) {
			dir = strdup(path);
			r = dir ? add_step(st, (struct plan_step){ .op = PLAN_OP_MKDIR,
								  .path = dir,
								  .change = (uint32_t)ci,
								  .mode = mode,
								  .want = w })
				: -ENOMEM;
			if (r == 0)
				r = path_set_add(&st->made, dir);
			if (r < 0)
				return r;
		}
		*slash = '/';
	}
	return 0;
}

/* Moves the pin at path (or at temporary name temp) into the trash, made
 * by the first step that needs it. */
static int trash(struct stepper *st, const char *path, size_t ci, bool at_temp, uint32_t temp,
		 ino_t ino)
{
	int r = 0;

	if (!st->trash)
		r = add_step(st, (struct plan_step){ .op = PLAN_OP_MKTRASH, .change = ci });
	st->trash = true;
	return r ?: add_step(st, (struct plan_step){ .op = PLAN_OP_TRASH,
						      .path = path,
						      .change = (uint32_t)ci,
						      .at_temp = at_temp,
						      .temp = temp,
						      .slot = st->seq++,
						      .ino = ino });
}

/* The steps that make the pin w anew: its parents, the migration of the
 * old map's entries, and the pin.  A new pin with the mode bpffs gives
 * and no owner is pinned at its path: the pin call is atomic and fails if
 * anything got there first.  Otherwise it is pinned under a temporary
 * name, given mode and owner, and renamed (or exchanged, the old pin then
 * moved aside) into place, so that it is never seen half-made. */
static int make_pin(struct stepper *st, const struct desired_pin *w, size_t ci)
{
	const struct plan_change *c = &st->p->changes[ci];
	bool replace = c->action == PLAN_REPLACE;
	int mode = w->attrs->mode >= 0 ? w->attrs->mode : DEFAULT_PIN_MODE;
	bool direct = !replace && mode == BPFFS_PIN_MODE && w->uid < 0 && w->gid < 0;
	uint32_t temp = direct ? 0 : st->seq++;
	int r = make_parents(st, w, ci);

	if (r == 0 && w->kind == KIND_MAP && replace && c->policy == ON_INCOMPATIBLE_MIGRATE &&
	    c->have->kind == OBSERVED_MAP)
		r = add_step(st, (struct plan_step){ .op = PLAN_OP_MIGRATE,
						      .path = w->path,
						      .change = (uint32_t)ci,
						      .want = w,
						      .ino = c->have->ino,
						      .id = c->have->id });
	/* A map is complete before it is in place. */
	if (r == 0 && w->contents)
		r = add_step(st, (struct plan_step){ .op = PLAN_OP_WRITE,
						      .path = w->path,
						      .change = (uint32_t)ci,
						      .want = w,
						      .fresh = true });
	if (r == 0)
		r = add_step(st, (struct plan_step){
					 .op = PLAN_OP_PIN,
					 .path = w->path,
					 .change = (uint32_t)ci,
					 .want = w,
					 .direct = direct,
					 .temp = temp,
					 .mode = mode,
					 .uid = step_id(w->uid),
					 .gid = step_id(w->gid) });
	if (r == 0 && !direct)
		r = add_step(st, (struct plan_step){ .op = replace ? PLAN_OP_EXCHANGE : PLAN_OP_RENAME,
						      .path = w->path,
						      .change = (uint32_t)ci,
						      .temp = temp,
						      .ino = replace ? c->have->ino : 0 });
	if (r == 0 && replace)
		r = trash(st, w->path, ci, true, temp, c->have->ino);
	return r;
}

/* Whether writing w's entries needs programs from its object's load: a
 * new program array with program entries, or a kept one with a slot to
 * write again. */
static bool writes_programs(const struct desired_pin *w, const struct plan_change *c)
{
	const struct desired_contents *ct = w->contents;

	for (size_t i = 0; ct && c && i < ct->n; i++)
		if (ct->entries[i].is_prog &&
		    (makes_anew(c) || (c->rewrite && desired_entry_rewritten(ct, &ct->entries[i]))))
			return true;
	return false;
}

static int rewrite_step(struct stepper *st, const struct desired_pin *w, size_t ci)
{
	const struct plan_change *c = &st->p->changes[ci];

	return add_step(st, (struct plan_step){ .op = PLAN_OP_WRITE,
						 .path = w->path,
						 .change = (uint32_t)ci,
						 .want = w,
						 .ino = c->have->ino,
						 .id = c->have->id });
}

/* Whether a link's change needs its program in hand, and whether that is
 * the one its object's load makes: so when the program is made anew or not
 * pinned at all. */
static bool link_acts(const struct plan_change *c)
{
	return makes_anew(c) || (c && c->relink);
}

static bool link_loaded(const struct stepper *st, const struct desired_pin *w)
{
	return !w->link->prog || makes_anew(change_of(st, w->link->prog));
}

/* The steps of a link: made and pinned like any pin, or pointed at its
 * new program in place. */
static int link_steps(struct stepper *st, const struct desired_pin *w, size_t ci)
{
	const struct plan_change *c = &st->p->changes[ci];

	if (c->relink)
		return add_step(st, (struct plan_step){ .op = PLAN_OP_RELINK,
							 .path = w->path,
							 .change = (uint32_t)ci,
							 .want = w,
							 .loaded = link_loaded(st, w),
							 .ino = c->have->ino,
							 .id = c->have->id });
	/* Its directories first: a link is attached only once it can be pinned. */
	return make_parents(st, w, ci) ?:
	       add_step(st, (struct plan_step){ .op = PLAN_OP_ATTACH,
						 .path = w->path,
						 .change = (uint32_t)ci,
						 .want = w,
						 .loaded = link_loaded(st, w) }) ?:
	       make_pin(st, w, ci);
}

/* Objects in manifest order, each loaded once for all the pins the plan
 * makes of it: its maps placed first, then the programs that use them,
 * then the links that run them. */
static int object_steps(struct stepper *st)
{
	const struct desired *des = st->in->desired;
	_cleanup_free_ size_t *first = NULL, *next = NULL;
	int r = desired_pins_by_object(des, &first, &next);

	for (size_t k = 0; k < des->n_objfiles && r == 0; k++) {
		bool any = false, load = false;

		for (size_t i = first[k]; i != SIZE_MAX; i = next[i]) {
			const struct desired_pin *w = &des->pins[i];
			const struct plan_change *c = change_of(st, w);

			if (w->kind != KIND_LINK) {
				any |= makes_anew(c) || (c && c->rewrite);
				load |= makes_anew(c) || writes_programs(w, c);
			} else if (link_acts(c)) {
				any = true;
				load |= link_loaded(st, w);
			}
		}
		if (!any)
			continue;
		if (load)
			r = add_step(st, (struct plan_step){ .op = PLAN_OP_LOAD,
							      .change = PLAN_NO_CHANGE,
							      .want = &des->pins[first[k]] });
		for (int kind = 0; kind < KIND_MAX && r == 0; kind++)
			for (size_t i = first[k]; i != SIZE_MAX && r == 0; i = next[i]) {
				const struct desired_pin *w = &des->pins[i];
				const struct plan_change *c = change_of(st, w);

				if ((int)w->kind != kind)
					continue;
				if (kind == KIND_LINK && link_acts(c))
					r = link_steps(st, w, st->pin_change[i]);
				else if (kind != KIND_LINK && makes_anew(c))
					r = make_pin(st, w, st->pin_change[i]);
				else if (kind == KIND_MAP && c && c->rewrite)
					r = rewrite_step(st, w, st->pin_change[i]);
			}
	}
	return r;
}

/* Maps of no object, after the objects: each made with its own create. */
static int standalone_steps(struct stepper *st)
{
	const struct desired *des = st->in->desired;
	int r = 0;

	for (size_t i = 0; i < des->n_pins && r == 0; i++) {
		const struct desired_pin *w = &des->pins[i];
		const struct plan_change *c = change_of(st, w);

		if (!w->standalone || !c)
			continue;
		if (makes_anew(c))
			r = add_step(st, (struct plan_step){ .op = PLAN_OP_MKMAP,
							      .change = (uint32_t)st->pin_change[i],
							      .want = w }) ?:
			    make_pin(st, w, st->pin_change[i]);
		else if (c->rewrite)
			r = rewrite_step(st, w, st->pin_change[i]);
	}
	return r;
}

static int cmp_desired_prefix(const void *key, const void *elem)
{
	const char *path = (*(const struct desired_pin *const *)elem)->path;
	size_t n = strlen(key);
	int c = strncmp(key, path, n);

	/* As if the key were "key/": the paths below it are one run. */
	return c ? c : '/' - (int)(unsigned char)path[n];
}

/* Whether the directory d holds nothing once the steps so far are taken:
 * what is in it is unpinned or removed, and nothing is declared below it. */
static bool empty_after(const struct stepper *st, const struct observed_entry *d)
{
	const struct observed *obs = st->in->observed;
	size_t len = strlen(d->path), lo = 0, hi = obs->n;

	if (d->error)
		return false;
	if (st->n_want && bsearch(d->path, st->sorted, st->n_want, sizeof(*st->sorted),
				  cmp_desired_prefix))
		return false;
	/* The entries below d follow the first path not less than "d/". */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *m = obs->entries[mid].path;
		int c = strncmp(m, d->path, len);

		if (c < 0 || (c == 0 && (unsigned char)m[len] < '/'))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < obs->n; i++) {
		const struct observed_entry *e = &obs->entries[i];

		if (strncmp(e->path, d->path, len) != 0 || e->path[len] != '/')
			break;
		if (e->kind == OBSERVED_DIR ? !path_set_has(&st->gone, e->path)
					    : !path_set_has(&st->deleted, e->path))
			return false;
	}
	return true;
}

static int rmdir_step(struct stepper *st, const struct observed_entry *d, bool leftover)
{
	int r = add_step(st, (struct plan_step){ .op = PLAN_OP_RMDIR,
						  .path = d->path,
						  .change = PLAN_NO_CHANGE,
						  .ino = d->ino,
						  .mode = (int)d->mode,
						  .leftover = leftover });

	return r ?: path_set_add(&st->gone, d->path);
}

/* Trash directories killed runs left, and the directories the tool made
 * for the manifests, deepest first, once the plan leaves them empty. */
static int dir_steps(struct stepper *st)
{
	const struct observed *obs = st->in->observed;
	const struct ledger *l = st->in->ledger;
	int r = 0;

	for (size_t i = 0; i < obs->n && r == 0; i++)
		if (obs->entries[i].kind == OBSERVED_DIR &&
		    ledger_temp_of(l, obs->entries[i].path) == LEDGER_TEMP_TRASH &&
		    empty_after(st, &obs->entries[i]))
			r = rmdir_step(st, &obs->entries[i], true);
	for (size_t i = l->n; i-- > 0 && r == 0;) {
		const struct ledger_entry *e = &l->entries[i];
		const struct observed_entry *d;

		if (!e->is_dir || !manifest_set_find(st->in->set, e->manifest) ||
		    !dir_targeted(st->in, e->path))
			continue;
		d = observed_find(obs, e->path);
		/* Ours only while it is the directory made. */
		if (!d || d->kind != OBSERVED_DIR || !ledger_claims_dir(l, e, d->ino))
			continue;
		if (empty_after(st, d))
			r = rmdir_step(st, d, false);
	}
	return r;
}

/* The plan's changes as the steps apply takes, in its order: the intent,
 * each object's new pins, attribute updates, unpins, the directories left
 * empty, the ledger, and the trash emptied. */
static int build_steps(const struct plan_input *in, const struct desired_pin **sorted,
		       size_t n_want, struct plan *p)
{
	const struct desired *des = in->desired;
	_cleanup_free_ size_t *pin_change = malloc((des->n_pins + 1) * sizeof(*pin_change));
	struct stepper st = { .in = in, .p = p, .sorted = sorted, .n_want = n_want };
	int r = 0;

	if (!pin_change)
		return -ENOMEM;
	if (p->n_refused)
		return 0; /* apply changes nothing */
	for (size_t i = 0; i < des->n_pins; i++)
		pin_change[i] = PLAN_NO_CHANGE;
	/* Deletes come last, children first: backwards, each path is added at
	 * the end of the sorted set. */
	for (size_t i = p->n; i-- > 0 && r == 0;) {
		if (p->changes[i].want)
			pin_change[p->changes[i].want - des->pins] = i;
		if (p->changes[i].action == PLAN_DELETE)
			r = path_set_add(&st.deleted, p->changes[i].path);
	}
	st.pin_change = pin_change;
	if (r == 0 && p->n)
		r = add_step(&st, (struct plan_step){ .op = PLAN_OP_INTENT, .change = PLAN_NO_CHANGE });
	if (r == 0)
		r = object_steps(&st);
	if (r == 0)
		r = standalone_steps(&st);
	for (size_t i = 0; i < p->n && r == 0; i++) {
		const struct plan_change *c = &p->changes[i];

		if ((c->action == PLAN_UPDATE || c->action == PLAN_ADOPT) && c->attrs)
			r = add_step(&st, (struct plan_step){ .op = PLAN_OP_ATTRS,
							       .path = c->path,
							       .change = (uint32_t)i,
							       .ino = c->have->ino,
							       .mode = c->want->attrs->mode,
							       .uid = step_id(c->want->uid),
							       .gid = step_id(c->want->gid) });
		else if (c->action == PLAN_DELETE)
			r = trash(&st, c->path, i, false, 0, c->have->ino);
	}
	if (r == 0)
		r = dir_steps(&st);
	if (r == 0)
		r = add_step(&st, (struct plan_step){ .op = PLAN_OP_LEDGER, .change = PLAN_NO_CHANGE });
	if (r == 0 && st.trash)
		r = add_step(&st, (struct plan_step){ .op = PLAN_OP_PURGE, .change = PLAN_NO_CHANGE });
	/* Final: the room array_reserve left for more goes back. */
	if (r == 0 && p->n_steps) {
		struct plan_step *fit = realloc(p->steps, p->n_steps * sizeof(*p->steps));

		p->steps = fit ? fit : p->steps;
	}
	free(st.made.items);
	free(st.gone.items);
	free(st.deleted.items);
	return r;
}

static int cmp_retired(const void *a, const void *b)
{
	return strcmp(((const struct plan_retired *)a)->manifest,
		      ((const struct plan_retired *)b)->manifest);
}

/* The manifests the ledger records and the set does not name, each with
 * its pins that are still the objects recorded.  A destroy names what it
 * removes; the others it leaves are no news. */
static int find_retired(const struct plan_input *in, struct plan *p)
{
	const struct ledger *l = in->ledger;

	if (in->destroy)
		return 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct ledger_entry *e = &l->entries[i];
		const struct observed_entry *h;
		struct plan_retired *r = NULL;

		/* One left out (--keep-going) is not retired: it is still there. */
		if (manifest_set_find(in->set, e->manifest) ||
		    manifest_set_left_out(in->set, e->manifest))
			continue;
		for (size_t k = 0; k < p->n_retired && !r; k++)
			if (strcmp(p->retired[k].manifest, e->manifest) == 0)
				r = &p->retired[k];
		if (!r) {
			if (array_reserve(&p->retired, p->n_retired, sizeof(*p->retired)) < 0)
				return -ENOMEM;
			p->retired[p->n_retired] = (struct plan_retired){ .manifest = strdup(e->manifest) };
			r = &p->retired[p->n_retired++];
			if (!r->manifest)
				return -ENOMEM;
		}
		h = e->is_dir ? NULL : observed_find(in->observed, e->path);
		if (!h || !observed_is_pin(h) || !ledger_claims(e, h->ino, h->id))
			continue;
		if (array_reserve(&r->paths, r->n, sizeof(*r->paths)) < 0 ||
		    !(r->paths[r->n] = strdup(e->path)))
			return -ENOMEM;
		r->n++;
	}
	if (p->n_retired)
		qsort(p->retired, p->n_retired, sizeof(*p->retired), cmp_retired);
	return 0;
}

int plan_build(const struct plan_input *in, struct plan *ret)
{
	const struct desired *des = in->desired;
	_cleanup_free_ const struct desired_pin **sorted = NULL;
	_cleanup_free_ struct remade *remade = NULL;
	size_t n_want = in->destroy ? 0 : des->n_pins, n_remade = 0;
	const struct desired_pin ***pins = NULL;
	_cleanup_free_ bool *sel = NULL;
	struct parent_memo memo = { 0 };
	struct finger seen = FINGER(in->observed->entries, in->observed->n, struct observed_entry);
	struct finger recs = FINGER(in->ledger->entries, in->ledger->n, struct ledger_entry);
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

	sel = select_pins(in, pins);
	if (!sel) {
		map_pins_free(pins, des->n_objfiles);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n_want && !e; i++)
		if (sorted[i]->kind == KIND_MAP && sel[sorted[i] - des->pins])
			e = plan_pin(&p, finger_find(&recs, sorted[i]->path), sorted[i],
				     finger_find(&seen, sorted[i]->path),
				     blocked_parent(in->observed, sorted[i]->path, &memo), NULL, false);
	/* So far the plan holds map changes only. */
	for (size_t i = 0; i < p.n && !e; i++)
		if (p.changes[i].action == PLAN_CREATE ||
		    (p.changes[i].action == PLAN_REPLACE && !p.changes[i].refused))
			remade[n_remade++] = (struct remade){ p.changes[i].want->objfile,
							      p.changes[i].want->index };
	for (size_t i = 0; i < n_want && !e; i++) {
		const struct desired_pin *w = sorted[i];
		const struct observed_entry *h;
		const char *map = NULL;
		_cleanup_free_ char *reload = NULL;

		if (w->kind != KIND_PROGRAM)
			continue;
		h = finger_find(&seen, w->path);
		map = remade_map(remade, n_remade, w);
		/* Outside the targets, only a program whose map is made anew. */
		if (!map && !sel[w - des->pins])
			continue;
		if (map)
			e = asprintf(&reload, "its map '%s' is made anew: reload to use it", map) < 0
				    ? -ENOMEM
				    : 0;
		else
			e = miswired(pins ? pins[w->objfile_index] : NULL, in->observed, w, h,
				     &reload);
		if (!e)
			e = plan_pin(&p, finger_find(&recs, w->path), w, h,
				     blocked_parent(in->observed, w->path, &memo), reload, false);
	}
	if (!e)
		e = plan_links(&p, in, sorted, n_want, remade, n_remade, sel);
	/* Both in path order: merged. */
	for (size_t i = 0, j = 0; i < in->observed->n && !e; i++) {
		const struct observed_entry *h = &in->observed->entries[i];

		while (j < n_want && strcmp(sorted[j]->path, h->path) < 0)
			j++;
		if (targeted(in, h->path) && (j == n_want || strcmp(sorted[j]->path, h->path) != 0))
			e = plan_undeclared(&p, in, h);
	}
	/* What the plan leaves alone: neither selected nor changed. */
	for (size_t i = 0; i < p.n && in->n_targets; i++)
		if (p.changes[i].want)
			sel[p.changes[i].want - des->pins] = true;
	for (size_t i = 0; i < des->n_pins && in->n_targets; i++)
		sel[i] = !sel[i];
	if (in->n_targets)
		p.untargeted = TAKE_PTR(sel);
	map_pins_free(pins, des->n_objfiles);
	if (e == 0 && p.n)
		qsort(p.changes, p.n, sizeof(*p.changes), cmp_changes);
	if (e == 0)
		e = build_steps(in, sorted, n_want, &p);
	if (e == 0)
		e = find_retired(in, &p);
	if (e < 0) {
		plan_done(&p);
		return e;
	}
	*ret = p;
	return 0;
}
