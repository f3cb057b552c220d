/* Issue-10 hybrid experiment (scripts/bench/species-hybrid.sh): copies the
 * k-mer head (metadata "kmerhead", src/kmerhead.h) of HEAD.gfm into BASE.gfm
 * with the Reformer's weight LAMBDA, written to OUT.gfm; BASE's weights,
 * classes and open-set thresholds stay. Usage: kh_graft BASE HEAD LAMBDA OUT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "src/kmerhead.h"
#include "src/modelfile.h"
#include "model/backend.h"
#include "model/checkpoint.h"
int main(int argc, char **argv)
{
	char err[512];
	if (argc != 5) return fprintf(stderr, "usage: kh_graft BASE HEAD LAMBDA OUT\n"), 2;
	gf_modelfile_t *b = gf_modelfile_load(argv[1], rf_backend_cpu(), err, sizeof err), *h = b ? gf_modelfile_load(argv[2], rf_backend_cpu(), err, sizeof err) : NULL;
	if (!h) return fprintf(stderr, "%s\n", err), 1;
	const char *t = rf_ckpt_meta_get(&h->meta, GF_KH_META);
	gf_kh_t *kh = t ? gf_kh_parse(t, b->n_classes, err, sizeof err) : NULL;
	if (!kh) return fprintf(stderr, "no head: %s\n", t ? err : "none"), 1;
	kh->lambda = (float)atof(argv[3]);
	char *s = gf_kh_format(kh);
	const char *st = rf_ckpt_meta_get(&b->meta, "train.steps");
	if (!s || rf_ckpt_meta_set(&b->meta, GF_KH_META, s, err, sizeof err) ||
	    gf_modelfile_save(argv[4], b, NULL, st ? strtoull(st, NULL, 10) : 0, 1, err, sizeof err))
		return fprintf(stderr, "%s\n", err), 1;
	return 0;
}
