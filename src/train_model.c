/* Model set-up of a training run: the architecture from the defaults,
 * --init or the checkpoint and the options; see train_run.h. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "genomics/kmer.h"
#include "src/common.h"
#include "src/log.h"
#include "src/memlimit.h"
#include "src/taxa.h"
#include "src/kmerindex.h"
#include "src/markers.h"
#include "src/openset.h"
#include "src/train_run.h"

/* Axial positions for a window of W tokens: a1 x a2 >= W with a1 ~ sqrt(W),
 * and half the features on each factor. */
static void set_axial(rf_config_t *c, int W)
{
	int a1 = 1;
	while ((int64_t)a1 * a1 < W) a1++;
	c->axial1 = a1;
	c->axial2 = (W + a1 - 1) / a1;
	c->axial_d1 = c->d_model / 2;
}

typedef struct {
	rf_config_t cfg;
	int k, stride, window;
} arch_t;

/* Sets *field to value when given; when resuming the value must be the
 * checkpoint's. */
static int apply(int *field, uint64_t given, int value, const char *opt, int resume, const char *from)
{
	if (!given) return 0;
	if (resume && *field != value) {
		gf_error("%s %d: %s was trained with %d", opt, value, from, *field);
		return -2;
	}
	*field = value;
	return 0;
}

/* The architecture: base (a checkpoint or a pretrained model) and the
 * options given, or for a new model the options' values (defaults
 * included); validated. 0, or -2 (a usage error) after a message. */
static int resolve_arch(const gf_train_opts_t *o, const gf_modelfile_t *base, int resume, arch_t *a)
{
	char err[GF_ERRLEN];
	const gf_arch_opts_t *x = &o->arch;
	const char *from = base ? (resume ? "the checkpoint" : o->init) : "";
	uint64_t g = base ? x->given : ~(uint64_t)0;
	rf_config_t *c = &a->cfg;
	if (base) {
		*c = base->cfg;
		a->k = base->k;
		a->stride = base->stride;
		a->window = base->window;
	} else {
		rf_config_default(c);
		a->stride = x->k;   /* stride k unless given */
	}
#define GIVEN(bit) (g & GF_OPT_BIT(bit))
	if (apply(&a->k, GIVEN(GF_AR_K), x->k, "-k", resume, from) ||
	    apply(&a->stride, x->given & GF_OPT_BIT(GF_AR_STRIDE), x->stride, "--stride", resume, from) ||
	    apply(&a->window, GIVEN(GF_AR_WINDOW), x->window, "--window", resume, from) ||
	    apply(&c->n_layers, GIVEN(GF_AR_LAYERS), x->layers, "--layers", resume, from) ||
	    apply(&c->d_model, GIVEN(GF_AR_D_MODEL), x->d_model, "--d-model", resume, from) ||
	    apply(&c->n_heads, GIVEN(GF_AR_HEADS), x->heads, "--heads", resume, from) ||
	    apply(&c->d_ff, GIVEN(GF_AR_D_FF), x->d_ff, "--d-ff", resume, from) ||
	    apply(&c->n_hashes, GIVEN(GF_AR_HASHES), x->hashes, "--hashes", resume, from) ||
	    apply(&c->chunk_len, GIVEN(GF_AR_CHUNK), x->chunk, "--chunk", resume, from) ||
	    apply(&c->ff_chunk, GIVEN(GF_AR_FF_CHUNK), x->ff_chunk, "--ff-chunk", resume, from))
		return -2;
	if (GIVEN(GF_AR_DROPOUT)) {
		if (resume && c->dropout != x->dropout) {
			gf_error("--dropout %g: the checkpoint was trained with %g", (double)x->dropout, (double)c->dropout);
			return -2;
		}
		c->dropout = x->dropout;
	}
	if (GIVEN(GF_AR_ATTN)) {
		rf_config_t t = *c;
		if (rf_config_set_layers(&t, x->attn, err, sizeof err)) {
			/* the model's message names its own option */
			gf_error("--attn%s", strncmp(err, "--layer-kinds", 13) ? err : err + 13);
			return -2;
		}
		if (resume && memcmp(t.layer_kind, c->layer_kind, c->n_layers * sizeof *c->layer_kind)) {
			gf_error("--attn %s: the checkpoint was trained with other attention kinds", x->attn);
			return -2;
		}
		memcpy(c->layer_kind, t.layer_kind, sizeof t.layer_kind);
	}
#undef GIVEN
	c->vocab = gf_kmer_vocab_size(a->k);
	if (!resume) set_axial(c, a->window);
	if (gf_kmer_check(a->k, a->stride, err, sizeof err) || rf_config_validate(c, err, sizeof err)) {
		gf_error("%s", err);
		return -2;
	}
	return 0;
}

/* The class names of the labels, in id order. */
static const char **class_names(const gf_labels_t *lab, int *n)
{
	*n = lab ? gf_labels_n_classes(lab) : 0;
	const char **names = calloc(*n + 1, sizeof *names);
	for (int c = 0; names && c < *n; c++) names[c] = gf_labels_class_name(lab, c);
	return names;
}

/* Copies every body tensor of the pretrained model (the heads stay new).
 * A pretrained model of another architecture matches only in part: that is
 * refused unless partial, and then the log names what was copied. 0, or -1
 * after the message. */
static int init_from(gf_modelfile_t *mf, const gf_modelfile_t *pre, const char *path, int partial)
{
	size_t n = rf_model_n_params(pre->model), copied = 0, body = 0, len = 0;
	float *src = malloc(n * sizeof *src), *dst = malloc(rf_model_n_params(mf->model) * sizeof *dst);
	char names[1024] = "", miss[256] = "";
	if (!src || !dst) {
		free(src);
		free(dst);
		gf_error("out of memory");
		return -1;
	}
	rf_model_get_params(pre->model, src);
	rf_model_get_params(mf->model, dst);
	for (int i = 0; i < rf_model_n_tensors(mf->model); i++) {
		const rf_tensor_t *t = rf_model_tensor(mf->model, i), *p = rf_model_find(pre->model, t->name);
		if (!strncmp(t->name, "cls.", 4) || !strncmp(t->name, "mlm.", 4)) continue;
		body++;
		if (p && p->ndim == t->ndim && !memcmp(p->shape, t->shape, sizeof t->shape)) {
			memcpy(dst + t->offset, src + p->offset, t->numel * sizeof *dst);
			copied++;
			if (len < sizeof names) len += snprintf(names + len, sizeof names - len, "%s%s", len ? ", " : "", t->name);
		} else {
			if (!*miss) snprintf(miss, sizeof miss, "tensor '%s' %s", t->name, p ? "has another shape" : "is missing");
			if (partial) gf_warn("--init %s: tensor '%s' %s; it starts new", path, t->name, p ? "has another shape" : "is missing");
		}
	}
	free(src);
	int rc = 0;
	if (copied == 0) {
		gf_error("--init %s: no tensor of the model matches (different --d-model?)", path);
		rc = -1;
	} else if (copied < body && !partial) {
		gf_error("--init %s: only %zu of %zu body tensors match (%s): another architecture? --init-partial "
		         "copies the ones that match", path, copied, body, miss);
		rc = -1;
	} else {
		rf_model_set_params(mf->model, dst);
		if (copied < body) gf_info("--init %s: copied %zu of %zu body tensors: %s%s", path, copied, body, names,
		                           len >= sizeof names ? "..." : "");
		gf_info("--init %s: %zu of %zu body tensors copied; new classifier head", path, copied, body);
	}
	free(dst);
	return rc;
}

/* The checkpoint's classes and task against this run's. */
static int check_resumed(const gf_training_t *r, const char *path, const char *const *names, int n)
{
	const gf_modelfile_t *mf = r->mf;
	if ((r->o->task == GF_TASK_MLM) != (mf->cfg.mlm && mf->cfg.n_classes == 0)) {
		gf_error("--resume %s: a %s checkpoint cannot resume %s", path, mf->cfg.mlm ? "pretrain" : "train",
		         r->o->task == GF_TASK_MLM ? "pretrain" : "train");
		return -2;
	}
	for (int c = 0; c < n || c < mf->n_classes; c++)
		if (c >= n || c >= mf->n_classes || strcmp(names[c], mf->classes[c])) {
			gf_error("--resume %s: the labels' classes differ from the checkpoint's (class %d: '%s' here, '%s' there)",
			         path, c, c < n ? names[c] : "(none)", c < mf->n_classes ? mf->classes[c] : "(none)");
			return -2;
		}
	return 0;
}

/* The model of cfg, its optimizer and a training step of the batches fit in
 * memory (held: bytes of them already allocated). */
static int check_memory(const gf_training_t *r, const rf_config_t *cfg, int window, size_t held)
{
	return gf_mem_check_model(cfg, r->be, r->o->compute.batch, 1, window, 1, r->o->task == GF_TASK_MLM ? GF_TRAIN_MASK_PROB : 0, held);
}

static int resume_model(gf_training_t *r, const char *path, const rf_optim_config_t *oc, const char *const *names, int n)
{
	char err[GF_ERRLEN];
	uint64_t seed;
	arch_t a;
	int rc;
	r->mf = gf_modelfile_load_train(path, r->be, oc, &r->opt, &r->step, &seed, err, sizeof err);
	if (!r->mf) {
		gf_error("--resume: %s", err);
		return -1;
	}
	if ((rc = check_resumed(r, path, names, n)) || (rc = resolve_arch(r->o, r->mf, 1, &a))) return rc;
	if (check_memory(r, &r->mf->cfg, r->mf->window, rf_model_current_bytes(r->mf->model))) return -1;
	if ((r->o->optim.given & GF_OPT_BIT(GF_OP_SEED)) && (uint64_t)r->o->optim.seed != seed) {
		gf_error("--seed %llu: the checkpoint was trained with seed %llu", (unsigned long long)r->o->optim.seed,
		         (unsigned long long)seed);
		return -2;
	}
	r->o->optim.seed = seed;
	r->have_ckpt = !strcmp(path, r->ckpt);
	r->last_saved = r->step;
	gf_info("resuming from %s at step %llu", path, (unsigned long long)r->step);
	return 0;
}

static int new_model(gf_training_t *r, const rf_optim_config_t *oc, const char *const *names, int n)
{
	char err[GF_ERRLEN];
	gf_modelfile_t *pre = NULL;
	arch_t a;
	if (r->o->init && !(pre = gf_modelfile_load(r->o->init, r->be, err, sizeof err))) {
		gf_error("--init: %s", err);
		return -1;
	}
	int rc = resolve_arch(r->o, pre, 0, &a);
	if (rc == 0 && pre && (a.k != pre->k || a.stride != pre->stride)) {
		gf_error("--init %s: its tokenizer is k=%d stride=%d, this run asks for k=%d stride=%d", r->o->init,
		         pre->k, pre->stride, a.k, a.stride);
		rc = -2;
	}
	if (rc == 0) {
		a.cfg.n_classes = n;
		a.cfg.mlm = r->o->task == GF_TASK_MLM;
		if (check_memory(r, &a.cfg, a.window, 0)) rc = -1;
	}
	if (rc == 0) {
		r->mf = gf_modelfile_new(&a.cfg, a.k, a.stride, a.window, n, names, r->be, err, sizeof err);
		if (!r->mf) {
			gf_error("%s", err);
			rc = -1;
		}
	}
	if (rc == 0) {
		rf_model_init(r->mf->model, r->o->optim.seed);
		if (pre) rc = init_from(r->mf, pre, r->o->init, r->o->init_partial);
	}
	if (rc == 0 && !(r->opt = rf_optim_create(r->mf->model, oc, err, sizeof err))) {
		gf_error("%s", err);
		rc = -1;
	}
	gf_modelfile_free(pre);
	return rc;
}

/* The classes' taxa (and lineages with --taxonomy) into the model. */
static int store_taxa(gf_modelfile_t *mf, const gf_train_opts_t *o)
{
	char err[GF_ERRLEN];
	gf_tax_t *tax = NULL;
	if (o->taxonomy && !(tax = gf_tax_load(o->taxonomy, err, sizeof err))) {
		gf_error("%s", err);
		return -1;
	}
	int rc = gf_taxa_store(&mf->meta, o->labels, tax, err, sizeof err);
	if (rc) gf_error("%s", err);
	gf_tax_free(tax);
	return rc;
}

int gf_training_model(gf_training_t *r, const char *from, const rf_optim_config_t *oc)
{
	int n = 0;
	const char **names = class_names(r->o->labels, &n);
	if (!names) {
		gf_error("out of memory");
		return -1;
	}
	int rc = from ? resume_model(r, from, oc, names, n) : new_model(r, oc, names, n);
	free(names);
	if (rc == 0) gf_modelfile_stamp(r->mf, r->o->argc, r->o->argv, from ? "resumed.cmdline" : "cmdline", from ? "resumed.at" : "created");
	if (rc == 0 && !from && r->o->labels) rc = store_taxa(r->mf, r->o);
	return rc;
}


int gf_training_index(gf_training_t *r)
{
	const char *want = r->o->kmer_index ? r->o->kmer_index : "auto";
	if (r->o->task != GF_TASK_CLASSIFY || r->mf->n_classes < 2 || !strcmp(want, "off")) return 0;
	if (!strcmp(want, "auto") && r->mk && r->mk->short_records) {
		gf_info("k-mer index: off for short records (--kmer-index on builds it)");
		return 0;
	}
	char msg[GF_ERRLEN];
	double t0 = gf_wall_seconds();
	int bg = -1;
	for (int c = 0; r->o->background && c < r->mf->n_classes; c++)
		if (!strcmp(r->mf->classes[c], GF_OPENSET_BACKGROUND_CLASS)) bg = c;
	gf_kx_t *kx = gf_kx_of_dataset(&r->ds, bg, 0);
	int rc = kx ? gf_kx_store(&r->mf->meta, kx, msg, sizeof msg) : -1;
	if (!kx) gf_error("out of memory for the k-mer index");
	else if (rc) gf_error("%s", msg);
	else gf_info("k-mer index of %zu records %s, %.1f s", r->ds.n, msg, gf_wall_seconds() - t0);
	gf_kx_free(kx);
	return rc;
}
