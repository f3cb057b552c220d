# The bad-input matrix of docs/bad-input.md, row by row through the real
# binary: each command must exit with the row's status and print exactly the
# row's message, as one line, on stderr. The table is the single source: a
# row added there is tested here.
set -u
DOC=docs/bad-input.md
B=tests/data/bad S=data/samples M=$T/m.gfm
export B S M

# the scratch files the document describes
tail -c +2 tests/fuzz/corpus/fuzz_ckpt/classifier >"$M"
head -c 1000 "$M" >"$T/trunc.gfm"
cp "$M" "$T/flip.gfm" && printf '\377' | dd of="$T/flip.gfm" bs=1 seek=2000 conv=notrunc status=none
cp "$M" "$T/v99.gfm" && printf 'c\0\0\0' | dd of="$T/v99.gfm" bs=1 seek=12 conv=notrunc status=none
# add_meta OUT KEY VALUE: m.gfm with one more metadata record, its header
# CRC redone (model/checkpoint.h layout)
add_meta() {
	python3 - "$M" "$@" <<'PY'
import struct, sys, zlib
b = open(sys.argv[1], 'rb').read()
n, = struct.unpack_from('<I', b, 20)
rlen, = struct.unpack_from('<Q', b, 48)
key, val = sys.argv[3].encode(), sys.argv[4].encode()
rec = struct.pack('<BBHI', 2, 0, len(key), len(val)) + key + val
head = bytearray(b[:56 + rlen]) + rec
struct.pack_into('<I', head, 20, n + 1)
struct.pack_into('<Q', head, 48, rlen + len(rec))
open(sys.argv[2], 'wb').write(bytes(head) + struct.pack('<I', zlib.crc32(bytes(head))) + b[56 + rlen + 4:])
PY
}
# a k-mer head cut short; a background class that is none of the classes
add_meta "$T/khbad.gfm" kmerhead $'k=8 trials=100 lambda=0 records=1 words=1 nnz=1\n1 0 0\n5 2'
add_meta "$T/badbg.gfm" openset.background archaea
printf 'lambda_head\n' >"$T/noclass.tsv"
printf 'lambda_head\tphage\nlambda_head\tplasmid\n' >"$T/dup.tsv"
printf '# nothing here\n\n' >"$T/comments.tsv"
printf 'lambda_head\tphage\n' >"$T/partial.tsv"
printf 'lambda_head\tphage\nlambda_soft\tphage\ngi|9626243|ref|NC_001416.1|tail\tphage\nnot_there\tvirus\n' >"$T/extra.tsv"
genoformer() { "$GF" "$@"; }

rows=0 bad=0
# table rows: | what | `command` | exit | `message` |  ("\|" is a pipe inside a cell)
while IFS= read -r line; do
	line=${line//\\|/$'\x01'}
	IFS='|' read -r _ what cmd want msg _ <<<"$line"
	cmd=$(sed 's/^ *`//; s/` *$//' <<<"$cmd") msg=$(sed 's/^ *`//; s/` *$//' <<<"$msg")
	cmd=${cmd//$'\x01'/|} msg=${msg//$'\x01'/|} want=${want// /}
	[[ $want =~ ^[0-9]+$ ]] || continue
	rows=$((rows + 1))
	(eval "$cmd") >"$T/out" 2>"$T/err" </dev/null
	got=$?
	expect=${msg//\$T/$T}
	if [ "$got" != "$want" ] || [ "$(cat "$T/err")" != "$expect" ]; then
		echo "  row '$what': \`$cmd\` exited $got (want $want); stderr:" >&2
		sed 's/^/    | /' "$T/err" >&2
		echo "    want: $expect" >&2
		bad=$((bad + 1))
	fi
done < <(grep '^| ' "$DOC")
[ "$rows" -ge 50 ] || fail "only $rows rows read from $DOC"
[ "$bad" = 0 ] || fail "$bad of $rows rows of $DOC do not hold"
echo "$rows rows hold"
