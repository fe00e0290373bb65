#!/bin/sh
# Hostile names in what the tool reads but does not control: bpffs entries
# of other software (a newline, a byte that is not UTF-8, a backslash, a
# terminal escape) and ELF section names.  Text output stays one line per
# entry with no control character and is valid UTF-8; JSON stays valid,
# matches the plan schema and loses no entry; apply still works on such a
# pin in an owned directory.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST
find_python
mount_private_bpffs names
rm -f "$M/probe"

# Every byte of FILE valid UTF-8 and no control character but newlines.
clean_text() { # FILE WHAT
	"$PY" - "$1" <<'PY' || fail "$2: $(cat -A "$1" | head -20)"
import sys
data = open(sys.argv[1], "rb").read()
text = data.decode("utf-8")  # raises on a byte that is not UTF-8
bad = [c for c in text if (ord(c) < 0x20 and c != "\n") or ord(c) == 0x7f]
sys.exit(1 if bad else 0)
PY
}

mkmap() { # PATH
	bpftool -n map create "$1" type array key 4 value 4 entries 1 name weird || fail "map $1"
}
NL=$(printf 'nl\nname')
FF=$(printf 'bad\377name')
ESC=$(printf 'esc\033[31mred')
mkmap "$M/$NL"
mkmap "$M/$FF"
mkmap "$M/$ESC"
mkmap "$M/back\\slash"
mkmap "$M/caf$(printf '\303\251')"
mkdir -p "$M/ns1"
mkmap "$M/ns1/$FF"
GOBPF=$top_builddir/configs/gobpf-site.yaml

"$BPF_PROVISION" --bpffs "$M" plan "$GOBPF" >"$T/plan.txt"
[ $? = 2 ] || fail "plan: want exit 2 (changes)"
clean_text "$T/plan.txt" "plan text carries raw bytes"
grep -q '^- map  *ns1/bad\\xffname  *delete  (undeclared in owned directory .ns1.)$' "$T/plan.txt" ||
	fail "plan text: the owned pin is not shown escaped: $(cat "$T/plan.txt")"
[ "$(grep -vc '^[-+~*] \|^Plan: ' "$T/plan.txt")" = 0 ] || fail "plan text: a name split a line"

"$BPF_PROVISION" --bpffs "$M" -o json plan "$GOBPF" >"$T/plan.json"
[ $? = 2 ] || fail "plan -o json: want exit 2"
"$PY" - "$T/plan.json" "$top_srcdir/schema/plan.schema.json" <<'PY' || fail "plan JSON"
import json, sys, jsonschema
doc = json.load(open(sys.argv[1]))
jsonschema.validate(doc, json.load(open(sys.argv[2])))
paths = [c["path"] for c in doc["changes"]]
assert "ns1/bad\\xffname" in paths, paths
PY

"$BPF_PROVISION" --bpffs "$M" status "$GOBPF" >"$T/status.txt" || fail "status"
clean_text "$T/status.txt" "status text carries raw bytes"
for name in 'nl\nname' 'bad\xffname' 'esc\x1b[31mred' 'back\\slash' "caf$(printf '\303\251')"; do
	grep -qF -- "$name " "$T/status.txt" || fail "status text lacks $name: $(cat "$T/status.txt")"
done
rows=$(($(wc -l <"$T/status.txt") - 1))
"$BPF_PROVISION" --bpffs "$M" -o json status "$GOBPF" >"$T/status.json" || fail "status -o json"
"$PY" - "$T/status.json" "$rows" "$NL" <<'PY' || fail "status JSON: $(cat "$T/status.json")"
import json, sys
pins = json.load(open(sys.argv[1]))["pins"]
assert len(pins) == int(sys.argv[2]), (len(pins), sys.argv[2])
paths = [p["path"] for p in pins]
# Valid UTF-8 is kept as it is (JSON escapes the newline); the rest escaped.
for want in (sys.argv[3], "bad\\xffname", "esc\x1b[31mred", "back\\slash", "caf\u00e9"):
    assert want in paths, (want, paths)
PY

# apply removes the owned pin by its real name; the foreign ones stay.
run_checking_steps "$M" apply "$GOBPF" || fail "apply: $(cat "$T/err")"
[ -e "$M/ns1/$FF" ] && fail "apply left ns1/$FF"
for f in "$NL" "$FF" "$ESC" 'back\slash'; do
	[ -e "$M/$f" ] || fail "apply removed a foreign pin"
done

# A manifest's own text quoted in an error, and its file name: escaped once,
# where they are printed.  On stderr byte 0x01 reads \x01 (not \\x01); the
# JSON error document keeps valid UTF-8 as it is, as every JSON document does.
CTL="$T/ctl$(printf '\001').yaml"
printf 'version: 1\nname: "site\\x01"\nnamespace: "ns\\tone"\n' >"$CTL"
"$BPF_PROVISION" validate --no-objects "$CTL" >/dev/null 2>"$T/err"
rc=$?
[ $rc = 65 ] || fail "validate of control characters in names: exit $rc, want 65"
clean_text "$T/err" "validate's errors carry raw bytes"
for want in "/ctl\\x01.yaml:2:7: error: invalid name 'site\\x01': control character" \
	"/ctl\\x01.yaml:3:12: error: invalid namespace 'ns\\tone': control character"; do
	# fail's echo would take the backslashes for escapes: cat shows them.
	grep -qF -- "$want" "$T/err" || { cat "$T/err" >&2 && fail "validate: no line with $want"; }
done
"$BPF_PROVISION" -o json validate --no-objects "$CTL" >"$T/err.json" 2>/dev/null
rc=$?
[ $rc = 65 ] || fail "validate -o json of control characters in names: exit $rc, want 65"
"$PY" - "$T/err.json" <<'PY' || fail "validate -o json: $(cat "$T/err.json")"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["error"]["message"] == "invalid name 'site\x01': control character", doc["error"]
assert doc["error"]["file"].endswith("/ctl\x01.yaml"), doc["error"]
assert doc["errors"][1]["message"] == "invalid namespace 'ns\tone': control character", doc
PY

# ELF strings: a section named with a byte that is not UTF-8, a tab and a
# terminal escape.
command -v llvm-objcopy >/dev/null || skip "no llvm-objcopy (apt-get install llvm)"
llvm-objcopy --rename-section "maps/object_array=maps/$(printf 'a\377\tb')" \
	--rename-section "socket/count=socket/$(printf 'p\033[31m')" \
	"$top_builddir/tests/bpf/gobpf.o" "$T/weird.o" || fail "llvm-objcopy"
"$BPF_PROVISION" inspect "$T/weird.o" >"$T/inspect.txt" || fail "inspect"
clean_text "$T/inspect.txt" "inspect text carries raw bytes"
grep -qF 'map a\xff\tb: section maps/a\xff\tb,' "$T/inspect.txt" || fail "inspect: $(cat "$T/inspect.txt")"
"$BPF_PROVISION" -o json inspect "$T/weird.o" >"$T/inspect.json" || fail "inspect -o json"
"$PY" - "$T/inspect.json" <<'PY' || fail "inspect JSON: $(cat "$T/inspect.json")"
import json, sys
top = json.load(open(sys.argv[1]))
assert top["format_version"] == 2 and len(top["objects"]) == 1, top
doc = top["objects"][0]
assert [m["name"] for m in doc["maps"]][1] == "a\\xff\\tb"
assert "socket/p\x1b[31m" in [p["section"] for p in doc["programs"]]
PY
# The map's object pin path would carry the name: refused, in one clean line.
cat >"$T/weird.yaml" <<'YAML'
version: 1
namespace: w
objects:
  - file: weird.o
YAML
"$BPF_PROVISION" validate "$T/weird.yaml" >/dev/null 2>"$T/err"
rc=$?
[ $rc = 65 ] || fail "validate of an object whose map name makes a bad path: exit $rc, want 65"
clean_text "$T/err" "validate's error carries raw bytes"
grep -q 'a\\xff\\tb' "$T/err" || fail "validate: the name is not shown: $(cat "$T/err")"

echo "names: hostile names in the tree and in ELF strings print escaped, JSON stays valid and whole"
