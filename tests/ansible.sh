#!/bin/sh
# SPDX-License-Identifier: MIT
# The fleet example configs/ansible/playbook.yml, run with Debian's
# ansible-core against localhost (-i localhost, -c local), pointed at a
# private bpffs mount, a private manifest directory (the example manifests and
# their built objects) and a private ledger directory, using the built binary:
#  1. first run: ok, the converge task is "changed", the pins exist;
#  2. second run: ok, nothing changed at all (changed=0);
#  3. check mode on the converged tree: ok, changed=0;
#  4. a pin removed by hand (drift): check mode fails the host with a drift
#     message naming the pin, and changes nothing (the pin stays missing);
#  5. a real run converges again ("changed"; the pin is back).
# The results are read from ansible's default output.  Needs root.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST

command -v ansible-playbook >/dev/null 2>&1 || skip "no ansible-playbook (apt-get install ansible-core)"
[ -x "$BPF_PROVISION" ] || fail "no $BPF_PROVISION (build first)"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

mount_private_bpffs ansible
rm -f "$M/probe"

# The manifests and their objects, as the playbook's source directory.
mkdir -p "$T/src/bpf" "$T/run" "$T/home"
cp "$top_builddir"/configs/*.yaml "$T/src/" || fail "no example manifests in $top_builddir/configs"
cp "$top_builddir"/configs/bpf/*.o "$T/src/bpf/" || fail "no example objects in $top_builddir/configs/bpf"

bin=$(cd "$(dirname "$BPF_PROVISION")" && pwd)/$(basename "$BPF_PROVISION")
"$PY" - "$T/vars.json" "$T/src" "$T/etc/bpf-provision.d" "$M" "$bin" "$T/run" <<'PY' || fail "vars.json"
import json, sys
out, src, dest, root, binary, run = sys.argv[1:]
json.dump({"bpf_provision_src": src, "bpf_provision_dir": dest, "bpf_provision_bpffs": root,
           "bpf_provision_bin": binary, "bpf_provision_runtime_dir": run,
           "bpf_provision_become": False, "ansible_python_interpreter": sys.executable},
          open(out, "w"))
PY

# Ansible keeps its temporary files and settings away from the user's.
: >"$T/ansible.cfg"
export HOME="$T/home" ANSIBLE_CONFIG="$T/ansible.cfg" ANSIBLE_LOCAL_TEMP="$T/home/tmp" \
	ANSIBLE_REMOTE_TEMP="$T/home/tmp" ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 \
	ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_DEPRECATION_WARNINGS=0 ANSIBLE_LOCALHOST_WARNING=0
unset BPF_PROVISION_RUNTIME_DIR

N=0
run() { # NAME [ansible-playbook args]: leaves $T/NAME.out, returns its rc
	name=$1
	shift
	N=$((N + 1))
	ansible-playbook -i localhost, -c local -e "@$T/vars.json" "$@" \
		"$top_srcdir/configs/ansible/playbook.yml" >"$T/$name.out" 2>"$T/$name.err"
}

# result NAME: "FAILURES CHANGED CONVERGE_CHANGED MESSAGES" from the default
# callback's output (ansible-core has no json callback): the recap line, the
# status line after the converge task's header, the "fatal:" lines.
result() {
	awk '
		/^localhost *:/ {
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^failed=/) { sub(/^failed=/, "", $i); failed = $i }
				if ($i ~ /^changed=/) { sub(/^changed=/, "", $i); changed = $i }
			}
		}
		/^TASK \[/ { inconv = ($0 ~ /^TASK \[Converge/) }
		inconv && /^(ok|changed|fatal|skipping): \[localhost\]/ {
			conv = ($1 == "changed:" || $0 ~ /"changed": true/) ? "yes" : "no"
			inconv = 0
		}
		/^fatal: \[localhost\]/ { msgs = msgs " " $0 }
		END {
			if (failed == "" || changed == "") exit 1
			print failed, changed, (conv == "" ? "none" : conv), msgs
		}' "$T/$1.out"
}

expect() { # NAME RC FAILURES CHANGED CONVERGE [MESSAGE-PATTERN]
	r=$(result "$1") || fail "$1: cannot read the ansible result: $(tail -c 3000 "$T/$1.out") $(cat "$T/$1.err")"
	set -- "$@" ""
	got="$(echo "$r" | cut -d' ' -f1-3)"
	[ "$got" = "$3 $4 $5" ] ||
		fail "$1: expected failures/changed/converge-changed '$3 $4 $5', got '$got' (rc $2): $r"
	[ -z "$6" ] || echo "$r" | grep -q -- "$6" || fail "$1: no '$6' in the result: $r"
}

# 1. first run creates the pins.
run first
rc=$?
[ $rc = 0 ] || fail "first run: rc $rc: $(result first) $(cat "$T/first.err")"
expect first 0 0 2 yes # the copy and the converge task
for p in ns1/test1 ns1/globals/dummy_hash ns1/dummy/dummy_array ns1/progs/dummy_socket \
	tc/globals/counters tc/flows/flows tc/progs/cls_main btf/globals/packets btf/progs/count_packets; do
	[ -e "$M/$p" ] || fail "first run: no pin $p"
done
[ -f "$T/etc/bpf-provision.d/bpf/gobpf_site.o" ] || fail "first run: objects not copied"
ls "$T/run"/ledger-*.json >/dev/null 2>&1 || fail "first run: no ledger in $T/run"

# 2. converged: nothing to do.
run second
rc=$?
[ $rc = 0 ] || fail "second run: rc $rc: $(result second)"
expect second 0 0 0 no

# 3. check mode on the converged tree.
run check --check
rc=$?
[ $rc = 0 ] || fail "check run: rc $rc: $(result check)"
expect check 0 0 0 no

# 4. drift: a pin removed by hand; check mode fails and changes nothing.
rm "$M/ns1/test1" || fail "rm pin"
run drift --check
rc=$?
[ $rc != 0 ] || fail "drift check run: rc 0, expected a failure"
expect drift "$rc" 1 1 yes 'drift: .*create map ns1/test1: missing'
[ ! -e "$M/ns1/test1" ] || fail "drift check run changed the tree"

# 5. a real run converges again.
run reconverge
rc=$?
[ $rc = 0 ] || fail "reconverge run: rc $rc: $(result reconverge)"
expect reconverge 0 0 1 yes
[ -e "$M/ns1/test1" ] || fail "reconverge run: pin ns1/test1 not back"
echo "ansible: $N playbook runs as expected"
