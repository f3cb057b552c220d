/* Small helpers shared by the model's modules. */
#include "model/util.h"

#include <stdarg.h>
#include <stdio.h>

int rf_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && errlen) vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}
