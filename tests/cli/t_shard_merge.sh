# scripts/slurm/merge: the tables of classify --shard 0/N .. N-1/N merge into
# the unsharded table and report byte for byte (all runs with --batch 1), for
# several input files and for one file, with --per-window and --min-prob, and
# with more shards than records; shard sets that cannot be one run's are
# refused with one line and exit 1, leaving no output behind.
set -u
. tests/cli/model.sh
MERGE=scripts/slurm/merge

gzip -dc data/cache/lambda/reads_1.fq.gz | head -n 160 >"$T/reads.fq"
{ printf '>ctg1\n'; sed -n 2,40p "$LAMBDA"; printf '>ctg2\n'; sed -n 2,30p "$T/ecoli.fa"; printf '>tiny\nAC\n'; } >"$T/ctg.fa"

# check_merge N CLASSIFY-ARGS...: N shards merged == one unsharded run
check_merge() {
	local n=$1 i
	shift
	"$GF" classify -q -m "$T/m.gfm" --batch 1 -t 1 -o "$T/all.tsv" --report "$T/all.rep" "$@" ||
		fail "unsharded classify $* failed"
	rm -f "$T"/s.shard-*.tsv
	for ((i = 0; i < n; i++)); do
		"$GF" classify -q -m "$T/m.gfm" --batch 1 -t 1 --shard "$i/$n" -o "$(printf '%s/s.shard-%04d.tsv' "$T" "$i")" "$@" ||
			fail "classify --shard $i/$n $* failed"
	done
	"$MERGE" -o "$T/merged.tsv" --report "$T/merged.rep" "$T"/s.shard-*.tsv || fail "merge of $n shards failed"
	cmp "$T/all.tsv" "$T/merged.tsv" >&2 || fail "$n shards of '$*': merged table differs from the unsharded one"
	cmp "$T/all.rep" "$T/merged.rep" >&2 || fail "$n shards of '$*': merged report differs: $(diff "$T/all.rep" "$T/merged.rep")"
}

check_merge 3 "$T/reads.fq" "$T/ctg.fa"                # 43 records over two files
check_merge 2 --per-window "$T/ctg.fa"                  # window rows travel with their record
check_merge 4 --min-prob 0.55 "$T/reads.fq" "$T/ctg.fa" # unclassified rows counted in the report
check_merge 5 "$T/ctg.fa"                               # 3 records, 5 shards: two are empty
grep -q $'^unclassified\t[1-9]' "$T/all.rep" || fail "--min-prob 0.55 left nothing unclassified: $(cat "$T/all.rep")"

# the merged table on stdout is the same
"$MERGE" "$T"/s.shard-*.tsv >"$T/stdout.tsv" || fail "merge to stdout failed"
cmp -s "$T/stdout.tsv" "$T/merged.tsv" || fail "merge to stdout differs from -o"

# the shards' own "#shard I/N" lines order them, whatever the file order
# (shard-10 sorts before shard-2 in a glob)
rm -f "$T"/s.shard-*.tsv "$T/merged.tsv"
for i in 0 1 2; do "$GF" classify -q -m "$T/m.gfm" --batch 1 --shard $i/3 -o "$T/s$i.tsv" "$T/reads.fq" || fail "classify"; done
"$GF" classify -q -m "$T/m.gfm" --batch 1 -o "$T/one.tsv" "$T/reads.fq" || fail "classify"
expect_status 0 "$MERGE" -o "$T/merged.tsv" "$T/s2.tsv" "$T/s0.tsv" "$T/s1.tsv"
cmp -s "$T/merged.tsv" "$T/one.tsv" || fail "shards given out of order merged wrongly"
rm -f "$T/merged.tsv"

# F12: a missing, repeated or foreign shard: one line, exit 1, no output
expect_error 1 "[merge] shard 1 of 3 missing (2 files given)" "$MERGE" -o "$T/merged.tsv" "$T/s0.tsv" "$T/s2.tsv"
[ -e "$T/merged.tsv" ] && fail "a refused merge left $T/merged.tsv"
ls "$T" | grep -q 'merged.tsv.tmp' && fail "a refused merge left a temporary file: $(ls "$T")"
cp "$T/s0.tsv" "$T/s0b.tsv"
expect_error 1 "[merge] $T/s0b.tsv and $T/s0.tsv are both shard 0/3" "$MERGE" "$T/s0.tsv" "$T/s0b.tsv" "$T/s2.tsv"
expect_error 1 "[merge] $T/s0.tsv: given twice" "$MERGE" "$T/s0.tsv" "$T/s0.tsv" "$T/s2.tsv"
"$GF" classify -q -m "$T/m.gfm" --batch 1 --shard 1/4 -o "$T/q1.tsv" "$T/reads.fq" || fail "classify"
expect_error 1 "[merge] $T/q1.tsv: shard 1/4, but $T/s0.tsv is of 3 shards" "$MERGE" "$T/s0.tsv" "$T/q1.tsv" "$T/s2.tsv"
expect_error 1 "[merge] $T/one.tsv: no \"#shard I/N\" line: not a table of classify --shard" "$MERGE" "$T/s0.tsv" "$T/one.tsv" "$T/s2.tsv"
# an output that is a shard, or the other output
cp "$T/s0.tsv" "$T/keep0.tsv"
expect_error 1 "[merge] $T/s0.tsv: output is the same file as input $T/s0.tsv; refusing to overwrite it" \
	"$MERGE" -o "$T/s0.tsv" "$T/s0.tsv" "$T/s1.tsv" "$T/s2.tsv"
cmp -s "$T/s0.tsv" "$T/keep0.tsv" || fail "a refused merge changed its shard"
expect_error 1 "[merge] $T/x.tsv: output is the same file as output $T/x.tsv" \
	"$MERGE" -o "$T/x.tsv" --report "$T/x.tsv" "$T/s0.tsv" "$T/s1.tsv" "$T/s2.tsv"
# F13: any byte in the output's name (awk -v would eat the backslash)
mkdir -p "$T/a\\b"
expect_status 0 "$MERGE" -o "$T/a\\b/m\\n.tsv" --report "$T/a\\b/r\\t.tsv" "$T/s0.tsv" "$T/s1.tsv" "$T/s2.tsv"
cmp -s "$T/a\\b/m\\n.tsv" "$T/one.tsv" || fail "merge -o with backslashes: $(ls -R "$T/a\\b")"
[ -s "$T/a\\b/r\\t.tsv" ] || fail "merge --report with backslashes wrote nothing"
ln -s nowhere/x "$T/dangling"
expect_error 1 "[merge] $T/dangling: is a symbolic link whose target does not exist; not created" \
	"$MERGE" -o "$T/dangling" "$T/s0.tsv" "$T/s1.tsv" "$T/s2.tsv"
# a FIFO is written in place; a rewritten file keeps its mode
mkfifo "$T/fifo"
cat "$T/fifo" >"$T/from_fifo" &
expect_status 0 "$MERGE" -o "$T/fifo" "$T/s0.tsv" "$T/s1.tsv" "$T/s2.tsv"
wait
[ -p "$T/fifo" ] && cmp -s "$T/from_fifo" "$T/one.tsv" || fail "merge -o FIFO"
printf 'old\n' >"$T/perm.tsv" && chmod 640 "$T/perm.tsv"
expect_status 0 "$MERGE" -o "$T/perm.tsv" "$T/s0.tsv" "$T/s1.tsv" "$T/s2.tsv"
[ "$(stat -c %a "$T/perm.tsv")" = 640 ] || fail "merge changed the mode to $(stat -c %a "$T/perm.tsv")"
"$GF" classify -q -m "$T/m.gfm" --per-window --shard 1/3 -o "$T/w1.tsv" "$T/reads.fq" || fail "classify"
rm -f "$T/merged.tsv"
expect_error 1 "w1.tsv: its header differs from $T/s0.tsv's" "$MERGE" -o "$T/merged.tsv" "$T/s0.tsv" "$T/w1.tsv" "$T/s2.tsv"
sed -n 1p "$T/w1.tsv" >"$T/cut.tsv"
sed -n 3,4p "$T/w1.tsv" >>"$T/cut.tsv"
expect_error 1 "cut.tsv: ends inside a record" "$MERGE" "$T/cut.tsv"
printf 'a\tb\n' >"$T/junk.tsv"
expect_error 1 "junk.tsv: not a genoformer classify table" "$MERGE" "$T/junk.tsv"
# shards of another model (or version) do not merge: their #genoformer lines differ
sed '1s/model_crc32=[0-9a-f]*/model_crc32=00000000/' "$T/s1.tsv" >"$T/other.tsv"
expect_error 1 "other.tsv: its #genoformer line (model, version) differs from $T/s0.tsv's" "$MERGE" "$T/s0.tsv" "$T/other.tsv" "$T/s2.tsv"
expect_error 1 "nothere.tsv: cannot read" "$MERGE" "$T/nothere.tsv"
expect_status 2 "$MERGE"
exit 0
