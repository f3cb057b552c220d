/* genoformer: dispatches `genoformer <command> ...` to cmd_<command>. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/cpu/blascore.h"
#include "src/cmd/commands.h"
#include "genomics/seqio.h"
#include "src/log.h"

static const struct {
	const char *name;
	int (*run)(int argc, char *argv[]);
	const char *what;
	int compute;    /* runs the model on OpenMP threads */
} commands[] = {
	{ "bench", cmd_bench, "benchmarks: 'bench engine' times the Reformer on random tokens", 1 },
	{ "tokenize", cmd_tokenize, "k-mer tokens of sequences: per-record statistics or the tokens", 0 },
	{ "train", cmd_train, "train a classifier of sequences from labelled genomes", 1 },
	{ "pretrain", cmd_pretrain, "masked-LM pre-training on unlabelled genomes (train --init starts from it)", 1 },
	{ "classify", cmd_classify, "classify records with a model: TSV of classes and probabilities", 1 },
	{ "embed", cmd_embed, "pooled embeddings of records (or windows) as .npy", 1 },
	{ "eval", cmd_eval, "accuracy, macro-F1, per-class scores and confusion matrix on labelled records", 1 },
	{ "info", cmd_info, "what a model file holds: tokenizer, config, classes, training", 0 },
	{ "index", cmd_index, "(re)build a classifier's exact k-mer index from reference sequences", 0 },
	{ "export", cmd_export, "a model as safetensors (names and shapes kept) for PyTorch", 0 },
};

/* Two settings that libraries read once, when they are loaded, so a compute
 * command runs itself again with them in its environment (if the exec
 * fails, it goes on as it is):
 * - Idle OpenMP threads spin by default. On a machine shared with other
 *   jobs the spinning takes the cores the work needs: measured here,
 *   classify ran 6x and a training step 1.3-3x slower on two busy cores
 *   than with passive waiting. OMP_WAIT_POLICY=passive unless the user
 *   chose a policy (OMP_WAIT_POLICY=active keeps spinning).
 * - OpenBLAS older than the CPU runs its SSE3 kernels on it
 *   (model/cpu/blascore.h): OPENBLAS_CORETYPE names the CPU's own, unless
 *   the user set it. classify -v and train -v log the kernels in use. */
static void prefer_settings(char *argv[])
{
	const char *preload = getenv("LD_PRELOAD");
	int again = 0;
	/* under valgrind the exec would leave the tool (its preload marks it) */
	if (preload && strstr(preload, "vgpreload")) return;
	if (!getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT"))
		again |= setenv("OMP_WAIT_POLICY", "passive", 1) == 0;
	again |= rf_cpu_blas_prefer_own_core();
	if (again) execv("/proc/self/exe", argv);
}

static void usage(FILE *fp)
{
	fprintf(fp, "Usage: genoformer <command> [options]\n"
	            "       genoformer -h | --help | --version\n\nCommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].what);
	fprintf(fp, "\n'genoformer <command> -h' lists a command's options.\n"
	            "Exit status: 0 success, 1 error, 2 usage error.\n");
}

int main(int argc, char *argv[])
{
	if (argc < 2) {
		usage(stderr);
		return GF_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return gf_stdout_check() ? GF_EXIT_ERROR : GF_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("genoformer %s\n", GF_VERSION);
		return gf_stdout_check() ? GF_EXIT_ERROR : GF_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		if (!strcmp(argv[1], commands[i].name)) {
			if (commands[i].compute) prefer_settings(argv);
			gf_log_init(commands[i].name, argc, argv);
			gf_seqio_set_note(gf_info_line);
			int rc = commands[i].run(argc - 1, argv + 1);
			/* what a command printed (its -h too) must have arrived */
			return gf_stdout_check() && rc == GF_EXIT_OK ? GF_EXIT_ERROR : rc;
		}
	fprintf(stderr, "genoformer: unknown command '%s' (genoformer -h lists them)\n", argv[1]);
	return GF_EXIT_USAGE;
}
