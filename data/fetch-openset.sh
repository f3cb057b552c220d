#!/bin/sh
# Out-of-class sequence from Debian's packages, for the open set (issue 10):
# a background class to train on and other species to test "unclassified"
# on, kept apart: no species is in both, and neither holds a species of the
# classifier (the ragout species) nor lambda phage (reserved as a test).
# Quiet when done; says what it does otherwise. Needs apt-get, dpkg, xz.
#
# data/cache/openset/
#   background.fa   training background, at most CAP bases per source:
#                   M. tuberculosis H37Rv (kmer-examples); archaea
#                   M. thermautotrophicus, M. acetivorans and B. japonicum
#                   (cct-examples); P. falciparum and human chrX (smalt-examples);
#                   phage AP205 and a copepod circovirus (kraken); honeybee
#                   viruses DWV and VDV-1 (gasic-examples); plasmids of
#                   D. radiodurans (shovill-examples) and of a phytoplasma,
#                   human, Arabidopsis and Reclinomonas mitochondria (cct-examples);
#                   and shuffled copies (same base composition, no order) of
#                   100 kbp of each classifier species' training strains
#   other.fa        test only: K. pneumoniae MGH78578 (kleborate-examples),
#                   M. leprae TN (kmer-examples), S. suis SC84 (abacas-examples),
#                   L. kirschneri (any2fasta-examples), M. maripaludis and
#                   T. kodakarensis (cct-examples), P. knowlesi (smalt-examples),
#                   at most CAP bases each, one record per species
set -e
cd "$(dirname "$0")"
O=cache/openset
STAMP=$O/.complete-v1
[ -f "$STAMP" ] && exit 0
CAP=${CAP:-1500000}
say() { echo "[fetch-openset] $*" >&2; }
./fetch-examples.sh
PKGS="kraken shovill-examples kmer-examples abacas-examples any2fasta-examples kleborate-examples gasic-examples smalt-examples cct-examples"
mkdir -p $O/pkg $O/tmp
. ./debs.sh
# shellcheck disable=SC2086
fetch_debs $O/debs $PKGS
for d in $O/debs/*.deb; do dpkg -x "$d" $O/pkg; done
D=$O/pkg/usr/share/doc
CCT=$D/cct/examples/sample_projects
tar xzf $D/kmer-examples/test_data.tar.gz -C $O/tmp

# src NAME CAT-COMMAND...: one record NAME of the first CAP bases (ACGTN
# only, upper case) of the sequence the command prints (FASTA or GenBank)
src() {
	name=$1
	shift
	"$@" | awk -v cap="$CAP" -v name="$name" '
		/^ORIGIN/ { gb = 1; next } /^\/\// { gb = 0; next }
		/^>/ { fa = 1; next } /^LOCUS/ { fa = 0; next }
		fa || gb { s = toupper($0); gsub(/[^ACGTN]/, "", s); if (n < cap) { seq = seq s; n += length(s) } }
		END { seq = substr(seq, 1, cap); print ">" name; for (i = 1; i <= length(seq); i += 80) print substr(seq, i, 80) }'
}
say "building $O/background.fa and $O/other.fa (at most $CAP bp per source)"
{
	src bg_M.tuberculosis cat $O/tmp/GCF_000195955.2_ASM19595v2_genomic.fna
	src bg_M.thermautotrophicus gzip -dc $CCT/sample_project_2/reference_genome/Methanobacterium_thermoautotrophicum.gbk.gz
	src bg_M.acetivorans gzip -dc $CCT/sample_project_2/comparison_genomes/Methanosarcina_acetivorans.gbk.gz
	src bg_B.japonicum gzip -dc $CCT/sample_project_3/reference_genome/NC_004463.gbk.gz
	src bg_P.falciparum gzip -dc $D/smalt/test/data/genome_1.fa.gz
	# chrX from 5 Mbp on: the first bases are the telomere's Ns
	src bg_H.sapiens_chrX sh -c "gzip -dc $D/smalt/test/data/hs37chrXtrunc.fa.gz | awk 'NR == 1 || (NR > 62500 && NR <= 125000)'"
	src bg_phage_AP205 gzip -dc $D/kraken/test_data/Acinetobacter_phage.fasta.gz
	src bg_circovirus cat $D/kraken/test_data/Acartia_tonsa.fasta
	src bg_DWV gzip -dc $D/gasic/examples/genomes/dwv.fasta.gz
	src bg_VDV1 gzip -dc $D/gasic/examples/genomes/vdv1.fasta.gz
	src bg_plasmid_D.radiodurans_MP1 gzip -dc $D/shovill-examples/test.fna.gz
	for p in NC_007717 NC_007718 NC_007720; do
		src bg_plasmid_phytoplasma_$p gzip -dc $CCT/sample_project_1/comparison_genomes/$p.gbk.gz
	done
	src bg_mito_H.sapiens gzip -dc $CCT/sample_project_5/comparison_genomes/Human_mito.gbk.gz
	src bg_mito_A.thaliana gzip -dc $CCT/sample_project_5/comparison_genomes/Arabidopsis_mito.gbk.gz
	src bg_mito_R.americana gzip -dc $CCT/sample_project_5/reference_genome/NC_001823.gbk.gz
	# shuffled training strains (never the held-out ones): composition without order
	R=cache/ragout
	for g in E.Coli/references/DH1 H.Pylori/references/G27 S.Aureus/references/COL V.Cholerae/references/O395; do
		src "bg_shuffled_$(basename $g)" sh -c "gzip -dc $R/$g.fasta.gz | awk 'NR <= 1668'" |
			awk 'NR == 1 { print; next } { s = s $0 } END { srand(1); n = length(s)
				for (i = 1; i <= n; i++) b[i] = substr(s, i, 1)
				for (i = n; i > 1; i--) { j = int(rand() * i) + 1; t = b[i]; b[i] = b[j]; b[j] = t }
				for (i = 1; i <= n; i += 80) { l = ""; for (j = i; j < i + 80 && j <= n; j++) l = l b[j]; print l } }'
	done
} >$O/background.fa.tmp
{
	src other_K.pneumoniae xz -dc $D/kleborate/examples/data/MGH78578.fna.xz
	src other_M.leprae cat $O/tmp/GCF_000195855.1_ASM19585v1_genomic.fna
	src other_S.suis gzip -dc $D/abacas-examples/SS_SC84.dna.gz
	src other_L.kirschneri gzip -dc $D/any2fasta/examples/test.fna.gz
	src other_M.maripaludis gzip -dc $CCT/sample_project_2/comparison_genomes/Methanococcus_maripaludis.gbk.gz
	src other_T.kodakarensis gzip -dc $CCT/sample_project_2/comparison_genomes/Thermococcus_kodakaraensis.gbk.gz
	src other_P.knowlesi gzip -dc $D/smalt/test/data/cigar_ref.fa.gz
} >$O/other.fa.tmp
mv $O/background.fa.tmp $O/background.fa
mv $O/other.fa.tmp $O/other.fa
rm -rf $O/tmp
touch "$STAMP"
say "done: $(grep -c '>' $O/background.fa) background records, $(grep -c '>' $O/other.fa) other species"
