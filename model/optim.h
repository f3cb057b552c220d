/* AdamW over a model's parameters: moments in one allocation each (from the
 * model's arena), weight decay on matrices only (2-D tensors, embeddings
 * included; not on LayerNorm weights or biases), global-norm clipping, and
 * the warm-up + cosine learning-rate schedule.
 *
 * Gradient accumulation: call rf_model_forward_backward n times (gradients
 * add up), then rf_optim_step with grad_scale = 1/n, then zero the gradients. */
#ifndef RF_OPTIM_H
#define RF_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "model/reformer.h"

typedef struct {
	float beta1, beta2, eps;
	float weight_decay;
	float clip;               /* global gradient-norm limit; 0 = no clipping */
} rf_optim_config_t;

typedef struct rf_optim rf_optim_t;

/* beta1 0.9, beta2 0.999, eps 1e-8, weight decay 0.01, clip 1.0. */
void rf_optim_default(rf_optim_config_t *oc);

/* NULL with a one-line message (bad hyper-parameter, no memory). */
rf_optim_t *rf_optim_create(rf_model_t *m, const rf_optim_config_t *oc, char *err, size_t errlen);
void rf_optim_free(rf_optim_t *o);
/* Bytes of the moments m and v that rf_optim_create takes from the model's arena. */
size_t rf_optim_state_bytes(const rf_model_t *m);

/* One update at learning rate lr: gradients *= grad_scale, then clipped to
 * the global norm limit, then AdamW. Returns the global gradient norm after
 * grad_scale and before clipping. The gradients are left scaled and clipped. */
double rf_optim_step(rf_optim_t *o, float lr, float grad_scale);

/* Updates done so far (the bias corrections use it); settable for resuming. */
int64_t rf_optim_steps(const rf_optim_t *o);
void rf_optim_set_steps(rf_optim_t *o, int64_t steps);
/* Moments m and v to/from host, rf_model_n_params floats each (checkpoints). */
void rf_optim_get_state(const rf_optim_t *o, float *m_host, float *v_host);
void rf_optim_set_state(rf_optim_t *o, const float *m_host, const float *v_host);

/* Learning rate at step (0-based): linear warm-up base*(step+1)/warmup over
 * the first warmup steps, then cosine from base down to base*min_ratio at
 * step total; base*min_ratio after total. */
float rf_lr_schedule(float base, int64_t step, int64_t warmup, int64_t total, float min_ratio);

#endif
