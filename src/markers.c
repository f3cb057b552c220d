/* Training settings from the data; see markers.h. */
#include "src/markers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genomics/kmer.h"
#include "model/rng.h"
#include "src/common.h"
#include "src/kmerhead.h"
#include "src/log.h"

/* Settings for short records (marker genes): 6-mers every 3 bases (train
 * only), a small body (the k-mer head carries the class-specific words),
 * windows that hold a whole record. */
enum { SHORT_K = 6, SHORT_STRIDE = 3, SHORT_LAYERS = 2, SHORT_D_MODEL = 64, SHORT_HEADS = 4, SHORT_D_FF = 256,
       MIN_WINDOW = 64, MAX_WINDOW = 1024 };
/* Passes over the training records that a short-record run makes, and the
 * bounds on its steps. */
#define SHORT_EPOCHS 4.0
enum { MIN_STEPS = 100, MAX_STEPS = 800 };  /* 800: about 3 Mbp of 16S in under 15 minutes on 2 busy cores */
/* Early stopping of a short-record run: validations without a lower loss. */
enum { SHORT_PATIENCE = 3 };
/* Records are "many" from this count on: whole records validate even when long. */
#define MANY_RECORDS 1000
/* The Reformer weights in the k-mer head tried on validation. */
static const float LAMBDAS[] = { 0.0f, 0.25f, 1.0f, 4.0f, 16.0f };

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

/* Lengths and classes of every input record into p; lens is malloc'd. */
static int scan(const gf_train_opts_t *o, gf_mk_plan_t *p, size_t **lens)
{
	char err[GF_ERRLEN];
	int nc = o->labels ? gf_labels_n_classes(o->labels) : 0;
	size_t cap = 1024, *per = calloc(nc ? nc : 1, sizeof *per);
	*lens = malloc(cap * sizeof **lens);
	if (!per || !*lens) return free(per), gf_error("out of memory"), -1;
	int rc = 0;
	for (int i = 0; rc == 0 && i < o->n_inputs; i++) {
		gf_reader_t *rd = gf_seqio_open(o->inputs[i], &o->in.io, err, sizeof err);
		if (!rd) {
			gf_error("%s", err);
			rc = -1;
			break;
		}
		gf_record_t rec;
		int ret;
		gf_record_init(&rec);
		while ((ret = gf_seqio_read(rd, &rec, err, sizeof err)) > 0) {
			if (p->n_records == cap) {
				size_t *l = realloc(*lens, 2 * cap * sizeof *l);
				if (!l) {
					ret = -2;
					break;
				}
				*lens = l;
				cap *= 2;
			}
			(*lens)[p->n_records++] = rec.len;
			int c = nc ? gf_labels_lookup(o->labels, o->inputs[i], rec.name) : -1;
			if (c >= 0) per[c]++;
		}
		if (ret == -2) gf_error("out of memory");
		else if (ret < 0) gf_error("%s", err);
		rc = ret < 0 ? -1 : 0;
		gf_record_free(&rec);
		gf_seqio_close(rd);
	}
	for (int c = 0; c < nc; c++) p->n_classes += per[c] > 0;
	free(per);
	return rc;
}

static int pow2_at_least(double x)
{
	int w = MIN_WINDOW;
	while (w < MAX_WINDOW && w < x) w *= 2;
	return w;
}

/* Appends " NAME=VALUE" to p->settings. */
static void said(gf_mk_plan_t *p, const char *name, long long v)
{
	size_t n = strlen(p->settings);
	snprintf(p->settings + n, sizeof p->settings - n, "%s%s=%lld", n ? " " : "", name, v);
}

/* The options the data decide, where the user gave none: the schedule
 * always (a resumed run gets the steps it started with), the architecture
 * unless it comes from --resume or --init. What it sets counts as given. */
static void choose(gf_train_opts_t *o, int patience_given, gf_mk_plan_t *p)
{
	gf_arch_opts_t *a = &o->arch;
	gf_optim_opts_t *op = &o->optim;
#define UNSET(g, bit) (!((g) & GF_OPT_BIT(bit)))
#define SET(g, bit, field, v, name) ((g) |= GF_OPT_BIT(bit), said(p, name, (field) = (v)))
	if (p->short_records && !o->resume && !o->init) {
		/* overlapping k-mers would let masked-LM pre-training read a masked token off its neighbours */
		if (o->task == GF_TASK_CLASSIFY && UNSET(a->given, GF_AR_K) && UNSET(a->given, GF_AR_STRIDE)) {
			SET(a->given, GF_AR_K, a->k, SHORT_K, "k");
			SET(a->given, GF_AR_STRIDE, a->stride, SHORT_STRIDE, "stride");
		}
		int stride = a->given & GF_OPT_BIT(GF_AR_STRIDE) ? a->stride : a->k;
		if (UNSET(a->given, GF_AR_WINDOW))
			SET(a->given, GF_AR_WINDOW, a->window, pow2_at_least((p->p90_len - a->k) / stride + 1), "window");
		if (UNSET(a->given, GF_AR_LAYERS)) SET(a->given, GF_AR_LAYERS, a->layers, SHORT_LAYERS, "layers");
		if (UNSET(a->given, GF_AR_D_MODEL) && UNSET(a->given, GF_AR_HEADS) && UNSET(a->given, GF_AR_D_FF)) {
			SET(a->given, GF_AR_D_MODEL, a->d_model, SHORT_D_MODEL, "d_model");
			SET(a->given, GF_AR_HEADS, a->heads, SHORT_HEADS, "heads");
			SET(a->given, GF_AR_D_FF, a->d_ff, SHORT_D_FF, "d_ff");
		}
	}
	if (p->short_records) {
		if (UNSET(op->given, GF_OP_STEPS) && UNSET(op->given, GF_OP_EPOCHS)) {
			double s = ceil(SHORT_EPOCHS * (double)p->n_records / ((double)o->compute.batch * op->accum));
			SET(op->given, GF_OP_STEPS, op->steps, s < MIN_STEPS ? MIN_STEPS : s > MAX_STEPS ? MAX_STEPS : (int64_t)s,
			    "steps");
			if (UNSET(op->given, GF_OP_WARMUP) && op->warmup > op->steps / 5)
				SET(op->given, GF_OP_WARMUP, op->warmup, (int)(op->steps / 5), "warmup");
		}
		if (!patience_given) said(p, "patience", o->patience = SHORT_PATIENCE);
	}
#undef UNSET
#undef SET
	if (!p->settings[0])
		snprintf(p->settings, sizeof p->settings, "none (%s)",
		         !p->short_records ? "long records: the defaults" : o->resume ? "from --resume" : "all given");
}

gf_mk_plan_t *gf_mk_plan(gf_train_opts_t *o, int patience_given)
{
	gf_mk_plan_t *p = calloc(1, sizeof *p);
	size_t *lens = NULL;
	if (!p) return gf_error("out of memory"), NULL;
	if (scan(o, p, &lens)) {
		free(lens);
		free(p);
		return NULL;
	}
	if (p->n_records) {
		qsort(lens, p->n_records, sizeof *lens, cmp_size);
		p->median_len = (double)lens[p->n_records / 2];
		p->p90_len = (double)lens[p->n_records * 9 / 10];
	}
	free(lens);
	p->per_class = p->n_classes ? (double)p->n_records / p->n_classes : 0;
	p->short_records = p->n_records && p->median_len <= GF_MK_SHORT_LEN;
	p->kmer_head = o->task == GF_TASK_CLASSIFY && p->short_records;
	snprintf(p->data, sizeof p->data, "%zu records, median %.0f bp, 90th percentile %.0f bp, %d classes, %.1f records per class",
	         p->n_records, p->median_len, p->p90_len, p->n_classes, p->per_class);
	if (o->n_val_inputs) snprintf(p->split, sizeof p->split, "given (--val)");
	else if (o->val_frac <= 0) snprintf(p->split, sizeof p->split, "none (--val-frac 0)");
	else if (p->short_records || p->n_records >= MANY_RECORDS) {
		p->record_split = 1;
		snprintf(p->split, sizeof p->split,
		         "records: %s records; whole records held out, %.0f%% of each class of %d or more",
		         p->short_records ? "short" : "many", 100 * o->val_frac, GF_MK_MIN_SPLIT);
	} else
		snprintf(p->split, sizeof p->split, "tail: few long records; the last %.0f%% of every record held out",
		         100 * o->val_frac);
	choose(o, patience_given, p);
	return p;
}

void gf_mk_free(gf_mk_plan_t *p)
{
	free(p);
}

int gf_mk_stamp(const gf_mk_plan_t *p, gf_modelfile_t *mf)
{
	char err[GF_ERRLEN];
	gf_info("data: %s", p->data);
	gf_info("settings from the data: %s", p->settings);
	gf_info("validation split: %s", p->split);
	if (rf_ckpt_meta_set(&mf->meta, "auto.data", p->data, err, sizeof err) ||
	    rf_ckpt_meta_set(&mf->meta, "auto.settings", p->settings, err, sizeof err) ||
	    rf_ckpt_meta_set(&mf->meta, "auto.val_split", p->split, err, sizeof err)) {
		gf_error("%s", err);
		return -1;
	}
	return 0;
}

typedef struct {
	uint64_t h;
	size_t i;
} ranked_t;

static int cmp_ranked(const void *a, const void *b)
{
	const ranked_t *x = a, *y = b;
	return x->h != y->h ? (x->h < y->h ? -1 : 1) : (x->i > y->i) - (x->i < y->i);
}

size_t gf_mk_split_records(gf_dataset_t *ds, double frac, uint64_t seed)
{
	int nc = ds->n_classes > 0 ? ds->n_classes : 1;
	size_t held = 0;
	ranked_t *rk = malloc((ds->n + 1) * sizeof *rk);
	if (!rk) return 0;
	for (int c = 0; c < nc; c++) {
		size_t n = 0;
		for (size_t i = 0; i < ds->n; i++)
			if (ds->n_classes <= 0 || ds->rec[i].cls == c) {
				/* keyed by the bases: copies of a record (either strand) fall on one side */
				uint64_t h = gf_dataset_bases_hash(ds->rec[i].seq, ds->rec[i].len);
				rk[n++] = (ranked_t){ rf_mix64(seed ^ h), i };
			}
		size_t v = n < GF_MK_MIN_SPLIT ? 0 : (size_t)llround(frac * (double)n);
		if (v < 1 && n >= GF_MK_MIN_SPLIT) v = 1;
		qsort(rk, n, sizeof *rk, cmp_ranked);  /* the v records of smallest hash validate */
		while (v > 0 && v < n && rk[v].h == rk[v - 1].h) v++;
		for (size_t j = 0; j < n; j++) {
			gf_ds_record_t *r = &ds->rec[rk[j].i];
			ds->train_bases -= r->split;
			ds->val_bases -= r->len - r->split;
			r->split = j < v ? 0 : r->len;
			ds->train_bases += r->split;
			ds->val_bases += r->len - r->split;
		}
		held += v;
	}
	free(rk);
	return held;
}

/* The Reformer's logits of the first window of every record i with
 * split == 0 (held out) into logits[i * C]; -1 after a message. */
static int val_logits(gf_training_t *r, const size_t *val, size_t n_val, float *logits)
{
	char err[GF_ERRLEN];
	const int B = r->o->compute.batch, L = r->mf->window, C = r->mf->n_classes;
	int32_t *tok = malloc((size_t)B * L * sizeof *tok);
	uint8_t *mask = malloc((size_t)B * L);
	int rc = tok && mask ? 0 : -1;
	if (rc) gf_error("out of memory");
	for (size_t i = 0; rc == 0 && i < n_val; i += B) {
		int n = n_val - i < (size_t)B ? (int)(n_val - i) : B;
		memset(tok, 0, (size_t)n * L * sizeof *tok);
		memset(mask, 0, (size_t)n * L);
		for (int j = 0; j < n; j++) {
			const gf_ds_record_t *d = &r->ds.rec[val[i + j]];
			size_t m = gf_kmer_count(d->len, r->mf->k, r->mf->stride);
			m = m > (size_t)L ? (size_t)L : m;
			gf_kmer_tokenize_part(d->seq, d->len, r->mf->k, r->mf->stride, 0, m, tok + (size_t)j * L);
			memset(mask + (size_t)j * L, 1, m);
		}
		rf_batch_t b = { .tokens = tok, .mask = mask, .B = n, .L = L, .seed = (uint64_t)r->o->optim.seed };
		if (rf_model_forward(r->mf->model, &b, NULL, logits + i * C, err, sizeof err)) {
			gf_error("k-mer head: %s", err);
			rc = -1;
		}
	}
	free(tok);
	free(mask);
	return rc;
}

/* The k-mer head of the records whose training part is whole (train_only)
 * or of every record. */
static gf_kh_t *fit(const gf_dataset_t *ds, int train_only)
{
	gf_kh_rec_t *rec = malloc((ds->n + 1) * sizeof *rec);
	if (!rec) return NULL;
	for (size_t i = 0; i < ds->n; i++)
		rec[i] = (gf_kh_rec_t){ ds->rec[i].seq, ds->rec[i].len,
		                        train_only && ds->rec[i].split < ds->rec[i].len ? -1 : ds->rec[i].cls };
	gf_kh_t *kh = gf_kh_fit(rec, ds->n, ds->n_classes);
	free(rec);
	return kh;
}

/* The weight of the Reformer that classifies the held-out records best
 * (the smallest of the best); 0 without held-out records. */
static int pick_lambda(gf_training_t *r, float *lambda)
{
	const int C = r->mf->n_classes;
	size_t n_val = 0, *val = malloc((r->ds.n + 1) * sizeof *val);
	if (!val) return gf_error("out of memory"), -1;
	for (size_t i = 0; i < r->ds.n; i++)
		if (r->ds.rec[i].split == 0 && r->ds.rec[i].cls >= 0) val[n_val++] = i;
	*lambda = 0;
	if (!n_val) {
		free(val);
		gf_info("k-mer head: no held-out records; the Reformer's weight in it is 0");
		return 0;
	}
	float *logits = malloc(n_val * C * sizeof *logits), *out = malloc(C * sizeof *out);
	gf_kh_t *kh = fit(&r->ds, 1);
	int rc = logits && out && kh ? val_logits(r, val, n_val, logits) : (gf_error("out of memory"), -1);
	size_t best = 0;
	char line[256] = "";
	for (size_t l = 0; rc == 0 && l < sizeof LAMBDAS / sizeof *LAMBDAS; l++) {
		size_t right = 0;
		kh->lambda = LAMBDAS[l];
		for (size_t i = 0; i < n_val; i++) {
			const gf_ds_record_t *d = &r->ds.rec[val[i]];
			gf_kh_classify(kh, d->seq, d->len, logits + i * C, gf_kh_key(d->name), out);
			int top = 0;
			for (int c = 1; c < C; c++)
				if (out[c] > out[top]) top = c;
			right += top == d->cls;
		}
		size_t n = strlen(line);
		snprintf(line + n, sizeof line - n, "%s%g: %.3f", l ? ", " : "", (double)LAMBDAS[l], (double)right / n_val);
		if (l == 0 || right > best) best = right, *lambda = LAMBDAS[l];
	}
	if (rc == 0)
		gf_info("k-mer head: held-out accuracy by the Reformer's weight %s; weight %g", line, (double)*lambda);
	free(val);
	free(logits);
	free(out);
	gf_kh_free(kh);
	return rc;
}

int gf_mk_finish(gf_training_t *r)
{
	gf_mk_plan_t *p = r->mk;
	if (!p || !p->kmer_head || r->mf->n_classes < 2 || r->mf->n_classes > 65535) return 0;
	char err[GF_ERRLEN];
	float lambda;
	double t0 = gf_wall_seconds();
	if (pick_lambda(r, &lambda)) return -1;
	gf_kh_t *kh = fit(&r->ds, 0);
	char *text = kh ? (kh->lambda = lambda, gf_kh_format(kh)) : NULL;
	int rc = 0;
	if (!text) gf_error("out of memory for the k-mer head");
	else if (rf_ckpt_meta_set(&r->mf->meta, GF_KH_META, text, err, sizeof err)) gf_error("%s", err);
	else {
		char s[160];
		gf_kh_summary(text, s, sizeof s);
		gf_info("k-mer head on every record (%s), %.1f s", s, gf_wall_seconds() - t0);
		rc = 1;
	}
	free(text);
	gf_kh_free(kh);
	return rc == 1 ? 0 : -1;
}
