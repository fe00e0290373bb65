# SPDX-License-Identifier: MIT
# Shared by the benchmark scripts; sourced, not run.  A work directory
# removed on exit (kept with BENCH_KEEP), the tool's ledger pointed into it,
# and fresh_mount: a private bpffs on a mktemp -d directory (never
# /sys/fs/bpf), the previous one unmounted.

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
