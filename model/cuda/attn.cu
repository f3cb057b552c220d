/* LSH hashing and chunked attention (FULL, LOCAL, LSH) for the CUDA backend.
 *
 * Every kind runs as LOCAL attention over a "sorted order" of the positions:
 * the identity for FULL and LOCAL (FULL being one chunk of L), the stable
 * (bucket, position) order of each round for LSH. Kernels work one round at
 * a time and tile queries and keys through shared memory, so memory stays
 * linear in L. Rounds are combined online: after round r, out and lse hold
 * the combination of rounds 0..r, which equals the definition's
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

#include "model/cuda/cu_internal.h"

#define ATT_WARPS 4
#define ATT_PER_WARP 8                        /* queries (or keys) a warp holds */
#define ATT_TILE (ATT_WARPS * ATT_PER_WARP)   /* rows a block owns */
#define ATT_KT 32                             /* staged rows, one per lane */
#define ATT_MAX_DH 128
#define ATT_DT (ATT_MAX_DH / 32)              /* features per lane */
/* Keys are x / sqrt(|x|^2 + eps): unit length but finite at x = 0. */
#define ATT_NORM_EPS 1e-12f

/* The attention call as chunked LOCAL attention in a sorted order. */
typedef struct {
	int B, L, H, dh, HD;
	int C, nc, nb, na;   /* chunk length, chunks, chunks seen before/after */
	int causal, R, lsh;
} att_geom_t;

static att_geom_t att_geom(const rf_attn_shape_t *s)
{
	att_geom_t g;
	g.B = s->B; g.L = s->L; g.H = s->H; g.dh = s->dh; g.HD = s->H * s->dh;
	g.causal = s->causal;
	if (s->kind == RF_ATTN_FULL || s->L <= s->chunk_len) {
		g.C = s->L; g.nc = 1; g.nb = 0; g.na = 0; g.R = 1; g.lsh = 0;
	} else {
		g.C = s->chunk_len; g.nc = s->L / s->chunk_len; g.nb = s->n_before; g.na = s->n_after;
		g.lsh = s->kind == RF_ATTN_LSH;
		g.R = g.lsh ? s->n_hashes : 1;
	}
	if (g.dh > ATT_MAX_DH || g.dh < 1) {
		fprintf(stderr, "[cuda] attention: head width %d not in [1, %d]\n", g.dh, ATT_MAX_DH);
		exit(1);
	}
	return g;
}

/* Rows in shared memory are zero-padded to a multiple of 4 features and read
 * as float4. Own rows (read by every lane alike) are att_dh4 apart; staged
 * rows (one per lane) att_stride apart, a multiple of 4 whose quarter is
 * odd, so each 8-lane phase of a 128-bit load hits distinct banks. */
__host__ __device__ static inline int att_dh4(int dh)
{
	return (dh + 3) & ~3;
}

__host__ __device__ static inline int att_stride(int dh)
{
	int d4 = att_dh4(dh);
	return (d4 / 4) % 2 ? d4 : d4 + 4;
}

/* x . y over n (a multiple of 4) features, both 16-byte aligned. */
__device__ static inline float att_dot4(const float *x, const float *y, int n, float acc)
{
	for (int d = 0; d < n; d += 4) {
		float4 a = *(const float4 *)(x + d), b = *(const float4 *)(y + d);
		acc += a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w;
	}
	return acc;
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

__device__ static inline size_t att_row(const att_geom_t &g, int b, int pos, int h)
{
	return ((size_t)b * g.L + pos) * g.HD + (size_t)h * g.dh;
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

/* Stages ATT_KT rows of sorted chunk w from offset kt: positions, key masks,
 * unit keys (or raw rows when unit is 0) into X and the rows of Y into Ys,
 * both with stride att_stride(dh); missing rows are zero with position -1. */
__device__ static void att_stage(float *X, float *Ys, int *pos_s, int *ok_s, const float *x,
                                 const float *y, const float *rn, const int32_t *perm,
                                 const uint8_t *mask, const att_geom_t &g, int b, int h, int r,
                                 int first, int count, bool unit)
{
	int bh = b * g.H + h, ks = att_stride(g.dh);
	__syncthreads(); /* the previous tile is no longer read */
	for (int i = threadIdx.x; i < ATT_KT; i += blockDim.x) {
		int p = i < count ? att_pos(perm, g, bh, r, first + i) : -1;
		pos_s[i] = p;
		ok_s[i] = p >= 0 && (!mask || mask[(size_t)b * g.L + p]);
	}
	__syncthreads();
	int d4 = att_dh4(g.dh);
	for (int idx = threadIdx.x; idx < ATT_KT * d4; idx += blockDim.x) {
		int i = idx / d4, d = idx % d4, p = pos_s[i];
		float xv = 0.0f, yv = 0.0f;
		if (p >= 0 && d < g.dh) {
			size_t row = att_row(g, b, p, h);
			xv = x[row + d];
			if (unit) xv *= rn[((size_t)b * g.L + p) * g.H + h];
			yv = y[row + d];
		}
		X[i * ks + d] = xv;
		Ys[i * ks + d] = yv;
	}
	__syncthreads();
}

/* Loads the block's ATT_TILE own rows (queries or keys) of sorted chunk c
 * from offset t0: positions, then the rows of a (scaled by rn when unit) and
 * of b, stride att_dh4(dh). */
__device__ static void att_load_own(float *A, float *Bm, int *pos_s, const float *a, const float *bsrc,
                                    const float *rn, const int32_t *perm, const att_geom_t &g,
                                    int b, int h, int r, int first, int count, bool unit)
{
	int bh = b * g.H + h;
	for (int i = threadIdx.x; i < ATT_TILE; i += blockDim.x)
		pos_s[i] = i < count ? att_pos(perm, g, bh, r, first + i) : -1;
	__syncthreads();
	int d4 = att_dh4(g.dh);
	for (int idx = threadIdx.x; idx < ATT_TILE * d4; idx += blockDim.x) {
		int i = idx / d4, d = idx % d4, p = pos_s[i];
		float av = 0.0f, bv = 0.0f;
		if (p >= 0 && d < g.dh) {
			size_t row = att_row(g, b, p, h);
			av = a[row + d];
			if (unit) av *= rn[((size_t)b * g.L + p) * g.H + h];
			if (Bm) bv = bsrc[row + d];
		}
		A[idx] = av;
		if (Bm) Bm[idx] = bv;
	}
	__syncthreads();
}

/* Forward of round r: a block owns ATT_TILE queries of one chunk of one
 * (b, h), a warp ATT_PER_WARP of them, a lane one staged key at a time.
 * Online softmax per query; the result is folded into out/lse (first: set). */
__global__ static void __launch_bounds__(ATT_WARPS * 32)
att_fwd_kernel(float *out, float *lse_m, float *lse_s, const float *qk, const float *v, const float *rn,
               const int32_t *perm, const uint8_t *mask, att_geom_t g, int r, int first)
{
	extern __shared__ float4 sm4[];
	int dh = g.dh, d4 = att_dh4(dh), ks = att_stride(dh);
	float *Qs = (float *)sm4, *Ks = Qs + ATT_TILE * d4, *Vs = Ks + ATT_KT * ks;
	int *qpos_s = (int *)(Vs + ATT_KT * ks), *kpos_s = qpos_s + ATT_TILE, *kok_s = kpos_s + ATT_KT;
	int tiles = (g.C + ATT_TILE - 1) / ATT_TILE;
	int c = blockIdx.x / tiles, t0 = (blockIdx.x % tiles) * ATT_TILE;
	int b = blockIdx.y / g.H, h = blockIdx.y % g.H;
	int warp = threadIdx.x / 32, lane = threadIdx.x % 32, q0 = warp * ATT_PER_WARP;
	int nq = min(ATT_TILE, g.C - t0);

	att_load_own(Qs, NULL, qpos_s, qk, NULL, rn, perm, g, b, h, r, c * g.C + t0, nq, false);
	float m[ATT_PER_WARP], l[ATT_PER_WARP], acc[ATT_PER_WARP][ATT_DT];
#pragma unroll
	for (int a = 0; a < ATT_PER_WARP; a++) {
		m[a] = -INFINITY;
		l[a] = 0.0f;
#pragma unroll
		for (int t = 0; t < ATT_DT; t++) acc[a][t] = 0.0f;
	}
	for (int k = 0; k <= g.nb + g.na; k++) {
		int w = att_window(g, c, k, 1);
		if (w < 0) continue;
		for (int kt = 0; kt < g.C; kt += ATT_KT) {
			att_stage(Ks, Vs, kpos_s, kok_s, qk, v, rn, perm, mask, g, b, h, r, w * g.C + kt,
			          min(ATT_KT, g.C - kt), true);
			int kp = kpos_s[lane], kok = kok_s[lane];
			float dot[ATT_PER_WARP], p[ATT_PER_WARP];
#pragma unroll
			for (int a = 0; a < ATT_PER_WARP; a++) dot[a] = 0.0f;
			for (int d = 0; d < d4; d += 4) {
				float4 k4 = *(const float4 *)(Ks + lane * ks + d);
#pragma unroll
				for (int a = 0; a < ATT_PER_WARP; a++) {
					float4 q4 = *(const float4 *)(Qs + (q0 + a) * d4 + d);
					dot[a] += q4.x * k4.x + q4.y * k4.y + q4.z * k4.z + q4.w * k4.w;
				}
			}
#pragma unroll
			for (int a = 0; a < ATT_PER_WARP; a++) {
				int qp = qpos_s[q0 + a];
				bool repl;
				float s = att_masked(dot[a], qp, kp, kok, g.causal, &repl);
				float mn = fmaxf(m[a], cu_warp_max(s));
				float sc = expf(m[a] - mn);
				p[a] = qp >= 0 ? expf(s - mn) : 0.0f;
				l[a] = l[a] * sc + cu_warp_sum(p[a]);
				m[a] = mn;
#pragma unroll
				for (int t = 0; t < ATT_DT; t++) acc[a][t] *= sc;
			}
			for (int j = 0; j < ATT_KT; j++) {
				float vj[ATT_DT];
#pragma unroll
				for (int t = 0; t < ATT_DT; t++)
					vj[t] = lane + 32 * t < dh ? Vs[j * ks + lane + 32 * t] : 0.0f;
#pragma unroll
				for (int a = 0; a < ATT_PER_WARP; a++) {
					float pj = __shfl_sync(0xffffffffu, p[a], j);
#pragma unroll
					for (int t = 0; t < ATT_DT; t++) acc[a][t] += pj * vj[t];
				}
			}
		}
	}
#pragma unroll
	for (int a = 0; a < ATT_PER_WARP; a++) {
		int qp = qpos_s[q0 + a];
		if (qp < 0) continue;
		size_t li = ((size_t)b * g.L + qp) * g.H + h;
		float sr = logf(l[a]), nm = m[a], ns = sr, wo = 0.0f, wn = 1.0f / l[a];
		if (!first) {
			float om = lse_m[li], os = lse_s[li];
			nm = fmaxf(om, m[a]);
			ns = logf(expf((om - nm) + os) + expf((m[a] - nm) + sr));
			wo = expf((om - nm) + (os - ns));
			wn *= expf((m[a] - nm) + (sr - ns));
		}
		__syncwarp();
		float *o = out + att_row(g, b, qp, h);
#pragma unroll
		for (int t = 0; t < ATT_DT; t++) {
			int d = lane + 32 * t;
			if (d < dh) o[d] = (first ? 0.0f : o[d] * wo) + acc[a][t] * wn;
		}
		if (lane == 0) {
			lse_m[li] = nm;
			lse_s[li] = ns;
		}
	}
}

/* dq of round r, laid out as the forward: ds = P (dout . v - delta) for
 * unreplaced scores, dq += ds k. */
__global__ static void __launch_bounds__(ATT_WARPS * 32)
att_dq_kernel(float *dqk, const float *dout, const float *qk, const float *v, const float *rn,
              const float *lse_m, const float *lse_s, const float *delta, const int32_t *perm,
              const uint8_t *mask, att_geom_t g, int r)
{
	extern __shared__ float4 sm4[];
	int dh = g.dh, d4 = att_dh4(dh), ks = att_stride(dh);
	float *Qs = (float *)sm4, *Os = Qs + ATT_TILE * d4, *Ks = Os + ATT_TILE * d4, *Vs = Ks + ATT_KT * ks;
	int *qpos_s = (int *)(Vs + ATT_KT * ks), *kpos_s = qpos_s + ATT_TILE, *kok_s = kpos_s + ATT_KT;
	int tiles = (g.C + ATT_TILE - 1) / ATT_TILE;
	int c = blockIdx.x / tiles, t0 = (blockIdx.x % tiles) * ATT_TILE;
	int b = blockIdx.y / g.H, h = blockIdx.y % g.H;
	int warp = threadIdx.x / 32, lane = threadIdx.x % 32, q0 = warp * ATT_PER_WARP;
	int nq = min(ATT_TILE, g.C - t0);

	att_load_own(Qs, Os, qpos_s, qk, dout, rn, perm, g, b, h, r, c * g.C + t0, nq, false);
	float qm[ATT_PER_WARP], qs[ATT_PER_WARP], qd[ATT_PER_WARP], acc[ATT_PER_WARP][ATT_DT];
#pragma unroll
	for (int a = 0; a < ATT_PER_WARP; a++) {
		int qp = qpos_s[q0 + a];
		size_t i = ((size_t)b * g.L + (qp < 0 ? 0 : qp)) * g.H + h;
		qm[a] = lse_m[i];
		qs[a] = lse_s[i];
		qd[a] = delta[i];
#pragma unroll
		for (int t = 0; t < ATT_DT; t++) acc[a][t] = 0.0f;
	}
	for (int k = 0; k <= g.nb + g.na; k++) {
		int w = att_window(g, c, k, 1);
		if (w < 0) continue;
		for (int kt = 0; kt < g.C; kt += ATT_KT) {
			att_stage(Ks, Vs, kpos_s, kok_s, qk, v, rn, perm, mask, g, b, h, r, w * g.C + kt,
			          min(ATT_KT, g.C - kt), true);
			int kp = kpos_s[lane], kok = kok_s[lane];
			float dot[ATT_PER_WARP], dpv[ATT_PER_WARP], ds[ATT_PER_WARP];
#pragma unroll
			for (int a = 0; a < ATT_PER_WARP; a++) {
				dot[a] = att_dot4(Qs + (q0 + a) * d4, Ks + lane * ks, d4, 0.0f);
				dpv[a] = att_dot4(Os + (q0 + a) * d4, Vs + lane * ks, d4, 0.0f);
			}
#pragma unroll
			for (int a = 0; a < ATT_PER_WARP; a++) {
				int qp = qpos_s[q0 + a];
				bool repl;
				float s = att_masked(dot[a], qp, kp, kok, g.causal, &repl);
				ds[a] = qp >= 0 && !repl ? expf((s - qm[a]) - qs[a]) * (dpv[a] - qd[a]) : 0.0f;
			}
			for (int j = 0; j < ATT_KT; j++) {
				float kj[ATT_DT];
#pragma unroll
				for (int t = 0; t < ATT_DT; t++)
					kj[t] = lane + 32 * t < dh ? Ks[j * ks + lane + 32 * t] : 0.0f;
#pragma unroll
				for (int a = 0; a < ATT_PER_WARP; a++) {
					float dj = __shfl_sync(0xffffffffu, ds[a], j);
#pragma unroll
					for (int t = 0; t < ATT_DT; t++) acc[a][t] += dj * kj[t];
				}
			}
		}
	}
#pragma unroll
	for (int a = 0; a < ATT_PER_WARP; a++) {
		int qp = qpos_s[q0 + a];
		if (qp < 0) continue;
		float *o = dqk + att_row(g, b, qp, h);
#pragma unroll
		for (int t = 0; t < ATT_DT; t++)
			if (lane + 32 * t < dh) o[lane + 32 * t] += acc[a][t];
	}
}

/* dk and dv of round r: a block owns ATT_TILE keys of one chunk, a warp
 * ATT_PER_WARP of them, a lane one staged query at a time, over the query
 * chunks that see this key chunk. dk goes back through the unit
 * normalisation: dx = rn (dk - k (k . dk)). */
__global__ static void __launch_bounds__(ATT_WARPS * 32)
att_dkv_kernel(float *dqk, float *dv, const float *dout, const float *qk, const float *v,
               const float *rn, const float *lse_m, const float *lse_s, const float *delta,
               const int32_t *perm, const uint8_t *mask, att_geom_t g, int r)
{
	extern __shared__ float4 sm4[];
	int dh = g.dh, d4 = att_dh4(dh), ks = att_stride(dh);
	float *Kn = (float *)sm4, *Vk = Kn + ATT_TILE * d4, *Qs = Vk + ATT_TILE * d4, *Os = Qs + ATT_KT * ks;
	int *kpos_s = (int *)(Os + ATT_KT * ks), *qpos_s = kpos_s + ATT_TILE, *qok_s = qpos_s + ATT_KT;
	int tiles = (g.C + ATT_TILE - 1) / ATT_TILE;
	int c = blockIdx.x / tiles, t0 = (blockIdx.x % tiles) * ATT_TILE;
	int b = blockIdx.y / g.H, h = blockIdx.y % g.H;
	int warp = threadIdx.x / 32, lane = threadIdx.x % 32, k0 = warp * ATT_PER_WARP;
	int nk = min(ATT_TILE, g.C - t0);

	att_load_own(Kn, Vk, kpos_s, qk, v, rn, perm, g, b, h, r, c * g.C + t0, nk, true);
	int kp[ATT_PER_WARP], kok[ATT_PER_WARP];
	float ak[ATT_PER_WARP][ATT_DT], av[ATT_PER_WARP][ATT_DT];
#pragma unroll
	for (int a = 0; a < ATT_PER_WARP; a++) {
		kp[a] = kpos_s[k0 + a];
		kok[a] = kp[a] >= 0 && (!mask || mask[(size_t)b * g.L + kp[a]]);
#pragma unroll
		for (int t = 0; t < ATT_DT; t++) ak[a][t] = av[a][t] = 0.0f;
	}
	for (int k = 0; k <= g.nb + g.na; k++) {
		int w = att_window(g, c, k, -1);
		if (w < 0) continue;
		for (int qt = 0; qt < g.C; qt += ATT_KT) {
			att_stage(Qs, Os, qpos_s, qok_s, qk, dout, rn, perm, NULL, g, b, h, r, w * g.C + qt,
			          min(ATT_KT, g.C - qt), false);
			int qp = qpos_s[lane];
			size_t qi = ((size_t)b * g.L + (qp < 0 ? 0 : qp)) * g.H + h;
			float qm = lse_m[qi], qs = lse_s[qi], qd = delta[qi];
			float dot[ATT_PER_WARP], dpv[ATT_PER_WARP], P[ATT_PER_WARP], ds[ATT_PER_WARP];
#pragma unroll
			for (int a = 0; a < ATT_PER_WARP; a++) {
				dot[a] = att_dot4(Kn + (k0 + a) * d4, Qs + lane * ks, d4, 0.0f);
				dpv[a] = att_dot4(Vk + (k0 + a) * d4, Os + lane * ks, d4, 0.0f);
			}
#pragma unroll
			for (int a = 0; a < ATT_PER_WARP; a++) {
				bool repl;
				float s = att_masked(dot[a], qp, kp[a], kok[a], g.causal, &repl);
				P[a] = qp >= 0 && kp[a] >= 0 ? expf((s - qm) - qs) : 0.0f;
				ds[a] = repl ? 0.0f : P[a] * (dpv[a] - qd);
			}
			for (int j = 0; j < ATT_KT; j++) {
				float qj[ATT_DT], oj[ATT_DT];
#pragma unroll
				for (int t = 0; t < ATT_DT; t++) {
					bool in = lane + 32 * t < dh;
					qj[t] = in ? Qs[j * ks + lane + 32 * t] : 0.0f;
					oj[t] = in ? Os[j * ks + lane + 32 * t] : 0.0f;
				}
#pragma unroll
				for (int a = 0; a < ATT_PER_WARP; a++) {
					float pj = __shfl_sync(0xffffffffu, P[a], j);
					float dj = __shfl_sync(0xffffffffu, ds[a], j);
#pragma unroll
					for (int t = 0; t < ATT_DT; t++) {
						av[a][t] += pj * oj[t];
						ak[a][t] += dj * qj[t];
					}
				}
			}
		}
	}
#pragma unroll
	for (int a = 0; a < ATT_PER_WARP; a++) {
		if (kp[a] < 0) continue;
		float kn[ATT_DT], kd = 0.0f;
#pragma unroll
		for (int t = 0; t < ATT_DT; t++) {
			kn[t] = lane + 32 * t < dh ? Kn[(k0 + a) * d4 + lane + 32 * t] : 0.0f;
			kd += kn[t] * ak[a][t];
		}
		kd = cu_warp_sum(kd);
		float rk = rn[((size_t)b * g.L + kp[a]) * g.H + h];
		size_t row = att_row(g, b, kp[a], h);
#pragma unroll
		for (int t = 0; t < ATT_DT; t++) {
			int d = lane + 32 * t;
			if (d < dh) {
				dqk[row + d] += rk * (ak[a][t] - kn[t] * kd);
				dv[row + d] += av[a][t];
			}
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
	att_geom_t g = att_geom(s);
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
	size_t off = 0, nh = (size_t)g.B * g.L * g.H, segs = (size_t)g.B * g.H * g.R * g.L;
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
	att_geom_t g = att_geom(s);
	return att_layout(s, g, NULL).total;
}

static size_t att_smem_fwd(int dh)
{
	return (ATT_TILE * att_dh4(dh) + 2 * ATT_KT * att_stride(dh)) * sizeof(float) +
	       (ATT_TILE + 2 * ATT_KT) * sizeof(int);
}

static size_t att_smem_dq(int dh)
{
	return (2 * ATT_TILE * att_dh4(dh) + 2 * ATT_KT * att_stride(dh)) * sizeof(float) +
	       (ATT_TILE + 2 * ATT_KT) * sizeof(int);
}

static size_t att_smem_dkv(int dh)
{
	return att_smem_dq(dh);
}

/* Lets the kernels use more than 48 KiB of shared memory (wide heads). */
static void att_init(void)
{
	static int done;
	if (done) return;
	CU_CHECK(cudaFuncSetAttribute(att_fwd_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
	                              (int)att_smem_fwd(ATT_MAX_DH)));
	CU_CHECK(cudaFuncSetAttribute(att_dq_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
	                              (int)att_smem_dq(ATT_MAX_DH)));
	CU_CHECK(cudaFuncSetAttribute(att_dkv_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
	                              (int)att_smem_dkv(ATT_MAX_DH)));
	done = 1;
}

/* Inverse key norms, the LSH order, and the forward of every round into
 * out and w.lse: the common start of forward and backward. */
static void att_run_forward(float *out, const float *qk, const float *v, const uint16_t *buckets,
                            const uint8_t *mask, const rf_attn_shape_t *s, const att_geom_t &g,
                            const att_ws_t &w)
{
	att_init();
	int nh = g.B * g.L * g.H, per = CU_THREADS / 32;
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
	dim3 grid(g.nc * ((g.C + ATT_TILE - 1) / ATT_TILE), g.B * g.H);
	for (int r = 0; r < g.R; r++) {
		att_fwd_kernel<<<grid, ATT_WARPS * 32, att_smem_fwd(g.dh)>>>(out, w.lse_m, w.lse_s, qk, v,
		                                                             w.rn, w.perm,
		                                                             mask, g, r, r == 0);
		CU_LAUNCHED();
	}
}

void cu_attn_forward(float *out, const float *qk, const float *v, const uint16_t *buckets,
                     const uint8_t *mask, const rf_attn_shape_t *s, void *work)
{
	att_geom_t g = att_geom(s);
	if (g.B * g.L == 0) return;
	att_run_forward(out, qk, v, buckets, mask, s, g, att_layout(s, g, work));
}

void cu_attn_backward(float *dqk, float *dv, const float *dout, const float *qk,
                      const float *v, const uint16_t *buckets, const uint8_t *mask,
                      const rf_attn_shape_t *s, void *work)
{
	att_geom_t g = att_geom(s);
	if (g.B * g.L == 0) return;
	att_ws_t w = att_layout(s, g, work);
	att_run_forward(w.out, qk, v, buckets, mask, s, g, w);
	int nh = g.B * g.L * g.H, per = CU_THREADS / 32;
	att_delta_kernel<<<(nh + per - 1) / per, CU_THREADS>>>(w.delta, dout, w.out, nh, g.dh);
	CU_LAUNCHED();
	dim3 grid(g.nc * ((g.C + ATT_TILE - 1) / ATT_TILE), g.B * g.H);
	for (int r = 0; r < g.R; r++) {
		att_dq_kernel<<<grid, ATT_WARPS * 32, att_smem_dq(g.dh)>>>(dqk, dout, qk, v, w.rn, w.lse_m,
		                                                           w.lse_s, w.delta, w.perm, mask, g, r);
		CU_LAUNCHED();
		att_dkv_kernel<<<grid, ATT_WARPS * 32, att_smem_dkv(g.dh)>>>(dqk, dv, dout, qk, v, w.rn,
		                                                             w.lse_m, w.lse_s, w.delta, w.perm, mask,
		                                                             g, r);
		CU_LAUNCHED();
	}
}
