#!/bin/sh
# Installs what genoformer needs from Debian's packages. Quiet when all is
# there; as root it installs what is missing (saying what); otherwise it
# prints the apt-get line to run and fails.
set -e
PKGS="gcc make pkg-config libhts-dev zlib1g-dev check libopenblas-dev libdnnl-dev samtools tabix python3-torch python3-numpy gnuplot-nox valgrind"
# `install-deps.sh fuzz` (make fuzz) adds clang with libFuzzer and OpenMP;
# `make check` does not need them.
[ "$1" = fuzz ] && PKGS="$PKGS clang libclang-rt-14-dev libomp-14-dev"
[ -n "$GF_EXTRA_DEPS" ] && PKGS="$PKGS $GF_EXTRA_DEPS"
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
