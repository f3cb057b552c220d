#!/bin/sh
# Demo on bundled real data: lambda phage and E. coli K-12 MG1655 (rebuilt from
# Debian's packages by data/fetch-examples.sh), or data/samples/ when they
# cannot be fetched. Prints what the model will see: token statistics per
# record and the first windows of tokens.
set -e
cd "$(dirname "$0")/.."
GF=${GF:-./genoformer}
LAMBDA=data/cache/lambda/lambda_virus.fa
ECOLI=data/cache/ecoli/MG1655-K12.fasta
if data/fetch-examples.sh && [ -s "$LAMBDA" ] && [ -s "$ECOLI" ]; then
	set -- "$LAMBDA" "$ECOLI"
else
	echo "[demo] real examples unavailable; using data/samples/small.fa" >&2
	LAMBDA=data/samples/small.fa
	set -- "$LAMBDA"
fi

echo "== Token statistics: overlapping 6-mers, windows of 4096 tokens sharing 256"
"$GF" tokenize -k 6 -L 4096 -O 256 "$@"
echo
echo "== The first two windows of $(basename "$LAMBDA"), non-overlapping 6-mers, 8 tokens each:"
echo "== record, window, [beg, end) in bases, tokens"
"$GF" tokenize -q -k 6 --stride 6 -L 8 --print --names "$LAMBDA" | head -n 2
"$GF" tokenize -q -k 6 --stride 6 -L 8 --print "$LAMBDA" | head -n 2
