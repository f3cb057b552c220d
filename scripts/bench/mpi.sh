#!/usr/bin/env bash
# Data-parallel training throughput with 1 and 2 MPI ranks of one thread each
# (weak scaling: --batch per rank, so 2 ranks train a twice larger global
# batch) and the all-reduce's share of a step; docs/clusters.md quotes it.
# Needs the MPI build: `make check-mpi` makes ./genoformer-mpi (skipped
# without it). Environment: GF_MPI [./genoformer-mpi], STEPS [30],
# WINDOW [512], BATCH per rank [2], DEVICE [cpu; cuda: every rank on the GPU
# of its local rank, so 2 ranks share one GPU on a 1-GPU machine, from a
# CUDA=1 MPI=1 build]. Prints a TSV on stdout.
set -eu
cd "$(dirname "$0")/../.."
GF=${GF_MPI:-./genoformer-mpi}
STEPS=${STEPS:-30} WINDOW=${WINDOW:-512} BATCH=${BATCH:-2} DEVICE=${DEVICE:-cpu}
if ! { [ -x "$GF" ] && ldd "$GF" | grep -q libmpi; }; then
	echo "[bench mpi] no MPI build at $GF ('make check-mpi' makes one): skipped" >&2
	exit 0
fi
data/fetch-examples.sh
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
C=data/cache
cp $C/lambda/lambda_virus.fa "$D/lambda.fa"
# the first 500 kbp of E. coli, without samtools (not on GPU machines)
{ echo ">ecoli"; grep -v '^>' $C/ecoli/MG1655-K12.fasta | tr -d '\n' | head -c 500000 | fold -w 60; echo; } >"$D/ecoli.fa"
# the default architecture (4 layers, d_model 128, 4 heads, d_ff 512, local,lsh)
TR=(train --class lambda="$D/lambda.fa" --class ecoli="$D/ecoli.fa" -k 6 -L "$WINDOW" --batch "$BATCH"
	--steps "$STEPS" --log-every 10 --val-every 100000 --val-windows 2 -t 1 --device "$DEVICE" --seed 1)
MPIRUN=(mpirun --oversubscribe)
[ "$(id -u)" = 0 ] && MPIRUN+=(--allow-run-as-root)
export OMP_NUM_THREADS=1

printf 'ranks\tglobal_batch\ttokens_per_s\tspeedup\tallreduce_ms_per_step\tallreduce_share\tparams\tload_avg\n'
base=""
for ranks in 1 2; do
	"${MPIRUN[@]}" -np $ranks "$GF" "${TR[@]}" -o "$D/m$ranks.gfm" 2>"$D/err$ranks" ||
		{ cat "$D/err$ranks" >&2; exit 1; }
	# tokens/s of the metrics rows after the first 10 steps (warm-up), without the last (validation)
	tps=$(awk -F'\t' 'NR > 2 && $1 < '"$STEPS"' { s += $4; n++ } END { printf "%.0f", n ? s / n : 0 }' "$D/m$ranks.metrics.tsv")
	[ -n "$base" ] || base=$tps
	ar=$(sed -n 's/.*all-reduce of [0-9]* floats: \([0-9.]*\) ms per step, \([0-9.]*\)%.*/\1\t\2%/p' "$D/err$ranks")
	params=$(sed -n 's/.*model: \([0-9]*\) parameters.*/\1/p' "$D/err$ranks")
	printf '%d\t%d\t%s\t%.2f\t%s\t%s\t%s\n' $ranks $((ranks * BATCH)) "$tps" "$(echo "$tps / $base" | bc -l)" \
		"${ar:-0	0%}" "$params" "$(cut -d' ' -f1 /proc/loadavg)"
done
