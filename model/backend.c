/* Backend selection by name. */
#include <stdio.h>
#include <string.h>

#include "model/backend.h"

const rf_backend_t *rf_backend_get(const char *name, char *err, size_t errlen)
{
	if (name && strcmp(name, "cpu") == 0) return rf_backend_cpu();
	if (name && strcmp(name, "cuda") == 0) {
#ifdef RF_CUDA
		return rf_backend_cuda(err, errlen);
#else
		if (err && errlen) snprintf(err, errlen, "backend 'cuda': built without CUDA: rebuild with make CUDA=1");
		return NULL;
#endif
	}
	if (err && errlen) snprintf(err, errlen, "unknown backend '%s' (known: cpu, cuda)", name ? name : "(null)");
	return NULL;
}
