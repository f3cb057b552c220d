/* Preemption: SLURM (and other schedulers) send SIGTERM or SIGUSR1 before
 * they stop a job; a user at the terminal sends SIGINT. A long-running
 * command installs these handlers, polls
 * gf_preempt_pending at a safe point (a training step boundary), saves its
 * state and exits with GF_EXIT_PREEMPTED (src/common.h), so that a job script can requeue
 * it and resume. */
#ifndef GF_PREEMPT_H
#define GF_PREEMPT_H

/* Catches SIGINT, SIGTERM and SIGUSR1 (a second one stops the process at
 * once, after removing model/atomicfile's temporaries). */
void gf_preempt_install(void);
/* Back to the actions before gf_preempt_install (the default, or
 * model/atomicfile's cleanup); the pending signal is forgotten. */
void gf_preempt_uninstall(void);
/* The signal received since gf_preempt_install, or 0. */
int gf_preempt_pending(void);

#endif
