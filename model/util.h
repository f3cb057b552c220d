/* Small helpers shared by the model's modules. */
#ifndef RF_UTIL_H
#define RF_UTIL_H

#include <stddef.h>

/* Formats a one-line message into err (when err and errlen) and returns -1. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
int rf_fail(char *err, size_t errlen, const char *fmt, ...);

/* s as it may appear inside a one-line message (file contents are not to be
 * trusted): at most max of its bytes, each one outside printable ASCII as
 * \xNN, "..." when cut. Returns buf (len >= 8). */
const char *rf_printable(const char *s, size_t max, char *buf, size_t len);

#endif
