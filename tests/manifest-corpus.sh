#!/bin/sh
# SPDX-License-Identifier: MIT
# The manifest corpus against `bpf-provision validate --no-objects`:
#  - tests/manifests/bad and tests/manifests/semantic: exit 65, and for every
#    line "# expect: LINE:COLUMN: TEXT" of a file an error
#    "FILE:LINE:COLUMN: error: ...TEXT..." on stderr; every error carries a
#    location.  A file without expect lines (e.g. the empty one) only has to
#    fail with at least one located error.
#  - tests/manifests/good: exit 0 and nothing on stderr.
#  - whole directories: bad fails with errors for every file in it; good passes
#    (so its manifests also have distinct names and pin paths).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$BPF_PROVISION" ] || fail "$BPF_PROVISION is not built"
make_tmpdir

corpus=$top_srcdir/tests/manifests
err=$TMPDIR_TEST/stderr
n=0 problems=0

problem() {
	echo "FAIL: $*" >&2
	problems=$((problems + 1))
}

# Every line of $err that says "error" must be "$1:LINE:COLUMN: error: ...";
# sets located to the number of such lines.
check_error_lines() {
	located=0
	while IFS= read -r line; do
		case $line in
		"$1":*)
			rest=${line#"$1":}
			if printf '%s\n' "$rest" | grep -Eq '^[0-9]+:[0-9]+: error: '; then
				located=$((located + 1))
				continue
			fi
			;;
		esac
		case $line in
		*error*) problem "$1: error without FILE:LINE:COLUMN: $line" ;;
		esac
	done <"$err"
}

for f in "$corpus"/bad/*.yaml "$corpus"/semantic/*.yaml; do
	[ -e "$f" ] || fail "no files match $f"
	n=$((n + 1))
	before=$problems
	"$BPF_PROVISION" validate --no-objects "$f" >/dev/null 2>"$err"
	rc=$?
	if [ "$rc" -ne 65 ]; then
		problem "$f: exit status $rc, expected 65"
		sed 's/^/    /' "$err" >&2
		continue
	fi
	check_error_lines "$f"
	[ "$located" -gt 0 ] || problem "$f: rejected without a located error"

	# "# expect: L:C: TEXT" lines; TEXT may be empty (YAML syntax errors).
	grep -a '^# expect: ' "$f" | sed 's/^# expect: //' >"$TMPDIR_TEST/expect"
	while IFS= read -r exp; do
		lc=${exp%%: *}
		case $exp in
		*": "*) text=${exp#*: } ;;
		*) lc=${exp%:} text= ;;
		esac
		prefix="$f:$lc: error: "
		found=0
		while IFS= read -r line; do
			case $line in
			"$prefix"*"$text"*)
				found=1
				break
				;;
			esac
		done <"$err"
		[ "$found" = 1 ] || problem "$f: no error '$lc: ...$text...'"
	done <"$TMPDIR_TEST/expect"
	[ "$problems" -eq "$before" ] || sed 's/^/    /' "$err" >&2
done

for f in "$corpus"/good/*.yaml; do
	[ -e "$f" ] || fail "no files match $f"
	n=$((n + 1))
	"$BPF_PROVISION" validate --no-objects "$f" >/dev/null 2>"$err"
	rc=$?
	[ "$rc" -eq 0 ] || problem "$f: exit status $rc, expected 0"
	if [ -s "$err" ]; then
		problem "$f: unexpected output on stderr"
		sed 's/^/    /' "$err" >&2
	fi
done

# The bad directory in one call: every file in it reports a located error.
dir=$corpus/bad
"$BPF_PROVISION" validate --no-objects "$dir" >/dev/null 2>"$err"
rc=$?
[ "$rc" -eq 65 ] || problem "$dir: exit status $rc, expected 65"
for f in "$dir"/*.yaml; do
	grep -aqF "$f:" "$err" || problem "$dir: no error for $f"
done

dir=$corpus/good
"$BPF_PROVISION" validate --no-objects "$dir" >/dev/null 2>"$err"
rc=$?
if [ "$rc" -ne 0 ]; then
	problem "$dir: exit status $rc, expected 0"
	sed 's/^/    /' "$err" >&2
fi

echo "manifest-corpus: $n files checked, 2 directories, $problems problems"
[ "$problems" -eq 0 ] || fail "$problems problems in the manifest corpus"
exit 0
