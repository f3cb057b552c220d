/* genomics/seqio against samtools on real genomes and reads (data/cache,
 * built by data/fetch-examples.sh), the small committed samples, and the bad
 * inputs in tests/data/bad. Counts and sequences must match exactly. */
#include <limits.h>
#include <stdint.h>
#include <unistd.h>

#include "genomics/seqio.h"
#include "tests/testutil.h"

#define LAMBDA "gi|9626243|ref|NC_001416.1|"
#define LAMBDA_LEN 48502

/* Source-relative path; a few rotating buffers so calls can be nested. */
static const char *P(const char *rel)
{
	static char buf[8][PATH_MAX];
	static int k;
	char *b = buf[k++ % 8];
	snprintf(b, PATH_MAX, "%s/%s", tu_srcdir(), rel);
	return b;
}

static void need_cache(void)
{
	if (access(P("data/cache/.complete-v1"), F_OK) != 0)
		ck_abort_msg("%s is missing: run data/fetch-examples.sh (make check runs it first)", P("data/cache"));
}

/* A fresh temporary directory, removed by rm_tmp. */
static void make_tmp(char dir[64])
{
	snprintf(dir, 64, "/tmp/gf_seqio_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void rm_tmp(const char *dir)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(tu_run(cmd, NULL, 0), 0);
}

/* Runs a shell command that must succeed and returns its output (malloc'd). */
static char *sh(const char *cmd)
{
	size_t cap = 1 << 20;
	char *out = malloc(cap);
	ck_assert_ptr_nonnull(out);
	int rc = tu_run(cmd, out, cap);
	ck_assert_msg(rc == 0, "'%s' exited with %d: %.300s", cmd, rc, out);
	return out;
}

typedef struct {
	uint64_t n, bases, hash;
	int ret;
	char err[GF_SEQIO_ERRLEN];
} scan_t;

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h ^ 0xff;  /* field separator */
}

/* Reads a whole file: record and base counts, a hash of every name, sequence
 * and quality, and the final status (0 at a clean end, -1 with err). */
static scan_t scan(const char *path, const gf_seqio_opts_t *o)
{
	scan_t s = { 0, 0, 14695981039346656037ULL, 0, "" };
	gf_reader_t *r = gf_seqio_open(path, o, s.err, sizeof s.err);
	if (!r) { s.ret = -1; return s; }
	gf_record_t rec;
	gf_record_init(&rec);
	while ((s.ret = gf_seqio_read(r, &rec, s.err, sizeof s.err)) > 0) {
		s.n++;
		s.bases += rec.len;
		s.hash = fnv(s.hash, rec.name, strlen(rec.name));
		s.hash = fnv(s.hash, rec.seq, rec.len);
		if (rec.qual) s.hash = fnv(s.hash, rec.qual, rec.len);
	}
	ck_assert_uint_eq(gf_seqio_count(r), s.n);
	gf_seqio_close(r);
	gf_record_free(&rec);
	return s;
}

static scan_t scan_ok(const char *path, const gf_seqio_opts_t *o)
{
	scan_t s = scan(path, o);
	ck_assert_msg(s.ret == 0, "%s: %s", path, s.err);
	return s;
}

/* ---- record and base counts against samtools ---- */

/* Names and lengths, in order, equal those in the .fai that samtools faidx writes. */
static void check_against_fai(const char *fa, uint64_t want_n, uint64_t want_bases)
{
	char dir[64], cmd[2 * PATH_MAX];
	make_tmp(dir);
	snprintf(cmd, sizeof cmd, "samtools faidx --fai-idx %s/x.fai '%s' && cat %s/x.fai", dir, fa, dir);
	char *fai = sh(cmd);
	gf_reader_t *r = gf_seqio_open(fa, NULL, NULL, 0);
	ck_assert_ptr_nonnull(r);
	gf_record_t rec;
	gf_record_init(&rec);
	uint64_t n = 0, bases = 0;
	char err[GF_SEQIO_ERRLEN];
	const char *line = fai;
	int ret;
	while ((ret = gf_seqio_read(r, &rec, err, sizeof err)) > 0) {
		char name[512];
		unsigned long long len;
		ck_assert_msg(sscanf(line, "%511[^\t]\t%llu", name, &len) == 2, "%s: .fai has fewer records than the reader", fa);
		ck_assert_str_eq(rec.name, name);
		ck_assert_uint_eq(rec.len, len);
		ck_assert_ptr_null(rec.qual);
		n++;
		bases += rec.len;
		line = strchr(line, '\n') + 1;
	}
	ck_assert_msg(ret == 0, "%s", err);
	ck_assert_msg(*line == 0, "%s: .fai has more records than the reader", fa);
	ck_assert_uint_eq(n, want_n);
	ck_assert_uint_eq(bases, want_bases);
	gf_seqio_close(r);
	gf_record_free(&rec);
	free(fai);
	rm_tmp(dir);
}

START_TEST(lambda_fasta_matches_samtools_fai)
{
	need_cache();
	check_against_fai(P("data/cache/lambda/lambda_virus.fa"), 1, LAMBDA_LEN);
}
END_TEST

START_TEST(ecoli_genome_matches_samtools_fai)
{
	need_cache();
	check_against_fai(P("data/cache/ecoli/MG1655-K12.fasta"), 1, 4639675);
}
END_TEST

START_TEST(small_sample_with_three_records_matches_samtools_fai)
{
	check_against_fai(P("data/samples/small.fa"), 3, 2302);
}
END_TEST

/* "samtools view ARGS PATH REGIONS" record and base counts (it reads FASTQ too). */
static void samtools_counts(const char *args, const char *path, const char *regions, uint64_t *n, uint64_t *bases)
{
	char cmd[2 * PATH_MAX];
	snprintf(cmd, sizeof cmd, "samtools view %s '%s' %s | awk '{ n++; b += length($10) } END { print n + 0, b + 0 }'",
	         args, path, regions);
	char *out = sh(cmd);
	unsigned long long a, b;
	ck_assert_int_eq(sscanf(out, "%llu %llu", &a, &b), 2);
	*n = a;
	*bases = b;
	free(out);
}

START_TEST(fastq_gz_counts_match_samtools)
{
	need_cache();
	static const char *const files[] = { "reads_1.fq.gz", "reads_2.fq.gz", "longreads.fq.gz" };
	for (size_t i = 0; i < 3; i++) {
		char rel[128];
		snprintf(rel, sizeof rel, "data/cache/lambda/%s", files[i]);
		uint64_t n, b;
		samtools_counts("", P(rel), "", &n, &b);
		scan_t s = scan_ok(P(rel), NULL);
		ck_assert_uint_eq(s.n, n);
		ck_assert_uint_eq(s.bases, b);
	}
}
END_TEST

START_TEST(unaligned_bam_counts_match_samtools)
{
	need_cache();
	uint64_t n, b;
	samtools_counts("", P("data/cache/lambda/combined_reads.bam"), "", &n, &b);
	ck_assert_uint_eq(n, 26000);
	scan_t s = scan_ok(P("data/cache/lambda/combined_reads.bam"), NULL);
	ck_assert_uint_eq(s.n, n);
	ck_assert_uint_eq(s.bases, b);
}
END_TEST

/* Each filter setting against the samtools -F mask that means the same.
 * Secondary lines without SEQ carry no bases and are skipped even when
 * secondaries are kept; -e 'length(seq)>0' does the same in samtools. */
static const struct {
	int secondary, supplementary, qcfail, skip_unmapped;
	const char *samtools;
} filters[] = {
	{ 0, 0, 0, 0, "-F 0xb00" },
	{ 1, 0, 0, 0, "-F 0xa00 -e 'length(seq)>0'" },
	{ 0, 1, 0, 0, "-F 0x300" },
	{ 0, 0, 1, 0, "-F 0x900" },
	{ 0, 0, 0, 1, "-F 0xb04" },
	{ 1, 1, 1, 0, "-e 'length(seq)>0'" },
};

START_TEST(bam_filters_change_counts_as_samtools_F)
{
	need_cache();
	gf_seqio_opts_t o;
	gf_seqio_opts_init(&o);
	o.keep_secondary = filters[_i].secondary;
	o.keep_supplementary = filters[_i].supplementary;
	o.keep_qcfail = filters[_i].qcfail;
	o.skip_unmapped = filters[_i].skip_unmapped;
	const char *bam = P("data/cache/lambda/aln.bam");
	uint64_t n, b;
	samtools_counts(filters[_i].samtools, bam, "", &n, &b);
	scan_t s = scan_ok(bam, &o);
	ck_assert_msg(s.n == n && s.bases == b, "samtools view %s: %llu records, %llu bases; reader: %llu, %llu",
	              filters[_i].samtools, (unsigned long long)n, (unsigned long long)b,
	              (unsigned long long)s.n, (unsigned long long)s.bases);
}
END_TEST

START_TEST(bam_test_data_has_every_flag_the_filters_test)
{
	need_cache();
	static const char *const flags[] = { "-f 0x100", "-f 0x800", "-f 0x200", "-f 0x4", "-f 0x10 -F 0xb00" };
	for (size_t i = 0; i < 5; i++) {
		uint64_t n, b;
		samtools_counts(flags[i], P("data/cache/lambda/aln.bam"), "", &n, &b);
		ck_assert_msg(n > 0, "aln.bam has no record with %s", flags[i]);
	}
}
END_TEST

/* ---- BAM strands ---- */

START_TEST(bam_reverse_reads_come_back_as_sequenced)
{
	need_cache();
	char dir[64], cmd[2 * PATH_MAX], fq[128], err[GF_SEQIO_ERRLEN];
	make_tmp(dir);
	snprintf(fq, sizeof fq, "%s/as_sequenced.fq", dir);
	/* samtools fastq reverse-complements 0x10 reads back, as sequenced. It
	 * also pairs mates by flag and name, reordering and dropping records:
	 * the pair flags are cleared and every name gets a unique "#N". */
	snprintf(cmd, sizeof cmd, "samtools view -h -F 0xb00 '%s' | awk 'BEGIN { FS = OFS = \"\\t\" } "
	         "!/^@/ { f = $2; if (int(f / 128) %% 2) f -= 128; if (int(f / 64) %% 2) f -= 64; if (f %% 2) f -= 1; "
	         "$2 = f; $1 = $1 \"#\" NR } { print }' | samtools fastq -n - > %s 2>/dev/null",
	         P("data/cache/lambda/aln.bam"), fq);
	free(sh(cmd));
	gf_reader_t *a = gf_seqio_open(P("data/cache/lambda/aln.bam"), NULL, err, sizeof err);
	gf_reader_t *b = gf_seqio_open(fq, NULL, err, sizeof err);
	ck_assert_msg(a && b, "%s", err);
	gf_record_t ra, rb;
	gf_record_init(&ra);
	gf_record_init(&rb);
	int x, y;
	uint64_t n = 0;
	while ((x = gf_seqio_read(a, &ra, err, sizeof err)) > 0 && (y = gf_seqio_read(b, &rb, err, sizeof err)) > 0) {
		size_t k = strlen(ra.name);
		ck_assert_msg(strncmp(ra.name, rb.name, k) == 0 && rb.name[k] == '#', "%s vs %s", ra.name, rb.name);
		ck_assert_msg(strcmp(ra.seq, rb.seq) == 0, "record %llu '%s': sequence differs from samtools fastq", (unsigned long long)n, ra.name);
		ck_assert_msg(strcmp(ra.qual, rb.qual) == 0, "record %llu '%s': quality differs from samtools fastq", (unsigned long long)n, ra.name);
		n++;
	}
	ck_assert_int_eq(x, 0);
	ck_assert_int_eq(gf_seqio_read(b, &rb, err, sizeof err), 0);
	ck_assert_uint_gt(n, 20000);
	gf_seqio_close(a);
	gf_seqio_close(b);
	gf_record_free(&ra);
	gf_record_free(&rb);
	rm_tmp(dir);
}
END_TEST

START_TEST(bam_as_stored_returns_seq_and_qual_columns)
{
	need_cache();
	char cmd[2 * PATH_MAX], err[GF_SEQIO_ERRLEN];
	snprintf(cmd, sizeof cmd, "samtools view -F 0xb00 '%s' | cut -f 2,10,11", P("data/cache/lambda/aln.bam"));
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	gf_seqio_opts_t o;
	gf_seqio_opts_init(&o);
	o.as_stored = 1;
	gf_reader_t *r = gf_seqio_open(P("data/cache/lambda/aln.bam"), &o, err, sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	gf_record_t rec;
	gf_record_init(&rec);
	char *line = NULL;
	size_t cap = 0;
	uint64_t reverse = 0;
	while (getline(&line, &cap, p) > 0) {
		ck_assert_int_eq(gf_seqio_read(r, &rec, err, sizeof err), 1);
		int flag = atoi(line);
		char *seq = strchr(line, '\t') + 1, *qual = strchr(seq, '\t');
		*qual++ = 0;
		qual[strcspn(qual, "\n")] = 0;
		ck_assert_str_eq(rec.seq, seq);
		if (strcmp(qual, "*") == 0) ck_assert_ptr_null(rec.qual);
		else ck_assert_str_eq(rec.qual, qual);
		reverse += (flag & 0x10) != 0;
	}
	ck_assert_int_eq(gf_seqio_read(r, &rec, err, sizeof err), 0);
	ck_assert_uint_gt(reverse, 1000);
	free(line);
	pclose(p);
	gf_seqio_close(r);
	gf_record_free(&rec);
}
END_TEST

START_TEST(cram_with_reference_reads_like_the_bam)
{
	need_cache();
	gf_seqio_opts_t o;
	gf_seqio_opts_init(&o);
	o.reference = P("data/cache/lambda/lambda_virus.fa");
	scan_t bam = scan_ok(P("data/cache/lambda/aln.bam"), NULL);
	scan_t cram = scan_ok(P("data/cache/lambda/aln.cram"), &o);
	ck_assert_uint_eq(cram.n, bam.n);
	ck_assert_uint_eq(cram.bases, bam.bases);
	ck_assert_uint_eq(cram.hash, bam.hash);
}
END_TEST

START_TEST(cram_without_its_reference_says_so)
{
	need_cache();
	char dir[64], cmd[2 * PATH_MAX], cram[128];
	make_tmp(dir);
	snprintf(cram, sizeof cram, "%s/x.cram", dir);
	snprintf(cmd, sizeof cmd, "cp '%s' %s/ref.fa && samtools view -C -T %s/ref.fa -o %s '%s' && rm %s/ref.fa*", P("data/cache/lambda/lambda_virus.fa"),
	         dir, dir, cram, P("data/cache/lambda/aln.bam"), dir);
	free(sh(cmd));
	/* No reference anywhere, and no download from the EBI reference server. */
	setenv("REF_PATH", dir, 1);
	setenv("REF_CACHE", dir, 1);
	scan_t s = scan(cram, NULL);
	ck_assert_int_eq(s.ret, -1);
	ck_assert_msg(strstr(s.err, cram) == s.err && strstr(s.err, "CRAM reference was not found"), "%s", s.err);
	rm_tmp(dir);
}
END_TEST

/* ---- compression, stdin, threads ---- */

START_TEST(plain_gzip_and_bgzip_give_identical_records)
{
	need_cache();
	scan_t plain = scan_ok(P("data/cache/lambda/lambda_virus.fa"), NULL);
	scan_t gz = scan_ok(P("data/cache/lambda/lambda_virus.fa.gz"), NULL);
	scan_t bgz = scan_ok(P("data/cache/lambda/lambda_virus.bgz.fa.gz"), NULL);
	ck_assert_uint_eq(plain.bases, LAMBDA_LEN);
	ck_assert_uint_eq(gz.hash, plain.hash);
	ck_assert_uint_eq(bgz.hash, plain.hash);

	char dir[64], cmd[4 * PATH_MAX], rel[3][128];
	make_tmp(dir);
	const char *fq = P("data/samples/small.fq");
	snprintf(rel[0], 128, "%s/s.fq.gz", dir);
	snprintf(rel[1], 128, "%s/s.bgz.fq.gz", dir);
	snprintf(cmd, sizeof cmd, "gzip -c '%s' > %s && bgzip -c '%s' > %s", fq, rel[0], fq, rel[1]);
	free(sh(cmd));
	scan_t q = scan_ok(fq, NULL);
	ck_assert_uint_eq(q.n, 25);
	ck_assert_uint_eq(scan_ok(rel[0], NULL).hash, q.hash);
	ck_assert_uint_eq(scan_ok(rel[1], NULL).hash, q.hash);
	rm_tmp(dir);
}
END_TEST

/* Standard input from a pipe (not seekable), as in `zcat x | genoformer ...`. */
static scan_t scan_stdin(const char *shell_cmd)
{
	FILE *p = popen(shell_cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_ge(dup2(fileno(p), STDIN_FILENO), 0);
	scan_t s = scan("-", NULL);
	pclose(p);
	return s;
}

START_TEST(stdin_reads_like_the_file)
{
	need_cache();
	static const char *const files[] = {
		"data/cache/lambda/reads_1.fq.gz", "data/cache/lambda/lambda_virus.bgz.fa.gz",
		"data/cache/lambda/aln.bam", "data/samples/small.sam",
	};
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "cat '%s'", P(files[_i]));
	scan_t f = scan_ok(P(files[_i]), NULL), s = scan_stdin(cmd);
	ck_assert_msg(s.ret == 0, "%s", s.err);
	ck_assert_uint_eq(s.n, f.n);
	ck_assert_uint_eq(s.hash, f.hash);
}
END_TEST

START_TEST(decompression_threads_give_the_same_records)
{
	need_cache();
	gf_seqio_opts_t o;
	gf_seqio_opts_init(&o);
	o.threads = 3;
	static const char *const files[] = { "data/cache/lambda/aln.bam", "data/cache/lambda/lambda_virus.bgz.fa.gz" };
	for (size_t i = 0; i < 2; i++)
		ck_assert_uint_eq(scan_ok(P(files[i]), &o).hash, scan_ok(P(files[i]), NULL).hash);
}
END_TEST

/* ---- records ---- */

/* Opens a committed sample, checks its format, reads its first record. */
static gf_reader_t *open_sample(const char *rel, gf_format_t fmt, gf_record_t *rec, const char *first)
{
	char err[GF_SEQIO_ERRLEN];
	gf_reader_t *r = gf_seqio_open(P(rel), NULL, err, sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	ck_assert_int_eq(gf_seqio_format(r), fmt);
	gf_record_init(rec);
	ck_assert_msg(gf_seqio_read(r, rec, err, sizeof err) == 1, "%s", err);
	ck_assert_str_eq(rec->name, first);
	return r;
}

START_TEST(fasta_keeps_case_and_iupac_and_has_no_quality)
{
	gf_record_t rec;
	gf_reader_t *r = open_sample("data/samples/small.fa", GF_FMT_FASTA, &rec, "lambda_head");
	char err[GF_SEQIO_ERRLEN];
	ck_assert_int_eq(strncmp(rec.seq, "GGGCGGCGACCTCGCGGGTT", 20), 0);
	ck_assert_int_eq(gf_seqio_read(r, &rec, err, sizeof err), 1);
	ck_assert_str_eq(rec.name, "lambda_soft");
	ck_assert_uint_eq(rec.len, 600);
	ck_assert_int_eq(strspn(rec.seq + 250, "N"), 50);
	ck_assert_int_eq(strncmp(rec.seq + 400, "ryk", 3), 0);
	ck_assert_ptr_null(rec.qual);
	ck_assert_int_eq(rec.beg, 0);
	ck_assert_int_eq(rec.src_len, 600);
	ck_assert_int_eq(gf_seqio_read(r, &rec, err, sizeof err), 1);
	ck_assert_str_eq(rec.name, LAMBDA "tail");
	ck_assert_int_eq(gf_seqio_read(r, &rec, err, sizeof err), 0);
	gf_seqio_close(r);
	gf_record_free(&rec);
}
END_TEST

START_TEST(fastq_record_has_name_bases_and_quality)
{
	gf_record_t rec;
	gf_reader_t *r = open_sample("data/samples/small.fq", GF_FMT_FASTQ, &rec, "r1");
	char err[GF_SEQIO_ERRLEN];
	ck_assert_uint_eq(rec.len, 122);
	ck_assert_int_eq(strncmp(rec.seq, "TGAATGCGAACTCCGGGACG", 20), 0);
	ck_assert_int_eq(strncmp(rec.qual, "+\"@6<:27(F&5)9)\"B:%B", 20), 0);
	ck_assert_uint_eq(strlen(rec.qual), rec.len);
	/* The buffers are reused: only a record longer than any before reallocates. */
	char *seq = rec.seq, *qual = rec.qual;
	size_t cap = rec.cap_seq, longest = rec.len, grew = 0;
	while (gf_seqio_read(r, &rec, err, sizeof err) > 0) {
		if (rec.len <= longest) ck_assert(rec.seq == seq && rec.qual == qual && rec.cap_seq == cap);
		if (rec.seq != seq || rec.qual != qual) grew++;
		seq = rec.seq;
		qual = rec.qual;
		cap = rec.cap_seq;
		if (rec.len > longest) longest = rec.len;
	}
	ck_assert_uint_le(grew, 2);
	gf_seqio_close(r);
	gf_record_free(&rec);
}
END_TEST

/* Wrapped sequence and quality lines, CRLF line ends, a quality line that
 * starts with '@' and blank lines between records read as plain 4-line FASTQ. */
START_TEST(fastq_wrapped_crlf_reads_like_four_line)
{
	char dir[64], a[128], b[128];
	make_tmp(dir);
	snprintf(a, sizeof a, "%s/plain.fq", dir);
	snprintf(b, sizeof b, "%s/wrapped.fq", dir);
	FILE *f = fopen(a, "w"), *g = fopen(b, "w");
	ck_assert(f && g);
	fputs("@r1 first\nACGTNacgtRY\n+\n@@IIII#####\n@r2\nGGCC\n+r2\nAB@C\n", f);
	fputs("@r1 first\r\nACGTN\r\nacgtRY\r\n+\r\n@@III\r\nI#####\r\n\r\n@r2\r\nGG\r\nCC\r\n+r2\r\nAB@C\r\n", g);
	fclose(f);
	fclose(g);
	scan_t x = scan_ok(a, NULL), y = scan_ok(b, NULL);
	ck_assert_uint_eq(x.n, 2);
	ck_assert_uint_eq(x.bases, 15);
	ck_assert_uint_eq(y.hash, x.hash);
	rm_tmp(dir);
}
END_TEST

START_TEST(revcomp_complements_iupac_and_keeps_case)
{
	char s[] = "ACGTURYSWKMBDHVNacgturyswkmbdhvn";
	gf_revcomp(s, strlen(s));
	ck_assert_str_eq(s, "nbdhvkmwsryaacgtNBDHVKMWSRYAACGT");
	char odd[] = "AaC";
	gf_revcomp(odd, 3);
	ck_assert_str_eq(odd, "GtT");
	gf_revcomp(odd, 0);
	ck_assert_str_eq(odd, "GtT");
}
END_TEST

/* ---- regions ---- */

/* Sequence that `samtools faidx FILE REGION` prints, lines joined. */
static char *samtools_region(const char *fa, const char *region)
{
	char cmd[2 * PATH_MAX];
	snprintf(cmd, sizeof cmd, "samtools faidx '%s' '%s' | grep -v '^>' | tr -d '\\n'", fa, region);
	return sh(cmd);
}

static void check_regions(const char *fa, const char *const *regs, int n, const int64_t *begs)
{
	gf_seqio_opts_t o;
	gf_seqio_opts_init(&o);
	o.regions = regs;
	o.n_regions = n;
	char err[GF_SEQIO_ERRLEN];
	gf_reader_t *r = gf_seqio_open(fa, &o, err, sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	gf_record_t rec;
	gf_record_init(&rec);
	for (int i = 0; i < n; i++) {
		ck_assert_msg(gf_seqio_read(r, &rec, err, sizeof err) == 1, "%s", err);
		char *want = samtools_region(fa, regs[i]);
		ck_assert_msg(strlen(want) == rec.len && memcmp(want, rec.seq, rec.len) == 0,
		              "%s %s: %zu bases differ from samtools faidx (%zu)", fa, regs[i], rec.len, strlen(want));
		ck_assert_int_eq(rec.beg, begs[i]);
		free(want);
	}
	ck_assert_int_eq(gf_seqio_read(r, &rec, err, sizeof err), 0);
	ck_assert_uint_eq(gf_seqio_count(r), (uint64_t)n);
	gf_seqio_close(r);
	gf_record_free(&rec);
}

START_TEST(fasta_regions_equal_samtools_faidx)
{
	need_cache();
	static const char *const regs[] = {
		LAMBDA ":1-70", LAMBDA ":71-71", LAMBDA ":100-2000", LAMBDA ":48000-", LAMBDA, LAMBDA ":48502-48502",
	};
	static const int64_t begs[] = { 0, 70, 99, 47999, 0, 48501 };
	check_regions(P("data/cache/lambda/lambda_virus.fa"), regs, 6, begs);
	check_regions(P("data/cache/lambda/lambda_virus.bgz.fa.gz"), regs, 6, begs);
	static const char *const ecoli[] = { "K-12-MG1655:1000000-1000500", "K-12-MG1655:4639000-" };
	static const int64_t ecoli_beg[] = { 999999, 4638999 };
	check_regions(P("data/cache/ecoli/MG1655-K12.fasta"), ecoli, 2, ecoli_beg);
}
END_TEST

START_TEST(region_record_gives_coordinates_in_the_source)
{
	static const char *const regs[] = { "lambda_soft:241-320", LAMBDA "tail:2-" };
	static const int64_t begs[] = { 240, 1 };
	check_regions(P("data/samples/small.fa"), regs, 2, begs);
	gf_seqio_opts_t o;
	gf_seqio_opts_init(&o);
	o.regions = regs;
	o.n_regions = 2;
	gf_reader_t *r = gf_seqio_open(P("data/samples/small.fa"), &o, NULL, 0);
	gf_record_t rec;
	gf_record_init(&rec);
	char err[GF_SEQIO_ERRLEN];
	ck_assert_int_eq(gf_seqio_read(r, &rec, err, sizeof err), 1);
	ck_assert_str_eq(rec.name, "lambda_soft");
	ck_assert_uint_eq(rec.len, 80);
	ck_assert_int_eq(rec.src_len, 600);
	ck_assert_int_eq(strspn(rec.seq + 10, "N"), 50);
	ck_assert_int_eq(gf_seqio_read(r, &rec, err, sizeof err), 1);
	ck_assert_str_eq(rec.name, LAMBDA "tail");
	ck_assert_uint_eq(rec.len, 501);
	ck_assert_int_eq(rec.src_len, 502);
	gf_seqio_close(r);
	gf_record_free(&rec);
}
END_TEST

START_TEST(fastq_region_has_the_quality_of_samtools_fqidx)
{
	char dir[64], cmd[2 * PATH_MAX], fq[128], err[GF_SEQIO_ERRLEN];
	make_tmp(dir);
	snprintf(fq, sizeof fq, "%s/copy.fq", dir);
	snprintf(cmd, sizeof cmd, "cp '%s' %s", P("data/samples/small.fq"), fq);
	free(sh(cmd));
	static const char *const regs[] = { "r3:10-20", "r25" };
	gf_seqio_opts_t o;
	gf_seqio_opts_init(&o);
	o.regions = regs;
	o.n_regions = 2;
	gf_reader_t *r = gf_seqio_open(fq, &o, err, sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	gf_record_t rec;
	gf_record_init(&rec);
	for (int i = 0; i < 2; i++) {
		ck_assert_msg(gf_seqio_read(r, &rec, err, sizeof err) == 1, "%s", err);
		snprintf(cmd, sizeof cmd, "samtools fqidx -n 100000 %s '%s' | sed -n '2p;4p' | tr '\\n' ' '", fq, regs[i]);
		char *want = sh(cmd), got[1024];
		snprintf(got, sizeof got, "%s %s ", rec.seq, rec.qual);
		ck_assert_str_eq(got, want);
		free(want);
	}
	ck_assert_int_eq(gf_seqio_read(r, &rec, err, sizeof err), 0);
	gf_seqio_close(r);
	gf_record_free(&rec);
	rm_tmp(dir);
}
END_TEST

START_TEST(fasta_region_builds_missing_indexes)
{
	char dir[64], cmd[2 * PATH_MAX], fa[128], bgz[128];
	make_tmp(dir);
	snprintf(fa, sizeof fa, "%s/copy.fa", dir);
	snprintf(bgz, sizeof bgz, "%s/copy.fa.gz", dir);
	snprintf(cmd, sizeof cmd, "cp '%s' %s && bgzip -c %s > %s", P("data/samples/small.fa"), fa, fa, bgz);
	free(sh(cmd));
	static const char *const regs[] = { "lambda_head:1000-1100" };
	static const int64_t begs[] = { 999 };
	check_regions(fa, regs, 1, begs);
	check_regions(bgz, regs, 1, begs);
	snprintf(cmd, sizeof cmd, "test -s %s.fai && test -s %s.fai && test -s %s.gzi", fa, bgz, bgz);
	free(sh(cmd));
	rm_tmp(dir);
}
END_TEST

START_TEST(bam_regions_match_samtools_view)
{
	need_cache();
	static const char *const regs[] = { LAMBDA ":100-200", LAMBDA ":150-3000", LAMBDA ":40000-" };
	/* samtools -M (htslib 1.16) cannot parse the open end: it gets it spelled out. */
	static const char *const sam_regs[] = { LAMBDA ":100-200", LAMBDA ":150-3000", LAMBDA ":40000-48502" };
	for (int k = 1; k <= 3; k++) {
		gf_seqio_opts_t o;
		gf_seqio_opts_init(&o);
		o.regions = regs;
		o.n_regions = k;
		o.reference = P("data/cache/lambda/lambda_virus.fa");
		char args[512] = "";
		uint64_t n, b;
		for (int i = 0, m = 0; i < k; i++) m += snprintf(args + m, sizeof args - (size_t)m, " '%s'", sam_regs[i]);
		samtools_counts("-M -F 0xb00", P("data/cache/lambda/aln.bam"), args, &n, &b);
		ck_assert_uint_gt(n, 0);
		scan_t bam = scan_ok(P("data/cache/lambda/aln.bam"), &o), cram = scan_ok(P("data/cache/lambda/aln.cram"), &o);
		ck_assert_uint_eq(bam.n, n);
		ck_assert_uint_eq(bam.bases, b);
		ck_assert_uint_eq(cram.hash, bam.hash);
	}
}
END_TEST

/* ---- bad input: one line naming the file, the record and the line or position ---- */

static const struct {
	const char *file, *region, *needle[4];
	int cache;
} bad[] = {
	{ "tests/data/bad/does_not_exist.fa", NULL, { "No such file" }, 0 },
	{ "tests/data/bad/empty.fa", NULL, { "empty" }, 0 },
	{ "tests/data/bad/notes.txt", NULL, { "not FASTA, FASTQ, SAM, BAM or CRAM" }, 0 },
	{ "tests/data/bad/variants.vcf", NULL, { "not FASTA, FASTQ, SAM, BAM or CRAM", "VCF" }, 0 },
	{ "tests/data/bad/truncated.fa.gz", NULL, { "truncated", "line 1", "record 0" }, 0 },
	{ "tests/data/bad/truncated_bgzf.fa.gz", NULL, { "truncated" }, 0 },
	{ "tests/data/bad/no_eof_block.fa.gz", NULL, { "truncated", "end-of-file marker" }, 0 },
	{ "tests/data/bad/truncated.bam", NULL, { "truncated" }, 0 },
	{ "tests/data/bad/qual_mismatch.fq", NULL, { "line 5", "'r2'", "12 bases", "10 characters" }, 0 },
	{ "tests/data/bad/header_then_header.fa", NULL, { "line 3", "'second'", "no sequence" }, 0 },
	{ "tests/data/bad/header_at_eof.fa", NULL, { "line 3", "'last'", "no sequence" }, 0 },
	{ "tests/data/bad/empty_seq.fq", NULL, { "line 5", "'r2'", "no sequence" }, 0 },
	{ "tests/data/bad/no_plus.fq", NULL, { "line 1", "'r1'", "'+' line" }, 0 },
	{ "tests/data/bad/dash.fa", NULL, { "line 5", "'gapped'", "'-' at position 14", "not an IUPAC base" }, 0 },
	{ "tests/data/bad/star.fq", NULL, { "line 2", "'r1'", "'*' at position 7", "not an IUPAC base" }, 0 },
	/* found by fuzz_seqio: htslib passes an empty QNAME on with a warning */
	{ "tests/data/bad/empty_qname.sam", NULL, { "record 2", "empty name" }, 0 },
	{ "data/samples/small.fa", "chrX:1-10", { "region 'chrX:1-10'", "unknown sequence name" }, 0 },
	{ "data/samples/small.fa", "lambda_head:1190-1201", { "'lambda_head:1190-1201'", "out of range", "1200 bp" }, 0 },
	{ "data/samples/small.fa", "lambda_soft:601-", { "out of range", "600 bp" }, 0 },
	{ "data/samples/small.fa", "lambda_soft:20-10", { "'lambda_soft:20-10'", "cannot parse" }, 0 },
	/* found by fuzz_regions: htslib reads position 0 as -1, faidx then fetched one base short */
	{ "data/samples/small.fa", "lambda_soft:0-100", { "'lambda_soft:0-100'", "1-based", "at least 1" }, 0 },
	{ "tests/data/bad/plain_gzip.fa.gz", "lambda_head", { "plain gzip", "bgzip" }, 0 },
	{ "data/samples/small.sam", LAMBDA ":1-100", { "index" }, 0 },
	{ "data/cache/lambda/aln.bam", "chr1", { "region 'chr1'", "unknown sequence name" }, 1 },
	{ "data/cache/lambda/aln.bam", LAMBDA ":48000-48600", { "out of range", "48502 bp" }, 1 },
};

/* Opens and reads to the end: the first error must be one line naming the
 * file and containing every needle; a further read fails again, cleanly. */
static void check_bad(const char *path, const char *region, const char *const *needle, size_t n_needles)
{
	gf_seqio_opts_t o;
	gf_seqio_opts_init(&o);
	const char *regs[1] = { region };
	if (region) {
		o.regions = regs;
		o.n_regions = 1;
	}
	char err[GF_SEQIO_ERRLEN] = "";
	gf_reader_t *r = gf_seqio_open(path, &o, err, sizeof err);
	if (r) {
		gf_record_t rec;
		gf_record_init(&rec);
		int ret;
		while ((ret = gf_seqio_read(r, &rec, err, sizeof err)) > 0) {}
		ck_assert_msg(ret == -1, "%s: read to the end without an error", path);
		char again[GF_SEQIO_ERRLEN];
		ck_assert_int_eq(gf_seqio_read(r, &rec, again, sizeof again), -1);
		gf_seqio_close(r);
		gf_record_free(&rec);
	}
	ck_assert_msg(strstr(err, path) == err, "message does not start with the file name: %s", err);
	ck_assert_msg(!strchr(err, '\n'), "message is not one line: %s", err);
	for (size_t i = 0; i < n_needles && needle[i]; i++)
		ck_assert_msg(strstr(err, needle[i]), "message lacks \"%s\": %s", needle[i], err);
}

START_TEST(bad_input_gives_one_line_naming_file_record_and_place)
{
	if (bad[_i].cache) need_cache();
	check_bad(P(bad[_i].file), bad[_i].region, bad[_i].needle, 4);
}
END_TEST

/* Plain files are read 64 KiB at a time (gzip ones inflate to 64 KiB too):
 * with a 65-byte header and lines of 60 bases + "\r\n", the first block
 * ends between a line's '\r' and '\n', the second one base into a line, the
 * third three bases in. The bases, the one record and, for a bad byte past a
 * block boundary, the line and position must come out as with LF endings. */
enum { XB_LINES = 4000, XB_WIDTH = 60, XB_BAD_LINE = 2113 };

static void write_cross_block_fasta(const char *path, const char *eol, int bad)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, ">a %060d%s", 0, eol);
	for (int i = 0; i < XB_LINES; i++) {
		char line[XB_WIDTH + 1];
		for (int j = 0; j < XB_WIDTH; j++) line[j] = "ACGTacgtNRYn"[(i * 7 + j * 3) % 12];
		if (bad && i == XB_BAD_LINE) line[4] = '*';
		line[XB_WIDTH] = 0;
		fprintf(f, "%s%s", line, eol);
	}
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(lines_across_read_blocks_read_as_with_lf_endings)
{
	char dir[64], lf[128], crlf[128], gz[128], bgz[128], bad[128], cmd[1024];
	make_tmp(dir);
	snprintf(lf, sizeof lf, "%s/lf.fa", dir);
	snprintf(crlf, sizeof crlf, "%s/crlf.fa", dir);
	snprintf(gz, sizeof gz, "%s/crlf.fa.gz", dir);
	snprintf(bgz, sizeof bgz, "%s/crlf.bgz.fa.gz", dir);
	snprintf(bad, sizeof bad, "%s/bad.fa", dir);
	write_cross_block_fasta(lf, "\n", 0);
	write_cross_block_fasta(crlf, "\r\n", 0);
	write_cross_block_fasta(bad, "\r\n", 1);
	snprintf(cmd, sizeof cmd, "gzip -c %s > %s && bgzip -c %s > %s", crlf, gz, crlf, bgz);
	free(sh(cmd));
	scan_t want = scan_ok(lf, NULL);
	ck_assert_uint_eq(want.n, 1);
	ck_assert_uint_eq(want.bases, XB_LINES * XB_WIDTH);
	ck_assert_uint_eq(scan_ok(crlf, NULL).hash, want.hash);
	ck_assert_uint_eq(scan_ok(gz, NULL).hash, want.hash);
	ck_assert_uint_eq(scan_ok(bgz, NULL).hash, want.hash);
	/* line 1 is the header; the '*' is the 5th byte of its line */
	char line[32], pos[48];
	snprintf(line, sizeof line, "line %d:", XB_BAD_LINE + 2);
	snprintf(pos, sizeof pos, "'*' at position %d ", XB_BAD_LINE * XB_WIDTH + 5);
	const char *const needle[] = { line, "'a'", pos, "not an IUPAC base" };
	check_bad(bad, NULL, needle, 4);
	rm_tmp(dir);
}
END_TEST

START_TEST(region_on_fasta_that_cannot_be_indexed_fails_clearly)
{
	/* An unwritable index: a directory where the .fai would go (root can
	 * write anywhere, so a read-only directory would not do). */
	char dir[64], cmd[2 * PATH_MAX], fa[128];
	make_tmp(dir);
	snprintf(fa, sizeof fa, "%s/copy.fa", dir);
	snprintf(cmd, sizeof cmd, "cp '%s' %s && mkdir %s.fai", P("data/samples/small.fa"), fa, fa);
	free(sh(cmd));
	static const char *const needle[] = { "cannot load the index", ".fai" };
	check_bad(fa, "lambda_head", needle, 2);
	rm_tmp(dir);
}
END_TEST

/* Cut at a BGZF block boundary, only the missing end-of-file block tells;
 * on a pipe it cannot be checked up front, so the end of the stream does. */
START_TEST(stdin_without_bgzf_eof_block_is_an_error_naming_standard_input)
{
	char cmd[PATH_MAX + 64];
	if (_i == 0) snprintf(cmd, sizeof cmd, "cat '%s'", P("tests/data/bad/no_eof_block.fa.gz"));
	else snprintf(cmd, sizeof cmd, "samtools view -b '%s' | head -c -28", P("data/samples/small.sam"));
	scan_t s = scan_stdin(cmd);
	ck_assert_int_eq(s.ret, -1);
	ck_assert_msg(strstr(s.err, "standard input: truncated file") && strstr(s.err, "end-of-file marker is missing"), "%s", s.err);
	ck_assert_uint_eq(s.n, _i == 0 ? 2 : 15);
}
END_TEST

static Suite *seqio_suite(void)
{
	Suite *s = suite_create("seqio");
	TCase *t = tcase_create("samples");
	tcase_add_test(t, small_sample_with_three_records_matches_samtools_fai);
	tcase_add_test(t, fasta_keeps_case_and_iupac_and_has_no_quality);
	tcase_add_test(t, fastq_record_has_name_bases_and_quality);
	tcase_add_test(t, fastq_wrapped_crlf_reads_like_four_line);
	tcase_add_test(t, revcomp_complements_iupac_and_keeps_case);
	tcase_add_test(t, fastq_region_has_the_quality_of_samtools_fqidx);
	tcase_add_test(t, region_record_gives_coordinates_in_the_source);
	tcase_add_test(t, fasta_region_builds_missing_indexes);
	suite_add_tcase(s, t);

	t = tcase_create("real");
	tcase_add_test(t, lambda_fasta_matches_samtools_fai);
	tcase_add_test(t, ecoli_genome_matches_samtools_fai);
	tcase_add_test(t, fastq_gz_counts_match_samtools);
	tcase_add_test(t, unaligned_bam_counts_match_samtools);
	tcase_add_test(t, bam_test_data_has_every_flag_the_filters_test);
	tcase_add_loop_test(t, bam_filters_change_counts_as_samtools_F, 0, (int)(sizeof filters / sizeof filters[0]));
	tcase_add_test(t, bam_reverse_reads_come_back_as_sequenced);
	tcase_add_test(t, bam_as_stored_returns_seq_and_qual_columns);
	tcase_add_test(t, cram_with_reference_reads_like_the_bam);
	tcase_add_test(t, cram_without_its_reference_says_so);
	tcase_add_test(t, plain_gzip_and_bgzip_give_identical_records);
	tcase_add_loop_test(t, stdin_reads_like_the_file, 0, 4);
	tcase_add_test(t, decompression_threads_give_the_same_records);
	tcase_add_test(t, fasta_regions_equal_samtools_faidx);
	tcase_add_test(t, bam_regions_match_samtools_view);
	suite_add_tcase(s, t);

	t = tcase_create("bad_input");
	tcase_add_loop_test(t, bad_input_gives_one_line_naming_file_record_and_place, 0, (int)(sizeof bad / sizeof bad[0]));
	tcase_add_test(t, region_on_fasta_that_cannot_be_indexed_fails_clearly);
	tcase_add_test(t, lines_across_read_blocks_read_as_with_lf_endings);
	tcase_add_loop_test(t, stdin_without_bgzf_eof_block_is_an_error_naming_standard_input, 0, 2);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return tu_run_suite(seqio_suite());
}
