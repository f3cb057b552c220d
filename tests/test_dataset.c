/* src/dataset: the training/validation split, windows sampled from the
 * training bases only, weighting by length or by class, reverse-complement
 * augmentation, determinism in (seed, step, row), validation windows, and
 * masked-LM masking rates. Rates are checked over 4000 draws with
 * tolerances of about 4 standard deviations. */
#include <ctype.h>
#include <stdint.h>

#include "src/dataset.h"
#include "genomics/kmer.h"
#include "genomics/seqio.h"
#include "tests/testutil.h"

enum { K = 3, L = 16, SPAN = (L - 1) * K + K, DRAWS = 4000 };

/* Random ACGT bases from a small LCG (so the k-mers of a window occur once
 * in the record with overwhelming probability). */
static char *random_bases(size_t n, uint32_t seed)
{
	char *s = malloc(n + 1);
	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1664525u + 1013904223u;
		s[i] = "ACGT"[seed >> 30];
	}
	s[n] = 0;
	return s;
}

/* Dataset of stride-k windows over the given records (class i for record i
 * when labelled), finished. */
static void make(gf_dataset_t *ds, int n, char **seqs, const size_t *lens, int labelled, int role, double frac,
                 int balance)
{
	char err[256];
	gf_dataset_init(ds, K, K, L, labelled ? n : 0);
	for (int i = 0; i < n; i++) {
		char name[16];
		snprintf(name, sizeof name, "r%d", i);
		ck_assert_int_eq(gf_dataset_add(ds, name, seqs[i], lens[i], labelled ? i : -1, role, frac), 0);
	}
	ck_assert_msg(gf_dataset_finish(ds, balance, 1000, err, sizeof err) == 0, "%s", err);
}

/* Where the window's bases lie in the record: their offset on the forward
 * strand, and whether they were read as the reverse complement; -1 when
 * they are not in [0, limit). */
static long locate(const int32_t *tok, const uint8_t *mask, const char *seq, size_t limit, int *rc)
{
	char bases[SPAN + 1];
	int m = 0;
	while (m < L && mask[m]) m++;
	ck_assert_int_ge(gf_kmer_decode(tok, m, K, K, bases), 0);
	char *part = strndup(seq, limit), *hit = strstr(part, bases);
	*rc = 0;
	if (!hit) {
		gf_revcomp(bases, strlen(bases));
		hit = strstr(part, bases);
		*rc = 1;
	}
	long at = hit ? hit - part : -1;
	free(part);
	return at;
}

START_TEST(val_frac_holds_out_the_last_bases_of_every_record)
{
	char *s[2] = { random_bases(1000, 1), random_bases(333, 2) };
	size_t n[2] = { 1000, 333 };
	gf_dataset_t ds;
	make(&ds, 2, s, n, 1, GF_DS_SPLIT, 0.1, 0);
	ck_assert_uint_eq(ds.rec[0].split, 900);
	ck_assert_uint_eq(ds.rec[1].split, 300);
	ck_assert_uint_eq(ds.train_bases, 1200);
	ck_assert_uint_eq(ds.val_bases, 133);
	gf_dataset_free(&ds);
	free(s[0]);
	free(s[1]);
}
END_TEST

START_TEST(sampled_windows_come_from_training_bases_on_both_strands)
{
	char *s[1] = { random_bases(2000, 3) };
	size_t n[1] = { 2000 };
	gf_dataset_t ds;
	make(&ds, 1, s, n, 1, GF_DS_SPLIT, 0.25, 0);
	char scratch[SPAN];
	int32_t tok[L], label;
	uint8_t mask[L];
	int n_rc = 0;
	for (int i = 0; i < DRAWS; i++) {
		gf_dataset_sample(&ds, 7, i / 8, i % 8, 1, scratch, tok, mask, &label);
		int rc;
		ck_assert_int_eq(label, 0);
		for (int j = 0; j < L; j++) ck_assert_int_eq(mask[j], 1);
		ck_assert_msg(locate(tok, mask, s[0], 1500, &rc) >= 0, "draw %d not within the training bases", i);
		n_rc += rc;
	}
	ck_assert_msg(abs(n_rc - DRAWS / 2) < 130, "%d of %d windows reverse-complemented", n_rc, DRAWS);
	for (int i = 0; i < 200; i++) {
		int rc;
		gf_dataset_sample(&ds, 7, i, 0, 0, scratch, tok, mask, &label);
		ck_assert_int_ge(locate(tok, mask, s[0], 1500, &rc), 0);
		ck_assert_int_eq(rc, 0);
	}
	gf_dataset_free(&ds);
	free(s[0]);
}
END_TEST

START_TEST(samples_are_a_function_of_seed_step_and_row)
{
	char *s[2] = { random_bases(5000, 4), random_bases(3000, 5) };
	size_t n[2] = { 5000, 3000 };
	gf_dataset_t ds;
	make(&ds, 2, s, n, 1, GF_DS_SPLIT, 0.1, 0);
	char scratch[SPAN];
	int32_t a[L], b[L], la, lb;
	uint8_t ma[L], mb[L];
	gf_dataset_sample(&ds, 1, 5, 3, 1, scratch, a, ma, &la);
	gf_dataset_sample(&ds, 1, 6, 3, 1, scratch, b, mb, &lb);
	gf_dataset_sample(&ds, 1, 5, 3, 1, scratch, b, mb, &lb);
	ck_assert_mem_eq(a, b, sizeof a);
	ck_assert_int_eq(la, lb);
	int differ = 0;
	for (uint64_t step = 0; step < 20; step++) {
		gf_dataset_sample(&ds, 1, step, 0, 1, scratch, a, ma, &la);
		gf_dataset_sample(&ds, 2, step, 0, 1, scratch, b, mb, &lb);
		differ += memcmp(a, b, sizeof a) != 0;
	}
	ck_assert_int_ge(differ, 19);
	gf_dataset_free(&ds);
	free(s[0]);
	free(s[1]);
}
END_TEST

/* Share of draws from record 0 (class 0) of two records. */
static double share_of_first(int balance)
{
	char *s[2] = { random_bases(1000, 6), random_bases(3000, 7) };
	size_t n[2] = { 1000, 3000 };
	gf_dataset_t ds;
	make(&ds, 2, s, n, 1, GF_DS_TRAIN, 0, balance);
	char scratch[SPAN];
	int32_t tok[L], label;
	uint8_t mask[L];
	int first = 0;
	for (int i = 0; i < DRAWS; i++) {
		gf_dataset_sample(&ds, 3, i, 0, 0, scratch, tok, mask, &label);
		first += label == 0;
	}
	gf_dataset_free(&ds);
	free(s[0]);
	free(s[1]);
	return (double)first / DRAWS;
}

START_TEST(records_are_drawn_by_length)
{
	double p = share_of_first(0);
	ck_assert_msg(fabs(p - 0.25) < 0.03, "record of 1000 of 4000 bases drawn %.3f of the time", p);
}
END_TEST

START_TEST(balance_draws_classes_equally)
{
	double p = share_of_first(1);
	ck_assert_msg(fabs(p - 0.5) < 0.035, "class 0 drawn %.3f of the time with --balance", p);
}
END_TEST

START_TEST(short_record_gives_a_padded_window)
{
	char *s[1] = { random_bases(20, 8) };
	size_t n[1] = { 20 };
	gf_dataset_t ds;
	make(&ds, 1, s, n, 0, GF_DS_TRAIN, 0, 0);
	char scratch[SPAN];
	int32_t tok[L], label;
	uint8_t mask[L];
	gf_dataset_sample(&ds, 1, 0, 0, 0, scratch, tok, mask, &label);
	ck_assert_int_eq(label, -1);
	for (int j = 0; j < L; j++) {
		ck_assert_int_eq(mask[j], j < 6);
		if (j >= 6) ck_assert_int_eq(tok[j], GF_TOK_PAD);
	}
	int rc;
	ck_assert_int_eq(locate(tok, mask, s[0], 20, &rc), 0);
	gf_dataset_free(&ds);
	free(s[0]);
}
END_TEST

START_TEST(validation_windows_tile_the_held_out_bases)
{
	/* 480 validation bases = 10 windows of 48 */
	char *s[2] = { random_bases(4800, 9), random_bases(480, 10) };
	size_t n[2] = { 4800, 480 };
	char err[256];
	gf_dataset_t ds;
	gf_dataset_init(&ds, K, K, L, 2);
	ck_assert_int_eq(gf_dataset_add(&ds, "a", s[0], n[0], 0, GF_DS_SPLIT, 0.1), 0);
	ck_assert_int_eq(gf_dataset_add(&ds, "b", s[1], n[1], 1, GF_DS_VAL, 0), 0);
	ck_assert_int_eq(gf_dataset_finish(&ds, 0, 1000, err, sizeof err), 0);
	ck_assert_uint_eq(ds.n_val, 20);
	int32_t tok[L], label;
	uint8_t mask[L];
	for (size_t i = 0; i < ds.n_val; i++) {
		int rc;
		gf_dataset_val(&ds, i, tok, mask, &label);
		ck_assert_int_eq(label, i < 10 ? 0 : 1);
		long at = locate(tok, mask, i < 10 ? s[0] + 4320 : s[1], 480, &rc);
		ck_assert_int_eq(rc, 0);
		ck_assert_int_eq(at, (long)(i % 10) * SPAN);
	}
	ck_assert_int_eq(gf_dataset_finish(&ds, 0, 5, err, sizeof err), 0);
	ck_assert_uint_eq(ds.n_val, 5);
	static const size_t want_rec[5] = { 0, 0, 0, 1, 1 }, want_idx[5] = { 0, 4, 8, 2, 6 };
	for (int i = 0; i < 5; i++) {
		ck_assert_uint_eq(ds.val_rec[i], want_rec[i]);
		ck_assert_uint_eq(ds.val_idx[i], want_idx[i]);
	}
	gf_dataset_free(&ds);
	free(s[0]);
	free(s[1]);
}
END_TEST

START_TEST(no_training_bases_and_empty_balanced_class_are_errors)
{
	char *s[2] = { random_bases(100, 11), random_bases(100, 12) };
	char err[256];
	gf_dataset_t ds;
	gf_dataset_init(&ds, K, K, L, 2);
	ck_assert_int_eq(gf_dataset_add(&ds, "a", s[0], 100, 0, GF_DS_VAL, 0), 0);
	ck_assert_int_eq(gf_dataset_finish(&ds, 0, 10, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "no training data"), "%s", err);
	ck_assert_int_eq(gf_dataset_add(&ds, "b", s[1], 100, 1, GF_DS_TRAIN, 0), 0);
	ck_assert_int_eq(gf_dataset_finish(&ds, 0, 10, err, sizeof err), 0);
	ck_assert_int_eq(gf_dataset_finish(&ds, 1, 10, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "class 0 has no training bases"), "%s", err);
	gf_dataset_free(&ds);
	free(s[0]);
	free(s[1]);
}
END_TEST

START_TEST(a_class_without_training_windows_is_named)
{
	char *s[2] = { random_bases(100, 11), random_bases(100, 12) };
	char err[256];
	gf_dataset_t ds;
	gf_dataset_init(&ds, K, K, L, 3);
	ck_assert_int_eq(gf_dataset_add(&ds, "a", s[0], 100, 0, GF_DS_SPLIT, 0.1), 0);
	ck_assert_int_eq(gf_dataset_add(&ds, "b", s[1], 100, 2, GF_DS_SPLIT, 0.1), 0);
	ck_assert_int_eq(gf_dataset_finish(&ds, 0, 10, err, sizeof err), 0);
	ck_assert_int_eq(gf_dataset_empty_class(&ds), 1);
	ck_assert_int_eq(gf_dataset_add(&ds, "c", s[1], 1, 1, GF_DS_SPLIT, 0.1), 0);
	ck_assert_int_eq(gf_dataset_finish(&ds, 0, 10, err, sizeof err), 0);
	ck_assert_int_eq(gf_dataset_empty_class(&ds), 1); /* one base: no k-mer */
	ck_assert_int_eq(gf_dataset_add(&ds, "d", s[0] + 50, 50, 1, GF_DS_SPLIT, 0.1), 0);
	ck_assert_int_eq(gf_dataset_finish(&ds, 0, 10, err, sizeof err), 0);
	ck_assert_int_eq(gf_dataset_empty_class(&ds), -1);
	gf_dataset_free(&ds);
	free(s[0]);
	free(s[1]);
}
END_TEST

START_TEST(the_same_bases_in_two_classes_or_across_the_split_are_found)
{
	char *s = random_bases(200, 21), *lower = strdup(s), *rc = strdup(s), *other = random_bases(200, 22);
	for (int j = 0; j < 200; j++) lower[j] = (char)tolower((unsigned char)lower[j]);
	gf_revcomp(rc, 200);
	gf_dataset_t ds;
	gf_ds_dups_t d;
	gf_dataset_init(&ds, K, K, L, 2);
	/* the same genome twice in one class, split alike: harmless */
	ck_assert_int_eq(gf_dataset_add(&ds, "a", s, 200, 0, GF_DS_SPLIT, 0.1), 0);
	ck_assert_int_eq(gf_dataset_add(&ds, "a2", s, 200, 0, GF_DS_SPLIT, 0.1), 0);
	ck_assert_int_eq(gf_dataset_add(&ds, "o", other, 200, 1, GF_DS_SPLIT, 0.1), 0);
	ck_assert_int_eq(gf_dataset_duplicates(&ds, &d), 0);
	ck_assert_uint_eq(d.pairs[GF_DS_DUP_CLASSES] + d.pairs[GF_DS_DUP_VAL], 0);
	/* soft-masked copy in another class */
	ck_assert_int_eq(gf_dataset_add(&ds, "b", lower, 200, 1, GF_DS_SPLIT, 0.1), 0);
	/* reverse complement as validation data (--val) */
	ck_assert_int_eq(gf_dataset_add(&ds, "v", rc, 200, 0, GF_DS_VAL, 0), 0);
	ck_assert_int_eq(gf_dataset_duplicates(&ds, &d), 0);
	ck_assert_uint_eq(d.pairs[GF_DS_DUP_CLASSES], 3); /* a-b, a2-b, b-v */
	ck_assert_uint_eq(d.a[GF_DS_DUP_CLASSES], 0);
	ck_assert_uint_eq(d.b[GF_DS_DUP_CLASSES], 3);
	ck_assert_int_eq(d.rc[GF_DS_DUP_CLASSES], 0);
	ck_assert_uint_eq(d.bases[GF_DS_DUP_CLASSES], 600);
	ck_assert_uint_eq(d.pairs[GF_DS_DUP_VAL], 2); /* a-v, a2-v */
	ck_assert_uint_eq(d.a[GF_DS_DUP_VAL], 0);
	ck_assert_uint_eq(d.b[GF_DS_DUP_VAL], 4);
	ck_assert_int_eq(d.rc[GF_DS_DUP_VAL], 1);
	gf_dataset_free(&ds);
	free(s);
	free(lower);
	free(rc);
	free(other);
}
END_TEST

START_TEST(mlm_masks_15_percent_of_kmers_80_10_10)
{
	enum { B = 8, ML = 500 };
	static int32_t tok[B * ML], orig[B * ML], again[B * ML], pos[B * ML], tgt[B * ML];
	static uint8_t mask[B * ML];
	int eligible = 0;
	for (int i = 0; i < B * ML; i++) {
		orig[i] = i % 97 == 0 ? GF_TOK_UNK : GF_TOK_N_SPECIAL + (i * 31) % 64;
		mask[i] = i % ML < ML - 20;
		if (!mask[i]) orig[i] = GF_TOK_PAD;
		eligible += mask[i] && orig[i] >= GF_TOK_N_SPECIAL;
	}
	memcpy(tok, orig, sizeof tok);
	int n = gf_mlm_mask(tok, mask, B, ML, K, 0.15, 5, 9, 0, pos, tgt);
	ck_assert_msg(fabs((double)n / eligible - 0.15) < 0.025, "%d of %d tokens chosen", n, eligible);
	int masked = 0, kept = 0, changed = 0;
	for (int t = 0; t < n; t++) {
		int i = pos[t];
		ck_assert_int_eq(tgt[t], orig[i]);
		ck_assert_int_eq(mask[i], 1);
		ck_assert_int_ge(orig[i], GF_TOK_N_SPECIAL);
		if (tok[i] == GF_TOK_MASK) masked++;
		else if (tok[i] == orig[i]) kept++;
		else changed++;
		ck_assert_int_lt(tok[i], GF_TOK_N_SPECIAL + 64);
	}
	ck_assert_msg(fabs((double)masked / n - 0.8) < 0.07 && fabs((double)(kept + changed) / n - 0.2) < 0.07,
	              "%d masked, %d kept, %d random of %d", masked, kept, changed, n);
	int unchosen_changed = 0;
	for (int i = 0, t = 0; i < B * ML; i++) {
		if (t < n && pos[t] == i) { t++; continue; }
		unchosen_changed += tok[i] != orig[i];
	}
	ck_assert_int_eq(unchosen_changed, 0);
	memcpy(again, orig, sizeof again);
	ck_assert_int_eq(gf_mlm_mask(again, mask, B, ML, K, 0.15, 5, 9, 0, pos, tgt), n);
	ck_assert_mem_eq(again, tok, sizeof tok);
	/* rows keyed by row0 + b: row 1 of this batch is row 0 of one starting at row0 = 1 */
	memcpy(again, orig + ML, ML * sizeof *again);
	gf_mlm_mask(again, mask + ML, 1, ML, K, 0.15, 5, 9, 1, pos, tgt);
	ck_assert_mem_eq(again, tok + ML, ML * sizeof *again);
}
END_TEST

START_TEST(mlm_masks_one_token_when_chance_picks_none)
{
	int32_t tok[4] = { GF_TOK_UNK, 9, 10, GF_TOK_PAD }, pos[4], tgt[4];
	uint8_t mask[4] = { 1, 1, 1, 0 };
	ck_assert_int_eq(gf_mlm_mask(tok, mask, 1, 4, K, 0.0, 1, 1, 0, pos, tgt), 1);
	ck_assert_int_eq(pos[0], 1);
	ck_assert_int_eq(tgt[0], 9);
	ck_assert_int_eq(tok[1], GF_TOK_MASK);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("dataset");
	TCase *t = tcase_create("dataset");
	tcase_add_test(t, val_frac_holds_out_the_last_bases_of_every_record);
	tcase_add_test(t, sampled_windows_come_from_training_bases_on_both_strands);
	tcase_add_test(t, samples_are_a_function_of_seed_step_and_row);
	tcase_add_test(t, records_are_drawn_by_length);
	tcase_add_test(t, balance_draws_classes_equally);
	tcase_add_test(t, short_record_gives_a_padded_window);
	tcase_add_test(t, validation_windows_tile_the_held_out_bases);
	tcase_add_test(t, no_training_bases_and_empty_balanced_class_are_errors);
	tcase_add_test(t, a_class_without_training_windows_is_named);
	tcase_add_test(t, the_same_bases_in_two_classes_or_across_the_split_are_found);
	tcase_add_test(t, mlm_masks_15_percent_of_kmers_80_10_10);
	tcase_add_test(t, mlm_masks_one_token_when_chance_picks_none);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return tu_run_suite(suite());
}
