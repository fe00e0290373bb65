#!/bin/sh
# SPDX-License-Identifier: MIT
# Every JSON output has its schema in schema/ (issue 19; bpf-provision(1),
# OUTPUT) and is valid against it: -o json validate, inspect, status, plan,
# apply, destroy, snapshot and saved plans on real inputs (the example and
# test corpus manifests, good and bad; the objects of configs/bpf and
# tests/bpf; a private bpffs with managed, foreign, missing and retired
# pins), and the error document of every command that fails (invalid
# manifests and objects, a root that is no bpffs, an unknown retired
# manifest).  Standard output is exactly one JSON document each time.  The
# error document plan.schema.json embeds is error.schema.json's.  Needs
# root and python3-jsonschema.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST
find_python
mount_private_bpffs schemas
rm -f "$M/probe"
mkdir -p "$T/run" "$T/docs"
pin_examples "$T/configs"
C=$T/configs
unset BPF_PROVISION_FAIL_AT BPF_PROVISION_FAIL_ERRNO BPF_PROVISION_TRACE_STEPS BPF_PROVISION_PAUSE_AT
N=0

# doc KIND STATUS ARGS...: bpf-provision -o json ARGS exits STATUS; its
# stdout is kept as a document to validate against schema/KIND.schema.json.
doc() {
	_kind=$1 _want=$2
	shift 2
	N=$((N + 1))
	"$BPF_PROVISION" -o json "$@" >"$T/docs/$N.$_kind.json" 2>"$T/err"
	_got=$?
	[ "$_got" = "$_want" ] || {
		cat "$T/docs/$N.$_kind.json" "$T/err" >&2
		fail "-o json $*: exit $_got, want $_want"
	}
	echo "$*" >"$T/docs/$N.$_kind.args"
}

# validate: the examples with their objects, the corpus without.
doc validate 0 validate "$C"/*.yaml
doc validate 0 validate "$C/gobpf-site.yaml"
doc validate 0 validate --no-objects "$top_srcdir"/tests/manifests/good/*.yaml
for f in "$top_srcdir"/tests/manifests/bad/*.yaml; do
	doc error 65 validate --no-objects "$f"
done
doc error 65 validate "$T/no-such.yaml"

# inspect: every object at once, one alone, and objects that cannot be read.
set --
for o in "$top_builddir"/configs/bpf/*.o "$top_builddir"/tests/bpf/*.o; do
	[ -e "$o" ] && set -- "$@" "$o"
done
[ $# -ge 4 ] || fail "no objects to inspect in configs/bpf and tests/bpf"
doc inspect 0 inspect "$@"
echo "$#" >"$T/docs/$N.count"
for o; do
	doc inspect 0 inspect "$o"
	echo 1 >"$T/docs/$N.count"
done
printf 'not an ELF object\n' >"$T/text.o"
doc error 65 inspect "$T/text.o"
doc error 65 inspect "$1" "$T/missing.o"

# plan, apply, status, snapshot, destroy on the private bpffs: empty, then
# applied, then with a foreign pin, a missing one and a retired manifest.
doc status 0 --bpffs "$M" status
doc status 0 --bpffs "$M" status "$C"
doc plan 2 --bpffs "$M" plan --out "$T/saved.json" "$C"
doc plan 0 --bpffs "$M" apply "$C"
bpftool map create "$M/foreign" type hash key 4 value 4 entries 8 name foreign ||
	fail "bpftool map create"
rm "$M/ns1/test1"
doc status 0 --bpffs "$M" status "$C"
doc status 0 --bpffs "$M" status "$C/gobpf-site.yaml"
doc status 0 --bpffs "$M" status
doc plan 0 --bpffs "$M" plan "$C/btf-site.yaml"
doc plan 2 --bpffs "$M" destroy --dry-run "$C"
"$BPF_PROVISION" --bpffs "$M" snapshot >"$T/snapshot.json" || fail "snapshot"
doc plan 0 --bpffs "$M" destroy "$C"

# Errors of the commands that have a result document of their own.
mkdir -p "$T/plain"
doc error 1 --bpffs "$T/plain" status "$C"
doc error 1 --bpffs "$T/plain" plan "$C"
doc error 65 --bpffs "$M" apply "$top_srcdir/tests/manifests/bad/$(ls "$top_srcdir/tests/manifests/bad" | grep -m1 '\.yaml$')"
doc error 1 --bpffs "$M" destroy --name no-such-manifest
doc error 65 --bpffs "$M" apply --plan "$T/text.o"

"$PY" - "$top_srcdir/schema" "$T/docs" "$T/snapshot.json" "$T/saved.json" <<'PY' || fail "JSON documents: see above"
import glob, json, os, sys
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
sdir, ddir, snapshot, saved = sys.argv[1:5]
schemas = {}
for f in glob.glob(os.path.join(sdir, "*.schema.json")):
    s = json.load(open(f))
    Draft202012Validator.check_schema(s)
    schemas[os.path.basename(f)[:-len(".schema.json")]] = Draft202012Validator(s)
need = {"validate", "inspect", "status", "plan", "error", "manifest", "snapshot", "saved-plan"}
assert need <= set(schemas), "schemas missing: %s" % (need - set(schemas))
problems, seen = [], {}
def check(kind, path, what):
    text = open(path).read()
    try:
        doc = json.loads(text)  # exactly one document: a second is "Extra data"
    except ValueError as e:
        problems.append("%s (%s): not one JSON document: %s" % (what, kind, e))
        return None
    err = best_match(schemas[kind].iter_errors(doc))
    if err:
        problems.append("%s: not valid by %s.schema.json: %s at %s"
                        % (what, kind, err.message, list(err.absolute_path)))
    seen[kind] = seen.get(kind, 0) + 1
    return doc
for f in sorted(glob.glob(os.path.join(ddir, "*.json")), key=lambda p: int(os.path.basename(p).split(".")[0])):
    n, kind = os.path.basename(f).split(".")[:2]
    args = open(os.path.join(ddir, "%s.%s.args" % (n, kind))).read().strip()
    doc = check(kind, f, "'bpf-provision -o json %s'" % args)
    if doc is None:
        continue
    # Error documents of plan, apply and destroy are plan documents too.
    if kind == "error" and set(args.split()) & {"plan", "apply", "destroy"}:
        err = best_match(schemas["plan"].iter_errors(doc))
        if err:
            problems.append("'%s': an error document plan.schema.json refuses: %s" % (args, err.message))
    # Nothing is said with a placeholder: null is the absence of a value.
    if kind == "status":
        for row in doc["pins"]:
            for k, placeholder in (("type", "-"), ("id", 0), ("managed_by", "unmanaged"), ("state", "-")):
                if row[k] == placeholder:
                    problems.append("'%s': %s of %s is the placeholder %r, not null" % (args, k, row["path"], placeholder))
    count = os.path.join(ddir, n + ".count")
    if os.path.exists(count) and len(doc["objects"]) != int(open(count).read()):
        problems.append("'%s': %d objects, want %s" % (args, len(doc["objects"]), open(count).read().strip()))
    if kind == "error" and "bad/" in args and "line" not in doc["error"]:
        problems.append("'%s': a manifest error without its line: %s" % (args, doc["error"]))
check("snapshot", snapshot, "bpf-provision snapshot")
# Saved plans: tests/savedplan.sh (their schema refers to plan.schema.json).
# The error document plan.schema.json embeds is error.schema.json's, but for
# the words that describe it.
def bare(x):
    if isinstance(x, dict):
        return {k: bare(v) for k, v in x.items() if k not in ("description", "title")}
    return [bare(v) for v in x] if isinstance(x, list) else x
plan, error = schemas["plan"].schema["$defs"], schemas["error"].schema
if bare(plan["error"]) != bare(error["$defs"]["error"]):
    problems.append("plan.schema.json's error differs from error.schema.json's")
if bare(plan["errorDocument"]) != bare({k: v for k, v in error.items() if k in plan["errorDocument"]}):
    problems.append("plan.schema.json's errorDocument differs from error.schema.json")
# What the schemas must refuse: they check something.
wrong = [("inspect", {"format_version": 2, "objects": []}),
         ("inspect", {"path": "a.o", "maps": [], "programs": []}),
         ("status", {"format_version": 2, "bpffs": "/x", "pins": [{"path": "a"}], "retired": []}),
         ("status", {"format_version": 2, "bpffs": "/x", "pins": [{"path": "a", "kind": "map", "type": None, "id": 0, "managed_by": None, "in_sync": False, "state": None}], "retired": []}),
         ("validate", {"format_version": 1, "valid": False, "manifests": []}),
         ("error", {"error": {"message": "x", "line": 3}, "errors": [{"message": "x"}]})]
for kind, doc in wrong:
    if schemas[kind].is_valid(doc):
        problems.append("%s.schema.json accepts %s" % (kind, doc))
for p in problems:
    print("FAIL:", p, file=sys.stderr)
print("schemas.sh: documents checked: " + ", ".join("%d %s" % (v, k) for k, v in sorted(seen.items())))
sys.exit(1 if problems else 0)
PY
echo "schemas.sh: passed"
