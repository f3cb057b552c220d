/* A training guard rail kept in the model's metadata, so that it survives
 * checkpoints and resumes: the optimisation settings of a run
 * ("optim.lr", "optim.steps", "optim.warmup", "optim.batch", "optim.accum",
 * "optim.weight_decay", "optim.clip"). A resumed run with other values is
 * refused unless the user overrides them, and the override is recorded
 * ("resumed.overrides"); values are compared as written with 7 significant
 * digits (the float the options hold); checkpoints written before these
 * keys existed resume without the check. */
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

#endif
