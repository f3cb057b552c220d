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

static const int preempt_sigs[] = { SIGINT, SIGTERM, SIGUSR1 };
static struct sigaction saved[3]; /* the actions before gf_preempt_install */

void gf_preempt_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	/* SA_RESTART: reads and writes in progress carry on */
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	preempt_signal = 0;
	for (int i = 0; i < 3; i++) {
		struct sigaction old;
		sigaction(preempt_sigs[i], &sa, &old);
		if (old.sa_handler != on_signal) saved[i] = old; /* installing twice keeps the first */
	}
}

/* Back to what was there before (model/atomicfile's cleanup, or the
 * default): the final saves stay covered. */
void gf_preempt_uninstall(void)
{
	for (int i = 0; i < 3; i++) sigaction(preempt_sigs[i], &saved[i], NULL);
	preempt_signal = 0;
}

int gf_preempt_pending(void)
{
	return preempt_signal;
}
