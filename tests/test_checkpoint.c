/* model/checkpoint and model/atomicfile: bit-exact round trip, refusal of
 * every kind of damaged file with a message naming what is wrong, and
 * crash-safe replacement of the previous file. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "model/atomicfile.h"
#include "model/backend.h"
#include "model/checkpoint.h"
#include "tests/testutil.h"

/* ---- fixtures ---- */

static char dir[64];
static char path[128];

static void scratch_setup(void)
{
	tu_scratch_make(dir, "ckpt");
	snprintf(path, sizeof(path), "%s/m.gfm", dir);
}

static void scratch_teardown(void)
{
	tu_scratch_remove(dir);
}

static void make_config(rf_config_t *c)
{
	memset(c, 0, sizeof(*c));
	c->vocab = 69; c->d_model = 8; c->n_heads = 2; c->d_ff = 16; c->n_layers = 3;
	c->layer_kind[0] = RF_ATTN_LOCAL; c->layer_kind[1] = RF_ATTN_LSH; c->layer_kind[2] = RF_ATTN_FULL;
	c->n_hashes = 4; c->n_buckets = 0; c->chunk_len = 64; c->n_before = 1; c->n_after = 0;
	c->ff_chunk = 128; c->axial1 = 512; c->axial2 = 2048; c->axial_d1 = 3; c->causal = 1;
	c->dropout = 0.1f; c->n_classes = 5; c->mlm = 1;
}

/* Three tensors "a" [3, 4], "b" [2, 5, 3], "c" [7] holding every kind of
 * float (signed zero, subnormal, infinities, NaN payloads) as bit patterns. */
#define NA 12
#define NB 30
#define NC 7
static float data_a[NA], data_b[NB], data_c[NC];
static rf_ckpt_tensor_t tens[3];

static void fill_bits(float *x, int n, uint32_t seed)
{
	static const uint32_t special[] = { 0x80000000u, 0x00000001u, 0x7f800000u, 0xff800000u, 0x7fc01234u, 0xffbfffffu };
	for (int i = 0; i < n; i++) {
		uint32_t u = i < 6 ? special[i] : (seed += 0x9e3779b9u) * 2654435761u;
		memcpy(&x[i], &u, 4);
	}
}

static void make_tensors(void)
{
	fill_bits(data_a, NA, 1);
	fill_bits(data_b, NB, 2);
	fill_bits(data_c, NC, 3);
	memset(tens, 0, sizeof(tens));
	tens[0] = (rf_ckpt_tensor_t){ .name = "a", .ndim = 2, .shape = { 3, 4 }, .data = data_a };
	tens[1] = (rf_ckpt_tensor_t){ .name = "b", .ndim = 3, .shape = { 2, 5, 3 }, .data = data_b };
	tens[2] = (rf_ckpt_tensor_t){ .name = "c", .ndim = 1, .shape = { NC }, .data = data_c };
}

static float opt_m[NA + NB + NC], opt_v[NA + NB + NC];

static void make_meta(rf_ckpt_meta_t *m)
{
	char err[256];
	rf_ckpt_meta_init(m);
	ck_assert_int_eq(rf_ckpt_meta_set(m, "tokenizer.k", "6", err, sizeof(err)), 0);
	ck_assert_int_eq(rf_ckpt_meta_set(m, "class_names", "virus\tbacteria\tplasmid\thuman\tother", err, sizeof(err)), 0);
	ck_assert_int_eq(rf_ckpt_meta_set(m, "command_line", "genoformer train -k 6 \"a b\"\nsecond line", err, sizeof(err)), 0);
	ck_assert_int_eq(rf_ckpt_meta_set(m, "empty", "", err, sizeof(err)), 0);
}

/* Writes the standard training checkpoint to path. */
static void write_standard(void)
{
	char err[256];
	rf_config_t c;
	rf_ckpt_meta_t m;
	rf_ckpt_train_t tr = { .step = 123456789012ULL, .seed = 0xfeedfacecafebeefULL, .n = NA + NB + NC,
	                       .m = opt_m, .v = opt_v };
	make_config(&c);
	make_meta(&m);
	make_tensors();
	fill_bits(opt_m, NA + NB + NC, 4);
	fill_bits(opt_v, NA + NB + NC, 5);
	int rc = rf_ckpt_write(path, &c, &m, tens, 3, &tr, err, sizeof(err));
	ck_assert_msg(rc == 0, "write failed: %s", err);
	rf_ckpt_meta_free(&m);
}

static unsigned char *slurp(const char *p, size_t *n)
{
	FILE *fp = fopen(p, "rb");
	ck_assert_ptr_nonnull(fp);
	fseek(fp, 0, SEEK_END);
	*n = (size_t)ftell(fp);
	rewind(fp);
	unsigned char *b = malloc(*n + 1);
	ck_assert_uint_eq(fread(b, 1, *n, fp), *n);
	fclose(fp);
	return b;
}

static void spill(const char *p, const unsigned char *b, size_t n)
{
	FILE *fp = fopen(p, "wb");
	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(b, 1, n, fp), n);
	fclose(fp);
}

/* Reads path expecting a refusal whose message contains want. */
static void expect_refused(const char *want)
{
	char err[512] = "";
	rf_ckpt_t *ck = rf_ckpt_read(path, err, sizeof(err));
	ck_assert_msg(ck == NULL, "damaged file accepted (expected '%s')", want);
	ck_assert_msg(strstr(err, want) != NULL, "message '%s' lacks '%s'", err, want);
	ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "message '%s' does not start with the path", err);
	ck_assert_ptr_null(strchr(err, '\n'));
}

/* Byte offsets in the standard file: end of header (= start of tensor "a"),
 * and the start of each following tensor record. */
static size_t header_end(const unsigned char *b)
{
	uint64_t rec;
	memcpy(&rec, b + 48, 8);
	return 56 + (size_t)rec + 4;
}

static size_t record_len(size_t name_len, int ndim, size_t numel)
{
	return 4 + name_len + 8 * (size_t)ndim + 4 * numel + 4;
}

/* ---- round trip ---- */

START_TEST(roundtrip_is_bit_exact_for_config_meta_tensors_and_optimizer)
{
	char err[256];
	rf_config_t c;
	rf_ckpt_meta_t m;
	write_standard();
	make_config(&c);
	make_meta(&m);
	rf_ckpt_t *ck = rf_ckpt_read(path, err, sizeof(err));
	ck_assert_msg(ck != NULL, "read failed: %s", err);
	ck_assert_int_eq(ck->version, RF_CKPT_VERSION);
	ck_assert_mem_eq(&ck->cfg, &c, sizeof(c));
	ck_assert_int_eq(ck->meta.n, m.n);
	for (int i = 0; i < m.n; i++) ck_assert_str_eq(rf_ckpt_meta_get(&ck->meta, m.key[i]), m.val[i]);
	ck_assert_ptr_null(rf_ckpt_meta_get(&ck->meta, "absent"));
	ck_assert_int_eq(ck->n_tensors, 3);
	for (int i = 0; i < 3; i++) {
		const rf_ckpt_tensor_t *t = rf_ckpt_find(ck, tens[i].name);
		ck_assert_ptr_eq(t, &ck->tensors[i]);
		ck_assert_int_eq(t->ndim, tens[i].ndim);
		ck_assert_mem_eq(t->shape, tens[i].shape, sizeof(t->shape[0]) * (size_t)t->ndim);
		ck_assert_mem_eq(t->data, tens[i].data, 4 * rf_ckpt_numel(&tens[i]));
	}
	ck_assert_ptr_null(rf_ckpt_find(ck, "optim.m"));
	ck_assert_int_eq(ck->has_train, 1);
	ck_assert_uint_eq(ck->train.step, 123456789012ULL);
	ck_assert_uint_eq(ck->train.seed, 0xfeedfacecafebeefULL);
	ck_assert_uint_eq(ck->train.n, NA + NB + NC);
	ck_assert_mem_eq(ck->train.m, opt_m, sizeof(opt_m));
	ck_assert_mem_eq(ck->train.v, opt_v, sizeof(opt_v));
	rf_ckpt_free(ck);
	rf_ckpt_meta_free(&m);
}
END_TEST

START_TEST(model_file_without_training_state_reads_back_without_it)
{
	char err[256];
	rf_config_t c;
	make_config(&c);
	make_tensors();
	ck_assert_int_eq(rf_ckpt_write(path, &c, NULL, tens, 2, NULL, err, sizeof(err)), 0);
	rf_ckpt_t *ck = rf_ckpt_read(path, err, sizeof(err));
	ck_assert_msg(ck != NULL, "read failed: %s", err);
	ck_assert_int_eq(ck->has_train, 0);
	ck_assert_int_eq(ck->meta.n, 0);
	ck_assert_int_eq(ck->n_tensors, 2);
	ck_assert_ptr_null(rf_ckpt_find(ck, "c"));
	ck_assert_mem_eq(rf_ckpt_find(ck, "b")->data, data_b, sizeof(data_b));
	rf_ckpt_free(ck);
}
END_TEST

START_TEST(writer_refuses_bad_tensors_and_leaves_no_file)
{
	char err[256];
	rf_config_t c;
	make_config(&c);
	make_tensors();
	snprintf(tens[2].name, sizeof(tens[2].name), "a");
	ck_assert_int_eq(rf_ckpt_write(path, &c, NULL, tens, 3, NULL, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "tensor 'a' given twice"));
	snprintf(tens[2].name, sizeof(tens[2].name), "has space");
	ck_assert_int_eq(rf_ckpt_write(path, &c, NULL, tens, 3, NULL, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "invalid"));
	ck_assert_int_eq(access(path, F_OK), -1);
}
END_TEST

/* ---- refusals ---- */

START_TEST(missing_file_refused_with_system_reason)
{
	expect_refused("cannot open: No such file or directory");
}
END_TEST

START_TEST(every_truncation_is_refused)
{
	size_t n;
	write_standard();
	free(slurp(path, &n));
	/* shortening one file in place is cheap; rewriting it 1000 times is not */
	for (size_t len = n; len-- > 0;) {
		char err[512] = "";
		ck_assert_int_eq(truncate(path, (off_t)len), 0);
		rf_ckpt_t *ck = rf_ckpt_read(path, err, sizeof(err));
		ck_assert_msg(ck == NULL, "file cut to %zu of %zu bytes accepted", len, n);
		ck_assert_msg(strstr(err, "truncated") || strstr(err, "not a genoformer model"),
		              "cut to %zu: unexpected message '%s'", len, err);
	}
}
END_TEST

START_TEST(truncation_message_names_where_the_file_stops)
{
	size_t n;
	write_standard();
	unsigned char *b = slurp(path, &n);
	size_t h = header_end(b), a_end = h + record_len(1, 2, NA), b_end = a_end + record_len(1, 3, NB);
	const struct { size_t len; const char *want; } cut[] = {
		{ 0, "not a genoformer model file (bad magic)" },
		{ 5, "not a genoformer model file (bad magic)" },
		{ 12, "truncated in the header" },
		{ 60, "truncated in the header" },
		{ h - 1, "truncated in the header" },
		{ h, "truncated before the first tensor (0 of 5 present)" },
		{ h + 6, "truncated in tensor 1 of 5 (in its name or shape)" },
		{ h + 40, "truncated in tensor 'a' (" },
		{ a_end - 2, "truncated in tensor 'a'" },
		{ a_end, "truncated after tensor 'a' (1 of 5 tensors present)" },
		{ a_end + 50, "truncated in tensor 'b'" },
		{ b_end, "truncated after tensor 'b' (2 of 5 tensors present)" },
		{ n - 1, "truncated in tensor 'optim.v'" },
	};
	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		spill(path, b, cut[i].len);
		expect_refused(cut[i].want);
	}
	free(b);
}
END_TEST

START_TEST(flipped_byte_in_a_tensor_is_a_crc_mismatch_naming_it)
{
	size_t n;
	write_standard();
	unsigned char *b = slurp(path, &n);
	size_t b_data = header_end(b) + record_len(1, 2, NA) + 4 + 1 + 3 * 8;
	b[b_data + 17] ^= 0x10;
	spill(path, b, n);
	expect_refused("CRC mismatch in tensor 'b'");
	b[b_data + 17] ^= 0x10;
	b[n - 1] ^= 0x01;   /* the last tensor's stored CRC itself */
	spill(path, b, n);
	expect_refused("CRC mismatch in tensor 'optim.v'");
	free(b);
}
END_TEST

START_TEST(flipped_byte_in_the_header_is_refused)
{
	size_t n;
	write_standard();
	unsigned char *b = slurp(path, &n);
	b[70] ^= 0x04;
	spill(path, b, n);
	expect_refused("CRC mismatch in the header");
	free(b);
}
END_TEST

START_TEST(bad_magic_is_not_a_genoformer_model)
{
	spill(path, (const unsigned char *)"#!/bin/sh\necho this is a script, not a model\n", 46);
	expect_refused("not a genoformer model file (bad magic)");
}
END_TEST

START_TEST(version_99_is_refused_naming_the_readable_version)
{
	size_t n;
	uint32_t v = 99;
	write_standard();
	unsigned char *b = slurp(path, &n);
	memcpy(b + 12, &v, 4);
	spill(path, b, n);
	expect_refused("format version 99 is not supported (this build reads version 1)");
	free(b);
}
END_TEST

START_TEST(swapped_byte_order_marker_is_refused_as_wrong_endianness)
{
	size_t n;
	write_standard();
	unsigned char *b = slurp(path, &n);
	unsigned char t = b[8];
	b[8] = b[11]; b[11] = t;
	t = b[9]; b[9] = b[10]; b[10] = t;
	spill(path, b, n);
	expect_refused("opposite byte order");
	free(b);
}
END_TEST

START_TEST(trailing_bytes_after_the_last_tensor_are_refused)
{
	size_t n;
	write_standard();
	unsigned char *b = slurp(path, &n);
	b = realloc(b, n + 3);
	memcpy(b + n, "xyz", 3);
	spill(path, b, n + 3);
	expect_refused("3 unexpected bytes after the last tensor");
	free(b);
}
END_TEST

/* Replaces the first occurrence of key `from` (same length as `to`) in the
 * records and fixes the header CRC, as a newer or buggy writer would. */
static void patch_key(const char *from, const char *to)
{
	size_t n, h, k = strlen(from);
	write_standard();
	unsigned char *b = slurp(path, &n);
	h = header_end(b);
	for (size_t i = 56; i + k < h; i++)
		if (!memcmp(b + i, from, k)) {
			memcpy(b + i, to, k);
			break;
		}
	uint32_t crc = (uint32_t)crc32(0, b, (uInt)(h - 4));
	memcpy(b + h - 4, &crc, 4);
	spill(path, b, n);
	free(b);
}

START_TEST(unknown_config_key_is_refused_as_needing_a_newer_build)
{
	patch_key("ff_chunk", "ff_chonk");
	expect_refused("config key 'ff_chonk' unknown to this build");
}
END_TEST

START_TEST(duplicate_config_key_is_refused)
{
	patch_key("n_after", "n_heads");
	expect_refused("config key 'n_heads' appears twice");
}
END_TEST

/* Found by fuzz_ckpt: the message quoted the value's bytes raw, a newline
 * included, so it was not one line. */
START_TEST(bad_config_value_is_quoted_escaped_on_one_line)
{
	patch_key("ff_chunk128", "ff_chunk1\n\x1b");
	expect_refused("config key 'ff_chunk' has a bad value '1\\x0a\\x1b'");
}
END_TEST

START_TEST(shape_helper_names_tensor_and_both_shapes)
{
	char err[512];
	const int64_t want_b[3] = { 2, 5, 3 }, bad_b[3] = { 2, 6, 3 }, want_a[1] = { 12 };
	write_standard();
	rf_ckpt_t *ck = rf_ckpt_read(path, err, sizeof(err));
	ck_assert_msg(ck != NULL, "read failed: %s", err);
	ck_assert_ptr_eq(rf_ckpt_expect(ck, "b", 3, want_b, err, sizeof(err)), &ck->tensors[1]);
	ck_assert_ptr_null(rf_ckpt_expect(ck, "b", 3, bad_b, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "tensor 'b' has shape [2, 5, 3] in the file, the model expects [2, 6, 3]"));
	ck_assert_int_eq(rf_ckpt_check_shape(ck, &ck->tensors[0], 1, want_a, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "tensor 'a' has shape [3, 4] in the file, the model expects [12]"));
	ck_assert_ptr_null(rf_ckpt_expect(ck, "cls.w", 1, want_a, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "tensor 'cls.w' missing"));
	rf_ckpt_free(ck);
}
END_TEST

START_TEST(meta_set_replaces_and_rejects_bad_keys)
{
	char err[256];
	rf_ckpt_meta_t m;
	rf_ckpt_meta_init(&m);
	ck_assert_int_eq(rf_ckpt_meta_set(&m, "k", "1", err, sizeof(err)), 0);
	ck_assert_int_eq(rf_ckpt_meta_set(&m, "k", "2", err, sizeof(err)), 0);
	ck_assert_int_eq(m.n, 1);
	ck_assert_str_eq(rf_ckpt_meta_get(&m, "k"), "2");
	ck_assert_int_eq(rf_ckpt_meta_set(&m, "a=b", "x", err, sizeof(err)), -1);
	ck_assert_int_eq(rf_ckpt_meta_set(&m, "", "x", err, sizeof(err)), -1);
	for (int i = 0; i < 40; i++) {
		char key[16];
		snprintf(key, sizeof(key), "key%d", i);
		ck_assert_int_eq(rf_ckpt_meta_set(&m, key, key, err, sizeof(err)), 0);
	}
	ck_assert_str_eq(rf_ckpt_meta_get(&m, "key39"), "key39");
	rf_ckpt_meta_free(&m);
}
END_TEST

/* ---- atomic replacement ---- */

static int temporaries_left(void)
{
	int n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += strstr(e->d_name, ".tmp.") != NULL;
	closedir(d);
	return n;
}

/* Overwrites path with a checkpoint larger than the file-size limit. */
static int write_big(void *arg, char *err, size_t errlen)
{
	static float big[8192];
	rf_config_t c;
	rf_ckpt_tensor_t t = { .name = "big", .ndim = 1, .shape = { 8192 }, .data = big };
	(void)arg;
	make_config(&c);
	return rf_ckpt_write(path, &c, NULL, &t, 1, NULL, err, errlen) == -1 ? 0 : 1;
}

START_TEST(failed_write_leaves_previous_file_intact_and_no_temporary)
{
	size_t n0, n1;
	char msg[1024], want[256];
	write_standard();
	unsigned char *before = slurp(path, &n0);
	ck_assert_msg(tu_with_file_limit(4096, write_big, NULL, msg, sizeof(msg)) == 0,
	              "write beyond the size limit did not fail: '%s'", msg);
	snprintf(want, sizeof(want), "%s: write failed: %s", path, strerror(EFBIG));
	ck_assert_str_eq(msg, want);
	unsigned char *after = slurp(path, &n1);
	ck_assert_uint_eq(n1, n0);
	ck_assert_mem_eq(after, before, n0);
	ck_assert_int_eq(temporaries_left(), 0);
	free(before);
	free(after);
}
END_TEST

START_TEST(abort_keeps_previous_file_and_removes_temporary)
{
	char err[256];
	spill(path, (const unsigned char *)"old", 3);
	rf_afile_t *f = rf_afile_open(path, err, sizeof(err));
	ck_assert_msg(f != NULL, "%s", err);
	fputs("new contents", rf_afile_fp(f));
	ck_assert_int_eq(temporaries_left(), 1);
	rf_afile_abort(f);
	size_t n;
	unsigned char *b = slurp(path, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_mem_eq(b, "old", 3);
	ck_assert_int_eq(temporaries_left(), 0);
	free(b);
}
END_TEST

START_TEST(commit_replaces_file_with_umask_permissions)
{
	char err[256];
	struct stat st;
	mode_t old = umask(027);
	spill(path, (const unsigned char *)"old", 3);
	rf_afile_t *f = rf_afile_open(path, err, sizeof(err));
	ck_assert_msg(f != NULL, "%s", err);
	fputs("new", rf_afile_fp(f));
	ck_assert_str_eq(rf_afile_path(f), path);
	ck_assert_int_eq(rf_afile_commit(f, err, sizeof(err)), 0);
	umask(old);
	size_t n;
	unsigned char *b = slurp(path, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_mem_eq(b, "new", 3);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0640);
	ck_assert_int_eq(temporaries_left(), 0);
	free(b);
}
END_TEST

START_TEST(open_in_missing_directory_names_path_and_reason)
{
	char err[256], p[160];
	snprintf(p, sizeof(p), "%s/no/such/dir/m.gfm", dir);
	ck_assert_ptr_null(rf_afile_open(p, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, p));
	ck_assert_ptr_nonnull(strstr(err, "No such file or directory"));
}
END_TEST

START_TEST(directory_in_the_way_is_refused_at_open)
{
	char err[256];
	ck_assert_int_eq(mkdir(path, 0755), 0);
	ck_assert_ptr_null(rf_afile_open(path, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "Is a directory"));
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_int_eq(temporaries_left(), 0);
}
END_TEST

static TCase *scratch_tcase(const char *name)
{
	TCase *t = tcase_create(name);
	tcase_add_checked_fixture(t, scratch_setup, scratch_teardown);
	return t;
}

static Suite *suite(void)
{
	Suite *s = suite_create("checkpoint");
	TCase *f = scratch_tcase("format");
	tcase_add_test(f, roundtrip_is_bit_exact_for_config_meta_tensors_and_optimizer);
	tcase_add_test(f, model_file_without_training_state_reads_back_without_it);
	tcase_add_test(f, writer_refuses_bad_tensors_and_leaves_no_file);
	tcase_add_test(f, missing_file_refused_with_system_reason);
	tcase_add_test(f, every_truncation_is_refused);
	tcase_add_test(f, truncation_message_names_where_the_file_stops);
	tcase_add_test(f, flipped_byte_in_a_tensor_is_a_crc_mismatch_naming_it);
	tcase_add_test(f, flipped_byte_in_the_header_is_refused);
	tcase_add_test(f, bad_magic_is_not_a_genoformer_model);
	tcase_add_test(f, version_99_is_refused_naming_the_readable_version);
	tcase_add_test(f, swapped_byte_order_marker_is_refused_as_wrong_endianness);
	tcase_add_test(f, trailing_bytes_after_the_last_tensor_are_refused);
	tcase_add_test(f, unknown_config_key_is_refused_as_needing_a_newer_build);
	tcase_add_test(f, duplicate_config_key_is_refused);
	tcase_add_test(f, bad_config_value_is_quoted_escaped_on_one_line);
	tcase_add_test(f, shape_helper_names_tensor_and_both_shapes);
	tcase_add_test(f, meta_set_replaces_and_rejects_bad_keys);
	suite_add_tcase(s, f);
	TCase *a = scratch_tcase("atomicfile");
	tcase_add_test(a, failed_write_leaves_previous_file_intact_and_no_temporary);
	tcase_add_test(a, abort_keeps_previous_file_and_removes_temporary);
	tcase_add_test(a, commit_replaces_file_with_umask_permissions);
	tcase_add_test(a, open_in_missing_directory_names_path_and_reason);
	tcase_add_test(a, directory_in_the_way_is_refused_at_open);
	suite_add_tcase(s, a);
	return s;
}

int main(void)
{
	return tu_run_suite(suite());
}
