/* src/modelfile: bit-exact round trip of parameters, optimizer state,
 * tokenizer, window and class names (spaces and '|' included); refusal of
 * files that do not fit their config, naming the tensor; device selection. */
#include <stdint.h>
#include <math.h>
#include <unistd.h>

#include "model/backend.h"
#include "model/checkpoint.h"
#include "src/modelfile.h"
#include "tests/testutil.h"

static char dir[64], path[128], path2[128];

static void scratch_setup(void)
{
	tu_scratch_make(dir, "mf");
	snprintf(path, sizeof path, "%s/m.gfm", dir);
	snprintf(path2, sizeof path2, "%s/m2.gfm", dir);
}

static void scratch_teardown(void)
{
	tu_scratch_remove(dir);
}

static const char *const CLASSES[3] = { "E. coli K-12", "a|b c", "z" };

/* k = 3 (vocab 69), two layers local,lsh, 3 classes, d_ff as given. */
static void make_config(rf_config_t *c, int d_ff)
{
	char err[256];
	rf_config_default(c);
	c->vocab = 69; c->d_model = 8; c->n_heads = 2; c->d_ff = d_ff; c->n_layers = 2;
	ck_assert_int_eq(rf_config_set_layers(c, "local,lsh", err, sizeof err), 0);
	c->chunk_len = 8; c->ff_chunk = 8; c->axial1 = 4; c->axial2 = 8; c->axial_d1 = 4; c->n_classes = 3;
}

static gf_modelfile_t *make_model(int d_ff)
{
	char err[256];
	rf_config_t c;
	make_config(&c, d_ff);
	gf_modelfile_t *mf = gf_modelfile_new(&c, 3, 2, 32, 3, CLASSES, rf_backend_cpu(), err, sizeof err);
	ck_assert_msg(mf != NULL, "%s", err);
	rf_model_init(mf->model, 7);
	return mf;
}

/* A model with d_ff as given, saved to path as a model file. */
static gf_modelfile_t *saved_model(int d_ff)
{
	char err[512];
	gf_modelfile_t *mf = make_model(d_ff);
	ck_assert_msg(gf_modelfile_save(path, mf, NULL, 3, 1, err, sizeof err) == 0, "%s", err);
	return mf;
}

/* One AdamW update on a random batch, so the moments are not all zero. */
static rf_optim_t *trained_optimizer(gf_modelfile_t *mf)
{
	char err[256];
	int32_t tok[2 * 32], labels[2] = { 0, 2 };
	for (int i = 0; i < 2 * 32; i++) tok[i] = 5 + (i * 7) % 64;
	rf_batch_t b = { .tokens = tok, .B = 2, .L = 32, .labels = labels, .seed = 1, .step = 0, .train = 1 };
	rf_optim_config_t oc;
	rf_optim_default(&oc);
	rf_optim_t *o = rf_optim_create(mf->model, &oc, err, sizeof err);
	ck_assert_msg(o != NULL, "%s", err);
	float loss;
	ck_assert_msg(rf_model_forward_backward(mf->model, &b, &loss, err, sizeof err) == 0, "%s", err);
	rf_optim_step(o, 1e-3f, 1.0f);
	return o;
}

static void assert_same_bits(const float *a, const float *b, size_t n, const char *what)
{
	ck_assert_msg(memcmp(a, b, n * sizeof *a) == 0, "%s differ after the round trip", what);
}

/* Both models hold the same parameters, bit for bit. */
static void assert_same_params(const gf_modelfile_t *x, const gf_modelfile_t *y)
{
	size_t n = rf_model_n_params(x->model);
	ck_assert_uint_eq(rf_model_n_params(y->model), n);
	float *a = malloc(2 * n * sizeof *a);
	ck_assert_ptr_nonnull(a);
	rf_model_get_params(x->model, a);
	rf_model_get_params(y->model, a + n);
	assert_same_bits(a, a + n, n, "parameters");
	free(a);
}

START_TEST(roundtrip_keeps_params_tokenizer_classes_and_meta_bit_exact)
{
	char err[512];
	gf_modelfile_t *mf = make_model(16);
	ck_assert_int_eq(rf_ckpt_meta_set(&mf->meta, "cmdline", "genoformer train -o m.gfm", err, sizeof err), 0);
	ck_assert_msg(gf_modelfile_save(path, mf, NULL, 42, 9, err, sizeof err) == 0, "%s", err);
	gf_modelfile_t *back = gf_modelfile_load(path, rf_backend_cpu(), err, sizeof err);
	ck_assert_msg(back != NULL, "%s", err);
	ck_assert_int_eq(back->k, 3);
	ck_assert_int_eq(back->stride, 2);
	ck_assert_int_eq(back->window, 32);
	ck_assert_int_eq(back->n_classes, 3);
	for (int c = 0; c < 3; c++) ck_assert_str_eq(back->classes[c], CLASSES[c]);
	ck_assert_int_eq(back->cfg.d_ff, 16);
	ck_assert_int_eq(back->cfg.layer_kind[1], RF_ATTN_LSH);
	ck_assert_int_eq(back->cfg.chunk_len, 8);
	ck_assert_str_eq(rf_ckpt_meta_get(&back->meta, "cmdline"), "genoformer train -o m.gfm");
	ck_assert_str_eq(rf_ckpt_meta_get(&back->meta, "train.steps"), "42");
	ck_assert_str_eq(rf_ckpt_meta_get(&back->meta, "task"), "classify");
	ck_assert_ptr_nonnull(rf_ckpt_meta_get(&back->meta, "version"));
	assert_same_params(mf, back);
	gf_modelfile_free(mf);
	gf_modelfile_free(back);
}
END_TEST

START_TEST(training_checkpoint_restores_optimizer_state_step_and_seed)
{
	char err[512];
	gf_modelfile_t *mf = make_model(16);
	rf_optim_t *o = trained_optimizer(mf);
	ck_assert_msg(gf_modelfile_save(path, mf, o, 1, 77, err, sizeof err) == 0, "%s", err);
	rf_optim_config_t oc;
	rf_optim_default(&oc);
	rf_optim_t *o2;
	uint64_t step = 0, seed = 0;
	gf_modelfile_t *back = gf_modelfile_load_train(path, rf_backend_cpu(), &oc, &o2, &step, &seed, err, sizeof err);
	ck_assert_msg(back != NULL, "%s", err);
	ck_assert_uint_eq(step, 1);
	ck_assert_uint_eq(seed, 77);
	ck_assert_int_eq(rf_optim_steps(o2), 1);
	size_t n = rf_model_n_params(mf->model);
	float *m1 = malloc(4 * n * sizeof *m1);
	ck_assert_ptr_nonnull(m1);
	rf_optim_get_state(o, m1, m1 + n);
	rf_optim_get_state(o2, m1 + 2 * n, m1 + 3 * n);
	assert_same_bits(m1, m1 + 2 * n, 2 * n, "optimizer moments");
	int nonzero = 0;
	for (size_t i = 0; i < n; i++) nonzero += m1[i] != 0.0f;
	ck_assert_int_gt(nonzero, 0);
	assert_same_params(mf, back);
	free(m1);
	rf_optim_free(o);
	rf_optim_free(o2);
	gf_modelfile_free(mf);
	gf_modelfile_free(back);
}
END_TEST

START_TEST(model_file_is_refused_as_training_checkpoint)
{
	char err[512];
	gf_modelfile_t *mf = saved_model(16);
	rf_optim_config_t oc;
	rf_optim_default(&oc);
	rf_optim_t *o;
	uint64_t step, seed;
	ck_assert_ptr_null(gf_modelfile_load_train(path, rf_backend_cpu(), &oc, &o, &step, &seed, err, sizeof err));
	ck_assert_ptr_null(o);
	ck_assert_msg(strstr(err, "m.gfm: a model file, not a training checkpoint"), "%s", err);
	gf_modelfile_free(mf);
}
END_TEST

/* The tensors of a model with d_ff 32 under the config of one with d_ff 16. */
START_TEST(tensor_shape_mismatch_is_refused_naming_the_tensor)
{
	char err[512];
	gf_modelfile_t *big = saved_model(32);
	rf_ckpt_t *ck = rf_ckpt_read(path, err, sizeof err);
	ck_assert_msg(ck != NULL, "%s", err);
	rf_config_t small;
	make_config(&small, 16);
	ck_assert_int_eq(rf_ckpt_write(path2, &small, &ck->meta, ck->tensors, ck->n_tensors, NULL, err, sizeof err), 0);
	ck_assert_ptr_null(gf_modelfile_load(path2, rf_backend_cpu(), err, sizeof err));
	ck_assert_msg(strstr(err, "m2.gfm: tensor 'layers.0.ff.w1' has shape [8, 32] in the file, the model expects [8, 16]"),
	              "%s", err);
	rf_ckpt_free(ck);
	gf_modelfile_free(big);
}
END_TEST

START_TEST(missing_file_is_refused_with_the_system_reason)
{
	char err[512];
	ck_assert_ptr_null(gf_modelfile_load(path, rf_backend_cpu(), err, sizeof err));
	ck_assert_msg(strstr(err, "m.gfm") && strstr(err, "No such file"), "%s", err);
}
END_TEST

START_TEST(checkpoint_without_tokenizer_metadata_is_not_a_model_file)
{
	char err[512];
	gf_modelfile_t *mf = saved_model(16);
	rf_ckpt_t *ck = rf_ckpt_read(path, err, sizeof err);
	ck_assert_ptr_nonnull(ck);
	rf_ckpt_meta_t empty;
	rf_ckpt_meta_init(&empty);
	ck_assert_int_eq(rf_ckpt_write(path2, &ck->cfg, &empty, ck->tensors, ck->n_tensors, NULL, err, sizeof err), 0);
	ck_assert_ptr_null(gf_modelfile_load(path2, rf_backend_cpu(), err, sizeof err));
	ck_assert_msg(strstr(err, "m2.gfm: not a genoformer model file: metadata 'tokenizer.k' missing"), "%s", err);
	rf_ckpt_meta_t two;
	rf_ckpt_meta_init(&two);
	for (int i = 0; i < ck->meta.n; i++)
		rf_ckpt_meta_set(&two, ck->meta.key[i], ck->meta.val[i], err, sizeof err);
	rf_ckpt_meta_set(&two, "classes", "a\nb", err, sizeof err);
	ck_assert_int_eq(rf_ckpt_write(path2, &ck->cfg, &two, ck->tensors, ck->n_tensors, NULL, err, sizeof err), 0);
	ck_assert_ptr_null(gf_modelfile_load(path2, rf_backend_cpu(), err, sizeof err));
	ck_assert_msg(strstr(err, "metadata 'classes' names 2 classes, the classifier has 3"), "%s", err);
	rf_ckpt_meta_set(&two, "classes", "b\na\nc", err, sizeof err);
	ck_assert_int_eq(rf_ckpt_write(path2, &ck->cfg, &two, ck->tensors, ck->n_tensors, NULL, err, sizeof err), 0);
	ck_assert_ptr_null(gf_modelfile_load(path2, rf_backend_cpu(), err, sizeof err));
	ck_assert_msg(strstr(err, "'b' and 'a' are not in sorted order"), "%s", err);
	rf_ckpt_meta_set(&two, "classes", "a\nb\nc", err, sizeof err);
	rf_ckpt_meta_set(&two, "tokenizer.k", "4", err, sizeof err);
	ck_assert_int_eq(rf_ckpt_write(path2, &ck->cfg, &two, ck->tensors, ck->n_tensors, NULL, err, sizeof err), 0);
	ck_assert_ptr_null(gf_modelfile_load(path2, rf_backend_cpu(), err, sizeof err));
	ck_assert_msg(strstr(err, "vocabulary of 69 tokens does not match k=4 (261 tokens)"), "%s", err);
	rf_ckpt_meta_free(&empty);
	rf_ckpt_meta_free(&two);
	rf_ckpt_free(ck);
	gf_modelfile_free(mf);
}
END_TEST

START_TEST(diverged_weights_are_never_saved_and_the_previous_file_stays)
{
	char err[512];
	gf_modelfile_t *mf = saved_model(16);
	size_t n = rf_model_n_params(mf->model), before_len, after_len;
	FILE *fp = fopen(path, "rb");
	ck_assert_ptr_nonnull(fp);
	static unsigned char before[1 << 20], after[1 << 20];
	before_len = fread(before, 1, sizeof before, fp);
	fclose(fp);
	float *w = malloc(n * sizeof *w);
	rf_model_get_params(mf->model, w);
	const rf_tensor_t *t = rf_model_tensor(mf->model, 2);
	w[t->offset + 1] = 3e9f;
	rf_model_set_params(mf->model, w);
	ck_assert_int_eq(gf_modelfile_save(path, mf, NULL, 4, 1, err, sizeof err), -1);
	char want[512];
	snprintf(want, sizeof want, "%s: not written: tensor '%s' holds 3e+09 at index 1 (beyond 1e+06: training diverged)",
	         path, t->name);
	ck_assert_str_eq(err, want);
	w[t->offset + 1] = NAN;
	rf_model_set_params(mf->model, w);
	ck_assert_int_eq(gf_modelfile_save(path, mf, NULL, 4, 1, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "holds NaN at index 1"), "%s", err);
	fp = fopen(path, "rb");
	after_len = fread(after, 1, sizeof after, fp);
	fclose(fp);
	ck_assert_uint_eq(after_len, before_len);
	ck_assert_mem_eq(after, before, before_len);
	free(w);
	gf_modelfile_free(mf);
}
END_TEST

START_TEST(class_name_with_newline_is_refused_on_save)
{
	char err[512];
	gf_modelfile_t *mf = make_model(16);
	free(mf->classes[1]);
	mf->classes[1] = strdup("two\nlines");
	ck_assert_int_eq(gf_modelfile_save(path, mf, NULL, 0, 1, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "holds a newline"), "%s", err);
	ck_assert_int_eq(access(path, F_OK), -1);
	gf_modelfile_free(mf);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("modelfile");
	TCase *t = tcase_create("modelfile");
	tcase_add_checked_fixture(t, scratch_setup, scratch_teardown);
	tcase_add_test(t, roundtrip_keeps_params_tokenizer_classes_and_meta_bit_exact);
	tcase_add_test(t, training_checkpoint_restores_optimizer_state_step_and_seed);
	tcase_add_test(t, model_file_is_refused_as_training_checkpoint);
	tcase_add_test(t, tensor_shape_mismatch_is_refused_naming_the_tensor);
	tcase_add_test(t, missing_file_is_refused_with_the_system_reason);
	tcase_add_test(t, checkpoint_without_tokenizer_metadata_is_not_a_model_file);
	tcase_add_test(t, class_name_with_newline_is_refused_on_save);
	tcase_add_test(t, diverged_weights_are_never_saved_and_the_previous_file_stays);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return tu_run_suite(suite());
}
