/* genoformer index: (re)builds a classifier's exact k-mer index
 * (src/kmerindex.h) from reference sequences of its classes, without
 * training: new strains of a class, or a model trained before the index
 * existed. train builds the same index at its end. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genomics/labels.h"
#include "genomics/seqio.h"
#include "model/backend.h"
#include "src/cmd/commands.h"
#include "src/common.h"
#include "src/files.h"
#include "src/dataset.h"
#include "src/kmerindex.h"
#include "src/log.h"
#include "src/modelfile.h"
#include "src/openset.h"
#include "src/optgroups.h"
#include "src/opts.h"

typedef struct {
	uint64_t given;
	const char *model, *out;
	gf_labels_t *labels;
	const char **inputs;      /* room for argc: --class and --background files, then operands */
	int n_inputs;
} index_opts_t;

/* --class NAME=FILE, --background FILE (class "background"), --labels TSV. */
static int add_labels(void *ctx, const gf_opt_t *opt, const char *arg)
{
	index_opts_t *o = ctx;
	char err[GF_ERRLEN], *spec = NULL;
	int bg = !strcmp(opt->name, "background"), tsv = !strcmp(opt->name, "labels");
	if (!o->labels && !(o->labels = gf_labels_new())) return gf_error("out of memory"), GF_EXIT_ERROR;
	if (bg && (spec = malloc(strlen(arg) + sizeof GF_OPENSET_BACKGROUND_CLASS + 1)))
		sprintf(spec, "%s=%s", GF_OPENSET_BACKGROUND_CLASS, arg);
	if (bg && !spec) return gf_error("out of memory"), GF_EXIT_ERROR;
	int rc = (tsv ? gf_labels_read_tsv : gf_labels_add_file)(o->labels, bg ? spec : arg, err, sizeof err);
	free(spec);
	if (rc) {
		gf_error("%s", err);
		return tsv ? GF_EXIT_ERROR : GF_EXIT_USAGE;
	}
	if (!tsv) o->inputs[o->n_inputs++] = bg ? arg : strchr(arg, '=') + 1;
	return 0;
}

static const gf_opt_t index_opts[] = {
	{ 'm', "model", GF_OPT_STR, offsetof(index_opts_t, model), .arg = "FILE", .dflt = "required",
	  .help = "the classifier (.gfm) the index is for; its classes name the sequences" },
	{ 'o', "output", GF_OPT_STR, offsetof(index_opts_t, out), .arg = "FILE", .dflt = "required",
	  .help = "the model with the new index, written atomically (not MODEL itself)" },
	{ 0, "class", GF_OPT_CALL, .call = add_labels, .arg = "NAME=FILE", .dflt = "none",
	  .help = "every record of FILE belongs to the model's class NAME; repeatable" },
	{ 0, "background", GF_OPT_CALL, .call = add_labels, .arg = "FILE", .dflt = "none",
	  .help = "FILE is sequence of the model's background class (train --background)" },
	{ 0, "labels", GF_OPT_CALL, .call = add_labels, .arg = "TSV", .dflt = "none",
	  .help = "record_id<TAB>class per line, for the IN operands" },
};
static const gf_optgroup_t index_group = GF_GROUP("Index", index_opts, index_opts_t);

static const gf_cmdhelp_t help = {
	"Usage: genoformer index -m MODEL.gfm -o OUT.gfm [--class NAME=FILE]... [--background FILE]\n"
	"                        [--labels TSV IN...]\n"
	"Builds the model's exact k-mer index from the given sequences and writes the model with it\n"
	"(weights, classes and thresholds unchanged; an index already there is replaced, so give every\n"
	"class's sequences). The index stores the minimizers (k = 31, windows of 12 k-mers) of each\n"
	"class's sequences; classify adds their evidence to the Reformer's where a record shares at\n"
	"least 2 of them (and 1/20 of what an identical record would) with one class only, and\n"
	"leaves the Reformer alone where it shares none.\n"
	"train builds it by default (--kmer-index), and then also chooses thresholds for records the\n"
	"index finds nothing in ('novel'); a model indexed here without them applies its thresholds\n"
	"to those records. classify --no-kmer-index leaves the index out.\n\n",
	NULL,
};

/* Every record of path into ds, with its class among the model's. */
static int read_input(const char *path, gf_labels_t *lab, const gf_modelfile_t *mf, const gf_seqio_opts_t *io,
                      gf_dataset_t *ds)
{
	char err[GF_ERRLEN];
	gf_reader_t *rd = gf_seqio_open(path, io, err, sizeof err);
	if (!rd) return gf_error("%s", err), -1;
	gf_record_t rec;
	gf_record_init(&rec);
	int ret, rc = 0;
	while (rc == 0 && (ret = gf_seqio_read(rd, &rec, err, sizeof err)) > 0) {
		int l = lab ? gf_labels_lookup(lab, path, rec.name) : -1;
		const char *name = l >= 0 ? gf_labels_class_name(lab, l) : NULL;
		int cls = -1;
		for (int c = 0; name && c < mf->n_classes; c++)
			if (!strcmp(mf->classes[c], name)) cls = c;
		if (!name)
			rc = -1, gf_error("%s: record '%s' has no class (give --class, --background or --labels)", path, rec.name);
		else if (cls < 0)
			rc = -1, gf_error("%s: record '%s': class '%s' is not one of the model's (genoformer info)", path,
			                  rec.name, name);
		else if (gf_dataset_add(ds, rec.name, rec.seq, rec.len, cls, GF_DS_TRAIN, 0))
			rc = -1, gf_error("out of memory holding %s", path);
	}
	if (rc == 0 && ret < 0) rc = -1, gf_error("%s", err);
	gf_record_free(&rec);
	gf_seqio_close(rd);
	return rc;
}

/* Stores the index of ds in mf's metadata and logs its summary. 0 or -1. */
static int store(gf_modelfile_t *mf, const gf_dataset_t *ds)
{
	char msg[GF_ERRLEN];
	double t0 = gf_wall_seconds();
	gf_openset_t os;
	if (gf_openset_load(&os, mf, msg, sizeof msg)) return gf_error("%s", msg), -1;
	gf_kx_t *kx = gf_kx_of_dataset(ds, os.background, 0);
	int rc = kx ? gf_kx_store(&mf->meta, kx, msg, sizeof msg) : (snprintf(msg, sizeof msg, "out of memory"), -1);
	gf_kx_free(kx);
	if (rc) return gf_error("%s", msg), -1;
	gf_info("k-mer index of %zu records %s, %.1f s", ds->n, msg, gf_wall_seconds() - t0);
	return 0;
}

int cmd_index(int argc, char *argv[])
{
	index_opts_t o = { 0 };
	gf_input_opts_t in;
	if (gf_input_init(&in, argc) || !(o.inputs = calloc((size_t)argc + 1, sizeof *o.inputs))) {
		gf_error("out of memory");
		return GF_EXIT_ERROR;
	}
	gf_optuse_t use[3] = { { .g = &index_group, .ctx = &o }, { .g = &gf_group_input, .ctx = &in },
		                   { .g = &gf_group_verbosity } };
	int rc = gf_opts_parse(argc, argv, use, 3, &help);
	gf_modelfile_t *mf = NULL;
	gf_dataset_t ds = { 0 };
	char err[GF_ERRLEN];
	if (rc < 0) {
		rc = GF_EXIT_USAGE;
		if (!o.model || !o.out) gf_error("%s is required (genoformer index -h for help)", o.model ? "-o" : "-m");
		else if (!o.n_inputs && optind >= argc) gf_error("no sequences: give --class, --background or --labels with inputs");
		else if (optind < argc && !o.labels) gf_error("inputs %s... need --labels", argv[optind]);
		else rc = -1;
	}
	if (rc == -1) {
		gf_input_finish(&in);
		while (optind < argc) o.inputs[o.n_inputs++] = argv[optind++];
		const char *const outs[1] = { o.out }, *const model[1] = { o.model };
		if (gf_files_claim(model, 1, NULL, 0) || gf_files_claim(o.inputs, o.n_inputs, outs, 1)) rc = GF_EXIT_ERROR;
	}
	if (rc == -1 && !(mf = gf_modelfile_load(o.model, rf_backend_cpu(), err, sizeof err))) {
		gf_error("%s", err);
		rc = GF_EXIT_ERROR;
	}
	if (rc == -1) gf_dataset_init(&ds, mf->k, mf->stride, mf->window, mf->n_classes);
	if (rc == -1 && mf->n_classes < 2) {
		gf_error("%s: not a classifier; the k-mer index names classes", o.model);
		rc = GF_EXIT_USAGE;
	}
	for (int i = 0; rc == -1 && i < o.n_inputs; i++)
		if (read_input(o.inputs[i], o.labels, mf, &in.io, &ds)) rc = GF_EXIT_ERROR;
	if (rc == -1 && store(mf, &ds)) rc = GF_EXIT_ERROR;
	if (rc == -1) gf_modelfile_stamp(mf, argc, argv, "index.cmdline", "index.at");
	if (rc == -1) {
		const char *st = rf_ckpt_meta_get(&mf->meta, "train.steps");
		rc = gf_modelfile_save(o.out, mf, NULL, st ? strtoull(st, NULL, 10) : 0, 1, err, sizeof err)
		         ? (gf_error("%s", err), GF_EXIT_ERROR)
		         : GF_EXIT_OK;
	}
	gf_dataset_free(&ds);
	if (mf) gf_modelfile_free(mf);
	gf_labels_free(o.labels);
	gf_input_free(&in);
	free(o.inputs);
	return rc;
}
