#!/bin/sh
# On a machine with an NVIDIA GPU: the CUDA parity suites, compute-sanitizer
# (memcheck, racecheck) over the ops suite, and the command line on the GPU
# against the CPU (classify with the bundled model, contigs and packed
# reads; a short training run).
# Expects a CUDA build in $D (default .device/final): bin/genoformer,
# bin/test_cuda_ops, bin/test_cuda_model, and lib/ with the shared libraries
# the GPU machine lacks (scripts/device/prepare.sh). Results go to $OUT.
#   make CUDA=1 BIN=.device/final/bin/genoformer
#   make CUDA=1 build-cuda/tests/cuda/test_cuda_ops build-cuda/tests/cuda/test_cuda_model
set -u
D=${D:-.device/final}
OUT=${OUT:-/tmp/gpu-check}
SAN_SECONDS=${SAN_SECONDS:-120}
mkdir -p "$OUT"
export LD_LIBRARY_PATH="$PWD/$D/lib:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
PATH=/usr/local/cuda/bin:$PATH
GF=$D/bin/genoformer
status=0
step() { echo; echo "== $*"; }
fail() { echo "[gpu-check] FAILED: $*"; status=1; }

nvidia-smi -L
step "CUDA parity suites"
CK_DEFAULT_TIMEOUT=600 "$D/bin/test_cuda_ops" || fail test_cuda_ops
CK_DEFAULT_TIMEOUT=600 "$D/bin/test_cuda_model" || fail test_cuda_model

for tool in memcheck racecheck; do
	step "compute-sanitizer --tool $tool (ops suite, at most $SAN_SECONDS s)"
	CK_FORK=no CK_DEFAULT_TIMEOUT=0 timeout "$SAN_SECONDS" \
		compute-sanitizer --tool $tool --error-exitcode 3 "$D/bin/test_cuda_ops" >"$OUT/$tool.log" 2>&1
	rc=$?
	tail -n 4 "$OUT/$tool.log"
	case $rc in
	0) echo "[gpu-check] $tool: clean" ;;
	124) echo "[gpu-check] $tool: stopped after $SAN_SECONDS s, no error reported before" ;;
	*) fail "$tool exit $rc" ;;
	esac
done

step "classify the example contigs with the bundled model: CUDA against CPU"
"$GF" classify -q -m data/models/example.gfm --device cpu -t "$(nproc)" data/examples/contigs.fa.gz -o "$OUT/cpu.tsv" || fail "classify cpu"
"$GF" classify -q -m data/models/example.gfm --device cuda data/examples/contigs.fa.gz -o "$OUT/cuda.tsv" || fail "classify cuda"
paste "$OUT/cpu.tsv" "$OUT/cuda.tsv" | awk -F'\t' 'NR > 2 { # after the #genoformer line and the header
	n = NF / 2; if ($3 != $(n + 3)) calls++
	for (i = 4; i <= n; i++) { d = $i - $(n + i); if (d < 0) d = -d; if (d > max) max = d }
	rows++ }
	END { printf "[gpu-check] %d records, %d different calls, largest probability difference %.2g\n", rows, calls, max
	      exit (calls > 0 || max > 1e-3) }' || fail "classify parity"

step "150 bp reads packed on CUDA: against the CPU and against --no-pack on CUDA"
gzip -dc data/examples/contigs.fa.gz | awk '/^>/ { id = substr($1, 2); next } { s[id] = s[id] $0 } END {
	for (id in s) for (i = 1; i + 150 <= length(s[id]); i += 50) { print ">" id "_" i; print substr(s[id], i, 150) } }' >"$OUT/reads.fa"
"$GF" classify -q -m data/models/example.gfm --device cpu -t "$(nproc)" "$OUT/reads.fa" -o "$OUT/r-cpu.tsv" || fail "classify reads cpu"
for p in "" --no-pack; do
	t0=$(date +%s.%N)
	"$GF" classify -q -m data/models/example.gfm --device cuda $p "$OUT/reads.fa" -o "$OUT/r-cuda$p.tsv" || fail "classify reads cuda $p"
	echo "[gpu-check] reads on cuda ${p:-packed}: $(echo "$(date +%s.%N) - $t0" | bc) s"
done
for other in "$OUT/r-cpu.tsv" "$OUT/r-cuda--no-pack.tsv"; do
	paste "$other" "$OUT/r-cuda.tsv" | awk -F'\t' 'NR > 1 {
		n = NF / 2; if ($3 != $(n + 3)) calls++
		for (i = 4; i <= n; i++) { d = $i - $(n + i); if (d < 0) d = -d; if (d > max) max = d }
		rows++ }
		END { printf "[gpu-check] %d reads, %d different calls, largest probability difference %.2g\n", rows, calls, max
		      exit (max > 1e-3) }' || fail "packed reads on cuda against $other"
done

step "train on the GPU (the example contigs, 200 steps), then eval on the GPU"
"$GF" train -q --device cuda -o "$OUT/t.gfm" --labels data/examples/truth.tsv data/examples/contigs.fa.gz \
	-k 6 -L 256 --layers 2 --d-model 64 --heads 4 --d-ff 128 --steps 200 --batch 16 --lr 3e-3 --warmup 20 \
	--val-frac 0.2 --val-every 100 || fail "train cuda"
tail -n 3 "$OUT/t.metrics.tsv"
"$GF" eval -m "$OUT/t.gfm" --device cuda --labels data/examples/truth.tsv data/examples/contigs.fa.gz | head -n 4 || fail "eval cuda"
"$GF" classify -m data/models/example.gfm --device cuda data/examples/contigs.fa.gz -o /dev/null 2>&1 | tail -n 2

step "done"
[ $status = 0 ] && echo "[gpu-check] all passed" || echo "[gpu-check] some checks FAILED"
exit $status
