/* SPDX-License-Identifier: MIT */
/* plan: the difference between desired and observed state as changes with
 * their reasons, and the steps that make them (bpf-provision(1), OUTPUT).  A
 * pure function: no I/O, so it is unit-tested with states built in memory. */
#ifndef BPFPROV_PLAN_H
#define BPFPROV_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "desired.h"
#include "ledger.h"
#include "manifest.h"
#include "observed.h"

/* PLAN_TEMP_PREFIX, the temporary pins' names, is in model.h: manifest.c
 * refuses it in declared paths. */

enum plan_action {
	PLAN_CREATE,
	PLAN_REPLACE,
	PLAN_UPDATE,
	PLAN_DELETE,
	PLAN_ADOPT,   /* found in place, not made by the tool: recorded as adopted (and updated as declared) */
	PLAN_RELEASE, /* adopted and no longer declared: dropped from the ledger, left in place */
	PLAN_UNCHANGED,
	PLAN_ACTION_MAX,
};

struct plan_change {
	enum plan_action action;
	enum observed_kind kind;            /* what is created/replaced (desired) or deleted (observed) */
	const char *path;                   /* borrowed from want or have */
	const struct desired_pin *want;     /* NULL for delete */
	const struct observed_entry *have;  /* NULL for create */
	const char *manifest;               /* name of the manifest it belongs to */
	enum on_incompatible policy;        /* replace of a map: how; else ON_INCOMPATIBLE_UNSET */
	bool refused;                       /* apply will refuse this change (policy fail, conflict) */
	bool attrs;                         /* update, adopt: mode or owner differ */
	bool relink;                        /* update of a link: point it at the program loaded anew, in place */
	bool rewrite;                       /* update, adopt of a map: write its differing entries in place */
	char *reason;                       /* owned */
};

/* What apply does, one step at a time.  Every state change of a run is
 * one of these: the real run carries them out in order, a dry run lists
 * them, and they are the same list. */
enum plan_op {
	PLAN_OP_INTENT,   /* save the ledger with the directories to make and this run: a killed run's leftovers stay known */
	PLAN_OP_MKDIR,    /* make the directory path with mode */
	PLAN_OP_LOAD,     /* load the object of `want`: the maps and programs its pins make anew */
	PLAN_OP_ATTACH,   /* make the link of `want` (attach its program to the hook); the next pin step pins it */
	PLAN_OP_RELINK,   /* point the link at path (inode ino, link id id) at `want`'s program, in place */
	PLAN_OP_MKMAP,    /* create the standalone map of `want` (no object) */
	PLAN_OP_MIGRATE,  /* copy the entries of the map at path (kernel id id) into its new map */
	PLAN_OP_WRITE,    /* write `want`'s entries: all into its new map (fresh), or the differing ones into the map at path (inode ino, id id) */
	PLAN_OP_PIN,      /* pin the new object of `want` at path itself (direct) or under temporary name `temp`, with mode and owner */
	PLAN_OP_RENAME,   /* rename temporary name `temp` to path */
	PLAN_OP_EXCHANGE, /* swap temporary name `temp` with the pin at path (inode ino) */
	PLAN_OP_MKTRASH,  /* make this run's trash directory */
	PLAN_OP_TRASH,    /* move the pin (inode ino) at path, or at temporary name `temp`, into trash slot `slot` */
	PLAN_OP_ATTRS,    /* give the pin at path (inode ino) mode and owner */
	PLAN_OP_RMDIR,    /* remove the empty directory at path (inode ino) */
	PLAN_OP_LEDGER,   /* save the ledger: what the manifests own now */
	PLAN_OP_PURGE,    /* unlink the old pins in the trash and remove it; nothing is undone after the ledger */
	PLAN_OP_MAX,
};

#define PLAN_NO_CHANGE UINT32_MAX
/* An owner or group a step leaves as it is: chown's own (uid_t)-1. */
#define PLAN_KEEP_ID UINT32_MAX

/* A plan holds two or three steps per pin it makes, so they are small. */
struct plan_step {
	enum plan_op op : 8;
	bool at_temp;  /* TRASH: the pin is at temporary name temp (the old one a replace swapped out) */
	bool leftover; /* RMDIR: the trash directory of a killed run */
	bool loaded;   /* ATTACH, RELINK: the program is the one this object's load made; else its pin's */
	bool fresh;    /* WRITE: into the map this run made */
	bool direct;   /* PIN: at path, which is free: the pin itself is atomic, no rename follows */
	int mode;      /* MKDIR, PIN, ATTRS: -1 leaves it */
	const char *path; /* relative to the root; owned by a MKDIR step, else borrowed */
	/* PIN, MIGRATE, ATTACH, RELINK: the declared pin; MKDIR: the pin it is made for; LOAD: its object's first. */
	const struct desired_pin *want;
	ino_t ino;        /* the identity the step expects (see enum plan_op) */
	uint32_t uid, gid; /* PIN, ATTRS; PLAN_KEEP_ID leaves it */
	uint32_t change;  /* the change it carries out, or PLAN_NO_CHANGE */
	uint32_t id;      /* MIGRATE: the old map's kernel id; RELINK: the link's; WRITE in place: the map's */
	uint32_t temp;    /* PIN (not direct), RENAME, EXCHANGE, TRASH: number of the temporary name */
	uint32_t slot;    /* TRASH: number of its place in the trash */
};

/* A manifest the ledger records and the set does not name: what it made
 * stays until destroy --name or apply --prune-retired. */
struct plan_retired {
	char *manifest; /* owned: the ledger the names come from is replaced by apply */
	char **paths;   /* its pins still as recorded, by path; owned */
	size_t n;
};

struct plan {
	struct plan_change *changes; /* ordered: create/replace/update by path, then deletes children first */
	size_t n;
	size_t counts[PLAN_ACTION_MAX];
	size_t n_refused;
	struct plan_step *steps; /* in the order apply takes them; none when a change is refused */
	size_t n_steps;
	struct plan_retired *retired; /* by name */
	size_t n_retired;
	/* Under --target: per declared pin, whether the plan leaves it alone
	 * (neither targeted, nor needed by a targeted pin, nor made anew
	 * because of one); NULL without targets.  Owned. */
	bool *untargeted;
};

/* What is planned for: the manifests (for prune flags and owned dirs), and
 * whether everything they declare is to go (destroy). */
struct plan_input {
	const struct manifest_set *set;
	const struct desired *desired;
	const struct observed *observed;
	const struct ledger *ledger;
	bool destroy;
	/* --target: paths relative to the root, without a trailing slash; a
	 * pin is targeted when its path is one or lies below one.  None: all. */
	const char *const *targets;
	size_t n_targets;
};

/* Builds the plan, its changes and then its steps.  Returns 0 and fills *ret
 * (release with plan_done()), or -ENOMEM.  Ownership: a pin is deleted only when (a) the ledger records it for
 * a manifest of the set that prunes, and it is still the same pin (inode and
 * id), or (b) it lies under an `owned` directory of a manifest of the set and
 * no manifest's ledger record claims it; also (c) temporary pins
 * (PLAN_TEMP_PREFIX) an interrupted run left.  Symlinks and unreadable pins
 * are never deleted, and neither is a pin the ledger records as adopted (a
 * declared pin found in place that the ledger did not record) outside an
 * owned directory: it is released.  A program whose map is created or replaced is replaced
 * too, so that it is loaded against the new map.  A directory the tool made
 * (ledger) is removed once the steps before leave it empty.  With targets,
 * only the targeted pins are planned, with the pinned maps their programs
 * use and the programs their links run, and what their changes force (a
 * program reloaded for its new map, a link for its new program); only
 * targeted undeclared pins are deleted, and only directories on the way to
 * or below a target removed. */
int plan_build(const struct plan_input *in, struct plan *ret);
void plan_done(struct plan *p);

/* Whether path is dir or lies below it (paths relative to the root): what
 * a --target names. */
bool plan_path_in(const char *path, const char *dir);

/* "create", "replace", "update", "delete", "adopt", "release", "unchanged". */
const char *plan_action_str(enum plan_action a);

/* "intent", "mkdir", "load", ... */
const char *plan_op_str(enum plan_op op);

/* True when apply would change the tree (or refuses to): adopt and release
 * alone change only the ledger, so they are no drift. */
bool plan_has_changes(const struct plan *p);
/* The same for one change. */
bool plan_change_drifts(const struct plan_change *c);

#endif
