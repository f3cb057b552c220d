/* Header-only reader and writer of the tiny tensor-file format that the C
 * tests and the PyTorch reference (tests/reference/tensorfile.py) exchange:
 *
 *   "GFTS" | u32 version (1) | u32 count
 *   count x { u16 name length | name | u8 dtype | u8 ndim | i64 dims[ndim] | data }
 *
 * Little-endian throughout; data is the row-major array of prod(dims)
 * elements. dtype: RT_F32, RT_I32, RT_U8, RT_F64, RT_U64. */
#ifndef GF_REFTENSOR_H
#define GF_REFTENSOR_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "reftensor.h writes and reads host memory as little-endian"
#endif

enum { RT_F32 = 0, RT_I32 = 1, RT_U8 = 2, RT_F64 = 3, RT_U64 = 4 };
#define RT_MAX_DIMS 8
#define RT_VERSION 1u

typedef struct {
	char *name;
	int dtype, ndim;
	int64_t dims[RT_MAX_DIMS];
	size_t numel;
	void *data;
} rt_entry_t;

typedef struct {
	int n, cap;
	rt_entry_t *e;
} rt_file_t;

static inline size_t rt_dtype_size(int dtype)
{
	static const size_t sz[] = { 4, 4, 1, 8, 8 };
	return dtype >= 0 && dtype <= RT_U64 ? sz[dtype] : 0;
}

static inline void rt_free(rt_file_t *f)
{
	for (int i = 0; i < f->n; i++) {
		free(f->e[i].name);
		free(f->e[i].data);
	}
	free(f->e);
	memset(f, 0, sizeof *f);
}

/* Appends a copy of data (numel = prod(dims); ndim 0 is a scalar). Aborts on
 * out-of-memory: these files serve tests only. */
static inline void rt_add(rt_file_t *f, const char *name, int dtype, int ndim, const int64_t *dims,
                          const void *data)
{
	rt_entry_t e = { 0 };
	e.dtype = dtype;
	e.ndim = ndim;
	e.numel = 1;
	for (int d = 0; d < ndim; d++) {
		e.dims[d] = dims[d];
		e.numel *= (size_t)dims[d];
	}
	size_t bytes = e.numel * rt_dtype_size(dtype);
	e.name = strdup(name);
	e.data = malloc(bytes ? bytes : 1);
	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 16;
		f->e = realloc(f->e, (size_t)f->cap * sizeof *f->e);
	}
	if (!e.name || !e.data || !f->e || ndim > RT_MAX_DIMS) abort();
	memcpy(e.data, data, bytes);
	f->e[f->n++] = e;
}

/* Shorthands for a 1-D array and a scalar. */
static inline void rt_add_1d(rt_file_t *f, const char *name, int dtype, int64_t n, const void *data)
{
	rt_add(f, name, dtype, 1, &n, data);
}

static inline void rt_add_scalar(rt_file_t *f, const char *name, int dtype, const void *value)
{
	rt_add(f, name, dtype, 0, NULL, value);
}

static inline const rt_entry_t *rt_find(const rt_file_t *f, const char *name)
{
	for (int i = 0; i < f->n; i++)
		if (strcmp(f->e[i].name, name) == 0) return &f->e[i];
	return NULL;
}

/* Element i of any dtype as a double. */
static inline double rt_get(const rt_entry_t *e, size_t i)
{
	switch (e->dtype) {
	case RT_F32: return ((const float *)e->data)[i];
	case RT_I32: return ((const int32_t *)e->data)[i];
	case RT_U8: return ((const uint8_t *)e->data)[i];
	case RT_F64: return ((const double *)e->data)[i];
	default: return (double)((const uint64_t *)e->data)[i];
	}
}

/* 0, or -1 with a message naming the file. */
static inline int rt_write(const rt_file_t *f, const char *path, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "wb");
	if (!fp) {
		snprintf(err, errlen, "%s: cannot create", path);
		return -1;
	}
	uint32_t head[2] = { RT_VERSION, (uint32_t)f->n };
	int ok = fwrite("GFTS", 1, 4, fp) == 4 && fwrite(head, 4, 2, fp) == 2;
	for (int i = 0; ok && i < f->n; i++) {
		const rt_entry_t *e = &f->e[i];
		uint16_t len = (uint16_t)strlen(e->name);
		uint8_t code[2] = { (uint8_t)e->dtype, (uint8_t)e->ndim };
		size_t bytes = e->numel * rt_dtype_size(e->dtype);
		ok = fwrite(&len, 2, 1, fp) == 1 && fwrite(e->name, 1, len, fp) == len &&
		     fwrite(code, 1, 2, fp) == 2 && fwrite(e->dims, 8, (size_t)e->ndim, fp) == (size_t)e->ndim &&
		     fwrite(e->data, 1, bytes, fp) == bytes;
	}
	if (fclose(fp) != 0 || !ok) {
		snprintf(err, errlen, "%s: write failed", path);
		return -1;
	}
	return 0;
}

/* Reads a whole file into f (which must be empty); 0, or -1 with a message
 * naming the file and the entry. */
static inline int rt_read(rt_file_t *f, const char *path, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "rb");
	char magic[4];
	uint32_t head[2];
	if (!fp) {
		snprintf(err, errlen, "%s: cannot open", path);
		return -1;
	}
	if (fread(magic, 1, 4, fp) != 4 || memcmp(magic, "GFTS", 4) != 0 || fread(head, 4, 2, fp) != 2) {
		snprintf(err, errlen, "%s: not a GFTS tensor file", path);
		goto fail;
	}
	if (head[0] != RT_VERSION) {
		snprintf(err, errlen, "%s: tensor-file version %u, expected %u", path, head[0], RT_VERSION);
		goto fail;
	}
	for (uint32_t i = 0; i < head[1]; i++) {
		uint16_t len;
		uint8_t code[2];
		int64_t dims[RT_MAX_DIMS];
		char name[65536];
		if (fread(&len, 2, 1, fp) != 1 || fread(name, 1, len, fp) != len || fread(code, 1, 2, fp) != 2 ||
		    code[1] > RT_MAX_DIMS || rt_dtype_size(code[0]) == 0 ||
		    fread(dims, 8, code[1], fp) != code[1]) {
			snprintf(err, errlen, "%s: entry %u: bad header", path, i);
			goto fail;
		}
		name[len] = 0;
		size_t numel = 1;
		for (int d = 0; d < code[1]; d++) {
			if (dims[d] < 0 || dims[d] > (1 << 30)) {
				snprintf(err, errlen, "%s: entry %u (%.100s): bad dimension %lld", path, i, name,
				         (long long)dims[d]);
				goto fail;
			}
			numel *= (size_t)dims[d];
		}
		size_t bytes = numel * rt_dtype_size(code[0]);
		void *data = malloc(bytes ? bytes : 1);
		if (!data || fread(data, 1, bytes, fp) != bytes) {
			free(data);
			snprintf(err, errlen, "%s: entry %u (%.100s): truncated data", path, i, name);
			goto fail;
		}
		rt_add(f, name, code[0], code[1], dims, data);
		free(data);
	}
	if (fgetc(fp) != EOF) {
		snprintf(err, errlen, "%s: trailing bytes after %u entries", path, head[1]);
		goto fail;
	}
	fclose(fp);
	return 0;
fail:
	fclose(fp);
	rt_free(f);
	return -1;
}

#endif
