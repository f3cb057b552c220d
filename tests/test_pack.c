/* Packed sequences on the CPU backend: attention within segments (varlen),
 * pooling per segment and positions per row, against the same sequences
 * computed alone, bit for bit. (Their backward passes are checked by finite
 * differences and against CUDA with every other op: tests/opcases.h.) */
#include "model/cpu/cpu.h"
#include "model/rng.h"
#include "src/pack.h"
#include "tests/testutil.h"

#include <omp.h>

enum { H = 2, DH = 16, LD = H * DH, CHUNK = 64 };

/* Five segments with rows outside every segment before and after them:
 * lengths 1 (a token alone), 5, 25 (a 150 bp read at k = 6), 64 (a whole
 * chunk) and 30. */
#define N_SEG 5
static const int32_t SEG[N_SEG + 1] = { 2, 3, 8, 33, 97, 127 };
#define N_ROWS 130

static float *randn(size_t n, uint64_t key, float scale)
{
	float *x = malloc(n * sizeof *x);
	for (size_t i = 0; i < n; i++) x[i] = scale * rf_rng_normal(key, i);
	return x;
}

static float *zeros(size_t n)
{
	return calloc(n, sizeof(float));
}

static rf_varlen_shape_t varlen(int causal)
{
	rf_varlen_shape_t s = { .N = N_ROWS, .n_seg = N_SEG, .max_len = 64, .H = H, .dh = DH, .causal = causal };
	return s;
}

/* Segment i alone as the model runs it unpacked: one sequence padded with
 * masked tokens to the chunk (LSH with L <= chunk_len is FULL attention). */
static void alone(float *out, const float *qk, const float *v, int i, int causal)
{
	int n = SEG[i + 1] - SEG[i];
	rf_attn_shape_t s = { .B = 1, .L = CHUNK, .H = H, .dh = DH, .kind = RF_ATTN_LSH, .causal = causal,
	                      .chunk_len = CHUNK, .n_before = 1, .n_after = 0, .n_hashes = 4, .n_buckets = 2,
	                      .n_buckets1 = 2 };
	float *q = zeros(CHUNK * LD), *w = zeros(CHUNK * LD);
	uint8_t mask[CHUNK];
	uint16_t buckets[H * 4 * CHUNK];
	memcpy(q, qk + (size_t)SEG[i] * LD, (size_t)n * LD * sizeof(float));
	memcpy(w, v + (size_t)SEG[i] * LD, (size_t)n * LD * sizeof(float));
	for (int j = 0; j < CHUNK; j++) mask[j] = j < n;
	for (int k = 0; k < H * 4 * CHUNK; k++) buckets[k] = mask[k % CHUNK] ? 0 : 2;
	void *work = malloc(cpu_attn_workspace(&s));
	cpu_attn_forward(out, q, w, buckets, mask, &s, work);
	free(work);
	free(q);
	free(w);
}

/* Each segment's rows are bit-identical to the segment computed alone and
 * padded, with one thread and with two; rows outside segments are 0. */
START_TEST(varlen_attention_equals_each_segment_alone_bit_for_bit)
{
	for (int causal = 0; causal < 2; causal++) {
		rf_varlen_shape_t s = varlen(causal);
		float *qk = randn(N_ROWS * LD, 1, 1.0f), *v = randn(N_ROWS * LD, 2, 1.0f);
		float *one = zeros(CHUNK * LD);
		for (int t = 1; t <= 2; t++) {
			omp_set_num_threads(t);
			float *out = randn(N_ROWS * LD, 3, 1.0f);
			void *work = malloc(cpu_attn_varlen_workspace(&s));
			cpu_attn_varlen_forward(out, qk, v, SEG, &s, work);
			for (int i = 0; i < N_SEG; i++) {
				alone(one, qk, v, i, causal);
				size_t n = (size_t)(SEG[i + 1] - SEG[i]) * LD;
				ck_assert_msg(memcmp(out + (size_t)SEG[i] * LD, one, n * sizeof(float)) == 0,
				              "segment %d (causal %d, %d threads) differs from itself alone", i, causal, t);
			}
			int gaps[5] = { 0, 1, 127, 128, 129 };
			for (int g = 0; g < 5; g++)
				for (int d = 0; d < LD; d++) ck_assert_float_eq(out[gaps[g] * LD + d], 0.0f);
			free(work);
			free(out);
		}
		free(qk);
		free(v);
		free(one);
	}
}
END_TEST

/* Pooling a segment is meanpool of the same rows alone, bit for bit, also
 * on a piece of the rows (offsets counted from the first segment's). */
START_TEST(segpool_equals_meanpool_of_each_segment)
{
	enum { C = 5 };
	float *x = randn(N_ROWS * C, 21, 1.0f), out[N_SEG * C], one[C];
	cpu_segpool_forward(out, x + SEG[0] * C, SEG, N_SEG, C);
	for (int i = 0; i < N_SEG; i++) {
		cpu_meanpool_forward(one, x + SEG[i] * C, NULL, 1, SEG[i + 1] - SEG[i], C);
		ck_assert(memcmp(one, out + i * C, sizeof one) == 0);
	}
	cpu_segpool_forward(out, x + SEG[2] * C, SEG + 2, 2, C);
	cpu_meanpool_forward(one, x + SEG[3] * C, NULL, 1, SEG[4] - SEG[3], C);
	ck_assert(memcmp(one, out + C, sizeof one) == 0);
	free(x);
}
END_TEST

/* Positions given per row restart the axial embedding: a row at position
 * 0 of a later segment embeds as the first row of a batch does. */
START_TEST(embed_positions_restart_where_given)
{
	enum { V = 4, D = 4, n2 = 2, d1 = 2 };
	float *tok = randn(V * D, 41, 1.0f), *p1 = randn(3 * d1, 42, 1.0f), *p2 = randn(n2 * (D - d1), 43, 1.0f);
	const int32_t tokens[6] = { 1, 2, 3, 1, 2, 0 }, pos[6] = { 0, 1, 2, 0, 1, 0 };
	float a[6 * D], b[3 * D];
	cpu_embed_forward(a, tokens, pos, tok, p1, p2, 1, 6, D, n2, d1);
	cpu_embed_forward(b, tokens, NULL, tok, p1, p2, 1, 3, D, n2, d1);
	ck_assert(memcmp(a, b, sizeof b) == 0);
	ck_assert(memcmp(a + 3 * D, b, 2 * D * sizeof(float)) == 0);
	free(tok); free(p1); free(p2);
}
END_TEST

/* The packer lays sequences end to end with no padding, takes only
 * windows of 1..max_len tokens, and stops at its token budget. */
START_TEST(pack_lays_sequences_end_to_end_within_its_budget)
{
	gf_pack_t pk;
	ck_assert_int_eq(gf_pack_init(&pk, 10, 4), 0);
	ck_assert(!gf_pack_takes(&pk, 0) && gf_pack_takes(&pk, 1) && gf_pack_takes(&pk, 4) && !gf_pack_takes(&pk, 5));
	const int32_t a[3] = { 7, 8, 9 }, b[4] = { 1, 2, 3, 4 };
	memcpy(gf_pack_add(&pk, 3), a, sizeof a);
	ck_assert(gf_pack_has_room(&pk, 3, 2) && !gf_pack_has_room(&pk, 4, 2));
	memcpy(gf_pack_add(&pk, 4), b, sizeof b);
	memcpy(gf_pack_add(&pk, 3), a, sizeof a);
	ck_assert(!gf_pack_has_room(&pk, 1, 1));
	rf_batch_t bt = gf_pack_batch(&pk, 5);
	const int32_t want_tok[10] = { 7, 8, 9, 1, 2, 3, 4, 7, 8, 9 }, want_seg[4] = { 0, 3, 7, 10 };
	ck_assert(bt.B == 1 && bt.L == 10 && bt.n_seg == 3 && bt.mask == NULL && bt.seed == 5);
	ck_assert(memcmp(bt.tokens, want_tok, sizeof want_tok) == 0 && memcmp(bt.seg, want_seg, sizeof want_seg) == 0);
	gf_pack_clear(&pk);
	ck_assert(gf_pack_has_room(&pk, 4, 2));
	ck_assert_int_eq(gf_pack_batch(&pk, 5).n_seg, 0);
	gf_pack_free(&pk);
}
END_TEST

static Suite *pack_suite(void)
{
	Suite *s = suite_create("pack");
	TCase *tc = tcase_create("ops");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, varlen_attention_equals_each_segment_alone_bit_for_bit);
	tcase_add_test(tc, segpool_equals_meanpool_of_each_segment);
	tcase_add_test(tc, embed_positions_restart_where_given);
	tcase_add_test(tc, pack_lays_sequences_end_to_end_within_its_budget);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(pack_suite());
}
