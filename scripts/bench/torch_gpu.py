#!/usr/bin/env python3
"""PyTorch side of scripts/bench/gpu.sh: times the project's PyTorch reference
model (tests/reference/reformer_ref.py, plain autograd, every activation kept)
or the same model with dense attention through scaled_dot_product_attention,
on one GPU, and prints one TSV line like gpu.sh's own rows:
    impl mode math L layers steps step_s tokens_per_s alloc_peak_mib
(alloc_peak_mib: torch.cuda.max_memory_allocated, parameters and optimizer included).

Usage: torch_gpu.py {ref|sdpa} {train|infer} L LAYERS [--tf32] [--steps N] [--warmup N] [--device DEV]

The reference is used as written, with two changes that touch speed only:
its counter-based normal RNG (a Python loop per number, there to match the C
model bit for bit) is replaced by numpy's, and the tensors it makes from numpy
are moved to the device. Training steps are forward, backward and AdamW.
Running out of device memory prints an "oom" row and exits 0.
"""

import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "reference"))
import reformer_ref as ref  # noqa: E402


class DeviceTorch:
    """torch as the reference module sees it: from_numpy lands on the device."""

    def __init__(self, dev):
        self.dev = dev

    def __getattr__(self, name):
        return getattr(torch, name)

    def from_numpy(self, a):
        return torch.from_numpy(a).to(self.dev)


def fast_normal(key, start, n):
    return np.random.default_rng((key + start) & ((1 << 63) - 1)).standard_normal(n, dtype=np.float32)


def sdpa_attention(c, kind, qk, v, mask, rot, nb, nb1):
    """Dense shared-QK attention like the reference's FULL kind (keys are the
    unit-norm queries, unscaled scores), through one fused SDPA call."""
    B, L, D = qk.shape
    q = qk.reshape(B, L, c.n_heads, c.dh).transpose(1, 2)
    k = q / q.norm(dim=-1, keepdim=True)
    vv = v.reshape(B, L, c.n_heads, c.dh).transpose(1, 2)
    o = F.scaled_dot_product_attention(q, k, vv, scale=1.0)
    return o.transpose(1, 2).reshape(B, L, D), math.inf


def config(L, layers, kind):
    t = {"cfg." + f: 0 for f in ref.Config.FIELDS}
    t.update({"cfg.vocab": 4101, "cfg.d_model": 256, "cfg.n_heads": 4, "cfg.d_ff": 1024, "cfg.n_layers": layers,
              "cfg.n_hashes": 4, "cfg.chunk_len": 64, "cfg.n_before": 1, "cfg.ff_chunk": 2048,
              "cfg.axial1": max(512, -(-L // 2048)), "cfg.axial2": 2048, "cfg.axial_d1": 64, "cfg.n_classes": 2,
              "cfg.layer_kind": np.array([kind] * layers), "cfg.dropout": 0.0})
    return ref.Config(t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("impl", choices=("ref", "sdpa"))
    ap.add_argument("mode", choices=("train", "infer"))
    ap.add_argument("L", type=int)
    ap.add_argument("layers", type=int)
    ap.add_argument("--tf32", action="store_true")
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--device", default="cuda")
    a = ap.parse_args()

    dev = torch.device(a.device)
    cuda = dev.type == "cuda"
    if cuda:
        torch.set_default_device(dev)
        torch.backends.cuda.matmul.allow_tf32 = a.tf32
        torch.backends.cudnn.allow_tf32 = a.tf32
    ref.torch = DeviceTorch(dev)
    ref.rng_normal = fast_normal
    if a.impl == "sdpa":
        ref.attention = sdpa_attention

    c = config(a.L, a.layers, ref.FULL if a.impl == "sdpa" else ref.LSH)
    Lp = c.padded_len(a.L)
    P = {n: torch.tensor(x, device=dev, requires_grad=a.mode == "train") for n, x in ref.init_params(c, 1).items()}
    opt = torch.optim.AdamW(P.values(), lr=1e-4) if a.mode == "train" else None
    g = np.random.default_rng(1)
    tokens = torch.from_numpy(g.integers(5, c.vocab, (1, Lp))).to(dev)
    mask = torch.ones(1, Lp, dtype=torch.bool, device=dev)
    mask[:, a.L:] = False
    batch = {"mask": mask, "L": a.L, "labels": torch.zeros(1, dtype=torch.long, device=dev), "mlm_pos": None}

    def step(s):
        if opt:
            opt.zero_grad(set_to_none=True)
            out, _ = ref.forward(c, P, tokens, mask, 1, s, True)
            ref.heads(c, P, out, batch, Lp)[0].backward()
            opt.step()
        else:
            with torch.no_grad():
                out, _ = ref.forward(c, P, tokens, mask, 1, s, False)
                ref.heads(c, P, out, batch, Lp)

    sync = torch.cuda.synchronize if cuda else (lambda: None)
    row = [a.impl, a.mode, "tf32" if a.tf32 else "fp32", str(a.L), str(a.layers), str(a.steps)]
    try:
        for s in range(a.warmup):
            step(s)
        sync()
        t0 = time.perf_counter()
        for s in range(a.steps):
            step(a.warmup + s)
        sync()
        dt = (time.perf_counter() - t0) / a.steps
    except getattr(torch.cuda, "OutOfMemoryError", RuntimeError) as e:
        print(f"[torch_gpu] {a.impl} {a.mode} L={a.L}: out of memory ({str(e).splitlines()[0][:120]})",
              file=sys.stderr)
        print("\t".join(row + ["oom", "oom", "oom"]))
        return 0
    mib = 1 << 20
    alloc = torch.cuda.max_memory_allocated() / mib if cuda else 0.0
    print("\t".join(row + [f"{dt:.4f}", f"{a.L / dt:.1f}", f"{alloc:.1f}"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
