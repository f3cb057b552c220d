/* Per-op timing from the op-case table (tests/opcases.h), the same cases
 * the CPU gradient checks and the CUDA parity suite run: for each L given,
 * the cases at the engine's shape (B 1, d_model 256, d_ff 1024, 4 heads of
 * 64, chunk 64, 4 LSH rounds, automatic buckets), each timed forward and,
 * where it has one, backward. Prints per L and case the median wall and
 * CPU milliseconds of REPS calls (CPU time counts every thread) as TSV;
 * -o keeps the cases whose names hold one of the comma-separated texts.
 *   ops [-d cpu|cuda|cuda:N] [-t THREADS] [-r REPS] [-o TEXT,...] L...
 * Built by make (build/bench/ops); run by scripts/bench/kernels.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/opcases.h"

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

/* Median wall and CPU seconds of reps calls of fn (after one untimed call:
 * first touch of the outputs). */
static tm_t time_fn(const rf_backend_t *be, const oc_case_t *c, void *const *p, int reps,
                    void (*fn)(const rf_backend_t *, const oc_case_t *, void *const *))
{
	double w[64], u[64];
	fn(be, c, p);
	be->sync();
	for (int r = 0; r < reps; r++) {
		tm_t t0 = now();
		fn(be, c, p);
		be->sync();
		tm_t t1 = now();
		w[r] = t1.wall - t0.wall;
		u[r] = t1.cpu - t0.cpu;
	}
	qsort(w, reps, sizeof *w, cmp_double);
	qsort(u, reps, sizeof *u, cmp_double);
	return (tm_t){ w[reps / 2], u[reps / 2] };
}

/* Whether name holds one of the comma-separated texts of only (NULL: all). */
static int wanted(const char *name, const char *only)
{
	if (!only) return 1;
	for (const char *p = only; *p;) {
		size_t n = strcspn(p, ",");
		for (const char *q = name; n && *q; q++)
			if (!strncmp(q, p, n)) return 1;
		p += n + (p[n] == ',');
	}
	return 0;
}

static int bench_length(const rf_backend_t *be, int L, int reps, const char *only)
{
	const oc_dims_t d = { 1, L, 256, 1024, 4, 64, 64, 4 };
	oc_case_t cases[OC_MAX_CASES];
	int n = oc_cases(&d, cases);
	for (int i = 0; i < n; i++) {
		const oc_case_t *c = &cases[i];
		void **h, *p[OC_MAX_T] = { 0 };
		if (!wanted(c->name, only)) continue;
		if (!(h = oc_host(c)) || oc_upload(be, c, h, p)) {
			fprintf(stderr, "ops: out of memory for %s at L=%d\n", c->name, L);
			return 1;
		}
		tm_t f = time_fn(be, c, p, reps, c->forward), b = { -1, -1 };
		if (c->backward) b = time_fn(be, c, p, reps, c->backward);
		printf("%d\t%s\t%s\t%.3f\t%.3f", L, c->name, be->name, f.wall * 1e3, f.cpu * 1e3);
		if (c->backward) printf("\t%.3f\t%.3f\n", b.wall * 1e3, b.cpu * 1e3);
		else printf("\tNA\tNA\n");
		fflush(stdout);
		oc_release(be, c, p);
		oc_host_free(c, h);
	}
	return 0;
}

int main(int argc, char *argv[])
{
	int threads = 2, reps = 3, c;
	const char *only = NULL, *device = "cpu";
	while ((c = getopt(argc, argv, "d:t:r:o:")) != -1) {
		if (c == 'd') device = optarg;
		else if (c == 't') threads = atoi(optarg);
		else if (c == 'r') reps = atoi(optarg);
		else if (c == 'o') only = optarg;
		else return 2;
	}
	if (optind >= argc || reps < 1 || reps > 64 || threads < 1) {
		fprintf(stderr, "Usage: ops [-d cpu|cuda|cuda:N] [-t THREADS] [-r REPS (1..64)] [-o TEXT,...] L...\n");
		return 2;
	}
	char err[512];
	const rf_backend_t *be = rf_backend_get(device, err, sizeof err);
	if (!be) {
		fprintf(stderr, "ops: %s\n", err);
		return 1;
	}
	rf_cpu_set_threads(threads);
	printf("L\top\tdevice\tfwd_wall_ms\tfwd_cpu_ms\tbwd_wall_ms\tbwd_cpu_ms\n");
	for (int i = optind; i < argc; i++)
		if (bench_length(be, atoi(argv[i]), reps, only)) return 1;
	return 0;
}
