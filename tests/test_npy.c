/* src/npy: streamed float32 matrices that NumPy reads back exactly. */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "src/npy.h"
#include "tests/testutil.h"

static char dir[64];
static char path[128];

static void scratch_setup(void)
{
	tu_scratch_make(dir, "npy");
	snprintf(path, sizeof(path), "%s/e.npy", dir);
}

static void scratch_teardown(void)
{
	tu_scratch_remove(dir);
}

/* Element (i, j): exactly representable, distinct, negative on odd rows. */
static float value(int64_t i, int64_t j)
{
	return (float)((i % 2 ? -1 : 1) * (i * 1000 + j)) + 0.25f;
}

/* Writes rows in chunks of the given sizes; returns the total. */
static int64_t write_chunks(int64_t cols, const int *chunks, int n_chunks)
{
	char err[256];
	int64_t row = 0;
	gf_npy_t *w = gf_npy_open(path, cols, err, sizeof(err));
	ck_assert_msg(w != NULL, "%s", err);
	for (int c = 0; c < n_chunks; c++) {
		float *buf = malloc(sizeof(float) * (size_t)(cols * chunks[c]) + 1);
		for (int r = 0; r < chunks[c]; r++)
			for (int64_t j = 0; j < cols; j++) buf[r * cols + j] = value(row + r, j);
		ck_assert_int_eq(gf_npy_write(w, buf, chunks[c], err, sizeof(err)), 0);
		row += chunks[c];
		free(buf);
	}
	ck_assert_msg(gf_npy_commit(w, err, sizeof(err)) == 0, "%s", err);
	return row;
}

/* The header as NumPy 1.0 defines it, checked byte by byte in C. */
static void check_header(int64_t rows, int64_t cols)
{
	unsigned char b[512];
	char want[96];
	FILE *fp = fopen(path, "rb");
	ck_assert_ptr_nonnull(fp);
	size_t n = fread(b, 1, sizeof(b), fp);
	fseek(fp, 0, SEEK_END);
	long size = ftell(fp);
	fclose(fp);
	ck_assert_uint_ge(n, 10);
	ck_assert_mem_eq(b, "\x93NUMPY\x01\x00", 8);
	size_t hlen = b[8] | (size_t)b[9] << 8, total = 10 + hlen;
	ck_assert_uint_eq(total % 64, 0);
	ck_assert_uint_le(total, n);
	ck_assert_int_eq(b[total - 1], '\n');
	snprintf(want, sizeof(want), "{'descr': '<f4', 'fortran_order': False, 'shape': (%lld, %lld), }",
	         (long long)rows, (long long)cols);
	ck_assert_mem_eq(b + 10, want, strlen(want));
	ck_assert_int_eq(size, (long)(total + 4 * (size_t)(rows * cols)));
}

static int have_numpy(void)
{
	if (tu_run("/usr/bin/python3 -c 'import numpy' 2>&1", NULL, 0) == 0) return 1;
	fprintf(stderr, "[test_npy] SKIPPED numpy check: /usr/bin/python3 cannot import numpy\n");
	return 0;
}

/* NumPy loads the file and compares every element with value() exactly. */
static void check_with_numpy(int64_t rows, int64_t cols)
{
	char cmd[1024], out[2048];
	if (!have_numpy()) return;
	snprintf(cmd, sizeof(cmd),
	         "/usr/bin/python3 -c \"import numpy as np; a = np.load('%s'); "
	         "i, j = np.meshgrid(np.arange(%lld), np.arange(%lld), indexing='ij'); "
	         "want = (np.where(i %% 2 == 1, -1, 1) * (i * 1000 + j)).astype(np.float32) + np.float32(0.25); "
	         "assert a.dtype == np.float32, a.dtype; assert a.shape == (%lld, %lld), a.shape; "
	         "assert np.array_equal(a, want), 'values differ'; print('ok')\" 2>&1",
	         path, (long long)rows, (long long)cols, (long long)rows, (long long)cols);
	int rc = tu_run(cmd, out, sizeof(out));
	ck_assert_msg(rc == 0, "numpy refused the file: %s", out);
}

START_TEST(streamed_rows_load_in_numpy_with_shape_and_values)
{
	const int chunks[] = { 5, 0, 7, 1 };
	int64_t rows = write_chunks(3, chunks, 4);
	ck_assert_int_eq(rows, 13);
	check_header(13, 3);
	check_with_numpy(13, 3);
}
END_TEST

START_TEST(zero_rows_give_an_empty_matrix_numpy_loads)
{
	int64_t rows = write_chunks(17, NULL, 0);
	check_header(rows, 17);
	check_with_numpy(0, 17);
}
END_TEST

START_TEST(many_rows_wide_matrix_streams_without_moving_data)
{
	const int chunks[] = { 1000, 1000, 345 };
	write_chunks(129, chunks, 3);
	check_header(2345, 129);
	check_with_numpy(2345, 129);
}
END_TEST

START_TEST(abort_leaves_previous_file)
{
	char err[256];
	const int chunks[] = { 2 };
	write_chunks(4, chunks, 1);
	gf_npy_t *w = gf_npy_open(path, 9, err, sizeof(err));
	ck_assert_ptr_nonnull(w);
	float row[9] = { 0 };
	ck_assert_int_eq(gf_npy_write(w, row, 1, err, sizeof(err)), 0);
	gf_npy_abort(w);
	check_header(2, 4);
}
END_TEST

/* Streams 1000 rows of 64 floats under a 64 KiB file limit: a write fails,
 * the error names the file, and commit refuses too. */
static int write_past_limit(void *arg, char *err, size_t errlen)
{
	float row[64] = { 0 };
	int failed_at = -1;
	gf_npy_t *w = gf_npy_open(path, 64, err, errlen);
	(void)arg;
	if (!w) return 1;
	for (int r = 0; r < 1000 && failed_at < 0; r++)
		if (gf_npy_write(w, row, 1, err, errlen)) failed_at = r;
	char cerr[512];
	int crc = gf_npy_commit(w, cerr, sizeof(cerr));
	return failed_at > 0 && crc == -1 && !strcmp(cerr, err) ? 0 : 2;
}

START_TEST(failed_write_is_reported_and_keeps_previous_file)
{
	char msg[1024], want[256];
	const int chunks[] = { 3 };
	write_chunks(2, chunks, 1);
	ck_assert_msg(tu_with_file_limit(65536, write_past_limit, NULL, msg, sizeof(msg)) == 0,
	              "write past the limit not reported: '%s'", msg);
	snprintf(want, sizeof(want), "%s: write failed: %s", path, strerror(EFBIG));
	ck_assert_str_eq(msg, want);
	check_header(3, 2);
}
END_TEST

START_TEST(zero_columns_refused)
{
	char err[256];
	ck_assert_ptr_null(gf_npy_open(path, 0, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_int_eq(access(path, F_OK), -1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("npy");
	TCase *t = tcase_create("npy");
	tcase_add_checked_fixture(t, scratch_setup, scratch_teardown);
	tcase_add_test(t, streamed_rows_load_in_numpy_with_shape_and_values);
	tcase_add_test(t, zero_rows_give_an_empty_matrix_numpy_loads);
	tcase_add_test(t, many_rows_wide_matrix_streams_without_moving_data);
	tcase_add_test(t, abort_leaves_previous_file);
	tcase_add_test(t, failed_write_is_reported_and_keeps_previous_file);
	tcase_add_test(t, zero_columns_refused);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return tu_run_suite(suite());
}
