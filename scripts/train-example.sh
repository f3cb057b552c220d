#!/bin/sh
# Trains the bundled model data/models/example.gfm: a classifier of the four
# ragout species (E. coli, H. pylori, S. aureus, V. cholerae) on the complete
# reference genomes of ragout-examples (data/fetch-examples.sh), leaving out
# the strain each species' *_contigs file was assembled from (MG1655-K12, H1,
# USA300_FPR3757, SJM180), whose contigs data/examples/ ships for the demo.
# Out-of-class sequence (data/fetch-openset.sh: other bacteria, archaea,
# eukaryotes, phages, plasmids, mitochondria, shuffled sequence; never
# lambda phage, never the test species of other.fa) is the background class,
# so that classify calls what is none of the four 'unclassified'; half the
# training windows are cut to 64 bp..1.5 kbp (train --crop-frac) so reads
# are seen in training; the threshold for 99% precision on the validation
# windows is stored in the model.
# Then reports accuracy on those held-out contigs with `genoformer eval`.
# Writes data/models/example.gfm (+ .ckpt, not committed) and
# data/models/example.metrics.tsv. Interrupted runs continue (--resume auto).
#   THREADS=N  CPU threads [2]     STEPS=N  optimizer steps [3200]
#   OUT=FILE   the model [data/models/example.gfm]     EXTRA="..."  more train options
set -e
cd "$(dirname "$0")/.."
GF=${GF:-./genoformer}
[ -x "$GF" ] || make -j2 genoformer
data/fetch-examples.sh
data/fetch-openset.sh
R=data/cache/ragout
# species folder, class name, held-out strain
set -- E.Coli E.coli MG1655-K12 H.Pylori H.pylori SJM180 S.Aureus S.aureus USA300_FPR3757 V.Cholerae V.cholerae H1
CLASSES=
while [ $# -ge 3 ]; do
	[ -f "$R/$1/references/$3.fasta.gz" ] || { echo "train-example: no held-out $R/$1/references/$3.fasta.gz" >&2; exit 1; }
	for f in "$R/$1"/references/*.fasta.gz; do
		[ "$f" = "$R/$1/references/$3.fasta.gz" ] || CLASSES="$CLASSES --class $2=$f"
	done
	shift 3
done
OUT=${OUT:-data/models/example.gfm}
mkdir -p "$(dirname "$OUT")"
# 2 reversible layers (local, LSH) of width 64 over windows of 256
# non-overlapping 6-mers (1536 bp); classes (background included) drawn
# equally often.
# shellcheck disable=SC2086
"$GF" train -o "$OUT" $CLASSES --background data/cache/openset/background.fa \
	-k 6 -L 256 --layers 2 --d-model 64 --heads 4 --d-ff 128 --attn local,lsh --chunk 64 \
	--batch 16 --steps "${STEPS:-3200}" --lr 3e-3 --warmup 50 --balance --seed 1 \
	--val-every 100 --val-windows 512 --save-every 100 -t "${THREADS:-2}" --device cpu --resume auto ${EXTRA:-}
if [ -f data/examples/truth.tsv ] && "$GF" eval -h >/dev/null 2>&1; then
	"$GF" eval -m "$OUT" --labels data/examples/truth.tsv data/examples/contigs.fa.gz
fi
