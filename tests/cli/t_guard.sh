# Training guard rails: --resume refuses changed optimisation settings
# unless --override-hparams (then recorded in the model), and --keep-best
# keeps the model of the lowest validation loss beside the last.
set -u
C=data/cache
[ -f $C/lambda/lambda_virus.fa ] && [ -f $C/ecoli/MG1655-K12.fasta ] || fail "no example data: run data/fetch-examples.sh"
head -n 600 $C/ecoli/MG1655-K12.fasta >"$T/ecoli.fa"
CLS=(--class lambda=$C/lambda/lambda_virus.fa --class ecoli="$T/ecoli.fa")
M=(-k 3 --stride 3 -L 64 --layers 2 --d-model 16 --heads 2 --d-ff 32 --chunk 16 --batch 4 --warmup 1 -t 1 --device cpu -q)

# --resume: a changed --lr and --steps are refused, naming both values
expect_status 0 "$GF" train -o "$T/r.gfm" "${CLS[@]}" "${M[@]}" --steps 12 --lr 3e-3 --stop-at 4
expect_error 2 "--resume: --lr 0.003 in the checkpoint, 0.001 now; --steps 12 in the checkpoint, 20 now (repeat the checkpoint's settings, or --override-hparams to change them)" \
	"$GF" train -o "$T/r.gfm" "${CLS[@]}" "${M[@]}" --steps 20 --lr 1e-3 --resume auto
expect_status 0 "$GF" train -o "$T/r.gfm" "${CLS[@]}" "${M[@]}" --steps 20 --lr 1e-3 --resume auto --override-hparams
"$GF" info "$T/r.gfm" | grep -qx $'meta.resumed.overrides\t--lr 0.003 in the checkpoint, 0.001 now; --steps 12 in the checkpoint, 20 now' ||
	fail "override not recorded: $("$GF" info "$T/r.gfm" | grep -i 'optim\|overr')"
"$GF" info "$T/r.gfm" | grep -qx $'meta.optim.lr\t0.001' || fail "new lr not recorded"
# the same settings resume without a word
expect_status 0 "$GF" train -o "$T/s.gfm" "${CLS[@]}" "${M[@]}" --steps 6 --stop-at 2
expect_status 0 "$GF" train -o "$T/s.gfm" "${CLS[@]}" "${M[@]}" --steps 6 --resume auto

# --keep-best: FILE.best.gfm holds the step of the lowest validation loss
expect_status 0 "$GF" train -o "$T/b.gfm" "${CLS[@]}" "${M[@]}" --steps 8 --val-every 1 --lr 3e-2 --keep-best
best=$(awk -F'\t' 'NR > 1 && $5 != "NA" && $5 != "" { if (b == "" || $5 + 0 < b + 0) { b = $5; s = $1 } } END { print s }' "$T/b.metrics.tsv")
[ -s "$T/b.best.gfm" ] || fail "--keep-best wrote no $T/b.best.gfm"
"$GF" info "$T/b.best.gfm" | grep -qx $'train.steps\t'"$best" || fail "best model is not the step-$best model"
[ -s "$T/b.gfm" ] || fail "the last model is missing"

exit 0
