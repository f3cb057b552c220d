/* The data of a training run: every input's records into the dataset,
 * labelled, with the validation split; see train_run.h. */
#include "src/common.h"
#include "src/log.h"
#include "src/markers.h"
#include "src/train_run.h"

/* Adds every record of path in role; classify records take their class
 * from lab (mapped to the training labels' ids when lab is --val-labels). */
static int load_file(gf_training_t *r, const char *path, gf_labels_t *lab, int role)
{
	char err[GF_ERRLEN];
	gf_reader_t *rd = gf_seqio_open(path, &r->o->in.io, err, sizeof err);
	if (!rd) {
		gf_error("%s", err);
		return -1;
	}
	gf_record_t rec;
	int ret, rc = 0;
	gf_record_init(&rec);
	while (rc == 0 && (ret = gf_seqio_read(rd, &rec, err, sizeof err)) > 0) {
		int cls = -1;
		if (lab && (cls = gf_labels_lookup(lab, path, rec.name)) < 0) {
			gf_error("%s: record '%s' has no label%s", path, rec.name,
			         role == GF_DS_VAL && !r->o->val_labels ? " (give --val-labels)" : "");
			rc = -1;
			break;
		}
		if (lab && lab != r->o->labels) cls = gf_labels_class_id(r->o->labels, gf_labels_class_name(lab, cls));
		if (gf_dataset_add(&r->ds, rec.name, rec.seq, rec.len, cls, role, r->o->val_frac)) {
			gf_error("out of memory holding %s", path);
			rc = -1;
		}
	}
	if (rc == 0 && ret < 0) {
		gf_error("%s", err);
		rc = -1;
	}
	gf_record_free(&rec);
	gf_seqio_close(rd);
	return rc;
}

/* Every --val-labels class must be a training class. */
static int check_val_classes(const gf_train_opts_t *o)
{
	for (int c = 0; o->val_labels && c < gf_labels_n_classes(o->val_labels); c++)
		if (gf_labels_class_id(o->labels, gf_labels_class_name(o->val_labels, c)) < 0) {
			gf_error("--val-labels: class '%s' is not among the training classes",
			         gf_labels_class_name(o->val_labels, c));
			return -1;
		}
	return 0;
}

int gf_training_data(gf_training_t *r)
{
	char err[GF_ERRLEN], b1[32], b2[32];
	gf_train_opts_t *o = r->o;
	int sep = o->n_val_inputs > 0;
	gf_labels_t *vlab = o->val_labels ? o->val_labels : o->labels;
	gf_dataset_init(&r->ds, r->mf->k, r->mf->stride, r->mf->window, r->mf->n_classes);
	if (o->task == GF_TASK_CLASSIFY && check_val_classes(o)) return -1;
	for (int i = 0; i < o->n_inputs; i++)
		if (load_file(r, o->inputs[i], o->labels, sep ? GF_DS_TRAIN : GF_DS_SPLIT)) return -1;
	for (int i = 0; i < o->n_val_inputs; i++)
		if (load_file(r, o->val_inputs[i], vlab, GF_DS_VAL)) return -1;
	if (o->labels && !o->in.io.n_regions && gf_labels_check_used(o->labels, err, sizeof err)) {
		gf_error("%s", err);
		return -1;
	}
	if (!sep && r->mk && r->mk->record_split)
		gf_debug("%zu records held out for validation", gf_mk_split_records(&r->ds, o->val_frac, o->optim.seed));
	char warn[GF_ERRLEN];
	if (gf_dataset_finish(&r->ds, o->balance, (size_t)o->val_windows, err, sizeof err) ||
	    gf_dataset_check(&r->ds, r->mf->n_classes ? (const char *const *)r->mf->classes : NULL, err, sizeof err, warn,
	                     sizeof warn)) {
		gf_error("%s", err);
		return -1;
	}
	if (*warn) gf_warn("%s", warn);
	gf_info("%zu records: %s training, %s validation (%zu windows of %d tokens), %d classes", r->ds.n,
	        gf_fmt_si((double)r->ds.train_bases, "bp", b1, sizeof b1),
	        gf_fmt_si((double)r->ds.val_bases, "bp", b2, sizeof b2), r->ds.n_val, r->mf->window, r->mf->n_classes);
	return 0;
}
