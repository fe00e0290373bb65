#!/bin/sh
# SPDX-License-Identifier: MIT
# shellcheck disable=SC2031 # FAILS is counted in each case's own subshell (run_cases)
# Output that tells the truth (issue 19; bpf-provision(1), OUTPUT), on a
# private bpffs mount (never /sys/fs/bpf) with the example manifests:
#  - apply_ok, destroy: a real run ends with "Apply complete: ..." /
#    "Destroy complete: ..." counting what was done; its JSON document has
#    "dry_run": false, every change "done" and the outcome "complete"
#    (schema/plan.schema.json); a dry run has neither.
#  - apply_failed: an apply made to fail (BPF_PROVISION_FAIL_AT) at its
#    first, a middle and its last state change lists every change not done
#    (failed, rolled back, not tried) and ends "Apply failed, rolled back:
#    REASON; nothing changed."; the JSON document says the same per change
#    and in its outcome; the tree is as before.  Destroy likewise.
#  - quiet: -q prints nothing on stdout, the outcome included.
#  - color, color_tty: --color=always colours symbols, actions and states,
#    never JSON; never, auto when piped, NO_COLOR (set, not empty) and
#    TERM=dumb give none; auto on a terminal (script(1)) does; the text
#    without its escape sequences is the uncoloured text, byte for byte.
#  - status: columns as wide as their widest entry (a long path), and the
#    JSON has null where there is nothing to say (no "-", 0, "unmanaged").
# Needs root.
# shellcheck disable=SC2015 # A && B || bad: bad if either fails
# shellcheck disable=SC2317 # the case_ functions are called as "case_$c"
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST
find_python
CASE=setup
START=$(date +%s)

mount_private_bpffs output
unset BPF_PROVISION_FAIL_AT BPF_PROVISION_FAIL_ERRNO BPF_PROVISION_TRACE_STEPS BPF_PROVISION_PAUSE_AT
unset NO_COLOR
SCHEMA=$top_srcdir/schema/plan.schema.json
C=$T/configs
pin_examples "$C"
ESC=$(printf '\033')

reset() { # a fresh, empty bpffs (only maps.debug and progs.debug) and no ledger
	umount "$M" || fatal "umount $M"
	mount -t bpf bpf "$M" || fatal "mount $M"
	rm -rf "$T/run"
}

# The last run's stdout has the line LINE (runs of blanks squeezed, as bp
# leaves it in $T/outs), or no line matching RE.
has_line() { grep -Fxq -- "$1" "$T/outs" || bad "no line '$1' in: $(cat "$T/out" "$T/err")"; }
no_match() { ! grep -q -- "$1" "$T/out" || bad "a line matching '$1': $(grep -- "$1" "$T/out")"; }

# The plan document in FILE is valid (schema), and: DRY true|false; RESULT
# complete|failed|- (no outcome); STATUS of every change, or "-".
doc_check() { # FILE DRY RESULT STATUS
	"$PY" - "$SCHEMA" "$@" <<'PY' || bad "JSON document $1"
import json, sys
from jsonschema import Draft202012Validator
schema, path, dry, result, status = sys.argv[1:]
schema = json.load(open(schema))
try:
    doc = json.load(open(path))
except ValueError as e:
    sys.exit("not one JSON document (%s): %s" % (e, open(path).read()))
errs = ["%s at %s" % (e.message, list(e.absolute_path))
        for e in Draft202012Validator(schema).iter_errors(doc)]
if errs:
    sys.exit("schema: " + "; ".join(errs))
if doc["dry_run"] is not (dry == "true"):
    sys.exit("dry_run is %s" % doc["dry_run"])
if result == "-":
    if "outcome" in doc:
        sys.exit("an outcome in a dry run: %s" % doc["outcome"])
elif doc.get("outcome", {}).get("result") != result:
    sys.exit("outcome %s, want %s" % (doc.get("outcome"), result))
if status != "-":
    bad = [c for c in doc["changes"] if c.get("status") != status]
    if bad:
        sys.exit("changes without status %s: %s" % (status, bad))
if "\x1b" in open(path).read():
    sys.exit("escape sequences in JSON")
PY
}

# The number of state-changing calls of an apply of the examples on an
# empty tree (BPF_PROVISION_TRACE_STEPS makes apply print it).
count_calls() { # COMMAND
	BPF_PROVISION_TRACE_STEPS=1 "$BPF_PROVISION" --bpffs "$M" "$1" "$C" >/dev/null 2>"$T/err" ||
		fatal "$1 failed: $(cat "$T/err")"
	sed -n 's/^bpf-provision: \([0-9]*\) steps$/\1/p' "$T/err" | tail -n 1
}

case_apply_ok() {
	reset
	bp 2 apply --dry-run "$C"
	no_match '^Apply '
	bp 2 -o json apply --dry-run "$C"
	cp "$T/out" "$T/dry.json"
	doc_check "$T/dry.json" true - -
	bp 0 apply "$C"
	has_line 'Plan: 9 to create, 0 to replace, 0 to update, 0 to delete, 0 to adopt, 0 to release, 0 unchanged.'
	has_line 'Apply complete: 9 created, 0 replaced, 0 updated, 0 deleted, 0 adopted, 0 released.'
	[ "$(tail -n 1 "$T/out")" = 'Apply complete: 9 created, 0 replaced, 0 updated, 0 deleted, 0 adopted, 0 released.' ] ||
		bad "the outcome is not the last line: $(cat "$T/out")"
	# A run that did everything lists no change as not done.
	no_match '^\(failed\|rolled back\|not tried\) '
	[ "$(grep -c '^+ ' "$T/out")" = 9 ] || bad "not 9 create lines: $(cat "$T/out")"
	# Nothing to do: still an outcome, of nothing.
	bp 0 apply "$C"
	has_line 'Apply complete: 0 created, 0 replaced, 0 updated, 0 deleted, 0 adopted, 0 released.'
	[ "$(wc -l <"$T/out")" = 2 ] || bad "a no-op apply printed more than plan and outcome: $(cat "$T/out")"
	# A change of each kind the examples can make: replace, update, delete.
	reset
	bp 0 -o json apply "$C"
	cp "$T/out" "$T/apply.json"
	doc_check "$T/apply.json" false complete done
	"$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); assert len(d["changes"]) == 9 and d["outcome"] == {"result": "complete"}, d' \
		"$T/apply.json" || bad "the outcome of a complete apply: $(cat "$T/apply.json")"
	chmod 0644 "$M/ns1/globals/dummy_hash"
	bpftool -n map create "$M/ns1/stray" type array key 4 value 4 entries 1 name stray ||
		fatal "cannot pin a stray map"
	bp 0 apply "$C"
	has_line "- map ns1/stray delete (undeclared in owned directory 'ns1')"
	has_line 'Apply complete: 0 created, 0 replaced, 1 updated, 1 deleted, 0 adopted, 0 released.'
}

# An apply (or destroy) of the examples made to fail at call N, in text and
# in JSON: what both say, and the tree as before.
failed_run() { # COMMAND N ERRNO-TEXT
	_cmd=$1 _n=$2 _why=$3
	tree_listing "$M" >"$T/before"
	BPF_PROVISION_FAIL_AT=$_n bp 1 "$_cmd" "$C"
	cp "$T/out" "$T/failed.txt"
	tree_listing "$M" >"$T/after"
	cmp -s "$T/before" "$T/after" || bad "$_cmd failing at $_n changed the tree"
	BPF_PROVISION_FAIL_AT=$_n bp 1 -o json "$_cmd" "$C"
	cp "$T/out" "$T/failed.json"
	doc_check "$T/failed.json" false failed -
	_Cmd=$(echo "$_cmd" | sed 's/^./\U&/')
	"$PY" - "$T/failed.txt" "$T/failed.json" "$_Cmd" "$_why" <<'PY' || bad "$_cmd failing at $_n: text and JSON"
import json, re, sys
text = open(sys.argv[1]).read().splitlines()
doc = json.load(open(sys.argv[2]))
cmd, why = sys.argv[3], sys.argv[4]
# The last line says how it ended, with the reason, and nothing else does.
last = text[-1]
m = re.fullmatch(re.escape(cmd) + r" failed, rolled back: (.+); nothing changed\.", last)
assert m, "last line: %r" % last
assert why in m.group(1), (why, last)
assert not [l for l in text if "complete:" in l], text
o = doc["outcome"]
assert o["rolled_back"] is True and o["not_undone"] == 0, o
assert why in o["error"]["message"], o
# The reason names the file of the error, as the JSON does.
if "file" in o["error"]:
    assert m.group(1).startswith(o["error"]["file"] + ": "), (m.group(1), o)
# One line per change that is not done, "STATE KIND PATH ACTION", as the
# JSON has it: after a failure none is done.
names = {"failed": "failed", "rolled back": "rolled_back", "not tried": "not_tried"}
got = {}
for l in text:
    s = re.fullmatch(r"(failed|rolled back|not tried) +(\S+) +(\S+) +(\S+)", l)
    if s:
        got[s.group(3)] = (names[s.group(1)], s.group(2), s.group(4))
want = {c["path"]: (c["status"], c["kind"], c["action"]) for c in doc["changes"]}
assert got == want, (got, want)
assert "done" not in [c["status"] for c in doc["changes"]], doc["changes"]
assert sum(c["status"] == "failed" for c in doc["changes"]) <= 1, doc["changes"]
print(" ".join(sorted(set(c["status"] for c in doc["changes"]))))
PY
}

case_apply_failed() {
	reset
	K=$(count_calls apply)
	[ -n "$K" ] && [ "$K" -gt 3 ] || fatal "cannot count the calls of an apply ($K)"
	reset
	# The first call makes no change's object: every change not tried.
	failed_run apply 1 'Input/output error' >"$T/statuses" &&
		[ "$(cat "$T/statuses")" = not_tried ] || bad "failing at 1: statuses $(cat "$T/statuses")"
	failed_run apply $((K / 2)) 'Input/output error' >"$T/statuses"
	grep -q failed "$T/statuses" && grep -q rolled_back "$T/statuses" ||
		bad "failing at $((K / 2)) of $K: statuses $(cat "$T/statuses")"
	BPF_PROVISION_FAIL_ERRNO=28 failed_run apply $((K - 1)) 'No space left on device' >"$T/statuses"
	grep -q rolled_back "$T/statuses" || bad "failing at $((K - 1)) of $K: statuses $(cat "$T/statuses")"
	# The plan lines are still there, and still counted.
	BPF_PROVISION_FAIL_AT=$((K / 2)) bp 1 apply "$C"
	has_line 'Plan: 9 to create, 0 to replace, 0 to update, 0 to delete, 0 to adopt, 0 to release, 0 unchanged.'
	[ "$(grep -c '^[-+~*<>] ' "$T/out")" = 9 ] || bad "not 9 change lines: $(cat "$T/out")"
	# The errors themselves are on stderr, as they were.
	grep -q 'error: apply failed; every change was rolled back' "$T/err" ||
		bad "stderr: $(cat "$T/err")"
}

case_destroy() {
	reset
	bp 0 apply "$C"
	K=$(count_calls destroy)
	[ -n "$K" ] && [ "$K" -gt 2 ] || fatal "cannot count the calls of a destroy ($K)"
	bp 0 apply "$C"
	bp 2 destroy --dry-run "$C"
	no_match '^Destroy '
	failed_run destroy $((K / 2)) 'Input/output error' >"$T/statuses"
	grep -q failed "$T/statuses" || bad "destroy failing at $((K / 2)) of $K: statuses $(cat "$T/statuses")"
	bp 0 destroy "$C"
	has_line 'Destroy complete: 9 deleted, 0 released.'
	[ "$(tail -n 1 "$T/out")" = 'Destroy complete: 9 deleted, 0 released.' ] ||
		bad "the outcome is not the last line: $(cat "$T/out")"
	bp 0 apply "$C"
	bp 0 -o json destroy "$C"
	cp "$T/out" "$T/destroy.json"
	doc_check "$T/destroy.json" false complete done
}

case_quiet() {
	reset
	BPF_PROVISION_FAIL_AT=5 bp 1 -q apply "$C"
	[ ! -s "$T/out" ] || bad "-q: a failed apply printed: $(cat "$T/out")"
	grep -q 'error: apply failed' "$T/err" || bad "-q hid the error: $(cat "$T/err")"
	# Under -o json the errors are also the error document on stdout, and
	# that is all: no plan, no outcome.
	BPF_PROVISION_FAIL_AT=5 bp 1 -q -o json apply "$C"
	grep -q 'error: apply failed' "$T/err" || bad "-q -o json hid the error: $(cat "$T/err")"
	"$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); assert set(d) == {"error", "errors"}, d' \
		"$T/out" || bad "-q -o json: a failed apply printed more than its errors: $(cat "$T/out")"
	bp 0 -q apply "$C"
	[ ! -s "$T/out" ] || bad "-q: an apply printed: $(cat "$T/out")"
	bp 0 -q -o json destroy "$C"
	[ ! -s "$T/out" ] || bad "-q: a destroy printed: $(cat "$T/out")"
}

# stdout of the last run without its SGR sequences is FILE, byte for byte.
same_uncoloured() { # FILE WHAT
	sed "s/$ESC\[[0-9;]*m//g" "$T/out" | cmp -s - "$1" ||
		bad "$2: coloured text differs from the uncoloured: $(sed "s/$ESC\[[0-9;]*m//g" "$T/out" | diff "$1" -)"
}

has_esc() { grep -Fq -- "$ESC[$1" "$T/out" || bad "$2: no ESC[$1 in: $(cat -v "$T/out")"; }
no_esc() { ! grep -Fq -- "$ESC" "$T/out" || bad "$1: escape sequences: $(cat -v "$T/out")"; }

case_color() {
	reset
	bp 2 --color=never plan "$C"
	cp "$T/out" "$T/plain"
	no_esc "--color=never"
	bp 2 --color=always plan "$C"
	has_esc '32m+' "--color=always, a create"
	has_esc '32mcreate' "--color=always, a create's action"
	same_uncoloured "$T/plain" "--color=always plan"
	# Piped, auto is none, NO_COLOR or not; always wins over NO_COLOR.
	bp 2 plan "$C"
	no_esc "auto, piped"
	NO_COLOR=1 bp 2 --color=auto plan "$C"
	no_esc "NO_COLOR=1, auto"
	NO_COLOR=1 bp 2 --color=always plan "$C"
	has_esc '32m+' "NO_COLOR=1 with --color=always"
	bp 2 --color=always -o json plan "$C"
	cp "$T/out" "$T/color.json"
	doc_check "$T/color.json" true - -
	# States and outcomes: status, a failed apply, a destroy's deletes.
	bp 0 --color=always status "$C"
	has_esc '31mmissing' "status, a missing pin"
	cp "$T/out" "$T/colored"
	bp 0 --color=never status "$C"
	cp "$T/out" "$T/plain"
	cp "$T/colored" "$T/out"
	same_uncoloured "$T/plain" "status"
	BPF_PROVISION_FAIL_AT=20 bp 1 --color=never apply "$C"
	cp "$T/out" "$T/plain"
	BPF_PROVISION_FAIL_AT=20 bp 1 --color=always apply "$C"
	has_esc '31mApply failed, rolled back:' "a failed apply"
	has_esc '33mrolled back' "a rolled back change"
	same_uncoloured "$T/plain" "failed apply"
	bp 0 --color=always apply "$C"
	has_esc '32mApply complete:' "a complete apply"
	bp 0 --color=always status "$C"
	has_esc '32min sync' "status, in sync"
	chmod 0644 "$M/ns1/globals/dummy_hash"
	bp 0 --color=always status "$C"
	has_esc '33mupdate: mode 0644 -> 0600' "status, drift"
	bp 2 --color=always destroy --dry-run "$C"
	has_esc '31m-' "a delete"
	has_esc '31mdelete' "a delete's action"
	bp 2 --color=always plan "$C"
	has_esc '33m*' "an update"
}

# Runs bpf-provision on a terminal (script(1)), its output in $T/out
# without the terminal's carriage returns.
on_tty() { # ARGS...
	script -qec "$(printf '%s ' "$BPF_PROVISION" --bpffs "$M" "$@")" /dev/null </dev/null |
		tr -d '\r' >"$T/out"
}

case_color_tty() {
	command -v script >/dev/null 2>&1 || case_skip "no script (util-linux)"
	# Whatever terminal the tests run under, this one can show colours.
	TERM=xterm
	export TERM
	reset
	on_tty plan "$C"
	has_esc '32m+' "auto on a terminal"
	NO_COLOR=1 on_tty plan "$C"
	no_esc "NO_COLOR=1 on a terminal"
	NO_COLOR= on_tty plan "$C"
	has_esc '32m+' "NO_COLOR empty on a terminal"
	TERM=dumb on_tty plan "$C"
	no_esc "TERM=dumb on a terminal"
	on_tty --color=never plan "$C"
	no_esc "--color=never on a terminal"
	on_tty -o json plan "$C"
	no_esc "-o json on a terminal"
}

case_status() {
	reset
	mkdir -p "$T/long"
	cat >"$T/long/long.yaml" <<'YAML' || fatal "cannot write long.yaml"
version: 1
name: a-manifest-with-a-long-name
maps:
  - path: out/a_rather_long_directory_name_for_the_columns/and_a_long_map_name_as_well
    type: array
    key_size: 4
    value_size: 4
    max_entries: 1
YAML
	bp 0 apply "$T/long/long.yaml"
	bpftool -n map create "$M/foreign" type hash key 4 value 4 entries 1 name foreign ||
		fatal "cannot pin a foreign map"
	bp 0 status "$T/long/long.yaml" "$C"
	cp "$T/out" "$T/status.txt"
	bp 0 -o json status "$T/long/long.yaml" "$C"
	cp "$T/out" "$T/status.json"
	"$PY" - "$T/status.txt" "$T/status.json" <<'PY' || bad "status: $(cat "$T/status.txt" "$T/status.json")"
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
head = lines[0]
cols = [m.start() for m in re.finditer(r"\S+", head)]
assert head.split() == ["PATH", "KIND", "TYPE", "ID", "MANAGED-BY", "STATE"], head
rows = [l for l in lines[1:] if not l.startswith("Retired manifest ")]
assert len(rows) >= 12, rows
for l in rows:
    # Every column starts where its header does: the text before it ends
    # in a blank and the column's text does not start with one.
    for c in cols[1:]:
        assert l[c - 1] == " " and l[c] != " ", (c, l)
    assert len(l.split()) >= 6, l
    # No column ran into the next: the first five are one word each.
    f = re.match(r"(\S+) +(\S+) +(\S+) +(\S+) +(\S+) +(\S.*)$", l)
    assert f and [l.index(f.group(i), p) for i, p in zip(range(1, 6), [0] + cols[1:5])] == cols[:5], (l, cols)
doc = json.load(open(sys.argv[2]))
assert doc["format_version"] == 2, doc
pins = {p["path"]: p for p in doc["pins"]}
for p in doc["pins"]:
    assert set(p) == {"path", "kind", "type", "id", "managed_by", "in_sync", "state"}, p
    for k in ("type", "managed_by", "state"):
        assert p[k] is None or (isinstance(p[k], str) and p[k] not in ("-", "", "unmanaged")), p
    assert p["id"] is None or (isinstance(p["id"], int) and p["id"] > 0), p
    assert isinstance(p["in_sync"], bool), p
long = pins["out/a_rather_long_directory_name_for_the_columns/and_a_long_map_name_as_well"]
assert long["managed_by"] == "a-manifest-with-a-long-name" and long["state"] == "in sync", long
assert long["in_sync"] is True and long["type"] == "array" and long["id"] > 0, long
f = pins["foreign"]
assert f["managed_by"] is None and f["state"] is None and f["in_sync"] is False, f
assert f["type"] == "hash" and f["id"] > 0, f
k = pins["maps.debug"]
assert k["managed_by"] is None and k["type"] is None and k["id"] is None, k
m = pins["ns1/test1"]
assert m["state"] == "missing" and m["id"] is None and m["managed_by"] == "gobpf-site", m
assert m["type"] == "array" and m["in_sync"] is False, m
PY
	# The text keeps its placeholders.
	grep -q '^foreign  *map  *hash  *[0-9][0-9]*  *unmanaged  *-$' "$T/status.txt" ||
		bad "the foreign row: $(grep '^foreign ' "$T/status.txt")"
	grep -q '^ns1/test1  *map  *array  *-  *gobpf-site  *missing$' "$T/status.txt" ||
		bad "a missing row: $(grep '^ns1/test1 ' "$T/status.txt")"
}

run_cases output.sh ${OUTPUT_CASES:-apply_ok apply_failed destroy quiet color color_tty status}
