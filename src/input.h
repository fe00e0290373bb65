/* SPDX-License-Identifier: MIT */
/* input: opening the files the tool reads (manifests and ELF objects).
 * Only regular files are read.  A FIFO would block open() until a writer
 * came, a boot hang, and opening a device can act on it (a watchdog
 * starts, a tape rewinds); neither is ever opened. */
#ifndef BPFPROV_INPUT_H
#define BPFPROV_INPUT_H

#include <stddef.h>
#include <sys/stat.h>

#include "diag.h"

/* Opens path for reading if it is a regular file.  The type is checked
 * before the open, and again on the open file in case it was swapped in
 * between (the open does not block even then).  Returns the fd, which the
 * caller closes, and its stat in *ret_st; or a negative errno with the
 * reason recorded in d at loc: "FAILED: REASON" with -errno when it cannot
 * be stat'ed or opened, "not a regular file (a FIFO)" with -EINVAL. */
int input_open(const char *path, struct diag *d, const struct diag_loc *loc, const char *failed,
	       struct stat *ret_st);

/* Reads fd to its end into a new buffer, which holds a NUL after the data
 * (so an empty file gets a real allocation too), starting at size_hint
 * bytes (the stat size).  Returns 0 with the buffer in *ret_buf (the
 * caller frees it) and the data's length in *ret_len; -EFBIG when there are
 * more than max bytes; or the read's -errno.  Nothing is reported. */
int input_read(int fd, size_t size_hint, size_t max, char **ret_buf, size_t *ret_len);

#endif
