# --precision bf16 (CPU, oneDNN) against fp32 with the bundled model on real
# data: the held-out strains' contigs (data/examples) and 150 bp reads cut
# from them every 500 bp, both strands. A record whose fp32 call is clear
# (top probability ahead of the second by 0.1) gets the same call, and
# every probability moves by less than 0.05 (bf16 keeps 8 bits of each
# operand, the sums stay fp32; 0.019 at most on 20,000 reads). Skipped
# where the CPU lacks AVX512-BF16 (docs/bad-input.md has the option's errors).
set -u
MODEL=data/models/example.gfm
[ -s "$MODEL" ] || skip "no $MODEL"
grep -q avx512_bf16 /proc/cpuinfo || skip "this CPU has no AVX512-BF16: bf16 not tested"
gzip -dc data/examples/contigs.fa.gz >"$T/ctg.fa"
awk '/^>/ { id = substr($1, 2); next } { s[id] = s[id] $0 } END {
	for (id in s) for (i = 1; i + 150 <= length(s[id]); i += 500) {
		r = substr(s[id], i, 150)
		if (n++ % 2) { c = ""; for (j = 150; j >= 1; j--) c = c substr("TGCAN", index("ACGTN", substr(r, j, 1)), 1); r = c }
		print ">" id "_" i; print r } }' "$T/ctg.fa" >"$T/reads.fa"
# --min-prob 0: every call kept, the model's thresholds aside (this tests
# the arithmetic); class columns from the 5th to the one before "reason"
for in in ctg.fa reads.fa; do
	expect_status 0 "$GF" classify -q --device cpu -m "$MODEL" --min-prob 0 --precision fp32 -o "$T/f.tsv" "$T/$in"
	expect_status 0 "$GF" classify -q --device cpu -m "$MODEL" --min-prob 0 --precision bf16 -o "$T/b.tsv" "$T/$in"
	paste <(grep -v '^#' "$T/f.tsv") <(grep -v '^#' "$T/b.tsv") | awk -F'\t' -v what="$in" '
		NR == 1 { nf = NF / 2; last = $nf == "reason" ? nf - 1 : nf; next }
		$3 != "unclassified" {
		n++; p1 = p2 = 0
		for (i = 5; i <= last; i++) { if ($i > p1) { p2 = p1; p1 = $i } else if ($i > p2) p2 = $i
			d = $i - $(i + nf); if (d > 0.05 || d < -0.05) { print what ": " $1 " probability moved by " d; bad = 1; exit } }
		if (p1 - p2 > 0.1 && $3 != $(3 + nf)) { print what ": " $1 " clear call " $3 " became " $(3 + nf); bad = 1; exit }
		same += $3 == $(3 + nf) }
		END { if (!bad) printf "%s: %d of %d calls identical\n", what, same, n; exit bad || n < 40 }' >&2 ||
		fail "bf16 against fp32 on $in (above)"
done
