#!/bin/sh
# `make demo`: classifies contigs of four bacterial strains that the bundled
# model never saw in training (data/examples/, from ragout-examples) with
# data/models/example.gfm on the CPU, then prints the first rows of the
# table, the per-class report and the accuracy against the truth labels;
# then 200 lambda phage reads, a genome of none of the model's classes,
# which it should call 'unclassified' (and says why, per read).
set -e
cd "$(dirname "$0")/.."
GF=${GF:-./genoformer}
MODEL=${MODEL:-data/models/example.gfm}
EX=data/examples
THREADS=${THREADS:-2}
if [ ! -s "$MODEL" ]; then
	echo "[demo] $MODEL is missing: scripts/train-example.sh trains it" >&2
	exit 1
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# table FILE: a TSV with its columns aligned (blank lines kept)
table() {
	awk 'BEGIN { FS = "\t" }
		{ line[NR] = $0; for (i = 1; i <= NF; i++) if (length($i) > w[i]) w[i] = length($i) }
		END { for (r = 1; r <= NR; r++) { n = split(line[r], f, "\t"); s = ""
			for (i = 1; i <= n; i++) s = s (i < n ? sprintf("%-" w[i] "s  ", f[i]) : f[i]); print s } }' "$1"
}

echo "== The model ($MODEL)"
"$GF" info "$MODEL" | grep -E '^(task|tokenizer\.|window|config\.(d_model|n_layers|layers)|class\.|parameters|openset\.(min_prob|target_precision|background|min_length)|train\.steps|created)'
echo
n=$(gzip -dc $EX/contigs.fa.gz | grep -c '>')
bp=$(gzip -dc $EX/contigs.fa.gz | grep -v '>' | tr -d '\n' | wc -c)
echo "== Classifying $n contigs ($bp bp) of held-out strains on the CPU ($THREADS threads)"
"$GF" classify -m "$MODEL" --device cpu -t "$THREADS" --report "$T/report.tsv" -o "$T/classify.tsv" $EX/contigs.fa.gz
echo
echo "== First rows of the table (id, length, predicted, probability, each class's probability, reason)"
head -n 1 "$T/classify.tsv"   # the #genoformer line: version, model, the model file's CRC32
sed -n 2,10p "$T/classify.tsv" >"$T/head.tsv"
table "$T/head.tsv"
echo
echo "== Report (class, records, percent, mean probability)"
table "$T/report.tsv"
echo
echo "== Against the truth ($EX/truth.tsv)"
"$GF" eval -q --predictions "$T/classify.tsv" --labels $EX/truth.tsv >"$T/eval.tsv"
table "$T/eval.tsv"
echo
echo "== Out-of-class: 200 lambda phage reads ($EX/lambda-reads.fq.gz), a genome of none of the classes"
"$GF" classify -q -m "$MODEL" --device cpu -t "$THREADS" --report "$T/lambda.tsv" -o "$T/lambda-calls.tsv" \
	$EX/lambda-reads.fq.gz
table "$T/lambda.tsv"
awk -F'\t' '/^#/ { next } ++row > 1 { n++; u += $3 == "unclassified" }
	END { printf "%d of %d lambda reads unclassified (%.1f%%)\n", u, n, 100 * u / n }' "$T/lambda-calls.tsv"
# reads called a species: exact 31-mers of the k-mer index (README, "What
# `unclassified` means"): E. coli K-12's own chromosome holds 7% of lambda's
"$GF" classify -q -m "$MODEL" --device cpu -t "$THREADS" --no-kmer-index -o "$T/lambda-reformer.tsv" \
	$EX/lambda-reads.fq.gz
awk -F'\t' '/^#/ { next } ++row > 1 { n++; u += $3 == "unclassified" }
	END { printf "the Reformer alone (--no-kmer-index): %d of %d unclassified; calls above come from exact 31-mers that\nE. coli K-12 shares with lambda (its lambdoid prophages), as Kraken 2 calls them\n", u, n }' "$T/lambda-reformer.tsv"
