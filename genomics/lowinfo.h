/* Low-information records: sequences a classifier must not name a class
 * for, whatever its output says, because they carry too little evidence.
 *
 *   too_short       fewer than min_len bases
 *   mostly_n        fewer than min_acgt of the bases are A, C, G or T (N,
 *                   IUPAC codes and gaps are no evidence)
 *   low_complexity  the Shannon entropy of the record's 3-mers (over ACGT
 *                   triplets) is below min_entropy bits: homopolymers (0),
 *                   dinucleotide repeats (1), short tandem repeats; judged
 *                   from GF_LOWINFO_MIN_JUDGED bases on (a shorter record
 *                   has too few 3-mers to reach the limit whatever it is)
 *
 * min_entropy was chosen by measurement (docs/bench-species.md): over the
 * 964,059 windows of 150 bp (every 50 bp) of the 17 ragout-examples genomes
 * the lowest 3-mer entropy is 2.75 bits (median 5.48), while a tandem repeat
 * of period p has log2(p) bits: 2.5 rejects every repeat of period 1..5 and
 * no real 150 bp read of those genomes. */
#ifndef GF_LOWINFO_H
#define GF_LOWINFO_H

#include <stddef.h>

enum { GF_LOWINFO_OK = 0, GF_LOWINFO_TOO_SHORT, GF_LOWINFO_MOSTLY_N, GF_LOWINFO_LOW_COMPLEXITY, GF_LOWINFO_N };

typedef struct {
	size_t min_len;      /* bases */
	double min_acgt;     /* fraction of the bases */
	double min_entropy;  /* bits of 3-mer entropy, 0..6 */
} gf_lowinfo_opts_t;

#define GF_LOWINFO_MIN_ACGT 0.5
#define GF_LOWINFO_MIN_ENTROPY 2.5
#define GF_LOWINFO_MIN_JUDGED 32

/* min_len = 1 (so only empty records are too short), and the defaults above. */
void gf_lowinfo_opts_init(gf_lowinfo_opts_t *o);

/* Entropy in bits of the distribution of the 3-mers of seq[0..n) made of
 * A, C, G, T only (case-insensitive, U as T); 0 when there is none. */
double gf_lowinfo_entropy3(const char *seq, size_t n);

/* The first rule of the list above that seq[0..n) breaks, or GF_LOWINFO_OK. */
int gf_lowinfo_check(const char *seq, size_t n, const gf_lowinfo_opts_t *o);

/* "too_short", "mostly_n", "low_complexity"; "-" for GF_LOWINFO_OK. */
const char *gf_lowinfo_name(int reason);

#endif
