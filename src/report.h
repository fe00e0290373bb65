/* SPDX-License-Identifier: MIT */
/* report: renders results for people (text) and for scripts (JSON, through
 * jansson).  Results go to the stream the caller passes, normally stdout;
 * diagnostics are not printed here. */
#ifndef BPFPROV_REPORT_H
#define BPFPROV_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "apply.h"
#include "desired.h"
#include "diag.h"
#include "manifest.h"
#include "ledger.h"
#include "objfile.h"
#include "observed.h"
#include "plan.h"

/* Writes what `inspect` shows of the n objects objs - per object its path,
 * layout, license, kernel version, every map with its pinning attributes and
 * every program with its map relocations - to out: as text, one block per
 * object, or, when json is true, as one JSON document for them all
 * (schema/inspect.schema.json) followed by a newline.  All borrowed.
 * Returns 0, -ENOMEM, or -EIO when writing to out failed. */
int report_inspect(const struct objfile *const *objs, size_t n, FILE *out, bool json);

/* Writes what `validate` found valid: per manifest its name, object count and
 * the resolved pins (path, kind, object, name).  Both borrowed.  Returns 0,
 * -ENOMEM or -EIO. */
int report_validate(const struct manifest_set *set, const struct desired *des, bool json,
		    FILE *out);

/* Writes the errors of d as the JSON error document of bpf-provision(1), OUTPUT:
 * {"error": {message, file, line, column}, "errors": [every error]}; the
 * first error is "error", location keys only where known.  Returns 0,
 * -ENOMEM or -EIO. */
int report_errors_json(const struct diag *d, FILE *out);

/* How a result is written: text, text with the colours of
 * bpf-provision(1), OUTPUT (escape sequences around symbols and states,
 * never inside the columns' widths), or JSON (never coloured). */
enum report_format {
	REPORT_TEXT,
	REPORT_COLOR,
	REPORT_JSON,
};

/* How a real apply or destroy ended; report_plan() says it after the plan.
 * All borrowed. */
struct report_outcome {
	bool destroy;                    /* "Destroy ..." rather than "Apply ..." */
	const enum apply_status *status; /* each change's, as apply_run() left it */
	int error;                       /* 0, or the negative errno the run failed with */
	const struct diag_msg *reason;   /* the error that stopped the run, or NULL */
	size_t not_undone;               /* after a failure: steps the rollback could not undo */
};

/* Writes a plan: text lines "SYMBOL KIND PATH ACTION (DETAIL)" and the
 * summary line, or the JSON document of schema/plan.schema.json, with the
 * steps.  outcome is NULL for a dry run; after a real run the text goes on
 * with the changes not done and the "Apply complete: ..." or "Apply failed,
 * ..." line, and the JSON document has each change's status and the
 * outcome.  Returns 0, -ENOMEM or -EIO. */
int report_plan(const struct plan *p, const char *root, const struct report_outcome *outcome,
		enum report_format fmt, FILE *out);

/* The JSON document report_plan() writes, as a new reference (json_decref
 * it), or NULL on -ENOMEM.  Saved plans (savedplan.h) carry it. */
struct json_t *report_plan_json(const struct plan *p, const char *root, bool dry_run,
				const enum apply_status *status);

/* Writes one line of text (without its newline) saying what step i of p
 * does: "mkdir ns1/progs (manifest site, mode 0700)".  Returns 0 or -EIO. */
int report_step(const struct plan *p, size_t i, FILE *out);

/* Writes `status`: one row per pin under the root (path, kind, type, id, the
 * manifest that manages it, in sync or why not), then one per declared pin
 * that is missing.  Text columns are as wide as their widest entry; text
 * says "-" and "unmanaged" where JSON has null.  All borrowed.  Returns 0,
 * -ENOMEM or -EIO. */
int report_status(const struct observed *obs, const struct desired *des, const struct ledger *l,
		  const struct plan *p, const char *root, enum report_format fmt, FILE *out);

/* Why a run that writes metrics ended as it did: the `reason` label of
 * bpf_provision_last_run_success (bpf-provision(1), METRICS). */
enum report_reason {
	REPORT_REASON_OK,           /* succeeded (a plan that found drift too) */
	REPORT_REASON_INVALID,      /* invalid manifest, object, saved plan or snapshot (exit 65) */
	REPORT_REASON_BPFFS,        /* the root is no bpffs and none could be mounted */
	REPORT_REASON_LOCK,         /* another run's lock was not released in time */
	REPORT_REASON_REFUSED,      /* apply refused: an incompatible change, a stale saved plan */
	REPORT_REASON_APPLY_FAILED, /* apply failed and was rolled back */
	REPORT_REASON_USAGE,        /* the command line was refused after its options were read */
	REPORT_REASON_ERROR,        /* any other failure */
	REPORT_REASON_MAX,
};

/* What the metrics say of one run. */
struct report_run {
	const struct plan *plan; /* NULL when the run failed before it had a plan */
	const char *root;        /* the root it used or would have used; "" when unknown */
	bool dry_run;
	enum report_reason reason;
	double duration;         /* seconds from the start of the run to its end */
};

/* Writes what run says to file in the Prometheus text format
 * (node_exporter's textfile collector), atomically: a temporary file beside
 * it, then rename.  Every series has the bpffs label.  Returns 0 or a
 * negative errno with the reason in d. */
int report_metrics(const struct report_run *run, const char *file, struct diag *d);

#endif
