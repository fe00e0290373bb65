#!/bin/sh
# SPDX-License-Identifier: MIT
# --target PATH (issue 17; bpf-provision(1)): plan, apply and destroy limited
# to some pins and what they need.  On a private bpffs mount (never
# /sys/fs/bpf) with a private BPF_PROVISION_RUNTIME_DIR, the gobpf example:
#  1. apply --target of its program creates the program and the one pinned
#     map it uses (the program holds that map's id), nothing else, and the
#     ledger records only those; a directory target then creates the rest,
#     and a full plan is in sync.
#  2. a map replaced by hand and targeted: the plan replaces it and also the
#     untargeted program wired to it (reloaded against the new map).
#  3. deletes: of two stray pins in the owned directory only the targeted
#     one is planned and deleted.
#  4. destroy --target unpins that pin alone; the others keep their ledger
#     records (the next plan creates just it, the rest unchanged).
#  5. usage: a target outside the root, with '..', with --prune-retired, or
#     on validate exits 1; one that matches nothing is a warning.
#  6. a saved plan (plan --out) records its targets, and apply --plan acts on
#     them alone; --target beside --plan exits 1.
# Every real apply and destroy runs through run_checking_steps.  Needs root.
# shellcheck disable=SC2015 # A && B || fail: fail if either fails
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST
find_python
START=$(date +%s)

mount_private_bpffs target
rm -f "$M/probe"
unset BPF_PROVISION_FAIL_AT BPF_PROVISION_FAIL_ERRNO BPF_PROVISION_TRACE_STEPS BPF_PROVISION_PAUSE_AT
mkdir -p "$T/run"
pin_examples "$T/configs"
GOBPF=$T/configs/gobpf-site.yaml
# The same, with a map that no longer fits replaced instead of refused.
sed 's/on_incompatible: fail/on_incompatible: replace/' "$GOBPF" >"$T/configs/replace.yaml"
grep -q 'on_incompatible: replace' "$T/configs/replace.yaml" || fail "no on_incompatible to change"

expect_changes() { # N: the text plan has exactly N change lines
	_n=$(grep -c '^[-+~*<>] ' "$T/out")
	[ "$_n" = "$1" ] || { cat "$T/out" >&2; fail "$CASE: $_n change lines, want $1"; }
}

map_id() { # PATH
	bpftool map show pinned "$M/$1" 2>/dev/null | sed -n '1s/:.*//p'
}

prog_maps() { # PATH: the map ids the pinned program holds
	bpftool -j prog show pinned "$M/$1" | "$PY" -c 'import json, sys; print(*json.load(sys.stdin).get("map_ids", []))'
}

records() { # the paths the ledger records, sorted, one line
	"$PY" - "$T/run" <<'PY'
import glob, json, sys
print(*sorted(e["path"] for f in glob.glob(sys.argv[1] + "/ledger-*.json")
              for e in json.load(open(f))["entries"] if not e.get("dir")))
PY
}

CASE=1-program
bp 2 plan --target ns1/progs/dummy_socket "$GOBPF"
expect_line "+ map ns1/dummy/dummy_array create (dummy: dummy_array, array key 4 value 4 max 64)"
expect_line "+ program ns1/progs/dummy_socket create (dummy: dummy_socket, socket_filter)"
expect_changes 2
bp 0 apply --target "$M/ns1/progs/dummy_socket" "$GOBPF"
[ ! -e "$M/ns1/test1" ] && [ ! -e "$M/ns1/globals/dummy_hash" ] ||
	fail "$CASE: an untargeted pin was made"
[ "$(prog_maps ns1/progs/dummy_socket)" = "$(map_id ns1/dummy/dummy_array)" ] ||
	fail "$CASE: the program does not use the pinned map"
[ "$(records)" = "ns1/dummy/dummy_array ns1/progs/dummy_socket" ] ||
	fail "$CASE: ledger records $(records)"
bp 0 apply --target ns1/ "$GOBPF"
expect_changes 2
bp 0 plan "$GOBPF"
expect_line "Plan: 0 to create, 0 to replace, 0 to update, 0 to delete, 0 to adopt, 0 to release, 4 unchanged."

CASE=2-forced-reload
OLD_PROG=$(bpftool prog show pinned "$M/ns1/progs/dummy_socket" | sed -n '1s/:.*//p')
rm "$M/ns1/dummy/dummy_array"
bpftool -n map create "$M/ns1/dummy/dummy_array" type array key 4 value 8 entries 64 \
	name dummy_array || fail "$CASE: bpftool"
bp 2 plan --target ns1/dummy/dummy_array "$T/configs/replace.yaml"
expect_line "~ map ns1/dummy/dummy_array replace (value_size 8 -> 4; replace)"
expect_line "~ program ns1/progs/dummy_socket replace (its map 'dummy_array' is made anew: reload to use it)"
expect_changes 2
bp 0 apply --target ns1/dummy/dummy_array "$T/configs/replace.yaml"
[ "$(prog_maps ns1/progs/dummy_socket)" = "$(map_id ns1/dummy/dummy_array)" ] ||
	fail "$CASE: the program was not reloaded against the new map"
[ "$(bpftool prog show pinned "$M/ns1/progs/dummy_socket" | sed -n '1s/:.*//p')" != "$OLD_PROG" ] ||
	fail "$CASE: the program is the old one"

CASE=3-delete
bpftool -n map create "$M/ns1/stray" type array key 4 value 4 entries 1 name stray &&
	mkdir -p "$M/ns1/sub" &&
	bpftool -n map create "$M/ns1/sub/stray" type array key 4 value 4 entries 1 name stray ||
	fail "$CASE: bpftool"
bp 2 plan --target ns1/sub "$GOBPF"
expect_line "- map ns1/sub/stray delete (undeclared in owned directory 'ns1')"
expect_changes 1
bp 0 apply --target ns1/sub "$GOBPF"
[ -e "$M/ns1/stray" ] && [ ! -e "$M/ns1/sub/stray" ] || fail "$CASE: deleted the wrong pins"
rm "$M/ns1/stray"

CASE=4-destroy
bp 0 destroy --target ns1/test1 "$GOBPF"
expect_changes 1
[ ! -e "$M/ns1/test1" ] && [ -e "$M/ns1/globals/dummy_hash" ] && [ -e "$M/ns1/progs/dummy_socket" ] ||
	fail "$CASE: destroy --target unpinned the wrong pins"
bp 2 plan "$GOBPF"
expect_line "+ map ns1/test1 create (dummy: dummy_array_custom, array key 4 value 4 max 1024)"
expect_line "Plan: 1 to create, 0 to replace, 0 to update, 0 to delete, 0 to adopt, 0 to release, 3 unchanged."

CASE=5-usage
snap() { tree_listing "$M"; }
snap >"$T/before"
bp 1 plan --target /etc "$GOBPF"
grep -Fq "error: --target /etc is not under the root" "$T/err" || fail "$CASE: outside the root: $(cat "$T/err")"
bp 1 apply --target ns1/../etc "$GOBPF"
grep -Fq "without '.', '..'" "$T/err" || fail "$CASE: '..': $(cat "$T/err")"
bp 1 apply --target ns1 --prune-retired "$GOBPF"
grep -Fq -- "--target does not go with --name or --prune-retired" "$T/err" || fail "$CASE: $(cat "$T/err")"
bp 1 validate --target ns1 "$GOBPF"
bp 0 apply --target no/such/pin "$GOBPF"
grep -Fq "warning: --target no/such/pin matches no declared pin and nothing under the root" "$T/err" ||
	fail "$CASE: no warning: $(cat "$T/err")"
snap >"$T/after"
cmp -s "$T/before" "$T/after" || fail "$CASE: a refused run changed the tree"

# A saved plan keeps its targets: apply --plan acts on them alone.
CASE=6-saved-plan
bp 0 destroy "$GOBPF"
bp 2 plan --target ns1/test1 --out "$T/test1.plan" "$GOBPF"
"$PY" -c 'import json, sys; assert json.load(open(sys.argv[1]))["targets"] == ["ns1/test1"]' \
	"$T/test1.plan" || fail "$CASE: the saved plan does not record its target"
bp 1 apply --plan "$T/test1.plan" --target ns1
bp 0 apply --plan "$T/test1.plan"
expect_changes 1
[ -e "$M/ns1/test1" ] && [ ! -e "$M/ns1/globals/dummy_hash" ] || fail "$CASE: apply --plan made other pins"

echo "target.sh: 6 cases passed in $(($(date +%s) - START)) s"
