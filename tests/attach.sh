#!/bin/sh
# shellcheck disable=SC2031 # FAILS is counted in each case's own subshell (run_cases)
# SPDX-License-Identifier: MIT
# Attachments (bpf-provision.yaml(5), ATTACHMENTS): programs attached as BPF
# links pinned in bpffs - XDP, tcx ingress and egress, a cgroup skb program,
# a tracepoint - by manifests' `attach:` items.  Each case gets a fresh
# private bpffs, fresh network namespaces (vethN in $NS, its peer peerN in
# $NSP) and cgroups of its own; the tool runs inside $NS (nsenter --net, not
# `ip netns exec`, which would remount /sys).  The kernel is asked what each
# hook holds (bpftool link, net and cgroup show; tcx hooks and link details
# by BPF_PROG_QUERY and BPF_OBJ_GET_INFO_BY_FD, which bpftool 7.1 lacks), and
# traffic is counted or dropped by the attached programs: pings across the
# veth pair, from processes in the cgroups, getppid(2) calls.
#
# Cases: plan shows `+ link PATH`, the links outlive the tool, a re-apply is
# a no-op; a changed program goes into the same link (`* link`, same link
# id, new program id) under a ping flood without a packet going uncounted;
# a hook that differs is a new link (`~ link`), a link no longer declared is
# removed (`- link`, hook empty); every step of an apply made to fail
# (BPF_PROVISION_FAIL_AT) leaves every hook on the same link and program and
# the tree as it was; destroy detaches what it made and leaves other tools'
# attachments alone; a missing interface is an error at its FILE:LINE:COL
# with nothing applied, or skipped with a warning when `optional: true`.
# Tracepoints need tracefs: it is mounted only inside private mount
# namespaces (unshare -m), never on the host.
#
# One shell function per case, each run in a subshell, as in objects.sh: a
# failed assertion prints "FAIL: CASE: why" and the case goes on where that
# makes sense.  Needs root.  Never touches /sys/fs/bpf.
# shellcheck disable=SC2015 # A && B || bad: bad if either fails
# shellcheck disable=SC2317 # the case_ functions are called as "case_$c"
# shellcheck disable=SC2046 # set -- $(link_of PATH FIELD...): one word a field
# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST
find_python

BPF=$top_builddir/tests/bpf
REAL_BPF_PROVISION=$BPF_PROVISION
CASE=setup
START=$(date +%s)

for c in ip nsenter unshare ping; do
	command -v $c >/dev/null 2>&1 ||
		skip "no $c (apt-get install iproute2 util-linux iputils-ping)"
done

mount_private_bpffs attach

# A second private bpffs for programs other tools attach (the foreign ones).
M2=$(mktemp -d "${TMPDIR:-/tmp}/bpfprov-attach2-bpffs.XXXXXX") || fail "mktemp"
case $M2 in /sys/*) fail "refusing to use $M2" ;; esac

NS=bp-attach-$$
NSP=bp-attach-$$-peer
# The mount points of file system type TYPE (in /proc/self/mountinfo the
# type follows the "-" field; the optional fields before it vary in number).
mounts_of() { # TYPE
	awk -v t="$1" '{ for (i = 7; i < NF && $i != "-"; i++); if ($(i + 1) == t) print $5 }' \
		/proc/self/mountinfo
}
CGROOT=$(mounts_of cgroup2 | head -n 1)
CGPREFIX=bp-attach-$$
TRACEFS=$T/tracefs # tracefs is mounted here only inside private mount namespaces

cleanup() {
	ip netns del "$NS" 2>/dev/null
	ip netns del "$NSP" 2>/dev/null
	if [ -n "$CGROOT" ]; then
		for _cg in "$CGROOT/$CGPREFIX"-*; do
			[ -d "$_cg" ] || continue
			# Processes left in it go back to the root cgroup first.
			while read -r _p; do
				echo "$_p" >"$CGROOT/cgroup.procs"
			done <"$_cg/cgroup.procs" 2>/dev/null
			rmdir "$_cg" 2>/dev/null || echo "attach.sh: cannot remove cgroup $_cg" >&2
		done
	fi
	umount -l "$M2" 2>/dev/null
	rmdir "$M2" 2>/dev/null
	umount -l "$M" 2>/dev/null
	rmdir "$M"
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
mount -t bpf bpf "$M2" || fail "cannot mount bpffs on $M2"
unset BPF_PROVISION_FAIL_AT BPF_PROVISION_FAIL_ERRNO BPF_PROVISION_TRACE_STEPS BPF_PROVISION_PAUSE_AT

[ -n "$CGROOT" ] && [ -d "$CGROOT" ] || skip "no cgroup2 mount in /proc/self/mountinfo"
mkdir "$T/tracefs" || fail "mkdir"

# The tool in the test's network namespace (run_checking_steps runs
# $BPF_PROVISION): bp-net plainly; bp-tracefs in a private mount namespace
# with tracefs mounted at $TRACEFS (the tool finds it in mountinfo);
# bp-nomount in a private mount namespace without any tracefs (for --mount,
# which mounts one at /sys/kernel/tracing there, never on the host).  One
# script, called by three names.
printf "NS='%s'\nREAL='%s'\nTRACEFS='%s'\n" "$NS" "$REAL_BPF_PROVISION" "$TRACEFS" >"$T/bp.env"
cat >"$T/bp-net" <<'EOF'
#!/bin/sh
. "${0%/*}/bp.env"
case ${0##*/}:${BP_INNER:-} in
bp-tracefs: | bp-nomount:)
	export BP_INNER=1
	exec unshare -m --propagation private "$0" "$@"
	;;
bp-tracefs:1)
	mount -t tracefs nodev "$TRACEFS" || exit 1
	;;
bp-nomount:1)
	awk '{ for (i = 7; i < NF && $i != "-"; i++); if ($(i + 1) == "tracefs") print $5 }' \
		/proc/self/mountinfo | while read -r m; do
		umount -l "$m" || exit 1
	done || exit 1
	;;
esac
unset BP_INNER
exec nsenter --net="/run/netns/$NS" "$REAL" "$@"
EOF
chmod +x "$T/bp-net" && ln -s bp-net "$T/bp-tracefs" && ln -s bp-net "$T/bp-nomount" ||
	fail "cannot write the wrappers"
BPF_PROVISION=$T/bp-net

# What bpftool 7.1 cannot tell: a pinned link's details (tcx links are "type
# 11" to it, XDP links have no interface, perf event links no tracepoint),
# and the programs and links on a tcx hook.  Raw bpf(2) through ctypes.
cat >"$T/bpfq.py" <<'PY'
import ctypes, json, os, socket, struct, sys

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
NR_BPF = {"x86_64": 321, "aarch64": 280, "riscv64": 280, "s390x": 351,
          "ppc64le": 361, "i686": 357, "armv7l": 386}[os.uname().machine]
BPF_OBJ_GET, BPF_OBJ_GET_INFO_BY_FD, BPF_PROG_QUERY = 7, 15, 16
TCX = {"ingress": 46, "egress": 47}  # BPF_TCX_INGRESS, BPF_TCX_EGRESS
LINK_TYPES = {1: "raw_tracepoint", 2: "tracing", 3: "cgroup", 4: "iter", 5: "netns",
              6: "xdp", 7: "perf_event", 8: "kprobe_multi", 9: "struct_ops",
              10: "netfilter", 11: "tcx", 12: "uprobe_multi", 13: "netkit"}


def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(bytes(attr), 128)
    r = libc.syscall(NR_BPF, cmd, buf, 128)
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r, buf.raw


def obj_get(path):
    p = ctypes.create_string_buffer(path.encode())
    fd, _ = bpf(BPF_OBJ_GET, struct.pack("=QII", ctypes.addressof(p), 0, 0))
    return fd


def link_info(fd):
    kind = os.readlink("/proc/self/fd/%d" % fd)
    if kind != "anon_inode:bpf-link":
        raise OSError(22, "not a link but " + kind)
    info = ctypes.create_string_buffer(256)
    bpf(BPF_OBJ_GET_INFO_BY_FD, struct.pack("=IIQ", fd, 256, ctypes.addressof(info)))
    ltype, lid, prog_id = struct.unpack_from("=III", info.raw, 0)
    d = {"id": lid, "type": LINK_TYPES.get(ltype, str(ltype)), "prog_id": prog_id}
    if ltype in (6, 11, 13):  # xdp, tcx, netkit: the ifindex first
        d["ifindex"], = struct.unpack_from("=I", info.raw, 16)
        if ltype != 6:
            d["attach_type"], = struct.unpack_from("=I", info.raw, 20)
    elif ltype == 3:  # cgroup
        d["cgroup_id"], d["attach_type"] = struct.unpack_from("=QI", info.raw, 16)
    elif ltype == 7:  # perf_event: Linux 6.6+ tells its kind and tracepoint
        name = ctypes.create_string_buffer(256)
        struct.pack_into("=IIQI", info, 16, 0, 0, ctypes.addressof(name), 256)
        try:
            bpf(BPF_OBJ_GET_INFO_BY_FD, struct.pack("=IIQ", fd, 256, ctypes.addressof(info)))
            if struct.unpack_from("=I", info.raw, 16)[0] == 5:  # BPF_PERF_EVENT_TRACEPOINT
                d["tracepoint"] = name.value.decode()
        except OSError:
            pass
    return d


def tcx_query(ifindex, direction):
    progs = (ctypes.c_uint32 * 64)()
    links = (ctypes.c_uint32 * 64)()
    attr = struct.pack("=IIIIQIIQQQQ", ifindex, TCX[direction], 0, 0, ctypes.addressof(progs),
                       64, 0, 0, ctypes.addressof(links), 0, 0)
    _, out = bpf(BPF_PROG_QUERY, attr)
    n, = struct.unpack_from("=I", out, 24)
    return list(progs[:n]), list(links[:n])


cmd, args = sys.argv[1], sys.argv[2:]
try:
    if cmd == "link":  # PATH [FIELD...]: the pinned link's info, JSON or its fields ("-": none)
        d = link_info(obj_get(args[0]))
        if len(args) == 1:
            print(json.dumps(d, sort_keys=True))
        else:
            print(" ".join(str(d.get(f, "-")) for f in args[1:]))
    elif cmd == "tcx":  # IFNAME ingress|egress: "progs ID... links ID..."
        progs, links = tcx_query(socket.if_nametoindex(args[0]), args[1])
        print(" ".join(["progs"] + [str(i) for i in progs] + ["links"] + [str(i) for i in links]))
    elif cmd == "tcx-probe":  # exit 0 when the kernel has tcx hooks (Linux 6.6+)
        tcx_query(socket.if_nametoindex("lo"), "ingress")
    elif cmd == "ifindex":  # IFNAME
        print(socket.if_nametoindex(args[0]))
    else:
        sys.exit("bpfq: unknown command " + cmd)
except OSError as e:
    if cmd == "link" and len(args) > 1:
        print(" ".join("-" for _ in args[1:]))  # as many words as fields asked for
    sys.exit("bpfq %s: %s" % (" ".join(sys.argv[1:]), e))
PY

# --- helpers -------------------------------------------------------------------

excerpt() { # FILE: its first lines, indented, for a message
	sed -n '1,8s/^/    | /p' "$1"
}

in_a() { nsenter --net="/run/netns/$NS" "$@"; }  # CMD...: in the tool's namespace
in_b() { nsenter --net="/run/netns/$NSP" "$@"; } # CMD...: in the peer namespace

# Fresh namespaces: vethN in $NS, its peer peerN in $NSP, N = 0, 1, 2, all
# up; veth0 10.199.0.1/24, peer0 10.199.0.2/24.  The old ones, and what was
# attached to their interfaces, go.
setup_net() {
	ip netns del "$NS" 2>/dev/null
	ip netns del "$NSP" 2>/dev/null
	ip netns add "$NS" 2>"$T/err" && ip netns add "$NSP" 2>>"$T/err" ||
		fatal "cannot add network namespaces: $(cat "$T/err")"
	for _i in 0 1 2; do
		in_a ip link add "veth$_i" type veth peer name "peer$_i" netns "$NSP" 2>"$T/err" &&
			in_a ip link set "veth$_i" up && in_b ip link set "peer$_i" up ||
			fatal "cannot make veth$_i/peer$_i: $(cat "$T/err")"
	done
	in_a ip link set lo up && in_b ip link set lo up &&
		in_a ip addr add 10.199.0.1/24 dev veth0 && in_b ip addr add 10.199.0.2/24 dev peer0 ||
		fatal "cannot address veth0/peer0"
}

# A fresh, empty bpffs and no ledger.  The links pinned in the old one die
# with it, and their hooks are waited for to be free: those of $NS, and the
# cgroups of the case (none of them holds another program at a reset).
reset() {
	_ids=$(cd "$M" && find . -type f ! -name '*.debug' -exec "$PY" "$T/bpfq.py" link {} id \; \
		2>/dev/null | grep -v '^-$')
	umount "$M" && mount -t bpf bpf "$M" || fatal "cannot remount $M"
	rm -rf "$T/run"
	tree_listing "$M" >"$T/fresh"
	for _id in $_ids; do
		eventually link_gone "$_id" || fatal "link $_id outlived its bpffs"
	done
	[ ! -e "/run/netns/$NS" ] || eventually hooks_free || fatal "hooks still held after a reset"
	for _cg in "$CGROOT/$CGPREFIX-$CASE"-*; do
		[ ! -d "$_cg" ] || eventually cg_holds "$_cg" "" ||
			fatal "$_cg still holds $(cg_progs "$_cg") after a reset"
	done
}

reset2() { # the same for the foreign programs' bpffs
	umount "$M2" && mount -t bpf bpf "$M2" || fatal "cannot remount $M2"
}

workdir() { # OBJECT...: W, a directory of the case's own with copies of the objects
	W=$T/$CASE
	mkdir -p "$W" || fatal "mkdir $W"
	for _o; do
		cp "$BPF/$_o" "$W/" || fatal "no object $BPF/$_o (built by make check)"
	done
}

mkcg() { # NAME: a new cgroup $CGROOT/$CGPREFIX-$CASE-NAME, its path on stdout
	_cg=$CGROOT/$CGPREFIX-$CASE-$1
	rmdir "$_cg" 2>/dev/null
	mkdir "$_cg" || fatal "cannot make cgroup $_cg"
	echo "$_cg"
}

in_cg() { # CGROUP CMD...: CMD run in the cgroup
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$@"
}

bp() { # STATUS ARGS...: bpf-provision --bpffs $M ARGS; bad unless it exits STATUS
	_want=$1
	shift
	run_checking_steps "$M" "$@"
	_got=$?
	tr -s ' ' <"$T/out" >"$T/outs"
	if [ -n "${ATTACH_VERBOSE:-}" ]; then # ATTACH_VERBOSE=1: every run's output
		echo "### $CASE: bpf-provision $* -> $_got" >&2
		sed 's/^/    out| /' "$T/out" >&2
		sed 's/^/    err| /' "$T/err" >&2
	fi
	[ "$_got" = "$_want" ] && return 0
	bad "'bpf-provision $*' exited $_got, want $_want
$(excerpt "$T/err"; excerpt "$T/out")"
	return 1
}

has_change() { # SYMBOL PATH: the last plan's text has the change line "SYMBOL link PATH ..."
	awk -v s="$1 link $2 " 'index($0, s) == 1 { f = 1 } END { exit !f }' "$T/outs"
}

expect_change() { # SYMBOL PATH
	has_change "$1" "$2" ||
		bad "the plan has no line '$1 link $2 ...':
$(excerpt "$T/out")"
}

no_change() { # PATH: the last plan has no change line for PATH
	! awk -v p="$1" '/^[-+~*] / && $3 == p { f = 1 } END { exit !f }' "$T/outs" ||
		bad "the plan changes $1: $(grep -F " $1 " "$T/outs")"
}

converged() { # MANIFEST: plan exits 0 and lists no change
	bp 0 plan "$1" || return 1
	! grep -q '^[-+~*] ' "$T/out" ||
		bad "a plan right after the apply is not empty: $(grep '^[-+~*] ' "$T/out" | head -n 3)"
}

# PATH [FIELD...]: the link pinned at PATH under $M (bpfq): JSON, or the
# fields asked for on one line, each "-" when there is no such link.
link_of() {
	_p=$1
	shift
	"$PY" "$T/bpfq.py" link "$M/$_p" "$@" 2>"$T/bq.err"
}

prog_name() { # ID: the name of program ID
	bpftool -j prog show id "$1" 2>/dev/null |
		"$PY" -c 'import json, sys; print(json.load(sys.stdin)["name"])' 2>/dev/null
}

prog_tag() { # ID: the tag of program ID
	bpftool -j prog show id "$1" 2>/dev/null |
		"$PY" -c 'import json, sys; print(json.load(sys.stdin)["tag"])' 2>/dev/null
}

# bpftool link show lists link ID with program PROG (bpftool's own view).
bpftool_has_link() { # ID PROG
	bpftool -j link show 2>/dev/null | "$PY" -c '
import json, sys
want = (int(sys.argv[1]), int(sys.argv[2]))
sys.exit(0 if any((l["id"], l["prog_id"]) == want for l in json.load(sys.stdin)) else 1)' "$1" "$2"
}

link_gone() { # ID: no link ID is left in the kernel
	! bpftool link show id "$1" >/dev/null 2>&1
}

# A link unpinned is released by the kernel a little later (after an RCU
# grace period, by a work item; its id goes before its hook is let go): what
# must be gone is waited for.
eventually() { # CMD...: retries CMD until it succeeds; fails after 3 to 4 s
	_e=$(($(date +%s) + 4))
	until "$@"; do
		[ "$(date +%s)" -lt "$_e" ] || return 1
		sleep 0.02
	done
}

ifindex() { # IFNAME: its ifindex in $NS
	in_a "$PY" "$T/bpfq.py" ifindex "$1"
}

xdp_on() { # IFNAME: "ID MODE" of the XDP program on IFNAME in $NS (bpftool net show), or "-"
	in_a bpftool -j net show dev "$1" 2>/dev/null | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
x = [e for n in d for e in n.get("xdp", [])]
print(" ".join("%s %s" % (e["id"], e["mode"]) for e in x) or "-")'
}

tcx_on() { # IFNAME DIRECTION: "progs ID... links ID..." of the tcx hook in $NS
	in_a "$PY" "$T/bpfq.py" tcx "$1" "$2"
}

cg_progs() { # CGROUP: "ID:NAME:ATTACH_TYPE ..." attached to it (bpftool cgroup show), sorted
	bpftool -j cgroup show "$1" 2>/dev/null | "$PY" -c '
import json, sys
t = sys.stdin.read().strip()
print(" ".join(sorted("%s:%s:%s" % (p["id"], p["name"], p["attach_type"])
                      for p in (json.loads(t) if t else []))))'
}

value() { # MAP-PATH KEY: the u64 at u32 KEY of the map pinned at MAP-PATH under $M
	bpftool -j map lookup pinned "$M/$1" key "$2" 0 0 0 2>"$T/bt.err" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
print(int.from_bytes(bytes(int(b, 16) for b in d["value"]), "little"))' 2>/dev/null ||
		echo none
}

ping_b() { # COUNT: pings from the peer namespace to veth0; prints "TRANSMITTED RECEIVED"
	in_b ping -n -c "$1" -i 0.05 -W 1 10.199.0.1 >"$T/ping.out" 2>&1
	sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$T/ping.out"
}

ping_a() { # COUNT: pings from $NS (veth0) to peer0; prints "TRANSMITTED RECEIVED"
	in_a ping -n -c "$1" -i 0.05 -W 1 10.199.0.2 >"$T/ping.out" 2>&1
	sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$T/ping.out"
}

no_xdp() { [ "$(xdp_on "$1")" = - ]; }                         # IFNAME
tcx_empty() { [ "$(tcx_on "$1" "$2")" = "progs links" ]; }     # IFNAME DIRECTION
cg_holds() { [ "$(cg_progs "$1")" = "$2" ]; }                  # CGROUP "ID:NAME:TYPE ...": exactly
hooks_free() { # no XDP program and no tcx program on any veth of $NS
	for _i in veth0 veth1 veth2; do
		no_xdp "$_i" || return 1
		[ "$TCX" != 1 ] || { tcx_empty "$_i" ingress && tcx_empty "$_i" egress; } || return 1
	done
}

need_tcx() {
	[ "$TCX" = 1 ] || case_skip "the kernel has no tcx hooks (Linux 6.6+): $TCX_WHY"
}

# The fresh mount's listing: destroy must leave exactly it.
back_to_fresh() { # WHAT
	tree_listing "$M" >"$T/after"
	cmp -s "$T/fresh" "$T/after" ||
		bad "$1 left the tree different from the fresh mount's:
$(diff "$T/fresh" "$T/after" | sed -n '1,8s/^/    | /p')"
}

# Everything the fault loops compare: the tree (the inodes of pins too: a
# rollback puts back the same object, but may make a directory anew), every
# pinned link with its hook and program, the XDP programs, the tcx hooks of
# every interface of $NS and the programs on the cgroups named.
hooks_state() { # FILE CGROUP...
	_f=$1
	shift
	{
		(cd "$M" && find . \( -type f -printf '%p %y %m %u %g %i\n' \) -o -printf '%p %y %m %u %g %l\n' |
			LC_ALL=C sort)
		echo "## links"
		(cd "$M" && find . -type f ! -path ./maps.debug ! -path ./progs.debug | LC_ALL=C sort) |
			while read -r _p; do
				_l=$("$PY" "$T/bpfq.py" link "$M/$_p" 2>/dev/null) && echo "$_p $_l"
			done
		for _i in veth0 veth1 veth2; do
			echo "## $_i xdp $(xdp_on "$_i")"
			if [ "$TCX" = 1 ]; then
				echo "## $_i tcx ingress $(tcx_on "$_i" ingress)"
				echo "## $_i tcx egress $(tcx_on "$_i" egress)"
			fi
		done
		for _cg; do
			echo "## $_cg $(cg_progs "$_cg")"
		done
	} >"$_f" 2>&1
}

steps_of() { # the K of the last run with BPF_PROVISION_TRACE_STEPS=1
	sed -n 's/^bpf-provision: \([0-9]*\) steps$/\1/p' "$T/err" | tail -n 1
}

# Runs `CMD MANIFEST` (apply or destroy) once with SETUP before it to learn
# its K steps, runs SETUP again and makes each step 1..K fail in turn: exit
# 1, the rollback message, and hooks_state exactly as before each time, and
# for apply the ledger too (a destroy rolled back makes directories anew,
# which the ledger records); no SETUP between the failures: each rollback
# must leave a tree the next attempt starts from.  Then step K+1 (none) and
# the run succeeds.
fault_loop() { # SETUP CMD MANIFEST CGROUP...
	_setup=$1 _cmd=$2 _mf=$3
	shift 3
	$_setup
	BPF_PROVISION_TRACE_STEPS=1 bp 0 "$_cmd" "$_mf" || fatal "$_cmd without a failure failed"
	K=$(steps_of)
	[ -n "$K" ] && [ "$K" -gt 0 ] || fatal "no step count in: $(excerpt "$T/err")"
	$_setup
	hooks_state "$T/fault.before" "$@"
	rm -rf "$T/fault.run"
	[ ! -d "$T/run" ] || cp -r "$T/run" "$T/fault.run" || fatal "cp"
	_n=1 _fails0=$FAILS
	while [ "$_n" -le "$K" ]; do
		BPF_PROVISION_FAIL_AT=$_n bp 1 "$_cmd" "$_mf"
		grep -Fq 'every change was rolled back' "$T/err" ||
			bad "step $_n/$K failed: no rollback message: $(excerpt "$T/err")"
		_r=0
		until hooks_state "$T/fault.after" "$@" && cmp -s "$T/fault.before" "$T/fault.after"; do
			_r=$((_r + 1))
			[ "$_r" -lt 15 ] || break
			sleep 0.1
		done
		cmp -s "$T/fault.before" "$T/fault.after" ||
			bad "step $_n/$K failed (BPF_PROVISION_FAIL_AT=$_n) and the hooks or the tree changed:
$(diff "$T/fault.before" "$T/fault.after" | sed -n '1,12s/^/    | /p')"
		if [ "$_cmd" = apply ] && [ -d "$T/fault.run" ]; then
			diff -r "$T/fault.run" "$T/run" >/dev/null ||
				bad "step $_n/$K failed and the ledger changed"
		fi
		_n=$((_n + 1))
	done
	BPF_PROVISION_TRACE_STEPS=1 BPF_PROVISION_FAIL_AT=$((K + 1)) bp 0 "$_cmd" "$_mf"
	[ "$(steps_of)" = "$K" ] || bad "$(steps_of) steps now, $K before"
	[ -z "$(find "$M" -name 'bpfprov_tmp_*')" ] ||
		bad "temporary names left: $(find "$M" -name 'bpfprov_tmp_*')"
	[ "$FAILS" != "$_fails0" ] ||
		echo "attach.sh: $CASE: $_cmd failed at each of its $K steps, each rolled back"
}

# --- manifests -----------------------------------------------------------------

# The XDP counter: attach_xdp.o (or another FILE) as object "counter", its
# program pinned globally, attached to veth0 at fw/links/xdp-veth0.
xdp_manifest() { # FILE OUT
	cat >"$2" <<EOF
version: 1
name: swap
namespace: at
objects:
  - file: $1
    name: counter
    sections:
      - program: xdp_count
        pinning: global
        attach:
          - xdp: veth0
            pin: fw/links/xdp-veth0
EOF
}

# --- cases -----------------------------------------------------------------------

# XDP: the default link pin, auto (native on veth) and generic mode, bpftool's
# view, packets counted, a no-op re-apply, status, destroy.
case_xdp() {
	setup_net
	reset
	workdir attach_xdp.o
	cat >"$W/xdp.yaml" <<EOF
version: 1
name: xdp
namespace: at
objects:
  - file: attach_xdp.o
    name: counter
    sections:
      - program: xdp_count
        attach:
          - xdp: veth0
          - xdp: veth2
            mode: generic
            pin: fw/links/xdp-generic
EOF
	L=at/links/counter/xdp_count_xdp_veth0
	bp 0 validate "$W/xdp.yaml"
	bp 2 plan "$W/xdp.yaml"
	expect_change + "$L"
	expect_change + fw/links/xdp-generic
	bp 0 apply "$W/xdp.yaml" || return
	# The tool has exited: the pinned links keep the programs attached.
	set -- $(link_of "$L" type id prog_id ifindex)
	[ "$1" = xdp ] || fatal "no XDP link pinned at $L: $(link_of "$L") $(cat "$T/bq.err")"
	lid=$2 pid=$3
	[ "$4" = "$(ifindex veth0)" ] || bad "$L is on ifindex $4, veth0 is $(ifindex veth0)"
	[ "$(prog_name "$pid")" = xdp_count ] || bad "$L runs program $pid '$(prog_name "$pid")'"
	bpftool_has_link "$lid" "$pid" || bad "bpftool link show lacks link $lid (program $pid)"
	[ "$(xdp_on veth0)" = "$pid driver" ] ||
		bad "bpftool net show: XDP on veth0 is '$(xdp_on veth0)', want '$pid driver' (mode auto, veth has native XDP)"
	set -- $(link_of fw/links/xdp-generic type prog_id ifindex)
	[ "$1 $2 $3" = "xdp $pid $(ifindex veth2)" ] ||
		bad "fw/links/xdp-generic is '$*', want 'xdp $pid $(ifindex veth2)' (type prog ifindex)"
	[ "$(xdp_on veth2)" = "$pid generic" ] ||
		bad "bpftool net show: XDP on veth2 is '$(xdp_on veth2)', want '$pid generic'"
	[ "$(xdp_on veth1)" = - ] || bad "XDP on veth1, which nothing declares: $(xdp_on veth1)"
	# Traffic: each echo request to veth0 counted at key 0.
	got=$(ping_b 5)
	[ "$got" = "5 5" ] || bad "5 pings to veth0: '$got' transmitted/received: $(excerpt "$T/ping.out")"
	[ "$(value at/globals/counts 0)" = 5 ] ||
		bad "counts[0] is $(value at/globals/counts 0) after 5 echo requests, want 5"
	# Re-applies change nothing: the same link, the same program.
	converged "$W/xdp.yaml"
	bp 0 apply "$W/xdp.yaml"
	! grep -q '^[-+~*] ' "$T/out" || bad "a second apply changed: $(grep '^[-+~*] ' "$T/out")"
	[ "$(link_of "$L" id prog_id)" = "$lid $pid" ] ||
		bad "after a re-apply $L is link/program '$(link_of "$L" id prog_id)', was '$lid $pid'"
	if bp 0 status "$W/xdp.yaml"; then
		grep -q "$L.*link" "$T/outs" || bad "status does not list $L as a link: $(excerpt "$T/out")"
	fi
	bp 0 destroy "$W/xdp.yaml" || return
	eventually link_gone "$lid" || bad "link $lid is still in the kernel after destroy"
	eventually no_xdp veth0 || bad "XDP still on veth0 after destroy: $(xdp_on veth0)"
	eventually no_xdp veth2 || bad "XDP still on veth2 after destroy: $(xdp_on veth2)"
	back_to_fresh destroy
}

# tcx: ingress drops ICMP (pings fail, the drops counted), egress counts
# IPv4 packets sent; each hook holds exactly its link.
case_tc() {
	need_tcx
	setup_net
	reset
	workdir attach_tc.o
	cat >"$W/tc.yaml" <<EOF
version: 1
name: tc
namespace: at
objects:
  - file: attach_tc.o
    name: tcx
    sections:
      - program: tc_drop_icmp
        attach:
          - tc: veth0
            direction: ingress
            pin: fw/links/tc-in
      - program: tc_count_egress
        attach:
          - tc: veth0
            direction: egress
            pin: fw/links/tc-out
EOF
	bp 2 plan "$W/tc.yaml"
	expect_change + fw/links/tc-in
	expect_change + fw/links/tc-out
	bp 0 apply "$W/tc.yaml" || return
	ix=$(ifindex veth0)
	set -- $(link_of fw/links/tc-in type id prog_id ifindex attach_type)
	[ "$1 $4 $5" = "tcx $ix 46" ] ||
		fatal "fw/links/tc-in is '$*', want a tcx link on ifindex $ix, attach type 46 (tcx_ingress)"
	lin=$2 pin=$3
	set -- $(link_of fw/links/tc-out type id prog_id ifindex attach_type)
	[ "$1 $4 $5" = "tcx $ix 47" ] ||
		fatal "fw/links/tc-out is '$*', want a tcx link on ifindex $ix, attach type 47 (tcx_egress)"
	lout=$2 pout=$3
	[ "$(prog_name "$pin")" = tc_drop_icmp ] || bad "the ingress link runs '$(prog_name "$pin")'"
	[ "$(prog_name "$pout")" = tc_count_egress ] || bad "the egress link runs '$(prog_name "$pout")'"
	bpftool_has_link "$lin" "$pin" || bad "bpftool link show lacks link $lin"
	bpftool_has_link "$lout" "$pout" || bad "bpftool link show lacks link $lout"
	[ "$(tcx_on veth0 ingress)" = "progs $pin links $lin" ] ||
		bad "veth0 tcx ingress holds '$(tcx_on veth0 ingress)', want 'progs $pin links $lin'"
	[ "$(tcx_on veth0 egress)" = "progs $pout links $lout" ] ||
		bad "veth0 tcx egress holds '$(tcx_on veth0 egress)', want 'progs $pout links $lout'"
	# Echo requests to veth0 are dropped at ingress, each counted.
	got=$(ping_b 3)
	[ "$got" = "3 0" ] || bad "3 pings to veth0 with ICMP dropped: '$got' transmitted/received"
	[ "$(value at/globals/tc_drops 0)" = 3 ] ||
		bad "tc_drops[0] is $(value at/globals/tc_drops 0) after 3 echo requests, want 3"
	# Echo requests from veth0 leave (counted at egress); their replies are dropped.
	got=$(ping_a 4)
	[ "$got" = "4 0" ] || bad "4 pings from veth0 with ICMP dropped at ingress: '$got'"
	[ "$(value at/globals/tc_egress 0)" = 4 ] ||
		bad "tc_egress[0] is $(value at/globals/tc_egress 0) after 4 echo requests sent, want 4"
	[ "$(value at/globals/tc_drops 0)" = 7 ] ||
		bad "tc_drops[0] is $(value at/globals/tc_drops 0) after 4 echo replies more, want 7"
	converged "$W/tc.yaml"
	bp 0 destroy "$W/tc.yaml" || return
	eventually tcx_empty veth0 ingress || bad "after destroy veth0 ingress holds $(tcx_on veth0 ingress)"
	eventually tcx_empty veth0 egress || bad "after destroy veth0 egress holds $(tcx_on veth0 egress)"
	got=$(ping_b 2)
	[ "$got" = "2 2" ] || bad "after destroy pings still fail: '$got'"
	back_to_fresh destroy
}

# cgroup skb: one program on two cgroups, by absolute path and by a path
# relative to the cgroup2 mount (with `type:`), packets of processes in
# them counted.
case_cgroup() {
	setup_net
	reset
	workdir attach_cg.o
	cg1=$(mkcg cg1) && cg2=$(mkcg cg2) || exit 1
	rel2=${cg2#"$CGROOT"/} # relative to the cgroup2 mount
	cat >"$W/cg.yaml" <<EOF
version: 1
name: cg
namespace: at
objects:
  - file: attach_cg.o
    name: cg
    sections:
      - program: cg_count
        attach:
          - cgroup: $cg1
            pin: cg/links/abs
          - cgroup: $rel2
            type: cgroup_inet_egress
            pin: cg/links/rel
EOF
	bp 2 plan "$W/cg.yaml"
	expect_change + cg/links/abs
	expect_change + cg/links/rel
	bp 0 apply "$W/cg.yaml" || return
	set -- $(link_of cg/links/abs type id prog_id cgroup_id attach_type)
	[ "$1 $4 $5" = "cgroup $(stat -c %i "$cg1") 1" ] ||
		fatal "cg/links/abs is '$*', want a cgroup link on $cg1 (id $(stat -c %i "$cg1")), attach type 1"
	l1=$2 p=$3
	set -- $(link_of cg/links/rel type id prog_id cgroup_id attach_type)
	[ "$1 $3 $4 $5" = "cgroup $p $(stat -c %i "$cg2") 1" ] ||
		bad "cg/links/rel is '$*', want program $p on $cg2 (id $(stat -c %i "$cg2")), attach type 1"
	l2=$2
	[ "$(prog_name "$p")" = cg_count ] || bad "the links run '$(prog_name "$p")'"
	bpftool_has_link "$l1" "$p" || bad "bpftool link show lacks link $l1"
	bpftool_has_link "$l2" "$p" || bad "bpftool link show lacks link $l2"
	for cg in "$cg1" "$cg2"; do
		[ "$(cg_progs "$cg")" = "$p:cg_count:cgroup_inet_egress" ] ||
			bad "bpftool cgroup show $cg: '$(cg_progs "$cg")', want '$p:cg_count:cgroup_inet_egress'"
	done
	# Echo requests sent from each cgroup; the replies are not egress.
	in_cg "$cg1" nsenter --net="/run/netns/$NSP" ping -n -c 4 -i 0.05 -W 1 10.199.0.1 >/dev/null ||
		bad "ping from $cg1 failed"
	[ "$(value at/globals/cg_counts 0)" = 4 ] ||
		bad "cg_counts[0] is $(value at/globals/cg_counts 0) after 4 pings from $cg1, want 4"
	in_cg "$cg2" nsenter --net="/run/netns/$NSP" ping -n -c 3 -i 0.05 -W 1 10.199.0.1 >/dev/null ||
		bad "ping from $cg2 failed"
	[ "$(value at/globals/cg_counts 0)" = 7 ] ||
		bad "cg_counts[0] is $(value at/globals/cg_counts 0) after 3 more from $cg2, want 7"
	ping_b 2 >/dev/null # from outside both cgroups: not counted
	[ "$(value at/globals/cg_counts 0)" = 7 ] ||
		bad "cg_counts[0] is $(value at/globals/cg_counts 0) after pings from outside, want 7"
	converged "$W/cg.yaml"
	bp 0 destroy "$W/cg.yaml" || return
	eventually link_gone "$l1" && eventually link_gone "$l2" ||
		bad "a cgroup link is still in the kernel after destroy"
	eventually cg_holds "$cg1" "" && eventually cg_holds "$cg2" "" ||
		bad "after destroy the cgroups hold '$(cg_progs "$cg1")' '$(cg_progs "$cg2")'"
	back_to_fresh destroy
	rmdir "$cg1" "$cg2" || bad "cannot remove the cgroups"
}

# A tracepoint from the section name (auto: true), tracefs only ever mounted
# in private mount namespaces: at $TRACEFS by the test, or by the tool itself
# (--mount) at /sys/kernel/tracing.
case_tracepoint() {
	# shellcheck disable=SC2016 # for the inner sh
	unshare -m --propagation private sh -c \
		'mount -t tracefs nodev "$0" && test -e "$0/events/syscalls/sys_enter_getppid"' \
		"$TRACEFS" 2>"$T/err" ||
		case_skip "no tracefs with syscalls/sys_enter_getppid: $(cat "$T/err")"
	setup_net
	reset
	workdir attach_tp.o
	# tracefs mounts on the host where the tool or the test could make them
	# (other software may mount tracefs elsewhere meanwhile).
	host_tracefs() {
		mounts_of tracefs | grep -Fx -e "$TRACEFS" -e /sys/kernel/tracing \
			-e /sys/kernel/debug/tracing | LC_ALL=C sort
	}
	host_tracefs >"$T/tracefs.before"
	cat >"$W/tp.yaml" <<EOF
version: 1
name: tp
namespace: at
objects:
  - file: attach_tp.o
    name: tp
    sections:
      - program: tp_count
        attach:
          - auto: true
            pin: tp/links/getppid
EOF
	# No tracefs mounted and no --mount: an error that says so, nothing done.
	BPF_PROVISION=$T/bp-nomount
	if bp 1 plan "$W/tp.yaml"; then
		grep -q tracefs "$T/err" || bad "plan without tracefs does not say why: $(excerpt "$T/err")"
	fi
	bp 1 apply "$W/tp.yaml"
	back_to_fresh "an apply without tracefs"
	BPF_PROVISION=$T/bp-tracefs
	bp 2 plan "$W/tp.yaml"
	expect_change + tp/links/getppid
	bp 0 apply "$W/tp.yaml" || return
	tp_checks() { # WHAT
		set -- "$1" $(link_of tp/links/getppid type id prog_id tracepoint)
		[ "$2" = perf_event ] || fatal "$1: no perf event link at tp/links/getppid: $(cat "$T/bq.err")"
		_lid=$3 _pid=$4
		[ "$5" = - ] || [ "$5" = sys_enter_getppid ] || bad "$1: the link is on tracepoint '$5'"
		[ "$(prog_name "$_pid")" = tp_count ] || bad "$1: the link runs '$(prog_name "$_pid")'"
		bpftool_has_link "$_lid" "$_pid" || bad "$1: bpftool link show lacks link $_lid"
		_v0=$(value at/globals/tp_counts 0)
		"$PY" -c 'import os; [os.getppid() for _ in range(200)]'
		_v1=$(value at/globals/tp_counts 0)
		[ "$_v0" != none ] && [ "$_v1" != none ] && [ "$_v1" -ge $((_v0 + 200)) ] ||
			bad "$1: 200 getppid() moved tp_counts[0] from $_v0 to $_v1"
		host_tracefs >"$T/tracefs.after"
		cmp -s "$T/tracefs.before" "$T/tracefs.after" ||
			bad "$1: tracefs mounts on the host changed: $(diff "$T/tracefs.before" "$T/tracefs.after")"
	}
	tp_checks "tracefs at $TRACEFS"
	lid=$_lid
	converged "$W/tp.yaml"
	# Undeclaring a link needs no tracefs.
	BPF_PROVISION=$T/bp-net
	bp 0 destroy "$W/tp.yaml" || return
	eventually link_gone "$lid" || bad "link $lid is still in the kernel after destroy"
	back_to_fresh destroy
	# No tracefs mounted: --mount mounts one, in the private mount namespace.
	BPF_PROVISION=$T/bp-nomount
	bp 0 --mount apply "$W/tp.yaml" || return
	tp_checks "tracefs mounted by --mount"
	BPF_PROVISION=$T/bp-tracefs
	converged "$W/tp.yaml"
	BPF_PROVISION=$T/bp-net
	bp 0 destroy "$W/tp.yaml" || return
	back_to_fresh destroy
}

# A changed program goes into the same link under a ping flood: every echo
# request counted by the old program (key 0) or the new one (key 1).
case_swap() {
	setup_net
	reset
	workdir attach_xdp.o attach_xdp_v2.o
	xdp_manifest attach_xdp.o "$W/v1.yaml"
	xdp_manifest attach_xdp_v2.o "$W/v2.yaml"
	bp 0 apply "$W/v1.yaml" || return
	set -- $(link_of fw/links/xdp-veth0 id prog_id)
	[ "$1" != - ] || fatal "no link at fw/links/xdp-veth0: $(cat "$T/bq.err")"
	lid=$1 p1=$2
	bp 2 plan "$W/v2.yaml"
	expect_change '*' fw/links/xdp-veth0
	grep -q '^~ program at/globals/xdp_count ' "$T/outs" ||
		bad "the plan does not replace the program pin at/globals/xdp_count: $(excerpt "$T/out")"
	# nsenter execs ping, so $! is ping, which prints its count on SIGINT.
	nsenter --net="/run/netns/$NSP" ping -n -f -w 30 10.199.0.1 >"$T/flood.out" 2>&1 &
	fp=$!
	i=0
	while [ "$(value at/globals/counts 0)" = 0 ] && [ "$i" -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	bp 0 apply "$W/v2.yaml"
	rc=$?
	sleep 0.5
	kill -INT "$fp"
	wait "$fp"
	sleep 0.1
	[ "$rc" = 0 ] || return
	tx=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$T/flood.out")
	c0=$(value at/globals/counts 0) c1=$(value at/globals/counts 1)
	echo "attach.sh: $CASE: flood: $tx echo requests sent, $c0 counted by v1, $c1 by v2"
	[ -n "$tx" ] && [ "$tx" -gt 0 ] || fatal "the flood sent nothing: $(tail -n 3 "$T/flood.out")"
	[ "$c0" -gt 0 ] || bad "v1 counted nothing before the swap"
	[ "$c1" -gt 0 ] || bad "v2 counted nothing after the swap"
	[ $((c0 + c1)) = "$tx" ] || bad "$tx echo requests sent, $c0 + $c1 = $((c0 + c1)) counted"
	set -- $(link_of fw/links/xdp-veth0 id prog_id)
	[ "$1" = "$lid" ] || bad "the link at fw/links/xdp-veth0 is $1 now, was $lid: not updated in place"
	p2=$2
	[ "$p2" != "$p1" ] || bad "the link still runs program $p1"
	[ "$(bpftool -j prog show pinned "$M/at/globals/xdp_count" | "$PY" -c \
		'import json, sys; print(json.load(sys.stdin)["id"])')" = "$p2" ] ||
		bad "the program pin at/globals/xdp_count is not the program the link runs ($p2)"
	[ "$(xdp_on veth0)" = "$p2 driver" ] || bad "bpftool net show: XDP on veth0 '$(xdp_on veth0)', want '$p2 driver'"
	converged "$W/v2.yaml"
	# Back to v1: the same link again.
	bp 0 apply "$W/v1.yaml"
	[ "$(link_of fw/links/xdp-veth0 id)" = "$lid" ] || bad "back to v1, the link is $(link_of fw/links/xdp-veth0 id), was $lid"
	bp 0 destroy "$W/v1.yaml"
	eventually no_xdp veth0 || bad "XDP still on veth0 after destroy: $(xdp_on veth0)"
	back_to_fresh destroy
}

# Every step of that swap made to fail: the link keeps its id and its old
# program, the pins and the ledger stay as they were.
case_swap_faults() {
	setup_net
	reset
	workdir attach_xdp.o attach_xdp_v2.o
	xdp_manifest attach_xdp.o "$W/v1.yaml"
	xdp_manifest attach_xdp_v2.o "$W/v2.yaml"
	swap_setup() {
		reset
		bp 0 apply "$W/v1.yaml" || fatal "apply v1 failed"
	}
	fault_loop swap_setup apply "$W/v2.yaml"
	# hooks_state compared link and program ids; the old program also still counts.
	swap_setup
	set -- $(link_of fw/links/xdp-veth0 id prog_id)
	lid=$1 p1=$2
	BPF_PROVISION_FAIL_AT=$(((K + 1) / 2)) bp 1 apply "$W/v2.yaml"
	[ "$(link_of fw/links/xdp-veth0 id prog_id)" = "$lid $p1" ] ||
		bad "after a failed swap the link is '$(link_of fw/links/xdp-veth0 id prog_id)', was '$lid $p1'"
	ping_b 3 >/dev/null
	[ "$(value at/globals/counts 0) $(value at/globals/counts 1)" = "3 0" ] ||
		bad "after a failed swap 3 echo requests counted as '$(value at/globals/counts 0) $(value at/globals/counts 1)', want '3 0' (by v1)"
}

# `~ link` when the hook differs (veth0 -> veth2 at the same pin: a new
# link), `- link` when an attach item is gone (its hook empty again).
case_replace_delete() {
	setup_net
	reset
	workdir attach_xdp.o
	cat >"$W/v1.yaml" <<EOF
version: 1
name: rd
namespace: at
objects:
  - file: attach_xdp.o
    name: counter
    sections:
      - program: xdp_count
        attach:
          - xdp: veth0
            pin: fw/links/moved
          - xdp: veth1
            pin: fw/links/dropped
EOF
	sed -e 's/xdp: veth0/xdp: veth2/' -e '/xdp: veth1/,$d' "$W/v1.yaml" >"$W/v2.yaml"
	bp 0 apply "$W/v1.yaml" || return
	set -- $(link_of fw/links/moved id prog_id)
	lmoved=$1 tag=$(prog_tag "$2")
	ldropped=$(link_of fw/links/dropped id)
	bp 2 plan "$W/v2.yaml"
	expect_change '~' fw/links/moved
	expect_change - fw/links/dropped
	bp 0 apply "$W/v2.yaml" || return
	# The program has no pin of its own: the new link may run a new load of it.
	set -- $(link_of fw/links/moved id prog_id ifindex)
	[ "$1" != "$lmoved" ] || bad "fw/links/moved is still link $lmoved: a hook change needs a new link"
	p=$2
	[ "$3" = "$(ifindex veth2)" ] || bad "fw/links/moved is on ifindex $3, veth2 is $(ifindex veth2)"
	[ "$(prog_name "$p") $(prog_tag "$p")" = "xdp_count $tag" ] ||
		bad "fw/links/moved runs '$(prog_name "$p") $(prog_tag "$p")', want 'xdp_count $tag'"
	eventually link_gone "$lmoved" || bad "the old link $lmoved is still in the kernel"
	eventually link_gone "$ldropped" || bad "the undeclared link $ldropped is still in the kernel"
	[ ! -e "$M/fw/links/dropped" ] || bad "fw/links/dropped is still pinned"
	eventually no_xdp veth0 || bad "XDP still on veth0: $(xdp_on veth0)"
	eventually no_xdp veth1 || bad "XDP still on veth1: $(xdp_on veth1)"
	[ "$(xdp_on veth2)" = "$p driver" ] || bad "XDP on veth2 is '$(xdp_on veth2)', want '$p driver'"
	converged "$W/v2.yaml"
	bp 0 destroy "$W/v2.yaml"
	back_to_fresh destroy
}

# One apply that creates, updates, replaces and deletes links, each of its
# steps made to fail in turn; then each step of a destroy.
case_faults_mixed() {
	need_tcx
	setup_net
	reset
	workdir attach_xdp.o attach_xdp_v2.o attach_tc.o attach_cg.o
	cg=$(mkcg mixed) || exit 1
	cat >"$W/v1.yaml" <<EOF
version: 1
name: mixed
namespace: at
objects:
  - file: attach_xdp.o
    name: counter
    sections:
      - program: xdp_count
        attach:
          - xdp: veth0
            pin: fw/links/xdp-veth0
          - xdp: veth1
            pin: fw/links/xdp-veth1
  - file: attach_tc.o
    name: tcx
    sections:
      - program: tc_count_egress
        attach:
          - tc: veth2
            direction: ingress
            pin: fw/links/tc
EOF
	cat >"$W/v2.yaml" <<EOF
version: 1
name: mixed
namespace: at
objects:
  - file: attach_xdp_v2.o
    name: counter
    sections:
      - program: xdp_count
        attach:
          - xdp: veth0
            pin: fw/links/xdp-veth0
  - file: attach_tc.o
    name: tcx
    sections:
      - program: tc_count_egress
        attach:
          - tc: veth2
            direction: egress
            pin: fw/links/tc
  - file: attach_cg.o
    name: cg
    sections:
      - program: cg_count
        attach:
          - cgroup: $cg
            pin: fw/links/cg
EOF
	mixed_setup() {
		reset
		bp 0 apply "$W/v1.yaml" || fatal "apply v1 failed"
	}
	mixed_setup
	bp 2 plan "$W/v2.yaml"
	expect_change '*' fw/links/xdp-veth0
	expect_change - fw/links/xdp-veth1
	expect_change '~' fw/links/tc
	expect_change + fw/links/cg
	fault_loop mixed_setup apply "$W/v2.yaml" "$cg"
	# What the last, successful apply of the loop made.
	[ -n "$(link_of fw/links/cg id)" ] && [ "$(cg_progs "$cg")" = "$(link_of fw/links/cg prog_id):cg_count:cgroup_inet_egress" ] ||
		bad "after the apply $cg holds '$(cg_progs "$cg")'"
	eventually tcx_empty veth2 ingress || bad "veth2 tcx ingress still holds $(tcx_on veth2 ingress)"
	[ "$(tcx_on veth2 egress)" = "progs $(link_of fw/links/tc prog_id) links $(link_of fw/links/tc id)" ] ||
		bad "veth2 tcx egress holds '$(tcx_on veth2 egress)'"
	eventually no_xdp veth1 || bad "XDP still on veth1: $(xdp_on veth1)"
	destroy_setup() {
		reset
		bp 0 apply "$W/v2.yaml" || fatal "apply v2 failed"
	}
	fault_loop destroy_setup destroy "$W/v2.yaml" "$cg"
	eventually no_xdp veth0 && eventually tcx_empty veth2 egress && eventually cg_holds "$cg" "" ||
		bad "after destroy: veth0 XDP '$(xdp_on veth0)', veth2 egress '$(tcx_on veth2 egress)', $cg '$(cg_progs "$cg")'"
	back_to_fresh destroy
	rmdir "$cg" || bad "cannot remove $cg"
}

# destroy detaches what the manifest made and nothing else: an XDP program
# attached by bpftool (netlink) to veth1, and a cgroup program bpftool
# attached to the cgroup the manifest also uses, stay.
case_destroy_foreign() {
	setup_net
	reset
	reset2
	workdir attach_xdp.o attach_cg.o attach_tc.o
	cg=$(mkcg foreign) || exit 1
	mkdir "$M2/foreign" && bpftool prog loadall "$BPF/attach_foreign.o" "$M2/foreign" 2>"$T/err" ||
		fatal "bpftool prog loadall attach_foreign.o: $(cat "$T/err")"
	fx=$(bpftool -j prog show pinned "$M2/foreign/foreign_xdp" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["id"])')
	fc=$(bpftool -j prog show pinned "$M2/foreign/foreign_cg" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["id"])')
	in_a bpftool net attach xdp pinned "$M2/foreign/foreign_xdp" dev veth1 2>"$T/err" ||
		fatal "bpftool net attach xdp: $(cat "$T/err")"
	bpftool cgroup attach "$cg" egress pinned "$M2/foreign/foreign_cg" multi 2>"$T/err" ||
		fatal "bpftool cgroup attach: $(cat "$T/err")"
	fx_mode=$(xdp_on veth1)
	tc_item=
	[ "$TCX" = 1 ] && tc_item="
  - file: attach_tc.o
    name: tcx
    sections:
      - program: tc_count_egress
        attach:
          - tc: veth0
            direction: egress
            pin: fw/links/tc"
	cat >"$W/f.yaml" <<EOF
version: 1
name: foreign
namespace: at
objects:
  - file: attach_xdp.o
    name: counter
    sections:
      - program: xdp_count
        attach:
          - xdp: veth0
            pin: fw/links/xdp
  - file: attach_cg.o
    name: cg
    sections:
      - program: cg_count
        attach:
          - cgroup: $cg
            pin: fw/links/cg$tc_item
EOF
	bp 0 apply "$W/f.yaml" || return
	p=$(link_of fw/links/cg prog_id)
	[ "$(cg_progs "$cg")" = "$(printf '%s\n' "$p:cg_count:cgroup_inet_egress" "$fc:foreign_cg:cgroup_inet_egress" |
		LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')" ] ||
		bad "$cg holds '$(cg_progs "$cg")', want ours ($p) and the foreign one ($fc)"
	converged "$W/f.yaml"
	bp 0 destroy "$W/f.yaml" || return
	eventually no_xdp veth0 || bad "destroy left XDP on veth0: $(xdp_on veth0)"
	[ "$(xdp_on veth1)" = "$fx_mode" ] && [ "${fx_mode%% *}" = "$fx" ] ||
		bad "the foreign XDP program on veth1 was '$fx_mode' (id $fx), is '$(xdp_on veth1)' after destroy"
	eventually cg_holds "$cg" "$fc:foreign_cg:cgroup_inet_egress" ||
		bad "after destroy $cg holds '$(cg_progs "$cg")', want the foreign program only ($fc)"
	[ "$TCX" != 1 ] || eventually tcx_empty veth0 egress ||
		bad "destroy left veth0 tcx egress holding $(tcx_on veth0 egress)"
	back_to_fresh destroy
	bpftool cgroup detach "$cg" egress pinned "$M2/foreign/foreign_cg" 2>/dev/null
	rmdir "$cg" || bad "cannot remove $cg"
}

# A missing interface: an error at the attach item's FILE:LINE:COL, nothing
# applied; with `optional: true`, a warning and skipped, until it exists.
case_missing() {
	setup_net
	reset
	workdir attach_xdp.o
	cat >"$W/missing.yaml" <<EOF
version: 1
name: missing
namespace: at
objects:
  - file: attach_xdp.o
    name: counter
    sections:
      - program: xdp_count
        attach:
          - xdp: veth0
            pin: fw/links/present
          - xdp: bpmiss0
            pin: fw/links/missing
EOF
	loc=$(awk '/xdp: bpmiss0/ { print NR ":" index($0, "bpmiss0"); exit }' "$W/missing.yaml")
	bp 1 plan "$W/missing.yaml"
	grep -q "missing\.yaml:$loc: " "$T/err" ||
		bad "stderr does not point at bpmiss0 as missing.yaml:$loc:
$(excerpt "$T/err")"
	bp 1 apply "$W/missing.yaml"
	grep -q "missing\.yaml:$loc: " "$T/err" || bad "apply's stderr lacks missing.yaml:$loc"
	back_to_fresh "a plan and an apply with a missing interface"
	eventually no_xdp veth0 || bad "an apply with a missing interface attached to veth0: $(xdp_on veth0)"

	sed 's/^\(          - xdp: bpmiss0\)$/\1\n            optional: true/' "$W/missing.yaml" >"$W/optional.yaml"
	grep -q 'optional: true' "$W/optional.yaml" || fatal "sed"
	bp 2 plan "$W/optional.yaml"
	expect_change + fw/links/present
	no_change fw/links/missing
	warned() { grep -i warning "$T/err" | grep -q -e bpmiss0 -e "optional\.yaml:$loc: "; }
	warned || bad "plan does not warn about bpmiss0: $(excerpt "$T/err")"
	bp 0 apply "$W/optional.yaml" || return
	warned || bad "apply does not warn about bpmiss0: $(excerpt "$T/err")"
	[ ! -e "$M/fw/links/missing" ] || bad "a link was pinned for the missing interface"
	[ "$(xdp_on veth0)" = "$(link_of fw/links/present prog_id) driver" ] ||
		bad "XDP on veth0 is '$(xdp_on veth0)' after the apply"
	converged "$W/optional.yaml"
	# The interface appears: now the item is planned.
	in_a ip link add bpmiss0 type veth peer name bpmiss1 && in_a ip link set bpmiss0 up ||
		fatal "cannot add bpmiss0"
	bp 2 plan "$W/optional.yaml"
	expect_change + fw/links/missing
	bp 0 apply "$W/optional.yaml"
	[ "$(link_of fw/links/missing ifindex)" = "$(ifindex bpmiss0)" ] ||
		bad "fw/links/missing is on ifindex '$(link_of fw/links/missing ifindex)', bpmiss0 is $(ifindex bpmiss0)"
	bp 0 destroy "$W/optional.yaml"
	back_to_fresh destroy
}

# --- run every case ----------------------------------------------------------------

CASE=setup
FAILS=0
ip netns add "$NS" 2>"$T/err" || skip "cannot add a network namespace: $(cat "$T/err")"
ip netns del "$NS"
(setup_net) || fail "cannot set up the network namespaces and veth pairs"
TCX=0 TCX_WHY=
if TCX_WHY=$(in_a "$PY" "$T/bpfq.py" tcx-probe 2>&1); then
	TCX=1
fi
ip netns del "$NS"
ip netns del "$NSP"

# ATTACH_CASES="swap missing" runs only those.
# shellcheck disable=SC2086 # the list of cases is split on purpose
run_cases attach.sh ${ATTACH_CASES:-xdp tc cgroup tracepoint swap swap_faults replace_delete faults_mixed \
	destroy_foreign missing}
