/* The one output policy: every file genoformer writes goes through here.
 *
 * - A regular file (or a new name) is written to a temporary in the same
 *   directory (.NAME.tmp.PID.XXXXXX) and renamed over the name at commit,
 *   after fsync; the directory is synced too. A crash or an error never
 *   leaves a half-written file under the final name, the previous file
 *   stays as it was, and a replaced file keeps its permission bits and
 *   (where the system lets us) its owner and group. A read-only file is
 *   refused, as the shell's `>` would.
 * - Standard output ("-"), character and block devices and FIFOs are written
 *   in place, never replaced: /dev/null stays a device, `-o >(gzip >x)` and
 *   `-o /dev/stdout` work. An output that is the same file as standard
 *   output is written through standard output (so `>>` keeps appending).
 * - A symbolic link the user named is written through: its target file is
 *   replaced as above and the link stays. Names the tool makes up itself
 *   (checkpoint, metrics, lock, companion files) are opened with
 *   rf_afile_open_own, which refuses a symbolic link: a planted link never
 *   makes the tool overwrite its target.
 * - Temporaries are removed on every exit path: commit, abort, exit(), and
 *   the signals that end the process (SIGINT, SIGTERM, SIGHUP, SIGQUIT,
 *   SIGPIPE, SIGALRM) while their default action is in force; SIGXFSZ, when
 *   at its default, is ignored so that a file-size limit is a write error.
 *   Only SIGKILL (and a power cut) can leave a temporary behind; it never
 *   carries the final name.
 *
 * Same-file guard: a command claims its inputs and outputs before any work
 * (rf_afile_claim_input / rf_afile_claim_output); an output that is one of
 * the inputs (same device and inode), or that another output of the command
 * already names, is refused there, and rf_afile_open refuses an input again
 * as a last line of defence. Devices and FIFOs are exempt (two outputs on
 * /dev/null are fine). */
#ifndef RF_ATOMICFILE_H
#define RF_ATOMICFILE_H

#include <stddef.h>
#include <stdio.h>

typedef struct rf_afile rf_afile_t;

/* Opens the output path (a name the user gave; "-" is standard output).
 * NULL with one line "PATH: reason" in err on failure. */
rf_afile_t *rf_afile_open(const char *path, char *err, size_t errlen);

/* The same for a name the tool derived itself: a symbolic link there is
 * refused instead of followed. */
rf_afile_t *rf_afile_open_own(const char *path, char *err, size_t errlen);

/* The stream to write to (and fseek in, when rf_afile_seekable). Write
 * errors are remembered with their errno and reported by rf_afile_check and
 * rf_afile_commit. */
FILE *rf_afile_fp(rf_afile_t *f);

/* The descriptor under the stream, for writers that need one (htslib's
 * hdopen on a dup of it); what they write bypasses the stream, so the
 * stream must hold no unflushed data then. */
int rf_afile_fd(const rf_afile_t *f);

/* The name as given, or "standard output" for "-". */
const char *rf_afile_path(const rf_afile_t *f);

/* 1 when the stream can seek (regular files, /dev/null), 0 for pipes,
 * FIFOs and terminals. */
int rf_afile_seekable(const rf_afile_t *f);

/* 1 when written in place (standard output, a device, a FIFO): commit
 * replaces nothing and abort cannot take back what was written. */
int rf_afile_in_place(const rf_afile_t *f);

/* 0, or -1 with "PATH: write failed: strerror" when a write has failed so
 * far; lets long writers stop early. */
int rf_afile_check(const rf_afile_t *f, char *err, size_t errlen);

/* Flushes and syncs; a temporary is renamed over the name. Frees f either
 * way. On failure the temporary is removed, the previous file is
 * untouched, and err holds one line naming the path and the reason. */
int rf_afile_commit(rf_afile_t *f, char *err, size_t errlen);

/* Drops the temporary (output written in place stays as far as it got);
 * the previous file is untouched. f may be NULL. */
void rf_afile_abort(rf_afile_t *f);

/* Same-file guard. claim_input records an existing regular file (other
 * paths, "-" and missing files are ignored: their readers report them).
 * claim_output refuses, with "OUT: is also the input IN" or "OUT: is also
 * the output OTHER", a path that names a claimed input or output; "-" (or
 * NULL) stands for standard output, which is checked against the inputs
 * when it is a regular file (`genoformer ... in.fa >> in.fa`). 0 or -1. */
int rf_afile_claim_input(const char *path, char *err, size_t errlen);
int rf_afile_claim_output(const char *path, char *err, size_t errlen);
/* Forgets every claim (tests; a process that runs two commands). */
void rf_afile_claims_reset(void);

/* Async-signal-safe: removes every live temporary. For signal handlers
 * of other modules that end the process themselves. */
void rf_afile_remove_temporaries(void);

#endif
