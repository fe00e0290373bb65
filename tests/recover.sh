#!/bin/sh
# SPDX-License-Identifier: MIT
# A run killed anywhere in a migrate leaves nothing the next run misses.
# Eight programs use one pinned map; the second version of their object
# makes the map larger (on_incompatible: migrate), so its apply makes a new
# map, copies the entries, swaps it in and reloads the eight programs.  The
# apply is stopped before each of its steps in turn (BPF_PROVISION_PAUSE_AT)
# and killed with SIGKILL.  Then: where the kill left a program holding
# another map than the pinned one (the kernel's tag does not see which map a
# program uses), plan must call it drift; the next apply must converge, with
# every program's map ids (bpftool) holding the pinned map, the entries kept
# and no temporary name left; and a plan after it is a no-op.  For a legacy
# (gobpf) and a libbpf object.  Needs root.
# shellcheck disable=SC2015 # A && B || fail: fail if either fails
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST
find_python
mount_private_bpffs recover
unset BPF_PROVISION_FAIL_AT BPF_PROVISION_FAIL_ERRNO BPF_PROVISION_TRACE_STEPS BPF_PROVISION_PAUSE_AT

BPF=$top_builddir/tests/bpf
MAP=wired/globals/counts
START=$(date +%s)

reset() { # an empty bpffs and no ledger
	umount "$M" && mount -t bpf bpf "$M" || fail "cannot remount $M"
	rm -rf "$T/run"
}

manifest() { # OBJECT FILE: the manifest of OBJECT's map and eight programs
	{
		printf 'version: 1\nname: wired\nnamespace: wired\nobjects:\n'
		printf '  - file: %s\n    name: w\n    sections:\n' "$1"
		printf '      - map: counts\n        on_incompatible: migrate\n'
		for i in 0 1 2 3 4 5 6 7; do
			printf '      - program: p%s\n        pinning: custom\n' "$i"
			printf '        path: wired/progs/p%s\n' "$i"
		done
	} >"$2"
}

bp() { # ARGS...: bpf-provision on $M; output in $T/out, $T/err
	run_checking_steps "$M" "$@"
}

map_id() {
	bpftool -j map show pinned "$M/$MAP" 2>/dev/null |
		"$PY" -c 'import json, sys; print(json.load(sys.stdin)["id"])' 2>/dev/null
}

# The programs (of wired/progs/*) whose map ids lack the pinned map's id.
miswired() {
	_id=$(map_id)
	for _p in "$M"/wired/progs/p*; do
		[ -e "$_p" ] || continue
		case $_p in */bpfprov_tmp_*) continue ;; esac
		bpftool -j prog show pinned "$_p" 2>/dev/null | "$PY" -c '
import json, sys
ids = json.load(sys.stdin).get("map_ids", [])
sys.exit(0 if int(sys.argv[1]) in ids else 1)' "${_id:-0}" || echo "${_p#"$M"/}"
	done
}

value0() { # the value at key 0 of the pinned map
	bpftool -j map lookup pinned "$M/$MAP" key 0 0 0 0 2>/dev/null | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
print(int.from_bytes(bytes(int(b, 16) for b in d["value"]), "little"))' 2>/dev/null
}

# The v1 tree, with 42 at key 0 for the migrate to keep.
setup() { # LAYOUT
	reset
	bp apply "$T/$1.v1.yaml" || fail "$1: apply v1: $(cat "$T/err")"
	bpftool map update pinned "$M/$MAP" key 0 0 0 0 value 42 0 0 0 0 0 0 0 ||
		fail "$1: cannot write to $MAP"
}

for layout in gobpf btf; do
	cp "$BPF/wired_$layout.o" "$T/v1_$layout.o" &&
		cp "$BPF/wired_${layout}_v2.o" "$T/v2_$layout.o" || fail "no wired_$layout objects"
	manifest "v1_$layout.o" "$T/$layout.v1.yaml"
	manifest "v2_$layout.o" "$T/$layout.v2.yaml"

	setup $layout
	BPF_PROVISION_TRACE_STEPS=1 bp apply "$T/$layout.v2.yaml" ||
		fail "$layout: apply v2: $(cat "$T/err")"
	K=$(sed -n 's/^bpf-provision: \([0-9]*\) steps$/\1/p' "$T/err")
	[ "${K:-0}" -ge 10 ] || fail "$layout: the migrate took ${K:-no} steps"
	[ -z "$(miswired)" ] || fail "$layout: an apply that went through left $(miswired) miswired"

	MISWIRED=0 n=1
	while [ "$n" -le "$K" ]; do
		setup $layout
		BPF_PROVISION_PAUSE_AT=$n "$BPF_PROVISION" --bpffs "$M" apply "$T/$layout.v2.yaml" \
			>/dev/null 2>&1 &
		pid=$!
		wait_stopped $pid "$layout: the apply paused before step $n"
		kill -9 $pid
		wait $pid 2>/dev/null

		bad=$(miswired)
		if [ -n "$bad" ]; then
			MISWIRED=$((MISWIRED + 1))
			bp plan "$T/$layout.v2.yaml"
			rc=$?
			[ $rc = 2 ] ||
				fail "$layout: killed before step $n/$K, $(echo "$bad" | tr "\n" " ") hold another map than $MAP, and plan exits $rc: $(cat "$T/out")"
			grep -q "wired to another map" "$T/out" ||
				fail "$layout: step $n: plan does not say why: $(cat "$T/out")"
		fi
		bp apply "$T/$layout.v2.yaml" ||
			fail "$layout: killed before step $n/$K, the next apply failed: $(cat "$T/err")"
		bad=$(miswired)
		[ -z "$bad" ] ||
			fail "$layout: killed before step $n/$K, after the next apply $(echo "$bad" | tr "\n" " ") still hold another map than $MAP"
		[ "$(bpftool -j map show pinned "$M/$MAP" | "$PY" -c \
			'import json, sys; print(json.load(sys.stdin)["max_entries"])')" = 8 ] ||
			fail "$layout: step $n: $MAP is not the v2 map"
		[ "$(value0)" = 42 ] || fail "$layout: step $n: key 0 of $MAP is '$(value0)', want 42"
		[ -z "$(find "$M" -name 'bpfprov_tmp_*')" ] ||
			fail "$layout: step $n: temporary names left: $(find "$M" -name 'bpfprov_tmp_*')"
		bp plan "$T/$layout.v2.yaml" ||
			fail "$layout: step $n: the plan after the recovery is not empty: $(cat "$T/out")"
		n=$((n + 1))
	done
	# Without a kill point that miswires, the test would prove nothing.
	[ "$MISWIRED" -gt 0 ] || fail "$layout: no kill of the $K steps left a program miswired"
	echo "recover.sh: $layout: killed before each of $K steps; $MISWIRED left programs on the old map, each seen by plan and repaired by the next apply"
done
echo "recover.sh: passed in $(($(date +%s) - START)) s"
