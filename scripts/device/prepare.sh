#!/bin/sh
# Copies the shared libraries that the given binaries (default: the CUDA test
# suites in build-cuda/tests/cuda) need beyond the base system and CUDA into
# .device/lib, for a GPU machine that lacks them (htslib, OpenBLAS, Check...).
# There: LD_LIBRARY_PATH=$PWD/.device/lib:/usr/local/cuda/lib64 <binary>.
set -e
cd "$(dirname "$0")/../.."
[ $# -gt 0 ] || set -- $(ls build-cuda/tests/cuda/test_* 2>/dev/null | grep -v '\.d$')
[ $# -gt 0 ] || { echo "[prepare] no binaries: run make CUDA=1 build-cuda/tests/cuda/... first" >&2; exit 1; }
dest=.device/lib
rm -rf "$dest"
mkdir -p "$dest"
for bin in "$@"; do
	[ -x "$bin" ] || { echo "[prepare] $bin: no such executable (build it with make CUDA=1 first)" >&2; exit 1; }
	# glibc, the C++ runtime and CUDA's own libraries are on the GPU machine already
	ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' |
	grep -Ev '/(libc|libm|libdl|libpthread|librt|libstdc\+\+|libgcc_s|ld-linux[^/]*)\.so|/usr/local/cuda|/libcu[a-z]*\.so|/libnv[a-z]*\.so' |
	while read -r lib; do cp -L "$lib" "$dest/"; done
done
echo "[prepare] $(ls "$dest" | wc -l) libraries, $(du -sh "$dest" | cut -f1) in $dest"
