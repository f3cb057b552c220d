#!/bin/sh
# Builds the marker-gene (16S rRNA genus) task of scripts/bench/markers.sh
# in data/cache/markers/ from Debian's packages: ncbi-data (Combined16SrRNA,
# species names), r-bioc-dada2 (ten_16s.100: lineages), rdp-classifier-doc
# (new_trainset: more lineages), and the RDP Classifier itself
# (rdp-classifier with its Java libraries, extracted, not installed). The
# split is data/markers-split.py's (test species never in training).
# Quiet when everything is there. Needs apt-get, dpkg, blastdbcmd
# (ncbi-blast+) and python3.
set -e
cd "$(dirname "$0")"
C=cache
M=$C/markers
STAMP=$M/.complete-v3
[ -f "$STAMP" ] && exit 0

say() { echo "[fetch-markers] $*" >&2; }
for t in apt-get dpkg blastdbcmd python3; do
  command -v "$t" >/dev/null 2>&1 || { say "needs $t (apt-get install ncbi-blast+ python3)"; exit 1; }
done
PKGS="ncbi-data r-bioc-dada2 rdp-classifier-doc rdp-classifier libcommons-cli-java libcommons-io-java librdp-taxonomy-tree-java rdp-readseq"
mkdir -p $M/pkg
. ./debs.sh
# shellcheck disable=SC2086
fetch_debs $C/debs $PKGS
for p in $PKGS; do dpkg -x $C/debs/"${p}"_*.deb $M/pkg; done
say "building the genus task (test species never in training)"
blastdbcmd -db $M/pkg/usr/share/ncbi/data/Combined16SrRNA_2-12-2008 -entry all -line_length 80 |
  python3 markers-split.py $M/pkg/usr/lib/R/site-library/dada2/extdata/ten_16s.100.fa.gz \
    $M/pkg/usr/share/doc/rdp-classifier/examples/samplefiles/new_trainset.fasta $M
cat $M/task.txt >&2
touch "$STAMP"
