/* Small helpers shared by the Check suites. */
#ifndef GF_TESTUTIL_H
#define GF_TESTUTIL_H

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model/cpu/blascore.h"

/* Fails the test at the first element with |a-b| > atol + rtol*|b| (b is
 * the reference), naming the element and both values. */
#define ck_assert_close_arr(a, b, n, atol, rtol) do { \
	for (size_t i_ = 0; i_ < (size_t)(n); i_++) { \
		double x_ = (a)[i_], y_ = (b)[i_]; \
		if (!(fabs(x_ - y_) <= (atol) + (rtol) * fabs(y_))) \
			ck_abort_msg("%s[%zu] = %.9g, %s[%zu] = %.9g (atol %g, rtol %g)", \
			             #a, i_, x_, #b, i_, y_, (double)(atol), (double)(rtol)); \
	} } while (0)

/* Root of the source tree: tests run from it (make check), or GF_SRCDIR. */
static inline const char *tu_srcdir(void)
{
	const char *d = getenv("GF_SRCDIR");
	return d ? d : ".";
}

/* Runs a shell command, returns its exit status, stdout+stderr in out. */
static inline int tu_run(const char *cmd, char *out, size_t outlen)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0;
	if (!p) return -1;
	if (out && outlen) {
		size_t k;
		while (n + 1 < outlen && (k = fread(out + n, 1, outlen - 1 - n, p)) > 0) n += k;
		out[n] = 0;
	}
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The OpenBLAS kernels genoformer's compute commands run with
 * (src/cmd/main.c, model/cpu/blascore.h): when OpenBLAS picked an SSE3
 * fallback on a CPU with better ones, the suite runs itself again with
 * OPENBLAS_CORETYPE set, so that it tests what users run. */
static inline void tu_blas_as_genoformer(void)
{
	static char buf[1 << 16];
	char *argv[256];
	int argc = 0;
	FILE *fp = rf_cpu_blas_prefer_own_core() ? fopen("/proc/self/cmdline", "rb") : NULL;
	if (!fp) return;
	size_t n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	for (size_t i = 0; i < n && argc < 255; i += strlen(buf + i) + 1) argv[argc++] = buf + i;
	argv[argc] = NULL;
	if (argc) execv("/proc/self/exe", argv);
}

/* Runs a suite (each test forked) and returns main's exit status. */
static inline int tu_run_suite(Suite *s)
{
	tu_blas_as_genoformer();
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* A fresh directory gf_TAG_XXXXXX for one test's files (dir holds at least
 * 64 bytes), in memory (/dev/shm) where there is one: tests that sync or
 * rewrite files would otherwise wait on a disk shared with other jobs. */
static inline void tu_scratch_make(char *dir, const char *tag)
{
	snprintf(dir, 64, "%s/gf_%.16s_XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", tag);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static inline void tu_scratch_remove(const char *dir)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Runs fn(arg, msg, msglen) in a child process whose files may not grow past
 * limit bytes (SIGXFSZ ignored, so writes fail with EFBIG as on a full disk).
 * Returns fn's return value (-1 if the child died), with what fn put in msg. */
static inline int tu_with_file_limit(long limit, int (*fn)(void *, char *, size_t), void *arg,
                                     char *msg, size_t msglen)
{
	int fd[2], st;
	ssize_t got;
	if (pipe(fd) != 0) return -1;
	pid_t pid = fork();
	if (pid == 0) {
		char m[1024] = "";
		struct rlimit rl = { (rlim_t)limit, (rlim_t)limit };
		signal(SIGXFSZ, SIG_IGN);
		int rc = setrlimit(RLIMIT_FSIZE, &rl) == 0 ? fn(arg, m, sizeof(m)) : -1;
		got = write(fd[1], m, strlen(m));
		_exit(rc < 0 || got < 0 ? 255 : rc);
	}
	close(fd[1]);
	got = pid > 0 ? read(fd[0], msg, msglen - 1) : -1;
	msg[got > 0 ? got : 0] = 0;
	close(fd[0]);
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) == 255) return -1;
	return WEXITSTATUS(st);
}

#endif
