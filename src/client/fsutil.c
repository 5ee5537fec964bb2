/* Local files (see fsutil.h). Untrusted input: none, but files may be
 * truncated, oversized or of the wrong type, and every such case is an
 * error rather than a crash. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "fsutil.h"

void *smc_secret_alloc(size_t len)
{
	void *p = sodium_malloc(len == 0 ? 1 : len);

	if (p != NULL)
		sodium_memzero(p, len == 0 ? 1 : len);
	return p;
}

void smc_secret_free(void *p)
{
	sodium_free(p); /* wipes, and accepts NULL */
}

bool smc_path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int smc_file_read(const char *path, size_t max, bool secret, char **out,
		  size_t *out_len, bool *missing, struct smc_err *e)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, rc = -1;

	*out = NULL;
	*out_len = 0;
	if (missing != NULL)
		*missing = false;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT) {
			if (missing != NULL)
				*missing = true;
			return smc_fail(e, SMC_EXIT_NOINPUT, "%s: no such file",
					path);
		}
		return smc_fail(e, SMC_EXIT_IOERR, "cannot open %s: %s", path,
				strerror(errno));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		smc_fail(e, SMC_EXIT_IOERR, "%s is not a regular file", path);
		goto out;
	}
	if ((unsigned long long)st.st_size > max) {
		smc_fail(e, SMC_EXIT_DATAERR,
			 "%s is larger than %zu bytes", path, max);
		goto out;
	}
	buf = secret ? smc_secret_alloc(max + 1) : malloc(max + 1);
	if (buf == NULL) {
		smc_fail(e, SMC_EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, max + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			smc_fail(e, SMC_EXIT_IOERR, "cannot read %s: %s", path,
				 strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			smc_fail(e, SMC_EXIT_DATAERR,
				 "%s is larger than %zu bytes", path, max);
			goto out;
		}
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	buf = NULL;
	rc = 0;
out:
	if (buf != NULL) {
		if (secret)
			smc_secret_free(buf);
		else
			free(buf);
	}
	close(fd);
	return rc;
}

/* The directory part of path ("." when there is none). */
static void dir_of(char out[PATH_MAX], const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		strcpy(out, ".");
	} else if (slash == path) {
		strcpy(out, "/");
	} else {
		size_t n = (size_t)(slash - path);

		if (n >= PATH_MAX)
			n = PATH_MAX - 1;
		memcpy(out, path, n);
		out[n] = '\0';
	}
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int smc_file_write_atomic(const char *path, const void *data, size_t len,
			  struct smc_err *e)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, dfd;

	if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp)
		return smc_fail(e, SMC_EXIT_CANTCREAT, "path too long: %s", path);
	fd = mkstemp(tmp);  /* mode 0600 */
	if (fd < 0)
		return smc_fail(e, SMC_EXIT_CANTCREAT, "cannot create %s: %s",
				tmp, strerror(errno));
	if (fchmod(fd, 0600) != 0 || write_all(fd, data, len) != 0 ||
	    fsync(fd) != 0) {
		int saved = errno;

		close(fd);
		unlink(tmp);
		return smc_fail(e, SMC_EXIT_IOERR, "cannot write %s: %s", tmp,
				strerror(saved));
	}
	if (close(fd) != 0) {
		int saved = errno;

		unlink(tmp);
		return smc_fail(e, SMC_EXIT_IOERR, "cannot write %s: %s", tmp,
				strerror(saved));
	}
	if (rename(tmp, path) != 0) {
		int saved = errno;

		unlink(tmp);
		return smc_fail(e, SMC_EXIT_IOERR, "cannot replace %s: %s",
				path, strerror(saved));
	}
	dir_of(dir, path);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		int saved = errno;

		if (dfd >= 0)
			close(dfd);
		return smc_fail(e, SMC_EXIT_IOERR, "cannot sync %s: %s", dir,
				strerror(saved));
	}
	close(dfd);
	return 0;
}

static int dir_check(const char *dir, struct smc_err *e)
{
	struct stat st;

	if (stat(dir, &st) != 0)
		return smc_fail(e, SMC_EXIT_CONFIG, "cannot use %s: %s", dir,
				strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return smc_fail(e, SMC_EXIT_CONFIG, "%s is not a directory",
				dir);
	if ((st.st_mode & 022) != 0)
		return smc_fail(e, SMC_EXIT_CONFIG,
				"%s is writable by other users; fix it with "
				"chmod 700 %s", dir, dir);
	return 0;
}

int smc_dir_ensure(const char *dir, struct smc_err *e)
{
	char buf[PATH_MAX];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof buf)
		return smc_fail(e, SMC_EXIT_CONFIG, "bad directory name");
	memcpy(buf, dir, len + 1);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
			int saved = errno;

			*p = '/';
			return smc_fail(e, SMC_EXIT_CONFIG,
					"cannot create %s: %s", buf,
					strerror(saved));
		}
		*p = '/';
	}
	if (mkdir(buf, 0700) != 0 && errno != EEXIST)
		return smc_fail(e, SMC_EXIT_CONFIG, "cannot create %s: %s", buf,
				strerror(errno));
	return dir_check(buf, e);
}

/* Seconds since an arbitrary start that never jumps (the wall clock may). */
static double monotonic_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Takes the write lock on fd; 0, or -1 with errno (EAGAIN: still held by
 * another process after timeout_s seconds). F_SETLKW cannot time out, so a
 * bounded wait polls F_SETLK; the holders this waits for are smimp commands
 * whose critical sections last milliseconds to a few network round trips,
 * so a 20 ms poll costs nothing that matters. */
static int lock_wait(int fd, int timeout_s)
{
	const struct timespec nap = {0, 20 * 1000 * 1000};
	struct flock fl;
	double deadline = monotonic_s() + timeout_s;

	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	for (;;) {
		if (fcntl(fd, timeout_s < 0 ? F_SETLKW : F_SETLK, &fl) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EACCES)
			return -1;
		if (monotonic_s() >= deadline) {
			errno = EAGAIN;
			return -1;
		}
		nanosleep(&nap, NULL);
	}
}

int smc_lock_acquire_timed(const char *path, int timeout_s, int *fd_out,
			   struct smc_err *e)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	int saved;

	*fd_out = -1;
	if (fd < 0)
		return smc_fail(e, SMC_EXIT_CANTCREAT, "cannot open %s: %s",
				path, strerror(errno));
	if (lock_wait(fd, timeout_s) == 0) {
		*fd_out = fd;
		return 0;
	}
	saved = errno;
	close(fd);
	if (saved == EAGAIN)
		return smc_fail(e, SMC_EXIT_TEMPFAIL,
				"another smimp command has held the lock %s "
				"for %d s; try again once it has finished",
				path, timeout_s);
	return smc_fail(e, SMC_EXIT_IOERR, "cannot lock %s: %s", path,
			strerror(saved));
}

int smc_lock_acquire(const char *path, int *fd_out, struct smc_err *e)
{
	return smc_lock_acquire_timed(path, -1, fd_out, e);
}

void smc_lock_release(int fd)
{
	if (fd >= 0)
		close(fd); /* closing drops the lock */
}
