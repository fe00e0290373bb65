#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/boot.sh BPF_PROVISION CLANG BPF_CFLAGS
#
# The boot-like scenario (issue 18): a manifest directory of
# BENCH_MANIFESTS manifests (default 50), as /etc/bpf-provision.d holds at
# boot, applied into an empty private bpffs (mounted on a mktemp -d
# directory, never /sys/fs/bpf).  Each manifest pins the programs and maps
# of one object (BENCH_BOOT_PROGRAMS socket filters of about
# 9 * BENCH_BOOT_UNROLL instructions, sharing two maps) under its own
# directory, and makes BENCH_BOOT_MAPS standalone hash maps.  The baseline,
# in the same run, is the shell script an operator would write instead:
# per manifest `bpftool prog loadall OBJ DIR pinmaps DIR/maps` and one
# `bpftool map create` per standalone map.  Measured: the apply, the
# script, and a no-op plan of the applied tree (the drift check), with
# their program loads (strace: BPF_PROG_LOAD but libbpf's two-instruction
# probes).  Run by `make bench-boot`; needs root, bpftool and strace.
#
# Environment:
#   BENCH_MANIFESTS      manifests in the directory (default 50)
#   BENCH_BOOT_PROGRAMS  programs per object (default 4)
#   BENCH_BOOT_UNROLL    loop iterations unrolled per program (default 100)
#   BENCH_BOOT_MAPS      standalone maps per manifest (default 4)
#   BENCH_KEEP           keep the work directory
set -eu

if [ $# -ne 3 ]; then
	echo "usage: $0 BPF_PROVISION CLANG BPF_CFLAGS" >&2
	exit 2
fi
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
TOOL=$(abs "$1") CLANG=$2 BPF_CFLAGS=$3
N=${BENCH_MANIFESTS:-50}
P=${BENCH_BOOT_PROGRAMS:-4}
UNROLL=${BENCH_BOOT_UNROLL:-100}
K=${BENCH_BOOT_MAPS:-4}

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
for c in bpftool strace; do
	command -v "$c" >/dev/null 2>&1 || die "$c not found (tools/install-deps)"
done

# One object per manifest, each its own file (as packages ship them): the
# same source with another seed, so every file and program differs.
mkdir -p "$WORK/d" "$WORK/obj"
i=0
while [ "$i" -lt "$N" ]; do
	awk -v p="$P" -v unroll="$UNROLL" -v seed="$i" 'BEGIN {
		print "#include <linux/bpf.h>"
		print "#include <bpf/bpf_helpers.h>"
		print "struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 64);"
		print "\t__type(key, __u32); __type(value, __u64); } acc SEC(\".maps\");"
		print "struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 1024);"
		print "\t__type(key, __u32); __type(value, __u64); } seen SEC(\".maps\");"
		for (j = 0; j < p; j++) {
			printf "SEC(\"socket\") int prog%d(struct __sk_buff *skb)\n{\n", j
			printf "\t__u64 x = skb->len + %d;\n\t__u32 key;\n\t__u64 *v;\n", seed * 100 + j
			printf "#pragma unroll\n\tfor (int k = 0; k < %d; k++) {\n", unroll
			printf "\t\tx = x * 2654435761ULL + (x >> 7) + k;\n"
			printf "\t\tif (x & (1ULL << (k %% 60)))\n\t\t\tx ^= %d;\n\t}\n", seed + j + 1
			print "\tkey = x & 63;\n\tv = bpf_map_lookup_elem(&acc, &key);\n\tif (v)\n\t\t*v += x;"
			print "\tbpf_map_update_elem(&seen, &key, &x, BPF_ANY);\n\treturn 0;\n}"
		}
		print "char _license[] SEC(\"license\") = \"GPL\";"
	}' >"$WORK/obj/o$i.c"
	# shellcheck disable=SC2086 # BPF_CFLAGS is a list of flags
	"$CLANG" $BPF_CFLAGS -c -o "$WORK/obj/o$i.o" "$WORK/obj/o$i.c" ||
		die "cannot compile object $i"
	{
		printf 'version: 1\nname: m%d\nobjects:\n  - file: ../obj/o%d.o\n    name: o%d\n' "$i" "$i" "$i"
		printf '    sections:\n'
		printf '      - {map: acc, pinning: custom, path: m%d/maps/acc}\n' "$i"
		printf '      - {map: seen, pinning: custom, path: m%d/maps/seen}\n' "$i"
		j=0
		while [ "$j" -lt "$P" ]; do
			printf '      - {program: prog%d, pinning: custom, path: m%d/prog%d}\n' "$j" "$i" "$j"
			j=$((j + 1))
		done
		printf 'maps:\n'
		j=0
		while [ "$j" -lt "$K" ]; do
			printf '  - {path: m%d/cfg/c%d, type: hash, key_size: 4, value_size: 8, max_entries: 256}\n' "$i" "$j"
			j=$((j + 1))
		done
	} >"$WORK/d/m$(printf %03d "$i").yaml"
	# The same pins by hand, as a boot script would make them.
	{
		printf 'mkdir -p "$1/m%d/maps" "$1/m%d/cfg"\n' "$i" "$i"
		printf 'bpftool prog loadall "%s" "$1/m%d" pinmaps "$1/m%d/maps"\n' "$WORK/obj/o$i.o" "$i" "$i"
		j=0
		while [ "$j" -lt "$K" ]; do
			printf 'bpftool map create "$1/m%d/cfg/c%d" type hash key 4 value 8 entries 256 name c%d\n' "$i" "$j" "$j"
			j=$((j + 1))
		done
	} >>"$WORK/script.sh"
	i=$((i + 1))
done

# timed NAME CMD...: as traced (lib.sh), without strace, for the times.
timed() {
	name=$1
	shift
	t0=$(ns)
	"$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || { tail -n 5 "$WORK/$name.err" >&2; die "$name failed"; }
	t1=$(ns)
	T=$(secs "$t0" "$t1")
}

pins=$((N * (P + 2 + K)))
fresh_mount
timed base sh -e "$WORK/script.sh" "$MNT"
BASE_T=$T
[ "$(find "$MNT" -type f | wc -l)" -ge "$pins" ] || die "the script pinned fewer than $pins objects"
fresh_mount
traced base-loads sh -e "$WORK/script.sh" "$MNT"
BASE_LOADS=$LOADS

fresh_mount
timed apply "$TOOL" --bpffs "$MNT" apply "$WORK/d"
APPLY_T=$T
timed plan "$TOOL" --bpffs "$MNT" plan "$WORK/d"
PLAN_T=$T
grep -q "^Plan: 0 to create, 0 to replace, 0 to update, 0 to delete" "$WORK/plan.out" ||
	die "the plan after the apply is not a no-op: $(tail -n 1 "$WORK/plan.out")"
[ "$(find "$MNT" -type f | grep -vc '\.debug$')" = "$pins" ] || die "the apply pinned other than $pins objects"
traced plan-loads "$TOOL" --bpffs "$MNT" plan "$WORK/d"
PLAN_LOADS=$LOADS
fresh_mount
traced apply-loads "$TOOL" --bpffs "$MNT" apply "$WORK/d"
APPLY_LOADS=$LOADS

met() { if [ "$1" = yes ]; then echo met; else echo missed; fi; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }' && echo yes || true; }
echo "## bpf-provision benchmark: boot"
echo
echo "$N manifests, each one object of $P programs (about $((9 * UNROLL)) instructions) and 2 maps, and $K standalone maps: $pins pins; $(nproc) CPUs, Linux $(uname -r), load at the end $(cut -d' ' -f1 /proc/loadavg); all in one run."
echo
echo "| measurement | time (s) | ratio to the script | program loads | target | met |"
echo "|---|---|---|---|---|---|"
echo "| baseline: bpftool script | $BASE_T | 1.00 | $BASE_LOADS | - | - |"
echo "| apply of the directory, empty tree | $APPLY_T | $(ratio "$APPLY_T" "$BASE_T") | $APPLY_LOADS | <= 1.5x, $((N * P)) loads | $(met "$([ "$APPLY_LOADS" = $((N * P)) ] && le "$(ratio "$APPLY_T" "$BASE_T")" 1.5)") |"
echo "| no-op plan of the directory | $PLAN_T | $(ratio "$PLAN_T" "$BASE_T") | $PLAN_LOADS | 0 loads | $(met "$([ "$PLAN_LOADS" = 0 ] && echo yes)") |"
