/* OpenBLAS's kernels for this CPU; see blascore.h. */
#include "model/cpu/blascore.h"

#include <stddef.h>
#include <stdlib.h>
#include <strings.h>

char *openblas_get_corename(void);

const char *rf_cpu_blas_core(void)
{
	return openblas_get_corename();
}

static const char *better_core(void)
{
	/* the SSE-only targets OpenBLAS falls back to on a CPU it does not know */
	static const char *const fallback[] = { "Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom" };
	const char *core = rf_cpu_blas_core();
	int generic = 0;
	for (unsigned i = 0; core && i < sizeof fallback / sizeof *fallback; i++) generic |= !strcasecmp(core, fallback[i]);
	if (!generic) return NULL;
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
	    __builtin_cpu_supports("avx512vl"))
		return "SkylakeX";
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
	return NULL;
}

int rf_cpu_blas_prefer_own_core(void)
{
	const char *core = getenv("OPENBLAS_CORETYPE") ? NULL : better_core();
	return core && setenv("OPENBLAS_CORETYPE", core, 1) == 0;
}
