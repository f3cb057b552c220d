/* genoformer bench engine: times training or inference steps of the Reformer
 * on random tokens and prints one TSV line (step time, tokens/s, arena peak,
 * process peak RSS), so scripts/bench/engine.sh can build its table from one
 * process per configuration. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/optim.h"
#include "model/reformer.h"
#include "model/rng.h"
#include "src/cmd/commands.h"
#include "src/log.h"
#include "src/optgroups.h"
#include "src/opts.h"

typedef struct {
	uint64_t given;
	int train, reversible, steps, warmup, header;
	gf_arch_opts_t arch;
	gf_compute_opts_t compute;
} bench_opts_t;

#define BO(f) offsetof(bench_opts_t, f)
static const gf_opt_t bench_opts[] = {
	{ 'B', NULL, GF_OPT_INT, BO(compute.batch), 1, GF_BATCH_MAX, "INT", .help = "the same as --batch" },
	{ 0, "train", GF_OPT_SET, BO(train), .help = "time training steps (forward, backward, AdamW)", .dflt = "default" },
	{ 0, "infer", GF_OPT_CLEAR, BO(train), .help = "time inference (forward, classifier logits)" },
	{ 0, "stored", GF_OPT_CLEAR, BO(reversible), .dflt = "reversible",
	  .help = "store every layer's inputs instead of reversible recomputation" },
	{ 0, "steps", GF_OPT_INT, BO(steps), 1, 1 << 20, "INT", .help = "timed steps" },
	{ 0, "warmup", GF_OPT_INT, BO(warmup), 0, 1 << 20, "INT", .help = "untimed steps first" },
	{ 0, "header", GF_OPT_SET, BO(header), .help = "print the TSV header line first" },
};
static const gf_optgroup_t bench_group = GF_GROUP("Timing", bench_opts, bench_opts_t);
static const char *const arch_help[] = { [GF_AR_WINDOW] = "tokens per sequence" };
static const char *const compute_help[] = { [GF_CO_BATCH] = "sequences per step" };

enum { N_USES = 4 };

static void uses(bench_opts_t *o, gf_optuse_t *use)
{
	use[0] = (gf_optuse_t){ .g = &gf_group_arch, .ctx = &o->arch, GF_HELP(arch_help),
	                        .skip = GF_OPT_BIT(GF_AR_K) | GF_OPT_BIT(GF_AR_STRIDE) | GF_OPT_BIT(GF_AR_DROPOUT) };
	use[1] = (gf_optuse_t){ .g = &gf_group_compute, .ctx = &o->compute, GF_HELP(compute_help) };
	use[2] = (gf_optuse_t){ .g = &bench_group, .ctx = o };
	use[3] = (gf_optuse_t){ .g = &gf_group_verbosity };
}

/* The engine's defaults: a model larger than train's, one long sequence. */
static void bench_opts_init(bench_opts_t *o)
{
	*o = (bench_opts_t){ .train = 1, .reversible = 1, .steps = 2, .warmup = 1 };
	gf_arch_init(&o->arch);
	o->arch.window = 16384;
	o->arch.layers = 6;
	o->arch.d_model = 256;
	o->arch.d_ff = 1024;
	o->arch.ff_chunk = 2048;
	o->arch.attn = "lsh";
	gf_compute_init(&o->compute);
	o->compute.threads = 2;
	o->compute.batch = 1;
}

static const gf_cmdhelp_t help = {
	"Usage: genoformer bench engine [options]\n"
	"Times Reformer steps on random tokens and prints one TSV line:\n"
	"mode attn L B layers reversible ff_chunk threads device steps step_s tokens_per_s arena_peak_mib peak_rss_mib\n\n",
	NULL,
};

/* The help over the defaults (also for a bare `genoformer bench`). */
static void usage(FILE *fp)
{
	bench_opts_t o;
	gf_optuse_t use[N_USES];
	bench_opts_init(&o);
	uses(&o, use);
	gf_opts_help(fp, &help, use, N_USES);
}

static int parse_opts(bench_opts_t *o, int argc, char *argv[])
{
	gf_optuse_t use[N_USES];
	uses(o, use);
	int rc = gf_opts_parse(argc, argv, use, N_USES, &help);
	if (rc >= 0) return rc;
	if (optind != argc) {
		gf_error("unexpected argument '%s' (bench engine takes options only)", argv[optind]);
		return GF_EXIT_USAGE;
	}
	return -1;
}

/* The model of the options: rf_config_default with the architecture's
 * sizes, no dropout, two classes. 0 or -1 with a message. */
static int bench_config(const gf_arch_opts_t *a, rf_config_t *c, char *err, size_t errlen)
{
	rf_config_default(c);
	c->dropout = 0.0f;
	c->n_classes = 2;
	c->n_layers = a->layers;
	c->d_model = a->d_model;
	c->n_heads = a->heads;
	c->d_ff = a->d_ff;
	c->n_hashes = a->hashes;
	c->n_buckets = a->buckets;
	c->chunk_len = a->chunk;
	c->ff_chunk = a->ff_chunk;
	return rf_config_set_layers(c, a->attn, err, errlen);
}

/* Axial positions for at least L tokens: the default 512 x 2048, with more
 * rows when L is longer. */
static void fit_axial(rf_config_t *c, int L)
{
	int Lp = rf_config_padded_len(c, L);
	int rows = (Lp + c->axial2 - 1) / c->axial2;
	if (rows > c->axial1) c->axial1 = rows;
}

static int bench_engine(int argc, char *argv[])
{
	bench_opts_t o;
	rf_config_t cfg;
	char err[512] = "";
	bench_opts_init(&o);
	int rc = parse_opts(&o, argc, argv);
	if (rc >= 0) return rc;
	if (bench_config(&o.arch, &cfg, err, sizeof err)) {
		gf_error("%s", err);
		return GF_EXIT_USAGE;
	}
	const int L = o.arch.window, B = o.compute.batch;
	fit_axial(&cfg, L);
	if (cfg.axial_d1 >= cfg.d_model) cfg.axial_d1 = cfg.d_model / 4 > 0 ? cfg.d_model / 4 : 1;
	if (rf_config_validate(&cfg, err, sizeof err)) {
		gf_error("%s", err);
		return GF_EXIT_USAGE;
	}
	const rf_backend_t *be = gf_compute_backend(&o.compute);
	if (!be) return GF_EXIT_ERROR;

	rf_model_t *m = rf_model_create(&cfg, be, err, sizeof err);
	rf_optim_t *opt = NULL;
	rf_optim_config_t oc;
	rf_optim_default(&oc);
	if (m && o.train) opt = rf_optim_create(m, &oc, err, sizeof err);
	size_t n = (size_t)B * L;
	int32_t *tok = malloc(n * sizeof *tok), *labels = malloc((size_t)B * sizeof *labels);
	if (!m || (o.train && !opt) || !tok || !labels) {
		gf_error("%s", m && (opt || !o.train) ? "out of host memory" : err);
		free(tok);
		free(labels);
		rf_optim_free(opt);
		rf_model_free(m);
		return GF_EXIT_ERROR;
	}
	rf_model_set_reversible(m, o.reversible);
	uint64_t key = rf_rng_key(1, 0, -1, RF_RNG_DATA);
	for (size_t i = 0; i < n; i++) tok[i] = 5 + (int32_t)(rf_rng_u64(key, i) % (uint64_t)(cfg.vocab - 5));
	for (int b = 0; b < B; b++) labels[b] = b % 2;
	float *logits = malloc((size_t)B * 2 * sizeof *logits);

	rc = GF_EXIT_OK;
	double t0 = 0.0;
	for (int s = 0; s < o.warmup + o.steps && rc == GF_EXIT_OK; s++) {
		if (s == o.warmup) {
			be->sync();
			t0 = gf_wall_seconds();
		}
		rf_batch_t b = { .tokens = tok, .B = B, .L = L, .labels = labels, .seed = 1, .step = (uint64_t)s,
		                 .train = o.train };
		float loss = 0.0f;
		int r;
		if (o.train) {
			rf_model_zero_grads(m);
			r = rf_model_forward_backward(m, &b, &loss, err, sizeof err);
			if (!r) rf_optim_step(opt, 1e-4f, 1.0f);
		} else {
			r = rf_model_forward(m, &b, &loss, logits, err, sizeof err);
		}
		if (r) {
			gf_error("%s", err);
			rc = GF_EXIT_ERROR;
		}
		gf_debug("step %d: loss %.4f, %.2f s", s, (double)loss, gf_wall_seconds());
	}
	if (rc == GF_EXIT_OK) {
		be->sync();
		double step_s = (gf_wall_seconds() - t0) / o.steps;
		if (o.header)
			printf("mode\tattn\tL\tB\tlayers\treversible\tff_chunk\tthreads\tdevice\tsteps\tstep_s\ttokens_per_s\t"
			       "arena_peak_mib\tpeak_rss_mib\n");
		printf("%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%d\t%.4f\t%.1f\t%.1f\t%.1f\n", o.train ? "train" : "infer", o.arch.attn,
		       L, B, cfg.n_layers, o.reversible, cfg.ff_chunk, o.compute.threads, be->name, o.steps, step_s,
		       (double)n / step_s, rf_model_peak_bytes(m) / 1048576.0, gf_peak_rss() / 1048576.0);
		fflush(stdout);
	}
	free(logits);
	free(tok);
	free(labels);
	rf_optim_free(opt);
	rf_model_free(m);
	return rc;
}

int cmd_bench(int argc, char *argv[])
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? GF_EXIT_USAGE : GF_EXIT_OK;
	}
	if (strcmp(argv[1], "engine")) {
		gf_error("unknown benchmark '%s' (known: engine)", argv[1]);
		return GF_EXIT_USAGE;
	}
	return bench_engine(argc - 1, argv + 1);
}
