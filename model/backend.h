/* The op table every backend implements (model/cpu, model/cuda). model/
 * calls only these; it never knows which backend runs.
 *
 * Conventions (llm.c style):
 * - Pointers are backend memory (host for cpu, device for cuda) unless the
 *   name says host. Matrices are row-major; activations are [rows, cols]
 *   with rows = B*L tokens.
 * - Forward functions overwrite their outputs. Backward functions ADD into
 *   their gradient outputs (+=); the caller zeroes gradients.
 * - Weights of a linear layer are stored [in, out]: y = x W (+ b).
 */
#ifndef RF_BACKEND_H
#define RF_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#define RF_LN_EPS 1e-5f
/* Mask values for attention scores, replaced (not added), as in the
 * reference implementations: a token attends to itself only when no other
 * key is visible. */
#define RF_MASK_VALUE -1e9f
#define RF_SELF_MASK_VALUE -1e5f

enum rf_attn_kind { RF_ATTN_FULL = 0, RF_ATTN_LOCAL = 1, RF_ATTN_LSH = 2 };

/* Shape and semantics of one attention call over B sequences of L tokens,
 * H heads of dh features; qk, v and out are [B*L, H*dh] with head h in
 * columns [h*dh, (h+1)*dh). Every kind uses the shared query/key projection:
 * keys are the rows of qk normalised to unit L2 length, queries are the rows
 * of qk as they are, score = q . k with no further scaling.
 * - FULL: every query sees every key of its sequence.
 * - LOCAL: positions in chunks of chunk_len; chunk c sees chunks
 *   c-n_before .. c+n_after, circularly, each distinct chunk once.
 * - LSH: n_hashes rounds; in round r the positions are stably sorted by
 *   (buckets[b][h][r][pos], pos) and then treated as LOCAL in that order.
 *   The per-round outputs o_r with log-sum-exp lse_r are combined as
 *   out = sum_r o_r * exp(lse_r - logsumexp_r lse_r).
 * - LOCAL or LSH with L <= chunk_len is computed as FULL (one round).
 * Masks: self score -> RF_SELF_MASK_VALUE; otherwise a key with mask 0 or,
 * when causal, at a later position than the query -> RF_MASK_VALUE.
 * L is a multiple of chunk_len for LOCAL and LSH (model/ pads). */
typedef struct {
	int B, L, H, dh;
	int kind;
	int causal;
	int chunk_len, n_before, n_after;   /* LOCAL, LSH */
	int n_hashes;                       /* LSH */
	int n_buckets;                      /* LSH: total buckets, even; padding tokens get bucket n_buckets */
	int n_buckets1;                     /* LSH: first factor (== n_buckets when not factorised); n_buckets % n_buckets1 == 0 */
} rf_attn_shape_t;

/* Attention within packed segments (varlen, like FlashAttention's
 * cu_seqlens): qk, v and out are [N, H*dh] as above; segment i is rows
 * [seg[i], seg[i+1]) for i < n_seg (seg in backend memory, non-decreasing,
 * seg[n_seg] <= N), and each segment is computed as the FULL attention of
 * one sequence of that length whose tokens are all real (causal within the
 * segment when causal). No row sees a row of another segment. max_len is
 * the longest segment (it sizes the workspace). */
typedef struct {
	int N, n_seg, max_len;
	int H, dh;
	int causal;
} rf_varlen_shape_t;

/* Floats per head in the rotation tensor: dh * n_hashes * rot_cols, where
 * rot_cols = n_buckets1/2 (+ (n_buckets/n_buckets1)/2 when factorised). */
static inline int rf_attn_rot_cols(const rf_attn_shape_t *s)
{
	int nb2 = s->n_buckets / s->n_buckets1;
	return s->n_buckets1 / 2 + (nb2 > 1 ? nb2 / 2 : 0);
}

typedef struct rf_backend {
	const char *name;

	/* Capabilities (ggml's supports_op, scaled to this project: attention is
	 * the one op whose kernels have limits). 0 when the backend runs
	 * attention of shape s, else -1 with the reason in why, one phrase
	 * ("head width 256 above 128"). rf_model_create asks for every layer
	 * with B = 1 and L = chunk_len, so a backend's limits must not depend on
	 * B and L; a model it cannot run is refused before any allocation. */
	int (*supports_attn)(const rf_attn_shape_t *s, char *why, size_t whylen);

	/* memory */
	void *(*alloc)(size_t bytes);                 /* NULL on failure */
	void (*free)(void *p);
	void (*upload)(void *dst, const void *host_src, size_t bytes);
	void (*download)(void *host_dst, const void *src, size_t bytes);
	void (*copy)(void *dst, const void *src, size_t bytes);
	void (*zero)(void *p, size_t bytes);
	void (*sync)(void);

	/* The precision of matmul from now on: "fp32" (every backend; the
	 * default), "bf16" (CPU: operands rounded to bf16, fp32 accumulation,
	 * through oneDNN on CPUs with AVX512-BF16) or "tf32" (CUDA: tensor cores,
	 * also in attention). For inference: training keeps fp32 on the CPU.
	 * 0, or -1 with a message when this backend or machine lacks it. */
	int (*set_precision)(const char *name, char *err, size_t errlen);

	/* C[M,N] = alpha * op(A) op(B) + beta * C. op(A) is [M,K]: A is stored
	 * [M,K], or [K,M] when ta. op(B) is [K,N]: B is [K,N], or [N,K] when tb. */
	void (*matmul)(float *C, const float *A, const float *B, int M, int N, int K,
	               int ta, int tb, float alpha, float beta);

	/* out[r] = tok_emb[tokens[r]] + concat(pos1[j / n2], pos2[j % n2]) for the
	 * B*L rows r = b*L + i, where the position j is i, or pos[r] when pos is
	 * given (packed segments restart at 0); pos1 is [n1, d1], pos2 is
	 * [n2, D-d1]; j < n1*n2 is the caller's duty. */
	void (*embed_forward)(float *out, const int32_t *tokens, const int32_t *pos, const float *tok_emb,
	                      const float *pos1, const float *pos2, int B, int L, int D, int n2, int d1);
	void (*embed_backward)(float *dtok_emb, float *dpos1, float *dpos2, const float *dout,
	                       const int32_t *tokens, const int32_t *pos, int B, int L, int D, int n2, int d1);

	/* LayerNorm over C features of N rows, eps RF_LN_EPS; mean and rstd [N]. */
	void (*layernorm_forward)(float *out, float *mean, float *rstd, const float *inp,
	                          const float *w, const float *b, int N, int C);
	void (*layernorm_backward)(float *dinp, float *dw, float *db, const float *dout,
	                           const float *inp, const float *w, const float *mean,
	                           const float *rstd, int N, int C);

	void (*bias_add)(float *x, const float *b, int N, int C);          /* x[n,c] += b[c] */
	void (*bias_backward)(float *db, const float *dout, int N, int C); /* db[c] += sum_n dout[n,c] */

	/* GELU, exact (erf) form. */
	void (*gelu_forward)(float *out, const float *inp, size_t n);
	void (*gelu_backward)(float *dinp, const float *inp, const float *dout, size_t n);

	/* In place: x[i] *= keep(i) / (1-p), keep(i) = rf_rng_uniform(key, offset+i) >= p.
	 * The same call is the forward and the backward of dropout. */
	void (*dropout)(float *x, size_t n, float p, uint64_t key, uint64_t offset);

	void (*axpy)(float *y, const float *x, float alpha, size_t n);     /* y += alpha x */
	void (*scale)(float *x, float alpha, size_t n);                    /* x *= alpha */

	/* out[n] = concat(a[n], b[n]) ([N,2C] from two [N,C]); backward adds. */
	void (*concat2)(float *out, const float *a, const float *b, int N, int C);
	void (*concat2_backward)(float *da, float *db, const float *dout, int N, int C);

	/* out[i] = rf_rng_normal(key, i) for i < n (LSH rotations). */
	void (*rng_normal)(float *out, size_t n, uint64_t key);

	/* LSH buckets [B, H, n_hashes, L] from qk and rotations rot [H, dh,
	 * n_hashes, rf_attn_rot_cols(s)]: per factor, argmax over [xR, -xR];
	 * bucket = f1 + n_buckets1 * f2. Tokens with mask 0 get n_buckets. */
	void (*lsh_hash)(uint16_t *buckets, const float *qk, const float *rot,
	                 const uint8_t *mask, const rf_attn_shape_t *s);

	/* Attention as described at rf_attn_shape_t. buckets is NULL unless LSH.
	 * work has attn_workspace(s) bytes; backward recomputes what it needs. */
	size_t (*attn_workspace)(const rf_attn_shape_t *s);
	void (*attn_forward)(float *out, const float *qk, const float *v, const uint16_t *buckets,
	                     const uint8_t *mask, const rf_attn_shape_t *s, void *work);
	void (*attn_backward)(float *dqk, float *dv, const float *dout, const float *qk,
	                      const float *v, const uint16_t *buckets, const uint8_t *mask,
	                      const rf_attn_shape_t *s, void *work);

	/* Attention within packed segments (rf_varlen_shape_t); rows outside
	 * every segment get out 0. Backward adds into dqk and dv as attn_backward. */
	size_t (*attn_varlen_workspace)(const rf_varlen_shape_t *s);
	void (*attn_varlen_forward)(float *out, const float *qk, const float *v, const int32_t *seg,
	                            const rf_varlen_shape_t *s, void *work);
	void (*attn_varlen_backward)(float *dqk, float *dv, const float *dout, const float *qk,
	                             const float *v, const int32_t *seg, const rf_varlen_shape_t *s, void *work);

	/* out[b] = mean of inp[b*L+j] over j with mask 1 (zero if none). */
	void (*meanpool_forward)(float *out, const float *inp, const uint8_t *mask, int B, int L, int C);
	void (*meanpool_backward)(float *dinp, const float *dout, const uint8_t *mask, int B, int L, int C);

	/* out[i] = mean of the rows [seg[i] - seg[0], seg[i+1] - seg[0]) of inp
	 * (zero if none) for i < n_seg: packed segments, rows counted from the
	 * first segment's, so a piece of the rows pools with seg + first. Rows
	 * are summed in order, as meanpool does. Backward adds dout[i]/count. */
	void (*segpool_forward)(float *out, const float *inp, const int32_t *seg, int n_seg, int C);
	void (*segpool_backward)(float *dinp, const float *dout, const int32_t *seg, int n_seg, int C);

	/* out[m] = inp[idx[m]] for M rows of C; backward scatters with add. */
	void (*gather_rows)(float *out, const float *inp, const int32_t *idx, int M, int C);
	void (*scatter_add_rows)(float *dinp, const float *dout, const int32_t *idx, int M, int C);

	/* Softmax cross-entropy per row: probs = softmax(logits), loss[n] =
	 * -log probs[n][target[n]]; a row with target < 0 has loss 0.
	 * Backward: dlogits[n] += dscale * (probs[n] - onehot(target[n])) for
	 * rows with target >= 0. */
	void (*xent_forward)(float *loss, float *probs, const float *logits, const int32_t *targets,
	                     int N, int C);
	void (*xent_backward)(float *dlogits, const float *probs, const int32_t *targets,
	                      float dscale, int N, int C);

	/* Sum of squares of x, computed in double, returned to the host. */
	double (*sum_squares)(const float *x, size_t n);
	/* Sum of x, in double, returned to the host. */
	double (*sum)(const float *x, size_t n);

	/* AdamW step on n parameters: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
	 * p -= lr * (m/bc1 / (sqrt(v/bc2) + eps) + wd p), bc = 1 - beta^step. */
	void (*adamw)(float *p, const float *g, float *m, float *v, size_t n, float lr,
	              float b1, float b2, float eps, float wd, float bc1, float bc2);

	/* Bytes this process can still allocate on the backend (free) and its
	 * capacity (total). cuda: cudaMemGetInfo of the device in use. cpu: the
	 * least of MemAvailable, the room under the cgroup's memory.max and
	 * under RLIMIT_AS / RLIMIT_DATA, and MemTotal; SIZE_MAX where unknown. */
	void (*mem_info)(size_t *free_bytes, size_t *total_bytes);
} rf_backend_t;

/* The backend registry, and the --device values every command takes:
 * "cpu", "cuda" (the default GPU: 0, or what rf_backend_set_default_gpu
 * set), "cuda:N" (GPU N of the CUDA devices) and "auto" (cuda when a GPU
 * is usable, else cpu). */

/* The GPU that "cuda" and "auto" take (src/gpu.c: the one of the
 * process's local rank, so ranks sharing a node take different GPUs). */
void rf_backend_set_default_gpu(int device);

/* The backend of a device value other than auto; NULL with a message in
 * err (built without CUDA, no usable GPU, N beyond the device count). */
const rf_backend_t *rf_backend_get(const char *device, char *err, size_t errlen);

/* 0 when spec is a device value, else -1 with "--device 'X': expects ..."
 * in err: commands check it while parsing, so a wrong name is a usage error. */
int rf_device_check(const char *spec, char *err, size_t errlen);

/* The backend of any device value. With auto and no usable GPU: the CPU
 * backend and the reason in note ("" when there is nothing to say, e.g. a
 * build without CUDA). NULL with a message in err. */
const rf_backend_t *rf_device_backend(const char *spec, char *note, size_t notelen, char *err, size_t errlen);

/* The CPU backend; set its OpenMP/BLAS thread count. */
const rf_backend_t *rf_backend_cpu(void);
void rf_cpu_set_threads(int n);

#ifdef RF_CUDA
/* The CUDA backend on GPU device (cudaSetDevice); one GPU per process: a
 * second call must name the same device. NULL with a message when no usable
 * GPU is found, device is beyond the count, or the binary has no code for
 * the GPU (model/gpuarch.h). */
const rf_backend_t *rf_backend_cuda(int device, char *err, size_t errlen);
/* The CUDA op table without starting a GPU (its host-side capability
 * checks run anywhere; its ops need rf_backend_cuda first). */
const rf_backend_t *rf_backend_cuda_table(void);
#endif

#endif
