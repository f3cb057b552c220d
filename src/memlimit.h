/* Resource limits: before a command allocates the memory of its windows it
 * compares what they need (rf_model_estimate_bytes, the same sizes the model
 * allocates) with what the process can still take, and refuses with one
 * line naming the largest window (and batch) that would fit, instead of
 * failing half-way or being killed by the OOM killer.
 *
 * Available memory is what the backend's mem_info says this process can
 * still allocate there (host memory for cpu: the least of MemAvailable and
 * the room under the cgroup's memory.max, RLIMIT_AS and RLIMIT_DATA; free
 * GPU memory for cuda), capped by the environment variable GF_MEMORY_LIMIT
 * (bytes, with an optional K, M, G or T suffix, powers of 1024), which
 * limits the total a command plans for on any backend. */
#ifndef GF_MEMLIMIT_H
#define GF_MEMLIMIT_H

#include <stddef.h>

#include "model/reformer.h"

/* Checks a model of cfg on backend be, called on batches of B windows of L
 * tokens (rows_per_window model rows each: 2 with --rc-average); train:
 * forward and backward with the optimizer's state, mlm_frac the fraction of
 * tokens masked (pretrain). held: bytes of it already allocated (a loaded
 * model's rf_model_current_bytes), counted as available to it; 0 before
 * the model exists. 0, or -1 after the error line. */
int gf_mem_check_model(const rf_config_t *cfg, const rf_backend_t *be, int B, int rows_per_window, int L, int train,
                       double mlm_frac, size_t held);

/* on: a check that passes says what it planned ("memory: a window of 512
 * tokens x batch 8 needs 1.2 GiB, 78.1 GiB available on cuda"), for
 * --dry-run. */
void gf_mem_report(int on);

/* Checks a buffer of L tokens of bytes_per_window(L) bytes (tokenize's
 * window). 0, or -1 after the error line. */
int gf_mem_check_window(int L, size_t (*bytes_per_window)(int L));

#endif
