#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/programs.sh BPF_PROVISION CLANG BPF_CFLAGS
#
# The program-heavy scenario (issue 18): one generated object of
# BENCH_PROGRAMS socket filters of about 9 * BENCH_UNROLL instructions each,
# every program pinned by a manifest, on a private bpffs mounted on a
# mktemp -d directory (never /sys/fs/bpf).  Measured in the same run:
#   - the baseline: `bpftool prog loadall` of the object (one verifier run
#     per program, every program pinned);
#   - bpf-provision apply into the empty tree, and a no-op plan of it;
# each with its time, its ratio to the baseline, and its program loads
# (BPF_PROG_LOAD calls seen by strace, but libbpf's two-instruction probe;
# and the tool's own count at -v of the loads that learn tags).  Prints a
# Markdown table with the targets and whether each is met.  Run by
# `make bench-programs`; needs root, bpftool and strace.
#
# Environment:
#   BENCH_PROGRAMS   programs in the object (default 50)
#   BENCH_UNROLL     loop iterations unrolled per program (default 1000)
#   BENCH_KEEP       keep the work directory
set -eu

if [ $# -ne 3 ]; then
	echo "usage: $0 BPF_PROVISION CLANG BPF_CFLAGS" >&2
	exit 2
fi
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
TOOL=$(abs "$1") CLANG=$2 BPF_CFLAGS=$3
N=${BENCH_PROGRAMS:-50}
UNROLL=${BENCH_UNROLL:-1000}

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
for c in bpftool strace; do
	command -v "$c" >/dev/null 2>&1 || die "$c not found (tools/install-deps)"
done

# The object: N programs, each a long unrolled run of arithmetic and
# branches on the packet length, ending in one map update.
awk -v n="$N" -v unroll="$UNROLL" 'BEGIN {
	print "#include <linux/bpf.h>"
	print "#include <bpf/bpf_helpers.h>"
	print "struct {"
	print "\t__uint(type, BPF_MAP_TYPE_ARRAY);"
	print "\t__uint(max_entries, 64);"
	print "\t__type(key, __u32);"
	print "\t__type(value, __u64);"
	print "} acc SEC(\".maps\");"
	for (i = 0; i < n; i++) {
		printf "SEC(\"socket\") int heavy%d(struct __sk_buff *skb)\n{\n", i
		printf "\t__u64 x = skb->len + %d;\n\t__u32 key;\n\t__u64 *v;\n", i
		printf "#pragma unroll\n\tfor (int k = 0; k < %d; k++) {\n", unroll
		printf "\t\tx = x * 2654435761ULL + (x >> 7) + k;\n"
		printf "\t\tif (x & (1ULL << (k %% 60)))\n\t\t\tx ^= %d;\n\t}\n", i + 1
		print "\tkey = x & 63;\n\tv = bpf_map_lookup_elem(&acc, &key);\n\tif (v)\n\t\t*v += x;\n\treturn 0;\n}"
	}
	print "char _license[] SEC(\"license\") = \"GPL\";"
}' >"$WORK/heavy.c"
# shellcheck disable=SC2086 # BPF_CFLAGS is a list of flags
"$CLANG" $BPF_CFLAGS -c -o "$WORK/heavy.o" "$WORK/heavy.c" || die "cannot compile the object"
{
	printf 'version: 1\nname: heavy\nobjects:\n  - file: heavy.o\n    name: heavy\n    sections:\n'
	printf '      - map: acc\n        pinning: custom\n        path: heavy/acc\n'
	i=0
	while [ "$i" -lt "$N" ]; do
		printf '      - program: heavy%d\n        pinning: custom\n        path: heavy/p%d\n' "$i" "$i"
		i=$((i + 1))
	done
} >"$WORK/heavy.yaml"

# The tool's own count of the loads that learn tags (-v).
tag_loads() { sed -n 's/^bpf-provision: \([0-9]*\) programs\{0,1\} loaded to learn.*/\1/p' "$WORK/$1.err"; }

fresh_mount
mkdir -p "$MNT/base"
traced base bpftool prog loadall "$WORK/heavy.o" "$MNT/base"
BASE_T=$T BASE_LOADS=$LOADS
[ "$(find "$MNT/base" -type f | wc -l)" -ge "$N" ] || die "bpftool pinned fewer than $N programs"

fresh_mount
traced apply "$TOOL" --bpffs "$MNT" -v apply "$WORK/heavy.yaml"
APPLY_T=$T APPLY_LOADS=$LOADS APPLY_TAGS=$(tag_loads apply)
traced plan "$TOOL" --bpffs "$MNT" -v plan "$WORK/heavy.yaml"
PLAN_T=$T PLAN_LOADS=$LOADS PLAN_TAGS=$(tag_loads plan)
grep -q "^Plan: 0 to create, 0 to replace, 0 to update, 0 to delete" "$WORK/plan.out" ||
	die "the plan after the apply is not a no-op: $(tail -n 1 "$WORK/plan.out")"

met() { [ "$1" = yes ] && echo met || echo missed; }
echo "## bpf-provision benchmark: programs"
echo
echo "$N programs of about $((9 * UNROLL)) instructions each; $(nproc) CPUs, Linux $(uname -r); all in one run."
echo
echo "| measurement | time (s) | ratio to baseline | program loads (strace) | loads for tags (-v) | target | met |"
echo "|---|---|---|---|---|---|---|"
echo "| baseline: bpftool prog loadall | $BASE_T | 1.00 | $BASE_LOADS | - | - | - |"
echo "| apply into an empty tree | $APPLY_T | $(ratio "$APPLY_T" "$BASE_T") | $APPLY_LOADS | ${APPLY_TAGS:-?} | $N loads (1 per program) | $(met "$([ "$APPLY_LOADS" = "$N" ] && echo yes)") |"
echo "| no-op plan | $PLAN_T | $(ratio "$PLAN_T" "$BASE_T") | $PLAN_LOADS | ${PLAN_TAGS:-?} | 0 loads | $(met "$([ "$PLAN_LOADS" = 0 ] && echo yes)") |"
