/* The matrix-product benchmark: GFLOP/s of OpenBLAS's cblas_sgemm alone
 * (its own THREADS threads, and one thread) against the model's cpu_matmul
 * (OpenMP threads, each running single-threaded OpenBLAS on a block of rows
 * or columns) for the Reformer's matrix shapes with N tokens: the
 * projections and feed-forward products (whole and in feed-forward chunks
 * of 2048 rows), the input gradients (transposed B) and the weight
 * gradients (transposed A). Each repetition times the three in turn, so
 * they see the same load; the medians are printed as TSV, and cpu_matmul
 * against THREADS times one-thread sgemm (perfect scaling).
 *   sgemm [N [THREADS [REPS]]]        defaults 16384 2 5
 * Built by make (build/bench/sgemm); run by scripts/bench/sgemm.sh and
 * scripts/bench/kernels.sh. */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "model/cpu/cpu.h"

typedef struct {
	const char *name;
	int M, N, K, ta, tb;
} shape_t;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static float *random_matrix(size_t n)
{
	float *p = malloc(n * sizeof *p);
	if (!p) {
		fprintf(stderr, "sgemm: out of memory for %zu floats\n", n);
		exit(1);
	}
	for (size_t i = 0; i < n; i++) p[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
	return p;
}

/* One product C = op(A) op(B): through cpu_matmul (threads 0) or as one
 * cblas_sgemm on OpenBLAS's own threads; returns seconds. */
static double time_one(const shape_t *s, float *C, const float *A, const float *B, int threads)
{
	int lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N;
	/* cpu_matmul keeps OpenBLAS single-threaded inside its OpenMP team. */
	openblas_set_num_threads(threads ? threads : 1);
	double t0 = now();
	if (threads)
		cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans, s->M,
		            s->N, s->K, 1.0f, A, lda, B, ldb, 0.0f, C, s->N);
	else
		cpu_matmul(C, A, B, s->M, s->N, s->K, s->ta, s->tb, 1.0f, 0.0f);
	return now() - t0;
}

static double median(double *x, int n)
{
	qsort(x, n, sizeof *x, cmp_double);
	return x[n / 2];
}

int main(int argc, char *argv[])
{
	int n = argc > 1 ? atoi(argv[1]) : 16384;
	int threads = argc > 2 ? atoi(argv[2]) : 2;
	int reps = argc > 3 ? atoi(argv[3]) : 5;
	if (n < 1 || threads < 1 || reps < 1 || reps > 64) {
		fprintf(stderr, "usage: sgemm [N [THREADS [REPS (1..64)]]]\n");
		return 2;
	}
	omp_set_num_threads(threads);
	const shape_t shapes[] = {
		{ "x[N,256]*w[256,256] (q/k/v/o)", n, 256, 256, 0, 0 },
		{ "x[N,256]*w[256,1024] (ff1)", n, 1024, 256, 0, 0 },
		{ "h[N,1024]*w[1024,256] (ff2)", n, 256, 1024, 0, 0 },
		{ "x^T[256,N]*g[N,256] (dW q/k/v/o)", 256, 256, n, 1, 0 },
		{ "x^T[256,N]*g[N,1024] (dW ff1)", 256, 1024, n, 1, 0 },
		{ "h^T[1024,N]*g[N,256] (dW ff2)", 1024, 256, n, 1, 0 },
		{ "x[2048,256]*w[256,1024] (ff1 chunk)", 2048, 1024, 256, 0, 0 },
		{ "h[2048,1024]*w[1024,256] (ff2 chunk)", 2048, 256, 1024, 0, 0 },
		{ "g[N,256]*w^T[256,256] (dx q/k/v/o)", n, 256, 256, 0, 1 },
		{ "g[2048,256]*w^T[256,1024] (dh ff2 chunk)", 2048, 1024, 256, 0, 1 },
	};
	printf("shape\tM\tN\tK\ttransA\tthreads\tsgemm_gflops\tcpu_matmul_gflops\tratio\ttransB\t"
	       "sgemm_1thread_gflops\tscaling\n");
	for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
		const shape_t *s = &shapes[i];
		float *A = random_matrix((size_t)s->M * s->K), *B = random_matrix((size_t)s->K * s->N);
		float *C = random_matrix((size_t)s->M * s->N);
		double t[3][64];
		const int thr[3] = { threads, 0, 1 };   /* sgemm, cpu_matmul, one-thread sgemm */
		for (int k = 0; k < 3; k++) time_one(s, C, A, B, thr[k]);   /* first touch, thread start-up: untimed */
		for (int r = 0; r < reps; r++)
			for (int k = 0; k < 3; k++) t[k][r] = time_one(s, C, A, B, thr[k]);
		double flop = 2.0 * s->M * s->N * s->K, g[3];
		for (int k = 0; k < 3; k++) g[k] = flop / median(t[k], reps) * 1e-9;
		printf("%s\t%d\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t%.2f\t%d\t%.1f\t%.2f\n", s->name, s->M, s->N, s->K, s->ta,
		       threads, g[0], g[1], g[1] / g[0], s->tb, g[2], g[1] / (threads * g[2]));
		fflush(stdout);
		free(A);
		free(B);
		free(C);
	}
	return 0;
}
