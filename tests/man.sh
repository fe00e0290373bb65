#!/bin/sh
# SPDX-License-Identifier: MIT
# The man pages doc/bpf-provision.1 and doc/bpf-provision.yaml.5: each renders
# with `man --warnings` (groff's mac warnings) at 80 columns with nothing on
# stderr and has its NAME section; bpf-provision.1 names every long option
# of `bpf-provision --help` and of each command's --help, every command, every
# exit status and environment variable, so the page cannot fall behind the
# program; bpf-provision.yaml.5 names every property of
# schema/manifest.schema.json.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST

command -v man >/dev/null 2>&1 || skip "no man (apt-get install man-db)"
command -v groff >/dev/null 2>&1 || command -v nroff >/dev/null 2>&1 ||
	skip "no groff (apt-get install groff-base)"
[ -x "$BPF_PROVISION" ] || fail "no $BPF_PROVISION (build first)"

P1=$top_srcdir/doc/bpf-provision.1
P5=$top_srcdir/doc/bpf-provision.yaml.5

for page in "$P1" "$P5"; do
	MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$page" >"$T/out" 2>"$T/err" ||
		fail "man -l $page failed: $(cat "$T/err")"
	[ ! -s "$T/err" ] || fail "man --warnings -l $page warns: $(cat "$T/err")"
	grep -q '^NAME' "$T/out" || fail "$page has no NAME section"
	[ "$(wc -l <"$T/out")" -gt 50 ] || fail "$page renders to almost nothing"
done

# What the program says, the page must say.  The page source escapes '-' as
# '\-'; compare against that.
mentions() { # PAGE WORD
	w=$(printf '%s' "$2" | sed 's/-/\\\\-/g')
	grep -q -- "$w" "$1"
}
"$BPF_PROVISION" --help >"$T/help" || fail "bpf-provision --help failed"
for c in validate plan apply destroy status inspect export; do
	"$BPF_PROVISION" "$c" --help >>"$T/help" || fail "bpf-provision $c --help failed"
	grep -q "^\.B.* $c\b\|^\.B $c\$\|^\.BR $c \|^\.BI $c " "$P1" || fail "bpf-provision.1 does not document command $c"
done
grep -o -- '--[a-z][a-z-]*' "$T/help" | sort -u >"$T/longopts"
[ "$(wc -l <"$T/longopts")" -ge 10 ] || fail "too few long options found in --help"
while read -r opt; do
	mentions "$P1" "$opt" || fail "bpf-provision.1 does not mention $opt (it is in --help)"
done <"$T/longopts"
for opt in --mount --metrics-file --dry-run --no-objects; do
	mentions "$P1" "$opt" || fail "bpf-provision.1 does not mention $opt"
done
for v in BPF_PROVISION_RUNTIME_DIR BPF_PROVISION_FAIL_AT BPF_PROVISION_FAIL_ERRNO \
	BPF_PROVISION_TRACE_STEPS BPF_PROVISION_PAUSE_AT; do
	grep -q "^\.B $v\$" "$P1" || fail "bpf-provision.1 does not document $v"
done
for code in 0 1 2 65; do
	sed -n '/^\.SH EXIT STATUS/,/^\.SH/p' "$P1" | grep -q "^\.B $code\$" ||
		fail "bpf-provision.1 EXIT STATUS lacks $code"
done

# Every key of the manifest schema is documented in section 5.
find_python
"$PY" - "$top_srcdir/schema/manifest.schema.json" >"$T/keys" <<'PY' || fail "cannot read the schema"
import json, sys
s = json.load(open(sys.argv[1]))
keys = set(s["properties"])
for d in s["$defs"].values():
    keys |= set(d.get("properties", {}))
print("\n".join(sorted(keys)))
PY
[ -s "$T/keys" ] || fail "no keys in the schema"
while read -r k; do
	grep -q "^\.BR* $k\b\|^\.BR* .*, $k\b" "$P5" || fail "bpf-provision.yaml.5 does not document the key $k"
done <"$T/keys"
for v in none object global custom fail replace migrate; do
	grep -q "^\.B $v\$\|^\\\\fB$v\\\\fR|" "$P5" || fail "bpf-provision.yaml.5 does not document $v"
done
echo "man: both pages render cleanly and cover --help, the exit codes and the schema"
