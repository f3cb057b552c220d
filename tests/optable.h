/* Checks of a backend's op table shared by the CPU suite (tests/test_ops.c)
 * and the CUDA suite (tests/cuda/test_cuda_ops.c). */
#ifndef GF_TESTS_OPTABLE_H
#define GF_TESTS_OPTABLE_H

#include <stddef.h>

#include "model/backend.h"
#include "tests/testutil.h"

/* Every entry of be is filled: the table is a run of function pointers
 * after its name. */
static inline void tu_assert_table_filled(const rf_backend_t *be)
{
	void (*const *fn)(void) = (void (*const *)(void))&be->supports_attn;
	size_t n = (sizeof *be - offsetof(rf_backend_t, supports_attn)) / sizeof *fn;
	for (size_t i = 0; i < n; i++) ck_assert_msg(fn[i] != NULL, "op %zu of the %s table is NULL", i, be->name);
}

#endif
