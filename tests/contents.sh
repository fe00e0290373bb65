#!/bin/sh
# shellcheck disable=SC2031 # FAILS is counted in each case's own subshell (run_cases)
# SPDX-License-Identifier: MIT
# Map contents (bpf-provision.yaml(5), MAP CONTENTS): the entries a manifest
# lists for a map (`entries:` on a `map:` section entry, or on a standalone
# map of the top-level `maps:`), how they are seeded (`seed: create`, the
# default, or `enforce`, with `exact: true`), program arrays wired by
# program names, and what is refused.  Each case gets a fresh private bpffs
# and no ledger; the kernel is asked what each map holds with `bpftool map
# dump -j` (every key and value compared as bytes) and `bpftool map show -j`.
#
# Cases: create and replace write exactly the listed entries (integers
# little-endian in the key or value size, negative ones in two's complement,
# "0x..." strings as exact bytes, BTF structs by field name with the rest
# zero, nested structs); with seed create an entry changed, deleted or added
# by hand is no drift; with seed enforce a listed entry that differs or is
# missing is (`* map PATH update` naming the key, in text and JSON: a change
# "update" and a step "write"), and apply rewrites it in the same map (same
# id), keeping the unlisted entries; with exact: true an unlisted entry is
# deleted; a prog array wired by `program:` names (those programs pinned
# nowhere) carries a three-program tail-call chain, run with
# BPF_PROG_TEST_RUN (bpftool prog run): every counter of the chain counts;
# standalone maps have their declared type, sizes, flags and entries, are
# left alone by a re-apply, pruned when no longer declared, and migrated
# with their entries when max_entries changes; the bad inputs of
# tests/contents/*.yaml are each exit 65 at a FILE:LINE:COL the file marks
# (`# want-error: TOKEN | TOKEN...`: that line, the column of one of the
# tokens) with the tree untouched; every step of an apply that rewrites
# entries of a kept map, made to fail (BPF_PROVISION_FAIL_AT), leaves the
# map's entries and the tree exactly as they were.
#
# One shell function per case, each run in a subshell, as in attach.sh: a
# failed assertion prints "FAIL: CASE: why" and the case goes on where that
# makes sense.  CONTENTS_CASES="enforce exact" runs only those;
# CONTENTS_VERBOSE=1 shows every run of the tool.  Needs root.  Never
# touches /sys/fs/bpf.
# shellcheck disable=SC2015 # A && B || bad: bad if either fails
# shellcheck disable=SC2317 # the case_ functions are called as "case_$c"
# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST
find_python

BPF=$top_builddir/tests/bpf
BAD=$top_srcdir/tests/contents
CASE=setup
START=$(date +%s)

mount_private_bpffs contents
unset BPF_PROVISION_FAIL_AT BPF_PROVISION_FAIL_ERRNO BPF_PROVISION_TRACE_STEPS BPF_PROVISION_PAUSE_AT

# What bpftool -j says about maps, as lines the cases compare: keys and
# values as lowercase hex of their bytes, in the map's order of bytes.
cat >"$T/mapq.py" <<'PY'
import json, subprocess, sys


def bpftool(*args):
    r = subprocess.run(["bpftool", "-j", *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("bpftool %s: %s" % (" ".join(args), (r.stderr or r.stdout).strip()))
    return json.loads(r.stdout) if r.stdout.strip() else None


def hexb(b):
    return "".join("%02x" % int(x, 16) for x in b)


cmd, path = sys.argv[1], sys.argv[2]
if cmd == "dump":  # PATH: "KEY VALUE" a line, sorted; per-CPU values "CPU=VALUE,..."
    out = []
    for e in bpftool("map", "dump", "pinned", path) or []:
        if "values" in e:
            v = ",".join("%d=%s" % (c["cpu"], hexb(c["value"])) for c in e["values"])
        elif isinstance(e.get("value"), list):
            v = hexb(e["value"])
        else:
            v = "error"
        out.append(hexb(e["key"]) + " " + v)
    if out:
        print("\n".join(sorted(out)))
elif cmd == "slots":  # PATH: a program array's "KEY NAME" a line (u32 keys), sorted by key
    out = []
    for e in bpftool("map", "dump", "pinned", path) or []:
        key = int.from_bytes(bytes(int(x, 16) for x in e["key"]), "little")
        pid = int.from_bytes(bytes(int(x, 16) for x in e["value"]), "little")
        out.append((key, bpftool("prog", "show", "id", str(pid))["name"]))
    if out:
        print("\n".join("%d %s" % kv for kv in sorted(out)))
elif cmd == "show":  # PATH: "TYPE KEY VALUE MAX_ENTRIES FLAGS NAME"
    d = bpftool("map", "show", "pinned", path)
    print(d["type"], d["bytes_key"], d["bytes_value"], d["max_entries"], d["flags"], d["name"])
elif cmd == "id":  # PATH: the map's id
    print(bpftool("map", "show", "pinned", path)["id"])
elif cmd == "markers":  # MANIFEST: "LINE:COL" of every token marked "# want-error: A | B"
    for n, line in enumerate(open(path), 1):
        code, mark, toks = line.partition("# want-error: ")
        for t in toks.strip().split(" | ") if mark else []:
            c = code.find(t)
            if c < 0:
                sys.exit("%s:%d: marked token %r is not on the line" % (path, n, t))
            print("%d:%d" % (n, c + 1))
else:
    sys.exit("mapq: unknown command " + cmd)
PY

# --- helpers -------------------------------------------------------------------

excerpt() { # FILE: its first lines, indented, for a message
	sed -n '1,10s/^/    | /p' "$1"
}

# A fresh, empty bpffs (only maps.debug and progs.debug) and no ledger.
reset() {
	umount "$M" && mount -t bpf bpf "$M" || fatal "cannot remount $M"
	rm -rf "$T/run"
}

workdir() { # OBJECT...: W, a directory of the case's own with copies of the objects
	W=$T/$CASE
	mkdir -p "$W" || fatal "mkdir $W"
	for _o; do
		cp "$BPF/$_o" "$W/" || fatal "no object $BPF/$_o (built by make check)"
	done
}

bp() { # STATUS ARGS...: bpf-provision --bpffs $M ARGS; bad unless it exits STATUS
	_want=$1
	shift
	run_checking_steps "$M" "$@"
	_got=$?
	tr -s ' ' <"$T/out" >"$T/outs"
	if [ -n "${CONTENTS_VERBOSE:-}" ]; then
		echo "### $CASE: bpf-provision $* -> $_got" >&2
		sed 's/^/    out| /' "$T/out" >&2
		sed 's/^/    err| /' "$T/err" >&2
	fi
	[ "$_got" = "$_want" ] && return 0
	bad "'bpf-provision $*' exited $_got, want $_want
$(excerpt "$T/err"; excerpt "$T/out")"
	return 1
}

change_line() { # SYMBOL KIND PATH: the last text plan's line "SYMBOL KIND PATH ...", or nothing
	awk -v s="$1 $2 $3 " 'index($0, s) == 1 { print; exit }' "$T/outs"
}

expect_change() { # SYMBOL KIND PATH
	[ -n "$(change_line "$@")" ] || bad "the plan has no line '$1 $2 $3 ...':
$(excerpt "$T/out")"
}

expect_line() { # LINE: the last text output has it (runs of blanks squeezed)
	grep -Fxq -- "$1" "$T/outs" || bad "no line '$1' in:
$(excerpt "$T/out")"
}

no_change() { # PATH: the last plan has no change line for PATH
	! awk -v p="$1" '/^[-+~*] / && $3 == p { f = 1 } END { exit !f }' "$T/outs" ||
		bad "the plan changes $1: $(grep -F " $1 " "$T/outs")"
}

converged() { # MANIFEST: plan exits 0 and lists no change
	bp 0 plan "$1" || return 1
	! grep -q '^[-+~*] ' "$T/out" ||
		bad "the plan is not empty: $(grep '^[-+~*] ' "$T/out" | head -n 3)"
}

dump() { # PATH: the entries of the map pinned at PATH under $M, "KEYHEX VALUEHEX" sorted
	"$PY" "$T/mapq.py" dump "$M/$1" 2>&1
}

map_id() { # PATH
	"$PY" "$T/mapq.py" id "$M/$1" 2>/dev/null || echo none
}

map_show() { # PATH: "TYPE KEY VALUE MAX_ENTRIES FLAGS NAME"
	"$PY" "$T/mapq.py" show "$M/$1" 2>&1
}

expect_dump() { # PATH "KEYHEX VALUEHEX"...: the map holds exactly these entries
	_p=$1
	shift
	printf '%s\n' "$@" | LC_ALL=C sort >"$T/dump.want"
	dump "$_p" | LC_ALL=C sort >"$T/dump.got"
	cmp -s "$T/dump.want" "$T/dump.got" || bad "$_p holds other entries (- want, + got):
$(diff -u "$T/dump.want" "$T/dump.got" | sed -n '4,20s/^/    | /p')"
}

# Writes or deletes an entry by hand, as an operator with bpftool would.
poke() { # PATH KEYHEX VALUEHEX
	# shellcheck disable=SC2046 # one word a byte
	bpftool map update pinned "$M/$1" key hex $(echo "$2" | sed 's/../& /g') \
		value hex $(echo "$3" | sed 's/../& /g') 2>"$T/poke.err" ||
		fatal "bpftool map update $1 $2 $3: $(cat "$T/poke.err")"
}

unpoke() { # PATH KEYHEX
	# shellcheck disable=SC2046
	bpftool map delete pinned "$M/$1" key hex $(echo "$2" | sed 's/../& /g') 2>"$T/poke.err" ||
		fatal "bpftool map delete $1 $2: $(cat "$T/poke.err")"
}

# The pins under the root, one relative path a line, sorted.
pins() {
	(cd "$M" && find . -type f | sed 's|^\./||' | LC_ALL=C sort)
}

# A plan's reason names a key when it has it as written (decimal), or as its
# bytes: 0x4d000000, 4d000000 or "4d 00 00 00".  Adjust here once the
# tool's wording is settled.
names_key() { # REASON DECIMAL KEYHEX
	printf '%s\n' "$1" | grep -Eq -e "(^|[^0-9A-Za-z])$2([^0-9A-Za-z]|\$)" \
		-e "$3" -e "$(echo "$3" | sed 's/../& /g; s/ $//')"
}

# The last JSON plan (in $T/last.json): valid by schema/plan.schema.json,
# exactly one change at PATH with ACTION, kind map and a reason naming every
# key KEY (DECIMAL:HEX) and no key NOKEY, and (WRITE=1) a step "write" at
# PATH that carries that change out.  The reason goes to $T/reason.
json_change() { # PATH ACTION WRITE KEYS NOKEYS
	: >"$T/reason"
	"$PY" - "$top_srcdir/schema/plan.schema.json" "$T/last.json" "$@" >"$T/reason" <<'PY' ||
import json, re, sys
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
schema_file, doc_file, path, action, write, keys, nokeys = sys.argv[1:8]
try:
    doc = json.load(open(doc_file))
except ValueError as e:
    sys.exit("stdout is not one JSON document (%s)" % e)
err = best_match(Draft202012Validator(json.load(open(schema_file))).iter_errors(doc))
if err is not None:
    sys.exit("the JSON plan is not valid by plan.schema.json: %s at %s"
             % (err.message, list(err.absolute_path)))
got = [(i, c) for i, c in enumerate(doc["changes"]) if c["path"] == path]
if len(got) != 1 or got[0][1]["action"] != action or got[0][1]["kind"] != "map":
    sys.exit("JSON changes at %s: %s, want one map %s" % (path, [c for _, c in got], action))
idx, change = got[0]
reason = change["reason"]


def named(dec, hx):
    spaced = " ".join(hx[i:i + 2] for i in range(0, len(hx), 2))
    return bool(re.search(r"(^|[^0-9A-Za-z])%s([^0-9A-Za-z]|$)" % dec, reason)) or \
        hx in reason or spaced in reason


for k in keys.split():
    if not named(*k.split(":")):
        sys.exit("the reason %r of the change at %s does not name key %s" % (reason, path, k))
for k in nokeys.split():
    if named(*k.split(":")):
        sys.exit("the reason %r of the change at %s names key %s" % (reason, path, k))
if write == "1":
    writes = [s for s in doc["steps"] if s["op"] == "write" and s.get("path") == path]
    if not writes:
        sys.exit("no step 'write' at %s: steps %s" % (path, doc["steps"]))
    if any(s.get("change", idx) != idx for s in writes):
        sys.exit("a step 'write' at %s carries out another change than %d: %s" % (path, idx, writes))
print(reason)
PY
		bad "JSON plan: see above"
}

# --- manifests -----------------------------------------------------------------

# contents_site.o as object "site": config (hash u32 -> struct cfg) at
# ct/config with four entries in each way of writing them, and slots (array
# u32 -> u64) at ct/slots; ATTR lines ("seed: enforce", "exact: true",
# "on_incompatible: replace") go on config's entry.
site_manifest() { # OUT ATTR-LINE...
	_out=$1
	shift
	{
		cat <<'EOF'
version: 1
name: site
objects:
  - file: contents_site.o
    name: site
    sections:
      - map: config
        pinning: custom
        path: ct/config
EOF
		for _a; do
			echo "        $_a"
		done
		cat <<'EOF'
        entries:
          - {key: 77, value: 100}
          - {key: "0x0a000001", value: "0x0100000000000002"}
          - key: 443
            value: {port: 443, enabled: true}
          - key: 80
            value:
              port: 80
              range: {lo: 1, hi: 1024}
      - map: slots
        pinning: custom
        path: ct/slots
        entries:
          - {key: 0, value: 7}
          - {key: 5, value: -1}
EOF
	} >"$_out"
}

# What site_manifest's maps hold, as dump prints it: config's four entries
# (77 -> 100; the exact bytes; struct cfg {port 443, enabled 1}, rest zero;
# {port 80, range {1, 1024}}), slots' eight (7 at 0, -1 at 5, zero others).
CONFIG_77="4d000000 6400000000000000"
CONFIG_BYTES="0a000001 0100000000000002"
CONFIG_443="bb010000 bb01010000000000"
CONFIG_80="50000000 5000000001000004"
expect_site_config() { # EXTRA-ENTRY...: config holds the four declared entries and these
	expect_dump ct/config "$CONFIG_77" "$CONFIG_BYTES" "$CONFIG_443" "$CONFIG_80" "$@"
}
expect_site_slots() {
	expect_dump ct/slots "00000000 0700000000000000" "01000000 0000000000000000" \
		"02000000 0000000000000000" "03000000 0000000000000000" "04000000 0000000000000000" \
		"05000000 ffffffffffffffff" "06000000 0000000000000000" "07000000 0000000000000000"
}

# --- cases -----------------------------------------------------------------------

# A created map holds exactly its entries, in every way of writing them; a
# re-apply changes nothing.
case_create() {
	reset
	workdir contents_site.o
	site_manifest "$W/site.yaml"
	bp 0 validate "$W/site.yaml"
	bp 2 plan "$W/site.yaml"
	expect_change + map ct/config
	expect_change + map ct/slots
	bp 0 apply "$W/site.yaml" || return
	[ "$(map_show ct/config)" = "hash 4 8 64 0 config" ] ||
		bad "ct/config is '$(map_show ct/config)', want 'hash 4 8 64 0 config'"
	expect_site_config
	expect_site_slots
	ids="$(map_id ct/config) $(map_id ct/slots)"
	converged "$W/site.yaml"
	bp 0 apply "$W/site.yaml"
	! grep -q '^[-+~*] ' "$T/out" || bad "a re-apply changed: $(grep '^[-+~*] ' "$T/out")"
	[ "$(map_id ct/config) $(map_id ct/slots)" = "$ids" ] ||
		bad "a re-apply made other maps: '$(map_id ct/config) $(map_id ct/slots)', was '$ids'"
	expect_site_config
	expect_site_slots
}

# A replaced map (on_incompatible: replace; max_entries differs) holds
# exactly the listed entries, not the old map's.
case_replace() {
	reset
	workdir contents_site.o
	site_manifest "$W/site.yaml" "on_incompatible: replace"
	mkdir -p "$M/ct" && bpftool map create "$M/ct/config" type hash key 4 value 8 entries 32 \
		name config 2>"$T/err" || fatal "bpftool map create ct/config: $(cat "$T/err")"
	poke ct/config 09000000 0900000000000000
	poke ct/config 4d000000 0500000000000000
	old=$(map_id ct/config)
	bp 2 plan "$W/site.yaml"
	expect_line '~ map ct/config replace (max_entries 32 -> 64; replace)'
	bp 0 apply "$W/site.yaml" || return
	[ "$(map_id ct/config)" != "$old" ] || bad "ct/config is still map $old: not replaced"
	[ "$(map_show ct/config)" = "hash 4 8 64 0 config" ] ||
		bad "ct/config is '$(map_show ct/config)', want 'hash 4 8 64 0 config'"
	expect_site_config
	converged "$W/site.yaml"
}

# seed: create (the default, and said): entries changed, deleted or added
# by hand are no drift, and an apply leaves them.
case_seed_create() {
	reset
	workdir contents_site.o
	site_manifest "$W/site.yaml"
	site_manifest "$W/said.yaml" "seed: create"
	bp 0 apply "$W/site.yaml" || return
	id=$(map_id ct/config)
	poke ct/config 4d000000 0500000000000000
	unpoke ct/config bb010000
	poke ct/config 0f270000 0300000000000000
	poke ct/slots 00000000 0800000000000000
	for mf in site said; do
		bp 0 plan "$W/$mf.yaml"
		no_change ct/config
		no_change ct/slots
	done
	bp 0 apply "$W/site.yaml"
	! grep -q '^[-+~*] ' "$T/out" || bad "the apply changed: $(grep '^[-+~*] ' "$T/out")"
	[ "$(map_id ct/config)" = "$id" ] || bad "ct/config is map $(map_id ct/config), was $id"
	expect_dump ct/config "4d000000 0500000000000000" "$CONFIG_BYTES" "$CONFIG_80" \
		"0f270000 0300000000000000"
	[ "$(dump ct/slots | head -n 1)" = "00000000 0800000000000000" ] ||
		bad "ct/slots[0] is '$(dump ct/slots | head -n 1)' after the apply, was set to 8 by hand"
}

# seed: enforce: a listed entry changed (77) or deleted (443) by hand is
# drift, an unlisted one (9999) is not; apply writes them back in the same
# map and keeps the unlisted one.
case_enforce() {
	reset
	workdir contents_site.o
	site_manifest "$W/site.yaml" "seed: enforce"
	bp 0 apply "$W/site.yaml" || return
	expect_site_config
	id=$(map_id ct/config)
	poke ct/config 0f270000 0300000000000000
	converged "$W/site.yaml" # an unlisted entry alone is no drift
	poke ct/config 4d000000 0500000000000000
	unpoke ct/config bb010000
	bp 2 -o json plan "$W/site.yaml"
	cp "$T/out" "$T/last.json"
	json_change ct/config update 1 "77:4d000000 443:bb010000" "9999:0f270000"
	reason=$(cat "$T/reason")
	bp 2 plan "$W/site.yaml"
	line=$(change_line '*' map ct/config)
	case $line in
	"* map ct/config update ("*")") ;;
	*) bad "no line '* map ct/config update (...)' in: $(excerpt "$T/out")" ;;
	esac
	names_key "$line" 77 4d000000 || bad "the plan line does not name key 77: $line"
	names_key "$line" 443 bb010000 || bad "the plan line does not name key 443: $line"
	[ -z "$reason" ] || case $line in
	*"$reason"*) ;;
	*) bad "the text plan says '$line', the JSON reason is '$reason'" ;;
	esac
	no_change ct/slots
	bp 0 apply "$W/site.yaml" || return
	expect_change '*' map ct/config
	[ "$(map_id ct/config)" = "$id" ] || bad "ct/config is map $(map_id ct/config), was $id: not in place"
	expect_site_config "0f270000 0300000000000000"
	converged "$W/site.yaml"
}

# exact: true: an unlisted entry added by hand is drift, and apply deletes
# it in the same map.
case_exact() {
	reset
	workdir contents_site.o
	site_manifest "$W/site.yaml" "seed: enforce" "exact: true"
	bp 0 apply "$W/site.yaml" || return
	expect_site_config
	id=$(map_id ct/config)
	poke ct/config 0f270000 0300000000000000
	bp 2 -o json plan "$W/site.yaml"
	cp "$T/out" "$T/last.json"
	json_change ct/config update 1 "9999:0f270000" ""
	bp 2 plan "$W/site.yaml"
	line=$(change_line '*' map ct/config)
	names_key "$line" 9999 0f270000 || bad "the plan line does not name key 9999: '$line'"
	bp 0 apply "$W/site.yaml" || return
	[ "$(map_id ct/config)" = "$id" ] || bad "ct/config is map $(map_id ct/config), was $id: not in place"
	expect_site_config
	converged "$W/site.yaml"
}

# A program array wired by program names: chain_entry (pinned) tail-calls
# slot 0 (chain_second), which tail-calls slot 1 (chain_third), neither
# pinned; one test run counts once in each of the three hits.
case_tailcall() {
	bpftool prog help 2>&1 | grep -q 'prog run' || case_skip "this bpftool has no 'prog run'"
	reset
	workdir tailcall.o
	cp "$top_srcdir/tests/manifests/good/tailcall-chain.yaml" "$W/chain.yaml" ||
		fail "no tests/manifests/good/tailcall-chain.yaml"
	bp 2 plan "$W/chain.yaml"
	expect_change + map chain/jmp_table
	bp 0 apply "$W/chain.yaml" || return
	printf '%s\n' chain/entry chain/hits chain/jmp_table maps.debug progs.debug >"$T/want.pins"
	pins >"$T/got.pins"
	cmp -s "$T/want.pins" "$T/got.pins" ||
		bad "the pins are not the declared ones: $(diff "$T/want.pins" "$T/got.pins" | grep '^[<>]')"
	got=$("$PY" "$T/mapq.py" slots "$M/chain/jmp_table" 2>&1 | tr '\n' ' ')
	[ "$got" = "0 chain_second 1 chain_third " ] ||
		bad "chain/jmp_table holds '$got', want '0 chain_second 1 chain_third'"
	expect_dump chain/hits "00000000 0000000000000000" "01000000 0000000000000000" \
		"02000000 0000000000000000"
	# XDP test runs need at least an Ethernet header's 14 bytes.
	head -c 64 /dev/zero >"$T/packet"
	bpftool -j prog run pinned "$M/chain/entry" data_in "$T/packet" repeat 1 >"$T/run.out" \
		2>"$T/run.err" || fatal "bpftool prog run chain/entry: $(cat "$T/run.err")"
	rv=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["retval"])' "$T/run.out")
	[ "$rv" = 2 ] || bad "chain/entry returned '$rv', want 2 (XDP_PASS): $(cat "$T/run.out")"
	expect_dump chain/hits "00000000 0100000000000000" "01000000 0100000000000000" \
		"02000000 0100000000000000"
	converged "$W/chain.yaml"
	# chain_third changed (it counts by 2): its slot alone is written again,
	# in the same program array; the chain runs through the new program.
	cp "$BPF/tailcall_v2.o" "$W/" || fatal "no object $BPF/tailcall_v2.o"
	sed 's/tailcall\.o/tailcall_v2.o/' "$W/chain.yaml" >"$W/chain2.yaml"
	jid=$(map_id chain/jmp_table)
	bp 2 plan "$W/chain2.yaml"
	expect_change '*' map chain/jmp_table
	grep -q 'entry 0x01000000 holds another program' "$T/outs" ||
		bad "the plan does not name slot 1: $(excerpt "$T/out")"
	grep -q 'entry 0x00000000' "$T/outs" && bad "the plan rewrites slot 0, whose program is unchanged"
	bp 0 apply "$W/chain2.yaml" || return
	[ "$(map_id chain/jmp_table)" = "$jid" ] || bad "chain/jmp_table was made anew, not written in place"
	got=$("$PY" "$T/mapq.py" slots "$M/chain/jmp_table" 2>&1 | tr '\n' ' ')
	[ "$got" = "0 chain_second 1 chain_third " ] ||
		bad "after the change chain/jmp_table holds '$got'"
	bpftool -j prog run pinned "$M/chain/entry" data_in "$T/packet" repeat 1 >"$T/run.out" \
		2>"$T/run.err" || fatal "bpftool prog run chain/entry: $(cat "$T/run.err")"
	expect_dump chain/hits "00000000 0200000000000000" "01000000 0200000000000000" \
		"02000000 0300000000000000"
	converged "$W/chain2.yaml"
}

# Standalone maps: the declared type, sizes, flags, name and entries; a
# re-apply leaves them; a map no longer declared is deleted; a changed
# max_entries with on_incompatible: migrate keeps the entries.
case_standalone() {
	reset
	workdir
	standalone() { # OUT MAX_ENTRIES WITH-TABLE
		{
			cat <<EOF
version: 1
name: acme
maps:
  - path: acme/cfg/limits
    type: hash
    key_size: 4
    value_size: 8
    max_entries: $2
    flags: [no_prealloc]
    on_incompatible: migrate
    entries:
      - {key: 1, value: 10}
      - {key: "0x02000000", value: 20}
EOF
			[ "$3" = 0 ] || cat <<'EOF'
  - path: acme/cfg/table
    type: array
    key_size: 4
    value_size: 4
    max_entries: 4
    entries:
      - {key: 3, value: "0xdeadbeef"}
EOF
		} >"$1"
	}
	standalone "$W/v1.yaml" 1024 1
	standalone "$W/pruned.yaml" 1024 0
	standalone "$W/grown.yaml" 2048 0
	bp 0 validate "$W/v1.yaml"
	bp 2 plan "$W/v1.yaml"
	expect_change + map acme/cfg/limits
	expect_change + map acme/cfg/table
	bp 0 apply "$W/v1.yaml" || return
	# BPF_F_NO_PREALLOC is 1.
	[ "$(map_show acme/cfg/limits)" = "hash 4 8 1024 1 limits" ] ||
		bad "acme/cfg/limits is '$(map_show acme/cfg/limits)', want 'hash 4 8 1024 1 limits'"
	[ "$(map_show acme/cfg/table)" = "array 4 4 4 0 table" ] ||
		bad "acme/cfg/table is '$(map_show acme/cfg/table)', want 'array 4 4 4 0 table'"
	expect_dump acme/cfg/limits "01000000 0a00000000000000" "02000000 1400000000000000"
	expect_dump acme/cfg/table "00000000 00000000" "01000000 00000000" "02000000 00000000" \
		"03000000 deadbeef"
	ids="$(map_id acme/cfg/limits) $(map_id acme/cfg/table)"
	converged "$W/v1.yaml"
	bp 0 apply "$W/v1.yaml"
	! grep -q '^[-+~*] ' "$T/out" || bad "a re-apply changed: $(grep '^[-+~*] ' "$T/out")"
	[ "$(map_id acme/cfg/limits) $(map_id acme/cfg/table)" = "$ids" ] ||
		bad "a re-apply made other maps: '$(map_id acme/cfg/limits) $(map_id acme/cfg/table)', was '$ids'"
	# No longer declared: deleted (the ledger says the manifest made it).
	limits=$(map_id acme/cfg/limits)
	bp 2 plan "$W/pruned.yaml"
	expect_line '- map acme/cfg/table delete (no longer declared)'
	no_change acme/cfg/limits
	bp 0 apply "$W/pruned.yaml" || return
	[ ! -e "$M/acme/cfg/table" ] || bad "acme/cfg/table is still pinned"
	[ "$(map_id acme/cfg/limits)" = "$limits" ] || bad "the prune touched acme/cfg/limits"
	converged "$W/pruned.yaml"
	# max_entries 1024 -> 2048, migrate: the listed entries and one written
	# by hand move to the new map.
	poke acme/cfg/limits 03000000 1e00000000000000
	bp 2 plan "$W/grown.yaml"
	expect_line '~ map acme/cfg/limits replace (max_entries 1024 -> 2048; migrate)'
	bp 0 apply "$W/grown.yaml" || return
	[ "$(map_id acme/cfg/limits)" != "$limits" ] || bad "acme/cfg/limits is still map $limits"
	[ "$(map_show acme/cfg/limits)" = "hash 4 8 2048 1 limits" ] ||
		bad "acme/cfg/limits is '$(map_show acme/cfg/limits)' after the migration, want 'hash 4 8 2048 1 limits'"
	expect_dump acme/cfg/limits "01000000 0a00000000000000" "02000000 1400000000000000" \
		"03000000 1e00000000000000"
	converged "$W/grown.yaml"
}

# Each bad input: exit 65 from validate and from apply, an error at one of
# the places the file marks, and the tree and the ledger untouched.
case_bad_input() {
	reset
	workdir contents_site.o tailcall.o
	n=0
	for f in "$BAD"/*.yaml; do
		[ -f "$f" ] || fatal "no bad inputs in $BAD"
		name=${f##*/}
		cp "$f" "$W/$name" || fatal "cp $f"
		locs=$("$PY" "$T/mapq.py" markers "$W/$name") && [ -n "$locs" ] ||
			fatal "$name marks no place for its error: $locs"
		n=$((n + 1))
		tree_listing "$M" >"$T/bad.before"
		for cmd in validate apply; do
			bp 65 "$cmd" "$W/$name" || continue
			# An error of the manifest's syntax ("unknown key 'entries'")
			# at a marked place is not the one wanted.
			_at=
			for l in $locs; do
				grep -F "$name:$l: " "$T/err" | grep -vq 'unknown key' && _at=$l
			done
			[ -n "$_at" ] || bad "$cmd $name: no error at $(echo "$locs" | sed "s/^/$name:/" |
				tr '\n' ' ')in:
$(excerpt "$T/err")"
		done
		tree_listing "$M" >"$T/bad.after"
		cmp -s "$T/bad.before" "$T/bad.after" ||
			bad "apply $name changed the tree: $(diff "$T/bad.before" "$T/bad.after" | grep '^[<>]')"
		! ls "$T/run"/ledger-* >/dev/null 2>&1 || bad "apply $name wrote a ledger"
	done
	echo "contents.sh: $CASE: $n bad inputs"
}

# --- every step of an apply that rewrites entries, made to fail ----------------

steps_of() { # the K of the last run with BPF_PROVISION_TRACE_STEPS=1
	sed -n 's/^bpf-provision: \([0-9]*\) steps$/\1/p' "$T/err" | tail -n 1
}

contents_state() { # FILE: the tree (inodes too), the maps' ids and every entry
	{
		tree_listing "$M"
		for _p in ct/config ct/slots; do
			echo "## $_p id $(map_id "$_p")"
			dump "$_p"
		done
	} >"$1" 2>&1
}

# Runs apply once after SETUP to learn its K steps, runs SETUP again and
# makes each step 1..K fail in turn: exit 1, the rollback message, the
# entries, ids and tree exactly as before, the ledger too; no SETUP between
# the failures.  Then step K+1 (none) and the apply succeeds, rewriting the
# entries in the same maps.
fault_loop() { # SETUP MANIFEST
	_setup=$1 _mf=$2
	$_setup
	BPF_PROVISION_TRACE_STEPS=1 bp 0 apply "$_mf" || fatal "the apply without a failure failed"
	K=$(steps_of)
	[ -n "$K" ] && [ "$K" -gt 0 ] || fatal "no step count in: $(excerpt "$T/err")"
	$_setup
	_ids0="$(map_id ct/config) $(map_id ct/slots)"
	contents_state "$T/fault.before"
	rm -rf "$T/fault.run"
	[ ! -d "$T/run" ] || cp -r "$T/run" "$T/fault.run" || fatal "cp"
	_n=1 _fails0=$FAILS
	while [ "$_n" -le "$K" ]; do
		BPF_PROVISION_FAIL_AT=$_n bp 1 apply "$_mf"
		grep -Fq 'every change was rolled back' "$T/err" ||
			bad "step $_n/$K failed: no rollback message: $(excerpt "$T/err")"
		contents_state "$T/fault.after"
		cmp -s "$T/fault.before" "$T/fault.after" ||
			bad "step $_n/$K failed (BPF_PROVISION_FAIL_AT=$_n) and the entries or the tree changed:
$(diff "$T/fault.before" "$T/fault.after" | sed -n '1,12s/^/    | /p')"
		if [ -d "$T/fault.run" ]; then
			diff -r "$T/fault.run" "$T/run" >/dev/null || bad "step $_n/$K failed and the ledger changed"
		fi
		_n=$((_n + 1))
	done
	BPF_PROVISION_TRACE_STEPS=1 BPF_PROVISION_FAIL_AT=$((K + 1)) bp 0 apply "$_mf"
	[ "$(steps_of)" = "$K" ] || bad "$(steps_of) steps now, $K before"
	[ "$(map_id ct/config) $(map_id ct/slots)" = "$_ids0" ] ||
		bad "the maps are '$(map_id ct/config) $(map_id ct/slots)' after the apply, were '$_ids0'"
	[ -z "$(find "$M" -name 'bpfprov_tmp_*')" ] ||
		bad "temporary names left: $(find "$M" -name 'bpfprov_tmp_*')"
	[ "$FAILS" != "$_fails0" ] ||
		echo "contents.sh: $CASE: the apply failed at each of its $K steps, each rolled back"
}

# seed: enforce, two listed entries changed by hand; then with exact: true,
# a listed entry deleted and an unlisted one added.
case_faults() {
	workdir contents_site.o
	site_manifest "$W/enforce.yaml" "seed: enforce"
	site_manifest "$W/exact.yaml" "seed: enforce" "exact: true"
	enforce_setup() {
		reset
		bp 0 apply "$W/enforce.yaml" || fatal "apply enforce.yaml failed"
		poke ct/config 4d000000 0500000000000000
		poke ct/config bb010000 bb01000000000000
	}
	enforce_setup
	bp 2 plan "$W/enforce.yaml"
	expect_change '*' map ct/config
	fault_loop enforce_setup "$W/enforce.yaml"
	expect_site_config
	exact_setup() {
		reset
		bp 0 apply "$W/exact.yaml" || fatal "apply exact.yaml failed"
		unpoke ct/config 50000000
		poke ct/config 0f270000 0300000000000000
	}
	exact_setup
	bp 2 plan "$W/exact.yaml"
	expect_change '*' map ct/config
	fault_loop exact_setup "$W/exact.yaml"
	expect_site_config
}

# --- run every case ----------------------------------------------------------------

CASE=setup
FAILS=0
# shellcheck disable=SC2086 # the list of cases is split on purpose
run_cases contents.sh ${CONTENTS_CASES:-create replace seed_create enforce exact tailcall standalone bad_input \
	faults}
