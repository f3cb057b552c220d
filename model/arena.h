/* Counting allocator over a backend's alloc/free: every buffer the model
 * holds in backend memory comes from here, so its memory use is a sum that
 * can be printed and tested (current and peak bytes). */
#ifndef RF_ARENA_H
#define RF_ARENA_H

#include <stddef.h>

#include "model/backend.h"

typedef struct {
	void *p;
	size_t bytes;
} rf_block_t;

typedef struct {
	const rf_backend_t *be;
	rf_block_t *blocks;     /* live allocations, host-side bookkeeping */
	int n, cap;
	size_t cur, peak;
} rf_arena_t;

void rf_arena_init(rf_arena_t *a, const rf_backend_t *be);
/* Frees every live block. */
void rf_arena_release(rf_arena_t *a);
/* NULL when the backend or the bookkeeping fails; bytes 0 gives NULL too. */
void *rf_arena_alloc(rf_arena_t *a, size_t bytes);
/* p must come from rf_arena_alloc of this arena, or be NULL. */
void rf_arena_free(rf_arena_t *a, void *p);

#endif
