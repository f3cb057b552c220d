/* Reads written back out by their call, as Kraken 2's --classified-out and
 * --unclassified-out do, and alignments with their call in BAM tags.
 *  - FASTA/FASTQ: FASTQ when the first record written has base qualities,
 *    two files for pairs ('#' in the name becomes _1 and _2),
 *    else FASTA; a header is ">ID kraken:taxid|TAXID" (Kraken 2's), the
 *    bases as read (SAM/BAM/CRAM reverse-strand reads as sequenced). Names
 *    follow the output policy of src/infer.h ("-", .gz as BGZF, atomic).
 *  - SAM/BAM: the input alignments as stored, with tags
 *      gc:Z  the predicted class, or "unclassified"
 *      gp:f  its probability (the top class's, also when unclassified)
 *      gx:i  the taxid of the class (0 for unclassified)
 *    (lower-case tags are reserved for users by the SAM specification, so
 *    they never clash with an aligner's X? tags; tags of the same names in
 *    the input are replaced). SAM when the name ends in .sam, else BAM;
 *    written to a temporary beside the name and renamed at the end ("-":
 *    stdout). `samtools view -d gc:NAME` selects the reads of one class. */
#ifndef GF_READSOUT_H
#define GF_READSOUT_H

#include <stdint.h>

#include <htslib/sam.h>

#include "src/output.h"

typedef struct {
	gf_out_t out[2];  /* paired: the mates' files */
	char *path[2];
	int n_files;
	int fastq;        /* -1 until the first record */
} gf_seqout_t;

/* paired: path holds a '#', replaced by _1 and _2 for the mates' files
 * (Kraken 2's convention); -1 with a message when it has none. */
int gf_seqout_open(gf_seqout_t *o, const char *path, int paired, char *err, size_t errlen);
/* One read: mate 0 or 1 of a pair (paired outputs), or 0; -1 with a message
 * when a FASTQ output gets a record without qualities, or a paired output a
 * read without its mate (mate -1). */
int gf_seqout_write(gf_seqout_t *o, int mate, const char *name, const char *seq, const char *qual, uint32_t taxid,
                    char *err, size_t errlen);
/* ok: commit, else drop. 0, or -1 with a message. */
int gf_seqout_close(gf_seqout_t *o, int ok, char *err, size_t errlen);

typedef struct gf_bamout gf_bamout_t;

/* Opens path for the alignments of input in_path (its header is copied,
 * with an @PG line for genoformer). NULL with a message. */
gf_bamout_t *gf_bamout_open(const char *path, const char *in_path, const char *cmdline, char *err, size_t errlen);
int gf_bamout_write(gf_bamout_t *o, const bam1_t *aln, const char *cls, float prob, uint32_t taxid, char *err,
                    size_t errlen);
int gf_bamout_close(gf_bamout_t *o, int ok, char *err, size_t errlen);

#endif
