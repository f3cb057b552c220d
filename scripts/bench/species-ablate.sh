#!/bin/bash
# Ablations of the Reformer's recipe for the species model (issue 10): each
# variant is scripts/train-example.sh's recipe with some options changed,
# trained for STEPS steps (seed 1) on the same training genomes and
# background, the Reformer alone (--kmer-index off: the exact index does not
# depend on these options). The measure is the calibration's, on validation
# windows of the training strains only (no test set is used to choose): for
# each length, the fraction of in-class validation windows called right at
# 99% precision, and the validation accuracy of whole windows.
#   STEPS=N [400]  THREADS=N [2]  VARIANTS="name:options;..." [the list below]
# Writes data/cache/ablate/NAME.gfm and prints a TSV to stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."
GF=${GF:-./genoformer}
STEPS=${STEPS:-400} THREADS=${THREADS:-2}
R=data/cache/ragout W=data/cache/ablate
data/fetch-examples.sh >&2
data/fetch-openset.sh >&2
mkdir -p $W
CLASSES=
for x in E.Coli:E.coli:MG1655-K12 H.Pylori:H.pylori:SJM180 S.Aureus:S.aureus:USA300_FPR3757 V.Cholerae:V.cholerae:H1; do
	IFS=: read -r dir cls held <<<"$x"
	for f in "$R/$dir"/references/*.fasta.gz; do
		[ "$f" = "$R/$dir/references/$held.fasta.gz" ] || CLASSES="$CLASSES --class $cls=$f"
	done
done
BASE="-k 6 --stride 6 -L 256 --layers 2 --d-model 64 --heads 4 --d-ff 128 --attn local,lsh --chunk 64"
DEFAULT_VARIANTS="bundled:;stride3:--stride 3;k4:-k 4 --stride 4;width128:--d-model 128 --d-ff 256;depth4:--layers 4;nobalance:--no-balance"
printf 'variant\toptions\tsteps\tval_acc\tright_at_99_by_length\tseconds\n'
IFS=';' read -ra VS <<<"${VARIANTS:-$DEFAULT_VARIANTS}"
for v in "${VS[@]}"; do
	name=${v%%:*} opts=${v#*:}
	bal=--balance
	[[ $opts == *--no-balance* ]] && bal= opts=${opts//--no-balance/}
	t0=$(date +%s)
	# shellcheck disable=SC2086
	"$GF" train -q -o $W/$name.gfm $CLASSES --background data/cache/openset/background.fa $BASE $opts \
		--batch 16 --steps "$STEPS" --lr 3e-3 --warmup 50 $bal --seed 1 --val-every "$STEPS" --val-windows 256 \
		-t "$THREADS" --device cpu --kmer-index off
	t1=$(date +%s)
	# "...; 100 bp: 0.99 (in-class right 0.025 wrong ...); ..." -> 100:0.025,...
	by=$("$GF" info $W/$name.gfm | awk -F'\t' '$1 == "openset.calibration" { print $2 }' |
		tr ';' '\n' | sed -n 's/^ *\([0-9]*\) bp: [0-9.]* (in-class right \([0-9.]*\).*/\1:\2/p' | paste -sd, -)
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$opts" "$STEPS" "$(awk -F'\t' 'END { print $6 }' $W/$name.metrics.tsv)" \
		"$by" $((t1 - t0))
done
