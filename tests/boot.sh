#!/bin/sh
# SPDX-License-Identifier: MIT
# Boot robustness (issue 19; bpf-provision(1), DESCRIPTION, apply
# --keep-going, FILES): manifest directories as tmpfiles.d's and
# apply --keep-going.  Each case has its own root below a private bpffs
# mount (never /sys/fs/bpf), its own runtime directory (ledger, lock) and
# its own three overlay directories under $T, given by
# BPF_PROVISION_MANIFEST_DIRS; the manifests declare standalone maps.
#  overlay     without MANIFEST, validate/plan/apply read vendor, run, etc in
#              that order: a later file name overrides, a symlink to
#              /dev/null masks, *.yml is read, hidden files and other names
#              are not; the same directories as arguments are the same set;
#              missing directories are skipped silently.
#  empty       an empty directory argument is a warning (not under -q); an
#              apply of it, or of an empty overlay, deletes nothing and
#              leaves every ledger record.
#  missing     an explicit argument that does not exist is exit 65, also
#              with --keep-going, and nothing is touched.
#  keep_going  A and B applied, A changed and B broken: apply without
#              --keep-going touches nothing (65); with it A's change is
#              made, B's pins are the same objects with the same ledger
#              records (also inside A's owned directory), exit 65; B is
#              not listed as retired; plan --keep-going is 65 too; once B
#              is mended, a plain apply is 0 with nothing to do for it.
#  invalid     manifests left out for a missing object file, an unknown
#              owner, a name two share (both), a manifest that does not
#              parse, each with its error and a "left out" line.
#  conflict    two valid manifests declaring one pin path, a pin where
#              the other needs a directory, or XDP programs on one
#              interface: both left out, neither's pins changed, exit 65,
#              the rest applied.
#  prune       --prune-retired prunes no retired manifest while one is left
#              out (a warning), and does once none is.
#  json        -o json plan --keep-going: stdout is one plan document valid
#              against the schema, the errors on stderr, exit 65.
#  usage       --keep-going only for plan and apply, not with --out/--plan.
# Needs root.
# shellcheck disable=SC2015 # A && B || fail: fail if either fails
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST
find_python

START=$(date +%s)

mount_private_bpffs boot
rm -f "$M/probe"
unset BPF_PROVISION_FAIL_AT BPF_PROVISION_FAIL_ERRNO BPF_PROVISION_TRACE_STEPS BPF_PROVISION_PAUSE_AT
MOUNT=$M

# --- helpers -----------------------------------------------------------------

# Each case: its root $M below the mount, its ledger directory, and its
# overlay $V (vendor), $R (run), $E (etc) in BPF_PROVISION_MANIFEST_DIRS.
setup() {
	M=$MOUNT/$CASE
	mkdir "$M" || fail "$CASE: mkdir $M"
	BPF_PROVISION_RUNTIME_DIR=$T/run-$CASE
	mkdir -p "$BPF_PROVISION_RUNTIME_DIR"
	V=$T/$CASE/usr-lib
	R=$T/$CASE/run
	E=$T/$CASE/etc
	mkdir -p "$V" "$R" "$E"
	BPF_PROVISION_MANIFEST_DIRS=$V:$R:$E
	export BPF_PROVISION_RUNTIME_DIR BPF_PROVISION_MANIFEST_DIRS
}

manifest() { # FILE PATH...: a manifest of an array map at each PATH (a path NAME=MODE: that mode)
	_f=$1
	shift
	{
		echo "version: 1"
		echo "maps:"
		for _p; do
			_mode=0600
			case $_p in *=*) _mode=${_p#*=} _p=${_p%%=*} ;; esac
			echo "  - {path: $_p, type: array, key_size: 4, value_size: 4, max_entries: 1, mode: \"$_mode\"}"
		done
	} >"$_f"
}

expect_err() { # LINE: stderr of the last run has it
	grep -Fxq -- "$1" "$T/err" || { cat "$T/err" >&2; fail "$CASE: no line on stderr: $1"; }
}

expect_no_err() { # TEXT: no line of stderr contains it
	! grep -Fq -- "$1" "$T/err" || { cat "$T/err" >&2; fail "$CASE: '$1' on stderr"; }
}

left_out() { # FILE: the line that says FILE was left out
	echo "$1: error: left out (--keep-going): nothing it declares is planned, and its pins and records stay as they are"
}

# The pins, each with its kernel id (missing: no id).
ids() { # PATH...
	for _p; do
		echo "$_p $(bpftool map show pinned "$M/$_p" 2>/dev/null | sed -n '1s/:.*//p')"
	done
}

# The ledger records of manifest NAME, one "path ino id" a line, sorted.
records() { # NAME
	"$PY" - "$1" "$BPF_PROVISION_RUNTIME_DIR" <<'PY' || fail "$CASE: cannot read the ledger"
import glob, json, sys
recs = []
for f in glob.glob(sys.argv[2] + "/ledger-*.json"):
    for e in json.load(open(f)).get("entries", []):
        if e.get("manifest") == sys.argv[1]:
            recs.append("%s %s %s" % (e["path"], e.get("ino"), e.get("id")))
print("\n".join(sorted(recs)))
PY
}

# Which manifest files a validate read, in order ("FILE: valid (...)").
read_files() {
	sed -n 's/^\([^ ]*\): valid (manifest .*/\1/p' "$T/out"
}

mode_of() { # PATH
	stat -c %a "$M/$1"
}

# --- cases -------------------------------------------------------------------

case_overlay() {
	setup
	manifest "$V/10-a.yaml" ov/a
	manifest "$V/20-b.yaml" ov/b-vendor
	manifest "$V/30-c.yaml" ov/c
	manifest "$V/40-d.yaml" ov/d
	manifest "$R/20-b.yaml" ov/b-run
	manifest "$E/10-a.yaml" ov/a-etc
	ln -s /dev/null "$E/30-c.yaml"
	ln -s /dev/null "$E/35-nothing.yaml"
	manifest "$E/50-e.yml" ov/e
	manifest "$E/.hidden.yaml" ov/hidden
	manifest "$E/notes.txt" ov/txt
	manifest "$E/60-f.yaml.bak" ov/bak

	bp 0 validate
	read_files >"$T/got"
	printf '%s\n' "$E/10-a.yaml" "$R/20-b.yaml" "$V/40-d.yaml" "$E/50-e.yml" >"$T/want"
	cmp -s "$T/want" "$T/got" || { diff "$T/want" "$T/got" >&2; bad "validate read other files"; }
	[ ! -s "$T/err" ] || { cat "$T/err" >&2; bad "validate of the overlay printed on stderr"; }

	# Directory arguments: the same overlay.
	bp 0 validate "$V" "$R" "$E"
	read_files >"$T/got"
	cmp -s "$T/want" "$T/got" || { diff "$T/want" "$T/got" >&2; bad "the directory arguments read other files"; }
	# A file argument is read as it is, beside the overlay.
	bp 0 validate "$V/30-c.yaml" "$V" "$E"
	read_files >"$T/got"
	printf '%s\n' "$V/30-c.yaml" "$E/10-a.yaml" "$V/20-b.yaml" "$V/40-d.yaml" "$E/50-e.yml" \
		>"$T/want2"
	cmp -s "$T/want2" "$T/got" || { diff "$T/want2" "$T/got" >&2; bad "file and directories"; }

	bp 2 plan
	bp 0 apply
	for p in ov/a-etc ov/b-run ov/d ov/e; do
		[ -f "$M/$p" ] || bad "no pin $p after apply"
	done
	for p in ov/a ov/b-vendor ov/c ov/hidden ov/txt ov/bak; do
		[ ! -e "$M/$p" ] || bad "pin $p made: its file is overridden, masked or no manifest"
	done
	bp_untouched 0 plan

	# Missing directories of the list are skipped silently.
	BPF_PROVISION_MANIFEST_DIRS=$T/nowhere:$V:$T/nowhere2:$R:$E bp_untouched 0 plan
	[ ! -s "$T/err" ] || { cat "$T/err" >&2; bad "a missing overlay directory is reported"; }

	# Unmasking and un-overriding bring the vendor's back (and retire
	# nothing: the names are the same manifests).
	rm "$E/30-c.yaml" "$E/10-a.yaml"
	bp 0 apply
	[ -f "$M/ov/c" ] && [ -f "$M/ov/a" ] && [ ! -e "$M/ov/a-etc" ] ||
		bad "unmasked and un-overridden files not applied"
}

case_empty() {
	setup
	manifest "$E/one.yaml" em/one
	manifest "$E/two.yaml" em/two
	bp 0 apply
	ids em/one em/two >"$T/ids.before"
	records one >"$T/rec1.before"
	records two >"$T/rec2.before"
	[ -s "$T/rec1.before" ] || fatal "no ledger records after apply"
	mkdir -p "$T/$CASE/empty"
	echo "not a manifest" >"$T/$CASE/empty/README"

	bp_untouched 0 validate "$T/$CASE/empty"
	expect_err "$T/$CASE/empty: warning: no manifests (*.yaml, *.yml)"
	bp_untouched 0 -q validate "$T/$CASE/empty"
	[ ! -s "$T/err" ] || bad "-q prints the warning"
	bp_untouched 0 apply "$T/$CASE/empty"
	expect_err "$T/$CASE/empty: warning: no manifests (*.yaml, *.yml)"
	grep -q '^Plan: 0 to create, 0 to replace, 0 to update, 0 to delete' "$T/out" ||
		{ cat "$T/out" >&2; bad "the apply of an empty directory planned changes"; }
	# The overlay without a manifest: one warning, nothing deleted.
	mkdir -p "$T/$CASE/e1" "$T/$CASE/e2"
	BPF_PROVISION_MANIFEST_DIRS=$T/$CASE/e1:$T/$CASE/nowhere:$T/$CASE/e2 bp_untouched 0 apply
	expect_err "bpf-provision: warning: no manifests (*.yaml, *.yml) in $T/$CASE/e1, $T/$CASE/nowhere, $T/$CASE/e2"
	# (apart from the step count run_checking_steps asks for)
	[ "$(grep -vcE '^bpf-provision: [0-9]+ steps$' "$T/err")" = 1 ] || { cat "$T/err" >&2; bad "more than the one warning"; }
	ids em/one em/two >"$T/ids.after"
	cmp -s "$T/ids.before" "$T/ids.after" || bad "pins changed by an empty apply"
	records one | cmp -s "$T/rec1.before" - || bad "ledger records of 'one' changed"
	records two | cmp -s "$T/rec2.before" - || bad "ledger records of 'two' changed"
}

case_missing() {
	setup
	manifest "$E/one.yaml" mi/one
	bp_untouched 65 apply "$T/$CASE/nowhere"
	expect_err "$T/$CASE/nowhere: error: cannot read manifest: No such file or directory"
	bp_untouched 65 apply --keep-going "$E" "$T/$CASE/nowhere.yaml"
	expect_err "$T/$CASE/nowhere.yaml: error: cannot read manifest: No such file or directory"
	[ ! -e "$M/mi/one" ] || bad "a run with a missing argument made a pin"
	bp_untouched 65 validate "$T/$CASE/nowhere"
}

case_keep_going() {
	setup
	# A owns the directory kg, and B's pins lie in it.
	manifest "$E/a.yaml" kg/a1 kg/a2
	printf 'owned: [kg]\n' >>"$E/a.yaml"
	manifest "$E/b.yaml" kg/b1 kg/sub/b2
	bp 0 apply
	ids kg/b1 kg/sub/b2 >"$T/b.ids"
	records b >"$T/b.rec"
	[ "$(grep -c ' ' "$T/b.rec")" -ge 2 ] || fatal "b has no records: $(cat "$T/b.rec")"

	# A changes (a mode, a new map, one gone), B breaks.
	manifest "$E/a.yaml" kg/a1=0640 kg/a3
	printf 'owned: [kg]\n' >>"$E/a.yaml"
	printf 'version: 1\nmaps: [\n' >"$E/b.yaml"

	bp_untouched 65 apply
	expect_err "$E/b.yaml:3:1: error: invalid YAML: did not find expected node content while parsing a flow node"
	expect_no_err "left out"

	bp_untouched 65 plan --keep-going
	expect_err "$(left_out "$E/b.yaml")"
	grep -q "^[-~] .*kg/\(b1\|sub\)" "$T/out" && { cat "$T/out" >&2; bad "plan --keep-going deletes B's pins"; }
	grep -q "Retired manifest 'b'" "$T/out" && bad "B is listed as retired"

	bp 65 apply --keep-going
	expect_err "$(left_out "$E/b.yaml")"
	[ "$(mode_of kg/a1)" = 640 ] || bad "A's mode change not applied: $(mode_of kg/a1)"
	[ -f "$M/kg/a3" ] || bad "A's new map not made"
	[ ! -e "$M/kg/a2" ] || bad "A's dropped map not pruned"
	ids kg/b1 kg/sub/b2 | cmp -s "$T/b.ids" - || bad "B's pins changed: $(ids kg/b1 kg/sub/b2)"
	records b | cmp -s "$T/b.rec" - || bad "B's ledger records changed: $(records b)"
	grep -q "Retired manifest 'b'" "$T/out" && bad "B is listed as retired by apply"

	# Converged for A: again 65 (B still broken), and no change.
	bp_untouched 65 apply --keep-going
	grep -q '^Plan: 0 to create, 0 to replace, 0 to update, 0 to delete' "$T/out" ||
		{ cat "$T/out" >&2; bad "a second apply --keep-going has changes"; }

	# B mended: nothing to do for it, all of it was kept.
	manifest "$E/b.yaml" kg/b1 kg/sub/b2
	bp_untouched 0 apply
	ids kg/b1 kg/sub/b2 | cmp -s "$T/b.ids" - || bad "B's pins changed after mending"
}

case_invalid() {
	setup
	manifest "$E/10-good.yaml" in/good
	manifest "$E/20-noobj.yaml" in/noobj
	printf 'objects:\n  - file: missing.o\n' >>"$E/20-noobj.yaml"
	manifest "$E/30-owner.yaml" in/owner
	printf 'defaults: {owner: bpfprov-no-such-user}\n' >>"$E/30-owner.yaml"
	manifest "$E/40-same.yaml" in/same1
	printf 'name: shared\n' >>"$E/40-same.yaml"
	manifest "$E/50-same.yaml" in/same2
	printf 'name: shared\n' >>"$E/50-same.yaml"
	printf 'version: 1\nbogus_key: 1\n' >"$E/60-unknown.yaml"
	bp_untouched 65 apply
	bp 65 apply --keep-going
	expect_err "$E/20-noobj.yaml:5:11: error: object file '$E/missing.o': cannot open: No such file or directory"
	expect_err "$E/30-owner.yaml:3:12: error: map 'in/owner': unknown user 'bpfprov-no-such-user'"
	expect_err "$E/50-same.yaml: error: manifest name 'shared' is also used by $E/40-same.yaml"
	grep -q "^$E/60-unknown.yaml:2:1: error: " "$T/err" || { cat "$T/err" >&2; bad "no error for the unknown key"; }
	for f in 20-noobj 30-owner 40-same 50-same 60-unknown; do
		expect_err "$(left_out "$E/$f.yaml")"
	done
	expect_no_err "$(left_out "$E/10-good.yaml")"
	[ -f "$M/in/good" ] || bad "the valid manifest was not applied"
	for p in noobj owner same1 same2; do
		[ ! -e "$M/in/$p" ] || bad "in/$p made by a manifest left out"
	done
}

case_conflict() {
	setup
	manifest "$E/a.yaml" cf/a cf/shared
	manifest "$E/c.yaml" cf/c
	bp 0 apply
	ids cf/a cf/shared cf/c >"$T/ids.before"
	# b declares a's path; d a pin where c's would need a directory.
	manifest "$E/a.yaml" cf/a=0640 cf/shared
	manifest "$E/b.yaml" cf/b cf/shared
	manifest "$E/c.yaml" cf/c/inner
	manifest "$E/d.yaml" cf/c
	manifest "$E/z.yaml" cf/z
	# e and f attach XDP programs to one interface, which takes one.
	for f in e f; do
		printf '%s\n' "version: 1" "namespace: $f" "objects:" "  - file: $top_builddir/configs/bpf/attach_site.o" \
			"    name: site" "    sections:" "      - program: xdp_count" \
			"        pinning: none" "        attach:" "          - xdp: bpfprov-x0" >"$E/$f.yaml"
	done
	bp 65 apply --keep-going
	expect_err "$E/a.yaml:4:12: error: pin path 'cf/shared' is also declared at $E/b.yaml:4:12: both manifests are left out"
	expect_err "$E/b.yaml:4:12: error: pin path 'cf/shared' is also declared at $E/a.yaml:4:12: both manifests are left out"
	expect_err "$E/c.yaml:3:12: error: pin path 'cf/c/inner' lies under the pin 'cf/c' of $E/d.yaml:3:12: both manifests are left out"
	expect_err "$E/d.yaml:3:12: error: pin 'cf/c' stands where 'cf/c/inner' of $E/c.yaml:3:12 needs a directory: both manifests are left out"
	expect_err "$E/e.yaml:10:18: error: interface 'bpfprov-x0' takes one XDP program; $E/f.yaml:10:18 attaches one too: both manifests are left out"
	expect_err "$E/f.yaml:10:18: error: interface 'bpfprov-x0' takes one XDP program; $E/e.yaml:10:18 attaches one too: both manifests are left out"
	for f in a b c d e f; do
		expect_err "$(left_out "$E/$f.yaml")"
	done
	ids cf/a cf/shared cf/c | cmp -s "$T/ids.before" - || bad "pins of the conflicting manifests changed"
	[ "$(mode_of cf/a)" = 600 ] || bad "a's change applied while it was left out"
	[ ! -e "$M/cf/b" ] || bad "b applied while it was left out"
	[ -f "$M/cf/z" ] || bad "z, valid and in no conflict, was not applied"
}

case_prune() {
	setup
	manifest "$E/keep.yaml" pr/keep
	manifest "$E/old.yaml" pr/old
	manifest "$E/broken.yaml" pr/broken
	bp 0 apply
	rm "$E/old.yaml"
	printf 'version: 1\nmaps: [\n' >"$E/broken.yaml"
	bp 65 apply --keep-going --prune-retired
	expect_err "bpf-provision: warning: --prune-retired: no retired manifest is pruned while manifests are left out (--keep-going)"
	[ -f "$M/pr/old" ] || bad "a retired manifest was pruned while one was left out"
	[ -f "$M/pr/broken" ] || bad "the broken manifest's pin was pruned"
	rm "$E/broken.yaml"
	bp 0 apply --keep-going --prune-retired
	[ ! -e "$M/pr/old" ] && [ ! -e "$M/pr/broken" ] && [ -f "$M/pr/keep" ] ||
		bad "--prune-retired without a manifest left out did not prune the retired ones"
}

case_json() {
	setup
	manifest "$E/good.yaml" js/good
	printf 'version: 1\nmaps: [\n' >"$E/bad.yaml"
	bp_untouched 65 -o json plan --keep-going
	"$PY" - "$top_srcdir/schema/plan.schema.json" "$T/out" <<'PY' || bad "JSON plan"
import json, sys
from jsonschema import Draft202012Validator
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
errs = [e.message for e in Draft202012Validator(schema).iter_errors(doc)]
assert not errs, errs
assert [c["path"] for c in doc["changes"]] == ["js/good"], doc["changes"]
assert doc["retired"] == [], doc["retired"]
PY
	expect_err "$(left_out "$E/bad.yaml")"
}

case_usage() {
	setup
	manifest "$E/one.yaml" us/one
	for args in "validate --keep-going $E" "destroy --keep-going $E" \
		"plan --keep-going --out $T/x.plan $E" "apply --dry-run --keep-going --out $T/x.plan $E"; do
		# shellcheck disable=SC2086 # words on purpose
		bp_untouched 1 $args
	done
	"$BPF_PROVISION" apply --help | grep -q -- '--keep-going' || bad "apply --help lacks --keep-going"
	"$BPF_PROVISION" plan --help | grep -q -- '--keep-going' || bad "plan --help lacks --keep-going"
	"$BPF_PROVISION" destroy --help | grep -q -- '--keep-going' && bad "destroy --help offers --keep-going"
}

run_cases boot.sh overlay empty missing keep_going invalid conflict prune json usage
