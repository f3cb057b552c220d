/* genoformer bench engine: times training or inference steps of the Reformer
 * on random tokens and prints one TSV line (step time, tokens/s, arena peak,
 * process peak RSS), so scripts/bench/engine.sh can build its table from one
 * process per configuration. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/optim.h"
#include "model/reformer.h"
#include "model/rng.h"
#include "src/cmd/commands.h"
#include "src/log.h"
#include "src/opts.h"

typedef struct {
	rf_config_t cfg;
	const char *attn, *device;
	int L, B, train, steps, warmup, threads, header;
	int reversible;
} bench_opts_t;

static void usage(FILE *fp)
{
	fprintf(fp,
	        "Usage: genoformer bench engine [options]\n"
	        "Times Reformer steps on random tokens and prints one TSV line:\n"
	        "mode attn L B layers reversible ff_chunk threads device steps step_s tokens_per_s arena_peak_mib peak_rss_mib\n\n"
	        "  -L INT            tokens per sequence [16384]\n"
	        "  -B INT            sequences per step [1]\n"
	        "      --attn STR    attention per layer: lsh, local, full or a pattern like local,lsh [lsh]\n"
	        "      --layers INT  layers [6]\n"
	        "      --d-model INT width of each residual stream [256]\n"
	        "      --heads INT   attention heads [4]\n"
	        "      --d-ff INT    feed-forward width [1024]\n"
	        "      --hashes INT  LSH rounds [4]\n"
	        "      --buckets INT LSH buckets, 0 = automatic [0]\n"
	        "      --chunk INT   LOCAL/LSH chunk length [64]\n"
	        "      --ff-chunk INT  feed-forward rows per chunk, 0 = unchunked [2048]\n"
	        "      --train       time training steps (forward, backward, AdamW) [default]\n"
	        "      --infer       time inference (forward, classifier logits)\n"
	        "      --stored      store every layer's inputs instead of reversible recomputation [reversible]\n"
	        "      --steps INT   timed steps [2]\n"
	        "      --warmup INT  untimed steps first [1]\n"
	        "      --device STR  cpu or cuda [cpu]\n"
	        "  -t, --threads INT CPU threads [2]\n"
	        "      --header      print the TSV header line first\n"
	        "  -h, --help        this help\n"
	        "Exit status: 0 success, 1 error, 2 usage error.\n");
}

static int parse_opts(bench_opts_t *o, int argc, char *argv[])
{
	enum { O_ATTN = 256, O_LAYERS, O_DMODEL, O_HEADS, O_DFF, O_HASHES, O_BUCKETS, O_CHUNK, O_FFCHUNK,
	       O_TRAIN, O_INFER, O_STORED, O_STEPS, O_WARMUP, O_DEVICE, O_HEADER };
	static const struct option longopts[] = {
		{ "attn", required_argument, NULL, O_ATTN }, { "layers", required_argument, NULL, O_LAYERS },
		{ "d-model", required_argument, NULL, O_DMODEL }, { "heads", required_argument, NULL, O_HEADS },
		{ "d-ff", required_argument, NULL, O_DFF }, { "hashes", required_argument, NULL, O_HASHES },
		{ "buckets", required_argument, NULL, O_BUCKETS }, { "chunk", required_argument, NULL, O_CHUNK },
		{ "ff-chunk", required_argument, NULL, O_FFCHUNK }, { "train", no_argument, NULL, O_TRAIN },
		{ "infer", no_argument, NULL, O_INFER }, { "stored", no_argument, NULL, O_STORED },
		{ "steps", required_argument, NULL, O_STEPS }, { "warmup", required_argument, NULL, O_WARMUP },
		{ "device", required_argument, NULL, O_DEVICE }, { "threads", required_argument, NULL, 't' },
		{ "header", no_argument, NULL, O_HEADER }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	rf_config_t *c = &o->cfg;
	int ch, bad = 0;
	while (!bad && (ch = gf_getopt(argc, argv, "L:B:t:h", longopts)) >= 0) {
		switch (ch) {
		case 'L': bad = gf_parse_int("-L", optarg, 1, 1 << 30, &o->L); break;
		case 'B': bad = gf_parse_int("-B", optarg, 1, 1 << 20, &o->B); break;
		case 't': bad = gf_parse_int("--threads", optarg, 1, 1024, &o->threads); break;
		case O_ATTN: o->attn = optarg; break;
		case O_LAYERS: bad = gf_parse_int("--layers", optarg, 1, RF_MAX_LAYERS, &c->n_layers); break;
		case O_DMODEL: bad = gf_parse_int("--d-model", optarg, 2, 1 << 16, &c->d_model); break;
		case O_HEADS: bad = gf_parse_int("--heads", optarg, 1, 1 << 10, &c->n_heads); break;
		case O_DFF: bad = gf_parse_int("--d-ff", optarg, 1, 1 << 18, &c->d_ff); break;
		case O_HASHES: bad = gf_parse_int("--hashes", optarg, 1, 64, &c->n_hashes); break;
		case O_BUCKETS: bad = gf_parse_int("--buckets", optarg, 0, 65534, &c->n_buckets); break;
		case O_CHUNK: bad = gf_parse_int("--chunk", optarg, 1, 1 << 20, &c->chunk_len); break;
		case O_FFCHUNK: bad = gf_parse_int("--ff-chunk", optarg, 0, 1 << 30, &c->ff_chunk); break;
		case O_TRAIN: o->train = 1; break;
		case O_INFER: o->train = 0; break;
		case O_STORED: o->reversible = 0; break;
		case O_STEPS: bad = gf_parse_int("--steps", optarg, 1, 1 << 20, &o->steps); break;
		case O_WARMUP: bad = gf_parse_int("--warmup", optarg, 0, 1 << 20, &o->warmup); break;
		case O_DEVICE: o->device = optarg; break;
		case O_HEADER: o->header = 1; break;
		case 'h': usage(stdout); exit(GF_EXIT_OK);
		default: bad = 1;
		}
	}
	if (bad) return -1;
	if (optind != argc) {
		gf_error("unexpected argument '%s' (bench engine takes options only)", argv[optind]);
		return -1;
	}
	return 0;
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
	bench_opts_t o = { .attn = "lsh", .device = "cpu", .L = 16384, .B = 1, .train = 1, .steps = 2, .warmup = 1,
	                   .threads = 2, .reversible = 1 };
	char err[512] = "";
	rf_config_default(&o.cfg);
	o.cfg.dropout = 0.0f;
	o.cfg.n_classes = 2;
	if (parse_opts(&o, argc, argv)) return GF_EXIT_USAGE;
	if (rf_config_set_layers(&o.cfg, o.attn, err, sizeof err)) {
		gf_error("%s", err);
		return GF_EXIT_USAGE;
	}
	fit_axial(&o.cfg, o.L);
	if (o.cfg.axial_d1 >= o.cfg.d_model) o.cfg.axial_d1 = o.cfg.d_model / 4 > 0 ? o.cfg.d_model / 4 : 1;
	if (rf_config_validate(&o.cfg, err, sizeof err)) {
		gf_error("%s", err);
		return GF_EXIT_USAGE;
	}
	const rf_backend_t *be = rf_backend_get(o.device, err, sizeof err);
	if (!be) {
		gf_error("--device %s: %s", o.device, err);
		return GF_EXIT_ERROR;
	}
	if (!strcmp(o.device, "cpu")) rf_cpu_set_threads(o.threads);

	rf_model_t *m = rf_model_create(&o.cfg, be, err, sizeof err);
	rf_optim_t *opt = NULL;
	rf_optim_config_t oc;
	rf_optim_default(&oc);
	if (m && o.train) opt = rf_optim_create(m, &oc, err, sizeof err);
	size_t n = (size_t)o.B * o.L;
	int32_t *tok = malloc(n * sizeof *tok), *labels = malloc((size_t)o.B * sizeof *labels);
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
	for (size_t i = 0; i < n; i++) tok[i] = 5 + (int32_t)(rf_rng_u64(key, i) % (uint64_t)(o.cfg.vocab - 5));
	for (int b = 0; b < o.B; b++) labels[b] = b % 2;
	float *logits = malloc((size_t)o.B * 2 * sizeof *logits);

	int rc = GF_EXIT_OK;
	double t0 = 0.0;
	for (int s = 0; s < o.warmup + o.steps && rc == GF_EXIT_OK; s++) {
		if (s == o.warmup) {
			be->sync();
			t0 = gf_wall_seconds();
		}
		rf_batch_t b = { .tokens = tok, .B = o.B, .L = o.L, .labels = labels, .seed = 1, .step = (uint64_t)s,
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
		printf("%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%d\t%.4f\t%.1f\t%.1f\t%.1f\n", o.train ? "train" : "infer", o.attn,
		       o.L, o.B, o.cfg.n_layers, o.reversible, o.cfg.ff_chunk, o.threads, o.device, o.steps, step_s,
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
