/* Backend selection by name. */
#include <stdio.h>
#include <string.h>

#include "model/backend.h"

/* N of "cuda:N" (digits only), or -1. */
static int cuda_index(const char *name)
{
	if (strncmp(name, "cuda:", 5) || !name[5]) return -1;
	long v = 0;
	for (const char *c = name + 5; *c; c++) {
		if (*c < '0' || *c > '9' || v > 9999) return -1;
		v = v * 10 + (*c - '0');
	}
	return (int)v;
}

const rf_backend_t *rf_backend_get(const char *name, char *err, size_t errlen)
{
	if (name && strcmp(name, "cpu") == 0) return rf_backend_cpu();
	int dev = name ? cuda_index(name) : -1;
	if (name && (strcmp(name, "cuda") == 0 || dev >= 0)) {
#ifdef RF_CUDA
		return rf_backend_cuda_on(dev, err, errlen);
#else
		if (err && errlen) snprintf(err, errlen, "backend '%s': built without CUDA: rebuild with make CUDA=1", name);
		return NULL;
#endif
	}
	if (err && errlen)
		snprintf(err, errlen, "unknown backend '%s' (known: cpu, cuda, cuda:N)", name ? name : "(null)");
	return NULL;
}
