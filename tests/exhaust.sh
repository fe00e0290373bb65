#!/bin/sh
# Resource exhaustion part way through an apply: the kernel runs out of the
# memory it may charge (a memory cgroup's limit, where the kernel accounts
# BPF maps and bpffs entries since 5.11) after some maps were made; and the
# ledger's filesystem is full.  Each fails with a clear error, rolls every
# change back and leaves the tree as it was.  RLIMIT_MEMLOCK, which limited
# BPF memory before 5.11, is set to 0 to show the tool does not depend on it.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST
mount_private_bpffs exhaust
rm -f "$M/probe"
CG= FULL=
trap 'umount -l "$M" $FULL 2>/dev/null; rmdir "$M" ${CG:+"$CG"}; rm -rf "$T"' EXIT


# 60 objects, each one 4 MiB map: 240 MiB in all.
mkdir -p "$T/bulk"
cp "$top_builddir/tests/bpf/chunk.o" "$T/bulk/"
{
	printf 'version: 1\nname: bulk\nnamespace: bulk\nobjects:\n'
	i=0
	while [ $i -lt 60 ]; do
		printf '  - file: chunk.o\n    name: c%d\n' $i
		i=$((i + 1))
	done
} >"$T/bulk/site.yaml"

# 1. A memory cgroup (v2 or v1) whose limit the apply reaches part way.
if grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
	grep -qw memory /sys/fs/cgroup/cgroup.subtree_control ||
		skip "cgroup v2 without the memory controller enabled for children"
	CG=/sys/fs/cgroup/bpfprov-test.$$ LIMIT=memory.max PEAK=memory.peak
elif [ -d /sys/fs/cgroup/memory ]; then
	CG=/sys/fs/cgroup/memory/bpfprov-test.$$ LIMIT=memory.limit_in_bytes
	PEAK=memory.max_usage_in_bytes
else
	skip "no memory cgroup (neither v2 nor v1 memory controller)"
fi
mkdir "$CG" || skip "cannot create the memory cgroup $CG"
[ -f "$CG/$PEAK" ] || skip "the memory cgroup has no $PEAK"
in_cg() {
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG" "$@"
}
# What the tool itself takes (more under the sanitizers): a dry run's peak.
in_cg "$BPF_PROVISION" --bpffs "$M" apply --dry-run "$T/bulk/site.yaml" >/dev/null
rc=$?
[ $rc = 2 ] || fail "dry run of the bulk manifest: exit $rc, want 2 (changes to make)"
base=$(cat "$CG/$PEAK")
echo $((base + 100 * 1024 * 1024)) >"$CG/$LIMIT" || fail "cannot set $CG/$LIMIT"
before=$(tree_listing "$M")
in_cg "$BPF_PROVISION" --bpffs "$M" apply "$T/bulk/site.yaml" >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 1 ] || { cat "$T/err" >&2; fail "apply over the memory limit: exit $rc, want 1"; }
grep -q "chunk.o: error: map 'chunk' for pin bulk/c[0-9]*/chunk: the kernel refused to create it: Cannot allocate memory" "$T/err" ||
	fail "no clear out-of-memory error: $(cat "$T/err")"
at=$(sed -n "s|.*for pin bulk/\(c[0-9]*\)/chunk: the kernel refused.*|\1|p" "$T/err")
grep -q "apply failed; every change was rolled back" "$T/err" || fail "no rollback message"
grep -q "rollback incomplete" "$T/err" && fail "the rollback failed: $(cat "$T/err")"
[ "$(tree_listing "$M")" = "$before" ] || fail "the apply over the memory limit left the tree changed"
ls "$T/run" 2>/dev/null | grep -q "\.json$" && fail "the apply over the memory limit left a ledger"
# The limit was the only thing wrong: with room, the same apply succeeds.
echo max >"$CG/$LIMIT" 2>/dev/null || echo -1 >"$CG/$LIMIT"
in_cg "$BPF_PROVISION" --bpffs "$M" apply "$T/bulk/site.yaml" >"$T/out" 2>"$T/err" ||
	fail "the apply with room: $(cat "$T/err")"
[ "$(find "$M/bulk" -name chunk | wc -l)" = 60 ] || fail "not 60 maps after the apply with room"
"$BPF_PROVISION" --bpffs "$M" destroy "$T/bulk/site.yaml" >/dev/null 2>"$T/err" ||
	fail "destroy: $(cat "$T/err")"

# 2. RLIMIT_MEMLOCK 0: the kernel charges the cgroup instead, and the tool
# does not lean on the limit (libbpf raises it itself only on kernels
# before 5.11, which charge it).
command -v prlimit >/dev/null || skip "no prlimit (util-linux)"
prlimit --memlock=0:0 "$BPF_PROVISION" --bpffs "$M" apply "$T/bulk/site.yaml" >/dev/null 2>"$T/err" ||
	fail "apply with RLIMIT_MEMLOCK 0: $(cat "$T/err")"
prlimit --memlock=0:0 "$BPF_PROVISION" --bpffs "$M" apply --dry-run "$T/bulk/site.yaml" >"$T/out" ||
	fail "re-plan with RLIMIT_MEMLOCK 0 is not a no-op: $(tail -1 "$T/out")"
"$BPF_PROVISION" --bpffs "$M" destroy "$T/bulk/site.yaml" >/dev/null 2>"$T/err" ||
	fail "destroy: $(cat "$T/err")"

# 3. The ledger's filesystem is full.  A pin at the top level needs no new
# directory, so no intent is written first: the maps are made and pinned,
# and the final ledger write fails.
FULL=$T/run
mkdir -p "$FULL"
mount -t tmpfs -o size=64k,mode=0700 tmpfs "$FULL" || skip "cannot mount a tmpfs on $FULL"
dd if=/dev/zero of="$FULL/fill" bs=4096 2>/dev/null
[ "$(df --output=avail "$FULL" | tail -1)" -eq 0 ] || fail "could not fill $FULL"
# One page free: the record that the run started fits (it is written before
# the first change), the final ledger beside it does not.
truncate -s -4096 "$FULL/fill" || fail "truncate"
[ "$(df --output=avail "$FULL" | tail -1)" -eq 4 ] || fail "could not leave one page of $FULL"
cat >"$T/bulk/top.yaml" <<'YAML'
version: 1
name: top
objects:
  - file: chunk.o
    sections:
      - section: maps/chunk
        pinning: custom
        path: topchunk
YAML
before=$(tree_listing "$M")
BPF_PROVISION_TRACE_STEPS=1 "$BPF_PROVISION" --bpffs "$M" apply "$T/bulk/top.yaml" >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 1 ] || { cat "$T/err" >&2; fail "apply with a full ledger filesystem: exit $rc, want 1"; }
grep -q "error: cannot write the ledger: No space left on device" "$T/err" ||
	fail "no clear error for the full ledger filesystem: $(cat "$T/err")"
grep -q "apply failed; every change was rolled back" "$T/err" || fail "no rollback message"
grep -q "bpf-provision: [1-9][0-9]* steps" "$T/err" || fail "no change was made before the ledger write"
[ "$(tree_listing "$M")" = "$before" ] || fail "a full ledger filesystem left the tree changed"
[ -z "$(ls "$FULL" | grep -v '^fill$' | grep -v '\.lock$')" ] ||
	fail "a full ledger filesystem left files: $(ls "$FULL")"
rm "$FULL/fill"
"$BPF_PROVISION" --bpffs "$M" apply "$T/bulk/top.yaml" >/dev/null 2>"$T/err" ||
	fail "apply once the ledger filesystem has room: $(cat "$T/err")"

echo "exhaust: memory limit reached part way (at $at of 60 maps) and rolled back; memlock 0 fine; full ledger filesystem rolled back"
