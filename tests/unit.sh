#!/bin/sh
# SPDX-License-Identifier: MIT
# The systemd unit generated from configs/bpf-provision.service.in:
#  - @sbindir@ was substituted and nothing like @VAR@ is left; ExecStart and
#    ExecReload run `SBINDIR/bpf-provision apply --keep-going --mount`, no
#    MANIFEST: the three manifest directories, each of which is a
#    ConditionDirectoryNotEmpty=| (any one not empty runs it); exit 65 (a
#    manifest left out) is no SuccessExitStatus=, so the unit shows failed;
#    output to the journal as bpf-provision;
#  - the boot ordering and the hardening the job relies on are there (bpffs
#    mount, sysusers and tmpfiles before, network-pre after, ledger directory
#    preserved, writable /sys/fs/bpf, the five capabilities);
#  - `systemd-analyze verify` (systemd 252, Debian 12) accepts a copy whose
#    Exec lines point at the built binary, with the man pages of
#    Documentation= resolvable, and prints nothing: an unknown or misspelt
#    option is only a warning there, so any output fails (and a deliberately
#    misspelt copy must produce one, so the check has teeth);
#  - `systemd-analyze security --offline` rates its exposure at most 5.0.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST

UNIT=$top_builddir/configs/bpf-provision.service
[ -f "$UNIT" ] || fail "$UNIT not generated (make all builds it)"
[ -x "$BPF_PROVISION" ] || fail "no $BPF_PROVISION (build first)"

! grep -n '@[A-Za-z_]*@' "$UNIT" || fail "$UNIT has unsubstituted @VARIABLES@"
for exec in ExecStart ExecReload; do
	[ "$(grep -c "^$exec=" "$UNIT")" = 1 ] || fail "$UNIT: not one $exec= line"
	grep -q "^$exec=/[^ ]*/bpf-provision apply --keep-going --mount\$" "$UNIT" ||
		fail "$exec is not 'SBINDIR/bpf-provision apply --keep-going --mount': $(grep "^$exec=" "$UNIT")"
done
for d in /usr/lib/bpf-provision.d /run/bpf-provision.d /etc/bpf-provision.d; do
	grep -qx "ConditionDirectoryNotEmpty=|$d" "$UNIT" || fail "$UNIT: no ConditionDirectoryNotEmpty=|$d"
done
[ "$(grep -c '^ConditionDirectoryNotEmpty=' "$UNIT")" = 3 ] ||
	fail "$UNIT: a ConditionDirectoryNotEmpty= other than the three triggering ones"
! grep -q '^SuccessExitStatus=.*65' "$UNIT" || fail "$UNIT: exit 65 (a manifest left out) must fail the unit"

has() { # KEY VALUE-WORD: some KEY= line of the unit has the word
	grep "^$1=" "$UNIT" | tr '=' ' ' | tr ' ' '\n' | grep -qx -- "$2" || fail "$UNIT: no $2 in $1="
}
has Type oneshot
has RemainAfterExit yes
has DefaultDependencies no
has After sys-fs-bpf.mount
has After local-fs.target
has After systemd-sysusers.service
has After systemd-tmpfiles-setup.service
has StandardOutput journal
has SyslogIdentifier bpf-provision
has Before network-pre.target
has Wants network-pre.target
has RuntimeDirectory bpf-provision
has RuntimeDirectoryPreserve yes
has ReadWritePaths /sys/fs/bpf
has ReadWritePaths /run/bpf-provision
has ProtectSystem strict
has NoNewPrivileges yes
has RestrictAddressFamilies AF_UNIX
has RestrictAddressFamilies AF_NETLINK
has SystemCallFilter perf_event_open
for cap in CAP_BPF CAP_SYS_ADMIN CAP_CHOWN CAP_FOWNER CAP_DAC_OVERRIDE CAP_NET_ADMIN CAP_PERFMON \
	CAP_DAC_READ_SEARCH; do
	has CapabilityBoundingSet "$cap"
done

command -v systemd-analyze >/dev/null 2>&1 || skip "no systemd-analyze (apt-get install systemd)"

# verify needs the Exec binaries to exist: point them at the built one.
bin=$(cd "$(dirname "$BPF_PROVISION")" && pwd)/$(basename "$BPF_PROVISION")
mkdir -p "$T/unit" "$T/man/man1" "$T/man/man5"
sed "s|^\(Exec[A-Za-z]*=\)/[^ ]*/bpf-provision |\1$bin |" "$UNIT" >"$T/unit/bpf-provision.service"
grep -q "^ExecStart=$bin apply" "$T/unit/bpf-provision.service" || fail "cannot rewrite ExecStart"
cp "$top_srcdir/doc/bpf-provision.1" "$T/man/man1/"
cp "$top_srcdir/doc/bpf-provision.yaml.5" "$T/man/man5/"

if command -v man >/dev/null 2>&1; then
	MANPATH=$T/man systemd-analyze verify "$T/unit/bpf-provision.service" >"$T/out" 2>&1 ||
		fail "systemd-analyze verify failed: $(cat "$T/out")"
else
	systemd-analyze verify --man=no "$T/unit/bpf-provision.service" >"$T/out" 2>&1 ||
		fail "systemd-analyze verify failed: $(cat "$T/out")"
fi
[ ! -s "$T/out" ] || fail "systemd-analyze verify complains: $(cat "$T/out")"

# The check has teeth: a misspelt key is reported.
mkdir -p "$T/bad"
sed 's/^LockPersonality=/LockPersonalty=/' "$T/unit/bpf-provision.service" >"$T/bad/bpf-provision.service"
systemd-analyze verify --man=no "$T/bad/bpf-provision.service" >"$T/out" 2>&1
grep -q LockPersonalty "$T/out" || fail "systemd-analyze verify does not report an unknown key: $(cat "$T/out")"

# Exposure 0 (locked down) .. 10 (unprotected); --threshold is in tenths.
systemd-analyze security --offline=yes --threshold=50 "$T/unit/bpf-provision.service" >"$T/sec" 2>&1 ||
	fail "exposure above 5.0: $(tail -n 3 "$T/sec")"
echo "unit: $(grep 'Overall exposure' "$T/sec")"
