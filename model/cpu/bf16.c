/* bf16 matrix products on the CPU through oneDNN (Debian's libdnnl):
 * operands rounded to bf16 (round to nearest even), products accumulated
 * and written in fp32, on the AVX512-BF16 dot-product instructions (brgemm
 * kernels). OpenBLAS has no bf16 GEMM; a library keeps the kernels.
 *
 * One primitive per shape (N, K, transposes, alpha, beta) with the number
 * of rows M given at run time, so packed batches of any size reuse it;
 * primitives and the bf16 copies of the operands are cached here and only
 * ever used from the thread that calls the op table (oneDNN runs its own
 * OpenMP team inside, the one the rest of the CPU backend uses). */
#include <oneapi/dnnl/dnnl.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/cpu/cpu.h"

#define BF16_PRIMS 32        /* cached primitives (shapes) */
#define BF16_SPAN 16384      /* elements converted per parallel item */

typedef struct {
	int N, K, ta, tb;
	float alpha, beta;
	dnnl_primitive_t prim;
} bf16_prim_t;

static struct {
	int ready;
	dnnl_engine_t eng;
	dnnl_stream_t stream;
	bf16_prim_t prims[BF16_PRIMS];
	int n_prims, next;       /* next: the slot replaced when all are taken */
	uint16_t *a, *b;         /* bf16 copies of the operands */
	size_t a_cap, b_cap;
} g;

int cpu_bf16_supported(void)
{
	dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
	return ((unsigned)isa & (unsigned)dnnl_cpu_isa_avx512_core_bf16) == (unsigned)dnnl_cpu_isa_avx512_core_bf16;
}

/* Round to nearest even; NaN stays a (quiet) NaN. */
CPU_SIMD static void bf16_span(uint16_t *out, const float *x, size_t n)
{
#pragma omp simd
	for (size_t i = 0; i < n; i++) {
		uint32_t u;
		memcpy(&u, &x[i], sizeof u);
		uint32_t r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
		out[i] = (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? (u >> 16) | 0x40u : r);
	}
}

static void to_bf16(uint16_t *out, const float *x, size_t n)
{
	#pragma omp parallel for schedule(static) if (n > 4 * BF16_SPAN)
	for (size_t i0 = 0; i0 < n; i0 += BF16_SPAN)
		bf16_span(out + i0, x + i0, n - i0 < BF16_SPAN ? n - i0 : BF16_SPAN);
}

static int grow(uint16_t **p, size_t *cap, size_t n)
{
	if (n <= *cap) return 0;
	uint16_t *q = realloc(*p, n * sizeof *q);
	if (!q) return -1;
	*p = q;
	*cap = n;
	return 0;
}

/* Row-major [rows, cols], or its transpose stored [cols, rows] (t). */
static void md_init(dnnl_memory_desc_t *md, int64_t rows, int64_t cols, int t, dnnl_data_type_t dt)
{
	dnnl_dims_t dims = { rows, cols }, strides = { t ? 1 : cols, t ? rows : 1 };
	if (rows == DNNL_RUNTIME_DIM_VAL && t) strides[1] = DNNL_RUNTIME_DIM_VAL;
	if (dnnl_memory_desc_init_by_strides(md, 2, dims, dt, strides) != dnnl_success) abort();
}

static dnnl_primitive_t make_prim(int N, int K, int ta, int tb, float alpha, float beta)
{
	dnnl_memory_desc_t a, b, c;
	md_init(&a, DNNL_RUNTIME_DIM_VAL, K, ta, dnnl_bf16);
	md_init(&b, K, N, tb, dnnl_bf16);
	md_init(&c, DNNL_RUNTIME_DIM_VAL, N, 0, dnnl_f32);
	dnnl_matmul_desc_t md;
	dnnl_primitive_attr_t attr;
	dnnl_post_ops_t ops;
	dnnl_primitive_desc_t pd;
	dnnl_primitive_t prim = NULL;
	if (dnnl_matmul_desc_init(&md, &a, &b, NULL, &c) != dnnl_success || dnnl_primitive_attr_create(&attr) != dnnl_success)
		return NULL;
	dnnl_post_ops_create(&ops);
	if (beta != 0.0f) dnnl_post_ops_append_sum(ops, beta);
	dnnl_primitive_attr_set_post_ops(attr, ops);
	if (alpha != 1.0f) dnnl_primitive_attr_set_output_scales(attr, 1, 0, &alpha);
	if (dnnl_primitive_desc_create(&pd, &md, attr, g.eng, NULL) == dnnl_success) {
		if (dnnl_primitive_create(&prim, pd) != dnnl_success) prim = NULL;
		dnnl_primitive_desc_destroy(pd);
	}
	dnnl_post_ops_destroy(ops);
	dnnl_primitive_attr_destroy(attr);
	return prim;
}

static dnnl_primitive_t find_prim(int N, int K, int ta, int tb, float alpha, float beta)
{
	for (int i = 0; i < g.n_prims; i++) {
		bf16_prim_t *p = &g.prims[i];
		if (p->N == N && p->K == K && p->ta == ta && p->tb == tb && p->alpha == alpha && p->beta == beta)
			return p->prim;
	}
	dnnl_primitive_t prim = make_prim(N, K, ta, tb, alpha, beta);
	if (!prim) return NULL;
	bf16_prim_t *slot;
	if (g.n_prims < BF16_PRIMS) {
		slot = &g.prims[g.n_prims++];
	} else {
		slot = &g.prims[g.next];
		g.next = (g.next + 1) % BF16_PRIMS;
		dnnl_primitive_destroy(slot->prim);
	}
	*slot = (bf16_prim_t){ N, K, ta, tb, alpha, beta, prim };
	return prim;
}

int cpu_bf16_init(char *err, size_t errlen)
{
	if (g.ready) return 0;
	if (!cpu_bf16_supported()) {
		snprintf(err, errlen, "precision bf16 needs a CPU with AVX512-BF16 (this one has none): use fp32");
		return -1;
	}
	if (dnnl_engine_create(&g.eng, dnnl_cpu, 0) != dnnl_success ||
	    dnnl_stream_create(&g.stream, g.eng, dnnl_stream_default_flags) != dnnl_success) {
		snprintf(err, errlen, "precision bf16: oneDNN cannot start a CPU engine");
		return -1;
	}
	g.ready = 1;
	return 0;
}

/* A failure here (out of memory, oneDNN refusing a shape it accepted
 * before) cannot be returned through the op table: one line and exit, as
 * the CUDA backend does. */
static void bf16_fail(const char *what)
{
	fprintf(stderr, "[cpu] bf16 matmul: %s\n", what);
	exit(1);
}

void cpu_bf16_matmul(float *C, const float *A, const float *B, int M, int N, int K,
                     int ta, int tb, float alpha, float beta)
{
	if (M == 0 || N == 0) return;
	dnnl_primitive_t prim = find_prim(N, K, ta, tb, alpha, beta);
	if (!prim) bf16_fail("oneDNN has no implementation for this shape");
	if (grow(&g.a, &g.a_cap, (size_t)M * K) || grow(&g.b, &g.b_cap, (size_t)K * N)) bf16_fail("out of memory");
	to_bf16(g.a, A, (size_t)M * K);
	to_bf16(g.b, B, (size_t)K * N);
	dnnl_memory_desc_t a, b, c;
	md_init(&a, M, K, ta, dnnl_bf16);
	md_init(&b, K, N, tb, dnnl_bf16);
	md_init(&c, M, N, 0, dnnl_f32);
	dnnl_memory_t ma, mb, mc;
	if (dnnl_memory_create(&ma, &a, g.eng, g.a) != dnnl_success || dnnl_memory_create(&mb, &b, g.eng, g.b) != dnnl_success ||
	    dnnl_memory_create(&mc, &c, g.eng, C) != dnnl_success)
		bf16_fail("cannot wrap the operands");
	dnnl_exec_arg_t args[3] = { { DNNL_ARG_SRC, ma }, { DNNL_ARG_WEIGHTS, mb }, { DNNL_ARG_DST, mc } };
	if (dnnl_primitive_execute(prim, g.stream, 3, args) != dnnl_success || dnnl_stream_wait(g.stream) != dnnl_success)
		bf16_fail("execution failed");
	dnnl_memory_destroy(ma);
	dnnl_memory_destroy(mb);
	dnnl_memory_destroy(mc);
}
