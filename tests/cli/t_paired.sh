# classify --paired: one row per pair from both mates' windows, the same
# from mate files, an interleaved file and a name-collated BAM (mates by
# flags); Kraken lengths "l1|l2" and "|:|" in the evidence; reads outputs
# with '#' split into _1/_2 files that partition the input; errors for
# mates with different names, an odd interleaved file and '#'-less outputs.
set -u
. tests/cli/model.sh
n=12
gzip -dc data/cache/lambda/reads_1.fq.gz | head -n $((4 * n)) >"$T/r1.fq"
gzip -dc data/cache/lambda/reads_2.fq.gz | head -n $((4 * n)) >"$T/r2.fq"
# mate names as many tools write them: /1 and /2
sed '1~4s|$|/1|' "$T/r1.fq" >"$T/a1.fq"
sed '1~4s|$|/2|' "$T/r2.fq" >"$T/a2.fq"
paste -d '\n' <(paste - - - - <"$T/a1.fq") <(paste - - - - <"$T/a2.fq") | tr '\t' '\n' >"$T/inter.fq"

expect_status 0 "$GF" classify -q -m "$T/m.gfm" --paired -o "$T/files.tsv" --kraken-out "$T/files.k" "$T/a1.fq" "$T/a2.fq"
[ "$(grep -vc '^#' "$T/files.tsv")" = $((n + 1)) ] || fail "want one row per pair: $(cat "$T/files.tsv")"
awk -F'\t' 'NR > 2 && $1 !~ /^r[0-9]+$/ { exit 1 }' "$T/files.tsv" || fail "pair names keep /1: $(sed -n 3p "$T/files.tsv")"
expect_status 0 "$GF" classify -q -m "$T/m.gfm" --paired -o "$T/inter.tsv" --kraken-out "$T/inter.k" "$T/inter.fq"
cmp -s "$T/files.k" "$T/inter.k" || fail "interleaved differs from mate files: $(diff "$T/files.k" "$T/inter.k" | head -4)"
tail -n +2 "$T/files.tsv" | cmp -s - <(tail -n +2 "$T/inter.tsv") || fail "interleaved table differs from mate files"
# lengths: the sum in the table, l1|l2 in the Kraken line, mates' evidence split by |:|
awk 'NR % 4 == 2 { print length($0) }' "$T/r1.fq" >"$T/l1"
awk 'NR % 4 == 2 { print length($0) }' "$T/r2.fq" >"$T/l2"
paste "$T/l1" "$T/l2" | awk '{ print $1 + $2 }' | cmp -s - <(awk -F'\t' 'NR > 2 { print $2 }' "$T/files.tsv") ||
	fail "table length is not the mates' sum"
paste -d '|' "$T/l1" "$T/l2" | cmp -s - <(cut -f 4 "$T/files.k") || fail "Kraken lengths: $(head -2 "$T/files.k")"
awk -F'\t' '$5 !~ / \|:\| / { exit 1 }' "$T/files.k" || fail "no |:| between mates: $(head -2 "$T/files.k")"
# two classes: the pair's probability lies between its mates' own (softmax of
# a weighted mean of logits)
expect_status 0 "$GF" classify -q -m "$T/m.gfm" -o "$T/single.tsv" "$T/a1.fq" "$T/a2.fq"
awk -F'\t' 'FILENAME ~ /single/ && FNR > 2 { sub(/\/[12]$/, "", $1); if ($1 in lo) { if ($5 < lo[$1]) lo[$1] = $5; else hi[$1] = $5 } else lo[$1] = hi[$1] = $5; next }
	FNR > 2 { if ($5 < lo[$1] - 1e-4 || $5 > hi[$1] + 1e-4) { print "pair " $1 ": " $5 " outside [" lo[$1] ", " hi[$1] "]"; exit 1 } }' \
	"$T/single.tsv" "$T/files.tsv" || fail "pair probabilities do not combine both mates"

# reads out: '#' gives _1 and _2 files; together they are the input
expect_status 0 "$GF" classify -q -m "$T/m.gfm" --paired --min-prob 0.5 -o "$T/p.tsv" \
	--classified-out "$T/c#.fq" --unclassified-out "$T/u#.fq" "$T/inter.fq"
for m in 1 2; do
	cat "$T/c_$m.fq" "$T/u_$m.fq" | awk 'NR % 4 == 1 { print $1; next } 1' | paste - - - - | sort >"$T/got$m"
	paste - - - - <"$T/a$m.fq" | sort | cmp -s - "$T/got$m" || fail "mate $m: classified + unclassified are not the input"
done
awk 'NR % 4 == 1' "$T/c_1.fq" | sed 's|/1 | |' | cmp -s - <(awk 'NR % 4 == 1' "$T/c_2.fq" | sed 's|/2 | |') ||
	fail "the mate files are not in step"
expect_error 1 "with --paired a reads output needs a '#' in its name" "$GF" classify -q -m "$T/m.gfm" --paired \
	--classified-out "$T/c.fq" "$T/inter.fq"

# SAM/BAM/CRAM: mates by flags once collated; unpaired reads stay single
samtools sort -n data/cache/lambda/aln.bam | samtools view -h | awk '/^@/ || n++ < 400' | samtools view -b -o "$T/byname.bam" - ||
	fail "samtools"
expect_status 0 "$GF" classify -m "$T/m.gfm" --paired -o "$T/bam.tsv" --bam-out "$T/tag.bam" "$T/byname.bam"
# rows: the alignments genoformer reads (primary, not QC-failed) less one per
# complete pair; paired reads whose mate is not there are single (and counted)
total=$(samtools view -c -F 0xb00 "$T/byname.bam")
pairs=$(samtools view -F 0xb00 -f 1 "$T/byname.bam" | cut -f 1 | uniq -d | wc -l)
orphans=$(samtools view -F 0xb00 -f 1 "$T/byname.bam" | cut -f 1 | uniq -u | wc -l)
[ "$(grep -vc '^#' "$T/bam.tsv")" = $((total - pairs + 1)) ] || fail "BAM: want $((total - pairs)) rows: $(grep -vc '^#' "$T/bam.tsv")"
[ "$orphans" -gt 0 ] && [ "$pairs" -gt 100 ] || fail "test data: $pairs pairs, $orphans orphans"
grep -q "byname.bam: $orphans paired reads had no mate next to them" "$T/err" || fail "orphans: $(cat "$T/err")"
[ "$(samtools view -c "$T/tag.bam")" = "$(samtools view -c -F 0xb00 "$T/byname.bam")" ] || fail "--bam-out lost alignments"
samtools view -f 1 "$T/tag.bam" | awk -F'\t' '{ for (i = 12; i <= NF; i++) if ($i ~ /^gc:Z:/) c = $i
	if ($1 in tag && tag[$1] != c) { print $1 ": " tag[$1] " / " c; exit 1 } tag[$1] = c }' || fail "mates tagged differently"
# sorted by position: mates are far apart, every read is alone, and a warning says why
samtools view -h data/cache/lambda/aln.bam | head -n 60 | samtools view -b -o "$T/bycoord.bam" -
expect_status 0 "$GF" classify -m "$T/m.gfm" --paired -o "$T/coord.tsv" "$T/bycoord.bam"
grep -q 'paired reads had no mate next to them and were classified alone (mates must be adjacent: samtools collate or sort -n)' "$T/err" ||
	fail "no warning for a position-sorted BAM: $(cat "$T/err")"

# mates that do not match, an odd interleaved file, odd numbers of files
tail -n +5 "$T/a2.fq" >"$T/shifted.fq"
expect_error 1 "shifted.fq: mates 'r1/1' and 'r2/2' (pair 1) have different names" "$GF" classify -q -m "$T/m.gfm" --paired \
	"$T/a1.fq" "$T/shifted.fq"
head -n 4 "$T/inter.fq" >"$T/odd.fq"
expect_error 1 "record 'r1/1' has no mate: the file ends" "$GF" classify -q -m "$T/m.gfm" --paired "$T/odd.fq"
expect_error 1 "has more records than its mate file" "$GF" classify -q -m "$T/m.gfm" --paired "$T/a1.fq" "$T/odd.fq"
expect_error 2 "--paired takes one input" "$GF" classify -m "$T/m.gfm" --paired "$T/a1.fq" "$T/a2.fq" "$T/a1.fq"
exit 0
