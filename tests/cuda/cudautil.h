/* Shared by the CUDA Check suites. */
#ifndef GF_CUDAUTIL_H
#define GF_CUDAUTIL_H

#include "model/backend.h"
#include "model/cuda/cuda.h"
#include "tests/testutil.h"

/* The CUDA backend with fp32 matmuls (parity with the CPU backend); fails
 * the test when no GPU is usable. Call inside a test: Check forks. */
static inline const rf_backend_t *tu_cuda(void)
{
	char err[256];
	const rf_backend_t *g = rf_backend_cuda(0, err, sizeof err);
	if (!g) ck_abort_msg("%s", err);
	rf_cuda_set_math(0);
	return g;
}

#endif
