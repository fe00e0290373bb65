#!/bin/sh
# Fuzzing regressions (tests/fuzz/fuzz.am): the normal build's bpf-provision
# on every input the fuzzers ever crashed on (tests/fuzz/regressions/) and on
# the seed corpora.  Each must be accepted or rejected as invalid input - exit
# 0 or 65 - never crash, abort, hang or exit otherwise.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST
F="$top_srcdir/tests/fuzz"

[ -x "$BPF_PROVISION" ] || fail "no $BPF_PROVISION"
# A hang is a failure too, where coreutils' timeout is there to see it.
TIMEOUT=
command -v timeout >/dev/null 2>&1 && TIMEOUT="timeout 60"

n=0
check() { # FILE COMMAND...
	file=$1
	shift
	# shellcheck disable=SC2086
	$TIMEOUT "$@" >"$T/out" 2>"$T/err" </dev/null
	got=$?
	case $got in
	0 | 65) ;;
	*)
		cat "$T/err" >&2
		fail "'$*' exited $got, want 0 or 65 ($file)"
		;;
	esac
	n=$((n + 1))
}

for dir in "$F/regressions/manifest" "$F/corpus/manifest"; do
	[ -d "$dir" ] || continue
	for f in "$dir"/*; do
		[ -f "$f" ] || continue
		case ${f##*/} in README* | .*) continue ;; esac
		check "$f" "$BPF_PROVISION" validate --no-objects "$f"
	done
done
for dir in "$F/regressions/objfile" "$F/corpus/objfile"; do
	[ -d "$dir" ] || continue
	for f in "$dir"/*; do
		[ -f "$f" ] || continue
		case ${f##*/} in README* | .*) continue ;; esac
		check "$f" "$BPF_PROVISION" inspect "$f"
	done
done
[ "$n" -gt 0 ] || fail "no fuzzing inputs found under $F"
echo "fuzz-regress: $n inputs, none crashed"
