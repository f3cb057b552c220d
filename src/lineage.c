/* Hierarchical classes; see lineage.h. */
#include "src/lineage.h"

#include <stdlib.h>
#include <string.h>

struct gf_lineage {
	int n, max_depth;
	char *const *classes;
	int *depth;            /* ranks of each class */
};

static int ranks_of(const char *s)
{
	int d = 1;
	for (; *s; s++) d += *s == GF_LINEAGE_SEP;
	return d;
}

gf_lineage_t *gf_lineage_new(char *const *classes, int n)
{
	int any = 0;
	for (int c = 0; c < n; c++) any |= strchr(classes[c], GF_LINEAGE_SEP) != NULL;
	gf_lineage_t *lin = any ? calloc(1, sizeof *lin) : NULL;
	if (!lin || !(lin->depth = malloc((n ? n : 1) * sizeof *lin->depth))) {
		free(lin);
		return NULL;
	}
	lin->n = n;
	lin->classes = classes;
	for (int c = 0; c < n; c++) {
		lin->depth[c] = ranks_of(classes[c]);
		if (lin->depth[c] > lin->max_depth) lin->max_depth = lin->depth[c];
	}
	return lin;
}

void gf_lineage_free(gf_lineage_t *lin)
{
	if (!lin) return;
	free(lin->depth);
	free(lin);
}

int gf_lineage_max_depth(const gf_lineage_t *lin)
{
	return lin->max_depth;
}

int gf_lineage_call(const gf_lineage_t *lin, const float *probs, float cutoff, char *call, size_t len, float *conf,
                    int *depth)
{
	int top = 0;
	for (int c = 1; c < lin->n; c++)
		if (probs[c] > probs[top]) top = c;
	const char *t = lin->classes[top];
	size_t p = 0, end = 0;   /* the taxon at rank d is t[0, p); the call t[0, end) */
	*depth = 0;
	for (int d = 1; d <= lin->depth[top]; d++) {
		const char *e = strchr(t + p + (d > 1), GF_LINEAGE_SEP);
		p = e ? (size_t)(e - t) : strlen(t);
		double s = 0;
		for (int c = 0; c < lin->n; c++) {
			const char *x = lin->classes[c];
			if (!strncmp(x, t, p) && (x[p] == GF_LINEAGE_SEP || !x[p])) s += probs[c];
		}
		conf[d - 1] = (float)s;
		if (*depth == d - 1 && s >= cutoff) *depth = d, end = p;
	}
	if (*depth) snprintf(call, len, "%.*s", (int)end, t);
	else snprintf(call, len, "unclassified");
	return lin->depth[top];
}

void gf_lineage_print(const gf_lineage_t *lin, const float *probs, float cutoff, FILE *fp)
{
	if (!probs) {
		fputs("\tunclassified\tNA", fp);
		return;
	}
	char call[4096];
	float conf[lin->max_depth > 0 ? lin->max_depth : 1];
	int depth, n = gf_lineage_call(lin, probs, cutoff, call, sizeof call, conf, &depth);
	fprintf(fp, "\t%s\t", call);
	for (int d = 0; d < n; d++) fprintf(fp, "%s%.4f", d ? ";" : "", conf[d]);
}
