/* SPDX-License-Identifier: MIT */
/* desired: the manifests and their ELF objects resolved into the list of pins
 * that should exist - path, kind, and which manifest, object and map or
 * program each comes from (bpf-provision.yaml(5), PINNING MODES).  No kernel call: programs' tags
 * are computed apart, by identity.h. */
#ifndef BPFPROV_DESIRED_H
#define BPFPROV_DESIRED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "manifest.h"
#include "model.h"
#include "objfile.h"

/* What the kernel should report for the pin.  Maps: from the ELF.  Programs:
 * type from the ELF; tag only after identity_load_tags(). */
struct desired_spec {
	uint32_t type; /* enum bpf_map_type or bpf_prog_type */
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t map_flags;
	uint8_t tag[8];
	bool has_tag;
	/* Offline (identity_offline_tags): the tag could be neither computed
	 * nor found in a record, so whether the pinned program is this one is
	 * unknown. */
	bool tag_unknown;
	/* Live: not loaded for its tag, since nothing is pinned where any pin
	 * of the program goes and the plan creates it either way.  Its one
	 * load is the apply's (a dry run's load step checks it instead), and
	 * the tag for the ledger is read from that. */
	bool tag_deferred;
	/* Live: a legacy object's program, whose tag was computed from what
	 * its loader hands the kernel rather than learnt by a load; a dry
	 * run's load step loads it, to check it, as it does deferred ones. */
	bool tag_computed;
};

/* How a link is made (target.h, target_attach). */
enum desired_link_how {
	DESIRED_LINK_IFINDEX,    /* bpf_link_create on an interface: xdp, tcx */
	DESIRED_LINK_CGROUP,     /* bpf_link_create on a cgroup directory's fd */
	DESIRED_LINK_TRACEPOINT, /* a perf event of tracepoint `target` ("CATEGORY/NAME"), then BPF_PERF_EVENT */
	DESIRED_LINK_RAW_TP,     /* raw tracepoint `target` (BPF_RAW_TRACEPOINT_OPEN) */
	DESIRED_LINK_TRACING,    /* fentry, fexit, fmod_ret, lsm, tp_btf: the target was fixed at load */
	DESIRED_LINK_KPROBE,     /* a kprobe perf event on function `target` (retprobe: on return) */
	DESIRED_LINK_HOW_MAX,
};

/* A declared attachment: what a link pin (kind KIND_LINK) is made of. */
struct desired_link {
	const struct manifest_attach *attach; /* borrowed from the manifest */
	const struct desired_pin *prog; /* the program's own pin, or NULL when it is not pinned */
	enum desired_link_how how;
	uint32_t attach_type; /* enum bpf_attach_type the link is made with */
	uint32_t xdp_flags;   /* XDP_FLAGS_SKB_MODE / XDP_FLAGS_DRV_MODE, or 0 */
	bool retprobe;        /* kprobe: kretprobe/ */
	/* ifindex: the interface name; cgroup: the path as written; tracepoint:
	 * "CATEGORY/NAME"; raw_tp, tracing, kprobe: the name after the section
	 * prefix (may be empty for tracing).  Owned. */
	char *target;
	/* Filled by target_resolve() (live runs only); zero until then. */
	uint32_t ifindex;
	uint64_t cgroup_id;
	char *cgroup_path; /* absolute; owned */
	bool skipped;      /* optional, and its target does not exist */
};

/* One entry a map should hold, encoded as the kernel takes it
 * (contents.h). */
struct desired_entry {
	unsigned char *key;   /* key_size bytes; owned */
	/* What bpf_map_update_elem takes: value_size bytes, once per possible
	 * CPU for per-CPU maps; NULL for a program entry.  Owned. */
	unsigned char *value;
	bool is_prog;         /* a program array's slot: the program prog */
	size_t prog;          /* index in objfile->progs */
	uint8_t tag[8];       /* program entries: its tag, once identity_load_tags() ran */
	bool has_tag;
	bool tag_unknown;     /* offline, and no record gives its tag (desired_spec) */
	bool tag_deferred;    /* live, its map not pinned yet (desired_spec) */
	bool tag_computed;    /* live, computed rather than loaded (desired_spec) */
	const struct manifest_map_entry *src; /* borrowed; NULL for none */
	/* Filled by contents_observe() (live runs): the pinned map holds
	 * another value (another program) at key, or none. */
	bool differs;
	bool absent;
};

/* The entries of a map pin. */
struct desired_contents {
	struct desired_entry *entries;
	size_t n;
	enum manifest_seed seed;
	bool exact;
	uint32_t key_size;
	size_t value_bytes;   /* of each value as the syscalls take it */
	/* Filled by contents_observe(): the pinned map at the path was read,
	 * and (exact) the keys it holds that no entry lists, key_size each. */
	bool observed;
	unsigned char *extra; /* owned */
	size_t n_extra;
};

struct desired_pin {
	char *path;                             /* relative to the root */
	enum kind kind;
	struct desired_spec spec;               /* valid when objfile is not NULL */
	int64_t uid, gid;                       /* -1: not managed; set by desired_resolve_owners() */
	const struct manifest *manifest;        /* borrowed from the manifest set */
	const struct manifest_object *object;   /* borrowed */
	const struct manifest_entry *entry;     /* the entry that declared it, or NULL (ELF default) */
	const struct manifest_attrs *attrs;     /* the entry's, else the manifest's defaults */
	const struct objfile *objfile;          /* NULL when objects were not read */
	size_t objfile_index;                   /* its index in desired.objfiles */
	size_t index;                           /* in objfile->maps or objfile->progs */
	struct diag_loc loc;                    /* where it was declared */
	/* Links: index is the program's in objfile->progs; spec.type the link
	 * type expected (enum bpf_link_type), spec.tag the program's tag. */
	struct desired_link *link;              /* NULL for maps and programs; owned by desired */
	/* Maps: the entries it holds (NULL: none declared); owned by desired. */
	struct desired_contents *contents;
	/* A standalone map (top-level `maps:`): no object; spec from it. */
	const struct manifest_map *standalone;
};

struct desired {
	/* One per manifest object, in manifest order.  Objects that name the
	 * same file share one read of it (owner[k] < k: objfiles[owner[k]]),
	 * unless an entry sets a program's type; the rest are owned. */
	struct objfile **objfiles;
	size_t *owner;
	size_t n_objfiles;
	struct desired_pin *pins; /* complete once built: nothing appends to it after */
	size_t n_pins;
	struct desired_link *links; /* the links' own parts, pointed at by their pins */
	size_t n_links;
	struct desired_contents **contents; /* the maps' entries, each pointed at by its pin; owned */
	size_t n_contents;
};

/* The program type (enum bpf_prog_type) a link made as l takes, as the
 * kernel's attach_type_to_prog_type says; -EINVAL for an attach type of no
 * such hook, and for tracing and raw tracepoint links, fixed at load.
 * *ret_strict: the program must also have been loaded for exactly that
 * attach type (its expected_attach_type). */
int desired_link_prog_type(const struct desired_link *l, bool *ret_strict);

/* Whether a kept map's entry e is written again: it differs from what the
 * map holds, and is either enforced (seed: enforce) or a program array's
 * slot (a slot holding another program is a program replaced). */
bool desired_entry_rewritten(const struct desired_contents *c, const struct desired_entry *e);

/* Builds the desired pins of a set.  With read_objects, every object is read
 * and every selector checked against it (errors list what the object has);
 * without, only the pins whose path the manifest alone determines are listed.
 * In both cases no two pins may share a path.  Returns 0, or a negative errno
 * with every problem recorded in d (-EINVAL invalid input, -ENOMEM).  The set
 * must outlive des; desired_done() releases des's contents. */
int desired_build(const struct manifest_set *set, bool read_objects, struct diag *d,
		  struct desired *des);
void desired_done(struct desired *des);

/* Two declared pins that cannot both be made: */
enum desired_clash {
	DESIRED_CLASH_SAME_PATH, /* the same path */
	DESIRED_CLASH_UNDER,     /* the second's path lies under the first pin */
	DESIRED_CLASH_XDP,       /* XDP links on one interface, which takes one program */
};

/* Told each clash, the first pin the one declared first (or the one in the
 * way); returns 0 to go on, or a negative errno to stop. */
typedef int desired_clash_fn(void *ctx, enum desired_clash how, const struct desired_pin *first,
			     const struct desired_pin *second);

/* Calls fn for every clash among pins[0..n) (in declaration order; they
 * may come from several desired states): a path declared again is told
 * once per later pin, with the first; a pin under another once per pin in
 * its way.  desired_build() makes these errors; a --keep-going run finds
 * them between manifests built alone.  Returns 0, fn's stop, or -ENOMEM. */
int desired_clashes(const struct desired_pin *const *pins, size_t n, desired_clash_fn *fn,
		    void *ctx);

/* Resolves owner and group names to ids (getpwnam/getgrnam; numbers as they
 * are) into each pin's uid/gid.  Returns 0, or -EINVAL with every unknown
 * name recorded in d at its manifest location. */
int desired_resolve_owners(struct desired *des, struct diag *d);

/* The pins of each object, so that work per object costs no pass over every
 * pin: first[k] is the first pin (index in des->pins) of object k, next[i]
 * the one after pin i, SIZE_MAX ending each list; in declaration order.
 * Returns 0 with two new arrays (the caller frees them), or -ENOMEM. */
int desired_pins_by_object(const struct desired *des, size_t **ret_first, size_t **ret_next);

/* The name the pin is made from: the ELF's map or program name when the
 * object was read, else the manifest's selector value. */
const char *desired_pin_name(const struct desired_pin *p);

#endif
