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

int gf_window_init(gf_window_t *w, int L)
{
	memset(w, 0, sizeof *w);
	w->len = L;
	w->tok = malloc((size_t)L * sizeof *w->tok);
	w->mask = malloc((size_t)L);
	if (!w->tok || !w->mask) {
		gf_window_free(w);
		return -1;
	}
	return 0;
}

void gf_window_free(gf_window_t *w)
{
	free(w->tok);
	free(w->mask);
	w->tok = NULL;
	w->mask = NULL;
}

void gf_window_get(gf_window_t *w, const int32_t *tok, size_t m, int overlap, int k, int stride,
                   size_t record, int64_t offset, size_t index)
{
	const int L = w->len;
	size_t a = index * (size_t)(L - overlap);
	size_t n = m - a < (size_t)L ? m - a : (size_t)L;
	w->record = record;
	w->index = index;
	w->tok_beg = a;
	w->n_real = (int)n;
	w->beg = offset + (int64_t)(a * stride);
	w->end = offset + (int64_t)((a + n - 1) * stride + k);
	memcpy(w->tok, tok + a, n * sizeof *tok);
	memset(w->mask, 1, n);
	for (int i = (int)n; i < L; i++) w->tok[i] = GF_TOK_PAD;
	memset(w->mask + n, 0, L - n);
}
