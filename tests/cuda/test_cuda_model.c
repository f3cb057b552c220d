/* The whole model on CUDA against the CPU backend: one training step (loss
 * and every parameter gradient) for LOCAL, LSH and FULL layers with padding,
 * dropout, classifier and masked-LM heads, then a few AdamW steps that must
 * keep both copies of the model in agreement. fp32 cuBLAS math; CUDA starts
 * inside each test (Check forks). */
#include <stdint.h>

#include "model/config.h"
#include "model/cuda/cuda.h"
#include "model/optim.h"
#include "model/reformer.h"
#include "model/rng.h"
#include "tests/cuda/cudautil.h"
#include "tests/testutil.h"

enum { B = 2, L = 45, N_MLM = 6 };

/* Small but complete: three layers (local, lsh, full), 2 heads of 16, LSH
 * with 2 rounds of 8 buckets, chunk 8 (L 45 pads to 48), dropout 0.1. */
static rf_config_t small_config(void)
{
	rf_config_t c;
	char err[256];
	rf_config_default(&c);
	c.vocab = 23;
	c.d_model = 32;
	c.n_heads = 2;
	c.d_ff = 48;
	c.n_layers = 3;
	ck_assert_int_eq(rf_config_set_layers(&c, "local,lsh,full", err, sizeof err), 0);
	c.n_hashes = 2;
	c.n_buckets = 8;
	c.chunk_len = 8;
	c.ff_chunk = 20;
	c.axial1 = 8;
	c.axial2 = 8;
	c.axial_d1 = 12;
	c.dropout = 0.1f;
	c.n_classes = 3;
	c.mlm = 1;
	ck_assert_msg(rf_config_validate(&c, err, sizeof err) == 0, "%s", err);
	return c;
}

typedef struct {
	int32_t tokens[B * L], labels[B], mlm_pos[N_MLM], mlm_targets[N_MLM];
	uint8_t mask[B * L];
	rf_batch_t b;
} batch_t;

/* Sequence 1 ends in 9 padding tokens; labels and masked-LM targets fixed. */
static void make_batch(batch_t *bb, const rf_config_t *c, uint64_t step)
{
	uint64_t key = rf_rng_key(5, step, -1, RF_RNG_DATA);
	for (int i = 0; i < B * L; i++) {
		bb->tokens[i] = 1 + (int32_t)(rf_rng_u64(key, i) % (uint64_t)(c->vocab - 1));
		bb->mask[i] = !(i >= 2 * L - 9);
	}
	for (int s = 0; s < B; s++) bb->labels[s] = (int32_t)((s + step) % c->n_classes);
	for (int i = 0; i < N_MLM; i++) {
		bb->mlm_pos[i] = (int32_t)((i * 13 + 2) % (2 * L - 9));
		bb->mlm_targets[i] = (int32_t)((i * 5 + 1) % c->vocab);
	}
	bb->b = (rf_batch_t){ .tokens = bb->tokens, .mask = bb->mask, .B = B, .L = L,
	                      .labels = bb->labels, .n_mlm = N_MLM, .mlm_pos = bb->mlm_pos,
	                      .mlm_targets = bb->mlm_targets, .seed = 11, .step = step, .train = 1 };
}

static rf_model_t *make_model(const rf_config_t *c, const rf_backend_t *be)
{
	char err[256];
	rf_model_t *m = rf_model_create(c, be, err, sizeof err);
	if (!m) ck_abort_msg("%s: %s", be->name, err);
	rf_model_init(m, 3);
	return m;
}

static float *host_floats(size_t n)
{
	float *x = calloc(n, sizeof(float));
	ck_assert_ptr_nonnull(x);
	return x;
}

/* Per tensor: |cuda - cpu| <= atol_frac * max|cpu in tensor| + rtol * |cpu|,
 * so that tensors whose gradients are all small are held to their own scale. */
static void expect_tensors_close(const rf_model_t *m, const float *got, const float *ref,
                                 double atol_frac, double rtol, const char *what)
{
	for (int t = 0; t < rf_model_n_tensors(m); t++) {
		const rf_tensor_t *tt = rf_model_tensor(m, t);
		double scale = 0.0;
		for (size_t i = 0; i < tt->numel; i++) scale = fmax(scale, fabs(ref[tt->offset + i]));
		double atol = atol_frac * scale + 1e-9;
		for (size_t i = 0; i < tt->numel; i++) {
			double a = got[tt->offset + i], b = ref[tt->offset + i];
			if (!(fabs(a - b) <= atol + rtol * fabs(b)))
				ck_abort_msg("%s %s[%zu]: cuda %.9g, cpu %.9g (atol %g, rtol %g)", what, tt->name, i,
				             a, b, atol, rtol);
		}
	}
}

/* Loss to rtol 1e-4; every gradient to 1e-3 of its tensor's largest value
 * plus rtol 1e-3 (three layers of fp32 sums in different orders). */
/* One training step of b on both models: the losses and every gradient
 * agree (tolerances at the test below). */
static void expect_step_matches(rf_model_t *mg, rf_model_t *mc, const rf_batch_t *b)
{
	char err[256];
	float lg, lc;
	ck_assert_msg(rf_model_forward_backward(mg, b, &lg, err, sizeof err) == 0, "cuda: %s", err);
	ck_assert_msg(rf_model_forward_backward(mc, b, &lc, err, sizeof err) == 0, "cpu: %s", err);
	ck_assert_msg(isfinite(lg) && fabs(lg - lc) <= 1e-4 * fabs(lc), "loss: cuda %.9g, cpu %.9g", lg, lc);
	size_t n = rf_model_n_params(mc);
	float *gg = host_floats(n), *gc = host_floats(n);
	rf_model_get_grads(mg, gg);
	rf_model_get_grads(mc, gc);
	double norm = 0.0;
	for (size_t i = 0; i < n; i++) norm += (double)gc[i] * gc[i];
	ck_assert_msg(norm > 0.0, "cpu gradients are all zero");
	expect_tensors_close(mc, gg, gc, 1e-3, 1e-3, "grad");
	free(gg); free(gc);
}

START_TEST(training_step_loss_and_gradients_match_cpu)
{
	const rf_backend_t *g = tu_cuda(), *c = rf_backend_cpu();
	rf_config_t cfg = small_config();
	rf_model_t *mg = make_model(&cfg, g), *mc = make_model(&cfg, c);
	batch_t bb;
	make_batch(&bb, &cfg, 1);
	expect_step_matches(mg, mc, &bb.b);
	rf_model_free(mg); rf_model_free(mc);
}
END_TEST

/* A packed batch (sequences of 8, 1, 5, 8 and 3 tokens, then padding:
 * every one at most a chunk) on CUDA against the CPU: loss, logits and
 * every gradient at the tolerances above; and on CUDA, each sequence's
 * logits equal those of the sequence alone (fp32 sums in another order:
 * atol 1e-5, rtol 1e-4). */
START_TEST(packed_training_step_matches_cpu_and_sequences_alone)
{
	const rf_backend_t *g = tu_cuda(), *c = rf_backend_cpu();
	rf_config_t cfg = small_config();
	rf_model_t *mg = make_model(&cfg, g), *mc = make_model(&cfg, c);
	batch_t bb;
	make_batch(&bb, &cfg, 2);
	static const int32_t seg[6] = { 0, 8, 9, 14, 22, 25 };
	bb.b.B = 1;
	bb.b.L = 30;
	bb.b.mask = NULL;
	bb.b.n_seg = 5;
	bb.b.seg = seg;
	int32_t labels[5] = { 0, 1, 2, 0, 1 };
	bb.b.labels = labels;
	char err[256];
	float logits_g[5 * 3], logits_c[5 * 3];
	expect_step_matches(mg, mc, &bb.b);
	bb.b.train = 0;
	bb.b.n_mlm = 0;
	ck_assert_msg(rf_model_forward(mg, &bb.b, NULL, logits_g, err, sizeof err) == 0, "cuda: %s", err);
	ck_assert_msg(rf_model_forward(mc, &bb.b, NULL, logits_c, err, sizeof err) == 0, "cpu: %s", err);
	for (int i = 0; i < 5 * 3; i++)
		ck_assert_msg(fabs(logits_g[i] - logits_c[i]) <= 1e-5 + 1e-4 * fabs(logits_c[i]), "logit %d", i);
	for (int i = 0; i < 5; i++) {
		rf_batch_t one = { .tokens = bb.tokens + seg[i], .B = 1, .L = seg[i + 1] - seg[i], .seed = bb.b.seed };
		float l1[3];
		ck_assert_msg(rf_model_forward(mg, &one, NULL, l1, err, sizeof err) == 0, "cuda alone: %s", err);
		for (int k = 0; k < 3; k++)
			ck_assert_msg(fabs(l1[k] - logits_g[3 * i + k]) <= 1e-5 + 1e-4 * fabs(l1[k]),
			              "sequence %d logit %d: alone %.9g, packed %.9g", i, k, l1[k], logits_g[3 * i + k]);
	}
	rf_model_free(mg); rf_model_free(mc);
}
END_TEST

/* Five AdamW steps at lr 1e-3 on new batches: parameters stay within 1e-5
 * absolute (the steps move them by ~5e-3), and the losses along the way
 * within rtol 1e-3. */
START_TEST(adamw_steps_keep_cuda_and_cpu_models_in_agreement)
{
	const rf_backend_t *g = tu_cuda(), *c = rf_backend_cpu();
	rf_config_t cfg = small_config();
	rf_model_t *m[2] = { make_model(&cfg, g), make_model(&cfg, c) };
	rf_optim_config_t oc;
	rf_optim_default(&oc);
	char err[256];
	rf_optim_t *o[2];
	for (int k = 0; k < 2; k++) {
		o[k] = rf_optim_create(m[k], &oc, err, sizeof err);
		ck_assert_msg(o[k] != NULL, "%s", err);
	}
	for (int step = 1; step <= 5; step++) {
		batch_t bb;
		make_batch(&bb, &cfg, (uint64_t)step);
		float loss[2];
		for (int k = 0; k < 2; k++) {
			rf_model_zero_grads(m[k]);
			ck_assert_msg(rf_model_forward_backward(m[k], &bb.b, &loss[k], err, sizeof err) == 0,
			              "%s", err);
			rf_optim_step(o[k], 1e-3f, 1.0f);
		}
		ck_assert_msg(fabs(loss[0] - loss[1]) <= 1e-3 * fabs(loss[1]),
		              "step %d loss: cuda %.9g, cpu %.9g", step, loss[0], loss[1]);
	}
	size_t n = rf_model_n_params(m[1]);
	float *pg = host_floats(n), *pc = host_floats(n), *p0 = host_floats(n);
	rf_model_get_params(m[0], pg);
	rf_model_get_params(m[1], pc);
	rf_model_init(m[1], 3);
	rf_model_get_params(m[1], p0);
	double moved = 0.0;
	for (size_t i = 0; i < n; i++) moved = fmax(moved, fabs(pc[i] - p0[i]));
	ck_assert_msg(moved > 1e-3, "AdamW moved the parameters by only %g", moved);
	ck_assert_close_arr(pg, pc, n, 1e-5, 0.0);
	free(pg); free(pc); free(p0);
	for (int k = 0; k < 2; k++) {
		rf_optim_free(o[k]);
		rf_model_free(m[k]);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cuda_model");
	TCase *t = tcase_create("parity");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, training_step_loss_and_gradients_match_cpu);
	tcase_add_test(t, packed_training_step_matches_cpu_and_sequences_alone);
	tcase_add_test(t, adamw_steps_keep_cuda_and_cpu_models_in_agreement);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return tu_run_suite(suite());
}
