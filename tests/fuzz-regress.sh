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
ok="0 65"
check() { # FILE COMMAND...
	file=$1
	shift
	# shellcheck disable=SC2086
	$TIMEOUT "$@" >"$T/out" 2>"$T/err" </dev/null
	got=$?
	case " $ok " in
	*" $got "*) ;;
	*)
		cat "$T/err" >&2
		fail "'$*' exited $got, want one of $ok ($file)"
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
# The state fuzzer's inputs as snapshots: `plan --observed` reads nothing
# live and changes nothing (saved plans and ledgers are not replayed here:
# what reads them acts on a live root; check_snapshot and check_savedplan
# keep their regressions).  A plan with changes exits 2.
ok="0 2 65"
for dir in "$F/regressions/state" "$F/corpus/state"; do
	[ -d "$dir" ] || continue
	for f in "$dir"/*; do
		[ -f "$f" ] || continue
		case ${f##*/} in README* | .*) continue ;; esac
		check "$f" "$BPF_PROVISION" plan --observed "$f" \
			"$top_srcdir/tests/manifests/good/minimal.yaml"
	done
done
[ "$n" -gt 0 ] || fail "no fuzzing inputs found under $F"
echo "fuzz-regress: $n inputs, none crashed"
