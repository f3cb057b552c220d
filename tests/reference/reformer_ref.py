#!/usr/bin/python3
"""Independent PyTorch reference of the genoformer Reformer (CPU, autograd).

Written from /work/wt/MODEL_SPEC.md, model/backend.h and DESIGN.md
("Numerics") with plain dense torch ops; it shares no code with the C model.
Only the counter-based RNG of model/rng.h is ported, so that LSH rotations,
dropout masks and the initialisation are the same numbers as in C.

Usage:
    reformer_ref.py [--double] [--selftest OUT] [CASE STATE]...

Each CASE is a tensor file (tests/reference/tensorfile.py) with the config
("cfg.*"), the batch (tokens [B,L] i32, mask [B,L] u8, labels [B] or
mlm_pos/mlm_targets [n] i32, seed, step u64, train u8) and either all
parameters ("params.NAME") or init_seed (u64). STATE receives:
    params.NAME  the parameters used (generated from init_seed when absent)
    init.NAME    exactly what rf_model_init(init_seed) must produce (when generated)
    loss         training-mode loss (dropout when train and cfg.dropout > 0)
    grads.NAME   d loss / d NAME
    eval_loss, logits (classifier), pooled [B,2D], per_token [B,L,2D]: evaluation mode
    hash_margin  smallest gap between the two best LSH rotation scores, relative
                 to the rounding scale |x| sqrt(dh); 1 when no LSH layer ran
--selftest OUT checks the reference against itself (finite differences, LSH
against full and local attention) and writes one u8 "check.NAME" per check.
Exit status 0 when every case and check went through.
"""

import math
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, __import__("os").path.dirname(__file__))
import tensorfile  # noqa: E402

FULL, LOCAL, LSH = 0, 1, 2
MASK_VALUE = -1e9
SELF_MASK_VALUE = -1e5
LN_EPS = 1e-5
RNG_ROTATIONS, RNG_DROP_ATTN, RNG_DROP_FF_HIDDEN, RNG_DROP_FF_OUT, RNG_DROP_EMB, RNG_INIT = 1, 2, 3, 4, 5, 6
M64 = (1 << 64) - 1

DTYPE = torch.float32

# ---------------------------------------------------------------- model/rng.h


def mix64_int(z):
    z = (z + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def rng_key(seed, step, layer, what):
    k = mix64_int(seed & M64)
    k = mix64_int(k ^ ((step * 0xD1B54A32D192ED03) & M64))
    k = mix64_int(k ^ (((layer + 1) & 0xFFFFFFFF) << 8) ^ what)
    return k


def mix64(z):
    """mix64 on a uint64 array; numpy array arithmetic wraps modulo 2^64."""
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def rng_u64(key, start, n):
    idx = np.arange(n, dtype=np.uint64) + np.uint64(start)
    return mix64(np.uint64(key) ^ mix64(idx))


def rng_uniform(key, start, n):
    return (rng_u64(key, start, n) >> np.uint64(40)).astype(np.float32) * np.float32(1.0 / 16777216.0)


def rng_normal(key, start, n):
    """Box-Muller in double with the C library's log and cos, rounded to float."""
    r = rng_u64(key, start, n)
    u1 = ((r >> np.uint64(32)).astype(np.float64) + 0.5) * (1.0 / 4294967296.0)
    u2 = ((r & np.uint64(0xFFFFFFFF)).astype(np.float64) + 0.5) * (1.0 / 4294967296.0)
    out = [math.sqrt(-2.0 * math.log(a)) * math.cos(6.283185307179586 * b) for a, b in zip(u1.tolist(), u2.tolist())]
    return np.array(out, dtype=np.float64).astype(np.float32)


# ---------------------------------------------------------------- config and parameters


class Config:
    FIELDS = ("vocab", "d_model", "n_heads", "d_ff", "n_layers", "n_hashes", "n_buckets", "chunk_len",
              "n_before", "n_after", "ff_chunk", "axial1", "axial2", "axial_d1", "causal", "n_classes", "mlm")

    def __init__(self, t):
        for f in self.FIELDS:
            setattr(self, f, int(t["cfg." + f]))
        self.layer_kind = [int(k) for k in np.atleast_1d(t["cfg.layer_kind"])[: self.n_layers]]
        self.dropout = float(t["cfg.dropout"])
        self.dh = self.d_model // self.n_heads

    def padded_len(self, L):
        if any(k != FULL for k in self.layer_kind):
            return -(-L // self.chunk_len) * self.chunk_len
        return L

    def buckets(self, L):
        """rf_lsh_buckets: configured or automatic count; powers of two above 256 factorised."""
        n = self.n_buckets
        if n <= 0:
            want = 2 * L // self.chunk_len
            n = 2
            while n < want:
                n *= 2
        nb1 = n
        if n > 256 and n & (n - 1) == 0:
            p = n.bit_length() - 1
            nb1 = 1 << (p // 2)
        return n, nb1


MATRICES = ("attn.w_qk", "attn.w_v", "attn.w_o", "ff.w1", "ff.w2", "cls.w", "mlm.w")


def param_shapes(c):
    """(name, shape) in the order of the C parameter allocation."""
    D, F_, V = c.d_model, c.d_ff, c.vocab
    out = [("tok_emb", (V, D)), ("pos1", (c.axial1, c.axial_d1)), ("pos2", (c.axial2, D - c.axial_d1))]
    for layer in range(c.n_layers):
        p = f"layers.{layer}."
        out += [(p + "ln1.w", (D,)), (p + "ln1.b", (D,)), (p + "attn.w_qk", (D, D)), (p + "attn.w_v", (D, D)),
                (p + "attn.w_o", (D, D)), (p + "ln2.w", (D,)), (p + "ln2.b", (D,)), (p + "ff.w1", (D, F_)),
                (p + "ff.b1", (F_,)), (p + "ff.w2", (F_, D)), (p + "ff.b2", (D,))]
    out += [("ln_f.w", (2 * D,)), ("ln_f.b", (2 * D,))]
    if c.n_classes > 0:
        out += [("cls.w", (2 * D, c.n_classes)), ("cls.b", (c.n_classes,))]
    if c.mlm:
        out += [("mlm.w", (2 * D, V)), ("mlm.b", (V,))]
    return out


def is_normal_init(name):
    return name in ("tok_emb", "pos1", "pos2") or any(name.endswith(m) for m in MATRICES)


def init_params(c, seed):
    """What rf_model_init(seed) produces: normal(0, 0.02) at the element's offset in
    the allocation for embeddings and matrices, LayerNorm weights 1, biases 0."""
    key = rng_key(seed, 0, -1, RNG_INIT)
    out, offset = {}, 0
    for name, shape in param_shapes(c):
        n = int(np.prod(shape))
        if is_normal_init(name):
            a = np.float32(0.02) * rng_normal(key, offset, n)
        elif name.endswith(".w"):
            a = np.ones(n, np.float32)
        else:
            a = np.zeros(n, np.float32)
        out[name] = a.reshape(shape)
        offset += n
    return out


def test_params(c, seed):
    """Parameters for parity cases: larger than the initialisation so that attention
    is peaked and LSH buckets matter; LayerNorm weights and biases away from 1 and 0."""
    g = np.random.default_rng(seed)
    out = {}
    for name, shape in param_shapes(c):
        if name == "tok_emb":
            a = g.standard_normal(shape)
        elif name in ("pos1", "pos2"):
            a = 0.5 * g.standard_normal(shape)
        elif name.endswith("attn.w_qk"):
            a = 1.5 / math.sqrt(shape[0]) * g.standard_normal(shape)
        elif is_normal_init(name):
            a = g.standard_normal(shape) / math.sqrt(shape[0])
        elif name.endswith(".w"):
            a = 1.0 + 0.2 * g.standard_normal(shape)
        else:
            a = 0.1 * g.standard_normal(shape)
        out[name] = a.astype(np.float32)
    return out


# ---------------------------------------------------------------- attention


def distinct_chunks(nc, n_before, n_after):
    """[nc, k]: for chunk c the chunks c-n_before .. c+n_after (circular), each once."""
    rows = []
    for c in range(nc):
        seen = []
        for o in range(-n_before, n_after + 1):
            j = (c + o) % nc
            if j not in seen:
                seen.append(j)
        rows.append(seen)
    return torch.tensor(rows, dtype=torch.long)


def chunked_attention(q, v, mask, order, chunk, n_before, n_after, causal):
    """q, v [B,H,L,dh]; mask bool [B,L]; order [B,H,R,L]: the positions of each round in
    sorted order. Returns per-round outputs [B,H,R,L,dh] and log-sum-exps [B,H,R,L],
    both at the original positions."""
    B, H, L, dh = q.shape
    R = order.shape[2]
    nc = L // chunk
    k = q / q.norm(dim=-1, keepdim=True)
    idx = order.unsqueeze(-1).expand(B, H, R, L, dh)

    def sort(x):
        return torch.gather(x.unsqueeze(2).expand(B, H, R, L, dh), 3, idx)

    sq, sk, sv = sort(q), sort(k), sort(v)
    smask = torch.gather(mask[:, None, None, :].expand(B, H, R, L), 3, order)
    kc = distinct_chunks(nc, n_before, n_after)
    nk = kc.shape[1]

    def keys(x):  # [B,H,R,L,...] -> [B,H,R,nc,nk*chunk,...]
        x = x.reshape(B, H, R, nc, chunk, *x.shape[4:])[:, :, :, kc]
        return x.reshape(B, H, R, nc, nk * chunk, *x.shape[6:])

    qpos = order.reshape(B, H, R, nc, chunk, 1)
    kpos, kmask = keys(order).unsqueeze(-2), keys(smask).unsqueeze(-2)
    scores = torch.matmul(sq.reshape(B, H, R, nc, chunk, dh), keys(sk).transpose(-1, -2))
    hidden = ~kmask
    if causal:
        hidden = hidden | (kpos > qpos)
    scores = torch.where(hidden, torch.full_like(scores, MASK_VALUE), scores)
    scores = torch.where(kpos == qpos, torch.full_like(scores, SELF_MASK_VALUE), scores)
    lse = torch.logsumexp(scores, dim=-1, keepdim=True)
    o = torch.matmul(torch.exp(scores - lse), keys(sv)).reshape(B, H, R, L, dh)
    inv = torch.argsort(order, dim=-1)
    o = torch.gather(o, 3, inv.unsqueeze(-1).expand(B, H, R, L, dh))
    lse = torch.gather(lse.reshape(B, H, R, L), 3, inv)
    return o, lse


def combine_rounds(o, lse):
    """out = sum_r o_r exp(lse_r - logsumexp_r lse_r); gradients flow through lse.
    The weights are a softmax over the rounds, which subtracts the largest lse
    before rounding: a query that sees only itself has lse -1e5 exactly, where
    a float's spacing is 0.008, and exp(lse_r - logsumexp) would be off by 0.4%."""
    w = torch.softmax(lse, dim=2)
    return (o * w.unsqueeze(-1)).sum(dim=2)


def lsh_hash(q, rot, mask, nb, nb1):
    """Buckets [B,H,R,L] (mask 0 -> nb) and the smallest relative hashing margin.
    rot [H, dh, R, cols]: per factor, argmax over [xR, -xR]; bucket = f1 + nb1 f2."""
    x = q.detach().double()
    proj = torch.einsum("bhld,hdrc->bhrlc", x, rot.double())
    scale = x.norm(dim=-1)[:, :, None, :] * math.sqrt(x.shape[-1])
    nb2 = nb // nb1
    factors = [(0, nb1)] + ([(nb1 // 2, nb2)] if nb2 > 1 else [])
    bucket = torch.zeros(proj.shape[:-1], dtype=torch.long)
    margin = math.inf
    real = mask[:, None, None, :].expand_as(bucket)
    for mult, (start, n) in zip((1, nb1), factors):
        p = proj[..., start:start + n // 2]
        both = torch.cat([p, -p], dim=-1)
        top = torch.topk(both, 2, dim=-1).values
        gap = (top[..., 0] - top[..., 1]) / scale
        if real.any():
            margin = min(margin, gap[real].min().item())
        bucket = bucket + mult * torch.argmax(both, dim=-1)
    bucket = torch.where(real, bucket, torch.full_like(bucket, nb))
    return bucket, margin


def lsh_order(bucket):
    """Stable sort of each round by (bucket, position)."""
    L = bucket.shape[-1]
    return torch.argsort(bucket * L + torch.arange(L), dim=-1)


def attention(c, kind, qk, v, mask, rot, nb, nb1):
    """qk, v [B,L,D] -> [B,L,D] and the hashing margin (inf unless LSH)."""
    B, L, D = qk.shape
    H, dh = c.n_heads, c.dh
    q = qk.reshape(B, L, H, dh).transpose(1, 2)
    vv = v.reshape(B, L, H, dh).transpose(1, 2)
    margin = math.inf
    if kind == LSH:
        bucket, margin = lsh_hash(q, rot, mask, nb, nb1)
        order = lsh_order(bucket)
        chunk, n_before, n_after = c.chunk_len, c.n_before, c.n_after
    else:
        order = torch.arange(L).expand(B, H, 1, L)
        if kind == LOCAL:
            chunk, n_before, n_after = c.chunk_len, c.n_before, c.n_after
        else:
            chunk, n_before, n_after = L, 0, 0
    o, lse = chunked_attention(q, vv, mask, order, chunk, n_before, n_after, bool(c.causal))
    return combine_rounds(o, lse).transpose(1, 2).reshape(B, L, D), margin


# ---------------------------------------------------------------- the model


def dropout(x, p, key):
    """keep(i) = uniform(key, i) >= p over the whole row-major tensor; kept values / (1-p)."""
    if p <= 0:
        return x
    keep = torch.from_numpy(rng_uniform(key, 0, x.numel()) >= np.float32(p)).reshape(x.shape)
    return torch.where(keep, x / (1.0 - p), torch.zeros_like(x))


def forward(c, P, tokens, mask, seed, step, train):
    """tokens [B,Lp] long, mask bool [B,Lp] (already padded). Returns Out [B*Lp, 2D], margin."""
    B, L = tokens.shape
    D = c.d_model
    p = c.dropout if train else 0.0
    j = torch.arange(L)
    pos = torch.cat([P["pos1"][j // c.axial2], P["pos2"][j % c.axial2]], dim=-1)
    E = (P["tok_emb"][tokens] + pos).reshape(B * L, D)
    E = dropout(E, p, rng_key(seed, step, -1, RNG_DROP_EMB))
    X1 = X2 = E
    nb, nb1 = c.buckets(L)
    margin = math.inf
    for layer, kind in enumerate(c.layer_kind):
        w = lambda n: P[f"layers.{layer}.{n}"]  # noqa: E731
        N = F.layer_norm(X2, (D,), w("ln1.w"), w("ln1.b"), LN_EPS)
        QK, V = N @ w("attn.w_qk"), N @ w("attn.w_v")
        rot = None
        if kind == LSH:
            nh, cols = c.n_hashes, nb1 // 2 + ((nb // nb1) // 2 if nb // nb1 > 1 else 0)
            n = c.n_heads * c.dh * nh * cols
            rot = torch.from_numpy(rng_normal(rng_key(seed, step, layer, RNG_ROTATIONS), 0, n))
            rot = rot.reshape(c.n_heads, c.dh, nh, cols)
        A, m = attention(c, kind, QK.reshape(B, L, D), V.reshape(B, L, D), mask, rot, nb, nb1)
        margin = min(margin, m)
        Y1 = X1 + dropout(A.reshape(B * L, D) @ w("attn.w_o"), p, rng_key(seed, step, layer, RNG_DROP_ATTN))
        Hh = F.gelu(F.layer_norm(Y1, (D,), w("ln2.w"), w("ln2.b"), LN_EPS) @ w("ff.w1") + w("ff.b1"))
        Hh = dropout(Hh, p, rng_key(seed, step, layer, RNG_DROP_FF_HIDDEN))
        Y2 = X2 + dropout(Hh @ w("ff.w2") + w("ff.b2"), p, rng_key(seed, step, layer, RNG_DROP_FF_OUT))
        X1, X2 = Y1, Y2
    out = F.layer_norm(torch.cat([X1, X2], dim=-1), (2 * D,), P["ln_f.w"], P["ln_f.b"], LN_EPS)
    return out, margin


def meanpool(out, mask):
    B, L = mask.shape
    m = mask.to(out.dtype).reshape(B, L, 1)
    return (out.reshape(B, L, -1) * m).sum(1) / m.sum(1).clamp(min=1.0)


def heads(c, P, out, batch, Lp):
    """Loss (classifier mean CE + masked-LM mean CE, whichever have targets; None
    without targets), classifier logits (or None), pooled output."""
    pooled = meanpool(out, batch["mask"])
    loss, logits = None, None
    if c.n_classes > 0:
        logits = pooled @ P["cls.w"] + P["cls.b"]
        if batch["labels"] is not None:
            loss = F.cross_entropy(logits, batch["labels"])
    if c.mlm and batch["mlm_pos"] is not None:
        L = batch["L"]
        pos = batch["mlm_pos"]
        rows = out[(pos // L) * Lp + pos % L]
        mlm = F.cross_entropy(rows @ P["mlm.w"] + P["mlm.b"], batch["mlm_targets"])
        loss = mlm if loss is None else loss + mlm
    return loss, logits, pooled


def run_case(t):
    c = Config(t)
    tokens = np.asarray(t["tokens"], np.int64)
    B, L = tokens.shape
    mask = np.asarray(t["mask"], bool) if "mask" in t else np.ones((B, L), bool)
    Lp = c.padded_len(L)
    ptok = np.zeros((B, Lp), np.int64)
    pmask = np.zeros((B, Lp), bool)
    ptok[:, :L], pmask[:, :L] = tokens, mask
    seed, step = int(t["seed"]), int(t["step"])
    train = bool(int(t.get("train", 0)))

    state = {}
    if "params.tok_emb" in t:
        host = {n: np.asarray(t["params." + n], np.float32).reshape(s) for n, s in param_shapes(c)}
    else:
        init_seed = int(t["init_seed"])
        for n, a in init_params(c, init_seed).items():
            state["init." + n] = a
        host = test_params(c, init_seed)
    for n, a in host.items():
        state["params." + n] = a
    P = {n: torch.tensor(a, dtype=DTYPE, requires_grad=True) for n, a in host.items()}

    batch = {"mask": torch.from_numpy(pmask), "L": L, "labels": None, "mlm_pos": None}
    if "labels" in t:
        batch["labels"] = torch.from_numpy(np.asarray(t["labels"], np.int64))
    if "mlm_pos" in t:
        batch["mlm_pos"] = torch.from_numpy(np.asarray(t["mlm_pos"], np.int64))
        batch["mlm_targets"] = torch.from_numpy(np.asarray(t["mlm_targets"], np.int64))
    ptok = torch.from_numpy(ptok)

    margin = math.inf
    out, m = forward(c, P, ptok, batch["mask"], seed, step, train)
    margin = min(margin, m)
    loss, _, _ = heads(c, P, out, batch, Lp)
    if loss is not None:
        loss.backward()
        state["loss"] = np.float64(loss.item())
        for n, p in P.items():
            state["grads." + n] = p.grad.detach().double().numpy()

    with torch.no_grad():
        out, m = forward(c, P, ptok, batch["mask"], seed, step, False)
        margin = min(margin, m)
        eval_loss, logits, pooled = heads(c, P, out, batch, Lp)
    if eval_loss is not None:
        state["eval_loss"] = np.float64(eval_loss.item())
    if logits is not None:
        state["logits"] = logits.double().numpy()
    state["pooled"] = pooled.double().numpy()
    state["per_token"] = out.reshape(B, Lp, -1)[:, :L].double().numpy()
    state["hash_margin"] = np.float64(min(margin, 1.0))
    return state


# ---------------------------------------------------------------- self-checks


def selftest():
    """The reference against itself, in double: name -> (passed, detail)."""
    global DTYPE
    saved, DTYPE = DTYPE, torch.float64
    g = torch.Generator().manual_seed(7)
    res = {}

    def close(a, b, tol=1e-10):
        err = (a - b).abs().max().item()
        return err <= tol, f"max abs difference {err:.3g}"

    def cfg(**kw):
        t = {"cfg." + f: 0 for f in Config.FIELDS}
        t.update({"cfg.vocab": 11, "cfg.d_model": 16, "cfg.n_heads": 2, "cfg.d_ff": 24, "cfg.n_layers": 1,
                  "cfg.n_hashes": 3, "cfg.chunk_len": 4, "cfg.n_before": 1, "cfg.axial1": 4, "cfg.axial2": 8,
                  "cfg.axial_d1": 6, "cfg.layer_kind": np.array([LSH]), "cfg.dropout": 0.0})
        t.update({"cfg." + k: v for k, v in kw.items()})
        return Config(t)

    def qv(L, B=2, H=2, dh=8):
        return (torch.randn(B, H, L, dh, generator=g, dtype=torch.float64),
                torch.randn(B, H, L, dh, generator=g, dtype=torch.float64))

    def attn(c, kind, q, v, mask, rot=None):
        B, H, L, dh = q.shape
        flat = lambda x: x.transpose(1, 2).reshape(B, L, H * dh)  # noqa: E731
        nb, nb1 = c.buckets(L)
        return attention(c, kind, flat(q), flat(v), mask, rot, nb, nb1)[0]

    def rot_for(c, L):
        nb, nb1 = c.buckets(L)
        cols = nb1 // 2 + ((nb // nb1) // 2 if nb // nb1 > 1 else 0)
        return torch.randn(c.n_heads, c.dh, c.n_hashes, cols, generator=g, dtype=torch.float64)

    mask = torch.ones(2, 16, dtype=torch.bool)
    mask[1, 11:] = False
    for causal in (0, 1):
        c = cfg(chunk_len=4, causal=causal)
        q, v = qv(4)
        res[f"lsh_one_chunk_equals_full_causal{causal}"] = close(
            attn(c, LSH, q, v, mask[:, :4], rot_for(c, 4)), attn(c, FULL, q, v, mask[:, :4]))
        c = cfg(chunk_len=4, n_before=2, n_after=1, causal=causal)
        q, v = qv(16)
        res[f"local_over_every_chunk_equals_full_causal{causal}"] = close(
            attn(c, LOCAL, q, v, mask), attn(c, FULL, q, v, mask))
        c = cfg(chunk_len=4, causal=causal)
        o, lse = chunked_attention(q, v, mask, lsh_order(torch.zeros(2, 2, 3, 16, dtype=torch.long)), 4, 1, 0,
                                   bool(causal))
        res[f"lsh_in_one_bucket_equals_local_causal{causal}"] = close(
            combine_rounds(o, lse), attn(c, LOCAL, q, v, mask).reshape(2, 16, 2, 8).transpose(1, 2))

    c = cfg()
    q, v = qv(16)
    lonely = torch.ones(2, 16, dtype=torch.bool)
    lonely[0, :] = False
    out = attn(c, FULL, q, v, lonely).reshape(2, 16, 2, 8).transpose(1, 2)
    res["attends_to_self_only_when_alone"] = close(out[0], v[0])

    o = torch.randn(1, 1, 4, 3, 2, generator=g)
    lone = combine_rounds(o.float(), torch.full((1, 1, 4, 3), SELF_MASK_VALUE, dtype=torch.float32))
    res["rounds_of_a_query_alone_weigh_one_in_fp32"] = close(lone.double(), o.mean(dim=2), 1e-6)

    c = cfg(n_buckets=512)
    bucket, _ = lsh_hash(q, rot_for(c, 16), mask, 512, 16)
    real = bucket[mask[:, None, None, :].expand_as(bucket)]
    res["factorised_buckets_cover_both_factors"] = (
        bool(real.max() < 512 and (real % 16).unique().numel() > 4 and (real // 16).unique().numel() > 4),
        f"{(real % 16).unique().numel()} first-factor and {(real // 16).unique().numel()} second-factor values")

    B, L = 2, 16
    gq, gv = qv(8, B=1, H=1, dh=4)
    gq.requires_grad_(True)
    gv.requires_grad_(True)
    gmask = torch.tensor([[True] * 7 + [False]])
    c = cfg(chunk_len=4, n_heads=1, d_model=4, n_hashes=2, causal=1)
    order = lsh_order(torch.randint(0, 4, (1, 1, 2, 8), generator=g))

    def lsh_fixed(q, v):
        return combine_rounds(*chunked_attention(q, v, gmask, order, 4, 1, 0, True))

    res["attention_gradients_pass_gradcheck"] = (
        torch.autograd.gradcheck(lsh_fixed, (gq, gv), eps=1e-6, atol=1e-7, rtol=1e-6, raise_exception=False), "")

    tok = torch.randint(1, 11, (B, L), generator=g)
    for name, kw in (("classifier", {"n_classes": 3}), ("mlm", {"mlm": 1})):
        c = cfg(layer_kind=np.array([LOCAL, LSH, FULL]), n_layers=3, causal=1, **kw)
        host = test_params(c, 3)
        P = {n: torch.tensor(a, dtype=torch.float64, requires_grad=True) for n, a in host.items()}
        batch = {"mask": mask, "L": L, "labels": torch.tensor([2, 0]), "mlm_pos": torch.tensor([1, 5, 17, 26]),
                 "mlm_targets": torch.tensor([3, 4, 5, 6])}
        if not kw.get("mlm"):
            batch["mlm_pos"] = None

        def loss_of(P):
            return heads(c, P, forward(c, P, tok, mask, 5, 1, False)[0], batch, L)[0]

        loss_of(P).backward()
        worst = 0.0
        for _ in range(3):
            u = {n: torch.randn(p.shape, generator=g, dtype=torch.float64) for n, p in P.items()}
            analytic = sum((P[n].grad * u[n]).sum() for n in P).item()
            h = 1e-6
            with torch.no_grad():
                plus = loss_of({n: P[n] + h * u[n] for n in P}).item()
                minus = loss_of({n: P[n] - h * u[n] for n in P}).item()
            numeric = (plus - minus) / (2 * h)
            worst = max(worst, abs(numeric - analytic) / max(abs(numeric), 1e-3))
        res[f"model_gradients_match_finite_differences_{name}"] = (worst < 1e-6, f"worst relative error {worst:.3g}")

    DTYPE = saved
    return res


def main(argv):
    global DTYPE
    args = list(argv)
    if "--double" in args:
        args.remove("--double")
        DTYPE = torch.float64
    torch.set_num_threads(1)
    ok = True
    if args[:1] == ["--selftest"]:
        out = args[1]
        args = args[2:]
        res = selftest()
        for n, (passed, detail) in res.items():
            print(f"[reformer_ref] selftest {n}: {'ok' if passed else 'FAILED'} {detail}", file=sys.stderr)
            ok = ok and passed
        tensorfile.write(out, {"check." + n: np.uint8(bool(p)) for n, (p, _) in res.items()})
    if len(args) % 2:
        print("usage: reformer_ref.py [--double] [--selftest OUT] [CASE STATE]...", file=sys.stderr)
        return 2
    for case, state in zip(args[0::2], args[1::2]):
        try:
            tensorfile.write(state, run_case(tensorfile.read(case)))
        except Exception as e:  # one bad case must not hide the others
            print(f"[reformer_ref] {case}: {type(e).__name__}: {e}", file=sys.stderr)
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
