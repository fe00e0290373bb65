#!/bin/sh
# Resource exhaustion and scale of input: the kernel refusing a map rolls
# the whole apply back with one clear error; a thousand manifests validate
# and apply together, and one bad one among them changes nothing.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST
find_python
mount_private_bpffs hardening
rm -f "$M/probe"


# 1. The kernel refuses the second map (E2BIG/ENOMEM): exit 1, one clear
# error naming the map, the first map rolled back, no temporary pin left.
mkdir -p "$T/huge"
cp "$top_builddir/tests/bpf/huge.o" "$T/huge/"
cat >"$T/huge/site.yaml" <<'YAML'
version: 1
namespace: hx
objects:
  - file: huge.o
YAML
before=$(tree_listing "$M")
run_checking_steps "$M" apply "$T/huge/site.yaml"
rc=$?
[ $rc = 1 ] || { cat "$T/err" >&2; fail "apply of a map the kernel refuses: exit $rc, want 1"; }
grep -q "map 'toobig' for pin hx/globals/toobig: the kernel refused to create it: " "$T/err" ||
	fail "no clear error for the refused map: $(cat "$T/err")"
grep -q "apply failed; every change was rolled back" "$T/err" || fail "no rollback message"
[ "$(tree_listing "$M")" = "$before" ] || fail "a refused map left the tree changed"
[ -e "$T/run" ] && ls "$T/run" | grep -q "\.json$" && fail "a failed apply left a ledger"

# 2. A thousand manifests, each its own namespace: validate and apply them
# together, then a no-op re-apply.
mkdir -p "$T/many/bpf"
cp "$top_builddir/configs/bpf/gobpf_site.o" "$T/many/bpf/"
i=0
while [ $i -lt 1000 ]; do
	cat >"$T/many/m$i.yaml" <<YAML
version: 1
name: m$i
namespace: n$i
objects:
  - file: bpf/gobpf_site.o
    name: dummy
    sections:
      - section: maps/dummy_array_custom
        pinning: custom
        path: n$i/custom
YAML
	i=$((i + 1))
done
"$BPF_PROVISION" -q validate "$T/many" || fail "validate of 1000 manifests"
run_checking_steps "$M" apply "$T/many" ||
	{ tail -3 "$T/err" >&2; fail "apply of 1000 manifests"; }
grep -q "^Plan: 3000 to create, 0 to replace, 0 to update, 0 to delete, 0 to adopt, 0 to release, 0 unchanged.$" "$T/out" ||
	fail "plan of 1000 manifests: $(tail -1 "$T/out")"
"$BPF_PROVISION" --bpffs "$M" apply --dry-run "$T/many" >"$T/out" ||
	fail "re-plan of 1000 manifests is not a no-op: $(tail -1 "$T/out")"

# 3. One invalid manifest among them: exit 65 with its location, nothing touched.
cp "$T/many/m7.yaml" "$T/many/m999x.yaml" # same name 'm7', same pin paths
before=$(tree_listing "$M")
run_checking_steps "$M" apply "$T/many"
rc=$?
[ $rc = 65 ] || fail "a duplicate among 1000 manifests: exit $rc, want 65"
grep -q "m999x.yaml: error: manifest name 'm7' is also used by" "$T/err" ||
	fail "duplicate manifest not named: $(head -3 "$T/err")"
[ "$(tree_listing "$M")" = "$before" ] || fail "an invalid manifest set changed the tree"
# 4. Pins get exactly the declared modes, and they bind: a user who has
# CAP_BPF but is not root opens the 0666 pin and not the 0600 one.
mkdir -p "$T/modes/bpf"
cp "$top_builddir/configs/bpf/gobpf_site.o" "$T/modes/bpf/"
cat >"$T/modes/site.yaml" <<'YAML'
version: 1
namespace: modes
defaults:
  mode: "0600"
  dir_mode: "0755"
objects:
  - file: bpf/gobpf_site.o
    name: dummy
    sections:
      - section: maps/dummy_array_custom
        pinning: custom
        path: modes/open
        mode: "0666"
YAML
run_checking_steps "$M" apply "$T/modes/site.yaml" ||
	fail "apply with modes: $(cat "$T/err")"
[ "$(stat -c %a "$M/modes/open")" = 666 ] || fail "mode of modes/open: $(stat -c %a "$M/modes/open")"
[ "$(stat -c %a "$M/modes/globals/dummy_hash")" = 600 ] || fail "mode of a 0600 pin"
[ "$(stat -c %a "$M/modes/globals")" = 755 ] || fail "dir_mode of modes/globals"
if command -v setpriv >/dev/null && setpriv --help 2>&1 | grep -q ambient-caps; then
	chmod 755 "$M"
	as_user() {
		setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=+bpf \
			--ambient-caps=+bpf bpftool map show pinned "$1"
	}
	as_user "$M/modes/open" >/dev/null 2>&1 || fail "a 0666 pin cannot be opened by another user"
	as_user "$M/modes/globals/dummy_hash" >"$T/out" 2>&1 &&
		fail "a 0600 pin was opened by another user"
	grep -q "Permission denied" "$T/out" || fail "0600 pin: $(cat "$T/out")"
else
	skip "setpriv without --ambient-caps: cannot test pin modes as another user"
fi

echo "hardening: refused map rolled back; 1000 manifests (3000 pins) applied and re-planned; modes bind"
