/* Small helpers shared by the model's modules. */
#ifndef RF_UTIL_H
#define RF_UTIL_H

#include <stddef.h>

/* Formats a one-line message into err (when err and errlen) and returns -1. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
int rf_fail(char *err, size_t errlen, const char *fmt, ...);

#endif
