/* The state of one training run, shared by the trainer's modules: model
 * set-up (train_model.c), data (train_data.c), and the loop with the files
 * it writes (train_loop.c); trainer.c runs them in that order. Internal to
 * src/trainer*.c and src/train_*.c. */
#ifndef GF_TRAIN_RUN_H
#define GF_TRAIN_RUN_H

#include <stdint.h>
#include <stdio.h>

#include "model/backend.h"
#include "model/optim.h"
#include "src/dataset.h"
#include "src/guard.h"
#include "src/earlystop.h"
#include "src/modelfile.h"
#include "src/trainer.h"

/* Fraction of the tokens chosen for masking by the MLM task. */
#define GF_TRAIN_MASK_PROB 0.15

typedef struct {
	gf_train_opts_t *o;
	const rf_backend_t *be;
	gf_modelfile_t *mf;
	rf_optim_t *opt;
	uint64_t step;               /* steps done */
	char *ckpt, *metrics;        /* paths beside the model */
	int have_ckpt;               /* a checkpoint of this run's state exists (last_saved is its step) */
	uint64_t last_saved;
	gf_dataset_t ds;
	int64_t total;
	double vloss, vacc;          /* the last validation's */
	int preempted;               /* the signal that stopped the loop, or 0 */
	struct gf_mk_plan *mk;       /* settings from the data (src/markers.h) */
	gf_es_t es;                  /* early stopping, best parameters */
	int resumed;                 /* from a checkpoint */
	double best_vloss;           /* --keep-best: the lowest validation loss so far */
	char *best_path;             /* --keep-best: FILE.best.gfm */
} gf_training_t;

/* The model and its optimizer: resumed from the checkpoint from (r->be
 * chosen, r->ckpt set), or new (from NULL) with the defaults, --init and the
 * options; the command line stamped into its metadata. 0, -1 (error) or -2
 * (usage error) after a message. */
int gf_training_model(gf_training_t *r, const char *from, const rf_optim_config_t *oc);

/* After training: the exact k-mer index (src/kmerindex.h) of every
 * classified record in the model's metadata, per --kmer-index (auto: on
 * unless the records are short, src/markers.h). 0 or -1 after a message. */
int gf_training_index(gf_training_t *r);

/* Reads the inputs and --val files into r->ds. 0 or -1 after a message. */
int gf_training_data(gf_training_t *r);

/* The metrics TSV: new with its header, or (resuming) cut back to the rows
 * up to the checkpoint's step. NULL after a message. */
FILE *gf_training_open_metrics(const gf_training_t *r);

/* Writes the model (with_state: the training checkpoint) to path on rank 0.
 * 0 or -1 after a message. */
int gf_training_save(gf_training_t *r, const char *path, int with_state);

/* Steps from r->step up to r->total (or --stop-at, or a preemption signal),
 * with validation, metrics rows and checkpoints. 0 or -1 after a message. */
int gf_training_loop(gf_training_t *r, FILE *metrics);

/* ", val loss L" (and ", val accuracy A" for a classifier), or "" when
 * there was no validation. */
const char *gf_training_val_text(double loss, double acc, char *buf, size_t len);

#endif
