/* NCBI nodes.dmp/names.dmp; see taxonomy.h. */
#include "genomics/taxonomy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deeper lineages are refused: NCBI's deepest is about 50. */
#define TAX_MAX_DEPTH 256

typedef struct {
	uint32_t id, parent;
	char *rank, *name;
} node_t;

struct gf_tax {
	node_t *node;        /* sorted by id */
	size_t n, cap;
	uint32_t root;
};

static int failf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int gf_tax_parse_id(const char *s, uint32_t *taxid)
{
	if (!s || *s < '0' || *s > '9') return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v < 1 || v > 4294967294ULL) return -1;
	*taxid = (uint32_t)v;
	return 0;
}

static node_t *find(const gf_tax_t *t, uint32_t id)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->node[mid].id < id) lo = mid + 1;
		else hi = mid;
	}
	return lo < t->n && t->node[lo].id == id ? &t->node[lo] : NULL;
}

static int cmp_node(const void *a, const void *b)
{
	uint32_t x = ((const node_t *)a)->id, y = ((const node_t *)b)->id;
	return x < y ? -1 : x > y;
}

/* Splits a dmp line in place into up to max fields at "\t|\t"; the line's
 * trailing "\t|" (and "\n") is cut first. The number of fields. */
static int split_dmp(char *line, char **f, int max)
{
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
	if (n >= 2 && line[n - 2] == '\t' && line[n - 1] == '|') line[n -= 2] = 0;
	int k = 0;
	char *p = line;
	while (k < max) {
		f[k++] = p;
		char *sep = strstr(p, "\t|\t");
		if (!sep) break;
		*sep = 0;
		p = sep + 3;
	}
	return k;
}

static FILE *open_dmp(const char *dir, const char *base, char *path, size_t pathlen, char *err, size_t errlen)
{
	snprintf(path, pathlen, "%s/%s", dir, base);
	FILE *fp = fopen(path, "r");
	if (!fp) failf(err, errlen, "%s: cannot open: %s (--taxonomy expects a folder with NCBI nodes.dmp and names.dmp)",
	               path, strerror(errno));
	return fp;
}

static int read_nodes(gf_tax_t *t, const char *dir, char *err, size_t errlen)
{
	char path[4096], *line = NULL, *f[4];
	size_t cap = 0;
	long ln = 0;
	int rc = 0;
	FILE *fp = open_dmp(dir, "nodes.dmp", path, sizeof path, err, errlen);
	if (!fp) return -1;
	while (rc == 0 && getline(&line, &cap, fp) > 0) {
		ln++;
		if (split_dmp(line, f, 4) < 3) {
			rc = failf(err, errlen, "%s:%ld: expects 'tax_id\\t|\\tparent\\t|\\trank\\t|...'", path, ln);
			break;
		}
		node_t nd = { 0 };
		if (gf_tax_parse_id(f[0], &nd.id) || gf_tax_parse_id(f[1], &nd.parent)) {
			rc = failf(err, errlen, "%s:%ld: tax_id '%s' or parent '%s' is not a taxid", path, ln, f[0], f[1]);
			break;
		}
		if (t->n == t->cap) {
			size_t c = t->cap ? 2 * t->cap : 1024;
			node_t *q = realloc(t->node, c * sizeof *q);
			if (!q) {
				rc = failf(err, errlen, "%s: out of memory", path);
				break;
			}
			t->node = q;
			t->cap = c;
		}
		if (!(nd.rank = strdup(f[2]))) rc = failf(err, errlen, "%s: out of memory", path);
		else t->node[t->n++] = nd;
	}
	if (rc == 0 && ferror(fp)) rc = failf(err, errlen, "%s: read error: %s", path, strerror(errno));
	if (rc == 0 && !t->n) rc = failf(err, errlen, "%s: no taxon", path);
	free(line);
	fclose(fp);
	if (rc) return rc;
	qsort(t->node, t->n, sizeof *t->node, cmp_node);
	for (size_t i = 1; i < t->n; i++)
		if (t->node[i].id == t->node[i - 1].id)
			return failf(err, errlen, "%s: taxid %u is listed twice", path, t->node[i].id);
	for (size_t i = 0; i < t->n; i++) {
		const node_t *nd = &t->node[i];
		if (!find(t, nd->parent))
			return failf(err, errlen, "%s: taxid %u has parent %u, which is not in the file", path, nd->id, nd->parent);
		if (nd->parent == nd->id) {
			if (t->root) return failf(err, errlen, "%s: two roots (taxids %u and %u are their own parents)", path,
			                          t->root, nd->id);
			t->root = nd->id;
		}
	}
	if (!t->root) return failf(err, errlen, "%s: no root (a taxon that is its own parent, taxid 1 in NCBI's)", path);
	return 0;
}

static int read_names(gf_tax_t *t, const char *dir, char *err, size_t errlen)
{
	char path[4096], *line = NULL, *f[4];
	size_t cap = 0;
	long ln = 0;
	int rc = 0;
	FILE *fp = open_dmp(dir, "names.dmp", path, sizeof path, err, errlen);
	if (!fp) return -1;
	while (rc == 0 && getline(&line, &cap, fp) > 0) {
		ln++;
		uint32_t id;
		if (split_dmp(line, f, 4) < 4 || gf_tax_parse_id(f[0], &id)) {
			rc = failf(err, errlen, "%s:%ld: expects 'tax_id\\t|\\tname\\t|\\tunique name\\t|\\tname class\\t|'", path, ln);
			break;
		}
		if (strcmp(f[3], "scientific name")) continue;
		node_t *nd = find(t, id);
		if (!nd) rc = failf(err, errlen, "%s:%ld: taxid %u is not in nodes.dmp", path, ln, id);
		else if (nd->name) rc = failf(err, errlen, "%s:%ld: taxid %u has a second scientific name", path, ln, id);
		else if (!*f[1]) rc = failf(err, errlen, "%s:%ld: taxid %u has an empty name", path, ln, id);
		else if (!(nd->name = strdup(f[1]))) rc = failf(err, errlen, "%s: out of memory", path);
	}
	if (rc == 0 && ferror(fp)) rc = failf(err, errlen, "%s: read error: %s", path, strerror(errno));
	free(line);
	fclose(fp);
	for (size_t i = 0; rc == 0 && i < t->n; i++)
		if (!t->node[i].name) rc = failf(err, errlen, "%s: taxid %u has no scientific name", path, t->node[i].id);
	return rc;
}

gf_tax_t *gf_tax_load(const char *dir, char *err, size_t errlen)
{
	gf_tax_t *t = calloc(1, sizeof *t);
	if (!t) {
		failf(err, errlen, "%s: out of memory", dir);
		return NULL;
	}
	int rc = read_nodes(t, dir, err, errlen);
	if (rc == 0) rc = read_names(t, dir, err, errlen);
	uint32_t path[TAX_MAX_DEPTH];
	for (size_t i = 0; rc == 0 && i < t->n; i++)
		if (gf_tax_lineage(t, t->node[i].id, path, TAX_MAX_DEPTH) < 0)
			rc = failf(err, errlen, "%s/nodes.dmp: taxid %u does not reach the root in %d steps (a cycle?)", dir,
			           t->node[i].id, TAX_MAX_DEPTH);
	if (rc) {
		gf_tax_free(t);
		return NULL;
	}
	return t;
}

void gf_tax_free(gf_tax_t *t)
{
	if (!t) return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->node[i].rank);
		free(t->node[i].name);
	}
	free(t->node);
	free(t);
}

size_t gf_tax_count(const gf_tax_t *t)
{
	return t->n;
}

int gf_tax_has(const gf_tax_t *t, uint32_t taxid)
{
	return find(t, taxid) != NULL;
}

uint32_t gf_tax_parent(const gf_tax_t *t, uint32_t taxid)
{
	return find(t, taxid)->parent;
}

const char *gf_tax_rank(const gf_tax_t *t, uint32_t taxid)
{
	return find(t, taxid)->rank;
}

const char *gf_tax_name(const gf_tax_t *t, uint32_t taxid)
{
	return find(t, taxid)->name;
}

int gf_tax_lineage(const gf_tax_t *t, uint32_t taxid, uint32_t *path, int max)
{
	int n = 0;
	const node_t *nd = find(t, taxid);
	if (!nd) return -1;
	for (;;) {
		if (n == max) return -1;
		path[n++] = nd->id;
		if (nd->parent == nd->id) break;
		nd = find(t, nd->parent);
	}
	for (int i = 0; i < n / 2; i++) {
		uint32_t x = path[i];
		path[i] = path[n - 1 - i];
		path[n - 1 - i] = x;
	}
	return n;
}

char gf_tax_rank_letter(const char *rank)
{
	static const struct {
		const char *name;
		char code;
	} map[] = { { "superkingdom", 'D' }, { "domain", 'D' }, { "kingdom", 'K' }, { "phylum", 'P' }, { "class", 'C' },
		        { "order", 'O' }, { "family", 'F' }, { "genus", 'G' }, { "species", 'S' } };
	if (rank[0] && !rank[1] && strchr("DKPCOFGS", rank[0])) return rank[0];
	for (size_t i = 0; i < sizeof map / sizeof *map; i++)
		if (!strcmp(rank, map[i].name)) return map[i].code;
	return 0;
}
