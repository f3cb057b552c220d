/* Matrix-product benchmark for scripts/bench/kernels.sh: the model's shapes
 * through cpu_matmul (the backend op: rows or columns split over the OpenMP
 * team, OpenBLAS single-threaded inside) against cblas_sgemm alone, once with
 * OpenBLAS's own THREADS threads and once on one thread. Prints per shape the
 * medians of REPS runs (all three taken in turn, so they see the same load),
 * GFLOP/s, and cpu_matmul's speed as a share of threaded sgemm's and of
 * THREADS times one-thread sgemm's (perfect scaling).
 * Usage: matmul [-t THREADS] [-n TOKENS] [-r REPS] */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "model/cpu/cpu.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

typedef struct { const char *what; int M, N, K, ta, tb; } shape_t;

/* One product through the backend (nthr 0: OpenBLAS at 1 thread inside the
 * OpenMP team) or as one cblas_sgemm with OpenBLAS's own nthr threads. */
static double time_one(const shape_t *s, int nthr, float *A, float *B, float *C)
{
	double t0 = now();
	openblas_set_num_threads(nthr ? nthr : 1);
	if (nthr)
		cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans,
		            s->M, s->N, s->K, 1.0f, A, s->ta ? s->M : s->K, B, s->tb ? s->K : s->N, 0.0f, C, s->N);
	else
		cpu_matmul(C, A, B, s->M, s->N, s->K, s->ta, s->tb, 1.0f, 0.0f);
	return now() - t0;
}

static double median(double *x, int n)
{
	qsort(x, n, sizeof x[0], cmp_double);
	return x[n / 2];
}

/* t[0] backend, t[1] sgemm on nthr threads, t[2] sgemm on one: medians of
 * reps runs; q[0], q[1]: medians of the per-run ratios t[1]/t[0] and
 * t[2]/(nthr t[0]). */
static void time_shape(const shape_t *s, int nthr, int reps, float *A, float *B, float *C,
                       double t[3], double q[2])
{
	double x[3][reps], r[2][reps];
	for (int i = 0; i <= reps; i++) {
		double a = time_one(s, nthr, A, B, C), b = time_one(s, 1, A, B, C), c = time_one(s, 0, A, B, C);
		if (!i) continue;   /* run 0 warms up */
		x[0][i - 1] = c, x[1][i - 1] = a, x[2][i - 1] = b;
		r[0][i - 1] = a / c, r[1][i - 1] = b / (nthr * c);
	}
	for (int k = 0; k < 3; k++) t[k] = median(x[k], reps);
	for (int k = 0; k < 2; k++) q[k] = median(r[k], reps);
}

int main(int argc, char *argv[])
{
	int threads = 2, n = 16384, reps = 9, c;
	while ((c = getopt(argc, argv, "t:n:r:")) != -1) {
		if (c == 't') threads = atoi(optarg);
		else if (c == 'n') n = atoi(optarg);
		else if (c == 'r') reps = atoi(optarg);
		else return 2;
	}
	rf_cpu_set_threads(threads);
	const shape_t shapes[] = {
		{ "x W (qk, v, out)", n, 256, 256, 0, 0 },
		{ "x W1 (ff up)", 2048, 1024, 256, 0, 0 },
		{ "h W2 (ff down)", 2048, 256, 1024, 0, 0 },
		{ "dy W^T", n, 256, 256, 0, 1 },
		{ "dh W2^T", 2048, 1024, 256, 0, 1 },
		{ "x^T dy (dW)", 256, 256, n, 1, 0 },
		{ "h^T dy (dW2)", 1024, 256, 2048, 1, 0 },
	};
	size_t big = (size_t)n * 1024;
	float *A = malloc(big * sizeof(float)), *B = malloc(big * sizeof(float)), *C = malloc(big * sizeof(float));
	if (!A || !B || !C) return 1;
	for (size_t i = 0; i < big; i++) A[i] = (float)(i % 17) * 0.01f, B[i] = (float)(i % 13) * 0.01f;
	printf("%-18s %6s %6s %6s %4s %8s %8s %8s %7s %7s %7s %7s\n", "shape", "M", "N", "K", "tatb",
	       "be_ms", "sgemmN", "sgemm1", "be_GF/s", "N_GF/s", "vs_N", "vs_1xN");
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		const shape_t *s = &shapes[i];
		double t[3], q[2], gf = 2.0 * s->M * s->N * s->K * 1e-9;
		time_shape(s, threads, reps, A, B, C, t, q);
		printf("%-18s %6d %6d %6d %3d%d %8.2f %8.2f %8.2f %7.1f %7.1f %6.0f%% %6.0f%%\n", s->what, s->M, s->N,
		       s->K, s->ta, s->tb, t[0] * 1e3, t[1] * 1e3, t[2] * 1e3, gf / t[0], gf / t[1], 100.0 * q[0],
		       100.0 * q[1]);
	}
	free(A);
	free(B);
	free(C);
	return 0;
}
