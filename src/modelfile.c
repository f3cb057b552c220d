/* Model files: checkpoint + tokenizer/window/classes metadata; see modelfile.h. */
#include "src/modelfile.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "genomics/kmer.h"
#include "model/util.h"
#include "src/common.h"
#include "src/log.h"

/* "PATH: message" into err; returns NULL so loaders can `return fail(...)`. */
__attribute__((format(printf, 4, 5)))
static void *fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (err && errlen) snprintf(err, errlen, "%s: %s", path, msg);
	return NULL;
}

void gf_modelfile_free(gf_modelfile_t *mf)
{
	if (!mf) return;
	for (int c = 0; c < mf->n_classes; c++) free(mf->classes[c]);
	free(mf->classes);
	rf_model_free(mf->model);
	rf_ckpt_meta_free(&mf->meta);
	free(mf);
}

/* Copies n class names; -1 when out of memory. */
static int set_classes(gf_modelfile_t *mf, int n, const char *const *names)
{
	if (n > 0 && !(mf->classes = calloc(n, sizeof *mf->classes))) return -1;
	for (mf->n_classes = 0; mf->n_classes < n; mf->n_classes++)
		if (!(mf->classes[mf->n_classes] = strdup(names[mf->n_classes]))) return -1;
	return 0;
}

gf_modelfile_t *gf_modelfile_new(const rf_config_t *cfg, int k, int stride, int window, int n_classes,
                                 const char *const *classes, const rf_backend_t *be, char *err, size_t errlen)
{
	gf_modelfile_t *mf = calloc(1, sizeof *mf);
	if (!mf) return fail(err, errlen, "model", "out of memory");
	rf_ckpt_meta_init(&mf->meta);
	mf->cfg = *cfg;
	mf->k = k;
	mf->stride = stride;
	mf->window = window;
	if (set_classes(mf, n_classes, classes)) {
		gf_modelfile_free(mf);
		return fail(err, errlen, "model", "out of memory");
	}
	if (!(mf->model = rf_model_create(cfg, be, err, errlen))) {
		gf_modelfile_free(mf);
		return NULL;
	}
	return mf;
}

/* Integer metadata value in [lo, hi]; -1 with a message naming the key. */
static int meta_int(const rf_ckpt_t *ck, const char *key, long lo, long hi, int *out, char *err, size_t errlen)
{
	const char *s = rf_ckpt_meta_get(&ck->meta, key);
	char *end, shown[96];
	if (!s) {
		fail(err, errlen, ck->path, "not a genoformer model file: metadata '%s' missing", key);
		return -1;
	}
	long v = strtol(s, &end, 10);
	if (!*s || *end || v < lo || v > hi) {
		fail(err, errlen, ck->path, "metadata '%s' = '%s': expects an integer in %ld..%ld", key,
		     rf_printable(s, 64, shown, sizeof shown), lo, hi);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* Splits "classes" into names: as many as the classifier head has, non-empty,
 * strictly increasing in strcmp order (the ids are their ranks). */
static int read_classes(gf_modelfile_t *mf, const rf_ckpt_t *ck, char *err, size_t errlen)
{
	const char *s = rf_ckpt_meta_get(&ck->meta, "classes");
	int n = 1;
	if (ck->cfg.n_classes == 0) return 0;
	if (!s) return fail(err, errlen, ck->path, "classifier without metadata 'classes'"), -1;
	for (const char *p = s; *p; p++) n += *p == '\n';
	if (n != ck->cfg.n_classes)
		return fail(err, errlen, ck->path, "metadata 'classes' names %d classes, the classifier has %d",
		            n, ck->cfg.n_classes), -1;
	if (!(mf->classes = calloc(n, sizeof *mf->classes))) return fail(err, errlen, ck->path, "out of memory"), -1;
	for (const char *p = s; mf->n_classes < n; p += strcspn(p, "\n") + 1) {
		char *name = mf->classes[mf->n_classes++] = strndup(p, strcspn(p, "\n"));
		if (!name) return fail(err, errlen, ck->path, "out of memory"), -1;
		if (!*name) return fail(err, errlen, ck->path, "metadata 'classes': class %d has an empty name", mf->n_classes - 1), -1;
		char a[96], b[96];
		if (mf->n_classes > 1 && strcmp(mf->classes[mf->n_classes - 2], name) >= 0)
			return fail(err, errlen, ck->path, "metadata 'classes': '%s' and '%s' are not in sorted order",
			            rf_printable(mf->classes[mf->n_classes - 2], 64, a, sizeof a),
			            rf_printable(name, 64, b, sizeof b)), -1;
	}
	return 0;
}

/* Tokenizer and window from the metadata, checked against the config. */
static int read_tokenizer(gf_modelfile_t *mf, const rf_ckpt_t *ck, char *err, size_t errlen)
{
	char msg[256];
	if (meta_int(ck, "tokenizer.k", 1, GF_KMER_MAX_K, &mf->k, err, errlen) ||
	    meta_int(ck, "tokenizer.stride", 1, GF_KMER_MAX_K, &mf->stride, err, errlen) ||
	    meta_int(ck, "window", 1, INT_MAX, &mf->window, err, errlen))
		return -1;
	if (gf_kmer_check(mf->k, mf->stride, msg, sizeof msg)) return fail(err, errlen, ck->path, "%s", msg), -1;
	if (ck->cfg.vocab != gf_kmer_vocab_size(mf->k))
		return fail(err, errlen, ck->path, "vocabulary of %d tokens does not match k=%d (%d tokens)",
		            ck->cfg.vocab, mf->k, gf_kmer_vocab_size(mf->k)), -1;
	if ((int64_t)mf->window > (int64_t)ck->cfg.axial1 * ck->cfg.axial2)
		return fail(err, errlen, ck->path, "window of %d tokens exceeds the %d positions of the model",
		            mf->window, ck->cfg.axial1 * ck->cfg.axial2), -1;
	return 0;
}

/* The first weight of host (the model's parameters) that is not finite, or
 * whose magnitude exceeds bound: -1 with "tensor 'X' holds NaN at index i"
 * in why; 0 when all are sane. */
static int insane_weight(const rf_model_t *m, const float *host, float bound, char *why, size_t whylen)
{
	for (int i = 0; i < rf_model_n_tensors(m); i++) {
		const rf_tensor_t *t = rf_model_tensor(m, i);
		for (size_t j = 0; j < t->numel; j++) {
			float x = host[t->offset + j];
			if (isfinite(x) && fabsf(x) <= bound) continue;
			if (isnan(x)) snprintf(why, whylen, "tensor '%s' holds NaN at index %zu", t->name, j);
			else snprintf(why, whylen, "tensor '%s' holds %.3g at index %zu", t->name, (double)x, j);
			return -1;
		}
	}
	return 0;
}

/* Every model tensor from the file, shapes checked, and no tensor the model
 * lacks, every weight finite (a CRC only says the bytes are those written:
 * a diverged run's NaN would classify as "probability nan"); then uploaded
 * to the backend. */
static int read_params(gf_modelfile_t *mf, const rf_ckpt_t *ck, char *err, size_t errlen)
{
	rf_model_t *m = mf->model;
	size_t n = rf_model_n_params(m);
	float *host = malloc(n * sizeof *host);
	if (!host) return fail(err, errlen, ck->path, "out of memory for %zu parameters", n), -1;
	for (int i = 0; i < rf_model_n_tensors(m); i++) {
		const rf_tensor_t *t = rf_model_tensor(m, i);
		const rf_ckpt_tensor_t *f = rf_ckpt_expect(ck, t->name, t->ndim, t->shape, err, errlen);
		if (!f) {
			free(host);
			return -1;
		}
		memcpy(host + t->offset, f->data, t->numel * sizeof *host);
	}
	for (int i = 0; i < ck->n_tensors; i++)
		if (!rf_model_find(m, ck->tensors[i].name)) {
			free(host);
			return fail(err, errlen, ck->path, "tensor '%s' is not part of the model its config describes",
			            ck->tensors[i].name), -1;
		}
	char why[160];
	if (insane_weight(m, host, INFINITY, why, sizeof why)) {
		free(host);
		return fail(err, errlen, ck->path, "%s: the model diverged in training and cannot be used", why), -1;
	}
	rf_model_set_params(m, host);
	free(host);
	return 0;
}

static int copy_meta(rf_ckpt_meta_t *dst, const rf_ckpt_meta_t *src, char *err, size_t errlen)
{
	for (int i = 0; i < src->n; i++)
		if (rf_ckpt_meta_set(dst, src->key[i], src->val[i], err, errlen)) return -1;
	return 0;
}

/* The model file of an already read checkpoint. */
static gf_modelfile_t *from_ckpt(const rf_ckpt_t *ck, const rf_backend_t *be, char *err, size_t errlen)
{
	char msg[512];
	gf_modelfile_t *mf = calloc(1, sizeof *mf);
	if (!mf) return fail(err, errlen, ck->path, "out of memory");
	rf_ckpt_meta_init(&mf->meta);
	mf->cfg = ck->cfg;
	if (read_tokenizer(mf, ck, err, errlen) || read_classes(mf, ck, err, errlen) ||
	    copy_meta(&mf->meta, &ck->meta, err, errlen)) {
		gf_modelfile_free(mf);
		return NULL;
	}
	if (!(mf->model = rf_model_create(&ck->cfg, be, msg, sizeof msg))) {
		gf_modelfile_free(mf);
		return fail(err, errlen, ck->path, "%s", msg);
	}
	if (read_params(mf, ck, err, errlen)) {
		gf_modelfile_free(mf);
		return NULL;
	}
	return mf;
}

gf_modelfile_t *gf_modelfile_load(const char *path, const rf_backend_t *be, char *err, size_t errlen)
{
	rf_ckpt_t *ck = rf_ckpt_read(path, err, errlen);
	if (!ck) return NULL;
	gf_modelfile_t *mf = from_ckpt(ck, be, err, errlen);
	rf_ckpt_free(ck);
	return mf;
}

gf_modelfile_t *gf_modelfile_load_train(const char *path, const rf_backend_t *be, const rf_optim_config_t *oc,
                                        rf_optim_t **opt, uint64_t *step, uint64_t *seed, char *err, size_t errlen)
{
	char msg[512];
	*opt = NULL;
	rf_ckpt_t *ck = rf_ckpt_read(path, err, errlen);
	if (!ck) return NULL;
	gf_modelfile_t *mf = NULL;
	if (!ck->has_train)
		fail(err, errlen, path, "a model file, not a training checkpoint (no optimizer state)");
	else if ((mf = from_ckpt(ck, be, err, errlen)) && ck->train.n != rf_model_n_params(mf->model))
		fail(err, errlen, path, "optimizer state holds %zu values, the model has %zu parameters",
		     ck->train.n, rf_model_n_params(mf->model));
	else if (mf && !(*opt = rf_optim_create(mf->model, oc, msg, sizeof msg)))
		fail(err, errlen, path, "%s", msg);
	if (*opt) {
		rf_optim_set_state(*opt, ck->train.m, ck->train.v);
		rf_optim_set_steps(*opt, (int64_t)ck->train.step);
		*step = ck->train.step;
		*seed = ck->train.seed;
	} else {
		gf_modelfile_free(mf);
		mf = NULL;
	}
	rf_ckpt_free(ck);
	return mf;
}

/* The metadata to write: mf's own plus the keys that describe the file. */
static int save_meta(rf_ckpt_meta_t *meta, const gf_modelfile_t *mf, uint64_t step, char *err, size_t errlen)
{
	char num[32];
	size_t len = 1;
	for (int c = 0; c < mf->n_classes; c++) {
		if (strchr(mf->classes[c], '\n'))
			return fail(err, errlen, "model", "class name '%s' holds a newline", mf->classes[c]), -1;
		len += strlen(mf->classes[c]) + 1;
	}
	char *classes = malloc(len);
	if (!classes) return fail(err, errlen, "model", "out of memory"), -1;
	classes[0] = 0;
	for (int c = 0, n = 0; c < mf->n_classes; c++)
		n += sprintf(classes + n, "%s%s", c ? "\n" : "", mf->classes[c]);
	int rc = copy_meta(meta, &mf->meta, err, errlen);
#define SET(key, val) (rc = rc ? rc : rf_ckpt_meta_set(meta, key, val, err, errlen))
	snprintf(num, sizeof num, "%d", mf->k);
	SET("tokenizer.k", num);
	snprintf(num, sizeof num, "%d", mf->stride);
	SET("tokenizer.stride", num);
	snprintf(num, sizeof num, "%d", mf->window);
	SET("window", num);
	SET("classes", classes);
	SET("task", rf_model_config(mf->model)->n_classes > 0 ? "classify" : "mlm");
	SET("version", GF_VERSION);
	snprintf(num, sizeof num, "%llu", (unsigned long long)step);
	SET("train.steps", num);
#undef SET
	free(classes);
	return rc;
}

int gf_modelfile_save(const char *path, const gf_modelfile_t *mf, const rf_optim_t *opt_or_null,
                      uint64_t step, uint64_t seed, char *err, size_t errlen)
{
	rf_model_t *m = mf->model;
	const rf_config_t *cfg = rf_model_config(m);
	size_t n = rf_model_n_params(m);
	int nt = rf_model_n_tensors(m), rc = -1;
	char why[160];
	rf_ckpt_meta_t meta;
	rf_ckpt_meta_init(&meta);
	float *host = malloc(n * sizeof *host * (opt_or_null ? 3 : 1));
	rf_ckpt_tensor_t *t = calloc(nt, sizeof *t);
	if (cfg->n_classes != mf->n_classes)
		fail(err, errlen, path, "%d class names for a classifier of %d classes", mf->n_classes, cfg->n_classes);
	else if (!host || !t)
		fail(err, errlen, path, "out of memory");
	else if (rf_model_get_params(m, host), insane_weight(m, host, GF_WEIGHT_BOUND, why, sizeof why))
		fail(err, errlen, path, "not written: %s (beyond %g: training diverged)", why, (double)GF_WEIGHT_BOUND);
	else if (save_meta(&meta, mf, step, err, errlen) == 0) {
		for (int i = 0; i < nt; i++) {
			const rf_tensor_t *mt = rf_model_tensor(m, i);
			snprintf(t[i].name, sizeof t[i].name, "%s", mt->name);
			t[i].ndim = mt->ndim;
			memcpy(t[i].shape, mt->shape, sizeof t[i].shape);
			t[i].data = host + mt->offset;
		}
		rf_ckpt_train_t tr = { .step = step, .seed = seed, .n = n, .m = host + n, .v = host + 2 * n };
		if (opt_or_null) rf_optim_get_state(opt_or_null, host + n, host + 2 * n);
		rc = rf_ckpt_write(path, cfg, &meta, t, nt, opt_or_null ? &tr : NULL, err, errlen);
	}
	rf_ckpt_meta_free(&meta);
	free(host);
	free(t);
	return rc;
}

void gf_modelfile_stamp(gf_modelfile_t *mf, int argc, char **argv, const char *cmd_key, const char *at_key)
{
	char line[4096] = "genoformer", err[256], when[64];
	size_t n = strlen(line);
	for (int i = 0; i < argc && n + 1 < sizeof line; i++)
		n += snprintf(line + n, sizeof line - n, " %s", argv[i]);
	time_t t = time(NULL);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	rf_ckpt_meta_set(&mf->meta, cmd_key, line, err, sizeof err);
	rf_ckpt_meta_set(&mf->meta, at_key, when, err, sizeof err);
}
