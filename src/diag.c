// SPDX-License-Identifier: MIT
/* Diagnostics: collects located messages so a run can report every error in
 * one go.  Out of memory while recording a message is reported as a bare
 * error count, never as a crash. */
#include <errno.h>
#include <stdarg.h>
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
		r = asprintf(&s, "%s: %s", sev, text);
	return r < 0 ? NULL : s;
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
