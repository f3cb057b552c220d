#!/bin/bash
# Species benchmark: genoformer vs. Kraken 2 vs. Mash on the four species of
# ragout-examples (E. coli, H. pylori, S. aureus, V. cholerae).
#   Training genomes: ragout's references except the held-out strains.
#   Test: fragments of 1, 10 and 100 kbp cut from the held-out strains'
#   complete genomes (MG1655, SJM180, USA300_FPR3757, H1: the strains whose
#   contigs ragout ships), evenly spread, N per species and size.
#   genoformer: MODEL (default the bundled data/models/example.gfm, trained
#   on the same training genomes by scripts/train-example.sh); TRAIN=1 trains
#   one here instead (TRAIN_OPTS). Rows genoformer, and genoformer-rc with
#   classify --rc-average (each window read on both strands).
#   PRETRAIN=1 also compares pretraining with training from scratch on an
#   equal fine-tuning budget: `genoformer pretrain` (PT_STEPS) on the training
#   genomes, then `genoformer train --init` (FT_STEPS), against `genoformer
#   train` from scratch with the same FT_STEPS and settings; both have the
#   bundled model's tokenizer, body and optimiser settings
#   (scripts/train-example.sh). Rows gf-pretrained and gf-scratch, fragment
#   sizes PT_SIZES; the validation losses of both runs to
#   data/cache/bench-species/pretrain-val<PT_STEPS>-<FT_STEPS>.tsv. Models
#   are named by their steps and reused when they exist.
# OMP_WAIT_POLICY is passive unless set: on a loaded machine, OpenMP threads
# spinning at barriers made 2-thread classification 6x slower than 1 thread.
#   Kraken 2: a custom database of the training genomes with a hand-made
#   four-species taxonomy (no NCBI files needed: sequences carry
#   kraken:taxid), default k-mer sizes.
#   Mash: one sketch per species of its training genomes (-s 10000), each
#   fragment to the nearest sketch by Mash distance; no shared hash =
#   unclassified.
# Accuracy and macro-F1 come from `genoformer eval --predictions` for every
# tool (unclassified = wrong); throughput is fragment bp / wall seconds of
# the classification step alone (database/sketch building reported apart).
# Work files go to data/cache/bench-species/; the table to stdout and
# data/cache/bench-species/results.tsv.
set -euo pipefail
cd "$(dirname "$0")/../.."
GF=${GF:-./genoformer}
THREADS=${THREADS:-2}
MODEL=${MODEL:-data/models/example.gfm}
N1K=${N1K:-100} N10K=${N10K:-30} N100K=${N100K:-8}
TRAIN=${TRAIN:-0}
TRAIN_OPTS=${TRAIN_OPTS:-"-k 6 --stride 6 --window 512 --layers 4 --d-model 64 --heads 4 --d-ff 256 --steps 2000 --batch 16 --balance"}
PRETRAIN=${PRETRAIN:-0}
PT_STEPS=${PT_STEPS:-400} FT_STEPS=${FT_STEPS:-300} PT_SIZES=${PT_SIZES:-"1000 10000"}
# scripts/train-example.sh's architecture and optimiser settings
PT_ARCH="-k 6 -L 256 --layers 2 --d-model 64 --heads 4 --d-ff 128 --attn local,lsh --chunk 64"
PT_OPT="--batch 16 --lr 3e-3 --warmup 50 --seed 1 --val-every 50 --val-windows 512 --device cpu"
W=data/cache/bench-species
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
say() { echo "[species] $*" >&2; }

data/fetch-examples.sh
for tool in kraken2 mash; do
	command -v $tool >/dev/null || { say "installing $tool from Debian"; apt-get install -y -qq $tool >/dev/null; }
done
CLASSES="E.coli H.pylori S.aureus V.cholerae"
now() { date +%s.%N; }
scripts/bench/lib/species-data.sh $W 1000:"$N1K" 10000:"$N10K" 100000:"$N100K"

# pred_table IN OUT: "id<TAB>class-or-unclassified" lines -> a classify-style table for eval
pred_table() {
	{ printf 'id\tlength\tpredicted\tprobability'; for c in $CLASSES; do printf '\t%s' "$c"; done; printf '\n'
	  awk -v nc=4 'BEGIN { FS = OFS = "\t" } { printf "%s\t0\t%s\t1", $1, $2; for (i = 0; i < nc; i++) printf "\t0"; print "" }' "$1"; } >"$2"
}
# metrics TOOL SIZE PRED SECONDS: one results row from eval of PRED
metrics() {
	local ev acc f1 bp
	ev=$("$GF" eval -q --predictions "$3" --labels $W/test/truth$2.tsv)
	acc=$(echo "$ev" | awk -F'\t' '$1 == "accuracy" { print $2 }')
	f1=$(echo "$ev" | awk -F'\t' '$1 == "macro_f1" { print $2 }')
	bp=$(grep -v '>' $W/test/frag$2.fa | tr -d '\n' | wc -c)
	printf '%s\t%s\t%s\t%s\t%s\t%.3g\t%s\n' "$1" "$2" "$(($(wc -l <$W/test/truth$2.tsv) - 1))" "$acc" "$f1" \
		"$(echo "$bp / $4" | bc -l)" "$4" >>$W/results.tsv
}
printf 'tool\tfragment_bp\tfragments\taccuracy\tmacro_f1\tbp_per_s\tseconds\n' >$W/results.tsv

# genoformer
if [ "$TRAIN" = 1 ]; then
	MODEL=$W/genoformer.gfm
	t0=$(now)
	# shellcheck disable=SC2086
	"$GF" train -q -o $MODEL -t "$THREADS" $TRAIN_OPTS $(for c in $CLASSES; do printf -- '--class %s=%s ' $c $W/train/$c.fa; done)
	say "genoformer: trained $MODEL in $(echo "$(now) - $t0" | bc) s"
fi
# gf_rows TOOL MODEL OPTS SIZE...: classify the fragments with MODEL and the
# classify options OPTS, one row per size
gf_rows() {
	local tool=$1 model=$2 opts=$3 size t0
	shift 3
	for size in "$@"; do
		t0=$(now)
		# shellcheck disable=SC2086
		"$GF" classify -q -m "$model" -t "$THREADS" $opts -o $W/$tool$size.tsv $W/test/frag$size.fa
		metrics "$tool" $size $W/$tool$size.tsv "$(echo "$(now) - $t0" | bc)"
	done
}
if [ -s "$MODEL" ]; then
	gf_rows genoformer "$MODEL" "" 1000 10000 100000
	gf_rows genoformer-rc "$MODEL" --rc-average 1000 10000 100000
else
	say "no model $MODEL (scripts/train-example.sh, or TRAIN=1): genoformer left out"
fi

# pretraining vs. from scratch, equal fine-tuning steps; a run is skipped
# when its model exists, and continues when interrupted (--resume auto),
# except the fine-tuning (--init excludes --resume)
timed() {
	local out=$1 t0
	shift
	[ -s "$out" ] && return
	t0=$(now)
	"$GF" "$@" -q -o "$out" -t "$THREADS"
	say "genoformer $1: $out in $(echo "$(now) - $t0" | bc) s"
}
if [ "$PRETRAIN" = 1 ]; then
	CLASS_OPTS=$(for c in $CLASSES; do printf -- '--class %s=%s ' $c $W/train/$c.fa; done)
	PT=$W/pretrain$PT_STEPS FT=$W/pretrained$PT_STEPS-$FT_STEPS SC=$W/scratch$FT_STEPS
	# shellcheck disable=SC2046,SC2086
	timed $PT.gfm pretrain $PT_ARCH $PT_OPT --steps "$PT_STEPS" --resume auto $(for c in $CLASSES; do echo $W/train/$c.fa; done)
	# shellcheck disable=SC2086
	timed $FT.gfm train --init $PT.gfm $PT_ARCH $PT_OPT --steps "$FT_STEPS" --balance $CLASS_OPTS
	# shellcheck disable=SC2086
	timed $SC.gfm train $PT_ARCH $PT_OPT --steps "$FT_STEPS" --balance --resume auto $CLASS_OPTS
	# shellcheck disable=SC2086
	gf_rows gf-pretrained $FT.gfm "" $PT_SIZES
	# shellcheck disable=SC2086
	gf_rows gf-scratch $SC.gfm "" $PT_SIZES
	# validation rows (val_loss not NA) of both runs side by side, by step
	val_rows() { awk -F'\t' 'NR > 1 && $5 != "NA" { print $1 "\t" $5 "\t" $6 }' "$1"; }
	{ printf 'step\tpretrained_val_loss\tpretrained_val_acc\tstep\tscratch_val_loss\tscratch_val_acc\n'
	  paste <(val_rows $FT.metrics.tsv) <(val_rows $SC.metrics.tsv); } | cut -f1-3,5,6 >$W/pretrain-val$PT_STEPS-$FT_STEPS.tsv
	say "validation during fine-tuning ($W/pretrain-val$PT_STEPS-$FT_STEPS.tsv):"
	column -t $W/pretrain-val$PT_STEPS-$FT_STEPS.tsv >&2
fi

# Kraken 2: custom taxonomy root(1) -> species 101..104
K=$W/kraken2
# shellcheck disable=SC2046
scripts/bench/lib/kraken-db.sh $K "$THREADS" $(for c in $CLASSES; do echo "$c=$W/train/$c.fa"; done)
for size in 1000 10000 100000; do
	t0=$(now)
	kraken2 --db $K --threads "$THREADS" --output $W/k2_$size.out $W/test/frag$size.fa 2>/dev/null
	s=$(echo "$(now) - $t0" | bc)
	awk -F'\t' 'BEGIN { split("E.coli H.pylori S.aureus V.cholerae", n, " "); for (i = 1; i <= 4; i++) name[100 + i] = n[i] }
		{ print $2 "\t" ($3 in name ? name[$3] : "unclassified") }' $W/k2_$size.out >$W/k2_$size.pred
	pred_table $W/k2_$size.pred $W/k2_$size.tsv
	metrics kraken2 $size $W/k2_$size.tsv "$s"
done

# Mash: nearest species sketch
if [ ! -s $W/mash_ref.msh ]; then
	t0=$(now)
	for c in $CLASSES; do cp $W/train/$c.fa $W/mash_$c.fa; done
	mash sketch -p "$THREADS" -s 10000 -o $W/mash_ref $(for c in $CLASSES; do echo $W/mash_$c.fa; done) >/dev/null 2>&1
	say "mash: sketches built in $(echo "$(now) - $t0" | bc) s"
fi
for size in 1000 10000 100000; do
	t0=$(now)
	mash dist -p "$THREADS" -i $W/mash_ref.msh $W/test/frag$size.fa >$W/mash_$size.out 2>/dev/null
	s=$(echo "$(now) - $t0" | bc)
	# columns: reference, query, distance, p-value, shared-hashes "a/b"
	awk -F'\t' '{ sub(/.*mash_/, "", $1); sub(/\.fa$/, "", $1); split($5, h, "/")
		if (!($2 in best)) { best[$2] = "unclassified"; d[$2] = 2; order[++n] = $2 }
		if (h[1] > 0 && $3 < d[$2]) { d[$2] = $3; best[$2] = $1 } }
		END { for (i = 1; i <= n; i++) print order[i] "\t" best[order[i]] }' $W/mash_$size.out >$W/mash_$size.pred
	pred_table $W/mash_$size.pred $W/mash_$size.tsv
	metrics mash $size $W/mash_$size.tsv "$s"
done

say "results ($THREADS threads; model $MODEL):"
{ head -n 1 $W/results.tsv; tail -n +2 $W/results.tsv | sort -t "$(printf '\t')" -k2,2n -k1,1; } |
	awk -F'\t' '{ printf "%-11s %11s %9s %8s %8s %10s %8s\n", $1, $2, $3, $4, $5, $6, $7 }'
