/* Device choice per process; see gpu.h. */
#include "src/gpu.h"

#include <stdlib.h>
#include <string.h>

#ifdef RF_CUDA
#include "model/cuda/cuda.h"
#endif
#include "src/dist.h"
#include "src/log.h"

int gf_gpu_for_rank(int local_rank, int n_devices)
{
	return n_devices > 0 && local_rank >= 0 ? local_rank % n_devices : 0;
}

int gf_gpu_local_rank(const char **source)
{
	/* OpenMPI's mpirun, MPICH's hydra, srun (also for tasks without MPI), PMI */
	static const char *const vars[] = { "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID",
		                                "PMI_LOCAL_RANK" };
	int r = gf_dist_local_rank();
	if (r >= 0) {
		*source = "MPI";
		return r;
	}
	for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
		const char *v = getenv(vars[i]);
		char *end;
		long n = v ? strtol(v, &end, 10) : -1;
		if (v && *v && !*end && n >= 0 && n < 1 << 20) {
			*source = vars[i];
			return (int)n;
		}
	}
	*source = "a single process";
	return 0;
}

const rf_backend_t *gf_gpu_backend(const char *spec, char *note, size_t notelen, char *err, size_t errlen)
{
#ifdef RF_CUDA
	if (!strcmp(spec, "cuda") || !strcmp(spec, "auto")) {
		const char *source;
		int local = gf_gpu_local_rank(&source), n = rf_cuda_device_count();
		rf_backend_set_default_gpu(gf_gpu_for_rank(local, n));
		gf_debug("cuda: local rank %d (from %s) of %d visible devices -> cuda:%d", local, source, n,
		         gf_gpu_for_rank(local, n));
	}
	const rf_backend_t *be = rf_device_backend(spec, note, notelen, err, errlen);
	if (be && !strcmp(be->name, "cuda")) gf_info("cuda: %s", rf_cuda_describe());
	return be;
#else
	return rf_device_backend(spec, note, notelen, err, errlen);
#endif
}
