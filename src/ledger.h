/* SPDX-License-Identifier: MIT */
/* ledger: which pins (and directories) each manifest's applies created, so
 * that prune removes only what the tool made.  It lives in a file under the
 * runtime directory (/run/bpf-provision, or $BPF_PROVISION_RUNTIME_DIR), one
 * per bpffs root.  /run empties at boot, as a bpffs mount does; a record also
 * keeps the pin's inode and kernel object id and counts only while both still
 * match, so a ledger that outlived its mount claims nothing. */
#ifndef BPFPROV_LEDGER_H
#define BPFPROV_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "diag.h"

/* A program a recorded pin runs or holds, and the tag the kernel gave it:
 * what lets a plan made offline (bpf-provision(1), OFFLINE PLANS) know a
 * program's identity without loading it. */
struct ledger_prog {
	char *name;     /* the program's name in its object (objfile_prog.name) */
	uint8_t tag[8];
};

/* What a map pin was when recorded: its inode's mtime (bpffs sets it when
 * the pin is made; rename, chmod and chown leave it, only utimensat moves
 * it) and the kernel's map info.  A pin whose inode and mtime still match
 * is the same pin, holding the same map: a scan takes the rest from here
 * instead of opening it (observed_scan()).  In the file: "seen": [mtime
 * in nanoseconds, type, key_size, value_size, max_entries, map_flags,
 * name]. */
struct ledger_map {
	struct timespec mtime;
	uint32_t type, key_size, value_size, max_entries, map_flags;
	char name[16];
};

struct ledger_entry {
	char *path;     /* relative to the root */
	char *manifest; /* manifest name */
	uint64_t ino;   /* inode at pin or mkdir time; 0 for a directory not made yet */
	uint32_t id;    /* pins: kernel object id */
	bool is_dir;    /* a directory the tool created */
	/* A pin found in place and declared, that the tool did not make: it
	 * is released, never unpinned, once no longer declared (but in an
	 * owned directory). */
	bool adopted;
	/* Map pins: what the map was (map); not in records of other kinds or
	 * of older versions. */
	bool has_map;
	/* Directories recorded before they were made (0 inode): the run that
	 * was to make them.  Such a record counts only while that run is
	 * recorded as interrupted (struct ledger's runs). */
	char *run;
	/* Pins made from an ELF object: the hex SHA-1 of its bytes, and the
	 * programs the pin is (program), runs (link) or holds (program array)
	 * with their tags; NULL and none otherwise, and in records of older
	 * versions. */
	char *object;
	struct ledger_prog *progs;
	size_t n_progs;
	struct ledger_map map;
};

struct ledger {
	char *file; /* where it is stored */
	char *legacy_file; /* read from an older version's name; removed on save */
	struct ledger_entry *entries; /* sorted by path */
	size_t n;
	/* Runs that started an apply and did not finish it (their intent was
	 * saved): each run's token names its temporary pins and trash, so
	 * that only those are ever removed as leftovers. */
	char **runs;
	size_t n_runs;
};

/* The ledger file of a root: DIR/ledger-MAJOR_MINOR-INODE.json, after the
 * root's bpffs device and directory inode (the root's spelling for a root
 * that does not exist).  New string in *ret. */
int ledger_path(const char *root, char **ret);

/* Reads the ledger of root; a missing file is an empty ledger.  Returns 0, or
 * a negative errno with the reason in d (unreadable or corrupt file). */
int ledger_load(const char *root, struct diag *d, struct ledger *ret);

/* The ledger as its file holds it (a new jansson reference, NULL on
 * -ENOMEM), and back: a snapshot (snapshot.h) carries it.  ledger_from_json
 * fills l's records and runs (not its file names); returns 0, -EINVAL for a
 * document that is no ledger, or -ENOMEM; l is the caller's to release
 * either way. */
struct json_t;
struct json_t *ledger_to_json(const struct ledger *l);
int ledger_from_json(struct json_t *doc, struct ledger *l);

/* Writes l atomically (atomicfile.h), mode 0600.  Returns 0 or a negative
 * errno with the reason in d. */
int ledger_save(const struct ledger *l, struct diag *d);

/* The record for path, or NULL.  O(log n). */
const struct ledger_entry *ledger_find(const struct ledger *l, const char *path);

/* Whether e (may be NULL) is a live record of a pin: a pin's, not a
 * directory's, made at this inode with this kernel object id.  A pin
 * replaced by someone else since has another, and is not the tool's. */
bool ledger_claims(const struct ledger_entry *e, uint64_t ino, uint32_t id);

/* Whether e (may be NULL) records a map pin that a pin of this inode and
 * mtime still is. */
bool ledger_knows_map(const struct ledger_entry *e, uint64_t ino, const struct timespec *mtime);

/* Whether e, a record of l, is a live record of the directory of inode ino:
 * made at that inode, or recorded before it was made (no inode) by a run
 * that l still records as interrupted. */
bool ledger_claims_dir(const struct ledger *l, const struct ledger_entry *e, uint64_t ino);

/* The tag e (may be NULL) records for program name of the object whose
 * hex SHA-1 is object, or NULL when it records none (another object,
 * another program, a record of an older version). */
const uint8_t *ledger_prog_tag(const struct ledger_entry *e, const char *object, const char *name);

/* Adds or replaces the record of e->path (strings copied); keeps the order. */
int ledger_put(struct ledger *l, const struct ledger_entry *e);
/* The same for n records at once (distinct paths): replaced where recorded,
 * the rest sorted among themselves and merged in (ledger_puts_*). */
int ledger_put_many(struct ledger *l, const struct ledger_entry *e, size_t n);
/* ledger_put_many() for records made one at a time: ledger_puts_begin()
 * makes room for n, ledger_puts_add() puts each (a copy; -ENOBUFS past n
 * new paths), ledger_puts_end() sorts them in.  Until the end, ledger_find()
 * finds the records from before (replaced ones with their new content),
 * not those added. */
struct ledger_puts {
	struct ledger *l;
	size_t room, added;
};
int ledger_puts_begin(struct ledger *l, size_t n, struct ledger_puts *ret);
int ledger_puts_add(struct ledger_puts *p, const struct ledger_entry *e);
void ledger_puts_end(struct ledger_puts *p);

/* A deep copy of from into to (which it initializes). */
int ledger_copy(const struct ledger *from, struct ledger *to);
/* Removes the record of path if any. */
void ledger_remove(struct ledger *l, const char *path);

/* What path is among the names recorded runs make: a pin under a temporary
 * name ("bpfprov_tmp_" TOKEN "_" SEQ, in any directory), a run's trash
 * directory ("bpfprov_tmp_trash_" TOKEN at the root), or what lies in one;
 * LEDGER_TEMP_NONE for anything else, names that only look like these (no
 * sequence number, a token no recorded run has) included. */
enum ledger_temp {
	LEDGER_TEMP_NONE,
	LEDGER_TEMP_PIN,
	LEDGER_TEMP_TRASH,
	LEDGER_TEMP_IN_TRASH,
};
enum ledger_temp ledger_temp_of(const struct ledger *l, const char *path);

/* Whether a run with this token (len bytes of it) is recorded. */
bool ledger_has_run(const struct ledger *l, const char *token, size_t len);
/* Records a run's token; ledger_clear_runs() forgets every run. */
int ledger_add_run(struct ledger *l, const char *token);
void ledger_clear_runs(struct ledger *l);

void ledger_done(struct ledger *l);

/* Serializes runs on one bpffs mount, every root in it included: an
 * exclusive flock on DIR/ledger-MAJOR_MINOR.lock (never through a symlink), waiting
 * up to timeout seconds.  Returns 0 with the lock's fd in
 * *ret_fd (closing it releases the lock), or -ETIMEDOUT/... with the reason
 * in d. */
int ledger_lock(const char *root, double timeout, struct diag *d, int *ret_fd);

#endif
