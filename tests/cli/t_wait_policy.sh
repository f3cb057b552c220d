# The compute commands run with passive OpenMP waiting unless the user chose
# a policy: libgomp shows the spin count it uses (OMP_DISPLAY_ENV=verbose),
# 0 when idle threads sleep at once.
set -u
spin() { env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT OMP_DISPLAY_ENV=verbose "$@" 2>&1 >/dev/null |
	sed -n "s/^ *GOMP_SPINCOUNT = '\([0-9]*\)'.*/\1/p" | tail -n 1; }
for cmd in classify train pretrain embed eval bench; do
	[ "$(spin "$GF" $cmd -h)" = 0 ] || fail "$cmd: spin count $(spin "$GF" $cmd -h), want 0 (passive)"
done
[ "$(spin "$GF" tokenize -h)" != 0 ] || fail "tokenize should not re-run itself"
got=$(spin env OMP_WAIT_POLICY=active "$GF" classify -h)
[ "$got" != 0 ] || fail "classify overrode the user's OMP_WAIT_POLICY=active"
expect_status 0 env -u OMP_WAIT_POLICY "$GF" classify -h
grep -q "^Usage: genoformer classify" "$T/out" || fail "classify -h after the re-run: $(head -c 300 "$T/out")"

# OpenBLAS's kernels: on a CPU with AVX2 (or AVX-512) never its SSE3
# fallback, which an OpenBLAS older than the CPU picks (model/cpu/blascore.h);
# the user's OPENBLAS_CORETYPE stays
kernels() { "$@" classify -v -m data/models/example.gfm data/examples/lambda-reads.fq.gz 2>&1 >/dev/null |
	sed -n 's/.*(OpenBLAS \(.*\) kernels).*/\1/p'; }
k=$(kernels env -u OPENBLAS_CORETYPE "$GF")
[ -n "$k" ] || fail "classify -v does not name OpenBLAS's kernels"
if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
	case $k in Prescott | Core2 | Penryn | Dunnington | Nehalem | Atom) fail "OpenBLAS runs its $k kernels on a CPU with AVX2" ;; esac
fi
[ "$(kernels env OPENBLAS_CORETYPE=Prescott "$GF")" = Prescott ] || fail "the user's OPENBLAS_CORETYPE=Prescott was not kept"
