#!/usr/bin/env bash
# Kernel benchmarks of the CPU backend: per-op times from the op-case table
# (scripts/bench/ops.c, the cases the gradient and parity tests run; ms per
# call for each L, forward and backward) and matrix products against
# OpenBLAS alone (scripts/bench/sgemm.c). The load average is printed with
# each table: on a shared machine compare runs taken under similar load.
#   scripts/bench/kernels.sh                 THREADS=2 REPS=3 LENGTHS="4096 16384 65536" OPS=attn,lsh_hash
#   OPS= scripts/bench/kernels.sh           every op of the table
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS=${THREADS:-2}
REPS=${REPS:-3}
LENGTHS=${LENGTHS:-"4096 16384 65536"}
OPS=${OPS-attn,lsh_hash}
make -s -j2 build/bench/ops build/bench/sgemm
echo "== ops, $THREADS threads, median of $REPS; load: $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086
build/bench/ops -t "$THREADS" -r "$REPS" ${OPS:+-o "$OPS"} $LENGTHS | column -t -s $'\t'
echo "== matmul, $THREADS threads, N=16384; load: $(cut -d' ' -f1-3 /proc/loadavg)"
build/bench/sgemm 16384 "$THREADS" "$REPS" | column -t -s $'\t'
