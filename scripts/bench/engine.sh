#!/usr/bin/env bash
# Engine benchmark: training step time, tokens/s and memory of the Reformer
# (d_model 256, 4 heads, d_ff 1024, 6 layers, 4 hashes, chunk 64, batch 1) on
# random tokens, one process per configuration (`genoformer bench engine`):
#   per L: LSH reversible + chunked FF (the default), LSH stored activations,
#          LSH unchunked FF, FULL attention (while L <= FULL_MAX), inference
#          of LSH and FULL.
# Rows go to docs/bench-engine.tsv (arena peak = the model's own counted
# bytes; peak RSS = the whole process), a plot to docs/bench-engine.png.
# A configuration that fails or passes TIMEOUT seconds is listed on stderr
# and left out of the table.
#   scripts/bench/engine.sh                      L = 4K 16K 64K 256K, -t 2
#   LENGTHS="4096 16384" THREADS=16 scripts/bench/engine.sh
#   INFER_1M=1 ...                               adds inference at L = 1M
#   PLOT_ONLY=1 scripts/bench/engine.sh          redraws the plot of an existing table
# One untimed warm-up step first while L <= WARMUP_MAX_L; longer runs time
# their first step (page faults of the first touch are then a small part).
set -euo pipefail
cd "$(dirname "$0")/../.."
GF=${GF:-./genoformer}
THREADS=${THREADS:-2}
LENGTHS=${LENGTHS:-"4096 16384 65536 262144"}
FULL_MAX=${FULL_MAX:-16384}
STEPS=${STEPS:-1}
WARMUP_MAX_L=${WARMUP_MAX_L:-16384}
TIMEOUT=${TIMEOUT:-1800}
INFER_1M=${INFER_1M:-0}
PLOT_ONLY=${PLOT_ONLY:-0}
OUT=${OUT:-docs/bench-engine.tsv}
PNG=${PNG:-docs/bench-engine.png}
MODEL=(--d-model 256 --heads 4 --d-ff 1024 --layers 6 --hashes 4 --chunk 64 -B 1)

# one LABEL L ARGS...: one process, its TSV line appended with the label.
one() {
	local label=$1 L=$2; shift 2
	local line warmup=0
	[ "$L" -le "$WARMUP_MAX_L" ] && warmup=1
	echo "[bench-engine] $label L=$L" >&2
	if line=$(timeout "$TIMEOUT" "$GF" bench engine -L "$L" -t "$THREADS" --steps "$STEPS" --warmup "$warmup" \
	          "${MODEL[@]}" "$@"); then
		printf '%s\t%s\n' "$line" "$label" | tee -a "$OUT" >&2
	else
		echo "[bench-engine] $label L=$L: failed or timed out after ${TIMEOUT}s, left out" >&2
	fi
}

if [ "$PLOT_ONLY" != 1 ]; then
	[ -x "$GF" ] || make -s -j2 genoformer
	mkdir -p "$(dirname "$OUT")"
	"$GF" bench engine --header -L 64 --steps 1 --warmup 0 -t 1 "${MODEL[@]}" | head -1 | sed 's/$/\tconfig/' >"$OUT"
	for L in $LENGTHS; do
		one lsh-reversible "$L" --attn lsh --train
		one lsh-stored "$L" --attn lsh --train --stored
		one lsh-unchunked-ff "$L" --attn lsh --train --ff-chunk 0
		one lsh-infer "$L" --attn lsh --infer
		if [ "$L" -le "$FULL_MAX" ]; then
			one full-reversible "$L" --attn full --train
			one full-infer "$L" --attn full --infer
		fi
	done
	if [ "$INFER_1M" = 1 ]; then one lsh-infer 1048576 --attn lsh --infer; fi
fi

# Plot: tokens/s and peak RSS against L, one line per configuration.
command -v gnuplot >/dev/null || { echo "[bench-engine] no gnuplot: $PNG not drawn" >&2; exit 0; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
labels=$(awk -F'\t' 'NR > 1 { print $NF }' "$OUT" | awk '!seen[$0]++')
threads=$(awk -F'\t' 'NR == 2 { print $8 }' "$OUT")
plot_tps="" plot_rss=""
for lab in $labels; do
	awk -F'\t' -v l="$lab" 'NR > 1 && $NF == l { print $3, $12, $14 / 1024 }' "$OUT" >"$W/$lab.dat"
	plot_tps="$plot_tps${plot_tps:+, }'$W/$lab.dat' using 1:2 with linespoints title '$lab'"
	plot_rss="$plot_rss${plot_rss:+, }'$W/$lab.dat' using 1:3 with linespoints title '$lab'"
done
gnuplot <<EOF
set terminal pngcairo size 1200,500 font ",10" noenhanced
set output '$PNG'
set multiplot layout 1,2 title "genoformer engine: d_model 256, 4 heads, d_ff 1024, 6 layers, 4 hashes, chunk 64, batch 1, $threads CPU threads"
set logscale x 2
set xtics ("1K" 1024, "4K" 4096, "16K" 16384, "64K" 65536, "256K" 262144, "1M" 1048576)
set xlabel 'tokens per sequence (L)'
set grid
set key bottom left
set ylabel 'tokens per second'
set logscale y
plot $plot_tps
set ylabel 'peak RSS (GiB)'
set key top left
plot $plot_rss, 8 with lines dashtype 2 lc rgb 'gray' title '8 GiB'
unset multiplot
EOF
echo "[bench-engine] wrote $OUT and $PNG" >&2
