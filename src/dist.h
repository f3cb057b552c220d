/* Data-parallel runs: a thin layer over MPI (built with -DRF_MPI, `make
 * MPI=1`) and its single-process fallback. Every rank runs the same program;
 * collectives must be called by all ranks in the same order.
 *
 * MPI is started only when a launcher started this process (mpirun, srun,
 * mpiexec: their environment variables say so); otherwise, and in builds
 * without MPI, the run is one process: rank 0 of 1, collectives return at
 * once with the data unchanged. MPI errors are fatal to all ranks (MPI's
 * default handler). */
#ifndef GF_DIST_H
#define GF_DIST_H

#include <stddef.h>

#include "model/reformer.h"

/* Starts MPI when launched by an MPI launcher; argc/argv may be NULL. Safe
 * to call more than once. Returns the number of ranks. */
int gf_dist_init(int *argc, char ***argv);
/* Ends MPI (after a barrier) when it was started; safe to call more than once. */
void gf_dist_finalize(void);

int gf_dist_rank(void);
int gf_dist_size(void);
/* Rank among the ranks on this node (MPI_COMM_TYPE_SHARED) when MPI runs
 * with several ranks; -1 otherwise (src/gpu.c then asks the launcher). */
int gf_dist_local_rank(void);
/* 1 when built with MPI support. */
int gf_dist_has_mpi(void);

/* buf[i] = mean over ranks of buf[i], in place, on host memory. */
void gf_dist_allreduce_mean(float *buf, size_t n);
/* 1 when flag is non-zero on any rank (all ranks get the same answer). */
int gf_dist_any(int flag);
/* Root's n floats / bytes to every rank. */
void gf_dist_bcast(float *buf, size_t n, int root);
void gf_dist_bcast_bytes(void *buf, size_t n, int root);
void gf_dist_barrier(void);

/* Prints "[who] error: rank R: message" and stops every rank with status
 * code (MPI_Abort when there are several ranks, exit otherwise). */
_Noreturn void gf_dist_abort(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The model's parameters from rank 0 to every rank, and its gradients
 * averaged over the ranks; both staged through a host buffer, so they work
 * on any backend. Nothing to do with one rank. */
void gf_dist_sync_params(rf_model_t *m);
void gf_dist_average_grads(rf_model_t *m);

/* Seconds spent in gf_dist_average_grads so far (the benchmark's
 * all-reduce share of a step). */
double gf_dist_allreduce_seconds(void);

#endif
