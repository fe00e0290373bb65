#!/bin/bash
# SPDX-License-Identifier: MIT
# bash completion (completion/bpf-provision): the script is sourced in a
# plain bash (no bash-completion package) and its function is called with
# COMP_WORDS/COMP_CWORD set as readline would; COMPREPLY is compared, sorted,
# with what is expected: commands, options (global and per command, every
# long option of `bpf-provision --help`), the values of -o/--output and
# --color, directories for --bpffs, manifests (*.yaml, *.yml and directories)
# for the manifest commands and *.o for inspect.  --opt=value in both shapes
# bash can hand it over: split at '=' ("--output" "=" "j", as readline does
# with the default COMP_WORDBREAKS; the reply is the value) and one word
# (COMP_WORDBREAKS without '='; the reply keeps "--output=").
# Then the same in a real interactive bash on a pseudo-terminal
# (tests/pty-complete.py): TAB and TAB TAB typed after --output=, --color=,
# --bpffs= and a command, and the line that readline made is run.
# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST

# shellcheck source=completion/bpf-provision
. "$top_srcdir/completion/bpf-provision" || fail "cannot source completion/bpf-provision"
complete -p bpf-provision >/dev/null 2>&1 || fail "no completion registered for bpf-provision"

mkdir -p "$T/d/sub dir" "$T/d/conf.d"
: >"$T/d/a.yaml"
: >"$T/d/b.yml"
: >"$T/d/x.o"
: >"$T/d/notes.txt"
: >"$T/d/with space.yaml"
cd "$T" || fail "cd $T"

# comp EXPECTED WORD... : completes the last WORD (the one being typed).
comp() {
	local expected=$1 got
	shift
	COMP_WORDS=(bpf-provision "$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_bpf_provision bpf-provision "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	got=$(printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort | paste -sd'|')
	[ "$got" = "$expected" ] ||
		fail "bpf-provision $*: expected [$expected], got [$got]"
}

comp 'apply|destroy|export|inspect|plan|snapshot|status|validate' ''
comp 'apply' ap
comp 'plan' pl
comp 'json|text' -o ''
comp 'json' --output j
# --opt=value as readline splits it (COMP_WORDBREAKS has '='), and whole.
comp 'json' --output = j
comp 'json|text' --output =
comp 'json|text' plan --output =
comp '--output=json' --output=j
comp 'apply' --output = json ap
comp 'apply' --output=json ap
comp 'always|auto' --color a
comp 'never' --color = n
comp '--color=never' --color=n
comp '' --lock-timeout ''
comp '--metrics-file|--mount' --m
comp '--dry-run' apply --d
comp '--dry-run' -o json destroy --dr
comp '--no-objects' validate --no
comp '' plan --dry
comp '--observed' plan --obs
comp '--keep-going' apply --k
comp '--keep-going' plan --ke
comp '' destroy --k
comp 'snapshot' sn
comp 'apply' -o json --bpffs /x ap
comp 'apply' --lock-timeout 5 --color never ap
# Manifests: directories and *.yaml/*.yml; objects for inspect.
comp 'd/a.yaml|d/b.yml|d/conf.d|d/sub dir|d/with space.yaml' apply d/
comp 'd/a.yaml|d/b.yml|d/conf.d|d/sub dir|d/with space.yaml' -v validate --no-objects d/
comp 'd/conf.d|d/sub dir|d/x.o' inspect d/
comp 'd/conf.d|d/sub dir' --bpffs d/
comp 'd/conf.d' --bpffs = d/c
comp '--bpffs=d/conf.d' --bpffs=d/c
comp 'd/with space.yaml' status d/w
# Saved plans: --out any file, --plan a plan (*.json, *.plan) or a directory.
: >"$T/d/site.plan"
comp '--out|--output' plan --ou
comp '--plan|--prune-retired' apply --p
comp 'd/a.yaml|d/b.yml|d/conf.d|d/notes.txt|d/site.plan|d/sub dir|d/with space.yaml|d/x.o' apply --dry-run --out d/
comp 'd/conf.d|d/site.plan|d/sub dir' apply --plan d/
comp 'd/site.plan' destroy --plan = d/si
comp '--plan=d/site.plan' destroy --plan=d/si
comp 'd/x.o' export --objects = d/x
# export: objects for --objects (also after it, as its value), directories
# under the root for PATH.
comp '--objects' export --ob
comp 'd/conf.d|d/sub dir|d/x.o' export --objects d/
comp 'conf.d|sub dir' --bpffs "$T/d" export ''
comp 'sub dir' --bpffs "$T/d" export --objects d/x.o s
comp 'conf.d|sub dir' --bpffs = "$T/d" export ''
comp 'conf.d|sub dir' --bpffs="$T/d" export ''

# Every long option of --help is offered (the global ones before a command,
# a command's own after it), so completion cannot fall behind.
[ -x "$BPF_PROVISION" ] || fail "no $BPF_PROVISION (build first)"
COMP_WORDS=(bpf-provision --)
COMP_CWORD=1
COMPREPLY=()
_bpf_provision
offered=" ${COMPREPLY[*]} "
"$BPF_PROVISION" --help | sed -n '/^Options:/,/^$/s/^ *\(-[a-z], \)\{0,1\}\(--[a-z][a-z-]*\).*/\2/p' |
	sort -u >"$T/longopts"
[ -s "$T/longopts" ] || fail "no long options in --help"
while read -r opt; do
	case $offered in *" $opt "*) ;; *) fail "--help has $opt, completion does not offer it" ;; esac
done <"$T/longopts"
for c in $_bpf_provision_commands; do
	"$BPF_PROVISION" "$c" --help | grep -o -- '^ *--[a-z][a-z-]*' | tr -d ' ' >"$T/cmdopts"
	while read -r opt; do
		COMP_WORDS=(bpf-provision "$c" "$opt")
		COMP_CWORD=2
		COMPREPLY=()
		_bpf_provision
		case " ${COMPREPLY[*]} " in *" $opt "*) ;; *) fail "$c --help has $opt, completion does not offer it" ;; esac
	done <"$T/cmdopts"
done
# Real readline: bash -i on a pty, the completion sourced, and bpf-provision
# a function that prints its arguments, so the line readline completed is
# seen as it is run.  TAB TAB after "--output=" lists the formats.
PY3=
for p in ${PYTHON3:-} /usr/bin/python3 python3; do
	if [ -x "$(command -v "$p" 2>/dev/null)" ]; then PY3=$p && break; fi
done
[ -n "$PY3" ] || skip "no python3 to drive bash on a pty (apt-get install python3)"
BASH_BIN=$(command -v bash) || skip "no bash"
printf 'set bell-style none\n' >"$T/inputrc"
# One chunk of keys a line, Python escapes (\t TAB, \r Enter, \\ a backslash).
{
	printf '%s\\r\n' ". '$top_srcdir/completion/bpf-provision'"
	printf '%s\n' \
		"bpf-provision() { printf '<%s>\\\\n' \"\$@\"; }\\r" \
		'bpf-provision plan --output=\t\t' \
		'j\t\r' \
		'bpf-provision --color=n\t\r' \
		'bpf-provision plan --bpffs=d/c\t\r' \
		'bpf-provision --output=json ap\t\r' \
		'bpf-provision destroy --plan=d/si\t\r' \
		'bpf-provision inspect d/x\t\r'
} >"$T/keys"
(cd "$T" && env -i PATH="$PATH" HOME="$T" TERM=vt100 INPUTRC="$T/inputrc" PS1='$ ' \
	"$PY3" "$top_srcdir/tests/pty-complete.py" "$T/keys" "$BASH_BIN" --norc --noprofile -i) \
	>"$T/screen" 2>&1 || fail "bash on a pty did not exit: $(cat "$T/screen")"
grep -q '^json  *text *$' "$T/screen" || fail "real readline: TAB TAB after --output= lists no 'json text': $(cat "$T/screen")"
ran() { # EXPECTED-ARG...: a line ran with exactly these arguments
	want=$(printf '<%s>' "$@")
	tr -d '\n' <"$T/screen" | grep -qF -- "$want\$ " ||
		fail "real readline: no line ran as $want: $(cat "$T/screen")"
}
ran plan --output=json
ran --color=never
ran plan --bpffs=d/conf.d/
ran --output=json apply
ran destroy --plan=d/site.plan
ran inspect d/x.o
echo "completion: all cases passed"
