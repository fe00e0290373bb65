#!/bin/sh
# SPDX-License-Identifier: MIT
# Program identity from the ledger (issue 18; bpf-provision(1), IDENTITY):
# a plan of a tree the tool made loads no program into the kernel.  On a
# private bpffs mount (never /sys/fs/bpf) with a private
# BPF_PROVISION_RUNTIME_DIR, the three example manifests and a program
# array wired by program names (tail calls) are applied; then, counting the
# loads both ways - the tool's own count at -v ("N programs loaded to learn
# their tags") and the BPF_PROG_LOAD calls strace sees (but libbpf's
# two-instruction probe of memory accounting, made on any first map create):
#  1. a plan of the unchanged tree: 0 loads, exit 0, nothing to change;
#  2. the libbpf object rebuilt with other bytes (a section added) and the
#     same programs: the ledger vouches for the old bytes only, so its one
#     program's tag is computed from what libbpf relocates (no verifier
#     run), found unchanged (exit 0); applied, the ledger records the new
#     bytes and the next plan computes none;
#  3. a program pinned anew by hand (bpftool prog pin, another inode): the
#     ledger's record no longer claims the pin, so the plan judges that
#     program by its tag - computed, for the gobpf and the libbpf object
#     alike, with no load - and adopts it;
#  4. destroy --dry-run loads nothing: it compares no program;
#  5. into an empty tree, the plan and the apply each load every program
#     once (the plan to check it, at its load step), none to learn tags;
#  6. a program changed (one immediate): replaced with one load by the
#     apply (the plan's is its load step's, to check it), for the gobpf and
#     the libbpf object alike; a change the verifier refuses fails both.
# A load the kernel refuses before its verifier runs is no load: the tool
# stops libbpf that way, once it has relocated an object's programs
# (prog_flags 0x80000000, a flag no kernel knows).
# Needs root, strace and llvm-objcopy (tools/install-deps).
# shellcheck disable=SC2015 # A && B || fail: fail if either fails
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST
find_python
START=$(date +%s)
command -v strace >/dev/null 2>&1 || skip "no strace (apt-get install strace)"
OBJCOPY=$(command -v llvm-objcopy || command -v objcopy) || skip "no objcopy"

mount_private_bpffs loads
rm -f "$M/probe"
unset BPF_PROVISION_FAIL_AT BPF_PROVISION_FAIL_ERRNO BPF_PROVISION_TRACE_STEPS BPF_PROVISION_PAUSE_AT
mkdir -p "$T/run" "$T/w/bpf"
for f in gobpf-site.yaml iproute2-site.yaml btf-site.yaml; do
	cp "$top_builddir/configs/$f" "$T/w/" || fail "cannot copy $f"
done
cp "$top_builddir"/configs/bpf/*.o "$T/w/bpf/" || fail "cannot copy the example objects"
cp "$top_builddir/tests/bpf/tailcall.o" "$T/w/" &&
	cp "$top_srcdir/tests/manifests/good/tailcall-chain.yaml" "$T/w/chain.yaml" ||
	fail "cannot copy the tail-call chain"
W=$T/w

loads() { # STATUS ARGS...: bpf-provision -v ARGS under strace must exit STATUS; prints
	# "TOOL STRACE": the loads the tool counts, and the BPF_PROG_LOAD calls made
	_want=$1
	shift
	# LeakSanitizer cannot run under ptrace: a sanitizer build checks leaks elsewhere.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -qq -e trace=bpf -o "$T/strace" "$BPF_PROVISION" --bpffs "$M" -v "$@" \
		>"$T/out" 2>"$T/err"
	_got=$?
	[ "$_got" = "$_want" ] || { cat "$T/out" "$T/err" >&2; fail "$CASE: '$*' exited $_got, want $_want"; }
	_tool=$(sed -n 's/^bpf-provision: \([0-9]*\) programs\{0,1\} loaded to learn \(its\|their\) tags\{0,1\}$/\1/p' "$T/err")
	# Not counted: libbpf's probe of the kernel's memory accounting on the
	# first map it creates (bump_rlimit_memlock), two instructions, and
	# the loads refused before the verifier.
	_calls=$(grep 'BPF_PROG_LOAD' "$T/strace" | grep -v 'prog_flags=0x80000000' |
		grep -vc 'insn_cnt=2,')
	echo "${_tool:-none} $_calls"
}

# The loads of a plan are those that learn tags; a plan that loads none
# makes no BPF_PROG_LOAD at all.
CASE=setup
bp 0 apply "$W"
[ -e "$M/chain/entry" ] && [ -e "$M/btf/progs/count_packets" ] || fail "$CASE: not applied"

CASE=1-unchanged
[ "$(loads 0 plan "$W")" = "0 0" ] || fail "$CASE: loads (tool, strace): $(loads 0 plan "$W")"
grep -q '^Plan: 0 to create, 0 to replace, 0 to update, 0 to delete, 0 to adopt, 0 to release, [0-9]* unchanged\.$' "$T/out" ||
	fail "$CASE: $(cat "$T/out")"

CASE=2-rebuilt
printf 'rebuilt\n' >"$T/note"
"$OBJCOPY" --add-section .note.rebuilt="$T/note" "$W/bpf/btf_site.o" "$T/btf_site.o" &&
	! cmp -s "$W/bpf/btf_site.o" "$T/btf_site.o" && cp "$T/btf_site.o" "$W/bpf/btf_site.o" ||
	fail "$CASE: cannot rebuild btf_site.o"
got=$(loads 0 plan "$W")
[ "$got" = "0 0" ] || fail "$CASE: loads (tool, strace): $got, want 0 0"
grep -q 'BPF_PROG_LOAD.*prog_flags=0x80000000' "$T/strace" ||
	fail "$CASE: libbpf was not stopped at the load: the tag was not computed"
bp 0 apply "$W"
[ "$(loads 0 plan "$W")" = "0 0" ] || fail "$CASE: after the apply, loads: $(loads 0 plan "$W")"

CASE=3-foreign
# The same program pinned anew (another inode): the record no longer claims
# it.  Each object's tag is computed, and is the kernel's: adopted, with no
# load.
pin_anew() { # PIN
	_id=$(bpftool prog show pinned "$M/$1" | sed -n '1s/:.*//p')
	bpftool prog pin id "$_id" "$M/${1%/*}/again" && mv "$M/${1%/*}/again" "$M/$1" ||
		fail "$CASE: cannot pin $1 anew"
}
pin_anew ns1/progs/dummy_socket
got=$(loads 0 plan "$W")
[ "$got" = "0 0" ] || fail "$CASE: gobpf: loads (tool, strace): $got, want 0 0"
grep -q '^< program  *ns1/progs/dummy_socket  *adopt ' "$T/out" || fail "$CASE: $(cat "$T/out")"
pin_anew btf/progs/count_packets
# bpftool pins with mode 0600, the manifest wants 0640: an update, exit 2.
got=$(loads 2 plan "$W")
[ "$got" = "0 0" ] || fail "$CASE: libbpf: loads (tool, strace): $got, want 0 0"
grep -q '^< program  *btf/progs/count_packets  *adopt ' "$T/out" || fail "$CASE: $(cat "$T/out")"
# Not adopted, so destroy would leave it (btf/ is not owned): gone by hand,
# so that case 5 starts from an empty tree.
rm -f "$M/btf/progs/count_packets"

CASE=4-destroy
[ "$(loads 2 destroy --dry-run "$W")" = "none 0" ] || fail "$CASE: loads: $(loads 2 destroy --dry-run "$W")"

CASE=5-fresh
# Nothing pinned: the plan creates every program whatever its tag, so none
# is loaded to learn it.  A dry run loads each once, at its object's load
# step (to check it), and so does the apply, for real: no program twice.
bp 0 destroy "$W"
once() { # the BPF_PROG_LOAD calls of the last loads: "N" if no name comes twice
	grep 'BPF_PROG_LOAD' "$T/strace" | grep -v 'prog_flags=0x80000000' | grep -v 'insn_cnt=2,' |
		sed -n 's/.*prog_name="\([^"]*\)".*/\1/p' | sort | uniq -c |
		awk '$1 != 1 { twice = twice " " $2 } { n += $1 }
		     END { if (twice != "") print "twice:" twice; else print n }'
}
for cmd in plan apply; do
	want=2
	[ "$cmd" = apply ] && want=0
	got=$(loads "$want" "$cmd" "$W")
	[ "${got%% *}" = 0 ] || fail "$CASE: $cmd loaded ${got%% *} programs to learn tags, want 0"
	n=$(once)
	[ "${got##* }" = "$n" ] || fail "$CASE: $cmd: $got loads, $n named: $(grep -c 'prog_name=""' "$T/strace") unnamed"
	eval "n_$cmd=\$n"
done
case $n_apply in twice:*) fail "$CASE: apply loaded programs twice: $n_apply" ;; esac
# One per program the ledger now records (an object's program by name).
n_rec=$("$PY" - "$T/run" <<'PY'
import glob, json, sys
progs = set()
for f in glob.glob(sys.argv[1] + "/**", recursive=True):
    try:
        doc = json.load(open(f))
    except (OSError, ValueError):
        continue
    for e in doc.get("entries", []) if isinstance(doc, dict) else []:
        for p in e.get("programs", []):
            progs.add((e.get("object"), p["name"]))
print(len(progs))
PY
)
[ "$n_plan" = "$n_apply" ] && [ "$n_apply" = "$n_rec" ] && [ "$n_rec" -ge 5 ] ||
	fail "$CASE: a fresh plan made $n_plan loads, the apply $n_apply; the ledger records $n_rec programs"

[ "$(loads 0 plan "$W")" = "0 0" ] || fail "$CASE: after the apply, loads: $(loads 0 plan "$W")"

CASE=6-replaced
# patch OBJ SECTION OLD NEW: the first instruction OLD (hex) of the
# section becomes NEW.
patch() {
	"$OBJCOPY" --dump-section "$2=$T/sec" "$1" &&
		"$PY" - "$T/sec" "$3" "$4" <<'PY' && "$OBJCOPY" --update-section "$2=$T/sec" "$1" ||
import sys
f, old, new = sys.argv[1], bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3])
b = open(f, "rb").read()
if old not in b:
    sys.exit("instruction not found")
open(f, "wb").write(b.replace(old, new, 1))
PY
		fail "$CASE: cannot change $2 of $1"
}
# "r1 = 1" becomes "r1 = 2": another tag, still a valid program.
bump() { patch "$1" "$2" b701000001000000 b701000002000000; }
bump "$W/bpf/gobpf_site.o" socket/dummy
got=$(loads 2 plan "$W")
[ "$got" = "0 1" ] && [ "$(once)" = 1 ] || fail "$CASE: gobpf: plan loads (tool, strace): $got, want 0 1"
grep -q '^~ program  *ns1/progs/dummy_socket  *replace ' "$T/out" || fail "$CASE: $(cat "$T/out")"
got=$(loads 0 apply "$W")
[ "$got" = "0 1" ] && [ "$(once)" = 1 ] || fail "$CASE: gobpf: apply loads (tool, strace): $got, want 0 1"
[ "$(loads 0 plan "$W")" = "0 0" ] || fail "$CASE: gobpf: after the apply, loads: $(loads 0 plan "$W")"
# A change the verifier refuses ("r0 = *(u32 *)(r6 + 0)" reading r7, which
# is never set): its computed tag does not let it through the dry run,
# whose load step loads it as the apply would.
cp "$W/bpf/gobpf_site.o" "$T/good.o"
patch "$W/bpf/gobpf_site.o" socket/dummy 6160000000000000 6170000000000000
for cmd in plan apply; do
	bp_untouched 1 "$cmd" "$W"
	grep -q "program 'dummy_socket' .*: the verifier rejected it: R7 !read_ok" "$T/err" ||
		fail "$CASE: $cmd of a refused change: $(cat "$T/err")"
done
cp "$T/good.o" "$W/bpf/gobpf_site.o"
bump "$W/bpf/btf_site.o" socket
got=$(loads 2 plan "$W")
[ "$got" = "0 1" ] && [ "$(once)" = 1 ] || fail "$CASE: libbpf: plan loads (tool, strace): $got, want 0 1"
grep -q '^~ program  *btf/progs/count_packets  *replace ' "$T/out" || fail "$CASE: $(cat "$T/out")"
got=$(loads 0 apply "$W")
[ "$got" = "0 1" ] && [ "$(once)" = 1 ] || fail "$CASE: libbpf: apply loads (tool, strace): $got, want 0 1"
[ "$(loads 0 plan "$W")" = "0 0" ] || fail "$CASE: libbpf: after the apply, loads: $(loads 0 plan "$W")"
# The same refused change in the libbpf object: found by the dry run's load
# step too, though libbpf was only run up to the load to compute its tag.
patch "$W/bpf/btf_site.o" socket 6160000000000000 6170000000000000
for cmd in plan apply; do
	bp_untouched 1 "$cmd" "$W"
	grep -q "program 'count_packets' .*: the verifier rejected it: R7 !read_ok" "$T/err" ||
		fail "$CASE: libbpf: $cmd of a refused change: $(cat "$T/err")"
done

echo "verifier-loads.sh: 6 cases passed in $(($(date +%s) - START)) s"
