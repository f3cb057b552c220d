/* Preemption signals; see preempt.h. */
#include "src/preempt.h"

#include <signal.h>
#include <string.h>

#include "model/atomicfile.h"

static volatile sig_atomic_t preempt_signal;

/* The first signal asks for a checkpoint; a second one ends the process
 * at once (a stuck run can still be stopped), without leaving a temporary. */
static void on_signal(int sig)
{
	if (!preempt_signal) {
		preempt_signal = sig;
		return;
	}
	rf_afile_remove_temporaries();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void set_action(void (*handler)(int), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
}

void gf_preempt_install(void)
{
	preempt_signal = 0;
	/* SA_RESTART: reads and writes in progress carry on */
	set_action(on_signal, SA_RESTART);
}

void gf_preempt_uninstall(void)
{
	set_action(SIG_DFL, 0);
	preempt_signal = 0;
}

int gf_preempt_pending(void)
{
	return preempt_signal;
}
