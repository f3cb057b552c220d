/* Open-set answers; see openset.h. */
#include "src/openset.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genomics/kmer.h"
#include "model/rng.h"
#include "src/kmerindex.h"
#include "model/util.h"

/* A number in [lo, hi] from metadata key, or def when absent; -1 when malformed. */
static int meta_num(const gf_modelfile_t *mf, const char *key, double lo, double hi, double def, double *v,
                    char *err, size_t errlen)
{
	const char *s = rf_ckpt_meta_get(&mf->meta, key);
	char *end;
	*v = def;
	if (!s) return 0;
	errno = 0;
	*v = strtod(s, &end);
	if (!*s || *end || errno || !(*v >= lo && *v <= hi))
		return rf_fail(err, errlen, "model metadata %s is '%s', not a number in %g..%g", key, s, lo, hi);
	return 0;
}

/* Metadata key's "LEN:PROB,..." (lengths increasing) into len_at and
 * prob_at; *n 0 when absent. */
static int by_length(const gf_modelfile_t *mf, const char *key, size_t *len_at, float *prob_at, int *n, char *err,
                     size_t errlen)
{
	const char *by = rf_ckpt_meta_get(&mf->meta, key);
	*n = 0;
	for (const char *q = by; q && *q; (*n)++) {
		char *end;
		unsigned long v = strtoul(q, &end, 10);
		double pr = *end == ':' ? strtod(end + 1, &end) : -1;
		if (*n == GF_OPENSET_MAX_BINS || !(pr >= 0 && pr <= 1) || (*end && *end != ',') || (*n && v <= len_at[*n - 1]))
			return rf_fail(err, errlen, "model metadata %s is '%s', not LEN:PROB,... by increasing length", key, by);
		len_at[*n] = v;
		prob_at[*n] = (float)pr;
		q = *end ? end + 1 : end;
	}
	return 0;
}

/* "LEN:PROB,..." of n thresholds into metadata key. */
static int store_by_length(gf_modelfile_t *mf, const char *key, const size_t *len_at, const float *prob_at, int n,
                           char *err, size_t errlen)
{
	char by[GF_OPENSET_MAX_BINS * 40];
	size_t at = 0;
	for (int i = 0; i < n; i++)
		at += snprintf(by + at, sizeof by - at, "%s%zu:%.6g", i ? "," : "", len_at[i], (double)prob_at[i]);
	return rf_ckpt_meta_set(&mf->meta, key, by, err, errlen);
}

int gf_openset_load(gf_openset_t *os, const gf_modelfile_t *mf, char *err, size_t errlen)
{
	double p, t, len;
	gf_lowinfo_opts_init(&os->low);
	os->background = -1;
	if (meta_num(mf, GF_OPENSET_KEY_MIN_PROB, 0, 1, 0, &p, err, errlen) ||
	    meta_num(mf, GF_OPENSET_KEY_TARGET, 0, 1, 0, &t, err, errlen) ||
	    meta_num(mf, GF_OPENSET_KEY_MIN_LEN, 1, 1e12, mf->k, &len, err, errlen))
		return -1;
	os->min_prob = (float)p;
	os->target = t;
	os->low.min_len = (size_t)len;
	size_t novel_at[GF_OPENSET_MAX_BINS];
	int n_novel;
	if (by_length(mf, GF_OPENSET_KEY_BY_LENGTH, os->len_at, os->prob_at, &os->n_len, err, errlen) ||
	    by_length(mf, GF_OPENSET_KEY_NOVEL, novel_at, os->novel_at, &n_novel, err, errlen))
		return -1;
	os->has_novel = n_novel > 0;
	if (os->has_novel && (n_novel != os->n_len || memcmp(novel_at, os->len_at, n_novel * sizeof *novel_at)))
		return rf_fail(err, errlen, "model metadata %s has other lengths than %s", GF_OPENSET_KEY_NOVEL,
		               GF_OPENSET_KEY_BY_LENGTH);
	const char *bg = rf_ckpt_meta_get(&mf->meta, GF_OPENSET_KEY_BACKGROUND);
	if (bg) {
		for (int c = 0; c < mf->n_classes && os->background < 0; c++)
			if (!strcmp(mf->classes[c], bg)) os->background = c;
		if (os->background < 0)
			return rf_fail(err, errlen, "model metadata %s names '%s', which is not one of its classes",
			               GF_OPENSET_KEY_BACKGROUND, bg);
	}
	return 0;
}

int gf_openset_store(const gf_openset_t *os, gf_modelfile_t *mf, char *err, size_t errlen)
{
	char v[64];
	snprintf(v, sizeof v, "%.6g", (double)os->min_prob);
	int rc = rf_ckpt_meta_set(&mf->meta, GF_OPENSET_KEY_MIN_PROB, v, err, errlen);
	snprintf(v, sizeof v, "%.6g", os->target);
	if (!rc) rc = rf_ckpt_meta_set(&mf->meta, GF_OPENSET_KEY_TARGET, v, err, errlen);
	snprintf(v, sizeof v, "%zu", os->low.min_len);
	if (!rc) rc = rf_ckpt_meta_set(&mf->meta, GF_OPENSET_KEY_MIN_LEN, v, err, errlen);
	if (!rc && os->n_len)
		rc = store_by_length(mf, GF_OPENSET_KEY_BY_LENGTH, os->len_at, os->prob_at, os->n_len, err, errlen);
	if (!rc && os->n_len && os->has_novel)
		rc = store_by_length(mf, GF_OPENSET_KEY_NOVEL, os->len_at, os->novel_at, os->n_len, err, errlen);
	if (!rc && os->background >= 0)
		rc = rf_ckpt_meta_set(&mf->meta, GF_OPENSET_KEY_BACKGROUND, mf->classes[os->background], err, errlen);
	return rc;
}

const char *gf_openset_reason_name(int reason)
{
	if (reason == GF_OPENSET_BACKGROUND) return "background";
	if (reason == GF_OPENSET_BELOW_THRESHOLD) return "below_threshold";
	if (reason == GF_OPENSET_NOVEL) return "novel";
	return gf_lowinfo_name(reason);
}

float gf_openset_threshold(const gf_openset_t *os, size_t len, int novel)
{
	if (!os->n_len) return os->min_prob;
	int i = 0;
	while (i + 1 < os->n_len && os->len_at[i + 1] <= len) i++;
	return novel && os->has_novel ? os->novel_at[i] : os->prob_at[i];
}

int gf_openset_call(const gf_openset_t *os, float min_prob, size_t len, int low, int kx_call, const float *logits,
                    int C, float *probs, float *top, int *reason)
{
	*top = 0.0f;
	*reason = low ? low : GF_LOWINFO_TOO_SHORT;
	if (low || !logits) return -1;
	int best = gf_softmax_argmax(logits, C, probs);
	*top = probs[best];
	int novel = kx_call == -1;
	float t = min_prob >= 0 ? min_prob : kx_call == best ? 0.0f : gf_openset_threshold(os, len, novel);
	novel = novel && min_prob < 0 && os->has_novel;
	if (best == os->background) *reason = GF_OPENSET_BACKGROUND;
	else if (*top < t || (novel && t >= 1.0f)) *reason = novel ? GF_OPENSET_NOVEL : GF_OPENSET_BELOW_THRESHOLD;
	else *reason = GF_LOWINFO_OK;
	return *reason ? -1 : best;
}

static const float *sort_key;
static int by_top_desc(const void *a, const void *b)
{
	float x = sort_key[*(const size_t *)a], y = sort_key[*(const size_t *)b];
	return x > y ? -1 : x < y;
}

float gf_openset_choose(const float *top, const uint8_t *right, size_t n, double target, double *called)
{
	size_t *idx = malloc((n ? n : 1) * sizeof *idx), kept = 0, ok = 0;
	float t = 1.0f;
	*called = 0.0;
	if (target <= 0) {  /* no target: every call kept */
		free(idx);
		*called = 1.0;
		return 0.0f;
	}
	if (!idx) return t;
	for (size_t i = 0; i < n; i++) idx[i] = i;
	sort_key = top;
	qsort(idx, n, sizeof *idx, by_top_desc);
	/* only at the end of a run of equal scores: a threshold keeps all or none of them */
	for (size_t i = 0; i < n; i++) {
		ok += right[idx[i]];
		if (i + 1 < n && top[idx[i + 1]] == top[idx[i]]) continue;
		if ((double)ok >= target * (double)(i + 1)) {
			t = top[idx[i]];
			kept = i + 1;
		}
	}
	free(idx);
	*called = n ? (double)kept / (double)n : 0.0;
	return t;
}

void gf_openset_crop(int32_t *tok, uint8_t *mask, int L, int k, int stride, double frac, int min_bases,
                     uint64_t seed, uint64_t step, uint64_t row)
{
	/* layer -2: a stream of its own, apart from the dataset's draws */
	uint64_t key = rf_rng_key(seed, step, -2, RF_RNG_DATA);
	if (frac <= 0 || rf_rng_uniform(key, 2 * row) >= frac) return;
	size_t span = (size_t)(L - 1) * stride + k;
	if ((size_t)min_bases >= span) return;
	double u = rf_rng_uniform(key, 2 * row + 1);
	size_t bases = (size_t)exp(log((double)min_bases) + u * (log((double)span) - log((double)min_bases)));
	size_t keep = gf_kmer_count(bases, k, stride);
	for (size_t j = keep ? keep : 1; j < (size_t)L; j++) {
		tok[j] = GF_TOK_PAD;
		mask[j] = 0;
	}
}

/* One forward pass over n rows of Lr tokens: top probability, and whether
 * it is a right call (pred == label), a call at all (not background). */
typedef struct {
	float *top;
	uint8_t *right, *call, *bg, *bin, *novel;
	size_t n;
} calib_t;

static int run_rows(gf_modelfile_t *mf, int32_t *tok, uint8_t *mask, const int32_t *label, const uint8_t *novel, int n,
                    int Lr, int bin, float *logits, float *probs, int background, calib_t *cb, char *err, size_t errlen)
{
	rf_batch_t b = { .tokens = tok, .mask = mask, .B = n, .L = Lr, .seed = 1 };
	if (rf_model_forward(mf->model, &b, NULL, logits, err, errlen)) return -1;
	for (int i = 0; i < n; i++) {
		int best = gf_softmax_argmax(logits + (size_t)i * mf->n_classes, mf->n_classes, probs);
		size_t j = cb->n++;
		cb->top[j] = probs[best];
		cb->right[j] = best == label[i];
		cb->call[j] = best != background;
		cb->bg[j] = label[i] == background;
		cb->bin[j] = (uint8_t)bin;
		cb->novel[j] = novel[i];
	}
	return 0;
}

/* Whether the index kx finds no class in seq[0..len). */
static int is_novel(const gf_kx_t *kx, const char *seq, size_t len, gf_kx_count_t *cnt)
{
	gf_kx_count(kx, seq, len, cnt);
	return gf_kx_apply(kx, cnt, NULL) < 0;
}

/* The threshold for the calls (top class not background) of length bin
 * (-1: all), of the novel windows only when novel; top and right are
 * scratch of cb->n entries. */
static float choose_bin(const calib_t *cb, int bin, int novel, double target, float *top, uint8_t *right)
{
	size_t n = 0, rows = 0;
	double called;
	for (size_t j = 0; novel && j < cb->n; j++) rows += cb->novel[j] && cb->bin[j] == bin;
	if (novel && rows < GF_OPENSET_MIN_NOVEL && target > 0) return 1.0f;
	for (size_t j = 0; j < cb->n; j++)
		if (cb->call[j] && (bin < 0 || cb->bin[j] == bin) && (!novel || cb->novel[j])) {
			top[n] = cb->top[j];
			right[n++] = cb->right[j];
		}
	return gf_openset_choose(top, right, n, target, &called);
}

/* Appends to line what threshold t does on length bin's windows (the novel
 * ones when novel): "; BASES bp: T (in-class right R wrong W, background
 * unclassified B)", or " novel N: ..." after it. 0 when the bin has no
 * in-class window. */
static int describe(const calib_t *cb, int bin, int novel, float t, size_t bases, char *line, size_t size, int *at)
{
	size_t n_in = 0, n_bg = 0, in_right = 0, in_wrong = 0, bg_called = 0;
	for (size_t j = 0; j < cb->n; j++) {
		if (cb->bin[j] != bin || (novel && !cb->novel[j])) continue;
		int kept = cb->call[j] && cb->top[j] >= t && t < 1.0f;
		if (cb->bg[j]) n_bg++, bg_called += kept;
		else n_in++, in_right += kept && cb->right[j], in_wrong += kept && !cb->right[j];
	}
	if (!n_in && !novel) return 0;
	if (novel) *at += snprintf(line + *at, size - *at, " novel %zu: %.4f (", n_in + n_bg, (double)t);
	else *at += snprintf(line + *at, size - *at, "; %zu bp: %.4f (", bases, (double)t);
	if (n_in && *at < (int)size)
		*at += snprintf(line + *at, size - *at, "in-class right %.3f wrong %.4f", (double)in_right / n_in,
		                (double)in_wrong / n_in);
	if (n_bg && *at < (int)size)
		*at += snprintf(line + *at, size - *at, "%sbackground unclassified %.3f", n_in ? ", " : "",
		                1.0 - (double)bg_called / n_bg);
	if (*at < (int)size) *at += snprintf(line + *at, size - *at, ")");
	return 1;
}

int gf_openset_calibrate(gf_modelfile_t *mf, const gf_dataset_t *ds, int batch, double target, const char *bg_name,
                         size_t min_len, char *err, size_t errlen)
{
	int background = -1;
	for (int c = 0; bg_name && c < mf->n_classes; c++)
		if (!strcmp(mf->classes[c], bg_name)) background = c;
	static const int lengths[] = GF_OPENSET_CALIB_LENGTHS;
	const int n_len = (int)(sizeof lengths / sizeof *lengths) + 1, L = ds->L, C = mf->n_classes;
	const size_t span = gf_dataset_span(ds), n = ds->n_val * n_len;
	calib_t cb = { malloc(n * sizeof(float) + 1), malloc(n + 1), malloc(n + 1), malloc(n + 1), malloc(n + 1),
		           malloc(n + 1), 0 };
	/* an index of the records' training parts: the windows it finds nothing in are novel */
	gf_kx_t *kx = rf_ckpt_meta_get(&mf->meta, GF_KX_META) ? gf_kx_of_dataset(ds, background, 1) : NULL;
	gf_kx_count_t cnt = { .hits = malloc((size_t)C * sizeof *cnt.hits) };
	uint8_t *nov = malloc((size_t)batch + 1);
	float *ctop = malloc(n * sizeof(float) + 1);
	uint8_t *cright = malloc(n + 1);
	int32_t *win = malloc((size_t)L * sizeof *win), *tok = malloc((size_t)batch * L * sizeof *tok);
	int32_t *label = malloc((size_t)batch * sizeof *label);
	uint8_t *wmask = malloc(L), *mask = malloc((size_t)batch * L);
	float *logits = malloc((size_t)batch * C * sizeof *logits), *probs = malloc(C * sizeof *probs);
	int rc = cb.top && cb.right && cb.call && cb.bg && cb.bin && cb.novel && ctop && cright && win && tok && label &&
	                 wmask && mask && logits && probs && cnt.hits && nov &&
	                 (kx || !rf_ckpt_meta_get(&mf->meta, GF_KX_META))
	             ? 0 : rf_fail(err, errlen, "out of memory for the calibration");
	for (int li = 0; rc == 0 && li < n_len; li++) {
		size_t bases = li < n_len - 1 ? (size_t)lengths[li] : span;
		if (li < n_len - 1 && bases >= span) continue;
		int want = (int)gf_kmer_count(bases, ds->k, ds->stride);
		int Lr = rf_config_padded_len(&mf->cfg, want);
		if (Lr > L) Lr = L;
		int rows = 0;
		for (size_t i = 0; rc == 0 && i < ds->n_val; i++) {
			int32_t lab;
			gf_dataset_val(ds, i, win, wmask, &lab);
			int real = 0;
			while (real < L && wmask[real]) real++;
			if (real < want && li < n_len - 1) continue;  /* a validation tail shorter than this length */
			int keep = real < want ? real : want;
			int32_t *t = tok + (size_t)rows * Lr;
			uint8_t *m = mask + (size_t)rows * Lr;
			memcpy(t, win, keep * sizeof *t);
			memset(m, 1, keep);
			for (int j = keep; j < Lr; j++) t[j] = GF_TOK_PAD, m[j] = 0;
			size_t nb, cover = (size_t)(keep - 1) * ds->stride + ds->k;
			const char *bases_at = gf_dataset_val_bases(ds, i, &nb);
			nov[rows] = kx && is_novel(kx, bases_at, cover < nb ? cover : nb, &cnt);
			label[rows++] = lab;
			if (rows == batch) {
				rc = run_rows(mf, tok, mask, label, nov, rows, Lr, li, logits, probs, background, &cb, err, errlen);
				rows = 0;
			}
		}
		if (rc == 0 && rows)
			rc = run_rows(mf, tok, mask, label, nov, rows, Lr, li, logits, probs, background, &cb, err, errlen);
	}
	if (rc == 0) {
		gf_openset_t os;
		gf_lowinfo_opts_init(&os.low);
		os.target = target;
		os.background = background;
		os.low.min_len = min_len;
		os.n_len = 0;
		os.has_novel = kx != NULL;
		os.min_prob = choose_bin(&cb, -1, 0, target, ctop, cright);
		char line[4096];
		int at = snprintf(line, sizeof line, "%zu validation windows, threshold for precision %.4g", cb.n, target);
		/* per length: its threshold, and what it does on that length's windows */
		for (int li = 0; li < n_len && at < (int)sizeof line; li++) {
			size_t bases = li < n_len - 1 ? (size_t)lengths[li] : span;
			if (li < n_len - 1 && bases >= span) continue;
			float t = choose_bin(&cb, li, 0, target, ctop, cright);
			if (!describe(&cb, li, 0, t, bases, line, sizeof line, &at)) continue;
			os.len_at[os.n_len] = bases;
			os.novel_at[os.n_len] = kx ? choose_bin(&cb, li, 1, target, ctop, cright) : t;
			if (kx) describe(&cb, li, 1, os.novel_at[os.n_len], 0, line, sizeof line, &at);
			os.prob_at[os.n_len++] = t;
		}
		rc = gf_openset_store(&os, mf, err, errlen) ||
		     rf_ckpt_meta_set(&mf->meta, GF_OPENSET_KEY_CALIB, line, err, errlen) ? -1 : 0;
	}
	free(cb.top), free(cb.right), free(cb.call), free(cb.bg), free(cb.bin), free(cb.novel), free(ctop), free(cright);
	gf_kx_free(kx), free(cnt.hits), free(nov);
	free(win), free(tok), free(label), free(wmask), free(mask), free(logits), free(probs);
	return rc;
}
