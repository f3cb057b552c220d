/* CPU ops of the backend table except attention (attn.c): OpenBLAS for
 * matrix products, plain loops with OpenMP for the rest.
 *
 * Reductions are deterministic whatever the thread count: a sum over rows is
 * split by columns (each thread owns a column range and adds the rows in
 * order), and scalar sums add fixed-size block partials in block order. */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "model/cpu/cpu.h"
#include "model/rng.h"

/* Below this many elements a loop runs on one thread: starting a team costs
 * more than it saves. */
#define CPU_PAR_MIN (1 << 15)
/* Elements per partial of sum and sum_squares. */
#define CPU_SUM_BLOCK (1 << 16)

/* This thread's share [*lo, *hi) of n columns inside a parallel region. */
static void cpu_my_range(int n, int *lo, int *hi)
{
	int t = omp_get_thread_num(), nt = omp_get_num_threads();
	*lo = (int)((long long)n * t / nt);
	*hi = (int)((long long)n * (t + 1) / nt);
}

/* OpenBLAS runs single-threaded inside our OpenMP threads: with its own
 * pthread pool, its spinning workers and libgomp's compete for the cores at
 * every switch between a product and an elementwise op (measured on 2 cores:
 * interleaved products and elementwise ops took 1.5-2x longer). */
static pthread_once_t cpu_blas_once = PTHREAD_ONCE_INIT;
static void cpu_blas_single(void) { openblas_set_num_threads(1); }

static int cpu_bf16_on;

void cpu_matmul_use_bf16(int on)
{
	cpu_bf16_on = on;
}

void cpu_matmul(float *C, const float *A, const float *B, int M, int N, int K,
                int ta, int tb, float alpha, float beta)
{
	if (cpu_bf16_on) {
		cpu_bf16_matmul(C, A, B, M, N, K, ta, tb, alpha, beta);
		return;
	}
	pthread_once(&cpu_blas_once, cpu_blas_single);
	int lda = ta ? M : K, ldb = tb ? K : N;
	/* Each thread computes a block of rows of C, or of columns when C is wide. */
	int by_rows = M >= N;
	#pragma omp parallel if ((long long)M * N * K > CPU_PAR_MIN * 16)
	{
		int lo, hi;
		cpu_my_range(by_rows ? M : N, &lo, &hi);
		if (hi > lo) {
			const float *a = by_rows ? A + (ta ? (size_t)lo : (size_t)lo * K) : A;
			const float *b = by_rows ? B : B + (tb ? (size_t)lo * K : (size_t)lo);
			float *c = C + (by_rows ? (size_t)lo * N : (size_t)lo);
			cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
			            by_rows ? hi - lo : M, by_rows ? N : hi - lo, K, alpha, a, lda, b, ldb,
			            beta, c, N);
		}
	}
}

void cpu_embed_forward(float *out, const int32_t *tokens, const int32_t *pos, const float *tok_emb,
                       const float *pos1, const float *pos2, int B, int L, int D, int n2, int d1)
{
	int d2 = D - d1;
	#pragma omp parallel for schedule(static) if ((long long)B * L * D > CPU_PAR_MIN)
	for (long long r = 0; r < (long long)B * L; r++) {
		int j = pos ? pos[r] : (int)(r % L);
		float *o = out + r * D;
		const float *t = tok_emb + (size_t)tokens[r] * D;
		const float *p1 = pos1 + (size_t)(j / n2) * d1;
		const float *p2 = pos2 + (size_t)(j % n2) * d2;
		for (int c = 0; c < d1; c++) o[c] = t[c] + p1[c];
		for (int c = 0; c < d2; c++) o[d1 + c] = t[d1 + c] + p2[c];
	}
}

void cpu_embed_backward(float *dtok_emb, float *dpos1, float *dpos2, const float *dout,
                        const int32_t *tokens, const int32_t *pos, int B, int L, int D, int n2, int d1)
{
	int d2 = D - d1;
	/* Rows of one token (or position) repeat: split by columns, rows in order. */
	#pragma omp parallel if ((long long)B * L * D > CPU_PAR_MIN)
	{
		int lo, hi;
		cpu_my_range(D, &lo, &hi);
		for (long long r = 0; r < (long long)B * L; r++) {
			int j = pos ? pos[r] : (int)(r % L);
			const float *g = dout + r * D;
			float *t = dtok_emb + (size_t)tokens[r] * D;
			float *p1 = dpos1 + (size_t)(j / n2) * d1;
			float *p2 = dpos2 + (size_t)(j % n2) * d2;
			for (int c = lo; c < hi; c++) t[c] += g[c];
			for (int c = lo; c < hi && c < d1; c++) p1[c] += g[c];
			for (int c = lo > d1 ? lo : d1; c < hi; c++) p2[c - d1] += g[c];
		}
	}
}

/* One row of LayerNorm (rows run in parallel, each whole on one thread). */
CPU_SIMD static void cpu_layernorm_row(float *o, float *mean, float *rstd, const float *x,
                                       const float *w, const float *b, int C)
{
	float m = cpu_lane_sum(x, C, 0.0f, 0) / C;
	float s = 1.0f / sqrtf(cpu_lane_sum(x, C, m, 1) / C + RF_LN_EPS);
#pragma omp simd
	for (int c = 0; c < C; c++) o[c] = (x[c] - m) * s * w[c] + b[c];
	*mean = m;
	*rstd = s;
}

void cpu_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                           const float *w, const float *b, int N, int C)
{
	#pragma omp parallel for schedule(static) if ((long long)N * C > CPU_PAR_MIN)
	for (int n = 0; n < N; n++)
		cpu_layernorm_row(out + (size_t)n * C, mean + n, rstd + n, inp + (size_t)n * C, w, b, C);
}

void cpu_layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                            const float *inp, const float *w, const float *mean,
                            const float *rstd, int N, int C)
{
	int par = (long long)N * C > CPU_PAR_MIN;
	#pragma omp parallel for schedule(static) if (par)
	for (int n = 0; n < N; n++) {
		const float *x = inp + (size_t)n * C, *g = dout + (size_t)n * C;
		float *dx = dinp + (size_t)n * C;
		float m = mean[n], s = rstd[n], dmean = 0.0f, dnorm = 0.0f;
		for (int c = 0; c < C; c++) {
			float gw = w[c] * g[c];
			dmean += gw;
			dnorm += gw * (x[c] - m) * s;
		}
		dmean /= C;
		dnorm /= C;
		for (int c = 0; c < C; c++)
			dx[c] += (w[c] * g[c] - dmean - (x[c] - m) * s * dnorm) * s;
	}
	#pragma omp parallel if (par)
	{
		int lo, hi;
		cpu_my_range(C, &lo, &hi);
		for (int n = 0; n < N; n++) {
			const float *x = inp + (size_t)n * C, *g = dout + (size_t)n * C;
			float m = mean[n], s = rstd[n];
			for (int c = lo; c < hi; c++) {
				dw[c] += (x[c] - m) * s * g[c];
				db[c] += g[c];
			}
		}
	}
}

CPU_SIMD static void cpu_bias_row(float *r, const float *b, int C)
{
#pragma omp simd
	for (int c = 0; c < C; c++) r[c] += b[c];
}

void cpu_bias_add(float *x, const float *b, int N, int C)
{
	#pragma omp parallel for schedule(static) if ((long long)N * C > CPU_PAR_MIN)
	for (int n = 0; n < N; n++) cpu_bias_row(x + (size_t)n * C, b, C);
}

void cpu_bias_backward(float *db, const float *dout, int N, int C)
{
	#pragma omp parallel if ((long long)N * C > CPU_PAR_MIN)
	{
		int lo, hi;
		cpu_my_range(C, &lo, &hi);
		for (int n = 0; n < N; n++) {
			const float *g = dout + (size_t)n * C;
			for (int c = lo; c < hi; c++) db[c] += g[c];
		}
	}
}

/* The elementwise loops below avoid float comparisons: under the default
 * -ftrapping-math GCC will not if-convert them, and the loops would not
 * vectorise. Selections use sign bits and integer compares instead. */

/* |x| capped at 12.5 (beyond it Phi(x) is 0 or 1 in float and the exp
 * arguments below stay above -87), divided by sqrt(2); *neg = 1 for x < 0. */
static inline float cpu_gelu_z(float x, float *neg)
{
	uint32_t b;
	memcpy(&b, &x, sizeof b);
	*neg = (float)(b >> 31);
	int32_t a = (int32_t)(b & 0x7fffffffu), cap = 0x41480000;   /* 12.5f */
	a = a < cap ? a : cap;
	float ax;
	memcpy(&ax, &a, sizeof ax);
	return ax * (float)M_SQRT1_2;
}

/* Standard normal CDF at x = +-z sqrt(2) through erfc (Numerical Recipes'
 * erfcc, relative error below 1.2e-7 everywhere: the tails stay accurate). */
static inline float cpu_normal_cdf(float z, float neg)
{
	float t = 1.0f / (1.0f + 0.5f * z);
	float p = 0.17087277f;
	p = p * t - 0.82215223f;
	p = p * t + 1.48851587f;
	p = p * t - 1.13520398f;
	p = p * t + 0.27886807f;
	p = p * t - 0.18628806f;
	p = p * t + 0.09678418f;
	p = p * t + 0.37409196f;
	p = p * t + 1.00002368f;
	float tail = 0.5f * t * cpu_expf(p * t - 1.26551223f - z * z);   /* Phi(-|x|) */
	return neg * tail + (1.0f - neg) * (1.0f - tail);
}

/* Elementwise ops run over spans of CPU_SPAN elements, in parallel, each
 * span in the widest vector clone this CPU has. */
#define CPU_SPAN 4096

CPU_SIMD static void cpu_gelu_span(float *out, const float *inp, size_t n)
{
#pragma omp simd
	for (size_t i = 0; i < n; i++) {
		float neg, z = cpu_gelu_z(inp[i], &neg);
		out[i] = inp[i] * cpu_normal_cdf(z, neg);
	}
}

CPU_SIMD static void cpu_gelu_backward_span(float *dinp, const float *inp, const float *dout, size_t n)
{
	const float inv_sqrt_2pi = (float)(0.5 * M_2_SQRTPI * M_SQRT1_2);
#pragma omp simd
	for (size_t i = 0; i < n; i++) {
		float x = inp[i], neg, z = cpu_gelu_z(x, &neg);
		dinp[i] += dout[i] * (cpu_normal_cdf(z, neg) + x * inv_sqrt_2pi * cpu_expf(-z * z));
	}
}

void cpu_gelu_forward(float *out, const float *inp, size_t n)
{
	#pragma omp parallel for schedule(static) if (n > CPU_PAR_MIN)
	for (size_t i0 = 0; i0 < n; i0 += CPU_SPAN)
		cpu_gelu_span(out + i0, inp + i0, n - i0 < CPU_SPAN ? n - i0 : CPU_SPAN);
}

void cpu_gelu_backward(float *dinp, const float *inp, const float *dout, size_t n)
{
	#pragma omp parallel for schedule(static) if (n > CPU_PAR_MIN)
	for (size_t i0 = 0; i0 < n; i0 += CPU_SPAN)
		cpu_gelu_backward_span(dinp + i0, inp + i0, dout + i0, n - i0 < CPU_SPAN ? n - i0 : CPU_SPAN);
}

void cpu_dropout(float *x, size_t n, float p, uint64_t key, uint64_t offset)
{
	if (p <= 0.0f) return;
	float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
	#pragma omp parallel for schedule(static) if (n > CPU_PAR_MIN)
	for (size_t i = 0; i < n; i++)
		x[i] = rf_rng_uniform(key, offset + i) >= p ? x[i] * scale : 0.0f;
}

void cpu_axpy(float *y, const float *x, float alpha, size_t n)
{
	#pragma omp parallel for schedule(static) if (n > CPU_PAR_MIN)
	for (size_t i = 0; i < n; i++) y[i] += alpha * x[i];
}

void cpu_scale(float *x, float alpha, size_t n)
{
	#pragma omp parallel for schedule(static) if (n > CPU_PAR_MIN)
	for (size_t i = 0; i < n; i++) x[i] *= alpha;
}

void cpu_concat2(float *out, const float *a, const float *b, int N, int C)
{
	#pragma omp parallel for schedule(static) if ((long long)N * C > CPU_PAR_MIN)
	for (int n = 0; n < N; n++) {
		memcpy(out + (size_t)n * 2 * C, a + (size_t)n * C, (size_t)C * sizeof(float));
		memcpy(out + (size_t)n * 2 * C + C, b + (size_t)n * C, (size_t)C * sizeof(float));
	}
}

void cpu_concat2_backward(float *da, float *db, const float *dout, int N, int C)
{
	#pragma omp parallel for schedule(static) if ((long long)N * C > CPU_PAR_MIN)
	for (int n = 0; n < N; n++) {
		const float *g = dout + (size_t)n * 2 * C;
		float *ra = da + (size_t)n * C, *rb = db + (size_t)n * C;
		for (int c = 0; c < C; c++) {
			ra[c] += g[c];
			rb[c] += g[C + c];
		}
	}
}

void cpu_rng_normal(float *out, size_t n, uint64_t key)
{
	#pragma omp parallel for schedule(static) if (n > CPU_PAR_MIN / 8)
	for (size_t i = 0; i < n; i++) out[i] = rf_rng_normal(key, i);
}

/* Token i counts in a mean pool (every token does when mask is NULL). */
static int cpu_masked_in(const uint8_t *mask, size_t i)
{
	return !mask || mask[i];
}

static int cpu_mask_count(const uint8_t *mask, int b, int L)
{
	int k = 0;
	for (int j = 0; j < L; j++) k += cpu_masked_in(mask, (size_t)b * L + j);
	return k;
}

/* o[lo..hi) = mean over the rows j0 <= j < j1 of inp with mask 1 (mask NULL:
 * all), k of them, summed in row order; the columns are the thread's share. */
static void cpu_pool_rows(float *o, const float *inp, const uint8_t *mask, size_t j0, size_t j1, int k,
                          int lo, int hi, int C)
{
	for (int c = lo; c < hi; c++) o[c] = 0.0f;
	for (size_t j = j0; j < j1; j++) {
		if (!cpu_masked_in(mask, j)) continue;
		const float *x = inp + j * C;
		for (int c = lo; c < hi; c++) o[c] += x[c];
	}
	float s = k ? 1.0f / k : 0.0f;
	for (int c = lo; c < hi; c++) o[c] *= s;
}

/* dinp rows j0 <= j < j1 with mask 1 += g / k. */
static void cpu_unpool_rows(float *dinp, const float *g, const uint8_t *mask, size_t j0, size_t j1, int k, int C)
{
	if (!k) return;
	float s = 1.0f / k;
	#pragma omp parallel for schedule(static) if ((long long)(j1 - j0) * C > CPU_PAR_MIN)
	for (size_t j = j0; j < j1; j++) {
		if (!cpu_masked_in(mask, j)) continue;
		float *dx = dinp + j * C;
		for (int c = 0; c < C; c++) dx[c] += g[c] * s;
	}
}

void cpu_meanpool_forward(float *out, const float *inp, const uint8_t *mask, int B, int L, int C)
{
	#pragma omp parallel if ((long long)B * L * C > CPU_PAR_MIN)
	{
		int lo, hi;
		cpu_my_range(C, &lo, &hi);
		for (int b = 0; b < B; b++)
			cpu_pool_rows(out + (size_t)b * C, inp, mask, (size_t)b * L, (size_t)(b + 1) * L,
			              cpu_mask_count(mask, b, L), lo, hi, C);
	}
}

void cpu_meanpool_backward(float *dinp, const float *dout, const uint8_t *mask, int B, int L, int C)
{
	for (int b = 0; b < B; b++)
		cpu_unpool_rows(dinp, dout + (size_t)b * C, mask, (size_t)b * L, (size_t)(b + 1) * L,
		                cpu_mask_count(mask, b, L), C);
}

void cpu_segpool_forward(float *out, const float *inp, const int32_t *seg, int n_seg, int C)
{
	#pragma omp parallel if ((long long)(seg[n_seg] - seg[0]) * C > CPU_PAR_MIN)
	{
		int lo, hi;
		cpu_my_range(C, &lo, &hi);
		for (int i = 0; i < n_seg; i++)
			cpu_pool_rows(out + (size_t)i * C, inp, NULL, seg[i] - seg[0], seg[i + 1] - seg[0],
			              seg[i + 1] - seg[i], lo, hi, C);
	}
}

void cpu_segpool_backward(float *dinp, const float *dout, const int32_t *seg, int n_seg, int C)
{
	for (int i = 0; i < n_seg; i++)
		cpu_unpool_rows(dinp, dout + (size_t)i * C, NULL, seg[i] - seg[0], seg[i + 1] - seg[0],
		                seg[i + 1] - seg[i], C);
}

void cpu_gather_rows(float *out, const float *inp, const int32_t *idx, int M, int C)
{
	#pragma omp parallel for schedule(static) if ((long long)M * C > CPU_PAR_MIN)
	for (int m = 0; m < M; m++)
		memcpy(out + (size_t)m * C, inp + (size_t)idx[m] * C, (size_t)C * sizeof(float));
}

void cpu_scatter_add_rows(float *dinp, const float *dout, const int32_t *idx, int M, int C)
{
	/* idx may repeat: split by columns, rows in order. */
	#pragma omp parallel if ((long long)M * C > CPU_PAR_MIN)
	{
		int lo, hi;
		cpu_my_range(C, &lo, &hi);
		for (int m = 0; m < M; m++) {
			float *d = dinp + (size_t)idx[m] * C;
			const float *g = dout + (size_t)m * C;
			for (int c = lo; c < hi; c++) d[c] += g[c];
		}
	}
}

void cpu_xent_forward(float *loss, float *probs, const float *logits, const int32_t *targets,
                      int N, int C)
{
	#pragma omp parallel for schedule(static) if ((long long)N * C > CPU_PAR_MIN)
	for (int n = 0; n < N; n++) {
		const float *z = logits + (size_t)n * C;
		float *p = probs + (size_t)n * C;
		float mx = z[0];
		for (int c = 1; c < C; c++) mx = z[c] > mx ? z[c] : mx;
		double sum = 0.0;
		for (int c = 0; c < C; c++) {
			p[c] = expf(z[c] - mx);
			sum += p[c];
		}
		float inv = (float)(1.0 / sum);
		for (int c = 0; c < C; c++) p[c] *= inv;
		int t = targets[n];
		loss[n] = t >= 0 ? (float)(log(sum) - (double)(z[t] - mx)) : 0.0f;
	}
}

void cpu_xent_backward(float *dlogits, const float *probs, const int32_t *targets,
                       float dscale, int N, int C)
{
	#pragma omp parallel for schedule(static) if ((long long)N * C > CPU_PAR_MIN)
	for (int n = 0; n < N; n++) {
		int t = targets[n];
		if (t < 0) continue;
		const float *p = probs + (size_t)n * C;
		float *d = dlogits + (size_t)n * C;
		for (int c = 0; c < C; c++) d[c] += dscale * p[c];
		d[t] -= dscale;
	}
}

/* sum_i f(x_i) in double over fixed blocks added in order; squares when sq. */
static double cpu_block_sum(const float *x, size_t n, int sq)
{
	size_t nb = (n + CPU_SUM_BLOCK - 1) / CPU_SUM_BLOCK;
	double one, *part = nb > 1 ? malloc(nb * sizeof(double)) : &one;
	double total = 0.0;
	if (!part) abort();   /* a few bytes per 64k elements: never in practice */
	#pragma omp parallel for schedule(static) if (nb > 1)
	for (size_t k = 0; k < nb; k++) {
		size_t i0 = k * CPU_SUM_BLOCK, i1 = i0 + CPU_SUM_BLOCK < n ? i0 + CPU_SUM_BLOCK : n;
		double s = 0.0;
		if (sq)
			for (size_t i = i0; i < i1; i++) s += (double)x[i] * x[i];
		else
			for (size_t i = i0; i < i1; i++) s += x[i];
		part[k] = s;
	}
	for (size_t k = 0; k < nb; k++) total += part[k];
	if (part != &one) free(part);
	return total;
}

double cpu_sum_squares(const float *x, size_t n) { return cpu_block_sum(x, n, 1); }
double cpu_sum(const float *x, size_t n) { return cpu_block_sum(x, n, 0); }

void cpu_adamw(float *p, const float *g, float *m, float *v, size_t n, float lr,
               float b1, float b2, float eps, float wd, float bc1, float bc2)
{
	#pragma omp parallel for schedule(static) if (n > CPU_PAR_MIN)
	for (size_t i = 0; i < n; i++) {
		float mi = b1 * m[i] + (1.0f - b1) * g[i];
		float vi = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
		m[i] = mi;
		v[i] = vi;
		p[i] -= lr * (mi / bc1 / (sqrtf(vi / bc2) + eps) + wd * p[i]);
	}
}
