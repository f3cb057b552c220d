#!/usr/bin/python3
"""Rebuild a genoformer model in PyTorch from `genoformer export --format
safetensors` and classify sequences with it, as `genoformer classify` does.

    gfm_torch.py MODEL.safetensors SEQS.fa[.gz] > logits.tsv

prints id, windows, then each class's logit (the record's windows' logits
averaged, weighted by their real tokens) for every FASTA record with at
least one k-mer. The network is tests/reference/reformer_ref.py, the
project's independent PyTorch reference (dense torch ops, the same
counter-based RNG for the LSH rotations); this file only reads the export,
tokenizes (k-mers, [UNK] for N and other IUPAC codes, windows of the
model's length without overlap, each run at the smallest length of the
ladder chunk, 2 chunk, ..., L that holds it) and averages, so that the
numbers can be compared with genoformer's own.

As a library: load(path) -> (Config, params, metadata); logits(model, seq).
"""

import gzip
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
import reformer_ref as ref  # noqa: E402

PAD, UNK, N_SPECIAL = 0, 1, 5
INFER_SEED = 1  # src/infer.c keys the LSH rotations of inference with seed 1, step 0
CODE = {c: i for i, c in enumerate("ACGT")}
CODE.update({c.lower(): i for c, i in list(CODE.items())})
CODE.update({"U": 3, "u": 3})


def read_safetensors(path):
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack_from("<Q", buf, 0)
    header = json.loads(buf[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = memoryview(buf)[8 + n:]
    tensors = {}
    for name, t in header.items():
        if t["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} is {t['dtype']}, expected F32")
        a, b = t["data_offsets"]
        tensors[name] = np.frombuffer(data[a:b], dtype="<f4").reshape(t["shape"])
    return tensors, meta


class Model:
    def __init__(self, path):
        tensors, meta = read_safetensors(path)
        cfg = {k: v for k, v in meta.items() if k.startswith("cfg.")}
        cfg["cfg.layer_kind"] = [int(x) for x in cfg["cfg.layer_kind"].split(",")]
        self.c = ref.Config(cfg)
        self.P = {n: torch.from_numpy(np.array(a)) for n, a in tensors.items()}
        self.k = int(meta["gfm.tokenizer.k"])
        self.stride = int(meta["gfm.tokenizer.stride"])
        self.window = int(meta["gfm.window"])
        self.classes = meta.get("gfm.classes", "").split("\n")
        step = max(self.c.padded_len(1), 16)
        self.rungs = []
        n = step
        while True:
            self.rungs.append(min(n, self.window))
            if n >= self.window:
                break
            n *= 2

    def tokens(self, seq):
        k, s = self.k, self.stride
        if len(seq) < k:
            return []
        out = []
        for j in range(0, len(seq) - k + 1, s):
            v = 0
            for ch in seq[j:j + k]:
                c = CODE.get(ch)
                if c is None:
                    v = -1
                    break
                v = v * 4 + c
            out.append(UNK if v < 0 else N_SPECIAL + v)
        return out

    def logits(self, seq):
        """(windows, class logits averaged over windows by real tokens), or (0, None)."""
        n, lg, _ = self.run(seq)
        return n, lg

    def run(self, seq):
        """(windows, class logits, pooled output [2 d_model]), each averaged over the
        windows weighted by real tokens as genoformer classify and embed do; (0, None, None)
        for a record shorter than k."""
        tok = self.tokens(seq)
        if not tok:
            return 0, None, None
        total, acc, pool, L = 0, None, None, self.window
        for w in range(0, len(tok), L):
            part = tok[w:w + L]
            rung = next(r for r in self.rungs if r >= len(part))
            Lp = self.c.padded_len(rung)
            t = torch.zeros((1, Lp), dtype=torch.long)
            m = torch.zeros((1, Lp), dtype=torch.bool)
            t[0, :len(part)] = torch.tensor(part)
            m[0, :len(part)] = True
            with torch.no_grad():
                out, _ = ref.forward(self.c, self.P, t, m, INFER_SEED, 0, False)
                _, lg, pooled = ref.heads(self.c, self.P, out, {"mask": m, "L": rung, "labels": None, "mlm_pos": None},
                                          Lp)
            pl = pooled[0].double() * len(part)
            pool = pl if pool is None else pool + pl
            if lg is not None:
                lg = lg[0].double() * len(part)
                acc = lg if acc is None else acc + lg
            total += len(part)
        return -(-len(tok) // L), None if acc is None else (acc / total).numpy(), (pool / total).numpy()


def fasta(path):
    op = gzip.open if path.endswith(".gz") else open
    name, seq = None, []
    with op(path, "rt") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if line.startswith(">"):
                if name is not None:
                    yield name, "".join(seq)
                name, seq = line[1:].split()[0] if line[1:].split() else "", []
            else:
                seq.append(line)
    if name is not None:
        yield name, "".join(seq)


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    model = Model(argv[1])
    print("id\twindows\t" + "\t".join(model.classes))
    for name, seq in fasta(argv[2]):
        n, lg = model.logits(seq)
        if lg is not None:
            print(name + "\t" + str(n) + "\t" + "\t".join("%.6f" % x for x in lg))


if __name__ == "__main__":
    main(sys.argv)
