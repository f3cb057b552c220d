#!/bin/sh
# Rebuilds data/examples/ (committed) from ragout-examples in data/cache/
# (data/fetch-examples.sh): contigs of the four held-out strains whose
# assemblies ragout ships (E. coli MG1655, H. pylori SJM180, S. aureus USA300,
# V. cholerae H1; scripts/train-example.sh leaves these strains out), and
# their truth labels. Deterministic: the first N contigs of MIN..MAX bp of
# each assembly, in file order, renamed STRAIN_ID; sequences in 60-column
# lines.
#   data/examples/contigs.fa.gz  the contigs (gzip -n: same bytes every run)
#   data/examples/truth.tsv      id<TAB>species, species named as the model's classes
#   data/examples/lambda-reads.fq.gz  the first 200 lambda phage reads of
#       bowtie2-examples (reads_1.fq): a genome of none of the model's classes,
#       for the demo's 'unclassified' (lambda is never trained on)
set -e
cd "$(dirname "$0")"
N=${N:-12} MIN=${MIN:-2000} MAX=${MAX:-20000}
./fetch-examples.sh
R=cache/ragout
OUT=examples
mkdir -p $OUT
# assembly, strain prefix, class name (as in data/models/example.gfm)
set -- E.Coli/mg1655_contigs.fasta.gz mg1655 E.coli \
       H.Pylori/SJM180_contigs.fasta.gz sjm180 H.pylori \
       S.Aureus/usa300_contigs.fasta.gz usa300 S.aureus \
       V.Cholerae/h1_contigs.fasta.gz h1 V.cholerae
tmp=$OUT/.contigs.$$
printf 'id\tspecies\n' >$OUT/truth.tsv
: >$tmp
while [ $# -ge 3 ]; do
	gzip -dc "$R/$1" | awk -v n="$N" -v min="$MIN" -v max="$MAX" -v pre="$2" -v cls="$3" -v truth="$OUT/truth.tsv" '
		function flush() {
			if (name != "" && length(seq) >= min && length(seq) <= max && kept < n) {
				kept++
				id = pre "_" name
				print ">" id
				for (i = 1; i <= length(seq); i += 60) print substr(seq, i, 60)
				printf "%s\t%s\n", id, cls >> truth
			}
			seq = ""
		}
		/^>/ { flush(); name = substr($1, 2); next }
		{ seq = seq $0 }
		END { flush() }' >>$tmp
	shift 3
done
gzip -n -9 -c $tmp >$OUT/contigs.fa.gz
rm -f $tmp
gzip -dc cache/lambda/reads_1.fq.gz | head -n 800 | gzip -n -9 >$OUT/lambda-reads.fq.gz
echo "[make-examples] $(grep -c . $OUT/truth.tsv) lines in $OUT/truth.tsv; $(gzip -dc $OUT/contigs.fa.gz | grep -v '>' | tr -d '\n' | wc -c) bp in $OUT/contigs.fa.gz" >&2
