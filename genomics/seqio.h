/* Sequence records from FASTA/FASTQ (plain, gzip, bgzip) and SAM/BAM/CRAM,
 * through htslib, one record at a time. Errors are one line naming the file,
 * the record and, where it applies, the line or position. */
#ifndef GF_SEQIO_H
#define GF_SEQIO_H

#include <stddef.h>
#include <stdint.h>

#include <htslib/sam.h>

/* Room for one error line of this module (a path, a record name, a reason). */
#define GF_SEQIO_ERRLEN 1024

typedef enum { GF_FMT_UNKNOWN = 0, GF_FMT_FASTA, GF_FMT_FASTQ, GF_FMT_SAM, GF_FMT_BAM, GF_FMT_CRAM } gf_format_t;

typedef struct {
	char *name;        /* record id: up to the first white space */
	char *seq;         /* bases as in the file (case kept), NUL-terminated */
	size_t len;
	char *qual;        /* NULL for FASTA */
	int64_t beg;       /* 0-based start of seq in the source record (regions), else 0 */
	int64_t src_len;   /* length of the source record when known (regions), else len */
	size_t cap_name, cap_seq, cap_qual;  /* buffers are reused across reads */
} gf_record_t;

typedef struct {
	int threads;            /* htslib decompression threads [1] */
	int keep_secondary;     /* SAM/BAM/CRAM flags 0x100, 0x800, 0x200 are skipped unless set */
	int keep_supplementary;
	int keep_qcfail;
	int skip_unmapped;      /* unmapped reads are kept unless set */
	int as_stored;          /* reverse-strand reads as stored; default: as sequenced */
	const char *reference;  /* CRAM reference FASTA, or NULL */
	const char *const *regions; /* NULL, or n_regions strings "chr", "chr:beg-end" (1-based, inclusive) */
	int n_regions;
} gf_seqio_opts_t;

typedef struct gf_reader gf_reader_t;

/* Longest record name read (bytes); longer is an error naming the line. */
#define GF_NAME_MAX 65536

void gf_seqio_opts_init(gf_seqio_opts_t *o);

/* Opens path ("-" for stdin), detecting the format from the content.
 * NULL with a message in err on failure. With regions, every region is
 * checked here (an unknown name or a range off the sequence is an error);
 * FASTA/FASTQ regions go through faidx: a missing .fai (and .gzi for bgzip),
 * or one older than the file, is built beside it (to a temporary, then
 * renamed: safe when many runs start at once) and the note says so;
 * SAM/BAM/CRAM regions need .bai/.csi/.crai, which must not be older than
 * the file.
 * Switches htslib's own logging off: every error comes back in err. */
/* Where the readers tell what they did beside the inputs ("built the index
 * X.fai"); NULL (the default) keeps them silent. */
void gf_seqio_set_note(void (*note)(const char *msg));

gf_reader_t *gf_seqio_open(const char *path, const gf_seqio_opts_t *o, char *err, size_t errlen);

/* Next record: 1, 0 at the end, -1 on error with a message in err (and -1
 * again on any later call). With regions, one record per region, in order. */
int gf_seqio_read(gf_reader_t *r, gf_record_t *rec, char *err, size_t errlen);

gf_format_t gf_seqio_format(const gf_reader_t *r);
const char *gf_format_name(gf_format_t f);
/* SAM/BAM/CRAM: the alignment the last gf_seqio_read returned (as stored,
 * valid until the next read); NULL for FASTA/FASTQ or before a record. */
const bam1_t *gf_seqio_alignment(const gf_reader_t *r);
/* Records read so far (after the filters). */
uint64_t gf_seqio_count(const gf_reader_t *r);
void gf_seqio_close(gf_reader_t *r);

void gf_record_init(gf_record_t *rec);
void gf_record_free(gf_record_t *rec);

/* The complement of an IUPAC base, case kept; other bytes unchanged. */
char gf_complement(char c);
/* In place: reverse complement of IUPAC bases, case kept. */
void gf_revcomp(char *seq, size_t len);

#endif
