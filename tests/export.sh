#!/bin/sh
# SPDX-License-Identifier: MIT
# export (issue 17 point 6; bpf-provision(1), export): a manifest that
# declares the live pins.  On a private bpffs (never /sys/fs/bpf, a private
# BPF_PROVISION_RUNTIME_DIR) a tree is built by three owners: tc (TC_BPF_MNT,
# in a network namespace of the test's own) loads tests/bpf/libbpf_tc.o,
# bpftool makes maps in a directory (one with mode 0640 and group 65534, one
# with the name and spec of an object's map that is pinned already) and
# loads a program of an object not given, and bpf-provision applies the
# example manifests.  Then:
#  - round_trip: export --objects libbpf_tc.o --objects configs/bpf (a
#    directory) exits 0; the output passes validate and
#    schema/manifest.schema.json; it declares every pin with its own path
#    (object maps and programs matched, the bpftool maps standalone, mode and
#    group kept), lists the unmatched program and the object that matches
#    nothing in comments; apply --dry-run of it on the tree exits 0 with no
#    create/replace/update/delete and changes nothing (the real apply
#    neither); apply of it on a second, empty private bpffs exits 0 and makes
#    pins of the same kinds, types, sizes, flags, names, tags, modes and
#    owners (bpftool and stat, ids aside), and exporting that tree gives the
#    same manifest.
#  - prefix: PATH arguments (relative, absolute under the root) export the
#    pins under them alone, and applying that part is a no-op too (maps an
#    object pins elsewhere are declared unpinned); a path outside the root or
#    missing is exit 65.
#  - nothing_matches: an object that matches no pin is a comment, and the
#    manifest has no objects.
#  - usage: --objects is export's alone; a missing or invalid object is exit
#    65 with nothing on stdout; a root that is no bpffs is exit 1.
# Needs root; the round trip needs tc and network namespaces.
# shellcheck disable=SC2015 # A && B || bad: bad if either fails
# shellcheck disable=SC2317 # the case_ functions are called as "case_$c"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST
find_python

START=$(date +%s)
BPF=$top_builddir/tests/bpf
OBJS=$top_builddir/configs/bpf
CASE=setup

mount_private_bpffs export
rm -f "$M/probe"
unset BPF_PROVISION_FAIL_AT BPF_PROVISION_FAIL_ERRNO BPF_PROVISION_TRACE_STEPS BPF_PROVISION_PAUSE_AT

# A second private bpffs, for the round trip, and tc's network namespace.
mount_second_bpffs export2

TC_WHY=
if ! command -v tc >/dev/null 2>&1; then
	TC_WHY="no tc (apt-get install iproute2)"
elif ! command -v nsenter >/dev/null 2>&1; then
	TC_WHY="no nsenter (util-linux)"
else
	NS=bpfprov-export-$$
	if ! ip netns add "$NS" 2>"$T/err"; then
		NS=
		TC_WHY="cannot add a network namespace: $(cat "$T/err")"
	elif ! nsenter --net="/run/netns/$NS" ip link add bpv0 type veth peer name bpv1 2>"$T/err" ||
		! nsenter --net="/run/netns/$NS" ip link set bpv0 up; then
		TC_WHY="cannot make a veth pair in $NS: $(cat "$T/err")"
	fi
fi

# --- helpers -----------------------------------------------------------------

bp() { # STATUS ROOT ARGS...: bpf-provision --bpffs ROOT ARGS must exit STATUS
	_want=$1
	_root=$2
	shift 2
	run_checking_steps "$_root" "$@"
	_got=$?
	[ "$_got" = "$_want" ] && return 0
	bad "'bpf-provision $*' exited $_got, want $_want: $(head -c 2000 "$T/err")"
	return 1
}

export_to() { # FILE ROOT ARGS...: export must exit 0; the manifest in FILE
	_file=$1
	shift
	bp 0 "$@" || fatal "export failed"
	cp "$T/out" "$_file"
	[ -s "$_file" ] || fatal "export printed nothing"
}

# Every pin under ROOT (but the kernel's own files and paths matching the
# grep -v pattern SKIP) with what the kernel and stat say of it, ids aside:
# maps: type, key, value, max entries, flags, name; programs: type, tag,
# name; mode, owner and group.
specs() { # ROOT [SKIP]
	"$PY" - "$1" "${2:-^$}" <<'PY' || fatal "cannot list the pins of $1"
import json, os, re, subprocess, sys
root, skip = sys.argv[1], re.compile(sys.argv[2])
for d, _, files in sorted(os.walk(root)):
    for f in sorted(files):
        p = os.path.join(d, f)
        rel = os.path.relpath(p, root)
        if rel in ("maps.debug", "progs.debug") or os.path.islink(p) or skip.search(rel):
            continue
        st = os.stat(p)
        own = "mode %o uid %d gid %d" % (st.st_mode & 0o7777, st.st_uid, st.st_gid)
        m = subprocess.run(["bpftool", "-j", "map", "show", "pinned", p], capture_output=True, text=True)
        if m.returncode == 0:
            j = json.loads(m.stdout)
            print(rel, "map", j["type"], j["bytes_key"], j["bytes_value"], j["max_entries"],
                  j["flags"], j.get("name", ""), own)
            continue
        g = subprocess.run(["bpftool", "-j", "prog", "show", "pinned", p], capture_output=True, text=True)
        if g.returncode == 0:
            j = json.loads(g.stdout)
            print(rel, "program", j["type"], j["tag"], j.get("name", ""), own)
            continue
        print(rel, "unknown")
PY
}

in_ns() {
	nsenter --net="/run/netns/$NS" "$@"
}

has_line() { # FILE LINE: FILE has the line exactly
	grep -Fxq -- "$2" "$1" || bad "no line '$2' in $(basename "$1"):
$(sed 's/^/    | /' "$1")"
}

no_text() { # FILE TEXT
	! grep -Fq -- "$2" "$1" || bad "'$2' is in $(basename "$1")"
}

# The pin paths a manifest declares (objects' paths and standalone maps').
declared() { # FILE
	"$PY" "$top_srcdir/tests/yaml2json.py" "$1" >"$T/declared.json" || fatal "not YAML: $1"
	"$PY" - "$T/declared.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
paths = [s["path"] for o in m.get("objects", []) for s in o.get("sections", []) if "path" in s]
paths += [s["path"] for s in m.get("maps", [])]
print("\n".join(sorted(paths)))
PY
}

no_changes() { # JSON-PLAN-FILE: the plan creates, replaces, updates and deletes nothing
	"$PY" - "$1" <<'PY' || bad "the plan of the exported manifest changes something: $(cat "$1")"
import json, sys
p = json.load(open(sys.argv[1]))
s = p["summary"]
bad = [c for c in p["changes"] if c["action"] in ("create", "replace", "update", "delete")]
sys.exit(1 if bad or any(s.get(a, 0) for a in ("create", "replace", "update", "delete")) else 0)
PY
}

# --- the tree ----------------------------------------------------------------

# Three owners: tc (where it can run), bpftool and bpf-provision.
if [ -z "$TC_WHY" ]; then
	in_ns tc qdisc add dev bpv0 clsact || fail "tc qdisc add dev bpv0 clsact"
	in_ns env TC_BPF_MNT="$M" tc filter add dev bpv0 ingress bpf da obj "$BPF/libbpf_tc.o" \
		sec tc >"$T/tc.out" 2>&1 || fail "tc filter add failed: $(cat "$T/tc.out")"
	[ -f "$M/tc/globals/tc_counts" ] || fail "tc pinned no tc/globals/tc_counts"
fi
mkdir -p "$M/tools" "$M/other" || fail "mkdir"
bpftool map create "$M/tools/limits" type hash key 8 value 16 entries 64 name limits flags 1 ||
	fail "bpftool map create tools/limits"
chmod 0640 "$M/tools/limits" && chgrp 65534 "$M/tools/limits" || fail "chmod, chgrp"
# The name and spec of gobpf_site.o's dummy_hash, which the apply below pins
# too: one map of an object is declared once, and this one is standalone.
bpftool map create "$M/tools/dummy_hash" type hash key 4 value 8 entries 128 name dummy_hash ||
	fail "bpftool map create tools/dummy_hash"
# A program of an object that is not given.
bpftool prog load "$BPF/libbpf_minimal.o" "$M/other/handle_tp" ||
	fail "bpftool prog load libbpf_minimal.o"
pin_examples "$T/configs"
"$BPF_PROVISION" --bpffs "$M" apply "$T/configs/gobpf-site.yaml" "$T/configs/iproute2-site.yaml" \
	"$T/configs/btf-site.yaml" >"$T/out" 2>&1 || fail "apply of the examples: $(cat "$T/out")"

# --- cases -------------------------------------------------------------------

case_round_trip() {
	[ -z "$TC_WHY" ] || case_skip "$TC_WHY"
	export_to "$T/exp.yaml" "$M" export --objects "$BPF/libbpf_tc.o" --objects "$OBJS"

	bp 0 "$M" validate "$T/exp.yaml" || return
	"$PY" "$top_srcdir/tests/yaml2json.py" --validate "$top_srcdir/schema/manifest.schema.json" \
		"$T/exp.yaml" >"$T/schema.out" 2>&1 ||
		bad "the export does not pass manifest.schema.json: $(cat "$T/schema.out")"

	declared "$T/exp.yaml" | LC_ALL=C sort >"$T/declared"
	specs "$M" '^other/' | cut -d' ' -f1 | LC_ALL=C sort >"$T/want-declared"
	cmp -s "$T/declared" "$T/want-declared" ||
		bad "the export does not declare exactly the pins but other/: $(diff "$T/want-declared" "$T/declared")"
	has_line "$T/exp.yaml" "prune: false"
	has_line "$T/exp.yaml" "  - map: tc_counts"
	has_line "$T/exp.yaml" "    path: tc/globals/tc_counts"
	has_line "$T/exp.yaml" "    path: tc/progs/cls_main"
	has_line "$T/exp.yaml" "  - program: cls_main"
	has_line "$T/exp.yaml" "    mode: \"0640\""
	has_line "$T/exp.yaml" "- path: tools/limits"
	has_line "$T/exp.yaml" "  flags: [no_prealloc]"
	has_line "$T/exp.yaml" "  group: 65534"
	has_line "$T/exp.yaml" "- path: tools/dummy_hash"
	grep -q "^# not exported: other/handle_tp program (tracepoint, tag [0-9a-f]*): no given object has a program with its tag\$" \
		"$T/exp.yaml" || bad "no comment on other/handle_tp: $(cat "$T/exp.yaml")"
	has_line "$T/exp.yaml" "# object $(cd "$OBJS" && pwd -P)/attach_site.o: no pin under the paths is one of its maps or programs"

	# On the tree it came from: a no-op, dry or not.
	tree_listing "$M" >"$T/before"
	specs "$M" >"$T/specs.before"
	bp 0 "$M" -o json apply --dry-run "$T/exp.yaml" || return
	cp "$T/out" "$T/plan.json"
	no_changes "$T/plan.json"
	bp 0 "$M" -o json apply "$T/exp.yaml" || return
	no_changes "$T/out"
	bp 0 "$M" apply --dry-run "$T/exp.yaml" || return
	tree_listing "$M" >"$T/after"
	specs "$M" >"$T/specs.after"
	cmp -s "$T/before" "$T/after" && cmp -s "$T/specs.before" "$T/specs.after" ||
		bad "applying the export changed the tree: $(diff "$T/before" "$T/after")"

	# On an empty bpffs: the same pins.
	BPF_PROVISION_RUNTIME_DIR=$T/run2 bp 0 "$M2" apply "$T/exp.yaml" || return
	specs "$M" '^other/' >"$T/specs.1"
	specs "$M2" >"$T/specs.2"
	[ "$(wc -l <"$T/specs.1")" -ge 12 ] || bad "too few pins: $(cat "$T/specs.1")"
	cmp -s "$T/specs.1" "$T/specs.2" ||
		bad "the pins made from the export differ: $(diff "$T/specs.1" "$T/specs.2")"
	BPF_PROVISION_RUNTIME_DIR=$T/run2 bp 0 "$M2" apply --dry-run "$T/exp.yaml" || return

	# And that tree exports as the same manifest.
	export_to "$T/exp2.yaml" "$M2" export --objects "$BPF/libbpf_tc.o" --objects "$OBJS"
	grep -v '^#\|^bpffs:' "$T/exp.yaml" >"$T/exp.body"
	grep -v '^#\|^bpffs:' "$T/exp2.yaml" >"$T/exp2.body"
	cmp -s "$T/exp.body" "$T/exp2.body" ||
		bad "the second tree exports otherwise: $(diff "$T/exp.body" "$T/exp2.body")"
}

case_prefix() {
	export_to "$T/tc.yaml" "$M" export --objects "$OBJS" --objects "$BPF/libbpf_tc.o" tc
	declared "$T/tc.yaml" >"$T/tc.paths"
	[ -s "$T/tc.paths" ] || bad "export of tc declares nothing"
	! grep -v '^tc/' "$T/tc.paths" || bad "export of tc declares pins elsewhere"
	has_line "$T/tc.paths" "tc/globals/counters"
	no_text "$T/tc.yaml" "other/handle_tp"
	bp 0 "$M" -o json apply --dry-run "$T/tc.yaml" || return
	no_changes "$T/out"

	# The maps an object pins itself outside the paths are declared
	# unpinned: applying the part changes nothing either.
	export_to "$T/ns1.yaml" "$M" export --objects "$OBJS" ns1/globals ns1/progs
	declared "$T/ns1.yaml" >"$T/ns1.paths"
	printf 'ns1/globals/dummy_hash\nns1/progs/dummy_socket\n' >"$T/ns1.want"
	cmp -s "$T/ns1.paths" "$T/ns1.want" || bad "export of ns1/globals, ns1/progs declares: $(cat "$T/ns1.paths")"
	"$PY" "$top_srcdir/tests/yaml2json.py" "$T/ns1.yaml" >"$T/ns1.json" || fatal "not YAML"
	"$PY" - "$T/ns1.json" <<'PY' || bad "ns1/dummy/dummy_array and ns1/test1 are not declared unpinned: $(cat "$T/ns1.yaml")"
import json, sys
s = json.load(open(sys.argv[1]))["objects"][0]["sections"]
none = {e["map"] for e in s if e.get("pinning") == "none"}
sys.exit(0 if none == {"dummy_array", "dummy_array_custom"} else 1)
PY
	bp 0 "$M" -o json apply --dry-run "$T/ns1.yaml" || return
	no_changes "$T/out"

	export_to "$T/tools.yaml" "$M" export "$M/tools/" "$M/other"
	declared "$T/tools.yaml" >"$T/tools.paths"
	printf 'tools/dummy_hash\ntools/limits\n' >"$T/tools.want"
	cmp -s "$T/tools.paths" "$T/tools.want" ||
		bad "export of tools/ declares: $(cat "$T/tools.paths")"
	grep -q '^# not exported: other/handle_tp program' "$T/tools.yaml" ||
		bad "export of other/ has no comment on handle_tp"
	bp 0 "$M" validate "$T/tools.yaml"

	bp 65 "$M" export /tmp || return
	grep -q "not under the root" "$T/err" || bad "no reason for /tmp: $(cat "$T/err")"
	[ ! -s "$T/out" ] || bad "a failed export printed: $(cat "$T/out")"
	bp 65 "$M" export no/such/dir
}

case_nothing_matches() {
	export_to "$T/none.yaml" "$M" export --objects "$BPF/tailcall.o" tools
	has_line "$T/none.yaml" "# object $(cd "$BPF" && pwd -P)/tailcall.o: no pin under the paths is one of its maps or programs"
	no_text "$T/none.yaml" "objects:"
	has_line "$T/none.yaml" "maps:"
	bp 0 "$M" validate "$T/none.yaml"
}

case_usage() {
	bp 1 "$M" status --objects "$BPF/tailcall.o" || return
	grep -q "only export takes --objects" "$T/err" || bad "no reason: $(cat "$T/err")"
	bp 65 "$M" export --objects "$T/missing.o" || return
	[ ! -s "$T/out" ] || bad "a failed export printed: $(cat "$T/out")"
	printf 'not an ELF object\n' >"$T/junk.o"
	bp 65 "$M" export --objects "$T/junk.o"
	mkdir -p "$T/plain"
	bp 1 "$T/plain" export || return
	grep -q "not a bpffs mount" "$T/err" || bad "no reason: $(cat "$T/err")"
	# An empty tree is an empty manifest, still valid.
	umount "$M2" && mount -t bpf bpf "$M2" || fatal "cannot remount $M2"
	export_to "$T/empty.yaml" "$M2" export
	bp 0 "$M2" validate "$T/empty.yaml"
}

run_cases export.sh round_trip prefix nothing_matches usage
