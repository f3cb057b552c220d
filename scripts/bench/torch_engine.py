#!/usr/bin/python3
"""Times the PyTorch reference Reformer (tests/reference/reformer_ref.py) on the
configuration of `genoformer bench engine` and prints one TSV line with the
same leading columns:

mode attn L B layers reversible ff_chunk threads device steps step_s tokens_per_s arena_peak_mib peak_rss_mib

A training step is forward, classifier cross-entropy, backward (autograd,
every activation stored: reversible 0, ff_chunk 0), global-norm clipping at
1.0 and torch.optim.AdamW (genoformer's defaults: betas 0.9/0.999, eps 1e-8,
weight decay 0.01, lr 1e-4); inference is the forward pass with classifier
logits under no_grad. arena_peak_mib has no counterpart and is "NA";
peak_rss_mib is the process's ru_maxrss, which includes the interpreter and
torch (about 0.2 GiB before the model).

    /usr/bin/python3 scripts/bench/torch_engine.py -L 16384 -t 2 --train
    --max-gib N   caps the address space (RLIMIT_AS); a step that runs out of
                  memory exits 3 with one line on stderr
"""

import argparse
import os
import resource
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "reference"))
import reformer_ref as ref  # noqa: E402

KINDS = {"full": ref.FULL, "local": ref.LOCAL, "lsh": ref.LSH}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-L", type=int, default=16384)
    p.add_argument("-B", type=int, default=1)
    p.add_argument("-t", "--threads", type=int, default=2)
    p.add_argument("--attn", default="lsh", help="lsh, local, full or a pattern like local,lsh")
    p.add_argument("--layers", type=int, default=6)
    p.add_argument("--d-model", type=int, default=256)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--d-ff", type=int, default=1024)
    p.add_argument("--hashes", type=int, default=4)
    p.add_argument("--chunk", type=int, default=64)
    p.add_argument("--vocab", type=int, default=4101, help="k = 6: 4^6 k-mers and 5 specials")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--train", dest="train", action="store_true", default=True)
    mode.add_argument("--infer", dest="train", action="store_false")
    p.add_argument("--steps", type=int, default=2)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--max-gib", type=float, default=0.0)
    p.add_argument("--header", action="store_true")
    return p.parse_args(argv)


def make_config(a):
    """reformer_ref.Config with genoformer's defaults (rf_config_default, bench engine's
    dropout 0, 2 classes, axial rows grown to fit L as bench engine's fit_axial does)."""
    pattern = a.attn.split(",")
    kinds = [KINDS[pattern[i % len(pattern)]] for i in range(a.layers)]
    axial1, axial2 = 512, 2048
    Lp = -(-a.L // a.chunk) * a.chunk if any(k != ref.FULL for k in kinds) else a.L
    axial1 = max(axial1, -(-Lp // axial2))
    t = {"cfg.vocab": a.vocab, "cfg.d_model": a.d_model, "cfg.n_heads": a.heads, "cfg.d_ff": a.d_ff,
         "cfg.n_layers": a.layers, "cfg.n_hashes": a.hashes, "cfg.n_buckets": 0, "cfg.chunk_len": a.chunk,
         "cfg.n_before": 1, "cfg.n_after": 0, "cfg.ff_chunk": 0, "cfg.axial1": axial1, "cfg.axial2": axial2,
         "cfg.axial_d1": 64 if a.d_model > 64 else max(1, a.d_model // 4), "cfg.causal": 0, "cfg.n_classes": 2,
         "cfg.mlm": 0, "cfg.layer_kind": np.array(kinds), "cfg.dropout": 0.0}
    return ref.Config(t), Lp


def main(argv):
    a = parse_args(argv)
    if a.max_gib > 0:
        cap = int(a.max_gib * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    torch.set_num_threads(a.threads)
    c, Lp = make_config(a)
    g = np.random.default_rng(1)
    # Random weights at the initialisation's scale: the speed does not depend on their values.
    P = {n: torch.tensor(0.02 * g.standard_normal(s) if ref.is_normal_init(n) else
                         (np.ones(s) if n.endswith(".w") else np.zeros(s)), dtype=torch.float32,
                         requires_grad=a.train) for n, s in ref.param_shapes(c)}
    tokens = torch.zeros(a.B, Lp, dtype=torch.long)
    tokens[:, :a.L] = torch.from_numpy(g.integers(5, a.vocab, (a.B, a.L)))
    mask = torch.zeros(a.B, Lp, dtype=torch.bool)
    mask[:, :a.L] = True
    batch = {"mask": mask, "L": a.L, "labels": torch.arange(a.B) % 2, "mlm_pos": None}
    opt = torch.optim.AdamW(P.values(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01) if a.train else None

    def step(s):
        if a.train:
            opt.zero_grad(set_to_none=False)
            out, _ = ref.forward(c, P, tokens, mask, 1, s, True)
            loss, _, _ = ref.heads(c, P, out, batch, Lp)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(P.values(), 1.0)
            opt.step()
        else:
            with torch.no_grad():
                out, _ = ref.forward(c, P, tokens, mask, 1, s, False)
                ref.heads(c, P, out, batch, Lp)

    try:
        for s in range(a.warmup):
            step(s)
        t0 = time.perf_counter()
        for s in range(a.warmup, a.warmup + a.steps):
            step(s)
        step_s = (time.perf_counter() - t0) / a.steps
    except (MemoryError, RuntimeError) as e:
        if not isinstance(e, MemoryError) and "alloc" not in str(e).lower():
            raise
        print(f"torch_engine: L={a.L}: out of memory (cap {a.max_gib or 'none'} GiB): {str(e).splitlines()[0]}",
              file=sys.stderr)
        return 3
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    if a.header:
        print("mode\tattn\tL\tB\tlayers\treversible\tff_chunk\tthreads\tdevice\tsteps\tstep_s\ttokens_per_s\t"
              "arena_peak_mib\tpeak_rss_mib")
    n = a.B * a.L
    print(f"{'train' if a.train else 'infer'}\t{a.attn}\t{a.L}\t{a.B}\t{a.layers}\t0\t0\t{a.threads}\ttorch-cpu\t"
          f"{a.steps}\t{step_s:.4f}\t{n / step_s:.1f}\tNA\t{rss_mib:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
