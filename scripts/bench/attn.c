/* Attention benchmark for scripts/bench/kernels.sh: ms per call of the CPU
 * backend's lsh_hash, attn_forward and attn_backward (LSH and LOCAL) at the
 * engine's shape (B 1, 4 heads of 64, chunk 64, one chunk before, 4 rounds,
 * automatic buckets), for each L given. Prints per L and op the median wall
 * and CPU time of REPS calls (CPU time counts every thread); -o times only
 * the ops whose names hold the given text (e.g. -o lsh, -o bwd).
 * Usage: attn [-t THREADS] [-r REPS] [-o TEXT] L... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "model/config.h"
#include "model/cpu/cpu.h"
#include "model/rng.h"

typedef struct { double wall, cpu; } tm_t;

static tm_t now(void)
{
	struct timespec w, c;
	clock_gettime(CLOCK_MONOTONIC, &w);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c);
	return (tm_t){ w.tv_sec + w.tv_nsec * 1e-9, c.tv_sec + c.tv_nsec * 1e-9 };
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The inputs of one call, and where its results go. */
typedef struct {
	rf_attn_shape_t s;
	float *qk, *v, *dout, *out, *dqk, *dv, *rot;
	uint16_t *buckets;
	void *work;
} bench_t;

enum { OP_HASH, OP_FWD, OP_BWD };

static void run_op(bench_t *b, int op)
{
	if (op == OP_HASH) cpu_lsh_hash(b->buckets, b->qk, b->rot, NULL, &b->s);
	else if (op == OP_FWD) cpu_attn_forward(b->out, b->qk, b->v, b->buckets, NULL, &b->s, b->work);
	else cpu_attn_backward(b->dqk, b->dv, b->dout, b->qk, b->v, b->buckets, NULL, &b->s, b->work);
}

/* Median wall and CPU seconds of reps calls. */
static tm_t time_op(bench_t *b, int op, int reps)
{
	double w[reps], c[reps];
	for (int r = 0; r < reps; r++) {
		tm_t t0 = now();
		run_op(b, op);
		tm_t t1 = now();
		w[r] = t1.wall - t0.wall;
		c[r] = t1.cpu - t0.cpu;
	}
	qsort(w, reps, sizeof w[0], cmp_double);
	qsort(c, reps, sizeof c[0], cmp_double);
	return (tm_t){ w[reps / 2], c[reps / 2] };
}

static float *normal(size_t n, uint64_t key)
{
	float *x = malloc(n * sizeof(float));
	if (!x) exit(1);
	for (size_t i = 0; i < n; i++) x[i] = rf_rng_normal(key, i);
	return x;
}

static void bench_length(int L, int reps, const char *only)
{
	bench_t b;
	rf_attn_shape_t *s = &b.s;
	memset(&b, 0, sizeof b);
	*s = (rf_attn_shape_t){ .B = 1, .L = L, .H = 4, .dh = 64, .kind = RF_ATTN_LSH, .chunk_len = 64,
	                        .n_before = 1, .n_after = 0, .n_hashes = 4 };
	rf_lsh_buckets(L, s->chunk_len, 0, &s->n_buckets, &s->n_buckets1);
	size_t n = (size_t)L * s->H * s->dh, nrot = (size_t)s->H * s->dh * s->n_hashes * rf_attn_rot_cols(s);
	b.qk = normal(n, 1);
	b.v = normal(n, 2);
	b.dout = normal(n, 3);
	b.rot = normal(nrot, 4);
	b.out = malloc(n * sizeof(float));
	b.dqk = calloc(n, sizeof(float));
	b.dv = calloc(n, sizeof(float));
	b.buckets = malloc((size_t)s->H * s->n_hashes * L * sizeof(uint16_t));
	b.work = malloc(cpu_attn_workspace(s));
	if (!b.out || !b.dqk || !b.dv || !b.buckets || !b.work) exit(1);
	static const char *names[] = { "lsh_hash", "lsh_fwd", "lsh_bwd", "local_fwd", "local_bwd" };
	run_op(&b, OP_HASH);   /* buckets for the attention ops */
	for (int i = 0; i < 5; i++) {
		int op = i < 3 ? i : i - 2;
		s->kind = i < 3 ? RF_ATTN_LSH : RF_ATTN_LOCAL;
		if (only && !strstr(names[i], only)) continue;
		run_op(&b, op);   /* warm-up: first touch of the outputs */
		tm_t t = time_op(&b, op, reps);
		printf("%6d %-10s %10.1f %10.1f\n", L, names[i], t.wall * 1e3, t.cpu * 1e3);
		fflush(stdout);
	}
	free(b.qk); free(b.v); free(b.dout); free(b.rot); free(b.out); free(b.dqk); free(b.dv);
	free(b.buckets); free(b.work);
}

int main(int argc, char *argv[])
{
	int threads = 2, reps = 3, c;
	const char *only = NULL;
	while ((c = getopt(argc, argv, "t:r:o:")) != -1) {
		if (c == 't') threads = atoi(optarg);
		else if (c == 'r') reps = atoi(optarg);
		else if (c == 'o') only = optarg;
		else return 2;
	}
	if (optind >= argc) {
		fprintf(stderr, "Usage: attn [-t THREADS] [-r REPS] [-o TEXT] L...\n");
		return 2;
	}
	rf_cpu_set_threads(threads);
	printf("%6s %-10s %10s %10s\n", "L", "op", "wall_ms", "cpu_ms");
	for (int i = optind; i < argc; i++) bench_length(atoi(argv[i]), reps, only);
	return 0;
}
