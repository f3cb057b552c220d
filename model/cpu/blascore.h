/* OpenBLAS's kernels for this CPU. Debian's OpenBLAS picks its kernels at
 * load time from the CPU model, and a release older than the CPU (0.3.21
 * and Intel's family 6 model 207, for one) falls back to its SSE3
 * "Prescott" kernels: matrix products at a fraction of the speed the CPU
 * has (training 1.6 against 3.5 steps a second, measured on such a
 * machine). OPENBLAS_CORETYPE, read at load time, overrides the choice. */
#ifndef RF_CPU_BLASCORE_H
#define RF_CPU_BLASCORE_H

/* Sets OPENBLAS_CORETYPE to the kernels of this CPU ("SkylakeX" for AVX-512
 * F/BW/DQ/VL, "Haswell" for AVX2 and FMA) when OpenBLAS runs a pre-AVX
 * fallback on it and the variable is unset. 1 when it did: the process must
 * run itself again (exec) for OpenBLAS to read it; 0 when its choice stands. */
int rf_cpu_blas_prefer_own_core(void);

/* The kernels OpenBLAS runs ("Prescott", "SkylakeX", ...). */
const char *rf_cpu_blas_core(void);

#endif
