/* Crash-safe output files: everything is written to a temporary file in the
 * target's directory (NAME.tmp.PID.XXXXXX), which replaces the target only
 * at commit (fsync, rename, fsync of the directory). A crash or an error
 * never leaves a half-written file under the final name, and the previous
 * file, if any, stays as it was. A killed process may leave the temporary
 * behind; it never carries the final name. */
#ifndef RF_ATOMICFILE_H
#define RF_ATOMICFILE_H

#include <stddef.h>
#include <stdio.h>

typedef struct rf_afile rf_afile_t;

/* Creates the temporary next to path. NULL with "PATH: cannot create ...:
 * strerror" in err on failure. */
rf_afile_t *rf_afile_open(const char *path, char *err, size_t errlen);

/* The stream to write to (and fseek in). Write errors are remembered with
 * their errno and reported by rf_afile_check and rf_afile_commit. */
FILE *rf_afile_fp(rf_afile_t *f);

const char *rf_afile_path(const rf_afile_t *f);

/* 0, or -1 with "PATH: write failed: strerror" when a write has failed so
 * far; lets long writers stop early. */
int rf_afile_check(const rf_afile_t *f, char *err, size_t errlen);

/* Flushes, syncs and renames the temporary over path; frees f either way.
 * On failure the temporary is removed, the previous file is untouched, and
 * err holds one line naming path and the system's reason. */
int rf_afile_commit(rf_afile_t *f, char *err, size_t errlen);

/* Drops the temporary; the previous file is untouched. f may be NULL. */
void rf_afile_abort(rf_afile_t *f);

#endif
