/* Which code of a fat binary runs on a GPU of a given compute capability,
 * and which math paths that GPU has. Pure functions (no CUDA), so the rules
 * are tested on machines without a GPU; the CUDA backend applies them at
 * start-up and says what it chose.
 *
 * Rules (CUDA C Programming Guide, "Binary Compatibility"): machine code
 * for sm_XY runs on compute capability X.Z with Z >= Y (same major only);
 * PTX for compute_P is compiled by the driver at start-up for any device of
 * capability P or later. TF32 and bf16 tensor-core MMA need sm_80. */
#ifndef RF_GPUARCH_H
#define RF_GPUARCH_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
	int cubin;        /* the sm (e.g. 86) whose machine code runs; 0 when none fits */
	int ptx;          /* the compute_P compiled at start-up when no machine code fits; else 0 */
	int tensor_tf32;  /* TF32 (and bf16) tensor-core MMA: capability 8.0 or later */
} rf_gpu_plan_t;

/* The plan for a device of capability cc (major*10 + minor: 75, 90, 120)
 * running a binary with machine code for archs (comma-separated: "75,80,
 * 86") and PTX for ptx (0: none). 0, or -1 when nothing in the binary runs
 * there. */
int rf_gpu_plan(int cc, const char *archs, int ptx, rf_gpu_plan_t *p);

/* "machine code sm_86", "PTX compute_90 compiled at start-up", or "no code
 * for sm_70 (built for sm_75,80 + PTX compute_80)" into buf. */
void rf_gpu_plan_describe(int cc, const char *archs, int ptx, const rf_gpu_plan_t *p, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
