#!/bin/bash
# On a machine with an NVIDIA GPU: the checks of the GPU path on clusters
# that need a GPU (docs/clusters.md, "GPUs"), in about 5 minutes:
#  1. the fat binary: cuobjdump and tests/cuda/fatbin_archs list the same
#     targets; the start-up line names the card, the code that runs and the
#     math path (fp32, or TF32 with GF_CUDA_TF32=1)
#  2. test_cuda_ops built for sm_75 alone: on this newer GPU its PTX
#     compute_75 is compiled at start-up, so the device code made for GPUs
#     without TF32 tensor cores runs here against the CPU backend
#  3. memory planned on the GPU: train, classify, embed and eval refuse what
#     does not fit the card's free memory (cudaMemGetInfo, or less with
#     GF_MEMORY_LIMIT) naming the largest window or batch; that batch then
#     runs, and the process's GPU memory (nvidia-smi) is recorded beside the
#     plan; --dry-run reports the plan
#  4. 2 MPI ranks sharing the GPU give the model of 1 process (tests/cli/
#     t_mpi_cuda.sh); --device cuda:N names a device
#  5. benchmark: training and inference tokens/s of the fat binary against
#     the sm_90-only build (alternating, 2 runs each), and the 2-rank run's
#     step time and all-reduce share (scripts/bench/mpi.sh, DEVICE=cuda)
#  6. the parity suites of the fat build, when time is left
# Prepared on the machine without a GPU by scripts/device/prepare-cluster.sh
# (builds, libraries, OpenMPI's runtime and data in .device/cluster), then:
#   run(command="scripts/device/cluster-check.sh", carry=[".device/cluster"], timeout_s=600)
# Results go to $OUT: cluster-check.log (everything), fatbin.tsv, memory.tsv,
# bench-fatbin.tsv, bench-mpi-cuda.tsv. Exit 1 when a check failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
D=.device/cluster
OUT=${OUT:-/tmp/cluster-check}
mkdir -p "$OUT"
exec > >(tee "$OUT/cluster-check.log") 2>&1
T=$(mktemp -d)
status=0
step() { echo; echo "== $* ($(date +%T))"; }
fail() { echo "[cluster-check] FAILED: $*"; status=1; }
[ -x $D/bin/genoformer ] || { echo "[cluster-check] no $D: run scripts/device/prepare-cluster.sh first"; exit 2; }

# the libraries and OpenMPI's runtime this machine lacks; data/cache (a link here) from the carried copy
tar -C "$T" -xzf $D/lib.tar.gz
for f in $D/mpi/*.deb; do dpkg-deb -x "$f" "$T/mpi"; done
M=$T/mpi/usr
export OPAL_PREFIX=$M PMIX_INSTALL_PREFIX=$M/lib/x86_64-linux-gnu/pmix2 PATH=$M/bin:/usr/local/cuda/bin:$PATH
export LD_LIBRARY_PATH=$T/lib:$M/lib/x86_64-linux-gnu:$M/lib/x86_64-linux-gnu/openmpi/lib:/usr/local/cuda/lib64
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_plm_rsh_agent=
ln -sf orterun "$M/bin/mpirun"
[ -e data/cache/.complete-v1 ] || { rm -f data/cache && ln -s "$PWD/$D/cache" data/cache; }
GF=$D/bin/genoformer
export GF CK_DEFAULT_TIMEOUT=600

step "1. the fat binary on $(nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version --format=csv,noheader)"
$D/bin/fatbin_archs "$GF" | tee "$OUT/fatbin.tsv"
ours=$($D/bin/fatbin_archs "$GF" | head -1 | cut -d: -f2 | tr ' ' '\n' | sed 's/compute_/ptx /; s/sm_/elf /' | grep . | sort | tr '\n' ' ')
if command -v cuobjdump >/dev/null; then
	theirs=$( { cuobjdump --list-elf "$GF" | sed -n 's/.*\.sm_\([0-9]*\)\..*/elf \1/p'
		cuobjdump --list-ptx "$GF" | sed -n 's/.*\.sm_\([0-9]*\)\..*/ptx \1/p'; } | sort -u | tr '\n' ' ')
	echo "fatbin_archs: $ours"
	echo "cuobjdump:    $theirs"
	[ "$ours" = "$theirs" ] || fail "fatbin_archs and cuobjdump disagree"
fi
$GF classify -m data/models/example.gfm --device cuda -o "$T/c.tsv" data/examples/contigs.fa.gz 2>"$T/err" || fail "classify"
grep '\[classify\] cuda: ' "$T/err" || fail "no start-up line: $(cat "$T/err")"
grep -q 'machine code sm_.*; matmuls and attention: fp32' "$T/err" || fail "start-up line: machine code and fp32 expected"
GF_CUDA_TF32=1 $GF classify -m data/models/example.gfm --device cuda -o "$T/c.tsv" data/examples/contigs.fa.gz 2>"$T/err"
grep '\[classify\] cuda: ' "$T/err"
grep -q 'TF32 tensor cores' "$T/err" || fail "GF_CUDA_TF32=1 did not select TF32 on this GPU"

step "2. test_cuda_ops built for sm_75 alone: PTX compute_75 compiled here (the fp32 device path)"
s=$(date +%s)
timeout 200 $D/bin/test_cuda_ops-sm75 || fail "test_cuda_ops built for sm_75"
echo "[cluster-check] sm_75 build: $(($(date +%s) - s)) s including the PTX compilation"

step "3. memory planned on the GPU"
# peak_mib CMD...: runs CMD while sampling nvidia-smi; prints the largest memory.used in MiB
peak_mib() {
	"$@" >/dev/null &
	local pid=$! peak=0 u
	while kill -0 $pid 2>/dev/null; do
		u=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1)
		[ "${u:-0}" -gt "$peak" ] && peak=$u
		sleep 0.05
	done
	wait $pid || return 1
	echo "$peak"
}
base=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1)
L=(--labels data/examples/truth.tsv data/examples/contigs.fa.gz)
printf 'command\tlimit\trefusal\tnamed\tgpu_peak_mib\n' >"$OUT/memory.tsv"
$GF train --dry-run --device cuda -o "$T/x.gfm" "${L[@]}" -L 1048576 --batch 256 2>"$T/err"
rc=$?
cat "$T/err"
[ $rc = 1 ] && grep -q 'GiB available on cuda; the largest window that fits is L=' "$T/err" ||
	fail "train: no refusal against the card's free memory (exit $rc)"
printf 'train -L 1048576 --batch 256\tcard\t%s\t\t\n' "$(tail -1 "$T/err")" >>"$OUT/memory.tsv"
$GF train --dry-run --device cuda -o "$T/x.gfm" "${L[@]}" -L 65536 --batch 4 2>&1 | grep 'memory: .* available on cuda' ||
	fail "train --dry-run: no memory plan on cuda"
# under a limit: the named batch runs in it (nvidia-smi adds the CUDA context and cuBLAS)
check_named() { # what limit CMD... (CMD with --batch last but one)
	local what=$1 limit=$2
	shift 2
	GF_MEMORY_LIMIT=$limit "$@" 2>"$T/err"
	local rc=$? b
	cat "$T/err"
	b=$(grep -o -- '--batch [0-9]*' "$T/err" | tail -1 | cut -d' ' -f2)
	[ $rc = 1 ] && grep -q "available on cuda" "$T/err" && [ -n "$b" ] || { fail "$what: no refusal naming a batch"; return; }
	local args=("$@")
	args[${#args[@]} - 1]=$b
	local peak
	peak=$(GF_MEMORY_LIMIT=$limit peak_mib "${args[@]}" 2>"$T/err2") || { fail "$what: --batch $b failed: $(tail -3 "$T/err2")"; return; }
	echo "[cluster-check] $what: --batch $b ran under GF_MEMORY_LIMIT=$limit; GPU memory used $((peak - base)) MiB above the idle $base MiB"
	# the plan leaves out the CUDA context and cuBLAS (a few hundred MiB): allow 1 GiB for them
	local cap=${limit%[MG]}
	[ "${limit: -1}" = G ] && cap=$((cap * 1024))
	[ $((peak - base)) -le $((cap + 1024)) ] || fail "$what: $((peak - base)) MiB used, above the $limit planned + 1 GiB"
	printf '%s\t%s\t%s\t--batch %s\t%s\n' "$what" "$limit" "$(tail -1 "$T/err")" "$b" "$((peak - base))" >>"$OUT/memory.tsv"
}
check_named "train -L 65536" 3G $GF train -q --device cuda -o "$T/m.gfm" "${L[@]}" -L 65536 --steps 2 --val-every 1000 --batch 64
check_named "classify" 256M $GF classify -q -m data/models/example.gfm --device cuda -o "$T/c.tsv" data/examples/contigs.fa.gz --batch 65536
check_named "embed" 256M $GF embed -q -m data/models/example.gfm --device cuda -o "$T/e.npy" data/examples/contigs.fa.gz --batch 65536
check_named "eval" 256M $GF eval -q -m data/models/example.gfm --device cuda "${L[@]}" --batch 65536

step "4. 2 MPI ranks sharing the GPU against 1 process"
GF_CLI_TESTS=tests/cli/t_mpi_cuda.sh GF_MPI=$GF PYTHON=python3 timeout 300 tests/cli/run.sh || fail t_mpi_cuda.sh

step "5. benchmark: fat binary against the sm_90-only build; 2 ranks on one GPU"
printf 'build\tmode\tL\trun\tstep_s\ttokens_per_s\tarena_peak_mib\n' >"$OUT/bench-fatbin.tsv"
for run in 1 2; do
	for b in genoformer genoformer-sm90; do
		for mode in --train --infer; do
			line=$(timeout 120 $D/bin/$b bench engine --device cuda $mode -L 65536 --steps 5 --warmup 2 | tail -1)
			echo "$b $mode: $line"
			echo "$line" | awk -v b="$b" -v r=$run -F'\t' '{ printf "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", b, $1, $3, r, $11, $12, $13 }' >>"$OUT/bench-fatbin.tsv"
		done
	done
done
awk -F'\t' 'NR > 1 { s[$1 " " $2] += $6; n[$1 " " $2]++ } END { for (k in s) printf "[bench] %s: %.0f tokens/s (mean of %d)\n", k, s[k] / n[k], n[k] }' "$OUT/bench-fatbin.tsv" | sort
DEVICE=cuda GF_MPI=$GF WINDOW=16384 BATCH=1 STEPS=30 timeout 240 scripts/bench/mpi.sh | tee "$OUT/bench-mpi-cuda.tsv" || fail "bench mpi.sh"

step "6. parity suites of the fat build (while time is left; scripts/device/gpu-check.sh runs them too)"
if [ $SECONDS -lt 400 ]; then
	timeout 100 $D/bin/test_cuda_ops || fail test_cuda_ops
	timeout 60 $D/bin/test_cuda_model || fail test_cuda_model
else
	echo "[cluster-check] skipped: $SECONDS s used"
fi

step "done in $SECONDS s"
rm -rf "$T"
[ $status = 0 ] && echo "[cluster-check] all passed" || echo "[cluster-check] some checks FAILED"
exit $status
