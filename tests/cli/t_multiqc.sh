# MultiQC (Debian's multiqc) finds every sample's --report-format kraken
# report, from single runs (--report) and from --per-input, with a model
# trained without taxids (placeholder taxids, classes as species under the
# root) in the 6-column layout it parses.
set -u
command -v multiqc >/dev/null 2>&1 || skip "multiqc is not installed (scripts/install-deps.sh test installs it)"
. tests/cli/model.sh
gzip -dc data/cache/lambda/reads_1.fq.gz | head -n 80 >"$T/a.fq"
gzip -dc data/cache/lambda/reads_2.fq.gz | head -n 120 >"$T/b.fq"
mkdir -p "$T/reports"
for s in a b; do
	expect_status 0 "$GF" classify -m "$T/m.gfm" --report "$T/reports/$s.kreport" --report-format kraken \
		--kraken-out "$T/reports/$s.kraken" -o "$T/$s.tsv" "$T/$s.fq"
	grep -q "class 'ecoli' has no taxid in the model: Kraken outputs give it taxid 2000000000" "$T/err" ||
		fail "no warning about the missing taxid: $(cat "$T/err")"
done
# without taxids: root, then each class as a species under it
grep -qP '^100\.00\t20\t0\tR\t1\troot$' "$T/reports/a.kreport" || fail "root row: $(cat "$T/reports/a.kreport")"
grep -qP '^ *[0-9.]+\t[0-9]+\t[0-9]+\tS\t200000000[01]\t  (ecoli|lambda)$' "$T/reports/a.kreport" ||
	fail "class rows: $(cat "$T/reports/a.kreport")"
gzip -dc data/cache/lambda/reads_1.fq.gz | sed -n 81,160p >"$T/c.fq"
gzip -dc data/cache/lambda/reads_2.fq.gz | sed -n 81,120p >"$T/d.fq"
expect_status 0 "$GF" classify -q -m "$T/m.gfm" --per-input "$T/reports/batch" --report-format kraken "$T/c.fq" "$T/d.fq"
(cd "$T/reports" && timeout 300 multiqc -q -m kraken -f -o ../mq .) >"$T/mq.log" 2>&1 || fail "multiqc failed: $(tail -5 "$T/mq.log")"
stats="$T/mq/multiqc_data/multiqc_general_stats.txt"
[ -s "$stats" ] || fail "multiqc wrote no general stats: $(ls -R "$T/mq" | head)"
cut -f 1 "$stats" | tail -n +2 | sort | tr '\n' ' ' | grep -qx 'a.kreport b.kreport c.kreport d.kreport ' || fail "multiqc samples: $(cat "$stats")"
grep -q 'Kraken' "$T/mq/multiqc_data/multiqc_sources.txt" || fail "multiqc sources: $(cat "$T/mq/multiqc_data/multiqc_sources.txt")"
exit 0
