/* Sample names of inputs; see samples.h. */
#include "src/common.h"
#include "src/samples.h"

#include <string.h>

/* Cuts the first of suffixes that name (of length *n) ends with. */
static void cut_suffix(const char *name, size_t *n, const char *const *suffixes)
{
	for (; *suffixes; suffixes++) {
		size_t m = strlen(*suffixes);
		if (*n > m && !strncmp(name + *n - m, *suffixes, m)) {
			*n -= m;
			return;
		}
	}
}

int gf_sample_name(const char *path, int mate1, char *out, size_t outlen)
{
	static const char *const zip[] = { ".gz", ".bgz", ".bz2", ".xz", NULL };
	static const char *const fmt[] = { ".fastq", ".fq", ".fasta", ".fa", ".fna", ".sam", ".bam", ".cram", NULL };
	static const char *const mate[] = { "_R1", "_1", ".R1", ".1", NULL };
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	size_t n = strlen(name);
	cut_suffix(name, &n, zip);
	cut_suffix(name, &n, fmt);
	if (mate1) cut_suffix(name, &n, mate);
	if (!n || n >= outlen) return -1;
	memcpy(out, name, n);
	out[n] = 0;
	return 0;
}
