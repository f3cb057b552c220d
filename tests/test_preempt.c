/* src/preempt: SIGINT / SIGTERM / SIGUSR1 are remembered instead of killing, once. */
#include <signal.h>

#include "src/preempt.h"
#include "tests/testutil.h"

START_TEST(sigint_sigterm_and_sigusr1_are_caught_and_remembered)
{
	gf_preempt_install();
	raise(SIGINT);
	ck_assert_int_eq(gf_preempt_pending(), SIGINT);
	gf_preempt_install();
	ck_assert_int_eq(gf_preempt_pending(), 0);
	ck_assert_int_eq(gf_preempt_pending(), 0);
	raise(SIGUSR1);
	ck_assert_int_eq(gf_preempt_pending(), SIGUSR1);
	gf_preempt_install();
	raise(SIGTERM);
	ck_assert_int_eq(gf_preempt_pending(), SIGTERM);
	gf_preempt_uninstall();
	ck_assert_int_eq(gf_preempt_pending(), 0);
}
END_TEST

/* How a child started by fork ended: the signal that killed it, or -exit status. */
static int child_end(void (*body)(void))
{
	pid_t pid = fork();
	if (pid == 0) {
		body();
		_exit(0);
	}
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return WIFSIGNALED(st) ? WTERMSIG(st) : -WEXITSTATUS(st);
}

static void two_sigterms(void)
{
	gf_preempt_install();
	raise(SIGTERM);
	if (gf_preempt_pending() != SIGTERM) _exit(3);
	raise(SIGTERM);
}

static void sigterm_after_uninstall(void)
{
	signal(SIGTERM, SIG_DFL); /* a fresh process's action (Check's runner has its own) */
	gf_preempt_install();
	gf_preempt_install();
	gf_preempt_uninstall();
	raise(SIGTERM);
}

static void ignored_sigterm_stays_ignored(void)
{
	signal(SIGTERM, SIG_IGN);
	gf_preempt_install();
	gf_preempt_uninstall();
	raise(SIGTERM);
	_exit(4);
}

START_TEST(a_second_sigterm_stops_the_process_at_once)
{
	ck_assert_int_eq(child_end(two_sigterms), SIGTERM);
}
END_TEST

START_TEST(uninstall_restores_the_action_from_before)
{
	ck_assert_int_eq(child_end(sigterm_after_uninstall), SIGTERM);
	ck_assert_int_eq(child_end(ignored_sigterm_stays_ignored), -4);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("preempt");
	TCase *t = tcase_create("preempt");
	tcase_add_test(t, sigint_sigterm_and_sigusr1_are_caught_and_remembered);
	tcase_add_test(t, a_second_sigterm_stops_the_process_at_once);
	tcase_add_test(t, uninstall_restores_the_action_from_before);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return tu_run_suite(suite());
}
