/* Fuzzes the command line: the input is one argument per line; the first
 * picks the command (its first byte, modulo the table), the rest are its
 * options and files, run in-process as main would run them. "%0".."%3" in an
 * argument stand for fixture files (a FASTA, a FASTQ, a SAM and a labels TSV
 * for the FASTA) so that mutations reach the code behind the option parser.
 * Standard input and output are /dev/null; run with -close_fd_mask=2 to
 * keep the commands' stderr quiet (libFuzzer and the sanitizers still
 * report on a copy of it). Each run must end with a documented status.
 * GF_MEMORY_LIMIT caps what a command plans for (src/memlimit.h), so a
 * window too large for the fuzzer's memory is refused, not allocated. */
#include "tests/fuzz/fuzz.h"

#include <getopt.h>

#include "src/commands.h"
#include "src/log.h"

enum { MAX_ARGS = 32, N_FIXTURES = 4 };

static const struct {
	const char *name;
	int (*run)(int argc, char *argv[]);
} commands[] = {
	{ "tokenize", cmd_tokenize },
};

static char fixture[N_FIXTURES][256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	static const char labels[] = "id\tclass\nlambda_head\tphage\nlambda_soft\tphage\n"
	                             "gi|9626243|ref|NC_001416.1|tail\ttail\n";
	fz_copy("data/samples/small.fa", "small.fa", fixture[0], sizeof fixture[0]);
	fz_copy("data/samples/small.fq", "small.fq", fixture[1], sizeof fixture[1]);
	fz_copy("data/samples/small.sam", "small.sam", fixture[2], sizeof fixture[2]);
	fz_write("labels.tsv", labels, sizeof labels - 1, fixture[3], sizeof fixture[3]);
	setenv("GF_MEMORY_LIMIT", "16M", 1);   /* a window of 3.3M tokens: quick to print */
	if (!freopen("/dev/null", "r", stdin) || !freopen("/dev/null", "w", stdout)) abort();
	return 0;
}

/* arg with every "%N" replaced by fixture N's path. */
static char *expand(const char *arg)
{
	size_t len = strlen(arg) + 1;
	for (const char *p = arg; (p = strchr(p, '%')); p++) len += sizeof fixture[0];
	char *out = malloc(len), *o = out;
	for (const char *p = arg; *p; p++) {
		if (p[0] == '%' && p[1] >= '0' && p[1] < '0' + N_FIXTURES) {
			o = stpcpy(o, fixture[p[1] - '0']);
			p++;
		} else {
			*o++ = *p;
		}
	}
	*o = 0;
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1) return 0;
	char *text = strndup((const char *)data + 1, size - 1), *save = NULL, *argv[MAX_ARGS + 2];
	int cmd = data[0] % (int)(sizeof commands / sizeof *commands), argc = 0;
	argv[argc++] = strdup(commands[cmd].name);
	for (char *s = strtok_r(text, "\n", &save); s && argc <= MAX_ARGS; s = strtok_r(NULL, "\n", &save))
		argv[argc++] = expand(s);
	argv[argc] = NULL;
	optind = 0;   /* glibc: a full re-initialisation of getopt */
	gf_verbosity = GF_LOG_NORMAL;
	gf_log_init(commands[cmd].name, argc, argv);
	int rc = commands[cmd].run(argc, argv);
	FZ_REQUIRE(rc == GF_EXIT_OK || rc == GF_EXIT_ERROR || rc == GF_EXIT_USAGE, "exit status");
	for (int i = 0; i < argc; i++) free(argv[i]);
	free(text);
	return 0;
}
