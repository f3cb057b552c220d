/* LSH hashing and chunked attention (FULL, LOCAL, LSH) for the CUDA backend.
 *
 * Every kind runs as LOCAL attention over a "sorted order" of the positions:
 * the identity for FULL and LOCAL (FULL being one chunk of L), the stable
 * (bucket, position) order of each round for LSH. A block owns a tile of T
 * rows (queries, or keys in the dk/dv pass) of one chunk of one (b, h) in
 * one round, gathers them into shared memory once, and walks the window's
 * tiles of T rows the same way: every product of a tile pair (scores, P V,
 * dO V^T, dS K, P^T dO, dS^T Q) is a small GEMM in shared memory, on tensor
 * cores (TF32 in, fp32 accumulate) when rf_cuda_set_math(1) is on, else in
 * plain fp32 on the CUDA cores (the parity path). Masks, softmax and the
 * score gradients are elementwise passes over the score tile between them.
 *
 * Rounds are combined online: after round r, out and lse hold the
 * combination of rounds 0..r, which equals the definition's
 * sum_r o_r exp(lse_r - logsumexp lse). A log-sum-exp is kept as a pair
 * (max, log of the scaled sum): a token alone in view scores -1e5, where one
 * float would round away the log of the number of rounds.
 *
 * The backward pass treats the combined output as one softmax over every
 * (round, key) pair: with P = exp(score - LSE) and delta = dout . out,
 * dscore = P (dout . v - delta), dv += P dout. Queries (dq) and keys (dk,
 * dv) are done by separate kernels, each owning its rows within a round, and
 * rounds run one after another: no atomics, the same result every time. */
#include <cub/device/device_radix_sort.cuh>
#include <math.h>
#include <mma.h>

#include <algorithm>
#include <type_traits>

#include "model/cuda/cu_internal.h"

#define ATT_WARPS 8
#define ATT_THREADS (ATT_WARPS * 32)
#define ATT_MAX_DH 128
/* Keys are x / sqrt(|x|^2 + eps): unit length but finite at x = 0. */
#define ATT_NORM_EPS 1e-12f

/* The attention call as chunked LOCAL attention in a sorted order, and its
 * tiling: T rows per tile, features padded to DP (a multiple of 16, the
 * tensor-core shape) and stored DS apart in shared memory. */
typedef struct {
	int B, L, H, dh, HD;
	/* packed segments (varlen): sequence b is rows [seg[b], seg[b+1]) of N,
	 * L its longest; NULL: sequence b is rows [b*L, (b+1)*L), N = B*L */
	const int32_t *seg;
	int N;
	int C, nc, nb, na;   /* chunk length, chunks, chunks seen before/after */
	int causal, R, lsh;
	int T, DP, DS;
	int vec;             /* rows are read as float4: dh % 4 == 0, 16-byte aligned inputs */
} att_geom_t;

/* Tiles of 64 rows up to 64 features, else 32, so the dk/dv pass (six row
 * buffers) fits in shared memory for every head width up to 128. DS = DP + 4
 * spreads the rows of a tile over the banks. */
static void att_tiling(att_geom_t *g)
{
	g->DP = (g->dh + 15) & ~15;
	g->DS = g->DP + 4;
	g->T = g->dh <= 64 ? 64 : 32;
}

int cu_supports_attn(const rf_attn_shape_t *s, char *why, size_t whylen)
{
	if (s->dh >= 1 && s->dh <= ATT_MAX_DH) return 0;
	snprintf(why, whylen, "attention head width %d above %d", s->dh, ATT_MAX_DH);
	return -1;
}

static att_geom_t att_geom(const rf_attn_shape_t *s, const char *op)
{
	att_geom_t g;
	g.B = s->B; g.L = s->L; g.H = s->H; g.dh = s->dh; g.HD = s->H * s->dh;
	g.seg = NULL; g.N = s->B * s->L;
	g.causal = s->causal;
	if (s->kind == RF_ATTN_FULL || s->L <= s->chunk_len) {
		g.C = s->L; g.nc = 1; g.nb = 0; g.na = 0; g.R = 1; g.lsh = 0;
	} else {
		g.C = s->chunk_len; g.nc = s->L / s->chunk_len; g.nb = s->n_before; g.na = s->n_after;
		g.lsh = s->kind == RF_ATTN_LSH;
		g.R = g.lsh ? s->n_hashes : 1;
	}
	char why[128];
	if (cu_supports_attn(s, why, sizeof why)) cu_fail(op, __FILE__, __LINE__, why);
	att_tiling(&g);
	g.vec = 0;
	return g;
}

/* Whether the rows of a, b and c (NULL or 16-byte aligned) can be read as
 * float4. */
static int att_vec(const att_geom_t &g, const float *a, const float *b, const float *c)
{
	return g.dh % 4 == 0 && ((uintptr_t)a | (uintptr_t)b | (uintptr_t)c) % 16 == 0;
}

/* Bytes of shared memory of a kernel with nbuf row buffers [T, DS], nsq
 * score tiles [T, T+4], four float and three int arrays of T. Every buffer
 * is a multiple of 8 floats, so each starts 32-byte aligned (WMMA). */
static size_t att_smem(const att_geom_t &g, int nbuf, int nsq)
{
	return ((size_t)nbuf * g.T * g.DS + (size_t)nsq * g.T * (g.T + 4) + 4 * g.T) * sizeof(float) +
	       3 * (size_t)g.T * sizeof(int);
}

/* The k-th distinct chunk of the window of chunk c (sign +1: the key chunks a
 * query chunk sees; sign -1: the query chunks that see a key chunk), or -1
 * when the k-th offset repeats an earlier chunk. */
__device__ static inline int att_window(const att_geom_t &g, int c, int k, int sign)
{
	int o = k - g.nb;
	int x = ((c + sign * o) % g.nc + g.nc) % g.nc;
	for (int o2 = -g.nb; o2 < o; o2++)
		if (((c + sign * o2) % g.nc + g.nc) % g.nc == x) return -1;
	return x;
}

/* Score after the masks, which replace rather than add; *repl says the score
 * is a constant (no gradient). kpos < 0 is no key at all. */
__device__ static inline float att_masked(float dot, int qpos, int kpos, int kok, int causal,
                                          bool *repl)
{
	*repl = true;
	if (kpos < 0) return -INFINITY;
	if (kpos == qpos) return RF_SELF_MASK_VALUE;
	if (!kok || (causal && kpos > qpos)) return RF_MASK_VALUE;
	*repl = false;
	return dot;
}

/* Position of sorted index i of (b, h) in round r. */
__device__ static inline int att_pos(const int32_t *perm, const att_geom_t &g, int bh, int r, int i)
{
	return perm ? perm[((size_t)bh * g.R + r) * g.L + i] : i;
}

/* First row of sequence b, and its length. */
__device__ static inline size_t att_first(const att_geom_t &g, int b)
{
	return g.seg ? (size_t)g.seg[b] : (size_t)b * g.L;
}

__device__ static inline int att_len(const att_geom_t &g, int b)
{
	return g.seg ? g.seg[b + 1] - g.seg[b] : g.L;
}

__device__ static inline size_t att_row(const att_geom_t &g, int b, int pos, int h)
{
	return (att_first(g, b) + pos) * g.HD + (size_t)h * g.dh;
}

/* Index of (b, pos, h) in the per-token-and-head arrays (rn, lse, delta). */
__device__ static inline size_t att_tok(const att_geom_t &g, int b, int pos, int h)
{
	return (att_first(g, b) + pos) * g.H + h;
}

/* rn[(b*L+pos)*H + h] = 1/sqrt(|qk row|^2 + eps); one warp per (token, head). */
__global__ static void att_rnorm_kernel(float *rn, const float *qk, int n, int dh)
{
	int w = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32;
	if (w >= n) return;
	const float *x = qk + (size_t)w * dh;
	float s = 0.0f;
	for (int d = lane; d < dh; d += 32) s += x[d] * x[d];
	s = cu_warp_sum(s);
	if (lane == 0) rn[w] = 1.0f / sqrtf(s + ATT_NORM_EPS);
}

/* delta[(b*L+pos)*H + h] = dout . out over the head's features. */
__global__ static void att_delta_kernel(float *delta, const float *dout, const float *out, int n,
                                        int dh)
{
	int w = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32;
	if (w >= n) return;
	float s = 0.0f;
	for (int d = lane; d < dh; d += 32) s += dout[(size_t)w * dh + d] * out[(size_t)w * dh + d];
	s = cu_warp_sum(s);
	if (lane == 0) delta[w] = s;
}

/* Whether the TF path runs on tensor cores: on targets before sm_80 (no
 * TF32 MMA) the TF kernels compile to the fp32 path, so every target of a
 * fat binary has both instantiations (the host chooses; see cu_tf32). */
#define ATT_TC(TF) ((TF) && CU_SM80_MMA)

/* The accumulator of one 16 x 16 output tile: a WMMA fragment on tensor
 * cores (TF), else 8 floats per lane, rows (lane/4, lane/4+8) by 4 columns. */
template <bool TF>
struct att_frag {
	typename std::conditional<ATT_TC(TF), nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 8, float>,
	                          float[2][4]>::type v;
};

template <bool TF>
__device__ static inline void att_frag_zero(att_frag<TF> &f)
{
	if constexpr (ATT_TC(TF)) {
		nvcuda::wmma::fill_fragment(f.v, 0.0f);
	} else {
#pragma unroll
		for (int u = 0; u < 2; u++)
#pragma unroll
			for (int q = 0; q < 4; q++) f.v[u][q] = 0.0f;
	}
}

/* Loads (store 0) or stores (store 1) the tile at c, row-major, ldc apart. */
template <bool TF>
__device__ static inline void att_frag_io(att_frag<TF> &f, float *c, int ldc, bool store)
{
	if constexpr (ATT_TC(TF)) {
		if (store) nvcuda::wmma::store_matrix_sync(c, f.v, ldc, nvcuda::wmma::mem_row_major);
		else nvcuda::wmma::load_matrix_sync(f.v, c, ldc, nvcuda::wmma::mem_row_major);
	} else {
		int lane = threadIdx.x % 32, r0 = lane / 4, c0 = (lane % 4) * 4;
#pragma unroll
		for (int u = 0; u < 2; u++)
#pragma unroll
			for (int q = 0; q < 4; q++) {
				float *e = c + (r0 + 8 * u) * ldc + c0 + q;
				if (store) *e = f.v[u][q];
				else f.v[u][q] = *e;
			}
	}
}

/* f += A op(B) for one tile: A is the tile's 16 rows [16, K] (lda apart);
 * op(B)[k][n] = B[n*ldb + k] when BT, else B[k*ldb + n], B starting at the
 * tile's first column. K is a multiple of 8. TF: TF32 inputs rounded from
 * fp32, fp32 accumulation. */
template <bool TF, bool BT>
__device__ static inline void att_frag_mac(att_frag<TF> &f, const float *A, int lda, const float *B,
                                           int ldb, int K)
{
	using namespace nvcuda;
	if constexpr (ATT_TC(TF)) {
#if CU_SM80_MMA /* the tf32 types do not exist before sm_80 */
		typedef typename std::conditional<BT, wmma::col_major, wmma::row_major>::type blay;
		for (int k0 = 0; k0 < K; k0 += 8) {
			wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fa;
			wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, blay> fb;
			wmma::load_matrix_sync(fa, A + k0, lda);
			wmma::load_matrix_sync(fb, BT ? B + k0 : B + (size_t)k0 * ldb, ldb);
#pragma unroll
			for (int e = 0; e < fa.num_elements; e++) fa.x[e] = wmma::__float_to_tf32(fa.x[e]);
#pragma unroll
			for (int e = 0; e < fb.num_elements; e++) fb.x[e] = wmma::__float_to_tf32(fb.x[e]);
			wmma::mma_sync(f.v, fa, fb, f.v);
		}
#endif
	} else {
		int lane = threadIdx.x % 32, r0 = lane / 4, c0 = (lane % 4) * 4;
		const float *a0 = A + (size_t)r0 * lda, *a1 = a0 + 8 * (size_t)lda;
		for (int k = 0; k < K; k++) {
			float x0 = a0[k], x1 = a1[k], y[4];
#pragma unroll
			for (int q = 0; q < 4; q++)
				y[q] = BT ? B[(size_t)(c0 + q) * ldb + k] : B[(size_t)k * ldb + c0 + q];
#pragma unroll
			for (int q = 0; q < 4; q++) {
				f.v[0][q] += x0 * y[q];
				f.v[1][q] += x1 * y[q];
			}
		}
	}
}

/* The first row and column of output tile t of an [M, N] product. */
__device__ static inline void att_tile_at(int t, int N, int *i0, int *j0)
{
	*i0 = t / (N / 16) * 16;
	*j0 = t % (N / 16) * 16;
}

/* Start of op(B)'s column j0. */
template <bool BT>
__device__ static inline const float *att_bcol(const float *B, int ldb, int j0)
{
	return BT ? B + (size_t)j0 * ldb : B + j0;
}

/* C[M,N] = A[M,K] op(B) (+ C when acc), all in shared memory, row-major
 * (att_frag_mac); M and N multiples of 16. The warps share out the tiles. */
template <bool TF, bool BT>
__device__ static void att_mm(float *C, int ldc, const float *A, int lda, const float *B, int ldb,
                              int M, int N, int K, bool acc)
{
	for (int t = threadIdx.x / 32; t < (M / 16) * (N / 16); t += ATT_WARPS) {
		int i0, j0;
		att_tile_at(t, N, &i0, &j0);
		att_frag<TF> f;
		float *c = C + (size_t)i0 * ldc + j0;
		if (acc) att_frag_io(f, c, ldc, false);
		else att_frag_zero(f);
		att_frag_mac<TF, BT>(f, A + (size_t)i0 * lda, lda, att_bcol<BT>(B, ldb, j0), ldb, K);
		att_frag_io(f, c, ldc, true);
	}
}

/* Output accumulators a warp keeps in registers across a block's products:
 * tiles warp + ATT_WARPS*u of an [M, DP] result. att_tiling keeps
 * (T/16)*(DP/16) <= ATT_ACC*ATT_WARPS. */
#define ATT_ACC 2

template <bool TF>
__device__ static void att_regs_zero(att_frag<TF> (&f)[ATT_ACC])
{
#pragma unroll
	for (int u = 0; u < ATT_ACC; u++) att_frag_zero(f[u]);
}

/* f += A[M,K] op(B) for the warp's tiles of the [M, N] result. */
template <bool TF, bool BT>
__device__ static void att_regs_mac(att_frag<TF> (&f)[ATT_ACC], const float *A, int lda, const float *B,
                                    int ldb, int M, int N, int K)
{
#pragma unroll
	for (int u = 0; u < ATT_ACC; u++) {
		int t = threadIdx.x / 32 + ATT_WARPS * u, i0, j0;
		if (t >= (M / 16) * (N / 16)) break;
		att_tile_at(t, N, &i0, &j0);
		att_frag_mac<TF, BT>(f[u], A + (size_t)i0 * lda, lda, att_bcol<BT>(B, ldb, j0), ldb, K);
	}
}

/* Writes the warp's tiles of the [M, N] result into C (ldc apart). */
template <bool TF>
__device__ static void att_regs_store(float *C, int ldc, att_frag<TF> (&f)[ATT_ACC], int M, int N)
{
#pragma unroll
	for (int u = 0; u < ATT_ACC; u++) {
		int t = threadIdx.x / 32 + ATT_WARPS * u, i0, j0;
		if (t >= (M / 16) * (N / 16)) break;
		att_tile_at(t, N, &i0, &j0);
		att_frag_io(f[u], C + (size_t)i0 * ldc + j0, ldc, true);
	}
}

/* Four floats of a row from p, of which n are in the row (the rest zero). */
__device__ static inline float4 att_ld4(const float *p, int n, int vec)
{
	if (vec) return *(const float4 *)p;
	float4 r = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
	if (n > 0) r.x = p[0];
	if (n > 1) r.y = p[1];
	if (n > 2) r.z = p[2];
	if (n > 3) r.w = p[3];
	return r;
}

#define ATT_LOAD_UNROLL 4   /* float4 reads a thread has in flight */

/* Gathers count rows from sorted index first of (b, h) in round r into T
 * rows of stride DS: positions into pos_s (-1 past count), the key mask into
 * ok_s when given, the row scale into rs (rn when unit, else 1), rows of x
 * times rs into X and of y into Y when given; zero past count rows and dh
 * features. Each thread issues ATT_LOAD_UNROLL reads of 4 features before
 * storing any. Synchronises before (the previous tile is no longer read) and
 * after. */
__device__ static void att_load(float *X, float *Y, int *pos_s, int *ok_s, float *rs, const float *x,
                                const float *y, const float *rn, const int32_t *perm,
                                const uint8_t *mask, const att_geom_t &g, int b, int h, int r,
                                int first, int count, bool unit)
{
	int bh = b * g.H + h, len = att_len(g, b);
	__syncthreads();
	for (int i = threadIdx.x; i < g.T; i += blockDim.x) {
		int p = i < count && first + i < len ? att_pos(perm, g, bh, r, first + i) : -1;
		pos_s[i] = p;
		if (ok_s) ok_s[i] = p >= 0 && (!mask || mask[(size_t)b * g.L + p]);
		rs[i] = unit && p >= 0 ? rn[att_tok(g, b, p, h)] : 1.0f;
	}
	__syncthreads();
	int d4 = g.DP / 4, n = g.T * d4;
	for (int base = threadIdx.x; base < n; base += ATT_LOAD_UNROLL * ATT_THREADS) {
		float4 xv[ATT_LOAD_UNROLL], yv[ATT_LOAD_UNROLL];
#pragma unroll
		for (int u = 0; u < ATT_LOAD_UNROLL; u++) {
			int idx = base + u * ATT_THREADS, d = idx % d4 * 4;
			int p = idx < n ? pos_s[idx / d4] : -1;
			xv[u] = yv[u] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
			if (p >= 0 && d < g.dh) {
				size_t row = att_row(g, b, p, h) + d;
				xv[u] = att_ld4(x + row, g.dh - d, g.vec);
				if (Y) yv[u] = att_ld4(y + row, g.dh - d, g.vec);
			}
		}
#pragma unroll
		for (int u = 0; u < ATT_LOAD_UNROLL; u++) {
			int idx = base + u * ATT_THREADS, i = idx / d4, d = idx % d4 * 4;
			if (idx >= n) break;
			float sc = rs[i];
			float4 xs = make_float4(xv[u].x * sc, xv[u].y * sc, xv[u].z * sc, xv[u].w * sc);
			*(float4 *)(X + i * g.DS + d) = xs;
			if (Y) *(float4 *)(Y + i * g.DS + d) = yv[u];
		}
	}
	__syncthreads();
}

/* Per-row log-sum-exp pair and delta of the T rows at pos_s (zero for no
 * row), then a barrier. */
__device__ static void att_load_stats(float *m_s, float *s_s, float *d_s, const int *pos_s,
                                      const float *lse_m, const float *lse_s, const float *delta,
                                      const att_geom_t &g, int b, int h)
{
	for (int i = threadIdx.x; i < g.T; i += blockDim.x) {
		int p = pos_s[i];
		size_t t = att_tok(g, b, p < 0 ? 0 : p, h);
		m_s[i] = p < 0 ? 0.0f : lse_m[t];
		s_s[i] = p < 0 ? 0.0f : lse_s[t];
		d_s[i] = p < 0 ? 0.0f : delta[t];
	}
	__syncthreads();
}

__device__ static void att_zero(float *x, int n)
{
	for (int i = threadIdx.x; i < n; i += blockDim.x) x[i] = 0.0f;
}

static inline __host__ __device__ int att_up16(int n)
{
	return (n + 15) & ~15;
}

/* The block's tile: rows t0 .. t0+n-1 (n padded to m, a multiple of 16) of
 * chunk c of (b, h) = blockIdx.y. */
typedef struct {
	int c, t0, b, h, n, m;
} att_tile_t;

__device__ static att_tile_t att_tile(const att_geom_t &g)
{
	att_tile_t t;
	int tiles = (g.C + g.T - 1) / g.T;
	t.c = blockIdx.x / tiles;
	t.t0 = (blockIdx.x % tiles) * g.T;
	t.b = blockIdx.y / g.H;
	t.h = blockIdx.y % g.H;
	t.n = min(g.T, g.C - t.t0);
	t.m = att_up16(t.n);
	return t;
}

/* Forward of round r for T queries: per key tile of the window, S = Q K^T,
 * masks and the online softmax update (which also rescales the output
 * accumulator O), then O += P V; the result is folded into out/lse (first:
 * set). */
template <bool TF>
__global__ static void __launch_bounds__(ATT_THREADS)
att_fwd_kernel(float *out, float *lse_m, float *lse_s, const float *qk, const float *v, const float *rn,
               const int32_t *perm, const uint8_t *mask, att_geom_t g, int r, int first)
{
	extern __shared__ __align__(128) float sm[];
	int T = g.T, DS = g.DS, LS = T + 4;
	float *Qs = sm, *Ks = Qs + T * DS, *Vs = Ks + T * DS, *Os = Vs + T * DS, *Ss = Os + T * DS;
	float *m_s = Ss + T * LS, *l_s = m_s + T, *rs = l_s + T;
	int *qpos = (int *)(rs + 2 * T), *kpos = qpos + T, *kok = kpos + T;
	att_tile_t tl = att_tile(g);
	int c = tl.c, b = tl.b, h = tl.h, nown = tl.n, mown = tl.m;
	int warp = threadIdx.x / 32, lane = threadIdx.x % 32;

	att_zero(Os, T * DS);
	for (int i = threadIdx.x; i < T; i += blockDim.x) {
		m_s[i] = -INFINITY;
		l_s[i] = 0.0f;
	}
	att_load(Qs, NULL, qpos, NULL, rs, qk, NULL, rn, perm, mask, g, b, h, r, c * g.C + tl.t0, nown, false);
	for (int k = 0; k <= g.nb + g.na; k++) {
		int w = att_window(g, c, k, 1);
		if (w < 0) continue;
		for (int kt = 0; kt < g.C; kt += T) {
			int nk = min(T, g.C - kt), mk = att_up16(nk);
			att_load(Ks, Vs, kpos, kok, rs, qk, v, rn, perm, mask, g, b, h, r, w * g.C + kt, nk, true);
			att_mm<TF, true>(Ss, LS, Qs, DS, Ks, DS, mown, mk, g.DP, false);
			__syncthreads();
			for (int i = warp; i < mown; i += ATT_WARPS) {
				int qp = qpos[i];
				float mx = -INFINITY;
				for (int j = lane; j < mk; j += 32) {
					bool repl;
					float s = att_masked(Ss[i * LS + j], qp, kpos[j], kok[j], g.causal, &repl);
					Ss[i * LS + j] = s;
					mx = fmaxf(mx, s);
				}
				float mo = m_s[i], mn = fmaxf(mo, cu_warp_max(mx)), sc = expf(mo - mn), sum = 0.0f;
				for (int j = lane; j < mk; j += 32) {
					float p = qp >= 0 ? expf(Ss[i * LS + j] - mn) : 0.0f;
					Ss[i * LS + j] = p;
					sum += p;
				}
				sum = cu_warp_sum(sum);
				for (int d = lane; d < g.DP; d += 32) Os[i * DS + d] *= sc;
				__syncwarp();
				if (lane == 0) {
					l_s[i] = l_s[i] * sc + sum;
					m_s[i] = mn;
				}
			}
			__syncthreads();
			att_mm<TF, false>(Os, DS, Ss, LS, Vs, DS, mown, g.DP, mk, true);
		}
	}
	__syncthreads();
	for (int i = warp; i < nown; i += ATT_WARPS) {
		int qp = qpos[i];
		if (qp < 0) continue;
		size_t li = att_tok(g, b, qp, h);
		float l = l_s[i], m = m_s[i];
		float sr = logf(l), nm = m, ns = sr, wo = 0.0f, wn = 1.0f / l;
		if (!first) {
			float om = lse_m[li], os = lse_s[li];
			nm = fmaxf(om, m);
			ns = logf(expf((om - nm) + os) + expf((m - nm) + sr));
			wo = expf((om - nm) + (os - ns));
			wn *= expf((m - nm) + (sr - ns));
		}
		float *o = out + att_row(g, b, qp, h);
		for (int d = lane; d < g.dh; d += 32)
			o[d] = (first ? 0.0f : o[d] * wo) + Os[i * DS + d] * wn;
		if (lane == 0) {
			lse_m[li] = nm;
			lse_s[li] = ns;
		}
	}
}

/* The shared memory of the two backward kernels, laid out as att_smem(g, 4,
 * 2) counts it: four row buffers [T, DS], two score tiles [T, T+4], four
 * float arrays and three int arrays of T. */
struct att_bwd_smem {
	float *row[4], *S, *P, *f[4];
	int *i[3];
};

__device__ __forceinline__ static att_bwd_smem att_bwd_carve(float *sm, const att_geom_t &g)
{
	att_bwd_smem m;
	int T = g.T, DS = g.DS, LS = T + 4;
	for (int k = 0; k < 4; k++) m.row[k] = sm + k * T * DS;
	m.S = sm + 4 * T * DS;
	m.P = m.S + T * LS;
	for (int k = 0; k < 4; k++) m.f[k] = m.P + T * LS + k * T;
	for (int k = 0; k < 3; k++) m.i[k] = (int *)(m.f[3] + T) + k * T;
	return m;
}

/* dq of round r for T queries: per key tile, S = Q K^T and dP = dO V^T, then
 * dS = P (dP - delta) for unreplaced scores, then dQ += dS K, kept in
 * registers and added to dqk at the end. */
template <bool TF>
__global__ static void __launch_bounds__(ATT_THREADS)
att_dq_kernel(float *dqk, const float *dout, const float *qk, const float *v, const float *rn,
              const float *lse_m, const float *lse_s, const float *delta, const int32_t *perm,
              const uint8_t *mask, att_geom_t g, int r)
{
	extern __shared__ __align__(128) float sm[];
	int T = g.T, DS = g.DS, LS = T + 4;
	att_bwd_smem m = att_bwd_carve(sm, g);
	float *Qs = m.row[0], *Os = m.row[1], *Ks = m.row[2], *Vs = m.row[3], *Ss = m.S, *Ps = m.P;
	float *qm = m.f[0], *qs = m.f[1], *qd = m.f[2], *rs = m.f[3];
	int *qpos = m.i[0], *kpos = m.i[1], *kok = m.i[2];
	att_tile_t tl = att_tile(g);
	int c = tl.c, b = tl.b, h = tl.h, nown = tl.n, mown = tl.m;
	att_frag<TF> gq[ATT_ACC];

	att_regs_zero(gq);
	att_load(Qs, Os, qpos, NULL, rs, qk, dout, rn, perm, mask, g, b, h, r, c * g.C + tl.t0, nown, false);
	att_load_stats(qm, qs, qd, qpos, lse_m, lse_s, delta, g, b, h);
	for (int k = 0; k <= g.nb + g.na; k++) {
		int w = att_window(g, c, k, 1);
		if (w < 0) continue;
		for (int kt = 0; kt < g.C; kt += T) {
			int nk = min(T, g.C - kt), mk = att_up16(nk);
			att_load(Ks, Vs, kpos, kok, rs, qk, v, rn, perm, mask, g, b, h, r, w * g.C + kt, nk, true);
			att_mm<TF, true>(Ss, LS, Qs, DS, Ks, DS, mown, mk, g.DP, false);
			att_mm<TF, true>(Ps, LS, Os, DS, Vs, DS, mown, mk, g.DP, false);
			__syncthreads();
			for (int idx = threadIdx.x; idx < mown * mk; idx += blockDim.x) {
				int i = idx / mk, j = idx % mk, qp = qpos[i];
				bool repl;
				float s = att_masked(Ss[i * LS + j], qp, kpos[j], kok[j], g.causal, &repl);
				Ss[i * LS + j] = qp >= 0 && !repl ?
				                 expf((s - qm[i]) - qs[i]) * (Ps[i * LS + j] - qd[i]) : 0.0f;
			}
			__syncthreads();
			att_regs_mac<TF, false>(gq, Ss, LS, Ks, DS, mown, g.DP, mk);
		}
	}
	__syncthreads();
	att_regs_store(Qs, DS, gq, mown, g.DP);
	__syncthreads();
	for (int idx = threadIdx.x; idx < nown * g.dh; idx += blockDim.x) {
		int i = idx / g.dh, d = idx % g.dh, qp = qpos[i];
		if (qp >= 0) dqk[att_row(g, b, qp, h) + d] += Qs[i * DS + d];
	}
}

/* dk and dv of round r for T keys of one chunk, over the query tiles of the
 * chunks that see it: S^T = K Q^T, dP^T = V dO^T, then P and dS in place,
 * then dV += P^T dO and dK += dS^T Q, kept in registers. dk goes back
 * through the unit normalisation: dx = rn (dk - k (k . dk)). */
template <bool TF>
__global__ static void __launch_bounds__(ATT_THREADS)
att_dkv_kernel(float *dqk, float *dv, const float *dout, const float *qk, const float *v,
               const float *rn, const float *lse_m, const float *lse_s, const float *delta,
               const int32_t *perm, const uint8_t *mask, att_geom_t g, int r)
{
	extern __shared__ __align__(128) float sm[];
	int T = g.T, DS = g.DS, LS = T + 4;
	att_bwd_smem m = att_bwd_carve(sm, g);
	float *Kn = m.row[0], *Vk = m.row[1], *Qs = m.row[2], *Os = m.row[3], *Ss = m.S, *Ps = m.P;
	float *qm = m.f[0], *qs = m.f[1], *qd = m.f[2], *rs = m.f[3];
	int *kpos = m.i[0], *kok = m.i[1], *qpos = m.i[2];
	att_tile_t tl = att_tile(g);
	int c = tl.c, b = tl.b, h = tl.h, nown = tl.n, mown = tl.m;
	int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
	att_frag<TF> gk[ATT_ACC], gv[ATT_ACC];

	att_regs_zero(gk);
	att_regs_zero(gv);
	att_load(Kn, Vk, kpos, kok, rs, qk, v, rn, perm, mask, g, b, h, r, c * g.C + tl.t0, nown, true);
	for (int k = 0; k <= g.nb + g.na; k++) {
		int w = att_window(g, c, k, -1);
		if (w < 0) continue;
		for (int qt = 0; qt < g.C; qt += T) {
			int nq = min(T, g.C - qt), mq = att_up16(nq);
			att_load(Qs, Os, qpos, NULL, rs, qk, dout, rn, perm, mask, g, b, h, r, w * g.C + qt, nq, false);
			att_load_stats(qm, qs, qd, qpos, lse_m, lse_s, delta, g, b, h);
			att_mm<TF, true>(Ss, LS, Kn, DS, Qs, DS, mown, mq, g.DP, false);
			att_mm<TF, true>(Ps, LS, Vk, DS, Os, DS, mown, mq, g.DP, false);
			__syncthreads();
			for (int idx = threadIdx.x; idx < mown * mq; idx += blockDim.x) {
				int a = idx / mq, j = idx % mq, qp = qpos[j], kp = kpos[a];
				bool repl;
				float s = att_masked(Ss[a * LS + j], qp, kp, kok[a], g.causal, &repl);
				float P = qp >= 0 && kp >= 0 ? expf((s - qm[j]) - qs[j]) : 0.0f;
				Ss[a * LS + j] = P;
				Ps[a * LS + j] = repl ? 0.0f : P * (Ps[a * LS + j] - qd[j]);
			}
			__syncthreads();
			att_regs_mac<TF, false>(gv, Ss, LS, Os, DS, mown, g.DP, mq);
			att_regs_mac<TF, false>(gk, Ps, LS, Qs, DS, mown, g.DP, mq);
		}
	}
	__syncthreads();
	att_regs_store(Qs, DS, gk, mown, g.DP);
	att_regs_store(Os, DS, gv, mown, g.DP);
	__syncthreads();
	for (int a = warp; a < nown; a += ATT_WARPS) {
		int kp = kpos[a];
		if (kp < 0) continue;
		float kd = 0.0f;
		for (int d = lane; d < g.dh; d += 32) kd += Kn[a * DS + d] * Qs[a * DS + d];
		kd = cu_warp_sum(kd);
		float rk = rn[att_tok(g, b, kp, h)];
		size_t row = att_row(g, b, kp, h);
		for (int d = lane; d < g.dh; d += 32) {
			dqk[row + d] += rk * (Qs[a * DS + d] - Kn[a * DS + d] * kd);
			dv[row + d] += Os[a * DS + d];
		}
	}
}

/* ---- hashing ---- */

#define HASH_TILE 64   /* positions per block */

/* Argmax over [y, -y] for y = x R[:, col0 .. col0+n) (first maximum on
 * ties); x is a staged row, R's row d at rot + d*stride. */
__device__ static int hash_argmax(const float *x, const float *rot, int dh, size_t stride, int col0,
                                  int n)
{
	float bpos = -INFINITY, bneg = -INFINITY;
	int ipos = 0, ineg = 0;
	for (int c = 0; c < n; c++) {
		float y = 0.0f;
		for (int d = 0; d < dh; d++) y += x[d] * rot[(size_t)d * stride + col0 + c];
		if (y > bpos) { bpos = y; ipos = c; }
		if (-y > bneg) { bneg = -y; ineg = c; }
	}
	return bneg > bpos ? n + ineg : ipos;
}

/* A block stages HASH_TILE rows of one (b, h) and hashes them in every
 * round; the rotation reads are the same address across the warp. */
__global__ static void lsh_hash_kernel(uint16_t *buckets, const float *qk, const float *rot,
                                       const uint8_t *mask, att_geom_t g, int nb, int nb1, int rc)
{
	extern __shared__ float X[];
	int ks = g.dh | 1; /* odd: the 32 lanes' rows start in distinct banks */
	int b = blockIdx.y / g.H, h = blockIdx.y % g.H;
	int p0 = blockIdx.x * HASH_TILE, nb2 = nb / nb1;
	for (int idx = threadIdx.x; idx < HASH_TILE * g.dh; idx += blockDim.x) {
		int i = idx / g.dh, d = idx % g.dh;
		X[i * ks + d] = p0 + i < g.L ? qk[att_row(g, b, p0 + i, h) + d] : 0.0f;
	}
	__syncthreads();
	int pos = p0 + threadIdx.x;
	if (pos >= g.L) return;
	const float *x = X + threadIdx.x * ks;
	int pad = mask && !mask[(size_t)b * g.L + pos];
	for (int r = 0; r < g.R; r++) {
		const float *rh = rot + ((size_t)h * g.dh * g.R + r) * rc;
		size_t stride = (size_t)g.R * rc;
		int bk = nb;
		if (!pad) {
			bk = hash_argmax(x, rh, g.dh, stride, 0, nb1 / 2);
			if (nb2 > 1) bk += nb1 * hash_argmax(x, rh, g.dh, stride, nb1 / 2, nb2 / 2);
		}
		buckets[((size_t)blockIdx.y * g.R + r) * g.L + pos] = (uint16_t)bk;
	}
}

void cu_lsh_hash(uint16_t *buckets, const float *qk, const float *rot,
                 const uint8_t *mask, const rf_attn_shape_t *s)
{
	att_geom_t g = att_geom(s, __func__);
	g.R = s->n_hashes;
	if (g.B * g.L == 0) return;
	dim3 grid((g.L + HASH_TILE - 1) / HASH_TILE, g.B * g.H);
	size_t smem = (size_t)HASH_TILE * (g.dh | 1) * sizeof(float);
	lsh_hash_kernel<<<grid, HASH_TILE, smem>>>(buckets, qk, rot, mask, g, s->n_buckets,
	                                           s->n_buckets1, rf_attn_rot_cols(s));
	CU_LAUNCHED();
}

/* ---- sorting: one 64-bit key per (segment, bucket, pos), unique, so the
 * sorted order is exactly the stable (bucket, pos) order of each segment ---- */

__global__ static void sort_keys_kernel(uint64_t *keys, const uint16_t *buckets, int L, int nbk,
                                        size_t n)
{
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x) {
		size_t seg = i / L;
		keys[i] = ((uint64_t)seg * nbk + buckets[i]) * (uint64_t)L + i % L;
	}
}

__global__ static void sort_perm_kernel(int32_t *perm, const uint64_t *keys, int L, size_t n)
{
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x)
		perm[i] = (int32_t)(keys[i] % (uint64_t)L);
}

static int sort_bits(const att_geom_t &g, int nb)
{
	uint64_t top = (uint64_t)g.B * g.H * g.R * (nb + 1) * (uint64_t)g.L;
	int bits = 1;
	while (bits < 64 && (top >> bits) != 0) bits++;
	return bits;
}

/* ---- workspace ---- */

typedef struct {
	float *rn, *lse_m, *lse_s, *delta;  /* [N*H] each */
	float *out;                         /* [N*HD] recomputed output */
	int32_t *perm;                   /* [B,H,R,L] sorted index -> position */
	uint64_t *kin, *kout;            /* sort keys */
	void *tmp;                       /* CUB temporary storage */
	size_t tmp_bytes, total;
} att_ws_t;

static size_t ws_take(size_t *off, size_t bytes)
{
	size_t at = *off;
	*off += (bytes + 255) & ~(size_t)255;
	return at;
}

/* Lays the workspace out from base (NULL: only sizes it). */
static att_ws_t att_layout(const rf_attn_shape_t *s, const att_geom_t &g, void *base)
{
	att_ws_t w;
	char *p = (char *)base;
	size_t off = 0, nh = (size_t)g.N * g.H, segs = (size_t)g.B * g.H * g.R * g.L;
	w.rn = (float *)(p + ws_take(&off, nh * sizeof(float)));
	w.lse_m = (float *)(p + ws_take(&off, nh * sizeof(float)));
	w.lse_s = (float *)(p + ws_take(&off, nh * sizeof(float)));
	w.delta = (float *)(p + ws_take(&off, nh * sizeof(float)));
	w.out = (float *)(p + ws_take(&off, nh * g.dh * sizeof(float)));
	w.perm = NULL;
	w.kin = w.kout = NULL;
	w.tmp = NULL;
	w.tmp_bytes = 0;
	if (g.lsh) {
		w.perm = (int32_t *)(p + ws_take(&off, segs * sizeof(int32_t)));
		w.kin = (uint64_t *)(p + ws_take(&off, segs * sizeof(uint64_t)));
		w.kout = (uint64_t *)(p + ws_take(&off, segs * sizeof(uint64_t)));
		CU_CHECK(cub::DeviceRadixSort::SortKeys(NULL, w.tmp_bytes, (const uint64_t *)NULL,
		                                        (uint64_t *)NULL, (int64_t)segs, 0,
		                                        sort_bits(g, s->n_buckets)));
		w.tmp = p + ws_take(&off, w.tmp_bytes);
	}
	w.total = off;
	return w;
}

size_t cu_attn_workspace(const rf_attn_shape_t *s)
{
	att_geom_t g = att_geom(s, __func__);
	return att_layout(s, g, NULL).total;
}

/* Row buffers and score tiles of each kernel (att_smem). */
enum { FWD_BUF = 4, FWD_SQ = 1, DQ_BUF = 4, DQ_SQ = 2, DKV_BUF = 4, DKV_SQ = 2 };

/* Lets a kernel use the shared memory of its largest tiling (over 48 KiB):
 * 64-row tiles at 64 features or 32-row tiles at ATT_MAX_DH. */
template <typename K>
static void att_allow(K kernel, int nbuf, int nsq)
{
	size_t most = 0;
	for (int dh = 64; dh <= ATT_MAX_DH; dh += ATT_MAX_DH - 64) {
		att_geom_t g;
		g.dh = dh;
		att_tiling(&g);
		most = std::max(most, att_smem(g, nbuf, nsq));
	}
	CU_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)most));
}

template <bool TF>
static void att_init(void)
{
	static int done;
	if (done) return;
	att_allow(att_fwd_kernel<TF>, FWD_BUF, FWD_SQ);
	att_allow(att_dq_kernel<TF>, DQ_BUF, DQ_SQ);
	att_allow(att_dkv_kernel<TF>, DKV_BUF, DKV_SQ);
	done = 1;
}

/* One block per tile of T rows of each chunk of each (b, h). */
static dim3 att_grid(const att_geom_t &g)
{
	return dim3(g.nc * ((g.C + g.T - 1) / g.T), g.B * g.H);
}

/* Sequences per launch: all of them, or for packed segments (which can be
 * many more) as many as the grid's y dimension (65535) holds. */
static int att_group_size(const att_geom_t &g)
{
	return g.seg ? std::max(1, 65535 / g.H) : g.B;
}

/* The sequences b0 .. of one launch: packed segments start at seg + b0
 * (rows and per-token statistics stay absolute). */
static att_geom_t att_group(const att_geom_t &g, int b0)
{
	att_geom_t gg = g;
	if (g.seg) {
		gg.seg = g.seg + b0;
		gg.B = std::min(att_group_size(g), g.B - b0);
	}
	return gg;
}

template <bool TF>
static void att_fwd_rounds(float *out, const float *qk, const float *v, const uint8_t *mask,
                           const att_geom_t &g, const att_ws_t &w)
{
	att_init<TF>();
	for (int r = 0; r < g.R; r++)
		for (int b0 = 0; b0 < g.B; b0 += att_group_size(g)) {
			att_geom_t gg = att_group(g, b0);
			att_fwd_kernel<TF><<<att_grid(gg), ATT_THREADS, att_smem(gg, FWD_BUF, FWD_SQ)>>>(
				out, w.lse_m, w.lse_s, qk, v, w.rn, w.perm, mask, gg, r, r == 0);
			CU_LAUNCHED();
		}
}

template <bool TF>
static void att_bwd_rounds(float *dqk, float *dv, const float *dout, const float *qk, const float *v,
                           const uint8_t *mask, const att_geom_t &g, const att_ws_t &w)
{
	att_init<TF>();
	for (int r = 0; r < g.R; r++)
		for (int b0 = 0; b0 < g.B; b0 += att_group_size(g)) {
			att_geom_t gg = att_group(g, b0);
			att_dq_kernel<TF><<<att_grid(gg), ATT_THREADS, att_smem(gg, DQ_BUF, DQ_SQ)>>>(
				dqk, dout, qk, v, w.rn, w.lse_m, w.lse_s, w.delta, w.perm, mask, gg, r);
			CU_LAUNCHED();
			att_dkv_kernel<TF><<<att_grid(gg), ATT_THREADS, att_smem(gg, DKV_BUF, DKV_SQ)>>>(
				dqk, dv, dout, qk, v, w.rn, w.lse_m, w.lse_s, w.delta, w.perm, mask, gg, r);
			CU_LAUNCHED();
		}
}

/* Inverse key norms, the LSH order, and the forward of every round into
 * out and w.lse: the common start of forward and backward. */
static void att_run_forward(float *out, const float *qk, const float *v, const uint16_t *buckets,
                            const uint8_t *mask, const rf_attn_shape_t *s, const att_geom_t &g,
                            const att_ws_t &w)
{
	int nh = g.N * g.H, per = CU_THREADS / 32;
	att_rnorm_kernel<<<(nh + per - 1) / per, CU_THREADS>>>(w.rn, qk, nh, g.dh);
	CU_LAUNCHED();
	if (g.lsh) {
		size_t n = (size_t)g.B * g.H * g.R * g.L;
		sort_keys_kernel<<<cu_blocks(n, CU_THREADS), CU_THREADS>>>(w.kin, buckets, g.L,
		                                                          s->n_buckets + 1, n);
		CU_LAUNCHED();
		size_t tmp_bytes = w.tmp_bytes;
		CU_CHECK(cub::DeviceRadixSort::SortKeys(w.tmp, tmp_bytes, w.kin, w.kout, (int64_t)n, 0,
		                                        sort_bits(g, s->n_buckets)));
		sort_perm_kernel<<<cu_blocks(n, CU_THREADS), CU_THREADS>>>(w.perm, w.kout, g.L, n);
		CU_LAUNCHED();
	}
	if (cu_tf32()) att_fwd_rounds<true>(out, qk, v, mask, g, w);
	else att_fwd_rounds<false>(out, qk, v, mask, g, w);
}

void cu_attn_forward(float *out, const float *qk, const float *v, const uint16_t *buckets,
                     const uint8_t *mask, const rf_attn_shape_t *s, void *work)
{
	att_geom_t g = att_geom(s, __func__);
	if (g.B * g.L == 0) return;
	g.vec = att_vec(g, qk, v, NULL);
	att_run_forward(out, qk, v, buckets, mask, s, g, att_layout(s, g, work));
}

void cu_attn_backward(float *dqk, float *dv, const float *dout, const float *qk,
                      const float *v, const uint16_t *buckets, const uint8_t *mask,
                      const rf_attn_shape_t *s, void *work)
{
	att_geom_t g = att_geom(s, __func__);
	if (g.B * g.L == 0) return;
	g.vec = att_vec(g, qk, v, dout);
	att_ws_t w = att_layout(s, g, work);
	att_run_forward(w.out, qk, v, buckets, mask, s, g, w);
	int nh = g.N * g.H, per = CU_THREADS / 32;
	att_delta_kernel<<<(nh + per - 1) / per, CU_THREADS>>>(w.delta, dout, w.out, nh, g.dh);
	CU_LAUNCHED();
	if (cu_tf32()) att_bwd_rounds<true>(dqk, dv, dout, qk, v, mask, g, w);
	else att_bwd_rounds<false>(dqk, dv, dout, qk, v, mask, g, w);
}

/* ---- packed segments (varlen): FULL attention of n_seg sequences of up
 * to max_len rows each, their rows given by seg; the same kernels, with
 * rows past a segment's end absent (no query, no key) ---- */

static rf_attn_shape_t att_varlen_call(const rf_varlen_shape_t *s)
{
	rf_attn_shape_t a;
	memset(&a, 0, sizeof a);
	a.B = s->n_seg; a.L = s->max_len; a.H = s->H; a.dh = s->dh;
	a.kind = RF_ATTN_FULL; a.causal = s->causal;
	return a;
}

static att_geom_t att_varlen_geom(const rf_varlen_shape_t *s, const int32_t *seg, const char *op)
{
	rf_attn_shape_t a = att_varlen_call(s);
	att_geom_t g = att_geom(&a, op);
	g.seg = seg;
	g.N = s->N;
	return g;
}

size_t cu_attn_varlen_workspace(const rf_varlen_shape_t *s)
{
	rf_attn_shape_t a = att_varlen_call(s);
	return att_layout(&a, att_varlen_geom(s, NULL, "attn_varlen_workspace"), NULL).total;
}

void cu_attn_varlen_forward(float *out, const float *qk, const float *v, const int32_t *seg,
                            const rf_varlen_shape_t *s, void *work)
{
	att_geom_t g = att_varlen_geom(s, seg, "attn_varlen_forward");
	rf_attn_shape_t a = att_varlen_call(s);
	CU_CHECK(cudaMemsetAsync(out, 0, (size_t)s->N * g.HD * sizeof(float), 0));
	if (s->n_seg == 0 || s->max_len == 0) return;
	g.vec = att_vec(g, qk, v, NULL);
	att_run_forward(out, qk, v, NULL, NULL, &a, g, att_layout(&a, g, work));
}

void cu_attn_varlen_backward(float *dqk, float *dv, const float *dout, const float *qk,
                             const float *v, const int32_t *seg, const rf_varlen_shape_t *s, void *work)
{
	att_geom_t g = att_varlen_geom(s, seg, "attn_varlen_backward");
	rf_attn_shape_t a = att_varlen_call(s);
	if (s->n_seg == 0 || s->max_len == 0) return;
	g.vec = att_vec(g, qk, v, dout);
	att_ws_t w = att_layout(&a, g, work);
	/* rows outside every segment: zero, so delta reads no stale values */
	CU_CHECK(cudaMemsetAsync(w.out, 0, (size_t)s->N * g.HD * sizeof(float), 0));
	att_run_forward(w.out, qk, v, NULL, NULL, &a, g, w);
	int nh = g.N * g.H, per = CU_THREADS / 32;
	att_delta_kernel<<<(nh + per - 1) / per, CU_THREADS>>>(w.delta, dout, w.out, nh, g.dh);
	CU_LAUNCHED();
	if (cu_tf32()) att_bwd_rounds<true>(dqk, dv, dout, qk, v, NULL, g, w);
	else att_bwd_rounds<false>(dqk, dv, dout, qk, v, NULL, g, w);
}
