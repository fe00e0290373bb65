#!/bin/sh
# SPDX-License-Identifier: MIT
# apply and destroy for real (bpf-provision(1), bpf-provision.yaml(5)) on a private bpffs
# mount: the example manifests are applied to an empty tree and the kernel
# is asked what it holds (bpftool: kinds, map specs, modes, program-to-map
# wiring, packets counted by the pinned socket filters); re-applies change
# nothing and keep map contents; on_incompatible migrate, replace and fail;
# prune, owned directories and destroy; every injected failure of every step
# leaves the tree as it was (BPF_PROVISION_FAIL_AT); runs killed with SIGKILL
# are cleaned up and converge; the lock; the JSON document of an apply; and
# new pins made at their free paths, with no rename or chmod (strace).
# Needs root.  The ledger lives in a private BPF_PROVISION_RUNTIME_DIR.
# shellcheck disable=SC2015 # A && B || fail: fail if either fails
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST
find_python

command -v flock >/dev/null 2>&1 || skip "no flock (util-linux)"
command -v timeout >/dev/null 2>&1 || skip "no timeout (coreutils)"
command -v strace >/dev/null 2>&1 || skip "no strace (apt-get install strace)"

START=$(date +%s)

mount_private_bpffs apply
unset BPF_PROVISION_FAIL_AT BPF_PROVISION_FAIL_ERRNO BPF_PROVISION_TRACE_STEPS BPF_PROVISION_PAUSE_AT

CONFIGS=$T/configs
pin_examples "$CONFIGS"
BTF=$CONFIGS/btf-site.yaml
W=$T/work # manifests written by the test, beside copies of the objects
mkdir -p "$W" "$T/docs"
cp "$CONFIGS/bpf/gobpf_site.o" "$CONFIGS/bpf/iproute2_site.o" "$W/" || fail "copy objects"
CASE=setup

# --- the tree ----------------------------------------------------------------

reset() { # a fresh, empty bpffs (only maps.debug and progs.debug) and no ledger
	umount "$M" || fail "umount $M"
	mount -t bpf bpf "$M" || fail "mount $M"
	rm -rf "$T/run"
}

mkmap() { # PATH TYPE KEY VALUE ENTRIES [MODE]: a map pinned by hand (bpftool)
	mkdir -p "$M/$(dirname "$1")" &&
		bpftool -n map create "$M/$1" type "$2" key "$3" value "$4" entries "$5" \
			name "$(basename "$1" | cut -c1-15)" &&
		chmod "${6:-0600}" "$M/$1" || fail "$CASE: cannot pin map $1"
}

swapmap() { # PATH TYPE KEY VALUE ENTRIES: a new map renamed over the pin at PATH
	mkmap "$(dirname "$1")/swap_tmp" "$2" "$3" "$4" "$5" &&
		mv "$M/$(dirname "$1")/swap_tmp" "$M/$1" || fail "$CASE: cannot swap map $1"
}

mkprog() { # PATH OBJECT TYPE: the object's first program, via bpftool
	mkdir -p "$M/$(dirname "$1")" &&
		bpftool -n prog load "$2" "$M/$1" type "$3" &&
		chmod 0600 "$M/$1" || fail "$CASE: cannot pin program $1"
}

pin_id() { # PATH: map:ID or prog:ID of the pin, or nothing
	_id=$(bpftool map show pinned "$M/$1" 2>/dev/null | sed -n '1s/:.*//p')
	if [ -n "$_id" ]; then
		echo "map:$_id"
		return
	fi
	_id=$(bpftool prog show pinned "$M/$1" 2>/dev/null | sed -n '1s/:.*//p')
	[ -z "$_id" ] || echo "prog:$_id"
}

map_spec() { # PATH: "TYPE KEY VALUE MAX_ENTRIES FLAGS" as the kernel says
	bpftool -j map show pinned "$M/$1" 2>/dev/null | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
print(d["type"], d["bytes_key"], d["bytes_value"], d["max_entries"], d["flags"])' ||
		fail "$CASE: no map at $1"
}

prog_info() { # PATH: "TYPE MAP_ID..." as the kernel says
	bpftool -j prog show pinned "$M/$1" 2>/dev/null | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
print(d["type"], *sorted(d.get("map_ids", [])))' || fail "$CASE: no program at $1"
}

map_ids_of() { # PATH...: the map ids of the map pins, sorted, blank-separated
	for _p; do
		pin_id "$_p"
	done | sed -n 's/^map://p' | sort -n | tr '\n' ' ' | sed 's/ $//'
}

lookup() { # PATH KEY-BYTES...: the value at KEY as an unsigned little-endian number
	_p=$1
	shift
	# shellcheck disable=SC2086
	bpftool -j map lookup pinned "$M/$_p" key "$@" 2>"$T/lookup.err" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
print(int.from_bytes(bytes(int(b, 16) for b in d["value"]), "little"))' 2>/dev/null ||
		echo "none"
}

update() { # PATH KEY-BYTES -- VALUE-BYTES
	_p=$1
	shift
	_k=
	while [ "$1" != -- ]; do
		_k="$_k $1"
		shift
	done
	shift
	# shellcheck disable=SC2086
	bpftool map update pinned "$M/$_p" key $_k value "$@" ||
		fail "$CASE: cannot write to $_p"
}

expect_value() { # WANT PATH KEY-BYTES...
	_want=$1
	shift
	_got=$(lookup "$@")
	[ "$_got" = "$_want" ] || fail "$CASE: $1 [$(echo "$*" | cut -d' ' -f2-)] is $_got, want $_want"
}

# The tree as the brief of an apply sees it: every entry with its type, mode,
# owner, group and symlink target, and the kernel id of every pin.
listing() { # FILE
	(
		cd "$M" || exit 1
		find . -printf '%p %y %m %u %g %l\n' | LC_ALL=C sort
		find . -type f ! -path ./maps.debug ! -path ./progs.debug | LC_ALL=C sort |
			while read -r p; do
				echo "$p id $(pin_id "$p")"
			done
	) >"$1" || fail "$CASE: listing"
}

# Stricter: also inode and ctime (nothing at all may have been touched).
listing_strict() { # FILE
	listing "$1.ids"
	(cd "$M" && find . -printf '%p %i %C@\n' | LC_ALL=C sort) >"$1" &&
		cat "$1.ids" >>"$1" && rm -f "$1.ids" || fail "$CASE: listing"
}

same_listing() { # BEFORE AFTER WHAT
	if ! cmp -s "$1" "$2"; then
		diff "$1" "$2" >&2
		fail "$CASE: $3"
	fi
}

pins() { # the pin files under the root, one relative path a line, sorted
	(cd "$M" && find . -type f | sed 's|^\./||' | LC_ALL=C sort)
}

list_dirs() { # the directories under the root with their modes, sorted
	(cd "$M" && find . -mindepth 1 -type d -printf '%P %m\n' | LC_ALL=C sort)
}

no_tmp_pins() { # WHAT
	_tmp=$(find "$M" -name 'bpfprov_tmp_*')
	[ -z "$_tmp" ] || fail "$CASE: $1 left temporary pins: $_tmp"
}

# --- running the tool --------------------------------------------------------

bp() { # STATUS ARGS...: bpf-provision --bpffs $M ARGS must exit STATUS
	_want=$1
	shift
	run_checking_steps "$M" "$@"
	_got=$?
	if [ "$_got" != "$_want" ]; then
		cat "$T/out" "$T/err" >&2
		fail "$CASE: 'bpf-provision $*' exited $_got, want $_want"
	fi
	tr -s ' ' <"$T/out" >"$T/outs"
}

expect_line() { # LINE: the text output has it (runs of blanks squeezed)
	grep -Fxq -- "$1" "$T/outs" || { cat "$T/out" "$T/err" >&2; fail "$CASE: no line '$1'"; }
}

expect_err() { # TEXT: stderr has it
	grep -Fq -- "$1" "$T/err" || { cat "$T/err" >&2; fail "$CASE: no '$1' on stderr"; }
}

expect_summary() { # CREATE REPLACE UPDATE DELETE UNCHANGED [ADOPT RELEASE]
	expect_line "Plan: $1 to create, $2 to replace, $3 to update, $4 to delete, ${6:-0} to adopt, ${7:-0} to release, $5 unchanged."
	_n=$(grep -c '^[-+~*<>] ' "$T/out")
	[ "$_n" = "$(($1 + $2 + $3 + $4 + ${6:-0} + ${7:-0}))" ] ||
		{ cat "$T/out" >&2; fail "$CASE: $_n change lines"; }
}

converged() { # N MANIFEST...: plan exits 0 with no changes and N unchanged
	_n=$1
	shift
	bp 0 plan "$@"
	expect_summary 0 0 0 0 "$_n"
}

steps_of() { # the K of the last run with BPF_PROVISION_TRACE_STEPS=1
	sed -n 's/^bpf-provision: \([0-9]*\) steps$/\1/p' "$T/err" | tail -n 1
}

json_check() { # FILE DRY_RUN STATUS|-: the document is valid; every change has STATUS
	"$PY" - "$top_srcdir/schema/plan.schema.json" "$1" "$2" "$3" <<'PY' || fail "$CASE: JSON document"
import json, sys
from jsonschema import Draft202012Validator
schema = json.load(open(sys.argv[1]))
try:
    doc = json.load(open(sys.argv[2]))
except ValueError as e:
    sys.exit("stdout is not one JSON document (%s):\n%s" % (e, open(sys.argv[2]).read()))
errs = ["%s at %s" % (e.message, list(e.absolute_path))
        for e in Draft202012Validator(schema).iter_errors(doc)]
if errs:
    sys.exit("schema: " + "; ".join(errs))
if sys.argv[3] == "error":
    if "error" not in doc:
        sys.exit("not an error document: %s" % doc)
    sys.exit(0)
if doc["dry_run"] is not (sys.argv[3] == "true"):
    sys.exit("dry_run is %s" % doc["dry_run"])
n = {a: sum(c["action"] == a for c in doc["changes"])
     for a in ("create", "replace", "update", "delete", "adopt", "release")}
if any(n[a] != doc["summary"][a] for a in n):
    sys.exit("summary %s but changes %s" % (doc["summary"], n))
if sys.argv[4] != "-":
    bad = [c for c in doc["changes"] if c.get("status") != sys.argv[4]]
    if bad:
        sys.exit("changes without status %s: %s" % (sys.argv[4], bad))
PY
}

# Attaches the pinned socket filter to a UDP socket on 127.0.0.1 and sends it
# N datagrams (SO_ATTACH_BPF with an fd from bpf_obj_get, through libbpf).
cat >"$T/sockfilter.py" <<'PY'
import ctypes, ctypes.util, os, socket, sys
pin, n = sys.argv[1], int(sys.argv[2])
lib = ctypes.CDLL(ctypes.util.find_library('bpf') or 'libbpf.so.1', use_errno=True)
lib.bpf_obj_get.restype, lib.bpf_obj_get.argtypes = ctypes.c_int, [ctypes.c_char_p]
fd = lib.bpf_obj_get(pin.encode())
if fd < 0:
    sys.exit('bpf_obj_get %s: %s' % (pin, os.strerror(ctypes.get_errno())))
SO_ATTACH_BPF = 50
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 0))
s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_BPF, fd)
s.settimeout(5)
for i in range(n):
    s.sendto(b'p' * (i + 1), s.getsockname())
    data = s.recv(4096)
    if len(data) != i + 1:
        sys.exit('datagram %d: %d bytes, want %d' % (i, len(data), i + 1))
PY
send_packets() { # PROGRAM-PATH N
	"$PY" "$T/sockfilter.py" "$M/$1" "$2" || fail "$CASE: cannot run the filter $1"
}

# The pins the example manifests declare, from `validate`: "KIND PATH".
"$BPF_PROVISION" validate "$CONFIGS" >"$T/validate" 2>&1 || fail "validate $CONFIGS"
sed -n 's/^  \(map\|program\)  *\([^ ]*\) .*/\1 \2/p' "$T/validate" | LC_ALL=C sort -k2 >"$T/declared"
[ "$(wc -l <"$T/declared")" = 9 ] || { cat "$T/validate" >&2; fail "want 9 declared pins"; }
NDECL=9

# Every declared pin ($T/declared) has its declared mode and is root's.
declared_modes() {
	while read -r _kind _path; do
		_want=600
		[ "$_path" = btf/progs/count_packets ] && _want=640
		_got=$(stat -c '%a %U %G' "$M/$_path")
		[ "$_got" = "$_want root root" ] || fail "$CASE: $_path is '$_got', want '$_want root root'"
	done <"$T/declared"
}

# === 1. apply to an empty tree ==================================================
CASE=1-empty
reset
mkmap other/foreign array 4 4 1 0644
mkprog foreign_prog "$top_builddir/tests/bpf/none.o" socket
FOREIGN_IDS="$(pin_id other/foreign) $(pin_id foreign_prog)"
(cd "$M" && stat -c '%n %i %a %u %g %Z' maps.debug progs.debug) >"$T/debug.before"
bp 0 apply "$CONFIGS"
expect_summary 9 0 0 0 0
no_tmp_pins "apply"
# Exactly the declared pins, the foreign ones and the kernel's.
{
	cut -d' ' -f2 "$T/declared"
	printf '%s\n' foreign_prog maps.debug other/foreign progs.debug
} | LC_ALL=C sort >"$T/want.pins"
pins >"$T/got.pins"
same_listing "$T/want.pins" "$T/got.pins" "the pins are not the declared ones"
# Every directory the tool made is 0700 (other/ is ours, made by mkdir).
list_dirs | grep -v '^other ' >"$T/got.dirs"
printf '%s 700\n' btf btf/globals btf/progs ns1 ns1/dummy ns1/globals ns1/progs \
	tc tc/flows tc/globals tc/progs | LC_ALL=C sort >"$T/want.dirs"
same_listing "$T/want.dirs" "$T/got.dirs" "directories or their modes"
# Kinds, and modes and owners as declared.
while read -r kind path; do
	case $kind in
	map) bpftool map show pinned "$M/$path" >/dev/null 2>&1 || fail "$CASE: $path is not a map" ;;
	program) bpftool prog show pinned "$M/$path" >/dev/null 2>&1 ||
		fail "$CASE: $path is not a program" ;;
	esac
done <"$T/declared"
declared_modes
# Map specs as the ELF objects say.
while read -r path spec; do
	got=$(map_spec "$path")
	[ "$got" = "$spec" ] || fail "$CASE: map $path is '$got', want '$spec'"
done <<'EOF'
btf/globals/packets array 4 8 16 0
ns1/dummy/dummy_array array 4 4 64 0
ns1/globals/dummy_hash hash 4 8 128 0
ns1/test1 array 4 4 1024 0
tc/flows/flows hash 8 8 1024 0
tc/globals/counters array 4 8 256 0
EOF
# Programs are wired to the pinned maps (and to no other pinned map).
got=$(prog_info btf/progs/count_packets)
[ "$got" = "socket_filter $(map_ids_of btf/globals/packets)" ] ||
	fail "$CASE: btf/progs/count_packets is '$got', want socket_filter using btf/globals/packets"
got=$(prog_info ns1/progs/dummy_socket)
[ "$got" = "socket_filter $(map_ids_of ns1/dummy/dummy_array)" ] ||
	fail "$CASE: ns1/progs/dummy_socket is '$got', want socket_filter using ns1/dummy/dummy_array"
got=$(prog_info tc/progs/cls_main)
case "$got " in
"sched_cls "*) ;;
*) fail "$CASE: tc/progs/cls_main is '$got', want sched_cls" ;;
esac
for m in tc/globals/counters tc/flows/flows; do
	case " $got " in
	*" $(map_ids_of $m) "*) ;;
	*) fail "$CASE: tc/progs/cls_main ($got) does not use the pinned $m" ;;
	esac
done
# Foreign pins and the kernel's files untouched.
[ "$(pin_id other/foreign) $(pin_id foreign_prog)" = "$FOREIGN_IDS" ] ||
	fail "$CASE: foreign pins changed"
[ "$(stat -c %a "$M/other/foreign")" = 644 ] || fail "$CASE: foreign pin's mode changed"
(cd "$M" && stat -c '%n %i %a %u %g %Z' maps.debug progs.debug) >"$T/debug.after"
same_listing "$T/debug.before" "$T/debug.after" "maps.debug or progs.debug touched"
# A umask that takes from every declared mode (the owner's write bit too):
# directories and pins still get exactly their modes.
CASE=1-umask
reset
(umask 0277 && bp 0 apply "$CONFIGS") || fail "$CASE: the apply under umask 0277 failed"
list_dirs >"$T/got.dirs"
same_listing "$T/want.dirs" "$T/got.dirs" "directories or their modes under umask 0277"
declared_modes

# === 2. the pinned programs run and count into the pinned maps =================
CASE=2-programs-run
expect_value 0 btf/globals/packets 0 0 0 0
send_packets btf/progs/count_packets 5
expect_value 5 btf/globals/packets 0 0 0 0
expect_value 0 ns1/dummy/dummy_array 0 0 0 0
send_packets ns1/progs/dummy_socket 3
expect_value 3 ns1/dummy/dummy_array 0 0 0 0
expect_value 5 btf/globals/packets 0 0 0 0

# === 3. a re-apply does nothing ================================================
CASE=3-reapply
listing_strict "$T/before"
bp 0 apply "$CONFIGS"
expect_summary 0 0 0 0 9
listing_strict "$T/after"
same_listing "$T/before" "$T/after" "a re-apply of unchanged manifests changed the tree"
converged 9 "$CONFIGS"

# === 4. map contents survive applies that do not replace the map ================
CASE=4-contents
update ns1/globals/dummy_hash 7 0 0 0 -- 42 0 0 0 0 0 0 0
update ns1/test1 100 0 0 0 -- 9 1 0 0
update tc/flows/flows 1 2 3 4 5 6 7 8 -- 77 0 0 0 0 0 0 0
update btf/globals/packets 3 0 0 0 -- 33 0 0 0 0 0 0 0
chmod 0644 "$M/ns1/globals/dummy_hash" # an update (in place) as well
listing "$T/before"
bp 0 apply "$CONFIGS"
expect_line '* map ns1/globals/dummy_hash update (mode 0644 -> 0600)'
expect_summary 0 0 1 0 8
[ "$(stat -c %a "$M/ns1/globals/dummy_hash")" = 600 ] || fail "$CASE: mode not updated"
listing "$T/after"
sed 's|^\(./ns1/globals/dummy_hash f\) 644|\1 600|' "$T/before" >"$T/want"
same_listing "$T/want" "$T/after" "an update changed more than the mode"
expect_value 42 ns1/globals/dummy_hash 7 0 0 0
expect_value 265 ns1/test1 100 0 0 0
expect_value 77 tc/flows/flows 1 2 3 4 5 6 7 8
expect_value 33 btf/globals/packets 3 0 0 0
expect_value 5 btf/globals/packets 0 0 0 0
expect_value 3 ns1/dummy/dummy_array 0 0 0 0
bp 0 apply "$CONFIGS"
expect_summary 0 0 0 0 9
expect_value 42 ns1/globals/dummy_hash 7 0 0 0
# The programs still count into the same maps.
send_packets btf/progs/count_packets 2
expect_value 7 btf/globals/packets 0 0 0 0

# === 5. on_incompatible: migrate =================================================
CASE=5-migrate
cat >"$W/mig.yaml" <<'EOF'
version: 1
name: mig
namespace: mig
pin_ids: {4: mig/flows}
objects:
  - file: iproute2_site.o
    name: cls
    sections:
      - map: counters
        on_incompatible: migrate
      - map: flows
        on_incompatible: migrate
EOF
mkmap mig/globals/counters array 4 8 128
update mig/globals/counters 5 0 0 0 -- 55 0 0 0 0 0 0 0
update mig/globals/counters 127 0 0 0 -- 127 1 0 0 0 0 0 0
mkmap mig/flows/flows hash 8 8 16
update mig/flows/flows 1 0 0 0 0 0 0 0 -- 11 0 0 0 0 0 0 0
update mig/flows/flows 2 0 0 0 0 0 0 0 -- 22 0 0 0 0 0 0 0
old=$(pin_id mig/globals/counters)
oldf=$(pin_id mig/flows/flows)
bp 2 plan "$W/mig.yaml"
expect_line '~ map mig/globals/counters replace (max_entries 128 -> 256; migrate)'
expect_line '~ map mig/flows/flows replace (max_entries 16 -> 1024; migrate)'
bp 0 apply "$W/mig.yaml"
expect_summary 0 2 0 0 0
no_tmp_pins "migrate"
[ "$(map_spec mig/globals/counters)" = "array 4 8 256 0" ] || fail "$CASE: counters not migrated"
[ "$(map_spec mig/flows/flows)" = "hash 8 8 1024 0" ] || fail "$CASE: flows not migrated"
[ "$(pin_id mig/globals/counters)" != "$old" ] || fail "$CASE: counters is the same map"
[ "$(pin_id mig/flows/flows)" != "$oldf" ] || fail "$CASE: flows is the same map"
expect_value 55 mig/globals/counters 5 0 0 0
expect_value 383 mig/globals/counters 127 0 0 0
expect_value 0 mig/globals/counters 128 0 0 0
expect_value 11 mig/flows/flows 1 0 0 0 0 0 0 0
expect_value 22 mig/flows/flows 2 0 0 0 0 0 0 0
grep -q 'did not fit' "$T/err" && { cat "$T/err" >&2; fail "$CASE: growing reported misfits"; }
converged 2 "$W/mig.yaml"
# Shrinking an array: indexes beyond the new max_entries are reported.
swapmap mig/globals/counters array 4 8 512
update mig/globals/counters 5 0 0 0 -- 56 0 0 0 0 0 0 0
update mig/globals/counters 300 0 0 0 -- 30 0 0 0 0 0 0 0
bp 0 apply "$W/mig.yaml"
expect_line '~ map mig/globals/counters replace (max_entries 512 -> 256; migrate)'
expect_summary 0 1 0 0 1
expect_err 'did not fit'
echo "apply.sh: migrate: $(grep -F 'did not fit' "$T/err" | head -n 1)"
grep -F 'mig/globals/counters' "$T/err" | grep -q 'did not fit' ||
	{ cat "$T/err" >&2; fail "$CASE: the misfit report does not name the map"; }
[ "$(map_spec mig/globals/counters)" = "array 4 8 256 0" ] || fail "$CASE: counters not shrunk"
expect_value 56 mig/globals/counters 5 0 0 0
converged 2 "$W/mig.yaml"
# A map type without batch ops (a devmap) migrates one entry at a time.
cp "$top_builddir/tests/bpf/libbpf_devmap.o" "$W/" || fail "$CASE: copy libbpf_devmap.o"
cat >"$W/dev.yaml" <<'EOF'
version: 1
name: dev
objects:
  - file: libbpf_devmap.o
    sections:
      - map: ports
        pinning: custom
        path: mig/devs/ports
        on_incompatible: migrate
EOF
mkmap mig/devs/ports devmap 4 4 4
update mig/devs/ports 3 0 0 0 -- 1 0 0 0
bp 0 apply "$W/dev.yaml"
expect_line '~ map mig/devs/ports replace (max_entries 4 -> 8; migrate)'
[ "$(map_spec mig/devs/ports)" = "devmap 4 4 8 128" ] || fail "$CASE: ports not migrated"
expect_value 1 mig/devs/ports 3 0 0 0
grep -q 'did not fit' "$T/err" && { cat "$T/err" >&2; fail "$CASE: the devmap reported misfits"; }
converged 1 "$W/dev.yaml"

# === 6. on_incompatible: replace, and fail ======================================
CASE=6-replace
sed -e 's/^name: mig/name: rep/' -e 's/^namespace: mig/namespace: rep/' \
	-e 's|{4: mig/flows}|{4: rep/flows}|' -e 's/migrate/replace/' "$W/mig.yaml" >"$W/rep.yaml"
mkmap rep/globals/counters array 4 8 128
update rep/globals/counters 5 0 0 0 -- 55 0 0 0 0 0 0 0
old=$(pin_id rep/globals/counters)
bp 0 apply "$W/rep.yaml"
expect_line '~ map rep/globals/counters replace (max_entries 128 -> 256; replace)'
expect_line '+ map rep/flows/flows create (cls: flows, hash key 8 value 8 max 1024)'
expect_summary 1 1 0 0 0
[ "$(pin_id rep/globals/counters)" != "$old" ] || fail "$CASE: counters is the same map"
[ "$(map_spec rep/globals/counters)" = "array 4 8 256 0" ] || fail "$CASE: counters not replaced"
expect_value 0 rep/globals/counters 5 0 0 0
converged 2 "$W/rep.yaml"

CASE=6-fail
swapmap ns1/test1 array 4 8 256
update ns1/test1 1 0 0 0 -- 1 2 3 4 5 6 7 8
chmod 0644 "$M/ns1/globals/dummy_hash" # would be an update: refused with the rest
rm "$M/ns1/dummy/dummy_array"          # would be a create: refused with the rest
listing_strict "$T/before"
cp -r "$T/run" "$T/run.before"
bp 2 plan "$CONFIGS"
expect_line '~ map ns1/test1 replace (value_size 8 -> 4; max_entries 256 -> 1024; fail: apply refuses)'
expect_summary 1 2 1 0 5
bp 1 apply "$CONFIGS"
expect_err "map 'ns1/test1': replace refused (value_size 8 -> 4; max_entries 256 -> 1024)"
expect_err 'nothing was changed'
listing_strict "$T/after"
same_listing "$T/before" "$T/after" "a refused apply changed the tree"
diff -r "$T/run.before" "$T/run" >/dev/null || fail "$CASE: a refused apply changed the ledger"
rm -rf "$T/run.before"
expect_value 578437695752307201 ns1/test1 1 0 0 0
bp 1 -o json apply "$CONFIGS"
cp "$T/out" "$T/docs/refused.json"
json_check "$T/docs/refused.json" error -
listing_strict "$T/after"
same_listing "$T/before" "$T/after" "a refused apply (-o json) changed the tree"

# === 7. prune and destroy ========================================================
CASE=7-prune
reset
mkmap foreign_root array 4 4 1
cat >"$W/pa.yaml" <<'EOF'
version: 1
name: pa
namespace: pa
defaults:
  mode: "0640"
  dir_mode: "0750"
  owner: 65534
  group: 65534
objects:
  - file: gobpf_site.o
    name: dummy
    sections:
      - section: maps/dummy_array_custom
        pinning: none
EOF
bp 0 apply "$W/pa.yaml" "$CONFIGS"
expect_summary 11 0 0 0 0
for p in pa/globals/dummy_hash pa/dummy/dummy_array; do
	[ "$(stat -c '%a %u %g' "$M/$p")" = "640 65534 65534" ] ||
		fail "$CASE: $p is $(stat -c '%a %u %g' "$M/$p"), want mode 0640, owner and group 65534"
done
for p in pa pa/globals pa/dummy; do
	[ "$(stat -c %a "$M/$p")" = 750 ] || fail "$CASE: directory $p is $(stat -c %a "$M/$p"), want 0750"
done
mkmap pa/globals/foreign array 4 4 1
keep=$(pin_id pa/globals/dummy_hash)
foreign="$(pin_id pa/globals/foreign) $(pin_id foreign_root)"
printf '      - map: dummy_array\n        pinning: none\n' >>"$W/pa.yaml"
bp 2 plan "$W/pa.yaml"
expect_line '- map pa/dummy/dummy_array delete (no longer declared)'
expect_summary 0 0 0 1 1
bp 0 apply "$W/pa.yaml"
expect_summary 0 0 0 1 1
[ ! -e "$M/pa/dummy/dummy_array" ] || fail "$CASE: pa/dummy/dummy_array still pinned"
[ ! -e "$M/pa/dummy" ] || fail "$CASE: the directory pa/dummy the tool made is still there"
[ "$(pin_id pa/globals/dummy_hash)" = "$keep" ] || fail "$CASE: pa/globals/dummy_hash changed"
[ "$(pin_id pa/globals/foreign) $(pin_id foreign_root)" = "$foreign" ] ||
	fail "$CASE: a foreign pin changed"
converged 1 "$W/pa.yaml"
# The directory is all of its manifests: pa, recorded and not in it, is
# retired there (drift), and nothing of it is planned to change.
bp 2 plan "$CONFIGS"
expect_line "Retired manifest 'pa': 1 pin (remove them with: bpf-provision destroy --name pa)"
expect_summary 0 0 0 0 $NDECL
converged $((NDECL + 1)) "$W/pa.yaml" "$CONFIGS"

CASE=7-destroy
bp 2 destroy --dry-run "$CONFIGS"
expect_summary 0 0 0 $NDECL 0
bp 0 destroy "$CONFIGS"
expect_summary 0 0 0 $NDECL 0
no_tmp_pins "destroy"
printf '%s\n' foreign_root maps.debug pa/globals/dummy_hash pa/globals/foreign progs.debug \
	>"$T/want.pins"
pins >"$T/got.pins"
same_listing "$T/want.pins" "$T/got.pins" "destroy left or removed the wrong pins"
printf '%s\n' pa pa/globals >"$T/want.dirs"
list_dirs | cut -d' ' -f1 >"$T/got.dirs"
same_listing "$T/want.dirs" "$T/got.dirs" "destroy left directories it made"
bp 0 destroy "$W/pa.yaml"
expect_line '- map pa/globals/dummy_hash delete (destroyed with its manifest)'
expect_summary 0 0 0 1 0
printf '%s\n' foreign_root maps.debug pa/globals/foreign progs.debug >"$T/want.pins"
pins >"$T/got.pins"
same_listing "$T/want.pins" "$T/got.pins" "destroy of pa"
[ -d "$M/pa/globals" ] || fail "$CASE: destroy removed a directory that holds a foreign pin"
[ "$(pin_id pa/globals/foreign) $(pin_id foreign_root)" = "$foreign" ] ||
	fail "$CASE: a foreign pin changed"
bp 0 destroy "$W/pa.yaml" "$CONFIGS"
expect_summary 0 0 0 0 0

# === 8. owned directories ========================================================
CASE=8-owned
reset
mkmap ns1/stray array 4 4 1
mkmap ns1/sub/stray2 hash 4 4 8
mkmap tc/stray array 4 4 1 # tc is nobody's owned directory
tcstray=$(pin_id tc/stray)
bp 0 apply "$CONFIGS"
expect_line "- map ns1/stray delete (undeclared in owned directory 'ns1')"
expect_line "- map ns1/sub/stray2 delete (undeclared in owned directory 'ns1')"
expect_summary 9 0 0 2 0
[ ! -e "$M/ns1/stray" ] && [ ! -e "$M/ns1/sub/stray2" ] || fail "$CASE: strays in ns1 left"
[ -d "$M/ns1/sub" ] || fail "$CASE: removed ns1/sub, a directory it did not make"
[ "$(pin_id tc/stray)" = "$tcstray" ] || fail "$CASE: tc/stray (not owned) changed"
converged 9 "$CONFIGS"

# === 9. every failing step is rolled back ========================================
# Runs apply once to learn its K steps, rebuilds the same tree, then makes
# each step 1..K fail in turn: exit 1, and the tree exactly as before: the
# listing, and what plan and destroy --dry-run say about it (a pin put back
# so that the ledger no longer knows it as the tool's is not "as before").
state() { # FILE MANIFEST...
	_f=$1
	shift
	listing "$_f"
	for _c in plan "destroy --dry-run"; do
		echo "## $_c"
		# shellcheck disable=SC2086
		"$BPF_PROVISION" --bpffs "$M" $_c "$@" 2>&1
		echo "## exit $?"
	done >>"$_f"
}

fault_loop() { # SETUP-FUNCTION LABEL MANIFEST...: sets K
	_setup=$1 _label=$2
	shift 2
	$_setup
	BPF_PROVISION_TRACE_STEPS=1 bp 0 apply "$@"
	K=$(steps_of)
	[ -n "$K" ] && [ "$K" -gt 0 ] || { cat "$T/err" >&2; fail "$CASE: no step count"; }
	$_setup
	state "$T/fault.before" "$@"
	[ -d "$T/run" ] && cp -r "$T/run" "$T/fault.run" || rm -rf "$T/fault.run"
	_n=1
	while [ $_n -le "$K" ]; do
		BPF_PROVISION_FAIL_AT=$_n bp 1 apply "$@"
		grep -Fq 'apply failed; every change was rolled back' "$T/err" ||
			{ cat "$T/err" >&2; fail "$CASE: step $_n/$K: no rollback message"; }
		state "$T/fault.after" "$@"
		same_listing "$T/fault.before" "$T/fault.after" \
			"step $_n/$K failed (BPF_PROVISION_FAIL_AT=$_n) and the tree was left changed"
		if [ -d "$T/fault.run" ]; then
			diff -r "$T/fault.run" "$T/run" >/dev/null ||
				fail "$CASE: step $_n/$K failed and the ledger changed"
		else
			! ls "$T/run"/*.json >/dev/null 2>&1 ||
				fail "$CASE: step $_n/$K failed and a ledger was written"
		fi
		_n=$((_n + 1))
	done
	# With the failure at another errno, once, in the middle.
	BPF_PROVISION_FAIL_AT=$(((K + 1) / 2)) BPF_PROVISION_FAIL_ERRNO=28 bp 1 apply "$@"
	state "$T/fault.after" "$@"
	same_listing "$T/fault.before" "$T/fault.after" "ENOSPC at step $(((K + 1) / 2)) changed the tree"
	# A step beyond the last one never fails: the apply succeeds.
	BPF_PROVISION_TRACE_STEPS=1 BPF_PROVISION_FAIL_AT=$((K + 1)) bp 0 apply "$@"
	[ "$(steps_of)" = "$K" ] || fail "$CASE: $(steps_of) steps now, $K before"
	no_tmp_pins "the apply after the fault loop"
	echo "apply.sh: $_label: K=$K failing steps, each rolled back"
}

setup_empty() {
	reset
	mkmap other/foreign array 4 4 1
}
CASE=9-faults-empty
fault_loop setup_empty "empty tree -> configs" "$CONFIGS"
K1=$K
converged 9 "$CONFIGS"
send_packets btf/progs/count_packets 1
expect_value 1 btf/globals/packets 0 0 0 0

setup_drift() { # a replace (map, migrate), program replaces, an update, a delete
	reset
	mkmap other/foreign array 4 4 1
	bp 0 apply "$CONFIGS"
	swapmap tc/globals/counters array 4 8 128
	update tc/globals/counters 7 0 0 0 -- 70 0 0 0 0 0 0 0
	chmod 0644 "$M/ns1/test1"
	mkmap ns1/stray array 4 4 1 0644 # modes and owners a rollback must restore
	chown 65534:65534 "$M/ns1/stray" || fail "$CASE: chown"
	mkprog btf/progs/swap_tmp "$top_builddir/tests/bpf/none.o" socket
	chmod 0640 "$M/btf/progs/swap_tmp"
	mv "$M/btf/progs/swap_tmp" "$M/btf/progs/count_packets" || fail "$CASE: setup"
}
CASE=9-faults-drift
setup_drift
bp 2 plan "$CONFIGS"
expect_line '~ map tc/globals/counters replace (max_entries 128 -> 256; migrate)'
expect_line '* map ns1/test1 update (mode 0644 -> 0600)'
expect_line "- map ns1/stray delete (undeclared in owned directory 'ns1')"
grep -q '^~ program btf/progs/count_packets replace ' "$T/outs" ||
	{ cat "$T/out" >&2; fail "$CASE: no program replace"; }
fault_loop setup_drift "drifted tree -> configs (replace, update, delete)" "$CONFIGS"
K2=$K
converged 9 "$CONFIGS"
expect_value 70 tc/globals/counters 7 0 0 0
case " $(prog_info tc/progs/cls_main) " in
*" $(map_ids_of tc/globals/counters) "*) ;;
*) fail "$CASE: tc/progs/cls_main not rewired to the migrated counters" ;;
esac
send_packets btf/progs/count_packets 4
expect_value 4 btf/globals/packets 0 0 0 0
# The tool still owns everything after all those rollbacks.
bp 0 destroy "$CONFIGS"
printf '%s\n' maps.debug other/foreign progs.debug >"$T/want.pins"
pins >"$T/got.pins"
same_listing "$T/want.pins" "$T/got.pins" "destroy after the fault loop"

CASE=9-faults-destroy
setup_applied() {
	reset
	mkmap other/foreign array 4 4 1
	bp 0 apply "$CONFIGS"
}
setup_applied
BPF_PROVISION_TRACE_STEPS=1 bp 0 destroy "$CONFIGS"
K3=$(steps_of)
setup_applied
state "$T/fault.before" "$CONFIGS"
n=1
while [ $n -le "$K3" ]; do
	BPF_PROVISION_FAIL_AT=$n bp 1 destroy "$CONFIGS"
	state "$T/fault.after" "$CONFIGS"
	same_listing "$T/fault.before" "$T/fault.after" \
		"destroy: step $n/$K3 failed (BPF_PROVISION_FAIL_AT=$n) and the tree was left changed"
	n=$((n + 1))
done
bp 0 destroy "$CONFIGS"
echo "apply.sh: destroy: K=$K3 failing steps, each rolled back"

# === 10. runs killed with SIGKILL are cleaned up and converge ====================
# First, deterministically: temporary pins as a killed run leaves them (a
# map and a program, under a pid that is not running).
CASE=10-tmp-pins
# A run killed half-way is recorded in the ledger (its token, here 999999t1)
# and leaves temporary pins named with that token: they are deleted.  Names
# that only look like them (another token, no sequence number, a directory
# of someone else's) are not the tool's, and stay.
reset
bp 0 apply "$CONFIGS"
"$PY" - "$T/run"/ledger-*.json <<'PY' || fail "$CASE: cannot record a run in the ledger"
import json, sys
with open(sys.argv[1]) as f:
    d = json.load(f)
d.setdefault("runs", []).append("999999t1")
with open(sys.argv[1], "w") as f:
    json.dump(d, f)
PY
mkmap tc/globals/bpfprov_tmp_999999t1_0 array 4 8 256
mkprog btf/progs/bpfprov_tmp_999999t1_1 "$top_builddir/tests/bpf/none.o" socket
mkmap other/bpfprov_tmp_999999t1_2 hash 4 4 8
mkmap other/bpfprov_tmp_999999_3 hash 4 4 8
mkmap cilium/bpfprov_tmp_cache hash 4 4 8
mkdir "$M/bpfprov_tmp_empty_theirs" "$M/bpfprov_tmp_trash_424242" || fail "$CASE: mkdir"
bp 2 plan "$CONFIGS"
expect_line '- map tc/globals/bpfprov_tmp_999999t1_0 delete (temporary pin left by an interrupted run)'
expect_line '- program btf/progs/bpfprov_tmp_999999t1_1 delete (temporary pin left by an interrupted run)'
expect_line '- map other/bpfprov_tmp_999999t1_2 delete (temporary pin left by an interrupted run)'
expect_summary 0 0 0 3 9
bp 0 apply "$CONFIGS"
expect_summary 0 0 0 3 9
for p in other/bpfprov_tmp_999999_3 cilium/bpfprov_tmp_cache; do
	[ -n "$(pin_id "$p")" ] || fail "$CASE: the lookalike $p of no recorded run was removed"
done
for p in bpfprov_tmp_empty_theirs bpfprov_tmp_trash_424242; do
	[ -d "$M/$p" ] || fail "$CASE: the directory $p of no recorded run was removed"
done
for p in tc/globals/bpfprov_tmp_999999t1_0 btf/progs/bpfprov_tmp_999999t1_1 \
	other/bpfprov_tmp_999999t1_2; do
	[ ! -e "$M/$p" ] || fail "$CASE: the interrupted run's $p is still there"
done
! grep -q 999999t1 "$T/run"/ledger-*.json || fail "$CASE: the ledger still records the cleaned-up run"
rm -r "$M/other/bpfprov_tmp_999999_3" "$M/cilium" "$M/bpfprov_tmp_empty_theirs" \
	"$M/bpfprov_tmp_trash_424242"
converged 9 "$CONFIGS"

CASE=10-kill
NS=60 # manifests of 4 pins each (3 maps, 1 program)
mkdir -p "$W/many"
i=1
while [ $i -le $NS ]; do
	cat >"$W/many/k$i.yaml" <<EOF
version: 1
name: k$i
namespace: k$i
owned: [k$i]
objects:
  - file: ../gobpf_site.o
    name: dummy
    sections:
      - section: maps/dummy_array_custom
        pinning: custom
        path: k$i/test1
      - section: socket/dummy
        pinning: custom
        path: k$i/progs/dummy_socket
EOF
	i=$((i + 1))
done
NPINS=$((NS * 4))
reset
t0=$(date +%s%N)
bp 0 apply "$W/many"
t1=$(date +%s%N)
FULL_MS=$(((t1 - t0) / 1000000))
expect_summary $NPINS 0 0 0 0
KILLS=0
KILLED=0
TMPSEEN=0
# Kill points spread over the length of a full run (and one beyond it).
DELAYS=$(for pct in 1 4 8 12 16 20 24 28 32 36 40 45 50 55 60 70 80 90 100 150; do
	awk -v ms="$FULL_MS" -v p="$pct" 'BEGIN { d = ms * p / 100000; if (d < 0.001) d = 0.001; printf "%.3f\n", d }'
done)
for d in $DELAYS; do
	KILLS=$((KILLS + 1))
	reset
	mkmap other/foreign array 4 4 1
	foreign=$(pin_id other/foreign)
	timeout -s KILL "$d" "$BPF_PROVISION" --bpffs "$M" -q apply "$W/many" >/dev/null 2>&1
	st=$?
	case $st in
	0) ;;
	137) KILLED=$((KILLED + 1)) ;;
	*) fail "$CASE: apply killed after ${d}s exited $st" ;;
	esac
	find "$M" -name 'bpfprov_tmp_*' | sed "s|^$M/||" | LC_ALL=C sort >"$T/tmp.pins"
	"$BPF_PROVISION" --bpffs "$M" plan "$W/many" >"$T/out" 2>"$T/err"
	pst=$?
	[ $pst = 0 ] || [ $pst = 2 ] || { cat "$T/err" >&2; fail "$CASE: plan after a kill at ${d}s exited $pst"; }
	tr -s ' ' <"$T/out" >"$T/outs"
	if [ -s "$T/tmp.pins" ]; then
		TMPSEEN=$((TMPSEEN + 1))
		while read -r p; do
			grep -Eq "^- (map|program|link) $p delete \(temporary pin left by an interrupted run\)$" \
				"$T/outs" || { cat "$T/out" >&2; fail "$CASE: killed after ${d}s: plan does not delete $p"; }
		done <"$T/tmp.pins"
	fi
	bp 0 apply "$W/many"
	no_tmp_pins "the apply after a kill at ${d}s"
	converged $NPINS "$W/many"
	[ "$(pin_id other/foreign)" = "$foreign" ] || fail "$CASE: the foreign pin changed"
	# Everything the runs made, the killed one included, is the tool's own.
	bp 0 destroy "$W/many"
	printf '%s\n' maps.debug other/foreign progs.debug >"$T/want.pins"
	pins >"$T/got.pins"
	same_listing "$T/want.pins" "$T/got.pins" "destroy after a kill at ${d}s left pins"
	list_dirs | cut -d' ' -f1 >"$T/got.dirs"
	echo other >"$T/want.dirs"
	same_listing "$T/want.dirs" "$T/got.dirs" "destroy after a kill at ${d}s left directories"
done
echo "apply.sh: kill: $KILLS kill points ($KILLED killed mid-run, $TMPSEEN left temporary pins; a full apply of $NPINS pins takes ${FULL_MS} ms)"

# === 11. the lock ================================================================
CASE=11-lock
reset
bp 0 apply "$BTF"
hold_lock
listing "$T/before"
bp 1 --lock-timeout 0.5 apply "$CONFIGS"
expect_err 'another bpf-provision run holds the lock'
listing "$T/after"
same_listing "$T/before" "$T/after" "an apply that did not get the lock changed the tree"
t0=$(date +%s%N)
bp 0 --lock-timeout 10 apply "$CONFIGS"
t1=$(date +%s%N)
expect_summary 7 0 0 0 2
wait $HOLDER
[ $(((t1 - t0) / 1000000)) -ge 500 ] || fail "$CASE: the apply did not wait for the lock"
converged 9 "$CONFIGS"
# Two concurrent applies serialize: both succeed, the tree converges.
reset
"$BPF_PROVISION" --bpffs "$M" -q apply "$W/many" "$CONFIGS" >/dev/null 2>"$T/err1" &
P1=$!
"$BPF_PROVISION" --bpffs "$M" -q apply "$W/many" "$CONFIGS" >/dev/null 2>"$T/err2" &
P2=$!
wait $P1 || { cat "$T/err1" >&2; fail "$CASE: concurrent apply 1 failed"; }
wait $P2 || { cat "$T/err2" >&2; fail "$CASE: concurrent apply 2 failed"; }
no_tmp_pins "concurrent applies"
converged $((NPINS + 9)) "$W/many" "$CONFIGS"

# === 12. the JSON document of a real apply =======================================
CASE=12-json
reset
bp 0 -o json apply "$CONFIGS"
cp "$T/out" "$T/docs/apply.json"
json_check "$T/docs/apply.json" false "done"
"$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["summary"]["create"] == 9 and len(d["changes"]) == 9, d' \
	"$T/docs/apply.json" || fail "$CASE: not 9 creates"
bp 0 -o json apply "$CONFIGS"
cp "$T/out" "$T/docs/noop.json"
json_check "$T/docs/noop.json" false "done"
"$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["changes"] == [] and d["summary"]["unchanged"] == 9, d' \
	"$T/docs/noop.json" || fail "$CASE: a re-apply has changes"
# A failed apply: a valid document, nothing left "done".
reset
BPF_PROVISION_FAIL_AT=20 bp 1 -o json apply "$CONFIGS"
cp "$T/out" "$T/docs/failed.json"
"$PY" - "$T/docs/failed.json" <<'PY' || fail "$CASE: statuses of a failed apply"
import json, sys
d = json.JSONDecoder().raw_decode(open(sys.argv[1]).read())[0]
assert d["dry_run"] is False, d
st = [c.get("status") for c in d["changes"]]
assert "done" not in st, st
assert st.count("failed") == 1, st
assert all(s in ("failed", "rolled_back", "not_tried") for s in st), st
assert d["outcome"]["result"] == "failed" and d["outcome"]["rolled_back"] is True, d["outcome"]
PY
# A dry run is still a dry run.
bp 2 -o json apply --dry-run "$CONFIGS"
cp "$T/out" "$T/docs/dry.json"
json_check "$T/docs/dry.json" true -
# bpf-provision(1), OUTPUT: -o json prints one document, a failed apply included.
json_check "$T/docs/failed.json" false -

# === 13. new pins at free paths ================================================
# A new pin with the mode bpffs gives (0600) and no owner is pinned at its
# path itself: no temporary name, no rename, and no chmod even under a
# umask that takes from 0600 (apply clears it), so it is never seen with
# another mode.  The only renames and chmods are the ledger file's.
CASE=13-direct
reset
# One manifest of case 10's: 4 pins, 4 directories.
mkdir -p "$W/direct"
cp "$W/many/k1.yaml" "$W/direct/" || fail "$CASE: copy k1.yaml"
# (LeakSanitizer cannot run under ptrace.)
(umask 0277 && ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	strace -f -qq -o "$T/direct.strace" -e trace=chmod,fchmodat,rename,renameat,renameat2 \
	"$BPF_PROVISION" --bpffs "$M" -v apply "$W/direct" >"$T/out" 2>"$T/err") ||
	fail "$CASE: the apply failed: $(cat "$T/err")"
[ "$(grep -c "^pin .* at its free path (" "$T/err")" = 4 ] ||
	fail "$CASE: not every pin was made at its free path: $(cat "$T/err")"
! grep -q "^rename temporary" "$T/err" || fail "$CASE: a rename step: $(cat "$T/err")"
grep -v "/ledger-" "$T/direct.strace" >"$T/direct.calls"
[ ! -s "$T/direct.calls" ] || fail "$CASE: renames or chmods of pins: $(cat "$T/direct.calls")"
find "$M/k1" -printf "%y %m %P\n" | LC_ALL=C sort >"$T/got.modes"
printf '%s\n' "d 700 " "d 700 dummy" "d 700 globals" "d 700 progs" "f 600 dummy/dummy_array" \
	"f 600 globals/dummy_hash" "f 600 test1" "f 600 progs/dummy_socket" | LC_ALL=C sort >"$T/want.modes"
same_listing "$T/want.modes" "$T/got.modes" "modes of direct pins under umask 0277"
bp 0 destroy "$W/direct"

END=$(date +%s)
echo "apply.sh: cases 1-13 passed in $((END - START)) s; fault injection K=$K1 (empty tree), K=$K2 (drifted tree), K=$K3 (destroy); $KILLS kill points ($KILLED mid-run)"
