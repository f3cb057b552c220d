# Inputs and the indexes beside them (issue 11: F10 F11 F16): a .fai older
# than its FASTA is rebuilt with a message, never trusted; runs started
# together on an unindexed FASTA all succeed and build one index through a
# temporary; a .bai older than its BAM is refused; a CRAM without its
# reference fails naming --reference and never reaches for the network.
set -u
L=data/cache/lambda
[ -f "$L/aln.bam" ] || skip "data/cache/lambda missing (data/fetch-examples.sh)"

# F11: six runs at once on an unindexed FASTA
cp data/samples/small.fa "$T/a.fa"
for i in 1 2 3 4 5 6; do
	"$GF" tokenize -k 1 --print -r lambda_head:1-30 "$T/a.fa" >"$T/o$i" 2>"$T/e$i" &
done
bad=0
for i in 1 2 3 4 5 6; do wait %$i || bad=$((bad + 1)); done
[ "$bad" = 0 ] || fail "$bad of 6 concurrent runs failed: $(cat "$T"/e*)"
for i in 2 3 4 5 6; do cmp -s "$T/o1" "$T/o$i" || fail "run $i read other bases: $(cat "$T/o$i")"; done
grep -qx "\[tokenize\] built the index $T/a.fa.fai" "$T"/e* || fail "building the index was not logged: $(cat "$T"/e*)"
ls -a "$T" | grep -q 'tmp' && fail "temporaries left: $(ls -a "$T")"
[ -s "$T/a.fa.fai" ] || fail "no index built"

# F10: the FASTA changes after its index: the index is rebuilt, said so
printf '>lambda_head\nTTTTTGGGGGCCCCCAAAAA\n' >"$T/a.fa"
touch -d '1 hour ago' "$T/a.fa.fai"
expect_status 0 "$GF" tokenize -k 1 --print -r lambda_head:1-20 "$T/a.fa"
[ "$(cat "$T/out")" = "$(printf 'lambda_head\t8 8 8 8 8 7 7 7 7 7 6 6 6 6 6 5 5 5 5 5')" ] ||
	fail "stale index: read $(cat "$T/out")"
grep -qx "\[tokenize\] $T/a.fa.fai was older than $T/a.fa: rebuilt it" "$T/err" || fail "no rebuild message: $(cat "$T/err")"
# the same for a bgzip file and its .gzi
printf '>r\nACGTACGTAC\n' | bgzip -c >"$T/b.fa.gz"
expect_status 0 "$GF" tokenize -q -r r:1-4 "$T/b.fa.gz"
printf '>r\nTTTTACGTAC\n' | bgzip -c >"$T/b.fa.gz"
touch -d '1 hour ago' "$T/b.fa.gz.gzi"
expect_status 0 "$GF" tokenize -k 1 --print -r r:1-4 "$T/b.fa.gz"
[ "$(cat "$T/out")" = "$(printf 'r\t8 8 8 8')" ] || fail "stale .gzi: read $(cat "$T/out")"

# a .bai older than its BAM is refused
cp "$L/aln.bam" "$L/aln.bam.bai" "$T/"
touch -d '1 hour ago' "$T/aln.bam.bai"
expect_error 1 "[tokenize] error: $T/aln.bam: the index $T/aln.bam.bai is older than the file: rebuild it with samtools index" \
	"$GF" tokenize -q -r gi:1-100 "$T/aln.bam"

# F16: a CRAM whose reference is nowhere: an error naming --reference, and
# no socket opened (htslib would otherwise ask the EBI server)
cp "$L/lambda_virus.fa" "$T/ref.fa"
samtools view -C -T "$T/ref.fa" -o "$T/x.cram" "$L/aln.bam" && rm "$T"/ref.fa* || fail "samtools view -C failed"
expect_error 1 "give it with --reference FASTA" env -u REF_PATH -u REF_CACHE HOME="$T" "$GF" tokenize -q "$T/x.cram"
if command -v strace >/dev/null; then
	env -u REF_PATH -u REF_CACHE HOME="$T" strace -f -e trace=socket -o "$T/trace" "$GF" tokenize -q "$T/x.cram" >"$T/out" 2>&1
	grep -q 'AF_INET' "$T/trace" && fail "reading a CRAM opened a network socket: $(grep AF_INET "$T/trace")"
fi
# with the reference it reads like the BAM
expect_status 0 "$GF" tokenize -q --reference "$L/lambda_virus.fa" "$T/x.cram"
cp "$T/out" "$T/cram.tsv"
expect_status 0 "$GF" tokenize -q "$L/aln.bam"
cmp -s "$T/out" "$T/cram.tsv" || fail "CRAM with --reference differs from the BAM"
echo ok
