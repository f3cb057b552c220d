/* The shared option groups: one table each; see optgroups.h. */
#include "src/optgroups.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "genomics/kmer.h"
#include "model/config.h"
#include "src/common.h"
#include "src/gpu.h"
#include "src/log.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* ---- input ------------------------------------------------------------------ */

#define IN(f) offsetof(gf_input_opts_t, f)
static const gf_opt_t input_opts[] = {
	[GF_IN_REGION] = { 'r', "region", GF_OPT_LIST, IN(regions), .off2 = IN(n_regions), .arg = "STR",
	                   .help = "only chr or chr:beg-end (1-based, inclusive); repeatable; needs an index", .dflt = "all" },
	[GF_IN_HTS_THREADS] = { 0, "hts-threads", GF_OPT_INT, IN(io.threads), 1, GF_THREADS_MAX, "INT",
	                        "htslib decompression threads" },
	[GF_IN_AS_STORED] = { 0, "as-stored", GF_OPT_SET, IN(io.as_stored),
	                      .help = "reverse-strand reads as stored in SAM/BAM/CRAM", .dflt = "as sequenced" },
	[GF_IN_KEEP_SEC] = { 0, "keep-secondary", GF_OPT_SET, IN(io.keep_secondary),
	                     .help = "keep secondary (0x100) alignments", .dflt = "skipped" },
	[GF_IN_KEEP_SUPP] = { 0, "keep-supplementary", GF_OPT_SET, IN(io.keep_supplementary),
	                      .help = "keep supplementary (0x800) alignments", .dflt = "skipped" },
	[GF_IN_KEEP_QCFAIL] = { 0, "keep-qcfail", GF_OPT_SET, IN(io.keep_qcfail),
	                        .help = "keep QC-failed (0x200) reads", .dflt = "skipped" },
	[GF_IN_SKIP_UNMAPPED] = { 0, "skip-unmapped", GF_OPT_SET, IN(io.skip_unmapped), .help = "skip unmapped reads",
	                          .dflt = "kept" },
	[GF_IN_REFERENCE] = { 0, "reference", GF_OPT_STR, IN(io.reference), .arg = "FILE",
	                      .help = "CRAM reference FASTA", .dflt = "none" },
};
const gf_optgroup_t gf_group_input = GF_GROUP("Input ('-' = stdin; FASTA/FASTQ plain or gzip, SAM/BAM/CRAM)",
                                               input_opts, gf_input_opts_t);

int gf_input_init(gf_input_opts_t *in, int argc)
{
	memset(in, 0, sizeof *in);
	gf_seqio_opts_init(&in->io);
	in->regions = calloc(argc > 0 ? argc : 1, sizeof *in->regions);
	return in->regions ? 0 : -1;
}

void gf_input_finish(gf_input_opts_t *in)
{
	in->io.regions = in->regions;
	in->io.n_regions = in->n_regions;
}

void gf_input_free(gf_input_opts_t *in)
{
	free(in->regions);
	in->regions = NULL;
}

/* ---- compute ---------------------------------------------------------------- */

/* --device: a name checked while parsing, so a wrong one is a usage error. */
static int check_device(void *ctx, const gf_opt_t *opt, const char *arg)
{
	char err[GF_ERRLEN];
	(void)ctx;
	(void)opt;
	if (!rf_device_check(arg, err, sizeof err)) return 0;
	gf_error("%s", err);
	return GF_EXIT_USAGE;
}

#define CO(f) offsetof(gf_compute_opts_t, f)
static const gf_opt_t compute_opts[] = {
	[GF_CO_THREADS] = { 't', "threads", GF_OPT_INT, CO(threads), 1, GF_THREADS_MAX, "INT",
	                    "compute threads; -@ INT is the same", "all cores, or OMP_NUM_THREADS", .alt = '@' },
	[GF_CO_DEVICE] = { 0, "device", GF_OPT_STR, CO(device), .arg = "NAME", .call = check_device,
	                   .help = "cpu, cuda (the GPU of the local rank: GPU 0 in a single process), cuda:N (GPU N) or auto (cuda when usable, else cpu)" },
	[GF_CO_BATCH] = { 'b', "batch", GF_OPT_INT, CO(batch), 1, GF_BATCH_MAX, "INT", "windows per forward pass" },
};
const gf_optgroup_t gf_group_compute = GF_GROUP("Compute", compute_opts, gf_compute_opts_t);

void gf_compute_init(gf_compute_opts_t *c)
{
	memset(c, 0, sizeof *c);
	c->device = "auto";
	c->batch = 8;
}

const rf_backend_t *gf_compute_backend(const gf_compute_opts_t *c)
{
	char err[GF_ERRLEN], note[GF_ERRLEN];
	if (c->threads) rf_cpu_set_threads(c->threads);
	const rf_backend_t *be = gf_gpu_backend(c->device, note, sizeof note, err, sizeof err);
	if (!be) gf_error("%s", err);
	else if (note[0]) gf_info("%s", note);
	return be;
}

/* ---- architecture ----------------------------------------------------------- */

#define AR(f) offsetof(gf_arch_opts_t, f)
static const gf_opt_t arch_opts[] = {
	[GF_AR_K] = { 'k', NULL, GF_OPT_INT, AR(k), 1, GF_KMER_MAX_K, "INT", "k-mer length, 1.." STR(GF_KMER_MAX_K) },
	[GF_AR_STRIDE] = { 's', "stride", GF_OPT_INT, AR(stride), 1, GF_KMER_MAX_K, "INT",
	                   "bases between k-mer starts, 1 (overlapping) .. k (non-overlapping)", "k" },
	[GF_AR_WINDOW] = { 'L', "window", GF_OPT_INT, AR(window), 1, 1 << 30, "INT", "tokens per window" },
	[GF_AR_LAYERS] = { 0, "layers", GF_OPT_INT, AR(layers), 1, RF_MAX_LAYERS, "INT", "reversible layers" },
	[GF_AR_D_MODEL] = { 0, "d-model", GF_OPT_INT, AR(d_model), 2, 1 << 16, "INT", "width of each residual stream" },
	[GF_AR_HEADS] = { 0, "heads", GF_OPT_INT, AR(heads), 1, 1 << 10, "INT", "attention heads; divides --d-model" },
	[GF_AR_D_FF] = { 0, "d-ff", GF_OPT_INT, AR(d_ff), 1, 1 << 20, "INT", "feed-forward width" },
	[GF_AR_ATTN] = { 0, "attn", GF_OPT_STR, AR(attn), .arg = "LIST",
	                 .help = "attention per layer, cycled: full, local, lsh" },
	[GF_AR_HASHES] = { 0, "hashes", GF_OPT_INT, AR(hashes), 1, 64, "INT", "LSH rounds" },
	[GF_AR_BUCKETS] = { 0, "buckets", GF_OPT_INT, AR(buckets), 0, 65534, "INT", "LSH buckets", "automatic" },
	[GF_AR_CHUNK] = { 0, "chunk", GF_OPT_INT, AR(chunk), 1, 1 << 20, "INT", "local/LSH chunk length in tokens" },
	[GF_AR_FF_CHUNK] = { 0, "ff-chunk", GF_OPT_INT, AR(ff_chunk), 0, 1 << 30, "INT",
	                     "feed-forward chunk in tokens, 0 = whole window", "whole window" },
	[GF_AR_DROPOUT] = { 0, "dropout", GF_OPT_FLOAT, AR(dropout), 0, 0.99, "F", "hidden dropout", "none" },
};
const gf_optgroup_t gf_group_arch = GF_GROUP("Model", arch_opts, gf_arch_opts_t);

void gf_arch_init(gf_arch_opts_t *a)
{
	*a = (gf_arch_opts_t){ .k = 6, .window = 1024, .layers = 4, .d_model = 128, .heads = 4, .d_ff = 512,
		                   .hashes = 4, .chunk = 64, .ff_chunk = 1024, .attn = "local,lsh", .dropout = 0.1f };
}

/* ---- optimisation ----------------------------------------------------------- */

#define OP(f) offsetof(gf_optim_opts_t, f)
static const gf_opt_t optim_opts[] = {
	[GF_OP_LR] = { 0, "lr", GF_OPT_FLOAT, OP(lr), 0, 1e30, "F", "peak learning rate" },
	[GF_OP_STEPS] = { 0, "steps", GF_OPT_I64, OP(steps), 1, 1e15, "INT", "optimizer steps" },
	[GF_OP_EPOCHS] = { 0, "epochs", GF_OPT_DOUBLE, OP(epochs), 1e-9, 1e9, "F",
	                   "instead of --steps: passes over the training bases", "none" },
	[GF_OP_ACCUM] = { 0, "accum", GF_OPT_INT, OP(accum), 1, 1 << 20, "INT",
	                  "micro-batches per step (gradient accumulation)" },
	[GF_OP_WARMUP] = { 0, "warmup", GF_OPT_INT, OP(warmup), 0, 1 << 30, "INT", "warm-up steps" },
	[GF_OP_WD] = { 0, "weight-decay", GF_OPT_FLOAT, OP(weight_decay), 0, 1e3, "F",
	               "decoupled weight decay on matrices" },
	[GF_OP_CLIP] = { 0, "clip", GF_OPT_FLOAT, OP(clip), 0, 1e30, "F", "global gradient-norm limit, 0 = none", "none" },
	[GF_OP_SEED] = { 0, "seed", GF_OPT_I64, OP(seed), 0, 9007199254740992.0, "INT",
	                 "seed of initialisation, sampling, dropout" },
};
const gf_optgroup_t gf_group_optim = GF_GROUP("Optimisation (AdamW, linear warm-up then cosine to lr/10)",
                                               optim_opts, gf_optim_opts_t);

void gf_optim_init(gf_optim_opts_t *o)
{
	*o = (gf_optim_opts_t){ .lr = 1e-3f, .weight_decay = 0.01f, .clip = 1.0f, .steps = 1000, .accum = 1,
		                    .warmup = 100, .seed = 1 };
}

/* ---- output and verbosity --------------------------------------------------- */

static const gf_opt_t output_opts[] = {
	{ 'o', "output", GF_OPT_STR, offsetof(gf_output_opts_t, path), .arg = "FILE", .help = "the output, written atomically",
	  .dflt = "stdout" },
	{ 'o', "output", GF_OPT_STR, offsetof(gf_output_opts_t, path), .arg = "FILE", .help = "the output, written atomically",
	  .dflt = "required" },
};
const gf_optgroup_t gf_group_output = { "Output", output_opts, 1, sizeof(gf_output_opts_t) };
const gf_optgroup_t gf_group_output_required = { "Output", output_opts + 1, 1, sizeof(gf_output_opts_t) };

static int set_verbosity(void *ctx, const gf_opt_t *opt, const char *arg)
{
	(void)ctx;
	(void)arg;
	gf_verbosity = opt->letter == 'q' ? GF_LOG_QUIET : GF_LOG_VERBOSE;
	return 0;
}

static const gf_opt_t verbosity_opts[] = {
	{ 'q', "quiet", GF_OPT_CALL, .call = set_verbosity, .help = "errors only on stderr" },
	{ 'v', "verbose", GF_OPT_CALL, .call = set_verbosity, .help = "more log lines" },
	{ 'h', "help", GF_OPT_HELP, .help = "this help" },
};
const gf_optgroup_t gf_group_verbosity = { "", verbosity_opts, 3, 0 };
