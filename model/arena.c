/* Counting allocator: a host table of live blocks over the backend. */
#include "model/arena.h"

#include <stdlib.h>

void rf_arena_init(rf_arena_t *a, const rf_backend_t *be)
{
	a->be = be;
	a->blocks = NULL;
	a->n = a->cap = 0;
	a->cur = a->peak = 0;
}

void rf_arena_release(rf_arena_t *a)
{
	for (int i = 0; i < a->n; i++) a->be->free(a->blocks[i].p);
	free(a->blocks);
	a->blocks = NULL;
	a->n = a->cap = 0;
	a->cur = 0;
}

void *rf_arena_alloc(rf_arena_t *a, size_t bytes)
{
	if (!bytes) return NULL;
	if (a->n == a->cap) {
		int cap = a->cap ? 2 * a->cap : 32;
		rf_block_t *nb = realloc(a->blocks, (size_t)cap * sizeof *nb);
		if (!nb) return NULL;
		a->blocks = nb;
		a->cap = cap;
	}
	void *p = a->be->alloc(bytes);
	if (!p) return NULL;
	a->blocks[a->n].p = p;
	a->blocks[a->n].bytes = bytes;
	a->n++;
	a->cur += bytes;
	if (a->cur > a->peak) a->peak = a->cur;
	return p;
}

void rf_arena_free(rf_arena_t *a, void *p)
{
	if (!p) return;
	/* Newest first: buffers are usually freed in reverse order. */
	for (int i = a->n - 1; i >= 0; i--) {
		if (a->blocks[i].p != p) continue;
		a->be->free(p);
		a->cur -= a->blocks[i].bytes;
		a->blocks[i] = a->blocks[--a->n];
		return;
	}
	abort();   /* not ours: a bug in the caller, never a user error */
}
