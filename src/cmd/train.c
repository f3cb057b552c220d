/* genoformer train: a supervised classifier of sequences from labelled
 * genomes (TSV labels or one class per file); the training is src/trainer. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cmd/commands.h"
#include "src/log.h"
#include "src/openset.h"
#include "src/opts.h"
#include "src/trainer.h"

/* Adds --labels, --val-labels or --class; the file of --class is also an
 * input. */
static int add_labels(void *ctx, const gf_opt_t *opt, const char *arg)
{
	char err[GF_ERRLEN];
	gf_train_opts_t *o = ctx;
	int is_class = !strcmp(opt->name, "class");
	gf_labels_t **lab = !strcmp(opt->name, "val-labels") ? &o->val_labels : &o->labels;
	if (!*lab && !(*lab = gf_labels_new())) {
		gf_error("out of memory");
		return GF_EXIT_ERROR;
	}
	if ((is_class ? gf_labels_add_file : gf_labels_read_tsv)(*lab, arg, err, sizeof err)) {
		gf_error("%s", err);
		return is_class ? GF_EXIT_USAGE : GF_EXIT_ERROR;
	}
	if (is_class) o->inputs[o->n_inputs++] = strchr(arg, '=') + 1;
	return 0;
}

static const gf_opt_t label_opts[] = {
	{ 0, "labels", GF_OPT_CALL, .call = add_labels, .arg = "TSV",
	  .help = "record_id<TAB>class[<TAB>taxid] per line; every record of IN needs one;\n"
	          "the optional NCBI taxid (562, or 561:genus with a rank) goes into the\n"
	          "model for Kraken-style outputs (repeatable)" },
	{ 0, "class", GF_OPT_CALL, .call = add_labels, .arg = "NAME[:TAXID[:RANK]]=FILE",
	  .help = "every record of FILE has class NAME (taxid as\n"
	          "above); FILE is an input (repeatable)" },
	{ 0, "taxonomy", GF_OPT_STR, offsetof(gf_train_opts_t, taxonomy), .arg = "DIR", .dflt = "rank species",
	  .help = "NCBI nodes.dmp and names.dmp (a Kraken 2 database's taxonomy/): each\n"
	          "class's lineage and rank are stored in the model" },
	{ 0, "val-labels", GF_OPT_CALL, .call = add_labels, .arg = "TSV", .help = "labels of the --val records",
	  .dflt = "--labels" },
	{ 0, "balance", GF_OPT_SET, offsetof(gf_train_opts_t, balance), .help = "draw classes equally often",
	  .dflt = "records by length" },
	{ 0, "init", GF_OPT_STR, offsetof(gf_train_opts_t, init), .arg = "FILE", .dflt = "none",
	  .help = "start from a pretrained model (genoformer pretrain): same tokenizer\n"
	          "and architecture, every body tensor copied, new classifier head" },
	{ 0, "init-partial", GF_OPT_SET, offsetof(gf_train_opts_t, init_partial), .dflt = "refused",
	  .help = "with --init of another architecture: copy the tensors whose name and\n"
	          "shape match, the others start new" },
};
static const gf_optgroup_t label_group = GF_GROUP("Labels", label_opts, gf_train_opts_t);

/* --background FILE: FILE is an input whose records are the background class. */
static int add_background(void *ctx, const gf_opt_t *opt, const char *path)
{
	gf_train_opts_t *o = ctx;
	static const gf_opt_t as_class = { .name = "class", .kind = GF_OPT_CALL };
	char *spec = malloc(strlen(path) + sizeof GF_OPENSET_BACKGROUND_CLASS + 1);
	(void)opt;
	if (!spec) {
		gf_error("out of memory");
		return GF_EXIT_ERROR;
	}
	sprintf(spec, "%s=%s", GF_OPENSET_BACKGROUND_CLASS, path);
	int rc = add_labels(o, &as_class, spec);
	if (rc == 0) o->inputs[o->n_inputs - 1] = path;
	free(spec);
	o->background = 1;
	return rc;
}

static int check_kmer_index(void *ctx, const gf_opt_t *opt, const char *arg)
{
	(void)ctx;
	(void)opt;
	if (!strcmp(arg, "on") || !strcmp(arg, "off") || !strcmp(arg, "auto")) return 0;
	gf_error("--kmer-index expects on, off or auto, got '%s'", arg);
	return GF_EXIT_USAGE;
}

#define TO(f) offsetof(gf_train_opts_t, f)
static const gf_opt_t openset_opts[] = {
	{ 0, "background", GF_OPT_CALL, .call = add_background, .arg = "FILE", .dflt = "none",
	  .help = "sequence from outside the classes (other genomes, phages, plasmids...):\n"
	          "its records are the class 'background', which classify reports as\n"
	          "'unclassified' (reason background) (repeatable)" },
	{ 0, "crop-frac", GF_OPT_DOUBLE, TO(crop_frac), 0, 1, "F",
	  "fraction of training windows cut to a random length, log-uniform from\n"
	  "--crop-min bases to the window, so short reads are seen in training", .dflt = NULL },
	{ 0, "crop-min", GF_OPT_INT, TO(crop_min), 1, 1 << 30, "INT",
	  "shortest crop in bases; also the model's shortest length: classify calls\n"
	  "shorter records 'unclassified' (too_short)", .dflt = NULL },
	{ 0, "kmer-index", GF_OPT_STR, TO(kmer_index), .arg = "STR", .call = check_kmer_index, .dflt = "auto",
	  .help = "on, off or auto: at the end, the index of the training sequences'\n"
	          "31-mer minimizers (genoformer index -h), whose exact hits classify adds\n"
	          "to the Reformer's evidence; auto: on unless the records are short\n"
	          "(marker genes, whose test species share few 31-mers with the training ones)" },
	{ 0, "target-precision", GF_OPT_DOUBLE, TO(target_precision), 0, 1, "F",
	  "at the end, the thresholds on the top class probability (one per length:\n"
	  "100, 150, 300, 500, 1000 bp, the window) are the lowest at which the\n"
	  "validation windows cut to that length are called right this often;\n"
	  "stored in the model, applied by classify; 0: none", .dflt = NULL },
};
static const gf_optgroup_t openset_group = GF_GROUP("Open set (what classify calls 'unclassified')", openset_opts,
                                                    gf_train_opts_t);

enum { N_USES = GF_TRAIN_USES + 3 };

static void uses(gf_train_opts_t *o, gf_optuse_t *use)
{
	use[0] = (gf_optuse_t){ .g = &label_group, .ctx = o };
	use[1] = (gf_optuse_t){ .g = &openset_group, .ctx = o };
	gf_train_uses(o, use + 2);
	use[N_USES - 1] = (gf_optuse_t){ .g = &gf_group_verbosity };
}

static const gf_cmdhelp_t help = {
	"Usage: genoformer train -o MODEL.gfm (--labels TSV IN... | --class NAME=FILE...) [options]\n"
	"Trains a classifier of sequences: windows of the inputs (FASTA/FASTQ, plain or gzip, SAM/BAM/CRAM)\n"
	"sampled at random positions, labelled with their record's class. With short records (median\n"
	"up to 20 kbp: marker genes, amplicons) the options left out are set from the data and printed\n"
	"('settings from the data'), whole records validate, and a k-mer head is added (README).\n\n",
	gf_train_exit_status,
};

/* Parses argv into o; returns -1 to continue, or the exit status. */
static int parse_args(int argc, char *argv[], gf_train_opts_t *o)
{
	gf_optuse_t use[N_USES];
	uses(o, use);
	int rc = gf_opts_parse(argc, argv, use, N_USES, &help);
	if (rc >= 0) return rc;
	if (gf_train_check_opts(o, argc, argv)) return GF_EXIT_USAGE;
	if (!o->labels) {
		gf_error("no labels: give --labels TSV or --class NAME=FILE");
		return GF_EXIT_USAGE;
	}
	if (gf_labels_n_classes(o->labels) < 2) {
		gf_error("the labels name %d class; a classifier needs at least 2", gf_labels_n_classes(o->labels));
		return GF_EXIT_USAGE;
	}
	if (o->val_labels && !o->n_val_inputs) {
		gf_error("--val-labels needs --val FILE");
		return GF_EXIT_USAGE;
	}
	return -1;
}

int cmd_train(int argc, char *argv[])
{
	gf_train_opts_t o;
	if (gf_train_opts_init(&o, GF_TASK_CLASSIFY, argc, argv)) {
		gf_error("out of memory");
		return GF_EXIT_ERROR;
	}
	int rc = parse_args(argc, argv, &o);
	if (rc < 0) rc = gf_train_run(&o);
	gf_train_opts_free(&o);
	return rc;
}
