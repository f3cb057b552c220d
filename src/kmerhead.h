/* The k-mer composition head: a branch beside the Reformer that scores a
 * whole record by the k-mer words it contains (naive Bayes over word
 * presence, as the RDP Classifier: Wang et al. 2007), with a bootstrap
 * confidence, and adds the Reformer's log-probabilities as a prior of
 * weight lambda (chosen on the validation records at training time).
 *
 * Why: with a handful of examples per class (marker genes, 16S) a network
 * trained for minutes does not learn the class-specific words that a
 * closed-form word model counts in one pass; the Reformer then only
 * breaks near ties, as much as validation shows it helps.
 *
 * Model (records r, classes c, words w of k bases on the record's strand):
 *   n_c(w) records of class c holding w, N_c records of c, N records;
 *   P(w) = (sum_c n_c(w) + 0.5) / (N + 1);
 *   log P(w | c) = log(n_c(w) + P(w)) - log(N_c + 1).
 * A query's score for c is the sum over its distinct words (both strands
 * tried, the better one kept) plus lambda * log softmax(Reformer logits)_c.
 * Its confidences are the shares of `trials` bootstrap draws (each of
 * max(5, words/8) words with replacement, keyed by the record's name) that
 * each class wins; the output logits are their logs, so softmax(out)
 * gives them back and classify / eval read them as any model's.
 *
 * Stored in the model file as metadata "kmerhead" (text, see gf_kh_format);
 * a model without it classifies with the Reformer alone, as before. */
#ifndef GF_KMERHEAD_H
#define GF_KMERHEAD_H

#include <stddef.h>
#include <stdint.h>

#define GF_KH_K 8           /* word length: the RDP Classifier's */
#define GF_KH_TRIALS 100    /* bootstrap draws */
#define GF_KH_META "kmerhead"

typedef struct {
	int k, n_classes, trials;
	float lambda;           /* weight of the Reformer's log-probabilities */
	uint32_t n_rec;         /* training records */
	uint32_t *class_n;      /* [n_classes] records per class */
	uint32_t *ptr;          /* [4^k + 1] postings range of each word */
	uint32_t *post;         /* [nnz] class << 16 | min(count, 65535) */
	float *weight;          /* [nnz] log(n_c(w) + P(w)) - log P(w) */
	float *lp_word;         /* [4^k] log P(w) */
} gf_kh_t;

/* One training record for gf_kh_fit. */
typedef struct {
	const char *seq;
	size_t len;
	int cls;
} gf_kh_rec_t;

/* Counts the words of n records (cls in [0, n_classes), others skipped) into
 * a new head with lambda 0. NULL when out of memory. */
gf_kh_t *gf_kh_fit(const gf_kh_rec_t *rec, size_t n, int n_classes);
void gf_kh_free(gf_kh_t *kh);

/* out[n_classes] = log of the bootstrap confidences (floor 1e-6) of the
 * record seq[0..len), with the Reformer's logits ref (NULL: none) as prior;
 * key seeds the draws; ref may be out. Returns 0, or -1 when the record has no word (out
 * then holds equal values). */
int gf_kh_classify(const gf_kh_t *kh, const char *seq, size_t len, const float *ref, uint64_t key, float *out);

/* The head as the text stored in metadata "kmerhead"; malloc'd, NULL when
 * out of memory. Its first line is a summary (gf_kh_summary). */
char *gf_kh_format(const gf_kh_t *kh);
/* Parses gf_kh_format's text for a model of n_classes classes; NULL with a
 * message in err when it is malformed. */
gf_kh_t *gf_kh_parse(const char *text, int n_classes, char *err, size_t errlen);
/* The first line of the stored text ("k=8 trials=100 lambda=... records=... words=..."). */
void gf_kh_summary(const char *text, char *buf, size_t len);

/* FNV-1a of a record's name: the bootstrap key, so a record's confidences
 * do not depend on its place in the input. */
uint64_t gf_kh_key(const char *name);

#endif
