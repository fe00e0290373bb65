#!/bin/sh
# The command line of bpf-provision(1): help, version, the command table, exit
# codes, JSON errors, and validate on the shipped examples (also unprivileged).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST
find_python

expect_exit() { # STATUS COMMAND...
	want=$1
	shift
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	[ "$got" = "$want" ] || { cat "$T/err" >&2; fail "'$*' exited $got, want $want"; }
}

expect_exit 0 "$BPF_PROVISION" --version
grep -q '^bpf-provision [0-9]' "$T/out" || fail "--version prints the version"
expect_exit 0 "$BPF_PROVISION" --help
cp "$T/out" "$T/help"
for c in validate plan apply destroy status export inspect; do
	grep -q "^  $c" "$T/help" || fail "--help lists $c"
	expect_exit 0 "$BPF_PROVISION" "$c" --help
	grep -q "^Usage: bpf-provision \[OPTIONS\] $c" "$T/out" || fail "$c --help"
done
grep -q -- '--dry-run' "$T/out" && fail "inspect --help offers --dry-run"
expect_exit 0 "$BPF_PROVISION" apply --help
grep -q -- '--dry-run' "$T/out" || fail "apply --help lacks --dry-run"

# Usage errors are 1, never 2 (drift) or 65 (invalid input).
expect_exit 1 "$BPF_PROVISION"
expect_exit 1 "$BPF_PROVISION" frobnicate
expect_exit 1 "$BPF_PROVISION" valid configs
expect_exit 1 "$BPF_PROVISION" destroy
expect_exit 1 "$BPF_PROVISION" validate --keep-going x.yaml
expect_exit 1 "$BPF_PROVISION" destroy --keep-going x.yaml
expect_exit 1 "$BPF_PROVISION" plan --keep-going --out x.plan x.yaml
expect_exit 1 "$BPF_PROVISION" --bogus validate x.yaml
expect_exit 1 "$BPF_PROVISION" -o yaml validate x.yaml
expect_exit 1 "$BPF_PROVISION" --bpffs relative validate x.yaml
expect_exit 1 "$BPF_PROVISION" inspect --dry-run x.o
expect_exit 1 "$BPF_PROVISION" inspect --objects x.o x.o
expect_exit 1 "$BPF_PROVISION" --lock-timeout soon validate x.yaml

# The shipped examples are valid, as files and as a directory.
expect_exit 0 "$BPF_PROVISION" validate "$top_builddir"/configs/*.yaml
grep -q 'ns1/test1' "$T/out" || fail "validate lists the resolved custom pin"
grep -q 'tc/flows/flows' "$T/out" || fail "validate resolves iproute2 pin_ids"
expect_exit 0 "$BPF_PROVISION" -q validate "$top_builddir/configs"
[ -s "$T/out" ] && fail "-q prints nothing on success"
expect_exit 0 "$BPF_PROVISION" -o json validate "$top_builddir/configs/gobpf-site.yaml"
"$PY" - "$T/out" <<'PY' || fail "validate -o json"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["valid"] is True, doc
pins = {p["path"]: p for p in doc["manifests"][0]["pins"]}
assert pins["ns1/test1"] == {"path": "ns1/test1", "kind": "map", "object": "dummy",
                             "name": "dummy_array_custom"}, pins
assert pins["ns1/globals/dummy_hash"]["kind"] == "map", pins
assert pins["ns1/progs/dummy_socket"]["kind"] == "program", pins
assert "ns1/dummy/dummy_prog_array" not in pins  # pinning none in the ELF
PY

# A selector the object lacks: located error listing what the object has.
mkdir -p "$T/site/bpf"
cp "$top_builddir/configs/bpf/gobpf_site.o" "$T/site/bpf/"
cat >"$T/site/site.yaml" <<'YAML'
version: 1
namespace: ns1
objects:
  - file: bpf/gobpf_site.o
    name: dummy
    sections:
      - section: maps/dummy_array_custom
        pinning: custom
        path: ns1/test1
      - section: maps/foo
        pinning: none
      - program: nope
        pinning: object
YAML
expect_exit 65 "$BPF_PROVISION" validate "$T/site/site.yaml"
grep -qx "$T/site/site.yaml:10:18: error: object 'dummy' has no section 'maps/foo' (has: maps/dummy_hash, maps/dummy_array, maps/dummy_array_custom, maps/dummy_prog_array, kprobe/dummy, socket/dummy)" "$T/err" ||
	{ cat "$T/err" >&2; fail "missing section error"; }
grep -q "^$T/site/site.yaml:12:18: error: object 'dummy' has no program 'nope' (has: dummy_kprobe, dummy_socket)" "$T/err" ||
	{ cat "$T/err" >&2; fail "missing program error"; }
# --no-objects checks the manifest alone.
expect_exit 0 "$BPF_PROVISION" validate --no-objects "$T/site/site.yaml"

# gobpf custom pinning without a path, and a missing object file.
cat >"$T/site/nopath.yaml" <<'YAML'
version: 1
namespace: ns1
objects:
  - file: bpf/gobpf_site.o
  - file: bpf/missing.o
YAML
expect_exit 65 "$BPF_PROVISION" validate "$T/site/nopath.yaml"
grep -q "nopath.yaml:4:5: error: map 'dummy_array_custom' of object 'gobpf_site' is pinned custom by the ELF" "$T/err" ||
	{ cat "$T/err" >&2; fail "custom without path"; }
grep -q "missing.o" "$T/err" || fail "missing object file not reported"

# Errors as JSON on stdout, with their location.
expect_exit 65 "$BPF_PROVISION" -o json validate "$T/site/site.yaml"
"$PY" - "$T/out" "$T/site/site.yaml" <<'PY' || fail "JSON error document"
import json, sys
doc = json.load(open(sys.argv[1]))
err = doc["error"]
assert err["file"] == sys.argv[2] and err["line"] == 10 and err["column"] == 18, err
assert "has no section 'maps/foo'" in err["message"], err
assert len(doc["errors"]) == 2, doc
PY

# An object that is missing, cannot be read or is no ELF file is invalid
# input, exit 65, whether inspect is given it or a manifest names it.
printf 'not an ELF file\n' >"$T/bad.o"
ln -s loop.o "$T/loop.o"
for o in missing.o loop.o bad.o; do
	expect_exit 65 "$BPF_PROVISION" inspect "$T/$o"
	grep -q "^$T/$o: error: " "$T/err" || fail "inspect $o: error names the file"
	printf 'version: 1\nnamespace: ns1\nobjects:\n  - file: %s\n' "$T/$o" >"$T/site/obj.yaml"
	expect_exit 65 "$BPF_PROVISION" validate "$T/site/obj.yaml"
	grep -q "^$T/site/obj.yaml:4:11: error: object file '$T/$o': " "$T/err" ||
		fail "validate $o: error at the manifest's 'file', naming the file: $(cat "$T/err")"
done

# validate needs no privileges: run it as nobody.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	chmod -R a+rX "$T"
	expect_exit 0 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$BPF_PROVISION" validate "$top_builddir"/configs/*.yaml
	expect_exit 0 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$BPF_PROVISION" inspect "$top_builddir/configs/bpf/btf_site.o"
	cp "$top_builddir/configs/bpf/btf_site.o" "$T/secret.o"
	chmod 000 "$T/secret.o"
	printf 'version: 1\nnamespace: ns1\nobjects:\n  - file: %s\n' "$T/secret.o" >"$T/site/obj.yaml"
	expect_exit 65 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$BPF_PROVISION" inspect "$T/secret.o"
	grep -q "^$T/secret.o: error: cannot open: Permission denied" "$T/err" ||
		fail "inspect of an unreadable object: $(cat "$T/err")"
	expect_exit 65 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$BPF_PROVISION" validate "$T/site/obj.yaml"
	grep -q "^$T/site/obj.yaml:4:11: error: object file '$T/secret.o': cannot open: Permission denied" "$T/err" ||
		fail "validate of an unreadable object: $(cat "$T/err")"
	# plan needs CAP_BPF: without it (root all the same), one clear error
	# from the probe before anything is read from the kernel - where the
	# kernel lets no one without it make BPF objects, as Debian's does.
	if [ "$(cat /proc/sys/kernel/unprivileged_bpf_disabled 2>/dev/null)" != 0 ]; then
		mkdir -p "$T/nomount" "$T/run"
		chmod 0700 "$T/run"
		expect_exit 1 env BPF_PROVISION_RUNTIME_DIR="$T/run" setpriv --inh-caps=-all \
			--bounding-set=-bpf,-sys_admin,-perfmon,-net_admin "$BPF_PROVISION" \
			--bpffs "$T/nomount" --mount plan "$top_builddir/configs/gobpf-site.yaml"
		grep -Fxq "bpf-provision: error: the kernel refuses to create BPF objects for this process (Operation not permitted): plan and apply need CAP_BPF (run them as root)" "$T/err" ||
			fail "plan without CAP_BPF: $(cat "$T/err")"
	fi
else
	echo "note: not root, the unprivileged run is this run itself"
fi
echo "cli: ok"
