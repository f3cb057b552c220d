/* Kraken 2's output formats, so that the tools around Kraken 2 (MultiQC,
 * KrakenTools, Pavian, Krona's text import) read genoformer's calls:
 *  - the report (kraken2 --report): one line per taxon with reads in its
 *    clade, "%6.2f\t%lu\t%lu\t%s\t%u\t%s%s": percent of all records in the
 *    clade, records in the clade, records called exactly this taxon, rank
 *    code (U, R, D, K, P, C, O, F, G, S; other ranks the code of the nearest
 *    ranked ancestor plus the levels below it, e.g. S1 for a strain, R1 for
 *    "cellular organisms"), taxid, and the scientific name indented by two
 *    spaces per level; "unclassified" (U, taxid 0) first, then the tree from
 *    the root depth first, children by clade count (then taxid); taxa with
 *    no record are left out, as Kraken 2 does without --report-zero-counts.
 *  - the per-record output (kraken2 --output): C or U, the record's id, its
 *    taxid (0 for U), its length ("len1|len2" for a pair) and the evidence:
 *    for each window of the model, the taxid it alone would be called
 *    (0 below the threshold) and its k-mers, runs of one taxid merged, as
 *    Kraken 2's "taxid:k-mers" list (mates separated by "|:|"). */
#ifndef GF_KRAKEN_H
#define GF_KRAKEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "src/taxa.h"

/* count[c] records called class c (n_classes = t->n entries, names its
 * class names), then count[t->n] unclassified. 0, or -1 with a message
 * (out of memory). */
int gf_kraken_report(FILE *fp, const gf_taxa_t *t, char *const *names, const uint64_t *count, char *err, size_t errlen);

/* One line of the per-record output. taxid 0: unclassified. lengths: "150"
 * or "150|148". The evidence: n windows' taxids and k-mers, with "|:|"
 * before window split (the second mate's first; split > n: a single
 * record). */
void gf_kraken_line(FILE *fp, const char *name, uint32_t taxid, const char *lengths, const uint32_t *win_taxid,
                    const size_t *win_kmers, size_t n, size_t split);

#endif
