/* The GPU a process runs on: `--device cuda` takes the GPU of this
 * process's place on its node (its local rank among the MPI ranks or the
 * srun tasks of the node, modulo the visible devices), `--device cuda:N`
 * takes device N. A scheduler that binds one GPU per task (SLURM's
 * --gpus-per-task, --gpu-bind) leaves one visible device: every rank then
 * takes it. Several ranks may share a GPU (each gets its own context). */
#ifndef GF_GPU_H
#define GF_GPU_H

#include "model/backend.h"

/* The device of the local_rank-th process of a node among n_devices
 * visible ones: local_rank mod n_devices (0 when there are none). */
int gf_gpu_for_rank(int local_rank, int n_devices);

/* This process's rank among those of its node: from MPI when it runs with
 * several ranks (ranks sharing memory), else from the launcher's variables
 * (OMPI_COMM_WORLD_LOCAL_RANK, MPI_LOCALRANKID, SLURM_LOCALID,
 * PMI_LOCAL_RANK), else 0. *source names where it came from. */
int gf_gpu_local_rank(const char **source);

/* The backend of a --device value (rf_device_backend), "cuda" and "auto"
 * taking the GPU of this process's local rank as above, logged with the
 * card, the code that runs there and the math path. note and err as
 * rf_device_backend's. */
const rf_backend_t *gf_gpu_backend(const char *spec, char *note, size_t notelen, char *err, size_t errlen);

#endif
