/* genoformer train: a supervised classifier of sequences from labelled
 * genomes (TSV labels or one class per file); the loop is src/trainer. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cmd/commands.h"
#include "src/log.h"
#include "src/opts.h"
#include "src/trainer.h"

enum { O_LABELS = 400, O_CLASS, O_VAL_LABELS, O_BALANCE, O_INIT, O_TAXONOMY };

static void usage(FILE *fp)
{
	fprintf(fp,
	        "Usage: genoformer train -o MODEL.gfm (--labels TSV IN... | --class NAME=FILE...) [options]\n"
	        "Trains a classifier of sequences: windows of the inputs (FASTA/FASTQ, plain or gzip, SAM/BAM/CRAM)\n"
	        "sampled at random positions, labelled with their record's class.\n\n"
	        "Labels:\n"
	        "      --labels TSV     record_id<TAB>class[<TAB>taxid] per line; every record of IN needs one;\n"
	        "                       the optional NCBI taxid (562, or 561:genus with a rank) goes into the\n"
	        "                       model for Kraken-style outputs (repeatable)\n"
	        "      --class NAME[:TAXID[:RANK]]=FILE  every record of FILE has class NAME (taxid as above);\n"
	        "                       FILE is an input (repeatable)\n"
	        "      --taxonomy DIR   NCBI nodes.dmp and names.dmp (a Kraken 2 database's taxonomy/): each\n"
	        "                       class's lineage and rank are stored in the model [rank species]\n"
	        "      --val-labels TSV labels of the --val records [--labels]\n"
	        "      --balance        draw classes equally often [records by length]\n"
	        "      --init FILE      start from a pretrained model (genoformer pretrain): same tokenizer,\n"
	        "                       matching tensors copied, new classifier head [none]\n");
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

/* Parses argv into o; returns -1 to continue, or the exit status. */
static int parse_args(int argc, char *argv[], gf_train_opts_t *o)
{
	static const struct option own[] = {
		{ "labels", required_argument, 0, O_LABELS }, { "class", required_argument, 0, O_CLASS },
		{ "val-labels", required_argument, 0, O_VAL_LABELS }, { "balance", no_argument, 0, O_BALANCE },
		{ "init", required_argument, 0, O_INIT }, { "taxonomy", required_argument, 0, O_TAXONOMY },
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
		case O_TAXONOMY: o->taxonomy = optarg; break;
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
