#!/bin/bash
# Marker-gene benchmark: 16S rRNA genus classification with test species
# never seen in training (data/fetch-markers.sh builds the task from
# Debian's ncbi-data, r-bioc-dada2 and rdp-classifier-doc), side by side:
#   genoformer          `train` with no tuning option (settings from the
#                       data), labels = lineages; classify the test set
#   genoformer-reformer the same model with --no-kmer-head: the Reformer alone
#   genoformer-best     `train` with BEST_OPTS (the best recipe measured;
#                       skipped when BEST_OPTS is empty)
#   rdp                 Debian's RDP Classifier 2.10 (rdp-classifier, extracted
#                       from the package, run with java), trained on the same
#                       sequences and lineages (`train`), default 0.8 cut-off
#   kraken2             Debian's Kraken 2, a custom database of the same
#                       sequences with their lineages as the taxonomy
# Metrics (scripts/bench/lib/markers-metrics.py): genus accuracy and
# macro-F1 of the top call, accuracy at each rank, share of records with a
# genus call of confidence >= 0.8 and share confidently wrong (>= 0.8 and
# wrong; every Kraken 2 genus call counts as confident), training and
# classification seconds (wall), peak RSS of training.
# TIME3M=1 also times `train` (no tuning option) on about 3 Mbp: the
# training set and a variant of each record (lib/markers-variants.py) up to
# 3,000,000 bases; wall, CPU and peak RSS to data/cache/bench-markers/time3m.txt.
# THREADS (2) threads for every tool. Work files in data/cache/bench-markers/,
# the table to stdout and data/cache/bench-markers/results.tsv; DOC=1 puts it
# into docs/bench-markers.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
GF=${GF:-./genoformer}
THREADS=${THREADS:-2}
BEST_OPTS=${BEST_OPTS:-}
W=data/cache/bench-markers
M=data/cache/markers
L=scripts/bench/lib
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
say() { echo "[markers] $*" >&2; }
now() { date +%s.%N; }
secs() { printf '%.1f' "$(echo "$(now) - $1" | bc)"; }
peak() { awk '/Maximum resident/ { printf "%.0f", $NF / 1024 }' "$1"; }

data/fetch-markers.sh
command -v kraken2 >/dev/null || { say "installing kraken2 from Debian"; apt-get install -y -qq kraken2 >/dev/null; }
mkdir -p $W
cat $M/task.txt >&2
ROWS=$W/rows.tsv
: >$ROWS

# genoformer: train (MODEL reused when it exists), classify, convert
gf_row() { # name model train-options...
	local name=$1 model=$2
	shift 2
	local ts=NA rss=NA
	if [ ! -s "$model" ]; then
		local t0
		t0=$(now)
		/usr/bin/time -v -o $W/$name.time nice -n 5 $GF train -o "$model" --labels $M/train.lineage.tsv $M/train.fa -t "$THREADS" "$@" 2>$W/$name.train.log
		ts=$(secs "$t0")
		rss=$(peak $W/$name.time)
		echo "$ts $rss" >"$model.trained"
	else
		read -r ts rss <"$model.trained" || true
	fi
	gf_classify "$name" "$model" "$ts" "$rss"
}
gf_classify() { # name model train-seconds peak-MB [classify-options...]
	local name=$1 model=$2 ts=$3 rss=$4 t0
	shift 4
	t0=$(now)
	$GF classify -m "$model" $M/test.fa -t "$THREADS" "$@" -o $W/$name.tsv 2>/dev/null
	local cs
	cs=$(secs "$t0")
	python3 $L/markers-lineage.py genoformer $W/$name.tsv >$W/$name.pred
	python3 $L/markers-metrics.py $M/test.lineage.tsv $W/$name.pred "$name" "$ts" "$cs" | sed "s/\$/\t$rss/" >>$ROWS
}

say "genoformer, no tuning options"
gf_row genoformer $W/gf-default.gfm
read -r ts rss <$W/gf-default.gfm.trained
gf_classify genoformer-reformer $W/gf-default.gfm "$ts" "$rss" --no-kmer-head
if [ -n "$BEST_OPTS" ]; then
	say "genoformer, best recipe: $BEST_OPTS"
	gf_row genoformer-best $W/gf-best.gfm $BEST_OPTS
fi

# RDP Classifier: extracted jars on the class path (the packaged launcher
# expects them installed under /usr/share/java)
say "RDP Classifier"
P=$M/pkg/usr/share/java
CP=$M/pkg/usr/share/rdp-classifier/rdp_classifier.jar:$P/rdp-taxonomy-tree.jar:$P/rdp-readseq.jar:$P/commons-cli.jar:$P/commons-io.jar
RDP="java -Xmx2g -cp $CP edu.msu.cme.rdp.classifier.cli.ClassifierMain"
python3 $L/markers-lineage.py rdp-tax $M/train.lineage.tsv $W/rdp-taxonomy.txt $M/train.fa $W/rdp-train.fa
rm -rf $W/rdp && mkdir -p $W/rdp
t0=$(now)
/usr/bin/time -v -o $W/rdp.time $RDP train -o $W/rdp -s $W/rdp-train.fa -t $W/rdp-taxonomy.txt >$W/rdp.train.log 2>&1
cp $M/pkg/usr/share/doc/rdp-classifier/examples/samplefiles/rRNAClassifier.properties $W/rdp/
ts=$(secs "$t0") rss=$(peak $W/rdp.time)
t0=$(now)
$RDP classify -t $W/rdp/rRNAClassifier.properties -o $W/rdp.out $M/test.fa >$W/rdp.classify.log 2>&1
cs=$(secs "$t0")
python3 $L/markers-lineage.py rdp $W/rdp.out >$W/rdp.pred
python3 $L/markers-metrics.py $M/test.lineage.tsv $W/rdp.pred rdp "$ts" "$cs" | sed "s/\$/\t$rss/" >>$ROWS

say "Kraken 2"
K=$W/k2db
rm -rf $K && mkdir -p $K/taxonomy
python3 $L/markers-lineage.py kraken-tax $M/train.lineage.tsv $M/train.fa $K/taxonomy $W/k2-train.fa $W/k2-taxmap.tsv
t0=$(now)
{
	kraken2-build --no-masking --add-to-library $W/k2-train.fa --db $K
	/usr/bin/time -v -o $W/k2.time kraken2-build --build --db $K --threads "$THREADS"
} >$W/k2.build.log 2>&1
ts=$(secs "$t0") rss=$(peak $W/k2.time)
t0=$(now)
kraken2 --db $K --threads "$THREADS" --output $W/k2.out $M/test.fa 2>/dev/null
cs=$(secs "$t0")
python3 $L/markers-lineage.py kraken $W/k2.out $W/k2-taxmap.tsv >$W/k2.pred
python3 $L/markers-metrics.py $M/test.lineage.tsv $W/k2.pred kraken2 "$ts" "$cs" | sed "s/\$/\t$rss/" >>$ROWS

if [ "${TIME3M:-0}" = 1 ]; then
	say "genoformer, 3 Mbp timing"
	python3 $L/markers-variants.py $M/train.fa $M/train.lineage.tsv 3000000 $W/train3m.fa $W/train3m.tsv
	rm -f $W/gf-3m.gfm*
	/usr/bin/time -v -o $W/gf-3m.time nice -n 5 $GF train -o $W/gf-3m.gfm --labels $W/train3m.tsv $W/train3m.fa -t "$THREADS" 2>$W/gf-3m.train.log
	{
		grep -E '^\[train\] (data|settings)' $W/gf-3m.train.log
		grep -E 'Elapsed|User time|System time|Maximum resident' $W/gf-3m.time
	} >$W/time3m.txt
	cat $W/time3m.txt >&2
fi

{
	printf 'tool\tgenus_acc\tgenus_macro_f1\tdomain\tphylum\tclass\torder\tfamily\tgenus_conf>=0.8\tconfidently_wrong\ttrain_s\tclassify_s\ttrain_peak_MB\n'
	cat $ROWS
} >$W/results.tsv
column -t -s$'\t' $W/results.tsv
if [ "${DOC:-0}" = 1 ]; then
	{
		echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores (load average $(cut -d' ' -f1-3 /proc/loadavg)), THREADS=$THREADS: \`scripts/bench/markers.sh\`"
		echo
		echo '| tool | genus acc. | genus macro-F1 | domain | phylum | class | order | family | genus conf >= 0.8 | confidently wrong | train s | classify s | train peak MB |'
		echo '|---|---|---|---|---|---|---|---|---|---|---|---|---|'
		sed 's/\t/ | /g; s/^/| /; s/$/ |/' $ROWS
	} >$W/table.md
	bash $L/doc-section.sh docs/bench-markers.md markers-table "Results" $W/table.md
fi
