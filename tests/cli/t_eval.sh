# genoformer eval: exact metrics on a hand-made classify table, the same
# tables from a model as from its classify output, and label errors.
set -u

# truth a a a b b c c c; predicted a a b b unclassified c a c; class d absent.
# accuracy 5/8; F1: a 2/3, b 1/2, c 0.8 (P 1, R 2/3); macro-F1 over a, b, c
# (d is neither in the truth nor predicted) = 0.65556
printf 'id\tclass\nr1\ta\nr2\ta\nr3\ta\nr4\tb\nr5\tb\nr6\tc\nr7\tc\nr8\tc\n' >"$T/truth.tsv"
printf 'id\tlength\tpredicted\tprobability\ta\tb\tc\td\n' >"$T/pred.tsv"
for p in r1:a r2:a r3:b r4:b r5:unclassified r6:c r7:a r8:c; do
	printf '%s\t100\t%s\t0.5\t0.5\t0.2\t0.2\t0.1\n' "${p%%:*}" "${p#*:}" >>"$T/pred.tsv"
done
expect_status 0 "$GF" eval --predictions "$T/pred.tsv" --labels "$T/truth.tsv"
expect_out "$T/out" "$(printf 'metric\tvalue\nrecords\t8\naccuracy\t0.6250\nmacro_f1\t0.6556\nunclassified\t1\n
class\tprecision\trecall\tf1\tsupport\tpredicted
a\t0.6667\t0.6667\t0.6667\t3\t3
b\t0.5000\t0.5000\t0.5000\t2\t2
c\t1.0000\t0.6667\t0.8000\t3\t2
d\t0.0000\t0.0000\t0.0000\t0\t0

truth\\predicted\ta\tb\tc\td\tunclassified
a\t2\t1\t0\t0\t0
b\t0\t1\t0\t0\t1
c\t1\t0\t2\t0\t0
d\t0\t0\t0\t0\t0')"
expect_status 0 "$GF" eval -q --predictions "$T/pred.tsv" --labels "$T/truth.tsv" -o "$T/ev.tsv"
[ -s "$T/out" ] && fail "-o still writes to stdout"
grep -qx $'accuracy\t0.6250' "$T/ev.tsv" || fail "-o: $(cat "$T/ev.tsv")"

# a per-window table counts its 'all' rows only
printf 'id\twindow\tbeg\tend\tlength\tpredicted\tprobability\ta\tb\tc\td\n' >"$T/pw.tsv"
tail -n +2 "$T/pred.tsv" | awk 'BEGIN { FS = OFS = "\t" } { print $1, 0, 0, 50, 50, "d", 0.9, 0, 0, 0, 0.9; print $1, "all", 0, 100, $2, $3, $4, $5, $6, $7, $8 }' >>"$T/pw.tsv"
expect_status 0 "$GF" eval -q --predictions "$T/pw.tsv" --labels "$T/truth.tsv"
grep -qx $'macro_f1\t0.6556' "$T/out" || fail "per-window table: $(head -5 "$T/out")"

# errors
printf 'r1\ta\nr2\tz\n' >"$T/z.tsv"
expect_error 1 "z.tsv: class 'z' is not a class of" "$GF" eval --predictions "$T/pred.tsv" --labels "$T/z.tsv"
head -n 5 "$T/truth.tsv" >"$T/few.tsv"
expect_error 1 "record 'r5' has no label" "$GF" eval --predictions "$T/pred.tsv" --labels "$T/few.tsv"
{ cat "$T/truth.tsv"; printf 'r9\ta\n'; } >"$T/more.tsv"
expect_error 1 "id 'r9' matches no record" "$GF" eval --predictions "$T/pred.tsv" --labels "$T/more.tsv"
printf 'r1\t100\ta\n' >"$T/notable.tsv"
expect_error 1 'not a genoformer classify table' "$GF" eval --predictions "$T/notable.tsv" --labels "$T/truth.tsv"
expect_error 2 '--labels TRUTH.tsv is required' "$GF" eval --predictions "$T/pred.tsv"
expect_error 2 'give one or the other' "$GF" eval --predictions "$T/pred.tsv" --labels "$T/truth.tsv" -m x.gfm
expect_error 1 "$T/no/dir/e.tsv" "$GF" eval --predictions "$T/pred.tsv" --labels "$T/truth.tsv" -o "$T/no/dir/e.tsv"

# with a model: the same tables as eval of its classify output
. tests/cli/model.sh
gzip -dc data/cache/lambda/reads_1.fq.gz | head -n 40 >"$T/reads.fq"
{ printf '>e1\n'; sed -n 2,20p "$T/ecoli.fa"; printf '>e2\n'; sed -n 21,30p "$T/ecoli.fa"; } >"$T/e.fa"
{ awk 'NR % 4 == 1 { print substr($1, 2) "\tlambda" }' "$T/reads.fq"; printf 'e1\tecoli\ne2\tecoli\n'; } >"$T/rt.tsv"
expect_status 0 "$GF" classify -q -m "$T/m.gfm" --min-prob 0.5 -o "$T/c.tsv" "$T/reads.fq" "$T/e.fa"
expect_status 0 "$GF" eval -q -m "$T/m.gfm" --min-prob 0.5 --labels "$T/rt.tsv" "$T/reads.fq" "$T/e.fa"
"$GF" eval -q --predictions "$T/c.tsv" --labels "$T/rt.tsv" | cmp -s - "$T/out" || fail "eval -m differs from eval of classify's table"
grep -qx $'records\t12' "$T/out" || fail "records: $(head -5 "$T/out")"
printf 'e1\tecoli\ne2\tplasmid\n' >"$T/bad.tsv"
expect_error 1 "class 'plasmid' is not a class of $T/m.gfm (its classes: ecoli, lambda)" "$GF" eval -m "$T/m.gfm" --labels "$T/bad.tsv" "$T/e.fa"
printf "e1\tecoli\n" >"$T/e1.tsv"
expect_error 1 "reads.fq: record 'r1' has no label" "$GF" eval -m "$T/m.gfm" --labels "$T/e1.tsv" "$T/reads.fq"
exit 0
