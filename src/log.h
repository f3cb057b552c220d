/* Log lines on stderr ("[tokenize] 12 records, 4.2 Mbp, 3.1 s"), verbosity,
 * progress display and the end-of-run summary. */
#ifndef GF_LOG_H
#define GF_LOG_H

#include <stddef.h>
#include <stdint.h>

enum { GF_LOG_QUIET = 0, GF_LOG_NORMAL = 1, GF_LOG_VERBOSE = 2 };

/* GF_LOG_NORMAL unless a command's -q / -v changed it. */
extern int gf_verbosity;

/* Remembers who speaks (the command name), the command line and the start
 * time; main calls it before dispatching. */
void gf_log_init(const char *who, int argc, char *argv[]);

/* "[who] ..." lines: info at NORMAL and above, debug at VERBOSE, warnings
 * unless QUIET, errors always. */
void gf_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void gf_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void gf_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void gf_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* gf_info of a ready line: a callback for modules that cannot log (seqio). */
void gf_info_line(const char *msg);

/* Version, command line, wall and CPU time, peak RSS (getrusage). */
void gf_log_summary(void);
/* The command line given to gf_log_init, words joined by spaces. */
const char *gf_log_cmdline(void);

/* Flushes stdout; -1 after logging "standard output: write failed: REASON"
 * when anything written there was lost (disk full, closed, /dev/full). */
int gf_stdout_check(void);

double gf_wall_seconds(void); /* since gf_log_init */
double gf_cpu_seconds(void);  /* user + system of this process */
uint64_t gf_peak_rss(void);   /* bytes */

/* "4.2 Mbp", "512 bp", "1.3 Gtokens": v with a k/M/G/T prefix before unit. */
const char *gf_fmt_si(double v, const char *unit, char *buf, size_t len);

/* A rate that stays readable at any speed: "1.4 Mbp/s", "2.37 steps/s",
 * and below one unit a second the time per unit, "2.70 s/step" (unit's
 * trailing 's' dropped). */
const char *gf_fmt_rate(double per_s, const char *unit, char *buf, size_t len);
/* Seconds as "m:ss", or "h:mm:ss" from an hour on. */
const char *gf_fmt_duration(double s, char *buf, size_t len);

/* Progress of a long loop: on a terminal a bar (when total is known) with
 * rate, ETA and a note (the loss), redrawn at most 5 times a second;
 * otherwise a line with the same numbers every 10 s. Silent when QUIET. */
typedef struct {
	uint64_t total;     /* 0 when unknown: rate only */
	const char *unit;   /* "bp", "steps", ... */
	double t0, last;
	int tty, drawn;
	char note[64];      /* shown after the ETA when set ("loss 0.6931") */
} gf_progress_t;

void gf_progress_start(gf_progress_t *p, uint64_t total, const char *unit);
void gf_progress_update(gf_progress_t *p, uint64_t done);
/* Clears the bar from the terminal. */
void gf_progress_end(gf_progress_t *p);

#endif
