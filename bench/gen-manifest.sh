#!/bin/sh
# SPDX-License-Identifier: MIT
# gen-manifest.sh N OBJECT: prints a manifest declaring N maps (N a multiple
# of 10) by listing OBJECT (bench_maps.o: ten PIN_OBJECT_NS maps m0..m9)
# N/10 times as objects o000000, o000001, ... in namespaces b000, b001, ...
# of at most 1000 objects each.  Pins: bNNN/oNNNNNN/mJ, the layout that
# `floor create` makes too.  Object names are zero-padded so that
# declaration order is path order.
set -eu
n=$1 obj=$2
case $n in *[!0-9]*|'') echo "gen-manifest.sh: N must be a number" >&2; exit 1 ;; esac
[ $((n % 10)) -eq 0 ] || { echo "gen-manifest.sh: N must be a multiple of 10" >&2; exit 1; }
awk -v n="$n" -v obj="$obj" 'BEGIN {
	print "version: 1"
	print "name: bench"
	print "prune: true"
	print "objects:"
	for (i = 0; i < n / 10; i++)
		printf "  - {file: \"%s\", name: o%06d, namespace: b%03d}\n", obj, i, int(i / 1000)
}'
