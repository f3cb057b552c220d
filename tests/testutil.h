/* Small helpers shared by the Check suites. */
#ifndef GF_TESTUTIL_H
#define GF_TESTUTIL_H

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

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

/* Runs a suite (each test forked) and returns main's exit status. */
static inline int tu_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* A fresh directory /tmp/gf_TAG_XXXXXX for one test's files (dir holds at
 * least 64 bytes), and its removal with everything in it. */
static inline void tu_scratch_make(char *dir, const char *tag)
{
	snprintf(dir, 64, "/tmp/gf_%.16s_XXXXXX", tag);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static inline void tu_scratch_remove(const char *dir)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

#endif
