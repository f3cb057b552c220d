#!/bin/sh
# Prepares .device/cluster for scripts/device/cluster-check.sh, here on the
# machine without a GPU (the GPU machine has nvcc but no htslib, OpenBLAS,
# Check or OpenMPI, and no network). About 6 minutes on 2 cores; about 45 MiB.
#   bin/genoformer           make CUDA=1 MPI=1: the fat binary (every CUDA_ARCH
#                            + PTX); without a launcher it runs as one process
#   bin/genoformer-sm90      make CUDA=1 MPI=1 CUDA_ARCH=90: the former
#                            sm_90-only build, the benchmark's baseline
#   bin/test_cuda_ops, bin/test_cuda_model   the fat build's parity suites
#   bin/test_cuda_ops-sm75   CUDA_ARCH=75: machine code for sm_75 and PTX
#                            compute_75 only, so a newer GPU runs the device
#                            code built for GPUs without TF32 tensor cores
#   bin/fatbin_archs         the .nv_fatbin reader (make check-fatbin)
#   lib.tar.gz               the shared libraries the GPU machine lacks
#                            (scripts/device/prepare.sh), compressed: OpenBLAS
#                            alone is 36 MB of the 64 MiB a call may carry
#   mpi/*.deb                Debian's OpenMPI runtime, unpacked there
#   cache/                   lambda and the first 500 kbp of E. coli
#                            (data/cache is a link and does not travel)
# Then, with a GPU lent to the session:
#   run(command="scripts/device/cluster-check.sh", carry=[".device/cluster"], timeout_s=600)
set -e
cd "$(dirname "$0")/../.."
D=.device/cluster
J=${J:-2}
rm -rf $D
mkdir -p $D/bin $D/mpi $D/cache/lambda $D/cache/ecoli
make -j"$J" CUDA=1 MPI=1 BIN=$D/bin/genoformer $D/bin/genoformer \
	build-cuda-mpi/tests/cuda/test_cuda_ops build-cuda-mpi/tests/cuda/test_cuda_model build-cuda-mpi/tests/cuda/fatbin_archs
make -j"$J" CUDA=1 MPI=1 BUILD=build-sm90-mpi CUDA_ARCH=90 BIN=$D/bin/genoformer-sm90 $D/bin/genoformer-sm90
make -j"$J" CUDA=1 BUILD=build-sm75 CUDA_ARCH=75 build-sm75/tests/cuda/test_cuda_ops
cp build-cuda-mpi/tests/cuda/test_cuda_ops build-cuda-mpi/tests/cuda/test_cuda_model build-cuda-mpi/tests/cuda/fatbin_archs $D/bin/
cp build-sm75/tests/cuda/test_cuda_ops $D/bin/test_cuda_ops-sm75
strip $D/bin/*
build-cuda-mpi/tests/cuda/fatbin_archs --expect 90 --ptx 90 $D/bin/genoformer-sm90 >/dev/null
build-cuda-mpi/tests/cuda/fatbin_archs --expect 75 --ptx 75 $D/bin/test_cuda_ops-sm75 >/dev/null

scripts/device/prepare.sh $D/bin/genoformer $D/bin/genoformer-sm90 $D/bin/test_cuda_ops $D/bin/test_cuda_model \
	$D/bin/test_cuda_ops-sm75
tar -C .device -czf $D/lib.tar.gz lib
rm -rf .device/lib

# OpenMPI 4.1 and what its launcher and plugins load (the libraries of the
# binaries themselves, libmpi included, are in lib.tar.gz already)
(cd $D/mpi && apt-get download -qq openmpi-bin libopenmpi3 openmpi-common libpmix2 libevent-core-2.1-7 \
	libevent-pthreads-2.1-7 libhwloc15 libfabric1 libibverbs1 librdmacm1 libpsm2-2 libpsm-infinipath1 \
	libnl-3-200 libnl-route-3-200 libucx0 libnuma1 libmunge2 2>/dev/null)

C=data/cache
data/fetch-examples.sh
cp $C/lambda/lambda_virus.fa $D/cache/lambda/
{ head -1 $C/ecoli/MG1655-K12.fasta; grep -v '^>' $C/ecoli/MG1655-K12.fasta | head -n 7200; } >$D/cache/ecoli/MG1655-K12.fasta
touch $D/cache/.complete-v1
echo "[prepare-cluster] $(du -sh $D | cut -f1) in $D: $(ls $D/bin | tr '\n' ' ')"
