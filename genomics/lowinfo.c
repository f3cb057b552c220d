/* Low-information records; see lowinfo.h. */
#include "genomics/lowinfo.h"

#include <math.h>
#include <stdint.h>

void gf_lowinfo_opts_init(gf_lowinfo_opts_t *o)
{
	o->min_len = 1;
	o->min_acgt = GF_LOWINFO_MIN_ACGT;
	o->min_entropy = GF_LOWINFO_MIN_ENTROPY;
}

/* 0..3 for ACGT (any case, U as T), 4 otherwise. */
static int code(char c)
{
	switch (c) {
	case 'A': case 'a': return 0;
	case 'C': case 'c': return 1;
	case 'G': case 'g': return 2;
	case 'T': case 't': case 'U': case 'u': return 3;
	default: return 4;
	}
}

double gf_lowinfo_entropy3(const char *seq, size_t n)
{
	uint64_t count[64] = { 0 }, total = 0;
	unsigned v = 0;
	int run = 0;  /* ACGT bases in a row ending here */
	for (size_t i = 0; i < n; i++) {
		int c = code(seq[i]);
		if (c > 3) {
			run = 0;
			continue;
		}
		v = ((v << 2) | (unsigned)c) & 63u;
		if (++run >= 3) {
			count[v]++;
			total++;
		}
	}
	double h = 0.0;
	for (int i = 0; i < 64; i++)
		if (count[i]) {
			double p = (double)count[i] / (double)total;
			h -= p * log2(p);
		}
	return h;
}

int gf_lowinfo_check(const char *seq, size_t n, const gf_lowinfo_opts_t *o)
{
	if (n < o->min_len || n == 0) return GF_LOWINFO_TOO_SHORT;
	size_t acgt = 0;
	for (size_t i = 0; i < n; i++) acgt += code(seq[i]) < 4;
	if ((double)acgt < o->min_acgt * (double)n) return GF_LOWINFO_MOSTLY_N;
	if (n >= GF_LOWINFO_MIN_JUDGED && gf_lowinfo_entropy3(seq, n) < o->min_entropy) return GF_LOWINFO_LOW_COMPLEXITY;
	return GF_LOWINFO_OK;
}

const char *gf_lowinfo_name(int reason)
{
	static const char *const names[GF_LOWINFO_N] = { "-", "too_short", "mostly_n", "low_complexity" };
	return reason >= 0 && reason < GF_LOWINFO_N ? names[reason] : "?";
}
