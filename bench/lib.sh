# SPDX-License-Identifier: MIT
# Shared by the benchmark scripts; sourced, not run.  A work directory
# removed on exit (kept with BENCH_KEEP), the tool's ledger pointed into it,
# fresh_mount: a private bpffs on a mktemp -d directory (never
# /sys/fs/bpf), the previous one unmounted; timing and traced runs.

die() { echo "bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (it mounts a private bpffs)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bpfprov-bench.XXXXXX")
MNT=
cleanup() {
	if [ -n "$MNT" ]; then
		umount -l "$MNT" 2>/dev/null || true
		rmdir "$MNT" 2>/dev/null || true
	fi
	if [ -n "${BENCH_KEEP:-}" ]; then
		echo "bench: work directory kept: $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export BPF_PROVISION_RUNTIME_DIR="$WORK/run"
unset BPF_PROVISION_FAIL_AT BPF_PROVISION_FAIL_ERRNO

# A fresh private bpffs on $MNT for each measurement; the previous one goes.
fresh_mount() {
	if [ -n "$MNT" ]; then
		umount -l "$MNT"
		rmdir "$MNT"
		MNT=
		# Unpinned maps are freed by a kernel work queue: let it finish.
		sleep 1
	fi
	# No dot in the name: libbpf turns dots of a pin path into underscores
	# (bpftool ... pinmaps).
	MNT=$(mktemp -d "${TMPDIR:-/tmp}/bpfprov-bench-fs-XXXXXX")
	mount -t bpf bpf "$MNT" || { rmdir "$MNT"; MNT=; die "cannot mount a bpffs"; }
	rm -rf "$BPF_PROVISION_RUNTIME_DIR"
	mkdir -p "$BPF_PROVISION_RUNTIME_DIR"
}

ns() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# traced NAME CMD...: runs CMD under strace, its output in $WORK/NAME.*; sets
# T (s) and LOADS: its BPF_PROG_LOAD calls, but libbpf's two-instruction
# probes (memory accounting, on any first map create) and the loads the
# kernel refuses before its verifier (prog_flags 0x80000000: how the tool
# stops libbpf once it has relocated the programs whose tags it computes).
traced() {
	name=$1
	shift
	t0=$(ns)
	strace -f -qq -e trace=bpf -o "$WORK/$name.strace" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" ||
		{ tail -n 5 "$WORK/$name.err" >&2; die "$name failed"; }
	t1=$(ns)
	T=$(secs "$t0" "$t1")
	LOADS=$(grep 'BPF_PROG_LOAD' "$WORK/$name.strace" | grep -v 'prog_flags=0x80000000' |
		grep -vc 'insn_cnt=2,' || true)
}
