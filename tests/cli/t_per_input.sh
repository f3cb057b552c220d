# classify --per-input DIR: one sample per input (per pair of mate files with
# --paired), each with its table, report and Kraken lines named after the
# file, equal to classifying that input alone; sample-name clashes and
# per-run output options are refused.
set -u
. tests/cli/model.sh
gzip -dc data/cache/lambda/reads_1.fq.gz | head -n 40 >"$T/S1.fastq"
gzip -dc data/cache/lambda/reads_2.fq.gz | head -n 60 | gzip >"$T/S2.fq.gz"
gzip -dc data/cache/lambda/reads_1.fq.gz | head -n 24 >"$T/P_R1.fq"
gzip -dc data/cache/lambda/reads_2.fq.gz | head -n 24 >"$T/P_R2.fq"
mkdir "$T/samples"
expect_status 0 "$GF" classify -m "$T/m.gfm" --per-input "$T/samples" --report-format kraken "$T/S1.fastq" "$T/S2.fq.gz"
grep -q "sample S1: $T/S1.fastq" "$T/err" && grep -q "sample S2: $T/S2.fq.gz" "$T/err" || fail "sample log lines: $(cat "$T/err")"
for s in S1:S1.fastq S2:S2.fq.gz; do
	name=${s%%:*} in=$T/${s#*:}
	expect_status 0 "$GF" classify -q -m "$T/m.gfm" --report "$T/alone.kreport" --report-format kraken --kraken-out "$T/alone.kraken" \
		-o "$T/alone.tsv" "$in"
	cmp -s "$T/alone.tsv" "$T/samples/$name.tsv" || fail "$name.tsv differs from classifying $in alone"
	cmp -s "$T/alone.kreport" "$T/samples/$name.kreport" || fail "$name.kreport differs"
	cmp -s "$T/alone.kraken" "$T/samples/$name.kraken" || fail "$name.kraken differs"
done
[ "$(ls "$T/samples" | tr '\n' ' ')" = "S1.kraken S1.kreport S1.tsv S2.kraken S2.kreport S2.tsv " ] || fail "outputs: $(ls "$T/samples")"
# pairs of mate files are one sample each; the native report by default
expect_status 0 "$GF" classify -q -m "$T/m.gfm" --paired --per-input "$T/samples" "$T/P_R1.fq" "$T/P_R2.fq"
[ -s "$T/samples/P.tsv" ] && [ -s "$T/samples/P.report.tsv" ] && [ -s "$T/samples/P.kraken" ] || fail "paired sample: $(ls "$T/samples")"
[ "$(grep -vc '^#' "$T/samples/P.tsv")" = 7 ] || fail "paired sample rows: $(cat "$T/samples/P.tsv")"
cp "$T/S1.fastq" "$T/S1.fq"
expect_error 1 "--per-input: $T/S1.fastq and $T/S1.fq are both sample 'S1'" "$GF" classify -q -m "$T/m.gfm" \
	--per-input "$T/samples" "$T/S1.fastq" "$T/S1.fq"
expect_error 2 "--per-input DIR names every output itself" "$GF" classify -m "$T/m.gfm" --per-input "$T/samples" -o "$T/x.tsv" "$T/S1.fq"
# the made-up outputs are claimed before any work: one that is an input (a
# hard link here, as the second sample's table) is refused before the first
# sample is classified, and the input is left as it was
mkdir "$T/h"
ln "$T/S1.fastq" "$T/h/S2.tsv"
sum=$(cksum <"$T/S1.fastq")
expect_error 1 "$T/h/S2.tsv: output is the same file as input $T/S1.fastq" "$GF" classify -q -m "$T/m.gfm" \
	--per-input "$T/h" "$T/S1.fastq" "$T/S2.fq.gz"
[ "$(cksum <"$T/S1.fastq")" = "$sum" ] || fail "--per-input wrote over its input"
[ "$(ls "$T/h")" = S2.tsv ] || fail "--per-input began work before refusing: $(ls "$T/h")"
exit 0
