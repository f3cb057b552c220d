/* Claims and the training lock; see files.h. */
#include "src/files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/atomicfile.h"
#include "src/common.h"
#include "src/log.h"

int gf_files_claim(const char *const *inputs, int n_inputs, const char *const *outputs, int n_outputs)
{
	char err[GF_ERRLEN];
	int rc = 0;
	for (int i = 0; !rc && i < n_inputs; i++) rc = rf_afile_claim_input(inputs[i], err, sizeof err);
	for (int i = 0; !rc && i < n_outputs; i++) rc = rf_afile_claim_output(outputs[i], err, sizeof err);
	if (rc) gf_error("%s", err);
	return rc ? -1 : 0;
}

FILE *gf_files_open_own_stream(const char *path)
{
	struct stat st;
	FILE *fp = NULL;
	int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0666);
	if (fd < 0 && errno == ELOOP)
		gf_error("%s: is a symbolic link; genoformer does not follow links for the files it names itself", path);
	else if (fd < 0)
		gf_error("%s: cannot create: %s", path, strerror(errno));
	else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		gf_error("%s: is not a regular file; not writing into it", path);
	else if (ftruncate(fd, 0) != 0 || !(fp = fdopen(fd, "w")))
		gf_error("%s: cannot write: %s", path, strerror(errno));
	if (!fp && fd >= 0) close(fd);
	return fp;
}

static int lock_fd = -1;
static char *lock_path;

/* "pid N on HOST" from the lock file, for the message. */
static void lock_holder(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	if (!*buf) snprintf(buf, len, "unknown process");
}

int gf_files_lock(const char *out)
{
	size_t n = strlen(out) + 6;
	if (!(lock_path = malloc(n))) {
		gf_error("out of memory");
		return -1;
	}
	snprintf(lock_path, n, "%s.lock", out);
	for (;;) {
		struct stat a, b;
		int fd = open(lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd < 0) {
			gf_error("%s: cannot create the lock: %s", lock_path, strerror(errno));
			break;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			char who[128];
			int e = errno;
			if (e == EWOULDBLOCK) {
				lock_holder(fd, who, sizeof who);
				gf_error("%s: another run (%s) is writing it (it holds %s); wait for it to end or choose another -o",
				         out, who, lock_path);
			} else {
				gf_error("%s: cannot lock: %s", lock_path, strerror(e));
			}
			close(fd);
			break;
		}
		/* the last holder removes the file as it leaves: a lock on a
		 * removed file locks nothing, so take the new one */
		if (fstat(fd, &a) != 0 || stat(lock_path, &b) != 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
			close(fd);
			continue;
		}
		char host[64] = "", line[128];
		gethostname(host, sizeof host - 1);
		int len = snprintf(line, sizeof line, "pid %ld on %s\n", (long)getpid(), host);
		/* the note only serves a second run's message; the lock holds without it */
		if (ftruncate(fd, 0) == 0) (void)!pwrite(fd, line, (size_t)len, 0);
		lock_fd = fd;
		return 0;
	}
	free(lock_path);
	lock_path = NULL;
	return -1;
}

void gf_files_unlock(void)
{
	if (lock_fd < 0) return;
	unlink(lock_path);
	close(lock_fd);
	lock_fd = -1;
	free(lock_path);
	lock_path = NULL;
}
