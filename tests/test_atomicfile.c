/* model/atomicfile, the output policy: devices, FIFOs and standard output
 * written in place and never replaced, regular files replaced through a
 * temporary keeping their mode and owner, links written through (or
 * refused for the tool's own names), the same-file guard, and no temporary
 * left by abort, exit or a signal. Device nodes are made with mknod in the
 * scratch folder (as root only), never in the real /dev. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model/atomicfile.h"
#include "tests/testutil.h"

static char dir[64];
static char path[128];

static void setup(void)
{
	/* /tmp, not /dev/shm: the device nodes must live outside /dev */
	snprintf(dir, sizeof dir, "/tmp/gf_afile_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/out.tsv", dir);
	rf_afile_claims_reset();
}

static void teardown(void)
{
	rf_afile_claims_reset();
	tu_scratch_remove(dir);
}

static int temporaries_left(void)
{
	int n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) n += strstr(e->d_name, ".tmp.") != NULL;
	closedir(d);
	return n;
}

static void spill(const char *p, const char *s)
{
	FILE *fp = fopen(p, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(s, fp);
	ck_assert_int_eq(fclose(fp), 0);
}

static char *slurp(const char *p)
{
	static char buf[4096];
	FILE *fp = fopen(p, "r");
	ck_assert_ptr_nonnull(fp);
	size_t n = fread(buf, 1, sizeof buf - 1, fp);
	buf[n] = 0;
	fclose(fp);
	return buf;
}

static void write_and_commit(const char *p, const char *s)
{
	char err[512];
	rf_afile_t *f = rf_afile_open(p, err, sizeof err);
	ck_assert_msg(f != NULL, "%s", err);
	fputs(s, rf_afile_fp(f));
	ck_assert_msg(rf_afile_commit(f, err, sizeof err) == 0, "%s", err);
}

START_TEST(character_device_is_written_in_place_and_stays_a_device)
{
	char dev[160];
	struct stat st;
	if (geteuid() != 0) return; /* mknod needs root; CI runs as root */
	snprintf(dev, sizeof dev, "%s/null", dir);
	ck_assert_int_eq(mknod(dev, S_IFCHR | 0666, makedev(1, 3)), 0);
	char err[512];
	rf_afile_t *f = rf_afile_open(dev, err, sizeof err);
	ck_assert_msg(f != NULL, "%s", err);
	ck_assert_int_eq(rf_afile_in_place(f), 1);
	fputs("a table\n", rf_afile_fp(f));
	ck_assert_msg(rf_afile_commit(f, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(lstat(dev, &st), 0);
	ck_assert_msg(S_ISCHR(st.st_mode), "the device became mode %o", st.st_mode);
	ck_assert_int_eq(major(st.st_rdev), 1);
	ck_assert_int_eq(minor(st.st_rdev), 3);
	ck_assert_int_eq(temporaries_left(), 0);
}
END_TEST

START_TEST(block_device_is_refused)
{
	char dev[160], err[512];
	if (geteuid() != 0) return;
	snprintf(dev, sizeof dev, "%s/disk", dir);
	ck_assert_int_eq(mknod(dev, S_IFBLK | 0600, makedev(7, 200)), 0);
	ck_assert_ptr_null(rf_afile_open(dev, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "is a block device"));
}
END_TEST

START_TEST(fifo_is_written_in_place_and_read_by_its_reader)
{
	char fifo[160], err[512], got[64] = "";
	struct stat st;
	snprintf(fifo, sizeof fifo, "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	pid_t pid = fork();
	if (pid == 0) {
		rf_afile_t *f = rf_afile_open(fifo, err, sizeof err);
		if (!f || rf_afile_seekable(f)) _exit(1);
		fputs("through the fifo\n", rf_afile_fp(f));
		_exit(rf_afile_commit(f, err, sizeof err) ? 2 : 0);
	}
	int fd = open(fifo, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ssize_t n = read(fd, got, sizeof got - 1);
	close(fd);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_gt(n, 0);
	ck_assert_str_eq(got, "through the fifo\n");
	ck_assert_int_eq(lstat(fifo, &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
}
END_TEST

START_TEST(dash_is_standard_output_appended_not_replaced)
{
	char err[512];
	spill(path, "first\n");
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(path, O_WRONLY | O_APPEND);
		if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0) _exit(1);
		rf_afile_t *f = rf_afile_open("-", err, sizeof err);
		if (!f || strcmp(rf_afile_path(f), "standard output")) _exit(2);
		fputs("second\n", rf_afile_fp(f));
		_exit(rf_afile_commit(f, err, sizeof err) ? 3 : 0);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_str_eq(slurp(path), "first\nsecond\n");
}
END_TEST

START_TEST(regular_file_keeps_its_mode_and_owner)
{
	struct stat st;
	spill(path, "old\n");
	ck_assert_int_eq(chmod(path, 0604), 0);
	int root = geteuid() == 0;
	if (root) ck_assert_int_eq(chown(path, 4321, 4322), 0);
	write_and_commit(path, "new\n");
	ck_assert_str_eq(slurp(path), "new\n");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0604);
	if (root) {
		ck_assert_int_eq(st.st_uid, 4321);
		ck_assert_int_eq(st.st_gid, 4322);
	}
	ck_assert_int_eq(temporaries_left(), 0);
}
END_TEST

START_TEST(read_only_file_is_refused_as_the_shell_would)
{
	char err[512];
	if (geteuid() == 0) return; /* root may write anything */
	spill(path, "keep\n");
	ck_assert_int_eq(chmod(path, 0444), 0);
	ck_assert_ptr_null(rf_afile_open(path, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "Permission denied"));
	ck_assert_str_eq(slurp(path), "keep\n");
}
END_TEST

START_TEST(named_link_is_written_through_to_its_target)
{
	char target[160];
	struct stat st;
	snprintf(target, sizeof target, "%s/real.tsv", dir);
	spill(target, "old\n");
	ck_assert_int_eq(chmod(target, 0640), 0);
	ck_assert_int_eq(symlink("real.tsv", path), 0);
	write_and_commit(path, "new\n");
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert_msg(S_ISLNK(st.st_mode), "the link was replaced by a file");
	ck_assert_str_eq(slurp(target), "new\n");
	ck_assert_int_eq(stat(target, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0640);
	ck_assert_int_eq(temporaries_left(), 0);
}
END_TEST

START_TEST(own_name_refuses_a_planted_link)
{
	char target[160], err[512];
	snprintf(target, sizeof target, "%s/victim", dir);
	spill(target, "precious\n");
	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert_ptr_null(rf_afile_open_own(path, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "is a symbolic link"));
	ck_assert_str_eq(slurp(target), "precious\n");
}
END_TEST

START_TEST(dangling_link_is_refused)
{
	char err[512];
	ck_assert_int_eq(symlink("nowhere/x", path), 0);
	ck_assert_ptr_null(rf_afile_open(path, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "target does not exist"));
}
END_TEST

START_TEST(name_at_name_max_still_gets_a_temporary)
{
	char p[400], base[256];
	memset(base, 'n', 255);
	base[255] = 0;
	snprintf(p, sizeof p, "%s/%s", dir, base);
	write_and_commit(p, "long\n");
	ck_assert_str_eq(slurp(p), "long\n");
	ck_assert_int_eq(temporaries_left(), 0);
}
END_TEST

START_TEST(output_equal_to_an_input_is_refused_by_claim_and_open)
{
	char in[160], hard[160], err[512];
	snprintf(in, sizeof in, "%s/in.fa", dir);
	snprintf(hard, sizeof hard, "%s/hard.fa", dir);
	spill(in, ">r\nACGT\n");
	ck_assert_int_eq(link(in, hard), 0);
	ck_assert_int_eq(rf_afile_claim_input(in, err, sizeof err), 0);
	ck_assert_int_eq(rf_afile_claim_output(hard, err, sizeof err), -1);
	char want[512];
	snprintf(want, sizeof want, "%s: output is the same file as input %s; refusing to overwrite it", hard, in);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(rf_afile_open(hard, err, sizeof err));
	ck_assert_str_eq(err, want);
	ck_assert_str_eq(slurp(in), ">r\nACGT\n");
}
END_TEST

START_TEST(two_outputs_on_one_new_name_are_refused)
{
	char other[200], err[512];
	ck_assert_int_eq(rf_afile_claim_output(path, err, sizeof err), 0);
	/* the same file under another spelling, not yet existing */
	snprintf(other, sizeof other, "%s/./out.tsv", dir);
	ck_assert_int_eq(rf_afile_claim_output(other, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "same file as output"));
}
END_TEST

START_TEST(devices_may_be_named_twice)
{
	char fifo[160], err[512];
	snprintf(fifo, sizeof fifo, "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(rf_afile_claim_input(fifo, err, sizeof err), 0);
	ck_assert_int_eq(rf_afile_claim_output(fifo, err, sizeof err), 0);
	ck_assert_int_eq(rf_afile_claim_output(fifo, err, sizeof err), 0);
}
END_TEST

/* A child opens an output, writes, and is ended by sig (or exits). */
static void die_with_open_output(int sig)
{
	char err[512];
	pid_t pid = fork();
	if (pid == 0) {
		/* a fresh process's dispositions (Check's runner has its own) */
		if (sig) signal(sig, SIG_DFL);
		rf_afile_t *f = rf_afile_open(path, err, sizeof err);
		if (!f) _exit(1);
		fputs("half", rf_afile_fp(f));
		fflush(rf_afile_fp(f));
		if (sig) raise(sig);
		exit(3);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (sig) ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == sig, "child status %d", status);
	else ck_assert_int_eq(WEXITSTATUS(status), 3);
	ck_assert_int_eq(temporaries_left(), 0);
	ck_assert_int_ne(access(path, F_OK), 0);
}

START_TEST(no_temporary_left_by_a_signal_or_exit)
{
	die_with_open_output(SIGTERM);
	die_with_open_output(SIGINT);
	die_with_open_output(SIGHUP);
	die_with_open_output(SIGPIPE);
	die_with_open_output(0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("atomicfile");
	TCase *t = tcase_create("policy");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, character_device_is_written_in_place_and_stays_a_device);
	tcase_add_test(t, block_device_is_refused);
	tcase_add_test(t, fifo_is_written_in_place_and_read_by_its_reader);
	tcase_add_test(t, dash_is_standard_output_appended_not_replaced);
	tcase_add_test(t, regular_file_keeps_its_mode_and_owner);
	tcase_add_test(t, read_only_file_is_refused_as_the_shell_would);
	tcase_add_test(t, named_link_is_written_through_to_its_target);
	tcase_add_test(t, own_name_refuses_a_planted_link);
	tcase_add_test(t, dangling_link_is_refused);
	tcase_add_test(t, name_at_name_max_still_gets_a_temporary);
	tcase_add_test(t, output_equal_to_an_input_is_refused_by_claim_and_open);
	tcase_add_test(t, two_outputs_on_one_new_name_are_refused);
	tcase_add_test(t, devices_may_be_named_twice);
	tcase_add_test(t, no_temporary_left_by_a_signal_or_exit);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return tu_run_suite(suite());
}
