#!/usr/bin/env bash
# genoformer against the PyTorch reference (scripts/bench/torch_engine.py, the
# model of tests/reference/reformer_ref.py) on the same configuration and
# threads: d_model 256, 4 heads, d_ff 1024, 6 layers, 4 hashes, chunk 64,
# batch 1, k = 6 vocabulary, --attn lsh (bench engine's and engine.sh's).
# Per L and mode, each repetition runs in turn genoformer and PyTorch with
# the default OpenMP settings (what a user gets), then both with
# OMP_WAIT_POLICY=passive (both use libgomp; on a loaded machine spinning
# threads cost either one several times its time), so that load from other
# processes falls on all four alike. The table has the medians and the ratio
# genoformer / PyTorch tokens/s under the same policy (goal: >= 3 for
# training at L = 16K).
#   scripts/bench/engine-vs-torch.sh       L = 4K (3 repetitions) and 16K (1), train and infer
#   LENGTHS="4096 16384" REPS=3 REPS_LONG=3 MODES=train THREADS=2 ...
#   IMPLS="genoformer pytorch" ...         a subset of the four, in that order
#   APPEND=1 ...                           adds rows to the previous runs' instead of starting over
# One untimed warm-up step first for both while L <= WARMUP_MAX_L. A run
# that fails or passes TIMEOUT seconds is reported on stderr and left out;
# PyTorch's address space is capped at TORCH_MAX_GIB (default 16).
# Raw rows go to docs/bench-engine-vs-torch.raw.tsv (the commands and the
# load before and after each run to .runs), the table to
# docs/bench-engine-vs-torch.tsv and, with the commands, into the section
# "2-core comparison with PyTorch" of docs/bench-engine.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
GF=${GF:-./genoformer}
PY=${PY:-/usr/bin/python3}
THREADS=${THREADS:-2}
LENGTHS=${LENGTHS:-"4096 16384"}
MODES=${MODES:-"train infer"}
REPS=${REPS:-3}
REPS_LONG=${REPS_LONG:-1}
REPS_MAX_L=${REPS_MAX_L:-4096}
WARMUP_MAX_L=${WARMUP_MAX_L:-4096}
TIMEOUT=${TIMEOUT:-1500}
TORCH_MAX_GIB=${TORCH_MAX_GIB:-16}
IMPLS=${IMPLS:-"genoformer pytorch genoformer-passive pytorch-passive"}
APPEND=${APPEND:-0}
RAW=${RAW:-docs/bench-engine-vs-torch.raw.tsv}
RUNS=${RAW%.raw.tsv}.runs
OUT=${OUT:-docs/bench-engine-vs-torch.tsv}
DOC=${DOC:-docs/bench-engine.md}
MODEL=(--attn lsh --layers 6 --d-model 256 --heads 4 --d-ff 1024 --hashes 4 --chunk 64 -B 1)

[ -x "$GF" ] || make -s -j2 genoformer
mkdir -p "$(dirname "$RAW")"
if [ "$APPEND" != 1 ] || [ ! -s "$RAW" ]; then
	printf 'impl\tL\tmode\trep\tstep_s\ttokens_per_s\tpeak_rss_mib\tloadavg1\n' >"$RAW"
	: >"$RUNS"
fi
cmdline="LENGTHS=\"$LENGTHS\" MODES=\"$MODES\" IMPLS=\"$IMPLS\" REPS=$REPS REPS_LONG=$REPS_LONG"
cmdline="$cmdline WARMUP_MAX_L=$WARMUP_MAX_L THREADS=$THREADS APPEND=$APPEND scripts/bench/engine-vs-torch.sh"
{
	echo "$cmdline"
	echo "  commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(nproc) cores"
	echo "  before: $(uptime)"
} >>"$RUNS"

# one IMPL L MODE REP WARMUP CMD...: one process; its bench line's step_s,
# tokens/s and peak RSS appended to $RAW with the 1-minute load average.
one() {
	local impl=$1 L=$2 mode=$3 rep=$4; shift 4
	local line load
	load=$(cut -d' ' -f1 /proc/loadavg)
	echo "[engine-vs-torch] $impl L=$L $mode rep $rep (load $load)" >&2
	if line=$(timeout "$TIMEOUT" "$@"); then
		printf '%s\n' "$line" | awk -F'\t' -v i="$impl" -v L="$L" -v m="$mode" -v r="$rep" -v ld="$load" \
			'{ printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", i, L, m, r, $11, $12, $14, ld }' | tee -a "$RAW" >&2
	else
		echo "[engine-vs-torch] $impl L=$L $mode rep $rep: failed or timed out after ${TIMEOUT}s, left out" >&2
	fi
}

for L in $LENGTHS; do
	reps=$REPS warmup=0
	[ "$L" -le "$REPS_MAX_L" ] || reps=$REPS_LONG
	[ "$L" -le "$WARMUP_MAX_L" ] && warmup=1
	for mode in $MODES; do
		for rep in $(seq "$reps"); do
			common=(-L "$L" -t "$THREADS" --steps 1 --warmup "$warmup" "--$mode")
			for impl in $IMPLS; do
				policy=()
				case $impl in *-passive) policy=(OMP_WAIT_POLICY=passive) ;; esac
				case $impl in
				genoformer*) one "$impl" "$L" "$mode" "$rep" env "${policy[@]}" "$GF" bench engine "${common[@]}" "${MODEL[@]}" ;;
				pytorch*) one "$impl" "$L" "$mode" "$rep" env "${policy[@]}" "$PY" scripts/bench/torch_engine.py \
					--max-gib "$TORCH_MAX_GIB" "${common[@]}" "${MODEL[@]}" ;;
				*) echo "[engine-vs-torch] unknown IMPLS entry '$impl'" >&2; exit 2 ;;
				esac
			done
		done
	done
done
echo "  after:  $(uptime)" >>"$RUNS"

# Medians per (L, mode, impl); ratios against PyTorch's median under the same policy.
awk -F'\t' '
	function median(key,   n, i, j, t, a) {
		n = split(vals[key], a, " ")
		for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	NR > 1 {
		k = $2 SUBSEP $3 SUBSEP $1
		if (!(k in vals)) { order[++nk] = k }
		vals[k] = vals[k] " " $5; rss[k] = ($7 > rss[k] ? $7 : rss[k]); cnt[k]++
		load[k] = load[k] (load[k] == "" ? "" : ",") $8
	}
	END {
		print "L\tmode\timpl\truns\tstep_s_median\ttokens_per_s\tpeak_rss_mib\tloadavg1_per_run\tratio_vs_pytorch"
		for (i = 1; i <= nk; i++) { split(order[i], p, SUBSEP); s[order[i]] = median(order[i]) }
		for (i = 1; i <= nk; i++) {
			split(order[i], p, SUBSEP)
			t = p[1] SUBSEP p[2] SUBSEP (p[3] ~ /passive/ ? "pytorch-passive" : "pytorch")
			ratio = (t in s) ? sprintf("%.2f", s[t] / s[order[i]]) : "NA"
			printf "%s\t%s\t%s\t%d\t%.3f\t%.1f\t%.1f\t%s\t%s\n", p[1], p[2], p[3], cnt[order[i]], s[order[i]],
			       p[1] / s[order[i]], rss[order[i]], load[order[i]], ratio
		}
	}' "$RAW" >"$OUT"
column -t -s $'\t' "$OUT" >&2

# The table and the runs that made it go into the section of $DOC.
block=$(mktemp)
trap 'rm -f "$block"' EXIT
{
	echo "Runs (oldest first) and the load average before and after each:"
	echo
	sed 's/^/    /' "$RUNS"
	echo
	sed 's/^/    /' "$OUT"
} >"$block"
scripts/bench/lib/doc-section.sh "$DOC" "engine-vs-torch table" "2-core comparison with PyTorch" "$block"
echo "[engine-vs-torch] wrote $RAW, $RUNS, $OUT and the table in $DOC" >&2
