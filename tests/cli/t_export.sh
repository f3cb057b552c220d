# genoformer export --format safetensors: names, shapes and config in the
# header as documented, the data equal to the .gfm's tensors; and
# scripts/gfm_torch.py rebuilds the bundled model in PyTorch (from
# tests/reference/reformer_ref.py) with genoformer's outputs on the demo
# contigs: pooled embeddings (embed) and class probabilities (classify, the
# Reformer's alone: the k-mer index is not exported).
set -u
PY=/usr/bin/python3
MODEL=data/models/example.gfm
expect_status 0 "$GF" export --format safetensors -o "$T/m.safetensors" "$MODEL"
grep -q "m.safetensors: 29 tensors of $MODEL" "$T/err" || fail "log: $(cat "$T/err")"
# the k-mer index (megabytes of classify's data, not the Reformer's) stays out
"$GF" info "$MODEL" | grep -q '^meta.kmerindex' || fail "the bundled model has no k-mer index"
grep -q kmerindex "$T/m.safetensors" && fail "the k-mer index was exported"
[ "$(stat -c %s "$T/m.safetensors")" -lt 2000000 ] || fail "export of $(stat -c %s "$T/m.safetensors") bytes"
# header: every tensor of 'info --tensors' with its shape, the config, the metadata
"$GF" info --tensors "$MODEL" | awk -F'\t' '$1 == "tensor" { print $2 "\t" $3 }' >"$T/want"
$PY - "$T/m.safetensors" >"$T/got" <<'PY' || fail "header unreadable"
import json, struct, sys
buf = open(sys.argv[1], "rb").read()
n, = struct.unpack_from("<Q", buf, 0)
assert n % 8 == 0, n
h = json.loads(buf[8:8 + n])
m = h.pop("__metadata__")
assert m["format"] == "pt" and m["cfg.d_model"] == "64" and m["cfg.layer_kind"] == "1,2", m
assert m["gfm.tokenizer.k"] == "6" and m["gfm.classes"].startswith("E.coli\nH.pylori\nS.aureus\nV.cholerae"), m
end = 0
for name, t in h.items():
    assert t["dtype"] == "F32" and t["data_offsets"][0] == end, (name, t)
    end = t["data_offsets"][1]
    print(name + "\t" + "x".join(str(d) for d in t["shape"]))
assert 8 + n + end == len(buf), (end, len(buf))
PY
cmp -s "$T/want" "$T/got" || fail "names and shapes differ from info --tensors: $(diff "$T/want" "$T/got" | head)"
# "-" is stdout; a default name beside the model
"$GF" export --format safetensors -o - "$MODEL" 2>/dev/null | cmp -s - "$T/m.safetensors" || fail "-o - differs"
expect_error 2 "--format expects safetensors, got 'onnx'" "$GF" export --format onnx "$MODEL"
expect_error 1 "not a genoformer model file" "$GF" export --format safetensors -o "$T/x.safetensors" data/samples/small.fa
[ -e "$T/x.safetensors" ] && fail "a failed export left its output"

# the PyTorch rebuild against genoformer on the first 12 demo contigs
$PY -c 'import torch' 2>/dev/null || skip "python3-torch is not installed"
gzip -dc data/examples/contigs.fa.gz | awk '/^>/ { n++ } n <= 12' >"$T/ctg.fa"
expect_status 0 "$GF" embed -q -m "$MODEL" --device cpu -o "$T/emb.npy" "$T/ctg.fa"
expect_status 0 "$GF" classify -q -m "$MODEL" --device cpu --no-kmer-index -o "$T/cls.tsv" "$T/ctg.fa"
$PY - "$T/m.safetensors" "$T/ctg.fa" "$T/emb.npy" "$T/cls.tsv" <<'PY' || fail "PyTorch rebuild differs from genoformer"
import sys
import numpy as np
sys.path.insert(0, "scripts")
import gfm_torch
model = gfm_torch.Model(sys.argv[1])
emb = np.load(sys.argv[3])
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[4]) if not l.startswith("#")][1:]
worst_e = worst_p = 0.0
for i, (name, seq) in enumerate(gfm_torch.fasta(sys.argv[2])):
    n, lg, pooled = model.run(seq)
    assert rows[i][0] == name
    worst_e = max(worst_e, float(np.max(np.abs(pooled - emb[i]) / (1e-3 + np.abs(emb[i])))))
    p = np.exp(lg - lg.max()); p /= p.sum()
    got = np.array([float(x) for x in rows[i][4:4 + len(model.classes)]])
    worst_p = max(worst_p, float(np.max(np.abs(p - got))))
    # the call is the top class unless the open-set threshold withholds it
    assert rows[i][2] in (model.classes[int(np.argmax(p))], "unclassified"), (name, p, rows[i])
    assert int(np.argmax(p)) == int(np.argmax(got)), (name, p, rows[i])
sys.stderr.write("pooled: worst relative difference %.2g; probabilities: worst difference %.2g" % (worst_e, worst_p) + "\n")
assert worst_e < 1e-3 and worst_p < 1.5e-4, (worst_e, worst_p)
PY
exit 0
