# Kraken 2-compatible outputs and reads out by call: taxids in the model
# (--class NAME:TAXID, --taxonomy), info's taxon lines, --report-format
# kraken (6 columns, U and root rows, lineage, rank codes, sums),
# --kraken-out (one line per record, taxid, length, evidence), what
# KrakenTools' extract and kreport2krona make of them, --classified-out and
# --unclassified-out partitioning the input, --bam-out read back with
# samtools, '-' as stdout and .gz as BGZF (zcat, bgzip -t, tabix).
set -u
LAMBDA=data/cache/lambda/lambda_virus.fa
ECOLI=data/cache/ecoli/MG1655-K12.fasta
[ -s "$LAMBDA" ] && [ -s "$ECOLI" ] || fail "no data/cache examples: run data/fetch-examples.sh"
TAX=tests/data/taxonomy
head -n 600 "$ECOLI" >"$T/ecoli.fa"
expect_status 0 "$GF" train -q -o "$T/m.gfm" --class lambda:10710="$LAMBDA" --class ecoli:562="$T/ecoli.fa" \
	--taxonomy "$TAX" -k 3 --stride 3 --window 64 --layers 2 --d-model 16 --heads 2 --d-ff 32 --chunk 16 \
	--steps 3 --batch 4 --seed 7 -t 2 --target-precision 0 --crop-min 3 --kmer-index off
expect_status 0 "$GF" info "$T/m.gfm"
grep -qx $'class.0.taxon\t562\tspecies\troot;cellular organisms;Bacteria;Pseudomonadota;Gammaproteobacteria;Enterobacterales;Enterobacteriaceae;Escherichia;Escherichia coli' "$T/out" ||
	fail "info: $(grep taxon "$T/out")"
grep -qx $'class.1.taxon\t10710\tspecies\troot;Viruses;Duplodnaviria;Heunggongvirae;Uroviricota;Caudoviricetes;Lambdavirus;Escherichia phage lambda' "$T/out" ||
	fail "info: $(grep taxon "$T/out")"
# a taxid the taxonomy lacks, a rank that contradicts it
expect_error 1 "class 'x': taxid 4242 is not in the --taxonomy" "$GF" train -q -o "$T/bad.gfm" --class x:4242="$LAMBDA" \
	--class y:562="$T/ecoli.fa" --taxonomy "$TAX" --steps 1 --dry-run
expect_error 1 "class 'y': rank 'genus' given, the --taxonomy says taxid 562 is 'species'" "$GF" train -q -o "$T/bad.gfm" \
	--class x:10710="$LAMBDA" --class y:562:genus="$T/ecoli.fa" --taxonomy "$TAX" --steps 1

# 20 lambda reads (FASTQ), two contigs (FASTA is another file: reads outs need one format)
gzip -dc data/cache/lambda/reads_1.fq.gz | head -n 80 >"$T/reads.fq"
n=20
# a threshold in the middle of the calls' probabilities, so both C and U occur
expect_status 0 "$GF" classify -q -m "$T/m.gfm" "$T/reads.fq"
P=$(awk -F'\t' 'NR > 2 { print $4 }' "$T/out" | sort -n | awk 'NR == 10 { printf "%.5f", $1 + 0.00005 }')
expect_status 0 "$GF" classify -q -m "$T/m.gfm" --min-prob "$P" -o "$T/c.tsv" --report "$T/k.rep" --report-format kraken \
	--kraken-out "$T/k.out" --classified-out "$T/cl.fq" --unclassified-out "$T/un.fq" "$T/reads.fq"
n_e=$(awk -F'\t' 'NR > 2 && $3 == "ecoli"' "$T/c.tsv" | wc -l)
n_l=$(awk -F'\t' 'NR > 2 && $3 == "lambda"' "$T/c.tsv" | wc -l)
n_u=$(awk -F'\t' 'NR > 2 && $3 == "unclassified"' "$T/c.tsv" | wc -l)
[ $((n_e + n_l + n_u)) = $n ] && [ "$n_u" -gt 0 ] && [ $((n_e + n_l)) -gt 0 ] || fail "calls: $n_e ecoli, $n_l lambda, $n_u unclassified"

# the report, exactly: what kraken2 --report prints for these counts
pct() { awk -v a="$1" -v n=$n 'BEGIN { printf "%6.2f", 100 * a / n }'; }
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(pct "$1")" "$1" "$2" "$3" "$4" "$5"; }
ecoli_rows() {
	row $n_e 0 R1 131567 "  cellular organisms"; row $n_e 0 D 2 "    Bacteria"; row $n_e 0 P 1224 "      Pseudomonadota"
	row $n_e 0 C 1236 "        Gammaproteobacteria"; row $n_e 0 O 91347 "          Enterobacterales"
	row $n_e 0 F 543 "            Enterobacteriaceae"; row $n_e 0 G 561 "              Escherichia"
	row $n_e $n_e S 562 "                Escherichia coli"
}
lambda_rows() {
	row $n_l 0 D 10239 "  Viruses"; row $n_l 0 D1 2731341 "    Duplodnaviria"; row $n_l 0 K 2731360 "      Heunggongvirae"
	row $n_l 0 P 2731618 "        Uroviricota"; row $n_l 0 C 2731619 "          Caudoviricetes"
	row $n_l 0 G 186765 "            Lambdavirus"; row $n_l $n_l S 10710 "              Escherichia phage lambda"
}
{
	row $n_u $n_u U 0 unclassified
	row $((n_e + n_l)) 0 R 1 root
	# children by clade count, then taxid; taxa with no read left out
	if [ "$n_e" -ge "$n_l" ]; then [ "$n_e" = 0 ] || ecoli_rows; [ "$n_l" = 0 ] || lambda_rows
	else lambda_rows; [ "$n_e" = 0 ] || ecoli_rows; fi
} >"$T/want.rep"
diff -u "$T/want.rep" "$T/k.rep" >&2 || fail "--report-format kraken differs from the expected report (diff above)"

# per-record lines: C/U, id, taxid of the table's call, length, evidence
# whose k-mers add up to the record's tokens (k 3, stride 3)
awk -F'\t' 'FNR == NR { if (FNR > 2) { call[$1] = $3; len[$1] = $2 } next }
	{ want = call[$2] == "ecoli" ? 562 : call[$2] == "lambda" ? 10710 : 0
	  if (NF != 5 || $1 != (want ? "C" : "U") || $3 != want || $4 != len[$2]) { print "bad line: " $0; exit 1 }
	  k = 0; m = split($5, ev, " "); for (i = 1; i <= m; i++) { split(ev[i], p, ":"); k += p[2] }
	  if (k != int(($4 - 3) / 3) + 1) { print "evidence k-mers " k " for length " $4 ": " $0; exit 1 }
	  seen++ }
	END { if (seen != '$n') { print seen " lines"; exit 1 } }' "$T/c.tsv" "$T/k.out" || fail "--kraken-out: $(head -3 "$T/k.out")"

# KrakenTools' extract_kraken_reads.py (-t 2 --include-children: every
# bacterial read) and kreport2krona.py, as tests/cli/kraken_consumers.py follows them
KC="/usr/bin/python3 tests/cli/kraken_consumers.py"
$KC extract "$T/k.out" "$T/k.rep" 2 --include-children | sort >"$T/ex.ids" || fail "extract failed"
awk -F'\t' 'NR > 2 && $3 == "ecoli" { print $1 }' "$T/c.tsv" | sort | cmp -s - "$T/ex.ids" ||
	fail "extract -t 2 --include-children: $(cat "$T/ex.ids")"
$KC extract "$T/k.out" "$T/k.rep" 0 | wc -l | grep -qx "$n_u" || fail "extract -t 0: not the unclassified reads"
$KC krona "$T/k.rep" >"$T/krona.txt" || fail "kreport2krona failed"
{
	echo "$n_u	Unclassified"
	if [ "$n_e" -ge "$n_l" ]; then
		[ "$n_e" = 0 ] || echo "$n_e	d__Bacteria	p__Pseudomonadota	c__Gammaproteobacteria	o__Enterobacterales	f__Enterobacteriaceae	g__Escherichia	s__Escherichia_coli"
		[ "$n_l" = 0 ] || echo "$n_l	d__Viruses	k__Heunggongvirae	p__Uroviricota	c__Caudoviricetes	g__Lambdavirus	s__Escherichia_phage_lambda"
	else
		echo "$n_l	d__Viruses	k__Heunggongvirae	p__Uroviricota	c__Caudoviricetes	g__Lambdavirus	s__Escherichia_phage_lambda"
		[ "$n_e" = 0 ] || echo "$n_e	d__Bacteria	p__Pseudomonadota	c__Gammaproteobacteria	o__Enterobacterales	f__Enterobacteriaceae	g__Escherichia	s__Escherichia_coli"
	fi
} | diff -u - "$T/krona.txt" >&2 || fail "kreport2krona text differs (diff above)"

# reads out: classified and unclassified partition the input exactly, records
# unchanged but for Kraken 2's header comment
fq_ids() { awk 'NR % 4 == 1 { print substr($1, 2) }' "$1" | sort; }
cat "$T/cl.fq" "$T/un.fq" | awk 'NR % 4 == 1 { print $1; next } 1' | paste - - - - | sort >"$T/both"
awk 'NR % 4 == 1 { print $1; next } 1' "$T/reads.fq" | paste - - - - | sort | cmp -s - "$T/both" ||
	fail "classified + unclassified reads are not the input"
fq_ids "$T/un.fq" | cmp -s - <(awk -F'\t' 'NR > 2 && $3 == "unclassified" { print $1 }' "$T/c.tsv" | sort) ||
	fail "--unclassified-out holds other reads than the table's unclassified"
awk 'NR % 4 == 1 && $2 != "kraken:taxid|0" { exit 1 }' "$T/un.fq" || fail "unclassified headers: $(head -1 "$T/un.fq")"
awk 'NR % 4 == 1 && $2 !~ /^kraken:taxid\|(562|10710)$/ { exit 1 }' "$T/cl.fq" || fail "classified headers: $(head -1 "$T/cl.fq")"
# FASTA input gives FASTA out
printf '>ctg1\n%s\n' "$(sed -n 2,20p "$LAMBDA" | tr -d '\n')" >"$T/ctg.fa"
expect_status 0 "$GF" classify -q -m "$T/m.gfm" --classified-out "$T/c.fa" --unclassified-out "$T/u.fa" "$T/ctg.fa"
cat "$T/c.fa" "$T/u.fa" >"$T/cu.fa"
[ "$(sed -n 2p "$T/cu.fa")" = "$(sed -n 2p "$T/ctg.fa")" ] && grep -q '^>ctg1 kraken:taxid|' "$T/cu.fa" || fail "FASTA out: $(head -c 200 "$T/cu.fa")"
expect_error 1 "c2.fq: record 'ctg1' has no base qualities" "$GF" classify -q -m "$T/m.gfm" --classified-out "$T/c2.fq" \
	--min-prob 0 "$T/reads.fq" "$T/ctg.fa"
[ -e "$T/c2.fq" ] && fail "a failed run left $T/c2.fq"

# --bam-out: every alignment back, tagged; samtools selects by class
samtools view -h data/cache/lambda/aln.bam | head -n 40 | samtools view -b -o "$T/in.bam" - || fail "samtools"
expect_status 0 "$GF" classify -q -m "$T/m.gfm" --min-prob "$P" -o "$T/b.tsv" --bam-out "$T/tag.bam" "$T/in.bam"
[ "$(samtools view -c "$T/tag.bam")" = "$(samtools view -c -F 0xb00 "$T/in.bam")" ] || fail "--bam-out: not every alignment"
for cls in ecoli lambda unclassified; do
	a=$(samtools view -c -d gc:$cls "$T/tag.bam")
	b=$(awk -F'\t' -v c=$cls 'NR > 2 && $3 == c' "$T/b.tsv" | wc -l)
	[ "$a" = "$b" ] || fail "samtools view -d gc:$cls: $a alignments, the table has $b"
done
samtools view "$T/tag.bam" | awk -F'\t' '{ c = x = p = ""; for (i = 12; i <= NF; i++) { if ($i ~ /^gc:Z:/) c = substr($i, 6)
		if ($i ~ /^gx:i:/) x = substr($i, 6); if ($i ~ /^gp:f:/) p = substr($i, 6) }
	  if (x != (c == "ecoli" ? 562 : c == "lambda" ? 10710 : 0) || p == "") { print "bad tags: " $0; exit 1 } }' ||
	fail "--bam-out tags"
samtools view "$T/tag.bam" | cut -f 1-11 | cmp -s - <(samtools view -F 0xb00 "$T/in.bam" | cut -f 1-11) ||
	fail "--bam-out changed the alignments"
samtools view -H "$T/tag.bam" | grep -q '^@PG.*ID:genoformer' || fail "--bam-out: no @PG line"
# --bam-out follows the output policy (issue 11): a device (mknod in $T as
# root) and a FIFO are written in place, a link is written through
if [ "$(id -u)" = 0 ]; then
	mknod "$T/nul" c 1 3 || fail "mknod in $T failed"
	expect_status 0 "$GF" classify -q -m "$T/m.gfm" --min-prob "$P" -o "$T/b2.tsv" --bam-out "$T/nul" "$T/in.bam"
	[ -c "$T/nul" ] || fail "--bam-out on a character device replaced it: $(ls -l "$T/nul")"
fi
mkfifo "$T/bfifo"
cat "$T/bfifo" >"$T/from_bfifo" &
expect_status 0 "$GF" classify -q -m "$T/m.gfm" --min-prob "$P" -o "$T/b3.tsv" --bam-out "$T/bfifo" "$T/in.bam"
wait
[ -p "$T/bfifo" ] || fail "--bam-out on a FIFO replaced it"
cmp -s <(samtools view "$T/from_bfifo") <(samtools view "$T/tag.bam") || fail "--bam-out through a FIFO differs"
: >"$T/tag2.bam"
ln -s tag2.bam "$T/link.bam"
expect_status 0 "$GF" classify -q -m "$T/m.gfm" --min-prob "$P" -o "$T/b4.tsv" --bam-out "$T/link.bam" "$T/in.bam"
[ -L "$T/link.bam" ] && cmp -s <(samtools view "$T/tag2.bam") <(samtools view "$T/tag.bam") || fail "--bam-out through a link"
expect_error 2 "--bam-out takes one SAM/BAM/CRAM input" "$GF" classify -m "$T/m.gfm" --bam-out "$T/x.bam" "$T/in.bam" "$T/in.bam"
expect_error 1 "ctg.fa: record 'ctg1' is not an alignment" "$GF" classify -q -m "$T/m.gfm" --bam-out "$T/x.bam" "$T/ctg.fa"
[ -e "$T/x.bam" ] && fail "a failed --bam-out left $T/x.bam"

# '-' is stdout; .gz names are BGZF that zcat, bgzip and tabix read
"$GF" classify -q -m "$T/m.gfm" --min-prob "$P" -o - "$T/reads.fq" >"$T/stdout.tsv" || fail "-o -"
cmp -s "$T/stdout.tsv" "$T/c.tsv" || fail "-o - differs from -o FILE"
"$GF" classify -q -m "$T/m.gfm" --min-prob "$P" --kraken-out - -o "$T/c2.tsv" "$T/reads.fq" >"$T/k2.out" || fail "--kraken-out -"
cmp -s "$T/k2.out" "$T/k.out" || fail "--kraken-out - differs"
expect_status 0 "$GF" classify -q -m "$T/m.gfm" --min-prob "$P" -o "$T/c.tsv.gz" --report "$T/k.rep.gz" --report-format kraken \
	--unclassified-out "$T/un.fq.gz" "$T/reads.fq"
for f in c.tsv k.rep un.fq; do
	bgzip -t "$T/$f.gz" 2>&1 || fail "$f.gz is not BGZF"
	zcat "$T/$f.gz" | cmp -s - "$T/$f" || fail "zcat $f.gz differs from $f"
done
# (a per-window table of one-window records, reads up to the model's window,
# is sorted by position within each record: tabix indexes it with beg and end,
# 0-based, after the two header lines; longer records' 'all' rows come after
# their windows and are not)
awk 'NR % 2 == 0 { $0 = substr($0, 1, 150) } 1' "$T/reads.fq" >"$T/r150.fq"
expect_status 0 "$GF" classify -q -m "$T/m.gfm" --per-window -o "$T/w.tsv.gz" "$T/r150.fq"
tabix -0 -s 1 -b 3 -e 4 -S 2 "$T/w.tsv.gz" || fail "tabix cannot index the per-window table"
r=$(sed -n 5p "$T/reads.fq" | cut -c 2- | cut -d ' ' -f 1)
[ "$(tabix "$T/w.tsv.gz" "$r:1-10" | cut -f 1,2 | tr '\t\n' ' ')" = "$r 0 $r all " ] ||
	fail "tabix query: $(tabix "$T/w.tsv.gz" "$r:1-10")"
exit 0
