/* Fuzzes region strings: the input's first byte picks the indexed sample
 * (FASTA or FASTQ, read through faidx), the rest is up to 16 regions, one
 * per line, as given to `tokenize -r`. Every region either fails at open
 * with a message naming it, or yields its bases: within the sequence and as
 * long as the range asked for. */
#include "tests/fuzz/fuzz.h"

#include "genomics/seqio.h"

enum { MAX_REGIONS = 16 };

static char fa[256], fq[256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_copy("data/samples/small.fa", "small.fa", fa, sizeof fa);
	fz_copy("data/samples/small.fq", "small.fq", fq, sizeof fq);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1) return 0;
	char *text = strndup((const char *)data + 1, size - 1), *save = NULL, err[GF_SEQIO_ERRLEN];
	const char *regions[MAX_REGIONS];
	gf_seqio_opts_t o;
	gf_seqio_opts_init(&o);
	for (char *s = strtok_r(text, "\n", &save); s && o.n_regions < MAX_REGIONS; s = strtok_r(NULL, "\n", &save))
		regions[o.n_regions++] = s;
	o.regions = regions;
	if (!o.n_regions) {
		free(text);
		return 0;
	}
	gf_reader_t *r = gf_seqio_open(data[0] & 1 ? fq : fa, &o, err, sizeof err);
	if (!r) {
		FZ_REQUIRE(strstr(err, ": region '") && !strchr(err, '\n'), err);
		free(text);
		return 0;
	}
	gf_record_t rec;
	gf_record_init(&rec);
	int ret, n = 0;
	while ((ret = gf_seqio_read(r, &rec, err, sizeof err)) > 0) {
		n++;
		FZ_REQUIRE(rec.beg >= 0 && rec.len > 0 && (int64_t)rec.len <= rec.src_len - rec.beg && strlen(rec.seq) == rec.len,
		           rec.name);
	}
	FZ_REQUIRE(ret == 0 && n == o.n_regions, err);
	gf_record_free(&rec);
	gf_seqio_close(r);
	free(text);
	return 0;
}
