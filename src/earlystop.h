/* Early stopping on the validation loss with the best parameters kept:
 * after each validation the parameters are copied (host memory) when the
 * loss is the lowest so far; `patience` validations in a row without a
 * lower loss end the run, and the model written is the best one. With few
 * examples per class the validation loss turns up while the training loss
 * still falls; the last step's model is then not the one to keep. */
#ifndef GF_EARLYSTOP_H
#define GF_EARLYSTOP_H

#include <stddef.h>
#include <stdint.h>

#include "model/reformer.h"

typedef struct {
	int patience;       /* validations without a lower loss before stopping; 0: off */
	double best;        /* the lowest validation loss so far (INFINITY before any) */
	uint64_t best_step;
	int since;          /* validations since the best */
	float *params;      /* host copy of the best parameters */
} gf_es_t;

void gf_es_init(gf_es_t *es, int patience);
void gf_es_free(gf_es_t *es);

/* After a validation of loss vloss at step (NaN: this rank did not
 * validate): keeps the parameters when the loss is the lowest so far.
 * 1: stop (patience validations without a lower loss), 0: go on, -1: out
 * of memory (message printed). */
int gf_es_update(gf_es_t *es, rf_model_t *m, uint64_t step, double vloss);

/* Exchanges m's parameters with the kept best ones when those are not
 * the current step's: the best go into the model (to be written), the
 * current ones are kept (a second call puts them back, for the training
 * checkpoint). Returns the best step when it swapped, else 0 (nothing
 * kept, the best is the current step, or out of memory). */
uint64_t gf_es_swap(gf_es_t *es, rf_model_t *m, uint64_t step);

#endif
