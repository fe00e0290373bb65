#!/bin/sh
# SPDX-License-Identifier: MIT
# Retired manifests (issue 17; bpf-provision(1)): a ledger record whose
# manifest is not among the arguments.  On a private bpffs mount (never
# /sys/fs/bpf) with a private BPF_PROVISION_RUNTIME_DIR, the three example
# manifests are applied from a directory of symlinks, then taken out of it
# one at a time:
#  1. plan, apply --dry-run and status list the retired manifest after the
#     plan, with the count of its pins ("Retired manifest 'NAME': N pins
#     (remove them with: bpf-provision destroy --name NAME)"), and -o json
#     its "retired" array; a directory argument makes that drift (exit 2), a
#     file argument alone does not; apply leaves its pins, and its records.
#  2. destroy --name NAME (--dry-run first) deletes exactly that manifest's
#     pins, directories and records, and nothing else; nothing is retired
#     afterwards.
#  3. apply --prune-retired deletes the retired manifest's pins, but not one
#     replaced by hand with another map (bpftool), nor its directory.
#  4. destroy --name of a manifest without records is an error naming it.
# Every real apply and destroy runs through run_checking_steps (its dry run
# lists the steps it takes; the tree changes only where a step says).  Needs
# root.
# shellcheck disable=SC2015 # A && B || fail: fail if either fails
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST
find_python

START=$(date +%s)

mount_private_bpffs retired
rm -f "$M/probe"
unset BPF_PROVISION_FAIL_AT BPF_PROVISION_FAIL_ERRNO BPF_PROVISION_TRACE_STEPS BPF_PROVISION_PAUSE_AT
mkdir -p "$T/run" "$T/pins" "$T/docs"

CONFIGS=$T/configs
pin_examples "$CONFIGS"
GOBPF=$CONFIGS/gobpf-site.yaml
TC=$CONFIGS/iproute2-site.yaml
BTF=$CONFIGS/btf-site.yaml
CASE=setup

# --- helpers -----------------------------------------------------------------

expect_no() { # TEXT: no line of the text output contains it
	! grep -Fq -- "$1" "$T/out" || { cat "$T/out" >&2; fail "$CASE: '$1' is in the output"; }
}

retired_line() { # NAME N: the line that lists manifest NAME as retired with N pins
	if [ "$2" = 1 ]; then
		_pins="1 pin"
	else
		_pins="$2 pins"
	fi
	echo "Retired manifest '$1': $_pins (remove them with: bpf-provision destroy --name $1)"
}

expect_retired() { # NAME...: the text output lists exactly these retired manifests, after the plan
	_want=
	for _n; do
		_want="$_want$(retired_line "$_n" "$(wc -l <"$T/pins/$_n")")
"
	done
	grep '^Retired manifest ' "$T/out" | LC_ALL=C sort >"$T/retired.got"
	printf '%s' "$_want" | LC_ALL=C sort >"$T/retired.want"
	cmp -s "$T/retired.got" "$T/retired.want" || {
		cat "$T/out" >&2
		diff "$T/retired.want" "$T/retired.got" >&2
		fail "$CASE: retired manifests listed are not: $*"
	}
	# "after the plan": no plan line and no summary below the first Retired line.
	[ $# = 0 ] || ! sed -n '/^Retired manifest /,$p' "$T/out" | grep -q '^[-+~*] \|^Plan: ' ||
		{ cat "$T/out" >&2; fail "$CASE: the retired manifests are not listed after the plan"; }
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

ids_of() { # NAME: "PATH ID" of each pin apply made for manifest NAME, as they are now
	while read -r _p; do
		echo "$_p $(pin_id "$_p")"
	done <"$T/pins/$1"
}

expect_ids() { # NAME: the pins of manifest NAME are the objects they were ($T/pins/NAME.ids)
	ids_of "$1" >"$T/ids.now"
	cmp -s "$T/pins/$1.ids" "$T/ids.now" || {
		diff "$T/pins/$1.ids" "$T/ids.now" >&2
		fail "$CASE: the pins of '$1' changed"
	}
	! grep -q ' $' "$T/ids.now" || fail "$CASE: a pin of '$1' is missing"
}

expect_gone() { # NAME: no pin apply made for manifest NAME is there
	while read -r _p; do
		[ ! -e "$M/$_p" ] || fail "$CASE: $_p of '$1' is still there"
	done <"$T/pins/$1"
}

records() { # NAME: how many ledger records (pins and directories) manifest NAME has
	set -- "$1" "$T"/run/ledger-*.json
	[ -f "$2" ] || {
		echo 0
		return
	}
	"$PY" - "$@" <<'PY' || fail "$CASE: ledger"
import json, sys
print(sum(e.get("manifest") == sys.argv[1]
          for f in sys.argv[2:] for e in json.load(open(f)).get("entries", [])))
PY
}

json_retired() { # WANT-JSON: the last JSON plan is valid and its "retired" is WANT-JSON
	# (pins compared as sets; a path may be given relative to the root or absolute)
	"$PY" - "$top_srcdir/schema/plan.schema.json" "$T/out" "$1" "$M" <<'PY' || fail "$CASE: JSON retired"
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
want, root = json.loads(sys.argv[3]), sys.argv[4].rstrip("/") + "/"
if "retired" not in doc or not isinstance(doc["retired"], list):
    sys.exit("no \"retired\" array: %s" % doc)
def norm(r):
    r = dict(r)
    if isinstance(r.get("pins"), list):
        r["pins"] = sorted(p[len(root):] if p.startswith(root) else p for p in r["pins"])
    return r
got = sorted((norm(r) for r in doc["retired"]), key=lambda r: str(r.get("manifest")))
want = sorted((norm(r) for r in want), key=lambda r: r["manifest"])
if got != want:
    sys.exit("retired:\n got  %s\n want %s" % (got, want))
PY
}

want_json() { # NAME...: the "retired" the JSON plan must have for these manifests
	"$PY" - "$T/pins" "$@" <<'PY'
import json, sys
d = sys.argv[1]
print(json.dumps([{"manifest": n, "pins": sorted(open(f"{d}/{n}").read().split()),
                   "command": "bpf-provision destroy --name " + n} for n in sys.argv[2:]]))
PY
}

# --- the pins each manifest makes, from its plan on an empty tree ------------

CASE=setup
for f in "$GOBPF" "$TC" "$BTF"; do
	bp 2 -o json plan "$f"
	"$PY" - "$T/out" "$T/pins" <<'PY' || fail "$CASE: plan of $f"
import json, sys
doc = json.load(open(sys.argv[1]))
names = {c["manifest"] for c in doc["changes"]}
assert len(names) == 1, names
assert all(c["action"] == "create" and c["kind"] in ("map", "program") for c in doc["changes"]), doc
with open("%s/%s" % (sys.argv[2], names.pop()), "w") as out:
    out.writelines(p + "\n" for p in sorted(c["path"] for c in doc["changes"]))
PY
done
for n in gobpf-site tc-site btf-site; do
	[ -s "$T/pins/$n" ] || fail "$CASE: no pins planned for manifest '$n' (configs/*.yaml name:)"
done
[ "$(wc -l <"$T/pins/tc-site")" -ge 2 ] || fail "$CASE: tc-site makes fewer than 2 pins"

# --- 1. a manifest taken out of the directory is retired, and kept -----------

case_retire() {
	CASE=1-retire
	bp 0 apply "$CONFIGS"
	expect_retired
	for n in gobpf-site tc-site btf-site; do
		ids_of "$n" >"$T/pins/$n.ids"
		expect_ids "$n"
	done
	bp_untouched 0 plan "$CONFIGS"
	expect_retired
	bp 0 -o json plan "$CONFIGS"
	json_retired '[]'
	TC_RECORDS=$(records tc-site)
	[ "$TC_RECORDS" -gt "$(wc -l <"$T/pins/tc-site")" ] ||
		fail "$CASE: tc-site has $TC_RECORDS ledger records after apply"

	rm "$TC" || fail "$CASE: rm $TC"
	bp_untouched 2 plan "$CONFIGS"
	expect_retired tc-site
	expect_line "$(retired_line tc-site "$(wc -l <"$T/pins/tc-site")")"
	grep -q '^[-+~*] ' "$T/out" && { cat "$T/out" >&2; fail "$CASE: plan has changes"; }
	cp "$T/out" "$T/plan.txt"
	bp_untouched 2 apply --dry-run "$CONFIGS"
	cmp -s "$T/out" "$T/plan.txt" || {
		diff "$T/plan.txt" "$T/out" >&2
		fail "$CASE: apply --dry-run differs from plan"
	}
	bp_untouched 2 -o json plan "$CONFIGS"
	cp "$T/out" "$T/docs/1-plan.json"
	json_retired "$(want_json tc-site)"
	bp_untouched 2 -o json apply --dry-run "$CONFIGS"
	json_retired "$(want_json tc-site)"
	bp_untouched 0 status "$CONFIGS"
	expect_retired tc-site

	# apply never deletes a retired manifest's pins, nor forgets them.
	bp 0 apply "$CONFIGS"
	grep '^- ' "$T/out" && fail "$CASE: apply deleted something"
	for n in gobpf-site tc-site btf-site; do
		expect_ids "$n"
	done
	[ "$(records tc-site)" = "$TC_RECORDS" ] ||
		fail "$CASE: tc-site has $(records tc-site) ledger records after apply, had $TC_RECORDS"
	bp_untouched 2 plan "$CONFIGS"
	expect_retired tc-site

	# Files alone: the others are listed as retired, but that is no drift.
	bp_untouched 0 plan "$GOBPF"
	expect_retired tc-site btf-site
	bp_untouched 0 -o json plan "$GOBPF"
	json_retired "$(want_json tc-site btf-site)"
	bp_untouched 0 plan "$GOBPF" "$BTF"
	expect_retired tc-site
}

# --- 2. destroy --name ---------------------------------------------------------

case_destroy_name() {
	CASE=2-destroy-name
	bp_untouched 2 destroy --name tc-site --dry-run
	grep '^- ' "$T/outs" | cut -d' ' -f3 | LC_ALL=C sort >"$T/deletes"
	cmp -s "$T/deletes" "$T/pins/tc-site" || {
		cat "$T/out" >&2
		diff "$T/pins/tc-site" "$T/deletes" >&2
		fail "$CASE: destroy --name tc-site --dry-run does not delete exactly its pins"
	}
	grep '^[+~*] ' "$T/out" && fail "$CASE: destroy --dry-run plans other changes"
	bp_untouched 2 -o json destroy --dry-run --name tc-site
	"$PY" - "$T/out" "$T/pins/tc-site" <<'PY' || fail "$CASE: JSON plan of destroy --name"
import json, sys
doc = json.load(open(sys.argv[1]))
want = sorted(open(sys.argv[2]).read().split())
got = sorted(c["path"] for c in doc["changes"])
assert got == want and all(c["action"] == "delete" and c["manifest"] == "tc-site"
                           for c in doc["changes"]), doc["changes"]
PY

	bp 0 destroy --name tc-site
	expect_gone tc-site
	[ ! -e "$M/tc" ] || fail "$CASE: the directory tc it made is still there"
	expect_ids gobpf-site
	expect_ids btf-site
	[ "$(records tc-site)" = 0 ] || fail "$CASE: tc-site still has $(records tc-site) ledger records"
	[ "$(records gobpf-site)" -gt 0 ] && [ "$(records btf-site)" -gt 0 ] ||
		fail "$CASE: destroy --name tc-site dropped other manifests' records"
	bp_untouched 0 plan "$CONFIGS"
	expect_retired
	bp_untouched 0 -o json plan "$CONFIGS"
	json_retired '[]'
	# Nothing is left to destroy under that name.
	bp_untouched 1 destroy --name tc-site
}

# --- 3. apply --prune-retired ------------------------------------------------

case_prune_retired() {
	CASE=3-prune-retired
	rm "$BTF" || fail "$CASE: rm $BTF"
	# One of its map pins replaced by hand: another map at its path.
	SWAPPED=$(grep -m1 globals "$T/pins/btf-site") || fail "$CASE: no global map in btf-site"
	rm "$M/$SWAPPED" &&
		bpftool map create "$M/$SWAPPED" type array key 4 value 4 entries 1 name other ||
		fail "$CASE: cannot swap $SWAPPED"
	OTHER=$(pin_id "$SWAPPED")
	grep -vxF "$SWAPPED" "$T/pins/btf-site" >"$T/pins/btf-rest"
	[ -s "$T/pins/btf-rest" ] || fail "$CASE: btf-site has no other pin"

	bp_untouched 2 plan "$CONFIGS"
	expect_line "$(retired_line btf-site "$(wc -l <"$T/pins/btf-rest")")"
	[ "$(grep -c '^Retired manifest ' "$T/out")" = 1 ] || { cat "$T/out" >&2; fail "$CASE: Retired lines"; }
	grep -q '^[-+~*] ' "$T/out" && { cat "$T/out" >&2; fail "$CASE: plan without --prune-retired has changes"; }

	bp_untouched 2 apply --dry-run --prune-retired "$CONFIGS"
	while read -r _p; do
		_kind=$(sed -n "s|^$_p prog:.*|program|p; s|^$_p map:.*|map|p" "$T/pins/btf-site.ids")
		expect_line "- $_kind $_p delete (its manifest 'btf-site' is retired)"
	done <"$T/pins/btf-rest"
	[ "$(grep -c '^[-+~*] ' "$T/out")" = "$(wc -l <"$T/pins/btf-rest")" ] ||
		{ cat "$T/out" >&2; fail "$CASE: apply --dry-run --prune-retired plans other changes"; }
	expect_no "$SWAPPED"
	bp_untouched 2 -o json apply --dry-run --prune-retired "$CONFIGS"
	"$PY" - "$T/out" "$T/pins/btf-rest" <<'PY' || fail "$CASE: JSON plan of --prune-retired"
import json, sys
doc = json.load(open(sys.argv[1]))
want = sorted(open(sys.argv[2]).read().split())
got = sorted(c["path"] for c in doc["changes"] if c["action"] == "delete")
assert got == want and len(doc["changes"]) == len(want), doc["changes"]
assert all(c["manifest"] == "btf-site" for c in doc["changes"]), doc["changes"]
PY

	bp 0 apply --prune-retired "$CONFIGS"
	while read -r _p; do
		[ ! -e "$M/$_p" ] || fail "$CASE: $_p of retired 'btf-site' is still there"
		# The directory the tool made for it alone goes with it.
		_d=$(dirname "$_p")
		[ "$_d" = "$(dirname "$SWAPPED")" ] || [ ! -e "$M/$_d" ] ||
			fail "$CASE: its directory $_d is still there"
	done <"$T/pins/btf-rest"
	[ "$(pin_id "$SWAPPED")" = "$OTHER" ] ||
		fail "$CASE: $SWAPPED, replaced by hand ($OTHER), is now '$(pin_id "$SWAPPED")'"
	bpftool map show pinned "$M/$SWAPPED" | grep -q 'name other' ||
		fail "$CASE: $SWAPPED is not the map made by hand"
	expect_ids gobpf-site
	# Only what was replaced by hand may still be recorded, and no pin counted.
	bp_untouched 0 plan "$GOBPF"
	if grep -q "^Retired manifest 'btf-site'" "$T/out"; then
		expect_line "$(retired_line btf-site 0)"
	fi
}

# --- 4. destroy --name of an unknown manifest --------------------------------

case_unknown_name() {
	CASE=4-unknown-name
	bp_untouched 1 destroy --name nosuch
	grep -q "nosuch" "$T/err" || { cat "$T/err" >&2; fail "$CASE: no message naming 'nosuch'"; }
	bp_untouched 1 destroy --dry-run --name nosuch
	grep -q "nosuch" "$T/err" || { cat "$T/err" >&2; fail "$CASE: no message naming 'nosuch'"; }
	expect_ids gobpf-site
}

case_retire
case_destroy_name
case_prune_retired
case_unknown_name

END=$(date +%s)
echo "retired.sh: cases 1-4 passed in $((END - START)) s"
