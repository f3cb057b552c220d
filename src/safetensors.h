/* A model file as safetensors (https://github.com/huggingface/safetensors):
 * u64 little-endian header length, a JSON header padded with spaces to a
 * multiple of 8 bytes, then the tensors' float32 data back to back. Every
 * model tensor keeps its .gfm name and shape (tok_emb [vocab, d_model],
 * pos1, pos2, layers.N.{ln1,ln2}.{w,b}, layers.N.attn.{w_qk,w_v,w_o}
 * [in, out], layers.N.ff.{w1 [d_model, d_ff], b1, w2, b2}, ln_f.{w,b}
 * [2 d_model], cls.{w [2 d_model, classes], b}, mlm.{w, b}); matrices are
 * row-major [in, out], so y = x @ W. "__metadata__" holds the config as
 * "cfg.FIELD" (decimal text; cfg.layer_kind "1,2" with 0 full, 1 local,
 * 2 lsh) and every metadata record of the .gfm as "gfm.KEY" (tokenizer.k,
 * tokenizer.stride, window, classes joined by newlines, ...), plus
 * "format": "pt". Training state (optimizer moments) is not exported. */
#ifndef GF_SAFETENSORS_H
#define GF_SAFETENSORS_H

#include <stddef.h>
#include <stdio.h>

#include "model/checkpoint.h"

/* 0, or -1 with a message (out of memory; write errors are the caller's). */
int gf_safetensors_write(FILE *fp, const rf_ckpt_t *ck, char *err, size_t errlen);

#endif
