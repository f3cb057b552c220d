/* How an output name is written, on top of the crash-safe files of
 * model/atomicfile: "-" is stdout, and a name ending in .gz or .bgz is
 * compressed as BGZF through htslib (gzip-compatible: zcat reads it; tabix
 * and samtools' indexers can index it). Writers keep using a FILE *: the
 * compression sits under it (fopencookie). */
#ifndef GF_OSTREAM_H
#define GF_OSTREAM_H

#include <stdio.h>

/* 1 when name means stdout ("-"). */
int gf_ostream_is_stdout(const char *name);
/* 1 when name asks for BGZF (ends in .gz or .bgz). */
int gf_ostream_is_gz(const char *name);

typedef struct gf_bgzf_out gf_bgzf_out_t;

/* A stream that writes BGZF blocks (htslib's bgzf_compress) into under,
 * which stays open. NULL with a message. */
gf_bgzf_out_t *gf_bgzf_out_open(FILE *under, const char *name, char *err, size_t errlen);
FILE *gf_bgzf_out_fp(gf_bgzf_out_t *z);
/* Flushes, writes BGZF's end-of-file block and frees z. 0, or (when ok)
 * -1 with "NAME: ..." when writing failed; with ok 0 the caller drops the
 * file and errors are not reported. */
int gf_bgzf_out_close(gf_bgzf_out_t *z, int ok, char *err, size_t errlen);

#endif
