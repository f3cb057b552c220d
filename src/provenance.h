/* Where a table came from: the first line of classify's TSV,
 *     #genoformer<TAB>version=0.1.0<TAB>model=PATH<TAB>model_crc32=1a2b3c4d
 * (model_crc32: zlib's CRC32 of the model file's bytes, as `genoformer
 * info` prints it in file_crc32). Readers skip it as a comment (pandas
 * comment='#', R comment.char='#', awk '/^#/ {next}'); it holds nothing
 * that differs between the shards of one run, so merged shards keep it. */
#ifndef GF_PROVENANCE_H
#define GF_PROVENANCE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* CRC32 of a file's bytes. 0, or -1 with "PATH: ..." in err. */
int gf_file_crc32(const char *path, uint32_t *crc, char *err, size_t errlen);

/* Writes the '#genoformer' line for the model file model_path. 0, or -1
 * with a message (the model cannot be read again). */
int gf_provenance_write(FILE *fp, const char *model_path, char *err, size_t errlen);

#endif
