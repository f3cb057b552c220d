/* The training loop shared by `train` (classifier) and `pretrain` (masked
 * LM): options common to both, model set-up (new, --init from a pretrained
 * model, --resume from a checkpoint), data loading into a gf_dataset_t,
 * AdamW steps with gradient accumulation, periodic validation, the metrics
 * TSV, checkpoints, and the stop on a non-finite loss.
 *
 * Every random draw (windows, strands, masks, dropout, LSH rotations) is a
 * function of (seed, step), so N steps, a checkpoint and M more steps give
 * the same parameters as N+M steps in one run. */
#ifndef GF_TRAINER_H
#define GF_TRAINER_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "genomics/labels.h"
#include "genomics/seqio.h"

enum { GF_TASK_CLASSIFY = 0, GF_TASK_MLM = 1 };

/* train's defaults for the open set (docs/bench-species.md: the ablations) */
#define GF_TRAIN_CROP_FRAC 0.5
#define GF_TRAIN_TARGET_PRECISION 0.99

typedef struct {
	int task;
	const char *out;                  /* -o MODEL.gfm */
	/* architecture; 0 (NULL, dropout < 0) = not given: default, or from --init / --resume */
	int k, stride, window, layers, d_model, heads, d_ff, hashes, chunk, ff_chunk;
	const char *attn;
	float dropout;
	/* optimisation */
	float lr, weight_decay, clip;
	int64_t steps;                    /* 0 = from --epochs, or the default */
	double epochs;
	int batch, accum, warmup;
	uint64_t seed;
	int seed_given;
	/* validation */
	double val_frac;
	int64_t val_every, log_every;
	int val_windows;
	/* data */
	int rc_aug, balance;
	/* open set (classify only; src/openset.h) */
	int background;                   /* the class GF_OPENSET_BACKGROUND_CLASS is out-of-class */
	double crop_frac;                 /* training windows cut to a random shorter length */
	int crop_min;                     /* bases, the shortest crop */
	double target_precision;          /* the threshold stored in the model is chosen for it */
	const char **inputs, **val_inputs;
	int n_inputs, n_val_inputs;
	gf_labels_t *labels, *val_labels; /* classify only */
	gf_seqio_opts_t io;
	/* run */
	int threads;
	const char *device, *init, *resume;
	int64_t save_every, stop_at;
	int dry_run;                      /* check options, memory, inputs and labels; train nothing */
	int argc;                         /* the command line, kept in the model file */
	char **argv;
} gf_train_opts_t;

/* Defaults; inputs arrays sized for argc entries. -1 when out of memory. */
int gf_train_opts_init(gf_train_opts_t *o, int task, int argc, char *argv[]);
void gf_train_opts_free(gf_train_opts_t *o);

/* The options both commands take, for getopt_long (ends with a zero entry),
 * their short letters, and their help text. */
extern const struct option gf_train_longopts[];
#define GF_TRAIN_SHORTOPTS "o:k:s:L:b:t:qvh"
void gf_train_usage_common(FILE *fp, int task);

/* Handles one common option c (as getopt_long returned it): 0 done, 1 not a
 * common option, -1 bad value (message printed). */
int gf_train_option(gf_train_opts_t *o, int c, const char *arg);

/* Checks of the finished command line shared by both commands: 0 or -1
 * (message printed). */
int gf_train_check_opts(const gf_train_opts_t *o);

/* Runs the whole training; returns the exit status. */
int gf_train_run(gf_train_opts_t *o);

#endif
