/* Internals shared by the .cu files of the CUDA backend: error checks,
 * launch sizes, warp reductions, the scratch buffer, and the op functions
 * that backend_cuda.cu puts in the table. Semantics of each cu_* op are
 * those of the op of the same name in model/backend.h. */
#ifndef RF_CU_INTERNAL_H
#define RF_CU_INTERNAL_H

#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

/* backend.h is a C header: its functions have C linkage. */
extern "C" {
#include "model/backend.h"
}

/* An op has no way to return an error: a failing CUDA call ends the
 * process with one line naming the op (the function that failed, without
 * its cu_ prefix) and the call site. Shapes the kernels cannot run never
 * get here: cu_supports_attn refuses them when the model is created. */
[[noreturn]] void cu_fail(const char *op, const char *file, int line, const char *what);
#define CU_CHECK(call) do { \
	cudaError_t e_ = (call); \
	if (e_ != cudaSuccess) cu_fail(__func__, __FILE__, __LINE__, cudaGetErrorString(e_)); \
	} while (0)
#define CU_LAUNCHED() CU_CHECK(cudaGetLastError())

#define CU_THREADS 256

/* Tensor-core MMA with TF32 or bf16 inputs needs sm_80. Device code for
 * older targets (sm_75) compiles a CUDA-core path in its place; the host
 * side never asks for it there (rf_backend_cuda keeps fp32 and says so). */
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
#define CU_SM80_MMA 0
#else
#define CU_SM80_MMA 1
#endif

/* Blocks for a grid-stride loop over n items. */
static inline unsigned cu_blocks(size_t n, int threads)
{
	size_t b = (n + threads - 1) / threads;
	if (b < 1) b = 1;
	return b > (1u << 20) ? (1u << 20) : (unsigned)b;
}

/* Device scratch of at least bytes, owned by the backend and reused by every
 * op (partial sums); valid until the next cu_scratch call. */
void *cu_scratch(size_t bytes);

/* Whether rf_cuda_set_math(1) is on: matmuls and attention products run on
 * tensor cores with TF32 inputs. */
int cu_tf32(void);

__device__ __forceinline__ float cu_warp_sum(float v)
{
	for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
	return v;
}

__device__ __forceinline__ double cu_warp_sum_d(double v)
{
	for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
	return v;
}

__device__ __forceinline__ float cu_warp_max(float v)
{
	for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
	return v;
}

/* attn.cu: whether the attention kernels take shape s (head width up to
 * ATT_MAX_DH). */
int cu_supports_attn(const rf_attn_shape_t *s, char *why, size_t whylen);

/* ops.cu */
void cu_embed_forward(float *out, const int32_t *tokens, const int32_t *pos, const float *tok_emb,
                      const float *pos1, const float *pos2, int B, int L, int D, int n2, int d1);
void cu_embed_backward(float *dtok_emb, float *dpos1, float *dpos2, const float *dout,
                       const int32_t *tokens, const int32_t *pos, int B, int L, int D, int n2, int d1);
void cu_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                          const float *w, const float *b, int N, int C);
void cu_layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                           const float *inp, const float *w, const float *mean,
                           const float *rstd, int N, int C);
void cu_bias_add(float *x, const float *b, int N, int C);
void cu_bias_backward(float *db, const float *dout, int N, int C);
void cu_gelu_forward(float *out, const float *inp, size_t n);
void cu_gelu_backward(float *dinp, const float *inp, const float *dout, size_t n);
void cu_dropout(float *x, size_t n, float p, uint64_t key, uint64_t offset);
void cu_axpy(float *y, const float *x, float alpha, size_t n);
void cu_scale(float *x, float alpha, size_t n);
void cu_concat2(float *out, const float *a, const float *b, int N, int C);
void cu_concat2_backward(float *da, float *db, const float *dout, int N, int C);
void cu_rng_normal(float *out, size_t n, uint64_t key);
void cu_meanpool_forward(float *out, const float *inp, const uint8_t *mask, int B, int L, int C);
void cu_meanpool_backward(float *dinp, const float *dout, const uint8_t *mask, int B, int L, int C);
void cu_segpool_forward(float *out, const float *inp, const int32_t *seg, int n_seg, int C);
void cu_segpool_backward(float *dinp, const float *dout, const int32_t *seg, int n_seg, int C);
void cu_gather_rows(float *out, const float *inp, const int32_t *idx, int M, int C);
void cu_scatter_add_rows(float *dinp, const float *dout, const int32_t *idx, int M, int C);
void cu_xent_forward(float *loss, float *probs, const float *logits, const int32_t *targets,
                     int N, int C);
void cu_xent_backward(float *dlogits, const float *probs, const int32_t *targets,
                      float dscale, int N, int C);
double cu_sum_squares(const float *x, size_t n);
double cu_sum(const float *x, size_t n);
void cu_adamw(float *p, const float *g, float *m, float *v, size_t n, float lr,
              float b1, float b2, float eps, float wd, float bc1, float bc2);

/* attn.cu */
void cu_lsh_hash(uint16_t *buckets, const float *qk, const float *rot,
                 const uint8_t *mask, const rf_attn_shape_t *s);
size_t cu_attn_workspace(const rf_attn_shape_t *s);
void cu_attn_forward(float *out, const float *qk, const float *v, const uint16_t *buckets,
                     const uint8_t *mask, const rf_attn_shape_t *s, void *work);
void cu_attn_backward(float *dqk, float *dv, const float *dout, const float *qk,
                      const float *v, const uint16_t *buckets, const uint8_t *mask,
                      const rf_attn_shape_t *s, void *work);
size_t cu_attn_varlen_workspace(const rf_varlen_shape_t *s);
void cu_attn_varlen_forward(float *out, const float *qk, const float *v, const int32_t *seg,
                            const rf_varlen_shape_t *s, void *work);
void cu_attn_varlen_backward(float *dqk, float *dv, const float *dout, const float *qk,
                             const float *v, const int32_t *seg, const rf_varlen_shape_t *s, void *work);

#endif
