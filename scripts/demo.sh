#!/bin/sh
# `make demo`: classifies contigs of four bacterial strains that the bundled
# model never saw in training (data/examples/, from ragout-examples) with
# data/models/example.gfm on the CPU, then prints the first rows of the
# table, the per-class report and the accuracy against the truth labels.
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
"$GF" info "$MODEL" | grep -E '^(task|tokenizer\.|window|config\.(d_model|n_layers|layers)|class\.|parameters|train\.steps|created)'
echo
n=$(gzip -dc $EX/contigs.fa.gz | grep -c '>')
bp=$(gzip -dc $EX/contigs.fa.gz | grep -v '>' | tr -d '\n' | wc -c)
echo "== Classifying $n contigs ($bp bp) of held-out strains on the CPU ($THREADS threads)"
"$GF" classify -m "$MODEL" --device cpu -t "$THREADS" --report "$T/report.tsv" -o "$T/classify.tsv" $EX/contigs.fa.gz
echo
echo "== First rows of the table (id, length, predicted, probability, then each class's probability)"
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
