# genoformer bench engine: one TSV line per run, usage errors name the option.
SMALL=(-L 100 --layers 2 --d-model 32 --heads 2 --d-ff 64 --chunk 16 --hashes 2 --steps 1 --warmup 0 -t 1)
expect_status 0 "$GF" bench engine "${SMALL[@]}" --header
[ "$(wc -l <"$T/out")" = 2 ] || fail "want a header and one line: $(cat "$T/out")"
awk -F'\t' 'NR == 2 && !(NF == 14 && $1 == "train" && $2 == "lsh" && $3 == 100 && $6 == 1 && $11 > 0 && $13 > 0) { exit 1 }' "$T/out" ||
	fail "bad TSV line: $(tail -1 "$T/out")"
expect_status 0 "$GF" bench engine "${SMALL[@]}" --infer --stored --attn local,full --ff-chunk 0
awk -F'\t' '!(NF == 14 && $1 == "infer" && $2 == "local,full" && $6 == 0 && $7 == 0) { exit 1 }' "$T/out" ||
	fail "bad TSV line: $(cat "$T/out")"
expect_error 2 "--heads 3 does not divide --d-model 32" "$GF" bench engine "${SMALL[@]}" --heads 3
expect_error 2 "unknown attention 'lsx'" "$GF" bench engine "${SMALL[@]}" --attn lsx
expect_error 2 "-L expects an integer" "$GF" bench engine -L 0
expect_error 2 "unknown benchmark 'nosuch'" "$GF" bench nosuch
expect_status 0 "$GF" bench engine -h
grep -q -- "--ff-chunk" "$T/out" || fail "-h lacks --ff-chunk"
