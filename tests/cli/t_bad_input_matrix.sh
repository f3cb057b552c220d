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
# badbg.gfm: m.gfm with one more metadata record, openset.background=archaea
# (no class of it), its header CRC recomputed (model/checkpoint.h layout)
python3 - "$M" "$T/badbg.gfm" <<'EOF_PY'
import struct, sys, zlib
b = open(sys.argv[1], 'rb').read()
(n_rec,) = struct.unpack_from('<I', b, 20)
(rl,) = struct.unpack_from('<Q', b, 48)
end = 56 + rl
k, v = b'openset.background', b'archaea'
h = bytearray(b[:end] + struct.pack('<BBHI', 2, 0, len(k), len(v)) + k + v)
struct.pack_into('<I', h, 20, n_rec + 1)
struct.pack_into('<Q', h, 48, rl + 8 + len(k) + len(v))
open(sys.argv[2], 'wb').write(bytes(h) + struct.pack('<I', zlib.crc32(h)) + b[end + 4:])
EOF_PY
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
