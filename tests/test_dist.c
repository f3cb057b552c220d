/* src/dist: collectives and the one-process fallback. The suite runs as one
 * process in `make check`; tests/cli/t_mpi.sh also runs it under
 * `mpirun -np 2` (CK_FORK=no), where every expectation below is computed from
 * the rank and size, so the same tests check real MPI collectives. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/dist.h"
#include "tests/testutil.h"

/* The first of two variables that is set (mpirun's, srun's), else dflt. */
static int env_int(const char *name, const char *name2, int dflt)
{
	const char *v = getenv(name);
	if (!v) v = getenv(name2);
	return v ? atoi(v) : dflt;
}

START_TEST(rank_and_size_are_the_launchers_or_0_of_1)
{
	int size = gf_dist_init(NULL, NULL);
	int launched = getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK");
	int want_size = gf_dist_has_mpi() && launched ? env_int("OMPI_COMM_WORLD_SIZE", "SLURM_NTASKS", 1) : 1;
	int want_rank = gf_dist_has_mpi() && launched ? env_int("OMPI_COMM_WORLD_RANK", "PMIX_RANK", 0) : 0;
	/* 2 ranks on one node: each knows its place there (src/gpu.c picks its GPU from it) */
	ck_assert_int_eq(gf_dist_local_rank(),
	                 want_size > 1 ? env_int("OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", 0) : -1);
	ck_assert_int_eq(size, want_size);
	ck_assert_int_eq(gf_dist_size(), want_size);
	ck_assert_int_eq(gf_dist_rank(), want_rank);
	ck_assert_int_eq(gf_dist_init(NULL, NULL), want_size); /* a second call changes nothing */
}
END_TEST

/* An odd length checks that no element is left out of the reduction. */
START_TEST(allreduce_mean_averages_every_element_over_the_ranks)
{
	enum { N = 1001 };
	float *buf = malloc(N * sizeof *buf);
	int size = gf_dist_init(NULL, NULL), rank = gf_dist_rank();
	for (int i = 0; i < N; i++) buf[i] = (float)(rank * 1000 + i);
	gf_dist_allreduce_mean(buf, N);
	/* mean of rank*1000 over the ranks is (size-1)*500; relative 1e-6 for 1/size rounding */
	for (int i = 0; i < N; i++) {
		double want = (size - 1) * 500.0 + i;
		ck_assert_msg(fabs(buf[i] - want) <= 1e-6 * fabs(want), "buf[%d] = %.9g, want %.9g", i, buf[i], want);
	}
	free(buf);
}
END_TEST

START_TEST(broadcast_gives_every_rank_the_roots_floats_and_bytes)
{
	int size = gf_dist_init(NULL, NULL), rank = gf_dist_rank(), root = size - 1;
	float f[33];
	char s[40];
	for (int i = 0; i < 33; i++) f[i] = (float)(rank * 100 + i) + 0.5f;
	snprintf(s, sizeof s, "rank %d speaks", rank);
	gf_dist_bcast(f, 33, root);
	gf_dist_bcast_bytes(s, sizeof s, root);
	for (int i = 0; i < 33; i++) ck_assert_float_eq(f[i], (float)(root * 100 + i) + 0.5f);
	char want[40];
	snprintf(want, sizeof want, "rank %d speaks", root);
	ck_assert_str_eq(s, want);
	gf_dist_barrier();
}
END_TEST

START_TEST(any_is_true_when_one_rank_raises_its_flag)
{
	int size = gf_dist_init(NULL, NULL), rank = gf_dist_rank();
	ck_assert_int_eq(gf_dist_any(rank == size - 1), 1);
	ck_assert_int_eq(gf_dist_any(0), 0);
	ck_assert_int_eq(gf_dist_any(rank == 0 ? 7 : 0), 1);
}
END_TEST

static rf_model_t *tiny_model(void)
{
	rf_config_t c;
	char err[256] = "";
	rf_config_default(&c);
	c.vocab = 8;
	c.d_model = 8;
	c.n_heads = 2;
	c.d_ff = 16;
	c.n_layers = 1;
	c.chunk_len = 8;
	c.ff_chunk = 16;
	c.axial1 = 4;
	c.axial2 = 4;
	c.axial_d1 = 4;
	c.n_classes = 2;
	rf_model_t *m = rf_model_create(&c, rf_backend_cpu(), err, sizeof err);
	ck_assert_msg(m != NULL, "%s", err);
	return m;
}

START_TEST(model_params_come_from_rank_0_and_gradients_are_averaged)
{
	int size = gf_dist_init(NULL, NULL), rank = gf_dist_rank();
	rf_model_t *m = tiny_model(), *ref = tiny_model();
	size_t n = rf_model_n_params(m);
	float *got = malloc(n * sizeof *got), *want = malloc(n * sizeof *want);

	rf_model_init(m, 11 + (uint64_t)rank);
	rf_model_init(ref, 11);
	gf_dist_sync_params(m);
	rf_model_get_params(m, got);
	rf_model_get_params(ref, want);
	ck_assert_mem_eq(got, want, n * sizeof *got);

	for (size_t i = 0; i < n; i++) got[i] = (float)rank + 0.25f * (float)(i % 8);
	rf_model_backend(m)->upload(rf_model_grads(m), got, n * sizeof *got);
	gf_dist_average_grads(m);
	rf_model_get_grads(m, got);
	for (size_t i = 0; i < n; i++) want[i] = (float)(size - 1) / 2.0f + 0.25f * (float)(i % 8);
	ck_assert_close_arr(got, want, n, 1e-6, 1e-6);
	ck_assert(gf_dist_allreduce_seconds() >= 0.0);
	free(got);
	free(want);
	rf_model_free(m);
	rf_model_free(ref);
}
END_TEST

/* Runs only as one process: a child stops through gf_dist_abort. */
START_TEST(abort_prints_one_error_line_and_exits_with_the_code)
{
	if (gf_dist_init(NULL, NULL) > 1) return;
	int fd[2];
	char buf[256] = "";
	ck_assert_int_eq(pipe(fd), 0);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fd[1], 2);
		gf_dist_abort(3, "disk %s", "full");
	}
	close(fd[1]);
	ssize_t got = read(fd[0], buf, sizeof buf - 1);
	buf[got > 0 ? got : 0] = 0;
	close(fd[0]);
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 3);
	ck_assert_msg(strstr(buf, "error: disk full\n") != NULL, "stderr: %s", buf);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("dist");
	TCase *t = tcase_create("dist");
	tcase_add_test(t, rank_and_size_are_the_launchers_or_0_of_1);
	tcase_add_test(t, allreduce_mean_averages_every_element_over_the_ranks);
	tcase_add_test(t, broadcast_gives_every_rank_the_roots_floats_and_bytes);
	tcase_add_test(t, any_is_true_when_one_rank_raises_its_flag);
	tcase_add_test(t, model_params_come_from_rank_0_and_gradients_are_averaged);
	tcase_add_test(t, abort_prints_one_error_line_and_exits_with_the_code);
	suite_add_tcase(s, t);
	return s;
}

/* Under mpirun with CK_FORK=no MPI was started in this process: end it. */
int main(void)
{
	int rc = tu_run_suite(suite());
	gf_dist_finalize();
	return rc;
}
