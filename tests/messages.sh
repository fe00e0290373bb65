#!/bin/sh
# SPDX-License-Identifier: MIT
# Error messages (issue 19; bpf-provision(1), DIAGNOSTICS), each checked
# line for line with its exit status: guesses for a mistyped command,
# option, key or value; a tab in the indentation; YAML 1.1 booleans; errors
# about an ELF object at the manifest's `file:`, machines by name; options a
# command does not take refused, every command against every such option;
# one prefix for every error line.  Needs no kernel and no privileges.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
make_tmpdir
T=$TMPDIR_TEST
[ -x "$BPF_PROVISION" ] || fail "$BPF_PROVISION is not built"
case $BPF_PROVISION in /*) ;; *) BPF_PROVISION=$(pwd)/$BPF_PROVISION ;; esac
OBJ=$top_builddir/configs/bpf/gobpf_site.o
[ -f "$OBJ" ] || fail "no $OBJ (make check builds it)"
case $OBJ in /*) ;; *) OBJ=$(pwd)/$OBJ ;; esac
cd "$T" || fail "cd $T"
BPF_PROVISION_RUNTIME_DIR=$T/run
export BPF_PROVISION_RUNTIME_DIR
n=0

# expect STATUS ARGS... (stdin: the exact stderr): bpf-provision ARGS exits
# STATUS and prints exactly the lines given on stderr.
expect() {
	_want=$1
	shift
	cat >want
	"$BPF_PROVISION" "$@" >out 2>err
	_got=$?
	n=$((n + 1))
	[ "$_got" = "$_want" ] || { cat err >&2; fail "'$*' exited $_got, want $_want"; }
	diff -u want err >&2 || fail "'$*': stderr is not as expected (diff above)"
}

# 1. Commands and options: a guess when one is close, none when none is.
expect 1 aply site.yaml <<'EOF'
bpf-provision: error: unknown command 'aply'; did you mean 'apply'?
Try 'bpf-provision --help'.
EOF
expect 1 Validate site.yaml <<'EOF'
bpf-provision: error: unknown command 'Validate'; did you mean 'validate'?
Try 'bpf-provision --help'.
EOF
expect 1 frobnicate <<'EOF'
bpf-provision: error: unknown command 'frobnicate'
Try 'bpf-provision --help'.
EOF
expect 1 apply --dry-rn site.yaml <<'EOF'
bpf-provision: error: unknown option '--dry-rn'; did you mean '--dry-run'?
Try 'bpf-provision --help'.
EOF
expect 1 --lock-timout 3 apply site.yaml <<'EOF'
bpf-provision: error: unknown option '--lock-timout'; did you mean '--lock-timeout'?
Try 'bpf-provision --help'.
EOF
expect 1 --frobnicate=3 apply site.yaml <<'EOF'
bpf-provision: error: unknown option '--frobnicate'
Try 'bpf-provision --help'.
EOF
expect 1 -x apply site.yaml <<'EOF'
bpf-provision: error: unknown option '-x'
Try 'bpf-provision --help'.
EOF
expect 1 --mount=yes apply site.yaml <<'EOF'
bpf-provision: error: option '--mount' takes no argument
Try 'bpf-provision --help'.
EOF
expect 1 apply site.yaml --bpffs <<'EOF'
bpf-provision: error: option '--bpffs' needs an argument
Try 'bpf-provision --help'.
EOF
expect 1 validate site.yaml -o <<'EOF'
bpf-provision: error: option '-o' needs an argument
Try 'bpf-provision --help'.
EOF
expect 1 --n destroy <<'EOF'
bpf-provision: error: option '--n' is ambiguous: --no-objects --name
Try 'bpf-provision --help'.
EOF
expect 1 -o jsno validate site.yaml <<'EOF'
bpf-provision: error: unknown output format 'jsno'; did you mean 'json'? (expected text or json)
Try 'bpf-provision --help'.
EOF
expect 1 --color sometimes validate site.yaml <<'EOF'
bpf-provision: error: unknown --color value 'sometimes' (expected auto, always or never)
Try 'bpf-provision --help'.
EOF
expect 1 inspect <<'EOF'
bpf-provision: error: inspect needs an argument
Usage: bpf-provision [OPTIONS] inspect OBJECT.o...
EOF

# 2. Options a command does not take are refused, with the commands that
# take them: every such option against every command.  The options every
# command takes (--bpffs, -o, -q, -v, --color) are not in this table.
takers() { # OPTION: the commands that take it
	case $1 in
	--dry-run | --lock-timeout | --plan) echo "apply destroy" ;;
	--no-objects) echo "validate" ;;
	--mount) echo "plan apply destroy status export" ;;
	--metrics-file | --target | --out) echo "plan apply destroy" ;;
	--name) echo "destroy" ;;
	--prune-retired) echo "apply" ;;
	--objects) echo "export" ;;
	--observed) echo "plan" ;;
	--keep-going) echo "plan apply" ;;
	esac
}
said() { # OPTION: "only plan, apply and destroy take OPTION"
	set -- "$1" $(takers "$1")
	_o=$1
	shift
	_s=$1
	shift
	while [ $# -gt 1 ]; do
		_s="$_s, $1"
		shift
	done
	if [ $# = 1 ]; then
		echo "only $_s and $1 take $_o"
	else
		echo "only $_s takes $_o"
	fi
}
checked=0
for opt in --dry-run --no-objects --mount --lock-timeout=3 --metrics-file=m.prom --name=x \
	--prune-retired --target=x --out=p.json --plan=p.json --objects=x.o --observed=s.json \
	--keep-going; do
	o=${opt%%=*}
	for c in validate plan apply destroy status snapshot inspect export; do
		# Never the real root, and nothing past the option check does
		# anything: the manifest is missing, as is the root.
		"$BPF_PROVISION" --bpffs "$T/no-root" "$c" "$opt" nonexistent.yaml >out 2>err
		rc=$?
		line="bpf-provision: error: $c does not take $o; $(said "$o")"
		case " $(takers "$o") " in
		*" $c "*)
			grep -qF "does not take" err && fail "$c $opt: refused: $(cat err)"
			;;
		*)
			[ "$rc" = 1 ] || fail "$c $opt: exit $rc, want 1"
			[ "$(cat err)" = "$line" ] || fail "$c $opt: '$(cat err)', want '$line'"
			;;
		esac
		checked=$((checked + 1))
	done
done
n=$((n + checked))

# 3. Manifests: guesses at every level, tabs, YAML 1.1 booleans (exit 65).
cat >keys.yaml <<'EOF'
version: 1
namspace: ns1
defaults:
  on_incompatable: migrate
objects:
  - file: a.o
    sections:
      - map: m
        pinning: globl
        seed: enforse
      - program: p
        attach: [{xdpp: eth0}]
maps:
  - {path: a/m, type: hash, key_size: 4, value_size: 4, max_entries: 1, colour: red}
EOF
expect 65 validate --no-objects keys.yaml <<'EOF'
keys.yaml:2:1: error: unknown key 'namspace' in manifest; did you mean 'namespace'?
keys.yaml:4:3: error: unknown key 'on_incompatable' in defaults; did you mean 'on_incompatible'?
keys.yaml:9:18: error: invalid pinning 'globl'; did you mean 'global'? (expected none, object, global or custom)
keys.yaml:10:15: error: invalid seed 'enforse'; did you mean 'enforce'? (expected create or enforce)
keys.yaml:10:15: error: 'seed' applies to 'entries', and there are none
keys.yaml:12:19: error: unknown key 'xdpp' in attach item; did you mean 'xdp'?
keys.yaml:12:18: error: attach item needs exactly one of 'xdp', 'tc', 'cgroup', 'auto'
keys.yaml:14:73: error: unknown key 'colour' in map
EOF

printf 'version: 1\nobjects:\n\t- file: a.o\n' >tab.yaml
expect 65 validate --no-objects tab.yaml <<'EOF'
tab.yaml:3:1: error: invalid YAML: tab character: YAML indents with spaces only
EOF
printf 'version: 1\nobjects:\n  - file: a.o\n\tname: a\n' >tab2.yaml
expect 65 validate --no-objects tab2.yaml <<'EOF'
tab2.yaml:4:1: error: invalid YAML: tab character: YAML indents with spaces only
EOF

cat >yes.yaml <<'EOF'
version: 1
prune: yes
objects:
  - file: a.o
    sections:
      - program: p
        attach: [{auto: On}, {xdp: eth0, optional: "no"}]
EOF
expect 65 validate --no-objects yes.yaml <<'EOF'
yes.yaml:2:8: error: 'prune' must be a boolean: 'yes' is not a boolean in YAML 1.2; write true or false
yes.yaml:7:25: error: 'auto' must be true (the target is in the program's section name): 'On' is not a boolean in YAML 1.2; write true or false
yes.yaml:7:52: error: 'optional' must be a boolean
EOF

# 4. Objects: what is wrong with one is said at the manifest's `file:`,
# naming the file; exit 65.  A missing one, no ELF, ELF objects of other
# machines (the BPF object with its e_machine patched), a truncated one.
machine() { # FILE EM: set e_machine, 16 bits little-endian at offset 18
	cp "$OBJ" "$1"
	printf "$(printf '\\%03o\\%03o' $(($2 % 256)) $(($2 / 256)))" |
		dd of="$1" bs=1 seek=18 conv=notrunc 2>/dev/null || fail "cannot patch $1"
}
printf 'not an ELF file\n' >junk.o
machine x86.o 62
machine arm64.o 183
machine odd.o 4242
head -c 1000 "$OBJ" >short.o
for o in missing.o junk.o x86.o arm64.o odd.o short.o; do
	printf 'version: 1\nnamespace: ns1\nobjects:\n  - name: site\n    file: %s\n' "$o" >obj.yaml
	case $o in
	missing.o) why="cannot open: No such file or directory" ;;
	junk.o) why="not an ELF file" ;;
	x86.o) why="not a BPF object: ELF machine x86-64 (62), not BPF (247)" ;;
	arm64.o) why="not a BPF object: ELF machine AArch64 (183), not BPF (247)" ;;
	odd.o) why="not a BPF object: ELF machine 4242, not BPF (247)" ;;
	short.o) why="truncated: section header table at offset" ;;
	esac
	# The whole line, but for the size of the object in the last one.
	want="obj.yaml:5:11: error: object file './$o': $why"
	"$BPF_PROVISION" validate obj.yaml >out 2>err
	rc=$?
	n=$((n + 1))
	[ "$rc" = 65 ] || { cat err >&2; fail "validate with $o: exit $rc, want 65"; }
	[ "$(wc -l <err)" = 1 ] || fail "validate with $o: not one line: $(cat err)"
	case $(cat err) in
	"$want") ;;
	"$want"*) [ "$o" = short.o ] || fail "validate with $o: '$(cat err)', want '$want'" ;;
	*) fail "validate with $o: '$(cat err)', want '$want'" ;;
	esac
	# inspect has no manifest: the object's own name is the place.
	"$BPF_PROVISION" inspect "$o" >out 2>err
	[ $? = 65 ] || fail "inspect $o: exit status"
	grep -qF "$o: error: $why" err || fail "inspect $o: $(cat err)"
done
# Under -o json the error document has the manifest's place too.
"$BPF_PROVISION" -o json validate obj.yaml >out 2>err
[ $? = 65 ] || fail "-o json validate with short.o: exit status"
tr -d ' \n' <out | grep -q '^{"error":{"message":"objectfile'"'"'./short.o'"'"':truncated:[^"]*","file":"obj.yaml","line":5,"column":11}' ||
	fail "JSON error of an object: $(cat out)"

# 5. One prefix: every error line of every run above was checked whole; the
# messages without a place say "bpf-provision: error:" as well.
echo "messages: $n cases ($checked command and option pairs)"
exit 0
