/* The CUDA backend: start-up, memory, matmul through cuBLAS, and the op
 * table. Every op runs on the legacy default stream, so ops are ordered
 * among themselves and with the synchronous upload/download. */
#include <cublas_v2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/cuda/cu_internal.h"
#include "model/cuda/cuda.h"
#include "model/gpuarch.h"

static cublasHandle_t g_blas;
static void *g_scratch;
static size_t g_scratch_bytes;
static int g_tf32;          /* in effect */
static int g_tf32_asked;    /* by rf_cuda_set_math or GF_CUDA_TF32 */
static int g_dev = -1;      /* the device in use, once started */
static int g_tensor_tf32;   /* the device has TF32 tensor cores (sm_80+) */
static char g_desc[640];

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

/* A GPU before sm_80 keeps fp32: cuBLAS would ignore the TF32 mode there,
 * and attention's TF path is compiled as fp32 for those targets anyway. */
extern "C" void rf_cuda_set_math(int tf32)
{
	g_tf32_asked = tf32 != 0;
	g_tf32 = g_tf32_asked && (g_dev < 0 || g_tensor_tf32);
	if (!g_blas) return;
	BLAS_CHECK(cublasSetMathMode(g_blas, g_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
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

static int cu_set_precision(const char *name, char *err, size_t errlen)
{
	if (strcmp(name, "fp32") == 0 || strcmp(name, "tf32") == 0) {
		rf_cuda_set_math(name[0] == 't');
		return 0;
	}
	snprintf(err, errlen, "precision %s: the CUDA backend has fp32 and tf32 (bf16 on the GPU is not built yet)", name);
	return -1;
}

static void cu_mem_info(size_t *free_bytes, size_t *total_bytes)
{
	CU_CHECK(cudaMemGetInfo(free_bytes, total_bytes));
}

static const rf_backend_t cuda_backend = {
	"cuda",
	cu_supports_attn,
	cu_alloc, cu_free, cu_upload, cu_download, cu_copy, cu_zero, cu_sync,
	cu_set_precision,
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
	cu_attn_varlen_workspace, cu_attn_varlen_forward, cu_attn_varlen_backward,
	cu_meanpool_forward, cu_meanpool_backward,
	cu_segpool_forward, cu_segpool_backward,
	cu_gather_rows, cu_scatter_add_rows,
	cu_xent_forward, cu_xent_backward,
	cu_sum_squares, cu_sum,
	cu_adamw,
	cu_mem_info,
};

/* Asks the runtime for a kernel of this binary: fails on a device the fat
 * binary has no code for, and compiles the PTX now when that is the code. */
__global__ static void probe_kernel(void) {}

/* Device dev's properties, the code that runs there and its math path,
 * checked before anything is allocated; 0 or -1 with err. */
static int start_device(int dev, char *err, size_t errlen)
{
	cudaDeviceProp p;
	cudaError_t e = cudaSetDevice(dev);
	if (e == cudaSuccess) e = cudaFree(NULL); /* creates the context now, so a broken device is reported here */
	if (e == cudaSuccess) e = cudaGetDeviceProperties(&p, dev);
	if (e != cudaSuccess) {
		snprintf(err, errlen, "cuda: cannot start device %d (%s)", dev, cudaGetErrorString(e));
		return -1;
	}
	int cc = p.major * 10 + p.minor;
	rf_gpu_plan_t plan;
	char code[160];
	int runs = rf_gpu_plan(cc, GF_CUDA_ARCHS, GF_CUDA_PTX, &plan) == 0;
	rf_gpu_plan_describe(cc, GF_CUDA_ARCHS, GF_CUDA_PTX, &plan, code, sizeof code);
	cudaFuncAttributes fa;
	if (runs && (e = cudaFuncGetAttributes(&fa, probe_kernel)) != cudaSuccess) {
		cudaGetLastError();
		snprintf(code + strlen(code), sizeof code - strlen(code), ", which does not load (%s)", cudaGetErrorString(e));
		runs = 0;
	}
	if (!runs) {
		snprintf(err, errlen, "cuda: device %d, %s (sm_%d): %s; rebuild with make CUDA=1 CUDA_ARCH=%d", dev, p.name,
		         cc, code, cc);
		return -1;
	}
	g_tensor_tf32 = plan.tensor_tf32;
	size_t free_b = 0, total_b = 0;
	CU_CHECK(cudaMemGetInfo(&free_b, &total_b));
	snprintf(g_desc, sizeof g_desc, "device %d, %s (sm_%d, %.1f GiB free of %.1f GiB), %s", dev, p.name, cc,
	         free_b / 1073741824.0, total_b / 1073741824.0, code);
	return 0;
}

extern "C" int rf_cuda_device_count(void)
{
	int n = 0;
	if (cudaGetDeviceCount(&n) != cudaSuccess) {
		cudaGetLastError();
		return 0;
	}
	return n;
}

extern "C" const rf_backend_t *rf_backend_cuda_table(void)
{
	return &cuda_backend;
}

extern "C" const rf_backend_t *rf_backend_cuda(int device, char *err, size_t errlen)
{
	if (g_blas && device == g_dev) return &cuda_backend;
	if (g_blas) {
		snprintf(err, errlen, "cuda:%d: this process already runs on cuda:%d", device, g_dev);
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
	if (start_device(device, err, errlen)) return NULL;
	cublasStatus_t st = cublasCreate(&g_blas);
	if (st != CUBLAS_STATUS_SUCCESS) {
		g_blas = NULL;
		snprintf(err, errlen, "cuda: cublasCreate failed (%s)", cublasGetStatusString(st));
		return NULL;
	}
	g_dev = device;
	const char *tf32 = getenv("GF_CUDA_TF32");
	rf_cuda_set_math(g_tf32_asked || (tf32 && atoi(tf32) != 0));
	return &cuda_backend;
}

extern "C" const char *rf_cuda_describe(void)
{
	static char buf[768];
	const char *math = g_tf32 ? "TF32 tensor cores"
	                   : g_tf32_asked ? "fp32 on CUDA cores (TF32 tensor cores need sm_80)"
	                                  : "fp32 (GF_CUDA_TF32=1 for TF32 tensor cores)";
	snprintf(buf, sizeof buf, "%s; matmuls and attention: %s", g_desc, math);
	return buf;
}
