/* The CPU backend's ops (model/cpu/ops.c): exact values on small hand-made
 * inputs, central finite differences for every backward (tests/gradcheck.h:
 * h 1e-3, atol 1e-3, rtol 1e-2), accumulation (+=) of every backward, and the
 * same results on one thread and two. */
#include <omp.h>
#include <stddef.h>

#include "model/cpu/cpu.h"
#include "model/rng.h"
#include "tests/gradcheck.h"
#include "tests/optable.h"
#include "tests/testutil.h"

/* Deterministic test data: scale * N(0,1) from the counter RNG. */
static float *randn(size_t n, uint64_t key, float scale)
{
	float *x = malloc(n * sizeof(float));
	ck_assert_ptr_nonnull(x);
	for (size_t i = 0; i < n; i++) x[i] = scale * rf_rng_normal(key, i);
	return x;
}

static float *zeros(size_t n)
{
	float *x = calloc(n ? n : 1, sizeof(float));
	ck_assert_ptr_nonnull(x);
	return x;
}

static float *copy_of(const float *x, size_t n)
{
	float *y = malloc(n * sizeof(float));
	ck_assert_ptr_nonnull(y);
	memcpy(y, x, n * sizeof(float));
	return y;
}

/* Element-wise bitwise equality, for results that must not depend on threads. */
static void assert_same(const float *a, const float *b, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(&a[i], &b[i], sizeof(float)) != 0)
			ck_abort_msg("%s differs at %zu: %.9g vs %.9g", what, i, a[i], b[i]);
}

/* ---- matmul ---- */

/* x rounded to bf16 (nearest even), as a float. */
static float bf16_round(float x)
{
	uint32_t u;
	memcpy(&u, &x, sizeof u);
	u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
	memcpy(&x, &u, sizeof x);
	return x;
}

/* cpu_matmul against a double-precision loop for all four transposes, with
 * alpha and beta. Tolerance atol 2e-6 K, rtol 1e-5: fp32 sums of K unit
 * normal products cancel down to small values with errors growing with K;
 * a misplaced block would be off by O(1). In precision bf16 the loop takes
 * the operands rounded to bf16 (whose products fp32 holds exactly), so
 * the same tolerance checks the rounding too. */
static void check_matmul(int M, int N, int K, const char *precision)
{
	float *A = randn((size_t)M * K, 1, 1.0f), *B = randn((size_t)K * N, 2, 1.0f);
	float *C0 = randn((size_t)M * N, 3, 1.0f), *Ar = copy_of(A, (size_t)M * K), *Br = copy_of(B, (size_t)K * N);
	double *ref = malloc((size_t)M * N * sizeof(double));
	float alpha = 0.5f, beta = 2.0f;
	char err[256] = "";
	ck_assert_ptr_nonnull(ref);
	ck_assert_msg(rf_backend_cpu()->set_precision(precision, err, sizeof err) == 0, "%s", err);
	for (size_t i = 0; strcmp(precision, "bf16") == 0 && i < (size_t)M * K; i++) Ar[i] = bf16_round(A[i]);
	for (size_t i = 0; strcmp(precision, "bf16") == 0 && i < (size_t)K * N; i++) Br[i] = bf16_round(B[i]);
	for (int ta = 0; ta < 2; ta++)
		for (int tb = 0; tb < 2; tb++) {
			float *C = copy_of(C0, (size_t)M * N);
			for (int i = 0; i < M; i++)
				for (int j = 0; j < N; j++) {
					double s = 0.0;
					for (int k = 0; k < K; k++)
						s += (double)(ta ? Ar[(size_t)k * M + i] : Ar[(size_t)i * K + k]) *
						     (tb ? Br[(size_t)j * K + k] : Br[(size_t)k * N + j]);
					ref[(size_t)i * N + j] = alpha * s + beta * C0[(size_t)i * N + j];
				}
			cpu_matmul(C, A, B, M, N, K, ta, tb, alpha, beta);
			ck_assert_close_arr(C, ref, (size_t)M * N, 2e-6 * K, 1e-5);
			free(C);
		}
	ck_assert(rf_backend_cpu()->set_precision("fp32", err, sizeof err) == 0);
	free(A); free(B); free(C0); free(Ar); free(Br); free(ref);
}

START_TEST(matmul_matches_naive_loop_for_all_transposes)
{
	check_matmul(5, 7, 3, "fp32");
}
END_TEST

/* Large enough for the OpenMP split: by rows (M >= N) and by columns. */
START_TEST(matmul_split_over_threads_matches_naive_loop)
{
	omp_set_num_threads(2);
	check_matmul(130, 60, 100, "fp32");
	check_matmul(50, 141, 100, "fp32");
	omp_set_num_threads(3);
	check_matmul(131, 2, 2100, "fp32");
}
END_TEST

/* Precision bf16 (oneDNN), where the CPU has AVX512-BF16: small and model
 * shapes, and a shape after others (cached primitives by shape). */
START_TEST(bf16_matmul_matches_naive_loop_on_rounded_operands)
{
	if (!cpu_bf16_supported()) {
		fprintf(stderr, "[test_ops] this CPU has no AVX512-BF16: bf16 matmul not tested\n");
		return;
	}
	omp_set_num_threads(2);
	check_matmul(5, 7, 3, "bf16");
	check_matmul(300, 64, 64, "bf16");
	check_matmul(77, 128, 64, "bf16");
	check_matmul(5, 7, 3, "bf16");
}
END_TEST

START_TEST(unknown_precision_is_refused_with_a_message)
{
	char err[256] = "";
	ck_assert_int_eq(rf_backend_cpu()->set_precision("tf32", err, sizeof err), -1);
	ck_assert_str_eq(err, "precision tf32: the CPU backend has fp32 and bf16");
}
END_TEST

/* ---- embedding ---- */

/* V = 4 tokens, D = 3, n2 = 2, d1 = 1: token v has row (10v, 10v+1, 10v+2),
 * pos1[a] = 100(a+1), pos2[q] = (1000(q+1), 1000(q+1)+1). */
START_TEST(embed_adds_token_and_axial_positions)
{
	const float tok[12] = { 0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32 };
	const float pos1[2] = { 100, 200 };
	const float pos2[4] = { 1000, 1001, 2000, 2001 };
	const int32_t tokens[6] = { 1, 3, 0, 2, 2, 1 };   /* B = 2, L = 3 */
	const float want[18] = {
		110, 1011, 1013,   130, 2031, 2033,   200, 1001, 1003,
		120, 1021, 1023,   120, 2021, 2023,   210, 1011, 1013 };
	float out[18];
	cpu_embed_forward(out, tokens, NULL, tok, pos1, pos2, 2, 3, 3, 2, 1);
	ck_assert_close_arr(out, want, 18, 0.0, 0.0);
}
END_TEST

/* ---- layernorm ---- */

START_TEST(layernorm_normalises_each_row_then_scales_and_shifts)
{
	/* Row (1,2,3,4): mean 2.5, variance 1.25; row (5,5,5,5): variance 0. */
	const float inp[8] = { 1, 2, 3, 4, 5, 5, 5, 5 };
	const float w[4] = { 1, 2, -1, 0.5f }, b[4] = { 0, 1, 0, -1 };
	float out[8], mean[2], rstd[2];
	double s = 1.0 / sqrt(1.25 + (double)RF_LN_EPS);
	const double want[8] = { -1.5 * s, 1 + 2 * -0.5 * s, -0.5 * s, -1 + 0.5 * 1.5 * s, 0, 1, 0, -1 };
	const double want_mean[2] = { 2.5, 5 }, want_rstd[2] = { s, 1.0 / sqrt((double)RF_LN_EPS) };
	cpu_layernorm_forward(out, mean, rstd, inp, w, b, 2, 4);
	ck_assert_close_arr(out, want, 8, 1e-6, 1e-6);
	ck_assert_close_arr(mean, want_mean, 2, 1e-6, 1e-6);
	ck_assert_close_arr(rstd, want_rstd, 2, 0.0, 1e-5);
}
END_TEST

/* ---- bias ---- */

START_TEST(bias_add_adds_to_every_row_and_backward_sums_rows)
{
	float x[6] = { 1, 2, 3, 4, 5, 6 };
	const float b[3] = { 10, 20, 30 }, want[6] = { 11, 22, 33, 14, 25, 36 };
	cpu_bias_add(x, b, 2, 3);
	ck_assert_close_arr(x, want, 6, 0.0, 0.0);
	float db[3] = { 1, 1, 1 };
	const float dout[6] = { 1, 2, 3, 4, 5, 6 }, want_db[3] = { 6, 8, 10 }, want_db2[3] = { 11, 15, 19 };
	cpu_bias_backward(db, dout, 2, 3);
	ck_assert_close_arr(db, want_db, 3, 0.0, 0.0);
	cpu_bias_backward(db, dout, 2, 3);
	ck_assert_close_arr(db, want_db2, 3, 0.0, 0.0);
}
END_TEST

/* ---- gelu ---- */

START_TEST(gelu_is_the_exact_erf_form)
{
	const float x[5] = { 0, 1, -1, 2, -3 };
	/* x * Phi(x) to double precision. */
	const double want[5] = { 0, 0.8413447460685429, -0.15865525393145707,
	                         1.9544997361036416, -0.0040497258630809 };
	float out[5];
	cpu_gelu_forward(out, x, 5);
	ck_assert_close_arr(out, want, 5, 1e-7, 1e-6);
}
END_TEST

/* ---- concat2 ---- */

START_TEST(concat2_joins_rows_and_backward_splits_them)
{
	const float a[4] = { 1, 2, 3, 4 }, b[4] = { 5, 6, 7, 8 };
	const float want[8] = { 1, 2, 5, 6, 3, 4, 7, 8 };
	float out[8], da[4] = { 0 }, db[4] = { 1, 1, 1, 1 };
	const float want_da[4] = { 1, 2, 3, 4 }, want_db[4] = { 6, 7, 8, 9 };
	cpu_concat2(out, a, b, 2, 2);
	ck_assert_close_arr(out, want, 8, 0.0, 0.0);
	cpu_concat2_backward(da, db, want, 2, 2);
	ck_assert_close_arr(da, want_da, 4, 0.0, 0.0);
	ck_assert_close_arr(db, want_db, 4, 0.0, 0.0);
}
END_TEST

/* ---- meanpool ---- */

START_TEST(meanpool_averages_masked_tokens_and_gives_zero_when_none)
{
	/* B = 3, L = 3, C = 2; sequence 2 has no real token. */
	const float inp[18] = { 1, 2, 3, 4, 100, 100,   5, 6, 7, 8, 9, 10,   1, 1, 1, 1, 1, 1 };
	const uint8_t mask[9] = { 1, 1, 0,   1, 1, 1,   0, 0, 0 };
	const float want[6] = { 2, 3, 7, 8, 0, 0 };
	float out[6];
	cpu_meanpool_forward(out, inp, mask, 3, 3, 2);
	ck_assert_close_arr(out, want, 6, 1e-6, 1e-6);
}
END_TEST

/* ---- gather / scatter ---- */

START_TEST(gather_rows_picks_rows_and_scatter_add_is_its_backward)
{
	const float inp[6] = { 1, 2, 3, 4, 5, 6 };
	const int32_t idx1[4] = { 2, 0, 2, 1 };
	const float want[8] = { 5, 6, 1, 2, 5, 6, 3, 4 };
	float out[8];
	cpu_gather_rows(out, inp, idx1, 4, 2);
	ck_assert_close_arr(out, want, 8, 0.0, 0.0);
	float dinp[6] = { 0 };
	const float want_d[6] = { 1, 2, 3, 4, 10, 12 };   /* rows 0 and 2 of dout (= want) both land on row 2 */
	cpu_scatter_add_rows(dinp, want, idx1, 4, 2);
	ck_assert_close_arr(dinp, want_d, 6, 0.0, 0.0);
}
END_TEST

/* ---- cross-entropy ---- */

START_TEST(xent_gives_stable_softmax_and_ignores_negative_targets)
{
	/* Row 0: logits (1,2,3) target 2; row 1: (1000,1000,-1000) target 0 must
	 * not overflow; row 2: target -1 has loss 0. */
	const float logits[9] = { 1, 2, 3, 1000, 1000, -1000, 0, 0, 0 };
	const int32_t tgt[3] = { 2, 0, -1 };
	double z = exp(1.0) + exp(2.0) + exp(3.0);
	const double want_loss[3] = { log(z) - 3.0, log(2.0), 0.0 };
	const double want_p[9] = { exp(1.0) / z, exp(2.0) / z, exp(3.0) / z, 0.5, 0.5, 0,
	                           1.0 / 3, 1.0 / 3, 1.0 / 3 };
	float loss[3], probs[9];
	cpu_xent_forward(loss, probs, logits, tgt, 3, 3);
	ck_assert_close_arr(loss, want_loss, 3, 1e-6, 1e-6);
	ck_assert_close_arr(probs, want_p, 9, 1e-7, 1e-6);

	float d[9] = { 0 };
	const double want_d[9] = { 0.5 * want_p[0], 0.5 * want_p[1], 0.5 * (want_p[2] - 1),
	                           0.5 * (0.5 - 1), 0.25, 0, 0, 0, 0 };
	cpu_xent_backward(d, probs, tgt, 0.5f, 3, 3);
	ck_assert_close_arr(d, want_d, 9, 1e-7, 1e-6);
}
END_TEST

/* ---- dropout ---- */

START_TEST(dropout_keeps_one_minus_p_and_scales_the_kept)
{
	enum { n = 100000 };
	const float p = 0.3f;
	float *x = zeros(n);
	for (size_t i = 0; i < n; i++) x[i] = 1.0f;
	cpu_dropout(x, n, p, 42, 0);
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (x[i] != 0.0f) {
			ck_assert_float_eq(x[i], 1.0f / (1.0f - p));
			kept++;
		}
	}
	/* Standard error sqrt(0.21 / 1e5) = 0.0015: 0.01 is ~7 of them. */
	ck_assert_msg(fabs((double)kept / n - 0.7) < 0.01, "kept fraction %g", (double)kept / n);
	free(x);
}
END_TEST

START_TEST(dropout_backward_uses_the_forward_mask)
{
	enum { n = 5000 };
	float *x = randn(n, 80, 1.0f), *g = randn(n, 81, 1.0f), *g0 = copy_of(g, n), *x0 = copy_of(x, n);
	cpu_dropout(x, n, 0.5f, 7, 123);
	cpu_dropout(g, n, 0.5f, 7, 123);
	for (size_t i = 0; i < n; i++) {
		ck_assert_float_eq(x[i], x[i] == 0.0f ? 0.0f : x0[i] * 2.0f);
		ck_assert_float_eq(g[i], x[i] == 0.0f ? 0.0f : g0[i] * 2.0f);
	}
	free(x); free(g); free(g0); free(x0);
}
END_TEST

START_TEST(dropout_with_p_zero_is_the_identity)
{
	enum { n = 1000 };
	float *x = randn(n, 82, 1.0f), *x0 = copy_of(x, n);
	cpu_dropout(x, n, 0.0f, 9, 0);
	assert_same(x, x0, n, "dropout p=0");
	free(x); free(x0);
}
END_TEST

START_TEST(dropout_mask_depends_only_on_key_and_offset)
{
	enum { n = 70000, k = 33333 };
	float *a = zeros(n), *b = zeros(n), *c = zeros(n);
	for (size_t i = 0; i < n; i++) a[i] = b[i] = c[i] = 1.0f;
	cpu_dropout(a, n, 0.2f, 5, 1000);
	cpu_dropout(b, n, 0.2f, 5, 1000);
	assert_same(a, b, n, "same key, same call");
	/* The same tensor in two chunks, each at its own offset. */
	cpu_dropout(c, k, 0.2f, 5, 1000);
	cpu_dropout(c + k, n - k, 0.2f, 5, 1000 + k);
	assert_same(a, c, n, "chunked against whole");
	for (size_t i = 0; i < n; i++) b[i] = 1.0f;
	cpu_dropout(b, n, 0.2f, 6, 1000);
	size_t diff = 0;
	for (size_t i = 0; i < n; i++) diff += a[i] != b[i];
	ck_assert_msg(diff > n / 10, "another key changes only %zu of %d elements", diff, n);
	free(a); free(b); free(c);
}
END_TEST

/* ---- axpy, scale, sums ---- */

START_TEST(axpy_scale_and_sums_give_exact_small_results)
{
	float y[3] = { 1, 2, 3 };
	const float x[3] = { 1, -1, 2 }, want_y[3] = { 3, 0, 7 }, want_s[3] = { 1.5f, 0, 3.5f };
	cpu_axpy(y, x, 2.0f, 3);
	ck_assert_close_arr(y, want_y, 3, 0.0, 0.0);
	cpu_scale(y, 0.5f, 3);
	ck_assert_close_arr(y, want_s, 3, 0.0, 0.0);
	ck_assert_double_eq(cpu_sum(x, 3), 2.0);
	ck_assert_double_eq(cpu_sum_squares(x, 3), 6.0);
	ck_assert_double_eq(cpu_sum(x, 0), 0.0);
}
END_TEST

START_TEST(sums_are_in_double_over_many_blocks)
{
	/* 1 + e (n-1) with e = 1e-4: float accumulation would be off by ~1e-3,
	 * double is within 1e-10. */
	enum { n = 3 * 65536 + 17 };
	const double e = 1e-4f;
	float *x = zeros(n);
	x[0] = 1.0f;
	for (size_t i = 1; i < n; i++) x[i] = (float)e;
	ck_assert_double_eq_tol(cpu_sum(x, n), 1.0 + e * (n - 1), 1e-10);
	ck_assert_double_eq_tol(cpu_sum_squares(x, n), 1.0 + e * e * (n - 1), 1e-10);
	free(x);
}
END_TEST

/* ---- adamw ---- */

START_TEST(adamw_matches_a_double_precision_step)
{
	enum { n = 4 };
	float p[n] = { 1.0f, -0.5f, 0.25f, 2.0f }, m[n] = { 0 }, v[n] = { 0 };
	const float g1[n] = { 0.1f, -0.2f, 0.0f, 3.0f }, g2[n] = { -0.3f, 0.1f, 0.05f, 1.0f };
	/* The hyper-parameters as the op sees them, in float. */
	const double lr = 1e-2f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 0.1f;
	double P[n], Mo[n] = { 0 }, Vo[n] = { 0 };
	for (int i = 0; i < n; i++) P[i] = p[i];
	for (int step = 1; step <= 2; step++) {
		const float *g = step == 1 ? g1 : g2;
		double bc1 = (float)(1 - pow(b1, step)), bc2 = (float)(1 - pow(b2, step));
		for (int i = 0; i < n; i++) {
			Mo[i] = b1 * Mo[i] + (1 - b1) * g[i];
			Vo[i] = b2 * Vo[i] + (1 - b2) * (double)g[i] * g[i];
			P[i] -= lr * (Mo[i] / bc1 / (sqrt(Vo[i] / bc2) + eps) + wd * P[i]);
		}
		cpu_adamw(p, g, m, v, n, (float)lr, (float)b1, (float)b2, (float)eps, (float)wd,
		          (float)bc1, (float)bc2);
		ck_assert_close_arr(p, P, n, 1e-7, 1e-6);
		ck_assert_close_arr(m, Mo, n, 1e-9, 1e-6);
		ck_assert_close_arr(v, Vo, n, 1e-12, 1e-6);
	}
}
END_TEST

/* ---- rng_normal ---- */

START_TEST(rng_normal_has_zero_mean_unit_variance_and_is_the_rng_stream)
{
	enum { n = 100000 };
	float *x = zeros(n);
	cpu_rng_normal(x, n, 99);
	double s = 0.0, s2 = 0.0;
	for (size_t i = 0; i < n; i++) {
		ck_assert_float_eq(x[i], rf_rng_normal(99, i));
		s += x[i];
		s2 += (double)x[i] * x[i];
	}
	double mean = s / n, var = s2 / n - mean * mean;
	/* Standard errors: mean 0.0032, variance 0.0045. */
	ck_assert_msg(fabs(mean) < 0.02, "mean %g", mean);
	ck_assert_msg(fabs(var - 1.0) < 0.03, "variance %g", var);
	free(x);
}
END_TEST

/* ---- thread count independence ---- */

/* The big-size paths (OpenMP on) of the ops that sum over rows must give the
 * same bits on one thread and on two. */
START_TEST(row_reductions_do_not_depend_on_thread_count)
{
	enum { B = 2, L = 4096, D = 24, V = 7, n2 = 64, d1 = 16, N = B * L };
	int32_t *tokens = malloc(N * sizeof(int32_t));
	uint8_t *mask = malloc(N);
	ck_assert_ptr_nonnull(tokens);
	ck_assert_ptr_nonnull(mask);
	for (int i = 0; i < N; i++) {
		tokens[i] = (int32_t)(rf_rng_u64(90, i) % V);
		mask[i] = rf_rng_u64(91, i) % 4 != 0;
	}
	float *x = randn(N * D, 92, 1.0f), *g = randn(N * D, 93, 1.0f), *w = randn(D, 94, 1.0f);
	float *mean = zeros(N), *rstd = zeros(N), *out = zeros(N * D);
	float *r[2][7];
	double sums[2][2];
	cpu_layernorm_forward(out, mean, rstd, x, w, w, N, D);
	for (int t = 0; t < 2; t++) {
		omp_set_num_threads(t + 1);
		for (int k = 0; k < 7; k++) r[t][k] = zeros(N * D);
		cpu_layernorm_backward(r[t][0], r[t][1], r[t][2], g, x, w, mean, rstd, N, D);
		cpu_bias_backward(r[t][3], g, N, D);
		cpu_embed_backward(r[t][4], r[t][5], r[t][5] + (L / n2) * d1, g, tokens, NULL, B, L, D, n2, d1);
		cpu_scatter_add_rows(r[t][6], g, tokens, N, D);
		cpu_meanpool_forward(r[t][6] + V * D, x, mask, B, L, D);
		sums[t][0] = cpu_sum(g, N * D);
		sums[t][1] = cpu_sum_squares(g, N * D);
	}
	const char *what[7] = { "layernorm dinp", "layernorm dw", "layernorm db", "bias_backward",
	                        "embed dtok_emb", "embed dpos", "scatter_add_rows, meanpool" };
	for (int k = 0; k < 7; k++) assert_same(r[0][k], r[1][k], N * D, what[k]);
	ck_assert(sums[0][0] == sums[1][0] && sums[0][1] == sums[1][1]);
	for (int t = 0; t < 2; t++)
		for (int k = 0; k < 7; k++) free(r[t][k]);
	free(tokens); free(mask); free(x); free(g); free(w); free(mean); free(rstd); free(out);
}
END_TEST

/* ---- backend selection ---- */

START_TEST(backend_get_gives_the_cpu_table_with_every_op)
{
	char err[256] = "";
	const rf_backend_t *be = rf_backend_get("cpu", err, sizeof err);
	ck_assert_ptr_eq(be, rf_backend_cpu());
	ck_assert_str_eq(be->name, "cpu");
	tu_assert_table_filled(be);
	/* And it computes through the table: 2x2 product. */
	rf_cpu_set_threads(2);
	float *m = be->alloc(8 * sizeof(float));
	const float a[4] = { 1, 2, 3, 4 }, want[4] = { 7, 10, 15, 22 };
	be->upload(m, a, sizeof a);
	be->matmul(m + 4, m, m, 2, 2, 2, 0, 0, 1.0f, 0.0f);
	float got[4];
	be->download(got, m + 4, sizeof got);
	ck_assert_close_arr(got, want, 4, 0.0, 0.0);
	be->free(m);
}
END_TEST

START_TEST(backend_get_explains_missing_cuda_and_unknown_names)
{
	char err[256] = "";
	const rf_backend_t *be = rf_backend_get("cuda", err, sizeof err);
#ifdef RF_CUDA
	ck_assert_msg(be != NULL || err[0], "no backend and no message");
#else
	ck_assert_ptr_null(be);
	ck_assert_msg(strstr(err, "built without CUDA: rebuild with make CUDA=1"), "message: %s", err);
#endif
	err[0] = 0;
	ck_assert_ptr_null(rf_backend_get("tpu", err, sizeof err));
	ck_assert_msg(strstr(err, "unknown backend 'tpu'"), "message: %s", err);
}
END_TEST

START_TEST(device_values_name_a_backend_or_say_what_is_accepted)
{
	char err[256] = "", note[256] = "x";
	const char *good[] = { "cpu", "cuda", "cuda:0", "cuda:3", "auto" };
	const char *bad[] = { "gpu", "cuda:", "cuda:x", "cuda:-1", "cuda:1x", "cuda0", "CPU", "" };
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		ck_assert_msg(rf_device_check(good[i], err, sizeof err) == 0, "%s: %s", good[i], err);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		ck_assert_msg(rf_device_check(bad[i], err, sizeof err) == -1, "'%s' accepted", bad[i]);
		ck_assert_msg(strstr(err, "expects cpu, cuda, cuda:N (GPU N, from 0) or auto"), "%s", err);
		ck_assert_ptr_null(rf_device_backend(bad[i], note, sizeof note, err, sizeof err));
	}
	ck_assert_ptr_eq(rf_device_backend("cpu", note, sizeof note, err, sizeof err), rf_backend_cpu());
	ck_assert_str_eq(note, "");
	ck_assert_ptr_nonnull(rf_device_backend("auto", note, sizeof note, err, sizeof err));
#ifndef RF_CUDA
	/* a CPU-only build has nothing to explain about auto */
	ck_assert_ptr_eq(rf_device_backend("auto", note, sizeof note, err, sizeof err), rf_backend_cpu());
	ck_assert_str_eq(note, "");
	ck_assert_ptr_null(rf_device_backend("cuda:1", note, sizeof note, err, sizeof err));
	ck_assert_msg(strstr(err, "--device cuda:1: built without CUDA"), "%s", err);
#endif
}
END_TEST

/* ---- the op-case table (tests/opcases.h) ---- */

/* _i runs over the cases; the forward-only ones have nothing to check. */
START_TEST(op_table_backward_matches_finite_differences_and_accumulates)
{
	oc_case_t c[OC_MAX_CASES];
	oc_cases(&OC_GRADCHECK_DIMS, c);
	if (c[_i].backward) oc_assert_gradients(&c[_i]);
}
END_TEST

/* The driver the CUDA suite compares with: the CPU against itself agrees
 * on every case, at the parity sizes. */
START_TEST(op_table_parity_driver_finds_the_cpu_equal_to_itself)
{
	oc_case_t c[OC_MAX_CASES];
	oc_cases(&OC_PARITY_DIMS, c);
	oc_assert_parity(rf_backend_cpu(), &c[_i]);
}
END_TEST

static Suite *ops_suite(void)
{
	Suite *s = suite_create("ops");
	TCase *tc = tcase_create("cpu");
	tcase_add_test(tc, matmul_matches_naive_loop_for_all_transposes);
	tcase_add_test(tc, matmul_split_over_threads_matches_naive_loop);
	tcase_add_test(tc, bf16_matmul_matches_naive_loop_on_rounded_operands);
	tcase_add_test(tc, unknown_precision_is_refused_with_a_message);
	tcase_add_test(tc, embed_adds_token_and_axial_positions);
	tcase_add_test(tc, layernorm_normalises_each_row_then_scales_and_shifts);
	tcase_add_test(tc, bias_add_adds_to_every_row_and_backward_sums_rows);
	tcase_add_test(tc, gelu_is_the_exact_erf_form);
	tcase_add_test(tc, concat2_joins_rows_and_backward_splits_them);
	tcase_add_test(tc, meanpool_averages_masked_tokens_and_gives_zero_when_none);
	tcase_add_test(tc, gather_rows_picks_rows_and_scatter_add_is_its_backward);
	tcase_add_test(tc, xent_gives_stable_softmax_and_ignores_negative_targets);
	tcase_add_test(tc, dropout_keeps_one_minus_p_and_scales_the_kept);
	tcase_add_test(tc, dropout_backward_uses_the_forward_mask);
	tcase_add_test(tc, dropout_with_p_zero_is_the_identity);
	tcase_add_test(tc, dropout_mask_depends_only_on_key_and_offset);
	tcase_add_test(tc, axpy_scale_and_sums_give_exact_small_results);
	tcase_add_test(tc, sums_are_in_double_over_many_blocks);
	tcase_add_test(tc, adamw_matches_a_double_precision_step);
	tcase_add_test(tc, rng_normal_has_zero_mean_unit_variance_and_is_the_rng_stream);
	tcase_add_test(tc, row_reductions_do_not_depend_on_thread_count);
	tcase_add_test(tc, backend_get_gives_the_cpu_table_with_every_op);
	tcase_add_test(tc, backend_get_explains_missing_cuda_and_unknown_names);
	tcase_add_test(tc, device_values_name_a_backend_or_say_what_is_accepted);
	oc_case_t cases[OC_MAX_CASES];
	int n_cases = oc_cases(&OC_GRADCHECK_DIMS, cases);
	tcase_add_loop_test(tc, op_table_backward_matches_finite_differences_and_accumulates, 0, n_cases);
	tcase_add_loop_test(tc, op_table_parity_driver_finds_the_cpu_equal_to_itself, 0, n_cases);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(ops_suite());
}
