/* Paired-end mates; see mates.h. */
#include "genomics/mates.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gf_mates {
	gf_reader_t *r1, *r2;   /* r2 NULL: one file */
	char *path1, *path2;
	int sam;
	bam1_t *b1, *b2;        /* copies of the mates' alignments */
	uint64_t n;             /* pairs and singles read */
	gf_record_t held;       /* SAM/BAM/CRAM: a read taken for a mate that was not, next up */
	bam1_t *bheld;
	int has_held;
	uint64_t orphans;       /* paired reads without their mate next to them */
};

gf_mates_t *gf_mates_open(const char *path1, const char *path2, const gf_seqio_opts_t *o, char *err, size_t errlen)
{
	gf_mates_t *m = calloc(1, sizeof *m);
	if (m) gf_record_init(&m->held);
	if (!m || !(m->path1 = strdup(path1)) || (path2 && !(m->path2 = strdup(path2))) || !(m->b1 = bam_init1()) ||
	    !(m->b2 = bam_init1()) ||
	    !(m->bheld = bam_init1())) {
		snprintf(err, errlen, "%s: out of memory", path1);
		gf_mates_close(m);
		return NULL;
	}
	if (!(m->r1 = gf_seqio_open(path1, o, err, errlen)) || (path2 && !(m->r2 = gf_seqio_open(path2, o, err, errlen)))) {
		gf_mates_close(m);
		return NULL;
	}
	gf_format_t f = gf_seqio_format(m->r1);
	m->sam = f == GF_FMT_SAM || f == GF_FMT_BAM || f == GF_FMT_CRAM;
	if (path2 && (m->sam || gf_seqio_format(m->r2) >= GF_FMT_SAM)) {
		snprintf(err, errlen, "%s: mate files are FASTQ or FASTA; SAM/BAM/CRAM pairs come from one file by flags",
		         m->sam ? path1 : path2);
		gf_mates_close(m);
		return NULL;
	}
	return m;
}

void gf_mates_close(gf_mates_t *m)
{
	if (!m) return;
	if (m->r1) gf_seqio_close(m->r1);
	if (m->r2) gf_seqio_close(m->r2);
	if (m->b1) bam_destroy1(m->b1);
	if (m->b2) bam_destroy1(m->b2);
	if (m->bheld) bam_destroy1(m->bheld);
	gf_record_free(&m->held);
	free(m->path1);
	free(m->path2);
	free(m);
}

/* Length of name without a trailing "/1" or "/2". */
static size_t stem(const char *name)
{
	size_t n = strlen(name);
	return n > 2 && name[n - 2] == '/' && (name[n - 1] == '1' || name[n - 1] == '2') ? n - 2 : n;
}

int gf_mates_name(const char *name1, const char *name2, char *out, size_t outlen)
{
	size_t n = stem(name1);
	if (n != stem(name2) || strncmp(name1, name2, n) || n >= outlen) return -1;
	memcpy(out, name1, n);
	out[n] = 0;
	return 0;
}

static void swap_records(gf_record_t *a, gf_record_t *b)
{
	gf_record_t t = *a;
	*a = *b;
	*b = t;
}

uint64_t gf_mates_orphans(const gf_mates_t *m)
{
	return m->orphans;
}

/* SAM/BAM/CRAM: the next read into r and b (the held one first); 1, 0 at the end, -1. */
static int next_sam(gf_mates_t *m, gf_record_t *r, bam1_t *b, char *err, size_t errlen)
{
	if (m->has_held) {
		m->has_held = 0;
		swap_records(r, &m->held);
		return bam_copy1(b, m->bheld) ? 1 : -1;
	}
	int got = gf_seqio_read(m->r1, r, err, errlen);
	if (got > 0 && !bam_copy1(b, gf_seqio_alignment(m->r1))) {
		snprintf(err, errlen, "%s: out of memory", m->path1);
		return -1;
	}
	return got;
}

/* SAM/BAM/CRAM: a paired read and its mate when the mate is next; else the
 * read alone (the next read is held for the following call). */
static int read_sam_pair(gf_mates_t *m, gf_record_t *r1, gf_record_t *r2, const bam1_t **a1, const bam1_t **a2,
                         char *err, size_t errlen)
{
	char name[4096];
	int got = next_sam(m, r1, m->b1, err, errlen);
	if (got <= 0) return got;
	m->n++;
	*a1 = m->b1;
	if (!(m->b1->core.flag & BAM_FPAIRED)) return 1;
	if ((got = next_sam(m, r2, m->b2, err, errlen)) < 0) return -1;
	if (got == 0 || gf_mates_name(r1->name, r2->name, name, sizeof name)) {
		m->orphans++;
		if (got) {
			swap_records(r2, &m->held);
			bam1_t *t = m->bheld;
			m->bheld = m->b2;
			m->b2 = t;
			m->has_held = 1;
		}
		return 1;
	}
	*a2 = m->b2;
	if ((m->b1->core.flag & BAM_FREAD2) && (m->b2->core.flag & BAM_FREAD1)) {
		swap_records(r1, r2);
		*a1 = m->b2;
		*a2 = m->b1;
	}
	return 2;
}

int gf_mates_read(gf_mates_t *m, gf_record_t *r1, gf_record_t *r2, const bam1_t **a1, const bam1_t **a2, char *err,
                  size_t errlen)
{
	char name[4096];
	*a1 = *a2 = NULL;
	if (m->sam) return read_sam_pair(m, r1, r2, a1, a2, err, errlen);
	int got = gf_seqio_read(m->r1, r1, err, errlen);
	if (got <= 0) {
		if (got == 0 && m->r2 && (got = gf_seqio_read(m->r2, r2, err, errlen)) > 0) {
			snprintf(err, errlen, "%s: has more records than its mate file %s (record '%s' has no mate)", m->path2,
			         m->path1, r2->name);
			return -1;
		}
		return got;
	}
	m->n++;
	gf_reader_t *other = m->r2 ? m->r2 : m->r1;
	if ((got = gf_seqio_read(other, r2, err, errlen)) < 0) return -1;
	if (got == 0) {
		if (m->r2) snprintf(err, errlen, "%s: has more records than its mate file %s (record '%s' has no mate)",
		                    m->path1, m->path2, r1->name);
		else snprintf(err, errlen, "%s: record '%s' has no mate: the file ends (an interleaved file needs an even "
		              "number of records)", m->path1, r1->name);
		return -1;
	}
	if (gf_mates_name(r1->name, r2->name, name, sizeof name)) {
		snprintf(err, errlen, "%s: mates '%s' and '%s' (pair %llu) have different names", m->r2 ? m->path2 : m->path1,
		         r1->name, r2->name, (unsigned long long)m->n);
		return -1;
	}
	return 2;
}
