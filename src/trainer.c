/* train and pretrain: their common options and the run from set-up to the
 * last checkpoint; see trainer.h and train_run.h. */
#include "src/trainer.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "genomics/kmer.h"
#include "model/atomicfile.h"
#include "src/common.h"
#include "src/dist.h"
#include "src/files.h"
#include "src/log.h"
#include "src/markers.h"
#include "src/memlimit.h"
#include "src/modelfile.h"
#include "model/cpu/blascore.h"
#include "src/openset.h"
#include "src/train_run.h"

/* Warm-up should stay within 1/WARMUP_MAX_SHARE of the steps. */
#define WARMUP_MAX_SHARE 10

/* ---- options ------------------------------------------------------------- */

#define TR(f) offsetof(gf_train_opts_t, f)
enum { T_VAL_FRAC, T_VAL, T_VAL_EVERY, T_VAL_WINDOWS, T_LOG_EVERY, T_NO_RC_AUG, T_RESUME, T_SAVE_EVERY, T_STOP_AT,
       T_DRY_RUN, T_PATIENCE, T_KEEP_BEST, T_OVERRIDE };
static const gf_opt_t train_opts[] = {
	[T_VAL_FRAC] = { 0, "val-frac", GF_OPT_DOUBLE, TR(val_frac), 0, 0.9, "F",
	                 "hold out this fraction (whole records when short or many, else tails)" },
	[T_VAL] = { 0, "val", GF_OPT_LIST, TR(val_inputs), .off2 = TR(n_val_inputs), .arg = "FILE",
	            .help = "validate on FILE instead (repeatable)", .dflt = "none" },
	[T_VAL_EVERY] = { 0, "val-every", GF_OPT_I64, TR(val_every), 0, 1e15, "INT",
	                  "validate every INT steps and at the end" },
	[T_VAL_WINDOWS] = { 0, "val-windows", GF_OPT_INT, TR(val_windows), 0, 1 << 30, "INT",
	                    "at most INT validation windows, spread evenly" },
	[T_LOG_EVERY] = { 0, "log-every", GF_OPT_I64, TR(log_every), 1, 1e15, "INT", "metrics row every INT steps" },
	[T_NO_RC_AUG] = { 0, "no-rc-aug", GF_OPT_CLEAR, TR(rc_aug), .help = "no reverse-complement augmentation",
	                  .dflt = "on: half the windows" },
	[T_RESUME] = { 0, "resume", GF_OPT_STR, TR(resume), .arg = "CKPT", .dflt = "none",
	               .help = "continue from a checkpoint; 'auto': FILE.ckpt if it exists" },
	[T_SAVE_EVERY] = { 0, "save-every", GF_OPT_I64, TR(save_every), 0, 1e15, "INT",
	                   "checkpoint every INT steps (and at the end)" },
	[T_STOP_AT] = { 0, "stop-at", GF_OPT_I64, TR(stop_at), 1, 1e15, "INT",
	                "stop after step INT with a checkpoint, as if interrupted", "none" },
	[T_DRY_RUN] = { 0, "dry-run", GF_OPT_SET, TR(dry_run), .dflt = "off",
	                .help = "check the options, the memory, the inputs and the labels, then stop\n"
	                        "without training or writing anything" },
	[T_PATIENCE] = { 0, "patience", GF_OPT_INT, TR(patience), 0, 1 << 30, "INT",
	                 "stop after INT validations without a lower validation loss and write\n"
	                 "the model of the best one; 0: never", "0; 3 with settings from the data" },
	[T_KEEP_BEST] = { 0, "keep-best", GF_OPT_SET, TR(keep_best), .dflt = "off",
	                  .help = "also write the model of the lowest validation loss so far to FILE\n"
	                          "without .gfm + .best.gfm, beside the last" },
	[T_OVERRIDE] = { 0, "override-hparams", GF_OPT_SET, TR(override_hparams), .dflt = "off",
	                 .help = "--resume with other optimisation settings (--lr, --steps, --warmup,\n"
	                         "--batch, --accum, --weight-decay, --clip) than the checkpoint's,\n"
	                         "recorded in the model; without it they are refused" },
};
const gf_optgroup_t gf_group_train = GF_GROUP("Validation and the run", train_opts, gf_train_opts_t);

static const char *const output_help[] = {
	"the model (.gfm); beside it FILE.ckpt (training state) and\n"
	"the metrics TSV (FILE without .gfm + .metrics.tsv)",
};
static const char *const batch_help[] = { [GF_CO_BATCH] = "windows per micro-batch" };
static const char *const mlm_optim_help[] = { [GF_OP_SEED] = "seed of initialisation, sampling, masking, dropout" };
static const char *const classify_train_help[] = {
	[T_VAL] = "validate on FILE instead (repeatable), labelled by --val-labels or --labels",
};

int gf_train_opts_init(gf_train_opts_t *o, int task, int argc, char *argv[])
{
	memset(o, 0, sizeof *o);
	o->task = task;
	gf_arch_init(&o->arch);
	gf_optim_init(&o->optim);
	gf_compute_init(&o->compute);
	o->val_frac = 0.1;
	o->val_every = 100;
	o->log_every = 10;
	o->val_windows = 256;
	o->rc_aug = 1;
	o->save_every = 500;
	o->crop_frac = task == GF_TASK_CLASSIFY ? GF_TRAIN_CROP_FRAC : 0.0;
	o->crop_min = GF_OPENSET_MIN_LEN;
	o->target_precision = GF_TRAIN_TARGET_PRECISION;
	o->argc = argc;
	o->argv = argv;
	o->inputs = calloc(argc + 1, sizeof *o->inputs);
	o->val_inputs = calloc(argc + 1, sizeof *o->val_inputs);
	return gf_input_init(&o->in, argc) == 0 && o->inputs && o->val_inputs ? 0 : -1;
}

void gf_train_opts_free(gf_train_opts_t *o)
{
	free(o->inputs);
	free(o->val_inputs);
	gf_input_free(&o->in);
	gf_labels_free(o->labels);
	gf_labels_free(o->val_labels);
}

void gf_train_uses(gf_train_opts_t *o, gf_optuse_t *use)
{
	int mlm = o->task == GF_TASK_MLM;
	use[0] = (gf_optuse_t){ .g = &gf_group_output_required, .ctx = &o->out, GF_HELP(output_help) };
	use[1] = (gf_optuse_t){ .g = &gf_group_arch, .ctx = &o->arch, .skip = GF_OPT_BIT(GF_AR_BUCKETS) };
	use[2] = mlm ? (gf_optuse_t){ .g = &gf_group_optim, .ctx = &o->optim, GF_HELP(mlm_optim_help) }
	             : (gf_optuse_t){ .g = &gf_group_optim, .ctx = &o->optim };
	use[3] = mlm ? (gf_optuse_t){ .g = &gf_group_train, .ctx = o }
	             : (gf_optuse_t){ .g = &gf_group_train, .ctx = o, GF_HELP(classify_train_help) };
	use[4] = (gf_optuse_t){ .g = &gf_group_compute, .ctx = &o->compute, GF_HELP(batch_help) };
	use[5] = (gf_optuse_t){ .g = &gf_group_input, .ctx = &o->in };
}

const char gf_train_exit_status[] =
	"Exit status: 0 success, 1 error (also a non-finite loss), 2 usage error, 75 stopped by\n"
	"SIGINT, SIGTERM or SIGUSR1 after writing the checkpoint (--resume auto continues).\n";

int gf_train_check_opts(gf_train_opts_t *o, int argc, char *argv[])
{
	struct stat st;
	for (int i = optind; i < argc; i++) o->inputs[o->n_inputs++] = argv[i];
	gf_input_finish(&o->in);
	if (!o->out.path) gf_error("no output: -o MODEL.gfm is required");
	else if ((o->optim.given & GF_OPT_BIT(GF_OP_STEPS)) && (o->optim.given & GF_OPT_BIT(GF_OP_EPOCHS)))
		gf_error("--steps and --epochs exclude each other");
	else if (o->n_inputs == 0) gf_error("no input file (genoformer %s -h for help)", o->task == GF_TASK_MLM ? "pretrain" : "train");
	else if (o->init && o->resume) gf_error("--init and --resume exclude each other");
	else if (o->init_partial && !o->init) gf_error("--init-partial needs --init");
	else if (!strcmp(o->out.path, "-") || (stat(o->out.path, &st) == 0 && !S_ISREG(st.st_mode)))
		gf_error("-o %s: not a regular file: training writes a model with its checkpoint and metrics beside it "
		         "(give a file name)", o->out.path);
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


/* A writable output path, checked before any training (own: a name the
 * tool derived, where a symbolic link is refused). */
static int check_writable(const char *path, int own)
{
	char err[GF_ERRLEN];
	rf_afile_t *f = (own ? rf_afile_open_own : rf_afile_open)(path, err, sizeof err);
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
	if (!(o->optim.given & GF_OPT_BIT(GF_OP_EPOCHS))) return o->optim.steps;
	double windows = (double)r->ds.train_bases / gf_dataset_span(&r->ds);
	int64_t s = (int64_t)ceil(o->optim.epochs * windows / ((double)o->compute.batch * o->optim.accum * gf_dist_size()));
	return s > 0 ? s : 1;
}

/* The same-file guard over every input and output of the run. */
static int claim_files(const gf_training_t *r)
{
	const gf_train_opts_t *o = r->o;
	const char *own[] = { o->init, o->in.io.reference }, *outs[] = { o->out.path, r->ckpt, r->metrics }, *tsv;
	if (gf_files_claim(own, 2, NULL, 0) || gf_files_claim(o->inputs, o->n_inputs, NULL, 0) ||
	    gf_files_claim(o->val_inputs, o->n_val_inputs, NULL, 0))
		return -1;
	for (int l = 0; l < 2; l++)
		for (int i = 0; (tsv = gf_labels_tsv(l ? o->val_labels : o->labels, i)); i++)
			if (gf_files_claim(&tsv, 1, NULL, 0)) return -1;
	return gf_files_claim(NULL, 0, outs, 3);
}

static int setup(gf_training_t *r)
{
	gf_train_opts_t *o = r->o;
	int rc = 0;
	rf_optim_config_t oc;
	rf_optim_default(&oc);
	oc.weight_decay = o->optim.weight_decay;
	oc.clip = o->optim.clip;
	if (!(r->ckpt = beside(o->out.path, ".ckpt", 1)) || !(r->metrics = beside(o->out.path, ".metrics.tsv", 0)) ||
	    !(r->best_path = beside(o->out.path, ".best.gfm", 0))) {
		gf_error("out of memory");
		return -1;
	}
	if (!(r->be = gf_compute_backend(&o->compute))) rc = -1;
	if (rc == 0 && (claim_files(r) || check_writable(o->out.path, 0) || check_writable(r->ckpt, 1) ||
	                check_writable(r->metrics, 1)))
		rc = -1;
	/* rank 0 of a real run locks the model: two runs writing one -o would
	 * interleave their metrics and lose a model */
	if (rc == 0 && !o->dry_run && gf_dist_rank() == 0 && gf_files_lock(o->out.path)) rc = -1;
	const char *from = o->resume && !strcmp(o->resume, "auto") ? (access(r->ckpt, F_OK) ? NULL : r->ckpt) : o->resume;
	if (rc == 0 && o->resume && !from) gf_info("--resume auto: no %s yet; starting at step 0", r->ckpt);
	if (rc == 0 && !(r->mk = gf_mk_plan(o, (o->given & GF_OPT_BIT(T_PATIENCE)) != 0))) rc = -1;
	if (rc == 0) rc = gf_training_model(r, from, &oc);
	r->resumed = from != NULL;
	if (rc == 0) rc = gf_mk_stamp(r->mk, r->mf);
	gf_es_init(&r->es, o->patience);
	if (rc == 0) rc = gf_training_data(r);
	return rc;
}

/* The open-set thresholds for the target precision on the validation
 * windows, stored in the model (src/openset.h). */
static int calibrate(gf_training_t *r)
{
	char err[GF_ERRLEN];
	if (!r->ds.n_val) {
		gf_warn("no validation windows: no threshold stored (classify calls every record)");
		return 0;
	}
	if (gf_openset_calibrate(r->mf, &r->ds, r->o->compute.batch, r->o->target_precision,
	                         r->o->background ? GF_OPENSET_BACKGROUND_CLASS : NULL, (size_t)r->o->crop_min, err,
	                         sizeof err)) {
		gf_error("calibration: %s", err);
		return -1;
	}
	gf_info("open set: %s", rf_ckpt_meta_get(&r->mf->meta, GF_OPENSET_KEY_CALIB));
	return 0;
}

/* The best parameters on validation (--patience) into the model to be
 * written; 1 when swapped (swap again for the checkpoint). */
static int keep_best(gf_training_t *r)
{
	uint64_t best = gf_es_swap(&r->es, r->mf->model, r->step);
	if (best)
		gf_info("the model keeps the parameters of step %llu, the lowest validation loss (%.4f)",
		        (unsigned long long)best, r->es.best);
	return best != 0;
}

static void run_free(gf_training_t *r)
{
	gf_files_unlock();
	gf_mk_free(r->mk);
	gf_es_free(&r->es);
	gf_dataset_free(&r->ds);
	rf_optim_free(r->opt);
	gf_modelfile_free(r->mf);
	free(r->ckpt);
	free(r->metrics);
	free(r->best_path);
}

int gf_train_run(gf_train_opts_t *o)
{
	gf_training_t r = { .o = o, .vloss = NAN, .vacc = NAN, .best_vloss = INFINITY };
	FILE *metrics = NULL;
	char b[32];
	/* under mpirun / srun one rank per process: rank 0 speaks and writes */
	int ranks = gf_dist_init(NULL, NULL);
	if (gf_dist_rank() > 0) gf_verbosity = GF_LOG_QUIET;
	gf_mem_report(o->dry_run); /* the dry run says what the memory check planned, on the device it would use */
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
		char err[GF_ERRLEN];
		gf_hparams_t h = { o->optim.lr, o->optim.weight_decay, o->optim.clip, r.total, o->optim.warmup,
		                   o->compute.batch, o->optim.accum };
		if (rc == 0 && gf_guard_hparams(&r.mf->meta, &h, r.resumed, o->override_hparams, err, sizeof err)) {
			gf_error("%s", err);
			rc = -2;
		}
		/* warm-up eats the run when it is not well below the steps: the rate
		 * barely reaches --lr before the cosine takes it down again */
		if (rc == 0 && o->optim.warmup > 0 && (int64_t)o->optim.warmup * WARMUP_MAX_SHARE > r.total)
			gf_warn("--warmup %d is %.0f%% of the %lld steps: the learning rate hardly reaches --lr; keep it within "
			        "a tenth of the steps (--warmup %lld)", o->optim.warmup, 100.0 * o->optim.warmup / (double)r.total,
			        (long long)r.total, (long long)(r.total / WARMUP_MAX_SHARE));
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
		        r.mf->window, (long long)r.total, o->compute.batch * ranks, o->optim.accum, r.be->name);
		if (ranks > 1) gf_info("data parallel: %d ranks of %d windows per micro-batch", ranks, o->compute.batch);
		gf_debug("OpenBLAS %s kernels", rf_cpu_blas_core());
		uint64_t first = r.step;
		double t0 = gf_wall_seconds();
		rc = gf_training_loop(&r, metrics);
		if (ranks > 1 && r.step > first)
			gf_info("all-reduce of %zu floats: %.2f ms per step, %.1f%% of the training time",
			        rf_model_n_params(r.mf->model), 1e3 * gf_dist_allreduce_seconds() / (double)(r.step - first),
			        100 * gf_dist_allreduce_seconds() / (gf_wall_seconds() - t0));
	}
	int done = rc == 0 && (int64_t)r.step == r.total;
	/* the model first: on a nearly full disk it fits where the checkpoint
	 * (three times its size) may not */
	int swapped = rc == 0 && done && keep_best(&r);
	if (rc == 0 && done) rc = gf_mk_finish(&r);
	if (rc == 0 && done && gf_dist_rank() == 0) rc = gf_training_index(&r);
	if (rc == 0 && done && o->task == GF_TASK_CLASSIFY && gf_dist_rank() == 0) rc = calibrate(&r);
	if (rc == 0 && done) rc = gf_training_save(&r, o->out.path, 0);
	if (swapped) gf_es_swap(&r.es, r.mf->model, r.step);   /* the last step's parameters for the checkpoint */
	if (rc == 0 && r.step > r.last_saved) rc = gf_training_save(&r, r.ckpt, 1);
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
		        gf_fmt_si((double)r.ds.train_bases, "bp", b, sizeof b), gf_training_val_text(r.vloss, r.vacc, vt, sizeof vt), o->out.path);
		gf_log_summary();
	}
	run_free(&r);
	gf_dist_finalize();
	return rc == -2 ? GF_EXIT_USAGE : rc ? GF_EXIT_ERROR : r.preempted ? GF_EXIT_PREEMPTED : GF_EXIT_OK;
}
