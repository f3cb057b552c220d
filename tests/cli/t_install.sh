# make install into a temporary prefix: the binary runs from there, the man
# page (from the -h texts) renders and names every command, the scripts are
# in place; and scripts/install-deps.sh asks per purpose: the demo's list
# has only the build and run libraries.
set -u
[ "$GF" = ./genoformer ] || skip "make install installs ./genoformer, this run tests $GF"
make -s --no-print-directory install PREFIX="$T/prefix" >"$T/make.log" 2>&1 || fail "make install: $(tail -5 "$T/make.log")"
P=$T/prefix
"$P/bin/genoformer" --version | grep -q '^genoformer [0-9]' || fail "installed binary: $("$P/bin/genoformer" --version 2>&1)"
for f in share/man/man1/genoformer.1 share/genoformer/scripts/slurm/merge share/genoformer/scripts/plot-metrics \
	share/genoformer/scripts/slurm/classify-array.sbatch; do
	[ -s "$P/$f" ] || fail "make install: no $f"
done
[ -x "$P/share/genoformer/scripts/slurm/merge" ] || fail "merge is not executable"
man -l "$P/share/man/man1/genoformer.1" >"$T/man.txt" 2>/dev/null || groff -man -Tutf8 "$P/share/man/man1/genoformer.1" >"$T/man.txt" 2>/dev/null ||
	skip "neither man nor groff renders man pages here"
for cmd in $(./genoformer -h | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }'); do
	grep -q "^genoformer $cmd" "$T/man.txt" || fail "man page has no section for $cmd"
done
grep -q -- '--kraken-out FILE' "$T/man.txt" || fail "man page lacks classify's options"

# install-deps as a normal user with nothing installed: it lists what it would install
mkdir -p "$T/bin"
printf '#!/bin/sh\nexit 1\n' >"$T/bin/dpkg-query"
printf '#!/bin/sh\necho 1000\n' >"$T/bin/id"
chmod +x "$T/bin/dpkg-query" "$T/bin/id"
GF_EXTRA_DEPS= PATH="$T/bin:$PATH" sh scripts/install-deps.sh build >"$T/deps" 2>&1 && fail "install-deps: 0 with missing packages"
grep -q 'missing Debian packages: gcc make pkg-config libhts-dev zlib1g-dev libopenblas-dev libdnnl-dev$' "$T/deps" ||
	fail "build purpose: $(cat "$T/deps")"
for p in python3-torch valgrind gnuplot-nox multiqc; do
	grep -qw "$p" "$T/deps" && fail "make demo's purpose would install $p"
done
GF_EXTRA_DEPS= PATH="$T/bin:$PATH" sh scripts/install-deps.sh test >"$T/deps" 2>&1
for p in check python3-torch valgrind multiqc samtools; do grep -qw "$p" "$T/deps" || fail "test purpose lacks $p"; done
grep -q '^demo:' Makefile && sed -n '/^demo:/,/^$/p' Makefile | grep -q 'install-deps.sh build' || fail "make demo does not ask for build only"
exit 0
