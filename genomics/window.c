/* Windows over a token stream; see window.h for the layout. */
#include "genomics/window.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genomics/kmer.h"

int gf_window_check(int L, int overlap, char *err, size_t errlen)
{
	if (L < 1) {
		snprintf(err, errlen, "window length must be at least 1 token (got %d)", L);
		return -1;
	}
	if (overlap < 0 || overlap >= L) {
		snprintf(err, errlen, "overlap must be between 0 and window length - 1 = %d (got %d)", L - 1, overlap);
		return -1;
	}
	return 0;
}

size_t gf_window_count(size_t m, int L, int overlap)
{
	size_t step = (size_t)(L - overlap);
	if (m == 0) return 0;
	if (m <= (size_t)L) return 1;
	return 1 + (m - L + step - 1) / step;
}

size_t gf_window_bytes(int L)
{
	return (size_t)L * (sizeof(int32_t) + sizeof(uint8_t));
}

int gf_window_init(gf_window_t *w, int L)
{
	memset(w, 0, sizeof *w);
	w->len = L;
	/* one block: the tokens, then the mask */
	if (!(w->tok = malloc(gf_window_bytes(L)))) return -1;
	w->mask = (uint8_t *)(w->tok + L);
	return 0;
}

void gf_window_free(gf_window_t *w)
{
	free(w->tok);
	w->tok = NULL;
	w->mask = NULL;
}

void gf_window_get(gf_window_t *w, const char *seq, size_t n, int k, int stride, int overlap,
                   size_t record, int64_t offset, size_t index)
{
	const int L = w->len;
	size_t a = index * (size_t)(L - overlap);
	size_t real = gf_kmer_tokenize_part(seq, n, k, stride, a, L, w->tok);
	w->record = record;
	w->index = index;
	w->tok_beg = a;
	w->n_real = (int)real;
	w->beg = offset + (int64_t)(a * stride);
	w->end = offset + (int64_t)((a + real - 1) * stride + k);
	memset(w->mask, 1, real);
	for (int i = (int)real; i < L; i++) w->tok[i] = GF_TOK_PAD;
	memset(w->mask + real, 0, L - real);
}
