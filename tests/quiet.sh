#!/bin/sh
# SPDX-License-Identifier: MIT
# -q (issue 19; bpf-provision(1), OPTIONS): nothing but errors.  On a private
# bpffs mount (never /sys/fs/bpf) with the example manifests: plan, apply
# --dry-run, destroy --dry-run and status under -q print nothing on stdout
# or stderr, in text and -o json, and exit as they would without it (2 for
# drift, 0 in sync); a warning is not printed; an error still is (an invalid
# manifest: exit 65, its message on stderr).  Needs root.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST
mount_private_bpffs quiet
rm -f "$M/probe"
mkdir -p "$T/run"
pin_examples "$T/configs"
C=$T/configs

quiet() { # STATUS ARGS...: bpf-provision -q ARGS exits STATUS and prints nothing
	_want=$1
	shift
	"$BPF_PROVISION" --bpffs "$M" -q "$@" >"$T/out" 2>"$T/err"
	_got=$?
	[ "$_got" = "$_want" ] || { cat "$T/out" "$T/err" >&2; fail "-q $*: exit $_got, want $_want"; }
	[ ! -s "$T/out" ] && [ ! -s "$T/err" ] || {
		cat "$T/out" "$T/err" >&2
		fail "-q $*: printed something"
	}
}

for o in text json; do
	quiet 2 -o $o plan "$C"
	quiet 2 -o $o apply --dry-run "$C"
	quiet 0 -o $o status "$C"
	# A target that names nothing is a warning: not printed under -q.
	quiet 0 -o $o plan --target no/such "$C"
done
quiet 0 apply "$C"
for o in text json; do
	quiet 0 -o $o plan "$C"
	quiet 2 -o $o destroy --dry-run "$C"
done
# Without -q the same runs do print: the checks above can fail.
"$BPF_PROVISION" --bpffs "$M" destroy --dry-run "$C" >"$T/out" 2>&1
grep -q '^Plan: ' "$T/out" || fail "destroy --dry-run without -q prints no plan"
printf 'version: 1\nname: bad\nbogus: 1\n' >"$T/bad.yaml"
"$BPF_PROVISION" --bpffs "$M" -q plan "$T/bad.yaml" >"$T/out" 2>"$T/err"
[ $? = 65 ] || fail "-q plan of an invalid manifest: exit not 65"
grep -q "bad.yaml:3:1: error: unknown key 'bogus'" "$T/err" || fail "-q hid the error: $(cat "$T/err")"
echo "quiet.sh: passed"
