# Memcheck over a short real run: train a tiny model for a few steps on one
# thread, resume it, classify with it, embed, read it with info, and one
# error path (a truncated model): no invalid access, no uninitialised value
# used, no leak (--leak-check=full; --error-exitcode makes any of them fail).
# The sanitizer build covers the unit suites; this covers the binary as
# shipped, -O2 without instrumentation.
command -v valgrind >/dev/null 2>&1 || skip "valgrind is not installed (scripts/install-deps.sh installs it)"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
S=data/samples
printf 'lambda_head\tphage\nlambda_soft\tphage\ngi|9626243|ref|NC_001416.1|tail\ttail\n' >"$T/lab.tsv"
vg() {
	valgrind -q --error-exitcode=99 --leak-check=full --log-file="$T/vg.log" "$GF" "$@" >"$T/out" 2>"$T/err"
	local rc=$?
	[ -s "$T/vg.log" ] && fail "valgrind on '$*' (exit $rc): $(head -c 3000 "$T/vg.log")"
	return $rc
}
ARCH=(-t 1 -k 3 -L 64 --layers 2 --d-model 16 --heads 2 --d-ff 32 --chunk 16 --batch 2 --val-every 3 --labels "$T/lab.tsv")
vg train -q "${ARCH[@]}" -o "$T/m.gfm" --steps 4 --stop-at 3 "$S/small.fa" || fail "train: $(cat "$T/err")"
vg train -q "${ARCH[@]}" -o "$T/m.gfm" --steps 4 --resume auto "$S/small.fa" || fail "train --resume: $(cat "$T/err")"
[ -s "$T/m.gfm" ] || fail "train wrote no model"
vg classify -q -t 1 -m "$T/m.gfm" --rc-average --report "$T/rep.tsv" -o "$T/cls.tsv" "$S/small.fa" "$S/small.fq" ||
	fail "classify: $(cat "$T/err")"
[ "$(wc -l <"$T/cls.tsv")" -gt 3 ] || fail "classify: $(cat "$T/cls.tsv")"
vg embed -q -t 1 -m "$T/m.gfm" -o "$T/e.npy" "$S/small.sam" || fail "embed: $(cat "$T/err")"
vg info "$T/m.gfm" || fail "info: $(cat "$T/err")"
grep -q '^classes	2' "$T/out" || fail "info: $(cat "$T/out")"
head -c 1000 "$T/m.gfm" >"$T/trunc.gfm"
vg classify -q -t 1 -m "$T/trunc.gfm" "$S/small.fa"
[ $? = 1 ] || fail "classify of a truncated model: $(cat "$T/err")"
