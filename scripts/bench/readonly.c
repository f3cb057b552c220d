/* Baseline for scripts/bench/io.sh: reads every record of the inputs with
 * htslib alone (kseq over BGZF for FASTA/FASTQ, sam_read1 for SAM/BAM/CRAM),
 * bases as text, and with -k K also tokenizes them (gf_kmer_tokenize, stride
 * 1) in chunks of 4096 tokens as `genoformer tokenize` does. Prints "bases tokens seconds peak_rss_bytes" on stdout.
 * Usage: readonly [-k K] IN... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <htslib/bgzf.h>
#include <htslib/kseq.h>
#include <htslib/sam.h>

#include "genomics/kmer.h"

KSEQ_INIT(BGZF *, bgzf_read)

enum { CHUNK = 1 << 12 };

typedef struct {
	int k;
	unsigned long long bases, tokens;
	int32_t tok[CHUNK];
} bench_t;

static void consume(bench_t *b, const char *seq, size_t n)
{
	b->bases += n;
	if (!b->k) return;
	for (size_t j = 0, m = gf_kmer_count(n, b->k, 1); j < m; j += CHUNK)
		b->tokens += gf_kmer_tokenize_part(seq, n, b->k, 1, j, CHUNK, b->tok);
}

static int read_sam(const char *path, bench_t *b)
{
	samFile *fp = sam_open(path, "r");
	sam_hdr_t *h = fp ? sam_hdr_read(fp) : NULL;
	bam1_t *r = bam_init1();
	char *s = NULL;
	size_t cap = 0;
	int ret;
	if (!h) return -1;
	while ((ret = sam_read1(fp, h, r)) >= 0) {
		size_t n = r->core.l_qseq;
		if (n + 1 > cap && !(s = realloc(s, cap = n + 1))) return -1;
		const uint8_t *q = bam_get_seq(r);
		for (size_t i = 0; i < n; i++) s[i] = seq_nt16_str[bam_seqi(q, i)];
		consume(b, s, n);
	}
	free(s);
	bam_destroy1(r);
	sam_hdr_destroy(h);
	sam_close(fp);
	return ret < -1 ? -1 : 0;
}

static int read_fastx(const char *path, bench_t *b)
{
	BGZF *fp = bgzf_open(path, "r");
	if (!fp) return -1;
	kseq_t *ks = kseq_init(fp);
	int ret;
	while ((ret = kseq_read(ks)) >= 0) consume(b, ks->seq.s, ks->seq.l);
	kseq_destroy(ks);
	bgzf_close(fp);
	return ret < -1 ? -1 : 0;
}

int main(int argc, char *argv[])
{
	static bench_t b;
	int i = 1;
	if (argc > 2 && !strcmp(argv[1], "-k")) b.k = atoi(argv[2]), i = 3;
	if (i >= argc) {
		fprintf(stderr, "Usage: readonly [-k K] IN...\n");
		return 2;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (; i < argc; i++) {
		htsFile *probe = hts_open(argv[i], "r");
		int sam = probe && hts_get_format(probe)->category == sequence_data &&
		          hts_get_format(probe)->format != fasta_format && hts_get_format(probe)->format != fastq_format;
		if (probe) hts_close(probe);
		if ((sam ? read_sam : read_fastx)(argv[i], &b)) {
			fprintf(stderr, "readonly: cannot read %s\n", argv[i]);
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("%llu %llu %.6f %ld\n", b.bases, b.tokens, t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) * 1e-9,
	       ru.ru_maxrss * 1024L);
	return 0;
}
