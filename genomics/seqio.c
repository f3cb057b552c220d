/* Sequence readers. FASTA/FASTQ stream line by line over BGZF's blocks
 * (which read plain, gzip and bgzip alike), regions come from faidx, SAM/BAM/CRAM from
 * sam_read1 or an index iterator. htslib's own log is switched off: every
 * error is reported once, here, as one line naming file, record and line. */
#include "genomics/seqio.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <htslib/bgzf.h>
#include <htslib/cram.h>
#include <htslib/faidx.h>
#include <htslib/hfile.h>
#include <htslib/hts.h>
#include <htslib/hts_log.h>
#include <htslib/kstring.h>
#include <htslib/sam.h>

enum src_kind { SRC_TEXT, SRC_FAIDX, SRC_SAM };

typedef struct {
	int tid;
	hts_pos_t beg, end, len;  /* 0-based, half open; len of the sequence */
} gf_span_t;

struct gf_reader {
	char *path;
	gf_format_t fmt;
	enum src_kind kind;
	gf_seqio_opts_t o;
	char **regions;          /* owned copies of o.regions */
	gf_span_t *spans;        /* the regions parsed */
	uint64_t count;
	int failed;
	/* FASTA/FASTQ, streamed */
	BGZF *bgzf;
	kstring_t line;          /* a line across BGZF blocks, or the next FASTA header */
	long long lineno;
	int pending;             /* line holds the next FASTA header, already read */
	/* FASTA/FASTQ regions */
	faidx_t *fai;
	int next_region;
	/* SAM/BAM/CRAM */
	htsFile *hts;
	sam_hdr_t *hdr;
	bam1_t *b;
	hts_idx_t *idx;
	hts_itr_t *itr;
	char nt2[256][2];        /* the two bases of each packed BAM byte, from seq_nt16_str */
};

/* Complement of each IUPAC code (case kept); 0 marks a non-base, so the
 * table is also the validity test. */
static const char comp_tab[256] = {
	['A'] = 'T', ['C'] = 'G', ['G'] = 'C', ['T'] = 'A', ['U'] = 'A', ['N'] = 'N',
	['R'] = 'Y', ['Y'] = 'R', ['S'] = 'S', ['W'] = 'W', ['K'] = 'M', ['M'] = 'K',
	['B'] = 'V', ['V'] = 'B', ['D'] = 'H', ['H'] = 'D',
	['a'] = 't', ['c'] = 'g', ['g'] = 'c', ['t'] = 'a', ['u'] = 'a', ['n'] = 'n',
	['r'] = 'y', ['y'] = 'r', ['s'] = 's', ['w'] = 'w', ['k'] = 'm', ['m'] = 'k',
	['b'] = 'v', ['v'] = 'b', ['d'] = 'h', ['h'] = 'd',
};

char gf_complement(char c)
{
	unsigned char u = (unsigned char)c;
	return comp_tab[u] ? comp_tab[u] : c;
}

void gf_revcomp(char *seq, size_t len)
{
	for (size_t i = 0, j = len; i < j; i++) {
		j--;
		char a = seq[i];
		seq[i] = gf_complement(seq[j]);
		seq[j] = gf_complement(a);
	}
}

void gf_seqio_opts_init(gf_seqio_opts_t *o)
{
	memset(o, 0, sizeof *o);
	o->threads = 1;
}

void gf_record_init(gf_record_t *rec)
{
	memset(rec, 0, sizeof *rec);
}

void gf_record_free(gf_record_t *rec)
{
	free(rec->name);
	free(rec->seq);
	free(rec->qual);
	gf_record_init(rec);
}

const char *gf_format_name(gf_format_t f)
{
	static const char *const names[] = { "unknown", "FASTA", "FASTQ", "SAM", "BAM", "CRAM" };
	return (unsigned)f < sizeof names / sizeof names[0] ? names[f] : names[0];
}

gf_format_t gf_seqio_format(const gf_reader_t *r) { return r->fmt; }
uint64_t gf_seqio_count(const gf_reader_t *r) { return r->count; }

const bam1_t *gf_seqio_alignment(const gf_reader_t *r)
{
	return r->hts && r->count ? r->b : NULL;
}

/* Writes "path: message" into err, marks the reader failed, returns -1. */
static int fail(gf_reader_t *r, char *err, size_t errlen, const char *fmt, ...)
{
	char msg[GF_SEQIO_ERRLEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (err && errlen) snprintf(err, errlen, "%s: %s", strcmp(r->path, "-") ? r->path : "standard input", msg);
	r->failed = 1;
	return -1;
}

/* A byte as it should appear in a message: itself if printable, else \xNN. */
static const char *show_char(unsigned char c, char buf[8])
{
	if (c >= 0x21 && c < 0x7f) snprintf(buf, 8, "%c", c);
	else snprintf(buf, 8, "\\x%02x", c);
	return buf;
}

/* Grows *p to hold need bytes, doubling so that appends stay linear. */
static int reserve(char **p, size_t *cap, size_t need)
{
	if (need <= *cap) return 0;
	size_t n = *cap ? *cap : 256;
	while (n < need) n *= 2;
	char *q = realloc(*p, n);
	if (!q) return -1;
	*p = q;
	*cap = n;
	return 0;
}

/* Record ids end up in every output row; one past GF_NAME_MAX bytes is a
 * damaged or foreign file (SAM allows 254). */
static int set_name(gf_reader_t *r, gf_record_t *rec, const char *s, size_t n, char *err, size_t errlen)
{
	if (n > GF_NAME_MAX)
		return fail(r, err, errlen, "line %lld: a record name of %zu bytes (at most %d): a damaged file?", r->lineno, n,
		            GF_NAME_MAX);
	if (reserve(&rec->name, &rec->cap_name, n + 1) < 0) return fail(r, err, errlen, "out of memory");
	memcpy(rec->name, s, n);
	rec->name[n] = 0;
	return 0;
}

/* Position (0-based) of the first byte that is not an IUPAC base, or n. */
static size_t first_non_base(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && comp_tab[(unsigned char)s[i]]) i++;
	return i;
}

static int bad_base(gf_reader_t *r, const gf_record_t *rec, unsigned char c, long long pos, char *err, size_t errlen)
{
	char cb[8];
	if (r->kind == SRC_TEXT)
		return fail(r, err, errlen, "line %lld: record '%s': '%s' at position %lld is not an IUPAC base",
		            r->lineno, rec->name, show_char(c, cb), pos);
	return fail(r, err, errlen, "record '%s': '%s' at position %lld is not an IUPAC base",
	            rec->name, show_char(c, cb), pos);
}

/* ---- FASTA/FASTQ streamed over BGZF ---- */

/* Lines are copied and checked in one pass, 32 bytes at a time in GCC
 * vector arithmetic (a table lookup does not vectorise), the last 32 bytes
 * of a line overlapping the ones before rather than a slow byte-by-byte
 * tail; an AVX2 clone is chosen at load time. The fast test only says that
 * a line needs a closer look: the exact position of a bad byte is then
 * found byte by byte. */
#define SEQIO_SIMD __attribute__((target_clones("avx2", "default")))

typedef uint8_t v32_t __attribute__((vector_size(32)));

enum check { CHECK_BASES, CHECK_QUAL };

static int is_qual(unsigned char c) { return c >= '!' && c <= '~'; }

/* d[0..32) = s[0..32); ORs into *acc a nonzero lane for each byte that is not
 * A C G T N in either case (CHECK_BASES: the other IUPAC codes are rare and
 * get the closer look) or not a quality character '!'..'~' (CHECK_QUAL).
 * For the bases, as in genomics/kmer.c, (b >> 1) & 3 picks the one letter
 * of a c g t that b may be and b | 0x20 folds the case. */
static inline void copy_flag32(char *d, const char *s, enum check what, v32_t *acc)
{
	v32_t b;
	memcpy(&b, s, sizeof b);
	memcpy(d, &b, sizeof b);
	if (what == CHECK_QUAL) {
		*acc |= (v32_t)(b - '!' > '~' - '!');
		return;
	}
	v32_t l = b | 0x20, c = (b >> 1) & 3;
	v32_t want = 'a' + ((v32_t)(c == 1) & ('c' - 'a')) + ((v32_t)(c == 2) & ('t' - 'a')) + ((v32_t)(c == 3) & ('g' - 'a'));
	*acc |= (v32_t)(l != want) & (v32_t)(l != 'n');
}

/* d[0..n) = s[0..n); nonzero when some byte needs the closer look. */
SEQIO_SIMD static int copy_checked(char *restrict d, const char *restrict s, size_t n, enum check what)
{
	if (n < sizeof(v32_t)) {
		int bad = 0;
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)s[i];
			d[i] = (char)c;
			bad |= what == CHECK_QUAL ? !is_qual(c) : !comp_tab[c];
		}
		return bad;
	}
	v32_t acc = { 0 };
	size_t i = 0;
	for (; i + sizeof acc <= n; i += sizeof acc) copy_flag32(d + i, s + i, what, &acc);
	if (i < n) copy_flag32(d + n - sizeof acc, s + n - sizeof acc, what, &acc);
	uint64_t w[4];
	memcpy(w, &acc, sizeof w);
	return (w[0] | w[1] | w[2] | w[3]) != 0;
}

/* At the end of a BGZF stream: 0 if it ended with the end-of-file block,
 * else -1. A file cut at a block boundary otherwise reads as a short file;
 * this also catches it on standard input, where it cannot be checked first. */
static int stream_end(gf_reader_t *r, BGZF *fp, char *err, size_t errlen)
{
	if (bgzf_compression(fp) != bgzf || fp->last_block_eof) return 0;
	return fail(r, err, errlen, "truncated file: the BGZF end-of-file marker is missing after record %llu",
	            (unsigned long long)r->count);
}

/* Next line without its '\n' or "\r\n" in *s, *n (not NUL-terminated, valid
 * until the next call): 1, 0 at the end, -1 on error. As bgzf_getline, a
 * block at a time, but a line inside one decompressed block is handed out
 * from there (memchr, no copy); only a line across blocks is joined in
 * r->line. */
static int next_line(gf_reader_t *r, const char **s, size_t *n, char *err, size_t errlen)
{
	BGZF *fp = r->bgzf;
	int joined = 0;
	r->line.l = 0;
	for (;;) {
		if (fp->block_offset >= fp->block_length) {
			if (bgzf_read_block(fp) != 0)
				return fail(r, err, errlen, "line %lld, after record %llu: cannot read on: truncated or corrupt data",
				            r->lineno + 1, (unsigned long long)r->count);
			if (fp->block_length == 0) {
				if (!joined) return stream_end(r, fp, err, errlen);
				break;
			}
		}
		const char *b = (const char *)fp->uncompressed_block + fp->block_offset;
		size_t avail = (size_t)(fp->block_length - fp->block_offset);
		const char *nl = memchr(b, '\n', avail);
		size_t len = nl ? (size_t)(nl - b) : avail;
		fp->block_offset += (int)(len + (nl != NULL));
		/* as bgzf_getline: a gzip block does not reset the offset itself */
		if (fp->block_offset >= fp->block_length) fp->block_offset = fp->block_length = 0;
		if (nl && !joined) {
			*s = b;
			*n = len;
			goto found;
		}
		if (kputsn(b, len, &r->line) < 0) return fail(r, err, errlen, "out of memory");
		joined = 1;
		if (nl) break;
	}
	*s = r->line.s;
	*n = r->line.l;
found:
	r->lineno++;
	if (*n && (*s)[*n - 1] == '\r') --*n;
	return 1;
}

/* Next non-empty line: 1, 0 at the end, -1 on error. */
static int next_nonempty(gf_reader_t *r, const char **s, size_t *n, char *err, size_t errlen)
{
	int ret;
	while ((ret = next_line(r, s, n, err, errlen)) > 0 && *n == 0) {}
	return ret;
}

/* Record name from the header line s[0..n): after the marker, up to white space. */
static int header_name(gf_reader_t *r, gf_record_t *rec, const char *s, size_t n, char *err, size_t errlen)
{
	size_t i = 1;
	while (i < n && !strchr(" \t\v\f", s[i])) i++;
	if (i == 1) return fail(r, err, errlen, "line %lld: record %llu has an empty name", r->lineno,
	                        (unsigned long long)r->count + 1);
	return set_name(r, rec, s + 1, i - 1, err, errlen);
}

static int append_bases(gf_reader_t *r, gf_record_t *rec, const char *s, size_t n, char *err, size_t errlen)
{
	if (reserve(&rec->seq, &rec->cap_seq, rec->len + n + 1) < 0) return fail(r, err, errlen, "out of memory");
	if (copy_checked(rec->seq + rec->len, s, n, CHECK_BASES)) {
		size_t bad = first_non_base(s, n);
		if (bad < n) return bad_base(r, rec, (unsigned char)s[bad], (long long)(rec->len + bad + 1), err, errlen);
	}
	rec->len += n;
	rec->seq[rec->len] = 0;
	return 0;
}

static int read_fasta(gf_reader_t *r, gf_record_t *rec, char *err, size_t errlen)
{
	const char *s;
	size_t n;
	int ret;
	if (r->pending) {
		s = r->line.s;
		n = r->line.l;
	} else {
		if ((ret = next_nonempty(r, &s, &n, err, errlen)) <= 0) return ret;
		if (s[0] != '>')
			return fail(r, err, errlen, "line %lld: expected '>' at the start of a FASTA record", r->lineno);
	}
	r->pending = 0;
	long long head = r->lineno;
	if (header_name(r, rec, s, n, err, errlen) < 0) return -1;
	rec->len = 0;
	while ((ret = next_line(r, &s, &n, err, errlen)) > 0) {
		if (n && s[0] == '>') {
			/* the next header, kept in r->line until the next call */
			if (s != r->line.s && kputsn(s, n, &r->line) < 0) return fail(r, err, errlen, "out of memory");
			r->line.l = n;
			r->pending = 1;
			break;
		}
		if (append_bases(r, rec, s, n, err, errlen) < 0) return -1;
	}
	if (ret < 0) return -1;
	if (rec->len == 0) return fail(r, err, errlen, "line %lld: record '%s' has no sequence", head, rec->name);
	free(rec->qual);
	rec->qual = NULL;
	rec->cap_qual = 0;
	return 1;
}

static int read_fastq(gf_reader_t *r, gf_record_t *rec, char *err, size_t errlen)
{
	const char *s;
	size_t n;
	int ret;
	if ((ret = next_nonempty(r, &s, &n, err, errlen)) <= 0) return ret;
	if (s[0] != '@')
		return fail(r, err, errlen, "line %lld: expected '@' at the start of a FASTQ record", r->lineno);
	long long head = r->lineno;
	if (header_name(r, rec, s, n, err, errlen) < 0) return -1;
	rec->len = 0;
	while ((ret = next_line(r, &s, &n, err, errlen)) > 0 && !(n && s[0] == '+'))
		if (append_bases(r, rec, s, n, err, errlen) < 0) return -1;
	if (ret < 0) return -1;
	if (ret == 0) return fail(r, err, errlen, "line %lld: record '%s' ends before its '+' line", head, rec->name);
	if (rec->len == 0) return fail(r, err, errlen, "line %lld: record '%s' has no sequence", head, rec->name);
	if (reserve(&rec->qual, &rec->cap_qual, rec->len + 1) < 0) return fail(r, err, errlen, "out of memory");
	/* Quality lines may start with '@' or '+': they end by length, not by content. */
	size_t q = 0;
	while (q < rec->len && (ret = next_line(r, &s, &n, err, errlen)) > 0) {
		/* bytes past the expected length are checked too, then counted */
		size_t fit = n < rec->len - q ? n : rec->len - q, i = fit;
		if (copy_checked(rec->qual + q, s, fit, CHECK_QUAL)) i = 0;
		while (i < n && is_qual((unsigned char)s[i])) i++;
		if (i < n) {
			char cb[8];
			return fail(r, err, errlen, "line %lld: record '%s': quality character '%s' at position %zu is out of range",
			            r->lineno, rec->name, show_char((unsigned char)s[i], cb), q + i + 1);
		}
		q += n;
	}
	if (ret < 0) return -1;
	if (q != rec->len)
		return fail(r, err, errlen, "line %lld: record '%s': sequence has %zu bases but quality has %s%zu characters",
		            head, rec->name, rec->len, ret == 0 ? "only " : "", q);
	rec->qual[q] = 0;
	return 1;
}

/* ---- FASTA/FASTQ regions through faidx ---- */

/* Parses every region up front, so that a bad one fails at open, before any
 * output: an unknown name or a range off the sequence is an error (samtools
 * would clip it; here it is almost always a mistake). An open end is clipped
 * to the sequence end. */
static int parse_regions(gf_reader_t *r, char *err, size_t errlen)
{
	if (!(r->spans = calloc((size_t)r->o.n_regions, sizeof *r->spans))) return fail(r, err, errlen, "out of memory");
	for (int i = 0; i < r->o.n_regions; i++) {
		const char *reg = r->regions[i], *rest;
		gf_span_t *sp = &r->spans[i];
		sp->tid = -1;
		if (r->fai) {
			rest = fai_parse_region(r->fai, reg, &sp->tid, &sp->beg, &sp->end, 0);
			sp->len = sp->tid >= 0 ? faidx_seq_len(r->fai, faidx_iseq(r->fai, sp->tid)) : 0;
		} else {
			rest = sam_parse_region(r->hdr, reg, &sp->tid, &sp->beg, &sp->end, 0);
			sp->len = sp->tid >= 0 ? (hts_pos_t)sam_hdr_tid2len(r->hdr, sp->tid) : 0;
		}
		if (!rest && sp->tid == -1) return fail(r, err, errlen, "region '%s': unknown sequence name", reg);
		if (!rest || sp->tid < 0 || *rest)
			return fail(r, err, errlen, "region '%s': cannot parse it (expected NAME, NAME:BEG-END or NAME:BEG-, 1-based)", reg);
		/* htslib reads "NAME:0-9" as starting at -1; faidx would then fetch short */
		if (sp->beg < 0) return fail(r, err, errlen, "region '%s': positions are 1-based, the start must be at least 1", reg);
		if (sp->end == HTS_POS_MAX) sp->end = sp->len;
		if (sp->beg >= sp->len || sp->end > sp->len || sp->beg >= sp->end)
			return fail(r, err, errlen, "region '%s' is out of range: the sequence has %lld bp", reg, (long long)sp->len);
	}
	return 0;
}

static void (*seqio_note)(const char *msg);

void gf_seqio_set_note(void (*note)(const char *msg))
{
	seqio_note = note;
}

static void note(const char *fmt, ...)
{
	char msg[1200];
	va_list ap;
	if (!seqio_note) return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	seqio_note(msg);
}

/* 1 when the file at idx is older than st (the data): an index written
 * before the data changed points at the wrong bytes. */
static int older(const char *idx, const struct stat *st)
{
	struct stat si;
	if (stat(idx, &si) != 0) return 0;
	return si.st_mtim.tv_sec < st->st_mtim.tv_sec ||
	       (si.st_mtim.tv_sec == st->st_mtim.tv_sec && si.st_mtim.tv_nsec < st->st_mtim.tv_nsec);
}

/* Builds path's .fai (and .gzi) into temporaries beside them and renames
 * them into place (the .gzi first), so that runs started together on one
 * unindexed file never read each other's half-written index. */
static int build_fai(gf_reader_t *r, const char *fai, const char *gzi, char *err, size_t errlen)
{
	char tfai[PATH_MAX + 32], tgzi[PATH_MAX + 32];
	int fd = -1, fg = -1, rc = -1;
	snprintf(tfai, sizeof tfai, "%s.tmp.%ld.XXXXXX", fai, (long)getpid());
	if (gzi) snprintf(tgzi, sizeof tgzi, "%s.tmp.%ld.XXXXXX", gzi, (long)getpid());
	if ((fd = mkstemp(tfai)) < 0 || (gzi && (fg = mkstemp(tgzi)) < 0)) {
		fail(r, err, errlen, "cannot build the index %s: %s", fai, strerror(errno));
	} else if (fai_build3(r->path, tfai, gzi ? tgzi : NULL) != 0) {
		fail(r, err, errlen, "cannot build the index %s (is the file well formed?)", fai);
	} else if ((gzi && rename(tgzi, gzi) != 0) || rename(tfai, fai) != 0) {
		fail(r, err, errlen, "cannot build the index %s: %s", fai, strerror(errno));
	} else {
		rc = 0;
	}
	if (fd >= 0) close(fd);
	if (fg >= 0) close(fg);
	if (rc) {
		if (fd >= 0) unlink(tfai);
		if (fg >= 0) unlink(tgzi);
	}
	return rc;
}

static int open_faidx(gf_reader_t *r, const htsFormat *fmt, char *err, size_t errlen)
{
	char fai[PATH_MAX], gzi[PATH_MAX];
	struct stat st;
	const int bgz = fmt->compression == bgzf;
	if (strcmp(r->path, "-") == 0) return fail(r, err, errlen, "regions need an indexed file, not standard input");
	if (fmt->compression == gzip)
		return fail(r, err, errlen, "regions need an index, and a plain gzip file cannot be indexed: recompress it with bgzip");
	if ((size_t)snprintf(fai, sizeof fai, "%s.fai", r->path) >= sizeof fai ||
	    (size_t)snprintf(gzi, sizeof gzi, "%s.gzi", r->path) >= sizeof gzi)
		return fail(r, err, errlen, "the name is too long for its index");
	if (stat(r->path, &st) != 0) return fail(r, err, errlen, "cannot open: %s", strerror(errno));
	/* its index would go beside it: /dev/stdin.fai */
	if (!S_ISREG(st.st_mode)) return fail(r, err, errlen, "regions need an indexed file, not a pipe or device");
	int missing = access(fai, F_OK) != 0 || (bgz && access(gzi, F_OK) != 0);
	int stale = !missing && (older(fai, &st) || (bgz && older(gzi, &st)));
	if (missing || stale) {
		if (build_fai(r, fai, bgz ? gzi : NULL, err, errlen)) return -1;
		if (stale) note("%s was older than %s: rebuilt it%s", fai, r->path, bgz ? " (and its .gzi)" : "");
		else note("built the index %s%s", fai, bgz ? " and .gzi" : "");
	}
	errno = 0;
	r->fai = fai_load3_format(r->path, fai, bgz ? gzi : NULL, 0, r->fmt == GF_FMT_FASTQ ? FAI_FASTQ : FAI_FASTA);
	if (!r->fai)
		return fail(r, err, errlen, "cannot load the index %s%s (%s)", fai, bgz ? " / .gzi" : "",
		            errno ? strerror(errno) : "damaged index? delete it to have it rebuilt");
	r->kind = SRC_FAIDX;
	return parse_regions(r, err, errlen);
}

static int read_faidx(gf_reader_t *r, gf_record_t *rec, char *err, size_t errlen)
{
	if (r->next_region >= r->o.n_regions) return 0;
	const gf_span_t *sp = &r->spans[r->next_region];
	const char *reg = r->regions[r->next_region++], *name = faidx_iseq(r->fai, sp->tid);
	hts_pos_t got = 0;
	if (set_name(r, rec, name, strlen(name), err, errlen) < 0) return -1;
	char *s = faidx_fetch_seq64(r->fai, name, sp->beg, sp->end - 1, &got);
	if (!s || got != sp->end - sp->beg) {
		free(s);
		return fail(r, err, errlen, "region '%s': cannot read the sequence (truncated file or stale index?)", reg);
	}
	/* The fetched buffer becomes the record's: no copy of a whole chromosome. */
	free(rec->seq);
	rec->seq = s;
	rec->cap_seq = (size_t)got + 1;
	rec->len = (size_t)got;
	rec->beg = sp->beg;
	rec->src_len = sp->len;
	size_t bad = first_non_base(s, rec->len);
	if (bad < rec->len) return bad_base(r, rec, (unsigned char)s[bad], (long long)(sp->beg + bad + 1), err, errlen);
	free(rec->qual);
	rec->qual = NULL;
	rec->cap_qual = 0;
	if (r->fmt == GF_FMT_FASTQ) {
		rec->qual = faidx_fetch_qual64(r->fai, name, sp->beg, sp->end - 1, &got);
		rec->cap_qual = rec->qual ? (size_t)got + 1 : 0;
		if (!rec->qual || got != sp->end - sp->beg)
			return fail(r, err, errlen, "region '%s': cannot read the quality", reg);
	}
	return 1;
}

/* ---- SAM/BAM/CRAM ---- */

static int by_beg(const void *a, const void *b)
{
	hts_pos_t x = ((const hts_pair_pos_t *)a)->beg, y = ((const hts_pair_pos_t *)b)->beg;
	return (x > y) - (x < y);
}

/* One multi-region iterator over the parsed regions, overlaps merged per
 * sequence, so that a read in two regions comes once. Built from the spans
 * rather than by sam_itr_regarray, whose parser (htslib 1.16) rejects the
 * open-ended "name:beg-". The iterator owns the list. */
static hts_itr_t *region_iterator(gf_reader_t *r)
{
	int n = r->o.n_regions, m = 0;
	hts_reglist_t *rl = calloc((size_t)n, sizeof *rl);
	if (!rl) return NULL;
	for (int i = 0; i < n; i++) {
		const gf_span_t *sp = &r->spans[i];
		int j = 0;
		while (j < m && rl[j].tid != sp->tid) j++;
		if (j == m) {
			rl[m].tid = sp->tid;
			rl[m].reg = sam_hdr_tid2name(r->hdr, sp->tid);
			rl[m].min_beg = sp->beg;
			m++;
		}
		hts_pair_pos_t *iv = realloc(rl[j].intervals, (rl[j].count + 1) * sizeof *iv);
		if (!iv) { hts_reglist_free(rl, m); return NULL; }
		rl[j].intervals = iv;
		iv[rl[j].count++] = (hts_pair_pos_t){ sp->beg, sp->end };
	}
	for (int j = 0; j < m; j++) {
		hts_pair_pos_t *iv = rl[j].intervals;
		uint32_t k = 0;
		qsort(iv, rl[j].count, sizeof *iv, by_beg);
		for (uint32_t i = 1; i < rl[j].count; i++) {
			if (iv[i].beg > iv[k].end) iv[++k] = iv[i];
			else if (iv[i].end > iv[k].end) iv[k].end = iv[i].end;
		}
		rl[j].count = k + 1;
		rl[j].min_beg = iv[0].beg;
		rl[j].max_end = iv[k].end;
	}
	return sam_itr_regions(r->idx, r->hdr, rl, (unsigned)m);
}

/* Without REF_PATH, htslib looks a CRAM's reference up on the EBI server:
 * a cluster node may have no network, and nobody asked for a download. So
 * unless the user set REF_PATH, lookups go to htslib's local cache only,
 * and a missing reference is an error that names --reference. */
static void offline_references(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char path[PATH_MAX];
	if (getenv("REF_PATH")) return;
	if (xdg && *xdg) snprintf(path, sizeof path, "%s/hts-ref/%%2s/%%2s/%%s", xdg);
	else snprintf(path, sizeof path, "%s/.cache/hts-ref/%%2s/%%2s/%%s", home && *home ? home : "/nonexistent");
	setenv("REF_PATH", path, 1);
}

/* 0, or -1 when an index beside path (.bai, .csi, .crai) is older than st. */
static int stale_sam_index(gf_reader_t *r, const struct stat *st, char *err, size_t errlen)
{
	static const char *const ext[] = { ".bai", ".csi", ".crai" };
	char idx[PATH_MAX];
	for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
		if ((size_t)snprintf(idx, sizeof idx, "%s%s", r->path, ext[i]) >= sizeof idx) continue;
		if (older(idx, st))
			return fail(r, err, errlen, "the index %s is older than the file: rebuild it with samtools index", idx);
	}
	return 0;
}

static int open_sam(gf_reader_t *r, hFILE *hf, char *err, size_t errlen)
{
	r->kind = SRC_SAM;
	r->hts = hts_hopen(hf, r->path, "r");
	if (!r->hts) {
		hclose_abruptly(hf);
		return fail(r, err, errlen, "cannot open as %s", gf_format_name(r->fmt));
	}
	if (r->o.reference && r->fmt == GF_FMT_CRAM && hts_set_fai_filename(r->hts, r->o.reference) < 0)
		return fail(r, err, errlen, "cannot use '%s' as the CRAM reference", r->o.reference);
	if (!r->o.reference && r->fmt == GF_FMT_CRAM) offline_references();
	if (r->o.threads > 1 && hts_set_threads(r->hts, r->o.threads) < 0)
		return fail(r, err, errlen, "cannot start %d decompression threads", r->o.threads);
	int eof = r->fmt == GF_FMT_CRAM ? cram_check_EOF(r->hts->fp.cram)
	        : r->hts->is_bgzf ? bgzf_check_EOF(r->hts->fp.bgzf) : 1;
	if (eof == 0) return fail(r, err, errlen, "truncated file: the end-of-file marker is missing");
	r->hdr = sam_hdr_read(r->hts);
	if (!r->hdr) return fail(r, err, errlen, "cannot read the %s header (truncated or corrupt?)", gf_format_name(r->fmt));
	r->b = bam_init1();
	if (!r->b) return fail(r, err, errlen, "out of memory");
	for (int i = 0; i < 256; i++) {
		r->nt2[i][0] = seq_nt16_str[i >> 4];
		r->nt2[i][1] = seq_nt16_str[i & 15];
	}
	if (r->o.n_regions == 0) return 0;
	if (strcmp(r->path, "-") == 0) return fail(r, err, errlen, "regions need an indexed file, not standard input");
	struct stat st;
	if (stat(r->path, &st) == 0 && stale_sam_index(r, &st, err, errlen)) return -1;
	r->idx = sam_index_load(r->hts, r->path);
	if (!r->idx)
		return fail(r, err, errlen, "regions need an index (.bai, .csi or .crai) and none was found: run samtools index");
	if (parse_regions(r, err, errlen) < 0) return -1;
	r->itr = region_iterator(r);
	if (!r->itr) return fail(r, err, errlen, "cannot query the index for the regions");
	return 0;
}

/* Quality as text: phred + 33. */
SEQIO_SIMD static void phred_to_text(char *restrict d, const uint8_t *restrict q, size_t n)
{
#pragma omp simd
	for (size_t i = 0; i < n; i++) d[i] = (char)(q[i] + 33);
}

static int keep_flag(const gf_seqio_opts_t *o, uint16_t flag)
{
	if ((flag & BAM_FSECONDARY) && !o->keep_secondary) return 0;
	if ((flag & BAM_FSUPPLEMENTARY) && !o->keep_supplementary) return 0;
	if ((flag & BAM_FQCFAIL) && !o->keep_qcfail) return 0;
	if ((flag & BAM_FUNMAP) && o->skip_unmapped) return 0;
	return 1;
}

static int read_sam(gf_reader_t *r, gf_record_t *rec, char *err, size_t errlen)
{
	bam1_t *b = r->b;
	for (;;) {
		int ret = r->itr ? sam_itr_next(r->hts, r->itr, b) : sam_read1(r->hts, r->hdr, b);
		if (ret == -1) return r->hts->is_bgzf && !r->itr ? stream_end(r, r->hts->fp.bgzf, err, errlen) : 0;
		if (ret < -1)
			return fail(r, err, errlen, "corrupt or truncated data after record %llu%s%s%s%s",
			            (unsigned long long)r->count, r->count ? " ('" : "", r->count ? rec->name : "", r->count ? "')" : "",
			            r->fmt == GF_FMT_CRAM ? ", or the CRAM reference was not found (give it with --reference FASTA; "
			                                     "references are never fetched over the network unless REF_PATH says so)" : "");
		uint16_t flag = b->core.flag;
		if (!keep_flag(&r->o, flag)) continue;
		size_t n = (size_t)b->core.l_qseq;
		/* Secondary and supplementary lines may omit SEQ: their bases are on the primary line. */
		if (n == 0 && (flag & (BAM_FSECONDARY | BAM_FSUPPLEMENTARY))) continue;
		/* htslib takes an empty QNAME with only a warning; a record needs a name */
		if (!bam_get_qname(b)[0]) return fail(r, err, errlen, "record %llu has an empty name (QNAME)",
		                                      (unsigned long long)r->count + 1);
		if (set_name(r, rec, bam_get_qname(b), strlen(bam_get_qname(b)), err, errlen) < 0) return -1;
		if (n == 0) return fail(r, err, errlen, "record %llu ('%s') has no sequence (SEQ is '*')",
		                        (unsigned long long)r->count + 1, rec->name);
		if (reserve(&rec->seq, &rec->cap_seq, n + 1) < 0 || reserve(&rec->qual, &rec->cap_qual, n + 1) < 0)
			return fail(r, err, errlen, "out of memory");
		const uint8_t *s = bam_get_seq(b), *q = bam_get_qual(b);
		for (size_t i = 0; i < n / 2; i++) memcpy(rec->seq + 2 * i, r->nt2[s[i]], 2);
		if (n & 1) rec->seq[n - 1] = seq_nt16_str[bam_seqi(s, n - 1)];
		rec->seq[n] = 0;
		rec->len = n;
		int has_qual = q[0] != 0xff;
		if (has_qual) {
			phred_to_text(rec->qual, q, n);
			rec->qual[n] = 0;
		}
		if ((flag & BAM_FREVERSE) && !r->o.as_stored) {
			gf_revcomp(rec->seq, n);
			if (has_qual)
				for (size_t i = 0, j = n - 1; i < j; i++, j--) { char t = rec->qual[i]; rec->qual[i] = rec->qual[j]; rec->qual[j] = t; }
		}
		if (!has_qual) {
			free(rec->qual);
			rec->qual = NULL;
			rec->cap_qual = 0;
		}
		return 1;
	}
}

/* ---- opening ---- */

static gf_format_t format_of(const htsFormat *f)
{
	switch (f->format) {
	case fasta_format: return GF_FMT_FASTA;
	case fastq_format: return GF_FMT_FASTQ;
	case sam: return GF_FMT_SAM;
	case bam: return GF_FMT_BAM;
	case cram: return GF_FMT_CRAM;
	default: return GF_FMT_UNKNOWN;
	}
}

static int open_text(gf_reader_t *r, hFILE *hf, const htsFormat *fmt, char *err, size_t errlen)
{
	r->kind = SRC_TEXT;
	r->bgzf = bgzf_hopen(hf, "r");
	if (!r->bgzf) {
		hclose_abruptly(hf);
		return fail(r, err, errlen, "cannot open: %s", errno ? strerror(errno) : "unknown error");
	}
	if (fmt->compression == bgzf) {
		if (bgzf_check_EOF(r->bgzf) == 0) return fail(r, err, errlen, "truncated file: the BGZF end-of-file marker is missing");
		if (r->o.threads > 1 && bgzf_mt(r->bgzf, r->o.threads, 256) < 0)
			return fail(r, err, errlen, "cannot start %d decompression threads", r->o.threads);
	}
	return 0;
}

static int not_sequences(gf_reader_t *r, const htsFormat *fmt, char *err, size_t errlen)
{
	if (fmt->format == empty_format) return fail(r, err, errlen, "the file is empty");
	char *d = hts_format_description(fmt);
	fail(r, err, errlen, "not FASTA, FASTQ, SAM, BAM or CRAM (looks like %s)", d ? d : "unknown data");
	free(d);
	return -1;
}

static int open_any(gf_reader_t *r, char *err, size_t errlen)
{
	errno = 0;
	hFILE *hf = hopen(r->path, "r");
	if (!hf) return fail(r, err, errlen, "cannot open: %s", errno ? strerror(errno) : "unknown error");
	htsFormat fmt;
	if (hts_detect_format2(hf, r->path, &fmt) < 0) {
		hclose_abruptly(hf);
		return fail(r, err, errlen, "cannot read: %s", errno ? strerror(errno) : "unknown error");
	}
	r->fmt = format_of(&fmt);
	if (r->fmt == GF_FMT_SAM || r->fmt == GF_FMT_BAM || r->fmt == GF_FMT_CRAM) return open_sam(r, hf, err, errlen);
	if (r->fmt == GF_FMT_UNKNOWN && fmt.format != text_format) {
		unsigned char b[2];
		int utf16 = hpeek(hf, b, 2) == 2 && ((b[0] == 0xff && b[1] == 0xfe) || (b[0] == 0xfe && b[1] == 0xff));
		hclose_abruptly(hf);
		return utf16 ? fail(r, err, errlen, "is UTF-16 text (a byte-order mark first): save it as ASCII")
		             : not_sequences(r, &fmt, err, errlen);
	}
	if (open_text(r, hf, &fmt, err, errlen) < 0) return -1;
	/* htslib calls a FASTA/FASTQ file "text" when its first record holds a
	 * non-base; the record parser then names the record and the position. */
	if (r->fmt == GF_FMT_UNKNOWN) {
		int c = bgzf_peek(r->bgzf);
		r->fmt = c == '>' ? GF_FMT_FASTA : c == '@' ? GF_FMT_FASTQ : GF_FMT_UNKNOWN;
		/* what a text editor on another system may have put first */
		if (c == 0xef)
			return fail(r, err, errlen, "starts with a UTF-8 byte-order mark, not '>' or '@': remove it "
			            "(sed -i '1s/^\\xEF\\xBB\\xBF//' FILE)");
		if (r->fmt == GF_FMT_UNKNOWN) return not_sequences(r, &fmt, err, errlen);
	}
	if (r->o.n_regions == 0) return 0;
	bgzf_close(r->bgzf);
	r->bgzf = NULL;
	return open_faidx(r, &fmt, err, errlen);
}

gf_reader_t *gf_seqio_open(const char *path, const gf_seqio_opts_t *o, char *err, size_t errlen)
{
	gf_seqio_opts_t defaults;
	if (!o) { gf_seqio_opts_init(&defaults); o = &defaults; }
	hts_set_log_level(HTS_LOG_OFF);
	gf_reader_t *r = calloc(1, sizeof *r);
	if (!r || !(r->path = strdup(path))) {
		free(r);
		if (err && errlen) snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	r->o = *o;
	r->o.regions = NULL;
	if (r->o.n_regions < 0) r->o.n_regions = 0;
	int ok = 1;
	if (r->o.n_regions && !(r->regions = calloc((size_t)r->o.n_regions, sizeof *r->regions))) {
		r->o.n_regions = 0;
		ok = 0;
	}
	for (int i = 0; ok && i < r->o.n_regions; i++) ok = (r->regions[i] = strdup(o->regions[i])) != NULL;
	if (!ok) fail(r, err, errlen, "out of memory");
	if (!ok || open_any(r, err, errlen) < 0) {
		gf_seqio_close(r);
		return NULL;
	}
	return r;
}

int gf_seqio_read(gf_reader_t *r, gf_record_t *rec, char *err, size_t errlen)
{
	if (r->failed) return fail(r, err, errlen, "cannot read on after an earlier error");
	rec->beg = 0;
	int ret;
	switch (r->kind) {
	case SRC_TEXT: ret = r->fmt == GF_FMT_FASTA ? read_fasta(r, rec, err, errlen) : read_fastq(r, rec, err, errlen); break;
	case SRC_FAIDX: ret = read_faidx(r, rec, err, errlen); break;
	default: ret = read_sam(r, rec, err, errlen); break;
	}
	if (ret == 1) {
		r->count++;
		if (r->kind != SRC_FAIDX) rec->src_len = (int64_t)rec->len;
	}
	return ret;
}

void gf_seqio_close(gf_reader_t *r)
{
	if (!r) return;
	if (r->bgzf) bgzf_close(r->bgzf);
	if (r->fai) fai_destroy(r->fai);
	if (r->itr) hts_itr_destroy(r->itr);
	if (r->idx) hts_idx_destroy(r->idx);
	if (r->b) bam_destroy1(r->b);
	if (r->hdr) sam_hdr_destroy(r->hdr);
	if (r->hts) hts_close(r->hts);
	for (int i = 0; r->regions && i < r->o.n_regions; i++) free(r->regions[i]);
	free(r->regions);
	free(r->spans);
	ks_free(&r->line);
	free(r->path);
	free(r);
}
