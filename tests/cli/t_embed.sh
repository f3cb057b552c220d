# genoformer embed: .npy header, shape and dtype (read back with numpy),
# the ids TSV, per-window rows, a record mean equal to the token-weighted
# mean of its windows, NaN rows for records without tokens, errors.
set -u
. tests/cli/model.sh
PY=/usr/bin/python3
{ printf '>ctg1\n'; sed -n 2,40p "$LAMBDA"; printf '>tiny\nAC\n>ctg2\n'; sed -n 2,3p "$T/ecoli.fa"; } >"$T/ctg.fa"

expect_status 0 "$GF" embed -m "$T/m.gfm" -o "$T/e.npy" "$T/ctg.fa"
grep -q '^\[embed\] 3 rows of 32 floats' "$T/err" || fail "summary: $(cat "$T/err")"
grep -q 'shorter than k=3' "$T/err" || fail "no warning about the record without tokens"
head -c 10 "$T/e.npy" | od -An -c | grep -q 'N   U   M   P   Y' || fail "no .npy magic"
expect_out "$T/e.ids.tsv" "$(printf 'row\tid\twindow\tbeg\tend\n0\tctg1\tall\t0\t2730\n1\ttiny\tall\t0\t2\n2\tctg2\tall\t0\t140')"
expect_status 0 "$GF" embed -q -m "$T/m.gfm" --per-window -o "$T/w.npy" "$T/ctg.fa"
[ "$(wc -l <"$T/w.ids.tsv")" = 17 ] || fail "per-window ids: want 15 + 1 windows: $(cat "$T/w.ids.tsv")"
grep -qx $'14\tctg1\t14\t2688\t2730' "$T/w.ids.tsv" || fail "last window of ctg1: $(grep -n ctg1 "$T/w.ids.tsv" | tail -1)"
# the record row is the mean of its windows weighted by real tokens
# (64 each, 14 in the last): float32 sums, within 1e-5 relative
$PY - "$T" <<'PY' || fail "numpy checks failed"
import sys, numpy as np
t = sys.argv[1]
e, w = np.load(t + "/e.npy"), np.load(t + "/w.npy")
assert e.dtype == np.float32 and e.shape == (3, 32), (e.dtype, e.shape)
assert w.dtype == np.float32 and w.shape == (16, 32), (w.dtype, w.shape)
assert np.isnan(e[1]).all() and np.isfinite(e[0]).all() and np.isfinite(e[2]).all()
wt = np.array([64.0] * 14 + [14.0])
mean = (w[:15] * wt[:, None]).sum(0) / wt.sum()
assert np.allclose(e[0], mean, rtol=1e-5, atol=1e-6), np.abs(e[0] - mean).max()
assert np.array_equal(e[2], w[15]), "one-window record differs from its window"
PY
# deterministic: bit-identical runs; another batch size within float rounding
expect_status 0 "$GF" embed -q -m "$T/m.gfm" -o "$T/e2.npy" "$T/ctg.fa"
cmp -s "$T/e.npy" "$T/e2.npy" || fail "a second run differs"
expect_status 0 "$GF" embed -q -m "$T/m.gfm" --batch 1 -o "$T/e1.npy" "$T/ctg.fa"
$PY -c "import sys, numpy as np; a, b = np.load(sys.argv[1]), np.load(sys.argv[2]); sys.exit(not np.allclose(a, b, rtol=1e-5, atol=1e-6, equal_nan=True))" \
	"$T/e.npy" "$T/e1.npy" || fail "--batch 1 changes the embeddings beyond rounding (1e-5)"

expect_error 2 'no output: -o OUT.npy is required' "$GF" embed -m "$T/m.gfm" "$T/ctg.fa"
expect_error 1 "$T/no/dir/x.npy" "$GF" embed -m "$T/m.gfm" -o "$T/no/dir/x.npy" "$T/ctg.fa"
expect_status 1 "$GF" embed -m "$T/m.gfm" -o "$T/part.npy" "$T/ctg.fa" tests/data/bad/no_plus.fq
ls "$T" | grep -q part && fail "partial output left: $(ls "$T" | grep part)"
exit 0
