#!/bin/sh
# SPDX-License-Identifier: MIT
# zsh completion (completion/_bpf-provision):
#  - zsh -n parses it, and it begins with "#compdef bpf-provision";
#  - in `zsh -f`, compinit with the completion directory in $fpath binds it
#    to bpf-provision ($_comps) and autoloads the function;
#  - every long option of `bpf-provision --help` and of each command's
#    --help, and every command, is named in it, so it cannot fall behind;
#  - typed into a real interactive zsh on a pseudo-terminal
#    (tests/pty-complete.py), with bpf-provision a function that prints its
#    arguments: a command, --output=VALUE, --color VALUE, a --bpffs= directory
#    and a command's option complete on TAB, and the listings offer the
#    formats after --output=, only *.o and directories for inspect, only
#    *.yaml/*.yml and directories for validate.
# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST

COMP=$top_srcdir/completion/_bpf-provision
[ -f "$COMP" ] || fail "no $COMP"
[ -x "$BPF_PROVISION" ] || fail "no $BPF_PROVISION (build first)"
[ "$(head -n 1 "$COMP")" = '#compdef bpf-provision' ] || fail "$COMP does not begin with '#compdef bpf-provision'"

# What --help names, the completion names.
"$BPF_PROVISION" --help | sed -n '/^Options:/,/^$/s/^ *\(-[a-z], \)\{0,1\}\(--[a-z][a-z-]*\).*/\2/p' >"$T/opts"
for c in validate plan apply destroy status snapshot inspect export; do
	grep -q "'$c:" "$COMP" || fail "$COMP does not offer the command $c"
	"$BPF_PROVISION" "$c" --help | grep -o -- '^ *--[a-z][a-z-]*' | tr -d ' ' >>"$T/opts"
done
[ -s "$T/opts" ] || fail "no long options in --help"
sort -u "$T/opts" | while read -r opt; do
	grep -q -- "[\"'{,()*]${opt}[]+,}=[]" "$COMP" || fail "--help has $opt, $COMP does not offer it"
done || exit 1

command -v zsh >/dev/null 2>&1 || skip "no zsh (apt-get install zsh)"
zsh -n "$COMP" 2>"$T/err" || fail "zsh -n $COMP: $(cat "$T/err")"

mkdir -p "$T/fpath" "$T/d/conf.d"
cp "$COMP" "$T/fpath/"
: >"$T/d/a.yaml"
: >"$T/d/b.yml"
: >"$T/d/x.o"
: >"$T/d/notes.txt"

# compinit binds the function to the command and can load it.
# shellcheck disable=SC2016
zsh -f -c 'fpath=("$1" $fpath); autoload -Uz compinit; compinit -u -d "$2/zcompdump"
	[[ $_comps[bpf-provision] == _bpf-provision ]] || { print -u2 "bound to: $_comps[bpf-provision]"; exit 1 }
	autoload +X _bpf-provision || exit 1
	(( $+functions[_bpf-provision] ))' zsh "$T/fpath" "$T" >"$T/out" 2>&1 ||
	fail "compinit does not bind _bpf-provision to bpf-provision: $(cat "$T/out")"

PY3=
for p in ${PYTHON3:-} /usr/bin/python3 python3; do
	if [ -x "$(command -v "$p" 2>/dev/null)" ]; then PY3=$p && break; fi
done
[ -n "$PY3" ] || skip "no python3 to drive zsh on a pty (apt-get install python3)"

# One chunk of keys a line, Python escapes (\t TAB, \r Enter, \x15 ^U).
{
	printf '%s\\r\n' "fpath=('$T/fpath' \$fpath); autoload -Uz compinit; compinit -u -d '$T/zcompdump'"
	printf '%s\n' \
		"bpf-provision() { printf '<%s>' \"\$@\"; print '|' }\\r" \
		'bpf-provision pl\t--output=j\t\r' \
		'bpf-provision plan --output=\t' \
		'\x15bpf-provision --color n\t\r' \
		'bpf-provision --bpffs=d/c\t\r' \
		'bpf-provision apply --dry\t\r' \
		'bpf-provision inspect d/\t' \
		'\x15bpf-provision validate d/\t' \
		'\x15bpf-provision inspect d/x\t\r'
} >"$T/keys"
(cd "$T" && env -i PATH="$PATH" HOME="$T" TERM=vt100 PS1='$ ' \
	"$PY3" "$top_srcdir/tests/pty-complete.py" "$T/keys" zsh -f -i) \
	>"$T/screen" 2>&1 || fail "zsh on a pty did not exit: $(cat "$T/screen")"

ran() { # EXPECTED-ARG...: a line ran with exactly these arguments
	want=$(printf '<%s>' "$@")
	tr -d '\n ' <"$T/screen" | grep -qF -- "$want|" ||
		fail "zsh: no line ran as $want: $(cat "$T/screen")"
}
ran plan --output=json
ran --color never
ran --bpffs=d/conf.d
ran apply --dry-run
ran inspect d/x.o
# The listings (TAB on an ambiguous word lists the candidates).
grep -q 'json  *text' "$T/screen" || fail "zsh: --output= lists no 'json text': $(cat "$T/screen")"
grep -q 'conf\.d/  *x\.o *$' "$T/screen" || fail "zsh: inspect d/ does not list exactly conf.d/ x.o: $(cat "$T/screen")"
grep -q 'a\.yaml  *b\.yml  *conf\.d/ *$' "$T/screen" ||
	fail "zsh: validate d/ does not list exactly a.yaml b.yml conf.d/: $(cat "$T/screen")"
! grep -q 'notes\.txt' "$T/screen" || fail "zsh: a .txt file was offered: $(cat "$T/screen")"
echo "zsh completion: all cases passed"
