#!/usr/bin/env bash
# `make test-hpc`: the SLURM scripts end to end on a real single-node SLURM
# started here (tests/hpc/slurm.sh; root, Debian's munge, slurmctld, slurmd):
#  1. scripts/slurm/train-mpi.sbatch trains on 2 MPI ranks; USR1 to its batch
#     shell (what --signal=B:USR1@120 sends before a time limit) makes it save,
#     exit 75 and requeue itself; the second run resumes (--resume auto) and
#     ends with the parameters of an uninterrupted 2-rank run, bit for bit.
#     SIGTERM (scancel) ends a training job for good: saved, not requeued.
#  2. scripts/slurm/classify-array.sbatch classifies with that model as a
#     3-task stepped array (0-4:2); scripts/slurm/merge gives the unsharded
#     table and report byte for byte; one task resubmitted alone
#     (--array=2) rewrites only its own shard.
#  3. the GPU scripts' dry runs (GF_DRY_RUN=1) on the node's 2 fake GPUs
#     (tests/hpc/slurm.sh): train-gpu.sbatch's 2 ranks see both GPUs and take
#     cuda:0 and cuda:1 with train-mpi.sbatch's command line plus --device
#     cuda; classify-gpu.sbatch's 2 tasks get one GPU each and cuda:0 there,
#     with --device cuda --batch 256 and their shard.
#  0. srun --mpi=pmix launches the dist suite on 2 ranks (real collectives).
# GF: the MPI binary [./genoformer-mpi]. Keeps its folder on failure.
set -u
cd "$(dirname "$0")/../.." || exit 2
GF=$(readlink -f "${GF:-./genoformer-mpi}")
. tests/hpc/slurm.sh

say() { echo "[test-hpc] $*"; }
fail() { say "FAIL: $*"; say "logs and files kept in $D"; slurm_stop; exit 1; }
[ "$(id -u)" = 0 ] || { say "needs root (it starts munged, slurmctld and slurmd)"; exit 1; }
ldd "$GF" 2>/dev/null | grep -q libmpi || { say "$GF is not an MPI build: make check-mpi"; exit 1; }
for t in munged slurmctld slurmd sbatch mpirun; do
	command -v $t >/dev/null || { say "needs $t: make test-hpc installs it"; exit 1; }
done
C=data/cache
[ -f $C/lambda/lambda_virus.fa ] && [ -f $C/ecoli/MG1655-K12.fasta ] || { say "no example data: run data/fetch-examples.sh"; exit 1; }
start=$(date +%s)

D=$(mktemp -d /tmp/gf-hpc.XXXXXX)
chmod 755 "$D"
slurm_start "$D/slurm" || fail "SLURM did not start"
trap 'slurm_stop' EXIT
say "SLURM up: $(sinfo -h -o '%P %D %c %t')"
CK_FORK=no srun --mpi=pmix -n 2 --mem=200M build-mpi/tests/test_dist >"$D/srun.log" 2>&1 ||
	fail "srun --mpi=pmix: $(cat "$D/srun.log")"
say "srun --mpi=pmix: dist suite passed on 2 ranks"

cp $C/lambda/lambda_virus.fa "$D/lambda.fa"
samtools faidx $C/ecoli/MG1655-K12.fasta "$(cut -f1 $C/ecoli/MG1655-K12.fasta.fai | head -1)":1-50000 >"$D/ecoli.fa"
TR=(--class lambda="$D/lambda.fa" --class ecoli="$D/ecoli.fa" -k 4 -L 128 --layers 2 --d-model 32 --heads 2
	--d-ff 64 --chunk 32 --warmup 5 --lr 3e-3 --dropout 0 --seed 9 --batch 2 --steps 60 --save-every 5 --val-every 1000)
export GF OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# job_state ID: COMPLETED, RUNNING, PENDING, ...
job_state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -1; }
step_of() { od -An -tu8 -j32 -N8 "$1" | tr -d ' '; }
tensors() { tail -c +$((56 + $(od -An -tu8 -j48 -N8 "$1" | tr -d ' ') + 4 + 1)) "$1"; }

# ---- 1. MPI training, preempted and requeued ------------------------------
cd "$D" || exit 1
job=$(sbatch --parsable --ntasks=2 --cpus-per-task=1 --mem=1G --time=10 -o "$D/train_%j.log" \
	"$OLDPWD/scripts/slurm/train-mpi.sbatch" -o "$D/m.gfm" "${TR[@]}") || fail "sbatch train-mpi failed"
say "train-mpi job $job submitted"
for i in $(seq 600); do
	[ -s "$D/m.gfm.ckpt" ] && [ "$(step_of "$D/m.gfm.ckpt")" -ge 5 ] && break
	sleep 0.1
done
[ -s "$D/m.gfm.ckpt" ] || fail "no checkpoint after 60 s: $(cat "$D"/train_*.log)"
scancel --signal=USR1 --batch "$job" || fail "scancel --signal=USR1 failed"
say "USR1 sent to the batch shell at step $(step_of "$D/m.gfm.ckpt")"
for i in $(seq 900); do
	case $(job_state "$job") in COMPLETED) break ;; FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY) break ;; esac
	sleep 0.2
done
log=$D/train_$job.log
[ "$(job_state "$job")" = COMPLETED ] || fail "train-mpi job $job: $(job_state "$job"): $(cat "$log")"
grep -q "requeueing job $job" "$log" || fail "the job was not requeued: $(cat "$log")"
grep -q "(run 2)" "$log" || fail "no second run: $(cat "$log")"
grep -q "resuming from $D/m.gfm.ckpt at step" "$log" || fail "the second run did not resume: $(cat "$log")"
[ -s "$D/m.gfm" ] || fail "no model after the job"
say "train-mpi: preempted, requeued and resumed ($(grep -o 'resuming from .* at step [0-9]*' "$log"))"

mpirun --oversubscribe -np 2 "$GF" train -q -t 1 -o "$D/u.gfm" "${TR[@]}" || fail "the uninterrupted mpirun run failed"
cmp -s <(tensors "$D/m.gfm") <(tensors "$D/u.gfm") || fail "the requeued job's model differs from an uninterrupted run"
say "train-mpi: model equals the uninterrupted 2-rank run"

# SIGTERM (scancel) ends a training job for good: the ranks save, but the
# job is not requeued. TERM to the batch shell alone is the case the script
# decides (a plain scancel also kills the launcher under it).
job=$(sbatch --parsable --ntasks=2 --cpus-per-task=1 --mem=1G --time=10 -o "$D/cancel_%j.log" \
	"$OLDPWD/scripts/slurm/train-mpi.sbatch" -o "$D/c.gfm" "${TR[@]}") || fail "sbatch train-mpi failed"
for i in $(seq 600); do
	[ -s "$D/c.gfm.ckpt" ] && break
	sleep 0.1
done
scancel --signal=TERM --batch "$job" || fail "scancel --signal=TERM failed"
for i in $(seq 300); do
	case $(job_state "$job") in COMPLETED | FAILED | CANCELLED) break ;; esac
	sleep 0.2
done
sleep 12 # past cred_expire: a requeued job would be pending or running again
case $(job_state "$job") in COMPLETED | FAILED | CANCELLED) ;; *) fail "job $job after SIGTERM: $(job_state "$job"): $(cat "$D/cancel_$job.log")" ;; esac
grep -q "requeueing" "$D/cancel_$job.log" && fail "SIGTERM requeued the job: $(cat "$D/cancel_$job.log")"
grep -q "the job was cancelled and ends here" "$D/cancel_$job.log" || fail "no checkpoint before ending: $(cat "$D/cancel_$job.log")"
say "train-mpi: scancel ends the job for good"

# ---- 2. classification array and merge ------------------------------------
gzip -dc "$OLDPWD/$C/lambda/reads_1.fq.gz" | head -n 200 >"$D/reads.fq"
{ printf '>ctg1\n'; sed -n 2,60p "$D/lambda.fa"; printf '>ctg2\n'; sed -n 2,60p "$D/ecoli.fa"; } >"$D/ctg.fa"
sbatch --wait --array=0-4:2 --cpus-per-task=1 --mem=500M -o "$D/cls_%A_%a.log" "$OLDPWD/scripts/slurm/classify-array.sbatch" \
	"$D/m.gfm" "$D/out" "$D/reads.fq" "$D/ctg.fa" >"$D/sbatch.out" || fail "array job failed: $(cat "$D"/cls_*.log)"
arr=$(sed -n 's/Submitted batch job //p' "$D/sbatch.out")
for i in 0 2 4; do [ -s "$D/cls_${arr}_$i.log" ] || fail "no log cls_${arr}_$i.log (%A_%a names)"; done
ls "$D"/out.shard-000[012].tsv >/dev/null || fail "shard outputs: $(ls "$D")"
"$OLDPWD/scripts/slurm/merge" -o "$D/merged.tsv" --report "$D/merged.rep" "$D"/out.shard-*.tsv || fail "merge failed"
"$GF" classify -q -m "$D/m.gfm" --batch 1 -t 1 -o "$D/all.tsv" --report "$D/all.rep" "$D/reads.fq" "$D/ctg.fa" ||
	fail "unsharded classify failed"
cmp "$D/all.tsv" "$D/merged.tsv" || fail "merged table differs from the unsharded run"
cmp "$D/all.rep" "$D/merged.rep" || fail "merged report differs from the unsharded run"
say "classify-array: 3 tasks merged = unsharded ($(($(wc -l <"$D/all.tsv") - 1)) records), table and report"
# task 2 (shard 1) resubmitted alone: shard 1/3 again, the others untouched
touch -d '1 hour ago' "$D/out.shard-0000.tsv" "$D/out.shard-0002.tsv"
rm "$D/out.shard-0001.tsv"
sbatch --wait --array=2 --cpus-per-task=1 --mem=500M -o "$D/re_%A_%a.log" "$OLDPWD/scripts/slurm/classify-array.sbatch" \
	"$D/m.gfm" "$D/out" "$D/reads.fq" "$D/ctg.fa" >/dev/null || fail "resubmitted task failed: $(cat "$D"/re_*.log)"
grep -q "shard 1/3" "$D"/re_*.log || fail "the resubmitted task is not shard 1/3: $(cat "$D"/re_*.log)"
[ -n "$(find "$D" -name out.shard-0000.tsv -mmin +30)" ] && [ -n "$(find "$D" -name out.shard-0002.tsv -mmin +30)" ] ||
	fail "the resubmitted task rewrote another shard"
"$OLDPWD/scripts/slurm/merge" -o "$D/merged2.tsv" "$D"/out.shard-*.tsv && cmp -s "$D/all.tsv" "$D/merged2.tsv" ||
	fail "merge after the resubmission differs"
say "classify-array: a resubmitted task rewrites only its shard"

# ---- 3. GPU scripts: dry runs on 2 fake GPUs -------------------------------
GF_DRY_RUN=1 sbatch --wait --ntasks=2 --ntasks-per-node=2 --cpus-per-task=1 --gres=gpu:2 --mem=200M --time=5 \
	-o "$D/tgpu_%j.log" "$OLDPWD/scripts/slurm/train-gpu.sbatch" -o "$D/g.gfm" --labels x.tsv g.fa >"$D/sbatch.out" ||
	fail "train-gpu dry run failed: $(cat "$D"/tgpu_*.log)"
log=$(ls "$D"/tgpu_*.log)
grep -q '^\[train-gpu\] 2 ranks, 2 per node, 2 GPUs per node' "$log" || fail "train-gpu: no allocation line: $(cat "$log")"
for r in 0 1; do
	grep -q "^\[gpu-plan\] rank $r (local $r) on .*: CUDA_VISIBLE_DEVICES=0,1 -> cuda:$r; would run: genoformer train .*--device cuda -o $D/g.gfm --labels x.tsv g.fa\$" "$log" ||
		fail "train-gpu: rank $r's plan: $(cat "$log")"
done
say "train-gpu: 2 ranks on 2 GPUs take cuda:0 and cuda:1"
GF_DRY_RUN=1 sbatch --wait --array=0-1 --cpus-per-task=1 --mem=200M -o "$D/cgpu_%A_%a.log" \
	"$OLDPWD/scripts/slurm/classify-gpu.sbatch" "$D/m.gfm" "$D/gout" "$D/reads.fq" >"$D/sbatch.out" ||
	fail "classify-gpu dry run failed: $(cat "$D"/cgpu_*.log)"
for i in 0 1; do
	f=$(ls "$D"/cgpu_*_$i.log)
	grep -q "^\[gpu-plan\] rank 0 (local 0) on .*: CUDA_VISIBLE_DEVICES=[01] -> cuda:0; would run: genoformer classify .*--shard $i/2 .*--device cuda --batch 256 $D/reads.fq\$" "$f" ||
		fail "classify-gpu task $i: $(cat "$f")"
done
say "classify-gpu: 2 tasks of one GPU each, --device cuda --batch 256"

cd "$OLDPWD" || exit 1
slurm_stop
trap - EXIT
rm -rf "$D"
say "passed in $(($(date +%s) - start)) s"
