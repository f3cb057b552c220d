/* A command's output through model/atomicfile's policy (a regular file
 * through a temporary renamed when complete, so a failed run leaves
 * nothing under the name; devices, FIFOs and stdout in place), compressed
 * as BGZF when its name ends in .gz or .bgz. Used by classify, embed, eval
 * and export. */
#ifndef GF_OUTPUT_H
#define GF_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

#include "model/atomicfile.h"

/* Output through model/atomicfile's policy to path, or to stdout (path
 * NULL or "-"); BGZF-compressed when the name ends in .gz or .bgz
 * (src/ostream.h). */
typedef struct {
	rf_afile_t *af;
	struct gf_bgzf_out *gz;
	FILE *fp;
} gf_out_t;

/* 0, or -1 with a message. */
int gf_out_open(gf_out_t *o, const char *path, char *err, size_t errlen);
/* ok: commits the file (or flushes stdout), else drops it. 0, or -1 with
 * a message when writing failed (nothing is left under the name). */
int gf_out_close(gf_out_t *o, int ok, char *err, size_t errlen);

#endif
