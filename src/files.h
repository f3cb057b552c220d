/* What a command reads and writes, checked before any work: the same-file
 * guard of model/atomicfile over a command's inputs and outputs, and the
 * lock a training run holds on its output. */
#ifndef GF_FILES_H
#define GF_FILES_H

#include <stdio.h>

/* Claims the inputs (NULL entries and "-" skipped), then the outputs (NULL
 * or "-": standard output). 0, or -1 after logging "OUT: output is the
 * same file as input IN; refusing to overwrite it". */
int gf_files_claim(const char *const *inputs, int n_inputs, const char *const *outputs, int n_outputs);

/* Opens a file the tool names itself and writes as it goes (the metrics
 * TSV, read while training runs), truncated: a symbolic link or anything
 * but a regular file there is refused, so a planted link never redirects
 * the writes. NULL after logging the error. */
FILE *gf_files_open_own_stream(const char *path);

/* Takes the lock OUT.lock beside a training run's output (flock, released
 * when the process ends, whatever the way). 0, or -1 after logging which
 * process holds it. */
int gf_files_lock(const char *out);
/* Releases the lock and removes OUT.lock. */
void gf_files_unlock(void);

#endif
