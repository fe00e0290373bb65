#!/bin/sh
# The tree changing under a running apply.  Someone with write access to a
# directory of the tool's (dir_mode 0777, or a directory handed to a service
# user) swaps it, or a pin in it, for a symlink after the plan was made and
# before the apply acts.  The apply must then fail and roll back, and touch
# nothing the symlink points at: not a foreign pin in the same bpffs, not
# another bpffs.  The apply is stopped before its first state change
# (BPF_PROVISION_PAUSE_AT=1) while the test plants the symlink; then before
# each step in turn, where the rule left is that nothing outside is touched.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST
mount_private_bpffs race
rm -f "$M/probe"
# A second bpffs, standing for anywhere outside the root.
O=$(mktemp -d "${TMPDIR:-/tmp}/bpfprov-race-outside.XXXXXX") || fail "mktemp"
trap 'umount -l "$M" "$O" 2>/dev/null; rmdir "$M" "$O"; rm -rf "$T"' EXIT
mount -t bpf bpf "$O" || skip "cannot mount a second bpffs on $O"

mkdir -p "$T/bpf"
cp "$top_builddir/configs/bpf/gobpf_site.o" "$T/bpf/"
manifest() { # MODE-OF-sub/a [EXTRA-SECTION-LINES]
	cat >"$T/site.yaml" <<YAML
version: 1
name: race
namespace: race
defaults:
  dir_mode: "0777"
objects:
  - file: bpf/gobpf_site.o
    name: dummy
    sections:
      - section: maps/dummy_array_custom
        pinning: custom
        path: race/sub/a
        mode: "$1"
${2:-}
YAML
}

# Foreign pins: one of other software in the same bpffs, one in another.
foreign_pins() {
	mkdir -p "$M/other" "$O/victim"
	bpftool -n map create "$M/other/a" type array key 4 value 4 entries 1 name foreign ||
		fail "bpftool map create"
	bpftool -n map create "$O/victim/a" type array key 4 value 4 entries 1 name foreign ||
		fail "bpftool map create"
	chmod 644 "$M/other/a" "$O/victim/a"
}
foreign_pins

# Starts the apply of $T/site.yaml, stopped before its step K; sets pid.
start_paused() { # K NAME
	BPF_PROVISION_PAUSE_AT=$1 "$BPF_PROVISION" --bpffs "$M" apply "$T/site.yaml" \
		>"$T/out" 2>"$T/err" &
	pid=$!
	wait_stopped $pid "$2: the apply paused before step $1"
}

# Lets it go on; sets rc.  A sanitizer report is a failure whatever the exit.
resume() { # NAME
	kill -CONT $pid
	wait $pid
	rc=$?
	! grep -q "Sanitizer\|runtime error" "$T/err" || fail "$1: $(cat "$T/err")"
}

# Each case: set the tree to the v1 manifest, write the v2 manifest, start
# its apply stopped before its first change, run ATTACK, let it go on.
race() { # NAME ATTACK
	manifest 0644
	"$BPF_PROVISION" --bpffs "$M" apply "$T/site.yaml" >/dev/null 2>"$T/err" ||
		fail "$1: apply v1: $(cat "$T/err")"
	[ -e "$M/race/sub/a" ] && [ ! -L "$M/race/sub" ] || fail "$1: v1 not in place"
	case $1 in
	delete*) manifest 0644 && sed -i 's/path: race\/sub\/a/path: race\/moved/' "$T/site.yaml" ;;
	chmod*) manifest 0600 ;;
	pin*) manifest 0644 "      - section: socket/dummy
        pinning: custom
        path: race/sub/b" ;;
	esac
	start_paused 1 "$1"
	eval "$2" || fail "$1: the attack itself failed"
	tree_listing "$M" >"$T/inside"
	tree_listing "$O" >"$T/outside"
	resume "$1"
	[ $rc = 1 ] || { cat "$T/out" "$T/err" >&2; fail "$1: exit $rc, want 1 (refused)"; }
	grep -q "apply failed; every change was rolled back" "$T/err" ||
		fail "$1: no rollback message: $(cat "$T/err")"
	grep -q "rollback incomplete" "$T/err" && fail "$1: the rollback failed: $(cat "$T/err")"
	grep -q "symlink\|changed since the plan" "$T/err" ||
		fail "$1: the error does not say what changed: $(cat "$T/err")"
	tree_listing "$M" >"$T/inside.after"
	tree_listing "$O" >"$T/outside.after"
	diff -u "$T/inside" "$T/inside.after" >&2 ||
		fail "$1: the apply changed the root after the swap"
	diff -u "$T/outside" "$T/outside.after" >&2 || fail "$1: the apply changed another bpffs"
	[ "$(stat -c %a "$M/other/a")" = 644 ] && [ "$(stat -c %a "$O/victim/a")" = 644 ] ||
		fail "$1: a foreign pin's mode changed"
	# Undo the attack for the next case.
	[ -L "$M/race/sub" ] && rm -f "$M/race/sub"
	[ -d "$M/race/subreal" ] && mv "$M/race/subreal" "$M/race/sub"
	[ -e "$M/race/sub/areal" ] && mv -f "$M/race/sub/areal" "$M/race/sub/a"
	case $1 in *"path taken") rm -f "$M/race/sub/b" ;; esac
	"$BPF_PROVISION" --bpffs "$M" apply "$T/site.yaml" >/dev/null 2>"$T/err" ||
		fail "$1: the apply after the attack was undone: $(cat "$T/err")"
	"$BPF_PROVISION" --bpffs "$M" destroy "$T/site.yaml" >/dev/null 2>"$T/err" ||
		fail "$1: destroy: $(cat "$T/err")"
}

swap_dir() { # TARGET: race/sub becomes a symlink to it
	mv "$M/race/sub" "$M/race/subreal" && ln -s "$1" "$M/race/sub"
}

# An owned pin to be unpinned; its directory now points at a foreign pin of
# the same name in the same bpffs: the foreign pin must not be unlinked.
race "delete, dir -> same bpffs" 'swap_dir "$M/other"'
# The same, relative symlink.
race "delete, dir -> relative" 'swap_dir ../other'
# A mode to change: not the foreign pin's.
race "chmod, dir -> same bpffs" 'swap_dir "$M/other"'
race "chmod, dir -> other bpffs" 'swap_dir "$O/victim"'
# A new pin: not placed in another bpffs.
race "pin, dir -> other bpffs" 'swap_dir "$O/victim"'
# A new pin's free path taken by someone else: the pin fails, nothing of
# theirs is touched.
race "pin, path taken" 'bpftool -n map create "$M/race/sub/b" type array key 4 value 4 entries 1 name racer'
# The pin itself swapped for a symlink to a foreign pin.
race "delete, pin -> symlink" 'mv "$M/race/sub/a" "$M/race/sub/areal" && ln -s "$M/other/a" "$M/race/sub/a"'
race "chmod, pin -> symlink" 'mv "$M/race/sub/a" "$M/race/sub/areal" && ln -s "$M/other/a" "$M/race/sub/a"'

# Planted before the plan: a symlink out of the root where the manifest's
# directory goes.  The plan refuses it; the apply changes nothing.
manifest 0644
ln -s "$O/victim" "$M/race"
tree_listing "$M" >"$T/inside"
tree_listing "$O" >"$T/outside"
"$BPF_PROVISION" --bpffs "$M" apply "$T/site.yaml" >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 1 ] || fail "planted symlink out of the root: exit $rc, want 1"
grep -q "replace refused (a symlink is in the way at .race.; remove it by hand)" "$T/err" ||
	fail "planted symlink: no error says so: $(cat "$T/err")"
grep -q "apply refused: .*nothing was changed" "$T/err" || fail "planted symlink: $(cat "$T/err")"
tree_listing "$M" | diff -u "$T/inside" - >&2 || fail "planted symlink: the root changed"
tree_listing "$O" | diff -u "$T/outside" - >&2 || fail "planted symlink: another bpffs changed"
rm "$M/race"

bpftool map show pinned "$M/other/a" >/dev/null && bpftool map show pinned "$O/victim/a" >/dev/null ||
	fail "a foreign pin is gone"

# The swap before each step of an apply that creates, updates and unpins
# in the swapped directory, to a foreign directory of either bpffs.  Nothing
# the symlink points at changes.  The apply fails and its rollback is whole,
# made in the renamed directory; or, when the swap comes after its last
# change there, it ends well, its pins in the renamed directory.
v1() {
	manifest 0644 "      - section: maps/dummy_hash
        pinning: custom
        path: race/sub/c"
}
v2() {
	manifest 0600 "      - section: socket/dummy
        pinning: custom
        path: race/sub/b"
}
fresh() { # both trees and the ledger anew, with the foreign pins and v1
	find "${M:?}" "${O:?}" -mindepth 1 -maxdepth 1 ! -name '*.debug' -exec rm -rf {} +
	rm -rf "$T/run"
	foreign_pins
	v1
	"$BPF_PROVISION" --bpffs "$M" apply "$T/site.yaml" >/dev/null 2>"$T/err" ||
		fail "apply v1: $(cat "$T/err")"
	v2
}
fresh
BPF_PROVISION_TRACE_STEPS=1 "$BPF_PROVISION" --bpffs "$M" apply "$T/site.yaml" >/dev/null 2>"$T/err" ||
	fail "apply v2: $(cat "$T/err")"
steps=$(sed -n 's/^bpf-provision: \([0-9]*\) steps$/\1/p' "$T/err")
[ "${steps:-0}" -ge 5 ] || fail "apply v2 took ${steps:-no} steps"
k=1 ended=0
while [ $k -le "$steps" ]; do
	for target in "$M/other" "$O/victim"; do
		fresh
		tree_listing "$M" >"$T/before"
		start_paused $k "step $k"
		tree_listing "$M/other" >"$T/foreign"
		tree_listing "$O" >"$T/outside"
		swap_dir "$target" || fail "step $k: the attack itself failed"
		resume "step $k"
		case $rc in
		0) ended=$((ended + 1)) ;;
		1)
			grep -q "rollback incomplete" "$T/err" &&
				fail "step $k, swap to $target: $(cat "$T/err")"
			# The tree as before the apply, but for the swap.
			tree_listing "$M" | grep -v '^\./race/sub l ' |
				sed 's|^\./race/subreal|./race/sub|' | LC_ALL=C sort |
				diff -u "$T/before" - >&2 ||
				fail "step $k, swap to $target: the rollback is not whole"
			;;
		*) fail "step $k, swap to $target: exit $rc: $(cat "$T/err")" ;;
		esac
		tree_listing "$M/other" | diff -u "$T/foreign" - >&2 ||
			fail "step $k, swap to $target: a foreign pin in the root changed"
		tree_listing "$O" | diff -u "$T/outside" - >&2 ||
			fail "step $k, swap to $target: another bpffs changed"
	done
	k=$((k + 1))
done

echo "race: 8 changes under a running apply and 1 planted symlink refused; a swap before each of $steps steps touched nothing outside ($ended of $((2 * steps)) applies ended well, the others rolled back whole)"
