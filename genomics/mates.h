/* Mates of paired-end reads, two records at a time, from
 *  - two files read in step (R1 and R2 FASTQ/FASTA): record i of one is
 *    the mate of record i of the other;
 *  - one interleaved FASTQ/FASTA file: records 2i and 2i+1 are mates;
 *  - one SAM/BAM/CRAM file by its flags: a paired read (0x1) and the next
 *    record when that is its mate (same QNAME: name-sorted or collated
 *    input, `samtools collate`); an unpaired read, and a paired one whose
 *    mate is not next to it (filtered out, missing, or the input is sorted
 *    by position), is a single record (counted by gf_mates_orphans).
 * Mates' names must agree once a trailing "/1" or "/2" is cut off. Errors
 * are one line naming the file and record. */
#ifndef GF_MATES_H
#define GF_MATES_H

#include <stddef.h>
#include <stdint.h>

#include "genomics/seqio.h"

typedef struct gf_mates gf_mates_t;

/* path2 NULL: interleaved or SAM/BAM/CRAM. NULL with a message. */
gf_mates_t *gf_mates_open(const char *path1, const char *path2, const gf_seqio_opts_t *o, char *err, size_t errlen);
void gf_mates_close(gf_mates_t *m);

/* Next pair: 2 with both mates (first mate in r1), 1 with a single read in
 * r1 (SAM/BAM/CRAM without flag 0x1), 0 at the end, -1 with a message.
 * *a1, *a2: their alignments for SAM/BAM/CRAM (NULL otherwise), valid until
 * the next call. */
int gf_mates_read(gf_mates_t *m, gf_record_t *r1, gf_record_t *r2, const bam1_t **a1, const bam1_t **a2, char *err,
                  size_t errlen);

/* Paired reads returned alone because their mate was not next to them. */
uint64_t gf_mates_orphans(const gf_mates_t *m);

/* The pair's name: the mates' names without "/1" and "/2" (into out, room
 * for outlen); -1 when they differ. */
int gf_mates_name(const char *name1, const char *name2, char *out, size_t outlen);

#endif
