# Windows too large for the memory are refused up front, with the largest
# window that fits, when the limit is the system's (here `ulimit -v`, the
# address space) rather than GF_MEMORY_LIMIT (the rows of docs/bad-input.md).
# The numbers depend on the machine, so only the message's form is checked.
unset GF_MEMORY_LIMIT
S=data/samples
printf 'lambda_head\tphage\nlambda_soft\tphage\ngi|9626243|ref|NC_001416.1|tail\ttail\n' >"$T/lab.tsv"
form='needs [0-9.]+ [KMGT]?i?B, [0-9.]+ [KMGT]?i?B available; the largest window that fits is L=[0-9]+'
# 1.5 GiB of address space
(ulimit -v 1572864 && exec "$GF" tokenize -q -L 968888889 "$S/small.fa") >"$T/out" 2>"$T/err"
[ $? = 1 ] || fail "tokenize under ulimit -v: exit $?: $(cat "$T/err")"
grep -Eq "^\[tokenize\] error: window of 968888889 tokens $form\$" "$T/err" || fail "tokenize: $(cat "$T/err")"
(ulimit -v 1572864 && exec "$GF" train -q -t 1 -o "$T/big.gfm" -L 1000000 --labels "$T/lab.tsv" "$S/small.fa") >"$T/out" 2>"$T/err"
[ $? = 1 ] || fail "train under ulimit -v: exit $?: $(cat "$T/err")"
grep -Eq "^\[train\] error: window of 1000000 tokens x batch 8 $form\$" "$T/err" || fail "train: $(cat "$T/err")"
[ "$(wc -l <"$T/err")" = 1 ] || fail "train: more than one line: $(cat "$T/err")"
# a window that fits runs under the same limit
(ulimit -v 1572864 && exec "$GF" tokenize -q -L 1000 "$S/small.fa") >"$T/out" 2>"$T/err" || fail "tokenize -L 1000 under ulimit -v: $(cat "$T/err")"
[ "$(wc -l <"$T/out")" = 4 ] || fail "tokenize -L 1000: $(cat "$T/out")"
