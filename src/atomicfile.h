/* SPDX-License-Identifier: MIT */
/* atomicfile: files the tool writes for others to read (the ledger, the
 * metrics) replaced whole, so that a reader or a crash finds the old content
 * or the new one, never a part.  (Not "atomic_": C11 reserves that prefix
 * for <stdatomic.h>.) */
#ifndef BPFPROV_ATOMICFILE_H
#define BPFPROV_ATOMICFILE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Replaces file with the len bytes of buf: writes them to a new temporary
 * file beside it (FILE.XXXXXX), gives it the permission bits mode, syncs it
 * and renames it over file.  Returns 0, or a negative errno with the
 * temporary file removed; reports nothing, so that each caller says what
 * could not be written. */
int atomicfile_write(const char *file, const void *buf, size_t len, mode_t mode);

/* The same for a content fill() writes to f, bit by bit, so that it is
 * never held whole; fill returns 0 or a negative errno, which is returned. */
int atomicfile_write_with(const char *file, mode_t mode, int (*fill)(FILE *f, void *ctx),
			  void *ctx);

#endif
