/* The taxa of a model's classes: an NCBI taxid and rank per class and,
 * when a taxonomy was given, its lineage. Kept in the model's metadata under
 * "classes.taxa", one line per class in class order:
 *     TAXID<TAB>RANK[<TAB>TAXID<TAB>RANK<TAB>NAME]...
 * the lineage triples running from the root down to the class's own taxon;
 * an empty line for a class without a taxon. Models written before this key
 * existed (or trained without taxids) load with no taxon for any class.
 *
 * A class without a taxid still needs one in Kraken-style outputs: it gets
 * GF_TAXA_PLACEHOLDER + its class id (NCBI's taxids are far below), directly
 * under the root, named by its class name. */
#ifndef GF_TAXA_H
#define GF_TAXA_H

#include <stddef.h>
#include <stdint.h>

#include "genomics/labels.h"
#include "genomics/taxonomy.h"
#include "model/checkpoint.h"

#define GF_TAXA_META "classes.taxa"
#define GF_TAXA_PLACEHOLDER 2000000000u

typedef struct {
	uint32_t id;
	char *rank, *name;
} gf_taxon_t;

typedef struct {
	uint32_t taxid;      /* 0: none given */
	char *rank;          /* "" when unknown */
	int n_lineage;       /* 0 without a taxonomy; else root first, the class's own taxon last */
	gf_taxon_t *lineage;
} gf_class_taxa_t;

typedef struct {
	int n;               /* classes */
	gf_class_taxa_t *c;
	int any;             /* some class has a taxid */
} gf_taxa_t;

/* For training: each class's taxon from the labels, with the lineage from
 * tax when given (a taxid missing from tax is an error naming it; the rank
 * from tax replaces an unwritten one, a written one must agree), stored
 * under GF_TAXA_META in meta. Nothing is stored when no class has a taxid.
 * 0, or -1 with a message. */
int gf_taxa_store(rf_ckpt_meta_t *meta, const gf_labels_t *lab, const gf_tax_t *tax_or_null, char *err, size_t errlen);

/* The model's class taxa from meta (n_classes classes named names); with
 * tax, the lineages and ranks are taken from it (a class taxid it lacks is
 * an error). 0, or -1 with a message naming what is wrong. */
int gf_taxa_load(gf_taxa_t *t, const rf_ckpt_meta_t *meta, int n_classes, char *const *names,
                 const gf_tax_t *tax_or_null, char *err, size_t errlen);
void gf_taxa_free(gf_taxa_t *t);

/* The taxid class c goes under in Kraken-style outputs (its own, or the
 * placeholder). */
uint32_t gf_taxa_id(const gf_taxa_t *t, int c);

#endif
