// SPDX-License-Identifier: MIT
/* Manifest stage: YAML (libyaml's document API, so anchors and aliases come
 * resolved) into struct manifest.  Every rule of bpf-provision.yaml(5) is checked
 * here; a problem is recorded with its line and column and parsing goes on, so
 * one run lists every error.  Plain scalars are typed by the YAML 1.2 core
 * schema (0600 is the integer 600, "yes" is a string). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <yaml.h>

#include "array.h"
#include "cleanup.h"
#include "input.h"
#include "manifest.h"

/* A manifest is a page of YAML; anything this large is a mistake or an attack. */
#define MANIFEST_MAX_BYTES (16u << 20)
/* Aliases can make a small document expand exponentially when walked. */
#define MANIFEST_MAX_VISITS 1000000u
/* Levels of nested collections, the document's own included; a manifest
 * needs fewer than 10. */
#define MANIFEST_MAX_DEPTH 64
#define NAME_MAX_BYTES 255
#define PATH_MAX_BYTES 4000

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

enum scalar_kind {
	SCALAR_STR,
	SCALAR_INT,
	SCALAR_BOOL,
	SCALAR_NULL,
	SCALAR_FLOAT,
};

struct parser {
	struct diag *d;
	const char *file;
	yaml_document_t *doc;
	unsigned long visits;
	bool too_big;
	struct manifest *m;
	struct diag_loc *owned_locs; /* parallel to m->owned, for duplicate errors */
	size_t n_owned_locs;
};

/* One key a mapping accepts; fn parses the value into target. */
struct field {
	const char *key;
	void (*fn)(struct parser *p, yaml_node_t *value, const char *key, void *target);
};

static const char *const selector_names[MANIFEST_SELECT_MAX] = {
	[MANIFEST_SELECT_SECTION] = "section",
	[MANIFEST_SELECT_MAP] = "map",
	[MANIFEST_SELECT_PROGRAM] = "program",
};

const char *manifest_selector_str(enum manifest_selector s)
{
	return s >= 0 && s < MANIFEST_SELECT_MAX ? selector_names[s] : NULL;
}

/* The hook keys of an attach item, in enum manifest_hook order. */
static const char *const hook_names[MANIFEST_HOOK_MAX] = {
	[MANIFEST_HOOK_XDP] = "xdp",
	[MANIFEST_HOOK_TC] = "tc",
	[MANIFEST_HOOK_CGROUP] = "cgroup",
	[MANIFEST_HOOK_AUTO] = "auto",
};

static const char *const xdp_mode_names[MANIFEST_XDP_MODE_MAX] = {
	[MANIFEST_XDP_AUTO] = "auto",
	[MANIFEST_XDP_NATIVE] = "native",
	[MANIFEST_XDP_GENERIC] = "generic",
};

static const char *const direction_names[MANIFEST_DIRECTION_MAX] = {
	[MANIFEST_DIRECTION_INGRESS] = "ingress",
	[MANIFEST_DIRECTION_EGRESS] = "egress",
};

const char *manifest_hook_str(enum manifest_hook h)
{
	return h >= 0 && h < MANIFEST_HOOK_MAX ? hook_names[h] : NULL;
}

const char *manifest_xdp_mode_str(enum manifest_xdp_mode m)
{
	return m >= 0 && m < MANIFEST_XDP_MODE_MAX ? xdp_mode_names[m] : NULL;
}

const char *manifest_direction_str(enum manifest_direction d)
{
	return d >= 0 && d < MANIFEST_DIRECTION_MAX ? direction_names[d] : NULL;
}

static const char *const seed_names[MANIFEST_SEED_MAX] = {
	[MANIFEST_SEED_CREATE] = "create",
	[MANIFEST_SEED_ENFORCE] = "enforce",
};

const char *manifest_seed_str(enum manifest_seed s)
{
	return s >= 0 && s < MANIFEST_SEED_MAX ? seed_names[s] : NULL;
}

static struct diag_loc node_loc(const struct parser *p, const yaml_node_t *n)
{
	return (struct diag_loc){
		.file = p->file,
		.line = (unsigned)n->start_mark.line + 1,
		.column = (unsigned)n->start_mark.column + 1,
	};
}

/* User text inside a message: long values cut.  Not escaped: whatever
 * prints the message does that (diag.h), and twice would show "\\x01". */
static const char *shown(const char *s, char buf[static 80])
{
	size_t n = strnlen(s, 71);

	if (n <= 70)
		return s;
	memcpy(buf, s, 70);
	strcpy(buf + 70, "...");
	return buf;
}

#define SHOW(s) shown((s), (char[80]){ 0 })
/* The location of a node, as the pointer diag_error() takes. */
#define AT(node) ((struct diag_loc[]){ node_loc(p, (node)) })

/* "; did you mean 'global'?" when best (from diag_suggest()) is a name,
 * else "": the end of a message about an unknown name.  Names are at most
 * DIAG_SUGGEST_MAX bytes. */
static const char *did_you_mean(const char *best, char buf[static 100])
{
	if (!best)
		return "";
	snprintf(buf, 100, "; did you mean '%s'?", best);
	return buf;
}

#define DID_YOU_MEAN(best) did_you_mean((best), (char[100]){ 0 })

static yaml_node_t *get_node(struct parser *p, int id)
{
	if (p->too_big)
		return NULL;
	if (++p->visits > MANIFEST_MAX_VISITS) {
		p->too_big = true;
		diag_error(p->d, &(struct diag_loc){ .file = p->file, .line = 1, .column = 1 },
			   "manifest too complex (more than %u nodes once aliases are expanded)",
			   MANIFEST_MAX_VISITS);
		return NULL;
	}
	return yaml_document_get_node(p->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static bool match_int(const char *s, long long *ret)
{
	const char *digits = s;
	int base = 10;
	char *end;

	if (s[0] == '0' && s[1] == 'o') {
		base = 8;
		digits = s + 2;
	} else if (s[0] == '0' && s[1] == 'x') {
		base = 16;
		digits = s + 2;
	} else if (*s == '-' || *s == '+') {
		digits = s + 1;
	}
	if (!*digits)
		return false;
	for (const char *c = digits; *c; c++)
		if (!(base == 16 ? isxdigit((unsigned char)*c) : *c >= '0' && *c < '0' + base))
			return false;
	errno = 0;
	*ret = strtoll(base == 10 ? s : digits, &end, base);
	if (errno == ERANGE)
		*ret = *s == '-' ? LLONG_MIN : LLONG_MAX;
	return true;
}

static bool match_float(const char *s)
{
	static const char *const special[] = { ".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN" };
	bool digits = false;

	for (size_t i = 0; i < sizeof(special) / sizeof(*special); i++) {
		const char *t = s + (*s == '-' || *s == '+');

		if (strcmp(t, special[i]) == 0 && (i < 3 || t == s))
			return true;
	}
	if (*s == '-' || *s == '+')
		s++;
	for (; isdigit((unsigned char)*s); s++)
		digits = true;
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s); s++)
			digits = true;
	if (!digits)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	}
	return *s == '\0';
}

/* The YAML 1.2 core schema's reading of a scalar: only plain scalars are typed. */
static enum scalar_kind scalar_kind(const yaml_node_t *n, long long *ret_int)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	static const char *const bools[] = { "true", "True", "TRUE", "false", "False", "FALSE" };
	const char *s = scalar(n);
	long long v;

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return SCALAR_STR;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(*nulls); i++)
		if (strcmp(s, nulls[i]) == 0)
			return SCALAR_NULL;
	for (size_t i = 0; i < sizeof(bools) / sizeof(*bools); i++)
		if (strcmp(s, bools[i]) == 0) {
			if (ret_int)
				*ret_int = i < 3;
			return SCALAR_BOOL;
		}
	if (match_int(s, &v)) {
		if (ret_int)
			*ret_int = v;
		return SCALAR_INT;
	}
	return match_float(s) ? SCALAR_FLOAT : SCALAR_STR;
}

static bool is_kind(const yaml_node_t *n, enum scalar_kind k, long long *ret_int)
{
	return n->type == YAML_SCALAR_NODE && scalar_kind(n, ret_int) == k;
}

/* Stores a copy of a string value in *target; false (error recorded) otherwise. */
static bool take_string(struct parser *p, yaml_node_t *n, const char *key, char **target)
{
	char *s;

	if (!is_kind(n, SCALAR_STR, NULL)) {
		diag_error(p->d, AT(n), "'%s' must be a string", key);
		return false;
	}
	s = strdup(scalar(n));
	if (!s) {
		diag_error(p->d, NULL, "out of memory");
		return false;
	}
	free(*target);
	*target = s;
	return true;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* tc makes these symlinks to its own "tc" directory the first time it pins
 * (iproute2's bpf_gen_hierarchy); apply never pins through a symlink, so a
 * path through one could only fail later, or pin outside the tree it means. */
static const struct {
	const char *name;
	const char *why;
} tc_symlinks[] = {
	{ "xdp", "'xdp' is a symlink to 'tc' that tc makes in bpffs; use 'tc' instead" },
	{ "ip", "'ip' is a symlink to 'tc' that tc makes in bpffs; use 'tc' instead" },
};

/* The names bpffs takes but bpf-provision keeps for itself or for tc.  The
 * first component is checked against tc's symlinks only when the path starts
 * at the root (an object name is a directory below a namespace). */
static int check_reserved(const char *path, bool at_root, const char **why)
{
	size_t first = strcspn(path, "/");

	for (size_t i = 0; at_root && i < sizeof(tc_symlinks) / sizeof(*tc_symlinks); i++)
		if (strlen(tc_symlinks[i].name) == first &&
		    strncmp(path, tc_symlinks[i].name, first) == 0) {
			*why = tc_symlinks[i].why;
			return -EINVAL;
		}
	for (const char *c = path; c; c = strchr(c, '/')) {
		if (*c == '/')
			c++;
		if (strncmp(c, PLAN_TEMP_PREFIX, strlen(PLAN_TEMP_PREFIX)) == 0) {
			*why = "names starting with '" PLAN_TEMP_PREFIX
			       "' are reserved for bpf-provision's temporary pins";
			return -EINVAL;
		}
	}
	return 0;
}

static int check_path(const char *path, bool at_root, const char **why)
{
	size_t len = 0, components = 1;

	if (!*path) {
		*why = "empty";
		return -EINVAL;
	}
	if (path[0] == '/') {
		*why = "absolute (paths are relative to the bpffs root)";
		return -EINVAL;
	}
	if (strlen(path) > PATH_MAX_BYTES) {
		*why = "longer than 4000 bytes";
		return -EINVAL;
	}
	if (has_control(path)) {
		*why = "control character";
		return -EINVAL;
	}
	for (const char *c = path;; c++) {
		if (*c == '/' || !*c) {
			if (len == 0) {
				*why = "empty component";
				return -EINVAL;
			}
			if (len > NAME_MAX_BYTES) {
				*why = "component longer than 255 bytes";
				return -EINVAL;
			}
			if (!*c)
				break;
			len = 0;
			components++;
			continue;
		}
		len++;
	}
	if (components > MODEL_MAX_DEPTH) {
		*why = "more than " STRINGIFY(MODEL_MAX_DEPTH)
		       " components (bpf-provision reads the tree no deeper)";
		return -EINVAL;
	}
	if (strstr(path, "..")) {
		*why = "contains '..'";
		return -EINVAL;
	}
	if (strchr(path, '.')) {
		*why = "dots in names (bpffs refuses them)";
		return -EINVAL;
	}
	return check_reserved(path, at_root, why);
}

int manifest_check_path(const char *path, const char **why)
{
	return check_path(path, true, why);
}

static void take_relpath(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	char **t = target;
	const char *why;

	if (!take_string(p, n, key, t))
		return;
	if (manifest_check_path(*t, &why) < 0) {
		diag_error(p->d, AT(n), "invalid %s '%s': %s", key,
			   SHOW(*t), why);
		free(*t);
		*t = NULL;
	}
}

/* A single path component: object names become directories. */
static int check_component(const char *s, const char **why)
{
	if (strchr(s, '/')) {
		*why = "contains '/'";
		return -EINVAL;
	}
	return check_path(s, false, why);
}

static void take_object_name(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	char **t = target;
	const char *why;

	if (!take_string(p, n, key, t))
		return;
	if (check_component(*t, &why) < 0) {
		diag_error(p->d, AT(n), "invalid name '%s': %s",
			   SHOW(*t), why);
		free(*t);
		*t = NULL;
	}
}

static void take_manifest_name(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	char **t = target;
	const char *why = NULL;

	if (!take_string(p, n, key, t))
		return;
	if (!**t)
		why = "empty";
	else if (strlen(*t) > NAME_MAX_BYTES)
		why = "longer than 255 bytes";
	else if (strchr(*t, '/'))
		why = "contains '/'";
	else if (has_control(*t))
		why = "control character";
	if (why) {
		diag_error(p->d, AT(n), "invalid name '%s': %s",
			   SHOW(*t), why);
		free(*t);
		*t = NULL;
	}
}

static void take_bpffs(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	char **t = target;

	if (!take_string(p, n, key, t))
		return;
	if ((*t)[0] != '/' || has_control(*t) || strlen(*t) > PATH_MAX_BYTES) {
		diag_error(p->d, AT(n),
			   "'bpffs' must be an absolute path without control characters, got '%s'",
			   SHOW(*t));
		free(*t);
		*t = NULL;
	}
}

static void take_selector_value(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	char **t = target;

	if (!take_string(p, n, key, t))
		return;
	if (!**t || strlen(*t) > NAME_MAX_BYTES || has_control(*t)) {
		diag_error(p->d, AT(n),
			   "invalid %s '%s': must be 1 to 255 bytes without control characters",
			   key, SHOW(*t));
		free(*t);
		*t = NULL;
	}
}

static void take_file(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	char **t = target;

	if (!take_string(p, n, key, t))
		return;
	if (!**t || strlen(*t) > PATH_MAX_BYTES || has_control(*t)) {
		diag_error(p->d, AT(n),
			   "invalid file '%s': must be a non-empty path without control characters",
			   SHOW(*t));
		free(*t);
		*t = NULL;
	}
}

/* YAML 1.1 read these plain words as booleans, and so do PyYAML and many
 * editors; the 1.2 core schema (this reader's) reads them as strings. */
static bool is_yaml11_bool(const yaml_node_t *n)
{
	static const char *const words[] = { "y", "n", "yes", "no", "on", "off" };

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
		if (strcasecmp(scalar(n), words[i]) == 0)
			return true;
	return false;
}

/* ": 'yes' is not a boolean in YAML 1.2; write true or false" for a YAML
 * 1.1 boolean, else "": the end of a "must be a boolean" message. */
static const char *yaml11_hint(const yaml_node_t *n, char buf[static 80])
{
	if (!is_yaml11_bool(n))
		return "";
	snprintf(buf, 80, ": '%s' is not a boolean in YAML 1.2; write true or false", scalar(n));
	return buf;
}

#define YAML11_HINT(n) yaml11_hint((n), (char[80]){ 0 })

static void take_bool(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	long long v;

	if (!is_kind(n, SCALAR_BOOL, &v)) {
		diag_error(p->d, AT(n), "'%s' must be a boolean%s", key, YAML11_HINT(n));
		return;
	}
	*(bool *)target = v;
}

static void take_version(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	long long v;

	if (!is_kind(n, SCALAR_INT, &v)) {
		diag_error(p->d, AT(n), "'%s' must be an integer", key);
		return;
	}
	if (v != 1)
		diag_error(p->d, AT(n),
			   "unsupported version %s (this tool reads version 1)", SHOW(scalar(n)));
}

static void take_mode(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	const char *s;
	size_t len;

	if (is_kind(n, SCALAR_INT, NULL)) {
		diag_error(p->d, AT(n),
			   "invalid %s %s: must be a string such as \"0600\" (unquoted, YAML reads a "
			   "decimal number)",
			   key, SHOW(scalar(n)));
		return;
	}
	if (!is_kind(n, SCALAR_STR, NULL)) {
		diag_error(p->d, AT(n), "'%s' must be a string", key);
		return;
	}
	s = scalar(n);
	len = strlen(s);
	if (len == 4 && s[0] == '0') {
		s++;
		len--;
	}
	if (len != 3 || strspn(s, "01234567") != 3) {
		diag_error(p->d, AT(n),
			   "invalid %s '%s': expected octal permission bits such as \"0600\"", key,
			   SHOW(scalar(n)));
		return;
	}
	*(int *)target = (int)strtol(s, NULL, 8);
}

static bool valid_user_name(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 33 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	if (s[len - 1] == '$')
		len--;
	for (size_t i = 1; i < len; i++)
		if (!(isalnum((unsigned char)s[i]) || strchr("_.-", s[i])))
			return false;
	return len <= 32;
}

/* owner and group: a name, or a number (kept as its decimal text). */
static void take_owner(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	char **t = target;
	long long v;
	char *s;

	if (n->type == YAML_SCALAR_NODE && scalar_kind(n, &v) == SCALAR_INT) {
		if (v < 0 || v > 4294967294LL) {
			diag_error(p->d, AT(n),
				   "invalid %s %s: ids go from 0 to 4294967294", key,
				   SHOW(scalar(n)));
			return;
		}
		if (asprintf(&s, "%lld", v) < 0) {
			diag_error(p->d, NULL, "out of memory");
			return;
		}
		free(*t);
		*t = s;
		return;
	}
	if (!take_string(p, n, key, t))
		return;
	if (!valid_user_name(*t)) {
		diag_error(p->d, AT(n),
			   "invalid %s '%s': expected a user or group name, or a number", key,
			   SHOW(*t));
		free(*t);
		*t = NULL;
	}
}

static void take_on_incompatible(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	char *_cleanup_free_ s = NULL;
	int v;

	if (!take_string(p, n, key, &s))
		return;
	v = on_incompatible_from_str(s);
	if (v < 0) {
		struct diag_guess g = { .word = s };

		for (int i = 0; i < ON_INCOMPATIBLE_MAX; i++)
			if (on_incompatible_str(i))
				diag_guess_offer(&g, on_incompatible_str(i));
		diag_error(p->d, AT(n),
			   "invalid on_incompatible '%s'%s (expected fail, replace or migrate)",
			   SHOW(s), DID_YOU_MEAN(g.best));
		return;
	}
	*(enum on_incompatible *)target = v;
}

/* Walks a mapping: each key must be one of fields, at most once.  Returns
 * the bitmask of the fields present (fields index < 32). */
static unsigned walk_mapping(struct parser *p, yaml_node_t *n, const char *what,
			     const struct field *fields, size_t n_fields, void *target)
{
	unsigned seen = 0;

	for (yaml_node_pair_t *pair = n->data.mapping.pairs.start;
	     pair < n->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = get_node(p, pair->key), *v = get_node(p, pair->value);
		size_t i;

		if (!k || !v)
			return seen;
		if (k->type != YAML_SCALAR_NODE) {
			diag_error(p->d, AT(k),
				   "keys in %s must be scalars", what);
			continue;
		}
		for (i = 0; i < n_fields; i++)
			if (strcmp(fields[i].key, scalar(k)) == 0)
				break;
		if (i == n_fields) {
			struct diag_guess g = { .word = scalar(k) };

			for (size_t f = 0; f < n_fields; f++)
				diag_guess_offer(&g, fields[f].key);
			diag_error(p->d, AT(k), "unknown key '%s' in %s%s", SHOW(scalar(k)), what,
				   DID_YOU_MEAN(g.best));
			continue;
		}
		if (seen & (1u << i)) {
			diag_error(p->d, AT(k), "duplicate key '%s'",
				   fields[i].key);
			continue;
		}
		seen |= 1u << i;
		fields[i].fn(p, v, fields[i].key, target);
	}
	return seen;
}

static bool expect_type(struct parser *p, yaml_node_t *n, yaml_node_type_t type, const char *what)
{
	if (n->type == type)
		return true;
	diag_error(p->d, AT(n), "%s must be a %s", what,
		   type == YAML_MAPPING_NODE ? "mapping" : "sequence");
	return false;
}

/* Attribute fields, shared by `defaults` and section entries; target is a
 * struct manifest_attrs. */
#define ATTR_FIELD(name, member, fn)                                                               \
	static void attr_##name(struct parser *p, yaml_node_t *n, const char *key, void *target)   \
	{                                                                                          \
		fn(p, n, key, &((struct manifest_attrs *)target)->member);                         \
	}
ATTR_FIELD(on_incompatible, on_incompatible, take_on_incompatible)
ATTR_FIELD(mode, mode, take_mode)
ATTR_FIELD(dir_mode, dir_mode, take_mode)
ATTR_FIELD(owner, owner, take_owner)
ATTR_FIELD(group, group, take_owner)

#define ATTR_FIELDS                                                                                \
	{ "on_incompatible", attr_on_incompatible }, { "mode", attr_mode },                        \
		{ "dir_mode", attr_dir_mode }, { "owner", attr_owner }, { "group", attr_group }

static void attrs_init(struct manifest_attrs *a)
{
	*a = (struct manifest_attrs){
		.on_incompatible = ON_INCOMPATIBLE_UNSET,
		.mode = -1,
		.dir_mode = -1,
	};
}

static void attrs_done(struct manifest_attrs *a)
{
	free(a->owner);
	free(a->group);
}

static void take_defaults(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	static const struct field fields[] = { ATTR_FIELDS };

	if (expect_type(p, n, YAML_MAPPING_NODE, "'defaults'"))
		walk_mapping(p, n, "defaults", fields, sizeof(fields) / sizeof(*fields), target);
}

/* Section entries: the selector and pinning fields write into the entry, the
 * attribute fields into its attrs. */
#define ENTRY_FIELD(name, member, fn)                                                              \
	static void entry_##name(struct parser *p, yaml_node_t *n, const char *key, void *target)  \
	{                                                                                          \
		fn(p, n, key, &((struct manifest_entry *)target)->member);                         \
	}
ENTRY_FIELD(value, value, take_selector_value)
ENTRY_FIELD(namespace, namespace, take_relpath)
#define ENTRY_ATTR(name, fn)                                                                       \
	static void entry_##name(struct parser *p, yaml_node_t *n, const char *key, void *target)  \
	{                                                                                          \
		fn(p, n, key, &((struct manifest_entry *)target)->attrs);                          \
	}
ENTRY_ATTR(on_incompatible, attr_on_incompatible)
ENTRY_ATTR(mode, attr_mode)
ENTRY_ATTR(dir_mode, attr_dir_mode)
ENTRY_ATTR(owner, attr_owner)
ENTRY_ATTR(group, attr_group)

static void entry_pinning(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	struct manifest_entry *e = target;
	char *_cleanup_free_ s = NULL;
	int v;

	if (!take_string(p, n, key, &s))
		return;
	v = pin_mode_from_str(s);
	if (v < 0) {
		struct diag_guess g = { .word = s };

		for (int i = 0; i < PIN_MODE_MAX; i++)
			if (pin_mode_str(i))
				diag_guess_offer(&g, pin_mode_str(i));
		diag_error(p->d, AT(n),
			   "invalid pinning '%s'%s (expected none, object, global or custom)", SHOW(s),
			   DID_YOU_MEAN(g.best));
		return;
	}
	e->pinning = v;
	e->pinning_loc = node_loc(p, n);
}

/* Program and attach types are named as libbpf names them (bpftool prints
 * the same names), from the table of the libbpf we are linked with, so a
 * newer libbpf brings its new types without a change here. */
struct type_names {
	const char *what;
	int first;
	const char *(*str)(int v);
};

static const char *prog_type_str(int v)
{
	return libbpf_bpf_prog_type_str((enum bpf_prog_type)v);
}

static const char *attach_type_str(int v)
{
	return libbpf_bpf_attach_type_str((enum bpf_attach_type)v);
}

/* BPF_PROG_TYPE_UNSPEC is no type a program can be loaded as. */
static const struct type_names prog_types = { "program type", BPF_PROG_TYPE_UNSPEC + 1,
						prog_type_str };
static const struct type_names attach_types = { "attach type", 0, attach_type_str };

/* "a, b, c": every name, for the error that says which are accepted. */
static char *type_names_list(const struct type_names *names)
{
	char *buf = NULL;
	size_t len = 0;
	const char *s;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (int v = names->first; (s = names->str(v)); v++)
		fprintf(f, "%s%s", v > names->first ? ", " : "", s);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void take_type_name(struct parser *p, yaml_node_t *n, const char *key,
			     const struct type_names *names, int *target, struct diag_loc *loc)
{
	char *_cleanup_free_ s = NULL;
	char *_cleanup_free_ list = NULL;
	const char *name;
	struct diag_guess g;

	*loc = node_loc(p, n);
	if (!take_string(p, n, key, &s))
		return;
	g = (struct diag_guess){ .word = s };
	for (int v = names->first; (name = names->str(v)); v++) {
		if (strcmp(name, s) == 0) {
			*target = v;
			return;
		}
		diag_guess_offer(&g, name);
	}
	list = type_names_list(names);
	if (!list) {
		diag_error(p->d, NULL, "out of memory");
		return;
	}
	/* The list ends the message: scripts read it from there. */
	diag_error(p->d, loc, "unknown %s '%s'%s (one of: %s)", names->what, SHOW(s),
		   DID_YOU_MEAN(g.best), list);
}

static void entry_type(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	struct manifest_entry *e = target;

	take_type_name(p, n, key, &prog_types, &e->prog_type, &e->prog_type_loc);
}

static void entry_attach_type(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	struct manifest_entry *e = target;

	take_type_name(p, n, key, &attach_types, &e->attach_type, &e->attach_type_loc);
}

static void entry_path(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	struct manifest_entry *e = target;

	e->path_loc = node_loc(p, n);
	take_relpath(p, n, key, &e->path);
}

/* Grows an array by one zeroed element; NULL (error recorded) on failure. */
static void *grow(struct parser *p, void *arrayp, size_t *n, size_t size)
{
	char *a;

	if (array_reserve(arrayp, *n, size) < 0) {
		diag_error(p->d, NULL, "out of memory");
		return NULL;
	}
	a = *(void **)arrayp;
	memset(a + *n * size, 0, size);
	return a + (*n)++ * size;
}

/* Walks the items of sequence n: *it the position (NULL to start), *item
 * the next item, with a new zeroed element of *arrayp grown for it in
 * *elem.  False at the end, or when an item or the memory is missing. */
static bool next_item(struct parser *p, yaml_node_t *n, yaml_node_item_t **it, yaml_node_t **item,
		      void *arrayp, size_t *count, size_t size, void *elem)
{
	*it = *it ? *it + 1 : n->data.sequence.items.start;
	if (*it >= n->data.sequence.items.top || !(*item = get_node(p, **it)))
		return false;
	*(void **)elem = grow(p, arrayp, count, size);
	return *(void **)elem != NULL;
}

/* Attachments (bpf-provision.yaml(5), ATTACHMENTS): each item of a program
 * entry's 'attach' is one hook, made a BPF link pinned at its 'pin'. */

/* An item being parsed: its hook-specific keys are checked once the hook
 * is known, whatever order the keys come in. */
struct attach_item {
	struct manifest_attach *a;
	struct diag_loc mode_loc, direction_loc;
};

/* A name the kernel takes for a network interface (dev_valid_name): 1 to
 * IFNAMSIZ - 1 bytes, not "." or "..", no '/', ':' or whitespace.  NULL, or
 * why not. */
static const char *check_ifname(const char *s)
{
	if (!*s)
		return "empty";
	if (strlen(s) > 15)
		return "longer than 15 bytes (IFNAMSIZ)";
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return "'.' and '..' are not interface names";
	if (strchr(s, '/'))
		return "contains '/'";
	if (strchr(s, ':'))
		return "contains ':' (an address label, not an interface)";
	for (const char *c = s; *c; c++)
		if (isspace((unsigned char)*c))
			return "contains whitespace";
	if (has_control(s))
		return "control character";
	return NULL;
}

/* A cgroup directory: absolute, or relative to the cgroup2 mount, never
 * above it.  NULL, or why not. */
static const char *check_cgroup(const char *s)
{
	if (!*s)
		return "empty";
	if (strlen(s) > PATH_MAX_BYTES)
		return "longer than 4000 bytes";
	if (has_control(s))
		return "control character";
	for (const char *c = s; c; c = strchr(c, '/')) {
		if (*c == '/')
			c++;
		if (strncmp(c, "..", 2) == 0 && (c[2] == '/' || !c[2]))
			return "contains a '..' component";
	}
	return NULL;
}

static enum manifest_hook hook_from_key(const char *key)
{
	for (int h = 0; h < MANIFEST_HOOK_MAX; h++)
		if (strcmp(hook_names[h], key) == 0)
			return h;
	return MANIFEST_HOOK_MAX;
}

/* The hook's target: a string check() accepts, else an error and none. */
static void take_target(struct parser *p, yaml_node_t *n, const char *key, void *target,
			const char *(*check)(const char *), const char *what)
{
	struct manifest_attach *a = ((struct attach_item *)target)->a;
	const char *why;

	a->hook = hook_from_key(key);
	a->loc = node_loc(p, n);
	if (!take_string(p, n, key, &a->target))
		return;
	why = check(a->target);
	if (why) {
		diag_error(p->d, &a->loc, "invalid %s '%s': %s", what, SHOW(a->target), why);
		free(a->target);
		a->target = NULL;
	}
}

/* xdp: and tc: an interface name. */
static void attach_ifname(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	take_target(p, n, key, target, check_ifname, "interface name");
}

static void attach_cgroup(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	take_target(p, n, key, target, check_cgroup, "cgroup");
}

/* auto: true - the only value that says something. */
static void attach_auto(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	struct manifest_attach *a = ((struct attach_item *)target)->a;
	long long v;

	a->hook = MANIFEST_HOOK_AUTO;
	a->loc = node_loc(p, n);
	if (!is_kind(n, SCALAR_BOOL, &v))
		diag_error(p->d, &a->loc,
			   "'auto' must be true (the target is in the program's section name)%s",
			   YAML11_HINT(n));
	else if (!v)
		diag_error(p->d, &a->loc, "'auto: false' attaches nothing; leave the item out");
}

/* One of names[0..n), by its text; -1 (error recorded) otherwise. */
static int take_choice(struct parser *p, yaml_node_t *n, const char *key,
		       const char *const *names, int n_names, const char *expected)
{
	char *_cleanup_free_ s = NULL;

	if (!take_string(p, n, key, &s))
		return -1;
	for (int i = 0; i < n_names; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	diag_error(p->d, AT(n), "invalid %s '%s'%s (expected %s)", key, SHOW(s),
		   DID_YOU_MEAN(diag_suggest(s, names, (size_t)n_names)), expected);
	return -1;
}

static void attach_mode(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	struct attach_item *it = target;
	int v;

	it->mode_loc = node_loc(p, n);
	v = take_choice(p, n, key, xdp_mode_names, MANIFEST_XDP_MODE_MAX,
			"native, generic or auto");
	if (v >= 0)
		it->a->xdp_mode = v;
}

static void attach_direction(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	struct attach_item *it = target;
	int v;

	it->direction_loc = node_loc(p, n);
	v = take_choice(p, n, key, direction_names, MANIFEST_DIRECTION_MAX, "ingress or egress");
	if (v >= 0)
		it->a->direction = v;
}

static void attach_attach_type(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	struct manifest_attach *a = ((struct attach_item *)target)->a;

	take_type_name(p, n, key, &attach_types, &a->attach_type, &a->attach_type_loc);
}

static void attach_optional(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	take_bool(p, n, key, &((struct attach_item *)target)->a->optional);
}

/* pin_loc.file tells whether the pin is settled: finish_attach() fills in
 * the default only where it is not (no 'pin', and no error in the item). */
static void attach_pin(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	struct manifest_attach *a = ((struct attach_item *)target)->a;

	a->pin_loc = node_loc(p, n);
	take_relpath(p, n, key, &a->pin);
}

/* The first four fields are the hooks, in enum manifest_hook order. */
static const struct field attach_fields[] = {
	{ "xdp", attach_ifname },	  { "tc", attach_ifname },
	{ "cgroup", attach_cgroup },	  { "auto", attach_auto },
	{ "mode", attach_mode },	  { "direction", attach_direction },
	{ "type", attach_attach_type },	  { "optional", attach_optional },
	{ "pin", attach_pin },
};
#define ATTACH_HOOKS 0xfu
#define ATTACH_FIELD_MODE 4
#define ATTACH_FIELD_DIRECTION 5
#define ATTACH_FIELD_TYPE 6

/* The value of key in mapping n, or NULL. */
static yaml_node_t *mapping_value(struct parser *p, yaml_node_t *n, const char *key)
{
	for (yaml_node_pair_t *pair = n->data.mapping.pairs.start;
	     pair < n->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = get_node(p, pair->key);

		if (k && k->type == YAML_SCALAR_NODE && strcmp(scalar(k), key) == 0)
			return get_node(p, pair->value);
	}
	return NULL;
}

static void check_attach_item(struct parser *p, yaml_node_t *n, struct manifest_attach *a)
{
	struct attach_item it = { .a = a };
	unsigned seen, hooks;

	if (!expect_type(p, n, YAML_MAPPING_NODE, "attach item"))
		return;
	seen = walk_mapping(p, n, "attach item", attach_fields,
			    sizeof(attach_fields) / sizeof(*attach_fields), &it);
	hooks = seen & ATTACH_HOOKS;
	if (hooks == 0) {
		diag_error(p->d, AT(n),
			   "attach item needs exactly one of 'xdp', 'tc', 'cgroup', 'auto'");
		return;
	}
	if (hooks & (hooks - 1)) {
		/* Point at the second hook key, where the item goes wrong. */
		int count = 0;

		for (yaml_node_pair_t *pair = n->data.mapping.pairs.start;
		     pair < n->data.mapping.pairs.top; pair++) {
			yaml_node_t *k = get_node(p, pair->key);

			if (k && k->type == YAML_SCALAR_NODE &&
			    hook_from_key(scalar(k)) != MANIFEST_HOOK_MAX && ++count == 2)
				diag_error(p->d, AT(k),
					   "attach item needs exactly one of 'xdp', 'tc', "
					   "'cgroup', 'auto'");
		}
		a->hook = MANIFEST_HOOK_MAX;
		return;
	}
	if ((seen & (1u << ATTACH_FIELD_MODE)) && a->hook != MANIFEST_HOOK_XDP)
		diag_error(p->d, &it.mode_loc, "'mode' applies to xdp items only");
	if ((seen & (1u << ATTACH_FIELD_DIRECTION)) && a->hook != MANIFEST_HOOK_TC)
		diag_error(p->d, &it.direction_loc, "'direction' applies to tc items only");
	if ((seen & (1u << ATTACH_FIELD_TYPE)) && a->hook != MANIFEST_HOOK_CGROUP)
		diag_error(p->d, &a->attach_type_loc,
			   "'type' applies to cgroup items only (the other hooks take the "
			   "program's attach type)");
	if (a->hook == MANIFEST_HOOK_TC && !(seen & (1u << ATTACH_FIELD_DIRECTION)))
		diag_error(p->d, AT(n), "a tc item needs 'direction' (ingress or egress)");
}

static void parse_attach_item(struct parser *p, yaml_node_t *n, struct manifest_attach *a)
{
	size_t errors = p->d->n_errors;

	*a = (struct manifest_attach){
		.hook = MANIFEST_HOOK_MAX, /* none yet */
		.loc = node_loc(p, n),
		.xdp_mode = MANIFEST_XDP_AUTO,
		.direction = MANIFEST_DIRECTION_UNSET,
		.attach_type = -1,
	};
	check_attach_item(p, n, a);
	/* A wrong item gets no default pin: it would only add errors about
	 * a name made of what was wrong. */
	if (p->d->n_errors > errors && !a->pin_loc.file)
		a->pin_loc = a->loc;
}

static void entry_attach(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	struct manifest_entry *e = target;
	yaml_node_item_t *it = NULL;
	yaml_node_t *item;
	struct manifest_attach *a;

	if (!expect_type(p, n, YAML_SEQUENCE_NODE, "'attach'"))
		return;
	while (next_item(p, n, &it, &item, &e->attach, &e->n_attach, sizeof(*a), &a))
		parse_attach_item(p, item, a);
}

/* Map contents (bpf-provision.yaml(5), MAP CONTENTS): the entries of a
 * 'map:' entry or of a standalone map, as written.  Whether a key or value
 * fits the map (its sizes, its BTF, its type, its object's programs) is the
 * desired stage's to check (contents.h): only it knows the map. */

#define VALUE_KINDS "a key or value is an integer, \"0x...\" bytes, or a mapping of fields"

/* Reports every field of struct v named twice (defined with the other
 * duplicate checks below). */
static void check_fields_unique(struct parser *p, const struct manifest_value *v);

/* A plain integer scalar (the core schema's: decimal with a sign, 0o octal,
 * 0x hex) in 64 bits: up to 2^64 - 1, or down to -2^63 as its two's
 * complement.  false when it does not fit. */
static bool int_value(const char *s, uint64_t *u, bool *negative)
{
	const char *digits = s;
	unsigned long long v;
	bool minus = false;
	int base = 10;
	char *end;

	if (s[0] == '0' && s[1] == 'o') {
		base = 8;
		digits = s + 2;
	} else if (s[0] == '0' && s[1] == 'x') {
		base = 16;
		digits = s + 2;
	} else if (*s == '-' || *s == '+') {
		minus = *s == '-';
		digits = s + 1;
	}
	errno = 0;
	v = strtoull(digits, &end, base);
	if (errno == ERANGE || *end || end == digits)
		return false;
	if (minus && v > (unsigned long long)INT64_MAX + 1)
		return false;
	*u = minus ? (uint64_t)0 - v : v;
	*negative = minus && v != 0;
	return true;
}

/* "0x" and an even number of hex digits (none: no bytes): the bytes in
 * the order written.  false when s does not start with "0x"; true when it
 * does, the error recorded if the rest is wrong. */
static bool take_bytes(struct parser *p, yaml_node_t *n, struct manifest_value *v)
{
	const char *s = scalar(n), *hex;
	size_t len;

	if (strncmp(s, "0x", 2) != 0)
		return false;
	hex = s + 2;
	len = strlen(hex);
	if (strspn(hex, "0123456789abcdefABCDEF") != len) {
		diag_error(p->d, &v->loc, "invalid bytes '%s': only hex digits may follow '0x'",
			   SHOW(s));
		return true;
	}
	if (len % 2) {
		diag_error(p->d, &v->loc,
			   "invalid bytes '%s': an odd number of hex digits (two per byte)", SHOW(s));
		return true;
	}
	v->bytes = malloc(len / 2 ? len / 2 : 1);
	if (!v->bytes) {
		diag_error(p->d, NULL, "out of memory");
		return true;
	}
	for (size_t i = 0; i < len / 2; i++) {
		char pair[3] = { hex[2 * i], hex[2 * i + 1], '\0' };

		v->bytes[i] = (unsigned char)strtoul(pair, NULL, 16);
	}
	v->n_bytes = len / 2;
	v->kind = MANIFEST_VALUE_BYTES;
	return true;
}

/* BTF names struct members as C does. */
static bool valid_field_name(const char *s)
{
	if (!(isalpha((unsigned char)*s) || *s == '_') || strlen(s) > NAME_MAX_BYTES)
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return false;
	return true;
}

static void parse_value(struct parser *p, yaml_node_t *n, struct manifest_value *v,
			unsigned depth);

/* A mapping: a struct by field name, each field a value again. */
static void parse_struct(struct parser *p, yaml_node_t *n, struct manifest_value *v,
			 unsigned depth)
{
	v->kind = MANIFEST_VALUE_STRUCT;
	for (yaml_node_pair_t *pair = n->data.mapping.pairs.start;
	     pair < n->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = get_node(p, pair->key), *val = get_node(p, pair->value);
		struct manifest_field *f;

		if (!k || !val)
			return;
		if (!is_kind(k, SCALAR_STR, NULL) || !valid_field_name(scalar(k))) {
			diag_error(p->d, AT(k),
				   "invalid field name '%s': fields are named as in C (a letter or "
				   "'_', then letters, digits and '_')",
				   k->type == YAML_SCALAR_NODE ? SHOW(scalar(k)) : "");
			continue;
		}
		f = grow(p, &v->fields, &v->n_fields, sizeof(*f));
		if (!f)
			return;
		f->name_loc = node_loc(p, k);
		f->name = strdup(scalar(k));
		if (!f->name) {
			diag_error(p->d, NULL, "out of memory");
			return;
		}
		parse_value(p, val, &f->value, depth + 1);
	}
	check_fields_unique(p, v);
}

/* A key or value.  Aliases can make a mapping hold itself: depth stops
 * that where the document's own nesting would have stopped. */
static void parse_value(struct parser *p, yaml_node_t *n, struct manifest_value *v,
			unsigned depth)
{
	long long b;

	*v = (struct manifest_value){ .kind = MANIFEST_VALUE_INT, .loc = node_loc(p, n) };
	if (depth >= MANIFEST_MAX_DEPTH) {
		diag_error(p->d, &v->loc, "nesting deeper than %d levels", MANIFEST_MAX_DEPTH);
		return;
	}
	if (n->type == YAML_MAPPING_NODE) {
		parse_struct(p, n, v, depth);
		return;
	}
	if (n->type != YAML_SCALAR_NODE) {
		diag_error(p->d, &v->loc, "a sequence is not a key or value: " VALUE_KINDS);
		return;
	}
	switch (scalar_kind(n, &b)) {
	case SCALAR_BOOL:
		v->u = (uint64_t)b;
		return;
	case SCALAR_INT:
		if (!int_value(scalar(n), &v->u, &v->negative))
			diag_error(p->d, &v->loc,
				   "integer %s out of range (from -2^63 to 2^64 - 1)", SHOW(scalar(n)));
		return;
	case SCALAR_NULL:
		diag_error(p->d, &v->loc, "empty key or value: " VALUE_KINDS);
		return;
	case SCALAR_STR:
		if (take_bytes(p, n, v))
			return;
		break;
	case SCALAR_FLOAT:
		break;
	}
	diag_error(p->d, &v->loc, "invalid key or value '%s': " VALUE_KINDS, SHOW(scalar(n)));
}

/* The keys of an item of 'entries'. */
static void item_key(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	parse_value(p, n, &((struct manifest_map_entry *)target)->key, 0);
}

static void item_value(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	parse_value(p, n, &((struct manifest_map_entry *)target)->value, 0);
}

static void item_program(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	struct manifest_map_entry *e = target;

	e->program_loc = node_loc(p, n);
	take_selector_value(p, n, key, &e->program);
}

static const struct field item_fields[] = {
	{ "key", item_key },
	{ "value", item_value },
	{ "program", item_program },
};
#define ITEM_KEY 1u
#define ITEM_VALUE 2u
#define ITEM_PROGRAM 4u

static void parse_map_entry(struct parser *p, yaml_node_t *n, struct manifest_map_entry *e,
			    bool standalone)
{
	unsigned seen;

	e->loc = node_loc(p, n);
	e->key.loc = e->value.loc = e->loc;
	if (!expect_type(p, n, YAML_MAPPING_NODE, "map entry"))
		return;
	seen = walk_mapping(p, n, "map entry", item_fields,
			    sizeof(item_fields) / sizeof(*item_fields), e);
	if (p->too_big) /* the walk stopped short: what is missing is not */
		return;
	if (!(seen & ITEM_KEY))
		diag_error(p->d, &e->loc, "missing required key 'key' in map entry");
	if (!(seen & (ITEM_VALUE | ITEM_PROGRAM))) {
		diag_error(p->d, &e->loc, "a map entry needs 'value' (or 'program' in a program "
					  "array)");
	} else if ((seen & ITEM_VALUE) && (seen & ITEM_PROGRAM)) {
		/* Point at the second of the two, where the item goes wrong. */
		int count = 0;

		for (yaml_node_pair_t *pair = n->data.mapping.pairs.start;
		     pair < n->data.mapping.pairs.top; pair++) {
			yaml_node_t *k = get_node(p, pair->key);

			if (k && k->type == YAML_SCALAR_NODE &&
			    (strcmp(scalar(k), "value") == 0 || strcmp(scalar(k), "program") == 0) &&
			    ++count == 2)
				diag_error(p->d, AT(k),
					   "a map entry has 'value' or 'program', not both");
		}
	} else if ((seen & ITEM_PROGRAM) && standalone) {
		diag_error(p->d, &e->program_loc,
			   "a standalone map has no object and so no programs: 'program' is for "
			   "program arrays of objects");
	}
}

static void take_entries(struct parser *p, yaml_node_t *n, struct manifest_contents *c,
			 bool standalone)
{
	yaml_node_item_t *it = NULL;
	yaml_node_t *item;
	struct manifest_map_entry *e;

	c->has_entries = true;
	c->loc = node_loc(p, n);
	if (!expect_type(p, n, YAML_SEQUENCE_NODE, "'entries'"))
		return;
	while (next_item(p, n, &it, &item, &c->entries, &c->n_entries, sizeof(*e), &e))
		parse_map_entry(p, item, e, standalone);
}

/* seed: MANIFEST_SEED_MAX marks a value already reported. */
static void take_seed(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	struct manifest_contents *c = target;
	int v;

	c->seed_loc = node_loc(p, n);
	v = take_choice(p, n, key, seed_names, MANIFEST_SEED_MAX, "create or enforce");
	c->seed = v >= 0 ? (enum manifest_seed)v : MANIFEST_SEED_MAX;
}

static void take_exact(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	struct manifest_contents *c = target;

	c->exact_loc = node_loc(p, n);
	take_bool(p, n, key, &c->exact);
}

/* seed and exact say how entries are kept: without entries they say nothing. */
static void check_contents(struct parser *p, struct manifest_contents *c)
{
	if (!c->has_entries) {
		if (c->seed_loc.file)
			diag_error(p->d, &c->seed_loc, "'seed' applies to 'entries', and there are none");
		if (c->exact_loc.file)
			diag_error(p->d, &c->exact_loc,
				   "'exact' applies to 'entries', and there are none");
		return;
	}
	if (c->exact && c->seed == MANIFEST_SEED_CREATE)
		diag_error(p->d, &c->exact_loc,
			   "exact applies with seed: enforce (with seed: create nothing is ever "
			   "deleted)");
}

static void entry_entries(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	take_entries(p, n, &((struct manifest_entry *)target)->contents, false);
}

static void entry_seed(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	take_seed(p, n, key, &((struct manifest_entry *)target)->contents);
}

static void entry_exact(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	take_exact(p, n, key, &((struct manifest_entry *)target)->contents);
}

/* A 'map:' entry is known to be one map; 'section:' may name a program, and
 * gobpf map sections are selected with 'map:' as well. */
static void check_contents_keys(struct parser *p, const struct manifest_entry *e)
{
	const struct manifest_contents *c = &e->contents;
	const char *value = SHOW(e->value ? e->value : "");
	const struct {
		const char *key;
		const struct diag_loc *loc;
		bool given;
	} keys[] = {
		{ "entries", &c->loc, c->has_entries },
		{ "seed", &c->seed_loc, c->seed_loc.file != NULL },
		{ "exact", &c->exact_loc, c->exact_loc.file != NULL },
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		if (!keys[i].given)
			continue;
		if (e->selector == MANIFEST_SELECT_PROGRAM)
			diag_error(p->d, keys[i].loc,
				   "'%s' applies to maps; program '%s' cannot have one", keys[i].key,
				   value);
		else
			diag_error(p->d, keys[i].loc,
				   "'%s' applies to maps; select this one with 'map: NAME' instead "
				   "of section '%s'",
				   keys[i].key, value);
	}
}

/* The first three fields are the selectors, in enum manifest_selector order. */
static const struct field entry_fields[] = {
	{ "section", entry_value },	    { "map", entry_value },
	{ "program", entry_value },	    { "pinning", entry_pinning },
	{ "path", entry_path },		    { "namespace", entry_namespace },
	{ "on_incompatible", entry_on_incompatible },
	{ "mode", entry_mode },		    { "dir_mode", entry_dir_mode },
	{ "owner", entry_owner },	    { "group", entry_group },
	{ "type", entry_type },		    { "attach_type", entry_attach_type },
	{ "attach", entry_attach },	    { "entries", entry_entries },
	{ "seed", entry_seed },		    { "exact", entry_exact },
};
#define FIELD_PATH 4
#define FIELD_TYPE 11
#define FIELD_ATTACH_TYPE 12
#define FIELD_ATTACH 13

/* A map has no program type: with 'map:' the manifest knows that much (a
 * 'section:' may name either, so the desired stage checks those).  Only a
 * 'program:' entry is known to be one program, so only it may attach. */
static void check_program_keys(struct parser *p, yaml_node_t *n, const struct manifest_entry *e,
			       unsigned seen)
{
	const char *value = SHOW(e->value ? e->value : "");

	if ((seen & (1u << FIELD_ATTACH)) && e->selector != MANIFEST_SELECT_PROGRAM) {
		yaml_node_t *v = mapping_value(p, n, "attach");
		const struct diag_loc *loc = v ? AT(v) : &e->loc;

		if (e->selector == MANIFEST_SELECT_MAP)
			diag_error(p->d, loc,
				   "'attach' applies to programs; map '%s' cannot have one", value);
		else
			diag_error(p->d, loc,
				   "'attach' applies to programs; select this one with 'program: "
				   "FUNCTION' instead of section '%s'",
				   value);
	}
	if (e->selector != MANIFEST_SELECT_MAP)
		return;
	if (seen & (1u << FIELD_TYPE))
		diag_error(p->d, &e->prog_type_loc,
			   "'type' applies to programs; map '%s' cannot have one", value);
	if (seen & (1u << FIELD_ATTACH_TYPE))
		diag_error(p->d, &e->attach_type_loc,
			   "'attach_type' applies to programs; map '%s' cannot have one", value);
}

static void parse_entry(struct parser *p, yaml_node_t *n, struct manifest_entry *e)
{
	unsigned seen, selectors;
	yaml_node_t *k;

	attrs_init(&e->attrs);
	e->pinning = PIN_MODE_UNSET;
	e->prog_type = -1;
	e->attach_type = -1;
	e->loc = node_loc(p, n);
	if (!expect_type(p, n, YAML_MAPPING_NODE, "section entry"))
		return;
	seen = walk_mapping(p, n, "section entry", entry_fields,
			    sizeof(entry_fields) / sizeof(*entry_fields), e);
	selectors = seen & 7u;
	if (selectors == 0) {
		diag_error(p->d, &e->loc,
			   "section entry needs exactly one of 'section', 'map', 'program'");
	} else if (selectors & (selectors - 1)) {
		/* Point at the second selector key, where the entry goes wrong. */
		int count = 0;

		for (yaml_node_pair_t *pair = n->data.mapping.pairs.start;
		     pair < n->data.mapping.pairs.top; pair++) {
			k = get_node(p, pair->key);
			if (!k || k->type != YAML_SCALAR_NODE)
				continue;
			for (int i = 0; i < 3; i++)
				if (strcmp(scalar(k), entry_fields[i].key) == 0 && ++count == 2)
					diag_error(p->d, AT(k),
						   "section entry needs exactly one of 'section', "
						   "'map', 'program'");
		}
	} else {
		for (int i = 0; i < 3; i++)
			if (selectors & (1u << i))
				e->selector = i;
		/* The value node may have been rejected; keep the entry's location. */
		for (yaml_node_pair_t *pair = n->data.mapping.pairs.start;
		     pair < n->data.mapping.pairs.top; pair++) {
			k = get_node(p, pair->key);
			if (k && k->type == YAML_SCALAR_NODE &&
			    strcmp(scalar(k), entry_fields[e->selector].key) == 0) {
				yaml_node_t *v = get_node(p, pair->value);

				if (v)
					e->loc = node_loc(p, v);
			}
		}
		check_program_keys(p, n, e, seen);
		if (e->selector != MANIFEST_SELECT_MAP)
			check_contents_keys(p, e);
	}
	/* Unless the entry is known not to be a map. */
	if (selectors == 0 || (selectors & (selectors - 1)) || e->selector == MANIFEST_SELECT_MAP)
		check_contents(p, &e->contents);
	if (e->pinning == PIN_MODE_CUSTOM && !(seen & (1u << FIELD_PATH)))
		diag_error(p->d, &e->pinning_loc, "pinning 'custom' needs a 'path'");
	if (e->pinning >= PIN_MODE_NONE && e->pinning != PIN_MODE_CUSTOM &&
	    (seen & (1u << FIELD_PATH)))
		diag_error(p->d, &e->path_loc, "'path' is only used with pinning 'custom'");
}

static void object_sections(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	struct manifest_object *o = target;
	yaml_node_item_t *it = NULL;
	yaml_node_t *item;
	struct manifest_entry *e;

	if (!expect_type(p, n, YAML_SEQUENCE_NODE, "'sections'"))
		return;
	while (next_item(p, n, &it, &item, &o->entries, &o->n_entries, sizeof(*e), &e))
		parse_entry(p, item, e);
}

#define OBJECT_FIELD(name, member, fn)                                                             \
	static void object_##name(struct parser *p, yaml_node_t *n, const char *key, void *target) \
	{                                                                                          \
		fn(p, n, key, &((struct manifest_object *)target)->member);                        \
	}
OBJECT_FIELD(name, name, take_object_name)
OBJECT_FIELD(namespace, namespace, take_relpath)

static void object_file(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	struct manifest_object *o = target;

	o->file_loc = node_loc(p, n);
	take_file(p, n, key, &o->file);
}

/* libbpf's pin_root_path is absolute; here, like every path, it is relative
 * to the bpffs root, and "/" alone is the root itself, kept as "". */
static void object_pin_root(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	char **t = &((struct manifest_object *)target)->pin_root;

	if (is_kind(n, SCALAR_STR, NULL) && scalar(n)[0] == '/') {
		if (scalar(n)[1]) {
			diag_error(p->d, AT(n),
				   "invalid pin_root '%s': absolute (it is relative to the bpffs "
				   "root; '/' alone is the root itself)",
				   SHOW(scalar(n)));
			return;
		}
		free(*t);
		*t = strdup("");
		if (!*t)
			diag_error(p->d, NULL, "out of memory");
		return;
	}
	take_relpath(p, n, key, t);
}

/* The one other layout of object pins: tc's, a directory named by the
 * SHA-1 of the object file. */
static void object_object_dir(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	char *_cleanup_free_ s = NULL;

	if (!take_string(p, n, key, &s))
		return;
	if (strcmp(s, "sha1") != 0) {
		diag_error(p->d, AT(n), "invalid object_dir '%s'%s (expected sha1)", SHOW(s),
			   DID_YOU_MEAN(diag_suggest(s, (const char *const[]){ "sha1" }, 1)));
		return;
	}
	((struct manifest_object *)target)->object_dir_sha1 = true;
}

static void parse_object(struct parser *p, yaml_node_t *n, struct manifest_object *o)
{
	static const struct field fields[] = {
		{ "file", object_file },
		{ "name", object_name },
		{ "namespace", object_namespace },
		{ "sections", object_sections },
		{ "pin_root", object_pin_root },
		{ "object_dir", object_object_dir },
	};
	unsigned seen;

	o->loc = node_loc(p, n);
	if (!expect_type(p, n, YAML_MAPPING_NODE, "object"))
		return;
	seen = walk_mapping(p, n, "object", fields, sizeof(fields) / sizeof(*fields), o);
	if (!(seen & 1u))
		diag_error(p->d, &o->loc, "missing required key 'file' in object");
}

static void take_objects(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	struct manifest *m = target;
	yaml_node_item_t *it = NULL;
	yaml_node_t *item;
	struct manifest_object *o;

	if (!expect_type(p, n, YAML_SEQUENCE_NODE, "'objects'"))
		return;
	while (next_item(p, n, &it, &item, &m->objects, &m->n_objects, sizeof(*o), &o))
		parse_object(p, item, o);
}

static void take_owned(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	struct manifest *m = target;

	if (!expect_type(p, n, YAML_SEQUENCE_NODE, "'owned'"))
		return;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		yaml_node_t *item = get_node(p, *it);
		struct diag_loc *loc;
		char *dir = NULL;
		char **slot;

		if (!item)
			return;
		take_relpath(p, item, "owned directory", &dir);
		if (!dir)
			continue;
		slot = grow(p, &m->owned, &m->n_owned, sizeof(*slot));
		if (!slot) {
			free(dir);
			return;
		}
		*slot = dir;
		loc = grow(p, &p->owned_locs, &p->n_owned_locs, sizeof(*loc));
		if (!loc)
			return;
		*loc = node_loc(p, item);
	}
}

static void take_pin_ids(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	struct manifest *m = target;

	if (!expect_type(p, n, YAML_MAPPING_NODE, "'pin_ids'"))
		return;
	for (yaml_node_pair_t *pair = n->data.mapping.pairs.start;
	     pair < n->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = get_node(p, pair->key), *v = get_node(p, pair->value);
		struct manifest_pin_id *pid;
		char *subdir = NULL;
		long long id = -1;
		bool bad = false;

		if (!k || !v)
			return;
		if (k->type != YAML_SCALAR_NODE ||
		    (scalar_kind(k, &id) != SCALAR_INT &&
		     !(strspn(scalar(k), "0123456789") == strlen(scalar(k)) &&
		       match_int(scalar(k), &id))) ||
		    id < 3 || id > UINT32_MAX) {
			diag_error(p->d, AT(k),
				   "invalid pin id '%s' (expected an integer from 3 to 4294967295)",
				   k->type == YAML_SCALAR_NODE ? SHOW(scalar(k)) : "");
			bad = true;
		}
		take_relpath(p, v, "pin_ids directory", &subdir);
		if (bad || !subdir) {
			free(subdir);
			continue;
		}
		pid = grow(p, &m->pin_ids, &m->n_pin_ids, sizeof(*pid));
		if (!pid) {
			free(subdir);
			return;
		}
		*pid = (struct manifest_pin_id){ .id = (uint32_t)id, .subdir = subdir,
						 .loc = node_loc(p, k) };
	}
}

/* Standalone maps (top-level 'maps'): no object, the manifest says it all. */

static const char *map_type_str(int v)
{
	return libbpf_bpf_map_type_str((enum bpf_map_type)v);
}

/* BPF_MAP_TYPE_UNSPEC is no type a map can be made as. */
static const struct type_names map_types = { "map type", BPF_MAP_TYPE_UNSPEC + 1, map_type_str };

/* Map flags (BPF_F_*) by their names without the prefix, in lower case.  The
 * bits linux/bpf.h of older systems lacks are the UAPI's values; the kernel
 * says which ones a map type takes. */
static const struct {
	const char *name;
	uint32_t bit;
} map_flag_names[] = {
	{ "no_prealloc", BPF_F_NO_PREALLOC },
	{ "no_common_lru", BPF_F_NO_COMMON_LRU },
	{ "numa_node", BPF_F_NUMA_NODE },
	{ "rdonly", BPF_F_RDONLY },
	{ "wronly", BPF_F_WRONLY },
	{ "stack_build_id", BPF_F_STACK_BUILD_ID },
	{ "zero_seed", BPF_F_ZERO_SEED },
	{ "rdonly_prog", BPF_F_RDONLY_PROG },
	{ "wronly_prog", BPF_F_WRONLY_PROG },
	{ "clone", BPF_F_CLONE },
	{ "mmapable", BPF_F_MMAPABLE },
	{ "preserve_elems", BPF_F_PRESERVE_ELEMS },
	{ "inner_map", BPF_F_INNER_MAP },
	{ "link", 1u << 13 },		   /* BPF_F_LINK, Linux 6.4 */
	{ "path_fd", 1u << 14 },	   /* BPF_F_PATH_FD, 6.5 */
	{ "vtype_btf_obj_fd", 1u << 15 }, /* BPF_F_VTYPE_BTF_OBJ_FD, 6.9 */
	{ "token_fd", 1u << 16 },	   /* BPF_F_TOKEN_FD, 6.9 */
	{ "segv_on_fault", 1u << 17 },	   /* BPF_F_SEGV_ON_FAULT, 6.9 */
	{ "no_user_conv", 1u << 18 },	   /* BPF_F_NO_USER_CONV, 6.9 */
};

const char *manifest_map_flag_str(uint32_t bit)
{
	for (size_t i = 0; i < sizeof(map_flag_names) / sizeof(*map_flag_names); i++)
		if (map_flag_names[i].bit == bit)
			return map_flag_names[i].name;
	return NULL;
}

static char *map_flag_list(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < sizeof(map_flag_names) / sizeof(*map_flag_names); i++)
		fprintf(f, "%s%s", i ? ", " : "", map_flag_names[i].name);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void map_flags(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	struct manifest_map *m = target;

	m->flags_loc = node_loc(p, n);
	if (!expect_type(p, n, YAML_SEQUENCE_NODE, "'flags'"))
		return;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		yaml_node_t *item = get_node(p, *it);
		char *_cleanup_free_ s = NULL;
		char *_cleanup_free_ list = NULL;
		size_t i;

		if (!item)
			return;
		if (!take_string(p, item, "map flag", &s))
			continue;
		for (i = 0; i < sizeof(map_flag_names) / sizeof(*map_flag_names); i++)
			if (strcmp(map_flag_names[i].name, s) == 0)
				break;
		if (i == sizeof(map_flag_names) / sizeof(*map_flag_names)) {
			struct diag_guess g = { .word = s };

			for (i = 0; i < sizeof(map_flag_names) / sizeof(*map_flag_names); i++)
				diag_guess_offer(&g, map_flag_names[i].name);
			list = map_flag_list();
			if (!list)
				diag_error(p->d, NULL, "out of memory");
			else
				diag_error(p->d, AT(item), "unknown map flag '%s'%s (one of: %s)",
					   SHOW(s), DID_YOU_MEAN(g.best), list);
			continue;
		}
		if (m->flags & map_flag_names[i].bit)
			diag_error(p->d, AT(item), "map flag '%s' given twice", s);
		m->flags |= map_flag_names[i].bit;
	}
}

static void map_path(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	struct manifest_map *m = target;

	m->loc = node_loc(p, n);
	take_relpath(p, n, key, &m->path);
}

static void map_type(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	struct manifest_map *m = target;
	int type = -1;

	take_type_name(p, n, key, &map_types, &type, &m->type_loc);
	if (type >= 0)
		m->type = (uint32_t)type;
}

static void take_u32(struct parser *p, yaml_node_t *n, const char *key, uint32_t *target)
{
	long long v;

	if (!is_kind(n, SCALAR_INT, &v)) {
		diag_error(p->d, AT(n), "'%s' must be an integer", key);
		return;
	}
	if (v < 0 || v > UINT32_MAX) {
		diag_error(p->d, AT(n), "invalid %s %s: must be from 0 to 4294967295", key,
			   SHOW(scalar(n)));
		return;
	}
	*target = (uint32_t)v;
}

/* The kernel's check of object names (bpf_obj_name_cpy): at most
 * BPF_OBJ_NAME_LEN - 1 bytes of letters, digits, '_' and '.'.  NULL, or why
 * not. */
static const char *check_obj_name(const char *s)
{
	if (!*s)
		return "empty";
	if (strlen(s) >= BPF_OBJ_NAME_LEN)
		return "longer than 15 bytes (BPF_OBJ_NAME_LEN)";
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.')
			return "the kernel takes only letters, digits, '_' and '.'";
	return NULL;
}

static void map_name(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	char **t = &((struct manifest_map *)target)->name;
	const char *why;

	if (!take_string(p, n, key, t))
		return;
	why = check_obj_name(*t);
	if (why) {
		diag_error(p->d, AT(n), "invalid name '%s': %s", SHOW(*t), why);
		free(*t);
		*t = NULL;
	}
}

#define MAP_FIELD(name, member, fn)                                                                \
	static void map_##name(struct parser *p, yaml_node_t *n, const char *key, void *target)    \
	{                                                                                          \
		fn(p, n, key, &((struct manifest_map *)target)->member);                           \
	}
MAP_FIELD(key_size, key_size, take_u32)
MAP_FIELD(value_size, value_size, take_u32)
MAP_FIELD(max_entries, max_entries, take_u32)
MAP_FIELD(on_incompatible, attrs, attr_on_incompatible)
MAP_FIELD(mode, attrs, attr_mode)
MAP_FIELD(dir_mode, attrs, attr_dir_mode)
MAP_FIELD(owner, attrs, attr_owner)
MAP_FIELD(group, attrs, attr_group)
MAP_FIELD(seed, contents, take_seed)
MAP_FIELD(exact, contents, take_exact)

static void map_entries(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	take_entries(p, n, &((struct manifest_map *)target)->contents, true);
}

/* The first five are required. */
static const struct field map_fields[] = {
	{ "path", map_path },
	{ "type", map_type },
	{ "key_size", map_key_size },
	{ "value_size", map_value_size },
	{ "max_entries", map_max_entries },
	{ "flags", map_flags },
	{ "name", map_name },
	{ "on_incompatible", map_on_incompatible },
	{ "mode", map_mode },
	{ "dir_mode", map_dir_mode },
	{ "owner", map_owner },
	{ "group", map_group },
	{ "entries", map_entries },
	{ "seed", map_seed },
	{ "exact", map_exact },
};
#define MAP_REQUIRED 5

static void parse_map(struct parser *p, yaml_node_t *n, struct manifest_map *m)
{
	unsigned seen;

	attrs_init(&m->attrs);
	m->loc = m->type_loc = m->flags_loc = node_loc(p, n);
	if (!expect_type(p, n, YAML_MAPPING_NODE, "map"))
		return;
	seen = walk_mapping(p, n, "map", map_fields, sizeof(map_fields) / sizeof(*map_fields), m);
	if (p->too_big)
		return;
	for (int i = 0; i < MAP_REQUIRED; i++)
		if (!(seen & (1u << i)))
			diag_error(p->d, AT(n), "missing required key '%s' in map", map_fields[i].key);
	check_contents(p, &m->contents);
}

static void take_maps(struct parser *p, yaml_node_t *n, const char *key, void *target)
{
	struct manifest *m = target;
	yaml_node_item_t *it = NULL;
	yaml_node_t *item;
	struct manifest_map *map;

	if (!expect_type(p, n, YAML_SEQUENCE_NODE, "'maps'"))
		return;
	while (next_item(p, n, &it, &item, &m->maps, &m->n_maps, sizeof(*map), &map))
		parse_map(p, item, map);
}

#define MANIFEST_FIELD(name, member, fn)                                                           \
	static void manifest_##name(struct parser *p, yaml_node_t *n, const char *key,             \
				    void *target)                                                  \
	{                                                                                          \
		fn(p, n, key, &((struct manifest *)target)->member);                               \
	}
MANIFEST_FIELD(name, name, take_manifest_name)
MANIFEST_FIELD(bpffs, bpffs, take_bpffs)
MANIFEST_FIELD(namespace, namespace, take_relpath)
MANIFEST_FIELD(prune, prune, take_bool)
MANIFEST_FIELD(defaults, defaults, take_defaults)

static void parse_root(struct parser *p, yaml_node_t *root)
{
	static const struct field fields[] = {
		{ "version", take_version }, { "name", manifest_name },
		{ "bpffs", manifest_bpffs },	 { "namespace", manifest_namespace },
		{ "prune", manifest_prune },	 { "owned", take_owned },
		{ "defaults", manifest_defaults }, { "pin_ids", take_pin_ids },
		{ "objects", take_objects }, { "maps", take_maps },
	};
	unsigned seen;

	if (!expect_type(p, root, YAML_MAPPING_NODE, "manifest"))
		return;
	seen = walk_mapping(p, root, "manifest", fields, sizeof(fields) / sizeof(*fields), p->m);
	if (!(seen & 1u))
		diag_error(p->d, AT(root),
			   "missing required key 'version' in manifest");
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Attributes not given take the manifest's defaults. */
static int attrs_merge(struct manifest_attrs *a, const struct manifest_attrs *def)
{
	if (a->on_incompatible == ON_INCOMPATIBLE_UNSET)
		a->on_incompatible = def->on_incompatible;
	if (a->mode < 0)
		a->mode = def->mode;
	if (a->dir_mode < 0)
		a->dir_mode = def->dir_mode;
	if (!a->owner && def->owner && !(a->owner = strdup(def->owner)))
		return -ENOMEM;
	if (!a->group && def->group && !(a->group = strdup(def->group)))
		return -ENOMEM;
	return 0;
}

/* Defaults that need the whole document: names, merged attributes, paths. */
static int finish_object(struct parser *p, const char *dir, struct manifest_object *o)
{
	const struct manifest_attrs *def = &p->m->defaults;

	if (o->file) {
		if (o->file[0] == '/' || !dir)
			o->file_path = strdup(o->file);
		else if (asprintf(&o->file_path, "%s/%s", dir, o->file) < 0)
			o->file_path = NULL;
		if (!o->file_path)
			return -ENOMEM;
	}
	if (!o->name && o->file) {
		const char *why;

		o->name = strndup(base_name(o->file), strcspn(base_name(o->file), "."));
		if (!o->name)
			return -ENOMEM;
		if (check_component(o->name, &why) < 0) {
			diag_error(p->d, &o->loc,
				   "cannot use '%s' as the object name (%s): give 'name'",
				   SHOW(o->name), why);
			free(o->name);
			o->name = NULL;
		}
	}
	for (size_t i = 0; i < o->n_entries; i++)
		if (attrs_merge(&o->entries[i].attrs, def) < 0)
			return -ENOMEM;
	return 0;
}

/* A standalone map's attributes over the defaults, and its default name:
 * the last component of its path, every byte the kernel refuses in a name
 * made '_' (paths have no dots), cut to 15 bytes. */
static int finish_map(struct parser *p, struct manifest_map *m)
{
	const char *last;

	if (attrs_merge(&m->attrs, &p->m->defaults) < 0)
		return -ENOMEM;
	if (m->name || !m->path)
		return 0;
	last = base_name(m->path);
	m->name = strndup(last, BPF_OBJ_NAME_LEN - 1);
	if (!m->name)
		return -ENOMEM;
	for (char *c = m->name; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '_' && *c != '.')
			*c = '_';
	return 0;
}

/* The name a pin gets when the selector says it without the ELF. */
static const char *entry_known_name(const struct manifest_entry *e)
{
	if (!e->value)
		return NULL;
	if (e->selector == MANIFEST_SELECT_SECTION)
		return strncmp(e->value, "maps/", 5) == 0 ? e->value + 5 : NULL;
	return e->value;
}

int manifest_pin_path(enum pin_mode mode, const char *ns, const char *object, const char *name,
		      const char *custom_path, const char *pin_root, char **ret)
{
	char *s = NULL;
	int r;

	switch (mode) {
	case PIN_MODE_GLOBAL:
		if (!name || (!pin_root && !ns))
			return -EINVAL;
		if (!pin_root)
			r = asprintf(&s, "%s/globals/%s", ns, name);
		else if (*pin_root)
			r = asprintf(&s, "%s/%s", pin_root, name);
		else
			r = (s = strdup(name)) ? 0 : -1;
		break;
	case PIN_MODE_OBJECT:
		if (!ns || !object || !name)
			return -EINVAL;
		r = asprintf(&s, "%s/%s/%s", ns, object, name);
		break;
	case PIN_MODE_CUSTOM:
		if (!custom_path)
			return -EINVAL;
		s = strdup(custom_path);
		r = s ? 0 : -1;
		break;
	case PIN_MODE_NONE:
		return -ENOENT;
	default:
		return -EINVAL;
	}
	if (r < 0)
		return -ENOMEM;
	*ret = s;
	return 0;
}

static const char *pin_id_subdir(const struct manifest *m, uint32_t id)
{
	for (size_t i = 0; i < m->n_pin_ids; i++)
		if (m->pin_ids[i].id == id)
			return m->pin_ids[i].subdir;
	return NULL;
}

int manifest_resolve_pin(const struct manifest *m, const struct manifest_object *o,
			 const struct manifest_entry *e, const struct manifest_elf_pin *elf,
			 struct diag *d, char **ret)
{
	const struct diag_loc *loc = e ? &e->loc : &o->loc;
	enum pin_mode mode = elf ? elf->pinning : PIN_MODE_UNSET;
	const char *ns = e && e->namespace ? e->namespace : o->namespace;
	const char *custom = e ? e->path : NULL;
	_cleanup_free_ char *id_path = NULL;
	char *path = NULL;
	int r;

	if (e && e->pinning != PIN_MODE_UNSET)
		mode = e->pinning;
	if (mode == PIN_MODE_NONE || mode == PIN_MODE_UNSET) {
		*ret = NULL;
		return 0;
	}
	if (elf) {
		/* The ELF's namespace outranks the manifest's. */
		if (!ns)
			ns = elf->namespace ? elf->namespace : m->namespace;
		if (custom && mode != PIN_MODE_CUSTOM)
			return diag_error(d, &e->path_loc,
					  "%s '%s' is pinned '%s' by the ELF; 'path' needs "
					  "pinning: custom",
					  elf->kind, elf->name, pin_mode_str(mode));
		if (mode == PIN_MODE_CUSTOM) {
			if (!custom && elf->pin_id) {
				const char *subdir = pin_id_subdir(m, elf->pin_id);

				if (!subdir)
					return diag_error(d, loc,
							  "%s '%s' of object '%s' has pinning id "
							  "%u, which 'pin_ids' does not map to a "
							  "directory",
							  elf->kind, elf->name, o->name,
							  elf->pin_id);
				if (asprintf(&id_path, "%s/%s", subdir, elf->name) < 0)
					return -ENOMEM;
				custom = id_path;
			}
			if (!custom)
				return diag_error(d, loc,
						  "%s '%s' of object '%s' is pinned custom by "
						  "the ELF; give its 'path' in a section entry",
						  elf->kind, elf->name, o->name);
		} else if (!ns && (mode == PIN_MODE_OBJECT || !o->pin_root)) {
			return diag_error(d, loc,
					  "%s '%s' of object '%s' is pinned '%s' but has no "
					  "namespace (none on the entry, the object, the ELF or "
					  "the manifest)",
					  elf->kind, elf->name, o->name, pin_mode_str(mode));
		}
	}
	/* Without the ELF, what manifest_pin_path() lacks (the name of a
	 * section's program, the digest, a namespace the ELF may still give)
	 * waits for the object to be read. */
	r = manifest_pin_path(mode, ns, !o->object_dir_sha1 ? o->name : elf ? elf->sha1 : NULL,
			      elf ? elf->name : entry_known_name(e), custom, o->pin_root, &path);
	if (r == -ENOMEM)
		return r;
	if (r < 0 && elf)
		return diag_error(d, loc, "cannot resolve the pin path");
	*ret = path;
	return 0;
}

/* The default pin of a link, NAMESPACE/links/OBJECT/PROGRAM_HOOK[_TARGET]
 * (bpf-provision.yaml(5), ATTACHMENTS), in a new string; NULL in *ret when a
 * part is missing (an error says why already).  Returns 0 or -ENOMEM. */
static int default_link_pin(const struct manifest *m, const struct manifest_object *o,
			    const struct manifest_entry *e, const struct manifest_attach *a,
			    char **ret)
{
	const char *ns = e->namespace ? e->namespace
			 : o->namespace ? o->namespace
			 : m->namespace ? m->namespace
					: m->name;
	_cleanup_free_ char *leaf = NULL;
	const char *type;
	int r;

	*ret = NULL;
	if (!e->value || !o->name || !ns)
		return 0;
	switch (a->hook) {
	case MANIFEST_HOOK_XDP:
		if (!a->target)
			return 0;
		r = asprintf(&leaf, "%s_xdp_%s", e->value, a->target);
		break;
	case MANIFEST_HOOK_TC:
		if (!a->target || !manifest_direction_str(a->direction))
			return 0;
		r = asprintf(&leaf, "%s_tc_%s_%s", e->value, manifest_direction_str(a->direction),
			     a->target);
		break;
	case MANIFEST_HOOK_CGROUP:
		if (!a->target)
			return 0;
		type = a->attach_type >= 0 ? attach_type_str(a->attach_type) : NULL;
		r = asprintf(&leaf, "%s_cgroup_%s%s%s", e->value,
			     a->target + strspn(a->target, "/"), type ? "_" : "", type ? type : "");
		break;
	case MANIFEST_HOOK_AUTO:
		r = asprintf(&leaf, "%s_auto", e->value);
		break;
	default:
		return 0;
	}
	if (r < 0)
		return -ENOMEM;
	/* bpffs refuses dots; '/' would make directories. */
	for (char *c = leaf; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-')
			*c = '_';
	if (asprintf(ret, "%s/links/%s/%s", ns, o->name, leaf) < 0) {
		*ret = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Fills in the default pins of an entry's links, checked like any path. */
static int finish_attach(struct parser *p, const struct manifest_object *o,
			 struct manifest_entry *e)
{
	for (size_t i = 0; i < e->n_attach; i++) {
		struct manifest_attach *a = &e->attach[i];
		const char *why;
		char *pin;
		int r;

		if (a->pin_loc.file) /* given, or the item is wrong */
			continue;
		r = default_link_pin(p->m, o, e, a, &pin);
		if (r < 0)
			return r;
		if (!pin)
			continue;
		if (manifest_check_path(pin, &why) < 0) {
			diag_error(p->d, &a->loc,
				   "cannot use the default pin '%s' for this link: %s; give 'pin'",
				   SHOW(pin), why);
			free(pin);
			continue;
		}
		a->pin = pin;
		a->pin_loc = a->loc;
	}
	return 0;
}

/* Keys compared for duplicates: by text, then number, then declaration
 * order, so that each duplicate is reported against the first. */
struct dup_key {
	const char *text;
	long long number;
	size_t index;
};

static int cmp_dup_keys(const void *a, const void *b)
{
	const struct dup_key *x = a, *y = b;
	int c = strcmp(x->text, y->text);

	if (c)
		return c;
	if (x->number != y->number)
		return x->number < y->number ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

typedef void dup_report_fn(struct parser *p, const void *ctx, size_t first, size_t dup);

/* Sorting keeps hostile documents with huge lists out of quadratic time. */
static int report_duplicates(struct parser *p, struct dup_key *keys, size_t n,
			     dup_report_fn *report, const void *ctx)
{
	size_t first = 0;

	qsort(keys, n, sizeof(*keys), cmp_dup_keys);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(keys[i].text, keys[first].text) != 0 ||
		    keys[i].number != keys[first].number) {
			first = i;
			continue;
		}
		report(p, ctx, keys[first].index, keys[i].index);
	}
	return 0;
}

static void dup_object(struct parser *p, const void *ctx, size_t first, size_t dup)
{
	const struct manifest_object *f = &p->m->objects[first], *o = &p->m->objects[dup];

	diag_error(p->d, &o->loc, "duplicate object name '%s' (first at %u:%u)", SHOW(o->name),
		   f->loc.line, f->loc.column);
}

static void dup_entry(struct parser *p, const void *ctx, size_t first, size_t dup)
{
	const struct manifest_object *o = ctx;
	const struct manifest_entry *f = &o->entries[first], *e = &o->entries[dup];

	diag_error(p->d, &e->loc, "duplicate entry for %s '%s' (first at %u:%u)",
		   selector_names[e->selector], SHOW(e->value), f->loc.line, f->loc.column);
}

static void dup_owned(struct parser *p, const void *ctx, size_t first, size_t dup)
{
	diag_error(p->d, &p->owned_locs[dup], "duplicate entry in 'owned': '%s' (first at %u:%u)",
		   SHOW(p->m->owned[dup]), p->owned_locs[first].line, p->owned_locs[first].column);
}

static void dup_pin_id(struct parser *p, const void *ctx, size_t first, size_t dup)
{
	const struct manifest_pin_id *f = &p->m->pin_ids[first], *d = &p->m->pin_ids[dup];

	diag_error(p->d, &d->loc, "duplicate key '%" PRIu32 "' in 'pin_ids' (first at %u:%u)",
		   d->id, f->loc.line, f->loc.column);
}

/* Two links of one entry at one pin; across entries and manifests the
 * desired stage compares every pin path. */
static void dup_attach_pin(struct parser *p, const void *ctx, size_t first, size_t dup)
{
	const struct manifest_entry *e = ctx;
	const struct manifest_attach *f = &e->attach[first], *a = &e->attach[dup];

	diag_error(p->d, &a->pin_loc, "link pin '%s' declared twice (first at %u:%u)",
		   SHOW(a->pin), f->pin_loc.line, f->pin_loc.column);
}

/* Two standalone maps at one path; against object pins and across
 * manifests the desired stage compares every pin path. */
static void dup_map(struct parser *p, const void *ctx, size_t first, size_t dup)
{
	const struct manifest_map *f = &p->m->maps[first], *m = &p->m->maps[dup];

	diag_error(p->d, &m->loc, "map path '%s' declared twice (first at %u:%u)", SHOW(m->path),
		   f->loc.line, f->loc.column);
}

static void dup_field(struct parser *p, const void *ctx, size_t first, size_t dup)
{
	const struct manifest_value *v = ctx;
	const struct manifest_field *f = &v->fields[first], *d = &v->fields[dup];

	diag_error(p->d, &d->name_loc, "duplicate field '%s' (first at %u:%u)", SHOW(d->name),
		   f->name_loc.line, f->name_loc.column);
}

static void check_fields_unique(struct parser *p, const struct manifest_value *v)
{
	_cleanup_free_ struct dup_key *keys = NULL;
	size_t n = 0;

	if (v->n_fields < 2)
		return;
	keys = calloc(v->n_fields, sizeof(*keys));
	if (!keys) {
		diag_error(p->d, NULL, "out of memory");
		return;
	}
	for (size_t i = 0; i < v->n_fields; i++)
		if (v->fields[i].name)
			keys[n++] = (struct dup_key){ .text = v->fields[i].name, .index = i };
	report_duplicates(p, keys, n, dup_field, v);
}

static int check_duplicates(struct parser *p)
{
	struct manifest *m = p->m;
	size_t max = m->n_objects, n;
	_cleanup_free_ struct dup_key *keys = NULL;

	for (size_t i = 0; i < m->n_objects; i++) {
		if (m->objects[i].n_entries > max)
			max = m->objects[i].n_entries;
		for (size_t j = 0; j < m->objects[i].n_entries; j++)
			if (m->objects[i].entries[j].n_attach > max)
				max = m->objects[i].entries[j].n_attach;
	}
	if (m->n_owned > max)
		max = m->n_owned;
	if (m->n_pin_ids > max)
		max = m->n_pin_ids;
	if (m->n_maps > max)
		max = m->n_maps;
	keys = calloc(max + 1, sizeof(*keys));
	if (!keys)
		return -ENOMEM;

	n = 0;
	for (size_t i = 0; i < m->n_objects; i++)
		if (m->objects[i].name)
			keys[n++] = (struct dup_key){ .text = m->objects[i].name, .index = i };
	report_duplicates(p, keys, n, dup_object, NULL);
	for (size_t i = 0; i < m->n_objects; i++) {
		const struct manifest_object *o = &m->objects[i];

		n = 0;
		for (size_t j = 0; j < o->n_entries; j++)
			if (o->entries[j].value)
				keys[n++] = (struct dup_key){ .text = o->entries[j].value,
							      .number = o->entries[j].selector,
							      .index = j };
		report_duplicates(p, keys, n, dup_entry, o);
		for (size_t j = 0; j < o->n_entries; j++) {
			const struct manifest_entry *e = &o->entries[j];

			n = 0;
			for (size_t k = 0; k < e->n_attach; k++)
				if (e->attach[k].pin)
					keys[n++] = (struct dup_key){ .text = e->attach[k].pin,
								      .index = k };
			report_duplicates(p, keys, n, dup_attach_pin, e);
		}
	}
	for (n = 0; n < m->n_owned; n++)
		keys[n] = (struct dup_key){ .text = m->owned[n], .index = n };
	report_duplicates(p, keys, n, dup_owned, NULL);
	for (n = 0; n < m->n_pin_ids; n++)
		keys[n] = (struct dup_key){ .text = "", .number = m->pin_ids[n].id, .index = n };
	report_duplicates(p, keys, n, dup_pin_id, NULL);
	n = 0;
	for (size_t i = 0; i < m->n_maps; i++)
		if (m->maps[i].path)
			keys[n++] = (struct dup_key){ .text = m->maps[i].path, .index = i };
	report_duplicates(p, keys, n, dup_map, NULL);
	return 0;
}

static void value_done(struct manifest_value *v)
{
	free(v->bytes);
	for (size_t i = 0; i < v->n_fields; i++) {
		free(v->fields[i].name);
		value_done(&v->fields[i].value);
	}
	free(v->fields);
}

static void contents_free(struct manifest_contents *c)
{
	for (size_t i = 0; i < c->n_entries; i++) {
		value_done(&c->entries[i].key);
		value_done(&c->entries[i].value);
		free(c->entries[i].program);
	}
	free(c->entries);
}

void manifest_free(struct manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_objects; i++) {
		struct manifest_object *o = &m->objects[i];

		for (size_t j = 0; j < o->n_entries; j++) {
			struct manifest_entry *e = &o->entries[j];

			free(e->value);
			free(e->path);
			free(e->namespace);
			free(e->pin_path);
			attrs_done(&e->attrs);
			for (size_t k = 0; k < e->n_attach; k++) {
				free(e->attach[k].target);
				free(e->attach[k].pin);
			}
			free(e->attach);
			contents_free(&e->contents);
		}
		free(o->entries);
		free(o->file);
		free(o->file_path);
		free(o->name);
		free(o->namespace);
		free(o->pin_root);
	}
	free(m->objects);
	for (size_t i = 0; i < m->n_maps; i++) {
		free(m->maps[i].path);
		free(m->maps[i].name);
		attrs_done(&m->maps[i].attrs);
		contents_free(&m->maps[i].contents);
	}
	free(m->maps);
	for (size_t i = 0; i < m->n_pin_ids; i++)
		free(m->pin_ids[i].subdir);
	free(m->pin_ids);
	for (size_t i = 0; i < m->n_owned; i++)
		free(m->owned[i]);
	free(m->owned);
	attrs_done(&m->defaults);
	free(m->file);
	free(m->name);
	free(m->bpffs);
	free(m->namespace);
	free(m);
}
DEFINE_FREE_FUNC(struct manifest, manifest_free)

/* Line and column of a byte offset, for libyaml's reader errors (invalid
 * UTF-8), which carry only an offset. */
static struct diag_loc offset_loc(const char *file, const unsigned char *buf, size_t len,
				  size_t off)
{
	struct diag_loc loc = { .file = file, .line = 1, .column = 1 };

	for (size_t i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			loc.line++;
			loc.column = 1;
		} else if ((buf[i] & 0xc0) != 0x80) {
			loc.column++;
		}
	}
	return loc;
}

/* The byte at a mark: libyaml counts columns in characters, not bytes. */
static int byte_at(const unsigned char *buf, size_t len, size_t line, size_t column)
{
	size_t i = 0;

	for (; line > 0 && i < len; i++)
		if (buf[i] == '\n')
			line--;
	for (; column > 0 && i < len; column--)
		for (i++; i < len && (buf[i] & 0xc0) == 0x80; i++)
			;
	return i < len ? buf[i] : -1;
}

static int yaml_failure(struct diag *d, const char *file, const yaml_parser_t *yp,
			const unsigned char *buf, size_t len)
{
	struct diag_loc loc = {
		.file = file,
		.line = (unsigned)yp->problem_mark.line + 1,
		.column = (unsigned)yp->problem_mark.column + 1,
	};

	/* libyaml says "found character that cannot start any token" or "a tab
	 * character that violates indentation": the usual cause, in words a
	 * user acts on. */
	if (yp->error == YAML_SCANNER_ERROR && yp->problem &&
	    byte_at(buf, len, yp->problem_mark.line, yp->problem_mark.column) == '\t' &&
	    (strstr(yp->problem, "cannot start any token") || strstr(yp->problem, "tab")))
		return diag_error(d, &loc, "invalid YAML: tab character: YAML indents with spaces "
					   "only");
	if (yp->error == YAML_MEMORY_ERROR)
		return diag_error(d, &loc, "out of memory reading YAML"), -ENOMEM;
	if (yp->error == YAML_READER_ERROR)
		return diag_error(d, (struct diag_loc[]){ offset_loc(file, buf, len, yp->problem_offset) },
				  "invalid YAML: %s", yp->problem ? yp->problem : "unreadable");
	if (yp->context)
		return diag_error(d, &loc, "invalid YAML: %s %s", yp->problem, yp->context);
	return diag_error(d, &loc, "invalid YAML: %s", yp->problem ? yp->problem : "syntax error");
}

static char *dir_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static char *default_manifest_name(const char *file)
{
	const char *b = base_name(file);
	size_t len = strlen(b);

	if (len > 5 && strcmp(b + len - 5, ".yaml") == 0)
		len -= 5;
	else if (len > 4 && strcmp(b + len - 4, ".yml") == 0)
		len -= 4;
	return strndup(b, len);
}

/* libyaml's scanner walks its stack of possible simple keys, one per level
 * of flow nesting, for every token: 100000 unclosed '[' took 73 s.  Its
 * document loader has no hook, so the events are read once before it runs,
 * and the reading stops at the first collection past MANIFEST_MAX_DEPTH.
 * A syntax error met here is the one the loader would report. */
static int check_depth(struct parser *p, const unsigned char *buf, size_t len)
{
	yaml_parser_t yp;
	yaml_event_t ev;
	unsigned depth = 0;
	bool end = false;
	int r = 0;

	if (!yaml_parser_initialize(&yp))
		return -ENOMEM;
	yaml_parser_set_input_string(&yp, buf, len);
	while (r == 0 && !end) {
		if (!yaml_parser_parse(&yp, &ev)) {
			r = yaml_failure(p->d, p->file, &yp, buf, len);
			break;
		}
		if ((ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT) &&
		    ++depth > MANIFEST_MAX_DEPTH) {
			struct diag_loc loc = { .file = p->file,
						.line = (unsigned)ev.start_mark.line + 1,
						.column = (unsigned)ev.start_mark.column + 1 };

			r = diag_error(p->d, &loc, "nesting deeper than %d levels",
				       MANIFEST_MAX_DEPTH);
		}
		if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT)
			depth--;
		end = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&yp);
	return r;
}

/* A double-quoted "\0" is valid YAML, and every string of the model is C
 * text: cut at the NUL, name: "base\0evil" would be the manifest named
 * base, taking its ledger entry and pruning its pins.  libyaml gives each
 * scalar's length; every node is checked once, aliases or not.  Returns
 * the number of such scalars, each reported where it starts. */
static size_t check_nul_scalars(struct parser *p, yaml_document_t *doc)
{
	size_t bad = 0;

	for (yaml_node_t *n = doc->nodes.start; n < doc->nodes.top; n++)
		if (n->type == YAML_SCALAR_NODE && strlen(scalar(n)) != n->data.scalar.length) {
			diag_error(p->d, AT(n), "string contains a NUL byte after '%s'",
				   SHOW(scalar(n)));
			bad++;
		}
	return bad;
}

static int parse_document(struct parser *p, yaml_parser_t *yp, const unsigned char *buf,
			  size_t len)
{
	yaml_document_t doc, next;
	yaml_node_t *root, *extra;
	int r;

	r = check_depth(p, buf, len);
	if (r < 0)
		return r;
	if (!yaml_parser_load(yp, &doc))
		return yaml_failure(p->d, p->file, yp, buf, len);
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		yaml_document_delete(&doc);
		return diag_error(p->d, &(struct diag_loc){ .file = p->file, .line = 1, .column = 1 },
				  "empty manifest (expected a mapping with 'version: 1')");
	}
	p->doc = &doc;
	/* Read past a NUL, the document would only give errors about cut text. */
	if (check_nul_scalars(p, &doc) == 0)
		parse_root(p, root);
	p->doc = NULL;
	yaml_document_delete(&doc);

	if (!yaml_parser_load(yp, &next))
		return yaml_failure(p->d, p->file, yp, buf, len);
	extra = yaml_document_get_root_node(&next);
	r = 0;
	if (extra)
		r = diag_error(p->d,
			       &(struct diag_loc){ .file = p->file,
						   .line = (unsigned)next.start_mark.line + 1,
						   .column = (unsigned)next.start_mark.column + 1 },
			       "more than one YAML document (a manifest is one document)");
	yaml_document_delete(&next);
	return r;
}

/* What needs the whole document: default names, merged attributes, pin
 * paths, the default pins of links, duplicates. */
static int finish_manifest(struct parser *p, const char *name, const char *dir)
{
	struct manifest *m = p->m;
	int r;

	if (!m->name && !(m->name = default_manifest_name(name)))
		return -ENOMEM;
	for (size_t i = 0; i < m->n_objects; i++) {
		r = finish_object(p, dir, &m->objects[i]);
		if (r < 0)
			return r;
		for (size_t j = 0; j < m->objects[i].n_entries; j++) {
			r = manifest_resolve_pin(m, &m->objects[i], &m->objects[i].entries[j], NULL,
						 p->d, &m->objects[i].entries[j].pin_path);
			if (r < 0)
				return r;
			r = finish_attach(p, &m->objects[i], &m->objects[i].entries[j]);
			if (r < 0)
				return r;
		}
	}
	for (size_t i = 0; i < m->n_maps; i++) {
		r = finish_map(p, &m->maps[i]);
		if (r < 0)
			return r;
	}
	return check_duplicates(p);
}

/* manifest_parse_buffer(), and for a set: an invalid manifest's own name
 * into *ret_name (when ret_name is not NULL and it got that far), so that
 * one left out of the set is not taken for retired. */
static int parse_buffer(const char *name, const void *buf, size_t len, struct diag *d,
			struct manifest **ret, char **ret_name)
{
	_cleanup_(manifest_freep) struct manifest *m = NULL;
	_cleanup_free_ char *dir = NULL;
	size_t errors = d->n_errors;
	yaml_parser_t yp;
	struct parser p;
	int r;

	if (len > MANIFEST_MAX_BYTES)
		return diag_error(d, &(struct diag_loc){ .file = name }, "manifest larger than %u bytes",
				  MANIFEST_MAX_BYTES);
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->prune = true;
	attrs_init(&m->defaults);
	m->file = strdup(name);
	dir = dir_name(name);
	if (!m->file || !dir)
		return -ENOMEM;
	p = (struct parser){ .d = d, .file = m->file, .m = m };

	if (!yaml_parser_initialize(&yp))
		return -ENOMEM;
	yaml_parser_set_input_string(&yp, buf, len);
	r = parse_document(&p, &yp, buf, len);
	yaml_parser_delete(&yp);
	if (r == -ENOMEM)
		goto out;
	/* Past the size guard the model is partial: its duplicates mean nothing. */
	r = p.too_big ? -EINVAL : finish_manifest(&p, name, dir);
	if (r == 0 && d->n_errors > errors)
		r = -EINVAL;
out:
	free(p.owned_locs);
	if (r == -EINVAL && ret_name && m->name && !(*ret_name = strdup(m->name)))
		r = -ENOMEM;
	if (r < 0)
		return r;
	*ret = TAKE_PTR(m);
	return 0;
}

int manifest_parse_buffer(const char *name, const void *buf, size_t len, struct diag *d,
			  struct manifest **ret)
{
	return parse_buffer(name, buf, len, d, ret, NULL);
}

static int parse_file(const char *path, struct diag *d, struct manifest **ret, char **ret_name)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	struct stat st;
	int r;

	fd = input_open(path, d, &(struct diag_loc){ .file = path }, "cannot read manifest", &st);
	if (fd < 0)
		return fd;
	r = input_read(fd, (size_t)st.st_size, MANIFEST_MAX_BYTES, &buf, &len);
	if (r == -EFBIG)
		return diag_error(d, &(struct diag_loc){ .file = path },
				  "manifest larger than %u bytes", MANIFEST_MAX_BYTES);
	if (r < 0) {
		if (r != -ENOMEM)
			diag_error(d, &(struct diag_loc){ .file = path }, "cannot read manifest: %s",
				   strerror(-r));
		return r;
	}
	return parse_buffer(path, buf, len, d, ret, ret_name);
}

int manifest_parse_file(const char *path, struct diag *d, struct manifest **ret)
{
	return parse_file(path, d, ret, NULL);
}

/* The files a manifest directory stands for: *.yaml and *.yml, not hidden. */
static int yaml_file_filter(const struct dirent *e)
{
	size_t len = strlen(e->d_name);

	return e->d_name[0] != '.' &&
	       ((len > 5 && strcmp(e->d_name + len - 5, ".yaml") == 0) ||
		(len > 4 && strcmp(e->d_name + len - 4, ".yml") == 0));
}

static int cmp_names(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Records a manifest that is not in the set.  name is taken over (NULL:
 * the one its file name gives).  Returns 0 or -ENOMEM. */
static int add_left_out(struct manifest_set *set, const char *file, char *name)
{
	_cleanup_free_ char *n = name ? name : default_manifest_name(file);
	char *f = strdup(file);

	if (!n || !f ||
	    array_reserve(&set->left_out, set->n_left_out, sizeof(*set->left_out)) < 0) {
		free(f);
		return -ENOMEM;
	}
	set->left_out[set->n_left_out++] = (struct manifest_left_out){ .file = f, .name = TAKE_PTR(n) };
	return 0;
}

static int set_add_file(struct manifest_set *set, const char *path, unsigned flags,
			struct diag *d)
{
	bool keep_going = flags & MANIFEST_SET_KEEP_GOING;
	struct manifest *m = NULL, **items;
	char *name = NULL;
	int r;

	r = parse_file(path, d, &m, keep_going ? &name : NULL);
	if (r < 0 && r != -ENOMEM && keep_going)
		return add_left_out(set, path, name);
	if (r < 0)
		return r;
	items = realloc(set->items, (set->n + 1) * sizeof(*items));
	if (!items) {
		manifest_free(m);
		return -ENOMEM;
	}
	set->items = items;
	set->items[set->n++] = m;
	return 0;
}

/* The directory arguments merged by file name (tmpfiles.d): each name's
 * file in the last directory that has it; path NULL when that one is a
 * mask. */
struct overlay_entry {
	char *name;
	char *path;
};

struct overlay {
	struct overlay_entry *items;
	size_t n;
};

static void overlay_done(struct overlay *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->items[i].name);
		free(o->items[i].path);
	}
	free(o->items);
}

/* A symlink to /dev/null masks a name, as in tmpfiles.d and unit
 * directories: an empty file would be an invalid manifest, not a mask. */
static bool is_mask(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && stat(path, &st) == 0 &&
	       S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
}

static int overlay_put(struct overlay *o, const char *dir, const char *name)
{
	size_t len = strlen(dir);
	struct overlay_entry *e = NULL;
	char *path;

	while (len > 1 && dir[len - 1] == '/')
		len--;
	if (asprintf(&path, "%.*s/%s", (int)len, dir, name) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < o->n && !e; i++)
		if (strcmp(o->items[i].name, name) == 0)
			e = &o->items[i];
	if (!e) {
		char *n = strdup(name);

		if (!n || array_reserve(&o->items, o->n, sizeof(*o->items)) < 0) {
			free(n);
			free(path);
			return -ENOMEM;
		}
		e = &o->items[o->n++];
		*e = (struct overlay_entry){ .name = n };
	}
	free(e->path);
	e->path = NULL;
	if (is_mask(path))
		free(path);
	else
		e->path = path;
	return 0;
}

/* Directory dir's manifest files into the overlay, over the same names of
 * the directories before it. */
static int overlay_add_dir(struct overlay *o, const char *dir, unsigned flags, struct diag *d)
{
	struct dirent **names = NULL;
	int n, r = 0;

	n = scandir(dir, &names, yaml_file_filter, cmp_names);
	if (n < 0) {
		r = -errno;
		diag_error(d, &(struct diag_loc){ .file = dir }, "cannot read directory: %s",
			   strerror(-r));
		return r;
	}
	/* Most likely a wrong directory, or files misnamed; the system's
	 * directories may well be empty. */
	if (n == 0 && !(flags & MANIFEST_SET_SYSTEM))
		diag_warning(d, &(struct diag_loc){ .file = dir }, "no manifests (*.yaml, *.yml)");
	for (int i = 0; i < n && r == 0; i++)
		r = overlay_put(o, dir, names[i]->d_name);
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

static int cmp_overlay(const void *a, const void *b)
{
	return strcmp(((const struct overlay_entry *)a)->name,
		      ((const struct overlay_entry *)b)->name);
}

/* The ledger is keyed by manifest name: two manifests of one set must not
 * share one.  Under MANIFEST_SET_KEEP_GOING every manifest of a shared name
 * is left out: which of them the records are of cannot be told. */
static int set_check(struct manifest_set *set, unsigned flags, struct diag *d)
{
	_cleanup_free_ bool *shared = calloc(set->n + 1, sizeof(*shared));
	int r = 0;

	if (!shared)
		return -ENOMEM;
	for (size_t i = 0; i < set->n; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(set->items[j]->name, set->items[i]->name) == 0) {
				r = diag_error(d, &(struct diag_loc){ .file = set->items[i]->file },
					       "manifest name '%s' is also used by %s",
					       SHOW(set->items[i]->name), set->items[j]->file);
				shared[i] = shared[j] = true;
				break;
			}
	if (r == 0 || !(flags & MANIFEST_SET_KEEP_GOING))
		return r;
	/* In the order read: i is where item k of the set stands now. */
	for (size_t k = 0, i = 0, n = set->n; k < n; k++) {
		if (!shared[k])
			i++;
		else if ((r = manifest_set_leave_out(set, i)) < 0)
			return r;
	}
	return 0;
}

int manifest_set_add_retired(struct manifest_set *set, const char *name)
{
	struct manifest *m = calloc(1, sizeof(*m));
	struct manifest **items = m ? realloc(set->items, (set->n + 1) * sizeof(*items)) : NULL;

	if (items)
		set->items = items;
	if (!items || !(m->name = strdup(name))) {
		free(m);
		return -ENOMEM;
	}
	m->prune = m->retired = true;
	m->defaults = (struct manifest_attrs){ .on_incompatible = ON_INCOMPATIBLE_UNSET,
					       .mode = -1,
					       .dir_mode = -1 };
	set->items[set->n++] = m;
	return 0;
}

/* The system's overlay without a manifest: said once, for all of it. */
static int warn_no_manifests(char *const *dirs, size_t n, struct diag *d)
{
	_cleanup_free_ char *list = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&list, &len);

	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? ", " : "", dirs[i]);
	if (fclose(f) != 0)
		return -ENOMEM;
	diag_warning(d, NULL, "no manifests (*.yaml, *.yml) in %s", n ? list : "no directory");
	return 0;
}

int manifest_set_load_flags(struct manifest_set *set, char *const *args, size_t n_args,
			    unsigned flags, struct diag *d)
{
	_cleanup_free_ bool *is_dir = calloc(n_args + 1, sizeof(*is_dir));
	_cleanup_free_ bool *skip = calloc(n_args + 1, sizeof(*skip));
	struct overlay o = { 0 };
	bool overlay_read = false;
	int r = 0, q;

	if (!is_dir || !skip)
		return -ENOMEM;
	set->has_dir = flags & MANIFEST_SET_SYSTEM;
	/* The directories first: they are one overlay wherever they stand. */
	for (size_t i = 0; i < n_args; i++) {
		struct stat st;

		if (stat(args[i], &st) < 0) {
			q = -errno;
			skip[i] = true;
			if (q == -ENOENT && (flags & MANIFEST_SET_SYSTEM))
				continue;
			diag_error(d, &(struct diag_loc){ .file = args[i] }, "cannot read manifest: %s",
				   strerror(-q));
		} else if (S_ISDIR(st.st_mode)) {
			set->has_dir = is_dir[i] = true;
			q = overlay_add_dir(&o, args[i], flags, d);
		} else {
			continue;
		}
		if (q == -ENOMEM)
			goto out;
		r = r ?: q;
	}
	if (o.n)
		qsort(o.items, o.n, sizeof(*o.items), cmp_overlay);
	/* Then in order, the overlay where its first directory stands. */
	for (size_t i = 0; i < n_args; i++) {
		if (skip[i] || (is_dir[i] && overlay_read))
			continue;
		overlay_read = overlay_read || is_dir[i];
		for (size_t k = 0; k < (is_dir[i] ? o.n : 1); k++) {
			const char *path = is_dir[i] ? o.items[k].path : args[i];

			q = path ? set_add_file(set, path, flags, d) : 0;
			if (q == -ENOMEM)
				goto out;
			r = r ?: q;
		}
	}
	if ((flags & MANIFEST_SET_SYSTEM) && r == 0 && set->n == 0 && set->n_left_out == 0)
		r = warn_no_manifests(args, n_args, d);
	q = r < 0 ? r : set_check(set, flags, d);
out:
	overlay_done(&o);
	return q;
}

int manifest_set_load(struct manifest_set *set, char *const *args, size_t n_args, struct diag *d)
{
	return manifest_set_load_flags(set, args, n_args, 0, d);
}

int manifest_set_leave_out(struct manifest_set *set, size_t i)
{
	struct manifest *m = set->items[i];
	char *name = strdup(m->name);
	int r = name ? add_left_out(set, m->file, name) : -ENOMEM;

	if (r < 0)
		return r;
	manifest_free(m);
	memmove(&set->items[i], &set->items[i + 1], (set->n - i - 1) * sizeof(*set->items));
	set->n--;
	return 0;
}

bool manifest_set_left_out(const struct manifest_set *set, const char *name)
{
	for (size_t i = 0; i < set->n_left_out; i++)
		if (strcmp(set->left_out[i].name, name) == 0)
			return true;
	return false;
}

const struct manifest *manifest_set_find(const struct manifest_set *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->items[i]->name, name) == 0)
			return set->items[i];
	return NULL;
}

void manifest_set_done(struct manifest_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		manifest_free(set->items[i]);
	free(set->items);
	for (size_t i = 0; i < set->n_left_out; i++) {
		free(set->left_out[i].file);
		free(set->left_out[i].name);
	}
	free(set->left_out);
	*set = (struct manifest_set){ 0 };
}
