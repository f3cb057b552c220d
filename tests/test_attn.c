/* CPU attention: lsh_hash, attn_forward against an independent dense
 * reference, attn_backward by central finite differences, and the
 * behaviours LSH attention promises (self only when alone, causality, more
 * rounds approach full attention). */
#include "model/cpu/cpu.h"
#include "model/rng.h"
#include "tests/gradcheck.h"
#include "tests/testutil.h"

#include <omp.h>

/* One attention call's inputs, random but reproducible. */
typedef struct {
	rf_attn_shape_t s;
	size_t n;                 /* B*L*H*dh */
	float *qk, *v, *dout;
	uint8_t *mask;
	uint16_t *buckets;
	void *work;
} case_t;

static void fill_normal(float *x, size_t n, uint64_t key, float scale)
{
	for (size_t i = 0; i < n; i++) x[i] = scale * rf_rng_normal(key, i);
}

/* A case of the given shape; sequence 1 ends with `pad` padding tokens,
 * buckets are random below n_buckets (padding in bucket n_buckets). */
static case_t make_case(rf_attn_shape_t s, int pad, uint64_t seed)
{
	case_t c;
	c.s = s;
	c.n = (size_t)s.B * s.L * s.H * s.dh;
	c.qk = malloc(c.n * sizeof(float));
	c.v = malloc(c.n * sizeof(float));
	c.dout = malloc(c.n * sizeof(float));
	c.mask = malloc((size_t)s.B * s.L);
	fill_normal(c.qk, c.n, seed * 4 + 1, 1.0f);
	fill_normal(c.v, c.n, seed * 4 + 2, 1.0f);
	fill_normal(c.dout, c.n, seed * 4 + 3, 1.0f);
	for (int b = 0; b < s.B; b++)
		for (int j = 0; j < s.L; j++) c.mask[b * s.L + j] = !(b == 1 && j >= s.L - pad);
	c.buckets = NULL;
	if (s.kind == RF_ATTN_LSH) {
		size_t nb = (size_t)s.B * s.H * s.n_hashes * s.L;
		c.buckets = malloc(nb * sizeof(uint16_t));
		for (size_t i = 0; i < nb; i++) {
			size_t b = i / ((size_t)s.H * s.n_hashes * s.L), j = i % s.L;
			c.buckets[i] = c.mask[b * s.L + j]
			             ? (uint16_t)(rf_rng_u64(seed * 4 + 4, i) % (uint64_t)s.n_buckets)
			             : (uint16_t)s.n_buckets;
		}
	}
	c.work = malloc(cpu_attn_workspace(&s));
	return c;
}

static void free_case(case_t *c)
{
	free(c->qk); free(c->v); free(c->dout); free(c->mask); free(c->buckets); free(c->work);
}

static rf_attn_shape_t shape(int kind, int L, int dh, int chunk, int before, int after,
                             int hashes, int buckets, int causal)
{
	rf_attn_shape_t s = { 2, L, 2, dh, kind, causal, chunk, before, after, hashes, buckets, buckets };
	return s;
}

static void forward(case_t *c, float *out)
{
	cpu_attn_forward(out, c->qk, c->v, c->buckets, c->mask, &c->s, c->work);
}

/* ------------------------------------------------ independent reference */

/* Positions of (b, h, round r) in the order the round attends in: stably
 * sorted by bucket for LSH (insertion sort), as they are otherwise. */
static void ref_order(const case_t *c, int b, int h, int r, int lsh, int *order)
{
	const rf_attn_shape_t *s = &c->s;
	for (int j = 0; j < s->L; j++) order[j] = j;
	if (!lsh) return;
	const uint16_t *bk = c->buckets + (((size_t)b * s->H + h) * s->n_hashes + r) * s->L;
	for (int i = 1; i < s->L; i++)
		for (int j = i; j > 0 && bk[order[j - 1]] > bk[order[j]]; j--) {
			int t = order[j]; order[j] = order[j - 1]; order[j - 1] = t;
		}
}

/* Dense attention in double with explicit loops over exactly the keys each
 * query sees, the masks applied by value, and rounds combined by their lse. */
static void ref_forward(const case_t *c, double *out)
{
	const rf_attn_shape_t *s = &c->s;
	int L = s->L, H = s->H, dh = s->dh, ld = H * dh;
	int dense = s->kind == RF_ATTN_FULL || L <= s->chunk_len;
	int lsh = !dense && s->kind == RF_ATTN_LSH, R = lsh ? s->n_hashes : 1;
	int cl = dense ? L : s->chunk_len, nc = L / cl;
	int *order = malloc(L * sizeof(int)), *keys = malloc(L * sizeof(int));
	double *o = malloc((size_t)R * L * dh * sizeof(double)), *lse = malloc((size_t)R * L * sizeof(double));
	double *khat = malloc((size_t)L * dh * sizeof(double)), *sc = malloc(L * sizeof(double));
	for (int b = 0; b < s->B; b++)
		for (int h = 0; h < H; h++) {
			const float *qk = c->qk + (size_t)b * L * ld + h * dh, *v = c->v + (size_t)b * L * ld + h * dh;
			for (int j = 0; j < L; j++) {
				double ss = 0;
				for (int d = 0; d < dh; d++) ss += (double)qk[j * ld + d] * qk[j * ld + d];
				for (int d = 0; d < dh; d++) khat[j * dh + d] = qk[j * ld + d] / sqrt(ss + 1e-12);
			}
			for (int r = 0; r < R; r++) {
				ref_order(c, b, h, r, lsh, order);
				for (int si = 0; si < L; si++) {
					int i = order[si], ch = si / cl, nk = 0, seen[64] = { 0 };
					int before = dense ? 0 : s->n_before, after = dense ? 0 : s->n_after;
					for (int off = -before; off <= after; off++) {
						int kc = ((ch + off) % nc + nc) % nc;
						if (seen[kc]) continue;
						seen[kc] = 1;
						for (int t = 0; t < cl; t++) keys[nk++] = order[kc * cl + t];
					}
					double m = -INFINITY, sum = 0;
					for (int t = 0; t < nk; t++) {
						int j = keys[t];
						double x = 0;
						for (int d = 0; d < dh; d++) x += (double)qk[i * ld + d] * khat[j * dh + d];
						if (j == i) x = -1e5;
						else if (!c->mask[b * L + j] || (s->causal && j > i)) x = -1e9;
						sc[t] = x;
						if (x > m) m = x;
					}
					for (int t = 0; t < nk; t++) sum += exp(sc[t] - m);
					double *oi = o + ((size_t)r * L + i) * dh;
					for (int d = 0; d < dh; d++) oi[d] = 0;
					for (int t = 0; t < nk; t++)
						for (int d = 0; d < dh; d++) oi[d] += exp(sc[t] - m) / sum * v[keys[t] * ld + d];
					lse[r * L + i] = m + log(sum);
				}
			}
			for (int i = 0; i < L; i++) {
				double m = -INFINITY, sum = 0;
				for (int r = 0; r < R; r++) if (lse[r * L + i] > m) m = lse[r * L + i];
				for (int r = 0; r < R; r++) sum += exp(lse[r * L + i] - m);
				double *dst = out + ((size_t)b * L + i) * ld + h * dh;
				for (int d = 0; d < dh; d++) dst[d] = 0;
				for (int r = 0; r < R; r++)
					for (int d = 0; d < dh; d++)
						dst[d] += exp(lse[r * L + i] - m - log(sum)) * o[((size_t)r * L + i) * dh + d];
			}
		}
	free(order); free(keys); free(o); free(lse); free(khat); free(sc);
}

/* attn_forward equals the reference within atol 1e-5, rtol 1e-4. */
static void check_against_reference(rf_attn_shape_t s, int pad, uint64_t seed)
{
	case_t c = make_case(s, pad, seed);
	float *out = malloc(c.n * sizeof(float));
	double *ref = malloc(c.n * sizeof(double));
	forward(&c, out);
	ref_forward(&c, ref);
	ck_assert_close_arr(out, ref, c.n, 1e-5, 1e-4);
	free(out); free(ref); free_case(&c);
}

/* ------------------------------------------------ finite differences */

typedef struct { case_t *c; float *out; } fd_t;

static double fd_loss(const float *x, void *ctx)
{
	fd_t *f = ctx;
	(void)x;   /* x is the case's own qk or v, perturbed in place */
	forward(f->c, f->out);
	return gc_dot(f->c->dout, f->out, f->c->n);
}

/* dqk and dv of attn_backward against central differences of sum(dout*out)
 * (tests/gradcheck.h: h 1e-3, atol 1e-3, rtol 1e-2); they accumulate, so
 * the analytic gradient is taken from buffers that start at 1. */
static void check_gradients(rf_attn_shape_t s, int pad, uint64_t seed)
{
	case_t c = make_case(s, pad, seed);
	float *dqk = malloc(c.n * sizeof(float)), *dv = malloc(c.n * sizeof(float));
	fd_t f = { &c, malloc(c.n * sizeof(float)) };
	for (size_t i = 0; i < c.n; i++) dqk[i] = dv[i] = 1.0f;
	cpu_attn_backward(dqk, dv, c.dout, c.qk, c.v, c.buckets, c.mask, &c.s, c.work);
	for (size_t i = 0; i < c.n; i++) { dqk[i] -= 1.0f; dv[i] -= 1.0f; }
	ck_assert_gradcheck("dqk", fd_loss, &f, c.qk, dqk, c.n);
	ck_assert_gradcheck("dv", fd_loss, &f, c.v, dv, c.n);
	free(dqk); free(dv); free(f.out); free_case(&c);
}

/* The cases every kind is checked on: padding in sequence 1, causal or not,
 * several windows and rounds; fd marks those small enough for finite
 * differences. */
typedef struct { int kind, L, dh, chunk, before, after, hashes, buckets, causal, pad, fd; } spec_t;

static const spec_t specs[] = {
	{ RF_ATTN_FULL, 16, 4, 0, 0, 0, 0, 0, 0, 5, 1 },
	{ RF_ATTN_FULL, 20, 8, 0, 0, 0, 0, 0, 1, 4, 1 },
	{ RF_ATTN_FULL, 150, 4, 0, 0, 0, 0, 0, 1, 17, 0 },   /* several query blocks */
	{ RF_ATTN_LOCAL, 24, 4, 4, 1, 0, 0, 0, 0, 5, 1 },
	{ RF_ATTN_LOCAL, 32, 8, 4, 1, 1, 0, 0, 1, 6, 1 },
	{ RF_ATTN_LOCAL, 24, 4, 8, 2, 1, 0, 0, 0, 9, 0 },
	{ RF_ATTN_LOCAL, 16, 4, 8, 1, 1, 0, 0, 0, 3, 1 },    /* 2 chunks: the window wraps onto one */
	{ RF_ATTN_LOCAL, 24, 4, 4, 2, 0, 0, 0, 1, 2, 1 },
	{ RF_ATTN_LOCAL, 8, 4, 8, 1, 0, 0, 0, 1, 2, 0 },     /* L <= chunk_len: full */
	{ RF_ATTN_LSH, 32, 8, 4, 1, 0, 1, 4, 0, 5, 0 },
	{ RF_ATTN_LSH, 32, 4, 4, 1, 0, 1, 4, 0, 5, 1 },
	{ RF_ATTN_LSH, 32, 4, 4, 1, 0, 3, 4, 1, 7, 1 },
	{ RF_ATTN_LSH, 32, 4, 8, 1, 1, 4, 8, 1, 6, 0 },
	{ RF_ATTN_LSH, 24, 8, 8, 1, 1, 2, 6, 0, 7, 1 },
	{ RF_ATTN_LSH, 24, 4, 4, 2, 1, 2, 6, 1, 4, 0 },
	{ RF_ATTN_LSH, 32, 4, 8, 0, 1, 4, 2, 1, 3, 1 },
	{ RF_ATTN_LSH, 8, 4, 8, 1, 0, 2, 2, 0, 2, 0 },       /* L <= chunk_len: full */
};

/* Runs check on every case of one kind (only the fd ones when fd_only). */
static void for_kind(int kind, int fd_only, void (*check)(rf_attn_shape_t, int, uint64_t))
{
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		const spec_t *c = &specs[i];
		if (c->kind == kind && (c->fd || !fd_only))
			check(shape(c->kind, c->L, c->dh, c->chunk, c->before, c->after, c->hashes,
			            c->buckets, c->causal), c->pad, 100 + i);
	}
}

/* _i runs over the kinds (RF_ATTN_FULL, RF_ATTN_LOCAL, RF_ATTN_LSH). */
START_TEST(forward_matches_dense_reference_for_each_kind)
{
	for_kind(_i, 0, check_against_reference);
}
END_TEST

START_TEST(backward_matches_finite_differences_for_each_kind)
{
	for_kind(_i, 1, check_gradients);
}
END_TEST

Suite *attn_suite(void)
{
	Suite *s = suite_create("attn");
	TCase *tc = tcase_create("attn");
	tcase_add_loop_test(tc, forward_matches_dense_reference_for_each_kind, RF_ATTN_FULL, RF_ATTN_LSH + 1);
	tcase_add_loop_test(tc, backward_matches_finite_differences_for_each_kind, RF_ATTN_FULL, RF_ATTN_LSH + 1);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(attn_suite());
	srunner_run_all(sr, CK_NORMAL);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
