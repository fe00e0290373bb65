#!/bin/sh
# SPDX-License-Identifier: MIT
# Drift detection (bpf-provision(1), OUTPUT) on a private bpffs mount: pins made
# by hand with bpftool (and, for programs of objects with pinned-by-name maps,
# libbpf through ctypes, so that nothing is ever pinned under /sys/fs/bpf)
# are compared with manifests.  Every case asserts the exit status, the exact
# plan lines (symbol, kind, path, action, reason) and the summary; every plan
# also runs with -o json, validated against schema/plan.schema.json and
# checked against the text plan; and no run may change the tree (find listing
# and the ids of all pins, before and after).  Needs root.
# shellcheck disable=SC2015 # A && B || fail: fail if either fails
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST
find_python

mount_private_bpffs drift
mkdir -p "$T/run" "$T/docs" "$T/errdocs"

CONFIGS=$T/configs
pin_examples "$CONFIGS"
GOBPF=$CONFIGS/gobpf-site.yaml
TC=$CONFIGS/iproute2-site.yaml
BTF=$CONFIGS/btf-site.yaml
CASE=setup
NDOC=0

# --- the tree ----------------------------------------------------------------

reset() { # a fresh, empty bpffs (only maps.debug and progs.debug)
	umount "$M" || fail "umount $M"
	mount -t bpf bpf "$M" || fail "mount $M"
}

mkmap() { # PATH TYPE KEY VALUE ENTRIES [MODE [FLAGS]]
	mkdir -p "$M/$(dirname "$1")" &&
		bpftool -n map create "$M/$1" type "$2" key "$3" value "$4" entries "$5" \
			name "$(basename "$1" | cut -c1-15)" flags "${7:-0}" &&
		chmod "${6:-0600}" "$M/$1" || fail "$CASE: cannot pin map $1"
}

mkprog() { # PATH OBJECT TYPE [MODE]: the object's first program, via bpftool
	mkdir -p "$M/$(dirname "$1")" &&
		bpftool -n prog load "$2" "$M/$1" type "$3" &&
		chmod "${4:-0600}" "$M/$1" || fail "$CASE: cannot pin program $1"
}

# Loads one program of an object whose maps libbpf would pin by name (at
# /sys/fs/bpf/NAME, which bpftool cannot redirect): no map is pinned, MAP=PIN
# reuses a pinned map, and only the program is pinned, at the path given.
cat >"$T/pinprog.py" <<'PY'
import ctypes, ctypes.util, os, sys
from ctypes import c_void_p, c_char_p, c_int, c_bool
obj_path, prog_name, pin = sys.argv[1:4]
lib = ctypes.CDLL(ctypes.util.find_library('bpf') or 'libbpf.so.1', use_errno=True)
for f, res, args in (('bpf_object__open_file', c_void_p, [c_char_p, c_void_p]),
                     ('bpf_object__next_map', c_void_p, [c_void_p, c_void_p]),
                     ('bpf_object__next_program', c_void_p, [c_void_p, c_void_p]),
                     ('bpf_map__name', c_char_p, [c_void_p]),
                     ('bpf_program__name', c_char_p, [c_void_p]),
                     ('bpf_map__set_pin_path', c_int, [c_void_p, c_char_p]),
                     ('bpf_map__reuse_fd', c_int, [c_void_p, c_int]),
                     ('bpf_obj_get', c_int, [c_char_p]),
                     ('bpf_program__set_autoload', c_int, [c_void_p, c_bool]),
                     ('bpf_object__load', c_int, [c_void_p]),
                     ('bpf_program__pin', c_int, [c_void_p, c_char_p]),
                     ('bpf_object__close', None, [c_void_p])):
    getattr(lib, f).restype, getattr(lib, f).argtypes = res, args
reuse = dict(a.split('=', 1) for a in sys.argv[4:])
obj = lib.bpf_object__open_file(obj_path.encode(), None)
if not obj:
    sys.exit('open %s: %s' % (obj_path, os.strerror(ctypes.get_errno())))
m = lib.bpf_object__next_map(obj, None)
while m:
    lib.bpf_map__set_pin_path(m, None)  # never pin under /sys/fs/bpf
    name = lib.bpf_map__name(m).decode()
    if name in reuse:
        fd = lib.bpf_obj_get(reuse[name].encode())
        if fd < 0 or lib.bpf_map__reuse_fd(m, fd) < 0:
            sys.exit('cannot reuse %s' % reuse[name])
    m = lib.bpf_object__next_map(obj, m)
found = None
p = lib.bpf_object__next_program(obj, None)
while p:
    mine = lib.bpf_program__name(p).decode() == prog_name
    lib.bpf_program__set_autoload(p, mine)
    found = p if mine else found
    p = lib.bpf_object__next_program(obj, p)
if not found:
    sys.exit('no program %s in %s' % (prog_name, obj_path))
if lib.bpf_object__load(obj) < 0:
    sys.exit('cannot load %s' % obj_path)
if lib.bpf_program__pin(found, pin.encode()) < 0:
    sys.exit('cannot pin %s' % pin)
lib.bpf_object__close(obj)
PY
mkprog_libbpf() { # PATH OBJECT PROGRAM [MODE [MAP=PINPATH...]]
	_path=$1 _obj=$2 _prog=$3 _mode=${4:-0600}
	shift 3
	[ $# -gt 0 ] && shift
	mkdir -p "$M/$(dirname "$_path")" &&
		"$PY" "$T/pinprog.py" "$_obj" "$_prog" "$M/$_path" "$@" &&
		chmod "$_mode" "$M/$_path" || fail "$CASE: cannot pin program $_path"
}

prog_tag() { # PATH: the kernel tag of the program pinned there
	bpftool prog show pinned "$M/$1" | sed -n 's/.* tag \([0-9a-f]*\).*/\1/p'
}

# Everything about the tree that a dry run must leave alone: each entry with
# type, mode, owner, group, inode, ctime and symlink target, and the kernel id
# of every pin.
snapshot() { # FILE
	(
		cd "$M" || exit 1
		find . -printf '%p %y %m %u %g %i %C@ %l\n' | LC_ALL=C sort
		find . -type f ! -path ./maps.debug ! -path ./progs.debug | LC_ALL=C sort |
			while read -r p; do
				id=$(bpftool map show pinned "$p" 2>/dev/null | sed -n '1s/:.*//p')
				[ -n "$id" ] ||
					id=prog:$(bpftool prog show pinned "$p" 2>/dev/null | sed -n '1s/:.*//p')
				echo "$p id $id"
			done
	) >"$1" || fail "$CASE: snapshot"
}

# --- running the tool --------------------------------------------------------

run() { # STATUS ARGS...: bpf-provision --bpffs $M ARGS, which must not change the tree
	_want=$1
	shift
	snapshot "$T/before"
	"$BPF_PROVISION" --bpffs "$M" "$@" >"$T/out" 2>"$T/err"
	_got=$?
	snapshot "$T/after"
	if ! cmp -s "$T/before" "$T/after"; then
		diff "$T/before" "$T/after" >&2
		fail "$CASE: '$*' changed the bpffs tree"
	fi
	if [ "$_got" != "$_want" ]; then
		cat "$T/out" "$T/err" >&2
		fail "$CASE: '$*' exited $_got, want $_want"
	fi
	tr -s ' ' <"$T/out" >"$T/outs"
}

plan() { # STATUS [plan|destroy --dry-run|apply --dry-run] MANIFEST...: JSON, then text
	_st=$1
	shift
	case $1 in
	plan) _cmd=$1 && shift ;;
	destroy | apply) _cmd="$1 $2" && shift 2 ;;
	*) _cmd=plan ;;
	esac
	# shellcheck disable=SC2086
	run "$_st" -o json $_cmd "$@"
	NDOC=$((NDOC + 1))
	cp "$T/out" "$T/docs/$NDOC.json"
	cp "$T/out" "$T/last.json"
	# shellcheck disable=SC2086
	run "$_st" $_cmd "$@"
	cp "$T/out" "$T/docs/$NDOC.txt"
	echo "$CASE: $_cmd" >"$T/docs/$NDOC.case"
}

expect_line() { # LINE: the text output has it (runs of blanks squeezed)
	grep -Fxq -- "$1" "$T/outs" || { cat "$T/out" >&2; fail "$CASE: no line '$1'"; }
}

expect_no() { # TEXT: no line of the text output contains it
	! grep -Fq -- "$1" "$T/out" || { cat "$T/out" >&2; fail "$CASE: '$1' is in the output"; }
}

expect_summary() { # CREATE REPLACE UPDATE DELETE ADOPT UNCHANGED [CHANGE-LINES]
	expect_line "Plan: $1 to create, $2 to replace, $3 to update, $4 to delete, $5 to adopt, 0 to release, $6 unchanged."
	_n=$(grep -c '^[-+~*<>] ' "$T/out")
	[ "$_n" = "${7:-$(($1 + $2 + $3 + $4 + $5))}" ] ||
		{ cat "$T/out" >&2; fail "$CASE: $_n change lines"; }
}

expect_json_change() { # JSON: the change of the last JSON plan at its path is exactly this
	"$PY" - "$T/last.json" "$1" <<'PY' || fail "$CASE: JSON change"
import json, sys
doc, want = json.load(open(sys.argv[1])), json.loads(sys.argv[2])
got = [c for c in doc["changes"] if c["path"] == want["path"]]
if got != [want]:
    sys.exit("JSON change at %s: got %s, want %s" % (want["path"], got, want))
PY
}

# --- a. an empty bpffs: everything is created, the kernel's files ignored -----
CASE=a-empty
reset
plan 2 "$CONFIGS"
expect_line '+ map btf/globals/packets create (counter: packets, array key 4 value 8 max 16)'
expect_line '+ program btf/progs/count_packets create (counter: count_packets, socket_filter)'
expect_line '+ map ns1/dummy/dummy_array create (dummy: dummy_array, array key 4 value 4 max 64)'
expect_line '+ map ns1/globals/dummy_hash create (dummy: dummy_hash, hash key 4 value 8 max 128)'
expect_line '+ program ns1/progs/dummy_socket create (dummy: dummy_socket, socket_filter)'
expect_line '+ map ns1/test1 create (dummy: dummy_array_custom, array key 4 value 4 max 1024)'
expect_line '+ map tc/flows/flows create (cls: flows, hash key 8 value 8 max 1024)'
expect_line '+ map tc/globals/counters create (cls: counters, array key 4 value 8 max 256)'
expect_line '+ program tc/progs/cls_main create (cls: cls_main, sched_cls)'
expect_summary 9 0 0 0 0 0
expect_no debug
grep -q debug "$T/last.json" && fail "$CASE: maps.debug/progs.debug in the JSON plan"
expect_json_change '{"action": "create", "kind": "map", "path": "ns1/test1", "manifest": "gobpf-site",
	"reason": "missing", "object": "dummy", "name": "dummy_array_custom"}'
# plan is apply --dry-run.
cp "$T/out" "$T/plan.txt"
plan 2 apply --dry-run "$CONFIGS"
cmp -s "$T/out" "$T/plan.txt" || fail "$CASE: apply --dry-run differs from plan"

# --- b/c/e/g/h. the gobpf site: in sync, incompatible, mode, stray, in the way
CASE=b-in-sync
reset
mkmap ns1/globals/dummy_hash hash 4 8 128 0600
plan 2 "$GOBPF"
expect_summary 3 0 0 0 1 0
# Made by someone else: taken as it is, and recorded as adopted.
expect_line '< map ns1/globals/dummy_hash adopt (found in place, not made by bpf-provision)'
expect_line '+ map ns1/test1 create (dummy: dummy_array_custom, array key 4 value 4 max 1024)'

CASE=c-incompatible
mkmap ns1/dummy/dummy_array hash 4 4 64
mkmap ns1/test1 array 4 8 256
plan 2 "$GOBPF"
expect_line '~ map ns1/dummy/dummy_array replace (type hash -> array; fail: apply refuses)'
expect_line '~ map ns1/test1 replace (value_size 8 -> 4; max_entries 256 -> 1024; fail: apply refuses)'
expect_line '2 changes would be refused by apply.'
expect_summary 1 2 0 0 1 0
expect_json_change '{"action": "replace", "kind": "map", "path": "ns1/test1", "manifest": "gobpf-site",
	"reason": "value_size 8 -> 4; max_entries 256 -> 1024", "object": "dummy",
	"name": "dummy_array_custom", "on_incompatible": "fail", "refused": true}'
expect_json_change '{"action": "replace", "kind": "map", "path": "ns1/dummy/dummy_array",
	"manifest": "gobpf-site", "reason": "type hash -> array", "object": "dummy",
	"name": "dummy_array", "on_incompatible": "fail", "refused": true}'

CASE=e-mode
chmod 0644 "$M/ns1/globals/dummy_hash"
plan 2 "$GOBPF"
expect_line '< map ns1/globals/dummy_hash adopt (found in place, not made by bpf-provision; mode 0644 -> 0600)'
expect_summary 1 2 0 0 1 0
expect_json_change '{"action": "adopt", "kind": "map", "path": "ns1/globals/dummy_hash",
	"manifest": "gobpf-site", "reason": "found in place, not made by bpf-provision; mode 0644 -> 0600", "object": "dummy",
	"name": "dummy_hash"}'
chmod 0600 "$M/ns1/globals/dummy_hash"

CASE=g-owned-stray
mkmap ns1/stray array 4 4 1
mkprog ns1/sub/stray_prog "$top_builddir/tests/bpf/none.o" socket
mkmap other/foreign array 4 4 1
plan 2 "$GOBPF"
expect_line "- map ns1/stray delete (undeclared in owned directory 'ns1')"
expect_line "- program ns1/sub/stray_prog delete (undeclared in owned directory 'ns1')"
expect_summary 1 2 0 2 1 0
expect_no other/foreign
# Deletes come last, children before their parents (reverse path order).
grep '^- ' "$T/out" | sed -n 1p | grep -q 'ns1/sub/stray_prog' ||
	{ cat "$T/out" >&2; fail "$CASE: delete order"; }
expect_json_change '{"action": "delete", "kind": "map", "path": "ns1/stray", "manifest": "gobpf-site",
	"reason": "undeclared in owned directory '"'ns1'"'"}'

CASE=h-in-the-way
mkmap ns1/progs/dummy_socket array 4 4 1
plan 2 "$GOBPF"
expect_line '~ program ns1/progs/dummy_socket replace (a map is pinned where a program is declared; fail: apply refuses)'
expect_summary 0 3 0 2 1 0
expect_json_change '{"action": "replace", "kind": "program", "path": "ns1/progs/dummy_socket",
	"manifest": "gobpf-site", "reason": "a map is pinned where a program is declared",
	"object": "dummy", "name": "dummy_socket", "on_incompatible": "fail", "refused": true}'
# A directory, or a symlink, where a pin is declared: never removed.
reset
mkdir -p "$M/ns1/test1/inner" "$M/ns1/globals"
ln -s ../test1 "$M/ns1/globals/dummy_hash"
plan 2 "$GOBPF"
expect_line '~ map ns1/test1 replace (a dir is in the way; remove it by hand; refused)'
expect_line '~ map ns1/globals/dummy_hash replace (a symlink is in the way; remove it by hand; refused)'
expect_summary 2 2 0 0 0 0
expect_json_change '{"action": "replace", "kind": "map", "path": "ns1/test1", "manifest": "gobpf-site",
	"reason": "a dir is in the way; remove it by hand", "object": "dummy",
	"name": "dummy_array_custom", "refused": true}'

# --- on_incompatible migrate (tc site): a replace that apply would do --------
CASE=c-migrate
reset
mkmap tc/globals/counters array 4 8 128
mkmap tc/flows/flows hash 8 8 1024 0644
plan 2 "$TC"
expect_line '~ map tc/globals/counters replace (max_entries 128 -> 256; migrate)'
expect_no refused
expect_summary 1 1 0 0 1 0
expect_json_change '{"action": "replace", "kind": "map", "path": "tc/globals/counters",
	"manifest": "tc-site", "reason": "max_entries 128 -> 256", "object": "cls",
	"name": "counters", "on_incompatible": "migrate"}'
# A program where a map is declared is refused even under migrate.
reset
mkprog tc/globals/counters "$top_builddir/tests/bpf/none.o" socket
plan 2 "$TC"
expect_line '~ map tc/globals/counters replace (a program is pinned where a map is declared; refused)'
expect_summary 2 1 0 0 0 0
expect_json_change '{"action": "replace", "kind": "map", "path": "tc/globals/counters",
	"manifest": "tc-site", "reason": "a program is pinned where a map is declared",
	"object": "cls", "name": "counters", "on_incompatible": "migrate", "refused": true}'

# --- d. programs: identity is the kernel tag ----------------------------------
CASE=d-program-same
reset
mkmap btf/globals/packets array 4 8 16
mkprog_libbpf btf/progs/count_packets "$CONFIGS/bpf/btf_site.o" count_packets 0640 \
	packets="$M/btf/globals/packets"
WANT_TAG=$(prog_tag btf/progs/count_packets)
[ -n "$WANT_TAG" ] || fail "$CASE: no tag"
plan 0 "$BTF"
expect_summary 0 0 0 0 2 0

CASE=d-program-differs
rm "$M/btf/progs/count_packets"
mkprog btf/progs/count_packets "$top_builddir/tests/bpf/none.o" socket 0640
HAVE_TAG=$(prog_tag btf/progs/count_packets)
[ -n "$HAVE_TAG" ] && [ "$HAVE_TAG" != "$WANT_TAG" ] || fail "$CASE: tags $HAVE_TAG $WANT_TAG"
plan 2 "$BTF"
expect_line "~ program btf/progs/count_packets replace (instructions differ (tag $HAVE_TAG -> $WANT_TAG))"
expect_summary 0 1 0 0 1 0
expect_json_change '{"action": "replace", "kind": "program", "path": "btf/progs/count_packets",
	"manifest": "btf-site", "reason": "instructions differ (tag '"$HAVE_TAG -> $WANT_TAG"')",
	"object": "counter", "name": "count_packets"}'

# --- i/f. a converged tree of a manifest written here ------------------------
CASE=i-converged
mkdir -p "$T/conv"
cp "$top_builddir/tests/bpf/none.o" "$top_builddir/tests/bpf/btf.o" "$T/conv/"
cat >"$T/conv/conv.yaml" <<'YAML'
version: 1
name: conv
namespace: conv
owned: [conv]
defaults:
  mode: "0600"
  owner: root
  group: 0
objects:
  - file: none.o
    name: none
    sections:
      - program: socket_drop
        pinning: custom
        path: conv/progs/drop
  - file: btf.o
    name: btf
    sections:
      - map: scratch_hash
        pinning: custom
        path: conv/scratch
YAML
reset
mkmap conv/globals/pinned_counts array 4 8 8
mkmap conv/scratch hash 4 4 32 0600 1
mkprog conv/progs/drop "$T/conv/none.o" socket
mkmap other/foreign array 4 4 1 0644
mkdir -p "$M/other/dir"
# Made by hand, so adopted: no drift (exit 0), the ledger alone changes.
plan 0 "$T/conv/conv.yaml"
expect_summary 0 0 0 0 3 0
[ "$(wc -l <"$T/out")" = 4 ] || { cat "$T/out" >&2; fail "$CASE: more than the adoptions"; }
"$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); assert [c["action"] for c in d["changes"]] == ["adopt"] * 3 and d["dry_run"] is True, d' \
	"$T/last.json" || fail "$CASE: JSON"
plan 0 apply --dry-run "$T/conv/conv.yaml"
expect_summary 0 0 0 0 3 0

CASE=e-owner
chown 1000:1000 "$M/conv/scratch"
plan 2 "$T/conv/conv.yaml"
expect_line '< map conv/scratch adopt (found in place, not made by bpf-provision; owner 1000 -> 0; group 1000 -> 0)'
expect_summary 0 0 0 0 3 0
chmod 0640 "$M/conv/scratch"
plan 2 "$T/conv/conv.yaml"
expect_line '< map conv/scratch adopt (found in place, not made by bpf-provision; mode 0640 -> 0600; owner 1000 -> 0; group 1000 -> 0)'
expect_summary 0 0 0 0 3 0
chown 0:0 "$M/conv/scratch"
chmod 0600 "$M/conv/scratch"
plan 0 "$T/conv/conv.yaml"

CASE=d-program-type
rm "$M/conv/progs/drop"
mkprog conv/progs/drop "$T/conv/none.o" xdp
plan 2 "$T/conv/conv.yaml"
expect_line '~ program conv/progs/drop replace (type xdp -> socket_filter)'
expect_summary 0 1 0 0 2 0
rm "$M/conv/progs/drop"
mkprog conv/progs/drop "$T/conv/none.o" socket

CASE=c-map-flags
rm "$M/conv/scratch"
mkmap conv/scratch hash 4 4 32 0600 0
plan 2 "$T/conv/conv.yaml"
expect_line '~ map conv/scratch replace (map_flags 0x0 -> 0x1; fail: apply refuses)'
expect_summary 0 1 0 0 2 0

# --- m. destroy --dry-run: as if the manifests declared nothing ---------------
# There is no ledger before a real apply, so only pins in owned directories
# are known to be ours: all of them go, nothing else does.
CASE=m-destroy
plan 2 destroy --dry-run "$T/conv/conv.yaml"
expect_line "- map conv/scratch delete (undeclared in owned directory 'conv')"
expect_line "- program conv/progs/drop delete (undeclared in owned directory 'conv')"
expect_line "- map conv/globals/pinned_counts delete (undeclared in owned directory 'conv')"
expect_summary 0 0 0 3 0 0
expect_no other/
reset
mkmap ns1/globals/dummy_hash hash 4 8 128
mkmap ns1/stray array 4 4 1
mkmap btf/globals/packets array 4 8 16
mkmap other/foreign array 4 4 1
plan 2 destroy --dry-run "$GOBPF" "$BTF"
expect_line "- map ns1/stray delete (undeclared in owned directory 'ns1')"
expect_line "- map ns1/globals/dummy_hash delete (undeclared in owned directory 'ns1')"
expect_summary 0 0 0 2 0 0
expect_no btf/
expect_no other/
plan 0 destroy --dry-run "$BTF"
expect_summary 0 0 0 0 0 0

# --- n. status -----------------------------------------------------------------
CASE=n-status
run 0 status "$GOBPF" "$BTF"
HASH_ID=$(bpftool map show pinned "$M/ns1/globals/dummy_hash" | sed -n '1s/:.*//p')
expect_line 'PATH KIND TYPE ID MANAGED-BY STATE'
expect_line "ns1/globals/dummy_hash map hash $HASH_ID gobpf-site adopt: found in place, not made by bpf-provision"
expect_line "ns1/stray map array $(bpftool map show pinned "$M/ns1/stray" | sed -n '1s/:.*//p') gobpf-site delete: undeclared in owned directory 'ns1'"
expect_line "btf/globals/packets map array $(bpftool map show pinned "$M/btf/globals/packets" | sed -n '1s/:.*//p') btf-site adopt: found in place, not made by bpf-provision"
expect_line 'ns1/test1 map array - gobpf-site missing'
expect_line 'btf/progs/count_packets program socket_filter - btf-site missing'
grep -q '^maps\.debug .* unmanaged ' "$T/outs" || fail "$CASE: maps.debug is not unmanaged"
grep -q '^other/foreign map array [0-9]* unmanaged ' "$T/outs" || fail "$CASE: other/foreign"
# A header and one row per pin: 4 pinned, maps.debug, progs.debug, 4 declared
# but missing (directories have no row).
[ "$(wc -l <"$T/out")" = 11 ] || { cat "$T/out" >&2; fail "$CASE: row count"; }
run 0 -o json status "$GOBPF" "$BTF"
"$PY" - "$T/out" "$HASH_ID" <<'PY' || fail "$CASE: status JSON"
import json, sys
doc = json.load(open(sys.argv[1]))
pins = {p["path"]: p for p in doc["pins"]}
assert len(pins) == len(doc["pins"]) == 10, doc
assert pins["maps.debug"]["managed_by"] is None, pins["maps.debug"]
assert pins["other/foreign"]["managed_by"] is None, pins["other/foreign"]
h = pins["ns1/globals/dummy_hash"]
assert h["managed_by"] == "gobpf-site" and h["in_sync"] is True and h["kind"] == "map", h
assert h["id"] == int(sys.argv[2]), h
assert pins["ns1/stray"]["in_sync"] is False, pins["ns1/stray"]
PY

# --- l. failures: not a bpffs, invalid manifest ---------------------------------
CASE=l-not-bpffs
mkdir -p "$T/plain"
"$BPF_PROVISION" --bpffs "$T/plain" plan "$CONFIGS" >"$T/out" 2>"$T/err"
[ $? = 1 ] || fail "$CASE: plan on a plain directory did not exit 1"
grep -Fxq "$T/plain: error: not a bpffs mount (mount one, or pass --mount)" "$T/err" ||
	{ cat "$T/err" >&2; fail "$CASE: message"; }
[ -s "$T/out" ] && fail "$CASE: a plan on stdout"
[ -z "$(ls -A "$T/plain")" ] || fail "$CASE: wrote into the plain directory"
"$BPF_PROVISION" --bpffs "$T/plain" -o json plan "$CONFIGS" >"$T/errdocs/not-bpffs.json" 2>"$T/err"
[ $? = 1 ] || fail "$CASE: -o json plan on a plain directory did not exit 1"

CASE=l-invalid
printf 'version: 1\nname: bad\nowned: [ns1]\nbogus: 1\nobjects: []\n' >"$T/bad.yaml"
run 65 plan "$T/bad.yaml"
grep -Fxq "$T/bad.yaml:4:1: error: unknown key 'bogus' in manifest" "$T/err" ||
	{ cat "$T/err" >&2; fail "$CASE: message"; }
[ -s "$T/out" ] && fail "$CASE: a plan on stdout"
run 65 plan "$GOBPF" "$T/bad.yaml"
run 65 destroy --dry-run "$T/bad.yaml"
run 65 -o json plan "$T/bad.yaml"
cp "$T/out" "$T/errdocs/invalid.json"
"$PY" - "$T/out" "$T/bad.yaml" <<'PY' || fail "$CASE: JSON error"
import json, sys
doc = json.load(open(sys.argv[1]))
want = {"message": "unknown key 'bogus' in manifest", "file": sys.argv[2], "line": 4, "column": 1}
assert doc["error"] == want and doc["errors"] == [want], doc
PY

# --- k. every JSON plan: the schema, and the text plan says the same ----------
CASE=k-json
"$PY" - "$top_srcdir/schema/plan.schema.json" "$T/docs" "$T/errdocs" <<'PY' || fail "JSON documents"
import glob, json, os, re, sys
from jsonschema import Draft202012Validator
schema = json.load(open(sys.argv[1]))
Draft202012Validator.check_schema(schema)
v = Draft202012Validator(schema)
errors = 0
def bad(where, msg):
    global errors
    errors += 1
    print("FAIL: %s: %s" % (where, msg), file=sys.stderr)
line_re = re.compile(
    r"^([-+~*<>]) (\S+) +(\S+) +(create|replace|update|delete|adopt|release) +\((.*)\)$")
symbol = {"create": "+", "replace": "~", "update": "*", "delete": "-", "adopt": "<",
          "release": ">"}
for jf in sorted(glob.glob(os.path.join(sys.argv[2], "*.json"))):
    base = jf[:-5]
    where = open(base + ".case").read().strip()
    doc = json.load(open(jf))
    for e in v.iter_errors(doc):
        bad(where, "schema: %s at %s" % (e.message, list(e.absolute_path)))
    if "changes" not in doc:
        bad(where, "not a plan")
        continue
    text = open(base + ".txt").read().splitlines()
    lines = [l for l in text if line_re.match(l)]
    if len(lines) != len(doc["changes"]):
        bad(where, "%d text lines, %d JSON changes" % (len(lines), len(doc["changes"])))
    for l, c in zip(lines, doc["changes"]):
        sym, kind, path, action, detail = line_re.match(l).groups()
        if (sym, kind, path, action) != (symbol[c["action"]], c["kind"], c["path"], c["action"]):
            bad(where, "text %r vs JSON %s" % (l, c))
        if c["action"] == "create":
            ok = detail.startswith("%s: %s, " % (c["object"], c["name"]))
        else:
            ok = detail == c["reason"] or detail.startswith(c["reason"] + "; ")
        if not ok:
            bad(where, "text %r vs JSON reason %s" % (l, c))
    s = doc["summary"]
    want = ("Plan: %d to create, %d to replace, %d to update, %d to delete, %d to adopt, "
            "%d to release, %d unchanged." % (s["create"], s["replace"], s["update"], s["delete"],
                                              s["adopt"], s["release"], s["unchanged"]))
    if want not in text:
        bad(where, "text summary is not %r" % want)
    n = {a: sum(c["action"] == a for c in doc["changes"]) for a in symbol}
    if any(n[a] != s[a] for a in symbol):
        bad(where, "summary %s but changes %s" % (s, n))
    if doc["dry_run"] is not True:
        bad(where, "dry_run is not true")
    # The steps carry out every change, and only the changes; none when one is refused.
    ops = [st["op"] for st in doc["steps"]]
    if any(c.get("refused") for c in doc["changes"]):
        if ops:
            bad(where, "steps %s for a refused plan" % ops)
    elif doc["changes"]:
        if ops[:1] != ["intent"] or "ledger" not in ops[-2:]:
            bad(where, "steps %s: not intent first and ledger last" % ops)
        # The ledger step alone makes an adoption or release (without
        # attribute or entry updates) what it is: recorded, or forgotten.
        done = {st["change"] for st in doc["steps"] if "change" in st}
        done |= {i for i, c in enumerate(doc["changes"])
                 if c["action"] == "release" or
                 c["reason"] == "found in place, not made by bpf-provision"}
        if done != set(range(len(doc["changes"]))):
            bad(where, "steps carry out changes %s of %d" % (sorted(done), len(doc["changes"])))
    elif ops != ["ledger"]:
        bad(where, "steps %s with nothing to change" % ops)
for ef in sorted(glob.glob(os.path.join(sys.argv[3], "*.json"))):
    doc = json.load(open(ef))
    for e in v.iter_errors(doc):
        bad(ef, "schema: %s" % e.message)
    if "error" not in doc:
        bad(ef, "not an error document")
# The schema rejects what the tool must never print.
zero = {"create": 0, "replace": 0, "update": 0, "delete": 0, "adopt": 0, "release": 0,
        "unchanged": 0}
good = {"format_version": 3, "bpffs": "/x", "dry_run": True, "changes": [],
        "steps": [{"op": "ledger"}], "summary": zero}
if not v.is_valid(good):
    bad("schema", "refuses %s" % good)
for wrong in (dict(good, summary=dict(zero, delete=-1)),
              dict(good, summary={k: 0 for k in zero if k != "unchanged"}),
              dict(good, extra=1),
              dict(good, format_version=1),
              dict(good, format_version=2),
              {k: good[k] for k in good if k != "steps"},
              dict(good, steps=[{"op": "format"}]),
              dict(good, steps=[{"op": "rmdir", "path": "/abs"}]),
              dict(good, steps=[{"op": "pin", "mode": "rw"}]),
              {"error": {"message": "m"}},
              {"error": {"message": "m", "code": 3}, "errors": [{"message": "m"}]}):
    if v.is_valid(wrong):
        bad("schema", "accepts %s" % wrong)
sys.exit(1 if errors else 0)
PY

# --- o. a declared pin whose parent is not a directory ------------------------
# apply can neither mkdir where a pin is, nor should it pin through a symlink
# into a tree that is not its own: the plan must not promise a create there
# (bpf-provision(1): what is in the way of a declared pin is a refused replace).
CASE=o-parent-not-a-dir
reset
mkmap btf/globals array 4 4 1
plan 2 "$BTF"
grep -q '^~ map btf/globals/packets replace (.*in the way.*; refused)$' "$T/outs" || {
	cat "$T/out" >&2
	fail "$CASE: a map pinned at btf/globals, where the directory of the declared btf/globals/packets must be: want a refused replace ('in the way'), got: $(grep btf/globals/packets "$T/outs")"
}
reset
mkmap real/globals/packets array 4 8 16
ln -s real "$M/btf"
plan 2 "$BTF"
if grep -q 'btf/globals/packets' "$T/outs"; then
	grep -q '^~ map btf/globals/packets replace (.*; refused)$' "$T/outs" || {
		cat "$T/out" >&2
		fail "$CASE: btf is a symlink (to real/, where a map is pinned at globals/packets): want btf/globals/packets in sync or a refused replace, got: $(grep btf/globals/packets "$T/outs")"
	}
fi

echo "drift.sh: $NDOC plans (text and JSON) checked, the tree unchanged by every run"
echo "drift.sh: cases a-o passed"
