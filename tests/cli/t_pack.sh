# Packed short windows (the default) give exactly the outputs of one window
# per model row (--no-pack), byte for byte: classify on real reads and
# contigs (the last window of a contig is short and packed, the others
# not) with the bundled model, with --batch 16 and 1, --rc-average and
# --per-window; embed's .npy and eval's table too. On the CPU backend, whose
# arithmetic makes them bit-identical (on CUDA they agree within rounding:
# tests/cuda).
set -u
MODEL=data/models/example.gfm
READS=data/cache/lambda/reads_1.fq.gz
[ -s "$MODEL" ] || skip "no $MODEL"
[ -s "$READS" ] || fail "no $READS: run data/fetch-examples.sh"
# 400 reads of 70-250 bp (lambda: out of the model's classes, which does
# not matter here), and pieces of a real contig around the boundaries: the
# model's windows are 256 6-mers (1536 bp) and packs up to a chunk of 64
# (384 bp), so 383-389 bp is packed or not, and the last window of
# 1536+384 or 3072+100 bp is packed after whole windows that are not
gzip -dc "$READS" | head -n 1600 >"$T/reads.fq"
gzip -dc data/examples/contigs.fa.gz | awk '/^>/ { if (n++) exit; next } { printf "%s", $0 }' |
	awk -v lens="5 7 40 383 384 389 1536 1920 3172 5000" '{ n = split(lens, l, " "); at = 1
		for (i = 1; i <= n; i++) { print ">piece" i " " l[i]; print substr($0, at, l[i]); at += l[i] } }' >"$T/ctg.fa"

same() {
	cmp -s "$T/$1" "$T/$2" || fail "$3: packed and --no-pack differ: $(diff "$T/$1" "$T/$2" | head -4)"
}
for opts in "" "--batch 1" "--rc-average" "--per-window --batch 3"; do
	for in in reads.fq ctg.fa; do
		# shellcheck disable=SC2086
		expect_status 0 "$GF" classify -q --device cpu -m "$MODEL" $opts -o "$T/p.tsv" "$T/$in"
		# shellcheck disable=SC2086
		expect_status 0 "$GF" classify -q --device cpu -m "$MODEL" $opts --no-pack -o "$T/u.tsv" "$T/$in"
		same p.tsv u.tsv "classify $opts $in"
	done
done
[ "$(wc -l <"$T/p.tsv")" -gt 14 ] || fail "per-window output has too few rows: $(wc -l <"$T/p.tsv")"
expect_status 0 "$GF" embed -q --device cpu -m "$MODEL" -o "$T/p.npy" "$T/reads.fq" "$T/ctg.fa"
expect_status 0 "$GF" embed -q --device cpu -m "$MODEL" --no-pack -o "$T/u.npy" "$T/reads.fq" "$T/ctg.fa"
same p.npy u.npy embed
awk '/^>/ { sub(/^>/, ""); print $1 "\tE.coli" }' "$T/ctg.fa" >"$T/truth.tsv"
expect_status 0 "$GF" eval --device cpu -m "$MODEL" --labels "$T/truth.tsv" "$T/ctg.fa"
cp "$T/out" "$T/p.eval"
expect_status 0 "$GF" eval --device cpu -m "$MODEL" --labels "$T/truth.tsv" --no-pack "$T/ctg.fa"
same p.eval out eval
