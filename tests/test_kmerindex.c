/* src/kmerindex: minimizers against a brute-force definition, strand
 * symmetry, the index's classes (one class, shared, background), hits and
 * the evidence rule on records of known content, the stored text round
 * trip and its refusal of damaged text. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/rng.h"
#include "src/kmerindex.h"
#include "tests/testutil.h"

/* n random bases from key. */
static char *random_seq(uint64_t key, size_t n)
{
	char *s = malloc(n + 1);
	for (size_t i = 0; i < n; i++) s[i] = "ACGT"[rf_rng_u64(key, i) & 3];
	s[n] = 0;
	return s;
}

static void revcomp(const char *s, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[n - 1 - i];
		out[i] = c == 'A' ? 'T' : c == 'C' ? 'G' : c == 'G' ? 'C' : 'A';
	}
	out[n] = 0;
}

typedef struct {
	uint64_t h[4096];
	size_t n;
} hashes_t;

static void keep(void *ctx, uint64_t h)
{
	hashes_t *x = ctx;
	x->h[x->n++] = h;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The minimizers by definition: for every window of w consecutive k-mers,
 * its smallest hash (the hashes of all k-mers come from a window of one). */
static size_t brute_minimizers(const char *s, size_t n, int k, int w, uint64_t *out)
{
	hashes_t all = { .n = 0 };
	gf_kx_minimizers(s, n, k, 1, keep, &all);
	size_t m = 0;
	for (size_t j = 0; j + w <= all.n; j++) {
		uint64_t lo = UINT64_MAX;
		for (int t = 0; t < w; t++) lo = all.h[j + t] < lo ? all.h[j + t] : lo;
		if (!m || out[m - 1] != lo) out[m++] = lo;
	}
	return m;
}

START_TEST(minimizers_are_the_window_minima_on_either_strand)
{
	char *s = random_seq(1, 2000), rc[2001];
	hashes_t got = { .n = 0 }, back = { .n = 0 };
	uint64_t *want = malloc(4096 * sizeof *want);
	size_t n_want = brute_minimizers(s, 2000, GF_KX_K, GF_KX_W, want);
	ck_assert_uint_eq(gf_kx_minimizers(s, 2000, GF_KX_K, GF_KX_W, keep, &got), got.n);
	ck_assert_uint_eq(got.n, n_want);
	for (size_t i = 0; i < n_want; i++) ck_assert(got.h[i] == want[i]);
	/* about 2 / (w + 1) of the k-mers */
	ck_assert_uint_gt(got.n, 1970 * 2 / (GF_KX_W + 1) * 8 / 10);
	ck_assert_uint_lt(got.n, 1970 * 2 / (GF_KX_W + 1) * 12 / 10);
	/* the reverse complement selects the same set */
	revcomp(s, 2000, rc);
	gf_kx_minimizers(rc, 2000, GF_KX_K, GF_KX_W, keep, &back);
	qsort(got.h, got.n, sizeof *got.h, cmp_u64);
	qsort(back.h, back.n, sizeof *back.h, cmp_u64);
	ck_assert_uint_eq(back.n, got.n);
	ck_assert_int_eq(memcmp(back.h, got.h, got.n * sizeof *got.h), 0);
	/* an N breaks the k-mers across it; lower case counts */
	hashes_t cut = { .n = 0 };
	s[1000] = 'N';
	for (int i = 0; i < 500; i++) s[i] = (char)(s[i] | 0x20);
	gf_kx_minimizers(s, 2000, GF_KX_K, 1, keep, &cut);
	ck_assert_uint_eq(cut.n, 2000 - 2 * (GF_KX_K - 1) - 1);
	free(want);
	free(s);
}
END_TEST

/* Three classes from random genomes A, B, C (2 is the background) and a
 * stretch X that A and B share. */
typedef struct {
	char *a, *b, *c, *x;
	gf_kx_t *kx;
} world_t;

static void world_init(world_t *w)
{
	w->a = random_seq(10, 20000);
	w->b = random_seq(11, 20000);
	w->c = random_seq(12, 20000);
	w->x = random_seq(13, 3000);
	memcpy(w->a + 5000, w->x, 3000);
	memcpy(w->b + 9000, w->x, 3000);
	gf_kx_rec_t rec[] = { { w->a, 20000, 0 }, { w->b, 20000, 1 }, { w->c, 20000, 2 }, { w->c, 20000, -1 } };
	w->kx = gf_kx_build(rec, 4, 3, 2);
	ck_assert_ptr_nonnull(w->kx);
}

static void world_free(world_t *w)
{
	gf_kx_free(w->kx);
	free(w->a), free(w->b), free(w->c), free(w->x);
}

START_TEST(index_counts_hits_by_class_and_keeps_background_out)
{
	world_t w;
	world_init(&w);
	uint32_t hits[3];
	gf_kx_count_t cnt = { .hits = hits };
	float logit[3] = { 0, 0, 0 };
	/* a read of A: hits for A only, about one k-mer in (w + 1) / 2 */
	gf_kx_count(w.kx, w.a + 100, 150, &cnt);
	ck_assert_uint_eq(cnt.kmers, 150 - GF_KX_K + 1);
	ck_assert_uint_gt(hits[0], 8);
	ck_assert_uint_eq(hits[1], 0);
	ck_assert_uint_eq(hits[2], 0);
	ck_assert_int_eq(gf_kx_apply(w.kx, &cnt, logit), 0);
	ck_assert_float_eq_tol(logit[0], w.kx->weight * hits[0], 1e-3);
	ck_assert(logit[1] == 0 && logit[2] == 0);
	ck_assert_float_eq_tol(w.kx->weight, logf(0.99f * 2 / 0.01f), 1e-4);
	/* its reverse complement: the same hits */
	char rc[151];
	uint32_t fwd = hits[0];
	revcomp(w.a + 100, 150, rc);
	gf_kx_count(w.kx, rc, 150, &cnt);
	ck_assert_uint_eq(hits[0], fwd);
	/* the stretch A and B share: found, but for no class */
	gf_kx_count(w.kx, w.x + 500, 1000, &cnt);
	ck_assert_uint_eq(hits[0] + hits[1] + hits[2], 0);
	ck_assert_uint_gt(cnt.shared, 100);
	memset(logit, 0, sizeof logit);
	ck_assert_int_eq(gf_kx_apply(w.kx, &cnt, logit), -1);
	/* the background's own k-mers are not stored: no evidence either way */
	gf_kx_count(w.kx, w.c + 100, 1000, &cnt);
	ck_assert_uint_eq(hits[2] + cnt.shared, 0);
	/* novel sequence: nothing */
	char *z = random_seq(99, 5000);
	gf_kx_count(w.kx, z, 5000, &cnt);
	ck_assert_uint_eq(hits[0] + hits[1] + hits[2] + cnt.shared, 0);
	free(z);
	world_free(&w);
}
END_TEST

START_TEST(one_hit_or_a_thin_share_is_no_evidence)
{
	world_t w;
	world_init(&w);
	uint32_t hits[3] = { 1, 0, 0 };
	gf_kx_count_t cnt = { .kmers = 20, .hits = hits };
	float logit[3] = { 0, 0, 0 };
	ck_assert_int_eq(gf_kx_apply(w.kx, &cnt, logit), -1);
	ck_assert(logit[0] == 0);
	hits[0] = 2;
	ck_assert_int_eq(gf_kx_apply(w.kx, &cnt, logit), 0);
	/* 5 hits in 100,000 k-mers: under 1 in 20 of what an identical record has */
	memset(logit, 0, sizeof logit);
	cnt.kmers = 100000, hits[0] = 5;
	ck_assert_int_eq(gf_kx_apply(w.kx, &cnt, logit), -1);
	hits[0] = 5000, hits[1] = 40;
	ck_assert_int_eq(gf_kx_apply(w.kx, &cnt, logit), 0);
	ck_assert(logit[1] == 0);
	world_free(&w);
}
END_TEST

START_TEST(index_text_round_trips_and_damage_is_refused)
{
	world_t w;
	world_init(&w);
	char *text = gf_kx_format(w.kx), err[256], sum[512];
	ck_assert_ptr_nonnull(text);
	gf_kx_summary(text, sum, sizeof sum);
	ck_assert_ptr_nonnull(strstr(sum, "k=31 w=12 min_hits=2 min_frac=0.05 "));
	ck_assert_ptr_nonnull(strstr(sum, " per_class="));
	gf_kx_t *back = gf_kx_parse(text, 3, err, sizeof err);
	ck_assert_ptr_nonnull(back);
	ck_assert_uint_eq(back->n, w.kx->n);
	ck_assert_int_eq(memcmp(back->fp, w.kx->fp, w.kx->n * sizeof *back->fp), 0);
	ck_assert_int_eq(memcmp(back->code, w.kx->code, w.kx->n * sizeof *back->code), 0);
	ck_assert(back->weight == w.kx->weight && back->min_frac == w.kx->min_frac);
	gf_kx_free(back);
	/* truncated, a foreign character, a wrong class count */
	size_t n = strlen(text);
	text[n - 3] = 0;
	ck_assert_ptr_null(gf_kx_parse(text, 3, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "is malformed"));
	text[n - 3] = '!';
	ck_assert_ptr_null(gf_kx_parse(text, 3, err, sizeof err));
	ck_assert_ptr_null(gf_kx_parse("k=31 w=12\n", 3, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "bad first line"));
	free(text);
	world_free(&w);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kmerindex");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, minimizers_are_the_window_minima_on_either_strand);
	tcase_add_test(tc, index_counts_hits_by_class_and_keeps_background_out);
	tcase_add_test(tc, one_hit_or_a_thin_share_is_no_evidence);
	tcase_add_test(tc, index_text_round_trips_and_damage_is_refused);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
