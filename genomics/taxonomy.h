/* NCBI taxonomy as Kraken 2 databases carry it: DIR/nodes.dmp (tax_id,
 * parent tax_id, rank, ...) and DIR/names.dmp (tax_id, name, unique name,
 * name class), fields separated by "\t|\t", lines ending in "\t|". Only the
 * "scientific name" of each taxon is kept. The root is the taxon that is its
 * own parent (taxid 1 in NCBI's dump). Errors are one line naming the file
 * and line. */
#ifndef GF_TAXONOMY_H
#define GF_TAXONOMY_H

#include <stddef.h>
#include <stdint.h>

typedef struct gf_tax gf_tax_t;

/* Loads DIR/nodes.dmp and DIR/names.dmp. Checks that every parent is a
 * taxon, that there is exactly one root, that every taxon reaches it and has
 * a scientific name. NULL with a message in err. */
gf_tax_t *gf_tax_load(const char *dir, char *err, size_t errlen);
void gf_tax_free(gf_tax_t *t);

size_t gf_tax_count(const gf_tax_t *t);
/* 1 when taxid is in the taxonomy. */
int gf_tax_has(const gf_tax_t *t, uint32_t taxid);
/* Parent, rank ("species", "no rank", ...) and scientific name of a taxon
 * that gf_tax_has; the root is its own parent. */
uint32_t gf_tax_parent(const gf_tax_t *t, uint32_t taxid);
const char *gf_tax_rank(const gf_tax_t *t, uint32_t taxid);
const char *gf_tax_name(const gf_tax_t *t, uint32_t taxid);

/* The taxa from the root down to taxid, root first, into path (room for
 * max). Their number, or -1 when taxid is unknown or deeper than max. */
int gf_tax_lineage(const gf_tax_t *t, uint32_t taxid, uint32_t *path, int max);

/* Kraken 2's letter for an NCBI rank: superkingdom/domain D, kingdom K,
 * phylum P, class C, order O, family F, genus G, species S; 0 for every
 * other rank ("no rank", "strain", "subspecies", ...). A one-letter rank
 * that is already a code (D K P C O F G S) maps to itself. */
char gf_tax_rank_letter(const char *rank);

/* A taxid written as a decimal number in 1..4294967294 (the whole string):
 * 0 and *taxid set, or -1. */
int gf_tax_parse_id(const char *s, uint32_t *taxid);

#endif
