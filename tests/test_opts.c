/* gf_getopt: getopt_long whose errors are one "[command] error: ..." line
 * naming the option as the user typed it. Each test parses one command line
 * with stderr sent to a file and compares the line. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/log.h"
#include "src/opts.h"
#include "tests/testutil.h"

static const struct option longopts[] = {
	{ "window", required_argument, 0, 'L' }, { "quiet", no_argument, 0, 'q' },
	{ "keep-secondary", no_argument, 0, 300 }, { "keep-qcfail", no_argument, 0, 301 }, { 0, 0, 0, 0 }
};

/* Parses the NULL-terminated args after "cmd" to the end; returns the
 * number of '?' results and leaves stderr's text in msg. */
static int parse(char *msg, size_t len, ...)
{
	char *argv[16] = { "cmd" };
	int argc = 1, bad = 0, c;
	va_list ap;
	va_start(ap, len);
	for (char *a; argc < 15 && (a = va_arg(ap, char *)); ) argv[argc++] = a;
	va_end(ap);
	char path[] = "/tmp/gf-test-opts-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	int saved = dup(2);
	dup2(fd, 2);
	gf_log_init("cmd", argc, argv);
	optind = 0;
	while ((c = gf_getopt(argc, argv, "L:qk:", longopts)) >= 0) bad += c == '?';
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	FILE *fp = fdopen(fd, "r");
	rewind(fp);
	size_t n = fread(msg, 1, len - 1, fp);
	msg[n] = 0;
	fclose(fp);
	unlink(path);
	return bad;
}

#define EXPECT(line, ...) do { \
	char msg_[512]; \
	ck_assert_int_eq(parse(msg_, sizeof msg_, __VA_ARGS__, (char *)NULL), 1); \
	ck_assert_str_eq(msg_, line "\n"); \
} while (0)

START_TEST(unknown_options_are_named_as_typed)
{
	EXPECT("[cmd] error: unrecognized option '--frobnicate'", "--frobnicate", "in.fa");
	EXPECT("[cmd] error: unrecognized option '--frob'", "in.fa", "--frob=3");
	EXPECT("[cmd] error: unrecognized option '-z'", "-qz");
	EXPECT("[cmd] error: unrecognized option '-z'", "-zq");
	EXPECT("[cmd] error: unrecognized option '-z'", "--window=5", "-zq");
}
END_TEST

START_TEST(missing_and_unwanted_arguments_name_the_option)
{
	EXPECT("[cmd] error: option '--window' requires an argument", "--window");
	EXPECT("[cmd] error: option '-L' requires an argument", "-qL");
	EXPECT("[cmd] error: option '--quiet' takes no argument", "--quiet=yes");
	EXPECT("[cmd] error: option '--keep' is ambiguous", "--keep");
}
END_TEST

/* a fuzzed command line: an unknown option inside "-8q" made the element
 * before it ("4", too short for "--name") be read as a long option's name,
 * past its end (the sanitizer build sees the overread) */
START_TEST(short_options_are_never_read_as_long_ones)
{
	EXPECT("[cmd] error: unrecognized option '-8'", "-k", "4", "-8q");
	EXPECT("[cmd] error: unrecognized option '-8'", "-q", "-8q");
}
END_TEST

START_TEST(good_command_lines_print_nothing)
{
	char msg[512];
	ck_assert_int_eq(parse(msg, sizeof msg, "--wind=3", "-q", "--keep-s", "-k", "2", "in.fa", (char *)NULL), 0);
	ck_assert_str_eq(msg, "");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("opts");
	TCase *tc = tcase_create("getopt");
	tcase_add_test(tc, unknown_options_are_named_as_typed);
	tcase_add_test(tc, missing_and_unwanted_arguments_name_the_option);
	tcase_add_test(tc, short_options_are_never_read_as_long_ones);
	tcase_add_test(tc, good_command_lines_print_nothing);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
