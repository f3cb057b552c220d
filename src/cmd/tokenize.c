/* genoformer tokenize: per-record token statistics (TSV), or the tokens
 * themselves, so a user sees what the model will see. */
#include <stddef.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genomics/kmer.h"
#include "genomics/labels.h"
#include "genomics/seqio.h"
#include "genomics/window.h"
#include "src/cmd/commands.h"
#include "src/files.h"
#include "src/log.h"
#include "src/optgroups.h"
#include "src/opts.h"
#include "src/memlimit.h"

typedef struct {
	uint64_t given;
	int window, overlap, print, names;
	gf_arch_opts_t arch;      /* -k, --stride */
	gf_compute_opts_t compute;
	gf_input_opts_t in;
	gf_labels_t *labels;
} tok_opts_t;

/* tokens per call of the tokenizer: 16 KiB, counted while still in L1 */
enum { TOK_CHUNK = 1 << 12 };

typedef struct {
	uint64_t records, bases, tokens, unk;
	int32_t *tok;       /* TOK_CHUNK tokens */
	gf_window_t win;
	gf_progress_t progress;
} tok_state_t;

static int add_labels(void *ctx, const gf_opt_t *opt, const char *arg)
{
	char err[GF_ERRLEN];
	tok_opts_t *o = ctx;
	int is_class = !strcmp(opt->name, "class");
	if (!o->labels && !(o->labels = gf_labels_new())) {
		gf_error("out of memory");
		return GF_EXIT_ERROR;
	}
	if ((is_class ? gf_labels_add_file : gf_labels_read_tsv)(o->labels, arg, err, sizeof err)) {
		gf_error("%s", err);
		return is_class ? GF_EXIT_USAGE : GF_EXIT_ERROR;
	}
	return 0;
}

#define TO(f) offsetof(tok_opts_t, f)
static const gf_opt_t window_opts[] = {
	{ 'L', "window", GF_OPT_INT, TO(window), 0, INT_MAX, "INT", .help = "tokens per window, 0 = the whole record" },
	{ 'O', "overlap", GF_OPT_INT, TO(overlap), 0, INT_MAX, "INT", .help = "tokens shared by consecutive windows" },
};
static const gf_opt_t label_opts[] = {
	{ 0, "labels", GF_OPT_CALL, .call = add_labels, .arg = "FILE", .dflt = "none",
	  .help = "TSV record_id<TAB>class; adds a class column; every record needs one" },
	{ 0, "class", GF_OPT_CALL, .call = add_labels, .arg = "NAME=FILE", .dflt = "none",
	  .help = "records of input FILE have class NAME; repeatable" },
};
static const gf_opt_t print_opts[] = {
	{ 'p', "print", GF_OPT_SET, TO(print), .dflt = "off",
	  .help = "print tokens: per record 'name<TAB>ids', with -L per window\n"
	          "'name<TAB>window<TAB>beg<TAB>end<TAB>ids' (0-based, end exclusive, [PAD]=0)" },
	{ 0, "names", GF_OPT_SET, TO(names), .help = "with --print, k-mer strings instead of ids", .dflt = "off" },
};
static const gf_optgroup_t window_group = GF_GROUP("Windows", window_opts, tok_opts_t);
static const gf_optgroup_t label_group = GF_GROUP("Labels", label_opts, tok_opts_t);
static const gf_optgroup_t print_group = GF_GROUP("Output", print_opts, tok_opts_t);
static const char *const threads_help[] = {
	[GF_CO_THREADS] = "threads; tokenizing is mostly decompression, so they are htslib's\n"
	                  "unless --hts-threads is given; -@ INT is the same",
};

enum { N_USES = 7 };

static void uses(tok_opts_t *o, gf_optuse_t *use)
{
	const uint64_t all = ~(uint64_t)0;
	use[0] = (gf_optuse_t){ .g = &gf_group_arch, .ctx = &o->arch, .title = "Tokens",
	                        .skip = all & ~(GF_OPT_BIT(GF_AR_K) | GF_OPT_BIT(GF_AR_STRIDE)) };
	use[1] = (gf_optuse_t){ .g = &window_group, .ctx = o };
	use[2] = (gf_optuse_t){ .g = &gf_group_input, .ctx = &o->in };
	use[3] = (gf_optuse_t){ .g = &gf_group_compute, .ctx = &o->compute, GF_HELP(threads_help),
	                        .skip = GF_OPT_BIT(GF_CO_DEVICE) | GF_OPT_BIT(GF_CO_BATCH) };
	use[4] = (gf_optuse_t){ .g = &label_group, .ctx = o };
	use[5] = (gf_optuse_t){ .g = &print_group, .ctx = o };
	use[6] = (gf_optuse_t){ .g = &gf_group_verbosity };
}

/* Defaults: k 6, stride 1, whole records. -1 when out of memory. */
static int tok_opts_init(tok_opts_t *o, int argc)
{
	memset(o, 0, sizeof *o);
	gf_arch_init(&o->arch);
	o->arch.stride = 1;
	gf_compute_init(&o->compute);
	o->compute.threads = 1;
	return gf_input_init(&o->in, argc);
}

static void tok_opts_free(tok_opts_t *o)
{
	gf_input_free(&o->in);
	gf_labels_free(o->labels);
}

static const gf_cmdhelp_t help = {
	"Usage: genoformer tokenize [options] IN...\n"
	"Reads FASTA/FASTQ (plain or gzip), SAM/BAM/CRAM ('-' = stdin) and prints per-record\n"
	"token statistics as TSV (record, bases, tokens, unk, windows, tail[, class]), or the tokens.\n"
	"tail = bases at the end of a record that no k-mer covers ((bases - k) % stride, or all when bases < k).\n\n",
	NULL,
};

/* Parses argv into o; returns -1 to continue, or the exit status. */
static int parse_args(int argc, char *argv[], tok_opts_t *o)
{
	char err[GF_ERRLEN];
	gf_optuse_t use[N_USES];
	uses(o, use);
	int rc = gf_opts_parse(argc, argv, use, N_USES, &help);
	if (rc >= 0) return rc;
	gf_input_finish(&o->in);
	if (!(o->in.given & GF_OPT_BIT(GF_IN_HTS_THREADS))) o->in.io.threads = o->compute.threads;
	if (optind >= argc) {
		gf_error("no input file (genoformer tokenize -h for help)");
		return GF_EXIT_USAGE;
	}
	if (gf_kmer_check(o->arch.k, o->arch.stride, err, sizeof err) ||
	    (o->window && gf_window_check(o->window, o->overlap, err, sizeof err)) ||
	    (!o->window && o->overlap && snprintf(err, sizeof err, "--overlap needs --window") > 0)) {
		gf_error("%s", err);
		return GF_EXIT_USAGE;
	}
	if (o->names && !o->print) {
		gf_error("--names needs --print");
		return GF_EXIT_USAGE;
	}
	return -1;
}

/* Token ids, or k-mer names with --names, each after a space except the
 * record's first. */
static void print_tokens(const int32_t *tok, size_t n, int first, const tok_opts_t *o)
{
	char name[16];
	for (size_t i = 0; i < n; i++) {
		if (i || !first) putchar(' ');
		if (o->names) fputs(gf_kmer_token_name(tok[i], o->arch.k, name), stdout);
		else printf("%d", tok[i]);
	}
}

static void print_name_class(const gf_record_t *rec, int cls, const tok_opts_t *o)
{
	fputs(rec->name, stdout);
	if (o->labels) printf("\t%s", gf_labels_class_name(o->labels, cls));
}

/* The statistics columns after the name, each after a tab, as one write.
 * printf takes glibc's slow positional path in this process (libquadmath,
 * which OpenBLAS pulls in, registers printf hooks): with a line per short
 * read it would cost about as much as reading the reads. */
static void print_counts(const size_t v[5])
{
	char line[5 * 21 + 1], *p = line + sizeof line;
	*--p = '\n';
	for (int i = 4; i >= 0; i--) {
		size_t x = v[i];
		do *--p = (char)('0' + x % 10); while (x /= 10);
		*--p = '\t';
	}
	fwrite(p, 1, (size_t)(line + sizeof line - p), stdout);
}

/* [UNK] tokens among tok[0..n), n <= TOK_CHUNK; a loop that vectorises,
 * with an AVX2 clone chosen at load time. */
__attribute__((target_clones("avx2", "default"))) static size_t count_unk(const int32_t *tok, size_t n)
{
	uint32_t unk = 0;
#pragma omp simd reduction(+:unk)
	for (size_t i = 0; i < n; i++) unk += tok[i] == GF_TOK_UNK;
	return unk;
}

/* Tokenizes one record in chunks of TOK_CHUNK tokens (memory stays that of
 * the bases, whatever the record's length) and prints its statistics, its
 * tokens or its windows. */
static void tokenize_record(const gf_record_t *rec, int cls, const tok_opts_t *o, tok_state_t *s)
{
	const int k = o->arch.k, stride = o->arch.stride;
	size_t m = gf_kmer_count(rec->len, k, stride), unk = 0;
	size_t nw = o->window ? gf_window_count(m, o->window, o->overlap) : m > 0;
	int whole = o->print && !o->window;
	if (whole) {
		print_name_class(rec, cls, o);
		putchar('\t');
	}
	for (size_t j = 0; j < m; j += TOK_CHUNK) {
		size_t c = gf_kmer_tokenize_part(rec->seq, rec->len, k, stride, j, TOK_CHUNK, s->tok);
		unk += count_unk(s->tok, c);
		if (whole) print_tokens(s->tok, c, j == 0, o);
	}
	if (whole) {
		putchar('\n');
	} else if (!o->print) {
		print_name_class(rec, cls, o);
		print_counts((const size_t[]){ rec->len, m, unk, nw, rec->len - gf_kmer_covered(rec->len, k, stride) });
	} else {
		for (size_t w = 0; w < nw; w++) {
			gf_window_get(&s->win, rec->seq, rec->len, k, stride, o->overlap, s->records, rec->beg, w);
			print_name_class(rec, cls, o);
			printf("\t%zu\t%lld\t%lld\t", w, (long long)s->win.beg, (long long)s->win.end);
			print_tokens(s->win.tok, o->window, 1, o);
			putchar('\n');
		}
	}
	s->records++;
	s->bases += rec->len;
	s->tokens += m;
	s->unk += unk;
	/* once per Mbp: a clock read per short read shows in the profile */
	if (s->bases >> 20 != (s->bases - rec->len) >> 20) gf_progress_update(&s->progress, s->bases);
}

/* Reads every record of one input; 0 or -1 after logging the error. */
static int tokenize_file(const char *path, tok_opts_t *o, tok_state_t *s)
{
	char err[GF_ERRLEN];
	gf_reader_t *r = gf_seqio_open(path, &o->in.io, err, sizeof err);
	if (!r) {
		gf_error("%s", err);
		return -1;
	}
	gf_record_t rec;
	int ret, rc = 0;
	gf_record_init(&rec);
	while (rc == 0 && (ret = gf_seqio_read(r, &rec, err, sizeof err)) > 0) {
		int cls = o->labels ? gf_labels_lookup(o->labels, path, rec.name) : -1;
		if (o->labels && cls < 0) {
			gf_error("%s: record '%s' has no label", path, rec.name);
			rc = -1;
		} else {
			tokenize_record(&rec, cls, o, s);
		}
	}
	if (rc == 0 && ret < 0) {
		gf_error("%s", err);
		rc = -1;
	}
	gf_record_free(&rec);
	gf_seqio_close(r);
	return rc;
}

int cmd_tokenize(int argc, char *argv[])
{
	tok_opts_t o;
	tok_state_t s = { 0 };
	char err[GF_ERRLEN], b[32];
	if (tok_opts_init(&o, argc)) {
		tok_opts_free(&o);
		return GF_EXIT_ERROR;
	}
	int rc = parse_args(argc, argv, &o);
	if (rc < 0 && o.window && gf_mem_check_window(o.window, gf_window_bytes)) rc = GF_EXIT_ERROR;
	if (rc < 0 && (!(s.tok = malloc(TOK_CHUNK * sizeof *s.tok)) || (o.window && gf_window_init(&s.win, o.window)))) {
		gf_error("out of memory");
		rc = GF_EXIT_ERROR;
	}
	if (rc < 0 && gf_files_claim((const char *const *)argv + optind, argc - optind, (const char *const[]){ NULL }, 1))
		rc = GF_EXIT_ERROR;
	if (rc < 0) {
		rc = GF_EXIT_OK;
		if (!o.print) printf("record%s\tbases\ttokens\tunk\twindows\ttail\n", o.labels ? "\tclass" : "");
		gf_progress_start(&s.progress, 0, "bp");
		for (int i = optind; i < argc && rc == GF_EXIT_OK; i++)
			if (tokenize_file(argv[i], &o, &s)) rc = GF_EXIT_ERROR;
		gf_progress_end(&s.progress);
		/* with regions, ids outside them are expected to stay unused */
		if (rc == GF_EXIT_OK && o.labels && !o.in.n_regions && gf_labels_check_used(o.labels, err, sizeof err)) {
			gf_error("%s", err);
			rc = GF_EXIT_ERROR;
		}
		if (gf_stdout_check()) rc = GF_EXIT_ERROR;
		if (rc == GF_EXIT_OK) {
			gf_info("%llu records, %s, %llu tokens (%llu [UNK]), k=%d stride=%d, %.2f s",
			        (unsigned long long)s.records, gf_fmt_si((double)s.bases, "bp", b, sizeof b),
			        (unsigned long long)s.tokens, (unsigned long long)s.unk, o.arch.k, o.arch.stride, gf_wall_seconds());
			gf_log_summary();
		}
	}
	gf_window_free(&s.win);
	tok_opts_free(&o);
	free(s.tok);
	return rc;
}
