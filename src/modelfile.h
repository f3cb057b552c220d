/* The model file a command reads or writes: a .gfm checkpoint (model/
 * checkpoint.h) plus what genomics needs to feed the model (tokenizer k and
 * stride, window length, class names), kept as metadata:
 *   "tokenizer.k", "tokenizer.stride", "window", "classes" (names joined by
 *   '\n'), "task" (classify | mlm), "version", "train.steps", and whatever
 *   the writer adds ("cmdline", "created", ...). */
#ifndef GF_MODELFILE_H
#define GF_MODELFILE_H

#include <stddef.h>
#include <stdint.h>

#include "model/backend.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "model/optim.h"
#include "model/reformer.h"

typedef struct {
	rf_config_t cfg; int k, stride, window;   /* tokenizer and window L */
	int n_classes; char **classes;            /* sorted names, ids = index */
	rf_model_t *model;                        /* on the chosen backend */
	rf_ckpt_meta_t meta;                      /* everything else (command line, version, steps) */
} gf_modelfile_t;

/* Weights beyond this magnitude are a diverged run's: no model or
 * checkpoint is written with one (a checkpoint kept after a divergence is
 * then one that can be resumed). Trained weights stay below 100. */
#define GF_WEIGHT_BOUND 1e6f

/* Loads PATH onto backend be: checks every tensor's shape against the
 * config (message naming the tensor), refuses incompatible files and
 * non-finite weights. NULL with one line "PATH: reason" in err. */
gf_modelfile_t *gf_modelfile_load(const char *path, const rf_backend_t *be, char *err, size_t errlen);

/* Loads a training checkpoint: the model as gf_modelfile_load, and a new
 * optimizer with config oc holding the file's moments and update count;
 * *step and *seed from the file. NULL with a message (also when the file
 * has no training state). */
gf_modelfile_t *gf_modelfile_load_train(const char *path, const rf_backend_t *be, const rf_optim_config_t *oc,
                                        rf_optim_t **opt, uint64_t *step, uint64_t *seed, char *err, size_t errlen);

/* Writes mf (atomically) with the tokenizer, window, classes, task, version
 * and "train.steps" = step set in its metadata; with the optimizer's state
 * when opt_or_null is given (a training checkpoint). 0, or -1 with a
 * message; a weight that is not finite or beyond GF_WEIGHT_BOUND is refused
 * ("not written: tensor 'X' holds ...") and the previous file stays. */
int gf_modelfile_save(const char *path, const gf_modelfile_t *mf, const rf_optim_t *opt_or_null,
                      uint64_t step, uint64_t seed, char *err, size_t errlen);

void gf_modelfile_free(gf_modelfile_t *mf);

/* The command line (argv[0..argc), after "genoformer") and the UTC date in
 * mf's metadata under cmd_key and at_key ("cmdline" and "created" for a new
 * model, "resumed.cmdline" and "resumed.at" when resuming). */
void gf_modelfile_stamp(gf_modelfile_t *mf, int argc, char **argv, const char *cmd_key, const char *at_key);

/* A model file's struct around a new model: copies cfg, k, stride, window
 * and the n class names. NULL with a message (invalid config, no memory). */
gf_modelfile_t *gf_modelfile_new(const rf_config_t *cfg, int k, int stride, int window, int n_classes,
                                 const char *const *classes, const rf_backend_t *be, char *err, size_t errlen);

#endif
