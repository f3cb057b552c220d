/* The '#genoformer' line of tables; see provenance.h. */
#include "src/common.h"
#include "src/provenance.h"

#include <errno.h>
#include <string.h>
#include <zlib.h>

#include "model/util.h"
#include "src/log.h"

int gf_file_crc32(const char *path, uint32_t *crc, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) return rf_fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
	unsigned char buf[1 << 16];
	uLong c = crc32(0L, Z_NULL, 0);
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, fp)) > 0) c = crc32(c, buf, (uInt)n);
	int bad = ferror(fp);
	fclose(fp);
	if (bad) return rf_fail(err, errlen, "%s: read error", path);
	*crc = (uint32_t)c;
	return 0;
}

int gf_provenance_write(FILE *fp, const char *model_path, char *err, size_t errlen)
{
	uint32_t crc;
	if (gf_file_crc32(model_path, &crc, err, errlen)) return -1;
	fprintf(fp, "#genoformer\tversion=%s\tmodel=%s\tmodel_crc32=%08x\n", GF_VERSION, model_path, crc);
	return 0;
}
