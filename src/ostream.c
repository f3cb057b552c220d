/* "-" and BGZF outputs; see ostream.h. */
#include "src/common.h"
#include "src/ostream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <htslib/bgzf.h>

#include "model/util.h"

int gf_ostream_is_stdout(const char *name)
{
	return name && !strcmp(name, "-");
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n > m && !strcmp(s + n - m, suffix);
}

int gf_ostream_is_gz(const char *name)
{
	return name && (ends_with(name, ".gz") || ends_with(name, ".bgz"));
}

/* BGZF's end-of-file marker: an empty block (SAM/BAM specification 4.1.2). */
static const unsigned char BGZF_EOF[28] = { 0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0, 0x42, 0x43, 2, 0, 0x1b, 0,
	                                        3, 0, 0, 0, 0, 0, 0, 0, 0, 0 };

struct gf_bgzf_out {
	FILE *under, *fp;
	char *name;
	unsigned char in[BGZF_BLOCK_SIZE], out[BGZF_MAX_BLOCK_SIZE];
	size_t n;
	int failed;
};

/* Compresses the buffered bytes into one block written under. */
static int flush_block(gf_bgzf_out_t *z)
{
	size_t len = sizeof z->out;
	if (!z->n) return 0;
	if (bgzf_compress(z->out, &len, z->in, z->n, -1) || fwrite(z->out, 1, len, z->under) != len) return -1;
	z->n = 0;
	return 0;
}

static ssize_t cookie_write(void *cookie, const char *buf, size_t n)
{
	gf_bgzf_out_t *z = cookie;
	for (size_t done = 0; done < n;) {
		size_t k = sizeof z->in - z->n < n - done ? sizeof z->in - z->n : n - done;
		memcpy(z->in + z->n, buf + done, k);
		z->n += k;
		done += k;
		if (z->n == sizeof z->in && flush_block(z)) {
			z->failed = 1;
			errno = EIO;
			return -1;
		}
	}
	return (ssize_t)n;
}

gf_bgzf_out_t *gf_bgzf_out_open(FILE *under, const char *name, char *err, size_t errlen)
{
	gf_bgzf_out_t *z = calloc(1, sizeof *z);
	cookie_io_functions_t io = { .write = cookie_write };
	if (!z || !(z->name = strdup(name)) || !(z->fp = fopencookie(z, "w", io))) {
		rf_fail(err, errlen, "%s: cannot start BGZF compression: %s", name, strerror(errno ? errno : ENOMEM));
		if (z) free(z->name);
		free(z);
		return NULL;
	}
	z->under = under;
	return z;
}

FILE *gf_bgzf_out_fp(gf_bgzf_out_t *z)
{
	return z->fp;
}

int gf_bgzf_out_close(gf_bgzf_out_t *z, int ok, char *err, size_t errlen)
{
	int bad = fclose(z->fp) != 0 || z->failed || flush_block(z) ||
	          fwrite(BGZF_EOF, 1, sizeof BGZF_EOF, z->under) != sizeof BGZF_EOF;
	int rc = ok && bad ? rf_fail(err, errlen, "%s: writing the compressed output failed", z->name) : 0;
	free(z->name);
	free(z);
	return rc;
}
