# scripts/bench/kh_graft.c (the issue-10 hybrid experiment,
# scripts/bench/species-hybrid.sh): the k-mer head of one model copied into
# another with a given lambda; the base's weights and thresholds stay.
set -u
[ "$GF" = ./genoformer ] || skip "the helper is built with the plain build, this run tests $GF"
make -s --no-print-directory build/bench/kh_graft >"$T/make.log" 2>&1 || fail "make build/bench/kh_graft: $(tail -3 "$T/make.log")"
D=tests/data/markers
expect_status 0 "$GF" train -o "$T/m.gfm" --labels $D/train.lineage.tsv $D/train.fa --steps 3 -t 2
expect_status 0 build/bench/kh_graft "$T/m.gfm" "$T/m.gfm" 0.5 "$T/g.gfm"
expect_status 0 "$GF" info "$T/g.gfm"
grep -q $'^meta.kmerhead\tk=8 trials=100 lambda=0.5 records=18 ' "$T/out" || fail "grafted lambda: $(grep kmerhead "$T/out")"
grep $'^meta.openset' "$T/out" >"$T/os.g"
expect_status 0 "$GF" info "$T/m.gfm"
grep $'^meta.openset' "$T/out" | cmp -s - "$T/os.g" || fail "thresholds changed"
# the Reformer alone gives the same probabilities from both
expect_status 0 "$GF" classify -m "$T/m.gfm" $D/query.fa --no-kmer-head
grep -v '^#' "$T/out" >"$T/a"
expect_status 0 "$GF" classify -m "$T/g.gfm" $D/query.fa --no-kmer-head
grep -v '^#' "$T/out" | cmp -s - "$T/a" || fail "weights changed"
expect_status 0 "$GF" classify -m "$T/g.gfm" $D/query.fa
# a model without a head is refused as HEAD
expect_status 1 build/bench/kh_graft "$T/m.gfm" tests/data/models/example-v0.1.gfm 1 "$T/x.gfm"
grep -q "no head" "$T/err" || fail "no-head message: $(cat "$T/err")"
[ ! -e "$T/x.gfm" ] || fail "wrote a model without a head"
