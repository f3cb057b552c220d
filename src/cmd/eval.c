/* genoformer eval: how well a model's predictions (made here, or read from
 * a classify table) match truth labels: accuracy, macro-F1, per-class
 * precision/recall/F1/support and the confusion matrix. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genomics/labels.h"
#include "model/util.h"
#include "src/cmd/commands.h"
#include "src/infer.h"
#include "src/log.h"
#include "src/openset.h"
#include "src/output.h"
#include "src/opts.h"

typedef struct {
	int C;
	char **classes;       /* the predictions' classes */
	uint64_t *cm;         /* C rows (truth) x C+1 columns (predicted, then unclassified) */
	gf_labels_t *lab;
	const char *truth;
	int *to_class;        /* label class id -> class index */
	float min_prob;       /* --min-prob, or < 0: the model's */
	gf_openset_t os;
	float *probs;
} ev_t;

typedef struct {
	uint64_t given;
	const char *labels, *predictions;
} ev_opts_t;

#define EO(f) offsetof(ev_opts_t, f)
static const gf_opt_t eval_opts[] = {
	{ 0, "labels", GF_OPT_STR, EO(labels), .arg = "FILE", .help = "truth labels TSV", .dflt = "required" },
	{ 0, "predictions", GF_OPT_STR, EO(predictions), .arg = "FILE", .dflt = "none",
	  .help = "a 'genoformer classify' table (per-window tables: the 'all' rows)\n"
	          "instead of -m and inputs" },
};
static const gf_optgroup_t eval_group = GF_GROUP("Evaluation", eval_opts, ev_opts_t);
static const char *const output_help[] = { "the tables, written atomically" };

enum { N_USES = GF_INFER_USES + 2 };

static void uses(gf_infer_cli_t *c, ev_opts_t *o, gf_optuse_t *use)
{
	gf_infer_cli_uses(c, GF_OPT_BIT(GF_INF_PER_WINDOW), output_help, use);
	use[GF_INFER_USES] = (gf_optuse_t){ .g = &eval_group, .ctx = o };
	use[GF_INFER_USES + 1] = (gf_optuse_t){ .g = &gf_group_verbosity };
}


/* Maps every truth class to a prediction class; -1 with a message naming
 * the first one the predictions lack. */
static int map_classes(ev_t *e, const char *what, char *err, size_t errlen)
{
	int n = gf_labels_n_classes(e->lab);
	if (!(e->to_class = malloc((n ? n : 1) * sizeof *e->to_class)))
		return rf_fail(err, errlen, "out of memory");
	for (int i = 0; i < n; i++) {
		const char *name = gf_labels_class_name(e->lab, i);
		int c = 0;
		while (c < e->C && strcmp(e->classes[c], name)) c++;
		if (c == e->C) {
			size_t len = 0;
			char list[512] = "";
			for (int j = 0; j < e->C && len < sizeof list; j++)
				len += snprintf(list + len, sizeof list - len, "%s%s", j ? ", " : "", e->classes[j]);
			snprintf(err, errlen, "%s: class '%s' is not a class of %s (its classes: %s)", e->truth, name, what, list);
			return -1;
		}
		e->to_class[i] = c;
	}
	return 0;
}

/* Counts one record: pred is a class index or -1 (unclassified). */
static int count(ev_t *e, const char *path, const char *id, int pred, char *err, size_t errlen)
{
	int t = gf_labels_lookup(e->lab, path, id);
	if (t < 0) return rf_fail(err, errlen, "%s: record '%s' has no label in %s", path, id, e->truth);
	if (gf_labels_times_used(e->lab, path, id) > 1)
		return rf_fail(err, errlen, "%s: record '%s' comes a second time: each record counts once (an input given twice?)",
		               path, id);
	e->cm[(size_t)e->to_class[t] * (e->C + 1) + (pred < 0 ? e->C : pred)]++;
	return 0;
}

static int on_record(void *ctx, const gf_infer_rec_t *r, char *err, size_t errlen)
{
	ev_t *e = ctx;
	float top;
	int reason;
	int pred = gf_openset_call(&e->os, e->min_prob, r->len, r->lowinfo, r->kx_call, r->out, e->C, e->probs,
	                           &top, &reason);
	return count(e, r->path, r->name, pred, err, errlen);
}

static void write_tables(const ev_t *e, FILE *fp)
{
	const int C = e->C;
	uint64_t n = 0, right = 0, uncl = 0;
	double f1sum = 0.0;
	int present = 0;
	for (int t = 0; t < C; t++) {
		right += e->cm[(size_t)t * (C + 1) + t];
		uncl += e->cm[(size_t)t * (C + 1) + C];
		for (int p = 0; p <= C; p++) n += e->cm[(size_t)t * (C + 1) + p];
	}
	double prec[C], rec[C], f1[C];
	uint64_t sup[C], pred[C];
	for (int c = 0; c < C; c++) {
		uint64_t tp = e->cm[(size_t)c * (C + 1) + c];
		sup[c] = pred[c] = 0;
		for (int p = 0; p <= C; p++) sup[c] += e->cm[(size_t)c * (C + 1) + p];
		for (int t = 0; t < C; t++) pred[c] += e->cm[(size_t)t * (C + 1) + c];
		prec[c] = pred[c] ? (double)tp / pred[c] : 0.0;
		rec[c] = sup[c] ? (double)tp / sup[c] : 0.0;
		f1[c] = prec[c] + rec[c] > 0 ? 2 * prec[c] * rec[c] / (prec[c] + rec[c]) : 0.0;
		if (sup[c] || pred[c]) {
			present++;
			f1sum += f1[c];
		}
	}
	fprintf(fp, "metric\tvalue\nrecords\t%llu\naccuracy\t%.4f\nmacro_f1\t%.4f\nunclassified\t%llu\n\n",
	        (unsigned long long)n, n ? (double)right / n : 0.0, present ? f1sum / present : 0.0,
	        (unsigned long long)uncl);
	fprintf(fp, "class\tprecision\trecall\tf1\tsupport\tpredicted\n");
	for (int c = 0; c < C; c++)
		fprintf(fp, "%s\t%.4f\t%.4f\t%.4f\t%llu\t%llu\n", e->classes[c], prec[c], rec[c], f1[c],
		        (unsigned long long)sup[c], (unsigned long long)pred[c]);
	fprintf(fp, "\ntruth\\predicted");
	for (int c = 0; c < C; c++) fprintf(fp, "\t%s", e->classes[c]);
	fprintf(fp, "\tunclassified\n");
	for (int t = 0; t < C; t++) {
		fputs(e->classes[t], fp);
		for (int p = 0; p <= C; p++) fprintf(fp, "\t%llu", (unsigned long long)e->cm[(size_t)t * (C + 1) + p]);
		fputc('\n', fp);
	}
}

/* Splits line (modified in place) at tabs into at most max fields. */
static int split_tabs(char *line, char **f, int max)
{
	int n = 0;
	for (char *p = line; n < max; p++) {
		f[n++] = p;
		if (!(p = strchr(p, '\t'))) break;
		*p = 0;
	}
	return n;
}

/* Reads a classify table: classes from its header, one count per row (per
 * 'all' row for a per-window table). */
static int read_predictions(ev_t *e, const char *path, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	if (!fp) return rf_fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
	char *line = NULL, **f = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0, nf = 0, pc = -1, wc = -1, max = 0, header = 1;
	for (long ln = 1; rc == 0 && (len = getline(&line, &cap, fp)) > 0; ln++) {
		if (line[len - 1] == '\n') line[--len] = 0;
		if (header && line[0] == '#') continue; /* a shard's "#shard I/N" line */
		if (max < (int)len + 2) {
			char **g = realloc(f, (len + 2) * sizeof *g);
			if (!g) {
				rc = rf_fail(err, errlen, "out of memory");
				break;
			}
			f = g;
			max = (int)len + 2;
		}
		int n = split_tabs(line, f, max);
		if (header) {
			header = 0;
			for (int i = 0; i < n; i++) {
				if (!strcmp(f[i], "predicted")) pc = i;
				if (!strcmp(f[i], "window")) wc = i;
			}
			if (strcmp(f[0], "id") || pc < 0 || pc + 2 >= n || strcmp(f[pc + 1], "probability")) {
				rc = rf_fail(err, errlen, "%s:%ld: not a genoformer classify table (id ... predicted probability CLASS...)",
				             path, ln);
				break;
			}
			nf = n;
			e->C = n - pc - 2 - !strcmp(f[n - 1], "reason");  /* tables since the reason column */
			if (!(e->classes = calloc(e->C, sizeof *e->classes))) rc = -1;
			for (int c = 0; rc == 0 && c < e->C; c++)
				if (!(e->classes[c] = strdup(f[pc + 2 + c]))) rc = -1;
			if (rc || !(e->cm = calloc((size_t)e->C * (e->C + 1), sizeof *e->cm))) {
				rc = rf_fail(err, errlen, "out of memory");
				break;
			}
			rc = map_classes(e, path, err, errlen);
			continue;
		}
		if (n != nf) {
			rc = rf_fail(err, errlen, "%s:%ld: %d columns, the header has %d", path, ln, n, nf);
			break;
		}
		if (wc >= 0 && strcmp(f[wc], "all")) continue;
		int p = 0;
		while (p < e->C && strcmp(e->classes[p], f[pc])) p++;
		if (p == e->C && strcmp(f[pc], "unclassified")) {
			rc = rf_fail(err, errlen, "%s:%ld: predicted class '%s' is not in the header", path, ln, f[pc]);
			break;
		}
		rc = count(e, path, f[0], p == e->C ? -1 : p, err, errlen);
	}
	if (rc == 0 && ferror(fp)) rc = rf_fail(err, errlen, "%s: read error: %s", path, strerror(errno));
	if (rc == 0 && !e->cm) rc = rf_fail(err, errlen, "%s: empty file", path);
	free(line);
	free(f);
	fclose(fp);
	return rc;
}

static const gf_cmdhelp_t help = {
	"Usage: genoformer eval -m MODEL.gfm --labels TRUTH.tsv [options] IN...\n"
	"       genoformer eval --predictions CLASSIFY.tsv --labels TRUTH.tsv [-o FILE]\n"
	"Compares predicted classes with the truth (TSV record_id<TAB>class; every record needs a label,\n"
	"every label a class of the model). Prints three tab-separated tables, blank-line separated:\n"
	"  metric/value: records, accuracy, macro_f1, unclassified;\n"
	"  class, precision, recall, f1, support (truth records), predicted (records predicted so);\n"
	"  the confusion matrix: rows truth, columns predicted, then 'unclassified'.\n"
	"An unclassified record counts as wrong. macro_f1 is the mean F1 over the classes present in the\n"
	"truth or the predictions; precision (recall) is 0 for a class never predicted (absent).\n\n",
	NULL,
};

static int parse_args(int argc, char *argv[], gf_infer_cli_t *c, ev_opts_t *o)
{
	gf_optuse_t use[N_USES];
	uses(c, o, use);
	int rc = gf_opts_parse(argc, argv, use, N_USES, &help);
	if (rc >= 0) return rc;
	if (!o->labels) {
		gf_error("no truth: --labels TRUTH.tsv is required");
		return GF_EXIT_USAGE;
	}
	if (o->predictions && (c->model_path || optind < argc)) {
		gf_error("--predictions replaces -m and the inputs: give one or the other");
		return GF_EXIT_USAGE;
	}
	gf_input_finish(&c->in);
	return o->predictions || !gf_infer_cli_check(c, argc, optind) ? -1 : GF_EXIT_USAGE;
}

/* Fills e's confusion matrix from the model or the predictions table. */
static int evaluate(ev_t *e, gf_infer_cli_t *c, const char *preds, char *const *inputs, int n_inputs,
                    char *err, size_t errlen)
{
	if (preds) return read_predictions(e, preds, err, errlen);
	gf_modelfile_t *mf = gf_infer_load(c, 1);
	if (!mf) return rf_fail(err, errlen, "%s", "");
	gf_infer_stats_t st;
	e->C = mf->n_classes;
	e->classes = mf->classes;
	int rc = -1;
	if (!(e->cm = calloc((size_t)e->C * (e->C + 1), sizeof *e->cm)) || !(e->probs = malloc(e->C * sizeof *e->probs)))
		snprintf(err, errlen, "out of memory");
	else if (!map_classes(e, c->model_path, err, errlen) && !gf_openset_load(&e->os, mf, err, errlen) &&
	         !(c->low = e->os.low, 0))
		rc = gf_infer_run(c, mf, 0, inputs, n_inputs, on_record, e, &st, err, errlen);
	/* the class names outlive the model */
	e->classes = calloc(e->C, sizeof *e->classes);
	for (int i = 0; e->classes && i < e->C; i++) e->classes[i] = strdup(mf->classes[i]);
	if (rc == 0) gf_infer_log_stats(&st);
	gf_modelfile_free(mf);
	return rc;
}

int cmd_eval(int argc, char *argv[])
{
	gf_infer_cli_t c;
	ev_t e = { 0 };
	ev_opts_t o = { 0 };
	char err[GF_ERRLEN] = "";
	if (gf_infer_cli_init(&c, argc)) return GF_EXIT_ERROR;
	int rc = parse_args(argc, argv, &c, &o);
	e.truth = o.labels;
	e.min_prob = gf_infer_min_prob(&c);
	const char *ins[] = { e.truth, o.predictions };
	if (rc < 0 && (gf_infer_claim(&c, (const char *const *)argv + optind, argc - optind, NULL, 0) ||
	               gf_infer_claim(&c, ins, 2, &c.out.path, 1)))
		rc = GF_EXIT_ERROR;
	if (rc < 0) {
		gf_out_t out;
		int ok = (e.lab = gf_labels_new()) && !gf_labels_read_tsv(e.lab, e.truth, err, sizeof err) &&
		         !evaluate(&e, &c, o.predictions, argv + optind, argc - optind, err, sizeof err);
		/* with regions or shards, labels of records left out are expected */
		ok = ok && (c.in.n_regions || c.shard_n > 1 || !gf_labels_check_used(e.lab, err, sizeof err));
		ok = ok && !gf_out_open(&out, c.out.path, err, sizeof err);
		if (ok) {
			write_tables(&e, out.fp);
			ok = !gf_out_close(&out, 1, err, sizeof err);
		}
		if (!ok && *err) gf_error("%s", err);
		rc = ok ? GF_EXIT_OK : GF_EXIT_ERROR;
		if (ok) gf_log_summary();
	}
	for (int i = 0; e.classes && i < e.C; i++) free(e.classes[i]);
	free(e.classes);
	free(e.cm);
	free(e.to_class);
	free(e.probs);
	gf_labels_free(e.lab);
	gf_infer_cli_free(&c);
	return rc;
}
