# scripts/slurm/classify-array.sbatch without SLURM (the environment a task
# gets, set by hand; tests/hpc runs it under a real SLURM): the shard I/N
# comes from the array's real min, max and step; a list of task ids is
# refused; a task resubmitted alone runs as its shard of the original array
# and rewrites only its own table (issue 11, F12). And scripts/plot-metrics
# never lets a file name reach gnuplot's shell (F14).
set -u
SB=scripts/slurm/classify-array.sbatch
M=data/models/example.gfm
IN=data/examples/contigs.fa.gz
gf=$(realpath "$GF")
# task ID MIN MAX STEP COUNT: runs the script as that array task
task() {
	env GF="$gf" SLURM_ARRAY_JOB_ID=7 SLURM_ARRAY_TASK_ID=$1 SLURM_ARRAY_TASK_MIN=$2 SLURM_ARRAY_TASK_MAX=$3 \
		SLURM_ARRAY_TASK_STEP=$4 SLURM_ARRAY_TASK_COUNT=$5 SLURM_CPUS_PER_TASK=1 GF_CLASSIFY_OPTS=-q \
		bash "$SB" "$M" "$T/run" "$IN"
}
# --array=10-14:2: tasks 10, 12, 14 are shards 0, 1, 2 of 3
for id in 10 12 14; do
	task $id 10 14 2 3 >"$T/log$id" 2>&1 || fail "task $id: $(cat "$T/log$id")"
done
grep -q "shard 1/3" "$T/log12" || fail "task 12 of 10-14:2 is not shard 1/3: $(cat "$T/log12")"
[ "$(sed -n 2p "$T/run.shard-0002.tsv")" = "$(printf '#shard\t2/3')" ] || fail "task 14's table: $(head -n 2 "$T/run.shard-0002.tsv")"
scripts/slurm/merge -o "$T/merged.tsv" "$T"/run.shard-*.tsv || fail "merge failed"
"$GF" classify -q -m "$M" --batch 1 -o "$T/all.tsv" "$IN" || fail "classify failed"
cmp -s "$T/merged.tsv" "$T/all.tsv" || fail "the stepped array's merged table differs from one run"

# a resubmitted task (sbatch --array=12) is shard 1/3 again and writes only its shard
cp "$T/run.shard-0000.tsv" "$T/keep0" && cp "$T/run.shard-0002.tsv" "$T/keep2"
touch -d '1 hour ago' "$T/run.shard-0000.tsv" "$T/run.shard-0002.tsv"
rm "$T/run.shard-0001.tsv"
task 12 12 12 1 1 >"$T/log" 2>&1 || fail "resubmitted task 12: $(cat "$T/log")"
grep -q "shard 1/3" "$T/log" || fail "the resubmitted task is not shard 1/3: $(cat "$T/log")"
[ -n "$(find "$T" -name run.shard-0000.tsv -mmin +30)" ] && [ -n "$(find "$T" -name run.shard-0002.tsv -mmin +30)" ] ||
	fail "the resubmitted task rewrote another shard"
scripts/slurm/merge -o "$T/merged2.tsv" "$T"/run.shard-*.tsv && cmp -s "$T/merged2.tsv" "$T/all.tsv" ||
	fail "merge after resubmission differs"

# what cannot be mapped: a list of ids, a task outside the recorded array
expect_error 2 "array 0-7:1 of 3 tasks is not a regular range" task 3 0 7 1 3
expect_error 2 "task 11 is not in the array 10-14:2 recorded in $T/run.shards" task 11 11 11 1 1
[ ! -e "$T/run.shard-0003.tsv" ] || fail "a refused task wrote a shard"

# F14: a metrics file whose name holds quotes and gnuplot's system(); run
# in $T, so that a command that did run would only touch $T
if command -v gnuplot >/dev/null; then
	name="x'.system('touch pwned').'\"q\" \`touch pwned2\`.metrics.tsv"
	printf 'step\tloss\tlr\ttokens_per_s\tval_loss\tval_acc\n10\t1.0\t0.001\t100\tNA\tNA\n20\t0.5\t0.001\t100\t0.6\t0.7\n' >"$T/$name"
	plot=$(realpath scripts/plot-metrics)
	(cd "$T" && "$plot" "$name") >"$T/plot.log" 2>&1 || fail "plot-metrics on an odd name failed: $(cat "$T/plot.log")"
	[ ! -e "$T/pwned" ] && [ ! -e "$T/pwned2" ] || fail "a file name ran a command"
	[ -s "$T/${name%.tsv}.png" ] || fail "no plot written: $(ls "$T")"
fi
echo ok
