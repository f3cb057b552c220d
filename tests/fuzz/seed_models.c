/* Writes the seed corpus of fuzz_ckpt: small real model files written by
 * the code itself (a classifier, a masked-LM model, a training checkpoint),
 * each prefixed by the harness's mode byte. Usage: seed_models DIR
 * (`make fuzz-seeds` runs it into tests/fuzz/corpus/ckpt). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/checkpoint.h"
#include "src/modelfile.h"

/* k = 1: vocabulary of 9; two layers (LOCAL, LSH) of width 4. */
static void tiny_config(rf_config_t *c, int n_classes, int mlm)
{
	char err[256];
	rf_config_default(c);
	c->vocab = 9;
	c->d_model = 4;
	c->n_heads = 1;
	c->d_ff = 4;
	c->n_layers = 2;
	c->n_hashes = 1;
	c->chunk_len = 4;
	c->ff_chunk = 0;
	c->axial1 = 4;
	c->axial2 = 4;
	c->axial_d1 = 2;
	c->n_classes = n_classes;
	c->mlm = mlm;
	if (rf_config_set_layers(c, "local,lsh", err, sizeof err)) {
		fprintf(stderr, "seed_models: %s\n", err);
		exit(1);
	}
}

/* Saves the model to DIR/NAME.gfm.tmp, then DIR/NAME with the mode byte first. */
static void save(const char *dir, const char *name, int mode, const gf_modelfile_t *mf, const rf_optim_t *opt)
{
	char tmp[512], out[512], err[1024];
	snprintf(tmp, sizeof tmp, "%s/%s.gfm.tmp", dir, name);
	snprintf(out, sizeof out, "%s/%s", dir, name);
	if (gf_modelfile_save(tmp, mf, opt, 7, 42, err, sizeof err)) {
		fprintf(stderr, "seed_models: %s\n", err);
		exit(1);
	}
	FILE *in = fopen(tmp, "rb"), *o = fopen(out, "wb");
	int c;
	if (!in || !o) exit(1);
	fputc(mode, o);
	while ((c = fgetc(in)) != EOF) fputc(c, o);
	fclose(in);
	if (fclose(o)) exit(1);
	remove(tmp);
}

static gf_modelfile_t *tiny_model(int n_classes, int mlm)
{
	static const char *const classes[] = { "phage", "plasmid", "virus" };
	char err[1024];
	rf_config_t c;
	tiny_config(&c, n_classes, mlm);
	gf_modelfile_t *mf = gf_modelfile_new(&c, 1, 1, 16, n_classes, classes, rf_backend_cpu(), err, sizeof err);
	if (!mf) {
		fprintf(stderr, "seed_models: %s\n", err);
		exit(1);
	}
	rf_model_init(mf->model, 1);
	return mf;
}

int main(int argc, char **argv)
{
	char err[1024];
	rf_optim_config_t oc;
	if (argc != 2) {
		fprintf(stderr, "usage: seed_models DIR\n");
		return 2;
	}
	gf_modelfile_t *cls = tiny_model(3, 0), *mlm = tiny_model(0, 1);
	save(argv[1], "classifier", 0, cls, NULL);
	save(argv[1], "classifier_fixcrc", 1, cls, NULL);
	save(argv[1], "mlm_fixcrc", 1, mlm, NULL);
	rf_optim_default(&oc);
	rf_optim_t *opt = rf_optim_create(mlm->model, &oc, err, sizeof err);
	if (!opt) {
		fprintf(stderr, "seed_models: %s\n", err);
		return 1;
	}
	save(argv[1], "train_fixcrc", 3, mlm, opt);
	rf_optim_free(opt);
	gf_modelfile_free(cls);
	gf_modelfile_free(mlm);
	return 0;
}
