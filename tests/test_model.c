/* The Reformer model on the CPU backend: config validation, parameters,
 * finite-difference gradients of the whole model, reversibility, padding
 * and memory accounting. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/reformer.h"
#include "model/rng.h"
#include "tests/testutil.h"

/* ---- helpers ---------------------------------------------------------------- */

/* A tiny model: vocab 11, D 8, 2 heads, d_ff 16, axial 4 x 8, chunk 4. */
static rf_config_t tiny_config(const char *kinds, int n_layers)
{
	rf_config_t c;
	char err[256];
	rf_config_default(&c);
	c.vocab = 11;
	c.d_model = 8;
	c.n_heads = 2;
	c.d_ff = 16;
	c.n_layers = n_layers;
	ck_assert_int_eq(rf_config_set_layers(&c, kinds, err, sizeof err), 0);
	c.n_hashes = 2;
	c.n_buckets = 4;
	c.chunk_len = 4;
	c.ff_chunk = 5;
	c.axial1 = 4;
	c.axial2 = 8;
	c.axial_d1 = 3;
	c.dropout = 0.0f;
	c.n_classes = 3;
	c.mlm = 0;
	return c;
}

static rf_model_t *make_model(const rf_config_t *c)
{
	char err[256] = "";
	rf_model_t *m = rf_model_create(c, rf_backend_cpu(), err, sizeof err);
	ck_assert_msg(m != NULL, "rf_model_create: %s", err);
	return m;
}

/* Parameters of O(0.3) (LayerNorm weights near 1) so that every gradient is
 * well above the finite-difference noise. */
static void randomise_params(rf_model_t *m, uint64_t seed)
{
	size_t n = rf_model_n_params(m);
	float *p = malloc(n * sizeof *p);
	uint64_t key = rf_rng_key(seed, 0, -1, RF_RNG_DATA);
	for (int i = 0; i < rf_model_n_tensors(m); i++) {
		const rf_tensor_t *t = rf_model_tensor(m, i);
		int ln_w = t->ndim == 1 && strstr(t->name, "ln") && t->name[strlen(t->name) - 1] == 'w';
		for (size_t j = 0; j < t->numel; j++) {
			size_t k = t->offset + j;
			float z = rf_rng_normal(key, k);
			p[k] = ln_w ? 1.0f + 0.1f * z : t->ndim == 2 ? 0.3f * z : 0.1f * z;
		}
	}
	rf_model_set_params(m, p);
	free(p);
}

typedef struct {
	int32_t tokens[64];
	uint8_t mask[64];
	int32_t labels[4];
	int32_t mlm_pos[8], mlm_targets[8];
	rf_batch_t b;
} batch_buf_t;

/* B sequences of L tokens drawn from the vocabulary (1..vocab-1), the last
 * `masked` tokens of sequence 0 masked out; labels b % n_classes; with mlm,
 * n_mlm positions spread over all sequences. */
static void make_batch(batch_buf_t *bb, const rf_config_t *c, int B, int L, int masked, int n_mlm, uint64_t seed)
{
	memset(bb, 0, sizeof *bb);
	ck_assert(B * L <= 64 && B <= 4 && n_mlm <= 8);
	uint64_t key = rf_rng_key(seed, 1, -1, RF_RNG_DATA);
	for (int i = 0; i < B * L; i++) {
		bb->tokens[i] = 1 + (int32_t)(rf_rng_u64(key, i) % (uint64_t)(c->vocab - 1));
		bb->mask[i] = !(i < L && i >= L - masked);
	}
	for (int s = 0; s < B; s++) bb->labels[s] = s % (c->n_classes > 0 ? c->n_classes : 1);
	for (int i = 0; i < n_mlm; i++) {
		bb->mlm_pos[i] = (int32_t)((i * 7 + 3) % (B * L));
		bb->mlm_targets[i] = (int32_t)((i * 5 + 2) % c->vocab);
	}
	bb->b = (rf_batch_t){ .tokens = bb->tokens, .mask = bb->mask, .B = B, .L = L,
	                      .labels = c->n_classes > 0 ? bb->labels : NULL,
	                      .n_mlm = n_mlm, .mlm_pos = bb->mlm_pos, .mlm_targets = bb->mlm_targets,
	                      .seed = seed, .step = 3, .train = 1 };
}

static float loss_of(rf_model_t *m, const rf_batch_t *b)
{
	char err[256] = "";
	float loss = NAN;
	ck_assert_msg(rf_model_forward(m, b, &loss, NULL, err, sizeof err) == 0, "forward: %s", err);
	return loss;
}

/* Central differences of the loss w.r.t. 4 sampled elements of every
 * parameter tensor (first, last, two drawn) against the backward pass:
 * |numeric - analytic| <= atol + rtol |numeric|. h = 1e-2 on parameters of
 * O(0.3) keeps the truncation error ~1e-5 and the fp32 forward noise
 * (~1e-6 / 2h) ~5e-5; atol 2e-4 and rtol 2e-2 leave room above both. */
#define FD_H    1e-2f
#define FD_ATOL 2e-4
#define FD_RTOL 2e-2

static void check_gradients(const rf_config_t *c, batch_buf_t *bb)
{
	char err[256] = "";
	rf_model_t *m = make_model(c);
	randomise_params(m, 7);
	size_t n = rf_model_n_params(m);
	float *p = malloc(n * sizeof *p), *g = malloc(n * sizeof *g);
	float loss;
	rf_model_zero_grads(m);
	ck_assert_msg(rf_model_forward_backward(m, &bb->b, &loss, err, sizeof err) == 0, "fb: %s", err);
	ck_assert_msg(isfinite(loss) && loss > 0.0f, "loss %g", (double)loss);
	rf_model_get_grads(m, g);
	rf_model_get_params(m, p);
	rf_model_debug_freeze_buckets(m, 1);
	ck_assert_float_eq_tol(loss_of(m, &bb->b), loss, 1e-6f);
	double worst = 0.0;
	int checked = 0;
	for (int i = 0; i < rf_model_n_tensors(m); i++) {
		const rf_tensor_t *t = rf_model_tensor(m, i);
		size_t pick[4] = { 0, t->numel - 1, rf_rng_u64(i, 1) % t->numel, rf_rng_u64(i, 2) % t->numel };
		for (int k = 0; k < 4; k++) {
			size_t e = t->offset + pick[k];
			float x0 = p[e], xp = x0 + FD_H, xm = x0 - FD_H;
			p[e] = xp;
			rf_model_set_params(m, p);
			double lp = loss_of(m, &bb->b);
			p[e] = xm;
			rf_model_set_params(m, p);
			double lm = loss_of(m, &bb->b);
			p[e] = x0;
			double num = (lp - lm) / ((double)xp - (double)xm);
			double tol = FD_ATOL + FD_RTOL * fabs(num);
			ck_assert_msg(fabs(num - g[e]) <= tol, "%s[%zu]: analytic %.7g, numeric %.7g (h %g, atol %g, rtol %g)",
			              t->name, pick[k], (double)g[e], num, (double)FD_H, FD_ATOL, FD_RTOL);
			if (fabs(num - g[e]) / tol > worst) worst = fabs(num - g[e]) / tol;
			checked++;
		}
	}
	rf_model_set_params(m, p);
	fprintf(stderr, "[gradcheck] %d elements of %d tensors, worst error/tolerance %.3f\n", checked,
	        rf_model_n_tensors(m), worst);
	free(p);
	free(g);
	rf_model_free(m);
}

/* ---- config ------------------------------------------------------------------- */

START_TEST(config_rejects_heads_not_dividing_d_model)
{
	rf_config_t c;
	char err[256] = "";
	rf_config_default(&c);
	ck_assert_int_eq(rf_config_validate(&c, err, sizeof err), 0);
	c.n_heads = 3;
	ck_assert_int_eq(rf_config_validate(&c, err, sizeof err), -1);
	ck_assert_str_eq(err, "--heads 3 does not divide --d-model 256");
}
END_TEST

/* A backend like the CPU one whose attention takes heads of 8 features at most. */
static int narrow_attn(const rf_attn_shape_t *s, char *why, size_t whylen)
{
	if (s->dh <= 8) return 0;
	snprintf(why, whylen, "attention head width %d above 8", s->dh);
	return -1;
}

START_TEST(model_create_refuses_what_the_backend_cannot_run)
{
	rf_backend_t narrow = *rf_backend_cpu();
	narrow.name = "narrow";
	narrow.supports_attn = narrow_attn;
	rf_config_t c;
	char err[256] = "";
	rf_config_default(&c);
	c.d_model = 32;
	c.n_heads = 2;
	c.axial_d1 = 16;
	c.axial1 = c.axial2 = 8;
	ck_assert_ptr_null(rf_model_create(&c, &narrow, err, sizeof err));
	ck_assert_str_eq(err, "model: the narrow backend cannot run layer 0: attention head width 16 above 8 "
	                      "(d_model 32 / 2 heads)");
	c.n_heads = 4;
	rf_model_t *m = rf_model_create(&c, &narrow, err, sizeof err);
	ck_assert_msg(m != NULL, "%s", err);
	rf_model_free(m);
}
END_TEST

START_TEST(config_errors_name_the_option)
{
	static const struct { const char *field; int value; const char *option; } cases[] = {
		{ "vocab", 1, "--vocab" }, { "d_ff", 0, "--d-ff" }, { "n_layers", 0, "--layers" },
		{ "n_layers", RF_MAX_LAYERS + 1, "--layers" }, { "chunk_len", 0, "--chunk" },
		{ "n_buckets", 5, "--buckets" }, { "n_hashes", 0, "--hashes" }, { "ff_chunk", -1, "--ff-chunk" },
		{ "axial_d1", 256, "--axial-d1" }, { "n_classes", 1, "--classes" }, { "axial1", 0, "--axial" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		rf_config_t c;
		char err[256] = "";
		rf_config_default(&c);
		int *f = !strcmp(cases[i].field, "vocab") ? &c.vocab : !strcmp(cases[i].field, "d_ff") ? &c.d_ff
		       : !strcmp(cases[i].field, "n_layers") ? &c.n_layers : !strcmp(cases[i].field, "chunk_len") ? &c.chunk_len
		       : !strcmp(cases[i].field, "n_buckets") ? &c.n_buckets : !strcmp(cases[i].field, "n_hashes") ? &c.n_hashes
		       : !strcmp(cases[i].field, "ff_chunk") ? &c.ff_chunk : !strcmp(cases[i].field, "axial_d1") ? &c.axial_d1
		       : !strcmp(cases[i].field, "n_classes") ? &c.n_classes : &c.axial1;
		*f = cases[i].value;
		ck_assert_int_eq(rf_config_validate(&c, err, sizeof err), -1);
		ck_assert_msg(strncmp(err, cases[i].option, strlen(cases[i].option)) == 0 && !strchr(err, '\n'),
		              "%s = %d: message '%s' does not start with %s", cases[i].field, cases[i].value, err,
		              cases[i].option);
	}
	rf_config_t c;
	char err[256] = "";
	rf_config_default(&c);
	c.dropout = 1.0f;
	ck_assert_int_eq(rf_config_validate(&c, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "--dropout") == err, "%s", err);
	ck_assert_ptr_null(rf_model_create(&c, rf_backend_cpu(), err, sizeof err));
}
END_TEST

START_TEST(layer_pattern_cycles_over_layers)
{
	rf_config_t c;
	char err[256] = "";
	rf_config_default(&c);
	c.n_layers = 5;
	ck_assert_int_eq(rf_config_set_layers(&c, "local,lsh,full", err, sizeof err), 0);
	int want[5] = { RF_ATTN_LOCAL, RF_ATTN_LSH, RF_ATTN_FULL, RF_ATTN_LOCAL, RF_ATTN_LSH };
	for (int l = 0; l < 5; l++) ck_assert_int_eq(c.layer_kind[l], want[l]);
	ck_assert_int_eq(rf_config_set_layers(&c, "lsh,locl", err, sizeof err), -1);
	ck_assert_msg(strstr(err, "'locl'") != NULL, "%s", err);
	ck_assert_int_eq(rf_config_set_layers(&c, "", err, sizeof err), -1);
	ck_assert_str_eq(rf_attn_kind_name(RF_ATTN_LSH), "lsh");
}
END_TEST

START_TEST(padded_length_is_a_chunk_multiple_only_with_chunked_layers)
{
	rf_config_t c = tiny_config("local,lsh", 2);
	ck_assert_int_eq(rf_config_padded_len(&c, 10), 12);
	ck_assert_int_eq(rf_config_padded_len(&c, 12), 12);
	ck_assert_int_eq(rf_config_padded_len(&c, 1), 4);
	c = tiny_config("full", 2);
	ck_assert_int_eq(rf_config_padded_len(&c, 10), 10);
}
END_TEST

/* ---- parameters ------------------------------------------------------------------ */

START_TEST(tensors_follow_the_spec_order_and_init)
{
	rf_config_t c = tiny_config("local,lsh", 2);
	c.mlm = 1;
	rf_model_t *m = make_model(&c);
	static const char *const names[] = { "tok_emb", "pos1", "pos2", "layers.0.ln1.w", "layers.0.ln1.b",
		"layers.0.attn.w_qk", "layers.0.attn.w_v", "layers.0.attn.w_o", "layers.0.ln2.w", "layers.0.ln2.b",
		"layers.0.ff.w1", "layers.0.ff.b1", "layers.0.ff.w2", "layers.0.ff.b2" };
	ck_assert_int_eq(rf_model_n_tensors(m), 3 + 2 * 11 + 2 + 2 + 2);
	size_t off = 0;
	for (int i = 0; i < rf_model_n_tensors(m); i++) {
		const rf_tensor_t *t = rf_model_tensor(m, i);
		if (i < 14) ck_assert_str_eq(t->name, names[i]);
		ck_assert_uint_eq(t->offset, off);
		off += t->numel;
	}
	ck_assert_uint_eq(off, rf_model_n_params(m));
	const rf_tensor_t *pos2 = rf_model_find(m, "pos2"), *mlm = rf_model_find(m, "mlm.w");
	ck_assert_int_eq(pos2->shape[0], 8);
	ck_assert_int_eq(pos2->shape[1], 5);
	ck_assert_int_eq(mlm->shape[0], 16);
	ck_assert_int_eq(mlm->shape[1], 11);
	ck_assert_ptr_nonnull(rf_model_find(m, "cls.b"));
	ck_assert_ptr_null(rf_model_find(m, "layers.2.ln1.w"));

	rf_model_init(m, 42);
	float *p = malloc(rf_model_n_params(m) * sizeof *p);
	rf_model_get_params(m, p);
	uint64_t key = rf_rng_key(42, 0, -1, RF_RNG_INIT);
	const rf_tensor_t *wqk = rf_model_find(m, "layers.1.attn.w_qk");
	ck_assert_float_eq(p[wqk->offset + 5], 0.02f * rf_rng_normal(key, wqk->offset + 5));
	ck_assert_float_eq(p[rf_model_find(m, "layers.1.ln2.w")->offset + 3], 1.0f);
	ck_assert_float_eq(p[rf_model_find(m, "layers.1.ff.b1")->offset + 3], 0.0f);
	ck_assert_float_eq(p[rf_model_find(m, "ln_f.w")->offset + 15], 1.0f);
	free(p);
	rf_model_free(m);
}
END_TEST

/* ---- finite differences ---------------------------------------------------------- */

START_TEST(gradients_match_finite_differences_full_classifier_masked)
{
	rf_config_t c = tiny_config("full", 2);
	batch_buf_t bb;
	make_batch(&bb, &c, 2, 7, 2, 0, 11);
	check_gradients(&c, &bb);
}
END_TEST

START_TEST(gradients_match_finite_differences_local_mlm_padded)
{
	rf_config_t c = tiny_config("local", 2);
	c.n_classes = 0;
	c.mlm = 1;
	c.ff_chunk = 0;
	batch_buf_t bb;
	make_batch(&bb, &c, 2, 10, 1, 6, 12);   /* padded to 12 */
	check_gradients(&c, &bb);
}
END_TEST

START_TEST(gradients_match_finite_differences_lsh_causal_both_heads)
{
	rf_config_t c = tiny_config("lsh", 2);
	c.causal = 1;
	c.mlm = 1;
	c.ff_chunk = 24;   /* pooling pieces of two whole sequences */
	batch_buf_t bb;
	make_batch(&bb, &c, 3, 14, 3, 5, 13);   /* padded to 16: 4 chunks */
	check_gradients(&c, &bb);
}
END_TEST

START_TEST(gradients_match_finite_differences_mixed_with_dropout)
{
	rf_config_t c = tiny_config("local,lsh,full", 3);
	c.dropout = 0.1f;
	c.mlm = 1;
	batch_buf_t bb;
	make_batch(&bb, &c, 2, 15, 2, 4, 14);
	check_gradients(&c, &bb);
}
END_TEST

/* ---- reversibility --------------------------------------------------------------- */

static rf_config_t deep_config(int n_layers)
{
	rf_config_t c = tiny_config("local,lsh", n_layers);
	c.d_model = 16;
	c.d_ff = 32;
	c.axial_d1 = 6;
	c.chunk_len = 8;
	c.n_buckets = 0;
	c.ff_chunk = 20;
	return c;
}

START_TEST(reversible_backward_reconstructs_inputs_over_12_layers)
{
	rf_config_t c = deep_config(12);
	c.dropout = 0.1f;
	rf_model_t *m = make_model(&c);
	randomise_params(m, 3);
	batch_buf_t bb;
	make_batch(&bb, &c, 2, 30, 2, 0, 21);
	char err[256] = "";
	double e = rf_model_debug_reconstruction_error(m, &bb.b, err, sizeof err);
	fprintf(stderr, "[reversible] 12 layers: largest relative L2 reconstruction error %.3g\n", e);
	ck_assert_msg(e >= 0.0, "%s", err);
	/* fp32 rounding of each subtraction, amplified by the O(0.3) random weights
	 * through 12 layers: ~2e-5 measured; 1e-4 allowed */
	ck_assert_msg(e < 1e-4, "relative reconstruction error %g >= 1e-4", e);
	ck_assert_msg(e > 0.0, "reconstruction error exactly 0: the check did not run");
	rf_model_free(m);
}
END_TEST

START_TEST(reversible_gradients_equal_stored_activation_gradients)
{
	rf_config_t c = deep_config(12);
	c.dropout = 0.1f;
	c.mlm = 1;
	rf_model_t *m = make_model(&c);
	randomise_params(m, 4);
	batch_buf_t bb;
	make_batch(&bb, &c, 2, 30, 2, 6, 22);
	size_t n = rf_model_n_params(m);
	float *gr = malloc(n * sizeof *gr), *gs = malloc(n * sizeof *gs);
	float lr, ls;
	char err[256] = "";
	ck_assert_int_eq(rf_model_forward_backward(m, &bb.b, &lr, err, sizeof err), 0);
	rf_model_get_grads(m, gr);
	rf_model_zero_grads(m);
	rf_model_set_reversible(m, 0);
	ck_assert_int_eq(rf_model_forward_backward(m, &bb.b, &ls, err, sizeof err), 0);
	rf_model_get_grads(m, gs);
	ck_assert_float_eq(lr, ls);
	double gmax = 0.0;
	for (size_t i = 0; i < n; i++) gmax = fmax(gmax, fabs(gs[i]));
	/* only rounding of the reconstructed inputs differs: 1e-5 of the largest
	 * gradient absolute, 1e-3 relative */
	ck_assert_close_arr(gr, gs, n, 1e-5 * gmax, 1e-3);
	/* back to reversible: the stored inputs (12 layers x 2 x [64, 16]) are freed */
	size_t stored = rf_model_current_bytes(m);
	rf_model_set_reversible(m, 1);
	ck_assert_int_eq(rf_model_forward_backward(m, &bb.b, &lr, err, sizeof err), 0);
	ck_assert_uint_eq(stored - rf_model_current_bytes(m), 12 * 2 * 64 * 16 * sizeof(float));
	free(gr);
	free(gs);
	rf_model_free(m);
}
END_TEST

/* ---- padding and batching ---------------------------------------------------------- */

START_TEST(padding_tokens_do_not_change_real_outputs)
{
	rf_config_t c = tiny_config("local,lsh", 2);
	c.ff_chunk = 7;
	rf_model_t *m = make_model(&c);
	randomise_params(m, 5);
	batch_buf_t a, b;
	make_batch(&a, &c, 1, 10, 0, 0, 31);   /* padded to 12 by the model */
	make_batch(&b, &c, 1, 12, 0, 0, 31);
	memcpy(b.tokens, a.tokens, 10 * sizeof(int32_t));
	b.tokens[10] = 7;
	b.tokens[11] = 9;
	b.mask[10] = b.mask[11] = 0;
	a.b.train = b.b.train = 0;
	float pa[16], pb[16], ta[10 * 16], tb[12 * 16];
	char err[256] = "";
	ck_assert_int_eq(rf_model_embed(m, &a.b, pa, ta, err, sizeof err), 0);
	ck_assert_int_eq(rf_model_embed(m, &b.b, pb, tb, err, sizeof err), 0);
	ck_assert_close_arr(pa, pb, 16, 1e-6, 1e-5);
	ck_assert_close_arr(ta, tb, 10 * 16, 1e-6, 1e-5);
	/* and the pooled vector is the mean of the real per-token rows */
	for (int f = 0; f < 16; f++) {
		double s = 0.0;
		for (int j = 0; j < 10; j++) s += ta[j * 16 + f];
		ck_assert_double_eq_tol(pa[f], s / 10, 1e-5);
	}
	rf_model_free(m);
}
END_TEST

START_TEST(batched_sequences_are_independent)
{
	rf_config_t c = tiny_config("lsh,local", 2);
	c.mlm = 1;
	c.ff_chunk = 5;
	rf_model_t *m = make_model(&c);
	randomise_params(m, 6);
	batch_buf_t bb;
	make_batch(&bb, &c, 2, 10, 2, 0, 41);
	/* two masked-LM targets in each sequence, unpadded flat positions */
	int32_t pos[4] = { 1, 8, 10 + 0, 10 + 9 }, tgt[4] = { 3, 4, 5, 6 };
	bb.b.n_mlm = 4;
	bb.b.mlm_pos = pos;
	bb.b.mlm_targets = tgt;
	bb.b.labels = NULL;
	bb.b.train = 0;
	float logits[6], loss;
	char err[256] = "";
	ck_assert_int_eq(rf_model_forward(m, &bb.b, &loss, logits, err, sizeof err), 0);
	double sum = 0.0;
	for (int s = 0; s < 2; s++) {
		rf_batch_t one = bb.b;
		int32_t p1[2] = { pos[2 * s] - 10 * s, pos[2 * s + 1] - 10 * s };
		one.B = 1;
		one.tokens = bb.tokens + 10 * s;
		one.mask = bb.mask + 10 * s;
		one.n_mlm = 2;
		one.mlm_pos = p1;
		one.mlm_targets = tgt + 2 * s;
		float l1, lg[3];
		ck_assert_int_eq(rf_model_forward(m, &one, &l1, lg, err, sizeof err), 0);
		ck_assert_close_arr(lg, logits + 3 * s, 3, 1e-6, 1e-5);
		sum += l1;
	}
	ck_assert_double_eq_tol(loss, sum / 2, 1e-5);
	rf_model_free(m);
}
END_TEST

/* A packed batch (sequences of 3, 1, 4 and 3 tokens end to end, then
 * padding) gives every sequence the logits and pooled embedding it has
 * alone in a batch, bit for bit, for local+LSH layers (chunk 4: each is
 * FULL attention alone). */
static const int32_t PACK_SEG[5] = { 0, 3, 4, 8, 11 };

static void make_packed(batch_buf_t *bb, const rf_config_t *c, uint64_t seed)
{
	make_batch(bb, c, 1, 16, 0, 0, seed);
	bb->b.mask = NULL;
	bb->b.n_seg = 4;
	bb->b.seg = PACK_SEG;
	for (int i = 0; i < 4; i++) bb->labels[i] = (i + 1) % c->n_classes;
}

START_TEST(packed_sequences_equal_each_sequence_alone)
{
	rf_config_t c = tiny_config("local,lsh", 2);
	rf_model_t *m = make_model(&c);
	randomise_params(m, 8);
	batch_buf_t bb;
	make_packed(&bb, &c, 51);
	bb.b.train = 0;
	float logits[4 * 3], pooled[4 * 16], loss, one_l[3], one_p[16];
	char err[256] = "";
	ck_assert_msg(rf_model_forward(m, &bb.b, &loss, logits, err, sizeof err) == 0, "%s", err);
	ck_assert_msg(rf_model_embed(m, &bb.b, pooled, NULL, err, sizeof err) == 0, "%s", err);
	double sum = 0.0;
	for (int i = 0; i < 4; i++) {
		rf_batch_t one = { .tokens = bb.tokens + PACK_SEG[i], .B = 1, .L = PACK_SEG[i + 1] - PACK_SEG[i],
		                   .labels = bb.labels + i, .seed = bb.b.seed };
		float l1;
		ck_assert_msg(rf_model_forward(m, &one, &l1, one_l, err, sizeof err) == 0, "%s", err);
		ck_assert_msg(rf_model_embed(m, &one, one_p, NULL, err, sizeof err) == 0, "%s", err);
		ck_assert_msg(memcmp(one_l, logits + 3 * i, sizeof one_l) == 0, "logits of sequence %d", i);
		ck_assert_msg(memcmp(one_p, pooled + 16 * i, sizeof one_p) == 0, "pooled embedding of sequence %d", i);
		sum += l1;
	}
	ck_assert_double_eq_tol(loss, sum / 4, 1e-6);
	rf_model_free(m);
}
END_TEST

START_TEST(gradients_match_finite_differences_packed_classifier_mlm)
{
	rf_config_t c = tiny_config("lsh,full", 2);
	c.mlm = 1;
	c.ff_chunk = 6;   /* pieces of whole sequences: 3+1, 4, 3 */
	batch_buf_t bb;
	make_packed(&bb, &c, 52);
	int32_t pos[3] = { 1, 5, 10 }, tgt[3] = { 3, 4, 5 };
	bb.b.n_mlm = 3;
	bb.b.mlm_pos = pos;
	bb.b.mlm_targets = tgt;
	check_gradients(&c, &bb);
}
END_TEST

START_TEST(bad_packed_batches_are_rejected_with_a_message)
{
	rf_config_t c = tiny_config("local", 1);
	rf_model_t *m = make_model(&c);
	batch_buf_t bb;
	char err[256] = "";
	float logits[12];
	const int32_t too_long[3] = { 0, 5, 6 }, empty[3] = { 0, 2, 2 }, outside[3] = { 0, 2, 17 };
	const struct { const int32_t *seg; int masked; const char *says; } bad[] = {
		{ too_long, 0, "packed sequence of 5 tokens is longer than the 4" },
		{ empty, 0, "packed sequence 1 is empty" },
		{ outside, 0, "outside 1 x 16 tokens" },
		{ PACK_SEG, 1, "takes no mask" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		make_packed(&bb, &c, 53);
		bb.b.seg = bad[i].seg;
		bb.b.n_seg = bad[i].seg == PACK_SEG ? 4 : 2;
		if (bad[i].masked) bb.b.mask = bb.mask;
		ck_assert_int_eq(rf_model_forward(m, &bb.b, NULL, logits, err, sizeof err), -1);
		ck_assert_msg(strstr(err, bad[i].says), "case %zu: '%s'", i, err);
	}
	rf_model_free(m);
}
END_TEST

START_TEST(bad_batches_are_rejected_with_a_message)
{
	rf_config_t c = tiny_config("local", 1);
	rf_model_t *m = make_model(&c);
	batch_buf_t bb;
	char err[256] = "";
	float loss;
	make_batch(&bb, &c, 1, 40, 0, 0, 1);
	ck_assert_int_eq(rf_model_forward_backward(m, &bb.b, &loss, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "exceeds the 32 positions") != NULL, "%s", err);
	make_batch(&bb, &c, 1, 8, 0, 0, 1);
	bb.tokens[3] = 11;
	ck_assert_int_eq(rf_model_forward_backward(m, &bb.b, &loss, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "token 11 at sequence 0 position 3") != NULL, "%s", err);
	bb.tokens[3] = 1;
	bb.labels[0] = 3;
	ck_assert_int_eq(rf_model_forward_backward(m, &bb.b, &loss, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "label 3") != NULL, "%s", err);
	bb.b.labels = NULL;
	ck_assert_int_eq(rf_model_forward_backward(m, &bb.b, &loss, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "needs class labels or masked-LM targets") != NULL, "%s", err);
	rf_model_free(m);
}
END_TEST

/* ---- memory ------------------------------------------------------------------------ */

/* Arena peak of one training step on one sequence of L tokens. */
static size_t step_peak(const rf_config_t *c, int L, int reversible, size_t *param_bytes)
{
	rf_model_t *m = make_model(c);
	rf_model_set_reversible(m, reversible);
	int32_t *tok = malloc((size_t)L * sizeof *tok);
	for (int i = 0; i < L; i++) tok[i] = 1 + i % (c->vocab - 1);
	int32_t label = 1;
	rf_batch_t b = { .tokens = tok, .B = 1, .L = L, .labels = &label, .seed = 1, .step = 1, .train = 1 };
	char err[256] = "";
	float loss;
	ck_assert_msg(rf_model_forward_backward(m, &b, &loss, err, sizeof err) == 0, "%s", err);
	size_t peak = rf_model_peak_bytes(m);
	*param_bytes = 2 * rf_model_n_params(m) * sizeof(float);   /* params + grads */
	free(tok);
	rf_model_free(m);
	return peak;
}

static rf_config_t mem_config(int n_layers)
{
	rf_config_t c = deep_config(n_layers);
	c.d_model = 32;
	c.d_ff = 64;
	c.axial1 = 64;
	c.axial2 = 64;
	c.axial_d1 = 8;
	c.chunk_len = 32;
	c.n_buckets = 0;
	c.n_hashes = 2;
	c.ff_chunk = 128;
	c.n_classes = 2;
	return c;
}

START_TEST(reversible_activation_memory_does_not_grow_with_depth)
{
	int L = 1024;
	rf_config_t c2 = mem_config(2), c12 = mem_config(12);
	size_t pb2, pb12;
	size_t p2 = step_peak(&c2, L, 1, &pb2), p12 = step_peak(&c12, L, 1, &pb12);
	/* per LSH layer: its uint16 buckets [H, n_hashes, L] are kept */
	size_t buckets = (size_t)(6 - 1) * c2.n_heads * c2.n_hashes * L * sizeof(uint16_t);
	size_t act = (size_t)L * c2.d_model * sizeof(float);
	fprintf(stderr, "[memory] reversible L %d: 2 layers %zu B, 12 layers %zu B (params+grads +%zu B, buckets +%zu B)\n",
	        L, p2, p12, pb12 - pb2, buckets);
	ck_assert_uint_le(p12 - p2, pb12 - pb2 + buckets);
	/* and the buckets are a small fraction of one [L, D] activation per layer */
	ck_assert_uint_lt(buckets / 5, act / 4);

	size_t s2 = step_peak(&c2, L, 0, &pb2), s12 = step_peak(&c12, L, 0, &pb12);
	fprintf(stderr, "[memory] stored     L %d: 2 layers %zu B, 12 layers %zu B\n", L, s2, s12);
	ck_assert_uint_ge(s12 - s2, pb12 - pb2 + 10 * 2 * act);
}
END_TEST

START_TEST(lsh_memory_grows_linearly_with_length)
{
	rf_config_t c = mem_config(2);
	ck_assert_int_eq(rf_config_set_layers(&c, "lsh", NULL, 0), 0);
	size_t pb;
	size_t a = step_peak(&c, 2048, 1, &pb) - pb, b = step_peak(&c, 4096, 1, &pb) - pb;
	double r = (double)b / (double)a;
	fprintf(stderr, "[memory] LSH activations: L 2048 %zu B, L 4096 %zu B, ratio %.3f\n", a, b, r);
	ck_assert_msg(r > 1.7 && r < 2.3, "activation memory ratio %.3f for doubled L (want ~2)", r);
}
END_TEST

/* The estimate is computed from the same buffer sizes the model allocates,
 * so it should equal the arena peak of a fresh model's first call; 1% is
 * the tolerance stated by the resource-limit check (docs/bad-input.md). */
enum { TRAIN_CLS, TRAIN_MLM, CLASSIFY, EMBED };

static void check_estimate(rf_config_t c, int B, int L, int mode)
{
	char err[256] = "";
	rf_model_t *m = make_model(&c);
	int32_t *tok = malloc((size_t)B * L * sizeof *tok), *pos = malloc((size_t)B * L * sizeof *pos);
	int32_t *tgt = malloc((size_t)B * L * sizeof *tgt), labels[8] = { 0 };
	float *out = malloc((size_t)B * 2 * c.d_model * sizeof *out), loss;
	for (int i = 0; i < B * L; i++) tok[i] = 1 + i % (c.vocab - 1);
	rf_batch_t b = { .tokens = tok, .B = B, .L = L, .seed = 1, .step = 1, .train = mode <= TRAIN_MLM };
	int n_mlm = 0, rc;
	if (mode == TRAIN_MLM)
		for (int i = 0; i < B * L; i += 7) pos[n_mlm] = i, tgt[n_mlm++] = tok[i];
	b.n_mlm = n_mlm;
	b.mlm_pos = pos;
	b.mlm_targets = tgt;
	if (mode == TRAIN_CLS) b.labels = labels;
	if (mode <= TRAIN_MLM) rc = rf_model_forward_backward(m, &b, &loss, err, sizeof err);
	else if (mode == CLASSIFY) rc = rf_model_forward(m, &b, NULL, out, err, sizeof err);
	else rc = rf_model_embed(m, &b, out, NULL, err, sizeof err);
	ck_assert_msg(rc == 0, "%s", err);
	size_t peak = rf_model_peak_bytes(m);
	size_t est = rf_model_estimate_bytes(&c, rf_backend_cpu(), B, L, n_mlm, mode <= TRAIN_MLM);
	fprintf(stderr, "[memory] estimate mode %d B %d L %d: %zu B, peak %zu B\n", mode, B, L, est, peak);
	ck_assert_msg(fabs((double)est - (double)peak) <= 0.01 * (double)peak, "estimate %zu B, peak %zu B", est, peak);
	free(tok);
	free(pos);
	free(tgt);
	free(out);
	rf_model_free(m);
}

START_TEST(memory_estimate_matches_the_peak_of_a_real_step)
{
	rf_config_t c = mem_config(3), mlm = mem_config(2);
	ck_assert_int_eq(rf_config_set_layers(&c, "local,lsh,full", NULL, 0), 0);
	mlm.n_classes = 0;
	mlm.mlm = 1;
	check_estimate(c, 2, 1000, TRAIN_CLS);
	check_estimate(c, 3, 777, CLASSIFY);
	check_estimate(mlm, 2, 1000, TRAIN_MLM);
	check_estimate(mlm, 4, 500, EMBED);
}
END_TEST

START_TEST(memory_estimate_refuses_shapes_that_cannot_run)
{
	rf_config_t c = mem_config(2);
	/* axial 64 x 64 = 4096 positions */
	ck_assert_uint_eq(rf_model_estimate_bytes(&c, rf_backend_cpu(), 1, 5000, 0, 0), SIZE_MAX);
	ck_assert_uint_eq(rf_model_estimate_bytes(&c, rf_backend_cpu(), 0, 100, 0, 0), SIZE_MAX);
	ck_assert_uint_lt(rf_model_estimate_bytes(&c, rf_backend_cpu(), 1, 1000, 0, 0),
	                  rf_model_estimate_bytes(&c, rf_backend_cpu(), 1, 2000, 0, 0));
}
END_TEST

static Suite *model_suite(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_create("config");
	tcase_add_test(tc, config_rejects_heads_not_dividing_d_model);
	tcase_add_test(tc, model_create_refuses_what_the_backend_cannot_run);
	tcase_add_test(tc, config_errors_name_the_option);
	tcase_add_test(tc, layer_pattern_cycles_over_layers);
	tcase_add_test(tc, padded_length_is_a_chunk_multiple_only_with_chunked_layers);
	suite_add_tcase(s, tc);
	tc = tcase_create("model");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, tensors_follow_the_spec_order_and_init);
	tcase_add_test(tc, gradients_match_finite_differences_full_classifier_masked);
	tcase_add_test(tc, gradients_match_finite_differences_local_mlm_padded);
	tcase_add_test(tc, gradients_match_finite_differences_lsh_causal_both_heads);
	tcase_add_test(tc, gradients_match_finite_differences_mixed_with_dropout);
	tcase_add_test(tc, reversible_backward_reconstructs_inputs_over_12_layers);
	tcase_add_test(tc, reversible_gradients_equal_stored_activation_gradients);
	tcase_add_test(tc, padding_tokens_do_not_change_real_outputs);
	tcase_add_test(tc, batched_sequences_are_independent);
	tcase_add_test(tc, packed_sequences_equal_each_sequence_alone);
	tcase_add_test(tc, gradients_match_finite_differences_packed_classifier_mlm);
	tcase_add_test(tc, bad_packed_batches_are_rejected_with_a_message);
	tcase_add_test(tc, bad_batches_are_rejected_with_a_message);
	tcase_add_test(tc, reversible_activation_memory_does_not_grow_with_depth);
	tcase_add_test(tc, lsh_memory_grows_linearly_with_length);
	tcase_add_test(tc, memory_estimate_matches_the_peak_of_a_real_step);
	tcase_add_test(tc, memory_estimate_refuses_shapes_that_cannot_run);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(model_suite());
}
