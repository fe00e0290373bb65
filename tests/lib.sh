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

# A second private bpffs in $M2, after mount_private_bpffs: for an owner's
# tool (tc, bpftool) or a second tree.  The EXIT trap then also removes it,
# and the network namespace named in $NS if the test makes one.
mount_second_bpffs() { # NAME
	M2=$(mktemp -d "${TMPDIR:-/tmp}/bpfprov-$1-bpffs.XXXXXX") || fail "mktemp"
	case $M2 in /sys/*) fail "refusing to use $M2" ;; esac
	NS=
	trap second_bpffs_cleanup EXIT
	trap 'exit 1' HUP INT TERM
	mount -t bpf bpf "$M2" || fail "cannot mount bpffs on $M2"
}

second_bpffs_cleanup() {
	[ -z "$NS" ] || ip netns del "$NS" 2>/dev/null
	umount -l "$M2" 2>/dev/null
	rmdir "$M2" 2>/dev/null
	umount -l "$M" 2>/dev/null
	rmdir "$M"
	rm -rf "$T"
}

# Every entry under DIR with its type, mode, owner, group, inode and symlink
# target: equal listings mean nothing in the tree changed, not even an inode.
tree_listing() { # DIR
	(cd "$1" && find . -printf '%p %y %m %u %g %i %l\n' | LC_ALL=C sort)
}

# Takes the tool's lock (the first *.lock under $T/run) in a background
# flock for 3 s, as another run would hold it; HOLDER is its PID (wait for
# it).  Returns once the lock is held.
hold_lock() {
	LOCK=$(find "$T/run" -name '*.lock' | head -n 1)
	[ -n "$LOCK" ] || fail "${CASE:-}: no lock file in $T/run"
	rm -f "$T/locked"
	flock "$LOCK" sh -c "touch '$T/locked'; sleep 3" &
	HOLDER=$!
	_i=0
	while [ ! -e "$T/locked" ]; do
		_i=$((_i + 1))
		[ $_i -lt 100 ] || fail "${CASE:-}: flock never took the lock"
		sleep 0.05
	done
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

# Runs bpf-provision --bpffs ROOT ARGS, output in $T/out and $T/err, returning
# its status.  An apply or destroy (not a dry run, no fault injected) is run
# as a dry run first, both tracing their steps (BPF_PROVISION_TRACE_STEPS to
# a file): the dry run must list exactly the steps the real run took (its
# first ones, when it failed), and every entry the run added to the tree,
# removed, or put another object at must be the path of such a step.
run_checking_steps() { # ROOT ARGS...
	_root=$1
	shift
	case " $* " in
	*" --dry-run "* | *" plan "* | *" status "* | *" validate "* | *" inspect "*) _check=0 ;;
	*" apply "* | *" destroy "*) _check=1 ;;
	*) _check=0 ;;
	esac
	[ -z "${BPF_PROVISION_FAIL_AT:-}${BPF_PROVISION_PAUSE_AT:-}${BPF_PROVISION_TRACE_STEPS:-}" ] ||
		_check=0
	if [ "$_check" = 0 ]; then
		"$BPF_PROVISION" --bpffs "$_root" "$@" >"$T/out" 2>"$T/err"
		return
	fi
	rm -f "$T/steps.dry" "$T/steps.real"
	(cd "$_root" && find . -mindepth 1 -printf '%i %P\0') >"$T/tree.before" 2>/dev/null
	BPF_PROVISION_TRACE_STEPS=$T/steps.dry "$BPF_PROVISION" --dry-run --bpffs "$_root" "$@" \
		>/dev/null 2>&1
	BPF_PROVISION_TRACE_STEPS=$T/steps.real "$BPF_PROVISION" --bpffs "$_root" "$@" \
		>"$T/out" 2>"$T/err"
	_rc=$?
	(cd "$_root" && find . -mindepth 1 -printf '%i %P\0') >"$T/tree.after" 2>/dev/null
	"$PY" - "$T" "$_rc" <<'PYEOF' || fail "steps of 'bpf-provision $*': see above"
import re, sys
t, rc = sys.argv[1], int(sys.argv[2])
def lines(name):
    try:
        return [l.rstrip("\n") for l in open(f"{t}/{name}")]
    except FileNotFoundError:
        return []
dry, real = lines("steps.dry"), lines("steps.real")
if rc == 0 and dry != real or rc != 0 and real != dry[:len(real)]:
    sys.exit("the dry run listed other steps than the run took (exit %d):\n dry:  %s\n real: %s"
             % (rc, "\n       ".join(dry), "\n       ".join(real)))
if rc != 0:
    sys.exit(0)
def shown(raw):
    # Names as the tool prints them: escaped as src/escape.c escapes them.
    out = []
    for ch in raw.decode("utf-8", errors="surrogateescape"):
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF:
            out.append("\\x%02x" % (o - 0xDC00))
        elif ch in "\\\n\t":
            out.append({"\\": "\\\\", "\n": "\\n", "\t": "\\t"}[ch])
        elif o < 0x20 or o == 0x7F:
            out.append("\\x%02x" % o)
        else:
            out.append(ch)
    return "".join(out)
def tree(name):
    entries = open(f"{t}/{name}", "rb").read().split(b"\0")[:-1]
    return {shown(p): i for i, p in (e.split(b" ", 1) for e in entries)}
before, after = tree("tree.before"), tree("tree.after")
made, replaced, gone = set(), set(), set()
for l in real:
    s = l[len("bpf-provision: step: "):]
    for pat, into in ((r"mkdir (.*) \(manifest", made), (r"rename temporary \d+ to (.*)$", made),
                      (r"pin (?:map|program|link) (.*) at its free path \(", made),
                      (r"exchange temporary \d+ with (.*) \(inode", replaced),
                      (r"trash (.*) \(inode \d+\) into", gone), (r"rmdir (.*) \(inode", gone)):
        m = re.match(pat, s)
        if m:
            into.add(m.group(1))
bad = [f"added {p}" for p in after if p not in before and p not in made]
bad += [f"removed {p}" for p in before if p not in after and p not in gone]
bad += [f"another object at {p}" for p in after
        if p in before and before[p] != after[p] and p not in replaced and p not in made]
if bad:
    sys.exit("the run changed the tree where no step says:\n  " + "\n  ".join(bad))
PYEOF
	return "$_rc"
}

# The example manifests these tests were written against, in DIR (symlinks,
# so that their objects resolve beside them): every example but the
# attachments', whose links need interfaces (tests/attach.sh covers them).
pin_examples() {
	mkdir -p "$1" || fail "cannot make $1"
	for f in gobpf-site.yaml iproute2-site.yaml btf-site.yaml bpf; do
		ln -s "$top_builddir/configs/$f" "$1/$f" || fail "cannot link $f"
	done
}

# Inside a case of run_cases: an assertion that failed, the case going on
# (bad) or ending (fatal); a case that cannot run here (case_skip).
bad() { # WHY
	echo "FAIL: $CASE: $*" >&2
	# shellcheck disable=SC2031 # counted in the case's own subshell (run_cases)
	FAILS=$((FAILS + 1))
}

fatal() { # WHY
	bad "$@"
	exit 1
}

case_skip() { # WHY
	echo "SKIP: $CASE: $*" >&2
	exit 77
}

# Runs each CASE as the function case_CASE in a subshell of its own (FAILS
# counts its failures, CASE names it), prints a line per case and a summary
# timed from START, and ends the script: 1 when a case failed, or skipped
# under BPF_PROVISION_REQUIRE_ALL; 77 when every case skipped; else 0.
run_cases() { # SCRIPT CASE...
	_script=$1
	shift
	_passed=0 _failed= _skipped= _n=0
	for _c; do
		_n=$((_n + 1))
		_t0=$(date +%s)
		(
			CASE=$_c
			FAILS=0
			"case_$_c"
			[ "$FAILS" = 0 ]
		)
		_rc=$?
		case $_rc in
		0) _passed=$((_passed + 1)) ;;
		77) _skipped="$_skipped $_c" ;;
		*) _failed="$_failed $_c" ;;
		esac
		echo "$_script: case $_c: exit $_rc in $(($(date +%s) - _t0)) s"
	done
	_nf=$(echo "$_failed" | wc -w)
	_ns=$(echo "$_skipped" | wc -w)
	echo "$_script: $_n cases: $_passed passed, $_nf failed, $_ns skipped" \
		"in $(($(date +%s) - START)) s${_failed:+; failed:$_failed}${_skipped:+; skipped:$_skipped}"
	[ "$_nf" = 0 ] || exit 1
	if [ "$_ns" != 0 ] && [ "${BPF_PROVISION_REQUIRE_ALL:-0}" = 1 ]; then
		echo "FAIL (skip not allowed under BPF_PROVISION_REQUIRE_ALL):$_skipped" >&2
		exit 1
	fi
	[ "$_ns" != "$_n" ] || exit 77
	exit 0
}

# bpf-provision --bpffs $M ARGS through run_checking_steps: the test (or
# under run_cases the case) fails unless it exits STATUS.  Its stdout, runs
# of blanks squeezed, is left in $T/outs for expect_line.
bp() { # STATUS ARGS...
	_want=$1
	shift
	run_checking_steps "$M" "$@"
	_got=$?
	tr -s ' ' <"$T/out" >"$T/outs"
	[ "$_got" = "$_want" ] || {
		cat "$T/out" "$T/err" >&2
		fail "${CASE:-}: 'bpf-provision $*' exited $_got, want $_want"
	}
}

# As bp, for a run that must not change the tree (tree_state).
bp_untouched() { # STATUS ARGS...
	tree_state "$T/before"
	bp "$@"
	tree_state "$T/after"
	cmp -s "$T/before" "$T/after" || {
		diff "$T/before" "$T/after" >&2
		fail "${CASE:-}: 'bpf-provision $*' changed the bpffs tree"
	}
}

expect_line() { # LINE: the last bp's text output has it (runs of blanks squeezed)
	grep -Fxq -- "$1" "$T/outs" || { cat "$T/out" "$T/err" >&2; fail "${CASE:-}: no line '$1'"; }
}

# Everything about the tree under $M: each entry with type, mode, owner,
# group, inode, ctime and symlink target, and the kernel id of every pin.
tree_state() { # FILE
	(
		cd "$M" || exit 1
		find . -printf '%p %y %m %u %g %i %C@ %l\n' | LC_ALL=C sort
		find . -type f ! -path ./maps.debug ! -path ./progs.debug | LC_ALL=C sort |
			while read -r _p; do
				_id=$(bpftool map show pinned "$_p" 2>/dev/null | sed -n '1s/:.*//p')
				[ -n "$_id" ] ||
					_id=prog:$(bpftool prog show pinned "$_p" 2>/dev/null | sed -n '1s/:.*//p')
				echo "$_p id $_id"
			done
	) >"$1" || fail "${CASE:-}: cannot read the tree"
}
