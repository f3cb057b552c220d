/* Training settings from the data, for many classes with few examples each
 * (marker genes, 16S) as much as for a few long genomes. Before the model
 * exists `train` scans its inputs (record lengths, classes, records per
 * class) and fills every architecture and schedule option the user did not
 * give; it picks the validation split (whole records, stratified by class,
 * when records are short or many; the last --val-frac of every record for
 * long genomes); after training it fits the k-mer composition head
 * (src/kmerhead.h) on every record and weighs the Reformer in it by
 * validation. What it chose is logged and kept in the model's metadata:
 *   "auto.data"      records, median length, classes, records per class
 *   "auto.settings"  the options it set ("none" when the user gave them all)
 *   "auto.val_split" records | tail, and why
 * Options given on the command line always win. */
#ifndef GF_MARKERS_H
#define GF_MARKERS_H

#include <stddef.h>

#include "src/train_run.h"

/* Records at most this long (median) are "short": k-mer head, record split,
 * windows sized to the records. */
#define GF_MK_SHORT_LEN 20000
/* Records held out per class: round(val_frac * n), at least 1, and only in
 * classes of at least this many records. */
#define GF_MK_MIN_SPLIT 3

typedef struct gf_mk_plan {
	size_t n_records;
	double median_len, p90_len;
	int n_classes;            /* classes with records (0 when unlabelled) */
	double per_class;         /* records per class, mean */
	int short_records;
	int record_split;         /* validation by whole records */
	int kmer_head;            /* fit the k-mer head after training */
	char data[256], settings[512], split[256];
} gf_mk_plan_t;

/* Scans o's inputs and fills o's options not given (the architecture not
 * when resuming or starting from --init: the model's is then fixed; the
 * patience when not patience_given). NULL after a message (unreadable
 * input, no memory). */
gf_mk_plan_t *gf_mk_plan(gf_train_opts_t *o, int patience_given);
void gf_mk_free(gf_mk_plan_t *p);

/* Logs the plan and stores it in the model's metadata. 0 or -1 (message). */
int gf_mk_stamp(const gf_mk_plan_t *p, gf_modelfile_t *mf);

/* Holds whole records out for validation: per class round(frac * n) of
 * them (at least one, classes of GF_MK_MIN_SPLIT records or more), picked
 * by a hash of (seed, the bases), so that copies of a record (either
 * strand) fall on one side; the others (all of smaller classes) train
 * whole. Call before
 * gf_dataset_finish, on records added as GF_DS_SPLIT. Returns how many. */
size_t gf_mk_split_records(gf_dataset_t *ds, double frac, uint64_t seed);

/* After training: fits the k-mer head on the training records, picks the
 * Reformer's weight in it by validation accuracy (records held out), refits
 * it on every record and stores it in the model's metadata. 0 or -1. */
int gf_mk_finish(gf_training_t *r);

#endif
