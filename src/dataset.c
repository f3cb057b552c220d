/* In-memory training data and its deterministic sampling; see dataset.h.
 * It lives in src/ because it joins genomics/ (records, k-mers) with the
 * model's keyed RNG, and only src/ may use both.
 * Random draws come from the counter-based generator of model/rng.h (a
 * header of pure functions), so that sampling, masking and the model's
 * dropout are all keyed by the same (seed, step). */
#include "src/dataset.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genomics/kmer.h"
#include "genomics/seqio.h"
#include "genomics/window.h"
#include "model/rng.h"

/* Draws per row within a step's stream: class, record, start, strand. */
enum { DRAW_CLASS, DRAW_RECORD, DRAW_START, DRAW_STRAND, N_DRAWS };

void gf_dataset_init(gf_dataset_t *ds, int k, int stride, int L, int n_classes)
{
	memset(ds, 0, sizeof *ds);
	ds->k = k;
	ds->stride = stride;
	ds->L = L;
	ds->n_classes = n_classes;
}

static void free_tables(gf_dataset_t *ds)
{
	free(ds->order);
	free(ds->cum);
	free(ds->class_beg);
	free(ds->live);
	free(ds->val_rec);
	free(ds->val_idx);
	ds->order = ds->val_rec = ds->val_idx = ds->class_beg = NULL;
	ds->cum = NULL;
	ds->live = NULL;
}

void gf_dataset_free(gf_dataset_t *ds)
{
	for (size_t i = 0; i < ds->n; i++) {
		free(ds->rec[i].name);
		free(ds->rec[i].seq);
	}
	free(ds->rec);
	free_tables(ds);
	memset(ds, 0, sizeof *ds);
}

size_t gf_dataset_span(const gf_dataset_t *ds)
{
	return (size_t)(ds->L - 1) * ds->stride + ds->k;
}

int gf_dataset_add(gf_dataset_t *ds, const char *name, const char *seq, size_t len, int cls, int role,
                   double val_frac)
{
	if (ds->n == ds->cap) {
		size_t cap = ds->cap ? 2 * ds->cap : 16;
		gf_ds_record_t *r = realloc(ds->rec, cap * sizeof *r);
		if (!r) return -1;
		ds->rec = r;
		ds->cap = cap;
	}
	gf_ds_record_t *r = &ds->rec[ds->n];
	r->name = strdup(name);
	r->seq = malloc(len + 1);
	if (!r->name || !r->seq) {
		free(r->name);
		free(r->seq);
		return -1;
	}
	memcpy(r->seq, seq, len);
	r->seq[len] = 0;
	r->len = len;
	r->cls = cls;
	r->split = role == GF_DS_TRAIN ? len : role == GF_DS_VAL ? 0 : len - (size_t)llround(len * val_frac);
	ds->train_bases += r->split;
	ds->val_bases += len - r->split;
	ds->n++;
	return 0;
}

/* A record's training bases when they hold at least one k-mer, else 0. */
static uint64_t train_weight(const gf_dataset_t *ds, const gf_ds_record_t *r)
{
	return r->split >= (size_t)ds->k ? r->split : 0;
}

static size_t val_windows(const gf_dataset_t *ds, const gf_ds_record_t *r)
{
	return gf_window_count(gf_kmer_count(r->len - r->split, ds->k, ds->stride), ds->L, 0);
}

/* Records with training windows ordered by class, their cumulative weights
 * and the class ranges. */
static int build_order(gf_dataset_t *ds, char *err, size_t errlen)
{
	int nc = ds->n_classes > 0 ? ds->n_classes : 1;
	ds->order = malloc((ds->n + 1) * sizeof *ds->order);
	ds->cum = malloc((ds->n + 1) * sizeof *ds->cum);
	ds->class_beg = calloc(nc + 1, sizeof *ds->class_beg);
	ds->live = malloc(nc * sizeof *ds->live);
	if (!ds->order || !ds->cum || !ds->class_beg || !ds->live) return snprintf(err, errlen, "out of memory"), -1;
	uint64_t total = 0;
	for (int c = 0; c < nc; c++) {
		ds->class_beg[c] = ds->n_order;
		for (size_t i = 0; i < ds->n; i++) {
			uint64_t w = train_weight(ds, &ds->rec[i]);
			if (w == 0 || (ds->n_classes > 0 && ds->rec[i].cls != c)) continue;
			ds->order[ds->n_order] = i;
			ds->cum[ds->n_order++] = total += w;
		}
		if (ds->n_order > ds->class_beg[c]) ds->live[ds->n_live++] = c;
		else if (ds->balance)
			return snprintf(err, errlen, "--balance: class %d has no training bases", c), -1;
	}
	ds->class_beg[nc] = ds->n_order;
	if (ds->n_order == 0)
		return snprintf(err, errlen, "no training data: no record has %d training bases (one k-mer)", ds->k), -1;
	return 0;
}

int gf_dataset_empty_class(const gf_dataset_t *ds)
{
	for (int c = 0; ds->class_beg && c < ds->n_classes; c++)
		if (ds->class_beg[c] == ds->class_beg[c + 1]) return c;
	return -1;
}

/* ---- the same sequence twice ---- */

typedef struct {
	uint64_t h;
	size_t i;
} ds_hash_t;

static char upper(char c)
{
	return (char)toupper((unsigned char)c);
}

static uint64_t fnv_add(uint64_t h, unsigned char c)
{
	return (h ^ c) * 0x100000001b3ull;
}

uint64_t gf_dataset_bases_hash(const char *s, size_t n)
{
	uint64_t f = 0xcbf29ce484222325ull, r = f;
	for (size_t j = 0; j < n; j++) {
		f = fnv_add(f, (unsigned char)upper(s[j]));
		r = fnv_add(r, (unsigned char)upper(gf_complement(s[n - 1 - j])));
	}
	return f < r ? f : r;
}

/* 1: a and b hold the same bases; 2: b is a's reverse complement; 0: neither. */
static int same_bases(const gf_ds_record_t *a, const gf_ds_record_t *b)
{
	int fwd = a->len == b->len, rc = fwd;
	for (size_t j = 0; j < a->len && (fwd || rc); j++) {
		char x = upper(a->seq[j]);
		fwd = fwd && x == upper(b->seq[j]);
		rc = rc && x == upper(gf_complement(b->seq[a->len - 1 - j]));
	}
	return fwd ? 1 : rc ? 2 : 0;
}

/* Whether a's training bases are b's validation bases or the other way
 * round, for records holding the same bases (how 1 or 2). */
static int leaks(const gf_ds_record_t *a, const gf_ds_record_t *b, int how)
{
	if (how == 1) return a->split != b->split;
	return (a->split > 0 && b->split < b->len) || (b->split > 0 && a->split < a->len);
}

static int by_hash(const void *x, const void *y)
{
	const ds_hash_t *a = x, *b = y;
	return a->h != b->h ? (a->h < b->h ? -1 : 1) : (a->i > b->i) - (a->i < b->i);
}

int gf_dataset_duplicates(const gf_dataset_t *ds, gf_ds_dups_t *d)
{
	memset(d, 0, sizeof *d);
	ds_hash_t *h = malloc((ds->n + 1) * sizeof *h);
	if (!h) return -1;
	for (size_t i = 0; i < ds->n; i++) h[i] = (ds_hash_t){ gf_dataset_bases_hash(ds->rec[i].seq, ds->rec[i].len), i };
	qsort(h, ds->n, sizeof *h, by_hash);
	for (size_t x = 0; x < ds->n; x++)
		for (size_t y = x + 1; y < ds->n && h[y].h == h[x].h; y++) {
			const gf_ds_record_t *a = &ds->rec[h[x].i], *b = &ds->rec[h[y].i];
			int how = same_bases(a, b);
			int kind = !how ? -1 : a->cls != b->cls ? GF_DS_DUP_CLASSES : leaks(a, b, how) ? GF_DS_DUP_VAL : -1;
			if (kind < 0) continue;
			if (!d->pairs[kind] || h[x].i < d->a[kind] || (h[x].i == d->a[kind] && h[y].i < d->b[kind])) {
				d->a[kind] = h[x].i;
				d->b[kind] = h[y].i;
				d->rc[kind] = how == 2;
			}
			d->pairs[kind]++;
			d->bases[kind] += a->len;
		}
	free(h);
	return 0;
}

/* "records 'A' and 'B' hold the same bases (one the reverse complement of
 * the other)" for the first pair of kind. */
static int same_text(const gf_dataset_t *ds, const gf_ds_dups_t *d, int kind, char *buf, size_t len)
{
	return snprintf(buf, len, "records '%s' and '%s' hold the same bases%s", ds->rec[d->a[kind]].name,
	                ds->rec[d->b[kind]].name, d->rc[kind] ? " (one the reverse complement of the other)" : "");
}

int gf_dataset_check(const gf_dataset_t *ds, const char *const *classes, char *err, size_t errlen, char *warn,
                     size_t warnlen)
{
	gf_ds_dups_t d;
	char what[1024];
	int c = classes ? gf_dataset_empty_class(ds) : -1;
	*warn = 0;
	if (c >= 0)
		return snprintf(err, errlen, "class '%s' has no training data: its records are shorter than k=%d or all held "
		                "out for validation", classes[c], ds->k), -1;
	if (gf_dataset_duplicates(ds, &d)) return snprintf(err, errlen, "out of memory"), -1;
	uint64_t all = ds->train_bases + ds->val_bases;
	for (int kind = 0; kind < 2; kind++) {
		if (!d.pairs[kind] || (kind == GF_DS_DUP_CLASSES && !classes)) continue;
		same_text(ds, &d, kind, what, sizeof what);
		/* a few identical short reads (a conserved stretch) are life; a genome twice is a mistake */
		int fatal = d.bases[kind] * 100 >= all;
		char *out = fatal ? err : warn;
		size_t len = fatal ? errlen : warnlen;
		if (kind == GF_DS_DUP_CLASSES)
			snprintf(out, len, "%s but are in classes '%s' and '%s': the labels contradict each other (%zu such pairs, "
			         "%llu bp)", what, classes[ds->rec[d.a[kind]].cls], classes[ds->rec[d.b[kind]].cls],
			         d.pairs[kind], (unsigned long long)d.bases[kind]);
		else
			snprintf(out, len, "%s, and one trains on what the other validates: the validation would measure memory "
			         "(%zu such pairs, %llu bp)", what, d.pairs[kind], (unsigned long long)d.bases[kind]);
		if (fatal) return -1;
	}
	return 0;
}

/* Validation windows: every window of every validation part, or max_val of
 * them spread evenly over that list. */
static int build_val(gf_dataset_t *ds, size_t max_val, char *err, size_t errlen)
{
	size_t total = 0, j = 0, seen = 0;
	for (size_t i = 0; i < ds->n; i++) total += val_windows(ds, &ds->rec[i]);
	ds->n_val = total < max_val ? total : max_val;
	ds->val_rec = malloc((ds->n_val + 1) * sizeof *ds->val_rec);
	ds->val_idx = malloc((ds->n_val + 1) * sizeof *ds->val_idx);
	if (!ds->val_rec || !ds->val_idx) return snprintf(err, errlen, "out of memory"), -1;
	for (size_t i = 0; i < ds->n && j < ds->n_val; i++) {
		size_t nw = val_windows(ds, &ds->rec[i]);
		/* window number t = floor(j * total / n_val) of the whole list is the j-th taken */
		for (; j < ds->n_val; j++) {
			size_t t = (size_t)((uint64_t)j * total / ds->n_val);
			if (t >= seen + nw) break;
			ds->val_rec[j] = i;
			ds->val_idx[j] = t - seen;
		}
		seen += nw;
	}
	return 0;
}

int gf_dataset_finish(gf_dataset_t *ds, int balance, size_t max_val, char *err, size_t errlen)
{
	free_tables(ds);
	ds->n_order = 0;
	ds->n_live = 0;
	ds->balance = balance;
	return build_order(ds, err, errlen) || build_val(ds, max_val, err, errlen) ? -1 : 0;
}

/* The first index in [lo, hi) with cum[index] > r. */
static size_t upper_bound(const uint64_t *cum, size_t lo, size_t hi, uint64_t r)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cum[mid] > r) hi = mid;
		else lo = mid + 1;
	}
	return lo;
}

/* L tokens of the k-mer stream of seq[0..n), [PAD] after the real ones. */
static void fill_window(const gf_dataset_t *ds, const char *seq, size_t n, int32_t *tok, uint8_t *mask)
{
	size_t real = gf_kmer_tokenize_part(seq, n, ds->k, ds->stride, 0, ds->L, tok);
	memset(mask, 1, real);
	memset(mask + real, 0, ds->L - real);
	for (int j = (int)real; j < ds->L; j++) tok[j] = GF_TOK_PAD;
}

void gf_dataset_sample(const gf_dataset_t *ds, uint64_t seed, uint64_t step, uint64_t row, int rc_aug,
                       char *scratch, int32_t *tok, uint8_t *mask, int32_t *label)
{
	uint64_t key = rf_rng_key(seed, step, -1, RF_RNG_DATA), base = row * N_DRAWS;
	size_t lo = 0, hi = ds->n_order;
	if (ds->balance) {
		int c = ds->live[rf_rng_u64(key, base + DRAW_CLASS) % (uint64_t)ds->n_live];
		lo = ds->class_beg[c];
		hi = ds->class_beg[c + 1];
	}
	uint64_t c0 = lo ? ds->cum[lo - 1] : 0;
	uint64_t r = c0 + rf_rng_u64(key, base + DRAW_RECORD) % (ds->cum[hi - 1] - c0);
	const gf_ds_record_t *rec = &ds->rec[ds->order[upper_bound(ds->cum, lo, hi, r)]];
	size_t span = gf_dataset_span(ds), n = rec->split < span ? rec->split : span;
	size_t start = rf_rng_u64(key, base + DRAW_START) % (rec->split - n + 1);
	*label = rec->cls;
	if (rc_aug && (rf_rng_u64(key, base + DRAW_STRAND) & 1)) {
		memcpy(scratch, rec->seq + start, n);
		gf_revcomp(scratch, n);
		fill_window(ds, scratch, n, tok, mask);
	} else {
		fill_window(ds, rec->seq + start, n, tok, mask);
	}
}

void gf_dataset_val(const gf_dataset_t *ds, size_t i, int32_t *tok, uint8_t *mask, int32_t *label)
{
	const gf_ds_record_t *rec = &ds->rec[ds->val_rec[i]];
	size_t a = ds->val_idx[i] * (size_t)ds->L * ds->stride;
	fill_window(ds, rec->seq + rec->split + a, rec->len - rec->split - a, tok, mask);
	*label = rec->cls;
}

const char *gf_dataset_val_bases(const gf_dataset_t *ds, size_t i, size_t *len)
{
	const gf_ds_record_t *rec = &ds->rec[ds->val_rec[i]];
	size_t a = ds->val_idx[i] * (size_t)ds->L * ds->stride, left = rec->len - rec->split - a, span = gf_dataset_span(ds);
	*len = left < span ? left : span;
	return rec->seq + rec->split + a;
}

int gf_mlm_mask(int32_t *tok, const uint8_t *mask, int B, int L, int k, double p, uint64_t seed, uint64_t step,
                uint64_t row0, int32_t *pos, int32_t *targets)
{
	uint64_t key = rf_rng_key(seed, step, -1, RF_RNG_MASK), n_kmers = (uint64_t)1 << (2 * k);
	int n = 0, first = -1;
	for (int b = 0; b < B; b++)
		for (int j = 0; j < L; j++) {
			size_t i = (size_t)b * L + j;
			uint64_t idx = ((row0 + b) * (uint64_t)L + j) * 3;
			if (!mask[i] || tok[i] < GF_TOK_N_SPECIAL) continue;
			if (first < 0) first = (int)i;
			if (rf_rng_uniform(key, idx) >= p) continue;
			float how = rf_rng_uniform(key, idx + 1);
			pos[n] = (int32_t)i;
			targets[n++] = tok[i];
			if (how < 0.8f) tok[i] = GF_TOK_MASK;
			else if (how < 0.9f) tok[i] = GF_TOK_N_SPECIAL + (int32_t)(rf_rng_u64(key, idx + 2) % n_kmers);
		}
	if (n == 0 && first >= 0) {
		pos[n] = first;
		targets[n++] = tok[first];
		tok[first] = GF_TOK_MASK;
	}
	return n;
}
