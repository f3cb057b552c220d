/* NumPy .npy output of a float32 matrix, streamed row by row: the number of
 * rows need not be known up front (the header's shape is rewritten at
 * commit), so large outputs never sit in memory. Written through
 * model/atomicfile: the file appears complete or not at all. */
#ifndef GF_NPY_H
#define GF_NPY_H

#include <stddef.h>
#include <stdint.h>

typedef struct gf_npy gf_npy_t;

/* Starts PATH for rows of cols (>= 1) floats. NULL with a message. */
gf_npy_t *gf_npy_open(const char *path, int64_t cols, char *err, size_t errlen);

/* Appends n_rows rows of cols floats. 0, or -1 with "PATH: write failed:
 * reason" once a write has failed. */
int gf_npy_write(gf_npy_t *w, const float *rows, int64_t n_rows, char *err, size_t errlen);

/* Writes the final shape (rows written, cols) into the header and commits;
 * frees w either way. 0, or -1 with a message (the previous file stays). */
int gf_npy_commit(gf_npy_t *w, char *err, size_t errlen);

/* Drops the output; frees w. w may be NULL. */
void gf_npy_abort(gf_npy_t *w);

#endif
