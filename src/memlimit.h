/* Resource limits: before a command allocates the memory of its windows it
 * compares what they need (rf_model_estimate_bytes, the same sizes the model
 * allocates) with what the process can still take, and refuses with one
 * line naming the largest window (and batch) that would fit, instead of
 * failing half-way or being killed by the OOM killer.
 *
 * Available memory is the smallest of: MemAvailable (/proc/meminfo), the
 * room left under the memory.max of the process's cgroup (v2) and its
 * parents, the room under RLIMIT_AS and RLIMIT_DATA, and the environment
 * variable GF_MEMORY_LIMIT (bytes, with an optional K, M, G or T suffix,
 * powers of 1024), which caps the total a command plans for. The system
 * limits apply to host memory, so for the cuda backend only GF_MEMORY_LIMIT
 * is checked (the backend table has no query of free GPU memory). */
#ifndef GF_MEMLIMIT_H
#define GF_MEMLIMIT_H

#include <stddef.h>

#include "model/reformer.h"

/* Checks one call of m on batches of B windows of L tokens (rows_per_window
 * model rows each: 2 with --rc-average); train: forward and backward with the
 * optimizer's state, mlm_frac the fraction of tokens masked (pretrain).
 * Counts the memory m already holds as available to it. 0, or -1 after the
 * error line. */
int gf_mem_check_model(const rf_model_t *m, int B, int rows_per_window, int L, int train, double mlm_frac);

/* Checks a buffer of L tokens of bytes_per_window(L) bytes (tokenize's
 * window). 0, or -1 after the error line. */
int gf_mem_check_window(int L, size_t (*bytes_per_window)(int L));

#endif
