/* Option parsing shared by every command: getopt_long whose own errors
 * (unknown, ambiguous or misused options) are one line in the tool's style,
 * "[command] error: unrecognized option '--frobnicate'", instead of
 * getopt's "command: unrecognized option ...". */
#ifndef GF_OPTS_H
#define GF_OPTS_H

#include <getopt.h>

/* getopt_long(argc, argv, shortopts, longopts, NULL), except that on an
 * option error it prints the line and returns '?'. shortopts must not
 * start with ':', '+' or '-'. */
int gf_getopt(int argc, char *argv[], const char *shortopts, const struct option *longopts);

/* Whole-string integer in [lo, hi], or -1 after a usage error naming opt. */
int gf_parse_int(const char *opt, const char *s, long lo, long hi, int *out);
/* Whole-string number in [lo, hi], or -1 after a usage error naming opt. */
int gf_parse_double(const char *opt, const char *s, double lo, double hi, double *out);

#endif
