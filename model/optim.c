/* AdamW with global-norm clipping over the backend's adamw op. */
#include "model/optim.h"

#include <math.h>
#include <stdlib.h>

#include "model/util.h"

struct rf_optim {
	rf_model_t *model;
	rf_optim_config_t oc;
	float *m, *v;
	int64_t steps;
};

void rf_optim_default(rf_optim_config_t *oc)
{
	oc->beta1 = 0.9f;
	oc->beta2 = 0.999f;
	oc->eps = 1e-8f;
	oc->weight_decay = 0.01f;
	oc->clip = 1.0f;
}

static int check_config(const rf_optim_config_t *oc, char *err, size_t errlen)
{
	if (!(oc->beta1 >= 0.0f && oc->beta1 < 1.0f)) return rf_fail(err, errlen, "--beta1 %g: must be in [0, 1)", (double)oc->beta1);
	if (!(oc->beta2 >= 0.0f && oc->beta2 < 1.0f)) return rf_fail(err, errlen, "--beta2 %g: must be in [0, 1)", (double)oc->beta2);
	if (!(oc->eps > 0.0f)) return rf_fail(err, errlen, "--adam-eps %g: must be > 0", (double)oc->eps);
	if (!(oc->weight_decay >= 0.0f)) return rf_fail(err, errlen, "--weight-decay %g: must be >= 0", (double)oc->weight_decay);
	if (!(oc->clip >= 0.0f)) return rf_fail(err, errlen, "--clip %g: must be >= 0 (0 = off)", (double)oc->clip);
	return 0;
}

size_t rf_optim_state_bytes(const rf_model_t *m)
{
	return 2 * rf_model_n_params(m) * sizeof(float);
}

rf_optim_t *rf_optim_create(rf_model_t *m, const rf_optim_config_t *oc, char *err, size_t errlen)
{
	if (check_config(oc, err, errlen)) return NULL;
	rf_optim_t *o = calloc(1, sizeof *o);
	if (!o) { rf_fail(err, errlen, "optimizer: out of host memory"); return NULL; }
	size_t bytes = rf_optim_state_bytes(m) / 2;
	rf_arena_t *a = rf_model_arena(m);
	o->model = m;
	o->oc = *oc;
	o->m = rf_arena_alloc(a, bytes);
	o->v = rf_arena_alloc(a, bytes);
	if (!o->m || !o->v) {
		rf_fail(err, errlen, "optimizer: cannot allocate %zu bytes of moments", 2 * bytes);
		rf_optim_free(o);
		return NULL;
	}
	rf_model_backend(m)->zero(o->m, bytes);
	rf_model_backend(m)->zero(o->v, bytes);
	return o;
}

void rf_optim_free(rf_optim_t *o)
{
	if (!o) return;
	rf_arena_t *a = rf_model_arena(o->model);
	rf_arena_free(a, o->m);
	rf_arena_free(a, o->v);
	free(o);
}

double rf_optim_step(rf_optim_t *o, float lr, float grad_scale)
{
	rf_model_t *mdl = o->model;
	const rf_backend_t *be = rf_model_backend(mdl);
	float *p = rf_model_params(mdl), *g = rf_model_grads(mdl);
	size_t n = rf_model_n_params(mdl);

	if (grad_scale != 1.0f) be->scale(g, grad_scale, n);
	double norm = sqrt(be->sum_squares(g, n));
	if (o->oc.clip > 0.0f && norm > o->oc.clip) be->scale(g, (float)(o->oc.clip / norm), n);
	o->steps++;
	float bc1 = 1.0f - powf(o->oc.beta1, (float)o->steps);
	float bc2 = 1.0f - powf(o->oc.beta2, (float)o->steps);
	for (int i = 0; i < rf_model_n_tensors(mdl); i++) {
		const rf_tensor_t *t = rf_model_tensor(mdl, i);
		float wd = t->ndim >= 2 ? o->oc.weight_decay : 0.0f;
		be->adamw(p + t->offset, g + t->offset, o->m + t->offset, o->v + t->offset, t->numel, lr,
		          o->oc.beta1, o->oc.beta2, o->oc.eps, wd, bc1, bc2);
	}
	return norm;
}

int64_t rf_optim_steps(const rf_optim_t *o) { return o->steps; }
void rf_optim_set_steps(rf_optim_t *o, int64_t steps) { o->steps = steps; }

void rf_optim_get_state(const rf_optim_t *o, float *m_host, float *v_host)
{
	const rf_backend_t *be = rf_model_backend(o->model);
	size_t bytes = rf_model_n_params(o->model) * sizeof(float);
	be->download(m_host, o->m, bytes);
	be->download(v_host, o->v, bytes);
}

void rf_optim_set_state(rf_optim_t *o, const float *m_host, const float *v_host)
{
	const rf_backend_t *be = rf_model_backend(o->model);
	size_t bytes = rf_model_n_params(o->model) * sizeof(float);
	be->upload(o->m, m_host, bytes);
	be->upload(o->v, v_host, bytes);
}

float rf_lr_schedule(float base, int64_t step, int64_t warmup, int64_t total, float min_ratio)
{
	float lo = base * min_ratio;
	if (step < warmup) return base * (float)(step + 1) / (float)warmup;
	if (step >= total) return lo;
	double t = (double)(step - warmup) / (double)(total - warmup);
	return lo + 0.5f * (base - lo) * (float)(1.0 + cos(M_PI * t));
}
