/* .npy format version 1.0: "\x93NUMPY", 1, 0, u16 header length, a Python
 * dict literal padded with spaces and ended by '\n' so that the data starts
 * at a multiple of 64 bytes. The header is sized for the largest row count
 * so that rewriting it at commit never moves the data. */
#include "src/npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/atomicfile.h"

#define NPY_PRE 10              /* magic, version, header length */
#define NPY_ALIGN 64

struct gf_npy {
	rf_afile_t *f;
	int64_t rows, cols;
	size_t hlen;                /* total header bytes, data offset */
};

static int host_little_endian(void)
{
	const uint16_t one = 1;
	return *(const unsigned char *)&one == 1;
}

/* Formats the header for (rows, cols) into buf, padded to total bytes
 * (total == 0: just returns the unpadded length). */
static size_t npy_header(char *buf, size_t total, int64_t rows, int64_t cols)
{
	char dict[160];
	int n = snprintf(dict, sizeof(dict), "{'descr': '%cf4', 'fortran_order': False, 'shape': (%lld, %lld), }",
	                 host_little_endian() ? '<' : '>', (long long)rows, (long long)cols);
	size_t need = NPY_PRE + (size_t)n + 1;
	if (!total) return need;
	uint16_t hl = (uint16_t)(total - NPY_PRE);
	memcpy(buf, "\x93NUMPY\x01\x00", 8);
	buf[8] = (char)(hl & 0xff);
	buf[9] = (char)(hl >> 8);
	memcpy(buf + NPY_PRE, dict, (size_t)n);
	memset(buf + NPY_PRE + n, ' ', total - need);
	buf[total - 1] = '\n';
	return total;
}

gf_npy_t *gf_npy_open(const char *path, int64_t cols, char *err, size_t errlen)
{
	char head[256];
	gf_npy_t *w;
	if (cols < 1) {
		snprintf(err, errlen, "%s: cannot write a matrix of %lld columns", path, (long long)cols);
		return NULL;
	}
	if (!(w = calloc(1, sizeof(*w)))) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	w->cols = cols;
	w->hlen = (npy_header(NULL, 0, INT64_MAX, cols) + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN;
	if (!(w->f = rf_afile_open(path, err, errlen))) {
		free(w);
		return NULL;
	}
	/* the row count goes into the header at the end */
	if (!rf_afile_seekable(w->f)) {
		snprintf(err, errlen, "%s: a .npy matrix needs a file it can seek in (not a pipe, FIFO or terminal)",
		         rf_afile_path(w->f));
		rf_afile_abort(w->f);
		free(w);
		return NULL;
	}
	npy_header(head, w->hlen, 0, cols);
	fwrite(head, 1, w->hlen, rf_afile_fp(w->f));
	return w;
}

int gf_npy_write(gf_npy_t *w, const float *rows, int64_t n_rows, char *err, size_t errlen)
{
	if (n_rows > 0) fwrite(rows, sizeof(float) * (size_t)w->cols, (size_t)n_rows, rf_afile_fp(w->f));
	if (rf_afile_check(w->f, err, errlen)) return -1;
	w->rows += n_rows > 0 ? n_rows : 0;
	return 0;
}

int gf_npy_commit(gf_npy_t *w, char *err, size_t errlen)
{
	char head[256];
	FILE *fp = rf_afile_fp(w->f);
	npy_header(head, w->hlen, w->rows, w->cols);
	if (fseeko(fp, 0, SEEK_SET) == 0) fwrite(head, 1, w->hlen, fp);
	int rc = rf_afile_check(w->f, err, errlen);
	if (rc) rf_afile_abort(w->f);
	else rc = rf_afile_commit(w->f, err, errlen);
	free(w);
	return rc;
}

void gf_npy_abort(gf_npy_t *w)
{
	if (!w) return;
	rf_afile_abort(w->f);
	free(w);
}
