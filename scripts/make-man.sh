#!/bin/sh
# Writes genoformer's man page (roff, section 1) to stdout from the help
# texts of the binary given ($1, default ./genoformer): `genoformer -h` and
# every command's `-h`, so the page never says other than the tool.
# Used by `make install`; `man -l build/genoformer.1` shows it.
set -eu
GF=${1:-./genoformer}
version=$("$GF" --version 2>/dev/null | awk '{ print $NF; exit }')
# roff-safe text: backslashes doubled, lines starting with . or ' escaped
esc() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }
echo ".TH GENOFORMER 1 \"\" \"genoformer $version\" \"User Commands\""
echo ".SH NAME"
echo "genoformer \\- classify, embed and train on DNA with a Reformer (LSH attention, reversible layers)"
echo ".SH SYNOPSIS"
echo ".B genoformer"
echo ".I command"
echo "[options]"
echo ".SH DESCRIPTION"
echo ".nf"
"$GF" -h | esc
echo ".fi"
for cmd in $("$GF" -h | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }'); do
	echo ".SH \"genoformer $cmd\""
	echo ".nf"
	"$GF" "$cmd" -h | esc
	echo ".fi"
done
echo ".SH FILES"
echo "Scripts for clusters and plots are installed under share/genoformer/scripts (slurm/merge, slurm/*.sbatch, plot-metrics)."
echo ".SH SEE ALSO"
echo "samtools(1), kraken2(1), multiqc(1)"
