/* Training loop shared by train and pretrain; see trainer.h. */
#include "src/trainer.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "src/dataset.h"
#include "genomics/kmer.h"
#include "model/atomicfile.h"
#include "model/backend.h"
#include "model/optim.h"
#include "src/cmd/commands.h"
#include "src/dist.h"
#include "src/log.h"
#include "src/memlimit.h"
#include "src/modelfile.h"
#include "src/openset.h"
#include "src/preempt.h"

#define MASK_PROB 0.15
#define MIN_LR_RATIO 0.1f

/* ---- options ------------------------------------------------------------- */

enum {
	O_D_MODEL = 300, O_LAYERS, O_HEADS, O_D_FF, O_ATTN, O_HASHES, O_CHUNK, O_FF_CHUNK, O_DROPOUT,
	O_LR, O_STEPS, O_EPOCHS, O_ACCUM, O_WARMUP, O_WD, O_CLIP, O_SEED, O_VAL_FRAC, O_VAL, O_VAL_EVERY,
	O_VAL_WINDOWS, O_LOG_EVERY, O_DEVICE, O_RESUME, O_SAVE_EVERY, O_STOP_AT, O_NO_RC_AUG, O_DRY_RUN
};

const struct option gf_train_longopts[] = {
	{ "output", required_argument, 0, 'o' }, { "stride", required_argument, 0, 's' },
	{ "window", required_argument, 0, 'L' }, { "batch", required_argument, 0, 'b' },
	{ "threads", required_argument, 0, 't' }, { "quiet", no_argument, 0, 'q' },
	{ "verbose", no_argument, 0, 'v' }, { "help", no_argument, 0, 'h' },
	{ "d-model", required_argument, 0, O_D_MODEL }, { "layers", required_argument, 0, O_LAYERS },
	{ "heads", required_argument, 0, O_HEADS }, { "d-ff", required_argument, 0, O_D_FF },
	{ "attn", required_argument, 0, O_ATTN }, { "hashes", required_argument, 0, O_HASHES },
	{ "chunk", required_argument, 0, O_CHUNK }, { "ff-chunk", required_argument, 0, O_FF_CHUNK },
	{ "dropout", required_argument, 0, O_DROPOUT }, { "lr", required_argument, 0, O_LR },
	{ "steps", required_argument, 0, O_STEPS }, { "epochs", required_argument, 0, O_EPOCHS },
	{ "accum", required_argument, 0, O_ACCUM }, { "warmup", required_argument, 0, O_WARMUP },
	{ "weight-decay", required_argument, 0, O_WD }, { "clip", required_argument, 0, O_CLIP },
	{ "seed", required_argument, 0, O_SEED }, { "val-frac", required_argument, 0, O_VAL_FRAC },
	{ "val", required_argument, 0, O_VAL }, { "val-every", required_argument, 0, O_VAL_EVERY },
	{ "val-windows", required_argument, 0, O_VAL_WINDOWS }, { "log-every", required_argument, 0, O_LOG_EVERY },
	{ "device", required_argument, 0, O_DEVICE }, { "resume", required_argument, 0, O_RESUME },
	{ "save-every", required_argument, 0, O_SAVE_EVERY }, { "stop-at", required_argument, 0, O_STOP_AT },
	{ "no-rc-aug", no_argument, 0, O_NO_RC_AUG }, { "dry-run", no_argument, 0, O_DRY_RUN }, { 0, 0, 0, 0 }
};

/* Defaults of the architecture options (shown by the usage and used when
 * neither the command line nor --init / --resume give a value). */
enum { DEF_K = 6, DEF_WINDOW = 1024, DEF_LAYERS = 4, DEF_D_MODEL = 128, DEF_HEADS = 4, DEF_D_FF = 512,
       DEF_HASHES = 4, DEF_CHUNK = 64, DEF_FF_CHUNK = 1024 };
#define DEF_ATTN "local,lsh"
#define DEF_DROPOUT 0.1f

int gf_train_opts_init(gf_train_opts_t *o, int task, int argc, char *argv[])
{
	memset(o, 0, sizeof *o);
	o->task = task;
	o->dropout = -1.0f;
	o->lr = 1e-3f;
	o->weight_decay = 0.01f;
	o->clip = 1.0f;
	o->batch = 8;
	o->accum = 1;
	o->warmup = 100;
	o->seed = 1;
	o->val_frac = 0.1;
	o->val_every = 100;
	o->log_every = 10;
	o->val_windows = 256;
	o->rc_aug = 1;
	o->device = "auto";
	o->save_every = 500;
	o->crop_frac = task == GF_TASK_CLASSIFY ? GF_TRAIN_CROP_FRAC : 0.0;
	o->crop_min = GF_OPENSET_MIN_LEN;
	o->target_precision = GF_TRAIN_TARGET_PRECISION;
	o->argc = argc;
	o->argv = argv;
	gf_seqio_opts_init(&o->io);
	o->inputs = calloc(argc + 1, sizeof *o->inputs);
	o->val_inputs = calloc(argc + 1, sizeof *o->val_inputs);
	return o->inputs && o->val_inputs ? 0 : -1;
}

void gf_train_opts_free(gf_train_opts_t *o)
{
	free(o->inputs);
	free(o->val_inputs);
	gf_labels_free(o->labels);
	gf_labels_free(o->val_labels);
}

void gf_train_usage_common(FILE *fp, int task)
{
	fprintf(fp,
	        "Output:\n"
	        "  -o, --output FILE    the model (.gfm); beside it FILE.ckpt (training state) and\n"
	        "                       the metrics TSV (FILE without .gfm + .metrics.tsv) [required]\n"
	        "Tokens and windows:\n"
	        "  -k INT               k-mer length, 1..%d [%d]\n"
	        "  -s, --stride INT     bases between k-mer starts, 1..k [k]\n"
	        "  -L, --window INT     tokens per training window [%d]\n"
	        "Model:\n"
	        "      --layers INT     reversible layers [%d]\n"
	        "      --d-model INT    width of each residual stream [%d]\n"
	        "      --heads INT      attention heads; divides --d-model [%d]\n"
	        "      --d-ff INT       feed-forward width [%d]\n"
	        "      --attn LIST      attention per layer, cycled: full, local, lsh [%s]\n"
	        "      --hashes INT     LSH rounds [%d]\n"
	        "      --chunk INT      local/LSH chunk length in tokens [%d]\n"
	        "      --ff-chunk INT   feed-forward chunk in tokens, 0 = whole window [%d]\n"
	        "      --dropout F      hidden dropout [%.1f]\n"
	        "Optimisation (AdamW, linear warm-up then cosine to lr/10):\n"
	        "      --lr F           peak learning rate [1e-3]\n"
	        "      --steps INT      optimizer steps [1000]\n"
	        "      --epochs F       instead of --steps: passes over the training bases [none]\n"
	        "  -b, --batch INT      windows per micro-batch [8]\n"
	        "      --accum INT      micro-batches per step (gradient accumulation) [1]\n"
	        "      --warmup INT     warm-up steps [100]\n"
	        "      --weight-decay F decoupled weight decay on matrices [0.01]\n"
	        "      --clip F         global gradient-norm limit, 0 = none [1.0]\n"
	        "      --seed INT       seed of initialisation, sampling, %sdropout [1]\n"
	        "      --no-rc-aug      no reverse-complement augmentation [on: half the windows]\n"
	        "Validation:\n"
	        "      --val-frac F     hold out the last fraction of every record [0.1]\n"
	        "      --val FILE       validate on FILE instead (repeatable)%s [none]\n"
	        "      --val-every INT  validate every INT steps and at the end [100]\n"
	        "      --val-windows INT  at most INT validation windows, spread evenly [256]\n"
	        "      --log-every INT  metrics row every INT steps [10]\n"
	        "Run:\n"
	        "  -t, --threads INT    CPU threads [all cores]\n"
	        "      --device NAME    cpu, cuda or auto (cuda when usable) [auto]\n"
	        "      --resume CKPT    continue from a checkpoint; 'auto': FILE.ckpt if it exists [none]\n"
	        "      --save-every INT checkpoint every INT steps (and at the end) [500]\n"
	        "      --stop-at INT    stop after step INT with a checkpoint, as if interrupted [none]\n"
	        "      --dry-run        check the options, the memory, the inputs and the labels, then stop\n"
	        "                       without training or writing anything [off]\n"
	        "  -q, --quiet          errors only on stderr\n"
	        "  -v, --verbose        more log lines\n"
	        "  -h, --help           this help\n"
	        "Exit status: 0 success, 1 error (also a non-finite loss), 2 usage error, 75 stopped by\n"
	        "SIGINT, SIGTERM or SIGUSR1 after writing the checkpoint (--resume auto continues).\n",
	        GF_KMER_MAX_K, DEF_K, DEF_WINDOW, DEF_LAYERS, DEF_D_MODEL, DEF_HEADS, DEF_D_FF, DEF_ATTN, DEF_HASHES,
	        DEF_CHUNK, DEF_FF_CHUNK, (double)DEF_DROPOUT, task == GF_TASK_MLM ? "masking, " : "",
	        task == GF_TASK_CLASSIFY ? ", labelled by --val-labels or --labels" : "");
}

/* Whole-string integer (when integer) or number in [lo, hi] into *iv or
 * *dv, or a message naming the option. */
static int parse_number(const char *opt, const char *s, int integer, double lo, double hi, int64_t *iv, double *dv)
{
	char *end;
	errno = 0;
	double v = integer ? (double)(*iv = strtoll(s, &end, 10)) : (*dv = strtod(s, &end));
	if (!*s || *end || errno || !(v >= lo && v <= hi)) {
		if (integer) gf_error("%s expects an integer in %.0f..%.0f, got '%s'", opt, lo, hi, s);
		else gf_error("%s expects a number in %g..%g, got '%s'", opt, lo, hi, s);
		return -1;
	}
	return 0;
}

static int parse_i64(const char *opt, const char *s, double lo, double hi, int64_t *out)
{
	return parse_number(opt, s, 1, lo, hi, out, NULL);
}

static int parse_int(const char *opt, const char *s, int lo, int hi, int *out)
{
	int64_t v;
	if (parse_i64(opt, s, lo, hi, &v)) return -1;
	*out = (int)v;
	return 0;
}

static int parse_num(const char *opt, const char *s, double lo, double hi, double *out)
{
	return parse_number(opt, s, 0, lo, hi, NULL, out);
}

static int parse_float(const char *opt, const char *s, double lo, double hi, float *out)
{
	double v;
	if (parse_num(opt, s, lo, hi, &v)) return -1;
	*out = (float)v;
	return 0;
}

int gf_train_option(gf_train_opts_t *o, int c, const char *arg)
{
	const int big = 1 << 30;
	int64_t v;
	switch (c) {
	case 'o': o->out = arg; return 0;
	case 'k': return parse_int("-k", arg, 1, GF_KMER_MAX_K, &o->k);
	case 's': return parse_int("--stride", arg, 1, GF_KMER_MAX_K, &o->stride);
	case 'L': return parse_int("--window", arg, 1, big, &o->window);
	case 'b': return parse_int("--batch", arg, 1, 1 << 20, &o->batch);
	case 't': return parse_int("--threads", arg, 1, 4096, &o->threads);
	case 'q': gf_verbosity = GF_LOG_QUIET; return 0;
	case 'v': gf_verbosity = GF_LOG_VERBOSE; return 0;
	case O_D_MODEL: return parse_int("--d-model", arg, 2, 1 << 16, &o->d_model);
	case O_LAYERS: return parse_int("--layers", arg, 1, RF_MAX_LAYERS, &o->layers);
	case O_HEADS: return parse_int("--heads", arg, 1, 1 << 16, &o->heads);
	case O_D_FF: return parse_int("--d-ff", arg, 1, 1 << 20, &o->d_ff);
	case O_ATTN: o->attn = arg; return 0;
	case O_HASHES: return parse_int("--hashes", arg, 1, 64, &o->hashes);
	case O_CHUNK: return parse_int("--chunk", arg, 1, big, &o->chunk);
	case O_FF_CHUNK: return parse_int("--ff-chunk", arg, 0, big, &o->ff_chunk) ? -1 : (o->ff_chunk = o->ff_chunk ? o->ff_chunk : -1, 0);
	case O_DROPOUT: return parse_float("--dropout", arg, 0, 0.99, &o->dropout);
	case O_LR: return parse_float("--lr", arg, 0, 1e30, &o->lr);
	case O_STEPS: return parse_i64("--steps", arg, 1, 1e15, &o->steps);
	case O_EPOCHS: return parse_num("--epochs", arg, 1e-9, 1e9, &o->epochs);
	case O_ACCUM: return parse_int("--accum", arg, 1, 1 << 20, &o->accum);
	case O_WARMUP: return parse_int("--warmup", arg, 0, big, &o->warmup);
	case O_WD: return parse_float("--weight-decay", arg, 0, 1e3, &o->weight_decay);
	case O_CLIP: return parse_float("--clip", arg, 0, 1e30, &o->clip);
	case O_SEED:
		o->seed_given = 1;
		if (parse_i64("--seed", arg, 0, 9007199254740992.0, &v)) return -1;
		o->seed = (uint64_t)v;
		return 0;
	case O_VAL_FRAC: return parse_num("--val-frac", arg, 0, 0.9, &o->val_frac);
	case O_VAL: o->val_inputs[o->n_val_inputs++] = arg; return 0;
	case O_VAL_EVERY: return parse_i64("--val-every", arg, 0, 1e15, &o->val_every);
	case O_VAL_WINDOWS: return parse_int("--val-windows", arg, 0, big, &o->val_windows);
	case O_LOG_EVERY: return parse_i64("--log-every", arg, 1, 1e15, &o->log_every);
	case O_DEVICE: o->device = arg; return 0;
	case O_RESUME: o->resume = arg; return 0;
	case O_SAVE_EVERY: return parse_i64("--save-every", arg, 0, 1e15, &o->save_every);
	case O_STOP_AT: return parse_i64("--stop-at", arg, 1, 1e15, &o->stop_at);
	case O_NO_RC_AUG: o->rc_aug = 0; return 0;
	case O_DRY_RUN: o->dry_run = 1; return 0;
	default: return 1;
	}
}

int gf_train_check_opts(const gf_train_opts_t *o)
{
	char err[GF_ERRLEN];
	if (!o->out) gf_error("no output: -o MODEL.gfm is required");
	else if (o->steps && o->epochs) gf_error("--steps and --epochs exclude each other");
	else if (o->n_inputs == 0) gf_error("no input file (genoformer %s -h for help)", o->task == GF_TASK_MLM ? "pretrain" : "train");
	else if (o->init && o->resume) gf_error("--init and --resume exclude each other");
	else if (gf_device_check(o->device, err, sizeof err))
		gf_error("%s", err);
	else return 0;
	return -1;
}

/* ---- model set-up ---------------------------------------------------------- */

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

/* Sets *field to a given option value; when resuming the value must be the
 * checkpoint's. */
static int apply(int *field, int given, const char *opt, int resume, const char *from)
{
	if (!given) return 0;
	if (resume && *field != given) {
		gf_error("%s %d: %s was trained with %d", opt, given, from, *field);
		return -2;
	}
	*field = given;
	return 0;
}

/* The architecture: base (a checkpoint or a pretrained model) or the
 * defaults, then the options given, validated. 0, or -2 (a usage error)
 * after a message. */
static int resolve_arch(const gf_train_opts_t *o, const gf_modelfile_t *base, int resume, arch_t *a)
{
	char err[GF_ERRLEN];
	const char *from = base ? (resume ? "the checkpoint" : o->init) : "";
	rf_config_t *c = &a->cfg;
	if (base) {
		*c = base->cfg;
		a->k = base->k;
		a->stride = base->stride;
		a->window = base->window;
	} else {
		rf_config_default(c);
		c->d_model = DEF_D_MODEL;
		c->n_heads = DEF_HEADS;
		c->d_ff = DEF_D_FF;
		c->n_layers = DEF_LAYERS;
		c->n_hashes = DEF_HASHES;
		c->chunk_len = DEF_CHUNK;
		c->ff_chunk = DEF_FF_CHUNK;
		c->dropout = DEF_DROPOUT;
		rf_config_set_layers(c, DEF_ATTN, err, sizeof err);
		a->k = o->k ? o->k : DEF_K;
		a->stride = o->stride ? o->stride : a->k;
		a->window = DEF_WINDOW;
	}
	if (apply(&a->k, o->k, "-k", resume, from) || apply(&a->stride, o->stride, "--stride", resume, from) ||
	    apply(&a->window, o->window, "--window", resume, from) ||
	    apply(&c->n_layers, o->layers, "--layers", resume, from) ||
	    apply(&c->d_model, o->d_model, "--d-model", resume, from) ||
	    apply(&c->n_heads, o->heads, "--heads", resume, from) || apply(&c->d_ff, o->d_ff, "--d-ff", resume, from) ||
	    apply(&c->n_hashes, o->hashes, "--hashes", resume, from) ||
	    apply(&c->chunk_len, o->chunk, "--chunk", resume, from) ||
	    apply(&c->ff_chunk, o->ff_chunk < 0 ? 0 : o->ff_chunk, "--ff-chunk", resume, from))
		return -2;
	if (o->ff_chunk < 0) c->ff_chunk = 0;
	if (o->dropout >= 0) {
		if (resume && c->dropout != o->dropout) {
			gf_error("--dropout %g: the checkpoint was trained with %g", (double)o->dropout, (double)c->dropout);
			return -2;
		}
		c->dropout = o->dropout;
	}
	if (o->attn) {
		rf_config_t t = *c;
		if (rf_config_set_layers(&t, o->attn, err, sizeof err)) {
			/* the model's message names its own option */
			gf_error("--attn%s", strncmp(err, "--layer-kinds", 13) ? err : err + 13);
			return -2;
		}
		if (resume && memcmp(t.layer_kind, c->layer_kind, c->n_layers * sizeof *c->layer_kind)) {
			gf_error("--attn %s: the checkpoint was trained with other attention kinds", o->attn);
			return -2;
		}
		memcpy(c->layer_kind, t.layer_kind, sizeof t.layer_kind);
	}
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

/* Copies every body tensor of the pretrained model with the same name and
 * shape (the heads stay new). 0, or -1 when none matches. */
static int init_from(gf_modelfile_t *mf, const gf_modelfile_t *pre, const char *path)
{
	size_t n = rf_model_n_params(pre->model), copied = 0, body = 0;
	float *src = malloc(n * sizeof *src), *dst = malloc(rf_model_n_params(mf->model) * sizeof *dst);
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
		} else {
			gf_warn("--init %s: tensor '%s' %s; it starts new", path, t->name, p ? "has another shape" : "is missing");
		}
	}
	rf_model_set_params(mf->model, dst);
	free(src);
	free(dst);
	if (copied == 0) {
		gf_error("--init %s: no tensor of the model matches (different --d-model?)", path);
		return -1;
	}
	gf_info("--init %s: %zu of %zu body tensors copied; new classifier head", path, copied, body);
	return 0;
}

typedef struct {
	gf_train_opts_t *o;
	const rf_backend_t *be;
	gf_modelfile_t *mf;
	rf_optim_t *opt;
	uint64_t step;               /* steps done */
	char *ckpt, *metrics;        /* paths beside the model */
	int have_ckpt;               /* a checkpoint of this run's state exists (last_saved is its step) */
	uint64_t last_saved;
	gf_dataset_t ds;
	int64_t total;
	double vloss, vacc;          /* the last validation's */
	int preempted;               /* the signal that stopped the loop, or 0 */
} run_t;

/* The checkpoint's classes and task against this run's. */
static int check_resumed(const run_t *r, const char *path, const char *const *names, int n)
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
static int check_memory(const run_t *r, const rf_config_t *cfg, int window, size_t held)
{
	return gf_mem_check_model(cfg, r->be, r->o->batch, 1, window, 1, r->o->task == GF_TASK_MLM ? MASK_PROB : 0, held);
}

static int resume_model(run_t *r, const char *path, const rf_optim_config_t *oc, const char *const *names, int n)
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
	if (r->o->seed_given && r->o->seed != seed) {
		gf_error("--seed %llu: the checkpoint was trained with seed %llu", (unsigned long long)r->o->seed,
		         (unsigned long long)seed);
		return -2;
	}
	r->o->seed = seed;
	r->have_ckpt = !strcmp(path, r->ckpt);
	r->last_saved = r->step;
	gf_info("resuming from %s at step %llu", path, (unsigned long long)r->step);
	return 0;
}

static int new_model(run_t *r, const rf_optim_config_t *oc, const char *const *names, int n)
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
		rf_model_init(r->mf->model, r->o->seed);
		if (pre) rc = init_from(r->mf, pre, r->o->init);
	}
	if (rc == 0 && !(r->opt = rf_optim_create(r->mf->model, oc, err, sizeof err))) {
		gf_error("%s", err);
		rc = -1;
	}
	gf_modelfile_free(pre);
	return rc;
}

/* The command line and date in the model's metadata: "cmdline" and
 * "created" for a new model, "resumed.cmdline" and "resumed.at" when
 * resuming (the original command stays). */
static void stamp(gf_modelfile_t *mf, int argc, char **argv, int resumed)
{
	char line[4096] = "genoformer", err[256], when[64];
	size_t n = strlen(line);
	for (int i = 0; i < argc && n + 1 < sizeof line; i++)
		n += snprintf(line + n, sizeof line - n, " %s", argv[i]);
	time_t t = time(NULL);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	rf_ckpt_meta_set(&mf->meta, resumed ? "resumed.cmdline" : "cmdline", line, err, sizeof err);
	rf_ckpt_meta_set(&mf->meta, resumed ? "resumed.at" : "created", when, err, sizeof err);
}

/* ---- data ------------------------------------------------------------------- */

/* Adds every record of path in role; classify records take their class
 * from lab (mapped to the training labels' ids when lab is --val-labels). */
static int load_file(run_t *r, const char *path, gf_labels_t *lab, int role)
{
	char err[GF_ERRLEN];
	gf_reader_t *rd = gf_seqio_open(path, &r->o->io, err, sizeof err);
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

static int load_data(run_t *r)
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
	if (o->labels && !o->io.n_regions && gf_labels_check_used(o->labels, err, sizeof err)) {
		gf_error("%s", err);
		return -1;
	}
	if (gf_dataset_finish(&r->ds, o->balance, (size_t)o->val_windows, err, sizeof err)) {
		gf_error("%s", err);
		return -1;
	}
	gf_info("%zu records: %s training, %s validation (%zu windows of %d tokens), %d classes", r->ds.n,
	        gf_fmt_si((double)r->ds.train_bases, "bp", b1, sizeof b1),
	        gf_fmt_si((double)r->ds.val_bases, "bp", b2, sizeof b2), r->ds.n_val, r->mf->window, r->mf->n_classes);
	return 0;
}

/* ---- files beside the model ------------------------------------------------ */

/* path with its ".gfm" (if any) replaced by suffix. */
static char *beside(const char *path, const char *suffix, int keep_ext)
{
	size_t n = strlen(path);
	if (!keep_ext && n > 4 && !strcmp(path + n - 4, ".gfm")) n -= 4;
	char *s = malloc(n + strlen(suffix) + 1);
	if (s) sprintf(s, "%.*s%s", (int)n, path, suffix);
	return s;
}

/* The metrics TSV: new with its header, or (resuming) cut back to the rows
 * up to the checkpoint's step. NULL after a message. */
static FILE *open_metrics(const run_t *r)
{
	static const char header[] = "step\tloss\tlr\ttokens_per_s\tval_loss\tval_acc\n";
	char *old = NULL;
	size_t len = 0;
	FILE *fp;
	if (r->step > 0 && (fp = fopen(r->metrics, "r"))) {
		FILE *mem = open_memstream(&old, &len);
		char line[1024];
		while (mem && fgets(line, sizeof line, fp))
			if (strtoull(line, NULL, 10) <= r->step && line[0] >= '0' && line[0] <= '9') fputs(line, mem);
		fclose(fp);
		if (mem) fclose(mem);
	}
	if (!(fp = fopen(r->metrics, "w"))) {
		gf_error("%s: cannot create: %s", r->metrics, strerror(errno));
		free(old);
		return NULL;
	}
	fputs(header, fp);
	if (old) fwrite(old, 1, len, fp);
	free(old);
	fflush(fp);
	return fp;
}

/* A writable output path, checked before any training. */
static int check_writable(const char *path)
{
	char err[GF_ERRLEN];
	rf_afile_t *f = rf_afile_open(path, err, sizeof err);
	if (!f) {
		gf_error("%s", err);
		return -1;
	}
	rf_afile_abort(f);
	return 0;
}

static int save(run_t *r, const char *path, int with_state)
{
	char err[GF_ERRLEN];
	if (gf_dist_rank() == 0 &&
	    gf_modelfile_save(path, r->mf, with_state ? r->opt : NULL, r->step, r->o->seed, err, sizeof err)) {
		if (gf_dist_size() > 1) gf_dist_abort(GF_EXIT_ERROR, "%s", err);
		gf_error("%s", err);
		return -1;
	}
	if (with_state) {
		r->have_ckpt = 1;
		r->last_saved = r->step;
	}
	gf_debug("step %llu: wrote %s", (unsigned long long)r->step, path);
	return 0;
}

/* ---- the loop ---------------------------------------------------------------- */

typedef struct {
	int32_t *tok, *labels, *pos, *tgt;
	uint8_t *mask;
	float *logits;
	char *scratch;
} bufs_t;

static int bufs_alloc(bufs_t *b, const run_t *r)
{
	size_t n = (size_t)r->o->batch * r->mf->window;
	b->tok = malloc(n * sizeof *b->tok);
	b->pos = malloc(n * sizeof *b->pos);
	b->tgt = malloc(n * sizeof *b->tgt);
	b->mask = malloc(n);
	b->labels = malloc(r->o->batch * sizeof *b->labels);
	b->logits = malloc((size_t)r->o->batch * (r->mf->n_classes + 1) * sizeof *b->logits);
	b->scratch = malloc(gf_dataset_span(&r->ds));
	return b->tok && b->pos && b->tgt && b->mask && b->labels && b->logits && b->scratch ? 0 : -1;
}

static void bufs_free(bufs_t *b)
{
	free(b->tok);
	free(b->pos);
	free(b->tgt);
	free(b->mask);
	free(b->labels);
	free(b->logits);
	free(b->scratch);
}

/* The batch of B windows in b, masked for the MLM task with rows keyed by
 * (seed, step, row0 + row). */
static rf_batch_t make_batch(const run_t *r, bufs_t *b, int B, uint64_t step, uint64_t row0)
{
	rf_batch_t batch = { .tokens = b->tok, .mask = b->mask, .B = B, .L = r->mf->window, .seed = r->o->seed };
	if (r->o->task == GF_TASK_MLM) {
		batch.n_mlm = gf_mlm_mask(b->tok, b->mask, B, batch.L, r->mf->k, MASK_PROB, r->o->seed, step, row0,
		                          b->pos, b->tgt);
		batch.mlm_pos = b->pos;
		batch.mlm_targets = b->tgt;
	} else {
		batch.labels = b->labels;
	}
	return batch;
}

/* Mean loss and accuracy (classifier; NAN for MLM) over the validation
 * windows; masks for MLM are keyed by step 0 so every validation sees the
 * same ones. -1 on error. */
static int validate(run_t *r, bufs_t *b, double *loss, double *acc)
{
	char err[GF_ERRLEN];
	const int B = r->o->batch, L = r->mf->window, C = r->mf->n_classes;
	double sum = 0;
	size_t right = 0;
	for (size_t i = 0; i < r->ds.n_val; i += B) {
		int n = r->ds.n_val - i < (size_t)B ? (int)(r->ds.n_val - i) : B;
		for (int j = 0; j < n; j++)
			gf_dataset_val(&r->ds, i + j, b->tok + (size_t)j * L, b->mask + (size_t)j * L, &b->labels[j]);
		rf_batch_t batch = make_batch(r, b, n, 0, i);
		float l;
		if (rf_model_forward(r->mf->model, &batch, &l, C ? b->logits : NULL, err, sizeof err)) {
			gf_error("validation: %s", err);
			return -1;
		}
		sum += (double)l * n;
		for (int j = 0; C && j < n; j++) {
			int best = 0;
			for (int c = 1; c < C; c++)
				if (b->logits[j * C + c] > b->logits[j * C + best]) best = c;
			right += best == b->labels[j];
		}
	}
	*loss = r->ds.n_val ? sum / r->ds.n_val : NAN;
	*acc = r->ds.n_val && C ? (double)right / r->ds.n_val : NAN;
	return 0;
}

/* One optimizer step of accum micro-batches: *loss is their mean, *tokens
 * the real tokens seen. -1 on error or a non-finite loss or gradient. */
static int train_step(run_t *r, bufs_t *b, float lr, double *loss, uint64_t *tokens)
{
	char err[GF_ERRLEN];
	const int B = r->o->batch, L = r->mf->window, ranks = gf_dist_size();
	double sum = 0;
	uint64_t seen = 0;
	for (int a = 0; a < r->o->accum; a++) {
		/* micro-batch a is rows [a, a+1) * ranks * B of the step's stream of
		 * windows and this rank takes its B of them: any number of ranks sees
		 * the windows of one process with --batch ranks*B */
		uint64_t row0 = ((uint64_t)a * ranks + gf_dist_rank()) * B;
		for (int j = 0; j < B; j++) {
			gf_dataset_sample(&r->ds, r->o->seed, r->step, row0 + j, r->o->rc_aug, b->scratch, b->tok + (size_t)j * L,
			                  b->mask + (size_t)j * L, &b->labels[j]);
			gf_openset_crop(b->tok + (size_t)j * L, b->mask + (size_t)j * L, L, r->mf->k, r->mf->stride,
			                r->o->crop_frac, r->o->crop_min, r->o->seed, r->step, row0 + j);
		}
		for (size_t j = 0; j < (size_t)B * L; j++) seen += b->mask[j];
		rf_batch_t batch = make_batch(r, b, B, r->step, row0);
		batch.step = r->step * r->o->accum + a;
		batch.train = 1;
		float l;
		if (rf_model_forward_backward(r->mf->model, &batch, &l, err, sizeof err)) {
			if (ranks > 1) gf_dist_abort(GF_EXIT_ERROR, "step %llu: %s", (unsigned long long)r->step + 1, err);
			gf_error("step %llu: %s", (unsigned long long)r->step + 1, err);
			return -1;
		}
		sum += l;
	}
	*loss = sum / r->o->accum;
	if (ranks > 1) {
		/* every rank gets the same mean loss and gradients, so all take the
		 * same step and meet a NaN at the same step */
		float mean[2] = { (float)*loss, (float)seen };
		gf_dist_allreduce_mean(mean, 2);
		gf_dist_average_grads(r->mf->model);
		*loss = mean[0];
		seen = (uint64_t)llround((double)mean[1] * ranks);
	}
	*tokens += seen;
	double gnorm = isfinite(*loss) ? rf_optim_step(r->opt, lr, 1.0f / r->o->accum) : NAN;
	rf_model_zero_grads(r->mf->model);
	if (!isfinite(*loss) || !isfinite(gnorm)) {
		char last[64] = "no checkpoint was written";
		if (r->have_ckpt) snprintf(last, sizeof last, "kept the last good checkpoint (step %llu)",
		                            (unsigned long long)r->last_saved);
		gf_error("step %llu: %s is %s (learning rate %g too high?); stopped; %s%s%s",
		         (unsigned long long)r->step + 1, isfinite(*loss) ? "gradient norm" : "loss",
		         isnan(isfinite(*loss) ? gnorm : *loss) ? "NaN" : "infinite", (double)lr, last,
		         r->have_ckpt ? ": " : "", r->have_ckpt ? r->ckpt : "");
		return -1;
	}
	return 0;
}

static void write_row(FILE *fp, uint64_t step, double loss, float lr, double tps, double vloss, double vacc)
{
	fprintf(fp, "%llu\t%.6g\t%.6g\t%.1f\t", (unsigned long long)step, loss, (double)lr, tps);
	if (isnan(vloss)) fputs("NA\t", fp);
	else fprintf(fp, "%.6g\t", vloss);
	if (isnan(vacc)) fputs("NA\n", fp);
	else fprintf(fp, "%.4f\n", vacc);
	fflush(fp);
}

/* ", val loss L" (and ", val accuracy A" for a classifier), or "" when
 * there was no validation. */
static const char *val_text(double loss, double acc, char *buf, size_t len)
{
	int n = isnan(loss) ? (buf[0] = 0) : snprintf(buf, len, ", val loss %.4f", loss);
	if (!isnan(acc)) snprintf(buf + n, len - n, ", val accuracy %.4f", acc);
	return buf;
}

static int loop(run_t *r, FILE *metrics)
{
	bufs_t b = { 0 };
	gf_progress_t prog;
	gf_train_opts_t *o = r->o;
	double loss_sum = 0, last_loss = NAN, vloss = NAN, vacc = NAN, t_row = gf_wall_seconds();
	int64_t n_sum = 0, end = o->stop_at && o->stop_at < r->total ? o->stop_at : r->total;
	uint64_t tokens = 0, first = r->step;
	int rc = 0;
	if (bufs_alloc(&b, r)) {
		bufs_free(&b);
		gf_error("out of memory for the batches");
		return -1;
	}
	gf_preempt_install();
	gf_progress_start(&prog, (uint64_t)(end - (int64_t)first), "steps");
	while ((int64_t)r->step < end && !(r->preempted = gf_dist_any(gf_preempt_pending()))) {
		float lr = rf_lr_schedule(o->lr, (int64_t)r->step, o->warmup, r->total, MIN_LR_RATIO);
		double loss;
		if ((rc = train_step(r, &b, lr, &loss, &tokens))) break;
		r->step++;
		loss_sum += loss;
		n_sum++;
		int at_end = (int64_t)r->step == r->total, val = at_end || (o->val_every && r->step % o->val_every == 0);
		vloss = vacc = NAN;
		if (val && r->ds.n_val && gf_dist_rank() == 0 && (rc = validate(r, &b, &vloss, &vacc))) {
			if (gf_dist_size() > 1)
				gf_dist_abort(GF_EXIT_ERROR, "validation failed at step %llu", (unsigned long long)r->step);
			break;
		}
		if (val) {
			r->vloss = vloss;
			r->vacc = vacc;
		}
		if (val || at_end || r->step % o->log_every == 0 || (int64_t)r->step == end) {
			double now = gf_wall_seconds();
			last_loss = loss_sum / n_sum;
			if (metrics) write_row(metrics, r->step, last_loss, lr, tokens / (now - t_row + 1e-9), vloss, vacc);
			loss_sum = 0;
			n_sum = 0;
			tokens = 0;
			t_row = now;
		}
		if (val) {
			gf_progress_end(&prog);
			char vt[96];
			gf_info("step %llu/%lld: loss %.4f%s, lr %.3g", (unsigned long long)r->step, (long long)r->total,
			        last_loss, val_text(vloss, vacc, vt, sizeof vt), (double)lr);
		}
		if (o->save_every && r->step % o->save_every == 0 && (rc = save(r, r->ckpt, 1))) break;
		gf_progress_update(&prog, r->step - first);
	}
	gf_progress_end(&prog);
	gf_preempt_uninstall();
	bufs_free(&b);
	return rc;
}

/* ---- the run --------------------------------------------------------------- */

/* The open-set threshold for the target precision on the validation windows,
 * stored in the model (src/openset.h). */
static int calibrate(run_t *r)
{
	char err[GF_ERRLEN];
	if (!r->ds.n_val) {
		gf_warn("no validation windows: no threshold stored (classify calls every record)");
		return 0;
	}
	if (gf_openset_calibrate(r->mf, &r->ds, r->o->batch, r->o->target_precision,
	                         r->o->background ? GF_OPENSET_BACKGROUND_CLASS : NULL, (size_t)r->o->crop_min, err,
	                         sizeof err)) {
		gf_error("calibration: %s", err);
		return -1;
	}
	gf_info("open set: %s", rf_ckpt_meta_get(&r->mf->meta, GF_OPENSET_KEY_CALIB));
	return 0;
}

static int64_t steps_of(const run_t *r)
{
	const gf_train_opts_t *o = r->o;
	if (o->steps) return o->steps;
	if (!o->epochs) return 1000;
	double windows = (double)r->ds.train_bases / gf_dataset_span(&r->ds);
	int64_t s = (int64_t)ceil(o->epochs * windows / ((double)o->batch * o->accum * gf_dist_size()));
	return s > 0 ? s : 1;
}

static int setup(run_t *r)
{
	char err[GF_ERRLEN];
	gf_train_opts_t *o = r->o;
	int n = 0, rc = 0;
	const char **names = class_names(o->labels, &n);
	rf_optim_config_t oc;
	rf_optim_default(&oc);
	oc.weight_decay = o->weight_decay;
	oc.clip = o->clip;
	if (!names || !(r->ckpt = beside(o->out, ".ckpt", 1)) || !(r->metrics = beside(o->out, ".metrics.tsv", 0))) {
		gf_error("out of memory");
		free(names);
		return -1;
	}
	if (!(r->be = gf_device_backend(o->device, err, sizeof err))) {
		gf_error("%s", err);
		rc = -1;
	}
	if (rc == 0 && o->threads) rf_cpu_set_threads(o->threads);
	if (rc == 0 && (check_writable(o->out) || check_writable(r->ckpt))) rc = -1;
	const char *from = o->resume && !strcmp(o->resume, "auto") ? (access(r->ckpt, F_OK) ? NULL : r->ckpt) : o->resume;
	if (rc == 0 && o->resume && !from) gf_info("--resume auto: no %s yet; starting at step 0", r->ckpt);
	if (rc == 0) rc = from ? resume_model(r, from, &oc, names, n) : new_model(r, &oc, names, n);
	free(names);
	if (rc == 0) {
		stamp(r->mf, o->argc, o->argv, from != NULL);
		rc = load_data(r);
	}
	return rc;
}

static void run_free(run_t *r)
{
	gf_dataset_free(&r->ds);
	rf_optim_free(r->opt);
	gf_modelfile_free(r->mf);
	free(r->ckpt);
	free(r->metrics);
}

int gf_train_run(gf_train_opts_t *o)
{
	run_t r = { .o = o, .vloss = NAN, .vacc = NAN };
	FILE *metrics = NULL;
	char b[32];
	/* under mpirun / srun one rank per process: rank 0 speaks and writes */
	int ranks = gf_dist_init(NULL, NULL);
	if (gf_dist_rank() > 0) gf_verbosity = GF_LOG_QUIET;
	int rc = setup(&r);
	if (rc == 0 && o->dry_run) {
		gf_info("dry run: the options, memory, inputs and labels are fine; nothing trained");
		run_free(&r);
		gf_dist_finalize();
		return GF_EXIT_OK;
	}
	if (rc == 0) {
		r.total = steps_of(&r);
		if ((int64_t)r.step > r.total) {
			gf_error("--resume: the checkpoint is at step %llu, beyond --steps %lld", (unsigned long long)r.step,
			         (long long)r.total);
			rc = -1;
		}
	}
	if (ranks > 1 && gf_dist_any(rc != 0) && rc == 0) {
		gf_error("another rank failed to set up (its message is above)");
		rc = -1;
	}
	if (rc == 0) gf_dist_sync_params(r.mf->model);
	if (rc == 0 && gf_dist_rank() == 0 && !(metrics = open_metrics(&r))) {
		if (ranks > 1) gf_dist_abort(GF_EXIT_ERROR, "cannot write the metrics %s", r.metrics);
		rc = -1;
	}
	if (rc == 0) {
		const rf_config_t *c = &r.mf->cfg;
		gf_info("model: %zu parameters, %d layers, d_model %d, %d heads, k=%d stride=%d, window %d; %lld steps of %d x %d windows on %s",
		        rf_model_n_params(r.mf->model), c->n_layers, c->d_model, c->n_heads, r.mf->k, r.mf->stride,
		        r.mf->window, (long long)r.total, o->batch * ranks, o->accum, r.be->name);
		if (ranks > 1) gf_info("data parallel: %d ranks of %d windows per micro-batch", ranks, o->batch);
		uint64_t first = r.step;
		double t0 = gf_wall_seconds();
		rc = loop(&r, metrics);
		if (ranks > 1 && r.step > first)
			gf_info("all-reduce of %zu floats: %.2f ms per step, %.1f%% of the training time",
			        rf_model_n_params(r.mf->model), 1e3 * gf_dist_allreduce_seconds() / (double)(r.step - first),
			        100 * gf_dist_allreduce_seconds() / (gf_wall_seconds() - t0));
	}
	int done = rc == 0 && (int64_t)r.step == r.total;
	if (rc == 0 && r.step > r.last_saved) rc = save(&r, r.ckpt, 1);
	if (rc == 0 && done && o->task == GF_TASK_CLASSIFY && gf_dist_rank() == 0) rc = calibrate(&r);
	if (rc == 0 && done) rc = save(&r, o->out, 0);
	if (metrics && fclose(metrics)) {
		gf_error("%s: write failed", r.metrics);
		rc = -1;
	}
	if (rc == 0 && !done)
		gf_info("stopped at step %llu of %lld%s; %s holds the state (--resume %s continues)",
		        (unsigned long long)r.step, (long long)r.total, r.preempted ? " by a signal" : "", r.ckpt, r.ckpt);
	if (rc == 0 && done) {
		char vt[96];
		gf_info("%llu steps on %s%s; model %s", (unsigned long long)r.step,
		        gf_fmt_si((double)r.ds.train_bases, "bp", b, sizeof b), val_text(r.vloss, r.vacc, vt, sizeof vt), o->out);
		gf_log_summary();
	}
	run_free(&r);
	gf_dist_finalize();
	return rc == -2 ? GF_EXIT_USAGE : rc ? GF_EXIT_ERROR : r.preempted ? GF_EXIT_PREEMPTED : GF_EXIT_OK;
}
