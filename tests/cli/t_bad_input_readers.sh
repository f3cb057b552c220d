# genoformer tokenize on every bad input of tests/data/bad (and bad regions):
# exit status 1, one line on stderr naming the file (and the record and line
# or position where one applies), and no half-written output: stdout holds
# only whole lines, and nothing from the record that failed.
set -u
B=tests/data/bad
S=data/samples

# bad FILE TEXT [OPTIONS...]: tokenize fails on FILE with TEXT on stderr.
bad() {
	local file=$1 text=$2; shift 2
	expect_error 1 "$text" "$GF" tokenize -q -k 3 "$@" "$file"
	grep -qF -- "$file" "$T/err" || fail "stderr does not name $file: $(cat "$T/err")"
	if [ -s "$T/out" ] && [ "$(tail -c 1 "$T/out" | od -An -c | tr -d ' ')" != '\n' ]; then
		fail "$file: stdout ends in a partial line"
	fi
}
# The record named in the error must not appear in stdout.
no_row() { ! grep -q "^$1	" "$T/out" || fail "stdout has a row for the failed record '$1': $(cat "$T/out")"; }

bad "$B/does_not_exist.fa" "No such file"
bad "$B/empty.fa" "the file is empty"
bad "$B/notes.txt" "not FASTA, FASTQ, SAM, BAM or CRAM"
bad "$B/variants.vcf" "not FASTA, FASTQ, SAM, BAM or CRAM"
bad "$B/truncated.fa.gz" "truncated or corrupt"
bad "$B/truncated_bgzf.fa.gz" "truncated"
bad "$B/no_eof_block.fa.gz" "end-of-file marker is missing"
bad "$B/truncated.bam" "truncated"
bad "$B/qual_mismatch.fq" "line 5: record 'r2': sequence has 12 bases but quality has only 10"
no_row r2
bad "$B/header_then_header.fa" "line 3: record 'second' has no sequence"
no_row second
bad "$B/header_at_eof.fa" "line 3: record 'last' has no sequence"
no_row last
bad "$B/empty_seq.fq" "line 5: record 'r2' has no sequence"
no_row r2
bad "$B/no_plus.fq" "record 'r1' ends before its '+' line"
bad "$B/dash.fa" "line 5: record 'gapped': '-' at position 14 is not an IUPAC base"
no_row gapped
bad "$B/star.fq" "line 2: record 'r1': '*' at position 7 is not an IUPAC base"
no_row r1

# regions: unknown name, off the sequence, a file that cannot be indexed
bad "$S/small.fa" "region 'chrX:1-10': unknown sequence name" -r chrX:1-10
bad "$S/small.fa" "out of range: the sequence has 1200 bp" -r lambda_head:1190-1201
bad "$B/plain_gzip.fa.gz" "plain gzip file cannot be indexed" -r lambda_head
bad "$S/small.sam" "regions need an index" -r 'gi|9626243|ref|NC_001416.1|:1-100'
cp "$S/small.fa" "$T/copy.fa" && mkdir "$T/copy.fa.fai"
bad "$T/copy.fa" "cannot load the index" -r lambda_head

# standard input, through a pipe (so not checkable up front): the message says so
# shellcheck disable=SC2002
cat "$B/no_eof_block.fa.gz" | "$GF" tokenize -q -k 3 - >"$T/out" 2>"$T/err"
[ $? = 1 ] || fail "stdin: truncated input did not exit 1"
grep -q "standard input: truncated file" "$T/err" || fail "stdin: $(cat "$T/err")"
[ "$(wc -l <"$T/err")" = 1 ] || fail "stdin: more than one line on stderr: $(cat "$T/err")"
