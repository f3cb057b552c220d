/* CPU attention: lsh_hash, attn_forward against an independent dense
 * reference, attn_backward by central finite differences, and the
 * behaviours LSH attention promises (self only when alone, causality, more
 * rounds approach full attention). */
#include "model/cpu/cpu.h"
#include "model/rng.h"
#include "tests/optable.h"
#include "tests/testutil.h"

#include <omp.h>

/* One attention call's inputs, random but reproducible. */
typedef struct {
	rf_attn_shape_t s;
	size_t n;                 /* B*L*H*dh */
	float *qk, *v, *dout;
	uint8_t *mask;
	uint16_t *buckets;
	void *work;
} case_t;

static void fill_normal(float *x, size_t n, uint64_t key, float scale)
{
	for (size_t i = 0; i < n; i++) x[i] = scale * rf_rng_normal(key, i);
}

/* A case of the given shape; sequence 1 ends with `pad` padding tokens,
 * buckets are random below n_buckets (padding in bucket n_buckets). */
static case_t make_case(rf_attn_shape_t s, int pad, uint64_t seed)
{
	case_t c;
	c.s = s;
	c.n = (size_t)s.B * s.L * s.H * s.dh;
	c.qk = malloc(c.n * sizeof(float));
	c.v = malloc(c.n * sizeof(float));
	c.dout = malloc(c.n * sizeof(float));
	c.mask = malloc((size_t)s.B * s.L);
	fill_normal(c.qk, c.n, seed * 4 + 1, 1.0f);
	fill_normal(c.v, c.n, seed * 4 + 2, 1.0f);
	fill_normal(c.dout, c.n, seed * 4 + 3, 1.0f);
	for (int b = 0; b < s.B; b++)
		for (int j = 0; j < s.L; j++) c.mask[b * s.L + j] = !(b == 1 && j >= s.L - pad);
	c.buckets = NULL;
	if (s.kind == RF_ATTN_LSH) {
		size_t nb = (size_t)s.B * s.H * s.n_hashes * s.L;
		c.buckets = malloc(nb * sizeof(uint16_t));
		for (size_t i = 0; i < nb; i++) {
			size_t b = i / ((size_t)s.H * s.n_hashes * s.L), j = i % s.L;
			c.buckets[i] = c.mask[b * s.L + j]
			             ? (uint16_t)(rf_rng_u64(seed * 4 + 4, i) % (uint64_t)s.n_buckets)
			             : (uint16_t)s.n_buckets;
		}
	}
	c.work = malloc(cpu_attn_workspace(&s));
	return c;
}

static void free_case(case_t *c)
{
	free(c->qk); free(c->v); free(c->dout); free(c->mask); free(c->buckets); free(c->work);
}

static rf_attn_shape_t shape(int kind, int L, int dh, int chunk, int before, int after,
                             int hashes, int buckets, int causal)
{
	rf_attn_shape_t s = { 2, L, 2, dh, kind, causal, chunk, before, after, hashes, buckets, buckets };
	return s;
}

static void forward(case_t *c, float *out)
{
	cpu_attn_forward(out, c->qk, c->v, c->buckets, c->mask, &c->s, c->work);
}

/* ------------------------------------------------ independent reference */

/* Positions of (b, h, round r) in the order the round attends in: stably
 * sorted by bucket for LSH (insertion sort), as they are otherwise. */
static void ref_order(const case_t *c, int b, int h, int r, int lsh, int *order)
{
	const rf_attn_shape_t *s = &c->s;
	for (int j = 0; j < s->L; j++) order[j] = j;
	if (!lsh) return;
	const uint16_t *bk = c->buckets + (((size_t)b * s->H + h) * s->n_hashes + r) * s->L;
	for (int i = 1; i < s->L; i++)
		for (int j = i; j > 0 && bk[order[j - 1]] > bk[order[j]]; j--) {
			int t = order[j]; order[j] = order[j - 1]; order[j - 1] = t;
		}
}

/* Dense attention in double with explicit loops over exactly the keys each
 * query sees, the masks applied by value, and rounds combined by their lse. */
static void ref_forward(const case_t *c, double *out)
{
	const rf_attn_shape_t *s = &c->s;
	int L = s->L, H = s->H, dh = s->dh, ld = H * dh;
	int dense = s->kind == RF_ATTN_FULL || L <= s->chunk_len;
	int lsh = !dense && s->kind == RF_ATTN_LSH, R = lsh ? s->n_hashes : 1;
	int cl = dense ? L : s->chunk_len, nc = L / cl;
	int *order = malloc(L * sizeof(int)), *keys = malloc(L * sizeof(int));
	double *o = malloc((size_t)R * L * dh * sizeof(double)), *lse = malloc((size_t)R * L * sizeof(double));
	double *khat = malloc((size_t)L * dh * sizeof(double)), *sc = malloc(L * sizeof(double));
	for (int b = 0; b < s->B; b++)
		for (int h = 0; h < H; h++) {
			const float *qk = c->qk + (size_t)b * L * ld + h * dh, *v = c->v + (size_t)b * L * ld + h * dh;
			for (int j = 0; j < L; j++) {
				double ss = 0;
				for (int d = 0; d < dh; d++) ss += (double)qk[j * ld + d] * qk[j * ld + d];
				for (int d = 0; d < dh; d++) khat[j * dh + d] = qk[j * ld + d] / sqrt(ss + 1e-12);
			}
			for (int r = 0; r < R; r++) {
				ref_order(c, b, h, r, lsh, order);
				for (int si = 0; si < L; si++) {
					int i = order[si], ch = si / cl, nk = 0, seen[64] = { 0 };
					int before = dense ? 0 : s->n_before, after = dense ? 0 : s->n_after;
					for (int off = -before; off <= after; off++) {
						int kc = ((ch + off) % nc + nc) % nc;
						if (seen[kc]) continue;
						seen[kc] = 1;
						for (int t = 0; t < cl; t++) keys[nk++] = order[kc * cl + t];
					}
					double m = -INFINITY, sum = 0;
					for (int t = 0; t < nk; t++) {
						int j = keys[t];
						double x = 0;
						for (int d = 0; d < dh; d++) x += (double)qk[i * ld + d] * khat[j * dh + d];
						if (j == i) x = -1e5;
						else if (!c->mask[b * L + j] || (s->causal && j > i)) x = -1e9;
						sc[t] = x;
						if (x > m) m = x;
					}
					for (int t = 0; t < nk; t++) sum += exp(sc[t] - m);
					double *oi = o + ((size_t)r * L + i) * dh;
					for (int d = 0; d < dh; d++) oi[d] = 0;
					for (int t = 0; t < nk; t++)
						for (int d = 0; d < dh; d++) oi[d] += exp(sc[t] - m) / sum * v[keys[t] * ld + d];
					lse[r * L + i] = m + log(sum);
				}
			}
			for (int i = 0; i < L; i++) {
				double m = -INFINITY, sum = 0;
				for (int r = 0; r < R; r++) if (lse[r * L + i] > m) m = lse[r * L + i];
				for (int r = 0; r < R; r++) sum += exp(lse[r * L + i] - m);
				double *dst = out + ((size_t)b * L + i) * ld + h * dh;
				for (int d = 0; d < dh; d++) dst[d] = 0;
				for (int r = 0; r < R; r++)
					for (int d = 0; d < dh; d++)
						dst[d] += exp(lse[r * L + i] - m - log(sum)) * o[((size_t)r * L + i) * dh + d];
			}
		}
	free(order); free(keys); free(o); free(lse); free(khat); free(sc);
}

/* attn_forward equals the reference within atol 1e-5, rtol 1e-4. */
static void check_against_reference(rf_attn_shape_t s, int pad, uint64_t seed)
{
	case_t c = make_case(s, pad, seed);
	float *out = malloc(c.n * sizeof(float));
	double *ref = malloc(c.n * sizeof(double));
	forward(&c, out);
	ref_forward(&c, ref);
	ck_assert_close_arr(out, ref, c.n, 1e-5, 1e-4);
	free(out); free(ref); free_case(&c);
}

/* ------------------------------------------------ finite differences */

/* dqk and dv of attn_backward against central differences of sum(dout*out),
 * and a second backward adding the same again: the op-case table's driver
 * (tests/optable.h) on this shape and padding. */
static void check_gradients(rf_attn_shape_t s, int pad, uint64_t seed)
{
	char name[48];
	snprintf(name, sizeof name, "attention %llu", (unsigned long long)seed);
	oc_case_t c = oc_attn_case_of(name, s, pad);
	oc_assert_gradients(&c);
}

/* The cases every kind is checked on: padding in sequence 1, causal or not,
 * several windows and rounds; fd marks those small enough for finite
 * differences. */
typedef struct { int kind, L, dh, chunk, before, after, hashes, buckets, causal, pad, fd; } spec_t;

static const spec_t specs[] = {
	{ RF_ATTN_FULL, 16, 4, 0, 0, 0, 0, 0, 0, 5, 1 },
	{ RF_ATTN_FULL, 20, 8, 0, 0, 0, 0, 0, 1, 4, 1 },
	{ RF_ATTN_FULL, 150, 4, 0, 0, 0, 0, 0, 1, 17, 0 },   /* several query blocks */
	{ RF_ATTN_LOCAL, 24, 4, 4, 1, 0, 0, 0, 0, 5, 1 },
	{ RF_ATTN_LOCAL, 32, 8, 4, 1, 1, 0, 0, 1, 6, 1 },
	{ RF_ATTN_LOCAL, 24, 4, 8, 2, 1, 0, 0, 0, 9, 0 },
	{ RF_ATTN_LOCAL, 16, 4, 8, 1, 1, 0, 0, 0, 3, 1 },    /* 2 chunks: the window wraps onto one */
	{ RF_ATTN_LOCAL, 24, 4, 4, 2, 0, 0, 0, 1, 2, 1 },
	{ RF_ATTN_LOCAL, 8, 4, 8, 1, 0, 0, 0, 1, 2, 0 },     /* L <= chunk_len: full */
	{ RF_ATTN_LSH, 32, 8, 4, 1, 0, 1, 4, 0, 5, 0 },
	{ RF_ATTN_LSH, 32, 4, 4, 1, 0, 1, 4, 0, 5, 1 },
	{ RF_ATTN_LSH, 32, 4, 4, 1, 0, 3, 4, 1, 7, 1 },
	{ RF_ATTN_LSH, 32, 4, 8, 1, 1, 4, 8, 1, 6, 0 },
	{ RF_ATTN_LSH, 24, 8, 8, 1, 1, 2, 6, 0, 7, 1 },
	{ RF_ATTN_LSH, 24, 4, 4, 2, 1, 2, 6, 1, 4, 0 },
	{ RF_ATTN_LSH, 32, 4, 8, 0, 1, 4, 2, 1, 3, 1 },
	{ RF_ATTN_LSH, 8, 4, 8, 1, 0, 2, 2, 0, 2, 0 },       /* L <= chunk_len: full */
};

/* Runs check on every case of one kind (only the fd ones when fd_only). */
static void for_kind(int kind, int fd_only, void (*check)(rf_attn_shape_t, int, uint64_t))
{
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		const spec_t *c = &specs[i];
		if (c->kind == kind && (c->fd || !fd_only))
			check(shape(c->kind, c->L, c->dh, c->chunk, c->before, c->after, c->hashes,
			            c->buckets, c->causal), c->pad, 100 + i);
	}
}

/* _i runs over the kinds (RF_ATTN_FULL, RF_ATTN_LOCAL, RF_ATTN_LSH). */
START_TEST(forward_matches_dense_reference_for_each_kind)
{
	for_kind(_i, 0, check_against_reference);
}
END_TEST

START_TEST(backward_matches_finite_differences_for_each_kind)
{
	for_kind(_i, 1, check_gradients);
}
END_TEST

/* ------------------------------------------------ behaviours */

/* LSH with every token in one bucket and a window holding every chunk sees
 * all keys, as FULL does (up to the order of summation: atol 1e-6, rtol
 * 1e-5); with L == chunk_len it is FULL itself, bit for bit. */
START_TEST(lsh_with_one_bucket_and_one_chunk_equals_full)
{
	case_t lsh = make_case(shape(RF_ATTN_LSH, 16, 8, 8, 1, 0, 1, 2, 1), 5, 41);
	case_t full = make_case(shape(RF_ATTN_FULL, 16, 8, 0, 0, 0, 0, 0, 1), 5, 41);
	float *a = malloc(lsh.n * sizeof(float)), *b = malloc(lsh.n * sizeof(float));
	for (int i = 0; i < 2 * 2 * 16; i++)
		if (lsh.buckets[i] < 2) lsh.buckets[i] = 0;
	forward(&lsh, a);
	forward(&full, b);
	ck_assert_close_arr(a, b, lsh.n, 1e-6, 1e-5);
	free_case(&lsh);
	lsh = make_case(shape(RF_ATTN_LSH, 16, 8, 16, 1, 0, 3, 2, 1), 5, 41);
	forward(&lsh, a);
	ck_assert_mem_eq(a, b, lsh.n * sizeof(float));
	free(a); free(b); free_case(&lsh); free_case(&full);
}
END_TEST

/* A token whose other keys are all padding gets exactly its own value, in
 * every kind; with one other key visible it gets exactly that key's value. */
START_TEST(token_attends_to_itself_only_when_alone)
{
	int kinds[3] = { RF_ATTN_FULL, RF_ATTN_LOCAL, RF_ATTN_LSH };
	for (int k = 0; k < 3; k++) {
		case_t c = make_case(shape(kinds[k], 16, 4, 4, 1, 1, 2, 4, 0), 0, 50 + k);
		int ld = 2 * 4, j = 5, other = 6;
		float *out = malloc(c.n * sizeof(float));
		memset(c.mask, 0, 16);
		c.mask[j] = 1;
		if (c.buckets) memset(c.buckets, 0, 2 * 2 * 16 * sizeof(uint16_t));
		forward(&c, out);
		ck_assert_mem_eq(out + j * ld, c.v + j * ld, ld * sizeof(float));
		c.mask[other] = 1;
		forward(&c, out);
		ck_assert_mem_eq(out + j * ld, c.v + other * ld, ld * sizeof(float));
		free(out); free_case(&c);
	}
}
END_TEST

/* Causal attention: changing the queries, keys and values of tokens after
 * position t (buckets kept) leaves the outputs up to t bit for bit. */
START_TEST(causal_outputs_ignore_future_tokens)
{
	int kinds[3] = { RF_ATTN_FULL, RF_ATTN_LOCAL, RF_ATTN_LSH };
	for (int k = 0; k < 3; k++) {
		case_t c = make_case(shape(kinds[k], 32, 4, 4, 1, 1, 3, 4, 1), 3, 60 + k);
		int ld = 2 * 4, t = 13;
		float *a = malloc(c.n * sizeof(float)), *b = malloc(c.n * sizeof(float));
		forward(&c, a);
		for (int bb = 0; bb < 2; bb++)
			for (int j = t + 1; j < 32; j++)
				for (int d = 0; d < ld; d++) {
					c.qk[(bb * 32 + j) * ld + d] += 0.7f;
					c.v[(bb * 32 + j) * ld + d] -= 1.3f;
				}
		forward(&c, b);
		for (int bb = 0; bb < 2; bb++)
			ck_assert_mem_eq(a + bb * 32 * ld, b + bb * 32 * ld, (size_t)(t + 1) * ld * sizeof(float));
		ck_assert_mem_ne(a + (t + 1) * ld, b + (t + 1) * ld, (size_t)(32 - t - 1) * ld * sizeof(float));
		free(a); free(b); free_case(&c);
	}
}
END_TEST

/* Two backward passes with the same buckets add exactly the same gradients,
 * and forward and backward give the same bits on 1 and 2 threads, both
 * when heads share the threads (B*H = 1) and when each thread takes heads. */
START_TEST(backward_is_deterministic_and_independent_of_threads)
{
	rf_attn_shape_t shapes[2] = { shape(RF_ATTN_LSH, 512, 8, 16, 1, 1, 3, 16, 1),
	                              shape(RF_ATTN_LSH, 512, 8, 16, 1, 1, 3, 16, 1) };
	shapes[0].B = shapes[0].H = 1;
	for (int k = 0; k < 2; k++) {
		float *res[2][3];
		for (int run = 0; run < 2; run++) {
			omp_set_num_threads(run + 1);
			case_t c = make_case(shapes[k], 7, 70);
			float **r = res[run];
			for (int i = 0; i < 3; i++) r[i] = calloc(c.n, sizeof(float));
			forward(&c, r[0]);
			cpu_attn_backward(r[1], r[2], c.dout, c.qk, c.v, c.buckets, c.mask, &c.s, c.work);
			if (run == 1) {
				float *dqk = calloc(c.n, sizeof(float)), *dv = calloc(c.n, sizeof(float));
				cpu_attn_backward(dqk, dv, c.dout, c.qk, c.v, c.buckets, c.mask, &c.s, c.work);
				ck_assert_mem_eq(dqk, r[1], c.n * sizeof(float));
				ck_assert_mem_eq(dv, r[2], c.n * sizeof(float));
				for (int i = 0; i < 3; i++)
					ck_assert_mem_eq(res[0][i], r[i], c.n * sizeof(float));
				free(dqk); free(dv);
			}
			free_case(&c);
		}
		for (int i = 0; i < 3; i++) { free(res[0][i]); free(res[1][i]); }
	}
}
END_TEST

/* LOCAL and LSH workspaces grow linearly with L (never L^2): doubling L from
 * 2^15 to 2^16 at most doubles them (+1%). */
START_TEST(local_and_lsh_workspace_is_linear_in_length)
{
	for (int kind = RF_ATTN_LOCAL; kind <= RF_ATTN_LSH; kind++) {
		rf_attn_shape_t a = shape(kind, 1 << 15, 64, 64, 1, 0, 4, 1024, 0), b = a;
		a.H = b.H = 4;
		b.L = 1 << 16;
		b.n_buckets = b.n_buckets1 = 2048;
		size_t wa = cpu_attn_workspace(&a), wb = cpu_attn_workspace(&b);
		ck_assert_msg(wb <= 2.02 * wa, "workspace %zu at L=2^15, %zu at L=2^16", wa, wb);
		ck_assert_msg(wb < (size_t)b.L * 64 * 4 * 16, "workspace %zu at L=2^16", wb);
	}
}
END_TEST

/* ------------------------------------------------ hashing */

static float *rotations(const rf_attn_shape_t *s, uint64_t key)
{
	size_t n = (size_t)s->H * s->dh * s->n_hashes * rf_attn_rot_cols(s);
	float *rot = malloc(n * sizeof(float));
	fill_normal(rot, n, key, 1.0f);
	return rot;
}

/* Factor argmax over [xR, -xR] in double; *margin is the gap to the
 * runner-up, so near-ties (where float rounding may decide) can be skipped. */
static int naive_factor(const float *x, const float *rot, const rf_attn_shape_t *s, int h, int r,
                        int col0, int n, double *margin)
{
	int R = s->n_hashes, rc = rf_attn_rot_cols(s), best = 0;
	double bv = -INFINITY, second = -INFINITY;
	for (int i = 0; i < 2 * n; i++) {
		double y = 0;
		for (int d = 0; d < s->dh; d++)
			y += (double)x[d] * rot[(((size_t)h * s->dh + d) * R + r) * rc + col0 + i % n];
		if (i >= n) y = -y;
		if (y > bv) { second = bv; bv = y; best = i; }
		else if (y > second) second = y;
	}
	*margin = fmin(*margin, bv - second);
	return best;
}

/* Buckets of lsh_hash are f1 + nb1*f2 of a naive double computation
 * wherever the argmax is clear (margin > 1e-4; at least 90% of tokens), in
 * range, and n_buckets for padding. */
START_TEST(lsh_hash_matches_naive_factorised_buckets)
{
	int cfg[3][2] = { { 8, 8 }, { 32, 4 }, { 64, 8 } };   /* n_buckets, n_buckets1 */
	for (int k = 0; k < 3; k++) {
		case_t c = make_case(shape(RF_ATTN_LSH, 64, 8, 8, 1, 0, 3, cfg[k][0], 0), 9, 80 + k);
		const rf_attn_shape_t *s = &c.s;
		c.s.n_buckets1 = cfg[k][1];
		int nb1 = s->n_buckets1, nb2 = s->n_buckets / nb1, checked = 0, total = 0;
		float *rot = rotations(s, 90 + k);
		cpu_lsh_hash(c.buckets, c.qk, rot, c.mask, s);
		for (int b = 0; b < 2; b++)
			for (int h = 0; h < 2; h++)
				for (int r = 0; r < 3; r++)
					for (int j = 0; j < 64; j++) {
						const float *x = c.qk + ((size_t)(b * 64 + j) * 2 + h) * 8;
						int got = c.buckets[((b * 2 + h) * 3 + r) * 64 + j];
						if (!c.mask[b * 64 + j]) {
							ck_assert_int_eq(got, s->n_buckets);
							continue;
						}
						double margin = INFINITY;
						int want = naive_factor(x, rot, s, h, r, 0, nb1 / 2, &margin);
						if (nb2 > 1) want += nb1 * naive_factor(x, rot, s, h, r, nb1 / 2, nb2 / 2, &margin);
						ck_assert_int_lt(got, s->n_buckets);
						total++;
						if (margin > 1e-4) {
							ck_assert_int_eq(got, want);
							checked++;
						}
					}
		ck_assert_int_ge(checked, total * 9 / 10);
		free(rot); free_case(&c);
	}
}
END_TEST

/* Buckets depend on the direction of qk only: scaling by 2.5 or 1/64
 * changes none. */
START_TEST(lsh_hash_is_invariant_to_positive_scaling)
{
	case_t c = make_case(shape(RF_ATTN_LSH, 64, 8, 8, 1, 0, 4, 512, 0), 3, 85);
	c.s.n_buckets1 = 16;
	float *rot = rotations(&c.s, 86), scale[2] = { 2.5f, 1.0f / 64 };
	size_t nb = (size_t)2 * 2 * 4 * 64;
	uint16_t *ref = malloc(nb * sizeof(uint16_t));
	cpu_lsh_hash(ref, c.qk, rot, c.mask, &c.s);
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < c.n; i++) c.qk[i] *= scale[k];
		cpu_lsh_hash(c.buckets, c.qk, rot, c.mask, &c.s);
		ck_assert_mem_eq(c.buckets, ref, nb * sizeof(uint16_t));
	}
	free(ref); free(rot); free_case(&c);
}
END_TEST

/* On inputs with clear nearest neighbours (tokens in tight clusters), more
 * hash rounds bring LSH attention closer to FULL: the relative error of the
 * outputs never grows from 1 to 2, 4 and 8 rounds (slack 1%), and 8 rounds
 * at least halve the error of 1. Rounds are nested: round r is the same in
 * every run. */
START_TEST(more_hash_rounds_approach_full_attention)
{
	int L = 256, dh = 16, ld = dh, R[4] = { 1, 2, 4, 8 };
	rf_attn_shape_t fs = shape(RF_ATTN_FULL, L, dh, 0, 0, 0, 0, 0, 0);
	fs.B = fs.H = 1;
	case_t full = make_case(fs, 0, 95);
	float centres[32 * 16];
	fill_normal(centres, 32 * 16, 96, 3.0f);
	for (int j = 0; j < L; j++)
		for (int d = 0; d < dh; d++)
			full.qk[j * ld + d] = centres[(j * 7 % 32) * dh + d] + 0.1f * rf_rng_normal(97, j * dh + d);
	float *ref = malloc(full.n * sizeof(float)), *out = malloc(full.n * sizeof(float));
	forward(&full, ref);
	rf_attn_shape_t s8 = shape(RF_ATTN_LSH, L, dh, 16, 1, 0, 8, 32, 0);
	s8.B = s8.H = 1;
	float *rot8 = rotations(&s8, 98);
	double err[4];
	for (int k = 0; k < 4; k++) {
		rf_attn_shape_t s = s8;
		s.n_hashes = R[k];
		int rc = rf_attn_rot_cols(&s);
		float *rot = malloc((size_t)dh * R[k] * rc * sizeof(float));
		for (int d = 0; d < dh; d++)
			memcpy(rot + (size_t)d * R[k] * rc, rot8 + (size_t)d * 8 * rc, (size_t)R[k] * rc * sizeof(float));
		uint16_t *bk = malloc((size_t)R[k] * L * sizeof(uint16_t));
		void *work = malloc(cpu_attn_workspace(&s));
		cpu_lsh_hash(bk, full.qk, rot, full.mask, &s);
		cpu_attn_forward(out, full.qk, full.v, bk, full.mask, &s, work);
		double num = 0, den = 0;
		for (size_t i = 0; i < full.n; i++) {
			num += ((double)out[i] - ref[i]) * ((double)out[i] - ref[i]);
			den += (double)ref[i] * ref[i];
		}
		err[k] = sqrt(num / den);
		if (k > 0)
			ck_assert_msg(err[k] <= 1.01 * err[k - 1], "relative error %g with %d rounds, %g with %d",
			              err[k], R[k], err[k - 1], R[k - 1]);
		free(rot); free(bk); free(work);
	}
	ck_assert_msg(err[3] <= 0.5 * err[0], "relative error %g with 8 rounds, %g with 1", err[3], err[0]);
	free(ref); free(out); free(rot8); free_case(&full);
}
END_TEST

Suite *attn_suite(void)
{
	Suite *s = suite_create("attn");
	TCase *tc = tcase_create("attn");
	tcase_add_loop_test(tc, forward_matches_dense_reference_for_each_kind, RF_ATTN_FULL, RF_ATTN_LSH + 1);
	tcase_add_loop_test(tc, backward_matches_finite_differences_for_each_kind, RF_ATTN_FULL, RF_ATTN_LSH + 1);
	tcase_add_test(tc, lsh_with_one_bucket_and_one_chunk_equals_full);
	tcase_add_test(tc, token_attends_to_itself_only_when_alone);
	tcase_add_test(tc, causal_outputs_ignore_future_tokens);
	tcase_add_test(tc, backward_is_deterministic_and_independent_of_threads);
	tcase_add_test(tc, local_and_lsh_workspace_is_linear_in_length);
	tcase_add_test(tc, lsh_hash_matches_naive_factorised_buckets);
	tcase_add_test(tc, lsh_hash_is_invariant_to_positive_scaling);
	tcase_add_test(tc, more_hash_rounds_approach_full_attention);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(attn_suite());
}
