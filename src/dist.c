/* MPI collectives and their one-process fallback; see dist.h. */
#include "src/dist.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef RF_MPI
#include <mpi.h>
#endif

#include "src/log.h"

static int dist_rank = 0, dist_size = 1;
static int dist_local_rank = -1; /* among the ranks of this node; -1 without MPI */
static int dist_started;      /* MPI_Init was called by us */
static float *dist_host;      /* staging buffer for model parameters / gradients */
static size_t dist_host_n;
static double dist_allreduce_s;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int gf_dist_has_mpi(void)
{
#ifdef RF_MPI
	return 1;
#else
	return 0;
#endif
}

#ifdef RF_MPI
/* The variables OpenMPI's mpirun, PMIx (srun --mpi=pmix, OpenMPI 5) and
 * PMI/PMI-2 launchers (srun --mpi=pmi2, MPICH's hydra) give their ranks.
 * A plain run skips MPI_Init and its singleton start-up. */
static int launched_by_mpi(void)
{
	static const char *const vars[] = { "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE" };
	for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
		if (getenv(vars[i])) return 1;
	return 0;
}

/* MPI counts are ints: large buffers go in pieces of at most 2^30 elements. */
enum { DIST_CHUNK = 1 << 30 };

/* This rank's place among the ranks sharing its node (src/gpu.c gives
 * each its GPU from it). */
static void find_local_rank(void)
{
	MPI_Comm node;
	MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, dist_rank, MPI_INFO_NULL, &node);
	MPI_Comm_rank(node, &dist_local_rank);
	MPI_Comm_free(&node);
}
#endif

int gf_dist_init(int *argc, char ***argv)
{
#ifdef RF_MPI
	int inited = 0;
	MPI_Initialized(&inited);
	if (!inited && launched_by_mpi()) {
		MPI_Init(argc, argv);
		dist_started = 1;
		inited = 1;
	}
	if (inited) {
		MPI_Comm_rank(MPI_COMM_WORLD, &dist_rank);
		MPI_Comm_size(MPI_COMM_WORLD, &dist_size);
		if (dist_started && dist_size > 1) find_local_rank();
	}
#else
	(void)argc, (void)argv;
#endif
	return dist_size;
}

void gf_dist_finalize(void)
{
	free(dist_host);
	dist_host = NULL;
	dist_host_n = 0;
#ifdef RF_MPI
	int finalized = 0;
	MPI_Finalized(&finalized);
	if (dist_started && !finalized) {
		MPI_Barrier(MPI_COMM_WORLD);
		MPI_Finalize();
	}
#endif
	dist_started = 0;
	dist_rank = 0;
	dist_size = 1;
	dist_local_rank = -1;
}

int gf_dist_rank(void) { return dist_rank; }
int gf_dist_local_rank(void) { return dist_local_rank; }
int gf_dist_size(void) { return dist_size; }

void gf_dist_allreduce_mean(float *buf, size_t n)
{
#ifdef RF_MPI
	if (dist_size == 1) return;
	for (size_t i = 0; i < n; i += DIST_CHUNK) {
		int c = (int)(n - i < DIST_CHUNK ? n - i : DIST_CHUNK);
		MPI_Allreduce(MPI_IN_PLACE, buf + i, c, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
	}
	const float inv = 1.0f / (float)dist_size;
	for (size_t i = 0; i < n; i++) buf[i] *= inv;
#else
	(void)buf, (void)n;
#endif
}

int gf_dist_any(int flag)
{
	int any = flag != 0;
#ifdef RF_MPI
	if (dist_size > 1) MPI_Allreduce(MPI_IN_PLACE, &any, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
#endif
	return any;
}

void gf_dist_bcast_bytes(void *buf, size_t n, int root)
{
#ifdef RF_MPI
	if (dist_size == 1) return;
	for (size_t i = 0; i < n; i += DIST_CHUNK) {
		int c = (int)(n - i < DIST_CHUNK ? n - i : DIST_CHUNK);
		MPI_Bcast((char *)buf + i, c, MPI_BYTE, root, MPI_COMM_WORLD);
	}
#else
	(void)buf, (void)n, (void)root;
#endif
}

void gf_dist_bcast(float *buf, size_t n, int root)
{
	gf_dist_bcast_bytes(buf, n * sizeof *buf, root);
}

void gf_dist_barrier(void)
{
#ifdef RF_MPI
	if (dist_size > 1) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

void gf_dist_abort(int code, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (dist_size > 1) gf_error("rank %d: %s", dist_rank, msg);
	else gf_error("%s", msg);
	fflush(stderr);
#ifdef RF_MPI
	if (dist_size > 1) MPI_Abort(MPI_COMM_WORLD, code);
#endif
	exit(code);
}

/* The staging buffer, grown to n floats; stops every rank when memory runs out
 * (one rank cannot leave the others waiting in a collective). */
static float *host_buffer(size_t n)
{
	if (n > dist_host_n) {
		float *p = realloc(dist_host, n * sizeof *p);
		if (!p) gf_dist_abort(1, "out of memory for %zu gradient floats", n);
		dist_host = p;
		dist_host_n = n;
	}
	return dist_host;
}

void gf_dist_sync_params(rf_model_t *m)
{
	if (dist_size == 1) return;
	size_t n = rf_model_n_params(m);
	float *h = host_buffer(n);
	if (dist_rank == 0) rf_model_get_params(m, h);
	gf_dist_bcast(h, n, 0);
	rf_model_set_params(m, h);
}

void gf_dist_average_grads(rf_model_t *m)
{
	if (dist_size == 1) return;
	double t0 = now();
	size_t n = rf_model_n_params(m);
	float *h = host_buffer(n);
	rf_model_get_grads(m, h);
	gf_dist_allreduce_mean(h, n);
	rf_model_backend(m)->upload(rf_model_grads(m), h, n * sizeof *h);
	dist_allreduce_s += now() - t0;
}

double gf_dist_allreduce_seconds(void)
{
	return dist_allreduce_s;
}
