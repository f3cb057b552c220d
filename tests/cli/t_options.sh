# One option system: the same option has the same spelling, bounds, default
# and meaning in every command that takes it (issue 14's list, each through
# the binary).
S=data/samples
C=data/cache/lambda
M=(-k 3 --window 64 --layers 2 --d-model 16 --heads 2 --d-ff 32 --chunk 16 --steps 1 --batch 2)

# -t is compute threads everywhere, -@ the same; --hts-threads is htslib's
for cmd in "tokenize -q" "pretrain -q --dry-run -o $T/p.gfm ${M[*]}"; do
	expect_status 0 "$GF" $cmd -t 2 $S/small.fa
	expect_status 0 "$GF" $cmd -@ 2 $S/small.fa
	expect_status 0 "$GF" $cmd --hts-threads 2 $S/small.fa
done
expect_status 0 "$GF" tokenize -t 1 $S/small.fa
cp "$T/out" "$T/t1"
expect_status 0 "$GF" tokenize -@ 3 $S/small.fa
cmp -s "$T/out" "$T/t1" || fail "tokenize -@ 3 output differs from -t 1"

# the same bounds for --threads, --heads, --d-ff, --chunk, --batch in every command
for cmd in "tokenize" "train -o $T/x.gfm --class a=$S/small.fa" "pretrain -o $T/x.gfm" "classify -m $T/none.gfm" \
	"embed -m $T/none.gfm -o $T/e.npy" "eval -m $T/none.gfm --labels $T/l.tsv" "bench engine"; do
	expect_error 2 "--threads expects an integer in 1..4096, got '4097'" "$GF" $cmd --threads 4097 $S/small.fa
	expect_error 2 "-@ expects an integer in 1..4096, got '0'" "$GF" $cmd -@ 0 $S/small.fa
done
for cmd in "train -o $T/x.gfm --class a=$S/small.fa" "pretrain -o $T/x.gfm" "bench engine"; do
	expect_error 2 "--heads expects an integer in 1..1024, got '1025'" "$GF" $cmd --heads 1025 $S/small.fa
	expect_error 2 "--d-ff expects an integer in 1..1048576, got '0'" "$GF" $cmd --d-ff 0 $S/small.fa
	expect_error 2 "--chunk expects an integer in 1..1048576, got '1048577'" "$GF" $cmd --chunk 1048577 $S/small.fa
done
for cmd in "train -o $T/x.gfm --class a=$S/small.fa" "pretrain -o $T/x.gfm" "classify -m $T/none.gfm" \
	"embed -m $T/none.gfm -o $T/e.npy" "eval -m $T/none.gfm --labels $T/l.tsv" "bench engine"; do
	expect_error 2 "--batch expects an integer in 1..65536, got '65537'" "$GF" $cmd --batch 65537 $S/small.fa
done

# --device: cpu|cuda|cuda:N|auto everywhere, auto the default (bench too)
for cmd in train pretrain classify embed eval "bench engine"; do
	expect_status 0 "$GF" $cmd -h
	grep -q -- '--device NAME .*cuda:N.* \[auto\]$' "$T/out" || fail "$cmd -h: --device default: $(grep -- --device "$T/out")"
	grep -q -- '-t, --threads INT .*-@' "$T/out" || fail "$cmd -h lacks -@"
done
B=(bench engine -L 64 --layers 1 --d-model 16 --heads 2 --d-ff 32 --chunk 16 --steps 1 --warmup 0 -t 1)
expect_status 0 "$GF" "${B[@]}" --device auto
[ "$(cut -f 9 "$T/out")" = cpu ] || fail "bench --device auto without a GPU: device $(cut -f 9 "$T/out")"
expect_status 0 "$GF" "${B[@]}"
[ "$(cut -f 9 "$T/out")" = cpu ] || fail "bench default device: $(cut -f 9 "$T/out")"
expect_error 2 "--device 'cuda:x': expects cpu, cuda, cuda:N (GPU N, from 0) or auto" "$GF" "${B[@]}" --device cuda:x
if ! "$GF" "${B[@]}" --device cuda >/dev/null 2>&1; then
	# no GPU here (or a CPU-only build): cuda:N is refused in one line, exit 1
	expect_status 1 "$GF" "${B[@]}" --device cuda:7
	[ "$(wc -l <"$T/err")" = 1 ] && grep -q "cuda:7" "$T/err" || fail "cuda:7: $(cat "$T/err")"
fi

# train and pretrain read CRAM with --reference, as the inference commands do
if [ -s $C/aln.cram ] && [ -s $C/lambda_virus.fa ]; then
	expect_status 0 "$GF" pretrain --dry-run -o "$T/p.gfm" "${M[@]}" --reference $C/lambda_virus.fa $C/aln.cram
	grep -q "dry run" "$T/err" || fail "pretrain --dry-run on CRAM: $(cat "$T/err")"
	expect_status 0 "$GF" train --dry-run -o "$T/c.gfm" "${M[@]}" --reference $C/lambda_virus.fa \
		--class cram=$C/aln.cram --class fasta=$C/lambda_virus.fa
fi

# the defaults the usage shows are the ones the code uses
expect_status 0 "$GF" pretrain -q -o "$T/d.gfm" -k 3 --window 64 --layers 1 --d-model 16 --heads 2 --d-ff 32 \
	--chunk 16 --steps 2 --val-every 0 -t 1 $S/small.fa
expect_status 0 "$GF" info "$T/d.gfm"
expect_status 0 "$GF" pretrain -h
hashes=$(grep -o -- '--hashes INT .*\[[0-9]*\]' "$T/out" | grep -o '[0-9]*]$' | tr -d ']')
ffc=$(grep -o -- '--ff-chunk INT .*\[[0-9]*\]' "$T/out" | grep -o '[0-9]*]$' | tr -d ']')
"$GF" info "$T/d.gfm" >"$T/info"
grep -q $'^config.n_hashes\t'"$hashes"'$' "$T/info" || fail "usage says --hashes [$hashes]: $(grep n_hashes "$T/info")"
grep -q $'^config.ff_chunk\t'"$ffc"'$' "$T/info" || fail "usage says --ff-chunk [$ffc]: $(grep ff_chunk "$T/info")"
grep -q $'^config.dropout\t0.1$' "$T/info" || fail "dropout: $(grep dropout "$T/info")"

# --steps, --lr and --warmup: the run uses the defaults the help shows (one
# step of the default schedule: lr * 1 / warmup) on long records (short
# ones get their schedule from the data: t_markers.sh)
expect_status 0 "$GF" pretrain -o "$T/s.gfm" -k 3 --window 64 --layers 1 --d-model 16 --heads 2 --d-ff 32 \
	--chunk 16 --stop-at 1 --log-every 1 --val-every 0 -t 1 data/cache/lambda/lambda_virus.fa
"$GF" pretrain -h >"$T/help"
steps=$(grep -o -- '--steps INT .*\[[0-9]*\]' "$T/help" | grep -o '[0-9]*]$' | tr -d ']')
lr=$(grep -o -- '--lr F .*\[[0-9.e-]*\]' "$T/help" | grep -o '[0-9.e-]*]$' | tr -d ']')
warmup=$(grep -o -- '--warmup INT .*\[[0-9]*\]' "$T/help" | grep -o '[0-9]*]$' | tr -d ']')
grep -q "; $steps steps of " "$T/err" || fail "help says --steps [$steps]: $(grep 'model:' "$T/err")"
got=$(awk -F'\t' '$1 == 1 { print $3 }' "$T/s.metrics.tsv")
awk -v got="$got" -v lr="$lr" -v w="$warmup" 'BEGIN { d = got - lr / w; exit !(d < 1e-9 && d > -1e-9) }' ||
	fail "step 1 lr $got, help says --lr [$lr] and --warmup [$warmup]"
