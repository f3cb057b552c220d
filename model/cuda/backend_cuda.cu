/* The CUDA backend: start-up, memory, matmul through cuBLAS, and the op
 * table. Every op runs on the legacy default stream, so ops are ordered
 * among themselves and with the synchronous upload/download. */
#include <cublas_v2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/cuda/cu_internal.h"
#include "model/cuda/cuda.h"

static cublasHandle_t g_blas;
static void *g_scratch;
static size_t g_scratch_bytes;
static int g_tf32;

void cu_fail(const char *op, const char *file, int line, const char *what)
{
	if (!strncmp(op, "cu_", 3)) op += 3;
	fprintf(stderr, "[cuda] %s (%s:%d): %s\n", op, file, line, what);
	exit(1);
}

#define BLAS_CHECK(call) do { \
	cublasStatus_t st_ = (call); \
	if (st_ != CUBLAS_STATUS_SUCCESS) cu_fail(__func__, __FILE__, __LINE__, cublasGetStatusString(st_)); \
	} while (0)

void *cu_scratch(size_t bytes)
{
	if (bytes > g_scratch_bytes) {
		CU_CHECK(cudaFree(g_scratch)); /* synchronises: no kernel still uses it */
		g_scratch_bytes = bytes < (1u << 20) ? (1u << 20) : bytes;
		CU_CHECK(cudaMalloc(&g_scratch, g_scratch_bytes));
	}
	return g_scratch;
}

int cu_tf32(void)
{
	return g_tf32;
}

extern "C" void rf_cuda_set_math(int tf32)
{
	g_tf32 = tf32 != 0;
	if (!g_blas) return;
	BLAS_CHECK(cublasSetMathMode(g_blas, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
}

static void *cu_alloc(size_t bytes)
{
	void *p = NULL;
	if (cudaMalloc(&p, bytes ? bytes : 1) != cudaSuccess) {
		cudaGetLastError(); /* an out-of-memory answer is reported by the NULL */
		return NULL;
	}
	return p;
}

static void cu_free(void *p)
{
	CU_CHECK(cudaFree(p));
}

static void cu_upload(void *dst, const void *host_src, size_t bytes)
{
	CU_CHECK(cudaMemcpy(dst, host_src, bytes, cudaMemcpyHostToDevice));
}

static void cu_download(void *host_dst, const void *src, size_t bytes)
{
	CU_CHECK(cudaMemcpy(host_dst, src, bytes, cudaMemcpyDeviceToHost));
}

static void cu_copy(void *dst, const void *src, size_t bytes)
{
	CU_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, 0));
}

static void cu_zero(void *p, size_t bytes)
{
	CU_CHECK(cudaMemsetAsync(p, 0, bytes, 0));
}

static void cu_sync(void)
{
	CU_CHECK(cudaDeviceSynchronize());
}

/* Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: cuBLAS
 * reads each row-major matrix as its transpose, so the operands swap and
 * keep their own transpose flags. */
static void cu_matmul(float *C, const float *A, const float *B, int M, int N, int K,
                      int ta, int tb, float alpha, float beta)
{
	int lda = ta ? M : K, ldb = tb ? K : N;
	BLAS_CHECK(cublasSgemm(g_blas, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N,
	                       N, M, K, &alpha, B, ldb, A, lda, &beta, C, N));
}

static const rf_backend_t cuda_backend = {
	"cuda",
	cu_supports_attn,
	cu_alloc, cu_free, cu_upload, cu_download, cu_copy, cu_zero, cu_sync,
	cu_matmul,
	cu_embed_forward, cu_embed_backward,
	cu_layernorm_forward, cu_layernorm_backward,
	cu_bias_add, cu_bias_backward,
	cu_gelu_forward, cu_gelu_backward,
	cu_dropout,
	cu_axpy, cu_scale,
	cu_concat2, cu_concat2_backward,
	cu_rng_normal,
	cu_lsh_hash,
	cu_attn_workspace, cu_attn_forward, cu_attn_backward,
	cu_meanpool_forward, cu_meanpool_backward,
	cu_gather_rows, cu_scatter_add_rows,
	cu_xent_forward, cu_xent_backward,
	cu_sum_squares, cu_sum,
	cu_adamw,
};

extern "C" const rf_backend_t *rf_backend_cuda_table(void)
{
	return &cuda_backend;
}

extern "C" const rf_backend_t *rf_backend_cuda(int device, char *err, size_t errlen)
{
	static int g_device = -1;
	if (g_blas && device == g_device) return &cuda_backend;
	if (g_blas) {
		snprintf(err, errlen, "cuda:%d: this process already runs on cuda:%d", device, g_device);
		return NULL;
	}
	int n = 0;
	cudaError_t e = cudaGetDeviceCount(&n);
	if (e != cudaSuccess) {
		snprintf(err, errlen, "cuda: no usable GPU (cudaGetDeviceCount: %s)", cudaGetErrorString(e));
		return NULL;
	}
	if (n == 0) {
		snprintf(err, errlen, "cuda: no CUDA device found");
		return NULL;
	}
	if (device >= n) {
		snprintf(err, errlen, "cuda:%d: this machine has %d CUDA device%s (cuda:0..cuda:%d)", device, n,
		         n > 1 ? "s" : "", n - 1);
		return NULL;
	}
	e = cudaSetDevice(device);
	if (e == cudaSuccess) e = cudaFree(NULL); /* creates the context now, so a broken device is reported here */
	if (e != cudaSuccess) {
		snprintf(err, errlen, "cuda: cannot start device %d (%s)", device, cudaGetErrorString(e));
		return NULL;
	}
	cublasStatus_t st = cublasCreate(&g_blas);
	if (st != CUBLAS_STATUS_SUCCESS) {
		g_blas = NULL;
		snprintf(err, errlen, "cuda: cublasCreate failed (%s)", cublasGetStatusString(st));
		return NULL;
	}
	g_device = device;
	const char *tf32 = getenv("GF_CUDA_TF32");
	rf_cuda_set_math(tf32 && atoi(tf32) != 0);
	return &cuda_backend;
}
