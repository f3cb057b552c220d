/* Fuzzes the model-file loader: the input's first byte is a mode, the rest
 * the .gfm file. With mode bit 0 set, the harness first rewrites every CRC
 * the structure it can follow holds (header, then each tensor record), so
 * that mutations reach the record, config, metadata and shape checks behind
 * the checksums instead of stopping at "CRC mismatch". A file that reads is
 * then loaded as a model (gf_modelfile_load: metadata, config validation,
 * every tensor's shape), and with mode bit 1 as a training checkpoint. */
#include "tests/fuzz/fuzz.h"

#include <zlib.h>

#include "model/checkpoint.h"
#include "src/modelfile.h"

enum { FIXED_LEN = 56 };

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
	return v;
}

static void put_crc(uint8_t *p, const uint8_t *from, size_t n)
{
	uint32_t c = (uint32_t)crc32(0, from, (uInt)n);
	memcpy(p, &c, 4);
}

/* Recomputes the header CRC and each tensor's, as far as the lengths lead. */
static void fix_crcs(uint8_t *f, size_t size)
{
	if (size < FIXED_LEN) return;
	uint64_t rec = get_le(f + 48, 8), at;
	if (rec > size - FIXED_LEN || size - FIXED_LEN - rec < 4) return;
	at = FIXED_LEN + rec;
	put_crc(f + at, f, at);
	at += 4;
	while (size - at >= 4) {
		uint64_t nl = get_le(f + at, 2), nd = get_le(f + at + 2, 2), numel = 1, head = 4 + nl + 8 * nd;
		if (nd > 4 || head > size - at) return;
		for (uint64_t d = 0; d < nd; d++) {
			uint64_t s = get_le(f + at + 4 + nl + 8 * d, 8);
			if (s > size || (s && numel > size / s)) return;
			numel *= s;
		}
		if (numel * 4 > size - at - head || size - at - head - numel * 4 < 4) return;
		put_crc(f + at + head + numel * 4, f + at, head + numel * 4);
		at += head + numel * 4 + 4;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	rf_cpu_set_threads(1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1) return 0;
	char path[256], err[1024];
	uint8_t *f = malloc(size);
	memcpy(f, data + 1, size - 1);
	if (data[0] & 1) fix_crcs(f, size - 1);
	fz_write("model.gfm", f, size - 1, path, sizeof path);
	free(f);
	rf_ckpt_t *ck = rf_ckpt_read(path, err, sizeof err);
	if (!ck) {
		FZ_REQUIRE(fz_one_line_naming(err, path), err);
		return 0;
	}
	for (int i = 0; i < ck->n_tensors; i++)
		FZ_REQUIRE(rf_ckpt_find(ck, ck->tensors[i].name) != NULL, ck->tensors[i].name);
	rf_ckpt_free(ck);
	const rf_backend_t *be = rf_backend_cpu();
	gf_modelfile_t *mf;
	if (data[0] & 2) {
		rf_optim_config_t oc;
		rf_optim_t *opt;
		uint64_t step, seed;
		rf_optim_default(&oc);
		mf = gf_modelfile_load_train(path, be, &oc, &opt, &step, &seed, err, sizeof err);
		rf_optim_free(opt);
	} else {
		mf = gf_modelfile_load(path, be, err, sizeof err);
	}
	FZ_REQUIRE(mf || fz_one_line_naming(err, path), err);
	gf_modelfile_free(mf);
	return 0;
}
