/* Check assertions over a backend's op table, shared by the CPU suites
 * (tests/test_ops.c, tests/test_attn.c) and the CUDA suite
 * (tests/cuda/test_cuda_ops.c): every slot filled, and the drivers of the
 * op-case table (tests/opcases.h) as assertions: gradients against
 * central finite differences, a backend against the CPU. */
#ifndef GF_TESTS_OPTABLE_H
#define GF_TESTS_OPTABLE_H

#include <stddef.h>

#include "model/backend.h"
#include "tests/gradcheck.h"
#include "tests/opcases.h"
#include "tests/testutil.h"

/* Every entry of be is filled: the table is a run of function pointers
 * after its name. */
static inline void tu_assert_table_filled(const rf_backend_t *be)
{
	void (*const *fn)(void) = (void (*const *)(void))&be->supports_attn;
	size_t n = (sizeof *be - offsetof(rf_backend_t, supports_attn)) / sizeof *fn;
	for (size_t i = 0; i < n; i++) ck_assert_msg(fn[i] != NULL, "op %zu of the %s table is NULL", i, be->name);
}

typedef struct {
	const oc_case_t *c;
	void *const *p;
} oc_fd_t;

/* The case's loss after a forward pass on the CPU backend. */
static inline double oc_fd_loss(const float *x, void *ctx)
{
	const oc_fd_t *f = ctx;
	(void)x;   /* the input itself, perturbed in place */
	f->c->forward(rf_backend_cpu(), f->c, f->p);
	return oc_loss(f->c, f->p);
}

/* On the CPU backend: every GRAD of case c against central differences of
 * the loss (tests/gradcheck.h tolerances), then a second backward adds the
 * same values again (twice == 2 * once within 1e-6 + 1e-6 |2 once|). */
static inline void oc_assert_gradients(const oc_case_t *c)
{
	const rf_backend_t *be = rf_backend_cpu();
	void **h = oc_host(c), *p[OC_MAX_T] = { 0 };
	float *once[OC_MAX_T] = { 0 };
	ck_assert_ptr_nonnull(h);
	for (int i = 0; i < c->n_t; i++)
		if (c->t[i].role == OC_GRAD) memset(h[i], 0, c->t[i].n * sizeof(float));
	ck_assert_int_eq(oc_upload(be, c, h, p), 0);
	c->forward(be, c, p);
	c->backward(be, c, p);
	oc_fd_t f = { c, p };
	for (int i = 0; i < c->n_t; i++) {
		const oc_tensor_t *t = &c->t[i];
		if (t->role != OC_GRAD) continue;
		char what[96];
		snprintf(what, sizeof what, "%s %s", c->name, t->name);
		ck_assert_ptr_nonnull(once[i] = malloc(t->n * sizeof(float) + 1));
		memcpy(once[i], p[i], t->n * sizeof(float));
		ck_assert_gradcheck(what, oc_fd_loss, &f, p[t->of], once[i], c->t[t->of].n);
	}
	c->forward(be, c, p);
	c->backward(be, c, p);
	for (int i = 0; i < c->n_t; i++) {
		const float *twice = p[i];
		for (size_t j = 0; once[i] && j < c->t[i].n; j++)
			if (!(fabs(twice[j] - 2.0 * once[i][j]) <= 1e-6 + 1e-6 * fabs(2.0 * once[i][j])))
				ck_abort_msg("%s %s: second backward gives %.9g at %zu, expected 2 * %.9g", c->name, c->t[i].name,
				             twice[j], j, once[i][j]);
		free(once[i]);
	}
	oc_release(be, c, p);
	oc_host_free(c, h);
}

/* Backend be against the CPU backend on case c (tests/opcases.h). */
static inline void oc_assert_parity(const rf_backend_t *be, const oc_case_t *c)
{
	char msg[512];
	if (oc_parity(be, c, msg, sizeof msg)) ck_abort_msg("%s", msg);
}

#endif
