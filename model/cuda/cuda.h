/* CUDA backend controls beyond the op table (model/backend.h). */
#ifndef RF_CUDA_H
#define RF_CUDA_H

#ifdef __cplusplus
extern "C" {
#endif

/* Matmul precision: 0 = plain fp32 (CUBLAS_DEFAULT_MATH, and attention's
 * products on the CUDA cores; used for parity with the CPU backend), 1 = TF32
 * tensor cores with fp32 accumulation, for cuBLAS and attention alike.
 * The environment variable GF_CUDA_TF32=1 sets 1 when the backend starts. */
void rf_cuda_set_math(int tf32);

/* Visible CUDA devices (0 when none or no driver). */
int rf_cuda_device_count(void);

/* One line on the device in use, once the backend has started: "device 0,
 * NVIDIA H100 80GB HBM3 (sm_90, 78.6 GiB free of 79.1 GiB), machine code
 * sm_90; matmuls and attention: fp32 (...)". The code that runs and the
 * math path are chosen at start-up: a GPU before sm_80 has no TF32 tensor
 * cores and stays on fp32 whatever was asked. */
const char *rf_cuda_describe(void);

#ifdef __cplusplus
}
#endif

#endif
