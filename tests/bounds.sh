#!/bin/sh
# Bounds on hostile or unusual input, each of which once hung, looped or
# failed late: a FIFO where a manifest or an object should be, YAML nested
# a hundred thousand levels deep, a pin path deeper than the scanner reads,
# and file descriptor limits low enough for an apply of 500 pins to run out.
# Every check runs under `timeout`, so that a hang is a failure, not a
# stuck test.  The first part needs no kernel; the rest mounts a private
# bpffs and skips (loudly) when not root.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST

[ -x "$BPF_PROVISION" ] || fail "no $BPF_PROVISION"
command -v timeout >/dev/null 2>&1 || skip "no timeout (coreutils)"

# run SECS ARGS...: bpf-provision with its output in $T/out and $T/err, its
# exit status in $rc (124: it hung and was killed).  $WRAP, when set, is a
# command to run it under (prlimit).
WRAP=
run() {
	secs=$1
	shift
	# shellcheck disable=SC2086
	timeout "$secs" $WRAP "$BPF_PROVISION" "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
}

# expect_invalid WHAT TEXT: the last run exited 65 with TEXT on stderr.
expect_invalid() {
	[ "$rc" != 124 ] || fail "$1: hung (killed after the timeout)"
	[ "$rc" = 65 ] || { cat "$T/err" >&2; fail "$1: exit $rc, want 65"; }
	grep -qF -- "$2" "$T/err" || fail "$1: no '$2' in: $(cat "$T/err")"
}

# 1. FIFOs (and other files that are not regular) are refused, not opened
# for a read that would wait for a writer forever: a manifest given on the
# command line, one in a manifest directory, and an object's `file:`.
mkdir -p "$T/fifo/dir" "$T/fifo/obj"
mkfifo "$T/fifo/site.yaml" "$T/fifo/dir/b.yaml" "$T/fifo/obj/x.o" || skip "cannot mkfifo"
cat >"$T/fifo/dir/a.yaml" <<'YAML'
version: 1
objects: []
YAML
cat >"$T/fifo/obj/site.yaml" <<'YAML'
version: 1
objects:
  - file: x.o
YAML
run 10 validate "$T/fifo/site.yaml"
expect_invalid "a FIFO as the manifest" "$T/fifo/site.yaml: error: not a regular file (a FIFO)"
run 10 validate "$T/fifo/dir"
expect_invalid "a FIFO in a manifest directory" \
	"$T/fifo/dir/b.yaml: error: not a regular file (a FIFO)"
run 10 validate "$T/fifo/obj/site.yaml"
expect_invalid "a FIFO as an object" \
	"$T/fifo/obj/site.yaml:3:11: error: object file '$T/fifo/obj/x.o': not a regular file (a FIFO)"
run 10 inspect "$T/fifo/obj/x.o"
expect_invalid "inspect of a FIFO" "$T/fifo/obj/x.o: error: not a regular file (a FIFO)"
# A character device that blocks on read is refused the same way, unread.
run 10 validate /dev/zero
expect_invalid "a device as the manifest" \
	"/dev/zero: error: not a regular file (a character device)"

# 2. YAML nested 100000 levels deep: libyaml's cost grows with the square of
# the depth (73 s for this one); the reader stops at the 65th level, at once.
# Timed in milliseconds: under a second, where it used to take minutes.
awk 'BEGIN { s = "["; for (i = 0; i < 17; i++) s = s s; print substr(s, 1, 100000) }' \
	>"$T/deep-flow.yaml"
awk 'BEGIN { printf "version: 1\nobjects: "
	for (i = 0; i < 100000; i++) printf "{a: "; print "" }' >"$T/deep-map.yaml"
# The 65th level starts at 1:65 in one, at 2:262 in the other (the document
# is the first level, each "{a: " one more).
for f in deep-flow:1:65 deep-map:2:262; do
	loc=${f#*:}
	f=${f%%:*}
	start=$(date +%s%N)
	run 5 validate --no-objects "$T/$f.yaml"
	ms=$((($(date +%s%N) - start) / 1000000))
	expect_invalid "$f.yaml" "$T/$f.yaml:$loc: error: nesting deeper than 64 levels"
	[ "$ms" -lt 1000 ] || fail "$f.yaml: rejected after $ms ms, want under 1000"
done
# 64 levels are still read (and refused for what they hold, not for depth).
awk 'BEGIN { printf "version: 1\nobjects: "; for (i = 0; i < 63; i++) printf "[";
	for (i = 0; i < 63; i++) printf "]"; print "" }' >"$T/deep-64.yaml"
run 5 validate --no-objects "$T/deep-64.yaml"
if [ "$rc" != 65 ] || grep -q "nesting deeper" "$T/err"; then
	fail "64 levels: exit $rc, $(cat "$T/err")"
fi

# 3. Depth of pin paths.  The scanner reads 64 levels below the root, so a
# pin deeper than that would be made once and then never seen again: each
# apply would plan it anew.  Such a path is a validation error.
# deep_manifest N: a manifest in $T/deep pinning gobpf.o's custom map at a
# path of N components.
deep_manifest() {
	mkdir -p "$T/deep"
	cp "$top_builddir/tests/bpf/gobpf.o" "$T/deep/"
	path=$(awk -v n="$1" 'BEGIN { for (i = 1; i < n; i++) printf "d%d/", i; print "m" }')
	cat >"$T/deep/site.yaml" <<YAML
version: 1
name: deep
namespace: deep
objects:
  - file: gobpf.o
    sections:
      - {section: maps/none_hash, pinning: none}
      - {section: maps/object_array, pinning: none}
      - {section: maps/global_hash, pinning: none}
      - section: maps/custom_array
        pinning: custom
        path: $path
YAML
}
deep_manifest 70
run 10 validate "$T/deep/site.yaml"
expect_invalid "a pin path 70 levels deep" "more than 64 components"
grep -q "^$T/deep/site.yaml:12:15: error: invalid path 'd1/d2/" "$T/err" ||
	fail "the 70-level path is not located at its value: $(cat "$T/err")"
deep_manifest 65
run 10 validate --no-objects "$T/deep/site.yaml"
expect_invalid "a pin path 65 levels deep" "more than 64 components"

# From here on: a private bpffs.
mount_private_bpffs bounds
rm -f "$M/probe"
empty=$(tree_listing "$M")

# 3b. A pin exactly 64 levels deep is made, found again (the re-plan is a
# no-op) and destroyed, leaving the tree as it was.
deep_manifest 64
run 30 --bpffs "$M" apply "$T/deep/site.yaml"
[ "$rc" = 0 ] || { cat "$T/err" >&2; fail "apply of a pin 64 levels deep: exit $rc"; }
[ -e "$M/$path" ] || fail "no pin at $path"
run 30 --bpffs "$M" apply --dry-run "$T/deep/site.yaml"
[ "$rc" = 0 ] || fail "re-plan of a pin 64 levels deep is not a no-op: $(cat "$T/out" "$T/err")"
run 30 --bpffs "$M" destroy "$T/deep/site.yaml"
[ "$rc" = 0 ] || { cat "$T/err" >&2; fail "destroy of a pin 64 levels deep: exit $rc"; }
[ "$(tree_listing "$M")" = "$empty" ] || fail "destroy left: $(tree_listing "$M")"

# 4. File descriptors: 500 pins (125 objects, each with three maps and a
# program, 375 directories) under low limits.  Each pin holds a descriptor
# while it is made and each directory acted in is kept open; the tool
# raises its soft limit to the hard one, keeps at most a quarter of the
# limit in directories, and gives some back when it runs out.
command -v prlimit >/dev/null 2>&1 || skip "no prlimit (util-linux)"
mkdir -p "$T/fds/bpf"
cp "$top_builddir/configs/bpf/gobpf_site.o" "$T/fds/bpf/"
{
	printf 'version: 1\nname: fds\nobjects:\n'
	i=0
	while [ $i -lt 125 ]; do
		printf '  - file: bpf/gobpf_site.o\n    name: o%d\n    namespace: n%d\n' $i $i
		printf '    sections:\n'
		printf '      - {section: maps/dummy_array_custom, pinning: custom, '
		printf 'path: n%d/c}\n' $i
		printf '      - {section: socket/dummy, pinning: custom, path: n%d/p/prog}\n' $i
		i=$((i + 1))
	done
} >"$T/fds/site.yaml"
for lim in 512:512 64:64 16:4096; do
	WRAP="prlimit --nofile=$lim"
	run 120 --bpffs "$M" apply "$T/fds/site.yaml"
	[ "$rc" = 0 ] ||
		{ head -5 "$T/err" >&2; fail "apply of 500 pins at nofile $lim: exit $rc"; }
	grep -q "^Plan: 500 to create, 0 to replace" "$T/out" ||
		fail "apply of 500 pins at nofile $lim: $(tail -1 "$T/out")"
	run 120 --bpffs "$M" apply --dry-run "$T/fds/site.yaml"
	[ "$rc" = 0 ] || fail "re-plan of 500 pins at nofile $lim: exit $rc, $(tail -1 "$T/out")"
	run 120 --bpffs "$M" destroy "$T/fds/site.yaml"
	[ "$rc" = 0 ] ||
		{ head -5 "$T/err" >&2; fail "destroy of 500 pins at nofile $lim: exit $rc"; }
	[ "$(tree_listing "$M")" = "$empty" ] || fail "destroy at nofile $lim left pins behind"
done
# Below what any apply needs, the error names the limit, never the kernel
# or a changed tree, and nothing is left behind.
for lim in 4:4 6:6 8:8 10:10 12:12; do
	WRAP="prlimit --nofile=$lim"
	run 60 --bpffs "$M" apply "$top_builddir/configs"
	if [ "$rc" != 0 ]; then
		[ "$rc" = 1 ] || fail "apply at nofile $lim: exit $rc, want 0 or 1"
		grep -q "too many open files (ulimit -n ${lim%%:*})" "$T/err" ||
			fail "apply at nofile $lim does not name the limit: $(head -3 "$T/err")"
		! grep -q "kernel refused\|changed during the apply" "$T/err" ||
			fail "apply at nofile $lim blames the kernel or the tree: $(head -3 "$T/err")"
		[ "$(tree_listing "$M")" = "$empty" ] || fail "a failed apply at nofile $lim left pins"
	else
		WRAP=
		run 60 --bpffs "$M" destroy "$top_builddir/configs"
		[ "$rc" = 0 ] || fail "destroy after the apply at nofile $lim: exit $rc"
	fi
done
WRAP=

echo "bounds: all checks passed"
