# Preemption: SIGTERM or SIGUSR1 during training saves a checkpoint at the
# next step boundary and exits 75 (EX_TEMPFAIL); --resume auto then reaches
# the very parameters of an uninterrupted run (bit for bit). SIGKILL at
# random moments, with a checkpoint written every step, never leaves a
# checkpoint that does not load, and resuming after the kills still ends at
# the uninterrupted run's parameters.
set -u
C=data/cache
[ -f $C/lambda/lambda_virus.fa ] && [ -f $C/ecoli/MG1655-K12.fasta ] || fail "no example data: run data/fetch-examples.sh"
"$GF" train -h >/dev/null 2>&1 || skip "needs the train command"
cp $C/lambda/lambda_virus.fa "$T/lambda.fa"
samtools faidx $C/ecoli/MG1655-K12.fasta "$(cut -f1 $C/ecoli/MG1655-K12.fasta.fai | head -1)":1-50000 >"$T/ecoli.fa" ||
	fail "samtools faidx failed"
# 60 steps of a tiny model: a few seconds on one thread
TR=(train -q --class lambda="$T/lambda.fa" --class ecoli="$T/ecoli.fa" -k 4 -L 128 --layers 2 --d-model 32
	--heads 2 --d-ff 64 --chunk 32 --warmup 5 --lr 3e-3 -t 1 --device cpu --steps 60 --val-every 1000 --seed 5)

# the tensor section of a .gfm file (after the header records, which hold
# the command line and date): records_len is the u64 at byte 48
tensors() { tail -c +$((56 + $(od -An -tu8 -j48 -N8 "$1" | tr -d ' ') + 4 + 1)) "$1"; }
same_tensors() { cmp -s <(tensors "$1") <(tensors "$2") || fail "$1 and $2 hold different tensors"; }
# step_of CKPT: the training step stored in a checkpoint (u64 at byte 32)
step_of() { od -An -tu8 -j32 -N8 "$1" | tr -d ' '; }

"$GF" "${TR[@]}" -o "$T/u.gfm" || fail "the uninterrupted run failed"

# wait_ckpt FILE STEP: until FILE is a checkpoint past STEP (the run is under way)
wait_ckpt() {
	local i
	for i in $(seq 400); do [ -s "$1" ] && [ "$(step_of "$1")" -gt "$2" ] && return 0; sleep 0.025; done
	fail "no checkpoint $1 past step $2 after 10 s"
}

# SIGTERM, then SIGUSR1 on the resumed run: each stops with 75 and a
# checkpoint at a step before the end; the last resume finishes
s=0
for sig in TERM USR1; do
	"$GF" "${TR[@]}" -o "$T/p.gfm" --save-every 5 --resume auto 2>"$T/err" &
	pid=$!
	wait_ckpt "$T/p.gfm.ckpt" "$s"
	kill -s $sig $pid
	wait $pid
	st=$?
	[ "$st" = 75 ] || fail "SIG$sig: exit status $st, want 75: $(cat "$T/err")"
	s=$(step_of "$T/p.gfm.ckpt")
	[ "$s" -gt 0 ] && [ "$s" -lt 60 ] || fail "SIG$sig: checkpoint at step $s, want one inside the run"
	[ -e "$T/p.gfm" ] && fail "SIG$sig: a stopped run wrote the final model"
	echo "SIG$sig: stopped at step $s"
done
expect_status 0 "$GF" "${TR[@]}" -o "$T/p.gfm" --save-every 5 --resume auto
same_tensors "$T/p.gfm" "$T/u.gfm"

# SIGKILL at random moments while a checkpoint is written every step
for i in 1 2 3 4 5; do
	"$GF" "${TR[@]}" -o "$T/k.gfm" --save-every 1 --resume auto 2>/dev/null &
	pid=$!
	[ -s "$T/k.gfm.ckpt" ] || wait_ckpt "$T/k.gfm.ckpt" 0
	sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
	"$GF" info "$T/k.gfm.ckpt" >/dev/null 2>"$T/err" || fail "after SIGKILL $i the checkpoint does not load: $(cat "$T/err")"
	echo "SIGKILL $i: checkpoint at step $(step_of "$T/k.gfm.ckpt") loads"
done
expect_status 0 "$GF" "${TR[@]}" -o "$T/k.gfm" --save-every 1 --resume auto
same_tensors "$T/k.gfm" "$T/u.gfm"
exit 0
