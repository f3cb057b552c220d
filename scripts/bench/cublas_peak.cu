/* cuBLAS's own matmul throughput on this GPU, the yardstick for the model's
 * achieved TFLOP/s in scripts/bench/gpu.sh: cublasSgemm (the call the CUDA
 * backend makes) in plain fp32 and with TF32 tensor cores, on a large square
 * product (the peak) and on the shapes a training step of the benchmark
 * model multiplies (d_model 256, d_ff 1024, feed-forward chunks of 2048 rows).
 * Prints one TSV line per product: math m n k ms tflops.
 *   nvcc -O2 -o cublas_peak scripts/bench/cublas_peak.cu -lcublas */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(x)                                                                        \
	do {                                                                                \
		if ((x) != 0) {                                                                 \
			fprintf(stderr, "cublas_peak: %s failed at line %d\n", #x, __LINE__);       \
			exit(1);                                                                    \
		}                                                                               \
	} while (0)

/* Times C[m,n] = A[m,k] B[k,n] (row-major, as the backend stores them) and
 * prints its throughput; ITERS products after WARM untimed ones. */
static void time_gemm(cublasHandle_t h, const char *math, int m, int n, int k, const float *A, const float *B,
                      float *C)
{
	enum { WARM = 3, ITERS = 20 };
	const float one = 1.0f, zero = 0.0f;
	cudaEvent_t t0, t1;
	CHECK(cudaEventCreate(&t0));
	CHECK(cudaEventCreate(&t1));
	for (int i = 0; i < WARM + ITERS; i++) {
		if (i == WARM) CHECK(cudaEventRecord(t0));
		/* row-major C = A B is column-major C^T = B^T A^T */
		CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &one, B, n, A, k, &zero, C, n));
	}
	CHECK(cudaEventRecord(t1));
	CHECK(cudaEventSynchronize(t1));
	float ms = 0.0f;
	CHECK(cudaEventElapsedTime(&ms, t0, t1));
	ms /= ITERS;
	printf("%s\t%d\t%d\t%d\t%.4f\t%.2f\n", math, m, n, k, ms, 2.0 * m * n * k / (ms * 1e-3) / 1e12);
	CHECK(cudaEventDestroy(t0));
	CHECK(cudaEventDestroy(t1));
}

int main(void)
{
	static const int shapes[][3] = {
		{ 8192, 8192, 8192 },  /* large square: the peak */
		{ 65536, 256, 256 },   /* attention projections over 64K tokens */
		{ 2048, 1024, 256 },   /* feed-forward up, one chunk */
		{ 2048, 256, 1024 },   /* feed-forward down, one chunk */
		{ 65536, 1024, 256 },  /* feed-forward up, unchunked 64K */
	};
	size_t most = 0;
	for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
		size_t a = (size_t)shapes[s][0] * shapes[s][2], b = (size_t)shapes[s][2] * shapes[s][1],
		       c = (size_t)shapes[s][0] * shapes[s][1];
		size_t big = a > b ? (a > c ? a : c) : (b > c ? b : c);
		if (big > most) most = big;
	}
	float *A, *B, *C;
	CHECK(cudaMalloc(&A, most * sizeof(float)));
	CHECK(cudaMalloc(&B, most * sizeof(float)));
	CHECK(cudaMalloc(&C, most * sizeof(float)));
	/* any finite values: throughput does not depend on them beyond zeros */
	CHECK(cudaMemset(A, 0x3c, most * sizeof(float)));
	CHECK(cudaMemset(B, 0x3c, most * sizeof(float)));
	cublasHandle_t h;
	CHECK(cublasCreate(&h));
	printf("math\tm\tn\tk\tms\ttflops\n");
	for (int tf32 = 0; tf32 <= 1; tf32++) {
		CHECK(cublasSetMathMode(h, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
		for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
			time_gemm(h, tf32 ? "tf32" : "fp32", shapes[s][0], shapes[s][1], shapes[s][2], A, B, C);
	}
	CHECK(cublasDestroy(h));
	CHECK(cudaFree(A));
	CHECK(cudaFree(B));
	CHECK(cudaFree(C));
	return 0;
}
