# SPDX-License-Identifier: MIT
# Shared helpers of the shell tests; sourced, not run.  The harness exports
# top_srcdir and top_builddir (Makefile.am AM_TESTS_ENVIRONMENT).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
BPF_PROVISION="$top_builddir/bpf-provision"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# A test that cannot get what it needs skips (automake's 77), loudly; under CI
# (.ci/run sets BPF_PROVISION_REQUIRE_ALL=1) a skip is a failure.
skip() {
	if [ "${BPF_PROVISION_REQUIRE_ALL:-0}" = 1 ]; then
		echo "FAIL (skip not allowed under BPF_PROVISION_REQUIRE_ALL): $*" >&2
		exit 1
	fi
	echo "SKIP: $*" >&2
	exit 77
}

# A private temporary directory removed on exit.
make_tmpdir() {
	TMPDIR_TEST=$(mktemp -d "${TMPDIR:-/tmp}/bpfprov-test.XXXXXX") || fail "mktemp"
	trap 'rm -rf "$TMPDIR_TEST"' EXIT
}

# The python3 that has Debian's jsonschema and yaml modules.
find_python() {
	for p in ${PYTHON3:-} /usr/bin/python3 python3; do
		if [ -x "$(command -v "$p" 2>/dev/null)" ] &&
			"$p" -c 'import jsonschema, yaml' 2>/dev/null; then
			PY=$p
			return 0
		fi
	done
	skip "no python3 with jsonschema and yaml (apt-get install python3-jsonschema)"
}

# A private bpffs for the test in $M, outside $T (from make_tmpdir) so that
# cleaning $T never recurses into a mount that failed to go away; never
# /sys/fs/bpf.  Replaces the EXIT trap, skips (a failure under CI) when not
# root, or no bpftool, bpffs or BPF map can be had, and points the tool's ledger and lock at
# $T/run, never /run.
mount_private_bpffs() { # NAME
	[ "$(id -u)" = 0 ] || skip "$1 needs root (bpffs mount, BPF maps and programs)"
	command -v bpftool >/dev/null 2>&1 || skip "no bpftool (apt-get install bpftool)"
	M=$(mktemp -d "${TMPDIR:-/tmp}/bpfprov-$1-bpffs.XXXXXX") || fail "mktemp"
	case $M in /sys/*) fail "refusing to use $M" ;; esac
	trap 'umount -l "$M" 2>/dev/null; rmdir "$M"; rm -rf "$T"' EXIT
	mount -t bpf bpf "$M" 2>"$T/err" || skip "cannot mount bpffs on $M: $(cat "$T/err")"
	bpftool -n map create "$M/probe" type array key 4 value 4 entries 1 name probe 2>"$T/err" ||
		skip "cannot create BPF maps: $(cat "$T/err")"
	BPF_PROVISION_RUNTIME_DIR=$T/run
	export BPF_PROVISION_RUNTIME_DIR
}

# Every entry under DIR with its type, mode, owner, group, inode and symlink
# target: equal listings mean nothing in the tree changed, not even an inode.
tree_listing() { # DIR
	(cd "$1" && find . -printf '%p %y %m %u %g %i %l\n' | LC_ALL=C sort)
}

# Waits until process PID has stopped itself (BPF_PROVISION_PAUSE_AT raises
# SIGSTOP before the step it names); kills it and fails after 4 s.
wait_stopped() { # PID WHAT
	_i=0
	until [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" = T ]; do
		_i=$((_i + 1))
		[ $_i -lt 200 ] || {
			kill -9 "$1"
			fail "$2 did not stop"
		}
		sleep 0.02
	done
}
