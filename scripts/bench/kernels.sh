#!/usr/bin/env bash
# Kernel benchmarks of the CPU backend: attention ops (scripts/bench/attn.c,
# ms per call for each L) and matrix products against OpenBLAS alone
# (scripts/bench/matmul.c). The load average is printed with each table:
# on a shared machine compare runs taken under similar load.
#   scripts/bench/kernels.sh                 THREADS=2 REPS=3 LENGTHS="4096 16384 65536"
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS=${THREADS:-2}
REPS=${REPS:-3}
LENGTHS=${LENGTHS:-"4096 16384 65536"}
make -s -j2 build/libgenoformer.a
mkdir -p build/bench
for b in attn matmul; do
	cc -std=c11 -O2 -Wall -Wextra -Werror -fopenmp -D_GNU_SOURCE -I. -o build/bench/$b scripts/bench/$b.c \
	   build/libgenoformer.a -lopenblas -lm
done
echo "== attention, $THREADS threads, median of $REPS; load: $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086
build/bench/attn -t "$THREADS" -r "$REPS" $LENGTHS
echo "== matmul, $THREADS threads, N=16384; load: $(cut -d' ' -f1-3 /proc/loadavg)"
build/bench/matmul -t "$THREADS" -n 16384
