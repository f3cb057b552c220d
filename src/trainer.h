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

#include <stdint.h>
#include <stdio.h>

#include "genomics/labels.h"
#include "genomics/seqio.h"
#include "src/optgroups.h"

enum { GF_TASK_CLASSIFY = 0, GF_TASK_MLM = 1 };

/* train's defaults for the open set (docs/bench-species.md: the ablations) */
#define GF_TRAIN_CROP_FRAC 0.5
#define GF_TRAIN_TARGET_PRECISION 0.99

typedef struct {
	uint64_t given;                   /* of gf_group_train's rows */
	int task;
	gf_output_opts_t out;             /* -o MODEL.gfm */
	gf_arch_opts_t arch;              /* defaults for a new model; given bits say what overrides --init / --resume */
	gf_optim_opts_t optim;
	gf_compute_opts_t compute;
	gf_input_opts_t in;
	/* validation and the run (gf_group_train) */
	double val_frac;
	int64_t val_every, log_every;
	int val_windows;
	int patience;                     /* early stopping (src/earlystop.h); 0: off */
	int rc_aug;
	const char **val_inputs;
	int n_val_inputs;
	const char *resume;
	int64_t save_every, stop_at;
	int dry_run;                      /* check options, memory, inputs and labels; train nothing */
	int keep_best, override_hparams;  /* --keep-best, --override-hparams (src/guard.h) */
	/* train's own: labels, --balance, --init */
	int balance;
	/* open set (classify only; src/openset.h) */
	int background;                   /* the class GF_OPENSET_BACKGROUND_CLASS is out-of-class */
	double crop_frac;                 /* training windows cut to a random shorter length */
	int crop_min;                     /* bases, the shortest crop */
	double target_precision;          /* the thresholds stored in the model are chosen for it */
	const char *kmer_index;           /* "on", "off" or "auto" (NULL: auto): the k-mer index at the end */
	const char *init;
	int init_partial;                 /* --init of another architecture: copy what matches */
	gf_labels_t *labels, *val_labels;
	const char *taxonomy;             /* NCBI nodes.dmp/names.dmp folder: class lineages into the model */
	const char **inputs;
	int n_inputs;
	int argc;                         /* the command line, kept in the model file */
	char **argv;
} gf_train_opts_t;

/* Validation and run options of both commands (--val-frac, --val, ...,
 * --resume, --dry-run); their struct is gf_train_opts_t. */
extern const gf_optgroup_t gf_group_train;

/* Defaults; inputs arrays sized for argc entries. -1 when out of memory. */
int gf_train_opts_init(gf_train_opts_t *o, int task, int argc, char *argv[]);
void gf_train_opts_free(gf_train_opts_t *o);

/* The groups both commands take, in use[0..GF_TRAIN_USES): output,
 * architecture, optimisation, train, compute, input. A command adds its
 * own group and gf_group_verbosity. */
enum { GF_TRAIN_USES = 6 };
void gf_train_uses(gf_train_opts_t *o, gf_optuse_t *use);

/* The end of both commands' usage: the exit status, 75 included. */
extern const char gf_train_exit_status[];

/* Checks of the finished command line shared by both commands (operands
 * from optind are the inputs): 0 or -1 (message printed). */
int gf_train_check_opts(gf_train_opts_t *o, int argc, char *argv[]);

/* Runs the whole training; returns the exit status. */
int gf_train_run(gf_train_opts_t *o);

#endif
