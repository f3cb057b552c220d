#!/usr/bin/env bash
# regress.sh BUILD: replays every input of tests/fuzz/regressions/NAME/ (each
# a finding of harness NAME, fixed) and the seed corpus tests/fuzz/corpus/NAME/
# through BUILD/tests/fuzz/replay_NAME, the harness without libFuzzer; with
# the ASan build a return of a bug fails here. Prints one line per harness.
cd "$(dirname "$0")/../.." || exit 2
build=${1:?usage: regress.sh BUILD}
failed=0
for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	files=()
	for d in "tests/fuzz/regressions/$name" "tests/fuzz/corpus/$name"; do
		[ -d "$d" ] && while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$d" -type f -print0 | sort -z)
	done
	log=$(mktemp) || exit 2
	if OMP_NUM_THREADS=1 OMP_THREAD_LIMIT=1 "$build/tests/fuzz/replay_$name" "${files[@]}" >"$log" 2>&1; then
		echo "ok    $name (${#files[@]} inputs)"
	else
		failed=1
		echo "FAIL  $name: one of ${#files[@]} inputs; last lines of its output:"
		tail -30 "$log" | sed 's/^/    /'
	fi
	rm -f "$log"
done
exit $failed
