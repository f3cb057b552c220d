/* The Reformer model over the backend op table (docs/DESIGN.md: numerics, memory).
 *
 * Memory plan for N = B * padded L rows of D features:
 * - the two residual streams X1, X2 (and dX1, dX2 when training);
 * - layer scratch: LN1 output, QK, V (+ attention output and three gradient
 *   buffers when training), each [N, D];
 * - the feed-forward and the final LayerNorm run in chunks of ff_chunk rows,
 *   so [N, d_ff] and [N, 2D] never exist;
 * - per LSH layer, its buckets as uint16 (training), the only per-layer state
 *   of size N in reversible mode. The backward pass rebuilds each layer's
 *   inputs from its outputs: X2 = Y2 - FF(Y1), X1 = Y1 - Attn(X2).
 * Small heads (classifier, masked-LM) allocate their buffers per call. */
#include "model/reformer.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/rng.h"
#include "model/util.h"

/* Per-layer parameter offsets (floats into the parameter allocation). */
typedef struct {
	size_t ln1_w, ln1_b, w_qk, w_v, w_o, ln2_w, ln2_b, w1, b1, w2, b2;
} layer_off_t;

/* Cached activation buffers, grown on demand. */
enum {
	BUF_TOKENS, BUF_MASK, BUF_X1, BUF_X2, BUF_LN, BUF_QK, BUF_V, BUF_MEAN, BUF_RSTD,
	BUF_F_LN, BUF_F_OUT, BUF_F_PRE, BUF_F_H, BUF_F_MEAN, BUF_F_RSTD,
	BUF_H_CAT, BUF_H_OUT, BUF_H_MEAN, BUF_H_RSTD,
	BUF_WORK, BUF_ROT, BUF_BUCKETS,
	BUF_POS, BUF_SEG,              /* packed batches: positions, segment offsets */
	/* training only */
	BUF_DX1, BUF_DX2, BUF_A, BUF_DA, BUF_DQK, BUF_DV, BUF_F_DPRE, BUF_H_DCAT, BUF_STORE,
	N_BUF
};

typedef struct {
	void *p;
	size_t cap;
} slot_t;

struct rf_model {
	rf_config_t cfg;
	const rf_backend_t *be;
	rf_arena_t arena;
	rf_tensor_t *tensors;
	int n_tensors;
	size_t n_params;
	float *params, *grads;
	size_t tok_emb, pos1, pos2, lnf_w, lnf_b, cls_w, cls_b, mlm_w, mlm_b;
	layer_off_t lay[RF_MAX_LAYERS];
	int lsh_slot[RF_MAX_LAYERS];   /* index of an LSH layer's stored buckets */
	int n_lsh;
	int reversible;

	slot_t buf[N_BUF];

	/* the current call */
	int B, L, Lp, N, R;            /* R: rows per feed-forward / final-LN chunk */
	int n_seg, max_seg;            /* packed batch: sequences, the longest (0: not packed) */
	int n_out;                     /* pooled rows: n_seg when packed, else B */
	int nb, nb1;                   /* LSH buckets at this length */
	int train_bufs, store;         /* backward buffers present; layer inputs stored */
	int check_rec;
	int freeze_buckets;
	double rec_err;
	uint64_t seed, step;
	float drop;                    /* dropout probability in effect (0: none) */

	/* host staging */
	int32_t *tok_h;
	uint8_t *mask_h;
	int *cnt_h;                    /* real tokens per sequence */
	int32_t *pos_h, *seg_h;        /* packed: positions [N], offsets into N [n_seg+1] */
	size_t tok_cap, mask_cap, cnt_cap, pos_cap, seg_cap;
};

#define FB(m, id) ((float *)(m)->buf[id].p)
#define PAR(m, off) ((m)->params + (off))
#define GRD(m, off) ((m)->grads + (off))

/* ---- parameters ---------------------------------------------------------- */

/* With m->tensors NULL only counts (rf_model_estimate_bytes). */
static size_t add_tensor(rf_model_t *m, const char *name, int ndim, int64_t d0, int64_t d1)
{
	size_t offset = m->n_params;
	m->n_params += (size_t)d0 * (size_t)(ndim > 1 ? d1 : 1);
	if (!m->tensors) return offset;
	rf_tensor_t *t = &m->tensors[m->n_tensors++];
	snprintf(t->name, sizeof t->name, "%s", name);
	t->ndim = ndim;
	t->shape[0] = d0;
	t->shape[1] = ndim > 1 ? d1 : 0;
	t->shape[2] = t->shape[3] = 0;
	t->numel = m->n_params - offset;
	t->offset = offset;
	return offset;
}

static size_t add_layer_tensor(rf_model_t *m, int l, const char *what, int ndim, int64_t d0, int64_t d1)
{
	char name[64];
	snprintf(name, sizeof name, "layers.%d.%s", l, what);
	return add_tensor(m, name, ndim, d0, d1);
}

static void build_tensors(rf_model_t *m)
{
	const rf_config_t *c = &m->cfg;
	int D = c->d_model, F = c->d_ff;
	m->tok_emb = add_tensor(m, "tok_emb", 2, c->vocab, D);
	m->pos1 = add_tensor(m, "pos1", 2, c->axial1, c->axial_d1);
	m->pos2 = add_tensor(m, "pos2", 2, c->axial2, D - c->axial_d1);
	for (int l = 0; l < c->n_layers; l++) {
		layer_off_t *o = &m->lay[l];
		o->ln1_w = add_layer_tensor(m, l, "ln1.w", 1, D, 0);
		o->ln1_b = add_layer_tensor(m, l, "ln1.b", 1, D, 0);
		o->w_qk = add_layer_tensor(m, l, "attn.w_qk", 2, D, D);
		o->w_v = add_layer_tensor(m, l, "attn.w_v", 2, D, D);
		o->w_o = add_layer_tensor(m, l, "attn.w_o", 2, D, D);
		o->ln2_w = add_layer_tensor(m, l, "ln2.w", 1, D, 0);
		o->ln2_b = add_layer_tensor(m, l, "ln2.b", 1, D, 0);
		o->w1 = add_layer_tensor(m, l, "ff.w1", 2, D, F);
		o->b1 = add_layer_tensor(m, l, "ff.b1", 1, F, 0);
		o->w2 = add_layer_tensor(m, l, "ff.w2", 2, F, D);
		o->b2 = add_layer_tensor(m, l, "ff.b2", 1, D, 0);
	}
	m->lnf_w = add_tensor(m, "ln_f.w", 1, 2 * D, 0);
	m->lnf_b = add_tensor(m, "ln_f.b", 1, 2 * D, 0);
	if (c->n_classes > 0) {
		m->cls_w = add_tensor(m, "cls.w", 2, 2 * D, c->n_classes);
		m->cls_b = add_tensor(m, "cls.b", 1, c->n_classes, 0);
	}
	if (c->mlm) {
		m->mlm_w = add_tensor(m, "mlm.w", 2, 2 * D, c->vocab);
		m->mlm_b = add_tensor(m, "mlm.b", 1, c->vocab, 0);
	}
}

/* LayerNorm weights are the 1-D tensors named *.w; other 1-D tensors are biases. */
static int is_layernorm_weight(const rf_tensor_t *t)
{
	size_t n = strlen(t->name);
	return t->ndim == 1 && n > 2 && strcmp(t->name + n - 2, ".w") == 0;
}

void rf_model_init(rf_model_t *m, uint64_t seed)
{
	float *h = malloc(m->n_params * sizeof *h);
	if (!h) abort();
	uint64_t key = rf_rng_key(seed, 0, -1, RF_RNG_INIT);
	for (int i = 0; i < m->n_tensors; i++) {
		const rf_tensor_t *t = &m->tensors[i];
		for (size_t j = 0; j < t->numel; j++) {
			size_t k = t->offset + j;
			h[k] = t->ndim == 2 ? 0.02f * rf_rng_normal(key, k) : is_layernorm_weight(t) ? 1.0f : 0.0f;
		}
	}
	m->be->upload(m->params, h, m->n_params * sizeof *h);
	free(h);
}

/* Tensors (or, with m->tensors NULL, only their count) and LSH slots. */
static void build_layout(rf_model_t *m)
{
	build_tensors(m);
	for (int l = 0; l < m->cfg.n_layers; l++)
		m->lsh_slot[l] = m->cfg.layer_kind[l] == RF_ATTN_LSH ? m->n_lsh++ : -1;
}

/* One of the two allocations of n_params floats: parameters, gradients. */
static size_t param_bytes(const rf_model_t *m)
{
	return m->n_params * sizeof(float);
}

/* Whether be runs every layer of cfg (rf_backend_t.supports_attn). */
static int check_backend(const rf_config_t *c, const rf_backend_t *be, char *err, size_t errlen)
{
	char why[256];
	for (int l = 0; l < c->n_layers; l++) {
		rf_attn_shape_t s = {
			.B = 1, .L = c->chunk_len, .H = c->n_heads, .dh = c->d_model / c->n_heads, .kind = c->layer_kind[l],
			.causal = c->causal, .chunk_len = c->chunk_len, .n_before = c->n_before, .n_after = c->n_after,
			.n_hashes = c->n_hashes,
		};
		if (be->supports_attn(&s, why, sizeof why))
			return rf_fail(err, errlen, "model: the %s backend cannot run layer %d: %s (d_model %d / %d heads)",
			               be->name, l, why, c->d_model, c->n_heads);
	}
	return 0;
}

rf_model_t *rf_model_create(const rf_config_t *cfg, const rf_backend_t *be, char *err, size_t errlen)
{
	if (rf_config_validate(cfg, err, errlen) || check_backend(cfg, be, err, errlen)) return NULL;
	rf_model_t *m = calloc(1, sizeof *m);
	if (!m) { rf_fail(err, errlen, "model: out of host memory"); return NULL; }
	m->cfg = *cfg;
	m->be = be;
	m->reversible = 1;
	rf_arena_init(&m->arena, be);
	m->tensors = calloc(6 + 11 * (size_t)cfg->n_layers + 4, sizeof *m->tensors);
	if (!m->tensors) { free(m); rf_fail(err, errlen, "model: out of host memory"); return NULL; }
	build_layout(m);
	m->params = rf_arena_alloc(&m->arena, param_bytes(m));
	m->grads = rf_arena_alloc(&m->arena, param_bytes(m));
	if (!m->params || !m->grads) {
		rf_fail(err, errlen, "model: cannot allocate %zu parameters on backend %s", m->n_params, be->name);
		rf_model_free(m);
		return NULL;
	}
	be->zero(m->grads, m->n_params * sizeof(float));
	rf_model_init(m, 0);
	return m;
}

void rf_model_free(rf_model_t *m)
{
	if (!m) return;
	rf_arena_release(&m->arena);
	free(m->tensors);
	free(m->tok_h);
	free(m->mask_h);
	free(m->cnt_h);
	free(m->pos_h);
	free(m->seg_h);
	free(m);
}

const rf_config_t *rf_model_config(const rf_model_t *m) { return &m->cfg; }
const rf_backend_t *rf_model_backend(const rf_model_t *m) { return m->be; }
rf_arena_t *rf_model_arena(rf_model_t *m) { return &m->arena; }
int rf_model_n_tensors(const rf_model_t *m) { return m->n_tensors; }
size_t rf_model_n_params(const rf_model_t *m) { return m->n_params; }
float *rf_model_params(rf_model_t *m) { return m->params; }
float *rf_model_grads(rf_model_t *m) { return m->grads; }
void rf_model_set_reversible(rf_model_t *m, int on) { m->reversible = on != 0; }
void rf_model_debug_freeze_buckets(rf_model_t *m, int on) { m->freeze_buckets = on != 0; }
size_t rf_model_peak_bytes(const rf_model_t *m) { return m->arena.peak; }
size_t rf_model_current_bytes(const rf_model_t *m) { return m->arena.cur; }

const rf_tensor_t *rf_model_tensor(const rf_model_t *m, int i)
{
	return i >= 0 && i < m->n_tensors ? &m->tensors[i] : NULL;
}

const rf_tensor_t *rf_model_find(const rf_model_t *m, const char *name)
{
	for (int i = 0; i < m->n_tensors; i++)
		if (strcmp(m->tensors[i].name, name) == 0) return &m->tensors[i];
	return NULL;
}

void rf_model_get_params(const rf_model_t *m, float *host)
{
	m->be->download(host, m->params, m->n_params * sizeof(float));
}

void rf_model_set_params(rf_model_t *m, const float *host)
{
	m->be->upload(m->params, host, m->n_params * sizeof(float));
}

void rf_model_get_grads(const rf_model_t *m, float *host)
{
	m->be->download(host, m->grads, m->n_params * sizeof(float));
}

void rf_model_zero_grads(rf_model_t *m)
{
	m->be->zero(m->grads, m->n_params * sizeof(float));
}

/* ---- buffers and batch staging -------------------------------------------- */

static rf_attn_shape_t attn_shape(const rf_model_t *m, int l)
{
	const rf_config_t *c = &m->cfg;
	rf_attn_shape_t s = {
		.B = m->B, .L = m->Lp, .H = c->n_heads, .dh = c->d_model / c->n_heads,
		.kind = c->layer_kind[l], .causal = c->causal,
		.chunk_len = c->chunk_len, .n_before = c->n_before, .n_after = c->n_after,
		.n_hashes = c->n_hashes, .n_buckets = m->nb, .n_buckets1 = m->nb1,
	};
	return s;
}

static rf_varlen_shape_t varlen_shape(const rf_model_t *m)
{
	const rf_config_t *c = &m->cfg;
	rf_varlen_shape_t v = { .N = m->N, .n_seg = m->n_seg, .max_len = m->max_seg,
	                        .H = c->n_heads, .dh = c->d_model / c->n_heads, .causal = c->causal };
	return v;
}

/* uint16 buckets of one LSH layer: [B, H, n_hashes, Lp]. */
static size_t bucket_count(const rf_model_t *m)
{
	return (size_t)m->N * m->cfg.n_heads * m->cfg.n_hashes;
}

static size_t rot_floats(const rf_model_t *m)
{
	rf_attn_shape_t s = attn_shape(m, 0);
	return (size_t)s.H * s.dh * s.n_hashes * rf_attn_rot_cols(&s);
}

static size_t buf_bytes(const rf_model_t *m, int id)
{
	const rf_config_t *c = &m->cfg;
	size_t N = (size_t)m->N, D = (size_t)c->d_model, F = (size_t)c->d_ff, R = (size_t)m->R;
	size_t f = sizeof(float);
	switch (id) {
	case BUF_TOKENS: return N * sizeof(int32_t);
	case BUF_MASK: return N;
	case BUF_X1: case BUF_X2: case BUF_LN: case BUF_QK: case BUF_V: return N * D * f;
	case BUF_MEAN: case BUF_RSTD: return N * f;
	case BUF_F_LN: case BUF_F_OUT: return R * D * f;
	case BUF_F_PRE: case BUF_F_H: return R * F * f;
	case BUF_F_MEAN: case BUF_F_RSTD: case BUF_H_MEAN: case BUF_H_RSTD: return R * f;
	case BUF_H_CAT: case BUF_H_OUT: return R * 2 * D * f;
	case BUF_POS: return m->n_seg ? N * sizeof(int32_t) : 0;
	case BUF_SEG: return m->n_seg ? ((size_t)m->n_seg + 1) * sizeof(int32_t) : 0;
	case BUF_WORK: {
		size_t w = 0;
		if (m->n_seg) {
			rf_varlen_shape_t v = varlen_shape(m);
			return m->be->attn_varlen_workspace(&v);
		}
		for (int l = 0; l < c->n_layers; l++) {
			rf_attn_shape_t s = attn_shape(m, l);
			size_t x = m->be->attn_workspace(&s);
			if (x > w) w = x;
		}
		return w;
	}
	case BUF_ROT: return m->n_lsh && !m->n_seg ? rot_floats(m) * f : 0;
	case BUF_BUCKETS:
		return m->n_lsh && !m->n_seg ? bucket_count(m) * sizeof(uint16_t) * (m->train_bufs ? (size_t)m->n_lsh : 1) : 0;
	}
	if (!m->train_bufs) return 0;
	switch (id) {
	case BUF_DX1: case BUF_DX2: case BUF_A: case BUF_DA: case BUF_DQK: case BUF_DV: return N * D * f;
	case BUF_F_DPRE: return R * F * f;
	case BUF_H_DCAT: return R * 2 * D * f;
	case BUF_STORE: return m->store ? (size_t)c->n_layers * 2 * N * D * f : 0;
	}
	return 0;
}

/* Grows every buffer to what this call needs; a buffer is freed before its
 * replacement is allocated, so growth never holds both. The stored layer
 * inputs, the largest buffer, go as soon as a call does not need them. */
static int ensure_buffers(rf_model_t *m, char *err, size_t errlen)
{
	for (int id = 0; id < N_BUF; id++) {
		size_t need = buf_bytes(m, id);
		slot_t *s = &m->buf[id];
		if (need <= s->cap && !(id == BUF_STORE && need == 0)) continue;
		rf_arena_free(&m->arena, s->p);
		s->p = NULL;
		s->cap = 0;
		if (!need) continue;
		s->p = rf_arena_alloc(&m->arena, need);
		if (!s->p)
			return rf_fail(err, errlen, "model: cannot allocate %zu bytes of activations (B %d, L %d) on backend %s",
			            need, m->B, m->Lp, m->be->name);
		s->cap = need;
	}
	return 0;
}

static int grow_host(void **p, size_t *cap, size_t need)
{
	if (need <= *cap) return 0;
	void *q = realloc(*p, need);
	if (!q) return -1;
	*p = q;
	*cap = need;
	return 0;
}

int rf_model_max_segment(const rf_config_t *cfg)
{
	int64_t most = (int64_t)cfg->axial1 * cfg->axial2;
	for (int l = 0; l < cfg->n_layers; l++)
		if (cfg->layer_kind[l] != RF_ATTN_FULL && cfg->chunk_len < most) most = cfg->chunk_len;
	if (cfg->ff_chunk > 0 && cfg->ff_chunk < most) most = cfg->ff_chunk;
	return most < INT_MAX ? (int)most : INT_MAX;
}

/* The current call's sizes for B sequences of L tokens, or for a packed
 * batch of B x L tokens whose longest sequence is max_seg (n_seg > 0; no
 * padding to chunks: every sequence is FULL attention); the buffers follow
 * from them through buf_bytes. -1 with a message when they cannot run. */
static int set_shape(rf_model_t *m, int B, int L, int n_seg, int max_seg, int train_bufs, char *err, size_t errlen)
{
	const rf_config_t *c = &m->cfg;
	if (B < 1 || L < 1) return rf_fail(err, errlen, "batch: needs B >= 1 and L >= 1 (B %d, L %d)", B, L);
	int Lp = n_seg ? L : rf_config_padded_len(c, L);
	int64_t maxpos = (int64_t)c->axial1 * c->axial2;
	if (n_seg && max_seg > rf_model_max_segment(c))
		return rf_fail(err, errlen, "batch: packed sequence of %d tokens is longer than the %d this model packs",
		            max_seg, rf_model_max_segment(c));
	if (!n_seg && Lp > maxpos)
		return rf_fail(err, errlen, "batch: length %d (padded %d) exceeds the %lld positions of --axial %dx%d",
		            L, Lp, (long long)maxpos, c->axial1, c->axial2);
	if ((int64_t)B * Lp > INT_MAX)
		return rf_fail(err, errlen, "batch: %d x %d tokens is too many for one call", B, Lp);
	m->B = B;
	m->L = L;
	m->Lp = Lp;
	m->N = B * Lp;
	m->n_seg = n_seg;
	m->max_seg = max_seg;
	m->n_out = n_seg ? n_seg : B;
	m->R = c->ff_chunk > 0 && c->ff_chunk < m->N ? c->ff_chunk : m->N;
	m->nb = m->nb1 = 0;
	if (m->n_lsh && !n_seg) {
		rf_lsh_buckets(Lp, c->chunk_len, c->n_buckets, &m->nb, &m->nb1);
		if (m->nb > UINT16_MAX - 1)
			return rf_fail(err, errlen, "batch: length %d needs %d LSH buckets, more than %d (raise --chunk or set --buckets)",
			            Lp, m->nb, UINT16_MAX - 1);
	}
	/* frozen buckets live in the per-layer slots of a training pass */
	m->train_bufs = train_bufs || m->freeze_buckets;
	m->store = train_bufs && (!m->reversible || m->check_rec);
	return 0;
}

/* The longest sequence of a packed batch after checking its offsets, 0
 * when the batch is not packed, -1 with a message. */
static int packed_longest(const rf_batch_t *b, char *err, size_t errlen)
{
	int most = 0;
	if (b->n_seg <= 0) return 0;
	if (!b->seg) return rf_fail(err, errlen, "batch: %d packed sequences but no offsets", b->n_seg);
	if (b->mask) return rf_fail(err, errlen, "batch: a packed batch takes no mask (its sequences are all real tokens)");
	if (b->seg[0] < 0 || (int64_t)b->seg[b->n_seg] > (int64_t)b->B * b->L)
		return rf_fail(err, errlen, "batch: packed sequences [%d, %d) are outside %d x %d tokens", b->seg[0],
		            b->seg[b->n_seg], b->B, b->L);
	for (int i = 0; i < b->n_seg; i++) {
		int n = b->seg[i + 1] - b->seg[i];
		if (n < 1) return rf_fail(err, errlen, "batch: packed sequence %d is empty or out of order", i);
		if (n > most) most = n;
	}
	return most;
}

/* Packed batches: positions restart at 0 in each sequence, mask 1 inside
 * them; offsets and positions uploaded. */
static int prepare_packed(rf_model_t *m, const rf_batch_t *b, char *err, size_t errlen)
{
	size_t N = (size_t)m->N;
	if (grow_host((void **)&m->pos_h, &m->pos_cap, N * sizeof(int32_t)) ||
	    grow_host((void **)&m->seg_h, &m->seg_cap, ((size_t)b->n_seg + 1) * sizeof(int32_t)))
		return rf_fail(err, errlen, "batch: out of host memory");
	memset(m->pos_h, 0, N * sizeof(int32_t));
	memset(m->mask_h, 0, N);
	memcpy(m->seg_h, b->seg, ((size_t)b->n_seg + 1) * sizeof(int32_t));
	for (int i = 0; i < b->n_seg; i++)
		for (int j = b->seg[i]; j < b->seg[i + 1]; j++) {
			m->pos_h[j] = j - b->seg[i];
			m->mask_h[j] = 1;
		}
	m->be->upload(m->buf[BUF_POS].p, m->pos_h, N * sizeof(int32_t));
	m->be->upload(m->buf[BUF_SEG].p, m->seg_h, ((size_t)b->n_seg + 1) * sizeof(int32_t));
	return 0;
}

/* Checks the batch, pads it to Lp on the host, uploads tokens and mask, and
 * sizes the buffers. */
static int prepare(rf_model_t *m, const rf_batch_t *b, int train_bufs, char *err, size_t errlen)
{
	const rf_config_t *c = &m->cfg;
	if (!b->tokens) return rf_fail(err, errlen, "batch: no tokens");
	int longest = packed_longest(b, err, errlen);
	if (longest < 0 || set_shape(m, b->B, b->L, longest ? b->n_seg : 0, longest, train_bufs, err, errlen)) return -1;
	m->seed = b->seed;
	m->step = b->step;
	m->drop = b->train ? c->dropout : 0.0f;

	const int Lp = m->Lp;
	size_t N = (size_t)m->N;
	if (grow_host((void **)&m->tok_h, &m->tok_cap, N * sizeof(int32_t)) ||
	    grow_host((void **)&m->mask_h, &m->mask_cap, N) ||
	    grow_host((void **)&m->cnt_h, &m->cnt_cap, (size_t)b->B * sizeof(int)))
		return rf_fail(err, errlen, "batch: out of host memory");
	for (int s = 0; s < b->B; s++) {
		int cnt = 0;
		for (int j = 0; j < Lp; j++) {
			size_t o = (size_t)s * Lp + j, i = (size_t)s * b->L + j;
			int32_t t = 0;
			uint8_t mk = 0;
			if (j < b->L) {
				t = b->tokens[i];
				mk = b->mask ? b->mask[i] != 0 : 1;
				if (t < 0 || t >= c->vocab)
					return rf_fail(err, errlen, "batch: token %d at sequence %d position %d is outside the vocabulary of %d",
					            t, s, j, c->vocab);
			}
			m->tok_h[o] = t;
			m->mask_h[o] = mk;
			cnt += mk;
		}
		m->cnt_h[s] = cnt;
	}
	if (b->labels) {
		if (c->n_classes == 0) return rf_fail(err, errlen, "batch: labels given but the model has no classifier head");
		for (int s = 0; s < m->n_out; s++)
			if (b->labels[s] < 0 || b->labels[s] >= c->n_classes)
				return rf_fail(err, errlen, "batch: label %d of sequence %d is not in 0..%d", b->labels[s], s, c->n_classes - 1);
	}
	if (b->n_mlm > 0) {
		if (!c->mlm) return rf_fail(err, errlen, "batch: masked-LM targets given but the model has no MLM head");
		for (int i = 0; i < b->n_mlm; i++) {
			if (b->mlm_pos[i] < 0 || (int64_t)b->mlm_pos[i] >= (int64_t)b->B * b->L)
				return rf_fail(err, errlen, "batch: masked position %d (target %d) is outside %d x %d tokens",
				            b->mlm_pos[i], i, b->B, b->L);
			if (b->mlm_targets[i] < 0 || b->mlm_targets[i] >= c->vocab)
				return rf_fail(err, errlen, "batch: masked-LM target %d (entry %d) is outside the vocabulary of %d",
				            b->mlm_targets[i], i, c->vocab);
		}
	}
	if (ensure_buffers(m, err, errlen)) return -1;
	if (m->n_seg && prepare_packed(m, b, err, errlen)) return -1;
	m->be->upload(m->buf[BUF_TOKENS].p, m->tok_h, N * sizeof(int32_t));
	m->be->upload(m->buf[BUF_MASK].p, m->mask_h, N);
	return 0;
}

/* ---- layers ----------------------------------------------------------------- */

static void dropout(const rf_model_t *m, float *x, size_t n, int layer, int what, size_t offset)
{
	if (m->drop > 0.0f)
		m->be->dropout(x, n, m->drop, rf_rng_key(m->seed, m->step, layer, what), offset);
}

static uint16_t *layer_buckets(const rf_model_t *m, int l)
{
	size_t slot = m->train_bufs ? (size_t)m->lsh_slot[l] : 0;
	return (uint16_t *)m->buf[BUF_BUCKETS].p + slot * bucket_count(m);
}

/* x1 += sign * dropout(Attn(LN1(x2)) w_o). Leaves LN1(x2) in BUF_LN, QK and
 * V in BUF_QK/BUF_V and the attention output in a; p holds the projection
 * when dropout is on. hash: compute this layer's buckets (forward pass) or
 * reuse the stored ones (backward). apply = 0 stops after the attention. */
static void attn_block(rf_model_t *m, int l, float *x1, const float *x2, float *a, float *p,
                       float sign, int hash, int apply)
{
	const rf_backend_t *be = m->be;
	const layer_off_t *o = &m->lay[l];
	int N = m->N, D = m->cfg.d_model;
	float *ln = FB(m, BUF_LN), *qk = FB(m, BUF_QK), *v = FB(m, BUF_V);
	rf_attn_shape_t s = attn_shape(m, l);
	const uint8_t *mask = m->buf[BUF_MASK].p;
	uint16_t *bk = NULL;

	be->layernorm_forward(ln, FB(m, BUF_MEAN), FB(m, BUF_RSTD), x2, PAR(m, o->ln1_w), PAR(m, o->ln1_b), N, D);
	be->matmul(qk, ln, PAR(m, o->w_qk), N, D, D, 0, 0, 1.0f, 0.0f);
	be->matmul(v, ln, PAR(m, o->w_v), N, D, D, 0, 0, 1.0f, 0.0f);
	if (m->n_seg) {
		rf_varlen_shape_t vs = varlen_shape(m);
		be->attn_varlen_forward(a, qk, v, m->buf[BUF_SEG].p, &vs, m->buf[BUF_WORK].p);
	} else if (s.kind == RF_ATTN_LSH) {
		bk = layer_buckets(m, l);
		if (hash) {
			float *rot = FB(m, BUF_ROT);
			be->rng_normal(rot, rot_floats(m), rf_rng_key(m->seed, m->step, l, RF_RNG_ROTATIONS));
			be->lsh_hash(bk, qk, rot, mask, &s);
		}
	}
	if (!m->n_seg) be->attn_forward(a, qk, v, bk, mask, &s, m->buf[BUF_WORK].p);
	if (!apply) return;
	if (m->drop > 0.0f) {
		be->matmul(p, a, PAR(m, o->w_o), N, D, D, 0, 0, 1.0f, 0.0f);
		dropout(m, p, (size_t)N * D, l, RF_RNG_DROP_ATTN, 0);
		be->axpy(x1, p, sign, (size_t)N * D);
	} else {
		be->matmul(x1, a, PAR(m, o->w_o), N, D, D, 0, 0, sign, 1.0f);
	}
}

/* Feed-forward of rows [r0, r0+c): hidden (pre-activation in F_PRE, after
 * GELU and dropout in F_H) from LN2(y1); with out != 0 also the output
 * dropout(h w2 + b2) in F_OUT. */
static void ff_chunk_forward(rf_model_t *m, int l, const float *y1, int r0, int c, int out)
{
	const rf_backend_t *be = m->be;
	const layer_off_t *o = &m->lay[l];
	int D = m->cfg.d_model, F = m->cfg.d_ff;
	float *ln = FB(m, BUF_F_LN), *pre = FB(m, BUF_F_PRE), *h = FB(m, BUF_F_H), *fo = FB(m, BUF_F_OUT);

	be->layernorm_forward(ln, FB(m, BUF_F_MEAN), FB(m, BUF_F_RSTD), y1 + (size_t)r0 * D,
	                      PAR(m, o->ln2_w), PAR(m, o->ln2_b), c, D);
	be->matmul(pre, ln, PAR(m, o->w1), c, F, D, 0, 0, 1.0f, 0.0f);
	be->bias_add(pre, PAR(m, o->b1), c, F);
	be->gelu_forward(h, pre, (size_t)c * F);
	dropout(m, h, (size_t)c * F, l, RF_RNG_DROP_FF_HIDDEN, (size_t)r0 * F);
	if (!out) return;
	be->matmul(fo, h, PAR(m, o->w2), c, D, F, 0, 0, 1.0f, 0.0f);
	be->bias_add(fo, PAR(m, o->b2), c, D);
	dropout(m, fo, (size_t)c * D, l, RF_RNG_DROP_FF_OUT, (size_t)r0 * D);
}

/* Forward: y2 += FF(y1), chunk by chunk. */
static void ff_forward(rf_model_t *m, int l, const float *y1, float *y2)
{
	int D = m->cfg.d_model;
	for (int r0 = 0; r0 < m->N; r0 += m->R) {
		int c = m->N - r0 < m->R ? m->N - r0 : m->R;
		ff_chunk_forward(m, l, y1, r0, c, 1);
		m->be->axpy(y2 + (size_t)r0 * D, FB(m, BUF_F_OUT), 1.0f, (size_t)c * D);
	}
}

/* Backward through y2 = x2 + FF(y1), chunk by chunk: in reversible mode y2
 * becomes x2 (y2 -= FF(y1)); dy1 += d/dy1 of FF given dy2. */
static void ff_backward(rf_model_t *m, int l, const float *y1, float *y2, float *dy1, const float *dy2)
{
	const rf_backend_t *be = m->be;
	const layer_off_t *o = &m->lay[l];
	int D = m->cfg.d_model, F = m->cfg.d_ff;
	float *ln = FB(m, BUF_F_LN), *pre = FB(m, BUF_F_PRE), *h = FB(m, BUF_F_H), *fo = FB(m, BUF_F_OUT);
	float *dpre = FB(m, BUF_F_DPRE);

	for (int r0 = 0; r0 < m->N; r0 += m->R) {
		int c = m->N - r0 < m->R ? m->N - r0 : m->R;
		size_t cD = (size_t)c * D, cF = (size_t)c * F;
		ff_chunk_forward(m, l, y1, r0, c, m->reversible);
		if (m->reversible) be->axpy(y2 + (size_t)r0 * D, fo, -1.0f, cD);
		/* dG (output dropout applied) in F_OUT */
		be->copy(fo, dy2 + (size_t)r0 * D, cD * sizeof(float));
		dropout(m, fo, cD, l, RF_RNG_DROP_FF_OUT, (size_t)r0 * D);
		be->matmul(GRD(m, o->w2), h, fo, F, D, c, 1, 0, 1.0f, 1.0f);
		be->bias_backward(GRD(m, o->b2), fo, c, D);
		/* dh overwrites h, which is no longer needed */
		be->matmul(h, fo, PAR(m, o->w2), c, F, D, 0, 1, 1.0f, 0.0f);
		dropout(m, h, cF, l, RF_RNG_DROP_FF_HIDDEN, (size_t)r0 * F);
		be->zero(dpre, cF * sizeof(float));
		be->gelu_backward(dpre, pre, h, cF);
		be->matmul(GRD(m, o->w1), ln, dpre, D, F, c, 1, 0, 1.0f, 1.0f);
		be->bias_backward(GRD(m, o->b1), dpre, c, F);
		be->matmul(fo, dpre, PAR(m, o->w1), c, D, F, 0, 1, 1.0f, 0.0f);
		be->layernorm_backward(dy1 + (size_t)r0 * D, GRD(m, o->ln2_w), GRD(m, o->ln2_b), fo,
		                       y1 + (size_t)r0 * D, PAR(m, o->ln2_w), FB(m, BUF_F_MEAN), FB(m, BUF_F_RSTD), c, D);
	}
}

/* Backward through y1 = x1 + Attn(x2): in reversible mode y1 becomes x1;
 * dx2 += d/dx2 given dy1 (which is also dx1). */
static void attn_backward(rf_model_t *m, int l, float *y1, const float *x2, const float *dy1, float *dx2)
{
	const rf_backend_t *be = m->be;
	const layer_off_t *o = &m->lay[l];
	int N = m->N, D = m->cfg.d_model;
	size_t ND = (size_t)N * D;
	float *a = FB(m, BUF_A), *da = FB(m, BUF_DA), *dqk = FB(m, BUF_DQK), *dv = FB(m, BUF_DV);
	rf_attn_shape_t s = attn_shape(m, l);
	const float *dp = dy1;

	attn_block(m, l, y1, x2, a, da, -1.0f, 0, m->reversible);
	if (m->drop > 0.0f) {
		be->copy(dqk, dy1, ND * sizeof(float));
		dropout(m, dqk, ND, l, RF_RNG_DROP_ATTN, 0);
		dp = dqk;
	}
	be->matmul(GRD(m, o->w_o), a, dp, D, D, N, 1, 0, 1.0f, 1.0f);
	be->matmul(da, dp, PAR(m, o->w_o), N, D, D, 0, 1, 1.0f, 0.0f);
	be->zero(dqk, ND * sizeof(float));
	be->zero(dv, ND * sizeof(float));
	if (m->n_seg) {
		rf_varlen_shape_t vs = varlen_shape(m);
		be->attn_varlen_backward(dqk, dv, da, FB(m, BUF_QK), FB(m, BUF_V), m->buf[BUF_SEG].p, &vs, m->buf[BUF_WORK].p);
	} else {
		be->attn_backward(dqk, dv, da, FB(m, BUF_QK), FB(m, BUF_V),
		                  s.kind == RF_ATTN_LSH ? layer_buckets(m, l) : NULL, m->buf[BUF_MASK].p, &s,
		                  m->buf[BUF_WORK].p);
	}
	const float *ln = FB(m, BUF_LN);
	be->matmul(GRD(m, o->w_qk), ln, dqk, D, D, N, 1, 0, 1.0f, 1.0f);
	be->matmul(GRD(m, o->w_v), ln, dv, D, D, N, 1, 0, 1.0f, 1.0f);
	/* dLN1 overwrites da */
	be->matmul(da, dqk, PAR(m, o->w_qk), N, D, D, 0, 1, 1.0f, 0.0f);
	be->matmul(da, dv, PAR(m, o->w_v), N, D, D, 0, 1, 1.0f, 1.0f);
	be->layernorm_backward(dx2, GRD(m, o->ln1_w), GRD(m, o->ln1_b), da, x2, PAR(m, o->ln1_w),
	                       FB(m, BUF_MEAN), FB(m, BUF_RSTD), N, D);
}

static float *stored_input(rf_model_t *m, int l, int which)
{
	return FB(m, BUF_STORE) + ((size_t)l * 2 + which) * m->N * m->cfg.d_model;
}

/* ||x - stored|| / ||stored|| through the backend, using BUF_A as scratch. */
static double rel_error(rf_model_t *m, const float *x, const float *stored)
{
	size_t n = (size_t)m->N * m->cfg.d_model;
	float *t = FB(m, BUF_A);
	m->be->copy(t, x, n * sizeof(float));
	m->be->axpy(t, stored, -1.0f, n);
	double ref = m->be->sum_squares(stored, n);
	return sqrt(m->be->sum_squares(t, n) / (ref > 0.0 ? ref : 1.0));
}

static void note_rec_error(rf_model_t *m, const float *x, int l, int which)
{
	if (!m->check_rec) return;
	double e = rel_error(m, x, stored_input(m, l, which));
	if (e > m->rec_err) m->rec_err = e;
}

/* Positions of a packed batch's tokens; NULL (position = index) otherwise. */
static const int32_t *packed_pos(const rf_model_t *m)
{
	return m->n_seg ? m->buf[BUF_POS].p : NULL;
}

/* Embedding and every layer: X1, X2 end as the last layer's Y1, Y2. */
static void forward_layers(rf_model_t *m)
{
	const rf_backend_t *be = m->be;
	const rf_config_t *c = &m->cfg;
	float *x1 = FB(m, BUF_X1), *x2 = FB(m, BUF_X2);
	size_t ND = (size_t)m->N * c->d_model;

	be->embed_forward(x1, m->buf[BUF_TOKENS].p, packed_pos(m), PAR(m, m->tok_emb), PAR(m, m->pos1), PAR(m, m->pos2),
	                  m->B, m->Lp, c->d_model, c->axial2, c->axial_d1);
	dropout(m, x1, ND, -1, RF_RNG_DROP_EMB, 0);
	be->copy(x2, x1, ND * sizeof(float));
	for (int l = 0; l < c->n_layers; l++) {
		if (m->store) {
			be->copy(stored_input(m, l, 0), x1, ND * sizeof(float));
			be->copy(stored_input(m, l, 1), x2, ND * sizeof(float));
		}
		attn_block(m, l, x1, x2, FB(m, BUF_LN), FB(m, BUF_QK), 1.0f, !m->freeze_buckets, 1);
		ff_forward(m, l, x1, x2);
	}
}

/* From dY1, dY2 of the last layer down to the embedding's gradients. */
static void backward_layers(rf_model_t *m)
{
	const rf_backend_t *be = m->be;
	const rf_config_t *c = &m->cfg;
	float *x1 = FB(m, BUF_X1), *x2 = FB(m, BUF_X2), *dx1 = FB(m, BUF_DX1), *dx2 = FB(m, BUF_DX2);
	size_t ND = (size_t)m->N * c->d_model;

	for (int l = c->n_layers - 1; l >= 0; l--) {
		ff_backward(m, l, x1, x2, dx1, dx2);
		if (!m->reversible) be->copy(x2, stored_input(m, l, 1), ND * sizeof(float));
		note_rec_error(m, x2, l, 1);
		attn_backward(m, l, x1, x2, dx1, dx2);
		if (!m->reversible) be->copy(x1, stored_input(m, l, 0), ND * sizeof(float));
		note_rec_error(m, x1, l, 0);
	}
	/* E feeds both streams */
	be->axpy(dx1, dx2, 1.0f, ND);
	dropout(m, dx1, ND, -1, RF_RNG_DROP_EMB, 0);
	be->embed_backward(GRD(m, m->tok_emb), GRD(m, m->pos1), GRD(m, m->pos2), dx1, m->buf[BUF_TOKENS].p,
	                   packed_pos(m), m->B, m->Lp, c->d_model, c->axial2, c->axial_d1);
}

/* ---- final LayerNorm and heads --------------------------------------------- */

/* A piece of the final rows: whole sequences b0 .. b0+nb when a sequence fits
 * in R rows, else rows [j0, j0+rows) of sequence b0 (nb = 0). Packed
 * batches: whole sequences b0 .. b0+nb, rows from row0 (every one fits). */
typedef struct {
	int b0, nb, j0, rows;
	size_t row0;
} piece_t;

static int next_piece(const rf_model_t *m, piece_t *p, int first)
{
	int Lp = m->Lp;
	if (m->n_seg) {
		const int32_t *seg = m->seg_h;
		int b0 = first ? 0 : p->b0 + p->nb, e = b0 + 1;
		if (b0 >= m->n_seg) return 0;
		while (e < m->n_seg && seg[e + 1] - seg[b0] <= m->R) e++;
		*p = (piece_t){ .b0 = b0, .nb = e - b0, .j0 = 0, .rows = seg[e] - seg[b0], .row0 = (size_t)seg[b0] };
		return 1;
	}
	if (first) { p->b0 = 0; p->j0 = 0; p->nb = p->rows = 0; }
	else if (p->nb) { p->b0 += p->nb; p->j0 = 0; }
	else if (p->j0 + p->rows < Lp) p->j0 += p->rows;
	else { p->b0++; p->j0 = 0; }
	if (p->b0 >= m->B) return 0;
	p->row0 = (size_t)p->b0 * Lp + p->j0;
	if (Lp <= m->R) {
		p->nb = m->R / Lp < m->B - p->b0 ? m->R / Lp : m->B - p->b0;
		p->rows = p->nb * Lp;
	} else {
		p->nb = 0;
		p->rows = Lp - p->j0 < m->R ? Lp - p->j0 : m->R;
	}
	return 1;
}

/* Share of sequence b0's real tokens that lie in the piece (meanpool weight). */
static float piece_weight(const rf_model_t *m, const piece_t *p)
{
	int cnt = 0;
	for (int j = 0; j < p->rows; j++) cnt += m->mask_h[p->row0 + j];
	return m->cnt_h[p->b0] ? (float)cnt / (float)m->cnt_h[p->b0] : 0.0f;
}

/* H_OUT = LN_f(concat(Y1, Y2)) for the piece's rows (H_CAT keeps the input). */
static void final_ln(rf_model_t *m, const piece_t *p)
{
	int D = m->cfg.d_model;
	float *cat = FB(m, BUF_H_CAT);
	m->be->concat2(cat, FB(m, BUF_X1) + p->row0 * D, FB(m, BUF_X2) + p->row0 * D, p->rows, D);
	m->be->layernorm_forward(FB(m, BUF_H_OUT), FB(m, BUF_H_MEAN), FB(m, BUF_H_RSTD), cat,
	                         PAR(m, m->lnf_w), PAR(m, m->lnf_b), p->rows, 2 * D);
}

/* pooled [B, 2D] = masked mean over each sequence of LN_f(concat(Y1, Y2)). */
static void pool_forward(rf_model_t *m, float *pooled, float *tmp)
{
	const rf_backend_t *be = m->be;
	int D2 = 2 * m->cfg.d_model;
	const uint8_t *mask = m->buf[BUF_MASK].p;
	const int32_t *seg = m->buf[BUF_SEG].p;
	piece_t p;
	be->zero(pooled, (size_t)m->n_out * D2 * sizeof(float));
	for (int more = next_piece(m, &p, 1); more; more = next_piece(m, &p, 0)) {
		final_ln(m, &p);
		if (m->n_seg) {
			be->segpool_forward(pooled + (size_t)p.b0 * D2, FB(m, BUF_H_OUT), seg + p.b0, p.nb, D2);
		} else if (p.nb) {
			be->meanpool_forward(pooled + (size_t)p.b0 * D2, FB(m, BUF_H_OUT), mask + p.row0, p.nb, m->Lp, D2);
		} else {
			float w = piece_weight(m, &p);
			if (w == 0.0f) continue;
			be->meanpool_forward(tmp, FB(m, BUF_H_OUT), mask + p.row0, 1, p.rows, D2);
			be->axpy(pooled + (size_t)p.b0 * D2, tmp, w, D2);
		}
	}
}

/* dY1, dY2 += d/dY of the pooling given dpooled [B, 2D]. */
static void pool_backward(rf_model_t *m, const float *dpooled, float *tmp)
{
	const rf_backend_t *be = m->be;
	int D = m->cfg.d_model, D2 = 2 * D;
	const uint8_t *mask = m->buf[BUF_MASK].p;
	float *dout = FB(m, BUF_H_OUT), *dcat = FB(m, BUF_H_DCAT);
	const int32_t *seg = m->buf[BUF_SEG].p;
	piece_t p;
	for (int more = next_piece(m, &p, 1); more; more = next_piece(m, &p, 0)) {
		float w = p.nb ? 1.0f : piece_weight(m, &p);
		if (w == 0.0f) continue;
		final_ln(m, &p);
		be->zero(dout, (size_t)p.rows * D2 * sizeof(float));
		if (m->n_seg) {
			be->segpool_backward(dout, dpooled + (size_t)p.b0 * D2, seg + p.b0, p.nb, D2);
		} else if (p.nb) {
			be->meanpool_backward(dout, dpooled + (size_t)p.b0 * D2, mask + p.row0, p.nb, m->Lp, D2);
		} else {
			be->copy(tmp, dpooled + (size_t)p.b0 * D2, D2 * sizeof(float));
			be->scale(tmp, w, D2);
			be->meanpool_backward(dout, tmp, mask + p.row0, 1, p.rows, D2);
		}
		be->zero(dcat, (size_t)p.rows * D2 * sizeof(float));
		be->layernorm_backward(dcat, GRD(m, m->lnf_w), GRD(m, m->lnf_b), dout, FB(m, BUF_H_CAT),
		                       PAR(m, m->lnf_w), FB(m, BUF_H_MEAN), FB(m, BUF_H_RSTD), p.rows, D2);
		be->concat2_backward(FB(m, BUF_DX1) + p.row0 * D, FB(m, BUF_DX2) + p.row0 * D, dcat, p.rows, D);
	}
}

/* Per-call buffers of the heads: the pooling (classifier and pooled
 * embeddings), the classifier's, the masked LM's. */
enum {
	H_POOLED, H_TMP,                                                    /* [B,2D], [2D] */
	H_LOGITS, H_PROBS, H_LOSS, H_LABELS,                                /* [B,C] x2, [B] x2 */
	H_IDX, H_TARGETS, H_G, H_CAT, H_OUT, H_MEAN, H_RSTD, H_MLOGITS, H_MPROBS, H_MLOSS,
	N_HEAD
};
enum { HEAD_POOL = 1, HEAD_CLS = 2, HEAD_MLM = 4 };

typedef struct {
	void *p[N_HEAD];
	int M;                                        /* masked-LM targets */
} head_t;

#define HF(h, id) ((float *)(h)->p[id])
#define HI(h, id) ((int32_t *)(h)->p[id])

/* Bytes of each head buffer for the parts in what (HEAD_*), M masked targets. */
static void head_sizes(const rf_model_t *m, int what, size_t M, size_t sz[N_HEAD])
{
	size_t B = (size_t)m->n_out, D = (size_t)m->cfg.d_model, C = (size_t)m->cfg.n_classes, V = (size_t)m->cfg.vocab;
	size_t f = sizeof(float), i = sizeof(int32_t);
	int pool = what & (HEAD_POOL | HEAD_CLS), cls = what & HEAD_CLS, mlm = what & HEAD_MLM;
	size_t want[N_HEAD] = {
		[H_POOLED] = pool ? B * 2 * D * f : 0, [H_TMP] = pool ? 2 * D * f : 0,
		[H_LOGITS] = cls ? B * C * f : 0, [H_PROBS] = cls ? B * C * f : 0,
		[H_LOSS] = cls ? B * f : 0, [H_LABELS] = cls ? B * i : 0,
		[H_IDX] = mlm ? M * i : 0, [H_TARGETS] = mlm ? M * i : 0,
		[H_G] = mlm ? M * 2 * D * f : 0, [H_CAT] = mlm ? M * 2 * D * f : 0, [H_OUT] = mlm ? M * 2 * D * f : 0,
		[H_MEAN] = mlm ? M * f : 0, [H_RSTD] = mlm ? M * f : 0,
		[H_MLOGITS] = mlm ? M * V * f : 0, [H_MPROBS] = mlm ? M * V * f : 0, [H_MLOSS] = mlm ? M * f : 0,
	};
	memcpy(sz, want, sizeof want);
}

static size_t head_bytes(const rf_model_t *m, int what, size_t M)
{
	size_t sz[N_HEAD], sum = 0;
	head_sizes(m, what, M, sz);
	for (int id = 0; id < N_HEAD; id++) sum += sz[id];
	return sum;
}

static void head_free(rf_model_t *m, head_t *h)
{
	for (int id = 0; id < N_HEAD; id++) rf_arena_free(&m->arena, h->p[id]);
	memset(h, 0, sizeof *h);
}

static int head_alloc(rf_model_t *m, head_t *h, const rf_batch_t *b, int what, char *err, size_t errlen)
{
	size_t sz[N_HEAD];
	memset(h, 0, sizeof *h);
	h->M = what & HEAD_MLM ? b->n_mlm : 0;
	head_sizes(m, what, (size_t)h->M, sz);
	for (int id = 0; id < N_HEAD; id++)
		if (sz[id] && !(h->p[id] = rf_arena_alloc(&m->arena, sz[id]))) {
			head_free(m, h);
			return rf_fail(err, errlen, "model: cannot allocate the head buffers on backend %s", m->be->name);
		}
	if ((what & HEAD_CLS) && b->labels) m->be->upload(h->p[H_LABELS], b->labels, (size_t)m->n_out * sizeof(int32_t));
	if (what & HEAD_MLM) {
		int32_t *idx = malloc((size_t)h->M * sizeof *idx);
		if (!idx) {
			head_free(m, h);
			return rf_fail(err, errlen, "model: out of host memory");
		}
		for (int i = 0; i < h->M; i++)
			idx[i] = b->mlm_pos[i] / m->L * m->Lp + b->mlm_pos[i] % m->L;
		m->be->upload(h->p[H_IDX], idx, (size_t)h->M * sizeof *idx);
		m->be->upload(h->p[H_TARGETS], b->mlm_targets, (size_t)h->M * sizeof(int32_t));
		free(idx);
	}
	return 0;
}

/* Classifier: logits of the pooled rows; returns the mean cross-entropy. */
static float cls_forward(rf_model_t *m, head_t *h, int with_loss)
{
	const rf_backend_t *be = m->be;
	int B = m->n_out, D2 = 2 * m->cfg.d_model, C = m->cfg.n_classes;
	pool_forward(m, HF(h, H_POOLED), HF(h, H_TMP));
	be->matmul(HF(h, H_LOGITS), HF(h, H_POOLED), PAR(m, m->cls_w), B, C, D2, 0, 0, 1.0f, 0.0f);
	be->bias_add(HF(h, H_LOGITS), PAR(m, m->cls_b), B, C);
	if (!with_loss) return 0.0f;
	be->xent_forward(HF(h, H_LOSS), HF(h, H_PROBS), HF(h, H_LOGITS), HI(h, H_LABELS), B, C);
	return (float)(be->sum(HF(h, H_LOSS), B) / B);
}

static void cls_backward(rf_model_t *m, head_t *h)
{
	const rf_backend_t *be = m->be;
	int B = m->n_out, D2 = 2 * m->cfg.d_model, C = m->cfg.n_classes;
	float *dlogits = HF(h, H_LOGITS), *dpooled = HF(h, H_POOLED);
	be->zero(dlogits, (size_t)B * C * sizeof(float));
	be->xent_backward(dlogits, HF(h, H_PROBS), HI(h, H_LABELS), 1.0f / B, B, C);
	be->matmul(GRD(m, m->cls_w), HF(h, H_POOLED), dlogits, D2, C, B, 1, 0, 1.0f, 1.0f);
	be->bias_backward(GRD(m, m->cls_b), dlogits, B, C);
	be->matmul(dpooled, dlogits, PAR(m, m->cls_w), B, D2, C, 0, 1, 1.0f, 0.0f);
	pool_backward(m, dpooled, HF(h, H_TMP));
}

/* Masked LM: LayerNorm is per row, so only the masked rows are normalised. */
static float mlm_forward(rf_model_t *m, head_t *h)
{
	const rf_backend_t *be = m->be;
	int M = h->M, D = m->cfg.d_model, V = m->cfg.vocab;
	size_t MD = (size_t)M * D;
	be->gather_rows(HF(h, H_G), FB(m, BUF_X1), HI(h, H_IDX), M, D);
	be->gather_rows(HF(h, H_G) + MD, FB(m, BUF_X2), HI(h, H_IDX), M, D);
	be->concat2(HF(h, H_CAT), HF(h, H_G), HF(h, H_G) + MD, M, D);
	be->layernorm_forward(HF(h, H_OUT), HF(h, H_MEAN), HF(h, H_RSTD), HF(h, H_CAT), PAR(m, m->lnf_w), PAR(m, m->lnf_b), M, 2 * D);
	be->matmul(HF(h, H_MLOGITS), HF(h, H_OUT), PAR(m, m->mlm_w), M, V, 2 * D, 0, 0, 1.0f, 0.0f);
	be->bias_add(HF(h, H_MLOGITS), PAR(m, m->mlm_b), M, V);
	be->xent_forward(HF(h, H_MLOSS), HF(h, H_MPROBS), HF(h, H_MLOGITS), HI(h, H_TARGETS), M, V);
	return (float)(be->sum(HF(h, H_MLOSS), M) / M);
}

static void mlm_backward(rf_model_t *m, head_t *h)
{
	const rf_backend_t *be = m->be;
	int M = h->M, D = m->cfg.d_model, V = m->cfg.vocab;
	size_t MD = (size_t)M * D;
	float *dlogits = HF(h, H_MLOGITS), *dout = HF(h, H_OUT), *dcat = HF(h, H_G), *dg = HF(h, H_OUT);
	be->zero(dlogits, (size_t)M * V * sizeof(float));
	be->xent_backward(dlogits, HF(h, H_MPROBS), HI(h, H_TARGETS), 1.0f / M, M, V);
	be->matmul(GRD(m, m->mlm_w), HF(h, H_OUT), dlogits, 2 * D, V, M, 1, 0, 1.0f, 1.0f);
	be->bias_backward(GRD(m, m->mlm_b), dlogits, M, V);
	be->matmul(dout, dlogits, PAR(m, m->mlm_w), M, 2 * D, V, 0, 1, 1.0f, 0.0f);
	be->zero(dcat, 2 * MD * sizeof(float));
	be->layernorm_backward(dcat, GRD(m, m->lnf_w), GRD(m, m->lnf_b), dout, HF(h, H_CAT), PAR(m, m->lnf_w),
	                       HF(h, H_MEAN), HF(h, H_RSTD), M, 2 * D);
	be->zero(dg, 2 * MD * sizeof(float));
	be->concat2_backward(dg, dg + MD, dcat, M, D);
	be->scatter_add_rows(FB(m, BUF_DX1), dg, HI(h, H_IDX), M, D);
	be->scatter_add_rows(FB(m, BUF_DX2), dg + MD, HI(h, H_IDX), M, D);
}

/* ---- entry points ------------------------------------------------------------ */

size_t rf_model_count_params(const rf_config_t *cfg)
{
	rf_model_t m = { .cfg = *cfg };
	build_layout(&m);
	return m.n_params;
}

size_t rf_model_estimate_bytes(const rf_config_t *cfg, const rf_backend_t *be, int B, int L, int n_mlm, int train)
{
	char err[256];
	if (rf_config_validate(cfg, err, sizeof err)) return SIZE_MAX;
	rf_model_t m = { .cfg = *cfg, .be = be, .reversible = 1 };
	build_layout(&m);
	if (set_shape(&m, B, L, 0, 0, train, err, sizeof err)) return SIZE_MAX;
	size_t sum = 2 * param_bytes(&m);
	for (int id = 0; id < N_BUF; id++) sum += buf_bytes(&m, id);
	int what = cfg->n_classes > 0 ? HEAD_CLS : train ? 0 : HEAD_POOL;
	if (train && cfg->mlm && n_mlm > 0) what |= HEAD_MLM;
	return sum + head_bytes(&m, what, (size_t)n_mlm);
}


static int run(rf_model_t *m, const rf_batch_t *b, int backward, float *loss, float *logits, char *err, size_t errlen)
{
	int cls = b->labels != NULL || (logits && m->cfg.n_classes > 0);
	int mlm = b->n_mlm > 0 && (backward || loss);
	if (backward && !b->labels && !mlm)
		return rf_fail(err, errlen, "batch: training needs class labels or masked-LM targets");
	if (logits && m->cfg.n_classes == 0) return rf_fail(err, errlen, "model: no classifier head for logits");
	if (prepare(m, b, backward, err, errlen)) return -1;
	head_t h;
	if (head_alloc(m, &h, b, (cls ? HEAD_CLS : 0) | (mlm ? HEAD_MLM : 0), err, errlen)) return -1;

	forward_layers(m);
	float total = 0.0f;
	if (cls) total += cls_forward(m, &h, b->labels != NULL);
	if (mlm) total += mlm_forward(m, &h);
	if (logits) m->be->download(logits, HF(&h, H_LOGITS), (size_t)m->n_out * m->cfg.n_classes * sizeof(float));
	if (loss) *loss = total;
	if (backward) {
		size_t ND = (size_t)m->N * m->cfg.d_model;
		m->be->zero(m->buf[BUF_DX1].p, ND * sizeof(float));
		m->be->zero(m->buf[BUF_DX2].p, ND * sizeof(float));
		if (b->labels) cls_backward(m, &h);
		if (mlm) mlm_backward(m, &h);
		backward_layers(m);
	}
	head_free(m, &h);
	return 0;
}

int rf_model_forward_backward(rf_model_t *m, const rf_batch_t *b, float *loss, char *err, size_t errlen)
{
	return run(m, b, 1, loss, NULL, err, errlen);
}

int rf_model_forward(rf_model_t *m, const rf_batch_t *b, float *loss, float *logits, char *err, size_t errlen)
{
	return run(m, b, 0, loss, logits, err, errlen);
}

double rf_model_debug_reconstruction_error(rf_model_t *m, const rf_batch_t *b, char *err, size_t errlen)
{
	int rev = m->reversible;
	float loss;
	m->reversible = 1;
	m->check_rec = 1;
	m->rec_err = 0.0;
	int rc = run(m, b, 1, &loss, NULL, err, errlen);
	m->check_rec = 0;
	m->reversible = rev;
	return rc ? -1.0 : m->rec_err;
}

int rf_model_embed(rf_model_t *m, const rf_batch_t *b, float *pooled, float *per_token, char *err, size_t errlen)
{
	if (per_token && b->n_seg > 0) return rf_fail(err, errlen, "batch: per-token embeddings of a packed batch");
	if (prepare(m, b, 0, err, errlen)) return -1;
	forward_layers(m);
	int D2 = 2 * m->cfg.d_model;
	if (pooled) {
		head_t h;
		if (head_alloc(m, &h, b, HEAD_POOL, err, errlen)) return -1;
		pool_forward(m, HF(&h, H_POOLED), HF(&h, H_TMP));
		m->be->download(pooled, HF(&h, H_POOLED), (size_t)m->n_out * D2 * sizeof(float));
		head_free(m, &h);
	}
	if (per_token) {
		piece_t p;
		const float *out = FB(m, BUF_H_OUT);
		for (int more = next_piece(m, &p, 1); more; more = next_piece(m, &p, 0)) {
			final_ln(m, &p);
			int nseq = p.nb ? p.nb : 1;
			for (int s = 0; s < nseq; s++) {
				int j1 = p.nb ? m->L : (p.j0 + p.rows < m->L ? p.j0 + p.rows : m->L);
				if (j1 <= p.j0) continue;
				size_t dst = ((size_t)(p.b0 + s) * m->L + p.j0) * D2;
				m->be->download(per_token + dst, out + (size_t)s * m->Lp * D2, (size_t)(j1 - p.j0) * D2 * sizeof(float));
			}
		}
	}
	return 0;
}
