# genoformer classify: table format, determinism (runs, --batch, threads),
# shards that interleave back to the unsharded table, --min-prob, --report
# sums, --rc-average symmetry, --per-window, stdin, and bad inputs with
# their exit codes, messages and no partial output.
set -u
. tests/cli/model.sh

# inputs: 30 lambda reads, two contigs and a record shorter than k
gzip -dc data/cache/lambda/reads_1.fq.gz | head -n 120 >"$T/reads.fq"
{ printf '>ctg1 lambda\n'; sed -n 2,40p "$LAMBDA"; printf '>ctg2\n'; sed -n 2,30p "$T/ecoli.fa"; printf '>tiny\nAC\n'; } >"$T/ctg.fa"
IN="$T/reads.fq $T/ctg.fa"
n_rec=33

expect_status 0 "$GF" classify -m "$T/m.gfm" $IN
cp "$T/out" "$T/all.tsv"
# line 1: where the table came from (version, model, the model file's CRC32, as info prints it)
crc=$("$GF" info "$T/m.gfm" | awk -F'\t' '$1 == "file_crc32" { print $2 }')
head -n 1 "$T/all.tsv" | grep -qx "#genoformer"$'\t'"version=[0-9.]*"$'\t'"model=$T/m.gfm"$'\t'"model_crc32=$crc" ||
	fail "provenance line: $(head -n 1 "$T/all.tsv") (crc $crc)"
sed -n 2p "$T/all.tsv" | grep -qx $'id\tlength\tpredicted\tprobability\tecoli\tlambda\treason' || fail "header: $(sed -n 2p "$T/all.tsv")"
[ "$(wc -l <"$T/all.tsv")" = $((n_rec + 2)) ] || fail "want $n_rec rows: $(wc -l <"$T/all.tsv")"
grep -q '^\[classify\] 33 records, ' "$T/err" || fail "no summary line: $(cat "$T/err")"
# every row: the predicted class is the most probable, its probability in
# column 4, the class probabilities sum to 1 within 2e-4 (4 decimals each)
awk -F'\t' 'NR > 2 && $1 != "tiny" {
	best = $5 > $6 ? "ecoli" : "lambda"; top = $5 > $6 ? $5 : $6
	if ($3 != best || $4 != top || ($5 + $6) < 0.9998 || ($5 + $6) > 1.0002) { print "bad row " NR ": " $0; exit 1 }
}' "$T/all.tsv" || fail "rows inconsistent"
grep -qx $'tiny\t2\tunclassified\t0.0000\tNA\tNA\ttoo_short' "$T/all.tsv" || fail "record shorter than k: $(grep tiny "$T/all.tsv")"
grep -q $'^ctg1\t2730\t' "$T/all.tsv" || fail "ctg1 length: $(grep ctg1 "$T/all.tsv")"

# same_rows A B: A and B have the same ids, lengths and predictions, and
# probabilities within 1.5e-4 (one unit of the 4th decimal plus rounding):
# other batch sizes and thread counts change float rounding in the last bits
same_rows() {
	awk -F'\t' 'FNR == NR { row[FNR] = $0; n = FNR; next }
		{ split(row[FNR], a, "\t")
		  if (a[1] != $1 || a[2] != $2 || a[3] != $3) { print "row " FNR ": " row[FNR] " / " $0; bad = 1; exit }
		  for (i = 4; i <= NF; i++) if ($i != "NA" && (a[i] - $i > 1.5e-4 || $i - a[i] > 1.5e-4)) { print "row " FNR ": " row[FNR] " / " $0; bad = 1; exit } }
		END { if (!bad && FNR != n) { print FNR " rows, want " n; bad = 1 } exit bad }' "$1" "$2"
}
# deterministic: the same run twice is bit-identical; --batch 1 (each
# window alone in its pass) too across thread counts, shards and stdin;
# other batch sizes and threads agree within rounding
expect_status 0 "$GF" classify -q -m "$T/m.gfm" $IN
cmp -s "$T/out" "$T/all.tsv" || fail "a second run differs: $(diff "$T/out" "$T/all.tsv" | head -5)"
expect_status 0 "$GF" classify -q -m "$T/m.gfm" --batch 1 $IN
cp "$T/out" "$T/b1.tsv"
same_rows "$T/all.tsv" "$T/b1.tsv" || fail "--batch 1 differs from --batch 16 beyond rounding"
expect_status 0 "$GF" classify -q -m "$T/m.gfm" --batch 1 -t 1 $IN
cmp -s "$T/out" "$T/b1.tsv" || fail "--batch 1 -t 1 differs from -t 2: $(diff "$T/out" "$T/b1.tsv" | head -5)"
expect_status 0 "$GF" classify -q -m "$T/m.gfm" --batch 5 -t 1 $IN
same_rows "$T/all.tsv" "$T/out" || fail "--batch 5 -t 1 differs beyond rounding"
"$GF" classify -q -m "$T/m.gfm" --batch 1 - <"$T/ctg.fa" >"$T/stdin.tsv" || fail "classify - failed"
tail -n 3 "$T/b1.tsv" | cmp -s - <(tail -n +3 "$T/stdin.tsv") || fail "stdin differs"

# shards: row r of shard I is record I + r*3, so interleaving the shards'
# rows gives the unsharded table: bit-identical with --batch 1
for i in 0 1 2; do
	expect_status 0 "$GF" classify -m "$T/m.gfm" --batch 1 --shard $i/3 -o "$T/s$i.tsv" $IN
	head -n 1 "$T/s$i.tsv" | cmp -s - <(head -n 1 "$T/all.tsv") || fail "shard $i: #genoformer line"
	[ "$(sed -n 2p "$T/s$i.tsv")" = "$(printf '#shard\t%d/3' $i)" ] || fail "shard $i: second line $(sed -n 2p "$T/s$i.tsv")"
	sed -n 3p "$T/s$i.tsv" | cmp -s - <(sed -n 2p "$T/all.tsv") || fail "shard $i header"
done
grep -q '^\[classify\] 11 records (22 more in other shards)' "$T/err" || fail "shard summary: $(cat "$T/err")"
interleave() { # the shards' tables without their "#shard I/N" line
	head -n 1 "$1"
	sed -n 3p "$1"
	paste -d '\n' <(tail -n +4 "$1") <(tail -n +4 "$2") <(tail -n +4 "$3") | grep -v '^$'
}
interleave "$T/s0.tsv" "$T/s1.tsv" "$T/s2.tsv" | cmp -s - "$T/b1.tsv" || fail "interleaved shards differ from the unsharded table"
for i in 0 1 2; do "$GF" classify -q -m "$T/m.gfm" --shard $i/3 $IN >"$T/d$i.tsv" || fail "shard $i/3"; done
interleave "$T/d0.tsv" "$T/d1.tsv" "$T/d2.tsv" >"$T/dm.tsv"
same_rows "$T/all.tsv" "$T/dm.tsv" || fail "interleaved --batch 16 shards differ beyond rounding"

# --min-prob P: exactly the rows with probability < P become unclassified;
# P halfway between 4-decimal steps (the median + 0.00005) so that the
# printed, rounded probabilities decide
P=$(awk -F'\t' 'NR > 2 && $1 != "tiny" { print $4 }' "$T/all.tsv" | sort -n | awk 'NR == 16 { printf "%.5f", $1 + 0.00005 }')
expect_status 0 "$GF" classify -q -m "$T/m.gfm" --min-prob "$P" --report "$T/rep.tsv" -o "$T/thr.tsv" $IN
awk -F'\t' -v p="$P" 'BEGIN { OFS = "\t" } NR > 2 && $4 + 0 < p + 0 && $NF == "-" { $3 = "unclassified"; $NF = "below_threshold" } 1' "$T/all.tsv" >"$T/want.tsv"
cmp -s "$T/want.tsv" "$T/thr.tsv" || fail "--min-prob $P: $(diff "$T/want.tsv" "$T/thr.tsv" | head -6)"
grep -v '^tiny' "$T/thr.tsv" | grep -q unclassified || fail "--min-prob $P (the median) left every row classified"
expect_status 0 "$GF" classify -q -m "$T/m.gfm" --min-prob 1 $IN
[ "$(awk -F'\t' 'NR > 2 && $3 != "unclassified"' "$T/out" | wc -l)" = 0 ] || fail "--min-prob 1 leaves classified rows"

# report: unclassified first, counts as in the table, percents sum to 100
head -n 1 "$T/rep.tsv" | grep -qx $'class\tcount\tpercent\tmean_prob' || fail "report header: $(head -n 1 "$T/rep.tsv")"
sed -n 2p "$T/rep.tsv" | grep -q '^unclassified' || fail "report: unclassified not first"
[ "$(wc -l <"$T/rep.tsv")" = 10 ] || fail "report rows: $(cat "$T/rep.tsv")"
# then one row per reason, counted as in the table's reason column
for r in too_short mostly_n low_complexity background below_threshold novel; do
	want=$(awk -F'\t' -v r="$r" 'NR > 1 && $NF == r' "$T/thr.tsv" | wc -l)
	grep -qx "unclassified:$r"$'\t'"$want"$'\t[0-9.]*\tNA' "$T/rep.tsv" || fail "report row of $r (want $want): $(cat "$T/rep.tsv")"
done
for cls in unclassified ecoli lambda; do
	want=$(awk -F'\t' -v c="$cls" 'NR > 2 && $3 == c' "$T/thr.tsv" | wc -l)
	got=$(awk -F'\t' -v c="$cls" '$1 == c { print $2 }' "$T/rep.tsv")
	[ "$want" = "$got" ] || fail "report count of $cls: $got, table has $want"
done
awk -F'\t' 'NR > 1 && $1 !~ /:/ { n += $2; p += $3 } END { if (n != 33 || p < 99.98 || p > 100.02) { print n, p; exit 1 } }' "$T/rep.tsv" ||
	fail "report sums: $(cat "$T/rep.tsv")"
# mean_prob: the mean of the class's rows' probability column (within 1e-4: 4 decimals)
awk -F'\t' 'FNR == NR { if (FNR > 2) { s[$3] += $4; n[$3]++ } next }
	FNR > 1 && $2 > 0 && $1 !~ /:/ { d = $4 - s[$1] / n[$1]; if (d > 1e-4 || d < -1e-4) { print $0, s[$1] / n[$1]; exit 1 } }' "$T/thr.tsv" "$T/rep.tsv" ||
	fail "report mean_prob: $(cat "$T/rep.tsv")"

# --rc-average: a one-window record and its reverse complement (150 bp,
# no tail at stride 3) get the same probabilities; plain runs differ
seq=$(sed -n 2,4p "$LAMBDA" | tr -d '\n' | cut -c 1-150)
rc=$(printf '%s' "$seq" | rev | tr ACGTacgt TGCAtgca)
printf '>fwd\n%s\n>rev\n%s\n' "$seq" "$rc" >"$T/pair.fa"
expect_status 0 "$GF" classify -q -m "$T/m.gfm" --rc-average "$T/pair.fa"
[ "$(cut -f 3- "$T/out" | sed -n 3p)" = "$(cut -f 3- "$T/out" | sed -n 4p)" ] || fail "--rc-average not symmetric: $(cat "$T/out")"
expect_status 0 "$GF" classify -q -m "$T/m.gfm" "$T/pair.fa"
[ "$(cut -f 5- "$T/out" | sed -n 3p)" != "$(cut -f 5- "$T/out" | sed -n 4p)" ] || fail "forward and reverse agree without --rc-average: $(cat "$T/out")"

# --per-window: window rows (0-based, end exclusive) then the record's row
expect_status 0 "$GF" classify -q -m "$T/m.gfm" --per-window "$T/ctg.fa"
sed -n 2p "$T/out" | grep -qx $'id\twindow\tbeg\tend\tlength\tpredicted\tprobability\tecoli\tlambda\treason' || fail "per-window header"
# ctg1: 2730 bp = 910 tokens of 3 bases = 15 windows of 64 tokens (192 bp), the last of 14 tokens
[ "$(grep -c $'^ctg1\t[0-9]' "$T/out")" = 15 ] || fail "ctg1 windows: $(grep -c $'^ctg1\t[0-9]' "$T/out")"
grep -q $'^ctg1\t13\t2496\t2688\t192\t' "$T/out" || fail "window 13 of ctg1: $(grep $'^ctg1\t13' "$T/out")"
grep -q $'^ctg1\t14\t2688\t2730\t42\t' "$T/out" || fail "last window of ctg1: $(grep $'^ctg1\t14' "$T/out")"
grep -q $'^ctg1\tall\t0\t2730\t2730\t' "$T/out" || fail "record row of ctg1"
[ "$(grep $'^ctg1\tall' "$T/out" | cut -f 5-)" = "$(grep $'^ctg1\t' "$T/all.tsv" | cut -f 2-)" ] || fail "per-window record row differs from the plain row"

# help and errors: one line, exit 2 (usage) or 1 (input)
expect_status 0 "$GF" classify -h
grep -q -- '--shard I/N' "$T/out" || fail "usage lacks --shard"
grep -q -- '--batch INT' "$T/out" && grep -q -- '\[16\]' "$T/out" || fail "usage lacks the --batch default"
expect_error 2 '--shard expects I/N with 0 <= I < N' "$GF" classify -m "$T/m.gfm" --shard 3/3 $IN
expect_error 2 "got '1/0'" "$GF" classify -m "$T/m.gfm" --shard 1/0 $IN
expect_error 2 "got 'x'" "$GF" classify -m "$T/m.gfm" --shard x $IN
expect_error 2 '--min-prob expects a number in 0..1' "$GF" classify -m "$T/m.gfm" --min-prob 1.5 $IN
expect_error 2 'no model' "$GF" classify $IN
expect_error 2 'no input file' "$GF" classify -m "$T/m.gfm"
expect_error 2 '--batch expects an integer' "$GF" classify -m "$T/m.gfm" --batch 0 $IN
expect_error 1 "$T/none.gfm" "$GF" classify -m "$T/none.gfm" $IN
printf 'not a model\n' >"$T/text.gfm"
expect_error 1 "$T/text.gfm" "$GF" classify -m "$T/text.gfm" $IN
# a flipped byte in the last tensor: the CRC check names it
cp "$T/m.gfm" "$T/bad.gfm"
size=$(wc -c <"$T/bad.gfm")
printf '\377' | dd of="$T/bad.gfm" bs=1 seek=$((size - 8)) conv=notrunc 2>/dev/null
expect_error 1 'CRC' "$GF" classify -m "$T/bad.gfm" $IN
head -c 1000 "$T/m.gfm" >"$T/short.gfm"
expect_error 1 'truncated' "$GF" classify -m "$T/short.gfm" $IN
expect_error 1 'nosuch.fa' "$GF" classify -m "$T/m.gfm" "$T/nosuch.fa"
expect_error 2 '--device' "$GF" classify -m "$T/m.gfm" --device tpu $IN
# unwritable output, and an input error after rows were written: no file left
expect_error 1 "$T/no/dir/out.tsv" "$GF" classify -m "$T/m.gfm" -o "$T/no/dir/out.tsv" $IN
expect_status 1 "$GF" classify -m "$T/m.gfm" -o "$T/part.tsv" --report "$T/part.rep" $IN tests/data/bad/no_plus.fq
grep -q 'no_plus.fq' "$T/err" || fail "bad input not named: $(cat "$T/err")"
ls "$T" | grep -q part && fail "partial output left: $(ls "$T" | grep part)"
exit 0
