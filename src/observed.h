/* SPDX-License-Identifier: MIT */
/* observed: what the live bpffs tree under a root holds, as the kernel says -
 * every directory and pin with its kind and spec.  Never follows a symlink:
 * one found in the tree is reported as such, not entered or opened. */
#ifndef BPFPROV_OBSERVED_H
#define BPFPROV_OBSERVED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "diag.h"
#include "ledger.h"
#include "model.h"

/* An entry is a pin of one of the kinds (the same values), or else one of
 * the rest. */
enum observed_kind {
	OBSERVED_MAP = KIND_MAP,
	OBSERVED_PROGRAM = KIND_PROGRAM,
	OBSERVED_LINK = KIND_LINK,
	OBSERVED_DIR = KIND_MAX,
	OBSERVED_SYMLINK,
	OBSERVED_UNKNOWN, /* could not be opened or asked; see error */
	OBSERVED_KIND_MAX,
};

struct observed_entry {
	char *path; /* relative to the root, no leading or trailing slash */
	enum observed_kind kind;
	mode_t mode; /* permission bits only (st_mode & 07777) */
	uid_t uid;
	gid_t gid;
	ino_t ino;
	struct timespec mtime; /* bpffs: when the pin was made (ledger.h, struct ledger_map) */
	/* OBSERVED_UNKNOWN: the negative errno of the failed open or query.
	 * OBSERVED_DIR: nonzero when its contents are not listed (cannot be
	 * read; -EXDEV another mount on it; -ELOOP too deep), with a warning. */
	int error;
	uint32_t id;       /* kernel object id (maps, programs, links) */
	uint32_t type;     /* enum bpf_map_type, bpf_prog_type or bpf_link_type */
	char name[16];     /* the kernel object's name, possibly empty */
	/* Maps. */
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t map_flags;
	/* Programs. */
	uint8_t tag[8];
	uint32_t *map_ids; /* the maps the program holds (the kernel's map_ids); owned */
	uint32_t n_map_ids;
	/* Links: the program it runs (its tag in tag[] above, zero when the
	 * program cannot be read) and its hook. */
	uint32_t prog_id;
	uint32_t attach_type; /* enum bpf_attach_type, where the link type has one */
	uint32_t ifindex;     /* xdp, tcx: 0 when its interface is gone */
	uint64_t cgroup_id;   /* cgroup: 0 when its cgroup is gone */
	/* What it is attached to, for people: interface name, cgroup path
	 * (below the cgroup2 mount, with a leading '/'), tracepoint,
	 * function; NULL when unknown.  Owned. */
	char *target;
	/* The hook is gone (interface or cgroup removed): the link holds its
	 * program but runs it nowhere. */
	bool defunct;
	/* Maps of a tree read from a snapshot (snapshot.h): every entry the
	 * map held, keys sorted; NULL when it was not read (live scans never
	 * fill it: the contents stage asks the kernel).  Owned. */
	struct observed_data *data;
};

/* A map's entries as a snapshot recorded them: n keys of key_size bytes,
 * sorted (memcmp), and their values, value_bytes each (per-CPU maps: one
 * per possible CPU, as a lookup returns them). */
struct observed_data {
	uint32_t key_size;
	size_t value_bytes;
	size_t n;
	unsigned char *keys;
	unsigned char *values;
};

/* A name and the kernel's id for it: an interface and its ifindex, a
 * cgroup (its path below the cgroup2 mount, leading '/') and its id. */
struct observed_name {
	char *name;
	uint64_t id;
};

/* A program a program array held when the snapshot was taken. */
struct observed_prog {
	uint32_t id;
	uint8_t tag[8];
};

struct observed {
	char *root;
	struct observed_entry *entries; /* sorted by path (strcmp), so parents before children */
	size_t n;
	/* Read from a snapshot, not the kernel (bpf-provision(1), OFFLINE
	 * PLANS): the stages after it take what they would ask the kernel
	 * from here instead - map entries (entries' data), the programs
	 * program arrays held, the interfaces and cgroups links name. */
	bool offline;
	/* The digest the host's kernel takes program tags from: 160 (SHA-1)
	 * or 256 (SHA-256); 0 when unknown. */
	int tag_bits;
	struct observed_prog *progs; /* sorted by id */
	size_t n_progs;
	struct observed_name *ifaces;
	size_t n_ifaces;
	char *cgroup2; /* the cgroup2 mount; NULL: none */
	struct observed_name *cgroups;
	size_t n_cgroups;
};

/* Walks the tree under root (which must be a directory; it is not itself an
 * entry).  Each pin is opened (BPF_OBJ_GET) and asked for its info; a pin
 * that cannot be opened is listed as OBSERVED_UNKNOWN with its error and a
 * warning in d, not a failure.  A map pin that known (the root's ledger;
 * may be NULL) records with the inode and mtime it still has is the map
 * recorded (ledger_knows_map()): its id and info are taken from the record,
 * and it is not opened.  Returns 0 and fills *ret (release with
 * observed_done()), or a negative errno with the reason in d when the root
 * cannot be read (-ENOENT, -ENOTDIR, -EACCES, ...) or on -ENOMEM. */
int observed_scan(const char *root, const struct ledger *known, struct diag *d,
		  struct observed *ret);

/* observed_scan() in its two halves, so that the ledger can be read while
 * the tree is walked: the walk lists every entry with what lstat says of
 * it, pins as OBSERVED_UNKNOWN with no error; the query then asks about
 * each such pin, or takes it from known (many pins to open are shared with
 * a second thread; the warnings keep the tree's order).  Each returns as
 * observed_scan() does; after a failed query, *o is still the caller's to
 * release. */
int observed_walk(const char *root, struct diag *d, struct observed *ret);
int observed_query(struct observed *o, const struct ledger *known, struct diag *d);

/* The entry at path (relative to the root), or NULL.  O(log n). */
const struct observed_entry *observed_find(const struct observed *o, const char *path);

void observed_done(struct observed *o);

/* Offline trees: the tag of the program with this id that a program array
 * held (NULL: not recorded); the id of a name in a list (false: absent). */
const uint8_t *observed_prog_tag(const struct observed *o, uint32_t id);
bool observed_name_id(const struct observed_name *names, size_t n, const char *name,
		      uint64_t *ret);

/* True for the kernel's own maps.debug/progs.debug of a fresh mount when they
 * cannot be opened as pins (the preload iterators): shown, never judged. */
bool observed_is_kernel_file(const struct observed_entry *e);

/* Whether the entry is a pin of one of the kinds. */
bool observed_is_pin(const struct observed_entry *e);

/* "dir", "map", "program", "link", "symlink", "unknown". */
const char *observed_kind_str(enum observed_kind k);

#endif
