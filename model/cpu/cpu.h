/* The CPU backend's functions, shared between the files of model/cpu.
 * Semantics of each are those of the op of the same name in model/backend.h. */
#ifndef RF_CPU_H
#define RF_CPU_H

#include "model/backend.h"

/* attn.c */
void cpu_lsh_hash(uint16_t *buckets, const float *qk, const float *rot,
                  const uint8_t *mask, const rf_attn_shape_t *s);
size_t cpu_attn_workspace(const rf_attn_shape_t *s);
void cpu_attn_forward(float *out, const float *qk, const float *v, const uint16_t *buckets,
                      const uint8_t *mask, const rf_attn_shape_t *s, void *work);
void cpu_attn_backward(float *dqk, float *dv, const float *dout, const float *qk,
                       const float *v, const uint16_t *buckets, const uint8_t *mask,
                       const rf_attn_shape_t *s, void *work);

/* ops.c: everything else; the table itself is in backend_cpu.c */
#endif
