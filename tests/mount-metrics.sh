#!/bin/sh
# --mount (a bpffs mounted where there is none; a dry run mounts nothing) and
# --metrics-file (Prometheus text, written atomically, parsed back).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root to mount bpffs"
make_tmpdir
T=$TMPDIR_TEST
export BPF_PROVISION_RUNTIME_DIR="$T/run"
root="$T/not/yet/bpffs"
trap 'umount -l "$root" 2>/dev/null; rm -rf "$T"' EXIT
find_python
C="$T/configs"
pin_examples "$C"

is_bpffs() { [ "$(stat -f -c %T "$1" 2>/dev/null)" = bpf_fs ]; }

# Without --mount a root that is not a bpffs is an error (exit 1).
mkdir -p "$T/plain"
"$BPF_PROVISION" --bpffs "$T/plain" apply "$C" >/dev/null 2>"$T/err"
[ $? = 1 ] || fail "apply on a plain directory must exit 1"
grep -q "not a bpffs mount (mount one, or pass --mount)" "$T/err" || fail "message: $(cat "$T/err")"

# A dry run with --mount plans against the empty tree and mounts nothing.
"$BPF_PROVISION" --bpffs "$root" --mount apply --dry-run "$C" >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 2 ] || { cat "$T/err" >&2; fail "dry run with --mount: exit $rc, want 2"; }
grep -q "^Plan: 9 to create, 0 to replace, 0 to update, 0 to delete, 0 to adopt, 0 to release, 0 unchanged.$" "$T/out" ||
	fail "dry run plan: $(cat "$T/out")"
[ -e "$root" ] && fail "a dry run created the mount point"
"$BPF_PROVISION" --bpffs "$root" --mount plan "$C" >/dev/null 2>&1
[ -e "$root" ] && fail "plan created the mount point"

# apply --mount creates the directory, mounts bpffs (mode 0700) and converges.
"$BPF_PROVISION" --bpffs "$root" --mount --metrics-file "$T/bpf.prom" apply "$C" >"$T/out" 2>"$T/err" ||
	{ cat "$T/err" >&2; fail "apply --mount"; }
is_bpffs "$root" || fail "no bpffs mounted at $root"
# bpffs adds the sticky bit to its root, as on systemd's /sys/fs/bpf.
[ "$(stat -c %a "$root")" = 1700 ] || fail "mount mode $(stat -c %a "$root"), want 1700"
[ -e "$root/ns1/test1" ] || fail "apply --mount did not pin"

"$PY" - "$T/bpf.prom" "$root" <<'PY' || fail "metrics after apply"
import re, sys
text = open(sys.argv[1]).read()
vals = {}
for line in text.splitlines():
    if line.startswith("#"):
        assert re.match(r"^# (HELP|TYPE) bpf_provision_\w+ ", line), line
        continue
    m = re.match(r'^(\w+)(\{[^}]*\})? (\S+)$', line)
    assert m, line
    vals[m.group(1) + (m.group(2) or "")] = float(m.group(3))
root = sys.argv[2]
assert vals['bpf_provision_changes{bpffs="%s",action="create"}' % root] == 9, vals
assert vals['bpf_provision_last_run_success{bpffs="%s",dry_run="false",reason="ok"}' % root] == 1, vals
assert vals['bpf_provision_drift{bpffs="%s"}' % root] == 0, vals
PY

# Already a bpffs: --mount mounts nothing more.
n=$(grep -c " $root " /proc/self/mounts)
"$BPF_PROVISION" --bpffs "$root" --mount --metrics-file "$T/bpf.prom" apply --dry-run "$C" >/dev/null ||
	fail "converged dry run must exit 0"
[ "$(grep -c " $root " /proc/self/mounts)" = "$n" ] || fail "--mount stacked a second mount"
grep -q "^bpf_provision_changes{bpffs=\"$root\",action=\"unchanged\"} 9$" "$T/bpf.prom" ||
	fail "metrics of the no-op dry run: $(cat "$T/bpf.prom")"
ls "$T" | grep -q 'bpf.prom.' && fail "a temporary metrics file was left"

# Drift shows in the metrics of a dry run.
rm "$root/ns1/test1"
"$BPF_PROVISION" --bpffs "$root" --metrics-file "$T/bpf.prom" plan "$C" >/dev/null
grep -q "^bpf_provision_drift{bpffs=\"$root\"} 1$" "$T/bpf.prom" || fail "drift metric"
# Progress: on a terminal only, never in JSON or piped output.
rm -rf "$root/ns1"
"$BPF_PROVISION" --bpffs "$root" apply "$C" >"$T/out" 2>"$T/err" || fail "apply, piped"
grep -q applying "$T/err" && fail "progress printed to a non-terminal"
rm -rf "$root/ns1"
if command -v script >/dev/null; then
	script -qec "'$BPF_PROVISION' --bpffs '$root' apply '$C'" /dev/null >"$T/tty" 2>&1 ||
		fail "apply on a terminal"
	grep -q 'applying: 4/4' "$T/tty" || fail "no progress on a terminal: $(cat "$T/tty")"
	rm -rf "$root/ns1"
	script -qec "'$BPF_PROVISION' -o json --bpffs '$root' apply '$C'" /dev/null >"$T/tty" 2>&1 ||
		fail "apply -o json on a terminal"
	grep -q applying "$T/tty" && fail "progress printed under -o json"
else
	skip "script(1) missing: cannot test progress on a terminal"
fi
# Without privileges: one clear message, exit 1, nothing changed.
if command -v setpriv >/dev/null; then
	chmod 755 "$T" "$root"
	before=$(find "$root" | sort)
	setpriv --reuid=nobody --regid=nogroup --clear-groups env BPF_PROVISION_RUNTIME_DIR="$T/nobody" \
		"$BPF_PROVISION" --bpffs "$root" apply "$C" >"$T/out" 2>"$T/err"
	rc=$?
	[ $rc = 1 ] || fail "unprivileged apply: exit $rc, want 1"
	[ "$(wc -l <"$T/err")" = 1 ] || fail "unprivileged apply: want one message, got: $(cat "$T/err")"
	grep -q "need CAP_BPF" "$T/err" || fail "unprivileged apply message: $(cat "$T/err")"
	[ "$(find "$root" | sort)" = "$before" ] || fail "unprivileged apply changed the tree"
fi
echo "mount-metrics: ok"
