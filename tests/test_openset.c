/* genomics/lowinfo and src/openset: the low-information rules on
 * hand-made records, the reason of every kind of unclassified call, the
 * threshold chosen for a precision, the training crops, and the open-set
 * settings (threshold, background class, shortest length, the thresholds
 * for novel records) through a model file and back, with the documented
 * defaults for a file without them. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "genomics/kmer.h"
#include "genomics/lowinfo.h"
#include "model/backend.h"
#include "src/modelfile.h"
#include "src/openset.h"
#include "tests/testutil.h"

/* n bases of a period-p repeat of the first p letters of unit. */
static char *repeat(const char *unit, int p, size_t n)
{
	char *s = malloc(n + 1);
	for (size_t i = 0; i < n; i++) s[i] = unit[i % p];
	s[n] = 0;
	return s;
}

START_TEST(entropy_of_tandem_repeats_is_log2_of_the_period)
{
	const char *unit = "ACGTTGCAAG";
	for (int p = 1; p <= 4; p++) {
		char *s = repeat(unit, p, 300);
		ck_assert_msg(fabs(gf_lowinfo_entropy3(s, 300) - log2(p)) < 0.01, "period %d: %f", p,
		              gf_lowinfo_entropy3(s, 300));
		free(s);
	}
	/* N breaks the triplets; lowercase and U count as bases */
	ck_assert_double_eq(gf_lowinfo_entropy3("NNNNNN", 6), 0.0);
	ck_assert_double_eq_tol(gf_lowinfo_entropy3("acguac", 6), 2.0, 1e-12);
}
END_TEST

START_TEST(lowinfo_reasons_in_order)
{
	gf_lowinfo_opts_t o;
	gf_lowinfo_opts_init(&o);
	o.min_len = 64;
	char *ns = repeat("N", 1, 5000), *poly = repeat("A", 1, 200), *di = repeat("AC", 2, 200);
	char *p5 = repeat("ACGTT", 5, 200);
	/* a real-looking sequence: lambda phage's first 120 bases */
	const char *real = "GGGCGGCGACCTCGCGGGTTTTCGCTATTTATGAAAATTTTCCGGTTTAAGGCGTTTCCGTTCTTCTTCGTCATAACTTAATGTTTTTATTTAAAATACCCTCTGAAAAGAAAGGAAACG";
	ck_assert_int_eq(gf_lowinfo_check(real, 63, &o), GF_LOWINFO_TOO_SHORT);
	ck_assert_int_eq(gf_lowinfo_check(real, 0, &o), GF_LOWINFO_TOO_SHORT);
	ck_assert_int_eq(gf_lowinfo_check(real, strlen(real), &o), GF_LOWINFO_OK);
	ck_assert_int_eq(gf_lowinfo_check(ns, 5000, &o), GF_LOWINFO_MOSTLY_N);
	ck_assert_int_eq(gf_lowinfo_check(poly, 200, &o), GF_LOWINFO_LOW_COMPLEXITY);
	ck_assert_int_eq(gf_lowinfo_check(di, 200, &o), GF_LOWINFO_LOW_COMPLEXITY);
	ck_assert_int_eq(gf_lowinfo_check(p5, 200, &o), GF_LOWINFO_LOW_COMPLEXITY);
	/* half N is still judged on its bases: 60 N then the real 120 */
	char mix[181];
	memset(mix, 'N', 60);
	memcpy(mix + 60, real, 120);
	ck_assert_int_eq(gf_lowinfo_check(mix, 180, &o), GF_LOWINFO_OK);
	memset(mix, 'N', 100);
	ck_assert_int_eq(gf_lowinfo_check(mix, 180, &o), GF_LOWINFO_MOSTLY_N);
	/* too short to judge complexity: left to the model */
	o.min_len = 1;
	ck_assert_int_eq(gf_lowinfo_check("ACACACACAC", 10, &o), GF_LOWINFO_OK);
	ck_assert_str_eq(gf_lowinfo_name(GF_LOWINFO_MOSTLY_N), "mostly_n");
	free(ns), free(poly), free(di), free(p5);
}
END_TEST

START_TEST(call_gives_each_reason)
{
	gf_openset_t os = { .min_prob = 0.9f, .background = 2 };
	gf_lowinfo_opts_init(&os.low);
	float probs[3], top;
	int reason;
	const float sure[3] = { 5, 0, 0 }, unsure[3] = { 1, 0.8f, 0 }, bg[3] = { 0, 0, 5 };
	ck_assert_int_eq(gf_openset_call(&os, -1, 150, 0, -2, sure, 3, probs, &top, &reason), 0);
	ck_assert_int_eq(reason, GF_LOWINFO_OK);
	ck_assert_int_eq(gf_openset_call(&os, -1, 150, 0, -2, unsure, 3, probs, &top, &reason), -1);
	ck_assert_str_eq(gf_openset_reason_name(reason), "below_threshold");
	ck_assert_float_gt(top, 0.4f);
	/* --min-prob overrides the model's threshold */
	ck_assert_int_eq(gf_openset_call(&os, 0.3f, 150, 0, -2, unsure, 3, probs, &top, &reason), 0);
	ck_assert_int_eq(gf_openset_call(&os, 0, 150, 0, -2, bg, 3, probs, &top, &reason), -1);
	ck_assert_str_eq(gf_openset_reason_name(reason), "background");
	/* low-information records: no probabilities, whatever the logits */
	ck_assert_int_eq(gf_openset_call(&os, 0, 150, GF_LOWINFO_MOSTLY_N, -2, sure, 3, probs, &top, &reason), -1);
	ck_assert_str_eq(gf_openset_reason_name(reason), "mostly_n");
	ck_assert_float_eq(top, 0.0f);
	ck_assert_int_eq(gf_openset_call(&os, 0, 150, 0, -2, NULL, 3, probs, &top, &reason), -1);
	ck_assert_str_eq(gf_openset_reason_name(reason), "too_short");
}
END_TEST

START_TEST(threshold_is_the_lowest_reaching_the_target)
{
	/* by score: 0.99 r, 0.95 r, 0.9 w, 0.85 r, 0.8 r, 0.7 w, 0.6 w */
	const float top[7] = { 0.6f, 0.95f, 0.9f, 0.99f, 0.85f, 0.7f, 0.8f };
	const uint8_t right[7] = { 0, 1, 0, 1, 1, 0, 1 };
	double called;
	/* precision 1 holds down to 0.95 (2 calls) */
	ck_assert_float_eq(gf_openset_choose(top, right, 7, 1.0, &called), 0.95f);
	ck_assert_double_eq_tol(called, 2.0 / 7, 1e-12);
	/* 0.8: 4 right of 5 = 0.8 is the lowest with precision >= 0.75 */
	ck_assert_float_eq(gf_openset_choose(top, right, 7, 0.75, &called), 0.8f);
	/* no target: no threshold */
	ck_assert_float_eq(gf_openset_choose(top, right, 7, 0, &called), 0.0f);
	/* the top call wrong and a target of 1: nothing is called */
	const uint8_t wrong[1] = { 0 };
	ck_assert_float_eq(gf_openset_choose(top, wrong, 1, 1.0, &called), 1.0f);
	ck_assert_double_eq(called, 0.0);
	/* ties: a threshold keeps all or none of equal scores */
	const float tie[3] = { 0.9f, 0.9f, 0.5f };
	const uint8_t tr[3] = { 1, 0, 1 };
	ck_assert_float_eq(gf_openset_choose(tie, tr, 3, 0.6, &called), 0.5f);
	ck_assert_float_eq(gf_openset_choose(tie, tr, 3, 0.9, &called), 1.0f);
}
END_TEST

START_TEST(crops_are_deterministic_and_within_bounds)
{
	enum { L = 256, K = 6, S = 6 };
	int32_t tok[L], tok2[L];
	uint8_t mask[L], mask2[L];
	int cropped = 0, min_real = L;
	for (uint64_t row = 0; row < 400; row++) {
		for (int j = 0; j < L; j++) tok[j] = tok2[j] = 5 + j, mask[j] = mask2[j] = 1;
		gf_openset_crop(tok, mask, L, K, S, 0.5, 64, 1, 3, row);
		gf_openset_crop(tok2, mask2, L, K, S, 0.5, 64, 1, 3, row);
		ck_assert_int_eq(memcmp(tok, tok2, sizeof tok), 0);
		int real = 0;
		while (real < L && mask[real]) real++;
		for (int j = real; j < L; j++) ck_assert(tok[j] == GF_TOK_PAD && !mask[j]);
		cropped += real < L;
		if (real < min_real) min_real = real;
	}
	/* about half cropped; the shortest crop is 64 bp = 10 tokens of 6 */
	ck_assert_int_gt(cropped, 150);
	ck_assert_int_lt(cropped, 250);
	ck_assert_int_ge(min_real, (int)gf_kmer_count(64, K, S));
	/* frac 0 never crops */
	for (int j = 0; j < L; j++) mask[j] = 1;
	gf_openset_crop(tok, mask, L, K, S, 0, 64, 1, 3, 0);
	ck_assert_int_eq(mask[L - 1], 1);
}
END_TEST

static gf_modelfile_t *tiny_model(const char *const *classes, int n)
{
	char err[256];
	rf_config_t c;
	rf_config_default(&c);
	c.vocab = gf_kmer_vocab_size(3); c.d_model = 8; c.n_heads = 2; c.d_ff = 8; c.n_layers = 1;
	ck_assert_int_eq(rf_config_set_layers(&c, "local", err, sizeof err), 0);
	c.chunk_len = 8; c.ff_chunk = 8; c.axial1 = 4; c.axial2 = 8; c.axial_d1 = 4; c.n_classes = n;
	gf_modelfile_t *mf = gf_modelfile_new(&c, 3, 3, 32, n, classes, rf_backend_cpu(), err, sizeof err);
	ck_assert_msg(mf != NULL, "%s", err);
	rf_model_init(mf->model, 7);
	return mf;
}

START_TEST(background_class_and_threshold_round_trip_through_the_file)
{
	static const char *const classes[3] = { "E.coli", "S.aureus", "background" };
	char dir[64], path[128], err[512];
	tu_scratch_make(dir, "os");
	snprintf(path, sizeof path, "%s/m.gfm", dir);
	gf_modelfile_t *mf = tiny_model(classes, 3);
	gf_openset_t os, back;
	/* a file without the keys: threshold 0, no background, too short below k */
	ck_assert_int_eq(gf_openset_load(&os, mf, err, sizeof err), 0);
	ck_assert_float_eq(os.min_prob, 0.0f);
	ck_assert_int_eq(os.background, -1);
	ck_assert_uint_eq(os.low.min_len, 3);
	os.min_prob = 0.8125f;
	os.n_len = 3;
	os.len_at[0] = 100, os.len_at[1] = 500, os.len_at[2] = 1536;
	os.prob_at[0] = 0.99f, os.prob_at[1] = 0.9f, os.prob_at[2] = 0.75f;
	os.target = 0.99;
	os.background = 2;
	os.low.min_len = 64;
	ck_assert_int_eq(gf_openset_store(&os, mf, err, sizeof err), 0);
	ck_assert_msg(gf_modelfile_save(path, mf, NULL, 5, 1, err, sizeof err) == 0, "%s", err);
	gf_modelfile_free(mf);
	mf = gf_modelfile_load(path, rf_backend_cpu(), err, sizeof err);
	ck_assert_msg(mf != NULL, "%s", err);
	ck_assert_int_eq(mf->n_classes, 3);
	ck_assert_int_eq(gf_openset_load(&back, mf, err, sizeof err), 0);
	ck_assert_float_eq(back.min_prob, 0.8125f);
	ck_assert_double_eq(back.target, 0.99);
	ck_assert_int_eq(back.background, 2);
	ck_assert_uint_eq(back.low.min_len, 64);
	/* by length: the threshold of the longest calibration length a record reaches */
	ck_assert_int_eq(back.n_len, 3);
	ck_assert_float_eq(gf_openset_threshold(&back, 64, 0), 0.99f);
	ck_assert_float_eq(gf_openset_threshold(&back, 499, 0), 0.99f);
	ck_assert_float_eq(gf_openset_threshold(&back, 500, 0), 0.9f);
	ck_assert_float_eq(gf_openset_threshold(&back, 100000, 0), 0.75f);
	float probs[3], top;
	int reason;
	const float l[3] = { 1.6f, 0, 0 };  /* top probability 0.712 */
	ck_assert_int_eq(gf_openset_call(&back, -1, 150, 0, -2, l, 3, probs, &top, &reason), -1);
	ck_assert_int_eq(reason, GF_OPENSET_BELOW_THRESHOLD);
	const float l2[3] = { 2.5f, 0, 0 };  /* 0.859: called at 1 kbp, not at 150 bp */
	ck_assert_int_eq(gf_openset_call(&back, -1, 1000, 0, -2, l2, 3, probs, &top, &reason), -1);
	ck_assert_int_eq(gf_openset_call(&back, -1, 2000, 0, -2, l2, 3, probs, &top, &reason), 0);
	ck_assert_int_eq(gf_openset_call(&back, 0.5f, 150, 0, -2, l2, 3, probs, &top, &reason), 0);
	ck_assert_int_eq(rf_ckpt_meta_set(&mf->meta, GF_OPENSET_KEY_BY_LENGTH, "500:0.9,100:0.5", err, sizeof err), 0);
	ck_assert_int_eq(gf_openset_load(&back, mf, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "by increasing length"));
	ck_assert_int_eq(rf_ckpt_meta_set(&mf->meta, GF_OPENSET_KEY_BY_LENGTH, "100:0.5,500:0.9", err, sizeof err), 0);
	/* a background naming no class, or a malformed threshold, is refused */
	ck_assert_int_eq(rf_ckpt_meta_set(&mf->meta, GF_OPENSET_KEY_BACKGROUND, "phage", err, sizeof err), 0);
	ck_assert_int_eq(gf_openset_load(&back, mf, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "'phage', which is not one of its classes"));
	ck_assert_int_eq(rf_ckpt_meta_set(&mf->meta, GF_OPENSET_KEY_BACKGROUND, "background", err, sizeof err), 0);
	ck_assert_int_eq(rf_ckpt_meta_set(&mf->meta, GF_OPENSET_KEY_MIN_PROB, "1.5", err, sizeof err), 0);
	ck_assert_int_eq(gf_openset_load(&back, mf, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "openset.min_prob is '1.5'"));
	gf_modelfile_free(mf);
	tu_scratch_remove(dir);
}
END_TEST

START_TEST(novel_records_get_their_own_thresholds_through_the_file)
{
	static const char *const classes[3] = { "a", "b", "c" };
	char dir[64], path[128], err[512];
	tu_scratch_make(dir, "novel");
	snprintf(path, sizeof path, "%s/m.gfm", dir);
	gf_modelfile_t *mf = tiny_model(classes, 3);
	gf_openset_t os = { .min_prob = 0.5f, .n_len = 2, .len_at = { 100, 1000 }, .prob_at = { 0.6f, 0.5f },
		                .has_novel = 1, .novel_at = { 1.0f, 0.9f }, .background = -1 };
	gf_lowinfo_opts_init(&os.low);
	ck_assert_int_eq(gf_openset_store(&os, mf, err, sizeof err), 0);
	ck_assert_int_eq(gf_modelfile_save(path, mf, NULL, 1, 1, err, sizeof err), 0);
	gf_modelfile_free(mf);
	mf = gf_modelfile_load(path, rf_backend_cpu(), err, sizeof err);
	gf_openset_t back;
	ck_assert_int_eq(gf_openset_load(&back, mf, err, sizeof err), 0);
	ck_assert_int_eq(back.has_novel, 1);
	ck_assert_float_eq(gf_openset_threshold(&back, 150, 0), 0.6f);
	ck_assert_float_eq(gf_openset_threshold(&back, 150, 1), 1.0f);
	ck_assert_float_eq(gf_openset_threshold(&back, 5000, 1), 0.9f);
	float probs[3], top, l[3] = { 9, 0, 0 };
	int reason;
	/* a novel 150 bp record is never called (threshold 1); one the index found
	 * class 0 in is, whatever the threshold; one without an index is judged by it */
	ck_assert_int_eq(gf_openset_call(&back, -1, 150, 0, -1, l, 3, probs, &top, &reason), -1);
	ck_assert_int_eq(reason, GF_OPENSET_NOVEL);
	ck_assert_str_eq(gf_openset_reason_name(reason), "novel");
	ck_assert_int_eq(gf_openset_call(&back, -1, 150, 0, -2, l, 3, probs, &top, &reason), 0);
	ck_assert_int_eq(gf_openset_call(&back, -1, 5000, 0, -1, l, 3, probs, &top, &reason), 0);
	float weak[3] = { 0.1f, 0, 0 };
	ck_assert_int_eq(gf_openset_call(&back, -1, 150, 0, 0, weak, 3, probs, &top, &reason), 0);
	ck_assert_int_eq(gf_openset_call(&back, -1, 150, 0, -2, weak, 3, probs, &top, &reason), -1);
	ck_assert_int_eq(reason, GF_OPENSET_BELOW_THRESHOLD);
	/* the index found class 1, the top class is 0: the threshold applies */
	ck_assert_int_eq(gf_openset_call(&back, -1, 150, 0, 1, weak, 3, probs, &top, &reason), -1);
	/* --min-prob applies to every record */
	ck_assert_int_eq(gf_openset_call(&back, 0.5f, 150, 0, -1, l, 3, probs, &top, &reason), 0);
	/* thresholds by other lengths than the main ones are refused */
	ck_assert_int_eq(rf_ckpt_meta_set(&mf->meta, GF_OPENSET_KEY_NOVEL, "100:1,500:0.9", err, sizeof err), 0);
	ck_assert_int_eq(gf_openset_load(&back, mf, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "other lengths"));
	gf_modelfile_free(mf);
	tu_scratch_remove(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("openset");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, entropy_of_tandem_repeats_is_log2_of_the_period);
	tcase_add_test(tc, lowinfo_reasons_in_order);
	tcase_add_test(tc, call_gives_each_reason);
	tcase_add_test(tc, threshold_is_the_lowest_reaching_the_target);
	tcase_add_test(tc, crops_are_deterministic_and_within_bounds);
	tcase_add_test(tc, background_class_and_threshold_round_trip_through_the_file);
	tcase_add_test(tc, novel_records_get_their_own_thresholds_through_the_file);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
