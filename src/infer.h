/* Inference over sequence records for classify, embed and eval: the options
 * they share, loading the model, and running every record's windows through
 * it in batches, with per-record results averaged over windows.
 *
 * A record of m tokens is cut into gf_window_count(m, L, 0) windows of the
 * model's L tokens (no overlap). Each window runs at the smallest length of
 * the ladder chunk, 2 chunk, 4 chunk, ..., L that holds its real tokens, in
 * a batch of windows of that length, so short reads do not pay for L.
 * Windows of at most one chunk of real tokens (reads, short contigs, the
 * last window of a record) are instead packed end to end into calls of
 * batch x L tokens (src/pack.h), each computed exactly as alone: the same
 * outputs, bit for bit, without the padding.
 * Results depend on a window's tokens; the batch around it changes only the
 * last bits of float rounding (BLAS and vectorised loops sum in an order
 * that depends on a row's place in the batch), and with batch 1 not even
 * those: --batch 1 outputs are bit-identical whatever --shard. */
#ifndef GF_INFER_H
#define GF_INFER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "genomics/lowinfo.h"
#include "genomics/seqio.h"
#include "src/modelfile.h"
#include "src/optgroups.h"

typedef struct {
	uint64_t given;           /* of gf_group_infer's rows */
	const char *model_path;
	const char *precision;    /* matmul precision (rf_backend_t.set_precision); NULL: the backend's default */
	int rc_average, per_window;
	int no_pack;              /* one window per model row instead of packing short ones */
	float min_prob;           /* below it: unclassified (gf_infer_min_prob) */
	gf_lowinfo_opts_t low;    /* each record's gf_infer_rec_t.lowinfo is checked against these */
	int no_kmer_head;         /* the Reformer alone, even when the model has a k-mer head */
	int no_kmer_index;        /* leave out the model's k-mer index */
	float kmer_min_frac;      /* when given: replaces the index's min_frac */
	int shard_i, shard_n;     /* records with index % shard_n == shard_i */
	int keep_reads;           /* records carry their bases (1), and their SAM/BAM/CRAM alignment (2) */
	int paired;               /* --paired: one input (interleaved, or SAM/BAM/CRAM by flags) or mate files R1 R2 ... */
	gf_compute_opts_t compute;
	gf_input_opts_t in;
	gf_output_opts_t out;
} gf_infer_cli_t;

/* The options of classify, embed and eval that are not in a shared group:
 * -m, --precision, --no-pack, --rc-average, --per-window, --min-prob (or --confidence), --no-kmer-head,
 * --no-kmer-index, --kmer-min-frac, --shard. */
extern const gf_optgroup_t gf_group_infer;
enum { GF_INF_MODEL, GF_INF_PRECISION, GF_INF_NO_PACK, GF_INF_RC_AVERAGE, GF_INF_PER_WINDOW, GF_INF_MIN_PROB,
       GF_INF_CONFIDENCE, GF_INF_NO_KMER_HEAD, GF_INF_NO_KMER_INDEX, GF_INF_KMER_MIN_FRAC, GF_INF_SHARD };

/* --min-prob (--confidence) when given, else -1: the model's thresholds
 * (src/openset.h). */
float gf_infer_min_prob(const gf_infer_cli_t *c);

/* Defaults (batch 16); the regions get room for argc entries. -1 when out
 * of memory. */
int gf_infer_cli_init(gf_infer_cli_t *c, int argc);
void gf_infer_cli_free(gf_infer_cli_t *c);

/* The groups the inference commands take, in use[0..GF_INFER_USES): infer
 * (without the rows in skip), compute, input, output (what -o writes in
 * output_help). A command adds its own group and gf_group_verbosity. */
enum { GF_INFER_USES = 4 };
void gf_infer_cli_uses(gf_infer_cli_t *c, uint64_t skip, const char *const *output_help, gf_optuse_t *use);

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
	/* The model's k-mer index (src/kmerindex.h): the class it counted most
	 * hits for, -1 none (a novel record), -2 no index or no window. out
	 * includes its evidence; lowinfo is not too_short when the index called
	 * a record shorter than the model's shortest length. */
	int kx_call;
	const int64_t *win_beg, *win_end;  /* bases [beg, end) of each window's real tokens */
	/* With --paired a record is a pair: its windows are mate 1's, then mate
	 * 2's (window beg/end within its mate), name is the pair's (the mates'
	 * names without /1 and /2), len the sum of the mates' lengths. */
	int n_mates;              /* 1, or 2 for a pair */
	const char *mate_name[2]; /* the mates' own names */
	size_t mate_len[2], mate_windows;  /* lengths, and windows of mate 1 */
	const char *seq[2], *qual[2];  /* with keep_reads: the bases as read (qual NULL for FASTA) */
	const bam1_t *aln[2];     /* with keep_reads 2: the alignments as stored (NULL for FASTA/FASTQ) */
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

/* The same-file guard before any work: claims the model, the CRAM
 * reference and the inputs, then the outputs (NULL: standard output). 0, or
 * -1 after logging "OUT: output is the same file as input IN ...". */
int gf_infer_claim(const gf_infer_cli_t *c, const char *const *inputs, int n_inputs, const char *const *outputs,
                   int n_outputs);

/* "[classify] 12 records (3 in other shards), 4.2 Mbp, 380 windows, 3.1 s, 1.4 Mbp/s". */
void gf_infer_log_stats(const gf_infer_stats_t *st);

#endif
