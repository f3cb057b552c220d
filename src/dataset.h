/* Training data held in memory as bases: labelled records, a training /
 * validation split of each record's bases, windows sampled at random (a
 * pure function of seed, step and row, so a resumed run sees exactly the
 * batches an uninterrupted one would), fixed validation windows, and the
 * masking of tokens for masked-LM pre-training.
 *
 * A window is L tokens of the record's k-mer stream starting at a random
 * base: it covers gf_dataset_span() = (L-1)*stride + k bases, fewer (and is
 * padded with [PAD]) when the record's training part is shorter. */
#ifndef GF_DATASET_H
#define GF_DATASET_H

#include <stddef.h>
#include <stdint.h>

/* Which bases of a record a dataset uses for what. */
enum { GF_DS_SPLIT = 0,   /* the first bases train, the last val_frac validate */
       GF_DS_TRAIN = 1,   /* every base trains */
       GF_DS_VAL = 2 };   /* every base validates */

typedef struct {
	char *name;
	char *seq;
	size_t len;
	size_t split;       /* bases [0, split) train, [split, len) validate */
	int cls;            /* class id, or -1 (unlabelled: pre-training) */
} gf_ds_record_t;

typedef struct {
	int k, stride, L;
	int n_classes;          /* 0 when unlabelled */
	size_t n, cap;
	gf_ds_record_t *rec;
	uint64_t train_bases, val_bases;
	/* built by gf_dataset_finish */
	int balance;
	size_t *order;          /* records with training windows, by class */
	uint64_t *cum;          /* cum[i]: training bases of order[0..i] */
	size_t n_order;
	size_t *class_beg;      /* [n_classes + 1] ranges of order per class */
	int n_live;             /* classes with training data */
	int *live;              /* their ids */
	size_t n_val;
	size_t *val_rec, *val_idx;   /* validation window i: record, window number in its part */
} gf_dataset_t;

/* An empty dataset: k-mers of k bases every stride bases, windows of L
 * tokens, n_classes classes (0: unlabelled). */
void gf_dataset_init(gf_dataset_t *ds, int k, int stride, int L, int n_classes);
void gf_dataset_free(gf_dataset_t *ds);

/* Bases of a whole window: (L-1)*stride + k. */
size_t gf_dataset_span(const gf_dataset_t *ds);

/* Adds a copy of a record of class cls (-1 when unlabelled) in the role
 * GF_DS_SPLIT (the last round(len * val_frac) bases validate), GF_DS_TRAIN or
 * GF_DS_VAL. 0, or -1 when out of memory. */
int gf_dataset_add(gf_dataset_t *ds, const char *name, const char *seq, size_t len, int cls, int role,
                   double val_frac);

/* Builds the sampling tables (records weighted by their training bases, or
 * with balance every class with training data equally likely, then its
 * records by length) and the validation windows: the validation parts
 * tiled into windows of L tokens, at most max_val of them spread evenly.
 * 0, or -1 with a message when no record has training bases, or when
 * balance is asked and a class has none. */
int gf_dataset_finish(gf_dataset_t *ds, int balance, size_t max_val, char *err, size_t errlen);

/* After gf_dataset_finish: the first class (0..n_classes-1) that has no
 * training window (its records are all shorter than k, or all held out for
 * validation), or -1 when every class has some. */
int gf_dataset_empty_class(const gf_dataset_t *ds);

/* Records that hold the same bases (letter case aside, or one the reverse
 * complement of the other) where that spoils training: in two classes
 * (GF_DS_DUP_CLASSES: the labels contradict each other), or with one's
 * training bases being the other's validation bases (GF_DS_DUP_VAL: the
 * validation measures memory). Per kind: the number of such pairs, their
 * bases, and the first pair in record order (a < b, rc when reversed).
 * 0, or -1 when out of memory. */
enum { GF_DS_DUP_CLASSES = 0, GF_DS_DUP_VAL = 1 };
typedef struct {
	size_t pairs[2], a[2], b[2];
	uint64_t bases[2];
	int rc[2];
} gf_ds_dups_t;
/* Hash of a record's bases, letter case aside, the same for the reverse
 * complement (the smaller of the two strands' hashes): equal for records
 * that gf_dataset_duplicates would call the same. */
uint64_t gf_dataset_bases_hash(const char *s, size_t n);
int gf_dataset_duplicates(const gf_dataset_t *ds, gf_ds_dups_t *d);

/* The checks a training run makes after gf_dataset_finish, with messages
 * naming records and classes (classes: the class names, NULL when
 * unlabelled): a class without training data, and records holding the
 * same bases in two classes or across the split. Duplicates covering 1% of
 * all bases or more are an error (-1, message in err); fewer (identical
 * short reads of a conserved stretch) a warning in warn (empty if none). */
int gf_dataset_check(const gf_dataset_t *ds, const char *const *classes, char *err, size_t errlen, char *warn,
                     size_t warnlen);

/* Training window for (seed, step, row): tok and mask of L entries, label
 * the record's class. With rc_aug, the reverse complement half of the time.
 * scratch holds gf_dataset_span() bytes. */
void gf_dataset_sample(const gf_dataset_t *ds, uint64_t seed, uint64_t step, uint64_t row, int rc_aug,
                       char *scratch, int32_t *tok, uint8_t *mask, int32_t *label);

/* Validation window i < ds->n_val. */
void gf_dataset_val(const gf_dataset_t *ds, size_t i, int32_t *tok, uint8_t *mask, int32_t *label);
/* The bases validation window i covers: the first, and *len of them. */
const char *gf_dataset_val_bases(const gf_dataset_t *ds, size_t i, size_t *len);

/* Masked-LM corruption of B rows of L tokens in place, as BERT: each real
 * k-mer token (mask 1, not special) is chosen with probability p; a chosen
 * one becomes [MASK] 80% of the time, a random k-mer 10%, stays 10%. Row b
 * draws from (seed, step, row0 + b). Writes the chosen flat positions b*L+j
 * and their original tokens; returns how many (at least one when any token
 * is eligible). */
int gf_mlm_mask(int32_t *tok, const uint8_t *mask, int B, int L, int k, double p, uint64_t seed, uint64_t step,
                uint64_t row0, int32_t *pos, int32_t *targets);

#endif
