#!/bin/bash
# Classification throughput on the CPU: genoformer with the bundled model
# (data/models/example.gfm: four species, k=6, windows of 256 tokens, chunk
# 64) against Kraken 2 with the same threads, on
#   reads:   READS 150 bp reads (FASTQ), evenly spread over the four
#            held-out strains (scripts/bench/lib/species-data.sh), every
#            other one reverse-complemented;
#   contigs: ragout's four draft assemblies (*_contigs), concatenated.
# genoformer rows: fp32 with one window per model row (--no-pack: how every
# release before packing classified; the baseline), fp32 packed (the
# default), packed with --precision bf16 (oneDNN; where the CPU has
# AVX512-BF16).
# Kraken 2: a custom database of the same training genomes as the model
# (scripts/bench/lib/kraken-db.sh, the species benchmark's recipe), default k-mers.
# Each row: wall and CPU seconds of the classification alone (Kraken 2's
# includes loading its database, as a user's run does), bp/s over wall,
# peak RSS, accuracy (the species each read or contig came from;
# unclassified is wrong), and the calls identical to the baseline row.
# BASE=path/to/genoformer adds a row "base" run by that binary, an earlier
# release (e.g. built from main before packing), which then is the baseline
# of the ratios and of the identical calls. Ratios come from this one run.
# Also: bf16 against fp32 calls on fragments of 1, 10 and 100 kbp of the
# held-out strains (100, 30 and 8 per species, as the species benchmark cuts them).
# OMP_WAIT_POLICY is passive unless set (see species.sh). Work files in
# data/cache/bench-classify/, the table to stdout, docs/bench-classify.tsv
# and the results block of docs/bench-classify.md.
#   THREADS [2]  READS [200000: at most every 150 bp slot of each genome]
#   MODEL [data/models/example.gfm]  BASE [none]  BASE_NOTE: what BASE is, for the table
# e.g.  git archive main | tar -x -C /tmp/base && make -C /tmp/base genoformer &&
#       BASE=/tmp/base/genoformer BASE_NOTE="main at $(git rev-parse --short main)" scripts/bench/classify.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
GF=${GF:-./genoformer}
THREADS=${THREADS:-2}
READS=${READS:-200000}
MODEL=${MODEL:-data/models/example.gfm}
BASE=${BASE:-}
W=data/cache/bench-classify
S=$W/species
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
say() { echo "[classify-bench] $*" >&2; }
CLASSES="E.coli H.pylori S.aureus V.cholerae"

data/fetch-examples.sh
command -v kraken2 >/dev/null || { say "installing kraken2 from Debian"; apt-get install -y -qq kraken2 >/dev/null; }
mkdir -p $W
scripts/bench/lib/species-data.sh $S 1000:100 10000:30 100000:8 150:$((READS / 4))
# shellcheck disable=SC2046
scripts/bench/lib/kraken-db.sh $S/kraken2 "$THREADS" $(for c in $CLASSES; do echo "$c=$S/train/$c.fa"; done)

# reads: FASTQ, every other read reverse-complemented; contigs: species_name
if [ ! -s $W/reads.fq ]; then
	awk '/^>/ { if (seq != "") out(); id = substr($1, 2); seq = ""; next } { seq = seq $0 }
		function out(  r, j) { r = seq
			if (n++ % 2) { r = ""; for (j = length(seq); j >= 1; j--) r = r substr("TGCAN", index("ACGTN", substr(seq, j, 1)), 1) }
			printf "@%s\n%s\n+\n%s\n", id, r, substr(q, 1, length(r)) }
		BEGIN { q = sprintf("%200s", ""); gsub(/ /, "I", q) }
		END { if (seq != "") out() }' $S/test/frag150.fa >$W/reads.fq
fi
if [ ! -s $W/contigs.fa ]; then
	for c in $CLASSES; do
		case $c in E.coli) f=E.Coli/mg1655 ;; H.pylori) f=H.Pylori/SJM180 ;; S.aureus) f=S.Aureus/usa300 ;; V.cholerae) f=V.Cholerae/h1 ;; esac
		gzip -dc data/cache/ragout/${f}_contigs.fasta.gz | awk -v c=$c '/^>/ { print ">" c "_" substr($1, 2); next } { print }'
	done >$W/contigs.fa
fi
bases() { awk 'FNR % 4 == 2' "$1" | tr -d '\n' | wc -c; }
RB=$(bases $W/reads.fq)
CB=$(grep -v '>' $W/contigs.fa | tr -d '\n' | wc -c)

# run NAME CMD...: times CMD (wall, user+sys, peak RSS) into $W/NAME.time
run() {
	local name=$1
	shift
	/usr/bin/time -f '%e %U %S %M' -o $W/$name.time "$@"
}
# calls TABLE: "id<TAB>class" from a genoformer table ('#' lines and the header skipped)
calls() { awk -F'\t' '!/^#/ && n++ { print $1 "\t" $3 }' "$1"; }
# kraken_calls OUT: "id<TAB>class" from Kraken 2's per-read output
kraken_calls() {
	awk -F'\t' 'BEGIN { split("E.coli H.pylori S.aureus V.cholerae", n, " "); for (i = 1; i <= 4; i++) name[100 + i] = n[i] }
		{ print $2 "\t" ($3 in name ? name[$3] : "unclassified") }' "$1"
}
# accuracy CALLS: the species is the id's prefix up to the first _
accuracy() { awk -F'\t' '{ n++; split($1, p, "_"); ok += p[1] == $2 } END { printf "%.4f", ok / n }' "$1"; }
# same A B: share of identical calls
same() { paste "$1" "$2" | awk -F'\t' '$1 != $3 { print "ids differ: " $1 " " $3 > "/dev/stderr"; exit 1 } { n++; s += $2 == $4 } END { printf "%.5f", s / n }'; }

printf 'input\ttool\tbp\twall_s\tcpu_s\tbp_per_s\tpeak_rss_mb\taccuracy\tsame_calls\n' >$W/results.tsv
BF16=1
grep -q avx512_bf16 /proc/cpuinfo || { BF16=0; say "no AVX512-BF16 here: bf16 rows left out"; }
for in in reads contigs; do
	f=$W/reads.fq bp=$RB
	[ $in = contigs ] && f=$W/contigs.fa bp=$CB
	# rows NAME:BINARY:OPTIONS
	rows="fp32-unpacked:$GF:--no-pack fp32-packed:$GF:"
	[ -n "$BASE" ] && rows="base:$BASE: $rows"
	[ $BF16 = 1 ] && rows="$rows bf16-packed:$GF:--precision=bf16"
	base=${rows%%:*}
	for r in $rows; do
		name=${r%%:*} bin=${r#*:} opts=${r##*:}
		bin=${bin%:*}
		say "$in: genoformer $name"
		# shellcheck disable=SC2086
		run $in-$name "$bin" classify -q -m "$MODEL" -t "$THREADS" $opts -o $W/$in-$name.tsv "$f"
		calls $W/$in-$name.tsv >$W/$in-$name.calls
	done
	say "$in: kraken2"
	run $in-kraken2 kraken2 --db $S/kraken2 --threads "$THREADS" --output $W/$in-kraken2.out "$f" 2>/dev/null
	kraken_calls $W/$in-kraken2.out >$W/$in-kraken2.calls
	for r in $rows kraken2; do
		name=${r%%:*}
		read -r wall user sys rss <$W/$in-$name.time
		printf '%s\t%s\t%s\t%s\t%.2f\t%.4g\t%.0f\t%s\t%s\n' $in "$name" $bp "$wall" "$(echo "$user + $sys" | bc)" \
			"$(echo "$bp / $wall" | bc -l)" "$(echo "$rss / 1024" | bc -l)" "$(accuracy $W/$in-$name.calls)" \
			"$(same $W/$in-$base.calls $W/$in-$name.calls)" >>$W/results.tsv
	done
done

# bf16 against fp32 (both packed) on the fragments
printf 'fragment_bp\trecords\tsame_calls_bf16_vs_fp32\n' >$W/bf16-species.tsv
if [ $BF16 = 1 ]; then
	for size in 1000 10000 100000; do
		for p in fp32 bf16; do
			"$GF" classify -q -m "$MODEL" -t "$THREADS" --precision $p -o $W/frag$size-$p.tsv $S/test/frag$size.fa
			calls $W/frag$size-$p.tsv >$W/frag$size-$p.calls
		done
		printf '%s\t%s\t%s\n' $size "$(wc -l <$W/frag$size-fp32.calls)" "$(same $W/frag$size-fp32.calls $W/frag$size-bf16.calls)" >>$W/bf16-species.tsv
	done
fi

# the table: ratios against the baseline row and against Kraken 2, per input
{
	echo "Run: $(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), THREADS=$THREADS, $(awk 'NR % 4 == 1' $W/reads.fq | wc -l) reads, model $MODEL${BASE:+, base: ${BASE_NOTE:-$BASE}}; \`scripts/bench/classify.sh\`."
	echo
	echo "| input | tool | Mbp | wall s | CPU s | Mbp/s | vs $base | vs Kraken 2 | peak RSS MB | accuracy | calls = $base |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	awk -F'\t' -v b=$base 'NR > 1 { row[NR] = $0; if ($2 == b) base[$1] = $6; if ($2 == "kraken2") kr[$1] = $6 }
		END { for (i = 2; i <= NR; i++) { split(row[i], f, "\t")
			printf "| %s | %s | %.1f | %.1f | %.1f | %.2f | %.2fx | %.2fx | %s | %s | %s |\n", f[1], f[2], f[3] / 1e6, f[4], f[5],
				f[6] / 1e6, f[6] / base[f[1]], f[6] / kr[f[1]], f[7], f[8],
				f[2] == "kraken2" ? "-" : sprintf("%.2f%%", 100 * f[9]) } }' $W/results.tsv
	if [ $BF16 = 1 ]; then
		echo
		echo "bf16 against fp32 (both packed) on 1, 10 and 100 kbp fragments of the held-out strains (\`scripts/bench/lib/species-data.sh\`, the species benchmark's method):"
		echo
		echo "| fragment | records | calls identical |"
		echo "|---:|---:|---:|"
		awk -F'\t' 'NR > 1 { printf "| %d bp | %d | %.2f%% |\n", $1, $2, 100 * $3 }' $W/bf16-species.tsv
	fi
} >$W/results.md
cp $W/results.tsv docs/bench-classify.tsv
scripts/bench/lib/doc-section.sh docs/bench-classify.md results "Results" $W/results.md
cat $W/results.md
