# Sourced by the classify/embed/eval/info tests: trains a tiny two-class
# model (lambda phage vs. 48 kbp of E. coli K-12, from data/cache) in a few
# steps into $T/m.gfm. Its predictions are barely better than chance; the
# tests check formats, arithmetic and determinism, not accuracy: no
# threshold (--target-precision 0), records from 3 bases (--crop-min 3) and
# the Reformer alone (--kmer-index off: t_kmer_index.sh turns it on).
LAMBDA=data/cache/lambda/lambda_virus.fa
ECOLI=data/cache/ecoli/MG1655-K12.fasta
[ -s "$LAMBDA" ] && [ -s "$ECOLI" ] || fail "no data/cache examples: run data/fetch-examples.sh"
"$GF" train -h >/dev/null 2>&1 || skip "needs the train command to make a model"
head -n 600 "$ECOLI" >"$T/ecoli.fa"
train_model() {
	"$GF" train -q -o "$T/m.gfm" --class lambda="$LAMBDA" --class ecoli="$T/ecoli.fa" \
		-k 3 --stride 3 --window 64 --layers 2 --d-model 16 --heads 2 --d-ff 32 --chunk 16 \
		--steps 3 --batch 4 --seed 7 -t 2 --target-precision 0 --crop-min 3 --kmer-index off "$@" >"$T/train.out" 2>"$T/train.err" ||
		fail "train failed: $(cat "$T/train.err")"
}
train_model
