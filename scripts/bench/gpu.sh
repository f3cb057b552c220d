#!/usr/bin/env bash
# GPU benchmark of the Reformer (d_model 256, 4 heads, d_ff 1024, 6 layers,
# LSH with 4 hashes, chunk 64, batch 1, k = 6 tokens), one process per row:
#   genoformer --device cuda: training (forward, reversible backward, AdamW)
#     and inference tokens/s at each L, fp32 and TF32 (GF_CUDA_TF32=1);
#     memory flat in depth: 2 against 24 layers at DEPTH_L;
#   the PyTorch reference model (tests/reference/reformer_ref.py) on the same
#     GPU, and the same model with dense attention through
#     scaled_dot_product_attention (scripts/bench/torch_gpu.py), when python3
#     there has torch with CUDA;
#   cuBLAS's own sgemm/TF32 throughput (scripts/bench/cublas_peak.cu) and the
#     kernel times of one training step under ncu, with the GEMM share and
#     its achieved TFLOP/s.
# Rows, most important first, until BUDGET seconds have passed; each bounded
# by timeout, a failure or timeout is a row saying so. Results go to RES:
#   bench-gpu.tsv        impl mode math L layers steps step_s tokens_per_s
#                        alloc_peak_mib (genoformer: its device arena, which
#                        holds parameters, gradients, AdamW moments and
#                        activations; torch: max_memory_allocated)
#                        gpu_peak_mib (nvidia-smi memory.used, sampled every
#                        50 ms: the whole process, CUDA context and cuBLAS too)
#   bench-gpu-cublas.tsv, bench-gpu-kernels.txt, bench-gpu-env.txt, bench-gpu.log
# Binaries from `make CUDA=1 BIN=.device/cuda/bin/genoformer` (else ./genoformer)
# and nvcc (scripts/bench/cublas_peak.cu, else built here when nvcc is on the
# PATH); libraries from scripts/device/prepare.sh copied into .device/cuda/lib.
# On the GPU machine (docs/bench-gpu.md gives the H100 run and its commands):
#   RES=$OUT scripts/bench/gpu.sh
# Here, from a copied-back table:
#   PLOT_ONLY=1 scripts/bench/gpu.sh            draws docs/bench-gpu.png
# Dry run of the plumbing without a GPU (small L, CPU engine and torch on CPU):
#   DEVICE=cpu GF=./genoformer LENGTHS="1024 2048" DEPTH_L=1024 SDPA_LENGTHS= RES=/tmp/b scripts/bench/gpu.sh
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
PLOT_ONLY=${PLOT_ONLY:-0}
RES=${RES:-docs}
PNG=${PNG:-docs/bench-gpu.png}
DEVICE=${DEVICE:-cuda}
GF=${GF:-.device/cuda/bin/genoformer}
[ -x "$GF" ] || GF=./genoformer # a `make CUDA=1` build in place
CUBLAS=${CUBLAS:-.device/cuda/bin/cublas_peak}
LENGTHS=${LENGTHS:-"65536 262144 1048576"}
DEPTH_L=${DEPTH_L:-65536}
SDPA_LENGTHS=${SDPA_LENGTHS-"16384 65536"}
PROF_LAYERS=${PROF_LAYERS:-2}
BUDGET=${BUDGET:-240}
PY=${PY:-python3}
THREADS=${THREADS:-16}
TSV=$RES/bench-gpu.tsv
MODEL=(--attn lsh --d-model 256 --heads 4 --d-ff 1024 --hashes 4 --chunk 64 -B 1)
read -r L_SHORT L_MID L_LONG <<<"$LENGTHS"
L_MID=${L_MID:-$L_SHORT} L_LONG=${L_LONG:-$L_MID}

plot() {
	command -v gnuplot >/dev/null || { echo "[bench-gpu] no gnuplot: $PNG not drawn" >&2; return 0; }
	local w lab keys plot_tps="" plot_mem=""
	GPU_NAME=${GPU_NAME:-$(awk -F'\t' '$1 == "gpu" { split($2, a, ","); print a[1] }' "$RES/bench-gpu-env.txt" 2>/dev/null)}
	w=$(mktemp -d)
	# one line per impl-mode-math at 6 layers, numeric rows only
	keys=$(awk -F'\t' 'NR > 1 && $5 == 6 && $8 + 0 > 0 { print $1 "-" $2 "-" $3 }' "$TSV" | awk '!seen[$0]++')
	for lab in $keys; do
		awk -F'\t' -v l="$lab" 'NR > 1 && $5 == 6 && $1 "-" $2 "-" $3 == l && $8 + 0 > 0 {
			print $4, $8, ($10 + 0 > 0 ? $10 : $9) / 1024 }' "$TSV" | sort -n >"$w/$lab.dat"
		plot_tps="$plot_tps${plot_tps:+, }'$w/$lab.dat' using 1:2 with linespoints title '$lab'"
		plot_mem="$plot_mem${plot_mem:+, }'$w/$lab.dat' using 1:3 with linespoints title '$lab'"
	done
	gnuplot <<-EOF
	set terminal pngcairo size 1300,620 font ",10" noenhanced
	set output '$PNG'
	set multiplot layout 1,2 title "genoformer on one $GPU_NAME: d_model 256, 4 heads, d_ff 1024, 6 layers, LSH 4 hashes, chunk 64, batch 1"
	set logscale x 2
	set xrange [12000:1400000]
	set xtics ("4K" 4096, "16K" 16384, "64K" 65536, "256K" 262144, "1M" 1048576)
	set xlabel 'tokens per sequence (L)'
	set grid
	set key below maxrows 4
	set ylabel 'tokens per second'
	set logscale y
	plot $plot_tps
	set ylabel 'peak GPU memory, nvidia-smi (GiB)'
	plot $plot_mem, 40e9 / 2**30 with lines dashtype 2 lc rgb 'gray' title '40 GB goal'
	unset multiplot
	EOF
	rm -rf "$w"
	echo "[bench-gpu] wrote $PNG" >&2
}

if [ "$PLOT_ONLY" = 1 ]; then
	plot
	exit 0
fi

if [ "$DEVICE" = cuda ] && ! nvidia-smi -L >/dev/null 2>&1; then
	echo "[bench-gpu] no usable NVIDIA GPU here: skipped (run it on a GPU machine, see the header of $0)" >&2
	exit 0
fi
mkdir -p "$RES"
W=$(mktemp -d)
SMI=
trap '[ -n "$SMI" ] && kill "$SMI" 2>/dev/null; rm -rf "$W"' EXIT
exec 2> >(tee -a "$RES/bench-gpu.log" >&2)
log() { echo "[bench-gpu $SECONDS s] $*" >&2; }
export LD_LIBRARY_PATH=$PWD/.device/cuda/lib:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

# bounded T CMD...: CMD under timeout, at most T seconds and what the budget has left.
bounded() {
	local t=$1 left=$((BUDGET - SECONDS))
	shift
	[ "$t" -gt "$left" ] && t=$left
	if [ "$t" -lt 5 ]; then
		log "budget spent: skipped $*"
		return 125
	fi
	timeout -k 5 "$t" "$@"
}

# GPU memory sampler: smi_start before a process, smi_stop prints the peak MiB.
smi_start() {
	[ "$DEVICE" = cuda ] || return 0
	nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 50 >"$W/smi" 2>/dev/null &
	SMI=$!
}
smi_stop() {
	[ -n "$SMI" ] || { echo 0; return; }
	kill "$SMI" 2>/dev/null
	wait "$SMI" 2>/dev/null
	SMI=
	awk 'BEGIN { m = 0 } $1 + 0 > m { m = $1 + 0 } END { print m }' "$W/smi"
}

# row IMPL MODE MATH L LAYERS STEPS RC LINE GPU_PEAK: the TSV row of one process
# (the last 3 fields of LINE's last line: step_s tokens_per_s alloc_peak_mib).
row() {
	local impl=$1 mode=$2 math=$3 L=$4 layers=$5 steps=$6 rc=$7 line=$8 peak=$9 r
	case $rc in
	0) r=$(printf '%s' "$line" | tail -1 | awk -F'\t' '{ print $(NF-2) "\t" $(NF-1) "\t" $NF }') ;;
	124 | 137) r=$'timeout\ttimeout\ttimeout' ;;
	125) return 0 ;;
	*) r=$'failed\tfailed\tfailed' ;;
	esac
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$impl" "$mode" "$math" "$L" "$layers" "$steps" "$r" "$peak" |
	tee -a "$TSV" >&2
}

# gf MODE MATH L LAYERS WARMUP STEPS T: one genoformer bench engine process.
gf() {
	local mode=$1 math=$2 L=$3 layers=$4 warmup=$5 steps=$6 t=$7 line rc tf=0
	[ "$math" = tf32 ] && tf=1
	log "genoformer $mode $math L=$L layers=$layers"
	smi_start
	line=$(export GF_CUDA_TF32=$tf
	       bounded "$t" "$GF" bench engine --device "$DEVICE" -t "$THREADS" -L "$L" --layers "$layers" "--$mode" \
	               --warmup "$warmup" --steps "$steps" "${MODEL[@]}" | awk -F'\t' '{ print $11 "\t" $12 "\t" $13 }')
	rc=$?
	row genoformer "$mode" "$math" "$L" "$layers" "$steps" "$rc" "$line" "$(smi_stop)"
}

# pt IMPL MODE MATH L WARMUP STEPS T: one PyTorch process (6 layers).
pt() {
	local impl=$1 mode=$2 math=$3 L=$4 warmup=$5 steps=$6 t=$7 line rc opt=()
	[ "$HAVE_TORCH" = 1 ] || return 0
	[ "$math" = tf32 ] && opt=(--tf32)
	log "torch $impl $mode $math L=$L"
	smi_start
	line=$(PYTHONUNBUFFERED=1 bounded "$t" "$PY" scripts/bench/torch_gpu.py "$impl" "$mode" "$L" 6 \
	       "${opt[@]}" --warmup "$warmup" --steps "$steps" --device "$DEVICE")
	rc=$?
	row "torch-$impl" "$mode" "$math" "$L" 6 "$steps" "$rc" "$line" "$(smi_stop)"
}

# profile MATH: kernel times of one training step at L_SHORT, PROF_LAYERS
# layers, under ncu; the GEMM share against the analytic GEMM FLOPs.
profile() {
	local math=$1 tf=0
	[ "$math" = tf32 ] && tf=1
	[ "$HAVE_NCU" = 1 ] || return 0
	rm -f "$W/ncu.csv"
	log "ncu: genoformer train $math L=$L_SHORT layers=$PROF_LAYERS"
	(export GF_CUDA_TF32=$tf
	 bounded 60 ncu --metrics gpu__time_duration.sum --csv --print-units base --clock-control none \
		"$GF" bench engine --device "$DEVICE" -L "$L_SHORT" --layers "$PROF_LAYERS" --train --warmup 0 --steps 1 \
		"${MODEL[@]}" >"$W/ncu.csv" 2>>"$W/ncu.err") || { log "ncu failed or timed out ($?)"; tail -3 "$W/ncu.err" >&2; }
	"$PY" - "$W/ncu.csv" "$math" "$L_SHORT" "$PROF_LAYERS" >>"$RES/bench-gpu-kernels.txt" <<-'EOF'
	import collections, csv, re, sys
	path, math, L, layers = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
	D, F = 256, 1024
	t, n, hdr = collections.defaultdict(float), collections.Counter(), None
	for r in csv.reader(open(path, errors="replace")):
	    if "Kernel Name" in r:
	        hdr = r
	        continue
	    if hdr is None or len(r) != len(hdr):
	        continue
	    d = dict(zip(hdr, r))
	    if d.get("Metric Name") != "gpu__time_duration.sum":
	        continue
	    scale = {"nsecond": 1e-6, "usecond": 1e-3, "msecond": 1.0}.get(d.get("Metric Unit", "nsecond"), 1e-6)
	    k = re.sub(r"\(.*", "", d["Kernel Name"])[:90]
	    t[k] += float(d["Metric Value"].replace(",", "")) * scale
	    n[k] += 1
	tot = sum(t.values())
	print(f"== {math}: genoformer train L={L} layers={layers}, one step under ncu (gpu__time_duration.sum)")
	if not tot:
	    print("no kernel times read")
	    sys.exit(0)
	gemm = sum(v for k, v in t.items() if re.search(r"gemm|xmma|cutlass|sm90_|sm80_", k, re.I))
	# reversible training: forward, recomputed forward, and two products per product backward
	flops = 4 * layers * 2 * L * (3 * D * D + 2 * D * F)
	print(f"total kernel time {tot:.2f} ms over {sum(n.values())} launches")
	print(f"cuBLAS GEMM kernels {gemm:.2f} ms ({100 * gemm / tot:.1f}%): {flops / 1e12:.3f} TFLOP "
	      f"(4 x layers x 2L(3D^2 + 2DF)) -> {flops / (gemm * 1e-3) / 1e12:.1f} TFLOP/s achieved in GEMMs" if gemm else
	      "no cuBLAS GEMM kernel recognised")
	for k, v in sorted(t.items(), key=lambda x: -x[1])[:15]:
	    print(f"{v:9.2f} ms {100 * v / tot:5.1f}% {n[k]:6d}  {k}")
	print()
	EOF
}

# ---- what the machine has
HAVE_TORCH=0 HAVE_NCU=0
tv=$(timeout 60 "$PY" -c 'import torch; print(torch.__version__, torch.cuda.is_available())' 2>&1 | tail -1)
{
	printf 'gpu\t%s\n' "$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)"
	printf 'which\t%s\n' "$(which nsys ncu 2>&1 | tr '\n' ' ')"
	printf 'torch\t%s\n' "$tv"
	printf 'nvcc\t%s\n' "$(nvcc --version 2>/dev/null | tail -1)"
	printf 'cpus\t%s\n' "$(nproc)"
} >"$RES/bench-gpu-env.txt"
cat "$RES/bench-gpu-env.txt" >&2
case "$DEVICE:$tv" in cuda:[0-9]*True | cpu:[0-9]*) HAVE_TORCH=1 ;; esac
command -v ncu >/dev/null && [ "$DEVICE" = cuda ] && HAVE_NCU=1
[ "$HAVE_TORCH" = 1 ] || log "no python3 with torch and CUDA here: PyTorch rows left out"
printf 'impl\tmode\tmath\tL\tlayers\tsteps\tstep_s\ttokens_per_s\talloc_peak_mib\tgpu_peak_mib\n' >"$TSV"

# ---- the goals first: 1M training memory, 64K speed, depth, the reference at 64K
gf train fp32 "$L_SHORT" 6 1 2 40
gf train fp32 "$L_LONG" 6 0 1 60
gf train fp32 "$DEPTH_L" 2 0 1 30
gf train fp32 "$DEPTH_L" 24 0 1 40
pt ref train fp32 "$L_SHORT" 1 2 60
gf train tf32 "$L_SHORT" 6 1 2 30
pt ref train tf32 "$L_SHORT" 1 2 45
# ---- scaling, inference, matmul yardstick, profile
gf train fp32 "$L_MID" 6 0 1 40
gf train tf32 "$L_MID" 6 0 1 40
for math in fp32 tf32; do
	gf infer "$math" "$L_SHORT" 6 1 2 20
	gf infer "$math" "$L_MID" 6 1 1 30
	gf infer "$math" "$L_LONG" 6 0 1 40
done
if [ "$DEVICE" = cuda ]; then
	if [ ! -x "$CUBLAS" ] && command -v nvcc >/dev/null; then
		nvcc -O2 -o "$W/cublas_peak" scripts/bench/cublas_peak.cu -lcublas && CUBLAS=$W/cublas_peak
	fi
	log "cuBLAS sgemm throughput"
	bounded 30 "$CUBLAS" >"$RES/bench-gpu-cublas.tsv" || log "cublas_peak failed ($?)"
	cat "$RES/bench-gpu-cublas.tsv" >&2
fi
profile fp32
gf train tf32 "$L_LONG" 6 0 1 60
# ---- PyTorch beyond 64K, dense attention
pt ref infer fp32 "$L_SHORT" 1 2 40
pt ref train fp32 "$L_MID" 0 1 40
for L in $SDPA_LENGTHS; do pt sdpa train fp32 "$L" 1 1 40; done
for L in $SDPA_LENGTHS; do pt sdpa infer fp32 "$L" 1 1 30; done
profile tf32
log "done: $TSV"
