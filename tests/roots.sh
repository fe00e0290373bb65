#!/bin/sh
# SPDX-License-Identifier: MIT
# One root, one ledger, one lock; identities for what the tool deletes; a
# runtime directory and lock no one else can steer.  On a private bpffs:
#  - spellings of one root ("DIR/", "DIR//", "DIR/./", a symlink) share the
#    ledger: what one applied, another destroys;
#  - those spellings and a root nested in the same bpffs share the lock;
#  - after a remount, directories someone else made at the paths the tool
#    once made are not removed, nor is a directory a forged ledger record
#    names without an inode;
#  - a runtime directory that is a symlink, or that others can write to, and
#    a lock file that is a symlink, are refused (nothing created through
#    them); --lock-timeout takes finite numbers only.
# Needs root.
# shellcheck disable=SC2015 # A && B || fail: fail if either fails
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST
find_python
mount_private_bpffs roots
unset BPF_PROVISION_FAIL_AT BPF_PROVISION_FAIL_ERRNO BPF_PROVISION_TRACE_STEPS BPF_PROVISION_PAUSE_AT

CONFIGS=$T/configs
pin_examples "$CONFIGS"
RUN=$T/run

reset() { # an empty bpffs and no ledger
	umount "$M" && mount -t bpf bpf "$M" || fail "cannot remount $M"
	rm -rf "$RUN"
	BPF_PROVISION_RUNTIME_DIR=$RUN
}

bp() { # WANT ROOT ARGS...: bpf-provision on ROOT must exit WANT
	_want=$1 _root=$2
	shift 2
	run_checking_steps "$_root" "$@"
	_got=$?
	[ "$_got" = "$_want" ] ||
		fail "bpf-provision --bpffs $_root $*: exit $_got, want $_want: $(cat "$T/err" "$T/out")"
}

fresh() { # the tree holds only the kernel's files
	[ "$(cd "$M" && find . -mindepth 1 | LC_ALL=C sort | tr '\n' ' ')" = "./maps.debug ./progs.debug " ] ||
		fail "$1: the tree is not back to the fresh mount's: $(cd "$M" && find . -mindepth 1)"
}

# --- spellings share the ledger ------------------------------------------------
ln -s "$M" "$T/link"
for spelling in "$M/" "$M//" "$M/./" "$T/link"; do
	reset
	bp 0 "$M" apply "$CONFIGS"
	bp 0 "$spelling" plan "$CONFIGS"
	bp 0 "$spelling" destroy "$CONFIGS"
	fresh "destroy through '$spelling' of what '$M' applied"
done

# --- spellings and nested roots share the lock -----------------------------------
reset
mkdir "$M/sub"
BPF_PROVISION_PAUSE_AT=1 "$BPF_PROVISION" --bpffs "$M" apply "$CONFIGS" >/dev/null 2>&1 &
pid=$!
wait_stopped $pid "the apply paused before its first step"
for root in "$M/" "$M/./" "$T/link" "$M/sub"; do
	"$BPF_PROVISION" --bpffs "$root" --lock-timeout 0.5 apply "$CONFIGS" >"$T/out" 2>"$T/err"
	rc=$?
	[ $rc = 1 ] && grep -q "holds the lock" "$T/err" || {
		kill -9 $pid
		fail "an apply on '$root' went ahead (exit $rc) while one on '$M' held the lock: $(cat "$T/err")"
	}
done
kill -CONT $pid
wait $pid || fail "the apply that held the lock failed"
bp 0 "$M" destroy "$CONFIGS"
rmdir "$M/sub"

# --- identities of directories ----------------------------------------------------
reset
bp 0 "$M" apply "$CONFIGS"
dirs=$(cd "$M" && find . -mindepth 1 -type d | LC_ALL=C sort)
[ -n "$dirs" ] || fail "the apply made no directory"
# A remount empties the tree; someone else makes the same directories.
umount "$M" && mount -t bpf bpf "$M" || fail "cannot remount $M"
(cd "$M" && echo "$dirs" | xargs mkdir -p) || fail "mkdir"
bp 0 "$M" destroy "$CONFIGS"
[ "$(cd "$M" && find . -mindepth 1 -type d | LC_ALL=C sort)" = "$dirs" ] ||
	fail "destroy after a remount removed directories someone else made: $(cd "$M" && find . -type d)"

# A forged record without an inode names a directory the tool never made.
reset
bp 0 "$M" apply "$CONFIGS"
mkdir "$M/x"
"$PY" - "$RUN"/ledger-*.json <<'PY' || fail "cannot forge a ledger record"
import json, sys
with open(sys.argv[1]) as f:
    d = json.load(f)
name = d["entries"][0]["manifest"]
d["entries"].append({"path": "x", "manifest": name, "dir": True})
d["entries"].sort(key=lambda e: e["path"])
with open(sys.argv[1], "w") as f:
    json.dump(d, f)
PY
bp 0 "$M" destroy "$CONFIGS"
[ -d "$M/x" ] || fail "a forged ledger record without an inode removed the directory x"
rmdir "$M/x"

# --- the runtime directory and the lock -------------------------------------------
reset
mkdir "$T/elsewhere"
ln -s "$T/elsewhere" "$T/rlink"
BPF_PROVISION_RUNTIME_DIR=$T/rlink bp 1 "$M" apply "$CONFIGS"
grep -q "runtime directory is a symlink" "$T/err" || fail "no clear error for a symlinked runtime directory: $(cat "$T/err")"
[ -z "$(ls -A "$T/elsewhere")" ] || fail "files were made through the symlinked runtime directory"
fresh "an apply refused for its runtime directory"

mkdir -m 0770 "$T/shared"
BPF_PROVISION_RUNTIME_DIR=$T/shared bp 1 "$M" apply "$CONFIGS"
grep -q "writable by no one else" "$T/err" || fail "no clear error for a group-writable runtime directory: $(cat "$T/err")"
fresh "an apply refused for a group-writable runtime directory"

reset
bp 0 "$M" apply "$CONFIGS"
lock=$(find "$RUN" -name '*.lock')
[ -n "$lock" ] || fail "no lock file in $RUN"
rm "$lock" && ln -s "$T/target" "$lock" || fail "cannot plant a symlink at $lock"
bp 1 "$M" destroy "$CONFIGS"
[ ! -e "$T/target" ] || fail "the lock was opened through a symlink (it made $T/target)"
rm "$lock"
bp 0 "$M" destroy "$CONFIGS"

for t in nan inf -inf -1 1e999; do
	bp 1 "$M" --lock-timeout "$t" plan "$CONFIGS"
	grep -q "lock-timeout" "$T/err" || fail "--lock-timeout $t: $(cat "$T/err")"
done

echo "roots: 4 spellings share a ledger; 4 roots share the lock; remounted and forged directories kept; runtime directory and lock symlinks refused"
