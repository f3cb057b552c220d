/* Packing short windows into one model call. Each window's real tokens
 * become one sequence of a flat token stream, laid end to end with no
 * padding between them (rf_batch_t's packed sequences: positions restart
 * and attention stays within each), until the stream holds max_tokens.
 * Only windows of at most max_len real tokens are packed: longer ones would
 * not be computed as one FULL attention each (rf_model_max_segment), so
 * they keep one window per model row. A 150 bp read at k = 6 is 25 tokens:
 * packed, a call spends nothing on the 39 tokens of padding that the
 * smallest rung of the length ladder (64, one chunk) would add. */
#ifndef GF_PACK_H
#define GF_PACK_H

#include <stdint.h>

#include "model/reformer.h"

typedef struct {
	int max_tokens, max_len;
	int n_tok, n_seq;
	int32_t *tok;    /* [max_tokens] */
	int32_t *seg;    /* [max_tokens + 1]: sequence i is tok[seg[i] .. seg[i+1]) */
} gf_pack_t;

/* Room for max_tokens tokens of sequences of up to max_len tokens; -1 when
 * out of memory. */
int gf_pack_init(gf_pack_t *pk, int max_tokens, int max_len);
void gf_pack_free(gf_pack_t *pk);

/* Whether a window of n real tokens is packed at all. */
int gf_pack_takes(const gf_pack_t *pk, int n);
/* Whether count more sequences of n tokens fit in the stream now. */
int gf_pack_has_room(const gf_pack_t *pk, int n, int count);
/* Appends a sequence of n tokens (gf_pack_has_room first) and returns where
 * to write them. */
int32_t *gf_pack_add(gf_pack_t *pk, int n);
/* The stream as a packed batch of one row (n_seq > 0). */
rf_batch_t gf_pack_batch(const gf_pack_t *pk, uint64_t seed);
void gf_pack_clear(gf_pack_t *pk);

#endif
