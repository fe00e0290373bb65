/* SPDX-License-Identifier: MIT */
/* Vocabulary shared by every stage: pinning modes, the kinds of object and
 * the policy for incompatible pins, with their manifest spellings. */
#ifndef BPFPROV_MODEL_H
#define BPFPROV_MODEL_H

enum pin_mode {
	PIN_MODE_UNSET = -1, /* not given: the ELF object's own attribute applies */
	PIN_MODE_NONE = 0,
	PIN_MODE_OBJECT,
	PIN_MODE_GLOBAL,
	PIN_MODE_CUSTOM,
	PIN_MODE_MAX,
};

/* The kinds of BPF object a pin can hold; what each means to the pipeline
 * is the table of kind.h. */
enum kind {
	KIND_MAP,
	KIND_PROGRAM,
	KIND_LINK,
	KIND_MAX,
};

enum on_incompatible {
	ON_INCOMPATIBLE_UNSET = -1,
	ON_INCOMPATIBLE_FAIL = 0,
	ON_INCOMPATIBLE_REPLACE,
	ON_INCOMPATIBLE_MIGRATE,
	ON_INCOMPATIBLE_MAX,
};

/* The most components a path below the root may have.  The scanner
 * (observed.c) lists entries this deep and enters no directory at this
 * depth; validation (manifest_check_path) refuses deeper paths, so that
 * every pin a manifest declares is one the next scan finds again. */
#define MODEL_MAX_DEPTH 64

/* Pins are first made under this name beside their final path, then renamed
 * into place; one left behind by a killed run is recognized by it.  Shared so
 * that manifests cannot declare a name that plan.c would take for one. */
#define PLAN_TEMP_PREFIX "bpfprov_tmp_"

/* Name of a value ("none", "object", ...); NULL when out of range. */
const char *pin_mode_str(enum pin_mode m);
const char *on_incompatible_str(enum on_incompatible p);

/* Value of a name; -EINVAL when the name is not one of them. */
int pin_mode_from_str(const char *s);
int on_incompatible_from_str(const char *s);

#endif
