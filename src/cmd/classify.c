/* genoformer classify: one TSV row per record (read, contig, chromosome)
 * with the predicted class and every class's probability, and optionally a
 * per-class report in the manner of Kraken 2's. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cmd/commands.h"
#include "src/infer.h"
#include "src/lineage.h"
#include "src/log.h"
#include "src/openset.h"
#include "src/output.h"
#include "src/optgroups.h"
#include "src/opts.h"

typedef struct {
	gf_modelfile_t *mf;
	gf_openset_t os;
	float min_prob;     /* --min-prob, or < 0: the model's */
	int per_window;
	int shard_i, shard_n;
	FILE *fp;
	float *probs;
	uint64_t *count;    /* per class, then unclassified */
	double *psum;       /* sum of the top probability as printed, same layout */
	uint64_t reason[GF_OPENSET_N_REASONS];  /* records unclassified for each reason */
	gf_lineage_t *lin;  /* the classes' lineages, or NULL (flat classes) */
	float rank_conf;
} cls_t;

typedef struct {
	uint64_t given;
	const char *report;
	float rank_conf;
} cls_opts_t;

static const gf_opt_t report_opt[] = {
	{ 0, "report", GF_OPT_STR, offsetof(cls_opts_t, report), .arg = "FILE", .dflt = "none",
	  .help = "per-class summary TSV (class, count, percent, mean_prob: the mean top\n"
	          "probability of its records), 'unclassified' first, then the classes by\n"
	          "count (Kraken 2 report style), then one row per reason of being\n"
	          "unclassified (unclassified:too_short, ...; percent of all records)" },
	{ 0, "rank-conf", GF_OPT_FLOAT, offsetof(cls_opts_t, rank_conf), 0, 1, .arg = "F",
	  .help = "lineage classes: the confidence a rank needs to be called" },
};
static const gf_optgroup_t report_group = GF_GROUP("", report_opt, cls_opts_t);
static const char *const output_help[] = { "the table, written atomically; with --shard its first line\n"
	                                          "is '#shard<TAB>I/N' (scripts/slurm/merge reads it)" };

enum { N_USES = GF_INFER_USES + 2 };

static void uses(gf_infer_cli_t *c, cls_opts_t *o, gf_optuse_t *use)
{
	gf_infer_cli_uses(c, 0, output_help, use);
	use[GF_INFER_USES] = (gf_optuse_t){ .g = &report_group, .ctx = o };
	use[GF_INFER_USES + 1] = (gf_optuse_t){ .g = &gf_group_verbosity, .ctx = NULL };
}


static void print_row_head(const cls_t *s, const gf_infer_rec_t *r, const char *window, int64_t beg, int64_t end)
{
	fputs(r->name, s->fp);
	if (s->per_window) fprintf(s->fp, "\t%s\t%lld\t%lld", window, (long long)beg, (long long)end);
	fprintf(s->fp, "\t%lld", (long long)(end - beg));
}

/* predicted, probability, the class probabilities of logits (NULL: no
 * window) and the reason, for len bases; low: the record's lowinfo reason
 * (0 for window rows). Returns the class (-1: unclassified, *reason why)
 * and its probability as the table shows it in shown: the report sums what
 * the table shows, so merged shards (scripts/slurm/merge) reproduce the
 * report exactly. */
static int print_prediction(cls_t *s, size_t len, int low, const float *logits, double *shown, int *reason)
{
	float top;
	char p[32];
	const int C = s->mf->n_classes;
	int cls = gf_openset_call(&s->os, s->min_prob, len, low, logits, C, s->probs, &top, reason);
	if (low) logits = NULL;  /* no probabilities for a record the model cannot judge */
	snprintf(p, sizeof p, "%.4f", top);
	*shown = strtod(p, NULL);
	fprintf(s->fp, "\t%s\t%s", cls < 0 ? "unclassified" : s->mf->classes[cls], p);
	for (int c = 0; c < C; c++)
		if (logits) fprintf(s->fp, "\t%.4f", s->probs[c]);
		else fputs("\tNA", s->fp);
	if (s->lin) gf_lineage_print(s->lin, logits ? s->probs : NULL, s->rank_conf, s->fp);
	fprintf(s->fp, "\t%s\n", gf_openset_reason_name(*reason));
	return cls;
}

static int on_record(void *ctx, const gf_infer_rec_t *r, char *err, size_t errlen)
{
	cls_t *s = ctx;
	double top;
	int reason;
	(void)err;
	(void)errlen;
	if (s->per_window) {
		char num[32];
		for (size_t w = 0; w < r->n_windows; w++) {
			snprintf(num, sizeof num, "%zu", w);
			print_row_head(s, r, num, r->win_beg[w], r->win_end[w]);
			print_prediction(s, (size_t)(r->win_end[w] - r->win_beg[w]), 0, r->win_out + w * s->mf->n_classes, &top,
			                 &reason);
		}
	}
	print_row_head(s, r, "all", r->beg, r->beg + (int64_t)r->len);
	int cls = print_prediction(s, r->len, r->lowinfo, r->out, &top, &reason);
	int slot = cls < 0 ? s->mf->n_classes : cls;
	s->reason[reason]++;
	s->count[slot]++;
	s->psum[slot] += top;
	return 0;
}

/* A shard's table starts with its own "#shard I/N" line, from which
 * scripts/slurm/merge orders the shards and finds a missing one. */
static void write_header(const cls_t *s)
{
	if (s->shard_n > 1) fprintf(s->fp, "#shard\t%d/%d\n", s->shard_i, s->shard_n);
	fputs(s->per_window ? "id\twindow\tbeg\tend\tlength" : "id\tlength", s->fp);
	fputs("\tpredicted\tprobability", s->fp);
	for (int c = 0; c < s->mf->n_classes; c++) fprintf(s->fp, "\t%s", s->mf->classes[c]);
	if (s->lin) fputs("\tlineage\tlineage_conf", s->fp);
	fputs("\treason\n", s->fp);
}

/* Report rows: unclassified, then classes by count (ties by class order). */
static void write_report(const cls_t *s, FILE *fp)
{
	const int C = s->mf->n_classes;
	uint64_t total = 0;
	int order[C > 0 ? C : 1];
	for (int c = 0; c <= C; c++) total += s->count[c];
	for (int c = 0; c < C; c++) order[c] = c;
	for (int i = 1; i < C; i++)
		for (int j = i; j > 0 && s->count[order[j]] > s->count[order[j - 1]]; j--) {
			int t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	fprintf(fp, "class\tcount\tpercent\tmean_prob\n");
	for (int i = -1; i < C; i++) {
		int c = i < 0 ? C : order[i];
		uint64_t n = s->count[c];
		fprintf(fp, "%s\t%llu\t%.2f\t%.4f\n", i < 0 ? "unclassified" : s->mf->classes[c], (unsigned long long)n,
		        total ? 100.0 * n / total : 0.0, n ? s->psum[c] / n : 0.0);
	}
	for (int r = 1; r < GF_OPENSET_N_REASONS; r++)
		fprintf(fp, "unclassified:%s\t%llu\t%.2f\tNA\n", gf_openset_reason_name(r), (unsigned long long)s->reason[r],
		        total ? 100.0 * s->reason[r] / total : 0.0);
}

static const gf_cmdhelp_t help = {
	"Usage: genoformer classify -m MODEL.gfm [options] IN...\n"
	"Classifies every record (one per read for FASTQ/SAM/BAM/CRAM). Records longer than the model's\n"
	"window are cut into windows (no overlap) whose logits are averaged, weighted by real tokens.\n"
	"Output: TSV with a header: id, length, predicted, probability, then each class's probability\n"
	"(with --per-window: id, window, beg, end, length, ...; the record's row has window 'all' and\n"
	"follows its windows' rows; 0-based, end exclusive). When the classes are lineages (ranks joined\n"
	"by ';'), two more columns: lineage, the top class's lineage down to the deepest rank whose\n"
	"confidence (the summed probability of the classes below it) reaches --rank-conf, 'unclassified'\n"
	"when none does; lineage_conf, the confidence of each of its ranks. Last, 'reason': '-' for a\n"
	"call, else why the record is 'unclassified' (the first that applies):\n"
	"  too_short        shorter than the model's shortest length (genoformer info: openset.min_length)\n"
	"                   or than k\n"
	"  mostly_n         under half of the bases are A, C, G or T\n"
	"  low_complexity   3-mer entropy under 2.5 bits (tandem repeats of period 1..5, homopolymers)\n"
	"  background       the top class is the model's background class (sequence from outside its\n"
	"                   classes, train --background)\n"
	"  below_threshold  top probability under the threshold for the record's length: the model's\n"
	"                   (chosen at the end of training for a stated precision on validation windows;\n"
	"                   genoformer info), or --min-prob\n"
	"The first three give probability 0 and class probabilities NA. Per-window rows only have the\n"
	"last two reasons; the record's row has them all.\n\n",
	NULL,
};

static int parse_args(int argc, char *argv[], gf_infer_cli_t *c, cls_opts_t *o)
{
	gf_optuse_t use[N_USES];
	uses(c, o, use);
	int rc = gf_opts_parse(argc, argv, use, N_USES, &help);
	if (rc >= 0) return rc;
	return gf_infer_cli_check(c, argc, optind) ? GF_EXIT_USAGE : -1;
}

/* Classifies and writes the table and the report; the exit status. */
static int classify(gf_infer_cli_t *c, cls_t *s, const char *report, char *const *inputs, int n_inputs)
{
	char err[GF_ERRLEN];
	gf_out_t out, rep = { 0 };
	gf_infer_stats_t st;
	if (gf_out_open(&out, c->out.path, err, sizeof err)) {
		gf_error("%s", err);
		return GF_EXIT_ERROR;
	}
	if (report && gf_out_open(&rep, report, err, sizeof err)) {
		gf_error("%s", err);
		gf_out_close(&out, 0, err, sizeof err);
		return GF_EXIT_ERROR;
	}
	s->fp = out.fp;
	write_header(s);
	int ok = !gf_infer_run(c, s->mf, 0, inputs, n_inputs, on_record, s, &st, err, sizeof err);
	if (!ok) gf_error("%s", err);
	if (ok && report) write_report(s, rep.fp);
	if (gf_out_close(&out, ok, err, sizeof err)) {
		gf_error("%s", err);
		ok = 0;
	}
	if (report && gf_out_close(&rep, ok, err, sizeof err)) {
		gf_error("%s", err);
		ok = 0;
	}
	if (!ok) return GF_EXIT_ERROR;
	gf_infer_log_stats(&st);
	char u[320] = "";
	if (s->count[s->mf->n_classes]) {
		int n = snprintf(u, sizeof u, ", %llu unclassified (", (unsigned long long)s->count[s->mf->n_classes]);
		for (int r = 1, first = 1; r < GF_OPENSET_N_REASONS; r++)
			if (s->reason[r]) {
				n += snprintf(u + n, sizeof u - n, "%s%s %llu", first ? "" : ", ", gf_openset_reason_name(r),
				              (unsigned long long)s->reason[r]);
				first = 0;
			}
		snprintf(u + n, sizeof u - n, ")");
	}
	gf_info("%d classes%s", s->mf->n_classes, u);
	gf_log_summary();
	return GF_EXIT_OK;
}

int cmd_classify(int argc, char *argv[])
{
	gf_infer_cli_t c;
	cls_t s = { 0 };
	cls_opts_t o = { .rank_conf = GF_LINEAGE_CUTOFF };
	if (gf_infer_cli_init(&c, argc)) return GF_EXIT_ERROR;
	int rc = parse_args(argc, argv, &c, &o);
	s.per_window = c.per_window;
	s.min_prob = gf_infer_min_prob(&c);
	s.shard_i = c.shard_i;
	s.shard_n = c.shard_n;
	const char *outs[] = { c.out.path, o.report };
	if (rc < 0 && gf_infer_claim(&c, (const char *const *)argv + optind, argc - optind, outs, o.report ? 2 : 1))
		rc = GF_EXIT_ERROR;
	gf_modelfile_t *mf = rc < 0 ? gf_infer_load(&c, 1) : NULL;
	char err[GF_ERRLEN];
	if (rc < 0 && mf && gf_openset_load(&s.os, mf, err, sizeof err)) {
		gf_error("%s: %s", c.model_path, err);
		rc = GF_EXIT_ERROR;
	}
	if (rc < 0 && mf) {
		s.mf = mf;
		c.low = s.os.low;
		if (s.min_prob < 0 && s.os.n_len && s.os.target > 0)
			gf_debug("thresholds by length %s (chosen for precision %.4g; --min-prob overrides)",
			         rf_ckpt_meta_get(&mf->meta, GF_OPENSET_KEY_BY_LENGTH), s.os.target);
		else if (s.min_prob < 0 && s.os.target > 0)
			gf_debug("threshold %.4g (chosen for precision %.4g; --min-prob overrides)", (double)s.os.min_prob,
			         s.os.target);
		s.probs = malloc(mf->n_classes * sizeof *s.probs);
		s.count = calloc(mf->n_classes + 1, sizeof *s.count);
		s.psum = calloc(mf->n_classes + 1, sizeof *s.psum);
		s.lin = gf_lineage_new(mf->classes, mf->n_classes);  /* NULL: flat classes */
		s.rank_conf = o.rank_conf;
		if (s.probs && s.count && s.psum) rc = classify(&c, &s, o.report, argv + optind, argc - optind);
		else gf_error("out of memory");
	}
	if (rc < 0) rc = GF_EXIT_ERROR;
	free(s.probs);
	free(s.count);
	free(s.psum);
	gf_lineage_free(s.lin);
	if (mf) gf_modelfile_free(mf);
	gf_infer_cli_free(&c);
	return rc;
}
