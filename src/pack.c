/* Packing short windows into one model call; see pack.h. */
#include "src/pack.h"

#include <stdlib.h>
#include <string.h>

int gf_pack_init(gf_pack_t *pk, int max_tokens, int max_len)
{
	memset(pk, 0, sizeof *pk);
	pk->max_tokens = max_tokens;
	pk->max_len = max_len;
	pk->tok = malloc((size_t)max_tokens * sizeof *pk->tok);
	pk->seg = calloc((size_t)max_tokens + 1, sizeof *pk->seg);
	return pk->tok && pk->seg ? 0 : -1;
}

void gf_pack_free(gf_pack_t *pk)
{
	free(pk->tok);
	free(pk->seg);
	memset(pk, 0, sizeof *pk);
}

int gf_pack_takes(const gf_pack_t *pk, int n)
{
	return n >= 1 && n <= pk->max_len;
}

int gf_pack_has_room(const gf_pack_t *pk, int n, int count)
{
	return (long)pk->n_tok + (long)n * count <= pk->max_tokens;
}

int32_t *gf_pack_add(gf_pack_t *pk, int n)
{
	int32_t *t = pk->tok + pk->n_tok;
	pk->n_tok += n;
	pk->seg[++pk->n_seq] = pk->n_tok;
	return t;
}

rf_batch_t gf_pack_batch(const gf_pack_t *pk, uint64_t seed)
{
	rf_batch_t b = { .tokens = pk->tok, .B = 1, .L = pk->n_tok, .seed = seed, .n_seg = pk->n_seq, .seg = pk->seg };
	return b;
}

void gf_pack_clear(gf_pack_t *pk)
{
	pk->n_tok = pk->n_seq = 0;
}
