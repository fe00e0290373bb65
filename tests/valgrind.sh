#!/bin/sh
# The unit tests and the validator on every manifest of the corpus under
# valgrind: no invalid access, no leak.  Only in builds without sanitizers.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

[ -n "${VALGRIND:-}" ] && [ -x "$VALGRIND" ] || skip "valgrind not found (apt-get install valgrind)"
vg() {
	"$VALGRIND" -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--show-leak-kinds=definite,indirect "$@"
}

CK_FORK=no vg "$top_builddir/tests/check_bpfprov" >"${TMPDIR:-/tmp}/vg-unit.$$" 2>&1
rc=$?
tail -n 3 "${TMPDIR:-/tmp}/vg-unit.$$"
rm -f "${TMPDIR:-/tmp}/vg-unit.$$"
[ "$rc" = 0 ] || fail "unit tests under valgrind: exit $rc"

n=0
for f in "$top_srcdir"/tests/manifests/*/*.yaml "$top_builddir"/configs/*.yaml; do
	[ -f "$f" ] || continue
	vg "$BPF_PROVISION" -q validate --no-objects "$f" >/dev/null 2>&1
	rc=$?
	[ "$rc" = 0 ] || [ "$rc" = 65 ] || fail "validate $f under valgrind: exit $rc"
	n=$((n + 1))
done
for f in "$top_builddir"/configs/*.yaml; do
	vg "$BPF_PROVISION" -q validate "$f" >/dev/null || fail "validate $f under valgrind"
	n=$((n + 1))
done
for f in "$top_builddir"/tests/bpf/*.o "$top_builddir"/configs/bpf/*.o; do
	vg "$BPF_PROVISION" -o json inspect "$f" >/dev/null || fail "inspect $f under valgrind"
	n=$((n + 1))
done
echo "valgrind: unit tests and $n runs clean"
