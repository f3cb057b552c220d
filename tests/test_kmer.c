/* k-mer tokenizer: exact ids on hand-written sequences, N/IUPAC, case, U,
 * reverse-complement identity, decode round trip, against a naive reference. */
#include "tests/testutil.h"

#include <ctype.h>
#include <stdint.h>

#include "genomics/kmer.h"

static void assert_tokens(const char *seq, int k, int stride, const int32_t *want, size_t n_want)
{
	int32_t got[64];
	size_t m = gf_kmer_tokenize(seq, strlen(seq), k, stride, got);
	ck_assert_uint_eq(m, n_want);
	ck_assert_uint_eq(gf_kmer_count(strlen(seq), k, stride), n_want);
	for (size_t i = 0; i < m; i++)
		ck_assert_msg(got[i] == want[i], "%s k=%d stride=%d: token %zu is %d, want %d", seq, k, stride, i, got[i], want[i]);
}

START_TEST(k1_maps_acgt_to_5_to_8)
{
	const int32_t want[] = { 5, 6, 7, 8, 8, 5 };
	assert_tokens("ACGTTA", 1, 1, want, 6);
}
END_TEST

START_TEST(k3_stride1_and_stride3_exact_ids)
{
	/* ACG = 0*16+1*4+2 = 6, CGT = 27, GTA = 44, TAC = 49; ids are 5 + value. */
	const int32_t s1[] = { 11, 32, 49, 54 };
	const int32_t s3[] = { 11, 54 };
	assert_tokens("ACGTAC", 3, 1, s1, 4);
	assert_tokens("ACGTAC", 3, 3, s3, 2);
}
END_TEST

START_TEST(k6_stride1_and_stride6_exact_ids)
{
	/* ACGTAC = 433, CGTACG = 1734, GTACGT = 2843, TTTTTT = 4095. */
	const int32_t s1[] = { 438, 1739, 2848 };
	const int32_t s6[] = { 438, 2848 };
	const int32_t t6[] = { 4100, 5 };
	assert_tokens("ACGTACGT", 6, 1, s1, 3);
	assert_tokens("ACGTACGTACGT", 6, 6, s6, 2);
	assert_tokens("TTTTTTAAAAAA", 6, 6, t6, 2);
	ck_assert_int_eq(gf_kmer_vocab_size(6), 4101);
}
END_TEST

START_TEST(kmer_holding_n_or_iupac_is_unk)
{
	/* AC = 1, GT = 11; every 2-mer touching N, R, Y or '-' is [UNK]. */
	const int32_t want[] = { 6, GF_TOK_UNK, GF_TOK_UNK, 16 };
	assert_tokens("ACNGT", 2, 1, want, 4);
	assert_tokens("ACRGT", 2, 1, want, 4);
	assert_tokens("ACyGT", 2, 1, want, 4);
	assert_tokens("AC-GT", 2, 1, want, 4);
	const int32_t s2[] = { 6, GF_TOK_UNK, 5 };
	assert_tokens("ACNNAA", 2, 2, s2, 3);
}
END_TEST

START_TEST(lowercase_counts_as_uppercase_and_u_as_t)
{
	const int32_t want[] = { 11, 32, 49, 54 };
	assert_tokens("acgtac", 3, 1, want, 4);
	assert_tokens("AcGuAc", 3, 1, want, 4);
	assert_tokens("ACGUAC", 3, 1, want, 4);
}
END_TEST

START_TEST(short_sequence_gives_no_tokens_and_tail_is_reported)
{
	int32_t t[4];
	ck_assert_uint_eq(gf_kmer_tokenize("ACGTA", 5, 6, 1, t), 0);
	ck_assert_uint_eq(gf_kmer_covered(5, 6, 1), 0);
	/* 10 bases, k=3, stride 3: tokens at 0, 3, 6 cover 9 bases; 1 left. */
	ck_assert_uint_eq(gf_kmer_count(10, 3, 3), 3);
	ck_assert_uint_eq(gf_kmer_covered(10, 3, 3), 9);
	ck_assert_uint_eq(gf_kmer_covered(10, 3, 1), 10);
	ck_assert_uint_eq(gf_kmer_covered(0, 1, 1), 0);
}
END_TEST

START_TEST(check_rejects_k_and_stride_out_of_range)
{
	char err[256];
	ck_assert_int_eq(gf_kmer_check(0, 1, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "k must be between 1 and 8"));
	ck_assert_int_eq(gf_kmer_check(9, 1, err, sizeof err), -1);
	ck_assert_int_eq(gf_kmer_check(4, 5, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "stride"));
	ck_assert_int_eq(gf_kmer_check(4, 0, err, sizeof err), -1);
	ck_assert_int_eq(gf_kmer_check(8, 8, err, sizeof err), 0);
	ck_assert_int_eq(gf_kmer_check(1, 1, err, sizeof err), 0);
}
END_TEST

/* Deterministic pseudo-random bases; with_n adds N, R and lowercase. */
static void random_seq(char *s, size_t n, unsigned *state, int with_n)
{
	const char *alpha = with_n ? "ACGTACGTacgtNR" : "ACGTacgtU";
	size_t na = strlen(alpha);
	for (size_t i = 0; i < n; i++) s[i] = alpha[rand_r(state) % na];
	s[n] = 0;
}

static char complement(char c)
{
	switch (toupper((unsigned char)c)) {
	case 'A': return 'T';
	case 'C': return 'G';
	case 'G': return 'C';
	case 'T': case 'U': return 'A';
	default: return 'N';
	}
}

static void revcomp_str(const char *s, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) out[i] = complement(s[n - 1 - i]);
	out[n] = 0;
}

/* Independent reference: each k-mer parsed from its own bases. */
static int32_t naive_token(const char *s, int k)
{
	int32_t v = 0;
	for (int i = 0; i < k; i++) {
		const char *p = strchr("ACGT", toupper((unsigned char)(s[i] == 'U' || s[i] == 'u' ? 'T' : s[i])));
		if (!p || !*p) return GF_TOK_UNK;
		v = v * 4 + (int32_t)(p - "ACGT");
	}
	return GF_TOK_N_SPECIAL + v;
}

START_TEST(tokenize_matches_naive_reference_for_every_k_and_stride)
{
	enum { N = 300 };
	char s[N + 1];
	int32_t tok[N];
	unsigned st = 7;
	for (int k = 1; k <= GF_KMER_MAX_K; k++)
		for (int stride = 1; stride <= k; stride++)
			for (size_t n = 0; n < N; n += 37) {
				random_seq(s, n, &st, 1);
				size_t m = gf_kmer_tokenize(s, n, k, stride, tok);
				ck_assert_uint_eq(m, gf_kmer_count(n, k, stride));
				for (size_t j = 0; j < m; j++)
					ck_assert_int_eq(tok[j], naive_token(s + j * stride, k));
			}
}
END_TEST

START_TEST(tokenize_part_equals_the_slice_of_the_whole_stream)
{
	enum { N = 200 };
	char s[N + 1];
	int32_t all[N], part[N];
	unsigned st = 5;
	random_seq(s, N, &st, 1);
	for (int k = 1; k <= GF_KMER_MAX_K; k += 3)
		for (int stride = 1; stride <= k; stride++) {
			size_t m = gf_kmer_tokenize(s, N, k, stride, all);
			for (size_t first = 0; first <= m + 1; first += 7)
				for (size_t count = 0; count < 30; count += 4) {
					size_t want = first >= m ? 0 : (count < m - first ? count : m - first);
					ck_assert_uint_eq(gf_kmer_tokenize_part(s, N, k, stride, first, count, part), want);
					for (size_t j = 0; j < want; j++) ck_assert_int_eq(part[j], all[first + j]);
				}
		}
}
END_TEST

static void assert_revcomp_identity(int k, int stride, size_t n, unsigned *st)
{
	char s[512], rc[512];
	int32_t fwd[512], rev[512];
	random_seq(s, n, st, 1);
	revcomp_str(s, n, rc);
	size_t m = gf_kmer_tokenize(s, n, k, stride, fwd);
	ck_assert_uint_eq(gf_kmer_tokenize(rc, n, k, stride, rev), m);
	gf_kmer_revcomp_tokens(fwd, m, k, fwd);
	for (size_t j = 0; j < m; j++)
		ck_assert_msg(fwd[j] == rev[j], "k=%d stride=%d n=%zu: token %zu is %d, want %d", k, stride, n, j, fwd[j], rev[j]);
}

START_TEST(revcomp_tokens_equal_tokens_of_revcomp_bases)
{
	unsigned st = 11;
	for (int k = 1; k <= GF_KMER_MAX_K; k++)
		for (size_t q = 0; q < 40; q++) {
			assert_revcomp_identity(k, 1, k + q * 7, &st);
			/* stride k with no tail: n - k a multiple of k */
			assert_revcomp_identity(k, k, k + q * k, &st);
		}
}
END_TEST

START_TEST(revcomp_of_single_kmer_is_exact)
{
	/* AACGT (value 27) reverse-complements to ACGTT (value 111); [UNK] stays. */
	int32_t t[2] = { 5 + 27, GF_TOK_UNK };
	gf_kmer_revcomp_tokens(t, 2, 5, t);
	ck_assert_int_eq(t[0], GF_TOK_UNK);
	ck_assert_int_eq(t[1], 5 + 111);
}
END_TEST

START_TEST(decode_round_trips_bases_for_every_k_and_stride)
{
	enum { N = 257 };
	char s[N + 1], out[N + 1];
	int32_t tok[N];
	unsigned st = 3;
	for (int k = 1; k <= GF_KMER_MAX_K; k++)
		for (int stride = 1; stride <= k; stride++) {
			random_seq(s, N, &st, 0);
			size_t m = gf_kmer_tokenize(s, N, k, stride, tok);
			int64_t n = gf_kmer_decode(tok, m, k, stride, out);
			ck_assert_int_eq(n, (int64_t)gf_kmer_covered(N, k, stride));
			for (int64_t i = 0; i < n; i++) {
				char want = (char)toupper((unsigned char)s[i]);
				ck_assert_int_eq(out[i], want == 'U' ? 'T' : want);
			}
			ck_assert_int_eq(out[n], 0);
		}
}
END_TEST

START_TEST(decode_refuses_unk_and_inconsistent_neighbours)
{
	char out[16];
	int32_t t[4];
	size_t m = gf_kmer_tokenize("ACNGT", 5, 2, 1, t);
	ck_assert_int_eq(gf_kmer_decode(t, m, 2, 1, out), -1);
	/* AC then GT overlap in one base with stride 1: C != G */
	int32_t bad[2] = { 6, 16 };
	ck_assert_int_eq(gf_kmer_decode(bad, 2, 2, 1, out), -1);
	ck_assert_int_eq(gf_kmer_decode(bad, 2, 2, 2, out), 4);
	ck_assert_str_eq(out, "ACGT");
}
END_TEST

START_TEST(token_names_cover_specials_and_kmers)
{
	char b[16];
	ck_assert_str_eq(gf_kmer_token_name(GF_TOK_PAD, 3, b), "[PAD]");
	ck_assert_str_eq(gf_kmer_token_name(GF_TOK_MASK, 3, b), "[MASK]");
	ck_assert_str_eq(gf_kmer_token_name(11, 3, b), "ACG");
	ck_assert_str_eq(gf_kmer_token_name(5 + 63, 3, b), "TTT");
	ck_assert_str_eq(gf_kmer_token_name(5 + 64, 3, b), "[?]");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kmer");
	TCase *tc = tcase_create("kmer");
	tcase_add_test(tc, k1_maps_acgt_to_5_to_8);
	tcase_add_test(tc, k3_stride1_and_stride3_exact_ids);
	tcase_add_test(tc, k6_stride1_and_stride6_exact_ids);
	tcase_add_test(tc, kmer_holding_n_or_iupac_is_unk);
	tcase_add_test(tc, lowercase_counts_as_uppercase_and_u_as_t);
	tcase_add_test(tc, short_sequence_gives_no_tokens_and_tail_is_reported);
	tcase_add_test(tc, check_rejects_k_and_stride_out_of_range);
	tcase_add_test(tc, tokenize_matches_naive_reference_for_every_k_and_stride);
	tcase_add_test(tc, tokenize_part_equals_the_slice_of_the_whole_stream);
	tcase_add_test(tc, revcomp_tokens_equal_tokens_of_revcomp_bases);
	tcase_add_test(tc, revcomp_of_single_kmer_is_exact);
	tcase_add_test(tc, decode_round_trips_bases_for_every_k_and_stride);
	tcase_add_test(tc, decode_refuses_unk_and_inconsistent_neighbours);
	tcase_add_test(tc, token_names_cover_specials_and_kmers);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
