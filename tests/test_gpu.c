/* GPU choices that need no GPU: which code of a fat binary runs on which
 * generation (model/gpuarch), which device each rank takes (src/gpu), and
 * memory planned against the backend's own free-memory figure (src/memlimit
 * with a backend whose mem_info reports a small GPU). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/config.h"
#include "model/gpuarch.h"
#include "src/gpu.h"
#include "src/log.h"
#include "src/memlimit.h"
#include "tests/testutil.h"

#define FAT "75,80,86,89,90"

START_TEST(the_newest_machine_code_of_the_same_major_runs)
{
	rf_gpu_plan_t p;
	ck_assert_int_eq(rf_gpu_plan(90, FAT, 90, &p), 0);  /* H100 */
	ck_assert_int_eq(p.cubin, 90);
	ck_assert_int_eq(p.ptx, 0);
	ck_assert_int_eq(rf_gpu_plan(89, FAT, 90, &p), 0);  /* L4, L40, RTX 4090 */
	ck_assert_int_eq(p.cubin, 89);
	ck_assert_int_eq(rf_gpu_plan(87, FAT, 90, &p), 0);  /* Jetson Orin: sm_86 code runs on 8.7 */
	ck_assert_int_eq(p.cubin, 86);
	ck_assert_int_eq(rf_gpu_plan(80, "75,86", 86, &p), -1); /* sm_86 code does not run on 8.0, nor compute_86 PTX */
	char d[160];
	rf_gpu_plan_describe(80, "75,86", 86, &p, d, sizeof d);
	ck_assert_str_eq(d, "no code for sm_80 (built for sm_75,86 + PTX compute_86)");
}
END_TEST

START_TEST(newer_generations_compile_the_ptx_and_older_ones_are_refused)
{
	rf_gpu_plan_t p;
	char d[160];
	ck_assert_int_eq(rf_gpu_plan(100, FAT, 90, &p), 0); /* B200: PTX compute_90 compiled at start-up */
	ck_assert_int_eq(p.cubin, 0);
	ck_assert_int_eq(p.ptx, 90);
	rf_gpu_plan_describe(100, FAT, 90, &p, d, sizeof d);
	ck_assert_str_eq(d, "PTX compute_90 compiled at start-up");
	ck_assert_int_eq(rf_gpu_plan(120, FAT, 90, &p), 0); /* RTX 50xx */
	ck_assert_int_eq(p.ptx, 90);
	ck_assert_int_eq(rf_gpu_plan(70, FAT, 90, &p), -1); /* V100 with CUDA 13's default targets */
	rf_gpu_plan_describe(70, FAT, 90, &p, d, sizeof d);
	ck_assert_str_eq(d, "no code for sm_70 (built for sm_75,80,86,89,90 + PTX compute_90)");
	ck_assert_int_eq(rf_gpu_plan(70, "70,80", 0, &p), 0);
	ck_assert_int_eq(p.cubin, 70);
}
END_TEST

START_TEST(tensor_core_math_needs_sm_80)
{
	rf_gpu_plan_t p;
	rf_gpu_plan(75, FAT, 90, &p); /* T4, RTX 20xx: fp32 on the CUDA cores */
	ck_assert_int_eq(p.cubin, 75);
	ck_assert_int_eq(p.tensor_tf32, 0);
	rf_gpu_plan(80, FAT, 90, &p);
	ck_assert_int_eq(p.tensor_tf32, 1);
	rf_gpu_plan(120, FAT, 90, &p);
	ck_assert_int_eq(p.tensor_tf32, 1);
}
END_TEST

START_TEST(each_local_rank_takes_a_device_modulo_the_visible_ones)
{
	ck_assert_int_eq(gf_gpu_for_rank(0, 4), 0);
	ck_assert_int_eq(gf_gpu_for_rank(3, 4), 3);
	ck_assert_int_eq(gf_gpu_for_rank(5, 4), 1); /* more ranks than GPUs: they share, round robin */
	ck_assert_int_eq(gf_gpu_for_rank(1, 1), 0); /* 2 ranks on one GPU, or one GPU bound per task */
	ck_assert_int_eq(gf_gpu_for_rank(2, 0), 0);
}
END_TEST

START_TEST(the_local_rank_comes_from_the_launcher)
{
	const char *src;
	unsetenv("OMPI_COMM_WORLD_LOCAL_RANK");
	unsetenv("MPI_LOCALRANKID");
	unsetenv("SLURM_LOCALID");
	unsetenv("PMI_LOCAL_RANK");
	ck_assert_int_eq(gf_gpu_local_rank(&src), 0);
	ck_assert_str_eq(src, "a single process");
	setenv("SLURM_LOCALID", "3", 1);
	ck_assert_int_eq(gf_gpu_local_rank(&src), 3);
	ck_assert_str_eq(src, "SLURM_LOCALID");
	setenv("OMPI_COMM_WORLD_LOCAL_RANK", "1", 1); /* mpirun inside a SLURM job: mpirun's own numbering */
	ck_assert_int_eq(gf_gpu_local_rank(&src), 1);
	ck_assert_str_eq(src, "OMPI_COMM_WORLD_LOCAL_RANK");
	setenv("OMPI_COMM_WORLD_LOCAL_RANK", "1x", 1); /* not a number: ignored */
	ck_assert_int_eq(gf_gpu_local_rank(&src), 3);
}
END_TEST

START_TEST(cuda_takes_the_local_ranks_gpu_or_explains_why_it_cannot)
{
	char note[256] = "", err[256] = "";
	setenv("SLURM_LOCALID", "1", 1);
#ifdef RF_CUDA
	/* no GPU here: the message names the device the local rank would take or the missing GPU */
	ck_assert_ptr_null(gf_gpu_backend("cuda", note, sizeof note, err, sizeof err));
	ck_assert_msg(strstr(err, "cuda"), "%s", err);
#else
	ck_assert_ptr_null(gf_gpu_backend("cuda:1", note, sizeof note, err, sizeof err));
	ck_assert_str_eq(err, "--device cuda:1: built without CUDA: rebuild with make CUDA=1");
	ck_assert_ptr_eq(gf_gpu_backend("auto", note, sizeof note, err, sizeof err), rf_backend_cpu());
	ck_assert_str_eq(note, "");
#endif
	ck_assert_ptr_eq(gf_gpu_backend("cpu", note, sizeof note, err, sizeof err), rf_backend_cpu());
}
END_TEST

/* A backend that computes like the CPU one but reports the free memory of
 * a small GPU, as cudaMemGetInfo would. */
static size_t fake_free;

static void fake_mem_info(size_t *free_bytes, size_t *total_bytes)
{
	*free_bytes = fake_free;
	*total_bytes = 2 * fake_free;
}

static rf_backend_t fake_gpu(size_t free_bytes)
{
	rf_backend_t be = *rf_backend_cpu();
	be.name = "cuda";
	be.mem_info = fake_mem_info;
	fake_free = free_bytes;
	return be;
}

/* Runs the check with stderr in err (the one line it prints). */
static int check_capturing(const rf_backend_t *be, int B, int L, int train, size_t held, char *err, size_t len)
{
	rf_config_t cfg;
	rf_config_default(&cfg);
	char path[] = "/tmp/gf_gpu_errXXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	FILE *saved = stderr;
	stderr = fdopen(fd, "w+");
	int rc = gf_mem_check_model(&cfg, be, B, 1, L, train, 0, held);
	fflush(stderr);
	rewind(stderr);
	size_t n = fread(err, 1, len - 1, stderr);
	err[n] = 0;
	fclose(stderr);
	stderr = saved;
	unlink(path);
	return rc;
}

START_TEST(a_window_too_large_for_the_gpu_is_refused_with_the_largest_that_fits)
{
	unsetenv("GF_MEMORY_LIMIT");
	gf_log_init("classify", 0, NULL);
	rf_backend_t gpu = fake_gpu(64u << 20);
	char err[512];
	ck_assert_int_eq(check_capturing(&gpu, 8, 1 << 20, 0, 0, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "[classify] error: window of 1048576 tokens x batch 8 needs ") &&
	                  strstr(err, ", 64.0 MiB available on cuda; the largest window that fits is L="),
	              "%s", err);
	/* the window it names fits, and one more token does not */
	int fit = atoi(strstr(err, "L=") + 2);
	ck_assert_int_gt(fit, 0);
	ck_assert_int_eq(check_capturing(&gpu, 8, fit, 0, 0, err, sizeof err), 0);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(check_capturing(&gpu, 8, fit + 1, 0, 0, err, sizeof err), -1);
	/* training needs more than inference at the same window */
	ck_assert_int_eq(check_capturing(&gpu, 8, fit, 1, 0, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "available on cuda"), "%s", err);
}
END_TEST

START_TEST(gpu_memory_counts_what_the_model_holds_and_obeys_gf_memory_limit)
{
	unsetenv("GF_MEMORY_LIMIT");
	gf_log_init("train", 0, NULL);
	rf_backend_t gpu = fake_gpu(64u << 20);
	char err[512];
	ck_assert_int_eq(check_capturing(&gpu, 8, 1 << 20, 0, 0, err, sizeof err), -1);
	int fit = atoi(strstr(err, "L=") + 2);
	fake_free = 32u << 20; /* the loaded model took 32 MiB of the 64 */
	ck_assert_int_eq(check_capturing(&gpu, 8, fit, 0, 32u << 20, err, sizeof err), 0);
	fake_free = 64u << 20;
	setenv("GF_MEMORY_LIMIT", "16M", 1); /* caps the GPU's figure too */
	ck_assert_int_eq(check_capturing(&gpu, 8, fit, 0, 0, err, sizeof err), -1);
	ck_assert_msg(strstr(err, ", 16.0 MiB available on cuda;"), "%s", err);
	unsetenv("GF_MEMORY_LIMIT");
}
END_TEST

START_TEST(the_dry_run_reports_what_it_planned_on_the_gpu)
{
	unsetenv("GF_MEMORY_LIMIT");
	gf_log_init("train", 0, NULL);
	rf_backend_t gpu = fake_gpu((size_t)8 << 30);
	char err[512];
	gf_mem_report(1);
	ck_assert_int_eq(check_capturing(&gpu, 4, 512, 1, 0, err, sizeof err), 0);
	gf_mem_report(0);
	ck_assert_msg(strstr(err, "[train] memory: a window of 512 tokens x batch 4 needs ") &&
	                  strstr(err, ", 8.0 GiB available on cuda\n"),
	              "%s", err);
}
END_TEST

START_TEST(the_cpu_backend_reports_the_hosts_memory)
{
	size_t free_b = 0, total_b = 0;
	rf_backend_cpu()->mem_info(&free_b, &total_b);
	ck_assert_uint_gt(free_b, 0);
	ck_assert_uint_lt(total_b, SIZE_MAX); /* MemTotal */
	ck_assert_uint_le(free_b, total_b);   /* MemAvailable, or less under a cgroup or rlimit */
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("gpu");
	TCase *t = tcase_create("gpu");
	tcase_add_test(t, the_newest_machine_code_of_the_same_major_runs);
	tcase_add_test(t, newer_generations_compile_the_ptx_and_older_ones_are_refused);
	tcase_add_test(t, tensor_core_math_needs_sm_80);
	tcase_add_test(t, each_local_rank_takes_a_device_modulo_the_visible_ones);
	tcase_add_test(t, the_local_rank_comes_from_the_launcher);
	tcase_add_test(t, cuda_takes_the_local_ranks_gpu_or_explains_why_it_cannot);
	tcase_add_test(t, a_window_too_large_for_the_gpu_is_refused_with_the_largest_that_fits);
	tcase_add_test(t, gpu_memory_counts_what_the_model_holds_and_obeys_gf_memory_limit);
	tcase_add_test(t, the_dry_run_reports_what_it_planned_on_the_gpu);
	tcase_add_test(t, the_cpu_backend_reports_the_hosts_memory);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return tu_run_suite(suite());
}
