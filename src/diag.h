/* SPDX-License-Identifier: MIT */
/* Diagnostics with a source location.  Every stage reports into a struct diag
 * so that validation can collect all errors of a run before failing; main.c
 * prints them once, as text or JSON. */
#ifndef BPFPROV_DIAG_H
#define BPFPROV_DIAG_H

#include <limits.h>
#include <stddef.h>

/* A place in an input file.  line and column are 1-based; 0 means unknown
 * (an ELF object, a whole file).  file is borrowed, not owned. */
struct diag_loc {
	const char *file;
	unsigned line;
	unsigned column;
};

enum diag_severity {
	DIAG_ERROR,
	DIAG_WARNING,
};

/* file and text are as given, not escaped: they may quote names from
 * outside, so whatever prints them escapes them (diag_msg_format,
 * report_errors_json). */
struct diag_msg {
	enum diag_severity severity;
	char *file; /* owned copy; NULL when the message has no file */
	unsigned line;
	unsigned column;
	char *text;
};

/* Messages kept; errors past this are counted in n_errors but not stored. */
#define DIAG_MAX_MSGS 1000

struct diag {
	struct diag_msg *msgs;
	size_t n_msgs;
	size_t n_errors;
};

/* Records an error at loc (may be NULL).  Returns -EINVAL so that callers can
 * report and fail in one statement: return diag_error(d, loc, "..."). */
int diag_error(struct diag *d, const struct diag_loc *loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void diag_warning(struct diag *d, const struct diag_loc *loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* strerror(err) for a positive errno, except where it would leave the
 * reader guessing: running out of file descriptors (EMFILE, ENFILE) says
 * which limit and what to do, "too many open files (ulimit -n 1024): raise
 * the limit".  The text is in buf when it is not strerror's;
 * DIAG_STRERROR(err) gives a buffer that lasts to the end of the
 * enclosing block. */
#define DIAG_STRERROR_MAX 96
const char *diag_strerror(int err, char buf[static DIAG_STRERROR_MAX]);
#define DIAG_STRERROR(err) diag_strerror((err), (char[DIAG_STRERROR_MAX]){ 0 })

/* Formats one message as "FILE:LINE:COLUMN: error: TEXT" (the parts that are
 * known; "bpf-provision: error: TEXT" without a file), FILE and TEXT escaped
 * (escape.h), into a malloc'ed string; NULL on allocation failure. */
char *diag_msg_format(const struct diag_msg *m);

/* Suggestions for a mistyped word ("did you mean 'apply'?").  The distance
 * is Damerau-Levenshtein's (optimal string alignment: an insertion, a
 * deletion, a substitution or a swap of two neighbours costs 1), letters
 * compared without case (a word in the wrong case is a typo too).  A
 * candidate is close enough when the distance is at most a third of the
 * longer word, and at least 1: "aply" -> "apply", "globl" -> "global",
 * never "ab" -> "tc".  Words longer than DIAG_SUGGEST_MAX bytes get no
 * suggestion (no name any caller offers is that long). */
#define DIAG_SUGGEST_MAX 64

/* The distance of a and b, or UINT_MAX when either is longer than
 * DIAG_SUGGEST_MAX. */
unsigned diag_distance(const char *a, const char *b);

/* Candidates offered one at a time (names from a table or an iterator):
 * best is the closest close-enough one so far, the first of equals; NULL
 * while none is.  Start with (struct diag_guess){ .word = w }. */
struct diag_guess {
	const char *word;
	const char *best; /* borrowed from the candidates */
	unsigned distance;
};
void diag_guess_offer(struct diag_guess *g, const char *candidate);

/* The closest close-enough of candidates[0..n) to word (NULL entries are
 * skipped), or NULL. */
const char *diag_suggest(const char *word, const char *const *candidates, size_t n);

/* Moves every message of from into d, each at loc (the place in a manifest
 * that named what from is about; NULL: each at its own place) with prefix
 * before its text, and empties from.  Returns -EINVAL when from held an error, else 0. */
int diag_move(struct diag *d, struct diag *from, const struct diag_loc *loc, const char *prefix);

/* Releases the messages, not d itself. */
void diag_done(struct diag *d);

#endif
