# Training's files (issue 11: F2 F6 F7 F15): an output that is an input is
# refused before any work; a planted link at the metrics or checkpoint
# name is refused, its target intact; a second run on the same -o stops at
# once while the first holds MODEL.gfm.lock; the model is written before
# the checkpoint, so it exists when only it fits.
set -u
S=data/samples
cp $S/small.fa "$T/a.fa" && cp $S/small.fq "$T/b.fq"
printf 'lambda_head\tA\nlambda_soft\tB\ngi|9626243|ref|NC_001416.1|tail\tA\n' >"$T/l.tsv"
A=(-k 3 -L 64 --layers 1 --d-model 16 --heads 2 --d-ff 32 --chunk 16 --batch 2 --val-every 1000 -t 1)
CLS=(--class A="$T/a.fa" --class B="$T/b.fq")
sums() { cksum "$T/a.fa" "$T/b.fq" "$T/l.tsv"; }
before=$(sums)

# F2: outputs that are inputs
expect_error 1 "[train] error: $T/a.fa: output is the same file as input $T/a.fa; refusing to overwrite it" \
	"$GF" train -q -o "$T/a.fa" "${CLS[@]}" "${A[@]}" --steps 2 "$T/a.fa" "$T/b.fq"
expect_error 1 "[train] error: $T/l.tsv: output is the same file as input $T/l.tsv; refusing to overwrite it" \
	"$GF" train -q -o "$T/l.tsv" --labels "$T/l.tsv" "${A[@]}" --steps 2 "$T/a.fa"
expect_error 1 "[train] error: $T/l.tsv: output is the same file as input $T/l.tsv" \
	"$GF" train -q --dry-run -o "$T/l.tsv" --labels "$T/l.tsv" "${A[@]}" "$T/a.fa"
expect_status 0 "$GF" train -q -o "$T/m.gfm" "${CLS[@]}" "${A[@]}" --steps 2 "$T/a.fa" "$T/b.fq"
cp "$T/m.gfm" "$T/init.gfm"
expect_error 1 "[train] error: $T/init.gfm: output is the same file as input $T/init.gfm; refusing to overwrite it" \
	"$GF" train -q --init "$T/init.gfm" -o "$T/init.gfm" "${CLS[@]}" "${A[@]}" --steps 2 "$T/a.fa" "$T/b.fq"
# the metrics TSV beside the model would be an input
cp "$T/a.fa" "$T/x.metrics.tsv"
expect_error 1 "[train] error: $T/x.metrics.tsv: output is the same file as input $T/x.metrics.tsv" \
	"$GF" train -q -o "$T/x.gfm" --class A="$T/x.metrics.tsv" --class B="$T/b.fq" "${A[@]}" --steps 2 "$T/x.metrics.tsv" "$T/b.fq"
cmp -s "$T/x.metrics.tsv" "$T/a.fa" || fail "the input named like the metrics was changed"
[ "$(sums)" = "$before" ] || fail "an input was changed"

# F15: planted links at the names training derives are refused
printf 'precious\n' >"$T/victim"
ln -s "$T/victim" "$T/p.metrics.tsv"
expect_error 1 "[train] error: $T/p.metrics.tsv: is a symbolic link; genoformer does not follow links for the files it names itself" \
	"$GF" train -q -o "$T/p.gfm" "${CLS[@]}" "${A[@]}" --steps 2 "$T/a.fa" "$T/b.fq"
ln -s "$T/victim" "$T/q.gfm.ckpt"
expect_error 1 "[train] error: $T/q.gfm.ckpt: is a symbolic link; genoformer does not follow links for the files it names itself" \
	"$GF" train -q -o "$T/q.gfm" "${CLS[@]}" "${A[@]}" --steps 2 "$T/a.fa" "$T/b.fq"
[ "$(cat "$T/victim")" = precious ] || fail "a planted link's target was overwritten"

# F6: one run at a time per -o
"$GF" train -q -o "$T/l1.gfm" "${CLS[@]}" "${A[@]}" --steps 1000000 --save-every 0 "$T/a.fa" "$T/b.fq" 2>"$T/l1.err" &
pid=$!
for _ in $(seq 300); do [ -s "$T/l1.gfm.lock" ] && break; sleep 0.1; done
expect_error 1 "[train] error: $T/l1.gfm: another run (pid $pid on $(hostname)) is writing it (it holds $T/l1.gfm.lock); wait for it to end or choose another -o" \
	"$GF" train -q -o "$T/l1.gfm" "${CLS[@]}" "${A[@]}" --steps 2 "$T/a.fa" "$T/b.fq"
kill -TERM $pid
wait $pid
[ $? = 75 ] || fail "the first run did not stop with a checkpoint: $(cat "$T/l1.err")"
[ ! -e "$T/l1.gfm.lock" ] || fail "the lock was left behind"
expect_status 0 "$GF" train -q -o "$T/l1.gfm" "${CLS[@]}" "${A[@]}" --steps 2 "$T/a.fa" "$T/b.fq"

# F7: the model first: with room for the model but not the checkpoint
# (three times its size), the model is written and loads
model=$(stat -c %s "$T/m.gfm")
limit=$(((model + 4096) / 1024 + 1))
expect_status 1 bash -c "trap '' XFSZ; ulimit -f $limit; exec \"\$0\" train -q -o \"\$1/f.gfm\" --class A=\"\$1/a.fa\" --class B=\"\$1/b.fq\" ${A[*]} --steps 2 --save-every 0 \"\$1/a.fa\" \"\$1/b.fq\"" "$GF" "$T"
grep -q "f.gfm.ckpt: write failed: File too large" "$T/err" || fail "want the checkpoint to fail: $(cat "$T/err")"
[ -s "$T/f.gfm" ] || fail "the model was not written before the checkpoint: $(ls "$T")"
expect_status 0 "$GF" classify -q -m "$T/f.gfm" "$T/a.fa"
ls -a "$T" | grep -q '\.tmp\.' && fail "temporaries left: $(ls -a "$T" | grep '\.tmp\.')"
# F19: --init from another architecture: refused unless --init-partial,
# which names what it copied
expect_status 0 "$GF" pretrain -q -o "$T/base.gfm" "${A[@]}" --steps 2 "$T/a.fa"
expect_error 1 "[train] error: --init $T/base.gfm: only 16 of 27 body tensors match (tensor 'layers.1.ln1.w' is missing): another architecture? --init-partial copies the ones that match" \
	"$GF" train -q --init "$T/base.gfm" -o "$T/i.gfm" "${CLS[@]}" "${A[@]}" --layers 2 --steps 2 "$T/a.fa" "$T/b.fq"
expect_status 0 "$GF" train --init "$T/base.gfm" --init-partial -o "$T/i.gfm" "${CLS[@]}" "${A[@]}" --layers 2 --steps 2 "$T/a.fa" "$T/b.fq"
grep -q "copied 16 of 27 body tensors: tok_emb, pos1, pos2, layers.0.ln1.w" "$T/err" || fail "--init-partial does not name what it copied: $(cat "$T/err")"
expect_error 2 "--init-partial needs --init" "$GF" train -q --init-partial -o "$T/i.gfm" "${CLS[@]}" "${A[@]}" "$T/a.fa" "$T/b.fq"
echo ok
