/* Fat-binary compatibility rules; see gpuarch.h. */
#include "model/gpuarch.h"

#include <stdio.h>
#include <stdlib.h>

int rf_gpu_plan(int cc, const char *archs, int ptx, rf_gpu_plan_t *p)
{
	p->cubin = 0;
	p->ptx = 0;
	p->tensor_tf32 = cc >= 80;
	for (const char *s = archs; s && *s;) {
		char *end;
		long a = strtol(s, &end, 10);
		if (end == s) break;
		if (a / 10 == cc / 10 && a <= cc && a > p->cubin) p->cubin = (int)a;
		s = *end == ',' ? end + 1 : end;
	}
	if (!p->cubin && ptx > 0 && ptx <= cc) p->ptx = ptx;
	return p->cubin || p->ptx ? 0 : -1;
}

void rf_gpu_plan_describe(int cc, const char *archs, int ptx, const rf_gpu_plan_t *p, char *buf, size_t len)
{
	if (p->cubin) snprintf(buf, len, "machine code sm_%d", p->cubin);
	else if (p->ptx) snprintf(buf, len, "PTX compute_%d compiled at start-up", p->ptx);
	else if (ptx > 0) snprintf(buf, len, "no code for sm_%d (built for sm_%s + PTX compute_%d)", cc, archs, ptx);
	else snprintf(buf, len, "no code for sm_%d (built for sm_%s)", cc, archs);
}
