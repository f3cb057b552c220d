# genoformer tokenize: exact statistics and tokens on a hand-written FASTA,
# windows, labels, help, and option/label errors.
# Token ids: 5 + base-4 value, A=0 C=1 G=2 T=3 (ACG = 11, GTA = 49, TAC = 54).
set -u
printf '>r1 desc\nACGTACGTAC\n>r2\nacgtNNacgt\n>r3|x\nACG\n>short\nAC\n' >"$T/a.fa"

expect_status 0 "$GF" tokenize -k 3 "$T/a.fa"
expect_out "$T/out" $'record\tbases\ttokens\tunk\twindows\ttail\nr1\t10\t8\t0\t1\t0\nr2\t10\t8\t4\t1\t0\nr3|x\t3\t1\t0\t1\t0\nshort\t2\t0\t0\t0\t2'
grep -q '^\[tokenize\] 4 records, 25 bp, 17 tokens (4 \[UNK\])' "$T/err" || fail "no summary line: $(cat "$T/err")"
grep -q '^\[tokenize\] genoformer .*wall .* s, CPU .* s, peak RSS' "$T/err" || fail "no run summary: $(cat "$T/err")"

# stride k: tokens at 0, 3, 6; the last base of r1 and r2 is the tail
expect_status 0 "$GF" tokenize -k 3 --stride 3 "$T/a.fa"
expect_out "$T/out" $'record\tbases\ttokens\tunk\twindows\ttail\nr1\t10\t3\t0\t1\t1\nr2\t10\t3\t1\t1\t1\nr3|x\t3\t1\t0\t1\t0\nshort\t2\t0\t0\t0\t2'

expect_status 0 "$GF" tokenize -q -k 3 -s 3 --print "$T/a.fa"
expect_out "$T/out" $'r1\t11 54 49\nr2\t11 1 11\nr3|x\t11\nshort\t'
[ -s "$T/err" ] && fail "-q still logs: $(cat "$T/err")"

expect_status 0 "$GF" tokenize -q -k 1 -p "$T/a.fa"
expect_out "$T/out" $'r1\t5 6 7 8 5 6 7 8 5 6\nr2\t5 6 7 8 1 1 5 6 7 8\nr3|x\t5 6 7\nshort\t5 6'

expect_status 0 "$GF" tokenize -q -k 3 -p --names "$T/a.fa"
expect_out "$T/out" $'r1\tACG CGT GTA TAC ACG CGT GTA TAC\nr2\tACG CGT [UNK] [UNK] [UNK] [UNK] ACG CGT\nr3|x\tACG\nshort\t'

# windows of 2 tokens sharing 1: name, window, beg, end, ids ([PAD] = 0)
expect_status 0 "$GF" tokenize -q -k 3 -s 2 -L 2 -O 1 -p "$T/a.fa"
expect_out "$T/out" $'r1\t0\t0\t5\t11 49\nr1\t1\t2\t7\t49 11\nr1\t2\t4\t9\t11 49\nr2\t0\t0\t5\t11 1\nr2\t1\t2\t7\t1 1\nr2\t2\t4\t9\t1 11\nr3|x\t0\t0\t3\t11 0'
expect_status 0 "$GF" tokenize -k 3 -L 3 "$T/a.fa"
expect_out "$T/out" $'record\tbases\ttokens\tunk\twindows\ttail\nr1\t10\t8\t0\t3\t0\nr2\t10\t8\t4\t3\t0\nr3|x\t3\t1\t0\t1\t0\nshort\t2\t0\t0\t0\t2'

# labels: a header, comments and ids holding '|'
printf '# classes of a.fa\nid\tclass\nr1\tphage\nr2\tbacteria\nr3|x\tphage\nshort\tbacteria\n' >"$T/labels.tsv"
expect_status 0 "$GF" tokenize -k 3 --labels "$T/labels.tsv" "$T/a.fa"
expect_out "$T/out" $'record\tclass\tbases\ttokens\tunk\twindows\ttail\nr1\tphage\t10\t8\t0\t1\t0\nr2\tbacteria\t10\t8\t4\t1\t0\nr3|x\tphage\t3\t1\t0\t1\t0\nshort\tbacteria\t2\t0\t0\t0\t2'
expect_status 0 "$GF" tokenize -q -k 3 -p --class lambda="$T/a.fa" "$T/a.fa"
grep -q $'^r3|x\tlambda\t11$' "$T/out" || fail "--class: $(cat "$T/out")"

# help and version
expect_status 0 "$GF" tokenize -h
grep -q '^Usage: genoformer tokenize' "$T/out" || fail "tokenize -h: no usage on stdout"
grep -q -- '-k INT .*\[6\]' "$T/out" || fail "tokenize -h: -k default not shown"
expect_status 0 "$GF" -h
grep -q 'tokenize' "$T/out" || fail "genoformer -h does not list tokenize"
expect_status 0 "$GF" --version
grep -q '^genoformer [0-9]' "$T/out" || fail "--version: $(cat "$T/out")"
expect_status 2 "$GF"
expect_status 2 "$GF" nosuchcommand
grep -q "unknown command 'nosuchcommand'" "$T/err" || fail "unknown command: $(cat "$T/err")"

# option errors: exit 2 with a message naming the option
expect_error 2 '-k expects an integer in 1..8' "$GF" tokenize -k 0 "$T/a.fa"
expect_error 2 '-k expects an integer in 1..8' "$GF" tokenize -k 9 "$T/a.fa"
expect_error 2 "got 'x'" "$GF" tokenize -k x "$T/a.fa"
expect_error 2 'stride must be between 1 and k=3' "$GF" tokenize -k 3 -s 4 "$T/a.fa"
expect_error 2 '-s expects an integer' "$GF" tokenize -k 3 -s 0 "$T/a.fa"
expect_error 2 'overlap must be between 0 and' "$GF" tokenize -L 4 -O 4 "$T/a.fa"
expect_error 2 '--overlap needs --window' "$GF" tokenize -O 1 "$T/a.fa"
expect_error 2 '--names needs --print' "$GF" tokenize --names "$T/a.fa"
expect_error 2 'no-such-option' "$GF" tokenize --no-such-option "$T/a.fa"
expect_error 2 'no input file' "$GF" tokenize
[ -s "$T/out" ] && fail "usage errors write to stdout: $(cat "$T/out")"
expect_error 2 'expects NAME=FILE' "$GF" tokenize --class noequals "$T/a.fa"
expect_error 2 'cannot be combined' "$GF" tokenize --labels "$T/labels.tsv" --class x="$T/a.fa" "$T/a.fa"

# label errors: one line naming the file and line, exit 1
label_error() {
	printf "$1" >"$T/l.tsv"
	expect_error 1 "$2" "$GF" tokenize --labels "$T/l.tsv" "$T/a.fa"
}
label_error 'r1\tphage\nr2\tbacteria\nr3|x\tphage\n' "a.fa: record 'short' has no label"
label_error 'r1\tphage\nr2\tbacteria\nr3|x\tphage\nshort\tphage\nr9\tphage\n' "l.tsv:5: id 'r9' matches no record"
label_error 'r1\tphage\n# c\nr1\tbacteria\n' "l.tsv:3: duplicate id 'r1' (first at line 1)"
label_error 'r1\tphage\nr2\n' "l.tsv:2: no class column"
label_error '# nothing\n' "l.tsv: no labels (empty file)"
expect_error 1 "other.fa is not among the inputs" "$GF" tokenize --class x="$T/other.fa" --class y="$T/a.fa" "$T/a.fa"
exit 0
