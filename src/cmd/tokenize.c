/* genoformer tokenize: per-record token statistics (TSV), or the tokens
 * themselves, so a user sees what the model will see. */
#include <getopt.h>
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
#include "src/opts.h"
#include "src/memlimit.h"

typedef struct {
	int k, stride, window, overlap, print, names;
	gf_seqio_opts_t io;
	const char **regions;
	int n_regions;
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

static void usage(FILE *fp)
{
	fprintf(fp,
	        "Usage: genoformer tokenize [options] IN...\n"
	        "Reads FASTA/FASTQ (plain or gzip), SAM/BAM/CRAM ('-' = stdin) and prints per-record\n"
	        "token statistics as TSV (record, bases, tokens, unk, windows, tail[, class]), or the tokens.\n"
	        "tail = bases at the end of a record that no k-mer covers ((bases - k) %% stride, or all when bases < k).\n\n"
	        "Tokens:\n"
	        "  -k INT               k-mer length, 1..%d [6]\n"
	        "  -s, --stride INT     bases between k-mer starts, 1 (overlapping) .. k (non-overlapping) [1]\n"
	        "Windows:\n"
	        "  -L, --window INT     tokens per window, 0 = the whole record [0]\n"
	        "  -O, --overlap INT    tokens shared by consecutive windows [0]\n"
	        "Input:\n"
	        "  -r, --region STR     only chr or chr:beg-end (1-based, inclusive); repeatable; needs an index [all]\n"
	        "  -t, --threads INT    htslib decompression threads [1]\n"
	        "      --as-stored      reverse-strand reads as stored in SAM/BAM/CRAM [as sequenced]\n"
	        "      --keep-secondary keep secondary (0x100) alignments [skipped]\n"
	        "      --keep-supplementary  keep supplementary (0x800) alignments [skipped]\n"
	        "      --keep-qcfail    keep QC-failed (0x200) reads [skipped]\n"
	        "      --skip-unmapped  skip unmapped reads [kept]\n"
	        "      --reference FILE CRAM reference FASTA [none]\n"
	        "Labels:\n"
	        "      --labels FILE    TSV record_id<TAB>class; adds a class column; every record needs one [none]\n"
	        "      --class NAME=FILE  records of input FILE have class NAME; repeatable [none]\n"
	        "Output:\n"
	        "  -p, --print          print tokens: per record 'name<TAB>ids', with -L per window\n"
	        "                       'name<TAB>window<TAB>beg<TAB>end<TAB>ids' (0-based, end exclusive, [PAD]=0) [off]\n"
	        "      --names          with --print, k-mer strings instead of ids [off]\n"
	        "  -q, --quiet          errors only on stderr\n"
	        "  -v, --verbose        more log lines\n"
	        "  -h, --help           this help\n"
	        "Exit status: 0 success, 1 error, 2 usage error.\n",
	        GF_KMER_MAX_K);
}

enum { O_AS_STORED = 256, O_KEEP_SEC, O_KEEP_SUPP, O_KEEP_QCFAIL, O_SKIP_UNMAPPED, O_REFERENCE, O_LABELS, O_CLASS, O_NAMES };

/* Parses argv into o; returns -1 to continue, or the exit status. */
static int parse_args(int argc, char *argv[], tok_opts_t *o)
{
	static const struct option longopts[] = {
		{ "stride", required_argument, 0, 's' }, { "window", required_argument, 0, 'L' },
		{ "overlap", required_argument, 0, 'O' }, { "region", required_argument, 0, 'r' },
		{ "threads", required_argument, 0, 't' }, { "print", no_argument, 0, 'p' },
		{ "quiet", no_argument, 0, 'q' }, { "verbose", no_argument, 0, 'v' }, { "help", no_argument, 0, 'h' },
		{ "as-stored", no_argument, 0, O_AS_STORED }, { "keep-secondary", no_argument, 0, O_KEEP_SEC },
		{ "keep-supplementary", no_argument, 0, O_KEEP_SUPP }, { "keep-qcfail", no_argument, 0, O_KEEP_QCFAIL },
		{ "skip-unmapped", no_argument, 0, O_SKIP_UNMAPPED }, { "reference", required_argument, 0, O_REFERENCE },
		{ "labels", required_argument, 0, O_LABELS }, { "class", required_argument, 0, O_CLASS },
		{ "names", no_argument, 0, O_NAMES }, { 0, 0, 0, 0 }
	};
	char err[GF_ERRLEN];
	int c, bad = 0;
	while (!bad && (c = gf_getopt(argc, argv, "k:s:L:O:r:t:pqvh", longopts)) >= 0) {
		switch (c) {
		case 'k': bad = gf_parse_int("-k", optarg, 1, GF_KMER_MAX_K, &o->k); break;
		case 's': bad = gf_parse_int("--stride", optarg, 1, GF_KMER_MAX_K, &o->stride); break;
		case 'L': bad = gf_parse_int("--window", optarg, 0, INT_MAX, &o->window); break;
		case 'O': bad = gf_parse_int("--overlap", optarg, 0, INT_MAX, &o->overlap); break;
		case 't': bad = gf_parse_int("--threads", optarg, 1, 1024, &o->io.threads); break;
		case 'r': o->regions[o->n_regions++] = optarg; break;
		case 'p': o->print = 1; break;
		case 'q': gf_verbosity = GF_LOG_QUIET; break;
		case 'v': gf_verbosity = GF_LOG_VERBOSE; break;
		case 'h': usage(stdout); return GF_EXIT_OK;
		case O_AS_STORED: o->io.as_stored = 1; break;
		case O_KEEP_SEC: o->io.keep_secondary = 1; break;
		case O_KEEP_SUPP: o->io.keep_supplementary = 1; break;
		case O_KEEP_QCFAIL: o->io.keep_qcfail = 1; break;
		case O_SKIP_UNMAPPED: o->io.skip_unmapped = 1; break;
		case O_REFERENCE: o->io.reference = optarg; break;
		case O_NAMES: o->names = 1; break;
		case O_LABELS:
		case O_CLASS:
			if (!o->labels && !(o->labels = gf_labels_new())) {
				gf_error("out of memory");
				return GF_EXIT_ERROR;
			}
			if ((c == O_LABELS ? gf_labels_read_tsv : gf_labels_add_file)(o->labels, optarg, err, sizeof err)) {
				gf_error("%s", err);
				return c == O_LABELS ? GF_EXIT_ERROR : GF_EXIT_USAGE;
			}
			break;
		default: bad = 1;
		}
	}
	if (!bad && optind >= argc) {
		fprintf(stderr, "[tokenize] error: no input file (genoformer tokenize -h for help)\n");
		bad = 1;
	}
	if (!bad && (gf_kmer_check(o->k, o->stride, err, sizeof err) ||
	             (o->window && gf_window_check(o->window, o->overlap, err, sizeof err)) ||
	             (!o->window && o->overlap && snprintf(err, sizeof err, "--overlap needs --window") > 0))) {
		fprintf(stderr, "[tokenize] error: %s\n", err);
		bad = 1;
	}
	if (!bad && o->names && !o->print) {
		fprintf(stderr, "[tokenize] error: --names needs --print\n");
		bad = 1;
	}
	o->io.regions = o->regions;
	o->io.n_regions = o->n_regions;
	return bad ? GF_EXIT_USAGE : -1;
}

/* Token ids, or k-mer names with --names, each after a space except the
 * record's first. */
static void print_tokens(const int32_t *tok, size_t n, int first, const tok_opts_t *o)
{
	char name[16];
	for (size_t i = 0; i < n; i++) {
		if (i || !first) putchar(' ');
		if (o->names) fputs(gf_kmer_token_name(tok[i], o->k, name), stdout);
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
	const int k = o->k, stride = o->stride;
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
	gf_reader_t *r = gf_seqio_open(path, &o->io, err, sizeof err);
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
	tok_opts_t o = { .k = 6, .stride = 1 };
	tok_state_t s = { 0 };
	char err[GF_ERRLEN], b[32];
	gf_seqio_opts_init(&o.io);
	o.regions = calloc(argc, sizeof *o.regions);
	if (!o.regions) return GF_EXIT_ERROR;
	int rc = parse_args(argc, argv, &o);
	if (rc < 0 && o.window && gf_mem_check_window(o.window, gf_window_bytes)) rc = GF_EXIT_ERROR;
	if (rc < 0 && (!(s.tok = malloc(TOK_CHUNK * sizeof *s.tok)) || (o.window && gf_window_init(&s.win, o.window)))) {
		gf_error("out of memory");
		rc = GF_EXIT_ERROR;
	}
	if (rc < 0 && gf_files_claim((const char *const *)argv + optind, argc - optind, (const char *const[]){ NULL }, 1)) rc = GF_EXIT_ERROR;
	if (rc < 0) {
		rc = GF_EXIT_OK;
		if (!o.print) printf("record%s\tbases\ttokens\tunk\twindows\ttail\n", o.labels ? "\tclass" : "");
		gf_progress_start(&s.progress, 0, "bp");
		for (int i = optind; i < argc && rc == GF_EXIT_OK; i++)
			if (tokenize_file(argv[i], &o, &s)) rc = GF_EXIT_ERROR;
		gf_progress_end(&s.progress);
		/* with regions, ids outside them are expected to stay unused */
		if (rc == GF_EXIT_OK && o.labels && !o.n_regions && gf_labels_check_used(o.labels, err, sizeof err)) {
			gf_error("%s", err);
			rc = GF_EXIT_ERROR;
		}
		if (gf_stdout_check()) rc = GF_EXIT_ERROR;
		if (rc == GF_EXIT_OK) {
			gf_info("%llu records, %s, %llu tokens (%llu [UNK]), k=%d stride=%d, %.2f s",
			        (unsigned long long)s.records, gf_fmt_si((double)s.bases, "bp", b, sizeof b),
			        (unsigned long long)s.tokens, (unsigned long long)s.unk, o.k, o.stride, gf_wall_seconds());
			gf_log_summary();
		}
	}
	gf_window_free(&s.win);
	gf_labels_free(o.labels);
	free(s.tok);
	free(o.regions);
	return rc;
}
