/* Few examples per class: the validation split by whole records, the k-mer
 * head (fit, bootstrap, stored text round trip) and hierarchical calls. */
#include "tests/testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/rng.h"
#include "model/config.h"
#include "src/earlystop.h"
#include "src/kmerhead.h"
#include "src/lineage.h"
#include "src/markers.h"

/* A random sequence of n bases keyed by key (static buffer per slot). */
static char *random_seq(int slot, size_t n, uint64_t key)
{
	static char buf[8][4096];
	ck_assert_uint_lt(n, sizeof buf[slot]);
	for (size_t i = 0; i < n; i++) buf[slot][i] = "ACGT"[rf_rng_u64(key, i) & 3];
	buf[slot][n] = 0;
	return buf[slot];
}

/* s with a substitution every `every` bases, keyed by key. */
static void mutate(char *s, size_t n, size_t every, uint64_t key)
{
	for (size_t i = every / 2; i < n; i += every) s[i] = "ACGT"[(strchr("ACGT", s[i]) - "ACGT" + 1 + rf_rng_u64(key, i) % 3) & 3];
}

START_TEST(record_split_holds_out_whole_records_stratified_by_class)
{
	gf_dataset_t ds;
	gf_dataset_init(&ds, 3, 3, 16, 3);
	/* class 0: 10 records, class 1: 3, class 2: 2 (too few to split) */
	int n_of[3] = { 10, 3, 2 };
	char name[32];
	for (int c = 0; c < 3; c++)
		for (int i = 0; i < n_of[c]; i++) {
			snprintf(name, sizeof name, "c%d_r%d", c, i);
			ck_assert_int_eq(gf_dataset_add(&ds, name, random_seq(0, 300, c * 100 + i), 300, c, GF_DS_SPLIT, 0.2), 0);
		}
	ck_assert_uint_eq(gf_mk_split_records(&ds, 0.2, 1), 2 + 1);
	int val[3] = { 0 };
	uint64_t tb = 0, vb = 0;
	for (size_t i = 0; i < ds.n; i++) {
		/* every record is all training or all validation: none in both */
		ck_assert(ds.rec[i].split == 0 || ds.rec[i].split == ds.rec[i].len);
		val[ds.rec[i].cls] += ds.rec[i].split == 0;
		tb += ds.rec[i].split;
		vb += ds.rec[i].len - ds.rec[i].split;
	}
	ck_assert_int_eq(val[0], 2);
	ck_assert_int_eq(val[1], 1);
	ck_assert_int_eq(val[2], 0);
	ck_assert_uint_eq(ds.train_bases, tb);
	ck_assert_uint_eq(ds.val_bases, vb);
	/* the validation windows come from the held-out records only */
	char err[256];
	ck_assert_int_eq(gf_dataset_finish(&ds, 0, 1000, err, sizeof err), 0);
	for (size_t w = 0; w < ds.n_val; w++) ck_assert_uint_eq(ds.rec[ds.val_rec[w]].split, 0);
	/* the same seed holds out the same records; another seed others */
	gf_dataset_t b;
	gf_dataset_init(&b, 3, 3, 16, 3);
	for (size_t i = 0; i < ds.n; i++) gf_dataset_add(&b, ds.rec[i].name, ds.rec[i].seq, 300, ds.rec[i].cls, GF_DS_SPLIT, 0.2);
	gf_mk_split_records(&b, 0.2, 1);
	for (size_t i = 0; i < ds.n; i++) ck_assert_uint_eq(b.rec[i].split, ds.rec[i].split);
	gf_dataset_free(&b);
	gf_dataset_free(&ds);
}
END_TEST

/* Three classes of 4 mutated copies of a random 1,200 bp ancestor each. */
static gf_kh_t *three_class_head(gf_kh_rec_t *rec, char seqs[12][1300])
{
	for (int c = 0; c < 3; c++) {
		const char *anc = random_seq(1, 1200, 1000 + c);
		for (int i = 0; i < 4; i++) {
			memcpy(seqs[c * 4 + i], anc, 1201);
			mutate(seqs[c * 4 + i], 1200, 25 + i, 77 * c + i);
			rec[c * 4 + i] = (gf_kh_rec_t){ seqs[c * 4 + i], 1200, c };
		}
	}
	return gf_kh_fit(rec, 12, 3);
}

START_TEST(kmer_head_calls_a_new_variant_on_either_strand_and_confidences_sum_to_one)
{
	static char seqs[12][1300];
	gf_kh_rec_t rec[12];
	gf_kh_t *kh = three_class_head(rec, seqs);
	ck_assert_ptr_nonnull(kh);
	ck_assert_uint_eq(kh->n_rec, 12);
	ck_assert_uint_eq(kh->class_n[1], 4);
	float out[3];
	/* a fifth variant of class 2, on the reverse strand */
	char q[1300], rc[1300];
	memcpy(q, seqs[8], 1201);
	mutate(q, 1200, 31, 999);
	for (int i = 0; i < 1200; i++) rc[i] = "TGCA"[strchr("ACGT", q[1199 - i]) - "ACGT"];
	ck_assert_int_eq(gf_kh_classify(kh, rc, 1200, NULL, gf_kh_key("q"), out), 0);
	ck_assert_float_eq_tol(expf(out[2]), 1.0f, 1e-5f);
	/* the confidences are shares of the draws: they sum to 1 */
	const char *noise = random_seq(2, 1200, 4242);
	ck_assert_int_eq(gf_kh_classify(kh, noise, 1200, NULL, gf_kh_key("n"), out), 0);
	double s = 0;
	for (int c = 0; c < 3; c++) s += expf(out[c]);
	ck_assert_double_eq_tol(s, 1.0, 1e-4);
	/* no word: equal values and -1 */
	ck_assert_int_eq(gf_kh_classify(kh, "ACG", 3, NULL, 1, out), -1);
	ck_assert_float_eq(out[0], out[2]);
	gf_kh_free(kh);
}
END_TEST

START_TEST(kmer_head_text_round_trips_and_bad_text_is_refused)
{
	static char seqs[12][1300];
	gf_kh_rec_t rec[12];
	gf_kh_t *kh = three_class_head(rec, seqs);
	kh->lambda = 4.0f;
	char *text = gf_kh_format(kh), err[256];
	ck_assert_ptr_nonnull(text);
	gf_kh_t *back = gf_kh_parse(text, 3, err, sizeof err);
	ck_assert_msg(back != NULL, "%s", err);
	ck_assert_float_eq(back->lambda, 4.0f);
	ck_assert_uint_eq(back->n_rec, kh->n_rec);
	size_t nw = (size_t)1 << (2 * GF_KH_K);
	ck_assert_mem_eq(back->ptr, kh->ptr, (nw + 1) * sizeof *kh->ptr);
	ck_assert_mem_eq(back->post, kh->post, kh->ptr[nw] * sizeof *kh->post);
	ck_assert_mem_eq(back->weight, kh->weight, kh->ptr[nw] * sizeof *kh->weight);
	char sum[128];
	gf_kh_summary(text, sum, sizeof sum);
	ck_assert_ptr_nonnull(strstr(sum, "k=8 trials=100 lambda=4 records=12"));
	/* another class count, a cut line, a class out of range */
	ck_assert_ptr_null(gf_kh_parse(text, 4, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "metadata kmerhead: malformed"));
	text[strlen(text) / 2] = 0;
	ck_assert_ptr_null(gf_kh_parse(text, 3, err, sizeof err));
	ck_assert_ptr_null(gf_kh_parse("k=7 trials=100 lambda=0 records=1 words=0 nnz=0\n1 0 0", 3, err, sizeof err));
	ck_assert_ptr_null(gf_kh_parse("k=8 trials=100 lambda=0 records=1 words=1 nnz=1\n1 0 0\n5 3:1", 3, err, sizeof err));
	gf_kh_t *tiny = gf_kh_parse("k=8 trials=100 lambda=0 records=1 words=1 nnz=1\n1 0 0\n5 2:1", 3, err, sizeof err);
	ck_assert_msg(tiny != NULL, "%s", err);
	ck_assert_uint_eq(tiny->ptr[5], 0);
	ck_assert_uint_eq(tiny->ptr[6], 1);
	gf_kh_free(tiny);
	free(text);
	gf_kh_free(back);
	gf_kh_free(kh);
}
END_TEST

START_TEST(reformer_prior_breaks_a_tie_of_the_kmer_head)
{
	/* two classes with the same sequence: only the prior tells them apart */
	const char *s = random_seq(3, 800, 5);
	gf_kh_rec_t rec[2] = { { s, 800, 0 }, { s, 800, 1 } };
	gf_kh_t *kh = gf_kh_fit(rec, 2, 2);
	float ref[2] = { -3.0f, 3.0f }, out[2];
	kh->lambda = 16.0f;
	gf_kh_classify(kh, s, 800, ref, 9, out);
	ck_assert_float_eq_tol(expf(out[1]), 1.0f, 1e-5f);
	ref[0] = 3.0f, ref[1] = -3.0f;
	gf_kh_classify(kh, s, 800, ref, 9, ref);   /* ref may be out */
	ck_assert_float_eq_tol(expf(ref[0]), 1.0f, 1e-5f);
	gf_kh_free(kh);
}
END_TEST

START_TEST(lineage_call_stops_at_the_deepest_confident_rank)
{
	char *classes[] = { "Bacteria;Firmicutes;Bacilli;Lactobacillus", "Bacteria;Firmicutes;Bacilli;Bacillus",
		                "Bacteria;Firmicutes;Clostridia;Clostridium", "Bacteria;Proteobacteria;Gamma;Escherichia" };
	gf_lineage_t *lin = gf_lineage_new(classes, 4);
	ck_assert_ptr_nonnull(lin);
	ck_assert_int_eq(gf_lineage_max_depth(lin), 4);
	char call[256];
	float conf[4];
	int depth;
	/* confident down to the genus */
	float sure[4] = { 0.9f, 0.05f, 0.03f, 0.02f };
	ck_assert_int_eq(gf_lineage_call(lin, sure, 0.8f, call, sizeof call, conf, &depth), 4);
	ck_assert_str_eq(call, "Bacteria;Firmicutes;Bacilli;Lactobacillus");
	ck_assert_int_eq(depth, 4);
	/* genus 0.5 and class 0.85: the call stops at the class */
	float unsure[4] = { 0.5f, 0.35f, 0.1f, 0.05f };
	gf_lineage_call(lin, unsure, 0.8f, call, sizeof call, conf, &depth);
	ck_assert_str_eq(call, "Bacteria;Firmicutes;Bacilli");
	ck_assert_int_eq(depth, 3);
	ck_assert_float_eq_tol(conf[0], 1.0f, 1e-6f);
	ck_assert_float_eq_tol(conf[1], 0.95f, 1e-6f);
	ck_assert_float_eq_tol(conf[2], 0.85f, 1e-6f);
	ck_assert_float_eq_tol(conf[3], 0.5f, 1e-6f);
	/* a name that is a prefix of another taxon's does not count as its parent */
	char *tricky[] = { "A;Bac", "A;Bacillus" };
	gf_lineage_t *t = gf_lineage_new(tricky, 2);
	float p[2] = { 0.6f, 0.4f };
	gf_lineage_call(t, p, 0.8f, call, sizeof call, conf, &depth);
	ck_assert_str_eq(call, "A");
	ck_assert_float_eq_tol(conf[1], 0.6f, 1e-6f);
	/* nothing confident: unclassified */
	gf_lineage_call(t, p, 1.01f, call, sizeof call, conf, &depth);
	ck_assert_str_eq(call, "unclassified");
	ck_assert_int_eq(depth, 0);
	gf_lineage_free(t);
	gf_lineage_free(lin);
	/* flat classes have no lineage */
	char *flat[] = { "E.coli", "S.aureus" };
	ck_assert_ptr_null(gf_lineage_new(flat, 2));
}
END_TEST

START_TEST(early_stopping_keeps_the_parameters_of_the_lowest_validation_loss)
{
	rf_config_t c;
	char err[256];
	rf_config_default(&c);
	c.vocab = 11, c.d_model = 8, c.n_heads = 2, c.d_ff = 16, c.n_layers = 1, c.n_classes = 3;
	c.axial1 = 4, c.axial2 = 8, c.axial_d1 = 3, c.chunk_len = 4;
	rf_model_t *m = rf_model_create(&c, rf_backend_cpu(), err, sizeof err);
	ck_assert_msg(m != NULL, "%s", err);
	size_t n = rf_model_n_params(m);
	float *p = malloc(n * sizeof *p), *best = malloc(n * sizeof *best);
	gf_es_t es;
	gf_es_init(&es, 2);
	ck_assert_uint_eq(gf_es_swap(&es, m, 0), 0);   /* nothing kept yet */
	/* losses 3, 2, 2.5, 2.6 at steps 1..4: the best is step 2; two
	 * validations without a lower loss stop the run */
	const double loss[] = { 3.0, 2.0, 2.5, 2.6 };
	int stop[4];
	for (int s = 0; s < 4; s++) {
		rf_model_init(m, 100 + s);   /* other parameters at every step */
		if (s == 1) rf_model_get_params(m, best);
		stop[s] = gf_es_update(&es, m, s + 1, loss[s]);
		ck_assert_int_eq(gf_es_update(&es, m, s + 1, NAN), 0);   /* ranks without validation */
	}
	ck_assert_int_eq(stop[0], 0);
	ck_assert_int_eq(stop[1], 0);
	ck_assert_int_eq(stop[2], 0);
	ck_assert_int_eq(stop[3], 1);
	float *last = malloc(n * sizeof *last);
	rf_model_get_params(m, last);
	ck_assert_uint_eq(gf_es_swap(&es, m, 4), 2);
	rf_model_get_params(m, p);
	ck_assert_mem_eq(p, best, n * sizeof *p);
	/* swapped back: the last step's parameters, for the checkpoint */
	ck_assert_uint_eq(gf_es_swap(&es, m, 4), 2);
	rf_model_get_params(m, p);
	ck_assert_mem_eq(p, last, n * sizeof *p);
	free(last);
	/* the best is the current step: nothing to swap */
	ck_assert_uint_eq(gf_es_swap(&es, m, 2), 0);
	/* patience 0: never stops, keeps nothing */
	gf_es_t off;
	gf_es_init(&off, 0);
	ck_assert_int_eq(gf_es_update(&off, m, 1, 1.0), 0);
	ck_assert_uint_eq(gf_es_swap(&off, m, 1), 0);
	gf_es_free(&es);
	free(p);
	free(best);
	rf_model_free(m);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("markers");
	TCase *t = tcase_create("markers");
	tcase_add_test(t, record_split_holds_out_whole_records_stratified_by_class);
	tcase_add_test(t, kmer_head_calls_a_new_variant_on_either_strand_and_confidences_sum_to_one);
	tcase_add_test(t, kmer_head_text_round_trips_and_bad_text_is_refused);
	tcase_add_test(t, reformer_prior_breaks_a_tie_of_the_kmer_head);
	tcase_add_test(t, lineage_call_stops_at_the_deepest_confident_rank);
	tcase_add_test(t, early_stopping_keeps_the_parameters_of_the_lowest_validation_loss);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return tu_run_suite(suite());
}
