/* The Reformer model: named parameters in one allocation, reversible layers
 * of (LOCAL | LSH | FULL) attention and chunked feed-forward, classifier and
 * masked-LM heads. Every op runs through the backend table; every buffer in
 * backend memory comes from the model's arena. docs/DESIGN.md says
 * what each part computes and why. */
#ifndef RF_REFORMER_H
#define RF_REFORMER_H

#include <stddef.h>
#include <stdint.h>

#include "model/arena.h"
#include "model/backend.h"
#include "model/config.h"

typedef struct rf_model rf_model_t;

typedef struct {
	char name[64];
	int ndim;
	int64_t shape[4];
	size_t offset, numel;     /* in floats, within the parameter allocation */
} rf_tensor_t;

typedef struct {
	const int32_t *tokens;      /* host [B*L] */
	const uint8_t *mask;        /* host [B*L], 1 = real token; NULL = all real */
	int B, L;
	const int32_t *labels;      /* host [B] class ids (classifier loss), or NULL */
	int n_mlm;                  /* masked-LM targets (MLM loss) */
	const int32_t *mlm_pos;     /* host [n_mlm] flat positions b*L + j (unpadded L) */
	const int32_t *mlm_targets; /* host [n_mlm] token ids */
	uint64_t seed, step;        /* RNG keys (rotations, dropout) */
	int train;                  /* 1: dropout on */
	/* Packed sequences (n_seg > 0): sequence i is the tokens [seg[i],
	 * seg[i+1]) of the flat B*L (host [n_seg+1], non-decreasing, none
	 * empty, none longer than rf_model_max_segment); tokens after
	 * seg[n_seg] are padding, mask must be NULL. Each sequence is computed
	 * exactly as if alone in a batch (positions from 0, attention within
	 * it), and labels, logits and pooled outputs are per sequence: n_seg
	 * rows instead of B. */
	int n_seg;
	const int32_t *seg;
} rf_batch_t;

/* NULL with a one-line message when the config is invalid, the backend
 * cannot run it (rf_backend_t.supports_attn) or memory runs out.
 * Parameters start initialised as rf_model_init(m, 0); gradients zero. */
rf_model_t *rf_model_create(const rf_config_t *cfg, const rf_backend_t *be, char *err, size_t errlen);
void rf_model_free(rf_model_t *m);
void rf_model_init(rf_model_t *m, uint64_t seed);

const rf_config_t *rf_model_config(const rf_model_t *m);
const rf_backend_t *rf_model_backend(const rf_model_t *m);
/* The arena the model allocates from; the optimizer puts its state there too,
 * so rf_model_peak_bytes covers it. */
rf_arena_t *rf_model_arena(rf_model_t *m);

int rf_model_n_tensors(const rf_model_t *m);
const rf_tensor_t *rf_model_tensor(const rf_model_t *m, int i);
const rf_tensor_t *rf_model_find(const rf_model_t *m, const char *name);  /* NULL if absent */
size_t rf_model_n_params(const rf_model_t *m);
float *rf_model_params(rf_model_t *m);   /* backend memory */
float *rf_model_grads(rf_model_t *m);    /* backend memory */
void rf_model_get_params(const rf_model_t *m, float *host);
void rf_model_set_params(rf_model_t *m, const float *host);
void rf_model_get_grads(const rf_model_t *m, float *host);
void rf_model_zero_grads(rf_model_t *m);

/* The loss of a batch is the sum of the classifier loss (mean over the B
 * rows, when labels are given) and the masked-LM loss (mean over the n_mlm
 * targets). forward_backward needs at least one of them; it sets *loss and
 * adds d loss / d params to the gradients. */
int rf_model_forward_backward(rf_model_t *m, const rf_batch_t *b, float *loss, char *err, size_t errlen);
/* Forward only: *loss (when loss != NULL and targets are given) and the
 * classifier logits [B, n_classes] to host (when logits != NULL). */
int rf_model_forward(rf_model_t *m, const rf_batch_t *b, float *loss, float *logits, char *err, size_t errlen);
/* Final representations LN_f(concat(Y1, Y2)) to host: pooled [B, 2D] (mean
 * over real tokens) and/or per_token [B*L, 2D] (unpadded L); either may be NULL. */
int rf_model_embed(rf_model_t *m, const rf_batch_t *b, float *pooled, float *per_token, char *err, size_t errlen);

/* The longest sequence a packed batch may hold for cfg: chunk_len when a
 * layer is LOCAL or LSH (shorter sequences are computed as FULL attention,
 * so packed and alone agree), else the axial positions; at most ff_chunk
 * (when set), so that the pooling never splits a sequence. */
int rf_model_max_segment(const rf_config_t *cfg);

/* 1 (default): reconstruct layer inputs in the backward pass. 0: store every
 * layer's inputs in the forward pass (memory grows with depth). */
void rf_model_set_reversible(rf_model_t *m, int on);
/* What rf_model_peak_bytes will be after one call on B sequences of L
 * tokens on backend be, computed without allocating: parameters, gradients,
 * activations, the attention workspace (for the CPU backend at the current
 * thread count) and the heads (classifier when the config has classes, else
 * the pooled embedding; the masked LM's n_mlm targets when training).
 * train: rf_model_forward_backward, else rf_model_forward / rf_model_embed.
 * The optimizer's state is not included (rf_optim_state_bytes). SIZE_MAX
 * when the config or the shape cannot run. */
size_t rf_model_estimate_bytes(const rf_config_t *cfg, const rf_backend_t *be, int B, int L, int n_mlm, int train);
/* rf_model_n_params of a model of cfg, without making it (cfg valid). */
size_t rf_model_count_params(const rf_config_t *cfg);
size_t rf_model_peak_bytes(const rf_model_t *m);   /* arena peak: params, grads, optimizer, activations, workspace */
size_t rf_model_current_bytes(const rf_model_t *m);

/* For tests: runs forward_backward in reversible mode while also keeping
 * every layer's inputs, and returns the largest relative L2 error
 * ||reconstructed - stored|| / ||stored|| over the layers' inputs X1 and X2
 * (-1 with a message on error). Gradients accumulate as in forward_backward. */
double rf_model_debug_reconstruction_error(rf_model_t *m, const rf_batch_t *b, char *err, size_t errlen);

/* For finite-difference tests: on = 1 makes forward passes reuse the LSH
 * buckets of the previous rf_model_forward_backward (same batch shape)
 * instead of hashing, so perturbed parameters cannot flip buckets. */
void rf_model_debug_freeze_buckets(rf_model_t *m, int on);

#endif
