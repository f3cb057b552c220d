/* The genoformer model/checkpoint file (.gfm).
 *
 * Layout, version 1 (integers and floats in the writer's byte order, which
 * is little-endian: a file with the opposite order is refused):
 *   magic        8 bytes  "\x89GFM\r\n\x1a\n" (PNG-style: catches text-mode
 *                         transfers and files that are not models)
 *   byte order   u32      0x0A0B0C0D as written by the host
 *   version      u32      RF_CKPT_VERSION (these first 16 bytes never move)
 *   flags        u32      bit 0: training state present
 *   n_records    u32      config and metadata records
 *   n_tensors    u32      model tensors
 *   n_train      u32      training-state tensors (optim.m, optim.v)
 *   step, seed   u64 x 2  training step and RNG seed
 *   records_len  u64      bytes of the records that follow
 *   records      kind u8 (1 config, 2 metadata), 0 u8, key_len u16,
 *                value_len u32, key, value (no NUL terminators)
 *   header crc   u32      zlib crc32 of everything above
 *   tensors      n_tensors + n_train records: name_len u16, ndim u16, name,
 *                shape i64[ndim], float32 data, crc32 u32 of the record
 *                (name, shape and data)
 * The config is stored field by field as "name" = decimal text, so fields
 * can be added later. A reader refuses a config key it does not know (the
 * file needs a newer genoformer: ignoring a model field would silently run a
 * different model) and a missing one. Metadata keys are free-form. */
#ifndef RF_CHECKPOINT_H
#define RF_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "model/config.h"

#define RF_CKPT_VERSION 1
#define RF_CKPT_NAME_MAX 128
#define RF_CKPT_MAX_DIM 4

/* Named float32 tensor, row-major. Written from data; a read checkpoint owns
 * the memory data points to. */
typedef struct {
	char name[RF_CKPT_NAME_MAX];
	int ndim;
	int64_t shape[RF_CKPT_MAX_DIM];
	const float *data;
} rf_ckpt_tensor_t;

size_t rf_ckpt_numel(const rf_ckpt_tensor_t *t);

/* String metadata (tokenizer k, stride, class names, command line,
 * genoformer version...): generic, keyed, kept in insertion order. */
typedef struct {
	int n, cap;
	char **key, **val;
} rf_ckpt_meta_t;

void rf_ckpt_meta_init(rf_ckpt_meta_t *m);
void rf_ckpt_meta_free(rf_ckpt_meta_t *m);
/* Adds or replaces key. Keys are 1..255 printable characters without '=';
 * values have no NUL. 0, or -1 with a message. */
int rf_ckpt_meta_set(rf_ckpt_meta_t *m, const char *key, const char *val, char *err, size_t errlen);
/* The value, or NULL when absent. */
const char *rf_ckpt_meta_get(const rf_ckpt_meta_t *m, const char *key);

/* Optimizer state over the flat parameter vector (n floats each, the model's
 * parameter order), with the step counter and RNG seed to resume from. */
typedef struct {
	uint64_t step, seed;
	size_t n;
	const float *m, *v;
} rf_ckpt_train_t;

/* Writes the file through a temporary and rename; train may be NULL (a model
 * file). 0, or -1 with one line naming path in err. */
int rf_ckpt_write(const char *path, const rf_config_t *cfg, const rf_ckpt_meta_t *meta,
                  const rf_ckpt_tensor_t *tensors, int n_tensors, const rf_ckpt_train_t *train,
                  char *err, size_t errlen);

typedef struct {
	char *path;
	uint32_t version;
	rf_config_t cfg;
	rf_ckpt_meta_t meta;
	int n_tensors;
	rf_ckpt_tensor_t *tensors;
	int has_train;
	rf_ckpt_train_t train;   /* when has_train; m and v point into the checkpoint */
	float *store;            /* owns every tensor's data */
} rf_ckpt_t;

/* Reads and verifies the whole file (header and every tensor's CRC). NULL
 * with one line "PATH: reason" in err: missing file, not a genoformer model,
 * wrong byte order, unsupported version, truncated (naming the tensor),
 * CRC mismatch (naming the tensor), bad config record. */
rf_ckpt_t *rf_ckpt_read(const char *path, char *err, size_t errlen);

/* zlib's crc32 of n bytes added to crc, for any n (zlib takes 32-bit
 * lengths): the CRC of every record in the file. */
uint32_t rf_ckpt_crc(uint32_t crc, const void *p, size_t n);

/* The config's fields, one per record of the file, in file order (the list
 * a compile-time check keeps complete): field i's name, and its value in
 * buf for people (layer kinds by name, floats shortest). */
int rf_ckpt_config_count(void);
const char *rf_ckpt_config_show(const rf_config_t *c, int i, char *buf, size_t n);
void rf_ckpt_free(rf_ckpt_t *ck);

/* Model tensor by name, or NULL. */
const rf_ckpt_tensor_t *rf_ckpt_find(const rf_ckpt_t *ck, const char *name);

/* 0 when t has exactly this shape; else -1 with "PATH: tensor 'NAME' has
 * shape [a, b] in the file, the model expects [c, d]". */
int rf_ckpt_check_shape(const rf_ckpt_t *ck, const rf_ckpt_tensor_t *t, int ndim, const int64_t *shape,
                        char *err, size_t errlen);

/* The named tensor when present with this shape; else NULL with a message
 * (missing, or the shape mismatch above). */
const rf_ckpt_tensor_t *rf_ckpt_expect(const rf_ckpt_t *ck, const char *name, int ndim, const int64_t *shape,
                                       char *err, size_t errlen);

#endif
