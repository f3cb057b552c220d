/* The backend registry and the --device values; see backend.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/backend.h"

static int default_gpu;

void rf_backend_set_default_gpu(int device)
{
	default_gpu = device < 0 ? 0 : device;
}

/* The GPU index of "cuda" (the default GPU) or "cuda:N"; -1 when spec is neither. */
static int cuda_index(const char *spec)
{
	if (strncmp(spec, "cuda", 4)) return -1;
	if (!spec[4]) return default_gpu;
	if (spec[4] != ':' || spec[5] < '0' || spec[5] > '9') return -1;
	char *end;
	long n = strtol(spec + 5, &end, 10);
	return *end || n > 1023 ? -1 : (int)n;
}

int rf_device_check(const char *spec, char *err, size_t errlen)
{
	if (!strcmp(spec, "cpu") || !strcmp(spec, "auto") || cuda_index(spec) >= 0) return 0;
	snprintf(err, errlen, "--device '%s': expects cpu, cuda, cuda:N (GPU N, from 0) or auto", spec);
	return -1;
}

const rf_backend_t *rf_backend_get(const char *device, char *err, size_t errlen)
{
	if (device && !strcmp(device, "cpu")) return rf_backend_cpu();
	int gpu = device ? cuda_index(device) : -1;
	if (gpu >= 0) {
#ifdef RF_CUDA
		return rf_backend_cuda(gpu, err, errlen);
#else
		snprintf(err, errlen, "--device %s: built without CUDA: rebuild with make CUDA=1", device);
		return NULL;
#endif
	}
	snprintf(err, errlen, "unknown backend '%s' (known: cpu, cuda, cuda:N)", device ? device : "(null)");
	return NULL;
}

const rf_backend_t *rf_device_backend(const char *spec, char *note, size_t notelen, char *err, size_t errlen)
{
	if (notelen) note[0] = 0;
	if (rf_device_check(spec, err, errlen)) return NULL;
	if (strcmp(spec, "auto")) return rf_backend_get(spec, err, errlen);
#ifdef RF_CUDA
	char why[512];
	const rf_backend_t *be = rf_backend_cuda(default_gpu, why, sizeof why);
	if (be) return be;
	snprintf(note, notelen, "--device auto: no usable GPU (%s); using cpu", why);
#endif
	return rf_backend_cpu();
}
