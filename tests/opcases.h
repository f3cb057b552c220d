/* One table of op cases, shared by the CPU gradient checks
 * (tests/test_ops.c), the CUDA-vs-CPU parity suite
 * (tests/cuda/test_cuda_ops.c) and the per-op timing benchmark
 * (scripts/bench/ops.c). A case lists its tensors (what each is and how it
 * starts) and calls its op through a backend table; the drivers below
 * allocate, fill, run and read back, so each consumer is a loop over the
 * table. Header-only and free of Check: the benchmark includes it too.
 *
 * Sizes come from oc_dims_t: small for finite differences (every input
 * element costs two forward passes), larger than a GPU block for parity,
 * the engine's shape for timing. */
#ifndef GF_TESTS_OPCASES_H
#define GF_TESTS_OPCASES_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/backend.h"
#include "model/config.h"
#include "model/rng.h"

enum { OC_MAX_T = 12, OC_MAX_CASES = 32 };

typedef enum {
	OC_IN,      /* forward input: random (F32 normal * scale, I32 below range, U8/U16 from prepare) */
	OC_OUT,     /* forward output, zero at the start */
	OC_DOUT,    /* d loss / d (tensor of), random; scale 0: every element the case's f */
	OC_GRAD,    /* gradient of IN tensor of, added to by backward; starts random (scale) */
	OC_SAVED,   /* written by forward, read by backward (mean, rstd, probs, scratch) */
	OC_WORK,    /* attention workspace: attn_workspace(s) bytes of the backend */
} oc_role_t;

typedef enum { OC_F32, OC_I32, OC_U8, OC_U16 } oc_type_t;

typedef struct {
	const char *name;
	oc_role_t role;
	oc_type_t type;
	size_t n;           /* elements */
	float scale;
	int range;          /* OC_I32 inputs: uniform in [0, range) */
	int of;             /* OC_GRAD: its IN; OC_DOUT: its OUT */
} oc_tensor_t;

typedef struct oc_case oc_case_t;
struct oc_case {
	const char *name;
	int n_t;
	oc_tensor_t t[OC_MAX_T];
	int d[6];                   /* the op's sizes, in the order its call takes them */
	float f;                    /* a scalar argument: dropout p, xent dscale, axpy alpha */
	rf_attn_shape_t s;          /* attention cases */
	rf_varlen_shape_t v;        /* attention within packed segments (v.N > 0) */
	double atol, rtol;          /* CUDA against CPU: |cuda - cpu| <= atol + rtol |cpu| */
	void (*forward)(const rf_backend_t *be, const oc_case_t *c, void *const *p);
	void (*backward)(const rf_backend_t *be, const oc_case_t *c, void *const *p);   /* NULL: none */
	void (*prepare)(const oc_case_t *c, void *const *host);   /* masks, indices, buckets */
};

/* The sizes of one use of the table. */
typedef struct {
	int B, L;           /* sequences, tokens each */
	int D, F;           /* model and feed-forward width */
	int H, dh;          /* heads of attention and their width */
	int chunk;          /* attention chunk; L a multiple of it */
	int hashes;         /* LSH rounds */
} oc_dims_t;

/* Finite differences: few elements. Parity: rows beyond one GPU block of
 * 256 threads and widths that are not a multiple of 32. */
static const oc_dims_t OC_GRADCHECK_DIMS = { 2, 16, 6, 10, 2, 4, 8, 2 };
static const oc_dims_t OC_PARITY_DIMS = { 2, 320, 72, 136, 2, 36, 64, 2 };

#define OC_F(p, i) ((float *)(p)[i])

/* ---- the ops ---------------------------------------------------------------- */

/* Tensor indices below follow each case's t[] order. */

static inline void oc_embed_fwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->embed_forward(OC_F(p, 4), (const int32_t *)p[3], (const int32_t *)p[9], OC_F(p, 0), OC_F(p, 1), OC_F(p, 2),
	                  c->d[0], c->d[1], c->d[2], c->d[3], c->d[4]);
}

static inline void oc_embed_bwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->embed_backward(OC_F(p, 6), OC_F(p, 7), OC_F(p, 8), OC_F(p, 5), (const int32_t *)p[3], (const int32_t *)p[9],
	                   c->d[0], c->d[1], c->d[2], c->d[3], c->d[4]);
}

static inline void oc_ln_fwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->layernorm_forward(OC_F(p, 3), OC_F(p, 4), OC_F(p, 5), OC_F(p, 0), OC_F(p, 1), OC_F(p, 2), c->d[0], c->d[1]);
}

static inline void oc_ln_bwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->layernorm_backward(OC_F(p, 7), OC_F(p, 8), OC_F(p, 9), OC_F(p, 6), OC_F(p, 0), OC_F(p, 1), OC_F(p, 4),
	                       OC_F(p, 5), c->d[0], c->d[1]);
}

/* out = x + b (bias_add works in place on a copy of x). */
static inline void oc_bias_fwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->copy(p[2], p[0], (size_t)c->d[0] * c->d[1] * sizeof(float));
	be->bias_add(OC_F(p, 2), OC_F(p, 1), c->d[0], c->d[1]);
}

static inline void oc_bias_bwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->bias_backward(OC_F(p, 4), OC_F(p, 3), c->d[0], c->d[1]);
}

static inline void oc_gelu_fwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->gelu_forward(OC_F(p, 1), OC_F(p, 0), (size_t)c->d[0]);
}

static inline void oc_gelu_bwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->gelu_backward(OC_F(p, 3), OC_F(p, 0), OC_F(p, 2), (size_t)c->d[0]);
}

/* Dropout is its own backward: out = drop(x); dx += drop(dout). */
static inline void oc_dropout_fwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->copy(p[1], p[0], (size_t)c->d[0] * sizeof(float));
	be->dropout(OC_F(p, 1), (size_t)c->d[0], c->f, 77, 5);
}

static inline void oc_dropout_bwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->copy(p[4], p[2], (size_t)c->d[0] * sizeof(float));
	be->dropout(OC_F(p, 4), (size_t)c->d[0], c->f, 77, 5);
	be->axpy(OC_F(p, 3), OC_F(p, 4), 1.0f, (size_t)c->d[0]);
}

static inline void oc_concat_fwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->concat2(OC_F(p, 2), OC_F(p, 0), OC_F(p, 1), c->d[0], c->d[1]);
}

static inline void oc_concat_bwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->concat2_backward(OC_F(p, 4), OC_F(p, 5), OC_F(p, 3), c->d[0], c->d[1]);
}

static inline void oc_pool_fwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->meanpool_forward(OC_F(p, 2), OC_F(p, 0), (const uint8_t *)p[1], c->d[0], c->d[1], c->d[2]);
}

static inline void oc_pool_bwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->meanpool_backward(OC_F(p, 4), OC_F(p, 3), (const uint8_t *)p[1], c->d[0], c->d[1], c->d[2]);
}

static inline void oc_gather_fwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->gather_rows(OC_F(p, 2), OC_F(p, 0), (const int32_t *)p[1], c->d[0], c->d[1]);
}

static inline void oc_gather_bwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->scatter_add_rows(OC_F(p, 4), OC_F(p, 3), (const int32_t *)p[1], c->d[0], c->d[1]);
}

static inline void oc_xent_fwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->xent_forward(OC_F(p, 2), OC_F(p, 3), OC_F(p, 0), (const int32_t *)p[1], c->d[0], c->d[1]);
}

/* d (dscale * sum of the losses): the DOUT of the loss is dscale everywhere. */
static inline void oc_xent_bwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->xent_backward(OC_F(p, 5), OC_F(p, 3), (const int32_t *)p[1], c->f, c->d[0], c->d[1]);
}

static inline void oc_attn_fwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->attn_forward(OC_F(p, 4), OC_F(p, 0), OC_F(p, 1), c->s.kind == RF_ATTN_LSH ? (const uint16_t *)p[3] : NULL,
	                 (const uint8_t *)p[2], &c->s, p[8]);
}

static inline void oc_attn_bwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->attn_backward(OC_F(p, 6), OC_F(p, 7), OC_F(p, 5), OC_F(p, 0), OC_F(p, 1),
	                  c->s.kind == RF_ATTN_LSH ? (const uint16_t *)p[3] : NULL, (const uint8_t *)p[2], &c->s, p[8]);
}

/* Packed segments start at row OC_SEG_FIRST (oc_segments). */
#define OC_SEG_FIRST 1

static inline void oc_varlen_fwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->attn_varlen_forward(OC_F(p, 3), OC_F(p, 0), OC_F(p, 1), (const int32_t *)p[2], &c->v, p[7]);
}

static inline void oc_varlen_bwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->attn_varlen_backward(OC_F(p, 5), OC_F(p, 6), OC_F(p, 4), OC_F(p, 0), OC_F(p, 1), (const int32_t *)p[2], &c->v,
	                         p[7]);
}

/* Pooling per segment of the rows from the first segment's on. */
static inline void oc_segpool_fwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->segpool_forward(OC_F(p, 2), OC_F(p, 0) + (size_t)OC_SEG_FIRST * c->d[1], (const int32_t *)p[1], c->d[0], c->d[1]);
}

static inline void oc_segpool_bwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->segpool_backward(OC_F(p, 4) + (size_t)OC_SEG_FIRST * c->d[1], OC_F(p, 3), (const int32_t *)p[1], c->d[0],
	                     c->d[1]);
}

static inline void oc_hash_fwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->lsh_hash((uint16_t *)p[3], OC_F(p, 0), OC_F(p, 1), (const uint8_t *)p[2], &c->s);
}

/* out = y + alpha x, then scaled by alpha (axpy and scale in place on a copy). */
static inline void oc_axpy_fwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->copy(p[2], p[1], (size_t)c->d[0] * sizeof(float));
	be->axpy(OC_F(p, 2), OC_F(p, 0), c->f, (size_t)c->d[0]);
	be->scale(OC_F(p, 2), c->f, (size_t)c->d[0]);
}

static inline void oc_rng_fwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->rng_normal(OC_F(p, 0), (size_t)c->d[0], 1234);
}

/* One AdamW step at step 3 on copies of p, m and v. */
static inline void oc_adamw_fwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	size_t n = (size_t)c->d[0], b = n * sizeof(float);
	be->copy(p[4], p[0], b);
	be->copy(p[5], p[2], b);
	be->copy(p[6], p[3], b);
	be->adamw(OC_F(p, 4), OC_F(p, 1), OC_F(p, 5), OC_F(p, 6), n, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f,
	          1.0f - 0.9f * 0.9f * 0.9f, 1.0f - 0.999f * 0.999f * 0.999f);
}

static inline void oc_matmul_fwd(const rf_backend_t *be, const oc_case_t *c, void *const *p)
{
	be->matmul(OC_F(p, 2), OC_F(p, 0), OC_F(p, 1), c->d[0], c->d[1], c->d[2], c->d[3], c->d[4], 1.0f, 0.0f);
}

/* ---- fix-ups of the host inputs ---------------------------------------------- */

/* Sequence 1 ends with a quarter of padding; in attention cases every
 * sequence keeps at least one real token. */
static inline void oc_mask_tail(uint8_t *mask, int B, int L)
{
	for (int b = 0; b < B; b++)
		for (int j = 0; j < L; j++) mask[(size_t)b * L + j] = !(b == 1 && j >= L - L / 4);
}

static inline void oc_prep_pool(const oc_case_t *c, void *const *h)
{
	uint8_t *mask = h[1];
	oc_mask_tail(mask, c->d[0], c->d[1]);
	/* the last sequence has no real token: its mean is zero */
	memset(mask + (size_t)(c->d[0] - 1) * c->d[1], 0, (size_t)c->d[1]);
}

static inline void oc_prep_xent(const oc_case_t *c, void *const *h)
{
	((int32_t *)h[1])[c->d[0] / 2] = -1;   /* a row without a target has loss 0 */
}

/* Masks (the last d[0] tokens of sequence 1 are padding), and LSH
 * buckets: random below n_buckets, padding in bucket n_buckets, as
 * lsh_hash gives them (the hash itself is its own case). */
static inline void oc_prep_attn(const oc_case_t *c, void *const *h)
{
	const rf_attn_shape_t *s = &c->s;
	uint8_t *mask = h[2];
	for (int b = 0; b < s->B; b++)
		for (int j = 0; j < s->L; j++) mask[(size_t)b * s->L + j] = !(b == 1 && j >= s->L - c->d[0]);
	if (s->kind != RF_ATTN_LSH) return;
	uint16_t *bk = h[3];
	size_t n = (size_t)s->B * s->H * s->n_hashes * s->L;
	for (size_t i = 0; i < n; i++) {
		size_t b = i / ((size_t)s->H * s->n_hashes * s->L), j = i % (size_t)s->L;
		bk[i] = mask[b * s->L + j] ? (uint16_t)(rf_rng_u64(4242, i) % (uint64_t)s->n_buckets) : (uint16_t)s->n_buckets;
	}
}

static inline void oc_prep_hash(const oc_case_t *c, void *const *h)
{
	oc_mask_tail(h[2], c->s.B, c->s.L);
}

/* Packed segments over N rows from row OC_SEG_FIRST: lengths cycle
 * through 1 (a token alone), 5, 25 (a 150 bp read at k = 6), 9 and 100
 * (two CUDA tiles), each at most cap, ending before the last two rows
 * (rows outside every segment on both sides). Writes seg[0..n] when seg is
 * given and the longest length to *longest; returns n. */
static inline int oc_segments(int N, int cap, int32_t *seg, int *longest)
{
	static const int lens[5] = { 1, 5, 25, 9, 100 };
	int n = 0, at = OC_SEG_FIRST;
	*longest = 0;
	if (seg) seg[0] = at;
	for (;; n++) {
		int len = lens[n % 5] < cap ? lens[n % 5] : cap;
		if (at + len > N - 2) break;
		at += len;
		if (seg) seg[n + 1] = at;
		if (len > *longest) *longest = len;
	}
	return n;
}

static inline void oc_prep_varlen(const oc_case_t *c, void *const *h)
{
	int longest;
	oc_segments(c->v.N, c->d[0], h[2], &longest);
}

static inline void oc_prep_segpool(const oc_case_t *c, void *const *h)
{
	int longest;
	oc_segments(c->d[2], c->d[3], h[1], &longest);
}

/* Positions restarting at 0 in each packed segment (0 outside them). */
static inline void oc_prep_embed_pos(const oc_case_t *c, void *const *h)
{
	int N = c->d[0] * c->d[1], longest, *pos = h[9];
	int32_t *seg = malloc(((size_t)N + 1) * sizeof *seg);
	int n = seg ? oc_segments(N, c->d[5], seg, &longest) : 0;
	for (int i = 0; i < n; i++)
		for (int j = seg[i]; j < seg[i + 1]; j++) pos[j] = j - seg[i];
	free(seg);
}

/* ---- the table ---------------------------------------------------------------- */

#define OC_T(nm, role, type, n, scale, range, of) { nm, role, type, (size_t)(n), scale, range, of }
#define OC_IN_F(nm, n, scale) OC_T(nm, OC_IN, OC_F32, n, scale, 0, 0)
#define OC_OUT_F(nm, n) OC_T(nm, OC_OUT, OC_F32, n, 0, 0, 0)
#define OC_DOUT_F(n, out) OC_T("dout", OC_DOUT, OC_F32, n, 1.0f, 0, out)
#define OC_GRAD_F(nm, n, in) OC_T(nm, OC_GRAD, OC_F32, n, 0.5f, 0, in)
#define OC_SAVED_F(nm, n) OC_T(nm, OC_SAVED, OC_F32, n, 0, 0, 0)

static inline rf_attn_shape_t oc_attn_shape(const oc_dims_t *d, int kind, int causal, int hashes)
{
	rf_attn_shape_t s = { d->B, d->L, d->H, d->dh, kind, causal, d->chunk, 1, kind == RF_ATTN_LOCAL, hashes, 0, 0 };
	if (kind == RF_ATTN_LSH) rf_lsh_buckets(d->L, d->chunk, 0, &s.n_buckets, &s.n_buckets1);
	return s;
}

/* Attention of shape s with pad padding tokens at the end of sequence 1. */
static inline oc_case_t oc_attn_case_of(const char *name, rf_attn_shape_t s, int pad)
{
	int kind = s.kind;
	size_t n = (size_t)s.B * s.L * s.H * s.dh;
	oc_case_t c = { name, 9, {
		OC_IN_F("qk", n, 1.0f), OC_IN_F("v", n, 1.0f), OC_T("mask", OC_IN, OC_U8, (size_t)s.B * s.L, 0, 0, 0),
		OC_T("buckets", OC_IN, OC_U16, kind == RF_ATTN_LSH ? (size_t)s.B * s.H * s.n_hashes * s.L : 0, 0, 0, 0),
		OC_OUT_F("out", n), OC_DOUT_F(n, 4), OC_GRAD_F("dqk", n, 0), OC_GRAD_F("dv", n, 1),
		OC_T("work", OC_WORK, OC_U8, 0, 0, 0, 0) },
		{ pad }, .s = s, .atol = 1e-4, .rtol = 1e-3, .forward = oc_attn_fwd, .backward = oc_attn_bwd,
		.prepare = oc_prep_attn };
	return c;
}

static inline oc_case_t oc_attn_case(const char *name, const oc_dims_t *d, int kind, int causal, int hashes)
{
	return oc_attn_case_of(name, oc_attn_shape(d, kind, causal, hashes), d->L / 4);
}

/* Attention within packed segments (oc_segments, at most two chunks long)
 * over the B*L rows of d. */
static inline oc_case_t oc_varlen_case(const char *name, const oc_dims_t *d, int causal)
{
	int N = d->B * d->L, cap = 2 * d->chunk, longest, n_seg = oc_segments(N, cap, NULL, &longest);
	size_t n = (size_t)N * d->H * d->dh;
	oc_case_t c = { name, 8, {
		OC_IN_F("qk", n, 1.0f), OC_IN_F("v", n, 1.0f), OC_T("seg", OC_IN, OC_I32, (size_t)n_seg + 1, 0, 0, 0),
		OC_OUT_F("out", n), OC_DOUT_F(n, 3), OC_GRAD_F("dqk", n, 0), OC_GRAD_F("dv", n, 1),
		OC_T("work", OC_WORK, OC_U8, 0, 0, 0, 0) },
		{ cap }, .v = { N, n_seg, longest, d->H, d->dh, causal }, .atol = 1e-4, .rtol = 1e-3,
		.forward = oc_varlen_fwd, .backward = oc_varlen_bwd, .prepare = oc_prep_varlen };
	return c;
}

/* Every case at sizes d, into cases[]; returns the count. */
static inline int oc_cases(const oc_dims_t *d, oc_case_t *cases)
{
	const size_t N = (size_t)d->B * d->L, D = (size_t)d->D, F = (size_t)d->F;
	/* V: a vocabulary; K: classes, wide enough for a row to span blocks */
	const int n2 = 4, n1 = (d->L + n2 - 1) / n2, d1 = d->D / 2, V = 37, K = 14 * d->D + 1;
	int k = 0;
	for (int packed = 0; packed < 2; packed++)
		cases[k++] = (oc_case_t){ packed ? "embed_positions" : "embed", 10, {
			OC_IN_F("tok_emb", V * D, 1.0f), OC_IN_F("pos1", (size_t)n1 * d1, 1.0f), OC_IN_F("pos2", n2 * (D - d1), 1.0f),
			OC_T("tokens", OC_IN, OC_I32, N, 0, V, 0), OC_OUT_F("out", N * D), OC_DOUT_F(N * D, 4),
			OC_GRAD_F("dtok_emb", V * D, 0), OC_GRAD_F("dpos1", (size_t)n1 * d1, 1), OC_GRAD_F("dpos2", n2 * (D - d1), 2),
			OC_T("pos", OC_IN, OC_I32, packed ? N : 0, 0, 0, 0) },
			{ d->B, d->L, d->D, n2, d1, 2 * d->chunk }, .atol = 1e-4, .rtol = 1e-4, .forward = oc_embed_fwd,
			.backward = oc_embed_bwd, .prepare = packed ? oc_prep_embed_pos : NULL };
	cases[k++] = (oc_case_t){ "layernorm", 10, {
		OC_IN_F("inp", N * D, 2.0f), OC_IN_F("w", D, 1.0f), OC_IN_F("b", D, 1.0f), OC_OUT_F("out", N * D),
		OC_SAVED_F("mean", N), OC_SAVED_F("rstd", N), OC_DOUT_F(N * D, 3), OC_GRAD_F("dinp", N * D, 0),
		OC_GRAD_F("dw", D, 1), OC_GRAD_F("db", D, 2) },
		{ (int)N, d->D }, .atol = 1e-4, .rtol = 1e-4, .forward = oc_ln_fwd, .backward = oc_ln_bwd };
	cases[k++] = (oc_case_t){ "bias", 5, {
		OC_IN_F("x", N * D, 1.0f), OC_IN_F("b", D, 1.0f), OC_OUT_F("out", N * D), OC_DOUT_F(N * D, 2),
		OC_GRAD_F("db", D, 1) },
		{ (int)N, d->D }, .atol = 1e-4, .rtol = 1e-4, .forward = oc_bias_fwd, .backward = oc_bias_bwd };
	cases[k++] = (oc_case_t){ "gelu", 4, {
		OC_IN_F("inp", N * F, 2.0f), OC_OUT_F("out", N * F), OC_DOUT_F(N * F, 1), OC_GRAD_F("dinp", N * F, 0) },
		{ (int)(N * F) }, .atol = 1e-6, .rtol = 1e-5, .forward = oc_gelu_fwd, .backward = oc_gelu_bwd };
	cases[k++] = (oc_case_t){ "dropout", 5, {
		OC_IN_F("x", N * D, 1.0f), OC_OUT_F("out", N * D), OC_DOUT_F(N * D, 1), OC_GRAD_F("dx", N * D, 0),
		OC_SAVED_F("scratch", N * D) },
		{ (int)(N * D) }, 0.3f, .atol = 1e-6, .rtol = 1e-6, .forward = oc_dropout_fwd, .backward = oc_dropout_bwd };
	cases[k++] = (oc_case_t){ "concat2", 6, {
		OC_IN_F("a", N * D, 1.0f), OC_IN_F("b", N * D, 1.0f), OC_OUT_F("out", 2 * N * D), OC_DOUT_F(2 * N * D, 2),
		OC_GRAD_F("da", N * D, 0), OC_GRAD_F("db", N * D, 1) },
		{ (int)N, d->D }, .atol = 0, .rtol = 1e-6, .forward = oc_concat_fwd, .backward = oc_concat_bwd };
	cases[k++] = (oc_case_t){ "meanpool", 5, {
		OC_IN_F("inp", N * D, 1.0f), OC_T("mask", OC_IN, OC_U8, N, 0, 0, 0), OC_OUT_F("out", (size_t)d->B * D),
		OC_DOUT_F((size_t)d->B * D, 2), OC_GRAD_F("dinp", N * D, 0) },
		{ d->B, d->L, d->D }, .atol = 1e-5, .rtol = 1e-4, .forward = oc_pool_fwd, .backward = oc_pool_bwd,
		.prepare = oc_prep_pool };
	int longest, n_seg = oc_segments((int)N, 2 * d->chunk, NULL, &longest);
	cases[k++] = (oc_case_t){ "segpool", 5, {
		OC_IN_F("inp", N * D, 1.0f), OC_T("seg", OC_IN, OC_I32, (size_t)n_seg + 1, 0, 0, 0),
		OC_OUT_F("out", (size_t)n_seg * D), OC_DOUT_F((size_t)n_seg * D, 2), OC_GRAD_F("dinp", N * D, 0) },
		{ n_seg, d->D, (int)N, 2 * d->chunk }, .atol = 1e-5, .rtol = 1e-4, .forward = oc_segpool_fwd,
		.backward = oc_segpool_bwd, .prepare = oc_prep_segpool };
	/* M = 2N rows gathered from N: every row about twice, scatter must add them up */
	cases[k++] = (oc_case_t){ "gather_rows", 5, {
		OC_IN_F("inp", N * D, 1.0f), OC_T("idx", OC_IN, OC_I32, 2 * N, 0, (int)N, 0), OC_OUT_F("out", 2 * N * D),
		OC_DOUT_F(2 * N * D, 2), OC_GRAD_F("dinp", N * D, 0) },
		{ (int)(2 * N), d->D }, .atol = 1e-5, .rtol = 1e-5, .forward = oc_gather_fwd, .backward = oc_gather_bwd };
	cases[k++] = (oc_case_t){ "xent", 6, {
		OC_IN_F("logits", N * K, 2.0f), OC_T("targets", OC_IN, OC_I32, N, 0, K, 0), OC_OUT_F("loss", N),
		OC_SAVED_F("probs", N * K), OC_T("dout", OC_DOUT, OC_F32, N, 0, 0, 2), OC_GRAD_F("dlogits", N * K, 0) },
		{ (int)N, K }, 0.25f, .atol = 1e-6, .rtol = 1e-4, .forward = oc_xent_fwd, .backward = oc_xent_bwd,
		.prepare = oc_prep_xent };
	cases[k++] = oc_attn_case("attn_full", d, RF_ATTN_FULL, 0, 1);
	cases[k++] = oc_attn_case("attn_local", d, RF_ATTN_LOCAL, 0, 1);
	cases[k++] = oc_attn_case("attn_lsh", d, RF_ATTN_LSH, 0, d->hashes);
	cases[k++] = oc_attn_case("attn_lsh_causal", d, RF_ATTN_LSH, 1, d->hashes);
	cases[k++] = oc_varlen_case("attn_varlen", d, 0);
	cases[k++] = oc_varlen_case("attn_varlen_causal", d, 1);
	/* forward only */
	rf_attn_shape_t hs = oc_attn_shape(d, RF_ATTN_LSH, 0, d->hashes);
	size_t nq = N * d->H * d->dh;
	cases[k++] = (oc_case_t){ "lsh_hash", 4, {
		OC_IN_F("qk", nq, 1.0f), OC_IN_F("rot", (size_t)d->H * d->dh * d->hashes * rf_attn_rot_cols(&hs), 1.0f),
		OC_T("mask", OC_IN, OC_U8, N, 0, 0, 0), OC_T("buckets", OC_OUT, OC_U16, N * d->H * d->hashes, 0, 0, 0) },
		.s = hs, .forward = oc_hash_fwd, .prepare = oc_prep_hash };
	cases[k++] = (oc_case_t){ "axpy_scale", 3, {
		OC_IN_F("x", N * D, 1.0f), OC_IN_F("y", N * D, 1.0f), OC_OUT_F("out", N * D) },
		{ (int)(N * D) }, -0.75f, .atol = 1e-6, .rtol = 1e-6, .forward = oc_axpy_fwd };
	cases[k++] = (oc_case_t){ "rng_normal", 1, { OC_OUT_F("out", N * D) },
		{ (int)(N * D) }, .atol = 1e-6, .rtol = 1e-5, .forward = oc_rng_fwd };
	cases[k++] = (oc_case_t){ "adamw", 7, {
		OC_IN_F("p", N * D, 1.0f), OC_IN_F("g", N * D, 1.0f), OC_IN_F("m", N * D, 0.1f), OC_IN_F("v", N * D, 0.0f),
		OC_OUT_F("p'", N * D), OC_OUT_F("m'", N * D), OC_OUT_F("v'", N * D) },
		{ (int)(N * D) }, .atol = 1e-6, .rtol = 1e-5, .forward = oc_adamw_fwd };
	cases[k++] = (oc_case_t){ "matmul_ff_up", 3, {
		OC_IN_F("x", N * D, 1.0f), OC_IN_F("w", D * F, 1.0f), OC_OUT_F("h", N * F) },
		{ (int)N, d->F, d->D, 0, 0 }, .atol = 1e-4, .rtol = 1e-4, .forward = oc_matmul_fwd };
	cases[k++] = (oc_case_t){ "matmul_dw", 3, {
		OC_IN_F("x", N * D, 1.0f), OC_IN_F("g", N * F, 1.0f), OC_OUT_F("dw", D * F) },
		{ d->D, d->F, (int)N, 1, 0 }, .atol = 1e-3, .rtol = 1e-4, .forward = oc_matmul_fwd };
	return k;
}

/* ---- the drivers ---------------------------------------------------------------- */

static inline size_t oc_type_size(oc_type_t t)
{
	return t == OC_F32 || t == OC_I32 ? 4 : t == OC_U16 ? 2 : 1;
}

static inline size_t oc_bytes(const rf_backend_t *be, const oc_case_t *c, int i)
{
	const oc_tensor_t *t = &c->t[i];
	if (t->role == OC_WORK) return c->v.N ? be->attn_varlen_workspace(&c->v) : be->attn_workspace(&c->s);
	return t->n * oc_type_size(t->type);
}

/* Host tensors of c, filled as the table says (keys from the case's name
 * and the tensor's index, so every backend and run starts alike). NULL
 * when out of memory. */
static inline void **oc_host(const oc_case_t *c)
{
	void **h = calloc(OC_MAX_T, sizeof *h);
	uint64_t key = 0;
	for (const char *p = c->name; h && *p; p++) key = key * 131 + (unsigned char)*p;
	for (int i = 0; h && i < c->n_t; i++) {
		const oc_tensor_t *t = &c->t[i];
		if (t->role == OC_WORK) continue;
		if (!(h[i] = calloc(t->n ? t->n : 1, oc_type_size(t->type)))) return NULL;
		uint64_t k = rf_rng_key(key, (uint64_t)i, -1, RF_RNG_DATA);   /* layer -1: no layer */
		for (size_t j = 0; j < t->n; j++) {
			if (t->type == OC_I32 && t->range) ((int32_t *)h[i])[j] = (int32_t)(rf_rng_u64(k, j) % (uint64_t)t->range);
			if (t->type != OC_F32) continue;
			float *f = h[i];
			if (t->role == OC_DOUT && t->scale == 0) f[j] = c->f;
			else if (t->role == OC_IN || t->role == OC_DOUT || t->role == OC_GRAD) f[j] = t->scale * rf_rng_normal(k, j);
		}
	}
	if (h && c->prepare) c->prepare(c, h);
	return h;
}

static inline void oc_host_free(const oc_case_t *c, void **h)
{
	for (int i = 0; h && i < c->n_t; i++) free(h[i]);
	free(h);
}

/* Backend copies of the host tensors (the workspace zeroed); p[] NULL
 * entries for tensors of no elements. 0, or -1 when out of memory. */
static inline int oc_upload(const rf_backend_t *be, const oc_case_t *c, void *const *h, void **p)
{
	for (int i = 0; i < c->n_t; i++) {
		size_t b = oc_bytes(be, c, i);
		p[i] = NULL;
		if (!b) continue;
		if (!(p[i] = be->alloc(b))) return -1;
		if (h[i]) be->upload(p[i], h[i], b);
		else be->zero(p[i], b);
	}
	return 0;
}

static inline void oc_release(const rf_backend_t *be, const oc_case_t *c, void **p)
{
	for (int i = 0; i < c->n_t; i++) be->free(p[i]);
}

/* The loss the table's DOUTs define: sum over OUT tensors of dout . out, in
 * double, read from host-visible memory (the CPU backend's). */
static inline double oc_loss(const oc_case_t *c, void *const *p)
{
	double s = 0;
	for (int i = 0; i < c->n_t; i++) {
		const oc_tensor_t *t = &c->t[i];
		if (t->role != OC_DOUT) continue;
		const float *dout = p[i], *out = p[t->of];
		for (size_t j = 0; j < t->n; j++) s += (double)dout[j] * out[j];
	}
	return s;
}

/* Runs c on be from the host tensors h: forward, then backward, and reads
 * every OUT, SAVED and GRAD tensor back into out[i] (allocated here, NULL
 * for the others). 0, or -1 when out of memory. */
static inline int oc_run(const rf_backend_t *be, const oc_case_t *c, void *const *h, void **out)
{
	void *p[OC_MAX_T] = { 0 };
	int rc = oc_upload(be, c, h, p);
	if (rc == 0) {
		c->forward(be, c, p);
		if (c->backward) c->backward(be, c, p);
		be->sync();
	}
	for (int i = 0; i < c->n_t; i++) {
		oc_role_t r = c->t[i].role;
		out[i] = NULL;
		if (rc || !p[i] || (r != OC_OUT && r != OC_SAVED && r != OC_GRAD)) continue;
		size_t b = oc_bytes(be, c, i);
		if ((out[i] = malloc(b))) be->download(out[i], p[i], b);
		else rc = -1;
	}
	oc_release(be, c, p);
	return rc;
}

/* The first element of tensor i where a and b differ by more than the
 * case's tolerance (integers: at all), described in msg; 0 when none. */
static inline int oc_compare(const oc_case_t *c, int i, const void *got, const void *ref, const char *what_got,
                             char *msg, size_t len)
{
	const oc_tensor_t *t = &c->t[i];
	for (size_t j = 0; j < t->n; j++) {
		double x, y;
		if (t->type == OC_F32) x = ((const float *)got)[j], y = ((const float *)ref)[j];
		else if (t->type == OC_U16) x = ((const uint16_t *)got)[j], y = ((const uint16_t *)ref)[j];
		else if (t->type == OC_I32) x = ((const int32_t *)got)[j], y = ((const int32_t *)ref)[j];
		else x = ((const uint8_t *)got)[j], y = ((const uint8_t *)ref)[j];
		double tol = t->type == OC_F32 ? c->atol + c->rtol * fabs(y) : 0;
		if (!(fabs(x - y) <= tol)) {
			snprintf(msg, len, "%s %s[%zu]: %s %.9g, cpu %.9g (atol %g, rtol %g)", c->name, t->name, j, what_got, x, y,
			         c->atol, c->rtol);
			return -1;
		}
	}
	return 0;
}

/* Backend be against the CPU backend on case c: every OUT, SAVED and GRAD
 * tensor within the case's tolerance. 0, or -1 with the first difference
 * (or "out of memory") in msg. */
static inline int oc_parity(const rf_backend_t *be, const oc_case_t *c, char *msg, size_t len)
{
	void **h = oc_host(c), *a[OC_MAX_T] = { 0 }, *b[OC_MAX_T] = { 0 };
	int rc = !h || oc_run(be, c, h, a) || oc_run(rf_backend_cpu(), c, h, b) ? -1 : 0;
	if (rc) snprintf(msg, len, "%s: out of memory", c->name);
	for (int i = 0; rc == 0 && i < c->n_t; i++)
		if (a[i] && b[i]) rc = oc_compare(c, i, a[i], b[i], be->name, msg, len);
	for (int i = 0; i < c->n_t; i++) {
		free(a[i]);
		free(b[i]);
	}
	oc_host_free(c, h);
	return rc;
}

#endif
