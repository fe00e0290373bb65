#!/bin/sh
# SPDX-License-Identifier: MIT
# A plan does not open the map pins the ledger knows (issue 18;
# bpf-provision(1), FILES): the ledger keeps each map pin's inode, mtime and
# map info, and a pin whose lstat still shows that inode and mtime is taken
# from the record.  On a private bpffs (never /sys/fs/bpf) and runtime
# directory, with strace counting the BPF_OBJ_GET of each pin:
#  1. a plan of the tree just applied opens the program, no map;
#  2. mode drift (chmod) is seen without opening the pin: chmod keeps mtime;
#  3. a pin touched (another mtime) is opened, and found unchanged;
#  4. a map put at a path behind the tool's back (rm, bpftool map create,
#     its mtime set to the recorded one) has another inode: it is opened and
#     its other max_entries seen;
#  5. a ledger of an older version (no "seen") has every map opened; the
#     next apply records them, and the plan after opens none again.
# Needs root, bpftool and strace.
# shellcheck disable=SC2015 # A && B || fail: fail if either fails
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST
find_python
START=$(date +%s)
command -v strace >/dev/null 2>&1 || skip "no strace (apt-get install strace)"
mount_private_bpffs known
rm -f "$M/probe"
unset BPF_PROVISION_FAIL_AT BPF_PROVISION_FAIL_ERRNO BPF_PROVISION_TRACE_STEPS BPF_PROVISION_PAUSE_AT

cp "$top_builddir/configs/bpf/gobpf_site.o" "$T/" || fail "cannot copy the example object"
cat >"$T/site.yaml" <<'EOF'
version: 1
name: known
namespace: known
defaults:
  mode: "0600"
  on_incompatible: replace
objects:
  - file: gobpf_site.o
    name: site
    sections:
      - section: maps/dummy_hash
      - section: maps/dummy_array
      - section: maps/dummy_array_custom
        pinning: custom
        path: known/custom
      - section: socket/dummy
        pinning: custom
        path: known/progs/socket
EOF
MAPS="known/custom known/globals/dummy_hash known/site/dummy_array"

# opened STATUS ARGS...: bpf-provision ARGS under strace must exit STATUS;
# $T/opened lists the pins (relative paths) it opened, sorted.
opened() {
	_want=$1
	shift
	# LeakSanitizer cannot run under ptrace; the other runs check leaks.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -qq -e trace=bpf -o "$T/strace" "$BPF_PROVISION" --bpffs "$M" "$@" \
		>"$T/out" 2>"$T/err"
	_got=$?
	tr -s ' ' <"$T/out" >"$T/outs"
	[ "$_got" = "$_want" ] || {
		cat "$T/out" "$T/err" >&2
		fail "$CASE: 'bpf-provision $*' exited $_got, want $_want"
	}
	sed -n 's/.*BPF_OBJ_GET, {pathname="\([^"]*\)".*/\1/p' "$T/strace" | sed "s|^$M/||" |
		grep -v '^\(maps\|progs\)\.debug$' | LC_ALL=C sort >"$T/opened"
}

expect_opened() { # PATH...: exactly these pins were opened
	printf '%s\n' "$@" | sed '/^$/d' | LC_ALL=C sort >"$T/want"
	cmp -s "$T/want" "$T/opened" || {
		echo "opened:" >&2
		cat "$T/opened" >&2
		echo "expected:" >&2
		cat "$T/want" >&2
		fail "$CASE: not the pins expected were opened"
	}
}

CASE=1-applied
bp 0 apply "$T/site.yaml"
opened 0 plan "$T/site.yaml"
expect_opened known/progs/socket
"$PY" - "$T/run"/ledger-*.json <<'PY' || fail "$CASE: the ledger does not record the maps"
import json, sys
with open(sys.argv[1]) as f:
    entries = {e["path"]: e for e in json.load(f)["entries"]}
for p, name, size in (("known/custom", "dummy_array_cus", 1024),
                      ("known/globals/dummy_hash", "dummy_hash", 128),
                      ("known/site/dummy_array", "dummy_array", 64)):
    seen = entries[p]["seen"]
    assert seen[4] == size and seen[6] == name, (p, seen)
assert "seen" not in entries["known/progs/socket"]
PY

CASE=2-chmod
chmod 0640 "$M/known/custom" || fail "$CASE: chmod"
opened 2 plan "$T/site.yaml"
expect_line '* map known/custom update (mode 0640 -> 0600)'
expect_opened known/progs/socket
bp 0 apply "$T/site.yaml"

CASE=3-touched
touch "$M/known/site/dummy_array" || fail "$CASE: touch"
opened 0 plan "$T/site.yaml"
expect_opened known/progs/socket known/site/dummy_array

CASE=4-replaced-behind
mtime=$(stat -c %y "$M/known/globals/dummy_hash")
rm "$M/known/globals/dummy_hash"
bpftool map create "$M/known/globals/dummy_hash" type hash key 4 value 8 entries 256 \
	name dummy_hash || fail "$CASE: bpftool map create"
touch -d "$mtime" "$M/known/globals/dummy_hash" || fail "$CASE: touch -d"
[ "$(stat -c %y "$M/known/globals/dummy_hash")" = "$mtime" ] || fail "$CASE: mtime not set back"
opened 2 plan "$T/site.yaml"
expect_line '~ map known/globals/dummy_hash replace (max_entries 256 -> 128; replace)'
expect_opened known/progs/socket known/globals/dummy_hash known/site/dummy_array
bp 0 apply "$T/site.yaml"

CASE=5-older-ledger
"$PY" - "$T/run"/ledger-*.json <<'PY' || fail "$CASE: cannot rewrite the ledger"
import json, sys
with open(sys.argv[1]) as f:
    d = json.load(f)
for e in d["entries"]:
    e.pop("seen", None)
with open(sys.argv[1], "w") as f:
    json.dump(d, f)
PY
opened 0 plan "$T/site.yaml"
# shellcheck disable=SC2086 # the list of map pins
expect_opened known/progs/socket $MAPS
bp 0 apply "$T/site.yaml"
opened 0 plan "$T/site.yaml"
expect_opened known/progs/socket

echo "known-maps.sh: 5 cases passed in $(($(date +%s) - START)) s"
