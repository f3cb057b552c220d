/* The whole model against an independent PyTorch reference
 * (tests/reference/reformer_ref.py, CPU autograd): embeddings, every
 * attention kind, padding, causal masks, both heads, dropout, the loss and
 * the gradient of every parameter (reversible and stored-activation backward
 * passes), the evaluation outputs, and rf_model_init.
 *
 * llm.c's habit: the reference's results are committed state files,
 * tests/reference/state/NAME.state (parameters it chose, outputs, loss,
 * every gradient) beside NAME.case (config, batch, seeds: the inputs, as
 * this file writes them), so the suite needs no Python. It fails when a
 * state file is missing or when a case no longer matches its committed
 * .case (the case table changed: `make reference-state` writes them again,
 * running reformer_ref.py once). `make check-reference-live` compares with
 * PyTorch itself (test_reference --live; it fails without python3-torch).
 * Each test (in its forked child) loads the reference's parameters by name
 * into the C model, runs it and compares with what the reference wrote.
 *
 * Tolerances: |c - ref| <= atol + 1e-4 |ref| per element, atol = 1e-5 times
 * the largest |ref| of the tensor (fp32 model against an fp32 reference);
 * the initialisation must agree to 1e-6 relative. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/reformer.h"
#include "model/rng.h"
#include "tests/reftensor.h"
#include "tests/testutil.h"

#define REF_RTOL 1e-4
#define REF_ATOL_REL 1e-5
#define INIT_RTOL 1e-6
/* Smallest gap between the two best LSH rotation scores (relative to
 * |x| sqrt(dh)) for which fp32 rounding cannot flip a bucket. */
#define MIN_HASH_MARGIN 1e-5

typedef struct {
	const char *name;
	uint64_t seed;            /* data, parameters and RNG keys; chosen so that no LSH bucket is a near-tie */
	const char *layers;
	int n_layers, L, n_pad;   /* n_pad: mask-0 tokens at the end of the second sequence */
	int chunk_len, n_before, n_after, n_hashes, n_buckets, causal, ff_chunk;
	int n_classes, mlm;
	float dropout;            /* > 0: forward_backward trains with dropout */
} ref_case_t;

static const ref_case_t cases[] = {
	/* name           seed  layers       nl  L  pad chunk bef aft hash  nb caus ffc cls mlm drop */
	{ "full",         1000, "full",       2, 32,  5,  8,  1,  0,  2,   0,  0,  0,  3,  0, 0.0f },
	{ "local",        1001, "local",      2, 32,  0,  8,  1,  1,  2,   0,  0,  0,  3,  0, 0.0f },
	{ "lsh",          1042, "lsh",        2, 64,  0,  8,  1,  0,  2,   0,  0,  0,  3,  0, 0.0f },
	{ "lsh_causal",   1073, "lsh",        2, 64,  0,  8,  1,  0,  4,   0,  1,  0,  0,  1, 0.0f },
	{ "mixed_padded", 1004, "local,lsh",  4, 60,  9,  8,  1,  0,  3,   0,  0, 16,  3,  0, 0.0f },
	{ "mixed_causal", 1045, "local,lsh",  2, 45,  4,  8,  1,  1,  2,   0,  1,  8,  0,  1, 0.0f },
	{ "factorised",   1006, "lsh",        1, 64,  0,  4,  1,  0,  2, 512,  0,  0,  3,  0, 0.0f },
	{ "one_chunk",    1007, "lsh",        1, 16,  3, 16,  1,  0,  3,   0,  0,  0,  3,  0, 0.0f },
	{ "dropout",      1038, "local,lsh",  2, 32,  0,  8,  1,  0,  2,   0,  0,  8,  3,  1, 0.1f },
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])
#define REF_B 2
#define REF_N_MLM 6

/* The folder of the .case and .state files: the committed state, a fresh
 * temporary one (--live), or the one --write-state fills. */
static char statedir[512];
static char py_out[8192];
static int py_rc = -1, live;
/* Why the committed state cannot be used (every test fails with it), or "". */
static char state_error[1024];

static const char *python(void)
{
	const char *p = getenv("GF_PYTHON");
	return p ? p : "/usr/bin/python3";
}

static void case_path(char *buf, size_t len, const char *name, const char *ext)
{
	snprintf(buf, len, "%s/%s.%s", statedir, name, ext);
}

static void case_config(const ref_case_t *c, rf_config_t *cfg)
{
	char err[256];
	rf_config_default(cfg);
	cfg->vocab = 13;
	cfg->d_model = 16;
	cfg->n_heads = 2;
	cfg->d_ff = 24;
	cfg->n_layers = c->n_layers;
	if (rf_config_set_layers(cfg, c->layers, err, sizeof err)) {   /* also outside a test: no ck_assert */
		fprintf(stderr, "[test_reference] case %s: %s\n", c->name, err);
		exit(1);
	}
	cfg->n_hashes = c->n_hashes;
	cfg->n_buckets = c->n_buckets;
	cfg->chunk_len = c->chunk_len;
	cfg->n_before = c->n_before;
	cfg->n_after = c->n_after;
	cfg->ff_chunk = c->ff_chunk;
	cfg->axial1 = 8;
	cfg->axial2 = 16;
	cfg->axial_d1 = 6;
	cfg->causal = c->causal;
	cfg->dropout = c->dropout;
	cfg->n_classes = c->n_classes;
	cfg->mlm = c->mlm;
}

typedef struct {
	int32_t tokens[REF_B * 128], labels[REF_B], mlm_pos[REF_N_MLM], mlm_targets[REF_N_MLM];
	uint8_t mask[REF_B * 128];
	rf_batch_t b;
} case_batch_t;

/* Deterministic tokens, mask, labels and MLM targets of a case; the MLM
 * positions are real tokens of both sequences. */
static void case_batch(const ref_case_t *c, case_batch_t *d)
{
	uint64_t key = rf_rng_key(c->seed, 0, -1, RF_RNG_DATA);
	int L = c->L, V = 13;
	for (int i = 0; i < REF_B * L; i++) {
		int pad = i >= (REF_B - 1) * L + L - c->n_pad;
		d->mask[i] = !pad;
		d->tokens[i] = pad ? 0 : 1 + (int32_t)(rf_rng_u64(key, (uint64_t)i) % (uint64_t)(V - 1));
	}
	for (int b = 0; b < REF_B; b++)
		d->labels[b] = c->n_classes ? (int32_t)(rf_rng_u64(key, 1000u + (uint64_t)b) % (uint64_t)c->n_classes) : 0;
	for (int k = 0; k < REF_N_MLM; k++) {
		int b = k % REF_B, j = (k / REF_B) * (L - c->n_pad) / (REF_N_MLM / REF_B) + 1;
		d->mlm_pos[k] = b * L + j;
		d->mlm_targets[k] = (int32_t)(rf_rng_u64(key, 2000u + (uint64_t)k) % (uint64_t)V);
	}
	memset(&d->b, 0, sizeof d->b);
	d->b.tokens = d->tokens;
	d->b.mask = d->mask;
	d->b.B = REF_B;
	d->b.L = L;
	d->b.labels = c->n_classes ? d->labels : NULL;
	d->b.n_mlm = c->mlm ? REF_N_MLM : 0;
	d->b.mlm_pos = c->mlm ? d->mlm_pos : NULL;
	d->b.mlm_targets = c->mlm ? d->mlm_targets : NULL;
	d->b.seed = c->seed * 31;
	d->b.step = 3;
	d->b.train = c->dropout > 0;
}

static void add_i32(rt_file_t *f, const char *name, int v)
{
	int32_t x = v;
	rt_add_scalar(f, name, RT_I32, &x);
}

/* Writes the case's inputs to path; exits on a write error. */
static void write_case(const ref_case_t *c, const char *path)
{
	rf_config_t cfg;
	case_batch_t d;
	rt_file_t f = { 0 };
	char err[600];
	case_config(c, &cfg);
	case_batch(c, &d);
	const struct { const char *name; int v; } ints[] = {
		{ "cfg.vocab", cfg.vocab }, { "cfg.d_model", cfg.d_model }, { "cfg.n_heads", cfg.n_heads },
		{ "cfg.d_ff", cfg.d_ff }, { "cfg.n_layers", cfg.n_layers }, { "cfg.n_hashes", cfg.n_hashes },
		{ "cfg.n_buckets", cfg.n_buckets }, { "cfg.chunk_len", cfg.chunk_len },
		{ "cfg.n_before", cfg.n_before }, { "cfg.n_after", cfg.n_after }, { "cfg.ff_chunk", cfg.ff_chunk },
		{ "cfg.axial1", cfg.axial1 }, { "cfg.axial2", cfg.axial2 }, { "cfg.axial_d1", cfg.axial_d1 },
		{ "cfg.causal", cfg.causal }, { "cfg.n_classes", cfg.n_classes }, { "cfg.mlm", cfg.mlm },
	};
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) add_i32(&f, ints[i].name, ints[i].v);
	rt_add_1d(&f, "cfg.layer_kind", RT_I32, cfg.n_layers, cfg.layer_kind);
	rt_add_scalar(&f, "cfg.dropout", RT_F32, &cfg.dropout);
	int64_t dims[2] = { REF_B, c->L };
	rt_add(&f, "tokens", RT_I32, 2, dims, d.tokens);
	rt_add(&f, "mask", RT_U8, 2, dims, d.mask);
	if (d.b.labels) rt_add_1d(&f, "labels", RT_I32, REF_B, d.labels);
	if (d.b.n_mlm) {
		rt_add_1d(&f, "mlm_pos", RT_I32, REF_N_MLM, d.mlm_pos);
		rt_add_1d(&f, "mlm_targets", RT_I32, REF_N_MLM, d.mlm_targets);
	}
	uint64_t init_seed = c->seed + 7;
	uint8_t train = (uint8_t)d.b.train;
	rt_add_scalar(&f, "seed", RT_U64, &d.b.seed);
	rt_add_scalar(&f, "step", RT_U64, &d.b.step);
	rt_add_scalar(&f, "train", RT_U8, &train);
	rt_add_scalar(&f, "init_seed", RT_U64, &init_seed);
	if (rt_write(&f, path, err, sizeof err) != 0) {
		fprintf(stderr, "[test_reference] %s\n", err);
		exit(1);
	}
	rt_free(&f);
}

/* All case files into statedir, then one python run for all of them
 * (importing torch takes seconds); py_rc and py_out say how it went. */
static void run_reference(void)
{
	char cmd[8192], path[600];
	for (int i = 0; i < N_CASES; i++) {
		case_path(path, sizeof path, cases[i].name, "case");
		write_case(&cases[i], path);
	}
	int n = snprintf(cmd, sizeof cmd, "%s %s/tests/reference/reformer_ref.py --selftest %s/selftest.gfts",
	                 python(), tu_srcdir(), statedir);
	for (int i = 0; i < N_CASES; i++) {
		case_path(path, sizeof path, cases[i].name, "case");
		n += snprintf(cmd + n, sizeof cmd - (size_t)n, " %s", path);
		case_path(path, sizeof path, cases[i].name, "state");
		n += snprintf(cmd + n, sizeof cmd - (size_t)n, " %s", path);
	}
	snprintf(cmd + n, sizeof cmd - (size_t)n, " 2>&1");
	py_rc = tu_run(cmd, py_out, sizeof py_out);
}

/* Stores the state file at path in float32 (the comparisons' tolerances
 * are far above float32 rounding; the reference computes in float64): the
 * committed state is then half the size. Scalars stay as they are. */
static int shrink_state(const char *path)
{
	rt_file_t in = { 0 }, out = { 0 };
	char err[700];
	if (rt_read(&in, path, err, sizeof err)) {
		fprintf(stderr, "[test_reference] %s\n", err);
		return -1;
	}
	for (int i = 0; i < in.n; i++) {
		const rt_entry_t *e = &in.e[i];
		if (e->dtype != RT_F64 || e->ndim == 0) {
			rt_add(&out, e->name, e->dtype, e->ndim, e->dims, e->data);
			continue;
		}
		float *f = malloc((e->numel ? e->numel : 1) * sizeof *f);
		for (size_t j = 0; f && j < e->numel; j++) f[j] = (float)((const double *)e->data)[j];
		if (f) rt_add(&out, e->name, RT_F32, e->ndim, e->dims, f);
		free(f);
	}
	int rc = rt_write(&out, path, err, sizeof err);
	if (rc) fprintf(stderr, "[test_reference] %s\n", err);
	rt_free(&in);
	rt_free(&out);
	return rc;
}

/* Whether the file at path holds exactly len bytes of data. */
static int same_bytes(const char *path, const char *data, size_t len)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) return 0;
	char *buf = malloc(len + 1);
	size_t n = buf ? fread(buf, 1, len + 1, fp) : 0;
	int same = buf && n == len && memcmp(buf, data, len) == 0;
	free(buf);
	fclose(fp);
	return same;
}

/* The committed state: every file there, every .case as this file writes
 * it now; else state_error says what to do. */
static void check_committed_state(void)
{
	char path[600], fresh[600];
	snprintf(statedir, sizeof statedir, "%s/tests/reference/state", tu_srcdir());
	const char *t = getenv("TMPDIR");
	snprintf(fresh, sizeof fresh, "%s/gf_refcase_%d", t && *t ? t : "/tmp", (int)getpid());
	for (int i = 0; i < N_CASES && !state_error[0]; i++) {
		case_path(path, sizeof path, cases[i].name, "state");
		if (access(path, R_OK) != 0) {
			snprintf(state_error, sizeof state_error, "%s is missing: run 'make reference-state'", path);
			break;
		}
		write_case(&cases[i], fresh);
		FILE *fp = fopen(fresh, "rb");
		char *data = NULL;
		size_t len = 0;
		if (fp && fseek(fp, 0, SEEK_END) == 0 && (len = (size_t)ftell(fp)) > 0 && (data = malloc(len)) &&
		    fseek(fp, 0, SEEK_SET) == 0 && fread(data, 1, len, fp) == len) {
			case_path(path, sizeof path, cases[i].name, "case");
			if (!same_bytes(path, data, len))
				snprintf(state_error, sizeof state_error, "%s differs from case '%s' of this file (the case table "
				         "or the batch changed): run 'make reference-state'", path, cases[i].name);
		}
		free(data);
		if (fp) fclose(fp);
		unlink(fresh);
	}
	snprintf(path, sizeof path, "%s/selftest.gfts", statedir);
	if (!state_error[0] && access(path, R_OK) != 0)
		snprintf(state_error, sizeof state_error, "%s is missing: run 'make reference-state'", path);
}

/* Parent process, once: the committed state, or (--live) a run of the
 * reference into a temporary folder. */
static void reference_setup(void)
{
	char cmd[512];
	if (!live) {
		check_committed_state();
		return;
	}
	const char *t = getenv("TMPDIR");
	snprintf(statedir, sizeof statedir, "%s/gf_reference_XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(statedir)) {
		perror(statedir);
		exit(1);
	}
	snprintf(cmd, sizeof cmd, "%s -c 'import torch, numpy' 2>&1", python());
	if (tu_run(cmd, py_out, sizeof py_out) != 0) {
		snprintf(state_error, sizeof state_error, "--live: %s cannot import torch (install python3-torch)", python());
		return;
	}
	run_reference();
}

static void reference_teardown(void)
{
	char path[600];
	if (!live) return;
	for (int i = 0; i < N_CASES; i++) {
		case_path(path, sizeof path, cases[i].name, "case");
		unlink(path);
		case_path(path, sizeof path, cases[i].name, "state");
		unlink(path);
	}
	snprintf(path, sizeof path, "%s/selftest.gfts", statedir);
	unlink(path);
	rmdir(statedir);
}

/* The reference's results, or a failure quoting python's output. */
static void read_reference(rt_file_t *st, const char *file)
{
	char path[600], err[700];
	if (state_error[0]) ck_abort_msg("%s", state_error);
	snprintf(path, sizeof path, "%s/%s", statedir, file);
	if (rt_read(st, path, err, sizeof err) != 0)
		ck_abort_msg(live ? "%s (reformer_ref.py exit %d): %s" : "%s", err, py_rc, py_out);
}

static const rt_entry_t *need(const rt_file_t *st, const char *cas, const char *name)
{
	const rt_entry_t *e = rt_find(st, name);
	if (!e) ck_abort_msg("%s: reference state has no %s", cas, name);
	return e;
}

/* The comparisons of one case: the worst error / tolerance seen, and one
 * line per tensor that is out of tolerance, so that a failure names them all. */
typedef struct {
	const char *cas, *mode;
	const rt_file_t *st;
	double worst;
	int n_bad;
	char bad[3000];
} report_t;

/* Element-wise |got - ref| <= atol + rtol |ref| with atol = atol_rel * max |ref|;
 * notes the tensor's worst element in r when it is out of tolerance. */
static void compare(report_t *r, const char *name, const float *got, size_t n, double rtol, double atol_rel)
{
	const rt_entry_t *e = need(r->st, r->cas, name);
	if (e->numel != n) ck_abort_msg("%s: %s has %zu elements, reference %zu", r->cas, name, n, e->numel);
	double maxref = 0, worst = 0;
	size_t wi = 0;
	for (size_t i = 0; i < n; i++) maxref = fmax(maxref, fabs(rt_get(e, i)));
	double atol = atol_rel * maxref;
	for (size_t i = 0; i < n; i++) {
		double ref = rt_get(e, i), q = fabs(got[i] - ref) / (atol + rtol * fabs(ref) + 1e-300);
		if (!(q <= worst)) {
			worst = q;
			wi = i;
			if (isnan(q)) break;
		}
	}
	r->worst = isnan(worst) ? worst : fmax(r->worst, worst);
	if (worst <= 1.0) return;
	size_t len = strlen(r->bad);
	r->n_bad++;
	snprintf(r->bad + len, sizeof r->bad - len,
	         "\n  %s: %s[%zu] = %.9g, reference %.9g (|diff| %.3g > atol %.3g + rtol %g |ref|)", r->mode, name,
	         wi, (double)got[wi], rt_get(e, wi), fabs(got[wi] - rt_get(e, wi)), atol, rtol);
}

/* Every C tensor, in allocation order, is the reference's tensor of that
 * name and shape; fills host with the reference's parameters. */
static void load_params(rf_model_t *m, const rt_file_t *st, const char *cas, float *host)
{
	int k = 0;
	size_t offset = 0;
	for (int i = 0; i < st->n; i++) {
		const rt_entry_t *e = &st->e[i];
		if (strncmp(e->name, "params.", 7) != 0) continue;
		if (k >= rf_model_n_tensors(m)) ck_abort_msg("%s: model lacks %s", cas, e->name);
		const rf_tensor_t *t = rf_model_tensor(m, k++);
		if (strcmp(t->name, e->name + 7) != 0 || t->ndim != e->ndim || t->offset != offset)
			ck_abort_msg("%s: tensor %d is %s (offset %zu), spec order wants %s (offset %zu)", cas, k - 1,
			             t->name, t->offset, e->name + 7, offset);
		for (int d = 0; d < t->ndim; d++)
			if (t->shape[d] != e->dims[d])
				ck_abort_msg("%s: %s dimension %d is %lld, spec %lld", cas, t->name, d,
				             (long long)t->shape[d], (long long)e->dims[d]);
		memcpy(host + t->offset, e->data, e->numel * sizeof(float));
		offset += e->numel;
	}
	ck_assert_msg(k == rf_model_n_tensors(m) && offset == rf_model_n_params(m),
	              "%s: model has %d tensors / %zu floats, spec %d / %zu", cas, rf_model_n_tensors(m),
	              rf_model_n_params(m), k, offset);
}

/* Compares every tensor of host against the reference entries PREFIX.name. */
static void compare_tensors(report_t *r, rf_model_t *m, const char *prefix, const float *host, double rtol,
                            double atol_rel)
{
	char name[128];
	for (int i = 0; i < rf_model_n_tensors(m); i++) {
		const rf_tensor_t *t = rf_model_tensor(m, i);
		snprintf(name, sizeof name, "%s.%s", prefix, t->name);
		compare(r, name, host + t->offset, t->numel, rtol, atol_rel);
	}
}

static void check_case(const char *cas)
{
	const ref_case_t *c = NULL;
	for (int i = 0; i < N_CASES; i++)
		if (strcmp(cases[i].name, cas) == 0) c = &cases[i];
	ck_assert_msg(c != NULL, "no case %s", cas);
	char file[128], err[512];
	rt_file_t st = { 0 };
	snprintf(file, sizeof file, "%s.state", cas);
	read_reference(&st, file);

	rf_config_t cfg;
	case_batch_t d;
	case_config(c, &cfg);
	case_batch(c, &d);
	rf_model_t *m = rf_model_create(&cfg, rf_backend_cpu(), err, sizeof err);
	ck_assert_msg(m != NULL, "%s: %s", cas, err);
	size_t np = rf_model_n_params(m);
	float *host = malloc(np * sizeof *host), *grads = malloc(np * sizeof *grads);
	ck_assert(host && grads);

	report_t r = { .cas = cas, .mode = "rf_model_init", .st = &st };
	rf_model_init(m, c->seed + 7);
	rf_model_get_params(m, host);
	compare_tensors(&r, m, "init", host, INIT_RTOL, 1e-9);
	r.worst = 0;   /* the worst figure printed is that of the outputs and gradients */

	load_params(m, &st, cas, host);
	rf_model_set_params(m, host);
	float loss;
	/* Both backward passes: layer inputs reconstructed (default) and stored. */
	for (int reversible = 1; reversible >= 0; reversible--) {
		rf_model_set_reversible(m, reversible);
		rf_model_zero_grads(m);
		ck_assert_msg(rf_model_forward_backward(m, &d.b, &loss, err, sizeof err) == 0, "%s: %s", cas, err);
		rf_model_get_grads(m, grads);
		r.mode = reversible ? "reversible" : "stored activations";
		compare(&r, "loss", &loss, 1, REF_RTOL, 0);
		compare_tensors(&r, m, "grads", grads, REF_RTOL, REF_ATOL_REL);
	}
	r.mode = "evaluation";

	d.b.train = 0;
	float *logits = malloc((size_t)REF_B * (c->n_classes + 1) * sizeof *logits);
	float *pooled = malloc((size_t)REF_B * 2 * cfg.d_model * sizeof *pooled);
	float *per_token = malloc((size_t)REF_B * c->L * 2 * cfg.d_model * sizeof *per_token);
	ck_assert(logits && pooled && per_token);
	ck_assert_msg(rf_model_forward(m, &d.b, &loss, c->n_classes ? logits : NULL, err, sizeof err) == 0,
	              "%s: %s", cas, err);
	compare(&r, "eval_loss", &loss, 1, REF_RTOL, 0);
	if (c->n_classes) compare(&r, "logits", logits, (size_t)REF_B * c->n_classes, REF_RTOL, REF_ATOL_REL);
	ck_assert_msg(rf_model_embed(m, &d.b, pooled, per_token, err, sizeof err) == 0, "%s: %s", cas, err);
	compare(&r, "pooled", pooled, (size_t)REF_B * 2 * cfg.d_model, REF_RTOL, REF_ATOL_REL);
	compare(&r, "per_token", per_token, (size_t)REF_B * c->L * 2 * cfg.d_model, REF_RTOL, REF_ATOL_REL);
	double margin = rt_get(need(&st, cas, "hash_margin"), 0);
	printf("[test_reference] %-13s worst error / tolerance %.3f, hash margin %.3g\n", cas, r.worst, margin);
	if (r.n_bad)
		ck_abort_msg("%s: %d tensors out of tolerance (LSH hash margin %.3g):%s", cas, r.n_bad,
		             margin, r.bad);
	ck_assert_msg(margin >= MIN_HASH_MARGIN,
	              "%s: LSH hashing has a near-tie (margin %.3g < %g): choose another seed for the case",
	              cas, margin, MIN_HASH_MARGIN);

	free(logits);
	free(pooled);
	free(per_token);
	free(host);
	free(grads);
	rf_model_free(m);
	rt_free(&st);
}

/* One test per case, named for what it shows. */
#define CASE_TEST(fn, cas) START_TEST(fn) { check_case(cas); } END_TEST
CASE_TEST(full_attention_model_matches_reference, "full")
CASE_TEST(local_attention_model_matches_reference, "local")
CASE_TEST(lsh_attention_model_matches_reference, "lsh")
CASE_TEST(causal_lsh_with_four_hashes_and_mlm_head_matches_reference, "lsh_causal")
CASE_TEST(padded_local_lsh_stack_with_ff_chunks_matches_reference, "mixed_padded")
CASE_TEST(causal_padded_stack_with_mlm_head_matches_reference, "mixed_causal")
CASE_TEST(factorised_lsh_buckets_match_reference, "factorised")
CASE_TEST(lsh_within_one_chunk_matches_reference, "one_chunk")
CASE_TEST(training_dropout_matches_reference, "dropout")

START_TEST(reference_passes_its_self_checks)
{
	rt_file_t st = { 0 };
	read_reference(&st, "selftest.gfts");
	ck_assert_msg(st.n >= 8, "only %d self-checks ran: %s", st.n, py_out);
	for (int i = 0; i < st.n; i++)
		if (rt_get(&st.e[i], 0) != 1) ck_abort_msg("reformer_ref.py %s failed: %s", st.e[i].name, py_out);
	rt_free(&st);
}
END_TEST

START_TEST(tensor_file_round_trips_every_dtype)
{
	char path[600], err[700];
	float f[6] = { 1.5f, -2, 3, 4, 5, 6e-30f };
	int32_t i32 = -7;
	uint8_t u8[3] = { 0, 1, 255 };
	double f64 = 1.0 / 3;
	uint64_t u64 = 0xfedcba9876543210ULL;
	int64_t dims[2] = { 2, 3 };
	rt_file_t a = { 0 }, b = { 0 };
	rt_add(&a, "f", RT_F32, 2, dims, f);
	rt_add_scalar(&a, "i", RT_I32, &i32);
	rt_add_1d(&a, "u8", RT_U8, 3, u8);
	rt_add_scalar(&a, "d", RT_F64, &f64);
	rt_add_scalar(&a, "u64", RT_U64, &u64);
	rt_add_1d(&a, "empty", RT_F32, 0, f);
	const char *t = getenv("TMPDIR");
	snprintf(path, sizeof path, "%s/gf_roundtrip_%d.gfts", t && *t ? t : "/tmp", (int)getpid());
	ck_assert_msg(rt_write(&a, path, err, sizeof err) == 0, "%s", err);
	ck_assert_msg(rt_read(&b, path, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(b.n, a.n);
	for (int k = 0; k < a.n; k++) {
		ck_assert_str_eq(b.e[k].name, a.e[k].name);
		ck_assert_int_eq(b.e[k].dtype, a.e[k].dtype);
		ck_assert_int_eq(b.e[k].ndim, a.e[k].ndim);
		ck_assert_uint_eq(b.e[k].numel, a.e[k].numel);
		ck_assert(memcmp(b.e[k].data, a.e[k].data, a.e[k].numel * rt_dtype_size(a.e[k].dtype)) == 0);
	}
	ck_assert(*(uint64_t *)rt_find(&b, "u64")->data == u64);
	ck_assert_int_eq(rt_find(&b, "f")->dims[1], 3);
	ck_assert(rt_find(&b, "missing") == NULL);
	FILE *fp = fopen(path, "r+b");
	ck_assert(fp && fseek(fp, -1, SEEK_END) == 0);
	ck_assert(ftruncate(fileno(fp), ftell(fp)) == 0);
	fclose(fp);
	rt_free(&b);
	ck_assert_msg(rt_read(&b, path, err, sizeof err) != 0, "a truncated file reads");
	ck_assert_msg(strstr(err, "truncated") || strstr(err, "bad header"), "%s", err);
	unlink(path);
	rt_free(&a);
}
END_TEST

static Suite *reference_suite(void)
{
	Suite *s = suite_create("reference");
	TCase *tc = tcase_create("model_vs_pytorch");
	tcase_add_unchecked_fixture(tc, reference_setup, reference_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, full_attention_model_matches_reference);
	tcase_add_test(tc, local_attention_model_matches_reference);
	tcase_add_test(tc, lsh_attention_model_matches_reference);
	tcase_add_test(tc, causal_lsh_with_four_hashes_and_mlm_head_matches_reference);
	tcase_add_test(tc, padded_local_lsh_stack_with_ff_chunks_matches_reference);
	tcase_add_test(tc, causal_padded_stack_with_mlm_head_matches_reference);
	tcase_add_test(tc, factorised_lsh_buckets_match_reference);
	tcase_add_test(tc, lsh_within_one_chunk_matches_reference);
	tcase_add_test(tc, training_dropout_matches_reference);
	tcase_add_test(tc, reference_passes_its_self_checks);
	tcase_add_test(tc, tensor_file_round_trips_every_dtype);
	suite_add_tcase(s, tc);
	return s;
}

/* test_reference: against the committed state. --live: against a run of
 * reformer_ref.py now. --write-state DIR: writes the cases and the
 * reference's state files into DIR (make reference-state) and exits with
 * python's status. */
int main(int argc, char *argv[])
{
	if (argc == 3 && !strcmp(argv[1], "--write-state")) {
		char path[600];
		snprintf(statedir, sizeof statedir, "%s", argv[2]);
		run_reference();
		fputs(py_out, stderr);
		for (int i = 0; py_rc == 0 && i < N_CASES; i++) {
			case_path(path, sizeof path, cases[i].name, "state");
			if (shrink_state(path)) return 1;
		}
		return py_rc;
	}
	live = argc == 2 && !strcmp(argv[1], "--live");
	if (argc > 1 && !live) {
		fprintf(stderr, "usage: test_reference [--live | --write-state DIR]\n");
		return 2;
	}
	return tu_run_suite(reference_suite());
}
