# genoformer train / pretrain on real data (lambda phage against 50 kbp of
# E. coli K-12): outputs, --init from a trained and a pretrained model,
# resume equivalence bit for bit, NaN stop keeping the checkpoint, option,
# label and output errors.
set -u
C=data/cache
[ -f $C/lambda/lambda_virus.fa ] && [ -f $C/ecoli/MG1655-K12.fasta ] || fail "no example data: run data/fetch-examples.sh"
cp $C/lambda/lambda_virus.fa "$T/lambda.fa"
samtools faidx $C/ecoli/MG1655-K12.fasta "$(cut -f1 $C/ecoli/MG1655-K12.fasta.fai | head -1)":1-50000 >"$T/ecoli.fa" ||
	fail "samtools faidx failed"
CLS=(--class lambda="$T/lambda.fa" --class ecoli="$T/ecoli.fa")
# a tiny model: 2 layers (local, lsh) of width 32 over windows of 128 4-mers
M=(-k 4 -L 128 --layers 2 --d-model 32 --heads 2 --d-ff 64 --chunk 32 --warmup 5 --lr 3e-3 -t 1 --device cpu)

# the tensor section of a .gfm file: everything after the header, whose
# records (command line, date) differ between runs; records_len is at byte 48
tensors() { tail -c +$((56 + $(od -An -tu8 -j48 -N8 "$1" | tr -d ' ') + 4 + 1)) "$1"; }
same_tensors() { cmp -s <(tensors "$1") <(tensors "$2") || fail "$1 and $2 hold different tensors"; }

expect_status 0 "$GF" train -h
grep -q '^Usage: genoformer train' "$T/out" || fail "train -h: no usage"
for opt in '-k INT .*\[6\]' '--window INT .*\[1024\]' '--layers INT .*\[4\]' '--d-model INT .*\[128\]' \
	'--attn LIST .*\[local,lsh\]' '--lr F .*\[0.001\]' '--batch INT .*\[8\]' '--val-frac F .*\[0.1\]' \
	'--save-every INT .*\[500\]' '--resume CKPT' '--init FILE' '--balance' '--device NAME .*\[auto\]'; do
	grep -q -- "$opt" "$T/out" || fail "train -h lacks '$opt'"
done
expect_status 0 "$GF" pretrain -h
grep -q '^Usage: genoformer pretrain' "$T/out" || fail "pretrain -h: no usage"
grep -q -- '--labels' "$T/out" && fail "pretrain -h lists --labels"

# a short run: model, checkpoint and metrics beside it
expect_status 0 "$GF" train -o "$T/m.gfm" "${CLS[@]}" "${M[@]}" --steps 12 --val-every 6 --log-every 3
[ -s "$T/m.gfm" ] && [ -s "$T/m.gfm.ckpt" ] || fail "no model or checkpoint: $(ls "$T")"
[ "$(head -1 "$T/m.metrics.tsv")" = $'step\tloss\tlr\ttokens_per_s\tval_loss\tval_acc' ] || fail "metrics header: $(head -1 "$T/m.metrics.tsv")"
[ "$(cut -f1 "$T/m.metrics.tsv" | tail -n +2 | tr '\n' ' ')" = "3 6 9 12 " ] || fail "metrics steps: $(cat "$T/m.metrics.tsv")"
awk -F'\t' 'NR > 1 && ($5 == "NA") != ($1 % 6 != 0) { exit 1 }' "$T/m.metrics.tsv" || fail "validation rows: $(cat "$T/m.metrics.tsv")"
grep -q '^\[train\] 12 steps on 88.7 kbp, val loss [0-9.]*, val accuracy [0-9.]*; model' "$T/err" || fail "no summary: $(cat "$T/err")"
grep -q '^\[train\] genoformer .*wall .* peak RSS' "$T/err" || fail "no run summary: $(cat "$T/err")"
grep -q '2 records: 88.7 kbp training, 9.8 kbp validation' "$T/err" || fail "split: $(cat "$T/err")"

# the metrics plot (gnuplot): a PNG; a file that is not a metrics TSV is refused
if command -v gnuplot >/dev/null 2>&1; then
	expect_status 0 scripts/plot-metrics "$T/m.metrics.tsv" "$T/m.png"
	[ "$(head -c 4 "$T/m.png" | tail -c 3)" = PNG ] || fail "plot-metrics wrote no PNG"
	expect_error 1 "is not a genoformer metrics TSV" scripts/plot-metrics "$T/lambda.fa" "$T/x.png"
fi

# the model file loads: --init copies every body tensor of it
expect_status 0 "$GF" train -o "$T/f.gfm" --init "$T/m.gfm" "${CLS[@]}" -t 1 --device cpu --steps 2
grep -q -- "--init $T/m.gfm: 27 of 27 body tensors copied" "$T/err" || fail "--init: $(cat "$T/err")"

# resume: 5 steps, then 7 more, equal 12 in one go (accumulating 2 micro-batches)
expect_status 0 "$GF" train -o "$T/r.gfm" "${CLS[@]}" "${M[@]}" --steps 12 --accum 2 --val-every 6 --stop-at 5
[ -e "$T/r.gfm" ] && fail "--stop-at wrote the final model"
grep -q 'stopped at step 5 of 12' "$T/err" || fail "--stop-at: $(cat "$T/err")"
expect_error 2 "--d-model 64: the checkpoint was trained with 32" \
	"$GF" train -o "$T/r.gfm" "${CLS[@]}" "${M[@]}" --d-model 64 --steps 12 --resume auto
expect_status 0 "$GF" train -o "$T/r.gfm" "${CLS[@]}" "${M[@]}" --steps 12 --accum 2 --val-every 6 --resume auto
grep -q "resuming from $T/r.gfm.ckpt at step 5" "$T/err" || fail "resume: $(cat "$T/err")"
expect_status 0 "$GF" info "$T/r.gfm"
grep -q -- "--stop-at 5" "$T/out" && grep -q -- "--resume auto" "$T/out" || fail "info lacks the first and the resuming command: $(cat "$T/out")"
expect_status 0 "$GF" train -o "$T/u.gfm" "${CLS[@]}" "${M[@]}" --steps 12 --accum 2 --val-every 6
same_tensors "$T/r.gfm" "$T/u.gfm"
same_tensors "$T/r.gfm.ckpt" "$T/u.gfm.ckpt"
cmp -s <(cut -f1,3,5,6 "$T/r.metrics.tsv" | grep -v '^5	') <(cut -f1,3,5,6 "$T/u.metrics.tsv") ||
	fail "metrics differ after resuming: $(cat "$T/r.metrics.tsv")"
cmp -s <(tensors "$T/m.gfm") <(tensors "$T/u.gfm") && fail "different runs gave the same tensors"

# preemption: SIGTERM stops at a step boundary with a checkpoint, exit 75
"$GF" train -o "$T/s.gfm" "${CLS[@]}" "${M[@]}" --steps 100000 --log-every 1 --save-every 0 2>"$T/s.err" &
pid=$!
for _ in $(seq 300); do [ "$(wc -l <"$T/s.metrics.tsv" 2>/dev/null)" -gt 2 ] 2>/dev/null && break; sleep 0.1; done
kill -TERM $pid
wait $pid
st=$?
[ $st = 75 ] || fail "SIGTERM: exit $st, want 75: $(cat "$T/s.err")"
grep -q "by a signal; $T/s.gfm.ckpt holds the state" "$T/s.err" || fail "SIGTERM: $(cat "$T/s.err")"
[ -s "$T/s.gfm.ckpt" ] && [ ! -e "$T/s.gfm" ] || fail "SIGTERM: $(ls "$T")"

# pretrain, then fine-tune from it; the tokenizer must match
expect_status 0 "$GF" pretrain -o "$T/p.gfm" "${M[@]}" --steps 10 "$T/lambda.fa" "$T/ecoli.fa"
grep -q '^\[pretrain\] 10 steps on 88.7 kbp, val loss [0-9.]*; model' "$T/err" || fail "pretrain: $(cat "$T/err")"
expect_status 0 "$GF" train -o "$T/f.gfm" --init "$T/p.gfm" "${CLS[@]}" -t 1 --device cpu --steps 2
grep -q "27 of 27 body tensors copied; new classifier head" "$T/err" || fail "--init pretrained: $(cat "$T/err")"
expect_error 2 "its tokenizer is k=4 stride=4, this run asks for k=5 stride=5" \
	"$GF" train -q -o "$T/f.gfm" --init "$T/p.gfm" -k 5 -s 5 "${CLS[@]}" --steps 2
expect_error 2 "a pretrain checkpoint cannot resume train" \
	"$GF" train -q -o "$T/p.gfm" --resume auto "${CLS[@]}" "${M[@]}" --steps 20

# divergence (F8): weights beyond 1e6 are never saved; the message names
# the checkpoint kept and its step, which resumes with finite weights
expect_error 1 "(beyond 1e+06: training diverged); $T/n.gfm.ckpt still holds step 1, the last good state" \
	"$GF" train -q -o "$T/n.gfm" "${CLS[@]}" "${M[@]}" --lr 1e5 --warmup 1 --steps 20 --save-every 1
[ -e "$T/n.gfm" ] && fail "a model was written after the divergence"
expect_status 0 "$GF" train -q -o "$T/n.gfm" "${CLS[@]}" "${M[@]}" --warmup 1 --steps 3 --resume auto --override-hparams
expect_status 0 "$GF" classify -q -m "$T/n.gfm" "$T/lambda.fa"
grep -q nan "$T/out" && fail "the model resumed after the divergence classifies as NaN: $(cat "$T/out")"
# diverging before the first checkpoint: nothing is kept, and it says why
expect_error 1 "$T/n9.gfm.ckpt: not written: tensor 'tok_emb' holds" \
	"$GF" train -q -o "$T/n9.gfm" "${CLS[@]}" "${M[@]}" --lr 1e9 --warmup 1 --steps 20 --save-every 1
[ -e "$T/n9.gfm.ckpt" ] && fail "a diverged checkpoint was written"

# option errors: one line, exit 2, nothing written
expect_error 2 "--heads 3 does not divide --d-model 32" "$GF" train -q -o "$T/x.gfm" "${CLS[@]}" "${M[@]}" --heads 3
expect_error 2 "--attn 'local,foo': unknown attention 'foo'" "$GF" train -q -o "$T/x.gfm" "${CLS[@]}" --attn local,foo
expect_error 2 "no output: -o MODEL.gfm is required" "$GF" train "${CLS[@]}"
expect_error 2 "no labels: give --labels TSV or --class NAME=FILE" "$GF" train -o "$T/x.gfm" "$T/lambda.fa"
expect_error 2 "--steps and --epochs exclude each other" "$GF" train -o "$T/x.gfm" "${CLS[@]}" --steps 5 --epochs 1
expect_error 2 "-k expects an integer in 1..8, got '9'" "$GF" train -o "$T/x.gfm" "${CLS[@]}" -k 9
expect_error 2 "stride must be between 1 and k=4" "$GF" train -q -o "$T/x.gfm" "${CLS[@]}" -k 4 -s 5
expect_error 2 "--device 'gpu': expects cpu, cuda, cuda:N (GPU N, from 0) or auto" "$GF" train -q -o "$T/x.gfm" "${CLS[@]}" --device gpu
expect_error 2 "the labels name 1 class" "$GF" train -o "$T/x.gfm" --class a="$T/lambda.fa"
ls "$T"/x.* >/dev/null 2>&1 && fail "option errors left files: $(ls "$T"/x.*)"

# label errors: one line naming the file, exit 1
lambda_id=$(head -1 "$T/lambda.fa" | cut -c2- | cut -d' ' -f1)
ecoli_id=$(head -1 "$T/ecoli.fa" | cut -c2- | cut -d' ' -f1)
printf '%s\tphage\nother\tbacteria\n' "$lambda_id" >"$T/l.tsv"
expect_error 1 "ecoli.fa: record '$ecoli_id' has no label" \
	"$GF" train -q -o "$T/x.gfm" --labels "$T/l.tsv" "${M[@]}" "$T/lambda.fa" "$T/ecoli.fa"
printf '%s\tphage\n%s\tbacteria\nnosuch\tphage\n' "$lambda_id" "$ecoli_id" >"$T/l.tsv"
expect_error 1 "l.tsv:3: id 'nosuch' matches no record" \
	"$GF" train -q -o "$T/x.gfm" --labels "$T/l.tsv" "${M[@]}" "$T/lambda.fa" "$T/ecoli.fa"
printf '%s\tphage\n%s\tbacteria\n' "$lambda_id" "$ecoli_id" >"$T/l.tsv"
printf '%s\tvirus\n' "$lambda_id" >"$T/v.tsv"
expect_error 1 "--val-labels: class 'virus' is not among the training classes" \
	"$GF" train -q -o "$T/x.gfm" --labels "$T/l.tsv" --val "$T/lambda.fa" --val-labels "$T/v.tsv" "$T/lambda.fa" "$T/ecoli.fa"
ls "$T"/x.* >/dev/null 2>&1 && fail "label errors left files: $(ls "$T"/x.*)"

# separate validation files labelled by --labels ids: the first half of
# lambda trains, the second half validates
sed -n '2,$p' "$T/lambda.fa" | tr -d '\n' >"$T/lambda.seq"
{ echo ">$lambda_id"; cut -c1-24000 "$T/lambda.seq" | fold -w 60; } >"$T/lambda_a.fa"
{ echo ">$lambda_id"; cut -c24001- "$T/lambda.seq" | fold -w 60; } >"$T/lambda_b.fa"
expect_status 0 "$GF" train -o "$T/v.gfm" --labels "$T/l.tsv" "${M[@]}" --steps 2 --val "$T/lambda_b.fa" "$T/lambda_a.fa" "$T/ecoli.fa"
grep -q '3 records: 74.0 kbp training, 24.5 kbp validation' "$T/err" || fail "--val: $(cat "$T/err")"

# F21: validating on training data, or the same genome in two classes
expect_error 1 "records '$lambda_id' and '$lambda_id' hold the same bases, and one trains on what the other validates: the validation would measure memory (1 such pairs, 48502 bp)" \
	"$GF" train -q -o "$T/x.gfm" --labels "$T/l.tsv" "${M[@]}" --steps 2 --val "$T/lambda.fa" "$T/lambda.fa" "$T/ecoli.fa"
tr ACGT TGCA <"$T/lambda.seq" | rev | fold -w 60 | { echo ">copy"; cat; } >"$T/lambda_rc.fa"
expect_error 1 "records '$lambda_id' and 'copy' hold the same bases (one the reverse complement of the other) but are in classes 'lambda' and 'phage': the labels contradict each other" \
	"$GF" train -q --dry-run -o "$T/x.gfm" "${CLS[@]}" --class phage="$T/lambda_rc.fa" "${M[@]}" "$T/lambda.fa" "$T/ecoli.fa" "$T/lambda_rc.fa"
# F20: a class with no usable data (records shorter than k)
printf '>tiny\nACG\n' >"$T/tiny.fa"
expect_error 1 "class 'tiny' has no training data: its records are shorter than k=4 or all held out for validation" \
	"$GF" train -q --dry-run -o "$T/x.gfm" "${CLS[@]}" --class tiny="$T/tiny.fa" "${M[@]}" "$T/lambda.fa" "$T/ecoli.fa" "$T/tiny.fa"
ls "$T"/x.* >/dev/null 2>&1 && fail "refused runs left files: $(ls "$T"/x.*)"

# an output path that cannot be written: exit 1 before training, nothing left
expect_error 1 "$T/no/m.gfm: cannot create" "$GF" train -q -o "$T/no/m.gfm" "${CLS[@]}" "${M[@]}" --steps 2
[ -e "$T/no" ] && fail "an unwritable output left $(ls -R "$T/no")"
# --dry-run checks everything up to the data and writes nothing
expect_status 0 "$GF" train -o "$T/dry.gfm" "${CLS[@]}" "${M[@]}" --dry-run
grep -q "dry run: the options, memory, inputs and labels are fine" "$T/err" || fail "--dry-run: $(cat "$T/err")"
ls "$T" | grep -q '^dry' && fail "--dry-run wrote $(ls "$T" | grep '^dry')"
expect_error 1 "dash.fa" "$GF" train -q -o "$T/dry.gfm" "${CLS[@]}" "${M[@]}" --dry-run tests/data/bad/dash.fa
# warm-up not well below the steps: a warning naming both
expect_status 0 "$GF" train -o "$T/w.gfm" "${CLS[@]}" "${M[@]}" --steps 20 --warmup 5
grep -q 'warning: --warmup 5 is 25% of the 20 steps: the learning rate hardly reaches --lr; keep it within a tenth of the steps (--warmup 2)' "$T/err" ||
	fail "no warm-up warning: $(cat "$T/err")"
expect_status 0 "$GF" train -o "$T/w.gfm" "${CLS[@]}" "${M[@]}" --steps 20 --warmup 2
grep -q 'warning: --warmup' "$T/err" && fail "warm-up warning at a tenth of the steps: $(cat "$T/err")"
exit 0
