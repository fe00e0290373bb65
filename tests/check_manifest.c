// SPDX-License-Identifier: MIT
/* Unit tests of the manifest parser (manifest.c) and of the manifest-only
 * part of the desired stage: every field, every error with its location,
 * path rules, anchors and aliases, hostile documents. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "check_suites.h"
#include "desired.h"
#include "diag.h"
#include "manifest.h"

static struct manifest *parse_ok(const char *yaml)
{
	struct manifest *m = NULL;
	struct diag d = { 0 };
	int r = manifest_parse_buffer("/etc/bpf-provision.d/site.yaml", yaml, strlen(yaml), &d, &m);

	for (size_t i = 0; i < d.n_msgs; i++)
		fprintf(stderr, "unexpected: %u:%u: %s\n", d.msgs[i].line, d.msgs[i].column,
			d.msgs[i].text);
	ck_assert_int_eq(r, 0);
	ck_assert_uint_eq(d.n_errors, 0);
	ck_assert_ptr_nonnull(m);
	diag_done(&d);
	return m;
}

/* Parses yaml that must fail and returns its diagnostics. */
static struct diag parse_bad(const char *yaml, size_t len)
{
	struct manifest *m = (struct manifest *)0x1;
	struct diag d = { 0 };
	int r = manifest_parse_buffer("bad.yaml", yaml, len, &d, &m);

	ck_assert_int_eq(r, -EINVAL);
	ck_assert_ptr_eq(m, (struct manifest *)0x1); /* untouched on failure */
	ck_assert_uint_ge(d.n_errors, 1);
	return d;
}

static bool has_error(const struct diag *d, unsigned line, unsigned column, const char *needle)
{
	for (size_t i = 0; i < d->n_msgs; i++)
		if (d->msgs[i].line == line && d->msgs[i].column == column &&
		    strstr(d->msgs[i].text, needle) && d->msgs[i].file &&
		    strcmp(d->msgs[i].file, "bad.yaml") == 0)
			return true;
	return false;
}

static void dump(const struct diag *d)
{
	for (size_t i = 0; i < d->n_msgs; i++)
		fprintf(stderr, "  got %u:%u: %s\n", d->msgs[i].line, d->msgs[i].column,
			d->msgs[i].text);
}

START_TEST(test_full_manifest)
{
	struct manifest *m = parse_ok("version: 1\n"
				      "name: site\n"
				      "bpffs: /run/bpf\n"
				      "namespace: ns1\n"
				      "prune: false\n"
				      "owned: [ns1, tc/globals]\n"
				      "defaults:\n"
				      "  on_incompatible: replace\n"
				      "  mode: \"0600\"\n"
				      "  dir_mode: '750'\n"
				      "  owner: root\n"
				      "  group: 0\n"
				      "pin_ids: {4: foo/bar, 0o10: octal}\n"
				      "objects:\n"
				      "  - file: build/dummy.bpf.o\n"
				      "    namespace: objns\n"
				      "    sections:\n"
				      "      - section: maps/dummy_array_custom\n"
				      "        pinning: custom\n"
				      "        path: ns1/test1\n"
				      "      - map: counters\n"
				      "        pinning: global\n"
				      "        on_incompatible: migrate\n"
				      "        mode: \"0640\"\n"
				      "        group: bpf\n"
				      "      - section: socket/filter\n"
				      "        pinning: object\n"
				      "      - program: prog\n"
				      "        namespace: progns\n"
				      "        pinning: object\n"
				      "  - file: /abs/other.o\n"
				      "    name: other\n");
	struct manifest_object *o;
	struct manifest_entry *e;

	ck_assert_str_eq(m->name, "site");
	ck_assert_str_eq(m->bpffs, "/run/bpf");
	ck_assert_str_eq(m->namespace, "ns1");
	ck_assert(!m->prune);
	ck_assert_uint_eq(m->n_owned, 2);
	ck_assert_str_eq(m->owned[1], "tc/globals");
	ck_assert_int_eq(m->defaults.on_incompatible, ON_INCOMPATIBLE_REPLACE);
	ck_assert_int_eq(m->defaults.mode, 0600);
	ck_assert_int_eq(m->defaults.dir_mode, 0750);
	ck_assert_str_eq(m->defaults.owner, "root");
	ck_assert_str_eq(m->defaults.group, "0");
	ck_assert_uint_eq(m->n_pin_ids, 2);
	ck_assert_uint_eq(m->pin_ids[0].id, 4);
	ck_assert_str_eq(m->pin_ids[0].subdir, "foo/bar");
	ck_assert_uint_eq(m->pin_ids[1].id, 8);
	ck_assert_uint_eq(m->n_objects, 2);

	o = &m->objects[0];
	ck_assert_str_eq(o->file, "build/dummy.bpf.o");
	ck_assert_str_eq(o->file_path, "/etc/bpf-provision.d/build/dummy.bpf.o");
	ck_assert_str_eq(o->name, "dummy"); /* the file name up to its first dot */
	ck_assert_str_eq(o->namespace, "objns");
	ck_assert_uint_eq(o->loc.line, 15);
	ck_assert_uint_eq(o->loc.column, 5);
	ck_assert_uint_eq(o->n_entries, 4);

	e = &o->entries[0];
	ck_assert_int_eq(e->selector, MANIFEST_SELECT_SECTION);
	ck_assert_str_eq(e->value, "maps/dummy_array_custom");
	ck_assert_uint_eq(e->loc.line, 18);
	ck_assert_uint_eq(e->loc.column, 18);
	ck_assert_int_eq(e->pinning, PIN_MODE_CUSTOM);
	ck_assert_str_eq(e->path, "ns1/test1");
	ck_assert_str_eq(e->pin_path, "ns1/test1");
	/* Attributes not given on the entry come from the defaults. */
	ck_assert_int_eq(e->attrs.on_incompatible, ON_INCOMPATIBLE_REPLACE);
	ck_assert_int_eq(e->attrs.mode, 0600);
	ck_assert_int_eq(e->attrs.dir_mode, 0750);
	ck_assert_str_eq(e->attrs.owner, "root");
	ck_assert_str_eq(e->attrs.group, "0");

	e = &o->entries[1];
	ck_assert_int_eq(e->selector, MANIFEST_SELECT_MAP);
	ck_assert_int_eq(e->pinning, PIN_MODE_GLOBAL);
	ck_assert_str_eq(e->pin_path, "objns/globals/counters"); /* object ns before manifest's */
	ck_assert_int_eq(e->attrs.on_incompatible, ON_INCOMPATIBLE_MIGRATE);
	ck_assert_int_eq(e->attrs.mode, 0640);
	ck_assert_str_eq(e->attrs.group, "bpf");
	ck_assert_str_eq(e->attrs.owner, "root");

	/* A program section's pin name is its function name: known only from the ELF. */
	e = &o->entries[2];
	ck_assert_int_eq(e->pinning, PIN_MODE_OBJECT);
	ck_assert_ptr_null(e->pin_path);

	e = &o->entries[3];
	ck_assert_int_eq(e->selector, MANIFEST_SELECT_PROGRAM);
	ck_assert_str_eq(e->pin_path, "progns/dummy/prog");

	o = &m->objects[1];
	ck_assert_str_eq(o->file_path, "/abs/other.o");
	ck_assert_str_eq(o->name, "other");
	ck_assert_uint_eq(o->n_entries, 0);
	manifest_free(m);
}
END_TEST

START_TEST(test_defaults_when_absent)
{
	struct manifest *m = parse_ok("version: 1\nobjects:\n  - file: x.o\n"
				      "    sections: [{map: m1}]\n");

	ck_assert_str_eq(m->name, "site"); /* file name without .yaml */
	ck_assert_ptr_null(m->bpffs);
	ck_assert_ptr_null(m->namespace);
	ck_assert(m->prune);
	ck_assert_int_eq(m->defaults.mode, -1);
	ck_assert_int_eq(m->objects[0].entries[0].pinning, PIN_MODE_UNSET);
	ck_assert_int_eq(m->objects[0].entries[0].attrs.on_incompatible, ON_INCOMPATIBLE_UNSET);
	ck_assert_ptr_null(m->objects[0].entries[0].pin_path);
	manifest_free(m);

	m = parse_ok("version: 1\n");
	ck_assert_uint_eq(m->n_objects, 0);
	manifest_free(m);
}
END_TEST

START_TEST(test_global_pin_waits_for_elf_namespace)
{
	/* The ELF's namespace outranks the manifest's: not resolvable yet. */
	struct manifest *m = parse_ok("version: 1\nnamespace: ns\nobjects:\n  - file: x.o\n"
				      "    sections: [{map: m1, pinning: global}]\n");

	ck_assert_ptr_null(m->objects[0].entries[0].pin_path);
	manifest_free(m);
}
END_TEST

START_TEST(test_program_types)
{
	struct manifest *m = parse_ok("version: 1\n"
				      "objects:\n"
				      "  - file: x.o\n"
				      "    sections:\n"
				      "      - program: p\n"
				      "        type: xdp\n"
				      "        attach_type: xdp\n"
				      "      - section: classifier\n"
				      "        type: sched_cls\n"
				      "      - program: q\n"
				      "        attach_type: cgroup_inet_ingress\n"
				      "      - program: r\n"
				      "        type: socket_filter\n"
				      "      - map: m\n");
	const struct manifest_entry *e = m->objects[0].entries;

	ck_assert_int_eq(e[0].prog_type, BPF_PROG_TYPE_XDP);
	ck_assert_uint_eq(e[0].prog_type_loc.line, 6);
	ck_assert_uint_eq(e[0].prog_type_loc.column, 15);
	ck_assert_int_eq(e[0].attach_type, BPF_XDP);
	ck_assert_uint_eq(e[0].attach_type_loc.line, 7);
	ck_assert_uint_eq(e[0].attach_type_loc.column, 22);
	ck_assert_int_eq(e[1].prog_type, BPF_PROG_TYPE_SCHED_CLS);
	ck_assert_int_eq(e[1].attach_type, -1);
	/* attach_type alone: the type comes from the section name. */
	ck_assert_int_eq(e[2].prog_type, -1);
	ck_assert_int_eq(e[2].attach_type, BPF_CGROUP_INET_INGRESS); /* 0: a value, not "unset" */
	ck_assert_int_eq(e[3].prog_type, BPF_PROG_TYPE_SOCKET_FILTER);
	ck_assert_int_eq(e[4].prog_type, -1);
	ck_assert_int_eq(e[4].attach_type, -1);
	manifest_free(m);
}
END_TEST

START_TEST(test_object_named_like_tc_symlink)
{
	/* An object's directory lies below its namespace, never in the root. */
	struct manifest *m = parse_ok("version: 1\nobjects:\n"
				      "  - {file: xdp.o, namespace: tc,\n"
				      "     sections: [{program: p, pinning: object}]}\n"
				      "  - {file: a.o, name: ip}\n");

	ck_assert_str_eq(m->objects[0].name, "xdp");
	ck_assert_str_eq(m->objects[0].entries[0].pin_path, "tc/xdp/p");
	ck_assert_str_eq(m->objects[1].name, "ip");
	manifest_free(m);
}
END_TEST

START_TEST(test_anchors_and_aliases)
{
	struct manifest *m = parse_ok("version: 1\n"
				      "defaults: &d {mode: \"0600\", on_incompatible: migrate}\n"
				      "objects:\n"
				      "  - file: a.o\n"
				      "    namespace: &ns shared\n"
				      "    sections:\n"
				      "      - &e {map: m1, pinning: global}\n"
				      "  - file: b.o\n"
				      "    namespace: *ns\n"
				      "    sections: [*e]\n");

	ck_assert_str_eq(m->objects[1].namespace, "shared");
	ck_assert_str_eq(m->objects[0].entries[0].pin_path, "shared/globals/m1");
	ck_assert_str_eq(m->objects[1].entries[0].value, "m1");
	ck_assert_int_eq(m->objects[1].entries[0].attrs.on_incompatible, ON_INCOMPATIBLE_MIGRATE);
	manifest_free(m);
}
END_TEST

/* Every key of an attach item, and every form of the default pin:
 * NAMESPACE/links/OBJECT/PROGRAM_HOOK[_TARGET], NAMESPACE the entry's, else
 * the object's, else the manifest's, else its name. */
START_TEST(test_attach_items)
{
	struct manifest *m = parse_ok("version: 1\n"
				      "namespace: top\n"
				      "objects:\n"
				      "  - file: fw.bpf.o\n"
				      "    sections:\n"
				      "      - program: xdp_filter\n"
				      "        pinning: none\n"
				      "        attach:\n"
				      "          - xdp: veth0\n"
				      "            mode: native\n"
				      "            pin: fw/links/xdp-veth0\n"
				      "          - xdp: eth0.100\n"
				      "          - mode: generic\n"
				      "            xdp: lo\n"
				      "            optional: false\n"
				      "          - tc: veth0\n"
				      "            direction: ingress\n"
				      "          - direction: egress\n"
				      "            tc: veth0\n"
				      "            optional: true\n"
				      "          - cgroup: /sys/fs/cgroup/system.slice\n"
				      "            type: cgroup_inet_ingress\n"
				      "          - cgroup: test.slice/a-b\n"
				      "          - auto: true\n"
				      "      - program: none_attached\n"
				      "        attach: []\n"
				      "      - program: tracer\n"
				      "        namespace: entryns\n"
				      "        attach: [{auto: true, pin: t/l}]\n"
				      "      - program: plain\n"
				      "  - file: b.o\n"
				      "    namespace: objns\n"
				      "    sections: [{program: p, attach: [{xdp: eth0}]}]\n");
	const struct manifest_entry *e = m->objects[0].entries;
	const struct manifest_attach *a = e[0].attach;

	ck_assert_uint_eq(e[0].n_attach, 8);
	ck_assert_int_eq(e[0].pinning, PIN_MODE_NONE); /* the links keep it attached */

	ck_assert_int_eq(a[0].hook, MANIFEST_HOOK_XDP);
	ck_assert_str_eq(a[0].target, "veth0");
	ck_assert_uint_eq(a[0].loc.line, 9);
	ck_assert_uint_eq(a[0].loc.column, 18);
	ck_assert_int_eq(a[0].xdp_mode, MANIFEST_XDP_NATIVE);
	ck_assert_int_eq(a[0].direction, MANIFEST_DIRECTION_UNSET);
	ck_assert_int_eq(a[0].attach_type, -1);
	ck_assert(!a[0].optional);
	ck_assert_str_eq(a[0].pin, "fw/links/xdp-veth0");
	ck_assert_uint_eq(a[0].pin_loc.line, 11);
	ck_assert_uint_eq(a[0].pin_loc.column, 18);

	/* Defaults: mode auto; the pin from the hook, '.' made '_'; its
	 * location the hook's. */
	ck_assert_int_eq(a[1].hook, MANIFEST_HOOK_XDP);
	ck_assert_int_eq(a[1].xdp_mode, MANIFEST_XDP_AUTO);
	ck_assert_str_eq(a[1].target, "eth0.100");
	ck_assert_str_eq(a[1].pin, "top/links/fw/xdp_filter_xdp_eth0_100");
	ck_assert_uint_eq(a[1].pin_loc.line, 12);
	ck_assert_uint_eq(a[1].pin_loc.column, 18);
	ck_assert_uint_eq(a[1].loc.line, 12);

	/* Keys in any order. */
	ck_assert_int_eq(a[2].xdp_mode, MANIFEST_XDP_GENERIC);
	ck_assert_str_eq(a[2].pin, "top/links/fw/xdp_filter_xdp_lo");
	ck_assert_uint_eq(a[2].loc.line, 14);
	ck_assert_uint_eq(a[2].loc.column, 18);
	ck_assert(!a[2].optional);

	ck_assert_int_eq(a[3].hook, MANIFEST_HOOK_TC);
	ck_assert_int_eq(a[3].direction, MANIFEST_DIRECTION_INGRESS);
	ck_assert_str_eq(a[3].pin, "top/links/fw/xdp_filter_tc_ingress_veth0");
	ck_assert(!a[3].optional);
	ck_assert_int_eq(a[4].direction, MANIFEST_DIRECTION_EGRESS);
	ck_assert_str_eq(a[4].pin, "top/links/fw/xdp_filter_tc_egress_veth0");
	ck_assert(a[4].optional);

	ck_assert_int_eq(a[5].hook, MANIFEST_HOOK_CGROUP);
	ck_assert_str_eq(a[5].target, "/sys/fs/cgroup/system.slice");
	ck_assert_int_eq(a[5].attach_type, BPF_CGROUP_INET_INGRESS);
	ck_assert_uint_eq(a[5].attach_type_loc.line, 22);
	ck_assert_uint_eq(a[5].attach_type_loc.column, 19);
	ck_assert_str_eq(a[5].pin,
			 "top/links/fw/"
			 "xdp_filter_cgroup_sys_fs_cgroup_system_slice_cgroup_inet_ingress");
	ck_assert_str_eq(a[6].target, "test.slice/a-b"); /* relative to the cgroup2 mount */
	ck_assert_int_eq(a[6].attach_type, -1);
	ck_assert_str_eq(a[6].pin, "top/links/fw/xdp_filter_cgroup_test_slice_a-b");

	ck_assert_int_eq(a[7].hook, MANIFEST_HOOK_AUTO);
	ck_assert_ptr_null(a[7].target);
	ck_assert_uint_eq(a[7].loc.line, 24);
	ck_assert_uint_eq(a[7].loc.column, 19);
	ck_assert_str_eq(a[7].pin, "top/links/fw/xdp_filter_auto");

	ck_assert_uint_eq(e[1].n_attach, 0);
	ck_assert_uint_eq(e[2].n_attach, 1);
	ck_assert_str_eq(e[2].attach[0].pin, "t/l");
	ck_assert_uint_eq(e[3].n_attach, 0);
	ck_assert_ptr_null(e[3].attach);

	e = m->objects[1].entries;
	ck_assert_str_eq(e[0].attach[0].pin, "objns/links/b/p_xdp_eth0");
	manifest_free(m);

	/* The entry's namespace first; without any, the manifest's name. */
	m = parse_ok("version: 1\n"
		     "objects:\n"
		     "  - file: a.o\n"
		     "    namespace: objns\n"
		     "    sections: [{program: p, namespace: ens, attach: [{auto: true}]}]\n"
		     "  - file: b.o\n"
		     "    sections: [{program: 'sec/tion', attach: [{cgroup: //x/y.z/}]}]\n");
	ck_assert_str_eq(m->objects[0].entries[0].attach[0].pin, "ens/links/a/p_auto");
	/* Leading slashes dropped, the rest of the name made '_'. */
	ck_assert_str_eq(m->objects[1].entries[0].attach[0].pin,
			 "site/links/b/sec_tion_cgroup_x_y_z_");
	manifest_free(m);
}
END_TEST

/* Every wrong item is reported, each once: a wrong item gets no default
 * pin, so no error about a name made from what was wrong. */
START_TEST(test_attach_errors_go_on)
{
	static const char yaml[] = "version: 1\n"
				   "objects:\n"
				   "  - file: x.o\n"
				   "    sections:\n"
				   "      - map: m\n"
				   "        attach: [{xdp: eth0}]\n"
				   "      - program: p\n"
				   "        attach:\n"
				   "          - auto: false\n"
				   "          - auto: 0\n"
				   "          - tc: eth0\n"
				   "          - tc: eth0\n"
				   "          - xdp: eth0\n"
				   "            mode: skb\n"
				   "            type: xdp\n"
				   "          - xdp: eth0\n"
				   "            pin: x/y\n"
				   "          - cgroup: /a\n"
				   "            pin: x/y\n"
				   "      - program: q\n"
				   "        attach: [{auto: true, pin: x/y}]\n";
	struct diag d = parse_bad(yaml, sizeof(yaml) - 1);

	ck_assert(has_error(&d, 6, 17, "'attach' applies to programs; map 'm'"));
	ck_assert(has_error(&d, 9, 19, "'auto: false' attaches nothing"));
	ck_assert(has_error(&d, 10, 19, "'auto' must be true"));
	ck_assert(has_error(&d, 11, 13, "a tc item needs 'direction'"));
	ck_assert(has_error(&d, 12, 13, "a tc item needs 'direction'"));
	ck_assert(has_error(&d, 14, 19, "invalid mode 'skb'"));
	ck_assert(has_error(&d, 15, 19, "'type' applies to cgroup items only"));
	ck_assert(has_error(&d, 19, 18, "link pin 'x/y' declared twice (first at 17:18)"));
	/* Another entry's link at the same pin is the desired stage's to find. */
	if (d.n_errors != 8)
		dump(&d);
	ck_assert_uint_eq(d.n_errors, 8);
	diag_done(&d);
}
END_TEST

/* The default pin's last component is PROGRAM_HOOK: at most 255 bytes. */
START_TEST(test_attach_default_pin_length)
{
	char name[300], yaml[512];
	struct manifest *m;
	struct diag d;

	memset(name, 'a', 250);
	name[250] = '\0';
	snprintf(yaml, sizeof(yaml),
		 "version: 1\nobjects: [{file: x.o, sections: [{program: %s, attach: [{auto: "
		 "true}]}]}]\n",
		 name);
	m = parse_ok(yaml);
	ck_assert_uint_eq(strlen(m->objects[0].entries[0].attach[0].pin),
			  strlen("site/links/x/") + 255);
	manifest_free(m);

	strcat(name, "a");
	snprintf(yaml, sizeof(yaml),
		 "version: 1\nobjects: [{file: x.o, sections: [{program: %s, attach: [{auto: "
		 "true}]}]}]\n",
		 name);
	d = parse_bad(yaml, strlen(yaml));
	ck_assert(has_error(&d, 2, 313, "component longer than 255 bytes; give 'pin'"));
	ck_assert_uint_eq(d.n_errors, 1);
	diag_done(&d);

	/* With 'pin', no default is made, nor checked. */
	snprintf(yaml, sizeof(yaml),
		 "version: 1\nname: site.v2\nobjects: [{file: x.o, sections: [{program: %s, "
		 "attach: [{auto: true, pin: l/a}]}]}]\n",
		 name);
	m = parse_ok(yaml);
	ck_assert_str_eq(m->objects[0].entries[0].attach[0].pin, "l/a");
	manifest_free(m);
}
END_TEST

/* An aliased entry is parsed again for each object: its default pins name
 * each object. */
START_TEST(test_attach_aliases)
{
	struct manifest *m = parse_ok("version: 1\n"
				      "objects:\n"
				      "  - file: a.o\n"
				      "    sections:\n"
				      "      - &e {program: p,\n"
				      "            attach: [{xdp: eth0}, {auto: true}]}\n"
				      "  - file: b.o\n"
				      "    sections: [*e]\n");

	ck_assert_str_eq(m->objects[0].entries[0].attach[0].pin, "site/links/a/p_xdp_eth0");
	ck_assert_str_eq(m->objects[1].entries[0].attach[0].pin, "site/links/b/p_xdp_eth0");
	ck_assert_str_eq(m->objects[1].entries[0].attach[1].pin, "site/links/b/p_auto");
	ck_assert_uint_eq(m->objects[1].entries[0].attach[1].loc.line, 6);
	manifest_free(m);
}
END_TEST

START_TEST(test_attach_strings)
{
	ck_assert_str_eq(manifest_hook_str(MANIFEST_HOOK_XDP), "xdp");
	ck_assert_str_eq(manifest_hook_str(MANIFEST_HOOK_TC), "tc");
	ck_assert_str_eq(manifest_hook_str(MANIFEST_HOOK_CGROUP), "cgroup");
	ck_assert_str_eq(manifest_hook_str(MANIFEST_HOOK_AUTO), "auto");
	ck_assert_ptr_null(manifest_hook_str(MANIFEST_HOOK_MAX));
	ck_assert_ptr_null(manifest_hook_str(-1));
	ck_assert_str_eq(manifest_xdp_mode_str(MANIFEST_XDP_AUTO), "auto");
	ck_assert_str_eq(manifest_xdp_mode_str(MANIFEST_XDP_NATIVE), "native");
	ck_assert_str_eq(manifest_xdp_mode_str(MANIFEST_XDP_GENERIC), "generic");
	ck_assert_ptr_null(manifest_xdp_mode_str(MANIFEST_XDP_MODE_MAX));
	ck_assert_str_eq(manifest_direction_str(MANIFEST_DIRECTION_INGRESS), "ingress");
	ck_assert_str_eq(manifest_direction_str(MANIFEST_DIRECTION_EGRESS), "egress");
	ck_assert_ptr_null(manifest_direction_str(MANIFEST_DIRECTION_UNSET));
	ck_assert_ptr_null(manifest_direction_str(MANIFEST_DIRECTION_MAX));
}
END_TEST

START_TEST(test_map_contents)
{
	struct manifest *m = parse_ok("version: 1\n"
				      "objects:\n"
				      "  - file: x.o\n"
				      "    sections:\n"
				      "      - map: config\n"
				      "        entries:\n"
				      "          - {key: 1, value: 100}\n"
				      "          - {key: \"0x0a000001\", value: '0x01000000'}\n"
				      "          - {key: 2, value: {port: 443, enabled: true}}\n"
				      "        seed: enforce\n"
				      "        exact: true\n"
				      "      - map: jmp_table\n"
				      "        entries:\n"
				      "          - {key: 0, program: parse_ipv4}\n"
				      "      - map: empty\n"
				      "        entries: []\n"
				      "      - map: none\n");
	const struct manifest_entry *e = &m->objects[0].entries[0];
	const struct manifest_contents *c = &e->contents;
	const struct manifest_map_entry *me;

	ck_assert(c->has_entries);
	ck_assert_uint_eq(c->loc.line, 7);
	ck_assert_uint_eq(c->loc.column, 11);
	ck_assert_int_eq(c->seed, MANIFEST_SEED_ENFORCE);
	ck_assert_uint_eq(c->seed_loc.line, 10);
	ck_assert_uint_eq(c->seed_loc.column, 15);
	ck_assert(c->exact);
	ck_assert_uint_eq(c->exact_loc.line, 11);
	ck_assert_uint_eq(c->n_entries, 3);

	me = &c->entries[0];
	ck_assert_uint_eq(me->loc.line, 7);
	ck_assert_uint_eq(me->loc.column, 13);
	ck_assert_ptr_null(me->program);
	ck_assert_int_eq(me->key.kind, MANIFEST_VALUE_INT);
	ck_assert_uint_eq(me->key.u, 1);
	ck_assert(!me->key.negative);
	ck_assert_uint_eq(me->key.loc.column, 19);
	ck_assert_int_eq(me->value.kind, MANIFEST_VALUE_INT);
	ck_assert_uint_eq(me->value.u, 100);
	ck_assert_uint_eq(me->value.loc.column, 29);

	/* Quoted "0x..." strings are bytes in the order written. */
	me = &c->entries[1];
	ck_assert_int_eq(me->key.kind, MANIFEST_VALUE_BYTES);
	ck_assert_uint_eq(me->key.n_bytes, 4);
	ck_assert_mem_eq(me->key.bytes, "\x0a\x00\x00\x01", 4);
	ck_assert_int_eq(me->value.kind, MANIFEST_VALUE_BYTES);
	ck_assert_mem_eq(me->value.bytes, "\x01\x00\x00\x00", 4);

	me = &c->entries[2];
	ck_assert_int_eq(me->value.kind, MANIFEST_VALUE_STRUCT);
	ck_assert_uint_eq(me->value.n_fields, 2);
	ck_assert_str_eq(me->value.fields[0].name, "port");
	ck_assert_uint_eq(me->value.fields[0].name_loc.line, 9);
	ck_assert_uint_eq(me->value.fields[0].name_loc.column, 30);
	ck_assert_int_eq(me->value.fields[0].value.kind, MANIFEST_VALUE_INT);
	ck_assert_uint_eq(me->value.fields[0].value.u, 443);
	ck_assert_uint_eq(me->value.fields[0].value.loc.column, 36);
	ck_assert_str_eq(me->value.fields[1].name, "enabled");
	ck_assert_int_eq(me->value.fields[1].value.kind, MANIFEST_VALUE_INT);
	ck_assert_uint_eq(me->value.fields[1].value.u, 1); /* true */

	c = &m->objects[0].entries[1].contents;
	ck_assert_int_eq(c->seed, MANIFEST_SEED_CREATE); /* the default */
	ck_assert_ptr_null(c->seed_loc.file);
	ck_assert(!c->exact);
	ck_assert_uint_eq(c->n_entries, 1);
	ck_assert_str_eq(c->entries[0].program, "parse_ipv4");
	ck_assert_uint_eq(c->entries[0].program_loc.line, 14);
	ck_assert_uint_eq(c->entries[0].program_loc.column, 31);
	ck_assert_uint_eq(c->entries[0].key.u, 0);

	c = &m->objects[0].entries[2].contents;
	ck_assert(c->has_entries);
	ck_assert_uint_eq(c->n_entries, 0);
	c = &m->objects[0].entries[3].contents;
	ck_assert(!c->has_entries);
	ck_assert_ptr_null(c->entries);
	manifest_free(m);
}
END_TEST

START_TEST(test_map_values)
{
	struct manifest *m = parse_ok(
		"version: 1\n"
		"objects: [{file: x.o, sections: [{map: m, entries: [\n"
		"  {key: -1, value: 0xffffffffffffffff},\n"
		"  {key: -9223372036854775808, value: 18446744073709551615},\n"
		"  {key: 0o17, value: +5},\n"
		"  {key: -0, value: false},\n"
		"  {key: \"0x\", value: \"0xDeadBEEF\"},\n"
		"  {key: {prefixlen: 24, addr: {a: 10, b: \"0x0a00\"}}, value: {}},\n"
		"  {key: True, value: 0x0a000001}]}]}]\n");
	const struct manifest_map_entry *me = m->objects[0].entries[0].contents.entries;
	const struct manifest_value *v;

	ck_assert_uint_eq(m->objects[0].entries[0].contents.n_entries, 7);
	/* Negative: two's complement in u. */
	ck_assert_uint_eq(me[0].key.u, UINT64_MAX);
	ck_assert(me[0].key.negative);
	ck_assert_uint_eq(me[0].value.u, UINT64_MAX);
	ck_assert(!me[0].value.negative);
	ck_assert_uint_eq(me[1].key.u, 1ull << 63);
	ck_assert(me[1].key.negative);
	ck_assert_uint_eq(me[1].value.u, UINT64_MAX);
	ck_assert_uint_eq(me[2].key.u, 15);
	ck_assert_uint_eq(me[2].value.u, 5);
	ck_assert(!me[2].value.negative);
	ck_assert_uint_eq(me[3].key.u, 0);
	ck_assert(!me[3].key.negative); /* -0 is 0 */
	ck_assert_int_eq(me[3].value.kind, MANIFEST_VALUE_INT);
	ck_assert_uint_eq(me[3].value.u, 0);
	/* "0x" alone: no bytes (sizes are checked with the map). */
	ck_assert_int_eq(me[4].key.kind, MANIFEST_VALUE_BYTES);
	ck_assert_uint_eq(me[4].key.n_bytes, 0);
	ck_assert_uint_eq(me[4].value.n_bytes, 4);
	ck_assert_mem_eq(me[4].value.bytes, "\xde\xad\xbe\xef", 4);
	/* Nested structs; an empty mapping is a struct of zeros. */
	v = &me[5].key;
	ck_assert_int_eq(v->kind, MANIFEST_VALUE_STRUCT);
	ck_assert_uint_eq(v->n_fields, 2);
	ck_assert_str_eq(v->fields[1].name, "addr");
	v = &v->fields[1].value;
	ck_assert_int_eq(v->kind, MANIFEST_VALUE_STRUCT);
	ck_assert_uint_eq(v->n_fields, 2);
	ck_assert_uint_eq(v->fields[0].value.u, 10);
	ck_assert_int_eq(v->fields[1].value.kind, MANIFEST_VALUE_BYTES);
	ck_assert_uint_eq(v->fields[1].value.n_bytes, 2);
	ck_assert_int_eq(me[5].value.kind, MANIFEST_VALUE_STRUCT);
	ck_assert_uint_eq(me[5].value.n_fields, 0);
	/* Unquoted 0x... is a YAML integer, not bytes. */
	ck_assert_int_eq(me[6].key.kind, MANIFEST_VALUE_INT);
	ck_assert_uint_eq(me[6].key.u, 1);
	ck_assert_int_eq(me[6].value.kind, MANIFEST_VALUE_INT);
	ck_assert_uint_eq(me[6].value.u, 0x0a000001);
	ck_assert_str_eq(manifest_seed_str(MANIFEST_SEED_CREATE), "create");
	ck_assert_str_eq(manifest_seed_str(MANIFEST_SEED_ENFORCE), "enforce");
	ck_assert_ptr_null(manifest_seed_str(MANIFEST_SEED_MAX));
	manifest_free(m);
}
END_TEST

START_TEST(test_standalone_maps)
{
	struct manifest *m = parse_ok("version: 1\n"
				      "defaults: {mode: \"0600\", owner: root, on_incompatible: migrate}\n"
				      "maps:\n"
				      "  - path: acme/cfg/limits\n"
				      "    type: hash\n"
				      "    key_size: 4\n"
				      "    value_size: 8\n"
				      "    max_entries: 0x400\n"
				      "    flags: [no_prealloc, rdonly_prog, no_user_conv]\n"
				      "    name: lim.v1\n"
				      "    mode: \"0640\"\n"
				      "    group: bpf\n"
				      "    entries: [{key: 1, value: 2}]\n"
				      "    seed: enforce\n"
				      "    exact: false\n"
				      "  - {path: acme/rate-limits-per-client, type: lpm_trie, key_size: 8,\n"
				      "     value_size: 0, max_entries: 0}\n"
				      "  - {path: a/b, type: cgrp_storage, key_size: 4, value_size: 4,\n"
				      "     max_entries: 4294967295, name: x}\n");
	const struct manifest_map *map;

	ck_assert_uint_eq(m->n_maps, 3);
	ck_assert_uint_eq(m->n_objects, 0);
	map = &m->maps[0];
	ck_assert_str_eq(map->path, "acme/cfg/limits");
	ck_assert_uint_eq(map->loc.line, 4);
	ck_assert_uint_eq(map->loc.column, 11);
	ck_assert_uint_eq(map->type, BPF_MAP_TYPE_HASH);
	ck_assert_uint_eq(map->type_loc.line, 5);
	ck_assert_uint_eq(map->key_size, 4);
	ck_assert_uint_eq(map->value_size, 8);
	ck_assert_uint_eq(map->max_entries, 1024);
	ck_assert_uint_eq(map->flags, BPF_F_NO_PREALLOC | BPF_F_RDONLY_PROG | (1u << 18));
	ck_assert_uint_eq(map->flags_loc.line, 9);
	ck_assert_uint_eq(map->flags_loc.column, 12);
	ck_assert_str_eq(map->name, "lim.v1");
	/* Attributes over the defaults. */
	ck_assert_int_eq(map->attrs.mode, 0640);
	ck_assert_str_eq(map->attrs.owner, "root");
	ck_assert_str_eq(map->attrs.group, "bpf");
	ck_assert_int_eq(map->attrs.on_incompatible, ON_INCOMPATIBLE_MIGRATE);
	ck_assert_int_eq(map->attrs.dir_mode, -1);
	ck_assert(map->contents.has_entries);
	ck_assert_uint_eq(map->contents.n_entries, 1);
	ck_assert_uint_eq(map->contents.entries[0].value.u, 2);
	ck_assert_int_eq(map->contents.seed, MANIFEST_SEED_ENFORCE);
	ck_assert(!map->contents.exact);

	/* Default name: the last component, what the kernel refuses made '_',
	 * cut to 15 bytes. */
	map = &m->maps[1];
	ck_assert_str_eq(map->name, "rate_limits_per");
	ck_assert_uint_eq(map->type, BPF_MAP_TYPE_LPM_TRIE);
	ck_assert_uint_eq(map->value_size, 0);
	ck_assert_uint_eq(map->flags, 0);
	ck_assert_int_eq(map->attrs.mode, 0600);
	ck_assert(!map->contents.has_entries);
	map = &m->maps[2];
	ck_assert_str_eq(map->name, "x");
	ck_assert_uint_eq(map->max_entries, UINT32_MAX);
	manifest_free(m);
}
END_TEST

START_TEST(test_map_contents_errors_go_on)
{
	static const char yaml[] = "version: 1\n"
				   "objects:\n"
				   "  - file: x.o\n"
				   "    sections:\n"
				   "      - map: m\n"
				   "        entries:\n"
				   "          - {key: x, value: 1}\n"
				   "          - {key: 1, value: {a: [1]}}\n"
				   "          - {key: 2, value: 3}\n"
				   "        exact: true\n"
				   "maps:\n"
				   "  - path: a\n"
				   "    type: hashmap\n"
				   "    key_size: 4\n"
				   "    value_size: 4\n"
				   "    max_entries: 1\n"
				   "    entries: [{key: 1, program: p}]\n"
				   "  - {path: a, type: array, key_size: 4, value_size: 4, max_entries: 1}\n";
	struct diag d = parse_bad(yaml, sizeof(yaml) - 1);

	if (d.n_errors != 6)
		dump(&d);
	ck_assert_uint_eq(d.n_errors, 6);
	ck_assert(has_error(&d, 7, 19, "invalid key or value 'x'"));
	ck_assert(has_error(&d, 8, 33, "a sequence is not a key or value"));
	ck_assert(has_error(&d, 10, 16, "exact applies with seed: enforce"));
	ck_assert(has_error(&d, 13, 11, "unknown map type 'hashmap'"));
	ck_assert(has_error(&d, 17, 33, "a standalone map has no object"));
	ck_assert(has_error(&d, 18, 12, "map path 'a' declared twice (first at 12:11)"));
	diag_done(&d);
}
END_TEST

START_TEST(test_map_value_recursive_alias)
{
	/* An alias inside its own anchor: the value would never end. */
	static const char yaml[] = "version: 1\n"
				   "objects: [{file: x.o, sections: [{map: m, entries: [\n"
				   "  {key: 1, value: &v {a: 1, b: *v}}]}]}]\n";
	struct diag d = parse_bad(yaml, sizeof(yaml) - 1);

	ck_assert(has_error(&d, 3, 19, "nesting deeper than 64 levels"));
	diag_done(&d);
}
END_TEST

START_TEST(test_map_entries_alias_bomb)
{
	/* A thousand entries of a thousand aliased lists: stopped, with no
	 * errors about keys the walk never reached. */
	char *yaml = malloc(64 * 1024), *w = yaml;
	struct diag d;

	w += sprintf(w, "version: 1\nobjects:\n  - {file: x.o, sections: [{map: m, entries: &l [");
	for (int i = 0; i < 1000; i++)
		w += sprintf(w, "%s%s", i ? ", " : "", i ? "*e" : "&e {key: 1, value: {a: 1}}");
	w += sprintf(w, "]}");
	for (int i = 0; i < 1000; i++)
		w += sprintf(w, ", {map: m%d, entries: *l}", i);
	w += sprintf(w, "]}\n");
	d = parse_bad(yaml, (size_t)(w - yaml));
	ck_assert(has_error(&d, 1, 1, "too complex"));
	ck_assert_uint_eq(d.n_errors, 1);
	diag_done(&d);
	free(yaml);
}
END_TEST

struct bad_case {
	const char *yaml;
	unsigned line, column;
	const char *needle;
};

/* A manifest whose program p has the attach list items, all on line 2: the
 * list starts at column 55, its first item at 56. */
#define ATTACH(items)                                                                              \
	"version: 1\nobjects: [{file: x.o, sections: [{program: p, attach: " items "}]}]\n"

/* A manifest whose map m has the entries items, on line 2 from column 52. */
#define ENTRIES(items)                                                                             \
	"version: 1\nobjects: [{file: x.o, sections: [{map: m, entries: " items "}]}]\n"
/* One section entry, on line 2 from column 34. */
#define SECTIONS(entry) "version: 1\nobjects: [{file: x.o, sections: [" entry "]}]\n"
/* Standalone maps, on line 2 from column 8; SMAP has the keys one requires. */
#define MAPS(maps) "version: 1\nmaps: [" maps "]\n"
#define SMAP "path: a/b, type: hash, key_size: 4, value_size: 8, max_entries: 16"

static const struct bad_case bad_cases[] = {
	{ "name: x\n", 1, 1, "missing required key 'version'" },
	{ "version: 2\n", 1, 10, "unsupported version" },
	{ "version: \"1\"\n", 1, 10, "'version' must be an integer" },
	{ "version: 1\nversion: 1\n", 2, 1, "duplicate key 'version'" },
	{ "version: 1\nextra: 1\n", 2, 1, "unknown key 'extra' in manifest" },
	{ "version: 1\nname: a/b\n", 2, 7, "invalid name" },
	{ "version: 1\nname: [a]\n", 2, 7, "'name' must be a string" },
	{ "version: 1\nname: 12\n", 2, 7, "'name' must be a string" },
	{ "version: 1\nbpffs: sys/fs/bpf\n", 2, 8, "must be an absolute path" },
	{ "version: 1\nnamespace: a..b\n", 2, 12, "contains '..'" },
	{ "version: 1\nnamespace: /abs\n", 2, 12, "absolute" },
	{ "version: 1\nnamespace: a//b\n", 2, 12, "empty component" },
	{ "version: 1\nnamespace: 'a/'\n", 2, 12, "empty component" },
	{ "version: 1\nnamespace: a.b\n", 2, 12, "dots" },
	{ "version: 1\nnamespace: \"a\\nb\"\n", 2, 12, "control character" },
	{ "version: 1\nprune: yes\n", 2, 8, "'prune' must be a boolean" },
	{ "version: 1\nowned: ns1\n", 2, 8, "must be a sequence" },
	{ "version: 1\nowned: [a, b, a]\n", 2, 15, "duplicate entry in 'owned'" },
	{ "version: 1\ndefaults: []\n", 2, 11, "must be a mapping" },
	{ "version: 1\ndefaults: {modes: '0600'}\n", 2, 12, "unknown key 'modes' in defaults" },
	{ "version: 1\ndefaults: {mode: 0600}\n", 2, 18, "invalid mode" },
	{ "version: 1\ndefaults: {mode: '0999'}\n", 2, 18, "invalid mode" },
	{ "version: 1\ndefaults: {dir_mode: rwx}\n", 2, 22, "invalid dir_mode" },
	{ "version: 1\ndefaults: {owner: -1}\n", 2, 19, "invalid owner" },
	{ "version: 1\ndefaults: {group: '-x'}\n", 2, 19, "invalid group" },
	{ "version: 1\ndefaults: {on_incompatible: drop}\n", 2, 29, "invalid on_incompatible" },
	{ "version: 1\npin_ids: {2: a}\n", 2, 11, "invalid pin id" },
	{ "version: 1\npin_ids: {x: a}\n", 2, 11, "invalid pin id" },
	{ "version: 1\npin_ids: {4: /a}\n", 2, 14, "absolute" },
	{ "version: 1\npin_ids: [4]\n", 2, 10, "must be a mapping" },
	{ "version: 1\nobjects: {file: x}\n", 2, 10, "must be a sequence" },
	{ "version: 1\nobjects:\n", 2, 9, "must be a sequence" },
	{ "version: 1\nobjects: [x.o]\n", 2, 11, "object must be a mapping" },
	{ "version: 1\nobjects: [{name: x}]\n", 2, 11, "missing required key 'file'" },
	{ "version: 1\nobjects: [{file: ''}]\n", 2, 18, "invalid file" },
	{ "version: 1\nobjects: [{file: x.o, size: 1}]\n", 2, 23, "unknown key 'size' in object" },
	{ "version: 1\nobjects: [{file: x.o, name: a.b}]\n", 2, 29, "invalid name" },
	{ "version: 1\nobjects: [{file: .o}]\n", 2, 11, "give 'name'" },
	{ "version: 1\nobjects: [{file: x.o, name: bpfprov_tmp_o}]\n", 2, 29,
	  "names starting with 'bpfprov_tmp_' are reserved" },
	{ "version: 1\nobjects: [{file: a/bpfprov_tmp_1.o}]\n", 2, 11,
	  "cannot use 'bpfprov_tmp_1' as the object name" },
	{ "version: 1\nnamespace: ip\n", 2, 12, "'ip' is a symlink to 'tc'" },
	{ "version: 1\nowned: [tc, xdp/x]\n", 2, 13, "'xdp' is a symlink to 'tc'" },
	{ "version: 1\npin_ids: {4: ip}\n", 2, 14, "'ip' is a symlink to 'tc'" },
	{ "version: 1\nobjects: [{file: x.o, sections: {}}]\n", 2, 33, "must be a sequence" },
	{ "version: 1\nobjects: [{file: x.o, sections: [m]}]\n", 2, 34, "must be a mapping" },
	{ "version: 1\nobjects: [{file: x.o, sections: [{pinning: none}]}]\n", 2, 34,
	  "exactly one of 'section', 'map', 'program'" },
	{ "version: 1\nobjects: [{file: x.o, sections: [{map: a, program: b}]}]\n", 2, 43,
	  "exactly one of 'section', 'map', 'program'" },
	{ "version: 1\nobjects: [{file: x.o, sections: [{map: a, pinning: pinned}]}]\n", 2, 52,
	  "invalid pinning" },
	{ "version: 1\nobjects: [{file: x.o, sections: [{map: a, pinning: custom}]}]\n", 2, 52,
	  "needs a 'path'" },
	{ "version: 1\nobjects: [{file: x.o, sections: [{map: a, pinning: global, path: p}]}]\n",
	  2, 66, "'path' is only used with pinning 'custom'" },
	{ "version: 1\nobjects: [{file: x.o, sections: [{map: a, path: ../x}]}]\n", 2, 49,
	  "contains '..'" },
	{ "version: 1\nobjects: [{file: x.o, sections: [{map: ''}]}]\n", 2, 40, "invalid map" },
	{ "version: 1\nobjects: [{file: x.o, sections: [{map: a, colour: b}]}]\n", 2, 43,
	  "unknown key 'colour' in section entry" },
	{ "version: 1\nobjects: [{file: x.o, sections: [{program: p, type: xpd}]}]\n", 2, 53,
	  "unknown program type 'xpd'; did you mean 'xdp'? (one of: socket_filter, kprobe, " },
	{ "version: 1\nobjects: [{file: x.o, sections: [{program: p, type: unspec}]}]\n", 2, 53,
	  "unknown program type 'unspec'" },
	{ "version: 1\nobjects: [{file: x.o, sections: [{program: p, type: [xdp]}]}]\n", 2, 53,
	  "'type' must be a string" },
	{ "version: 1\nobjects: [{file: x.o, sections: [{program: p, attach_type: in}]}]\n", 2,
	  60, "unknown attach type 'in' (one of: cgroup_inet_ingress, cgroup_inet_egress, " },
	{ "version: 1\nobjects: [{file: x.o, sections: [{map: m, type: xdp}]}]\n", 2, 49,
	  "'type' applies to programs; map 'm' cannot have one" },
	{ "version: 1\nobjects: [{file: x.o, sections: [{attach_type: xdp, map: m}]}]\n", 2, 48,
	  "'attach_type' applies to programs; map 'm' cannot have one" },
	{ "version: 1\nobjects: [{file: x.o, sections: [{map: m, type: xpd}]}]\n", 2, 49,
	  "'type' applies to programs" },
	{ "version: 1\nobjects: [{file: x.o, pin_root: /sys/fs/bpf/tc}]\n", 2, 33,
	  "invalid pin_root '/sys/fs/bpf/tc': absolute (it is relative to the bpffs root; '/' "
	  "alone is the root itself)" },
	{ "version: 1\nobjects: [{file: x.o, pin_root: ''}]\n", 2, 33,
	  "invalid pin_root '': empty" },
	{ "version: 1\nobjects: [{file: x.o, pin_root: 'a/'}]\n", 2, 33, "empty component" },
	{ "version: 1\nobjects: [{file: x.o, pin_root: xdp/globals}]\n", 2, 33,
	  "'xdp' is a symlink to 'tc'" },
	{ "version: 1\nobjects: [{file: x.o, pin_root: bpfprov_tmp_1}]\n", 2, 33,
	  "reserved for bpf-provision's temporary pins" },
	{ "version: 1\nobjects: [{file: x.o, pin_root: 1}]\n", 2, 33,
	  "'pin_root' must be a string" },
	{ "version: 1\nobjects: [{file: x.o, object_dir: sha256}]\n", 2, 35,
	  "invalid object_dir 'sha256' (expected sha1)" },
	{ "version: 1\nobjects: [{file: x.o, object_dir: true}]\n", 2, 35,
	  "'object_dir' must be a string" },
	{ "version: 1\nobjects: [{file: a/x.o}, {file: b/x.o}]\n", 2, 26,
	  "duplicate object name 'x'" },
	{ "version: 1\nobjects: [{file: x.o, sections: [{map: a}, {map: a}]}]\n", 2, 50,
	  "duplicate entry for map 'a'" },
	/* attach: only on 'program:' entries, a sequence of mappings. */
	{ "version: 1\nobjects: [{file: x.o, sections: [{map: m, attach: []}]}]\n", 2, 51,
	  "'attach' applies to programs; map 'm' cannot have one" },
	{ "version: 1\nobjects: [{file: x.o, sections: [{attach: [{xdp: a}], section: xdp}]}]\n", 2,
	  43, "'attach' applies to programs; select this one with 'program: FUNCTION' instead of "
	      "section 'xdp'" },
	{ ATTACH("{xdp: eth0}"), 2, 55, "'attach' must be a sequence" },
	{ ATTACH(""), 2, 55, "'attach' must be a sequence" },
	{ ATTACH("[x]"), 2, 56, "attach item must be a mapping" },
	/* One hook per item. */
	{ ATTACH("[{}]"), 2, 56, "attach item needs exactly one of 'xdp', 'tc', 'cgroup', 'auto'" },
	{ ATTACH("[{mode: native}]"), 2, 56, "needs exactly one of 'xdp', 'tc', 'cgroup', 'auto'" },
	{ ATTACH("[{xdp: eth0, tc: eth1}]"), 2, 68, "needs exactly one of" },
	{ ATTACH("[{auto: true, cgroup: /a, xdp: b}]"), 2, 69, "needs exactly one of" },
	{ ATTACH("[{auto: true, auto: true}]"), 2, 69, "duplicate key 'auto'" },
	{ ATTACH("[{auto: true, colour: red}]"), 2, 69, "unknown key 'colour' in attach item" },
	/* Interface names as the kernel takes them. */
	{ ATTACH("[{xdp: ''}]"), 2, 62, "invalid interface name '': empty" },
	{ ATTACH("[{xdp: abcdefghijklmnop}]"), 2, 62,
	  "invalid interface name 'abcdefghijklmnop': longer than 15 bytes (IFNAMSIZ)" },
	{ ATTACH("[{tc: a/b, direction: ingress}]"), 2, 61, "contains '/'" },
	{ ATTACH("[{xdp: .}]"), 2, 62, "'.' and '..' are not interface names" },
	{ ATTACH("[{xdp: ..}]"), 2, 62, "'.' and '..' are not interface names" },
	{ ATTACH("[{xdp: 'a b'}]"), 2, 62, "contains whitespace" },
	{ ATTACH("[{xdp: \"a\\tb\"}]"), 2, 62, "contains whitespace" },
	{ ATTACH("[{xdp: \"a\\x01\"}]"), 2, 62, "control character" },
	{ ATTACH("[{xdp: 'eth0:1'}]"), 2, 62, "contains ':'" },
	{ ATTACH("[{xdp: 5}]"), 2, 62, "'xdp' must be a string" },
	{ ATTACH("[{tc: [eth0], direction: egress}]"), 2, 61, "'tc' must be a string" },
	/* mode with xdp, direction with tc (and there required), type with cgroup. */
	{ ATTACH("[{xdp: eth0, mode: fast}]"), 2, 74,
	  "invalid mode 'fast' (expected native, generic or auto)" },
	{ ATTACH("[{xdp: eth0, mode: true}]"), 2, 74, "'mode' must be a string" },
	{ ATTACH("[{tc: eth0, direction: ingress, mode: native}]"), 2, 93,
	  "'mode' applies to xdp items only" },
	{ ATTACH("[{tc: eth0}]"), 2, 56, "a tc item needs 'direction' (ingress or egress)" },
	{ ATTACH("[{tc: eth0, direction: in}]"), 2, 78,
	  "invalid direction 'in' (expected ingress or egress)" },
	{ ATTACH("[{xdp: eth0, direction: ingress}]"), 2, 79,
	  "'direction' applies to tc items only" },
	{ ATTACH("[{auto: true, direction: egress}]"), 2, 80,
	  "'direction' applies to tc items only" },
	{ ATTACH("[{xdp: eth0, type: xdp}]"), 2, 74, "'type' applies to cgroup items only" },
	{ ATTACH("[{cgroup: /sys/fs/cgroup, type: ingress}]"), 2, 87,
	  "unknown attach type 'ingress' (one of: cgroup_inet_ingress, " },
	/* cgroup paths. */
	{ ATTACH("[{cgroup: ''}]"), 2, 65, "invalid cgroup '': empty" },
	{ ATTACH("[{cgroup: ../a}]"), 2, 65, "invalid cgroup '../a': contains a '..' component" },
	{ ATTACH("[{cgroup: /a/../b}]"), 2, 65, "contains a '..' component" },
	{ ATTACH("[{cgroup: a/..}]"), 2, 65, "contains a '..' component" },
	{ ATTACH("[{cgroup: \"a\\nb\"}]"), 2, 65, "invalid cgroup 'a\nb': control character" },
	{ ATTACH("[{cgroup: {}}]"), 2, 65, "'cgroup' must be a string" },
	/* auto: true and nothing else. */
	{ ATTACH("[{auto: false}]"), 2, 63, "'auto: false' attaches nothing; leave the item out" },
	{ ATTACH("[{auto: yes}]"), 2, 63, "'auto' must be true" },
	{ ATTACH("[{auto: 1}]"), 2, 63, "'auto' must be true" },
	/* optional, pin. */
	{ ATTACH("[{auto: true, optional: yes}]"), 2, 79, "'optional' must be a boolean" },
	{ ATTACH("[{auto: true, pin: /sys/fs/bpf/x}]"), 2, 74,
	  "invalid pin '/sys/fs/bpf/x': absolute (paths are relative to the bpffs root)" },
	{ ATTACH("[{auto: true, pin: a.b}]"), 2, 74, "invalid pin 'a.b': dots" },
	{ ATTACH("[{auto: true, pin: ip/x}]"), 2, 74, "'ip' is a symlink to 'tc'" },
	{ ATTACH("[{auto: true, pin: a/bpfprov_tmp_1}]"), 2, 74, "reserved" },
	{ ATTACH("[{auto: true, pin: 7}]"), 2, 74, "'pin' must be a string" },
	/* Two links of one entry at one pin: given, or given and defaulted. */
	{ ATTACH("[{xdp: a, pin: l}, {tc: a, direction: egress, pin: l}]"), 2, 106,
	  "link pin 'l' declared twice (first at 2:70)" },
	{ ATTACH("[{auto: true}, {xdp: a, pin: bad/links/x/p_auto}]"), 2, 84,
	  "link pin 'bad/links/x/p_auto' declared twice (first at 2:63)" },
	/* A default pin that is no valid path asks for 'pin'. */
	{ "version: 1\nname: site.v2\nobjects: [{file: x.o, sections: [{program: p, attach: "
	  "[{xdp: eth0}]}]}]\n",
	  3, 62,
	  "cannot use the default pin 'site.v2/links/x/p_xdp_eth0' for this link: dots in names "
	  "(bpffs refuses them); give 'pin'" },
	{ "version: 1\nname: xdp\nobjects: [{file: x.o, sections: [{program: p, attach: "
	  "[{auto: true}]}]}]\n",
	  3, 63,
	  "'xdp' is a symlink to 'tc' that tc makes in bpffs; use 'tc' instead; give 'pin'" },
	{ "version: 1\nobjects: [{file: x.o, sections: [{program: bpfprov_tmp_p, attach: "
	  "[{auto: true}]}]}]\n",
	  2, 75,
	  "cannot use the default pin 'bad/links/x/bpfprov_tmp_p_auto' for this link: names" },
	/* entries: a sequence of {key, value} or {key, program}. */
	{ ENTRIES("{key: 1, value: 2}"), 2, 52, "'entries' must be a sequence" },
	{ ENTRIES("[[1, 2]]"), 2, 53, "map entry must be a mapping" },
	{ ENTRIES("[{value: 1}]"), 2, 53, "missing required key 'key' in map entry" },
	{ ENTRIES("[{key: 1}]"), 2, 53,
	  "a map entry needs 'value' (or 'program' in a program array)" },
	{ ENTRIES("[{key: 1, value: 2, program: p}]"), 2, 72,
	  "a map entry has 'value' or 'program', not both" },
	{ ENTRIES("[{program: p, key: 1, value: 2}]"), 2, 74,
	  "a map entry has 'value' or 'program', not both" },
	{ ENTRIES("[{key: 1, value: 2, size: 4}]"), 2, 72, "unknown key 'size' in map entry" },
	{ ENTRIES("[{key: 1, key: 2, value: 3}]"), 2, 62, "duplicate key 'key'" },
	{ ENTRIES("[{key: 1, program: \"\"}]"), 2, 71, "invalid program ''" },
	{ ENTRIES("[{key: 1, program: 7}]"), 2, 71, "'program' must be a string" },
	/* Keys and values: integers, "0x..." bytes, structs. */
	{ ENTRIES("[{key: abc, value: 1}]"), 2, 59,
	  "invalid key or value 'abc': a key or value is an integer, \"0x...\" bytes, or a "
	  "mapping of fields" },
	{ ENTRIES("[{key: \"12\", value: 1}]"), 2, 59, "invalid key or value '12'" },
	{ ENTRIES("[{key: 1, value: 1.5}]"), 2, 69, "invalid key or value '1.5'" },
	{ ENTRIES("[{key: 1, value: .inf}]"), 2, 69, "invalid key or value '.inf'" },
	{ ENTRIES("[{key: 1, value: ~}]"), 2, 69, "empty key or value: a key or value is" },
	{ ENTRIES("[{key: [1], value: 1}]"), 2, 59, "a sequence is not a key or value" },
	{ ENTRIES("[{key: \"0x123\", value: 1}]"), 2, 59,
	  "invalid bytes '0x123': an odd number of hex digits (two per byte)" },
	{ ENTRIES("[{key: \"0xg0\", value: 1}]"), 2, 59,
	  "invalid bytes '0xg0': only hex digits may follow '0x'" },
	{ ENTRIES("[{key: '0X10', value: 1}]"), 2, 59, "invalid key or value '0X10'" },
	{ ENTRIES("[{key: 18446744073709551616, value: 1}]"), 2, 59,
	  "integer 18446744073709551616 out of range (from -2^63 to 2^64 - 1)" },
	{ ENTRIES("[{key: 1, value: -9223372036854775809}]"), 2, 69,
	  "integer -9223372036854775809 out of range" },
	{ ENTRIES("[{key: 1, value: 0x10000000000000000}]"), 2, 69,
	  "integer 0x10000000000000000 out of range" },
	{ ENTRIES("[{key: 1, value: {a: 1, b: 2, a: 3}}]"), 2, 82,
	  "duplicate field 'a' (first at 2:70)" },
	{ ENTRIES("[{key: 1, value: {1a: 1}}]"), 2, 70,
	  "invalid field name '1a': fields are named as in C" },
	{ ENTRIES("[{key: 1, value: {2: 1}}]"), 2, 70, "invalid field name '2'" },
	{ ENTRIES("[{key: 1, value: {\"a-b\": 1}}]"), 2, 70, "invalid field name 'a-b'" },
	{ ENTRIES("[{key: 1, value: {a: {b: x}}}]"), 2, 77, "invalid key or value 'x'" },
	{ ENTRIES("[{key: {a: [1]}, value: 1}]"), 2, 63, "a sequence is not a key or value" },
	/* seed and exact go with entries; exact with seed: enforce. */
	{ SECTIONS("{map: m, entries: [], seed: always}"), 2, 62,
	  "invalid seed 'always' (expected create or enforce)" },
	{ SECTIONS("{map: m, entries: [], seed: 1}"), 2, 62, "'seed' must be a string" },
	{ SECTIONS("{map: m, entries: [], exact: yes}"), 2, 63, "'exact' must be a boolean" },
	{ SECTIONS("{map: m, seed: enforce}"), 2, 49,
	  "'seed' applies to 'entries', and there are none" },
	{ SECTIONS("{map: m, exact: false}"), 2, 50,
	  "'exact' applies to 'entries', and there are none" },
	{ SECTIONS("{map: m, entries: [], exact: true}"), 2, 63,
	  "exact applies with seed: enforce" },
	{ SECTIONS("{map: m, entries: [], seed: create, exact: true}"), 2, 77,
	  "exact applies with seed: enforce" },
	/* Only 'map:' entries hold entries. */
	{ SECTIONS("{program: p, entries: []}"), 2, 56,
	  "'entries' applies to maps; program 'p' cannot have one" },
	{ SECTIONS("{program: p, seed: create}"), 2, 53,
	  "'seed' applies to maps; program 'p' cannot have one" },
	{ SECTIONS("{section: maps/m, entries: [], exact: false}"), 2, 61,
	  "'entries' applies to maps; select this one with 'map: NAME' instead of section 'maps/m'" },
	{ SECTIONS("{section: maps/m, entries: [], exact: false}"), 2, 72,
	  "'exact' applies to maps; select this one with 'map: NAME'" },
	/* Standalone maps. */
	{ "version: 1\nmaps: {path: a}\n", 2, 7, "'maps' must be a sequence" },
	{ MAPS("a/b"), 2, 8, "map must be a mapping" },
	{ MAPS("{}"), 2, 8, "missing required key 'path' in map" },
	{ MAPS("{path: a}"), 2, 8, "missing required key 'max_entries' in map" },
	{ MAPS("{path: a}"), 2, 8, "missing required key 'type' in map" },
	{ MAPS("{" SMAP ", colour: red}"), 2, 77, "unknown key 'colour' in map" },
	{ MAPS("{" SMAP ", path: c}"), 2, 77, "duplicate key 'path'" },
	{ MAPS("{path: /a, type: hash, key_size: 4, value_size: 8, max_entries: 1}"), 2, 15,
	  "invalid path '/a': absolute" },
	{ MAPS("{path: xdp/a, type: hash, key_size: 4, value_size: 8, max_entries: 1}"), 2, 15,
	  "'xdp' is a symlink to 'tc'" },
	{ MAPS("{path: a.b, type: hash, key_size: 4, value_size: 8, max_entries: 1}"), 2, 15,
	  "dots in names" },
	{ MAPS("{path: a, type: hsah, key_size: 4, value_size: 8, max_entries: 1}"), 2, 24,
	  "unknown map type 'hsah'; did you mean 'hash'? (one of: hash, array, prog_array, " },
	{ MAPS("{path: a, type: unspec, key_size: 4, value_size: 8, max_entries: 1}"), 2, 24,
	  "unknown map type 'unspec'" },
	{ MAPS("{path: a, type: 1, key_size: 4, value_size: 8, max_entries: 1}"), 2, 24,
	  "'type' must be a string" },
	{ MAPS("{path: a, type: hash, key_size: -1, value_size: 8, max_entries: 1}"), 2, 40,
	  "invalid key_size -1: must be from 0 to 4294967295" },
	{ MAPS("{path: a, type: hash, key_size: 4, value_size: 4294967296, max_entries: 1}"), 2, 55,
	  "invalid value_size 4294967296" },
	{ MAPS("{path: a, type: hash, key_size: 4, value_size: 8, max_entries: \"1\"}"), 2, 71,
	  "'max_entries' must be an integer" },
	{ MAPS("{path: a, type: hash, key_size: 4.0, value_size: 8, max_entries: 1}"), 2, 40,
	  "'key_size' must be an integer" },
	{ MAPS("{" SMAP ", flags: no_prealloc}"), 2, 84, "'flags' must be a sequence" },
	{ MAPS("{" SMAP ", flags: [noprealloc]}"), 2, 85,
	  "unknown map flag 'noprealloc'; did you mean 'no_prealloc'? (one of: no_prealloc, "
	  "no_common_lru, numa_node, " },
	{ MAPS("{" SMAP ", flags: [rdonly_prog, rdonly_prog]}"), 2, 98,
	  "map flag 'rdonly_prog' given twice" },
	{ MAPS("{" SMAP ", flags: [[rdonly]]}"), 2, 85, "'map flag' must be a string" },
	{ MAPS("{" SMAP ", name: \"\"}"), 2, 83, "invalid name '': empty" },
	{ MAPS("{" SMAP ", name: abcdefghijklmnop}"), 2, 83,
	  "invalid name 'abcdefghijklmnop': longer than 15 bytes" },
	{ MAPS("{" SMAP ", name: a-b}"), 2, 83,
	  "invalid name 'a-b': the kernel takes only letters, digits, '_' and '.'" },
	{ MAPS("{" SMAP ", name: 12}"), 2, 83, "'name' must be a string" },
	{ MAPS("{" SMAP ", mode: 640}"), 2, 83, "invalid mode 640" },
	{ MAPS("{" SMAP ", on_incompatible: drop}"), 2, 94, "invalid on_incompatible 'drop'" },
	{ MAPS("{" SMAP ", owner: -5}"), 2, 84, "invalid owner -5" },
	{ MAPS("{" SMAP ", entries: [{key: 1, program: p}]}"), 2, 105,
	  "a standalone map has no object and so no programs" },
	{ MAPS("{" SMAP ", entries: [{key: 1, value: x}]}"), 2, 103,
	  "invalid key or value 'x'" },
	{ MAPS("{" SMAP ", seed: enforce}"), 2, 83,
	  "'seed' applies to 'entries', and there are none" },
	{ MAPS("{" SMAP ", entries: [], exact: true}"), 2, 97,
	  "exact applies with seed: enforce" },
	{ MAPS("{" SMAP "}, {path: a/b, type: array, key_size: 4, value_size: 4, max_entries: 1}"), 2,
	  85, "map path 'a/b' declared twice (first at 2:15)" },
	{ "- version: 1\n", 1, 1, "manifest must be a mapping" },
	{ "just text\n", 1, 1, "manifest must be a mapping" },
	{ "", 1, 1, "empty manifest" },
	{ "# only a comment\n", 1, 1, "empty manifest" },
	{ "version: 1\n---\nversion: 1\n", 2, 1, "more than one YAML document" },
	{ "version: 1\nname: 'unclosed\n", 3, 1, "invalid YAML" },
	{ "version: 1\n\tname: x\n", 2, 1, "invalid YAML" },
	{ "version: 1\nname: *nope\n", 2, 7, "invalid YAML" },
};

START_TEST(test_bad_manifest)
{
	const struct bad_case *c = &bad_cases[_i];
	struct diag d = parse_bad(c->yaml, strlen(c->yaml));

	if (!has_error(&d, c->line, c->column, c->needle)) {
		fprintf(stderr, "case %d: want %u:%u: %s\n", _i, c->line, c->column, c->needle);
		dump(&d);
		ck_abort_msg("error not found");
	}
	diag_done(&d);
}
END_TEST

START_TEST(test_all_errors_reported)
{
	static const char yaml[] = "version: 3\n"
				   "name: a/b\n"
				   "bogus: 1\n"
				   "objects:\n"
				   "  - file: x.o\n"
				   "    sections:\n"
				   "      - map: m\n"
				   "        pinning: custom\n"
				   "      - section: s\n"
				   "        mode: 777\n";
	struct diag d = parse_bad(yaml, sizeof(yaml) - 1);

	ck_assert_uint_eq(d.n_errors, 5);
	ck_assert(has_error(&d, 1, 10, "unsupported version"));
	ck_assert(has_error(&d, 2, 7, "invalid name"));
	ck_assert(has_error(&d, 3, 1, "unknown key 'bogus'"));
	ck_assert(has_error(&d, 8, 18, "needs a 'path'"));
	ck_assert(has_error(&d, 10, 15, "invalid mode"));
	diag_done(&d);
}
END_TEST

START_TEST(test_invalid_utf8)
{
	static const char yaml[] = "version: 1\nname: \"ab\xff\xfe\"\n";
	struct diag d = parse_bad(yaml, sizeof(yaml) - 1);

	ck_assert(has_error(&d, 2, 10, "invalid YAML"));
	diag_done(&d);
}
END_TEST

START_TEST(test_nul_byte)
{
	static const char yaml[] = "version: 1\nname: a\0b\n";
	struct diag d = parse_bad(yaml, sizeof(yaml) - 1);

	ck_assert(has_error(&d, 2, 8, "invalid YAML"));
	diag_done(&d);
}
END_TEST

/* An escaped NUL ("\0" in a double-quoted scalar) is valid YAML, but cut
 * at it a name or key would read as another: "base\0evil" as the manifest
 * named base.  Only those errors are reported, none about the cut text. */
START_TEST(test_escaped_nul)
{
	static const char yaml[] = "version: 1\n"
				   "name: \"base\\0evil\"\n"
				   "\"prune\\0x\": false\n"
				   "objects: [{file: \"a.o\\0\", sections: [{map: \"m\\0\"}]}]\n";
	struct diag d = parse_bad(yaml, sizeof(yaml) - 1);

	ck_assert(has_error(&d, 2, 7, "string contains a NUL byte after 'base'"));
	ck_assert(has_error(&d, 3, 1, "string contains a NUL byte after 'prune'"));
	ck_assert(has_error(&d, 4, 18, "string contains a NUL byte after 'a.o'"));
	ck_assert(has_error(&d, 4, 44, "string contains a NUL byte after 'm'"));
	ck_assert_uint_eq(d.n_errors, 4);
	diag_done(&d);
}
END_TEST

START_TEST(test_huge_scalar)
{
	size_t n = 1 << 20;
	char *yaml = malloc(n + 64);
	struct diag d;
	int len;

	len = sprintf(yaml, "version: 1\nnamespace: ");
	memset(yaml + len, 'a', n);
	strcpy(yaml + len + n, "\n");
	d = parse_bad(yaml, strlen(yaml));
	ck_assert(has_error(&d, 2, 12, "longer than"));
	/* The message shows a bounded excerpt of the value, not a megabyte. */
	ck_assert_uint_lt(strlen(d.msgs[0].text), 300);
	diag_done(&d);
	free(yaml);
}
END_TEST

START_TEST(test_alias_bomb)
{
	/* A thousand objects each with a thousand entries: a million entries
	 * from a few kilobytes, if the walker followed every alias. */
	char *yaml = malloc(64 * 1024), *w = yaml;
	struct diag d;

	w += sprintf(w, "version: 1\nobjects:\n  - &o {file: x.o, sections: [");
	for (int i = 0; i < 1000; i++)
		w += sprintf(w, "%s%s", i ? ", " : "", i ? "*e" : "&e {map: m}");
	w += sprintf(w, "]}\n");
	for (int i = 0; i < 1000; i++)
		w += sprintf(w, "  - *o\n");
	d = parse_bad(yaml, (size_t)(w - yaml));
	ck_assert(has_error(&d, 1, 1, "too complex"));
	diag_done(&d);
	free(yaml);
}
END_TEST

struct path_case {
	const char *path;
	const char *why; /* NULL: valid */
};

static const struct path_case path_cases[] = {
	{ "ns1", NULL },
	{ "ns1/globals/counters", NULL },
	{ "tc-globals/x_y", NULL },
	{ "", "empty" },
	{ "/abs", "absolute" },
	{ "a//b", "empty component" },
	{ "a/", "empty component" },
	{ "..", "contains '..'" },
	{ "a/../b", "contains '..'" },
	{ "a/./b", "dots" },
	{ "map.v2", "dots" },
	{ ".hidden", "dots" },
	{ "a\nb", "control character" },
	{ "a\x7f", "control character" },
	/* tc's symlinks in the root, and only there. */
	{ "xdp", "'xdp' is a symlink to 'tc' that tc makes in bpffs; use 'tc' instead" },
	{ "xdp/globals/m", "'xdp' is a symlink to 'tc'" },
	{ "ip", "'ip' is a symlink to 'tc' that tc makes in bpffs; use 'tc' instead" },
	{ "ip/flows", "'ip' is a symlink to 'tc'" },
	{ "tc/xdp", NULL },
	{ "tc/ip/m", NULL },
	{ "xdpfw", NULL },
	{ "ipv6/m", NULL },
	{ "XDP", NULL },
	/* The temporary pins' prefix, in any component. */
	{ "bpfprov_tmp_", "reserved for bpf-provision's temporary pins" },
	{ "bpfprov_tmp_1_2", "names starting with 'bpfprov_tmp_'" },
	{ "tc/globals/bpfprov_tmp_x", "names starting with 'bpfprov_tmp_'" },
	{ "a/bpfprov_tmp_trash_7/b", "names starting with 'bpfprov_tmp_'" },
	{ "a/my_bpfprov_tmp_", NULL },
	{ "bpfprov_tmp/x", NULL },
};

START_TEST(test_check_path)
{
	const struct path_case *c = &path_cases[_i];
	const char *why = NULL;
	int r = manifest_check_path(c->path, &why);

	if (!c->why) {
		ck_assert_int_eq(r, 0);
		return;
	}
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, c->why));
}
END_TEST

START_TEST(test_check_path_lengths)
{
	char comp[300], path[4100];
	const char *why;

	memset(comp, 'a', 255);
	comp[255] = '\0';
	ck_assert_int_eq(manifest_check_path(comp, &why), 0);
	comp[255] = 'a';
	comp[256] = '\0';
	ck_assert_int_eq(manifest_check_path(comp, &why), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "longer than 255"));
	for (size_t i = 0; i < 4050; i++)
		path[i] = i % 100 == 99 ? '/' : 'b';
	path[4050] = '\0';
	ck_assert_int_eq(manifest_check_path(path, &why), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "4000"));
}
END_TEST

/* As deep as the scanner reads (MODEL_MAX_DEPTH), and no deeper. */
START_TEST(test_check_path_depth)
{
	char path[2 * MODEL_MAX_DEPTH + 3] = "a";
	const char *why = NULL;

	for (int i = 1; i < MODEL_MAX_DEPTH; i++)
		strcat(path, "/a");
	ck_assert_int_eq(manifest_check_path(path, &why), 0);
	strcat(path, "/a");
	ck_assert_int_eq(manifest_check_path(path, &why), -EINVAL);
	ck_assert_pstr_eq(why, "more than 64 components (bpf-provision reads the tree no deeper)");
}
END_TEST

START_TEST(test_pin_path)
{
	char *p = NULL;

	ck_assert_int_eq(manifest_pin_path(PIN_MODE_GLOBAL, "tc", "obj", "m", NULL, NULL, &p), 0);
	ck_assert_str_eq(p, "tc/globals/m");
	free(p);
	ck_assert_int_eq(manifest_pin_path(PIN_MODE_OBJECT, "ns1", "obj", "m", NULL, NULL, &p), 0);
	ck_assert_str_eq(p, "ns1/obj/m");
	free(p);
	ck_assert_int_eq(
		manifest_pin_path(PIN_MODE_CUSTOM, NULL, "obj", "m", "ns1/test1", NULL, &p), 0);
	ck_assert_str_eq(p, "ns1/test1");
	free(p);
	p = NULL;
	ck_assert_int_eq(manifest_pin_path(PIN_MODE_NONE, "ns", "o", "m", NULL, NULL, &p), -ENOENT);
	ck_assert_int_eq(manifest_pin_path(PIN_MODE_GLOBAL, NULL, "o", "m", NULL, NULL, &p),
			 -EINVAL);
	ck_assert_int_eq(manifest_pin_path(PIN_MODE_CUSTOM, "ns", "o", "m", NULL, NULL, &p),
			 -EINVAL);
	ck_assert_ptr_null(p);
}
END_TEST

struct pin_root_case {
	enum pin_mode mode;
	const char *ns, *pin_root;
	int r;
	const char *path;
};

static const struct pin_root_case pin_root_cases[] = {
	/* NULL: as without pin_root. */
	{ PIN_MODE_GLOBAL, "tc", NULL, 0, "tc/globals/m" },
	{ PIN_MODE_GLOBAL, NULL, NULL, -EINVAL, NULL },
	/* "": the root itself; no namespace needed, and none is used. */
	{ PIN_MODE_GLOBAL, NULL, "", 0, "m" },
	{ PIN_MODE_GLOBAL, "tc", "", 0, "m" },
	{ PIN_MODE_GLOBAL, "tc", "dir/sub", 0, "dir/sub/m" },
	{ PIN_MODE_GLOBAL, NULL, "dir/sub", 0, "dir/sub/m" },
	/* pin_root is libbpf's, for global (pin by name) pins only. */
	{ PIN_MODE_OBJECT, "ns", "dir/sub", 0, "ns/obj/m" },
	{ PIN_MODE_OBJECT, NULL, "", -EINVAL, NULL },
	{ PIN_MODE_CUSTOM, NULL, "dir/sub", 0, "c/m" },
	{ PIN_MODE_NONE, "ns", "", -ENOENT, NULL },
};

START_TEST(test_pin_path_pin_root)
{
	const struct pin_root_case *c = &pin_root_cases[_i];
	char *p = NULL;

	ck_assert_int_eq(manifest_pin_path(c->mode, c->ns, "obj", "m", "c/m", c->pin_root, &p),
			 c->r);
	if (c->path)
		ck_assert_str_eq(p, c->path);
	else
		ck_assert_ptr_null(p);
	free(p);
}
END_TEST

START_TEST(test_pin_path_sha1_dir)
{
	/* The caller passes the object's directory name: for object_dir: sha1
	 * the digest of the object file. */
	static const char sha1[] = "0123456789abcdef0123456789abcdef01234567";
	char *p = NULL;

	ck_assert_int_eq(manifest_pin_path(PIN_MODE_OBJECT, "tc", sha1, "m", NULL, NULL, &p), 0);
	ck_assert_str_eq(p, "tc/0123456789abcdef0123456789abcdef01234567/m");
	free(p);
}
END_TEST

START_TEST(test_pin_root_and_object_dir)
{
	struct manifest *m = parse_ok("version: 1\n"
				      "objects:\n"
				      "  - file: a.o\n"
				      "    pin_root: tc/globals\n"
				      "    sections:\n"
				      "      - {map: g, pinning: global}\n"
				      "      - {map: o, pinning: object}\n"
				      "      - {map: e, pinning: global, namespace: ns}\n"
				      "  - file: b.o\n"
				      "    pin_root: /\n"
				      "    namespace: ns\n"
				      "    object_dir: sha1\n"
				      "    sections:\n"
				      "      - {map: g, pinning: global}\n"
				      "      - {map: o, pinning: object}\n"
				      "      - {map: c, pinning: custom, path: ns/c}\n"
				      "  - file: c.o\n"
				      "    namespace: ns\n"
				      "    sections:\n"
				      "      - {map: g, pinning: global}\n"
				      "      - {map: o, pinning: object}\n");
	const struct manifest_object *o = m->objects;

	/* A global pin needs no namespace with pin_root, and ignores one. */
	ck_assert_str_eq(o[0].pin_root, "tc/globals");
	ck_assert(!o[0].object_dir_sha1);
	ck_assert_str_eq(o[0].entries[0].pin_path, "tc/globals/g");
	ck_assert_ptr_null(o[0].entries[1].pin_path); /* object pin: no namespace yet */
	ck_assert_str_eq(o[0].entries[2].pin_path, "tc/globals/e");

	/* "/" is kept as "": pins at the root. */
	ck_assert_str_eq(o[1].pin_root, "");
	ck_assert(o[1].object_dir_sha1);
	ck_assert_str_eq(o[1].entries[0].pin_path, "g");
	ck_assert_ptr_null(o[1].entries[1].pin_path); /* the sha1 needs the object file */
	ck_assert_str_eq(o[1].entries[2].pin_path, "ns/c");

	/* Neither key: as before. */
	ck_assert_ptr_null(o[2].pin_root);
	ck_assert(!o[2].object_dir_sha1);
	ck_assert_str_eq(o[2].entries[0].pin_path, "ns/globals/g");
	ck_assert_str_eq(o[2].entries[1].pin_path, "ns/c/o");
	manifest_free(m);
}
END_TEST

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(test_set_directory_sorted)
{
	char dir[] = "/tmp/bpfprov-check-XXXXXX";
	char *args[1] = { dir };
	struct manifest_set set = { 0 };
	struct diag d = { 0 };

	ck_assert_ptr_nonnull(mkdtemp(dir));
	write_file(dir, "20-b.yaml", "version: 1\n");
	write_file(dir, "10-a.yaml", "version: 1\nname: first\n");
	write_file(dir, "notes.txt", "not yaml: [\n");
	write_file(dir, "30-c.yml", "version: 1\n"); /* *.yml too, as bpf-provision(1) says */
	ck_assert_int_eq(manifest_set_load(&set, args, 1, &d), 0);
	ck_assert_uint_eq(set.n, 3);
	ck_assert_str_eq(set.items[0]->name, "first");
	ck_assert_str_eq(set.items[1]->name, "20-b");
	ck_assert_str_eq(set.items[2]->name, "30-c");
	manifest_set_done(&set);

	/* The same name twice across manifests is an error naming both files. */
	write_file(dir, "40-d.yaml", "version: 1\nname: first\n");
	ck_assert_int_eq(manifest_set_load(&set, args, 1, &d), -EINVAL);
	ck_assert_uint_eq(d.n_errors, 1);
	ck_assert_ptr_nonnull(strstr(d.msgs[0].text, "manifest name 'first' is also used by"));
	ck_assert_ptr_nonnull(strstr(d.msgs[0].file, "40-d.yaml"));
	manifest_set_done(&set);
	diag_done(&d);

	for (const char *const *n = (const char *const[]){ "10-a.yaml", "20-b.yaml", "notes.txt",
							    "30-c.yml", "40-d.yaml", NULL };
	     *n; n++) {
		char path[512];

		snprintf(path, sizeof(path), "%s/%s", dir, *n);
		unlink(path);
	}
	rmdir(dir);
}
END_TEST

START_TEST(test_set_missing_file)
{
	char a0[] = "/nonexistent/site.yaml", a1[] = "/nonexistent/other.yaml";
	char *args[2] = { a0, a1 };
	struct manifest_set set = { 0 };
	struct diag d = { 0 };

	ck_assert_int_eq(manifest_set_load(&set, args, 2, &d), -ENOENT);
	ck_assert_uint_eq(d.n_errors, 2); /* every argument is tried */
	ck_assert_str_eq(d.msgs[1].file, "/nonexistent/other.yaml");
	manifest_set_done(&set);
	diag_done(&d);
}
END_TEST

static int build_from(const char *const *yamls, size_t n, struct diag *d,
		      struct manifest_set *set, struct desired *des)
{
	for (size_t i = 0; i < n; i++) {
		struct manifest *m = NULL;
		char name[32];

		snprintf(name, sizeof(name), "m%zu.yaml", i);
		ck_assert_int_eq(manifest_parse_buffer(name, yamls[i], strlen(yamls[i]), d, &m), 0);
		set->items = realloc(set->items, (set->n + 1) * sizeof(*set->items));
		set->items[set->n++] = m;
	}
	return desired_build(set, false, d, des);
}

START_TEST(test_desired_duplicate_paths)
{
	const char *yamls[] = {
		"version: 1\nobjects:\n  - file: a.o\n    sections:\n"
		"      - {map: x, pinning: custom, path: ns1/x}\n"
		"      - {map: y, pinning: custom, path: ns1/x/y}\n",
		"version: 1\nobjects:\n  - file: b.o\n    sections:\n"
		"      - {map: z, pinning: custom, path: ns1/x}\n",
	};
	struct manifest_set set = { 0 };
	struct desired des = { 0 };
	struct diag d = { 0 };
	bool twice = false, under = false;

	ck_assert_int_eq(build_from(yamls, 2, &d, &set, &des), -EINVAL);
	ck_assert_uint_eq(des.n_pins, 3);
	ck_assert_uint_eq(d.n_errors, 2);
	for (size_t i = 0; i < d.n_msgs; i++) {
		if (strstr(d.msgs[i].text, "pin path 'ns1/x' declared twice (first at m0.yaml:5:")) {
			twice = true;
			ck_assert_str_eq(d.msgs[i].file, "m1.yaml");
			ck_assert_uint_eq(d.msgs[i].line, 5);
		}
		if (strstr(d.msgs[i].text, "pin path 'ns1/x/y' lies under the pin 'ns1/x'"))
			under = true;
	}
	ck_assert(twice);
	ck_assert(under);
	desired_done(&des);
	manifest_set_done(&set);
	diag_done(&d);
}
END_TEST

/* Two manifests built together with XDP programs on one interface: the
 * second is the error, naming the first. */
START_TEST(test_desired_xdp_twice)
{
	const char *yamls[] = {
		"version: 1\nobjects:\n  - file: a.o\n    name: a\n    sections:\n"
		"      - program: p\n        pinning: none\n        attach:\n"
		"          - xdp: eth7\n",
		"version: 1\nobjects:\n  - file: b.o\n    name: b\n    sections:\n"
		"      - program: q\n        pinning: none\n        attach:\n"
		"          - xdp: eth7\n",
	};
	struct manifest_set set = { 0 };
	struct desired des = { 0 };
	struct diag d = { 0 };

	ck_assert_int_eq(build_from(yamls, 2, &d, &set, &des), -EINVAL);
	ck_assert_uint_eq(d.n_errors, 1);
	ck_assert_str_eq(d.msgs[0].file, "m1.yaml");
	ck_assert_str_eq(d.msgs[0].text, "interface 'eth7' takes one XDP program; 'p' is attached "
					 "there already (at m0.yaml:9:18)");
	desired_done(&des);
	manifest_set_done(&set);
	diag_done(&d);
}
END_TEST

struct clash_seen {
	int how;
	const struct desired_pin *first, *second;
};

static int record_clash(void *ctx, enum desired_clash how, const struct desired_pin *first,
			const struct desired_pin *second)
{
	struct clash_seen *c = ctx;

	while (c->first)
		c++;
	*c = (struct clash_seen){ how, first, second };
	return 0;
}

/* Manifests built alone (as --keep-going builds them) have no clash each,
 * and desired_clashes() finds those between them: the path both declare,
 * a pin in the way of another's directory, two XDP programs on one
 * interface; each once, the first declared first. */
START_TEST(test_desired_clashes_across)
{
	const char *yamls[] = {
		"version: 1\nobjects:\n  - file: a.o\n    name: a\n    sections:\n"
		"      - {map: x, pinning: custom, path: ns1/x}\n"
		"      - {map: w, pinning: custom, path: ns1/w}\n"
		"      - program: p\n        pinning: none\n        attach:\n"
		"          - xdp: eth7\n",
		"version: 1\nobjects:\n  - file: b.o\n    name: b\n    sections:\n"
		"      - {map: z, pinning: custom, path: ns1/w}\n"
		"      - {map: y, pinning: custom, path: ns1/x/y}\n"
		"      - program: q\n        pinning: none\n        attach:\n"
		"          - xdp: eth7\n",
	};
	struct manifest_set set[2] = { 0 };
	struct desired des[2] = { 0 };
	struct clash_seen seen[8] = { 0 };
	const struct desired_pin *pins[8] = { 0 };
	size_t n = 0;
	struct diag d = { 0 };

	for (size_t k = 0; k < 2; k++) {
		int r = build_from(&yamls[k], 1, &d, &set[k], &des[k]);

		if (r)
			dump(&d);
		ck_assert_int_eq(r, 0);
		for (size_t i = 0; i < des[k].n_pins; i++)
			pins[n++] = &des[k].pins[i];
	}
	ck_assert_uint_eq(n, 6);
	ck_assert_int_eq(desired_clashes(pins, n, record_clash, seen), 0);
	/* Each first pin is a's (pins[0..2]), each second b's. */
	ck_assert_int_eq(seen[0].how, DESIRED_CLASH_SAME_PATH);
	ck_assert_ptr_eq(seen[0].first, pins[1]);
	ck_assert_ptr_eq(seen[0].second, pins[3]);
	ck_assert_int_eq(seen[1].how, DESIRED_CLASH_UNDER);
	ck_assert_ptr_eq(seen[1].first, pins[0]);
	ck_assert_ptr_eq(seen[1].second, pins[4]);
	ck_assert_int_eq(seen[2].how, DESIRED_CLASH_XDP);
	ck_assert_ptr_eq(seen[2].first, pins[2]);
	ck_assert_ptr_eq(seen[2].second, pins[5]);
	ck_assert_ptr_null(seen[3].first);
	for (size_t k = 0; k < 2; k++) {
		desired_done(&des[k]);
		manifest_set_done(&set[k]);
	}
	ck_assert_uint_eq(d.n_errors, 0);
	diag_done(&d);
}
END_TEST

START_TEST(test_desired_manifest_only_kinds)
{
	const char *yamls[] = {
		"version: 1\nobjects:\n  - file: a.o\n    sections:\n"
		"      - {section: maps/m, pinning: custom, path: p/m}\n"
		"      - {section: socket/f, pinning: custom, path: p/f}\n"
		"      - {section: maps/n}\n",
	};
	struct manifest_set set = { 0 };
	struct desired des = { 0 };
	struct diag d = { 0 };

	ck_assert_int_eq(build_from(yamls, 1, &d, &set, &des), 0);
	ck_assert_uint_eq(des.n_pins, 2);
	ck_assert_str_eq(des.pins[0].path, "p/m");
	ck_assert_int_eq(des.pins[0].kind, KIND_MAP);
	ck_assert_str_eq(des.pins[1].path, "p/f");
	ck_assert_int_eq(des.pins[1].kind, KIND_PROGRAM);
	desired_done(&des);
	manifest_set_done(&set);
	diag_done(&d);
}
END_TEST

/* Damerau-Levenshtein (optimal string alignment) distances. */
static const struct {
	const char *a, *b;
	unsigned distance;
} distance_cases[] = {
	{ "", "", 0 },
	{ "apply", "apply", 0 },
	{ "", "abc", 3 },
	{ "aply", "apply", 1 },	   /* deletion */
	{ "appply", "apply", 1 },  /* insertion */
	{ "globl", "global", 1 },
	{ "glbola", "global", 2 }, /* two swaps */
	{ "pinnign", "pinning", 1 }, /* a swap is one edit */
	{ "on_incompatable", "on_incompatible", 1 },
	{ "kitten", "sitting", 3 },
	{ "XDP", "xdp", 0 }, /* case does not count */
	{ "Pinnign", "pinning", 1 },
	{ "ca", "abc", 3 }, /* optimal string alignment: no edit of a swapped pair */
};

START_TEST(test_distance)
{
	const char *a = distance_cases[_i].a, *b = distance_cases[_i].b;

	ck_assert_uint_eq(diag_distance(a, b), distance_cases[_i].distance);
	ck_assert_uint_eq(diag_distance(b, a), distance_cases[_i].distance);
}
END_TEST

START_TEST(test_suggest)
{
	static const char *const commands[] = { "validate", "plan", "apply", "destroy",
						"status", "snapshot", "inspect", "export" };
	static const char *const modes[] = { "none", "object", "global", "custom" };
	static const char *const hooks[] = { "xdp", "tc", "cgroup", "auto" };
	char long_word[DIAG_SUGGEST_MAX + 2];
	struct diag_guess g = { .word = "migrat" };

	ck_assert_str_eq(diag_suggest("aply", commands, 8), "apply");
	ck_assert_str_eq(diag_suggest("valdiate", commands, 8), "validate");
	ck_assert_str_eq(diag_suggest("destory", commands, 8), "destroy");
	ck_assert_str_eq(diag_suggest("globl", modes, 4), "global");
	ck_assert_str_eq(diag_suggest("Global", modes, 4), "global");
	ck_assert_str_eq(diag_suggest("xpd", hooks, 4), "xdp");
	/* Nothing close: no guess, rather than a wild one. */
	ck_assert_ptr_null(diag_suggest("frobnicate", commands, 8));
	ck_assert_ptr_null(diag_suggest("ab", hooks, 4));
	ck_assert_ptr_null(diag_suggest("sha256", (const char *const[]){ "sha1" }, 1));
	ck_assert_ptr_null(diag_suggest("x", commands, 0));
	/* The closest wins, the first of equals. */
	ck_assert_str_eq(diag_suggest("plam", (const char *const[]){ "plan", "clam", NULL }, 3),
			 "plan");
	ck_assert_str_eq(diag_suggest("abcdef", (const char *const[]){ "abcxyz", "abcdxf" }, 2),
			 "abcdxf");
	/* Past DIAG_SUGGEST_MAX bytes, no distance and no guess. */
	memset(long_word, 'a', sizeof(long_word) - 1);
	long_word[sizeof(long_word) - 1] = '\0';
	ck_assert_uint_eq(diag_distance(long_word, "a"), UINT_MAX);
	ck_assert_ptr_null(diag_suggest(long_word, (const char *const[]){ long_word + 1 }, 1));
	/* Offered one by one, as from an iterator. */
	diag_guess_offer(&g, "fail");
	ck_assert_ptr_null(g.best);
	diag_guess_offer(&g, "replace");
	diag_guess_offer(&g, "migrate");
	ck_assert_str_eq(g.best, "migrate");
	ck_assert_uint_eq(g.distance, 1);
}
END_TEST

/* Every level of the manifest guesses a mistyped key or value. */
START_TEST(test_suggestions_in_messages)
{
	static const char yaml[] = "version: 1\n"
				   "namspace: ns1\n"
				   "defaults:\n"
				   "  on_incompatable: fail\n"
				   "objects:\n"
				   "  - file: a.o\n"
				   "    sectons: []\n"
				   "    object_dir: sha\n"
				   "    sections:\n"
				   "      - map: m\n"
				   "        pinning: globl\n"
				   "        on_incompatible: migrat\n"
				   "        entries: [{key: 1, valeu: 2}]\n"
				   "      - program: p\n"
				   "        type: xpd\n"
				   "        attach: [{xdpp: eth0}, {xdp: eth0, mode: nativ}]\n"
				   "maps:\n"
				   "  - {path: a/b, type: hsh, key_size: 4, value_size: 4, max_entries: 1,\n"
				   "     flags: [rdonyl], ownr: root}\n";
	struct diag d = parse_bad(yaml, sizeof(yaml) - 1);

	dump(&d);
	ck_assert(has_error(&d, 2, 1, "unknown key 'namspace' in manifest; did you mean 'namespace'?"));
	ck_assert(has_error(&d, 4, 3,
			    "unknown key 'on_incompatable' in defaults; did you mean "
			    "'on_incompatible'?"));
	ck_assert(has_error(&d, 7, 5, "unknown key 'sectons' in object; did you mean 'sections'?"));
	ck_assert(has_error(&d, 8, 17, "invalid object_dir 'sha'; did you mean 'sha1'? (expected sha1)"));
	ck_assert(has_error(&d, 11, 18,
			    "invalid pinning 'globl'; did you mean 'global'? (expected none, object, "
			    "global or custom)"));
	ck_assert(has_error(&d, 12, 26, "invalid on_incompatible 'migrat'; did you mean 'migrate'?"));
	ck_assert(has_error(&d, 13, 28, "unknown key 'valeu' in map entry; did you mean 'value'?"));
	ck_assert(has_error(&d, 15, 15, "unknown program type 'xpd'; did you mean 'xdp'? (one of: "));
	ck_assert(has_error(&d, 16, 19, "unknown key 'xdpp' in attach item; did you mean 'xdp'?"));
	ck_assert(has_error(&d, 16, 50,
			    "invalid mode 'nativ'; did you mean 'native'? (expected native, generic "
			    "or auto)"));
	ck_assert(has_error(&d, 18, 23, "unknown map type 'hsh'; did you mean 'hash'? (one of: "));
	ck_assert(has_error(&d, 19, 14, "unknown map flag 'rdonyl'; did you mean 'rdonly'? (one of: "));
	ck_assert(has_error(&d, 19, 23, "unknown key 'ownr' in map; did you mean 'owner'?"));
	/* No guess where nothing is close. */
	diag_done(&d);
	d = parse_bad("version: 1\nfrobnicate: 1\n", 25);
	ck_assert(has_error(&d, 2, 1, "unknown key 'frobnicate' in manifest"));
	ck_assert_ptr_null(strstr(d.msgs[0].text, "did you mean"));
	diag_done(&d);
}
END_TEST

/* YAML 1.1 booleans are strings in YAML 1.2: said where a boolean is due. */
START_TEST(test_yaml11_booleans)
{
	static const char yaml[] = "version: 1\n"
				   "prune: yes\n"
				   "objects:\n"
				   "  - file: a.o\n"
				   "    sections:\n"
				   "      - map: m\n"
				   "        entries: [{key: 1, value: 1}]\n"
				   "        exact: Off\n"
				   "      - program: p\n"
				   "        attach: [{auto: on}, {xdp: eth0, optional: N}]\n"
				   "      - program: q\n"
				   "        attach: [{xdp: eth1, optional: \"no\"}]\n";
	struct diag d = parse_bad(yaml, sizeof(yaml) - 1);

	dump(&d);
	ck_assert(has_error(&d, 2, 8,
			    "'prune' must be a boolean: 'yes' is not a boolean in YAML 1.2; write "
			    "true or false"));
	ck_assert(has_error(&d, 8, 16, "'exact' must be a boolean: 'Off' is not a boolean in YAML 1.2"));
	ck_assert(has_error(&d, 10, 25, "'auto' must be true (the target is in the program's section "
					"name): 'on' is not a boolean in YAML 1.2"));
	ck_assert(has_error(&d, 10, 52, "'optional' must be a boolean: 'N' is not a boolean"));
	/* Quoted, it is a string by any YAML: no hint. */
	ck_assert(has_error(&d, 12, 40, "'optional' must be a boolean"));
	for (size_t i = 0; i < d.n_msgs; i++)
		if (d.msgs[i].line == 12)
			ck_assert_ptr_null(strstr(d.msgs[i].text, "YAML 1.2"));
	diag_done(&d);
}
END_TEST

/* A tab where YAML wants indentation, with UTF-8 before it on the line. */
START_TEST(test_tab_message)
{
	static const char *const yamls[] = {
		"version: 1\nobjects:\n\t- file: a.o\n",
		"version: 1\nobjects:\n  - file: a.o\n\tname: x\n",
		"version: 1\nname: \"\xc3\xa9t\xc3\xa9\"\nobjects:\n  - {file: a.o}\n\t\n",
	};
	static const unsigned lines[] = { 3, 4, 5 };

	for (size_t i = 0; i < sizeof(yamls) / sizeof(*yamls); i++) {
		struct diag d = parse_bad(yamls[i], strlen(yamls[i]));

		dump(&d);
		ck_assert(has_error(&d, lines[i], 1,
				    "invalid YAML: tab character: YAML indents with spaces only"));
		diag_done(&d);
	}
}
END_TEST

/* What is wrong with an object is said at the manifest's 'file' value. */
START_TEST(test_object_errors_at_file_value)
{
	static const char yaml[] = "version: 1\nnamespace: ns1\nobjects:\n"
				   "  - name: x\n    file: /nonexistent/x.o\n";
	struct manifest_set set = { 0 };
	struct desired des = { 0 };
	struct manifest *m = NULL;
	struct diag d = { 0 };

	ck_assert_int_eq(manifest_parse_buffer("site.yaml", yaml, sizeof(yaml) - 1, &d, &m), 0);
	set.items = calloc(1, sizeof(*set.items));
	ck_assert_ptr_nonnull(set.items);
	set.items[set.n++] = m;
	ck_assert_int_lt(desired_build(&set, true, &d, &des), 0);
	dump(&d);
	ck_assert_uint_eq(d.n_errors, 1);
	ck_assert_str_eq(d.msgs[0].file, "site.yaml");
	ck_assert_uint_eq(d.msgs[0].line, 5);
	ck_assert_uint_eq(d.msgs[0].column, 11);
	ck_assert_str_eq(d.msgs[0].text,
			 "object file '/nonexistent/x.o': cannot open: No such file or directory");
	desired_done(&des);
	manifest_set_done(&set);
	diag_done(&d);
}
END_TEST

/* diag_move keeps the count of errors past DIAG_MAX_MSGS. */
START_TEST(test_diag_move)
{
	struct diag from = { 0 }, to = { 0 };
	const struct diag_loc loc = { .file = "site.yaml", .line = 3, .column = 9 };

	for (int i = 0; i < DIAG_MAX_MSGS + 5; i++)
		diag_error(&from, &(struct diag_loc){ .file = "x.o" }, "bad %d", i);
	diag_warning(&to, NULL, "before");
	ck_assert_int_eq(diag_move(&to, &from, &loc, "object file 'x.o': "), -EINVAL);
	ck_assert_uint_eq(to.n_errors, DIAG_MAX_MSGS + 5);
	ck_assert_uint_eq(from.n_msgs, 0);
	ck_assert_uint_eq(from.n_errors, 0);
	ck_assert_str_eq(to.msgs[1].text, "object file 'x.o': bad 0");
	ck_assert_str_eq(to.msgs[1].file, "site.yaml");
	ck_assert_uint_eq(to.msgs[1].line, 3);
	diag_done(&to);
	diag_warning(&from, NULL, "only a warning");
	ck_assert_int_eq(diag_move(&to, &from, &loc, ""), 0);
	ck_assert_uint_eq(to.n_errors, 0);
	ck_assert_uint_eq(to.n_msgs, 1);
	diag_done(&to);
}
END_TEST

Suite *manifest_suite(void)
{
	Suite *s = suite_create("manifest");
	TCase *tc = tcase_create("parse");
	TCase *paths = tcase_create("paths");
	TCase *sets = tcase_create("sets");

	tcase_add_test(tc, test_full_manifest);
	tcase_add_test(tc, test_defaults_when_absent);
	tcase_add_test(tc, test_global_pin_waits_for_elf_namespace);
	tcase_add_test(tc, test_program_types);
	tcase_add_test(tc, test_object_named_like_tc_symlink);
	tcase_add_test(tc, test_anchors_and_aliases);
	tcase_add_test(tc, test_attach_items);
	tcase_add_test(tc, test_attach_errors_go_on);
	tcase_add_test(tc, test_attach_default_pin_length);
	tcase_add_test(tc, test_attach_aliases);
	tcase_add_test(tc, test_attach_strings);
	tcase_add_test(tc, test_map_contents);
	tcase_add_test(tc, test_map_values);
	tcase_add_test(tc, test_standalone_maps);
	tcase_add_test(tc, test_map_contents_errors_go_on);
	tcase_add_test(tc, test_map_value_recursive_alias);
	tcase_add_test(tc, test_map_entries_alias_bomb);
	tcase_add_loop_test(tc, test_bad_manifest, 0, sizeof(bad_cases) / sizeof(*bad_cases));
	tcase_add_test(tc, test_all_errors_reported);
	tcase_add_test(tc, test_invalid_utf8);
	tcase_add_test(tc, test_nul_byte);
	tcase_add_test(tc, test_escaped_nul);
	tcase_add_test(tc, test_huge_scalar);
	tcase_add_test(tc, test_alias_bomb);
	tcase_add_loop_test(tc, test_distance, 0, sizeof(distance_cases) / sizeof(*distance_cases));
	tcase_add_test(tc, test_suggest);
	tcase_add_test(tc, test_suggestions_in_messages);
	tcase_add_test(tc, test_yaml11_booleans);
	tcase_add_test(tc, test_tab_message);
	tcase_add_test(tc, test_diag_move);
	suite_add_tcase(s, tc);

	tcase_add_loop_test(paths, test_check_path, 0, sizeof(path_cases) / sizeof(*path_cases));
	tcase_add_test(paths, test_check_path_lengths);
	tcase_add_test(paths, test_check_path_depth);
	tcase_add_test(paths, test_pin_path);
	tcase_add_loop_test(paths, test_pin_path_pin_root, 0,
			    sizeof(pin_root_cases) / sizeof(*pin_root_cases));
	tcase_add_test(paths, test_pin_path_sha1_dir);
	tcase_add_test(paths, test_pin_root_and_object_dir);
	suite_add_tcase(s, paths);

	tcase_add_test(sets, test_set_directory_sorted);
	tcase_add_test(sets, test_set_missing_file);
	tcase_add_test(sets, test_desired_duplicate_paths);
	tcase_add_test(sets, test_desired_clashes_across);
	tcase_add_test(sets, test_desired_xdp_twice);
	tcase_add_test(sets, test_desired_manifest_only_kinds);
	tcase_add_test(sets, test_object_errors_at_file_value);
	suite_add_tcase(s, sets);
	return s;
}
