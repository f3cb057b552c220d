/* genoformer classify: one TSV row per record (read, contig, chromosome)
 * with the predicted class and every class's probability, and optionally a
 * per-class report (native, or Kraken 2's), Kraken 2's per-read lines, the
 * reads split by call and the alignments tagged with it. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "genomics/kmer.h"
#include "model/util.h"
#include "src/cmd/commands.h"
#include "src/files.h"
#include "src/infer.h"
#include "src/kraken.h"
#include "src/lineage.h"
#include "src/log.h"
#include "src/openset.h"
#include "src/output.h"
#include "src/optgroups.h"
#include "src/opts.h"
#include "src/provenance.h"
#include "src/readsout.h"
#include "src/samples.h"
#include "src/taxa.h"

typedef struct {
	gf_modelfile_t *mf;
	gf_openset_t os;
	float min_prob;     /* --min-prob, or < 0: the model's */
	int per_window, paired;
	int shard_i, shard_n;
	FILE *fp;
	float *probs;
	uint64_t *count;    /* per class, then unclassified */
	double *psum;       /* sum of the top probability as printed, same layout */
	uint64_t reason[GF_OPENSET_N_REASONS];  /* records unclassified for each reason */
	gf_lineage_t *lin;  /* the classes' lineages, or NULL (flat classes) */
	float rank_conf;
	gf_taxa_t taxa;
	FILE *kfp;          /* --kraken-out, or NULL */
	gf_seqout_t *reads[2]; /* --unclassified-out, --classified-out, or NULL */
	gf_bamout_t *bam;   /* --bam-out, or NULL */
	uint32_t *win_taxid;
	size_t *win_kmers, n_win;
} cls_t;

/* What classify writes besides the table. */
typedef struct {
	uint64_t given;
	const char *report, *report_format, *kraken, *taxonomy, *per_input;
	const char *reads[2], *bam;  /* --unclassified-out, --classified-out, --bam-out */
	int paired;
	int kraken_report;  /* --report-format kraken */
	float rank_conf;
} cls_opts_t;

static int check_report_format(void *ctx, const gf_opt_t *opt, const char *arg)
{
	(void)ctx;
	(void)opt;
	if (!strcmp(arg, "native") || !strcmp(arg, "kraken")) return 0;
	gf_error("--report-format expects native or kraken, got '%s'", arg);
	return GF_EXIT_USAGE;
}

#define CO(f) offsetof(cls_opts_t, f)
static const gf_opt_t cls_opts[] = {
	{ 0, "report", GF_OPT_STR, CO(report), .arg = "FILE", .dflt = "none",
	  .help = "per-class summary TSV (class, count, percent, mean_prob: the mean top\n"
	          "probability of its records), 'unclassified' first, then the classes by\n"
	          "count, then one row per reason of being unclassified\n"
	          "(unclassified:too_short, ...; percent of all records)" },
	{ 0, "rank-conf", GF_OPT_FLOAT, offsetof(cls_opts_t, rank_conf), 0, 1, .arg = "F",
	  .help = "lineage classes: the confidence a rank needs to be called" },
	{ 0, "report-format", GF_OPT_STR, CO(report_format), .arg = "STR", .call = check_report_format, .dflt = "native",
	  .help = "native (the TSV above) or kraken: Kraken 2's 6-column report (percent,\n"
	          "clade count, direct count, rank code, taxid, indented name) with the\n"
	          "unclassified and root rows, for MultiQC, Pavian, KrakenTools" },
	{ 0, "kraken-out", GF_OPT_STR, CO(kraken), .arg = "FILE", .dflt = "none",
	  .help = "one Kraken 2 line per record: C/U, id, taxid, length, and per window\n"
	          "the taxid it alone gets and its k-mers ('562:120 0:4')" },
	{ 0, "classified-out", GF_OPT_STR, CO(reads[1]), .arg = "FILE", .dflt = "none",
	  .help = "the records called a class, FASTQ when they have qualities, else\n"
	          "FASTA; headers 'ID kraken:taxid|T'" },
	{ 0, "unclassified-out", GF_OPT_STR, CO(reads[0]), .arg = "FILE", .dflt = "none",
	  .help = "the records left unclassified, as --classified-out" },
	{ 0, "paired", GF_OPT_SET, CO(paired), .dflt = "off",
	  .help = "one call per read pair from both mates' windows (logits averaged over\n"
	          "all of them, weighted by tokens), one row named without /1 /2; inputs:\n"
	          "one interleaved FASTQ/FASTA, one SAM/BAM/CRAM (mates adjacent, by\n"
	          "flags; unpaired reads stay single), or mate files R1 R2 [R1 R2 ...];\n"
	          "reads outputs need '#' (out#.fq: out_1.fq, out_2.fq)" },
	{ 0, "bam-out", GF_OPT_STR, CO(bam), .arg = "FILE", .dflt = "none",
	  .help = "the alignments of a SAM/BAM/CRAM input as stored, with tags gc:Z\n"
	          "class (or unclassified), gp:f probability, gx:i taxid; SAM for .sam,\n"
	          "else BAM; 'samtools view -d gc:NAME' selects a class" },
	{ 0, "per-input", GF_OPT_STR, CO(per_input), .arg = "DIR", .dflt = "off",
	  .help = "one sample per input (per pair of mate files with --paired), named\n"
	          "by its file name without folder and suffixes (S1_R1.fastq.gz: S1);\n"
	          "writes DIR/S1.tsv, DIR/S1.report.tsv (S1.kreport with\n"
	          "--report-format kraken) and DIR/S1.kraken; DIR made if missing" },
	{ 0, "taxonomy", GF_OPT_STR, CO(taxonomy), .arg = "DIR", .dflt = "the model's",
	  .help = "NCBI nodes.dmp and names.dmp (a Kraken 2 database's taxonomy/): the\n"
	          "lineage of each class's taxid in the report (without: the lineages\n"
	          "stored in the model, else each class's taxid under the root)" },
};
static const gf_optgroup_t cls_group = GF_GROUP("Outputs besides the table ('-' is stdout, .gz BGZF)", cls_opts,
                                                cls_opts_t);
static const char *const output_help[] = { "the table, written atomically ('-' stdout, .gz BGZF); with\n"
	                                          "--shard its '#shard<TAB>I/N' line follows the '#genoformer'\n"
	                                          "line (scripts/slurm/merge reads both)" };

enum { N_USES = GF_INFER_USES + 2 };

static void uses(gf_infer_cli_t *c, cls_opts_t *o, gf_optuse_t *use)
{
	gf_infer_cli_uses(c, 0, output_help, use);
	use[GF_INFER_USES] = (gf_optuse_t){ .g = &cls_group, .ctx = o };
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
 * (0 for window rows); kx_call: the k-mer index's class (gf_openset_call;
 * -2 for window rows). Returns the class (-1: unclassified, *reason why)
 * and its probability as the table shows it in shown: the report sums what
 * the table shows, so merged shards (scripts/slurm/merge) reproduce the
 * report exactly. */
static int print_prediction(cls_t *s, size_t len, int low, int kx_call, const float *logits, double *shown, int *reason)
{
	float top;
	char p[32];
	const int C = s->mf->n_classes;
	int cls = gf_openset_call(&s->os, s->min_prob, len, low, kx_call, logits, C, s->probs, &top, reason);
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

/* The record's --kraken-out line: its call and each window's own. */
static int write_kraken(cls_t *s, const gf_infer_rec_t *r, int cls)
{
	const int C = s->mf->n_classes;
	if (r->n_windows > s->n_win) {
		uint32_t *t = realloc(s->win_taxid, r->n_windows * sizeof *t);
		if (t) s->win_taxid = t;
		size_t *k = realloc(s->win_kmers, r->n_windows * sizeof *k);
		if (k) s->win_kmers = k;
		if (!t || !k) return -1;
		s->n_win = r->n_windows;
	}
	for (size_t w = 0; w < r->n_windows; w++) {
		size_t bases = (size_t)(r->win_end[w] - r->win_beg[w]);
		float top;
		int reason, c = gf_openset_call(&s->os, s->min_prob, bases, 0, -2, r->win_out + w * C, C, s->probs, &top,
		                                &reason);
		s->win_taxid[w] = c < 0 ? 0 : gf_taxa_id(&s->taxa, c);
		s->win_kmers[w] = gf_kmer_count(bases, s->mf->k, s->mf->stride);
	}
	char len[64];
	if (r->n_mates == 2) snprintf(len, sizeof len, "%zu|%zu", r->mate_len[0], r->mate_len[1]);
	else snprintf(len, sizeof len, "%zu", r->len);
	gf_kraken_line(s->kfp, r->name, cls < 0 ? 0 : gf_taxa_id(&s->taxa, cls), len, s->win_taxid, s->win_kmers,
	               r->n_windows, r->n_mates == 2 ? r->mate_windows : (size_t)-1);
	return 0;
}

static int on_record(void *ctx, const gf_infer_rec_t *r, char *err, size_t errlen)
{
	cls_t *s = ctx;
	double top;
	int reason;
	if (s->per_window) {
		char num[32];
		for (size_t w = 0; w < r->n_windows; w++) {
			snprintf(num, sizeof num, "%zu", w);
			print_row_head(s, r, num, r->win_beg[w], r->win_end[w]);
			print_prediction(s, (size_t)(r->win_end[w] - r->win_beg[w]), 0, -2, r->win_out + w * s->mf->n_classes,
			                 &top, &reason);
		}
	}
	print_row_head(s, r, "all", r->beg, r->beg + (int64_t)r->len);
	int cls = print_prediction(s, r->len, r->lowinfo, r->kx_call, r->out, &top, &reason);
	if (s->kfp && write_kraken(s, r, cls)) return rf_fail(err, errlen, "out of memory");
	uint32_t taxid = cls < 0 ? 0 : gf_taxa_id(&s->taxa, cls);
	gf_seqout_t *ro = s->reads[cls >= 0];
	for (int i = 0; i < r->n_mates; i++) {
		int mate = r->n_mates == 2 ? i : s->paired ? -1 : 0;
		if (ro && gf_seqout_write(ro, mate, r->mate_name[i], r->seq[i], r->qual[i], taxid, err, errlen)) return -1;
		if (s->bam && !r->aln[i])
			return rf_fail(err, errlen, "%s: record '%s' is not an alignment: --bam-out needs SAM/BAM/CRAM input",
			               r->path, r->mate_name[i]);
		if (s->bam && gf_bamout_write(s->bam, r->aln[i], cls < 0 ? "unclassified" : s->mf->classes[cls], (float)top,
		                              taxid, err, errlen))
			return -1;
	}
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
	"Classifies every record (one per read for FASTQ/SAM/BAM/CRAM; one per pair with --paired).\n"
	"Records longer than the model's window are cut into windows (no overlap) whose logits are\n"
	"averaged, weighted by real tokens.\n"
	"Output: TSV: a '#genoformer' line (version, model path, model_crc32: the model file's CRC32),\n"
	"then a header: id, length, predicted, probability, then each class's probability\n"
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
	"  novel            the model's k-mer index finds none of its classes in the record and the top\n"
	"                   probability is under the model's threshold for such records (info:\n"
	"                   openset.min_prob_novel_by_length; with --min-prob: below_threshold)\n"
	"A record whose exact 31-mers the index finds in one class is called by that evidence, from\n"
	"31 bp (--no-kmer-index: the Reformer alone). The first three reasons give probability 0 and\n"
	"class probabilities NA. Per-window rows (the Reformer's alone) only have background and\n"
	"below_threshold; the record's row has them all.\n\n",
	NULL,
};

static int parse_args(int argc, char *argv[], gf_infer_cli_t *c, cls_opts_t *o)
{
	gf_optuse_t use[N_USES];
	uses(c, o, use);
	int rc = gf_opts_parse(argc, argv, use, N_USES, &help);
	if (rc >= 0) return rc;
	if (gf_infer_cli_check(c, argc, optind)) return GF_EXIT_USAGE;
	o->kraken_report = o->report_format && !strcmp(o->report_format, "kraken");
	c->paired = o->paired;
	if (o->kraken_report && !o->report && !o->per_input) {
		gf_error("--report-format kraken needs --report FILE");
		return GF_EXIT_USAGE;
	}
	if (o->bam && (argc - optind != 1 || !strcmp(argv[optind], "-"))) {
		gf_error("--bam-out takes one SAM/BAM/CRAM input file (not stdin): its header is copied");
		return GF_EXIT_USAGE;
	}
	int n = argc - optind;
	if (c->paired && ((n > 1 && n % 2) || c->per_window || c->in.n_regions)) {
		gf_error("--paired takes one input (interleaved FASTQ/FASTA, or SAM/BAM/CRAM with mates by flags) or mate "
		         "files R1 R2 [R1 R2 ...]%s", c->per_window || c->in.n_regions ? ", without --per-window or -r" : "");
		return GF_EXIT_USAGE;
	}
	if (o->per_input && (c->out.path || o->report || o->kraken || o->reads[0] || o->reads[1] || o->bam ||
	                     c->shard_n > 1)) {
		gf_error("--per-input DIR names every output itself (SAMPLE.tsv, SAMPLE.report.tsv or SAMPLE.kreport, "
		         "SAMPLE.kraken): without -o, --report, --kraken-out, reads outputs, --bam-out or --shard");
		return GF_EXIT_USAGE;
	}
	c->keep_reads = o->bam ? 2 : o->reads[0] || o->reads[1] ? 1 : 0;
	return -1;
}

/* The model's class taxa, with --taxonomy's lineages; says once when some
 * class has no taxid and a Kraken format needs one. 0, or -1 (logged). */
static int load_taxa(cls_t *s, const cls_opts_t *o)
{
	char err[GF_ERRLEN];
	gf_tax_t *tax = NULL;
	if (o->taxonomy && !(tax = gf_tax_load(o->taxonomy, err, sizeof err))) {
		gf_error("%s", err);
		return -1;
	}
	int rc = gf_taxa_load(&s->taxa, &s->mf->meta, s->mf->n_classes, s->mf->classes, tax, err, sizeof err);
	gf_tax_free(tax);
	if (rc) {
		gf_error("%s: %s", o->taxonomy ? o->taxonomy : "the model", err);
		return -1;
	}
	for (int c = 0; (o->kraken || o->kraken_report) && c < s->taxa.n; c++)
		if (!s->taxa.c[c].taxid) {
			gf_warn("class '%s' has no taxid in the model: Kraken outputs give it taxid %u (train with "
			        "--class NAME:TAXID=FILE or a taxid column to set them)", s->mf->classes[c], gf_taxa_id(&s->taxa, c));
		}
	return 0;
}

/* Every output of the run: the table, --report, --kraken-out, the reads
 * by call and --bam-out. */
typedef struct {
	gf_out_t table, report, kraken;
	gf_seqout_t reads[2];
	int opened;         /* how many of the 6 were opened, in that order */
} outs_t;

/* Opens the outputs in order; on failure the ones opened are dropped. 0, or
 * -1 with a message. */
static int open_outputs(outs_t *u, cls_t *s, const cls_opts_t *o, const gf_infer_cli_t *c, const char *input,
                        char *err, size_t errlen)
{
	memset(u, 0, sizeof *u);
	int rc = gf_out_open(&u->table, c->out.path, err, errlen);
	if (rc == 0 && ++u->opened && o->report) rc = gf_out_open(&u->report, o->report, err, errlen);
	if (rc == 0 && ++u->opened && o->kraken) rc = gf_out_open(&u->kraken, o->kraken, err, errlen);
	for (int i = 0; i < 2; i++)
		if (rc == 0 && ++u->opened && o->reads[i])
			rc = gf_seqout_open(&u->reads[i], o->reads[i], c->paired, err, errlen);
	if (rc == 0 && ++u->opened && o->bam && !(s->bam = gf_bamout_open(o->bam, input, gf_log_cmdline(), err, errlen)))
		rc = -1;
	if (rc == 0) u->opened++;
	s->fp = u->table.fp;
	s->kfp = o->kraken ? u->kraken.fp : NULL;
	for (int i = 0; i < 2; i++) s->reads[i] = o->reads[i] ? &u->reads[i] : NULL;
	return rc;
}

/* Commits (ok) or drops every opened output; ok, or 0 when one failed
 * (logged). */
static int close_outputs(outs_t *u, cls_t *s, const cls_opts_t *o, int ok)
{
	char err[GF_ERRLEN];
	for (int i = 0; i < u->opened; i++) {
		int rc = 0;
		switch (i) {
		case 0: rc = gf_out_close(&u->table, ok, err, sizeof err); break;
		case 1: if (o->report) rc = gf_out_close(&u->report, ok, err, sizeof err); break;
		case 2: if (o->kraken) rc = gf_out_close(&u->kraken, ok, err, sizeof err); break;
		case 3: case 4: if (o->reads[i - 3]) rc = gf_seqout_close(&u->reads[i - 3], ok, err, sizeof err); break;
		case 5: if (s->bam) rc = gf_bamout_close(s->bam, ok, err, sizeof err); break;
		}
		if (rc) {
			gf_error("%s", err);
			ok = 0;
		}
	}
	s->bam = NULL;
	return ok;
}

/* Classifies and writes every output; the exit status. */
static int classify(gf_infer_cli_t *c, cls_t *s, const cls_opts_t *o, char *const *inputs, int n_inputs)
{
	char err[GF_ERRLEN];
	outs_t u;
	gf_infer_stats_t st;
	int ok = !open_outputs(&u, s, o, c, inputs[0], err, sizeof err) &&
	         !gf_provenance_write(s->fp, c->model_path, err, sizeof err);
	if (ok) {
		write_header(s);
		ok = !gf_infer_run(c, s->mf, 0, inputs, n_inputs, on_record, s, &st, err, sizeof err);
	}
	if (ok && o->report && o->kraken_report)
		ok = !gf_kraken_report(u.report.fp, &s->taxa, s->mf->classes, s->count, err, sizeof err);
	else if (ok && o->report)
		write_report(s, u.report.fp);
	if (!ok) gf_error("%s", err);
	if (!close_outputs(&u, s, o, ok) || !ok) return GF_EXIT_ERROR;
	gf_infer_log_stats(&st);
	char un[320] = "";
	if (s->count[s->mf->n_classes]) {
		int n = snprintf(un, sizeof un, ", %llu unclassified (", (unsigned long long)s->count[s->mf->n_classes]);
		for (int r = 1, first = 1; r < GF_OPENSET_N_REASONS; r++)
			if (s->reason[r]) {
				n += snprintf(un + n, sizeof un - n, "%s%s %llu", first ? "" : ", ", gf_openset_reason_name(r),
				              (unsigned long long)s->reason[r]);
				first = 0;
			}
		snprintf(un + n, sizeof un - n, ")");
	}
	gf_info("%d classes%s", s->mf->n_classes, un);
	return GF_EXIT_OK;
}

/* The sample name of inputs[i] and its three outputs in the --per-input
 * folder; -1 after a message. */
static int sample_paths(const cls_opts_t *o, char *const *inputs, int i, int step, char *name, size_t len,
                        char paths[3][4096])
{
	if (gf_sample_name(inputs[i], step == 2, name, len)) {
		gf_error("%s: no sample name in this file name for --per-input", inputs[i]);
		return -1;
	}
	snprintf(paths[0], sizeof paths[0], "%s/%s.tsv", o->per_input, name);
	snprintf(paths[1], sizeof paths[1], "%s/%s.%s", o->per_input, name, o->kraken_report ? "kreport" : "report.tsv");
	snprintf(paths[2], sizeof paths[2], "%s/%s.kraken", o->per_input, name);
	return 0;
}

/* --per-input: each input (pair of mate files) as its own sample, outputs
 * named after it in the folder and claimed, like named outputs, before any
 * work (an input or another sample's output there is refused); the exit
 * status. */
static int classify_samples(gf_infer_cli_t *c, cls_t *s, const cls_opts_t *o, char *const *inputs, int n_inputs)
{
	const int step = c->paired && n_inputs > 1 ? 2 : 1, C = s->mf->n_classes;
	char name[1024], paths[3][4096];
	int rc = GF_EXIT_OK;
	if (mkdir(o->per_input, 0777) && errno != EEXIST) {
		gf_error("%s: cannot create the --per-input folder: %s", o->per_input, strerror(errno));
		return GF_EXIT_ERROR;
	}
	for (int i = 0; i < n_inputs; i += step) {
		if (sample_paths(o, inputs, i, step, name, sizeof name, paths)) return GF_EXIT_ERROR;
		for (int j = 0; j < i; j += step) {
			char other[1024];
			if (!gf_sample_name(inputs[j], step == 2, other, sizeof other) && !strcmp(other, name)) {
				gf_error("--per-input: %s and %s are both sample '%s'", inputs[j], inputs[i], name);
				return GF_EXIT_ERROR;
			}
		}
		const char *outs[3] = { paths[0], paths[1], paths[2] };
		if (gf_files_claim(NULL, 0, outs, 3)) return GF_EXIT_ERROR;
	}
	for (int i = 0; rc == GF_EXIT_OK && i < n_inputs; i += step) {
		sample_paths(o, inputs, i, step, name, sizeof name, paths);
		cls_opts_t one = *o;
		one.report = paths[1];
		one.kraken = paths[2];
		c->out.path = paths[0];
		memset(s->count, 0, (C + 1) * sizeof *s->count);
		memset(s->psum, 0, (C + 1) * sizeof *s->psum);
		memset(s->reason, 0, sizeof s->reason);
		gf_info("sample %s: %s%s%s", name, inputs[i], step == 2 ? " " : "", step == 2 ? inputs[i + 1] : "");
		rc = classify(c, s, &one, inputs + i, step);
	}
	return rc;
}

int cmd_classify(int argc, char *argv[])
{
	gf_infer_cli_t c;
	cls_t s = { 0 };
	cls_opts_t o = { .rank_conf = GF_LINEAGE_CUTOFF };
	if (gf_infer_cli_init(&c, argc)) return GF_EXIT_ERROR;
	int rc = parse_args(argc, argv, &c, &o);
	s.per_window = c.per_window;
	s.paired = c.paired;
	s.min_prob = gf_infer_min_prob(&c);
	s.shard_i = c.shard_i;
	s.shard_n = c.shard_n;
	/* the outputs named on the command line (--per-input's are made up in its folder) */
	const char *named[] = { c.out.path, o.report, o.kraken, o.reads[0], o.reads[1], o.bam }, *outs[6];
	int n_outs = 0;
	for (int i = 0; i < 6; i++)
		if (named[i] || i == 0) outs[n_outs++] = named[i];
	if (rc < 0 && gf_infer_claim(&c, (const char *const *)argv + optind, argc - optind, outs, n_outs))
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
		if (!s.probs || !s.count || !s.psum) gf_error("out of memory");
		else if (!load_taxa(&s, &o))
			rc = (o.per_input ? classify_samples : classify)(&c, &s, &o, argv + optind, argc - optind);
		if (rc == GF_EXIT_OK) gf_log_summary();
	}
	if (rc < 0) rc = GF_EXIT_ERROR;
	free(s.probs);
	free(s.count);
	free(s.psum);
	free(s.win_taxid);
	free(s.win_kmers);
	gf_taxa_free(&s.taxa);
	gf_lineage_free(s.lin);
	if (mf) gf_modelfile_free(mf);
	gf_infer_cli_free(&c);
	return rc;
}
