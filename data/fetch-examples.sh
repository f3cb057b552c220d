#!/bin/sh
# Rebuilds the real example data in data/cache/ from Debian's packages
# (bowtie2-examples, ragout-examples; minimap2 only to align the reads) and
# derives the test files from them. Quiet when everything is there; says what
# it does otherwise. Needs apt-get, dpkg, samtools and bgzip (tabix).
#
# data/cache/ layout
#   pkg/                      the packages, extracted whole (dpkg -x)
#   ragout -> pkg/usr/share/doc/ragout/examples   references and contigs
#   lambda/lambda_virus.fa    plain FASTA + .fai
#   lambda/lambda_virus.fa.gz the packaged plain-gzip FASTA (not indexable)
#   lambda/lambda_virus.bgz.fa.gz  bgzip copy + .fai + .gzi
#   lambda/reads_1.fq.gz reads_2.fq.gz longreads.fq.gz   packaged FASTQ (gzip)
#   lambda/combined_reads.bam  the packaged unaligned BAM, decompressed
#   lambda/aln.bam (+.bai), aln.cram (+.crai)   reads aligned to lambda with
#       minimap2, coordinate-sorted; every 97th primary record marked QC-fail
#   ecoli/MG1655-K12.fasta    plain copy of ragout's E. coli K-12 + .fai
set -e
cd "$(dirname "$0")"
C=cache
STAMP=$C/.complete-v1
[ -f "$STAMP" ] && exit 0

say() { echo "[fetch-examples] $*" >&2; }
for t in apt-get dpkg samtools bgzip; do
  command -v "$t" >/dev/null 2>&1 || { say "needs $t (run scripts/install-deps.sh)"; exit 1; }
done

PKGS="bowtie2-examples ragout-examples minimap2"
mkdir -p $C/pkg $C/lambda $C/ecoli
. ./debs.sh
# shellcheck disable=SC2086
fetch_debs $C/debs $PKGS
say "extracting $PKGS into data/cache/pkg"
for d in "$C"/debs/*.deb; do dpkg -x "$d" $C/pkg; done
ln -sfn pkg/usr/share/doc/ragout/examples $C/ragout

BT=$C/pkg/usr/share/doc/bowtie2/examples
L=$C/lambda
say "preparing lambda phage FASTA (plain, gzip, bgzip) and reads"
cp $BT/reference/lambda_virus.fa.gz $L/lambda_virus.fa.gz
gzip -dc $L/lambda_virus.fa.gz > $L/lambda_virus.fa
samtools faidx $L/lambda_virus.fa
bgzip -c $L/lambda_virus.fa > $L/lambda_virus.bgz.fa.gz
samtools faidx $L/lambda_virus.bgz.fa.gz
for f in reads_1 reads_2 longreads; do cp $BT/reads/$f.fq.gz $L/$f.fq.gz; done
gzip -dc $BT/reads/combined_reads.bam.gz > $L/combined_reads.bam

say "aligning the lambda reads with minimap2 (BAM and CRAM, sorted, indexed)"
MM=$C/pkg/usr/bin/minimap2
{
  $MM -a -x sr --secondary=yes -N 3 $L/lambda_virus.fa $L/reads_1.fq.gz $L/reads_2.fq.gz 2>/dev/null
  $MM -a -x map-ont $L/lambda_virus.fa $L/longreads.fq.gz 2>/dev/null | grep -v '^@'
} | awk 'BEGIN { FS = OFS = "\t" }
         /^@/ { print; next }
         { if (int($2 / 256) % 2 == 0 && int($2 / 2048) % 2 == 0 && ++n % 97 == 0) $2 += 512; print }' \
  | samtools sort -@1 -o $L/aln.bam - 2>/dev/null
samtools index $L/aln.bam
samtools view -C -T $L/lambda_virus.fa -o $L/aln.cram $L/aln.bam
samtools index $L/aln.cram

say "preparing E. coli K-12 MG1655 (plain FASTA + .fai)"
gzip -dc $C/ragout/E.Coli/references/MG1655-K12.fasta.gz > $C/ecoli/MG1655-K12.fasta
samtools faidx $C/ecoli/MG1655-K12.fasta

touch "$STAMP"
say "done: data/cache"
