#!/usr/bin/env bash
# Matrix products: GFLOP/s of OpenBLAS sgemm alone against the model's
# cpu_matmul for the Reformer's shapes (scripts/bench/sgemm.c; goal: cpu_matmul
# reaches >= 70% of sgemm), then where a training step's time goes: perf
# record of one `genoformer bench engine` training step, the top symbols and
# the share of OpenBLAS (libopenblas) in the samples.
#   scripts/bench/sgemm.sh                 N = 16384, 2 threads, 5 repetitions, perf at L = 16384
#   N=4096 THREADS=2 REPS=3 PERF_L=4096 scripts/bench/sgemm.sh
# The table goes to docs/bench-sgemm.tsv; tables, profile and commands into
# docs/bench-engine.md under "Matrix products against OpenBLAS sgemm".
set -euo pipefail
cd "$(dirname "$0")/../.."
GF=${GF:-./genoformer}
N=${N:-16384}
THREADS=${THREADS:-2}
REPS=${REPS:-5}
PERF_L=${PERF_L:-16384}
OUT=${OUT:-docs/bench-sgemm.tsv}
DOC=${DOC:-docs/bench-engine.md}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

make -s -j2 genoformer build/bench/sgemm
load_before=$(uptime)
build/bench/sgemm "$N" "$THREADS" "$REPS" | tee "$OUT" | column -t -s $'\t' >&2

# profile POLICY: perf record of one training step with OMP_WAIT_POLICY=POLICY
# (or the default when "default"): the step's line, the top libraries and symbols.
profile() {
	local pol=$1 env=()
	[ "$pol" = default ] || env=(OMP_WAIT_POLICY="$pol")
	env "${env[@]}" perf record -q -F 499 -o "$W/perf.data" -- "$GF" bench engine -L "$PERF_L" -t "$THREADS" \
		--steps 1 --warmup 0 --attn lsh --layers 6 --d-model 256 --heads 4 --d-ff 1024 --hashes 4 --chunk 64 -B 1
	printf '\nby library:\n'
	perf report -i "$W/perf.data" --stdio --sort dso 2>/dev/null | awk '/^ +[0-9]/ && n++ < 8'
	printf '\ntop symbols:\n'
	perf report -i "$W/perf.data" --stdio --sort dso,symbol 2>/dev/null | awk '/^ +[0-9]/ && n++ < 20' |
		sed 's/[ -]*$//'
}

profiles=""
if command -v perf >/dev/null; then
	for pol in default passive; do
		p=$(profile "$pol")
		echo "[sgemm] OMP_WAIT_POLICY $pol: $p" >&2
		profiles="$profiles${profiles:+$'\n\n'}OMP_WAIT_POLICY $pol, step: $p"
	done
else
	profiles="(perf not installed: no profile)"
fi
load_after=$(uptime)

{
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(nproc) cores:"
	echo
	echo "    N=$N THREADS=$THREADS REPS=$REPS PERF_L=$PERF_L scripts/bench/sgemm.sh"
	echo "    load before: $load_before"
	echo "    load after:  $load_after"
	echo
	sed 's/^/    /' "$OUT"
	echo
	echo "perf record -F 499 of \`genoformer bench engine -L $PERF_L -t $THREADS --steps 1 --warmup 0\`, default OpenMP settings and OMP_WAIT_POLICY=passive:"
	echo
	printf '%s\n' "$profiles" | sed 's/^/    /'
} >"$W/block"
scripts/bench/lib/doc-section.sh "$DOC" sgemm "Matrix products against OpenBLAS sgemm" "$W/block"
echo "[sgemm] wrote $OUT and the section in $DOC" >&2
