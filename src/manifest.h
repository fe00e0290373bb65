/* SPDX-License-Identifier: MIT */
/* manifest: YAML manifests (bpf-provision.yaml(5)) parsed and checked into the
 * desired-state model.  Every error carries FILE:LINE:COLUMN and parsing goes
 * on after an error, so one run reports them all.  No kernel access and no
 * object files are read here. */
#ifndef BPFPROV_MANIFEST_H
#define BPFPROV_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "model.h"

/* Pin attributes; a field not given is -1 / UNSET / NULL.  Entries hold their
 * own values already merged over the manifest's defaults. */
struct manifest_attrs {
	enum on_incompatible on_incompatible;
	int mode;     /* permission bits of pins, or -1 */
	int dir_mode; /* permission bits of directories the tool creates, or -1 */
	char *owner;  /* user name or decimal uid, resolved at apply time; NULL if not given */
	char *group;
};

enum manifest_selector {
	MANIFEST_SELECT_SECTION,
	MANIFEST_SELECT_MAP,
	MANIFEST_SELECT_PROGRAM,
	MANIFEST_SELECT_MAX,
};

/* A hook a program is attached to (bpf-provision.yaml(5), ATTACHMENTS),
 * as a BPF link pinned at `pin`. */
enum manifest_hook {
	MANIFEST_HOOK_XDP,    /* xdp: INTERFACE */
	MANIFEST_HOOK_TC,     /* tc: INTERFACE, a tcx link (Linux 6.6+) */
	MANIFEST_HOOK_CGROUP, /* cgroup: PATH */
	MANIFEST_HOOK_AUTO,   /* auto: true - the target is in the section name */
	MANIFEST_HOOK_MAX,
};

enum manifest_xdp_mode {
	MANIFEST_XDP_AUTO = 0, /* the driver's mode where it has one, else generic */
	MANIFEST_XDP_NATIVE,
	MANIFEST_XDP_GENERIC,
	MANIFEST_XDP_MODE_MAX,
};

enum manifest_direction {
	MANIFEST_DIRECTION_UNSET = -1,
	MANIFEST_DIRECTION_INGRESS = 0,
	MANIFEST_DIRECTION_EGRESS,
	MANIFEST_DIRECTION_MAX,
};

struct manifest_attach {
	enum manifest_hook hook;
	/* xdp, tc: the interface name; cgroup: the path as written (absolute,
	 * or relative to the cgroup2 mount); auto: NULL. */
	char *target;
	struct diag_loc loc;          /* of the hook key's value */
	enum manifest_xdp_mode xdp_mode; /* xdp only */
	enum manifest_direction direction; /* tc: required; UNSET elsewhere */
	/* cgroup: enum bpf_attach_type by libbpf's name, or -1: the program's
	 * expected attach type. */
	int attach_type;
	struct diag_loc attach_type_loc;
	bool optional; /* a target that does not exist is skipped, not an error */
	/* The link's pin relative to the root: as given, or the default
	 * NAMESPACE/links/OBJECT/PROGRAM_HOOK[_TARGET] that the parser fills in
	 * (bpf-provision.yaml(5), ATTACHMENTS).  Never NULL after parsing. */
	char *pin;
	struct diag_loc pin_loc; /* of `pin:`, else the hook's */
};

/* A key or value of a map entry as written (bpf-provision.yaml(5), MAP
 * CONTENTS): an integer (stored little-endian in the key or value size), exact
 * bytes ("0x..." strings), or a struct by field name (a mapping; needs BTF).
 * Booleans are the integers 0 and 1. */
enum manifest_value_kind {
	MANIFEST_VALUE_INT,
	MANIFEST_VALUE_BYTES,
	MANIFEST_VALUE_STRUCT,
	MANIFEST_VALUE_KIND_MAX,
};

struct manifest_field;

struct manifest_value {
	enum manifest_value_kind kind;
	uint64_t u;        /* INT: the magnitude, two's complement when negative */
	bool negative;     /* INT: written with a '-' */
	unsigned char *bytes; /* BYTES: in the order written; owned */
	size_t n_bytes;
	struct manifest_field *fields; /* STRUCT: in the order written; owned */
	size_t n_fields;
	struct diag_loc loc; /* of the scalar or mapping */
};

struct manifest_field {
	char *name;
	struct diag_loc name_loc;
	struct manifest_value value;
};

/* One item of `entries:`: a key with a value, or, in a program array, a
 * key with a program of the same object. */
struct manifest_map_entry {
	struct manifest_value key;
	struct manifest_value value; /* valid when program is NULL */
	char *program;               /* or NULL */
	struct diag_loc program_loc;
	struct diag_loc loc;         /* of the item */
};

enum manifest_seed {
	MANIFEST_SEED_CREATE = 0, /* written when the map is made (created or replaced) */
	MANIFEST_SEED_ENFORCE,    /* also rewritten wherever the pinned map differs */
	MANIFEST_SEED_MAX,
};

/* What a map holds: on 'map:' entries and standalone maps. */
struct manifest_contents {
	struct manifest_map_entry *entries;
	size_t n_entries;
	bool has_entries;    /* `entries:` was given (possibly empty) */
	struct diag_loc loc; /* of the `entries` value */
	enum manifest_seed seed;
	struct diag_loc seed_loc;
	bool exact;          /* enforce: entries not listed are deleted */
	struct diag_loc exact_loc;
};

struct manifest_entry {
	enum manifest_selector selector;
	char *value;          /* the section, map or program name */
	struct diag_loc loc;  /* of the selector value */
	enum pin_mode pinning; /* PIN_MODE_UNSET: what the ELF declares */
	struct diag_loc pinning_loc;
	char *path;           /* custom path relative to the root, or NULL */
	struct diag_loc path_loc;
	char *namespace;      /* or NULL */
	/* Programs only: enum bpf_prog_type and enum bpf_attach_type named with
	 * libbpf's (bpftool's) names, or -1 when not given (what the section
	 * name says).  Never set on a 'map:' entry. */
	int prog_type;
	struct diag_loc prog_type_loc;
	int attach_type;
	struct diag_loc attach_type_loc;
	struct manifest_attrs attrs;
	/* Entries the map holds; only on 'map:' entries. */
	struct manifest_contents contents;
	/* Hooks to attach the program to; only on 'program:' entries. */
	struct manifest_attach *attach;
	size_t n_attach;
	/* The pin path relative to the root when it is known without the ELF
	 * (explicit pinning, and the name is the selector's); NULL otherwise,
	 * also for pinning none and for object pins of an object_dir: sha1
	 * object (the directory is the object file's digest). */
	char *pin_path;
};

struct manifest_object {
	char *file;      /* as written */
	char *file_path; /* resolved against the manifest's directory */
	char *name;      /* given, or the file name up to its first dot */
	char *namespace; /* or NULL */
	/* libbpf's pin_root_path, relative to the root: global pins at
	 * PIN_ROOT/NAME instead of NAMESPACE/globals/NAME.  NULL when not
	 * given; "" for "/", the root itself (pins at NAME). */
	char *pin_root;
	/* object_dir: sha1 - object pins at NAMESPACE/SHA1/NAME, SHA1 the 40 hex
	 * digits of the object file's SHA-1, as tc names the directory. */
	bool object_dir_sha1;
	struct diag_loc loc; /* of the object's mapping */
	struct diag_loc file_loc; /* of the `file` value: where errors about the ELF point */
	struct manifest_entry *entries;
	size_t n_entries;
};

/* A map declared by the manifest alone, no ELF object (top-level `maps:`). */
struct manifest_map {
	char *path;            /* its pin, relative to the root */
	struct diag_loc loc;   /* of the path value */
	char *name;            /* the kernel object's name: `name:`, else the path's last
				* component cut to 15 bytes */
	uint32_t type;         /* enum bpf_map_type, by bpftool's name */
	struct diag_loc type_loc;
	uint32_t key_size, value_size, max_entries;
	uint32_t flags;        /* BPF_F_* by bpftool's names (no_prealloc, rdonly_prog, ...) */
	struct diag_loc flags_loc;
	struct manifest_attrs attrs; /* merged over the manifest's defaults */
	struct manifest_contents contents;
};

struct manifest_pin_id {
	uint32_t id;
	char *subdir;
	struct diag_loc loc;
};

struct manifest {
	/* Path as given on the command line; locations point at it.  NULL for
	 * a retired manifest (manifest_set_add_retired). */
	char *file;
	char *name;      /* given, or the file name without ".yaml" */
	char *bpffs;     /* absolute root, or NULL when not given */
	char *namespace; /* or NULL */
	bool prune;
	char **owned;    /* directories relative to the root */
	size_t n_owned;
	struct manifest_attrs defaults;
	struct manifest_pin_id *pin_ids;
	size_t n_pin_ids;
	struct manifest_object *objects;
	size_t n_objects;
	struct manifest_map *maps; /* standalone maps */
	size_t n_maps;
	/* Known by name alone, from the ledger: its file is gone, and what it
	 * made is to be removed (destroy --name, apply --prune-retired). */
	bool retired;
};

/* Parses one manifest from a file, or from memory (name is then used as the
 * file name in locations and for the default manifest name).  Returns 0 and a
 * new manifest in *ret (free with manifest_free()), or a negative errno with
 * every problem recorded in d and *ret untouched: -EINVAL for an invalid
 * manifest, -ENOENT/-EACCES/... when the file cannot be read, -ENOMEM. */
int manifest_parse_file(const char *path, struct diag *d, struct manifest **ret);
int manifest_parse_buffer(const char *name, const void *buf, size_t len, struct diag *d,
			  struct manifest **ret);
void manifest_free(struct manifest *m);

/* A manifest left out of a set (apply --keep-going): invalid, or in
 * conflict with another.  Nothing it declares is planned, and nothing it
 * made is pruned: its name is not retired. */
struct manifest_left_out {
	char *file; /* as read */
	char *name; /* its own name where it got that far, else its file name's */
};

/* Manifests reconciled together. */
struct manifest_set {
	struct manifest **items;
	size_t n;
	bool has_dir; /* a directory was among the arguments: it is all of its manifests */
	struct manifest_left_out *left_out;
	size_t n_left_out;
};

/* Loads every argument, all of them even after errors, then checks that
 * no two manifests share a name (pin paths are checked in desired.h).  A
 * file argument is read as it is.  The directory arguments are one overlay,
 * as tmpfiles.d: the *.yaml and *.yml files of all of them by name, a name
 * in a later directory replacing the same name in an earlier one, a
 * symlink to /dev/null masking it; the result is read in name order, where
 * the first directory stands among the arguments.  A directory with no
 * such file is a warning.  Returns 0, or -EINVAL/-ENOENT/... with the
 * problems in d; the manifests that did parse stay in set either way.
 * manifest_set_done() releases the contents. */
int manifest_set_load(struct manifest_set *set, char *const *args, size_t n_args, struct diag *d);

enum {
	/* A manifest that cannot be read or parsed, and every manifest of a
	 * name that two share, is left out (set->left_out) with its errors in
	 * d, not failed: only an argument that cannot be read is. */
	MANIFEST_SET_KEEP_GOING = 1 << 0,
	/* The arguments are the system's overlay: a directory that does not
	 * exist is skipped, and only an overlay without any manifest is a
	 * warning. */
	MANIFEST_SET_SYSTEM = 1 << 1,
};

/* manifest_set_load() with MANIFEST_SET_* flags. */
int manifest_set_load_flags(struct manifest_set *set, char *const *args, size_t n_args,
			    unsigned flags, struct diag *d);

/* Moves the manifest items[i] out of the set into set->left_out.  Returns 0
 * or -ENOMEM (the manifest stays in then). */
int manifest_set_leave_out(struct manifest_set *set, size_t i);

/* Whether a manifest of this name was left out of the set. */
bool manifest_set_left_out(const struct manifest_set *set, const char *name);

void manifest_set_done(struct manifest_set *set);

/* Adds to the set a retired manifest: only a name, which prunes (all it
 * declares is nothing).  Returns 0 or -ENOMEM. */
int manifest_set_add_retired(struct manifest_set *set, const char *name);

/* The manifest of the set with this name, or NULL. */
const struct manifest *manifest_set_find(const struct manifest_set *set, const char *name);

/* Checks a path relative to the root as bpffs takes it: not absolute, no
 * empty component, no "." (bpffs refuses dots in names, so also no ".."),
 * no control characters, components of at most 255 bytes; and as
 * bpf-provision takes it: at most MODEL_MAX_DEPTH components (the scanner
 * reads no deeper), no first component "xdp" or "ip" (symlinks tc makes),
 * no component starting with PLAN_TEMP_PREFIX.  Returns 0, or
 * -EINVAL with a static reason in *why. */
int manifest_check_path(const char *path, const char **why);

/* The pin path of bpf-provision.yaml(5), PINNING MODES, relative to the root, in a new string:
 * none -> -ENOENT (not pinned); global -> NS/globals/NAME, or with pin_root
 * PIN_ROOT/NAME (NAME when pin_root is "", and ns is not needed);
 * object -> NS/OBJECT/NAME, OBJECT the object's directory name (its name, or
 * the hex SHA-1 of its file for object_dir: sha1); custom -> custom_path.
 * pin_root NULL: not given.  -EINVAL when ns (global without pin_root,
 * object), object, name or custom_path (custom) is missing; -ENOMEM. */
int manifest_pin_path(enum pin_mode mode, const char *ns, const char *object, const char *name,
		      const char *custom_path, const char *pin_root, char **ret);

/* What an object file says of one of its maps or programs. */
struct manifest_elf_pin {
	const char *kind;      /* "map" or "program", for messages */
	const char *name;
	enum pin_mode pinning; /* the ELF's own; PIN_MODE_NONE for programs */
	const char *namespace; /* or NULL */
	uint32_t pin_id;       /* iproute2's custom pinning id; 0 if none */
	const char *sha1;      /* of the object file: the directory of object_dir: sha1 */
};

/* The pin path (bpf-provision.yaml(5), PINNING MODES) of a map or program of object o of m,
 * selected by entry e (NULL: none, the ELF's pinning applies): the one place
 * that decides pinning mode, namespace (entry, object, ELF, manifest), object
 * directory and custom path (the entry's, or pin_ids' directory and the
 * name), then calls manifest_pin_path().  With elf (the object was read):
 * returns 0 with a new string in *ret, or NULL there when the pin is not
 * pinned; -EINVAL with the reason in d; -ENOMEM.  Without (elf NULL), only
 * what the manifest alone fixes: a pin needing the ELF's name, namespace
 * (which outranks the manifest's) or digest gets NULL; nothing is reported.
 * The path is not checked (manifest_check_path). */
int manifest_resolve_pin(const struct manifest *m, const struct manifest_object *o,
			 const struct manifest_entry *e, const struct manifest_elf_pin *elf,
			 struct diag *d, char **ret);

const char *manifest_selector_str(enum manifest_selector s);
/* The name a standalone map's `flags:` gives the map flag bit (one BPF_F_*
 * bit: "no_prealloc", "rdonly_prog", ...); NULL for a bit it has no name for. */
const char *manifest_map_flag_str(uint32_t bit);
/* "xdp", "tc", "cgroup", "auto"; "native", "generic", "auto";
 * "ingress", "egress".  NULL when out of range. */
const char *manifest_hook_str(enum manifest_hook h);
/* "create", "enforce"; NULL when out of range. */
const char *manifest_seed_str(enum manifest_seed s);
const char *manifest_xdp_mode_str(enum manifest_xdp_mode m);
const char *manifest_direction_str(enum manifest_direction d);

#endif
