/* The CPU backend's functions, shared between the files of model/cpu.
 * Semantics of each are those of the op of the same name in model/backend.h. */
#ifndef RF_CPU_H
#define RF_CPU_H

#include <stdint.h>
#include <string.h>

#include "model/backend.h"

/* Loops that vectorise get AVX-512 and AVX2 clones, chosen at load time.
 * Without FMA contraction (-std=c11) an elementwise result is the same in
 * every clone; sums are ordered explicitly (cpu_lane_sum). */
#define CPU_SIMD __attribute__((target_clones("avx512f", "avx2", "default")))

/* Sum of (x[i] - shift) (or of its square) for i < n in CPU_LANES
 * interleaved partials added up in a fixed order: vectorises, gives the
 * same result in every clone and for any thread count, and zeros appended
 * to x (with shift 0) leave it unchanged (see attn.c's softmax). */
#define CPU_LANES 16
static inline float cpu_lane_sum(const float *x, int n, float shift, int square)
{
	float acc[CPU_LANES] = { 0.0f };
	int full = n / CPU_LANES * CPU_LANES;
	for (int j0 = 0; j0 < full; j0 += CPU_LANES)
#pragma omp simd
		for (int l = 0; l < CPU_LANES; l++) {
			float d = x[j0 + l] - shift;
			acc[l] += square ? d * d : d;
		}
	for (int l = 0; l < n - full; l++) {
		float d = x[full + l] - shift;
		acc[l] += square ? d * d : d;
	}
	/* a tree of fixed shape, spelt out so that it compiles to a few vector adds */
	for (int l = 0; l < 8; l++) acc[l] += acc[l + 8];
	for (int l = 0; l < 4; l++) acc[l] += acc[l + 4];
	for (int l = 0; l < 2; l++) acc[l] += acc[l + 2];
	return acc[0] + acc[1];
}

/* e^x = 2^k e^r for x in [-87, 88]: returns e^r and sets *k = round(x /
 * ln 2). Cody-Waite reduction and Cephes' expf polynomial (within 2 ulp),
 * without the libm call that keeps loops scalar, and without branches or
 * float comparisons (which GCC will not if-convert under -ftrapping-math),
 * so the loops around it vectorise. The callers build 2^k from exponent
 * bits: cpu_expf (GELU, ops.c) and softmax_exp (attn.c). */
static inline float cpu_exp_reduced(float x, float *k)
{
	/* k = round(x / ln 2) with the 1.5 * 2^23 trick, r = x - k ln 2 in two parts. */
	*k = x * 1.44269504088896341f + 12582912.0f - 12582912.0f;
	float r = x - *k * 0.693359375f + *k * 2.12194440e-4f;
	float p = 1.9875691500e-4f;
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	return p * r * r + r + 1.0f;
}

/* exp(x) for x in [-87, 88] (a normal float result). */
static inline float cpu_expf(float x)
{
	float k, er = cpu_exp_reduced(x, &k);
	int32_t bits = ((int32_t)k + 127) << 23;
	float two_k;
	memcpy(&two_k, &bits, sizeof two_k);
	return er * two_k;
}

/* attn.c */
void cpu_lsh_hash(uint16_t *buckets, const float *qk, const float *rot,
                  const uint8_t *mask, const rf_attn_shape_t *s);
size_t cpu_attn_workspace(const rf_attn_shape_t *s);
void cpu_attn_forward(float *out, const float *qk, const float *v, const uint16_t *buckets,
                      const uint8_t *mask, const rf_attn_shape_t *s, void *work);
void cpu_attn_backward(float *dqk, float *dv, const float *dout, const float *qk,
                       const float *v, const uint16_t *buckets, const uint8_t *mask,
                       const rf_attn_shape_t *s, void *work);
size_t cpu_attn_varlen_workspace(const rf_varlen_shape_t *s);
void cpu_attn_varlen_forward(float *out, const float *qk, const float *v, const int32_t *seg,
                             const rf_varlen_shape_t *s, void *work);
void cpu_attn_varlen_backward(float *dqk, float *dv, const float *dout, const float *qk,
                              const float *v, const int32_t *seg, const rf_varlen_shape_t *s, void *work);

/* bf16.c: matmul in bf16 through oneDNN (cpu_bf16_init first) */
int cpu_bf16_supported(void);
int cpu_bf16_init(char *err, size_t errlen);
void cpu_bf16_matmul(float *C, const float *A, const float *B, int M, int N, int K,
                     int ta, int tb, float alpha, float beta);

/* meminfo.c */
void cpu_mem_info(size_t *free_bytes, size_t *total_bytes);

/* ops.c: everything else; the table itself is in backend_cpu.c */
void cpu_matmul_use_bf16(int on);
void cpu_matmul(float *C, const float *A, const float *B, int M, int N, int K,
                int ta, int tb, float alpha, float beta);
void cpu_embed_forward(float *out, const int32_t *tokens, const int32_t *pos, const float *tok_emb,
                       const float *pos1, const float *pos2, int B, int L, int D, int n2, int d1);
void cpu_embed_backward(float *dtok_emb, float *dpos1, float *dpos2, const float *dout,
                        const int32_t *tokens, const int32_t *pos, int B, int L, int D, int n2, int d1);
void cpu_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                           const float *w, const float *b, int N, int C);
void cpu_layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                            const float *inp, const float *w, const float *mean,
                            const float *rstd, int N, int C);
void cpu_bias_add(float *x, const float *b, int N, int C);
void cpu_bias_backward(float *db, const float *dout, int N, int C);
void cpu_gelu_forward(float *out, const float *inp, size_t n);
void cpu_gelu_backward(float *dinp, const float *inp, const float *dout, size_t n);
void cpu_dropout(float *x, size_t n, float p, uint64_t key, uint64_t offset);
void cpu_axpy(float *y, const float *x, float alpha, size_t n);
void cpu_scale(float *x, float alpha, size_t n);
void cpu_concat2(float *out, const float *a, const float *b, int N, int C);
void cpu_concat2_backward(float *da, float *db, const float *dout, int N, int C);
void cpu_rng_normal(float *out, size_t n, uint64_t key);
void cpu_meanpool_forward(float *out, const float *inp, const uint8_t *mask, int B, int L, int C);
void cpu_meanpool_backward(float *dinp, const float *dout, const uint8_t *mask, int B, int L, int C);
void cpu_segpool_forward(float *out, const float *inp, const int32_t *seg, int n_seg, int C);
void cpu_segpool_backward(float *dinp, const float *dout, const int32_t *seg, int n_seg, int C);
void cpu_gather_rows(float *out, const float *inp, const int32_t *idx, int M, int C);
void cpu_scatter_add_rows(float *dinp, const float *dout, const int32_t *idx, int M, int C);
void cpu_xent_forward(float *loss, float *probs, const float *logits, const int32_t *targets,
                      int N, int C);
void cpu_xent_backward(float *dlogits, const float *probs, const int32_t *targets,
                       float dscale, int N, int C);
double cpu_sum_squares(const float *x, size_t n);
double cpu_sum(const float *x, size_t n);
void cpu_adamw(float *p, const float *g, float *m, float *v, size_t n, float lr,
               float b1, float b2, float eps, float wd, float bc1, float bc2);
/* Largest of x[0..n) (n >= 1, no NaN), in lanes as cpu_lane_sum: floats
 * compared as integers whose order is theirs (negative ones with their
 * magnitude bits flipped), which vectorise where float compares would not
 * under -ftrapping-math. */
static inline int32_t cpu_order_key(float f)
{
	int32_t b;
	memcpy(&b, &f, sizeof b);
	return b ^ (int32_t)((uint32_t)(b >> 31) >> 1);
}

static inline float cpu_lane_max(const float *x, int n)
{
	int32_t acc[CPU_LANES];
	for (int l = 0; l < CPU_LANES; l++) acc[l] = INT32_MIN;
	int full = n / CPU_LANES * CPU_LANES;
	for (int j0 = 0; j0 < full; j0 += CPU_LANES)
#pragma omp simd
		for (int l = 0; l < CPU_LANES; l++) {
			int32_t k = cpu_order_key(x[j0 + l]);
			acc[l] = k > acc[l] ? k : acc[l];
		}
	for (int l = 0; l < n - full; l++) {
		int32_t k = cpu_order_key(x[full + l]);
		acc[l] = k > acc[l] ? k : acc[l];
	}
	for (int w = CPU_LANES / 2; w > 0; w /= 2)
		for (int l = 0; l < w; l++) acc[l] = acc[l + w] > acc[l] ? acc[l + w] : acc[l];
	int32_t b = acc[0] ^ (int32_t)((uint32_t)(acc[0] >> 31) >> 1);
	float m;
	memcpy(&m, &b, sizeof m);
	return m;
}

#endif
