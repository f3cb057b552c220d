/* GFLOP/s of OpenBLAS's cblas_sgemm alone (its own threads) against the
 * model's cpu_matmul (OpenMP threads, each running single-threaded OpenBLAS
 * on a block of rows or columns) for the Reformer's matrix shapes with N
 * tokens: the projections and feed-forward products and their weight
 * gradients (transposed A). Each repetition times both in turn; the medians
 * are printed as TSV.
 *   sgemm [N [THREADS [REPS]]]        defaults 16384 2 5
 * Built and run by scripts/bench/sgemm.sh. */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "model/cpu/cpu.h"

typedef struct {
	const char *name;
	int M, N, K, ta;
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

/* One product C = op(A) B with either implementation; returns seconds. */
static double time_one(int model, const shape_t *s, float *C, const float *A, const float *B, int threads)
{
	int lda = s->ta ? s->M : s->K;
	double t0;
	if (model) {
		/* cpu_matmul keeps OpenBLAS single-threaded inside its OpenMP team. */
		openblas_set_num_threads(1);
		t0 = now();
		cpu_matmul(C, A, B, s->M, s->N, s->K, s->ta, 0, 1.0f, 0.0f);
	} else {
		openblas_set_num_threads(threads);
		t0 = now();
		cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, CblasNoTrans, s->M, s->N, s->K, 1.0f,
		            A, lda, B, s->N, 0.0f, C, s->N);
	}
	return now() - t0;
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
		{ "x[N,256]*w[256,256] (q/k/v/o)", n, 256, 256, 0 },
		{ "x[N,256]*w[256,1024] (ff1)", n, 1024, 256, 0 },
		{ "h[N,1024]*w[1024,256] (ff2)", n, 256, 1024, 0 },
		{ "x^T[256,N]*g[N,256] (dW q/k/v/o)", 256, 256, n, 1 },
		{ "x^T[256,N]*g[N,1024] (dW ff1)", 256, 1024, n, 1 },
		{ "h^T[1024,N]*g[N,256] (dW ff2)", 1024, 256, n, 1 },
	};
	printf("shape\tM\tN\tK\ttransA\tthreads\tsgemm_gflops\tcpu_matmul_gflops\tratio\n");
	for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
		const shape_t *s = &shapes[i];
		float *A = random_matrix((size_t)s->M * s->K), *B = random_matrix((size_t)s->K * s->N);
		float *C = random_matrix((size_t)s->M * s->N);
		double t[2][64];
		time_one(0, s, C, A, B, threads); /* first touch and thread start-up, untimed */
		time_one(1, s, C, A, B, threads);
		for (int r = 0; r < reps; r++)
			for (int model = 0; model < 2; model++) t[model][r] = time_one(model, s, C, A, B, threads);
		double flop = 2.0 * s->M * s->N * s->K, g[2];
		for (int model = 0; model < 2; model++) {
			qsort(t[model], reps, sizeof(double), cmp_double);
			g[model] = flop / t[model][reps / 2] * 1e-9;
		}
		printf("%s\t%d\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t%.2f\n", s->name, s->M, s->N, s->K, s->ta, threads, g[0], g[1],
		       g[1] / g[0]);
		fflush(stdout);
		free(A);
		free(B);
		free(C);
	}
	return 0;
}
