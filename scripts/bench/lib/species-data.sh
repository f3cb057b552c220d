#!/usr/bin/env bash
# species-data.sh W SIZE:N...: the four-species data of the classify
# benchmark (cut as the species benchmark cuts its fragments), from
# ragout-examples in data/cache/ragout
# (data/fetch-examples.sh): W/train/CLASS.fa, the reference genomes of each
# species except the held-out strain (the strain its *_contigs file was
# assembled from), and for each SIZE:N W/test/fragSIZE.fa with
# W/test/truthSIZE.tsv: N evenly spread non-overlapping fragments of SIZE bp
# per species, cut with samtools faidx from the held-out genome
# (W/test/CLASS.heldout.fa). What exists is kept.
set -euo pipefail
W=$1
shift
R=data/cache/ragout
CLASSES="E.coli H.pylori S.aureus V.cholerae"
dir_of() { case $1 in E.coli) echo E.Coli ;; H.pylori) echo H.Pylori ;; S.aureus) echo S.Aureus ;; V.cholerae) echo V.Cholerae ;; esac; }
heldout_of() { case $1 in E.coli) echo MG1655-K12 ;; H.pylori) echo SJM180 ;; S.aureus) echo USA300_FPR3757 ;; V.cholerae) echo H1 ;; esac; }
mkdir -p "$W/train" "$W/test"

for c in $CLASSES; do
	[ -s "$W/train/$c.fa" ] && continue
	: >"$W/train/$c.fa"
	for g in $R/$(dir_of $c)/references/*.fasta.gz; do
		[ "$(basename "$g" .fasta.gz)" = "$(heldout_of $c)" ] && continue
		gzip -dc "$g" >>"$W/train/$c.fa"
	done
	echo "[species-data] $c: training genomes $(grep -c '>' "$W/train/$c.fa") records, $(grep -v '>' "$W/train/$c.fa" | tr -d '\n' | wc -c) bp" >&2
done

for c in $CLASSES; do
	g=$W/test/$c.heldout.fa
	[ -s "$g.fai" ] || { gzip -dc $R/$(dir_of $c)/references/$(heldout_of $c).fasta.gz >"$g"; samtools faidx "$g"; }
done
for sn in "$@"; do
	size=${sn%%:*} n=${sn#*:}
	fa=$W/test/frag$size.fa truth=$W/test/truth$size.tsv
	[ -s "$truth" ] && continue
	: >"$fa"
	printf 'id\tspecies\n' >"$truth"
	for c in $CLASSES; do
		awk -v f=$size -v n=$n '{ name[NR] = $1; slots[NR] = int($2 / f); total += slots[NR] }
			END { step = total / n; if (step < 1) step = 1
				for (j = 0; j < n && j * step < total; j++) {
					k = int(j * step); r = 1; while (k >= slots[r]) { k -= slots[r]; r++ }
					print name[r] ":" k * f + 1 "-" (k + 1) * f } }' "$W/test/$c.heldout.fa.fai" >"$W/test/regions"
		samtools faidx -r "$W/test/regions" "$W/test/$c.heldout.fa" |
			awk -v c=$c -v f=$size -v truth="$truth" '/^>/ { id = c "_" f "_" j++; print ">" id; printf "%s\t%s\n", id, c >> truth; next } { print }' >>"$fa"
	done
done
