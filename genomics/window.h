/* Windows of L tokens cut from one record's token stream, with an overlap.
 *
 * Window w starts at token w * (L - overlap). There are
 * gf_window_count(m) = 0 for m == 0, 1 for m <= L, else
 * 1 + ceil((m - L) / (L - overlap)) windows, so every token lies in some
 * window, consecutive windows share exactly `overlap` tokens, and with
 * overlap 0 every token lies in exactly one window. The last window is
 * padded with [PAD]; mask is 1 on real tokens, 0 on padding. */
#ifndef GF_WINDOW_H
#define GF_WINDOW_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	size_t record;      /* index of the record in the input */
	size_t index;       /* window number within the record */
	size_t tok_beg;     /* first token of the window in the record's stream */
	int n_real;         /* real tokens, 1..L; the rest is padding */
	int64_t beg, end;   /* bases [beg, end) covered by the real tokens, in record coordinates */
	int len;            /* L */
	int32_t *tok;       /* L token ids */
	uint8_t *mask;      /* L: 1 real, 0 padding */
} gf_window_t;

/* 0 when L >= 1 and 0 <= overlap < L; else -1 with a message. */
int gf_window_check(int L, int overlap, char *err, size_t errlen);

size_t gf_window_count(size_t m, int L, int overlap);

/* Allocates tok and mask for L tokens (gf_window_bytes(L)); 0 or -1 when
 * out of memory. */
int gf_window_init(gf_window_t *w, int L);
size_t gf_window_bytes(int L);
void gf_window_free(gf_window_t *w);

/* Fills window `index` of record `record` straight from its bases seq[0..n)
 * (tokens made on the fly by gf_kmer_tokenize_part, so the record's whole
 * token stream never needs to exist). offset is the record's first base in
 * its source (gf_record_t.beg for a region, else 0). index must be below
 * gf_window_count(gf_kmer_count(n, k, stride), w->len, overlap). */
void gf_window_get(gf_window_t *w, const char *seq, size_t n, int k, int stride, int overlap,
                   size_t record, int64_t offset, size_t index);

#endif
