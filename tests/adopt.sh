#!/bin/sh
# SPDX-License-Identifier: MIT
# Adoption and release (issue 17; bpf-provision(1), OWNERSHIP).  On a private
# bpffs mount (never /sys/fs/bpf) with a private BPF_PROVISION_RUNTIME_DIR:
#  1. adopt: a map and a program pinned by bpftool at declared paths plan as
#     "adopt" ('<' lines, the summary's "to adopt", JSON action "adopt",
#     valid against schema/plan.schema.json) with exit 0 (the tree would not
#     change); apply records them as adopted, leaves both objects as they
#     were (same kernel ids), and the next plan has nothing to adopt.  A pin
#     the tool creates in the same apply is recorded as its own.
#  2. release: with their declarations dropped, the adopted map (outside any
#     owned directory) plans as "release" ('>'), and apply leaves it pinned,
#     the same object, and drops its record; the adopted program, in an
#     owned directory, is deleted.  A release alone is no drift (exit 0).
#  3. an adopted pin that differs in mode: "adopt" with the difference, exit 2
#     (the tree changes), and apply fixes the mode.
#  4. destroy releases an adopted pin (left in place, record gone) and
#     unpins the tool's own.
# Every real apply and destroy runs through run_checking_steps.  Needs root.
# shellcheck disable=SC2015 # A && B || fail: fail if either fails
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST
find_python
START=$(date +%s)

mount_private_bpffs adopt
rm -f "$M/probe"
unset BPF_PROVISION_FAIL_AT BPF_PROVISION_FAIL_ERRNO BPF_PROVISION_TRACE_STEPS BPF_PROVISION_PAUSE_AT
mkdir -p "$T/run" "$T/m"
cp "$top_builddir/tests/bpf/none.o" "$top_builddir/tests/bpf/btf.o" "$T/m/"
SCHEMA=$top_srcdir/schema/plan.schema.json

# The whole manifest (SECTIONS=all) or the one without the adopted pins.
manifest() { # all|mine
	{
		cat <<'YAML'
version: 1
name: site
owned: [own]
defaults:
  mode: "0600"
objects:
  - file: btf.o
    name: btf
    sections:
      - map: pinned_counts
        pinning: custom
        path: mine/counts
YAML
		[ "$1" = mine ] || cat <<'YAML'
      - map: scratch_hash
        pinning: custom
        path: keep/scratch
  - file: none.o
    name: none
    sections:
      - program: socket_drop
        pinning: custom
        path: own/drop
YAML
	} >"$T/m/site.yaml"
}

id_of() { # PATH: the kernel id of the pin, or nothing
	{ bpftool map show pinned "$M/$1" || bpftool prog show pinned "$M/$1"; } 2>/dev/null |
		sed -n '1s/:.*//p'
}

recorded() { # PATH: "adopted", "made" or "none": the ledger's record of PATH
	"$PY" - "$T/run" "$1" <<'PY'
import glob, json, sys
recs = [e for f in glob.glob(sys.argv[1] + "/ledger-*.json")
        for e in json.load(open(f))["entries"] if e["path"] == sys.argv[2]]
print("none" if not recs else "adopted" if recs[0].get("adopted") else "made")
PY
}

expect_record() { # PATH adopted|made|none
	_r=$(recorded "$1")
	[ "$_r" = "$2" ] || fail "$CASE: ledger record of $1 is '$_r', want '$2'"
}

json_actions() { # ARGS...: the sorted "action path" pairs of the -o json plan, schema-checked
	"$BPF_PROVISION" --bpffs "$M" -o json "$@" >"$T/plan.json" 2>"$T/err"
	"$PY" - "$SCHEMA" "$T/plan.json" <<'PY' || fail "$CASE: JSON plan"
import json, sys
from jsonschema import Draft202012Validator
doc = json.load(open(sys.argv[2]))
errs = [e.message for e in Draft202012Validator(json.load(open(sys.argv[1]))).iter_errors(doc)]
if errs:
    sys.exit("schema: " + "; ".join(errs))
s = doc["summary"]
for a in ("adopt", "release"):
    if s[a] != sum(c["action"] == a for c in doc["changes"]):
        sys.exit("summary %s does not count the %s changes" % (s, a))
for c in sorted(doc["changes"], key=lambda c: c["path"]):
    print(c["action"], c["path"])
PY
}

ADOPTED='found in place, not made by bpf-provision'

CASE=1-adopt
manifest all
mkdir -p "$M/keep" "$M/own"
bpftool -n map create "$M/keep/scratch" type hash key 4 value 4 entries 32 name scratch_hash \
	flags 1 && chmod 0600 "$M/keep/scratch" || fail "$CASE: bpftool map create"
bpftool -n prog load "$T/m/none.o" "$M/own/drop" type socket && chmod 0600 "$M/own/drop" ||
	fail "$CASE: bpftool prog load"
MAP_ID=$(id_of keep/scratch)
PROG_ID=$(id_of own/drop)
bp 2 plan "$T/m/site.yaml"
expect_line "< map keep/scratch adopt ($ADOPTED)"
expect_line "< program own/drop adopt ($ADOPTED)"
expect_line "Plan: 1 to create, 0 to replace, 0 to update, 0 to delete, 2 to adopt, 0 to release, 0 unchanged."
[ "$(json_actions plan "$T/m/site.yaml")" = "$(printf 'create mine/counts\nadopt own/drop\nadopt keep/scratch' | sort -k2)" ] ||
	fail "$CASE: JSON actions: $(cat "$T/plan.json")"
bp 0 apply "$T/m/site.yaml"
[ "$(id_of keep/scratch)" = "$MAP_ID" ] && [ "$(id_of own/drop)" = "$PROG_ID" ] ||
	fail "$CASE: apply replaced an adopted pin"
expect_record keep/scratch adopted
expect_record own/drop adopted
expect_record mine/counts made
# Adopted once: the next plan is in sync, with nothing to adopt.
bp 0 plan "$T/m/site.yaml"
expect_line "Plan: 0 to create, 0 to replace, 0 to update, 0 to delete, 0 to adopt, 0 to release, 3 unchanged."

# The map was adopted where nothing owns it: released and left; the
# program lies in the owned directory 'own': deleted; so is the tool's own.
CASE=2-release
manifest mine
bp 2 plan "$T/m/site.yaml"
expect_line "> map keep/scratch release (adopted and no longer declared: left in place)"
expect_line "- program own/drop delete (adopted, no longer declared, in owned directory 'own')"
[ "$(json_actions plan "$T/m/site.yaml")" = "$(printf 'delete own/drop\nrelease keep/scratch' | sort -k2)" ] ||
	fail "$CASE: JSON actions: $(cat "$T/plan.json")"
bp 0 apply "$T/m/site.yaml"
[ "$(id_of keep/scratch)" = "$MAP_ID" ] || fail "$CASE: the released map is not the one adopted"
[ ! -e "$M/own/drop" ] || fail "$CASE: the adopted program in the owned directory is still there"
expect_record keep/scratch none
expect_record mine/counts made
bp 0 plan "$T/m/site.yaml"
expect_line "Plan: 0 to create, 0 to replace, 0 to update, 0 to delete, 0 to adopt, 0 to release, 1 unchanged."
# A release alone is no drift: the tree stays as it is.
manifest all
bp 0 apply "$T/m/site.yaml"
sed -i '/scratch_hash/,/keep\/scratch/d' "$T/m/site.yaml"
bp 0 plan "$T/m/site.yaml"
expect_line "> map keep/scratch release (adopted and no longer declared: left in place)"
expect_line "Plan: 0 to create, 0 to replace, 0 to update, 0 to delete, 0 to adopt, 1 to release, 2 unchanged."

CASE=3-adopt-differs
manifest all
bp 0 apply "$T/m/site.yaml"
rm "$M/keep/scratch"
bpftool -n map create "$M/keep/scratch" type hash key 4 value 4 entries 32 name scratch_hash \
	flags 1 && chmod 0644 "$M/keep/scratch" || fail "$CASE: bpftool map create"
bp 2 plan "$T/m/site.yaml"
expect_line "< map keep/scratch adopt ($ADOPTED; mode 0644 -> 0600)"
bp 0 apply "$T/m/site.yaml"
[ "$(stat -c %a "$M/keep/scratch")" = 600 ] || fail "$CASE: the mode was not set"
expect_record keep/scratch adopted

CASE=4-destroy
bp 0 destroy "$T/m/site.yaml"
[ -e "$M/keep/scratch" ] || fail "$CASE: destroy unpinned an adopted map"
[ ! -e "$M/mine/counts" ] && [ ! -e "$M/own/drop" ] || fail "$CASE: destroy left the tool's pins"
expect_record keep/scratch none

echo "adopt.sh: 4 cases passed in $(($(date +%s) - START)) s"
