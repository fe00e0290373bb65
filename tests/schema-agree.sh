#!/bin/sh
# SPDX-License-Identifier: MIT
# schema/manifest.schema.json and the C validator must agree: every example
# config and good manifest is accepted by both, every bad manifest rejected by
# both.  The schema's verdict comes from tests/yaml2json.py (a strict YAML 1.2
# loader; a file it cannot load counts as rejected) and jsonschema; the C
# verdict from `bpf-provision validate --no-objects` (exit 0 accept, 65 reject,
# anything else is a crash and fails the test).  tests/manifests/semantic holds
# the known limits of the schema: files it accepts and the C validator rejects.
# Every program and attach type name the schema lists must be one the C
# validator (that is, the linked libbpf) accepts.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

find_python
[ -x "$BPF_PROVISION" ] || fail "$BPF_PROVISION is not built"
make_tmpdir

schema=$top_srcdir/schema/manifest.schema.json
corpus=$top_srcdir/tests/manifests

# "accept" or "reject" per file, in the order given.
set --
for f in "$top_srcdir"/configs/*.yaml "$corpus"/good/*.yaml "$corpus"/bad/*.yaml \
	"$corpus"/semantic/*.yaml; do
	[ -e "$f" ] || fail "no files match $f"
	set -- "$@" "$f"
done
"$PY" "$top_srcdir/tests/yaml2json.py" --validate "$schema" "$@" >"$TMPDIR_TEST/schema.out"
[ $? -le 1 ] || fail "yaml2json.py --validate failed"

n=0 n_accept=0 n_reject=0 n_limit=0 problems=0
report() {
	echo "DISAGREE: $*" >&2
	problems=$((problems + 1))
}

for f in "$@"; do
	n=$((n + 1))
	case $f in
	"$corpus"/bad/*) want=reject ;;
	"$corpus"/semantic/*) want=limit ;;
	*) want=accept ;;
	esac

	line=$(sed -n "${n}p" "$TMPDIR_TEST/schema.out")
	case $line in
	"$f: accept") schema_verdict=accept ;;
	"$f: reject"*) schema_verdict=reject ;;
	*) fail "unexpected output of yaml2json.py for $f: $line" ;;
	esac

	"$BPF_PROVISION" validate --no-objects "$f" >/dev/null 2>"$TMPDIR_TEST/c.err"
	rc=$?
	case $rc in
	0) c_verdict=accept ;;
	65) c_verdict=reject ;;
	*)
		cat "$TMPDIR_TEST/c.err" >&2
		report "$f: bpf-provision exited with $rc (crash?)"
		continue
		;;
	esac

	if [ "$want" = limit ]; then
		if [ "$schema_verdict" != accept ] || [ "$c_verdict" != reject ]; then
			report "$f: a known limit of the schema should be accepted by it" \
				"(${line#"$f: "}) and rejected by bpf-provision ($c_verdict)"
			sed 's/^/    /' "$TMPDIR_TEST/c.err" >&2
		else
			n_limit=$((n_limit + 1))
		fi
	elif [ "$schema_verdict" != "$c_verdict" ]; then
		report "$f: schema says $schema_verdict (${line#"$f: "}), bpf-provision says $c_verdict"
		sed 's/^/    /' "$TMPDIR_TEST/c.err" >&2
	elif [ "$c_verdict" != "$want" ]; then
		report "$f: both say $c_verdict, expected $want"
		sed 's/^/    /' "$TMPDIR_TEST/c.err" >&2
	elif [ "$want" = accept ]; then
		n_accept=$((n_accept + 1))
	else
		n_reject=$((n_reject + 1))
	fi
done

# The schema lists the program and attach type names of libbpf 1.1; the C
# validator takes them from the libbpf it is linked with.  Every name the
# schema lists must be accepted (else editors would accept what the tool
# refuses); names a newer libbpf adds are only noted, as the schema says.
n_names=0
for key in type attach_type; do
	def=$key
	[ "$key" = type ] && def=prog_type
	"$PY" - "$schema" "$def" >"$TMPDIR_TEST/names" <<'PY' || fail "cannot read the $def names of the schema"
import json, sys
print("\n".join(json.load(open(sys.argv[1]))["$defs"][sys.argv[2]]["enum"]))
PY
	[ -s "$TMPDIR_TEST/names" ] || fail "no $def names in the schema"
	m=$TMPDIR_TEST/$key.yaml
	{
		printf 'version: 1\nobjects:\n  - file: a.o\n    sections:\n'
		i=0
		while read -r name; do
			i=$((i + 1))
			printf '      - {program: p%d, %s: %s}\n' "$i" "$key" "$name"
		done <"$TMPDIR_TEST/names"
	} >"$m"
	n_names=$((n_names + $(wc -l <"$TMPDIR_TEST/names")))
	if ! "$BPF_PROVISION" validate --no-objects "$m" >/dev/null 2>"$TMPDIR_TEST/c.err"; then
		report "the schema's $def names are not all accepted by bpf-provision"
		sed 's/^/    /' "$TMPDIR_TEST/c.err" >&2
	fi
	printf 'version: 1\nobjects: [{file: a.o, sections: [{program: p, %s: "?"}]}]\n' "$key" >"$m"
	"$BPF_PROVISION" validate --no-objects "$m" 2>&1 >/dev/null |
		sed -n 's/.*(one of: \(.*\))$/\1/p' | tr -d ' ' | tr , '\n' >"$TMPDIR_TEST/c.names"
	[ -s "$TMPDIR_TEST/c.names" ] || report "bpf-provision does not list the $def names it accepts"
	extra=$(grep -vxF -f "$TMPDIR_TEST/names" "$TMPDIR_TEST/c.names" | tr '\n' ' ')
	[ -z "$extra" ] || echo "schema-agree: note: this libbpf also knows the ${def}s $extra"
done

echo "schema-agree: $n files: $n_accept accepted by both, $n_reject rejected by both," \
	"$n_limit known limits of the schema, $n_names type names, $problems problems"
[ "$problems" -eq 0 ] || fail "$problems of $n files: the schema and bpf-provision disagree or are wrong"
exit 0
