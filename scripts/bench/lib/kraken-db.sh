#!/usr/bin/env bash
# kraken-db.sh DB THREADS CLASS=FASTA...: builds a Kraken 2 database in DB
# (unless DB/hash.k2d exists) from one FASTA of training genomes per class,
# with a hand-made taxonomy root(1) -> species 101, 102, ... in the order
# given (no NCBI files needed: sequences carry kraken:taxid), default k-mer
# sizes, no masking (the species benchmark's recipe). Prints the build time
# on stderr. classify.sh maps taxid 100+i back to the i-th class.
set -euo pipefail
K=$1 THREADS=$2
shift 2
[ -s "$K/hash.k2d" ] && exit 0
rm -rf "$K"
mkdir -p "$K/taxonomy" "$K/input"
printf '1\t|\t1\t|\tno rank\t|\n' >"$K/taxonomy/nodes.dmp"
printf '1\t|\troot\t|\t\t|\tscientific name\t|\n' >"$K/taxonomy/names.dmp"
id=101
for cf in "$@"; do
	c=${cf%%=*} fa=${cf#*=}
	printf '%s\t|\t1\t|\tspecies\t|\n' $id >>"$K/taxonomy/nodes.dmp"
	printf '%s\t|\t%s\t|\t\t|\tscientific name\t|\n' $id "$c" >>"$K/taxonomy/names.dmp"
	awk -v t=$id -v c="$c" '/^>/ { print ">" c "_" ++i "|kraken:taxid|" t; next } { print }' "$fa" >"$K/input/$c.fa"
	kraken2-build --no-masking --add-to-library "$K/input/$c.fa" --db "$K" >/dev/null 2>&1
	id=$((id + 1))
done
rm -rf "$K/input"
t0=$(date +%s.%N)
kraken2-build --build --db "$K" --threads "$THREADS" >"$K/build.log" 2>&1
echo "[kraken-db] $K built in $(echo "$(date +%s.%N) - $t0" | bc) s" >&2
