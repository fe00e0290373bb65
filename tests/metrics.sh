#!/bin/sh
# SPDX-License-Identifier: MIT
# --metrics-file on every outcome (issue 19; bpf-provision(1), METRICS).  On
# a private bpffs mount (never /sys/fs/bpf) with the example manifests:
# plan, apply and destroy write the textfile whether they succeed, find
# drift, or fail on an invalid manifest, a root that is no bpffs, a lock
# held by another run, a refused change, a failed apply or a stale saved
# plan - each with bpf_provision_last_run_success and its reason label, the
# bpffs label on every series, build_info and the run's duration; the plan
# series only where there was a plan.  A file that cannot be written is
# exit 1.  Two roots' files hold no series in common.  Every kind of file
# passes `promtool check metrics` (Debian's prometheus package).  Needs root.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST
find_python
mount_private_bpffs metrics
rm -f "$M/probe"
mkdir -p "$T/run"
pin_examples "$T/configs"
C=$T/configs
unset BPF_PROVISION_FAIL_AT BPF_PROVISION_FAIL_ERRNO BPF_PROVISION_TRACE_STEPS BPF_PROVISION_PAUSE_AT
VERSION=$("$BPF_PROVISION" --version | sed 's/.* //')
ROOT=$(realpath "$M")
PROMTOOL=$(command -v promtool)
N=0

run() { # STATUS ARGS...: bpf-provision ARGS (with --metrics-file $T/m.prom) exits STATUS
	_want=$1
	shift
	rm -f "$T/m.prom"
	"$BPF_PROVISION" --metrics-file "$T/m.prom" "$@" >"$T/out" 2>"$T/err"
	_got=$?
	[ "$_got" = "$_want" ] || { cat "$T/out" "$T/err" >&2; fail "$*: exit $_got, want $_want"; }
}

# metrics ROOT DRY_RUN REASON [SERIES=VALUE...]: the file of the last run is
# the textfile of that run: every series labelled bpffs=ROOT, build_info of
# this version, success 1 exactly when REASON is ok, a duration and a
# timestamp of now; the plan series present with SERIES=VALUE as given, or
# absent when none is given ("noplan"); valid by promtool where installed.
metrics() {
	[ -s "$T/m.prom" ] || fail "no metrics file after: $(cat "$T/err")"
	"$PY" - "$T/m.prom" "$VERSION" "$@" <<'PY' || fail "metrics: $(cat "$T/m.prom")"
import re, sys, time
path, version, root, dry_run, reason = sys.argv[1:6]
want = dict(a.rsplit("=", 1) for a in sys.argv[6:] if a != "noplan")
vals, families = {}, set()
for line in open(path).read().splitlines():
    if line.startswith("#"):
        m = re.match(r"^# (HELP|TYPE) (bpf_provision_\w+) ", line)
        assert m, line
        families.add(m.group(2))
        continue
    m = re.match(r'^(\w+)\{bpffs="((?:[^"\\]|\\.)*)"((?:,\w+="[^"]*")*)\} (\S+)$', line)
    assert m, "series without the bpffs label first: " + line
    assert m.group(2) == root, "bpffs label %r, want %r" % (m.group(2), root)
    key = m.group(1) + "{" + m.group(3).lstrip(",") + "}"
    assert key not in vals, "series twice: " + line
    vals[key] = float(m.group(4))
ok = reason == "ok"
assert vals.pop('bpf_provision_build_info{version="%s"}' % version) == 1, vals
assert vals.pop('bpf_provision_last_run_success{dry_run="%s",reason="%s"}' % (dry_run, reason)) == ok, vals
assert abs(vals.pop("bpf_provision_last_run_timestamp_seconds{}") - time.time()) < 60, vals
assert 0 <= vals.pop("bpf_provision_last_run_duration_seconds{}") < 60, vals
if "noplan" in sys.argv[6:]:
    assert not vals, "plan series of a run without a plan: %s" % vals
    sys.exit(0)
for k, v in want.items():
    assert vals.get(k) == float(v), "%s is %s, want %s" % (k, vals.get(k), v)
actions = {"create", "replace", "update", "delete", "adopt", "release", "unchanged"}
assert {k for k in vals if k.startswith("bpf_provision_changes")} == \
    {'bpf_provision_changes{action="%s"}' % a for a in actions}, vals
assert "bpf_provision_refused{}" in vals and "bpf_provision_drift{}" in vals, vals
assert len(vals) == len(actions) + 2, vals
PY
	cp "$T/m.prom" "$T/kind.$N.prom"
	N=$((N + 1))
}

# 1. Success: apply, a no-op plan, drift found by plan (still a success).
run 0 --bpffs "$M" apply "$C"
metrics "$ROOT" false ok 'bpf_provision_changes{action="create"}=9' 'bpf_provision_drift{}=0'
run 0 --bpffs "$M" plan "$C"
metrics "$ROOT" true ok 'bpf_provision_changes{action="unchanged"}=9' 'bpf_provision_drift{}=0'
rm "$M/ns1/test1"
run 2 --bpffs "$M" plan "$C"
metrics "$ROOT" true ok 'bpf_provision_changes{action="create"}=1' 'bpf_provision_drift{}=1'

# 2. An invalid manifest: the root named by --bpffs, else unknown ("").
printf 'version: 1\nname: bad\nbogus: 1\n' >"$T/bad.yaml"
run 65 --bpffs "$M" apply "$T/bad.yaml"
metrics "$ROOT" false invalid noplan
grep -q "bad.yaml:3:1: error: unknown key 'bogus'" "$T/err" || fail "invalid: $(cat "$T/err")"
run 65 plan "$T/bad.yaml"
metrics "" true invalid noplan

# 3. A root that is no bpffs.
mkdir -p "$T/plain"
run 1 --bpffs "$T/plain" apply "$C"
metrics "$(realpath "$T/plain")" false bpffs noplan

# 4. The lock held by another run.
hold_lock
run 1 --bpffs "$M" --lock-timeout 0.2 destroy "$C"
metrics "$ROOT" false lock noplan
grep -q 'another bpf-provision run holds the lock' "$T/err" || fail "lock: $(cat "$T/err")"
wait $HOLDER

# 5. A failed apply, rolled back: the plan, and drift.
BPF_PROVISION_FAIL_AT=2 run 1 --bpffs "$M" apply "$C"
metrics "$ROOT" false apply_failed 'bpf_provision_changes{action="create"}=1' 'bpf_provision_drift{}=1'

# 6. Refused: an incompatible map where on_incompatible is fail, and a saved
# plan that no longer matches the tree.
bpftool map create "$M/ns1/test1" type array key 4 value 8 entries 1 name other ||
	fail "bpftool map create"
run 1 --bpffs "$M" apply "$C"
metrics "$ROOT" false refused 'bpf_provision_refused{}=1' 'bpf_provision_drift{}=1'
rm "$M/ns1/test1"
run 2 --bpffs "$M" plan --out "$T/saved.json" "$C"
"$BPF_PROVISION" --bpffs "$M" apply "$C" >/dev/null 2>&1 || fail "apply before the stale plan"
run 1 apply --plan "$T/saved.json"
metrics "$ROOT" false refused
grep -q 'saved.json' "$T/err" || fail "stale plan: $(cat "$T/err")"

# 7. destroy writes them too, and its dry run.
run 2 --bpffs "$M" destroy --dry-run "$C"
metrics "$ROOT" true ok 'bpf_provision_changes{action="delete"}=9' 'bpf_provision_drift{}=1'

# 7b. A command line refused once its options were read: nothing ran, and
# the textfile says so (a boot unit's alert on it).
run 1 --bpffs "$M" plan --keep-going --out "$T/never.json" "$C"
metrics "$ROOT" true usage noplan
grep -q '^bpf-provision: error: --keep-going does not go with --out or --plan$' "$T/err" ||
	fail "usage: $(cat "$T/err")"
run 1 --bpffs "$M" apply --prune-retired --target ns1 "$C"
metrics "$ROOT" false usage noplan

# 8. A metrics file that cannot be written fails the run (exit 1, the error
# said); a run that failed already keeps its own exit status.
"$BPF_PROVISION" --bpffs "$M" --metrics-file "$T/no/such/dir/m.prom" plan "$C" >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 1 ] || fail "an unwritable metrics file: exit $rc, want 1"
grep -q "m.prom: error: cannot write the metrics: No such file or directory" "$T/err" ||
	fail "unwritable metrics: $(cat "$T/err")"
grep -q '^Plan: ' "$T/out" || fail "the plan was not printed before the metrics failed"
"$BPF_PROVISION" -o json --bpffs "$M" --metrics-file "$T/no/such/dir/m.prom" plan "$C" >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 1 ] || fail "an unwritable metrics file under -o json: exit $rc, want 1"
"$PY" -c 'import json, sys; assert "changes" in json.load(open(sys.argv[1]))' "$T/out" ||
	fail "-o json plan with an unwritable metrics file: not the plan document alone: $(cat "$T/out")"
"$BPF_PROVISION" --bpffs "$M" --metrics-file "$T/no/such/dir/m.prom" plan "$T/bad.yaml" \
	>"$T/out" 2>"$T/err"
rc=$?
[ $rc = 65 ] || fail "an invalid manifest and an unwritable metrics file: exit $rc, want 65"
ls "$T" | grep -q '^m\.prom\.' && fail "a temporary metrics file was left"

# 9. Two roots, two files: no series in common, so that one collector can
# read both.
mount_second_bpffs metrics2
"$BPF_PROVISION" --bpffs "$M2" --metrics-file "$T/two.prom" apply "$C" >/dev/null 2>&1 ||
	fail "apply on the second root"
"$BPF_PROVISION" --bpffs "$M" --metrics-file "$T/one.prom" apply "$C" >/dev/null 2>&1 ||
	fail "apply on the first root"
common=$(grep -hv '^#' "$T/one.prom" "$T/two.prom" | sed 's/ [^ ]*$//' | sort | uniq -d)
[ -z "$common" ] || fail "series of both roots: $common"

# 10. promtool, on every kind of file written above.
if [ -n "$PROMTOOL" ]; then
	for f in "$T"/kind.*.prom "$T/one.prom"; do
		"$PROMTOOL" check metrics <"$f" >"$T/lint" 2>&1 ||
			fail "promtool check metrics $(basename "$f"): $(cat "$T/lint")"
	done
	echo "metrics.sh: promtool check metrics: $((N + 1)) files clean"
else
	skip "no promtool (apt-get install prometheus): the metrics files were not linted"
fi
echo "metrics.sh: passed ($N runs' files checked)"
