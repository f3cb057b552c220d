/* Temporary file + rename. The stream is a fopencookie() stream over the
 * temporary's descriptor so that the errno of the first failing write is
 * kept: stdio alone only leaves an error flag, and by the time it is
 * checked errno has usually been overwritten. */
#include "model/atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

struct rf_afile {
	char *path, *tmp;
	int fd;
	int werr;      /* errno of the first failed write or seek, 0 if none */
	FILE *fp;
};

static ssize_t af_write(void *cookie, const char *buf, size_t n)
{
	rf_afile_t *f = cookie;
	size_t done = 0;
	if (f->werr) {
		errno = f->werr;
		return 0;
	}
	while (done < n) {
		ssize_t k = write(f->fd, buf + done, n - done);
		if (k < 0 && errno == EINTR) continue;
		if (k <= 0) {
			f->werr = k < 0 ? errno : ENOSPC;
			errno = f->werr;
			return done ? (ssize_t)done : 0;
		}
		done += (size_t)k;
	}
	return (ssize_t)n;
}

static int af_seek(void *cookie, off64_t *pos, int whence)
{
	rf_afile_t *f = cookie;
	off_t r = lseek(f->fd, (off_t)*pos, whence);
	if (r < 0) {
		if (!f->werr) f->werr = errno;
		return -1;
	}
	*pos = r;
	return 0;
}

/* The descriptor is closed by af_finish, which needs its fsync result. */
static int af_close(void *cookie)
{
	(void)cookie;
	return 0;
}

static void af_free(rf_afile_t *f)
{
	free(f->path);
	free(f->tmp);
	free(f);
}

/* mkstemp creates 0600; outputs get the usual 0666 minus umask. umask can
 * only be read by setting it, so it is restored at once. */
static mode_t af_mode(void)
{
	mode_t m = umask(022);
	umask(m);
	return 0666 & ~m;
}

rf_afile_t *rf_afile_open(const char *path, char *err, size_t errlen)
{
	rf_afile_t *f = calloc(1, sizeof(*f));
	size_t n = strlen(path) + 64;
	if (!f || !(f->path = strdup(path)) || !(f->tmp = malloc(n))) {
		snprintf(err, errlen, "%s: cannot create: out of memory", path);
		if (f) af_free(f);
		return NULL;
	}
	snprintf(f->tmp, n, "%s.tmp.%ld.XXXXXX", path, (long)getpid());
	f->fd = mkstemp(f->tmp);
	if (f->fd < 0) {
		snprintf(err, errlen, "%s: cannot create a temporary file next to it: %s", path, strerror(errno));
		af_free(f);
		return NULL;
	}
	cookie_io_functions_t io = { .read = NULL, .write = af_write, .seek = af_seek, .close = af_close };
	if (fchmod(f->fd, af_mode()) != 0 || !(f->fp = fopencookie(f, "w", io))) {
		snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
		close(f->fd);
		unlink(f->tmp);
		af_free(f);
		return NULL;
	}
	setvbuf(f->fp, NULL, _IOFBF, 1 << 16);
	return f;
}

FILE *rf_afile_fp(rf_afile_t *f)
{
	return f->fp;
}

const char *rf_afile_path(const rf_afile_t *f)
{
	return f->path;
}

int rf_afile_check(const rf_afile_t *f, char *err, size_t errlen)
{
	if (!f->werr && !ferror(f->fp)) return 0;
	snprintf(err, errlen, "%s: write failed: %s", f->path, strerror(f->werr ? f->werr : EIO));
	return -1;
}

/* Syncs the directory holding path so that the rename itself is durable.
 * Filesystems that cannot sync a directory say EINVAL; that is not an error. */
static int af_sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	int fd, rc = 0;
	if (!dir) return ENOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	free(dir);
	if (fd < 0) return errno;
	if (fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP) rc = errno;
	close(fd);
	return rc;
}

int rf_afile_commit(rf_afile_t *f, char *err, size_t errlen)
{
	const char *what = "write failed";
	int e = 0;
	if (fflush(f->fp) != 0 || f->werr || ferror(f->fp)) e = f->werr ? f->werr : EIO;
	fclose(f->fp);
	if (!e && fsync(f->fd) != 0) e = errno;
	if (close(f->fd) != 0 && !e) e = errno;
	if (!e && rename(f->tmp, f->path) != 0) {
		e = errno;
		what = "cannot replace";
	}
	if (e) {
		snprintf(err, errlen, "%s: %s: %s", f->path, what, strerror(e));
		unlink(f->tmp);
		af_free(f);
		return -1;
	}
	e = af_sync_dir(f->path);
	if (e) snprintf(err, errlen, "%s: written, but syncing its directory failed: %s", f->path, strerror(e));
	af_free(f);
	return e ? -1 : 0;
}

void rf_afile_abort(rf_afile_t *f)
{
	if (!f) return;
	fclose(f->fp);
	close(f->fd);
	unlink(f->tmp);
	af_free(f);
}
