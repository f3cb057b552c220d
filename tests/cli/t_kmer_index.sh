# The exact k-mer index (issue 10): train stores it (and thresholds for
# novel records), info shows both, classify adds its evidence to the
# Reformer's (reads of a trained genome are called by it even with a
# Reformer near chance; --no-kmer-index gives the Reformer's alone), calls
# records shorter than the model's shortest length from exact hits, says
# 'novel' for records it finds nothing in; `genoformer index` builds the
# same index for a model trained without one, and refuses what it cannot do.
set -u
. tests/cli/model.sh

# lambda vs 36 kbp of E. coli: long records, so the index is on by default
train_model --kmer-index auto
expect_status 0 "$GF" info "$T/m.gfm"
grep -q $'^meta.kmerindex\tk=31 w=12 min_hits=2 min_frac=0.05 weight=4.5951[0-9]* entries=[0-9]* shared=0 per_class=[0-9]*,[0-9]*$' "$T/out" ||
	fail "info kmerindex: $(grep kmerindex "$T/out")"
# with --target-precision 0 every novel threshold is 0 too
grep -qx $'openset.min_prob_novel_by_length\t100:0,150:0,192:0' "$T/out" ||
	fail "info novel: $(grep novel "$T/out")"
grep -q 'k-mer index of 2 records' "$T/train.err" && fail "train -q logged the index"

# lambda reads: the tiny Reformer is near chance, the index is sure (42 of
# the 50 simulated reads with errors, 41-354 bp, hold 2 exact hits)
gzip -dc data/cache/lambda/reads_1.fq.gz | head -n 200 >"$T/reads.fq"
expect_status 0 "$GF" classify -m "$T/m.gfm" -o "$T/with.tsv" "$T/reads.fq"
expect_status 0 "$GF" classify -m "$T/m.gfm" --no-kmer-index -o "$T/without.tsv" "$T/reads.fq"
lam=$(awk -F'\t' 'NR > 2 && $3 == "lambda" && $4 > 0.999 { n++ } END { print n + 0 }' "$T/with.tsv")
[ "$lam" -ge 40 ] || fail "only $lam of 50 lambda reads called lambda with the index: $(head -5 "$T/with.tsv")"
sure=$(awk -F'\t' 'NR > 2 && $4 > 0.9 { n++ } END { print n + 0 }' "$T/without.tsv")
[ "$sure" = 0 ] || fail "--no-kmer-index: the Reformer alone is sure of $sure reads"
# --kmer-min-frac 1: a class must have all the hits of an identical read
expect_status 0 "$GF" classify -m "$T/m.gfm" --kmer-min-frac 1 -o "$T/strict.tsv" "$T/reads.fq"
strict=$(awk -F'\t' 'NR > 2 && $3 == "lambda" && $4 > 0.999 { n++ } END { print n + 0 }' "$T/strict.tsv")
[ "$strict" -lt "$lam" ] || fail "--kmer-min-frac 1 called $strict reads, the default $lam"
sed -n 2p "$T/with.tsv" | grep -qx $'id\tlength\tpredicted\tprobability\tecoli\tlambda\treason' || fail "header"

# E. coli from outside the 36 kbp trained on, and random sequence: no
# evidence (novel); a threshold for novel records leaves them unclassified
train_model --target-precision 0.99 --steps 6 --crop-min 64 --kmer-index on
expect_status 0 "$GF" info "$T/m.gfm"
nov=$(awk -F'\t' '$1 == "openset.min_prob_novel_by_length" { print $2 }' "$T/out")
echo "$nov" | grep -qx '100:[0-9.e-]*,150:[0-9.e-]*,192:[0-9.e-]*' || fail "novel thresholds: '$nov'"
grep -q ' novel [0-9]*: ' "$T/out" || fail "calibration line lacks the novel windows: $(grep calibration "$T/out")"
{
	printf '>far_ecoli\n'; sed -n 2000,2010p "$ECOLI" | tr -d '\n'; printf '\n'
	printf '>random\n'; awk 'BEGIN { srand(3); for (i = 0; i < 600; i++) printf "%s", substr("ACGT", int(rand() * 4) + 1, 1); print "" }'
	printf '>lambda45\n'; sed -n 2p "$LAMBDA" | cut -c1-45
	printf '>ecoli300\n'; sed -n 20,24p "$T/ecoli.fa" | tr -d '\n'; printf '\n'
} >"$T/q.fa"
expect_status 0 "$GF" classify -m "$T/m.gfm" -o "$T/q.tsv" --report "$T/rep.tsv" "$T/q.fa"
for r in far_ecoli random; do
	awk -F'\t' -v r=$r '$1 == r { exit !($3 == "unclassified" && ($NF == "novel" || $NF == "below_threshold")) }' "$T/q.tsv" ||
		fail "$r: $(grep "^$r" "$T/q.tsv")"
done
# 45 bp is under the model's 64: too short for the Reformer, not for exact 31-mers
awk -F'\t' '$1 == "lambda45" { exit !($2 == 45 && $3 == "lambda" && $4 > 0.99 && $NF == "-") }' "$T/q.tsv" ||
	fail "lambda45: $(grep lambda45 "$T/q.tsv")"
awk -F'\t' '$1 == "ecoli300" { exit !($3 == "ecoli" && $4 > 0.99 && $NF == "-") }' "$T/q.tsv" ||
	fail "ecoli300: $(grep ecoli300 "$T/q.tsv")"
expect_status 0 "$GF" classify -m "$T/m.gfm" --no-kmer-index -o "$T/q0.tsv" "$T/q.fa"
grep -q $'^lambda45\t45\tunclassified\t0.0000\tNA\tNA\ttoo_short$' "$T/q0.tsv" || fail "lambda45 alone: $(grep lambda45 "$T/q0.tsv")"
grep -q "^unclassified:novel"$'\t' "$T/rep.tsv" || fail "report lacks unclassified:novel: $(cat "$T/rep.tsv")"

# train --kmer-index off: no index; `genoformer index` adds the one train makes
train_model --kmer-index off
cp "$T/m.gfm" "$T/off.gfm"
expect_status 0 "$GF" info "$T/off.gfm"
grep -q kmerindex "$T/out" && fail "--kmer-index off stored an index"
train_model --kmer-index auto
expect_status 0 "$GF" index -m "$T/off.gfm" -o "$T/idx.gfm" --class lambda="$LAMBDA" --class ecoli="$T/ecoli.fa"
grep -q '^\[index\] k-mer index of 2 records (k=31 ' "$T/err" || fail "index log: $(cat "$T/err")"
"$GF" info "$T/m.gfm" | grep '^meta.kmerindex' >"$T/a"
"$GF" info "$T/idx.gfm" | grep '^meta.kmerindex' >"$T/b"
cmp -s "$T/a" "$T/b" || fail "index and train built different indexes: $(cat "$T/a" "$T/b")"
"$GF" info "$T/idx.gfm" | grep -q $'^meta.index.cmdline\tgenoformer index -m' || fail "index.cmdline not stamped"
"$GF" classify -q -m "$T/m.gfm" "$T/reads.fq" | tail -n +2 >"$T/c1"
"$GF" classify -q -m "$T/idx.gfm" "$T/reads.fq" | tail -n +2 >"$T/c2"
cmp -s "$T/c1" "$T/c2" || fail "the two indexes classify differently"
# the weights, classes and thresholds are the model's
"$GF" info --tensors "$T/off.gfm" | grep -E '^(params_crc32|openset.min_prob_by_length)' >"$T/a"
"$GF" info --tensors "$T/idx.gfm" | grep -E '^(params_crc32|openset.min_prob_by_length)' >"$T/b"
cmp -s "$T/a" "$T/b" || fail "index changed the model: $(cat "$T/a" "$T/b")"

# errors: one line, nothing written
printf '>x\nACGTACGTACGTACGTACGTACGTACGTACGTACGT\n' >"$T/x.fa"
expect_error 1 "$T/x.fa: record 'x': class 'phage' is not one of the model's" \
	"$GF" index -m "$T/off.gfm" -o "$T/bad.gfm" --class phage="$T/x.fa"
[ -e "$T/bad.gfm" ] && fail "a failed index wrote its output"
expect_error 2 "-o is required" "$GF" index -m "$T/off.gfm" --class lambda="$T/x.fa"
expect_error 2 "no sequences" "$GF" index -m "$T/off.gfm" -o "$T/bad.gfm"
expect_status 1 "$GF" index -m "$T/off.gfm" -o "$T/off.gfm" --class lambda="$T/x.fa"
grep -q "off.gfm" "$T/err" || fail "output = model: $(cat "$T/err")"
printf 'y\tlambda\n' >"$T/labels.tsv"
expect_error 1 "$T/x.fa: record 'x' has no class" "$GF" index -m "$T/off.gfm" -o "$T/bad.gfm" --labels "$T/labels.tsv" "$T/x.fa"
true
