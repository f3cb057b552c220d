/* Class taxa in the model's metadata; see taxa.h. */
#include "src/common.h"
#include "src/taxa.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/util.h"

/* The rank a class gets when neither its labels nor a taxonomy say:
 * genoformer's classes are usually species. */
#define DEFAULT_RANK "species"
#define MAX_DEPTH 256

/* Appends s to the growing string *buf (length *len); -1 when out of memory. */
static int append(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);
	if (*len + n + 1 > *cap) {
		size_t c = 2 * (*len + n + 1) + 64;
		char *q = realloc(*buf, c);
		if (!q) return -1;
		*buf = q;
		*cap = c;
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
	return 0;
}

/* Whether two rank spellings mean the same rank ("genus" and "G"). */
static int same_rank(const char *a, const char *b)
{
	char x = gf_tax_rank_letter(a), y = gf_tax_rank_letter(b);
	return x && y ? x == y : !strcmp(a, b);
}

int gf_taxa_store(rf_ckpt_meta_t *meta, const gf_labels_t *lab, const gf_tax_t *tax, char *err, size_t errlen)
{
	char *buf = NULL, num[32];
	size_t len = 0, cap = 0;
	int any = 0, rc = 0;
	uint32_t path[MAX_DEPTH];
	const int C = gf_labels_n_classes(lab);
	rc = append(&buf, &len, &cap, "") ? 1 : 0;
	for (int c = 0; rc == 0 && c < C; c++) {
		uint32_t id;
		const char *rank, *name = gf_labels_class_name(lab, c);
		if (c && (rc = append(&buf, &len, &cap, "\n"))) rc = 1;
		if (rc || !gf_labels_class_taxon(lab, c, &id, &rank)) continue;
		any = 1;
		int n = 0;
		if (tax) {
			if ((n = gf_tax_lineage(tax, id, path, MAX_DEPTH)) < 0) {
				rc = rf_fail(err, errlen, "class '%s': taxid %u is not in the --taxonomy", name, id);
				break;
			}
			if (*rank && !same_rank(rank, gf_tax_rank(tax, id))) {
				rc = rf_fail(err, errlen, "class '%s': rank '%s' given, the --taxonomy says taxid %u is '%s'", name,
				             rank, id, gf_tax_rank(tax, id));
				break;
			}
			rank = gf_tax_rank(tax, id);
		}
		snprintf(num, sizeof num, "%u\t", id);
		rc = append(&buf, &len, &cap, num) || append(&buf, &len, &cap, *rank ? rank : DEFAULT_RANK);
		for (int i = 0; rc == 0 && i < n; i++) {
			snprintf(num, sizeof num, "\t%u\t", path[i]);
			rc = append(&buf, &len, &cap, num) || append(&buf, &len, &cap, gf_tax_rank(tax, path[i])) ||
			     append(&buf, &len, &cap, "\t") || append(&buf, &len, &cap, gf_tax_name(tax, path[i]));
		}
	}
	if (rc > 0) rf_fail(err, errlen, "out of memory"); /* an append failed (rf_fail's are -1) */
	if (rc == 0 && any) rc = rf_ckpt_meta_set(meta, GF_TAXA_META, buf, err, errlen);
	free(buf);
	return rc ? -1 : 0;
}

void gf_taxa_free(gf_taxa_t *t)
{
	for (int c = 0; t->c && c < t->n; c++) {
		gf_class_taxa_t *x = &t->c[c];
		free(x->rank);
		for (int i = 0; i < x->n_lineage; i++) {
			free(x->lineage[i].rank);
			free(x->lineage[i].name);
		}
		free(x->lineage);
	}
	free(t->c);
	memset(t, 0, sizeof *t);
}

static int add_lineage(gf_class_taxa_t *x, uint32_t id, const char *rank, const char *name)
{
	gf_taxon_t *q = realloc(x->lineage, (x->n_lineage + 1) * sizeof *q);
	if (!q) return -1;
	x->lineage = q;
	gf_taxon_t *n = &q[x->n_lineage];
	n->id = id;
	n->rank = strdup(rank);
	n->name = strdup(name);
	x->n_lineage++;
	return n->rank && n->name ? 0 : -1;
}

/* One class's line of the metadata, cut in place at tabs. */
static int parse_line(gf_class_taxa_t *x, char *line, int c, char *err, size_t errlen)
{
	char *f[3 * MAX_DEPTH + 2];
	int n = 0;
	for (char *p = line; p && n < (int)(sizeof f / sizeof *f); n++) {
		f[n] = p;
		if ((p = strchr(p, '\t'))) *p++ = 0;
	}
	if (n < 2 || (n - 2) % 3 || gf_tax_parse_id(f[0], &x->taxid))
		return rf_fail(err, errlen, "metadata '%s', class %d: expects TAXID<TAB>RANK then (TAXID RANK NAME) triples",
		               GF_TAXA_META, c);
	if (!(x->rank = strdup(f[1]))) return rf_fail(err, errlen, "out of memory");
	for (int i = 2; i < n; i += 3) {
		uint32_t id;
		if (gf_tax_parse_id(f[i], &id) || !*f[i + 2])
			return rf_fail(err, errlen, "metadata '%s', class %d: bad lineage entry '%s'", GF_TAXA_META, c, f[i]);
		if (add_lineage(x, id, f[i + 1], f[i + 2])) return rf_fail(err, errlen, "out of memory");
	}
	if (x->n_lineage && x->lineage[x->n_lineage - 1].id != x->taxid)
		return rf_fail(err, errlen, "metadata '%s', class %d: the lineage does not end at taxid %u", GF_TAXA_META, c,
		               x->taxid);
	return 0;
}

/* Replaces x's lineage with tax's. */
static int lineage_from(gf_class_taxa_t *x, const gf_tax_t *tax, const char *name, char *err, size_t errlen)
{
	uint32_t path[MAX_DEPTH];
	int n = gf_tax_lineage(tax, x->taxid, path, MAX_DEPTH);
	if (n < 0) return rf_fail(err, errlen, "class '%s': taxid %u is not in the --taxonomy", name, x->taxid);
	for (int i = 0; i < x->n_lineage; i++) {
		free(x->lineage[i].rank);
		free(x->lineage[i].name);
	}
	x->n_lineage = 0;
	for (int i = 0; i < n; i++)
		if (add_lineage(x, path[i], gf_tax_rank(tax, path[i]), gf_tax_name(tax, path[i])))
			return rf_fail(err, errlen, "out of memory");
	free(x->rank);
	return (x->rank = strdup(gf_tax_rank(tax, x->taxid))) ? 0 : rf_fail(err, errlen, "out of memory");
}

int gf_taxa_load(gf_taxa_t *t, const rf_ckpt_meta_t *meta, int n_classes, char *const *names, const gf_tax_t *tax,
                 char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	t->n = n_classes;
	if (!(t->c = calloc(n_classes > 0 ? n_classes : 1, sizeof *t->c))) return rf_fail(err, errlen, "out of memory");
	const char *v = rf_ckpt_meta_get(meta, GF_TAXA_META);
	char *copy = v ? strdup(v) : NULL;
	int rc = v && !copy ? rf_fail(err, errlen, "out of memory") : 0, c = 0;
	for (char *line = copy; rc == 0 && line; c++) {
		char *nl = strchr(line, '\n');
		if (nl) *nl = 0;
		if (c >= n_classes) rc = rf_fail(err, errlen, "metadata '%s' has more lines than the %d classes", GF_TAXA_META,
		                                 n_classes);
		else if (*line && (rc = parse_line(&t->c[c], line, c, err, errlen)) == 0) t->any = 1;
		line = nl ? nl + 1 : NULL;
	}
	free(copy);
	if (rc == 0 && v && c != n_classes)
		rc = rf_fail(err, errlen, "metadata '%s' has %d lines for %d classes", GF_TAXA_META, c, n_classes);
	for (c = 0; rc == 0 && c < n_classes; c++) {
		gf_class_taxa_t *x = &t->c[c];
		if (!x->rank && !(x->rank = strdup(""))) rc = rf_fail(err, errlen, "out of memory");
		else if (tax && x->taxid) rc = lineage_from(x, tax, names[c], err, errlen);
	}
	if (rc) gf_taxa_free(t);
	return rc ? -1 : 0;
}

uint32_t gf_taxa_id(const gf_taxa_t *t, int c)
{
	return t->c[c].taxid ? t->c[c].taxid : GF_TAXA_PLACEHOLDER + (uint32_t)c;
}
