/* AdamW, clipping, the learning-rate schedule, and a tiny model learning a
 * separable toy task. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/optim.h"
#include "model/rng.h"
#include "tests/testutil.h"

static rf_model_t *small_model(int n_classes)
{
	rf_config_t c;
	char err[256] = "";
	rf_config_default(&c);
	c.vocab = 8;
	c.d_model = 16;
	c.n_heads = 2;
	c.d_ff = 32;
	c.n_layers = 2;
	ck_assert_int_eq(rf_config_set_layers(&c, "local,lsh", err, sizeof err), 0);
	c.n_hashes = 2;
	c.chunk_len = 8;
	c.ff_chunk = 64;
	c.axial1 = 4;
	c.axial2 = 8;
	c.axial_d1 = 4;
	c.dropout = 0.0f;
	c.n_classes = n_classes;
	rf_model_t *m = rf_model_create(&c, rf_backend_cpu(), err, sizeof err);
	ck_assert_msg(m != NULL, "%s", err);
	return m;
}

/* Gradients g[i] = sin(i) * amp written straight into the backend's gradient memory. */
static void set_grads(rf_model_t *m, float *g, float amp)
{
	size_t n = rf_model_n_params(m);
	for (size_t i = 0; i < n; i++) g[i] = amp * sinf((float)i);
	rf_model_backend(m)->upload(rf_model_grads(m), g, n * sizeof *g);
}

static rf_optim_t *small_optim(rf_model_t *m, float clip, float weight_decay)
{
	rf_optim_config_t oc;
	char err[256] = "";
	rf_optim_default(&oc);
	oc.clip = clip;
	oc.weight_decay = weight_decay;
	rf_optim_t *o = rf_optim_create(m, &oc, err, sizeof err);
	ck_assert_msg(o != NULL, "%s", err);
	return o;
}

static double host_norm(const float *g, size_t n)
{
	double s = 0.0;
	for (size_t i = 0; i < n; i++) s += (double)g[i] * g[i];
	return sqrt(s);
}

START_TEST(adamw_matches_hand_computation_over_two_steps)
{
	rf_model_t *m = small_model(2);
	const float wd_matrices = 0.1f;
	rf_optim_t *o = small_optim(m, 0.0f, wd_matrices);
	size_t n = rf_model_n_params(m);
	float *p = malloc(n * sizeof *p), *g = malloc(n * sizeof *g), *got = malloc(n * sizeof *got);
	double *pm = calloc(n, sizeof *pm), *pv = calloc(n, sizeof *pv), *want = malloc(n * sizeof *want);
	rf_model_get_params(m, p);
	for (size_t i = 0; i < n; i++) want[i] = p[i];
	float lr = 1e-2f;
	for (int step = 1; step <= 2; step++) {
		set_grads(m, g, 0.5f * step);
		rf_optim_step(o, lr, 1.0f);
		for (int t = 0; t < rf_model_n_tensors(m); t++) {
			const rf_tensor_t *tt = rf_model_tensor(m, t);
			double wd = tt->ndim == 2 ? wd_matrices : 0.0;   /* no decay on LayerNorm and biases */
			for (size_t j = tt->offset; j < tt->offset + tt->numel; j++) {
				pm[j] = 0.9 * pm[j] + 0.1 * g[j];
				pv[j] = 0.999 * pv[j] + 0.001 * (double)g[j] * g[j];
				double mh = pm[j] / (1.0 - pow(0.9, step)), vh = pv[j] / (1.0 - pow(0.999, step));
				want[j] -= lr * (mh / (sqrt(vh) + 1e-8) + wd * want[j]);
			}
		}
	}
	ck_assert_int_eq(rf_optim_steps(o), 2);
	rf_model_get_params(m, got);
	/* fp32 update against a double reference: 1e-6 absolute, 1e-5 relative */
	ck_assert_close_arr(got, want, n, 1e-6, 1e-5);
	free(p); free(g); free(got); free(pm); free(pv); free(want);
	rf_optim_free(o);
	rf_model_free(m);
}
END_TEST

START_TEST(clipping_scales_the_global_norm_to_the_limit)
{
	rf_model_t *m = small_model(2);
	rf_optim_t *o = small_optim(m, 1.0f, 0.01f);
	size_t n = rf_model_n_params(m);
	float *g = malloc(n * sizeof *g);
	set_grads(m, g, 1.0f);
	double want = host_norm(g, n) / 4.0;   /* grad_scale 1/4: four accumulated batches */
	double norm = rf_optim_step(o, 1e-3f, 0.25f);
	ck_assert_double_eq_tol(norm, want, 1e-4 * want);
	rf_model_get_grads(m, g);
	ck_assert_double_eq_tol(host_norm(g, n), 1.0, 1e-5);

	/* below the limit nothing is clipped */
	set_grads(m, g, 1e-4f);
	double small = rf_optim_step(o, 1e-3f, 1.0f);
	rf_model_get_grads(m, g);
	ck_assert_double_eq_tol(host_norm(g, n), small, 1e-6);
	ck_assert(small < 1.0);
	free(g);
	rf_optim_free(o);
	rf_model_free(m);
}
END_TEST

START_TEST(optimizer_state_round_trips_and_counts_in_the_arena)
{
	rf_model_t *m = small_model(2);
	size_t before = rf_model_current_bytes(m), n = rf_model_n_params(m);
	rf_optim_config_t oc;
	char err[256] = "";
	rf_optim_default(&oc);
	rf_optim_t *o = rf_optim_create(m, &oc, err, sizeof err);
	ck_assert_uint_eq(rf_model_current_bytes(m) - before, 2 * n * sizeof(float));
	float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c), *d = malloc(n * sizeof *d);
	for (size_t i = 0; i < n; i++) { a[i] = (float)i; b[i] = 0.5f * (float)i; }
	rf_optim_set_state(o, a, b);
	rf_optim_set_steps(o, 17);
	rf_optim_get_state(o, c, d);
	ck_assert_close_arr(c, a, n, 0, 0);
	ck_assert_close_arr(d, b, n, 0, 0);
	ck_assert_int_eq(rf_optim_steps(o), 17);
	rf_optim_free(o);
	ck_assert_uint_eq(rf_model_current_bytes(m), before);
	oc.beta2 = 1.0f;
	ck_assert_ptr_null(rf_optim_create(m, &oc, err, sizeof err));
	ck_assert_msg(strstr(err, "--beta2") == err, "%s", err);
	free(a); free(b); free(c); free(d);
	rf_model_free(m);
}
END_TEST

START_TEST(schedule_warms_up_then_decays_by_cosine)
{
	float base = 1e-3f;
	ck_assert_float_eq_tol(rf_lr_schedule(base, 0, 10, 110, 0.1f), 1e-4f, 1e-9f);
	ck_assert_float_eq_tol(rf_lr_schedule(base, 9, 10, 110, 0.1f), base, 1e-9f);
	ck_assert_float_eq_tol(rf_lr_schedule(base, 10, 10, 110, 0.1f), base, 1e-9f);
	ck_assert_float_eq_tol(rf_lr_schedule(base, 60, 10, 110, 0.1f), 0.55e-3f, 1e-8f);   /* half-way */
	ck_assert_float_eq_tol(rf_lr_schedule(base, 110, 10, 110, 0.1f), 1e-4f, 1e-9f);
	ck_assert_float_eq_tol(rf_lr_schedule(base, 500, 10, 110, 0.1f), 1e-4f, 1e-9f);
	ck_assert_float_eq_tol(rf_lr_schedule(base, 0, 0, 100, 0.0f), base, 1e-9f);
	ck_assert(rf_lr_schedule(base, 30, 10, 110, 0.0f) > rf_lr_schedule(base, 31, 10, 110, 0.0f));
}
END_TEST

/* Class 1 when token 6 outnumbers token 5 in a sequence of 5s, 6s and filler. */
static void toy_batch(int32_t *tok, int32_t *lab, int B, int L, uint64_t key, uint64_t base)
{
	for (int s = 0; s < B; s++) {
		int n5 = 0, n6 = 0;
		for (int j = 0; j < L; j++) {
			uint64_t r = rf_rng_u64(key, base + (uint64_t)s * L + j) % 4;
			int32_t t = r == 0 ? 5 : r == 1 ? 6 : 1 + (int32_t)(r % 3);
			tok[s * L + j] = t;
			n5 += t == 5;
			n6 += t == 6;
		}
		if (n5 == n6) {   /* break ties: no ambiguous examples */
			tok[s * L] = tok[s * L] == 5 ? 6 : 5;
			n5 = tok[s * L] == 5 ? n5 + 1 : n5 - 1;
			n6 = tok[s * L] == 6 ? n6 + 1 : n6 - 1;
		}
		lab[s] = n6 > n5;
	}
}

START_TEST(tiny_model_learns_which_token_dominates)
{
	enum { B = 16, L = 24, STEPS = 100, TEST = 128 };
	rf_model_t *m = small_model(2);
	rf_model_init(m, 1);
	rf_optim_t *o = small_optim(m, 1.0f, 0.01f);
	char err[256] = "";
	int32_t tok[TEST * L], lab[TEST];
	uint64_t key = rf_rng_key(99, 0, -1, RF_RNG_DATA);
	float first = 0.0f, last = 0.0f;
	for (int step = 0; step < STEPS; step++) {
		toy_batch(tok, lab, B, L, key, (uint64_t)step * B * L);
		rf_batch_t b = { .tokens = tok, .B = B, .L = L, .labels = lab, .seed = 5, .step = (uint64_t)step, .train = 1 };
		float loss;
		rf_model_zero_grads(m);
		ck_assert_msg(rf_model_forward_backward(m, &b, &loss, err, sizeof err) == 0, "%s", err);
		rf_optim_step(o, rf_lr_schedule(5e-3f, step, 10, STEPS, 0.1f), 1.0f);
		if (step < 5) first += loss / 5;
		if (step >= STEPS - 5) last += loss / 5;
	}
	toy_batch(tok, lab, TEST, L, key, (uint64_t)1 << 40);
	float logits[TEST * 2];
	rf_batch_t t = { .tokens = tok, .B = TEST, .L = L, .seed = 5, .step = 0, .train = 0 };
	ck_assert_msg(rf_model_forward(m, &t, NULL, logits, err, sizeof err) == 0, "%s", err);
	int right = 0;
	for (int s = 0; s < TEST; s++) right += (logits[2 * s + 1] > logits[2 * s]) == lab[s];
	fprintf(stderr, "[toy] loss %.3f -> %.3f, held-out accuracy %d/%d\n", (double)first, (double)last, right, TEST);
	ck_assert_msg(last < first, "loss did not decrease: %g -> %g", (double)first, (double)last);
	ck_assert_msg(right > 0.9 * TEST, "accuracy %d/%d <= 90%%", right, TEST);
	rf_optim_free(o);
	rf_model_free(m);
}
END_TEST

static Suite *optim_suite(void)
{
	Suite *s = suite_create("optim");
	TCase *tc = tcase_create("optim");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, adamw_matches_hand_computation_over_two_steps);
	tcase_add_test(tc, clipping_scales_the_global_norm_to_the_limit);
	tcase_add_test(tc, optimizer_state_round_trips_and_counts_in_the_arena);
	tcase_add_test(tc, schedule_warms_up_then_decays_by_cosine);
	tcase_add_test(tc, tiny_model_learns_which_token_dominates);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(optim_suite());
}
