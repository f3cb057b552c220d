/* CUDA backend parity: every op of model/backend.h, forward and backward, run
 * through the op table of the CPU backend and of the CUDA backend on the same
 * random inputs, compared within atol + rtol*|cpu| (fp32 cuBLAS math;
 * attention also with its TF32 tensor-core products, at looser tolerances).
 * The ops of the op-case table (tests/opcases.h) run from that table, the
 * one the CPU gradient checks and the per-op benchmark use; matmul, the
 * sums, factorised hashing and attention at many more shapes have tests of
 * their own here. Backward ops start from non-zero gradients, so
 * accumulation (+=) is compared too. Tolerances, stated per case or test,
 * are a few hundred times the fp32 rounding of the sums involved. CUDA
 * starts inside each test (Check forks). */
#include <stdint.h>

#include "model/backend.h"
#include "model/config.h"
#include "model/cuda/cuda.h"
#include "model/rng.h"
#include "tests/cuda/cudautil.h"
#include "tests/optable.h"
#include "tests/testutil.h"

/* ---- plumbing ---- */

/* Backend buffers of one run, freed together. */
typedef struct {
	const rf_backend_t *be;
	void *p[64];
	int n;
} pool_t;

static void *blank(pool_t *P, size_t bytes)
{
	ck_assert_int_lt(P->n, 64);
	void *d = P->be->alloc(bytes);
	ck_assert_ptr_nonnull(d);
	P->be->zero(d, bytes);
	return P->p[P->n++] = d;
}

static void *put(pool_t *P, const void *host, size_t bytes)
{
	void *d = blank(P, bytes);
	P->be->upload(d, host, bytes);
	return d;
}

static void get(pool_t *P, void *host, const void *dev, size_t bytes)
{
	P->be->sync();
	P->be->download(host, dev, bytes);
}

static void pool_free(pool_t *P)
{
	for (int i = 0; i < P->n; i++) P->be->free(P->p[i]);
	P->n = 0;
}

static float *randn(size_t n, uint64_t key, float scale)
{
	float *x = malloc((n ? n : 1) * sizeof(float));
	ck_assert_ptr_nonnull(x);
	for (size_t i = 0; i < n; i++) x[i] = scale * rf_rng_normal(key, i);
	return x;
}

static float *fbuf(size_t n)
{
	float *x = calloc(n ? n : 1, sizeof(float));
	ck_assert_ptr_nonnull(x);
	return x;
}

/* |got - ref| <= atol + rtol*|ref| everywhere, else the first bad element. */
static void expect_close(const float *got, const float *ref, size_t n, double atol, double rtol,
                         const char *what)
{
	for (size_t i = 0; i < n; i++)
		if (!(fabs((double)got[i] - ref[i]) <= atol + rtol * fabs((double)ref[i])))
			ck_abort_msg("%s[%zu]: cuda %.9g, cpu %.9g (atol %g, rtol %g)", what, i, got[i],
			             ref[i], atol, rtol);
}

static void expect_same(const void *a, const void *b, size_t bytes, const char *what)
{
	if (memcmp(a, b, bytes) != 0) ck_abort_msg("%s: two identical runs differ", what);
}

/* ---- matmul ---- */

static void run_matmul(const rf_backend_t *be, float *C, const float *A, const float *B,
                       const float *C0, int M, int N, int K, int ta, int tb)
{
	pool_t P = { be, { 0 }, 0 };
	float *dA = put(&P, A, sizeof(float) * M * K), *dB = put(&P, B, sizeof(float) * K * N);
	float *dC = put(&P, C0, sizeof(float) * M * N);
	be->matmul(dC, dA, dB, M, N, K, ta, tb, 0.5f, 2.0f);
	get(&P, C, dC, sizeof(float) * M * N);
	pool_free(&P);
}

/* atol 1e-4, rtol 1e-4 on sums of 53 products of N(0,1) values. */
START_TEST(matmul_matches_cpu_for_every_transpose)
{
	const rf_backend_t *g = tu_cuda(), *c = rf_backend_cpu();
	enum { M = 37, N = 29, K = 53 };
	float *A = randn(M * K, 1, 1.0f), *B = randn(K * N, 2, 1.0f), *C0 = randn(M * N, 3, 1.0f);
	float got[M * N], ref[M * N];
	for (int ta = 0; ta < 2; ta++)
		for (int tb = 0; tb < 2; tb++) {
			run_matmul(g, got, A, B, C0, M, N, K, ta, tb);
			run_matmul(c, ref, A, B, C0, M, N, K, ta, tb);
			expect_close(got, ref, M * N, 1e-4, 1e-4, ta ? (tb ? "C(ta,tb)" : "C(ta)") : (tb ? "C(tb)" : "C"));
		}
	free(A); free(B); free(C0);
}
END_TEST

/* TF32 keeps 10 mantissa bits: agreement to 1e-2 relative, and the switch
 * back to fp32 restores 1e-4. */
START_TEST(matmul_tf32_switch_stays_close_and_switches_back)
{
	const rf_backend_t *g = tu_cuda(), *c = rf_backend_cpu();
	enum { M = 64, N = 48, K = 256 };
	float *A = randn(M * K, 4, 1.0f), *B = randn(K * N, 5, 1.0f), *C0 = fbuf(M * N);
	float *got = fbuf(M * N), *ref = fbuf(M * N);
	run_matmul(c, ref, A, B, C0, M, N, K, 0, 0);
	rf_cuda_set_math(1);
	run_matmul(g, got, A, B, C0, M, N, K, 0, 0);
	expect_close(got, ref, M * N, 0.3, 1e-2, "C tf32");
	rf_cuda_set_math(0);
	run_matmul(g, got, A, B, C0, M, N, K, 0, 0);
	expect_close(got, ref, M * N, 1e-4, 1e-4, "C fp32");
	free(A); free(B); free(C0); free(got); free(ref);
}
END_TEST

/* ---- the op-case table (tests/opcases.h): every op with its backward,
 * at sizes beyond one block, against the CPU ---- */

START_TEST(op_table_matches_cpu)
{
	const rf_backend_t *g = tu_cuda();
	oc_case_t c[OC_MAX_CASES];
	oc_cases(&OC_PARITY_DIMS, c);
	oc_assert_parity(g, &c[_i]);
}
END_TEST

/* ---- LayerNorm (repeatability below) ---- */

enum { LN_N = 600, LN_C = 70 };

/* out, mean, rstd, dinp, dw, db of one forward and backward into h. */
static void run_layernorm(const rf_backend_t *be, float *h[6], const float *x, const float *w,
                          const float *b, const float *dout, const float *g0)
{
	size_t nc = sizeof(float) * LN_N * LN_C, c = sizeof(float) * LN_C, n = sizeof(float) * LN_N;
	pool_t P = { be, { 0 }, 0 };
	float *dx = put(&P, x, nc), *dw = put(&P, w, c), *db = put(&P, b, c), *dg = put(&P, dout, nc);
	float *o = blank(&P, nc), *m = blank(&P, n), *r = blank(&P, n);
	float *gi = put(&P, g0, nc), *gw = put(&P, g0, c), *gb = put(&P, g0 + LN_C, c);
	be->layernorm_forward(o, m, r, dx, dw, db, LN_N, LN_C);
	be->layernorm_backward(gi, gw, gb, dg, dx, dw, m, r, LN_N, LN_C);
	get(&P, h[0], o, nc); get(&P, h[1], m, n); get(&P, h[2], r, n);
	get(&P, h[3], gi, nc); get(&P, h[4], gw, c); get(&P, h[5], gb, c);
	pool_free(&P);
}

/* ---- reductions ---- */

/* Double accumulation on both sides: rtol 1e-12. */
START_TEST(sum_and_sum_squares_match_cpu)
{
	const rf_backend_t *g = tu_cuda(), *c = rf_backend_cpu();
	enum { N = 1000003 };
	float *x = randn(N, 28, 1.0f);
	pool_t P = { g, { 0 }, 0 };
	float *d = put(&P, x, sizeof(float) * N);
	double sg = g->sum(d, N), qg = g->sum_squares(d, N), sc = c->sum(x, N), qc = c->sum_squares(x, N);
	pool_free(&P);
	ck_assert_msg(fabs(sg - sc) <= 1e-12 * N, "sum: cuda %.17g, cpu %.17g", sg, sc);
	ck_assert_msg(fabs(qg - qc) <= 1e-12 * qc, "sum_squares: cuda %.17g, cpu %.17g", qg, qc);
	free(x);
}
END_TEST

/* ---- LSH hashing ---- */

static rf_attn_shape_t shape(int kind, int B, int L, int H, int dh, int chunk, int nb, int na,
                             int hashes, int buckets, int causal)
{
	rf_attn_shape_t s = { B, L, H, dh, kind, causal, chunk, nb, na, hashes, 0, 0 };
	if (kind == RF_ATTN_LSH) rf_lsh_buckets(L, chunk, buckets, &s.n_buckets, &s.n_buckets1);
	return s;
}

/* Trailing padding in the last sequence, and a few interior holes. */
static uint8_t *padding_mask(int B, int L, int pad)
{
	uint8_t *m = malloc((size_t)B * L);
	ck_assert_ptr_nonnull(m);
	for (int i = 0; i < B * L; i++) {
		int b = i / L, j = i % L;
		m[i] = !(b == B - 1 && j >= L - pad) && !(pad && j % 17 == 5);
	}
	return m;
}

static void run_hash(const rf_backend_t *be, uint16_t *out, const float *qk, const float *rot,
                     const uint8_t *mask, const rf_attn_shape_t *s)
{
	size_t nqk = (size_t)s->B * s->L * s->H * s->dh, nb = (size_t)s->B * s->H * s->n_hashes * s->L;
	size_t nrot = (size_t)s->H * s->dh * s->n_hashes * rf_attn_rot_cols(s);
	pool_t P = { be, { 0 }, 0 };
	float *dq = put(&P, qk, nqk * sizeof(float)), *dr = put(&P, rot, nrot * sizeof(float));
	uint8_t *dm = mask ? put(&P, mask, (size_t)s->B * s->L) : NULL;
	uint16_t *db = blank(&P, nb * sizeof(uint16_t));
	be->lsh_hash(db, dq, dr, dm, s);
	get(&P, out, db, nb * sizeof(uint16_t));
	pool_free(&P);
}

static void expect_same_buckets(const rf_attn_shape_t *s, const uint8_t *mask, uint64_t seed)
{
	const rf_backend_t *g = tu_cuda(), *c = rf_backend_cpu();
	size_t nqk = (size_t)s->B * s->L * s->H * s->dh, nb = (size_t)s->B * s->H * s->n_hashes * s->L;
	float *qk = randn(nqk, seed, 1.0f);
	float *rot = randn((size_t)s->H * s->dh * s->n_hashes * rf_attn_rot_cols(s), seed + 1, 1.0f);
	uint16_t *bg = malloc(nb * sizeof(uint16_t)), *bc = malloc(nb * sizeof(uint16_t));
	run_hash(g, bg, qk, rot, mask, s);
	run_hash(c, bc, qk, rot, mask, s);
	for (size_t i = 0; i < nb; i++)
		ck_assert_msg(bg[i] == bc[i], "bucket %zu: cuda %u, cpu %u", i, bg[i], bc[i]);
	free(qk); free(rot); free(bg); free(bc);
}

START_TEST(lsh_hash_matches_cpu_with_factorised_buckets)
{
	rf_attn_shape_t s = shape(RF_ATTN_LSH, 1, 512, 2, 24, 4, 1, 0, 2, 512, 0);
	ck_assert_int_eq(s.n_buckets1, 16);
	expect_same_buckets(&s, NULL, 35);
}
END_TEST

/* ---- attention ---- */

typedef struct {
	float *out, *dqk, *dv;
} attn_res_t;

/* Forward, then backward into gradients that start at dqk0/dv0. */
static attn_res_t run_attn(const rf_backend_t *be, const rf_attn_shape_t *s, const float *qk,
                           const float *v, const uint16_t *buckets, const uint8_t *mask,
                           const float *dout, const float *g0)
{
	size_t n = (size_t)s->B * s->L * s->H * s->dh, b = n * sizeof(float);
	size_t nbk = (size_t)s->B * s->H * s->n_hashes * s->L * sizeof(uint16_t);
	pool_t P = { be, { 0 }, 0 };
	float *dq = put(&P, qk, b), *dvv = put(&P, v, b), *dg = put(&P, dout, b), *o = blank(&P, b);
	float *gq = put(&P, g0, b), *gv = put(&P, g0, b);
	uint16_t *dbk = buckets ? put(&P, buckets, nbk) : NULL;
	uint8_t *dm = mask ? put(&P, mask, (size_t)s->B * s->L) : NULL;
	void *work = blank(&P, be->attn_workspace(s));
	attn_res_t r = { fbuf(n), fbuf(n), fbuf(n) };
	be->attn_forward(o, dq, dvv, dbk, dm, s, work);
	get(&P, r.out, o, b);
	be->attn_backward(gq, gv, dg, dq, dvv, dbk, dm, s, work);
	get(&P, r.dqk, gq, b);
	get(&P, r.dv, gv, b);
	pool_free(&P);
	return r;
}

static void attn_res_free(attn_res_t *r)
{
	free(r->out); free(r->dqk); free(r->dv);
}

/* Inputs of one attention case; LSH buckets come from the CPU hash, so the
 * attention kernels are compared on the same sorted order. */
typedef struct {
	float *qk, *v, *dout, *g0;
	uint16_t *buckets;
	uint8_t *mask;
} attn_in_t;

static attn_in_t attn_inputs(const rf_attn_shape_t *s, int pad, uint64_t seed)
{
	size_t n = (size_t)s->B * s->L * s->H * s->dh;
	attn_in_t in = { randn(n, seed, 1.0f), randn(n, seed + 1, 1.0f), randn(n, seed + 2, 1.0f),
	                 randn(n, seed + 3, 0.5f), NULL, pad >= 0 ? padding_mask(s->B, s->L, pad) : NULL };
	if (s->kind == RF_ATTN_LSH) {
		size_t nrot = (size_t)s->H * s->dh * s->n_hashes * rf_attn_rot_cols(s);
		float *rot = randn(nrot, seed + 4, 1.0f);
		in.buckets = malloc((size_t)s->B * s->H * s->n_hashes * s->L * sizeof(uint16_t));
		ck_assert_ptr_nonnull(in.buckets);
		rf_backend_cpu()->lsh_hash(in.buckets, in.qk, rot, in.mask, s);
		free(rot);
	}
	return in;
}

static void attn_in_free(attn_in_t *in)
{
	free(in->qk); free(in->v); free(in->dout); free(in->g0); free(in->buckets); free(in->mask);
}

/* The CUDA attention against the CPU's, with the attention products in fp32
 * (tf32 0) or on TF32 tensor cores (tf32 1).
 * fp32: forward atol 2e-5, rtol 1e-4; backward atol 1e-4, rtol 1e-3 (sums
 * over up to a few hundred keys, in a different order than the CPU's BLAS).
 * TF32 keeps 10 mantissa bits, so scores move by about 1e-3: forward atol
 * 1e-2, rtol 1e-2; backward atol 3e-2, rtol 3e-2. A wrong index, mask or
 * window moves values by O(1). TF32 results must also repeat bitwise. */
static void expect_attn_close(const rf_attn_shape_t *s, int pad, uint64_t seed, int tf32)
{
	const rf_backend_t *g = tu_cuda(), *c = rf_backend_cpu();
	double fa = tf32 ? 1e-2 : 2e-5, fr = tf32 ? 1e-2 : 1e-4;
	double ba = tf32 ? 3e-2 : 1e-4, br = tf32 ? 3e-2 : 1e-3;
	size_t n = (size_t)s->B * s->L * s->H * s->dh;
	attn_in_t in = attn_inputs(s, pad, seed);
	rf_cuda_set_math(tf32);
	attn_res_t rg = run_attn(g, s, in.qk, in.v, in.buckets, in.mask, in.dout, in.g0);
	attn_res_t rc = run_attn(c, s, in.qk, in.v, in.buckets, in.mask, in.dout, in.g0);
	expect_close(rg.out, rc.out, n, fa, fr, "out");
	expect_close(rg.dv, rc.dv, n, ba, br, "dv");
	expect_close(rg.dqk, rc.dqk, n, ba, br, "dqk");
	if (tf32) {
		attn_res_t again = run_attn(g, s, in.qk, in.v, in.buckets, in.mask, in.dout, in.g0);
		expect_same(again.out, rg.out, n * sizeof(float), "tf32 attention out");
		expect_same(again.dqk, rg.dqk, n * sizeof(float), "tf32 attention dqk");
		expect_same(again.dv, rg.dv, n * sizeof(float), "tf32 attention dv");
		attn_res_free(&again);
	}
	rf_cuda_set_math(0);
	attn_res_free(&rg); attn_res_free(&rc); attn_in_free(&in);
}

static void expect_attn_parity(const rf_attn_shape_t *s, int pad, uint64_t seed)
{
	expect_attn_close(s, pad, seed, 0);
}

START_TEST(full_attention_matches_cpu)
{
	rf_attn_shape_t s = shape(RF_ATTN_FULL, 2, 50, 2, 16, 0, 0, 0, 1, 0, 0);
	expect_attn_parity(&s, -1, 100);
}
END_TEST

START_TEST(full_attention_matches_cpu_causal_with_padding)
{
	rf_attn_shape_t s = shape(RF_ATTN_FULL, 2, 77, 3, 40, 0, 0, 0, 1, 0, 1);
	expect_attn_parity(&s, 20, 110);
}
END_TEST

START_TEST(local_attention_matches_cpu_with_padding)
{
	rf_attn_shape_t s = shape(RF_ATTN_LOCAL, 2, 96, 2, 32, 16, 1, 1, 1, 0, 0);
	expect_attn_parity(&s, 30, 120);
}
END_TEST

START_TEST(local_attention_matches_cpu_causal)
{
	rf_attn_shape_t s = shape(RF_ATTN_LOCAL, 2, 64, 2, 16, 8, 1, 0, 1, 0, 1);
	expect_attn_parity(&s, 9, 130);
}
END_TEST

/* Two chunks seen before and after: the window wraps onto itself and each
 * chunk must count once. */
START_TEST(local_attention_matches_cpu_when_window_wraps)
{
	rf_attn_shape_t s = shape(RF_ATTN_LOCAL, 1, 48, 1, 8, 16, 2, 2, 1, 0, 0);
	expect_attn_parity(&s, -1, 140);
}
END_TEST

START_TEST(lsh_attention_matches_cpu_with_padding)
{
	rf_attn_shape_t s = shape(RF_ATTN_LSH, 2, 128, 2, 32, 16, 1, 0, 3, 0, 0);
	expect_attn_parity(&s, 25, 150);
}
END_TEST

START_TEST(lsh_attention_matches_cpu_causal_with_padding)
{
	rf_attn_shape_t s = shape(RF_ATTN_LSH, 2, 96, 3, 24, 12, 1, 1, 4, 0, 1);
	expect_attn_parity(&s, 13, 160);
}
END_TEST

/* The widest head the kernels take (128), and a chunk of 40 (tiles of 16
 * queries and 32 keys straddle it). */
START_TEST(lsh_attention_matches_cpu_for_wide_heads)
{
	rf_attn_shape_t s = shape(RF_ATTN_LSH, 1, 160, 1, 128, 40, 1, 0, 2, 0, 0);
	expect_attn_parity(&s, 7, 170);
}
END_TEST

/* L <= chunk_len: one round of full attention whatever n_hashes says. */
START_TEST(lsh_attention_matches_cpu_when_shorter_than_a_chunk)
{
	rf_attn_shape_t s = shape(RF_ATTN_LSH, 2, 30, 2, 16, 32, 1, 0, 4, 2, 0);
	expect_attn_parity(&s, 6, 180);
}
END_TEST

/* The benchmark's tiling: chunks of 64, 64 features (full 64-row tiles),
 * one chunk seen before, 4 rounds. */
START_TEST(lsh_attention_matches_cpu_at_model_shape)
{
	rf_attn_shape_t s = shape(RF_ATTN_LSH, 1, 1024, 2, 64, 64, 1, 0, 4, 0, 0);
	expect_attn_parity(&s, 50, 175);
}
END_TEST

/* 10 features: rows are gathered feature by feature (no float4 reads) and
 * padded to 16. */
START_TEST(lsh_attention_matches_cpu_for_odd_head_width)
{
	rf_attn_shape_t s = shape(RF_ATTN_LSH, 2, 96, 2, 10, 16, 1, 1, 2, 0, 1);
	expect_attn_parity(&s, 9, 177);
}
END_TEST

/* The TF32 products on every tiling: the model's shape; causal, padded, a
 * window on both sides with 24 features padded to 32; 128 features (32-row
 * tiles) with chunks of 40 that straddle them; FULL over 77 tokens (a tile
 * of 64 rows and one of 13); 10 features read one by one. */
START_TEST(attention_tf32_stays_close_to_cpu_and_repeats)
{
	rf_attn_shape_t cases[] = {
		shape(RF_ATTN_LSH, 1, 1024, 2, 64, 64, 1, 0, 4, 0, 0),
		shape(RF_ATTN_LSH, 2, 96, 3, 24, 12, 1, 1, 4, 0, 1),
		shape(RF_ATTN_LSH, 1, 160, 1, 128, 40, 1, 0, 2, 0, 0),
		shape(RF_ATTN_FULL, 2, 77, 3, 40, 0, 0, 0, 1, 0, 1),
		shape(RF_ATTN_LSH, 2, 96, 2, 10, 16, 1, 1, 2, 0, 1),
	};
	int pads[] = { 50, 13, 7, 20, 9 };
	for (int i = 0; i < 5; i++) expect_attn_close(&cases[i], pads[i], 176 + i, 1);
}
END_TEST

/* Every key masked: the -1e5 self score makes each token attend to itself
 * alone in each of the 4 rounds, so out = v, dv gains dout and dqk nothing
 * (replaced scores carry no gradient). atol 1e-6. */
START_TEST(lsh_attention_of_fully_masked_sequence_returns_own_values)
{
	const rf_backend_t *g = tu_cuda();
	enum { L = 64, DH = 16 };
	rf_attn_shape_t s = shape(RF_ATTN_LSH, 1, L, 1, DH, 8, 1, 0, 4, 0, 0);
	attn_in_t in = attn_inputs(&s, L, 190);
	attn_res_t r = run_attn(g, &s, in.qk, in.v, in.buckets, in.mask, in.dout, in.g0);
	float want_dv[L * DH];
	for (int i = 0; i < L * DH; i++) want_dv[i] = in.g0[i] + in.dout[i];
	expect_close(r.out, in.v, L * DH, 1e-6, 0, "out");
	expect_close(r.dv, want_dv, L * DH, 1e-6, 0, "dv");
	expect_close(r.dqk, in.g0, L * DH, 1e-6, 0, "dqk");
	attn_res_free(&r); attn_in_free(&in);
}
END_TEST

/* ---- determinism and memory ---- */

/* No atomics in attention, LayerNorm or bias gradients: bitwise repeats. */
START_TEST(attention_and_reductions_repeat_bitwise)
{
	const rf_backend_t *g = tu_cuda();
	rf_attn_shape_t s = shape(RF_ATTN_LSH, 2, 128, 2, 32, 16, 1, 0, 3, 0, 1);
	size_t n = (size_t)s.B * s.L * s.H * s.dh;
	attn_in_t in = attn_inputs(&s, 25, 200);
	attn_res_t a = run_attn(g, &s, in.qk, in.v, in.buckets, in.mask, in.dout, in.g0);
	attn_res_t b = run_attn(g, &s, in.qk, in.v, in.buckets, in.mask, in.dout, in.g0);
	expect_same(a.out, b.out, n * sizeof(float), "attention out");
	expect_same(a.dqk, b.dqk, n * sizeof(float), "attention dqk");
	expect_same(a.dv, b.dv, n * sizeof(float), "attention dv");
	attn_res_free(&a); attn_res_free(&b); attn_in_free(&in);

	float *x = randn(LN_N * LN_C, 10, 2.0f), *w = randn(LN_C, 11, 1.0f), *bb = randn(LN_C, 12, 1.0f);
	float *dout = randn(LN_N * LN_C, 13, 1.0f), *h1[6], *h2[6];
	size_t sz[6] = { LN_N * LN_C, LN_N, LN_N, LN_N * LN_C, LN_C, LN_C };
	for (int i = 0; i < 6; i++) { h1[i] = fbuf(sz[i]); h2[i] = fbuf(sz[i]); }
	run_layernorm(g, h1, x, w, bb, dout, dout);
	run_layernorm(g, h2, x, w, bb, dout, dout);
	for (int i = 0; i < 6; i++) expect_same(h1[i], h2[i], sz[i] * sizeof(float), "layernorm");
	for (int i = 0; i < 6; i++) { free(h1[i]); free(h2[i]); }
	free(x); free(w); free(bb); free(dout);
}
END_TEST

/* The workspace is linear in L: doubling L at most doubles it (plus the
 * sort's fixed part), never quadruples it. */
START_TEST(attention_workspace_grows_linearly_with_length)
{
	const rf_backend_t *g = tu_cuda();
	for (int kind = RF_ATTN_FULL; kind <= RF_ATTN_LSH; kind++) {
		rf_attn_shape_t a = shape(kind, 1, 16384, 4, 64, 64, 1, 0, 4, 0, 0);
		rf_attn_shape_t b = shape(kind, 1, 32768, 4, 64, 64, 1, 0, 4, 0, 0);
		size_t wa = g->attn_workspace(&a), wb = g->attn_workspace(&b);
		ck_assert_msg(wb <= 2 * wa + (1u << 20), "%s: workspace %zu at L=16384, %zu at L=32768",
		              kind == RF_ATTN_FULL ? "full" : kind == RF_ATTN_LOCAL ? "local" : "lsh", wa, wb);
	}
}
END_TEST

/* Without a visible GPU the backend says so instead of crashing. Needs a
 * fresh process (Check's fork): skipped under CK_FORK=no. */
/* Runs without a GPU: the table and its capability check are host code. */
START_TEST(cuda_table_fills_every_op_and_refuses_heads_wider_than_its_kernels)
{
	const rf_backend_t *be = rf_backend_cuda_table();
	char why[128] = "";
	tu_assert_table_filled(be);
	rf_attn_shape_t s = { .B = 1, .L = 64, .H = 2, .dh = 128, .kind = RF_ATTN_LSH, .chunk_len = 64, .n_hashes = 2 };
	ck_assert_int_eq(be->supports_attn(&s, why, sizeof why), 0);
	s.dh = 129;
	ck_assert_int_eq(be->supports_attn(&s, why, sizeof why), -1);
	ck_assert_str_eq(why, "attention head width 129 above 128");
}
END_TEST

START_TEST(missing_gpu_is_reported_clearly)
{
	const char *fork_mode = getenv("CK_FORK");
	if (fork_mode && strcmp(fork_mode, "no") == 0) return;
	setenv("CUDA_VISIBLE_DEVICES", "", 1);
	char err[256] = "";
	ck_assert_ptr_null(rf_backend_cuda(0, err, sizeof err));
	ck_assert_msg(strstr(err, "cuda:") && (strstr(err, "no usable GPU") || strstr(err, "no CUDA device")),
	              "message: %s", err);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cuda_ops");
	TCase *t = tcase_create("parity");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, cuda_table_fills_every_op_and_refuses_heads_wider_than_its_kernels);
	oc_case_t cases[OC_MAX_CASES];
	tcase_add_loop_test(t, op_table_matches_cpu, 0, oc_cases(&OC_PARITY_DIMS, cases));
	tcase_add_test(t, matmul_matches_cpu_for_every_transpose);
	tcase_add_test(t, matmul_tf32_switch_stays_close_and_switches_back);
	tcase_add_test(t, sum_and_sum_squares_match_cpu);
	tcase_add_test(t, lsh_hash_matches_cpu_with_factorised_buckets);
	tcase_add_test(t, full_attention_matches_cpu);
	tcase_add_test(t, full_attention_matches_cpu_causal_with_padding);
	tcase_add_test(t, local_attention_matches_cpu_with_padding);
	tcase_add_test(t, local_attention_matches_cpu_causal);
	tcase_add_test(t, local_attention_matches_cpu_when_window_wraps);
	tcase_add_test(t, lsh_attention_matches_cpu_with_padding);
	tcase_add_test(t, lsh_attention_matches_cpu_causal_with_padding);
	tcase_add_test(t, lsh_attention_matches_cpu_for_wide_heads);
	tcase_add_test(t, lsh_attention_matches_cpu_when_shorter_than_a_chunk);
	tcase_add_test(t, lsh_attention_matches_cpu_at_model_shape);
	tcase_add_test(t, lsh_attention_matches_cpu_for_odd_head_width);
	tcase_add_test(t, attention_tf32_stays_close_to_cpu_and_repeats);
	tcase_add_test(t, lsh_attention_of_fully_masked_sequence_returns_own_values);
	tcase_add_test(t, attention_and_reductions_repeat_bitwise);
	tcase_add_test(t, attention_workspace_grows_linearly_with_length);
	tcase_add_test(t, missing_gpu_is_reported_clearly);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return tu_run_suite(suite());
}
