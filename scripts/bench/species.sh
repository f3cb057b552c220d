#!/bin/bash
# Species benchmark: genoformer vs. Kraken 2 on the four species of
# ragout-examples (E. coli, H. pylori, S. aureus, V. cholerae), and on what
# is none of them (issue 10: answers users can trust).
#   Training genomes: ragout's references except the held-out strains.
#   In-class tests, from the held-out strains (MG1655, SJM180, USA300_FPR3757,
#   H1: the strains whose contigs ragout ships), never trained on:
#     frag150, frag150e  NREAD reads of 150 bp per species, exact and with 1%
#                        substitutions; frag500, frag1000, frag10000,
#                        frag100000: fragments, N500/N1K/N10K/N100K per species,
#                        evenly spread, cut with samtools faidx
#     contigs            the whole draft assemblies of the held-out strains,
#                        every contig (2,513), scored by contig and by base
#   Out-of-class tests (truth "none": any named species is wrong):
#     lambda             the 10,000 lambda phage reads of bowtie2-examples
#     other150, other1000  NOTHER fragments of each species of
#                        data/cache/openset/other.fa (data/fetch-openset.sh;
#                        never trained on, background included)
#     alln, lowc         all-N records; tandem repeats of period 1..5 (150 bp, 1 kbp)
#   genoformer: MODEL (default the bundled data/models/example.gfm, trained
#   by scripts/train-example.sh on the same training genomes plus the
#   background), BASELINE (the bundled model before issue 10,
#   tests/data/models/example-v0.1.gfm; rows named BASE_NAME) in the same
#   run for the speed ratio; REFORMER=1 (default) adds rows of MODEL with
#   --no-kmer-index: the Reformer alone, without the exact k-mer index;
#   RC=1 adds rows with classify --rc-average; TRAIN=1 trains one here
#   instead (TRAIN_OPTS).
#   PRETRAIN=1 also compares pretraining with training from scratch on an
#   equal fine-tuning budget (docs/bench-species.md, section "Pretraining"):
#   `genoformer pretrain` (PT_STEPS), then `train --init` (FT_STEPS), against
#   `train` from scratch with the same FT_STEPS; rows gf-pretrained and
#   gf-scratch on the sets PT_SIZES.
# OMP_WAIT_POLICY is passive unless set: on a loaded machine, OpenMP threads
# spinning at barriers made 2-thread classification 6x slower than 1 thread.
#   Kraken 2: a custom database of the training genomes with a hand-made
#   four-species taxonomy (no NCBI files needed: sequences carry
#   kraken:taxid), default k-mer sizes, --no-masking.
# Metrics per tool and set: accuracy (unclassified = wrong), macro-F1 over
# the species, wrong (a wrong species named: "confidently wrong"),
# unclassified, right and wrong by base, bp/s of the classification step
# alone (database building reported apart).
# Work files go to data/cache/bench-species/; the table to stdout and
# data/cache/bench-species/results.tsv.
set -euo pipefail
cd "$(dirname "$0")/../.."
GF=${GF:-./genoformer}
THREADS=${THREADS:-2}
MODEL=${MODEL:-data/models/example.gfm}
NREAD=${NREAD:-1000} N500=${N500:-200} N1K=${N1K:-200} N10K=${N10K:-30} N100K=${N100K:-8} NOTHER=${NOTHER:-200}
BASELINE=${BASELINE:-tests/data/models/example-v0.1.gfm} BASE_NAME=${BASE_NAME:-genoformer-v0.1} RC=${RC:-0}
REFORMER=${REFORMER:-1}
TRAIN=${TRAIN:-0}
TRAIN_OPTS=${TRAIN_OPTS:-"-k 6 --stride 6 --window 512 --layers 4 --d-model 64 --heads 4 --d-ff 256 --steps 2000 --batch 16 --balance"}
PRETRAIN=${PRETRAIN:-0}
PT_STEPS=${PT_STEPS:-400} FT_STEPS=${FT_STEPS:-300} PT_SIZES=${PT_SIZES:-"frag1000 frag10000"}
# scripts/train-example.sh's architecture and optimiser settings
PT_ARCH="-k 6 -L 256 --layers 2 --d-model 64 --heads 4 --d-ff 128 --attn local,lsh --chunk 64"
PT_OPT="--batch 16 --lr 3e-3 --warmup 50 --seed 1 --val-every 50 --val-windows 512 --device cpu"
W=data/cache/bench-species
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
say() { echo "[species] $*" >&2; }

data/fetch-examples.sh
data/fetch-openset.sh
for tool in kraken2; do
	command -v $tool >/dev/null || { say "installing $tool from Debian"; apt-get install -y -qq $tool >/dev/null; }
done
R=data/cache/ragout
mkdir -p $W/train $W/test
CLASSES="E.coli H.pylori S.aureus V.cholerae"
dir_of() { case $1 in E.coli) echo E.Coli ;; H.pylori) echo H.Pylori ;; S.aureus) echo S.Aureus ;; V.cholerae) echo V.Cholerae ;; esac; }
heldout_of() { case $1 in E.coli) echo MG1655-K12 ;; H.pylori) echo SJM180 ;; S.aureus) echo USA300_FPR3757 ;; V.cholerae) echo H1 ;; esac; }
now() { date +%s.%N; }

# training genomes, one FASTA per species
for c in $CLASSES; do
	[ -s $W/train/$c.fa ] && continue
	: >$W/train/$c.fa
	for g in $R/$(dir_of $c)/references/*.fasta.gz; do
		[ "$(basename "$g" .fasta.gz)" = "$(heldout_of $c)" ] && continue
		gzip -dc "$g" >>$W/train/$c.fa
	done
	say "$c: training genomes $(grep -c '>' $W/train/$c.fa) records, $(grep -v '>' $W/train/$c.fa | tr -d '\n' | wc -c) bp"
done

# test fragments: n evenly spread non-overlapping fragments of size f per
# species, cut with samtools faidx from the held-out genome (or, for the
# out-of-class set "other", from each species of data/cache/openset/other.fa)
for c in $CLASSES; do
	g=$W/test/$c.heldout.fa
	[ -s $g.fai ] || { gzip -dc $R/$(dir_of $c)/references/$(heldout_of $c).fasta.gz >$g; samtools faidx $g; }
done
# cut FASTA FAI SIZE N PREFIX: N evenly spread fragments of SIZE bp, named PREFIX_SIZE_i
cut_frags() {
	awk -v f=$3 -v n=$4 '{ name[NR] = $1; slots[NR] = int($2 / f); total += slots[NR] }
		END { step = total / n; if (step < 1) step = 1
			for (j = 0; j < n && j * step < total; j++) {
				k = int(j * step); r = 1; while (k >= slots[r]) { k -= slots[r]; r++ }
				print name[r] ":" k * f + 1 "-" (k + 1) * f } }' "$2" >$W/test/regions
	samtools faidx -r $W/test/regions "$1" | awk -v p="$5_$3" '/^>/ { print ">" p "_" j++; next } { print }'
}
# SET: NAME SIZE N; the truth of a record is its species, or "none" (out-of-class)
for spec in frag150:150:$NREAD frag500:500:$N500 frag1000:1000:$N1K frag10000:10000:$N10K frag100000:100000:$N100K; do
	set=${spec%%:*} rest=${spec#*:} size=${rest%%:*} n=${rest#*:}
	[ -s $W/test/$set.truth ] && continue
	: >$W/test/$set.fa
	for c in $CLASSES; do cut_frags $W/test/$c.heldout.fa $W/test/$c.heldout.fa.fai $size $n $c >>$W/test/$set.fa; done
	awk '/^>/ { id = substr($1, 2); c = id; sub(/_[0-9]+_[0-9]+$/, "", c); print id "\t" c }' $W/test/$set.fa >$W/test/$set.truth
done
# 150 bp reads with 1% substitutions (each base with probability 0.01, to another base; seeded)
if [ ! -s $W/test/frag150e.truth ]; then
	awk 'BEGIN { srand(11); split("ACGT", b, "") } /^>/ { print; next }
		{ s = ""; for (i = 1; i <= length($0); i++) { x = substr($0, i, 1)
			if (rand() < 0.01) { y = x; while (y == x) y = b[int(rand() * 4) + 1]; x = y }
			s = s x } print s }' $W/test/frag150.fa >$W/test/frag150e.fa
	cp $W/test/frag150.truth $W/test/frag150e.truth
fi
# whole held-out assemblies (ragout's contigs of the held-out strains), every contig
if [ ! -s $W/test/contigs.truth ]; then
	: >$W/test/contigs.fa
	for c in $CLASSES; do
		gzip -dc $R/$(dir_of $c)/*_contigs.fasta.gz | awk -v c=$c '/^>/ { print ">" c "_ctg" ++i; next } { print }' >>$W/test/contigs.fa
	done
	awk '/^>/ { id = substr($1, 2); c = id; sub(/_ctg[0-9]+$/, "", c); print id "\t" c }' $W/test/contigs.fa >$W/test/contigs.truth
fi
# out-of-class: lambda phage reads (bowtie2-examples reads_1, all 10,000);
# fragments of 150 bp and 1 kbp of the species of other.fa (never trained
# on, background included); all-N records; low-complexity records
if [ ! -s $W/test/other1000.truth ]; then
	gzip -dc data/cache/lambda/reads_1.fq.gz | awk 'NR % 4 == 1 { print ">lambda_" ++i } NR % 4 == 2 { print }' >$W/test/lambda.fa
	samtools faidx data/cache/openset/other.fa
	for size in 150 1000; do
		: >$W/test/other$size.fa
		while read -r name len rest; do
			printf '%s\t%s\n' "$name" "$len" >$W/test/one.fai
			# L. kirschneri is a draft of 57 kbp: as many as fit
			cut_frags data/cache/openset/other.fa $W/test/one.fai $size $NOTHER "$name" >>$W/test/other$size.fa
		done <data/cache/openset/other.fa.fai
	done
	awk 'BEGIN { srand(5); split("ACGT", b, "")
		for (i = 0; i < 100; i++) { len = i < 50 ? 150 : 1000
			s = ""; for (j = 0; j < len; j++) s = s "N"; print ">allN_" len "_" i; print s } }' >$W/test/alln.fa
	awk 'BEGIN { srand(6); split("ACGT", b, "")
		for (i = 0; i < 100; i++) { len = i < 50 ? 150 : 1000; p = 1 + i % 5; u = ""
			for (j = 0; j < p; j++) u = u b[int(rand() * 4) + 1]
			s = ""; while (length(s) < len) s = s u; print ">lowc_p" p "_" len "_" i; print substr(s, 1, len) } }' >$W/test/lowc.fa
	for set in lambda other150 other1000 alln lowc; do
		awk '/^>/ { print substr($1, 2) "\tnone" }' $W/test/$set.fa >$W/test/$set.truth
	done
fi
SETS="frag150 frag150e frag500 frag1000 frag10000 frag100000 contigs lambda other150 other1000 alln lowc"

# score TOOL SET PRED SECONDS: one results row. PRED: id<TAB>predicted (a
# class or "unclassified"), in any order. In-class sets: accuracy, macro-F1
# over the species (unclassified counts as wrong), wrong = a wrong species
# named ("confidently wrong"), unclassified; for contigs also by base.
# Out-of-class sets: every named species is wrong.
score() {
	local bp
	bp=$(grep -v '>' $W/test/$2.fa | tr -d '\n' | wc -c)
	awk -F'\t' -v tool=$1 -v set=$2 -v secs=$4 -v bp=$bp -v fa=$W/test/$2.fa '
		BEGIN { while ((getline l < fa) > 0) if (l ~ /^>/) { split(substr(l, 2), a, /[ \t]/); id = a[1] } else len[id] += length(l) }
		FNR == NR { pred[$1] = $2; next }
		{ n++; t = $2; p = ($1 in pred) ? pred[$1] : "unclassified"; L = len[$1]; tb += L
		  if (p == "unclassified") { u++; ub += L } else if (p == t) { r++; rb += L; tp[t]++ } else { w++; wb += L; fp[p]++; fn[t]++ }
		  if (p == "unclassified" && t != "none") fn[t]++
		  if (t != "none") cls[t] = 1 }
		END { f1 = 0; nc = 0
			for (c in cls) { pr = tp[c] + fp[c] ? tp[c] / (tp[c] + fp[c]) : 0; rc = tp[c] + fn[c] ? tp[c] / (tp[c] + fn[c]) : 0
				f1 += pr + rc ? 2 * pr * rc / (pr + rc) : 0; nc++ }
			printf "%s\t%s\t%d\t%.4f\t%s\t%.4f\t%.4f\t%.4f\t%.4f\t%.3g\t%.1f\n", tool, set, n, r / n, nc ? sprintf("%.4f", f1 / nc) : "NA",
				w / n, u / n, rb / tb, wb / tb, bp / secs, secs }' "$3" $W/test/$2.truth >>$W/results.tsv
}
printf 'tool\tset\trecords\taccuracy\tmacro_f1\twrong\tunclassified\tright_bp\twrong_bp\tbp_per_s\tseconds\n' >$W/results.tsv

# genoformer
if [ "$TRAIN" = 1 ]; then
	MODEL=$W/genoformer.gfm
	t0=$(now)
	# shellcheck disable=SC2086
	"$GF" train -q -o $MODEL -t "$THREADS" $TRAIN_OPTS $(for c in $CLASSES; do printf -- '--class %s=%s ' $c $W/train/$c.fa; done)
	say "genoformer: trained $MODEL in $(echo "$(now) - $t0" | bc) s"
fi
# gf_rows TOOL MODEL OPTS SET...: classify each set with MODEL and the
# classify options OPTS, one row per set
gf_rows() {
	local tool=$1 model=$2 opts=$3 set t0
	shift 3
	for set in "$@"; do
		t0=$(now)
		# shellcheck disable=SC2086
		"$GF" classify -q -m "$model" -t "$THREADS" $opts -o $W/$tool.$set.tsv $W/test/$set.fa
		grep -v '^#' $W/$tool.$set.tsv | cut -f 1,3 | tail -n +2 >$W/$tool.$set.pred
		score "$tool" $set $W/$tool.$set.pred "$(echo "$(now) - $t0" | bc)"
	done
}
if [ -s "$MODEL" ]; then
	# shellcheck disable=SC2086
	gf_rows genoformer "$MODEL" "" $SETS
	[ "$REFORMER" = 1 ] && gf_rows genoformer-reformer "$MODEL" --no-kmer-index $SETS
	[ -s "$BASELINE" ] && gf_rows "$BASE_NAME" "$BASELINE" "" $SETS
	[ "$RC" = 1 ] && gf_rows genoformer-rc "$MODEL" --rc-average $SETS
else
	say "no model $MODEL (scripts/train-example.sh, or TRAIN=1): genoformer left out"
fi

# pretraining vs. from scratch, equal fine-tuning steps; a run is skipped
# when its model exists, and continues when interrupted (--resume auto),
# except the fine-tuning (--init excludes --resume)
timed() {
	local out=$1 t0
	shift
	[ -s "$out" ] && return
	t0=$(now)
	"$GF" "$@" -q -o "$out" -t "$THREADS"
	say "genoformer $1: $out in $(echo "$(now) - $t0" | bc) s"
}
if [ "$PRETRAIN" = 1 ]; then
	CLASS_OPTS=$(for c in $CLASSES; do printf -- '--class %s=%s ' $c $W/train/$c.fa; done)
	PT=$W/pretrain$PT_STEPS FT=$W/pretrained$PT_STEPS-$FT_STEPS SC=$W/scratch$FT_STEPS
	# shellcheck disable=SC2046,SC2086
	timed $PT.gfm pretrain $PT_ARCH $PT_OPT --steps "$PT_STEPS" --resume auto $(for c in $CLASSES; do echo $W/train/$c.fa; done)
	# shellcheck disable=SC2086
	timed $FT.gfm train --init $PT.gfm $PT_ARCH $PT_OPT --steps "$FT_STEPS" --balance $CLASS_OPTS
	# shellcheck disable=SC2086
	timed $SC.gfm train $PT_ARCH $PT_OPT --steps "$FT_STEPS" --balance --resume auto $CLASS_OPTS
	# shellcheck disable=SC2086
	gf_rows gf-pretrained $FT.gfm "" $PT_SIZES
	# shellcheck disable=SC2086
	gf_rows gf-scratch $SC.gfm "" $PT_SIZES
	# validation rows (val_loss not NA) of both runs side by side, by step
	val_rows() { awk -F'\t' 'NR > 1 && $5 != "NA" { print $1 "\t" $5 "\t" $6 }' "$1"; }
	{ printf 'step\tpretrained_val_loss\tpretrained_val_acc\tstep\tscratch_val_loss\tscratch_val_acc\n'
	  paste <(val_rows $FT.metrics.tsv) <(val_rows $SC.metrics.tsv); } | cut -f1-3,5,6 >$W/pretrain-val$PT_STEPS-$FT_STEPS.tsv
	say "validation during fine-tuning ($W/pretrain-val$PT_STEPS-$FT_STEPS.tsv):"
	column -t $W/pretrain-val$PT_STEPS-$FT_STEPS.tsv >&2
fi

# Kraken 2: custom taxonomy root(1) -> species 101..104
K=$W/kraken2
if [ ! -s $K/hash.k2d ]; then
	rm -rf $K
	mkdir -p $K/taxonomy
	printf '1\t|\t1\t|\tno rank\t|\n' >$K/taxonomy/nodes.dmp
	printf '1\t|\troot\t|\t\t|\tscientific name\t|\n' >$K/taxonomy/names.dmp
	id=101
	for c in $CLASSES; do
		printf '%s\t|\t1\t|\tspecies\t|\n' $id >>$K/taxonomy/nodes.dmp
		printf '%s\t|\t%s\t|\t\t|\tscientific name\t|\n' $id "$c" >>$K/taxonomy/names.dmp
		awk -v t=$id -v c=$c '/^>/ { print ">" c "_" ++i "|kraken:taxid|" t; next } { print }' $W/train/$c.fa >$W/train/$c.kraken.fa
		kraken2-build --no-masking --add-to-library $W/train/$c.kraken.fa --db $K >/dev/null 2>&1
		id=$((id + 1))
	done
	t0=$(now)
	kraken2-build --build --db $K --threads "$THREADS" >$W/kraken2-build.log 2>&1
	say "kraken2: database built in $(echo "$(now) - $t0" | bc) s"
fi
for set in $SETS; do
	t0=$(now)
	kraken2 --db $K --threads "$THREADS" --output $W/k2.$set.out $W/test/$set.fa 2>/dev/null
	s=$(echo "$(now) - $t0" | bc)
	awk -F'\t' 'BEGIN { split("E.coli H.pylori S.aureus V.cholerae", n, " "); for (i = 1; i <= 4; i++) name[100 + i] = n[i] }
		{ print $2 "\t" ($3 in name ? name[$3] : "unclassified") }' $W/k2.$set.out >$W/k2.$set.pred
	score kraken2 $set $W/k2.$set.pred "$s"
done

say "results ($THREADS threads; model $MODEL):"
column -t -s "$(printf '\t')" $W/results.tsv
