/* CPU attention: LSH hashing, and FULL / LOCAL / LSH attention forward and
 * backward (semantics in model/backend.h).
 *
 * Every kind is one scheme: per round, positions in some order (identity, or
 * sorted by bucket) are cut into chunks, and chunk c attends to the distinct
 * chunks of its window. FULL is the same with query blocks of FULL_BLOCK rows
 * whose window is every block, so only FULL_BLOCK x L scores live at once.
 *
 * A head (b, h) is processed either by all threads together (long
 * sequences: the workspace holds one head's per-round outputs, O(n_hashes *
 * L * (dh+1)), plus per-thread chunk scratch) or, when that is small, by one
 * thread per head with a head workspace each, which avoids the barriers
 * between phases. Small calls run on one thread. Nothing is allocated here.
 *
 * The backward pass recomputes the per-round outputs and log-sum-exps, then
 * uses that the rounds combined are one softmax over all (round, key) pairs
 * with normaliser tot = logsumexp_r lse_r:
 *   P_ij = exp(s_ij - tot_i), dS_ij = P_ij (dout_i . v_j - dout_i . out_i),
 * which is the gradient through both the in-round softmax and the round
 * weights. Query gradients are gathered per query chunk and key/value
 * gradients per key chunk (recomputing that block's scores), so no two
 * threads ever add into the same row. */
#include "model/cpu/cpu.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#define FULL_BLOCK 64     /* query rows per block of FULL attention */
#define HASH_ROWS 128     /* tokens hashed at once */
#define HASH_TILE 4096    /* floats of projections at once when hashing (16 KiB of stack) */
#define KEY_EPS 1e-12f    /* keeps the unit normalisation of a zero key finite */
#define SOLO_BYTES ((size_t)64 << 20)  /* most workspace for one head per thread */
#define PARALLEL_MACS 500000.0         /* smaller calls run on one thread */
/* The softmax loops get AVX-512 and AVX2 clones (CPU_SIMD); their sums
 * are ordered explicitly, so every clone gives the same results. */
#define ATTN_SIMD CPU_SIMD

/* The chunked view of one call. */
typedef struct {
	int B, L, H, dh, ld;       /* ld = H*dh, the row stride of qk, v and out */
	int rounds;                /* n_hashes for LSH, else 1 */
	int cl, n_chunks;          /* chunk length in sorted order, chunks per round */
	int before, after, win;    /* window offsets; win = distinct chunks per window */
	int lsh, causal, nbk;      /* nbk = n_buckets + 1 (padding bucket) for LSH */
	int full;                  /* every chunk sees every chunk, in ascending order */
} plan_t;

/* Per-thread scratch for one query chunk and its window (W = win*cl keys). */
typedef struct {
	float *q, *k, *v, *s, *dp, *dout, *g, *gv;
	int32_t *qpos, *kpos, *kpad;   /* kpad: the key is padding */
} scratch_t;

/* Workspace of one (b, h) at a time. */
typedef struct {
	float *khat;      /* [L, dh] unit keys */
	float *o;         /* [rounds, L, dh] per-round outputs, sorted order */
	float *lse;       /* [rounds, L] per-round log-sum-exp, sorted order */
	float *tmax;      /* [L] max over rounds of lse, by position */
	float *tls;       /* [L] log sum_r exp(lse_r - tmax), by position */
	float *dsum;      /* [L] dout . out, by position */
	float *dkhat;     /* [L, dh] gradient of the unit keys */
	int32_t *perm;    /* [rounds, L] sorted index -> position */
	int32_t *inv;     /* [rounds, L] position -> sorted index */
	int32_t *counts;  /* [rounds, nbk] counting sort */
} ws_t;

/* The threads working on one head: all in lock-step phases, or one alone. */
typedef struct { int id, size; } team_t;

/* Arguments of one forward or backward call (backward fields NULL in forward). */
typedef struct {
	const float *qk, *v, *dout;
	const uint16_t *buckets;
	const uint8_t *mask;
	float *out, *dqk, *dv;
} call_t;

/* One head of one call: the inputs of (b, h), already offset. */
typedef struct {
	const plan_t *p;
	const ws_t *w;
	scratch_t *t;               /* this thread's scratch */
	team_t team;
	const float *qk, *v;        /* row j at + j*ld */
	const uint8_t *mask;        /* [L] or NULL */
	const uint16_t *buckets;    /* [rounds, L] or NULL */
	float *out;                 /* forward only, rows as qk */
	const float *dout;          /* backward only, rows as qk */
	float *dqk, *dv;            /* backward only, rows as qk */
} head_t;

static void make_plan(plan_t *p, const rf_attn_shape_t *s)
{
	p->B = s->B; p->L = s->L; p->H = s->H; p->dh = s->dh; p->ld = s->H * s->dh;
	p->causal = s->causal;
	if (s->kind == RF_ATTN_FULL || s->L <= s->chunk_len) {
		p->lsh = 0;
		p->rounds = 1;
		p->cl = s->L < FULL_BLOCK ? s->L : FULL_BLOCK;
		p->n_chunks = (s->L + p->cl - 1) / p->cl;
		p->before = p->n_chunks - 1;
		p->after = 0;
		p->full = 1;
	} else {
		p->full = 0;
		p->lsh = s->kind == RF_ATTN_LSH;
		p->rounds = p->lsh ? s->n_hashes : 1;
		p->cl = s->chunk_len;
		p->n_chunks = s->L / s->chunk_len;
		p->before = s->n_before;
		p->after = s->n_after;
	}
	p->win = p->before + p->after + 1;
	if (p->win > p->n_chunks) p->win = p->n_chunks;
	p->nbk = p->lsh ? s->n_buckets + 1 : 0;
}

/* Bump allocation inside the workspace; with base NULL it only measures. */
static void *take(char *base, size_t *off, size_t bytes)
{
	void *r = base ? base + *off : NULL;
	*off += (bytes + 63) & ~(size_t)63;
	return r;
}

static size_t head_layout(char *base, size_t *off, const plan_t *p, ws_t *w)
{
	size_t off0 = *off, L = (size_t)p->L, dh = (size_t)p->dh, R = (size_t)p->rounds;
	size_t f = sizeof(float), i4 = sizeof(int32_t);
	w->khat = take(base, off, L * dh * f);
	w->o = take(base, off, R * L * dh * f);
	w->lse = take(base, off, R * L * f);
	w->tmax = take(base, off, L * f);
	w->tls = take(base, off, L * f);
	w->dsum = take(base, off, L * f);
	w->dkhat = take(base, off, L * dh * f);
	w->perm = take(base, off, R * L * i4);
	w->inv = take(base, off, R * L * i4);
	w->counts = take(base, off, R * (size_t)p->nbk * i4);
	return *off - off0;
}

static void scratch_layout(char *base, size_t *off, const plan_t *p, scratch_t *sc)
{
	size_t dh = (size_t)p->dh, cl = (size_t)p->cl, W = (size_t)p->win * cl;
	size_t f = sizeof(float), i4 = sizeof(int32_t);
	sc->q = take(base, off, cl * dh * f);
	sc->k = take(base, off, W * dh * f);
	sc->v = take(base, off, W * dh * f);
	sc->s = take(base, off, cl * W * f);
	sc->dp = take(base, off, cl * W * f);
	sc->dout = take(base, off, cl * dh * f);
	sc->g = take(base, off, cl * dh * f);
	sc->gv = take(base, off, cl * dh * f);
	sc->qpos = take(base, off, cl * i4);
	sc->kpos = take(base, off, W * i4);
	sc->kpad = take(base, off, W * i4);
}

/* Threads the workspace is sized for: the OpenMP maximum at the time of the
 * call (query attn_workspace again after changing the thread count). */
static int attn_threads(void)
{
	return omp_get_max_threads();
}

/* Head workspaces: one per thread when that fits in SOLO_BYTES, else one
 * shared by all threads. */
static int head_groups(const plan_t *p, int nthr)
{
	ws_t w;
	size_t off = 0, one = head_layout(NULL, &off, p, &w);
	return p->B * p->H >= nthr && one * (size_t)nthr <= SOLO_BYTES ? nthr : 1;
}

/* Lays out (base NULL: measures) ngroups head workspaces and nthr scratches. */
static size_t layout(char *base, const plan_t *p, int ngroups, ws_t *ws, int nthr, scratch_t *thr)
{
	size_t off = 0;
	for (int g = 0; g < ngroups; g++) head_layout(base, &off, p, &ws[g]);
	for (int t = 0; t < nthr; t++) scratch_layout(base, &off, p, &thr[t]);
	return off + 64;   /* room to align the caller's pointer */
}

size_t cpu_attn_workspace(const rf_attn_shape_t *s)
{
	plan_t p;
	make_plan(&p, s);
	int nthr = attn_threads(), ng = head_groups(&p, nthr);
	ws_t ws[ng];
	scratch_t thr[nthr];
	return layout(NULL, &p, ng, ws, nthr, thr);
}

/* -------------------------------------------------------------- hashing */

/* Running argmax of one factor over [y, -y] (first index on ties, the
 * positive half first). */
typedef struct { float pos, neg; int ipos, ineg; } argmax_t;

/* Adds y[0..n), the columns k0.. of the factor, to the argmax a. */
static void argmax_update(argmax_t *a, const float *y, int n, int k0)
{
	argmax_t t = *a;
	for (int c = 0; c < n; c++) {
		float v = y[c];
		if (v > t.pos) { t.pos = v; t.ipos = k0 + c; }
		if (-v > t.neg) { t.neg = -v; t.ineg = k0 + c; }
	}
	*a = t;
}

/* The bucket factor of a finished argmax over n columns. */
static int argmax_end(const argmax_t *a, int n)
{
	return a->neg > a->pos ? n + a->ineg : a->ipos;
}

/* Buckets of one round for nr rows x (ld apart) of one head, rotations rot
 * (rows rstride apart): the projections y = x R go through sgemm in tiles of HASH_TILE floats on the stack (a
 * bounded tile, so hashing needs no workspace), each followed by the argmax
 * update of its columns. Rows are blocked by position only, so the result
 * is the same for any thread count. */
static void hash_rows(uint16_t *out, const float *x, int ld, const float *rot, int rstride,
                      const rf_attn_shape_t *s, int nr)
{
	float y[HASH_TILE];
	int rc = rf_attn_rot_cols(s), n1 = s->n_buckets1 / 2, nb2 = s->n_buckets / s->n_buckets1;
	int tc = rc < HASH_TILE / HASH_ROWS ? rc : HASH_TILE / HASH_ROWS;
	argmax_t st[HASH_ROWS][2];
	for (int i = 0; i < nr; i++)
		for (int f = 0; f < 2; f++) st[i][f] = (argmax_t){ -INFINITY, -INFINITY, 0, 0 };
	for (int c0 = 0; c0 < rc; c0 += tc) {
		int nc = rc - c0 < tc ? rc - c0 : tc;
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nr, nc, s->dh, 1.0f, x, ld, rot + c0,
		            rstride, 0.0f, y, nc);
		/* the tile's columns: factor 1 up to n1, then factor 2 */
		int c1 = n1 - c0 < 0 ? 0 : n1 - c0 < nc ? n1 - c0 : nc;
		for (int i = 0; i < nr; i++) {
			argmax_update(&st[i][0], y + i * nc, c1, c0);
			argmax_update(&st[i][1], y + i * nc + c1, nc - c1, c0 + c1 - n1);
		}
	}
	for (int i = 0; i < nr; i++) {
		int bk = argmax_end(&st[i][0], n1);
		if (nb2 > 1) bk += s->n_buckets1 * argmax_end(&st[i][1], nb2 / 2);
		out[i] = (uint16_t)bk;
	}
}

void cpu_lsh_hash(uint16_t *buckets, const float *qk, const float *rot,
                  const uint8_t *mask, const rf_attn_shape_t *s)
{
	int L = s->L, H = s->H, dh = s->dh, R = s->n_hashes, rc = rf_attn_rot_cols(s), ld = H * dh;
	long nblk = (L + HASH_ROWS - 1) / HASH_ROWS, items = (long)s->B * H * nblk;
	int nblas = openblas_get_num_threads();
	openblas_set_num_threads(1);
#pragma omp parallel for schedule(static) if ((double)L * s->B * H * R * rc * dh > PARALLEL_MACS)
	for (long t = 0; t < items; t++) {
		int b = (int)(t / ((long)H * nblk)), h = (int)(t / nblk % H), j0 = (int)(t % nblk) * HASH_ROWS;
		int nr = L - j0 < HASH_ROWS ? L - j0 : HASH_ROWS;
		const float *x = qk + ((size_t)b * L + j0) * ld + (size_t)h * dh;
		const uint8_t *m = mask ? mask + (size_t)b * L + j0 : NULL;
		for (int r = 0; r < R; r++) {
			uint16_t *out = buckets + (((size_t)b * H + h) * R + r) * L + j0;
			hash_rows(out, x, ld, rot + (size_t)h * dh * R * rc + (size_t)r * rc, R * rc, s, nr);
			for (int i = 0; m && i < nr; i++)
				if (!m[i]) out[i] = (uint16_t)s->n_buckets;
		}
	}
	openblas_set_num_threads(nblas);
}

/* ------------------------------------------------------------- attention */

/* Inverse length of a key row; the unit key is row * key_rnorm(row). */
static float key_rnorm(const float *row, int dh)
{
	float ss = 0.0f;
	for (int d = 0; d < dh; d++) ss += row[d] * row[d];
	return 1.0f / sqrtf(ss + KEY_EPS);
}

/* e^x for the softmax arguments (x <= ~0), exactly 0 below -87 (masked
 * scores). Below -87 is tested on the bits, which order negative floats by
 * magnitude, so the loops around it still vectorise (see cpu_expf). */
static inline float softmax_exp(float x)
{
	union { float f; uint32_t u; } in = { x }, scale;
	int dead = in.u > 0xc2ae0000u;   /* bits of -87.0f */
	in.u = dead ? 0xc2ae0000u : in.u;
	float n, er = cpu_exp_reduced(in.f, &n);
	scale.u = dead ? 0u : (uint32_t)((int32_t)n + 127) << 23;
	return er * scale.f;
}

/* The distinct chunks c-before .. c+after (mod n), in that order; all n in
 * ascending order when full, so that keys come in position order and the
 * padding at the end of a FULL sequence only ever follows its real keys
 * (see cpu_lane_sum). */
static int window(int c, int before, int after, int n, int full, int *ids)
{
	int m = 0;
	if (full) {
		for (; m < n; m++) ids[m] = m;
		return m;
	}
	for (int o = -before; o <= after; o++) {
		int id = ((c + o) % n + n) % n, dup = 0;
		for (int i = 0; i < m; i++) dup |= ids[i] == id;
		if (!dup) ids[m++] = id;
	}
	return m;
}

/* This thread's share [*lo, *hi) of n items. */
static void span(const team_t *tm, int n, int *lo, int *hi)
{
	*lo = (int)((long)n * tm->id / tm->size);
	*hi = (int)((long)n * (tm->id + 1) / tm->size);
}

/* Ends a phase: the whole team waits (nothing to wait for when alone). */
static void team_sync(const team_t *tm)
{
	if (tm->size > 1) {
#pragma omp barrier
	}
}

/* Positions of chunk c of round r into pos; returns their count. */
static int chunk_positions(const head_t *x, int r, int c, int32_t *pos)
{
	const plan_t *p = x->p;
	int s0 = c * p->cl, n = p->L - s0 < p->cl ? p->L - s0 : p->cl;
	memcpy(pos, x->w->perm + (size_t)r * p->L + s0, (size_t)n * sizeof(int32_t));
	return n;
}

/* dst[i] = row pos[i] of src (rows ld apart), dh features each. */
static void gather(float *dst, const float *src, size_t ld, const int32_t *pos, int n, int dh)
{
	for (int i = 0; i < n; i++)
		memcpy(dst + (size_t)i * dh, src + (size_t)pos[i] * ld, (size_t)dh * sizeof(float));
}

/* Positions, padding flags, unit keys and values of the nk keys at t->kpos. */
static void gather_keys(const head_t *x, int nk)
{
	const plan_t *p = x->p;
	scratch_t *t = x->t;
	for (int j = 0; j < nk; j++) t->kpad[j] = x->mask && !x->mask[t->kpos[j]];
	gather(t->k, x->w->khat, (size_t)p->dh, t->kpos, nk, p->dh);
	gather(t->v, x->v, (size_t)p->ld, t->kpos, nk, p->dh);
}

/* Positions, unit keys and values of the window of chunk c in round r. */
static int gather_window(const head_t *x, int r, int c)
{
	const plan_t *p = x->p;
	scratch_t *t = x->t;
	int ids[p->win], nw = window(c, p->before, p->after, p->n_chunks, p->full, ids), nk = 0;
	for (int i = 0; i < nw; i++) nk += chunk_positions(x, r, ids[i], t->kpos + nk);
	gather_keys(x, nk);
	return nk;
}

/* Queries (and, in backward, output gradients) of chunk c in round r. */
static int gather_queries(const head_t *x, int r, int c)
{
	const plan_t *p = x->p;
	scratch_t *t = x->t;
	int nq = chunk_positions(x, r, c, t->qpos);
	gather(t->q, x->qk, (size_t)p->ld, t->qpos, nq, p->dh);
	if (x->dout) gather(t->dout, x->dout, (size_t)p->ld, t->qpos, nq, p->dh);
	return nq;
}

/* t->s = q k^T over nq queries and the nk keys at t->kpos, with masked
 * scores replaced. */
ATTN_SIMD static void scores(const head_t *x, int nq, int nk)
{
	scratch_t *t = x->t;
	const int32_t *kpos = t->kpos, *kpad = t->kpad;
	int dh = x->p->dh, causal = x->p->causal;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nq, nk, dh, 1.0f, t->q, dh, t->k, dh,
	            0.0f, t->s, nk);
	for (int i = 0; i < nq; i++) {
		float *si = t->s + (size_t)i * nk;
		int qp = t->qpos[i];
#pragma omp simd
		for (int j = 0; j < nk; j++) {
			float v = kpad[j] | (causal & (kpos[j] > qp)) ? RF_MASK_VALUE : si[j];
			si[j] = kpos[j] == qp ? RF_SELF_MASK_VALUE : v;
		}
	}
}

/* Round r, chunk c: per-round outputs and log-sum-exps in sorted order. */
ATTN_SIMD static void chunk_forward(const head_t *x, int r, int c)
{
	const plan_t *p = x->p;
	scratch_t *t = x->t;
	size_t s0 = (size_t)r * p->L + (size_t)c * p->cl;
	int dh = p->dh, nq = gather_queries(x, r, c), nk = gather_window(x, r, c);
	scores(x, nq, nk);
	for (int i = 0; i < nq; i++) {
		float *si = t->s + (size_t)i * nk, m = cpu_lane_max(si, nk);
#pragma omp simd
		for (int j = 0; j < nk; j++) si[j] = softmax_exp(si[j] - m);
		float sum = cpu_lane_sum(si, nk, 0.0f, 0), rs = 1.0f / sum;
#pragma omp simd
		for (int j = 0; j < nk; j++) si[j] *= rs;
		x->w->lse[s0 + i] = m + logf(sum);
	}
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nq, dh, nk, 1.0f, t->s, nk, t->v, dh,
	            0.0f, x->w->o + s0 * dh, dh);
}

/* Combines the rounds of position j into dst; logsumexp_r lse_r is *m + *ls.
 * The two stay apart: a token alone in view has lse -1e5, where a float sum
 * would round away log(rounds). */
static void combine_rounds(const head_t *x, int j, float *dst, float *mx, float *ls)
{
	const plan_t *p = x->p;
	const ws_t *w = x->w;
	int R = p->rounds, dh = p->dh;
	float m = -INFINITY, sum = 0.0f;
	if (R == 1) {
		/* what the loops below compute for one round, exactly: weight
		 * expf(0) = 1, normaliser logf(1) = 0, and 0 + o (never -0) */
		size_t si = w->inv[j];
		for (int d = 0; d < dh; d++) dst[d] = 0.0f + w->o[si * dh + d];
		*mx = w->lse[si];
		*ls = 0.0f;
		return;
	}
	for (int r = 0; r < R; r++) {
		float l = w->lse[(size_t)r * p->L + w->inv[(size_t)r * p->L + j]];
		m = l > m ? l : m;
	}
	for (int r = 0; r < R; r++)
		sum += expf(w->lse[(size_t)r * p->L + w->inv[(size_t)r * p->L + j]] - m);
	float lsum = logf(sum);
	for (int d = 0; d < dh; d++) dst[d] = 0.0f;
	for (int r = 0; r < R; r++) {
		size_t si = (size_t)r * p->L + w->inv[(size_t)r * p->L + j];
		float a = expf((w->lse[si] - m) - lsum);
		const float *o = w->o + si * dh;
#pragma omp simd
		for (int d = 0; d < dh; d++) dst[d] += a * o[d];
	}
	*mx = m;
	*ls = lsum;
}

/* Stable counting sort of round r's positions by bucket (identity unless LSH). */
static void sort_round(const head_t *x, int r)
{
	const plan_t *p = x->p;
	int32_t *perm = x->w->perm + (size_t)r * p->L, *inv = x->w->inv + (size_t)r * p->L;
	if (!p->lsh) {
		for (int j = 0; j < p->L; j++) perm[j] = inv[j] = j;
		return;
	}
	const uint16_t *bk = x->buckets + (size_t)r * p->L;
	int32_t *cnt = x->w->counts + (size_t)r * p->nbk, acc = 0;
	memset(cnt, 0, (size_t)p->nbk * sizeof(int32_t));
	for (int j = 0; j < p->L; j++) cnt[bk[j]]++;
	for (int b = 0; b < p->nbk; b++) {
		int32_t c = cnt[b];
		cnt[b] = acc;
		acc += c;
	}
	for (int j = 0; j < p->L; j++) {
		int32_t si = cnt[bk[j]]++;
		perm[si] = j;
		inv[j] = si;
	}
}

/* Unit keys, sorted orders, and every round's outputs of one head. */
static void head_rounds(const head_t *x)
{
	const plan_t *p = x->p;
	const ws_t *w = x->w;
	int dh = p->dh, lo, hi;
	span(&x->team, p->L, &lo, &hi);
	for (int j = lo; j < hi; j++) {
		const float *row = x->qk + (size_t)j * p->ld;
		float rn = key_rnorm(row, dh);
		for (int d = 0; d < dh; d++) w->khat[(size_t)j * dh + d] = row[d] * rn;
	}
	span(&x->team, p->rounds, &lo, &hi);
	for (int r = lo; r < hi; r++) sort_round(x, r);
	team_sync(&x->team);
	span(&x->team, p->rounds * p->n_chunks, &lo, &hi);
	for (int rc = lo; rc < hi; rc++) chunk_forward(x, rc / p->n_chunks, rc % p->n_chunks);
	team_sync(&x->team);
}

static void head_forward(const head_t *x)
{
	int lo, hi;
	float mx, ls;
	head_rounds(x);
	span(&x->team, x->p->L, &lo, &hi);
	for (int j = lo; j < hi; j++) combine_rounds(x, j, x->out + (size_t)j * x->p->ld, &mx, &ls);
	team_sync(&x->team);
}

/* From the scores of this thread's queries against nk keys: t->s <- P =
 * exp(s - tmax - tls), t->dp <- dS = P (dout.v - dout.out), zero where the
 * score was masked. */
ATTN_SIMD static void block_grad(const head_t *x, int nq, int nk)
{
	scratch_t *t = x->t;
	const int32_t *kpos = t->kpos, *kpad = t->kpad;
	int dh = x->p->dh, causal = x->p->causal;
	scores(x, nq, nk);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nq, nk, dh, 1.0f, t->dout, dh, t->v, dh,
	            0.0f, t->dp, nk);
	for (int i = 0; i < nq; i++) {
		int qp = t->qpos[i];
		float mx = x->w->tmax[qp], ls = x->w->tls[qp], ds = x->w->dsum[qp];
		float *si = t->s + (size_t)i * nk, *dpi = t->dp + (size_t)i * nk;
#pragma omp simd
		for (int j = 0; j < nk; j++) {
			/* zeroed on the bits: a float select would become a branch */
			uint32_t keep = (kpos[j] == qp) | kpad[j] | (causal & (kpos[j] > qp)) ? 0u : ~0u;
			float pj = softmax_exp((si[j] - mx) - ls);
			union { float f; uint32_t u; } g = { pj * (dpi[j] - ds) };
			si[j] = pj;
			g.u &= keep;
			dpi[j] = g.f;
		}
	}
}

/* Query gradients of chunk c in round r: dqk rows += dS K. */
static void chunk_backward_q(const head_t *x, int r, int c)
{
	const plan_t *p = x->p;
	scratch_t *t = x->t;
	int dh = p->dh, nq = gather_queries(x, r, c), nk = gather_window(x, r, c);
	block_grad(x, nq, nk);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nq, dh, nk, 1.0f, t->dp, nk, t->k, dh,
	            0.0f, t->g, dh);
	for (int i = 0; i < nq; i++) {
		float *row = x->dqk + (size_t)t->qpos[i] * p->ld;
		const float *g = t->g + (size_t)i * dh;
#pragma omp simd
		for (int d = 0; d < dh; d++) row[d] += g[d];
	}
}

/* Key and value gradients of chunk c in round r, from every query chunk
 * whose window holds it (the window taken backwards). */
static void chunk_backward_kv(const head_t *x, int r, int c)
{
	const plan_t *p = x->p;
	scratch_t *t = x->t;
	int dh = p->dh, nk = chunk_positions(x, r, c, t->kpos), ids[p->win];
	int nw = window(c, p->after, p->before, p->n_chunks, p->full, ids);
	gather_keys(x, nk);
	memset(t->g, 0, (size_t)nk * dh * sizeof(float));
	memset(t->gv, 0, (size_t)nk * dh * sizeof(float));
	for (int i = 0; i < nw; i++) {
		int nq = gather_queries(x, r, ids[i]);
		block_grad(x, nq, nk);
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nk, dh, nq, 1.0f, t->dp, nk, t->q, dh,
		            1.0f, t->g, dh);
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nk, dh, nq, 1.0f, t->s, nk, t->dout, dh,
		            1.0f, t->gv, dh);
	}
	for (int i = 0; i < nk; i++) {
		float *dk = x->w->dkhat + (size_t)t->kpos[i] * dh, *dv = x->dv + (size_t)t->kpos[i] * p->ld;
		const float *g = t->g + (size_t)i * dh, *gv = t->gv + (size_t)i * dh;
#pragma omp simd
		for (int d = 0; d < dh; d++) {
			dk[d] += g[d];
			dv[d] += gv[d];
		}
	}
}

static void head_backward(const head_t *x)
{
	const plan_t *p = x->p;
	const ws_t *w = x->w;
	int dh = p->dh, n = p->n_chunks, lo, hi;
	head_rounds(x);
	span(&x->team, p->L, &lo, &hi);
	for (int j = lo; j < hi; j++) {
		const float *dout = x->dout + (size_t)j * p->ld;
		float ds = 0.0f;
		combine_rounds(x, j, x->t->g, &w->tmax[j], &w->tls[j]);
		for (int d = 0; d < dh; d++) ds += dout[d] * x->t->g[d];
		w->dsum[j] = ds;
		memset(w->dkhat + (size_t)j * dh, 0, (size_t)dh * sizeof(float));
	}
	team_sync(&x->team);
	/* Rounds in turn: within one, each position is one query and one key.
	 * Query and key chunks alternate so that every share costs the same. */
	for (int r = 0; r < p->rounds; r++) {
		span(&x->team, 2 * n, &lo, &hi);
		for (int i = lo; i < hi; i++) {
			if (i % 2 == 0) chunk_backward_q(x, r, i / 2);
			else chunk_backward_kv(x, r, i / 2);
		}
		team_sync(&x->team);
	}
	/* Through the unit normalisation: dk = (dkhat - khat (khat . dkhat)) / |k|. */
	span(&x->team, p->L, &lo, &hi);
	for (int j = lo; j < hi; j++) {
		const float *kh = w->khat + (size_t)j * dh, *g = w->dkhat + (size_t)j * dh;
		float *row = x->dqk + (size_t)j * p->ld, dot = 0.0f;
		float rn = key_rnorm(x->qk + (size_t)j * p->ld, dh);
		for (int d = 0; d < dh; d++) dot += kh[d] * g[d];
		for (int d = 0; d < dh; d++) row[d] += rn * (g[d] - kh[d] * dot);
	}
	team_sync(&x->team);
}

static head_t head_of(const plan_t *p, const ws_t *w, scratch_t *t, team_t team, int bh,
                      const call_t *a)
{
	int b = bh / p->H, h = bh % p->H;
	size_t off = (size_t)b * p->L * p->ld + (size_t)h * p->dh;
	head_t x = { p, w, t, team, a->qk + off, a->v + off,
	             a->mask ? a->mask + (size_t)b * p->L : NULL,
	             a->buckets ? a->buckets + (size_t)bh * p->rounds * p->L : NULL,
	             a->out ? a->out + off : NULL, a->dout ? a->dout + off : NULL,
	             a->dqk ? a->dqk + off : NULL, a->dv ? a->dv + off : NULL };
	return x;
}

/* Runs fn on every head: one thread per head when each has a workspace,
 * else all threads on each head in turn. OpenBLAS runs one thread inside
 * (its own pool would oversubscribe the cores); its setting comes back. */
static void run_heads(const rf_attn_shape_t *s, void *work, const call_t *a,
                      void (*fn)(const head_t *))
{
	plan_t p;
	make_plan(&p, s);
	int nthr = attn_threads(), ng = head_groups(&p, nthr), nblas = openblas_get_num_threads();
	ws_t ws[ng];
	scratch_t thr[nthr];
	layout((char *)(((uintptr_t)work + 63) & ~(uintptr_t)63), &p, ng, ws, nthr, thr);
	double macs = (double)p.B * p.H * p.rounds * p.L * p.win * p.cl * p.dh;
	openblas_set_num_threads(1);
#pragma omp parallel num_threads(nthr) if (macs > PARALLEL_MACS)
	{
		int id = omp_get_thread_num(), nt = omp_get_num_threads();
		if (ng > 1) {
			team_t solo = { 0, 1 };
			for (int bh = id; bh < p.B * p.H; bh += nt) {
				head_t x = head_of(&p, &ws[id], &thr[id], solo, bh, a);
				fn(&x);
			}
		} else {
			team_t all = { id, nt };
			for (int bh = 0; bh < p.B * p.H; bh++) {
				head_t x = head_of(&p, &ws[0], &thr[id], all, bh, a);
				fn(&x);
			}
		}
	}
	openblas_set_num_threads(nblas);
}

void cpu_attn_forward(float *out, const float *qk, const float *v, const uint16_t *buckets,
                      const uint8_t *mask, const rf_attn_shape_t *s, void *work)
{
	call_t a = { qk, v, NULL, buckets, mask, out, NULL, NULL };
	run_heads(s, work, &a, head_forward);
}

void cpu_attn_backward(float *dqk, float *dv, const float *dout, const float *qk,
                       const float *v, const uint16_t *buckets, const uint8_t *mask,
                       const rf_attn_shape_t *s, void *work)
{
	call_t a = { qk, v, dout, buckets, mask, NULL, dqk, dv };
	run_heads(s, work, &a, head_backward);
}

/* ------------------------------------------------------- packed segments */

/* The call that segment of n rows is: one sequence of n real tokens, FULL. */
static rf_attn_shape_t segment_shape(const rf_varlen_shape_t *s, int n)
{
	rf_attn_shape_t a = { .B = 1, .L = n, .H = s->H, .dh = s->dh, .kind = RF_ATTN_FULL, .causal = s->causal,
	                      .chunk_len = n, .n_before = 0, .n_after = 0, .n_hashes = 1, .n_buckets = 2, .n_buckets1 = 2 };
	return a;
}

/* One head workspace and one scratch per thread, laid out for the longest
 * segment: a shorter one's plan needs no more of either. */
static size_t varlen_layout(char *base, const rf_varlen_shape_t *s, int nthr, ws_t *ws, scratch_t *thr)
{
	rf_attn_shape_t a = segment_shape(s, s->max_len > 0 ? s->max_len : 1);
	plan_t p;
	make_plan(&p, &a);
	return layout(base, &p, nthr, ws, nthr, thr);
}

size_t cpu_attn_varlen_workspace(const rf_varlen_shape_t *s)
{
	int nthr = attn_threads();
	ws_t ws[nthr];
	scratch_t thr[nthr];
	return varlen_layout(NULL, s, nthr, ws, thr);
}

/* Runs fn on every (segment, head), one thread each with its own
 * workspace: each is the head of a FULL call of one sequence, so packed
 * segments go through exactly the code (and the arithmetic) of unpacked
 * sequences. */
static void run_segments(const int32_t *seg, const rf_varlen_shape_t *s, void *work, const call_t *a,
                         void (*fn)(const head_t *))
{
	int nthr = attn_threads(), nblas = openblas_get_num_threads();
	ws_t ws[nthr];
	scratch_t thr[nthr];
	varlen_layout((char *)(((uintptr_t)work + 63) & ~(uintptr_t)63), s, nthr, ws, thr);
	double macs = (double)(seg[s->n_seg] - seg[0]) * s->max_len * s->H * s->dh;
	size_t ld = (size_t)s->H * s->dh;
	openblas_set_num_threads(1);
#pragma omp parallel num_threads(nthr) if (macs > PARALLEL_MACS)
	{
		int id = omp_get_thread_num();
		team_t solo = { 0, 1 };
#pragma omp for schedule(dynamic, 4)
		for (long item = 0; item < (long)s->n_seg * s->H; item++) {
			int i = (int)(item / s->H), h = (int)(item % s->H), n = seg[i + 1] - seg[i];
			if (n <= 0) continue;
			rf_attn_shape_t sh = segment_shape(s, n);
			plan_t p;
			make_plan(&p, &sh);
			size_t off = (size_t)seg[i] * ld + (size_t)h * s->dh;
			head_t x = { &p, &ws[id], &thr[id], solo, a->qk + off, a->v + off, NULL, NULL,
			             a->out ? a->out + off : NULL, a->dout ? a->dout + off : NULL,
			             a->dqk ? a->dqk + off : NULL, a->dv ? a->dv + off : NULL };
			fn(&x);
		}
	}
	openblas_set_num_threads(nblas);
}

void cpu_attn_varlen_forward(float *out, const float *qk, const float *v, const int32_t *seg,
                             const rf_varlen_shape_t *s, void *work)
{
	size_t ld = (size_t)s->H * s->dh;
	int end = 0;
	/* rows outside every segment: before, between and after them */
	for (int i = 0; i <= s->n_seg; i++) {
		int next = i < s->n_seg ? seg[i] : s->N;
		if (next > end) memset(out + (size_t)end * ld, 0, (size_t)(next - end) * ld * sizeof(float));
		if (i < s->n_seg && seg[i + 1] > end) end = seg[i + 1];
	}
	call_t a = { qk, v, NULL, NULL, NULL, out, NULL, NULL };
	run_segments(seg, s, work, &a, head_forward);
}

void cpu_attn_varlen_backward(float *dqk, float *dv, const float *dout, const float *qk,
                              const float *v, const int32_t *seg, const rf_varlen_shape_t *s, void *work)
{
	call_t a = { qk, v, dout, NULL, NULL, NULL, dqk, dv };
	run_segments(seg, s, work, &a, head_backward);
}
