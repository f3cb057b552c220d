/* The CPU backend's op table: host memory, ops from ops.c and attn.c. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/cpu/cpu.h"

/* 64-byte alignment for vector loads; aligned_alloc wants a size that is a
 * multiple of the alignment. */
static void *cpu_alloc(size_t bytes)
{
	size_t n = (bytes + 63) / 64 * 64;
	return aligned_alloc(64, n ? n : 64);
}

static void cpu_free(void *p) { free(p); }
static void cpu_memcpy(void *dst, const void *src, size_t bytes) { memcpy(dst, src, bytes); }
static void cpu_zero(void *p, size_t bytes) { memset(p, 0, bytes); }
static void cpu_sync(void) {}

static int cpu_set_precision(const char *name, char *err, size_t errlen)
{
	if (strcmp(name, "fp32") == 0) {
		cpu_matmul_use_bf16(0);
		return 0;
	}
	if (strcmp(name, "bf16") == 0) {
		if (cpu_bf16_init(err, errlen)) return -1;
		cpu_matmul_use_bf16(1);
		return 0;
	}
	snprintf(err, errlen, "precision %s: the CPU backend has fp32 and bf16", name);
	return -1;
}

/* The CPU kernels take any shape. */
static int cpu_supports_attn(const rf_attn_shape_t *s, char *why, size_t whylen)
{
	(void)s;
	(void)why;
	(void)whylen;
	return 0;
}

static const rf_backend_t cpu_backend = {
	.name = "cpu",
	.supports_attn = cpu_supports_attn,
	.alloc = cpu_alloc,
	.free = cpu_free,
	.upload = cpu_memcpy,
	.download = cpu_memcpy,
	.copy = cpu_memcpy,
	.zero = cpu_zero,
	.sync = cpu_sync,
	.set_precision = cpu_set_precision,
	.matmul = cpu_matmul,
	.embed_forward = cpu_embed_forward,
	.embed_backward = cpu_embed_backward,
	.layernorm_forward = cpu_layernorm_forward,
	.layernorm_backward = cpu_layernorm_backward,
	.bias_add = cpu_bias_add,
	.bias_backward = cpu_bias_backward,
	.gelu_forward = cpu_gelu_forward,
	.gelu_backward = cpu_gelu_backward,
	.dropout = cpu_dropout,
	.axpy = cpu_axpy,
	.scale = cpu_scale,
	.concat2 = cpu_concat2,
	.concat2_backward = cpu_concat2_backward,
	.rng_normal = cpu_rng_normal,
	.lsh_hash = cpu_lsh_hash,
	.attn_workspace = cpu_attn_workspace,
	.attn_forward = cpu_attn_forward,
	.attn_backward = cpu_attn_backward,
	.attn_varlen_workspace = cpu_attn_varlen_workspace,
	.attn_varlen_forward = cpu_attn_varlen_forward,
	.attn_varlen_backward = cpu_attn_varlen_backward,
	.meanpool_forward = cpu_meanpool_forward,
	.meanpool_backward = cpu_meanpool_backward,
	.segpool_forward = cpu_segpool_forward,
	.segpool_backward = cpu_segpool_backward,
	.gather_rows = cpu_gather_rows,
	.scatter_add_rows = cpu_scatter_add_rows,
	.xent_forward = cpu_xent_forward,
	.xent_backward = cpu_xent_backward,
	.sum_squares = cpu_sum_squares,
	.sum = cpu_sum,
	.adamw = cpu_adamw,
	.mem_info = cpu_mem_info,
};

const rf_backend_t *rf_backend_cpu(void)
{
	return &cpu_backend;
}

/* Threads of the OpenMP team; OpenBLAS itself stays single-threaded and
 * runs inside that team (see cpu_matmul). */
void rf_cpu_set_threads(int n)
{
	omp_set_num_threads(n < 1 ? 1 : n);
}
