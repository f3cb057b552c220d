/* Log formatting: rates readable at any speed (decimals, or seconds per
 * unit below one a second) and durations with hours. */
#include "tests/testutil.h"

#include "src/log.h"

START_TEST(rates_keep_decimals_and_turn_into_seconds_per_unit_below_one)
{
	char b[32];
	ck_assert_str_eq(gf_fmt_rate(2.371, "steps", b, sizeof b), "2.37 steps/s");
	ck_assert_str_eq(gf_fmt_rate(0.37, "steps", b, sizeof b), "2.70 s/step");
	ck_assert_str_eq(gf_fmt_rate(0.01, "bp", b, sizeof b), "100.00 s/bp");
	ck_assert_str_eq(gf_fmt_rate(42.0, "steps", b, sizeof b), "42.0 steps/s");
	ck_assert_str_eq(gf_fmt_rate(420.0, "steps", b, sizeof b), "420 steps/s");
	ck_assert_str_eq(gf_fmt_rate(1.4e6, "bp", b, sizeof b), "1.40 Mbp/s");
	ck_assert_str_eq(gf_fmt_rate(25e3, "bp", b, sizeof b), "25.0 kbp/s");
	ck_assert_str_eq(gf_fmt_rate(0, "steps", b, sizeof b), "0.00 steps/s");
}
END_TEST

START_TEST(durations_show_hours_from_an_hour_on)
{
	char b[32];
	ck_assert_str_eq(gf_fmt_duration(65, b, sizeof b), "1:05");
	ck_assert_str_eq(gf_fmt_duration(3599.4, b, sizeof b), "59:59");
	ck_assert_str_eq(gf_fmt_duration(3600, b, sizeof b), "1:00:00");
	ck_assert_str_eq(gf_fmt_duration(97265, b, sizeof b), "27:01:05");
	ck_assert_str_eq(gf_fmt_duration(-3, b, sizeof b), "0:00");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");
	tcase_add_test(tc, rates_keep_decimals_and_turn_into_seconds_per_unit_below_one);
	tcase_add_test(tc, durations_show_hours_from_an_hour_on);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
