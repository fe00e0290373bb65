// SPDX-License-Identifier: MIT
/* Diagnostics: collects located messages so a run can report every error in
 * one go.  Out of memory while recording a message is reported as a bare
 * error count, never as a crash. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "array.h"
#include "cleanup.h"
#include "diag.h"
#include "escape.h"

static void diag_add(struct diag *d, enum diag_severity sev, const struct diag_loc *loc,
		     const char *fmt, va_list ap)
{
	struct diag_msg *m;
	char *text = NULL;

	if (sev == DIAG_ERROR)
		d->n_errors++;
	if (d->n_msgs >= DIAG_MAX_MSGS)
		return;
	if (vasprintf(&text, fmt, ap) < 0)
		return;
	if (array_reserve(&d->msgs, d->n_msgs, sizeof(*d->msgs)) < 0) {
		free(text);
		return;
	}
	m = &d->msgs[d->n_msgs++];
	*m = (struct diag_msg){ .severity = sev, .text = text };
	if (loc) {
		m->file = loc->file ? strdup(loc->file) : NULL;
		m->line = loc->line;
		m->column = loc->column;
	}
}

int diag_error(struct diag *d, const struct diag_loc *loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(d, DIAG_ERROR, loc, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void diag_warning(struct diag *d, const struct diag_loc *loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(d, DIAG_WARNING, loc, fmt, ap);
	va_end(ap);
}

const char *diag_strerror(int err, char buf[static DIAG_STRERROR_MAX])
{
	struct rlimit rl;

	if (err == EMFILE && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		snprintf(buf, DIAG_STRERROR_MAX,
			 "too many open files (ulimit -n %llu): raise the limit",
			 (unsigned long long)rl.rlim_cur);
		return buf;
	}
	/* The whole system's table is full, not this process's share. */
	if (err == ENFILE)
		return "too many open files in the system (sysctl fs.file-max): raise the limit";
	return strerror(err);
}

/* Messages quote names from outside (bpffs entries, ELF strings, file
 * names): escaped here, where they leave for a terminal or a log, so that
 * each prints as one line, and only here, so that each byte is escaped
 * once. */
char *diag_msg_format(const struct diag_msg *m)
{
	const char *sev = m->severity == DIAG_ERROR ? "error" : "warning";
	_cleanup_free_ char *file = m->file ? escape_text(m->file) : NULL;
	_cleanup_free_ char *text = escape_text(m->text);
	char *s = NULL;
	int r;

	if (!text || (m->file && !file))
		return NULL;
	if (file && m->line)
		r = asprintf(&s, "%s:%u:%u: %s: %s", file, m->line, m->column, sev, text);
	else if (file)
		r = asprintf(&s, "%s: %s: %s", file, sev, text);
	else
		r = asprintf(&s, "bpf-provision: %s: %s", sev, text);
	return r < 0 ? NULL : s;
}

int diag_move(struct diag *d, struct diag *from, const struct diag_loc *loc, const char *prefix)
{
	int r = 0;

	for (size_t i = 0; i < from->n_msgs; i++) {
		const struct diag_msg *m = &from->msgs[i];
		const struct diag_loc own = { m->file, m->line, m->column };

		if (m->severity == DIAG_ERROR)
			r = diag_error(d, loc ? loc : &own, "%s%s", prefix, m->text);
		else
			diag_warning(d, loc ? loc : &own, "%s%s", prefix, m->text);
	}
	/* Errors past DIAG_MAX_MSGS were counted, not kept: still counted. */
	for (size_t i = 0; i < from->n_msgs; i++)
		if (from->msgs[i].severity == DIAG_ERROR && from->n_errors > 0)
			from->n_errors--;
	d->n_errors += from->n_errors;
	if (from->n_errors)
		r = -EINVAL;
	diag_done(from);
	return r;
}

void diag_done(struct diag *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_msgs; i++) {
		free(d->msgs[i].file);
		free(d->msgs[i].text);
	}
	free(d->msgs);
	*d = (struct diag){ 0 };
}

/* Case does not count: "XDP" is a typo of "xdp" as "xpd" is. */
static bool same_letter(char a, char b)
{
	return tolower((unsigned char)a) == tolower((unsigned char)b);
}

unsigned diag_distance(const char *a, const char *b)
{
	/* Three rows of the table: the one before the previous for swaps. */
	unsigned rows[3][DIAG_SUGGEST_MAX + 1];
	size_t la = strlen(a), lb = strlen(b);
	unsigned *prev2 = rows[0], *prev = rows[1], *cur = rows[2], *t;

	if (la > DIAG_SUGGEST_MAX || lb > DIAG_SUGGEST_MAX)
		return UINT_MAX;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned cost = !same_letter(a[i - 1], b[j - 1]);
			unsigned best = prev[j - 1] + cost;

			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && same_letter(a[i - 1], b[j - 2]) &&
			    same_letter(a[i - 2], b[j - 1]) &&
			    prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

void diag_guess_offer(struct diag_guess *g, const char *candidate)
{
	size_t la = strlen(g->word), lb = strlen(candidate);
	unsigned limit = (unsigned)((la > lb ? la : lb) / 3), d;

	if (limit == 0)
		limit = 1;
	d = diag_distance(g->word, candidate);
	if (d <= limit && (!g->best || d < g->distance)) {
		g->best = candidate;
		g->distance = d;
	}
}

const char *diag_suggest(const char *word, const char *const *candidates, size_t n)
{
	struct diag_guess g = { .word = word };

	for (size_t i = 0; i < n; i++)
		if (candidates[i])
			diag_guess_offer(&g, candidates[i]);
	return g.best;
}
