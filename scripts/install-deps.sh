#!/bin/sh
# Installs what genoformer needs from Debian's packages. Quiet when all is
# there; as root it installs what is missing (saying what); otherwise it
# prints the apt-get line to run and fails.
set -e
# Purposes, any number of them (none: build):
#   build  what building and running genoformer needs (make, make demo)
#   test   make check: Check, samtools/tabix, PyTorch for the reference
#          tests, valgrind, MultiQC for the Kraken-report test
#   plot   scripts/plot-metrics (gnuplot)
#   bench  make bench: test's and plot's
#   fuzz   make fuzz: clang with libFuzzer and OpenMP
#   mpi    make MPI=1: OpenMPI
# GF_EXTRA_DEPS adds more packages.
BUILD_PKGS="gcc make pkg-config libhts-dev zlib1g-dev libopenblas-dev libdnnl-dev"
PKGS=$BUILD_PKGS
[ $# -gt 0 ] || set -- build
for purpose in "$@"; do
  case $purpose in
  build | demo) ;;
  test) PKGS="$PKGS check samtools tabix python3-torch python3-numpy valgrind multiqc" ;;
  plot) PKGS="$PKGS gnuplot-nox" ;;
  bench) PKGS="$PKGS check samtools tabix python3-torch python3-numpy gnuplot-nox" ;;
  fuzz) PKGS="$PKGS clang libclang-rt-14-dev libomp-14-dev" ;;
  mpi) PKGS="$PKGS libopenmpi-dev openmpi-bin" ;;
  *) echo "[install-deps] unknown purpose '$purpose' (build, test, plot, bench, fuzz, mpi)" >&2; exit 2 ;;
  esac
done
[ -n "${GF_EXTRA_DEPS:-}" ] && PKGS="$PKGS $GF_EXTRA_DEPS"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "[install-deps] installing from Debian:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >&2
  echo "[install-deps] done" >&2
else
  echo "[install-deps] missing Debian packages:$missing" >&2
  echo "[install-deps] run as root: apt-get install$missing" >&2
  exit 1
fi
