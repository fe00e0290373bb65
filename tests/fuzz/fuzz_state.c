/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: one input read as each document the tool reads back
 * rather than from a person - a snapshot (src/snapshot.c, `plan
 * --observed`), a saved plan (src/savedplan.c) and a ledger (src/ledger.c,
 * read record by record) - from files in a private directory.  A ledger
 * that reads must also write and read back the same records.  Built by
 * `make fuzz` (tests/fuzz/fuzz.am). */
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "ledger.h"
#include "observed.h"
#include "savedplan.h"
#include "snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The ledger of this root is read from the private runtime directory. */
#define ROOT "/fuzz/root"

static char dir[] = "/tmp/bpfprov-fuzz-state.XXXXXX";
static char *doc_file, *ledger_file;

static void write_file(const char *file, const uint8_t *data, size_t size)
{
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	while (fd >= 0 && size > 0) {
		ssize_t n = write(fd, data, size);

		if (n <= 0)
			abort();
		data += n;
		size -= (size_t)n;
	}
	if (fd < 0 || close(fd) < 0)
		abort();
}

/* The private directory goes when the fuzzer exits. */
static void cleanup(void)
{
	unlink(doc_file);
	unlink(ledger_file);
	rmdir(dir);
}

static void setup(void)
{
	if (!mkdtemp(dir) || setenv("BPF_PROVISION_RUNTIME_DIR", dir, 1) < 0 ||
	    asprintf(&doc_file, "%s/doc.json", dir) < 0 || ledger_path(ROOT, &ledger_file) < 0 ||
	    atexit(cleanup) != 0)
		abort();
}

/* What ledger_to_json() writes, ledger_from_json() reads as it was. */
static void round_trip(const struct ledger *l)
{
	json_t *doc = ledger_to_json(l);
	struct ledger back = { 0 };

	if (!doc)
		abort();
	if (ledger_from_json(doc, &back) != 0 || back.n != l->n || back.n_runs != l->n_runs)
		abort();
	/* A directory's record has no object id to keep. */
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(back.entries[i].path, l->entries[i].path) != 0 ||
		    back.entries[i].is_dir != l->entries[i].is_dir ||
		    back.entries[i].ino != l->entries[i].ino ||
		    (!l->entries[i].is_dir && back.entries[i].id != l->entries[i].id))
			abort();
	json_decref(doc);
	ledger_done(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag d = { 0 };
	struct observed obs = { 0 };
	struct ledger l = { 0 };
	struct savedplan sp = { 0 };

	if (!doc_file)
		setup();
	write_file(doc_file, data, size);
	if (snapshot_read(doc_file, &d, &obs, &l) == 0) {
		for (size_t i = 0; i < obs.n; i++)
			observed_find(&obs, obs.entries[i].path);
		round_trip(&l);
		observed_done(&obs);
		ledger_done(&l);
	}
	if (savedplan_read(doc_file, &d, &sp) == 0)
		savedplan_done(&sp);

	write_file(ledger_file, data, size);
	if (ledger_load(ROOT, &d, &l) == 0) {
		for (size_t i = 0; i < l.n; i++)
			if (ledger_find(&l, l.entries[i].path) == NULL)
				abort();
		round_trip(&l);
		ledger_done(&l);
	}

	for (size_t i = 0; i < d.n_msgs; i++)
		free(diag_msg_format(&d.msgs[i]));
	diag_done(&d);
	return 0;
}
