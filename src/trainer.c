/* train and pretrain: their common options and the run from set-up to the
 * last checkpoint; see trainer.h and train_run.h. */
#include "src/trainer.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "genomics/kmer.h"
#include "model/atomicfile.h"
#include "src/common.h"
#include "src/dist.h"
#include "src/log.h"
#include "src/markers.h"
#include "src/modelfile.h"
#include "src/train_run.h"

/* ---- options ------------------------------------------------------------- */

enum {
	O_D_MODEL = 300, O_LAYERS, O_HEADS, O_D_FF, O_ATTN, O_HASHES, O_CHUNK, O_FF_CHUNK, O_DROPOUT,
	O_LR, O_STEPS, O_EPOCHS, O_ACCUM, O_WARMUP, O_WD, O_CLIP, O_SEED, O_VAL_FRAC, O_VAL, O_VAL_EVERY,
	O_VAL_WINDOWS, O_LOG_EVERY, O_DEVICE, O_RESUME, O_SAVE_EVERY, O_STOP_AT, O_NO_RC_AUG, O_DRY_RUN, O_PATIENCE
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
	{ "no-rc-aug", no_argument, 0, O_NO_RC_AUG }, { "dry-run", no_argument, 0, O_DRY_RUN },
	{ "patience", required_argument, 0, O_PATIENCE }, { 0, 0, 0, 0 }
};


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
	o->patience = -1;
	o->rc_aug = 1;
	o->device = "auto";
	o->save_every = 500;
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
	        "      --patience INT   stop after INT validations without a lower validation loss and\n"
	        "                       write the best model; 0 = never [3 with settings from the data, else 0]\n"
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
	case O_PATIENCE: return parse_int("--patience", arg, 0, 1 << 30, &o->patience);
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
	else if (rf_device_check(o->device, err, sizeof err))
		gf_error("%s", err);
	else return 0;
	return -1;
}

/* path with its ".gfm" (if any) replaced by suffix. */
static char *beside(const char *path, const char *suffix, int keep_ext)
{
	size_t n = strlen(path);
	if (!keep_ext && n > 4 && !strcmp(path + n - 4, ".gfm")) n -= 4;
	char *s = malloc(n + strlen(suffix) + 1);
	if (s) sprintf(s, "%.*s%s", (int)n, path, suffix);
	return s;
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

/* ---- the run --------------------------------------------------------------- */

static int64_t steps_of(const gf_training_t *r)
{
	const gf_train_opts_t *o = r->o;
	if (o->steps) return o->steps;
	if (!o->epochs) return 1000;
	double windows = (double)r->ds.train_bases / gf_dataset_span(&r->ds);
	int64_t s = (int64_t)ceil(o->epochs * windows / ((double)o->batch * o->accum * gf_dist_size()));
	return s > 0 ? s : 1;
}

static int setup(gf_training_t *r)
{
	char err[GF_ERRLEN];
	gf_train_opts_t *o = r->o;
	int rc = 0;
	rf_optim_config_t oc;
	rf_optim_default(&oc);
	oc.weight_decay = o->weight_decay;
	oc.clip = o->clip;
	if (!(r->ckpt = beside(o->out, ".ckpt", 1)) || !(r->metrics = beside(o->out, ".metrics.tsv", 0))) {
		gf_error("out of memory");
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
	if (rc == 0 && !(r->mk = gf_mk_plan(o))) rc = -1;
	if (rc == 0) rc = gf_training_model(r, from, &oc);
	if (rc == 0) rc = gf_mk_stamp(r->mk, r->mf);
	gf_es_init(&r->es, o->patience > 0 ? o->patience : 0);
	if (rc == 0) rc = gf_training_data(r);
	return rc;
}

/* The best parameters on validation become the model's (--patience). */
static void keep_best(gf_training_t *r)
{
	uint64_t best = gf_es_restore(&r->es, r->mf->model, r->step);
	if (best && best != r->step)
		gf_info("the model keeps the parameters of step %llu, the lowest validation loss (%.4f)",
		        (unsigned long long)best, r->es.best);
}

static void run_free(gf_training_t *r)
{
	gf_dataset_free(&r->ds);
	rf_optim_free(r->opt);
	gf_modelfile_free(r->mf);
	gf_mk_free(r->mk);
	gf_es_free(&r->es);
	free(r->ckpt);
	free(r->metrics);
}

int gf_train_run(gf_train_opts_t *o)
{
	gf_training_t r = { .o = o, .vloss = NAN, .vacc = NAN };
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
	if (rc == 0 && gf_dist_rank() == 0 && !(metrics = gf_training_open_metrics(&r))) {
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
		rc = gf_training_loop(&r, metrics);
		if (ranks > 1 && r.step > first)
			gf_info("all-reduce of %zu floats: %.2f ms per step, %.1f%% of the training time",
			        rf_model_n_params(r.mf->model), 1e3 * gf_dist_allreduce_seconds() / (double)(r.step - first),
			        100 * gf_dist_allreduce_seconds() / (gf_wall_seconds() - t0));
	}
	int done = rc == 0 && (int64_t)r.step == r.total;
	if (rc == 0 && r.step > r.last_saved) rc = gf_training_save(&r, r.ckpt, 1);
	if (rc == 0 && done) keep_best(&r);
	if (rc == 0 && done) rc = gf_mk_finish(&r);
	if (rc == 0 && done) rc = gf_training_save(&r, o->out, 0);
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
		        gf_fmt_si((double)r.ds.train_bases, "bp", b, sizeof b), gf_training_val_text(r.vloss, r.vacc, vt, sizeof vt), o->out);
		gf_log_summary();
	}
	run_free(&r);
	gf_dist_finalize();
	return rc == -2 ? GF_EXIT_USAGE : rc ? GF_EXIT_ERROR : r.preempted ? GF_EXIT_PREEMPTED : GF_EXIT_OK;
}
