/* Training guard rails kept in the model's metadata, so that they survive
 * checkpoints and resumes:
 *  - the optimisation settings of a run ("optim.lr", "optim.steps",
 *    "optim.warmup", "optim.batch", "optim.accum", "optim.weight_decay",
 *    "optim.clip"): a resumed run with other values is refused unless the
 *    user overrides them, and the override is recorded ("resumed.overrides");
 *    values are compared as written with 7 significant digits (the float
 *    the options hold); checkpoints written before these keys existed
 *    resume without the check;
 *  - early stopping on the validation loss and the best model so far
 *    ("train.best_val_loss", "train.best_step", "train.since_best"). */
#ifndef GF_GUARD_H
#define GF_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "model/checkpoint.h"

typedef struct {
	double lr, weight_decay, clip;
	int64_t steps, warmup, batch, accum;
} gf_hparams_t;

/* New run (resumed 0): stores h in meta. Resumed: compares h with the
 * checkpoint's; a difference is an error naming every changed setting with
 * both values, unless override (then recorded and h stored). 0, or -1 with
 * a message. */
int gf_guard_hparams(rf_ckpt_meta_t *meta, const gf_hparams_t *h, int resumed, int override, char *err,
                     size_t errlen);

typedef struct {
	double best;         /* lowest validation loss so far (INFINITY: none) */
	int64_t best_step;
	int64_t since;       /* validations since it */
	int64_t patience;    /* stop after this many without improvement; 0: never */
} gf_best_t;

/* From meta (a resumed run) or fresh. */
void gf_best_init(gf_best_t *b, const rf_ckpt_meta_t *meta, int64_t patience);
/* A validation at step: 1 a new best, 0 not, -1 not and patience is out. */
int gf_best_update(gf_best_t *b, double val_loss, int64_t step);
/* Into meta, for checkpoints. */
void gf_best_store(const gf_best_t *b, rf_ckpt_meta_t *meta);

#endif
