/* genoformer train: a supervised classifier of sequences from labelled
 * genomes (TSV labels or one class per file); the loop is src/trainer. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cmd/commands.h"
#include "src/log.h"
#include "src/openset.h"
#include "src/opts.h"
#include "src/trainer.h"

enum { O_LABELS = 400, O_CLASS, O_VAL_LABELS, O_BALANCE, O_INIT, O_BACKGROUND, O_CROP_FRAC, O_CROP_MIN, O_TARGET };

static void usage(FILE *fp)
{
	fprintf(fp,
	        "Usage: genoformer train -o MODEL.gfm (--labels TSV IN... | --class NAME=FILE...) [options]\n"
	        "Trains a classifier of sequences: windows of the inputs (FASTA/FASTQ, plain or gzip, SAM/BAM/CRAM)\n"
	        "sampled at random positions, labelled with their record's class.\n\n"
	        "Labels:\n"
	        "      --labels TSV     record_id<TAB>class per line; every record of IN needs one (repeatable)\n"
	        "      --class NAME=FILE  every record of FILE has class NAME; FILE is an input (repeatable)\n"
	        "      --val-labels TSV labels of the --val records [--labels]\n"
	        "      --balance        draw classes equally often [records by length]\n"
	        "      --init FILE      start from a pretrained model (genoformer pretrain): same tokenizer,\n"
	        "                       matching tensors copied, new classifier head [none]\n"
	        "Open set (what classify calls 'unclassified'):\n"
	        "      --background FILE  sequence from outside the classes (other genomes, phages, plasmids...):\n"
	        "                       its records are the class '%s', which classify reports as\n"
	        "                       'unclassified' (reason background) (repeatable) [none]\n"
	        "      --crop-frac F    fraction of training windows cut to a random length, log-uniform from\n"
	        "                       --crop-min bases to the window, so short reads are seen in training [%g]\n"
	        "      --crop-min INT   shortest crop in bases; also the model's shortest length: classify calls\n"
	        "                       shorter records 'unclassified' (too_short) [%d]\n"
	        "      --target-precision F  at the end, the threshold on the top class probability is the lowest\n"
	        "                       at which the validation windows (also cut to 100..1000 bp) are called\n"
	        "                       right this often; stored in the model, applied by classify [%g]\n",
	        GF_OPENSET_BACKGROUND_CLASS, GF_TRAIN_CROP_FRAC, GF_OPENSET_MIN_LEN, GF_TRAIN_TARGET_PRECISION);
	gf_train_usage_common(fp, GF_TASK_CLASSIFY);
}

/* The common options followed by the command's own. */
static struct option *all_options(const struct option *own, int n_own)
{
	int n = 0;
	while (gf_train_longopts[n].name) n++;
	struct option *all = calloc(n + n_own + 1, sizeof *all);
	if (!all) return NULL;
	memcpy(all, gf_train_longopts, n * sizeof *all);
	memcpy(all + n, own, n_own * sizeof *all);
	return all;
}

/* Adds --labels or --class; the file of --class is also an input. */
static int add_labels(gf_train_opts_t *o, int c, const char *arg)
{
	char err[GF_ERRLEN];
	gf_labels_t **lab = c == O_VAL_LABELS ? &o->val_labels : &o->labels;
	if (!*lab && !(*lab = gf_labels_new())) {
		gf_error("out of memory");
		return GF_EXIT_ERROR;
	}
	if ((c == O_CLASS ? gf_labels_add_file : gf_labels_read_tsv)(*lab, arg, err, sizeof err)) {
		gf_error("%s", err);
		return c == O_CLASS ? GF_EXIT_USAGE : GF_EXIT_ERROR;
	}
	if (c == O_CLASS) o->inputs[o->n_inputs++] = strchr(arg, '=') + 1;
	return -1;
}

/* --background FILE: FILE is an input whose records are the background class. */
static int add_background(gf_train_opts_t *o, const char *path)
{
	char *spec = malloc(strlen(path) + sizeof GF_OPENSET_BACKGROUND_CLASS + 1);
	if (!spec) {
		gf_error("out of memory");
		return GF_EXIT_ERROR;
	}
	sprintf(spec, "%s=%s", GF_OPENSET_BACKGROUND_CLASS, path);
	int rc = add_labels(o, O_CLASS, spec);
	if (rc < 0) o->inputs[o->n_inputs - 1] = path;
	free(spec);
	o->background = 1;
	return rc;
}

/* Parses argv into o; returns -1 to continue, or the exit status. */
static int parse_args(int argc, char *argv[], gf_train_opts_t *o)
{
	static const struct option own[] = {
		{ "labels", required_argument, 0, O_LABELS }, { "class", required_argument, 0, O_CLASS },
		{ "val-labels", required_argument, 0, O_VAL_LABELS }, { "balance", no_argument, 0, O_BALANCE },
		{ "init", required_argument, 0, O_INIT }, { "background", required_argument, 0, O_BACKGROUND },
		{ "crop-frac", required_argument, 0, O_CROP_FRAC }, { "crop-min", required_argument, 0, O_CROP_MIN },
		{ "target-precision", required_argument, 0, O_TARGET },
	};
	struct option *longopts = all_options(own, sizeof own / sizeof *own);
	int c, rc = -1;
	if (!longopts) return GF_EXIT_ERROR;
	while (rc < 0 && (c = gf_getopt(argc, argv, GF_TRAIN_SHORTOPTS, longopts)) >= 0) {
		int r = gf_train_option(o, c, optarg);
		if (r < 0) rc = GF_EXIT_USAGE;
		if (r != 1) continue;
		switch (c) {
		case 'h': usage(stdout); rc = GF_EXIT_OK; break;
		case O_LABELS: case O_CLASS: case O_VAL_LABELS: rc = add_labels(o, c, optarg); break;
		case O_BALANCE: o->balance = 1; break;
		case O_INIT: o->init = optarg; break;
		case O_BACKGROUND: rc = add_background(o, optarg); break;
		case O_CROP_FRAC: rc = gf_parse_double("--crop-frac", optarg, 0, 1, &o->crop_frac) ? GF_EXIT_USAGE : -1; break;
		case O_CROP_MIN: rc = gf_parse_int("--crop-min", optarg, 1, 1 << 30, &o->crop_min) ? GF_EXIT_USAGE : -1; break;
		case O_TARGET:
			rc = gf_parse_double("--target-precision", optarg, 0, 1, &o->target_precision) ? GF_EXIT_USAGE : -1;
			break;
		default: rc = GF_EXIT_USAGE;
		}
	}
	free(longopts);
	if (rc >= 0) return rc;
	for (int i = optind; i < argc; i++) o->inputs[o->n_inputs++] = argv[i];
	if (gf_train_check_opts(o)) return GF_EXIT_USAGE;
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
