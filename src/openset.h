/* Open-set answers: when a classifier's call is trusted, and why a record
 * is 'unclassified' otherwise.
 *
 * A record is unclassified, with the first reason that applies:
 *   too_short, mostly_n, low_complexity   genomics/lowinfo (the record's bases)
 *   background       the top class is the model's background class: sequence
 *                    from outside the labelled classes it was trained on
 *                    (train --background)
 *   below_threshold  the top class probability is below the threshold
 *   novel            the model's k-mer index (src/kmerindex.h) found none of
 *                    its classes in the record, and the top class probability
 *                    is below the threshold for such records: chosen on the
 *                    validation windows that an index of the training part
 *                    alone finds nothing in, since the Reformer is less often
 *                    right on sequence unlike its training genomes
 * The threshold and the shortest length are stored in the model file as
 * metadata (below), chosen at the end of training on the validation
 * windows (gf_openset_calibrate); classify and eval apply them unless
 * --min-prob overrides the threshold. A model without these keys (written
 * before they existed) gets the defaults of gf_openset_load: threshold 0,
 * no background class, records shorter than k too short. */
#ifndef GF_OPENSET_H
#define GF_OPENSET_H

#include <stddef.h>
#include <stdint.h>

#include "genomics/lowinfo.h"
#include "src/dataset.h"
#include "src/infer.h"
#include "src/modelfile.h"

/* Metadata keys of the model file. */
#define GF_OPENSET_KEY_MIN_PROB "openset.min_prob"
#define GF_OPENSET_KEY_TARGET "openset.target_precision"
#define GF_OPENSET_KEY_BACKGROUND "openset.background"
#define GF_OPENSET_KEY_MIN_LEN "openset.min_length"
#define GF_OPENSET_KEY_CALIB "openset.calibration"
#define GF_OPENSET_KEY_BY_LENGTH "openset.min_prob_by_length"
#define GF_OPENSET_KEY_NOVEL "openset.min_prob_novel_by_length"

/* Reasons after lowinfo's (GF_LOWINFO_OK = 0 is "classified"). */
enum { GF_OPENSET_BACKGROUND = GF_LOWINFO_N, GF_OPENSET_BELOW_THRESHOLD, GF_OPENSET_NOVEL, GF_OPENSET_N_REASONS };

/* Shortest record a model trained with crops is asked about: training
 * windows are cut down to this many bases (train --crop-min). */
#define GF_OPENSET_MIN_LEN 64
/* Read and contig lengths at which the threshold is chosen: what users
 * classify (reads 100-300 bp, contigs 0.5 kbp and up) plus whole windows. */
#define GF_OPENSET_CALIB_LENGTHS { 100, 150, 300, 500, 1000 }

#define GF_OPENSET_MAX_BINS 8

typedef struct {
	float min_prob;         /* the threshold on the top class probability */
	/* thresholds by record length: a record of n bases gets prob_at[i] of the
	 * last i with len_at[i] <= n (i = 0 when n < len_at[0]); n_len 0: min_prob */
	int n_len;
	size_t len_at[GF_OPENSET_MAX_BINS];
	float prob_at[GF_OPENSET_MAX_BINS];
	/* thresholds for novel records (the model's k-mer index found none of
	 * its classes in them), by the same lengths; 1: never called. has_novel
	 * 0 (a model calibrated without an index): prob_at applies */
	int has_novel;
	float novel_at[GF_OPENSET_MAX_BINS];
	double target;          /* the precision it was chosen for; 0: none stored */
	int background;         /* class id of the background class, or -1 */
	gf_lowinfo_opts_t low;  /* low-information rules (min_len from the model) */
} gf_openset_t;

/* The model's open-set settings, or the defaults above for keys it lacks.
 * -1 with a message when a key's value is malformed. */
int gf_openset_load(gf_openset_t *os, const gf_modelfile_t *mf, char *err, size_t errlen);

/* Writes os into the model's metadata (background by class name). 0 or -1. */
int gf_openset_store(const gf_openset_t *os, gf_modelfile_t *mf, char *err, size_t errlen);

/* "-" (classified), "too_short", "mostly_n", "low_complexity", "background",
 * "below_threshold". */
const char *gf_openset_reason_name(int reason);

/* The threshold for a record of len bases (see gf_openset_t); novel: the
 * model's k-mer index found none of its classes in it. */
float gf_openset_threshold(const gf_openset_t *os, size_t len, int novel);

/* The call for averaged logits (NULL: no window) of a record of len bases
 * with lowinfo reason low: probs = softmax (C values), *top its largest; returns the class
 * or -1 with *reason set. A low-information record (low != 0) or one
 * without logits gets no probabilities: *top 0, probs untouched (the caller
 * shows NA). kx_call: the class the model's k-mer index found evidence for
 * (its evidence is in logits), -1 none (a novel record), -2 no index. The
 * threshold: min_prob when >= 0, else the model's for len (novel's for a
 * novel record, see gf_openset_threshold) except when the top class is the
 * index's: the index's rule made that call, the Reformer's calibration has
 * no say in it. */
int gf_openset_call(const gf_openset_t *os, float min_prob, size_t len, int low, int kx_call, const float *logits,
                    int C, float *probs, float *top, int *reason);

/* The smallest threshold t at which the calls with top >= t are right at
 * least target of the time: top[i] and right[i] of n calls (background
 * calls excluded by the caller; a call of an in-class window's true class is
 * right, anything else wrong). 1 when no threshold reaches the target, 0
 * when target <= 0;
 * *called: the fraction of the n calls kept at t. */
float gf_openset_choose(const float *top, const uint8_t *right, size_t n, double target, double *called);

/* Training crop of row (seed, step, row): with probability frac, the
 * window's first tokens covering a length drawn log-uniformly from
 * [min_bases, the window's bases] are kept and the rest become [PAD]. */
void gf_openset_crop(int32_t *tok, uint8_t *mask, int L, int k, int stride, double frac, int min_bases,
                     uint64_t seed, uint64_t step, uint64_t row);

/* Chooses the thresholds for target precision on the dataset's validation
 * windows, each also cut to GF_OPENSET_CALIB_LENGTHS: one per length (the
 * windows of that length) and one over all; when mf has a k-mer index, also
 * one per length over the novel windows (those in which an index of the
 * records' training parts finds no class, src/kmerindex.h); runs them through the model in
 * batches of batch, and stores the result (and a line describing
 * it, GF_OPENSET_KEY_CALIB) in mf's metadata; background: the name of the
 * background class, or NULL; min_len: the model's shortest length. 0, or -1 with a message. */
int gf_openset_calibrate(gf_modelfile_t *mf, const gf_dataset_t *ds, int batch, double target, const char *background,
                         size_t min_len, char *err, size_t errlen);

/* Validation windows of a length bin with fewer novel ones (in-class or
 * background) than this get the novel threshold 1 (with a target): too
 * little sequence unlike the training part to measure the Reformer's
 * precision on. */
#define GF_OPENSET_MIN_NOVEL 30

/* The name of the background class of train --background. */
#define GF_OPENSET_BACKGROUND_CLASS "background"

#endif
