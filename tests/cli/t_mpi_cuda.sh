# Data-parallel training with CUDA ranks (needs a GPU and the binary built
# with CUDA=1 MPI=1, e.g. `make CUDA=1 MPI=1 BIN=genoformer-cuda-mpi`;
# skipped otherwise, so it runs only on a GPU machine: scripts/device/
# gpu-ranks.sh). Two ranks sharing one GPU (--device cuda: local rank mod
# visible GPUs, so both take GPU 0, each in its own CUDA context) with
# --batch 2 give the parameters of one process with --batch 4 within 1e-4:
# ten times the CPU test's 1e-5, because cuBLAS picks its kernels by shape,
# so the batch-2 and batch-4 products round differently. --device cuda:N
# names a device and a missing one is refused with the visible range.
set -u
MPIGF=${GF_MPI:-}
if [ -z "$MPIGF" ]; then
	for c in "$GF" ./genoformer-cuda-mpi; do
		[ -x "$c" ] && ldd "$c" 2>/dev/null | grep -q libmpi && ldd "$c" | grep -q libcudart && { MPIGF=$c; break; }
	done
fi
[ -n "$MPIGF" ] || skip "no binary built with CUDA=1 MPI=1 ('make CUDA=1 MPI=1 BIN=genoformer-cuda-mpi')"
command -v mpirun >/dev/null || skip "no mpirun (openmpi-bin)"
nvidia-smi -L >/dev/null 2>&1 || skip "no GPU here (nvidia-smi -L fails)"
C=data/cache
[ -f $C/lambda/lambda_virus.fa ] && [ -f $C/ecoli/MG1655-K12.fasta ] || fail "no example data: run data/fetch-examples.sh"
cp $C/lambda/lambda_virus.fa "$T/lambda.fa"
# the first 50 kbp of E. coli without samtools (not on every GPU machine)
{ echo ">ecoli"; grep -v '^>' $C/ecoli/MG1655-K12.fasta | head -n 715; } >"$T/ecoli.fa"
MPIRUN=(timeout 300 mpirun --oversubscribe -np 2)
[ "$(id -u)" = 0 ] && MPIRUN+=(--allow-run-as-root)
TR=(train --class lambda="$T/lambda.fa" --class ecoli="$T/ecoli.fa" -k 4 -L 128 --layers 2 --d-model 32 --heads 2
	--d-ff 64 --chunk 32 --warmup 5 --lr 1e-3 -t 1 --dropout 0 --seed 3 --val-every 4 --log-every 2 --steps 8)
same_params() { ${PYTHON:-python3} tests/cli/gfm_compare.py "$1" "$2" "$3" >&2 || fail "$1 and $2: parameters differ beyond $3"; }

expect_status 0 "$MPIGF" "${TR[@]}" --device cuda -o "$T/one.gfm" --batch 4
grep -q '^\[train\] cuda: device 0, .*(sm_[0-9]*,.*), \(machine code sm_\|PTX compute_\)' "$T/err" ||
	fail "no device line: $(cat "$T/err")"
grep '^\[train\] cuda: ' "$T/err" >&2
expect_status 0 "${MPIRUN[@]}" "$MPIGF" "${TR[@]}" --device cuda -o "$T/two.gfm" --batch 2
grep -q 'data parallel: 2 ranks of 2 windows per micro-batch' "$T/err" || fail "no data-parallel line: $(cat "$T/err")"
grep -q '^\[train\] cuda: device 0, ' "$T/err" || fail "rank 0 did not run on GPU 0: $(cat "$T/err")"
grep 'all-reduce of' "$T/err" >&2
same_params "$T/one.gfm" "$T/two.gfm" 1e-4

# an explicit device: both ranks on cuda:0 give the same model again
expect_status 0 "${MPIRUN[@]}" "$MPIGF" "${TR[@]}" --device cuda:0 -o "$T/two0.gfm" --batch 2
same_params "$T/two.gfm" "$T/two0.gfm" 1e-6
n=$(nvidia-smi -L | grep -c '^GPU ')
[ "$n" = 1 ] && s="" || s=s
expect_error 1 "cuda:$n: this machine has $n CUDA device$s (cuda:0..cuda:$((n - 1)))" \
	"$MPIGF" "${TR[@]}" --device "cuda:$n" -o "$T/x.gfm" --batch 2
exit 0
