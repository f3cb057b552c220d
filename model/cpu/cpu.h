/* The CPU backend's functions, shared between the files of model/cpu.
 * Semantics of each are those of the op of the same name in model/backend.h. */
#ifndef RF_CPU_H
#define RF_CPU_H

#include <stdint.h>
#include <string.h>

#include "model/backend.h"

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

/* meminfo.c */
void cpu_mem_info(size_t *free_bytes, size_t *total_bytes);

/* ops.c: everything else; the table itself is in backend_cpu.c */
void cpu_matmul(float *C, const float *A, const float *B, int M, int N, int K,
                int ta, int tb, float alpha, float beta);
void cpu_embed_forward(float *out, const int32_t *tokens, const float *tok_emb,
                       const float *pos1, const float *pos2, int B, int L, int D, int n2, int d1);
void cpu_embed_backward(float *dtok_emb, float *dpos1, float *dpos2, const float *dout,
                        const int32_t *tokens, int B, int L, int D, int n2, int d1);
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
#endif
