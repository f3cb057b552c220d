/* Fuzzes the command line: the input is one argument per line; the first
 * byte picks the command (modulo the table), the rest are its options and
 * files, run in-process as main would run them. "%0".."%4" in an argument
 * stand for fixture files (a FASTA, a FASTQ, a SAM, a labels TSV for the
 * FASTA and a tiny 3-class model, rewritten before every run) so that
 * mutations reach the code behind the option parser. train and pretrain run
 * with --dry-run: everything up to the data (options, model set-up, memory
 * check, inputs and labels), never the training loop.
 *
 * The commands run in the scratch folder (and back: libFuzzer's paths are
 * relative to the source root), and an input with a '/' in a path is
 * skipped, so whatever they write lands there. Standard input
 * and output are /dev/null; run with -close_fd_mask=2 to keep the commands'
 * stderr quiet (libFuzzer and the sanitizers still report on a copy of it).
 * Each run must end with a documented status. GF_MEMORY_LIMIT caps what a
 * command plans for (src/memlimit.h), so a window too large for the
 * fuzzer's memory is refused, not allocated. */
#include "tests/fuzz/fuzz.h"

#include <fcntl.h>
#include <getopt.h>

#include "src/cmd/commands.h"
#include "src/log.h"

enum { MAX_ARGS = 32, N_FIXTURES = 5 };

static const struct {
	const char *name;
	int (*run)(int argc, char *argv[]);
	int dry_run;
} commands[] = {
	{ "tokenize", cmd_tokenize, 0 }, { "classify", cmd_classify, 0 }, { "embed", cmd_embed, 0 },
	{ "eval", cmd_eval, 0 },         { "info", cmd_info, 0 },         { "train", cmd_train, 1 },
	{ "pretrain", cmd_pretrain, 1 },
};

static struct {
	const char *name;
	char *data;
	size_t n;
	char path[256];
} fixture[N_FIXTURES] = { { .name = "small.fa" }, { .name = "small.fq" }, { .name = "small.sam" },
	                        { .name = "labels.tsv" }, { .name = "m.gfm" } };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	static const char labels[] = "id\tclass\nlambda_head\tphage\nlambda_soft\tphage\n"
	                             "gi|9626243|ref|NC_001416.1|tail\ttail\n";
	fixture[0].data = fz_read("data/samples/small.fa", &fixture[0].n);
	fixture[1].data = fz_read("data/samples/small.fq", &fixture[1].n);
	fixture[2].data = fz_read("data/samples/small.sam", &fixture[2].n);
	fixture[3].data = strdup(labels);
	fixture[3].n = sizeof labels - 1;
	/* the fuzz_ckpt seed without its mode byte, as docs/bad-input.md's m.gfm */
	char *ckpt = fz_read("tests/fuzz/corpus/fuzz_ckpt/classifier", &fixture[4].n);
	fixture[4].data = malloc(fixture[4].n);
	memcpy(fixture[4].data, ckpt + 1, --fixture[4].n);
	free(ckpt);
	for (int i = 0; i < N_FIXTURES; i++) fz_path(fixture[i].name, fixture[i].path, sizeof fixture[i].path);
	setenv("GF_MEMORY_LIMIT", "16M", 1);   /* a window of 3.3M tokens: quick to print */
	if (!freopen("/dev/null", "w", stdout)) abort();
	return 0;
}

/* arg with every "%N" replaced by fixture N's path. */
static char *expand(const char *arg)
{
	size_t len = strlen(arg) + 1;
	for (const char *p = arg; (p = strchr(p, '%')); p++) len += sizeof fixture[0].path;
	char *out = malloc(len), *o = out;
	for (const char *p = arg; *p; p++) {
		if (p[0] == '%' && p[1] >= '0' && p[1] < '0' + N_FIXTURES) {
			o = stpcpy(o, fixture[p[1] - '0'].path);
			p++;
		} else {
			*o++ = *p;
		}
	}
	*o = 0;
	return out;
}

/* 1 when the input holds a '/' other than between digits (--shard I/N):
 * a path that could name something outside the scratch folder. */
static int leaves_scratch(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] == '/' && !(i > 0 && i + 1 < n && p[i - 1] >= '0' && p[i - 1] <= '9' && p[i + 1] >= '0' && p[i + 1] <= '9'))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || leaves_scratch(data + 1, size - 1)) return 0;
	char *text = strndup((const char *)data + 1, size - 1), *save = NULL, *argv[MAX_ARGS + 3];
	int cmd = data[0] % (int)(sizeof commands / sizeof *commands), argc = 0;
	char buf[256];
	for (int i = 0; i < N_FIXTURES; i++) fz_write(fixture[i].name, fixture[i].data, fixture[i].n, buf, sizeof buf);
	argv[argc++] = strdup(commands[cmd].name);
	if (commands[cmd].dry_run) argv[argc++] = strdup("--dry-run");
	for (char *s = strtok_r(text, "\n", &save); s && argc <= MAX_ARGS; s = strtok_r(NULL, "\n", &save))
		argv[argc++] = expand(s);
	argv[argc] = NULL;
	optind = 0;   /* glibc: a full re-initialisation of getopt */
	gf_verbosity = GF_LOG_NORMAL;
	gf_log_init(commands[cmd].name, argc, argv);
	/* reading '-' closes standard input: reopen it, or fd 0 goes to the next open() */
	if (!freopen("/dev/null", "r", stdin)) abort();
	int home = open(".", O_RDONLY | O_DIRECTORY);
	if (home < 0 || chdir(fz_dir())) abort();
	int rc = commands[cmd].run(argc, argv);
	if (fchdir(home)) abort();
	close(home);
	FZ_REQUIRE(rc == GF_EXIT_OK || rc == GF_EXIT_ERROR || rc == GF_EXIT_USAGE, "exit status");
	for (int i = 0; i < argc; i++) free(argv[i]);
	free(text);
	return 0;
}
