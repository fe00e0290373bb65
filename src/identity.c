// SPDX-License-Identifier: MIT
/* Identity: the tag each desired program will have, from one throwaway load
 * per object.  Kept out of the desired stage so that building the desired
 * state needs no kernel; live runs call this before planning. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "cleanup.h"
#include "identity.h"
#include "loader.h"

/* Programs of one object are loaded together, with throwaway maps for
 * what they use, as apply would load them; the tags are read back and
 * every fd closed.  One pass over the pins finds the programs of every
 * object, so that many objects cost no more than many pins. */
/* The tags of the programs a program array's entries name. */
static int slot_tags(struct desired_contents *c, const int *fds, struct diag *d,
		     const struct diag_loc *loc)
{
	for (size_t j = 0; c && j < c->n; j++) {
		struct desired_entry *e = &c->entries[j];
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);

		if (!e->is_prog)
			continue;
		if (bpf_obj_get_info_by_fd(fds[e->prog], &info, &len) < 0) {
			int r = -errno;

			diag_error(d, e->src ? &e->src->program_loc : loc,
				   "cannot read the tag of a program array's program: %s",
				   DIAG_STRERROR(-r));
			return r;
		}
		memcpy(e->tag, info.tag, sizeof(e->tag));
		e->has_tag = true;
	}
	return 0;
}

int identity_load_tags(struct desired *des, FILE *vlog, struct diag *d)
{
	_cleanup_free_ size_t *first = NULL, *next = NULL;
	int r = desired_pins_by_object(des, &first, &next);

	if (r < 0)
		return r;
	for (size_t k = 0; k < des->n_objfiles && r == 0; k++) {
		const struct objfile *of = des->objfiles[k];
		_cleanup_free_ bool *want = NULL;
		_cleanup_free_ int *fds = NULL, *map_fds = NULL;
		_cleanup_free_ const struct diag_loc **locs = NULL;
		bool any = false;

		if (!of || first[k] == SIZE_MAX)
			continue;
		want = calloc(of->n_progs + 1, sizeof(*want));
		fds = calloc(of->n_progs + 1, sizeof(*fds));
		map_fds = malloc((of->n_maps + 1) * sizeof(*map_fds));
		locs = calloc(of->n_progs + 1, sizeof(*locs));
		if (!want || !fds || !map_fds || !locs)
			return -ENOMEM;
		for (size_t i = 0; i < of->n_maps; i++)
			map_fds[i] = -1;
		/* A link's tag is its program's: what it should run; so is a
		 * program array slot's. */
		for (size_t i = first[k]; i != SIZE_MAX; i = next[i]) {
			const struct desired_contents *c = des->pins[i].contents;

			for (size_t j = 0; c && j < c->n; j++)
				if (c->entries[j].is_prog)
					want[c->entries[j].prog] = any = true;
			if (des->pins[i].kind == KIND_MAP)
				continue;
			want[des->pins[i].index] = any = true;
			if (!locs[des->pins[i].index])
				locs[des->pins[i].index] = &des->pins[i].loc;
		}
		if (!any)
			continue;
		r = loader_load(of,
				&(struct loader_job){ .want = want,
						      .map_fds = map_fds,
						      .prog_locs = locs,
						      .log = vlog },
				NULL, d, fds);
		for (size_t i = first[k]; i != SIZE_MAX && r == 0; i = next[i]) {
			struct desired_pin *p = &des->pins[i];
			struct bpf_prog_info info = { 0 };
			__u32 len = sizeof(info);

			if (p->kind == KIND_MAP) {
				r = slot_tags(p->contents, fds, d, &p->loc);
				continue;
			}
			if (bpf_obj_get_info_by_fd(fds[p->index], &info, &len) < 0) {
				r = -errno;
				diag_error(d, &p->loc, "program '%s': cannot read its tag: %s",
					   desired_pin_name(p), DIAG_STRERROR(-r));
				break;
			}
			memcpy(p->spec.tag, info.tag, sizeof(p->spec.tag));
			p->spec.has_tag = true;
		}
		for (size_t i = 0; i < of->n_progs; i++)
			if (fds[i] >= 0)
				close(fds[i]);
	}
	return r;
}

/* The recorded tag of program prog of of: at path's record, else any. */
static const uint8_t *recorded_tag(const struct ledger *l, const char *path,
				   const struct objfile *of, size_t prog)
{
	const char *name = of->progs[prog].name;
	const uint8_t *t = ledger_prog_tag(ledger_find(l, path), of->sha1, name);

	for (size_t i = 0; !t && i < l->n; i++)
		t = ledger_prog_tag(&l->entries[i], of->sha1, name);
	return t;
}

int identity_recorded_tags(struct desired *des, const struct ledger *l)
{
	for (size_t i = 0; i < des->n_pins; i++) {
		struct desired_pin *p = &des->pins[i];
		struct desired_contents *c = p->contents;
		const uint8_t *t;

		if (!p->objfile)
			continue;
		for (size_t j = 0; c && j < c->n; j++) {
			struct desired_entry *e = &c->entries[j];

			if (!e->is_prog)
				continue;
			t = recorded_tag(l, p->path, p->objfile, e->prog);
			e->has_tag = t != NULL;
			e->tag_unknown = !t;
			if (t)
				memcpy(e->tag, t, sizeof(e->tag));
		}
		if (p->kind == KIND_MAP)
			continue;
		t = recorded_tag(l, p->path, p->objfile, p->index);
		p->spec.has_tag = t != NULL;
		p->spec.tag_unknown = !t;
		if (t)
			memcpy(p->spec.tag, t, sizeof(p->spec.tag));
	}
	return 0;
}
