# Marker genes (18 real 16S of 6 genera, tests/data/markers): settings and
# validation split chosen from the data, printed and stored in the model;
# the user's options win; the k-mer head and hierarchical calls that stop
# at the deepest confident rank; long genomes keep the tail split.
set -u
D=tests/data/markers
ENT='Bacteria;Proteobacteria;Gammaproteobacteria;Enterobacterales;Enterobacteriaceae'
AUTO='k=6 stride=3 window=512 layers=2 d_model=64 heads=4 d_ff=256 patience=3'

# no tuning option (--steps only keeps the test short)
expect_status 0 "$GF" train -o "$T/m.gfm" --labels $D/train.lineage.tsv $D/train.fa --steps 3 -t 2
grep -qF "[train] data: 18 records, median 1463 bp, 90th percentile 1502 bp, 6 classes, 3.0 records per class" "$T/err" ||
	fail "data line: $(cat "$T/err")"
grep -qF "[train] settings from the data: $AUTO" "$T/err" || fail "settings line: $(cat "$T/err")"
grep -qF "[train] validation split: records: short records; whole records held out" "$T/err" || fail "split line: $(cat "$T/err")"
# one whole record per class validates: 6 windows of whole records
grep -qF "validation (6 windows of 512 tokens), 6 classes" "$T/err" || fail "validation windows: $(cat "$T/err")"
expect_status 0 "$GF" info "$T/m.gfm"
for want in $'meta.auto.settings\t'"$AUTO" $'window\t512' $'tokenizer.k\t6' $'tokenizer.stride\t3' $'config.n_layers\t2'; do
	grep -qxF "$want" "$T/out" || fail "info lacks '$want': $(cat "$T/out")"
done
grep -q $'^meta.auto.val_split\trecords: ' "$T/out" || fail "info: no val_split"
grep -q $'^meta.kmerhead\tk=8 trials=100 lambda=[0-9.]* records=18 words=[0-9]* nnz=[0-9]*$' "$T/out" ||
	fail "info: k-mer head summary: $(grep kmerhead "$T/out")"

# the user's options win; the others still come from the data
expect_status 0 "$GF" train -o "$T/u.gfm" --labels $D/train.lineage.tsv $D/train.fa --steps 2 -t 2 -k 4 --stride 4 -L 128
grep -qF "[train] settings from the data: layers=2 d_model=64 heads=4 d_ff=256 patience=3" "$T/err" || fail "user options: $(cat "$T/err")"
expect_status 0 "$GF" info "$T/u.gfm"
grep -qxF $'window\t128' "$T/out" && grep -qxF $'tokenizer.k\t4' "$T/out" || fail "user window/k lost: $(cat "$T/out")"

# a new Enterobacter is called to the genus; a chimera of Enterobacter and
# Serratia halves (same family) stops at the family
expect_status 0 "$GF" classify -m "$T/m.gfm" $D/query.fa -o "$T/c.tsv"
sed -n 2p "$T/c.tsv" | grep -q $'\tlineage\tlineage_conf\treason$' || fail "header: $(sed -n 2p "$T/c.tsv")"
awk -F'\t' -v want="$ENT;Enterobacter" '$1 == "unseen_Enterobacter" && $(NF-2) == want && $(NF-1) == "1.0000;1.0000;1.0000;1.0000;1.0000;1.0000" { ok = 1 } END { exit !ok }' "$T/c.tsv" ||
	fail "unseen record: $(grep unseen "$T/c.tsv" | cut -f1-4,11-)"
awk -F'\t' -v want="$ENT" '$1 == "chimera_Enterobacter_Serratia" && $(NF-2) == want && $(NF-1) ~ /^1.0000;1.0000;1.0000;1.0000;1.0000;0\./ { ok = 1 } END { exit !ok }' "$T/c.tsv" ||
	fail "chimera: $(grep chimera "$T/c.tsv" | cut -f1-4,11-)"
# --rank-conf 0: always down to the genus; 1: a split genus vote is not enough
expect_status 0 "$GF" classify -m "$T/m.gfm" $D/query.fa --rank-conf 0
awk -F'\t' '$1 ~ /^chimera/ && $(NF-2) ~ /Enterobacteriaceae;(Enterobacter|Serratia)$/ { ok = 1 } END { exit !ok }' "$T/out" ||
	fail "--rank-conf 0: $(cut -f1,11- "$T/out")"
expect_error 2 "--rank-conf expects a number in 0..1, got '1.5'" "$GF" classify -m "$T/m.gfm" $D/query.fa --rank-conf 1.5
# the Reformer alone (3 steps: near uniform over the 6 genera)
expect_status 0 "$GF" classify -m "$T/m.gfm" $D/query.fa --no-kmer-head
awk -F'\t' 'NR > 2 && $4 > 0.5 { bad = 1 } END { exit bad }' "$T/out" || fail "--no-kmer-head: $(cut -f1-4 "$T/out")"

# two long genomes: the tail of every record validates; no k-mer head
LAMBDA=data/cache/lambda/lambda_virus.fa
[ -s "$LAMBDA" ] || fail "no data/cache examples: run data/fetch-examples.sh"
head -n 600 data/cache/ecoli/MG1655-K12.fasta >"$T/ecoli.fa"
expect_status 0 "$GF" train -o "$T/g.gfm" --class lambda="$LAMBDA" --class ecoli="$T/ecoli.fa" -k 3 --window 64 \
	--layers 1 --d-model 16 --heads 2 --d-ff 32 --chunk 16 --steps 1 --batch 2 -t 2
grep -qF "[train] validation split: tail: few long records; the last 10% of every record held out" "$T/err" ||
	fail "long records: $(cat "$T/err")"
expect_status 0 "$GF" info "$T/g.gfm"
grep -q '^meta.kmerhead' "$T/out" && fail "a k-mer head on long genomes"
exit 0
