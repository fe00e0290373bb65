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
#   - bpf-provision apply into the empty tree, a no-op plan of it, and an
#     apply after every program changed (each replaced);
#   - the same object in gobpf's layout (maps/ and a section per program):
#     apply, no-op plan, apply after every program changed;
# each with its time, its ratio to the baseline, and its program loads
# (BPF_PROG_LOAD calls seen by strace, but libbpf's two-instruction probe
# and the loads refused before the verifier;
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
# branches on the packet length, ending in one map update; gen LAYOUT writes
# it as libbpf declares maps (BTF, one "socket" section) or as gobpf does
# (a "maps/acc" section, a section per program), and its manifest.
gen() {
	awk -v n="$N" -v unroll="$UNROLL" -v layout="$1" 'BEGIN {
		print "#include <linux/bpf.h>"
		print "#include <bpf/bpf_helpers.h>"
		if (layout == "gobpf") {
			print "struct gobpf_map { __u32 type, key_size, value_size, max_entries, map_flags, pinning; char ns[256]; };"
			print "struct gobpf_map acc SEC(\"maps/acc\") = { .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 64 };"
		} else {
			print "struct {"
			print "\t__uint(type, BPF_MAP_TYPE_ARRAY);"
			print "\t__uint(max_entries, 64);"
			print "\t__type(key, __u32);"
			print "\t__type(value, __u64);"
			print "} acc SEC(\".maps\");"
		}
		for (i = 0; i < n; i++) {
			if (layout == "gobpf")
				printf "SEC(\"socket/heavy%d\") int heavy%d(struct __sk_buff *skb)\n{\n", i, i
			else
				printf "SEC(\"socket\") int heavy%d(struct __sk_buff *skb)\n{\n", i
			printf "\t__u64 x = skb->len + %d;\n\t__u32 key;\n\t__u64 *v;\n", i
			printf "#pragma unroll\n\tfor (int k = 0; k < %d; k++) {\n", unroll
			printf "\t\tx = x * 2654435761ULL + (x >> 7) + k;\n"
			printf "\t\tif (x & (1ULL << (k %% 60)))\n\t\t\tx ^= %d;\n\t}\n", i + 1
			print "\tkey = x & 63;\n\tv = bpf_map_lookup_elem(&acc, &key);\n\tif (v)\n\t\t*v += x;\n\treturn 0;\n}"
		}
		print "char _license[] SEC(\"license\") = \"GPL\";"
	}' >"$WORK/$1.c"
	# shellcheck disable=SC2086 # BPF_CFLAGS is a list of flags
	"$CLANG" $BPF_CFLAGS -c -o "$WORK/$1.o" "$WORK/$1.c" || die "cannot compile the $1 object"
	{
		printf 'version: 1\nname: %s\nobjects:\n  - file: %s.o\n    name: %s\n    sections:\n' "$1" "$1" "$1"
		printf '      - map: acc\n        pinning: custom\n        path: %s/acc\n' "$1"
		i=0
		while [ "$i" -lt "$N" ]; do
			printf '      - program: heavy%d\n        pinning: custom\n        path: %s/p%d\n' "$i" "$1" "$i"
			i=$((i + 1))
		done
	} >"$WORK/$1.yaml"
}
gen heavy
gen gobpf

# Every program changed, the same way: the multiplier's low bytes (in each
# program's 64-bit immediate load) 2654435761 -> 2654435763.
change() {
	python3 - "$WORK/$1.o" <<'PY' || die "cannot change the programs of $1.o"
import sys
f = sys.argv[1]
b = open(f, "rb").read()
old, new = (2654435761).to_bytes(4, "little"), (2654435763).to_bytes(4, "little")
if b.count(old) < 1:
    sys.exit("no multiplier found")
open(f, "wb").write(b.replace(old, new))
PY
}

# The tool's own count of the loads that learn tags (-v).
tag_loads() { sed -n 's/^bpf-provision: \([0-9]*\) programs\{0,1\} loaded to learn.*/\1/p' "$WORK/$1.err"; }
noop() { # NAME: the last run was a no-op plan
	grep -q "^Plan: 0 to create, 0 to replace, 0 to update, 0 to delete" "$WORK/$1.out" ||
		die "$1: not a no-op: $(tail -n 1 "$WORK/$1.out")"
}

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
noop plan
change heavy
traced changed "$TOOL" --bpffs "$MNT" -v apply "$WORK/heavy.yaml"
CH_T=$T CH_LOADS=$LOADS CH_TAGS=$(tag_loads changed)
grep -q "^Plan: 0 to create, $N to replace" "$WORK/changed.out" ||
	die "changed: not $N replaced: $(tail -n 1 "$WORK/changed.out")"

fresh_mount
traced gapply "$TOOL" --bpffs "$MNT" -v apply "$WORK/gobpf.yaml"
G_APPLY_T=$T G_APPLY_LOADS=$LOADS G_APPLY_TAGS=$(tag_loads gapply)
traced gplan "$TOOL" --bpffs "$MNT" -v plan "$WORK/gobpf.yaml"
noop gplan
G_PLAN_LOADS=$LOADS
change gobpf
traced gchanged "$TOOL" --bpffs "$MNT" -v apply "$WORK/gobpf.yaml"
G_CH_T=$T G_CH_LOADS=$LOADS G_CH_TAGS=$(tag_loads gchanged)
grep -q "^Plan: 0 to create, $N to replace" "$WORK/gchanged.out" ||
	die "gobpf changed: not $N replaced: $(tail -n 1 "$WORK/gchanged.out")"

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
echo "| apply after every program changed | $CH_T | $(ratio "$CH_T" "$BASE_T") | $CH_LOADS | ${CH_TAGS:-?} | $N loads (1 per program replaced) | $(met "$([ "$CH_LOADS" = "$N" ] && echo yes)") |"
echo "| gobpf layout: apply into an empty tree | $G_APPLY_T | $(ratio "$G_APPLY_T" "$BASE_T") | $G_APPLY_LOADS | ${G_APPLY_TAGS:-?} | $N loads | $(met "$([ "$G_APPLY_LOADS" = "$N" ] && echo yes)") |"
echo "| gobpf layout: no-op plan | - | - | $G_PLAN_LOADS | - | 0 loads | $(met "$([ "$G_PLAN_LOADS" = 0 ] && echo yes)") |"
echo "| gobpf layout: apply after every program changed | $G_CH_T | $(ratio "$G_CH_T" "$BASE_T") | $G_CH_LOADS | ${G_CH_TAGS:-?} | $N loads (1 per program replaced) | $(met "$([ "$G_CH_LOADS" = "$N" ] && echo yes)") |"
