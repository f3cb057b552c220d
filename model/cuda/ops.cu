/* Element-wise, normalisation, reduction, loss and optimiser kernels of the
 * CUDA backend. Reductions over rows are done in a fixed order (partials per
 * block, then a second pass), so results repeat bit for bit; only scatters
 * (token embedding gradient, scatter_add_rows) use atomicAdd. */
#include <math.h>

#include "model/cuda/cu_internal.h"
#include "model/rng.h"

#define GRID_STRIDE(i, n) \
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n); \
	     i += (size_t)gridDim.x * blockDim.x)

/* ---- embedding ---- */

__global__ static void embed_fwd_kernel(float *out, const int32_t *tokens, const int32_t *pos,
                                        const float *tok_emb, const float *pos1, const float *pos2,
                                        int L, int D, int n2, int d1, size_t n)
{
	GRID_STRIDE(i, n) {
		size_t row = i / D;
		int c = (int)(i % D), j = pos ? pos[row] : (int)(row % L);
		float p = c < d1 ? pos1[(size_t)(j / n2) * d1 + c] : pos2[(size_t)(j % n2) * (D - d1) + c - d1];
		out[i] = tok_emb[(size_t)tokens[row] * D + c] + p;
	}
}

void cu_embed_forward(float *out, const int32_t *tokens, const int32_t *pos, const float *tok_emb,
                      const float *pos1, const float *pos2, int B, int L, int D, int n2, int d1)
{
	size_t n = (size_t)B * L * D;
	embed_fwd_kernel<<<cu_blocks(n, CU_THREADS), CU_THREADS>>>(out, tokens, pos, tok_emb, pos1, pos2,
	                                                            L, D, n2, d1, n);
	CU_LAUNCHED();
}

__global__ static void embed_tok_bwd_kernel(float *dtok_emb, const float *dout,
                                            const int32_t *tokens, int D, size_t n)
{
	GRID_STRIDE(i, n)
		atomicAdd(&dtok_emb[(size_t)tokens[i / D] * D + i % D], dout[i]);
}

/* Positions given per row (packed sequences): each row's feature adds into
 * its axial rows, as the token gradient does. */
__global__ static void embed_pos_scatter_kernel(float *dpos1, float *dpos2, const float *dout,
                                                const int32_t *pos, int D, int n2, int d1, size_t n)
{
	GRID_STRIDE(i, n) {
		int c = (int)(i % D), j = pos[i / D];
		if (c < d1) atomicAdd(&dpos1[(size_t)(j / n2) * d1 + c], dout[i]);
		else atomicAdd(&dpos2[(size_t)(j % n2) * (D - d1) + c - d1], dout[i]);
	}
}

/* One thread per (axial row, feature) sums every position using that row,
 * in order: no atomics, the same sum every time. */
__global__ static void embed_pos_bwd_kernel(float *dpos1, float *dpos2, const float *dout,
                                            int B, int L, int D, int n2, int d1)
{
	int n1 = (L + n2 - 1) / n2, m2 = L < n2 ? L : n2;
	size_t n_a = (size_t)n1 * d1, n = n_a + (size_t)m2 * (D - d1);
	GRID_STRIDE(i, n) {
		float s = 0.0f;
		if (i < n_a) {
			int p = (int)(i / d1), c = (int)(i % d1);
			int end = (p + 1) * n2 < L ? (p + 1) * n2 : L;
			for (int b = 0; b < B; b++)
				for (int j = p * n2; j < end; j++) s += dout[((size_t)b * L + j) * D + c];
			dpos1[i] += s;
		} else {
			size_t k = i - n_a;
			int p = (int)(k / (D - d1)), c = (int)(k % (D - d1));
			for (int b = 0; b < B; b++)
				for (int j = p; j < L; j += n2) s += dout[((size_t)b * L + j) * D + d1 + c];
			dpos2[k] += s;
		}
	}
}

void cu_embed_backward(float *dtok_emb, float *dpos1, float *dpos2, const float *dout,
                       const int32_t *tokens, const int32_t *pos, int B, int L, int D, int n2, int d1)
{
	size_t n = (size_t)B * L * D;
	embed_tok_bwd_kernel<<<cu_blocks(n, CU_THREADS), CU_THREADS>>>(dtok_emb, dout, tokens, D, n);
	CU_LAUNCHED();
	if (pos) {
		embed_pos_scatter_kernel<<<cu_blocks(n, CU_THREADS), CU_THREADS>>>(dpos1, dpos2, dout, pos, D, n2, d1, n);
		CU_LAUNCHED();
		return;
	}
	size_t np = (size_t)D * ((L + n2 - 1) / n2 + n2);
	embed_pos_bwd_kernel<<<cu_blocks(np, CU_THREADS), CU_THREADS>>>(dpos1, dpos2, dout, B, L, D,
	                                                                 n2, d1);
	CU_LAUNCHED();
}

/* ---- column sums in a fixed order (bias and LayerNorm weight gradients,
 * mean pooling) ---- */

#define COL_ROWS 256  /* rows per partial */

/* The value summed down a column at row n (of all groups' rows). */
struct col_dout {
	const float *dout;
	__device__ float operator()(size_t n, int c, int C) const { return dout[n * C + c]; }
};
struct col_dout_xhat {
	const float *dout, *inp, *mean, *rstd;
	__device__ float operator()(size_t n, int c, int C) const
	{
		return dout[n * C + c] * (inp[n * C + c] - mean[n]) * rstd[n];
	}
};
/* Mean pooling: a real token's row over its sequence's count. */
struct col_masked_mean {
	const float *inp, *cnt;
	const uint8_t *mask;
	int L;
	__device__ float operator()(size_t n, int c, int C) const
	{
		return !mask || mask[n] ? inp[n * C + c] / cnt[n / L] : 0.0f;
	}
};

/* Block (32 columns x 8 row lanes) over COL_ROWS rows of group blockIdx.z:
 * partial[group][chunk][c]. */
template <class F>
__global__ static void col_partial_kernel(float *partial, F f, int N, int C)
{
	__shared__ float acc[8][33];
	int c = blockIdx.x * 32 + threadIdx.x, r0 = blockIdx.y * COL_ROWS;
	int r1 = r0 + COL_ROWS < N ? r0 + COL_ROWS : N;
	size_t base = (size_t)blockIdx.z * N;
	float s = 0.0f;
	if (c < C)
		for (int n = r0 + threadIdx.y; n < r1; n += 8) s += f(base + n, c, C);
	acc[threadIdx.y][threadIdx.x] = s;
	__syncthreads();
	if (threadIdx.y == 0 && c < C) {
		float t = 0.0f;
		for (int k = 0; k < 8; k++) t += acc[k][threadIdx.x];
		partial[((size_t)blockIdx.z * gridDim.y + blockIdx.y) * C + c] = t;
	}
}

__global__ static void col_finish_kernel(float *out, const float *partial, int chunks, int C,
                                         size_t n)
{
	GRID_STRIDE(i, n) {
		size_t g = i / C;
		int c = (int)(i % C);
		float s = 0.0f;
		for (int k = 0; k < chunks; k++) s += partial[(g * chunks + k) * C + c];
		out[i] += s;
	}
}

static size_t col_sum_bytes(int G, int N, int C)
{
	return (size_t)G * ((N + COL_ROWS - 1) / COL_ROWS) * C * sizeof(float);
}

/* out[g*C + c] += sum over the N rows n of group g of f(g*N + n, c), for G
 * groups; partial has col_sum_bytes(G, N, C). */
template <class F>
static void col_sum(float *out, F f, int G, int N, int C, float *partial)
{
	int chunks = (N + COL_ROWS - 1) / COL_ROWS;
	if (chunks == 0 || C == 0 || G == 0) return;
	col_partial_kernel<<<dim3((C + 31) / 32, chunks, G), dim3(32, 8)>>>(partial, f, N, C);
	CU_LAUNCHED();
	size_t n = (size_t)G * C;
	col_finish_kernel<<<cu_blocks(n, 128), 128>>>(out, partial, chunks, C, n);
	CU_LAUNCHED();
}

/* The same over one group, with partials in the backend's scratch. */
template <class F>
static void col_sum1(float *out, F f, int N, int C)
{
	col_sum(out, f, 1, N, C, (float *)cu_scratch(col_sum_bytes(1, N, C)));
}

/* ---- LayerNorm: one warp per row ---- */

#define ROWS_PER_BLOCK (CU_THREADS / 32)

__global__ static void layernorm_fwd_kernel(float *out, float *mean, float *rstd, const float *inp,
                                            const float *w, const float *b, int N, int C)
{
	int row = blockIdx.x * ROWS_PER_BLOCK + threadIdx.x / 32, lane = threadIdx.x % 32;
	if (row >= N) return;
	const float *x = inp + (size_t)row * C;
	float s = 0.0f;
	for (int c = lane; c < C; c += 32) s += x[c];
	float m = cu_warp_sum(s) / C;
	float v = 0.0f;
	for (int c = lane; c < C; c += 32) v += (x[c] - m) * (x[c] - m);
	float rs = 1.0f / sqrtf(cu_warp_sum(v) / C + RF_LN_EPS);
	float *o = out + (size_t)row * C;
	for (int c = lane; c < C; c += 32) o[c] = (x[c] - m) * rs * w[c] + b[c];
	if (lane == 0) {
		mean[row] = m;
		rstd[row] = rs;
	}
}

void cu_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                          const float *w, const float *b, int N, int C)
{
	if (N == 0) return;
	layernorm_fwd_kernel<<<(N + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK, CU_THREADS>>>(
		out, mean, rstd, inp, w, b, N, C);
	CU_LAUNCHED();
}

__global__ static void layernorm_bwd_kernel(float *dinp, const float *dout, const float *inp,
                                            const float *w, const float *mean, const float *rstd,
                                            int N, int C)
{
	int row = blockIdx.x * ROWS_PER_BLOCK + threadIdx.x / 32, lane = threadIdx.x % 32;
	if (row >= N) return;
	const float *x = inp + (size_t)row * C, *g = dout + (size_t)row * C;
	float m = mean[row], rs = rstd[row], a = 0.0f, an = 0.0f;
	for (int c = lane; c < C; c += 32) {
		float dn = g[c] * w[c];
		a += dn;
		an += dn * (x[c] - m) * rs;
	}
	a = cu_warp_sum(a) / C;
	an = cu_warp_sum(an) / C;
	float *d = dinp + (size_t)row * C;
	for (int c = lane; c < C; c += 32) d[c] += rs * (g[c] * w[c] - a - (x[c] - m) * rs * an);
}

void cu_layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                           const float *inp, const float *w, const float *mean,
                           const float *rstd, int N, int C)
{
	if (N == 0) return;
	layernorm_bwd_kernel<<<(N + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK, CU_THREADS>>>(
		dinp, dout, inp, w, mean, rstd, N, C);
	CU_LAUNCHED();
	col_sum1(dw, col_dout_xhat{dout, inp, mean, rstd}, N, C);
	col_sum1(db, col_dout{dout}, N, C);
}

/* ---- bias ---- */

__global__ static void bias_add_kernel(float *x, const float *b, int C, size_t n)
{
	GRID_STRIDE(i, n) x[i] += b[i % C];
}

void cu_bias_add(float *x, const float *b, int N, int C)
{
	size_t n = (size_t)N * C;
	bias_add_kernel<<<cu_blocks(n, CU_THREADS), CU_THREADS>>>(x, b, C, n);
	CU_LAUNCHED();
}

void cu_bias_backward(float *db, const float *dout, int N, int C)
{
	col_sum1(db, col_dout{dout}, N, C);
}

/* ---- GELU (erf form) ---- */

__global__ static void gelu_fwd_kernel(float *out, const float *inp, size_t n)
{
	GRID_STRIDE(i, n) {
		float x = inp[i];
		out[i] = 0.5f * x * (1.0f + erff(x * (float)M_SQRT1_2));
	}
}

__global__ static void gelu_bwd_kernel(float *dinp, const float *inp, const float *dout, size_t n)
{
	GRID_STRIDE(i, n) {
		float x = inp[i];
		float cdf = 0.5f * (1.0f + erff(x * (float)M_SQRT1_2));
		float pdf = expf(-0.5f * x * x) * 0.3989422804014327f;
		dinp[i] += dout[i] * (cdf + x * pdf);
	}
}

void cu_gelu_forward(float *out, const float *inp, size_t n)
{
	gelu_fwd_kernel<<<cu_blocks(n, CU_THREADS), CU_THREADS>>>(out, inp, n);
	CU_LAUNCHED();
}

void cu_gelu_backward(float *dinp, const float *inp, const float *dout, size_t n)
{
	gelu_bwd_kernel<<<cu_blocks(n, CU_THREADS), CU_THREADS>>>(dinp, inp, dout, n);
	CU_LAUNCHED();
}

/* ---- dropout, axpy, scale ---- */

__global__ static void dropout_kernel(float *x, size_t n, float p, float keep_scale, uint64_t key,
                                      uint64_t offset)
{
	GRID_STRIDE(i, n)
		x[i] = rf_rng_uniform(key, offset + i) >= p ? x[i] * keep_scale : 0.0f;
}

void cu_dropout(float *x, size_t n, float p, uint64_t key, uint64_t offset)
{
	dropout_kernel<<<cu_blocks(n, CU_THREADS), CU_THREADS>>>(x, n, p, 1.0f / (1.0f - p), key,
	                                                          offset);
	CU_LAUNCHED();
}

__global__ static void axpy_kernel(float *y, const float *x, float alpha, size_t n)
{
	GRID_STRIDE(i, n) y[i] += alpha * x[i];
}

__global__ static void scale_kernel(float *x, float alpha, size_t n)
{
	GRID_STRIDE(i, n) x[i] *= alpha;
}

void cu_axpy(float *y, const float *x, float alpha, size_t n)
{
	axpy_kernel<<<cu_blocks(n, CU_THREADS), CU_THREADS>>>(y, x, alpha, n);
	CU_LAUNCHED();
}

void cu_scale(float *x, float alpha, size_t n)
{
	scale_kernel<<<cu_blocks(n, CU_THREADS), CU_THREADS>>>(x, alpha, n);
	CU_LAUNCHED();
}

/* ---- concat2 ---- */

__global__ static void concat2_kernel(float *out, const float *a, const float *b, int C, size_t n)
{
	GRID_STRIDE(i, n) {
		size_t row = i / (2 * C);
		int c = (int)(i % (2 * C));
		out[i] = c < C ? a[row * C + c] : b[row * C + c - C];
	}
}

__global__ static void concat2_bwd_kernel(float *da, float *db, const float *dout, int C, size_t n)
{
	GRID_STRIDE(i, n) {
		size_t row = i / (2 * C);
		int c = (int)(i % (2 * C));
		if (c < C) da[row * C + c] += dout[i];
		else db[row * C + c - C] += dout[i];
	}
}

void cu_concat2(float *out, const float *a, const float *b, int N, int C)
{
	size_t n = (size_t)N * 2 * C;
	concat2_kernel<<<cu_blocks(n, CU_THREADS), CU_THREADS>>>(out, a, b, C, n);
	CU_LAUNCHED();
}

void cu_concat2_backward(float *da, float *db, const float *dout, int N, int C)
{
	size_t n = (size_t)N * 2 * C;
	concat2_bwd_kernel<<<cu_blocks(n, CU_THREADS), CU_THREADS>>>(da, db, dout, C, n);
	CU_LAUNCHED();
}

/* ---- random normals ---- */

__global__ static void rng_normal_kernel(float *out, size_t n, uint64_t key)
{
	GRID_STRIDE(i, n) out[i] = rf_rng_normal(key, i);
}

void cu_rng_normal(float *out, size_t n, uint64_t key)
{
	rng_normal_kernel<<<cu_blocks(n, CU_THREADS), CU_THREADS>>>(out, n, key);
	CU_LAUNCHED();
}

/* ---- mean pooling ---- */

/* cnt[b] = number of tokens with mask 1 in sequence b (L when mask is NULL). */
__global__ static void mask_count_kernel(float *cnt, const uint8_t *mask, int L)
{
	__shared__ int part[32];
	int b = blockIdx.x, s = 0;
	for (int j = threadIdx.x; j < L; j += blockDim.x) s += mask ? mask[(size_t)b * L + j] != 0 : 1;
	for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
	if (threadIdx.x % 32 == 0) part[threadIdx.x / 32] = s;
	__syncthreads();
	if (threadIdx.x == 0) {
		int t = 0;
		for (int k = 0; k < (int)blockDim.x / 32; k++) t += part[k];
		cnt[b] = (float)t;
	}
}

/* Floats of scratch the counts take before the caller's extra bytes. */
static size_t counts_room(int B)
{
	return ((size_t)B + 63) / 64 * 64;
}

/* Counts per sequence at the start of the scratch, which has extra bytes
 * more after counts_room(B) floats. */
static float *mask_counts(const uint8_t *mask, int B, int L, size_t extra)
{
	float *cnt = (float *)cu_scratch(counts_room(B) * sizeof(float) + extra);
	mask_count_kernel<<<B, CU_THREADS>>>(cnt, mask, L);
	CU_LAUNCHED();
	return cnt;
}

__global__ static void meanpool_bwd_kernel(float *dinp, const float *dout, const uint8_t *mask,
                                           const float *cnt, int L, int C, size_t n)
{
	GRID_STRIDE(i, n) {
		size_t row = i / C;
		int b = (int)(row / L), c = (int)(i % C);
		if (!mask || mask[row]) dinp[i] += dout[(size_t)b * C + c] / cnt[b];
	}
}

/* Column sums per sequence of the real rows over their count; a sequence
 * with no real token sums nothing and stays 0. */
void cu_meanpool_forward(float *out, const float *inp, const uint8_t *mask, int B, int L, int C)
{
	if (B == 0) return;
	float *cnt = mask_counts(mask, B, L, col_sum_bytes(B, L, C));
	CU_CHECK(cudaMemsetAsync(out, 0, (size_t)B * C * sizeof(float), 0));
	col_sum(out, col_masked_mean{inp, cnt, mask, L}, B, L, C, cnt + counts_room(B));
}

void cu_meanpool_backward(float *dinp, const float *dout, const uint8_t *mask, int B, int L, int C)
{
	if (B == 0) return;
	float *cnt = mask_counts(mask, B, L, 0);
	size_t n = (size_t)B * L * C;
	meanpool_bwd_kernel<<<cu_blocks(n, CU_THREADS), CU_THREADS>>>(dinp, dout, mask, cnt, L, C, n);
	CU_LAUNCHED();
}

/* ---- pooling per packed segment: one thread per (segment, feature), rows
 * in order, as the CPU does ---- */

__global__ static void segpool_fwd_kernel(float *out, const float *inp, const int32_t *seg, int C, size_t n)
{
	GRID_STRIDE(i, n) {
		size_t s = i / C;
		int c = (int)(i % C), j0 = seg[s] - seg[0], j1 = seg[s + 1] - seg[0];
		float sum = 0.0f;
		for (int j = j0; j < j1; j++) sum += inp[(size_t)j * C + c];
		out[i] = j1 > j0 ? sum * (1.0f / (j1 - j0)) : 0.0f;
	}
}

__global__ static void segpool_bwd_kernel(float *dinp, const float *dout, const int32_t *seg, int C, size_t n)
{
	GRID_STRIDE(i, n) {
		size_t s = i / C;
		int c = (int)(i % C), j0 = seg[s] - seg[0], j1 = seg[s + 1] - seg[0];
		float g = j1 > j0 ? dout[i] * (1.0f / (j1 - j0)) : 0.0f;
		for (int j = j0; j < j1; j++) dinp[(size_t)j * C + c] += g;
	}
}

void cu_segpool_forward(float *out, const float *inp, const int32_t *seg, int n_seg, int C)
{
	size_t n = (size_t)n_seg * C;
	if (!n) return;
	segpool_fwd_kernel<<<cu_blocks(n, CU_THREADS), CU_THREADS>>>(out, inp, seg, C, n);
	CU_LAUNCHED();
}

void cu_segpool_backward(float *dinp, const float *dout, const int32_t *seg, int n_seg, int C)
{
	size_t n = (size_t)n_seg * C;
	if (!n) return;
	segpool_bwd_kernel<<<cu_blocks(n, CU_THREADS), CU_THREADS>>>(dinp, dout, seg, C, n);
	CU_LAUNCHED();
}

/* ---- gather / scatter rows ---- */

__global__ static void gather_kernel(float *out, const float *inp, const int32_t *idx, int C, size_t n)
{
	GRID_STRIDE(i, n) out[i] = inp[(size_t)idx[i / C] * C + i % C];
}

__global__ static void scatter_add_kernel(float *dinp, const float *dout, const int32_t *idx, int C,
                                          size_t n)
{
	GRID_STRIDE(i, n) atomicAdd(&dinp[(size_t)idx[i / C] * C + i % C], dout[i]);
}

void cu_gather_rows(float *out, const float *inp, const int32_t *idx, int M, int C)
{
	size_t n = (size_t)M * C;
	gather_kernel<<<cu_blocks(n, CU_THREADS), CU_THREADS>>>(out, inp, idx, C, n);
	CU_LAUNCHED();
}

void cu_scatter_add_rows(float *dinp, const float *dout, const int32_t *idx, int M, int C)
{
	size_t n = (size_t)M * C;
	scatter_add_kernel<<<cu_blocks(n, CU_THREADS), CU_THREADS>>>(dinp, dout, idx, C, n);
	CU_LAUNCHED();
}

/* ---- softmax cross-entropy: one block per row ---- */

/* Block-wide reduction; every thread gets the result. */
template <bool MAX>
__device__ static float block_reduce(float v, float *part)
{
	v = MAX ? cu_warp_max(v) : cu_warp_sum(v);
	__syncthreads(); /* part may still be read by a previous reduction */
	if (threadIdx.x % 32 == 0) part[threadIdx.x / 32] = v;
	__syncthreads();
	float r = part[0];
	for (int k = 1; k < (int)blockDim.x / 32; k++) r = MAX ? fmaxf(r, part[k]) : r + part[k];
	return r;
}

__global__ static void xent_fwd_kernel(float *loss, float *probs, const float *logits,
                                       const int32_t *targets, int C)
{
	__shared__ float part[32];
	size_t n = blockIdx.x;
	const float *x = logits + n * C;
	float *p = probs + n * C;
	float m = -INFINITY;
	for (int c = threadIdx.x; c < C; c += blockDim.x) m = fmaxf(m, x[c]);
	m = block_reduce<true>(m, part);
	float s = 0.0f;
	for (int c = threadIdx.x; c < C; c += blockDim.x) s += expf(x[c] - m);
	s = block_reduce<false>(s, part);
	for (int c = threadIdx.x; c < C; c += blockDim.x) p[c] = expf(x[c] - m) / s;
	if (threadIdx.x == 0) {
		int t = targets[n];
		loss[n] = t >= 0 ? logf(s) - (x[t] - m) : 0.0f;
	}
}

__global__ static void xent_bwd_kernel(float *dlogits, const float *probs, const int32_t *targets,
                                       float dscale, int C, size_t n)
{
	GRID_STRIDE(i, n) {
		int t = targets[i / C];
		if (t >= 0) dlogits[i] += dscale * (probs[i] - ((int)(i % C) == t ? 1.0f : 0.0f));
	}
}

void cu_xent_forward(float *loss, float *probs, const float *logits, const int32_t *targets,
                     int N, int C)
{
	if (N == 0) return;
	xent_fwd_kernel<<<N, CU_THREADS>>>(loss, probs, logits, targets, C);
	CU_LAUNCHED();
}

void cu_xent_backward(float *dlogits, const float *probs, const int32_t *targets,
                      float dscale, int N, int C)
{
	size_t n = (size_t)N * C;
	xent_bwd_kernel<<<cu_blocks(n, CU_THREADS), CU_THREADS>>>(dlogits, probs, targets, dscale, C, n);
	CU_LAUNCHED();
}

/* ---- sums in double: per-block partials, added on the host in order ---- */

#define SUM_BLOCKS 256

template <bool SQUARES>
__global__ static void sum_kernel(double *partial, const float *x, size_t n)
{
	__shared__ double part[CU_THREADS / 32];
	double s = 0.0;
	GRID_STRIDE(i, n) s += SQUARES ? (double)x[i] * x[i] : (double)x[i];
	s = cu_warp_sum_d(s);
	if (threadIdx.x % 32 == 0) part[threadIdx.x / 32] = s;
	__syncthreads();
	if (threadIdx.x == 0) {
		double t = 0.0;
		for (int k = 0; k < CU_THREADS / 32; k++) t += part[k];
		partial[blockIdx.x] = t;
	}
}

template <bool SQUARES>
static double sum_of(const float *x, size_t n)
{
	double host[SUM_BLOCKS], t = 0.0;
	double *partial = (double *)cu_scratch(sizeof host);
	sum_kernel<SQUARES><<<SUM_BLOCKS, CU_THREADS>>>(partial, x, n);
	CU_LAUNCHED();
	CU_CHECK(cudaMemcpy(host, partial, sizeof host, cudaMemcpyDeviceToHost));
	for (int k = 0; k < SUM_BLOCKS; k++) t += host[k];
	return t;
}

double cu_sum_squares(const float *x, size_t n)
{
	return sum_of<true>(x, n);
}

double cu_sum(const float *x, size_t n)
{
	return sum_of<false>(x, n);
}

/* ---- AdamW ---- */

__global__ static void adamw_kernel(float *p, const float *g, float *m, float *v, size_t n, float lr,
                                    float b1, float b2, float eps, float wd, float bc1, float bc2)
{
	GRID_STRIDE(i, n) {
		float gi = g[i];
		float mi = b1 * m[i] + (1.0f - b1) * gi;
		float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
		m[i] = mi;
		v[i] = vi;
		p[i] -= lr * (mi / bc1 / (sqrtf(vi / bc2) + eps) + wd * p[i]);
	}
}

void cu_adamw(float *p, const float *g, float *m, float *v, size_t n, float lr,
              float b1, float b2, float eps, float wd, float bc1, float bc2)
{
	adamw_kernel<<<cu_blocks(n, CU_THREADS), CU_THREADS>>>(p, g, m, v, n, lr, b1, b2, eps, wd,
	                                                        bc1, bc2);
	CU_LAUNCHED();
}
