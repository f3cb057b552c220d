/* Central finite-difference gradient check, shared by the Check suites.
 *
 * The caller writes a loss L(x) = sum(dout * f(x)) evaluated in double over
 * float inputs (gc_dot helps), and the analytic gradient dL/dx from the
 * backward pass. gc_check perturbs each input element by +-h, estimates
 * (L(x+h) - L(x-h)) / (2h) with the step actually taken after rounding to
 * float, and compares with |numeric - analytic| <= atol + rtol*|numeric|.
 *
 * Defaults for fp32 inputs with the loss summed in double: the error is the
 * fp32 rounding of the forward pass (~1/h) plus truncation (~h^2 f''').
 * Measured over every element of the op-case table and of tests/test_attn.c
 * with OpenBLAS's Prescott, Haswell and SkylakeX kernels, attention's worst
 * error is 1.7e-3 at h = 1e-3 (rounding: which element depends on the
 * kernel), 1.4e-3 at h = 1e-2 (truncation) and 5e-4 at h = 3e-3, at most
 * 0.3 of atol 1e-3 + rtol 1e-2 |numeric|.
 */
#ifndef GF_GRADCHECK_H
#define GF_GRADCHECK_H

#include <check.h>
#include <math.h>
#include <stddef.h>

#define GC_H    3e-3
#define GC_ATOL 1e-3
#define GC_RTOL 1e-2

/* L(x) for the current contents of x (the input being checked). */
typedef double (*gc_loss_fn)(const float *x, void *ctx);

typedef struct {
	size_t worst;        /* element with the largest error relative to its tolerance */
	double analytic;     /* at worst */
	double numeric;      /* at worst */
	double ratio;        /* |numeric - analytic| / (atol + rtol*|numeric|) at worst; <= 1 passes */
} gc_result_t;

/* sum_i dout[i] * y[i] in double: the usual L for a forward output y. */
static inline double gc_dot(const float *dout, const float *y, size_t n)
{
	double s = 0.0;
	for (size_t i = 0; i < n; i++) s += (double)dout[i] * y[i];
	return s;
}

/* Checks grad (the analytic dL/dx, n elements) against central differences of
 * f over x, which is perturbed in place and restored element by element. */
static inline gc_result_t gc_check(gc_loss_fn f, void *ctx, float *x, const float *grad,
                                   size_t n, double h, double atol, double rtol)
{
	gc_result_t r = { 0, 0.0, 0.0, -1.0 };
	for (size_t i = 0; i < n; i++) {
		float x0 = x[i];
		float xp = (float)(x0 + h), xm = (float)(x0 - h);
		x[i] = xp;
		double lp = f(x, ctx);
		x[i] = xm;
		double lm = f(x, ctx);
		x[i] = x0;
		double num = (lp - lm) / ((double)xp - (double)xm);
		double ratio = fabs(num - grad[i]) / (atol + rtol * fabs(num));
		if (!(ratio <= r.ratio)) {   /* also catches NaN */
			r.worst = i; r.analytic = grad[i]; r.numeric = num; r.ratio = ratio;
		}
	}
	return r;
}

/* Fails the current test when gc_check finds an element out of tolerance,
 * naming what was checked, the element and both gradients. */
#define ck_assert_gradcheck(what, f, ctx, x, grad, n) do { \
	gc_result_t r_ = gc_check((f), (ctx), (x), (grad), (n), GC_H, GC_ATOL, GC_RTOL); \
	if (!(r_.ratio <= 1.0)) \
		ck_abort_msg("%s: d/dx[%zu] analytic %.7g, numeric %.7g (h %g, atol %g, rtol %g)", \
		             (what), r_.worst, r_.analytic, r_.numeric, GC_H, GC_ATOL, GC_RTOL); \
	} while (0)

#endif
