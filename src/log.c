/* Logging, progress and run summary; see log.h. */
#include "src/common.h"
#include "src/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "genomics/labels.h"

int gf_verbosity = GF_LOG_NORMAL;

static const char *log_who = "genoformer";
static char log_cmdline[4096];
static double log_t0;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void gf_log_init(const char *who, int argc, char *argv[])
{
	size_t n = 0;
	log_who = who;
	log_t0 = now();
	log_cmdline[0] = 0;
	for (int i = 0; i < argc && n + 1 < sizeof log_cmdline; i++)
		n += snprintf(log_cmdline + n, sizeof log_cmdline - n, "%s%s", i ? " " : "", argv[i]);
}

const char *gf_log_cmdline(void)
{
	return log_cmdline;
}

/* A log line is one line whatever the names in it hold: control
 * characters (a newline, a terminal's escape sequences from a hostile
 * record or file name, C1 controls) and bytes that are not UTF-8 are
 * written as \xHH, never sent to the terminal. */
static void vlog(const char *tag, const char *fmt, va_list ap)
{
	char line[4096], safe[4 * sizeof line];
	size_t n = 0;
	vsnprintf(line, sizeof line, fmt, ap);
	for (const unsigned char *p = (const unsigned char *)line; *p;) {
		int k = gf_utf8_len(p);
		if (k == 0 || *p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] < 0xa0)) {
			n += (size_t)sprintf(safe + n, "\\x%02x", *p++);
			continue;
		}
		while (k--) safe[n++] = (char)*p++;
	}
	safe[n] = 0;
	fprintf(stderr, "[%s] %s%s\n", log_who, tag, safe);
}

int gf_stdout_check(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout)) return 0;
	gf_error("standard output: write failed: %s", strerror(errno ? errno : EIO));
	clearerr(stdout);
	return -1;
}

#define GF_LOG_AT(level, tag) do { \
	if (gf_verbosity >= (level)) { va_list ap; va_start(ap, fmt); vlog(tag, fmt, ap); va_end(ap); } \
} while (0)

void gf_info(const char *fmt, ...) { GF_LOG_AT(GF_LOG_NORMAL, ""); }
void gf_debug(const char *fmt, ...) { GF_LOG_AT(GF_LOG_VERBOSE, ""); }
void gf_warn(const char *fmt, ...) { GF_LOG_AT(GF_LOG_NORMAL, "warning: "); }
void gf_error(const char *fmt, ...) { GF_LOG_AT(GF_LOG_QUIET, "error: "); }
void gf_info_line(const char *msg) { gf_info("%s", msg); }

double gf_wall_seconds(void)
{
	return now() - log_t0;
}

double gf_cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

uint64_t gf_peak_rss(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)ru.ru_maxrss * 1024; /* Linux reports kilobytes */
}

const char *gf_fmt_si(double v, const char *unit, char *buf, size_t len)
{
	static const char prefix[] = " kMGT";
	int i = 0;
	while (v >= 1000 && i < 4) v /= 1000, i++;
	if (i == 0) snprintf(buf, len, "%.0f %s", v, unit);
	else snprintf(buf, len, "%.1f %c%s", v, prefix[i], unit);
	return buf;
}

void gf_log_summary(void)
{
	char rss[32];
	gf_info("genoformer %s; %s; wall %.2f s, CPU %.2f s, peak RSS %s", GF_VERSION, log_cmdline,
	        gf_wall_seconds(), gf_cpu_seconds(), gf_fmt_si((double)gf_peak_rss(), "B", rss, sizeof rss));
}

void gf_progress_start(gf_progress_t *p, uint64_t total, const char *unit)
{
	memset(p, 0, sizeof *p);
	p->total = total;
	p->unit = unit;
	p->t0 = p->last = now();
	p->tty = isatty(STDERR_FILENO);
}

const char *gf_fmt_rate(double per_s, const char *unit, char *buf, size_t len)
{
	static const char prefix[] = " kMGT";
	if (per_s > 0 && per_s < 1) {
		size_t n = strlen(unit);
		snprintf(buf, len, "%.2f s/%.*s", 1.0 / per_s, (int)(n > 1 && unit[n - 1] == 's' ? n - 1 : n), unit);
		return buf;
	}
	int i = 0;
	while (per_s >= 1000 && i < 4) per_s /= 1000, i++;
	const char *fmt = per_s < 10 ? "%.2f %.*s%s/s" : per_s < 100 ? "%.1f %.*s%s/s" : "%.0f %.*s%s/s";
	snprintf(buf, len, fmt, per_s, i > 0, prefix + i, unit);
	return buf;
}

const char *gf_fmt_duration(double s, char *buf, size_t len)
{
	long t = s > 0 ? (long)(s + 0.5) : 0;
	if (t >= 3600) snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
	return buf;
}

void gf_progress_update(gf_progress_t *p, uint64_t done)
{
	double t = now();
	if (gf_verbosity < GF_LOG_NORMAL || t - p->last < (p->tty ? 0.2 : 10.0)) return;
	p->last = t;
	char a[32], r[32], bar[48] = "", eta[64] = "", d[32], note[72] = "";
	double rate = done / (t - p->t0);
	gf_fmt_si((double)done, p->unit, a, sizeof a);
	gf_fmt_rate(rate, p->unit, r, sizeof r);
	if (p->total) {
		uint64_t n = done < p->total ? done : p->total;
		int filled = (int)(40.0 * n / p->total);
		for (int i = 0; i < 40; i++) bar[i] = i < filled ? '#' : '.';
		strcpy(bar + 40, " ");
		snprintf(eta, sizeof eta, ", %.0f%%, ETA %s", 100.0 * n / p->total,
		         rate > 0 ? gf_fmt_duration((p->total - n) / rate, d, sizeof d) : "?");
	}
	if (*p->note) snprintf(note, sizeof note, ", %s", p->note);
	if (p->tty) {
		fprintf(stderr, "\r\033[K[%s] %s%s, %s%s%s", log_who, bar, a, r, eta, note);
		p->drawn = 1;
	} else {
		fprintf(stderr, "[%s] progress: %s, %s%s%s\n", log_who, a, r, eta, note);
	}
}

void gf_progress_end(gf_progress_t *p)
{
	if (p->drawn) fputs("\r\033[K", stderr);
	p->drawn = 0;
}
