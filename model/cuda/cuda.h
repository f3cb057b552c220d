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

#ifdef __cplusplus
}
#endif

#endif
