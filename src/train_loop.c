/* The training loop and the files it writes (metrics TSV, checkpoints);
 * see train_run.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/common.h"
#include "src/dist.h"
#include "src/files.h"
#include "src/log.h"
#include "src/openset.h"
#include "src/preempt.h"
#include "src/train_run.h"

#define MIN_LR_RATIO 0.1f

/* The metrics TSV: new with its header, or (resuming) cut back to the rows
 * up to the checkpoint's step. NULL after a message. */
FILE *gf_training_open_metrics(const gf_training_t *r)
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
	if (!(fp = gf_files_open_own_stream(r->metrics))) {
		free(old);
		return NULL;
	}
	fputs(header, fp);
	if (old) fwrite(old, 1, len, fp);
	free(old);
	fflush(fp);
	return fp;
}

int gf_training_save(gf_training_t *r, const char *path, int with_state)
{
	char err[GF_ERRLEN];
	if (gf_dist_rank() == 0 &&
	    gf_modelfile_save(path, r->mf, with_state ? r->opt : NULL, r->step, r->o->optim.seed, err, sizeof err)) {
		size_t n = strlen(err);
		if (r->have_ckpt)
			snprintf(err + n, sizeof err - n, "; %s still holds step %llu, the last good state", r->ckpt,
			         (unsigned long long)r->last_saved);
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

typedef struct {
	int32_t *tok, *labels, *pos, *tgt;
	uint8_t *mask;
	float *logits;
	char *scratch;
} bufs_t;

static int bufs_alloc(bufs_t *b, const gf_training_t *r)
{
	size_t n = (size_t)r->o->compute.batch * r->mf->window;
	b->tok = malloc(n * sizeof *b->tok);
	b->pos = malloc(n * sizeof *b->pos);
	b->tgt = malloc(n * sizeof *b->tgt);
	b->mask = malloc(n);
	b->labels = malloc(r->o->compute.batch * sizeof *b->labels);
	b->logits = malloc((size_t)r->o->compute.batch * (r->mf->n_classes + 1) * sizeof *b->logits);
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
static rf_batch_t make_batch(const gf_training_t *r, bufs_t *b, int B, uint64_t step, uint64_t row0)
{
	rf_batch_t batch = { .tokens = b->tok, .mask = b->mask, .B = B, .L = r->mf->window, .seed = r->o->optim.seed };
	if (r->o->task == GF_TASK_MLM) {
		batch.n_mlm = gf_mlm_mask(b->tok, b->mask, B, batch.L, r->mf->k, GF_TRAIN_MASK_PROB, r->o->optim.seed, step, row0,
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
static int validate(gf_training_t *r, bufs_t *b, double *loss, double *acc)
{
	char err[GF_ERRLEN];
	const int B = r->o->compute.batch, L = r->mf->window, C = r->mf->n_classes;
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
static int train_step(gf_training_t *r, bufs_t *b, float lr, double *loss, uint64_t *tokens)
{
	char err[GF_ERRLEN];
	const int B = r->o->compute.batch, L = r->mf->window, ranks = gf_dist_size();
	double sum = 0;
	uint64_t seen = 0;
	for (int a = 0; a < r->o->optim.accum; a++) {
		/* micro-batch a is rows [a, a+1) * ranks * B of the step's stream of
		 * windows and this rank takes its B of them: any number of ranks sees
		 * the windows of one process with --batch ranks*B */
		uint64_t row0 = ((uint64_t)a * ranks + gf_dist_rank()) * B;
		for (int j = 0; j < B; j++) {
			gf_dataset_sample(&r->ds, r->o->optim.seed, r->step, row0 + j, r->o->rc_aug, b->scratch, b->tok + (size_t)j * L,
			                  b->mask + (size_t)j * L, &b->labels[j]);
			gf_openset_crop(b->tok + (size_t)j * L, b->mask + (size_t)j * L, L, r->mf->k, r->mf->stride,
			                r->o->crop_frac, r->o->crop_min, r->o->optim.seed, r->step, row0 + j);
		}
		for (size_t j = 0; j < (size_t)B * L; j++) seen += b->mask[j];
		rf_batch_t batch = make_batch(r, b, B, r->step, row0);
		batch.step = r->step * r->o->optim.accum + a;
		batch.train = 1;
		float l;
		if (rf_model_forward_backward(r->mf->model, &batch, &l, err, sizeof err)) {
			if (ranks > 1) gf_dist_abort(GF_EXIT_ERROR, "step %llu: %s", (unsigned long long)r->step + 1, err);
			gf_error("step %llu: %s", (unsigned long long)r->step + 1, err);
			return -1;
		}
		sum += l;
	}
	*loss = sum / r->o->optim.accum;
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
	double gnorm = isfinite(*loss) ? rf_optim_step(r->opt, lr, 1.0f / r->o->optim.accum) : NAN;
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
const char *gf_training_val_text(double loss, double acc, char *buf, size_t len)
{
	int n = isnan(loss) ? (buf[0] = 0) : snprintf(buf, len, ", val loss %.4f", loss);
	if (!isnan(acc)) snprintf(buf + n, len - n, ", val accuracy %.4f", acc);
	return buf;
}

/* 1 when the validation loss has not improved for --patience validations
 * (on any rank: rank 0 validates); es.since < 0 after an error. */
static int early_stop(gf_training_t *r, double vloss)
{
	int s = gf_es_update(&r->es, r->mf->model, r->step, vloss);
	if (s < 0) r->es.since = -1;
	if (!gf_dist_any(s != 0)) return 0;
	if (s > 0)
		gf_info("early stop at step %llu: no lower validation loss in %d validations (best %.4f at step %llu)",
		        (unsigned long long)r->step, r->es.patience, r->es.best, (unsigned long long)r->es.best_step);
	return 1;
}

int gf_training_loop(gf_training_t *r, FILE *metrics)
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
		float lr = rf_lr_schedule(o->optim.lr, (int64_t)r->step, o->optim.warmup, r->total, MIN_LR_RATIO);
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
		if (val && r->es.patience && early_stop(r, vloss)) {
			if (r->es.since < 0) {
				rc = -1;
				break;
			}
			r->total = end = (int64_t)r->step;
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
			        last_loss, gf_training_val_text(vloss, vacc, vt, sizeof vt), (double)lr);
		}
		/* --keep-best: the model of the lowest validation loss beside the last (rank 0 validates and writes) */
		if (val && o->keep_best && !isnan(vloss) && !(vloss >= r->best_vloss)) {
			r->best_vloss = vloss;
			if ((rc = gf_training_save(r, r->best_path, 0))) break;
		}
		if (o->save_every && r->step % o->save_every == 0 && (rc = gf_training_save(r, r->ckpt, 1))) break;
		snprintf(prog.note, sizeof prog.note, "loss %.4f", loss);
		gf_progress_update(&prog, r->step - first);
	}
	gf_progress_end(&prog);
	gf_preempt_uninstall();
	bufs_free(&b);
	return rc;
}
