// SPDX-License-Identifier: MIT
/* Desired stage: manifests plus what each ELF object declares, resolved to
 * the pins that should exist (bpf-provision.yaml(5), PINNING MODES and PATHS).  Manifest entries override the
 * ELF's own pinning; every selector must match something in its object.  No
 * kernel call, so that the stage runs without privilege: program tags are
 * identity.c's. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "array.h"
#include "cleanup.h"
#include "compat.h"
#include "contents.h"
#include "desired.h"
#include "kind.h"

struct builder {
	size_t k; /* index of the object in desired.objfiles */
	const struct manifest *m;
	const struct manifest_object *o;
	const struct objfile *of;
	struct desired *des;
	struct diag *d;
};

/* What a pin is made from, before its path is known. */
struct source {
	enum kind kind;
	const char *name;
	enum pin_mode elf_pinning;
	const char *elf_namespace;
	uint32_t pin_id; /* iproute2 custom id, 0 if none */
	size_t index;
};

static int add_pin(struct builder *b, char *path, enum kind kind,
		   const struct manifest_entry *e, size_t index)
{
	struct desired *des = b->des;
	struct desired_pin *pins;

	if (array_reserve(&des->pins, des->n_pins, sizeof(*des->pins)) < 0) {
		free(path);
		return -ENOMEM;
	}
	pins = &des->pins[des->n_pins++];
	*pins = (struct desired_pin){
		.path = path,
		.kind = kind,
		.manifest = b->m,
		.object = b->o,
		.entry = e,
		.attrs = e ? &e->attrs : &b->m->defaults,
		.objfile = b->of,
		.objfile_index = b->k,
		.index = index,
		.loc = e ? e->loc : b->o->loc,
		.uid = -1,
		.gid = -1,
	};
	if (b->of && kind == KIND_MAP) {
		const struct objfile_map *m = &b->of->maps[index];

		pins->spec = (struct desired_spec){ .type = m->type,
						    .key_size = m->key_size,
						    .value_size = m->value_size,
						    .max_entries = m->max_entries,
						    .map_flags = m->flags };
	} else if (b->of) {
		pins->spec.type = b->of->progs[index].type;
	}
	return 0;
}

/* The pin of one map or program, per the entry that selects it (or none). */
static int resolve(struct builder *b, const struct manifest_entry *e, const struct source *s)
{
	const struct diag_loc *loc = e ? &e->loc : &b->o->loc;
	const struct manifest_elf_pin elf = { .kind = kind_ops(s->kind)->name,
					      .name = s->name,
					      .pinning = s->elf_pinning,
					      .namespace = s->elf_namespace,
					      .pin_id = s->pin_id,
					      .sha1 = b->of->sha1 };
	const char *why;
	char *path = NULL;
	int r;

	r = manifest_resolve_pin(b->m, b->o, e, &elf, b->d, &path);
	if (r < 0 || !path)
		return r;
	if (manifest_check_path(path, &why) < 0) {
		r = diag_error(b->d, loc, "%s '%s' would be pinned at '%s', not a valid pin path: %s",
			       kind_ops(s->kind)->name, s->name, path, why);
		free(path);
		return r;
	}
	return add_pin(b, path, s->kind, e, s->index);
}

static bool entry_selects_map(const struct manifest_entry *e, const struct objfile *of,
			      const struct objfile_map *map)
{
	if (!e->value)
		return false;
	if (e->selector == MANIFEST_SELECT_MAP)
		return strcmp(e->value, map->name) == 0;
	return e->selector == MANIFEST_SELECT_SECTION && of->layout == OBJFILE_LAYOUT_GOBPF &&
	       strcmp(e->value, map->section) == 0;
}

static bool entry_selects_prog(const struct manifest_entry *e, const struct objfile_prog *prog)
{
	if (!e->value)
		return false;
	if (e->selector == MANIFEST_SELECT_PROGRAM)
		return strcmp(e->value, prog->name) == 0;
	return e->selector == MANIFEST_SELECT_SECTION && strcmp(e->value, prog->section) == 0;
}

/* "a, b, c": what the object has that this selector could have named. */
static char *list_candidates(const struct objfile *of, enum manifest_selector sel)
{
	char *buf = NULL;
	size_t len = 0, n = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (sel == MANIFEST_SELECT_MAP || (sel == MANIFEST_SELECT_SECTION &&
					   of->layout == OBJFILE_LAYOUT_GOBPF))
		for (size_t i = 0; i < of->n_maps; i++)
			fprintf(f, "%s%s", n++ ? ", " : "",
				sel == MANIFEST_SELECT_MAP ? of->maps[i].name : of->maps[i].section);
	if (sel != MANIFEST_SELECT_MAP)
		for (size_t i = 0; i < of->n_progs; i++)
			fprintf(f, "%s%s", n++ ? ", " : "",
				sel == MANIFEST_SELECT_PROGRAM ? of->progs[i].name
							       : of->progs[i].section);
	if (n == 0)
		fprintf(f, "nothing");
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* The type a pinned program loads as: the entry's `type:`/`attach_type:`
 * over what its section says; a section that says nothing needs `type:`. */
static int program_type(struct builder *b, const struct manifest_entry *e, size_t i)
{
	struct objfile *of = b->des->objfiles[b->k];
	const struct objfile_prog *p = &of->progs[i];

	if (e->prog_type >= 0 || e->attach_type >= 0)
		objfile_set_prog_type(of, i,
				      e->prog_type >= 0 ? (enum bpf_prog_type)e->prog_type : p->type,
				      e->attach_type);
	if (p->type == BPF_PROG_TYPE_UNSPEC)
		return diag_error(b->d, &e->loc,
				  "program '%s' of object '%s': section '%s' names no program type; "
				  "give it with 'type:' (bpftool's names: sched_cls, xdp, "
				  "socket_filter, ...)",
				  p->name, b->o->name, p->section);
	return 0;
}

/* `type:` and `attach_type:` say how to load a program; on a map they are
 * a mistake. */
static int check_map_entry(struct builder *b, const struct manifest_entry *e, const char *name)
{
	if (e->prog_type >= 0)
		return diag_error(b->d, &e->prog_type_loc,
				  "'type' applies to programs; '%s' of object '%s' is a map", name,
				  b->o->name);
	if (e->attach_type >= 0)
		return diag_error(b->d, &e->attach_type_loc,
				  "'attach_type' applies to programs; '%s' of object '%s' is a map",
				  name, b->o->name);
	return 0;
}

/* The link types the kernel makes for each way of linking. */
static const uint32_t link_types[DESIRED_LINK_HOW_MAX] = {
	[DESIRED_LINK_IFINDEX] = BPF_LINK_TYPE_XDP, /* tcx: by attach type */
	[DESIRED_LINK_CGROUP] = BPF_LINK_TYPE_CGROUP,
	[DESIRED_LINK_TRACEPOINT] = BPF_LINK_TYPE_PERF_EVENT,
	[DESIRED_LINK_RAW_TP] = BPF_LINK_TYPE_RAW_TRACEPOINT,
	[DESIRED_LINK_TRACING] = BPF_LINK_TYPE_TRACING,
	[DESIRED_LINK_KPROBE] = BPF_LINK_TYPE_PERF_EVENT,
};

/* Section prefixes whose target libbpf's auto-attach reads from the rest
 * of the name, as bpf_program__attach does. */
static const struct {
	const char *prefix;
	enum desired_link_how how;
} auto_sections[] = {
	{ "tracepoint/", DESIRED_LINK_TRACEPOINT },  { "tp/", DESIRED_LINK_TRACEPOINT },
	{ "raw_tracepoint/", DESIRED_LINK_RAW_TP },  { "raw_tp/", DESIRED_LINK_RAW_TP },
	{ "raw_tracepoint.w/", DESIRED_LINK_RAW_TP }, { "raw_tp.w/", DESIRED_LINK_RAW_TP },
	{ "tp_btf/", DESIRED_LINK_TRACING },	      { "fentry/", DESIRED_LINK_TRACING },
	{ "fentry.s/", DESIRED_LINK_TRACING },	      { "fexit/", DESIRED_LINK_TRACING },
	{ "fexit.s/", DESIRED_LINK_TRACING },	      { "fmod_ret/", DESIRED_LINK_TRACING },
	{ "fmod_ret.s/", DESIRED_LINK_TRACING },      { "lsm/", DESIRED_LINK_TRACING },
	{ "lsm.s/", DESIRED_LINK_TRACING },	      { "kprobe/", DESIRED_LINK_KPROBE },
	{ "kretprobe/", DESIRED_LINK_KPROBE },
};

int desired_link_prog_type(const struct desired_link *l, bool *ret_strict)
{
	*ret_strict = false;
	switch (l->how) {
	case DESIRED_LINK_IFINDEX:
		return l->attach_type == BPF_XDP ? BPF_PROG_TYPE_XDP
		       : l->attach_type == COMPAT_BPF_TCX_INGRESS ||
				 l->attach_type == COMPAT_BPF_TCX_EGRESS
			       ? BPF_PROG_TYPE_SCHED_CLS
			       : -EINVAL;
	case DESIRED_LINK_TRACEPOINT:
		return BPF_PROG_TYPE_TRACEPOINT;
	case DESIRED_LINK_KPROBE:
		return BPF_PROG_TYPE_KPROBE;
	case DESIRED_LINK_CGROUP:
		break;
	default:
		return -EINVAL;
	}
	*ret_strict = true;
	switch (l->attach_type) {
	case BPF_CGROUP_INET_INGRESS:
	case BPF_CGROUP_INET_EGRESS:
		*ret_strict = false;
		return BPF_PROG_TYPE_CGROUP_SKB;
	case BPF_CGROUP_INET_SOCK_CREATE:
	case BPF_CGROUP_INET_SOCK_RELEASE:
	case BPF_CGROUP_INET4_POST_BIND:
	case BPF_CGROUP_INET6_POST_BIND:
		return BPF_PROG_TYPE_CGROUP_SOCK;
	case BPF_CGROUP_INET4_BIND:
	case BPF_CGROUP_INET6_BIND:
	case BPF_CGROUP_INET4_CONNECT:
	case BPF_CGROUP_INET6_CONNECT:
	case BPF_CGROUP_UDP4_SENDMSG:
	case BPF_CGROUP_UDP6_SENDMSG:
	case BPF_CGROUP_UDP4_RECVMSG:
	case BPF_CGROUP_UDP6_RECVMSG:
	case BPF_CGROUP_INET4_GETPEERNAME:
	case BPF_CGROUP_INET6_GETPEERNAME:
	case BPF_CGROUP_INET4_GETSOCKNAME:
	case BPF_CGROUP_INET6_GETSOCKNAME:
		return BPF_PROG_TYPE_CGROUP_SOCK_ADDR;
	case BPF_CGROUP_SOCK_OPS:
		*ret_strict = false;
		return BPF_PROG_TYPE_SOCK_OPS;
	case BPF_CGROUP_DEVICE:
		*ret_strict = false;
		return BPF_PROG_TYPE_CGROUP_DEVICE;
	case BPF_CGROUP_SYSCTL:
		*ret_strict = false;
		return BPF_PROG_TYPE_CGROUP_SYSCTL;
	case BPF_CGROUP_GETSOCKOPT:
	case BPF_CGROUP_SETSOCKOPT:
		return BPF_PROG_TYPE_CGROUP_SOCKOPT;
	default:
		return -EINVAL;
	}
}

static const char *prog_type_name(uint32_t t)
{
	const char *s = libbpf_bpf_prog_type_str((enum bpf_prog_type)t);

	return s ? s : "unknown";
}

static const char *attach_type_name(uint32_t t)
{
	const char *s = libbpf_bpf_attach_type_str((enum bpf_attach_type)t);

	return s ? s : "unknown";
}

/* How the link of attach a is made for program prog, into l and the
 * expected link type; an error at a's location when the program cannot
 * attach to that hook. */
static int link_how(struct builder *b, const struct manifest_attach *a,
		    const struct objfile_prog *prog, struct desired_link *l, uint32_t *ret_type)
{
	const char *hook = manifest_hook_str(a->hook);
	bool strict;
	int want;

	switch (a->hook) {
	case MANIFEST_HOOK_XDP:
		l->how = DESIRED_LINK_IFINDEX;
		l->attach_type = BPF_XDP;
		l->xdp_flags = a->xdp_mode == MANIFEST_XDP_NATIVE    ? XDP_FLAGS_DRV_MODE
			       : a->xdp_mode == MANIFEST_XDP_GENERIC ? XDP_FLAGS_SKB_MODE
								     : 0;
		*ret_type = BPF_LINK_TYPE_XDP;
		break;
	case MANIFEST_HOOK_TC:
		l->how = DESIRED_LINK_IFINDEX;
		l->attach_type = a->direction == MANIFEST_DIRECTION_EGRESS ? COMPAT_BPF_TCX_EGRESS
									    : COMPAT_BPF_TCX_INGRESS;
		*ret_type = COMPAT_BPF_LINK_TYPE_TCX;
		break;
	case MANIFEST_HOOK_CGROUP:
		l->how = DESIRED_LINK_CGROUP;
		l->attach_type = a->attach_type >= 0 ? (uint32_t)a->attach_type
						     : (uint32_t)prog->expected_attach;
		*ret_type = BPF_LINK_TYPE_CGROUP;
		if (desired_link_prog_type(l, &strict) < 0)
			return diag_error(b->d, a->attach_type >= 0 ? &a->attach_type_loc : &a->loc,
					  "program '%s': '%s' is no cgroup attach type%s", prog->name,
					  attach_type_name(l->attach_type),
					  a->attach_type >= 0 ? "" : " (its expected attach type); "
								     "give one with 'type:'");
		if (strict && prog->type == (enum bpf_prog_type)desired_link_prog_type(l, &strict) &&
		    prog->expected_attach != l->attach_type)
			return diag_error(b->d, a->attach_type >= 0 ? &a->attach_type_loc : &a->loc,
					  "program '%s' is loaded for attach type %s and cannot "
					  "attach as %s",
					  prog->name, attach_type_name(prog->expected_attach),
					  attach_type_name(l->attach_type));
		break;
	case MANIFEST_HOOK_AUTO:
		for (size_t i = 0; i < sizeof(auto_sections) / sizeof(*auto_sections); i++) {
			size_t n = strlen(auto_sections[i].prefix);

			if (strncmp(prog->section, auto_sections[i].prefix, n) != 0)
				continue;
			l->how = auto_sections[i].how;
			l->retprobe = strncmp(prog->section, "kretprobe/", 10) == 0;
			l->attach_type = l->how == DESIRED_LINK_TRACING ? prog->expected_attach
									: BPF_PERF_EVENT;
			*ret_type = link_types[l->how];
			/* tp_btf/ makes a raw tracepoint link of a tracing program. */
			if (strncmp(prog->section, "tp_btf/", 7) == 0)
				*ret_type = BPF_LINK_TYPE_RAW_TRACEPOINT;
			l->target = strdup(prog->section + n);
			if (!l->target)
				return -ENOMEM;
			if (l->how == DESIRED_LINK_TRACEPOINT && !strchr(l->target, '/'))
				return diag_error(b->d, &a->loc,
						  "program '%s': section '%s' names no tracepoint "
						  "(CATEGORY/NAME)",
						  prog->name, prog->section);
			return 0;
		}
		return diag_error(b->d, &a->loc,
				  "program '%s': section '%s' names no target to attach to "
				  "automatically (tracepoint/, raw_tp/, fentry/, fexit/, lsm/, "
				  "kprobe/, ...); attach it with xdp:, tc: or cgroup:",
				  prog->name, prog->section);
	case MANIFEST_HOOK_MAX:
		return -EINVAL;
	}
	want = desired_link_prog_type(l, &strict);
	if (prog->type != (enum bpf_prog_type)want)
		return diag_error(b->d, &a->loc,
				  "program '%s' is of type %s and cannot attach to %s; a %s hook takes "
				  "%s programs",
				  prog->name, prog_type_name(prog->type), hook, hook,
				  prog_type_name((uint32_t)want));
	l->target = strdup(a->target);
	return l->target ? 0 : -ENOMEM;
}

/* The link pin of one attach item of program i; its own part goes to
 * des->links, in the order of the link pins. */
static int add_link(struct builder *b, const struct manifest_entry *e,
		    const struct manifest_attach *a, size_t i)
{
	struct desired *des = b->des;
	struct desired_link l = { .attach = a };
	uint32_t type = 0;
	struct desired_link *links;
	char *path;
	int r;

	if (b->of) {
		r = link_how(b, a, &b->of->progs[i], &l, &type);
	} else {
		/* Without the ELF, what the hook alone says. */
		l.how = a->hook == MANIFEST_HOOK_CGROUP ? DESIRED_LINK_CGROUP
			: a->hook == MANIFEST_HOOK_AUTO ? DESIRED_LINK_TRACING
							: DESIRED_LINK_IFINDEX;
		type = a->hook == MANIFEST_HOOK_XDP	 ? BPF_LINK_TYPE_XDP
		       : a->hook == MANIFEST_HOOK_TC	 ? COMPAT_BPF_LINK_TYPE_TCX
		       : a->hook == MANIFEST_HOOK_CGROUP ? BPF_LINK_TYPE_CGROUP
							 : BPF_LINK_TYPE_UNSPEC;
		r = a->target && !(l.target = strdup(a->target)) ? -ENOMEM : 0;
	}
	links = r == 0 ? realloc(des->links, (des->n_links + 1) * sizeof(*links)) : NULL;
	if (!links) {
		free(l.target);
		return r ?: -ENOMEM;
	}
	des->links = links;
	des->links[des->n_links++] = l;
	path = strdup(a->pin);
	r = path ? add_pin(b, path, KIND_LINK, e, i) : -ENOMEM;
	if (r == 0) {
		des->pins[des->n_pins - 1].loc = a->loc;
		des->pins[des->n_pins - 1].spec.type = type;
	}
	return r;
}

/* Encodes mc for the map pin w (the last pin added) and points it there. */
static int add_contents(struct desired *des, struct desired_pin *w,
			const struct manifest_contents *mc, const struct contents_target *t,
			struct diag *d)
{
	struct desired_contents **all, *c = calloc(1, sizeof(*c));
	int r;

	all = c ? realloc(des->contents, (des->n_contents + 1) * sizeof(*all)) : NULL;
	if (!all) {
		free(c);
		return -ENOMEM;
	}
	des->contents = all;
	r = contents_encode(mc, t, d, c);
	if (r < 0) {
		free(c);
		return r;
	}
	des->contents[des->n_contents++] = c;
	w->contents = c;
	return 0;
}

/* The entries of an object's map; a map that is not pinned has no place
 * that keeps them. */
static int object_map_contents(struct builder *b, const struct manifest_entry *e, size_t i,
			       size_t n_before)
{
	const struct objfile_map *map = &b->of->maps[i];

	if (b->des->n_pins == n_before)
		return diag_error(b->d, &e->contents.loc,
				  "map '%s' of object '%s' has entries but is not pinned; pin it "
				  "(pinning:) to give it contents",
				  map->name, b->o->name);
	return add_contents(b->des, &b->des->pins[b->des->n_pins - 1], &e->contents,
			    &(struct contents_target){ .name = map->name,
						       .type = map->type,
						       .key_size = map->key_size,
						       .value_size = map->value_size,
						       .max_entries = map->max_entries,
						       .of = b->of,
						       .map = i },
			    b->d);
}

static int build_object(struct builder *b)
{
	const struct objfile *of = b->of;
	const struct manifest_object *o = b->o;
	_cleanup_free_ bool *matched = calloc(o->n_entries + 1, sizeof(bool));
	int r = 0, q;

	if (!matched)
		return -ENOMEM;
	for (size_t i = 0; i < of->n_maps; i++) {
		const struct objfile_map *map = &of->maps[i];
		const struct manifest_entry *e = NULL;

		for (size_t j = 0; j < o->n_entries; j++)
			if (entry_selects_map(&o->entries[j], of, map)) {
				e = &o->entries[j];
				matched[j] = true;
				break;
			}
		q = e ? check_map_entry(b, e, map->name) : 0;
		if (q == 0) {
			size_t before = b->des->n_pins;

			q = resolve(b, e,
			    &(struct source){ .kind = KIND_MAP,
					      .name = map->name,
					      .elf_pinning = map->pinning,
					      .elf_namespace = map->namespace,
					      .pin_id = map->pin_id,
					      .index = i });
			if (q == 0 && e && e->contents.has_entries)
				q = object_map_contents(b, e, i, before);
		}
		if (q == -ENOMEM)
			return q;
		r = r ?: q;
	}
	/* The ELF says nothing of program pinning: a program is pinned, and so
	 * loaded, only when an entry asks for it. */
	for (size_t i = 0; i < of->n_progs; i++) {
		const struct objfile_prog *prog = &of->progs[i];
		const struct manifest_entry *e = NULL;

		for (size_t j = 0; j < o->n_entries; j++)
			if (entry_selects_prog(&o->entries[j], prog)) {
				e = &o->entries[j];
				matched[j] = true;
				break;
			}
		if (!e)
			continue;
		q = program_type(b, e, i);
		if (q == 0)
			q = resolve(b, e,
			    &(struct source){ .kind = KIND_PROGRAM,
					      .name = prog->name,
					      .elf_pinning = PIN_MODE_NONE,
					      .index = i });
		for (size_t a = 0; a < e->n_attach && q != -ENOMEM; a++) {
			int qa = add_link(b, e, &e->attach[a], i);

			q = q ?: qa;
		}
		if (q == -ENOMEM)
			return q;
		r = r ?: q;
	}
	for (size_t j = 0; j < o->n_entries; j++) {
		const struct manifest_entry *e = &o->entries[j];
		_cleanup_free_ char *has = NULL;

		if (matched[j] || !e->value)
			continue;
		has = list_candidates(of, e->selector);
		if (!has)
			return -ENOMEM;
		r = diag_error(b->d, &e->loc, "object '%s' has no %s '%s' (has: %s)", o->name,
			       manifest_selector_str(e->selector), e->value, has);
	}
	return r;
}

/* Without the ELF, only the paths the manifest alone fixes. */
static int build_manifest_only(struct builder *b)
{
	for (size_t j = 0; j < b->o->n_entries; j++) {
		const struct manifest_entry *e = &b->o->entries[j];
		bool is_map = e->selector == MANIFEST_SELECT_MAP ||
			      (e->selector == MANIFEST_SELECT_SECTION &&
			       strncmp(e->value, "maps/", 5) == 0);
		char *path;

		for (size_t a = 0; a < e->n_attach; a++)
			if (add_link(b, e, &e->attach[a], 0) < 0)
				return -ENOMEM;
		if (!e->pin_path)
			continue;
		path = strdup(e->pin_path);
		if (!path || add_pin(b, path, is_map ? KIND_MAP : KIND_PROGRAM, e, 0) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* A map the manifest alone declares: its spec is the manifest's. */
static int add_standalone(struct desired *des, const struct manifest *m,
			  const struct manifest_map *mm, struct diag *d)
{
	char *path = strdup(mm->path);
	struct desired_pin *w;

	if (array_reserve(&des->pins, des->n_pins, sizeof(*des->pins)) < 0 || !path) {
		free(path);
		return -ENOMEM;
	}
	w = &des->pins[des->n_pins++];
	*w = (struct desired_pin){
		.path = path,
		.kind = KIND_MAP,
		.spec = { .type = mm->type,
			  .key_size = mm->key_size,
			  .value_size = mm->value_size,
			  .max_entries = mm->max_entries,
			  .map_flags = mm->flags },
		.uid = -1,
		.gid = -1,
		.manifest = m,
		.attrs = &mm->attrs,
		.objfile_index = SIZE_MAX,
		.loc = mm->loc,
		.standalone = mm,
	};
	if (!mm->contents.has_entries)
		return 0;
	return add_contents(des, w, &mm->contents,
			    &(struct contents_target){ .name = mm->name,
						       .type = mm->type,
						       .key_size = mm->key_size,
						       .value_size = mm->value_size,
						       .max_entries = mm->max_entries },
			    d);
}

/* Each link pin to its own part, and to its program's pin where the
 * program is pinned (the pins arrays are final now). */
static void wire_links(struct desired *des)
{
	size_t j = 0;

	for (size_t i = 0; i < des->n_pins; i++) {
		struct desired_pin *w = &des->pins[i];

		if (w->kind != KIND_LINK)
			continue;
		w->link = &des->links[j++];
		/* A program's pin comes before its links, among its object's. */
		for (size_t k = i; w->objfile && k-- > 0 && des->pins[k].objfile == w->objfile;)
			if (des->pins[k].kind == KIND_PROGRAM && des->pins[k].index == w->index &&
			    des->pins[k].objfile_index == w->objfile_index) {
				w->link->prog = &des->pins[k];
				break;
			}
	}
}

static bool is_xdp(const struct desired_pin *w)
{
	return w->kind == KIND_LINK && w->link->attach->hook == MANIFEST_HOOK_XDP;
}

struct clash_ref {
	const struct desired_pin *w;
	size_t at; /* declaration order */
};

static int cmp_refs(const void *a, const void *b)
{
	const struct clash_ref *x = a, *y = b;
	int c = strcmp(x->w->path, y->w->path);

	/* Ties keep declaration order, so "first" is the first declared. */
	return c ? c : (x->at > y->at) - (x->at < y->at);
}

/* The first of refs (sorted) at path, or n. */
static size_t first_at(const struct clash_ref *refs, size_t n, const char *path)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(refs[mid].w->path, path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && strcmp(refs[lo].w->path, path) == 0 ? lo : n;
}

int desired_clashes(const struct desired_pin *const *pins, size_t n, desired_clash_fn *fn,
		    void *ctx)
{
	_cleanup_free_ struct clash_ref *refs = calloc(n + 1, sizeof(*refs));
	int r = 0;

	if (!refs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		refs[i] = (struct clash_ref){ .w = pins[i], .at = i };
	qsort(refs, n, sizeof(*refs), cmp_refs);
	for (size_t i = 0, first = 0; i < n && r == 0; i++) {
		const struct desired_pin *w = refs[i].w;
		_cleanup_free_ char *prefix = NULL;
		char *slash;

		if (i > 0 && strcmp(refs[i - 1].w->path, w->path) == 0) {
			r = fn(ctx, DESIRED_CLASH_SAME_PATH, refs[first].w, w);
			continue;
		}
		first = i;
		prefix = strdup(w->path);
		if (!prefix)
			return -ENOMEM;
		while (r == 0 && (slash = strrchr(prefix, '/'))) {
			size_t k;

			*slash = '\0';
			k = first_at(refs, n, prefix);
			if (k < n)
				r = fn(ctx, DESIRED_CLASH_UNDER, refs[k].w, w);
		}
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		if (!is_xdp(pins[i]))
			continue;
		for (size_t k = 0; k < i; k++)
			if (is_xdp(pins[k]) && strcmp(pins[k]->link->target, pins[i]->link->target) == 0) {
				r = fn(ctx, DESIRED_CLASH_XDP, pins[k], pins[i]);
				break;
			}
	}
	return r;
}

/* A clash within the manifests built together: an error. */
static int report_clash(void *ctx, enum desired_clash how, const struct desired_pin *first,
			const struct desired_pin *w)
{
	struct diag *d = ctx;

	switch (how) {
	case DESIRED_CLASH_SAME_PATH:
		diag_error(d, w->entry && w->entry->path ? &w->entry->path_loc : &w->loc,
			   "pin path '%s' declared twice (first at %s:%u:%u)", w->path,
			   first->loc.file, first->loc.line, first->loc.column);
		break;
	case DESIRED_CLASH_UNDER:
		diag_error(d, &w->loc, "pin path '%s' lies under the pin '%s' (declared at %s:%u:%u)",
			   w->path, first->path, first->loc.file, first->loc.line,
			   first->loc.column);
		break;
	case DESIRED_CLASH_XDP:
		diag_error(d, &w->loc,
			   "interface '%s' takes one XDP program; '%s' is attached there already "
			   "(at %s:%u:%u)",
			   w->link->target, desired_pin_name(first), first->loc.file,
			   first->loc.line, first->loc.column);
		break;
	}
	return 0;
}

/* No path twice, no pin where another pin's path needs a directory, one
 * XDP program per interface. */
static int check_clashes(const struct desired *des, struct diag *d)
{
	_cleanup_free_ const struct desired_pin **pins = calloc(des->n_pins + 1, sizeof(*pins));
	size_t errors = d->n_errors;
	int r;

	if (!pins)
		return -ENOMEM;
	for (size_t i = 0; i < des->n_pins; i++)
		pins[i] = &des->pins[i];
	r = desired_clashes(pins, des->n_pins, report_clash, d);
	return r < 0 ? r : d->n_errors > errors ? -EINVAL : 0;
}

struct object_ref {
	const char *path;
	size_t k;
};

static int by_path_then_index(const void *a, const void *b)
{
	const struct object_ref *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	return c ?: (x->k > y->k) - (x->k < y->k);
}

static bool sets_prog_types(const struct manifest_object *o)
{
	for (size_t i = 0; i < o->n_entries; i++)
		if (o->entries[i].prog_type >= 0 || o->entries[i].attach_type >= 0)
			return true;
	return false;
}

/* owner[k]: the first object naming the same file as object k, so that the
 * file is read (digests, ELF, libbpf open) once per run however many
 * objects name it - a tree of thousands of objects from a few files.  An
 * object whose entries set program types has its own read. */
static int share_objfiles(const struct manifest_set *set, size_t *owner)
{
	_cleanup_free_ struct object_ref *refs = NULL;
	size_t n = 0, k = 0;

	for (size_t i = 0; i < set->n; i++)
		n += set->items[i]->n_objects;
	refs = calloc(n + 1, sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < set->n; i++)
		for (size_t j = 0; j < set->items[i]->n_objects; j++, k++) {
			const struct manifest_object *o = &set->items[i]->objects[j];

			owner[k] = k;
			if (o->file_path && !sets_prog_types(o))
				refs[n++] = (struct object_ref){ o->file_path, k };
		}
	qsort(refs, n, sizeof(*refs), by_path_then_index);
	for (size_t i = 1; i < n; i++)
		if (strcmp(refs[i].path, refs[i - 1].path) == 0)
			owner[refs[i].k] = owner[refs[i - 1].k];
	return 0;
}

/* The object a manifest names.  What is wrong with it is said where the
 * manifest names it (its `file` value), with the file's path, so that a
 * run over many manifests says which entry to fix. */
static int open_object(struct builder *b, struct objfile **ret)
{
	_cleanup_free_ char *prefix = NULL;
	struct diag od = { 0 };
	int r, q;

	r = objfile_open(b->o->file_path, &od, ret);
	if (od.n_msgs == 0 && od.n_errors == 0)
		return r;
	if (asprintf(&prefix, "object file '%s': ", b->o->file_path) < 0) {
		diag_done(&od);
		return -ENOMEM;
	}
	q = diag_move(b->d, &od, b->o->file_loc.file ? &b->o->file_loc : &b->o->loc, prefix);
	return r < 0 ? r : q;
}

int desired_build(const struct manifest_set *set, bool read_objects, struct diag *d,
		  struct desired *des)
{
	size_t n_objects = 0, k = 0;
	int r = 0, q;

	for (size_t i = 0; i < set->n; i++)
		n_objects += set->items[i]->n_objects;
	des->objfiles = calloc(n_objects + 1, sizeof(*des->objfiles));
	des->owner = calloc(n_objects + 1, sizeof(*des->owner));
	if (!des->objfiles || !des->owner)
		return -ENOMEM;
	des->n_objfiles = n_objects;
	r = share_objfiles(set, des->owner);
	if (r < 0)
		return r;
	for (size_t i = 0; i < set->n; i++)
		for (size_t j = 0; j < set->items[i]->n_objects; j++, k++) {
			struct builder b = { .k = k,
					     .m = set->items[i],
					     .o = &set->items[i]->objects[j],
					     .des = des,
					     .d = d };

			if (!read_objects) {
				q = build_manifest_only(&b);
			} else if (!b.o->file_path) {
				continue;
			} else if (des->owner[k] != k) {
				/* Its owner said why it could not be read. */
				b.of = des->objfiles[k] = des->objfiles[des->owner[k]];
				q = b.of ? build_object(&b) : -EINVAL;
			} else {
				q = open_object(&b, &des->objfiles[k]);
				b.of = des->objfiles[k];
				if (q == 0)
					q = build_object(&b);
			}
			if (q == -ENOMEM)
				return q;
			r = r ?: q;
		}
	for (size_t i = 0; i < set->n; i++)
		for (size_t j = 0; j < set->items[i]->n_maps; j++) {
			q = add_standalone(des, set->items[i], &set->items[i]->maps[j], d);
			if (q == -ENOMEM)
				return q;
			r = r ?: q;
		}
	/* Complete: the rest of the doubling is given back (a tenth of a large
	 * apply's memory).  array_reserve() could not append to it now, and
	 * nothing does. */
	if (des->n_pins && (des->n_pins & (des->n_pins - 1))) {
		struct desired_pin *fit = realloc(des->pins, des->n_pins * sizeof(*fit));

		if (fit)
			des->pins = fit;
	}
	wire_links(des);
	q = check_clashes(des, d);
	return r ?: q;
}

void desired_done(struct desired *des)
{
	if (!des)
		return;
	for (size_t i = 0; i < des->n_objfiles; i++)
		if (!des->owner || des->owner[i] == i)
			objfile_free(des->objfiles[i]);
	free(des->objfiles);
	free(des->owner);
	for (size_t i = 0; i < des->n_pins; i++)
		free(des->pins[i].path);
	free(des->pins);
	for (size_t i = 0; i < des->n_links; i++) {
		free(des->links[i].target);
		free(des->links[i].cgroup_path);
	}
	free(des->links);
	for (size_t i = 0; i < des->n_contents; i++) {
		contents_done(des->contents[i]);
		free(des->contents[i]);
	}
	free(des->contents);
	*des = (struct desired){ 0 };
}

/* A name, or a number as manifest.c keeps it (decimal text). */
static int resolve_id(const char *s, bool group, int64_t *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s >= '0' && *s <= '9' && !*end && !errno) {
		*ret = (int64_t)v;
		return 0;
	}
	if (group) {
		struct group *g = getgrnam(s);

		if (!g)
			return -ENOENT;
		*ret = g->gr_gid;
	} else {
		struct passwd *pw = getpwnam(s);

		if (!pw)
			return -ENOENT;
		*ret = pw->pw_uid;
	}
	return 0;
}

int desired_resolve_owners(struct desired *des, struct diag *d)
{
	int r = 0;

	for (size_t i = 0; i < des->n_pins; i++) {
		struct desired_pin *p = &des->pins[i];

		if (p->attrs->owner && resolve_id(p->attrs->owner, false, &p->uid) < 0)
			r = diag_error(d, &p->loc, "%s '%s': unknown user '%s'",
				       kind_ops(p->kind)->name, p->path, p->attrs->owner);
		if (p->attrs->group && resolve_id(p->attrs->group, true, &p->gid) < 0)
			r = diag_error(d, &p->loc, "%s '%s': unknown group '%s'",
				       kind_ops(p->kind)->name, p->path, p->attrs->group);
	}
	return r;
}

int desired_pins_by_object(const struct desired *des, size_t **ret_first, size_t **ret_next)
{
	size_t *first = malloc((des->n_objfiles + 1) * sizeof(*first));
	size_t *next = malloc((des->n_pins + 1) * sizeof(*next));

	if (!first || !next) {
		free(first);
		free(next);
		return -ENOMEM;
	}
	for (size_t k = 0; k < des->n_objfiles; k++)
		first[k] = SIZE_MAX;
	for (size_t i = des->n_pins; i-- > 0;)
		if (des->pins[i].objfile) {
			next[i] = first[des->pins[i].objfile_index];
			first[des->pins[i].objfile_index] = i;
		}
	*ret_first = first;
	*ret_next = next;
	return 0;
}

bool desired_entry_rewritten(const struct desired_contents *c, const struct desired_entry *e)
{
	return e->differs && (c->seed == MANIFEST_SEED_ENFORCE || e->is_prog);
}

const char *desired_pin_name(const struct desired_pin *p)
{
	if (p->standalone)
		return p->standalone->name;
	if (p->objfile)
		return p->kind == KIND_MAP ? p->objfile->maps[p->index].name
					      : p->objfile->progs[p->index].name;
	return p->entry && p->entry->value ? p->entry->value : "";
}
