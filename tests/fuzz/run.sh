#!/usr/bin/env bash
# run.sh BUILD SECONDS [NAME...]: runs each libFuzzer harness BUILD/tests/fuzz/NAME
# (all fuzz_* by default) for SECONDS on one core over its corpus
# tests/fuzz/corpus/NAME (new inputs go to a scratch copy, so the committed
# seeds stay small), then prints "NAME: N execs in S s, F findings".
# A crash, leak, timeout (30 s: generous, because a shared, loaded machine
# stretches wall time several-fold) or out-of-memory is saved under
# tests/fuzz/findings/NAME/ and ends the run with status 1: minimise it
# (BUILD/tests/fuzz/NAME -minimize_crash=1 FILE), add it to
# tests/fuzz/regressions/NAME/ and fix it.
cd "$(dirname "$0")/../.." || exit 2
build=${1:?usage: run.sh BUILD SECONDS [NAME...]} secs=${2:?usage: run.sh BUILD SECONDS [NAME...]}
shift 2
names=("$@")
[ ${#names[@]} = 0 ] && for f in tests/fuzz/fuzz_*.c; do names+=("$(basename "$f" .c)"); done
status=0
for name in "${names[@]}"; do
	work=$(mktemp -d /dev/shm/gf-corpus-XXXXXX) || exit 2
	mkdir -p "tests/fuzz/findings/$name"
	log=tests/fuzz/findings/$name.log
	start=$(date +%s)
	OMP_NUM_THREADS=1 "$build/tests/fuzz/$name" -max_total_time="$secs" \
		-close_fd_mask=3 -timeout=30 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
		-artifact_prefix="tests/fuzz/findings/$name/" "$work" "tests/fuzz/corpus/$name" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	time=$(($(date +%s) - start))
	found=$(find "tests/fuzz/findings/$name" -type f | wc -l)
	echo "$name: ${execs:-?} execs in $time s, $found findings (log: $log)"
	[ "$rc" = 0 ] && [ "$found" = 0 ] || status=1
	rm -rf "$work"
done
exit $status
