/* Inference over sequence records for classify, embed and eval: the options
 * they share, loading the model, and running every record's windows through
 * it in batches, with per-record results averaged over windows.
 *
 * A record of m tokens is cut into gf_window_count(m, L, 0) windows of the
 * model's L tokens (no overlap). Each window runs at the smallest length of
 * the ladder chunk, 2 chunk, 4 chunk, ..., L that holds its real tokens, in
 * a batch of windows of that length, so short reads do not pay for L.
 * Results depend on a window's tokens; the batch around it changes only the
 * last bits of float rounding (BLAS and vectorised loops sum in an order
 * that depends on a row's place in the batch), and with batch 1 not even
 * those: --batch 1 outputs are bit-identical whatever --shard. */
#ifndef GF_INFER_H
#define GF_INFER_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "genomics/lowinfo.h"
#include "genomics/seqio.h"
#include "model/atomicfile.h"
#include "src/modelfile.h"

/* Long options shared by classify, embed and eval (values >= 300). */
enum {
	GF_OPT_DEVICE = 300, GF_OPT_SHARD, GF_OPT_RC_AVERAGE, GF_OPT_BATCH, GF_OPT_PER_WINDOW,
	GF_OPT_AS_STORED, GF_OPT_KEEP_SEC, GF_OPT_KEEP_SUPP, GF_OPT_KEEP_QCFAIL, GF_OPT_SKIP_UNMAPPED,
	GF_OPT_REFERENCE, GF_OPT_HTS_THREADS, GF_OPT_MIN_PROB
};
#define GF_INFER_SHORTOPTS "m:o:r:t:qvh"
#define GF_INFER_LONGOPTS \
	{ "model", required_argument, 0, 'm' }, { "output", required_argument, 0, 'o' }, \
	{ "region", required_argument, 0, 'r' }, { "threads", required_argument, 0, 't' }, \
	{ "quiet", no_argument, 0, 'q' }, { "verbose", no_argument, 0, 'v' }, { "help", no_argument, 0, 'h' }, \
	{ "device", required_argument, 0, GF_OPT_DEVICE }, { "shard", required_argument, 0, GF_OPT_SHARD }, \
	{ "rc-average", no_argument, 0, GF_OPT_RC_AVERAGE }, { "batch", required_argument, 0, GF_OPT_BATCH }, \
	{ "per-window", no_argument, 0, GF_OPT_PER_WINDOW }, { "as-stored", no_argument, 0, GF_OPT_AS_STORED }, \
	{ "keep-secondary", no_argument, 0, GF_OPT_KEEP_SEC }, { "keep-supplementary", no_argument, 0, GF_OPT_KEEP_SUPP }, \
	{ "keep-qcfail", no_argument, 0, GF_OPT_KEEP_QCFAIL }, { "skip-unmapped", no_argument, 0, GF_OPT_SKIP_UNMAPPED }, \
	{ "reference", required_argument, 0, GF_OPT_REFERENCE }, { "hts-threads", required_argument, 0, GF_OPT_HTS_THREADS }
/* classify and eval only */
#define GF_INFER_MIN_PROB_OPT { "min-prob", required_argument, 0, GF_OPT_MIN_PROB }, \
	{ "confidence", required_argument, 0, GF_OPT_MIN_PROB }

typedef struct {
	const char *model_path, *output, *device;
	int threads;              /* 0: OpenMP's default (all cores or OMP_NUM_THREADS) */
	int batch;                /* windows per forward pass */
	int rc_average, per_window;
	float min_prob;           /* below it: unclassified; < 0: the model's threshold (src/openset.h) */
	gf_lowinfo_opts_t low;    /* each record's gf_infer_rec_t.lowinfo is checked against these */
	int shard_i, shard_n;     /* records with index % shard_n == shard_i */
	gf_seqio_opts_t io;
	const char **regions;     /* argc slots, filled by -r */
	int n_regions;
} gf_infer_cli_t;

/* Defaults; regions gets room for argc entries. -1 when out of memory. */
int gf_infer_cli_init(gf_infer_cli_t *c, int argc);
void gf_infer_cli_free(gf_infer_cli_t *c);

/* Handles one getopt_long result if it is a shared option: 1 handled, 0 not
 * a shared option, -1 usage error (printed). 'h' is left to the command. */
int gf_infer_cli_option(gf_infer_cli_t *c, int opt, const char *arg);

/* The shared options' lines of the usage text; flags: which optional
 * options the command has. */
enum { GF_USAGE_PER_WINDOW = 1, GF_USAGE_MIN_PROB = 2 };
void gf_infer_cli_usage(FILE *fp, int flags);

/* Checks -m and the inputs after parsing (usage errors printed): 0 or -1. */
int gf_infer_cli_check(gf_infer_cli_t *c, int argc, int first_input);

/* Sets the threads, picks the backend and loads the model; need_classes:
 * refuse a model without a classifier head. NULL after logging the error. */
gf_modelfile_t *gf_infer_load(const gf_infer_cli_t *c, int need_classes);

typedef struct {
	const char *path;         /* the input it came from */
	const char *name;
	size_t len;
	int64_t beg;              /* first base in its source (regions), else 0 */
	uint64_t index;           /* record number over all inputs, from 0 */
	size_t n_windows, tokens; /* windows and real tokens; 0 when len < k */
	int lowinfo;              /* gf_lowinfo_check of its bases with the options' low */
	const float *out;         /* width values averaged over windows, weighted by real tokens; NULL when no window */
	const float *win_out;     /* n_windows x width, one row per window */
	const int64_t *win_beg, *win_end;  /* bases [beg, end) of each window's real tokens */
} gf_infer_rec_t;

/* Called for each record in input order; non-zero stops the run (the
 * message in err). */
typedef int (*gf_infer_fn)(void *ctx, const gf_infer_rec_t *r, char *err, size_t errlen);

typedef struct {
	uint64_t records, skipped, bases, windows, tokens;  /* skipped: other shards' records */
} gf_infer_stats_t;

/* Values per window: classifier logits (n_classes), or pooled embeddings
 * (2 d_model) when embed. */
int gf_infer_width(const gf_modelfile_t *mf, int embed);

/* Runs the inputs' records (argv[first..argc)) through mf and calls fn for
 * each of this shard's records; with rc_average a window's output is the
 * mean of its forward and reverse-complement outputs. 0, or -1 with the
 * message in err. */
int gf_infer_run(const gf_infer_cli_t *c, gf_modelfile_t *mf, int embed, char *const *inputs, int n_inputs,
                 gf_infer_fn fn, void *ctx, gf_infer_stats_t *st, char *err, size_t errlen);

/* probs = softmax(logits[0..n)); returns the index of the largest. */
int gf_softmax_argmax(const float *logits, int n, float *probs);

/* Output to a file written atomically (path), or to stdout (path NULL). */
typedef struct {
	rf_afile_t *af;
	FILE *fp;
} gf_out_t;

/* 0, or -1 with a message. */
int gf_out_open(gf_out_t *o, const char *path, char *err, size_t errlen);
/* ok: commits the file (or flushes stdout), else drops it. 0, or -1 with
 * a message when writing failed (nothing is left under the name). */
int gf_out_close(gf_out_t *o, int ok, char *err, size_t errlen);

/* "[classify] 12 records (3 in other shards), 4.2 Mbp, 380 windows, 3.1 s, 1.4 Mbp/s". */
void gf_infer_log_stats(const gf_infer_stats_t *st);

#endif
