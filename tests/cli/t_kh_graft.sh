# scripts/bench/lib/kh-graft.c (the issue-10 hybrid experiment,
# scripts/bench/species-hybrid.sh): the k-mer head of one model copied into
# another with a given lambda; the base's weights and thresholds stay.
set -u
if [ -z "$(ls build/src/*.o 2>/dev/null)" ] || [ ! -s build/libgenoformer.a ]; then skip "no build/src objects (make)"; fi
# shellcheck disable=SC2046
cc -std=c11 -O2 -fopenmp -D_GNU_SOURCE -I. -o "$T/kh-graft" scripts/bench/lib/kh-graft.c \
	$(ls build/src/*.o) build/libgenoformer.a -lhts -lopenblas -ldnnl -lz -lm 2>"$T/cc.err" || fail "cc: $(cat "$T/cc.err")"
D=tests/data/markers
expect_status 0 "$GF" train -o "$T/m.gfm" --labels $D/train.lineage.tsv $D/train.fa --steps 3 -t 2
expect_status 0 "$T/kh-graft" "$T/m.gfm" "$T/m.gfm" 0.5 "$T/g.gfm"
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
expect_status 1 "$T/kh-graft" "$T/m.gfm" tests/data/models/example-v0.1.gfm 1 "$T/x.gfm"
grep -q "no head" "$T/err" || fail "no-head message: $(cat "$T/err")"
[ ! -e "$T/x.gfm" ] || fail "wrote a model without a head"
