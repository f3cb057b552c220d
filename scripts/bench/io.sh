#!/usr/bin/env bash
# I/O benchmark: bases per second read by htslib alone (scripts/bench/readonly.c:
# kseq over BGZF for FASTA, sam_read1 for BAM), by htslib + gf_kmer_tokenize,
# and by `genoformer tokenize` (seqio + tokenizer + statistics), on E. coli
# K-12 MG1655 (4.6 Mbp; plain FASTA and the packaged gzip FASTA) and on
# bowtie2's combined_reads.bam (4.2 Mbp of reads), each read COPIES times
# per run. Medians of REPS runs of each, taken in turn in the same
# loop; ratios to htslib alone in wall and CPU time; peak RSS of each process.
# Goal: tokenizing adds at most 20% to htslib's read time, and memory stays
# bounded by the longest record. A last table runs each program on one
# 4-base record: its fixed start-up cost (genoformer loads OpenBLAS, libgomp
# and libgfortran; readonly only htslib), part of every ratio above, which
# COPIES amortises.
#   scripts/bench/io.sh            REPS=5 COPIES=5 K=6 by default
set -euo pipefail
cd "$(dirname "$0")/../.."
GF=${GF:-./genoformer}
REPS=${REPS:-5}
COPIES=${COPIES:-5}
K=${K:-6}
data/fetch-examples.sh
[ -x "$GF" ] || make -s -j2 genoformer
make -s build/bench/readonly

GENOME=data/cache/ecoli/MG1655-K12.fasta
GENOME_GZ=data/cache/ragout/E.Coli/references/MG1655-K12.fasta.gz
BAM=data/cache/lambda/combined_reads.bam

# run LABEL CMD...: appends "wall_us cpu_us rss_bytes" of one run to
# $W/LABEL; readonly prints its RSS, genoformer's run summary gives its own.
TIMEFORMAT='%3R %3U %3S'
run() {
	local label=$1; shift
	local rss
	{ time "$@" >"$W/out" 2>"$W/err"; } 2>"$W/time"
	if [ "$1" = "$GF" ]; then
		rss=$(sed -n 's/.*peak RSS \([0-9.]*\) \([kMG]*\)B.*/\1 \2/p' "$W/err" |
		      awk '{ m = $2 == "k" ? 1e3 : $2 == "M" ? 1e6 : $2 == "G" ? 1e9 : 1; printf "%d", $1 * m }')
	else
		rss=$(awk '{ print $4 }' "$W/out")
	fi
	awk -v rss="$rss" '{ printf "%d %d %d\n", $1 * 1e6, ($2 + $3) * 1e6, rss }' "$W/time" >>"$W/$label"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v c="$2" '{ print $c }' "$W/$1" | median; }

bench() {
	local name=$1; shift
	W=$(mktemp -d)
	local bases longest
	bases=$(build/bench/readonly "$@" | awk '{ print $1 }')
	longest=$("$GF" tokenize -q -k 1 "$@" | awk 'NR > 1 && $2 > m { m = $2 } END { print m + 0 }')
	for _ in $(seq "$REPS"); do
		run htslib build/bench/readonly "$@"
		run htslib+kmer build/bench/readonly -k "$K" "$@"
		run genoformer "$GF" tokenize -v -k "$K" "$@"
	done
	local hw hc
	hw=$(col htslib 1); hc=$(col htslib 2)
	printf '%s: %.1f Mbp per run, longest record %.2f Mbp, k=%s stride 1, median of %s runs\n' \
	       "$name" "$(echo "$bases" | awk '{ print $1 / 1e6 }')" "$(echo "$longest" | awk '{ print $1 / 1e6 }')" "$K" "$REPS"
	printf '  %-12s %10s %10s %8s %10s %8s %10s\n' what wall_ms Mbp/s ratio cpu_ms ratio rss_MB
	for l in htslib htslib+kmer genoformer; do
		local w c r
		w=$(col "$l" 1); c=$(col "$l" 2); r=$(col "$l" 3)
		awk -v l="$l" -v w="$w" -v c="$c" -v r="$r" -v hw="$hw" -v hc="$hc" -v b="$bases" 'BEGIN {
			printf "  %-12s %10.1f %10.1f %8.2f %10.1f %8.2f %10.1f\n", l, w / 1e3, b / w, w / hw, c / 1e3, (hc ? c / hc : 0), r / 1e6 }'
	done
	rm -rf "$W"
}

copies() { for _ in $(seq "$COPIES"); do echo "$1"; done; }
mapfile -t files < <(copies "$GENOME")
bench "E. coli MG1655 plain FASTA x$COPIES" "${files[@]}"
mapfile -t files < <(copies "$GENOME_GZ")
bench "E. coli MG1655 gzip FASTA x$COPIES" "${files[@]}"
mapfile -t files < <(copies "$BAM")
bench "bowtie2 combined_reads.bam x$COPIES" "${files[@]}"
printf '>start-up\nACGT\n' >build/bench/tiny.fa
bench "start-up: one 4-base record" build/bench/tiny.fa
