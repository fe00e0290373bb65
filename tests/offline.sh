#!/bin/sh
# SPDX-License-Identifier: MIT
# Offline plans (issue 17 point 5; bpf-provision(1), OFFLINE PLANS): the
# `snapshot` command saves the tree under a root with its maps' entries and
# the ledger, and `plan --observed SNAPSHOT`, run as user nobody with no
# capabilities at all (setpriv), plans against it with no bpffs and no BPF
# syscall.  On a private bpffs mount (never /sys/fs/bpf) with a private
# BPF_PROVISION_RUNTIME_DIR, the three example manifests, a program array
# wired by program names (tailcall.o) and a map with enforced, exact entries
# (contents_site.o) are applied; then, for each state of the tree and the
# manifests below, the live plan and the offline plan of a fresh snapshot
# are compared - the whole -o json document, the text output and the exit
# status must be equal - and every snapshot must validate against
# schema/snapshot.schema.json:
#  1. unchanged (exit 0); the offline plan makes no bpf, mount or statfs
#     system call (strace, where installed);
#  2. a standalone map's max_entries changed (replace);
#  3. a pin removed by hand (create), a map pinned by hand in an owned
#     directory (delete);
#  4. a declared map's entries changed and one added by hand (update,
#     naming the keys);
#  5. a program array's object changed (tailcall_v2.o): the live plan's
#     changes are all in the offline plan; what the offline plan adds are
#     changes whose reason says "tag unknown offline" (the ledger records the
#     old object's digest); after the apply records the new object, the two
#     plans are equal again;
#     a legacy (gobpf) object rebuilt with other bytes and the same
#     programs: equal plans (tags computed offline), exit 0;
#  6. a tree whose pins no ledger records (the ledger moved away): maps plan
#     alike (adopted), programs of legacy objects are adopted alike (tags
#     computed), each
#     one of a libbpf object is a replace whose reason says "not recorded as
#     built from this object (tag unknown offline)";
#  7. links on cgroups (by absolute path, relative to the cgroup2 mount,
#     optional and missing): equal plans, applied and with one moved to
#     another cgroup (replace); the snapshot lists the cgroups;
#  8. a snapshot that is cut short, of another format or version, or of
#     another root than --bpffs is exit 65; plan --observed reads nothing
#     of the runtime directory, and 'snapshot' takes no manifest.
# Needs root (and setpriv, from util-linux).
# shellcheck disable=SC2015 # A && B || fail: fail if either fails
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST
find_python

START=$(date +%s)
command -v setpriv >/dev/null 2>&1 || skip "no setpriv (util-linux)"
mount_private_bpffs offline
rm -f "$M/probe"
unset BPF_PROVISION_FAIL_AT BPF_PROVISION_FAIL_ERRNO BPF_PROVISION_TRACE_STEPS BPF_PROVISION_PAUSE_AT
mkdir -p "$T/run"

# What nobody reads: the manifests, objects and snapshots in W, a 0755
# directory of 0644 files (the test's own directory is 0700).
chmod 0711 "$T" || fail "chmod $T"
W=$T/pub
mkdir -p "$W/bpf" || fail "mkdir $W"
BPF=$top_builddir/tests/bpf
for f in gobpf-site.yaml iproute2-site.yaml btf-site.yaml; do
	cp "$top_builddir/configs/$f" "$W/" || fail "cannot copy $f"
done
cp "$top_builddir"/configs/bpf/*.o "$W/bpf/" || fail "cannot copy the example objects"
cp "$BPF/tailcall.o" "$BPF/tailcall_v2.o" "$BPF/contents_site.o" "$W/" ||
	fail "no test objects in $BPF"
cp "$top_srcdir/tests/manifests/good/tailcall-chain.yaml" "$W/chain.yaml" ||
	fail "no tests/manifests/good/tailcall-chain.yaml"
cat >"$W/site.yaml" <<'EOF'
version: 1
name: site
owned: [ct]
objects:
  - file: contents_site.o
    name: site
    sections:
      - map: config
        pinning: custom
        path: ct/config
        seed: enforce
        exact: true
        entries:
          - {key: 77, value: 100}
          - {key: 80, value: {port: 80, range: {lo: 1, hi: 1024}}}
maps:
  - path: ct/standalone
    type: hash
    key_size: 4
    value_size: 8
    max_entries: 16
    on_incompatible: replace
    entries:
      - {key: 1, value: 2}
EOF
chmod -R a+rX "$W" || fail "chmod $W"
MANIFESTS="$W/gobpf-site.yaml $W/iproute2-site.yaml $W/btf-site.yaml $W/chain.yaml $W/site.yaml"
CASE=setup

# --- helpers -----------------------------------------------------------------

bp() { # STATUS ARGS...: bpf-provision --bpffs $M ARGS (as root) must exit STATUS
	_want=$1
	shift
	"$BPF_PROVISION" --bpffs "$M" "$@" >"$T/out" 2>"$T/err"
	_got=$?
	[ "$_got" = "$_want" ] || {
		cat "$T/out" "$T/err" >&2
		fail "$CASE: 'bpf-provision $*' exited $_got, want $_want"
	}
}

nobody() { # ARGS...: bpf-provision ARGS as nobody, no capabilities, no runtime dir
	env -u BPF_PROVISION_RUNTIME_DIR setpriv --reuid=nobody --regid=nogroup --clear-groups \
		--inh-caps=-all --bounding-set=-all "$BPF_PROVISION" "$@"
}

# A snapshot of the tree now, in $W/snap.json, checked against the schema.
take_snapshot() {
	bp 0 snapshot
	install -m 0644 "$T/out" "$W/snap.json" || fail "$CASE: cannot save the snapshot"
	[ ! -s "$T/err" ] || fail "$CASE: snapshot said: $(cat "$T/err")"
	"$PY" - "$top_srcdir/schema/snapshot.schema.json" "$W/snap.json" <<'PY' ||
import json, sys
import jsonschema
schema, doc = (json.load(open(p)) for p in sys.argv[1:])
jsonschema.Draft202012Validator.check_schema(schema)
jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
PY
		fail "$CASE: the snapshot does not validate against schema/snapshot.schema.json"
}

# The live plan and the offline plan (as nobody) of ARGS, json and text, with
# their exit statuses: $T/live.json $T/off.json $T/live.txt $T/off.txt,
# LIVE_RC, OFF_RC.  The text and json runs of each must exit alike.
plans() { # ARGS...
	take_snapshot
	"$BPF_PROVISION" --bpffs "$M" plan -o json "$@" >"$T/live.json" 2>"$T/live.err"
	LIVE_RC=$?
	"$BPF_PROVISION" --bpffs "$M" plan "$@" >"$T/live.txt" 2>>"$T/live.err"
	[ $? = "$LIVE_RC" ] || fail "$CASE: the live text plan exits otherwise than its json"
	nobody plan --observed "$W/snap.json" -o json "$@" >"$T/off.json" 2>"$T/off.err"
	OFF_RC=$?
	nobody plan --observed "$W/snap.json" "$@" >"$T/off.txt" 2>>"$T/off.err"
	[ $? = "$OFF_RC" ] || fail "$CASE: the offline text plan exits otherwise than its json"
	[ -s "$T/off.json" ] || fail "$CASE: no offline plan (exit $OFF_RC): $(cat "$T/off.err")"
}

agree() { # STATUS ARGS...: the live and the offline plan are the same, exit STATUS
	_agree=$1
	shift
	plans "$@"
	[ "$LIVE_RC" = "$_agree" ] ||
		fail "$CASE: the live plan exited $LIVE_RC, want $_agree: $(cat "$T/live.txt" "$T/live.err")"
	[ "$OFF_RC" = "$LIVE_RC" ] ||
		fail "$CASE: the offline plan exited $OFF_RC, the live one $LIVE_RC: $(cat "$T/off.err")"
	cmp -s "$T/live.json" "$T/off.json" || {
		diff "$T/live.json" "$T/off.json" >&2
		fail "$CASE: the offline json plan differs from the live one"
	}
	cmp -s "$T/live.txt" "$T/off.txt" || {
		diff "$T/live.txt" "$T/off.txt" >&2
		fail "$CASE: the offline text plan differs from the live one"
	}
}

has_change() { # FILE ACTION PATH REASON-PART: the json plan in FILE has that change
	"$PY" - "$@" <<'PY' || fail "$CASE: no change $2 $3 ($4) in $1: $(cat "$1")"
import json, sys
f, action, path, part = sys.argv[1:]
sys.exit(not any(c["action"] == action and c["path"] == path and part in c["reason"]
                 for c in json.load(open(f))["changes"]))
PY
}

# --- 1. unchanged --------------------------------------------------------------

CASE=unchanged
bp 0 apply $MANIFESTS
agree 0 $MANIFESTS
grep -q '"object"' "$W/snap.json" && grep -q '"tag"' "$W/snap.json" ||
	fail "$CASE: the snapshot's ledger records no object digest or tag"
# Not one bpf, mount or statfs system call: no kernel object, no bpffs.
if command -v strace >/dev/null 2>&1; then
	# LeakSanitizer cannot run under ptrace: a sanitizer build checks leaks elsewhere.
	env -u BPF_PROVISION_RUNTIME_DIR ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -qq -e trace=bpf,mount,statfs -o "$T/strace" \
		setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
		--bounding-set=-all "$BPF_PROVISION" plan --observed "$W/snap.json" $MANIFESTS \
		>/dev/null 2>&1 || fail "$CASE: the offline plan under strace failed"
	! grep -E '^([0-9]+ +)?(bpf|mount|statfs)\(' "$T/strace" ||
		fail "$CASE: the offline plan made the system calls above"
fi

# --- 2. a map's spec changed ---------------------------------------------------

CASE=spec
sed 's/max_entries: 16/max_entries: 32/' "$W/site.yaml" >"$W/site32.yaml"
chmod 0644 "$W/site32.yaml"
SPEC="$W/gobpf-site.yaml $W/iproute2-site.yaml $W/btf-site.yaml $W/chain.yaml $W/site32.yaml"
agree 2 $SPEC
has_change "$T/off.json" replace ct/standalone "max_entries 16 -> 32"

# --- 3. a pin removed by hand, one added in an owned directory -----------------

CASE=by-hand
rm "$M/ns1/test1" || fail "$CASE: cannot remove ns1/test1"
bpftool map create "$M/ns1/stray" type array key 4 value 4 entries 1 name stray ||
	fail "$CASE: bpftool map create"
agree 2 $MANIFESTS
has_change "$T/off.json" create ns1/test1 missing
has_change "$T/off.json" delete ns1/stray ""
bp 0 apply $MANIFESTS
agree 0 $MANIFESTS

# --- 4. a declared map's entries changed ---------------------------------------

CASE=entries
bpftool map update pinned "$M/ct/config" key 77 0 0 0 value 1 0 0 0 0 0 0 0 ||
	fail "$CASE: bpftool map update"
bpftool map update pinned "$M/ct/config" key 9 0 0 0 value 1 0 0 0 0 0 0 0 ||
	fail "$CASE: bpftool map update"
agree 2 $MANIFESTS
has_change "$T/off.json" update ct/config "entry 0x4d000000 differs"
has_change "$T/off.json" update ct/config "entry 0x09000000 not listed (exact)"
bp 0 apply $MANIFESTS
agree 0 $MANIFESTS

# --- 5. a program array's object changed ---------------------------------------

CASE=object
sed 's/tailcall\.o/tailcall_v2.o/' "$W/chain.yaml" >"$W/chain2.yaml"
chmod 0644 "$W/chain2.yaml"
V2="$W/gobpf-site.yaml $W/iproute2-site.yaml $W/btf-site.yaml $W/chain2.yaml $W/site.yaml"
plans $V2
[ "$LIVE_RC" = 2 ] && [ "$OFF_RC" = 2 ] ||
	fail "$CASE: exit $LIVE_RC live, $OFF_RC offline; want 2 and 2"
has_change "$T/live.json" update chain/jmp_table "entry 0x01000000 holds another program"
"$PY" - "$T/live.json" "$T/off.json" <<'PY' || fail "$CASE: see above"
import json, sys
live, off = (json.load(open(p)) for p in sys.argv[1:])
key = lambda c: (c["action"], c["kind"], c["path"])
lk = {key(c): c for c in live["changes"]}
ok = {key(c): c for c in off["changes"]}
bad = ["live %s %s %s is not in the offline plan" % k for k in lk if k not in ok]
bad += ["offline %s %s %s (%s) is not live, and says nothing of an unknown tag" % (*k, c["reason"])
        for k, c in ok.items()
        if (k not in lk or c["reason"] != lk[k]["reason"]) and "tag unknown offline" not in c["reason"]]
if not any("tag unknown offline" in c["reason"] for c in off["changes"]):
    bad.append("the offline plan names no unknown tag")
if bad:
    sys.exit("\n".join(bad))
PY
bp 0 apply $V2
agree 0 $V2

# A legacy object (gobpf) with other bytes and the same programs: their tags
# are computed offline, so the plans agree although no record vouches.
CASE=legacy
if OBJCOPY=$(command -v llvm-objcopy || command -v objcopy) &&
	printf 'rebuilt\n' >"$T/note" &&
	"$OBJCOPY" --add-section .note.rebuilt="$T/note" "$W/bpf/gobpf_site.o" "$T/gobpf_site.o" \
		2>"$T/err" && ! cmp -s "$W/bpf/gobpf_site.o" "$T/gobpf_site.o"; then
	install -m 0644 "$T/gobpf_site.o" "$W/bpf/gobpf_site.o" || fail "$CASE: install"
	agree 0 $V2
	grep -q '"tag_bits": \(160\|256\)' "$W/snap.json" ||
		fail "$CASE: the snapshot does not say how the kernel makes tags"
	bp 0 apply $V2
else
	echo "offline.sh: no objcopy that adds a section to a BPF object: $(cat "$T/err")" >&2
fi

# --- 6. a tree no ledger records -----------------------------------------------

CASE=foreign
mv "$T/run" "$T/run.away" || fail "$CASE: mv"
mkdir -m 0700 "$T/run"
plans $V2
grep -q '"entries": \[\]' "$W/snap.json" ||
	fail "$CASE: the snapshot's ledger is not empty"
"$PY" - "$T/live.json" "$T/off.json" <<'PY' || fail "$CASE: see above"
import json, sys
live, off = (json.load(open(p)) for p in sys.argv[1:])
# A program array's slots of a libbpf object: tags unknown offline, so
# rewritten there (its adoption says so too); compared apart.
unknown = {c["path"] for c in off["changes"] if "tag unknown" in c["reason"]}
lmaps = [c for c in live["changes"] if c["kind"] == "map" and c["path"] not in unknown]
omaps = [c for c in off["changes"] if c["kind"] == "map" and c["path"] not in unknown]
if any(c["path"] == "chain/jmp_table" for c in off["changes"]) and "chain/jmp_table" not in unknown:
    sys.exit("chain/jmp_table offline: not a rewrite for unknown tags: %s" % off["changes"])
bad = [] if lmaps == omaps else ["map changes differ: live %s, offline %s" % (lmaps, omaps)]
progs = {c["path"]: c for c in off["changes"] if c["kind"] == "program"}
# libbpf objects: no record, no tag; legacy ones: computed.
for p in ("chain/entry", "btf/progs/count_packets"):
    c = progs.get(p)
    if not c or c["action"] != "replace" or \
            "not recorded as built from this object (tag unknown offline)" not in c["reason"]:
        bad.append("program %s: %s, want a replace for an unknown tag" % (p, c))
# Found and not recorded: adopted, live and offline alike.
lprogs = {c["path"]: c for c in live["changes"] if c["kind"] == "program"}
for p in ("ns1/progs/dummy_socket", "tc/progs/cls_main"):
    if progs.get(p) != lprogs.get(p) or lprogs[p]["action"] != "adopt":
        bad.append("program %s of a legacy object: %s offline, %s live, want both adopted"
                   % (p, progs.get(p), lprogs.get(p)))
if any(c["action"] != "adopt" for c in live["changes"]):
    bad.append("the live plan does more than adopt: %s" % live["changes"])
if bad:
    sys.exit("\n".join(bad))
PY
rm -rf "$T/run"
mv "$T/run.away" "$T/run" || fail "$CASE: mv back"

# --- 7. links on cgroups -------------------------------------------------------

CASE=cgroups
CGROOT=$(awk '{ for (i = 7; i < NF && $i != "-"; i++); if ($(i + 1) == "cgroup2") print $5 }' \
	/proc/self/mountinfo | head -n 1)
CGPREFIX=bp-offline-$$
if [ -n "$CGROOT" ] && [ -d "$CGROOT" ] && mkdir "$CGROOT/$CGPREFIX-a" "$CGROOT/$CGPREFIX-b"; then
	trap 'rmdir "$CGROOT/$CGPREFIX-a" "$CGROOT/$CGPREFIX-b" 2>/dev/null
		umount -l "$M" 2>/dev/null; rmdir "$M"; rm -rf "$T"' EXIT
	cp "$BPF/attach_cg.o" "$W/" || fail "$CASE: no object $BPF/attach_cg.o"
	cg_manifest() { # OUT CGROUP-OF-abs
		cat >"$1" <<EOF
version: 1
name: cg
namespace: at
objects:
  - file: attach_cg.o
    name: cg
    sections:
      - program: cg_count
        attach:
          - cgroup: $2
            pin: cg/links/abs
          - cgroup: $CGPREFIX-b
            type: cgroup_inet_egress
            pin: cg/links/rel
          - cgroup: $CGPREFIX-none
            optional: true
            pin: cg/links/none
EOF
		chmod 0644 "$1"
	}
	cg_manifest "$W/cg.yaml" "$CGROOT/$CGPREFIX-a"
	cg_manifest "$W/cg2.yaml" "$CGROOT/$CGPREFIX-b"
	bp 0 apply $V2 "$W/cg.yaml"
	agree 0 $V2 "$W/cg.yaml"
	grep -q "$CGPREFIX-a" "$W/snap.json" || fail "$CASE: the snapshot lists no cgroup $CGPREFIX-a"
	grep -q "cgroup '$CGPREFIX-none' (.*) does not exist: skipped (optional)" "$T/off.err" ||
		fail "$CASE: the offline plan does not skip the missing cgroup: $(cat "$T/off.err")"
	agree 2 $V2 "$W/cg2.yaml"
	has_change "$T/off.json" replace cg/links/abs "cgroup"
	bp 0 destroy "$W/cg.yaml"
else
	echo "offline.sh: no cgroup2 mount, or no cgroup made in it: links on cgroups not compared" >&2
fi

# --- 8. bad snapshots ----------------------------------------------------------

CASE=corrupt
take_snapshot
bad_snapshot() { # WHAT: $W/bad.json must be refused with exit 65
	chmod 0644 "$W/bad.json"
	nobody plan --observed "$W/bad.json" $MANIFESTS >"$T/out" 2>"$T/err"
	_rc=$?
	[ "$_rc" = 65 ] || fail "$CASE: $1: exit $_rc, want 65: $(cat "$T/err")"
	grep -q "bad.json" "$T/err" || fail "$CASE: $1: the error does not name the file: $(cat "$T/err")"
}
head -c 2000 "$W/snap.json" >"$W/bad.json"
bad_snapshot "cut short"
sed 's/"bpf-provision-snapshot"/"something-else"/' "$W/snap.json" >"$W/bad.json"
bad_snapshot "another format"
"$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); d["version"] = 2; print(json.dumps(d))' \
	"$W/snap.json" >"$W/bad.json"
bad_snapshot "another version"
"$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); d["entries"][0]["tag"] = "zz"; print(json.dumps(d))' \
	"$W/snap.json" >"$W/bad.json"
bad_snapshot "a bad tag"
nobody --bpffs /elsewhere plan --observed "$W/snap.json" $MANIFESTS >"$T/out" 2>"$T/err"
[ $? = 65 ] && grep -q "not of '/elsewhere'" "$T/err" ||
	fail "$CASE: --bpffs of another root: $(cat "$T/err")"
nobody plan --observed "$W/missing.json" $MANIFESTS >"$T/out" 2>"$T/err"
[ $? = 65 ] || fail "$CASE: a missing snapshot is not exit 65: $(cat "$T/err")"
"$BPF_PROVISION" --bpffs "$M" snapshot "$W/site.yaml" >"$T/out" 2>"$T/err" &&
	fail "$CASE: snapshot took an argument"
"$BPF_PROVISION" --bpffs "$M" apply --observed "$W/snap.json" $MANIFESTS >"$T/out" 2>"$T/err" &&
	fail "$CASE: apply took --observed"
grep -q "only plan takes --observed" "$T/err" || fail "$CASE: apply --observed: $(cat "$T/err")"

echo "offline.sh: passed in $(($(date +%s) - START)) s"
