/* Windows: count, coverage of every token and base, padding and mask,
 * overlap, base coordinates. */
#include "tests/testutil.h"

#include <stdint.h>

#include "genomics/kmer.h"
#include "genomics/window.h"

START_TEST(count_follows_length_and_overlap)
{
	ck_assert_uint_eq(gf_window_count(0, 4, 0), 0);
	ck_assert_uint_eq(gf_window_count(1, 4, 0), 1);
	ck_assert_uint_eq(gf_window_count(4, 4, 0), 1);
	ck_assert_uint_eq(gf_window_count(5, 4, 0), 2);
	ck_assert_uint_eq(gf_window_count(10, 4, 0), 3);
	ck_assert_uint_eq(gf_window_count(10, 4, 2), 4); /* starts 0 2 4 6 */
	ck_assert_uint_eq(gf_window_count(11, 4, 2), 5);
}
END_TEST

/* Cuts the stream of n pseudo-random bases into windows and checks each
 * against the whole stream: tokens, padding, mask, step, base range. */
static void check_cut(size_t n, int L, int O, int k, int stride, int64_t offset)
{
	char *seq = malloc(n + 1);
	unsigned st = (unsigned)(n * 31 + L);
	for (size_t i = 0; i < n; i++) seq[i] = "ACGTACGTacgtN"[rand_r(&st) % 13];
	size_t m = gf_kmer_count(n, k, stride);
	int32_t *tok = malloc(m * sizeof *tok + 1);
	int *seen = calloc(m + 1, sizeof *seen);
	gf_window_t w;
	ck_assert_uint_eq(gf_kmer_tokenize(seq, n, k, stride, tok), m);
	ck_assert_int_eq(gf_window_init(&w, L), 0);
	size_t nw = gf_window_count(m, L, O);
	int64_t prev_beg = 0;
	for (size_t i = 0; i < nw; i++) {
		gf_window_get(&w, seq, n, k, stride, O, 7, offset, i);
		ck_assert_uint_eq(w.record, 7);
		ck_assert_uint_eq(w.index, i);
		ck_assert_uint_eq(w.tok_beg, i * (size_t)(L - O));
		ck_assert_int_ge(w.n_real, 1);
		ck_assert_int_eq(w.n_real < L, i == nw - 1 && w.tok_beg + L > m);
		for (int j = 0; j < L; j++) {
			if (j < w.n_real) {
				ck_assert_int_eq(w.mask[j], 1);
				ck_assert_int_eq(w.tok[j], tok[w.tok_beg + j]);
				seen[w.tok_beg + j]++;
			} else {
				ck_assert_int_eq(w.mask[j], 0);
				ck_assert_int_eq(w.tok[j], GF_TOK_PAD);
			}
		}
		ck_assert_int_eq(w.beg, offset + (int64_t)(w.tok_beg * stride));
		ck_assert_int_eq(w.end, w.beg + (int64_t)(w.n_real - 1) * stride + k);
		if (i) ck_assert_int_eq(w.beg - prev_beg, (int64_t)(L - O) * stride);
		prev_beg = w.beg;
	}
	/* the last window ends where the tokens' coverage ends */
	if (nw) ck_assert_int_eq(w.end, offset + (int64_t)gf_kmer_covered(n, k, stride));
	for (size_t i = 0; i < m; i++) {
		if (O == 0) ck_assert_msg(seen[i] == 1, "n=%zu L=%d: token %zu in %d windows", n, L, i, seen[i]);
		else ck_assert_msg(seen[i] >= 1, "n=%zu L=%d O=%d: token %zu in no window", n, L, O, i);
	}
	gf_window_free(&w);
	free(seen);
	free(tok);
	free(seq);
}

START_TEST(without_overlap_every_token_is_in_exactly_one_window)
{
	for (size_t n = 0; n < 80; n++)
		for (int L = 1; L <= 9; L++) {
			check_cut(n, L, 0, 3, 3, 0);
			check_cut(n, L, 0, 4, 3, 0);
		}
}
END_TEST

START_TEST(with_overlap_windows_step_evenly_and_miss_no_token)
{
	for (size_t n = 0; n < 70; n++)
		for (int L = 2; L <= 9; L++)
			for (int O = 1; O < L; O++) check_cut(n, L, O, 6, 1, 0);
}
END_TEST

START_TEST(non_overlapping_windows_tile_the_covered_bases)
{
	/* k = stride = 4, 23 bases: 5 tokens cover [0, 20); windows of 2 tokens
	 * give [0,8) [8,16) [16,20), the last one padded. */
	const char seq[] = "ACGTACGTACGTACGTACGTACG";
	size_t m = gf_kmer_count(strlen(seq), 4, 4);
	gf_window_t w;
	ck_assert_uint_eq(m, 5);
	ck_assert_int_eq(gf_window_init(&w, 2), 0);
	ck_assert_uint_eq(gf_window_count(m, 2, 0), 3);
	const int64_t want[3][2] = { { 0, 8 }, { 8, 16 }, { 16, 20 } };
	for (size_t i = 0; i < 3; i++) {
		gf_window_get(&w, seq, strlen(seq), 4, 4, 0, 0, 0, i);
		ck_assert_int_eq(w.beg, want[i][0]);
		ck_assert_int_eq(w.end, want[i][1]);
	}
	ck_assert_int_eq(w.n_real, 1);
	ck_assert_int_eq(w.tok[0], 5 + 0x1b); /* ACGT = 0b00011011 */
	ck_assert_int_eq(w.mask[1], 0);
	ck_assert_int_eq(w.tok[1], GF_TOK_PAD);
	gf_window_free(&w);
}
END_TEST

START_TEST(coordinates_carry_the_region_offset)
{
	check_cut(41, 5, 2, 3, 2, 1000);
	check_cut(170, 5, 0, 8, 8, 1000000000000LL);
}
END_TEST

START_TEST(check_rejects_bad_length_and_overlap)
{
	char err[256];
	ck_assert_int_eq(gf_window_check(0, 0, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "window length"));
	ck_assert_int_eq(gf_window_check(4, 4, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "overlap"));
	ck_assert_int_eq(gf_window_check(4, -1, err, sizeof err), -1);
	ck_assert_int_eq(gf_window_check(4, 3, err, sizeof err), 0);
	ck_assert_int_eq(gf_window_check(1, 0, err, sizeof err), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("window");
	TCase *tc = tcase_create("window");
	tcase_add_test(tc, count_follows_length_and_overlap);
	tcase_add_test(tc, without_overlap_every_token_is_in_exactly_one_window);
	tcase_add_test(tc, with_overlap_windows_step_evenly_and_miss_no_token);
	tcase_add_test(tc, non_overlapping_windows_tile_the_covered_bases);
	tcase_add_test(tc, coordinates_carry_the_region_offset);
	tcase_add_test(tc, check_rejects_bad_length_and_overlap);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
