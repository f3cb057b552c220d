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
# One untimed warm-up step first for both while L <= WARMUP_MAX_L. A run
# that fails or passes TIMEOUT seconds is reported on stderr and left out;
# PyTorch's address space is capped at TORCH_MAX_GIB (default 16).
# Raw rows go to docs/bench-engine-vs-torch.raw.tsv, the table to
# docs/bench-engine-vs-torch.tsv and, between the markers of the section
# "2-core comparison with PyTorch", into docs/bench-engine.md.
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
RAW=${RAW:-docs/bench-engine-vs-torch.raw.tsv}
OUT=${OUT:-docs/bench-engine-vs-torch.tsv}
DOC=${DOC:-docs/bench-engine.md}
MODEL=(--attn lsh --layers 6 --d-model 256 --heads 4 --d-ff 1024 --hashes 4 --chunk 64 -B 1)

[ -x "$GF" ] || make -s -j2 genoformer
mkdir -p "$(dirname "$RAW")"
load_before=$(uptime)
echo "[engine-vs-torch] before: $load_before" >&2
printf 'impl\tL\tmode\trep\tstep_s\ttokens_per_s\tpeak_rss_mib\tloadavg1\n' >"$RAW"

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
			one genoformer "$L" "$mode" "$rep" "$GF" bench engine "${common[@]}" "${MODEL[@]}"
			one pytorch "$L" "$mode" "$rep" "$PY" scripts/bench/torch_engine.py --max-gib "$TORCH_MAX_GIB" \
				"${common[@]}" "${MODEL[@]}"
			one genoformer-passive "$L" "$mode" "$rep" env OMP_WAIT_POLICY=passive \
				"$GF" bench engine "${common[@]}" "${MODEL[@]}"
			one pytorch-passive "$L" "$mode" "$rep" env OMP_WAIT_POLICY=passive \
				"$PY" scripts/bench/torch_engine.py --max-gib "$TORCH_MAX_GIB" "${common[@]}" "${MODEL[@]}"
		done
	done
done
load_after=$(uptime)
echo "[engine-vs-torch] after: $load_after" >&2

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

# The section of $DOC between the markers is replaced by this run's table.
begin='<!-- engine-vs-torch table: begin -->' end='<!-- engine-vs-torch table: end -->'
block=$(mktemp)
trap 'rm -f "$block"' EXIT
{
	echo "$begin"
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(nproc) cores:"
	echo
	echo "    LENGTHS=\"$LENGTHS\" MODES=\"$MODES\" REPS=$REPS REPS_LONG=$REPS_LONG THREADS=$THREADS scripts/bench/engine-vs-torch.sh"
	echo "    load before: $load_before"
	echo "    load after:  $load_after"
	echo
	sed 's/^/    /' "$OUT"
	echo "$end"
} >"$block"
if grep -qF "$begin" "$DOC"; then
	awk -v b="$begin" -v e="$end" -v f="$block" '
		$0 == b { while ((getline l < f) > 0) print l; skip = 1; next }
		$0 == e { skip = 0; next }
		!skip' "$DOC" >"$DOC.tmp" && mv "$DOC.tmp" "$DOC"
else
	{ echo; echo "## 2-core comparison with PyTorch"; echo; cat "$block"; } >>"$DOC"
fi
echo "[engine-vs-torch] wrote $RAW, $OUT and the table in $DOC" >&2
