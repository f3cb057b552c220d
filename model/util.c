/* Small helpers shared by the model's modules. */
#include "model/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int rf_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && errlen) vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

const char *rf_printable(const char *s, size_t max, char *buf, size_t len)
{
	size_t o = 0, i = 0;
	for (; s[i] && i < max && o + 8 < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f) buf[o++] = (char)c;
		else o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
	}
	buf[o] = 0;
	if (s[i]) strcpy(buf + o, "...");
	return buf;
}
