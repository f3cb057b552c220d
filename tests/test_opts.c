/* gf_getopt: getopt_long whose errors are one "[command] error: ..." line
 * naming the option as the user typed it. Each test parses one command line
 * with stderr sent to a file and compares the line. */
#include <check.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/common.h"
#include "src/log.h"
#include "src/optgroups.h"
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

/* A group of every kind, parsed and printed. */
typedef struct {
	uint64_t given;
	int n, flag;
	int64_t big;
	float f;
	const char *s, **list;
	int n_list;
} grp_t;

#define G(f) offsetof(grp_t, f)
static const gf_opt_t grp_opts[] = {
	{ 'n', "number", GF_OPT_INT, G(n), 1, 10, "INT", .help = "a number", .dflt = "none", .alt = '@' },
	{ 0, "flag", GF_OPT_SET, G(flag), .help = "a flag", .dflt = "off" },
	{ 0, "big", GF_OPT_I64, G(big), 0, 9007199254740992.0, "INT", .help = "a big one" },
	{ 0, "frac", GF_OPT_FLOAT, G(f), 0, 1, "F", .help = "a fraction\nover two lines" },
	{ 's', "str", GF_OPT_STR, G(s), .arg = "S", .help = "a string", .dflt = "unset" },
	{ 'r', "rep", GF_OPT_LIST, G(list), .off2 = G(n_list), .arg = "X", .help = "repeatable", .dflt = "none" },
};
static const gf_optgroup_t grp = GF_GROUP("Things", grp_opts, grp_t);

static const gf_cmdhelp_t help = { "Usage: cmd\n", "end\n" };

START_TEST(a_group_stores_values_and_marks_them_given)
{
	char *argv[] = { "cmd", "-@", "7", "--big=9007199254740992", "--frac", "0.25", "-r", "a", "--rep", "b", "in.fa", NULL };
	const char *list[4];
	grp_t g = { .n = 3, .f = 0.5f, .list = list };
	gf_optuse_t use = { .g = &grp, .ctx = &g };
	gf_log_init("cmd", 11, argv);
	optind = 0;
	ck_assert_int_eq(gf_opts_parse(11, argv, &use, 1, &help), -1);
	ck_assert_int_eq(optind, 10);
	ck_assert_int_eq(g.n, 7);
	ck_assert(g.big == 9007199254740992LL);
	ck_assert(g.f == 0.25f);
	ck_assert_int_eq(g.n_list, 2);
	ck_assert_str_eq(g.list[1], "b");
	ck_assert_uint_eq(g.given, GF_OPT_BIT(0) | GF_OPT_BIT(2) | GF_OPT_BIT(3) | GF_OPT_BIT(5));
}
END_TEST

START_TEST(usage_shows_the_initialised_values_as_defaults)
{
	grp_t g = { .n = 3, .big = 12, .f = 0.5f };
	const char *const other[] = { NULL, "another flag" };
	gf_optuse_t use = { .g = &grp, .ctx = &g, .skip = GF_OPT_BIT(4), GF_HELP(other) };
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);
	gf_opts_help(fp, &help, &use, 1);
	fclose(fp);
	ck_assert_str_eq(text, "Usage: cmd\n"
	                       "Things:\n"
	                       "  -n, --number INT     a number [3]\n"
	                       "      --flag           another flag [off]\n"
	                       "      --big INT        a big one [12]\n"
	                       "      --frac F         a fraction\n"
	                       "                       over two lines [0.5]\n"
	                       "  -r, --rep X          repeatable [none]\n"
	                       "end\n");
	free(text);
}
END_TEST

/* -h after options shows the defaults, not the values given before it. */
START_TEST(help_shows_the_values_from_before_parsing)
{
	char *argv[] = { "cmd", "--number", "9", "-h", NULL }, path[] = "/tmp/gf-test-help-XXXXXX", text[1024];
	grp_t g = { .n = 3 };
	gf_optuse_t use[2] = { { .g = &grp, .ctx = &g }, { .g = &gf_group_verbosity } };
	int fd = mkstemp(path), saved = dup(1);
	ck_assert_int_ge(fd, 0);
	fflush(stdout);
	dup2(fd, 1);
	optind = 0;
	int rc = gf_opts_parse(4, argv, use, 2, &help);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	ck_assert_int_eq(rc, GF_EXIT_OK);
	ck_assert_int_eq(g.n, 9);
	FILE *fp = fdopen(fd, "r");
	rewind(fp);
	text[fread(text, 1, sizeof text - 1, fp)] = 0;
	fclose(fp);
	unlink(path);
	ck_assert_msg(strstr(text, "  -n, --number INT     a number [3]\n"), "%s", text);
}
END_TEST

START_TEST(numbers_out_of_bounds_name_the_option_as_typed)
{
	grp_t g = { 0 };
	gf_optuse_t use = { .g = &grp, .ctx = &g };
	char *a1[] = { "cmd", "-n", "11", NULL }, *a2[] = { "cmd", "--frac=2", NULL }, *a3[] = { "cmd", "--big", "1e3", NULL };
	optind = 0;
	ck_assert_int_eq(gf_opts_parse(3, a1, &use, 1, &help), GF_EXIT_USAGE);
	optind = 0;
	ck_assert_int_eq(gf_opts_parse(2, a2, &use, 1, &help), GF_EXIT_USAGE);
	optind = 0;
	ck_assert_int_eq(gf_opts_parse(3, a3, &use, 1, &help), GF_EXIT_USAGE);
	ck_assert_uint_eq(g.given, 0);
	double v;
	ck_assert_int_eq(gf_parse_number("--x", "9007199254740993", 1, 0, 1e18, &v), -1);
	ck_assert_int_eq(gf_parse_number("--x", "1e-3", 0, 0, 1, &v), 0);
	ck_assert(v == 1e-3);
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
	tcase_add_test(tc, a_group_stores_values_and_marks_them_given);
	tcase_add_test(tc, usage_shows_the_initialised_values_as_defaults);
	tcase_add_test(tc, numbers_out_of_bounds_name_the_option_as_typed);
	tcase_add_test(tc, help_shows_the_values_from_before_parsing);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
