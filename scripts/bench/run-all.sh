#!/bin/sh
# `make bench`: runs every benchmark script in scripts/bench/ in turn.
set -e
cd "$(dirname "$0")/../.."
for b in scripts/bench/*.sh; do
	[ "$b" = scripts/bench/run-all.sh ] && continue
	echo "== $b"
	"$b"
done
