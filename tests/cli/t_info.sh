# genoformer info: the fields of a model file, --tensors checksums that
# tell equal parameters from different ones, and errors.
set -u
. tests/cli/model.sh

expect_status 0 "$GF" info "$T/m.gfm"
for want in $'format_version\t1' $'kind\tmodel' $'task\tclassify' $'tokenizer.k\t3' $'tokenizer.stride\t3' \
	$'window\t64' $'config.d_model\t16' $'config.n_layers\t2' $'config.layer_kind\tlocal,lsh' $'config.axial1\t8' $'config.n_classes\t2' $'class.0\tecoli' \
	$'class.1\tlambda' $'classes\t2'; do
	grep -qxF "$want" "$T/out" || fail "info lacks '$want': $(cat "$T/out")"
done
for key in parameters train.steps cmdline version created; do
	grep -q "^$key	" "$T/out" || fail "info lacks $key"
done
grep -q $'^version\t[0-9]' "$T/out" || fail "version: $(grep ^version "$T/out")"
cp "$T/out" "$T/info1"

# --tensors: parameter count = the sum of the tensors' sizes; a copy has
# the same checksums, another seed's model other ones
expect_status 0 "$GF" info --tensors "$T/m.gfm"
params=$(awk -F'\t' '$1 == "parameters" { print $2 }' "$T/out")
sum=$(awk -F'\t' '$1 == "tensor" { s += $4 } END { print s }' "$T/out")
[ "$params" = "$sum" ] || fail "parameters $params, tensors hold $sum"
grep -q $'^tensor\ttok_emb\t69x16\t1104\t[0-9a-f]\\{8\\}$' "$T/out" || fail "tok_emb line: $(grep tok_emb "$T/out")"
grep -q $'^params_crc32\t[0-9a-f]\\{8\\}$' "$T/out" || fail "no params_crc32"
cp "$T/m.gfm" "$T/copy.gfm"
"$GF" info --tensors "$T/copy.gfm" | grep -v '^file' >"$T/t2"
grep -v '^file' "$T/out" | cmp -s - "$T/t2" || fail "a copy's info differs"
cp "$T/m.gfm" "$T/m1.gfm"
train_model --seed 8
"$GF" info --tensors "$T/m.gfm" >"$T/t3"
[ "$(grep params_crc32 "$T/t3")" != "$(grep params_crc32 "$T/t2")" ] || fail "another seed, same params_crc32"

expect_status 0 "$GF" info -h
grep -q -- '--tensors' "$T/out" || fail "usage lacks --tensors"
expect_error 2 'no model file' "$GF" info
expect_error 2 'one model file at a time' "$GF" info "$T/m.gfm" "$T/m1.gfm"
expect_error 1 "$T/none.gfm" "$GF" info "$T/none.gfm"
printf 'hello\n' >"$T/text.gfm"
expect_error 1 'not a genoformer model' "$GF" info "$T/text.gfm"
exit 0
