/* What every part of the command-line tool shares: the version, the room
 * for one error line, and every exit status a command returns. */
#ifndef GF_COMMON_H
#define GF_COMMON_H

#define GF_VERSION "0.1.0"

/* Bytes of an error buffer: one line naming a file, a record and a reason. */
#define GF_ERRLEN 1024

/* Exit status of every command. GF_EXIT_PREEMPTED is EX_TEMPFAIL of
 * sysexits.h ("try again later"): a command stopped by SIGINT, SIGTERM or
 * SIGUSR1 after saving its state, so that a job script can requeue it. */
enum { GF_EXIT_OK = 0, GF_EXIT_ERROR = 1, GF_EXIT_USAGE = 2, GF_EXIT_PREEMPTED = 75 };

#endif
