/* Batched inference over records' windows; see infer.h. */
#include "src/infer.h"
#include "src/files.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "genomics/kmer.h"
#include "genomics/mates.h"
#include "genomics/window.h"
#include "model/backend.h"
#include "model/util.h"
#include "src/common.h"
#include "src/kmerhead.h"
#include "src/kmerindex.h"
#include "model/cpu/blascore.h"
#include "src/log.h"
#include "src/opts.h"
#include "src/memlimit.h"
#include "src/pack.h"

#define MAX_RUNGS 32
/* Keys the LSH rotations: one fixed seed makes every run's predictions the same. */
#define INFER_SEED 1

/* "I/N" with 0 <= I < N. */
static int parse_shard(void *ctx, const gf_opt_t *opt, const char *s)
{
	gf_infer_cli_t *c = ctx;
	char *end;
	long i = strtol(s, &end, 10), n = 0;
	int ok = end != s && *end == '/';
	(void)opt;
	if (ok) {
		const char *p = end + 1;
		n = strtol(p, &end, 10);
		ok = end != p && !*end;
	}
	if (!ok || n < 1 || n > 1000000 || i < 0 || i >= n) {
		gf_error("--shard expects I/N with 0 <= I < N (e.g. 0/4), got '%s'", s);
		return GF_EXIT_USAGE;
	}
	c->shard_i = (int)i;
	c->shard_n = (int)n;
	return 0;
}

static int check_precision(void *ctx, const gf_opt_t *opt, const char *s)
{
	(void)ctx;
	(void)opt;
	if (strcmp(s, "fp32") == 0 || strcmp(s, "bf16") == 0 || strcmp(s, "tf32") == 0) return 0;
	gf_error("--precision expects fp32, bf16 or tf32, got '%s'", s);
	return GF_EXIT_USAGE;
}

#define INF(f) offsetof(gf_infer_cli_t, f)
static const gf_opt_t infer_opts[] = {
	[GF_INF_MODEL] = { 'm', "model", GF_OPT_STR, INF(model_path), .arg = "FILE", .help = "model file (.gfm)",
	                   .dflt = "required" },
	[GF_INF_PRECISION] = { 0, "precision", GF_OPT_STR, INF(precision), .arg = "STR", .call = check_precision,
	                       .dflt = "fp32; GF_CUDA_TF32=1: tf32",
	                       .help = "matrix products in fp32, bf16 (CPU with AVX512-BF16: bf16 operands,\n"
	                               "fp32 sums, through oneDNN) or tf32 (CUDA)" },
	[GF_INF_NO_PACK] = { 0, "no-pack", GF_OPT_SET, INF(no_pack), .dflt = "packed",
	                     .help = "one window per model row, padded to a chunk multiple, instead of\n"
	                             "packing windows of up to one chunk end to end (same outputs, slower)" },
	[GF_INF_RC_AVERAGE] = { 0, "rc-average", GF_OPT_SET, INF(rc_average),
	                        .help = "average each window's forward and reverse-complement outputs", .dflt = "off" },
	[GF_INF_PER_WINDOW] = { 0, "per-window", GF_OPT_SET, INF(per_window),
	                        .help = "also one row per window of the model's length", .dflt = "off" },
	[GF_INF_MIN_PROB] = { 0, "min-prob", GF_OPT_FLOAT, INF(min_prob), 0, 1, "FLOAT",
	                      "'unclassified' when the top class probability is below this",
	                      .dflt = "the model's thresholds (genoformer info), else 0" },
	[GF_INF_CONFIDENCE] = { 0, "confidence", GF_OPT_FLOAT, INF(min_prob), 0, 1, "FLOAT", "the same as --min-prob",
	                        .dflt = "the model's" },
	[GF_INF_NO_KMER_HEAD] = { 0, "no-kmer-head", GF_OPT_SET, INF(no_kmer_head), .dflt = "the head when present",
	                          .help = "the Reformer alone, without the model's k-mer head" },
	[GF_INF_NO_KMER_INDEX] = { 0, "no-kmer-index", GF_OPT_SET, INF(no_kmer_index), .dflt = "the index when present",
	                           .help = "leave out the model's exact k-mer index (the Reformer's calls alone\n"
	                                   "where the index has evidence too)" },
	[GF_INF_KMER_MIN_FRAC] = { 0, "kmer-min-frac", GF_OPT_FLOAT, INF(kmer_min_frac), 0, 1, "F",
	                           "the share of an identical record's k-mer index hits a class needs\n"
	                           "before its hits count (lower: more calls from partial matches, e.g.\n"
	                           "contigs whose ends only match; also more from shared elements)",
	                           .dflt = "the model's: 0.05" },
	[GF_INF_SHARD] = { 0, "shard", GF_OPT_CALL, .call = parse_shard, .arg = "I/N", .dflt = "0/1",
	                   .help = "only records whose index over all inputs (from 0) is I modulo N;\n"
	                           "row r of shard I is record I + r*N, so interleaving the shards'\n"
	                           "rows restores the unsharded output" },
};
const gf_optgroup_t gf_group_infer = GF_GROUP("Model", infer_opts, gf_infer_cli_t);

/* --batch as inference sees it. */
static const char *const batch_help[] = {
	[GF_CO_BATCH] = "windows per forward pass; 1: a window's outputs are bit-identical\n"
	                "whatever --shard and the inputs around it (with more, float rounding\n"
	                "in the last bits depends on the batch's make-up)",
};

int gf_infer_cli_init(gf_infer_cli_t *c, int argc)
{
	memset(c, 0, sizeof *c);
	gf_compute_init(&c->compute);
	c->compute.batch = 16;
	c->shard_n = 1;
	gf_lowinfo_opts_init(&c->low);
	return gf_input_init(&c->in, argc);
}

float gf_infer_min_prob(const gf_infer_cli_t *c)
{
	return c->given & (GF_OPT_BIT(GF_INF_MIN_PROB) | GF_OPT_BIT(GF_INF_CONFIDENCE)) ? c->min_prob : -1.0f;
}

void gf_infer_cli_free(gf_infer_cli_t *c)
{
	gf_input_free(&c->in);
}

void gf_infer_cli_uses(gf_infer_cli_t *c, uint64_t skip, const char *const *output_help, gf_optuse_t *use)
{
	use[0] = (gf_optuse_t){ .g = &gf_group_infer, .ctx = c, .skip = skip };
	use[1] = (gf_optuse_t){ .g = &gf_group_compute, .ctx = &c->compute, GF_HELP(batch_help) };
	use[2] = (gf_optuse_t){ .g = &gf_group_input, .ctx = &c->in };
	use[3] = (gf_optuse_t){ .g = &gf_group_output, .ctx = &c->out, .help = output_help, .n_help = 1 };
}

int gf_infer_cli_check(gf_infer_cli_t *c, int argc, int first_input)
{
	gf_input_finish(&c->in);
	if (!c->model_path) {
		gf_error("no model: -m MODEL.gfm is required");
		return -1;
	}
	if (first_input >= argc) {
		gf_error("no input file ('-' reads stdin)");
		return -1;
	}
	return 0;
}

/* Model rows per window: the window and, with --rc-average, its reverse complement. */
static int rows_per_window(const gf_infer_cli_t *c)
{
	return c->rc_average ? 2 : 1;
}

gf_modelfile_t *gf_infer_load(const gf_infer_cli_t *c, int need_classes)
{
	char err[GF_ERRLEN];
	const rf_backend_t *be = gf_compute_backend(&c->compute);
	if (!be) return NULL;
	if (c->precision && be->set_precision(c->precision, err, sizeof err)) {
		gf_error("%s", err);
		return NULL;
	}
	gf_modelfile_t *mf = gf_modelfile_load(c->model_path, be, err, sizeof err);
	if (!mf) {
		gf_error("%s", err);
		return NULL;
	}
	if (need_classes && mf->n_classes < 1) {
		gf_error("%s: the model has no classifier head (a pre-trained model: fine-tune it with train --init, "
		         "or use embed)", c->model_path);
		gf_modelfile_free(mf);
		return NULL;
	}
	if (gf_mem_check_model(&mf->cfg, be, c->compute.batch, rows_per_window(c), mf->window, 0, 0,
	                       rf_model_current_bytes(mf->model))) {
		gf_modelfile_free(mf);
		return NULL;
	}
	gf_debug("%s: k=%d stride=%d window=%d, %d classes, backend %s (OpenBLAS %s kernels)", c->model_path, mf->k,
	         mf->stride, mf->window, mf->n_classes, be->name, rf_cpu_blas_core());
	return mf;
}

int gf_infer_width(const gf_modelfile_t *mf, int embed)
{
	return embed ? 2 * mf->cfg.d_model : mf->n_classes;
}

int gf_softmax_argmax(const float *logits, int n, float *probs)
{
	int best = 0;
	for (int i = 1; i < n; i++)
		if (logits[i] > logits[best]) best = i;
	double sum = 0.0;
	for (int i = 0; i < n; i++) sum += exp((double)logits[i] - logits[best]);
	for (int i = 0; i < n; i++) probs[i] = (float)(exp((double)logits[i] - logits[best]) / sum);
	return best;
}

void gf_infer_log_stats(const gf_infer_stats_t *st)
{
	char b[32], r[32], sk[64] = "";
	double t = gf_wall_seconds();
	if (st->skipped) snprintf(sk, sizeof sk, " (%llu more in other shards)", (unsigned long long)st->skipped);
	gf_info("%llu records%s, %s, %llu windows, %llu tokens, %.2f s, %s", (unsigned long long)st->records, sk,
	        gf_fmt_si((double)st->bases, "bp", b, sizeof b), (unsigned long long)st->windows,
	        (unsigned long long)st->tokens, t, gf_fmt_si(t > 0 ? st->bases / t : 0.0, "bp/s", r, sizeof r));
}

/* A record (or a pair of mates) whose windows are in flight. */
typedef struct {
	gf_infer_rec_t r;
	char *path, *name, *mate_name[2];
	size_t done;          /* windows with a result */
	int *win_real;        /* real tokens per window (weights) */
	float *out, *win_out;
	int64_t *win_beg, *win_end;
	char *seq[2], *qual[2];  /* with keep_reads */
	bam1_t *aln[2];
	char *kh_seq;         /* the bases (a pair's mates joined by one N), kept for the k-mer head and index */
	size_t kh_len;
} pending_t;

/* The windows of one rung of the length ladder waiting for a forward pass:
 * rows of len tokens, two per window (forward, reverse complement) with
 * rc_average. */
typedef struct {
	int len, n;           /* n windows queued */
	int32_t *tok;
	uint8_t *mask;
	pending_t **rec;
	size_t *win;
} rung_t;

/* Windows short enough to be packed (src/pack.h), rows_per_win sequences
 * each, waiting for a forward pass. */
typedef struct {
	gf_pack_t pk;
	int n;                /* windows queued */
	pending_t **rec;
	size_t *win;
} packq_t;

typedef struct {
	const gf_infer_cli_t *c;
	gf_modelfile_t *mf;
	int embed, width, rows_per_win, n_rungs;
	size_t max_pend;      /* records waiting before part-filled rungs run */
	rung_t rung[MAX_RUNGS];
	packq_t pq;           /* pq.pk.max_len 0: no packing */
	float *out;           /* most windows of a pass x rows_per_win rows x width */
	pending_t **pend;     /* in input order */
	size_t n_pend, cap_pend;
	gf_window_t win;
	gf_infer_fn fn;
	void *ctx;
	gf_infer_stats_t *st;
	gf_progress_t progress;
	gf_kh_t *kh;          /* the model's k-mer head (classifier outputs), or NULL */
	gf_kx_t *kx;          /* the model's k-mer index (classifier outputs), or NULL */
	gf_kx_count_t kx_cnt; /* its lookups for the record being finished */
} infer_t;

static void pending_free(pending_t *p)
{
	if (!p) return;
	free(p->path);
	free(p->name);
	free(p->win_real);
	free(p->out);
	free(p->win_out);
	free(p->win_beg);
	free(p->win_end);
	for (int i = 0; i < 2; i++) {
		free(p->mate_name[i]);
		free(p->seq[i]);
		free(p->qual[i]);
		if (p->aln[i]) bam_destroy1(p->aln[i]);
	}
	free(p->kh_seq);
	free(p);
}

/* The rungs: chunk, 2 chunk, ... up to the model's window L. */
static int infer_init(infer_t *in, const gf_infer_cli_t *c, gf_modelfile_t *mf, int embed, char *err, size_t errlen)
{
	memset(in, 0, sizeof *in);
	in->c = c;
	in->mf = mf;
	in->embed = embed;
	in->width = gf_infer_width(mf, embed);
	in->rows_per_win = rows_per_window(c);
	const int L = mf->window;
	int step = rf_config_padded_len(&mf->cfg, 1);
	if (step < 16) step = 16;
	for (long len = step; in->n_rungs < MAX_RUNGS; len *= 2) {
		in->rung[in->n_rungs++].len = len < L ? (int)len : L;
		if (len >= L) break;
	}
	in->max_pend = 8 * (size_t)c->compute.batch + 64;
	size_t rows = (size_t)c->compute.batch * in->rows_per_win, out_rows = rows;
	int ok = 1;
	if (!c->no_pack) {
		/* a packed pass holds the tokens of a full batch of whole windows */
		int pack_tokens = c->compute.batch * in->rows_per_win * L, most = rf_model_max_segment(&mf->cfg);
		ok = !gf_pack_init(&in->pq.pk, pack_tokens, most < L ? most : L) &&
		     (in->pq.rec = malloc((size_t)pack_tokens * sizeof *in->pq.rec)) &&
		     (in->pq.win = malloc((size_t)pack_tokens * sizeof *in->pq.win));
		out_rows = (size_t)pack_tokens;
	}
	ok = ok && !gf_window_init(&in->win, L) && (in->out = malloc(out_rows * in->width * sizeof(float)));
	for (int i = 0; ok && i < in->n_rungs; i++) {
		rung_t *g = &in->rung[i];
		ok = (g->tok = malloc(rows * g->len * sizeof *g->tok)) && (g->mask = malloc(rows * g->len)) &&
		     (g->rec = malloc(c->compute.batch * sizeof *g->rec)) && (g->win = malloc(c->compute.batch * sizeof *g->win));
	}
	if (!ok) snprintf(err, errlen, "out of memory for batches of %d windows of %d tokens", c->compute.batch, L);
	const char *kh = embed || c->no_kmer_head ? NULL : rf_ckpt_meta_get(&mf->meta, GF_KH_META);
	char e[GF_ERRLEN];
	if (ok && kh && !(in->kh = gf_kh_parse(kh, mf->n_classes, e, sizeof e))) {
		snprintf(err, errlen, "%s: %s", c->model_path, e);
		ok = 0;
	}
	const char *kx = embed || c->no_kmer_index ? NULL : rf_ckpt_meta_get(&mf->meta, GF_KX_META);
	if (ok && kx && (!(in->kx = gf_kx_parse(kx, mf->n_classes, e, sizeof e)) ||
	                 !(in->kx_cnt.hits = malloc((size_t)mf->n_classes * sizeof *in->kx_cnt.hits)))) {
		snprintf(err, errlen, "%s: %s", c->model_path, in->kx ? "out of memory for the k-mer index" : e);
		ok = 0;
	}
	if (ok && in->kx && (c->given & GF_OPT_BIT(GF_INF_KMER_MIN_FRAC))) in->kx->min_frac = c->kmer_min_frac;
	return ok ? 0 : -1;
}

static void infer_free(infer_t *in)
{
	for (int i = 0; i < in->n_rungs; i++) {
		free(in->rung[i].tok);
		free(in->rung[i].mask);
		free(in->rung[i].rec);
		free(in->rung[i].win);
	}
	gf_pack_free(&in->pq.pk);
	free(in->pq.rec);
	free(in->pq.win);
	for (size_t i = 0; i < in->n_pend; i++) pending_free(in->pend[i]);
	free(in->pend);
	free(in->out);
	gf_window_free(&in->win);
	gf_kh_free(in->kh);
	gf_kx_free(in->kx);
	free(in->kx_cnt.hits);
}

/* One forward pass over n windows in b (rows_per_win rows or sequences
 * each); stores window i's output in window win[i] of record rec[i]. */
static int run_windows(infer_t *in, const rf_batch_t *b, pending_t **rec, const size_t *win, int n,
                       char *err, size_t errlen)
{
	if (!n) return 0;
	const int W = in->width, R = in->rows_per_win;
	int rc = in->embed ? rf_model_embed(in->mf->model, b, in->out, NULL, err, errlen)
	                   : rf_model_forward(in->mf->model, b, NULL, in->out, err, errlen);
	if (rc) return -1;
	for (int i = 0; i < n; i++) {
		pending_t *p = rec[i];
		float *dst = p->win_out + win[i] * W;
		const float *src = in->out + (size_t)i * R * W;
		for (int j = 0; j < W; j++) dst[j] = R == 2 ? 0.5f * (src[j] + src[W + j]) : src[j];
		p->done++;
	}
	return 0;
}

static int run_rung(infer_t *in, rung_t *g, char *err, size_t errlen)
{
	rf_batch_t b = { .tokens = g->tok, .mask = g->mask, .B = g->n * in->rows_per_win, .L = g->len, .seed = INFER_SEED };
	int rc = run_windows(in, &b, g->rec, g->win, g->n, err, errlen);
	g->n = 0;
	return rc;
}

static int run_packed(infer_t *in, char *err, size_t errlen)
{
	packq_t *q = &in->pq;
	rf_batch_t b = gf_pack_batch(&q->pk, INFER_SEED);
	int rc = run_windows(in, &b, q->rec, q->win, q->n, err, errlen);
	gf_pack_clear(&q->pk);
	q->n = 0;
	return rc;
}

/* Averages a finished record's windows, weighted by real tokens. */
static void finish_record(infer_t *in, pending_t *p)
{
	const int W = in->width;
	if (!p->r.n_windows) return;
	for (int j = 0; j < W; j++) {
		double s = 0.0;
		for (size_t w = 0; w < p->r.n_windows; w++) s += (double)p->win_real[w] * p->win_out[w * W + j];
		p->out[j] = (float)(s / (double)p->r.tokens);
	}
	if (in->kh) gf_kh_classify(in->kh, p->kh_seq, p->kh_len, p->out, gf_kh_key(p->name), p->out);
	if (in->kx) {
		gf_kx_count(in->kx, p->kh_seq, p->kh_len, &in->kx_cnt);
		int cls = gf_kx_apply(in->kx, &in->kx_cnt, p->out);
		p->r.kx_call = cls;
		/* too short for the Reformer, not for exact k-mers: the other rules still apply */
		if (cls >= 0 && p->r.lowinfo == GF_LOWINFO_TOO_SHORT) {
			gf_lowinfo_opts_t lo = in->c->low;
			lo.min_len = (size_t)in->kx->k;
			p->r.lowinfo = gf_lowinfo_check(p->kh_seq, p->kh_len, &lo);
		}
	}
	p->r.out = p->out;
}

/* Hands the finished records at the front of the queue to the caller. */
static int emit_done(infer_t *in, char *err, size_t errlen)
{
	size_t i = 0;
	int rc = 0;
	while (rc == 0 && i < in->n_pend && in->pend[i]->done == in->pend[i]->r.n_windows) {
		pending_t *p = in->pend[i++];
		finish_record(in, p);
		rc = in->fn(in->ctx, &p->r, err, errlen);
		pending_free(p);
	}
	if (i) memmove(in->pend, in->pend + i, (in->n_pend - i) * sizeof *in->pend); /* pend is NULL while empty */
	in->n_pend -= i;
	return rc;
}

static int flush_all(infer_t *in, char *err, size_t errlen)
{
	for (int i = 0; i < in->n_rungs; i++)
		if (run_rung(in, &in->rung[i], err, errlen)) return -1;
	if (run_packed(in, err, errlen)) return -1;
	return emit_done(in, err, errlen);
}

/* Queues the window in in->win (the slot-th window of p) as rows_per_win
 * packed sequences, after running the queue when it is full. */
static int queue_packed(infer_t *in, pending_t *p, size_t slot, char *err, size_t errlen)
{
	packq_t *q = &in->pq;
	int n = in->win.n_real;
	if (!gf_pack_has_room(&q->pk, n, in->rows_per_win) && run_packed(in, err, errlen)) return -1;
	for (int r = 0; r < in->rows_per_win; r++) {
		int32_t *t = gf_pack_add(&q->pk, n);
		memcpy(t, in->win.tok, (size_t)n * sizeof *t);
		if (r) gf_kmer_revcomp_tokens(t, n, in->mf->k, t);
	}
	q->rec[q->n] = p;
	q->win[q->n++] = slot;
	return 0;
}

/* Queues window w of rec, the slot-th window of p, on its rung. */
static int queue_window(infer_t *in, pending_t *p, const gf_record_t *rec, size_t w, size_t slot, char *err,
                        size_t errlen)
{
	const gf_modelfile_t *mf = in->mf;
	gf_window_t *win = &in->win;
	gf_window_get(win, rec->seq, rec->len, mf->k, mf->stride, 0, p->r.index, rec->beg, w);
	p->win_real[slot] = win->n_real;
	p->win_beg[slot] = win->beg;
	p->win_end[slot] = win->end;
	if (gf_pack_takes(&in->pq.pk, win->n_real)) return queue_packed(in, p, slot, err, errlen);
	rung_t *g = in->rung;
	while (g->len < win->n_real) g++;
	for (int r = 0; r < in->rows_per_win; r++) {
		size_t row = (size_t)g->n * in->rows_per_win + r;
		int32_t *t = g->tok + row * g->len;
		uint8_t *m = g->mask + row * g->len;
		memcpy(t, win->tok, (size_t)g->len * sizeof *t);
		memcpy(m, win->mask, (size_t)g->len);
		if (r) gf_kmer_revcomp_tokens(t, win->n_real, mf->k, t);
	}
	g->rec[g->n] = p;
	g->win[g->n] = slot;
	if (++g->n == in->c->compute.batch) return run_rung(in, g, err, errlen);
	return 0;
}

/* The reads of a record: one, or the two mates of a pair. */
typedef struct {
	const gf_record_t *rec[2];
	const bam1_t *aln[2];
	int n;
} reads_t;

static pending_t *pending_new(const char *path, const char *name, const reads_t *rd, uint64_t index, size_t nw,
                              size_t tokens, int W)
{
	pending_t *p = calloc(1, sizeof *p);
	if (!p) return NULL;
	size_t n = nw ? nw : 1;
	int ok = (p->path = strdup(path)) && (p->name = strdup(name));
	for (int i = 0; ok && i < rd->n; i++) ok = (p->mate_name[i] = strdup(rd->rec[i]->name)) != NULL;
	p->win_real = malloc(n * sizeof *p->win_real);
	p->out = malloc((size_t)W * sizeof *p->out);
	p->win_out = malloc(n * W * sizeof *p->win_out);
	p->win_beg = malloc(n * sizeof *p->win_beg);
	p->win_end = malloc(n * sizeof *p->win_end);
	if (!ok || !p->win_real || !p->out || !p->win_out || !p->win_beg || !p->win_end) {
		pending_free(p);
		return NULL;
	}
	p->r = (gf_infer_rec_t){ .path = p->path, .name = p->name, .beg = rd->n == 1 ? rd->rec[0]->beg : 0, .index = index,
		                     .n_windows = nw, .tokens = tokens, .win_out = p->win_out,
		                     .win_beg = p->win_beg, .win_end = p->win_end, .n_mates = rd->n, .kx_call = -2 };
	for (int i = 0; i < rd->n; i++) {
		p->r.mate_name[i] = p->mate_name[i];
		p->r.mate_len[i] = rd->rec[i]->len;
		p->r.len += rd->rec[i]->len;
	}
	return p;
}

/* With keep_reads: copies of the reads' bases, qualities and alignments. */
static int keep_reads(pending_t *p, const reads_t *rd, int keep)
{
	for (int i = 0; i < rd->n; i++) {
		const gf_record_t *rec = rd->rec[i];
		if (!(p->seq[i] = strdup(rec->seq)) || (rec->qual && !(p->qual[i] = strdup(rec->qual)))) return -1;
		if (keep > 1 && rd->aln[i] && !(p->aln[i] = bam_dup1(rd->aln[i]))) return -1;
		p->r.seq[i] = p->seq[i];
		p->r.qual[i] = p->qual[i];
		p->r.aln[i] = p->aln[i];
	}
	return 0;
}

/* The bases the k-mer head reads: the record's, or a pair's mates joined
 * by an N (no k-mer spans the two). */
static int keep_kh_seq(pending_t *p, const reads_t *rd)
{
	size_t n = rd->rec[0]->len + (rd->n > 1 ? 1 + rd->rec[1]->len : 0);
	if (!(p->kh_seq = malloc(n + 1))) return -1;
	memcpy(p->kh_seq, rd->rec[0]->seq, rd->rec[0]->len);
	if (rd->n > 1) {
		p->kh_seq[rd->rec[0]->len] = 'N';
		memcpy(p->kh_seq + rd->rec[0]->len + 1, rd->rec[1]->seq, rd->rec[1]->len);
	}
	p->kh_seq[n] = 0;
	p->kh_len = n;
	return 0;
}

/* Queues every window of one record (or pair); runs batches as they fill
 * and, when too many records wait on part-filled rungs, every rung. */
/* A record's low-information reason; a pair's is its first mate's when
 * both mates have one (a pair with one informative mate is judged). */
static int lowinfo(const reads_t *rd, const gf_lowinfo_opts_t *o)
{
	int low = 0;
	for (int i = 0; i < rd->n; i++) {
		int l = gf_lowinfo_check(rd->rec[i]->seq, rd->rec[i]->len, o);
		if (!l) return 0;
		if (!low) low = l;
	}
	return low;
}

static int add_record(infer_t *in, const char *path, const char *name, const reads_t *rd, uint64_t index, char *err,
                      size_t errlen)
{
	const gf_modelfile_t *mf = in->mf;
	size_t m[2] = { 0, 0 }, nw[2] = { 0, 0 };
	for (int i = 0; i < rd->n; i++) {
		m[i] = gf_kmer_count(rd->rec[i]->len, mf->k, mf->stride);
		nw[i] = gf_window_count(m[i], mf->window, 0);
	}
	if (in->n_pend == in->cap_pend) {
		size_t cap = in->cap_pend ? 2 * in->cap_pend : 64;
		pending_t **q = realloc(in->pend, cap * sizeof *q);
		if (!q) return rf_fail(err, errlen, "out of memory");
		in->pend = q;
		in->cap_pend = cap;
	}
	pending_t *p = pending_new(path, name, rd, index, nw[0] + nw[1], m[0] + m[1], in->width);
	if (p && in->c->keep_reads && keep_reads(p, rd, in->c->keep_reads)) {
		pending_free(p);
		p = NULL;
	}
	if (!p) return rf_fail(err, errlen, "out of memory for record '%s'", name);
	p->r.mate_windows = nw[0];
	in->pend[in->n_pend++] = p;
	p->r.lowinfo = lowinfo(rd, &in->c->low);
	if ((in->kh || in->kx) && keep_kh_seq(p, rd)) return rf_fail(err, errlen, "out of memory for record '%s'", name);
	in->st->records++;
	in->st->bases += p->r.len;
	in->st->windows += nw[0] + nw[1];
	in->st->tokens += m[0] + m[1];
	for (int i = 0; i < rd->n; i++)
		for (size_t w = 0; w < nw[i]; w++)
			if (queue_window(in, p, rd->rec[i], w, (i ? nw[0] : 0) + w, err, errlen)) return -1;
	if (in->n_pend > in->max_pend) return flush_all(in, err, errlen);
	return emit_done(in, err, errlen);
}

/* Whether record i over all inputs is this shard's (counted as skipped if not). */
static int in_shard(infer_t *in, uint64_t i)
{
	if (i % (uint64_t)in->c->shard_n == (uint64_t)in->c->shard_i) return 1;
	in->st->skipped++;
	return 0;
}

/* --paired: the pairs (and single reads) of path, or of mate files path and path2. */
static int run_mates(infer_t *in, const char *path, const char *path2, uint64_t *index, char *err, size_t errlen)
{
	gf_mates_t *mt = gf_mates_open(path, path2, &in->c->in.io, err, errlen);
	if (!mt) return -1;
	gf_record_t rec[2];
	reads_t rd = { { &rec[0], &rec[1] }, { NULL, NULL }, 0 };
	char name[4096];
	int rc = 0;
	gf_record_init(&rec[0]);
	gf_record_init(&rec[1]);
	while (rc == 0 && (rd.n = gf_mates_read(mt, &rec[0], &rec[1], &rd.aln[0], &rd.aln[1], err, errlen)) > 0) {
		if (!in_shard(in, (*index)++)) continue;
		if (rd.n == 1) snprintf(name, sizeof name, "%s", rec[0].name);
		else gf_mates_name(rec[0].name, rec[1].name, name, sizeof name);
		rc = add_record(in, path, name, &rd, *index - 1, err, errlen);
		gf_progress_update(&in->progress, in->st->bases);
	}
	if (rc == 0 && rd.n < 0) rc = -1;
	if (rc == 0 && gf_mates_orphans(mt))
		gf_warn("%s: %llu paired reads had no mate next to them and were classified alone (mates must be adjacent: "
		        "samtools collate or sort -n)", path, (unsigned long long)gf_mates_orphans(mt));
	gf_record_free(&rec[0]);
	gf_record_free(&rec[1]);
	gf_mates_close(mt);
	return rc;
}

static int run_file(infer_t *in, const char *path, uint64_t *index, char *err, size_t errlen)
{
	gf_reader_t *r = gf_seqio_open(path, &in->c->in.io, err, errlen);
	if (!r) return -1;
	gf_record_t rec;
	reads_t rd = { { &rec, NULL }, { NULL, NULL }, 1 };
	int ret, rc = 0;
	gf_record_init(&rec);
	while (rc == 0 && (ret = gf_seqio_read(r, &rec, err, errlen)) > 0) {
		if (!in_shard(in, (*index)++)) continue;
		rd.aln[0] = gf_seqio_alignment(r);
		rc = add_record(in, path, rec.name, &rd, *index - 1, err, errlen);
		gf_progress_update(&in->progress, in->st->bases);
	}
	if (rc == 0 && ret < 0) rc = -1;
	gf_record_free(&rec);
	gf_seqio_close(r);
	return rc;
}

int gf_infer_run(const gf_infer_cli_t *c, gf_modelfile_t *mf, int embed, char *const *inputs, int n_inputs,
                 gf_infer_fn fn, void *ctx, gf_infer_stats_t *st, char *err, size_t errlen)
{
	infer_t in;
	memset(st, 0, sizeof *st);
	int rc = infer_init(&in, c, mf, embed, err, errlen);
	in.fn = fn;
	in.ctx = ctx;
	in.st = st;
	uint64_t index = 0;
	gf_progress_start(&in.progress, 0, "bp");
	if (c->paired && n_inputs == 1) rc = rc ? rc : run_mates(&in, inputs[0], NULL, &index, err, errlen);
	else if (c->paired)
		for (int i = 0; rc == 0 && i + 1 < n_inputs; i += 2) rc = run_mates(&in, inputs[i], inputs[i + 1], &index, err, errlen);
	else
		for (int i = 0; rc == 0 && i < n_inputs; i++) rc = run_file(&in, inputs[i], &index, err, errlen);
	if (rc == 0) rc = flush_all(&in, err, errlen);
	gf_progress_end(&in.progress);
	infer_free(&in);
	return rc;
}

int gf_infer_claim(const gf_infer_cli_t *c, const char *const *inputs, int n_inputs, const char *const *outputs,
                   int n_outputs)
{
	const char *own[] = { c->model_path, c->in.io.reference };
	return gf_files_claim(own, 2, NULL, 0) || gf_files_claim(inputs, n_inputs, outputs, n_outputs) ? -1 : 0;
}
