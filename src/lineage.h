/* Hierarchical classes: class names that are lineages, ranks joined by ';'
 * ("Bacteria;Firmicutes;Bacilli;Lactobacillales;Lactobacillaceae;Lactobacillus").
 * A record's confidence at a rank is the summed probability of every class
 * below the top class's taxon at that rank (as the RDP Classifier's
 * bootstrap confidence of a rank); the call goes down to the deepest rank
 * whose confidence reaches the cut-off and stops there (as Kraken 2's LCA
 * and RDP's 0.8 cut-off), the ranks below it unclassified. */
#ifndef GF_LINEAGE_H
#define GF_LINEAGE_H

#include <stdio.h>

#define GF_LINEAGE_SEP ';'
#define GF_LINEAGE_CUTOFF 0.8f   /* the RDP Classifier's default */

typedef struct gf_lineage gf_lineage_t;

/* The lineages of n class names (borrowed: they must outlive it), or NULL
 * when no name holds GF_LINEAGE_SEP (flat classes) or memory runs out. */
gf_lineage_t *gf_lineage_new(char *const *classes, int n);
void gf_lineage_free(gf_lineage_t *lin);

/* The call for class probabilities probs: into call (len bytes) the top
 * class's lineage down to the deepest rank of confidence >= cutoff
 * ("unclassified" when not even the first rank reaches it; *depth ranks
 * kept), into conf every rank's confidence of the top class's lineage.
 * Returns the top class's number of ranks (entries of conf). */
int gf_lineage_call(const gf_lineage_t *lin, const float *probs, float cutoff, char *call, size_t len,
                    float *conf, int *depth);
/* Ranks of the deepest lineage (room needed in conf). */
int gf_lineage_max_depth(const gf_lineage_t *lin);

/* "\tCALL\tCONF;CONF;..." for classify's table (probs NULL: no window:
 * "\tunclassified\tNA"). */
void gf_lineage_print(const gf_lineage_t *lin, const float *probs, float cutoff, FILE *fp);

#endif
