/* The output policy of atomicfile.h. The stream is a fopencookie() stream
 * over a descriptor so that the errno of the first failing write is kept:
 * stdio alone only leaves an error flag, and by the time it is checked
 * errno has usually been overwritten. */
#include "model/atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* Live temporaries, as names in fixed slots: a signal handler can walk
 * them without touching the heap. An output beyond the slots still gets its
 * temporary removed by commit and abort, only not by a signal. */
#define AF_SLOTS 16
static char af_live[AF_SLOTS][PATH_MAX];
static volatile sig_atomic_t af_used[AF_SLOTS];

struct rf_afile {
	char *path;    /* as given ("standard output" for "-") */
	char *target;  /* the file renamed over: path, or a symbolic link's target */
	char *tmp;     /* NULL when written in place */
	int slot;      /* index in af_live, -1 if untracked */
	int fd;
	int werr;      /* errno of the first failed write or seek, 0 if none */
	int seekable;
	FILE *fp;
};

void rf_afile_remove_temporaries(void)
{
	for (int i = 0; i < AF_SLOTS; i++)
		if (af_used[i]) unlink(af_live[i]);
}

static void af_on_signal(int sig)
{
	rf_afile_remove_temporaries();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void af_at_exit(void)
{
	rf_afile_remove_temporaries();
}

/* Once per process: the cleanup handler for the signals still at their
 * default action (a module with its own handler, such as training's
 * preemption, calls rf_afile_remove_temporaries itself), and SIGXFSZ
 * ignored so that exceeding a file-size limit is a write error with a
 * message, not a silent death. */
static void af_install(void)
{
	static int done;
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGALRM };
	if (done) return;
	done = 1;
	atexit(af_at_exit);
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
		struct sigaction old;
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL) signal(sigs[i], af_on_signal);
	}
	struct sigaction old;
	if (sigaction(SIGXFSZ, NULL, &old) == 0 && old.sa_handler == SIG_DFL) signal(SIGXFSZ, SIG_IGN);
}

static void af_track(rf_afile_t *f)
{
	f->slot = -1;
	if (strlen(f->tmp) >= PATH_MAX) return;
	for (int i = 0; i < AF_SLOTS; i++)
		if (!af_used[i]) {
			strcpy(af_live[i], f->tmp);
			af_used[i] = 1;
			f->slot = i;
			return;
		}
}

static void af_untrack(rf_afile_t *f)
{
	if (f->slot >= 0) af_used[f->slot] = 0;
	f->slot = -1;
}

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

/* The descriptor is closed by commit/abort, which need its fsync result. */
static int af_close(void *cookie)
{
	(void)cookie;
	return 0;
}

static void af_free(rf_afile_t *f)
{
	af_untrack(f);
	free(f->path);
	free(f->target);
	free(f->tmp);
	free(f);
}

/* mkstemp creates 0600; new outputs get the usual 0666 minus umask. umask
 * can only be read by setting it, so it is restored at once. */
static mode_t af_mode(void)
{
	mode_t m = umask(022);
	umask(m);
	return 0666 & ~m;
}

/* ---- same-file guard ---- */

typedef struct {
	dev_t dev;
	ino_t ino;
	int has_id;    /* dev/ino hold an existing regular file */
	int output;
	char *name;    /* as the user gave it */
	char *canon;   /* outputs: the absolute name, to catch two outputs on one new file */
} af_claim_t;

static af_claim_t *claims;
static int n_claims;

void rf_afile_claims_reset(void)
{
	for (int i = 0; i < n_claims; i++) {
		free(claims[i].name);
		free(claims[i].canon);
	}
	free(claims);
	claims = NULL;
	n_claims = 0;
}

/* The absolute name of path, whether or not the file exists yet; NULL
 * when its directory does not exist (opening it will say so). */
static char *af_canon(const char *path)
{
	char *r = realpath(path, NULL);
	if (r || errno != ENOENT) return r;
	char *d = strdup(path), *b = strdup(path), *out = NULL;
	if (d && b) {
		char *dir = realpath(dirname(d), NULL);
		const char *base = basename(b);
		if (dir && (out = malloc(strlen(dir) + strlen(base) + 2))) sprintf(out, "%s/%s", dir, base);
		free(dir);
	}
	free(d);
	free(b);
	return out;
}

static int af_add_claim(const struct stat *st, int output, const char *name, char *canon)
{
	af_claim_t *c = realloc(claims, (n_claims + 1) * sizeof *c);
	if (!c) return -1;
	claims = c;
	c += n_claims;
	memset(c, 0, sizeof *c);
	if (st) {
		c->dev = st->st_dev;
		c->ino = st->st_ino;
		c->has_id = 1;
	}
	c->output = output;
	c->canon = canon;
	if (!(c->name = strdup(name))) return -1;
	n_claims++;
	return 0;
}

/* The claim that st (and canon) is the same file as, or NULL; inputs only
 * unless outputs too. */
static const af_claim_t *af_find(const struct stat *st, const char *canon, int outputs)
{
	for (int i = 0; i < n_claims; i++) {
		const af_claim_t *c = &claims[i];
		if (c->output && !outputs) continue;
		if (st && c->has_id && c->dev == st->st_dev && c->ino == st->st_ino) return c;
		if (canon && c->canon && !strcmp(canon, c->canon)) return c;
	}
	return NULL;
}

static int af_refuse(const char *path, const af_claim_t *c, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: output is the same file as %s %s; refusing to overwrite it", path,
	         c->output ? "output" : "input", c->name);
	return -1;
}

int rf_afile_claim_input(const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (!path || !strcmp(path, "-") || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
	if (af_add_claim(&st, 0, path, NULL) == 0) return 0;
	snprintf(err, errlen, "%s: out of memory", path);
	return -1;
}

int rf_afile_claim_output(const char *path, char *err, size_t errlen)
{
	struct stat st;
	const af_claim_t *c;
	if (!path || !strcmp(path, "-")) {
		if (fstat(STDOUT_FILENO, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
		if ((c = af_find(&st, NULL, 1))) return af_refuse("standard output", c, err, errlen);
		path = "standard output";
		if (af_add_claim(&st, 1, path, NULL) == 0) return 0;
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	int exists = stat(path, &st) == 0;
	if (exists && !S_ISREG(st.st_mode)) return 0;
	char *canon = af_canon(path);
	if ((c = af_find(exists ? &st : NULL, canon, 1))) {
		free(canon);
		return af_refuse(path, c, err, errlen);
	}
	if (af_add_claim(exists ? &st : NULL, 1, path, canon) == 0) return 0;
	snprintf(err, errlen, "%s: out of memory", path);
	return -1;
}

/* ---- opening ---- */

static rf_afile_t *af_fail(rf_afile_t *f, char *err, size_t errlen, const char *fmt, const char *why)
{
	snprintf(err, errlen, fmt, f->path, why);
	if (f->fd >= 0) close(f->fd);
	if (f->tmp && f->fd >= 0) unlink(f->tmp);
	af_free(f);
	return NULL;
}

/* Writes in place on an open descriptor (standard output, a device, a FIFO). */
static rf_afile_t *af_direct(rf_afile_t *f, int fd, char *err, size_t errlen)
{
	f->fd = fd;
	if (fd < 0) return af_fail(f, err, errlen, "%s: cannot write: %s", strerror(errno));
	f->seekable = lseek(fd, 0, SEEK_CUR) >= 0;
	return f;
}

/* The replaced file's owner and group, as far as the system lets us: the
 * owner needs root, the group membership; otherwise the new file is ours,
 * as with cp or sed -i. */
static void af_keep_owner(int fd, const struct stat *st)
{
	if (fchown(fd, st->st_uid, st->st_gid) != 0) (void)!fchown(fd, (uid_t)-1, st->st_gid);
}

/* A temporary beside target, with the mode and owner of the file it will
 * replace (st, or NULL for a new file). Its name starts with a dot and
 * keeps at most 200 bytes of the target's, so a name near NAME_MAX still
 * has room for the suffix. */
static rf_afile_t *af_temporary(rf_afile_t *f, const struct stat *st, char *err, size_t errlen)
{
	char *d = strdup(f->target), *b = strdup(f->target);
	if (d && b && (f->tmp = malloc(strlen(f->target) + 64)))
		sprintf(f->tmp, "%s/.%.200s.tmp.%ld.XXXXXX", dirname(d), basename(b), (long)getpid());
	free(d);
	free(b);
	if (!f->tmp) return af_fail(f, err, errlen, "%s: cannot create: %s", strerror(ENOMEM));
	f->fd = mkstemp(f->tmp);
	if (f->fd < 0) return af_fail(f, err, errlen, "%s: cannot create a temporary file next to it: %s", strerror(errno));
	af_track(f);
	if (st) af_keep_owner(f->fd, st);
	if (fchmod(f->fd, st ? st->st_mode & 07777 : af_mode()) != 0)
		return af_fail(f, err, errlen, "%s: cannot create: %s", strerror(errno));
	f->seekable = 1;
	return f;
}

/* An existing file at target (st: its status, after any link): written in
 * place, through standard output, or replaced through a temporary. */
static rf_afile_t *af_existing(rf_afile_t *f, const struct stat *st, char *err, size_t errlen)
{
	struct stat out;
	const af_claim_t *c;
	if (S_ISDIR(st->st_mode)) return af_fail(f, err, errlen, "%s: cannot write: %s", strerror(EISDIR));
	if (S_ISBLK(st->st_mode)) return af_fail(f, err, errlen, "%s: %s", "is a block device; not writing onto a disk");
	if (S_ISSOCK(st->st_mode)) return af_fail(f, err, errlen, "%s: %s", "is a socket; cannot write to it");
	if (!S_ISREG(st->st_mode)) return af_direct(f, open(f->target, O_WRONLY | O_NOCTTY | O_CLOEXEC), err, errlen);
	if ((c = af_find(st, NULL, 0))) {
		af_refuse(f->path, c, err, errlen);
		af_free(f);
		return NULL;
	}
	if (fstat(STDOUT_FILENO, &out) == 0 && S_ISREG(out.st_mode) && out.st_dev == st->st_dev && out.st_ino == st->st_ino)
		return af_direct(f, fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3), err, errlen);
	if (access(f->target, W_OK) != 0) return af_fail(f, err, errlen, "%s: cannot write: %s", strerror(errno));
	return af_temporary(f, st, err, errlen);
}

static rf_afile_t *af_open(const char *path, int own, char *err, size_t errlen)
{
	struct stat st;
	rf_afile_t *f = calloc(1, sizeof(*f));
	int is_stdout = !strcmp(path, "-");
	if (!f || !(f->path = strdup(is_stdout ? "standard output" : path)) || !(f->target = strdup(path))) {
		snprintf(err, errlen, "%s: cannot create: out of memory", path);
		if (f) af_free(f);
		return NULL;
	}
	f->fd = -1;
	f->slot = -1;
	af_install();
	if (is_stdout)
		f = af_direct(f, fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3), err, errlen);
	else if (lstat(path, &st) != 0)
		f = errno == ENOENT ? af_temporary(f, NULL, err, errlen) : af_fail(f, err, errlen, "%s: cannot write: %s", strerror(errno));
	else if (!S_ISLNK(st.st_mode))
		f = af_existing(f, &st, err, errlen);
	else if (own)
		f = af_fail(f, err, errlen, "%s: %s", "is a symbolic link; genoformer does not follow links for the files it names itself");
	else if (stat(path, &st) != 0)
		f = af_fail(f, err, errlen, "%s: %s", "is a symbolic link whose target does not exist; not created");
	else if (!S_ISREG(st.st_mode))
		f = af_existing(f, &st, err, errlen); /* /dev/stdout, /dev/fd/N: a pipe has no name to resolve */
	else {
		free(f->target);
		f->target = realpath(path, NULL);
		f = f->target ? af_existing(f, &st, err, errlen) : af_fail(f, err, errlen, "%s: cannot write: %s", strerror(errno));
	}
	if (!f) return NULL;
	cookie_io_functions_t io = { .read = NULL, .write = af_write, .seek = af_seek, .close = af_close };
	if (!(f->fp = fopencookie(f, "w", io))) return af_fail(f, err, errlen, "%s: cannot create: %s", strerror(errno));
	setvbuf(f->fp, NULL, _IOFBF, 1 << 16);
	return f;
}

rf_afile_t *rf_afile_open(const char *path, char *err, size_t errlen)
{
	return af_open(path, 0, err, errlen);
}

rf_afile_t *rf_afile_open_own(const char *path, char *err, size_t errlen)
{
	return af_open(path, 1, err, errlen);
}

FILE *rf_afile_fp(rf_afile_t *f)
{
	return f->fp;
}

int rf_afile_fd(const rf_afile_t *f)
{
	return f->fd;
}

const char *rf_afile_path(const rf_afile_t *f)
{
	return f->path;
}

int rf_afile_seekable(const rf_afile_t *f)
{
	return f->seekable;
}

int rf_afile_in_place(const rf_afile_t *f)
{
	return !f->tmp;
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
	if (!e && f->tmp && fsync(f->fd) != 0) e = errno;
	if (close(f->fd) != 0 && !e) e = errno;
	if (!e && f->tmp && rename(f->tmp, f->target) != 0) {
		e = errno;
		what = "cannot replace";
	}
	if (e) {
		snprintf(err, errlen, "%s: %s: %s", f->path, what, strerror(e));
		if (f->tmp) unlink(f->tmp);
		af_free(f);
		return -1;
	}
	if (f->tmp && (e = af_sync_dir(f->target)))
		snprintf(err, errlen, "%s: written, but syncing its directory failed: %s", f->path, strerror(e));
	af_free(f);
	return e ? -1 : 0;
}

void rf_afile_abort(rf_afile_t *f)
{
	if (!f) return;
	fclose(f->fp);
	close(f->fd);
	if (f->tmp) unlink(f->tmp);
	af_free(f);
}
