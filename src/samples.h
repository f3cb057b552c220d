/* Sample names for one output per input (classify --per-input DIR): an
 * input's file name without its folder, a compression suffix (.gz, .bgz,
 * .bz2, .xz) and a sequence-format suffix (.fq, .fastq, .fa, .fasta, .fna,
 * .sam, .bam, .cram); for the R1 file of a pair of mate files also without
 * _1, _R1, .1 or .R1 at the end ("S1_R1.fastq.gz" -> "S1"). */
#ifndef GF_SAMPLES_H
#define GF_SAMPLES_H

#include <stddef.h>

/* The sample name of path into out (room for outlen); mate1: path is the
 * first of two mate files. -1 when the name would be empty or too long. */
int gf_sample_name(const char *path, int mate1, char *out, size_t outlen);

#endif
