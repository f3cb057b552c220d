/* Fuzzes the sequence readers: the input is a whole file (FASTA, FASTQ,
 * SAM, BAM, CRAM, plain or gzip/bgzip), read to its end or first error the
 * way `tokenize` does. Besides the sanitizers it checks what every record
 * promises: a NUL-terminated sequence of len IUPAC bytes, a quality of the
 * same length, and an error message naming the file. */
#include "tests/fuzz/fuzz.h"

#include "genomics/seqio.h"

static void check_record(const gf_record_t *rec)
{
	FZ_REQUIRE(rec->name && rec->name[0] && rec->seq && strlen(rec->seq) == rec->len && rec->len > 0, rec->name);
	FZ_REQUIRE(!rec->qual || strlen(rec->qual) == rec->len, rec->name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[256], err[GF_SEQIO_ERRLEN];
	fz_write("in", data, size, path, sizeof path);
	gf_reader_t *r = gf_seqio_open(path, NULL, err, sizeof err);
	if (!r) {
		FZ_REQUIRE(fz_one_line_naming(err, path), err);
		return 0;
	}
	gf_record_t rec;
	gf_record_init(&rec);
	int ret;
	while ((ret = gf_seqio_read(r, &rec, err, sizeof err)) > 0) {
		check_record(&rec);
		gf_revcomp(rec.seq, rec.len);
	}
	FZ_REQUIRE(ret == 0 || fz_one_line_naming(err, path), err);
	gf_record_free(&rec);
	gf_seqio_close(r);
	return 0;
}
