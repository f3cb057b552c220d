/* The exact k-mer index: evidence beside the Reformer that a sequence
 * shares long k-mers with one class's training genomes only.
 *
 * Why: a held-out strain of a trained species shares most of its 31-mers
 * with the training strains, and sequence of any other origin (a phage,
 * another species) almost none; a small network trained for hours on CPUs
 * cannot memorise tens of megabases of genomes, an index of their
 * minimizers does it in seconds. The index decides where it has evidence;
 * where it has none (novel regions, short contigs, other species) the
 * Reformer and its calibrated threshold decide, as before.
 *
 * What is stored: the minimizers (canonical k-mers, k = 31, the smallest
 * hash in every window of w consecutive k-mers, as Kraken 2 and minimap2
 * sample) of every training record, each as a 32-bit fingerprint with the
 * class whose records hold it, or "shared" when records of two classes do
 * (the background class included: k-mers of conserved genes count for no
 * class).
 *
 * How a record is scored: every k-mer of it is looked up; hits_c counts
 * those found with class c (an identical record finds about one k-mer in
 * (w + 1) / 2: the references' minimizers). A class counts when it has at
 * least min_hits hits and at least min_frac of the hits a record identical
 * to its references would have (1 in 20: a long record of a novel region
 * still collects chance 32-bit collisions, about one per 1,500 lookups
 * with 2.9M fingerprints); each class that counts gets weight * hits_c
 * added to its logit, weight = ln((1 - eps)(C - 1) / eps), the
 * log-likelihood ratio per hit when a hit names the record's class with
 * probability 1 - eps (eps = GF_KX_EPS: shared mobile elements,
 * contamination of the references, collisions). One stray hit moves
 * nothing; records with no hits keep the Reformer's logits unchanged.
 * Records shorter than the model's shortest length (openset.min_length),
 * which the Reformer is not trusted with, are called by the index alone
 * when a class counts.
 *
 * Stored in the model file as metadata "kmerindex": a summary line, then
 * the sorted fingerprints as deltas with their class code, base-64 VLQ. */
#ifndef GF_KMERINDEX_H
#define GF_KMERINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "model/checkpoint.h"
#include "src/dataset.h"

#define GF_KX_META "kmerindex"
#define GF_KX_K 31          /* k-mer length: Kraken 2's minimizer length */
#define GF_KX_W 12          /* minimizer window (k-mers): one k-mer in 6.5 is stored */
#define GF_KX_MIN_HITS 2    /* hits a class needs before they count */
#define GF_KX_MIN_FRAC 0.05 /* share of an identical record's hits a class needs before its hits count */
#define GF_KX_EPS 0.01      /* chance that a hit names another class than the record's */

typedef struct {
	int k, w, n_classes, min_hits;
	float min_frac;         /* hits below min_frac * kmers * 2 / (w + 1) do not count */
	float weight;           /* logit added per hit */
	size_t n;               /* fingerprints */
	uint32_t *fp;           /* [n] sorted, distinct */
	uint16_t *code;         /* [n] 0: shared by classes, c + 1: class c only */
	uint32_t *bucket;       /* [2^20 + 1] first entry of each value of the top 20 bits */
} gf_kx_t;

/* One training record for gf_kx_build. */
typedef struct {
	const char *seq;
	size_t len;
	int cls;                /* < 0: skipped */
} gf_kx_rec_t;

/* What a record's lookups found. */
typedef struct {
	size_t kmers;           /* looked up */
	size_t shared;          /* found, shared by classes */
	uint32_t *hits;         /* [n_classes] found with each class */
} gf_kx_count_t;

/* The index of n records of n_classes classes (at most 65535), k and w as
 * above. The background class (-1: none) only marks what it shares with
 * the others: a background hit alone is no evidence of a class, and the
 * Reformer already knows the background. NULL when out of memory. */
gf_kx_t *gf_kx_build(const gf_kx_rec_t *rec, size_t n, int n_classes, int background);
void gf_kx_free(gf_kx_t *kx);

/* Calls fn for every minimizer hash of seq[0..len) (k-mers of A, C, G, T
 * only; IUPAC codes and N break them), once per selected window minimum;
 * the same hashes on either strand. Returns how many. */
size_t gf_kx_minimizers(const char *seq, size_t len, int k, int w, void (*fn)(void *ctx, uint64_t h), void *ctx);

/* Looks up every k-mer of seq into cnt (hits sized n_classes, zeroed
 * here): a k-mer found is a minimizer of the references, wherever the
 * record's own windows start and however short it is (a 40 bp contig holds
 * 10 k-mers but no whole window). */
void gf_kx_count(const gf_kx_t *kx, const char *seq, size_t len, gf_kx_count_t *cnt);

/* Adds the evidence of cnt to logits[n_classes] (see above; NULL: none).
 * Returns the class whose hits counted most, or -1 when none counted. */
int gf_kx_apply(const gf_kx_t *kx, const gf_kx_count_t *cnt, float *logits);

/* The index as the text stored in metadata "kmerindex"; malloc'd, NULL when
 * out of memory. */
char *gf_kx_format(const gf_kx_t *kx);
/* Parses gf_kx_format's text for a model of n_classes classes; NULL with a
 * message in err when malformed. */
gf_kx_t *gf_kx_parse(const char *text, int n_classes, char *err, size_t errlen);
/* The index (gf_kx_build) of the labelled records of ds, of their training
 * parts only when train_part. NULL when out of memory. */
gf_kx_t *gf_kx_of_dataset(const gf_dataset_t *ds, int background, int train_part);

/* kx as meta's "kmerindex". 0 with "(its summary), SIZE MB" in msg, or -1
 * with the error in msg. */
int gf_kx_store(rf_ckpt_meta_t *meta, const gf_kx_t *kx, char *msg, size_t msglen);

/* The first line of the stored text, then "per_class=" and the fingerprints of
 * each class only, comma-separated. */
void gf_kx_summary(const char *text, char *buf, size_t len);

#endif
