#!/bin/bash
# Issue-10 experiment (docs/bench-species.md, "Hybrid: the k-mer head on the
# bundled model"): the bundled model with src/kmerhead.c's 8-mer head fitted
# on the same training genomes, without retraining the Reformer.
#  1. cuts scripts/bench/species.sh's training genomes (held-out strains left
#     out) and the background into 1,500 bp records (the head counts words per
#     record: a whole genome holds nearly all 65,536 8-mers);
#  2. `train --init` with --lr 0 --steps 1 on them: short records, so train
#     fits the head (src/markers.c) - but --init gives a NEW classifier layer,
#     so that model's Reformer, its lambda and its thresholds are not used;
#  3. scripts/bench/kh_graft.c copies the head into a copy of the bundled
#     model with lambda LAMBDAS (the bundled Reformer, classes and open-set
#     thresholds unchanged);
#  4. classifies species.sh's test sets (run it first) with each, rows in
#     data/cache/hybrid/w/results.tsv.
#   THREADS=N [2]  LAMBDAS="0 1 4"  SETS  CHUNK=1500
set -euo pipefail
cd "$(dirname "$0")/../.."
GF=${GF:-./genoformer} THREADS=${THREADS:-2} LAMBDAS=${LAMBDAS:-"0 1 4"} CHUNK=${CHUNK:-1500}
SETS=${SETS:-"frag150 frag150e frag500 frag1000 frag10000 contigs lambda other150 other1000 alln lowc"}
H=data/cache/hybrid W=data/cache/hybrid/w B=data/cache/bench-species
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
[ -s $B/test/other1000.truth ] || { echo "species-hybrid: run scripts/bench/species.sh first" >&2; exit 1; }
mkdir -p $W && ln -sfn ../../bench-species/test $W/test
for f in $B/train/{E.coli,H.pylori,S.aureus,V.cholerae}.fa data/cache/openset/background.fa; do
	c=$(basename "$f" .fa)
	[ -s "$H/$c.fa" ] || awk -v c="$c" -v n="$CHUNK" '/^>/ { cut(); next } { s = s $0 }
		function cut() { for (i = 1; i + n - 1 <= length(s); i += n) print ">" c "_" ++j "\n" substr(s, i, n); s = "" }
		END { cut() }' "$f" >"$H/$c.fa"
done
# shellcheck disable=SC2046
[ -s $H/example-kh.gfm ] || "$GF" train -o $H/example-kh.gfm --init data/models/example.gfm \
	$(for c in E.coli H.pylori S.aureus V.cholerae; do printf -- '--class %s=%s ' $c $H/$c.fa; done) \
	--background $H/background.fa --steps 1 --lr 0 --warmup 0 --batch 16 --seed 1 --val-windows 512 -t "$THREADS" --device cpu
make -s -j2 genoformer build/bench/kh_graft
now() { date +%s.%N; }
# species.sh's scoring (score) and classify rows (gf_rows), taken from it
eval "$(sed -n '/^score() {/,/^}/p;/^gf_rows() {/,/^}/p' scripts/bench/species.sh)"
printf 'tool\tset\trecords\taccuracy\tmacro_f1\twrong\tunclassified\tright_bp\twrong_bp\tbp_per_s\tseconds\n' >$W/results.tsv
# shellcheck disable=SC2086
gf_rows bundled data/models/example.gfm "" $SETS
for l in $LAMBDAS; do
	build/bench/kh_graft data/models/example.gfm $H/example-kh.gfm "$l" "$H/kh$l.gfm"
	# shellcheck disable=SC2086
	gf_rows "kmerhead-l$l" "$H/kh$l.gfm" "" $SETS
done
column -t $W/results.tsv
