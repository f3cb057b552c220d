#!/usr/bin/env bash
# Runs every tests/cli/t_*.sh from the source root with GF = the binary
# (default ./genoformer) and T = a fresh temporary folder, prints one line per
# test and ends with "N passed, N failed"; exits non-zero when one failed.
# GF_CLI_TESTS: the tests to run instead of all (paths, space-separated).
# Tests may use the helpers below (exported): fail, skip, expect_status,
# expect_error, expect_out.
cd "$(dirname "$0")/../.." || exit 2
export GF=${GF:-./genoformer}

# fail MSG: prints MSG and ends the test.
fail() { echo "  $*" >&2; exit 1; }
# skip REASON: ends the test as skipped (exit 77); the runner shows REASON.
skip() { echo "$*" >&2; exit 77; }
# expect_status N CMD...: runs CMD (stdout to $T/out, stderr to $T/err) and
# checks its exit status.
expect_status() {
	local want=$1; shift
	"$@" >"$T/out" 2>"$T/err"
	local got=$?
	[ "$got" = "$want" ] || fail "'$*' exited $got, want $want; stderr: $(head -c 500 "$T/err")"
}
# expect_error N TEXT CMD...: CMD exits N with TEXT (a fixed string) on
# stderr, in one line.
expect_error() {
	local want=$1 text=$2; shift 2
	expect_status "$want" "$@"
	grep -qF -- "$text" "$T/err" || fail "'$*': stderr lacks '$text': $(head -c 500 "$T/err")"
	[ "$(wc -l <"$T/err")" = 1 ] || fail "'$*': more than one line on stderr: $(head -c 500 "$T/err")"
}
# expect_out FILE STRING: FILE holds exactly STRING (plus a final newline).
expect_out() {
	printf '%s\n' "$2" | diff -u - "$1" >&2 || fail "$1 differs from the expected text (diff above)"
}
export -f fail skip expect_status expect_error expect_out

pass=0 failed=0 skipped=0
for t in ${GF_CLI_TESTS:-tests/cli/t_*.sh}; do
	T=$(mktemp -d) || exit 2
	export T
	start=$(date +%s%N)
	bash "$t" >"$T.log" 2>&1
	st=$?
	if [ "$st" = 0 ]; then
		pass=$((pass + 1))
		printf 'ok    %s (%d ms)\n' "$t" $((($(date +%s%N) - start) / 1000000))
	elif [ "$st" = 77 ]; then
		skipped=$((skipped + 1))
		printf 'skip  %s: %s\n' "$t" "$(tail -n 1 "$T.log")"
	else
		failed=$((failed + 1))
		printf 'FAIL  %s\n' "$t"
		sed 's/^/    /' "$T.log"
	fi
	rm -rf "$T" "$T.log"
done
echo "$pass passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
