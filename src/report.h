/* SPDX-License-Identifier: MIT */
/* report: renders results for people (text) and for scripts (JSON, through
 * jansson).  Results go to the stream the caller passes, normally stdout;
 * diagnostics are not printed here. */
#ifndef BPFPROV_REPORT_H
#define BPFPROV_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "desired.h"
#include "diag.h"
#include "manifest.h"
#include "objfile.h"

/* Writes what `inspect` shows of o - path, layout, license, kernel version,
 * every map with its pinning attributes and every program with its map
 * relocations - to out, as text or, when json is true, as one JSON document
 * followed by a newline.  o is borrowed.  Returns 0, -ENOMEM, or -EIO when
 * writing to out failed. */
int report_inspect(const struct objfile *o, FILE *out, bool json);

/* Writes what `validate` found valid: per manifest its name, object count and
 * the resolved pins (path, kind, object, name).  Both borrowed.  Returns 0,
 * -ENOMEM or -EIO. */
int report_validate(const struct manifest_set *set, const struct desired *des, bool json,
		    FILE *out);

/* Writes the errors of d as the SPEC's JSON error document:
 * {"error": {message, file, line, column}, "errors": [every error]}; the
 * first error is "error", location keys only where known.  Returns 0,
 * -ENOMEM or -EIO. */
int report_errors_json(const struct diag *d, FILE *out);

#endif
