#!/bin/sh
# SPDX-License-Identifier: MIT
# Saved plans (issue 17 point 3; bpf-provision(1), SAVED PLANS).  On a
# private bpffs mount (never /sys/fs/bpf) with a private
# BPF_PROVISION_RUNTIME_DIR and the example manifests:
#  roundtrip: plan --out saves a plan that schema/saved-plan.schema.json
#    accepts (its "plan" the very document of plan -o json); apply --plan
#    carries it out (exit 0, its dry run listing the steps it takes) and
#    leaves the tree a direct apply would (a second apply does nothing); the
#    same file applied again is stale: exit 1 naming the first new pin, tree
#    untouched; a fresh plan of the converged tree applies with 0 changes;
#    destroy --dry-run --out / destroy --plan removes what apply made, and
#    with --name a retired manifest's pins alone.
#  tree: a plan saved, then the tree changed before apply --plan - a map
#    replaced by hand with bpftool at its path, a pin removed, a pin added in
#    an owned directory, a pin's mode changed - each refused with exit 1,
#    "the tree changed since the plan: PATH: ..." naming the path, and the
#    tree identical (inodes, ctimes, kernel ids) before and after.
#  inputs: a plan saved, then a manifest edited or an ELF object modified:
#    refused with exit 1 naming the file.
#  invalid: corrupt JSON, version 2, a missing field, another format, a
#    relative manifest path, a plan for the other command, another --bpffs, a
#    missing file, a directory: exit 65 with "FILE: error: ..."; --plan with
#    MANIFEST arguments or --name, --out without --dry-run, plan --plan:
#    usage errors, exit 1.  Nothing touched.
# Needs root.
# shellcheck disable=SC2015 # A && B || fail: fail if either fails
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST
find_python

START=$(date +%s)

mount_private_bpffs savedplan
rm -f "$M/probe"
unset BPF_PROVISION_FAIL_AT BPF_PROVISION_FAIL_ERRNO BPF_PROVISION_TRACE_STEPS BPF_PROVISION_PAUSE_AT
mkdir -p "$T/run"

CONFIGS=$T/configs
pin_examples "$CONFIGS"
GOBPF=$CONFIGS/gobpf-site.yaml
TC=$CONFIGS/iproute2-site.yaml
BTF=$CONFIGS/btf-site.yaml
CASE=setup

# --- helpers -----------------------------------------------------------------

# The run's stderr has this line.
expect_err() { # LINE
	grep -Fxq -- "$1" "$T/err" || {
		cat "$T/err" >&2
		bad "stderr lacks '$1'"
	}
}

# A refused apply --plan FILE: exit 1, the tree as it was, the message
# naming what changed (a line starting with PREFIX).
stale() { # FILE PREFIX [COMMAND]
	bp_untouched 1 "${3:-apply}" --plan "$1"
	grep -Fq -- "$1: error: the tree changed since the plan: $2" "$T/err" || {
		cat "$T/err" >&2
		bad "the refusal does not name '$2'"
	}
}

# The saved plan FILE is valid against schema/saved-plan.schema.json (its
# "plan" against plan.schema.json, which it refers to), and its "plan" is
# exactly what plan -o json printed (JSON, or - for no comparison).
schema_check() { # FILE JSON
	"$PY" - "$top_srcdir/schema" "$1" "$2" <<'PY' || bad "saved plan $1"
import json, sys
from jsonschema import Draft202012Validator
d = sys.argv[1]
plan = json.load(open(d + "/plan.schema.json"))
saved = json.load(open(d + "/saved-plan.schema.json"))
Draft202012Validator.check_schema(saved)
# "plan" refers to plan.schema.json by its $id; resolved here by taking its
# definitions in, which every jsonschema version can do.
ref = saved["properties"]["plan"]["$ref"]
if ref != plan["$id"] + "#/$defs/plan":
    sys.exit("the saved plan's 'plan' refers to %s, not plan.schema.json" % ref)
if set(plan["$defs"]) & set(saved["$defs"]):
    sys.exit("definitions of both schemas share names")
saved["$defs"].update(plan["$defs"])
saved["properties"]["plan"]["$ref"] = "#/$defs/plan"
doc = json.load(open(sys.argv[2]))
errs = ["%s at %s" % (e.message, list(e.absolute_path))
        for e in Draft202012Validator(saved).iter_errors(doc)]
if errs:
    sys.exit("schema: " + "; ".join(errs))
if sys.argv[3] != "-" and doc["plan"] != json.load(open(sys.argv[3])):
    sys.exit("the saved plan is not the plan -o json printed")
paths = [e["path"] for e in doc["observed"]]
if paths != sorted(paths, key=lambda p: p.encode()):
    sys.exit("observed entries not sorted by path")
PY
}

# The pins under the root: "TYPE PATH", the kernel's own files left out.
pins() {
	(cd "$M" && find . -mindepth 1 ! -path ./maps.debug ! -path ./progs.debug -printf '%y %P\n') |
		LC_ALL=C sort
}

reset_tree() { # destroy what the examples made; the tree is empty again
	"$BPF_PROVISION" --bpffs "$M" destroy "$GOBPF" "$TC" "$BTF" >/dev/null 2>&1 ||
		fatal "destroy failed"
	[ -z "$(pins)" ] || fatal "pins left after destroy: $(pins)"
}

# --- cases -------------------------------------------------------------------

case_roundtrip() {
	# The tree a direct apply makes, for comparison.
	bp 0 apply "$GOBPF" "$TC" "$BTF"
	pins >"$T/direct"
	[ -s "$T/direct" ] || fatal "the direct apply made nothing"
	reset_tree

	bp_untouched 2 -o json plan --out "$T/p.json" "$GOBPF" "$TC" "$BTF"
	cp "$T/out" "$T/plan.json"
	schema_check "$T/p.json" "$T/plan.json"
	bp 0 apply --plan "$T/p.json"
	pins >"$T/saved"
	cmp -s "$T/direct" "$T/saved" || {
		diff "$T/direct" "$T/saved" >&2
		bad "apply --plan made another tree than a direct apply"
	}
	bp_untouched 0 apply "$GOBPF" "$TC" "$BTF"
	grep -q '^Plan: 0 to create, 0 to replace, 0 to update, 0 to delete, 0 to adopt, 0 to release, [1-9][0-9]* unchanged\.$' \
		"$T/out" || bad "a direct apply after apply --plan is not a no-op: $(cat "$T/out")"

	# The same file again: the tree has what it made.
	_first=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["plan"]["changes"][0]["path"].split("/")[0])' "$T/p.json")
	stale "$T/p.json" "$_first: there now, not in the plan"

	# A plan of the converged tree: nothing to do, and nothing done.
	bp_untouched 0 plan --out "$T/p0.json" "$GOBPF" "$TC" "$BTF"
	schema_check "$T/p0.json" -
	bp_untouched 0 apply --plan "$T/p0.json"
	bp_untouched 0 apply --plan "$T/p0.json"

	# destroy's own.
	bp_untouched 2 destroy --dry-run --out "$T/d.json" "$GOBPF" "$TC" "$BTF"
	schema_check "$T/d.json" -
	grep -q '"command": "destroy"' "$T/d.json" || bad "d.json is not destroy's"
	bp_untouched 65 apply --plan "$T/d.json"
	expect_err "$T/d.json: error: a plan for destroy; carry it out with 'bpf-provision destroy --plan'"
	bp 0 destroy --plan "$T/d.json"
	[ -z "$(pins)" ] || bad "destroy --plan left: $(pins)"

	# destroy --name: the plan records the name, and no manifest.
	bp 0 apply "$GOBPF" "$BTF"
	bp_untouched 2 destroy --dry-run --name btf-site --out "$T/dn.json"
	schema_check "$T/dn.json" -
	"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["names"] == ["btf-site"] and d["manifests"] == [], d' \
		"$T/dn.json" || bad "dn.json does not record --name btf-site alone"
	bp 0 destroy --plan "$T/dn.json"
	! pins | grep -q ' btf' || bad "destroy --plan of --name btf-site left: $(pins)"
	pins | grep -q ' ns1/test1$' || bad "destroy --plan of --name btf-site removed ns1/test1"
	reset_tree
}

case_tree() {
	bp 0 apply "$GOBPF" "$TC" "$BTF"

	# A map replaced by hand with one of the same spec: the plan would not
	# say so, the inode and id do.
	bp_untouched 0 plan --out "$T/p.json" "$GOBPF" "$TC" "$BTF"
	_ino=$(stat -c %i "$M/ns1/test1")
	rm "$M/ns1/test1"
	bpftool map create "$M/ns1/test1" type array key 4 value 4 entries 1024 \
		name dummy_array_cus || fatal "bpftool map create"
	stale "$T/p.json" "ns1/test1: inode $_ino is now $(stat -c %i "$M/ns1/test1")"
	rm "$M/ns1/test1"
	bp 0 apply "$GOBPF" "$TC" "$BTF"

	# A pin removed.
	bp_untouched 0 plan --out "$T/p.json" "$GOBPF" "$TC" "$BTF"
	rm "$M/ns1/globals/dummy_hash"
	stale "$T/p.json" "ns1/globals/dummy_hash: in the plan, gone now"
	bp 0 apply "$GOBPF" "$TC" "$BTF"

	# A pin added in an owned directory (apply would delete it: not in
	# this plan).
	bp_untouched 0 plan --out "$T/p.json" "$GOBPF" "$TC" "$BTF"
	bpftool map create "$M/ns1/intruder" type array key 4 value 4 entries 1 name intruder ||
		fatal "bpftool map create"
	stale "$T/p.json" "ns1/intruder: there now, not in the plan"
	rm "$M/ns1/intruder"

	# A plan with changes, then a pin's mode changed by hand.
	rm "$M/btf/globals/packets"
	bp_untouched 2 plan --out "$T/p.json" "$GOBPF" "$TC" "$BTF"
	_mode=$(stat -c %a "$M/ns1/test1")
	chmod 0604 "$M/ns1/test1"
	stale "$T/p.json" "ns1/test1: mode 0$_mode is now 0604"
	chmod "$_mode" "$M/ns1/test1"
	# Put back, the plan holds again, and is carried out.
	bp 0 apply --plan "$T/p.json"
	[ -e "$M/btf/globals/packets" ] || bad "apply --plan did not make btf/globals/packets"
	reset_tree
}

case_inputs() {
	_c=$T/copy
	mkdir -p "$_c" && cp -L "$GOBPF" "$BTF" "$_c/" && cp -rL "$CONFIGS/bpf" "$_c/bpf" ||
		fatal "cannot copy the examples"

	bp_untouched 2 plan --out "$T/p.json" "$_c/gobpf-site.yaml" "$_c/btf-site.yaml"
	grep -Fq "\"path\": \"$_c/bpf/gobpf_site.o\"" "$T/p.json" ||
		bad "the object is not recorded by its absolute path"
	echo "# reviewed" >>"$_c/btf-site.yaml"
	stale "$T/p.json" "$_c/btf-site.yaml: contents: sha256 "

	bp_untouched 2 plan --out "$T/p.json" "$_c/gobpf-site.yaml" "$_c/btf-site.yaml"
	printf '\0' >>"$_c/bpf/gobpf_site.o"
	stale "$T/p.json" "$_c/bpf/gobpf_site.o: contents: sha256 "
	[ -z "$(pins)" ] || bad "refused runs left pins: $(pins)"

	# A relative manifest path is recorded absolute: the plan runs from
	# anywhere.
	(cd "$_c" && "$BPF_PROVISION" --bpffs "$M" plan --out "$T/p.json" gobpf-site.yaml) \
		>/dev/null 2>&1
	[ $? = 2 ] || bad "plan --out with a relative manifest path"
	grep -Fq "\"path\": \"$_c/gobpf-site.yaml\"" "$T/p.json" ||
		bad "the manifest is not recorded by its absolute path"
	bp 0 apply --plan "$T/p.json"
	[ -e "$M/ns1/test1" ] || bad "apply --plan of a relative manifest did not apply it"
	"$BPF_PROVISION" --bpffs "$M" destroy "$_c/gobpf-site.yaml" >/dev/null 2>&1 ||
		bad "destroy failed"
}

case_invalid() {
	bp_untouched 2 plan --out "$T/good.json" "$GOBPF" "$BTF"

	edit() { # NAME PYTHON: $T/NAME.json is good.json with doc changed by PYTHON
		"$PY" - "$T/good.json" "$T/$1.json" "$2" <<'PY' || fatal "cannot make $1.json"
import json, sys
doc = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(doc, open(sys.argv[2], "w"))
PY
	}
	invalid() { # NAME MESSAGE: apply --plan $T/NAME.json exits 65 with this error
		bp_untouched 65 apply --plan "$T/$1.json"
		expect_err "$T/$1.json: error: $2"
	}

	head -c 100 "$T/good.json" >"$T/cut.json"
	bp_untouched 65 apply --plan "$T/cut.json"
	grep -q "^$T/cut.json:[0-9]*:[0-9]*: error: invalid saved plan: " "$T/err" ||
		bad "corrupt JSON: $(cat "$T/err")"
	edit v2 'doc["version"] = 2'
	invalid v2 "saved plan version 2; this bpf-provision reads version 1"
	edit nofield 'del doc["observed"]'
	invalid nofield "invalid saved plan: Object item not found: observed"
	edit extra 'doc["extra"] = 1'
	invalid extra "invalid saved plan: 1 object item(s) left unpacked: extra"
	edit format 'doc["format"] = "terraform-plan"'
	invalid format 'invalid saved plan: not a bpf-provision plan (format is not "bpf-provision-plan")'
	edit relative 'doc["manifests"][0]["path"] = "gobpf-site.yaml"'
	invalid relative "invalid saved plan: a manifest path is not absolute"
	edit types 'doc["observed"] = {}'
	invalid types "invalid saved plan: a field has the wrong type (see the schema, saved-plan.schema.json)"
	edit names 'doc["names"] = [1]'
	invalid names "invalid saved plan: names item 1 is not a string"
	bp_untouched 65 destroy --plan "$T/good.json"
	expect_err "$T/good.json: error: a plan for apply; carry it out with 'bpf-provision apply --plan'"
	bp_untouched 65 apply --plan "$T/missing.json"
	grep -q "^$T/missing.json: error: cannot read the saved plan" "$T/err" ||
		bad "missing file: $(cat "$T/err")"
	bp_untouched 65 apply --plan "$T"
	expect_err "$T: error: not a regular file (a directory)"
	tree_state "$T/before"
	"$BPF_PROVISION" --bpffs "$T" apply --plan "$T/good.json" >"$T/out" 2>"$T/err"
	[ $? = 65 ] || bad "--bpffs other than the plan's root"
	expect_err "$T/good.json: error: a plan for the root '$M', not '$T' (--bpffs)"
	"$BPF_PROVISION" apply --plan "$T/good.json" >"$T/out" 2>"$T/err"
	[ $? = 0 ] || bad "apply --plan without --bpffs does not take the plan's root: $(cat "$T/err")"
	reset_tree

	# Usage errors: exit 1.
	for args in "apply --plan $T/good.json $GOBPF" "destroy --plan $T/good.json --name x" \
		"apply --plan $T/good.json --prune-retired" "apply --out $T/x.json $GOBPF" \
		"plan --plan $T/good.json" "status --out $T/x.json" "validate --plan $T/good.json $GOBPF"; do
		tree_state "$T/before"
		# shellcheck disable=SC2086 # the words of args
		"$BPF_PROVISION" --bpffs "$M" $args >"$T/out" 2>"$T/err"
		_rc=$?
		[ $_rc = 1 ] || bad "'$args' exited $_rc, want 1 (usage)"
		tree_state "$T/after"
		cmp -s "$T/before" "$T/after" || bad "'$args' changed the tree"
	done
	[ ! -e "$T/x.json" ] || bad "a usage error wrote the plan"
}

run_cases savedplan.sh roundtrip tree inputs invalid
