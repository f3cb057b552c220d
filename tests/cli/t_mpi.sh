# Data-parallel training under MPI (needs the binary built with MPI: `make
# check-mpi` builds ./genoformer-mpi; skipped otherwise). Two ranks with
# --batch 2 give the parameters of one process with --batch 4 (same seed,
# --dropout 0: dropout masks are keyed by a row's place in its rank's batch)
# within 1e-5, also with gradient accumulation; only rank 0 logs and writes;
# SIGUSR1 to mpirun stops both ranks at one step with exit 75 and resuming
# reaches the uninterrupted 2-rank run; a failure on one rank stops all.
set -u
MPIGF=${GF_MPI:-}
if [ -z "$MPIGF" ]; then
	for c in "$GF" ./genoformer-mpi; do
		[ -x "$c" ] && ldd "$c" 2>/dev/null | grep -q libmpi && { MPIGF=$c; break; }
	done
fi
[ -n "$MPIGF" ] || skip "binary built without MPI ('make check-mpi' builds ./genoformer-mpi; needs libopenmpi-dev)"
command -v mpirun >/dev/null || skip "no mpirun (openmpi-bin)"
"$MPIGF" train -h >/dev/null 2>&1 || skip "needs the train command"
C=data/cache
[ -f $C/lambda/lambda_virus.fa ] && [ -f $C/ecoli/MG1655-K12.fasta ] || fail "no example data: run data/fetch-examples.sh"
cp $C/lambda/lambda_virus.fa "$T/lambda.fa"
samtools faidx $C/ecoli/MG1655-K12.fasta "$(cut -f1 $C/ecoli/MG1655-K12.fasta.fai | head -1)":1-50000 >"$T/ecoli.fa" ||
	fail "samtools faidx failed"
MPIRUN=(timeout 120 mpirun --oversubscribe -np 2)
[ "$(id -u)" = 0 ] && MPIRUN+=(--allow-run-as-root)
TR=(train --class lambda="$T/lambda.fa" --class ecoli="$T/ecoli.fa" -k 4 -L 128 --layers 2 --d-model 32 --heads 2
	--d-ff 64 --chunk 32 --warmup 5 --lr 1e-3 -t 1 --device cpu --dropout 0 --seed 3 --val-every 4 --log-every 2)
same_params() { /usr/bin/python3 tests/cli/gfm_compare.py "$1" "$2" "$3" >&2 || fail "$1 and $2: parameters differ beyond $3"; }
tensors() { tail -c +$((56 + $(od -An -tu8 -j48 -N8 "$1" | tr -d ' ') + 4 + 1)) "$1"; }

# one process, global batch 4 / two ranks of 2, with and without --accum
# (summation order differs, so the parameters agree to rounding: Adam turns
# gradient rounding into parameter differences of about lr x 1e-3)
expect_status 0 "$MPIGF" "${TR[@]}" -o "$T/one.gfm" --batch 4 --steps 8
expect_status 0 "${MPIRUN[@]}" "$MPIGF" "${TR[@]}" -o "$T/two.gfm" --batch 2 --steps 8
grep -q 'data parallel: 2 ranks of 2 windows per micro-batch' "$T/err" || fail "no data-parallel line: $(cat "$T/err")"
same_params "$T/one.gfm" "$T/two.gfm" 1e-5
cmp -s <(tensors "$T/one.gfm") <(tensors "$T/two.gfm") && echo "(bit-identical)"
expect_status 0 "$MPIGF" "${TR[@]}" -o "$T/one-a.gfm" --batch 4 --accum 2 --steps 6
expect_status 0 "${MPIRUN[@]}" "$MPIGF" "${TR[@]}" -o "$T/two-a.gfm" --batch 2 --accum 2 --steps 6
same_params "$T/one-a.gfm" "$T/two-a.gfm" 1e-5

# rank 0 alone speaks and writes: one model line, one summary, metrics rows once
[ "$(grep -c '^\[train\] model: ' "$T/err")" = 1 ] || fail "log lines repeated by ranks: $(cat "$T/err")"
[ "$(cut -f1 "$T/two-a.metrics.tsv" | tr '\n' ' ')" = "step 2 4 6 " ] || fail "metrics: $(cat "$T/two-a.metrics.tsv")"

# SIGUSR1 to mpirun reaches both ranks: checkpoint, exit 75; --resume auto
# on 2 ranks then ends where the uninterrupted 2-rank run did
# (no timeout(1) around this one: it would not pass USR1 on)
"${MPIRUN[@]:2}" "$MPIGF" "${TR[@]}" -q -o "$T/p.gfm" --batch 2 --steps 40 --save-every 2 2>"$T/err" &
pid=$!
for i in $(seq 400); do [ -s "$T/p.gfm.ckpt" ] && break; sleep 0.025; done
kill -USR1 $pid
wait $pid
st=$?
[ "$st" = 75 ] || fail "mpirun after SIGUSR1: exit status $st, want 75: $(cat "$T/err")"
[ -e "$T/p.gfm" ] && fail "a stopped run wrote the final model"
expect_status 0 "${MPIRUN[@]}" "$MPIGF" "${TR[@]}" -q -o "$T/p.gfm" --batch 2 --steps 40 --save-every 2 --resume auto
expect_status 0 "${MPIRUN[@]}" "$MPIGF" "${TR[@]}" -q -o "$T/u.gfm" --batch 2 --steps 40
cmp -s <(tensors "$T/p.gfm") <(tensors "$T/u.gfm") || fail "resumed 2-rank run differs from the uninterrupted one"

# an output that cannot be written (a folder where the metrics go) stops
# both ranks before any step, with the error, instead of leaving one waiting
mkdir "$T/bad.metrics.tsv"
expect_status 1 "${MPIRUN[@]}" "$MPIGF" "${TR[@]}" -q -o "$T/bad.gfm" --batch 2 --steps 4
grep -q "error: $T/bad.metrics.tsv: cannot write: Is a directory" "$T/err" || fail "no error: $(cat "$T/err")"
exit 0
