/* Kraken 2's report and per-record formats; see kraken.h. */
#include "src/common.h"
#include "src/kraken.h"

#include <stdlib.h>
#include <string.h>

#include "model/util.h"

typedef struct {
	uint32_t id;
	int parent;          /* node index; the root is its own */
	const char *rank, *name;
	uint64_t direct, clade;
} node_t;

typedef struct {
	node_t *v;
	int n;
} tree_t;

static int find(const tree_t *tr, uint32_t id)
{
	for (int i = 0; i < tr->n; i++)
		if (tr->v[i].id == id) return i;
	return -1;
}

/* The node of id (added under parent when new). */
static int node(tree_t *tr, uint32_t id, int parent, const char *rank, const char *name)
{
	int i = find(tr, id);
	if (i >= 0) return i;
	tr->v[tr->n] = (node_t){ id, parent < 0 ? tr->n : parent, rank, name, 0, 0 };
	return tr->n++;
}

/* Children of node p, by clade count (descending) then taxid. */
static const tree_t *sort_tree;
static int cmp_child(const void *a, const void *b)
{
	const node_t *x = &sort_tree->v[*(const int *)a], *y = &sort_tree->v[*(const int *)b];
	if (x->clade != y->clade) return x->clade > y->clade ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void print_line(FILE *fp, uint64_t total, uint64_t clade, uint64_t direct, const char *code, uint32_t id,
                       int depth, const char *name)
{
	fprintf(fp, "%6.2f\t%llu\t%llu\t%s\t%u\t", total ? 100.0 * (double)clade / (double)total : 0.0,
	        (unsigned long long)clade, (unsigned long long)direct, code, id);
	for (int i = 0; i < depth; i++) fputs("  ", fp);
	fprintf(fp, "%s\n", name);
}

/* Kraken 2's KrakenReportDFS: a ranked node resets the code, an unranked
 * one counts the levels below the last. */
static void dfs(FILE *fp, const tree_t *tr, int i, uint64_t total, char code, int code_depth, int depth, int *kids)
{
	const node_t *nd = &tr->v[i];
	if (!nd->clade) return;
	char letter = gf_tax_rank_letter(nd->rank), s[16];
	if (letter) {
		code = letter;
		code_depth = 0;
	} else {
		code_depth++;
	}
	if (code_depth) snprintf(s, sizeof s, "%c%d", code, code_depth);
	else snprintf(s, sizeof s, "%c", code);
	print_line(fp, total, nd->clade, nd->direct, s, nd->id, depth, nd->name);
	int n = 0, *mine = kids;
	for (int j = 0; j < tr->n; j++)
		if (j != i && tr->v[j].parent == i) mine[n++] = j;
	sort_tree = tr;
	qsort(mine, n, sizeof *mine, cmp_child);
	for (int k = 0; k < n; k++) dfs(fp, tr, mine[k], total, code, code_depth, depth + 1, kids + n);
}

int gf_kraken_report(FILE *fp, const gf_taxa_t *t, char *const *names, const uint64_t *count, char *err, size_t errlen)
{
	int cap = 1;
	for (int c = 0; c < t->n; c++) cap += t->c[c].n_lineage ? t->c[c].n_lineage : 1;
	tree_t tr = { calloc(cap, sizeof *tr.v), 0 };
	int *kids = malloc((size_t)cap * sizeof *kids); /* the sibling lists on one path are disjoint */
	if (!tr.v || !kids) {
		free(tr.v);
		free(kids);
		return rf_fail(err, errlen, "out of memory for the report");
	}
	/* the root: the taxonomy's when a class has a lineage, else NCBI's taxid 1 */
	int root = -1;
	for (int c = 0; c < t->n && root < 0; c++)
		if (t->c[c].n_lineage) root = node(&tr, t->c[c].lineage[0].id, -1, "no rank", t->c[c].lineage[0].name);
	if (root < 0) root = node(&tr, 1, -1, "no rank", "root");
	uint64_t total = count[t->n];
	for (int c = 0; c < t->n; c++) {
		const gf_class_taxa_t *x = &t->c[c];
		int at = root;
		for (int i = 0; i < x->n_lineage; i++) at = node(&tr, x->lineage[i].id, at, x->lineage[i].rank, x->lineage[i].name);
		if (!x->n_lineage) at = node(&tr, gf_taxa_id(t, c), root, *x->rank ? x->rank : "species", names[c]);
		tr.v[at].direct += count[c];
		total += count[c];
	}
	for (int i = 0; i < tr.n; i++)
		for (int j = i;; j = tr.v[j].parent) {
			tr.v[j].clade += tr.v[i].direct;
			if (tr.v[j].parent == j) break;
		}
	if (count[t->n]) print_line(fp, total, count[t->n], count[t->n], "U", 0, 0, "unclassified");
	dfs(fp, &tr, root, total, 'R', -1, 0, kids);
	free(tr.v);
	free(kids);
	return 0;
}

void gf_kraken_line(FILE *fp, const char *name, uint32_t taxid, const char *lengths, const uint32_t *win_taxid,
                    const size_t *win_kmers, size_t n, size_t split)
{
	fprintf(fp, "%c\t%s\t%u\t%s\t", taxid ? 'C' : 'U', name, taxid, lengths);
	int first = 1;
	for (size_t i = 0; i <= n; i++) {
		if (i == split) {
			fputs(first ? "|:|" : " |:|", fp);
			first = 0;
		}
		if (i == n) break;
		size_t k = win_kmers[i];
		while (i + 1 < n && i + 1 != split && win_taxid[i + 1] == win_taxid[i]) k += win_kmers[++i];
		fprintf(fp, "%s%u:%zu", first ? "" : " ", win_taxid[i], k);
		first = 0;
	}
	fputc('\n', fp);
}
